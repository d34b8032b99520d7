/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cdrom.c - vcdrom: an ISO image (a regular file) behind an MMC
 * CD/DVD-ROM logical unit, read through vdisk_fileio opened read-only.
 *
 * The logical block is 2048 bytes (MMC-6); a trailing partial
 * block of the image is not exported. An empty filename is an empty
 * drive: open() succeeds with size 0 and no file, and the core answers
 * NOT READY, MEDIUM NOT PRESENT (scsi/mmc.c) before any I/O comes here.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "backstores/bs_internal.h"
#include "tandem/backstore.h"

/* MMC-6: user data of a CD-ROM mode 1 / DVD sector */
#define CD_BLOCK 2048u

static int cdrom_open(struct tdm_bs *bs, const struct tdm_conf_device *conf,
		      char *err, size_t errlen)
{
	struct tdm_conf_device f = *conf;
	int rc;

	bs->priv = NULL;
	bs->size = 0;
	bs->block_size = CD_BLOCK;
	bs->read_only = true;
	bs->write_cache = false;
	bs->can_unmap = false;
	bs->rotational = true;
	if (!conf->filename[0])
		return 0; /* empty drive */
	/* fileio, read-only, no write cache modes, byte granular size */
	f.handler = TDM_HANDLER_FILEIO;
	f.read_only = true;
	f.blocksize = 512;
	f.size = 0;
	f.thin_provisioned = false;
	f.nv_cache = false;
	f.write_through = false;
	rc = tdm__bs_fileio_ops.open(bs, &f, err, errlen);
	if (rc)
		return rc;
	bs->size -= bs->size % CD_BLOCK;
	bs->block_size = CD_BLOCK;
	bs->read_only = true;
	bs->write_cache = false;
	bs->can_unmap = false;
	bs->rotational = true;
	if (!bs->size) {
		tdm__bs_fileio_ops.close(bs);
		return tdm__bs_errf(err, errlen, -EINVAL,
				    "%s: %s: smaller than one %u-byte block",
				    conf->name, conf->filename, CD_BLOCK);
	}
	return 0;
}

static void cdrom_close(struct tdm_bs *bs)
{
	if (bs->priv)
		tdm__bs_fileio_ops.close(bs);
}

static void cdrom_submit(struct tdm_bs *bs, struct tdm_bs_io *io)
{
	if (!bs->priv || io->op != TDM_BS_READ) {
		/* the core never sends these: no medium, or not a read */
		io->done(io, io->op == TDM_BS_READ ? TDM_BS_READ_ERROR
						   : TDM_BS_UNSUPPORTED);
		return;
	}
	tdm__bs_fileio_ops.submit(bs, io);
}

const struct tdm_bs_ops tdm__bs_cdrom_ops = {
	.name = "vcdrom",
	.open = cdrom_open,
	.close = cdrom_close,
	.submit = cdrom_submit,
};
