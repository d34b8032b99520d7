/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cluster.c - the core in cluster mode (tandemd -A): PERSISTENT RESERVE
 * OUT and SET TARGET PORT GROUPS leave through the agent link and are
 * applied when the agent delivers them back in the cluster's agreed
 * order, on every head (scsi/pr_scsi.c tdm__pr_apply_ordered,
 * scsi/alua_scsi.c tdm__alua_apply_ordered). The command that sent one
 * completes on its own loop once its head has applied it, so any head
 * that survives already holds the result.
 *
 * While the head is fenced (no agent, no quorum, not yet synchronised)
 * every port behaves as transitioning (scsi/alua_scsi.c): media access
 * and PR OUT get NOT READY, ASYMMETRIC ACCESS STATE TRANSITION, which
 * initiators retry, never a decision taken alone.
 *
 * Snapshots (state transfer to a joining head): "TDMS", u16 version,
 * u32 n x (str device, bytes PR state in pr-sync's encoding, u8 SPC-2
 * reserved, bytes TransportID, u16 rel port), u32 n x (str device group,
 * u16 group id, u8 state, u8 status, u8 preferred), bytes the daemon's
 * part (its configuration epoch and edits). Version 1 had no SPC-2
 * fields, version 2 no daemon's part, version 3 no preferred bit; a
 * snapshot is written at version 4 only while every head reads it (the
 * group runs protocol TDM__CLUSTER_PROTO_ACTIVATE or later), else at 3.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alua/alua.h"
#include "scsi/scsi_int.h"
#include "pr-sync/pr.h"
#include "tandem/cluster.h"
#include "tandem/metrics.h"
#include "lib/log.h"

#define SNAP_MAGIC "TDMS"
/* 2: the SPC-2 holder after each PR state; 3: the daemon's part at the
 * end (tdm_cluster_set_ext); 4: each target port group's preferred bit
 * (tandemctl -activate_tgrp moves it) */
#define SNAP_VERSION 4

/* a command waiting for its operation to come back ordered */
struct pending {
	struct tdm_list link;
	uint64_t req;
	struct tdm_cmd *cmd; /* or a callback (tdm_cluster_order_raw) */
	tdm_cluster_done_fn done;
	void *done_arg;
	int sr;
	struct tdm_sense_info info;
	bool has_info;
	bool applied; /* applied here; waits for STABLE */
};

static struct {
	const struct tdm_cluster_link_ops *ops;
	const struct tdm_cluster_ext *ext;
	atomic_bool on, serving;
	bool wait_stable;	/* main loop only */
	uint16_t group_version; /* main loop only: the agents' protocol */
	struct tdm_mutex lock;	/* pending, next_req */
	struct tdm_list pending;
	uint64_t next_req;
} cl = {
	.lock = TDM_MUTEX_INITIALIZER(TDM__LOCK_CLUSTER, "cl.lock"),
	.pending = TDM_LIST_INIT(cl.pending),
	.next_req = 1,
};

bool tdm__cluster_mode(void)
{
	return atomic_load_explicit(&cl.on, memory_order_relaxed);
}

bool tdm__cluster_fenced(void)
{
	return atomic_load_explicit(&cl.on, memory_order_relaxed) &&
	       !atomic_load_explicit(&cl.serving, memory_order_acquire);
}

/* include/tandem/metrics.h: for the metrics endpoint (main loop) */
bool tdm_cluster_is_on(void)
{
	return tdm__cluster_mode();
}

bool tdm_cluster_is_fenced(void)
{
	return tdm__cluster_fenced();
}

size_t tdm_cluster_pending_count(void)
{
	struct tdm_list *pos;
	size_t n = 0;

	tdm_mutex_lock(&cl.lock);
	tdm_list_for_each (pos, &cl.pending)
		n++;
	tdm_mutex_unlock(&cl.lock);
	return n;
}

void tdm_cluster_start(const struct tdm_cluster_link_ops *ops)
{
	cl.ops = ops;
	atomic_store(&cl.serving, false);
	atomic_store(&cl.on, true);
}

void tdm_cluster_set_wait_stable(bool wait)
{
	cl.wait_stable = wait;
}

void tdm_cluster_set_group_version(uint16_t version)
{
	cl.group_version = version;
}

void tdm_cluster_set_serving(bool serving)
{
	if (atomic_exchange(&cl.serving, serving) != serving)
		log_notice("cluster: %s", serving ? "serving (state current)"
						  : "fenced: media access and "
						    "PR OUT refused");
}

/* "PERSISTENT RESERVE OUT REGISTER" ...: a PR OUT CDB's name for the
 * log. */
static const char *pr_out_name(const uint8_t *cdb, size_t len)
{
	const struct tdm_opdesc *op;
	struct tdm_cmd c;

	memset(&c, 0, sizeof(c));
	memcpy(c.cdb, cdb, len < sizeof(c.cdb) ? len : sizeof(c.cdb));
	op = tdm__disk_op_lookup(&c, NULL);
	return op ? op->name : "PERSISTENT RESERVE OUT";
}

/* ---- pending commands ---- */

/* Complete before it is on the list: the link's loss (main loop) may
 * take it at once. */
static struct pending *pending_add(struct tdm_cmd *cmd,
				   tdm_cluster_done_fn done, void *arg)
{
	struct pending *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->cmd = cmd;
	p->done = done;
	p->done_arg = arg;
	tdm_mutex_lock(&cl.lock);
	p->req = cl.next_req++;
	tdm_list_add_tail(&cl.pending, &p->link);
	tdm_mutex_unlock(&cl.lock);
	return p;
}

/* The pending command req; taken off the list unless keep. */
static struct pending *pending_find(uint64_t req, bool keep)
{
	struct pending *found = NULL;
	struct tdm_list *pos;

	tdm_mutex_lock(&cl.lock);
	tdm_list_for_each (pos, &cl.pending) {
		struct pending *p = tdm_list_entry(pos, struct pending, link);

		if (p->req == req) {
			if (!keep)
				tdm_list_del(&p->link);
			found = p;
			break;
		}
	}
	tdm_mutex_unlock(&cl.lock);
	return found;
}

static struct pending *pending_take(uint64_t req)
{
	return pending_find(req, false);
}

/* On the command's loop. */
static void pending_finish(void *arg)
{
	struct pending *p = arg;

	if (p->cmd)
		tdm__cmd_done_info(p->cmd, p->sr,
				   p->has_info ? &p->info : NULL);
	else
		p->done(p->done_arg, p->sr);
	free(p);
}

static void pending_complete(struct pending *p, int sr,
			     const struct tdm_sense_info *info)
{
	/* a callback runs on the main loop, where the link runs */
	struct tdm_loop *l =
		p->cmd ? tdm_nexus_loop(p->cmd->nexus) : tdm_loop_current();

	/* applied already: the result it had, whatever came after */
	if (!p->applied) {
		p->sr = sr;
		p->has_info = info && info->sks_valid;
		if (p->has_info)
			p->info = *info;
	}
	if (l == tdm_loop_current())
		pending_finish(p);
	else
		tdm_loop_post(l, pending_finish, p);
}

/* ---- leaving: PR OUT and STPG ---- */

int tdm__cluster_pr_out(struct tdm_cmd *cmd)
{
	struct tdm_cluster_pr pr;
	struct tdm_pr_nexus nx;
	struct pending *p;
	uint8_t tid[TDM_TID_MAX];
	size_t n;
	int r;

	if (tdm__cluster_fenced())
		return TDM_SR_ALUA_TRANSITION;
	if (tdm__pr_nexus_id(cmd->nexus, &nx) < 0)
		return TDM_SR_INSUFFICIENT_REGISTRATION_RESOURCES;
	n = tdm_pr_tid_encode(&nx.tid, tid, sizeof(tid));
	if (n > sizeof(tid))
		return TDM_SR_INSUFFICIENT_REGISTRATION_RESOURCES;

	memset(&pr, 0, sizeof(pr));
	snprintf(pr.device, sizeof(pr.device), "%s", cmd->lu->name);
	pr.cdb = cmd->cdb;
	pr.cdb_len = 10;
	pr.param = cmd->buf;
	pr.param_len = cmd->data_len;
	pr.tid = tid;
	pr.tid_len = n;
	pr.rel_port = nx.rel_port;

	p = pending_add(cmd, NULL, NULL);
	if (!p)
		return TDM_SR_BUSY;
	log_debug("cluster: %s: %s ordered through the agent (req %llu)",
		  pr.device, pr_out_name(pr.cdb, pr.cdb_len),
		  (unsigned long long)p->req);
	r = cl.ops->send_pr(p->req, &pr);
	if (r < 0) {
		/* not on the list: the link's loss completes it already */
		if (!pending_take(p->req))
			return TDM__SR_ASYNC;
		free(p);
		return TDM_SR_ALUA_TRANSITION;
	}
	return TDM__SR_ASYNC;
}

int tdm__cluster_alua_set(struct tdm_cmd *cmd, const struct tdm_alua_req *reqs,
			  size_t n)
{
	struct tdm_cluster_alua *a;
	struct pending *p;
	int r;

	if (tdm__cluster_fenced())
		return TDM_SR_ALUA_TRANSITION;
	if (n > TDM_CLUSTER_ALUA_MAX)
		return TDM_SR_PARAM_LIST_LENGTH_ERROR;
	a = calloc(1, sizeof(*a));
	if (!a)
		return TDM_SR_BUSY;
	snprintf(a->device, sizeof(a->device), "%s", cmd->lu->name);
	a->n = n;
	for (size_t i = 0; i < n; i++) {
		a->set[i].group_id = reqs[i].group_id;
		a->set[i].state = reqs[i].state;
	}
	p = pending_add(cmd, NULL, NULL);
	r = p ? cl.ops->send_alua(p->req, a) : -ENOMEM;
	free(a);
	if (r < 0) {
		if (!p)
			return TDM_SR_BUSY;
		/* not on the list: the link's loss completes it already */
		if (!pending_take(p->req))
			return TDM__SR_ASYNC;
		free(p);
		return TDM_SR_ALUA_TRANSITION;
	}
	return TDM__SR_ASYNC;
}

/*
 * tandemctl's ALUA transitions, ORDER kinds 7 and 8. Payload: str device
 * group, str target group, [kind 8: u8 state, u8 preferred (0, 1; 2:
 * kept)], str who asked (logged on every head).
 */
static int order_tgrp(uint8_t kind, const char *dg, const char *tg,
		      uint8_t state, int preferred, const char *who,
		      tdm_cluster_done_fn done, void *arg)
{
	uint16_t need = kind == TDM__ORD_ALUA_ACTIVATE
				? TDM__CLUSTER_PROTO_ACTIVATE
				: TDM__CLUSTER_PROTO_SET_TGRP;
	struct tdm_wbuf w = {0};
	int r;

	/* an older head would not apply it: the heads would disagree */
	if (cl.group_version < need)
		return -EPROTONOSUPPORT;
	tdm_wbuf_reset(&w);
	tdm_wbuf_put_str(&w, dg);
	tdm_wbuf_put_str(&w, tg);
	if (kind == TDM__ORD_ALUA_SET_TGRP) {
		tdm_wbuf_put_u8(&w, state);
		tdm_wbuf_put_u8(&w, preferred < 0 ? 2 : preferred > 0);
	}
	tdm_wbuf_put_str(&w, who);
	r = w.oom ? -ENOMEM
		  : tdm_cluster_order_raw(kind, w.p, w.len, done, arg);
	tdm_wbuf_free(&w);
	return r < 0 ? r : 1;
}

int tdm__cluster_alua_activate(const char *dg, const char *tg, const char *who,
			       tdm_cluster_done_fn done, void *arg)
{
	return order_tgrp(TDM__ORD_ALUA_ACTIVATE, dg, tg, 0, -1, who, done,
			  arg);
}

int tdm__cluster_alua_set_tgrp(const char *dg, const char *tg, uint8_t state,
			       int preferred, const char *who,
			       tdm_cluster_done_fn done, void *arg)
{
	return order_tgrp(TDM__ORD_ALUA_SET_TGRP, dg, tg, state, preferred, who,
			  done, arg);
}

/* kind 7 or 8 delivered: applied here */
static int tgrp_ordered(uint8_t kind, bool mine, const uint8_t *payload,
			size_t len)
{
	struct tdm_rd r = {.p = payload, .len = len};
	char dg[TDM_NAME_MAX], tg[TDM_NAME_MAX], who[512], cause[640];
	uint8_t state = 0, pref = 0;

	tdm_rd_get_str(&r, dg, sizeof(dg));
	tdm_rd_get_str(&r, tg, sizeof(tg));
	if (kind == TDM__ORD_ALUA_SET_TGRP) {
		state = tdm_rd_get_u8(&r);
		pref = tdm_rd_get_u8(&r);
	}
	tdm_rd_get_str(&r, who, sizeof(who));
	if (!tdm_rd_done(&r) || pref > 2) {
		log_err("cluster: malformed ALUA %s from the agent",
			kind == TDM__ORD_ALUA_ACTIVATE ? "activation"
						       : "target group state");
		return -EBADMSG;
	}
	snprintf(cause, sizeof(cause), "%s (ordered by the cluster%s)", who,
		 mine ? "" : ", through another head");
	if (kind == TDM__ORD_ALUA_ACTIVATE)
		return tdm__alua_activate(dg, tg, cause);
	return tdm__alua_set_tgrp(dg, tg, state, pref == 2 ? -1 : pref, cause);
}

/* ---- heads that left and joined (protocol 5) ----
 * At each cut of the membership the agent sends HEADS (the ports of the
 * heads that left and joined): every head applies it at the same point
 * of the order. A joined head, once serving, orders its own groups out
 * of transitioning: ORDER kind 9, payload u32 n, n x (str device group,
 * u16 group id, u8 state, u8 preferred), str who. */

static int rejoin_state = -1; /* main loop; -1: the configured state */
static bool rejoin_retry;     /* main loop: the last kind 9 failed */

int tdm_cluster_set_rejoin_state(const char *name)
{
	uint8_t st;

	if (!name) {
		rejoin_state = -1;
		return 0;
	}
	if (tdm_alua_state_from_name(name, &st) < 0 ||
	    !tdm_alua_state_valid(st) || st == TDM_ALUA_TRANSITIONING)
		return -EINVAL;
	rejoin_state = st;
	return 0;
}

size_t tdm_cluster_local_ports(uint16_t *out, size_t max)
{
	return tdm__alua_local_ports(out, max);
}

void tdm_cluster_head(uint32_t nodeid, bool joined, const uint16_t *ports,
		      size_t n)
{
	char cause[128];
	int r;

	/* the agent sends HEADS only at protocol 5 (every head applies
	 * it), before the STATUS of that cut: not checked here */
	snprintf(cause, sizeof(cause),
		 joined ? "node %u rejoining the cluster (transitioning until "
			  "it is synchronised)"
			: "node %u leaving the cluster",
		 nodeid);
	/* a joining head's groups that its departure left unavailable; at
	 * its first join they are as configured and stay so */
	r = tdm__alua_set_head(ports, n,
			       joined ? TDM_ALUA_TRANSITIONING
				      : TDM_ALUA_UNAVAILABLE,
			       joined ? TDM_ALUA_UNAVAILABLE : -1, cause);
	if (r < 0)
		log_err("cluster: %s: target port groups not changed: %s",
			cause, strerror(-r));
	else
		log_notice("cluster: node %u %s the cluster: %d target port "
			   "groups %s",
			   nodeid, joined ? "rejoined" : "left", r,
			   joined ? "transitioning" : "unavailable");
}

static void rejoin_done(void *arg, int status)
{
	(void)arg;
	rejoin_retry = status != 0;
	if (status)
		log_warnx("cluster: this head's target port groups not ordered "
			  "out of transitioning: %s (retried at the next "
			  "status)",
			  strerror(status < 0 ? -status : status));
}

void tdm_cluster_rejoin(bool became_serving)
{
	struct tdm_alua_tgrp_set *v = NULL;
	struct tdm_wbuf w = {0};
	size_t n;
	int r;

	if (cl.group_version < TDM__CLUSTER_PROTO_HEADS ||
	    (!became_serving && !rejoin_retry))
		return;
	if (tdm__cluster_fenced()) { /* e.g. the agent silent: later */
		rejoin_retry = true;
		return;
	}
	rejoin_retry = false;
	n = tdm__alua_local_transitioning(&v, rejoin_state);
	if (!n) {
		free(v);
		return;
	}
	tdm_wbuf_reset(&w);
	tdm_wbuf_put_u32(&w, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		tdm_wbuf_put_str(&w, v[i].dg);
		tdm_wbuf_put_u16(&w, v[i].group_id);
		tdm_wbuf_put_u8(&w, v[i].state);
		tdm_wbuf_put_u8(&w, v[i].preferred);
	}
	tdm_wbuf_put_str(&w, rejoin_state < 0 ? "its configured state"
					      : "tandemd --rejoin-state");
	free(v);
	log_notice("cluster: synchronised: ordering this head's %zu target "
		   "port groups out of transitioning (%s)",
		   n,
		   rejoin_state < 0 ? "to their configured states"
				    : "--rejoin-state");
	r = w.oom ? -ENOMEM
		  : tdm_cluster_order_raw(TDM__ORD_ALUA_REJOINED, w.p, w.len,
					  rejoin_done, NULL);
	tdm_wbuf_free(&w);
	if (r < 0)
		rejoin_done(NULL, r);
}

/* kind 9 delivered: applied here */
static int rejoined_ordered(bool mine, const uint8_t *payload, size_t len)
{
	struct tdm_rd r = {.p = payload, .len = len};
	struct tdm_alua_tgrp_set *v;
	char who[128], cause[256];
	uint32_t n = tdm_rd_get_u32(&r);
	int rc;

	/* an entry takes at least 8 bytes: a bound before allocating */
	if (r.bad || n > len / 8) {
		log_err("cluster: malformed rejoined head's groups from the "
			"agent");
		return -EBADMSG;
	}
	v = calloc(n ? n : 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		tdm_rd_get_str(&r, v[i].dg, sizeof(v[i].dg));
		v[i].group_id = tdm_rd_get_u16(&r);
		v[i].state = tdm_rd_get_u8(&r);
		v[i].preferred = tdm_rd_get_u8(&r) == 1;
	}
	tdm_rd_get_str(&r, who, sizeof(who));
	if (!tdm_rd_done(&r)) {
		free(v);
		log_err("cluster: malformed rejoined head's groups from the "
			"agent");
		return -EBADMSG;
	}
	snprintf(cause, sizeof(cause),
		 "%s rejoined and synchronised: %s (ordered by the cluster)",
		 mine ? "this head" : "another head", who);
	rc = tdm__alua_set_tgrps(v, n, cause);
	free(v);
	return rc;
}

/* ---- events of the daemon (kinds >= TDM_CLUSTER_KIND_DAEMON) ---- */

void tdm_cluster_set_ext(const struct tdm_cluster_ext *ext)
{
	cl.ext = ext;
}

int tdm_cluster_order_raw(uint8_t kind, const void *payload, size_t len,
			  tdm_cluster_done_fn done, void *arg)
{
	struct pending *p;
	uint64_t req;
	int r;

	if (!tdm__cluster_mode())
		return -ENOTSUP;
	if (tdm__cluster_fenced())
		return -EAGAIN;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->done = done;
	p->done_arg = arg;
	tdm_mutex_lock(&cl.lock);
	p->req = cl.next_req++;
	tdm_list_add_tail(&cl.pending, &p->link);
	tdm_mutex_unlock(&cl.lock);
	req = p->req;
	r = cl.ops->send_order(req, kind, payload, len);
	if (r < 0) {
		/* not on the list: done is called (the link's loss) */
		if (!pending_take(req))
			return 0;
		free(p);
		return r;
	}
	return 0;
}

/* ---- coming back ordered ---- */

/* This head's operation was applied here with sr/info: complete its
 * command now (link version 1) or keep the result until STABLE. */
static void applied(struct pending *p, int sr,
		    const struct tdm_sense_info *info)
{
	if (!p)
		return;
	if (!cl.wait_stable) {
		pending_complete(p, sr, info);
		return;
	}
	p->sr = sr;
	p->has_info = info && info->sks_valid;
	if (p->has_info)
		p->info = *info;
	p->applied = true;
}

/* The command waiting for req: taken now (link version 1) or left on the
 * list until STABLE. */
static struct pending *mine_of(bool mine, uint64_t req)
{
	if (!mine || !req)
		return NULL;
	return pending_find(req, cl.wait_stable);
}

void tdm_cluster_stable(uint64_t req)
{
	struct pending *p = pending_take(req);

	if (p)
		pending_complete(p, p->sr, p->has_info ? &p->info : NULL);
}

void tdm_cluster_pr_apply(bool mine, uint64_t req,
			  const struct tdm_cluster_pr *pr)
{
	struct pending *p = mine_of(mine, req);
	struct tdm_sense_info info;
	struct tdm_pr_nexus nx;
	struct tdm_lu *lu = tdm__lu_by_name(pr->device);
	struct tdm_pr_tid_err e;
	size_t used = 0;
	int sr;

	memset(&info, 0, sizeof(info));
	memset(&nx, 0, sizeof(nx));
	nx.rel_port = pr->rel_port;
	if (!lu) {
		/* every head must be configured with the same devices */
		log_err("cluster: PR OUT for device %s, which this head does "
			"not have: its state here diverges",
			pr->device);
		sr = TDM_SR_LUN_NOT_SUPPORTED;
	} else if (pr->cdb_len != 10 ||
		   tdm_pr_tid_decode(pr->tid, pr->tid_len, &nx.tid, &used, &e) <
			   0 ||
		   used != pr->tid_len) {
		log_err("cluster: %s: malformed PR OUT from the agent",
			lu->name);
		sr = TDM_SR_HW_ERROR;
	} else {
		sr = tdm__pr_apply_ordered(
			lu, pr->cdb, pr->param, pr->param_len, &nx,
			p && p->cmd ? p->cmd->nexus : NULL, &info);
		log_debug("cluster: %s: %s of %s (req %llu) applied: sense "
			  "reason %d",
			  lu->name, pr_out_name(pr->cdb, pr->cdb_len),
			  mine ? "this head" : "another head",
			  (unsigned long long)req, sr);
	}
	if (lu)
		tdm__lu_put(lu);
	applied(p, sr, &info);
}

void tdm_cluster_alua_apply(bool mine, uint64_t req,
			    const struct tdm_cluster_alua *a)
{
	struct pending *p = mine_of(mine, req);
	struct tdm_lu *lu = tdm__lu_by_name(a->device);
	struct tdm_alua_req *reqs = calloc(a->n ? a->n : 1, sizeof(*reqs));
	struct tdm_sense_info info;
	int sr;

	memset(&info, 0, sizeof(info));
	if (!lu || !reqs) {
		if (!lu)
			log_err("cluster: SET TARGET PORT GROUPS for device "
				"%s, which this head does not have",
				a->device);
		sr = lu ? TDM_SR_BUSY : TDM_SR_LUN_NOT_SUPPORTED;
	} else {
		for (size_t i = 0; i < a->n; i++) {
			reqs[i].group_id = a->set[i].group_id;
			reqs[i].state = a->set[i].state;
		}
		sr = tdm__alua_apply_ordered(lu, reqs, a->n,
					     p && p->cmd ? p->cmd->nexus : NULL,
					     &info);
		log_debug("cluster: %s: SET TARGET PORT GROUPS of %s (req "
			  "%llu, %zu groups) applied: sense reason %d",
			  lu->name, mine ? "this head" : "another head",
			  (unsigned long long)req, a->n, sr);
	}
	free(reqs);
	if (lu)
		tdm__lu_put(lu);
	applied(p, sr, &info);
}

/* The status of something the cluster did not order: a sense the
 * initiator retries, or -EAGAIN for the daemon's events. */
static int not_ordered(const struct pending *p)
{
	return p->cmd ? TDM_SR_ALUA_TRANSITION : -EAGAIN;
}

void tdm_cluster_reject(uint64_t req)
{
	struct pending *p = pending_take(req);

	log_debug("cluster: req %llu not ordered by the agent%s",
		  (unsigned long long)req,
		  p && p->applied ? " (applied: keeps its result)" : "");
	/* an applied one keeps its result (pending_complete) */
	if (p)
		pending_complete(p, not_ordered(p), NULL);
}

void tdm_cluster_reject_all(void)
{
	struct tdm_list all = TDM_LIST_INIT(all), *pos, *tmp;

	tdm_mutex_lock(&cl.lock);
	while (!tdm_list_empty(&cl.pending)) {
		pos = cl.pending.next;
		tdm_list_del(pos);
		tdm_list_add_tail(&all, pos);
	}
	tdm_mutex_unlock(&cl.lock);
	tdm_list_for_each_safe (pos, tmp, &all) {
		tdm_list_del(pos);
		struct pending *p = tdm_list_entry(pos, struct pending, link);

		pending_complete(p, not_ordered(p), NULL);
	}
}

/* ---- other ordered events (TDM__ORD_*, scsi/scsi_int.h) ----
 * payload: str device ("" = every LU), bytes TransportID of the initiator
 * port (empty: none), u16 relative target port id */

static void put_nexus(struct tdm_wbuf *w, const struct tdm_pr_nexus *id)
{
	uint8_t tid[TDM_TID_MAX];
	size_t n =
		id->tid.len ? tdm_pr_tid_encode(&id->tid, tid, sizeof(tid)) : 0;

	if (n > sizeof(tid)) {
		w->oom = true;
		return;
	}
	tdm_wbuf_put_bytes(w, tid, n);
	tdm_wbuf_put_u16(w, id->rel_port);
}

/* false: malformed */
static bool get_nexus(struct tdm_rd *r, struct tdm_pr_nexus *id)
{
	size_t n, used = 0;
	const uint8_t *tid = tdm_rd_get_bytes(r, &n);
	struct tdm_pr_tid_err e;

	memset(id, 0, sizeof(*id));
	id->rel_port = tdm_rd_get_u16(r);
	if (r->bad)
		return false;
	return n == 0 || (tdm_pr_tid_decode(tid, n, &id->tid, &used, &e) == 0 &&
			  used == n);
}

static void put_spc2(struct tdm_wbuf *w, struct tdm_lu *lu)
{
	struct tdm_pr_nexus id;
	bool held = tdm__spc2_get(lu, &id);

	if (!held)
		memset(&id, 0, sizeof(id));
	tdm_wbuf_put_u8(w, held);
	put_nexus(w, &id);
}

int tdm__cluster_order(struct tdm_cmd *cmd, uint8_t kind, const char *dev,
		       const struct tdm_pr_nexus *id)
{
	return tdm__cluster_order_cb(cmd, NULL, NULL, kind, dev, id);
}

int tdm__cluster_order_cb(struct tdm_cmd *cmd, tdm_cluster_done_fn done,
			  void *arg, uint8_t kind, const char *dev,
			  const struct tdm_pr_nexus *id)
{
	struct tdm_wbuf w = {0};
	struct pending *p = NULL;
	uint64_t req;
	int r;

	if (tdm__cluster_fenced())
		return cmd ? TDM_SR_ALUA_TRANSITION : -ENOTCONN;
	tdm_wbuf_reset(&w);
	tdm_wbuf_put_str(&w, dev);
	put_nexus(&w, id);
	if (w.oom) {
		tdm_wbuf_free(&w);
		return cmd ? TDM_SR_BUSY : -ENOMEM;
	}
	if (cmd || done) {
		p = pending_add(cmd, done, arg);
		if (!p) {
			tdm_wbuf_free(&w);
			return cmd ? TDM_SR_BUSY : -ENOMEM;
		}
	}
	/* p is not ours once sent: a callback's may be finished and freed
	 * on the main loop at once */
	req = p ? p->req : 0;
	r = cl.ops->send_order(req, kind, w.p, w.len);
	tdm_wbuf_free(&w);
	if (r < 0) {
		if (p && !pending_take(req))
			/* the link's loss completes it already */
			return cmd ? TDM__SR_ASYNC : 0;
		free(p);
		if (!cmd)
			log_warnx_rl("cluster: event %u for %s not ordered: %s",
				     kind, dev[0] ? dev : "every device",
				     strerror(-r));
		return cmd ? TDM_SR_ALUA_TRANSITION : r;
	}
	return cmd ? TDM__SR_ASYNC : 0;
}

void tdm_cluster_ordered(bool mine, uint64_t req, uint8_t kind,
			 const uint8_t *payload, size_t len)
{
	struct pending *p = mine_of(mine, req);
	struct tdm_rd r = {.p = payload, .len = len};
	struct tdm_pr_nexus id;
	struct tdm_lu **lus = NULL, *one;
	size_t n = 0;
	char dev[TDM_NAME_MAX];
	int sr = TDM_SR_OK;

	if (kind >= TDM_CLUSTER_KIND_DAEMON) {
		/* the daemon's own events: the status is its return */
		sr = cl.ext && cl.ext->apply
			     ? cl.ext->apply(kind, payload, len, mine)
			     : -ENOTSUP;
		if (!cl.ext || !cl.ext->apply)
			log_err("cluster: event kind %u has no handler here",
				kind);
		applied(p, sr, NULL);
		return;
	}

	if (kind == TDM__ORD_ALUA_ACTIVATE || kind == TDM__ORD_ALUA_SET_TGRP) {
		applied(p, tgrp_ordered(kind, mine, payload, len), NULL);
		return;
	}
	if (kind == TDM__ORD_ALUA_REJOINED) {
		applied(p, rejoined_ordered(mine, payload, len), NULL);
		return;
	}
	tdm_rd_get_str(&r, dev, sizeof(dev));
	if (!get_nexus(&r, &id) || !tdm_rd_done(&r)) {
		log_err("cluster: malformed event %u from the agent", kind);
		applied(p, TDM_SR_HW_ERROR, NULL);
		return;
	}
	if (kind == TDM__ORD_TARGET_CLOSE) {
		/* dev is the target: the origin closed its own nexuses */
		if (!mine)
			tdm__close_target_nexuses(dev, NULL);
		applied(p, TDM_SR_OK, NULL);
		return;
	}
	if (dev[0]) {
		one = tdm__lu_by_name(dev);
		lus = one ? malloc(sizeof(*lus)) : NULL;
		if (lus) {
			lus[0] = one;
			n = 1;
		} else if (one) {
			tdm__lu_put(one);
			sr = TDM_SR_BUSY;
		} else {
			log_err("cluster: event %u for device %s, which this "
				"head does not have",
				kind, dev);
			sr = TDM_SR_LUN_NOT_SUPPORTED;
		}
	} else {
		lus = tdm__all_lus(&n);
	}
	for (size_t i = 0; i < n; i++) {
		int s = tdm__spc2_apply(lus[i], kind, &id, mine);

		if (dev[0])
			sr = s;
		tdm__lu_put(lus[i]);
	}
	free(lus);
	applied(p, sr, NULL);
}

/* ---- snapshots ---- */

int tdm_cluster_snapshot(struct tdm_wbuf *w)
{
	struct tdm_tgrp_state *st = NULL;
	struct tdm_lu **lus;
	size_t nlus, nst;
	int r = 0;
	/* what every head of the group reads (3: no preferred bits) */
	uint16_t version = cl.group_version >= TDM__CLUSTER_PROTO_ACTIVATE
				   ? SNAP_VERSION
				   : 3;

	lus = tdm__all_lus(&nlus);
	if (!lus)
		return -ENOMEM;
	tdm_wbuf_put_bytes(w, SNAP_MAGIC, 4);
	tdm_wbuf_put_u16(w, version);
	tdm_wbuf_put_u32(w, (uint32_t)nlus);
	for (size_t i = 0; i < nlus; i++) {
		uint8_t *b = NULL;
		size_t n = 0;

		if (!r)
			r = tdm__pr_snapshot(lus[i], &b, &n);
		tdm_wbuf_put_str(w, lus[i]->name);
		tdm_wbuf_put_bytes(w, b, n);
		free(b);
		put_spc2(w, lus[i]);
		tdm__lu_put(lus[i]);
	}
	free(lus);
	nst = tdm_core_alua_states(&st);
	tdm_wbuf_put_u32(w, (uint32_t)nst);
	for (size_t i = 0; i < nst; i++) {
		tdm_wbuf_put_str(w, st[i].dg);
		tdm_wbuf_put_u16(w, st[i].group_id);
		tdm_wbuf_put_u8(w, st[i].state);
		tdm_wbuf_put_u8(w, st[i].status);
		if (version >= 4)
			tdm_wbuf_put_u8(w, st[i].preferred);
	}
	free(st);
	/* version 3: the daemon's part (bytes, may be empty) */
	if (!r && cl.ext && cl.ext->snapshot) {
		struct tdm_wbuf x = {0};

		tdm_wbuf_reset(&x);
		r = cl.ext->snapshot(&x);
		if (!r && x.oom)
			r = -ENOMEM;
		tdm_wbuf_put_bytes(w, x.p, r ? 0 : x.len);
		tdm_wbuf_free(&x);
	} else {
		tdm_wbuf_put_bytes(w, NULL, 0);
	}
	return r ? r : w->oom ? -ENOMEM : 0;
}

int tdm_cluster_load(const uint8_t *p, size_t n, char *err, size_t errlen)
{
	struct tdm_rd r = {.p = p, .len = n};
	const uint8_t *magic;
	size_t mlen, off;
	uint32_t nlus, nst;
	uint16_t version;
	const uint8_t *ext = NULL;
	size_t ext_len = 0;
	int rc = 0;

	/* first pass: the whole snapshot is well-formed, or nothing */
	magic = tdm_rd_get_bytes(&r, &mlen);
	version = tdm_rd_get_u16(&r);
	if (!magic || mlen != 4 || memcmp(magic, SNAP_MAGIC, 4) ||
	    version < 1 || version > SNAP_VERSION) {
		snprintf(err, errlen, "not a snapshot of version 1 to %d",
			 SNAP_VERSION);
		return -EPROTO;
	}
	off = r.off;
	nlus = tdm_rd_get_u32(&r);
	for (uint32_t i = 0; i < nlus && !r.bad; i++) {
		char name[64];
		size_t bl;
		const uint8_t *b;
		struct tdm_pr_state st;

		tdm_rd_get_str(&r, name, sizeof(name));
		b = tdm_rd_get_bytes(&r, &bl);
		tdm_pr_state_init(&st);
		if (!r.bad && tdm_pr_decode(b, bl, &st) < 0) {
			snprintf(err, errlen, "device %s: bad PR state", name);
			return -EBADMSG;
		}
		tdm_pr_state_free(&st);
		if (version >= 2) {
			struct tdm_pr_nexus id;

			(void)tdm_rd_get_u8(&r);
			if (!get_nexus(&r, &id)) {
				snprintf(err, errlen,
					 "device %s: bad SPC-2 holder", name);
				return -EBADMSG;
			}
		}
	}
	nst = tdm_rd_get_u32(&r);
	for (uint32_t i = 0; i < nst && !r.bad; i++) {
		char dg[64];

		tdm_rd_get_str(&r, dg, sizeof(dg));
		(void)tdm_rd_get_u16(&r);
		(void)tdm_rd_get_u8(&r);
		(void)tdm_rd_get_u8(&r);
		if (version >= 4 && tdm_rd_get_u8(&r) > 1) {
			snprintf(err, errlen,
				 "device group %s: bad preferred bit", dg);
			return -EBADMSG;
		}
	}
	if (version >= 3) {
		ext = tdm_rd_get_bytes(&r, &ext_len);
		/* the daemon's part is checked whole before anything is
		 * applied, like the rest */
		if (!r.bad && ext_len && cl.ext && cl.ext->check &&
		    cl.ext->check(ext, ext_len, err, errlen) < 0)
			return -EBADMSG;
	}
	if (!tdm_rd_done(&r)) {
		snprintf(err, errlen, "truncated or malformed snapshot");
		return -EBADMSG;
	}

	/* second pass: apply */
	r.off = off;
	nlus = tdm_rd_get_u32(&r);
	for (uint32_t i = 0; i < nlus; i++) {
		char name[64];
		size_t bl;
		const uint8_t *b;
		struct tdm_lu *lu;

		struct tdm_pr_nexus id;
		bool held = false;

		tdm_rd_get_str(&r, name, sizeof(name));
		b = tdm_rd_get_bytes(&r, &bl);
		if (version >= 2) {
			held = tdm_rd_get_u8(&r) != 0;
			(void)get_nexus(&r, &id); /* checked above */
		}
		lu = tdm__lu_by_name(name);
		if (!lu) {
			log_warnx("cluster: snapshot holds device %s, which "
				  "this head does not have",
				  name);
			continue;
		}
		if (tdm__pr_load(lu, b, bl) < 0 && !rc) {
			snprintf(err, errlen, "%s: cannot write its APTPL file",
				 name);
			rc = -EIO;
		}
		tdm__spc2_set(lu, held ? &id : NULL);
		tdm__lu_put(lu);
	}
	nst = tdm_rd_get_u32(&r);
	for (uint32_t i = 0; i < nst; i++) {
		char dg[64];
		uint16_t id;
		uint8_t state, status, pref = 2;

		tdm_rd_get_str(&r, dg, sizeof(dg));
		id = tdm_rd_get_u16(&r);
		state = tdm_rd_get_u8(&r);
		status = tdm_rd_get_u8(&r);
		if (version >= 4)
			pref = tdm_rd_get_u8(&r);
		if (tdm__alua_set_state_status(dg, id, state, status,
					       "the cluster's snapshot") < 0 ||
		    (pref < 2 &&
		     tdm__alua_set_preferred(dg, id, pref,
					     "the cluster's snapshot") < 0))
			log_warnx("cluster: snapshot: no target port group "
				  "%u in device group %s here",
				  id, dg);
	}
	if (ext && cl.ext && cl.ext->load) {
		int x = cl.ext->load(ext, ext_len, err, errlen);

		if (x < 0 && !rc)
			rc = x;
	}
	return rc;
}
