/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * bs_internal.h - private to backstores/: the ops tables that registry.c
 * lists, the state shared by the fd-based backstores (file.c, block.c) and
 * uring_io.c, and small helpers for open(). Nothing outside backstores/
 * includes this (the unit test does, to look at the fd).
 */
#ifndef TANDEM_BS_INTERNAL_H
#define TANDEM_BS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "tandem/backstore.h"

#ifndef container_of
#define container_of(ptr, type, member)                                        \
	((type *)(void *)((char *)(ptr)-offsetof(type, member)))
#endif

extern const struct tdm_bs_ops tdm__bs_fileio_ops;  /* file.c */
extern const struct tdm_bs_ops tdm__bs_blockio_ops; /* block.c */
extern const struct tdm_bs_ops tdm__bs_nullio_ops;  /* null.c */
extern const struct tdm_bs_ops tdm__bs_ram_ops;	    /* ram.c */
extern const struct tdm_bs_ops tdm__bs_cdrom_ops;   /* cdrom.c */
extern const struct tdm_bs_ops tdm__bs_rbd_ops;	    /* rbd.c */
/* registry.c: vdisk_rbd in a build without librbd: open() says so */
extern const struct tdm_bs_ops tdm__bs_rbd_missing_ops;

/*
 * Where a write is acknowledged (SCST's write_through / nv_cache), see
 * backstores/README.md for the table.
 */
enum tdm__bs_cache {
	TDM__BS_WRITE_BACK = 0, /* WCE=1; FUA and FLUSH reach the medium */
	TDM__BS_WRITE_THROUGH,	/* O_DSYNC: every write is stable; WCE=0 */
	TDM__BS_NV_CACHE,	/* cache trusted as non-volatile; WCE=0 */
};

static inline enum tdm__bs_cache
tdm__bs_cache_of(const struct tdm_conf_device *conf)
{
	if (conf->nv_cache) /* overrides write_through, as in SCST */
		return TDM__BS_NV_CACHE;
	if (conf->write_through)
		return TDM__BS_WRITE_THROUGH;
	return TDM__BS_WRITE_BACK;
}

/*
 * bs->priv of file.c and block.c. uring_io.c reads fd from here to
 * continue a short read or write (the io only points back to its bs).
 */
struct tdm__bs_fdev {
	int fd;
	enum tdm__bs_cache cache;
	bool blkdev;
	uint64_t conf_size; /* size= as configured, 0 = whole file/device */
	char name[64];	    /* the device name, for messages */
};

/* uring_io.c: discard [offset, offset+len) of a block device (UNMAP). */
void tdm__bs_uring_discard(struct tdm_bs *bs, struct tdm_bs_io *io);

/*
 * registry.c: format "fmt" into err and return rc (a negative errno), so
 * that open() can say `return tdm__bs_errf(err, len, -ENOENT, ...)`.
 */
int tdm__bs_errf(char *err, size_t errlen, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * registry.c: the block size of conf (0 = dflt) if it is 512 or 4096
 * (the sizes SBC initiators handle everywhere); otherwise -EINVAL with a
 * message.
 */
/* fileio and blockio (uring_io.c): close the device; submit an I/O
 * (FLUSH done at once without a write-back cache, UNMAP refused when the
 * device cannot deallocate, FUA as a sync after the write) */
void tdm__bs_fdev_close(struct tdm_bs *bs);
void tdm__bs_fdev_submit(struct tdm_bs *bs, struct tdm_bs_io *io);
int tdm__bs_blocksize(const struct tdm_conf_device *conf, uint32_t dflt,
		      uint32_t *bsz, char *err, size_t errlen);

/*
 * registry.c: the exported size: conf->size (0 = all) bytes out of the
 * have bytes of the file or device ("what"), rounded down to bsz. -EINVAL
 * with a message if conf->size > have (never extend silently) or if less
 * than one block is left.
 */
int tdm__bs_size(const struct tdm_conf_device *conf, const char *what,
		 uint64_t have, uint32_t bsz, uint64_t *size, char *err,
		 size_t errlen);

#endif
