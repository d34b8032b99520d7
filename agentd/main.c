/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tandem-agentd - keeps persistent reservations and ALUA states identical
 * on every head: it orders tandemd's PR OUT / SET TARGET PORT GROUPS
 * (and, link version 2, ORDER events) through a Corosync CPG group
 * (agreed order), tracks votequorum, runs the membership sync (sync.c)
 * that feeds a joining head the group's state, and (link version 2)
 * tells tandemd when every member applied one of its operations
 * (STABLE; ACK bookkeeping in sync.c).
 *
 * Thin by design: one poll() loop over tandemd's agent socket, the CPG
 * and votequorum descriptors and a signalfd. Decisions live in sync.c,
 * the cluster messages' codec in cluster_msg.c, the link's in
 * agent_msg.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <corosync/cpg.h>
#include <corosync/votequorum.h>

#include "agentd/agent_msg.h"
#include "agentd/cluster_msg.h"
#include "agentd/sync.h"
#include "lib/log.h"

#define LINK_RETRY_MS 500
#define COROSYNC_RETRY_MS 1000
#define LINK_OUT_MAX (256u << 20) /* tandemd not reading: drop the link */

static const char *sock_path = TDM_AGENT_SOCKET;
static const char *group_name = "tandem";
static uint16_t proto_max = AGENT_PROTO_VERSION;
static bool stopping;

/* ---- the link to tandemd ---- */
static int link_fd = -1;
static bool link_ready;	      /* HELLO received, WELCOME sent */
static uint16_t link_version; /* agreed in HELLO / WELCOME */
static uint8_t *rbuf;
static size_t rlen, rcap;
static uint8_t *obuf;
static size_t olen, ooff, ocap;
static uint64_t link_retry_at;

/* ---- corosync ---- */
static cpg_handle_t cpg;
static bool cpg_up;
static int cpg_fd = -1;
static bool cpg_joined; /* cpg_join done, cpg_leave not yet */
static votequorum_handle_t vq;
static bool vq_up;
static int vq_fd = -1;
static bool quorate;
static uint32_t nodeid;
static uint64_t corosync_retry_at;
static uint64_t join_retry_at;
static struct tdm_sync sy;

/* cluster messages waiting for cpg_mcast_joined (flow control) */
struct mq {
	struct mq *next;
	size_t len;
	uint8_t data[];
};
static struct mq *mq_head, **mq_tail = &mq_head;

/* this head's operations multicast and not yet applied */
struct pending {
	uint64_t req;
	uint8_t what; /* 1 PR-OUT, 2 ALUA-SET, 3 ORDER */
};
static struct pending *pend;
static size_t npend, cappend;

/* SNAPSHOT-GETs sent to tandemd: req -> seq at the cut */
#define SNAP_REQS 8
static struct {
	uint64_t req, seq;
	bool used;
} snap_reqs[SNAP_REQS];
static uint64_t snap_req_next;

/* last STATUS sent */
static struct {
	bool valid;
	uint8_t serving, quorate;
	uint32_t members;
	uint64_t seq;
	uint16_t version;
} last_status;

static struct tdm_wbuf wb;
static struct tdm_cluster_alua alua_tmp;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- link output ---- */

static void link_close(const char *why);

static void link_flush(void)
{
	ssize_t n;

	while (link_fd >= 0 && ooff < olen) {
		n = send(link_fd, obuf + ooff, olen - ooff, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			log_warn("agent socket: send");
			link_close("send failed");
			return;
		}
		ooff += (size_t)n;
	}
	olen = ooff = 0;
}

/* Queue the frame in wb (tdm_agent_begin ... put ...) for tandemd.
 * 0 when queued. */
static int link_send(void)
{
	uint16_t type = (uint16_t)(wb.len >= 6 ? wb.p[4] << 8 | wb.p[5] : 0);
	int r = tdm_frame_end(&wb);

	if (link_fd < 0)
		return -ENOTCONN;
	if (r < 0) {
		log_warnx("cannot encode %s: %s", tdm_agent_type_name(type),
			  strerror(-r));
		return r;
	}
	if (olen - ooff + wb.len > LINK_OUT_MAX) {
		link_close("tandemd does not read");
		return -ENOBUFS;
	}
	if (ooff && olen + wb.len > ocap) {
		memmove(obuf, obuf + ooff, olen - ooff);
		olen -= ooff;
		ooff = 0;
	}
	if (olen + wb.len > ocap) {
		size_t cap = ocap ? ocap : 4096;
		uint8_t *p;

		while (cap < olen + wb.len)
			cap *= 2;
		p = realloc(obuf, cap);
		if (!p) {
			link_close("out of memory");
			return -ENOMEM;
		}
		obuf = p;
		ocap = cap;
	}
	memcpy(obuf + olen, wb.p, wb.len);
	olen += wb.len;
	log_debug("-> tandemd %s (%zu bytes)", tdm_agent_type_name(type),
		  wb.len);
	link_flush();
	return 0;
}

static void send_reject(uint64_t req, uint8_t what)
{
	tdm_agent_begin(&wb, TDM_AGENT_REJECT);
	tdm_wbuf_put_u64(&wb, req);
	tdm_wbuf_put_u8(&wb, what);
	link_send();
}

static void send_welcome(void)
{
	tdm_agent_begin(&wb, TDM_AGENT_WELCOME);
	tdm_wbuf_put_u16(&wb, link_version);
	tdm_wbuf_put_u32(&wb, nodeid);
	link_send();
}

static void update_status(void)
{
	uint8_t serving =
		link_ready && quorate && cpg_joined && tdm_sync_ready(&sy);
	uint32_t members = sy.joined ? (uint32_t)sy.nmembers : 0;

	if (!link_ready)
		return;
	if (last_status.valid && last_status.serving == serving &&
	    last_status.quorate == quorate && last_status.members == members &&
	    last_status.seq == sy.seq && last_status.version == sy.version)
		return;
	if (!last_status.valid || last_status.serving != serving)
		log_notice("%s (quorate %d, %u members, seq %llu, version %u)",
			   serving ? "serving" : "not serving", quorate,
			   members, (unsigned long long)sy.seq, sy.version);
	last_status.valid = true;
	last_status.serving = serving;
	last_status.quorate = quorate;
	last_status.members = members;
	last_status.seq = sy.seq;
	last_status.version = sy.version;
	tdm_agent_begin(&wb, TDM_AGENT_STATUS);
	tdm_wbuf_put_u8(&wb, serving);
	tdm_wbuf_put_u8(&wb, quorate);
	tdm_wbuf_put_u32(&wb, members);
	tdm_wbuf_put_u64(&wb, sy.seq);
	tdm_wbuf_put_u16(&wb, sy.version);
	link_send();
}

static bool serving(void)
{
	return link_ready && quorate && cpg_joined && tdm_sync_ready(&sy);
}

/* ---- cluster message queue ---- */

static void mq_clear(void)
{
	struct mq *m;

	while ((m = mq_head)) {
		mq_head = m->next;
		free(m);
	}
	mq_tail = &mq_head;
}

static int mq_push(const uint8_t *p, size_t len)
{
	struct mq *m = malloc(sizeof(*m) + len);

	if (!m)
		return -ENOMEM;
	m->next = NULL;
	m->len = len;
	memcpy(m->data, p, len);
	*mq_tail = m;
	mq_tail = &m->next;
	return 0;
}

static void group_leave(const char *why);

static void mq_flush(void)
{
	struct mq *m;
	struct iovec iov;
	cs_error_t e;

	while (cpg_up && cpg_joined && (m = mq_head)) {
		iov.iov_base = m->data;
		iov.iov_len = m->len;
		e = cpg_mcast_joined(cpg, CPG_TYPE_AGREED, &iov, 1);
		if (e == CS_ERR_TRY_AGAIN)
			return;
		if (e != CS_OK) {
			/* a lost SYNC-INFO stalls the sync, a lost operation
			 * its command: start over with a fresh join */
			uint16_t type =
				(uint16_t)(m->data[4] << 8 | m->data[5]);

			log_err("cannot multicast %s (%zu bytes): corosync "
				"error %d",
				tdm_cmsg_type_name(type), m->len, e);
			group_leave("a message could not be multicast");
			return;
		}
		mq_head = m->next;
		if (!mq_head)
			mq_tail = &mq_head;
		free(m);
	}
}

/* ---- pending operations ---- */

static int pending_add(uint64_t req, uint8_t what)
{
	if (npend == cappend) {
		size_t cap = cappend ? 2 * cappend : 64;
		struct pending *p = realloc(pend, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		pend = p;
		cappend = cap;
	}
	pend[npend].req = req;
	pend[npend++].what = what;
	return 0;
}

static void pending_done(uint64_t req, uint8_t what)
{
	for (size_t i = 0; i < npend; i++)
		if (pend[i].req == req && pend[i].what == what) {
			pend[i] = pend[--npend];
			return;
		}
}

/* Our operations will never be delivered, or never known stable: tell
 * tandemd (if there; it completes an applied one with its result). */
static void pending_reject_all(void)
{
	if (npend)
		log_notice("rejecting %zu operations not ordered", npend);
	for (size_t i = 0; i < npend; i++)
		send_reject(pend[i].req, pend[i].what);
	npend = 0;
	if (sy.nstab)
		log_notice("%zu operations will not be known stable", sy.nstab);
	for (size_t i = 0; i < sy.nstab; i++)
		send_reject(sy.stab[i].req, sy.stab[i].what);
	tdm_sync_stab_clear(&sy);
}

/* ---- acknowledgements ---- */

static bool ack_retry; /* corosync said TRY_AGAIN */

/* Multicast one ACK if applied advanced (once per loop round: it covers
 * every DONE read in the round). Built now, never queued (sync.h). */
static void ack_flush(void)
{
	struct tdm_cmsg_ack a;
	struct iovec iov;
	cs_error_t e;

	ack_retry = false;
	if (!cpg_up || !cpg_joined || !tdm_sync_ack_due(&sy, &a))
		return;
	if (tdm_cmsg_put_ack(&wb, sy.version, &a) < 0)
		return;
	iov.iov_base = wb.p;
	iov.iov_len = wb.len;
	e = cpg_mcast_joined(cpg, CPG_TYPE_AGREED, &iov, 1);
	if (e == CS_ERR_TRY_AGAIN) {
		ack_retry = true;
		return;
	}
	if (e != CS_OK) {
		log_warnx_rl("cpg_mcast_joined (ACK): error %d", e);
		return;
	}
	log_debug("-> group ACK seq %llu", (unsigned long long)a.applied_seq);
	tdm_sync_ack_sent(&sy, &a);
}

/* ---- the group ---- */

/*
 * Leave the group. corosync keeps a left process's handle "in" the group
 * (cpg_join answers CS_ERR_EXIST) until the handle is finalized, so a
 * leave finalizes the CPG handle; the loop opens a new one at once.
 */
static void cpg_drop(void)
{
	struct cpg_name n;

	memset(&n, 0, sizeof(n));
	n.length = (uint32_t)strlen(group_name);
	memcpy(n.value, group_name, n.length);
	cpg_leave(cpg, &n);
	cpg_finalize(cpg);
	cpg_up = false;
	cpg_fd = -1;
	corosync_retry_at = 0;
}

static struct cpg_name group_cpg_name(void)
{
	struct cpg_name n;

	memset(&n, 0, sizeof(n));
	n.length = (uint32_t)strlen(group_name);
	memcpy(n.value, group_name, n.length);
	return n;
}

static void group_leave(const char *why)
{
	if (cpg_joined) {
		log_notice("leaving CPG group %s: %s", group_name, why);
		if (cpg_up)
			cpg_drop();
	}
	cpg_joined = false;
	tdm_sync_reset(&sy);
	mq_clear();
	pending_reject_all();
	memset(snap_reqs, 0, sizeof(snap_reqs));
	update_status();
}

/* Be in the group exactly while tandemd is connected and corosync up. */
static void group_update(void)
{
	struct cpg_name n = group_cpg_name();
	cs_error_t e;

	if (link_ready && cpg_up && !cpg_joined) {
		tdm_sync_reset(&sy);
		e = cpg_join(cpg, &n);
		if (e == CS_OK) {
			cpg_joined = true;
			log_notice("joined CPG group %s as node %u", group_name,
				   nodeid);
		} else {
			/* CS_ERR_EXIST: our cpg_leave is still under way */
			if (e != CS_ERR_TRY_AGAIN && e != CS_ERR_EXIST)
				log_warnx("cpg_join %s: error %d", group_name,
					  e);
			else
				log_debug("cpg_join %s: error %d, retrying",
					  group_name, e);
			join_retry_at = now_ms() + 100;
		}
	} else if ((!link_ready || !cpg_up) && cpg_joined) {
		if (cpg_up)
			cpg_drop();
		cpg_joined = false;
		log_notice("left CPG group %s", group_name);
		tdm_sync_reset(&sy);
		mq_clear();
		pending_reject_all();
		memset(snap_reqs, 0, sizeof(snap_reqs));
	}
	update_status();
}

/* Run what the sync module decided. */
static void run_actions(void)
{
	struct tdm_cmsg m;
	int r;

	for (size_t i = 0; i < sy.nact; i++) {
		const struct tdm_sync_act *a = &sy.act[i];

		switch (a->type) {
		case TDM_SYNC_SEND_INFO:
			if (tdm_cmsg_put_info(&wb, &a->info) == 0 &&
			    mq_push(wb.p, wb.len) == 0)
				break;
			group_leave("cannot send SYNC-INFO");
			return;
		case TDM_SYNC_APPLY:
			r = tdm_cmsg_decode(a->data, a->len, proto_max, &m);
			if (r < 0)
				break; /* decoded before: cannot happen */
			if (m.type == TDM_CMSG_PR_OP) {
				tdm_agent_begin(&wb, TDM_AGENT_PR_APPLY);
				tdm_wbuf_put_u32(&wb, m.origin);
				tdm_wbuf_put_u64(&wb, m.req);
				tdm_agent_put_pr(&wb, &m.pr);
			} else if (m.type == TDM_CMSG_ALUA_OP) {
				tdm_agent_begin(&wb, TDM_AGENT_ALUA_APPLY);
				tdm_wbuf_put_u32(&wb, m.origin);
				tdm_wbuf_put_u64(&wb, m.req);
				tdm_agent_put_alua(&wb, &m.alua);
			} else {
				tdm_agent_begin(&wb, TDM_AGENT_ORDERED);
				tdm_wbuf_put_u32(&wb, m.origin);
				tdm_wbuf_put_u64(&wb, m.req);
				tdm_wbuf_put_u8(&wb, m.kind);
				tdm_wbuf_put_bytes(&wb, m.payload,
						   m.payload_len);
			}
			log_debug("apply %s of node %u (req %llu) at seq %llu",
				  tdm_cmsg_type_name(m.type), m.origin,
				  (unsigned long long)m.req,
				  (unsigned long long)a->seq);
			if (link_send() == 0 && tdm_sync_sent(&sy, a->seq) < 0)
				link_close("out of memory");
			if (m.origin == nodeid)
				pending_done(m.req, m.type == TDM_CMSG_PR_OP ? 1
						    : m.type == TDM_CMSG_ALUA_OP
							    ? 2
							    : 3);
			break;
		case TDM_SYNC_DROP: {
			uint16_t type, version;
			uint32_t origin;
			uint64_t req;

			if (tdm_cmsg_op_ids(a->data, a->len, &type, &version,
					    &origin, &req) < 0)
				break;
			if (version > sy.version)
				log_warnx_rl(
					"%s of node %u (version %u) dropped: "
					"the group runs at version %u",
					tdm_cmsg_type_name(type), origin,
					version, sy.version);
			else
				log_warnx_rl("%s of node %u dropped: delivered "
					     "while this head was loading a "
					     "snapshot the group no longer "
					     "sends",
					     tdm_cmsg_type_name(type), origin);
			if (origin != nodeid)
				break;
			uint8_t what = type == TDM_CMSG_PR_OP	  ? 1
				       : type == TDM_CMSG_ALUA_OP ? 2
								  : 3;
			pending_done(req, what);
			if (req)
				send_reject(req, what);
			break;
		}
		case TDM_SYNC_STABLE:
			log_debug("req %llu stable at seq %llu",
				  (unsigned long long)a->req,
				  (unsigned long long)a->seq);
			tdm_agent_begin(&wb, TDM_AGENT_STABLE);
			tdm_wbuf_put_u64(&wb, a->req);
			link_send();
			break;
		case TDM_SYNC_LOST:
			log_notice("req %llu will not be known stable",
				   (unsigned long long)a->req);
			send_reject(a->req, a->what);
			break;
		case TDM_SYNC_SNAPSHOT_GET: {
			size_t k = (size_t)(snap_req_next % SNAP_REQS);

			snap_reqs[k].req = ++snap_req_next;
			snap_reqs[k].seq = a->seq;
			snap_reqs[k].used = true;
			log_info("sync source: snapshot at seq %llu",
				 (unsigned long long)a->seq);
			tdm_agent_begin(&wb, TDM_AGENT_SNAPSHOT_GET);
			tdm_wbuf_put_u64(&wb, snap_reqs[k].req);
			link_send();
			break;
		}
		case TDM_SYNC_SNAPSHOT_LOAD:
			log_notice(
				"loading the snapshot of node %u (%zu bytes, "
				"seq %llu)",
				sy.snap_source, a->len,
				(unsigned long long)a->seq);
			tdm_agent_begin(&wb, TDM_AGENT_SNAPSHOT_LOAD);
			tdm_wbuf_put_bytes(&wb, a->data, a->len);
			link_send();
			break;
		}
	}
}

/* sy.cuts when the last cut was logged (tdm_sync_init restarts both) */
static uint64_t cuts_logged;

static void after_event(int r, const char *what)
{
	if (sy.cuts != cuts_logged) {
		cuts_logged = sy.cuts;
		log_info("sync: %zu members, group version %u, source node %u "
			 "at seq %llu: this head %s",
			 sy.nmembers, sy.version, sy.source,
			 (unsigned long long)sy.seq,
			 sy.synced ? "continues"
				   : "loads the source's snapshot");
	}
	if (r == -ENOMEM) {
		run_actions();
		group_leave("out of memory");
		return;
	}
	if (r < 0)
		log_warnx_rl("%s ignored: %s", what, strerror(-r));
	run_actions();
	mq_flush();
	update_status();
}

static void cpg_deliver(cpg_handle_t h, const struct cpg_name *g, uint32_t from,
			uint32_t pid, void *msg, size_t len)
{
	struct tdm_cmsg m;
	int r;

	if (!cpg_joined)
		return;
	r = tdm_cmsg_decode(msg, len, proto_max, &m);
	if (r < 0) {
		log_warnx_rl("cluster message from node %u (%zu bytes) "
			     "ignored: %s",
			     from, len, strerror(-r));
		return;
	}
	log_debug("<- node %u %s v%u", from, tdm_cmsg_type_name(m.type),
		  m.version);
	r = 0;
	switch (m.type) {
	case TDM_CMSG_SYNC_INFO:
		r = tdm_sync_info(&sy, from, &m.info);
		break;
	case TDM_CMSG_PR_OP:
	case TDM_CMSG_ALUA_OP:
	case TDM_CMSG_ORDER_OP:
		if (m.origin != from) {
			r = -EPROTO;
			break;
		}
		r = tdm_sync_op(&sy, msg, len);
		break;
	case TDM_CMSG_ACK:
		r = tdm_sync_ack(&sy, from, &m.ack);
		break;
	case TDM_CMSG_SNAP_CHUNK:
		if (m.source != from) {
			r = -EPROTO;
			break;
		}
		r = tdm_sync_chunk(&sy, &m);
		break;
	}
	after_event(r, tdm_cmsg_type_name(m.type));
}

/* "1 2" or "1(nodedown) 2(procdown)" (reasons: the nodes that left or
 * joined), or "-": a CPG address list for the log; cut with "..." when
 * buf is full */
static const char *node_list(char *buf, size_t len, const struct cpg_address *a,
			     size_t n, bool reasons)
{
	static const char *const why[] = {
		[CPG_REASON_JOIN] = "(join)",
		[CPG_REASON_LEAVE] = "(leave)",
		[CPG_REASON_NODEDOWN] = "(nodedown)",
		[CPG_REASON_NODEUP] = "(nodeup)",
		[CPG_REASON_PROCDOWN] = "(procdown)",
	};
	size_t o = 0;

	snprintf(buf, len, "-");
	for (size_t i = 0; i < n && o < len; i++)
		o += (size_t)snprintf(
			buf + o, len - o, "%s%u%s", i ? " " : "", a[i].nodeid,
			reasons && a[i].reason < sizeof(why) / sizeof(why[0]) &&
					why[a[i].reason]
				? why[a[i].reason]
				: "");
	if (o >= len && len > 4)
		memcpy(buf + len - 4, "...", 4);
	return buf;
}

static void cpg_confchg(cpg_handle_t h, const struct cpg_name *g,
			const struct cpg_address *members, size_t nmembers,
			const struct cpg_address *left, size_t nleft,
			const struct cpg_address *joined, size_t njoined)
{
	uint32_t ids[TDM_SYNC_MEMBERS_MAX];
	char in[128], out[128], new[128];
	size_t i, n = 0;
	bool had = sy.joined;

	if (!cpg_joined)
		return;
	for (i = 0; i < nmembers && n < TDM_SYNC_MEMBERS_MAX; i++)
		ids[n++] = members[i].nodeid;
	log_info("configuration change: members %s; left %s; joined %s",
		 node_list(in, sizeof(in), members, nmembers, false),
		 node_list(out, sizeof(out), left, nleft, true),
		 node_list(new, sizeof(new), joined, njoined, true));
	after_event(tdm_sync_confchg(&sy, ids, n), "configuration change");
	if (had && !sy.joined)
		pending_reject_all();
}

static void quorum_notify(votequorum_handle_t h, uint64_t ctx, uint32_t q,
			  uint32_t n, votequorum_node_t nodes[])
{
	if (quorate != !!q)
		log_notice("quorum %s (%u nodes)", q ? "gained" : "lost", n);
	quorate = !!q;
	update_status();
}

static void corosync_down(const char *why)
{
	if (cpg_up || vq_up)
		log_warnx("corosync connection lost: %s", why);
	if (cpg_up) {
		cpg_joined = false; /* gone with the connection */
		cpg_finalize(cpg);
	}
	if (vq_up)
		votequorum_finalize(vq);
	cpg_up = vq_up = false;
	cpg_fd = vq_fd = -1;
	quorate = false;
	tdm_sync_reset(&sy);
	mq_clear();
	pending_reject_all();
	memset(snap_reqs, 0, sizeof(snap_reqs)); /* answers to come are stale */
	corosync_retry_at = now_ms() + COROSYNC_RETRY_MS;
	update_status();
}

static void corosync_up(void)
{
	static cpg_model_v1_data_t model = {
		.model = CPG_MODEL_V1,
		.cpg_deliver_fn = cpg_deliver,
		.cpg_confchg_fn = cpg_confchg,
	};
	static votequorum_callbacks_t vcb = {
		.votequorum_quorum_notify_fn = quorum_notify,
	};
	struct votequorum_info info;
	unsigned int id;
	cs_error_t e;

	if (!cpg_up) {
		e = cpg_model_initialize(&cpg, CPG_MODEL_V1,
					 (cpg_model_data_t *)&model, NULL);
		if (e != CS_OK)
			goto fail;
		cpg_up = true;
		if (cpg_fd_get(cpg, &cpg_fd) != CS_OK ||
		    cpg_local_get(cpg, &id) != CS_OK) {
			corosync_down("cpg_local_get failed");
			return;
		}
		if (id != nodeid) {
			/* keep counting tandemd's messages (DONE) */
			uint64_t sent = sy.link_sent, done = sy.link_done;

			nodeid = id;
			tdm_sync_free(&sy);
			tdm_sync_init(&sy, nodeid, proto_max);
			cuts_logged = 0;
			tdm_sync_link(&sy, link_version);
			sy.link_sent = sent;
			sy.link_done = done;
			log_notice("connected to corosync: node %u", nodeid);
			if (link_ready)
				send_welcome(); /* the nodeid is known now */
		}
	}
	if (!vq_up) {
		e = votequorum_initialize(&vq, &vcb);
		if (e != CS_OK)
			goto fail;
		vq_up = true;
		if (votequorum_fd_get(vq, &vq_fd) != CS_OK) {
			corosync_down("votequorum_fd_get failed");
			return;
		}
		if (votequorum_getinfo(vq, nodeid, &info) == CS_OK)
			quorate = !!(info.flags & VOTEQUORUM_INFO_QUORATE);
		e = votequorum_trackstart(vq, 0, CS_TRACK_CHANGES);
		if (e != CS_OK) {
			corosync_down("votequorum_trackstart failed");
			return;
		}
	}
	group_update();
	return;
fail:
	if (!corosync_retry_at)
		log_warnx("corosync not available (error %d); retrying "
			  "every %d ms",
			  e, COROSYNC_RETRY_MS);
	else
		log_debug("corosync not available (error %d)", e);
	corosync_retry_at = now_ms() + COROSYNC_RETRY_MS;
	update_status();
}

/* ---- the link: input ---- */

static void link_close(const char *why)
{
	if (link_fd < 0)
		return;
	log_notice("tandemd link closed: %s", why);
	close(link_fd);
	link_fd = -1;
	link_ready = false;
	link_version = 0;
	rlen = olen = ooff = 0;
	last_status.valid = false;
	npend = 0; /* tandemd is gone: nothing to answer */
	link_retry_at = now_ms() + LINK_RETRY_MS;
	group_update();
}

static void link_connect(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	static bool warned;
	int fd;

	link_retry_at = now_ms() + LINK_RETRY_MS;
	if (strlen(sock_path) >= sizeof(sa.sun_path)) {
		log_err("socket path too long: %s", sock_path);
		stopping = true;
		return;
	}
	memcpy(sa.sun_path, sock_path, strlen(sock_path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_warn("socket");
		return;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (!warned)
			log_info("waiting for tandemd on %s (%s)", sock_path,
				 strerror(errno));
		warned = true;
		close(fd);
		return;
	}
	warned = false;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	link_fd = fd;
	log_notice("connected to tandemd on %s", sock_path);
}

static void on_hello(struct tdm_rd *r)
{
	uint16_t vmin = tdm_rd_get_u16(r), vmax = tdm_rd_get_u16(r), v;
	char node[TDM_CODEC_STR_MAX + 1];

	tdm_rd_get_str(r, node, sizeof(node));
	if (r->bad) {
		link_close("bad HELLO");
		return;
	}
	if (link_ready) {
		link_close("second HELLO");
		return;
	}
	/* the highest version both speak */
	v = vmax < TDM_AGENT_LINK_VERSION ? vmax : TDM_AGENT_LINK_VERSION;
	if (v < 1 || v < vmin) {
		log_err("tandemd speaks link versions %u..%u, this agent "
			"1..%u",
			vmin, vmax, TDM_AGENT_LINK_VERSION);
		link_close("no common link version");
		return;
	}
	log_notice("HELLO from tandemd on %s: link version %u", node, v);
	link_version = v;
	tdm_sync_link(&sy, v);
	link_ready = true;
	last_status.valid = false;
	send_welcome();
	group_update();
}

static void on_op(struct tdm_rd *r, uint16_t type)
{
	uint8_t what = type == TDM_AGENT_PR_OUT ? 1 : 2;
	uint64_t req = tdm_rd_get_u64(r);
	struct tdm_cluster_pr pr;
	int e;

	if (type == TDM_AGENT_PR_OUT)
		tdm_agent_get_pr(r, &pr);
	else
		tdm_agent_get_alua(r, &alua_tmp);
	if (r->bad) {
		log_warnx("malformed %s from tandemd: rejected",
			  tdm_agent_type_name(type));
		send_reject(req, what);
		return;
	}
	if (!serving()) {
		send_reject(req, what);
		return;
	}
	if (type == TDM_AGENT_PR_OUT)
		e = tdm_cmsg_put_pr(&wb, sy.version, nodeid, req, &pr);
	else
		e = tdm_cmsg_put_alua(&wb, sy.version, nodeid, req, &alua_tmp);
	if (e == 0)
		e = mq_push(wb.p, wb.len);
	if (e == 0)
		e = pending_add(req, what);
	if (e < 0) {
		log_warnx("%s req %llu not ordered: %s",
			  tdm_agent_type_name(type), (unsigned long long)req,
			  strerror(-e));
		send_reject(req, what);
		return;
	}
	mq_flush();
}

/* ORDER (link version 2): an opaque event ordered like PR-OUT */
static void on_order(struct tdm_rd *r)
{
	uint64_t req = tdm_rd_get_u64(r);
	uint8_t kind = tdm_rd_get_u8(r);
	const uint8_t *p;
	size_t n;
	const char *why = NULL;
	int e;

	p = tdm_rd_get_bytes(r, &n);
	if (r->bad)
		why = "malformed";
	else if (!serving())
		why = "not serving";
	else if (sy.version < 2)
		why = "the group runs at protocol 1";
	if (!why) {
		e = tdm_cmsg_put_order(&wb, sy.version, nodeid, req, kind, p,
				       n);
		if (e == 0)
			e = mq_push(wb.p, wb.len);
		if (e == 0 && req)
			e = pending_add(req, 3);
		if (e == 0) {
			mq_flush();
			return;
		}
		why = strerror(-e);
	}
	if (req) {
		log_debug("ORDER req %llu kind %u not ordered: %s",
			  (unsigned long long)req, kind, why);
		send_reject(req, 3);
	} else {
		log_warnx_rl("ORDER kind %u (nobody waits) dropped: %s", kind,
			     why);
	}
}

/* DONE (link version 2): tandemd applied count messages */
static void on_done(struct tdm_rd *r)
{
	uint64_t count = tdm_rd_get_u64(r);

	if (r->bad) {
		link_close("bad DONE");
		return;
	}
	after_event(tdm_sync_done(&sy, count), "DONE");
}

static void on_snapshot(struct tdm_rd *r)
{
	uint64_t req = tdm_rd_get_u64(r), seq = 0;
	const uint8_t *p;
	size_t n, off = 0, chunk;
	bool found = false;

	p = tdm_rd_get_bytes(r, &n);
	if (r->bad) {
		link_close("bad SNAPSHOT");
		return;
	}
	for (size_t i = 0; i < SNAP_REQS; i++)
		if (snap_reqs[i].used && snap_reqs[i].req == req) {
			snap_reqs[i].used = false;
			seq = snap_reqs[i].seq;
			found = true;
		}
	if (!found || !cpg_joined)
		return; /* asked before we left the group */
	if (n > TDM_CMSG_SNAP_MAX) {
		log_err("snapshot of %zu bytes is too large", n);
		group_leave("snapshot too large");
		return;
	}
	log_info("multicasting the snapshot: %zu bytes, seq %llu", n,
		 (unsigned long long)seq);
	do {
		chunk = n - off < TDM_CMSG_CHUNK ? n - off : TDM_CMSG_CHUNK;
		if (tdm_cmsg_put_chunk(&wb, sy.version, nodeid, seq,
				       (uint32_t)n, (uint32_t)off, p + off,
				       chunk) < 0 ||
		    mq_push(wb.p, wb.len) < 0) {
			group_leave("cannot send the snapshot");
			return;
		}
		off += chunk;
	} while (off < n);
	mq_flush();
}

static void link_frame(const uint8_t *f, size_t len)
{
	struct tdm_rd r;
	uint16_t type, version;

	tdm_frame_open(&r, f, len, &type, &version);
	log_debug("<- tandemd %s (%zu bytes)", tdm_agent_type_name(type), len);
	if (!link_ready && type != TDM_AGENT_HELLO) {
		link_close("expected HELLO first");
		return;
	}
	switch (type) {
	case TDM_AGENT_HELLO:
		on_hello(&r);
		break;
	case TDM_AGENT_PR_OUT:
	case TDM_AGENT_ALUA_SET:
		on_op(&r, type);
		break;
	case TDM_AGENT_SNAPSHOT:
		on_snapshot(&r);
		break;
	case TDM_AGENT_ORDER:
		if (link_version < 2)
			goto unexpected;
		on_order(&r);
		break;
	case TDM_AGENT_DONE:
		if (link_version < 2)
			goto unexpected;
		on_done(&r);
		break;
	default:
	unexpected:
		log_warnx_rl("unexpected %s (type %u) from tandemd ignored",
			     tdm_agent_type_name(type), type);
		break;
	}
}

static void link_read(void)
{
	size_t off = 0;
	ssize_t n;
	long fl;

	if (rcap - rlen < 65536) {
		size_t cap = rcap ? 2 * rcap : 131072;
		uint8_t *p;

		if (cap > TDM_FRAME_MAX + 4 + 131072)
			cap = TDM_FRAME_MAX + 4 + 131072;
		if (cap > rcap) {
			p = realloc(rbuf, cap);
			if (!p) {
				link_close("out of memory");
				return;
			}
			rbuf = p;
			rcap = cap;
		}
	}
	n = recv(link_fd, rbuf + rlen, rcap - rlen, 0);
	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			link_close(strerror(errno));
		return;
	}
	if (n == 0) {
		link_close("tandemd disconnected");
		return;
	}
	rlen += (size_t)n;
	while (link_fd >= 0) {
		fl = tdm_frame_len(rbuf + off, rlen - off);
		if (fl < 0) {
			link_close("bad frame from tandemd");
			return;
		}
		if (fl == 0)
			break;
		link_frame(rbuf + off, (size_t)fl);
		off += (size_t)fl;
	}
	if (link_fd < 0)
		return;
	memmove(rbuf, rbuf + off, rlen - off);
	rlen -= off;
}

/* ---- main ---- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tandem-agentd [options]\n"
		"  -f, --foreground       stay in the foreground, log to "
		"stderr\n"
		"  -s, --socket PATH      tandemd's agent socket (default "
		"%s)\n"
		"  -g, --group NAME       CPG group name (default tandem)\n"
		"  -l, --log-level LEVEL  error, warning, notice, info, debug\n"
		"      --syslog           log to syslog even in the "
		"foreground\n"
		"      --proto-max N      announce cluster protocol N (tests "
		"of mixed versions)\n"
		"      --blackbox-size MIB the blackbox's ring (default %d; "
		"0: off)\n"
		"  -V, --version\n"
		"  -h, --help\n",
		TDM_AGENT_SOCKET, TDM_LOG_BLACKBOX_MIB);
}

static int setup_signals(void)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

static void dispatch(struct pollfd *pf, int sig_fd)
{
	struct signalfd_siginfo si;
	char path[PATH_MAX];

	if (sig_fd >= 0 && pf->fd == sig_fd) {
		while (read(sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
			if (si.ssi_signo == SIGUSR1)
				tdm_log_blackbox_dump(path, sizeof(path));
			else if (si.ssi_signo != SIGHUP)
				stopping = true;
		return;
	}
	if (cpg_up && pf->fd == cpg_fd) {
		if (cpg_dispatch(cpg, CS_DISPATCH_ALL) != CS_OK)
			corosync_down("cpg_dispatch failed");
		return;
	}
	if (vq_up && pf->fd == vq_fd) {
		if (votequorum_dispatch(vq, CS_DISPATCH_ALL) != CS_OK)
			corosync_down("votequorum_dispatch failed");
		return;
	}
	if (link_fd >= 0 && pf->fd == link_fd) {
		if (pf->revents & POLLOUT)
			link_flush();
		if (link_fd >= 0 &&
		    (pf->revents & (POLLIN | POLLHUP | POLLERR)))
			link_read();
	}
}

static void run(int sig_fd)
{
	struct pollfd pf[4];
	int n, timeout;
	uint64_t now;

	while (!stopping) {
		now = now_ms();
		if ((!cpg_up || !vq_up) && now >= corosync_retry_at)
			corosync_up();
		if (link_fd < 0 && now >= link_retry_at)
			link_connect();
		if (link_ready && cpg_up && !cpg_joined && now >= join_retry_at)
			group_update();
		mq_flush();
		n = 0;
		pf[n++] = (struct pollfd){.fd = sig_fd, .events = POLLIN};
		if (cpg_up)
			pf[n++] =
				(struct pollfd){.fd = cpg_fd, .events = POLLIN};
		if (vq_up)
			pf[n++] =
				(struct pollfd){.fd = vq_fd, .events = POLLIN};
		if (link_fd >= 0)
			pf[n++] = (struct pollfd){
				.fd = link_fd,
				.events = POLLIN | (olen > ooff ? POLLOUT : 0)};
		timeout = (mq_head && cpg_joined) || ack_retry ||
					  (link_ready && cpg_up && !cpg_joined)
				  ? 10
				  : 250;
		if (poll(pf, (nfds_t)n, timeout) < 0) {
			if (errno == EINTR)
				continue;
			log_warn("poll");
			break;
		}
		for (int i = 0; i < n && !stopping; i++)
			if (pf[i].revents)
				dispatch(&pf[i], sig_fd);
		ack_flush();
	}
}

int main(int argc, char **argv)
{
	enum { OPT_SYSLOG = 256, OPT_PROTO_MAX, OPT_BLACKBOX };
	static const struct option opts[] = {
		{"foreground", no_argument, NULL, 'f'},
		{"socket", required_argument, NULL, 's'},
		{"group", required_argument, NULL, 'g'},
		{"log-level", required_argument, NULL, 'l'},
		{"syslog", no_argument, NULL, OPT_SYSLOG},
		{"proto-max", required_argument, NULL, OPT_PROTO_MAX},
		{"blackbox-size", required_argument, NULL, OPT_BLACKBOX},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	bool foreground = false, use_syslog = false;
	int level = TDM_LOG_INFO, bb_mib = TDM_LOG_BLACKBOX_MIB, c, r, sig_fd;
	unsigned long v;
	char *end;

	while ((c = getopt_long(argc, argv, "fs:g:l:Vh", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			foreground = true;
			break;
		case 's':
			sock_path = optarg;
			break;
		case 'g':
			if (!*optarg || strlen(optarg) >= CPG_MAX_NAME_LENGTH) {
				fprintf(stderr, "tandem-agentd: bad --group\n");
				return 2;
			}
			group_name = optarg;
			break;
		case 'l':
			level = tdm_log_level_parse(optarg);
			if (level < 0) {
				fprintf(stderr,
					"tandem-agentd: bad --log-level '%s'\n",
					optarg);
				return 2;
			}
			break;
		case OPT_SYSLOG:
			use_syslog = true;
			break;
		case OPT_PROTO_MAX:
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || *end || v < 1 || v > 65535) {
				fprintf(stderr,
					"tandem-agentd: bad --proto-max '%s'\n",
					optarg);
				return 2;
			}
			proto_max = (uint16_t)v;
			break;
		case OPT_BLACKBOX:
			bb_mib = tdm_log_blackbox_size_parse(optarg);
			if (bb_mib < 0) {
				fprintf(stderr,
					"tandem-agentd: bad --blackbox-size "
					"'%s' (MiB, 0 to 1024)\n",
					optarg);
				return 2;
			}
			break;
		case 'V':
			printf("tandem-agentd %s (cluster protocol %d)\n",
			       PACKAGE_VERSION, AGENT_PROTO_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (!foreground) {
		use_syslog = true;
		r = tdm_daemonize();
		if (r < 0) {
			fprintf(stderr, "tandem-agentd: daemonize: %s\n",
				strerror(-r));
			return 1;
		}
	}
	tdm_log_init("tandem-agentd", use_syslog, level);
	r = tdm_log_blackbox_start((unsigned)bb_mib);
	if (r < 0)
		log_warnx("no blackbox: %s", strerror(-r));
	sig_fd = setup_signals();
	if (sig_fd < 0) {
		log_err("signals: %s", strerror(-sig_fd));
		return 1;
	}
	tdm_sync_init(&sy, 0, proto_max);
	log_notice("tandem-agentd %s starting (group %s, protocol %u)",
		   PACKAGE_VERSION, group_name, proto_max);
	run(sig_fd);

	if (cpg_up && cpg_joined) {
		struct cpg_name n = group_cpg_name();

		cpg_leave(cpg, &n);
	}
	if (cpg_up)
		cpg_finalize(cpg);
	if (vq_up)
		votequorum_finalize(vq);
	if (link_fd >= 0)
		close(link_fd);
	tdm_sync_free(&sy);
	mq_clear();
	tdm_wbuf_free(&wb);
	free(rbuf);
	free(obuf);
	free(pend);
	close(sig_fd);
	log_notice("stopped");
	tdm_log_fini();
	return 0;
}
