/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * corosync.c - tandem-agentd's corosync glue: the CPG group (joined
 * exactly while tandemd is connected and corosync is up; left by
 * finalizing the handle), the queue of cluster messages waiting for
 * cpg_mcast_joined, ACKs, delivery and configuration changes handed to
 * the sync module (sync.c), and votequorum's quorum.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "agentd/agentd.h"
#include "lib/log.h"

void tdm__ag_mq_clear(void)
{
	struct mq *m;

	while ((m = ag.mq_head)) {
		ag.mq_head = m->next;
		free(m);
	}
	ag.mq_tail = &ag.mq_head;
}

int tdm__ag_mq_push(const uint8_t *p, size_t len)
{
	struct mq *m = malloc(sizeof(*m) + len);

	if (!m)
		return -ENOMEM;
	m->next = NULL;
	m->len = len;
	memcpy(m->data, p, len);
	*ag.mq_tail = m;
	ag.mq_tail = &m->next;
	return 0;
}

void tdm__ag_mq_flush(void)
{
	struct mq *m;
	struct iovec iov;
	cs_error_t e;

	while (ag.cpg_up && ag.cpg_joined && (m = ag.mq_head)) {
		iov.iov_base = m->data;
		iov.iov_len = m->len;
		e = cpg_mcast_joined(ag.cpg, CPG_TYPE_AGREED, &iov, 1);
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
			tdm__ag_group_leave("a message could not be multicast");
			return;
		}
		ag.mq_head = m->next;
		if (!ag.mq_head)
			ag.mq_tail = &ag.mq_head;
		free(m);
	}
}

/* Multicast one ACK if applied advanced (once per loop round: it covers
 * every DONE read in the round). Built now, never queued (sync.h). */
void tdm__ag_ack_flush(void)
{
	struct tdm_cmsg_ack a;
	struct iovec iov;
	cs_error_t e;

	ag.ack_retry = false;
	if (!ag.cpg_up || !ag.cpg_joined || !tdm_sync_ack_due(&ag.sy, &a))
		return;
	if (tdm_cmsg_put_ack(&ag.wb, ag.sy.version, &a) < 0)
		return;
	iov.iov_base = ag.wb.p;
	iov.iov_len = ag.wb.len;
	e = cpg_mcast_joined(ag.cpg, CPG_TYPE_AGREED, &iov, 1);
	if (e == CS_ERR_TRY_AGAIN) {
		ag.ack_retry = true;
		return;
	}
	if (e != CS_OK) {
		log_warnx_rl("cpg_mcast_joined (ACK): error %d", e);
		return;
	}
	log_debug("-> group ACK seq %llu", (unsigned long long)a.applied_seq);
	tdm_sync_ack_sent(&ag.sy, &a);
}

/*
 * Leave the group. corosync keeps a left process's handle "in" the group
 * (cpg_join answers CS_ERR_EXIST) until the handle is finalized, so a
 * leave finalizes the CPG handle; the loop opens a new one at once.
 */
static void cpg_drop(void)
{
	struct cpg_name n;

	memset(&n, 0, sizeof(n));
	n.length = (uint32_t)strlen(ag.group_name);
	memcpy(n.value, ag.group_name, n.length);
	cpg_leave(ag.cpg, &n);
	cpg_finalize(ag.cpg);
	ag.cpg_up = false;
	ag.cpg_fd = -1;
	ag.corosync_retry_at = 0;
}

struct cpg_name tdm__ag_group_cpg_name(void)
{
	struct cpg_name n;

	memset(&n, 0, sizeof(n));
	n.length = (uint32_t)strlen(ag.group_name);
	memcpy(n.value, ag.group_name, n.length);
	return n;
}

void tdm__ag_group_leave(const char *why)
{
	if (ag.cpg_joined) {
		log_notice("leaving CPG group %s: %s", ag.group_name, why);
		if (ag.cpg_up)
			cpg_drop();
	}
	ag.cpg_joined = false;
	tdm_sync_reset(&ag.sy);
	tdm__ag_mq_clear();
	tdm__ag_pending_reject_all();
	memset(ag.snap_reqs, 0, sizeof(ag.snap_reqs));
	tdm__ag_update_status();
}

/* Be in the group exactly while tandemd is connected and corosync up. */
void tdm__ag_group_update(void)
{
	struct cpg_name n = tdm__ag_group_cpg_name();
	cs_error_t e;

	if (ag.link_ready && ag.cpg_up && !ag.cpg_joined) {
		tdm_sync_reset(&ag.sy);
		e = cpg_join(ag.cpg, &n);
		if (e == CS_OK) {
			ag.cpg_joined = true;
			log_notice("joined CPG group %s as node %u",
				   ag.group_name, ag.nodeid);
		} else {
			/* CS_ERR_EXIST: our cpg_leave is still under way */
			if (e != CS_ERR_TRY_AGAIN && e != CS_ERR_EXIST)
				log_warnx("cpg_join %s: error %d",
					  ag.group_name, e);
			else
				log_debug("cpg_join %s: error %d, retrying",
					  ag.group_name, e);
			ag.join_retry_at = tdm__ag_now_ms() + 100;
		}
	} else if ((!ag.link_ready || !ag.cpg_up) && ag.cpg_joined) {
		if (ag.cpg_up)
			cpg_drop();
		ag.cpg_joined = false;
		log_notice("left CPG group %s", ag.group_name);
		tdm_sync_reset(&ag.sy);
		tdm__ag_mq_clear();
		tdm__ag_pending_reject_all();
		memset(ag.snap_reqs, 0, sizeof(ag.snap_reqs));
	}
	tdm__ag_update_status();
}

static void cpg_deliver(cpg_handle_t h, const struct cpg_name *g, uint32_t from,
			uint32_t pid, void *msg, size_t len)
{
	struct tdm_cmsg m;
	int r;

	if (!ag.cpg_joined)
		return;
	r = tdm_cmsg_decode(msg, len, ag.proto_max, &m);
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
		r = tdm_sync_info(&ag.sy, from, &m.info);
		break;
	case TDM_CMSG_PR_OP:
	case TDM_CMSG_ALUA_OP:
	case TDM_CMSG_ORDER_OP:
		if (m.origin != from) {
			r = -EPROTO;
			break;
		}
		r = tdm_sync_op(&ag.sy, msg, len);
		break;
	case TDM_CMSG_ACK:
		r = tdm_sync_ack(&ag.sy, from, &m.ack);
		break;
	case TDM_CMSG_FENCED:
		/* not a sync event: no actions of its own */
		tdm__ag_fencing_fenced(from, &m.fenced);
		return;
	case TDM_CMSG_SNAP_CHUNK:
		if (m.source != from) {
			r = -EPROTO;
			break;
		}
		r = tdm_sync_chunk(&ag.sy, &m);
		break;
	}
	tdm__ag_after_event(r, tdm_cmsg_type_name(m.type));
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

/* Corosync has recomputed quorum when CPG delivers a configuration
 * change, but its notification comes on the votequorum connection,
 * possibly after: ask now, so that the cut of a partitioned minority
 * does not report serving for the moment in between. */
static void quorum_refresh(void)
{
	struct votequorum_info info;
	bool q;

	if (!ag.vq_up || votequorum_getinfo(ag.vq, ag.nodeid, &info) != CS_OK)
		return;
	q = !!(info.flags & VOTEQUORUM_INFO_QUORATE);
	if (q != ag.quorate)
		log_notice("quorum %s (asked at the configuration change)",
			   q ? "gained" : "lost");
	ag.quorate = q;
}

static void cpg_confchg(cpg_handle_t h, const struct cpg_name *g,
			const struct cpg_address *members, size_t nmembers,
			const struct cpg_address *left, size_t nleft,
			const struct cpg_address *joined, size_t njoined)
{
	uint32_t ids[TDM_SYNC_MEMBERS_MAX];
	char in[128], out[128], new[128];
	size_t i, n = 0;
	bool had = ag.sy.joined;
	uint16_t v0 = ag.sy.version;
	int r;

	if (!ag.cpg_joined)
		return;
	for (i = 0; i < nmembers && n < TDM_SYNC_MEMBERS_MAX; i++)
		ids[n++] = members[i].nodeid;
	log_info("configuration change: members %s; left %s; joined %s",
		 node_list(in, sizeof(in), members, nmembers, false),
		 node_list(out, sizeof(out), left, nleft, true),
		 node_list(new, sizeof(new), joined, njoined, true));
	quorum_refresh();
	r = tdm_sync_confchg(&ag.sy, ids, n);
	tdm__ag_fencing_confchg(members, nmembers, left, nleft, had, v0);
	tdm__ag_after_event(r, "configuration change");
	if (had && !ag.sy.joined)
		tdm__ag_pending_reject_all();
}

static void quorum_notify(votequorum_handle_t h, uint64_t ctx, uint32_t q,
			  uint32_t n, votequorum_node_t nodes[])
{
	if (ag.quorate != !!q)
		log_notice("quorum %s (%u nodes)", q ? "gained" : "lost", n);
	ag.quorate = !!q;
	tdm__ag_update_status();
}

void tdm__ag_corosync_down(const char *why)
{
	if (ag.cpg_up || ag.vq_up)
		log_warnx("corosync connection lost: %s", why);
	if (ag.cpg_up) {
		ag.cpg_joined = false; /* gone with the connection */
		cpg_finalize(ag.cpg);
	}
	if (ag.vq_up)
		votequorum_finalize(ag.vq);
	ag.cpg_up = ag.vq_up = false;
	ag.cpg_fd = ag.vq_fd = -1;
	ag.quorate = false;
	tdm_sync_reset(&ag.sy);
	tdm__ag_mq_clear();
	tdm__ag_pending_reject_all();
	memset(ag.snap_reqs, 0,
	       sizeof(ag.snap_reqs)); /* answers to come are stale */
	ag.corosync_retry_at = tdm__ag_now_ms() + COROSYNC_RETRY_MS;
	tdm__ag_update_status();
}

void tdm__ag_corosync_up(void)
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

	if (!ag.cpg_up) {
		e = cpg_model_initialize(&ag.cpg, CPG_MODEL_V1,
					 (cpg_model_data_t *)&model, NULL);
		if (e != CS_OK)
			goto fail;
		ag.cpg_up = true;
		if (cpg_fd_get(ag.cpg, &ag.cpg_fd) != CS_OK ||
		    cpg_local_get(ag.cpg, &id) != CS_OK) {
			tdm__ag_corosync_down("cpg_local_get failed");
			return;
		}
		if (id != ag.nodeid) {
			/* keep counting tandemd's messages (DONE) */
			uint64_t sent = ag.sy.link_sent, done = ag.sy.link_done;

			ag.nodeid = id;
			tdm_sync_free(&ag.sy);
			tdm_sync_init(&ag.sy, ag.nodeid, ag.proto_max);
			ag.cuts_logged = 0;
			tdm_sync_link(&ag.sy, ag.link_version);
			ag.sy.link_sent = sent;
			ag.sy.link_done = done;
			log_notice("connected to corosync: node %u", ag.nodeid);
			if (ag.link_ready)
				tdm__ag_send_welcome(); /* the nodeid is
							   known now */
		}
	}
	if (!ag.vq_up) {
		e = votequorum_initialize(&ag.vq, &vcb);
		if (e != CS_OK)
			goto fail;
		ag.vq_up = true;
		if (votequorum_fd_get(ag.vq, &ag.vq_fd) != CS_OK) {
			tdm__ag_corosync_down("votequorum_fd_get failed");
			return;
		}
		if (votequorum_getinfo(ag.vq, ag.nodeid, &info) == CS_OK) {
			ag.quorate = !!(info.flags & VOTEQUORUM_INFO_QUORATE);
			tdm__ag_fencing_check_votes(info.flags,
						    info.node_expected_votes);
		}
		e = votequorum_trackstart(ag.vq, 0, CS_TRACK_CHANGES);
		if (e != CS_OK) {
			tdm__ag_corosync_down("votequorum_trackstart failed");
			return;
		}
	}
	tdm__ag_group_update();
	return;
fail:
	if (!ag.corosync_retry_at)
		log_warnx("corosync not available (error %d); retrying "
			  "every %d ms",
			  e, COROSYNC_RETRY_MS);
	else
		log_debug("corosync not available (error %d)", e);
	ag.corosync_retry_at = tdm__ag_now_ms() + COROSYNC_RETRY_MS;
	tdm__ag_update_status();
}

bool tdm__ag_corosync_dispatch(int fd)
{
	if (ag.cpg_up && fd == ag.cpg_fd) {
		if (cpg_dispatch(ag.cpg, CS_DISPATCH_ALL) != CS_OK)
			tdm__ag_corosync_down("cpg_dispatch failed");
		return true;
	}
	if (ag.vq_up && fd == ag.vq_fd) {
		if (votequorum_dispatch(ag.vq, CS_DISPATCH_ALL) != CS_OK)
			tdm__ag_corosync_down("votequorum_dispatch failed");
		return true;
	}
	return false;
}
