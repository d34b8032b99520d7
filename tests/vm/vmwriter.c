/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vmwriter.c - a verifying writer for the VM lab (tests/vm): several
 * threads write O_DIRECT blocks of mixed sizes to a block device (a
 * multipath map in the guest) for a while, every 4 KiB block stamped with
 * (seed, block number, sequence number) and filled with a pattern derived
 * from them; every acknowledged write is recorded (the last sequence
 * number of each block: each thread owns its own slice of the device and
 * has one write in flight, so the last acknowledged write of a block is
 * what the block must hold); at the end every acknowledged block is read
 * back and checked. Every gap between two completions (of any thread)
 * longer than the gap threshold is recorded: the largest is the pause an
 * application saw.
 *
 * usage: vmwriter -d DEV [-t THREADS] [-s SECONDS] [-S SEED] [-m MAXBLKS]
 *                 [-n BLOCKS] [-j JOURNAL] [-g GAP_MS] [-L STALL_S]
 *        vmwriter -v -d DEV -j JOURNAL     (verify a journal again)
 *   -t threads (4), -s seconds of writing (20), -S seed (time), -m the
 *   largest write in 4 KiB blocks (64; sizes 1, 2, 4, .. up to it, each
 *   length equally likely), -n how many blocks of the device to use
 *   (all), -j where to save the journal (the acknowledged blocks and
 *   their sequence numbers) for a later -v, -g the gap threshold in
 *   milliseconds (100), -L give up when no write completed for this many
 *   seconds (90). SIGUSR1 ends the writing early: the writes in flight
 *   complete, then the verification runs as at the end of -s (a test
 *   that writes "until it is done" gives a long -s and signals).
 *
 * Output: "gap at_ms=T ms=G" as each gap ends, "slow write thread=N
 * at_ms=T ms=L" for each write that took longer than the threshold, then
 * summary lines of key=value: writes, acked, io_errors, blocks_acked,
 * gaps, max_gap_ms (all I/O stopped), slow_writes, max_write_ms (the
 * longest write: the pause its thread saw), verified, bad_blocks, and
 * "result=ok" or "result=FAIL".
 * Exit: 0 when every write was acknowledged and every acknowledged block
 * read back right; 1 on an I/O error or a bad block; 2 on usage or
 * setup errors; 3 when the writes stalled longer than -L.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* O_DIRECT; config.h defines it in the tree */
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "stamp.h"

#define BLK STAMP_BLK
#define JOURNAL_MAGIC UINT64_C(0x54444d564a524e31) /* "TDMVJRN1" */
#define SEQ_UNKNOWN UINT64_MAX /* a failed write: old or new data */
#define MAX_THREADS 64
#define MAX_BAD_SHOWN 10

static const char *dev;
static int fd = -1;
static uint64_t seed;
static uint64_t nblocks;
static uint64_t *journal; /* per block: last acknowledged seq, 0 = none */
static atomic_uint_fast64_t next_seq;
static atomic_bool stop;
static volatile sig_atomic_t stop_asked; /* SIGUSR1 */
static atomic_int running;

static pthread_mutex_t stat_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t t_start_ns;
static uint64_t last_completion_ns;
static uint64_t gap_ns = 100 * 1000000ull;
static uint64_t max_gap_ns, max_write_ns;
static uint64_t gaps, slow_writes;
static uint64_t writes, acked, io_errors, blocks_acked;

static void *alloc_blocks(size_t n)
{
	void *p;

	if (posix_memalign(&p, BLK, n * BLK)) {
		fprintf(stderr, "vmwriter: out of memory\n");
		exit(2);
	}
	return p;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t xorshift(uint64_t *s)
{
	return stamp_xorshift(s);
}

/* the whole content of BLOCK written by write SEQ */
static void fill_block(unsigned char *b, uint64_t block, uint64_t seq)
{
	stamp_fill(b, seed, block, seq);
}

/*
 * one completion: the gap since the previous one of any thread (all I/O
 * stopped), and how long this write took (what its thread saw: with
 * several paths in use the other threads may go on meanwhile)
 */
static void completed(bool ok, uint64_t first, uint64_t len, uint64_t seq,
		      uint64_t issued, unsigned thread)
{
	uint64_t t, g, i;

	pthread_mutex_lock(&stat_lock);
	t = now_ns(); /* under the lock: never before the last one */
	writes++;
	g = t - last_completion_ns;
	last_completion_ns = t;
	if (g > gap_ns) {
		gaps++;
		printf("gap at_ms=%.1f ms=%.1f\n",
		       (double)(t - g - t_start_ns) / 1e6, (double)g / 1e6);
		fflush(stdout);
	}
	if (g > max_gap_ns)
		max_gap_ns = g;
	if (t - issued > gap_ns) {
		slow_writes++;
		printf("slow write thread=%u at_ms=%.1f ms=%.1f\n", thread,
		       (double)(issued - t_start_ns) / 1e6,
		       (double)(t - issued) / 1e6);
		fflush(stdout);
	}
	if (t - issued > max_write_ns)
		max_write_ns = t - issued;
	if (ok) {
		acked++;
		blocks_acked += len;
	} else {
		io_errors++;
	}
	pthread_mutex_unlock(&stat_lock);
	for (i = 0; i < len; i++)
		journal[first + i] = ok ? seq : SEQ_UNKNOWN;
}

struct worker {
	pthread_t tid;
	unsigned idx;
	uint64_t first, count; /* the thread's slice of the device */
	unsigned maxblks;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	uint64_t rs = seed ^ ((uint64_t)(w->idx + 1) << 32) ^ 0x5a5a5a5a;
	unsigned char *buf;
	unsigned maxblks = w->maxblks;

	if (maxblks > w->count)
		maxblks = (unsigned)w->count;
	buf = alloc_blocks(maxblks);
	if (!rs)
		rs = 1;
	while (!atomic_load(&stop)) {
		uint64_t len = 1 + xorshift(&rs) % maxblks;
		uint64_t off = w->first + xorshift(&rs) % (w->count - len + 1);
		uint64_t seq = atomic_fetch_add(&next_seq, 1) + 1;
		uint64_t i, issued;
		ssize_t n;

		for (i = 0; i < len; i++)
			fill_block(buf + i * BLK, off + i, seq);
		issued = now_ns();
		n = pwrite(fd, buf, len * BLK, (off_t)(off * BLK));
		if (n != (ssize_t)(len * BLK))
			fprintf(stderr,
				"vmwriter: write of %" PRIu64
				" blocks at block %" PRIu64 ": %s\n",
				len, off,
				n < 0 ? strerror(errno) : "short write");
		completed(n == (ssize_t)(len * BLK), off, len, seq, issued,
			  w->idx);
	}
	free(buf);
	atomic_fetch_sub(&running, 1);
	return NULL;
}

/* read back every block of the journal; returns the number of bad ones */
static uint64_t verify(uint64_t *verified, uint64_t *unknown)
{
	enum { RUN = 64 };
	unsigned char *buf, *want;
	uint64_t b, bad = 0;

	*verified = 0;
	*unknown = 0;
	buf = alloc_blocks(RUN);
	want = alloc_blocks(1);
	for (b = 0; b < nblocks; b += RUN) {
		uint64_t n = nblocks - b < RUN ? nblocks - b : RUN, i;
		bool any = false;
		ssize_t r;

		for (i = 0; i < n; i++)
			any |= journal[b + i] != 0;
		if (!any)
			continue;
		r = pread(fd, buf, n * BLK, (off_t)(b * BLK));
		if (r != (ssize_t)(n * BLK)) {
			fprintf(stderr,
				"vmwriter: read of block %" PRIu64 ": %s\n", b,
				r < 0 ? strerror(errno) : "short read");
			io_errors++;
			for (i = 0; i < n; i++)
				if (journal[b + i] &&
				    journal[b + i] != SEQ_UNKNOWN)
					bad++;
			continue;
		}
		for (i = 0; i < n; i++) {
			uint64_t seq = journal[b + i];
			struct stamp got;

			if (!seq)
				continue;
			if (seq == SEQ_UNKNOWN) {
				(*unknown)++;
				continue;
			}
			(*verified)++;
			fill_block(want, b + i, seq);
			if (!memcmp(buf + i * BLK, want, BLK))
				continue;
			if (bad++ < MAX_BAD_SHOWN) {
				memcpy(&got, buf + i * BLK, sizeof(got));
				printf("bad block=%" PRIu64 " want_seq=%" PRIu64
				       " found magic=%s seed=%s block=%" PRIu64
				       " seq=%" PRIu64 "\n",
				       b + i, seq,
				       got.magic == STAMP_MAGIC ? "ok"
								: "wrong",
				       got.seed == seed ? "ok" : "wrong",
				       got.block, got.seq);
			}
		}
	}
	free(buf);
	free(want);
	return bad;
}

static int save_journal(const char *path)
{
	uint64_t hdr[3] = {JOURNAL_MAGIC, seed, nblocks};
	FILE *f = fopen(path, "w");

	if (!f || fwrite(hdr, sizeof(hdr), 1, f) != 1 ||
	    fwrite(journal, sizeof(*journal), nblocks, f) != nblocks ||
	    fflush(f) || fsync(fileno(f))) {
		fprintf(stderr, "vmwriter: %s: %s\n", path, strerror(errno));
		if (f)
			fclose(f);
		return -1;
	}
	return fclose(f) ? -1 : 0;
}

static int load_journal(const char *path)
{
	uint64_t hdr[3];
	FILE *f = fopen(path, "r");

	if (!f || fread(hdr, sizeof(hdr), 1, f) != 1 ||
	    hdr[0] != JOURNAL_MAGIC || !hdr[2] ||
	    hdr[2] > (UINT64_C(1) << 32)) {
		fprintf(stderr, "vmwriter: %s: not a journal\n", path);
		if (f)
			fclose(f);
		return -1;
	}
	seed = hdr[1];
	nblocks = hdr[2];
	journal = calloc(nblocks, sizeof(*journal));
	if (!journal ||
	    fread(journal, sizeof(*journal), nblocks, f) != nblocks) {
		fprintf(stderr, "vmwriter: %s: truncated journal\n", path);
		fclose(f);
		return -1;
	}
	fclose(f);
	return 0;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: vmwriter -d DEV [-t THREADS] [-s SECONDS] [-S SEED] "
		"[-m MAXBLKS] [-n BLOCKS] [-j JOURNAL] [-g GAP_MS] "
		"[-L STALL_S]\n"
		"       vmwriter -v -d DEV -j JOURNAL\n");
	return 2;
}

static int report(uint64_t bad, uint64_t verified, uint64_t unknown)
{
	bool ok = !bad && !io_errors && !unknown;

	printf("verified=%" PRIu64 " bad_blocks=%" PRIu64
	       " unverifiable=%" PRIu64 " io_errors=%" PRIu64 "\n",
	       verified, bad, unknown, io_errors);
	printf("result=%s\n", ok ? "ok" : "FAIL");
	return ok ? 0 : 1;
}

static bool parse_u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	return !errno && *s && !*end;
}

static void on_usr1(int sig)
{
	(void)sig;
	stop_asked = 1;
}

int main(int argc, char **argv)
{
	uint64_t threads = 4, seconds = 20, maxblks = 64, limit = 0;
	uint64_t gap_ms = 100, stall_s = 90, bad, verified, unknown, dev_size;
	const char *jpath = NULL;
	bool verify_only = false, have_seed = false;
	struct worker w[MAX_THREADS];
	uint64_t i, per, deadline;
	int c;

	while ((c = getopt(argc, argv, "d:t:s:S:m:n:j:g:L:v")) != -1) {
		uint64_t v = 0;

		if (c != 'd' && c != 'j' && c != 'v' &&
		    (c == '?' || !parse_u64(optarg, &v)))
			return usage();
		switch (c) {
		case 'd':
			dev = optarg;
			break;
		case 'j':
			jpath = optarg;
			break;
		case 'v':
			verify_only = true;
			break;
		case 't':
			threads = v;
			break;
		case 's':
			seconds = v;
			break;
		case 'S':
			seed = v;
			have_seed = true;
			break;
		case 'm':
			maxblks = v;
			break;
		case 'n':
			limit = v;
			break;
		case 'g':
			gap_ms = v;
			break;
		case 'L':
			stall_s = v;
			break;
		default:
			return usage();
		}
	}
	if (!dev || optind != argc || !threads || threads > MAX_THREADS ||
	    !maxblks || maxblks > 1024 || (verify_only && !jpath))
		return usage();
	fd = open(dev, (verify_only ? O_RDONLY : O_RDWR) | O_DIRECT);
	if (fd < 0) {
		fprintf(stderr, "vmwriter: %s: %s\n", dev, strerror(errno));
		return 2;
	}
	if (verify_only) {
		if (load_journal(jpath))
			return 2;
		bad = verify(&verified, &unknown);
		return report(bad, verified, unknown);
	}
	if (ioctl(fd, BLKGETSIZE64, &dev_size)) {
		struct stat sb;

		if (fstat(fd, &sb)) {
			fprintf(stderr, "vmwriter: %s: %s\n", dev,
				strerror(errno));
			return 2;
		}
		dev_size = (uint64_t)sb.st_size;
	}
	nblocks = dev_size / BLK;
	if (limit && limit < nblocks)
		nblocks = limit;
	per = nblocks / threads;
	if (per < 1) {
		fprintf(stderr, "vmwriter: %s: too small (%" PRIu64 " bytes)\n",
			dev, dev_size);
		return 2;
	}
	if (!have_seed)
		seed = now_ns() ^ (uint64_t)getpid();
	journal = calloc(nblocks, sizeof(*journal));
	if (!journal) {
		fprintf(stderr, "vmwriter: out of memory\n");
		return 2;
	}
	gap_ns = gap_ms * 1000000ull;
	printf("vmwriter dev=%s threads=%" PRIu64 " seconds=%" PRIu64
	       " blocks=%" PRIu64 " block_size=%d max_write_blocks=%" PRIu64
	       " seed=0x%" PRIx64 "\n",
	       dev, threads, seconds, nblocks, BLK, maxblks, seed);
	fflush(stdout);
	{
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_usr1;
		sa.sa_flags = SA_RESTART; /* the writers never see EINTR */
		sigemptyset(&sa.sa_mask);
		sigaction(SIGUSR1, &sa, NULL);
	}
	t_start_ns = last_completion_ns = now_ns();
	atomic_store(&running, (int)threads);
	for (i = 0; i < threads; i++) {
		w[i].idx = (unsigned)i;
		w[i].first = i * per;
		w[i].count = per;
		w[i].maxblks = (unsigned)maxblks;
		if (pthread_create(&w[i].tid, NULL, worker_main, &w[i])) {
			fprintf(stderr, "vmwriter: pthread_create failed\n");
			return 2;
		}
	}
	deadline = t_start_ns + seconds * 1000000000ull;
	for (;;) {
		struct timespec ts = {0, 50 * 1000000};
		uint64_t t = now_ns(), last;

		if (t >= deadline || stop_asked)
			atomic_store(&stop, true);
		if (!atomic_load(&running))
			break;
		pthread_mutex_lock(&stat_lock);
		last = last_completion_ns;
		pthread_mutex_unlock(&stat_lock);
		if (t > last && t - last > stall_s * 1000000000ull) {
			printf("stalled: no write completed for %" PRIu64
			       " s\nresult=FAIL\n",
			       stall_s);
			fflush(stdout);
			_exit(3);
		}
		nanosleep(&ts, NULL);
	}
	for (i = 0; i < threads; i++)
		pthread_join(w[i].tid, NULL);
	printf("writes=%" PRIu64 " acked=%" PRIu64 " io_errors=%" PRIu64
	       " blocks_acked=%" PRIu64 " MiB=%.1f gaps=%" PRIu64
	       " max_gap_ms=%.1f slow_writes=%" PRIu64 " max_write_ms=%.1f\n",
	       writes, acked, io_errors, blocks_acked,
	       (double)blocks_acked * BLK / (1 << 20), gaps,
	       (double)max_gap_ns / 1e6, slow_writes,
	       (double)max_write_ns / 1e6);
	fflush(stdout);
	if (jpath && save_journal(jpath))
		return 2;
	bad = verify(&verified, &unknown);
	return report(bad, verified, unknown);
}
