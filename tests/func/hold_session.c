/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hold_session.c - a libiscsi client for the functional tests: holds one
 * session open and does verified I/O, writes and checks data patterns,
 * lists LUNs. A dropped session is an error (no automatic reconnect).
 *
 * usage: hold_session MODE [options] [iscsi://host[:port]/iqn/lun]
 *
 * modes
 *   --hold            loop WRITE(10)+READ(10)+compare over a region until
 *                     --seconds pass or --stop-file exists (default)
 *   --write           write the pattern over --lba/--blocks
 *   --verify          read --lba/--blocks back and compare with the pattern
 *   --write-seq       write --lba.. in chunks of --chunk blocks, FUA or
 *                     SYNCHRONIZE CACHE every --sync-every writes, and log
 *                     each acknowledged range to --ack-log, until the end of
 *                     the region or the session drops (exit 3)
 *   --report-luns     print the LUNs of REPORT LUNS, one per line
 *   --serial          print the unit serial number (VPD page 0x80)
 *   --gen             print the pattern of --lba/--blocks to stdout
 *   --verify-file F   compare F (file or device) with the pattern; with
 *                     --ack-log only the acknowledged ranges
 * options
 *   --initiator NAME  --seed N  --lba N  --blocks N  --blocksize N
 *   --seconds N  --stop-file F  --ready-file F  --fua  --chunk N
 *   --sync-every N  --ack-log F  --digest
 *   --expect-ua       the hold loop must see REPORTED LUNS DATA HAS
 *                     CHANGED (6/3F/0E)
 *   --expect-lun N    at the end REPORT LUNS must list N (repeatable)
 *   --expect-no-lun N at the end REPORT LUNS must not list N
 *
 * Exit status: 0 success, 1 failure, 2 usage, 3 session dropped in
 * --write-seq (expected when the target is stopped under it).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

enum mode {
	M_HOLD,
	M_WRITE,
	M_VERIFY,
	M_WRITE_SEQ,
	M_REPORT_LUNS,
	M_SERIAL,
	M_GEN,
	M_VERIFY_FILE,
};

static struct {
	enum mode mode;
	const char *url;
	const char *initiator;
	uint64_t seed;
	uint32_t lba;
	uint32_t blocks;
	uint32_t blocksize;
	int seconds;
	const char *stop_file;
	const char *ready_file;
	const char *ack_log;
	const char *file;
	bool fua;
	uint32_t chunk;
	uint32_t sync_every;
	bool digest;
	bool expect_ua;
	int expect_lun[64];
	int nexpect_lun;
	int expect_no_lun[64];
	int nexpect_no_lun;
} o = {
	.mode = M_HOLD,
	.initiator = "iqn.2026-11.org.tandem:hold-session",
	.seed = 1,
	.lba = 0,
	.blocks = 64,
	.seconds = 10,
	.chunk = 8,
};

static struct iscsi_context *ctx;
static int lun;
static bool seen_luns_changed;
static unsigned nua;

static void die(const char *what)
{
	fprintf(stderr, "hold_session: ERROR: %s: %s\n", what,
		ctx ? iscsi_get_error(ctx) : "");
	exit(1);
}

static uint64_t splitmix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* the content of block lba for seed: differs for every (seed, lba, word) */
static void fill(uint8_t *buf, uint64_t lba, uint32_t nblocks, uint64_t seed)
{
	for (uint32_t b = 0; b < nblocks; b++) {
		for (uint32_t w = 0; w < o.blocksize / 8; w++) {
			uint64_t v = splitmix64(seed * 0x100000001b3ull ^
						(lba + b) << 16 ^ w);

			memcpy(buf + (size_t)b * o.blocksize + w * 8, &v, 8);
		}
	}
}

static bool file_exists(const char *p)
{
	struct stat st;

	return p && stat(p, &st) == 0;
}

static void touch(const char *p)
{
	FILE *f;

	if (!p)
		return;
	f = fopen(p, "w");
	if (f)
		fclose(f);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Check a finished task. Returns 1 for GOOD, 0 for a unit attention (the
 * caller retries), and exits on anything else.
 */
static int check(struct scsi_task *t, const char *what)
{
	char msg[256];

	if (!t) {
		snprintf(msg, sizeof(msg), "%s: no task (session lost?)", what);
		die(msg);
	}
	if (t->status == SCSI_STATUS_GOOD)
		return 1;
	if (t->status == SCSI_STATUS_CHECK_CONDITION &&
	    t->sense.key == SCSI_SENSE_UNIT_ATTENTION) {
		unsigned asc = (unsigned)t->sense.ascq >> 8;
		unsigned ascq = (unsigned)t->sense.ascq & 0xff;

		printf("hold_session: unit attention %02x/%02x on %s\n", asc,
		       ascq, what);
		fflush(stdout);
		nua++;
		if (asc == 0x3f && ascq == 0x0e)
			seen_luns_changed = true;
		return 0;
	}
	if (t->status == SCSI_STATUS_CHECK_CONDITION)
		snprintf(msg, sizeof(msg),
			 "%s: CHECK CONDITION sense %x/%02x/%02x", what,
			 t->sense.key, (unsigned)t->sense.ascq >> 8,
			 (unsigned)t->sense.ascq & 0xff);
	else
		snprintf(msg, sizeof(msg), "%s: status 0x%x", what, t->status);
	die(msg);
	return -1;
}

static void connect_url(void)
{
	struct iscsi_url *u;

	ctx = iscsi_create_context(o.initiator);
	if (!ctx)
		die("iscsi_create_context");
	srand((unsigned)(getpid() ^ time(NULL)));
	iscsi_set_isid_random(ctx, (uint32_t)rand(), 0);
	u = iscsi_parse_full_url(ctx, o.url);
	if (!u)
		die("bad URL");
	iscsi_set_targetname(ctx, u->target);
	iscsi_set_session_type(ctx, ISCSI_SESSION_NORMAL);
	iscsi_set_header_digest(ctx, o.digest ? ISCSI_HEADER_DIGEST_CRC32C
					      : ISCSI_HEADER_DIGEST_NONE);
	if (u->user[0])
		iscsi_set_initiator_username_pwd(ctx, u->user, u->passwd);
	iscsi_set_noautoreconnect(ctx, 1);
	iscsi_set_timeout(ctx, 15);
	lun = u->lun;
	/* REPORT LUNS goes to LUN 0 even when the initiator has no LUN 0:
	 * log in without libiscsi's TEST UNIT READY on the URL's LUN */
	if (iscsi_full_connect_sync(ctx, u->portal,
				    o.mode == M_REPORT_LUNS ? -1 : lun))
		die("login");
	iscsi_destroy_url(u);
	if (!o.blocksize && o.mode != M_REPORT_LUNS && o.mode != M_SERIAL) {
		struct scsi_task *t;
		struct scsi_readcapacity10 *rc;

		for (int i = 0; i < 5; i++) {
			t = iscsi_readcapacity10_sync(ctx, lun, 0, 0);
			if (check(t, "READ CAPACITY(10)"))
				break;
			scsi_free_scsi_task(t);
			t = NULL;
		}
		rc = t ? scsi_datain_unmarshall(t) : NULL;
		if (!rc)
			die("READ CAPACITY(10) data");
		o.blocksize = rc->block_size;
		scsi_free_scsi_task(t);
	}
}

static void write_blocks(uint32_t lba, uint32_t n, uint8_t *buf, bool fua)
{
	for (int i = 0; i < 10; i++) {
		struct scsi_task *t =
			iscsi_write10_sync(ctx, lun, lba, buf, n * o.blocksize,
					   (int)o.blocksize, 0, 0, fua, 0, 0);
		int r = check(t, "WRITE(10)");

		scsi_free_scsi_task(t);
		if (r)
			return;
	}
	die("WRITE(10): too many unit attentions");
}

static void read_compare(uint32_t lba, uint32_t n, const uint8_t *expect)
{
	for (int i = 0; i < 10; i++) {
		struct scsi_task *t =
			iscsi_read10_sync(ctx, lun, lba, n * o.blocksize,
					  (int)o.blocksize, 0, 0, 0, 0, 0);
		int r = check(t, "READ(10)");

		if (r) {
			if (t->datain.size != (int)(n * o.blocksize) ||
			    memcmp(t->datain.data, expect, n * o.blocksize)) {
				fprintf(stderr,
					"hold_session: ERROR: data mismatch at "
					"LBA %u+%u\n",
					lba, n);
				exit(1);
			}
			scsi_free_scsi_task(t);
			return;
		}
		scsi_free_scsi_task(t);
	}
	die("READ(10): too many unit attentions");
}

static void sync_cache(void)
{
	for (int i = 0; i < 10; i++) {
		struct scsi_task *t =
			iscsi_synchronizecache10_sync(ctx, lun, 0, 0, 0, 0);
		int r = check(t, "SYNCHRONIZE CACHE(10)");

		scsi_free_scsi_task(t);
		if (r)
			return;
	}
	die("SYNCHRONIZE CACHE(10): too many unit attentions");
}

static struct scsi_reportluns_list *report_luns(struct scsi_task **tp)
{
	struct scsi_task *t = NULL;

	for (int i = 0; i < 10; i++) {
		t = iscsi_reportluns_sync(ctx, 0, 16384);
		if (check(t, "REPORT LUNS"))
			break;
		scsi_free_scsi_task(t);
		t = NULL;
	}
	if (!t)
		die("REPORT LUNS: too many unit attentions");
	*tp = t;
	return scsi_datain_unmarshall(t);
}

static int check_luns(void)
{
	struct scsi_task *t;
	struct scsi_reportluns_list *l = report_luns(&t);
	int bad = 0;

	if (!l)
		die("REPORT LUNS data");
	printf("hold_session: REPORT LUNS:");
	for (uint32_t i = 0; i < l->num; i++)
		printf(" %u", l->luns[i]);
	printf("\n");
	for (int k = 0; k < o.nexpect_lun; k++) {
		bool found = false;

		for (uint32_t i = 0; i < l->num; i++)
			found |= l->luns[i] == o.expect_lun[k];
		if (!found) {
			fprintf(stderr, "hold_session: ERROR: LUN %d missing\n",
				o.expect_lun[k]);
			bad = 1;
		}
	}
	for (int k = 0; k < o.nexpect_no_lun; k++)
		for (uint32_t i = 0; i < l->num; i++)
			if (l->luns[i] == o.expect_no_lun[k]) {
				fprintf(stderr,
					"hold_session: ERROR: LUN %d listed\n",
					o.expect_no_lun[k]);
				bad = 1;
			}
	scsi_free_scsi_task(t);
	return bad;
}

static int do_hold(void)
{
	uint8_t *w = malloc((size_t)o.chunk * o.blocksize);
	double end = now_s() + o.seconds;
	uint64_t iter = 0, bytes = 0;
	int bad = 0;

	if (!w)
		die("malloc");
	if (o.blocks < o.chunk)
		o.chunk = o.blocks;
	while (o.stop_file ? !file_exists(o.stop_file) : now_s() < end) {
		uint32_t n = 1 + (uint32_t)rand() % o.chunk;
		uint32_t lba = o.lba + (uint32_t)rand() % (o.blocks - n + 1);

		fill(w, lba, n, o.seed + iter);
		write_blocks(lba, n, w, false);
		read_compare(lba, n, w);
		bytes += n * o.blocksize;
		if (iter++ == 0)
			touch(o.ready_file);
		if (o.stop_file && now_s() > end + 120)
			die("stop file never appeared");
	}
	printf("hold_session: %" PRIu64 " verified write+read pairs, %" PRIu64
	       " bytes, %u unit attentions, no reconnect\n",
	       iter, bytes, nua);
	if (o.expect_ua && !seen_luns_changed) {
		fprintf(stderr,
			"hold_session: ERROR: no REPORTED LUNS DATA HAS "
			"CHANGED unit attention\n");
		bad = 1;
	}
	if (o.nexpect_lun || o.nexpect_no_lun)
		bad |= check_luns();
	free(w);
	return bad;
}

static int do_write_seq(void)
{
	uint8_t *w = malloc((size_t)o.chunk * o.blocksize);
	FILE *ack = fopen(o.ack_log, "w");
	uint32_t pend_lba = o.lba, done = 0, nw = 0;

	if (!w || !ack)
		die("malloc/ack log");
	setvbuf(ack, NULL, _IOLBF, 0);
	while (done < o.blocks) {
		uint32_t n =
			o.blocks - done < o.chunk ? o.blocks - done : o.chunk;
		uint32_t lba = o.lba + done;
		struct scsi_task *t;
		int r;

		fill(w, lba, n, o.seed);
		t = iscsi_write10_sync(ctx, lun, lba, w, n * o.blocksize,
				       (int)o.blocksize, 0, 0, o.fua, 0, 0);
		if (!t || (t->status != SCSI_STATUS_GOOD &&
			   t->status != SCSI_STATUS_CHECK_CONDITION)) {
			printf("hold_session: session dropped after %u "
			       "acknowledged blocks\n",
			       pend_lba - o.lba);
			return 3;
		}
		r = check(t, "WRITE(10)");
		scsi_free_scsi_task(t);
		if (!r)
			continue; /* unit attention: write it again */
		done += n;
		nw++;
		if (o.sync_every && nw % o.sync_every) {
			continue;
		} else if (o.sync_every) {
			t = iscsi_synchronizecache10_sync(ctx, lun, 0, 0, 0, 0);
			if (!t || (t->status != SCSI_STATUS_GOOD &&
				   t->status != SCSI_STATUS_CHECK_CONDITION)) {
				printf("hold_session: session dropped during "
				       "SYNCHRONIZE CACHE after %u "
				       "acknowledged "
				       "blocks\n",
				       pend_lba - o.lba);
				return 3;
			}
			if (t->status != SCSI_STATUS_GOOD) {
				check(t, "SYNCHRONIZE CACHE(10)");
				/* a unit attention: the writes before it
				 * are not known to be stable, write again */
				done = pend_lba - o.lba;
				scsi_free_scsi_task(t);
				continue;
			}
			scsi_free_scsi_task(t);
		}
		fprintf(ack, "%u %u\n", pend_lba, o.lba + done - pend_lba);
		pend_lba = o.lba + done;
		if (nw == 1 || (o.sync_every && nw == o.sync_every))
			touch(o.ready_file);
	}
	printf("hold_session: wrote all %u blocks\n", o.blocks);
	fclose(ack);
	free(w);
	return 0;
}

static int compare_file_range(int fd, uint32_t lba, uint32_t n, uint8_t *buf,
			      uint8_t *expect)
{
	for (uint32_t b = 0; b < n; b++) {
		ssize_t k = pread(fd, buf, o.blocksize,
				  (off_t)(lba + b) * o.blocksize);

		fill(expect, lba + b, 1, o.seed);
		if (k != (ssize_t)o.blocksize ||
		    memcmp(buf, expect, o.blocksize)) {
			fprintf(stderr,
				"hold_session: ERROR: %s: block %u differs "
				"from the pattern\n",
				o.file, lba + b);
			return 1;
		}
	}
	return 0;
}

static int do_verify_file(void)
{
	uint8_t *buf = malloc(o.blocksize), *expect = malloc(o.blocksize);
	int fd = open(o.file, O_RDONLY), bad = 0;
	uint64_t total = 0;

	if (fd < 0 || !buf || !expect) {
		perror(o.file);
		return 1;
	}
	if (o.ack_log) {
		FILE *f = fopen(o.ack_log, "r");
		unsigned a, n;

		if (!f) {
			perror(o.ack_log);
			return 1;
		}
		while (fscanf(f, "%u %u", &a, &n) == 2 && !bad) {
			bad |= compare_file_range(fd, a, n, buf, expect);
			total += n;
		}
		fclose(f);
	} else {
		bad = compare_file_range(fd, o.lba, o.blocks, buf, expect);
		total = o.blocks;
	}
	if (!bad)
		printf("hold_session: %" PRIu64 " blocks of %s match\n", total,
		       o.file);
	close(fd);
	free(buf);
	free(expect);
	return bad;
}

static void usage(void)
{
	fprintf(stderr, "usage: hold_session [--hold|--write|--verify|"
			"--write-seq|--report-luns|--serial|--gen|"
			"--verify-file F] [options] [URL]\n");
	exit(2);
}

static uint32_t num(const char *s)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || *end || v > UINT32_MAX)
		usage();
	return (uint32_t)v;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"hold", no_argument, NULL, 'H'},
		{"write", no_argument, NULL, 'W'},
		{"verify", no_argument, NULL, 'V'},
		{"write-seq", no_argument, NULL, 'Q'},
		{"report-luns", no_argument, NULL, 'R'},
		{"serial", no_argument, NULL, 'N'},
		{"gen", no_argument, NULL, 'G'},
		{"verify-file", required_argument, NULL, 'F'},
		{"initiator", required_argument, NULL, 'i'},
		{"seed", required_argument, NULL, 's'},
		{"lba", required_argument, NULL, 'l'},
		{"blocks", required_argument, NULL, 'b'},
		{"blocksize", required_argument, NULL, 'B'},
		{"seconds", required_argument, NULL, 't'},
		{"stop-file", required_argument, NULL, 'x'},
		{"ready-file", required_argument, NULL, 'r'},
		{"fua", no_argument, NULL, 'f'},
		{"chunk", required_argument, NULL, 'c'},
		{"sync-every", required_argument, NULL, 'y'},
		{"ack-log", required_argument, NULL, 'a'},
		{"digest", no_argument, NULL, 'd'},
		{"expect-ua", no_argument, NULL, 'u'},
		{"expect-lun", required_argument, NULL, 'e'},
		{"expect-no-lun", required_argument, NULL, 'E'},
		{NULL, 0, NULL, 0},
	};
	int ch, rc = 0;

	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'H':
			o.mode = M_HOLD;
			break;
		case 'W':
			o.mode = M_WRITE;
			break;
		case 'V':
			o.mode = M_VERIFY;
			break;
		case 'Q':
			o.mode = M_WRITE_SEQ;
			break;
		case 'R':
			o.mode = M_REPORT_LUNS;
			break;
		case 'N':
			o.mode = M_SERIAL;
			break;
		case 'G':
			o.mode = M_GEN;
			break;
		case 'F':
			o.mode = M_VERIFY_FILE;
			o.file = optarg;
			break;
		case 'i':
			o.initiator = optarg;
			break;
		case 's':
			o.seed = num(optarg);
			break;
		case 'l':
			o.lba = num(optarg);
			break;
		case 'b':
			o.blocks = num(optarg);
			break;
		case 'B':
			o.blocksize = num(optarg);
			break;
		case 't':
			o.seconds = (int)num(optarg);
			break;
		case 'x':
			o.stop_file = optarg;
			break;
		case 'r':
			o.ready_file = optarg;
			break;
		case 'f':
			o.fua = true;
			break;
		case 'c':
			o.chunk = num(optarg);
			break;
		case 'y':
			o.sync_every = num(optarg);
			break;
		case 'a':
			o.ack_log = optarg;
			break;
		case 'd':
			o.digest = true;
			break;
		case 'u':
			o.expect_ua = true;
			break;
		case 'e':
			if (o.nexpect_lun == 64)
				usage();
			o.expect_lun[o.nexpect_lun++] = (int)num(optarg);
			break;
		case 'E':
			if (o.nexpect_no_lun == 64)
				usage();
			o.expect_no_lun[o.nexpect_no_lun++] = (int)num(optarg);
			break;
		default:
			usage();
		}
	}
	if (o.chunk == 0 || o.blocks == 0 || o.chunk > 1024)
		usage();
	if (o.mode == M_GEN || o.mode == M_VERIFY_FILE) {
		if (optind != argc || !o.blocksize || o.blocksize % 8)
			usage();
		if (o.mode == M_VERIFY_FILE)
			return do_verify_file();
		for (uint32_t b = 0; b < o.blocks; b++) {
			uint8_t *buf = malloc(o.blocksize);

			if (!buf)
				return 1;
			fill(buf, o.lba + b, 1, o.seed);
			if (fwrite(buf, o.blocksize, 1, stdout) != 1)
				return 1;
			free(buf);
		}
		return 0;
	}
	if (optind != argc - 1)
		usage();
	o.url = argv[optind];
	if (o.mode == M_WRITE_SEQ && !o.ack_log)
		usage();
	signal(SIGPIPE, SIG_IGN);
	connect_url();

	switch (o.mode) {
	case M_HOLD:
		rc = do_hold();
		break;
	case M_WRITE:
	case M_VERIFY: {
		uint8_t *buf = malloc((size_t)o.chunk * o.blocksize);

		if (!buf)
			die("malloc");
		for (uint32_t d = 0; d < o.blocks; d += o.chunk) {
			uint32_t n =
				o.blocks - d < o.chunk ? o.blocks - d : o.chunk;

			fill(buf, o.lba + d, n, o.seed);
			if (o.mode == M_WRITE)
				write_blocks(o.lba + d, n, buf, o.fua);
			else
				read_compare(o.lba + d, n, buf);
		}
		if (o.mode == M_WRITE && !o.fua)
			sync_cache();
		printf("hold_session: %s %u blocks at LBA %u\n",
		       o.mode == M_WRITE ? "wrote" : "verified", o.blocks,
		       o.lba);
		free(buf);
		break;
	}
	case M_WRITE_SEQ:
		rc = do_write_seq();
		if (rc == 3) {
			iscsi_destroy_context(ctx);
			return 3;
		}
		break;
	case M_REPORT_LUNS: {
		struct scsi_task *t;
		struct scsi_reportluns_list *l = report_luns(&t);

		if (!l)
			die("REPORT LUNS data");
		for (uint32_t i = 0; i < l->num; i++)
			printf("%u\n", l->luns[i]);
		scsi_free_scsi_task(t);
		break;
	}
	case M_SERIAL: {
		struct scsi_task *t =
			iscsi_inquiry_sync(ctx, lun, 1, 0x80, 255);
		struct scsi_inquiry_unit_serial_number *sn;

		if (!check(t, "INQUIRY VPD 0x80"))
			die("INQUIRY: unit attention");
		sn = scsi_datain_unmarshall(t);
		if (!sn || !sn->usn)
			die("INQUIRY VPD 0x80 data");
		printf("%s\n", sn->usn);
		scsi_free_scsi_task(t);
		break;
	}
	default:
		break;
	}
	if (iscsi_logout_sync(ctx))
		fprintf(stderr, "hold_session: logout: %s\n",
			iscsi_get_error(ctx));
	iscsi_destroy_context(ctx);
	return rc;
}
