/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * text.h - a growing NUL-terminated text buffer, for the answers the
 * daemon composes (tandemctl's lists, the metrics endpoint's pages).
 */
#ifndef TANDEM_TEXT_H
#define TANDEM_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Start from {0}; p is malloc'ed (free it). When an allocation fails oom
 * is set and everything after is dropped: test oom before using p. */
struct tdm_text {
	char *p;
	size_t len, cap;
	bool oom;
};

void tdm_text_put(struct tdm_text *t, const char *s, size_t n);
void tdm_text_printf(struct tdm_text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
