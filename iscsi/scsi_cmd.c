/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * scsi_cmd.c - SCSI Command (RFC 7143 11.3), Data-Out and R2T (11.7, 11.8),
 * Data-In and SCSI Response (11.7, 11.4) with residuals, and the transport
 * callbacks the core makes for a command (write_pending, queue_status,
 * abort_pending, free_cmd).
 *
 * Data-Out lands in cmd->buf directly once the core asked for it
 * (write_pending); what arrives before (immediate or unsolicited data of a
 * command still queued or checked by the core) is kept in a task buffer
 * and copied. Data-In goes out from cmd->buf without a copy: the last PDU
 * of a command carries the task, and tdm_cmd_release() follows its send.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "iscsi/iscsi_int.h"
#include "lib/log.h"

#define TASK_FREE_MAX 256
/*
 * Immediate commands go around the CmdSN window (RFC 7143 4.2.2.1); a
 * target must take at least one at a time per connection, and rejects
 * more with reason 0x06, "too many immediate commands" (11.17.1).
 */
#define IMMEDIATE_MAX 16

static unsigned itt_bucket(uint32_t itt)
{
	return (itt ^ (itt >> 8) ^ (itt >> 16)) & (ISCSI_ITT_HASH - 1);
}

struct tdm__iscsi_task *tdm__iscsi_task_alloc(struct tdm__iscsi_conn *c)
{
	struct tdm__iscsi_task *t;

	if (!tdm_list_empty(&c->task_free)) {
		t = tdm_list_entry(c->task_free.next, struct tdm__iscsi_task,
				   link);
		tdm_list_del(&t->link);
		c->task_nfree--;
		memset(t, 0, sizeof(*t));
	} else {
		t = calloc(1, sizeof(*t));
		if (!t)
			return NULL;
	}
	t->conn = c;
	t->refs = 1;
	tdm_list_init(&t->link);
	c->ntasks++;
	tdm__iscsi_conn_get(c);
	return t;
}

void tdm__iscsi_task_get(struct tdm__iscsi_task *t)
{
	t->refs++;
}

void tdm__iscsi_task_put(struct tdm__iscsi_task *t)
{
	struct tdm__iscsi_conn *c = t->conn;

	if (--t->refs > 0)
		return;
	tdm__iscsi_task_unhash(t);
	tdm_list_del(&t->link);
	free(t->ubuf);
	t->ubuf = NULL;
	t->state = ISCSI_TASK_FREE;
	c->ntasks--;
	if (c->task_nfree < TASK_FREE_MAX) {
		tdm_list_add(&c->task_free, &t->link);
		c->task_nfree++;
	} else {
		free(t);
	}
	tdm__iscsi_conn_put(c);
}

void tdm__iscsi_tasks_free_cache(struct tdm__iscsi_conn *c)
{
	while (!tdm_list_empty(&c->task_free)) {
		struct tdm__iscsi_task *t = tdm_list_entry(
			c->task_free.next, struct tdm__iscsi_task, link);

		tdm_list_del(&t->link);
		free(t);
	}
	c->task_nfree = 0;
}

static void task_hash(struct tdm__iscsi_task *t)
{
	struct tdm__iscsi_conn *c = t->conn;
	unsigned b = itt_bucket(t->itt);

	t->hnext = c->itt_hash[b];
	c->itt_hash[b] = t;
	t->hashed = true;
}

void tdm__iscsi_task_unhash(struct tdm__iscsi_task *t)
{
	struct tdm__iscsi_conn *c = t->conn;
	struct tdm__iscsi_task **pp;

	if (!t->hashed)
		return;
	for (pp = &c->itt_hash[itt_bucket(t->itt)]; *pp; pp = &(*pp)->hnext) {
		if (*pp == t) {
			*pp = t->hnext;
			break;
		}
	}
	t->hashed = false;
	t->hnext = NULL;
}

struct tdm__iscsi_task *tdm__iscsi_task_find(struct tdm__iscsi_conn *c,
					     uint32_t itt)
{
	struct tdm__iscsi_task *t;

	for (t = c->itt_hash[itt_bucket(itt)]; t; t = t->hnext)
		if (t->itt == itt)
			return t;
	return NULL;
}

/* The receive side must not write into a buffer that is going away. */
static void rx_forget(struct tdm__iscsi_task *t)
{
	struct tdm__iscsi_conn *c = t->conn;

	if (c->rx_task == t) {
		/* keep reading (and checking the digest of) the rest of the
		 * segment, but store nothing more */
		c->rx_store = c->rx_data_got < c->rx_store ? c->rx_data_got
							   : c->rx_store;
		c->rx_task = NULL;
		tdm__iscsi_task_put(t);
	}
}

static bool task_wants_data(const struct tdm__iscsi_task *t)
{
	return !t->fail_sr && !t->aborted &&
	       (t->state == ISCSI_TASK_QUEUED || t->state == ISCSI_TASK_CORE ||
		t->state == ISCSI_TASK_WRITE);
}

/* ---- Data-In and SCSI Response ---- */

static void put_lun(uint8_t *p, const struct tdm__iscsi_task *t)
{
	tdm_put_be64(p, t->cmd.lun);
}

static void send_status(struct tdm__iscsi_task *t)
{
	struct tdm__iscsi_conn *c = t->conn;
	struct tdm_cmd *cmd = &t->cmd;
	uint32_t edtl = t->edtl;
	uint32_t dlen = cmd->data_len;
	uint32_t n = 0, off, datasn = 0, burst = 0;
	uint8_t resid_flag = 0;
	uint32_t resid = 0;
	bool collapse;
	struct tdm__iscsi_txpdu *pdu;

	if ((cmd->exp_dir & TDM_DIR_READ) && cmd->dir == TDM_DIR_READ &&
	    cmd->buf)
		n = dlen < edtl ? dlen : edtl;
	/* a failed command has data_len 0 in the core; what it wanted to
	 * move is what the residual is about */
	if (t->spdtl > dlen)
		dlen = t->spdtl;
	if (t->state == ISCSI_TASK_LOCAL)
		dlen = 0;
	/* RFC 7143 11.4.5: residuals compare EDTL with what the command
	 * wanted to move */
	if (edtl < dlen) {
		resid_flag = ISCSI_RSP_OVERFLOW;
		resid = dlen - edtl;
	} else if (edtl > dlen) {
		resid_flag = ISCSI_RSP_UNDERFLOW;
		resid = edtl - dlen;
	}
	/* RFC 7143 11.7.4: status in the last Data-In when there is no
	 * sense data */
	collapse =
		n > 0 && cmd->status == TDM_STATUS_GOOD && cmd->sense_len == 0;

	for (off = 0; off < n;) {
		uint32_t len = n - off;
		bool last;

		if (len > c->p.max_xmit_dsl)
			len = c->p.max_xmit_dsl;
		if (len > c->p.max_burst - burst)
			len = c->p.max_burst - burst;
		last = off + len == n;
		pdu = tdm__iscsi_pdu_alloc(c);
		if (!pdu) {
			tdm__iscsi_conn_close(c, "out of memory");
			return;
		}
		pdu->hdr[0] = ISCSI_OP_DATA_IN;
		burst += len;
		/* RFC 7143 11.7.1: F ends a sequence (MaxBurstLength) */
		if (last || burst == c->p.max_burst) {
			pdu->hdr[1] |= ISCSI_FLAG_FINAL;
			burst = 0;
		}
		put_lun(pdu->hdr + 8, t);
		tdm_put_be32(pdu->hdr + 16, t->itt);
		tdm_put_be32(pdu->hdr + 20, ISCSI_RSVD_TAG);
		if (last && collapse) {
			pdu->hdr[1] |= ISCSI_DATAIN_STATUS | resid_flag;
			pdu->hdr[3] = cmd->status;
			tdm_put_be32(pdu->hdr + 44, resid);
			tdm__iscsi_pdu_set_sn(c, pdu, true);
			pdu->task = t;
		} else {
			tdm__iscsi_pdu_set_sn(c, pdu, false);
		}
		tdm_put_be32(pdu->hdr + 36, datasn++);
		tdm_put_be32(pdu->hdr + 40, off);
		pdu->data = cmd->buf + off;
		pdu->data_len = len;
		tdm__iscsi_pdu_queue(c, pdu);
		off += len;
	}
	if (collapse) {
		tdm__iscsi_conn_kick(c);
		return;
	}

	pdu = tdm__iscsi_pdu_alloc(c);
	if (!pdu) {
		tdm__iscsi_conn_close(c, "out of memory");
		return;
	}
	/* RFC 7143 11.4 */
	pdu->hdr[0] = ISCSI_OP_SCSI_RSP;
	pdu->hdr[1] = ISCSI_FLAG_FINAL | resid_flag;
	pdu->hdr[2] = ISCSI_RSP_COMPLETED;
	pdu->hdr[3] = cmd->status;
	tdm_put_be32(pdu->hdr + 16, t->itt);
	tdm__iscsi_pdu_set_sn(c, pdu, true);
	/* RFC 7143 11.4.6: ExpDataSN counts Data-In and R2T PDUs */
	tdm_put_be32(pdu->hdr + 36, datasn + t->r2tsn);
	tdm_put_be32(pdu->hdr + 44, resid);
	if (cmd->sense_len) {
		/* RFC 7143 11.4.7.2: SenseLength, then the sense data */
		uint8_t sb[2 + TDM_SENSE_MAX];
		uint32_t sl = cmd->sense_len > TDM_SENSE_MAX ? TDM_SENSE_MAX
							     : cmd->sense_len;

		tdm_put_be16(sb, (uint16_t)sl);
		memcpy(sb + 2, cmd->sense, sl);
		tdm__iscsi_pdu_set_data_copy(c, pdu, sb, sl + 2);
	}
	pdu->task = t;
	tdm__iscsi_pdu_queue(c, pdu);
	tdm__iscsi_conn_kick(c);
}

void tdm__iscsi_task_tx_done(struct tdm__iscsi_task *t)
{
	if (t->state == ISCSI_TASK_LOCAL) {
		tdm__iscsi_task_unhash(t);
		tdm_list_del(&t->link);
		tdm__iscsi_task_put(t);
		return;
	}
	tdm_cmd_release(&t->cmd);
}

/* Answer a command without the core (bidirectional, CDB too long...). */
static void task_local_fail(struct tdm__iscsi_task *t, enum tdm_sense_reason sr)
{
	t->state = ISCSI_TASK_LOCAL;
	tdm_cmd_set_sense(&t->cmd, sr, NULL);
	send_status(t);
}

/* ---- R2T ---- */

static void send_r2t(struct tdm__iscsi_task *t)
{
	struct tdm__iscsi_conn *c = t->conn;
	struct tdm__iscsi_txpdu *pdu;
	struct tdm__iscsi_r2t *r;
	uint32_t len = t->xfer_len - t->r2t_off;

	if (len > c->p.max_burst)
		len = c->p.max_burst;
	pdu = tdm__iscsi_pdu_alloc(c);
	if (!pdu) {
		tdm__iscsi_conn_close(c, "out of memory");
		return;
	}
	r = &t->r2t[(t->r2t_head + t->nr2t) % ISCSI_MAX_R2T];
	r->ttt = c->ttt_next++;
	if (r->ttt == ISCSI_RSVD_TAG)
		r->ttt = c->ttt_next++;
	r->offset = t->r2t_off;
	r->len = len;
	r->got = 0;
	r->datasn = 0;
	t->nr2t++;
	t->r2t_off += len;
	/* RFC 7143 11.8 */
	pdu->hdr[0] = ISCSI_OP_R2T;
	pdu->hdr[1] = ISCSI_FLAG_FINAL;
	put_lun(pdu->hdr + 8, t);
	tdm_put_be32(pdu->hdr + 16, t->itt);
	tdm_put_be32(pdu->hdr + 20, r->ttt);
	tdm__iscsi_pdu_set_sn(c, pdu, false);
	tdm_put_be32(pdu->hdr + 36, t->r2tsn++);
	tdm_put_be32(pdu->hdr + 40, r->offset);
	tdm_put_be32(pdu->hdr + 44, r->len);
	tdm__iscsi_pdu_queue(c, pdu);
}

/* ---- data-out progress ---- */

static void task_fail(struct tdm__iscsi_task *t, enum tdm_sense_reason sr)
{
	if (t->fail_sr)
		return;
	t->fail_sr = (uint8_t)sr;
	rx_forget(t);
	t->nr2t = 0;
	if (t->state == ISCSI_TASK_WRITE) {
		t->state = ISCSI_TASK_EXEC;
		tdm_cmd_fail(&t->cmd, sr);
	}
	/* before write_pending: failed when the core asks for the data */
}

static void task_progress(struct tdm__iscsi_task *t)
{
	struct tdm__iscsi_conn *c = t->conn;
	uint32_t max_r2t;

	if (t->state != ISCSI_TASK_WRITE || t->fail_sr || t->imm_len)
		return;
	if (t->received >= t->xfer_len) {
		t->state = ISCSI_TASK_EXEC;
		t->nr2t = 0;
		tdm_cmd_execute(&t->cmd);
		return;
	}
	if (!t->unsol_done)
		return;
	if (t->r2t_off < t->received)
		t->r2t_off = t->received;
	max_r2t = c->p.max_outstanding_r2t;
	if (max_r2t > ISCSI_MAX_R2T)
		max_r2t = ISCSI_MAX_R2T;
	if (max_r2t == 0)
		max_r2t = 1;
	while (t->nr2t < max_r2t && t->r2t_off < t->xfer_len && !c->closed)
		send_r2t(t);
	tdm__iscsi_conn_kick(c);
}

static int task_ubuf(struct tdm__iscsi_task *t)
{
	uint32_t cap = t->unsol_limit;

	if (t->ubuf || cap == 0)
		return 0;
	t->ubuf = malloc(cap);
	if (!t->ubuf)
		return -ENOMEM;
	t->ubuf_cap = cap;
	return 0;
}

/*
 * Point the receive side at the right place for data of task t at buffer
 * offset off: cmd->buf once the core asked for data, the task buffer
 * before, nowhere when nothing is wanted.
 */
static void rx_target(struct tdm__iscsi_conn *c, struct tdm__iscsi_task *t,
		      uint32_t off, uint8_t action)
{
	uint8_t *base = NULL;
	uint32_t cap = 0;

	if (t->state == ISCSI_TASK_WRITE && t->cmd.buf) {
		base = t->cmd.buf;
		cap = t->xfer_len;
	} else if (task_wants_data(t) && t->state != ISCSI_TASK_WRITE) {
		if (task_ubuf(t)) {
			tdm__iscsi_conn_close(c, "out of memory");
			return;
		}
		base = t->ubuf;
		cap = t->ubuf_cap;
	}
	c->rx_action = action;
	c->rx_off = off;
	tdm__iscsi_task_get(t);
	c->rx_task = t;
	if (base && off < cap) {
		c->rx_dst = base + off;
		c->rx_store = c->dsl < cap - off ? c->dsl : cap - off;
	} else {
		c->rx_dst = NULL;
		c->rx_store = 0;
	}
}

/* ---- SCSI Command ---- */

static uint8_t map_attr(uint8_t a)
{
	switch (a) {
	case ISCSI_ATTR_UNTAGGED:
		return TDM_TASK_UNTAGGED;
	case ISCSI_ATTR_ORDERED:
		return TDM_TASK_ORDERED;
	case ISCSI_ATTR_HEAD_OF_QUEUE:
		return TDM_TASK_HEAD_OF_QUEUE;
	case ISCSI_ATTR_ACA:
		return TDM_TASK_ACA;
	default:
		return TDM_TASK_SIMPLE;
	}
}

/* Account a CmdSN for a command we will not execute (rejected). */
static void cmdsn_consume(struct tdm__iscsi_conn *c, bool immediate, int order,
			  uint32_t cmdsn)
{
	if (!immediate)
		tdm__iscsi_cmdsn_consume(c, order, cmdsn);
}

static void reject_cmd(struct tdm__iscsi_conn *c, uint8_t reason, bool imm,
		       int order, uint32_t cmdsn)
{
	cmdsn_consume(c, imm, order, cmdsn);
	c->rx_action = ISCSI_ACT_REJECT;
	c->rx_reject = reason;
}

void tdm__iscsi_task_submit(struct tdm__iscsi_task *t)
{
	struct tdm__iscsi_conn *c = t->conn;

	t->state = ISCSI_TASK_CORE;
	tdm_list_del(&t->link);
	tdm_list_add_tail(&c->tasks, &t->link);
	c->nactive++;
	t->counted = true;
	if (t->immediate)
		c->nimm++;
	/* the most Data-In it can bring */
	t->din = t->cmd.exp_dir & TDM_DIR_READ ? t->edtl : 0;
	c->din_bytes += t->din;
	tdm_cmd_submit(&t->cmd);
}

void tdm__iscsi_scsi_cmd_hdr(struct tdm__iscsi_conn *c)
{
	const uint8_t *h = c->hdr;
	bool imm = (h[0] & ISCSI_OP_IMMEDIATE) != 0;
	uint8_t flags = h[1];
	uint32_t itt = tdm_get_be32(h + 16);
	uint32_t edtl = tdm_get_be32(h + 20);
	uint32_t cmdsn = tdm_get_be32(h + 24);
	const uint8_t *ahs = h + ISCSI_BHS_LEN;
	uint8_t cdb[TDM_CDB_MAX];
	uint32_t cdb_len = 16;
	bool bidi = false, cdb_too_long = false;
	int order = 0;
	struct tdm__iscsi_task *t;
	uint32_t dsl = c->dsl;

	if (c->discovery) {
		/* RFC 7143 4.3: discovery sessions only do Text and Logout */
		c->rx_action = ISCSI_ACT_REJECT;
		c->rx_reject = ISCSI_REJECT_CMD_NOT_SUPPORTED;
		return;
	}
	if (!imm) {
		order = tdm__iscsi_cmdsn_check(c, cmdsn);
		if (order < 0) {
			/* RFC 7143 4.2.2.1: outside the window: drop */
			log_warnx_rl("iscsi: %s: CmdSN %u outside [%u, %u], "
				     "command dropped",
				     c->peer_str, cmdsn, c->exp_cmdsn,
				     c->max_cmdsn);
			return;
		}
	}
	memcpy(cdb, h + 32, 16);
	/* RFC 7143 11.2.2: additional header segments */
	for (uint32_t off = 0; off < c->ahs_len;) {
		uint32_t alen, seg;
		uint8_t type;

		if (c->ahs_len - off < 4) {
			reject_cmd(c, ISCSI_REJECT_INVALID_PDU_FIELD, imm,
				   order, cmdsn);
			return;
		}
		alen = tdm_get_be16(ahs + off);
		type = ahs[off + 2];
		seg = (3 + alen + 3) & ~3u;
		if (alen == 0 || seg > c->ahs_len - off) {
			reject_cmd(c, ISCSI_REJECT_INVALID_PDU_FIELD, imm,
				   order, cmdsn);
			return;
		}
		if (type == ISCSI_AHS_EXT_CDB) {
			/* 11.2.2.3: a reserved byte, then CDB bytes 16.. */
			uint32_t extra = alen - 1;

			if (cdb_len + extra > TDM_CDB_MAX)
				cdb_too_long = true;
			else if (extra)
				memcpy(cdb + cdb_len, ahs + off + 4, extra);
			cdb_len += extra;
		} else if (type == ISCSI_AHS_BIDI_LEN) {
			bidi = true;
		} else {
			reject_cmd(c, ISCSI_REJECT_INVALID_PDU_FIELD, imm,
				   order, cmdsn);
			return;
		}
		off += seg;
	}
	if (itt == ISCSI_RSVD_TAG) {
		reject_cmd(c, ISCSI_REJECT_INVALID_PDU_FIELD, imm, order,
			   cmdsn);
		return;
	}
	if (tdm__iscsi_task_find(c, itt)) {
		reject_cmd(c, ISCSI_REJECT_TASK_IN_PROGRESS, imm, order, cmdsn);
		return;
	}
	if (imm && c->nimm >= IMMEDIATE_MAX) {
		log_warnx_rl("iscsi: %s: more than %u immediate commands at "
			     "once, rejected",
			     c->peer_str, IMMEDIATE_MAX);
		reject_cmd(c, ISCSI_REJECT_IMM_CMD, imm, order, cmdsn);
		return;
	}
	if (dsl && (flags & ISCSI_CMD_WRITE) &&
	    (!c->p.immediate_data || dsl > c->p.first_burst || dsl > edtl)) {
		/* RFC 7143 13.11, 13.14: immediate data not negotiated or
		 * more than allowed */
		reject_cmd(c, ISCSI_REJECT_PROTOCOL_ERROR, imm, order, cmdsn);
		return;
	}

	t = tdm__iscsi_task_alloc(c);
	if (!t) {
		reject_cmd(c, ISCSI_REJECT_OUT_OF_RESOURCES, imm, order, cmdsn);
		return;
	}
	t->kind = ISCSI_KIND_SCSI;
	t->itt = itt;
	t->cmdsn = cmdsn;
	t->edtl = edtl;
	t->immediate = imm;
	memcpy(t->cmd.cdb, cdb, cdb_len > TDM_CDB_MAX ? TDM_CDB_MAX : cdb_len);
	t->cmd.cdb_len =
		(uint8_t)(cdb_len > TDM_CDB_MAX ? TDM_CDB_MAX : cdb_len);
	t->cmd.task_attr = map_attr(flags & ISCSI_CMD_ATTR_MASK);
	t->cmd.lun = tdm_get_be64(h + 8);
	t->cmd.tag = itt;
	t->cmd.exp_len = edtl;
	t->cmd.exp_dir =
		(uint8_t)(((flags & ISCSI_CMD_READ) ? TDM_DIR_READ : 0) |
			  ((flags & ISCSI_CMD_WRITE) ? TDM_DIR_WRITE : 0));
	t->cmd.nexus = c->nexus;
	task_hash(t);

	/* unsolicited data: immediate, then Data-Out up to FirstBurstLength
	 * when InitialR2T=No (RFC 7143 13.10, 13.14) */
	if (flags & ISCSI_CMD_WRITE) {
		t->imm_len = dsl;
		if (!c->p.initial_r2t)
			t->unsol_limit = edtl < c->p.first_burst
						 ? edtl
						 : c->p.first_burst;
		else
			t->unsol_limit = dsl;
		if (t->unsol_limit < dsl)
			t->unsol_limit = dsl;
		t->unsol_done = (flags & ISCSI_FLAG_FINAL) ||
				c->p.initial_r2t || dsl >= t->unsol_limit;
	} else {
		t->unsol_done = true;
	}

	if (bidi || cdb_too_long ||
	    (flags & (ISCSI_CMD_READ | ISCSI_CMD_WRITE)) ==
		    (ISCSI_CMD_READ | ISCSI_CMD_WRITE)) {
		/* bidirectional commands are not supported */
		tdm_list_add_tail(&c->tasks, &t->link);
		cmdsn_consume(c, imm, order, cmdsn);
		t->imm_len = 0;
		task_local_fail(t, cdb_too_long ? TDM_SR_INVALID_FIELD_IN_CDB
						: TDM_SR_INVALID_FIELD_IN_CDB);
		return;
	}

	if (!imm && order > 0) {
		/* ahead of a gap in the command order: wait for it */
		tdm__iscsi_queue_by_cmdsn(c, t);
	} else {
		if (!imm)
			c->exp_cmdsn++;
		tdm__iscsi_task_get(t);
		tdm__iscsi_task_submit(t);
		if (!imm)
			tdm__iscsi_deliver_queued(c);
		if (dsl && !c->closed)
			rx_target(c, t, 0, ISCSI_ACT_SCSI);
		tdm__iscsi_task_put(t);
		return;
	}
	if (dsl)
		rx_target(c, t, 0, ISCSI_ACT_SCSI);
}

void tdm__iscsi_scsi_cmd_data(struct tdm__iscsi_conn *c, bool digest_ok)
{
	struct tdm__iscsi_task *t = c->rx_task;

	if (!t)
		return;
	t->imm_len = 0;
	if (!digest_ok) {
		/* RFC 7143 7.8: reject the PDU, the command fails */
		tdm__iscsi_send_reject(c, ISCSI_REJECT_DATA_DIGEST, c->hdr);
		task_fail(t, TDM_SR_ABORTED_PROTOCOL_FAILURE);
		return;
	}
	if (!task_wants_data(t))
		return;
	t->received = c->dsl;
	if (t->received >= t->unsol_limit)
		t->unsol_done = true;
	task_progress(t);
}

/* ---- Data-Out ---- */

void tdm__iscsi_data_out_hdr(struct tdm__iscsi_conn *c)
{
	const uint8_t *h = c->hdr;
	uint32_t itt = tdm_get_be32(h + 16);
	uint32_t ttt = tdm_get_be32(h + 20);
	uint32_t datasn = tdm_get_be32(h + 36);
	uint32_t off = tdm_get_be32(h + 40);
	uint32_t dsl = c->dsl;
	struct tdm__iscsi_task *t = tdm__iscsi_task_find(c, itt);
	bool bad = false;

	/* Data for tasks that are gone, failed or aborted: drop quietly */
	if (!t || t->kind != ISCSI_KIND_SCSI || !task_wants_data(t))
		return;
	if (!(t->cmd.exp_dir & TDM_DIR_WRITE)) {
		bad = true;
	} else if (ttt == ISCSI_RSVD_TAG) {
		/* RFC 7143 11.7: unsolicited data, DataSN from 0, offsets in
		 * order (DataPDUInOrder=Yes) and within FirstBurstLength */
		if (c->p.initial_r2t || t->unsol_done || off != t->received ||
		    datasn != t->unsol_datasn ||
		    (uint64_t)off + dsl > t->unsol_limit)
			bad = true;
	} else {
		struct tdm__iscsi_r2t *r = &t->r2t[t->r2t_head];

		/* RFC 7143 11.7: solicited data answers the oldest R2T
		 * (DataSequenceInOrder=Yes), DataSN from 0 per R2T */
		if (t->nr2t == 0 || r->ttt != ttt ||
		    off != r->offset + r->got || off != t->received ||
		    datasn != r->datasn ||
		    (uint64_t)off + dsl > (uint64_t)r->offset + r->len)
			bad = true;
	}
	if (bad) {
		log_warnx_rl("iscsi: %s: bad Data-Out for ITT 0x%x (TTT 0x%x "
			     "DataSN %u offset %u length %u)",
			     c->peer_str, itt, ttt, datasn, off, dsl);
		task_fail(t, TDM_SR_ABORTED_DATA_PHASE_ERROR);
		return;
	}
	rx_target(c, t, off, ISCSI_ACT_DATA_OUT);
}

void tdm__iscsi_data_out_data(struct tdm__iscsi_conn *c, bool digest_ok)
{
	struct tdm__iscsi_task *t = c->rx_task;
	const uint8_t *h = c->hdr;
	uint32_t ttt = tdm_get_be32(h + 20);
	bool final = (h[1] & ISCSI_FLAG_FINAL) != 0;

	if (!t)
		return;
	if (!digest_ok) {
		tdm__iscsi_send_reject(c, ISCSI_REJECT_DATA_DIGEST, c->hdr);
		task_fail(t, TDM_SR_ABORTED_PROTOCOL_FAILURE);
		return;
	}
	if (!task_wants_data(t))
		return;
	t->received += c->dsl;
	t->wait_ns = c->last_rx_ns;
	if (ttt == ISCSI_RSVD_TAG) {
		t->unsol_datasn++;
		if (final || t->received >= t->unsol_limit)
			t->unsol_done = true;
	} else if (t->nr2t) {
		struct tdm__iscsi_r2t *r = &t->r2t[t->r2t_head];

		r->got += c->dsl;
		r->datasn++;
		if (r->got >= r->len) {
			t->r2t_head =
				(uint8_t)((t->r2t_head + 1) % ISCSI_MAX_R2T);
			t->nr2t--;
		} else if (final) {
			/* the sequence ended short of what we asked */
			task_fail(t, TDM_SR_ABORTED_DATA_PHASE_ERROR);
			return;
		}
	}
	task_progress(t);
}

/* ---- transport ops ---- */

/*
 * EDTL below what a WRITE / WRITE AND VERIFY needs: FCP-4 9.4.2 and SAM-5
 * let the device server process the command with the data up to EDTL and
 * report the overflow residual. When EDTL is a whole number of blocks the
 * command is shortened to those blocks; otherwise it fails (CHECK
 * CONDITION, INVALID FIELD IN COMMAND INFORMATION UNIT). The core decides
 * (tdm_cmd_shorten_write).
 */
static void truncate_write(struct tdm__iscsi_task *t)
{
	tdm_cmd_shorten_write(&t->cmd, t->edtl);
}

void tdm__iscsi_write_pending(struct tdm_cmd *cmd)
{
	struct tdm__iscsi_task *t =
		container_of(cmd, struct tdm__iscsi_task, cmd);
	struct tdm__iscsi_conn *c = t->conn;

	t->state = ISCSI_TASK_WRITE;
	t->spdtl = cmd->data_len;
	t->wait_ns = tdm_now_ns();
	if (c->closed) {
		t->state = ISCSI_TASK_EXEC;
		tdm_cmd_fail(cmd, TDM_SR_ABORTED_NO_RESOURCES);
		return;
	}
	if (t->fail_sr) {
		t->state = ISCSI_TASK_EXEC;
		tdm_cmd_fail(cmd, (enum tdm_sense_reason)t->fail_sr);
		return;
	}
	if ((cmd->exp_dir & TDM_DIR_WRITE) && t->edtl < cmd->data_len &&
	    cmd->buf)
		truncate_write(t);
	if (!(cmd->exp_dir & TDM_DIR_WRITE) || t->edtl < cmd->data_len ||
	    (cmd->data_len && !cmd->buf)) {
		/*
		 * The initiator will not send what the command needs (EDTL
		 * below the CDB's transfer length, or no W bit): FCP-4 /
		 * SAM-5 allow CHECK CONDITION, INVALID FIELD IN COMMAND
		 * INFORMATION UNIT, with the overflow residual.
		 */
		t->fail_sr = TDM_SR_INVALID_FIELD_IN_IU;
		rx_forget(t);
		t->state = ISCSI_TASK_EXEC;
		tdm_cmd_fail(cmd, TDM_SR_INVALID_FIELD_IN_IU);
		return;
	}
	t->xfer_len = cmd->data_len;
	if (t->ubuf) {
		/* data that came before the core asked for it */
		uint32_t have = t->received;

		if (c->rx_task == t && c->rx_dst) {
			uint32_t inflight = c->rx_data_got < c->rx_store
						    ? c->rx_data_got
						    : c->rx_store;

			if (c->rx_off + inflight > have)
				have = c->rx_off + inflight;
		}
		if (have > t->ubuf_cap)
			have = t->ubuf_cap;
		if (have > t->xfer_len)
			have = t->xfer_len;
		memcpy(cmd->buf, t->ubuf, have);
		if (c->rx_task == t) {
			/* the rest of the segment in flight goes to buf */
			uint32_t off = c->rx_off;
			uint32_t want = 0;

			if (off < t->xfer_len)
				want = c->dsl < t->xfer_len - off
					       ? c->dsl
					       : t->xfer_len - off;
			c->rx_dst = want ? cmd->buf + off : NULL;
			c->rx_store =
				want > c->rx_data_got ? want : c->rx_data_got;
			if (!want)
				c->rx_store = 0;
		}
		free(t->ubuf);
		t->ubuf = NULL;
		t->ubuf_cap = 0;
	}
	task_progress(t);
}

void tdm__iscsi_queue_status(struct tdm_cmd *cmd)
{
	struct tdm__iscsi_task *t =
		container_of(cmd, struct tdm__iscsi_task, cmd);
	struct tdm__iscsi_conn *c = t->conn;

	rx_forget(t);
	t->nr2t = 0;
	t->imm_len = 0;
	t->state = ISCSI_TASK_STATUS;
	if (tdm_cmd_aborted(cmd) || c->closed) {
		tdm_cmd_release(cmd);
		return;
	}
	send_status(t);
}

void tdm__iscsi_abort_pending(struct tdm_cmd *cmd)
{
	struct tdm__iscsi_task *t =
		container_of(cmd, struct tdm__iscsi_task, cmd);

	rx_forget(t);
	t->nr2t = 0;
	t->state = ISCSI_TASK_STATUS;
	if (atomic_load(&cmd->aflags) & TDM__CMD_F_TAS) {
		/* SPC-4 7.5.8, TAS=1: a command aborted by another I_T
		 * nexus ends with TASK ABORTED, also one that still waited
		 * for its Data-Out (further Data-Out PDUs are dropped) */
		tdm_cmd_fail(cmd, TDM_SR_OK);
		return;
	}
	tdm_cmd_release(cmd);
}

void tdm__iscsi_free_cmd(struct tdm_cmd *cmd)
{
	struct tdm__iscsi_task *t =
		container_of(cmd, struct tdm__iscsi_task, cmd);
	struct tdm__iscsi_conn *c = t->conn;

	rx_forget(t);
	tdm__iscsi_task_unhash(t);
	tdm_list_del(&t->link);
	if (c->nactive)
		c->nactive--;
	if (t->counted) {
		t->counted = false;
		if (t->immediate)
			c->nimm--;
		c->din_bytes -= t->din;
	}
	t->state = ISCSI_TASK_FREE;
	tdm__iscsi_conn_get(c);
	tdm__iscsi_task_put(t);
	tdm__iscsi_logout_progress(c);
	tdm__iscsi_conn_rx_check(c);
	tdm__iscsi_conn_put(c);
}

/* ---- teardown ---- */

void tdm__iscsi_abort_queued(struct tdm__iscsi_conn *c, bool all, uint64_t lun)
{
	struct tdm_list *pos;

	tdm_list_for_each (pos, &c->queued) {
		struct tdm__iscsi_task *t =
			tdm_list_entry(pos, struct tdm__iscsi_task, link);

		if (t->kind == ISCSI_KIND_SCSI && (all || t->cmd.lun == lun))
			t->aborted = true;
	}
}

void tdm__iscsi_tasks_teardown(struct tdm__iscsi_conn *c, bool closing)
{
	struct tdm_list *pos, *tmp;

	tdm_list_for_each_safe (pos, tmp, &c->queued) {
		struct tdm__iscsi_task *t =
			tdm_list_entry(pos, struct tdm__iscsi_task, link);

		tdm__iscsi_task_unhash(t);
		tdm_list_del(&t->link);
		tdm__iscsi_task_put(t);
	}
	if (!closing)
		return;
	/* LOCAL tasks whose response never made it to the send queue
	 * (closing frees the queue first, which frees the others) */
	tdm_list_for_each_safe (pos, tmp, &c->tasks) {
		struct tdm__iscsi_task *t =
			tdm_list_entry(pos, struct tdm__iscsi_task, link);

		if (t->state == ISCSI_TASK_LOCAL) {
			tdm__iscsi_task_unhash(t);
			tdm_list_del(&t->link);
			tdm__iscsi_task_put(t);
		}
	}
}
