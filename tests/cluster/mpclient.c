/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * mpclient.c - a multipathing writer on libiscsi for the cluster lab
 * (tests/cluster/failover_pcmk.sh): it behaves as Linux's dm-multipath
 * with scsi_dh_alua does, and keeps a record of every write it got GOOD
 * status for, to read back and compare at the end.
 *
 * usage: mpclient [options] URL...   (one iscsi:// URL per head, same LU)
 *   -i IQN          initiator name (default iqn.2026-11.org.tandem:mpclient);
 *                   path N uses ISID 0x80 + a hash of the name + N, the
 *                   same on every reconnection (the same I_T nexus, so
 *                   its registration stays its own)
 *   -l LBA          first block of the region (default 0)
 *   -n BLOCKS       blocks in the region (default 1024)
 *   -s SECONDS      stop writing after SECONDS (default 0: until SIGTERM
 *                   or SIGINT)
 *   -t SECONDS      per-command timeout (default 2)
 *   -b BYTES        the LU's block size (default 512)
 *   -u USECS        pause between two writes (default 0)
 *   -S              scsi_dh_alua's activation: when the best reachable
 *                   group is standby, send SET TARGET PORT GROUPS
 *                   (active/optimized) for it first
 *   -k KEY -T TYPE  persistent reservations: REGISTER AND IGNORE EXISTING
 *                   KEY on every path (each login), then RESERVE TYPE (5
 *                   wr_ex_ro, 6 ex_ac_ro, 7 wr_ex_ar, 8 ex_ac_ar, 1, 3)
 *                   through the first path used
 *   SIGUSR1         "mark": the time of an event the caller causes (a
 *                   kill); the next failover's pause is also given from it
 *   -W              once the writes stop, print "writes_stopped" and wait
 *                   for SIGUSR2 (at most 60 s) before reading back (a test
 *                   changes a block behind the writer's back meanwhile)
 *   SIGTERM, SIGINT stop writing, verify, exit
 *
 * Paths: every URL is logged in to; VPD page 83h gives each path's NAA
 * designator (must be the same on every path, or the program stops),
 * relative target port and target port group. REPORT TARGET PORT GROUPS
 * gives each group's state. Writes (WRITE(16), one block, queue depth 1)
 * go to the live paths of active/optimized groups, round-robin; to
 * active/non-optimized ones only when no active/optimized path is live
 * (dm-multipath's group priorities, prioritizer alua). A transport error,
 * a timeout or a connection the target closes takes the path down (a
 * thread logs in again in the background, every 0.5 s) and RTPG is read
 * again through a live path; so does a unit attention 6/2A/xx or 6/29/xx
 * or an ALUA NOT READY (2/04/0A..0C). A command that ended with CHECK
 * CONDITION or RESERVATION CONFLICT was not executed and is written
 * again; one without a status (transport error, timeout) is
 * "indeterminate": its block may hold the old or the new content.
 *
 * Block content: "MPCLIENT lba=L seq=S t=SEC.NSEC path=P" and bytes
 * derived from L and S. At the end every block with a GOOD write is read
 * back through a live path: verified (the last GOOD write's content),
 * indeterminate_ok (the content of a write without status issued after
 * it), missing (zeros: never written), stale (anything else: an older
 * write, another writer's data).
 *
 * Output, one fact per line, times CLOCK_REALTIME seconds:
 *   path P url=U up|down|refused t=T [reason=R] [naa=N tpg=G rel_port=R]
 *   rtpg t=T via=P groups=G:STATE[:pref],...
 *   switch t=T from=P|- to=P state=ao|an reason=R
 *   stpg t=T via=P group=G status=S
 *   pr register path=P status=S | pr reserve path=P key=K type=T status=S
 *   mark t=T
 *   pause from=P to=P reason=R ms=MS [mark_ms=MS] t=T
 *   path_last_good path=P t=T writes=N
 *   writes good=N indeterminate=N not_executed=N switches=N max_gap_ms=MS
 *     (max_gap_ms: the longest time between two GOOD writes)
 *   bad lba=L kind=missing|stale expected_seq=S found=TEXT
 *   verified=N missing=N stale=N indeterminate_ok=N
 * Exit: 0 when verified > 0 and nothing missing or stale, 1 otherwise, 2
 * on usage or when no path could be used at the start.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include "spc_wire.h"

#define MAX_PATHS 8
#define MAX_GROUPS 32
#define MAX_INDET 4
#define HDR_LEN 96

/* SPC-4 6.37, table 165: asymmetric access states */
enum { AAS_AO = 0, AAS_AN = 1, AAS_STANDBY = 2, AAS_UNAVAIL = 3 };

struct content {
	uint64_t seq;
	int64_t t_ns;
	unsigned path;
};

struct block {
	struct content good; /* seq 0: no GOOD write */
	struct content indet[MAX_INDET];
	unsigned nindet;
};

struct path {
	unsigned id;
	char name[2];
	const char *url;
	char portal[256], target[256];
	int lun;
	/* owned by the main thread while up */
	struct iscsi_context *ctx;
	bool up, refused;
	unsigned tpg, rel_port;
	int64_t last_good_ns;
	uint64_t good;
	/* the reconnecting thread hands a logged-in context over */
	pthread_t thread;
	bool thread_running;
	pthread_mutex_t mu;
	struct iscsi_context *ready;
	char ready_naa[64];
	unsigned ready_tpg, ready_rel_port;
};

struct group {
	unsigned id, state;
	bool pref, known;
};

static struct path paths[MAX_PATHS];
static unsigned npaths;
static struct group groups[MAX_GROUPS];
static unsigned ngroups;
static char naa_ref[64];
static const char *initiator = "iqn.2026-11.org.tandem:mpclient";
static uint32_t isid_base;
static unsigned block_size = 512, cmd_timeout = 2;
static uint64_t region_lba, region_blocks = 1024;
static bool use_stpg;
static uint64_t pr_key;
static unsigned pr_type = 5;
static bool reserved;
static struct block *rec;
static volatile sig_atomic_t stop_flag;
static volatile sig_atomic_t mark_flag;
static volatile int64_t mark_ns;

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void print_t(const char *head, int64_t t)
{
	printf("%st=%lld.%06lld", head, (long long)(t / 1000000000),
	       (long long)(t % 1000000000 / 1000));
}

/*
 * Signals are taken by one thread with sigwait(), blocked everywhere
 * else: a signal handler would interrupt libiscsi's synchronous calls
 * (their poll() fails with EINTR and the command with it).
 */
static sigset_t sigs;
static volatile sig_atomic_t verify_go;

static void *signal_thread(void *arg)
{
	int sig;

	(void)arg;
	for (;;) {
		if (sigwait(&sigs, &sig))
			continue;
		if (sig == SIGUSR1) {
			mark_ns = now_ns();
			mark_flag = 1;
		} else if (sig == SIGUSR2) {
			verify_go = 1;
		} else {
			stop_flag = 1;
		}
	}
	return NULL;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {(time_t)(ms / 1000),
			      (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* ---- commands ---- */

enum outcome {
	DONE,	   /* a SCSI status came back */
	NO_STATUS, /* transport error, timeout: the path is gone */
};

/* one command on ctx, synchronous, bounded by the context's timeout */
static enum outcome run_cmd(struct iscsi_context *ctx, int lun,
			    const unsigned char *cdb, int cdb_len, int dir,
			    unsigned char *out, size_t out_len, int in_len,
			    struct scsi_task **tp)
{
	struct scsi_task *t = calloc(1, sizeof(*t));
	struct iscsi_data d = {.data = out, .size = out_len};
	struct scsi_task *r;

	*tp = NULL;
	if (!t)
		return NO_STATUS;
	memcpy(t->cdb, cdb, (size_t)cdb_len);
	t->cdb_size = cdb_len;
	t->xfer_dir = dir;
	t->expxferlen = dir == SCSI_XFER_WRITE ? (int)out_len : in_len;
	r = iscsi_scsi_command_sync(ctx, lun, t,
				    dir == SCSI_XFER_WRITE ? &d : NULL);
	if (!r || t->status == SCSI_STATUS_ERROR ||
	    t->status == SCSI_STATUS_CANCELLED ||
	    t->status == SCSI_STATUS_TIMEOUT) {
		scsi_free_scsi_task(t);
		return NO_STATUS;
	}
	*tp = t;
	return DONE;
}

static bool is_ua(const struct scsi_task *t)
{
	return t->status == SCSI_STATUS_CHECK_CONDITION &&
	       t->sense.key == SCSI_SENSE_UNIT_ATTENTION;
}

static const char *sense_str(const struct scsi_task *t, char *buf, size_t n)
{
	if (t->status == SCSI_STATUS_GOOD)
		snprintf(buf, n, "GOOD");
	else if (t->status == SCSI_STATUS_RESERVATION_CONFLICT)
		snprintf(buf, n, "RESERVATION_CONFLICT");
	else if (t->status == SCSI_STATUS_CHECK_CONDITION)
		snprintf(buf, n, "CHECK_CONDITION/%x/%02x/%02x",
			 (unsigned)t->sense.key,
			 (unsigned)(t->sense.ascq >> 8) & 0xFF,
			 (unsigned)t->sense.ascq & 0xFF);
	else
		snprintf(buf, n, "0x%02x", (unsigned)t->status);
	return buf;
}

/* SPC-4 6.17: PERSISTENT RESERVE OUT with the basic parameter list */
static enum outcome pr_out(struct iscsi_context *ctx, int lun, unsigned sa,
			   unsigned type, uint64_t key, uint64_t sakey,
			   struct scsi_task **tp)
{
	unsigned char c[10] = {0x5F, (unsigned char)sa, (unsigned char)type};
	unsigned char par[24] = {0};

	put_be32(c + 5, sizeof(par));
	put_be64(par, key);
	put_be64(par + 8, sakey);
	return run_cmd(ctx, lun, c, 10, SCSI_XFER_WRITE, par, sizeof(par), 0,
		       tp);
}

/* SPC-4 7.8.5: the NAA designator, relative target port and target port
 * group of VPD page 83h */
static bool read_identity(struct iscsi_context *ctx, int lun, char *naa,
			  size_t naa_len, unsigned *tpg, unsigned *rel_port)
{
	unsigned char c[6] = {0x12, 1, 0x83, 0x04, 0x00, 0};
	struct scsi_task *t;
	const unsigned char *p;
	struct vpd83_desig ds;
	size_t n, off = 4;

	naa[0] = 0;
	*tpg = *rel_port = 0;
	if (run_cmd(ctx, lun, c, 6, SCSI_XFER_READ, NULL, 0, 1024, &t) != DONE)
		return false;
	p = t->datain.data;
	n = p ? (size_t)t->datain.size : 0;
	if (t->status != SCSI_STATUS_GOOD || n < 4) {
		scsi_free_scsi_task(t);
		return false;
	}
	while (vpd83_next(p, n, &off, &ds)) {
		if (ds.type == 3 && ds.assoc == 0 && !naa[0])
			for (size_t i = 0; i < ds.len && 2 * i + 3 <= naa_len;
			     i++)
				snprintf(naa + 2 * i, 3, "%02x", ds.d[i]);
		else if (ds.type == 4 && ds.len >= 4)
			*rel_port = get_be16(ds.d + 2);
		else if (ds.type == 5 && ds.len >= 4)
			*tpg = get_be16(ds.d + 2);
	}
	scsi_free_scsi_task(t);
	return naa[0] != 0;
}

/* a new context for path p, logged in, its unit attentions taken, its
 * identity read, registered when -k was given; NULL on failure */
static struct iscsi_context *path_login(struct path *p, char *naa,
					size_t naa_len, unsigned *tpg,
					unsigned *rel_port, char *why,
					size_t why_len)
{
	static const unsigned char tur[6] = {0};
	struct iscsi_context *ctx = iscsi_create_context(initiator);
	struct scsi_task *t;

	if (!ctx) {
		snprintf(why, why_len, "no_context");
		return NULL;
	}
	iscsi_set_isid_random(ctx, (isid_base + p->id) & 0xFFFFFF, 0);
	iscsi_set_targetname(ctx, p->target);
	iscsi_set_session_type(ctx, ISCSI_SESSION_NORMAL);
	iscsi_set_header_digest(ctx, ISCSI_HEADER_DIGEST_NONE);
	iscsi_set_timeout(ctx, (int)cmd_timeout);
	iscsi_set_noautoreconnect(ctx, 1);
	/* a head cut off answers no SYN: give up after ~3 s */
	iscsi_set_tcp_syncnt(ctx, 1);
	iscsi_set_tcp_user_timeout(ctx, (int)cmd_timeout * 1000);
	if (iscsi_connect_sync(ctx, p->portal) != 0) {
		snprintf(why, why_len, "connect");
		iscsi_destroy_context(ctx);
		return NULL;
	}
	if (iscsi_login_sync(ctx) != 0) {
		snprintf(why, why_len, "login");
		iscsi_destroy_context(ctx);
		return NULL;
	}
	/* the new nexus' unit attentions (power on, reset) */
	for (int i = 0; i < 4; i++) {
		if (run_cmd(ctx, p->lun, tur, 6, SCSI_XFER_NONE, NULL, 0, 0,
			    &t) != DONE)
			goto transport;
		bool ua = is_ua(t);

		scsi_free_scsi_task(t);
		if (!ua)
			break;
	}
	if (!read_identity(ctx, p->lun, naa, naa_len, tpg, rel_port)) {
		snprintf(why, why_len, "vpd83");
		iscsi_destroy_context(ctx);
		return NULL;
	}
	if (pr_key) {
		for (int i = 0; i < 3; i++) {
			if (pr_out(ctx, p->lun,
				   SCSI_PERSISTENT_RESERVE_REGISTER_AND_IGNORE_EXISTING_KEY,
				   0, 0, pr_key, &t) != DONE)
				goto transport;
			char s[48];
			bool ua = is_ua(t);

			if (!ua)
				printf("pr register path=%s key=0x%" PRIx64
				       " status=%s\n",
				       p->name, pr_key,
				       sense_str(t, s, sizeof(s)));
			scsi_free_scsi_task(t);
			if (!ua)
				break;
		}
	}
	return ctx;
transport:
	snprintf(why, why_len, "transport");
	iscsi_destroy_context(ctx);
	return NULL;
}

static void *reconnect_thread(void *arg)
{
	struct path *p = arg;
	char naa[64], why[32];
	unsigned tpg, rel_port;

	while (!stop_flag) {
		struct iscsi_context *ctx = path_login(
			p, naa, sizeof(naa), &tpg, &rel_port, why, sizeof(why));

		if (ctx) {
			pthread_mutex_lock(&p->mu);
			p->ready = ctx;
			snprintf(p->ready_naa, sizeof(p->ready_naa), "%s", naa);
			p->ready_tpg = tpg;
			p->ready_rel_port = rel_port;
			pthread_mutex_unlock(&p->mu);
			return NULL;
		}
		for (int i = 0; i < 5 && !stop_flag; i++)
			sleep_ms(100);
	}
	return NULL;
}

static void path_down(struct path *p, const char *reason)
{
	if (!p->up)
		return;
	p->up = false;
	print_t("path ", now_ns());
	printf(" path=%s down reason=%s\n", p->name, reason);
	iscsi_destroy_context(p->ctx);
	p->ctx = NULL;
	if (!p->thread_running && !p->refused &&
	    !pthread_create(&p->thread, NULL, reconnect_thread, p))
		p->thread_running = true;
}

static void path_set_up(struct path *p, struct iscsi_context *ctx,
			const char *naa, unsigned tpg, unsigned rel_port)
{
	print_t("path ", now_ns());
	if (naa_ref[0] && strcmp(naa, naa_ref) != 0) {
		printf(" path=%s refused naa=%s expected=%s url=%s\n", p->name,
		       naa, naa_ref, p->url);
		p->refused = true;
		iscsi_destroy_context(ctx);
		return;
	}
	if (!naa_ref[0])
		snprintf(naa_ref, sizeof(naa_ref), "%s", naa);
	p->ctx = ctx;
	p->up = true;
	p->tpg = tpg;
	p->rel_port = rel_port;
	printf(" path=%s up naa=%s tpg=%u rel_port=%u url=%s\n", p->name, naa,
	       tpg, rel_port, p->url);
}

/* take over the contexts the reconnecting threads made; true when a path
 * came up */
static bool adopt_reconnected(void)
{
	bool any = false;

	for (unsigned i = 0; i < npaths; i++) {
		struct path *p = &paths[i];
		struct iscsi_context *ctx;

		if (!p->thread_running)
			continue;
		pthread_mutex_lock(&p->mu);
		ctx = p->ready;
		p->ready = NULL;
		pthread_mutex_unlock(&p->mu);
		if (!ctx)
			continue;
		pthread_join(p->thread, NULL);
		p->thread_running = false;
		path_set_up(p, ctx, p->ready_naa, p->ready_tpg,
			    p->ready_rel_port);
		any = any || p->up;
	}
	return any;
}

static const char *state_name(unsigned s)
{
	static const char *const n[16] = {"ao",
					  "an",
					  "standby",
					  "unavailable",
					  "4",
					  "5",
					  "6",
					  "7",
					  "lba_dependent",
					  "9",
					  "10",
					  "11",
					  "12",
					  "13",
					  "offline",
					  "transitioning"};

	return n[s & 0xF];
}

/* SPC-4 6.37: REPORT TARGET PORT GROUPS through path p; false when p
 * went down or did not answer GOOD */
static bool rtpg_via(struct path *p)
{
	unsigned char c[12] = {0xA3, 0x0A};
	struct scsi_task *t = NULL;
	const unsigned char *d;
	size_t n, off = 4;
	char line[512];
	int len = 0;

	put_be32(c + 6, 4096);
	for (int i = 0; i < 3; i++) {
		if (run_cmd(p->ctx, p->lun, c, 12, SCSI_XFER_READ, NULL, 0,
			    4096, &t) != DONE) {
			path_down(p, "transport");
			return false;
		}
		if (!is_ua(t))
			break;
		scsi_free_scsi_task(t);
		t = NULL;
	}
	if (!t || t->status != SCSI_STATUS_GOOD || !t->datain.data) {
		if (t)
			scsi_free_scsi_task(t);
		return false;
	}
	d = t->datain.data;
	n = (size_t)t->datain.size;
	if (n >= 4 && (size_t)get_be32(d) + 4 < n)
		n = get_be32(d) + 4;
	ngroups = 0;
	while (off + 8 <= n && ngroups < MAX_GROUPS) {
		struct group *g = &groups[ngroups++];

		g->state = d[off] & 0x0F;
		g->pref = d[off] >> 7;
		g->id = get_be16(d + off + 2);
		g->known = true;
		len += snprintf(line + len, sizeof(line) - (size_t)len,
				"%s%u:%s%s", len ? "," : "", g->id,
				state_name(g->state), g->pref ? ":pref" : "");
		if (len >= (int)sizeof(line))
			len = (int)sizeof(line) - 1;
		off += 8 + 4 * (size_t)d[off + 7];
	}
	scsi_free_scsi_task(t);
	print_t("rtpg ", now_ns());
	printf(" via=%s groups=%s\n", p->name, line);
	return true;
}

/* RTPG through any live path, the current one first */
static bool refresh_rtpg(struct path *first)
{
	if (first && first->up && rtpg_via(first))
		return true;
	for (unsigned i = 0; i < npaths; i++)
		if (paths[i].up && &paths[i] != first && rtpg_via(&paths[i]))
			return true;
	return false;
}

static int path_state(const struct path *p)
{
	for (unsigned i = 0; i < ngroups; i++)
		if (groups[i].id == p->tpg)
			return (int)groups[i].state;
	return -1;
}

/* SPC-4 6.44: SET TARGET PORT GROUPS, p's group active/optimized */
static bool stpg_via(struct path *p)
{
	unsigned char c[12] = {0xA4, 0x0A};
	unsigned char par[8] = {0};
	struct scsi_task *t;
	char s[48];

	par[4] = AAS_AO;
	put_be16(par + 6, p->tpg);
	put_be32(c + 6, sizeof(par));
	for (int i = 0; i < 3; i++) {
		if (run_cmd(p->ctx, p->lun, c, 12, SCSI_XFER_WRITE, par,
			    sizeof(par), 0, &t) != DONE) {
			path_down(p, "transport");
			return false;
		}
		if (!is_ua(t))
			break;
		scsi_free_scsi_task(t);
	}
	print_t("stpg ", now_ns());
	printf(" via=%s group=%u status=%s\n", p->name, p->tpg,
	       sense_str(t, s, sizeof(s)));
	bool good = t->status == SCSI_STATUS_GOOD;

	scsi_free_scsi_task(t);
	return good;
}

/* the next path to write through: active/optimized live paths in turn,
 * else active/non-optimized ones; a standby one is activated with STPG
 * (-S) when nothing better is live. NULL: none usable now. */
static struct path *select_path(void)
{
	static unsigned rr;
	int want[] = {AAS_AO, AAS_AN};

	for (unsigned w = 0; w < 2; w++)
		for (unsigned k = 0; k < npaths; k++) {
			struct path *p = &paths[(rr + k) % npaths];

			if (p->up && path_state(p) == want[w]) {
				rr = (unsigned)(p - paths) + 1;
				return p;
			}
		}
	if (use_stpg)
		for (unsigned k = 0; k < npaths; k++) {
			struct path *p = &paths[k];

			if (p->up && path_state(p) == AAS_STANDBY &&
			    stpg_via(p) && refresh_rtpg(p) &&
			    path_state(p) == AAS_AO)
				return p;
		}
	return NULL;
}

/* ---- block content ---- */

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	return x ^ (x >> 33);
}

static void fill(unsigned char *b, uint64_t lba, const struct content *c)
{
	uint64_t x = mix(lba * 0x9e3779b97f4a7c15ull ^ c->seq);

	memset(b, 0, HDR_LEN);
	snprintf((char *)b, HDR_LEN,
		 "MPCLIENT lba=%" PRIu64 " seq=%" PRIu64
		 " t=%lld.%09lld path=%c\n",
		 lba, c->seq, (long long)(c->t_ns / 1000000000),
		 (long long)(c->t_ns % 1000000000), 'A' + c->path);
	for (size_t i = HDR_LEN; i < block_size; i += 8) {
		x = mix(x + i);
		memcpy(b + i, &x, block_size - i < 8 ? block_size - i : 8);
	}
}

/* ---- writing ---- */

struct stats {
	uint64_t good, indet, not_executed, switches;
};

static struct stats st;
/* the path writes go to (NULL: choose again), the last one used */
static struct path *cur, *prev;
/* a failover in progress: the last GOOD write before it, the reason */
static bool pending;
static int64_t pending_last_good;
static char pending_from[2] = "-", pending_reason[40];
static int64_t last_good_ns;
static int64_t max_gap_ns; /* the longest time between two GOOD writes */

static void begin_event(const char *reason)
{
	if (pending)
		return;
	pending = true;
	pending_last_good = last_good_ns;
	snprintf(pending_from, sizeof(pending_from), "%s",
		 cur ? cur->name : "-");
	snprintf(pending_reason, sizeof(pending_reason), "%s", reason);
}

static void end_event(struct path *p, int64_t t)
{
	if (!pending)
		return;
	pending = false;
	if (!pending_last_good)
		return;
	printf("pause from=%s to=%s reason=%s ms=%.1f", pending_from, p->name,
	       pending_reason, (double)(t - pending_last_good) / 1e6);
	if (mark_ns && mark_ns <= t) {
		printf(" mark_ms=%.1f", (double)(t - mark_ns) / 1e6);
		mark_ns = 0;
	}
	print_t(" ", t);
	printf("\n");
}

/* CHECK CONDITION that says the path's state or the LU changed: re-read
 * RTPG and select again (SPC-4 5.15.2.5; scsi_dh_alua does the same) */
static bool alua_sense(const struct scsi_task *t)
{
	unsigned asc = (t->sense.ascq >> 8) & 0xFF, ascq = t->sense.ascq & 0xFF;

	if (t->sense.key == SCSI_SENSE_UNIT_ATTENTION)
		return true;
	/* 2/04/0A transitioning, 0B standby, 0C unavailable */
	return t->sense.key == SCSI_SENSE_NOT_READY && asc == 0x04 &&
	       ascq >= 0x0A && ascq <= 0x0C;
}

static void write_one(uint64_t lba, uint64_t seq, unsigned char *buf)
{
	struct block *b = &rec[lba - region_lba];
	struct content c = {seq, now_ns(), cur->id};
	unsigned char cdb[16] = {0x8A};
	struct scsi_task *t;
	struct path *p = cur;

	fill(buf, lba, &c);
	put_be64(cdb + 2, lba);
	put_be32(cdb + 10, 1);
	if (run_cmd(p->ctx, p->lun, cdb, 16, SCSI_XFER_WRITE, buf, block_size,
		    0, &t) != DONE) {
		/* no status: the block may hold it or not */
		st.indet++;
		if (b->nindet == MAX_INDET) {
			memmove(b->indet, b->indet + 1,
				sizeof(b->indet[0]) * (MAX_INDET - 1));
			b->nindet--;
		}
		b->indet[b->nindet++] = c;
		print_t("indeterminate ", now_ns());
		printf(" path=%s lba=%" PRIu64 " seq=%" PRIu64 "\n", p->name,
		       lba, seq);
		begin_event("transport");
		path_down(p, "transport_or_timeout");
		cur = NULL;
		return;
	}
	if (t->status == SCSI_STATUS_GOOD) {
		int64_t done = now_ns();

		b->good = c;
		b->nindet = 0;
		st.good++;
		p->good++;
		p->last_good_ns = done;
		end_event(p, done);
		/* the longest time between two GOOD writes, whatever the
		 * path: a stall of the store shows here without a switch */
		if (last_good_ns && done - last_good_ns > max_gap_ns)
			max_gap_ns = done - last_good_ns;
		last_good_ns = done;
	} else {
		char s[48];

		static int64_t shown_ns;
		static char shown[48];
		static uint64_t hidden;

		st.not_executed++;
		sense_str(t, s, sizeof(s));
		/* one line a second for the same status (a transitioning
		 * port answers every write the same way) */
		if (strcmp(s, shown) || now_ns() - shown_ns > 1000000000) {
			print_t("not_executed ", now_ns());
			printf(" path=%s lba=%" PRIu64 " status=%s", p->name,
			       lba, s);
			if (hidden)
				printf(" (and %" PRIu64 " more not shown)",
				       hidden);
			printf("\n");
			hidden = 0;
			shown_ns = now_ns();
			snprintf(shown, sizeof(shown), "%s", s);
		} else {
			hidden++;
		}
		if (t->sense.key == SCSI_SENSE_NOT_READY)
			/* scsi_dh_alua retries a transitioning port later */
			sleep_ms(10);
		if (t->status == SCSI_STATUS_CHECK_CONDITION && alua_sense(t)) {
			begin_event(t->sense.key == SCSI_SENSE_UNIT_ATTENTION
					    ? "ua"
					    : "not_ready");
			cur = NULL;
		} else {
			/* a conflict, busy: a little later */
			sleep_ms(10);
		}
	}
	scsi_free_scsi_task(t);
}

/* RTPG again, then the path to write through; a "switch" line when the
 * path or its state differs from the last line's (writes rotate over
 * the paths of the best group between two choices without a line) */
static void choose(const char *reason)
{
	static struct path *shown;
	static int shown_state = -1;
	struct path *old = cur ? cur : prev, *p;

	adopt_reconnected();
	if (!refresh_rtpg(old))
		return;
	p = select_path();
	if (!p)
		return;
	if (p != shown || path_state(p) != shown_state) {
		st.switches++;
		print_t("switch ", now_ns());
		printf(" from=%s to=%s state=%s reason=%s\n",
		       shown ? shown->name : "-", p->name,
		       state_name((unsigned)path_state(p)), reason);
		shown = p;
		shown_state = path_state(p);
	}
	cur = p;
	prev = p;
}

static void take_reservation(void)
{
	struct scsi_task *t;
	char s[48];

	for (int i = 0; i < 3; i++) {
		if (pr_out(cur->ctx, cur->lun, SCSI_PERSISTENT_RESERVE_RESERVE,
			   pr_type, pr_key, 0, &t) != DONE)
			return;
		if (!is_ua(t))
			break;
		scsi_free_scsi_task(t);
	}
	printf("pr reserve path=%s key=0x%" PRIx64 " type=%u status=%s\n",
	       cur->name, pr_key, pr_type, sense_str(t, s, sizeof(s)));
	reserved = t->status == SCSI_STATUS_GOOD;
	scsi_free_scsi_task(t);
}

/* dm-multipath's path checker (tur): TEST UNIT READY on every live path
 * writes do not go to, once a second, so that a session the target
 * closed is found before a write is sent on it; a unit attention there
 * says the states changed */
static void check_paths(void)
{
	static const unsigned char tur[6] = {0};
	bool changed = false;

	for (unsigned i = 0; i < npaths; i++) {
		struct path *p = &paths[i];
		struct scsi_task *t;

		if (!p->up || p == cur)
			continue;
		if (run_cmd(p->ctx, p->lun, tur, 6, SCSI_XFER_NONE, NULL, 0, 0,
			    &t) != DONE) {
			path_down(p, "checker");
			continue;
		}
		changed = changed || is_ua(t);
		scsi_free_scsi_task(t);
	}
	if (changed && cur) {
		begin_event("ua_checker");
		choose("ua_checker");
	}
}

static void write_loop(int64_t end_ns, unsigned gap_us)
{
	int64_t checked = 0;

	unsigned char *buf = malloc(block_size);
	uint64_t seq = 0;
	bool any_up;

	if (!buf)
		return;
	while (!stop_flag && (!end_ns || now_ns() < end_ns)) {
		if (mark_flag) {
			mark_flag = 0;
			print_t("mark ", mark_ns);
			printf("\n");
		}
		if (adopt_reconnected() && cur)
			/* a head came back: its group's state may differ */
			choose("path_up");
		if (now_ns() - checked > 1000000000) {
			check_paths();
			checked = now_ns();
		}
		if (!cur) {
			choose(pending ? pending_reason : "start");
			if (!cur) {
				any_up = false;
				for (unsigned i = 0; i < npaths; i++)
					any_up = any_up || paths[i].up;
				sleep_ms(any_up ? 20 : 50);
				continue;
			}
			if (pr_key && !reserved)
				take_reservation();
		}
		seq++;
		write_one(region_lba + (seq - 1) % region_blocks, seq, buf);
		/* round-robin among the paths of the best group, without
		 * asking RTPG again while nothing changed */
		if (cur && npaths > 1) {
			struct path *p = select_path();

			if (p)
				cur = prev = p;
		}
		if (gap_us)
			nanosleep(&(struct timespec){(time_t)(gap_us / 1000000),
						     (long)(gap_us % 1000000) *
							     1000},
				  NULL);
	}
	free(buf);
}

/* ---- verification ---- */

static bool same(const unsigned char *got, uint64_t lba,
		 const struct content *c, unsigned char *exp)
{
	fill(exp, lba, c);
	return !memcmp(got, exp, block_size);
}

static int verify(void)
{
	const uint64_t chunk = 64;
	unsigned char *exp = malloc(block_size);
	uint64_t verified = 0, missing = 0, stale = 0, indet_ok = 0, unread = 0,
		 shown = 0;
	/* path changes during the read-back: up to 30 s in all */
	int budget = 600;

	if (!exp)
		return 1;
	for (uint64_t lba = region_lba; lba < region_lba + region_blocks;) {
		uint64_t n = region_lba + region_blocks - lba;
		unsigned char cdb[16] = {0x88};
		struct scsi_task *t;

		if (n > chunk)
			n = chunk;
		put_be64(cdb + 2, lba);
		put_be32(cdb + 10, (uint32_t)n);
		/* a live path; wait up to 30 s for one */
		while (!cur && budget-- > 0) {
			choose("verify");
			if (!cur)
				sleep_ms(50);
		}
		if (!cur) {
			unread += n;
			lba += n;
			continue;
		}
		if (run_cmd(cur->ctx, cur->lun, cdb, 16, SCSI_XFER_READ, NULL,
			    0, (int)(n * block_size), &t) != DONE) {
			path_down(cur, "transport");
			cur = NULL;
			continue;
		}
		if (t->status != SCSI_STATUS_GOOD ||
		    (uint64_t)t->datain.size < n * block_size) {
			bool retry = t->status == SCSI_STATUS_CHECK_CONDITION &&
				     alua_sense(t);

			scsi_free_scsi_task(t);
			if (retry && budget-- > 0) {
				cur = NULL;
				continue;
			}
			unread += n;
			lba += n;
			continue;
		}
		for (uint64_t k = 0; k < n; k++) {
			struct block *b = &rec[lba + k - region_lba];
			const unsigned char *got =
				t->datain.data + k * block_size;
			bool ok = false, zero = true;

			if (!b->good.seq)
				continue;
			if (same(got, lba + k, &b->good, exp)) {
				verified++;
				continue;
			}
			for (unsigned i = 0; i < b->nindet && !ok; i++)
				ok = same(got, lba + k, &b->indet[i], exp);
			if (ok) {
				indet_ok++;
				continue;
			}
			for (size_t i = 0; i < block_size && zero; i++)
				zero = !got[i];
			if (zero)
				missing++;
			else
				stale++;
			if (shown++ < 10) {
				char text[64];
				size_t i;

				for (i = 0; i < sizeof(text) - 1; i++)
					text[i] =
						got[i] >= 0x21 && got[i] < 0x7F
							? (char)got[i]
							: '_';
				text[i] = 0;
				printf("bad lba=%" PRIu64
				       " kind=%s expected_seq=%" PRIu64
				       " found=%s\n",
				       lba + k, zero ? "missing" : "stale",
				       b->good.seq, text);
			}
		}
		scsi_free_scsi_task(t);
		lba += n;
	}
	free(exp);
	if (unread)
		printf("unread=%" PRIu64 "\n", unread);
	printf("verified=%" PRIu64 " missing=%" PRIu64 " stale=%" PRIu64
	       " indeterminate_ok=%" PRIu64 "\n",
	       verified, missing, stale, indet_ok);
	if (st.indet)
		printf("note: %" PRIu64
		       " write(s) ended without status (indeterminate): "
		       "their blocks may hold the old or the new content, "
		       "both accepted\n",
		       st.indet);
	return verified > 0 && !missing && !stale && !unread ? 0 : 1;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: mpclient [-i IQN] [-l LBA] [-n BLOCKS] [-s SECS] "
		   "[-t SECS] [-b BYTES] [-u USECS] [-S] [-k KEY [-T TYPE]] "
		   "URL...\n");
}

static bool parse_u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	return *s && !*end && !errno && *s != '-';
}

static bool parse_url(struct path *p, const char *url)
{
	struct iscsi_context *ctx = iscsi_create_context(initiator);
	struct iscsi_url *u;

	if (!ctx)
		return false;
	u = iscsi_parse_full_url(ctx, url);
	if (!u) {
		fprintf(stderr, "mpclient: bad URL '%s': %s\n", url,
			iscsi_get_error(ctx));
		iscsi_destroy_context(ctx);
		return false;
	}
	snprintf(p->portal, sizeof(p->portal), "%s", u->portal);
	snprintf(p->target, sizeof(p->target), "%s", u->target);
	p->lun = u->lun;
	iscsi_destroy_url(u);
	iscsi_destroy_context(ctx);
	return true;
}

int main(int argc, char **argv)
{
	uint64_t v, seconds = 0, gap_us = 0;
	pthread_t sig_thread;
	bool wait_verify = false;
	int c, rc;

	while ((c = getopt(argc, argv, "i:l:n:s:t:u:Sk:T:b:Wh")) != -1) {
		bool ok = true;

		switch (c) {
		case 'i':
			initiator = optarg;
			break;
		case 'l':
			ok = parse_u64(optarg, &region_lba);
			break;
		case 'n':
			ok = parse_u64(optarg, &region_blocks) &&
			     region_blocks > 0 && region_blocks <= (1u << 24);
			break;
		case 's':
			ok = parse_u64(optarg, &seconds);
			break;
		case 't':
			ok = parse_u64(optarg, &v) && v >= 1 && v <= 600;
			cmd_timeout = (unsigned)v;
			break;
		case 'u':
			ok = parse_u64(optarg, &gap_us) && gap_us < 10000000;
			break;
		case 'b':
			ok = parse_u64(optarg, &v) && v >= 512 && v <= 65536;
			block_size = (unsigned)v;
			break;
		case 'S':
			use_stpg = true;
			break;
		case 'W':
			wait_verify = true;
			break;
		case 'k':
			ok = parse_u64(optarg, &pr_key) && pr_key;
			break;
		case 'T':
			ok = parse_u64(optarg, &v) && v <= 15;
			pr_type = (unsigned)v;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			ok = false;
		}
		if (!ok) {
			usage(stderr);
			return 2;
		}
	}
	if (optind == argc || argc - optind > MAX_PATHS) {
		usage(stderr);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGUSR1);
	sigaddset(&sigs, SIGUSR2);
	/* before any thread: they all inherit the mask */
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	if (pthread_create(&sig_thread, NULL, signal_thread, NULL))
		return 2;
	pthread_detach(sig_thread);
	/* FNV-1a of the initiator name: the ISIDs of its paths */
	isid_base = 2166136261u;
	for (const char *s = initiator; *s; s++)
		isid_base = (isid_base ^ (unsigned char)*s) * 16777619u;
	rec = calloc(region_blocks, sizeof(*rec));
	if (!rec)
		return 2;
	for (int i = optind; i < argc; i++) {
		struct path *p = &paths[npaths];

		p->id = npaths;
		p->name[0] = (char)('A' + npaths);
		p->url = argv[i];
		pthread_mutex_init(&p->mu, NULL);
		if (!parse_url(p, argv[i]))
			return 2;
		npaths++;
	}
	for (unsigned i = 0; i < npaths; i++) {
		struct path *p = &paths[i];
		char naa[64], why[32];
		unsigned tpg, rel_port;
		struct iscsi_context *ctx = path_login(
			p, naa, sizeof(naa), &tpg, &rel_port, why, sizeof(why));

		if (ctx) {
			path_set_up(p, ctx, naa, tpg, rel_port);
			if (p->refused)
				return 2;
		} else {
			print_t("path ", now_ns());
			printf(" path=%s down reason=%s url=%s\n", p->name, why,
			       p->url);
			if (!pthread_create(&p->thread, NULL, reconnect_thread,
					    p))
				p->thread_running = true;
		}
	}
	print_t("start ", now_ns());
	printf(" paths=%u lba=%" PRIu64 " blocks=%" PRIu64
	       " block_size=%u timeout_s=%u stpg=%d pr_key=0x%" PRIx64 "\n",
	       npaths, region_lba, region_blocks, block_size, cmd_timeout,
	       use_stpg, pr_key);
	write_loop(seconds ? now_ns() + (int64_t)seconds * 1000000000 : 0,
		   (unsigned)gap_us);
	print_t("stop ", now_ns());
	printf("\n");
	if (wait_verify) {
		/* -W: the caller may change blocks behind our back now */
		printf("writes_stopped\n");
		for (int i = 0; i < 1200 && !verify_go; i++)
			sleep_ms(50);
	}
	stop_flag = 0;
	rc = verify();
	for (unsigned i = 0; i < npaths; i++) {
		printf("path_last_good path=%s ", paths[i].name);
		print_t("", paths[i].last_good_ns);
		printf(" writes=%" PRIu64 "\n", paths[i].good);
	}
	printf("writes good=%" PRIu64 " indeterminate=%" PRIu64
	       " not_executed=%" PRIu64 " switches=%" PRIu64
	       " max_gap_ms=%" PRId64 "\n",
	       st.good, st.indet, st.not_executed, st.switches,
	       max_gap_ns / 1000000);
	printf("result=%s\n", rc ? "FAIL" : "PASS");
	stop_flag = 1;
	for (unsigned i = 0; i < npaths; i++) {
		if (paths[i].thread_running)
			pthread_join(paths[i].thread, NULL);
		pthread_mutex_lock(&paths[i].mu);
		if (paths[i].ready)
			iscsi_destroy_context(paths[i].ready);
		pthread_mutex_unlock(&paths[i].mu);
		if (paths[i].ctx) {
			iscsi_logout_sync(paths[i].ctx);
			iscsi_destroy_context(paths[i].ctx);
		}
	}
	free(rec);
	return rc;
}
