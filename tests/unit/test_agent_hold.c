/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * test_agent_hold.c - tandem-agentd's fencing hold (agentd/hold.c) and
 * the FENCED cluster message (agentd/cluster_msg.c): a shrink by a
 * failed member starts the hold, the actions that reach tandemd are
 * queued in order (REJECTs and SYNC-INFO are not), FENCED releases them,
 * a clean leave holds nothing, a second shrink while holding, a departed
 * member that joins again before it is fenced, a group below version 5,
 * stale and duplicate FENCED, this member leaving, the join time a fence
 * is compared with; FENCED's codec, positive and negative; and the hold
 * fed with the sync module's real actions (sync.c) as the daemon does: a
 * STABLE due after a member failed, and an operation delivered after it,
 * held and released in order at FENCED.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "agentd/cluster_msg.h"
#include "agentd/hold.h"
#include "agentd/sync.h"

static const uint32_t m123[] = {1, 2, 3}, m12[] = {1, 2},
		      m1234[] = {1, 2, 3, 4};

/* this member (1) joins {1,2,3} at wall 100, then node 3 leaves */
static void start(struct tdm_hold *h, enum tdm_hold_why why, uint16_t version)
{
	struct tdm_hold_left l = {3, why};

	tdm_hold_init(h);
	assert_int_equal(
		tdm_hold_confchg(h, 1, m123, 3, NULL, 0, 0, 11, 0, 100), 0);
	assert_false(tdm_hold_active(h));
	tdm_hold_confchg(h, 1, m12, 2, &l, 1, version, 22, 5000, 200);
}

static struct tdm_sync_act act(enum tdm_sync_act_type type, const char *s,
			       uint64_t seq)
{
	struct tdm_sync_act a;

	memset(&a, 0, sizeof(a));
	a.type = type;
	a.data = (const uint8_t *)s;
	a.len = s ? strlen(s) + 1 : 0;
	a.seq = seq;
	return a;
}

static void test_shrink_holds_and_fenced_releases(void **state)
{
	struct tdm_hold h;
	struct tdm_sync_act a1 = act(TDM_SYNC_APPLY, "op1", 7),
			    a2 = act(TDM_SYNC_APPLY, "op2", 8),
			    st = act(TDM_SYNC_STABLE, NULL, 8),
			    get = act(TDM_SYNC_SNAPSHOT_GET, NULL, 8),
			    lost = act(TDM_SYNC_LOST, NULL, 0),
			    info = act(TDM_SYNC_SEND_INFO, NULL, 0);
	struct tdm_cmsg_fenced f = {.nodeid = 3, .how = 1, .conf = 22};

	(void)state;
	start(&h, TDM_HOLD_NODEDOWN, 5);
	assert_true(tdm_hold_active(&h));
	assert_int_equal(h.ndep, 1);
	assert_int_equal(h.dep[0].nodeid, 3);
	assert_int_equal(h.dep[0].why, TDM_HOLD_NODEDOWN);
	assert_int_equal(h.dep[0].conf, 22);
	assert_int_equal(h.dep[0].left_ms, 5000);
	assert_int_equal(h.dep[0].joined_wall, 100);
	assert_int_equal(h.since_ms, 5000);
	/* held, in order; rejects and SYNC-INFO go at once */
	assert_int_equal(tdm_hold_take(&h, &info), 0);
	assert_int_equal(tdm_hold_take(&h, &a1), 1);
	assert_int_equal(tdm_hold_take(&h, &lost), 0);
	assert_int_equal(tdm_hold_take(&h, &a2), 1);
	assert_int_equal(tdm_hold_take(&h, &st), 1);
	assert_int_equal(tdm_hold_take(&h, &get), 1);
	assert_false(tdm_hold_releasable(&h));
	/* a FENCED of another node, or of another departure: ignored */
	f.nodeid = 2;
	assert_false(tdm_hold_fenced(&h, &f));
	f.nodeid = 3;
	f.conf = 21;
	assert_false(tdm_hold_fenced(&h, &f));
	assert_true(tdm_hold_active(&h));
	f.conf = 22;
	assert_true(tdm_hold_fenced(&h, &f));
	assert_false(tdm_hold_active(&h));
	assert_true(tdm_hold_releasable(&h));
	assert_int_equal(h.nq, 4);
	assert_int_equal(h.q[0].type, TDM_SYNC_APPLY);
	assert_string_equal((const char *)h.q[0].data, "op1");
	assert_int_equal(h.q[0].seq, 7);
	assert_string_equal((const char *)h.q[1].data, "op2");
	assert_int_equal(h.q[2].type, TDM_SYNC_STABLE);
	assert_int_equal(h.q[3].type, TDM_SYNC_SNAPSHOT_GET);
	/* a second FENCED for the same departure: ignored */
	assert_false(tdm_hold_fenced(&h, &f));
	tdm_hold_queue_clear(&h);
	assert_false(tdm_hold_releasable(&h));
	/* not holding: nothing queued */
	assert_int_equal(tdm_hold_take(&h, &a1), 0);
	tdm_hold_free(&h);
}

static void test_clean_leave_no_hold(void **state)
{
	struct tdm_hold h;
	struct tdm_sync_act a1 = act(TDM_SYNC_APPLY, "op1", 1);

	(void)state;
	start(&h, TDM_HOLD_LEAVE, 5);
	assert_false(tdm_hold_active(&h));
	assert_int_equal(tdm_hold_take(&h, &a1), 0);
	tdm_hold_free(&h);
	/* an agent process gone needs the wait */
	start(&h, TDM_HOLD_PROCDOWN, 5);
	assert_true(tdm_hold_active(&h));
	assert_int_equal(h.dep[0].why, TDM_HOLD_PROCDOWN);
	tdm_hold_free(&h);
}

static void test_second_shrink_while_holding(void **state)
{
	struct tdm_hold h;
	struct tdm_hold_left l4 = {4, TDM_HOLD_NODEDOWN},
			     l3 = {3, TDM_HOLD_PROCDOWN};
	struct tdm_sync_act a1 = act(TDM_SYNC_APPLY, "op1", 1),
			    a2 = act(TDM_SYNC_APPLY, "op2", 2);
	struct tdm_cmsg_fenced f4 = {.nodeid = 4, .how = 1, .conf = 33},
			       f3 = {.nodeid = 3, .how = 2, .conf = 44};

	(void)state;
	tdm_hold_init(&h);
	tdm_hold_confchg(&h, 1, m1234, 4, NULL, 0, 0, 11, 0, 100);
	assert_int_equal(
		tdm_hold_confchg(&h, 1, m123, 3, &l4, 1, 5, 33, 1000, 110), 1);
	assert_int_equal(tdm_hold_take(&h, &a1), 1);
	assert_int_equal(
		tdm_hold_confchg(&h, 1, m12, 2, &l3, 1, 5, 44, 2000, 120), 1);
	assert_int_equal(h.ndep, 2);
	assert_int_equal(h.since_ms, 1000); /* the hold started at the first */
	assert_int_equal(tdm_hold_take(&h, &a2), 1);
	assert_true(tdm_hold_fenced(&h, &f4));
	assert_true(tdm_hold_active(&h)); /* 3 still waited for */
	assert_false(tdm_hold_releasable(&h));
	assert_true(tdm_hold_fenced(&h, &f3));
	assert_true(tdm_hold_releasable(&h));
	assert_int_equal(h.nq, 2);
	assert_string_equal((const char *)h.q[0].data, "op1");
	assert_string_equal((const char *)h.q[1].data, "op2");
	tdm_hold_free(&h);
}

static void test_rejoin_before_fenced(void **state)
{
	struct tdm_hold h;
	struct tdm_hold_left l3 = {3, TDM_HOLD_NODEDOWN};
	struct tdm_sync_act a1 = act(TDM_SYNC_APPLY, "op1", 1);
	struct tdm_cmsg_fenced f = {.nodeid = 3, .how = 1, .conf = 22};

	(void)state;
	start(&h, TDM_HOLD_NODEDOWN, 5);
	assert_int_equal(tdm_hold_take(&h, &a1), 1);
	/* 3 is back: no longer waited for, the queue goes out */
	tdm_hold_confchg(&h, 1, m123, 3, NULL, 0, 5, 55, 6000, 300);
	assert_false(tdm_hold_active(&h));
	assert_true(tdm_hold_releasable(&h));
	tdm_hold_queue_clear(&h);
	/* the old departure's FENCED comes late: ignored */
	assert_false(tdm_hold_fenced(&h, &f));
	/* it leaves again: a fence must be after its new join (300) */
	tdm_hold_confchg(&h, 1, m12, 2, &l3, 1, 5, 22, 7000, 400);
	assert_true(tdm_hold_active(&h));
	assert_int_equal(h.dep[0].joined_wall, 300);
	assert_int_equal(h.dep[0].left_wall, 400);
	tdm_hold_free(&h);
}

static void test_old_group_no_hold(void **state)
{
	struct tdm_hold h;
	struct tdm_sync_act a1 = act(TDM_SYNC_APPLY, "op1", 1);

	(void)state;
	start(&h, TDM_HOLD_NODEDOWN, 4);
	assert_false(tdm_hold_active(&h));
	assert_true(h.old_group);
	assert_int_equal(tdm_hold_take(&h, &a1), 0);
	tdm_hold_free(&h);
	/* holding, then the cut says the group runs at 4 (an older head
	 * joined with the change): released */
	start(&h, TDM_HOLD_NODEDOWN, 5);
	assert_int_equal(tdm_hold_take(&h, &a1), 1);
	tdm_hold_cut(&h, 5);
	assert_true(tdm_hold_active(&h));
	tdm_hold_cut(&h, 4);
	assert_false(tdm_hold_active(&h));
	assert_true(h.old_group);
	assert_true(tdm_hold_releasable(&h));
	tdm_hold_free(&h);
}

static void test_self_leaves_and_drop(void **state)
{
	struct tdm_hold h;
	struct tdm_sync_act a1 = act(TDM_SYNC_APPLY, "op1", 1);
	static const uint32_t m2[] = {2};

	(void)state;
	start(&h, TDM_HOLD_NODEDOWN, 5);
	assert_int_equal(tdm_hold_take(&h, &a1), 1);
	/* its history is replaced: the queue goes, the wait stays */
	tdm_hold_drop_queue(&h);
	assert_int_equal(h.nq, 0);
	assert_true(tdm_hold_active(&h));
	assert_int_equal(tdm_hold_take(&h, &a1), 1);
	/* this member is not in the configuration: it left */
	tdm_hold_confchg(&h, 1, m2, 1, NULL, 0, 5, 66, 8000, 500);
	assert_false(tdm_hold_active(&h));
	assert_int_equal(h.nq, 0);
	assert_int_equal(h.nknown, 0);
	tdm_hold_free(&h);
}

static void test_fenced_codec(void **state)
{
	struct tdm_cmsg_fenced f = {.nodeid = 7,
				    .how = TDM_FENCED_SELF_TIME,
				    .conf = 0xdeadbeef,
				    .waited_ms = 4321};
	struct tdm_wbuf w = {0};
	struct tdm_cmsg m;
	uint8_t buf[64];
	size_t len;

	(void)state;
	assert_int_equal(tdm_cmsg_put_fenced(&w, 4, &f), -EINVAL);
	assert_int_equal(tdm_cmsg_put_fenced(&w, 5, &f), 0);
	assert_int_equal(tdm_cmsg_decode(w.p, w.len, 5, &m), 0);
	assert_int_equal(m.type, TDM_CMSG_FENCED);
	assert_string_equal(tdm_cmsg_type_name(m.type), "FENCED");
	assert_int_equal(m.fenced.nodeid, 7);
	assert_int_equal(m.fenced.how, TDM_FENCED_SELF_TIME);
	assert_int_equal(m.fenced.conf, 0xdeadbeef);
	assert_int_equal(m.fenced.waited_ms, 4321);
	/* an agent of protocol 4 does not know it */
	assert_int_equal(tdm_cmsg_decode(w.p, w.len, 4, &m), -ENOTSUP);
	len = w.len;
	assert_true(len <= sizeof(buf));
	memcpy(buf, w.p, len);
	/* encoded as version 4: malformed */
	buf[7] = 4;
	assert_int_equal(tdm_cmsg_decode(buf, len, 5, &m), -EPROTO);
	buf[7] = 5;
	/* every truncation: refused */
	for (size_t n = 0; n < len; n++) {
		uint8_t t[64];

		memcpy(t, buf, n);
		if (n >= 4) { /* keep the frame length consistent */
			t[0] = t[1] = 0;
			t[2] = (uint8_t)((n - 4) >> 8);
			t[3] = (uint8_t)(n - 4);
		}
		assert_true(tdm_cmsg_decode(t, n, 5, &m) < 0);
	}
	/* nodeid 0, how 0: malformed */
	memcpy(buf + 8, "\0\0\0\0", 4);
	assert_int_equal(tdm_cmsg_decode(buf, len, 5, &m), -EPROTO);
	memcpy(buf, w.p, len);
	buf[12] = 0;
	assert_int_equal(tdm_cmsg_decode(buf, len, 5, &m), -EPROTO);
	/* appended fields of a later version: ignored */
	memcpy(buf, w.p, len);
	buf[len] = 0xab;
	buf[3]++;
	assert_int_equal(tdm_cmsg_decode(buf, len + 1, 5, &m), 0);
	assert_int_equal(m.fenced.waited_ms, 4321);
	tdm_wbuf_free(&w);
}

/* offer the sync module's actions to the hold as the daemon does; count
 * those carried out at once */
static size_t offer(struct tdm_hold *h, const struct tdm_sync *s, int *applied,
		    int *stable)
{
	size_t now = 0;

	for (size_t i = 0; i < s->nact; i++) {
		int r = tdm_hold_take(h, &s->act[i]);

		assert_true(r >= 0);
		if (r)
			continue;
		now++;
		if (s->act[i].type == TDM_SYNC_APPLY)
			(*applied)++;
		if (s->act[i].type == TDM_SYNC_STABLE)
			(*stable)++;
	}
	return now;
}

static void infos(struct tdm_sync *s, const uint32_t *ids, size_t n,
		  uint64_t seq)
{
	for (size_t i = 0; i < n; i++) {
		struct tdm_cmsg_info in = {5, 1, seq, ids[i], s->conf};

		assert_int_equal(tdm_sync_info(s, ids[i], &in), 0);
	}
}

static void test_with_sync(void **state)
{
	struct tdm_sync s;
	struct tdm_hold h;
	struct tdm_wbuf w = {0};
	struct tdm_cmsg_ack ack;
	struct tdm_hold_left l3 = {3, TDM_HOLD_NODEDOWN};
	struct tdm_cmsg_fenced f = {.nodeid = 3, .how = 2};
	int applied = 0, stable = 0;
	uint16_t v0;

	(void)state;
	tdm_sync_init(&s, 1, 5);
	tdm_sync_link(&s, 2);
	tdm_hold_init(&h);
	/* {1,2,3}, everybody synced at seq 0: this member continues */
	assert_int_equal(tdm_sync_confchg(&s, m123, 3), 0);
	tdm_hold_confchg(&h, 1, m123, 3, NULL, 0, 0, s.conf, 0, 100);
	infos(&s, m123, 3, 0);
	assert_true(tdm_sync_ready(&s));
	assert_int_equal(s.version, 5);
	/* this member's operation: applied, confirmed by its tandemd and
	 * node 2, not by node 3 */
	assert_int_equal(tdm_cmsg_put_order(&w, 5, 1, 7, 8, "x", 1), 0);
	assert_int_equal(tdm_sync_op(&s, w.p, w.len), 0);
	assert_int_equal(offer(&h, &s, &applied, &stable), 1);
	assert_int_equal(applied, 1);
	assert_int_equal(tdm_sync_sent(&s, 1), 0);
	assert_int_equal(tdm_sync_done(&s, 1), 0);
	ack = (struct tdm_cmsg_ack){2, 1, s.conf};
	assert_int_equal(tdm_sync_ack(&s, 2, &ack), 0);
	assert_int_equal(s.nact, 0); /* node 3 has not confirmed */
	/* node 3 fails: from this change on, nothing reaches tandemd */
	v0 = s.version;
	assert_int_equal(tdm_sync_confchg(&s, m12, 2), 0);
	assert_int_equal(
		tdm_hold_confchg(&h, 1, m12, 2, &l3, 1, v0, s.conf, 1000, 200),
		1);
	f.conf = s.conf;
	infos(&s, m12, 2, 1);
	/* the cut: node 3 is no longer waited for, STABLE is due, held */
	tdm_hold_cut(&h, s.version);
	assert_int_equal(offer(&h, &s, &applied, &stable), 0);
	assert_int_equal(stable, 0);
	assert_int_equal(h.nq, 1);
	/* node 2's operation delivered after the failure: held */
	assert_int_equal(tdm_cmsg_put_order(&w, 5, 2, 9, 8, "y", 1), 0);
	assert_int_equal(tdm_sync_op(&s, w.p, w.len), 0);
	assert_int_equal(offer(&h, &s, &applied, &stable), 0);
	assert_int_equal(applied, 1);
	assert_int_equal(h.nq, 2);
	/* FENCED: released in order, the STABLE first, with its what */
	assert_true(tdm_hold_fenced(&h, &f));
	assert_true(tdm_hold_releasable(&h));
	assert_int_equal(h.q[0].type, TDM_SYNC_STABLE);
	assert_int_equal(h.q[0].req, 7);
	assert_int_equal(h.q[0].what, 3);
	assert_int_equal(h.q[1].type, TDM_SYNC_APPLY);
	assert_int_equal(h.q[1].seq, 2);
	tdm_hold_queue_clear(&h);
	tdm_hold_free(&h);
	tdm_sync_free(&s);
	tdm_wbuf_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shrink_holds_and_fenced_releases),
		cmocka_unit_test(test_clean_leave_no_hold),
		cmocka_unit_test(test_second_shrink_while_holding),
		cmocka_unit_test(test_rejoin_before_fenced),
		cmocka_unit_test(test_old_group_no_hold),
		cmocka_unit_test(test_self_leaves_and_drop),
		cmocka_unit_test(test_fenced_codec),
		cmocka_unit_test(test_with_sync),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
