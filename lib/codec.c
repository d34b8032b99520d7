/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * codec.c - the byte codec of tandem's messages and files (codec.h): a
 * growing write buffer and a read cursor over big-endian integers,
 * length-prefixed bytes and strings, and length-prefixed frames. No I/O.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/codec.h"

/* ---- writing ---- */

static uint8_t *room(struct tdm_wbuf *w, size_t n)
{
	size_t cap;
	uint8_t *p;

	if (w->oom)
		return NULL;
	if (n > TDM_FRAME_MAX || w->len + n > TDM_FRAME_MAX + 4) {
		w->oom = true;
		return NULL;
	}
	if (w->len + n > w->cap) {
		cap = w->cap ? w->cap : 256;
		while (cap < w->len + n)
			cap *= 2;
		p = realloc(w->p, cap);
		if (!p) {
			w->oom = true;
			return NULL;
		}
		w->p = p;
		w->cap = cap;
	}
	p = w->p + w->len;
	w->len += n;
	return p;
}

static void put_be(struct tdm_wbuf *w, uint64_t v, unsigned n)
{
	uint8_t *p = room(w, n);

	if (!p)
		return;
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

void tdm_wbuf_reset(struct tdm_wbuf *w)
{
	w->len = 0;
	w->oom = false;
}

void tdm_frame_begin(struct tdm_wbuf *w, uint16_t type, uint16_t version)
{
	w->len = 0;
	w->oom = false;
	put_be(w, 0, 4); /* length, filled by tdm_frame_end() */
	put_be(w, type, 2);
	put_be(w, version, 2);
}

void tdm_wbuf_put_u8(struct tdm_wbuf *w, uint8_t v)
{
	put_be(w, v, 1);
}

void tdm_wbuf_put_u16(struct tdm_wbuf *w, uint16_t v)
{
	put_be(w, v, 2);
}

void tdm_wbuf_put_u32(struct tdm_wbuf *w, uint32_t v)
{
	put_be(w, v, 4);
}

void tdm_wbuf_put_u64(struct tdm_wbuf *w, uint64_t v)
{
	put_be(w, v, 8);
}

void tdm_wbuf_put_bytes(struct tdm_wbuf *w, const void *p, size_t n)
{
	uint8_t *d;

	if (n > TDM_FRAME_MAX) {
		w->oom = true;
		return;
	}
	put_be(w, n, 4);
	d = room(w, n);
	if (d && n)
		memcpy(d, p, n);
}

void tdm_wbuf_put_str(struct tdm_wbuf *w, const char *s)
{
	size_t n = strlen(s);

	if (n > TDM_CODEC_STR_MAX) {
		w->oom = true;
		return;
	}
	tdm_wbuf_put_bytes(w, s, n);
}

int tdm_frame_end(struct tdm_wbuf *w)
{
	size_t body;

	if (w->oom)
		return w->len + 64 > TDM_FRAME_MAX ? -EMSGSIZE : -ENOMEM;
	body = w->len - 4;
	if (body > TDM_FRAME_MAX)
		return -EMSGSIZE;
	w->p[0] = (uint8_t)(body >> 24);
	w->p[1] = (uint8_t)(body >> 16);
	w->p[2] = (uint8_t)(body >> 8);
	w->p[3] = (uint8_t)body;
	return 0;
}

void tdm_wbuf_free(struct tdm_wbuf *w)
{
	free(w->p);
	memset(w, 0, sizeof(*w));
}

/* ---- reading ---- */

long tdm_frame_len(const uint8_t *p, size_t avail)
{
	uint32_t body;

	if (avail < 4)
		return 0;
	body = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
	if (body > TDM_FRAME_MAX)
		return -EMSGSIZE;
	if (body < TDM_FRAME_HDR - 4)
		return -EPROTO;
	if (avail < 4 + (size_t)body)
		return 0;
	return (long)(4 + body);
}

static uint64_t get_be(struct tdm_rd *r, unsigned n)
{
	uint64_t v = 0;

	if (r->bad || r->len - r->off < n) {
		r->bad = true;
		return 0;
	}
	for (unsigned i = 0; i < n; i++)
		v = v << 8 | r->p[r->off + i];
	r->off += n;
	return v;
}

void tdm_frame_open(struct tdm_rd *r, const uint8_t *frame, size_t len,
		    uint16_t *type, uint16_t *version)
{
	r->p = frame;
	r->len = len;
	r->off = 0;
	r->bad = false;
	(void)get_be(r, 4);
	*type = (uint16_t)get_be(r, 2);
	*version = (uint16_t)get_be(r, 2);
}

uint8_t tdm_rd_get_u8(struct tdm_rd *r)
{
	return (uint8_t)get_be(r, 1);
}

uint16_t tdm_rd_get_u16(struct tdm_rd *r)
{
	return (uint16_t)get_be(r, 2);
}

uint32_t tdm_rd_get_u32(struct tdm_rd *r)
{
	return (uint32_t)get_be(r, 4);
}

uint64_t tdm_rd_get_u64(struct tdm_rd *r)
{
	return get_be(r, 8);
}

const uint8_t *tdm_rd_get_bytes(struct tdm_rd *r, size_t *n)
{
	size_t len = (size_t)get_be(r, 4);
	const uint8_t *p;

	if (r->bad || r->len - r->off < len) {
		r->bad = true;
		*n = 0;
		return NULL;
	}
	p = r->p + r->off;
	r->off += len;
	*n = len;
	return p;
}

void tdm_rd_get_str(struct tdm_rd *r, char *out, size_t outlen)
{
	size_t n;
	const uint8_t *p = tdm_rd_get_bytes(r, &n);

	if (outlen)
		out[0] = '\0';
	if (!p && n == 0 && r->bad)
		return;
	if (n >= outlen || n > TDM_CODEC_STR_MAX || memchr(p, '\0', n)) {
		r->bad = true;
		return;
	}
	memcpy(out, p, n);
	out[n] = '\0';
}

bool tdm_rd_done(const struct tdm_rd *r)
{
	return !r->bad && r->off == r->len;
}
