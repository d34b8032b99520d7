/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * scsitool.c - a command-line SCSI client on libiscsi for the cluster lab
 * scenarios (tests/cluster): one login, one command, one output line per
 * fact, machine-readable.
 *
 * usage: scsitool [-i INITIATOR_IQN] [-I ISID] [-t SECS] [-b BLOCKSIZE]
 *                 [--retry-ua] URL COMMAND [ARGS]
 *   URL: iscsi://HOST[:PORT]/TARGET_IQN/LUN
 *   -I: the ISID's 24 random bits, hex (type 80h, qualifier 0), or
 *       "random". Default: a hash of the initiator name, so that every
 *       run with the same -i is the same I_T nexus (registrations made by
 *       one run are the next run's). Two runs at the same time with the
 *       same -i and target need distinct -I, or the second login
 *       reinstates (ends) the first session.
 *
 * commands
 *   tur                          TEST UNIT READY
 *   inquiry                      standard INQUIRY, VPD 80h and 83h
 *   readcap                      READ CAPACITY(16): "blocks=N
 *                                block_size=N"
 *   read-keys                    PR IN READ KEYS
 *   read-reservation             PR IN READ RESERVATION
 *   read-full-status             PR IN READ FULL STATUS
 *   register OLDKEY NEWKEY [--all-tg-pt] [--aptpl]
 *   register-ignore NEWKEY [--all-tg-pt] [--aptpl]
 *   reserve KEY TYPE             TYPE: 1 3 5 6 7 8 or wr_ex ex_ac
 *   release KEY TYPE                   wr_ex_ro ex_ac_ro wr_ex_ar ex_ac_ar
 *   clear KEY
 *   preempt KEY SAKEY TYPE
 *   preempt-abort KEY SAKEY TYPE
 *   write LBA BYTE               WRITE(10) of one block filled with BYTE
 *   read LBA                     READ(10) of one block, prints 16 bytes
 *   rtpg                         REPORT TARGET PORT GROUPS
 *   stpg GROUP STATE             SET TARGET PORT GROUPS, STATE 0..3 or
 *                                ao an standby unavailable
 *   pr-latency N [KEY]           N x REGISTER AND IGNORE EXISTING KEY,
 *                                one at a time; prints the latency
 *                                percentiles in microseconds
 *   tur-after MS                 TEST UNIT READY, hold the session MS
 *                                ms, then TEST UNIT READY again: shows a
 *                                unit attention raised meanwhile
 *   tur-latency N                the same for TEST UNIT READY
 *   cold-reset                   TARGET COLD RESET (a task management
 *                                function); prints "tmf=0" when the
 *                                target answered FUNCTION COMPLETE
 *   stpg-latency N GROUP         N x SET TARGET PORT GROUPS of GROUP,
 *                                standby and active/optimized in turn
 *   write-loop MS LBA            WRITE(10) of block LBA, one after the
 *                                other for MS ms; prints a timestamped
 *                                line ("t=EPOCH_MS status=...") at each
 *                                change of status, then "writes=N
 *                                good=N last_good_ms=EPOCH_MS
 *                                first_bad_ms=EPOCH_MS" (0: none)
 *   ats N ID LOCK COUNTER        VMware's ATS locking, N times: take the
 *                                lock block LOCK with COMPARE AND WRITE
 *                                (all zeros -> a block of ID, 1..255;
 *                                MISCOMPARE: someone holds it, try
 *                                again), check the lock block is still
 *                                ours, add one to the big-endian count
 *                                in block COUNTER (READ then WRITE), and
 *                                release it (COMPARE AND WRITE ours ->
 *                                zeros). Prints "ats acquired=N
 *                                contended=N violations=N errors=N":
 *                                a violation is the lock found not ours
 *                                while held (two holders)
 *   loop-pr N [KEY [TYPE]]       N cycles REGISTER AND IGNORE EXISTING
 *                                KEY, RESERVE, RELEASE (default key 0x1,
 *                                type wr_ex); a timestamped line each
 *
 * Output: "status=GOOD", "status=CHECK_CONDITION sense=6/29/03",
 * "status=RESERVATION_CONFLICT", then the command's facts: "gen=N",
 * "key=0x...", "reservation key=0x.. scope=N type=N" (or
 * "reservation=none"), "fullstatus key=0x.. rel_port=N holder=0|1
 * all_tg_pt=0|1 scope=N type=N tid=NAME", "tpg id=N state=N pref=N
 * status=N ports=A,B", "data=HEX", inquiry fields.
 * With --retry-ua a unit attention on the first command is printed
 * ("status=CHECK_CONDITION sense=6/..", "retry=ua") and the command sent
 * once more.
 * Exit: 0 when the command got a SCSI status (the caller checks which),
 * 2 on usage, login or transport errors.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include "spc_wire.h"

#define DEFAULT_INITIATOR "iqn.2026-11.org.tandem:scsitool"

static struct iscsi_context *iscsi;
static int lun;
static bool retry_ua, first = true;
static unsigned block_size = 512;

/* FNV-1a: the default ISID of an initiator name */
static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: scsitool [-i INITIATOR_IQN] [-I ISID|random] [-t SECS] "
		"[-b BLOCKSIZE] [--retry-ua] URL COMMAND [ARGS]\n"
		"commands: tur inquiry read-keys read-reservation "
		"read-full-status\n"
		"  register OLDKEY NEWKEY [--all-tg-pt] [--aptpl]\n"
		"  register-ignore NEWKEY [--all-tg-pt] [--aptpl]\n"
		"  reserve KEY TYPE | release KEY TYPE | clear KEY\n"
		"  preempt KEY SAKEY TYPE | preempt-abort KEY SAKEY TYPE\n"
		"  write LBA BYTE | write-loop MS LBA | read LBA | rtpg | stpg "
		"GROUP STATE\n"
		"  loop-pr N [KEY [TYPE]] | ats N ID LOCK COUNTER\n"
		"  pr-latency N [KEY]\n"
		"  tur-latency N | stpg-latency N GROUP | tur-after MS\n");
}

static bool parse_u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	return *s && !*end && !errno && *s != '-';
}

/* SPC-4 6.15.2, table 199 (PERSISTENT RESERVE OUT type codes) */
static bool parse_type(const char *s, unsigned *type)
{
	static const struct {
		const char *name;
		unsigned code;
	} names[] = {
		{"wr_ex", 1},	 {"ex_ac", 3},	  {"wr_ex_ro", 5},
		{"ex_ac_ro", 6}, {"wr_ex_ar", 7}, {"ex_ac_ar", 8},
	};
	uint64_t v;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i].name)) {
			*type = names[i].code;
			return true;
		}
	if (!parse_u64(s, &v) || v > 15)
		return false;
	*type = (unsigned)v;
	return true;
}

/* SPC-4 6.37, table 165 (asymmetric access state) */
static bool parse_state(const char *s, unsigned *state)
{
	static const char *const names[] = {"ao", "an", "standby",
					    "unavailable"};
	uint64_t v;

	for (unsigned i = 0; i < 4; i++)
		if (!strcmp(s, names[i])) {
			*state = i;
			return true;
		}
	if (!parse_u64(s, &v) || v > 15)
		return false;
	*state = (unsigned)v;
	return true;
}

static const char *status_name(int status)
{
	/* SAM-5 5.3.1, table 33 */
	switch (status) {
	case SCSI_STATUS_GOOD:
		return "GOOD";
	case SCSI_STATUS_CHECK_CONDITION:
		return "CHECK_CONDITION";
	case SCSI_STATUS_CONDITION_MET:
		return "CONDITION_MET";
	case SCSI_STATUS_BUSY:
		return "BUSY";
	case SCSI_STATUS_RESERVATION_CONFLICT:
		return "RESERVATION_CONFLICT";
	case SCSI_STATUS_TASK_SET_FULL:
		return "TASK_SET_FULL";
	case SCSI_STATUS_ACA_ACTIVE:
		return "ACA_ACTIVE";
	case SCSI_STATUS_TASK_ABORTED:
		return "TASK_ABORTED";
	default:
		return NULL;
	}
}

static void print_status(const char *prefix, const struct scsi_task *t)
{
	const char *name = status_name(t->status);

	printf("%s", prefix);
	if (name)
		printf("status=%s", name);
	else
		printf("status=0x%02x", (unsigned)t->status);
	if (t->status == SCSI_STATUS_CHECK_CONDITION)
		printf(" sense=%x/%02x/%02x", (unsigned)t->sense.key,
		       (unsigned)(t->sense.ascq >> 8) & 0xFF,
		       (unsigned)t->sense.ascq & 0xFF);
	printf("\n");
}

/*
 * Send one CDB and wait for its status. Transport failures end the
 * program with exit 2. The first command's unit attention is printed
 * and the command retried once when --retry-ua was given.
 */
static struct scsi_task *cmd(const unsigned char *cdb, int cdb_len, int dir,
			     unsigned char *out, size_t out_len, int in_len,
			     const char *prefix)
{
	for (;;) {
		struct scsi_task *t = calloc(1, sizeof(*t));
		struct iscsi_data d = {.data = out, .size = out_len};
		bool was_first = first;

		if (!t) {
			fprintf(stderr, "scsitool: out of memory\n");
			exit(2);
		}
		memcpy(t->cdb, cdb, (size_t)cdb_len);
		t->cdb_size = cdb_len;
		t->xfer_dir = dir;
		t->expxferlen = dir == SCSI_XFER_WRITE ? (int)out_len : in_len;
		first = false;
		if (!iscsi_scsi_command_sync(iscsi, lun, t,
					     dir == SCSI_XFER_WRITE ? &d
								    : NULL)) {
			fprintf(stderr, "scsitool: %s\n",
				iscsi_get_error(iscsi));
			printf("%serror=transport\n", prefix);
			exit(2);
		}
		if (t->status == SCSI_STATUS_ERROR ||
		    t->status == SCSI_STATUS_CANCELLED ||
		    t->status == SCSI_STATUS_TIMEOUT) {
			fprintf(stderr, "scsitool: %s\n",
				iscsi_get_error(iscsi));
			printf("%serror=%s\n", prefix,
			       t->status == SCSI_STATUS_TIMEOUT ? "timeout"
								: "transport");
			exit(2);
		}
		if (was_first && retry_ua &&
		    t->status == SCSI_STATUS_CHECK_CONDITION &&
		    t->sense.key == SCSI_SENSE_UNIT_ATTENTION) {
			print_status(prefix, t);
			printf("%sretry=ua\n", prefix);
			scsi_free_scsi_task(t);
			continue;
		}
		return t;
	}
}

static const unsigned char *data_in(const struct scsi_task *t, size_t *n)
{
	*n = t->datain.data ? (size_t)t->datain.size : 0;
	return t->datain.data;
}

static void print_text(const char *name, const unsigned char *p, size_t n)
{
	/* INQUIRY ASCII fields: printable, trailing blanks dropped */
	while (n && (p[n - 1] == ' ' || p[n - 1] == 0))
		n--;
	printf("%s=", name);
	for (size_t i = 0; i < n; i++)
		putchar(isprint(p[i]) && p[i] != ' ' ? p[i] : '_');
	printf("\n");
}

static void print_hex(const char *name, const unsigned char *p, size_t n)
{
	printf("%s=", name);
	for (size_t i = 0; i < n; i++)
		printf("%02x", p[i]);
	printf("\n");
}

static struct scsi_task *inquiry(int evpd, int page, int len)
{
	unsigned char c[6] = {
		0x12, (unsigned char)evpd, (unsigned char)page, 0, 0, 0};

	put_be16(c + 3, (unsigned)len);
	return cmd(c, 6, SCSI_XFER_READ, NULL, 0, len, "");
}

/* SPC-4 7.8.5: designation descriptors of VPD page 83h */
static void print_designators(const unsigned char *p, size_t n)
{
	struct vpd83_desig ds;
	size_t off = 4;

	while (vpd83_next(p, n, &off, &ds)) {
		if (ds.type == 4 && ds.len >= 4)
			printf("rel_port=%u\n", get_be16(ds.d + 2));
		else if (ds.type == 5 && ds.len >= 4)
			printf("tpg=%u\n", get_be16(ds.d + 2));
		else if (ds.type == 3)
			print_hex("naa", ds.d, ds.len);
		else if (ds.type == 8)
			print_text(ds.assoc == 2   ? "target_name"
				   : ds.assoc == 1 ? "port_name"
						   : "name",
				   ds.d, ds.len);
		else if (ds.type == 2)
			print_hex("eui64", ds.d, ds.len);
		else if (ds.type == 1)
			print_text("t10_id", ds.d, ds.len);
	}
}

static int do_inquiry(void)
{
	struct scsi_task *t = inquiry(0, 0, 96);
	const unsigned char *p;
	size_t n;

	print_status("", t);
	p = data_in(t, &n);
	if (t->status != SCSI_STATUS_GOOD || n < 36) {
		scsi_free_scsi_task(t);
		return 0;
	}
	printf("pdt=%u\n", p[0] & 0x1F);
	/* SPC-4 6.6.2: TPGS in byte 5 bits 5..4 */
	printf("tpgs=%u\n", (p[5] >> 4) & 3);
	print_text("vendor", p + 8, 8);
	print_text("product", p + 16, 16);
	print_text("rev", p + 32, 4);
	scsi_free_scsi_task(t);

	t = inquiry(1, 0x80, 255);
	p = data_in(t, &n);
	if (t->status == SCSI_STATUS_GOOD && n >= 4)
		print_text("serial", p + 4,
			   n - 4 < p[3] ? n - 4 : (size_t)p[3]);
	scsi_free_scsi_task(t);

	t = inquiry(1, 0x83, 1024);
	p = data_in(t, &n);
	if (t->status == SCSI_STATUS_GOOD)
		print_designators(p, n);
	scsi_free_scsi_task(t);
	return 0;
}

/* SBC-4 5.16: READ CAPACITY(16); prints "blocks=N block_size=N" */
static int do_readcap(void)
{
	/* SERVICE ACTION IN(16), READ CAPACITY(16), 32 bytes */
	static const unsigned char c[16] = {0x9E, 0x10, 0, 0, 0, 0,  0, 0,
					    0,	  0,	0, 0, 0, 32, 0, 0};
	struct scsi_task *t = cmd(c, 16, SCSI_XFER_READ, NULL, 0, 32, "");
	const unsigned char *p;
	size_t n;

	print_status("", t);
	p = data_in(t, &n);
	if (t->status == SCSI_STATUS_GOOD && p && n >= 12) {
		unsigned long long last = 0;

		for (int i = 0; i < 8; i++)
			last = last << 8 | p[i];
		printf("blocks=%llu block_size=%u\n", last + 1,
		       (unsigned)p[8] << 24 | (unsigned)p[9] << 16 |
			       (unsigned)p[10] << 8 | p[11]);
	}
	scsi_free_scsi_task(t);
	return 0;
}

/* SPC-4 6.16: PERSISTENT RESERVE IN */
static struct scsi_task *pr_in(unsigned sa, const char *prefix)
{
	unsigned char c[10] = {0x5E, (unsigned char)sa};

	put_be16(c + 7, 8192);
	return cmd(c, 10, SCSI_XFER_READ, NULL, 0, 8192, prefix);
}

static int do_pr_in(unsigned sa)
{
	struct scsi_task *t = pr_in(sa, "");
	const unsigned char *p;
	size_t n, len, off;

	print_status("", t);
	p = data_in(t, &n);
	if (t->status != SCSI_STATUS_GOOD || n < 8) {
		scsi_free_scsi_task(t);
		return 0;
	}
	printf("gen=%" PRIu32 "\n", get_be32(p));
	len = get_be32(p + 4);
	if (len + 8 < n)
		n = len + 8;
	if (sa == SCSI_PERSISTENT_RESERVE_READ_KEYS) {
		unsigned count = 0;

		for (off = 8; off + 8 <= n; off += 8, count++)
			printf("key=0x%" PRIx64 "\n", get_be64(p + off));
		printf("nkeys=%u\n", count);
	} else if (sa == SCSI_PERSISTENT_RESERVE_READ_RESERVATION) {
		if (n >= 24)
			printf("reservation key=0x%" PRIx64
			       " scope=%u type=%u\n",
			       get_be64(p + 8), p[21] >> 4, p[21] & 0x0F);
		else
			printf("reservation=none\n");
	} else {
		unsigned count = 0;

		/* SPC-4 6.16.5, table 188: full status descriptors */
		for (off = 8; off + 24 <= n; count++) {
			const unsigned char *d = p + off;
			size_t tl = get_be32(d + 20);
			const unsigned char *tid = d + 24;

			if (off + 24 + tl > n)
				tl = n - off - 24;
			printf("fullstatus key=0x%" PRIx64
			       " rel_port=%u holder=%u all_tg_pt=%u scope=%u "
			       "type=%u proto=%u tid=",
			       get_be64(d), get_be16(d + 18), d[12] & 1,
			       (d[12] >> 1) & 1, d[13] >> 4, d[13] & 0x0F,
			       tl ? tid[0] & 0x0F : 0);
			/* SPC-4 7.6.4.6: iSCSI TransportID: name from byte
			 * 4, NUL-terminated (",i,0x" ISID in format 01b) */
			for (size_t i = 4; i < tl && tid[i]; i++)
				putchar(isgraph(tid[i]) ? tid[i] : '_');
			printf("\n");
			off += 24 + tl;
		}
		printf("ndesc=%u\n", count);
	}
	scsi_free_scsi_task(t);
	return 0;
}

/* SPC-4 6.17: PERSISTENT RESERVE OUT, basic parameter list (24 bytes) */
static struct scsi_task *pr_out(unsigned sa, unsigned type, uint64_t key,
				uint64_t sakey, unsigned flags,
				const char *prefix)
{
	unsigned char c[10] = {0x5F, (unsigned char)sa, (unsigned char)type};
	static unsigned char par[24];

	memset(par, 0, sizeof(par));
	put_be32(c + 5, sizeof(par));
	put_be64(par, key);
	put_be64(par + 8, sakey);
	par[20] = (unsigned char)flags;
	return cmd(c, 10, SCSI_XFER_WRITE, par, sizeof(par), 0, prefix);
}

#define PR_ALL_TG_PT 0x04
#define PR_APTPL 0x01

static int pr_flags(int argc, char **argv, unsigned *flags)
{
	*flags = 0;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--all-tg-pt"))
			*flags |= PR_ALL_TG_PT;
		else if (!strcmp(argv[i], "--aptpl"))
			*flags |= PR_APTPL;
		else
			return -1;
	}
	return 0;
}

static int simple(struct scsi_task *t)
{
	print_status("", t);
	scsi_free_scsi_task(t);
	return 0;
}

static int do_rw(bool write, uint64_t lba, unsigned byte)
{
	unsigned char c[10] = {write ? 0x2A : 0x28};
	unsigned char *buf = NULL;
	struct scsi_task *t;
	const unsigned char *p;
	size_t n;

	if (lba > UINT32_MAX)
		return -1;
	put_be32(c + 2, (uint32_t)lba);
	put_be16(c + 7, 1);
	if (write) {
		buf = malloc(block_size);
		if (!buf)
			return -1;
		memset(buf, (int)byte, block_size);
		t = cmd(c, 10, SCSI_XFER_WRITE, buf, block_size, 0, "");
	} else {
		t = cmd(c, 10, SCSI_XFER_READ, NULL, 0, (int)block_size, "");
	}
	print_status("", t);
	p = data_in(t, &n);
	if (!write && t->status == SCSI_STATUS_GOOD)
		print_hex("data", p, n < 16 ? n : 16);
	scsi_free_scsi_task(t);
	free(buf);
	return 0;
}

/* ---- ATS locking (tests/cluster/rbd_heads.sh) ---- */

static uint64_t now_ns(void);

/* One block of LBA into buf (READ(16)); the task's status, -1 on a
 * status other than GOOD. */
static int read_block(uint64_t lba, unsigned char *buf)
{
	unsigned char c[16] = {0x88};
	struct scsi_task *t;
	const unsigned char *p;
	size_t n;
	int r = -1;

	put_be32(c + 2, (uint32_t)(lba >> 32));
	put_be32(c + 6, (uint32_t)lba);
	put_be32(c + 10, 1);
	t = cmd(c, 16, SCSI_XFER_READ, NULL, 0, (int)block_size, "");
	p = data_in(t, &n);
	if (t->status == SCSI_STATUS_GOOD && n == block_size) {
		memcpy(buf, p, n);
		r = 0;
	}
	scsi_free_scsi_task(t);
	return r;
}

static int write_block(uint64_t lba, unsigned char *buf)
{
	unsigned char c[16] = {0x8A};
	struct scsi_task *t;
	int r;

	put_be32(c + 2, (uint32_t)(lba >> 32));
	put_be32(c + 6, (uint32_t)lba);
	put_be32(c + 10, 1);
	t = cmd(c, 16, SCSI_XFER_WRITE, buf, block_size, 0, "");
	r = t->status == SCSI_STATUS_GOOD ? 0 : -1;
	scsi_free_scsi_task(t);
	return r;
}

/* SBC-4 5.3 COMPARE AND WRITE of one block: 0 done, 1 miscompare (the
 * block was not cmp), -1 any other status */
static int caw_block(uint64_t lba, unsigned cmp, unsigned val)
{
	unsigned char c[16] = {0x89};
	unsigned char *buf = malloc(2 * (size_t)block_size);
	struct scsi_task *t;
	int r;

	if (!buf)
		return -1;
	memset(buf, (int)cmp, block_size);
	memset(buf + block_size, (int)val, block_size);
	put_be32(c + 2, (uint32_t)(lba >> 32));
	put_be32(c + 6, (uint32_t)lba);
	c[13] = 1;
	t = cmd(c, 16, SCSI_XFER_WRITE, buf, 2 * (size_t)block_size, 0, "");
	if (t->status == SCSI_STATUS_GOOD)
		r = 0;
	else if (t->status == SCSI_STATUS_CHECK_CONDITION &&
		 t->sense.key == SCSI_SENSE_MISCOMPARE)
		r = 1;
	else {
		print_status("caw ", t);
		r = -1;
	}
	scsi_free_scsi_task(t);
	free(buf);
	return r;
}

static bool all_bytes(const unsigned char *p, size_t n, unsigned v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return false;
	return true;
}

static int do_ats(unsigned long n, unsigned id, uint64_t lock, uint64_t ctr)
{
	unsigned long acquired = 0, contended = 0, violations = 0, errors = 0;
	unsigned char *b = malloc(block_size);
	const struct timespec pause = {0, 200000};

	if (!b)
		return 2;
	/* a lock left held (its holder failed) would make the others spin:
	 * give up after 5 minutes */
	uint64_t deadline = now_ns() + 300ull * 1000000000ull;

	while (acquired < n && errors < 100 && now_ns() < deadline) {
		uint64_t count;
		int r = caw_block(lock, 0, id);

		if (r == 1) {
			contended++;
			nanosleep(&pause, NULL);
			continue;
		}
		if (r < 0) {
			errors++;
			continue;
		}
		acquired++;
		if (read_block(lock, b) || !all_bytes(b, block_size, id))
			violations++;
		if (read_block(ctr, b)) {
			errors++;
		} else {
			count = (uint64_t)get_be32(b) << 32 | get_be32(b + 4);
			count++;
			put_be32(b, (uint32_t)(count >> 32));
			put_be32(b + 4, (uint32_t)count);
			if (write_block(ctr, b))
				errors++;
		}
		r = caw_block(lock, id, 0);
		if (r == 1)
			violations++; /* someone overwrote our lock */
		else if (r < 0)
			errors++;
	}
	if (acquired < n && errors < 100)
		errors++; /* the deadline */
	printf("ats acquired=%lu contended=%lu violations=%lu errors=%lu\n",
	       acquired, contended, violations, errors);
	free(b);
	return 0;
}

/* SPC-4 6.37: REPORT TARGET PORT GROUPS, extended header */
static int do_rtpg(void)
{
	unsigned char c[12] = {0xA3, 0x0A | 0x20};
	struct scsi_task *t;
	const unsigned char *p;
	size_t n, off = 8;

	put_be32(c + 6, 4096);
	t = cmd(c, 12, SCSI_XFER_READ, NULL, 0, 4096, "");
	print_status("", t);
	p = data_in(t, &n);
	if (t->status == SCSI_STATUS_GOOD && n >= 8) {
		if ((size_t)get_be32(p) + 4 < n)
			n = get_be32(p) + 4;
		while (off + 8 <= n) {
			unsigned cnt = p[off + 7];

			printf("tpg id=%u state=%u pref=%u status=%u ports=",
			       get_be16(p + off + 2), p[off] & 0x0F,
			       p[off] >> 7, p[off + 5]);
			for (unsigned i = 0; i < cnt && off + 12 + 4 * i <= n;
			     i++)
				printf("%s%u", i ? "," : "",
				       get_be16(p + off + 8 + 4 * i + 2));
			printf("\n");
			off += 8 + 4 * (size_t)cnt;
		}
	}
	scsi_free_scsi_task(t);
	return 0;
}

/* SPC-4 6.44: SET TARGET PORT GROUPS, one descriptor */
static int do_stpg(unsigned group, unsigned state)
{
	unsigned char c[12] = {0xA4, 0x0A};
	static unsigned char par[8];

	memset(par, 0, sizeof(par));
	par[4] = (unsigned char)state;
	put_be16(par + 6, group);
	put_be32(c + 6, sizeof(par));
	return simple(cmd(c, 12, SCSI_XFER_WRITE, par, sizeof(par), 0, ""));
}

/* ---- latency (bench/cluster-latency.sh) ---- */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* "name n=N good=G min= p50= p90= p99= max=" in microseconds */
static void print_lat(const char *name, uint64_t *v, unsigned long n,
		      unsigned long good)
{
	if (!n)
		return;
	qsort(v, n, sizeof(*v), cmp_u64);
	printf("%s n=%lu good=%lu min_us=%.1f p50_us=%.1f p90_us=%.1f "
	       "p99_us=%.1f max_us=%.1f\n",
	       name, n, good, v[0] / 1e3, v[n / 2] / 1e3, v[n * 9 / 10] / 1e3,
	       v[n * 99 / 100] / 1e3, v[n - 1] / 1e3);
}

/* N x REGISTER AND IGNORE EXISTING KEY (key), one at a time */
static int do_pr_latency(unsigned long n, uint64_t key)
{
	uint64_t *v = calloc(n ? n : 1, sizeof(*v));
	unsigned long good = 0;

	if (!v)
		return 2;
	for (unsigned long i = 0; i < n; i++) {
		uint64_t t0 = now_ns();
		struct scsi_task *t = pr_out(
			SCSI_PERSISTENT_RESERVE_REGISTER_AND_IGNORE_EXISTING_KEY,
			0, 0, key, 0, "");

		v[i] = now_ns() - t0;
		good += t->status == SCSI_STATUS_GOOD;
		scsi_free_scsi_task(t);
	}
	print_lat("pr_out_register", v, n, good);
	free(v);
	return 0;
}

/* N x TEST UNIT READY: the round trip without ordering */
static int do_tur_latency(unsigned long n)
{
	static const unsigned char tur[6] = {0};
	uint64_t *v = calloc(n ? n : 1, sizeof(*v));
	unsigned long good = 0;

	if (!v)
		return 2;
	for (unsigned long i = 0; i < n; i++) {
		uint64_t t0 = now_ns();
		struct scsi_task *t =
			cmd(tur, 6, SCSI_XFER_NONE, NULL, 0, 0, "");

		v[i] = now_ns() - t0;
		good += t->status == SCSI_STATUS_GOOD;
		scsi_free_scsi_task(t);
	}
	print_lat("test_unit_ready", v, n, good);
	free(v);
	return 0;
}

/* N x SET TARGET PORT GROUPS of group, standby and active/optimized in
 * turn, ending active/optimized (N even) */
static int do_stpg_latency(unsigned long n, unsigned group)
{
	uint64_t *v = calloc(n ? n : 1, sizeof(*v));
	unsigned long good = 0;

	if (!v)
		return 2;
	for (unsigned long i = 0; i < n; i++) {
		unsigned char c[12] = {0xA4, 0x0A};
		unsigned char par[8] = {0};
		struct scsi_task *t;
		uint64_t t0;

		par[4] = i % 2 ? 0x0 : 0x2; /* standby, then active/opt. */
		put_be16(par + 6, (uint16_t)group);
		put_be32(c + 6, sizeof(par));
		t0 = now_ns();
		t = cmd(c, 12, SCSI_XFER_WRITE, par, sizeof(par), 0, "");
		v[i] = now_ns() - t0;
		good += t->status == SCSI_STATUS_GOOD;
		scsi_free_scsi_task(t);
	}
	print_lat("stpg", v, n, good);
	free(v);
	return 0;
}

static int do_loop_pr(unsigned long n, uint64_t key, unsigned type)
{
	static const char *const ops[] = {"register", "reserve", "release"};

	for (unsigned long i = 0; i < n; i++) {
		for (unsigned op = 0; op < 3; op++) {
			struct timespec ts;
			char prefix[96];
			struct scsi_task *t;

			clock_gettime(CLOCK_REALTIME, &ts);
			snprintf(prefix, sizeof(prefix),
				 "t=%lld.%06ld i=%lu op=%s ",
				 (long long)ts.tv_sec, ts.tv_nsec / 1000, i,
				 ops[op]);
			if (op == 0)
				t = pr_out(
					SCSI_PERSISTENT_RESERVE_REGISTER_AND_IGNORE_EXISTING_KEY,
					0, 0, key, 0, prefix);
			else
				t = pr_out(
					op == 1 ? SCSI_PERSISTENT_RESERVE_RESERVE
						: SCSI_PERSISTENT_RESERVE_RELEASE,
					type, key, 0, 0, prefix);
			print_status(prefix, t);
			scsi_free_scsi_task(t);
		}
	}
	return 0;
}

static uint64_t epoch_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* write-loop: when did this path stop acknowledging writes? */
static int do_write_loop(uint64_t ms, uint64_t lba)
{
	unsigned char c[10] = {0x2A};
	unsigned char *buf = malloc(block_size);
	uint64_t end = epoch_ms() + ms, n = 0, good = 0, last_good = 0,
		 first_bad = 0, t;
	int last = -1;
	int last_ascq = 0;

	if (!buf || lba > UINT32_MAX) {
		free(buf);
		return -1;
	}
	put_be32(c + 2, (uint32_t)lba);
	put_be16(c + 7, 1);
	while ((t = epoch_ms()) < end) {
		struct scsi_task *k;

		memset(buf, (int)(n & 0xFF), block_size);
		k = cmd(c, 10, SCSI_XFER_WRITE, buf, block_size, 0, "");
		t = epoch_ms();
		n++;
		if (k->status == SCSI_STATUS_GOOD) {
			good++;
			last_good = t;
		} else if (!first_bad) {
			first_bad = t;
		}
		if (k->status != last || (int)k->sense.ascq != last_ascq) {
			char prefix[48];

			snprintf(prefix, sizeof(prefix), "t=%llu ",
				 (unsigned long long)t);
			print_status(prefix, k);
			fflush(stdout);
			last = k->status;
			last_ascq = (int)k->sense.ascq;
		}
		scsi_free_scsi_task(k);
	}
	printf("writes=%llu good=%llu last_good_ms=%llu first_bad_ms=%llu\n",
	       (unsigned long long)n, (unsigned long long)good,
	       (unsigned long long)last_good, (unsigned long long)first_bad);
	free(buf);
	return 0;
}

static int run(int argc, char **argv)
{
	const char *c = argv[0];
	uint64_t k1, k2, lba, v;
	unsigned type, flags, state;

	if (!strcmp(c, "tur") && argc == 1) {
		static const unsigned char tur[6] = {0};

		return simple(cmd(tur, 6, SCSI_XFER_NONE, NULL, 0, 0, ""));
	}
	if (!strcmp(c, "inquiry") && argc == 1)
		return do_inquiry();
	if (!strcmp(c, "readcap") && argc == 1)
		return do_readcap();
	if (!strcmp(c, "read-keys") && argc == 1)
		return do_pr_in(SCSI_PERSISTENT_RESERVE_READ_KEYS);
	if (!strcmp(c, "read-reservation") && argc == 1)
		return do_pr_in(SCSI_PERSISTENT_RESERVE_READ_RESERVATION);
	if (!strcmp(c, "read-full-status") && argc == 1)
		return do_pr_in(SCSI_PERSISTENT_RESERVE_READ_FULL_STATUS);
	if (!strcmp(c, "register") && argc >= 3 && parse_u64(argv[1], &k1) &&
	    parse_u64(argv[2], &k2) && !pr_flags(argc - 3, argv + 3, &flags))
		return simple(pr_out(SCSI_PERSISTENT_RESERVE_REGISTER, 0, k1,
				     k2, flags, ""));
	if (!strcmp(c, "register-ignore") && argc >= 2 &&
	    parse_u64(argv[1], &k2) && !pr_flags(argc - 2, argv + 2, &flags))
		return simple(pr_out(
			SCSI_PERSISTENT_RESERVE_REGISTER_AND_IGNORE_EXISTING_KEY,
			0, 0, k2, flags, ""));
	if ((!strcmp(c, "reserve") || !strcmp(c, "release")) && argc == 3 &&
	    parse_u64(argv[1], &k1) && parse_type(argv[2], &type))
		return simple(pr_out(c[2] == 's'
					     ? SCSI_PERSISTENT_RESERVE_RESERVE
					     : SCSI_PERSISTENT_RESERVE_RELEASE,
				     type, k1, 0, 0, ""));
	if (!strcmp(c, "clear") && argc == 2 && parse_u64(argv[1], &k1))
		return simple(
			pr_out(SCSI_PERSISTENT_RESERVE_CLEAR, 0, k1, 0, 0, ""));
	if ((!strcmp(c, "preempt") || !strcmp(c, "preempt-abort")) &&
	    argc == 4 && parse_u64(argv[1], &k1) && parse_u64(argv[2], &k2) &&
	    parse_type(argv[3], &type))
		return simple(
			pr_out(c[7] ? SCSI_PERSISTENT_RESERVE_PREEMPT_AND_ABORT
				    : SCSI_PERSISTENT_RESERVE_PREEMPT,
			       type, k1, k2, 0, ""));
	if (!strcmp(c, "write") && argc == 3 && parse_u64(argv[1], &lba) &&
	    parse_u64(argv[2], &v) && v <= 0xFF)
		return do_rw(true, lba, (unsigned)v);
	if (!strcmp(c, "write-loop") && argc == 3 && parse_u64(argv[1], &v) &&
	    v <= 600000 && parse_u64(argv[2], &lba))
		return do_write_loop(v, lba);
	if (!strcmp(c, "read") && argc == 2 && parse_u64(argv[1], &lba))
		return do_rw(false, lba, 0);
	if (!strcmp(c, "rtpg") && argc == 1)
		return do_rtpg();
	if (!strcmp(c, "stpg") && argc == 3 && parse_u64(argv[1], &v) &&
	    v <= 0xFFFF && parse_state(argv[2], &state))
		return do_stpg((unsigned)v, state);
	if (!strcmp(c, "pr-latency") && argc >= 2 && argc <= 3 &&
	    parse_u64(argv[1], &v)) {
		k1 = 1;
		if (argc == 3 && !parse_u64(argv[2], &k1))
			return -1;
		return do_pr_latency((unsigned long)v, k1);
	}
	if (!strcmp(c, "stpg-latency") && argc == 3 && parse_u64(argv[1], &v) &&
	    parse_u64(argv[2], &k1) && k1 <= 0xFFFF)
		return do_stpg_latency((unsigned long)v, (unsigned)k1);
	if (!strcmp(c, "tur-after") && argc == 2 && parse_u64(argv[1], &v) &&
	    v <= 600000) {
		/* a TEST UNIT READY now (the new nexus' unit attention goes
		 * with --retry-ua), the session held MS milliseconds, then
		 * the one printed: what happened to this nexus meanwhile */
		static const unsigned char tur[6] = {0};
		struct timespec ts = {(time_t)(v / 1000),
				      (long)(v % 1000) * 1000000L};

		scsi_free_scsi_task(
			cmd(tur, 6, SCSI_XFER_NONE, NULL, 0, 0, "first "));
		printf("held_ms=%llu\n", (unsigned long long)v);
		fflush(stdout);
		nanosleep(&ts, NULL);
		return simple(cmd(tur, 6, SCSI_XFER_NONE, NULL, 0, 0, ""));
	}
	if (!strcmp(c, "cold-reset") && argc == 1) {
		int r = iscsi_task_mgmt_target_cold_reset_sync(iscsi);

		printf("tmf=%d\n", r);
		return r == 0 ? 0 : 2;
	}
	if (!strcmp(c, "tur-latency") && argc == 2 && parse_u64(argv[1], &v))
		return do_tur_latency((unsigned long)v);
	if (!strcmp(c, "ats") && argc == 5 && parse_u64(argv[1], &v) &&
	    parse_u64(argv[2], &k1) && k1 >= 1 && k1 <= 255 &&
	    parse_u64(argv[3], &lba) && parse_u64(argv[4], &k2))
		return do_ats((unsigned long)v, (unsigned)k1, lba, k2);
	if (!strcmp(c, "loop-pr") && argc >= 2 && argc <= 4 &&
	    parse_u64(argv[1], &v)) {
		k1 = 1;
		type = 1;
		if (argc >= 3 && !parse_u64(argv[2], &k1))
			return -1;
		if (argc == 4 && !parse_type(argv[3], &type))
			return -1;
		return do_loop_pr((unsigned long)v, k1, type);
	}
	return -1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"initiator", required_argument, NULL, 'i'},
		{"isid", required_argument, NULL, 'I'},
		{"timeout", required_argument, NULL, 't'},
		{"block-size", required_argument, NULL, 'b'},
		{"retry-ua", no_argument, NULL, 'r'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *initiator = DEFAULT_INITIATOR, *isid = NULL;
	struct iscsi_url *url;
	uint64_t v;
	int c, timeout = 10, rc;

	while ((c = getopt_long(argc, argv, "+i:I:t:b:rh", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			initiator = optarg;
			break;
		case 'I':
			isid = optarg;
			break;
		case 't':
			if (!parse_u64(optarg, &v) || v < 1 || v > 3600) {
				usage(stderr);
				return 2;
			}
			timeout = (int)v;
			break;
		case 'b':
			if (!parse_u64(optarg, &v) || v < 512 || v > 65536) {
				usage(stderr);
				return 2;
			}
			block_size = (unsigned)v;
			break;
		case 'r':
			retry_ua = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (argc - optind < 2) {
		usage(stderr);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	iscsi = iscsi_create_context(initiator);
	if (!iscsi) {
		fprintf(stderr, "scsitool: cannot create an iSCSI context\n");
		return 2;
	}
	if (!isid) {
		iscsi_set_isid_random(iscsi, name_hash(initiator) & 0xFFFFFF,
				      0);
	} else if (strcmp(isid, "random") != 0) {
		char isid_hex[16];

		snprintf(isid_hex, sizeof(isid_hex), "0x%s", isid);
		if (!parse_u64(isid_hex, &v) || v > 0xFFFFFF) {
			fprintf(stderr, "scsitool: bad ISID '%s'\n", isid);
			iscsi_destroy_context(iscsi);
			return 2;
		}
		iscsi_set_isid_random(iscsi, (uint32_t)v, 0);
	}
	url = iscsi_parse_full_url(iscsi, argv[optind]);
	if (!url) {
		fprintf(stderr, "scsitool: bad URL '%s': %s\n", argv[optind],
			iscsi_get_error(iscsi));
		iscsi_destroy_context(iscsi);
		return 2;
	}
	lun = url->lun;
	iscsi_set_targetname(iscsi, url->target);
	iscsi_set_session_type(iscsi, ISCSI_SESSION_NORMAL);
	iscsi_set_header_digest(iscsi, ISCSI_HEADER_DIGEST_NONE);
	if (url->user[0])
		iscsi_set_initiator_username_pwd(iscsi, url->user, url->passwd);
	iscsi_set_timeout(iscsi, timeout);
	/* a connection the target closes is an error to report, not
	 * something to hide by logging in again */
	iscsi_set_noautoreconnect(iscsi, 1);
	/* connect + login only: iscsi_full_connect_sync would send TEST
	 * UNIT READY and swallow the unit attention a scenario looks for */
	if (iscsi_connect_sync(iscsi, url->portal) != 0 ||
	    iscsi_login_sync(iscsi) != 0) {
		fprintf(stderr, "scsitool: login to %s: %s\n", url->portal,
			iscsi_get_error(iscsi));
		printf("error=login\n");
		iscsi_destroy_url(url);
		iscsi_destroy_context(iscsi);
		return 2;
	}
	iscsi_destroy_url(url);
	rc = run(argc - optind - 1, argv + optind + 1);
	if (rc < 0) {
		usage(stderr);
		rc = 2;
	}
	iscsi_logout_sync(iscsi);
	iscsi_destroy_context(iscsi);
	return rc;
}
