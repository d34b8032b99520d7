/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * lwlog.h - the reader of a dm-log-writes log (the kernel's
 * Documentation/admin-guide/device-mapper/log-writes.rst): its super
 * block and every entry's header, each field checked. Pure: it reads
 * through the caller's callback, never exits and prints nothing; an
 * error comes back as a negative errno with a precise message ("entry
 * N at byte B: what is wrong"). Used by logreplay (tests/vm/logreplay.c)
 * and its fuzzer (tests/fuzz/fuzz_logreplay.c); standalone C, none of
 * the project's libraries (logreplay is built on its own by crash.sh).
 *
 * The layout, as drivers/md/dm-log-writes.c writes it: sector 0 holds
 * the super block (le64 magic 0x6a736677736872, le64 version 1, le64
 * number of entries, le32 sector size = the logged device's logical
 * block size); entries follow from sector 1, each one sector holding
 * (le64 sector, le64 nr_sectors, le64 flags, le64 data_len) — a mark's
 * text follows in the same sector (data_len bytes) — then nr_sectors
 * sectors of the written data (none for a discard, a mark or an empty
 * flush). Sectors are of the super block's size.
 */
#ifndef TDM_TESTS_VM_LWLOG_H
#define TDM_TESTS_VM_LWLOG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define LW_MAGIC UINT64_C(0x6a736677736872)
#define LW_VERSION 1
#define LW_FLUSH 1u
#define LW_FUA 2u
#define LW_DISCARD 4u
#define LW_MARK 8u
#define LW_METADATA 16u
#define LW_KNOWN (LW_FLUSH | LW_FUA | LW_DISCARD | LW_MARK | LW_METADATA)
#define LW_ENTRY_LEN 32 /* an entry's header: four le64 */
/* the largest sector size (and so the longest mark: it minus the header) */
#define LW_MAX_SECTOR 4096
/* the most entries a super block may announce */
#define LW_MAX_ENTRIES (UINT64_C(1) << 26)

/*
 * Reads up to LEN bytes at byte OFF of the log into BUF, as pread does:
 * the number of bytes read (> 0), 0 at the end of the log, or a negative
 * errno (-EINTR: asked again).
 */
typedef ssize_t (*lw_read_fn)(void *arg, void *buf, size_t len, uint64_t off);

struct lw_entry {
	uint64_t off;	     /* of its header in the log */
	uint64_t sector, nr; /* in log sectors */
	uint32_t flags;	     /* LW_* */
	char *mark;	     /* LW_MARK: its text (no NUL byte in it) */
};

struct lw_log {
	/* the caller's: how to read the log, and its size in bytes */
	lw_read_fn read;
	void *arg;
	uint64_t size;
	/* lw_scan's: the sector size, the entries, the byte after the last */
	uint32_t ssize;
	uint64_t nents;
	struct lw_entry *ents;
	uint64_t end;
	/* the last error's message, without the log's name */
	char err[256];
};

/*
 * Checks the super block and every entry of the log LW->size bytes long
 * that LW->read reads: magic, version, sector size, each entry and its
 * data inside the log, known flags, a mark's text inside its sector and
 * free of NUL bytes, every write inside a device of IMAGE_SIZE bytes
 * (UINT64_MAX: unknown, then at most 2^48 sectors). Returns 0 with
 * ssize, nents, ents and end set; or -EINVAL (a bad log), -EIO (the
 * read failed), -ENOMEM, with LW->err set, no entries kept.
 */
int lw_scan(struct lw_log *lw, uint64_t image_size);

/* exactly LEN bytes at OFF of the log: 0, or a negative errno with
 * LW->err set ("read at byte B: ...") */
int lw_read(struct lw_log *lw, void *buf, size_t len, uint64_t off);

/* frees the entries lw_scan kept; LW can be scanned again */
void lw_free(struct lw_log *lw);

#endif
