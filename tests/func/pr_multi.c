/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pr_multi.c - the multi-initiator test of persistent reservations (SPC-4
 * 5.13, 6.15, 6.16) and ALUA (SPC-4 5.15, 6.37, 6.45) for tests/func/pr.sh:
 * several libiscsi sessions (different initiator names, and one name with
 * two ISIDs) on three target ports (rel_tgt_id 1, 2, 3) of one LU, and one
 * session on a fourth port with another LU in no device group.
 *
 * usage: pr_multi PHASE PORTAL1 PORTAL2 [ARG]
 *   pr            every PR OUT service action and type, conflicts, unit
 *                 attentions, ALL_TG_PT, SPEC_I_PT, REGISTER AND MOVE,
 *                 PREEMPT AND ABORT with commands in flight (TAS 0 and 1)
 *   aptpl-set     register two initiators with APTPL=1, reserve WE_RO;
 *                 prints "# gen N"
 *   aptpl-check N the state of aptpl-set with generation N
 *   aptpl0-set    CLEAR, then register and reserve with APTPL=0
 *   aptpl0-check  nothing left
 *   alua CTL...   ALUA: CTL... is the tandemctl command line (program and
 *                 its socket options) used to set target port group tg2's
 *                 state; every state against every opcode class, RTPG in
 *                 both formats, STPG and its unit attentions
 *   reset         LUN RESET, TARGET WARM RESET and TARGET COLD RESET:
 *                 their unit attentions on every nexus of the LU, and
 *                 the cold reset closing the target's sessions
 *
 * Environment: PR_FIRST (the number of the first check, default 1).
 * Prints "ok N - what" or "not ok N - what: expected X got Y" per check,
 * then "N passed, N failed". Exit status 0, 1 (a failed check), 2 (usage
 * or a session that cannot be set up).
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#define IQN "iqn.2026-11.org.tandem:"
#define T1 IQN "pr-t1" /* rel_tgt_id 1, group 1 */
#define T2 IQN "pr-t2" /* rel_tgt_id 2, group 2 */
#define T3 IQN "pr-t3" /* rel_tgt_id 3, group 3 */
#define T4 IQN "pr-t4" /* rel_tgt_id 4, disk02: no device group */
#define I1 IQN "ini1"
#define I2 IQN "ini2"
#define I3 IQN "ini3"
#define I4 IQN "ini4"
#define I5 IQN "ini5"

#define BS 512

/* SPC-4 6.16.2, table 218 */
enum { WE = 1, EA = 3, WE_RO = 5, EA_RO = 6, WE_AR = 7, EA_AR = 8 };
/* SPC-4 6.16.1, table 216 */
enum {
	SA_REGISTER = 0,
	SA_RESERVE = 1,
	SA_RELEASE = 2,
	SA_CLEAR = 3,
	SA_PREEMPT = 4,
	SA_PREEMPT_ABORT = 5,
	SA_REG_IGNORE = 6,
	SA_REG_MOVE = 7,
};
/* parameter list byte 20 (SPC-4 6.16.3, table 219) */
#define F_APTPL 0x01
#define F_ALL_TG_PT 0x04
#define F_SPEC_I_PT 0x08

static const char *portal1, *portal2;
static int npass, nfail, num = 1;

struct ini {
	struct iscsi_context *c;
	const char *tag; /* short name in the output */
	const char *name;
	uint8_t isid[6];
	int rel_port;
};

/* ---- output ---- */

static void result(bool good, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void result(bool good, const char *what, const char *fmt, ...)
{
	va_list ap;

	if (good) {
		printf("ok %d - %s\n", num++, what);
		npass++;
		return;
	}
	printf("not ok %d - %s: ", num++, what);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	nfail++;
}

static void check_str(const char *what, const char *want, const char *got)
{
	result(!strcmp(want, got), what, "expected %s got %s", want, got);
}

static void check_u64(const char *what, uint64_t want, uint64_t got)
{
	result(want == got, what, "expected 0x%" PRIx64 " got 0x%" PRIx64, want,
	       got);
}

/* "GOOD", "RESERVATION CONFLICT", "SENSE k/asc/ascq", "TASK ABORTED" */
static const char *res_str(const struct scsi_task *t)
{
	static char buf[64];

	if (!t)
		return "NO TASK";
	switch (t->status) {
	case SCSI_STATUS_GOOD:
		return "GOOD";
	case SCSI_STATUS_RESERVATION_CONFLICT:
		return "RESERVATION CONFLICT";
	case SCSI_STATUS_TASK_ABORTED:
		return "TASK ABORTED";
	case SCSI_STATUS_CHECK_CONDITION:
		snprintf(buf, sizeof(buf), "SENSE %x/%02x/%02x", t->sense.key,
			 (t->sense.ascq >> 8) & 0xFF, t->sense.ascq & 0xFF);
		return buf;
	default:
		snprintf(buf, sizeof(buf), "STATUS %02x", t->status);
		return buf;
	}
}

/* ---- sessions ---- */

/* set while opening a session whose writes must wait for R2T: every
 * write's data then moves only when the initiator answers R2Ts */
static bool open_with_r2t;

static void ini_open(struct ini *s, const char *tag, const char *portal,
		     const char *target, const char *name, unsigned isidq,
		     int rel_port)
{
	int i;

	memset(s, 0, sizeof(*s));
	s->tag = tag;
	s->name = name;
	s->rel_port = rel_port;
	s->c = iscsi_create_context(name);
	if (!s->c) {
		fprintf(stderr, "%s: no context\n", tag);
		exit(2);
	}
	/* ISID 80 00 00 00 qq qq: random format (RFC 7143 11.12.5) */
	iscsi_set_isid_random(s->c, 0, isidq);
	s->isid[0] = 0x80;
	s->isid[4] = (uint8_t)(isidq >> 8);
	s->isid[5] = (uint8_t)isidq;
	iscsi_set_targetname(s->c, target);
	iscsi_set_session_type(s->c, ISCSI_SESSION_NORMAL);
	iscsi_set_header_digest(s->c, ISCSI_HEADER_DIGEST_NONE);
	iscsi_set_noautoreconnect(s->c, 1);
	if (open_with_r2t) {
		iscsi_set_immediate_data(s->c, ISCSI_IMMEDIATE_DATA_NO);
		iscsi_set_initial_r2t(s->c, ISCSI_INITIAL_R2T_YES);
	}
	iscsi_set_timeout(s->c, 15);
	/* no TEST UNIT READY after login: ports may be in standby */
	if (iscsi_connect_sync(s->c, portal) != 0 ||
	    iscsi_login_sync(s->c) != 0) {
		fprintf(stderr, "%s: login to %s at %s: %s\n", tag, target,
			portal, iscsi_get_error(s->c));
		exit(2);
	}
	/* the power on / reset unit attention of a new I_T nexus */
	for (i = 0; i < 5; i++) {
		struct scsi_task *t = iscsi_testunitready_sync(s->c, 0);
		bool again = t && t->status == SCSI_STATUS_CHECK_CONDITION &&
			     t->sense.key == 6 &&
			     ((t->sense.ascq >> 8) == 0x29 ||
			      (t->sense.ascq >> 8) == 0x3F);

		if (t)
			scsi_free_scsi_task(t);
		if (!again)
			break;
	}
}

static void ini_close(struct ini *s)
{
	if (!s->c)
		return;
	iscsi_logout_sync(s->c);
	iscsi_destroy_context(s->c);
	s->c = NULL;
}

static struct scsi_task *raw(const uint8_t *cdb, int len, int dir, int xfer)
{
	struct scsi_task *t = calloc(1, sizeof(*t));

	if (!t)
		exit(2);
	memcpy(t->cdb, cdb, (size_t)len);
	t->cdb_size = len;
	t->xfer_dir = dir;
	t->expxferlen = xfer;
	return t;
}

/* Run a task; a transport failure ends the program. */
static struct scsi_task *run(struct ini *s, struct scsi_task *t,
			     const uint8_t *out, size_t outlen)
{
	struct iscsi_data d = {outlen, (unsigned char *)out};

	if (!iscsi_scsi_command_sync(s->c, 0, t, outlen ? &d : NULL)) {
		fprintf(stderr, "%s: command %02x: %s\n", s->tag, t->cdb[0],
			iscsi_get_error(s->c));
		exit(2);
	}
	return t;
}

/* Run, return the result string (the task is freed). */
static const char *run_str(struct ini *s, struct scsi_task *t,
			   const uint8_t *out, size_t outlen)
{
	static char buf[64];

	run(s, t, out, outlen);
	snprintf(buf, sizeof(buf), "%s", res_str(t));
	scsi_free_scsi_task(t);
	return buf;
}

static const char *tur(struct ini *s)
{
	static const uint8_t c[6] = {0};

	return run_str(s, raw(c, 6, SCSI_XFER_NONE, 0), NULL, 0);
}

static const char *rd(struct ini *s, uint32_t lba)
{
	uint8_t c[10] = {0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0};

	c[2] = (uint8_t)(lba >> 24);
	c[3] = (uint8_t)(lba >> 16);
	c[4] = (uint8_t)(lba >> 8);
	c[5] = (uint8_t)lba;
	return run_str(s, raw(c, 10, SCSI_XFER_READ, BS), NULL, 0);
}

static const char *wr(struct ini *s, uint32_t lba)
{
	static uint8_t blk[BS];
	uint8_t c[10] = {0x2A, 0, 0, 0, 0, 0, 0, 0, 1, 0};

	memset(blk, 0x5A, sizeof(blk));
	c[2] = (uint8_t)(lba >> 24);
	c[3] = (uint8_t)(lba >> 16);
	c[4] = (uint8_t)(lba >> 8);
	c[5] = (uint8_t)lba;
	return run_str(s, raw(c, 10, SCSI_XFER_WRITE, BS), blk, BS);
}

/* ---- persistent reservations ---- */

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/*
 * An iSCSI TransportID (SPC-4 7.6.4.6, tables 452/453): format 01b with
 * isid, 00b without; null-terminated, padded to a multiple of four and at
 * least 20 bytes of additional length. Returns its length.
 */
static size_t tid_iscsi(uint8_t *p, const char *name, const uint8_t *isid)
{
	size_t n = strlen(name), addl;
	char s[300];

	if (isid)
		snprintf(s, sizeof(s), "%s,i,0x%02x%02x%02x%02x%02x%02x", name,
			 isid[0], isid[1], isid[2], isid[3], isid[4], isid[5]);
	else
		snprintf(s, sizeof(s), "%s", name);
	n = strlen(s) + 1;
	addl = (n + 3) & ~(size_t)3;
	if (addl < 20)
		addl = 20;
	memset(p, 0, 4 + addl);
	p[0] = (uint8_t)((isid ? 0x40 : 0x00) | 0x05);
	p[2] = (uint8_t)(addl >> 8);
	p[3] = (uint8_t)addl;
	memcpy(p + 4, s, n - 1);
	return 4 + addl;
}

static size_t tid_of(uint8_t *p, const struct ini *s)
{
	return tid_iscsi(p, s->name, s->isid);
}

/* PERSISTENT RESERVE OUT (SPC-4 6.16): basic parameter list, plus the
 * TransportIDs of SPEC_I_PT */
static const char *prout_x(struct ini *s, int sa, int type, uint64_t key,
			   uint64_t sakey, uint8_t flags, const uint8_t *tids,
			   size_t tidlen)
{
	uint8_t c[10] = {0x5F, 0, 0, 0, 0, 0, 0, 0, 0, 0};
	uint8_t p[1024];
	size_t len = 24;

	memset(p, 0, sizeof(p));
	c[1] = (uint8_t)sa;
	c[2] = (uint8_t)type; /* SCOPE 0h: LU_SCOPE */
	put64(p, key);
	put64(p + 8, sakey);
	p[20] = flags;
	if (flags & F_SPEC_I_PT) {
		p[24] = (uint8_t)(tidlen >> 24);
		p[25] = (uint8_t)(tidlen >> 16);
		p[26] = (uint8_t)(tidlen >> 8);
		p[27] = (uint8_t)tidlen;
		memcpy(p + 28, tids, tidlen);
		len = 28 + tidlen;
	}
	c[7] = (uint8_t)(len >> 8);
	c[8] = (uint8_t)len;
	return run_str(s, raw(c, 10, SCSI_XFER_WRITE, (int)len), p, len);
}

static const char *prout(struct ini *s, int sa, int type, uint64_t key,
			 uint64_t sakey, uint8_t flags)
{
	return prout_x(s, sa, type, key, sakey, flags, NULL, 0);
}

/* REGISTER AND MOVE (SPC-4 6.16.4, table 221) */
static const char *prmove(struct ini *s, int type, uint64_t key, uint64_t sakey,
			  bool unreg, uint16_t rel_port, const uint8_t *tid,
			  size_t tidlen)
{
	uint8_t c[10] = {0x5F, SA_REG_MOVE, 0, 0, 0, 0, 0, 0, 0, 0};
	uint8_t p[512];
	size_t len = 24 + tidlen;

	memset(p, 0, sizeof(p));
	c[2] = (uint8_t)type;
	put64(p, key);
	put64(p + 8, sakey);
	p[17] = unreg ? 0x02 : 0;
	p[18] = (uint8_t)(rel_port >> 8);
	p[19] = (uint8_t)rel_port;
	p[20] = (uint8_t)(tidlen >> 24);
	p[21] = (uint8_t)(tidlen >> 16);
	p[22] = (uint8_t)(tidlen >> 8);
	p[23] = (uint8_t)tidlen;
	memcpy(p + 24, tid, tidlen);
	c[7] = (uint8_t)(len >> 8);
	c[8] = (uint8_t)len;
	return run_str(s, raw(c, 10, SCSI_XFER_WRITE, (int)len), p, len);
}

/* PERSISTENT RESERVE IN; the data in buf (at most 4096), its length */
static const char *prin(struct ini *s, int sa, uint8_t *buf, size_t *len)
{
	static char res[64];
	uint8_t c[10] = {0x5E, 0, 0, 0, 0, 0, 0, 0x10, 0x00, 0};
	struct scsi_task *t;

	c[1] = (uint8_t)sa;
	t = run(s, raw(c, 10, SCSI_XFER_READ, 4096), NULL, 0);
	snprintf(res, sizeof(res), "%s", res_str(t));
	*len = t->status == SCSI_STATUS_GOOD ? (size_t)t->datain.size : 0;
	if (*len > 4096)
		*len = 4096;
	if (*len)
		memcpy(buf, t->datain.data, *len);
	scsi_free_scsi_task(t);
	return res;
}

struct keys {
	bool ok;
	uint32_t gen;
	size_t n;
	uint64_t key[32];
};

/* READ KEYS (SPC-4 6.15.2, table 205) */
static struct keys read_keys(struct ini *s)
{
	struct keys k = {0};
	uint8_t b[4096];
	size_t len;

	if (strcmp(prin(s, 0, b, &len), "GOOD") || len < 8)
		return k;
	k.ok = true;
	k.gen = get32(b);
	for (size_t off = 8;
	     off + 8 <= len && off < 8 + get32(b + 4) && k.n < 32; off += 8)
		k.key[k.n++] = get64(b + off);
	return k;
}

static uint32_t gen_of(struct ini *s)
{
	return read_keys(s).gen;
}

/* "none" or "KEY type T" (READ RESERVATION, SPC-4 6.15.3) */
static const char *read_resv(struct ini *s)
{
	static char out[80];
	uint8_t b[4096];
	size_t len;
	const char *r = prin(s, 1, b, &len);

	if (strcmp(r, "GOOD") || len < 8)
		snprintf(out, sizeof(out), "(%s)", r);
	else if (get32(b + 4) == 0)
		snprintf(out, sizeof(out), "none");
	else if (len < 24 || get32(b + 4) != 16)
		snprintf(out, sizeof(out), "bad length %u", get32(b + 4));
	else
		snprintf(out, sizeof(out), "key %" PRIx64 " scope %x type %x",
			 get64(b + 8), b[21] >> 4, b[21] & 0x0F);
	return out;
}

struct fsd {
	uint64_t key;
	bool all_tg_pt, holder;
	uint8_t scope_type;
	uint16_t rel_port;
	size_t tidlen;
	uint8_t tid[260];
};

struct fullstat {
	bool ok;
	uint32_t gen;
	size_t n;
	struct fsd d[32];
};

/* READ FULL STATUS (SPC-4 6.15.5, tables 210/211) */
static struct fullstat read_full(struct ini *s)
{
	struct fullstat f = {0};
	uint8_t b[4096];
	size_t len, off, end;

	if (strcmp(prin(s, 3, b, &len), "GOOD") || len < 8)
		return f;
	f.gen = get32(b);
	end = 8 + get32(b + 4);
	if (end > len)
		return f;
	f.ok = true;
	for (off = 8; off + 24 <= end && f.n < 32;) {
		struct fsd *d = &f.d[f.n++];
		size_t tl = get32(b + off + 20);

		d->key = get64(b + off);
		d->all_tg_pt = b[off + 12] & 0x02;
		d->holder = b[off + 12] & 0x01;
		d->scope_type = b[off + 13];
		d->rel_port = (uint16_t)(b[off + 18] << 8 | b[off + 19]);
		d->tidlen = tl;
		if (tl <= sizeof(d->tid) && off + 24 + tl <= end)
			memcpy(d->tid, b + off + 24, tl);
		else
			f.ok = false;
		off += 24 + tl;
	}
	return f;
}

/* The descriptor of (TransportID, port), or NULL. */
static const struct fsd *fs_find(const struct fullstat *f, const uint8_t *tid,
				 size_t tidlen, uint16_t port)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->d[i].rel_port == port && f->d[i].tidlen == tidlen &&
		    !memcmp(f->d[i].tid, tid, tidlen))
			return &f->d[i];
	return NULL;
}

/* Check one READ FULL STATUS descriptor, byte by byte. */
static void check_fsd(const char *what, const struct fullstat *f,
		      const struct ini *s, uint16_t port, uint64_t key,
		      bool all_tg_pt, int holder_type)
{
	uint8_t tid[300];
	size_t tl = tid_of(tid, s);
	const struct fsd *d = fs_find(f, tid, tl, port);
	char w[256];

	snprintf(w, sizeof(w), "%s: %s at port %u", what, s->tag, port);
	if (!d) {
		result(false, w,
		       "expected a descriptor with TransportID %s "
		       "(format 01b, %zu bytes) got none",
		       s->name, tl);
		return;
	}
	result(d->key == key && d->all_tg_pt == all_tg_pt &&
		       d->holder == (holder_type >= 0) &&
		       d->scope_type == (holder_type >= 0 ? holder_type : 0),
	       w,
	       "expected key %" PRIx64 " ALL_TG_PT %d R_HOLDER %d "
	       "SCOPE/TYPE %02x got key %" PRIx64 " ALL_TG_PT %d "
	       "R_HOLDER %d SCOPE/TYPE %02x",
	       key, all_tg_pt, holder_type >= 0,
	       holder_type >= 0 ? holder_type : 0, d->key, d->all_tg_pt,
	       d->holder, d->scope_type);
}

static void check_keys(const char *what, struct ini *s, size_t n,
		       const uint64_t *want)
{
	struct keys k = read_keys(s);
	char got[512] = "", exp[512] = "";
	size_t i, g = 0, e = 0;

	for (i = 0; i < k.n && g < sizeof(got) - 20; i++)
		g += (size_t)snprintf(got + g, sizeof(got) - g, "%s%" PRIx64,
				      i ? "," : "", k.key[i]);
	for (i = 0; i < n && e < sizeof(exp) - 20; i++)
		e += (size_t)snprintf(exp + e, sizeof(exp) - e, "%s%" PRIx64,
				      i ? "," : "", want[i]);
	result(k.ok && !strcmp(got, exp), what, "expected keys [%s] got [%s]%s",
	       exp, got, k.ok ? "" : " (READ KEYS failed)");
}

/* Clean slate: CLEAR through a registration of s (REGISTER AND IGNORE
 * EXISTING KEY first), then drop the unit attentions CLEAR raised. */
static void pr_reset(struct ini *s, struct ini **all, int n)
{
	tur(s);
	tur(s);
	prout(s, SA_REG_IGNORE, 0, 0, 0x5E7, 0);
	prout(s, SA_CLEAR, 0, 0x5E7, 0, 0);
	for (int i = 0; i < n; i++)
		if (all[i] != s)
			tur(all[i]);
}

/* ---- asynchronous I/O: PREEMPT AND ABORT with commands in flight ---- */

struct inflight {
	int sent, good, conflict, aborted, ua_preempted, ua_other, other;
	int done;
	int good_after; /* GOOD completions received after P&A ended */
	bool pa_done;
};

struct cbarg {
	struct inflight *f;
	bool ended;
	bool write;
};

static void io_cb(struct iscsi_context *c, int status, void *data, void *priv)
{
	struct scsi_task *t = data;
	struct cbarg *a = priv;
	struct inflight *f = a->f;

	(void)c;
	a->ended = true;
	f->done++;
	if (status == SCSI_STATUS_GOOD) {
		f->good++;
		if (f->pa_done)
			f->good_after++;
	} else if (status == SCSI_STATUS_RESERVATION_CONFLICT) {
		f->conflict++;
	} else if (status == SCSI_STATUS_TASK_ABORTED) {
		f->aborted++;
	} else if (status == SCSI_STATUS_CHECK_CONDITION && t->sense.key == 6 &&
		   t->sense.ascq == 0x2A05) {
		f->ua_preempted++;
	} else if (status == SCSI_STATUS_CHECK_CONDITION && t->sense.key == 6) {
		f->ua_other++;
	} else if (status != SCSI_STATUS_CANCELLED) {
		f->other++;
	}
	/* not freed: a write that got its status early (TASK ABORTED while
	 * waiting for Data-Out) may still have Data-Out PDUs queued in
	 * libiscsi that point into the task; freeing it here made libiscsi
	 * write from freed memory. A few hundred tasks live until exit. */
	(void)t;
}

struct pa_ctx {
	struct scsi_task *t;
	bool done;
	int status;
	char res[64];
};

static void pa_cb(struct iscsi_context *c, int status, void *data, void *priv)
{
	struct pa_ctx *p = priv;

	(void)c;
	p->done = true;
	p->status = status;
	snprintf(p->res, sizeof(p->res), "%s", res_str(data));
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Service the sessions until *flag (or, flag NULL, for ms) */
static void pump(struct ini **v, int n, const bool *flag, long ms)
{
	long end = now_ms() + ms;
	struct pollfd pf[8];

	while ((!flag || !*flag) && now_ms() < end) {
		for (int i = 0; i < n; i++) {
			pf[i].fd = iscsi_get_fd(v[i]->c);
			pf[i].events = (short)iscsi_which_events(v[i]->c);
			pf[i].revents = 0;
		}
		if (poll(pf, (nfds_t)n, 20) < 0)
			break;
		for (int i = 0; i < n; i++)
			if (iscsi_service(v[i]->c, pf[i].revents) < 0) {
				fprintf(stderr, "%s: %s\n", v[i]->tag,
					iscsi_get_error(v[i]->c));
				return;
			}
	}
}

/* MODE SELECT(6) of the control mode page with TAS (SPC-4 7.5.8) */
static const char *set_tas(struct ini *s, bool tas)
{
	static const uint8_t ms[6] = {0x1A, 0x08, 0x0A, 0, 0xFF, 0};
	uint8_t sel[6] = {0x15, 0x10, 0, 0, 0, 0}, p[64];
	struct scsi_task *t = run(s, raw(ms, 6, SCSI_XFER_READ, 255), NULL, 0);
	size_t plen;

	if (t->status != SCSI_STATUS_GOOD || t->datain.size < 4 + 12) {
		static char err[96];

		snprintf(err, sizeof(err), "MODE SENSE: %s, %d bytes",
			 res_str(t), t->datain.size);
		scsi_free_scsi_task(t);
		return err;
	}
	plen = (size_t)t->datain.data[4 + 1] + 2;
	if (plen > 60)
		plen = 60;
	memset(p, 0, sizeof(p));
	memcpy(p + 4, t->datain.data + 4, plen);
	scsi_free_scsi_task(t);
	p[4] &= 0x3F;
	p[4 + 5] = (uint8_t)((p[4 + 5] & ~0x40) | (tas ? 0x40 : 0));
	sel[4] = (uint8_t)(4 + plen);
	return run_str(s, raw(sel, 6, SCSI_XFER_WRITE, (int)(4 + plen)), p,
		       4 + plen);
}

#define PA_N 96	      /* writes in flight */
#define PA_BLOCKS 256 /* 128 KiB each */
#define PA_LBA 16384  /* region: 16384 .. +96*256 blocks (12 MiB) */

/*
 * a (holder) and b registered; a queues PA_N large writes of 0xAA and
 * some reads; when the first one completes, b sends PREEMPT AND ABORT of
 * a's key. Then b overwrites the region with 0xBB and, once a's commands
 * have all ended or 3 s passed, reads it back: SPC-4 5.13.11.5 aborts a's
 * tasks as part of the PREEMPT AND ABORT, so none of a's data may land
 * after it completed.
 */
static void preempt_abort_inflight(struct ini *a, struct ini *b, bool tas,
				   uint64_t ka, uint64_t kb)
{
	static uint8_t wbuf[PA_BLOCKS * BS];
	struct ini *both[2] = {a, b};
	struct cbarg args[PA_N + PA_N / 4];
	struct inflight f = {0};
	struct pa_ctx pa = {0};
	uint8_t c[10] = {0x5F, SA_PREEMPT_ABORT, EA, 0, 0, 0, 0, 0, 24, 0};
	uint8_t p[24];
	struct iscsi_data d = {24, p};
	char w[160];
	int i, nargs = 0, bad = 0, outstanding;
	const char *mode = tas ? "TAS=1" : "TAS=0";

	memset(wbuf, 0xAA, sizeof(wbuf));
	for (i = 0; i < PA_N; i++) {
		args[nargs].f = &f;
		args[nargs].ended = false;
		args[nargs].write = true;
		if (!iscsi_write16_task(a->c, 0,
					PA_LBA + (uint64_t)i * PA_BLOCKS, wbuf,
					sizeof(wbuf), BS, 0, 0, 0, 0, 0, io_cb,
					&args[nargs])) {
			fprintf(stderr, "write16_task: %s\n",
				iscsi_get_error(a->c));
			exit(2);
		}
		nargs++;
		f.sent++;
		if (i % 4 == 3) {
			args[nargs].f = &f;
			args[nargs].ended = false;
			args[nargs].write = false;
			if (!iscsi_read16_task(a->c, 0, PA_LBA, PA_BLOCKS * BS,
					       BS, 0, 0, 0, 0, 0, io_cb,
					       &args[nargs])) {
				fprintf(stderr, "read16_task: %s\n",
					iscsi_get_error(a->c));
				exit(2);
			}
			nargs++;
			f.sent++;
		}
	}
	/* until every command PDU is sent and the target answered the
	 * first one (a read): the writes then wait in the target for the
	 * Data-Out that a, no longer served, does not send before the
	 * preempt returns, so they are in flight whatever the speed */
	{
		long end = now_ms() + 5000;

		while ((f.done == 0 || iscsi_out_queue_length(a->c) > 0) &&
		       now_ms() < end)
			pump(both, 1, NULL, 1);
	}
	memset(p, 0, sizeof(p));
	put64(p, kb);
	put64(p + 8, ka);
	pa.t = raw(c, 10, SCSI_XFER_WRITE, 24);
	if (iscsi_scsi_command_async(b->c, 0, pa.t, pa_cb, &d, &pa) != 0) {
		fprintf(stderr, "P&A: %s\n", iscsi_get_error(b->c));
		exit(2);
	}
	pump(both + 1, 1, &pa.done, 15000);
	f.pa_done = true;
	/* in flight when it ran: still unanswered, or answered TASK
	 * ABORTED (TAS=1) */
	outstanding = f.sent - f.done + f.aborted;
	printf("# P&A %s: %d commands sent, %d ended before PREEMPT AND "
	       "ABORT returned (%d GOOD)\n",
	       mode, f.sent, f.done, f.good);
	snprintf(w, sizeof(w),
		 "P&A %s: PREEMPT AND ABORT with %d of a's "
		 "commands outstanding is GOOD",
		 mode, outstanding);
	check_str(w, "GOOD", pa.done ? pa.res : "no answer in 15 s");
	scsi_free_scsi_task(pa.t);
	result(outstanding > 0, "P&A: commands were in flight when it ran",
	       "expected > 0 outstanding got %d", outstanding);

	/* b overwrites the region at once */
	memset(wbuf, 0xBB, sizeof(wbuf));
	for (i = 0; i < PA_N; i++) {
		struct scsi_task *t = iscsi_write16_sync(
			b->c, 0, PA_LBA + (uint64_t)i * PA_BLOCKS, wbuf,
			sizeof(wbuf), BS, 0, 0, 0, 0, 0);

		if (!t || t->status != SCSI_STATUS_GOOD)
			bad++;
		if (t)
			scsi_free_scsi_task(t);
	}
	snprintf(w, sizeof(w),
		 "P&A %s: b (new holder, EA) overwrites the "
		 "region",
		 mode);
	result(!bad, w, "expected GOOD got %d failures", bad);
	/* a's commands: with TAS=0 the aborted ones end silently (SAM-5
	 * 5.6), with TAS=1 with TASK ABORTED */
	{
		long end = now_ms() + 3000;

		while (f.done < f.sent && now_ms() < end)
			pump(both, 1, NULL, 20);
	}
	{
		int uw = 0, ur = 0;

		for (i = 0; i < nargs; i++)
			if (!args[i].ended)
				*(args[i].write ? &uw : &ur) += 1;
		printf("# P&A %s: libiscsi: %d PDUs not yet sent, %d queued "
		       "in all; unanswered: %d writes, %d reads\n",
		       mode, iscsi_out_queue_length(a->c),
		       iscsi_queue_length(a->c), uw, ur);
	}
	printf("# P&A %s: a's commands: %d GOOD (%d of them after P&A "
	       "returned), %d RESERVATION CONFLICT, %d TASK ABORTED, %d "
	       "UA 2A/05, %d other UA, %d other, %d without an answer\n",
	       mode, f.good, f.good_after, f.conflict, f.aborted,
	       f.ua_preempted, f.ua_other, f.other, f.sent - f.done);
	/* A GOOD that a reads after b read the PREEMPT AND ABORT's status
	 * may have been sent before it: two TCP connections have no common
	 * order. What SPC-4 5.13.11.5 forbids, a's data landing after the
	 * preempt, is checked below on the medium itself. */
	printf("# P&A %s: %d of a's GOOD statuses were read after the "
	       "PREEMPT AND ABORT's status\n",
	       mode, f.good_after);
	if (tas) {
		/* a write aborted while waiting for Data-Out is a command
		 * of the task set like any other */
		result(f.done == f.sent,
		       "P&A TAS=1: every aborted command of a ends with a "
		       "status, writes waiting for Data-Out included (SPC-4 "
		       "7.5.8 TAS)",
		       "expected %d commands ended (TASK ABORTED) got %d; the "
		       "%d others (writes) got no response at all",
		       f.sent, f.done, f.sent - f.done);
		result(f.aborted + f.conflict + f.ua_preempted + f.good ==
			       f.done,
		       "P&A TAS=1: a's commands end GOOD (before), TASK "
		       "ABORTED, 6/2A/05 or RESERVATION CONFLICT",
		       "got %d other UA, %d other status", f.ua_other, f.other);
	} else {
		result(f.aborted == 0,
		       "P&A TAS=0: no TASK ABORTED status (aborted silently, "
		       "SAM-5 5.6)",
		       "expected 0 got %d", f.aborted);
	}
	/* the data: b's pattern everywhere */
	bad = 0;
	for (i = 0; i < PA_N; i++) {
		struct scsi_task *t = iscsi_read16_sync(
			b->c, 0, PA_LBA + (uint64_t)i * PA_BLOCKS,
			PA_BLOCKS * BS, BS, 0, 0, 0, 0, 0);

		if (!t || t->status != SCSI_STATUS_GOOD ||
		    t->datain.size != PA_BLOCKS * BS) {
			bad++;
		} else {
			for (int j = 0; j < PA_BLOCKS * BS; j += BS)
				if (t->datain.data[j] != 0xBB ||
				    t->datain.data[j + BS - 1] != 0xBB) {
					bad++;
					break;
				}
		}
		if (t)
			scsi_free_scsi_task(t);
	}
	snprintf(w, sizeof(w),
		 "P&A %s: none of a's aborted writes landed "
		 "after PREEMPT AND ABORT returned (region holds b's data)",
		 mode);
	result(!bad, w, "expected 0 chunks with a's data got %d of %d", bad,
	       PA_N);
	/* a's silent leftovers: cancel them locally */
	iscsi_scsi_cancel_all_tasks(a->c);
	/* a lost its registration: REGISTRATIONS PREEMPTED once, on its
	 * first command after the abort (or already on a late one) */
	{
		const char *r = tur(a);
		bool seen = f.ua_preempted > 0 || !strcmp(r, "SENSE 6/2a/05");

		snprintf(w, sizeof(w),
			 "P&A %s: a sees REGISTRATIONS PREEMPTED "
			 "6/2A/05",
			 mode);
		result(seen, w,
		       "expected SENSE 6/2a/05 got %s (and %d in "
		       "its late commands)",
		       r, f.ua_preempted);
		/* a possible COMMANDS CLEARED (6/2F/00) is informational */
		r = tur(a);
		if (!strcmp(r, "GOOD") || !strncmp(r, "SENSE 6/", 8))
			printf("# P&A %s: a's next TEST UNIT READY: %s\n", mode,
			       r);
	}
	check_str("P&A: b holds EA after it", "key b2 scope 0 type 3",
		  read_resv(b));
}

/* ---- the PR phase ---- */

static void phase_pr(void)
{
	struct ini a, a2, a3, x, b, b2, c, c1;
	struct ini *all[8] = {&a, &a2, &a3, &x, &b, &b2, &c, &c1};
	const uint64_t KA = 0xa1, KB = 0xb2, KX = 0xc3, KC = 0xd4;
	uint8_t tids[1024], buf[4096];
	size_t tl, len;
	uint32_t g;
	struct fullstat f;
	char w[200];
	static const struct {
		int type;
		const char *name;
		/* b: registered, c: unregistered (SPC-4 table 66, SBC-3) */
		const char *b_rd, *b_wr, *c_rd, *c_wr;
		bool ua_on_release;
	} tt[] = {
		{WE, "WE", "GOOD", "RESERVATION CONFLICT", "GOOD",
		 "RESERVATION CONFLICT", false},
		{EA, "EA", "RESERVATION CONFLICT", "RESERVATION CONFLICT",
		 "RESERVATION CONFLICT", "RESERVATION CONFLICT", false},
		{WE_RO, "WE_RO", "GOOD", "GOOD", "GOOD", "RESERVATION CONFLICT",
		 true},
		{EA_RO, "EA_RO", "GOOD", "GOOD", "RESERVATION CONFLICT",
		 "RESERVATION CONFLICT", true},
		{WE_AR, "WE_AR", "GOOD", "GOOD", "GOOD", "RESERVATION CONFLICT",
		 true},
		{EA_AR, "EA_AR", "GOOD", "GOOD", "RESERVATION CONFLICT",
		 "RESERVATION CONFLICT", true},
	};

	ini_open(&a, "a", portal1, T1, I1, 1, 1);
	ini_open(&a2, "a2", portal2, T2, I1, 1, 2); /* same initiator port */
	ini_open(&a3, "a3", portal1, T3, I1, 1, 3);
	ini_open(&x, "x", portal1, T1, I1, 9, 1); /* same name, other ISID */
	ini_open(&b, "b", portal1, T1, I2, 2, 1);
	ini_open(&b2, "b2", portal2, T2, I2, 2, 2);
	ini_open(&c, "c", portal1, T3, I3, 3, 3);
	ini_open(&c1, "c1", portal1, T1, I3, 3, 1);
	pr_reset(&a, all, 8);
	prout(&a, SA_REG_IGNORE, 0, 0, 0, 0); /* unregister */

	/* REPORT CAPABILITIES (SPC-4 6.15.4, table 208) */
	check_str("REPORT CAPABILITIES is GOOD", "GOOD",
		  prin(&b, 2, buf, &len));
	result(len >= 8 && buf[0] == 0 && buf[1] == 8 &&
		       (buf[2] & 0x0D) == 0x0D && (buf[3] & 0x80) &&
		       buf[4] == 0xEA && buf[5] == 0x01,
	       "REPORT CAPABILITIES: length 8, SIP_C ATP_C PTPL_C, TMV, "
	       "type mask EA 01",
	       "got %02x %02x %02x %02x %02x %02x", buf[0], buf[1], buf[2],
	       buf[3], buf[4], buf[5]);

	/* ---- REGISTER, REGISTER AND IGNORE EXISTING KEY (5.13.7) ---- */
	check_keys("no registrations at the start", &a, 0, NULL);
	check_str("READ RESERVATION: none", "none", read_resv(&a));
	g = gen_of(&a);
	check_str("a REGISTER key 0 -> a1", "GOOD",
		  prout(&a, SA_REGISTER, 0, 0, KA, 0));
	check_u64("REGISTER bumps PRGENERATION", g + 1, gen_of(&a));
	check_str("a REGISTER again with key 0 (registered, wrong key)",
		  "RESERVATION CONFLICT", prout(&a, SA_REGISTER, 0, 0, KA, 0));
	check_u64("a failed REGISTER leaves PRGENERATION", g + 1, gen_of(&a));
	check_str("b REGISTER with a nonzero key while unregistered",
		  "RESERVATION CONFLICT",
		  prout(&b, SA_REGISTER, 0, 0x99, KB, 0));
	check_str("b REGISTER AND IGNORE EXISTING KEY (any key) -> b2", "GOOD",
		  prout(&b, SA_REG_IGNORE, 0, 0x99, KB, 0));
	check_u64("REGISTER AND IGNORE bumps PRGENERATION", g + 2, gen_of(&a));
	check_str("a REGISTER changes its key a1 -> e5", "GOOD",
		  prout(&a, SA_REGISTER, 0, KA, 0xe5, 0));
	{
		const uint64_t k[] = {0xe5, KB};

		check_keys("READ KEYS: e5, b2 in registration order", &b, 2, k);
	}
	check_str("a REGISTER AND IGNORE EXISTING KEY back to a1", "GOOD",
		  prout(&a, SA_REG_IGNORE, 0, 0x1234, KA, 0));
	check_str("x (same name as a, other ISID) REGISTER -> c3", "GOOD",
		  prout(&x, SA_REGISTER, 0, 0, KX, 0));
	check_u64("PRGENERATION after 5 registrations", g + 5, gen_of(&x));
	f = read_full(&c);
	result(f.ok && f.n == 3 && f.gen == g + 5,
	       "READ FULL STATUS: 3 descriptors and the generation",
	       "expected 3 and gen %u got %zu and gen %u (ok %d)", g + 5, f.n,
	       f.gen, f.ok);
	check_fsd("READ FULL STATUS", &f, &a, 1, KA, false, -1);
	check_fsd("READ FULL STATUS", &f, &b, 1, KB, false, -1);
	check_fsd("READ FULL STATUS", &f, &x, 1, KX, false, -1);
	/* a2 is I1 with a's ISID through port 2: another I_T nexus */
	check_str("a2 (a's initiator port via target port 2) is not "
		  "registered: RESERVE conflicts",
		  "RESERVATION CONFLICT", prout(&a2, SA_RESERVE, WE, KA, 0, 0));

	/* ---- RESERVE / RELEASE and the generation (5.13.9, 5.13.11.2) */
	g = gen_of(&a);
	check_str("a RESERVE WE", "GOOD", prout(&a, SA_RESERVE, WE, KA, 0, 0));
	check_u64("RESERVE does not bump PRGENERATION", g, gen_of(&a));
	check_str("READ RESERVATION: a1, LU scope, WE", "key a1 scope 0 type 1",
		  read_resv(&b));
	check_str("a RESERVE WE again (same type): GOOD", "GOOD",
		  prout(&a, SA_RESERVE, WE, KA, 0, 0));
	check_str("a RESERVE EA while holding WE", "RESERVATION CONFLICT",
		  prout(&a, SA_RESERVE, EA, KA, 0, 0));
	check_str("b RESERVE WE while a holds it", "RESERVATION CONFLICT",
		  prout(&b, SA_RESERVE, WE, KB, 0, 0));
	check_str("a RESERVE with a wrong key", "RESERVATION CONFLICT",
		  prout(&a, SA_RESERVE, WE, 0x77, 0, 0));
	check_str("c (unregistered) RESERVE", "RESERVATION CONFLICT",
		  prout(&c, SA_RESERVE, WE, 0, 0, 0));
	f = read_full(&b);
	check_fsd("READ FULL STATUS under WE: holder", &f, &a, 1, KA, false,
		  WE);
	check_fsd("READ FULL STATUS under WE: not holder", &f, &b, 1, KB, false,
		  -1);
	check_str("a RELEASE with the wrong type (EA): INVALID RELEASE OF "
		  "PERSISTENT RESERVATION",
		  "SENSE 5/26/04", prout(&a, SA_RELEASE, EA, KA, 0, 0));
	check_str("the reservation stays after it", "key a1 scope 0 type 1",
		  read_resv(&b));
	check_str("b RELEASE (registered, not the holder): GOOD, no effect",
		  "GOOD", prout(&b, SA_RELEASE, WE, KB, 0, 0));
	check_str("the reservation stays", "key a1 scope 0 type 1",
		  read_resv(&b));
	check_str("a RELEASE with a wrong key", "RESERVATION CONFLICT",
		  prout(&a, SA_RELEASE, WE, 0x77, 0, 0));
	check_str("a RELEASE WE", "GOOD", prout(&a, SA_RELEASE, WE, KA, 0, 0));
	check_u64("RELEASE does not bump PRGENERATION", g, gen_of(&a));
	check_str("READ RESERVATION: none after RELEASE", "none",
		  read_resv(&b));
	check_str("RELEASE of WE: no unit attention for b", "GOOD", tur(&b));
	check_str("RELEASE with nothing reserved: GOOD", "GOOD",
		  prout(&a, SA_RELEASE, WE, KA, 0, 0));
	check_str("RESERVE with an invalid type (2h)", "SENSE 5/24/00",
		  prout(&a, SA_RESERVE, 2, KA, 0, 0));

	/* ---- every type against reads and writes (SPC-4 table 66) ---- */
	for (size_t i = 0; i < sizeof(tt) / sizeof(tt[0]); i++) {
		const char *n = tt[i].name;

		snprintf(w, sizeof(w), "%s: a RESERVE", n);
		check_str(w, "GOOD",
			  prout(&a, SA_RESERVE, tt[i].type, KA, 0, 0));
		snprintf(w, sizeof(w), "%s: holder a reads", n);
		check_str(w, "GOOD", rd(&a, 100));
		snprintf(w, sizeof(w), "%s: holder a writes", n);
		check_str(w, "GOOD", wr(&a, 100));
		snprintf(w, sizeof(w), "%s: registered b reads", n);
		check_str(w, tt[i].b_rd, rd(&b, 100));
		snprintf(w, sizeof(w), "%s: registered b writes", n);
		check_str(w, tt[i].b_wr, wr(&b, 100));
		snprintf(w, sizeof(w), "%s: unregistered c (port 3) reads", n);
		check_str(w, tt[i].c_rd, rd(&c, 100));
		snprintf(w, sizeof(w), "%s: unregistered c writes", n);
		check_str(w, tt[i].c_wr, wr(&c, 100));
		snprintf(w, sizeof(w),
			 "%s: unregistered a2 (a's port 2) "
			 "writes",
			 n);
		check_str(w, tt[i].c_wr, wr(&a2, 100));
		snprintf(w, sizeof(w), "%s: TEST UNIT READY from c", n);
		check_str(w, "GOOD", tur(&c));
		f = read_full(&c);
		if (tt[i].type >= WE_AR) {
			snprintf(w, sizeof(w), "%s: READ RESERVATION key 0", n);
			char exp[40];

			snprintf(exp, sizeof(exp), "key 0 scope 0 type %x",
				 tt[i].type);
			check_str(w, exp, read_resv(&c));
			snprintf(w, sizeof(w),
				 "READ FULL STATUS %s: every "
				 "registrant holds it",
				 n);
			check_fsd(w, &f, &b, 1, KB, false, tt[i].type);
			check_fsd(w, &f, &x, 1, KX, false, tt[i].type);
		} else {
			snprintf(w, sizeof(w), "READ FULL STATUS %s", n);
			check_fsd(w, &f, &a, 1, KA, false, tt[i].type);
			check_fsd(w, &f, &b, 1, KB, false, -1);
		}
		snprintf(w, sizeof(w), "%s: a RELEASE", n);
		check_str(w, "GOOD",
			  prout(&a, SA_RELEASE, tt[i].type, KA, 0, 0));
		/* 5.13.11.2.2: RESERVATIONS RELEASED on the other
		 * registrants of a registrants only / all registrants one */
		snprintf(w, sizeof(w), "%s RELEASE: b %s", n,
			 tt[i].ua_on_release ? "sees RESERVATIONS RELEASED"
					     : "sees no unit attention");
		check_str(w, tt[i].ua_on_release ? "SENSE 6/2a/04" : "GOOD",
			  tur(&b));
		snprintf(w, sizeof(w), "%s RELEASE: x (registered) %s", n,
			 tt[i].ua_on_release ? "sees it too" : "sees none");
		check_str(w, tt[i].ua_on_release ? "SENSE 6/2a/04" : "GOOD",
			  tur(&x));
		snprintf(w, sizeof(w),
			 "%s RELEASE: no unit attention for a "
			 "(it released) or c (unregistered)",
			 n);
		result(!strcmp(tur(&a), "GOOD") && !strcmp(tur(&c), "GOOD"), w,
		       "expected GOOD twice");
	}

	/* unregistering the holder of a registrants only reservation
	 * releases it (5.13.11.3) */
	check_str("WE_RO: a RESERVE", "GOOD",
		  prout(&a, SA_RESERVE, WE_RO, KA, 0, 0));
	check_str("WE_RO: holder a unregisters", "GOOD",
		  prout(&a, SA_REGISTER, 0, KA, 0, 0));
	check_str("b sees RESERVATIONS RELEASED", "SENSE 6/2a/04", tur(&b));
	check_str("the reservation is gone with it", "none", read_resv(&b));
	check_str("x sees RESERVATIONS RELEASED", "SENSE 6/2a/04", tur(&x));
	check_str("a REGISTER again", "GOOD",
		  prout(&a, SA_REGISTER, 0, 0, KA, 0));

	/* ---- PREEMPT (5.13.11.4) ---- */
	check_str("PREEMPT without a reservation, SA key c3 (x)", "GOOD",
		  prout(&b, SA_PREEMPT, WE, KB, KX, 0));
	check_str("x lost its registration: REGISTRATIONS PREEMPTED",
		  "SENSE 6/2a/05", tur(&x));
	check_str("no reservation was made by it", "none", read_resv(&b));
	check_str("PREEMPT of a key nobody holds", "RESERVATION CONFLICT",
		  prout(&b, SA_PREEMPT, WE, KB, 0x4444, 0));
	check_str("PREEMPT from an unregistered nexus (c)",
		  "RESERVATION CONFLICT", prout(&c, SA_PREEMPT, WE, 0, KA, 0));
	check_str("PREEMPT with SA key 0 and no reservation: INVALID FIELD IN "
		  "PARAMETER LIST",
		  "SENSE 5/26/00", prout(&b, SA_PREEMPT, WE, KB, 0, 0));
	check_str("x REGISTER -> c3 again", "GOOD",
		  prout(&x, SA_REGISTER, 0, 0, KX, 0));
	check_str("a RESERVE WE", "GOOD", prout(&a, SA_RESERVE, WE, KA, 0, 0));
	check_str("PREEMPT with SA key 0 under WE: INVALID FIELD IN PARAMETER "
		  "LIST",
		  "SENSE 5/26/00", prout(&b, SA_PREEMPT, WE, KB, 0, 0));
	g = gen_of(&b);
	check_str("b PREEMPT a's key, type EA", "GOOD",
		  prout(&b, SA_PREEMPT, EA, KB, KA, 0));
	check_u64("PREEMPT bumps PRGENERATION", g + 1, gen_of(&b));
	check_str("b holds EA", "key b2 scope 0 type 3", read_resv(&b));
	{
		const uint64_t k[] = {KB, KX};

		check_keys("a's registration is gone", &b, 2, k);
	}
	check_str("a sees REGISTRATIONS PREEMPTED", "SENSE 6/2a/05", tur(&a));
	check_str("x (registered, type changed WE->EA) sees RESERVATIONS "
		  "RELEASED",
		  "SENSE 6/2a/04", tur(&x));
	check_str("c (unregistered) sees nothing", "GOOD", tur(&c));
	check_str("b (the preempter) sees nothing", "GOOD", tur(&b));
	check_str("a now conflicts on reads (EA)", "RESERVATION CONFLICT",
		  rd(&a, 0));
	/* all registrants: SA key 0 preempts every other registration */
	check_str("a REGISTER", "GOOD", prout(&a, SA_REGISTER, 0, 0, KA, 0));
	check_str("b RELEASE EA", "GOOD", prout(&b, SA_RELEASE, EA, KB, 0, 0));
	check_str("b RESERVE WE_AR", "GOOD",
		  prout(&b, SA_RESERVE, WE_AR, KB, 0, 0));
	check_str("a PREEMPT SA key 0 of WE_AR, type WE", "GOOD",
		  prout(&a, SA_PREEMPT, WE, KA, 0, 0));
	{
		const uint64_t k[] = {KA};

		check_keys("only a stays registered", &a, 1, k);
	}
	check_str("a holds WE", "key a1 scope 0 type 1", read_resv(&a));
	check_str("b sees REGISTRATIONS PREEMPTED", "SENSE 6/2a/05", tur(&b));
	check_str("x sees REGISTRATIONS PREEMPTED", "SENSE 6/2a/05", tur(&x));

	/* ---- CLEAR (5.13.11.2.6) ---- */
	check_str("b REGISTER", "GOOD", prout(&b, SA_REGISTER, 0, 0, KB, 0));
	check_str("x REGISTER", "GOOD", prout(&x, SA_REGISTER, 0, 0, KX, 0));
	check_str("CLEAR from unregistered c", "RESERVATION CONFLICT",
		  prout(&c, SA_CLEAR, 0, 0, 0, 0));
	check_str("CLEAR with a wrong key", "RESERVATION CONFLICT",
		  prout(&b, SA_CLEAR, 0, 0x77, 0, 0));
	g = gen_of(&b);
	check_str("b CLEAR", "GOOD", prout(&b, SA_CLEAR, 0, KB, 0, 0));
	check_u64("CLEAR bumps PRGENERATION", g + 1, gen_of(&b));
	check_keys("no registrations after CLEAR", &b, 0, NULL);
	check_str("no reservation after CLEAR", "none", read_resv(&b));
	check_str("a (holder) sees RESERVATIONS PREEMPTED", "SENSE 6/2a/03",
		  tur(&a));
	check_str("x sees RESERVATIONS PREEMPTED", "SENSE 6/2a/03", tur(&x));
	check_str("b (sender) sees nothing", "GOOD", tur(&b));
	check_str("c (unregistered) sees nothing", "GOOD", tur(&c));

	/* ---- ALL_TG_PT (5.13.7.2 / 6.16.3) ---- */
	check_str("a REGISTER with ALL_TG_PT through port 1", "GOOD",
		  prout(&a, SA_REGISTER, 0, 0, KA, F_ALL_TG_PT));
	/* READ FULL STATUS: one descriptor stands for every I_T nexus of
	 * the initiator port (spc4r37 6.16.5), READ KEYS one key per I_T
	 * nexus (ports 1, 2, 3) */
	f = read_full(&b);
	check_fsd("ALL_TG_PT", &f, &a, 1, KA, true, -1);
	result(f.ok && f.n == 1, "ALL_TG_PT: one READ FULL STATUS descriptor",
	       "expected 1 got %zu (ok %d)", f.n, f.ok);
	{
		/* ports 1, 2, 3 of the DEVICE_GROUP and port 4 of the other
		 * target: every target port (pr-sync/README.md) */
		const uint64_t k4[] = {KA, KA, KA, KA};

		check_keys("ALL_TG_PT: READ KEYS per I_T nexus", &b, 4, k4);
	}
	check_str("a2 (port 2) RESERVE WE with a's key", "GOOD",
		  prout(&a2, SA_RESERVE, WE, KA, 0, 0));
	check_str("READ RESERVATION through port 1: a1 WE",
		  "key a1 scope 0 type 1", read_resv(&a));
	check_str("a2 writes through port 2", "GOOD", wr(&a2, 10));
	check_str("a writes through port 1 (same initiator port holds it)",
		  "GOOD", wr(&a, 10));
	check_str("b (unregistered) writes", "RESERVATION CONFLICT",
		  wr(&b, 10));
	check_str("x (a's name, other ISID) writes", "RESERVATION CONFLICT",
		  wr(&x, 10));
	check_str("a2 REGISTER changes the key of the whole group", "GOOD",
		  prout(&a2, SA_REGISTER, 0, KA, 0xe5, 0));
	f = read_full(&b);
	check_fsd("ALL_TG_PT group re-keyed, holder", &f, &a, 1, 0xe5, true,
		  WE);
	result(f.ok && f.n == 1, "ALL_TG_PT holder: one descriptor",
	       "expected 1 got %zu (ok %d)", f.n, f.ok);
	check_str("a2 RELEASE", "GOOD", prout(&a2, SA_RELEASE, WE, 0xe5, 0, 0));
	check_str("a3 (port 3) unregisters the group", "GOOD",
		  prout(&a3, SA_REGISTER, 0, 0xe5, 0, 0));
	check_keys("ALL_TG_PT group gone", &b, 0, NULL);

	/* ---- SPEC_I_PT (5.13.7.2, 6.16.3) ---- */
	tl = tid_of(tids, &b);		      /* I2 with b's ISID: format 01b */
	tl += tid_iscsi(tids + tl, I3, NULL); /* I3, every ISID: 00b */
	g = gen_of(&a);
	check_str("a REGISTER SPEC_I_PT with b (01b) and ini3 (00b)", "GOOD",
		  prout_x(&a, SA_REGISTER, 0, 0, KA, F_SPEC_I_PT, tids, tl));
	check_u64("one generation for it", g + 1, gen_of(&a));
	f = read_full(&a);
	check_fsd("SPEC_I_PT", &f, &a, 1, KA, false, -1);
	check_fsd("SPEC_I_PT registers b at the receiving port", &f, &b, 1, KA,
		  false, -1);
	{
		uint8_t t3[64];
		size_t l3 = tid_iscsi(t3, I3, NULL);
		const struct fsd *d = fs_find(&f, t3, l3, 1);

		result(d && d->key == KA,
		       "SPEC_I_PT: ini3 (format 00b) registered at port 1 with "
		       "a's key",
		       "got %s", d ? "another key" : "no such descriptor");
		result(f.n == 3, "SPEC_I_PT: three descriptors",
		       "expected 3 got %zu", f.n);
	}
	check_str("b registered by a: REGISTER with a's key changes it", "GOOD",
		  prout(&b, SA_REGISTER, 0, KA, KB, 0));
	check_str("c1 (ini3, port 1) registered by the name only TransportID",
		  "GOOD", prout(&c1, SA_REGISTER, 0, KA, KC, 0));
	check_str("c (ini3 on port 3) is not registered",
		  "RESERVATION CONFLICT", prout(&c, SA_REGISTER, 0, KA, KC, 0));
	check_str("SPEC_I_PT from a registered nexus: INVALID FIELD IN "
		  "PARAMETER LIST",
		  "SENSE 5/26/00",
		  prout_x(&a, SA_REGISTER, 0, KA, KA, F_SPEC_I_PT, tids, tl));
	check_str("SPEC_I_PT with REGISTER AND IGNORE EXISTING KEY: INVALID "
		  "FIELD IN PARAMETER LIST",
		  "SENSE 5/26/00",
		  prout_x(&x, SA_REG_IGNORE, 0, 0, KX, F_SPEC_I_PT, tids, tl));
	{
		uint8_t badt[64];
		size_t bl = tid_iscsi(badt, I2, NULL);

		badt[0] = 0x45; /* format 01b without ",i,0x" */
		check_str("SPEC_I_PT with a malformed 01b TransportID: INVALID "
			  "FIELD IN PARAMETER LIST",
			  "SENSE 5/26/00",
			  prout_x(&x, SA_REGISTER, 0, 0, KX, F_SPEC_I_PT, badt,
				  bl));
	}
	check_keys("the failed ones changed nothing", &a, 3,
		   (const uint64_t[]){KA, KB, KC});

	/* ---- REGISTER AND MOVE (5.13.8) ---- */
	check_str("a RESERVE WE", "GOOD", prout(&a, SA_RESERVE, WE, KA, 0, 0));
	tl = tid_of(tids, &b2);
	check_str("b (not the holder) REGISTER AND MOVE",
		  "RESERVATION CONFLICT",
		  prmove(&b, WE, KB, 0x99, false, 2, tids, tl));
	check_str("REGISTER AND MOVE with SA key 0: INVALID FIELD IN "
		  "PARAMETER LIST",
		  "SENSE 5/26/00", prmove(&a, WE, KA, 0, false, 2, tids, tl));
	check_str("REGISTER AND MOVE to port 77 (none): INVALID FIELD IN "
		  "PARAMETER LIST",
		  "SENSE 5/26/00",
		  prmove(&a, WE, KA, 0xf6, false, 77, tids, tl));
	{
		uint8_t me[128];
		size_t ml = tid_of(me, &a);

		check_str("REGISTER AND MOVE to itself: INVALID FIELD IN "
			  "PARAMETER LIST",
			  "SENSE 5/26/00",
			  prmove(&a, WE, KA, 0xf6, false, 1, me, ml));
	}
	g = gen_of(&a);
	check_str("a REGISTER AND MOVE to ini2 at port 2, UNREG=0", "GOOD",
		  prmove(&a, WE, KA, 0xf6, false, 2, tids, tl));
	check_u64("REGISTER AND MOVE bumps PRGENERATION", g + 1, gen_of(&a));
	check_str("READ RESERVATION: f6 WE", "key f6 scope 0 type 1",
		  read_resv(&a));
	f = read_full(&a);
	check_fsd("after MOVE: a stays registered, not holder", &f, &a, 1, KA,
		  false, -1);
	check_fsd("after MOVE: b2 registered and holder", &f, &b2, 2, 0xf6,
		  false, WE);
	check_fsd("after MOVE: b (ini2 at port 1) keeps its own key", &f, &b, 1,
		  KB, false, -1);
	check_str("b2 writes through port 2", "GOOD", wr(&b2, 20));
	check_str("a writes: conflict now", "RESERVATION CONFLICT", wr(&a, 20));
	tl = tid_of(tids, &a);
	check_str("b2 REGISTER AND MOVE back to a at port 1, UNREG=1", "GOOD",
		  prmove(&b2, WE, 0xf6, 0xa7, true, 1, tids, tl));
	f = read_full(&a);
	check_fsd("after MOVE back: a holder with the new key", &f, &a, 1, 0xa7,
		  false, WE);
	{
		uint8_t t2[128];
		size_t l2 = tid_of(t2, &b2);

		result(!fs_find(&f, t2, l2, 2),
		       "after MOVE back with UNREG=1: b2 is unregistered",
		       "got a descriptor for b2 at port 2");
	}
	check_str("a writes again", "GOOD", wr(&a, 20));
	check_str("b2 writes: conflict", "RESERVATION CONFLICT", wr(&b2, 20));
	check_str("a RELEASE, RESERVE EA_AR", "GOOD",
		  prout(&a, SA_RELEASE, WE, 0xa7, 0, 0));
	prout(&a, SA_RESERVE, EA_AR, 0xa7, 0, 0);
	check_str("REGISTER AND MOVE of an all registrants reservation",
		  "RESERVATION CONFLICT",
		  prmove(&a, EA_AR, 0xa7, 0x55, false, 2, tids, tl));

	/* ---- the holder preempting itself; an ALL_TG_PT group preempted */
	pr_reset(&b, all, 8);
	prout(&b, SA_REG_IGNORE, 0, 0, 0, 0);
	check_str("a REGISTER ALL_TG_PT", "GOOD",
		  prout(&a, SA_REGISTER, 0, 0, KA, F_ALL_TG_PT));
	check_str("b REGISTER", "GOOD", prout(&b, SA_REGISTER, 0, 0, KB, 0));
	check_str("b RESERVE WE", "GOOD", prout(&b, SA_RESERVE, WE, KB, 0, 0));
	check_str("holder b PREEMPTs its own key, type EA (5.13.11.4.3)",
		  "GOOD", prout(&b, SA_PREEMPT, EA, KB, KB, 0));
	check_str("b holds EA", "key b2 scope 0 type 3", read_resv(&b));
	check_keys("b and a's group stay registered", &b, 5,
		   (const uint64_t[]){KA, KA, KA, KA, KB});
	check_str("self-preempt WE->EA: a sees RESERVATIONS RELEASED",
		  "SENSE 6/2a/04", tur(&a));
	check_str("self-preempt WE->EA: a2 (a's group, port 2) sees it too",
		  "SENSE 6/2a/04", tur(&a2));
	check_str("self-preempt WE->EA: a3 (port 3) sees it too",
		  "SENSE 6/2a/04", tur(&a3));
	check_str("b PREEMPT a's ALL_TG_PT key", "GOOD",
		  prout(&b, SA_PREEMPT, EA, KB, KA, 0));
	check_keys("only b stays registered", &b, 1, (const uint64_t[]){KB});
	check_str("a (port 1) sees REGISTRATIONS PREEMPTED", "SENSE 6/2a/05",
		  tur(&a));
	check_str("a2 (port 2) sees REGISTRATIONS PREEMPTED", "SENSE 6/2a/05",
		  tur(&a2));
	check_str("a3 (port 3) sees REGISTRATIONS PREEMPTED", "SENSE 6/2a/05",
		  tur(&a3));
	check_str("x (a's name, other ISID) sees nothing", "GOOD", tur(&x));

	/* ---- PREEMPT AND ABORT with commands in flight (5.13.11.5) ---- */
	for (int tas = 0; tas < 2; tas++) {
		struct ini *ab[2] = {&a, &b};

		/* a new session for a, whose writes wait for R2T (no
		 * immediate or unsolicited data): the first round's silently
		 * aborted writes are not this round's business, and a's
		 * writes stay in the target until a answers the R2Ts */
		ini_close(&a);
		open_with_r2t = true;
		ini_open(&a, "a", portal1, T1, I1, 1, 1);
		open_with_r2t = false;
		pr_reset(&b, all, 8);
		prout(&b, SA_REG_IGNORE, 0, 0, 0, 0);
		/* before any reservation: MODE SENSE may conflict under WE
		 * (SPC-4 table 66 note, ALLOW COMMANDS) */
		snprintf(w, sizeof(w), "P&A %s: MODE SELECT control page TAS",
			 tas ? "TAS=1" : "TAS=0");
		check_str(w, "GOOD", set_tas(&b, tas));
		if (tas) /* SPC-4 7.5.2: the others see the change */
			check_str("MODE SELECT TAS=1: a sees MODE PARAMETERS "
				  "CHANGED",
				  "SENSE 6/2a/01", tur(&a));
		for (int i = 0; i < 8; i++)
			if (all[i] != &b)
				tur(all[i]);
		snprintf(w, sizeof(w),
			 "P&A %s: a REGISTER, b REGISTER, a "
			 "RESERVE WE",
			 tas ? "TAS=1" : "TAS=0");
		result(!strcmp(prout(&a, SA_REGISTER, 0, 0, KA, 0), "GOOD") &&
			       !strcmp(prout(&b, SA_REGISTER, 0, 0, KB, 0),
				       "GOOD") &&
			       !strcmp(prout(&a, SA_RESERVE, WE, KA, 0, 0),
				       "GOOD"),
		       w, "a setup command failed");
		(void)ab;
		preempt_abort_inflight(&a, &b, tas, KA, KB);
		check_str("P&A: x (bystander, unregistered) sees nothing",
			  "GOOD", tur(&x));
	}
	{
		struct ini *b1[1] = {&b};

		check_str("TAS back to 0", "GOOD", set_tas(&b, false));
		pr_reset(&b, all, 8);
		prout(&b, SA_REG_IGNORE, 0, 0, 0, 0);
		(void)b1;
	}
	for (int i = 0; i < 8; i++)
		ini_close(all[i]);
}

/* ---- APTPL (SPC-4 5.13.5) ---- */

static void phase_aptpl(const char *what, uint32_t want_gen)
{
	struct ini a, b, c;
	struct ini *all[3] = {&a, &b, &c};
	uint8_t buf[4096];
	size_t len;
	struct fullstat f;

	ini_open(&a, "a", portal1, T1, I1, 1, 1);
	ini_open(&b, "b", portal2, T2, I2, 2, 2);
	ini_open(&c, "c", portal1, T3, I3, 3, 3);
	if (!strcmp(what, "aptpl-set")) {
		pr_reset(&a, all, 3);
		prout(&a, SA_REG_IGNORE, 0, 0, 0, 0);
		check_str("APTPL: a REGISTER APTPL=1", "GOOD",
			  prout(&a, SA_REGISTER, 0, 0, 0xa1, F_APTPL));
		check_str("APTPL: b REGISTER APTPL=1 (port 2)", "GOOD",
			  prout(&b, SA_REGISTER, 0, 0, 0xb2, F_APTPL));
		check_str("APTPL: a RESERVE WE_RO", "GOOD",
			  prout(&a, SA_RESERVE, WE_RO, 0xa1, 0, 0));
		prin(&a, 2, buf, &len);
		result(len >= 4 && (buf[3] & 1),
		       "APTPL: REPORT CAPABILITIES PTPL_A=1", "got %02x",
		       len >= 4 ? buf[3] : 0xFF);
		printf("# gen %u\n", gen_of(&a));
	} else if (!strcmp(what, "aptpl-check")) {
		const uint64_t k[] = {0xa1, 0xb2};

		check_keys("APTPL: keys survive", &c, 2, k);
		check_u64("APTPL: PRGENERATION survives", want_gen, gen_of(&c));
		check_str("APTPL: reservation survives",
			  "key a1 scope 0 type 5", read_resv(&c));
		f = read_full(&c);
		check_fsd("APTPL: holder", &f, &a, 1, 0xa1, false, WE_RO);
		check_fsd("APTPL: registrant", &f, &b, 2, 0xb2, false, -1);
		check_str("APTPL: b (registered) writes under WE_RO", "GOOD",
			  wr(&b, 30));
		check_str("APTPL: c (unregistered) writes",
			  "RESERVATION CONFLICT", wr(&c, 30));
		prin(&a, 2, buf, &len);
		result(len >= 4 && (buf[3] & 1),
		       "APTPL: PTPL_A=1 after the restart", "got %02x",
		       len >= 4 ? buf[3] : 0xFF);
	} else if (!strcmp(what, "aptpl0-set")) {
		check_str("APTPL=0: a CLEAR", "GOOD",
			  prout(&a, SA_CLEAR, 0, 0xa1, 0, 0));
		check_str("APTPL=0: a REGISTER", "GOOD",
			  prout(&a, SA_REGISTER, 0, 0, 0xa1, 0));
		check_str("APTPL=0: a RESERVE WE", "GOOD",
			  prout(&a, SA_RESERVE, WE, 0xa1, 0, 0));
		prin(&a, 2, buf, &len);
		result(len >= 4 && !(buf[3] & 1), "APTPL=0: PTPL_A=0",
		       "got %02x", len >= 4 ? buf[3] : 0xFF);
	} else {
		check_keys("APTPL=0: no key survives the restart", &c, 0, NULL);
		check_str("APTPL=0: no reservation survives", "none",
			  read_resv(&c));
		check_u64("APTPL=0: PRGENERATION starts at 0", 0, gen_of(&c));
		check_str("APTPL=0: c writes", "GOOD", wr(&c, 30));
	}
	ini_close(&a);
	ini_close(&b);
	ini_close(&c);
}

/* ---- ALUA ---- */

static char *const *ctl_argv;
static int ctl_argc;

/* tandemctl ... -set_tgrp_attr tg2 -dev_group dg -attributes state=S */
static int ctl_state(const char *state)
{
	char attr[64];
	char *argv[32];
	int n = 0, st;
	pid_t pid;

	snprintf(attr, sizeof(attr), "state=%s", state);
	for (int i = 0; i < ctl_argc && n < 24; i++)
		argv[n++] = ctl_argv[i];
	argv[n++] = "-set_tgrp_attr";
	argv[n++] = "tg2";
	argv[n++] = "-dev_group";
	argv[n++] = "dg";
	argv[n++] = "-attributes";
	argv[n++] = attr;
	argv[n] = NULL;
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

struct tpg {
	unsigned state, pref, sup, id, status, nports;
	unsigned ports[8];
};

struct rtpg {
	char res[64];
	size_t len, retlen;
	unsigned fmt, itt;
	size_t n;
	struct tpg g[8];
};

/* REPORT TARGET PORT GROUPS (SPC-4 6.37, tables 211-215) */
static struct rtpg do_rtpg(struct ini *s, bool ext, uint32_t alloc)
{
	uint8_t c[12] = {0xA3, 0x0A, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
	struct rtpg r;
	struct scsi_task *t;
	const uint8_t *p;
	size_t off;

	memset(&r, 0, sizeof(r));
	if (ext)
		c[1] |= 0x20;
	c[6] = (uint8_t)(alloc >> 24);
	c[7] = (uint8_t)(alloc >> 16);
	c[8] = (uint8_t)(alloc >> 8);
	c[9] = (uint8_t)alloc;
	t = run(s, raw(c, 12, SCSI_XFER_READ, (int)alloc), NULL, 0);
	snprintf(r.res, sizeof(r.res), "%s", res_str(t));
	if (t->status != SCSI_STATUS_GOOD || t->datain.size < 4) {
		scsi_free_scsi_task(t);
		return r;
	}
	p = t->datain.data;
	r.len = (size_t)t->datain.size;
	r.retlen = get32(p);
	off = 4;
	if (ext && r.len >= 8) {
		r.fmt = (p[4] >> 4) & 7;
		r.itt = p[5];
		off = 8;
	}
	while (off + 8 <= r.len && r.n < 8) {
		struct tpg *g = &r.g[r.n++];

		g->pref = p[off] >> 7;
		g->state = p[off] & 0x0F;
		g->sup = p[off + 1];
		g->id = (unsigned)(p[off + 2] << 8 | p[off + 3]);
		g->status = p[off + 5];
		g->nports = p[off + 7];
		for (unsigned i = 0; i < g->nports && off + 12 + 4 * i <= r.len;
		     i++)
			if (i < 8)
				g->ports[i] =
					(unsigned)(p[off + 8 + 4 * i + 2] << 8 |
						   p[off + 8 + 4 * i + 3]);
		off += 8 + 4 * (size_t)g->nports;
	}
	scsi_free_scsi_task(t);
	return r;
}

static void check_rtpg(const char *what, struct ini *s, bool ext, unsigned st2,
		       unsigned status2)
{
	struct rtpg r = do_rtpg(s, ext, 4096);
	char w[200];
	static const unsigned want_port[3] = {1, 2, 3};

	snprintf(w, sizeof(w), "%s: RTPG %s format is GOOD", what,
		 ext ? "extended" : "length only");
	check_str(w, "GOOD", r.res);
	/* 3 groups of 8 + 4 bytes: 36 bytes of descriptors */
	snprintf(w, sizeof(w), "%s: RTPG %s: RETURN DATA LENGTH, header", what,
		 ext ? "ext" : "len");
	result(r.retlen == (ext ? 4u : 0u) + 36 && r.len == r.retlen + 4 &&
		       (!ext || (r.fmt == 1 && r.itt == 0)),
	       w,
	       "expected length %u (format 1, implicit transition time 0) "
	       "got %zu/%zu (format %u time %u)",
	       (ext ? 4u : 0u) + 36, r.retlen, r.len, r.fmt, r.itt);
	for (unsigned i = 0; i < 3; i++) {
		const struct tpg *g = i < r.n ? &r.g[i] : NULL;
		unsigned st = i == 1 ? st2 : 0, stat = i == 1 ? status2 : 0;

		snprintf(w, sizeof(w),
			 "%s: RTPG %s: group %u state %x pref %u "
			 "supported CF status %u port %u",
			 what, ext ? "ext" : "len", i + 1, st, i == 0, stat,
			 want_port[i]);
		result(g && g->id == i + 1 && g->state == st &&
			       g->pref == (i == 0) && g->sup == 0xCF &&
			       g->status == stat && g->nports == 1 &&
			       g->ports[0] == want_port[i],
		       w,
		       "got id %u state %x pref %u sup %02x status %u ports %u "
		       "(first %u)",
		       g ? g->id : 0, g ? g->state : 0, g ? g->pref : 0,
		       g ? g->sup : 0, g ? g->status : 0, g ? g->nports : 0,
		       g ? g->ports[0] : 0);
	}
}

/* STPG (SPC-4 6.45): one descriptor, or none (plen 0) */
static const char *stpg(struct ini *s, int group, unsigned state)
{
	uint8_t c[12] = {0xA4, 0x0A, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0};
	uint8_t p[8] = {0};

	if (group < 0) {
		c[9] = 0;
		return run_str(s, raw(c, 12, SCSI_XFER_NONE, 0), NULL, 0);
	}
	p[4] = (uint8_t)state;
	p[6] = (uint8_t)(group >> 8);
	p[7] = (uint8_t)group;
	return run_str(s, raw(c, 12, SCSI_XFER_WRITE, 8), p, 8);
}

/* Every opcode class through s, in a state whose sense is `na` for the
 * commands it refuses; col: 0 allowed in standby, 1 also in unavailable,
 * 2 in every state (READ CAPACITY and MODE SENSE too), 3 media access */
static void opcode_classes(const char *sname, struct ini *s, const char *na,
			   int level)
{
	static const uint8_t inq[6] = {0x12, 0, 0, 0, 0xFF, 0};
	static const uint8_t rl[12] = {0xA0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0};
	static const uint8_t rc[10] = {0x25, 0};
	static const uint8_t sc[10] = {0x35, 0};
	static const uint8_t rs[6] = {0x03, 0, 0, 0, 252, 0};
	static const uint8_t ms[6] = {0x1A, 0, 0x3F, 0, 0xFF, 0};
	uint8_t buf[4096];
	size_t len;
	char w[200];
	/* level: 0 active, 1 standby, 2 unavailable, 3 offline or
	 * transitioning */
	const char *media = level ? na : "GOOD";
	const char *sby = level >= 2 ? na : "GOOD"; /* standby-allowed */
	const char *una = level >= 3 ? na : "GOOD"; /* STPG */

#define CLS(name_, want_, got_)                                                \
	do {                                                                   \
		snprintf(w, sizeof(w), "ALUA %s: %s through port 2", sname,    \
			 name_);                                               \
		check_str(w, want_, got_);                                     \
	} while (0)

	CLS("INQUIRY", "GOOD",
	    run_str(s, raw(inq, 6, SCSI_XFER_READ, 255), NULL, 0));
	CLS("REPORT LUNS", "GOOD",
	    run_str(s, raw(rl, 12, SCSI_XFER_READ, 256), NULL, 0));
	CLS("REPORT TARGET PORT GROUPS", "GOOD", do_rtpg(s, true, 4096).res);
	CLS("REQUEST SENSE", "GOOD",
	    run_str(s, raw(rs, 6, SCSI_XFER_READ, 252), NULL, 0));
	CLS("SET TARGET PORT GROUPS (empty list)", una, stpg(s, -1, 0));
	/* what an initiator reads once at discovery: every state
	 * (alua/README.md, "Access per state") */
	CLS("MODE SENSE(6)", "GOOD",
	    run_str(s, raw(ms, 6, SCSI_XFER_READ, 255), NULL, 0));
	CLS("PERSISTENT RESERVE IN", sby, prin(s, 0, buf, &len));
	CLS("PERSISTENT RESERVE OUT", sby, prout(s, SA_REG_IGNORE, 0, 0, 0, 0));
	CLS("TEST UNIT READY", media, tur(s));
	CLS("READ(10)", media, rd(s, 0));
	CLS("WRITE(10)", media, wr(s, 1));
	CLS("READ CAPACITY(10)", "GOOD",
	    run_str(s, raw(rc, 10, SCSI_XFER_READ, 8), NULL, 0));
	CLS("SYNCHRONIZE CACHE(10)", media,
	    run_str(s, raw(sc, 10, SCSI_XFER_NONE, 0), NULL, 0));
#undef CLS
}

/* ---- resets ---- */

/* Wait until the target closed s's connection: its socket reads EOF. */
static bool closed_by_target(struct ini *s, long ms)
{
	struct pollfd p = {.fd = iscsi_get_fd(s->c), .events = POLLIN};
	long end = now_ms() + ms;
	char b;

	while (now_ms() < end) {
		if (poll(&p, 1, 100) > 0 &&
		    ((p.revents & (POLLHUP | POLLERR)) ||
		     recv(p.fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) == 0))
			return true;
	}
	return false;
}

static int tmf(struct ini *s, enum iscsi_task_mgmt_funcs fn)
{
	return iscsi_task_mgmt_sync(s->c, 0, fn, 0xFFFFFFFF, 0);
}

/*
 * LOGICAL UNIT RESET and TARGET WARM RESET raise BUS DEVICE RESET
 * FUNCTION OCCURRED (29/03) on every nexus of the LU, the issuer's
 * included (SAM-5 6.3.3; a warm reset is SAM-2's TARGET RESET, a logical
 * unit reset of each LU). A TARGET COLD RESET is a power on event (RFC
 * 7143 11.5.1): POWER ON OCCURRED (29/01), and the target closes every
 * connection of the target (11.6.1) while sessions to other targets
 * sharing the LU stay and see the unit attention.
 */
static void phase_reset(void)
{
	struct ini a, b, c;
	struct ini *all[] = {&a, &b, &c};
	size_t i;

	ini_open(&a, "a", portal1, T1, I1, 1, 1);
	ini_open(&b, "b", portal2, T1, I2, 1, 1);
	ini_open(&c, "c", portal1, T2, I3, 1, 2);
	for (i = 0; i < 3; i++)
		check_str("no unit attention pending before the resets", "GOOD",
			  tur(all[i]));

	result(tmf(&a, ISCSI_TM_LUN_RESET) == 0, "LUN RESET answered", "%s",
	       iscsi_get_error(a.c));
	for (i = 0; i < 3; i++) {
		check_str("LUN RESET: 29/03 on every nexus of the LU",
			  "SENSE 6/29/03", tur(all[i]));
		check_str("LUN RESET: reported once", "GOOD", tur(all[i]));
	}

	result(tmf(&a, ISCSI_TM_TARGET_WARM_RESET) == 0,
	       "TARGET WARM RESET answered", "%s", iscsi_get_error(a.c));
	for (i = 0; i < 3; i++) {
		check_str("TARGET WARM RESET: 29/03 on every nexus of the LU",
			  "SENSE 6/29/03", tur(all[i]));
		check_str("TARGET WARM RESET: reported once", "GOOD",
			  tur(all[i]));
	}

	result(tmf(&a, ISCSI_TM_TARGET_COLD_RESET) == 0,
	       "TARGET COLD RESET answered", "%s", iscsi_get_error(a.c));
	result(closed_by_target(&a, 5000),
	       "TARGET COLD RESET: the issuer's connection is closed", "open");
	result(closed_by_target(&b, 5000),
	       "TARGET COLD RESET: the target's other session is closed",
	       "open");
	check_str("TARGET COLD RESET: 29/01 POWER ON OCCURRED on a session "
		  "of another target to the LU",
		  "SENSE 6/29/01", tur(&c));
	check_str("TARGET COLD RESET: reported once", "GOOD", tur(&c));
	iscsi_destroy_context(a.c);
	iscsi_destroy_context(b.c);
	a.c = b.c = NULL;

	/* the target serves again: a new session logs in */
	ini_open(&a, "a", portal1, T1, I1, 2, 1);
	check_str("a new session after the cold reset", "GOOD", tur(&a));
	ini_close(&a);
	ini_close(&c);
}

static void phase_alua(void)
{
	struct ini p1, p2, p3, p4, p5;
	struct ini *lu1[4] = {&p1, &p2, &p3, &p4};
	static const struct {
		const char *ctl;
		unsigned code;
		int level;
		const char *na;
	} st[] = {
		/* SPC-4 5.15.2.4, sense codes of table D.1 */
		{"nonoptimized", 0x1, 0, "GOOD"},
		{"standby", 0x2, 1, "SENSE 2/04/0b"},
		{"unavailable", 0x3, 2, "SENSE 2/04/0c"},
		{"offline", 0xE, 3, "SENSE 2/04/12"},
		{"transitioning", 0xF, 3, "SENSE 2/04/0a"},
		{"active", 0x0, 0, "GOOD"},
	};
	char w[200];
	static const uint8_t inq[6] = {0x12, 0, 0, 0, 0xFF, 0};
	struct scsi_task *t;

	ini_open(&p1, "p1", portal1, T1, I4, 4, 1);
	ini_open(&p2, "p2", portal2, T2, I4, 4, 2);
	ini_open(&p3, "p3", portal2, T2, I5, 5, 2);
	ini_open(&p4, "p4", portal1, T3, I4, 4, 3);
	ini_open(&p5, "p5", portal1, T4, I4, 4, 4);

	t = run(&p1, raw(inq, 6, SCSI_XFER_READ, 255), NULL, 0);
	result(t->datain.size > 5 && (t->datain.data[5] & 0x30) == 0x30,
	       "INQUIRY: TPGS 11b (implicit and explicit) on disk01",
	       "got %02x", t->datain.size > 5 ? t->datain.data[5] : 0);
	scsi_free_scsi_task(t);
	t = run(&p5, raw(inq, 6, SCSI_XFER_READ, 255), NULL, 0);
	result(t->datain.size > 5 && (t->datain.data[5] & 0x30) == 0x10,
	       "INQUIRY: TPGS 01b (implicit only) on disk02, no device group",
	       "got %02x", t->datain.size > 5 ? t->datain.data[5] : 0);
	scsi_free_scsi_task(t);
	check_rtpg("start", &p1, true, 0, 0);
	check_rtpg("start", &p1, false, 0, 0);
	{
		struct rtpg r = do_rtpg(&p1, true, 4);

		result(!strcmp(r.res, "GOOD") && r.len == 4 && r.retlen == 40,
		       "RTPG with allocation length 4: 4 bytes, full RETURN "
		       "DATA LENGTH",
		       "got %s, %zu bytes, length %zu", r.res, r.len, r.retlen);
	}

	for (size_t i = 0; i < sizeof(st) / sizeof(st[0]); i++) {
		int rc = ctl_state(st[i].ctl);

		snprintf(w, sizeof(w), "tandemctl -set_tgrp_attr tg2 state=%s",
			 st[i].ctl);
		result(rc == 0, w, "exit %d", rc);
		/* SPC-4 5.15.2.6: every I_T nexus of the LU */
		for (int j = 0; j < 4; j++) {
			snprintf(w, sizeof(w),
				 "ALUA %s: %s (port %d) sees "
				 "ASYMMETRIC ACCESS STATE CHANGED",
				 st[i].ctl, lu1[j]->tag, lu1[j]->rel_port);
			check_str(w, "SENSE 6/2a/06", tur(lu1[j]));
		}
		snprintf(w, sizeof(w),
			 "ALUA %s: p5 (disk02, no device group) "
			 "sees no unit attention",
			 st[i].ctl);
		check_str(w, "GOOD", tur(&p5));
		opcode_classes(st[i].ctl, &p2, st[i].na, st[i].level);
		snprintf(w, sizeof(w), "ALUA %s: port 1 (group 1) reads",
			 st[i].ctl);
		check_str(w, "GOOD", rd(&p1, 0));
		snprintf(w, sizeof(w), "ALUA %s: port 3 (group 3) writes",
			 st[i].ctl);
		check_str(w, "GOOD", wr(&p4, 1));
		/* status 2: altered by implicit behaviour (table 216) */
		check_rtpg(st[i].ctl, &p1, true, st[i].code, 2);
		if (st[i].level == 1 || st[i].level == 3)
			check_rtpg(st[i].ctl, &p2, false, st[i].code, 2);
	}

	/* explicit: STPG from port 1 sets group 2 standby */
	check_str("STPG from port 1: group 2 standby", "GOOD",
		  stpg(&p1, 2, 0x2));
	check_str("STPG: p1 (sender) sees no unit attention", "GOOD", tur(&p1));
	check_str("STPG: p2 (port 2) sees ASYMMETRIC ACCESS STATE CHANGED",
		  "SENSE 6/2a/06", tur(&p2));
	check_str("STPG: p3 (other initiator, port 2) sees it", "SENSE 6/2a/06",
		  tur(&p3));
	check_str("STPG: p4 (same initiator, port 3) sees it", "SENSE 6/2a/06",
		  tur(&p4));
	check_str("STPG: p5 (disk02) sees nothing", "GOOD", tur(&p5));
	check_str("STPG standby: reads through port 2", "SENSE 2/04/0b",
		  rd(&p3, 0));
	check_rtpg("after STPG", &p1, true, 0x2, 1); /* 1: explicit STPG */
	check_str("STPG from port 2 (standby): group 2 active/non-optimized",
		  "GOOD", stpg(&p3, 2, 0x1));
	check_str("STPG: p3 (sender) sees nothing", "GOOD", tur(&p3));
	check_str("STPG: p1 sees the change", "SENSE 6/2a/06", tur(&p1));
	check_str("STPG: p2 sees the change", "SENSE 6/2a/06", tur(&p2));
	check_str("STPG: p4 sees the change", "SENSE 6/2a/06", tur(&p4));
	check_str("STPG: reads through port 2 again", "GOOD", rd(&p2, 0));
	check_rtpg("after STPG 2", &p3, false, 0x1, 1);
	check_str("STPG to offline: INVALID FIELD IN PARAMETER LIST",
		  "SENSE 5/26/00", stpg(&p1, 2, 0xE));
	check_str("STPG to transitioning: INVALID FIELD IN PARAMETER LIST",
		  "SENSE 5/26/00", stpg(&p1, 2, 0xF));
	check_str("STPG of group 99: INVALID FIELD IN PARAMETER LIST",
		  "SENSE 5/26/00", stpg(&p1, 99, 0x0));
	check_str("STPG on disk02 (no device group): INVALID COMMAND OPERATION "
		  "CODE",
		  "SENSE 5/20/00", stpg(&p5, 1, 0x0));
	check_str("a refused STPG raises no unit attention", "GOOD", tur(&p2));
	check_str("STPG from port 1: group 2 back to active/optimized", "GOOD",
		  stpg(&p1, 2, 0x0));
	ini_close(&p1);
	ini_close(&p2);
	ini_close(&p3);
	ini_close(&p4);
	ini_close(&p5);
}

int main(int argc, char **argv)
{
	const char *first = getenv("PR_FIRST");

	if (argc < 4) {
		fprintf(stderr,
			"usage: pr_multi PHASE PORTAL1 PORTAL2 [ARG]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (first)
		num = (int)strtol(first, NULL, 10);
	portal1 = argv[2];
	portal2 = argv[3];
	if (!strcmp(argv[1], "pr")) {
		phase_pr();
	} else if (!strncmp(argv[1], "aptpl", 5)) {
		phase_aptpl(argv[1],
			    argc > 4 ? (uint32_t)strtoul(argv[4], NULL, 10)
				     : 0);
	} else if (!strcmp(argv[1], "reset")) {
		phase_reset();
	} else if (!strcmp(argv[1], "alua") && argc > 4) {
		ctl_argv = argv + 4;
		ctl_argc = argc - 4;
		phase_alua();
	} else {
		fprintf(stderr, "unknown phase %s\n", argv[1]);
		return 2;
	}
	printf("%d passed, %d failed\n", npass, nfail);
	return nfail ? 1 : 0;
}
