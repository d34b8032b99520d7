/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * file.c - vdisk_fileio: a regular file (sparse is fine), through the page
 * cache by default, O_DIRECT with o_direct=1. I/O goes through the loop's
 * io_uring (uring_io.c). The write cache modes follow SCST's vdisk:
 *
 *   default          WCE=1  FUA: RWF_DSYNC write  FLUSH: fdatasync
 *   write_through=1  WCE=0  open O_DSYNC: every write is stable; FUA and
 *                           FLUSH need nothing more, complete at once
 *   nv_cache=1       WCE=0  the page cache is trusted as non-volatile:
 *                           FUA ignored, FLUSH acknowledged without fsync
 *                           (nv_cache overrides write_through)
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backstores/bs_internal.h"
#include "tandem/backstore.h"
#include "lib/log.h"

static int open_error(const struct tdm_conf_device *conf, int rc, char *err,
		      size_t errlen)
{
	const char *path = conf->filename;

	switch (rc) {
	case -EINVAL:
		if (conf->o_direct)
			return tdm__bs_errf(err, errlen, rc,
					    "%s: %s: the filesystem does not "
					    "support O_DIRECT (o_direct=1)",
					    conf->name, path);
		break;
	case -EROFS:
		return tdm__bs_errf(err, errlen, rc,
				    "%s: %s: %s (set read_only=1 to export "
				    "it read-only)",
				    conf->name, path, strerror(-rc));
	case -EACCES:
	case -EPERM:
		return tdm__bs_errf(
			err, errlen, rc, "%s: %s: %s (%s access needed)",
			conf->name, path, strerror(-rc),
			conf->read_only ? "read" : "read and write");
	default:
		break;
	}
	return tdm__bs_errf(err, errlen, rc, "%s: %s: %s", conf->name, path,
			    strerror(-rc));
}

static int check_type(const struct tdm_conf_device *conf, const struct stat *st,
		      char *err, size_t errlen)
{
	if (S_ISREG(st->st_mode))
		return 0;
	if (S_ISDIR(st->st_mode))
		return tdm__bs_errf(err, errlen, -EISDIR,
				    "%s: %s: is a directory", conf->name,
				    conf->filename);
	if (S_ISBLK(st->st_mode))
		return tdm__bs_errf(err, errlen, -EINVAL,
				    "%s: %s: is a block device; use "
				    "vdisk_blockio",
				    conf->name, conf->filename);
	return tdm__bs_errf(err, errlen, -EINVAL, "%s: %s: not a regular file",
			    conf->name, conf->filename);
}

/*
 * O_DIRECT may open and still refuse I/O (the alignment the filesystem
 * needs is larger than the block size): read the first block to know now.
 */
static int probe_direct(int fd, const struct tdm_conf_device *conf,
			uint32_t bsz, char *err, size_t errlen)
{
	void *buf = aligned_alloc(4096, bsz < 4096 ? 4096 : bsz);
	ssize_t n;
	int rc = 0;

	if (!buf)
		return tdm__bs_errf(err, errlen, -ENOMEM, "%s: out of memory",
				    conf->name);
	n = pread(fd, buf, bsz, 0);
	if (n < 0) {
		rc = -errno;
		tdm__bs_errf(err, errlen, rc,
			     "%s: %s: O_DIRECT read of one %" PRIu32
			     "-byte block failed: %s (o_direct=1 needs a "
			     "filesystem with O_DIRECT and an alignment of "
			     "at most the block size)",
			     conf->name, conf->filename, bsz, strerror(-rc));
	}
	free(buf);
	return rc;
}

/*
 * Can the filesystem punch holes? Punch one block past the end of the
 * file: no data changes (KEEP_SIZE, and nothing is there), but a
 * filesystem without hole punching says EOPNOTSUPP.
 */
static bool probe_punch(int fd, const struct stat *st,
			const struct tdm_conf_device *conf)
{
	off_t off = (st->st_size + 4095) / 4096 * 4096;

	if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off,
		      4096) == 0)
		return true;
	log_warn("%s: %s: cannot punch holes; thin_provisioned=1 ignored",
		 conf->name, conf->filename);
	return false;
}

/* What open and probe check first: the block size, a filename, what
 * stat(2) says of it (stat first: opening a FIFO would block) */
static int stat_checked(const struct tdm_conf_device *conf, struct stat *st,
			uint32_t *bsz, char *err, size_t errlen)
{
	int rc = tdm__bs_blocksize(conf, 512, bsz, err, errlen);

	if (rc)
		return rc;
	if (!conf->filename[0])
		return tdm__bs_errf(
			err, errlen, -EINVAL,
			"%s: vdisk_fileio needs filename=", conf->name);
	if (stat(conf->filename, st) < 0)
		return open_error(conf, -errno, err, errlen);
	return check_type(conf, st, err, errlen);
}

static int file_open(struct tdm_bs *bs, const struct tdm_conf_device *conf,
		     char *err, size_t errlen)
{
	struct tdm__bs_fdev *f;
	struct stat st;
	uint32_t bsz;
	int flags, rc;

	rc = stat_checked(conf, &st, &bsz, err, errlen);
	if (rc)
		return rc;

	f = calloc(1, sizeof(*f));
	if (!f)
		return tdm__bs_errf(err, errlen, -ENOMEM, "%s: out of memory",
				    conf->name);
	f->cache = tdm__bs_cache_of(conf);
	f->conf_size = conf->size;
	snprintf(f->name, sizeof(f->name), "%s", conf->name);

	flags = O_CLOEXEC | (conf->read_only ? O_RDONLY : O_RDWR);
	if (f->cache == TDM__BS_WRITE_THROUGH)
		flags |= O_DSYNC;
	if (conf->o_direct)
		flags |= O_DIRECT;
	f->fd = open(conf->filename, flags);
	if (f->fd < 0) {
		rc = open_error(conf, -errno, err, errlen);
		free(f);
		return rc;
	}
	if (fstat(f->fd, &st) < 0) {
		rc = open_error(conf, -errno, err, errlen);
		goto fail;
	}
	rc = check_type(conf, &st, err, errlen);
	if (rc)
		goto fail;
	rc = tdm__bs_size(conf, "file", (uint64_t)st.st_size, bsz, &bs->size,
			  err, errlen);
	if (rc)
		goto fail;
	if (conf->o_direct) {
		rc = probe_direct(f->fd, conf, bsz, err, errlen);
		if (rc)
			goto fail;
	}

	bs->priv = f;
	bs->block_size = bsz;
	bs->read_only = conf->read_only;
	bs->write_cache = f->cache == TDM__BS_WRITE_BACK;
	bs->can_unmap = conf->thin_provisioned && !conf->read_only &&
			probe_punch(f->fd, &st, conf);
	bs->rotational = conf->rotational;
	return 0;
fail:
	close(f->fd);
	free(f);
	return rc;
}

/* deferred_open (scsi/backing.c): what file_open would find, from
 * stat(2); whether holes can be punched is learned at the real open */
static int file_probe(struct tdm_bs *bs, const struct tdm_conf_device *conf,
		      char *err, size_t errlen)
{
	struct stat st;
	uint32_t bsz;
	int rc;

	rc = stat_checked(conf, &st, &bsz, err, errlen);
	if (rc)
		return rc;
	rc = tdm__bs_size(conf, "file", (uint64_t)st.st_size, bsz, &bs->size,
			  err, errlen);
	if (rc)
		return rc;
	bs->priv = NULL;
	bs->block_size = bsz;
	bs->read_only = conf->read_only;
	bs->write_cache = tdm__bs_cache_of(conf) == TDM__BS_WRITE_BACK;
	bs->can_unmap = conf->thin_provisioned && !conf->read_only;
	bs->rotational = conf->rotational;
	return 0;
}

static int file_refresh_size(struct tdm_bs *bs)
{
	struct tdm__bs_fdev *f = bs->priv;
	struct stat st;
	uint64_t size;

	if (fstat(f->fd, &st) < 0)
		return -errno;
	size = f->conf_size ? f->conf_size : (uint64_t)st.st_size;
	if (size > (uint64_t)st.st_size)
		return -EINVAL; /* size= set and the file shrank below it */
	size -= size % bs->block_size;
	if (size < bs->block_size)
		return -EINVAL;
	bs->size = size;
	return 0;
}

/*
 * GET LBA STATUS: lseek(2) SEEK_DATA/SEEK_HOLE find where the file has
 * blocks allocated. A hole (or the end of a short file) is deallocated.
 * Filesystems without the two report the whole file as data.
 */
static int file_lba_status(struct tdm_bs *bs, uint64_t offset, uint64_t *len,
			   bool *mapped)
{
	struct tdm__bs_fdev *f = bs->priv;
	off_t d, h;

	if (offset >= bs->size)
		return -EINVAL;
	d = lseek(f->fd, (off_t)offset, SEEK_DATA);
	if (d < 0 && errno != ENXIO)
		return -errno;
	if (d < 0 || (uint64_t)d > offset) {
		/* a hole up to d; ENXIO: no data up to the end of the file */
		if (d < 0 || (uint64_t)d > bs->size)
			d = (off_t)bs->size;
		*mapped = false;
		*len = (uint64_t)d - offset;
		return 0;
	}
	h = lseek(f->fd, (off_t)offset, SEEK_HOLE);
	if (h < 0)
		return -errno;
	*mapped = true;
	*len = ((uint64_t)h > bs->size ? bs->size : (uint64_t)h) - offset;
	if (!*len) /* cannot be (data at offset), but never loop */
		*len = bs->size - offset;
	return 0;
}

const struct tdm_bs_ops tdm__bs_fileio_ops = {
	.name = "vdisk_fileio",
	.open = file_open,
	.probe = file_probe,
	.close = tdm__bs_fdev_close,
	.submit = tdm__bs_fdev_submit,
	.refresh_size = file_refresh_size,
	.lba_status = file_lba_status,
};
