/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * text.c - a growing text buffer (lib/text.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/text.h"

/* Room for n more bytes and the NUL; false (oom set) if there is none. */
static bool room(struct tdm_text *t, size_t n)
{
	size_t cap;
	char *p;

	if (t->oom)
		return false;
	if (t->len + n + 1 <= t->cap)
		return true;
	cap = t->cap ? t->cap : 4096;
	while (cap < t->len + n + 1)
		cap *= 2;
	p = realloc(t->p, cap);
	if (!p) {
		t->oom = true;
		return false;
	}
	t->p = p;
	t->cap = cap;
	return true;
}

void tdm_text_put(struct tdm_text *t, const char *s, size_t n)
{
	if (!room(t, n))
		return;
	memcpy(t->p + t->len, s, n);
	t->len += n;
	t->p[t->len] = '\0';
}

void tdm_text_printf(struct tdm_text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->oom)
		return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		t->oom = true;
		return;
	}
	if (!room(t, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
	va_end(ap);
	t->len += (size_t)n;
}
