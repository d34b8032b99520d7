/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * metrics.h - what metrics.c and status_page.c share: the names of the
 * ALUA states, the status page.
 */
#ifndef TANDEM_TARGETD_METRICS_H
#define TANDEM_TARGETD_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/text.h"

/* s with &<>"' as HTML entities (status_page.c) */
void tdm__text_html(struct tdm_text *t, const char *s);

/* SPC-4 6.37 table 215: an ALUA state's name ("active_optimized", ...)
 * and the states in the order the metrics list them. */
const char *tdm__alua_name(uint8_t state);
extern const uint8_t tdm__alua_states[6];

/* status_page.c: the read-only HTML status page into t. */
void tdm__status_page(struct tdm_text *t);

#endif
