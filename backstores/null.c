/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * null.c - vdisk_nullio, as SCST's nullio and tgt's bs_null: no medium.
 * Reads return zeros, writes are dropped, FLUSH/UNMAP succeed, all at
 * once inside submit(). For measuring the target itself.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "backstores/bs_internal.h"
#include "tandem/backstore.h"

static int null_open(struct tdm_bs *bs, const struct tdm_conf_device *conf,
		     char *err, size_t errlen)
{
	uint32_t bsz;
	int rc = tdm__bs_blocksize(conf, 512, &bsz, err, errlen);

	if (rc)
		return rc;
	if (conf->size < bsz)
		return tdm__bs_errf(err, errlen, -EINVAL,
				    "%s: vdisk_nullio needs size= (at least "
				    "one %" PRIu32 "-byte block)",
				    conf->name, bsz);
	bs->size = conf->size - conf->size % bsz;
	bs->block_size = bsz;
	bs->read_only = conf->read_only;
	bs->write_cache = false;
	bs->can_unmap = conf->thin_provisioned;
	bs->rotational = conf->rotational;
	return 0;
}

static void null_close(struct tdm_bs *bs)
{
}

static void null_submit(struct tdm_bs *bs, struct tdm_bs_io *io)
{
	/* SCST's nullio leaves the buffer as it is; never leak old data */
	if (io->op == TDM_BS_READ)
		memset(io->buf, 0, io->len);
	io->done(io, TDM_BS_OK);
}

const struct tdm_bs_ops tdm__bs_nullio_ops = {
	.name = "vdisk_nullio",
	.open = null_open,
	.close = null_close,
	.submit = null_submit,
};
