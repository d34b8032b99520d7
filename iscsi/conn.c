/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * conn.c - one iSCSI connection's life on its event loop: creation, start
 * on a worker loop, references, the epoll callback that drives the
 * receive side (rx.c) and the send side (tx.c), the login deadline,
 * NOP-In pings and RspTimeout, and the close that releases everything.
 */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "iscsi/iscsi_int.h"
#include "lib/log.h"

#define LOGIN_TIMEOUT_MS 30000

static uint64_t conn_next_id = 1;
static struct tdm_mutex conn_id_lock = /* conn_next_id */
	TDM_MUTEX_INITIALIZER(TDM__ISCSI_LOCK_CONN_ID, "iscsi conn_id_lock");

static void conn_io_cb(struct tdm_fd_watch *w, uint32_t revents);
static void nop_timer_cb(struct tdm_timer *t);
static void deadline_cb(struct tdm_timer *t);

struct tdm__iscsi_conn *tdm__iscsi_conn_new(int fd,
					    const struct sockaddr *local,
					    const struct sockaddr *peer)
{
	struct tdm__iscsi_conn *c = calloc(1, sizeof(*c));
	char ip[INET6_ADDRSTRLEN];
	uint16_t port;

	if (!c)
		return NULL;
	c->rbuf = malloc(ISCSI_RBUF_SIZE);
	if (!c->rbuf) {
		free(c);
		return NULL;
	}
	tdm_mutex_lock(&conn_id_lock);
	c->id = conn_next_id++;
	tdm_mutex_unlock(&conn_id_lock);
	c->fd = fd;
	c->refs = 1;
	c->state = ISCSI_CONN_LOGIN;
	tdm_list_init(&c->txq);
	tdm_list_init(&c->tx_free);
	tdm_list_init(&c->tasks);
	tdm_list_init(&c->queued);
	tdm_list_init(&c->task_free);
	tdm_list_init(&c->reg_link);
	tdm__iscsi_params_default(&c->p);
	tdm__iscsi_prefs_default(&c->prefs);
	c->rx_state = ISCSI_RX_BHS;
	c->hdr_need = ISCSI_BHS_LEN;
	c->tpgt = 1;
	c->text_itt = ISCSI_RSVD_TAG;
	c->ttt_next = 1;
	if (local) {
		memcpy(&c->local, local,
		       local->sa_family == AF_INET6
			       ? sizeof(struct sockaddr_in6)
			       : sizeof(struct sockaddr_in));
		tdm__iscsi_sockaddr_str(local, c->local_ip, sizeof(c->local_ip),
					&c->local_port);
		snprintf(c->local_str, sizeof(c->local_str),
			 local->sa_family == AF_INET6 ? "[%s]:%u" : "%s:%u",
			 c->local_ip, c->local_port);
	} else {
		snprintf(c->local_ip, sizeof(c->local_ip), "127.0.0.1");
		c->local_port = 3260;
		snprintf(c->local_str, sizeof(c->local_str), "127.0.0.1:3260");
	}
	if (peer) {
		memcpy(&c->peer, peer,
		       peer->sa_family == AF_INET6
			       ? sizeof(struct sockaddr_in6)
			       : sizeof(struct sockaddr_in));
		tdm__iscsi_sockaddr_str(peer, ip, sizeof(ip), &port);
		snprintf(c->peer_str, sizeof(c->peer_str),
			 peer->sa_family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip,
			 port);
	} else {
		snprintf(c->peer_str, sizeof(c->peer_str), "(test)");
	}
	c->nop_timer.cb = nop_timer_cb;
	c->nop_timer.arg = c;
	c->deadline.cb = deadline_cb;
	c->deadline.arg = c;
	return c;
}

void tdm__iscsi_conn_start(void *arg)
{
	struct tdm__iscsi_conn *c = arg;

	c->loop = tdm_loop_current();
	c->last_rx_ns = tdm_now_ns();
	if (c->fuzz)
		return;
	if (tdm__iscsi_shutting_down) {
		tdm__iscsi_conn_close(c, "shutting down");
		return;
	}
	c->watch.fd = c->fd;
	c->watch.events = EPOLLIN | EPOLLRDHUP;
	c->watch.cb = conn_io_cb;
	c->watch.arg = c;
	if (tdm_loop_add_fd(c->loop, &c->watch)) {
		log_warnx("iscsi: %s: cannot watch the connection",
			  c->peer_str);
		tdm__iscsi_conn_close(c, "epoll");
		return;
	}
	c->watching = true;
	c->watch_events = c->watch.events;
	tdm_timer_start(c->loop, &c->deadline, LOGIN_TIMEOUT_MS);
	log_debug("iscsi: connection from %s to %s", c->peer_str, c->local_str);
}

void tdm__iscsi_conn_get(struct tdm__iscsi_conn *c)
{
	c->refs++;
}

static void conn_free(struct tdm__iscsi_conn *c)
{
	tdm__iscsi_reg_del(c);
	while (!tdm_list_empty(&c->tx_free)) {
		struct tdm__iscsi_txpdu *pdu = tdm_list_entry(
			c->tx_free.next, struct tdm__iscsi_txpdu, link);

		tdm_list_del(&pdu->link);
		free(pdu);
	}
	tdm__iscsi_tasks_free_cache(c);
	if (c->fd >= 0)
		close(c->fd);
	free(c->rbuf);
	free(c->dbuf);
	free(c->text_rsp);
	free(c->text_req);
	free(c);
	tdm__iscsi_conn_gone();
}

void tdm__iscsi_conn_put(struct tdm__iscsi_conn *c)
{
	if (--c->refs == 0)
		conn_free(c);
}

void tdm__iscsi_conn_set_events(struct tdm__iscsi_conn *c, uint32_t ev)
{
	if (!c->watching || c->fuzz || ev == c->watch_events)
		return;
	if (tdm_loop_mod_fd(c->loop, &c->watch, ev) == 0)
		c->watch_events = ev;
}

void tdm__iscsi_conn_close(struct tdm__iscsi_conn *c, const char *why)
{
	/* a session's end is news; a login's or a discovery session's is
	 * not (anyone can make any number of them, and a refusal was logged
	 * already) */
	bool session =
		c->nexus || (!c->discovery && c->state != ISCSI_CONN_LOGIN);
	struct tdm_nexus *nx;

	if (c->closed)
		return;
	c->closed = true;
	c->state = ISCSI_CONN_CLOSING;
	tdm__iscsi_conn_get(c);
	if (session)
		log_info("iscsi: %s: %s%s%s: connection closed: %s",
			 c->peer_str, c->initiator[0] ? c->initiator : "?",
			 c->target[0] ? " -> " : "", c->target, why);
	else
		log_debug("iscsi: %s: connection closed: %s", c->peer_str, why);
	if (c->loop) {
		tdm_timer_stop(c->loop, &c->nop_timer);
		tdm_timer_stop(c->loop, &c->deadline);
	}
	if (c->watching) {
		tdm_loop_del_fd(c->loop, &c->watch);
		c->watching = false;
	}
	if (c->fd >= 0) {
		shutdown(c->fd, SHUT_RDWR);
		close(c->fd);
		c->fd = -1;
	}
	tdm__iscsi_rx_detach(c);
	/* what was not sent never will be: release the tasks waiting */
	while (!tdm_list_empty(&c->txq)) {
		struct tdm__iscsi_txpdu *pdu = tdm_list_entry(
			c->txq.next, struct tdm__iscsi_txpdu, link);
		struct tdm__iscsi_task *t = pdu->task;

		tdm_list_del(&pdu->link);
		tdm__iscsi_pdu_free(c, pdu);
		if (t)
			tdm__iscsi_task_tx_done(t);
	}
	c->tx_off = 0;
	tdm__iscsi_login_free(c);
	tdm__iscsi_tasks_teardown(c, true);
	free(c->text_rsp);
	c->text_rsp = NULL;
	free(c->text_req);
	c->text_req = NULL;
	nx = c->nexus;
	c->nexus = NULL;
	if (nx) {
		/* I_T nexus loss: the core aborts what is left and calls
		 * back (abort_pending, queue_status, free_cmd) */
		tdm_nexus_destroy(nx);
	}
	tdm__iscsi_reg_del(c);
	tdm__iscsi_conn_put(c);
	tdm__iscsi_conn_put(c); /* the connection's own reference */
}

static void conn_io_cb(struct tdm_fd_watch *w, uint32_t revents)
{
	struct tdm__iscsi_conn *c = w->arg;

	tdm__iscsi_conn_get(c);
	if (revents & EPOLLOUT)
		tdm__iscsi_tx_flush(c);
	if (!c->closed &&
	    (revents & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) &&
	    !c->rx_paused) {
		c->in_rx = true;
		tdm__iscsi_rx_read(c);
		c->in_rx = false;
		if (!c->closed && c->want_flush)
			tdm__iscsi_tx_flush(c);
	} else if (!c->closed && (revents & (EPOLLHUP | EPOLLERR))) {
		tdm__iscsi_conn_close(c, "connection error");
	}
	tdm__iscsi_conn_put(c);
}

/* ---- full feature phase helpers ---- */

void tdm__iscsi_conn_enter_ffp(struct tdm__iscsi_conn *c)
{
	c->state = ISCSI_CONN_FFP;
	tdm__iscsi_prelogin_done(c);
	if (c->loop)
		tdm_timer_stop(c->loop, &c->deadline);
	/* data of later PDUs may be larger than during login */
	if (tdm__iscsi_rx_dbuf_reserve(c, c->p.max_recv_dsl))
		tdm__iscsi_conn_close(c, "out of memory");
	if (!c->discovery)
		tdm__iscsi_conn_nop_arm(c);
}

/* Housekeeping period: fine enough for the NOP-In and RspTimeout
 * settings, at most 5 s. */
static uint64_t tick_ms(const struct tdm__iscsi_conn *c)
{
	uint64_t t = 5;

	if (c->prefs.nop_in_interval && c->prefs.nop_in_interval < t)
		t = c->prefs.nop_in_interval;
	if (c->prefs.nop_in_interval && c->prefs.nop_in_timeout &&
	    c->prefs.nop_in_timeout < t)
		t = c->prefs.nop_in_timeout;
	return t * 1000;
}

void tdm__iscsi_conn_nop_arm(struct tdm__iscsi_conn *c)
{
	if (!c->loop || c->fuzz)
		return;
	if (!c->prefs.nop_in_interval && !c->prefs.rsp_timeout)
		return;
	tdm_timer_start(c->loop, &c->nop_timer, tick_ms(c));
}

/* RspTimeout: a command waiting too long for the initiator's data. */
static bool data_overdue(struct tdm__iscsi_conn *c, uint64_t now)
{
	uint64_t limit = (uint64_t)c->prefs.rsp_timeout * 1000000000ull;
	struct tdm_list *pos;

	if (!limit)
		return false;
	tdm_list_for_each (pos, &c->tasks) {
		struct tdm__iscsi_task *t =
			tdm_list_entry(pos, struct tdm__iscsi_task, link);

		if (t->state == ISCSI_TASK_WRITE && t->wait_ns &&
		    now - t->wait_ns > limit)
			return true;
	}
	return false;
}

/*
 * While its requests are not read (back pressure), the answer to a ping
 * cannot be seen: the initiator is alive if it takes what we send, or if
 * nothing waits to be sent (its commands are still running). One that
 * has not read for the NOP-In timeout is closed.
 */
static bool tx_moving(const struct tdm__iscsi_conn *c, uint64_t now,
		      uint64_t timeout)
{
	return c->rx_paused && !c->rx_hold &&
	       (tdm_list_empty(&c->txq) || now - c->last_tx_ns < timeout);
}

static void nop_timer_cb(struct tdm_timer *t)
{
	struct tdm__iscsi_conn *c = t->arg;
	uint64_t now = tdm_now_ns();
	uint64_t interval = (uint64_t)c->prefs.nop_in_interval * 1000000000ull;
	uint64_t timeout = (uint64_t)c->prefs.nop_in_timeout * 1000000000ull;

	if (c->closed || c->state != ISCSI_CONN_FFP)
		return;
	if (data_overdue(c, now)) {
		tdm__iscsi_conn_close(c, "no Data-Out within RspTimeout");
		return;
	}
	if (interval && c->nop_outstanding) {
		if (c->last_rx_ns > c->nop_sent_ns ||
		    tx_moving(c, now, timeout)) {
			c->nop_outstanding = false; /* alive anyway */
		} else if (now - c->nop_sent_ns >= timeout) {
			tdm__iscsi_conn_close(c, "NOP-In ping timed out");
			return;
		}
	}
	if (interval && !c->nop_outstanding &&
	    now - c->last_rx_ns >= interval) {
		/* RFC 7143 11.19: a ping asking for an answer; StatSN is
		 * not advanced */
		c->nop_ttt = c->ttt_next++;
		if (c->nop_ttt == ISCSI_RSVD_TAG)
			c->nop_ttt = c->ttt_next++;
		c->nop_outstanding = true;
		c->nop_sent_ns = now;
		tdm__iscsi_send_nop_in(c, ISCSI_RSVD_TAG, c->nop_ttt, NULL,
				       NULL, 0, false);
	}
	tdm_timer_start(c->loop, &c->nop_timer, tick_ms(c));
}

static void deadline_cb(struct tdm_timer *t)
{
	struct tdm__iscsi_conn *c = t->arg;

	if (c->closed)
		return;
	if (c->draining)
		tdm__iscsi_conn_close(c,
				      "shutting down: commands still waiting");
	else if (c->state == ISCSI_CONN_LOGIN)
		tdm__iscsi_login_timeout(c);
	else if (c->state == ISCSI_CONN_LOGOUT)
		tdm__iscsi_conn_close(c, "logout timed out");
}
