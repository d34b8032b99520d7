/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * io.c - the full feature phase of a channel: IUs received (SRP_CMD,
 * SRP_TSK_MGMT, SRP_I_LOGOUT, anything else), commands handed to the
 * core, data-out fetched with RDMA READ, data-in written with RDMA WRITE
 * chained before the SRP_RSP, task management, T_LOGOUT.
 *
 * A command's data buffer (the core's cmd.buf) is registered for the
 * transfer and deregistered when the command is freed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "srp/srp_int.h"

struct srp_wr tdm__srp_quiet_wr = {.kind = SRP_WR_QUIET};

/* response buffers kept for TMF, local answers and T_LOGOUT */
#define TX_RESERVE 16

/* ---- commands: allocation ---- */

static struct srp_cmd *cmd_get(struct srp_chan *ch)
{
	struct srp_cmd *sc;

	if (!tdm_list_empty(&ch->cmd_free)) {
		sc = tdm_list_entry(ch->cmd_free.next, struct srp_cmd, link);
		tdm_list_del(&sc->link);
	} else {
		sc = malloc(sizeof(*sc));
		if (!sc)
			return NULL;
	}
	memset(sc, 0, sizeof(*sc));
	sc->ch = ch;
	sc->desc = sc->desc_inline;
	sc->rd_wr.kind = SRP_WR_READ;
	tdm_list_add_tail(&ch->cmds, &sc->link);
	ch->ncmds++;
	tdm__srp_chan_get(ch);
	return sc;
}

static void cmd_put(struct srp_cmd *sc)
{
	struct srp_chan *ch = sc->ch;

	if (sc->mr)
		tdm__srp_mr_put(sc->mr);
	sc->mr = NULL;
	if (sc->desc != sc->desc_inline)
		free(sc->desc);
	sc->desc = sc->desc_inline;
	if (sc->imm_rx) {
		tdm__srp_post_recv(ch, sc->imm_rx);
		sc->imm_rx = NULL;
	}
	if (sc->waiting) {
		tdm_list_del(&sc->wait_link);
		sc->waiting = false;
	}
	tdm_list_del(&sc->link);
	ch->ncmds--;
	if (ch->state < SRP_CH_DEAD) {
		tdm_list_add(&ch->cmd_free, &sc->link);
	} else {
		free(sc);
	}
	tdm__srp_chan_put(ch);
}

/* The channel is drained: its free list goes (live commands stay until
 * the core releases them). */
void tdm__srp_cmds_free(struct srp_chan *ch)
{
	while (!tdm_list_empty(&ch->cmd_free)) {
		struct srp_cmd *sc =
			tdm_list_entry(ch->cmd_free.next, struct srp_cmd, link);

		tdm_list_del(&sc->link);
		free(sc);
	}
	/* commands waiting for room will never get it */
	while (!tdm_list_empty(&ch->sq_wait)) {
		struct srp_cmd *sc = tdm_list_entry(ch->sq_wait.next,
						    struct srp_cmd, wait_link);

		tdm_list_del(&sc->wait_link);
		sc->waiting = false;
		sc->state = SRP_CMD_CORE;
		if (sc->xfer_done) {
			tdm_cmd_release(&sc->cmd);
		} else {
			sc->xfer_done = true;
			tdm_cmd_fail(&sc->cmd, TDM_SR_ABORTED_NO_RESOURCES);
		}
	}
}

/* ---- responses ---- */

static void put_rsp(struct srp_chan *ch, struct srp_tx *tx, size_t len,
		    struct ibv_send_wr *chain, uint32_t nchain)
{
	int r = tdm__srp_post_send(ch, tx, (uint32_t)len, chain, nchain);

	if (r) {
		if (r != -ESHUTDOWN)
			log_warnx_rl("srp: %s: cannot send a response: %s",
				     ch->peer, strerror(-r));
		/* as if it had been sent and flushed */
		tdm__srp_send_done(ch, tx, false);
		if (r != -ESHUTDOWN)
			tdm__srp_chan_close(ch, "send queue full");
	}
}

/* An SRP_RSP with response data only (no command in the core). */
static void local_rsp(struct srp_chan *ch, uint64_t tag, uint8_t sol_not,
		      int code, uint8_t status, const uint8_t *sense,
		      uint32_t sense_len)
{
	struct srp_tx *tx = tdm__srp_tx_get(ch);
	struct tdm_srp_rsp r = {
		.tag = tag,
		.status = status,
		.resp_code = code,
		.sense = sense,
		.sense_len = sense_len,
		.sol_not = sol_not,
	};
	size_t n;

	if (!tx) {
		tdm__srp_chan_close(ch, "no response buffer left");
		return;
	}
	r.req_lim_delta = ch->credits;
	ch->credits = 0;
	n = tdm__srp_rsp_build(tx->buf, ch->a.max_ti_iu_len, &r);
	put_rsp(ch, tx, n, NULL, 0);
}

static void t_logout(struct srp_chan *ch, uint32_t reason, uint64_t tag,
		     const char *why)
{
	struct srp_tx *tx = tdm__srp_tx_get(ch);
	size_t n;

	log_warnx_rl("srp: %s: logging the channel out (reason %u): %s",
		     ch->peer, reason, why);
	if (!tx) {
		tdm__srp_chan_close(ch, why);
		return;
	}
	n = tdm__srp_t_logout(tx->buf, ch->a.max_ti_iu_len, reason, tag);
	tx->close_after = true;
	put_rsp(ch, tx, n, NULL, 0);
}

/*
 * Work requests moving len bytes between buf (lkey) and the command's
 * descriptors, in order: one per descriptor touched. Returns how many
 * (wrs/sges NULL: only count).
 */
static uint32_t build_rdma(struct srp_cmd *sc, uint32_t len,
			   enum ibv_wr_opcode op, struct ibv_send_wr *wrs,
			   struct ibv_sge *sges)
{
	uint32_t n = 0, off = 0;

	for (uint32_t i = 0; i < sc->ndesc && off < len; i++) {
		const struct tdm_srp_desc *d = &sc->desc[i];
		uint32_t l = d->len < len - off ? d->len : len - off;

		if (!l)
			continue;
		if (wrs) {
			memset(&wrs[n], 0, sizeof(wrs[n]));
			sges[n].addr = (uintptr_t)(sc->cmd.buf + off);
			sges[n].length = l;
			sges[n].lkey = tdm__srp_mr_lkey(sc->mr);
			wrs[n].sg_list = &sges[n];
			wrs[n].num_sge = 1;
			wrs[n].opcode = op;
			/* a flushed WR completes even unsignaled */
			wrs[n].wr_id = (uintptr_t)&tdm__srp_quiet_wr;
			wrs[n].wr.rdma.remote_addr = d->va;
			wrs[n].wr.rdma.rkey = d->key;
			if (n)
				wrs[n - 1].next = &wrs[n];
		}
		n++;
		off += l;
	}
	return n;
}

/* cmd.buf registered for RDMA (the whole buffer: the registration is
 * cached with it, mr.c) */
static int reg_buf(struct srp_cmd *sc)
{
	if (sc->mr)
		return 0;
	sc->mr = tdm__srp_mr_get(sc->ch->dev, sc->cmd.buf, sc->cmd.buf_cap);
	return sc->mr ? 0 : -errno;
}

/* SRP r16a 6.9: the residuals of a command against the initiator's
 * buffer (srp_len) */
static void residuals(const struct srp_cmd *sc, struct tdm_srp_rsp *r)
{
	const struct tdm_cmd *cmd = &sc->cmd;
	uint32_t want;

	if (sc->dir == TDM_SRP_DIR_IN ||
	    (sc->dir == TDM_SRP_DIR_NONE && cmd->dir == TDM_DIR_READ)) {
		want = cmd->dir == TDM_DIR_READ ? cmd->data_len : 0;
		if (sc->srp_len > want) {
			r->flags |= TDM_SRP_RSP_DIUNDER;
			r->di_resid = sc->srp_len - want;
		} else if (want > sc->srp_len) {
			r->flags |= TDM_SRP_RSP_DIOVER;
			r->di_resid = want - sc->srp_len;
		}
		return;
	}
	/* a write: what the command wanted at write_pending (a failed
	 * command has data_len 0 in the core) */
	want = sc->want;
	if (sc->srp_len > want) {
		r->flags |= TDM_SRP_RSP_DOUNDER;
		r->do_resid = sc->srp_len - want;
	} else if (want > sc->srp_len) {
		r->flags |= TDM_SRP_RSP_DOOVER;
		r->do_resid = want - sc->srp_len;
	}
}

/* Data-in (if any) and the SRP_RSP of a command the core ended; false
 * when there is no room yet (the command waits on ch->sq_wait). */
static bool send_status(struct srp_cmd *sc)
{
	struct srp_chan *ch = sc->ch;
	struct tdm_cmd *cmd = &sc->cmd;
	struct tdm_srp_rsp r = {0};
	struct ibv_send_wr *wrs = NULL;
	struct ibv_sge *sges = NULL;
	struct srp_tx *tx;
	uint32_t n = 0, nwr = 0;
	size_t len;

	if (sc->dir == TDM_SRP_DIR_IN && cmd->dir == TDM_DIR_READ && cmd->buf)
		n = cmd->data_len < sc->srp_len ? cmd->data_len : sc->srp_len;
	if (n)
		nwr = build_rdma(sc, n, IBV_WR_RDMA_WRITE, NULL, NULL);
	if (ch->sq_free < nwr + 1 + TX_RESERVE / 2 ||
	    ch->ntx_free <= TX_RESERVE)
		return false;
	if (n && !reg_buf(sc)) {
		wrs = calloc(nwr, sizeof(*wrs));
		sges = calloc(nwr, sizeof(*sges));
	}
	if (n && (!wrs || !sges)) {
		log_warnx_rl("srp: %s: no memory to send %u bytes", ch->peer,
			     n);
		free(wrs);
		free(sges);
		wrs = NULL;
		sges = NULL;
		tdm_cmd_set_sense(cmd, TDM_SR_ABORTED_NO_RESOURCES, NULL);
		n = nwr = 0;
	}
	if (n)
		build_rdma(sc, n, IBV_WR_RDMA_WRITE, wrs, sges);
	tx = tdm__srp_tx_get(ch);
	r.tag = sc->tag;
	r.sol_not = sc->sol_not;
	r.status = cmd->status;
	r.resp_code = -1;
	if (cmd->sense_len) {
		r.sense = cmd->sense;
		r.sense_len = cmd->sense_len;
	}
	residuals(sc, &r);
	r.req_lim_delta = ch->credits;
	ch->credits = 0;
	len = tdm__srp_rsp_build(tx->buf, ch->a.max_ti_iu_len, &r);
	tx->cmd = sc;
	sc->state = SRP_CMD_SENDING;
	put_rsp(ch, tx, len, wrs, nwr);
	free(wrs);
	free(sges);
	return true;
}

static bool post_reads(struct srp_cmd *sc);

static void wait_sq(struct srp_cmd *sc, bool first)
{
	sc->state = SRP_CMD_WAIT_SQ;
	if (sc->waiting)
		return;
	if (first)
		tdm_list_add(&sc->ch->sq_wait, &sc->wait_link);
	else
		tdm_list_add_tail(&sc->ch->sq_wait, &sc->wait_link);
	sc->waiting = true;
}

/* Room came back: serve the commands waiting, in order. */
void tdm__srp_sq_kick(struct srp_chan *ch)
{
	while (!tdm_list_empty(&ch->sq_wait) && ch->state < SRP_CH_CLOSING) {
		struct srp_cmd *sc = tdm_list_entry(ch->sq_wait.next,
						    struct srp_cmd, wait_link);
		bool went;

		/* off the list first: sending may free the command */
		tdm_list_del(&sc->wait_link);
		sc->waiting = false;
		went = sc->xfer_done ? send_status(sc) : post_reads(sc);
		if (!went) {
			wait_sq(sc, true);
			return;
		}
	}
}

/* ---- the core's callbacks ---- */

void tdm__srp_queue_status(struct tdm_cmd *cmd)
{
	struct srp_cmd *sc = container_of(cmd, struct srp_cmd, cmd);
	struct srp_chan *ch = sc->ch;

	sc->xfer_done = true;
	if (sc->imm_rx) {
		tdm__srp_post_recv(ch, sc->imm_rx);
		sc->imm_rx = NULL;
	}
	if (tdm_cmd_aborted(cmd) || ch->state >= SRP_CH_CLOSING) {
		tdm_cmd_release(cmd);
		return;
	}
	if (!tdm_list_empty(&ch->sq_wait) || !send_status(sc))
		wait_sq(sc, false);
}

/* RDMA READ of the data-out; false when the send queue has no room
 * (nothing done). A failure ends the command. */
static bool post_reads(struct srp_cmd *sc)
{
	struct srp_chan *ch = sc->ch;
	struct ibv_send_wr *wrs, *bad;
	struct ibv_sge *sges;
	uint32_t nwr = build_rdma(sc, sc->xfer, IBV_WR_RDMA_READ, NULL, NULL);
	int r;

	if (ch->sq_free < nwr + TX_RESERVE / 2)
		return false;
	wrs = calloc(nwr, sizeof(*wrs));
	sges = calloc(nwr, sizeof(*sges));
	if (!wrs || !sges) {
		free(wrs);
		free(sges);
		sc->state = SRP_CMD_CORE;
		tdm_cmd_fail(&sc->cmd, TDM_SR_ABORTED_NO_RESOURCES);
		return true;
	}
	build_rdma(sc, sc->xfer, IBV_WR_RDMA_READ, wrs, sges);
	wrs[nwr - 1].wr_id = (uintptr_t)&sc->rd_wr;
	wrs[nwr - 1].send_flags = IBV_SEND_SIGNALED;
	sc->rd_wr.slots = nwr;
	sc->state = SRP_CMD_READING;
	r = ibv_post_send(ch->id->qp, wrs, &bad);
	free(wrs);
	free(sges);
	if (r) {
		log_warnx_rl("srp: %s: RDMA READ: %s", ch->peer, strerror(r));
		sc->state = SRP_CMD_CORE;
		tdm_cmd_fail(&sc->cmd, TDM_SR_ABORTED_NO_RESOURCES);
		return true;
	}
	ch->sq_free -= nwr;
	return true;
}

void tdm__srp_write_pending(struct tdm_cmd *cmd)
{
	struct srp_cmd *sc = container_of(cmd, struct srp_cmd, cmd);
	struct srp_chan *ch = sc->ch;

	sc->want = cmd->data_len;
	if (ch->state >= SRP_CH_CLOSING) {
		tdm_cmd_fail(cmd, TDM_SR_ABORTED_NO_RESOURCES);
		return;
	}
	if (sc->dir == TDM_SRP_DIR_OUT && sc->srp_len < cmd->data_len &&
	    cmd->buf)
		tdm_cmd_shorten_write(cmd, sc->srp_len);
	if (sc->dir != TDM_SRP_DIR_OUT || sc->srp_len < cmd->data_len ||
	    (cmd->data_len && !cmd->buf)) {
		/* the initiator's buffer does not hold what the command
		 * needs (SAM-5 5.4.3: INVALID FIELD IN COMMAND IU) */
		tdm_cmd_fail(cmd, TDM_SR_INVALID_FIELD_IN_IU);
		return;
	}
	sc->xfer = cmd->data_len;
	if (!sc->xfer) {
		tdm_cmd_execute(cmd);
		return;
	}
	if (sc->fmt == TDM_SRP_FMT_IMM) {
		memcpy(cmd->buf, sc->imm, sc->xfer);
		tdm__srp_post_recv(ch, sc->imm_rx);
		sc->imm_rx = NULL;
		sc->imm = NULL;
		tdm_cmd_execute(cmd);
		return;
	}
	if (reg_buf(sc)) {
		log_warnx_rl("srp: %s: cannot register %u bytes: %s", ch->peer,
			     sc->xfer, strerror(errno));
		tdm_cmd_fail(cmd, TDM_SR_ABORTED_NO_RESOURCES);
		return;
	}
	if (!tdm_list_empty(&ch->sq_wait) || !post_reads(sc))
		wait_sq(sc, false);
}

void tdm__srp_read_done(struct srp_chan *ch, struct srp_cmd *sc, bool ok)
{
	struct tdm_cmd *cmd = &sc->cmd;

	(void)ch;
	sc->state = SRP_CMD_CORE;
	if (sc->abort_after_read) {
		sc->abort_after_read = false;
		sc->xfer_done = true;
		if (atomic_load(&cmd->aflags) & TDM__CMD_F_TAS)
			tdm_cmd_fail(cmd, TDM_SR_OK);
		else
			tdm_cmd_release(cmd);
		return;
	}
	if (!ok) {
		tdm_cmd_fail(cmd, TDM_SR_ABORTED_DATA_PHASE_ERROR);
		return;
	}
	tdm_cmd_execute(cmd);
}

void tdm__srp_abort_pending(struct tdm_cmd *cmd)
{
	struct srp_cmd *sc = container_of(cmd, struct srp_cmd, cmd);

	if (sc->state == SRP_CMD_READING) {
		/* the READ cannot be recalled: its completion ends it */
		sc->abort_after_read = true;
		return;
	}
	if (sc->waiting) {
		tdm_list_del(&sc->wait_link);
		sc->waiting = false;
	}
	sc->state = SRP_CMD_CORE;
	sc->xfer_done = true;
	if (atomic_load(&cmd->aflags) & TDM__CMD_F_TAS) {
		/* SPC-4 7.5.8, TAS=1: TASK ABORTED */
		tdm_cmd_fail(cmd, TDM_SR_OK);
		return;
	}
	tdm_cmd_release(cmd);
}

void tdm__srp_free_cmd(struct tdm_cmd *cmd)
{
	cmd_put(container_of(cmd, struct srp_cmd, cmd));
}

void tdm__srp_send_done(struct srp_chan *ch, struct srp_tx *tx, bool ok)
{
	struct srp_cmd *sc = tx->cmd;
	struct srp_tmf *tmf = tx->tmf;
	bool close_after = tx->close_after;

	(void)ok;
	tdm__srp_tx_put(ch, tx);
	if (sc)
		tdm_cmd_release(&sc->cmd);
	if (tmf) {
		free(tmf);
		tdm__srp_chan_put(ch);
	}
	if (close_after)
		tdm__srp_chan_close(ch, "logged out by the target");
}

/* ---- IUs received ---- */

/* SRP r16a 6.8 table 22: TASK ATTRIBUTE */
static uint8_t map_attr(uint8_t a)
{
	switch (a & 7) {
	case 1:
		return TDM_TASK_HEAD_OF_QUEUE;
	case 2:
		return TDM_TASK_ORDERED;
	case 4:
		return TDM_TASK_ACA;
	default:
		return TDM_TASK_SIMPLE;
	}
}

static void repost(struct srp_chan *ch, struct srp_rx *rx)
{
	int r = tdm__srp_post_recv(ch, rx);

	if (r && r != -ESHUTDOWN)
		tdm__srp_chan_close(ch, "cannot post a receive");
}

static void rx_cmd(struct srp_chan *ch, struct srp_rx *rx)
{
	struct tdm_srp_cmd_iu c;
	enum tdm_srp_iu_err e;
	struct srp_cmd *sc;
	struct tdm_cmd *cmd;

	e = tdm__srp_cmd_parse(rx->buf, rx->len, &ch->a, &c);
	if (e == TDM_SRP_IU_SHORT) {
		repost(ch, rx);
		t_logout(ch, TDM_SRP_TLO_NO_REASON, 0, "SRP_CMD too short");
		return;
	}
	if (e == TDM_SRP_IU_OK && c.cdb_len > TDM_CDB_MAX)
		e = TDM_SRP_IU_FIELDS;
	/* a command must fit in the send queue with its response */
	if (e == TDM_SRP_IU_OK && c.ndesc + 1 + TX_RESERVE > ch->sq_size)
		e = TDM_SRP_IU_FIELDS;
	if (e != TDM_SRP_IU_OK) {
		uint64_t tag = c.tag;

		log_warnx_rl("srp: %s: SRP_CMD refused (%s)", ch->peer,
			     e == TDM_SRP_IU_EXT_TABLE
				     ? "descriptor table outside the IU"
				     : "fields invalid");
		repost(ch, rx);
		local_rsp(ch, tag, 0, TDM_SRP_RC_FIELDS_INVALID,
			  TDM_STATUS_GOOD, NULL, 0);
		return;
	}
	sc = cmd_get(ch);
	if (!sc) {
		repost(ch, rx);
		local_rsp(ch, c.tag, c.sol_not, -1, TDM_STATUS_BUSY, NULL, 0);
		return;
	}
	sc->tag = c.tag;
	sc->sol_not = c.sol_not;
	sc->dir = c.dir;
	sc->fmt = c.fmt;
	sc->srp_len = c.data_len;
	if (c.fmt == TDM_SRP_FMT_DIRECT || c.fmt == TDM_SRP_FMT_INDIRECT) {
		if (c.ndesc > SRP_DESC_INLINE) {
			sc->desc = calloc(c.ndesc, sizeof(*sc->desc));
			if (!sc->desc) {
				sc->desc = sc->desc_inline;
				repost(ch, rx);
				local_rsp(ch, c.tag, c.sol_not, -1,
					  TDM_STATUS_BUSY, NULL, 0);
				cmd_put(sc);
				return;
			}
		}
		sc->ndesc = c.ndesc;
		for (uint32_t i = 0; i < c.ndesc; i++) {
			tdm__srp_desc_get(&c, i, &sc->desc[i]);
			if (sc->desc[i].len > ch->max_msg)
				e = TDM_SRP_IU_FIELDS;
		}
	}
	cmd = &sc->cmd;
	memcpy(cmd->cdb, c.cdb, c.cdb_len);
	cmd->cdb_len = c.cdb_len;
	cmd->task_attr = map_attr(c.task_attr);
	cmd->lun = c.lun;
	cmd->tag = c.tag;
	cmd->exp_len = c.data_len;
	cmd->exp_dir = c.dir == TDM_SRP_DIR_OUT	 ? TDM_DIR_WRITE
		       : c.dir == TDM_SRP_DIR_IN ? TDM_DIR_READ
						 : TDM_DIR_NONE;
	cmd->nexus = ch->nx ? ch->nx->nexus : NULL;
	if (c.fmt == TDM_SRP_FMT_IMM) {
		/* the data stays in the receive buffer until the core asks
		 * for it (write_pending); the credit comes back then */
		sc->imm_rx = rx;
		sc->imm = c.imm;
		rx->held = true;
	} else {
		repost(ch, rx);
	}
	if (e != TDM_SRP_IU_OK || !cmd->nexus) {
		if (sc->imm_rx) {
			repost(ch, sc->imm_rx);
			sc->imm_rx = NULL;
		}
		local_rsp(ch, c.tag, c.sol_not, TDM_SRP_RC_FIELDS_INVALID,
			  TDM_STATUS_GOOD, NULL, 0);
		cmd_put(sc);
		return;
	}
	sc->state = SRP_CMD_CORE;
	tdm_cmd_submit(cmd);
}

static int map_tmf(uint8_t fn)
{
	switch (fn) {
	case TDM_SRP_TSK_ABORT_TASK:
		return TDM_TMF_ABORT_TASK;
	case TDM_SRP_TSK_ABORT_TASK_SET:
		return TDM_TMF_ABORT_TASK_SET;
	case TDM_SRP_TSK_CLEAR_TASK_SET:
		return TDM_TMF_CLEAR_TASK_SET;
	case TDM_SRP_TSK_LUN_RESET:
		return TDM_TMF_LUN_RESET;
	case TDM_SRP_TSK_CLEAR_ACA:
		return TDM_TMF_CLEAR_ACA;
	default:
		return -1;
	}
}

static void rx_tmf(struct srp_chan *ch, struct srp_rx *rx)
{
	struct tdm_srp_tmf_iu t;
	struct srp_tmf *m;
	int fn;

	if (tdm__srp_tmf_parse(rx->buf, rx->len, &t) != TDM_SRP_IU_OK) {
		uint64_t tag = t.tag;

		repost(ch, rx);
		if (rx->len < 16) {
			t_logout(ch, TDM_SRP_TLO_NO_REASON, 0,
				 "SRP_TSK_MGMT too short");
			return;
		}
		local_rsp(ch, tag, 0, TDM_SRP_RC_FIELDS_INVALID,
			  TDM_STATUS_GOOD, NULL, 0);
		return;
	}
	repost(ch, rx);
	fn = map_tmf(t.fn);
	if (fn < 0 || !ch->nx) {
		local_rsp(ch, t.tag, t.sol_not, TDM_SRP_RC_TMF_NOT_SUPP,
			  TDM_STATUS_GOOD, NULL, 0);
		return;
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		local_rsp(ch, t.tag, t.sol_not, TDM_SRP_RC_TMF_FAILED,
			  TDM_STATUS_GOOD, NULL, 0);
		return;
	}
	m->ch = ch;
	m->tag = t.tag;
	m->sol_not = t.sol_not;
	m->tmf.fn = (uint8_t)fn;
	m->tmf.lun = t.lun;
	m->tmf.ref_tag = t.task_tag;
	m->tmf.tag = t.tag;
	m->tmf.nexus = ch->nx->nexus;
	tdm__srp_chan_get(ch);
	log_info("srp: %s: task management function 0x%02x, LUN %llu", ch->peer,
		 t.fn, (unsigned long long)t.lun);
	tdm_tmf_submit(&m->tmf);
}

void tdm__srp_queue_tmf_rsp(struct tdm_tmf *tmf)
{
	struct srp_tmf *m = container_of(tmf, struct srp_tmf, tmf);
	struct srp_chan *ch = m->ch;
	struct srp_tx *tx;
	struct tdm_srp_rsp r = {0};
	size_t n;

	if (ch->state >= SRP_CH_CLOSING || !(tx = tdm__srp_tx_get(ch))) {
		free(m);
		tdm__srp_chan_put(ch);
		return;
	}
	/* SRP r16a 6.9 table 25 */
	switch (tmf->response) {
	case TDM_TMF_RSP_COMPLETE:
	case TDM_TMF_RSP_SUCCEEDED:
	case TDM_TMF_RSP_TASK_NOT_EXIST:
		r.resp_code = TDM_SRP_RC_OK;
		break;
	case TDM_TMF_RSP_NOT_SUPPORTED:
		r.resp_code = TDM_SRP_RC_TMF_NOT_SUPP;
		break;
	default:
		r.resp_code = TDM_SRP_RC_TMF_FAILED;
		break;
	}
	r.tag = m->tag;
	r.sol_not = m->sol_not;
	r.req_lim_delta = ch->credits;
	ch->credits = 0;
	n = tdm__srp_rsp_build(tx->buf, ch->a.max_ti_iu_len, &r);
	tx->tmf = m;
	put_rsp(ch, tx, n, NULL, 0);
}

void tdm__srp_rx_iu(struct srp_chan *ch, struct srp_rx *rx)
{
	uint64_t tag;
	uint8_t op;

	if (ch->state >= SRP_CH_CLOSING)
		return;
	op = tdm__srp_iu_opcode(rx->buf, rx->len, &tag);
	if (rx->len == 0) {
		repost(ch, rx);
		t_logout(ch, TDM_SRP_TLO_NO_REASON, 0, "empty IU");
		return;
	}
	switch (op) {
	case TDM_SRP_CMD:
		rx_cmd(ch, rx);
		return;
	case TDM_SRP_TSK_MGMT:
		rx_tmf(ch, rx);
		return;
	case TDM_SRP_I_LOGOUT:
		tdm__srp_chan_close(ch, "logged out by the initiator");
		return;
	case TDM_SRP_CRED_RSP:
	case TDM_SRP_AER_RSP:
		/* we never send SRP_CRED_REQ or SRP_AER_REQ */
		repost(ch, rx);
		t_logout(ch, TDM_SRP_TLO_UNEXPECTED_RSP, tag,
			 "a response to no request");
		return;
	default:
		repost(ch, rx);
		t_logout(ch, TDM_SRP_TLO_BAD_IU_TYPE, tag,
			 "unknown information unit type");
		return;
	}
}
