/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tx.c - the send side of a connection (RFC 7143 11): the target PDU
 * objects and their per-connection free list, digests and padding,
 * sequence numbers, the small stand-alone PDUs (Reject, NOP-In), and the
 * send queue, written with one gathered sendmsg() of headers and data in
 * place.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "iscsi/iscsi_int.h"
#include "lib/log.h"

#define TX_IOV_MAX 96

#define TX_FREE_MAX 256

struct tdm__iscsi_txpdu *tdm__iscsi_pdu_alloc(struct tdm__iscsi_conn *c)
{
	struct tdm__iscsi_txpdu *pdu;

	if (!tdm_list_empty(&c->tx_free)) {
		pdu = tdm_list_entry(c->tx_free.next, struct tdm__iscsi_txpdu,
				     link);
		tdm_list_del(&pdu->link);
		c->tx_nfree--;
	} else {
		pdu = malloc(sizeof(*pdu));
		if (!pdu)
			return NULL;
	}
	c->tx_live++;
	memset(pdu->hdr, 0, ISCSI_BHS_LEN);
	pdu->hdr_len = ISCSI_BHS_LEN;
	pdu->trailer_len = 0;
	pdu->flags = 0;
	pdu->data = NULL;
	pdu->data_len = 0;
	pdu->owned = NULL;
	pdu->task = NULL;
	tdm_list_init(&pdu->link);
	return pdu;
}

void tdm__iscsi_pdu_free(struct tdm__iscsi_conn *c,
			 struct tdm__iscsi_txpdu *pdu)
{
	if (pdu->owned) {
		c->tx_owned_bytes -= pdu->data_len;
		free(pdu->owned);
		pdu->owned = NULL;
	}
	c->tx_live--;
	if (c->tx_nfree < TX_FREE_MAX) {
		tdm_list_add(&c->tx_free, &pdu->link);
		c->tx_nfree++;
	} else {
		free(pdu);
	}
}

int tdm__iscsi_pdu_set_data_copy(struct tdm__iscsi_conn *c,
				 struct tdm__iscsi_txpdu *pdu, const void *data,
				 uint32_t len)
{
	if (len == 0) {
		pdu->data = NULL;
		pdu->data_len = 0;
		return 0;
	}
	if (len <= sizeof(pdu->small)) {
		memcpy(pdu->small, data, len);
		pdu->data = pdu->small;
	} else {
		pdu->owned = malloc(len);
		if (!pdu->owned)
			return -ENOMEM;
		memcpy(pdu->owned, data, len);
		pdu->data = pdu->owned;
		c->tx_owned_bytes += len;
	}
	pdu->data_len = len;
	return 0;
}

void tdm__iscsi_pdu_set_sn(struct tdm__iscsi_conn *c,
			   struct tdm__iscsi_txpdu *pdu, bool adv)
{
	/* RFC 7143 4.2.2.2: StatSN; 4.2.2.1: ExpCmdSN / MaxCmdSN */
	tdm_put_be32(pdu->hdr + 24, c->statsn);
	if (adv)
		c->statsn++;
	tdm__iscsi_update_window(c);
	tdm_put_be32(pdu->hdr + 28, c->exp_cmdsn);
	tdm_put_be32(pdu->hdr + 32, c->max_cmdsn);
}

void tdm__iscsi_pdu_queue(struct tdm__iscsi_conn *c,
			  struct tdm__iscsi_txpdu *pdu)
{
	uint32_t pad = tdm__iscsi_pad4(pdu->data_len);

	if (c->closed) {
		/* nothing goes out any more; let the task go */
		struct tdm__iscsi_task *t = pdu->task;

		tdm__iscsi_pdu_free(c, pdu);
		if (t)
			tdm__iscsi_task_tx_done(t);
		return;
	}
	/* RFC 7143 11.2.1.6: DataSegmentLength, without padding */
	tdm_put_be24(pdu->hdr + 5, pdu->data_len);
	pdu->hdr_len = ISCSI_BHS_LEN;
	if (c->state != ISCSI_CONN_LOGIN && c->p.header_digest) {
		/* RFC 7143 11.2.3: digests only in full feature phase */
		tdm__iscsi_put_digest(pdu->hdr + ISCSI_BHS_LEN,
				      tdm_crc32c(pdu->hdr, ISCSI_BHS_LEN));
		pdu->hdr_len += ISCSI_DIGEST_LEN;
	}
	pdu->trailer_len = 0;
	if (pdu->data_len) {
		memset(pdu->trailer, 0, pad);
		pdu->trailer_len = (uint8_t)pad;
		if (c->state != ISCSI_CONN_LOGIN && c->p.data_digest) {
			uint32_t crc = tdm_crc32c_update(~0u, pdu->data,
							 pdu->data_len);

			crc = ~tdm_crc32c_update(crc, pdu->trailer, pad);
			tdm__iscsi_put_digest(pdu->trailer + pad, crc);
			pdu->trailer_len += ISCSI_DIGEST_LEN;
		}
	}
	tdm_list_add_tail(&c->txq, &pdu->link);
}

int tdm__iscsi_send_reject(struct tdm__iscsi_conn *c, uint8_t reason,
			   const uint8_t *bhs)
{
	struct tdm__iscsi_txpdu *pdu = tdm__iscsi_pdu_alloc(c);

	if (!pdu)
		return -ENOMEM;
	/* RFC 7143 11.17 */
	pdu->hdr[0] = ISCSI_OP_REJECT;
	pdu->hdr[1] = ISCSI_FLAG_FINAL;
	pdu->hdr[2] = reason;
	tdm_put_be32(pdu->hdr + 16, ISCSI_RSVD_TAG);
	tdm__iscsi_pdu_set_sn(c, pdu, true);
	/* the data segment is the rejected PDU's header */
	tdm__iscsi_pdu_set_data_copy(c, pdu, bhs, ISCSI_BHS_LEN);
	log_warnx_rl("iscsi: %s: reject %s (reason 0x%02x)", c->peer_str,
		     tdm__iscsi_opcode_name(bhs[0] & ISCSI_OP_MASK), reason);
	tdm__iscsi_pdu_queue(c, pdu);
	tdm__iscsi_conn_kick(c);
	return 0;
}

void tdm__iscsi_send_nop_in(struct tdm__iscsi_conn *c, uint32_t itt,
			    uint32_t ttt, const uint8_t *lun,
			    const uint8_t *data, uint32_t len, bool adv)
{
	struct tdm__iscsi_txpdu *pdu = tdm__iscsi_pdu_alloc(c);

	if (!pdu)
		return;
	/* RFC 7143 11.19 */
	pdu->hdr[0] = ISCSI_OP_NOP_IN;
	pdu->hdr[1] = ISCSI_FLAG_FINAL;
	if (lun)
		memcpy(pdu->hdr + 8, lun, 8);
	tdm_put_be32(pdu->hdr + 16, itt);
	tdm_put_be32(pdu->hdr + 20, ttt);
	tdm__iscsi_pdu_set_sn(c, pdu, adv);
	if (tdm__iscsi_pdu_set_data_copy(c, pdu, data, len)) {
		tdm__iscsi_pdu_free(c, pdu);
		return;
	}
	tdm__iscsi_pdu_queue(c, pdu);
	tdm__iscsi_conn_kick(c);
}

const char *tdm__iscsi_opcode_name(uint8_t op)
{
	switch (op) {
	case ISCSI_OP_NOP_OUT:
		return "NOP-Out";
	case ISCSI_OP_SCSI_CMD:
		return "SCSI Command";
	case ISCSI_OP_TMF_REQ:
		return "Task Management Request";
	case ISCSI_OP_LOGIN_REQ:
		return "Login Request";
	case ISCSI_OP_TEXT_REQ:
		return "Text Request";
	case ISCSI_OP_DATA_OUT:
		return "Data-Out";
	case ISCSI_OP_LOGOUT_REQ:
		return "Logout Request";
	case ISCSI_OP_SNACK:
		return "SNACK";
	default:
		return "unknown opcode";
	}
}

/* ---- the send queue ---- */

static void want_out(struct tdm__iscsi_conn *c, bool on)
{
	uint32_t ev = c->watch_events;

	ev = on ? (ev | EPOLLOUT) : (ev & ~(uint32_t)EPOLLOUT);
	tdm__iscsi_conn_set_events(c, ev);
}
void tdm__iscsi_conn_kick(struct tdm__iscsi_conn *c)
{
	if (c->closed)
		return;
	if (c->in_rx || c->in_flush) {
		c->want_flush = true;
		return;
	}
	tdm__iscsi_tx_flush(c);
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
void tdm__iscsi_tx_flush(struct tdm__iscsi_conn *c)
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
