/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pr_state.c - SPC-4 persistent reservations: the state and the
 * deterministic state machine that applies PERSISTENT RESERVE OUT to it,
 * and the command gate's check. No I/O, no clock, no globals.
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

#include "pr-sync/pr_int.h"

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

static bool type_ro(uint8_t t)
{
	return t == TDM_PR_WE_RO || t == TDM_PR_EA_RO;
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

		if (!tdm__pr_tid_valid(&r->tid) || !r->key)
			return -EINVAL;
		if (r->holder)
			holders++;
		for (j = 0; j < i; j++)
			if (st->regs[j].rel_port == r->rel_port &&
			    tdm_pr_tid_match(&st->regs[j].tid, &r->tid))
				return -EINVAL;
	}
	if (holders != (st->reserved && !tdm__pr_type_ar(st->type) ? 1u : 0u))
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

long tdm__pr_holder_index(const struct tdm_pr_state *st)
{
	size_t i;

	for (i = 0; i < st->nregs; i++)
		if (st->regs[i].holder)
			return (long)i;
	return -1;
}

/* SPC-4 5.13.10: is registration i a persistent reservation holder? */
bool tdm__pr_is_holder(const struct tdm_pr_state *st, long i)
{
	long h;

	if (!st->reserved || i < 0)
		return false;
	if (tdm__pr_type_ar(st->type))
		return true;
	h = tdm__pr_holder_index(st);
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
	if (tdm__pr_is_holder(st, me))
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
	bool held = tdm__pr_is_holder(st, i) && !tdm__pr_type_ar(st->type);
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
		if (!tdm__pr_is_holder(st, c->me) || st->type != c->op->type ||
		    st->scope != c->op->scope)
			return TDM_SR_RESERVATION_CONFLICT;
		return TDM_SR_OK;
	}
	st->reserved = true;
	st->type = c->op->type;
	st->scope = c->op->scope;
	if (!tdm__pr_type_ar(st->type))
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
	if (!st->reserved || !tdm__pr_is_holder(st, c->me))
		return TDM_SR_OK; /* nothing released, GOOD */
	if (st->type != c->op->type || st->scope != c->op->scope)
		return TDM_SR_INVALID_RELEASE_OF_PR;
	release(st);
	c->res->changed = true;
	if (type_ro(type) || tdm__pr_type_ar(type))
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
	if (!tdm__pr_type_ar(st->type))
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
	bool ar = st->reserved && tdm__pr_type_ar(st->type);
	long h = tdm__pr_holder_index(st);
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
	if (!st->reserved || tdm__pr_type_ar(st->type) ||
	    !tdm__pr_is_holder(st, c->me))
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
