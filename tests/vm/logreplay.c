/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * logreplay.c - replays a dm-log-writes log (the kernel's
 * Documentation/admin-guide/device-mapper/log-writes.rst) onto an image
 * of the logged device, for the VM lab's crash test (tests/vm/crash.sh).
 *
 * The log, as drivers/md/dm-log-writes.c writes it: sector 0 holds the
 * super block (le64 magic 0x6a736677736872, le64 version 1, le64 number of
 * entries, le32 sector size = the logged device's logical block size);
 * entries follow from sector 1, each one sector holding (le64 sector,
 * le64 nr_sectors, le64 flags, le64 data_len) — a mark's text follows in
 * the same sector (data_len bytes) — then nr_sectors sectors of the
 * written data (none for a discard, a mark or an empty flush). Sectors
 * are of the super block's size. Flags: FLUSH 1, FUA 2, DISCARD 4,
 * MARK 8, METADATA 16.
 *
 * What the order of the log means (log-writes.rst, "Log Ordering"): a
 * plain write is logged only once a later FLUSH that was issued after it
 * completed has completed, just before that FLUSH's entry; a FUA write is
 * logged when it completes; a mark when it is asked for. So the device's
 * stable content when the mark was asked for — what a power loss at that
 * moment leaves — is every entry up to the last FLUSH before the mark,
 * plus the FUA writes logged between that FLUSH and the mark. A plain
 * write or discard logged in that interval was still in the volatile
 * cache (only the end of the log has them, where the target's destructor
 * logs what was never flushed): -m leaves them out and counts them.
 *
 * usage: logreplay -l LOG -L               the marks and what the log holds
 *        logreplay -l LOG -r IMAGE -m MARK the power-loss state at MARK
 *        logreplay -l LOG -r IMAGE -a      every entry (the final content)
 * IMAGE is an existing file (or device) of the logged device's size,
 * holding what the device held when logging began (zeros for a new
 * sparse file). Discards are replayed as zeros (punched holes).
 *
 * The log is input: every field is checked before it is used (magic,
 * version, sector size, each entry inside the file, known flags, mark
 * text inside its sector, writes inside the image), and a bad log ends
 * with "logreplay: LOG: entry N at byte B: what is wrong", exit 2,
 * before anything is written to IMAGE. Exit 0 on success, 2 on any
 * error (a mark not found included).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* fallocate; config.h defines it in the tree */
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/falloc.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/fs.h>

#define LOG_MAGIC UINT64_C(0x6a736677736872)
#define LOG_VERSION 1
#define F_FLUSH 1u
#define F_FUA 2u
#define F_DISCARD 4u
#define F_MARK 8u
#define F_METADATA 16u
#define F_KNOWN (F_FLUSH | F_FUA | F_DISCARD | F_MARK | F_METADATA)
#define ENTRY_LEN 32 /* four le64 */
#define MAX_MARK 4096
#define MAX_ENTRIES (UINT64_C(1) << 26)

struct entry {
	uint64_t off;	     /* of its header in the log */
	uint64_t sector, nr; /* in log sectors */
	uint32_t flags;
	char *mark; /* F_MARK: its text */
};

static const char *log_path;
static int log_fd = -1;
static uint64_t log_size;
static uint32_t ssize;
static struct entry *ents;
static uint64_t nents;
static uint64_t log_end; /* the byte after the last entry */

static void die(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "logreplay: %s: ", log_path);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static uint64_t le64(const unsigned char *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* exactly LEN bytes at OFF of the log; the caller checked the range */
static void log_read(void *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(log_fd, (char *)buf + done, len - done,
				  (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("read at byte %" PRIu64 ": %s", off + done,
			    n ? strerror(errno) : "unexpected end of file");
		done += (size_t)n;
	}
}

/* the super block and every entry's header, checked; the device is
 * IMAGE_SIZE bytes (UINT64_MAX: unknown) */
static void scan(uint64_t image_size)
{
	static unsigned char sec[MAX_MARK + ENTRY_LEN];
	uint64_t want, off, i, image_sectors;

	if (log_size < ENTRY_LEN)
		die("truncated: %" PRIu64 " bytes, no super block", log_size);
	log_read(sec, 28, 0);
	if (le64(sec) != LOG_MAGIC)
		die("not a dm-log-writes log: magic 0x%" PRIx64
		    " (want 0x%" PRIx64 ")",
		    le64(sec), LOG_MAGIC);
	if (le64(sec + 8) != LOG_VERSION)
		die("log version %" PRIu64 ", only %d is known", le64(sec + 8),
		    LOG_VERSION);
	want = le64(sec + 16);
	ssize = (uint32_t)sec[24] | (uint32_t)sec[25] << 8 |
		(uint32_t)sec[26] << 16 | (uint32_t)sec[27] << 24;
	if (ssize < 512 || ssize > MAX_MARK || (ssize & (ssize - 1)))
		die("super block: sector size %u (512 to %d, a power of two)",
		    ssize, MAX_MARK);
	/* without an image, a bound that keeps nr * ssize from overflowing */
	image_sectors = image_size == UINT64_MAX ? (UINT64_C(1) << 48)
						 : image_size / ssize;
	if (want > MAX_ENTRIES)
		die("super block: %" PRIu64 " entries (at most %" PRIu64 ")",
		    want, MAX_ENTRIES);
	ents = calloc(want ? want : 1, sizeof(*ents));
	if (!ents)
		die("out of memory");
	off = ssize;
	for (i = 0; i < want; i++) {
		struct entry *e = &ents[i];
		uint64_t data_len, flags, len;

		if (off > log_size || log_size - off < ssize)
			die("entry %" PRIu64 " at byte %" PRIu64
			    ": truncated: the log ends at byte %" PRIu64
			    " (the super block announces %" PRIu64 " entries)",
			    i, off, log_size, want);
		log_read(sec, ssize, off);
		e->off = off;
		e->sector = le64(sec);
		e->nr = le64(sec + 8);
		flags = le64(sec + 16);
		data_len = le64(sec + 24);
		if (flags & ~(uint64_t)F_KNOWN)
			die("entry %" PRIu64 " at byte %" PRIu64
			    ": unknown flags 0x%" PRIx64,
			    i, off, flags);
		e->flags = (uint32_t)flags;
		if (flags & F_MARK) {
			if (flags != F_MARK || e->nr || !data_len ||
			    data_len > ssize - ENTRY_LEN)
				die("entry %" PRIu64 " at byte %" PRIu64
				    ": a bad mark (flags 0x%" PRIx64
				    ", %" PRIu64 " sectors, %" PRIu64
				    " bytes of text)",
				    i, off, flags, e->nr, data_len);
			e->mark = strndup((char *)sec + ENTRY_LEN,
					  (size_t)data_len);
			if (!e->mark)
				die("out of memory");
			if (strlen(e->mark) != data_len)
				die("entry %" PRIu64 " at byte %" PRIu64
				    ": a mark's text holds a NUL byte",
				    i, off);
		} else if (data_len) {
			die("entry %" PRIu64 " at byte %" PRIu64 ": %" PRIu64
			    " bytes of inline data (not written "
			    "by this driver)",
			    i, off, data_len);
		} else if (!e->nr && !(flags & F_FLUSH)) {
			die("entry %" PRIu64 " at byte %" PRIu64
			    ": an empty write that is not a flush",
			    i, off);
		} else if ((flags & F_DISCARD) && (flags & (F_FLUSH | F_FUA))) {
			die("entry %" PRIu64 " at byte %" PRIu64
			    ": a discard with FLUSH or FUA",
			    i, off);
		}
		if (e->sector > image_sectors || e->nr > image_sectors ||
		    e->sector + e->nr > image_sectors)
			die("entry %" PRIu64 " at byte %" PRIu64
			    ": sectors %" PRIu64 "+%" PRIu64
			    " beyond the device (%" PRIu64
			    " sectors of %u bytes)",
			    i, off, e->sector, e->nr, image_sectors, ssize);
		off += ssize;
		if (!(flags & F_DISCARD)) {
			len = e->nr *
			      ssize; /* nr <= image_sectors: no overflow */
			if (log_size - off < len)
				die("entry %" PRIu64 " at byte %" PRIu64
				    ": truncated: %" PRIu64
				    " bytes of data, the log ends at byte "
				    "%" PRIu64,
				    i, e->off, len, log_size);
			off += len;
		}
	}
	nents = want;
	log_end = off;
}

struct counts {
	uint64_t writes, fua, flushes, discards, marks, bytes, volatile_skipped;
};

static void apply(int img, const struct entry *e, struct counts *c)
{
	static char *buf;
	static size_t cap;
	uint64_t len = e->nr * ssize, done = 0;

	if (e->flags & F_FLUSH)
		c->flushes++;
	if (e->flags & F_MARK) {
		c->marks++;
		return;
	}
	if (!e->nr)
		return;
	if (e->flags & F_DISCARD) {
		c->discards++;
		if (fallocate(img, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      (off_t)(e->sector * ssize), (off_t)len)) {
			uint64_t r[2] = {e->sector * ssize, len};

			/* a block device: zero it */
			if (ioctl(img, BLKZEROOUT, r))
				die("discard of sectors %" PRIu64 "+%" PRIu64
				    " on the image: %s",
				    e->sector, e->nr, strerror(errno));
		}
		return;
	}
	c->writes++;
	if (e->flags & F_FUA)
		c->fua++;
	c->bytes += len;
	while (done < len) {
		size_t n = len - done > (1u << 20) ? (1u << 20)
						   : (size_t)(len - done);

		if (n > cap) {
			free(buf);
			buf = malloc(n);
			cap = buf ? n : 0;
			if (!buf)
				die("out of memory");
		}
		log_read(buf, n, e->off + ssize + done);
		if (pwrite(img, buf, n, (off_t)(e->sector * ssize + done)) !=
		    (ssize_t)n)
			die("write to the image at byte %" PRIu64 ": %s",
			    e->sector * ssize + done, strerror(errno));
		done += n;
	}
}

static int usage(void)
{
	fprintf(stderr, "usage: logreplay -l LOG -L\n"
			"       logreplay -l LOG -r IMAGE -m MARK\n"
			"       logreplay -l LOG -r IMAGE -a\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *image = NULL, *mark = NULL;
	bool list = false, all = false;
	struct counts cnt;
	uint64_t image_size = UINT64_MAX, i, mi = 0, last_flush = 0;
	bool have_flush = false;
	struct stat st;
	int c, img = -1;

	while ((c = getopt(argc, argv, "l:r:m:aL")) != -1) {
		switch (c) {
		case 'l':
			log_path = optarg;
			break;
		case 'r':
			image = optarg;
			break;
		case 'm':
			mark = optarg;
			break;
		case 'a':
			all = true;
			break;
		case 'L':
			list = true;
			break;
		default:
			return usage();
		}
	}
	if (optind != argc || !log_path || list + all + (mark != NULL) != 1 ||
	    list == (image != NULL))
		return usage();
	log_fd = open(log_path, O_RDONLY);
	if (log_fd < 0 || fstat(log_fd, &st))
		die("%s", strerror(errno));
	log_size = (uint64_t)st.st_size;
	if (S_ISBLK(st.st_mode) && ioctl(log_fd, BLKGETSIZE64, &log_size))
		die("%s", strerror(errno));
	if (image) {
		img = open(image, O_RDWR);
		if (img < 0 || fstat(img, &st)) {
			fprintf(stderr, "logreplay: %s: %s\n", image,
				strerror(errno));
			return 2;
		}
		image_size = (uint64_t)st.st_size;
		if (S_ISBLK(st.st_mode) &&
		    ioctl(img, BLKGETSIZE64, &image_size)) {
			fprintf(stderr, "logreplay: %s: %s\n", image,
				strerror(errno));
			return 2;
		}
	}
	scan(image_size);
	memset(&cnt, 0, sizeof(cnt));
	if (list) {
		for (i = 0; i < nents; i++) {
			const struct entry *e = &ents[i];

			if (e->flags & F_MARK)
				printf("mark entry=%" PRIu64 " name=%s\n", i,
				       e->mark);
			cnt.flushes += !!(e->flags & F_FLUSH);
			cnt.marks += !!(e->flags & F_MARK);
			cnt.discards += !!(e->flags & F_DISCARD);
			if (e->nr && !(e->flags & (F_DISCARD | F_MARK))) {
				cnt.writes++;
				cnt.fua += !!(e->flags & F_FUA);
				cnt.bytes += e->nr * ssize;
			}
		}
		printf("log=%s entries=%" PRIu64
		       " sector_size=%u writes=%" PRIu64 " fua=%" PRIu64
		       " flushes=%" PRIu64 " discards=%" PRIu64
		       " marks=%" PRIu64 " data_bytes=%" PRIu64
		       " log_bytes=%" PRIu64 "\n",
		       log_path, nents, ssize, cnt.writes, cnt.fua, cnt.flushes,
		       cnt.discards, cnt.marks, cnt.bytes, log_end);
		return 0;
	}
	if (image_size % ssize)
		die("the image's size (%" PRIu64
		    " bytes) is not a whole number "
		    "of %u-byte sectors",
		    image_size, ssize);
	if (all) {
		for (i = 0; i < nents; i++)
			apply(img, &ents[i], &cnt);
		printf("replayed=all entries=%" PRIu64 " writes=%" PRIu64
		       " fua=%" PRIu64 " flushes=%" PRIu64 " discards=%" PRIu64
		       " marks=%" PRIu64 " data_bytes=%" PRIu64 "\n",
		       nents, cnt.writes, cnt.fua, cnt.flushes, cnt.discards,
		       cnt.marks, cnt.bytes);
	} else {
		for (mi = 0; mi < nents; mi++) {
			if (ents[mi].mark && !strcmp(ents[mi].mark, mark))
				break;
			if (ents[mi].flags & F_FLUSH) {
				have_flush = true;
				last_flush = mi;
			}
		}
		if (mi == nents)
			die("no mark '%s' among its %" PRIu64 " entries", mark,
			    nents);
		/* stable at the mark: up to the last FLUSH, then the FUA
		 * writes only */
		for (i = 0; i < mi; i++) {
			const struct entry *e = &ents[i];

			if ((have_flush && i <= last_flush) ||
			    (e->flags & (F_FUA | F_MARK)))
				apply(img, e, &cnt);
			else
				cnt.volatile_skipped++;
		}
		printf("replayed=%s mark_entry=%" PRIu64
		       " last_flush_entry=%s%" PRIu64 " writes=%" PRIu64
		       " fua=%" PRIu64 " flushes=%" PRIu64 " discards=%" PRIu64
		       " marks=%" PRIu64 " data_bytes=%" PRIu64
		       " volatile_skipped=%" PRIu64 "\n",
		       mark, mi, have_flush ? "" : "none-",
		       have_flush ? last_flush : 0, cnt.writes, cnt.fua,
		       cnt.flushes, cnt.discards, cnt.marks, cnt.bytes,
		       cnt.volatile_skipped);
	}
	if (fsync(img) && errno != EINVAL)
		die("fsync of the image: %s", strerror(errno));
	close(img);
	return 0;
}
