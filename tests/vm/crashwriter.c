/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * crashwriter.c - the writer and the checker of the VM lab's crash test
 * (tests/vm/crash.sh, tests/vm/README.md).
 *
 * In the guest it writes stamped 4 KiB blocks (stamp.h) to two LUs of a
 * Tandem head, through the kernel's iSCSI initiator, and records which
 * writes were acknowledged as stable before each mark it puts in a
 * dm-log-writes log (`dmsetup message DM 0 mark bNN`):
 *
 *   wt     the write-through LU (WCE=0): plain WRITE(10); every GOOD is
 *          stable
 *   fua    the write-back LU (WCE=1): WRITE(10) with FUA=1; stable at GOOD
 *   sync   the write-back LU: plain WRITE(10)s, then SYNCHRONIZE CACHE(10)
 *          (whole LU); stable when it returns GOOD
 *   fsync  the write-back LU: O_DIRECT pwrite()s of the block device, then
 *          fdatasync() (the kernel sends SYNCHRONIZE CACHE); stable when
 *          it returns 0
 *   none   the write-back LU: plain WRITE(10)s after the batch's last
 *          flush: acknowledged but not stable at the batch's mark (the
 *          negative control); a later SYNCHRONIZE CACHE makes them stable
 *
 * Every command is sent with SG_IO (except the fsync class), so FUA and
 * SYNCHRONIZE CACHE are exactly what the target sees. Batch b (1..M) is
 * of kind fua, sync or fsync in turn: K writes to the write-through LU
 * and K of the batch's kind interleaved, the batch's flush, then K none
 * writes, then mark b. A SYNCHRONIZE CACHE covers every write-back write
 * acknowledged before it, whatever its class; a FUA write covers itself.
 *
 * On the host it checks the two LUs' backing files, extracted from the
 * filesystem replayed to mark M (tests/vm/logreplay.c), against the
 * journal: every write acknowledged as stable before mark M must be there
 * (each of its blocks holds that write or a later one, never an older one,
 * zeros or anything that is not a whole stamped block of a write issued
 * before the mark); the writes that were not stable at M are counted, and
 * those of them that are missing (the negative control).
 *
 * usage: crashwriter -w WT_DEV -b WB_DEV -D DM_NAME -j JOURNAL [-m MARKS]
 *                    [-k PER_BATCH] [-x MAXBLKS] [-S SEED]
 *        crashwriter -c -j JOURNAL -M MARK [-N] WT_FILE WB_FILE
 *   -m batches and marks (15), -k writes of each class per batch (8),
 *   -x the largest write in blocks (8), -N (a negative test) count the
 *   writes that were never stable at the mark as if they were.
 *
 * Output: key=value lines; "result=ok" or "result=FAIL". The checker's:
 * blocks (of both LUs), stable_writes (acknowledged stable before the
 * mark), verified (there; per class: wt fua sync fsync none, none = made
 * stable by a later flush), later (verified through a later write in
 * some block), missing (of them: older = a block holds an older write),
 * garbage (blocks), unstable_writes and unstable_missing (the writes not
 * stable at the mark, and those missing). Exit 0 ok, 1 a
 * write failed, a mark failed or (checker) a stable write is missing or a
 * block holds garbage, 2 usage, setup or input errors.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* O_DIRECT; config.h defines it in the tree */
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <scsi/sg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "stamp.h"

#define BLK STAMP_BLK
#define MAX_SHOWN 10
#define SG_TIMEOUT_MS 60000

enum lu { LU_WT, LU_WB, NLU };
enum cls { C_WT, C_FUA, C_SYNC, C_FSYNC, C_NONE, NCLS };
static const char *const lu_name[NLU] = {"wt", "wb"};
static const char *const cls_name[NCLS] = {"wt", "fua", "sync", "fsync",
					   "none"};

struct wr {
	uint64_t seq; /* the global sequence number, 1.. = index + 1 */
	enum lu lu;
	enum cls cls;
	uint64_t lba, n; /* in 4 KiB blocks */
	unsigned batch;	 /* issued after mark batch-1, before mark batch */
	unsigned stable; /* acknowledged stable before this mark; 0: never */
	bool failed;	 /* no GOOD: the blocks hold old or new data */
};

static struct wr *wrs;
static size_t nwr, cap_wr;
static uint64_t seed;
static uint64_t lu_blocks[NLU];

static uint64_t lu_seed(enum lu l)
{
	return seed ^ ((uint64_t)(l + 1) << 56);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static bool parse_u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	return !errno && *s && !*end;
}

static struct wr *new_wr(void)
{
	if (nwr == cap_wr) {
		size_t n = cap_wr ? cap_wr * 2 : 1024;
		struct wr *p = realloc(wrs, n * sizeof(*p));

		if (!p) {
			fprintf(stderr, "crashwriter: out of memory\n");
			exit(2);
		}
		wrs = p;
		cap_wr = n;
	}
	memset(&wrs[nwr], 0, sizeof(wrs[nwr]));
	wrs[nwr].seq = nwr + 1;
	return &wrs[nwr++];
}

/* ---- the guest: SG_IO ---- */

static int dev_fd[NLU] = {-1, -1};
static const char *dev_path[NLU];

/* one SCSI command; 0 on GOOD, else -1 with the reason printed */
static int sg_cmd(enum lu l, const unsigned char *cdb, unsigned cdb_len,
		  int dir, void *buf, unsigned len)
{
	unsigned char sense[64];
	struct sg_io_hdr h;

	memset(&h, 0, sizeof(h));
	h.interface_id = 'S';
	h.cmdp = (unsigned char *)cdb;
	h.cmd_len = (unsigned char)cdb_len;
	h.dxfer_direction = dir;
	h.dxferp = buf;
	h.dxfer_len = len;
	h.sbp = sense;
	h.mx_sb_len = sizeof(sense);
	h.timeout = SG_TIMEOUT_MS;
	if (ioctl(dev_fd[l], SG_IO, &h) < 0) {
		fprintf(stderr, "crashwriter: %s: SG_IO opcode 0x%02x: %s\n",
			dev_path[l], cdb[0], strerror(errno));
		return -1;
	}
	if (h.status || h.host_status || (h.driver_status & 0xf) || h.resid) {
		fprintf(stderr,
			"crashwriter: %s: opcode 0x%02x: status 0x%x host 0x%x "
			"driver 0x%x resid %d sense %02x/%02x/%02x\n",
			dev_path[l], cdb[0], h.status, h.host_status,
			h.driver_status, h.resid,
			h.sb_len_wr > 2 ? sense[2] & 0xf : 0,
			h.sb_len_wr > 12 ? sense[12] : 0,
			h.sb_len_wr > 13 ? sense[13] : 0);
		return -1;
	}
	return 0;
}

static void put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint32_t get_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* READ CAPACITY(10) and MODE SENSE(10) of the caching page: the LU's
 * size, and what an initiator learns of its cache (SBC-4 6.5.5: WCE;
 * SBC-4 6.5.1: the device-specific parameter's DPOFUA) */
static int probe_lu(enum lu l, bool *wce, bool *dpofua)
{
	unsigned char cdb[10], rc[8], ms[256];
	unsigned bdlen, page;

	memset(cdb, 0, sizeof(cdb));
	cdb[0] = 0x25; /* SBC-4 5.20 READ CAPACITY(10) */
	if (sg_cmd(l, cdb, 10, SG_DXFER_FROM_DEV, rc, sizeof(rc)))
		return -1;
	if (get_be32(rc + 4) != BLK) {
		fprintf(stderr, "crashwriter: %s: block size %u, need %d\n",
			dev_path[l], get_be32(rc + 4), BLK);
		return -1;
	}
	lu_blocks[l] = (uint64_t)get_be32(rc) + 1;
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = 0x5a;		  /* SPC-4 6.14 MODE SENSE(10) */
	cdb[1] = 0x08;		  /* DBD */
	cdb[2] = 0x08;		  /* current values, caching page */
	cdb[7] = sizeof(ms) >> 8; /* ALLOCATION LENGTH */
	cdb[8] = sizeof(ms) & 0xff;
	memset(ms, 0, sizeof(ms));
	{
		unsigned char sense[64];
		struct sg_io_hdr h;

		/* a short answer is normal here: no sg_cmd (resid check) */
		memset(&h, 0, sizeof(h));
		h.interface_id = 'S';
		h.cmdp = cdb;
		h.cmd_len = 10;
		h.dxfer_direction = SG_DXFER_FROM_DEV;
		h.dxferp = ms;
		h.dxfer_len = sizeof(ms);
		h.sbp = sense;
		h.mx_sb_len = sizeof(sense);
		h.timeout = SG_TIMEOUT_MS;
		if (ioctl(dev_fd[l], SG_IO, &h) < 0 || h.status ||
		    h.host_status || (h.driver_status & 0xf)) {
			fprintf(stderr,
				"crashwriter: %s: MODE SENSE(10) failed\n",
				dev_path[l]);
			return -1;
		}
	}
	bdlen = (unsigned)ms[6] << 8 | ms[7];
	page = 8 + bdlen;
	if (page + 3 > sizeof(ms) || (ms[page] & 0x3f) != 0x08) {
		fprintf(stderr, "crashwriter: %s: no caching mode page\n",
			dev_path[l]);
		return -1;
	}
	*dpofua = ms[3] & 0x10;
	*wce = ms[page + 2] & 0x04;
	return 0;
}

static int scsi_write(enum lu l, uint64_t lba, uint64_t n, bool fua,
		      unsigned char *buf)
{
	unsigned char cdb[10];

	memset(cdb, 0, sizeof(cdb));
	cdb[0] = 0x2a;		 /* SBC-4 5.32 WRITE(10) */
	cdb[1] = fua ? 0x08 : 0; /* FUA */
	put_be32(cdb + 2, (uint32_t)lba);
	cdb[7] = (unsigned char)(n >> 8); /* TRANSFER LENGTH */
	cdb[8] = (unsigned char)n;
	return sg_cmd(l, cdb, 10, SG_DXFER_TO_DEV, buf, (unsigned)(n * BLK));
}

static int sync_cache(enum lu l)
{
	unsigned char cdb[10];

	/* SBC-4 5.24 SYNCHRONIZE CACHE(10): LBA 0, NUMBER OF LOGICAL
	 * BLOCKS 0 = to the end of the medium; IMMED=0 */
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = 0x35;
	return sg_cmd(l, cdb, 10, SG_DXFER_NONE, NULL, 0);
}

/* dmsetup message DM 0 mark NAME */
static int put_mark(const char *dm, const char *name)
{
	char *argv[] = {"dmsetup", "message",	 (char *)dm, "0",
			"mark",	   (char *)name, NULL};
	int st;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (!pid) {
		execvp(argv[0], argv);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr,
			"crashwriter: dmsetup message %s 0 mark %s "
			"failed\n",
			dm, name);
		return -1;
	}
	return 0;
}

struct region {
	uint64_t first, count;
};

static uint64_t io_errors, max_write_ns, max_flush_ns, nflush[NCLS];
static uint64_t nclass[NCLS];

/* one write of CLS to a random place of its region; 0 when acknowledged */
static int one_write(enum cls c, struct region r, unsigned batch,
		     unsigned maxblks, uint64_t *rs, unsigned char *buf)
{
	enum lu l = c == C_WT ? LU_WT : LU_WB;
	uint64_t n = 1 + stamp_xorshift(rs) % maxblks, i, t0, t;
	struct wr *w;
	int rc;

	if (n > r.count)
		n = r.count;
	w = new_wr();
	w->lu = l;
	w->cls = c;
	w->n = n;
	w->lba = r.first + stamp_xorshift(rs) % (r.count - n + 1);
	w->batch = batch;
	for (i = 0; i < n; i++)
		stamp_fill(buf + i * BLK, lu_seed(l), w->lba + i, w->seq);
	t0 = now_ns();
	if (c == C_FSYNC) {
		ssize_t k =
			pwrite(dev_fd[l], buf, n * BLK, (off_t)(w->lba * BLK));

		rc = k == (ssize_t)(n * BLK) ? 0 : -1;
		if (rc)
			fprintf(stderr, "crashwriter: %s: pwrite: %s\n",
				dev_path[l],
				k < 0 ? strerror(errno) : "short write");
	} else {
		rc = scsi_write(l, w->lba, n, c == C_FUA, buf);
	}
	t = now_ns() - t0;
	if (t > max_write_ns)
		max_write_ns = t;
	if (rc) {
		w->failed = true;
		io_errors++;
		return -1;
	}
	nclass[c]++;
	/* write-through: every GOOD is stable; FUA: this write is */
	if (c == C_WT || c == C_FUA)
		w->stable = batch;
	return 0;
}

/* a flush of the write-back LU acknowledged: every write-back write
 * acknowledged before it is stable before mark BATCH */
static void wb_flushed(unsigned batch)
{
	size_t i;

	for (i = 0; i < nwr; i++)
		if (wrs[i].lu == LU_WB && !wrs[i].failed && !wrs[i].stable)
			wrs[i].stable = batch;
}

static int save_journal(const char *path, unsigned marks, unsigned per)
{
	FILE *f = fopen(path, "w");
	size_t i;

	if (!f) {
		fprintf(stderr, "crashwriter: %s: %s\n", path, strerror(errno));
		return -1;
	}
	fprintf(f,
		"crashwriter 1 seed=0x%" PRIx64 " marks=%u per_batch=%u "
		"wt_blocks=%" PRIu64 " wb_blocks=%" PRIu64 "\n",
		seed, marks, per, lu_blocks[LU_WT], lu_blocks[LU_WB]);
	for (i = 0; i < nwr; i++) {
		const struct wr *w = &wrs[i];

		fprintf(f,
			"%c %" PRIu64 " %s %s %" PRIu64 " %" PRIu64 " %u %u\n",
			w->failed ? 'F' : 'W', w->seq, lu_name[w->lu],
			cls_name[w->cls], w->lba, w->n, w->batch, w->stable);
	}
	if (fflush(f) || fsync(fileno(f)) || ferror(f)) {
		fprintf(stderr, "crashwriter: %s: %s\n", path, strerror(errno));
		fclose(f);
		return -1;
	}
	return fclose(f) ? -1 : 0;
}

static int run_writer(const char *dm, const char *jpath, unsigned marks,
		      unsigned per, unsigned maxblks)
{
	static const enum cls kinds[] = {C_FUA, C_SYNC, C_FSYNC};
	struct region reg[NCLS];
	unsigned char *buf;
	uint64_t rs, t_start, q;
	unsigned b, i;
	enum lu l;
	bool wce[NLU], dpofua[NLU], fail = false;

	for (l = LU_WT; l < NLU; l++) {
		dev_fd[l] = open(dev_path[l], O_RDWR | O_DIRECT);
		if (dev_fd[l] < 0) {
			fprintf(stderr, "crashwriter: %s: %s\n", dev_path[l],
				strerror(errno));
			return 2;
		}
		if (probe_lu(l, &wce[l], &dpofua[l]))
			return 2;
		printf("lu=%s dev=%s blocks=%" PRIu64 " block_size=%d wce=%d "
		       "dpofua=%d\n",
		       lu_name[l], dev_path[l], lu_blocks[l], BLK, wce[l],
		       dpofua[l]);
	}
	/* what the classes rely on: no volatile cache on the write-through
	 * LU; a volatile cache and FUA on the write-back LU */
	if (wce[LU_WT] || !wce[LU_WB] || !dpofua[LU_WB]) {
		fprintf(stderr, "crashwriter: want wt WCE=0, wb WCE=1 and "
				"DPOFUA=1\n");
		return 2;
	}
	if (lu_blocks[LU_WT] < 64 || lu_blocks[LU_WB] < 64) {
		fprintf(stderr, "crashwriter: the LUs need 64 blocks\n");
		return 2;
	}
	if (posix_memalign((void **)&buf, BLK, (size_t)maxblks * BLK)) {
		fprintf(stderr, "crashwriter: out of memory\n");
		return 2;
	}
	q = lu_blocks[LU_WB] / 4;
	reg[C_WT] = (struct region){0, lu_blocks[LU_WT]};
	reg[C_FUA] = (struct region){0, q};
	reg[C_SYNC] = (struct region){q, q};
	reg[C_FSYNC] = (struct region){2 * q, q};
	reg[C_NONE] = (struct region){3 * q, lu_blocks[LU_WB] - 3 * q};
	rs = seed ^ UINT64_C(0x5a5a5a5a);
	if (!rs)
		rs = 1;
	printf("crashwriter seed=0x%" PRIx64 " marks=%u per_batch=%u "
	       "max_write_blocks=%u dm=%s\n",
	       seed, marks, per, maxblks, dm);
	fflush(stdout);
	t_start = now_ns();
	for (b = 1; b <= marks; b++) {
		enum cls kind = kinds[(b - 1) % 3];
		uint64_t t0 = now_ns(), t;
		size_t first = nwr;
		char name[16];
		int rc = 0;

		for (i = 0; i < per; i++) {
			if (one_write(C_WT, reg[C_WT], b, maxblks, &rs, buf))
				fail = true;
			if (one_write(kind, reg[kind], b, maxblks, &rs, buf))
				fail = true;
		}
		t = now_ns();
		if (kind == C_SYNC)
			rc = sync_cache(LU_WB);
		else if (kind == C_FSYNC && fdatasync(dev_fd[LU_WB])) {
			fprintf(stderr, "crashwriter: %s: fdatasync: %s\n",
				dev_path[LU_WB], strerror(errno));
			rc = -1;
		}
		t = now_ns() - t;
		if (kind != C_FUA) {
			nflush[kind]++;
			if (t > max_flush_ns)
				max_flush_ns = t;
			if (rc) {
				io_errors++;
				fail = true;
			} else {
				wb_flushed(b);
			}
		}
		/* the negative control: acknowledged after the flush */
		for (i = 0; i < per; i++)
			if (one_write(C_NONE, reg[C_NONE], b, maxblks, &rs,
				      buf))
				fail = true;
		snprintf(name, sizeof(name), "b%02u", b);
		if (put_mark(dm, name)) {
			fail = true;
			break;
		}
		printf("batch=%u kind=%s writes=%zu ms=%.1f mark=%s\n", b,
		       cls_name[kind], nwr - first,
		       (double)(now_ns() - t0) / 1e6, name);
		fflush(stdout);
	}
	printf("writes=%zu wt=%" PRIu64 " fua=%" PRIu64 " sync=%" PRIu64
	       " fsync=%" PRIu64 " none=%" PRIu64 " sync_caches=%" PRIu64
	       " fdatasyncs=%" PRIu64 " io_errors=%" PRIu64
	       " max_write_ms=%.1f max_flush_ms=%.1f seconds=%.1f\n",
	       nwr, nclass[C_WT], nclass[C_FUA], nclass[C_SYNC],
	       nclass[C_FSYNC], nclass[C_NONE], nflush[C_SYNC], nflush[C_FSYNC],
	       io_errors, (double)max_write_ns / 1e6,
	       (double)max_flush_ns / 1e6, (double)(now_ns() - t_start) / 1e9);
	if (save_journal(jpath, b > marks ? marks : b - 1, per))
		return 2;
	printf("result=%s\n", fail ? "FAIL" : "ok");
	free(buf);
	return fail ? 1 : 0;
}

/* ---- the host: the check at a mark ---- */

static int find_name(const char *const *names, int n, const char *s)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(names[i], s))
			return i;
	return -1;
}

static int load_journal(const char *path, unsigned *marks)
{
	FILE *f = fopen(path, "r");
	char line[256], kind, lu[8], cls[8];
	unsigned per, lineno = 1;

	if (!f) {
		fprintf(stderr, "crashwriter: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!fgets(line, sizeof(line), f) ||
	    sscanf(line,
		   "crashwriter 1 seed=%" SCNx64 " marks=%u per_batch=%u "
		   "wt_blocks=%" SCNu64 " wb_blocks=%" SCNu64,
		   &seed, marks, &per, &lu_blocks[LU_WT],
		   &lu_blocks[LU_WB]) != 5 ||
	    !lu_blocks[LU_WT] || !lu_blocks[LU_WB] ||
	    lu_blocks[LU_WT] > (1u << 24) || lu_blocks[LU_WB] > (1u << 24)) {
		fprintf(stderr,
			"crashwriter: %s:1: not a crashwriter journal\n", path);
		fclose(f);
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		struct wr *w;
		uint64_t seq;
		int li, ci;

		lineno++;
		if (line[0] == '\n')
			continue;
		w = new_wr();
		if (sscanf(line,
			   "%c %" SCNu64 " %7s %7s %" SCNu64 " %" SCNu64
			   " %u %u",
			   &kind, &seq, lu, cls, &w->lba, &w->n, &w->batch,
			   &w->stable) != 8 ||
		    (kind != 'W' && kind != 'F') || seq != w->seq ||
		    (li = find_name(lu_name, NLU, lu)) < 0 ||
		    (ci = find_name(cls_name, NCLS, cls)) < 0 || !w->n ||
		    w->lba + w->n > lu_blocks[li] || w->lba + w->n < w->lba ||
		    !w->batch || w->batch > *marks || w->stable > *marks ||
		    (w->stable && w->stable < w->batch)) {
			fprintf(stderr, "crashwriter: %s:%u: bad line\n", path,
				lineno);
			fclose(f);
			return -1;
		}
		w->lu = (enum lu)li;
		w->cls = (enum cls)ci;
		w->failed = kind == 'F';
	}
	fclose(f);
	return 0;
}

static unsigned char *load_file(const char *path, uint64_t want)
{
	unsigned char *p;
	struct stat st;
	uint64_t off = 0;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st)) {
		fprintf(stderr, "crashwriter: %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	if ((uint64_t)st.st_size < want) {
		fprintf(stderr,
			"crashwriter: %s: %jd bytes, the LU has %" PRIu64 "\n",
			path, (intmax_t)st.st_size, want);
		close(fd);
		return NULL;
	}
	p = malloc(want);
	while (p && off < want) {
		ssize_t n = pread(fd, p + off, want - off, (off_t)off);

		if (n <= 0) {
			fprintf(stderr, "crashwriter: %s: read: %s\n", path,
				n ? strerror(errno) : "end of file");
			free(p);
			p = NULL;
			break;
		}
		off += (uint64_t)n;
	}
	close(fd);
	return p;
}

#define V_GARBAGE UINT64_MAX

/* the write a block holds: 0 (zeros), a seq, or V_GARBAGE (anything
 * that is not a whole block of a write to it issued before mark) */
static uint64_t version_of(enum lu l, uint64_t blk, const unsigned char *b,
			   unsigned mark, unsigned char *want)
{
	struct stamp st;
	const struct wr *w;
	size_t i;

	memcpy(&st, b, sizeof(st));
	if (st.magic != STAMP_MAGIC) {
		for (i = 0; i < BLK; i++)
			if (b[i])
				return V_GARBAGE;
		return 0;
	}
	if (st.seed != lu_seed(l) || st.block != blk || !st.seq || st.seq > nwr)
		return V_GARBAGE;
	w = &wrs[st.seq - 1];
	if (w->lu != l || blk < w->lba || blk >= w->lba + w->n ||
	    w->batch > mark)
		return V_GARBAGE;
	stamp_fill(want, lu_seed(l), blk, st.seq);
	return memcmp(b, want, BLK) ? V_GARBAGE : st.seq;
}

static int run_check(const char *jpath, unsigned mark, bool none_stable,
		     const char *files[NLU])
{
	unsigned char *img[NLU] = {NULL, NULL}, *want;
	uint64_t *ver[NLU] = {NULL, NULL};
	uint64_t stable_w = 0, verified = 0, missing = 0, unstable_w = 0;
	uint64_t unstable_missing = 0, garbage = 0, blocks = 0, per[NCLS];
	uint64_t later = 0, older = 0;
	unsigned marks, shown = 0;
	size_t i;
	enum lu l;
	int rc = 2;

	memset(per, 0, sizeof(per));
	if (load_journal(jpath, &marks))
		return 2;
	if (!mark || mark > marks) {
		fprintf(stderr, "crashwriter: mark %u: the journal has 1..%u\n",
			mark, marks);
		return 2;
	}
	want = malloc(BLK);
	for (l = LU_WT; l < NLU; l++) {
		img[l] = load_file(files[l], lu_blocks[l] * BLK);
		ver[l] = calloc(lu_blocks[l], sizeof(uint64_t));
		if (!img[l] || !ver[l] || !want)
			goto out;
	}
	/* every block: which write it holds */
	for (l = LU_WT; l < NLU; l++) {
		for (i = 0; i < lu_blocks[l]; i++) {
			ver[l][i] =
				version_of(l, i, img[l] + i * BLK, mark, want);
			blocks++;
			if (ver[l][i] != V_GARBAGE)
				continue;
			garbage++;
			if (shown++ < MAX_SHOWN)
				printf("garbage lu=%s block=%zu\n", lu_name[l],
				       i);
		}
	}
	/* every write issued before the mark */
	for (i = 0; i < nwr; i++) {
		const struct wr *w = &wrs[i];
		bool st = w->stable && w->stable <= mark;
		uint64_t b, lost_at = 0, held = 0;
		bool lost = false, overwritten = false;

		if (w->batch > mark || w->failed)
			continue;
		if (!st && none_stable && w->cls == C_NONE)
			st = true;
		for (b = w->lba; b < w->lba + w->n; b++) {
			uint64_t v = ver[w->lu][b];

			/* a later write is fine; garbage is counted above */
			if (v == V_GARBAGE || v < w->seq) {
				lost = true;
				lost_at = b;
				held = v;
				break;
			}
			overwritten |= v > w->seq;
		}
		if (!st) {
			unstable_w++;
			unstable_missing += lost;
			continue;
		}
		stable_w++;
		if (!lost) {
			verified++;
			per[w->cls]++;
			later += overwritten;
			continue;
		}
		missing++;
		older += held && held != V_GARBAGE;
		if (shown++ < MAX_SHOWN) {
			printf("missing seq=%" PRIu64
			       " lu=%s class=%s lba=%" PRIu64 " blocks=%" PRIu64
			       " batch=%u stable_at=%u: block %" PRIu64
			       " holds ",
			       w->seq, lu_name[w->lu], cls_name[w->cls], w->lba,
			       w->n, w->batch, w->stable, lost_at);
			if (held == V_GARBAGE)
				printf("garbage\n");
			else if (!held)
				printf("zeros\n");
			else
				printf("the older write %" PRIu64 "\n", held);
		}
	}
	printf("mark=%u blocks=%" PRIu64 " stable_writes=%" PRIu64
	       " verified=%" PRIu64 " wt=%" PRIu64 " fua=%" PRIu64
	       " sync=%" PRIu64 " fsync=%" PRIu64 " none=%" PRIu64
	       " later=%" PRIu64 " missing=%" PRIu64 " older=%" PRIu64
	       " garbage=%" PRIu64 " unstable_writes=%" PRIu64
	       " unstable_missing=%" PRIu64 "\n",
	       mark, blocks, stable_w, verified, per[C_WT], per[C_FUA],
	       per[C_SYNC], per[C_FSYNC], per[C_NONE], later, missing, older,
	       garbage, unstable_w, unstable_missing);
	rc = missing || garbage ? 1 : 0;
	printf("result=%s\n", rc ? "FAIL" : "ok");
out:
	for (l = LU_WT; l < NLU; l++) {
		free(img[l]);
		free(ver[l]);
	}
	free(want);
	return rc;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: crashwriter -w WT_DEV -b WB_DEV -D DM_NAME -j JOURNAL "
		"[-m MARKS] [-k PER_BATCH] [-x MAXBLKS] [-S SEED]\n"
		"       crashwriter -c -j JOURNAL -M MARK [-N] WT_FILE "
		"WB_FILE\n");
	return 2;
}

int main(int argc, char **argv)
{
	uint64_t marks = 15, per = 8, maxblks = 8, mark = 0;
	const char *dm = NULL, *jpath = NULL;
	bool check = false, none_stable = false, have_seed = false;
	int c;

	while ((c = getopt(argc, argv, "w:b:D:j:m:k:x:S:cM:N")) != -1) {
		uint64_t v = 0;

		if (c == '?')
			return usage();
		if (strchr("mkxSM", c) && !parse_u64(optarg, &v))
			return usage();
		switch (c) {
		case 'w':
			dev_path[LU_WT] = optarg;
			break;
		case 'b':
			dev_path[LU_WB] = optarg;
			break;
		case 'D':
			dm = optarg;
			break;
		case 'j':
			jpath = optarg;
			break;
		case 'm':
			marks = v;
			break;
		case 'k':
			per = v;
			break;
		case 'x':
			maxblks = v;
			break;
		case 'S':
			seed = v;
			have_seed = true;
			break;
		case 'c':
			check = true;
			break;
		case 'M':
			mark = v;
			break;
		case 'N':
			none_stable = true;
			break;
		default:
			return usage();
		}
	}
	if (!jpath)
		return usage();
	if (check) {
		const char *files[NLU];

		if (argc - optind != 2 || mark > 99)
			return usage();
		files[LU_WT] = argv[optind];
		files[LU_WB] = argv[optind + 1];
		return run_check(jpath, (unsigned)mark, none_stable, files);
	}
	if (optind != argc || !dev_path[LU_WT] || !dev_path[LU_WB] || !dm ||
	    !marks || marks > 99 || !per || per > 1000 || !maxblks ||
	    maxblks > 256)
		return usage();
	if (!have_seed)
		seed = now_ns() ^ (uint64_t)getpid();
	return run_writer(dm, jpath, (unsigned)marks, (unsigned)per,
			  (unsigned)maxblks);
}
