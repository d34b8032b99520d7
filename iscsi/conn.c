/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * conn.c - one iSCSI connection on its event loop: socket reads into the
 * receive state machine (BHS, AHS, header digest, data segment, padding,
 * data digest; RFC 7143 11.2), dispatch of complete PDUs, the send queue
 * (gathered sendmsg of header + data in place), NOP-In pings, teardown.
 *
 * Large data segments (Data-Out, immediate data) are read straight into
 * the command's buffer with readv() when the staging buffer is empty; the
 * same readv() picks up the following headers into the staging buffer.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "iscsi/iscsi_int.h"
#include "lib/log.h"

#define RX_READS_PER_WAKEUP 32
#define RX_DIRECT_MIN 4096 /* read directly into buffers from here */
#define TX_IOV_MAX 96
/*
 * Back pressure: a connection's requests are not read while what waits
 * to be sent (PDUs and their copied data) or the Data-In its READs may
 * still produce (their EDTL, from submission until the command is freed)
 * is over budget, and again once it drained below half. An initiator
 * that never reads its Data-In then costs at most the budget and one
 * command more; the requests wait in its socket (RFC 7143 4.2.2.1 lets
 * a target delay commands; TCP holds the rest).
 */
#define TX_PAUSE_BYTES (16u << 20)
#define TX_RESUME_BYTES (TX_PAUSE_BYTES / 2)
#define DIN_PAUSE_BYTES (64ull << 20)
#define DIN_RESUME_BYTES (DIN_PAUSE_BYTES / 2)
#define LOGIN_TIMEOUT_MS 30000

static uint64_t conn_next_id = 1;
static struct tdm_mutex conn_id_lock = /* conn_next_id */
	TDM_MUTEX_INITIALIZER(TDM__ISCSI_LOCK_CONN_ID, "iscsi conn_id_lock");

static void conn_io_cb(struct tdm_fd_watch *w, uint32_t revents);
static void conn_flush(struct tdm__iscsi_conn *c);
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

static void set_events(struct tdm__iscsi_conn *c, uint32_t ev)
{
	if (!c->watching || c->fuzz || ev == c->watch_events)
		return;
	if (tdm_loop_mod_fd(c->loop, &c->watch, ev) == 0)
		c->watch_events = ev;
}

static void want_out(struct tdm__iscsi_conn *c, bool on)
{
	uint32_t ev = c->watch_events;

	ev = on ? (ev | EPOLLOUT) : (ev & ~(uint32_t)EPOLLOUT);
	set_events(c, ev);
}

void tdm__iscsi_conn_stop_rx(struct tdm__iscsi_conn *c)
{
	c->rx_paused = true;
	/* EPOLLRDHUP too: a half-closed peer would keep a level-triggered
	 * watch ready (EPOLLHUP and EPOLLERR still come) */
	set_events(c, c->watch_events & ~(uint32_t)(EPOLLIN | EPOLLRDHUP));
}

/* Over the budget (pause) or not yet below half of it (resume)? */
static bool rx_over_budget(const struct tdm__iscsi_conn *c, bool resume)
{
	size_t tx = c->tx_owned_bytes +
		    (size_t)c->tx_live * sizeof(struct tdm__iscsi_txpdu);

	if (resume)
		return tx >= TX_RESUME_BYTES ||
		       c->din_bytes >= DIN_RESUME_BYTES;
	return tx > TX_PAUSE_BYTES || c->din_bytes > DIN_PAUSE_BYTES;
}

static void rx_resume(void *arg);

void tdm__iscsi_conn_rx_check(struct tdm__iscsi_conn *c)
{
	if (c->closed || !c->rx_paused || c->rx_hold || c->draining ||
	    c->state == ISCSI_CONN_LOGOUT || rx_over_budget(c, true))
		return;
	c->rx_paused = false;
	set_events(c, c->watch_events | EPOLLIN | EPOLLRDHUP);
	if (c->rbuf_pos < c->rbuf_len && c->loop) {
		/* bytes read before the pause: go on with them */
		tdm__iscsi_conn_get(c);
		tdm_loop_post(c->loop, rx_resume, c);
	}
}

void tdm__iscsi_conn_hold_rx(struct tdm__iscsi_conn *c, bool hold)
{
	c->rx_hold = hold;
	if (hold)
		tdm__iscsi_conn_stop_rx(c);
	else
		tdm__iscsi_conn_rx_check(c);
}

static void rx_detach(struct tdm__iscsi_conn *c)
{
	if (c->rx_task) {
		struct tdm__iscsi_task *t = c->rx_task;

		c->rx_task = NULL;
		tdm__iscsi_task_put(t);
	}
	c->rx_dst = NULL;
	c->rx_store = 0;
}

void tdm__iscsi_conn_close(struct tdm__iscsi_conn *c, const char *why)
{
	/* a session's end is news; a login's is not (anyone can make any
	 * number of them, and a refusal was logged already) */
	bool session = c->nexus || c->state != ISCSI_CONN_LOGIN;
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
	rx_detach(c);
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

/* ---- send side ---- */

void tdm__iscsi_conn_kick(struct tdm__iscsi_conn *c)
{
	if (c->closed)
		return;
	if (c->in_rx || c->in_flush) {
		c->want_flush = true;
		return;
	}
	conn_flush(c);
}

static size_t pdu_size(const struct tdm__iscsi_txpdu *pdu)
{
	return (size_t)pdu->hdr_len + pdu->data_len + pdu->trailer_len;
}

static void tx_complete(struct tdm__iscsi_conn *c, struct tdm__iscsi_txpdu *pdu,
			bool *close_after)
{
	struct tdm__iscsi_task *t = pdu->task;

	if (pdu->flags & ISCSI_TX_CLOSE)
		*close_after = true;
	tdm_list_del(&pdu->link);
	tdm__iscsi_pdu_free(c, pdu);
	if (t)
		tdm__iscsi_task_tx_done(t);
}

static void rx_drain_rbuf(struct tdm__iscsi_conn *c);

static void rx_resume(void *arg)
{
	struct tdm__iscsi_conn *c = arg;

	if (!c->closed && !c->rx_paused) {
		c->in_rx = true;
		rx_drain_rbuf(c);
		c->in_rx = false;
		if (!c->closed && c->want_flush)
			conn_flush(c);
	}
	tdm__iscsi_conn_put(c);
}

static void conn_flush(struct tdm__iscsi_conn *c)
{
	bool close_after = false;

	if (c->in_flush) {
		c->want_flush = true;
		return;
	}
	c->want_flush = false;
	c->in_flush = true;
	tdm__iscsi_conn_get(c);
	while (!c->closed && !tdm_list_empty(&c->txq)) {
		struct iovec iov[TX_IOV_MAX];
		int niov = 0;
		size_t total = 0;
		size_t skip = c->tx_off;
		struct tdm_list *pos;
		ssize_t n;

		tdm_list_for_each (pos, &c->txq) {
			struct tdm__iscsi_txpdu *pdu = tdm_list_entry(
				pos, struct tdm__iscsi_txpdu, link);
			const void *seg[3] = {pdu->hdr, pdu->data,
					      pdu->trailer};
			size_t len[3] = {pdu->hdr_len, pdu->data_len,
					 pdu->trailer_len};

			if (niov > TX_IOV_MAX - 3)
				break;
			for (int i = 0; i < 3; i++) {
				if (len[i] <= skip) {
					skip -= len[i];
					continue;
				}
				iov[niov].iov_base =
					(uint8_t *)(uintptr_t)seg[i] + skip;
				iov[niov].iov_len = len[i] - skip;
				total += len[i] - skip;
				skip = 0;
				niov++;
			}
		}
		if (c->fuzz) {
			n = (ssize_t)total;
		} else {
			struct msghdr msg = {0};

			msg.msg_iov = iov;
			msg.msg_iovlen = (size_t)niov;
			n = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				want_out(c, true);
				goto out;
			}
			tdm__iscsi_conn_close(c, "send failed");
			goto out;
		}
		c->tx_off += (size_t)n;
		if (n > 0)
			c->last_tx_ns = tdm_now_ns();
		while (!tdm_list_empty(&c->txq)) {
			struct tdm__iscsi_txpdu *pdu = tdm_list_entry(
				c->txq.next, struct tdm__iscsi_txpdu, link);
			size_t sz = pdu_size(pdu);

			if (c->tx_off < sz)
				break;
			c->tx_off -= sz;
			tx_complete(c, pdu, &close_after);
		}
		if (close_after) {
			tdm__iscsi_conn_close(c, "logged out");
			goto out;
		}
		if ((size_t)n < total) {
			want_out(c, true);
			goto out;
		}
	}
	if (!c->closed)
		want_out(c, false);
	tdm__iscsi_conn_rx_check(c);
out:
	c->in_flush = false;
	tdm__iscsi_conn_put(c);
}

/* ---- receive side ---- */

static void rx_reset(struct tdm__iscsi_conn *c)
{
	rx_detach(c);
	c->rx_state = ISCSI_RX_BHS;
	c->hdr_need = ISCSI_BHS_LEN;
	c->hdr_got = 0;
	c->rx_action = ISCSI_ACT_DROP;
	c->rx_reject = 0;
}

static int dbuf_reserve(struct tdm__iscsi_conn *c, uint32_t len)
{
	if (len + 1 > c->dbuf_cap) {
		uint32_t cap = c->dbuf_cap ? c->dbuf_cap : 8192;
		uint8_t *nb;

		while (cap < len + 1)
			cap *= 2;
		nb = realloc(c->dbuf, cap);
		if (!nb)
			return -ENOMEM;
		c->dbuf = nb;
		c->dbuf_cap = cap;
	}
	return 0;
}

/* Data segment into dbuf (handled once complete). */
static void rx_to_dbuf(struct tdm__iscsi_conn *c, uint8_t action)
{
	if (dbuf_reserve(c, c->dsl)) {
		tdm__iscsi_conn_close(c, "out of memory");
		return;
	}
	c->rx_dst = c->dbuf;
	c->rx_store = c->dsl;
	c->rx_action = action;
}

static bool hdr_digest_on(const struct tdm__iscsi_conn *c)
{
	return c->state != ISCSI_CONN_LOGIN && c->p.header_digest;
}

static bool data_digest_on(const struct tdm__iscsi_conn *c)
{
	return c->state != ISCSI_CONN_LOGIN && c->p.data_digest;
}

/* The whole header (BHS, AHS, digest) is in c->hdr. */
static void rx_header_done(struct tdm__iscsi_conn *c)
{
	uint8_t op = c->hdr[0] & ISCSI_OP_MASK;
	uint32_t hlen = ISCSI_BHS_LEN + c->ahs_len;

	c->rx_dst = NULL;
	c->rx_store = 0;
	c->rx_data_got = 0;
	c->rx_crc = ~0u;
	c->rx_action = ISCSI_ACT_DROP;
	c->rx_reject = 0;
	c->last_rx_ns = tdm_now_ns();

	if (hdr_digest_on(c)) {
		uint32_t want = tdm__iscsi_get_digest(c->hdr + hlen);

		if (tdm_crc32c(c->hdr, hlen) != want) {
			/* RFC 7143 7.8: with ERL 0 the length cannot be
			 * trusted; escalate to session recovery */
			log_warnx_rl("iscsi: %s: header digest error",
				     c->peer_str);
			tdm__iscsi_conn_close(c, "header digest error");
			return;
		}
	}

	if (c->state == ISCSI_CONN_LOGIN) {
		/* RFC 7143 6.3: only Login Requests before FFP */
		if (op != ISCSI_OP_LOGIN_REQ) {
			log_warnx_rl("iscsi: %s: %s during login", c->peer_str,
				     tdm__iscsi_opcode_name(op));
			tdm__iscsi_conn_close(c, "protocol error in login");
			return;
		}
		if (c->dsl > ISCSI_LOGIN_DSL) {
			/* RFC 7143 13.12: 8192 bytes until negotiated; the
			 * data is read and dropped, the login refused */
			c->rx_action = ISCSI_ACT_LOGIN_TOO_LONG;
			return;
		}
		rx_to_dbuf(c, ISCSI_ACT_LOGIN);
		return;
	}
	if ((c->state != ISCSI_CONN_FFP || c->draining) &&
	    op != ISCSI_OP_DATA_OUT) {
		/* logout in progress or shutting down: only the data of
		 * commands still running is wanted */
		return;
	}

	if (c->dsl > c->p.max_recv_dsl) {
		/* RFC 7143 13.12: longer than we declared */
		c->rx_action = ISCSI_ACT_REJECT;
		c->rx_reject = ISCSI_REJECT_PROTOCOL_ERROR;
		return;
	}

	switch (op) {
	case ISCSI_OP_NOP_OUT:
		rx_to_dbuf(c, ISCSI_ACT_NOP);
		break;
	case ISCSI_OP_SCSI_CMD:
		tdm__iscsi_scsi_cmd_hdr(c);
		break;
	case ISCSI_OP_DATA_OUT:
		tdm__iscsi_data_out_hdr(c);
		break;
	case ISCSI_OP_TMF_REQ:
		c->rx_action = ISCSI_ACT_TMF;
		break;
	case ISCSI_OP_TEXT_REQ:
		rx_to_dbuf(c, ISCSI_ACT_TEXT);
		break;
	case ISCSI_OP_LOGOUT_REQ:
		c->rx_action = ISCSI_ACT_LOGOUT;
		break;
	case ISCSI_OP_LOGIN_REQ:
	case ISCSI_OP_SNACK:
		/* RFC 7143 7.x: no login in FFP; no SNACK at ERL 0 */
		c->rx_action = ISCSI_ACT_REJECT;
		c->rx_reject = ISCSI_REJECT_PROTOCOL_ERROR;
		break;
	default:
		c->rx_action = ISCSI_ACT_REJECT;
		c->rx_reject = ISCSI_REJECT_CMD_NOT_SUPPORTED;
		break;
	}
}

/* Non-SCSI requests that carry a CmdSN (RFC 7143 4.2.2.1). Returns true
 * when the request is to be processed. */
static bool nonscsi_cmdsn(struct tdm__iscsi_conn *c)
{
	uint32_t cmdsn = tdm_get_be32(c->hdr + 24);
	int r;

	if (c->hdr[0] & ISCSI_OP_IMMEDIATE)
		return true;
	r = tdm__iscsi_cmdsn_check(c, cmdsn);
	if (r < 0) {
		log_warnx_rl("iscsi: %s: CmdSN %u outside [%u, %u], dropped",
			     c->peer_str, cmdsn, c->exp_cmdsn, c->max_cmdsn);
		return false;
	}
	if (r == 0) {
		c->exp_cmdsn++;
		tdm__iscsi_deliver_queued(c);
	} else {
		/* ahead of a gap: keep its place in the command order */
		struct tdm__iscsi_task *t = tdm__iscsi_task_alloc(c);

		if (t) {
			struct tdm_list *pos;

			t->kind = ISCSI_KIND_PLACEHOLDER;
			t->cmdsn = cmdsn;
			t->state = ISCSI_TASK_QUEUED;
			tdm_list_for_each (pos, &c->queued) {
				struct tdm__iscsi_task *q = tdm_list_entry(
					pos, struct tdm__iscsi_task, link);

				if (tdm__sn_lt(cmdsn, q->cmdsn))
					break;
			}
			tdm_list_add_tail(pos, &t->link);
		}
	}
	return true;
}

static void handle_nop_out(struct tdm__iscsi_conn *c)
{
	uint32_t itt = tdm_get_be32(c->hdr + 16);
	uint32_t ttt = tdm_get_be32(c->hdr + 20);

	if (itt == ISCSI_RSVD_TAG) {
		/* RFC 7143 11.18: an answer to our ping (or a no-op); it
		 * must be immediate and is not acknowledged */
		if (ttt != ISCSI_RSVD_TAG && c->nop_outstanding &&
		    ttt == c->nop_ttt)
			c->nop_outstanding = false;
		return;
	}
	if (!nonscsi_cmdsn(c))
		return;
	/* RFC 7143 11.19: echo the ping data */
	tdm__iscsi_send_nop_in(
		c, itt, ISCSI_RSVD_TAG, c->hdr + 8, c->dbuf,
		c->dsl > c->p.max_xmit_dsl ? c->p.max_xmit_dsl : c->dsl, true);
}

static void rx_pdu_done(struct tdm__iscsi_conn *c, bool digest_ok)
{
	uint8_t action = c->rx_action;

	switch (action) {
	case ISCSI_ACT_LOGIN:
		c->dbuf[c->dsl] = '\0';
		tdm__iscsi_login_pdu(c, c->hdr, c->dbuf, c->dsl);
		break;
	case ISCSI_ACT_LOGIN_TOO_LONG:
		tdm__iscsi_login_refuse(c, c->hdr, ISCSI_LOGIN_INITIATOR_ERROR,
					"login data segment over 8192 bytes");
		break;
	case ISCSI_ACT_NOP:
		if (!digest_ok) {
			tdm__iscsi_send_reject(c, ISCSI_REJECT_DATA_DIGEST,
					       c->hdr);
			break;
		}
		handle_nop_out(c);
		break;
	case ISCSI_ACT_SCSI:
		tdm__iscsi_scsi_cmd_data(c, digest_ok);
		break;
	case ISCSI_ACT_DATA_OUT:
		tdm__iscsi_data_out_data(c, digest_ok);
		break;
	case ISCSI_ACT_TMF:
		if (nonscsi_cmdsn(c))
			tdm__iscsi_tmf_req(c, c->hdr);
		break;
	case ISCSI_ACT_TEXT:
		if (!digest_ok) {
			tdm__iscsi_send_reject(c, ISCSI_REJECT_DATA_DIGEST,
					       c->hdr);
			break;
		}
		if (nonscsi_cmdsn(c)) {
			c->dbuf[c->dsl] = '\0';
			tdm__iscsi_text_req(c, c->hdr, c->dbuf, c->dsl);
		}
		break;
	case ISCSI_ACT_LOGOUT:
		if (nonscsi_cmdsn(c))
			tdm__iscsi_logout_req(c, c->hdr);
		break;
	case ISCSI_ACT_REJECT:
		tdm__iscsi_send_reject(c, c->rx_reject, c->hdr);
		break;
	default:
		break;
	}
	if (!c->closed)
		rx_reset(c);
}

static void rx_data_end(struct tdm__iscsi_conn *c)
{
	uint32_t pad = tdm__iscsi_pad4(c->dsl);

	c->rx_trailer_need = pad + (c->dsl && data_digest_on(c) ? 4 : 0);
	c->rx_trailer_got = 0;
	if (c->rx_trailer_need == 0) {
		rx_pdu_done(c, true);
		return;
	}
	c->rx_state = ISCSI_RX_TRAILER;
}

static void rx_trailer_done(struct tdm__iscsi_conn *c)
{
	bool ok = true;
	uint32_t pad = tdm__iscsi_pad4(c->dsl);

	if (c->dsl && data_digest_on(c)) {
		uint32_t crc =
			~tdm_crc32c_update(c->rx_crc, c->rx_trailer, pad);

		ok = crc == tdm__iscsi_get_digest(c->rx_trailer + pad);
		if (!ok)
			log_warnx_rl("iscsi: %s: data digest error on %s",
				     c->peer_str,
				     tdm__iscsi_opcode_name(c->hdr[0] &
							    ISCSI_OP_MASK));
	}
	rx_pdu_done(c, ok);
}

/* The BHS is complete: find out how much header follows. */
static void rx_bhs_done(struct tdm__iscsi_conn *c)
{
	c->ahs_len = (uint32_t)c->hdr[4] * 4;
	c->dsl = tdm_get_be24(c->hdr + 5);
	c->hdr_need = ISCSI_BHS_LEN + c->ahs_len +
		      (hdr_digest_on(c) ? ISCSI_DIGEST_LEN : 0);
	if (c->hdr_need > c->hdr_got) {
		c->rx_state = ISCSI_RX_AHS;
		return;
	}
	c->rx_state = ISCSI_RX_DATA;
	rx_header_done(c);
	if (!c->closed && c->rx_state == ISCSI_RX_DATA && c->dsl == 0)
		rx_data_end(c);
}

static void rx_account_data(struct tdm__iscsi_conn *c, const uint8_t *p,
			    uint32_t n)
{
	if (data_digest_on(c))
		c->rx_crc = tdm_crc32c_update(c->rx_crc, p, n);
	c->rx_data_got += n;
}

/* Consume bytes of the stream; returns how many were used. */
static size_t rx_consume(struct tdm__iscsi_conn *c, const uint8_t *p, size_t n)
{
	size_t used = 0;

	while (used < n && !c->closed) {
		size_t avail = n - used;
		size_t take;

		switch (c->rx_state) {
		case ISCSI_RX_BHS:
			if (c->hdr_got == 0 && c->state == ISCSI_CONN_FFP &&
			    rx_over_budget(c, false)) {
				/* the next request waits (back pressure) */
				tdm__iscsi_conn_stop_rx(c);
				return used;
			}
			/* fall through */
		case ISCSI_RX_AHS:
			take = c->hdr_need - c->hdr_got;
			if (take > avail)
				take = avail;
			memcpy(c->hdr + c->hdr_got, p + used, take);
			c->hdr_got += (uint32_t)take;
			used += take;
			if (c->hdr_got < c->hdr_need)
				break;
			if (c->rx_state == ISCSI_RX_BHS) {
				rx_bhs_done(c);
			} else {
				c->rx_state = ISCSI_RX_DATA;
				rx_header_done(c);
				if (!c->closed &&
				    c->rx_state == ISCSI_RX_DATA && c->dsl == 0)
					rx_data_end(c);
			}
			break;
		case ISCSI_RX_DATA:
			if (c->rx_data_got < c->rx_store) {
				take = c->rx_store - c->rx_data_got;
				if (take > avail)
					take = avail;
				memcpy(c->rx_dst + c->rx_data_got, p + used,
				       take);
				rx_account_data(c, c->rx_dst + c->rx_data_got,
						(uint32_t)take);
			} else {
				take = c->dsl - c->rx_data_got;
				if (take > avail)
					take = avail;
				rx_account_data(c, p + used, (uint32_t)take);
			}
			used += take;
			if (c->rx_data_got == c->dsl)
				rx_data_end(c);
			break;
		case ISCSI_RX_TRAILER:
			take = c->rx_trailer_need - c->rx_trailer_got;
			if (take > avail)
				take = avail;
			memcpy(c->rx_trailer + c->rx_trailer_got, p + used,
			       take);
			c->rx_trailer_got += (uint32_t)take;
			used += take;
			if (c->rx_trailer_got == c->rx_trailer_need)
				rx_trailer_done(c);
			break;
		}
	}
	return used;
}

static void rx_drain_rbuf(struct tdm__iscsi_conn *c)
{
	while (!c->closed && !c->rx_paused && c->rbuf_pos < c->rbuf_len) {
		size_t used = rx_consume(c, c->rbuf + c->rbuf_pos,
					 c->rbuf_len - c->rbuf_pos);

		c->rbuf_pos += (uint32_t)used;
		if (used == 0)
			break;
	}
}

static void rx_read(struct tdm__iscsi_conn *c)
{
	for (int iter = 0; iter < RX_READS_PER_WAKEUP; iter++) {
		struct iovec iov[2];
		size_t want, direct = 0;
		ssize_t n;

		if (c->closed || c->rx_paused)
			return;
		if (c->rbuf_pos < c->rbuf_len) {
			rx_drain_rbuf(c);
			continue;
		}
		c->rbuf_pos = c->rbuf_len = 0;
		if (c->rx_state == ISCSI_RX_DATA &&
		    c->rx_store - c->rx_data_got >= RX_DIRECT_MIN &&
		    c->rx_data_got < c->rx_store) {
			/* straight into the destination buffer */
			direct = c->rx_store - c->rx_data_got;
			iov[0].iov_base = c->rx_dst + c->rx_data_got;
			iov[0].iov_len = direct;
			iov[1].iov_base = c->rbuf;
			iov[1].iov_len = ISCSI_RBUF_SIZE;
			want = direct + ISCSI_RBUF_SIZE;
			n = readv(c->fd, iov, 2);
		} else {
			want = ISCSI_RBUF_SIZE;
			n = recv(c->fd, c->rbuf, ISCSI_RBUF_SIZE, MSG_DONTWAIT);
		}
		if (n == 0) {
			tdm__iscsi_conn_close(c, "closed by the initiator");
			return;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				tdm__iscsi_conn_close(c, "receive failed");
			return;
		}
		if (direct) {
			size_t d = (size_t)n < direct ? (size_t)n : direct;

			rx_account_data(c, c->rx_dst + c->rx_data_got,
					(uint32_t)d);
			if (c->rx_data_got == c->dsl)
				rx_data_end(c);
			c->rbuf_len = (uint32_t)((size_t)n - d);
		} else {
			c->rbuf_len = (uint32_t)n;
		}
		rx_drain_rbuf(c);
		if ((size_t)n < want)
			return; /* the socket is (most likely) empty */
	}
}

static void conn_io_cb(struct tdm_fd_watch *w, uint32_t revents)
{
	struct tdm__iscsi_conn *c = w->arg;

	tdm__iscsi_conn_get(c);
	if (revents & EPOLLOUT)
		conn_flush(c);
	if (!c->closed &&
	    (revents & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) &&
	    !c->rx_paused) {
		c->in_rx = true;
		rx_read(c);
		c->in_rx = false;
		if (!c->closed && c->want_flush)
			conn_flush(c);
	} else if (!c->closed && (revents & (EPOLLHUP | EPOLLERR))) {
		tdm__iscsi_conn_close(c, "connection error");
	}
	tdm__iscsi_conn_put(c);
}

int tdm__iscsi_conn_feed(struct tdm__iscsi_conn *c, const uint8_t *buf,
			 size_t len)
{
	size_t off = 0;

	tdm__iscsi_conn_get(c);
	c->in_rx = true;
	/* through the staging buffer, as if received: what a pause leaves
	 * there is taken up when the connection resumes */
	while (off < len && !c->closed) {
		size_t room, n;

		if (c->rbuf_pos == c->rbuf_len)
			c->rbuf_pos = c->rbuf_len = 0;
		room = ISCSI_RBUF_SIZE - c->rbuf_len;
		if (room == 0)
			break;
		n = len - off < room ? len - off : room;
		memcpy(c->rbuf + c->rbuf_len, buf + off, n);
		c->rbuf_len += (uint32_t)n;
		off += n;
		rx_drain_rbuf(c);
	}
	c->in_rx = false;
	if (!c->closed)
		conn_flush(c);
	tdm__iscsi_conn_put(c);
	return 0;
}

/* ---- full feature phase helpers ---- */

void tdm__iscsi_conn_enter_ffp(struct tdm__iscsi_conn *c)
{
	c->state = ISCSI_CONN_FFP;
	tdm__iscsi_prelogin_done(c);
	if (c->loop)
		tdm_timer_stop(c->loop, &c->deadline);
	/* data of later PDUs may be larger than during login */
	if (dbuf_reserve(c, c->p.max_recv_dsl))
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
