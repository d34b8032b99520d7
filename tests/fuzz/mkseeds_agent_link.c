/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * mkseeds_agent_link.c - writes the seed corpora of fuzz_agent (one
 * cluster message per file, agentd/cluster_msg.h) and fuzz_link (a
 * stream of link frames per file, agentd/agent_msg.h, and snapshot
 * bodies, scsi/cluster.c), made with the encoders the daemons use:
 *
 *   make fuzz-seeds    (tests/fuzz/corpus/agent/, tests/fuzz/corpus/link/)
 *
 * Every kind of message each fuzzer parses, well-formed, a few hundred
 * bytes at most. The output is the same on every run. Each seed is
 * checked before it is written: a cluster message decodes, a link file is
 * whole frames that read to their end, a snapshot loads. Exits 0, or 1
 * with a message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentd/agent_msg.h"
#include "agentd/cluster_msg.h"
#include "agentd/sync.h"
#include "pr-sync/pr.h"
#include "tandem/cluster.h"
#include "lib/log.h"

/* scsi/scsi_int.h TDM__ORD_*: the core's ordered events */
#define ORD_SPC2_RESERVE 1
#define ORD_SPC2_RELEASE 2
#define ORD_NEXUS_GONE 3
#define ORD_LU_RESET 4
#define ORD_ALUA_ACTIVATE 7
#define ORD_ALUA_SET_TGRP 8

static const char *agent_dir, *link_dir;

static void fail(const char *what, const char *name)
{
	fprintf(stderr, "mkseeds_agent_link: %s: %s\n", name, what);
	exit(1);
}

static void save(const char *dir, const char *name, const uint8_t *p,
		 size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(p, 1, len, f) != len || fclose(f) != 0)
		fail("cannot write the file", path);
}

/* ---- the pieces: initiator ports, PR OUT commands, a PR state ---- */

static struct tdm_pr_nexus host1, host2;
static struct tdm_pr_state pr_state;

static void nexus(struct tdm_pr_nexus *nx, const char *iqn, uint8_t isid5,
		  uint16_t rel_port)
{
	const uint8_t isid[6] = {0x40, 0x00, 0x01, 0x37, 0x00, isid5};

	memset(nx, 0, sizeof(*nx));
	if (tdm_pr_tid_iscsi(&nx->tid, iqn, isid) < 0)
		fail("bad iSCSI name", iqn);
	nx->rel_port = rel_port;
}

/* A PERSISTENT RESERVE OUT as PR-OUT / PR-OP / PR-APPLY carry it. */
struct pr_out {
	uint8_t cdb[10], param[24], tid[300];
	struct tdm_cluster_pr pr;
};

static void pr_out(struct pr_out *o, const char *dev, uint8_t sa, uint8_t type,
		   uint64_t key, uint64_t sa_key, const struct tdm_pr_nexus *nx)
{
	size_t n;

	memset(o, 0, sizeof(*o));
	/* SPC-4 6.16.1, table 215: PARAMETER LIST LENGTH 24 */
	o->cdb[0] = 0x5F;
	o->cdb[1] = sa;
	o->cdb[2] = (uint8_t)(TDM_PR_SCOPE_LU << 4 | type);
	o->cdb[8] = sizeof(o->param);
	/* SPC-4 6.16.3, table 220: RESERVATION KEY, SERVICE ACTION
	 * RESERVATION KEY */
	for (int i = 0; i < 8; i++) {
		o->param[i] = (uint8_t)(key >> (56 - 8 * i));
		o->param[8 + i] = (uint8_t)(sa_key >> (56 - 8 * i));
	}
	n = tdm_pr_tid_encode(&nx->tid, o->tid, sizeof(o->tid));
	if (!n || n > sizeof(o->tid))
		fail("TransportID does not encode", dev);
	snprintf(o->pr.device, sizeof(o->pr.device), "%s", dev);
	o->pr.cdb = o->cdb;
	o->pr.cdb_len = sizeof(o->cdb);
	o->pr.param = o->param;
	o->pr.param_len = sizeof(o->param);
	o->pr.tid = o->tid;
	o->pr.tid_len = n;
	o->pr.rel_port = nx->rel_port;
}

/* Apply o to pr_state as every head would (pr-sync). */
static void pr_apply(const struct pr_out *o, const struct tdm_pr_nexus *nx)
{
	static const uint16_t ids[] = {1, 2};
	const struct tdm_pr_ports ports = {.n = 2, .ids = ids};
	struct tdm_sense_info info;
	struct tdm_pr_result res;
	struct tdm_pr_op op;
	int sr;

	if (tdm_pr_out_decode(o->cdb, o->param, sizeof(o->param), &op, &info) !=
	    TDM_SR_OK)
		fail("PR OUT does not decode", o->pr.device);
	sr = tdm_pr_apply(&pr_state, &op, nx, &ports, &res);
	tdm_pr_result_free(&res);
	tdm_pr_op_free(&op);
	if (sr != TDM_SR_OK)
		fail("PR OUT does not apply", o->pr.device);
}

static void alua(struct tdm_cluster_alua *a, const char *dev, size_t n)
{
	memset(a, 0, sizeof(*a));
	snprintf(a->device, sizeof(a->device), "%s", dev);
	a->n = n;
	for (size_t i = 0; i < n; i++) {
		a->set[i].group_id = (uint16_t)(i + 1);
		a->set[i].state = (uint8_t)i; /* active/optimized, ... */
	}
}

/* The payload of the core's ordered events (scsi/cluster.c): str device,
 * bytes TransportID, u16 relative target port. */
static void ord_payload(struct tdm_wbuf *w, const char *dev,
			const struct tdm_pr_nexus *nx)
{
	uint8_t tid[300];
	size_t n = nx ? tdm_pr_tid_encode(&nx->tid, tid, sizeof(tid)) : 0;

	tdm_agent_begin(w, 0); /* the body alone: from TDM_FRAME_HDR */
	tdm_wbuf_put_str(w, dev);
	tdm_wbuf_put_bytes(w, tid, n);
	tdm_wbuf_put_u16(w, nx ? nx->rel_port : 0);
}

/* ---- snapshots (scsi/cluster.c: "TDMS", version 1 to 3) ---- */

static void put_state(struct tdm_wbuf *w, const struct tdm_pr_state *st)
{
	uint8_t buf[1024];
	size_t n = tdm_pr_encode(st, buf, sizeof(buf));

	if (!n)
		fail("PR state does not encode", "snapshot");
	tdm_wbuf_put_bytes(w, buf, n);
}

static void put_holder(struct tdm_wbuf *w, const struct tdm_pr_nexus *nx)
{
	uint8_t tid[300];
	size_t n = nx ? tdm_pr_tid_encode(&nx->tid, tid, sizeof(tid)) : 0;

	tdm_wbuf_put_u8(w, nx != NULL);
	tdm_wbuf_put_bytes(w, tid, n);
	tdm_wbuf_put_u16(w, nx ? nx->rel_port : 0);
}

/* A snapshot body into w (from TDM_FRAME_HDR): disk0 with pr_state,
 * disk1 with an SPC-2 reservation, two port groups. */
static void snapshot(struct tdm_wbuf *w, uint16_t version)
{
	struct tdm_pr_state empty;
	char err[256];

	tdm_pr_state_init(&empty);
	tdm_agent_begin(w, 0);
	tdm_wbuf_put_bytes(w, "TDMS", 4);
	tdm_wbuf_put_u16(w, version);
	tdm_wbuf_put_u32(w, 2);
	tdm_wbuf_put_str(w, "disk0");
	put_state(w, &pr_state);
	if (version >= 2)
		put_holder(w, NULL);
	tdm_wbuf_put_str(w, "disk1");
	put_state(w, &empty);
	if (version >= 2)
		put_holder(w, &host2);
	tdm_wbuf_put_u32(w, 2);
	tdm_wbuf_put_str(w, "dg0");
	tdm_wbuf_put_u16(w, 1);
	tdm_wbuf_put_u8(w, 0); /* active/optimized */
	tdm_wbuf_put_u8(w, 0);
	tdm_wbuf_put_str(w, "dg0");
	tdm_wbuf_put_u16(w, 2);
	tdm_wbuf_put_u8(w, 1); /* active/non-optimized */
	tdm_wbuf_put_u8(w, 1); /* altered by SET TARGET PORT GROUPS */
	if (version >= 3)
		tdm_wbuf_put_bytes(w, NULL, 0); /* no daemon's part */
	tdm_pr_state_free(&empty);
	if (w->oom ||
	    tdm_cluster_load(w->p + TDM_FRAME_HDR, w->len - TDM_FRAME_HDR, err,
			     sizeof(err)) != 0)
		fail("snapshot does not load", err);
}

/* ---- fuzz_agent: one cluster message per file ---- */

static void agent_seed(const char *name, struct tdm_wbuf *w, int r,
		       uint16_t type)
{
	struct tdm_cmsg m;

	if (r != 0 || tdm_cmsg_decode(w->p, w->len, AGENT_PROTO_VERSION, &m) ||
	    m.type != type)
		fail("cluster message does not decode", name);
	save(agent_dir, name, w->p, w->len);
}

/* The tag of the configuration of nodes 1 to n (sync.h), as fuzz_agent's
 * member (node 2) computes it. */
static uint32_t conf_tag(size_t n)
{
	static const uint32_t ids[] = {1, 2, 3};
	static struct tdm_sync s;
	uint32_t tag;

	tdm_sync_init(&s, 2, AGENT_PROTO_VERSION);
	if (tdm_sync_confchg(&s, ids, n) != 0)
		fail("no configuration", "agent");
	tag = s.conf;
	tdm_sync_free(&s);
	return tag;
}

static void agent_seeds(const struct pr_out *reg, const struct pr_out *res,
			const struct pr_out *pre)
{
	struct tdm_wbuf w = {0}, body = {0};
	/* nodes 1 and 2: node 1 holds the state at seq 42, node 2 joins */
	struct tdm_cmsg_info info = {2, 1, 42, 1, conf_tag(2)};
	struct tdm_cmsg_info joining = {2, 0, 0, 2, conf_tag(2)};
	/* node 3, an older agent, joins them */
	struct tdm_cmsg_info third = {1, 0, 0, 3, conf_tag(3)};
	struct tdm_cmsg_ack ack = {1, 42, conf_tag(2)};
	struct tdm_cluster_alua *a = malloc(sizeof(*a));
	const uint8_t *snap;
	uint32_t snap_len;

	if (!a)
		fail("out of memory", "agent");
	agent_seed("sync_info", &w, tdm_cmsg_put_info(&w, &info),
		   TDM_CMSG_SYNC_INFO);
	agent_seed("sync_info_joining", &w, tdm_cmsg_put_info(&w, &joining),
		   TDM_CMSG_SYNC_INFO);
	agent_seed("sync_info_third", &w, tdm_cmsg_put_info(&w, &third),
		   TDM_CMSG_SYNC_INFO);
	agent_seed("pr_op_register", &w, tdm_cmsg_put_pr(&w, 2, 1, 1, &reg->pr),
		   TDM_CMSG_PR_OP);
	agent_seed("pr_op_reserve_v1", &w,
		   tdm_cmsg_put_pr(&w, 1, 1, 2, &res->pr), TDM_CMSG_PR_OP);
	agent_seed("pr_op_preempt", &w, tdm_cmsg_put_pr(&w, 2, 2, 3, &pre->pr),
		   TDM_CMSG_PR_OP);
	alua(a, "disk0", 2);
	agent_seed("alua_op", &w, tdm_cmsg_put_alua(&w, 2, 1, 4, a),
		   TDM_CMSG_ALUA_OP);
	alua(a, "", 3); /* tandemctl's: every device */
	agent_seed("alua_op_all_v1", &w, tdm_cmsg_put_alua(&w, 1, 2, 5, a),
		   TDM_CMSG_ALUA_OP);
	snapshot(&body, 3);
	snap = body.p + TDM_FRAME_HDR;
	snap_len = (uint32_t)(body.len - TDM_FRAME_HDR);
	agent_seed(
		"snap_chunk_whole", &w,
		tdm_cmsg_put_chunk(&w, 2, 1, 42, snap_len, 0, snap, snap_len),
		TDM_CMSG_SNAP_CHUNK);
	agent_seed("snap_chunk_first", &w,
		   tdm_cmsg_put_chunk(&w, 2, 1, 42, snap_len, 0, snap,
				      snap_len / 2),
		   TDM_CMSG_SNAP_CHUNK);
	agent_seed("snap_chunk_last", &w,
		   tdm_cmsg_put_chunk(&w, 2, 1, 42, snap_len, snap_len / 2,
				      snap + snap_len / 2,
				      snap_len - snap_len / 2),
		   TDM_CMSG_SNAP_CHUNK);
	ord_payload(&body, "disk0", &host1);
	agent_seed("order_op_spc2_reserve", &w,
		   tdm_cmsg_put_order(&w, 2, 1, 6, ORD_SPC2_RESERVE,
				      body.p + TDM_FRAME_HDR,
				      body.len - TDM_FRAME_HDR),
		   TDM_CMSG_ORDER_OP);
	ord_payload(&body, "", &host2);
	agent_seed("order_op_nexus_gone", &w,
		   tdm_cmsg_put_order(&w, 2, 2, 0, ORD_NEXUS_GONE,
				      body.p + TDM_FRAME_HDR,
				      body.len - TDM_FRAME_HDR),
		   TDM_CMSG_ORDER_OP);
	agent_seed("order_op_daemon", &w,
		   tdm_cmsg_put_order(&w, 2, 1, 7, TDM_CLUSTER_KIND_DAEMON,
				      "edit", 4),
		   TDM_CMSG_ORDER_OP);
	agent_seed("ack", &w, tdm_cmsg_put_ack(&w, 2, &ack), TDM_CMSG_ACK);
	/* node 3 left {1,2,3}; node 1 learnt it was fenced (protocol 5) */
	struct tdm_cmsg_fenced fenced = {3, TDM_FENCED_PACEMAKER, conf_tag(2),
					 4500};
	agent_seed("fenced", &w, tdm_cmsg_put_fenced(&w, 5, &fenced),
		   TDM_CMSG_FENCED);
	free(a);
	tdm_wbuf_free(&w);
	tdm_wbuf_free(&body);
}

/* ---- fuzz_link: frames of the link, and a bare snapshot ---- */

/* Read one frame as its receiver does (agent_msg.h): false if it does
 * not read to its end. */
static bool frame_ok(const uint8_t *f, size_t len)
{
	struct tdm_cluster_alua *a = malloc(sizeof(*a));
	struct tdm_rd r;
	struct tdm_cluster_pr pr;
	uint16_t type, version;
	const uint8_t *p;
	size_t n;
	char s[TDM_CODEC_STR_MAX + 1], err[256];
	bool ok = true;

	if (!a)
		fail("out of memory", "link");
	tdm_frame_open(&r, f, len, &type, &version);
	switch (type) {
	case TDM_AGENT_HELLO:
		(void)tdm_rd_get_u16(&r);
		(void)tdm_rd_get_u16(&r);
		tdm_rd_get_str(&r, s, sizeof(s));
		(void)tdm_rd_get_u32(&r); /* version 3: the agent timeout */
		break;
	case TDM_AGENT_PR_APPLY:
		(void)tdm_rd_get_u32(&r);
		/* fall through */
	case TDM_AGENT_PR_OUT:
		(void)tdm_rd_get_u64(&r);
		tdm_agent_get_pr(&r, &pr);
		break;
	case TDM_AGENT_ALUA_APPLY:
		(void)tdm_rd_get_u32(&r);
		/* fall through */
	case TDM_AGENT_ALUA_SET:
		(void)tdm_rd_get_u64(&r);
		tdm_agent_get_alua(&r, a);
		break;
	case TDM_AGENT_SNAPSHOT:
		(void)tdm_rd_get_u64(&r);
		p = tdm_rd_get_bytes(&r, &n);
		ok = p && tdm_cluster_load(p, n, err, sizeof(err)) == 0;
		break;
	case TDM_AGENT_ORDERED:
		(void)tdm_rd_get_u32(&r);
		/* fall through */
	case TDM_AGENT_ORDER:
		(void)tdm_rd_get_u64(&r);
		(void)tdm_rd_get_u8(&r);
		(void)tdm_rd_get_bytes(&r, &n);
		break;
	case TDM_AGENT_WELCOME:
		(void)tdm_rd_get_u16(&r);
		(void)tdm_rd_get_u32(&r);
		break;
	case TDM_AGENT_STATUS:
		(void)tdm_rd_get_u8(&r);
		(void)tdm_rd_get_u8(&r);
		(void)tdm_rd_get_u32(&r);
		(void)tdm_rd_get_u64(&r);
		(void)tdm_rd_get_u16(&r);
		break;
	case TDM_AGENT_REJECT:
		(void)tdm_rd_get_u64(&r);
		(void)tdm_rd_get_u8(&r);
		break;
	case TDM_AGENT_SNAPSHOT_LOAD:
		p = tdm_rd_get_bytes(&r, &n);
		ok = p && tdm_cluster_load(p, n, err, sizeof(err)) == 0;
		break;
	case TDM_AGENT_DONE:
	case TDM_AGENT_SNAPSHOT_GET:
	case TDM_AGENT_STABLE:
		(void)tdm_rd_get_u64(&r);
		break;
	default:
		ok = false;
	}
	free(a);
	return ok && tdm_rd_done(&r);
}

/* A file of whole frames, each of which reads to its end. */
static void link_seed(const char *name, const uint8_t *p, size_t len)
{
	size_t off = 0;
	long n;

	while (off < len) {
		n = tdm_frame_len(p + off, len - off);
		if (n <= 0 || !frame_ok(p + off, (size_t)n))
			fail("not a well-formed frame", name);
		off += (size_t)n;
	}
	save(link_dir, name, p, len);
}

/* Appends frames to a stream. */
struct stream {
	uint8_t buf[8192];
	size_t len;
};

static void frame(struct stream *st, const char *name, struct tdm_wbuf *w)
{
	if (tdm_frame_end(w) != 0 || w->len > sizeof(st->buf) - st->len)
		fail("frame does not encode", name);
	link_seed(name, w->p, w->len);
	memcpy(st->buf + st->len, w->p, w->len);
	st->len += w->len;
}

static void link_seeds(const struct pr_out *reg, const struct pr_out *res)
{
	static const uint8_t ordered_kinds[] = {
		ORD_SPC2_RESERVE, ORD_SPC2_RELEASE, ORD_NEXUS_GONE,
		ORD_LU_RESET, TDM_CLUSTER_KIND_DAEMON};
	static const char *const ordered_names[] = {
		"ordered_spc2_reserve", "ordered_spc2_release",
		"ordered_nexus_gone", "ordered_lu_reset", "ordered_daemon"};
	static struct stream to_agent, to_tandemd;
	struct tdm_wbuf w = {0}, body = {0};
	struct tdm_cluster_alua *a = malloc(sizeof(*a));
	char name[32];

	if (!a)
		fail("out of memory", "link");
	/* tandemd -> agent */
	tdm_agent_begin(&w, TDM_AGENT_HELLO);
	tdm_wbuf_put_u16(&w, 1);
	tdm_wbuf_put_u16(&w, TDM_AGENT_LINK_VERSION);
	tdm_wbuf_put_str(&w, "head1");
	tdm_wbuf_put_u32(&w, 1500); /* version 3: tandemd's agent timeout */
	frame(&to_agent, "hello", &w);
	tdm_agent_begin(&w, TDM_AGENT_PR_OUT);
	tdm_wbuf_put_u64(&w, 1);
	tdm_agent_put_pr(&w, &reg->pr);
	frame(&to_agent, "pr_out", &w);
	alua(a, "disk0", 2);
	tdm_agent_begin(&w, TDM_AGENT_ALUA_SET);
	tdm_wbuf_put_u64(&w, 2);
	tdm_agent_put_alua(&w, a);
	frame(&to_agent, "alua_set", &w);
	ord_payload(&body, "disk0", &host1);
	tdm_agent_begin(&w, TDM_AGENT_ORDER);
	tdm_wbuf_put_u64(&w, 3);
	tdm_wbuf_put_u8(&w, ORD_SPC2_RESERVE);
	tdm_wbuf_put_bytes(&w, body.p + TDM_FRAME_HDR,
			   body.len - TDM_FRAME_HDR);
	frame(&to_agent, "order", &w);
	snapshot(&body, 3);
	tdm_agent_begin(&w, TDM_AGENT_SNAPSHOT);
	tdm_wbuf_put_u64(&w, 4);
	tdm_wbuf_put_bytes(&w, body.p + TDM_FRAME_HDR,
			   body.len - TDM_FRAME_HDR);
	frame(&to_agent, "snapshot", &w);
	tdm_agent_begin(&w, TDM_AGENT_DONE);
	tdm_wbuf_put_u64(&w, 3);
	frame(&to_agent, "done", &w);

	/* agent -> tandemd */
	tdm_agent_begin(&w, TDM_AGENT_WELCOME);
	tdm_wbuf_put_u16(&w, TDM_AGENT_LINK_VERSION);
	tdm_wbuf_put_u32(&w, 1);
	frame(&to_tandemd, "welcome", &w);
	tdm_agent_begin(&w, TDM_AGENT_STATUS);
	tdm_wbuf_put_u8(&w, 1);
	tdm_wbuf_put_u8(&w, 1);
	tdm_wbuf_put_u32(&w, 2);
	tdm_wbuf_put_u64(&w, 42);
	tdm_wbuf_put_u16(&w, AGENT_PROTO_VERSION);
	frame(&to_tandemd, "status", &w);
	tdm_agent_begin(&w, TDM_AGENT_PR_APPLY);
	tdm_wbuf_put_u32(&w, 1);
	tdm_wbuf_put_u64(&w, 1);
	tdm_agent_put_pr(&w, &reg->pr);
	frame(&to_tandemd, "pr_apply_register", &w);
	tdm_agent_begin(&w, TDM_AGENT_PR_APPLY);
	tdm_wbuf_put_u32(&w, 2);
	tdm_wbuf_put_u64(&w, 7);
	tdm_agent_put_pr(&w, &res->pr);
	frame(&to_tandemd, "pr_apply_reserve", &w);
	tdm_agent_begin(&w, TDM_AGENT_ALUA_APPLY);
	tdm_wbuf_put_u32(&w, 1);
	tdm_wbuf_put_u64(&w, 2);
	tdm_agent_put_alua(&w, a);
	frame(&to_tandemd, "alua_apply", &w);
	for (size_t i = 0; i < sizeof(ordered_kinds); i++) {
		if (ordered_kinds[i] < TDM_CLUSTER_KIND_DAEMON)
			ord_payload(&body, i % 2 ? "" : "disk0",
				    ordered_kinds[i] == ORD_LU_RESET ? NULL
								     : &host2);
		tdm_agent_begin(&w, TDM_AGENT_ORDERED);
		tdm_wbuf_put_u32(&w, 2);
		tdm_wbuf_put_u64(&w, 8 + i);
		tdm_wbuf_put_u8(&w, ordered_kinds[i]);
		if (ordered_kinds[i] < TDM_CLUSTER_KIND_DAEMON)
			tdm_wbuf_put_bytes(&w, body.p + TDM_FRAME_HDR,
					   body.len - TDM_FRAME_HDR);
		else
			tdm_wbuf_put_bytes(&w, "edit", 4);
		frame(&to_tandemd, ordered_names[i], &w);
	}
	/* the ALUA transitions (scsi/cluster.c): kind 7, -activate_tgrp
	 * (str dg, str tg, str who); kind 8, -set_tgrp_state (str dg, str
	 * tg, u8 state, u8 preferred 0|1|2 = kept, str who) */
	for (uint8_t kind = ORD_ALUA_ACTIVATE; kind <= ORD_ALUA_SET_TGRP;
	     kind++) {
		tdm_agent_begin(&w, TDM_AGENT_ORDERED);
		tdm_wbuf_put_u32(&w, 2);
		tdm_wbuf_put_u64(&w, 20 + kind);
		tdm_wbuf_put_u8(&w, kind);
		tdm_wbuf_reset(&body);
		tdm_wbuf_put_str(&body, "dg");
		tdm_wbuf_put_str(&body, "tg1");
		if (kind == ORD_ALUA_SET_TGRP) {
			tdm_wbuf_put_u8(&body, 2); /* standby */
			tdm_wbuf_put_u8(&body, 0);
		}
		tdm_wbuf_put_str(&body, "tandemctl (pid 1, uid 0)");
		tdm_wbuf_put_bytes(&w, body.p, body.len);
		frame(&to_tandemd,
		      kind == ORD_ALUA_SET_TGRP ? "ordered_alua_set_tgrp"
						: "ordered_alua_activate",
		      &w);
	}
	tdm_agent_begin(&w, TDM_AGENT_STABLE);
	tdm_wbuf_put_u64(&w, 1);
	frame(&to_tandemd, "stable", &w);
	tdm_agent_begin(&w, TDM_AGENT_REJECT);
	tdm_wbuf_put_u64(&w, 2);
	tdm_wbuf_put_u8(&w, 2); /* ALUA-SET */
	frame(&to_tandemd, "reject", &w);
	tdm_agent_begin(&w, TDM_AGENT_SNAPSHOT_GET);
	tdm_wbuf_put_u64(&w, 5);
	frame(&to_tandemd, "snapshot_get", &w);
	for (uint16_t v = 1; v <= 3; v++) {
		snapshot(&body, v);
		tdm_agent_begin(&w, TDM_AGENT_SNAPSHOT_LOAD);
		tdm_wbuf_put_bytes(&w, body.p + TDM_FRAME_HDR,
				   body.len - TDM_FRAME_HDR);
		snprintf(name, sizeof(name), "snapshot_load_v%u", v);
		frame(&to_tandemd, name, &w);
		if (v == 3) /* the whole input is a snapshot body, too */
			save(link_dir, "snapshot_body", body.p + TDM_FRAME_HDR,
			     body.len - TDM_FRAME_HDR);
	}

	/* whole conversations, one per direction */
	link_seed("stream_to_agent", to_agent.buf, to_agent.len);
	link_seed("stream_to_tandemd", to_tandemd.buf, to_tandemd.len);
	free(a);
	tdm_wbuf_free(&w);
	tdm_wbuf_free(&body);
}

int main(int argc, char **argv)
{
	struct pr_out reg1, reg2, res, pre;

	if (argc != 3) {
		fprintf(stderr, "usage: %s AGENT_DIR LINK_DIR\n", argv[0]);
		return 1;
	}
	agent_dir = argv[1];
	link_dir = argv[2];
	/* loading a snapshot with no LU configured warns about each */
	tdm_log_init("mkseeds_agent_link", false, TDM_LOG_ERR);

	/* two initiators register, the first reserves, the second preempts
	 * it: the PR state the snapshots carry */
	nexus(&host1, "iqn.2024-01.org.example:host1", 1, 1);
	nexus(&host2, "iqn.2024-01.org.example:host2", 2, 2);
	tdm_pr_state_init(&pr_state);
	pr_out(&reg1, "disk0", TDM_PR_REGISTER, 0, 0, 0xa1, &host1);
	pr_apply(&reg1, &host1);
	pr_out(&reg2, "disk0", TDM_PR_REGISTER, 0, 0, 0xb2, &host2);
	pr_apply(&reg2, &host2);
	pr_out(&res, "disk0", TDM_PR_RESERVE, TDM_PR_WE_RO, 0xa1, 0, &host1);
	pr_apply(&res, &host1);
	pr_out(&pre, "disk0", TDM_PR_PREEMPT, TDM_PR_EA_RO, 0xb2, 0xa1, &host2);
	pr_apply(&pre, &host2);

	agent_seeds(&reg1, &res, &pre);
	link_seeds(&reg1, &res);
	tdm_pr_state_free(&pr_state);
	return 0;
}
