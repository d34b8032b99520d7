/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pr_in.c - the parameter data of PERSISTENT RESERVE IN (SPC-4 6.15):
 * READ KEYS, READ RESERVATION, REPORT CAPABILITIES, READ FULL STATUS.
 */
#include <string.h>

#include "pr-sync/pr_int.h"

/* Writes what fits, counts everything. */
struct wbuf {
	uint8_t *buf;
	size_t cap;
	size_t len;
};

static void w_bytes(struct wbuf *w, const void *p, size_t n)
{
	if (w->len < w->cap) {
		size_t k = w->cap - w->len < n ? w->cap - w->len : n;

		if (p)
			memcpy(w->buf + w->len, p, k);
		else
			memset(w->buf + w->len, 0, k);
	}
	w->len += n;
}

static void w_u8(struct wbuf *w, uint8_t v)
{
	w_bytes(w, &v, 1);
}

static void w_be16(struct wbuf *w, uint16_t v)
{
	uint8_t b[2];

	tdm_put_be16(b, v);
	w_bytes(w, b, 2);
}

static void w_be32(struct wbuf *w, uint32_t v)
{
	uint8_t b[4];

	tdm_put_be32(b, v);
	w_bytes(w, b, 4);
}

static void w_be64(struct wbuf *w, uint64_t v)
{
	uint8_t b[8];

	tdm_put_be64(b, v);
	w_bytes(w, b, 8);
}

/* Patch a 32-bit field already counted (if it was written). */
static void w_patch32(struct wbuf *w, size_t off, uint32_t v)
{
	uint8_t b[4];
	size_t i;

	tdm_put_be32(b, v);
	for (i = 0; i < 4; i++)
		if (off + i < w->cap)
			w->buf[off + i] = b[i];
}

/* 6.15.2, table 205: READ KEYS */
size_t tdm_pr_in_read_keys(const struct tdm_pr_state *st, uint8_t *buf,
			   size_t cap)
{
	struct wbuf w = {buf, cap, 0};
	size_t i;

	w_be32(&w, st->generation);
	/* ADDITIONAL LENGTH: the whole list, whatever the allocation length */
	w_be32(&w, (uint32_t)(st->nregs * 8));
	for (i = 0; i < st->nregs; i++)
		w_be64(&w, st->regs[i].key);
	return w.len;
}

/* 6.15.3, tables 206/207: READ RESERVATION */
size_t tdm_pr_in_read_reservation(const struct tdm_pr_state *st, uint8_t *buf,
				  size_t cap)
{
	struct wbuf w = {buf, cap, 0};
	long h;

	w_be32(&w, st->generation);
	if (!st->reserved) {
		w_be32(&w, 0);
		return w.len;
	}
	w_be32(&w, 16);
	/* 5.13.10: an all registrants reservation shows key zero */
	h = tdm__pr_holder_index(st);
	w_be64(&w, tdm__pr_type_ar(st->type) || h < 0 ? 0 : st->regs[h].key);
	w_bytes(&w, NULL, 4); /* obsolete */
	w_u8(&w, 0);
	w_u8(&w, (uint8_t)(st->scope << 4 | st->type));
	w_bytes(&w, NULL, 2); /* obsolete */
	return w.len;
}

/* 6.15.4, table 207: REPORT CAPABILITIES */
size_t tdm_pr_in_report_caps(const struct tdm_pr_state *st,
			     uint8_t allow_commands, uint8_t *buf, size_t cap)
{
	struct wbuf w = {buf, cap, 0};

	w_be16(&w, 8); /* LENGTH */
	/* CRH=0 (RESERVE/RELEASE conflict with any registration), SIP_C,
	 * ATP_C, PTPL_C */
	w_u8(&w, 0x08 | 0x04 | 0x01);
	/* TMV, ALLOW COMMANDS, PTPL_A */
	w_u8(&w, (uint8_t)(0x80 | (allow_commands & 7) << 4 |
			   (st->aptpl ? 0x01 : 0)));
	/* 6.15.4, table 209: PERSISTENT RESERVATION TYPE MASK */
	w_u8(&w, 0x80 /* WR_EX_AR */ | 0x40 /* EX_AC_RO */ |
			 0x20 /* WR_EX_RO */ | 0x08 /* EX_AC */ |
			 0x02 /* WR_EX */);
	w_u8(&w, 0x01 /* EX_AC_AR */);
	w_bytes(&w, NULL, 2);
	return w.len;
}

/* Is registration i an ALL_TG_PT registration whose group (same initiator
 * port, every target port) an earlier registration already stands for? */
static bool group_shown(const struct tdm_pr_state *st, size_t i)
{
	const struct tdm_pr_reg *r = &st->regs[i];

	if (!r->all_tg_pt)
		return false;
	for (size_t j = 0; j < i; j++)
		if (st->regs[j].all_tg_pt &&
		    tdm_pr_tid_equal(&st->regs[j].tid, &r->tid))
			return true;
	return false;
}

/*
 * 6.15.5 (spc4r37 6.16.5), tables 210/211: READ FULL STATUS. One
 * descriptor per registered I_T nexus, but one for an ALL_TG_PT
 * registration: a descriptor with ALL_TG_PT set represents every I_T
 * nexus of its initiator port (the TransportID) with every target port,
 * and its RELATIVE TARGET PORT IDENTIFIER is then not defined by the
 * standard (here: the first port of the group, in registration order).
 * R_HOLDER, SCOPE and TYPE: 5.13.10 (every registrant holds an all
 * registrants reservation; an ALL_TG_PT group holds as one).
 */
size_t tdm_pr_in_read_full_status(const struct tdm_pr_state *st, uint8_t *buf,
				  size_t cap)
{
	struct wbuf w = {buf, cap, 0};
	uint8_t tid[4 + TDM_PR_NAME_MAX + 32];
	size_t i, tlen;

	w_be32(&w, st->generation);
	w_be32(&w, 0); /* ADDITIONAL LENGTH, patched below */
	for (i = 0; i < st->nregs; i++) {
		const struct tdm_pr_reg *r = &st->regs[i];
		bool holder = tdm__pr_is_holder(st, (long)i);

		if (group_shown(st, i))
			continue;
		tlen = tdm_pr_tid_encode(&r->tid, tid, sizeof(tid));
		w_be64(&w, r->key);
		w_bytes(&w, NULL, 4);
		w_u8(&w, (uint8_t)((r->all_tg_pt ? 0x02 : 0) |
				   (holder ? 0x01 : 0)));
		w_u8(&w, holder ? (uint8_t)(st->scope << 4 | st->type) : 0);
		w_bytes(&w, NULL, 4);
		w_be16(&w, r->rel_port);
		w_be32(&w, (uint32_t)tlen);
		w_bytes(&w, tid, tlen);
	}
	w_patch32(&w, 4, (uint32_t)(w.len - 8));
	return w.len;
}
