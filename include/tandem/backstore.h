/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * backstore.h - what a backstore author needs. One file per backstore in
 * backstores/, picked by name from the explicit table in
 * backstores/registry.c.
 *
 * I/O is asynchronous: submit() starts the request and returns; the
 * backstore calls io->done(io, status) later, on the same loop thread
 * (through the loop's io_uring), or before submit() returns for memory
 * backstores. submit() is always called on a loop thread.
 */
#ifndef TANDEM_BACKSTORE_H
#define TANDEM_BACKSTORE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "tandem/config.h"
#include "lib/loop.h"

/* The small status a backstore returns; scsi/sense.c converts it. */
enum tdm_bs_status {
	TDM_BS_OK = 0,
	TDM_BS_READ_ERROR,  /* EIO on read */
	TDM_BS_WRITE_ERROR, /* EIO on write or flush */
	TDM_BS_NO_SPACE,    /* ENOSPC / EDQUOT */
	TDM_BS_NO_MEMORY,   /* transient, the initiator may retry */
	TDM_BS_UNSUPPORTED, /* the operation is not implemented */
	TDM_BS_DETACHED,    /* deferred_open: the backing is closed here
			     * (the core's, never a backstore's) */
	TDM_BS_MISCOMPARE,  /* COMPARE_AND_WRITE: the verify data differ at
			     * io->miscompare; nothing was written */
	TDM_BS_TIMEOUT,	    /* the store did not answer in its timeout
			     * (rbd: rados_osd_op_timeout); transient */
};

enum tdm_bs_op {
	TDM_BS_READ = 0,
	TDM_BS_WRITE,
	TDM_BS_FLUSH, /* make everything written so far stable */
	TDM_BS_UNMAP, /* deallocate [offset, offset+len) */
	TDM_BS_WRITE_ZEROES,
	/*
	 * only where bs->atomic_caw: buf holds len bytes of verify data,
	 * then len bytes of write data; the store compares and writes as
	 * one operation, atomic against every other writer of the store
	 * (rbd: the OSD executes it, whichever head sent the other writes)
	 */
	TDM_BS_COMPARE_AND_WRITE,
};

struct tdm_bs;

struct tdm_bs_io {
	uint8_t op;	 /* enum tdm_bs_op */
	bool fua;	 /* WRITE: stable before completion */
	uint64_t offset; /* bytes */
	uint64_t len;	 /* bytes */
	void *buf;	 /* READ/WRITE: len bytes, 4096-aligned */
	void (*done)(struct tdm_bs_io *io, enum tdm_bs_status st);
	void *arg;
	/* the core's (scsi/backing.c): done, while it counts the request */
	void (*core_done)(struct tdm_bs_io *io, enum tdm_bs_status st);
	/* backstore private */
	struct tdm_uring_req ureq;
	struct tdm_bs *bs;
	uint64_t done_bytes;
	/* backstores completing on a library's thread (rbd.c) */
	struct tdm_loop_msg lmsg;
	struct tdm_loop *loop;
	int64_t res;
	/* TDM_BS_MISCOMPARE: the first differing byte of the verify data */
	uint64_t miscompare;
};

struct tdm_bs_ops {
	const char *name; /* the SCST handler name: vdisk_fileio, ... */
	/*
	 * Open the backing store described by conf. Must detect at config
	 * time what would fail at the first I/O: missing file, too small,
	 * no permission, wrong type, bad block size. Fills bs->size,
	 * bs->block_size. Returns 0 or -errno with a message in err.
	 */
	int (*open)(struct tdm_bs *bs, const struct tdm_conf_device *conf,
		    char *err, size_t errlen);
	void (*close)(struct tdm_bs *bs);
	/*
	 * optional: fill what open fills (size, block_size, read_only,
	 * write_cache, can_unmap, rotational) without opening, from what
	 * stat(2) and sysfs tell; bs->priv stays NULL. For a device whose
	 * backing cannot be opened where it is not served (deferred_open:
	 * DRBD Secondary refuses every open). 0 or -errno with a message.
	 */
	int (*probe)(struct tdm_bs *bs, const struct tdm_conf_device *conf,
		     char *err, size_t errlen);
	void (*submit)(struct tdm_bs *bs, struct tdm_bs_io *io);
	/* optional: re-read the size (for a resize); 0 or -errno */
	int (*refresh_size)(struct tdm_bs *bs);
	/*
	 * optional (GET LBA STATUS, SBC-4 5.20): is the byte at offset
	 * (< size) backed by allocated storage (*mapped), and for how many
	 * bytes from offset does that stay so (*len > 0, not past size).
	 * Synchronous, on a loop thread: metadata only, no data I/O.
	 * Without it every block is reported mapped. 0 or -errno.
	 */
	int (*lba_status)(struct tdm_bs *bs, uint64_t offset, uint64_t *len,
			  bool *mapped);
};

struct tdm_bs {
	const struct tdm_bs_ops *ops;
	void *priv;
	uint64_t size;	     /* bytes, a multiple of block_size */
	uint32_t block_size; /* 512 or 4096 */
	bool read_only;
	bool write_cache; /* volatile write cache present (WCE) */
	bool can_unmap;
	bool rotational;
	bool atomic_caw;      /* TDM_BS_COMPARE_AND_WRITE is the store's own */
	uint32_t caw_max_len; /* with atomic_caw: the longest one, bytes, in
			       * one aligned piece (rbd: 512) */
	/*
	 * Where the store keeps the LU's identity (rbd: image metadata):
	 * the designators are derived from this instead of the device's
	 * name, so that every head exporting the store presents the same
	 * ones whatever the device is called there. "" = the name.
	 */
	char ident[128];
	/*
	 * Set by the core before open(): the store's size changed under
	 * the LU (rbd: the image was resized). Any thread may call it;
	 * the core calls refresh_size() on a loop thread and raises
	 * CAPACITY DATA HAS CHANGED.
	 */
	void (*resized)(struct tdm_bs *bs);
};

/* backstores/registry.c */
const struct tdm_bs_ops *tdm_bs_lookup(enum tdm_handler h);

/*
 * Shared io_uring helpers for fd-based backstores (backstores/uring_io.c):
 * read/write/fsync of io on fd through the current loop's ring, with short
 * I/O continuation and -EAGAIN retry.
 */
void tdm_bs_uring_submit(struct tdm_bs *bs, int fd, struct tdm_bs_io *io,
			 bool sync_after_write);

#endif
