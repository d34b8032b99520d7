/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * lwlog.c - the checked reader of a dm-log-writes log (lwlog.h): every
 * field of the super block and of each entry's header is checked before
 * it is used, and a bad field ends the scan with a message naming the
 * entry, its byte offset in the log and what is wrong.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lwlog.h"

static int fail(struct lw_log *lw, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ERR (a negative errno), with the message in LW->err */
static int fail(struct lw_log *lw, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(lw->err, sizeof(lw->err), fmt, ap);
	va_end(ap);
	return err;
}

static uint64_t le64(const unsigned char *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

int lw_read(struct lw_log *lw, void *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = lw->read(lw->arg, (char *)buf + done, len - done,
				     off + done);

		if (n == -EINTR)
			continue;
		if (n <= 0)
			return fail(lw, -EIO, "read at byte %" PRIu64 ": %s",
				    off + done,
				    n ? strerror((int)-n)
				      : "unexpected end of file");
		if ((size_t)n > len - done)
			return fail(lw, -EIO,
				    "read at byte %" PRIu64
				    ": %zd bytes for %zu asked",
				    off + done, n, len - done);
		done += (size_t)n;
	}
	return 0;
}

void lw_free(struct lw_log *lw)
{
	uint64_t i;

	for (i = 0; i < lw->nents; i++)
		free(lw->ents[i].mark);
	free(lw->ents);
	lw->ents = NULL;
	lw->nents = 0;
}

/* checks the header of entry I at OFF, read into SEC, into E */
static int check_entry(struct lw_log *lw, struct lw_entry *e, uint64_t i,
		       uint64_t off, const unsigned char *sec,
		       uint64_t image_sectors)
{
	uint64_t flags = le64(sec + 16), data_len = le64(sec + 24);

	e->off = off;
	e->sector = le64(sec);
	e->nr = le64(sec + 8);
	e->mark = NULL;
	if (flags & ~(uint64_t)LW_KNOWN)
		return fail(lw, -EINVAL,
			    "entry %" PRIu64 " at byte %" PRIu64
			    ": unknown flags 0x%" PRIx64,
			    i, off, flags);
	e->flags = (uint32_t)flags;
	if (flags & LW_MARK) {
		if (flags != LW_MARK || e->nr || !data_len ||
		    data_len > lw->ssize - LW_ENTRY_LEN)
			return fail(lw, -EINVAL,
				    "entry %" PRIu64 " at byte %" PRIu64
				    ": a bad mark (flags 0x%" PRIx64
				    ", %" PRIu64 " sectors, %" PRIu64
				    " bytes of text)",
				    i, off, flags, e->nr, data_len);
		if (memchr(sec + LW_ENTRY_LEN, 0, (size_t)data_len))
			return fail(lw, -EINVAL,
				    "entry %" PRIu64 " at byte %" PRIu64
				    ": a mark's text holds a NUL byte",
				    i, off);
		e->mark = strndup((const char *)sec + LW_ENTRY_LEN,
				  (size_t)data_len);
		if (!e->mark)
			return fail(lw, -ENOMEM, "out of memory");
	} else if (data_len) {
		return fail(lw, -EINVAL,
			    "entry %" PRIu64 " at byte %" PRIu64 ": %" PRIu64
			    " bytes of inline data (not written "
			    "by this driver)",
			    i, off, data_len);
	} else if (!e->nr && !(flags & LW_FLUSH)) {
		return fail(lw, -EINVAL,
			    "entry %" PRIu64 " at byte %" PRIu64
			    ": an empty write that is not a flush",
			    i, off);
	} else if ((flags & LW_DISCARD) && (flags & (LW_FLUSH | LW_FUA))) {
		return fail(lw, -EINVAL,
			    "entry %" PRIu64 " at byte %" PRIu64
			    ": a discard with FLUSH or FUA",
			    i, off);
	}
	if (e->sector > image_sectors || e->nr > image_sectors ||
	    e->sector + e->nr > image_sectors) {
		free(e->mark);
		e->mark = NULL;
		return fail(lw, -EINVAL,
			    "entry %" PRIu64 " at byte %" PRIu64
			    ": sectors %" PRIu64 "+%" PRIu64
			    " beyond the device (%" PRIu64
			    " sectors of %u bytes)",
			    i, off, e->sector, e->nr, image_sectors, lw->ssize);
	}
	return 0;
}

int lw_scan(struct lw_log *lw, uint64_t image_size)
{
	unsigned char sec[LW_MAX_SECTOR];
	uint64_t want, off, i, image_sectors, cap = 0;
	int r;

	lw->ents = NULL;
	lw->nents = 0;
	lw->end = 0;
	lw->err[0] = '\0';
	if (lw->size < LW_ENTRY_LEN)
		return fail(lw, -EINVAL,
			    "truncated: %" PRIu64 " bytes, no super block",
			    lw->size);
	r = lw_read(lw, sec, 28, 0);
	if (r)
		return r;
	if (le64(sec) != LW_MAGIC)
		return fail(lw, -EINVAL,
			    "not a dm-log-writes log: magic 0x%" PRIx64
			    " (want 0x%" PRIx64 ")",
			    le64(sec), LW_MAGIC);
	if (le64(sec + 8) != LW_VERSION)
		return fail(lw, -EINVAL,
			    "log version %" PRIu64 ", only %d is known",
			    le64(sec + 8), LW_VERSION);
	want = le64(sec + 16);
	lw->ssize = (uint32_t)sec[24] | (uint32_t)sec[25] << 8 |
		    (uint32_t)sec[26] << 16 | (uint32_t)sec[27] << 24;
	if (lw->ssize < 512 || lw->ssize > LW_MAX_SECTOR ||
	    (lw->ssize & (lw->ssize - 1)))
		return fail(lw, -EINVAL,
			    "super block: sector size %u (512 to %d, a power "
			    "of two)",
			    lw->ssize, LW_MAX_SECTOR);
	/* without an image, a bound that keeps nr * ssize from overflowing */
	image_sectors = image_size == UINT64_MAX ? (UINT64_C(1) << 48)
						 : image_size / lw->ssize;
	if (want > LW_MAX_ENTRIES)
		return fail(lw, -EINVAL,
			    "super block: %" PRIu64 " entries (at most %" PRIu64
			    ")",
			    want, LW_MAX_ENTRIES);
	off = lw->ssize;
	for (i = 0; i < want; i++) {
		struct lw_entry *e;
		uint64_t len;

		if (off > lw->size || lw->size - off < lw->ssize) {
			r = fail(lw, -EINVAL,
				 "entry %" PRIu64 " at byte %" PRIu64
				 ": truncated: the log ends at byte %" PRIu64
				 " (the super block announces %" PRIu64
				 " entries)",
				 i, off, lw->size, want);
			goto bad;
		}
		/* grown with the entries the log really holds, not to what
		 * the super block announces */
		if (i == cap) {
			uint64_t n = cap ? cap * 2 : 64;
			struct lw_entry *p;

			if (n > want)
				n = want;
			p = realloc(lw->ents, (size_t)n * sizeof(*p));
			if (!p) {
				r = fail(lw, -ENOMEM, "out of memory");
				goto bad;
			}
			lw->ents = p;
			cap = n;
		}
		r = lw_read(lw, sec, lw->ssize, off);
		if (r)
			goto bad;
		e = &lw->ents[i];
		r = check_entry(lw, e, i, off, sec, image_sectors);
		if (r)
			goto bad;
		lw->nents = i + 1;
		off += lw->ssize;
		if (!(e->flags & LW_DISCARD)) {
			/* nr <= image_sectors <= 2^48: no overflow */
			len = e->nr * lw->ssize;
			if (lw->size - off < len) {
				r = fail(lw, -EINVAL,
					 "entry %" PRIu64 " at byte %" PRIu64
					 ": truncated: %" PRIu64
					 " bytes of data, the log ends at byte "
					 "%" PRIu64,
					 i, e->off, len, lw->size);
				goto bad;
			}
			off += len;
		}
	}
	lw->end = off;
	return 0;
bad:
	lw_free(lw);
	return r;
}
