/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * agent_msg.c - framing and codec of the tandemd <-> tandem-agentd link
 * (agent_msg.h). No I/O here: the daemons read and write the bytes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agentd/agent_msg.h"

const char *tdm_agent_type_name(uint16_t type)
{
	switch (type) {
	case TDM_AGENT_HELLO:
		return "HELLO";
	case TDM_AGENT_PR_OUT:
		return "PR-OUT";
	case TDM_AGENT_ALUA_SET:
		return "ALUA-SET";
	case TDM_AGENT_SNAPSHOT:
		return "SNAPSHOT";
	case TDM_AGENT_WELCOME:
		return "WELCOME";
	case TDM_AGENT_STATUS:
		return "STATUS";
	case TDM_AGENT_PR_APPLY:
		return "PR-APPLY";
	case TDM_AGENT_ALUA_APPLY:
		return "ALUA-APPLY";
	case TDM_AGENT_REJECT:
		return "REJECT";
	case TDM_AGENT_SNAPSHOT_GET:
		return "SNAPSHOT-GET";
	case TDM_AGENT_SNAPSHOT_LOAD:
		return "SNAPSHOT-LOAD";
	case TDM_AGENT_ORDER:
		return "ORDER";
	case TDM_AGENT_DONE:
		return "DONE";
	case TDM_AGENT_ORDERED:
		return "ORDERED";
	case TDM_AGENT_STABLE:
		return "STABLE";
	}
	return "?";
}

/* ---- writing ---- */

static uint8_t *room(struct tdm_agent_wbuf *w, size_t n)
{
	size_t cap;
	uint8_t *p;

	if (w->oom)
		return NULL;
	if (n > TDM_AGENT_FRAME_MAX || w->len + n > TDM_AGENT_FRAME_MAX + 4) {
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

static void put_be(struct tdm_agent_wbuf *w, uint64_t v, unsigned n)
{
	uint8_t *p = room(w, n);

	if (!p)
		return;
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

void tdm_agent_begin(struct tdm_agent_wbuf *w, uint16_t type)
{
	w->len = 0;
	w->oom = false;
	put_be(w, 0, 4); /* length, filled by tdm_agent_end() */
	put_be(w, type, 2);
	put_be(w, TDM_AGENT_LINK_VERSION, 2);
}

void tdm_agent_put_u8(struct tdm_agent_wbuf *w, uint8_t v)
{
	put_be(w, v, 1);
}

void tdm_agent_put_u16(struct tdm_agent_wbuf *w, uint16_t v)
{
	put_be(w, v, 2);
}

void tdm_agent_put_u32(struct tdm_agent_wbuf *w, uint32_t v)
{
	put_be(w, v, 4);
}

void tdm_agent_put_u64(struct tdm_agent_wbuf *w, uint64_t v)
{
	put_be(w, v, 8);
}

void tdm_agent_put_bytes(struct tdm_agent_wbuf *w, const void *p, size_t n)
{
	uint8_t *d;

	if (n > TDM_AGENT_FRAME_MAX) {
		w->oom = true;
		return;
	}
	put_be(w, n, 4);
	d = room(w, n);
	if (d && n)
		memcpy(d, p, n);
}

void tdm_agent_put_str(struct tdm_agent_wbuf *w, const char *s)
{
	size_t n = strlen(s);

	if (n > TDM_AGENT_STR_MAX) {
		w->oom = true;
		return;
	}
	tdm_agent_put_bytes(w, s, n);
}

int tdm_agent_end(struct tdm_agent_wbuf *w)
{
	size_t body;

	if (w->oom)
		return w->len + 64 > TDM_AGENT_FRAME_MAX ? -EMSGSIZE : -ENOMEM;
	body = w->len - 4;
	if (body > TDM_AGENT_FRAME_MAX)
		return -EMSGSIZE;
	w->p[0] = (uint8_t)(body >> 24);
	w->p[1] = (uint8_t)(body >> 16);
	w->p[2] = (uint8_t)(body >> 8);
	w->p[3] = (uint8_t)body;
	return 0;
}

void tdm_agent_wbuf_free(struct tdm_agent_wbuf *w)
{
	free(w->p);
	memset(w, 0, sizeof(*w));
}

/* ---- reading ---- */

long tdm_agent_frame_len(const uint8_t *p, size_t avail)
{
	uint32_t body;

	if (avail < 4)
		return 0;
	body = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
	if (body > TDM_AGENT_FRAME_MAX)
		return -EMSGSIZE;
	if (body < TDM_AGENT_HDR - 4)
		return -EPROTO;
	if (avail < 4 + (size_t)body)
		return 0;
	return (long)(4 + body);
}

static uint64_t get_be(struct tdm_agent_rd *r, unsigned n)
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

void tdm_agent_open(struct tdm_agent_rd *r, const uint8_t *frame, size_t len,
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

uint8_t tdm_agent_get_u8(struct tdm_agent_rd *r)
{
	return (uint8_t)get_be(r, 1);
}

uint16_t tdm_agent_get_u16(struct tdm_agent_rd *r)
{
	return (uint16_t)get_be(r, 2);
}

uint32_t tdm_agent_get_u32(struct tdm_agent_rd *r)
{
	return (uint32_t)get_be(r, 4);
}

uint64_t tdm_agent_get_u64(struct tdm_agent_rd *r)
{
	return get_be(r, 8);
}

const uint8_t *tdm_agent_get_bytes(struct tdm_agent_rd *r, size_t *n)
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

void tdm_agent_get_str(struct tdm_agent_rd *r, char *out, size_t outlen)
{
	size_t n;
	const uint8_t *p = tdm_agent_get_bytes(r, &n);

	if (outlen)
		out[0] = '\0';
	if (!p && n == 0 && r->bad)
		return;
	if (n >= outlen || n > TDM_AGENT_STR_MAX || memchr(p, '\0', n)) {
		r->bad = true;
		return;
	}
	memcpy(out, p, n);
	out[n] = '\0';
}

bool tdm_agent_done(const struct tdm_agent_rd *r)
{
	return !r->bad && r->off == r->len;
}

/* ---- composite fields ---- */

void tdm_agent_put_pr(struct tdm_agent_wbuf *w, const struct tdm_agent_pr *pr)
{
	tdm_agent_put_str(w, pr->device);
	tdm_agent_put_bytes(w, pr->cdb, pr->cdb_len);
	tdm_agent_put_bytes(w, pr->param, pr->param_len);
	tdm_agent_put_bytes(w, pr->tid, pr->tid_len);
	tdm_agent_put_u16(w, pr->rel_port);
}

void tdm_agent_get_pr(struct tdm_agent_rd *r, struct tdm_agent_pr *pr)
{
	tdm_agent_get_str(r, pr->device, sizeof(pr->device));
	pr->cdb = tdm_agent_get_bytes(r, &pr->cdb_len);
	pr->param = tdm_agent_get_bytes(r, &pr->param_len);
	pr->tid = tdm_agent_get_bytes(r, &pr->tid_len);
	pr->rel_port = tdm_agent_get_u16(r);
	/* a PERSISTENT RESERVE OUT CDB is 10 bytes */
	if (pr->cdb_len != 10)
		r->bad = true;
}

void tdm_agent_put_alua(struct tdm_agent_wbuf *w,
			const struct tdm_agent_alua *a)
{
	size_t n = a->n < TDM_AGENT_ALUA_MAX ? a->n : TDM_AGENT_ALUA_MAX;

	tdm_agent_put_str(w, a->device);
	tdm_agent_put_u32(w, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		tdm_agent_put_u16(w, a->set[i].group_id);
		tdm_agent_put_u8(w, a->set[i].state);
	}
}

void tdm_agent_get_alua(struct tdm_agent_rd *r, struct tdm_agent_alua *a)
{
	uint32_t n;

	tdm_agent_get_str(r, a->device, sizeof(a->device));
	n = tdm_agent_get_u32(r);
	if (n > TDM_AGENT_ALUA_MAX) {
		r->bad = true;
		n = 0;
	}
	a->n = n;
	for (uint32_t i = 0; i < n; i++) {
		a->set[i].group_id = tdm_agent_get_u16(r);
		a->set[i].state = tdm_agent_get_u8(r);
	}
}
