/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * uring_io.c - the I/O of the fd-based backstores (file.c, block.c)
 * through the io_uring of the calling loop.
 *
 * The request is embedded in the tdm_bs_io (io->ureq): nothing is
 * allocated per I/O and no syscall is made besides io_uring's batched
 * submit (the one exception: BLKDISCARD on kernels older than 6.12, see
 * discard_done()). Which step a request is in is told by the callback in
 * io->ureq.done. Short reads and writes continue from io->done_bytes;
 * -EAGAIN and -EINTR resubmit the same step. Every completion runs on the
 * submitting loop's thread (the loop reaps its own ring) and ends in
 * io->done(io, status) exactly once.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <liburing.h>
#include <linux/fs.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "backstores/bs_internal.h"
#include "tandem/backstore.h"
#include "lib/log.h"
#include "lib/loop.h"

/* Linux 6.12 include/uapi/linux/blkdev.h: io_uring discard of a bdev */
#ifndef BLOCK_URING_CMD_DISCARD
#define BLOCK_URING_CMD_DISCARD _IO(0x12, 0)
#endif

/* Linux rw is capped at MAX_RW_COUNT (2 GiB - 4 KiB); stay below it. */
#define MAX_RW_LEN (1u << 30)
/* WRITE_ZEROES fallback: written from here, in chunks of this size. */
#define ZERO_BUF_LEN (1u << 20)

/*
 * Never written: in .bss its pages stay the kernel's shared zero page and
 * cost no RAM (const would put 1 MiB of zeros into the binary's .rodata).
 */
static char zero_buf[ZERO_BUF_LEN] __attribute__((aligned(4096)));

/* Set once IORING_OP_URING_CMD discard turned out missing (< 6.12). */
static atomic_bool no_uring_discard;

static void rw_done(struct tdm_uring_req *req, int res);
static void rw_dsync_done(struct tdm_uring_req *req, int res);
static void sync_done(struct tdm_uring_req *req, int res);
static void zero_range_done(struct tdm_uring_req *req, int res);
static void punch_done(struct tdm_uring_req *req, int res);
static void stable_done(struct tdm_uring_req *req, int res);
static void zero_write_done(struct tdm_uring_req *req, int res);
static void discard_done(struct tdm_uring_req *req, int res);

static const char *const op_names[] = {
	[TDM_BS_READ] = "read",
	[TDM_BS_WRITE] = "write",
	[TDM_BS_FLUSH] = "flush",
	[TDM_BS_UNMAP] = "unmap",
	[TDM_BS_WRITE_ZEROES] = "write zeroes",
};

static struct tdm__bs_fdev *fdev_of(const struct tdm_bs_io *io)
{
	return io->bs->priv;
}

static enum tdm_bs_status status_of(const struct tdm_bs_io *io, int err)
{
	switch (err) {
	case ENOSPC:
	case EDQUOT:
		return TDM_BS_NO_SPACE;
	case ENOMEM:
		return TDM_BS_NO_MEMORY;
	case EOPNOTSUPP:
		if (io->op == TDM_BS_UNMAP || io->op == TDM_BS_WRITE_ZEROES)
			return TDM_BS_UNSUPPORTED;
		break;
	default:
		break;
	}
	/* EIO and the unexpected: a medium error of the direction */
	return io->op == TDM_BS_READ ? TDM_BS_READ_ERROR : TDM_BS_WRITE_ERROR;
}

static void fail(struct tdm_bs_io *io, int err)
{
	log_warnx_rl("%s: %s of %" PRIu64 " bytes at %" PRIu64 ": %s",
		     fdev_of(io)->name, op_names[io->op], io->len, io->offset,
		     strerror(err));
	io->done(io, status_of(io, err));
}

/*
 * An SQE of the current loop's ring for io's next step, or NULL after
 * completing io (ring full even after a submit: transient, the initiator
 * retries; or no loop: submit() called off a loop thread, a bug).
 */
static struct io_uring_sqe *sqe_for(struct tdm_bs_io *io)
{
	struct tdm_loop *l = tdm_loop_current();
	struct io_uring_sqe *sqe = l ? tdm_uring_sqe(l) : NULL;

	if (!sqe) {
		log_warnx_rl("%s: %s", fdev_of(io)->name,
			     l ? "io_uring full" : "I/O off a loop thread");
		io->done(io, l ? TDM_BS_NO_MEMORY : TDM_BS_UNSUPPORTED);
	}
	return sqe;
}

static void arm(struct io_uring_sqe *sqe, struct tdm_bs_io *io,
		void (*done)(struct tdm_uring_req *req, int res))
{
	io->ureq.done = done;
	tdm_uring_set_req(sqe, &io->ureq);
}

/* Read or write what is left of io, RWF_DSYNC if dsync. */
static void start_rw(struct tdm_bs_io *io, bool dsync)
{
	struct io_uring_sqe *sqe = sqe_for(io);
	uint64_t left = io->len - io->done_bytes;
	unsigned n = left > MAX_RW_LEN ? MAX_RW_LEN : (unsigned)left;
	char *p = (char *)io->buf + io->done_bytes;
	int fd = fdev_of(io)->fd;

	if (!sqe)
		return;
	if (io->op == TDM_BS_READ)
		io_uring_prep_read(sqe, fd, p, n, io->offset + io->done_bytes);
	else
		io_uring_prep_write(sqe, fd, p, n, io->offset + io->done_bytes);
	/*
	 * pwritev2(2) RWF_DSYNC: this write is O_DSYNC, i.e. data and the
	 * metadata to read it back are stable before it completes (a FUA
	 * write on an O_DIRECT block device, else a write + range sync).
	 */
	if (dsync)
		sqe->rw_flags = RWF_DSYNC;
	arm(sqe, io, dsync ? rw_dsync_done : rw_done);
}

static void rw_step(struct tdm_bs_io *io, int res, bool dsync)
{
	if (res == -EAGAIN || res == -EINTR) {
		start_rw(io, dsync);
		return;
	}
	if (res < 0) {
		fail(io, -res);
		return;
	}
	if (res == 0 && io->op == TDM_BS_WRITE) {
		fail(io, EIO); /* no progress: would loop forever */
		return;
	}
	io->done_bytes += (unsigned)res;
	/*
	 * A read ends early only at end of file (a file shorter than the
	 * LU: truncated behind our back, or sparse at its end). What lies
	 * beyond reads as zeros, like a hole. A short read that stops off a
	 * 512-byte boundary is at EOF too: continuing there would fail with
	 * EINVAL under O_DIRECT.
	 */
	if (io->op == TDM_BS_READ && io->done_bytes < io->len &&
	    (res == 0 || (io->offset + io->done_bytes) % 512)) {
		memset((char *)io->buf + io->done_bytes, 0,
		       io->len - io->done_bytes);
		io->done_bytes = io->len;
	}
	if (io->done_bytes < io->len)
		start_rw(io, dsync);
	else
		io->done(io, TDM_BS_OK);
}

static void rw_done(struct tdm_uring_req *req, int res)
{
	rw_step(container_of(req, struct tdm_bs_io, ureq), res, false);
}

static void rw_dsync_done(struct tdm_uring_req *req, int res)
{
	rw_step(container_of(req, struct tdm_bs_io, ureq), res, true);
}

static void start_flush(struct tdm_bs_io *io)
{
	struct io_uring_sqe *sqe = sqe_for(io);

	if (!sqe)
		return;
	/* fdatasync(2); on a block device it also flushes the disk cache */
	io_uring_prep_fsync(sqe, fdev_of(io)->fd, IORING_FSYNC_DATASYNC);
	arm(sqe, io, sync_done);
}

/* fallocate(2) of io's range; mode FALLOC_FL_* */
static void start_fallocate(struct tdm_bs_io *io, int mode,
			    void (*done)(struct tdm_uring_req *req, int res))
{
	struct io_uring_sqe *sqe = sqe_for(io);

	if (!sqe)
		return;
	io_uring_prep_fallocate(sqe, fdev_of(io)->fd, mode, (off_t)io->offset,
				(off_t)io->len);
	arm(sqe, io, done);
}

/* UNMAP of a file: deallocate; the hole reads back as zeros. */
static void start_punch(struct tdm_bs_io *io)
{
	start_fallocate(io, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			punch_done);
}

/* fdatasync after a fallocate of a write-through file */
static void start_stable(struct tdm_bs_io *io)
{
	struct io_uring_sqe *sqe = sqe_for(io);

	if (!sqe)
		return;
	io_uring_prep_fsync(sqe, fdev_of(io)->fd, IORING_FSYNC_DATASYNC);
	arm(sqe, io, stable_done);
}

/*
 * A fallocate (punch, zero range) succeeded. O_DSYNC makes writes stable,
 * not fallocate's extent changes: on a write-through file (WCE=0, no
 * SYNCHRONIZE CACHE expected from the initiator) make them stable before
 * the command completes.
 */
static void fallocated(struct tdm_bs_io *io)
{
	if (fdev_of(io)->cache == TDM__BS_WRITE_THROUGH && !fdev_of(io)->blkdev)
		start_stable(io);
	else
		io->done(io, TDM_BS_OK);
}

/*
 * WRITE_ZEROES: FALLOC_FL_ZERO_RANGE (files: unwritten extents; block
 * devices: blkdev_issue_zeroout, which the kernel itself falls back to
 * writing zeros for). KEEP_SIZE: never grow a short file.
 */
static void start_zero_range(struct tdm_bs_io *io)
{
	start_fallocate(io, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
			zero_range_done);
}

/* The WRITE_ZEROES fallback: plain writes of zero_buf. */
static void start_zero_write(struct tdm_bs_io *io)
{
	struct io_uring_sqe *sqe = sqe_for(io);
	uint64_t left = io->len - io->done_bytes;
	unsigned n = left > ZERO_BUF_LEN ? ZERO_BUF_LEN : (unsigned)left;

	if (!sqe)
		return;
	io_uring_prep_write(sqe, fdev_of(io)->fd, zero_buf, n,
			    io->offset + io->done_bytes);
	arm(sqe, io, zero_write_done);
}

static void start_discard(struct tdm_bs_io *io)
{
	struct io_uring_sqe *sqe = sqe_for(io);

	if (!sqe)
		return;
	/* Linux 6.12 block/ioctl.c blkdev_uring_cmd(): addr=start, addr3=len;
	 * len, rw_flags, ioprio must be 0 (io_uring_prep_rw clears them). */
	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, fdev_of(io)->fd, NULL, 0, 0);
	sqe->cmd_op = BLOCK_URING_CMD_DISCARD;
	sqe->addr = io->offset;
	sqe->addr3 = io->len;
	arm(sqe, io, discard_done);
}

/* Completion of a single-shot step (fsync, punch hole, discard). */
static void sync_done(struct tdm_uring_req *req, int res)
{
	struct tdm_bs_io *io = container_of(req, struct tdm_bs_io, ureq);

	if (res == -EAGAIN || res == -EINTR)
		start_flush(io);
	else if (res < 0)
		fail(io, -res);
	else
		io->done(io, TDM_BS_OK);
}

static void punch_done(struct tdm_uring_req *req, int res)
{
	struct tdm_bs_io *io = container_of(req, struct tdm_bs_io, ureq);

	if (res == -EAGAIN || res == -EINTR)
		start_punch(io);
	else if (res < 0)
		fail(io, -res);
	else
		fallocated(io);
}

static void stable_done(struct tdm_uring_req *req, int res)
{
	struct tdm_bs_io *io = container_of(req, struct tdm_bs_io, ureq);

	if (res == -EAGAIN || res == -EINTR)
		start_stable(io);
	else if (res < 0)
		fail(io, -res);
	else
		io->done(io, TDM_BS_OK);
}

static void zero_range_done(struct tdm_uring_req *req, int res)
{
	struct tdm_bs_io *io = container_of(req, struct tdm_bs_io, ureq);

	if (res == -EAGAIN || res == -EINTR)
		start_zero_range(io);
	else if (res == -EOPNOTSUPP || res == -EINVAL)
		/* the filesystem has no ZERO_RANGE (tmpfs, NFS, ext4 without
		 * extents...): write the zeros */
		start_zero_write(io);
	else if (res < 0)
		fail(io, -res);
	else
		fallocated(io);
}

static void zero_write_done(struct tdm_uring_req *req, int res)
{
	struct tdm_bs_io *io = container_of(req, struct tdm_bs_io, ureq);

	if (res == -EAGAIN || res == -EINTR) {
		start_zero_write(io);
		return;
	}
	if (res <= 0) {
		fail(io, res ? -res : EIO);
		return;
	}
	io->done_bytes += (unsigned)res;
	if (io->done_bytes < io->len)
		start_zero_write(io);
	else
		io->done(io, TDM_BS_OK);
}

/* BLKDISCARD(2const) ioctl: synchronous, in the loop thread. */
static int discard_ioctl(struct tdm_bs_io *io)
{
	uint64_t range[2] = {io->offset, io->len};

	return ioctl(fdev_of(io)->fd, BLKDISCARD, range) < 0 ? -errno : 0;
}

static void discard_done(struct tdm_uring_req *req, int res)
{
	struct tdm_bs_io *io = container_of(req, struct tdm_bs_io, ureq);

	if (res == -EAGAIN || res == -EINTR) {
		start_discard(io);
		return;
	}
	/*
	 * Before Linux 6.12 a block device has no uring_cmd (-EOPNOTSUPP),
	 * before 5.19 the opcode is unknown (-EINVAL). Then the discard runs
	 * as an ioctl, synchronously (it blocks this loop for as long as the
	 * device takes); remember it when that works.
	 */
	if (res == -EOPNOTSUPP || res == -EINVAL) {
		int r = discard_ioctl(io);

		if (r == 0)
			atomic_store_explicit(&no_uring_discard, true,
					      memory_order_relaxed);
		res = r;
	}
	if (res < 0)
		fail(io, -res);
	else
		io->done(io, TDM_BS_OK);
}

void tdm__bs_uring_discard(struct tdm_bs *bs, struct tdm_bs_io *io)
{
	int r;

	io->bs = bs;
	io->done_bytes = 0;
	if (!atomic_load_explicit(&no_uring_discard, memory_order_relaxed)) {
		start_discard(io);
		return;
	}
	r = discard_ioctl(io);
	if (r < 0)
		fail(io, -r);
	else
		io->done(io, TDM_BS_OK);
}

void tdm_bs_uring_submit(struct tdm_bs *bs, int fd, struct tdm_bs_io *io,
			 bool sync_after_write)
{
	struct tdm__bs_fdev *f = bs->priv;

	(void)fd; /* the same as f->fd, which continuations use */
	io->bs = bs;
	io->done_bytes = 0;
	if (!io->len && io->op != TDM_BS_FLUSH) {
		/* nothing to move (and a 0-byte write would look stuck) */
		io->done(io, io->op <= TDM_BS_WRITE_ZEROES
				     ? TDM_BS_OK
				     : TDM_BS_UNSUPPORTED);
		return;
	}
	switch (io->op) {
	case TDM_BS_READ:
		start_rw(io, false);
		break;
	case TDM_BS_WRITE:
		start_rw(io, sync_after_write);
		break;
	case TDM_BS_FLUSH:
		start_flush(io);
		break;
	case TDM_BS_UNMAP:
		if (f->blkdev)
			tdm__bs_uring_discard(bs, io);
		else
			start_punch(io);
		break;
	case TDM_BS_WRITE_ZEROES:
		start_zero_range(io);
		break;
	default:
		io->done(io, TDM_BS_UNSUPPORTED);
		break;
	}
}

/* ---- what fileio and blockio share (struct tdm__bs_fdev) ---- */

void tdm__bs_fdev_close(struct tdm_bs *bs)
{
	struct tdm__bs_fdev *f = bs->priv;

	if (!f)
		return;
	close(f->fd);
	free(f);
	bs->priv = NULL;
}

void tdm__bs_fdev_submit(struct tdm_bs *bs, struct tdm_bs_io *io)
{
	struct tdm__bs_fdev *f = bs->priv;

	switch (io->op) {
	case TDM_BS_FLUSH:
		/* O_DSYNC (write_through) left nothing to flush; nv_cache
		 * trusts the cache below */
		if (f->cache != TDM__BS_WRITE_BACK) {
			io->done(io, TDM_BS_OK);
			return;
		}
		break;
	case TDM_BS_UNMAP:
		if (!bs->can_unmap) {
			io->done(io, TDM_BS_UNSUPPORTED);
			return;
		}
		break;
	default:
		break;
	}
	tdm_bs_uring_submit(bs, f->fd, io,
			    io->fua && f->cache == TDM__BS_WRITE_BACK);
}
