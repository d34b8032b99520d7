/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fencing.c - tandem-agentd's fencing-safe takeover (cluster protocol 5):
 * the --fencing mode checked at start (a two-head cluster without
 * fencing is refused unless --allow-two-heads-without-fencing), the hold
 * (hold.c decides) fed with CPG's configuration changes and FENCED, and
 * how this head learns that a departed head stopped serving:
 *   pacemaker  Pacemaker's fencing history (<crm/stonith-ng.h>,
 *              stonith_api_time_helper(), as dlm_controld reads it),
 *              polled every FENCE_POLL_MS while holding; a fence counts
 *              when it completed at or after the wall-clock second this
 *              agent saw that head join (stonith_admin --confirm lands in
 *              the same history: the manual override);
 *   self       the self-fence time (--self-fence-ms) since this agent saw
 *              the head leave: the minority fenced itself by then;
 *   none       no hold (the behaviour before protocol 5).
 * A head whose agent process died (CPG PROCDOWN) lost its link: its
 * tandemd fenced itself at once (or, frozen, stops acknowledging within
 * its --agent-timeout); it is released after the self-fence time in the
 * pacemaker and self modes alike. The first survivor that knows
 * multicasts FENCED; every survivor releases at its delivery.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agentd/agentd.h"
#include "lib/log.h"

#ifdef HAVE_STONITH
#include <crm/stonith-ng.h>
#endif

#define FENCE_POLL_MS 500
#define FENCE_LOG_MS 10000

const char *tdm__ag_fencing_name(int mode)
{
	return mode == AG_FENCING_PACEMAKER ? "pacemaker"
	       : mode == AG_FENCING_SELF    ? "self"
					    : "none";
}

int tdm__ag_fencing_parse(const char *s)
{
	if (!strcmp(s, "pacemaker"))
		return AG_FENCING_PACEMAKER;
	if (!strcmp(s, "self"))
		return AG_FENCING_SELF;
	if (!strcmp(s, "none"))
		return AG_FENCING_NONE;
	return -EINVAL;
}

/* At start: can this mode work here? 0, or a negative errno with the
 * reason logged. */
int tdm__ag_fencing_start(void)
{
	if (ag.fencing != AG_FENCING_PACEMAKER)
		return 0;
#ifdef HAVE_STONITH
	void *lib = dlopen(STONITH_LIBRARY, RTLD_LAZY);

	if (!lib) {
		log_err("--fencing pacemaker needs Pacemaker's fencing "
			"library %s (package libstonithd26): %s; install "
			"Pacemaker, or choose --fencing self (three heads or "
			"more)",
			STONITH_LIBRARY, dlerror());
		return -ENOENT;
	}
	dlclose(lib);
	return 0;
#else
	log_err("--fencing pacemaker: this tandem-agentd was built without "
		"Pacemaker's <crm/stonith-ng.h> (Debian package pacemaker-dev "
		"at build time); rebuild with it, or choose --fencing self "
		"(three heads or more)");
	return -ENOTSUP;
#endif
}

/* votequorum told how many votes the cluster expects: a two-head
 * cluster is refused without fencing (unless overridden) */
void tdm__ag_fencing_check_votes(unsigned flags, unsigned expected)
{
	bool two = (flags & VOTEQUORUM_INFO_TWONODE) || expected < 3;

	if (ag.fencing == AG_FENCING_PACEMAKER || !two)
		return;
	if (ag.allow_two_heads) {
		if (!ag.two_heads_warned)
			log_warnx("--fencing %s on a two-head cluster "
				  "(%s, expected votes %u), allowed by "
				  "--allow-two-heads-without-fencing: both "
				  "heads can serve during a partition",
				  tdm__ag_fencing_name(ag.fencing),
				  flags & VOTEQUORUM_INFO_TWONODE
					  ? "two_node"
					  : "no two_node",
				  expected);
		ag.two_heads_warned = true;
		return;
	}
	log_err("refusing to run: --fencing %s on a two-head cluster "
		"(%s, expected votes %u): both heads can serve during a "
		"partition. Configure fencing in Pacemaker and use "
		"--fencing pacemaker, or give "
		"--allow-two-heads-without-fencing (at your own risk)",
		tdm__ag_fencing_name(ag.fencing),
		flags & VOTEQUORUM_INFO_TWONODE ? "two_node" : "no two_node",
		expected);
	ag.exit_code = 1;
	ag.stopping = true;
}

static const char *clock_str(char *buf, size_t len, int64_t wall)
{
	time_t t = (time_t)wall;
	struct tm tm;

	if (!localtime_r(&t, &tm) || !strftime(buf, len, "%H:%M:%S", &tm))
		snprintf(buf, len, "%lld", (long long)wall);
	return buf;
}

static const char *why_name(enum tdm_hold_why why)
{
	return why == TDM_HOLD_NODEDOWN	  ? "node down"
	       : why == TDM_HOLD_PROCDOWN ? "its agent's process gone"
					  : "left";
}

/* A configuration change (corosync.c), after sync.c took it. */
void tdm__ag_fencing_confchg(const struct cpg_address *members, size_t n,
			     const struct cpg_address *left, size_t nleft,
			     bool had, uint16_t version)
{
	uint32_t ids[TDM_SYNC_MEMBERS_MAX];
	struct tdm_hold_left l[TDM_SYNC_MEMBERS_MAX];
	size_t i, k = 0, nl = 0, added;
	bool was = tdm_hold_active(&ag.hold), self = false;

	if (ag.fencing == AG_FENCING_NONE)
		return;
	for (i = 0; i < n && k < TDM_SYNC_MEMBERS_MAX; i++) {
		ids[k++] = members[i].nodeid;
		self = self || members[i].nodeid == ag.nodeid;
	}
	if (!self) {
		/* this head left: held STABLEs get REJECT */
		tdm__ag_fencing_reset();
		return;
	}
	for (i = 0; i < nleft && nl < TDM_SYNC_MEMBERS_MAX; i++) {
		l[nl].nodeid = left[i].nodeid;
		l[nl++].why = left[i].reason == CPG_REASON_NODEDOWN
				      ? TDM_HOLD_NODEDOWN
			      : left[i].reason == CPG_REASON_PROCDOWN
				      ? TDM_HOLD_PROCDOWN
				      : TDM_HOLD_LEAVE;
	}
	if (!had)
		tdm_hold_confchg(&ag.hold, ag.nodeid, ids, 0, NULL, 0, 0, 0,
				 tdm__ag_now_ms(), (int64_t)time(NULL));
	added = tdm_hold_confchg(&ag.hold, ag.nodeid, ids, k, l, nl,
				 had ? version : 0, ag.sy.conf,
				 tdm__ag_now_ms(), (int64_t)time(NULL));
	if (ag.hold.old_group) {
		ag.hold.old_group = false;
		if (!ag.old_group_logged)
			log_notice("a head left, but the group runs protocol "
				   "%u (below %d): no hold until fencing "
				   "(logged once)",
				   version, TDM_HOLD_VERSION);
		ag.old_group_logged = true;
	}
	if (added && !was)
		log_notice("holding ordered operations until the departed "
			   "head%s stopped serving (--fencing %s)",
			   ag.hold.ndep > 1 ? "s" : "",
			   tdm__ag_fencing_name(ag.fencing));
	if (was && !tdm_hold_active(&ag.hold))
		log_notice("no departed head waited for any more (it joined "
			   "again): releasing %zu held actions",
			   ag.hold.nq);
	for (i = 0; i < ag.hold.ndep; i++)
		if (ag.hold.dep[i].conf == ag.sy.conf)
			ag.hold.dep[i].log_ms = 0; /* log it now */
	tdm__ag_fencing_tick();
}

/* The held actions, taken out of the hold (the caller frees them with
 * free_taken()): carrying them out or rejecting them may close the link
 * and leave the group, which resets the hold meanwhile. */
static struct tdm_sync_act *take_queue(size_t *n)
{
	struct tdm_sync_act *q = ag.hold.q;

	*n = ag.hold.nq;
	ag.hold.q = NULL;
	ag.hold.nq = ag.hold.capq = 0;
	return q;
}

static void free_taken(struct tdm_sync_act *q, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free((void *)q[i].data);
	free(q);
}

/* Held actions that will never be carried out (this head's history is
 * replaced, or it leaves the group): its operations' STABLEs become
 * REJECTs, as sync.c's LOST does for operations not yet stable (tandemd
 * completes an applied one with the result it had); its APPLYs are no
 * longer pending (sync.c's LOST, or the leave, rejects them). */
static void drop_held(const char *why)
{
	size_t n;
	struct tdm_sync_act *q = take_queue(&n);
	uint16_t type, version;
	uint32_t origin;
	uint64_t req;

	if (n)
		log_notice("%zu held actions dropped: %s", n, why);
	for (size_t i = 0; i < n; i++) {
		const struct tdm_sync_act *a = &q[i];

		if (a->type == TDM_SYNC_STABLE) {
			log_notice("req %llu will not be known stable",
				   (unsigned long long)a->req);
			tdm__ag_send_reject(a->req, a->what);
		} else if (a->type == TDM_SYNC_APPLY &&
			   tdm_cmsg_op_ids(a->data, a->len, &type, &version,
					   &origin, &req) == 0 &&
			   origin == ag.nodeid) {
			tdm__ag_pending_done(req, type == TDM_CMSG_PR_OP ? 1
						  : type == TDM_CMSG_ALUA_OP
							  ? 2
							  : 3);
		}
	}
	free_taken(q, n);
}

/* This head leaves the group (agentd.c's tdm__ag_pending_reject_all, or
 * a configuration without it): nothing held is carried out, nobody is
 * waited for. */
void tdm__ag_fencing_reset(void)
{
	drop_held("this head leaves the group");
	tdm_hold_free(&ag.hold);
	tdm_hold_init(&ag.hold);
}

/* The cut of a configuration (agentd.c): a group below protocol 5 holds
 * nothing; the history of a member that reloads is replaced. */
void tdm__ag_fencing_cut(void)
{
	bool was = tdm_hold_active(&ag.hold);

	if (!ag.sy.synced)
		drop_held("this head loads the group's state");
	tdm_hold_cut(&ag.hold, ag.sy.version);
	if (was && !tdm_hold_active(&ag.hold)) {
		log_notice("the group runs protocol %u (below %d): no hold "
			   "(logged once per cut)",
			   ag.sy.version, TDM_HOLD_VERSION);
		ag.hold.old_group = false;
	}
	tdm__ag_fencing_release();
}

/* While holding, sync.c's actions that reach tandemd wait: true when a
 * was queued (agentd.c). */
bool tdm__ag_fencing_take(const struct tdm_sync_act *a)
{
	int r = tdm_hold_take(&ag.hold, a);

	if (r < 0) {
		/* cannot keep the order: leave, the group goes on */
		ag.fencing_oom = true;
		return true;
	}
	return r > 0;
}

/* Carry out the held actions once nobody is waited for. */
void tdm__ag_fencing_release(void)
{
	struct tdm_sync_act *q;
	size_t n;

	if (ag.fencing_oom) {
		ag.fencing_oom = false;
		tdm__ag_group_leave("out of memory holding an action");
		return;
	}
	if (!tdm_hold_releasable(&ag.hold))
		return;
	q = take_queue(&n);
	tdm__ag_run_held(q, n);
	free_taken(q, n);
}

/* A delivered FENCED (corosync.c). */
void tdm__ag_fencing_fenced(uint32_t from, const struct tdm_cmsg_fenced *f)
{
	uint64_t held = tdm__ag_now_ms() - ag.hold.since_ms;
	size_t nq = ag.hold.nq;

	if (!tdm_hold_fenced(&ag.hold, f)) {
		log_debug("FENCED of node %u from node %u: not waited for",
			  f->nodeid, from);
		return;
	}
	log_notice(
		"node %u stopped serving (%s, learnt by node %u after "
		"%u ms)%s",
		f->nodeid,
		f->how == TDM_FENCED_PACEMAKER ? "Pacemaker's fencing history"
					       : "self-fence time passed",
		from, f->waited_ms,
		tdm_hold_active(&ag.hold) ? "; still waiting for others" : "");
	if (!tdm_hold_active(&ag.hold))
		log_notice("hold released after %llu ms: %zu held actions "
			   "carried out in order",
			   (unsigned long long)held, nq);
	tdm__ag_fencing_release();
	tdm__ag_mq_flush();
	tdm__ag_update_status();
}

static void send_fenced(struct tdm_hold_dep *d, uint8_t how, uint64_t now)
{
	struct tdm_cmsg_fenced f = {
		.nodeid = d->nodeid,
		.how = how,
		.conf = d->conf,
		.waited_ms = (uint32_t)(now - d->left_ms),
	};

	if (ag.sy.version < TDM_HOLD_VERSION ||
	    tdm_cmsg_put_fenced(&ag.wb, ag.sy.version, &f) < 0 ||
	    tdm__ag_mq_push(ag.wb.p, ag.wb.len) < 0)
		return;
	d->sent = true;
	log_info("node %u stopped serving (%s): multicasting FENCED", d->nodeid,
		 how == TDM_FENCED_PACEMAKER ? "in Pacemaker's fencing history"
					     : "self-fence time passed");
	tdm__ag_mq_flush();
}

/* Each round of the loop: log the wait, poll Pacemaker, time the
 * self-fence. */
void tdm__ag_fencing_tick(void)
{
	uint64_t now = tdm__ag_now_ms();
	bool poll = now >= ag.fence_poll_at;
	char at[32], jt[32];

	if (!tdm_hold_active(&ag.hold) || !ag.cpg_joined)
		return;
	if (poll)
		ag.fence_poll_at = now + FENCE_POLL_MS;
	for (size_t i = 0; i < ag.hold.ndep; i++) {
		struct tdm_hold_dep *d = &ag.hold.dep[i];
		bool by_time = ag.fencing == AG_FENCING_SELF ||
			       d->why == TDM_HOLD_PROCDOWN;

		if (now >= d->log_ms) {
			d->log_ms = now + FENCE_LOG_MS;
			if (by_time)
				log_notice(
					"waiting for node %u to fence "
					"itself (left at %s, %s): %u ms "
					"after it left",
					d->nodeid,
					clock_str(at, sizeof(at), d->left_wall),
					why_name(d->why), ag.self_fence_ms);
			else
				log_notice(
					"waiting for fencing of node %u "
					"(left at %s, %s; a fence "
					"completed at or after %s counts; "
					"stonith_admin --confirm confirms "
					"by hand)",
					d->nodeid,
					clock_str(at, sizeof(at), d->left_wall),
					why_name(d->why),
					clock_str(jt, sizeof(jt),
						  d->joined_wall));
		}
		if (d->sent)
			continue;
		if (by_time) {
			if (now - d->left_ms >= ag.self_fence_ms)
				send_fenced(d, TDM_FENCED_SELF_TIME, now);
			continue;
		}
#ifdef HAVE_STONITH
		if (poll) {
			time_t t = stonith_api_time_helper(d->nodeid, false);

			log_debug("fencing history of node %u: last fence "
				  "at %lld (joined at %lld)",
				  d->nodeid, (long long)t,
				  (long long)d->joined_wall);
			if (t > 0 && (int64_t)t >= d->joined_wall)
				send_fenced(d, TDM_FENCED_PACEMAKER, now);
		}
#endif
	}
}
