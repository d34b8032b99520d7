/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * test_pr.c - the persistent reservation state machine (pr-sync/) driven
 * directly: every PERSISTENT RESERVE OUT service action and type,
 * ALL_TG_PT, SPEC_I_PT, REGISTER AND MOVE, PREEMPT AND ABORT, generation
 * rules, PERSISTENT RESERVE IN data, TransportIDs, the encoded state and
 * its corruption, APTPL files, and a randomized run checking invariants
 * and determinism over thousands of operations.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pr-sync/pr.h"

#define K1 0x1111111111111111ull
#define K2 0x2222222222222222ull
#define K3 0x3333333333333333ull
#define K4 0x4444444444444444ull

static const uint16_t port_ids[] = {1, 2, 3};
static const struct tdm_pr_ports PORTS = {3, port_ids};

/* initiator i (0..3) through relative target port `port` */
static struct tdm_pr_nexus nexus(int i, uint16_t port)
{
	struct tdm_pr_nexus nx;
	uint8_t isid[6] = {0x40, 0x00, 0x01, 0x37, 0x00, (uint8_t)i};
	char name[64];

	snprintf(name, sizeof(name), "iqn.2026-11.org.tandem:ini%d", i);
	assert_int_equal(tdm_pr_tid_iscsi(&nx.tid, name, isid), 0);
	nx.rel_port = port;
	return nx;
}

static struct tdm_pr_result R; /* result of the last op() */

static int op_full(struct tdm_pr_state *st, const struct tdm_pr_nexus *nx,
		   uint8_t sa, uint8_t type, uint64_t key, uint64_t sa_key,
		   uint8_t flags, const struct tdm_pr_tid *tids, size_t ntids,
		   uint16_t move_port)
{
	struct tdm_pr_op o;

	memset(&o, 0, sizeof(o));
	o.sa = sa;
	o.type = type;
	o.key = key;
	o.sa_key = sa_key;
	o.flags = flags;
	o.tids = (struct tdm_pr_tid *)tids;
	o.ntids = ntids;
	o.move_rel_port = move_port;
	tdm_pr_result_free(&R);
	return tdm_pr_apply(st, &o, nx, &PORTS, &R);
}

static int apply(struct tdm_pr_state *st, const struct tdm_pr_op *o,
		 const struct tdm_pr_nexus *nx)
{
	tdm_pr_result_free(&R);
	return tdm_pr_apply(st, o, nx, &PORTS, &R);
}

static int op(struct tdm_pr_state *st, const struct tdm_pr_nexus *nx,
	      uint8_t sa, uint8_t type, uint64_t key, uint64_t sa_key,
	      uint8_t flags)
{
	return op_full(st, nx, sa, type, key, sa_key, flags, NULL, 0, 0);
}

/* Does the last result raise reason for nexus nx? */
static bool has_ua(const struct tdm_pr_nexus *nx, int reason)
{
	size_t i;

	for (i = 0; i < R.nua; i++)
		if (R.ua[i].reason == reason &&
		    R.ua[i].rel_port == nx->rel_port &&
		    tdm_pr_tid_match(&R.ua[i].tid, &nx->tid))
			return true;
	return false;
}

static bool aborts(const struct tdm_pr_nexus *nx)
{
	size_t i;

	for (i = 0; i < R.nabort; i++)
		if (R.abort[i].rel_port == nx->rel_port &&
		    tdm_pr_tid_match(&R.abort[i].tid, &nx->tid))
			return true;
	return false;
}

static void reg(struct tdm_pr_state *st, const struct tdm_pr_nexus *nx,
		uint64_t key)
{
	assert_int_equal(op(st, nx, TDM_PR_REGISTER_AND_IGNORE, 0, 0, key, 0),
			 TDM_SR_OK);
}

static int check(const struct tdm_pr_state *st, const struct tdm_pr_nexus *nx,
		 uint32_t allowed)
{
	return tdm_pr_check(st, nx, allowed);
}

/* reservation key and type per READ RESERVATION; -1 if none */
static int64_t read_res(const struct tdm_pr_state *st, uint8_t *type)
{
	uint8_t b[64];
	size_t n = tdm_pr_in_read_reservation(st, b, sizeof(b));

	assert_int_equal(tdm_get_be32(b), st->generation);
	if (tdm_get_be32(b + 4) == 0) {
		assert_int_equal(n, 8);
		return -1;
	}
	assert_int_equal(n, 24);
	assert_int_equal(tdm_get_be32(b + 4), 16);
	*type = b[21] & 0x0F;
	assert_int_equal(b[21] >> 4, 0);
	return (int64_t)(tdm_get_be64(b + 8) & 0x7FFFFFFFFFFFFFFFull);
}

static size_t encode(const struct tdm_pr_state *st, uint8_t *buf, size_t cap)
{
	size_t n = tdm_pr_encode(st, buf, cap);

	assert_true(n > 0);
	assert_int_equal(n, tdm_pr_encoded_size(st));
	return n;
}

static void test_register(void **unused)
{
	struct tdm_pr_state st;
	struct tdm_pr_nexus a = nexus(0, 1), b = nexus(1, 1);
	uint8_t buf[64];

	tdm_pr_state_init(&st);
	/* unregistered: a RESERVATION KEY is a conflict, nothing changes */
	assert_int_equal(op(&st, &a, TDM_PR_REGISTER, 0, K1, K2, 0),
			 TDM_SR_RESERVATION_CONFLICT);
	assert_int_equal(st.generation, 0);
	/* unregistered, zero SA key: GOOD, nothing registered, counted */
	assert_int_equal(op(&st, &a, TDM_PR_REGISTER, 0, 0, 0, 0), TDM_SR_OK);
	assert_int_equal(st.nregs, 0);
	assert_int_equal(st.generation, 1);
	assert_int_equal(op(&st, &a, TDM_PR_REGISTER, 0, 0, K1, 0), TDM_SR_OK);
	assert_int_equal(st.nregs, 1);
	assert_int_equal(st.generation, 2);
	assert_true(tdm_pr_registered(&st, &a));
	assert_false(tdm_pr_registered(&st, &b));
	/* registered: the key must match (REGISTER, not IGNORE) */
	assert_int_equal(op(&st, &a, TDM_PR_REGISTER, 0, K2, K3, 0),
			 TDM_SR_RESERVATION_CONFLICT);
	assert_int_equal(op(&st, &a, TDM_PR_REGISTER, 0, 0, K3, 0),
			 TDM_SR_RESERVATION_CONFLICT);
	assert_int_equal(st.generation, 2);
	assert_int_equal(op(&st, &a, TDM_PR_REGISTER, 0, K1, K3, 0), TDM_SR_OK);
	assert_int_equal(st.regs[0].key, K3);
	assert_int_equal(st.generation, 3);
	/* REGISTER AND IGNORE EXISTING KEY ignores the key */
	assert_int_equal(op(&st, &a, TDM_PR_REGISTER_AND_IGNORE, 0, 77, K2, 0),
			 TDM_SR_OK);
	assert_int_equal(st.regs[0].key, K2);
	reg(&st, &b, K2);
	assert_int_equal(st.nregs, 2);
	/* READ KEYS: generation, length, keys in registration order */
	assert_int_equal(tdm_pr_in_read_keys(&st, buf, sizeof(buf)), 24);
	assert_int_equal(tdm_get_be32(buf), st.generation);
	assert_int_equal(tdm_get_be32(buf + 4), 16);
	assert_true(tdm_get_be64(buf + 8) == K2);
	assert_true(tdm_get_be64(buf + 16) == K2);
	/* truncated: ADDITIONAL LENGTH is still the whole list */
	memset(buf, 0xEE, sizeof(buf));
	assert_int_equal(tdm_pr_in_read_keys(&st, buf, 8), 24);
	assert_int_equal(tdm_get_be32(buf + 4), 16);
	assert_int_equal(buf[8], 0xEE);
	/* unregister */
	assert_int_equal(op(&st, &a, TDM_PR_REGISTER, 0, K2, 0, 0), TDM_SR_OK);
	assert_false(tdm_pr_registered(&st, &a));
	assert_int_equal(st.nregs, 1);
	assert_int_equal(tdm_pr_state_check(&st), 0);
	tdm_pr_state_free(&st);
}

static const uint8_t all_types[] = {TDM_PR_WE,	  TDM_PR_EA,	TDM_PR_WE_RO,
				    TDM_PR_EA_RO, TDM_PR_WE_AR, TDM_PR_EA_AR};

static bool is_ar(uint8_t t)
{
	return t == TDM_PR_WE_AR || t == TDM_PR_EA_AR;
}

static void test_reserve_release(void **unused)
{
	struct tdm_pr_nexus a = nexus(0, 1), b = nexus(1, 1), c = nexus(2, 2);
	size_t i, j;

	for (i = 0; i < sizeof(all_types); i++) {
		struct tdm_pr_state st;
		uint8_t t = all_types[i], rt = 0;
		uint32_t gen;

		tdm_pr_state_init(&st);
		/* unregistered or wrong key: conflict */
		assert_int_equal(op(&st, &a, TDM_PR_RESERVE, t, 0, 0, 0),
				 TDM_SR_RESERVATION_CONFLICT);
		reg(&st, &a, K1);
		reg(&st, &b, K2);
		assert_int_equal(op(&st, &a, TDM_PR_RESERVE, t, K2, 0, 0),
				 TDM_SR_RESERVATION_CONFLICT);
		gen = st.generation;
		assert_int_equal(op(&st, &a, TDM_PR_RESERVE, t, K1, 0, 0),
				 TDM_SR_OK);
		assert_true(R.changed);
		/* RESERVE does not count */
		assert_int_equal(st.generation, gen);
		assert_int_equal(read_res(&st, &rt),
				 is_ar(t) ? 0 : (int64_t)K1);
		assert_int_equal(rt, t);
		/* the same again: GOOD, no change */
		assert_int_equal(op(&st, &a, TDM_PR_RESERVE, t, K1, 0, 0),
				 TDM_SR_OK);
		assert_false(R.changed);
		/* another type: conflict */
		for (j = 0; j < sizeof(all_types); j++)
			if (all_types[j] != t)
				assert_int_equal(op(&st, &a, TDM_PR_RESERVE,
						    all_types[j], K1, 0, 0),
						 TDM_SR_RESERVATION_CONFLICT);
		/* another registrant: conflict unless all registrants */
		assert_int_equal(op(&st, &b, TDM_PR_RESERVE, t, K2, 0, 0),
				 is_ar(t) ? TDM_SR_OK
					  : TDM_SR_RESERVATION_CONFLICT);
		/* RELEASE from a non-holder: GOOD, nothing happens */
		if (!is_ar(t)) {
			assert_int_equal(
				op(&st, &b, TDM_PR_RELEASE, t, K2, 0, 0),
				TDM_SR_OK);
			assert_true(st.reserved);
		}
		/* RELEASE with the wrong key: conflict */
		assert_int_equal(op(&st, &a, TDM_PR_RELEASE, t, K3, 0, 0),
				 TDM_SR_RESERVATION_CONFLICT);
		/* with another type: INVALID RELEASE OF PERSISTENT RES. */
		assert_int_equal(op(&st, &a, TDM_PR_RELEASE,
				    t == TDM_PR_WE ? TDM_PR_EA : TDM_PR_WE, K1,
				    0, 0),
				 TDM_SR_INVALID_RELEASE_OF_PR);
		assert_true(st.reserved);
		reg(&st, &c, K3);
		gen = st.generation;
		assert_int_equal(op(&st, &a, TDM_PR_RELEASE, t, K1, 0, 0),
				 TDM_SR_OK);
		assert_false(st.reserved);
		assert_int_equal(st.generation, gen);
		assert_int_equal(st.nregs, 3);
		/* 5.13.11.2.2: registrants only / all registrants: the other
		 * registrants learn of it; WE and EA: nobody */
		assert_int_equal(has_ua(&b, TDM_SR_UA_RESERVATIONS_RELEASED),
				 t != TDM_PR_WE && t != TDM_PR_EA);
		assert_int_equal(has_ua(&c, TDM_SR_UA_RESERVATIONS_RELEASED),
				 t != TDM_PR_WE && t != TDM_PR_EA);
		assert_false(has_ua(&a, TDM_SR_UA_RESERVATIONS_RELEASED));
		/* RELEASE without a reservation: GOOD */
		assert_int_equal(op(&st, &a, TDM_PR_RELEASE, t, K1, 0, 0),
				 TDM_SR_OK);
		assert_int_equal(read_res(&st, &rt), -1);
		assert_int_equal(tdm_pr_state_check(&st), 0);
		tdm_pr_state_free(&st);
	}
}

static void test_type_scope_checks(void **unused)
{
	struct tdm_pr_state st;
	struct tdm_pr_nexus a = nexus(0, 1);
	static const uint8_t bad[] = {0, 2, 4, 9, 15};
	size_t i;

	tdm_pr_state_init(&st);
	reg(&st, &a, K1);
	for (i = 0; i < sizeof(bad); i++) {
		assert_int_equal(op(&st, &a, TDM_PR_RESERVE, bad[i], K1, 0, 0),
				 TDM_SR_INVALID_FIELD_IN_CDB);
		assert_true(R.info.sks_valid && R.info.sks_cd);
		assert_int_equal(R.info.sks_field, 2);
		assert_int_equal(R.info.sks_bit, 3);
	}
	{
		struct tdm_pr_op o;

		memset(&o, 0, sizeof(o));
		o.sa = TDM_PR_PREEMPT;
		o.type = TDM_PR_WE;
		o.scope = 1;
		o.key = K1;
		o.sa_key = K1;
		assert_int_equal(apply(&st, &o, &a),
				 TDM_SR_INVALID_FIELD_IN_CDB);
		assert_int_equal(R.info.sks_field, 2);
		assert_int_equal(R.info.sks_bit, 7);
	}
	assert_false(st.reserved);
	tdm_pr_state_free(&st);
}

/* SPC-4 table 66 / the expectations of libiscsi's ProutReserve Access* */
static void test_conflict_table(void **unused)
{
	struct tdm_pr_nexus h = nexus(0, 1), r = nexus(1, 1), u = nexus(2, 1);
	const uint32_t rd = TDM_PR_ALLOW_WE, wr = 0,
		       all = TDM_PR_ALLOW_WE | TDM_PR_ALLOW_EA;
	size_t i;

	for (i = 0; i < sizeof(all_types); i++) {
		struct tdm_pr_state st;
		uint8_t t = all_types[i];
		bool ea = t == TDM_PR_EA || t == TDM_PR_EA_RO ||
			  t == TDM_PR_EA_AR;
		bool regs_ok = t != TDM_PR_WE && t != TDM_PR_EA;

		tdm_pr_state_init(&st);
		reg(&st, &h, K1);
		reg(&st, &r, K2);
		/* nothing reserved: everything passes */
		assert_int_equal(check(&st, &u, wr), TDM_SR_OK);
		assert_int_equal(op(&st, &h, TDM_PR_RESERVE, t, K1, 0, 0),
				 TDM_SR_OK);
		/* the holder: everything */
		assert_int_equal(check(&st, &h, wr), TDM_SR_OK);
		assert_int_equal(check(&st, &h, rd), TDM_SR_OK);
		/* a registrant */
		assert_int_equal(check(&st, &r, rd),
				 (regs_ok || !ea)
					 ? TDM_SR_OK
					 : TDM_SR_RESERVATION_CONFLICT);
		assert_int_equal(check(&st, &r, wr),
				 regs_ok ? TDM_SR_OK
					 : TDM_SR_RESERVATION_CONFLICT);
		/* not registered: reads pass write exclusive types only */
		assert_int_equal(check(&st, &u, rd),
				 ea ? TDM_SR_RESERVATION_CONFLICT : TDM_SR_OK);
		assert_int_equal(check(&st, &u, wr),
				 TDM_SR_RESERVATION_CONFLICT);
		/* commands allowed under both (INQUIRY, TEST UNIT READY) */
		assert_int_equal(check(&st, &u, all), TDM_SR_OK);
		tdm_pr_state_free(&st);
	}
}

/* libiscsi ProutReserve Ownership*: unregistering the holder */
static void test_unregister_holder(void **unused)
{
	struct tdm_pr_nexus a = nexus(0, 1), b = nexus(1, 1);
	size_t i;

	for (i = 0; i < sizeof(all_types); i++) {
		struct tdm_pr_state st;
		uint8_t t = all_types[i], rt;

		tdm_pr_state_init(&st);
		reg(&st, &a, K1);
		reg(&st, &b, K2);
		assert_int_equal(op(&st, &a, TDM_PR_RESERVE, t, K1, 0, 0),
				 TDM_SR_OK);
		assert_int_equal(op(&st, &a, TDM_PR_REGISTER, 0, K1, 0, 0),
				 TDM_SR_OK);
		if (is_ar(t)) {
			/* all registrants: b still holds it */
			assert_int_equal(read_res(&st, &rt), 0);
			assert_int_equal(rt, t);
			assert_int_equal(R.nua, 0);
			assert_int_equal(
				op(&st, &b, TDM_PR_REGISTER, 0, K2, 0, 0),
				TDM_SR_OK);
			/* ... until the last registrant leaves */
		} else {
			assert_int_equal(
				has_ua(&b, TDM_SR_UA_RESERVATIONS_RELEASED),
				t == TDM_PR_WE_RO || t == TDM_PR_EA_RO);
		}
		assert_int_equal(read_res(&st, &rt), -1);
		assert_false(st.reserved);
		assert_int_equal(tdm_pr_state_check(&st), 0);
		tdm_pr_state_free(&st);
	}
}

static void test_clear(void **unused)
{
	struct tdm_pr_state st;
	struct tdm_pr_nexus a = nexus(0, 1), b = nexus(1, 2), c = nexus(2, 3);
	uint32_t gen;

	tdm_pr_state_init(&st);
	reg(&st, &a, K1);
	reg(&st, &b, K2);
	assert_int_equal(op(&st, &a, TDM_PR_RESERVE, TDM_PR_EA, K1, 0, 0),
			 TDM_SR_OK);
	/* unregistered or wrong key: conflict */
	assert_int_equal(op(&st, &c, TDM_PR_CLEAR, 0, 0, 0, 0),
			 TDM_SR_RESERVATION_CONFLICT);
	assert_int_equal(op(&st, &b, TDM_PR_CLEAR, 0, K1, 0, 0),
			 TDM_SR_RESERVATION_CONFLICT);
	gen = st.generation;
	assert_int_equal(op(&st, &b, TDM_PR_CLEAR, 0, K2, 0, 0), TDM_SR_OK);
	assert_int_equal(st.generation, gen + 1);
	assert_int_equal(st.nregs, 0);
	assert_false(st.reserved);
	assert_true(has_ua(&a, TDM_SR_UA_RESERVATIONS_PREEMPTED));
	assert_false(has_ua(&b, TDM_SR_UA_RESERVATIONS_PREEMPTED));
	assert_int_equal(R.nua, 1);
	tdm_pr_state_free(&st);
}

static void test_preempt_registrations(void **unused)
{
	struct tdm_pr_state st;
	struct tdm_pr_nexus a = nexus(0, 1), b = nexus(1, 1), c = nexus(2, 1),
			    d = nexus(3, 1);
	uint32_t gen;

	tdm_pr_state_init(&st);
	reg(&st, &a, K1);
	reg(&st, &b, K2);
	reg(&st, &c, K2);
	/* no reservation: a zero SA key is an invalid field */
	assert_int_equal(op(&st, &a, TDM_PR_PREEMPT, TDM_PR_EA, K1, 0, 0),
			 TDM_SR_INVALID_FIELD_IN_PARAM_LIST);
	assert_true(R.info.sks_valid);
	assert_false(R.info.sks_cd);
	assert_int_equal(R.info.sks_field, 8);
	/* a key nobody has: conflict */
	assert_int_equal(op(&st, &a, TDM_PR_PREEMPT, TDM_PR_EA, K1, K4, 0),
			 TDM_SR_RESERVATION_CONFLICT);
	/* not registered: conflict */
	assert_int_equal(op(&st, &d, TDM_PR_PREEMPT, TDM_PR_EA, 0, K2, 0),
			 TDM_SR_RESERVATION_CONFLICT);
	gen = st.generation;
	/* libiscsi ProutPreempt.RemoveRegistration */
	assert_int_equal(op(&st, &a, TDM_PR_PREEMPT, TDM_PR_EA, K1, K2, 0),
			 TDM_SR_OK);
	assert_int_equal(st.generation, gen + 1);
	assert_int_equal(st.nregs, 1);
	assert_false(st.reserved);
	assert_true(has_ua(&b, TDM_SR_UA_REGISTRATIONS_PREEMPTED));
	assert_true(has_ua(&c, TDM_SR_UA_REGISTRATIONS_PREEMPTED));
	assert_int_equal(R.nabort, 0);
	/* preempting one's own key removes one's own registration */
	assert_int_equal(op(&st, &a, TDM_PR_PREEMPT, TDM_PR_EA, K1, K1, 0),
			 TDM_SR_OK);
	assert_int_equal(st.nregs, 0);
	assert_int_equal(R.nua, 0);
	tdm_pr_state_free(&st);
}

static void test_preempt_reservation(void **unused)
{
	struct tdm_pr_state st;
	struct tdm_pr_nexus a = nexus(0, 1), b = nexus(1, 1), c = nexus(2, 1),
			    d = nexus(3, 1);
	uint8_t rt;

	/* SA key of the holder: the reservation moves to the preemptor */
	tdm_pr_state_init(&st);
	reg(&st, &a, K1);
	reg(&st, &b, K2);
	reg(&st, &c, K3);
	reg(&st, &d, K3);
	assert_int_equal(op(&st, &a, TDM_PR_RESERVE, TDM_PR_WE, K1, 0, 0),
			 TDM_SR_OK);
	/* non-holder key under WE: registrations removed, reservation
	 * stays; a zero key is invalid */
	assert_int_equal(op(&st, &b, TDM_PR_PREEMPT, TDM_PR_WE, K2, 0, 0),
			 TDM_SR_INVALID_FIELD_IN_PARAM_LIST);
	assert_int_equal(op(&st, &b, TDM_PR_PREEMPT, TDM_PR_WE, K2, K3, 0),
			 TDM_SR_OK);
	assert_int_equal(st.nregs, 2);
	assert_int_equal(read_res(&st, &rt), (int64_t)K1);
	assert_true(has_ua(&c, TDM_SR_UA_REGISTRATIONS_PREEMPTED));
	assert_true(has_ua(&d, TDM_SR_UA_REGISTRATIONS_PREEMPTED));
	reg(&st, &c, K3);
	/* now the holder's key, with another type */
	assert_int_equal(
		op(&st, &b, TDM_PR_PREEMPT_AND_ABORT, TDM_PR_EA_RO, K2, K1, 0),
		TDM_SR_OK);
	assert_int_equal(read_res(&st, &rt), (int64_t)K2);
	assert_int_equal(rt, TDM_PR_EA_RO);
	assert_false(tdm_pr_registered(&st, &a));
	assert_true(has_ua(&a, TDM_SR_UA_REGISTRATIONS_PREEMPTED));
	/* type changed: the registrants left are told */
	assert_true(has_ua(&c, TDM_SR_UA_RESERVATIONS_RELEASED));
	assert_false(has_ua(&b, TDM_SR_UA_RESERVATIONS_RELEASED));
	/* PREEMPT AND ABORT: a's tasks, nobody else's */
	assert_true(aborts(&a));
	assert_false(aborts(&b));
	assert_false(aborts(&c));
	assert_int_equal(R.nabort, 1);
	/* the holder preempts itself: keeps its registration, new type,
	 * same type again: no RESERVATIONS RELEASED */
	assert_int_equal(op(&st, &b, TDM_PR_PREEMPT, TDM_PR_EA_RO, K2, K2, 0),
			 TDM_SR_OK);
	assert_true(tdm_pr_registered(&st, &b));
	assert_int_equal(R.nua, 0);
	assert_int_equal(op(&st, &b, TDM_PR_PREEMPT, TDM_PR_WE, K2, K2, 0),
			 TDM_SR_OK);
	assert_int_equal(read_res(&st, &rt), (int64_t)K2);
	assert_int_equal(rt, TDM_PR_WE);
	assert_true(has_ua(&c, TDM_SR_UA_RESERVATIONS_RELEASED));
	assert_int_equal(tdm_pr_state_check(&st), 0);
	tdm_pr_state_free(&st);

	/* all registrants, zero key: everybody else goes */
	tdm_pr_state_init(&st);
	reg(&st, &a, K1);
	reg(&st, &b, K2);
	reg(&st, &c, K3);
	assert_int_equal(op(&st, &a, TDM_PR_RESERVE, TDM_PR_WE_AR, K1, 0, 0),
			 TDM_SR_OK);
	assert_int_equal(
		op(&st, &c, TDM_PR_PREEMPT_AND_ABORT, TDM_PR_EA, K3, 0, 0),
		TDM_SR_OK);
	assert_int_equal(st.nregs, 1);
	assert_int_equal(read_res(&st, &rt), (int64_t)K3);
	assert_int_equal(rt, TDM_PR_EA);
	assert_true(aborts(&a) && aborts(&b) && !aborts(&c));
	assert_true(has_ua(&a, TDM_SR_UA_REGISTRATIONS_PREEMPTED));
	assert_true(has_ua(&b, TDM_SR_UA_REGISTRATIONS_PREEMPTED));
	tdm_pr_state_free(&st);

	/* all registrants, a key: those registrations go, it stays */
	tdm_pr_state_init(&st);
	reg(&st, &a, K1);
	reg(&st, &b, K2);
	assert_int_equal(op(&st, &a, TDM_PR_RESERVE, TDM_PR_EA_AR, K1, 0, 0),
			 TDM_SR_OK);
	assert_int_equal(op(&st, &a, TDM_PR_PREEMPT, TDM_PR_WE, K1, K2, 0),
			 TDM_SR_OK);
	assert_int_equal(read_res(&st, &rt), 0);
	assert_int_equal(rt, TDM_PR_EA_AR);
	assert_int_equal(st.nregs, 1);
	/* ... and with the last registrant, the reservation */
	assert_int_equal(op(&st, &a, TDM_PR_PREEMPT, TDM_PR_WE, K1, K1, 0),
			 TDM_SR_OK);
	assert_false(st.reserved);
	assert_int_equal(tdm_pr_state_check(&st), 0);
	tdm_pr_state_free(&st);
}

static void test_all_tg_pt(void **unused)
{
	struct tdm_pr_state st;
	struct tdm_pr_nexus a1 = nexus(0, 1), a2 = nexus(0, 2),
			    a3 = nexus(0, 3), b1 = nexus(1, 1);
	uint8_t buf[1024], rt;
	size_t n, off;

	tdm_pr_state_init(&st);
	/* b already registered on port 1; a with ALL_TG_PT from port 2 */
	reg(&st, &b1, K2);
	assert_int_equal(
		op(&st, &a2, TDM_PR_REGISTER, 0, 0, K1, TDM_PR_F_ALL_TG_PT),
		TDM_SR_OK);
	assert_int_equal(st.nregs, 4);
	assert_true(tdm_pr_registered(&st, &a1));
	assert_true(tdm_pr_registered(&st, &a3));
	/* a key change through any port changes the group */
	assert_int_equal(op(&st, &a3, TDM_PR_REGISTER, 0, K1, K3, 0),
			 TDM_SR_OK);
	for (n = 1; n < st.nregs; n++)
		assert_true(st.regs[n].key == K3 && st.regs[n].all_tg_pt);
	/* the group holds the reservation through every port */
	assert_int_equal(op(&st, &a1, TDM_PR_RESERVE, TDM_PR_WE, K3, 0, 0),
			 TDM_SR_OK);
	assert_int_equal(check(&st, &a3, 0), TDM_SR_OK);
	assert_int_equal(check(&st, &b1, 0), TDM_SR_RESERVATION_CONFLICT);
	assert_int_equal(op(&st, &a2, TDM_PR_RESERVE, TDM_PR_WE, K3, 0, 0),
			 TDM_SR_OK);
	/* READ FULL STATUS: b's descriptor and ONE for a's ALL_TG_PT group
	 * (spc4r37 6.16.5), holder, with the port of its first
	 * registration; READ KEYS lists every I_T nexus */
	n = tdm_pr_in_read_full_status(&st, buf, sizeof(buf));
	assert_true(n < sizeof(buf));
	assert_int_equal(tdm_get_be32(buf + 4), n - 8);
	off = 8;
	for (size_t i = 0; i < 2; i++) {
		struct tdm_pr_tid_err e;
		struct tdm_pr_tid t;
		size_t used, dl = tdm_get_be32(buf + off + 20);

		assert_true(tdm_get_be64(buf + off) == (i ? K3 : K2));
		assert_int_equal(buf[off + 12], i ? 0x03 : 0x00);
		assert_int_equal(buf[off + 13], i ? TDM_PR_WE : 0);
		assert_int_equal(tdm_get_be16(buf + off + 18),
				 st.regs[i].rel_port);
		assert_int_equal(
			tdm_pr_tid_decode(buf + off + 24, dl, &t, &used, &e),
			0);
		assert_int_equal(used, dl);
		assert_true(tdm_pr_tid_equal(&t, &st.regs[i].tid));
		off += 24 + dl;
	}
	assert_int_equal(off, n);
	assert_int_equal(tdm_get_be32(buf + 4), n - 8);
	n = tdm_pr_in_read_keys(&st, buf, sizeof(buf));
	assert_int_equal(tdm_get_be32(buf + 4), 4 * 8);
	/* all registrants: every registrant is a holder, scope and type in
	 * each descriptor; still one descriptor for the group */
	assert_int_equal(op(&st, &a2, TDM_PR_RELEASE, TDM_PR_WE, K3, 0, 0),
			 TDM_SR_OK);
	assert_int_equal(op(&st, &a1, TDM_PR_RESERVE, TDM_PR_EA_AR, K3, 0, 0),
			 TDM_SR_OK);
	n = tdm_pr_in_read_full_status(&st, buf, sizeof(buf));
	off = 8;
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(buf[off + 12], i ? 0x03 : 0x01);
		assert_int_equal(buf[off + 13], TDM_PR_EA_AR);
		off += 24 + tdm_get_be32(buf + off + 20);
	}
	assert_int_equal(off, n);
	/* READ RESERVATION of an all registrants one: key zero (6.16.3) */
	assert_int_equal(read_res(&st, &rt), 0);
	assert_int_equal(rt, TDM_PR_EA_AR);
	assert_int_equal(op(&st, &a1, TDM_PR_RELEASE, TDM_PR_EA_AR, K3, 0, 0),
			 TDM_SR_OK);
	assert_int_equal(op(&st, &a2, TDM_PR_RESERVE, TDM_PR_WE, K3, 0, 0),
			 TDM_SR_OK);
	/* unregistering through one port unregisters the group, and the
	 * reservation with it */
	assert_int_equal(op(&st, &a3, TDM_PR_REGISTER, 0, K3, 0, 0), TDM_SR_OK);
	assert_int_equal(st.nregs, 1);
	assert_false(st.reserved);
	assert_int_equal(tdm_pr_state_check(&st), 0);
	tdm_pr_state_free(&st);
}

/* Build a PERSISTENT RESERVE OUT parameter list with SPEC_I_PT. */
static size_t spec_list(uint8_t *p, uint64_t sakey, uint8_t b20,
			const uint8_t *tids, size_t tlen)
{
	memset(p, 0, 28);
	tdm_put_be64(p + 8, sakey);
	p[20] = b20;
	tdm_put_be32(p + 24, (uint32_t)tlen);
	memcpy(p + 28, tids, tlen);
	return 28 + tlen;
}

static size_t iscsi_tid(uint8_t *p, const char *s, int fmt)
{
	size_t n = strlen(s) + 1, addl = (n + 3) & ~(size_t)3;

	if (addl < 20)
		addl = 20;
	memset(p, 0, 4 + addl);
	p[0] = (uint8_t)(fmt << 6 | 5);
	tdm_put_be16(p + 2, (uint16_t)addl);
	memcpy(p + 4, s, n - 1);
	return 4 + addl;
}

static void test_spec_i_pt(void **unused)
{
	struct tdm_pr_state st;
	struct tdm_pr_nexus a = nexus(0, 1), b = nexus(1, 1), b2 = nexus(1, 2),
			    c = nexus(2, 1);
	uint8_t tids[512], param[600], cdb[10] = {0x5F, TDM_PR_REGISTER};
	struct tdm_sense_info info;
	struct tdm_pr_op o;
	size_t t = 0, t2, t3, len;
	uint8_t *sas, *srp;

	/* b as an initiator device (00b), c as a port (01b), SAS, SRP */
	t += iscsi_tid(tids + t, "iqn.2026-11.org.tandem:ini1", 0);
	t2 = t;
	t += iscsi_tid(tids + t, "iqn.2026-11.org.tandem:ini2,i,0x400001370002",
		       1);
	t3 = t;
	sas = tids + t;
	memset(sas, 0, 24);
	sas[0] = 6;
	memcpy(sas + 4, "\x50\x01\x02\x03\x04\x05\x06\x07", 8);
	t += 24;
	srp = tids + t;
	memset(srp, 0, 24);
	srp[0] = 4;
	memset(srp + 8, 0xAB, 16);
	t += 24;
	len = spec_list(param, K1, 0x08, tids, t);
	assert_int_equal(tdm_pr_out_decode(cdb, param, len, &o, &info),
			 TDM_SR_OK);
	assert_int_equal(o.ntids, 4);
	assert_true(o.flags & TDM_PR_F_SPEC_I_PT);

	tdm_pr_state_init(&st);
	assert_int_equal(apply(&st, &o, &a), TDM_SR_OK);
	assert_int_equal(st.nregs, 5);
	assert_true(tdm_pr_registered(&st, &b));
	assert_false(tdm_pr_registered(&st, &b2)); /* only the receiving port */
	assert_true(tdm_pr_registered(&st, &c));
	/* 00b names every ISID of the initiator */
	{
		struct tdm_pr_nexus bx = b;

		bx.tid.isid[5] = 0x99;
		assert_true(tdm_pr_registered(&st, &bx));
		bx = c;
		bx.tid.isid[5] = 0x99;
		assert_false(tdm_pr_registered(&st, &bx));
	}
	/* registered nexus with SPEC_I_PT: invalid field */
	assert_int_equal(apply(&st, &o, &b),
			 TDM_SR_RESERVATION_CONFLICT); /* key mismatch first */
	o.key = K1;
	assert_int_equal(apply(&st, &o, &b),
			 TDM_SR_INVALID_FIELD_IN_PARAM_LIST);
	assert_int_equal(R.info.sks_field, 20);
	assert_int_equal(R.info.sks_bit, 3);
	tdm_pr_op_free(&o);
	assert_int_equal(tdm_pr_state_check(&st), 0);
	tdm_pr_state_free(&st);

	/* with ALL_TG_PT: every listed port on every target port */
	len = spec_list(param, K1, 0x0C, tids, t);
	assert_int_equal(tdm_pr_out_decode(cdb, param, len, &o, &info),
			 TDM_SR_OK);
	tdm_pr_state_init(&st);
	assert_int_equal(apply(&st, &o, &a), TDM_SR_OK);
	assert_int_equal(st.nregs, 15);
	assert_true(tdm_pr_registered(&st, &b2));
	tdm_pr_op_free(&o);
	tdm_pr_state_free(&st);

	/* decode errors */
	len = spec_list(param, K1, 0x08, tids, t);
	assert_int_equal(tdm_pr_out_decode(cdb, param, len - 4, &o, &info),
			 TDM_SR_PARAM_LIST_LENGTH_ERROR);
	tdm_put_be32(param + 24, (uint32_t)t + 4);
	assert_int_equal(tdm_pr_out_decode(cdb, param, len, &o, &info),
			 TDM_SR_PARAM_LIST_LENGTH_ERROR);
	len = spec_list(param, K1, 0x08, tids, t);
	param[28 + 2] = 0;
	param[28 + 3] = 13; /* additional length not a multiple of 4 */
	assert_int_equal(tdm_pr_out_decode(cdb, param, len, &o, &info),
			 TDM_SR_INVALID_FIELD_IN_PARAM_LIST);
	assert_int_equal(info.sks_field, 30);
	len = spec_list(param, K1, 0x08, tids, t);
	param[28 + t2 + 4 + 27] = ';'; /* the separator of the 01b one */
	assert_int_equal(tdm_pr_out_decode(cdb, param, len, &o, &info),
			 TDM_SR_INVALID_FIELD_IN_PARAM_LIST);
	assert_int_equal(info.sks_field, 28 + t2 + 4 + 27);
	len = spec_list(param, K1, 0x08, tids, t);
	param[28 + t3] = 0x0A; /* not a protocol we take */
	assert_int_equal(tdm_pr_out_decode(cdb, param, len, &o, &info),
			 TDM_SR_INVALID_FIELD_IN_PARAM_LIST);
	assert_int_equal(info.sks_field, 28 + t3);
	assert_int_equal(info.sks_bit, 3); /* PROTOCOL IDENTIFIER */
	len = spec_list(param, K1, 0x08, tids, t);
	param[28 + t3] = 0x46; /* SAS with format 01b */
	assert_int_equal(tdm_pr_out_decode(cdb, param, len, &o, &info),
			 TDM_SR_INVALID_FIELD_IN_PARAM_LIST);
	assert_int_equal(info.sks_field, 28 + t3);
	assert_int_equal(info.sks_bit, 7); /* FORMAT CODE */
	/* SPEC_I_PT is for REGISTER only */
	len = spec_list(param, K1, 0x08, tids, t);
	cdb[1] = TDM_PR_REGISTER_AND_IGNORE;
	assert_int_equal(tdm_pr_out_decode(cdb, param, len, &o, &info),
			 TDM_SR_INVALID_FIELD_IN_PARAM_LIST);
	assert_int_equal(info.sks_field, 20);
	assert_int_equal(info.sks_bit, 3);
}

static void test_decode(void **unused)
{
	uint8_t cdb[10] = {0x5F, TDM_PR_RESERVE, 0x03}, p[64];
	struct tdm_sense_info info;
	struct tdm_pr_op o;

	memset(p, 0, sizeof(p));
	tdm_put_be64(p, K1);
	tdm_put_be64(p + 8, K2);
	p[20] = 0x05; /* ALL_TG_PT, APTPL: ignored for RESERVE */
	assert_int_equal(tdm_pr_out_decode(cdb, p, 24, &o, &info), TDM_SR_OK);
	assert_int_equal(o.sa, TDM_PR_RESERVE);
	assert_int_equal(o.type, TDM_PR_EA);
	assert_int_equal(o.scope, 0);
	assert_true(o.key == K1 && o.sa_key == K2);
	assert_int_equal(o.flags, 0);
	cdb[1] = TDM_PR_REGISTER;
	assert_int_equal(tdm_pr_out_decode(cdb, p, 24, &o, &info), TDM_SR_OK);
	assert_int_equal(o.flags, TDM_PR_F_ALL_TG_PT | TDM_PR_F_APTPL);
	/* length: 24 exactly */
	assert_int_equal(tdm_pr_out_decode(cdb, p, 23, &o, &info),
			 TDM_SR_PARAM_LIST_LENGTH_ERROR);
	assert_int_equal(tdm_pr_out_decode(cdb, p, 28, &o, &info),
			 TDM_SR_PARAM_LIST_LENGTH_ERROR);
	/* reserved bits */
	p[20] = 0x10;
	assert_int_equal(tdm_pr_out_decode(cdb, p, 24, &o, &info),
			 TDM_SR_INVALID_FIELD_IN_PARAM_LIST);
	assert_int_equal(info.sks_field, 20);
	assert_int_equal(info.sks_bit, 4);
	p[20] = 0x02;
	assert_int_equal(tdm_pr_out_decode(cdb, p, 24, &o, &info),
			 TDM_SR_INVALID_FIELD_IN_PARAM_LIST);
	assert_int_equal(info.sks_bit, 1);
	p[20] = 0;
	p[21] = 0x80;
	assert_int_equal(tdm_pr_out_decode(cdb, p, 24, &o, &info),
			 TDM_SR_INVALID_FIELD_IN_PARAM_LIST);
	assert_int_equal(info.sks_field, 21);
	p[21] = 0;
	cdb[1] = 0x20 | TDM_PR_REGISTER;
	assert_int_equal(tdm_pr_out_decode(cdb, p, 24, &o, &info),
			 TDM_SR_INVALID_FIELD_IN_CDB);
	assert_true(info.sks_cd);
	assert_int_equal(info.sks_field, 1);
	assert_int_equal(info.sks_bit, 5);
	cdb[1] = 0x08;
	assert_int_equal(tdm_pr_out_decode(cdb, p, 24, &o, &info),
			 TDM_SR_INVALID_FIELD_IN_CDB);
	assert_int_equal(info.sks_bit, 4);
	cdb[1] = 0;
	cdb[4] = 1;
	assert_int_equal(tdm_pr_out_decode(cdb, p, 24, &o, &info),
			 TDM_SR_INVALID_FIELD_IN_CDB);
	assert_int_equal(info.sks_field, 4);
}

/* REGISTER AND MOVE parameter list */
static size_t move_list(uint8_t *p, uint64_t key, uint64_t sakey, uint8_t b17,
			uint16_t port, const char *tid, int fmt)
{
	size_t t;

	memset(p, 0, 24);
	tdm_put_be64(p, key);
	tdm_put_be64(p + 8, sakey);
	p[17] = b17;
	tdm_put_be16(p + 18, port);
	t = iscsi_tid(p + 24, tid, fmt);
	tdm_put_be32(p + 20, (uint32_t)t);
	return 24 + t;
}

static int move(struct tdm_pr_state *st, const struct tdm_pr_nexus *nx,
		uint64_t key, uint64_t sakey, uint8_t b17, uint16_t port,
		const char *tid)
{
	uint8_t cdb[10] = {0x5F, TDM_PR_REGISTER_AND_MOVE, 0x01}, p[300];
	struct tdm_sense_info info;
	struct tdm_pr_op o;
	size_t len = move_list(p, key, sakey, b17, port, tid, 1);
	int sr;

	sr = tdm_pr_out_decode(cdb, p, len, &o, &info);
	assert_int_equal(sr, TDM_SR_OK);
	sr = apply(st, &o, nx);
	tdm_pr_op_free(&o);
	return sr;
}

static void test_register_and_move(void **unused)
{
	struct tdm_pr_state st;
	struct tdm_pr_nexus a = nexus(0, 1), b = nexus(1, 1), c3 = nexus(2, 3);
	const char *bt = "iqn.2026-11.org.tandem:ini1,i,0x400001370001";
	const char *ct = "iqn.2026-11.org.tandem:ini2,i,0x400001370002";
	const char *at = "iqn.2026-11.org.tandem:ini0,i,0x400001370000";
	uint8_t rt;
	uint32_t gen;

	tdm_pr_state_init(&st);
	reg(&st, &a, K1);
	reg(&st, &b, K2);
	/* no reservation: a is not a holder */
	assert_int_equal(move(&st, &a, K1, K3, 0, 3, ct),
			 TDM_SR_RESERVATION_CONFLICT);
	assert_int_equal(op(&st, &a, TDM_PR_RESERVE, TDM_PR_WE_RO, K1, 0, 0),
			 TDM_SR_OK);
	assert_int_equal(move(&st, &b, K2, K3, 0, 3, ct),
			 TDM_SR_RESERVATION_CONFLICT); /* not the holder */
	assert_int_equal(move(&st, &a, K2, K3, 0, 3, ct),
			 TDM_SR_RESERVATION_CONFLICT); /* wrong key */
	assert_int_equal(move(&st, &a, K1, 0, 0, 3, ct),
			 TDM_SR_INVALID_FIELD_IN_PARAM_LIST);
	assert_int_equal(R.info.sks_field, 8);
	assert_int_equal(move(&st, &a, K1, K3, 0, 9, ct),
			 TDM_SR_INVALID_FIELD_IN_PARAM_LIST);
	assert_int_equal(R.info.sks_field, 18);
	assert_int_equal(move(&st, &a, K1, K3, 0, 2, at),
			 TDM_SR_INVALID_FIELD_IN_PARAM_LIST); /* to itself */
	gen = st.generation;
	/* to a new I_T nexus, keeping a registered */
	assert_int_equal(move(&st, &a, K1, K3, 0, 3, ct), TDM_SR_OK);
	assert_int_equal(st.generation, gen + 1);
	assert_int_equal(read_res(&st, &rt), (int64_t)K3);
	assert_int_equal(rt, TDM_PR_WE_RO); /* type kept (CDB's ignored) */
	assert_true(tdm_pr_registered(&st, &c3));
	assert_true(tdm_pr_registered(&st, &a));
	assert_int_equal(check(&st, &c3, 0), TDM_SR_OK);
	/* to a registered one (its key replaced), unregistering c */
	assert_int_equal(move(&st, &c3, K3, K4, 0x02, 1, bt), TDM_SR_OK);
	assert_int_equal(read_res(&st, &rt), (int64_t)K4);
	assert_false(tdm_pr_registered(&st, &c3));
	assert_int_equal(st.nregs, 2);
	/* all registrants cannot move */
	assert_int_equal(op(&st, &b, TDM_PR_RELEASE, TDM_PR_WE_RO, K4, 0, 0),
			 TDM_SR_OK);
	assert_int_equal(op(&st, &b, TDM_PR_RESERVE, TDM_PR_WE_AR, K4, 0, 0),
			 TDM_SR_OK);
	assert_int_equal(move(&st, &b, K4, K3, 0, 3, ct),
			 TDM_SR_RESERVATION_CONFLICT);
	assert_int_equal(tdm_pr_state_check(&st), 0);
	tdm_pr_state_free(&st);
}

static void test_generation_wraps(void **unused)
{
	struct tdm_pr_state st;
	struct tdm_pr_nexus a = nexus(0, 1);

	tdm_pr_state_init(&st);
	st.generation = 0xFFFFFFFFu;
	reg(&st, &a, K1);
	assert_int_equal(st.generation, 0);
	/* failures do not count */
	assert_int_equal(op(&st, &a, TDM_PR_REGISTER, 0, K2, K3, 0),
			 TDM_SR_RESERVATION_CONFLICT);
	assert_int_equal(st.generation, 0);
	tdm_pr_state_free(&st);
}

static void test_report_caps(void **unused)
{
	struct tdm_pr_state st;
	uint8_t b[8];

	tdm_pr_state_init(&st);
	assert_int_equal(tdm_pr_in_report_caps(&st, 2, b, sizeof(b)), 8);
	assert_int_equal(tdm_get_be16(b), 8);
	assert_int_equal(b[2], 0x0D); /* SIP_C ATP_C PTPL_C, CRH=0 */
	assert_int_equal(b[3], 0xA0); /* TMV, ALLOW COMMANDS 010b */
	assert_int_equal(b[4], 0xEA);
	assert_int_equal(b[5], 0x01);
	st.aptpl = true;
	tdm_pr_in_report_caps(&st, 2, b, sizeof(b));
	assert_int_equal(b[3], 0xA1); /* PTPL_A */
	assert_int_equal(tdm_pr_in_report_caps(&st, 2, b, 2), 8);
}

/* Decode len bytes that must fail with -EINVAL at byte/bit. */
static void tid_bad(const uint8_t *b, size_t len, size_t byte, int bit)
{
	struct tdm_pr_tid_err e;
	struct tdm_pr_tid u;
	size_t used;

	assert_int_equal(tdm_pr_tid_decode(b, len, &u, &used, &e), -EINVAL);
	assert_int_equal(e.byte, byte);
	assert_int_equal(e.bit, bit);
}

/* Decode len bytes that must be one whole TransportID. */
static void tid_dec(const uint8_t *b, size_t len, struct tdm_pr_tid *u)
{
	struct tdm_pr_tid_err e;
	size_t used = 0;

	assert_int_equal(tdm_pr_tid_decode(b, len, u, &used, &e), 0);
	assert_int_equal(used, len);
}

static void test_tid_iscsi(void **unused)
{
	uint8_t b[300], e[300];
	struct tdm_pr_tid t, u, v;
	struct tdm_pr_tid_err err;
	size_t used, n;
	char name[300];
	static const uint8_t isid[6] = {0x40, 0, 0x01, 0x37, 0xAB, 0xCD};

	/* 01b round trip, lower-case hex, padded to four */
	assert_int_equal(tdm_pr_tid_iscsi(&t, "iqn.x:a", isid), 0);
	n = tdm_pr_tid_encode(&t, b, sizeof(b));
	assert_int_equal(n % 4, 0);
	assert_int_equal(b[0], 0x45);
	assert_string_equal((char *)b + 4, "iqn.x:a,i,0x40000137abcd");
	tid_dec(b, n, &u);
	assert_true(tdm_pr_tid_equal(&t, &u));
	assert_int_equal(tdm_pr_tid_name(&u, name, sizeof(name)), 24);
	assert_string_equal(name, "iqn.x:a,i,0x40000137abcd");
	/* a short buffer for the name: cut, terminated, full length told */
	assert_int_equal(tdm_pr_tid_name(&u, name, 8), 24);
	assert_string_equal(name, "iqn.x:a");
	/* upper-case hex and name case do not matter */
	n = iscsi_tid(e, "IQN.X:A,i,0x40000137ABCD", 1);
	tid_dec(e, n, &u);
	assert_true(tdm_pr_tid_equal(&t, &u));
	/* another ISID is another initiator port */
	n = iscsi_tid(e, "iqn.x:a,i,0x40000137abce", 1);
	tid_dec(e, n, &v);
	assert_false(tdm_pr_tid_equal(&t, &v));
	assert_false(tdm_pr_tid_match(&t, &v));
	/* 00b: at least 20 bytes of name; names every ISID of it */
	t.fmt = 0;
	n = tdm_pr_tid_encode(&t, b, sizeof(b));
	assert_int_equal(n, 24);
	tid_dec(b, n, &u);
	assert_true(tdm_pr_tid_equal(&t, &u));
	assert_false(tdm_pr_tid_equal(&u, &v)); /* 00b is not 01b */
	assert_true(tdm_pr_tid_match(&u, &v));
	assert_true(tdm_pr_tid_match(&v, &u));
	assert_int_equal(tdm_pr_tid_name(&u, name, sizeof(name)), 7);
	assert_string_equal(name, "iqn.x:a");
	/* a short buffer: length error, not a field error */
	assert_int_equal(tdm_pr_tid_decode(b, n - 1, &u, &used, &err),
			 -EMSGSIZE);
	assert_int_equal(tdm_pr_tid_decode(b, 3, &u, &used, &err), -EMSGSIZE);
	/* ADDITIONAL LENGTH zero or not a multiple of four */
	tdm_put_be16(b + 2, 0);
	tid_bad(b, n, 2, 7);
	tdm_put_be16(b + 2, 18);
	tid_bad(b, n, 2, 7);
	tdm_put_be16(b + 2, 20);
	/* not terminated */
	memset(b + 4, 'a', 20);
	tid_bad(b, n, 4, 7);
	/* 01b without an ISID, with a bad separator, a bad hex digit */
	n = iscsi_tid(e, "iqn.x:a", 1);
	tid_bad(e, n, 4, 7);
	n = iscsi_tid(e, "iqn.x:a;i,0x400001370000", 1);
	tid_bad(e, n, 4 + 7, 7);
	n = iscsi_tid(e, "iqn.x:a,i,0x4000013700zz", 1);
	tid_bad(e, n, 4 + 7 + 5 + 10, 7);
	/* formats 10b and 11b; reserved bits 5 and 4 */
	n = iscsi_tid(e, "iqn.x:a", 0);
	e[0] = 0x85;
	tid_bad(e, n, 0, 7);
	e[0] = 0xC5;
	tid_bad(e, n, 0, 7);
	e[0] = 0x25;
	tid_bad(e, n, 0, 5);
	e[0] = 0x15;
	tid_bad(e, n, 0, 4);
	/* a UTF-8 name is a name (SPC-4 7.6.4.6); white space and control
	 * characters are not */
	n = iscsi_tid(e, "iqn.x:caf\xc3\xa9", 0);
	tid_dec(e, n, &u);
	assert_int_equal(u.len, 11);
	n = iscsi_tid(e, "iqn.x:a b", 0);
	tid_bad(e, n, 4, 7);
	n = iscsi_tid(e, "iqn.x:a\x7f", 0);
	tid_bad(e, n, 4, 7);
	assert_int_equal(tdm_pr_tid_iscsi(&u, "iqn.x:a\tb", isid), -EINVAL);
	/* RFC 7143 4.2.7.1: at most 223 bytes */
	memset(name, 'a', 224);
	memcpy(name, "iqn.", 4);
	name[223] = '\0';
	assert_int_equal(tdm_pr_tid_iscsi(&u, name, isid), 0);
	n = tdm_pr_tid_encode(&u, b, sizeof(b));
	assert_int_equal(n, TDM_TID_MAX); /* the longest there is */
	tid_dec(b, n, &v);
	assert_true(tdm_pr_tid_equal(&u, &v));
	assert_int_equal(tdm_pr_tid_encode(&u, b, n - 1), n); /* not written */
	name[223] = 'a';
	name[224] = '\0';
	assert_int_equal(tdm_pr_tid_iscsi(&u, name, isid), -EINVAL);
	n = iscsi_tid(e, name, 0);
	tid_bad(e, n, 4, 7);
	assert_int_equal(tdm_pr_tid_iscsi(&u, "", isid), -EINVAL);
}

/* The 24-byte TransportIDs: where each protocol keeps its identifier
 * (SPC-4 7.6.4.2 FC, 7.6.4.5 SRP, 7.6.4.7 SAS). */
static void test_tid_binary(void **unused)
{
	static const struct {
		uint8_t proto;
		size_t off, len;
		const char *name;
	} f[] = {
		{TDM_PROTO_FC, 8, 8, "0x2100001b32a1b2c3"},
		{TDM_PROTO_SRP, 8, 16, "0xfe800000000000000002c90300a1b2c3"},
		{TDM_PROTO_SAS, 4, 8, "0x5000c50012345678"},
	};
	static const uint8_t ids[][16] = {
		{0x21, 0x00, 0x00, 0x1b, 0x32, 0xa1, 0xb2, 0xc3},
		{0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x00, 0x02, 0xc9, 0x03, 0x00,
		 0xa1, 0xb2, 0xc3},
		{0x50, 0x00, 0xc5, 0x00, 0x12, 0x34, 0x56, 0x78},
	};
	struct tdm_pr_tid t, u, w;
	struct tdm_pr_tid_err err;
	uint8_t b[64], e[24];
	char name[64];
	size_t used;

	for (size_t i = 0; i < 3; i++) {
		/* encode: byte 0 the protocol, format 00b, the identifier
		 * at its place, the rest zero */
		assert_int_equal(
			tdm_pr_tid_port(&t, f[i].proto, ids[i], f[i].len), 0);
		assert_int_equal(tdm_pr_tid_encode(&t, b, sizeof(b)), 24);
		memset(e, 0, sizeof(e));
		e[0] = f[i].proto;
		memcpy(e + f[i].off, ids[i], f[i].len);
		assert_memory_equal(b, e, 24);
		/* decode, compare */
		tid_dec(b, 24, &u);
		assert_int_equal(u.proto, f[i].proto);
		assert_int_equal(u.len, f[i].len);
		assert_true(tdm_pr_tid_equal(&t, &u));
		assert_true(tdm_pr_tid_match(&t, &u));
		assert_int_equal(tdm_pr_tid_name(&u, name, sizeof(name)),
				 strlen(f[i].name));
		assert_string_equal(name, f[i].name);
		/* one bit of the identifier: another port */
		b[f[i].off + f[i].len - 1] ^= 1;
		tid_dec(b, 24, &w);
		assert_false(tdm_pr_tid_equal(&t, &w));
		assert_false(tdm_pr_tid_match(&t, &w));
		/* the same bytes under another protocol: another port */
		w = u;
		w.proto = f[(i + 1) % 3].proto;
		assert_false(tdm_pr_tid_match(&u, &w));
		/* a short TransportID: length error */
		assert_int_equal(tdm_pr_tid_decode(e, 23, &w, &used, &err),
				 -EMSGSIZE);
		/* one format only: 00b */
		e[0] = (uint8_t)(0x40 | f[i].proto);
		tid_bad(e, 24, 0, 7);
		/* identifiers of the wrong length, and iSCSI, are refused */
		assert_int_equal(tdm_pr_tid_port(&w, f[i].proto, ids[i],
						 f[i].len == 8 ? 16 : 8),
				 -EINVAL);
	}
	assert_int_equal(tdm_pr_tid_port(&w, TDM_PROTO_ISCSI, ids[0], 8),
			 -EINVAL);
	assert_int_equal(tdm_pr_tid_port(&w, TDM_PROTO_NONE, ids[0], 8),
			 -EINVAL);
	/* SPC-4 table 444: the protocols without a TransportID here (SPI,
	 * SSA, SBP, ADT, ATA, UAS, SOP, none) */
	for (uint8_t p = 0; p < 16; p++) {
		if (p == TDM_PROTO_FC || p == TDM_PROTO_SRP ||
		    p == TDM_PROTO_ISCSI || p == TDM_PROTO_SAS)
			continue;
		memset(e, 0, sizeof(e));
		e[0] = p;
		tid_bad(e, 24, 0, 3);
	}
}

/* What a port cannot have: TransportIDs of another protocol than the
 * receiving port's (tdm_pr_out_check_tids()). */
static void test_out_check_tids(void **unused)
{
	uint8_t tids[128], param[200], cdb[10] = {0x5F, TDM_PR_REGISTER};
	struct tdm_pr_nexus a = nexus(0, 1);
	struct tdm_sense_info info;
	struct tdm_pr_op o;
	struct tdm_pr_tid fc;
	uint8_t *x;
	size_t t = 0, t2, len;

	/* an iSCSI one, then a FC one */
	t += iscsi_tid(tids + t, "iqn.2026-11.org.tandem:ini1", 0);
	t2 = t;
	x = tids + t;
	memset(x, 0, 24);
	x[0] = TDM_PROTO_FC;
	memcpy(x + 8, "\x21\x00\x00\x1b\x32\xa1\xb2\xc3", 8);
	t += 24;
	len = spec_list(param, K1, 0x08, tids, t);
	assert_int_equal(tdm_pr_out_decode(cdb, param, len, &o, &info),
			 TDM_SR_OK);
	assert_int_equal(o.tid_off[0], 28);
	assert_int_equal(o.tid_off[1], 28 + t2);
	assert_int_equal(tdm_pr_out_check_tids(&o, &a, &info),
			 TDM_SR_INVALID_FIELD_IN_PARAM_LIST);
	assert_true(info.sks_valid);
	assert_false(info.sks_cd);
	assert_int_equal(info.sks_field, 28 + t2);
	assert_int_equal(info.sks_bit, 3);
	tdm_pr_op_free(&o);
	/* with ALL_TG_PT the other target ports may speak FC */
	len = spec_list(param, K1, 0x0C, tids, t);
	assert_int_equal(tdm_pr_out_decode(cdb, param, len, &o, &info),
			 TDM_SR_OK);
	assert_int_equal(tdm_pr_out_check_tids(&o, &a, &info), TDM_SR_OK);
	tdm_pr_op_free(&o);
	/* iSCSI ones only: fine */
	len = spec_list(param, K1, 0x08, tids, t2);
	assert_int_equal(tdm_pr_out_decode(cdb, param, len, &o, &info),
			 TDM_SR_OK);
	assert_int_equal(tdm_pr_out_check_tids(&o, &a, &info), TDM_SR_OK);
	tdm_pr_op_free(&o);
	/* without SPEC_I_PT: nothing to check */
	memset(param, 0, 24);
	tdm_put_be64(param + 8, K1);
	assert_int_equal(tdm_pr_out_decode(cdb, param, 24, &o, &info),
			 TDM_SR_OK);
	assert_int_equal(tdm_pr_out_check_tids(&o, &a, &info), TDM_SR_OK);
	tdm_pr_op_free(&o);
	/* REGISTER AND MOVE to the receiving port: its protocol only; to
	 * another port (maybe another head's): not known here */
	assert_int_equal(tdm_pr_tid_port(&fc, TDM_PROTO_FC, x + 8, 8), 0);
	memset(&o, 0, sizeof(o));
	o.sa = TDM_PR_REGISTER_AND_MOVE;
	o.ntids = 1;
	o.tids = &fc;
	o.move_rel_port = 1;
	assert_int_equal(tdm_pr_out_check_tids(&o, &a, &info),
			 TDM_SR_INVALID_FIELD_IN_PARAM_LIST);
	assert_int_equal(info.sks_field, 24);
	assert_int_equal(info.sks_bit, 3);
	o.move_rel_port = 2;
	assert_int_equal(tdm_pr_out_check_tids(&o, &a, &info), TDM_SR_OK);
	o.tids = &a.tid;
	o.move_rel_port = 1;
	assert_int_equal(tdm_pr_out_check_tids(&o, &a, &info), TDM_SR_OK);
}

/* ---- encoding ---- */

static uint32_t crc32c(const uint8_t *p, size_t n)
{
	uint32_t crc = ~0u;

	while (n--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = crc >> 1 ^ (0x82F63B78u & (0u - (crc & 1)));
	}
	return ~crc;
}

static void sample_state(struct tdm_pr_state *st)
{
	struct tdm_pr_nexus a = nexus(0, 1), b = nexus(1, 2);

	tdm_pr_state_init(st);
	st->generation = 0xFFFFFFF0u;
	reg(st, &a, K1);
	assert_int_equal(op(st, &b, TDM_PR_REGISTER, 0, 0, K2,
			    TDM_PR_F_ALL_TG_PT | TDM_PR_F_APTPL),
			 TDM_SR_OK);
	assert_int_equal(op(st, &a, TDM_PR_RESERVE, TDM_PR_EA_RO, K1, 0, 0),
			 TDM_SR_OK);
}

static void test_encode_roundtrip_and_corruption(void **unused)
{
	struct tdm_pr_state st, d;
	uint8_t buf[4096], buf2[4096], bad[4096];
	size_t n, i;
	int bit;

	sample_state(&st);
	n = encode(&st, buf, sizeof(buf));
	assert_int_equal(tdm_pr_encode(&st, buf, n - 1), 0);
	tdm_pr_state_init(&d);
	assert_int_equal(tdm_pr_decode(buf, n, &d), 0);
	assert_int_equal(encode(&d, buf2, sizeof(buf2)), n);
	assert_memory_equal(buf, buf2, n);
	assert_true(d.aptpl && d.reserved && d.nregs == 4);

	/* every torn length is rejected and leaves d as it was */
	for (i = 0; i < n; i++) {
		assert_int_equal(tdm_pr_decode(buf, i, &d), -EBADMSG);
		assert_int_equal(encode(&d, buf2, sizeof(buf2)), n);
	}
	/* every flipped bit too */
	for (i = 0; i < n; i++) {
		for (bit = 0; bit < 8; bit++) {
			int r;

			memcpy(bad, buf, n);
			bad[i] ^= (uint8_t)(1u << bit);
			r = tdm_pr_decode(bad, n, &d);
			assert_true(r == -EBADMSG || r == -EPROTONOSUPPORT);
		}
	}
	assert_int_equal(encode(&d, buf2, sizeof(buf2)), n);
	assert_memory_equal(buf, buf2, n);
	/* trailing garbage */
	memcpy(bad, buf, n);
	bad[n] = 0;
	assert_int_equal(tdm_pr_decode(bad, n + 1, &d), -EBADMSG);
	/* an unknown version, checksum right: not for us */
	memcpy(bad, buf, n);
	bad[5] = 2;
	tdm_put_be32(bad + n - 4, crc32c(bad, n - 4));
	assert_int_equal(tdm_pr_decode(bad, n, &d), -EPROTONOSUPPORT);
	/* checksum right, state impossible: two holders */
	memcpy(bad, buf, n);
	bad[12 + 12 + 10] |= 4; /* first registration: holder too */
	bad[12 + 12 + 22 + tdm_get_be16(buf + 12 + 12 + 14) + 10] |= 4;
	tdm_put_be32(bad + n - 4, crc32c(bad, n - 4));
	assert_int_equal(tdm_pr_decode(bad, n, &d), -EBADMSG);
	assert_int_equal(encode(&d, buf2, sizeof(buf2)), n);
	assert_memory_equal(buf, buf2, n);
	tdm_pr_state_free(&d);
	tdm_pr_state_free(&st);
}

static void test_files(void **unused)
{
	char dir[] = "/tmp/tandem-test-pr.XXXXXX", sub[128], path[256];
	struct tdm_pr_state st, d;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/state/pr", dir);
	sample_state(&st);
	tdm_pr_state_init(&d);
	assert_int_equal(tdm_pr_file_load(sub, "lu0", &d), -ENOENT);
	assert_int_equal(tdm_pr_file_save(sub, "lu0", &st), 0);
	assert_int_equal(tdm_pr_file_load(sub, "lu0", &d), 0);
	assert_int_equal(d.nregs, st.nregs);
	assert_int_equal(d.generation, st.generation);
	/* no temporary left behind */
	snprintf(path, sizeof(path), "%s/.lu0.tmp", sub);
	assert_int_not_equal(access(path, F_OK), 0);
	/* names that are not file names */
	assert_int_equal(tdm_pr_file_save(sub, "../x", &st), -EINVAL);
	assert_int_equal(tdm_pr_file_save(sub, ".x", &st), -EINVAL);
	/* a torn file: rejected, d untouched */
	snprintf(path, sizeof(path), "%s/lu0", sub);
	assert_int_equal(truncate(path, 30), 0);
	assert_int_equal(tdm_pr_file_load(sub, "lu0", &d), -EBADMSG);
	assert_int_equal(d.nregs, st.nregs);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("garbage", f);
	fclose(f);
	assert_int_equal(tdm_pr_file_load(sub, "lu0", &d), -EBADMSG);
	assert_int_equal(tdm_pr_file_remove(sub, "lu0"), 0);
	assert_int_equal(tdm_pr_file_remove(sub, "lu0"), 0);
	assert_int_equal(tdm_pr_file_load(sub, "lu0", &d), -ENOENT);
	rmdir(sub);
	snprintf(sub, sizeof(sub), "%s/state", dir);
	rmdir(sub);
	rmdir(dir);
	tdm_pr_state_free(&d);
	tdm_pr_state_free(&st);
}

/* ---- randomized: invariants and determinism ---- */

static uint64_t rng;

static uint32_t rnd(uint32_t n)
{
	/* xorshift64* */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (uint32_t)((rng * 0x2545F4914F6CDD1Dull) >> 32) % n;
}

#define NINI 4
#define NPORT 3
static const uint64_t keys[] = {0, K1, K2, K3, K4};

/* A random operation (tids: storage for up to 3 TransportIDs). */
static void random_op(const struct tdm_pr_state *st, struct tdm_pr_op *o,
		      struct tdm_pr_tid *tids, struct tdm_pr_nexus *nx)
{
	static const uint8_t types[] = {TDM_PR_WE,
					TDM_PR_EA,
					TDM_PR_WE_RO,
					TDM_PR_EA_RO,
					TDM_PR_WE_AR,
					TDM_PR_EA_AR,
					2};
	size_t i;

	memset(o, 0, sizeof(*o));
	*nx = nexus((int)rnd(NINI), (uint16_t)(1 + rnd(NPORT)));
	o->sa = (uint8_t)rnd(8);
	o->type = types[rnd(rnd(8) ? 6 : 7)];
	o->key = keys[rnd(5)];
	o->sa_key = keys[rnd(5)];
	/* half the time, the key the sender really has */
	if (rnd(2))
		for (i = 0; i < st->nregs; i++)
			if (st->regs[i].rel_port == nx->rel_port &&
			    tdm_pr_tid_match(&st->regs[i].tid, &nx->tid))
				o->key = st->regs[i].key;
	if (rnd(4) == 0)
		o->flags |= TDM_PR_F_ALL_TG_PT;
	if (rnd(3) == 0)
		o->flags |= TDM_PR_F_APTPL;
	if (o->sa == TDM_PR_REGISTER && rnd(6) == 0) {
		o->flags |= TDM_PR_F_SPEC_I_PT;
		o->ntids = 1 + rnd(3);
	}
	if (o->sa == TDM_PR_REGISTER_AND_MOVE) {
		o->ntids = 1;
		o->move_rel_port = (uint16_t)(1 + rnd(NPORT + 1));
		if (rnd(2))
			o->flags |= TDM_PR_F_UNREG;
	}
	for (i = 0; i < o->ntids; i++) {
		tids[i] = nexus((int)rnd(NINI), 1).tid;
		if (rnd(4) == 0)
			tids[i].fmt = TDM_PR_TID_FMT_NAME;
	}
	o->tids = tids;
}

static void run_random(uint64_t seed, uint32_t gen0, int nops)
{
	struct tdm_pr_state a, b;
	struct tdm_pr_result ra, rb;
	static uint8_t ea[1 << 16], eb[1 << 16], before[1 << 16];
	size_t na, nb, nbefore;
	int i, ok = 0, counts[8] = {0};

	rng = seed;
	tdm_pr_state_init(&a);
	tdm_pr_state_init(&b);
	a.generation = b.generation = gen0;
	for (i = 0; i < nops; i++) {
		struct tdm_pr_op o;
		struct tdm_pr_tid tids[3];
		struct tdm_pr_nexus nx;
		uint32_t g = a.generation;
		int sa, sb;
		size_t j;

		random_op(&a, &o, tids, &nx);
		nbefore = encode(&a, before, sizeof(before));
		sa = tdm_pr_apply(&a, &o, &nx, &PORTS, &ra);
		sb = tdm_pr_apply(&b, &o, &nx, &PORTS, &rb);
		/* determinism: same result, same bytes, same events */
		assert_int_equal(sa, sb);
		na = encode(&a, ea, sizeof(ea));
		nb = encode(&b, eb, sizeof(eb));
		assert_int_equal(na, nb);
		assert_memory_equal(ea, eb, na);
		assert_int_equal(ra.nua, rb.nua);
		assert_int_equal(ra.nabort, rb.nabort);
		for (j = 0; j < ra.nua; j++) {
			assert_int_equal(ra.ua[j].reason, rb.ua[j].reason);
			assert_true(
				tdm_pr_tid_equal(&ra.ua[j].tid, &rb.ua[j].tid));
		}
		/* invariants: one holder at most (none for all
		 * registrants), holder registered, registrations unique by
		 * (TransportID, port), no zero key */
		assert_int_equal(tdm_pr_state_check(&a), 0);
		if (sa == TDM_SR_OK) {
			ok++;
			counts[o.sa]++;
			if (o.sa == TDM_PR_RESERVE || o.sa == TDM_PR_RELEASE)
				assert_int_equal(a.generation, g);
			else
				assert_int_equal(a.generation,
						 (uint32_t)(g + 1));
			if (!ra.changed) {
				assert_int_equal(na, nbefore);
				assert_memory_equal(ea, before, na);
			}
			/* aborts only for PREEMPT AND ABORT, never the
			 * sender's */
			if (o.sa != TDM_PR_PREEMPT_AND_ABORT)
				assert_int_equal(ra.nabort, 0);
			for (j = 0; j < ra.nabort; j++)
				assert_false(ra.abort[j].rel_port ==
						     nx.rel_port &&
					     tdm_pr_tid_match(&ra.abort[j].tid,
							      &nx.tid));
		} else {
			/* a failure changes nothing */
			assert_int_equal(a.generation, g);
			assert_int_equal(na, nbefore);
			assert_memory_equal(ea, before, na);
			assert_int_equal(ra.nua, 0);
			assert_int_equal(ra.nabort, 0);
		}
		/* the encoding decodes to the same bytes */
		if (i % 97 == 0) {
			struct tdm_pr_state d;

			tdm_pr_state_init(&d);
			assert_int_equal(tdm_pr_decode(ea, na, &d), 0);
			assert_int_equal(encode(&d, eb, sizeof(eb)), na);
			assert_memory_equal(ea, eb, na);
			tdm_pr_state_free(&d);
		}
		tdm_pr_result_free(&ra);
		tdm_pr_result_free(&rb);
	}
	/* the run exercised every service action successfully */
	for (i = 0; i < 8; i++)
		assert_true(counts[i] > 0);
	assert_true(ok > nops / 10);
	tdm_pr_state_free(&a);
	tdm_pr_state_free(&b);
}

static void test_random(void **unused)
{
	run_random(0x9E3779B97F4A7C15ull, 0, 20000);
	run_random(42, 0xFFFFFF00u, 5000); /* through the wrap */
	run_random(0xC0FFEEull, 7, 5000);
}

/* Replaying the same sequence from the same state gives the same bytes,
 * also starting from a decoded snapshot (a joining head). */
static void test_replay_from_snapshot(void **unused)
{
	struct tdm_pr_state a, b;
	uint8_t snap[1 << 16], ea[1 << 16], eb[1 << 16];
	size_t n, na, nb;
	int i;

	rng = 1234;
	tdm_pr_state_init(&a);
	for (i = 0; i < 2000; i++) {
		struct tdm_pr_op o;
		struct tdm_pr_tid tids[3];
		struct tdm_pr_nexus nx;
		struct tdm_pr_result r;

		random_op(&a, &o, tids, &nx);
		tdm_pr_apply(&a, &o, &nx, &PORTS, &r);
		tdm_pr_result_free(&r);
	}
	n = encode(&a, snap, sizeof(snap));
	tdm_pr_state_init(&b);
	assert_int_equal(tdm_pr_decode(snap, n, &b), 0);
	for (i = 0; i < 2000; i++) {
		struct tdm_pr_op o;
		struct tdm_pr_tid tids[3];
		struct tdm_pr_nexus nx;
		struct tdm_pr_result r, r2;

		random_op(&a, &o, tids, &nx);
		assert_int_equal(tdm_pr_apply(&a, &o, &nx, &PORTS, &r),
				 tdm_pr_apply(&b, &o, &nx, &PORTS, &r2));
		tdm_pr_result_free(&r);
		tdm_pr_result_free(&r2);
	}
	na = encode(&a, ea, sizeof(ea));
	nb = encode(&b, eb, sizeof(eb));
	assert_int_equal(na, nb);
	assert_memory_equal(ea, eb, na);
	tdm_pr_state_free(&a);
	tdm_pr_state_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_register),
		cmocka_unit_test(test_reserve_release),
		cmocka_unit_test(test_type_scope_checks),
		cmocka_unit_test(test_conflict_table),
		cmocka_unit_test(test_unregister_holder),
		cmocka_unit_test(test_clear),
		cmocka_unit_test(test_preempt_registrations),
		cmocka_unit_test(test_preempt_reservation),
		cmocka_unit_test(test_all_tg_pt),
		cmocka_unit_test(test_spec_i_pt),
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_register_and_move),
		cmocka_unit_test(test_generation_wraps),
		cmocka_unit_test(test_report_caps),
		cmocka_unit_test(test_tid_iscsi),
		cmocka_unit_test(test_tid_binary),
		cmocka_unit_test(test_out_check_tids),
		cmocka_unit_test(test_encode_roundtrip_and_corruption),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_replay_from_snapshot),
	};
	int r = cmocka_run_group_tests(tests, NULL, NULL);

	tdm_pr_result_free(&R);
	return r ? 1 : 0;
}
