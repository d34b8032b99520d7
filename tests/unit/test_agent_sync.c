/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * test_agent_sync.c - tandem-agentd's membership sync (agentd/sync.c) and
 * cluster message codec (agentd/cluster_msg.c), driven by a simulated
 * CPG: one agreed-order queue, partitions as per-node views, and a model
 * tandemd per node (a base tag + the list of applied operations, its
 * snapshot being both). Checks that every member ends with the same state
 * and seq: joins, leaves, merges, a configuration change during a sync,
 * a first start with nobody synced, the group version, chunked snapshots,
 * and a randomized run. Then the acknowledgements of link version 2
 * (sync.h): STABLE with 1, 2 and 3 members, ACK before / after the
 * origin's own DONE, coalesced ACKs, a member leaving while an operation
 * waits, a joiner, stale ACKs, a group at version 1, a tandemd at link
 * version 1, an origin whose history is replaced (LOST), ORDER-OP and ACK
 * codec, operations encoded above the group version (DROP), and a
 * randomized run checking at every STABLE that every ready member of the
 * origin's view has confirmed the operation. Then protocol 5: the heads
 * that left and joined at each cut (HEADS, with the ports remembered
 * from the previous cut), a head's ports changing, an older agent's
 * SYNC-INFO without ports, and the codec of SYNC-INFO's ports.
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
	/* link version 2 */
	size_t confirmed; /* ops[0..confirmed): DONE'd, or loaded */
	bool was_synced;
	uint64_t stable[MAXOPS];
	size_t nstable;
	uint64_t lost[64];
	size_t nlost;
	int drops;
	/* protocol 5: the last HEADS (nodeids; first port of each) */
	int nheads;
	uint32_t left[NN], joined[NN];
	uint16_t left_port[NN], joined_port[NN];
	size_t nleft, njoined;
	bool heads_after_get; /* a HEADS came after a SNAPSHOT_GET */
};

struct qmsg {
	uint32_t from;
	uint8_t *p;
	size_t len;
};

static struct node nodes[NN];
static struct qmsg q[65536];
static size_t qh, qt;
static struct tdm_wbuf wb;
static uint64_t next_req = 1;
static bool check_stable_safety;

/* op req was confirmed (DONE) or loaded by every ready member of the
 * origin's view (sync.h: what STABLE means) */
static void assert_stable_safe(uint32_t origin, uint64_t req)
{
	for (uint32_t id = 1; id < NN; id++) {
		struct node *n = &nodes[id];
		bool found = false;

		if (!n->up || n->view != nodes[origin].view ||
		    !tdm_sync_ready(&n->s))
			continue;
		for (size_t k = 0; k < n->confirmed && !found; k++)
			found = n->ops[k] == req;
		if (!found)
			fail_msg("STABLE of req %llu at node %u: node %u has "
				 "not confirmed it",
				 (unsigned long long)req, origin, id);
	}
}

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

/* a HEADS action (index i of this event): what it lists */
static void record_heads(struct node *n, size_t i)
{
	const struct tdm_sync *s = &n->s;

	n->nheads++;
	for (size_t k = 0; k < i; k++)
		if (s->act[k].type == TDM_SYNC_SNAPSHOT_GET)
			n->heads_after_get = true;
	assert_true(s->ndeparted + s->njoining > 0);
	assert_true(s->ndeparted <= NN && s->njoining <= NN);
	n->nleft = s->ndeparted;
	n->njoined = s->njoining;
	for (size_t k = 0; k < s->ndeparted; k++) {
		n->left[k] = s->heads[k].nodeid;
		n->left_port[k] =
			s->heads[k].ports.n ? s->heads[k].ports.id[0] : 0;
	}
	for (size_t k = 0; k < s->njoining; k++) {
		const struct tdm_sync_head *h = &s->heads[s->ndeparted + k];

		n->joined[k] = h->nodeid;
		n->joined_port[k] = h->ports.n ? h->ports.id[0] : 0;
	}
}

static void run_actions(uint32_t id)
{
	struct node *n = &nodes[id];
	struct tdm_cmsg m;

	/* checked after every action: the STABLEs of this event come
	 * last, after the applies */
	for (size_t i = 0; i < n->s.nact; i++) {
		const struct tdm_sync_act *a = &n->s.act[i];

		switch (a->type) {
		case TDM_SYNC_SEND_INFO:
			assert_int_equal(
				tdm_cmsg_put_info_ports(&wb, &a->info,
							&n->s.own_ports),
				0);
			enqueue(id, wb.p, wb.len);
			break;
		case TDM_SYNC_APPLY:
			assert_int_equal(
				tdm_cmsg_decode(a->data, a->len, 9, &m), 0);
			assert_true(n->nops < MAXOPS);
			n->ops[n->nops++] = m.req;
			assert_int_equal(tdm_sync_sent(&n->s, a->seq), 0);
			break;
		case TDM_SYNC_STABLE:
			assert_true(n->nstable < MAXOPS);
			n->stable[n->nstable++] = a->req;
			break;
		case TDM_SYNC_LOST:
			assert_true(n->nlost < 64);
			n->lost[n->nlost++] = a->req;
			break;
		case TDM_SYNC_DROP:
			n->drops++;
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
		case TDM_SYNC_HEADS:
			record_heads(n, i);
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
	/* synced without applying one by one: fenced until it holds all
	 * that was sent, so it counts as confirmed */
	if (n->s.synced && !n->was_synced)
		n->confirmed = n->nops;
	n->was_synced = n->s.synced;
	if (n->confirmed > n->nops)
		n->confirmed = n->nops;
	if (check_stable_safety)
		for (size_t i = 0; i < n->s.nact; i++)
			if (n->s.act[i].type == TDM_SYNC_STABLE)
				assert_stable_safe(id, n->s.act[i].req);
}

/* tandemd of id sends DONE for everything it was sent */
static void done(uint32_t id)
{
	struct node *n = &nodes[id];

	assert_int_equal(tdm_sync_done(&n->s, n->s.link_sent), 0);
	n->confirmed = n->nops;
	run_actions(id);
}

/* the daemon's end of a loop round: one ACK if due */
static bool ack_flush(uint32_t id)
{
	struct tdm_cmsg_ack a;

	if (!nodes[id].up || !tdm_sync_ack_due(&nodes[id].s, &a))
		return false;
	assert_int_equal(tdm_cmsg_put_ack(&wb, nodes[id].s.version, &a), 0);
	enqueue(id, wb.p, wb.len);
	tdm_sync_ack_sent(&nodes[id].s, &a);
	return true;
}

static void ack_all(void)
{
	for (uint32_t id = 1; id < NN; id++)
		ack_flush(id);
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
			r = tdm_sync_info_ports(&n->s, qm->from, &m.info,
						&m.ports);
			break;
		case TDM_CMSG_PR_OP:
		case TDM_CMSG_ALUA_OP:
		case TDM_CMSG_ORDER_OP:
			r = tdm_sync_op(&n->s, qm->p, qm->len);
			break;
		case TDM_CMSG_ACK:
			r = tdm_sync_ack(&n->s, qm->from, &m.ack);
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

/* deliver, acknowledge, until nothing moves */
static void settle(void)
{
	do {
		deliver_all();
		ack_all();
	} while (qh < qt);
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
	tdm_sync_stab_clear(&nodes[id].s); /* the daemon rejected them */
	nodes[id].was_synced = false;
	free(nodes[id].snap);
	nodes[id].snap = NULL;
}

/* a fresh tandemd with its own state */
static void fresh(uint32_t id, uint64_t base)
{
	leave(id);
	nodes[id].base = base;
	nodes[id].nops = 0;
	nodes[id].confirmed = 0;
	tdm_sync_link(&nodes[id].s, nodes[id].s.link_version);
}

/* an operation multicast by id (accepted while it served: it may reach
 * the group after a configuration change) */
static void submit_raw(uint32_t id)
{
	struct tdm_cluster_pr pr;
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
	check_stable_safety = false;
	return 0;
}

/* every agent at protocol 2, every tandemd at link version 2 */
static int setup2(void **state)
{
	setup(state);
	for (uint32_t id = 1; id < NN; id++) {
		tdm_sync_init(&nodes[id].s, id, 2);
		tdm_sync_link(&nodes[id].s, 2);
	}
	check_stable_safety = true;
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
	tdm_wbuf_free(&wb);
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

/* the source dies before its snapshot went out: the joiners' buffered
 * operations follow a state nobody will send; the next cut starts from
 * the lowest nodeid's own state, with seq matching what it holds */
static void test_source_lost_before_snapshot(void **state)
{
	confchg(B(1));
	deliver_all();
	submit(1);
	deliver_all();
	confchg(B(1) | B(2) | B(3));
	while (qh < qt)
		deliver_one(); /* cut: 2 and 3 wait for 1's snapshot */
	assert_true(nodes[2].s.waiting);
	assert_true(nodes[3].s.waiting);
	submit(1);
	submit(1);
	while (qh < qt)
		deliver_one(); /* buffered by 2 and 3 */
	assert_int_equal(nodes[2].s.nbuf, 2);
	leave(1); /* its snapshot is never multicast */
	confchg(B(2) | B(3));
	deliver_all();
	assert_same(B(2) | B(3));
	assert_int_equal(nodes[3].base, 200);
	assert_int_equal(nodes[2].s.seq, 0);
	assert_int_equal(nodes[2].loads + nodes[3].loads, 1);
	submit(3);
	deliver_all();
	assert_same(B(2) | B(3));
}

/* an operation of a member that then waits for a snapshot, delivered
 * after the cut and buffered: when that snapshot is never loaded, it
 * is dropped with TDM_SYNC_DROP (its daemon rejects it), not lost */
static void test_own_buffered_op_dropped(void **state)
{
	confchg(B(1));
	confchg(B(2));
	deliver_all();
	submit(1);
	deliver_all();
	confchg(B(1) | B(2));
	submit_raw(2); /* accepted while 2 served alone, sent after */
	while (qh < qt)
		deliver_one(); /* cut: 1 is the source; 2 buffers its op */
	assert_true(nodes[2].s.waiting);
	assert_int_equal(nodes[2].s.nbuf, 1);
	assert_int_equal(nodes[2].drops, 0);
	leave(1);
	confchg(B(2));
	assert_int_equal(nodes[2].drops, 1);
	deliver_all();
	assert_same(B(2));
	assert_int_equal(nodes[2].s.seq, 0);
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
	 * ignoring what it does not know; a version-1 member refuses it
	 * (after the ports of protocol 5: an empty list here) */
	n = wb.len;
	memcpy(buf, wb.p, n);
	buf[n++] = 0;
	buf[n++] = 0;
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

/* ---- link version 2: acknowledgements ---- */

/* an ORDER-OP of id (returns its req) */
static uint64_t submit_order(uint32_t id)
{
	uint64_t req = next_req++;

	assert_true(tdm_sync_ready(&nodes[id].s));
	assert_int_equal(tdm_cmsg_put_order(&wb, nodes[id].s.version, id, req,
					    7, "xyz", 3),
			 0);
	enqueue(id, wb.p, wb.len);
	return req;
}

static bool has_stable(uint32_t id, uint64_t req)
{
	for (size_t i = 0; i < nodes[id].nstable; i++)
		if (nodes[id].stable[i] == req)
			return true;
	return false;
}

static void test_stable_single(void **state)
{
	struct tdm_cmsg_ack a;
	uint64_t r1, r2;

	confchg(B(1));
	deliver_all();
	r1 = next_req;
	submit(1);
	r2 = submit_order(1);
	deliver_all();
	assert_int_equal(nodes[1].s.seq, 2);
	assert_int_equal(nodes[1].nstable, 0); /* tandemd has not said DONE */
	assert_false(tdm_sync_ack_due(&nodes[1].s, &a)); /* alone: no ACK */
	assert_int_equal(tdm_sync_done(&nodes[1].s, 1), 0);
	nodes[1].confirmed = 1;
	run_actions(1);
	assert_int_equal(nodes[1].nstable, 1);
	assert_int_equal(nodes[1].stable[0], r1);
	done(1);
	assert_int_equal(nodes[1].nstable, 2);
	assert_int_equal(nodes[1].stable[1], r2);
	/* a DONE beyond what was sent, or going back */
	assert_int_equal(tdm_sync_done(&nodes[1].s, 3), -EPROTO);
	assert_int_equal(tdm_sync_done(&nodes[1].s, 1), -EPROTO);
}

static void test_stable_two(void **state)
{
	uint64_t r;

	confchg(B(1) | B(2));
	settle();
	/* the other member acknowledges after the origin's own DONE */
	r = next_req;
	submit(1);
	deliver_all();
	done(1);
	ack_all();
	deliver_all();
	assert_false(has_stable(1, r));
	done(2);
	assert_true(ack_flush(2));
	assert_false(has_stable(1, r));
	deliver_all();
	assert_true(has_stable(1, r));
	assert_int_equal(nodes[2].nstable, 0); /* not its operation */
	/* ... and before it */
	r = submit_order(1);
	deliver_all();
	done(2);
	ack_all();
	deliver_all();
	assert_false(has_stable(1, r));
	done(1);
	assert_true(has_stable(1, r));
	/* the other way round */
	r = next_req;
	submit(2);
	settle();
	done(1);
	done(2);
	settle();
	assert_true(has_stable(2, r));
	assert_same(B(1) | B(2));
}

static void test_stable_three_coalesced(void **state)
{
	uint64_t first = next_req;
	size_t q0;

	confchg(B(1) | B(2) | B(3));
	settle();
	for (int i = 0; i < 5; i++)
		submit(1);
	deliver_all();
	done(1);
	/* five DONEs on 2 and 3, then one round: one ACK each */
	for (uint64_t c = 1; c <= 5; c++)
		for (uint32_t id = 2; id <= 3; id++) {
			assert_int_equal(tdm_sync_done(&nodes[id].s, c), 0);
			run_actions(id);
		}
	nodes[2].confirmed = nodes[3].confirmed = 5;
	q0 = qt;
	ack_all(); /* 1 (its own DONE), 2, 3 */
	assert_int_equal(qt - q0, 3);
	ack_all(); /* nothing new: none */
	assert_int_equal(qt - q0, 3);
	/* 1's and 2's ACKs are not enough */
	deliver_one();
	deliver_one();
	assert_int_equal(nodes[1].nstable, 0);
	deliver_one();
	assert_int_equal(nodes[1].nstable, 5);
	for (int i = 0; i < 5; i++)
		assert_int_equal(nodes[1].stable[i], first + (uint64_t)i);
	assert_same(B(1) | B(2) | B(3));
}

/* a member leaves while an operation waits for it */
static void test_stable_leave(void **state)
{
	uint64_t r;

	confchg(B(1) | B(2) | B(3));
	settle();
	r = next_req;
	submit(1);
	deliver_all();
	done(1);
	done(2);
	settle();
	assert_false(has_stable(1, r)); /* 3 has not applied it */
	leave(3);
	confchg(B(1) | B(2));
	deliver_all(); /* the cut: 2 continues and keeps its ACK */
	assert_true(has_stable(1, r));
	assert_int_equal(nodes[1].nlost, 0);
}

/* a member joins while an operation waits: it counts once synced */
static void test_stable_joiner(void **state)
{
	struct tdm_cmsg_ack a;
	uint64_t r;

	confchg(B(1) | B(2));
	settle();
	r = next_req;
	submit(1);
	deliver_all();
	done(1);
	confchg(B(1) | B(2) | B(3));
	while (qh < qt)
		deliver_one(); /* the cut */
	assert_true(nodes[3].s.waiting);
	done(2);
	ack_all();
	assert_false(tdm_sync_ack_due(&nodes[3].s, &a)); /* not synced */
	while (qh < qt)
		deliver_one();
	assert_false(has_stable(1, r)); /* 3 is waited for */
	flush_snapshots();
	while (qh < qt)
		deliver_one(); /* 3 loads the snapshot holding r */
	assert_true(tdm_sync_ready(&nodes[3].s));
	assert_int_equal(nodes[3].s.applied, 1);
	assert_false(has_stable(1, r));
	assert_true(tdm_sync_ack_due(&nodes[3].s, &a));
	assert_int_equal(a.applied_seq, 1);
	ack_all();
	deliver_all();
	assert_true(has_stable(1, r));
	/* the joiner's own operations become stable too */
	r = next_req;
	submit(3);
	deliver_all();
	for (uint32_t id = 1; id <= 3; id++)
		done(id);
	settle();
	assert_true(has_stable(3, r));
	assert_same(B(1) | B(2) | B(3));
}

static void test_stale_ack(void **state)
{
	struct tdm_cmsg_ack a;
	uint64_t r;

	confchg(B(1) | B(2));
	settle();
	r = next_req;
	submit(1);
	deliver_all();
	done(1);
	/* another configuration's tag */
	a = (struct tdm_cmsg_ack){2, 100, nodes[1].s.conf ^ 1};
	assert_int_equal(tdm_sync_ack(&nodes[1].s, 2, &a), 0);
	assert_false(has_stable(1, r));
	/* not the sender's own */
	a.conf = nodes[1].s.conf;
	assert_int_equal(tdm_sync_ack(&nodes[1].s, 3, &a), -EPROTO);
	/* not a member */
	a.nodeid = 4;
	assert_int_equal(tdm_sync_ack(&nodes[1].s, 4, &a), 0);
	assert_false(has_stable(1, r));
	/* between a configuration change (the very same members) and its
	 * cut: sent before the sender saw the change */
	confchg(B(1) | B(2));
	a.nodeid = 2;
	assert_int_equal(tdm_sync_ack(&nodes[1].s, 2, &a), 0);
	deliver_all();
	assert_false(has_stable(1, r));
	done(2);
	settle();
	assert_true(has_stable(1, r));
}

/* a group at version 1: no ACK, STABLE on the origin's own DONE */
static void test_stable_v1_group(void **state)
{
	struct tdm_cmsg_ack a;
	uint64_t r = next_req;

	tdm_sync_init(&nodes[2].s, 2, 1);
	tdm_sync_link(&nodes[2].s, 1);
	confchg(B(1) | B(2));
	settle();
	assert_int_equal(nodes[1].s.version, 1);
	submit(1);
	deliver_all();
	assert_false(tdm_sync_ack_due(&nodes[1].s, &a));
	assert_false(tdm_sync_ack_due(&nodes[2].s, &a));
	assert_false(has_stable(1, r));
	check_stable_safety = false; /* the weaker v1 guarantee */
	done(1);
	assert_true(has_stable(1, r));
	assert_int_equal(qh, qt);
}

/* an old tandemd (link version 1): no DONE, no STABLE; the agent
 * acknowledges what it sent */
static void test_stable_link_v1(void **state)
{
	struct tdm_cmsg_ack a;
	uint64_t r;

	tdm_sync_link(&nodes[1].s, 1);
	confchg(B(1) | B(2));
	settle();
	submit(1);
	deliver_all();
	assert_true(tdm_sync_ack_due(&nodes[1].s, &a));
	assert_int_equal(a.applied_seq, 1);
	assert_int_equal(tdm_sync_done(&nodes[1].s, 1), -EPROTO);
	settle();
	done(2);
	settle();
	assert_int_equal(nodes[1].nstable, 0);
	nodes[1].confirmed = nodes[1].nops; /* it applies what it gets */
	r = next_req;
	submit(2);
	deliver_all();
	nodes[1].confirmed = nodes[1].nops;
	done(2);
	assert_false(has_stable(2, r));
	settle();
	assert_true(has_stable(2, r));
}

/* the origin's history is replaced at a merge: LOST */
static void test_stable_lost(void **state)
{
	uint64_t r;

	confchg(B(1) | B(2));
	confchg(B(3));
	settle();
	for (int i = 0; i < 3; i++)
		submit(3);
	r = next_req;
	submit(1);
	deliver_all();
	done(1);
	assert_false(has_stable(1, r)); /* 2 did not apply it */
	confchg(B(1) | B(2) | B(3));
	settle();
	assert_int_equal(nodes[1].nlost, 1);
	assert_int_equal(nodes[1].lost[0], r);
	assert_false(has_stable(1, r));
	assert_same(B(1) | B(2) | B(3));
	assert_int_equal(nodes[1].base, 300);
}

static void test_order_codec(void **state)
{
	struct tdm_cmsg_ack a = {3, 0x1122334455667788ull, 0xabcd};
	struct tdm_cmsg m;
	uint16_t type, version;
	uint32_t origin;
	uint64_t req;
	uint8_t buf[256];
	size_t n;

	assert_int_equal(tdm_cmsg_put_order(&wb, 2, 5, 77, 9, "abc", 3), 0);
	assert_int_equal(tdm_cmsg_decode(wb.p, wb.len, 2, &m), 0);
	assert_int_equal(m.type, TDM_CMSG_ORDER_OP);
	assert_int_equal(m.origin, 5);
	assert_int_equal(m.req, 77);
	assert_int_equal(m.kind, 9);
	assert_int_equal(m.payload_len, 3);
	assert_memory_equal(m.payload, "abc", 3);
	assert_int_equal(
		tdm_cmsg_op_ids(wb.p, wb.len, &type, &version, &origin, &req),
		0);
	assert_int_equal(type, TDM_CMSG_ORDER_OP);
	assert_int_equal(version, 2);
	assert_int_equal(origin, 5);
	assert_int_equal(req, 77);
	/* a version-1 member refuses it; one claiming version 1 is bad */
	assert_int_equal(tdm_cmsg_decode(wb.p, wb.len, 1, &m), -ENOTSUP);
	n = wb.len;
	memcpy(buf, wb.p, n);
	buf[7] = 1;
	assert_int_equal(tdm_cmsg_decode(buf, n, 2, &m), -EPROTO);
	assert_int_equal(tdm_cmsg_put_order(&wb, 1, 5, 77, 9, "abc", 3),
			 -EINVAL);
	for (size_t k = 0; k < n; k++)
		assert_true(tdm_cmsg_decode(buf, k, 2, &m) < 0);
	/* ACK */
	assert_int_equal(tdm_cmsg_put_ack(&wb, 2, &a), 0);
	assert_int_equal(tdm_cmsg_decode(wb.p, wb.len, 2, &m), 0);
	assert_int_equal(m.type, TDM_CMSG_ACK);
	assert_int_equal(m.ack.nodeid, 3);
	assert_true(m.ack.applied_seq == a.applied_seq);
	assert_int_equal(m.ack.conf, 0xabcd);
	assert_int_equal(
		tdm_cmsg_op_ids(wb.p, wb.len, &type, &version, &origin, &req),
		-EPROTO);
	for (size_t k = 0; k < wb.len; k++)
		assert_true(tdm_cmsg_decode(wb.p, k, 2, &m) < 0);
	assert_int_equal(tdm_cmsg_put_ack(&wb, 1, &a), -EINVAL);
}

/* an operation encoded above the group version (queued before a member
 * of version 1 joined): dropped by every member */
static void test_drop_above_version(void **state)
{
	struct tdm_cluster_alua al;

	confchg(B(1));
	deliver_all();
	tdm_sync_init(&nodes[2].s, 2, 1);
	tdm_sync_link(&nodes[2].s, 1);
	confchg(B(1) | B(2));
	settle();
	assert_int_equal(nodes[1].s.version, 1);
	/* ORDER-OP and ALUA-OP at version 2 */
	assert_int_equal(tdm_cmsg_put_order(&wb, 2, 1, next_req++, 1, "", 0),
			 0);
	enqueue(1, wb.p, wb.len);
	memset(&al, 0, sizeof(al));
	assert_int_equal(tdm_cmsg_put_alua(&wb, 2, 1, next_req++, &al), 0);
	enqueue(1, wb.p, wb.len);
	submit(1); /* version 1: applied */
	deliver_all();
	assert_int_equal(nodes[1].drops, 2);
	assert_int_equal(nodes[2].drops, 2);
	assert_int_equal(nodes[1].s.seq, 1);
	assert_same(B(1) | B(2));
}

/* random joins, leaves, restarts, operations, DONEs and ACK rounds; every
 * STABLE is checked (assert_stable_safe) */
static void test_random_stable(void **state)
{
	unsigned seed = 777;
	uint32_t mask = 0;
	size_t stables = 0, losts = 0;

	for (int step = 0; step < 4000; step++) {
		uint32_t r = (uint32_t)rand_r(&seed), id = 1 + r % (NN - 1);
		int what = (int)((r >> 8) % 20);

		if (what == 0 && !(mask & B(id))) {
			fresh(id, 1000 * (uint64_t)step + id);
			mask |= B(id);
			confchg(mask);
		} else if (what == 1 && (mask & B(id))) {
			leave(id);
			mask &= ~B(id);
			if (mask)
				confchg(mask);
		} else if (what < 7 && (mask & B(id)) &&
			   tdm_sync_ready(&nodes[id].s)) {
			if (what & 1)
				submit(id);
			else
				submit_order(id);
		} else if (what < 10 && (mask & B(id))) {
			done(id);
		} else if (what < 12) {
			ack_all();
		} else if (qh < qt) {
			deliver_one();
		} else {
			flush_snapshots();
		}
	}
	/* everyone applies and acknowledges: nothing stays waiting */
	for (int k = 0; k < 3; k++) {
		settle();
		for (uint32_t id = 1; id < NN; id++)
			if (mask & B(id))
				done(id);
	}
	settle();
	for (uint32_t id = 1; id < NN; id++) {
		stables += nodes[id].nstable;
		losts += nodes[id].nlost;
		if (mask & B(id))
			assert_int_equal(nodes[id].s.nstab, 0);
	}
	print_message("random: %zu STABLE, %zu LOST\n", stables, losts);
	assert_true(stables > 100);
	if (mask)
		assert_same(mask);
}

/* ---- protocol 5: heads that left and joined (sync.h "Heads") ---- */

/* every agent at protocol 5, link version 3; head i has ports 10i, 10i+1 */
static int setup5(void **state)
{
	setup2(state);
	for (uint32_t id = 1; id < NN; id++) {
		struct tdm_agent_ports p = {
			2, {(uint16_t)(10 * id), (uint16_t)(10 * id + 1)}};

		tdm_sync_init(&nodes[id].s, id, 5);
		tdm_sync_link(&nodes[id].s, 3);
		tdm_sync_set_ports(&nodes[id].s, &p);
	}
	return 0;
}

static void assert_heads(uint32_t id, int nheads, uint32_t left,
			 uint32_t joined_mask)
{
	struct node *n = &nodes[id];
	uint32_t mask = 0;

	assert_int_equal(n->nheads, nheads);
	assert_int_equal(n->nleft, left ? 1 : 0);
	if (left) {
		assert_int_equal(n->left[0], left);
		assert_int_equal(n->left_port[0], 10 * left);
	}
	for (size_t k = 0; k < n->njoined; k++) {
		mask |= 1u << n->joined[k];
		assert_int_equal(n->joined_port[k], 10 * n->joined[k]);
	}
	assert_int_equal(mask, joined_mask);
	assert_false(n->heads_after_get);
}

static void test_heads(void **state)
{
	confchg(B(1));
	settle();
	assert_heads(1, 1, 0, B(1)); /* a first start: itself */
	confchg(B(1) | B(2));
	settle();
	assert_heads(1, 2, 0, B(2));
	assert_heads(2, 1, 0, B(1) | B(2)); /* fresh: every member joins */
	assert_int_equal(nodes[1].gets, 1);
	confchg(B(1) | B(2) | B(3));
	settle();
	assert_heads(1, 3, 0, B(3));
	assert_heads(2, 2, 0, B(3));
	assert_same(B(1) | B(2) | B(3));
	/* head 2 dies: both survivors know its ports (from the previous
	 * cut), at the same cut */
	leave(2);
	confchg(B(1) | B(3));
	settle();
	assert_heads(1, 4, 2, 0);
	assert_heads(3, 2, 2, 0);
	/* nothing changes at a cut without a change of members: none */
	confchg(B(1) | B(3));
	settle();
	assert_int_equal(nodes[1].nheads, 4);
	/* two changes before one cut: head 3 leaves, head 2 comes back;
	 * the first configuration's SYNC-INFOs are stale */
	leave(3);
	nodes[1].up = true;
	{
		uint32_t ids1[] = {1}, ids12[] = {1, 2};

		assert_int_equal(tdm_sync_confchg(&nodes[1].s, ids1, 1), 0);
		run_actions(1);
		nodes[1].view = B(1) | B(2);
		nodes[2].up = true;
		nodes[2].view = B(1) | B(2);
		assert_int_equal(tdm_sync_confchg(&nodes[1].s, ids12, 2), 0);
		run_actions(1);
		assert_int_equal(tdm_sync_confchg(&nodes[2].s, ids12, 2), 0);
		run_actions(2);
	}
	settle();
	assert_heads(1, 5, 3, B(2));
	assert_same(B(1) | B(2));
}

/* a head's ports change (a configuration apply): announced at the next
 * cut; one that leaves afterwards departs with them */
static void test_heads_ports_change(void **state)
{
	struct tdm_agent_ports p = {1, {77}};

	confchg(B(1));
	settle();
	confchg(B(1) | B(2));
	settle();
	tdm_sync_set_ports(&nodes[2].s, &p);
	confchg(B(1) | B(2) | B(3));
	settle();
	leave(2);
	confchg(B(1) | B(3));
	settle();
	assert_int_equal(nodes[1].nleft, 1);
	assert_int_equal(nodes[1].left[0], 2);
	assert_int_equal(nodes[1].left_port[0], 77);
	assert_int_equal(nodes[3].left_port[0], 77);
}

/* an older agent's SYNC-INFO has no ports: its head departs with none */
static void test_heads_older_agent(void **state)
{
	tdm_sync_set_ports(&nodes[2].s, NULL);
	confchg(B(1) | B(2));
	settle();
	leave(2);
	confchg(B(1));
	settle();
	assert_int_equal(nodes[1].nleft, 1);
	assert_int_equal(nodes[1].left[0], 2);
	assert_int_equal(nodes[1].left_port[0], 0);
	assert_int_equal(nodes[1].s.heads[0].ports.n, 0);
}

/* SYNC-INFO's ports: round trip, absent, too many, truncated */
static void test_heads_codec(void **state)
{
	struct tdm_cmsg_info info = {5, 1, 77, 5, 0x1234};
	struct tdm_agent_ports p = {3, {1, 2, 300}};
	struct tdm_cmsg m;
	uint8_t buf[512];
	size_t n;

	assert_int_equal(tdm_cmsg_put_info_ports(&wb, &info, &p), 0);
	assert_int_equal(tdm_cmsg_decode(wb.p, wb.len, 5, &m), 0);
	assert_int_equal(m.ports.n, 3);
	assert_int_equal(m.ports.id[2], 300);
	assert_int_equal(m.info.seq, 77);
	/* every truncation inside the list fails cleanly */
	for (size_t k = wb.len - 7; k < wb.len; k++) {
		memcpy(buf, wb.p, k);
		buf[3] = (uint8_t)(k - 4);
		assert_int_equal(tdm_cmsg_decode(buf, k, 5, &m), -EPROTO);
	}
	/* more than TDM_AGENT_PORTS_MAX: refused */
	n = wb.len - 8;
	memcpy(buf, wb.p, n);
	buf[n++] = (uint8_t)((TDM_AGENT_PORTS_MAX + 1) >> 8);
	buf[n++] = (uint8_t)(TDM_AGENT_PORTS_MAX + 1);
	for (int k = 0; k <= TDM_AGENT_PORTS_MAX && n + 2 <= sizeof(buf); k++) {
		buf[n++] = 0;
		buf[n++] = 1;
	}
	buf[2] = (uint8_t)((n - 4) >> 8);
	buf[3] = (uint8_t)(n - 4);
	assert_int_equal(tdm_cmsg_decode(buf, n, 5, &m), -EPROTO);
	/* an older agent's (none): no ports */
	assert_int_equal(tdm_cmsg_put_info(&wb, &info), 0);
	assert_int_equal(tdm_cmsg_decode(wb.p, wb.len, 5, &m), 0);
	assert_int_equal(m.ports.n, 0);
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
		cmocka_unit_test_setup_teardown(
			test_source_lost_before_snapshot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_own_buffered_op_dropped,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_version_min, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_chunks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_codec, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stable_single, setup2,
						teardown),
		cmocka_unit_test_setup_teardown(test_stable_two, setup2,
						teardown),
		cmocka_unit_test_setup_teardown(test_stable_three_coalesced,
						setup2, teardown),
		cmocka_unit_test_setup_teardown(test_stable_leave, setup2,
						teardown),
		cmocka_unit_test_setup_teardown(test_stable_joiner, setup2,
						teardown),
		cmocka_unit_test_setup_teardown(test_stale_ack, setup2,
						teardown),
		cmocka_unit_test_setup_teardown(test_stable_v1_group, setup2,
						teardown),
		cmocka_unit_test_setup_teardown(test_stable_link_v1, setup2,
						teardown),
		cmocka_unit_test_setup_teardown(test_stable_lost, setup2,
						teardown),
		cmocka_unit_test_setup_teardown(test_order_codec, setup2,
						teardown),
		cmocka_unit_test_setup_teardown(test_drop_above_version, setup2,
						teardown),
		cmocka_unit_test_setup_teardown(test_random_stable, setup2,
						teardown),
		cmocka_unit_test_setup_teardown(test_heads, setup5, teardown),
		cmocka_unit_test_setup_teardown(test_heads_ports_change, setup5,
						teardown),
		cmocka_unit_test_setup_teardown(test_heads_older_agent, setup5,
						teardown),
		cmocka_unit_test_setup_teardown(test_heads_codec, setup5,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL) ? 1 : 0;
}
