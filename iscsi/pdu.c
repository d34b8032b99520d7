/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pdu.c - building target PDUs (RFC 7143 11): the send-side PDU objects,
 * their per-connection free list, digests and padding, sequence numbers,
 * and the small stand-alone PDUs (Reject, NOP-In).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "iscsi/iscsi_int.h"
#include "lib/log.h"

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
