/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ram.c - tandem's ram: a disk in memory, completed inside submit().
 *
 * The whole size is reserved as address space at open (an anonymous
 * MAP_NORESERVE mapping): the kernel gives a page its memory on the first
 * write to it, so a big ram disk commits nothing up front. A byte per
 * 1 MiB chunk says whether the chunk was ever written; reads of a chunk
 * that never was return zeros without touching its pages (a full read of
 * an empty disk would otherwise fill page tables with zero-page entries).
 *
 * Commands of several loops run at once without a lock: reads and writes
 * copy with memcpy, and the only shared state, a chunk's written flag,
 * goes from 0 to 1 once and stays there. UNMAP and WRITE_ZEROES give
 * whole pages back to the kernel (MADV_DONTNEED: they read as zeros
 * again) and memset the partial pages at the ends. Pages are never
 * unmapped from the address space, so a write racing an UNMAP of the
 * same blocks can only leave either's data there, never touch freed
 * memory.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "backstores/bs_internal.h"
#include "tandem/backstore.h"

#define CHUNK_SHIFT 20 /* 1 MiB */
#define CHUNK_SIZE (1ull << CHUNK_SHIFT)

struct ram {
	uint8_t *base;
	size_t len;
	size_t pagesize;
	atomic_uchar *written; /* one per chunk */
	/* one per chunk: written since an UNMAP last covered all of it;
	 * only GET LBA STATUS reads it (lba_status), never the data path */
	atomic_uchar *mapped;
};

static int ram_open(struct tdm_bs *bs, const struct tdm_conf_device *conf,
		    char *err, size_t errlen)
{
	uint64_t size, nchunks;
	struct ram *r;
	uint32_t bsz;
	int rc = tdm__bs_blocksize(conf, 512, &bsz, err, errlen);

	if (rc)
		return rc;
	if (conf->size < bsz)
		return tdm__bs_errf(err, errlen, -EINVAL,
				    "%s: ram needs size= (at least one "
				    "%" PRIu32 "-byte block)",
				    conf->name, bsz);
	size = conf->size - conf->size % bsz;
	if (size > SIZE_MAX / 2)
		return tdm__bs_errf(err, errlen, -EFBIG,
				    "%s: size=%" PRIu64
				    " is larger than the address space",
				    conf->name, size);
	nchunks = (size + CHUNK_SIZE - 1) >> CHUNK_SHIFT;

	r = calloc(1, sizeof(*r));
	if (r) {
		r->written = calloc(nchunks, sizeof(*r->written));
		r->mapped = calloc(nchunks, sizeof(*r->mapped));
	}
	if (!r || !r->written || !r->mapped) {
		if (r) {
			free(r->written);
			free(r->mapped);
		}
		free(r);
		return tdm__bs_errf(err, errlen, -ENOMEM, "%s: out of memory",
				    conf->name);
	}
	r->len = size;
	r->pagesize = (size_t)sysconf(_SC_PAGESIZE);
	r->base = mmap(NULL, r->len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (r->base == MAP_FAILED) {
		rc = -errno;
		free(r->written);
		free(r->mapped);
		free(r);
		return tdm__bs_errf(err, errlen, rc,
				    "%s: cannot reserve %" PRIu64
				    " bytes of address space: %s "
				    "(vm.overcommit_memory=2? ulimit -v?)",
				    conf->name, size, strerror(-rc));
	}

	bs->priv = r;
	bs->size = size;
	bs->block_size = bsz;
	bs->read_only = conf->read_only;
	bs->write_cache = false;
	bs->can_unmap = conf->thin_provisioned;
	bs->rotational = conf->rotational;
	return 0;
}

static void ram_close(struct tdm_bs *bs)
{
	struct ram *r = bs->priv;

	if (!r)
		return;
	munmap(r->base, r->len);
	free(r->written);
	free(r->mapped);
	free(r);
	bs->priv = NULL;
}

static bool chunk_written(const struct ram *r, uint64_t c)
{
	return atomic_load_explicit(&r->written[c], memory_order_acquire);
}

static void read_range(const struct ram *r, uint64_t off, uint64_t len,
		       uint8_t *buf)
{
	while (len) {
		uint64_t c = off >> CHUNK_SHIFT;
		uint64_t n = CHUNK_SIZE - (off & (CHUNK_SIZE - 1));

		if (n > len)
			n = len;
		if (chunk_written(r, c))
			memcpy(buf, r->base + off, n);
		else
			memset(buf, 0, n);
		buf += n;
		off += n;
		len -= n;
	}
}

static void write_range(struct ram *r, uint64_t off, uint64_t len,
			const uint8_t *buf)
{
	uint64_t c, last = (off + len - 1) >> CHUNK_SHIFT;

	/* mark first: a reader that sees the flag reads the pages */
	for (c = off >> CHUNK_SHIFT; c <= last; c++) {
		if (!atomic_load_explicit(&r->written[c], memory_order_relaxed))
			atomic_store_explicit(&r->written[c], 1,
					      memory_order_release);
		if (!atomic_load_explicit(&r->mapped[c], memory_order_relaxed))
			atomic_store_explicit(&r->mapped[c], 1,
					      memory_order_relaxed);
	}
	memcpy(r->base + off, buf, len);
}

/* Zero [off, off+len) of written chunks; whole pages go back to the
 * kernel. */
static void zero_range(struct ram *r, uint64_t off, uint64_t len)
{
	uint64_t pg = r->pagesize;

	while (len) {
		uint64_t c = off >> CHUNK_SHIFT;
		uint64_t n = CHUNK_SIZE - (off & (CHUNK_SIZE - 1));
		uint64_t a, b;

		if (n > len)
			n = len;
		if (chunk_written(r, c)) {
			a = (off + pg - 1) / pg * pg;
			b = (off + n) / pg * pg;
			if (a < b) {
				memset(r->base + off, 0, a - off);
				/* madvise(2): private anonymous pages read
				 * as zero-fill-on-demand afterwards */
				if (madvise(r->base + a, b - a, MADV_DONTNEED) <
				    0)
					memset(r->base + a, 0, b - a);
				memset(r->base + b, 0, off + n - b);
			} else {
				memset(r->base + off, 0, n);
			}
		}
		off += n;
		len -= n;
	}
}

/* UNMAP: the chunks that [off, off+len) covers whole are deallocated. */
static void unmap_chunks(struct ram *r, uint64_t off, uint64_t len)
{
	uint64_t c = (off + CHUNK_SIZE - 1) >> CHUNK_SHIFT;
	uint64_t end = (off + len) >> CHUNK_SHIFT;

	if (off + len == r->len) /* the last chunk may be short */
		end = (r->len + CHUNK_SIZE - 1) >> CHUNK_SHIFT;
	for (; c < end; c++)
		atomic_store_explicit(&r->mapped[c], 0, memory_order_relaxed);
}

/* GET LBA STATUS: per 1 MiB chunk, mapped once written, until an UNMAP
 * covers all of it. */
static int ram_lba_status(struct tdm_bs *bs, uint64_t offset, uint64_t *len,
			  bool *mapped)
{
	struct ram *r = bs->priv;
	uint64_t c = offset >> CHUNK_SHIFT, end = offset;
	bool m;

	if (offset >= r->len)
		return -EINVAL;
	m = atomic_load_explicit(&r->mapped[c], memory_order_relaxed);
	while (end < r->len &&
	       atomic_load_explicit(&r->mapped[end >> CHUNK_SHIFT],
				    memory_order_relaxed) == m)
		end = ((end >> CHUNK_SHIFT) + 1) << CHUNK_SHIFT;
	if (end > r->len)
		end = r->len;
	*mapped = m;
	*len = end - offset;
	return 0;
}

static void ram_submit(struct tdm_bs *bs, struct tdm_bs_io *io)
{
	struct ram *r = bs->priv;

	/* the core checked the LBA range; never touch memory outside */
	if (io->offset > r->len || io->len > r->len - io->offset) {
		io->done(io, io->op == TDM_BS_READ ? TDM_BS_READ_ERROR
						   : TDM_BS_WRITE_ERROR);
		return;
	}
	if (!io->len) {
		io->done(io, TDM_BS_OK);
		return;
	}
	switch (io->op) {
	case TDM_BS_READ:
		read_range(r, io->offset, io->len, io->buf);
		break;
	case TDM_BS_WRITE:
		write_range(r, io->offset, io->len, io->buf);
		break;
	case TDM_BS_UNMAP:
		if (!bs->can_unmap) {
			io->done(io, TDM_BS_UNSUPPORTED);
			return;
		}
		zero_range(r, io->offset, io->len);
		unmap_chunks(r, io->offset, io->len);
		break;
	case TDM_BS_WRITE_ZEROES:
		zero_range(r, io->offset, io->len);
		break;
	case TDM_BS_FLUSH:
		break;
	default:
		io->done(io, TDM_BS_UNSUPPORTED);
		return;
	}
	io->done(io, TDM_BS_OK);
}

const struct tdm_bs_ops tdm__bs_ram_ops = {
	.name = "ram",
	.open = ram_open,
	.close = ram_close,
	.submit = ram_submit,
	.lba_status = ram_lba_status,
};
