/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * test_agent_sync.c - tandem-agentd's membership sync (agentd/sync.c) and
 * cluster message codec (agentd/cluster_msg.c), driven by a simulated
 * CPG: one agreed-order queue, partitions as per-node views, and a model
 * tandemd per node (a base tag + the list of applied operations, its
 * snapshot being both). Checks that every member ends with the same state
 * and seq: joins, leaves, merges, a configuration change during a sync,
 * a first start with nobody synced, the group version, chunked snapshots,
 * and a randomized run.
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

#include "agentd/cluster_msg.h"
#include "agentd/sync.h"

#define NN 5 /* nodes 1..4 */
#define MAXOPS 8192
#define CHUNK 40 /* small, to exercise reassembly */

struct node {
	struct tdm_sync s;
	bool up;
	uint32_t view; /* bitmask of its configuration's members */
	uint64_t base;
	uint64_t ops[MAXOPS];
	size_t nops;
	int gets, loads;
	uint8_t *snap; /* taken at SNAPSHOT_GET, multicast later */
	size_t snap_len;
	uint64_t snap_seq;
};

struct qmsg {
	uint32_t from;
	uint8_t *p;
	size_t len;
};

static struct node nodes[NN];
static struct qmsg q[65536];
static size_t qh, qt;
static struct tdm_agent_wbuf wb;
static uint64_t next_req = 1;

static void enqueue(uint32_t from, const uint8_t *p, size_t len)
{
	assert_true(qt < sizeof(q) / sizeof(q[0]));
	q[qt].from = from;
	q[qt].p = malloc(len);
	memcpy(q[qt].p, p, len);
	q[qt++].len = len;
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void run_actions(uint32_t id)
{
	struct node *n = &nodes[id];
	struct tdm_cmsg m;

	for (size_t i = 0; i < n->s.nact; i++) {
		const struct tdm_sync_act *a = &n->s.act[i];

		switch (a->type) {
		case TDM_SYNC_SEND_INFO:
			assert_int_equal(tdm_cmsg_put_info(&wb, &a->info), 0);
			enqueue(id, wb.p, wb.len);
			break;
		case TDM_SYNC_APPLY:
			assert_int_equal(
				tdm_cmsg_decode(a->data, a->len, 9, &m), 0);
			assert_true(n->nops < MAXOPS);
			n->ops[n->nops++] = m.req;
			break;
		case TDM_SYNC_SNAPSHOT_GET:
			n->gets++;
			free(n->snap);
			n->snap_len = 16 + 8 * n->nops;
			n->snap = malloc(n->snap_len);
			put64(n->snap, n->base);
			put64(n->snap + 8, n->nops);
			for (size_t k = 0; k < n->nops; k++)
				put64(n->snap + 16 + 8 * k, n->ops[k]);
			n->snap_seq = a->seq;
			break;
		case TDM_SYNC_SNAPSHOT_LOAD:
			n->loads++;
			assert_true(a->len >= 16);
			n->base = get64(a->data);
			n->nops = get64(a->data + 8);
			assert_int_equal(a->len, 16 + 8 * n->nops);
			for (size_t k = 0; k < n->nops; k++)
				n->ops[k] = get64(a->data + 16 + 8 * k);
			break;
		}
	}
}

/* the source's tandemd answers SNAPSHOT-GET: multicast it in chunks */
static bool flush_snapshots(void)
{
	bool any = false;

	for (uint32_t id = 1; id < NN; id++) {
		struct node *n = &nodes[id];
		size_t off = 0, c;

		if (!n->snap)
			continue;
		any = true;
		do {
			c = n->snap_len - off < CHUNK ? n->snap_len - off
						      : CHUNK;
			assert_int_equal(
				tdm_cmsg_put_chunk(&wb, 1, id, n->snap_seq,
						   (uint32_t)n->snap_len,
						   (uint32_t)off, n->snap + off,
						   c),
				0);
			if (n->up)
				enqueue(id, wb.p, wb.len);
			off += c;
		} while (off < n->snap_len);
		free(n->snap);
		n->snap = NULL;
	}
	return any;
}

static void deliver_one(void)
{
	struct qmsg *qm = &q[qh++];
	struct tdm_cmsg m;
	uint32_t view = nodes[qm->from].view;

	assert_int_equal(tdm_cmsg_decode(qm->p, qm->len, 9, &m), 0);
	for (uint32_t id = 1; id < NN; id++) {
		struct node *n = &nodes[id];
		int r = 0;

		if (!n->up || n->view != view)
			continue;
		switch (m.type) {
		case TDM_CMSG_SYNC_INFO:
			r = tdm_sync_info(&n->s, qm->from, &m.info);
			break;
		case TDM_CMSG_PR_OP:
			r = tdm_sync_op(&n->s, qm->p, qm->len);
			break;
		case TDM_CMSG_SNAP_CHUNK:
			r = tdm_sync_chunk(&n->s, &m);
			break;
		}
		assert_int_equal(r, 0);
		run_actions(id);
	}
	free(qm->p);
}

static void deliver_all(void)
{
	do {
		while (qh < qt)
			deliver_one();
	} while (flush_snapshots());
}

/* a configuration change delivered to the nodes of mask (a partition) */
static void confchg(uint32_t mask)
{
	uint32_t ids[NN];
	size_t n = 0;

	for (uint32_t id = 1; id < NN; id++)
		if (mask & (1u << id))
			ids[n++] = id;
	for (uint32_t id = 1; id < NN; id++) {
		if (!(mask & (1u << id)))
			continue;
		nodes[id].up = true;
		nodes[id].view = mask;
		assert_int_equal(tdm_sync_confchg(&nodes[id].s, ids, n), 0);
		run_actions(id);
	}
}

/* the node's agent leaves (its tandemd went away, or it crashed: what
 * it multicast and was not delivered is lost for everyone) */
static void leave(uint32_t id)
{
	for (size_t i = qh; i < qt; i++)
		if (q[i].from == id) {
			free(q[i].p);
			memmove(&q[i], &q[i + 1], (qt - i - 1) * sizeof(q[0]));
			qt--;
			i--;
		}
	nodes[id].up = false;
	nodes[id].view = 0;
	tdm_sync_reset(&nodes[id].s);
	free(nodes[id].snap);
	nodes[id].snap = NULL;
}

/* a fresh tandemd with its own state */
static void fresh(uint32_t id, uint64_t base)
{
	leave(id);
	nodes[id].base = base;
	nodes[id].nops = 0;
}

/* an operation multicast by id (accepted while it served: it may reach
 * the group after a configuration change) */
static void submit_raw(uint32_t id)
{
	struct tdm_agent_pr pr;
	uint8_t cdb[10] = {0x5f};

	memset(&pr, 0, sizeof(pr));
	snprintf(pr.device, sizeof(pr.device), "lu0");
	pr.cdb = cdb;
	pr.cdb_len = sizeof(cdb);
	pr.tid = (const uint8_t *)"iqn.x";
	pr.tid_len = 5;
	assert_int_equal(
		tdm_cmsg_put_pr(&wb, nodes[id].s.version, id, next_req++, &pr),
		0);
	enqueue(id, wb.p, wb.len);
}

static void submit(uint32_t id)
{
	assert_true(tdm_sync_ready(&nodes[id].s));
	submit_raw(id);
}

static void assert_same(uint32_t mask)
{
	struct node *ref = NULL;

	for (uint32_t id = 1; id < NN; id++) {
		struct node *n = &nodes[id];

		if (!(mask & (1u << id)))
			continue;
		assert_true(tdm_sync_ready(&n->s));
		assert_int_equal(n->s.seq, n->nops);
		if (!ref) {
			ref = n;
			continue;
		}
		assert_int_equal(n->s.seq, ref->s.seq);
		assert_int_equal(n->s.version, ref->s.version);
		assert_int_equal(n->base, ref->base);
		assert_int_equal(n->nops, ref->nops);
		assert_memory_equal(n->ops, ref->ops,
				    n->nops * sizeof(n->ops[0]));
	}
}

static int setup(void **state)
{
	for (uint32_t id = 1; id < NN; id++) {
		memset(&nodes[id], 0, sizeof(nodes[id]));
		tdm_sync_init(&nodes[id].s, id, 1);
		nodes[id].base = 100 * id;
	}
	qh = qt = 0;
	return 0;
}

static int teardown(void **state)
{
	while (qh < qt)
		free(q[qh++].p);
	for (uint32_t id = 1; id < NN; id++) {
		tdm_sync_free(&nodes[id].s);
		free(nodes[id].snap);
	}
	tdm_agent_wbuf_free(&wb);
	return 0;
}

#define B(i) (1u << (i))

static void test_single(void **state)
{
	confchg(B(1));
	assert_false(tdm_sync_ready(&nodes[1].s));
	deliver_all();
	assert_true(tdm_sync_ready(&nodes[1].s));
	assert_int_equal(nodes[1].s.version, 1);
	assert_int_equal(nodes[1].gets, 0);
	for (int i = 0; i < 3; i++)
		submit(1);
	deliver_all();
	assert_int_equal(nodes[1].s.seq, 3);
	assert_int_equal(nodes[1].base, 100);
}

static void test_two_join(void **state)
{
	confchg(B(1));
	deliver_all();
	for (int i = 0; i < 5; i++)
		submit(1);
	deliver_all();
	confchg(B(1) | B(2));
	deliver_all();
	assert_same(B(1) | B(2));
	assert_int_equal(nodes[2].base, 100); /* node 1's state */
	assert_int_equal(nodes[2].s.seq, 5);
	assert_int_equal(nodes[1].gets, 1);
	assert_int_equal(nodes[2].loads, 1);
	for (int i = 0; i < 4; i++) {
		submit(1);
		submit(2);
	}
	deliver_all();
	assert_same(B(1) | B(2));
	assert_int_equal(nodes[1].s.seq, 13);
}

/* operations delivered between the change and the cut, and between the
 * cut and the snapshot */
static void test_three_ops_during_sync(void **state)
{
	confchg(B(1) | B(2));
	deliver_all();
	submit(1);
	submit(2);
	deliver_all();
	submit(1); /* sent before the change, delivered after it */
	confchg(B(1) | B(2) | B(3));
	deliver_one(); /* the op: applied by 1 and 2, buffered by 3 */
	deliver_one(); /* SYNC-INFO of 1 */
	submit_raw(2); /* accepted before the change, sent after it */
	while (qh < qt)
		deliver_one(); /* cut; 1 took its snapshot */
	assert_true(nodes[3].s.waiting);
	submit(1); /* after the cut, before the snapshot */
	submit(2);
	deliver_all();
	assert_same(B(1) | B(2) | B(3));
	assert_int_equal(nodes[3].s.seq, 6);
	assert_int_equal(nodes[3].loads, 1);
}

static void test_leave(void **state)
{
	confchg(B(1) | B(2) | B(3));
	deliver_all();
	submit(3);
	deliver_all();
	leave(3);
	confchg(B(1) | B(2));
	deliver_all();
	assert_same(B(1) | B(2));
	assert_int_equal(nodes[1].gets + nodes[2].gets, 1); /* first start */
	/* the lowest leaves: the others continue, no snapshot */
	leave(1);
	confchg(B(2));
	deliver_all();
	assert_same(B(2));
	assert_int_equal(nodes[2].gets, 0);
	assert_int_equal(nodes[2].s.seq, 1);
	/* it comes back with a fresh tandemd */
	fresh(1, 999);
	confchg(B(1) | B(2));
	deliver_all();
	assert_same(B(1) | B(2));
	assert_int_equal(nodes[1].base, 100); /* 1's first-start state */
	assert_int_equal(nodes[2].gets, 1);
}

static void test_merge(void **state)
{
	/* partitions {1,2} and {3}, each serving with its own operations */
	confchg(B(1) | B(2));
	confchg(B(3));
	deliver_all();
	for (int i = 0; i < 3; i++)
		submit(1);
	for (int i = 0; i < 5; i++)
		submit(3);
	deliver_all();
	assert_int_equal(nodes[1].s.seq, 3);
	assert_int_equal(nodes[3].s.seq, 5);
	confchg(B(1) | B(2) | B(3));
	deliver_all();
	assert_same(B(1) | B(2) | B(3));
	assert_int_equal(nodes[1].base, 300); /* 3 had the highest seq */
	assert_int_equal(nodes[1].s.seq, 5);
	assert_int_equal(nodes[1].loads, 1);
	assert_int_equal(nodes[2].loads, 2); /* at the first start, now */
	assert_int_equal(nodes[3].loads, 0);
}

static void test_confchg_during_sync(void **state)
{
	confchg(B(1));
	deliver_all();
	submit(1);
	submit(1);
	deliver_all();
	confchg(B(1) | B(2));
	deliver_one(); /* SYNC-INFO of 1 only: no cut yet */
	assert_true(nodes[2].s.syncing);
	confchg(B(1) | B(2) | B(3)); /* starts over */
	deliver_all();
	assert_same(B(1) | B(2) | B(3));
	assert_int_equal(nodes[3].base, 100);
	assert_int_equal(nodes[3].s.seq, 2);
	assert_int_equal(nodes[1].s.cuts, 2);
}

static void test_all_unsynced(void **state)
{
	confchg(B(2) | B(3) | B(4));
	deliver_all();
	assert_same(B(2) | B(3) | B(4));
	assert_int_equal(nodes[4].base, 200); /* the lowest nodeid's */
	assert_int_equal(nodes[2].gets, 1);
	assert_int_equal(nodes[2].s.source, 2);
}

static void test_version_min(void **state)
{
	nodes[1].s.proto_max = 2;
	nodes[2].s.proto_max = 1;
	nodes[3].s.proto_max = 3;
	confchg(B(1) | B(3));
	deliver_all();
	assert_int_equal(nodes[1].s.version, 2);
	confchg(B(1) | B(2) | B(3));
	deliver_all();
	assert_int_equal(nodes[3].s.version, 1);
	submit(3); /* encoded at version 1 */
	deliver_all();
	assert_same(B(1) | B(2) | B(3));
	leave(2);
	confchg(B(1) | B(3));
	deliver_all();
	assert_int_equal(nodes[1].s.version, 2);
	assert_int_equal(nodes[3].s.version, 2);
}

static void test_chunks(void **state)
{
	struct tdm_cmsg m;
	uint8_t data[8] = {0};

	confchg(B(1));
	deliver_all();
	submit(1);
	deliver_all();
	confchg(B(1) | B(2));
	while (qh < qt)
		deliver_one();
	assert_true(nodes[2].s.waiting);
	/* a chunk out of order is refused; the real ones still load */
	assert_int_equal(tdm_cmsg_put_chunk(&wb, 1, 1, 1, 24, 8, data, 8), 0);
	assert_int_equal(tdm_cmsg_decode(wb.p, wb.len, 1, &m), 0);
	assert_int_equal(tdm_sync_chunk(&nodes[2].s, &m), -EPROTO);
	/* another source or seq: ignored */
	assert_int_equal(tdm_cmsg_put_chunk(&wb, 1, 3, 1, 8, 0, data, 8), 0);
	assert_int_equal(tdm_cmsg_decode(wb.p, wb.len, 1, &m), 0);
	assert_int_equal(tdm_sync_chunk(&nodes[2].s, &m), 0);
	assert_int_equal(nodes[2].s.nact, 0);
	deliver_all();
	assert_same(B(1) | B(2));
	assert_int_equal(nodes[2].loads, 1);
}

static void test_codec(void **state)
{
	struct tdm_cmsg_info info = {2, 1, 77, 5, 0x1234};
	struct tdm_cmsg m;
	uint8_t buf[256];
	size_t n;

	assert_int_equal(tdm_cmsg_put_info(&wb, &info), 0);
	assert_int_equal(tdm_cmsg_decode(wb.p, wb.len, 1, &m), 0);
	assert_int_equal(m.info.seq, 77);
	assert_int_equal(m.info.nodeid, 5);
	/* a later version appends a field: a version-2 member reads it,
	 * ignoring what it does not know; a version-1 member refuses it */
	n = wb.len;
	memcpy(buf, wb.p, n);
	buf[n++] = 0xaa;
	buf[3] = (uint8_t)(n - 4);
	buf[7] = 2;
	assert_int_equal(tdm_cmsg_decode(buf, n, 2, &m), 0);
	assert_int_equal(m.info.seq, 77);
	assert_int_equal(tdm_cmsg_decode(buf, n, 1, &m), -ENOTSUP);
	/* every truncation fails cleanly */
	for (size_t k = 0; k < wb.len; k++)
		assert_true(tdm_cmsg_decode(wb.p, k, 1, &m) < 0);
	/* unknown type, version 0, a length beyond the frame */
	memcpy(buf, wb.p, wb.len);
	buf[5] = 99;
	assert_int_equal(tdm_cmsg_decode(buf, wb.len, 1, &m), -ENOMSG);
	buf[5] = 1;
	buf[7] = 0;
	assert_int_equal(tdm_cmsg_decode(buf, wb.len, 1, &m), -ENOTSUP);
	assert_int_equal(tdm_cmsg_put_chunk(&wb, 1, 1, 1, 4, 0, "abcd", 4), 0);
	wb.p[wb.len - 5] = 9; /* data length 9 > total */
	memcpy(buf, wb.p, wb.len);
	buf[wb.len - 5] = 5;
	assert_true(tdm_cmsg_decode(buf, wb.len, 1, &m) < 0);
}

/* random joins, leaves, restarts and operations in one partition */
static void test_random(void **state)
{
	unsigned seed = 12345;
	uint32_t mask = 0;

	for (int step = 0; step < 3000; step++) {
		uint32_t r = (uint32_t)rand_r(&seed), id = 1 + r % (NN - 1);
		int what = (int)((r >> 8) % 16);

		if (what == 0 && !(mask & B(id))) {
			fresh(id, 1000 * (uint64_t)step + id);
			mask |= B(id);
			confchg(mask);
		} else if (what == 1 && (mask & B(id))) {
			leave(id);
			mask &= ~B(id);
			if (mask)
				confchg(mask);
		} else if (what < 8 && (mask & B(id)) &&
			   tdm_sync_ready(&nodes[id].s)) {
			submit(id);
		} else if (qh < qt) {
			deliver_one();
		} else {
			flush_snapshots();
		}
	}
	deliver_all();
	if (mask)
		assert_same(mask);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_single, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_join, setup, teardown),
		cmocka_unit_test_setup_teardown(test_three_ops_during_sync,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_leave, setup, teardown),
		cmocka_unit_test_setup_teardown(test_merge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_confchg_during_sync, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_all_unsynced, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_version_min, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_chunks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_codec, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL) ? 1 : 0;
}
