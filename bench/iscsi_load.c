/*
 * iscsi_load - a bounded iSCSI load generator on libiscsi's asynchronous API.
 *
 * Each session is one libiscsi context logged in with
 * iscsi_full_connect_sync(); I/O is READ(16)/WRITE(16) with callbacks, the
 * sockets are driven with poll() and iscsi_service().  Every session keeps
 * --qd commands in flight; a completed command is replaced from its
 * callback.  Latency is measured per I/O from just before submission to the
 * callback on CLOCK_MONOTONIC and recorded in a log-linear histogram; the
 * data buffers, iovecs and histograms are allocated once, before the run.
 *
 * The run is bounded: warmup, then the measured window, then at most
 * DRAIN_SECS to collect the commands still in flight.  Any command that
 * does not end with GOOD status (or that ends short, or whose data does not
 * verify) is an error: it is counted, the first few are described on
 * stderr, and the tool exits 1.
 *
 * Exit status: 0 no errors, 1 I/O errors (or interrupted), 2 usage or setup.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#define NSEC_PER_SEC 1000000000ULL
#define NSEC_PER_MSEC 1000000ULL
#define DRAIN_SECS 30	      /* wait this long for in-flight I/O at the end */
#define LOGIN_TIMEOUT_SECS 10 /* libiscsi PDU timeout for login and logout */
#define PREFILL_MAX_SECS 600  /* bound on the --prefill write */
#define MAX_SESSIONS 256
#define MAX_QD 4096
#define MAX_BS (64ULL << 20)
#define MAX_ERR_MSGS 10 /* error descriptions printed, in total */
#define DEFAULT_INITIATOR "iqn.2026-11.org.tandem:iscsi-load"

/*
 * Log-linear latency histogram (the HdrHistogram layout): values below
 * 2^HIST_SUB_BITS nanoseconds have one bucket each; above, every power of
 * two is cut into 2^HIST_SUB_BITS equal buckets, so a bucket is at most
 * 1/128 (0.8 %) of its value wide.  Values from 2^HIST_MAX_BITS ns (about
 * 73 minutes) on share the last bucket; the exact maximum is kept apart.
 */
#define HIST_SUB_BITS 7
#define HIST_SUB (1ULL << HIST_SUB_BITS)
#define HIST_MAX_BITS 42
#define HIST_BUCKETS ((HIST_MAX_BITS - HIST_SUB_BITS + 1) * HIST_SUB)

struct hist {
	uint64_t count;
	uint64_t sum;
	uint64_t min;
	uint64_t max;
	uint64_t bucket[HIST_BUCKETS];
};

enum rw_mode { RW_READ, RW_WRITE, RW_MIXED };
enum access_pattern { PAT_RANDOM, PAT_SEQ };
enum op { OP_READ, OP_WRITE, OP_NR };

static const char *const rw_name[] = {
	[RW_READ] = "read",
	[RW_WRITE] = "write",
	[RW_MIXED] = "mixed",
};
static const char *const pattern_name[] = {
	[PAT_RANDOM] = "random",
	[PAT_SEQ] = "seq",
};
static const char *const op_name[] = {
	[OP_READ] = "read",
	[OP_WRITE] = "write",
};

struct options {
	const char *urls[MAX_SESSIONS];
	unsigned nr_urls;
	unsigned sessions_per_url;
	unsigned qd;
	uint64_t bs;
	enum rw_mode rw;
	unsigned read_pct;
	enum access_pattern pattern;
	double duration;
	double warmup;
	uint64_t range;
	bool verify;
	bool prefill;
	bool json;
	bool progress;
	unsigned threads;
	const char *initiator;
	uint64_t seed;
};

struct op_stats {
	uint64_t ios;
	uint64_t bytes;
	struct hist lat;
};

/* Each kind of failure separately: they point at different culprits. */
struct err_stats {
	uint64_t status;     /* SCSI status other than GOOD from the target */
	uint64_t transport;  /* libiscsi: connection error, cancel, timeout */
	uint64_t residual;   /* GOOD but a short or long transfer */
	uint64_t miscompare; /* --verify: read data differs from written */
	uint64_t submit;     /* libiscsi refused to queue the command */
	uint64_t hung;	     /* still in flight DRAIN_SECS after the end */
};

struct worker;
struct session;

struct slot {
	struct session *sess;
	unsigned char *buf;
	struct scsi_iovec iov;
	uint64_t t_submit;
	uint64_t offset; /* bytes */
	enum op op;
	bool busy;
};

struct session {
	int id;
	char initiator[256];
	const char *url;
	struct iscsi_context *iscsi;
	struct worker *w;
	int lun;
	uint32_t block_size;
	uint64_t capacity; /* bytes */
	struct slot *slots;
	unsigned inflight;
	uint64_t cursor;   /* next offset for sequential access */
	uint64_t fill_end; /* prefill: this session's part ends here */
	bool dead;	   /* connection lost: no new I/O */
	bool dying;	   /* being destroyed: callbacks only free */
};

enum run_kind { RUN_PREFILL, RUN_TIMED };

struct plan {
	enum run_kind kind;
	uint64_t t_start;
	uint64_t t_measure;  /* end of warmup */
	uint64_t t_end;	     /* end of the measured window */
	uint64_t t_deadline; /* give up on in-flight I/O */
};

struct worker {
	pthread_t thread;
	int id;
	struct session **sess;
	unsigned nr_sess;
	struct pollfd *pfd;
	uint64_t rng;
	uint64_t t_stopped; /* when an interrupt ended the window early */
	struct op_stats op[OP_NR];
	struct err_stats err;
	uint64_t completed;	       /* good completions, whole run */
	_Atomic uint64_t progress_ios; /* the same, for --progress */
};

static struct options opt = {
	.sessions_per_url = 1,
	.qd = 32,
	.bs = 4096,
	.rw = RW_READ,
	.read_pct = 50,
	.pattern = PAT_RANDOM,
	.duration = 10,
	.warmup = 2,
	.threads = 1,
	.initiator = DEFAULT_INITIATOR,
};

static struct plan plan;
static uint64_t range_bytes; /* the part of the LU in use, multiple of bs */
static volatile sig_atomic_t stop_requested;
static atomic_uint err_msgs_printed;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static void die(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("iscsi_load: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

/* Per-I/O error messages: only the first MAX_ERR_MSGS of the whole run. */
static void err_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void err_msg(const char *fmt, ...)
{
	va_list ap;
	unsigned n = atomic_fetch_add(&err_msgs_printed, 1);

	if (n >= MAX_ERR_MSGS)
		return;
	fputs("iscsi_load: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (n == MAX_ERR_MSGS - 1)
		fputs(" (further errors are counted, not printed)", stderr);
	fputc('\n', stderr);
}

/* xorshift64*: fast, good enough to spread offsets and fill buffers. */
static uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1DULL;
}

/* An unbiased-enough value in [0, n) without a division. */
static uint64_t rng_below(uint64_t *s, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)rng_next(s) * n) >> 64);
}

static uint64_t splitmix64(uint64_t x)
{
	x += 0x9E3779B97F4A7C15ULL;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
	return x ^ (x >> 31);
}

/* ---- histogram ---- */

static unsigned hist_index(uint64_t v)
{
	unsigned e;
	uint64_t idx;

	if (v < HIST_SUB)
		return (unsigned)v;
	e = 63 - (unsigned)__builtin_clzll(v); /* e >= HIST_SUB_BITS */
	idx = (uint64_t)(e - HIST_SUB_BITS + 1) * HIST_SUB +
	      ((v >> (e - HIST_SUB_BITS)) - HIST_SUB);
	return idx < HIST_BUCKETS ? (unsigned)idx : HIST_BUCKETS - 1;
}

/* The middle of a bucket's value range. */
static double hist_value(unsigned idx)
{
	unsigned g;
	uint64_t m, shift;

	if (idx < 2 * HIST_SUB)
		return idx;
	g = idx >> HIST_SUB_BITS; /* >= 2 */
	shift = g - 1;
	m = (idx & (HIST_SUB - 1)) + HIST_SUB;
	return (double)(m << shift) + (double)(1ULL << shift) / 2.0;
}

static void hist_init(struct hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

static void hist_add(struct hist *h, uint64_t v)
{
	h->bucket[hist_index(v)]++;
	h->count++;
	h->sum += v;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

static void hist_merge(struct hist *dst, const struct hist *src)
{
	for (unsigned i = 0; i < HIST_BUCKETS; i++)
		dst->bucket[i] += src->bucket[i];
	dst->count += src->count;
	dst->sum += src->sum;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
}

/* Smallest recorded value v with at least pct % of the values <= v. */
static double hist_percentile(const struct hist *h, double pct)
{
	uint64_t want, seen = 0;
	double v;

	if (!h->count)
		return 0;
	want = (uint64_t)ceil(pct / 100.0 * (double)h->count);
	if (want < 1)
		want = 1;
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen >= want) {
			v = hist_value(i);
			if (v > (double)h->max)
				v = (double)h->max;
			if (v < (double)h->min)
				v = (double)h->min;
			return v;
		}
	}
	return (double)h->max;
}

/* ---- argument parsing (no atoi: every number is checked) ---- */

static bool parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!*s || *s == '-')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

static unsigned parse_uint(const char *name, const char *s, unsigned lo,
			   unsigned hi)
{
	uint64_t v;

	if (!parse_u64(s, &v) || v < lo || v > hi)
		die("%s: '%s' is not a number from %u to %u", name, s, lo, hi);
	return (unsigned)v;
}

/* "4096", "4k", "64K", "1m", "1MiB", "2g": binary multiples. */
static uint64_t parse_size(const char *name, const char *s)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	if (!*s || *s == '-')
		die("%s: '%s' is not a size", name, s);
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		die("%s: '%s' is not a size", name, s);
	switch (*end) {
	case '\0':
		break;
	case 'k':
	case 'K':
		shift = 10;
		break;
	case 'm':
	case 'M':
		shift = 20;
		break;
	case 'g':
	case 'G':
		shift = 30;
		break;
	case 't':
	case 'T':
		shift = 40;
		break;
	default:
		die("%s: '%s': unknown unit", name, s);
	}
	if (*end) {
		end++;
		if (!strcmp(end, "iB") || !strcmp(end, "B") ||
		    !strcmp(end, "ib") || !strcmp(end, "b"))
			end += strlen(end);
		if (*end)
			die("%s: '%s': unknown unit", name, s);
	}
	if (shift && v > (UINT64_MAX >> shift))
		die("%s: '%s' is too large", name, s);
	return (uint64_t)v << shift;
}

static double parse_secs(const char *name, const char *s, double lo)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < lo || v > 86400)
		die("%s: '%s' is not a number of seconds from %g to 86400",
		    name, s, lo);
	return v;
}

static const char *const usage_lines[] = {
	"usage: iscsi_load --url iscsi://HOST[:PORT]/IQN/LUN [options]",
	"  --url URL          a session to this LU (repeatable)",
	"  --sessions N       N sessions to each URL (default 1), each with",
	"                     its own initiator name",
	"  --initiator IQN    initiator name prefix",
	"                     (default " DEFAULT_INITIATOR ")",
	"  --qd N             commands in flight per session (default 32)",
	"  --bs SIZE          I/O size: 4k, 64k, 1m ... (default 4k)",
	"  --rw read|write|mixed      (default read)",
	"  --mix-read-pct N   percent reads for --rw mixed (default 50)",
	"  --pattern random|seq       (default random)",
	"  --duration SECS    measured time (default 10)",
	"  --warmup SECS      unmeasured time before it (default 2)",
	"  --range SIZE       bytes of the LU to use, from LBA 0",
	"                     (default: all of it, from READ CAPACITY(16))",
	"  --prefill          first write the range once, sequentially;",
	"                     with --duration 0 do only that",
	"  --verify           prefill with a pattern, then check every read",
	"                     (writes write the same pattern)",
	"  --threads N        spread the sessions over N threads (default 1)",
	"  --seed N           random seed (default: from the clock)",
	"  --progress         print IOPS every second on stderr",
	"  --json             print the result as one JSON object",
	"exit status: 0 no errors, 1 I/O errors or interrupted, 2 usage or",
	"setup error",
};

static void usage(FILE *f)
{
	for (size_t i = 0; i < sizeof(usage_lines) / sizeof(usage_lines[0]);
	     i++)
		fprintf(f, "%s\n", usage_lines[i]);
}

enum {
	OPT_URL = 256,
	OPT_SESSIONS,
	OPT_INITIATOR,
	OPT_QD,
	OPT_BS,
	OPT_RW,
	OPT_MIX,
	OPT_PATTERN,
	OPT_DURATION,
	OPT_WARMUP,
	OPT_RANGE,
	OPT_VERIFY,
	OPT_PREFILL,
	OPT_THREADS,
	OPT_SEED,
	OPT_PROGRESS,
	OPT_JSON,
	OPT_HELP,
};

static const struct option long_opts[] = {
	{"url", required_argument, NULL, OPT_URL},
	{"sessions", required_argument, NULL, OPT_SESSIONS},
	{"initiator", required_argument, NULL, OPT_INITIATOR},
	{"qd", required_argument, NULL, OPT_QD},
	{"bs", required_argument, NULL, OPT_BS},
	{"rw", required_argument, NULL, OPT_RW},
	{"mix-read-pct", required_argument, NULL, OPT_MIX},
	{"pattern", required_argument, NULL, OPT_PATTERN},
	{"duration", required_argument, NULL, OPT_DURATION},
	{"warmup", required_argument, NULL, OPT_WARMUP},
	{"range", required_argument, NULL, OPT_RANGE},
	{"verify", no_argument, NULL, OPT_VERIFY},
	{"prefill", no_argument, NULL, OPT_PREFILL},
	{"threads", required_argument, NULL, OPT_THREADS},
	{"seed", required_argument, NULL, OPT_SEED},
	{"progress", no_argument, NULL, OPT_PROGRESS},
	{"json", no_argument, NULL, OPT_JSON},
	{"help", no_argument, NULL, OPT_HELP},
	{NULL, 0, NULL, 0},
};

static void parse_args(int argc, char **argv)
{
	int c;
	bool seeded = false;

	while ((c = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
		switch (c) {
		case OPT_URL:
			if (opt.nr_urls == MAX_SESSIONS)
				die("at most %d --url", MAX_SESSIONS);
			opt.urls[opt.nr_urls++] = optarg;
			break;
		case OPT_SESSIONS:
			opt.sessions_per_url = parse_uint("--sessions", optarg,
							  1, MAX_SESSIONS);
			break;
		case OPT_INITIATOR:
			opt.initiator = optarg;
			break;
		case OPT_QD:
			opt.qd = parse_uint("--qd", optarg, 1, MAX_QD);
			break;
		case OPT_BS:
			opt.bs = parse_size("--bs", optarg);
			break;
		case OPT_RW:
			if (!strcmp(optarg, "read"))
				opt.rw = RW_READ;
			else if (!strcmp(optarg, "write"))
				opt.rw = RW_WRITE;
			else if (!strcmp(optarg, "mixed"))
				opt.rw = RW_MIXED;
			else
				die("--rw: '%s': read, write or mixed", optarg);
			break;
		case OPT_MIX:
			opt.read_pct =
				parse_uint("--mix-read-pct", optarg, 0, 100);
			break;
		case OPT_PATTERN:
			if (!strcmp(optarg, "random") ||
			    !strcmp(optarg, "rand"))
				opt.pattern = PAT_RANDOM;
			else if (!strcmp(optarg, "seq") ||
				 !strcmp(optarg, "sequential"))
				opt.pattern = PAT_SEQ;
			else
				die("--pattern: '%s': random or seq", optarg);
			break;
		case OPT_DURATION:
			opt.duration = parse_secs("--duration", optarg, 0);
			break;
		case OPT_WARMUP:
			opt.warmup = parse_secs("--warmup", optarg, 0);
			break;
		case OPT_RANGE:
			opt.range = parse_size("--range", optarg);
			break;
		case OPT_VERIFY:
			opt.verify = true;
			break;
		case OPT_PREFILL:
			opt.prefill = true;
			break;
		case OPT_THREADS:
			opt.threads = parse_uint("--threads", optarg, 1,
						 MAX_SESSIONS);
			break;
		case OPT_SEED:
			if (!parse_u64(optarg, &opt.seed))
				die("--seed: '%s' is not a number", optarg);
			seeded = true;
			break;
		case OPT_PROGRESS:
			opt.progress = true;
			break;
		case OPT_JSON:
			opt.json = true;
			break;
		case 'h':
		case OPT_HELP:
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
	}
	if (optind != argc)
		die("unexpected argument '%s' (see --help)", argv[optind]);
	if (!opt.nr_urls)
		die("no --url given (see --help)");
	if (opt.nr_urls * opt.sessions_per_url > MAX_SESSIONS)
		die("at most %d sessions in all", MAX_SESSIONS);
	if (opt.bs < 512 || opt.bs > MAX_BS || opt.bs % 512)
		die("--bs must be a multiple of 512 from 512 to 64m");
	if (opt.verify)
		opt.prefill = true;
	if (opt.duration < 0.1 && !(opt.duration == 0 && opt.prefill))
		die("--duration must be at least 0.1 s (0 only with "
		    "--prefill)");
	if (opt.rw == RW_READ)
		opt.read_pct = 100;
	else if (opt.rw == RW_WRITE)
		opt.read_pct = 0;
	if (!seeded)
		opt.seed = now_ns() ^ ((uint64_t)getpid() << 32);
}

/* ---- the --verify pattern: a pure function of (byte offset, seed) ---- */

/*
 * Every 512-byte unit at byte offset o holds o, the seed, then a stream of
 * words seeded by both.  Any write of any unit stores the same bytes, so
 * reads can be checked whatever the order of concurrent writes.
 */
static void pattern_fill(unsigned char *buf, uint64_t offset, uint64_t len)
{
	for (uint64_t u = 0; u < len; u += 512) {
		uint64_t *w = (uint64_t *)(buf + u);
		uint64_t s = splitmix64((offset + u) ^ opt.seed) | 1;

		w[0] = offset + u;
		w[1] = opt.seed;
		for (unsigned i = 2; i < 512 / 8; i++)
			w[i] = rng_next(&s);
	}
}

/* Returns the byte offset of the first bad 512-byte unit, or UINT64_MAX. */
static uint64_t pattern_check(const unsigned char *buf, uint64_t offset,
			      uint64_t len)
{
	for (uint64_t u = 0; u < len; u += 512) {
		const uint64_t *w = (const uint64_t *)(buf + u);
		uint64_t s = splitmix64((offset + u) ^ opt.seed) | 1;

		if (w[0] != offset + u || w[1] != opt.seed)
			return offset + u;
		for (unsigned i = 2; i < 512 / 8; i++)
			if (w[i] != rng_next(&s))
				return offset + u;
	}
	return UINT64_MAX;
}

/* ---- I/O ---- */

static void io_done(struct iscsi_context *iscsi, int status, void *command_data,
		    void *private_data);

static bool may_submit(struct session *s, uint64_t now)
{
	if (s->dead || stop_requested)
		return false;
	if (plan.kind == RUN_PREFILL)
		return s->cursor < s->fill_end && now < plan.t_deadline;
	return now < plan.t_end;
}

static int submit(struct worker *w, struct slot *sl)
{
	struct session *s = sl->sess;
	struct scsi_task *task;
	uint64_t lba;
	uint32_t len = (uint32_t)opt.bs;

	if (plan.kind == RUN_PREFILL) {
		sl->op = OP_WRITE;
		sl->offset = s->cursor;
		s->cursor += opt.bs;
	} else {
		if (opt.read_pct == 100)
			sl->op = OP_READ;
		else if (opt.read_pct == 0)
			sl->op = OP_WRITE;
		else
			sl->op = rng_below(&w->rng, 100) < opt.read_pct
					 ? OP_READ
					 : OP_WRITE;
		if (opt.pattern == PAT_SEQ) {
			if (s->cursor >= range_bytes)
				s->cursor = 0;
			sl->offset = s->cursor;
			s->cursor += opt.bs;
		} else {
			sl->offset = rng_below(&w->rng, range_bytes / opt.bs) *
				     opt.bs;
		}
	}
	if (opt.verify && sl->op == OP_WRITE)
		pattern_fill(sl->buf, sl->offset, opt.bs);

	lba = sl->offset / s->block_size;
	sl->t_submit = now_ns();
	if (sl->op == OP_READ)
		task = iscsi_read16_iov_task(s->iscsi, s->lun, lba, len,
					     (int)s->block_size, 0, 0, 0, 0, 0,
					     io_done, sl, &sl->iov, 1);
	else
		task = iscsi_write16_iov_task(s->iscsi, s->lun, lba, NULL, len,
					      (int)s->block_size, 0, 0, 0, 0, 0,
					      io_done, sl, &sl->iov, 1);
	if (!task) {
		w->err.submit++;
		err_msg("session %d: cannot queue %s at LBA %" PRIu64 ": %s",
			s->id, op_name[sl->op], lba, iscsi_get_error(s->iscsi));
		s->dead = true; /* a context that refuses once will again */
		return -1;
	}
	sl->busy = true;
	s->inflight++;
	return 0;
}

static void io_done(struct iscsi_context *iscsi, int status, void *command_data,
		    void *private_data)
{
	struct slot *sl = private_data;
	struct session *s = sl->sess;
	struct worker *w = s->w;
	struct scsi_task *task = command_data;
	uint64_t now = now_ns();
	uint64_t bad;
	bool ok = false;

	sl->busy = false;
	s->inflight--;
	if (s->dying) {
		/* already counted when the connection was declared lost */
		if (task)
			scsi_free_scsi_task(task);
		return;
	}

	if (status == SCSI_STATUS_GOOD) {
		if (task &&
		    task->residual_status != SCSI_RESIDUAL_NO_RESIDUAL) {
			w->err.residual++;
			err_msg("session %d: %s at LBA %" PRIu64
				": %s residual of %zu bytes",
				s->id, op_name[sl->op],
				sl->offset / s->block_size,
				task->residual_status == SCSI_RESIDUAL_UNDERFLOW
					? "underflow"
					: "overflow",
				task->residual);
		} else if (opt.verify && sl->op == OP_READ &&
			   (bad = pattern_check(sl->buf, sl->offset, opt.bs)) !=
				   UINT64_MAX) {
			w->err.miscompare++;
			err_msg("session %d: miscompare: read of %" PRIu64
				" bytes at byte %" PRIu64 ": the 512-byte unit "
				"at byte %" PRIu64 " is not the pattern",
				s->id, opt.bs, sl->offset, bad);
		} else {
			ok = true;
		}
	} else if (status == SCSI_STATUS_CANCELLED ||
		   status == SCSI_STATUS_ERROR ||
		   status == SCSI_STATUS_TIMEOUT) {
		/* the connection is gone (no reconnects): stop using it */
		w->err.transport++;
		s->dead = true;
		err_msg("session %d: %s at LBA %" PRIu64 " failed in transport "
			"(libiscsi status 0x%x): %s",
			s->id, op_name[sl->op], sl->offset / s->block_size,
			(unsigned)status, iscsi_get_error(iscsi));
	} else {
		w->err.status++;
		if (status == SCSI_STATUS_CHECK_CONDITION && task)
			err_msg("session %d: %s at LBA %" PRIu64
				": CHECK CONDITION %s (0x%x) ASC/ASCQ "
				"0x%04x %s",
				s->id, op_name[sl->op],
				sl->offset / s->block_size,
				scsi_sense_key_str(task->sense.key),
				(unsigned)task->sense.key,
				(unsigned)task->sense.ascq,
				scsi_sense_ascq_str(task->sense.ascq));
		else
			err_msg("session %d: %s at LBA %" PRIu64
				": SCSI status 0x%02x",
				s->id, op_name[sl->op],
				sl->offset / s->block_size, (unsigned)status);
	}
	if (task)
		scsi_free_scsi_task(task);

	if (ok && plan.kind == RUN_TIMED && now >= plan.t_measure &&
	    now < plan.t_end && !w->t_stopped) {
		struct op_stats *st = &w->op[sl->op];

		st->ios++;
		st->bytes += opt.bs;
		hist_add(&st->lat, now - sl->t_submit);
	}
	if (ok)
		atomic_store_explicit(&w->progress_ios, ++w->completed,
				      memory_order_relaxed);
	if (may_submit(s, now))
		submit(w, sl);
}

/* Give up on a session: free the context and whatever is in flight. */
static void session_abandon(struct session *s)
{
	s->dead = true;
	s->dying = true;
	iscsi_destroy_context(s->iscsi); /* calls io_done with CANCELLED */
	s->iscsi = NULL;
	s->inflight = 0;
}

/* The connection is gone: count what was in flight as transport errors. */
static void session_lost(struct worker *w, struct session *s, const char *why)
{
	err_msg("session %d (%s): connection lost: %s; %u commands were in "
		"flight",
		s->id, s->url, why, s->inflight);
	w->err.transport += s->inflight;
	session_abandon(s);
}

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	uint64_t now;

	for (unsigned i = 0; i < w->nr_sess; i++) {
		struct session *s = w->sess[i];

		for (unsigned q = 0; q < opt.qd && may_submit(s, now_ns()); q++)
			if (submit(w, &s->slots[q]))
				break;
	}

	for (;;) {
		unsigned busy = 0;
		int timeout_ms = 100, n;
		uint64_t next;

		now = now_ns();
		if (stop_requested && !w->t_stopped && plan.kind == RUN_TIMED)
			w->t_stopped = now;
		for (unsigned i = 0; i < w->nr_sess; i++)
			if (!w->sess[i]->dying && w->sess[i]->inflight)
				busy++;
		if (!busy)
			break;
		if (now >= plan.t_deadline) {
			for (unsigned i = 0; i < w->nr_sess; i++) {
				struct session *s = w->sess[i];

				if (s->dying || !s->inflight)
					continue;
				w->err.hung += s->inflight;
				err_msg("session %d: %u commands still in "
					"flight "
					"%d s after the end; giving up",
					s->id, s->inflight, DRAIN_SECS);
				session_abandon(s);
			}
			break;
		}
		next = plan.t_deadline;
		if (plan.kind == RUN_TIMED && now < plan.t_end)
			next = plan.t_end;
		if (next - now < (uint64_t)timeout_ms * NSEC_PER_MSEC)
			timeout_ms = (int)((next - now) / NSEC_PER_MSEC) + 1;

		for (unsigned i = 0; i < w->nr_sess; i++) {
			struct session *s = w->sess[i];

			w->pfd[i].revents = 0;
			if (s->dying) {
				w->pfd[i].fd = -1;
				continue;
			}
			w->pfd[i].fd = iscsi_get_fd(s->iscsi);
			w->pfd[i].events = (short)iscsi_which_events(s->iscsi);
		}
		n = poll(w->pfd, w->nr_sess, timeout_ms);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("poll: %s", strerror(errno));
		}
		for (unsigned i = 0; i < w->nr_sess && n > 0; i++) {
			struct session *s = w->sess[i];

			if (s->dying || !w->pfd[i].revents)
				continue;
			if (iscsi_service(s->iscsi, w->pfd[i].revents) < 0)
				session_lost(w, s, iscsi_get_error(s->iscsi));
		}
	}
	return NULL;
}

/* ---- setup ---- */

static void session_open(struct session *s)
{
	struct iscsi_url *u;
	struct scsi_task *task;
	struct scsi_readcapacity16 *rc;

	s->iscsi = iscsi_create_context(s->initiator);
	if (!s->iscsi)
		die("session %d: cannot create a libiscsi context", s->id);
	u = iscsi_parse_full_url(s->iscsi, s->url);
	if (!u)
		die("'%s': %s", s->url, iscsi_get_error(s->iscsi));
	s->lun = u->lun;
	if (iscsi_set_targetname(s->iscsi, u->target) ||
	    iscsi_set_session_type(s->iscsi, ISCSI_SESSION_NORMAL) ||
	    iscsi_set_header_digest(s->iscsi, ISCSI_HEADER_DIGEST_NONE) ||
	    iscsi_set_timeout(s->iscsi, LOGIN_TIMEOUT_SECS))
		die("session %d: %s", s->id, iscsi_get_error(s->iscsi));
	/* a lost connection is an error to report, not to hide */
	iscsi_set_noautoreconnect(s->iscsi, 1);
	if (u->user[0] &&
	    iscsi_set_initiator_username_pwd(s->iscsi, u->user, u->passwd))
		die("session %d: %s", s->id, iscsi_get_error(s->iscsi));
	if (u->target_user[0] &&
	    iscsi_set_target_username_pwd(s->iscsi, u->target_user,
					  u->target_passwd))
		die("session %d: %s", s->id, iscsi_get_error(s->iscsi));
	if (iscsi_full_connect_sync(s->iscsi, u->portal, u->lun))
		die("session %d: login to %s as %s failed: %s", s->id, s->url,
		    s->initiator, iscsi_get_error(s->iscsi));
	iscsi_destroy_url(u);

	task = iscsi_readcapacity16_sync(s->iscsi, s->lun);
	if (!task || task->status != SCSI_STATUS_GOOD)
		die("session %d: READ CAPACITY(16) failed: %s", s->id,
		    iscsi_get_error(s->iscsi));
	rc = scsi_datain_unmarshall(task);
	if (!rc || !rc->block_length || rc->block_length % 512 ||
	    rc->block_length > 1048576)
		die("session %d: READ CAPACITY(16): unusable reply", s->id);
	s->block_size = rc->block_length;
	s->capacity = (rc->returned_lba + 1) * rc->block_length;
	scsi_free_scsi_task(task);

	/* From here on the drain deadline bounds every command. */
	iscsi_set_timeout(s->iscsi, 0);
}

static void session_close(struct session *s)
{
	if (!s->iscsi)
		return;
	iscsi_set_timeout(s->iscsi, LOGIN_TIMEOUT_SECS);
	iscsi_logout_sync(s->iscsi); /* best effort */
	iscsi_destroy_context(s->iscsi);
	s->iscsi = NULL;
}

static void slots_alloc(struct session *s, uint64_t *rng)
{
	s->slots = calloc(opt.qd, sizeof(*s->slots));
	if (!s->slots)
		die("out of memory");
	for (unsigned q = 0; q < opt.qd; q++) {
		struct slot *sl = &s->slots[q];
		void *p;

		if (posix_memalign(&p, 4096, opt.bs))
			die("out of memory for %u x %" PRIu64 " byte buffers",
			    opt.qd, opt.bs);
		sl->sess = s;
		sl->buf = p;
		sl->iov.iov_base = p;
		sl->iov.iov_len = opt.bs;
		/* incompressible data for plain writes */
		for (uint64_t i = 0; i < opt.bs; i += 8) {
			uint64_t v = rng_next(rng);

			memcpy(sl->buf + i, &v, 8);
		}
	}
}

static void *progress_run(void *arg);

static void sleep_until(uint64_t t)
{
	struct timespec ts = {
		.tv_sec = (time_t)(t / NSEC_PER_SEC),
		.tv_nsec = (long)(t % NSEC_PER_SEC),
	};

	while (!stop_requested &&
	       clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
		       EINTR)
		;
}

static double cpu_secs(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
	       ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) /
		       1e6;
}

static struct worker *workers;
static unsigned nr_workers;

static void run(enum run_kind kind, double *cpu_used)
{
	uint64_t now = now_ns();
	pthread_t progress;
	bool have_progress = false;
	double cpu0 = 0;

	plan.kind = kind;
	plan.t_start = now;
	if (kind == RUN_PREFILL) {
		plan.t_measure = plan.t_end = now;
		plan.t_deadline = now + PREFILL_MAX_SECS * NSEC_PER_SEC;
	} else {
		plan.t_measure = now + (uint64_t)(opt.warmup * NSEC_PER_SEC);
		plan.t_end = plan.t_measure +
			     (uint64_t)(opt.duration * NSEC_PER_SEC);
		plan.t_deadline = plan.t_end + DRAIN_SECS * NSEC_PER_SEC;
	}
	for (unsigned i = 0; i < nr_workers; i++)
		if (pthread_create(&workers[i].thread, NULL, worker_run,
				   &workers[i]))
			die("cannot start a thread");
	if (kind == RUN_TIMED && opt.progress &&
	    !pthread_create(&progress, NULL, progress_run, NULL))
		have_progress = true;
	if (kind == RUN_TIMED) {
		sleep_until(plan.t_measure);
		cpu0 = cpu_secs();
		sleep_until(plan.t_end);
		*cpu_used = cpu_secs() - cpu0;
	}
	for (unsigned i = 0; i < nr_workers; i++)
		pthread_join(workers[i].thread, NULL);
	if (have_progress)
		pthread_join(progress, NULL);
}

static void *progress_run(void *arg)
{
	uint64_t t = plan.t_start, last = 0;

	for (;;) {
		uint64_t sum = 0;

		t += NSEC_PER_SEC;
		if (t > plan.t_end || stop_requested)
			return NULL;
		sleep_until(t);
		for (unsigned i = 0; i < nr_workers; i++)
			sum += atomic_load_explicit(&workers[i].progress_ios,
						    memory_order_relaxed);
		fprintf(stderr, "iscsi_load: %5.1f s %s %10" PRIu64 " IOPS\n",
			(double)(t - plan.t_start) / 1e9,
			t <= plan.t_measure ? "warmup" : "      ", sum - last);
		last = sum;
	}
}

static void on_signal(int sig)
{
	stop_requested = 1;
}

/* ---- output ---- */

struct result {
	struct op_stats op[OP_NR];
	struct op_stats total;
	struct err_stats err;
	double secs;
	double cpu;
	uint64_t prefill_bytes;
	double prefill_secs;
	double cpu_total; /* the whole process, login to logout */
};

static uint64_t err_total(const struct err_stats *e)
{
	return e->status + e->transport + e->residual + e->miscompare +
	       e->submit + e->hung;
}

static double per_sec(double x, double secs)
{
	return secs > 0 ? x / secs : 0.0;
}

static void print_text_op(const char *name, const struct op_stats *st,
			  double secs)
{
	const struct hist *h = &st->lat;

	printf("%-6s IOPS %10.0f  MB/s %9.1f  lat us: p50 %8.1f  p99 %8.1f  "
	       "p99.9 %8.1f  max %8.1f  mean %8.1f\n",
	       name, per_sec((double)st->ios, secs),
	       per_sec((double)st->bytes, secs) / 1e6,
	       hist_percentile(h, 50) / 1e3, hist_percentile(h, 99) / 1e3,
	       hist_percentile(h, 99.9) / 1e3, (double)h->max / 1e3,
	       h->count ? (double)h->sum / (double)h->count / 1e3 : 0.0);
}

static void print_json_op(const char *name, const struct op_stats *st,
			  double secs, bool comma)
{
	const struct hist *h = &st->lat;

	printf("  \"%s\": {\"ios\": %" PRIu64 ", \"bytes\": %" PRIu64
	       ", \"iops\": %.1f, \"mbps\": %.2f, \"lat_us\": {\"min\": %.1f, "
	       "\"mean\": %.1f, \"p50\": %.1f, \"p99\": %.1f, \"p99_9\": %.1f, "
	       "\"max\": %.1f}}%s\n",
	       name, st->ios, st->bytes, per_sec((double)st->ios, secs),
	       per_sec((double)st->bytes, secs) / 1e6,
	       h->count ? (double)h->min / 1e3 : 0.0,
	       h->count ? (double)h->sum / (double)h->count / 1e3 : 0.0,
	       hist_percentile(h, 50) / 1e3, hist_percentile(h, 99) / 1e3,
	       hist_percentile(h, 99.9) / 1e3, (double)h->max / 1e3,
	       comma ? "," : "");
}

static void print_json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void print_result(const struct result *r, unsigned nr_sessions,
			 bool interrupted)
{
	const struct err_stats *e = &r->err;

	if (opt.json) {
		printf("{\n  \"urls\": [");
		for (unsigned i = 0; i < opt.nr_urls; i++) {
			if (i)
				printf(", ");
			print_json_str(opt.urls[i]);
		}
		printf("],\n  \"sessions\": %u, \"threads\": %u, \"qd\": %u, "
		       "\"bs\": %" PRIu64 ", \"rw\": \"%s\", "
		       "\"read_pct\": %u, \"pattern\": \"%s\", "
		       "\"range\": %" PRIu64 ", \"verify\": %s,\n"
		       "  \"prefill_bytes\": %" PRIu64 ", \"prefill_s\": %.3f, "
		       "\"warmup_s\": %.3f, \"duration_s\": %.3f,\n"
		       "  \"client_cpu_pct\": %.1f, \"client_cpu_total_s\": "
		       "%.3f, "
		       "\"interrupted\": %s,\n",
		       nr_sessions, nr_workers, opt.qd, opt.bs, rw_name[opt.rw],
		       opt.read_pct, pattern_name[opt.pattern], range_bytes,
		       opt.verify ? "true" : "false", r->prefill_bytes,
		       r->prefill_secs, opt.warmup, r->secs,
		       r->secs > 0 ? r->cpu / r->secs * 100 : 0.0, r->cpu_total,
		       interrupted ? "true" : "false");
		print_json_op("read", &r->op[OP_READ], r->secs, true);
		print_json_op("write", &r->op[OP_WRITE], r->secs, true);
		print_json_op("total", &r->total, r->secs, true);
		printf("  \"errors\": {\"total\": %" PRIu64
		       ", \"status\": %" PRIu64 ", \"transport\": %" PRIu64
		       ", \"residual\": %" PRIu64 ", \"miscompare\": %" PRIu64
		       ", \"submit\": %" PRIu64 ", \"hung\": %" PRIu64 "}\n}\n",
		       err_total(e), e->status, e->transport, e->residual,
		       e->miscompare, e->submit, e->hung);
		return;
	}
	printf("iscsi_load: %u session%s x qd %u, bs %" PRIu64 ", %s %s",
	       nr_sessions, nr_sessions == 1 ? "" : "s", opt.qd, opt.bs,
	       pattern_name[opt.pattern], rw_name[opt.rw]);
	if (opt.rw == RW_MIXED)
		printf(" (%u%% reads)", opt.read_pct);
	printf(", range %" PRIu64 " bytes%s, %.1f s after %.1f s warmup%s\n",
	       range_bytes, opt.verify ? ", verified" : "", r->secs, opt.warmup,
	       interrupted ? " (interrupted)" : "");
	if (opt.prefill)
		printf("prefill: %" PRIu64 " bytes in %.1f s, %.1f MB/s\n",
		       r->prefill_bytes, r->prefill_secs,
		       r->prefill_secs > 0 ? (double)r->prefill_bytes /
						     r->prefill_secs / 1e6
					   : 0.0);
	if (opt.duration == 0)
		goto errors;
	if (r->op[OP_READ].ios)
		print_text_op("read", &r->op[OP_READ], r->secs);
	if (r->op[OP_WRITE].ios)
		print_text_op("write", &r->op[OP_WRITE], r->secs);
	print_text_op("total", &r->total, r->secs);
	printf("client cpu: %.0f%% of one core (%u thread%s)\n",
	       r->secs > 0 ? r->cpu / r->secs * 100 : 0.0, nr_workers,
	       nr_workers == 1 ? "" : "s");
errors:
	printf("errors: %" PRIu64, err_total(e));
	if (err_total(e))
		printf(" (status %" PRIu64 ", transport %" PRIu64
		       ", residual %" PRIu64 ", miscompare %" PRIu64
		       ", submit %" PRIu64 ", hung %" PRIu64 ")",
		       e->status, e->transport, e->residual, e->miscompare,
		       e->submit, e->hung);
	putchar('\n');
}

int main(int argc, char **argv)
{
	struct session *sessions;
	unsigned nr_sessions;
	uint64_t rng, min_cap = UINT64_MAX;
	struct result r;
	double cpu = 0;
	bool interrupted;
	struct sigaction sa;

	parse_args(argc, argv);
	rng = splitmix64(opt.seed) | 1;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	nr_sessions = opt.nr_urls * opt.sessions_per_url;
	sessions = calloc(nr_sessions, sizeof(*sessions));
	if (!sessions)
		die("out of memory");
	for (unsigned i = 0; i < nr_sessions; i++) {
		struct session *s = &sessions[i];
		int n;

		s->id = (int)i;
		s->url = opt.urls[i / opt.sessions_per_url];
		n = snprintf(s->initiator, sizeof(s->initiator), "%s-%u-s%u",
			     opt.initiator, (unsigned)getpid(), i);
		if (n < 0 || (size_t)n >= sizeof(s->initiator))
			die("--initiator is too long");
		session_open(s);
		if (opt.bs % s->block_size)
			die("--bs %" PRIu64 " is not a multiple of the "
			    "block size %" PRIu32 " of %s",
			    opt.bs, s->block_size, s->url);
		if (s->capacity < min_cap)
			min_cap = s->capacity;
	}

	range_bytes = opt.range ? opt.range : min_cap;
	if (range_bytes > min_cap)
		die("--range %" PRIu64 " is larger than the LU (%" PRIu64
		    " bytes)",
		    range_bytes, min_cap);
	range_bytes -= range_bytes % opt.bs;
	if (!range_bytes)
		die("the range is smaller than one I/O of %" PRIu64 " bytes",
		    opt.bs);

	nr_workers = opt.threads < nr_sessions ? opt.threads : nr_sessions;
	workers = calloc(nr_workers, sizeof(*workers));
	if (!workers)
		die("out of memory");
	for (unsigned i = 0; i < nr_workers; i++) {
		struct worker *w = &workers[i];

		w->id = (int)i;
		w->rng = splitmix64(opt.seed + i + 1) | 1;
		w->sess = calloc(nr_sessions, sizeof(*w->sess));
		w->pfd = calloc(nr_sessions, sizeof(*w->pfd));
		if (!w->sess || !w->pfd)
			die("out of memory");
		for (int o = 0; o < OP_NR; o++)
			hist_init(&w->op[o].lat);
	}
	for (unsigned i = 0; i < nr_sessions; i++) {
		struct session *s = &sessions[i];
		struct worker *w = &workers[i % nr_workers];
		uint64_t part = range_bytes / opt.bs / nr_sessions * opt.bs;

		s->w = w;
		w->sess[w->nr_sess++] = s;
		slots_alloc(s, &rng);
		/* spread sequential streams over the range */
		s->cursor = part * i;
		s->fill_end =
			i == nr_sessions - 1 ? range_bytes : part * (i + 1);
	}

	memset(&r, 0, sizeof(r));
	if (opt.prefill) {
		uint64_t t0 = now_ns();

		run(RUN_PREFILL, &cpu);
		r.prefill_secs = (double)(now_ns() - t0) / 1e9;
		for (unsigned i = 0; i < nr_sessions; i++) {
			struct session *s = &sessions[i];
			uint64_t start =
				range_bytes / opt.bs / nr_sessions * opt.bs * i;

			if (!s->dead && !stop_requested &&
			    s->cursor < s->fill_end)
				die("the prefill did not finish in %d s",
				    PREFILL_MAX_SECS);
			r.prefill_bytes += s->cursor - start;
			s->cursor = start;
		}
	}
	if (!stop_requested && opt.duration > 0)
		run(RUN_TIMED, &cpu);
	interrupted = stop_requested;

	hist_init(&r.total.lat);
	for (int o = 0; o < OP_NR; o++)
		hist_init(&r.op[o].lat);
	r.secs = (double)(plan.t_end - plan.t_measure) / 1e9;
	for (unsigned i = 0; i < nr_workers; i++) {
		struct worker *w = &workers[i];

		r.err.status += w->err.status;
		r.err.transport += w->err.transport;
		r.err.residual += w->err.residual;
		r.err.miscompare += w->err.miscompare;
		r.err.submit += w->err.submit;
		r.err.hung += w->err.hung;
		for (int o = 0; o < OP_NR; o++) {
			r.op[o].ios += w->op[o].ios;
			r.op[o].bytes += w->op[o].bytes;
			hist_merge(&r.op[o].lat, &w->op[o].lat);
		}
		if (w->t_stopped) {
			double s = w->t_stopped > plan.t_measure
					   ? (double)(w->t_stopped -
						      plan.t_measure) /
						     1e9
					   : 0;

			if (s < r.secs)
				r.secs = s;
		}
	}
	for (int o = 0; o < OP_NR; o++) {
		r.total.ios += r.op[o].ios;
		r.total.bytes += r.op[o].bytes;
		hist_merge(&r.total.lat, &r.op[o].lat);
	}
	r.cpu = cpu;

	for (unsigned i = 0; i < nr_sessions; i++)
		session_close(&sessions[i]);
	r.cpu_total = cpu_secs();
	print_result(&r, nr_sessions, interrupted);
	if (interrupted)
		fputs("iscsi_load: interrupted\n", stderr);
	return err_total(&r.err) || interrupted ? 1 : 0;
}
