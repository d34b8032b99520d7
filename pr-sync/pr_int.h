/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pr_int.h - what the files of pr-sync/ share and nobody else includes
 * (but the unit tests).
 */
#ifndef TANDEM_PR_INT_H
#define TANDEM_PR_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "pr-sync/pr.h"

/* SPC-4 5.13.10: every registrant holds an all registrants reservation */
static inline bool tdm__pr_type_ar(uint8_t t)
{
	return t == TDM_PR_WE_AR || t == TDM_PR_EA_AR;
}

/* pr_state.c: the registration holding a reservation that is not all
 * registrants (-1: none), and whether registration i holds the
 * reservation (SPC-4 5.13.10). */
long tdm__pr_holder_index(const struct tdm_pr_state *st);
bool tdm__pr_is_holder(const struct tdm_pr_state *st, long i);

/* pr_tid.c: is t a TransportID this code could have made (decoding,
 * state checks)? */
bool tdm__pr_tid_valid(const struct tdm_pr_tid *t);

#endif
