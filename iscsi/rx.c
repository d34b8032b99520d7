/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rx.c - the receive side of a connection: socket reads into the receive
 * state machine (BHS, AHS, header digest, data segment, padding, data
 * digest; RFC 7143 11.2), dispatch of complete PDUs, and back pressure
 * (when a connection is not read).
 *
 * Large data segments (Data-Out, immediate data) are read straight into
 * the command's buffer with readv() when the staging buffer is empty; the
 * same readv() picks up the following headers into the staging buffer.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "iscsi/iscsi_int.h"
#include "lib/log.h"

#define RX_READS_PER_WAKEUP 32
#define RX_DIRECT_MIN 4096 /* read directly into buffers from here */
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

static void rx_drain_rbuf(struct tdm__iscsi_conn *c);
static void rx_resume(void *arg);

void tdm__iscsi_conn_stop_rx(struct tdm__iscsi_conn *c)
{
	c->rx_paused = true;
	/* EPOLLRDHUP too: a half-closed peer would keep a level-triggered
	 * watch ready (EPOLLHUP and EPOLLERR still come) */
	tdm__iscsi_conn_set_events(
		c, c->watch_events & ~(uint32_t)(EPOLLIN | EPOLLRDHUP));
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

void tdm__iscsi_conn_rx_check(struct tdm__iscsi_conn *c)
{
	if (c->closed || !c->rx_paused || c->rx_hold || c->draining ||
	    c->state == ISCSI_CONN_LOGOUT || rx_over_budget(c, true))
		return;
	c->rx_paused = false;
	tdm__iscsi_conn_set_events(c, c->watch_events | EPOLLIN | EPOLLRDHUP);
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

void tdm__iscsi_rx_detach(struct tdm__iscsi_conn *c)
{
	if (c->rx_task) {
		struct tdm__iscsi_task *t = c->rx_task;

		c->rx_task = NULL;
		tdm__iscsi_task_put(t);
	}
	c->rx_dst = NULL;
	c->rx_store = 0;
}

static void rx_resume(void *arg)
{
	struct tdm__iscsi_conn *c = arg;

	if (!c->closed && !c->rx_paused) {
		c->in_rx = true;
		rx_drain_rbuf(c);
		c->in_rx = false;
		if (!c->closed && c->want_flush)
			tdm__iscsi_tx_flush(c);
	}
	tdm__iscsi_conn_put(c);
}

/* ---- receive side ---- */

static void rx_reset(struct tdm__iscsi_conn *c)
{
	tdm__iscsi_rx_detach(c);
	c->rx_state = ISCSI_RX_BHS;
	c->hdr_need = ISCSI_BHS_LEN;
	c->hdr_got = 0;
	c->rx_action = ISCSI_ACT_DROP;
	c->rx_reject = 0;
}
int tdm__iscsi_rx_dbuf_reserve(struct tdm__iscsi_conn *c, uint32_t len)
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
	if (tdm__iscsi_rx_dbuf_reserve(c, c->dsl)) {
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
	tdm__iscsi_cmdsn_consume(c, r, cmdsn);
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
void tdm__iscsi_rx_read(struct tdm__iscsi_conn *c)
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
		tdm__iscsi_tx_flush(c);
	tdm__iscsi_conn_put(c);
	return 0;
}
