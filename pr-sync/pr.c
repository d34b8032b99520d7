/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pr.c - SPC-4 persistent reservations: the deterministic state machine,
 * the PERSISTENT RESERVE OUT decoder, the PERSISTENT RESERVE IN builders
 * and TransportIDs. No I/O, no clock, no globals.
 *
 * Registrations are kept in the order they were made; every operation
 * works on them in that order, so that replaying the same operations from
 * the same state on another head gives the same bytes. ALL_TG_PT makes one
 * registration per target port, all flagged all_tg_pt: such a group (same
 * TransportID) changes key and unregisters as one, and holds a reservation
 * as one (an initiator port holds the reservation through every target
 * port it registered on).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pr-sync/pr.h"

/* ---- small helpers ---- */

static bool type_valid(uint8_t t)
{
	switch (t) {
	case TDM_PR_WE:
	case TDM_PR_EA:
	case TDM_PR_WE_RO:
	case TDM_PR_EA_RO:
	case TDM_PR_WE_AR:
	case TDM_PR_EA_AR:
		return true;
	default:
		return false;
	}
}

/* SPC-4 5.13.10: every registrant holds an all registrants reservation */
static bool type_ar(uint8_t t)
{
	return t == TDM_PR_WE_AR || t == TDM_PR_EA_AR;
}

static bool type_ro(uint8_t t)
{
	return t == TDM_PR_WE_RO || t == TDM_PR_EA_RO;
}

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static bool name_eq(const struct tdm_pr_tid *a, const struct tdm_pr_tid *b)
{
	size_t i;

	if (a->len != b->len)
		return false;
	/* RFC 3722: iSCSI names are case-insensitive */
	for (i = 0; i < a->len; i++)
		if (lower(a->id[i]) != lower(b->id[i]))
			return false;
	return true;
}

bool tdm_pr_tid_equal(const struct tdm_pr_tid *a, const struct tdm_pr_tid *b)
{
	if (a->proto != b->proto || a->fmt != b->fmt || a->len != b->len)
		return false;
	if (a->proto != TDM_PR_PROTO_ISCSI)
		return !memcmp(a->id, b->id, a->len);
	if (!name_eq(a, b))
		return false;
	return a->fmt != TDM_PR_TID_FMT_NAME_ISID ||
	       !memcmp(a->isid, b->isid, sizeof(a->isid));
}

bool tdm_pr_tid_match(const struct tdm_pr_tid *a, const struct tdm_pr_tid *b)
{
	if (a->proto != b->proto)
		return false;
	if (a->proto != TDM_PR_PROTO_ISCSI)
		return a->len == b->len && !memcmp(a->id, b->id, a->len);
	if (!name_eq(a, b))
		return false;
	/* SPC-4 7.6.4.6: format 00b names the initiator device, i.e. every
	 * initiator port (ISID) of that iSCSI name */
	if (a->fmt == TDM_PR_TID_FMT_NAME || b->fmt == TDM_PR_TID_FMT_NAME)
		return true;
	return !memcmp(a->isid, b->isid, sizeof(a->isid));
}

int tdm_pr_tid_iscsi(struct tdm_pr_tid *t, const char *name,
		     const uint8_t isid[6])
{
	size_t n = strlen(name);

	memset(t, 0, sizeof(*t));
	if (!n || n > TDM_PR_NAME_MAX)
		return -EINVAL;
	t->proto = TDM_PR_PROTO_ISCSI;
	t->fmt = TDM_PR_TID_FMT_NAME_ISID;
	t->len = (uint16_t)n;
	memcpy(t->id, name, n);
	memcpy(t->isid, isid, sizeof(t->isid));
	return 0;
}

/* Is t a TransportID this code could have made (decode, state checks)? */
static bool tid_valid(const struct tdm_pr_tid *t)
{
	size_t i;

	switch (t->proto) {
	case TDM_PR_PROTO_FC:
	case TDM_PR_PROTO_SAS:
		return t->fmt == 0 && t->len == 8;
	case TDM_PR_PROTO_SRP:
		return t->fmt == 0 && t->len == 16;
	case TDM_PR_PROTO_ISCSI:
		if (t->fmt > TDM_PR_TID_FMT_NAME_ISID || !t->len ||
		    t->len > TDM_PR_NAME_MAX)
			return false;
		for (i = 0; i < t->len; i++)
			if (t->id[i] <= 0x20 || t->id[i] >= 0x7F)
				return false;
		return true;
	default:
		return false;
	}
}

/* ---- TransportIDs (SPC-4 7.6.4) ---- */

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* SPC-4 7.6.4.6, table 454: the ",i,0x" SEPARATOR of format 01b */
#define ISCSI_SEP ",i,0x"
#define ISCSI_SEP_LEN 5
#define ISID_HEX 12

int tdm_pr_tid_decode(const uint8_t *p, size_t avail, struct tdm_pr_tid *t,
		      size_t *used, size_t *bad)
{
	uint8_t fmt, proto;
	size_t addl, slen, nlen, i;
	const uint8_t *s;

	memset(t, 0, sizeof(*t));
	*bad = 0;
	if (avail < 4)
		return -EMSGSIZE;
	fmt = p[0] >> 6;
	proto = p[0] & 0x0F;
	if (p[0] & 0x30) /* reserved */
		return -EINVAL;
	t->proto = proto;
	switch (proto) {
	case TDM_PR_PROTO_FC:  /* 7.6.4.2: N_PORT_NAME at bytes 8-15 */
	case TDM_PR_PROTO_SAS: /* 7.6.4.7: SAS ADDRESS at bytes 4-11 */
	case TDM_PR_PROTO_SRP: /* 7.6.4.5: port identifier, bytes 8-23 */
		if (fmt)
			return -EINVAL;
		if (avail < 24)
			return -EMSGSIZE;
		if (proto == TDM_PR_PROTO_SRP) {
			t->len = 16;
			memcpy(t->id, p + 8, 16);
		} else {
			t->len = 8;
			memcpy(t->id, p + (proto == TDM_PR_PROTO_SAS ? 4 : 8),
			       8);
		}
		*used = 24;
		return 0;
	case TDM_PR_PROTO_ISCSI:
		break;
	default:
		return -EINVAL;
	}
	/* 7.6.4.6: iSCSI, ADDITIONAL LENGTH a multiple of four */
	if (fmt > TDM_PR_TID_FMT_NAME_ISID)
		return -EINVAL;
	t->fmt = fmt;
	addl = tdm_get_be16(p + 2);
	if (addl % 4 || !addl) {
		*bad = 2;
		return -EINVAL;
	}
	if (4 + addl > avail)
		return -EMSGSIZE;
	s = p + 4;
	for (slen = 0; slen < addl && s[slen]; slen++)
		;
	if (slen == addl) { /* not null-terminated */
		*bad = 4;
		return -EINVAL;
	}
	nlen = slen;
	if (fmt == TDM_PR_TID_FMT_NAME_ISID) {
		if (slen < ISCSI_SEP_LEN + ISID_HEX + 1) {
			*bad = 4;
			return -EINVAL;
		}
		nlen = slen - ISCSI_SEP_LEN - ISID_HEX;
		if (memcmp(s + nlen, ISCSI_SEP, ISCSI_SEP_LEN - 1) ||
		    lower(s[nlen + ISCSI_SEP_LEN - 1]) != 'x') {
			*bad = 4 + nlen;
			return -EINVAL;
		}
		for (i = 0; i < ISID_HEX; i++) {
			int v = hexval(s[nlen + ISCSI_SEP_LEN + i]);

			if (v < 0) {
				*bad = 4 + nlen + ISCSI_SEP_LEN + i;
				return -EINVAL;
			}
			t->isid[i / 2] = (uint8_t)(t->isid[i / 2] << 4 | v);
		}
	}
	if (!nlen || nlen > TDM_PR_NAME_MAX) {
		*bad = 4;
		return -EINVAL;
	}
	t->len = (uint16_t)nlen;
	memcpy(t->id, s, nlen);
	if (!tid_valid(t)) {
		*bad = 4;
		return -EINVAL;
	}
	*used = 4 + addl;
	return 0;
}

size_t tdm_pr_tid_encode(const struct tdm_pr_tid *t, uint8_t *buf, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t tmp[4 + TDM_PR_NAME_MAX + ISCSI_SEP_LEN + ISID_HEX + 4];
	size_t n, addl, i;

	memset(tmp, 0, sizeof(tmp));
	tmp[0] = (uint8_t)(t->fmt << 6 | (t->proto & 0x0F));
	switch (t->proto) {
	case TDM_PR_PROTO_SRP:
		memcpy(tmp + 8, t->id, 16);
		n = 24;
		break;
	case TDM_PR_PROTO_SAS:
		memcpy(tmp + 4, t->id, 8);
		n = 24;
		break;
	case TDM_PR_PROTO_ISCSI:
		memcpy(tmp + 4, t->id, t->len);
		n = 4 + t->len;
		if (t->fmt == TDM_PR_TID_FMT_NAME_ISID) {
			memcpy(tmp + n, ISCSI_SEP, ISCSI_SEP_LEN);
			n += ISCSI_SEP_LEN;
			for (i = 0; i < 6; i++) {
				tmp[n++] = (uint8_t)hex[t->isid[i] >> 4];
				tmp[n++] = (uint8_t)hex[t->isid[i] & 0xF];
			}
		}
		n++; /* the null terminator, then pad to a multiple of 4 */
		addl = (n - 4 + 3) & ~(size_t)3;
		if (addl < 20) /* 7.6.4.6: at least 20 */
			addl = 20;
		tdm_put_be16(tmp + 2, (uint16_t)addl);
		n = 4 + addl;
		break;
	default: /* FC */
		memcpy(tmp + 8, t->id, 8);
		n = 24;
		break;
	}
	if (n <= cap)
		memcpy(buf, tmp, n);
	return n;
}

/* ---- state ---- */

void tdm_pr_state_init(struct tdm_pr_state *st)
{
	memset(st, 0, sizeof(*st));
}

void tdm_pr_state_free(struct tdm_pr_state *st)
{
	free(st->regs);
	memset(st, 0, sizeof(*st));
}

int tdm_pr_state_copy(struct tdm_pr_state *dst, const struct tdm_pr_state *src)
{
	struct tdm_pr_reg *regs = NULL;

	if (src->nregs) {
		regs = malloc(src->nregs * sizeof(*regs));
		if (!regs) {
			memset(dst, 0, sizeof(*dst));
			return -ENOMEM;
		}
		memcpy(regs, src->regs, src->nregs * sizeof(*regs));
	}
	*dst = *src;
	dst->regs = regs;
	dst->cap = src->nregs;
	return 0;
}

int tdm_pr_state_check(const struct tdm_pr_state *st)
{
	size_t i, j, holders = 0;

	if (st->nregs > TDM_PR_MAX_REGS || (st->nregs && !st->regs))
		return -EINVAL;
	if (st->reserved) {
		if (!type_valid(st->type) || st->scope != TDM_PR_SCOPE_LU ||
		    !st->nregs)
			return -EINVAL;
	} else if (st->type || st->scope) {
		return -EINVAL;
	}
	for (i = 0; i < st->nregs; i++) {
		const struct tdm_pr_reg *r = &st->regs[i];

		if (!tid_valid(&r->tid) || !r->key)
			return -EINVAL;
		if (r->holder)
			holders++;
		for (j = 0; j < i; j++)
			if (st->regs[j].rel_port == r->rel_port &&
			    tdm_pr_tid_match(&st->regs[j].tid, &r->tid))
				return -EINVAL;
	}
	if (holders != (st->reserved && !type_ar(st->type) ? 1u : 0u))
		return -EINVAL;
	return 0;
}

/* The registration of nexus nx, or -1. */
static long find_nexus(const struct tdm_pr_state *st,
		       const struct tdm_pr_nexus *nx)
{
	size_t i;

	for (i = 0; i < st->nregs; i++)
		if (st->regs[i].rel_port == nx->rel_port &&
		    tdm_pr_tid_match(&st->regs[i].tid, &nx->tid))
			return (long)i;
	return -1;
}

/* Is a registration at port for (something overlapping) tid kept? */
static bool port_taken(const struct tdm_pr_reg *regs, size_t n,
		       const struct tdm_pr_tid *tid, uint16_t port)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (regs[i].rel_port == port &&
		    tdm_pr_tid_match(&regs[i].tid, tid))
			return true;
	return false;
}

/* Registrations a and b of the same ALL_TG_PT group? */
static bool siblings(const struct tdm_pr_reg *a, const struct tdm_pr_reg *b)
{
	return a->all_tg_pt && b->all_tg_pt &&
	       tdm_pr_tid_equal(&a->tid, &b->tid);
}

static long holder_index(const struct tdm_pr_state *st)
{
	size_t i;

	for (i = 0; i < st->nregs; i++)
		if (st->regs[i].holder)
			return (long)i;
	return -1;
}

/* SPC-4 5.13.10: is registration i a persistent reservation holder? */
static bool is_holder(const struct tdm_pr_state *st, long i)
{
	long h;

	if (!st->reserved || i < 0)
		return false;
	if (type_ar(st->type))
		return true;
	h = holder_index(st);
	return h >= 0 && (h == i || siblings(&st->regs[h], &st->regs[i]));
}

bool tdm_pr_registered(const struct tdm_pr_state *st,
		       const struct tdm_pr_nexus *nx)
{
	return find_nexus(st, nx) >= 0;
}

enum tdm_sense_reason tdm_pr_check(const struct tdm_pr_state *st,
				   const struct tdm_pr_nexus *nx,
				   uint32_t allowed)
{
	long me;
	bool ok;

	if (!st || !st->reserved)
		return TDM_SR_OK;
	me = find_nexus(st, nx);
	if (is_holder(st, me))
		return TDM_SR_OK;
	/* SPC-4 5.13.1, table 66: under a registrants only or all
	 * registrants reservation a registered nexus may do anything; the
	 * others (and everyone but the holder under WE and EA) only what
	 * the column of the type allows */
	switch (st->type) {
	case TDM_PR_WE:
		ok = allowed & TDM_PR_ALLOW_WE;
		break;
	case TDM_PR_EA:
		ok = allowed & TDM_PR_ALLOW_EA;
		break;
	case TDM_PR_WE_RO:
	case TDM_PR_WE_AR:
		ok = me >= 0 || (allowed & TDM_PR_ALLOW_WE);
		break;
	default: /* EA_RO, EA_AR */
		ok = me >= 0 || (allowed & TDM_PR_ALLOW_EA);
		break;
	}
	return ok ? TDM_SR_OK : TDM_SR_RESERVATION_CONFLICT;
}

/* ---- applying PERSISTENT RESERVE OUT (SPC-4 5.13.7 - 5.13.11) ---- */

struct apply_ctx {
	struct tdm_pr_state *st;
	const struct tdm_pr_op *op;
	const struct tdm_pr_nexus *nx;
	struct tdm_pr_result *res;
	uint16_t *ports; /* sorted, unique, with the receiving port */
	size_t nports;
	uint8_t *mark;		/* per registration: to be removed */
	struct tdm_pr_reg *add; /* registrations to make */
	size_t nadd;
	size_t add_cap;
	bool overflow; /* more registrations than TDM_PR_MAX_REGS */
	long me;       /* the registration of the receiving nexus, or -1 */
};

static int field_err(struct apply_ctx *c, int sr, bool cdb, uint16_t byte,
		     int8_t bit)
{
	c->res->info.sks_valid = true;
	c->res->info.sks_cd = cdb;
	c->res->info.sks_field = byte;
	c->res->info.sks_bit = bit;
	return sr;
}

static void event(struct tdm_pr_event *v, size_t *n, const struct tdm_pr_reg *r,
		  enum tdm_sense_reason reason)
{
	v[*n].tid = r->tid;
	v[*n].rel_port = r->rel_port;
	v[*n].reason = (uint8_t)reason;
	(*n)++;
}

static void ua(struct apply_ctx *c, const struct tdm_pr_reg *r,
	       enum tdm_sense_reason reason)
{
	event(c->res->ua, &c->res->nua, r, reason);
}

static void abort_nexus(struct apply_ctx *c, const struct tdm_pr_reg *r)
{
	event(c->res->abort, &c->res->nabort, r, TDM_SR_TASK_ABORTED);
}

/* Remove the marked registrations, keeping the order; fixes c->me. */
static void sweep(struct apply_ctx *c)
{
	struct tdm_pr_state *st = c->st;
	size_t i, j = 0;
	long me = -1;

	for (i = 0; i < st->nregs; i++) {
		if (c->mark[i])
			continue;
		if ((long)i == c->me)
			me = (long)j;
		if (i != j)
			st->regs[j] = st->regs[i];
		c->mark[j] = 0;
		j++;
	}
	for (i = j; i < st->nregs; i++)
		c->mark[i] = 0;
	st->nregs = j;
	c->me = me;
}

static void release(struct tdm_pr_state *st)
{
	size_t i;

	for (i = 0; i < st->nregs; i++)
		st->regs[i].holder = false;
	st->reserved = false;
	st->type = TDM_PR_TYPE_NONE;
	st->scope = 0;
}

/* After registrations were removed: an all registrants reservation ends
 * with its last registrant (SPC-4 5.13.11.2.3). */
static void release_if_orphan(struct tdm_pr_state *st)
{
	if (st->reserved && !st->nregs)
		release(st);
}

/* Set the key of registration i (and of its ALL_TG_PT group). */
static void set_key(struct tdm_pr_state *st, long i, uint64_t key, bool aptpl)
{
	size_t j;
	struct tdm_pr_reg r = st->regs[i];

	for (j = 0; j < st->nregs; j++) {
		if ((long)j == i || siblings(&st->regs[j], &r)) {
			st->regs[j].key = key;
			st->regs[j].aptpl = aptpl;
		}
	}
}

/* Plan a registration of (tid, port) unless one exists or is planned. */
static void plan_add(struct apply_ctx *c, const struct tdm_pr_tid *tid,
		     uint16_t port)
{
	struct tdm_pr_reg *r;

	if (port_taken(c->st->regs, c->st->nregs, tid, port) ||
	    port_taken(c->add, c->nadd, tid, port))
		return;
	if (c->nadd == c->add_cap) {
		c->overflow = true;
		return;
	}
	r = &c->add[c->nadd++];
	memset(r, 0, sizeof(*r));
	r->tid = *tid;
	r->rel_port = port;
	r->key = c->op->sa_key;
	r->all_tg_pt = c->op->flags & TDM_PR_F_ALL_TG_PT;
	r->aptpl = c->op->flags & TDM_PR_F_APTPL;
}

/* Unregister registration i and its ALL_TG_PT group (SPC-4 5.13.11.3). */
static void unregister(struct apply_ctx *c, long i)
{
	struct tdm_pr_state *st = c->st;
	struct tdm_pr_reg r = st->regs[i];
	bool held = is_holder(st, i) && !type_ar(st->type);
	uint8_t type = st->type;
	size_t j;

	for (j = 0; j < st->nregs; j++)
		if ((long)j == i || siblings(&st->regs[j], &r))
			c->mark[j] = 1;
	sweep(c);
	if (held) {
		release(st);
		/* registrants only: tell the other registrants */
		if (type_ro(type))
			for (j = 0; j < st->nregs; j++)
				ua(c, &st->regs[j],
				   TDM_SR_UA_RESERVATIONS_RELEASED);
	}
	release_if_orphan(st);
}

/* REGISTER and REGISTER AND IGNORE EXISTING KEY (SPC-4 5.13.7). */
static int do_register(struct apply_ctx *c)
{
	const struct tdm_pr_op *op = c->op;
	struct tdm_pr_state *st = c->st;
	bool ignore = op->sa == TDM_PR_REGISTER_AND_IGNORE;
	bool all = op->flags & TDM_PR_F_ALL_TG_PT;
	bool aptpl = op->flags & TDM_PR_F_APTPL;
	size_t i, t;

	if (c->me < 0) {
		/* table 41: an unregistered I_T nexus */
		if (!ignore && op->key)
			return TDM_SR_RESERVATION_CONFLICT;
		if (!op->sa_key)
			return TDM_SR_OK; /* nothing to register */
		for (i = 0; i < c->nports; i++)
			if (all || c->ports[i] == c->nx->rel_port)
				plan_add(c, &c->nx->tid, c->ports[i]);
		/* SPEC_I_PT: the listed initiator ports too (5.13.7.2);
		 * ones already registered are left as they are */
		if (op->flags & TDM_PR_F_SPEC_I_PT)
			for (t = 0; t < op->ntids; t++)
				for (i = 0; i < c->nports; i++)
					if (all ||
					    c->ports[i] == c->nx->rel_port)
						plan_add(c, &op->tids[t],
							 c->ports[i]);
		if (c->overflow || st->nregs + c->nadd > TDM_PR_MAX_REGS)
			return TDM_SR_INSUFFICIENT_REGISTRATION_RESOURCES;
		memcpy(st->regs + st->nregs, c->add, c->nadd * sizeof(*c->add));
		st->nregs += c->nadd;
		st->aptpl = aptpl;
		return TDM_SR_OK;
	}
	/* table 42: a registered I_T nexus */
	if (!ignore && op->key != st->regs[c->me].key)
		return TDM_SR_RESERVATION_CONFLICT;
	if (op->flags & TDM_PR_F_SPEC_I_PT)
		return field_err(c, TDM_SR_INVALID_FIELD_IN_PARAM_LIST, false,
				 20, 3);
	if (op->sa_key)
		set_key(st, c->me, op->sa_key, aptpl);
	else
		unregister(c, c->me);
	st->aptpl = aptpl;
	return TDM_SR_OK;
}

/* RESERVE (SPC-4 5.13.9). */
static int do_reserve(struct apply_ctx *c)
{
	struct tdm_pr_state *st = c->st;

	if (c->me < 0 || c->op->key != st->regs[c->me].key)
		return TDM_SR_RESERVATION_CONFLICT;
	if (st->reserved) {
		/* only the holder, and only to repeat the same reservation */
		if (!is_holder(st, c->me) || st->type != c->op->type ||
		    st->scope != c->op->scope)
			return TDM_SR_RESERVATION_CONFLICT;
		return TDM_SR_OK;
	}
	st->reserved = true;
	st->type = c->op->type;
	st->scope = c->op->scope;
	if (!type_ar(st->type))
		st->regs[c->me].holder = true;
	c->res->changed = true;
	return TDM_SR_OK;
}

/* RELEASE (SPC-4 5.13.11.2.2). */
static int do_release(struct apply_ctx *c)
{
	struct tdm_pr_state *st = c->st;
	uint8_t type = st->type;
	size_t j;

	if (c->me < 0 || c->op->key != st->regs[c->me].key)
		return TDM_SR_RESERVATION_CONFLICT;
	if (!st->reserved || !is_holder(st, c->me))
		return TDM_SR_OK; /* nothing released, GOOD */
	if (st->type != c->op->type || st->scope != c->op->scope)
		return TDM_SR_INVALID_RELEASE_OF_PR;
	release(st);
	c->res->changed = true;
	if (type_ro(type) || type_ar(type))
		for (j = 0; j < st->nregs; j++)
			if ((long)j != c->me)
				ua(c, &st->regs[j],
				   TDM_SR_UA_RESERVATIONS_RELEASED);
	return TDM_SR_OK;
}

/* CLEAR (SPC-4 5.13.11.2.6). */
static int do_clear(struct apply_ctx *c)
{
	struct tdm_pr_state *st = c->st;
	size_t j;

	if (c->me < 0 || c->op->key != st->regs[c->me].key)
		return TDM_SR_RESERVATION_CONFLICT;
	for (j = 0; j < st->nregs; j++) {
		if ((long)j != c->me)
			ua(c, &st->regs[j], TDM_SR_UA_RESERVATIONS_PREEMPTED);
		c->mark[j] = 1;
	}
	sweep(c);
	release(st);
	st->aptpl = false; /* nothing left to persist */
	return TDM_SR_OK;
}

/* Registration j: the receiving nexus' own (or of its ALL_TG_PT group)? */
static bool is_me(const struct apply_ctx *c, size_t j)
{
	return c->me >= 0 && ((long)j == c->me ||
			      siblings(&c->st->regs[j], &c->st->regs[c->me]));
}

/* Establish the preempting reservation for the receiving nexus. */
static void preempt_reserve(struct apply_ctx *c)
{
	struct tdm_pr_state *st = c->st;
	uint8_t otype = st->type, oscope = st->scope;
	bool was = st->reserved;
	size_t j;

	release(st);
	st->reserved = true;
	st->type = c->op->type;
	st->scope = c->op->scope;
	if (!type_ar(st->type))
		st->regs[c->me].holder = true;
	/* 5.13.11.4.3 f): a changed type or scope releases the others */
	if (was && (otype != st->type || oscope != st->scope))
		for (j = 0; j < st->nregs; j++)
			if ((long)j != c->me)
				ua(c, &st->regs[j],
				   TDM_SR_UA_RESERVATIONS_RELEASED);
}

/* PREEMPT and PREEMPT AND ABORT (SPC-4 5.13.11.4, 5.13.11.5; figure 8). */
static int do_preempt(struct apply_ctx *c)
{
	struct tdm_pr_state *st = c->st;
	const struct tdm_pr_op *op = c->op;
	bool pa = op->sa == TDM_PR_PREEMPT_AND_ABORT;
	bool ar = st->reserved && type_ar(st->type);
	long h = holder_index(st);
	size_t j, n = 0;

	if (c->me < 0 || op->key != st->regs[c->me].key)
		return TDM_SR_RESERVATION_CONFLICT;
	if (!ar && !op->sa_key)
		return field_err(c, TDM_SR_INVALID_FIELD_IN_PARAM_LIST, false,
				 8, 7);

	if ((st->reserved && !ar && st->regs[h].key == op->sa_key) ||
	    (ar && !op->sa_key)) {
		/* 5.13.11.4.3: preempt the reservation. Remove every
		 * registration with that key (every one under an all
		 * registrants reservation with a zero key), except the
		 * receiving initiator port's own */
		for (j = 0; j < st->nregs; j++) {
			if (is_me(c, j) ||
			    (op->sa_key && st->regs[j].key != op->sa_key))
				continue;
			c->mark[j] = 1;
			ua(c, &st->regs[j], TDM_SR_UA_REGISTRATIONS_PREEMPTED);
			if (pa)
				abort_nexus(c, &st->regs[j]);
		}
		sweep(c);
		preempt_reserve(c);
		return TDM_SR_OK;
	}
	/* 5.13.11.4.4: remove the registrations with that key (ours too,
	 * if it is ours); the reservation stays */
	for (j = 0; j < st->nregs; j++) {
		if (st->regs[j].key != op->sa_key)
			continue;
		c->mark[j] = 1;
		n++;
		if ((long)j == c->me)
			continue;
		ua(c, &st->regs[j], TDM_SR_UA_REGISTRATIONS_PREEMPTED);
		if (pa)
			abort_nexus(c, &st->regs[j]);
	}
	if (!n)
		return TDM_SR_RESERVATION_CONFLICT;
	sweep(c);
	release_if_orphan(st);
	return TDM_SR_OK;
}

static bool port_exists(const struct apply_ctx *c, uint16_t port)
{
	size_t i;

	for (i = 0; i < c->nports; i++)
		if (c->ports[i] == port)
			return true;
	return false;
}

/* REGISTER AND MOVE (SPC-4 5.13.8). */
static int do_register_move(struct apply_ctx *c)
{
	struct tdm_pr_state *st = c->st;
	const struct tdm_pr_op *op = c->op;
	const struct tdm_pr_tid *dest;
	long d = -1;
	size_t j;

	if (c->me < 0 || op->key != st->regs[c->me].key)
		return TDM_SR_RESERVATION_CONFLICT;
	/* only the holder of a reservation that is not all registrants */
	if (!st->reserved || type_ar(st->type) || !is_holder(st, c->me))
		return TDM_SR_RESERVATION_CONFLICT;
	if (!op->sa_key)
		return field_err(c, TDM_SR_INVALID_FIELD_IN_PARAM_LIST, false,
				 8, 7);
	if (!port_exists(c, op->move_rel_port))
		return field_err(c, TDM_SR_INVALID_FIELD_IN_PARAM_LIST, false,
				 18, 7);
	if (op->ntids != 1)
		return field_err(c, TDM_SR_INVALID_FIELD_IN_PARAM_LIST, false,
				 24, 7);
	dest = &op->tids[0];
	/* the destination may not be the initiator port moving */
	if (tdm_pr_tid_match(dest, &c->nx->tid))
		return field_err(c, TDM_SR_INVALID_FIELD_IN_PARAM_LIST, false,
				 24, 7);
	for (j = 0; j < st->nregs; j++)
		if (st->regs[j].rel_port == op->move_rel_port &&
		    tdm_pr_tid_match(&st->regs[j].tid, dest))
			d = (long)j;
	if (d >= 0 &&
	    ((d == c->me) || siblings(&st->regs[d], &st->regs[c->me])))
		return field_err(c, TDM_SR_INVALID_FIELD_IN_PARAM_LIST, false,
				 24, 7);
	if (d < 0 && st->nregs + 1 > TDM_PR_MAX_REGS)
		return TDM_SR_INSUFFICIENT_REGISTRATION_RESOURCES;

	if (d < 0) {
		struct tdm_pr_reg *r = &st->regs[st->nregs];

		memset(r, 0, sizeof(*r));
		r->tid = *dest;
		r->rel_port = op->move_rel_port;
		d = (long)st->nregs++;
	}
	/* registered anew or already: the key becomes the SA key */
	set_key(st, d, op->sa_key, op->flags & TDM_PR_F_APTPL);
	/* the reservation moves, same type and scope (CDB's ignored) */
	for (j = 0; j < st->nregs; j++)
		st->regs[j].holder = false;
	st->regs[d].holder = true;
	if (op->flags & TDM_PR_F_UNREG)
		unregister(c, c->me);
	st->aptpl = op->flags & TDM_PR_F_APTPL;
	return TDM_SR_OK;
}

static int cmp_u16(const void *a, const void *b)
{
	uint16_t x = *(const uint16_t *)a, y = *(const uint16_t *)b;

	return x < y ? -1 : x > y;
}

/* Worst case of new registrations op can make. */
static size_t max_adds(const struct tdm_pr_op *op, size_t nports)
{
	switch (op->sa) {
	case TDM_PR_REGISTER:
	case TDM_PR_REGISTER_AND_IGNORE:
		if (op->flags & TDM_PR_F_SPEC_I_PT)
			return (op->ntids + 1) * nports;
		return nports;
	case TDM_PR_REGISTER_AND_MOVE:
		return 1;
	default:
		return 0;
	}
}

void tdm_pr_result_free(struct tdm_pr_result *res)
{
	free(res->ua);
	free(res->abort);
	res->ua = res->abort = NULL;
	res->nua = res->nabort = 0;
}

static int check_type_scope(struct apply_ctx *c)
{
	switch (c->op->sa) {
	case TDM_PR_RESERVE:
	case TDM_PR_RELEASE:
	case TDM_PR_PREEMPT:
	case TDM_PR_PREEMPT_AND_ABORT:
		/* SPC-4 6.16.2: LU_SCOPE only; the six types */
		if (c->op->scope != TDM_PR_SCOPE_LU)
			return field_err(c, TDM_SR_INVALID_FIELD_IN_CDB, true,
					 2, 7);
		if (!type_valid(c->op->type))
			return field_err(c, TDM_SR_INVALID_FIELD_IN_CDB, true,
					 2, 3);
		return TDM_SR_OK;
	case TDM_PR_REGISTER:
	case TDM_PR_REGISTER_AND_IGNORE:
	case TDM_PR_CLEAR:
	case TDM_PR_REGISTER_AND_MOVE:
		return TDM_SR_OK;
	default:
		return field_err(c, TDM_SR_INVALID_FIELD_IN_CDB, true, 1, 4);
	}
}

int tdm_pr_apply(struct tdm_pr_state *st, const struct tdm_pr_op *op,
		 const struct tdm_pr_nexus *nx,
		 const struct tdm_pr_ports *ports, struct tdm_pr_result *res)
{
	struct apply_ctx c;
	size_t i, n, room;
	int sr;

	memset(res, 0, sizeof(*res));
	res->info.sks_bit = -1;
	memset(&c, 0, sizeof(c));
	c.st = st;
	c.op = op;
	c.nx = nx;
	c.res = res;
	sr = check_type_scope(&c);
	if (sr != TDM_SR_OK)
		return sr;
	if (op->ntids > TDM_PR_MAX_REGS)
		return TDM_SR_INSUFFICIENT_REGISTRATION_RESOURCES;

	/* 1. everything that can fail to allocate, before any change */
	n = (ports ? ports->n : 0) + 1;
	c.ports = malloc(n * sizeof(*c.ports));
	c.mark = calloc(st->nregs + 1, 1);
	res->ua = calloc(st->nregs + 1, sizeof(*res->ua));
	res->abort = calloc(st->nregs + 1, sizeof(*res->abort));
	if (!c.ports || !c.mark || !res->ua || !res->abort) {
		sr = TDM_SR_INSUFFICIENT_REGISTRATION_RESOURCES;
		goto out;
	}
	for (i = 0; ports && i < ports->n; i++)
		c.ports[i] = ports->ids[i];
	c.ports[n - 1] = nx->rel_port;
	qsort(c.ports, n, sizeof(*c.ports), cmp_u16);
	for (i = 0; i < n; i++)
		if (!c.nports || c.ports[c.nports - 1] != c.ports[i])
			c.ports[c.nports++] = c.ports[i];
	/* room for what the operation may register: one more than fits
	 * tells that it does not fit */
	room = st->nregs < TDM_PR_MAX_REGS ? TDM_PR_MAX_REGS - st->nregs : 0;
	c.add_cap = max_adds(op, c.nports);
	if (c.add_cap > room + 1)
		c.add_cap = room + 1;
	if (c.add_cap) {
		size_t want = st->nregs + (c.add_cap < room ? c.add_cap : room);

		c.add = malloc(c.add_cap * sizeof(*c.add));
		if (c.add && st->cap < want) {
			struct tdm_pr_reg *nr =
				realloc(st->regs, want * sizeof(*nr));

			if (nr) {
				st->regs = nr;
				st->cap = want;
			}
		}
		if (!c.add || st->cap < want) {
			sr = TDM_SR_INSUFFICIENT_REGISTRATION_RESOURCES;
			goto out;
		}
	}

	/* 2. the operation; from here on nothing allocates */
	c.me = find_nexus(st, nx);
	switch (op->sa) {
	case TDM_PR_REGISTER:
	case TDM_PR_REGISTER_AND_IGNORE:
		sr = do_register(&c);
		break;
	case TDM_PR_RESERVE:
		sr = do_reserve(&c);
		break;
	case TDM_PR_RELEASE:
		sr = do_release(&c);
		break;
	case TDM_PR_CLEAR:
		sr = do_clear(&c);
		break;
	case TDM_PR_PREEMPT:
	case TDM_PR_PREEMPT_AND_ABORT:
		sr = do_preempt(&c);
		break;
	default:
		sr = do_register_move(&c);
		break;
	}
	/* SPC-4 6.15.2: PRGENERATION counts every PERSISTENT RESERVE OUT
	 * that succeeds, except RESERVE and RELEASE (and wraps) */
	if (sr == TDM_SR_OK && op->sa != TDM_PR_RESERVE &&
	    op->sa != TDM_PR_RELEASE) {
		st->generation++;
		res->changed = true;
	}
out:
	free(c.ports);
	free(c.mark);
	free(c.add);
	if (sr != TDM_SR_OK) {
		tdm_pr_result_free(res);
		res->changed = false;
	}
	return sr;
}

/* ---- decoding PERSISTENT RESERVE OUT (SPC-4 6.16) ---- */

static int8_t top_bit(uint8_t v)
{
	int8_t b = 7;

	while (b > 0 && !(v & (1u << b)))
		b--;
	return b;
}

static int dec_err(struct tdm_sense_info *info, int sr, bool cdb, size_t byte,
		   int8_t bit)
{
	info->sks_valid = true;
	info->sks_cd = cdb;
	info->sks_field = (uint16_t)(byte > 0xFFFF ? 0xFFFF : byte);
	info->sks_bit = bit;
	return sr;
}

/* Decode the TransportIDs of p[0..len) into op->tids; base: their offset
 * in the parameter list (field pointers). */
static int dec_tids(struct tdm_pr_op *op, const uint8_t *p, size_t len,
		    size_t base, size_t max, struct tdm_sense_info *info)
{
	struct tdm_pr_tid t;
	size_t off, used, bad, n = 0;
	int pass, r;

	for (pass = 0; pass < 2; pass++) {
		for (off = 0; off < len; off += used) {
			r = tdm_pr_tid_decode(p + off, len - off,
					      pass ? &op->tids[n] : &t, &used,
					      &bad);
			if (r == -EMSGSIZE)
				return TDM_SR_PARAM_LIST_LENGTH_ERROR;
			if (r < 0)
				return dec_err(
					info,
					TDM_SR_INVALID_FIELD_IN_PARAM_LIST,
					false, base + off + bad, 7);
			n++;
			if (n > max)
				return TDM_SR_INSUFFICIENT_REGISTRATION_RESOURCES;
		}
		if (pass)
			break;
		if (!n)
			return TDM_SR_OK;
		op->tids = calloc(n, sizeof(*op->tids));
		if (!op->tids)
			return TDM_SR_INSUFFICIENT_REGISTRATION_RESOURCES;
		op->ntids = n;
		n = 0;
	}
	return TDM_SR_OK;
}

void tdm_pr_op_free(struct tdm_pr_op *op)
{
	free(op->tids);
	op->tids = NULL;
	op->ntids = 0;
}

int tdm_pr_out_decode(const uint8_t *cdb, const uint8_t *param, size_t len,
		      struct tdm_pr_op *op, struct tdm_sense_info *info)
{
	size_t tlen;
	int sr;

	memset(op, 0, sizeof(*op));
	memset(info, 0, sizeof(*info));
	info->sks_bit = -1;
	/* SPC-4 6.16.1, table 215: the CDB */
	op->sa = cdb[1] & 0x1F;
	op->scope = cdb[2] >> 4;
	op->type = cdb[2] & 0x0F;
	if (cdb[1] & 0xE0)
		return dec_err(info, TDM_SR_INVALID_FIELD_IN_CDB, true, 1,
			       top_bit(cdb[1] & 0xE0));
	if (cdb[3] || cdb[4])
		return dec_err(info, TDM_SR_INVALID_FIELD_IN_CDB, true,
			       cdb[3] ? 3 : 4,
			       top_bit(cdb[3] ? cdb[3] : cdb[4]));
	if (op->sa > TDM_PR_REGISTER_AND_MOVE)
		return dec_err(info, TDM_SR_INVALID_FIELD_IN_CDB, true, 1, 4);
	if (len < 24)
		return TDM_SR_PARAM_LIST_LENGTH_ERROR;
	op->key = tdm_get_be64(param);
	op->sa_key = tdm_get_be64(param + 8);

	if (op->sa == TDM_PR_REGISTER_AND_MOVE) {
		/* 6.16.4, table 221 */
		if (param[16])
			return dec_err(info, TDM_SR_INVALID_FIELD_IN_PARAM_LIST,
				       false, 16, top_bit(param[16]));
		if (param[17] & 0xFC)
			return dec_err(info, TDM_SR_INVALID_FIELD_IN_PARAM_LIST,
				       false, 17, top_bit(param[17] & 0xFC));
		if (param[17] & 0x01)
			op->flags |= TDM_PR_F_APTPL;
		if (param[17] & 0x02)
			op->flags |= TDM_PR_F_UNREG;
		op->move_rel_port = tdm_get_be16(param + 18);
		tlen = tdm_get_be32(param + 20);
		if (tlen != len - 24)
			return TDM_SR_PARAM_LIST_LENGTH_ERROR;
		sr = dec_tids(op, param + 24, tlen, 24, 1, info);
		if (sr == TDM_SR_OK && op->ntids != 1)
			sr = dec_err(info, TDM_SR_INVALID_FIELD_IN_PARAM_LIST,
				     false, 20, 7);
		if (sr != TDM_SR_OK)
			tdm_pr_op_free(op);
		return sr;
	}

	/* 6.16.3, table 219 */
	if (param[20] & 0xF2)
		return dec_err(info, TDM_SR_INVALID_FIELD_IN_PARAM_LIST, false,
			       20, top_bit(param[20] & 0xF2));
	if (param[21])
		return dec_err(info, TDM_SR_INVALID_FIELD_IN_PARAM_LIST, false,
			       21, top_bit(param[21]));
	if (param[20] & 0x08)
		op->flags |= TDM_PR_F_SPEC_I_PT;
	/* ALL_TG_PT and APTPL count for the two register actions only */
	if (op->sa == TDM_PR_REGISTER || op->sa == TDM_PR_REGISTER_AND_IGNORE) {
		if (param[20] & 0x04)
			op->flags |= TDM_PR_F_ALL_TG_PT;
		if (param[20] & 0x01)
			op->flags |= TDM_PR_F_APTPL;
	}
	/* SPEC_I_PT is valid for REGISTER only */
	if ((op->flags & TDM_PR_F_SPEC_I_PT) && op->sa != TDM_PR_REGISTER)
		return dec_err(info, TDM_SR_INVALID_FIELD_IN_PARAM_LIST, false,
			       20, 3);
	if (!(op->flags & TDM_PR_F_SPEC_I_PT))
		return len == 24 ? TDM_SR_OK : TDM_SR_PARAM_LIST_LENGTH_ERROR;
	if (len < 28)
		return TDM_SR_PARAM_LIST_LENGTH_ERROR;
	tlen = tdm_get_be32(param + 24);
	if (tlen != len - 28)
		return TDM_SR_PARAM_LIST_LENGTH_ERROR;
	sr = dec_tids(op, param + 28, tlen, 28, TDM_PR_MAX_REGS, info);
	if (sr != TDM_SR_OK)
		tdm_pr_op_free(op);
	return sr;
}

/* ---- PERSISTENT RESERVE IN (SPC-4 6.15) ---- */

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
	h = holder_index(st);
	w_be64(&w, type_ar(st->type) || h < 0 ? 0 : st->regs[h].key);
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

/* 6.15.5, tables 210/211: READ FULL STATUS */
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
		bool holder = is_holder(st, (long)i);

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
