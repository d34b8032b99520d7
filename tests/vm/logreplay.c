/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * logreplay.c - replays a dm-log-writes log (the kernel's
 * Documentation/admin-guide/device-mapper/log-writes.rst) onto an image
 * of the logged device, for the VM lab's crash test (tests/vm/crash.sh).
 *
 * The log's layout, and its reader that checks every field (the super
 * block, each entry's header), are in lwlog.h and lwlog.c: pure code
 * that tests/fuzz/fuzz_logreplay.c fuzzes; this file replays what it
 * accepted. Flags: FLUSH 1, FUA 2, DISCARD 4, MARK 8, METADATA 16.
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
 * text inside its sector, writes inside the image: lw_scan), and a bad
 * log ends with "logreplay: LOG: entry N at byte B: what is wrong",
 * exit 2, before anything is written to IMAGE. Exit 0 on success, 2 on any
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

#include "lwlog.h"

static const char *log_path;
static int log_fd = -1;
static struct lw_log lw;

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

/* lw_read_fn on log_fd */
static ssize_t fd_read(void *arg, void *buf, size_t len, uint64_t off)
{
	ssize_t n = pread(*(int *)arg, buf, len, (off_t)off);

	return n < 0 ? -errno : n;
}

/* exactly LEN bytes at OFF of the log; the caller checked the range */
static void log_read(void *buf, size_t len, uint64_t off)
{
	if (lw_read(&lw, buf, len, off))
		die("%s", lw.err);
}

struct counts {
	uint64_t writes, fua, flushes, discards, marks, bytes, volatile_skipped;
};

static void apply(int img, const struct lw_entry *e, struct counts *c)
{
	static char *buf;
	static size_t cap;
	uint64_t len = e->nr * lw.ssize, done = 0;

	if (e->flags & LW_FLUSH)
		c->flushes++;
	if (e->flags & LW_MARK) {
		c->marks++;
		return;
	}
	if (!e->nr)
		return;
	if (e->flags & LW_DISCARD) {
		c->discards++;
		if (fallocate(img, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      (off_t)(e->sector * lw.ssize), (off_t)len)) {
			uint64_t r[2] = {e->sector * lw.ssize, len};

			/* a block device: zero it */
			if (ioctl(img, BLKZEROOUT, r))
				die("discard of sectors %" PRIu64 "+%" PRIu64
				    " on the image: %s",
				    e->sector, e->nr, strerror(errno));
		}
		return;
	}
	c->writes++;
	if (e->flags & LW_FUA)
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
		log_read(buf, n, e->off + lw.ssize + done);
		if (pwrite(img, buf, n, (off_t)(e->sector * lw.ssize + done)) !=
		    (ssize_t)n)
			die("write to the image at byte %" PRIu64 ": %s",
			    e->sector * lw.ssize + done, strerror(errno));
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
	lw.size = (uint64_t)st.st_size;
	if (S_ISBLK(st.st_mode) && ioctl(log_fd, BLKGETSIZE64, &lw.size))
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
	lw.read = fd_read;
	lw.arg = &log_fd;
	if (lw_scan(&lw, image_size))
		die("%s", lw.err);
	memset(&cnt, 0, sizeof(cnt));
	if (list) {
		for (i = 0; i < lw.nents; i++) {
			const struct lw_entry *e = &lw.ents[i];

			if (e->flags & LW_MARK)
				printf("mark entry=%" PRIu64 " name=%s\n", i,
				       e->mark);
			cnt.flushes += !!(e->flags & LW_FLUSH);
			cnt.marks += !!(e->flags & LW_MARK);
			cnt.discards += !!(e->flags & LW_DISCARD);
			if (e->nr && !(e->flags & (LW_DISCARD | LW_MARK))) {
				cnt.writes++;
				cnt.fua += !!(e->flags & LW_FUA);
				cnt.bytes += e->nr * lw.ssize;
			}
		}
		printf("log=%s entries=%" PRIu64
		       " sector_size=%u writes=%" PRIu64 " fua=%" PRIu64
		       " flushes=%" PRIu64 " discards=%" PRIu64
		       " marks=%" PRIu64 " data_bytes=%" PRIu64
		       " log_bytes=%" PRIu64 "\n",
		       log_path, lw.nents, lw.ssize, cnt.writes, cnt.fua,
		       cnt.flushes, cnt.discards, cnt.marks, cnt.bytes, lw.end);
		return 0;
	}
	if (image_size % lw.ssize)
		die("the image's size (%" PRIu64
		    " bytes) is not a whole number "
		    "of %u-byte sectors",
		    image_size, lw.ssize);
	if (all) {
		for (i = 0; i < lw.nents; i++)
			apply(img, &lw.ents[i], &cnt);
		printf("replayed=all entries=%" PRIu64 " writes=%" PRIu64
		       " fua=%" PRIu64 " flushes=%" PRIu64 " discards=%" PRIu64
		       " marks=%" PRIu64 " data_bytes=%" PRIu64 "\n",
		       lw.nents, cnt.writes, cnt.fua, cnt.flushes, cnt.discards,
		       cnt.marks, cnt.bytes);
	} else {
		for (mi = 0; mi < lw.nents; mi++) {
			if (lw.ents[mi].mark && !strcmp(lw.ents[mi].mark, mark))
				break;
			if (lw.ents[mi].flags & LW_FLUSH) {
				have_flush = true;
				last_flush = mi;
			}
		}
		if (mi == lw.nents)
			die("no mark '%s' among its %" PRIu64 " entries", mark,
			    lw.nents);
		/* stable at the mark: up to the last FLUSH, then the FUA
		 * writes only */
		for (i = 0; i < mi; i++) {
			const struct lw_entry *e = &lw.ents[i];

			if ((have_flush && i <= last_flush) ||
			    (e->flags & (LW_FUA | LW_MARK)))
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
