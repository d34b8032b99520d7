/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * session.c - sessions: the registry of connections (the only state shared
 * between loops, behind one mutex, used at login, logout, reinstatement,
 * config apply and shutdown), TSIH assignment, session reinstatement
 * (RFC 7143 6.3.5), the CmdSN window and command ordering (4.2.2.1), and
 * Logout (11.14, 11.15).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "iscsi/iscsi_int.h"
#include "lib/log.h"

#define LOGOUT_TIMEOUT_MS 15000
#define DRAIN_TIMEOUT_MS 20000

/* reg and the counts, tsih_next, the shutdown fields, and of each
 * connection reg_link, registered_session, reinstate_*, prelogin,
 * evicted */
static struct tdm_mutex reg_lock =
	TDM_MUTEX_INITIALIZER(TDM__ISCSI_LOCK_REG, "iscsi reg_lock");
static struct tdm_list reg = TDM_LIST_INIT(reg); /* all connections */
static uint16_t tsih_next = 1;
static unsigned reg_count;
static unsigned prelogin_count; /* of them c->prelogin */

bool tdm__iscsi_shutting_down;
static void (*shutdown_done)(void *arg);
static void *shutdown_arg;
static struct tdm_loop *shutdown_loop;
static bool shutdown_fired;

void tdm__iscsi_reg_add(struct tdm__iscsi_conn *c)
{
	tdm_mutex_lock(&reg_lock);
	tdm_list_add_tail(&reg, &c->reg_link);
	reg_count++;
	if (c->prelogin)
		prelogin_count++;
	tdm_mutex_unlock(&reg_lock);
}

/* under reg_lock */
static void prelogin_forget(struct tdm__iscsi_conn *c)
{
	if (c->prelogin) {
		c->prelogin = false;
		prelogin_count--;
	}
}

void tdm__iscsi_prelogin_done(struct tdm__iscsi_conn *c)
{
	tdm_mutex_lock(&reg_lock);
	prelogin_forget(c);
	tdm_mutex_unlock(&reg_lock);
}

struct notify_msg {
	uint64_t id;
	bool drain;
	bool reinstate;
	bool evict;
};

static struct tdm__iscsi_conn *find_local(uint64_t id)
{
	struct tdm_list *pos;
	struct tdm__iscsi_conn *found = NULL;
	struct tdm_loop *me = tdm_loop_current();

	tdm_mutex_lock(&reg_lock);
	tdm_list_for_each (pos, &reg) {
		struct tdm__iscsi_conn *c =
			tdm_list_entry(pos, struct tdm__iscsi_conn, reg_link);

		if (c->id == id && c->loop == me) {
			found = c;
			break;
		}
	}
	tdm_mutex_unlock(&reg_lock);
	return found;
}

static void reinstated_msg(void *arg)
{
	struct notify_msg *m = arg;
	struct tdm__iscsi_conn *c = find_local(m->id);

	free(m);
	if (c && !c->closed)
		tdm__iscsi_login_reinstated(c);
}

void tdm__iscsi_reg_del(struct tdm__iscsi_conn *c)
{
	uint64_t waiter = 0;
	struct tdm_loop *wloop = NULL;
	bool was = false;

	tdm_mutex_lock(&reg_lock);
	if (!tdm_list_empty(&c->reg_link)) {
		tdm_list_del(&c->reg_link);
		was = true;
	}
	prelogin_forget(c);
	waiter = c->reinstate_waiter;
	wloop = c->reinstate_loop;
	c->reinstate_waiter = 0;
	c->registered_session = false;
	tdm_mutex_unlock(&reg_lock);
	(void)was;
	if (waiter && wloop) {
		struct notify_msg *m = calloc(1, sizeof(*m));

		if (m) {
			m->id = waiter;
			tdm_loop_post(wloop, reinstated_msg, m);
		}
	}
}

void tdm__iscsi_conn_gone(void)
{
	bool fire = false;

	tdm_mutex_lock(&reg_lock);
	if (reg_count)
		reg_count--;
	if (tdm__iscsi_shutting_down && reg_count == 0 && shutdown_done &&
	    !shutdown_fired) {
		shutdown_fired = true;
		fire = true;
	}
	tdm_mutex_unlock(&reg_lock);
	if (fire)
		tdm_loop_post(shutdown_loop, shutdown_done, shutdown_arg);
}

static void close_msg(void *arg)
{
	struct notify_msg *m = arg;
	struct tdm__iscsi_conn *c = find_local(m->id);
	bool drain = m->drain, reinstate = m->reinstate, evict = m->evict;

	free(m);
	if (!c || c->closed)
		return;
	if (evict) {
		/* it may have logged in meanwhile: then it stays */
		if (c->state == ISCSI_CONN_LOGIN)
			tdm__iscsi_conn_close(c, "the oldest of too many "
						 "connections logging in");
		return;
	}
	if (!drain) {
		tdm__iscsi_conn_close(c, reinstate ? "session reinstated"
						   : "closed by the target");
		return;
	}
	if (c->state != ISCSI_CONN_FFP && c->state != ISCSI_CONN_LOGOUT) {
		tdm__iscsi_conn_close(c, "shutting down");
		return;
	}
	/* drain: take nothing new, finish what runs, then close */
	c->draining = true;
	tdm__iscsi_abort_queued(c, true, 0);
	tdm__iscsi_tasks_teardown(c, false);
	if (c->loop) {
		tdm_timer_stop(c->loop, &c->nop_timer);
		tdm_timer_stop(c->loop, &c->deadline);
		tdm_timer_start(c->loop, &c->deadline, DRAIN_TIMEOUT_MS);
	}
	tdm__iscsi_logout_progress(c);
}

static void post_close(struct tdm__iscsi_conn *c, bool drain)
{
	struct notify_msg *m = calloc(1, sizeof(*m));

	if (!m || !c->loop) {
		free(m);
		return;
	}
	m->id = c->id;
	m->drain = drain;
	m->reinstate = c->reinstate_waiter != 0;
	tdm_loop_post(c->loop, close_msg, m);
}

bool tdm__iscsi_prelogin_room(unsigned max)
{
	struct tdm__iscsi_conn *oldest = NULL;
	struct notify_msg *m;
	struct tdm_list *pos;

	tdm_mutex_lock(&reg_lock);
	if (prelogin_count < max) {
		tdm_mutex_unlock(&reg_lock);
		return true;
	}
	/*
	 * Full: the connection that has been logging in the longest makes
	 * room (a login takes a few round trips; one that idles is the
	 * flood's). Those told to close still count until they did, so a
	 * flood faster than they close is refused: at most 2 * max.
	 */
	tdm_list_for_each (pos, &reg) {
		struct tdm__iscsi_conn *o =
			tdm_list_entry(pos, struct tdm__iscsi_conn, reg_link);

		if (o->prelogin && !o->evicted && o->loop &&
		    (!oldest || o->accept_ns < oldest->accept_ns))
			oldest = o;
	}
	m = oldest ? calloc(1, sizeof(*m)) : NULL;
	if (m) {
		log_warnx_rl(
			"iscsi: %u connections logging in "
			"(max_pending_logins): closing the oldest, from %s",
			max, oldest->peer_str);
		oldest->evicted = true;
		m->id = oldest->id;
		m->evict = true;
		tdm_loop_post(oldest->loop, close_msg, m);
	}
	tdm_mutex_unlock(&reg_lock);
	return m != NULL;
}

void tdm__iscsi_close_by_id(struct tdm_loop *loop, uint64_t id)
{
	struct notify_msg *m = calloc(1, sizeof(*m));

	if (!m)
		return;
	m->id = id;
	tdm_loop_post(loop, close_msg, m);
}

unsigned tdm__iscsi_close_all(bool drain)
{
	struct tdm_list *pos;
	unsigned n = 0;

	tdm_mutex_lock(&reg_lock);
	tdm_list_for_each (pos, &reg) {
		post_close(
			tdm_list_entry(pos, struct tdm__iscsi_conn, reg_link),
			drain);
		n++;
	}
	tdm_mutex_unlock(&reg_lock);
	return n;
}

void tdm__iscsi_set_shutdown(void (*done)(void *arg), void *arg,
			     struct tdm_loop *loop)
{
	bool fire = false;

	tdm_mutex_lock(&reg_lock);
	tdm__iscsi_shutting_down = true;
	shutdown_done = done;
	shutdown_arg = arg;
	shutdown_loop = loop;
	if (reg_count == 0 && !shutdown_fired && done) {
		shutdown_fired = true;
		fire = true;
	}
	tdm_mutex_unlock(&reg_lock);
	if (fire)
		tdm_loop_post(loop, done, arg);
}

void tdm__iscsi_close_stale(const struct tdm_conf *conf)
{
	struct tdm_list *pos;

	tdm_mutex_lock(&reg_lock);
	tdm_list_for_each (pos, &reg) {
		struct tdm__iscsi_conn *c =
			tdm_list_entry(pos, struct tdm__iscsi_conn, reg_link);
		const struct tdm_conf_target *t;

		if (!c->registered_session || c->discovery)
			continue;
		t = conf ? tdm__iscsi_find_target(conf, c->target) : NULL;
		if (!t || !t->enabled || !conf->iscsi_enabled)
			post_close(c, false);
	}
	tdm_mutex_unlock(&reg_lock);
}

static bool same_nexus(const struct tdm__iscsi_conn *a,
		       const struct tdm__iscsi_conn *b)
{
	return !strcmp(a->initiator, b->initiator) &&
	       !memcmp(a->isid, b->isid, 6) && !strcmp(a->target, b->target);
}

static bool tsih_used(uint16_t tsih)
{
	struct tdm_list *pos;

	tdm_list_for_each (pos, &reg) {
		struct tdm__iscsi_conn *o =
			tdm_list_entry(pos, struct tdm__iscsi_conn, reg_link);

		if (o->registered_session && o->tsih == tsih)
			return true;
	}
	return false;
}

int tdm__iscsi_session_publish(struct tdm__iscsi_conn *c, uint16_t want_tsih,
			       uint16_t *status)
{
	struct tdm_list *pos;
	int n = 0;

	tdm_mutex_lock(&reg_lock);
	if (want_tsih) {
		/* RFC 7143 6.3.4: a connection for an existing session;
		 * with MaxConnections=1 only the reinstatement of the same
		 * connection (same CID) makes sense */
		struct tdm__iscsi_conn *old = NULL;

		tdm_list_for_each (pos, &reg) {
			struct tdm__iscsi_conn *o = tdm_list_entry(
				pos, struct tdm__iscsi_conn, reg_link);

			if (o != c && o->registered_session &&
			    o->tsih == want_tsih && same_nexus(o, c) &&
			    o->discovery == c->discovery) {
				old = o;
				break;
			}
		}
		if (!old) {
			tdm_mutex_unlock(&reg_lock);
			*status = ISCSI_LOGIN_NO_SESSION;
			return -ENOENT;
		}
		if (old->cid != c->cid) {
			tdm_mutex_unlock(&reg_lock);
			*status = ISCSI_LOGIN_TOO_MANY_CONNECTIONS;
			return -EBUSY;
		}
		old->registered_session = false;
		old->reinstate_waiter = c->id;
		old->reinstate_loop = c->loop;
		post_close(old, false);
		c->tsih = want_tsih;
		c->registered_session = true;
		tdm_mutex_unlock(&reg_lock);
		return 1;
	}
	if (!c->discovery) {
		/* RFC 7143 6.3.5: session reinstatement: same initiator
		 * name, ISID and target; the old one is closed first */
		tdm_list_for_each (pos, &reg) {
			struct tdm__iscsi_conn *o = tdm_list_entry(
				pos, struct tdm__iscsi_conn, reg_link);

			if (o == c || !o->registered_session || o->discovery ||
			    !same_nexus(o, c))
				continue;
			o->registered_session = false;
			o->reinstate_waiter = c->id;
			o->reinstate_loop = c->loop;
			post_close(o, false);
			n++;
			/* one waiter per old session; more than one cannot
			 * exist since each reinstatement removes the last */
			break;
		}
	}
	/* RFC 7143 11.12.6: TSIH, never 0 */
	for (unsigned tries = 0; tries < 65536; tries++) {
		uint16_t v = tsih_next++;

		if (v == 0)
			continue;
		if (!tsih_used(v)) {
			c->tsih = v;
			break;
		}
	}
	c->registered_session = true;
	tdm_mutex_unlock(&reg_lock);
	return n;
}

/* ---- command window (RFC 7143 4.2.2.1) ---- */

uint32_t tdm__iscsi_window(const struct tdm__iscsi_conn *c)
{
	return c->prefs.queued_commands ? c->prefs.queued_commands : 128;
}

void tdm__iscsi_update_window(struct tdm__iscsi_conn *c)
{
	uint32_t win = tdm__iscsi_window(c);
	uint32_t busy = c->nactive;
	uint32_t cand;

	if (busy >= win)
		busy = win;
	/* MaxCmdSN = ExpCmdSN - 1 closes the window; it never shrinks
	 * below what was announced */
	cand = c->exp_cmdsn + (win - busy) - 1;
	if (tdm__sn_lt(c->max_cmdsn, cand))
		c->max_cmdsn = cand;
	if (tdm__sn_lt(c->max_cmdsn, c->exp_cmdsn - 1))
		c->max_cmdsn = c->exp_cmdsn - 1;
}

int tdm__iscsi_cmdsn_check(struct tdm__iscsi_conn *c, uint32_t cmdsn)
{
	if (tdm__sn_lt(cmdsn, c->exp_cmdsn) || tdm__sn_lt(c->max_cmdsn, cmdsn))
		return -1;
	return cmdsn == c->exp_cmdsn ? 0 : 1;
}

void tdm__iscsi_queue_by_cmdsn(struct tdm__iscsi_conn *c,
			       struct tdm__iscsi_task *t)
{
	struct tdm_list *pos;

	t->state = ISCSI_TASK_QUEUED;
	tdm_list_for_each (pos, &c->queued) {
		struct tdm__iscsi_task *q =
			tdm_list_entry(pos, struct tdm__iscsi_task, link);

		if (tdm__sn_lt(t->cmdsn, q->cmdsn))
			break;
	}
	tdm_list_add_tail(pos, &t->link);
}

void tdm__iscsi_cmdsn_consume(struct tdm__iscsi_conn *c, int order,
			      uint32_t cmdsn)
{
	struct tdm__iscsi_task *t;

	if (order == 0) {
		c->exp_cmdsn++;
		tdm__iscsi_deliver_queued(c);
		return;
	}
	/* ahead of a gap: a placeholder keeps its place in the order */
	t = tdm__iscsi_task_alloc(c);
	if (!t)
		return;
	t->kind = ISCSI_KIND_PLACEHOLDER;
	t->cmdsn = cmdsn;
	tdm__iscsi_queue_by_cmdsn(c, t);
}

void tdm__iscsi_deliver_queued(struct tdm__iscsi_conn *c)
{
	while (!c->closed && !tdm_list_empty(&c->queued)) {
		struct tdm__iscsi_task *t = tdm_list_entry(
			c->queued.next, struct tdm__iscsi_task, link);

		if (t->cmdsn != c->exp_cmdsn)
			break;
		c->exp_cmdsn++;
		tdm_list_del(&t->link);
		if (t->kind != ISCSI_KIND_SCSI || t->aborted) {
			tdm__iscsi_task_unhash(t);
			tdm__iscsi_task_put(t);
			continue;
		}
		tdm__iscsi_task_submit(t);
	}
}

/* ---- logout (RFC 7143 11.14, 11.15) ---- */

static void send_logout_rsp(struct tdm__iscsi_conn *c, uint32_t itt,
			    uint8_t response, bool close_after)
{
	struct tdm__iscsi_txpdu *pdu = tdm__iscsi_pdu_alloc(c);

	if (!pdu) {
		tdm__iscsi_conn_close(c, "out of memory");
		return;
	}
	pdu->hdr[0] = ISCSI_OP_LOGOUT_RSP;
	pdu->hdr[1] = ISCSI_FLAG_FINAL;
	pdu->hdr[2] = response;
	tdm_put_be32(pdu->hdr + 16, itt);
	tdm__iscsi_pdu_set_sn(c, pdu, true);
	/* 11.15.2, 11.15.3: Time2Wait / Time2Retain: 0 at ERL 0 */
	if (close_after)
		pdu->flags |= ISCSI_TX_CLOSE;
	tdm__iscsi_pdu_queue(c, pdu);
	tdm__iscsi_conn_kick(c);
}

void tdm__iscsi_logout_req(struct tdm__iscsi_conn *c, const uint8_t *bhs)
{
	uint8_t reason = bhs[1] & 0x7f;
	uint32_t itt = tdm_get_be32(bhs + 16);
	uint16_t cid = tdm_get_be16(bhs + 20);

	switch (reason) {
	case ISCSI_LOGOUT_CLOSE_SESSION:
		break;
	case ISCSI_LOGOUT_CLOSE_CONNECTION:
		if (cid != c->cid) {
			send_logout_rsp(c, itt, ISCSI_LOGOUT_RSP_NO_CID, false);
			return;
		}
		break;
	case ISCSI_LOGOUT_REMOVE_FOR_RECOVERY:
	default:
		/* needs ERL 2 */
		send_logout_rsp(c, itt, ISCSI_LOGOUT_RSP_NO_RECOVERY, false);
		return;
	}
	c->state = ISCSI_CONN_LOGOUT;
	c->logout_pending = true;
	c->logout_itt = itt;
	/* commands waiting for a CmdSN gap will never run */
	tdm__iscsi_abort_queued(c, true, 0);
	tdm__iscsi_tasks_teardown(c, false);
	if (c->loop) {
		tdm_timer_stop(c->loop, &c->nop_timer);
		tdm_timer_start(c->loop, &c->deadline, LOGOUT_TIMEOUT_MS);
	}
	tdm__iscsi_logout_progress(c);
}

/* Logout response or shutdown once the running commands are done. */
void tdm__iscsi_logout_progress(struct tdm__iscsi_conn *c)
{
	if (c->closed || c->nactive || c->ntmf)
		return;
	if (c->logout_pending) {
		struct tdm_nexus *nx = c->nexus;

		c->logout_pending = false;
		/* the logout ends the session (MaxConnections 1) and its
		 * I_T nexus: end it before the initiator hears so, or a
		 * RESERVE another initiator sends on the Logout Response
		 * can still meet the SPC-2 reservation this nexus held
		 * (libiscsi's Reserve6.Logout did, on a loaded machine) */
		c->nexus = NULL;
		if (nx)
			tdm_nexus_destroy(nx);
		send_logout_rsp(c, c->logout_itt, ISCSI_LOGOUT_RSP_OK, true);
		return;
	}
	if (c->draining) {
		if (tdm_list_empty(&c->txq)) {
			tdm__iscsi_conn_close(c, "shutting down");
			return;
		}
		/* close once the last responses are out */
		struct tdm__iscsi_txpdu *last = tdm_list_entry(
			c->txq.prev, struct tdm__iscsi_txpdu, link);

		last->flags |= ISCSI_TX_CLOSE;
	}
}
