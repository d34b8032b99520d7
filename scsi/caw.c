/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * caw.c - LBA range locks, and the block commands that read-modify-write
 * or must not be torn: COMPARE AND WRITE (SBC-4 5.3), ORWRITE(16) and
 * WRITE ATOMIC(16) (SBC-4).
 *
 * Range locks. A lock owner (one of the commands above, or an EXTENDED
 * COPY writing a chunk, see xcopy.c) queues a struct tdm__range on its LU.
 * It is granted once (a) no range queued before it overlaps it, and (b) no
 * medium access command that overlaps it is in flight (in TDM_CMD_EXEC
 * and not waiting here itself). While a lock is queued, the gate parks
 * every medium access command that overlaps a queued lock (reads too, so
 * that nobody sees a half-written COMPARE AND WRITE or atomic write) and
 * resumes it, in arrival order, when the locks ahead of it are released.
 * Granting order is arrival order: a parked command is not overtaken by a
 * lock that came after it, and a lock is not overtaken by commands that
 * come after it.
 *
 * Cost when no lock is queued on an LU: one atomic load of lu->rl_active
 * in tdm_cmd_execute() and one when a command finishes. Everything else
 * happens under lu->lock and only while lu->rl_active is not zero.
 *
 * Deadlock freedom: an owner holds at most one range at a time and does
 * no more than its own backstore I/O while holding it; commands in flight
 * never wait for a range; a parked command waits only for locks queued
 * before it, a lock only for entries queued before it and for commands in
 * flight, which end by themselves.
 *
 * What "atomic" means here: with respect to every other command of this
 * head (any session, any loop), a COMPARE AND WRITE, ORWRITE or WRITE
 * ATOMIC is one indivisible operation. The write itself is one backstore
 * request; whether a power failure can tear it depends on the backing
 * store (a file or block device gives no such promise), and the lock is
 * not shared with other heads of a cluster. Where the store compares and
 * writes itself (bs->atomic_caw: rbd, whose OSD executes it), COMPARE AND
 * WRITE is one backstore request, atomic against the writes of every
 * head; ORWRITE and WRITE ATOMIC stay atomic on one head only.
 */
#include <stdlib.h>
#include <string.h>

#include "scsi/scsi_int.h"
#include "lib/log.h"

/* SBC-4 6.6.4 block limits VPD: MAXIMUM COMPARE AND WRITE LENGTH (one
 * byte; NUMBER OF LOGICAL BLOCKS in the CDB is one byte as well). */
#define CAW_MAX_BLOCKS 255

/* The longest COMPARE AND WRITE of lu: where the store executes it
 * (atomic_caw), what the store can do in one request (librbd: one
 * 512-byte sector; none with 4096-byte blocks) */
static unsigned caw_max_blocks(const struct tdm_lu *lu)
{
	unsigned n;

	if (!lu->bs.atomic_caw)
		return CAW_MAX_BLOCKS;
	n = lu->bs.caw_max_len >> lu->block_shift;
	return n < CAW_MAX_BLOCKS ? n : CAW_MAX_BLOCKS;
}

enum { RL_LOCK = 0, RL_PARK };
enum { RL_WAITING = 0, RL_DRAINING, RL_GRANTED };

/* ---- range locks ---- */

static bool overlap(uint64_t a, uint64_t ae, uint64_t b, uint64_t be)
{
	return a < be && b < ae;
}

static bool is_lock_op(const struct tdm_opdesc *op);

/* The blocks a medium access command touches; false if none. */
static bool cmd_range(const struct tdm_cmd *cmd, uint64_t *lba, uint64_t *end)
{
	/* UNMAP's ranges are in its parameter list: it counts as covering
	 * the whole LU, so that no COMPARE AND WRITE runs beside it */
	if (cmd->op && cmd->op->exec == tdm__thin_unmap && cmd->lu) {
		*lba = 0;
		*end = cmd->lu->nblocks;
		return true;
	}
	if (!cmd->op || !(cmd->op->flags & TDM_OP_MEDIA) || !cmd->nblocks)
		return false;
	*lba = cmd->lba;
	*end = cmd->lba + cmd->nblocks;
	return true;
}

/* Is c queued here (parked, or the owner of a lock)? Under lu->lock. */
static bool queued(struct tdm_lu *lu, const struct tdm_cmd *c)
{
	struct tdm_list *pos;

	tdm_list_for_each (pos, &lu->rl_queue) {
		const struct tdm__range *e =
			tdm_list_entry(pos, struct tdm__range, link);

		if (e->cmd == c)
			return true;
	}
	return false;
}

/* Is a command that overlaps r in flight? Under lu->lock. */
static bool must_drain(struct tdm_lu *lu, const struct tdm__range *r)
{
	struct tdm_list *pos;
	uint64_t a, b;

	tdm_list_for_each (pos, &lu->cmds) {
		const struct tdm_cmd *c =
			tdm_list_entry(pos, struct tdm_cmd, lu_link);

		if (c == r->cmd || c->state != TDM_CMD_EXEC)
			continue;
		if (!cmd_range(c, &a, &b) || !overlap(a, b, r->lba, r->end))
			continue;
		if (!queued(lu, c))
			return true;
	}
	return false;
}

static void grant_cb(void *arg)
{
	struct tdm__range *r = arg;

	r->granted(r);
}

/* A parked command may go on: run its handler (no second park check,
 * locks queued after it wait for it). */
static void resume_cb(void *arg)
{
	struct tdm_cmd *cmd = arg;
	int sr;

	if (tdm_cmd_aborted(cmd)) {
		tdm__cmd_done(cmd, TDM_SR_TASK_ABORTED);
		return;
	}
	sr = cmd->op->exec ? cmd->op->exec(cmd) : TDM_SR_OK;
	if (sr != TDM__SR_ASYNC)
		tdm__cmd_done(cmd, sr);
}

/*
 * Walk the queue in arrival order: resume parked commands that no earlier
 * lock overlaps, grant locks that no earlier entry overlaps and that have
 * no overlapping command in flight. Under lu->lock.
 */
static void evaluate(struct tdm_lu *lu)
{
	struct tdm_list *pos, *tmp, *p2;

	tdm_list_for_each_safe (pos, tmp, &lu->rl_queue) {
		struct tdm__range *e =
			tdm_list_entry(pos, struct tdm__range, link);
		bool blocked = false;

		if (e->kind == RL_LOCK && e->state == RL_GRANTED)
			continue;
		for (p2 = lu->rl_queue.next; p2 != pos; p2 = p2->next) {
			const struct tdm__range *q =
				tdm_list_entry(p2, struct tdm__range, link);

			/* parked commands do not exclude each other */
			if (e->kind == RL_PARK && q->kind == RL_PARK)
				continue;
			if (overlap(q->lba, q->end, e->lba, e->end)) {
				blocked = true;
				break;
			}
		}
		if (e->kind == RL_PARK) {
			if (!blocked) {
				tdm_list_del(&e->link);
				tdm_loop_post(e->cmd->nexus->loop, resume_cb,
					      e->cmd);
				free(e);
			}
			continue;
		}
		if (blocked) {
			e->state = RL_WAITING;
		} else if (must_drain(lu, e)) {
			e->state = RL_DRAINING;
		} else {
			e->state = RL_GRANTED;
			if (e->async)
				tdm_loop_post(e->loop, grant_cb, e);
		}
	}
}

void tdm__range_init(struct tdm__range *r, struct tdm_lu *lu, uint64_t lba,
		     uint64_t nblocks, struct tdm_cmd *owner,
		     void (*granted)(struct tdm__range *r),
		     struct tdm_loop *loop)
{
	memset(r, 0, sizeof(*r));
	tdm_list_init(&r->link);
	r->lu = lu;
	r->lba = lba;
	r->end = lba + nblocks;
	r->cmd = owner;
	r->granted = granted;
	r->loop = loop;
	r->kind = RL_LOCK;
}

bool tdm__range_lock(struct tdm__range *r)
{
	struct tdm_lu *lu = r->lu;
	bool granted;

	r->state = RL_WAITING;
	r->async = false;
	tdm_mutex_lock(&lu->lock);
	tdm_list_add_tail(&lu->rl_queue, &r->link);
	atomic_fetch_add(&lu->rl_active, 1);
	evaluate(lu);
	granted = r->state == RL_GRANTED;
	if (!granted)
		r->async = true; /* evaluate() posts r->granted later */
	tdm_mutex_unlock(&lu->lock);
	return granted;
}

void tdm__range_unlock(struct tdm__range *r)
{
	struct tdm_lu *lu = r->lu;

	tdm_mutex_lock(&lu->lock);
	tdm_list_del(&r->link);
	atomic_fetch_sub(&lu->rl_active, 1);
	evaluate(lu);
	tdm_mutex_unlock(&lu->lock);
}

bool tdm__range_park(struct tdm_cmd *cmd)
{
	struct tdm_lu *lu = cmd->lu;
	struct tdm__range *e;
	struct tdm_list *pos;
	uint64_t a, b;
	bool conflict = false;

	if (!cmd_range(cmd, &a, &b) || is_lock_op(cmd->op))
		return false;
	tdm_mutex_lock(&lu->lock);
	tdm_list_for_each (pos, &lu->rl_queue) {
		const struct tdm__range *q =
			tdm_list_entry(pos, struct tdm__range, link);

		if (q->kind == RL_LOCK && overlap(q->lba, q->end, a, b)) {
			conflict = true;
			break;
		}
	}
	if (!conflict) {
		tdm_mutex_unlock(&lu->lock);
		return false;
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		tdm_mutex_unlock(&lu->lock);
		tdm__cmd_done(cmd, TDM_SR_BUSY);
		return true;
	}
	e->kind = RL_PARK;
	e->lu = lu;
	e->lba = a;
	e->end = b;
	e->cmd = cmd;
	tdm_list_add_tail(&lu->rl_queue, &e->link);
	/* cmd no longer counts as in flight: locks may be granted */
	evaluate(lu);
	tdm_mutex_unlock(&lu->lock);
	return true;
}

void tdm__range_cmd_done(struct tdm_cmd *cmd)
{
	struct tdm_lu *lu = cmd->lu;

	tdm_mutex_lock(&lu->lock);
	evaluate(lu);
	tdm_mutex_unlock(&lu->lock);
}

/* ---- shared helpers ---- */

/* Does the write need to reach stable storage before completing? */
static bool write_fua(const struct tdm_cmd *cmd)
{
	return tdm__write_stable(cmd->lu, cmd->flags & TDM_CF_FUA);
}

/* The write commands' range (the medium first), data and direction. */
static int write_range(struct tdm_cmd *cmd, uint64_t lba, uint32_t n)
{
	int sr = tdm__sbc_check_range(cmd, lba, n);

	if (sr != TDM_SR_OK)
		return sr;
	cmd->lba = lba;
	cmd->nblocks = n;
	cmd->data_len = n << cmd->lu->block_shift;
	cmd->dir = n ? TDM_DIR_WRITE : TDM_DIR_NONE;
	return TDM_SR_OK;
}

/* Byte 1 of the three CDBs: xxPROTECT (7:5) must be 0 (no protection
 * information), DPO (4) and FUA (3) are used, bits 2:0 are reserved
 * (SBC-3's FUA_NV is obsolete in SBC-4). */
static int check_byte1(struct tdm_cmd *cmd)
{
	uint8_t b = cmd->cdb[1];

	if (b & 0xE0)
		return tdm__cdb_err(cmd, 1, 7);
	if (b & 0x04)
		return tdm__cdb_err(cmd, 1, 2);
	if (b & 0x03)
		return tdm__cdb_err(cmd, 1, (b & 0x02) ? 1 : 0);
	cmd->flags = 0;
	if (b & 0x10)
		cmd->flags |= TDM_CF_DPO;
	if (b & 0x08)
		cmd->flags |= TDM_CF_FUA;
	return TDM_SR_OK;
}

/* Bytes that must be zero: reserved, GROUP NUMBER (not supported). */
static int check_zero(struct tdm_cmd *cmd, unsigned from, unsigned to)
{
	unsigned i;

	for (i = from; i <= to; i++)
		if (cmd->cdb[i])
			return tdm__cdb_err(cmd, (uint16_t)i, 7);
	return TDM_SR_OK;
}

/* One in-progress lock-holding command. */
struct rmw {
	struct tdm__range r;
	struct tdm_cmd *cmd;
	void (*run)(struct rmw *w); /* when the range is granted */
};

static void rmw_end(struct rmw *w, int sr, const struct tdm_sense_info *info)
{
	struct tdm_cmd *cmd = w->cmd;

	tdm__range_unlock(&w->r);
	free(w);
	cmd->priv = NULL;
	if (info)
		tdm__cmd_done_info(cmd, sr, info);
	else
		tdm__cmd_done(cmd, sr);
}

static void rmw_granted(struct tdm__range *r)
{
	struct rmw *w = container_of(r, struct rmw, r);

	if (tdm_cmd_aborted(w->cmd)) {
		rmw_end(w, TDM_SR_TASK_ABORTED, NULL);
		return;
	}
	w->run(w);
}

/* Lock the command's blocks, then run(w). */
static int rmw_start(struct tdm_cmd *cmd, void (*run)(struct rmw *w))
{
	struct rmw *w = calloc(1, sizeof(*w));

	if (!w)
		return TDM_SR_ABORTED_NO_RESOURCES;
	w->cmd = cmd;
	w->run = run;
	cmd->priv = w;
	tdm__range_init(&w->r, cmd->lu, cmd->lba, cmd->nblocks, cmd,
			rmw_granted, cmd->nexus->loop);
	if (tdm__range_lock(&w->r))
		rmw_granted(&w->r);
	return TDM__SR_ASYNC;
}

static void bs_rw(struct tdm_cmd *cmd, uint8_t op, void *buf, bool fua,
		  void (*done)(struct tdm_cmd *cmd, int sr))
{
	cmd->exec_done = done;
	tdm__sbc_rw(cmd, op, buf, fua);
}

/* Read the command's blocks into buf2, then done(). */
static void read_to_buf2(struct rmw *w, void (*done)(struct tdm_cmd *, int))
{
	struct tdm_cmd *cmd = w->cmd;
	uint32_t len = cmd->nblocks << cmd->lu->block_shift;

	if (!cmd->buf2) {
		cmd->buf2 = tdm_buf_alloc(len, &cmd->buf2_cap);
		if (!cmd->buf2) {
			cmd->buf2_cap = 0;
			rmw_end(w, TDM_SR_ABORTED_NO_RESOURCES, NULL);
			return;
		}
	}
	bs_rw(cmd, TDM_BS_READ, cmd->buf2, false, done);
}

static void rmw_written(struct tdm_cmd *cmd, int sr)
{
	rmw_end(cmd->priv, sr, NULL);
}

/* ---- COMPARE AND WRITE ---- */

int tdm__caw_parse(struct tdm_cmd *cmd)
{
	const uint8_t *cdb = cmd->cdb;
	unsigned n = cdb[13];
	uint64_t lba = tdm_get_be64(cdb + 2);
	int sr;

	/* SBC-4 5.3: COMPARE AND WRITE CDB */
	sr = check_byte1(cmd);
	if (sr == TDM_SR_OK)
		sr = check_zero(cmd, 10, 12);
	if (sr == TDM_SR_OK)
		sr = check_zero(cmd, 14, 14);
	if (sr != TDM_SR_OK)
		return sr;
	if (n > caw_max_blocks(cmd->lu))
		return tdm__cdb_err(cmd, 13, 7);
	sr = tdm__sbc_check_range(cmd, lba, n);
	if (sr != TDM_SR_OK)
		return sr;
	cmd->lba = lba;
	cmd->nblocks = n;
	/* the Data-Out Buffer holds the verify data, then the write data:
	 * 2 x NUMBER OF LOGICAL BLOCKS blocks, and the initiator must send
	 * exactly that (libiscsi CompareAndWrite.InvalidDataOutSize) */
	cmd->data_len = (uint32_t)(2u * n) << cmd->lu->block_shift;
	cmd->dir = n ? TDM_DIR_WRITE : TDM_DIR_NONE;
	if (cmd->exp_len != cmd->data_len)
		return tdm__cdb_err(cmd, 13, 7);
	return TDM_SR_OK;
}

static void caw_read(struct tdm_cmd *cmd, int sr)
{
	struct rmw *w = cmd->priv;
	size_t len = (size_t)cmd->nblocks << cmd->lu->block_shift;
	size_t off;

	if (sr != TDM_SR_OK) {
		rmw_end(w, sr, NULL);
		return;
	}
	off = tdm__first_diff(cmd->buf, cmd->buf2, len);
	if (off < len) {
		/* SBC-4 5.3: MISCOMPARE DURING VERIFY OPERATION, INFORMATION
		 * = offset of the first differing byte in the verify data */
		struct tdm_sense_info info = {
			.info_valid = true, .info = off, .sks_bit = -1};

		rmw_end(w, TDM_SR_MISCOMPARE_VERIFY, &info);
		return;
	}
	bs_rw(cmd, TDM_BS_WRITE, cmd->buf + len, write_fua(cmd), rmw_written);
}

/* The store compared and wrote as one operation (bs->atomic_caw). */
static void caw_atomic_done(struct tdm_cmd *cmd, int sr)
{
	struct rmw *w = cmd->priv;

	if (sr == TDM_SR_MISCOMPARE_VERIFY) {
		struct tdm_sense_info info = {.info_valid = true,
					      .info = cmd->bsio.miscompare,
					      .sks_bit = -1};

		rmw_end(w, sr, &info);
		return;
	}
	rmw_end(w, sr, NULL);
}

static void caw_run(struct rmw *w)
{
	struct tdm_cmd *cmd = w->cmd;

	/* rbd: the OSD compares and writes, atomic against the writes of
	 * every head; the range lock still orders this head's commands */
	if (cmd->lu->bs.atomic_caw) {
		bs_rw(cmd, TDM_BS_COMPARE_AND_WRITE, cmd->buf, write_fua(cmd),
		      caw_atomic_done);
		return;
	}
	read_to_buf2(w, caw_read);
}

int tdm__caw(struct tdm_cmd *cmd)
{
	/* SBC-4 5.3: zero blocks is not an error, nothing is compared */
	if (!cmd->nblocks)
		return TDM_SR_OK;
	return rmw_start(cmd, caw_run);
}

/* ---- ORWRITE(16) ---- */

int tdm__orwrite_parse(struct tdm_cmd *cmd)
{
	const uint8_t *cdb = cmd->cdb;
	uint64_t lba = tdm_get_be64(cdb + 2);
	uint32_t n = tdm_get_be32(cdb + 10);
	int sr;

	/* SBC-4 ORWRITE(16) CDB: ORPROTECT, DPO, FUA; byte 14 reserved and
	 * GROUP NUMBER */
	sr = check_byte1(cmd);
	if (sr == TDM_SR_OK)
		sr = check_zero(cmd, 14, 14);
	if (sr != TDM_SR_OK)
		return sr;
	if (n > tdm__lu_max_xfer_blocks(cmd->lu))
		return tdm__cdb_err(cmd, 10, 7);
	return write_range(cmd, lba, n);
}

static void orwrite_read(struct tdm_cmd *cmd, int sr)
{
	size_t len = (size_t)cmd->nblocks << cmd->lu->block_shift, i;
	uint64_t *d = (uint64_t *)(void *)cmd->buf2;
	const uint64_t *s = (const uint64_t *)(const void *)cmd->buf;

	if (sr != TDM_SR_OK) {
		rmw_end(cmd->priv, sr, NULL);
		return;
	}
	/* SBC-4 ORWRITE: the data-out OR'ed into the blocks (both buffers
	 * are 4096-aligned, len a multiple of 512) */
	for (i = 0; i < len / 8; i++)
		d[i] |= s[i];
	bs_rw(cmd, TDM_BS_WRITE, cmd->buf2, write_fua(cmd), rmw_written);
}

static void orwrite_run(struct rmw *w)
{
	read_to_buf2(w, orwrite_read);
}

int tdm__orwrite(struct tdm_cmd *cmd)
{
	if (!cmd->nblocks)
		return TDM_SR_OK;
	return rmw_start(cmd, orwrite_run);
}

/* ---- WRITE ATOMIC(16) ---- */

/* SBC-4 6.6.4: MAXIMUM ATOMIC TRANSFER LENGTH, in blocks: what one
 * backstore request carries (the maximum transfer length). */
static uint32_t max_atomic_blocks(const struct tdm_lu *lu)
{
	return tdm__lu_max_xfer_blocks(lu);
}

int tdm__write_atomic_parse(struct tdm_cmd *cmd)
{
	const uint8_t *cdb = cmd->cdb;
	uint64_t lba = tdm_get_be64(cdb + 2);
	uint32_t n = tdm_get_be16(cdb + 12);
	int sr;

	/* SBC-4 WRITE ATOMIC(16) CDB: WRPROTECT, DPO, FUA; ATOMIC BOUNDARY
	 * (bytes 10-11) must be 0: MAXIMUM ATOMIC BOUNDARY SIZE is 0;
	 * byte 14 reserved and GROUP NUMBER */
	sr = check_byte1(cmd);
	if (sr == TDM_SR_OK)
		sr = check_zero(cmd, 10, 11);
	if (sr == TDM_SR_OK)
		sr = check_zero(cmd, 14, 14);
	if (sr != TDM_SR_OK)
		return sr;
	/* SBC-4 WRITE ATOMIC: longer than MAXIMUM ATOMIC TRANSFER LENGTH;
	 * ATOMIC ALIGNMENT and ATOMIC TRANSFER LENGTH GRANULARITY are 0 (none)
	 */
	if (n > max_atomic_blocks(cmd->lu))
		return tdm__cdb_err(cmd, 12, 7);
	return write_range(cmd, lba, n);
}

static void atomic_run(struct rmw *w)
{
	struct tdm_cmd *cmd = w->cmd;

	bs_rw(cmd, TDM_BS_WRITE, cmd->buf, write_fua(cmd), rmw_written);
}

int tdm__write_atomic(struct tdm_cmd *cmd)
{
	if (!cmd->nblocks)
		return TDM_SR_OK;
	return rmw_start(cmd, atomic_run);
}

static bool is_lock_op(const struct tdm_opdesc *op)
{
	return op->exec == tdm__caw || op->exec == tdm__orwrite ||
	       op->exec == tdm__write_atomic;
}

/* ---- block limits VPD ---- */

void tdm__caw_vpd_b0(const struct tdm_lu *lu, uint8_t *p)
{
	/* SBC-4 6.6.4: block limits VPD page */
	/* MAXIMUM COMPARE AND WRITE LENGTH */
	p[5] = (uint8_t)caw_max_blocks(lu);
	tdm_put_be32(p + 44, max_atomic_blocks(lu));
	tdm_put_be32(p + 48, 0); /* ATOMIC ALIGNMENT: none */
	tdm_put_be32(p + 52, 0); /* ATOMIC TRANSFER LENGTH GRANULARITY */
	/* MAXIMUM ATOMIC TRANSFER LENGTH WITH ATOMIC BOUNDARY, MAXIMUM
	 * ATOMIC BOUNDARY SIZE: 0, no atomic boundaries */
	tdm_put_be32(p + 56, 0);
	tdm_put_be32(p + 60, 0);
}
