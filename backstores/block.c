/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * block.c - vdisk_blockio: a block device, O_DIRECT (the core's buffers
 * are 4096-aligned and whole blocks), through the loop's io_uring
 * (uring_io.c). Opened O_EXCL when writable, so a mounted filesystem or a
 * second LU on the same device is refused at open. Write cache modes:
 *
 *   default          WCE=1  FUA: RWF_DSYNC (a REQ_FUA write)
 *                           FLUSH: fdatasync (a cache flush to the disk)
 *   write_through=1  WCE=0  open O_DSYNC: every write is FUA; FLUSH and
 *                           FUA complete at once
 *   nv_cache=1       WCE=0  the disk cache is trusted as non-volatile:
 *                           FUA ignored, FLUSH acknowledged at once
 *
 * UNMAP is a discard: what reads back afterwards is up to the device (it
 * need not be zeros), so LBPRZ must not be claimed for blockio.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "backstores/bs_internal.h"
#include "tandem/backstore.h"
#include "lib/log.h"

static int open_error(const struct tdm_conf_device *conf, int rc, char *err,
		      size_t errlen)
{
	const char *hint = "";

	if (rc == -EBUSY)
		hint = " (mounted, or in use by another LU or holder)";
	else if (rc == -EROFS || rc == -EACCES || rc == -EPERM)
		hint = conf->read_only ? ""
				       : " (read_only=1 to export it "
					 "read-only)";
	return tdm__bs_errf(err, errlen, rc, "%s: %s: %s%s", conf->name,
			    conf->filename, strerror(-rc), hint);
}

/*
 * Does the device discard? queue/discard_max_bytes (Documentation/ABI/
 * stable/sysfs-block) of the disk; a partition has no queue/ of its own
 * and uses its disk's, one directory up.
 */
static bool can_discard(const struct stat *st)
{
	unsigned ma = major(st->st_rdev), mi = minor(st->st_rdev);
	unsigned long long max = 0;
	char path[96];
	FILE *fp;

	snprintf(path, sizeof(path),
		 "/sys/dev/block/%u:%u/queue/discard_max_bytes", ma, mi);
	fp = fopen(path, "re");
	if (!fp) {
		snprintf(path, sizeof(path),
			 "/sys/dev/block/%u:%u/../queue/discard_max_bytes", ma,
			 mi);
		fp = fopen(path, "re");
	}
	if (!fp)
		return false;
	if (fscanf(fp, "%llu", &max) != 1)
		max = 0;
	fclose(fp);
	return max > 0;
}

static int geometry(struct tdm_bs *bs, int fd,
		    const struct tdm_conf_device *conf, char *err,
		    size_t errlen)
{
	uint64_t bytes;
	uint32_t bsz;
	int lbs, rc;

	/* BLKGETSIZE64, BLKSSZGET: ioctl_list(2), include/uapi/linux/fs.h */
	if (ioctl(fd, BLKGETSIZE64, &bytes) < 0 ||
	    ioctl(fd, BLKSSZGET, &lbs) < 0)
		return open_error(conf, -errno, err, errlen);
	rc = tdm__bs_blocksize(conf, (uint32_t)lbs, &bsz, err, errlen);
	if (rc) {
		if (!conf->blocksize)
			tdm__bs_errf(err, errlen, rc,
				     "%s: %s: the device's logical block "
				     "size %d is not supported (512 or 4096)",
				     conf->name, conf->filename, lbs);
		return rc;
	}
	if (lbs <= 0 || (uint32_t)lbs > bsz || bsz % (uint32_t)lbs)
		return tdm__bs_errf(err, errlen, -EINVAL,
				    "%s: %s: blocksize=%" PRIu32
				    " is not a multiple of the device's "
				    "logical block size %d",
				    conf->name, conf->filename, bsz, lbs);
	rc = tdm__bs_size(conf, "device", bytes, bsz, &bs->size, err, errlen);
	if (rc)
		return rc;
	bs->block_size = bsz;
	return 0;
}

/* What open and probe check first: a filename naming a block device */
static int stat_blockdev(const struct tdm_conf_device *conf, struct stat *st,
			 char *err, size_t errlen)
{
	if (!conf->filename[0])
		return tdm__bs_errf(
			err, errlen, -EINVAL,
			"%s: vdisk_blockio needs filename=", conf->name);
	if (stat(conf->filename, st) < 0)
		return open_error(conf, -errno, err, errlen);
	if (S_ISREG(st->st_mode))
		return tdm__bs_errf(err, errlen, -ENOTBLK,
				    "%s: %s: not a block device; use "
				    "vdisk_fileio",
				    conf->name, conf->filename);
	if (!S_ISBLK(st->st_mode))
		return tdm__bs_errf(err, errlen, -ENOTBLK,
				    "%s: %s: not a block device", conf->name,
				    conf->filename);
	return 0;
}

static int block_open(struct tdm_bs *bs, const struct tdm_conf_device *conf,
		      char *err, size_t errlen)
{
	struct tdm__bs_fdev *f;
	struct stat st;
	int flags, rc;

	rc = stat_blockdev(conf, &st, err, errlen);
	if (rc)
		return rc;

	f = calloc(1, sizeof(*f));
	if (!f)
		return tdm__bs_errf(err, errlen, -ENOMEM, "%s: out of memory",
				    conf->name);
	f->blkdev = true;
	f->cache = tdm__bs_cache_of(conf);
	f->conf_size = conf->size;
	snprintf(f->name, sizeof(f->name), "%s", conf->name);

	/* open(2): O_EXCL on a block device fails with EBUSY if in use */
	flags = O_DIRECT | O_CLOEXEC |
		(conf->read_only ? O_RDONLY : O_RDWR | O_EXCL);
	if (f->cache == TDM__BS_WRITE_THROUGH)
		flags |= O_DSYNC;
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
	if (!S_ISBLK(st.st_mode)) {
		rc = tdm__bs_errf(err, errlen, -ENOTBLK,
				  "%s: %s: not a block device", conf->name,
				  conf->filename);
		goto fail;
	}
	rc = geometry(bs, f->fd, conf, err, errlen);
	if (rc)
		goto fail;

	bs->priv = f;
	bs->read_only = conf->read_only;
	bs->write_cache = f->cache == TDM__BS_WRITE_BACK;
	bs->can_unmap = false;
	if (conf->thin_provisioned && !conf->read_only) {
		bs->can_unmap = can_discard(&st);
		if (!bs->can_unmap)
			log_warnx("%s: %s: the device does not discard; "
				  "thin_provisioned=1 ignored",
				  conf->name, conf->filename);
	}
	bs->rotational = conf->rotational;
	return 0;
fail:
	close(f->fd);
	free(f);
	return rc;
}

/* A number from the sysfs attribute ATTR of the block device st names
 * (Documentation/ABI/stable/sysfs-block); a partition's queue/ is its
 * disk's, one directory up. -errno when absent. */
static int sysfs_num(const struct stat *st, const char *attr,
		     unsigned long long *v)
{
	unsigned ma = major(st->st_rdev), mi = minor(st->st_rdev);
	char path[128];
	FILE *fp;
	int ok;

	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/%s", ma, mi, attr);
	fp = fopen(path, "re");
	if (!fp && strncmp(attr, "queue/", 6) == 0) {
		snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/../%s", ma,
			 mi, attr);
		fp = fopen(path, "re");
	}
	if (!fp)
		return -errno;
	ok = fscanf(fp, "%llu", v) == 1;
	fclose(fp);
	return ok ? 0 : -EINVAL;
}

/*
 * deferred_open (scsi/backing.c): the geometry from sysfs, without
 * opening the device (a DRBD Secondary refuses every open): size is in
 * 512-byte sectors whatever the logical block size.
 */
static int block_probe(struct tdm_bs *bs, const struct tdm_conf_device *conf,
		       char *err, size_t errlen)
{
	unsigned long long sectors, lbs;
	struct stat st;
	uint32_t bsz;
	int rc;

	rc = stat_blockdev(conf, &st, err, errlen);
	if (rc)
		return rc;
	rc = sysfs_num(&st, "size", &sectors);
	if (!rc)
		rc = sysfs_num(&st, "queue/logical_block_size", &lbs);
	if (rc)
		return tdm__bs_errf(err, errlen, rc,
				    "%s: %s: no size in sysfs (%s)", conf->name,
				    conf->filename, strerror(-rc));
	rc = tdm__bs_blocksize(conf, (uint32_t)lbs, &bsz, err, errlen);
	if (rc)
		return rc;
	if (!lbs || lbs > bsz || bsz % lbs)
		return tdm__bs_errf(err, errlen, -EINVAL,
				    "%s: %s: blocksize=%" PRIu32
				    " is not a multiple of the device's "
				    "logical block size %llu",
				    conf->name, conf->filename, bsz, lbs);
	rc = tdm__bs_size(conf, "device", (uint64_t)sectors * 512, bsz,
			  &bs->size, err, errlen);
	if (rc)
		return rc;
	bs->priv = NULL;
	bs->block_size = bsz;
	bs->read_only = conf->read_only;
	bs->write_cache = tdm__bs_cache_of(conf) == TDM__BS_WRITE_BACK;
	bs->can_unmap =
		conf->thin_provisioned && !conf->read_only && can_discard(&st);
	bs->rotational = conf->rotational;
	return 0;
}

static int block_refresh_size(struct tdm_bs *bs)
{
	struct tdm__bs_fdev *f = bs->priv;
	uint64_t bytes, size;

	if (ioctl(f->fd, BLKGETSIZE64, &bytes) < 0)
		return -errno;
	size = f->conf_size ? f->conf_size : bytes;
	if (size > bytes)
		return -EINVAL; /* size= set and the device shrank below it */
	size -= size % bs->block_size;
	if (size < bs->block_size)
		return -EINVAL;
	bs->size = size;
	return 0;
}

const struct tdm_bs_ops tdm__bs_blockio_ops = {
	.name = "vdisk_blockio",
	.open = block_open,
	.probe = block_probe,
	.close = tdm__bs_fdev_close,
	.submit = tdm__bs_fdev_submit,
	.refresh_size = block_refresh_size,
};
