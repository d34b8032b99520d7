/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * registry.c - the backstores by handler, from one explicit table (no
 * constructor self-registration: what is linked is what is listed), and
 * the few checks every open() shares.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "backstores/bs_internal.h"
#include "tandem/backstore.h"
#include "lib/log.h"

static const struct tdm_bs_ops *const backstores[TDM__HANDLER_COUNT] = {
	[TDM_HANDLER_FILEIO] = &tdm__bs_fileio_ops,
	[TDM_HANDLER_BLOCKIO] = &tdm__bs_blockio_ops,
	[TDM_HANDLER_NULLIO] = &tdm__bs_nullio_ops,
	[TDM_HANDLER_RAM] = &tdm__bs_ram_ops,
	[TDM_HANDLER_CDROM] = &tdm__bs_cdrom_ops,
#ifdef HAVE_RBD
	[TDM_HANDLER_RBD] = &tdm__bs_rbd_ops,
#else
	[TDM_HANDLER_RBD] = &tdm__bs_rbd_missing_ops,
#endif
};

/* A build without librbd (configure --without-rbd) still parses
 * vdisk_rbd, and refuses the device at open with the reason. */
static int rbd_missing_open(struct tdm_bs *bs,
			    const struct tdm_conf_device *conf, char *err,
			    size_t errlen)
{
	return tdm__bs_errf(err, errlen, -EOPNOTSUPP,
			    "%s: vdisk_rbd: this tandemd was built without "
			    "librbd (configure --with-rbd; Debian: "
			    "librbd-dev)",
			    conf->name);
}

static void rbd_missing_close(struct tdm_bs *bs)
{
}

static void rbd_missing_submit(struct tdm_bs *bs, struct tdm_bs_io *io)
{
	io->done(io, TDM_BS_UNSUPPORTED);
}

const struct tdm_bs_ops tdm__bs_rbd_missing_ops = {
	.name = "vdisk_rbd",
	.open = rbd_missing_open,
	.close = rbd_missing_close,
	.submit = rbd_missing_submit,
};

const struct tdm_bs_ops *tdm_bs_lookup(enum tdm_handler h)
{
	if ((unsigned)h >= TDM__HANDLER_COUNT)
		return NULL;
	return backstores[h];
}

int tdm__bs_errf(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

int tdm__bs_blocksize(const struct tdm_conf_device *conf, uint32_t dflt,
		      uint32_t *bsz, char *err, size_t errlen)
{
	uint32_t b = conf->blocksize ? conf->blocksize : dflt;

	/* SBC-4 READ CAPACITY(16) reports any size; initiators take these */
	if (b != 512 && b != 4096)
		return tdm__bs_errf(err, errlen, -EINVAL,
				    "%s: blocksize=%" PRIu32
				    " not supported (512 or 4096)",
				    conf->name, b);
	*bsz = b;
	return 0;
}

int tdm__bs_size(const struct tdm_conf_device *conf, const char *what,
		 uint64_t have, uint32_t bsz, uint64_t *size, char *err,
		 size_t errlen)
{
	uint64_t s = have;

	if (conf->size) {
		if (conf->size > have)
			return tdm__bs_errf(err, errlen, -EINVAL,
					    "%s: %s: %s too small: %" PRIu64
					    " bytes, size=%" PRIu64
					    " asked (tandem never extends it)",
					    conf->name, conf->filename, what,
					    have, conf->size);
		s = conf->size;
	}
	if (s < bsz)
		return tdm__bs_errf(err, errlen, -EINVAL,
				    "%s: %s: %s too small: %" PRIu64
				    " bytes, less than one %" PRIu32
				    "-byte block",
				    conf->name, conf->filename, what, s, bsz);
	if (s % bsz)
		log_notice("%s: size %" PRIu64
			   " is not a multiple of the %" PRIu32
			   "-byte block size; using %" PRIu64 " bytes",
			   conf->name, s, bsz, s - s % bsz);
	*size = s - s % bsz;
	return 0;
}
