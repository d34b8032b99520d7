/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cmd.c - the command gate and a command's life.
 *
 * Gate order (DESIGN.md): LUN -> opcode -> unit attention -> ALUA ->
 * reservations -> CONTROL byte -> no medium -> write protect -> parse ->
 * data-out -> execute. Every command that resolved to an LU sits on lu->cmds
 * from submit to release so that task management can find it in any state.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "scsi/scsi_int.h"
#include "lib/log.h"

static const char *const state_names[TDM__CMD_STATE_COUNT] = {
	[TDM_CMD_NEW] = "new",	   [TDM_CMD_WRITE_PENDING] = "write-pending",
	[TDM_CMD_EXEC] = "exec",   [TDM_CMD_DONE] = "done",
	[TDM_CMD_FREED] = "freed",
};

const char *tdm__cmd_state_name(enum tdm_cmd_state s)
{
	return s < TDM__CMD_STATE_COUNT ? state_names[s] : "?";
}

bool tdm_cmd_aborted(const struct tdm_cmd *cmd)
{
	return atomic_load(&((struct tdm_cmd *)cmd)->aflags) &
	       TDM__CMD_F_ABORTED;
}

int tdm__cdb_err(struct tdm_cmd *cmd, uint16_t byte, int8_t bit)
{
	struct tdm_sense_info info = {.sks_valid = true,
				      .sks_cd = true,
				      .sks_bit = bit,
				      .sks_field = byte};

	tdm_cmd_set_sense(cmd, TDM_SR_INVALID_FIELD_IN_CDB, &info);
	/* sense already built: tell the completion path to keep it */
	cmd->sense_set = true;
	return TDM_SR_INVALID_FIELD_IN_CDB;
}

int tdm__param_err(struct tdm_cmd *cmd, uint16_t byte, int8_t bit)
{
	struct tdm_sense_info info = {.sks_valid = true,
				      .sks_cd = false,
				      .sks_bit = bit,
				      .sks_field = byte};

	tdm_cmd_set_sense(cmd, TDM_SR_INVALID_FIELD_IN_PARAM_LIST, &info);
	cmd->sense_set = true;
	return TDM_SR_INVALID_FIELD_IN_PARAM_LIST;
}

int tdm__cmd_buf_reserve(struct tdm_cmd *cmd, uint32_t len)
{
	uint32_t cap;
	uint8_t *nb;

	if (cmd->buf && cmd->buf_cap >= len)
		return 0;
	nb = tdm_buf_alloc(len, &cap);
	if (!nb)
		return -ENOMEM;
	if (cmd->buf) {
		memcpy(nb, cmd->buf, cmd->buf_cap);
		tdm_buf_free(cmd->buf, cmd->buf_cap);
	}
	cmd->buf = nb;
	cmd->buf_cap = cap;
	return 0;
}

void tdm__cmd_put_data(struct tdm_cmd *cmd, const void *data, size_t len)
{
	if (len > cmd->alloc_len)
		len = cmd->alloc_len;
	if (len > cmd->buf_cap)
		len = cmd->buf_cap;
	if (len)
		memcpy(cmd->buf, data, len);
	cmd->data_len = (uint32_t)len;
}

/* Unlink from the LU's list (under its lock). */
static void lu_unlink(struct tdm_cmd *cmd)
{
	if (!cmd->lu)
		return;
	/* under the lock: a command queued after this one on another
	 * thread writes lu_link.next (ThreadSanitizer, test_caw) */
	tdm_mutex_lock(&cmd->lu->lock);
	if (!tdm_list_empty(&cmd->lu_link))
		tdm_list_del(&cmd->lu_link);
	tdm_mutex_unlock(&cmd->lu->lock);
}

/*
 * End of a command: build status/sense, account a TMF waiting for it,
 * and hand it to the transport.
 */
static void finish(struct tdm_cmd *cmd, int sr,
		   const struct tdm_sense_info *info)
{
	struct tdm_lu *lu = cmd->lu;
	struct tdm_tmf *tmf = NULL;
	unsigned fl;

	if (sr == TDM__SR_ASYNC || sr < 0 || sr >= TDM__SR_COUNT)
		sr = TDM_SR_HW_ERROR;
	if (lu) {
		tdm_mutex_lock(&lu->lock);
		cmd->state = TDM_CMD_DONE;
		tmf = cmd->tmf;
		cmd->tmf = NULL;
		tdm_mutex_unlock(&lu->lock);
		/* scsi/caw.c: a range lock may wait for this command */
		if (atomic_load(&lu->rl_active))
			tdm__range_cmd_done(cmd);
	} else {
		cmd->state = TDM_CMD_DONE;
	}
	fl = atomic_load(&cmd->aflags);
	if (fl & TDM__CMD_F_ABORTED) {
		if (lu)
			atomic_fetch_add(&lu->st_aborts, 1);
		if (fl & TDM__CMD_F_TAS) {
			/* reported, not silent: the transport sends it */
			atomic_fetch_and(&cmd->aflags, ~TDM__CMD_F_ABORTED);
			cmd->status = TDM_STATUS_TASK_ABORTED;
			cmd->sense_len = 0;
		}
		cmd->data_len = 0;
	} else if (sr != TDM_SR_OK) {
		if (!cmd->sense_set || info)
			tdm_cmd_set_sense(cmd, (enum tdm_sense_reason)sr, info);
		cmd->data_len = 0;
		if (lu && tdm_sense_table[sr].key >= 0x3 &&
		    tdm_sense_table[sr].key <= 0x4)
			atomic_fetch_add(&lu->st_errors, 1);
	} else {
		cmd->status = TDM_STATUS_GOOD;
		cmd->sense_len = 0;
	}
	/* the metrics (scsi/io_stats.c): a silent abort still ends here */
	tdm__iostats_done(
		cmd, (atomic_load(&cmd->aflags) & TDM__CMD_F_ABORTED) != 0);
	tdm_lock_assert_none("ops->queue_status");
	cmd->nexus->ops->queue_status(cmd);
	if (tmf)
		tdm__tmf_cmd_done(tmf);
}

void tdm__cmd_done_info(struct tdm_cmd *cmd, int sr,
			const struct tdm_sense_info *info)
{
	finish(cmd, sr, info);
}

void tdm__cmd_done(struct tdm_cmd *cmd, int sr)
{
	finish(cmd, sr, NULL);
}

void tdm_cmd_fail(struct tdm_cmd *cmd, enum tdm_sense_reason sr)
{
	finish(cmd, sr, NULL);
}

static void count_stats(struct tdm_cmd *cmd)
{
	struct tdm_lu *lu = cmd->lu;

	if (!(cmd->op->flags & TDM_OP_MEDIA) || !cmd->nblocks) {
		atomic_fetch_add_explicit(&lu->st_other_cmds, 1,
					  memory_order_relaxed);
	} else if (cmd->dir == TDM_DIR_WRITE) {
		atomic_fetch_add_explicit(&lu->st_write_cmds, 1,
					  memory_order_relaxed);
		atomic_fetch_add_explicit(&lu->st_write_bytes, cmd->data_len,
					  memory_order_relaxed);
	} else {
		atomic_fetch_add_explicit(&lu->st_read_cmds, 1,
					  memory_order_relaxed);
		atomic_fetch_add_explicit(&lu->st_read_bytes,
					  (uint64_t)cmd->nblocks
						  << cmd->lu->block_shift,
					  memory_order_relaxed);
	}
}

int tdm_cmd_shorten_write(struct tdm_cmd *cmd, uint32_t len)
{
	struct tdm_lu *lu = cmd->lu;

	if (!lu || !cmd->op ||
	    (cmd->op->exec != tdm__sbc_write &&
	     cmd->op->exec != tdm__sbc_write_verify))
		return -EINVAL;
	if (len >= cmd->data_len || (len & (lu->block_size - 1)))
		return -EINVAL;
	cmd->nblocks = len >> lu->block_shift;
	cmd->data_len = len;
	return 0;
}

void tdm_cmd_execute(struct tdm_cmd *cmd)
{
	int sr;

	if (cmd->lu) {
		tdm_mutex_lock(&cmd->lu->lock);
		cmd->state = TDM_CMD_EXEC;
		tdm_mutex_unlock(&cmd->lu->lock);
		count_stats(cmd);
	} else {
		cmd->state = TDM_CMD_EXEC;
	}
	if (tdm_cmd_aborted(cmd)) {
		finish(cmd, TDM_SR_TASK_ABORTED, NULL);
		return;
	}
	/* scsi/caw.c: wait while a range lock covers the command's blocks */
	if (cmd->lu && atomic_load(&cmd->lu->rl_active) && tdm__range_park(cmd))
		return;
	sr = cmd->op->exec ? cmd->op->exec(cmd) : TDM_SR_OK;
	if (sr != TDM__SR_ASYNC)
		finish(cmd, sr, NULL);
}

/* The gate up to parse; returns a reason to end the command with. */
static int gate(struct tdm_cmd *cmd)
{
	struct tdm_nexus *nx = cmd->nexus;
	bool ro = false, bad_sa = false;
	uint64_t lun;
	uint8_t control;
	uint32_t need;
	int sr;

	if (!cmd->cdb_len || cmd->cdb_len > TDM_CDB_MAX)
		return TDM_SR_INVALID_OPCODE;
	if (tdm__lun_decode(cmd->lun, &lun) == 0)
		cmd->lu = tdm__lun_lookup(nx, lun, &ro);
	if (ro)
		cmd->lun_flags |= TDM_LUNF_READ_ONLY;
	if (cmd->lu) {
		tdm_mutex_lock(&cmd->lu->lock);
		tdm_list_add_tail(&cmd->lu->cmds, &cmd->lu_link);
		tdm_mutex_unlock(&cmd->lu->lock);
		tdm__iostats_lu_resolved(cmd);
	}

	cmd->op = tdm__op_lookup(cmd, &bad_sa);
	if (!cmd->lu && !(cmd->op && (cmd->op->flags & TDM_OP_NO_LUN)))
		return TDM_SR_LUN_NOT_SUPPORTED;
	if (!cmd->op) {
		if (bad_sa)
			return tdm__cdb_err(cmd, 1, 4);
		return TDM_SR_INVALID_OPCODE;
	}
	/* SAM-5 5.14: report a pending unit attention */
	if (cmd->lu && !(cmd->op->flags & TDM_OP_UA_EXEMPT) &&
	    atomic_load_explicit(&nx->nua, memory_order_acquire)) {
		sr = tdm__ua_take(nx, cmd->lu, false);
		if (sr != TDM_SR_OK)
			return sr;
	}
	/* SPC-4 5.15.2.4: ALUA access state of the port (scsi/alua_scsi.c) */
	sr = tdm__alua_check(cmd);
	if (sr)
		return sr;
	if (cmd->lu && tdm__spc2_conflict(cmd))
		return TDM_SR_RESERVATION_CONFLICT;
	if (cmd->lu && tdm__pr_conflict(cmd)) /* scsi/pr_scsi.c */
		return TDM_SR_RESERVATION_CONFLICT;

	/* SAM-5 5.2: CONTROL byte; NACA and the obsolete LINK unsupported */
	control = cmd->cdb[cmd->op->cdb_len ? cmd->op->cdb_len - 1
					    : cmd->cdb_len - 1];
	if (control & 0x04)
		return tdm__cdb_err(cmd, (uint16_t)(cmd->op->cdb_len - 1), 2);
	if (control & 0x01)
		return tdm__cdb_err(cmd, (uint16_t)(cmd->op->cdb_len - 1), 0);

	/* SBC-4 4.x: a write-protected medium refuses every command that
	 * would modify it, whatever its other fields (libiscsi ReadOnly:
	 * WRITE SAME with UNMAP gets DATA PROTECT, not a CDB error) */
	if (cmd->lu && (cmd->op->flags & TDM_OP_MEDIA)) {
		sr = tdm__lu_medium_check(cmd->lu); /* NOT READY first */
		if (sr != TDM_SR_OK)
			return sr;
	}
	if (cmd->lu && (cmd->op->flags & TDM_OP_WRITE) &&
	    (cmd->lu->read_only || (cmd->lun_flags & TDM_LUNF_READ_ONLY) ||
	     cmd->lu->mode.swp))
		return TDM_SR_WRITE_PROTECTED;

	cmd->dir = TDM_DIR_NONE;
	cmd->data_len = 0;
	cmd->alloc_len = 0;
	if (cmd->op->parse) {
		sr = cmd->op->parse(cmd);
		if (sr != TDM_SR_OK)
			return sr;
	}
	if (cmd->lu && (cmd->op->flags & TDM_OP_MEDIA) && cmd->lu->stopped)
		return TDM_SR_NOT_READY_INIT_REQUIRED;

	need = cmd->data_len > cmd->alloc_len ? cmd->data_len : cmd->alloc_len;
	if (need) {
		if (tdm__cmd_buf_reserve(cmd, need) < 0)
			return TDM_SR_BUSY;
		if (cmd->alloc_len)
			memset(cmd->buf, 0, cmd->alloc_len);
	}
	return TDM_SR_OK;
}

void tdm_cmd_submit(struct tdm_cmd *cmd)
{
	struct tdm_nexus *nx = cmd->nexus;
	int sr;

	atomic_fetch_add(&nx->ncmds, 1);
	cmd->state = TDM_CMD_NEW;
	cmd->lu = NULL;
	cmd->op = NULL;
	cmd->flags = 0;
	cmd->lun_flags = 0;
	cmd->tmf = NULL;
	cmd->exec_done = NULL;
	cmd->buf = NULL;
	cmd->buf_cap = 0;
	cmd->buf2 = NULL;
	cmd->buf2_cap = 0;
	cmd->sense_len = 0;
	cmd->sense_set = false;
	cmd->status = TDM_STATUS_GOOD;
	/* what the metrics count a command as (scsi/io_stats.c) must not
	 * come from the command this struct carried before */
	cmd->dir = TDM_DIR_NONE;
	cmd->nblocks = 0;
	tdm_list_init(&cmd->lu_link);
	atomic_init(&cmd->aflags, 0);
	tdm__iostats_submit(cmd); /* scsi/io_stats.c */

	sr = gate(cmd);
	if (sr != TDM_SR_OK) {
		finish(cmd, sr, NULL);
		return;
	}
	if (cmd->dir == TDM_DIR_WRITE && cmd->data_len) {
		if (cmd->lu) {
			tdm_mutex_lock(&cmd->lu->lock);
			cmd->state = TDM_CMD_WRITE_PENDING;
			tdm_mutex_unlock(&cmd->lu->lock);
		} else {
			cmd->state = TDM_CMD_WRITE_PENDING;
		}
		tdm_lock_assert_none("ops->write_pending");
		nx->ops->write_pending(cmd);
		return;
	}
	tdm_cmd_execute(cmd);
}

void tdm_cmd_release(struct tdm_cmd *cmd)
{
	struct tdm_nexus *nx = cmd->nexus;
	struct tdm_lu *lu = cmd->lu;

	lu_unlink(cmd);
	tdm_buf_free(cmd->buf, cmd->buf_cap);
	tdm_buf_free(cmd->buf2, cmd->buf2_cap);
	cmd->buf = cmd->buf2 = NULL;
	cmd->state = TDM_CMD_FREED;
	cmd->lu = NULL;
	if (lu)
		tdm__lu_put(lu);
	nx->ops->free_cmd(cmd);
	tdm__nexus_cmd_released(nx);
}

/* ---- backstore requests ---- */

static void bs_done(struct tdm_bs_io *io, enum tdm_bs_status st)
{
	struct tdm_cmd *cmd = io->arg;
	int sr = tdm__bs_status_to_sr(st, io->op != TDM_BS_READ);

	if (cmd->exec_done) {
		void (*fn)(struct tdm_cmd *, int) = cmd->exec_done;

		cmd->exec_done = NULL;
		fn(cmd, sr);
		return;
	}
	if (sr != TDM_SR_OK && st != TDM_BS_DETACHED &&
	    tdm_log_enabled(TDM_LOG_WARN))
		log_warnx_rl("%s: backstore %s error at offset %llu",
			     cmd->lu->name,
			     io->op == TDM_BS_READ ? "read" : "write",
			     (unsigned long long)io->offset);
	finish(cmd, sr, NULL);
}

void tdm__bs_io(struct tdm_cmd *cmd, struct tdm_bs_io *io)
{
	io->done = bs_done;
	io->arg = cmd;
	io->done_bytes = 0;
	tdm__bk_submit(cmd->lu, io); /* scsi/backing.c */
}
