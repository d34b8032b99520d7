/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * conf_parse.c - read scst.conf syntax into struct tdm_conf.
 *
 * The statements of the lexer (conf_lex.c) feed a recursive-descent
 * parser whose depth is fixed by the grammar: HANDLER > DEVICE,
 * TARGET_DRIVER > TARGET > GROUP > LUN (drivers iscsi, ib_srpt and the
 * kernel's fabrics scst_local, ibmvstgt, qla2x00t), DEVICE_GROUP >
 * TARGET_GROUP > TARGET. The first error stops the parse
 * and is reported as
 * "file:line: problem". Unknown keywords and attributes are errors, never
 * ignored. A parsed configuration is then checked as a whole
 * (tdm_conf_validate, conf_validate.c).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alua/alua.h" /* DEVICE_GROUP states */
#include "conf/conf_lex.h"
#include "lib/iscsi_name.h"
#include "tandem/config.h"

#define LIST_MAX 4096 /* entries of one repeatable attribute */
#define DEVICES_MAX 16384
#define TARGETS_MAX 4096
#define DGRPS_MAX 4096
#define FILE_MAX (16u << 20) /* a configuration file, bytes */
#define ISCSI_PORT 3260	     /* IANA: iscsi-target */

struct parser {
	struct tdm__lex L; /* its statement: L.st */
	int driver_line;   /* of TARGET_DRIVER iscsi, 0 if none yet (that
			    * of ib_srpt: c->srp.driver_line) */
	struct tdm_conf *c;
};

/* "file:line: problem" (conf_lex.c); returns -EINVAL */
#define perr(P, ...) tdm__lex_err(&(P)->L, __VA_ARGS__)

/* Copy a string whose length was checked; never overruns dst. */
static void copy(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/*
 * The next statement of a block opened at open_line: 1 when the block
 * closes, 0 for a statement, or an error.
 */
static int next_in_block(struct parser *P, int open_line)
{
	struct tdm__stmt *S = &P->L.st;
	int r = tdm__lex_stmt(&P->L);

	if (r)
		return r;
	if (S->n > 0)
		return 0;
	if (S->end == TDM__T_RBRACE)
		return 1;
	if (S->end == TDM__T_EOF)
		return perr(P, S->line, "unterminated block opened at line %d",
			    open_line);
	return perr(P, S->line, "unexpected '{'");
}

/* ---- values ---- */

/* Decimal digits only, no sign, no junk, no overflow. */
static bool parse_u64(const char *s, uint64_t *v)
{
	uint64_t x = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		if (x > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return false;
		x = x * 10 + (uint64_t)(*s - '0');
	}
	*v = x;
	return true;
}

static int get_num(struct parser *P, const char *what, const char *s,
		   uint64_t min, uint64_t max, uint64_t *v)
{
	if (!parse_u64(s, v) || *v < min || *v > max)
		return perr(P, P->L.st.line,
			    "%s must be a number in %llu..%llu, got '%s'", what,
			    (unsigned long long)min, (unsigned long long)max,
			    tdm__conf_show(s));
	return 0;
}

static int get_bool(struct parser *P, const char *what, const char *s, bool *v)
{
	if (strcmp(s, "0") == 0 || strcmp(s, "1") == 0) {
		*v = s[0] == '1';
		return 0;
	}
	return perr(P, P->L.st.line, "%s must be 0 or 1, got '%s'", what,
		    tdm__conf_show(s));
}

/* Printable ASCII (SPC-4 4.3.1: INQUIRY ASCII data fields), 1..max. */
static int get_ascii(struct parser *P, const char *what, const char *s,
		     char *dst, size_t max)
{
	size_t n = strlen(s);

	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return perr(P, P->L.st.line,
				    "%s: non-printable character 0x%02x", what,
				    (unsigned char)s[i]);
	if (n > max)
		return perr(P, P->L.st.line,
			    "%s is longer than %zu characters: '%s'", what, max,
			    tdm__conf_show(s));
	memcpy(dst, s, n + 1);
	return 0;
}

/* Hex digits, optional 0x, lowercased into dst; *ndigits set. */
static bool get_hex(const char *s, char *dst, size_t dstlen, size_t *ndigits)
{
	size_t n;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	n = strlen(s);
	if (n == 0 || n >= dstlen)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];

		if (ch >= 'A' && ch <= 'F')
			ch = (char)(ch - 'A' + 'a');
		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')))
			return false;
		dst[i] = ch;
	}
	dst[n] = '\0';
	*ndigits = n;
	return true;
}

/* Device and group names: [A-Za-z0-9_.:-], 1..max bytes. */
static const char *bad_ident(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n > max)
		return "too long";
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' ||
		      ch == ':' || ch == '-'))
			return "only letters, digits and _ . : - are allowed";
	}
	return NULL;
}

/* RFC 7143 4.2.7: the names login takes (lib/iscsi_name.c). */
static const char *bad_iscsi_name(const char *s, size_t max)
{
	return strlen(s) > max ? "too long" : tdm_iscsi_name_problem(s);
}

/*
 * why, unless s is a name in the form fn keeps it in (a GID, a unit
 * address, a WWPN: the parser normalises a name before it opens the
 * target, so a good name is kept as it is).
 */
static const char *not_kept(int (*fn)(const char *, char *, size_t),
			    const char *s, size_t max, const char *why)
{
	char norm[TDM_SRP_NAME_LEN + 1]; /* the longest of them */

	if (strlen(s) > max || fn(s, norm, sizeof(norm)) || strcmp(norm, s))
		return why;
	return NULL;
}

/* An ib_srpt target: a port GID (tdm_srp_target_name()) */
static const char *bad_srp_name(const char *s, size_t max)
{
	return not_kept(tdm_srp_target_name, s, max,
			"not a port GID (8 groups of 4 hex digits separated "
			"by ':', or 0x and 32 hex digits)");
}

/* An ibmvstgt target: a unit address (tdm_vio_target_name()) */
static const char *bad_vio_name(const char *s, size_t max)
{
	return not_kept(tdm_vio_target_name, s, max,
			"not a unit address (1 to 8 hex digits, 0x allowed)");
}

/* A qla2x00t target: a WWPN (tdm_fc_port_name()) */
static const char *bad_fc_name(const char *s, size_t max)
{
	return not_kept(tdm_fc_port_name, s, max,
			"not a WWPN (8 groups of 2 hex digits separated by "
			"':', or 0x and 16 hex digits)");
}

/* Patterns and CHAP words: printable ASCII without blanks, 1..max. */
static const char *bad_word(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n > max)
		return "too long";
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return "only printable ASCII without blanks is allowed";
	return NULL;
}

/*
 * A TARGET name of driver drv in the word buffer w, written in place in
 * its kept form when it is one (a GID, a unit address, a WWPN); left as
 * it is when not (the name rule then refuses it).
 */
static void norm_target_name(enum tdm_target_driver drv, char *w)
{
	char norm[TDM_SRP_NAME_LEN + 1];
	int r = -EINVAL;

	if (drv == TDM_DRV_SRP)
		r = tdm_srp_target_name(w, norm, sizeof(norm));
	else if (drv == TDM_DRV_VIO)
		r = tdm_vio_target_name(w, norm, sizeof(norm));
	else if (drv == TDM_DRV_FC)
		r = tdm_fc_port_name(w, norm, sizeof(norm));
	if (r == 0)
		memcpy(w, norm, strlen(norm) + 1);
}

/*
 * "addr", "addr:port", "[v6addr]", "[v6addr]:port" or a bare IPv6
 * address; numeric only. Written back as "a.b.c.d:port" or
 * "[v6%zone]:port" (port defport when none is given: iSCSI's 3260,
 * ib_srpt's TDM_SRP_DEF_PORT).
 */
static const char *norm_portal(const char *in, char *out, size_t outlen,
			       unsigned defport)
{
	char addr[80], zone[20] = "";
	const char *start = in, *port = NULL, *p;
	unsigned char bin[16];
	char canon[INET6_ADDRSTRLEN];
	uint64_t portnum = defport;
	bool v6;
	size_t n;

	if (in[0] == '[') {
		start = in + 1;
		p = strchr(start, ']');
		if (!p)
			return "missing ']'";
		n = (size_t)(p - start);
		if (p[1] == ':')
			port = p + 2;
		else if (p[1] != '\0')
			return "junk after ']'";
		v6 = true;
	} else {
		p = strchr(in, ':');
		v6 = p && strchr(p + 1, ':');
		if (p && !v6)
			port = p + 1;
		n = port ? (size_t)(p - in) : strlen(in);
	}
	if (n == 0 || n >= sizeof(addr))
		return "bad address";
	memcpy(addr, start, n);
	addr[n] = '\0';
	if (v6) {
		char *pct = strchr(addr, '%');

		if (pct) {
			if (pct[1] == '\0' || bad_ident(pct + 1, 15))
				return "bad interface name after '%'";
			snprintf(zone, sizeof(zone), "%%%s", pct + 1);
			*pct = '\0';
		}
	}
	if (inet_pton(v6 ? AF_INET6 : AF_INET, addr, bin) != 1)
		return "not a numeric IPv4 or IPv6 address";
	if (!inet_ntop(v6 ? AF_INET6 : AF_INET, bin, canon, sizeof(canon)))
		return "bad address";
	if (port &&
	    (!parse_u64(port, &portnum) || portnum < 1 || portnum > 65535))
		return "port must be a number in 1..65535";
	if (v6)
		snprintf(out, outlen, "[%s%s]:%u", canon, zone,
			 (unsigned)portnum);
	else
		snprintf(out, outlen, "%s:%u", canon, (unsigned)portnum);
	return NULL;
}

/*
 * Make room for one more element. The capacity is implicit: the next
 * power of two >= n (at least 4), so growing is amortised O(1) without
 * a capacity field in the public structs. What it adds is zeroed (the
 * parser only appends: the element at n is all zeroes).
 */
static int grow(struct parser *P, void *arrp, size_t n, size_t sz, size_t max,
		const char *what)
{
	void **arr = arrp;
	size_t cap;
	void *q;

	if (n >= max)
		return perr(P, P->L.st.line, "too many %s (at most %zu)", what,
			    max);
	if (n != 0 && (n < 4 || (n & (n - 1)) != 0))
		return 0;
	cap = n == 0 ? 4 : n * 2;
	q = realloc(*arr, cap * sz);
	if (!q) {
		perr(P, P->L.st.line, "out of memory");
		return -ENOMEM;
	}
	*arr = q;
	memset((char *)q + n * sz, 0, (cap - n) * sz);
	return 0;
}

/* ---- named blocks: DEVICE, TARGET, GROUP, DEVICE_GROUP, ... ---- */

/* What a named block is, and the elements that hold one. */
struct named {
	const char *kw; /* its keyword */
	/* why a name is bad (NULL: it is good); max: its longest length */
	const char *(*bad)(const char *s, size_t max);
	size_t size;	  /* of an element (a struct tdm_conf_...) */
	size_t name_off;  /* of its char name[] */
	size_t name_size; /* of that name */
	size_t line_off;  /* of its int line */
	bool unique;	  /* a name twice is an error here (else
			   * tdm_conf_validate() finds it, in O(n log n)) */
	size_t max;	  /* elements at most */
	const char *many; /* in "too many ..." */
};

enum named_kind {
	N_DEVICE,
	N_TARGET,
	N_GROUP,
	N_DGRP,
	N_TGRP,
	N_TG_PORT,
	N_SRP_TARGET,
	N_LOCAL_TARGET,
	N_VIO_TARGET,
	N_FC_TARGET,
};

/* the element struct tdm_conf_T */
#define EL(T)                                                                  \
	sizeof(struct tdm_conf_##T), offsetof(struct tdm_conf_##T, name),      \
		sizeof(((struct tdm_conf_##T *)0)->name),                      \
		offsetof(struct tdm_conf_##T, line)

/* keyword, name rule, element, unique, at most, in "too many ...": in
 * the order of enum named_kind */
static const struct named kinds[] = {
	{"DEVICE", bad_ident, EL(device), false, DEVICES_MAX, "devices"},
	{"TARGET", bad_iscsi_name, EL(target), true, TARGETS_MAX, "targets"},
	{"GROUP", bad_ident, EL(group), true, LIST_MAX, "GROUPs"},
	{"DEVICE_GROUP", bad_ident, EL(dgrp), false, DGRPS_MAX,
	 "DEVICE_GROUPs"},
	{"TARGET_GROUP", bad_ident, EL(tgrp), false, LIST_MAX, "TARGET_GROUPs"},
	{"TARGET", bad_word, EL(tg_port), true, LIST_MAX, "TARGETs"},
	/* unique across the drivers: c->targets is one list */
	{"TARGET", bad_srp_name, EL(target), true, TARGETS_MAX, "targets"},
	{"TARGET", bad_word, EL(target), true, TARGETS_MAX, "targets"},
	{"TARGET", bad_vio_name, EL(target), true, TARGETS_MAX, "targets"},
	{"TARGET", bad_fc_name, EL(target), true, TARGETS_MAX, "targets"},
};

/* The kind of a TARGET of driver drv */
static enum named_kind target_kind(enum tdm_target_driver drv)
{
	switch (drv) {
	case TDM_DRV_ISCSI:
		break;
	case TDM_DRV_SRP:
		return N_SRP_TARGET;
	case TDM_DRV_LOCAL:
		return N_LOCAL_TARGET;
	case TDM_DRV_VIO:
		return N_VIO_TARGET;
	case TDM_DRV_FC:
		return N_FC_TARGET;
	}
	return N_TARGET;
}

/*
 * The statement "KW name" or "KW name {" that opens a named block k =
 * kinds[kind] in the block "ctx ctxname" (ctx "" at the top): exactly
 * one name, one that k->bad accepts and, if k->unique, none of the *n
 * elements of the array *arrp has. Returns a new element at the end of
 * the array, zeroed, with the name and the line; NULL and the error in *r
 * when not.
 */
static void *open_named(struct parser *P, enum named_kind kind, const char *ctx,
			const char *ctxname, void *arrp, size_t *n, int *r)
{
	const struct named *k = &kinds[kind];
	const struct tdm__stmt *S = &P->L.st;
	const char *name = S->w[1], *why;
	char where[TDM_NAME_MAX + 32] = "", *e;

	if (*ctx)
		snprintf(where, sizeof(where), "%s %s: ", ctx, ctxname);
	*r = -EINVAL;
	if (S->n != 2) {
		perr(P, S->line, "%s%s needs exactly one name", where, k->kw);
		return NULL;
	}
	why = k->bad(name, k->name_size - 1);
	if (why) {
		perr(P, S->line, "%sbad %s name '%s': %s", where, k->kw,
		     tdm__conf_show(name), why);
		return NULL;
	}
	e = *(char **)arrp;
	for (size_t i = 0; k->unique && i < *n; i++, e += k->size) {
		int line;

		if (strcmp(e + k->name_off, name) != 0)
			continue;
		memcpy(&line, e + k->line_off, sizeof(line));
		perr(P, S->line, "%sduplicate %s %s (first at line %d)", where,
		     k->kw, name, line);
		return NULL;
	}
	*r = grow(P, arrp, *n, k->size, k->max, k->many);
	if (*r)
		return NULL;
	e = *(char **)arrp + (*n)++ * k->size; /* zeroed by grow() */
	copy(e + k->name_off, k->name_size, name);
	memcpy(e + k->line_off, &S->line, sizeof(S->line));
	return e;
}

/* SCST attributes that tandem knows of but does not implement. */
static const char *const scst_only[] = {
	"threads_num",
	"threads_pool_type",
	"dif_mode",
	"dif_type",
	"dif_static_app_tag",
	"dif_filename",
	"cluster_mode",
	"lb_per_pb_exp",
	"expl_alua",
	"tst",
	"active",
	"bind_alua_state",
	"zero_copy",
	"async",
	"numa_node_id",
	"dummy",
	"read_zero",
	"opt_trans_len",
	"tmf_only",
	"link_local",
	"iSNSServer",
	"iSNSAccessControl",
	"internal_portal",
	"trace_level",
	"per_portal_acl",
	"redirect",
	"tid",
	"MaxSessions",
	"addr_method",
	"io_grouping_type",
	"cpu_mask",
	"forwarding",
	"aen_disabled",
	"black_hole",
	"comment",
	"MaxConnections",
	"DefaultTime2Wait",
	"DefaultTime2Retain",
	"DataPDUInOrder",
	"DataSequenceInOrder",
	"ErrorRecoveryLevel",
	"OFMarker",
	"IFMarker",
	"OFMarkInt",
	"IFMarkInt",
	"setup_id",
	"max_tasklet_cmd",
	"threads",
	"suspend",
	"poll_us",
	"force_global_sgv_pool",
};

static int unknown(struct parser *P, const char *ctx, const char *ctxname)
{
	const char *w = P->L.st.w[0], *kw = tdm__lex_keyword(w);

	for (size_t i = 0; i < sizeof(scst_only) / sizeof(scst_only[0]); i++)
		if (strcmp(w, scst_only[i]) == 0)
			return perr(P, P->L.st.line,
				    "%s%s%s%sunknown %s '%s' (an SCST feature "
				    "tandem does not support)",
				    ctx, *ctx ? " " : "", ctxname,
				    *ctx ? ": " : "",
				    *ctx ? "attribute" : "keyword", w);
	if (kw)
		return perr(P, P->L.st.line,
			    "%s%s%s%sunknown keyword '%s' (keywords are "
			    "case-sensitive: %s)",
			    ctx, *ctx ? " " : "", ctxname, *ctx ? ": " : "",
			    tdm__conf_show(w), kw);
	if (!*ctx)
		return perr(P, P->L.st.line,
			    "unknown keyword '%s' (expected HANDLER, "
			    "TARGET_DRIVER, DEVICE_GROUP or metrics_listen)",
			    tdm__conf_show(w));
	return perr(P, P->L.st.line, "%s %s: unknown attribute '%s'", ctx,
		    ctxname, tdm__conf_show(w));
}

/* Statement must be "name value" with no block. */
static int one_value(struct parser *P, const char *ctx, const char *ctxname)
{
	struct tdm__stmt *S = &P->L.st;

	if (S->end == TDM__T_LBRACE)
		return perr(P, S->line, "%s %s: unexpected '{' after '%s'", ctx,
			    ctxname, S->w[0]);
	if (S->n != 2)
		return perr(P, S->line, "%s %s: %s takes one value, got %d",
			    ctx, ctxname, S->w[0], S->n - 1);
	return 0;
}

/* First/second given of a once-only attribute: seen[] holds lines. */
static int once(struct parser *P, int *seen, const char *ctx,
		const char *ctxname)
{
	if (*seen)
		return perr(P, P->L.st.line,
			    "%s %s: %s given twice (first at line %d)", ctx,
			    ctxname, P->L.st.w[0], *seen);
	*seen = P->L.st.line;
	return 0;
}

/* ---- CHAP users ---- */

/*
 * IncomingUser "user secret" (SCST) or IncomingUser user secret.
 */
static int get_user(struct parser *P, const char *ctx, const char *ctxname,
		    struct tdm_conf_user *u)
{
	struct tdm__stmt *S = &P->L.st;
	char tmp[TDM__WORD_MAX];
	const char *name, *secret, *why;
	char *sp;

	if (S->end == TDM__T_LBRACE)
		return perr(P, S->line, "%s %s: unexpected '{' after '%s'", ctx,
			    ctxname, S->w[0]);
	if (S->n == 3) {
		name = S->w[1];
		secret = S->w[2];
	} else if (S->n == 2) {
		copy(tmp, sizeof(tmp), S->w[1]);
		sp = tmp + strcspn(tmp, " \t");
		if (*sp == '\0')
			return perr(P, S->line,
				    "%s %s: %s needs \"user secret\"", ctx,
				    ctxname, S->w[0]);
		*sp++ = '\0';
		sp += strspn(sp, " \t");
		name = tmp;
		secret = sp;
		if (*tmp == '\0' || *secret == '\0' ||
		    secret[strcspn(secret, " \t")] != '\0')
			return perr(P, S->line,
				    "%s %s: %s needs \"user secret\"", ctx,
				    ctxname, S->w[0]);
	} else {
		return perr(P, S->line, "%s %s: %s needs \"user secret\"", ctx,
			    ctxname, S->w[0]);
	}
	why = bad_word(name, TDM_NAME_MAX - 1);
	if (why)
		return perr(P, S->line, "%s %s: %s user name: %s", ctx, ctxname,
			    S->w[0], why);
	why = bad_word(secret, TDM_SECRET_MAX - 1);
	if (why)
		return perr(P, S->line, "%s %s: %s secret: %s", ctx, ctxname,
			    S->w[0], why);
	copy(u->name, sizeof(u->name), name);
	copy(u->secret, sizeof(u->secret), secret);
	return 0;
}

static int add_user(struct parser *P, const char *ctx, const char *ctxname,
		    struct tdm_conf_user **users, size_t *n)
{
	struct tdm_conf_user u;
	int r = get_user(P, ctx, ctxname, &u);

	if (r)
		return r;
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*users)[i].name, u.name) == 0)
			return perr(P, P->L.st.line,
				    "%s %s: %s '%s' given twice", ctx, ctxname,
				    P->L.st.w[0], tdm__conf_show(u.name));
	r = grow(P, users, *n, sizeof(u), LIST_MAX, P->L.st.w[0]);
	if (r)
		return r;
	(*users)[(*n)++] = u;
	return 0;
}

/* ---- iSCSI keys (RFC 7143 13) ---- */

enum pkind { P_DIGEST, P_YESNO, P_U32 };

static const struct pdesc {
	const char *name;
	enum pkind kind;
	size_t off;
	uint32_t min, max;
} ptab[] = {
#define PO(f) offsetof(struct tdm_conf_iscsi_params, f)
	{"HeaderDigest", P_DIGEST, PO(header_digest), 0, 0},
	{"DataDigest", P_DIGEST, PO(data_digest), 0, 0},
	{"InitialR2T", P_YESNO, PO(initial_r2t), 0, 0},
	{"ImmediateData", P_YESNO, PO(immediate_data), 0, 0},
	/* RFC 7143 13.12, 13.13, 13.14: 512..2^24-1 */
	{"MaxRecvDataSegmentLength", P_U32, PO(max_recv_data_segment_length),
	 512, 16777215},
	{"MaxXmitDataSegmentLength", P_U32, PO(max_xmit_data_segment_length),
	 512, 16777215},
	{"MaxBurstLength", P_U32, PO(max_burst_length), 512, 16777215},
	{"FirstBurstLength", P_U32, PO(first_burst_length), 512, 16777215},
	/* RFC 7143 13.17: 1..65535 */
	{"MaxOutstandingR2T", P_U32, PO(max_outstanding_r2t), 1, 65535},
	/* iSCSI-SCST target attributes */
	{"QueuedCommands", P_U32, PO(queued_commands), 1, 2048},
	{"NopInInterval", P_U32, PO(nop_in_interval), 0, 3600},
	{"NopInTimeout", P_U32, PO(nop_in_timeout), 2, 65535},
	{"RspTimeout", P_U32, PO(rsp_timeout), 2, 65535},
#undef PO
};

#define NPARAMS (sizeof(ptab) / sizeof(ptab[0]))

static const struct pdesc *find_param(const char *name)
{
	for (size_t i = 0; i < NPARAMS; i++)
		if (strcmp(name, ptab[i].name) == 0)
			return &ptab[i];
	return NULL;
}

/* 1 if the statement is an iSCSI key (and was applied), 0 if not. */
static int param_stmt(struct parser *P, const char *ctx, const char *ctxname,
		      struct tdm_conf_iscsi_params *prm, int *seen)
{
	struct tdm__stmt *S = &P->L.st;
	const struct pdesc *d = find_param(S->w[0]);
	const char *v = S->w[1];
	char *field;
	uint64_t x;
	int r;

	if (!d)
		return 0;
	r = one_value(P, ctx, ctxname);
	if (!r)
		r = once(P, &seen[d - ptab], ctx, ctxname);
	if (r)
		return r;
	field = (char *)prm + d->off;
	switch (d->kind) {
	case P_DIGEST: {
		int dg;

		if (strcasecmp(v, "None") == 0)
			dg = 0;
		else if (strcasecmp(v, "CRC32C") == 0)
			dg = 1;
		else if (strcasecmp(v, "CRC32C,None") == 0 ||
			 strcasecmp(v, "None,CRC32C") == 0)
			dg = 2;
		else
			return perr(P, S->line,
				    "%s must be None, CRC32C, CRC32C,None or "
				    "None,CRC32C, got '%s'",
				    d->name, tdm__conf_show(v));
		memcpy(field, &dg, sizeof(dg));
		return 1;
	}
	case P_YESNO: {
		int yn;

		if (strcasecmp(v, "Yes") == 0 || strcmp(v, "1") == 0)
			yn = 1;
		else if (strcasecmp(v, "No") == 0 || strcmp(v, "0") == 0)
			yn = 0;
		else
			return perr(P, S->line,
				    "%s must be Yes or No, got '%s'", d->name,
				    tdm__conf_show(v));
		memcpy(field, &yn, sizeof(yn));
		return 1;
	}
	case P_U32: {
		uint32_t u;

		r = get_num(P, d->name, v, d->min, d->max, &x);
		if (r)
			return r;
		u = (uint32_t)x;
		memcpy(field, &u, sizeof(u));
		if (field == (char *)&prm->nop_in_interval)
			prm->nop_in_disabled = x == 0;
		return 1;
	}
	}
	return 0;
}

/* ---- LUNs ---- */

/* The LUN numbers used in one LUN map, one bit each. */
struct lunset {
	uint8_t bits[(TDM_LUN_MAX + 1) / 8];
};

static bool lunset_add(struct lunset *m, uint64_t lun)
{
	uint8_t bit = (uint8_t)(1u << (lun % 8));

	if (m->bits[lun / 8] & bit)
		return false;
	m->bits[lun / 8] |= bit;
	return true;
}

static int parse_lun(struct parser *P, const char *ctx, const char *ctxname,
		     struct tdm_conf_lun **luns, size_t *nluns,
		     struct lunset *used)
{
	struct tdm__stmt *S = &P->L.st;
	struct tdm_conf_lun *l;
	const char *why;
	uint64_t num;
	int r, open_line, seen_ro = 0;

	if (S->n != 3)
		return perr(P, S->line,
			    "%s %s: LUN needs a number and a device name", ctx,
			    ctxname);
	if (!parse_u64(S->w[1], &num) || num > TDM_LUN_MAX)
		return perr(P, S->line,
			    "%s %s: LUN number must be 0..%d, got '%s'", ctx,
			    ctxname, TDM_LUN_MAX, tdm__conf_show(S->w[1]));
	why = bad_ident(S->w[2], sizeof(l->device) - 1);
	if (why)
		return perr(P, S->line,
			    "%s %s: LUN %llu: bad device name '%s': %s", ctx,
			    ctxname, (unsigned long long)num,
			    tdm__conf_show(S->w[2]), why);
	if (!lunset_add(used, num)) {
		int first = 0;

		for (size_t i = 0; i < *nluns && !first; i++)
			if ((*luns)[i].lun == num)
				first = (*luns)[i].line;
		return perr(P, S->line,
			    "%s %s: duplicate LUN %llu (first at line %d)", ctx,
			    ctxname, (unsigned long long)num, first);
	}
	r = grow(P, luns, *nluns, sizeof(**luns), TDM_LUN_MAX + 1, "LUNs");
	if (r)
		return r;
	l = &(*luns)[(*nluns)++];
	memset(l, 0, sizeof(*l));
	l->lun = num;
	copy(l->device, sizeof(l->device), S->w[2]);
	l->line = S->line;
	if (S->end != TDM__T_LBRACE)
		return 0;
	open_line = S->line;
	for (;;) {
		char what[32];

		r = next_in_block(P, open_line);
		if (r < 0)
			return r;
		if (r == 1)
			return 0;
		snprintf(what, sizeof(what), "%llu", (unsigned long long)num);
		if (strcmp(S->w[0], "read_only") != 0)
			return unknown(P, "LUN", what);
		r = one_value(P, "LUN", what);
		if (!r)
			r = once(P, &seen_ro, "LUN", what);
		if (!r)
			r = get_bool(P, "read_only", S->w[1], &l->read_only);
		if (r)
			return r;
	}
}

/* ---- devices ---- */

enum dattr {
	DA_FILENAME,
	DA_SIZE,
	DA_BLOCKSIZE,
	DA_READ_ONLY,
	DA_NV_CACHE,
	DA_WRITE_THROUGH,
	DA_O_DIRECT,
	DA_THIN,
	DA_ROTATIONAL,
	DA_REMOVABLE,
	DA_DEFERRED_OPEN,
	DA_VEND,
	DA_PROD,
	DA_PHYS_BLOCKSIZE,
	DA_REV,
	DA_T10_DEV_ID,
	DA_USN,
	DA_NAA,
	DA_EUI64,
	DA_RBD_POOL,
	DA_RBD_IMAGE,
	DA_CEPH_CONF,
	DA_CEPH_ID,
	DA_CEPH_KEYRING,
	DA_RBD_TIMEOUT,
	DA__COUNT
};

static const struct {
	const char *name;
	enum dattr id;
} dattrs[] = {
	{"filename", DA_FILENAME},
	{"size", DA_SIZE},
	{"size_mb", DA_SIZE},
	{"blocksize", DA_BLOCKSIZE},
	{"physical_blocksize", DA_PHYS_BLOCKSIZE},
	{"read_only", DA_READ_ONLY},
	{"nv_cache", DA_NV_CACHE},
	{"write_through", DA_WRITE_THROUGH},
	{"o_direct", DA_O_DIRECT},
	{"thin_provisioned", DA_THIN},
	{"rotational", DA_ROTATIONAL},
	{"removable", DA_REMOVABLE},
	{"deferred_open", DA_DEFERRED_OPEN},
	{"t10_vend_id", DA_VEND},
	{"prod_id", DA_PROD},
	{"prod_rev_lvl", DA_REV},
	{"t10_dev_id", DA_T10_DEV_ID},
	{"usn", DA_USN},
	{"naa_id", DA_NAA},
	{"eui64_id", DA_EUI64},
	{"pool", DA_RBD_POOL},
	{"image", DA_RBD_IMAGE},
	{"ceph_conf", DA_CEPH_CONF},
	{"ceph_id", DA_CEPH_ID},
	{"ceph_keyring", DA_CEPH_KEYRING},
	{"rbd_timeout", DA_RBD_TIMEOUT},
};

/*
 * A Ceph name (pool, image, user): what RADOS takes, without the
 * characters that would be read as a separator by rbd's own "pool/image"
 * form ('/', '@') or are not printable.
 */
static int get_ceph_name(struct parser *P, const char *what, const char *s,
			 char *dst, size_t max)
{
	size_t n = strlen(s);

	if (!n)
		return perr(P, P->L.st.line, "%s must not be empty", what);
	for (size_t i = 0; i < n; i++)
		if (s[i] == '/' || s[i] == '@' || s[i] == ' ')
			return perr(P, P->L.st.line,
				    "%s: '%c' is not allowed in a Ceph name: "
				    "'%s'",
				    what, s[i], tdm__conf_show(s));
	return get_ascii(P, what, s, dst, max - 1);
}

static int get_abs_path(struct parser *P, const char *what, const char *s,
			char *dst, size_t max)
{
	if (s[0] != '/')
		return perr(P, P->L.st.line,
			    "%s must be an absolute path, got '%s'", what,
			    tdm__conf_show(s));
	return get_ascii(P, what, s, dst, max - 1);
}

/* vdisk_rbd's own attributes (backstores/rbd.c) */
static int rbd_attr(struct parser *P, struct tdm_conf_device *d, int id)
{
	const char *v = P->L.st.w[1];
	uint64_t x;
	int r;

	if (d->handler != TDM_HANDLER_RBD)
		return perr(P, P->L.st.line,
			    "DEVICE %s: %s is only valid for vdisk_rbd",
			    d->name, P->L.st.w[0]);
	switch (id) {
	case DA_RBD_POOL:
		return get_ceph_name(P, "pool", v, d->rbd_pool,
				     sizeof(d->rbd_pool));
	case DA_RBD_IMAGE:
		return get_ceph_name(P, "image", v, d->rbd_image,
				     sizeof(d->rbd_image));
	case DA_CEPH_ID:
		if (!strncmp(v, "client.", 7))
			return perr(P, P->L.st.line,
				    "ceph_id is the user without 'client.' "
				    "(as rbd --id), got '%s'",
				    tdm__conf_show(v));
		return get_ceph_name(P, "ceph_id", v, d->ceph_id,
				     sizeof(d->ceph_id));
	case DA_CEPH_CONF:
		return get_abs_path(P, "ceph_conf", v, d->ceph_conf,
				    sizeof(d->ceph_conf));
	case DA_CEPH_KEYRING:
		return get_abs_path(P, "ceph_keyring", v, d->ceph_keyring,
				    sizeof(d->ceph_keyring));
	default:
		r = get_num(P, "rbd_timeout", v, 1, 3600, &x);
		if (!r)
			d->rbd_timeout = (uint32_t)x;
		return r;
	}
}

static int device_attr(struct parser *P, struct tdm_conf_device *d,
		       enum dattr id)
{
	struct tdm__stmt *S = &P->L.st;
	const char *v = S->w[1];
	const char *hname = tdm_handler_name(d->handler);
	size_t nd;
	uint64_t x;
	int r;

	switch (id) {
	case DA_FILENAME:
		if (d->handler == TDM_HANDLER_NULLIO ||
		    d->handler == TDM_HANDLER_RAM ||
		    d->handler == TDM_HANDLER_RBD)
			return perr(P, S->line,
				    "DEVICE %s: filename is not valid for %s",
				    d->name, hname);
		/* vcdrom: an empty filename is an empty drive */
		if (d->handler == TDM_HANDLER_CDROM && v[0] == '\0') {
			d->filename[0] = '\0';
			return 0;
		}
		if (v[0] != '/')
			return perr(P, S->line,
				    "DEVICE %s: filename must be an absolute "
				    "path, got '%s'",
				    d->name, tdm__conf_show(v));
		copy(d->filename, sizeof(d->filename), v);
		return 0;
	case DA_SIZE:
		if (strcmp(S->w[0], "size_mb") == 0) {
			r = get_num(P, "size_mb", v, 0, UINT64_MAX >> 20, &x);
			x <<= 20;
		} else {
			r = get_num(P, "size", v, 0, UINT64_MAX, &x);
		}
		if (r)
			return r;
		d->size = x;
		d->set_mask |= TDM_DA_SIZE;
		return 0;
	case DA_BLOCKSIZE:
		if (d->handler == TDM_HANDLER_CDROM) {
			/* MMC-6: CD/DVD logical blocks are 2048 bytes */
			if (strcmp(v, "2048") != 0)
				return perr(P, S->line,
					    "DEVICE %s: blocksize of %s is "
					    "2048, got %s",
					    d->name, hname, tdm__conf_show(v));
			d->blocksize = 2048;
			d->set_mask |= TDM_DA_BLOCKSIZE;
			return 0;
		}
		if (strcmp(v, "512") != 0 && strcmp(v, "4096") != 0)
			return perr(P, S->line,
				    "blocksize must be 512 or 4096, got %s",
				    tdm__conf_show(v));
		d->blocksize = v[0] == '5' ? 512 : 4096;
		d->set_mask |= TDM_DA_BLOCKSIZE;
		return 0;
	case DA_PHYS_BLOCKSIZE:
		if (d->handler == TDM_HANDLER_CDROM)
			return perr(
				P, S->line,
				"DEVICE %s: physical_blocksize is not valid "
				"for %s",
				d->name, hname);
		r = get_num(P, "physical_blocksize", v, 512, 1u << 27, &x);
		if (r)
			return r;
		if (x & (x - 1))
			return perr(P, S->line,
				    "DEVICE %s: physical_blocksize must be a "
				    "power of two, got %s",
				    d->name, tdm__conf_show(v));
		d->phys_blocksize = (uint32_t)x;
		d->set_mask |= TDM_DA_PHYS_BLOCKSIZE;
		return 0;
	case DA_READ_ONLY:
		return get_bool(P, "read_only", v, &d->read_only);
	case DA_NV_CACHE:
		return get_bool(P, "nv_cache", v, &d->nv_cache);
	case DA_WRITE_THROUGH:
		return get_bool(P, "write_through", v, &d->write_through);
	case DA_O_DIRECT:
		if (d->handler != TDM_HANDLER_FILEIO)
			return perr(P, S->line,
				    "DEVICE %s: o_direct is only valid for "
				    "vdisk_fileio",
				    d->name);
		return get_bool(P, "o_direct", v, &d->o_direct);
	case DA_THIN:
		return get_bool(P, "thin_provisioned", v, &d->thin_provisioned);
	case DA_ROTATIONAL:
		d->set_mask |= TDM_DA_ROTATIONAL;
		return get_bool(P, "rotational", v, &d->rotational);
	case DA_REMOVABLE:
		return get_bool(P, "removable", v, &d->removable);
	case DA_DEFERRED_OPEN:
		if (d->handler != TDM_HANDLER_FILEIO &&
		    d->handler != TDM_HANDLER_BLOCKIO)
			return perr(P, S->line,
				    "DEVICE %s: deferred_open is only valid "
				    "for vdisk_fileio and vdisk_blockio",
				    d->name);
		return get_bool(P, "deferred_open", v, &d->deferred_open);
	case DA_VEND:
		d->set_mask |= TDM_DA_VEND_ID;
		return get_ascii(P, "t10_vend_id", v, d->t10_vend_id, 8);
	case DA_PROD:
		d->set_mask |= TDM_DA_PROD_ID;
		return get_ascii(P, "prod_id", v, d->prod_id, 16);
	case DA_REV:
		d->set_mask |= TDM_DA_PROD_REV;
		return get_ascii(P, "prod_rev_lvl", v, d->prod_rev_lvl, 4);
	case DA_T10_DEV_ID:
		d->set_mask |= TDM_DA_T10_DEV_ID;
		return get_ascii(P, "t10_dev_id", v, d->t10_dev_id, 63);
	case DA_USN:
		d->set_mask |= TDM_DA_USN;
		return get_ascii(P, "usn", v, d->usn, 63);
	case DA_NAA:
		/* SPC-4 NAA designator: NAA 2, 3, 5 are 8 bytes, NAA 6 is 16 */
		if (!get_hex(v, d->naa_id, sizeof(d->naa_id), &nd) ||
		    (nd != 16 && nd != 32))
			return perr(
				P, S->line,
				"naa_id must be 16 or 32 hex digits, got '%s'",
				tdm__conf_show(v));
		if (nd == 16 && d->naa_id[0] != '2' && d->naa_id[0] != '3' &&
		    d->naa_id[0] != '5')
			return perr(P, S->line,
				    "naa_id: an 8-byte NAA identifier starts "
				    "with 2, 3 or 5 (the NAA type), got '%s'",
				    tdm__conf_show(v));
		if (nd == 32 && d->naa_id[0] != '6')
			return perr(P, S->line,
				    "naa_id: a 16-byte NAA identifier starts "
				    "with 6 (the NAA type), got '%s'",
				    tdm__conf_show(v));
		d->set_mask |= TDM_DA_NAA_ID;
		return 0;
	case DA_EUI64:
		/* SPC-4 EUI-64 based designator: 8, 12 or 16 bytes */
		if (!get_hex(v, d->eui64_id, sizeof(d->eui64_id), &nd) ||
		    (nd != 16 && nd != 24 && nd != 32))
			return perr(P, S->line,
				    "eui64_id must be 16, 24 or 32 hex digits, "
				    "got '%s'",
				    tdm__conf_show(v));
		d->set_mask |= TDM_DA_EUI64_ID;
		return 0;
	case DA_RBD_POOL:
	case DA_RBD_IMAGE:
	case DA_CEPH_CONF:
	case DA_CEPH_ID:
	case DA_CEPH_KEYRING:
	case DA_RBD_TIMEOUT:
		return rbd_attr(P, d, id);
	case DA__COUNT:
		break;
	}
	return 0;
}

static int parse_device(struct parser *P, enum tdm_handler h)
{
	struct tdm__stmt *S = &P->L.st;
	struct tdm_conf *c = P->c;
	struct tdm_conf_device *d;
	int seen[DA__COUNT] = {0};
	int r, open_line = S->line;
	bool in_block = S->end == TDM__T_LBRACE;

	d = open_named(P, N_DEVICE, "", "", &c->devices, &c->ndevices, &r);
	if (!d)
		return r;
	/* the handler's defaults; tdm_conf_device_init() zeroes the name */
	tdm_conf_device_init(d, h);
	copy(d->name, sizeof(d->name), S->w[1]);
	d->line = S->line;

	while (in_block) {
		size_t i;

		r = next_in_block(P, open_line);
		if (r < 0)
			return r;
		if (r == 1)
			break;
		for (i = 0; i < sizeof(dattrs) / sizeof(dattrs[0]); i++)
			if (strcmp(S->w[0], dattrs[i].name) == 0)
				break;
		if (i == sizeof(dattrs) / sizeof(dattrs[0]))
			return unknown(P, "DEVICE", d->name);
		r = one_value(P, "DEVICE", d->name);
		if (r)
			return r;
		if (seen[dattrs[i].id] && dattrs[i].id == DA_SIZE)
			return perr(P, S->line,
				    "DEVICE %s: size given twice (size or "
				    "size_mb, first at line %d)",
				    d->name, seen[DA_SIZE]);
		r = once(P, &seen[dattrs[i].id], "DEVICE", d->name);
		if (!r)
			r = device_attr(P, d, dattrs[i].id);
		if (r)
			return r;
	}

	if ((h == TDM_HANDLER_FILEIO || h == TDM_HANDLER_BLOCKIO) &&
	    d->filename[0] == '\0')
		return perr(P, d->line,
			    "DEVICE %s: filename is required for %s", d->name,
			    tdm_handler_name(h));
	if (h == TDM_HANDLER_RBD && (!d->rbd_pool[0] || !d->rbd_image[0]))
		return perr(P, d->line,
			    "DEVICE %s: pool and image are required for "
			    "vdisk_rbd",
			    d->name);
	if ((h == TDM_HANDLER_NULLIO || h == TDM_HANDLER_RAM) && d->size == 0)
		return perr(P, seen[DA_SIZE] ? seen[DA_SIZE] : d->line,
			    "DEVICE %s: size (or size_mb) greater than 0 is "
			    "required for %s",
			    d->name, tdm_handler_name(h));
	/* SBC-4 READ CAPACITY(16): LOGICAL BLOCKS PER PHYSICAL BLOCK
	 * EXPONENT is 4 bits wide */
	if (d->phys_blocksize && (d->phys_blocksize < d->blocksize ||
				  d->phys_blocksize > (d->blocksize << 15)))
		return perr(P, seen[DA_PHYS_BLOCKSIZE],
			    "DEVICE %s: physical_blocksize %u must be between "
			    "blocksize %u and 32768 times it",
			    d->name, d->phys_blocksize, d->blocksize);
	if (d->phys_blocksize == d->blocksize)
		d->phys_blocksize = 0;
	if (d->size % d->blocksize)
		return perr(P, seen[DA_SIZE],
			    "DEVICE %s: size %llu is not a multiple of "
			    "blocksize %u",
			    d->name, (unsigned long long)d->size, d->blocksize);
	return 0;
}

static int parse_handler(struct parser *P)
{
	struct tdm__stmt *S = &P->L.st;
	enum tdm_handler h;
	char hname[32];
	int r, open_line = S->line;

	if (S->n != 2)
		return perr(P, S->line, "HANDLER needs exactly one name");
	if (tdm_handler_from_name(S->w[1], &h))
		return perr(P, S->line,
			    "unknown handler '%s' (vdisk_fileio, "
			    "vdisk_blockio, vdisk_nullio, vdisk_rbd, vcdrom "
			    "or ram)",
			    tdm__conf_show(S->w[1]));
	copy(hname, sizeof(hname), S->w[1]);
	if (S->end != TDM__T_LBRACE)
		return 0;
	for (;;) {
		r = next_in_block(P, open_line);
		if (r < 0)
			return r;
		if (r == 1)
			return 0;
		if (strcmp(S->w[0], "DEVICE") != 0)
			return unknown(P, "HANDLER", hname);
		r = parse_device(P, h);
		if (r)
			return r;
	}
}

/* ---- targets ---- */

/* What an iSCSI TARGET (or TARGET_DRIVER iscsi) takes and the other
 * drivers refuse: its CHAP users, portals and iSCSI keys. */
static bool iscsi_only(const char *w, bool driver)
{
	return find_param(w) || strcmp(w, "IncomingUser") == 0 ||
	       strcmp(w, "OutgoingUser") == 0 ||
	       (!driver && strcmp(w, "allowed_portal") == 0) ||
	       (driver && strcmp(w, "max_pending_logins") == 0);
}

/*
 * What TARGET_DRIVER ib_srpt (and iscsi, for portal) takes and the
 * kernel's fabrics refuse, at the driver's level; and at a target's,
 * refuse_unmatched_initiators: a kernel fabric's endpoint has no login
 * to refuse (tcm_loop and ibmvscsis have one nexus each).
 */
static bool not_kernel(const char *w, bool driver)
{
	static const char *const srp_words[] = {
		"portal",      "srp_max_req_size", "srp_max_rsp_size",
		"srp_sq_size", "use_srq",
	};

	if (!driver)
		return strcmp(w, "refuse_unmatched_initiators") == 0;
	for (size_t i = 0; i < sizeof(srp_words) / sizeof(srp_words[0]); i++)
		if (strcmp(w, srp_words[i]) == 0)
			return true;
	return false;
}

/* "a" or "an" before a driver's name */
static const char *article(const char *name)
{
	return strchr("aeiou", name[0]) ? "an" : "a";
}

/* "ctx ctxname: W is not a(n) DRIVER attribute" */
static int not_attr(struct parser *P, const char *ctx, const char *ctxname,
		    enum tdm_target_driver drv)
{
	const char *dn = tdm_target_driver_name(drv);

	return perr(P, P->L.st.line, "%s %s: %s is not %s %s attribute", ctx,
		    ctxname, tdm__conf_show(P->L.st.w[0]), article(dn), dn);
}

/* Can character ch stand at position i of an SRP initiator port id,
 * "0x" and 32 hex digits? */
static bool srp_id_char(char ch, size_t i)
{
	if (i == 0)
		return ch == '0';
	if (i == 1)
		return ch == 'x' || ch == 'X';
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
	       (ch >= 'A' && ch <= 'F');
}

/*
 * Can the wildcard pattern p (without its '!') match an SRP initiator
 * port id? reach[j]: what was read of p can match the first j characters
 * of some id; O(strlen(p) * 35).
 */
static bool srp_pattern_ok(const char *p)
{
	enum { ID_LEN = 34 };
	bool reach[ID_LEN + 1] = {true}, next[ID_LEN + 1];

	for (; *p; p++) {
		memset(next, 0, sizeof(next));
		for (size_t j = 0; j <= ID_LEN; j++) {
			if (!reach[j])
				continue;
			if (*p == '*') {
				for (size_t k = j; k <= ID_LEN; k++)
					next[k] = true;
				break;
			}
			if (j < ID_LEN && (*p == '?' || srp_id_char(*p, j)))
				next[j + 1] = true;
		}
		memcpy(reach, next, sizeof(reach));
	}
	return reach[ID_LEN];
}

/*
 * INITIATOR pattern: one value, given once per group; a pattern without
 * '!' also once per target (in a later GROUP it could never take anyone:
 * the first matching group wins). Exclusions may repeat across groups.
 */
static int add_initiator(struct parser *P, struct tdm_conf_target *t,
			 struct tdm_conf_group *g)
{
	const char *pat = P->L.st.w[1], *why;
	size_t total = 0;
	int r;

	r = one_value(P, "GROUP", g->name);
	if (r)
		return r;
	why = bad_word(pat, TDM_NAME_MAX - 1);
	if (!why && t->driver == TDM_DRV_FC) {
		char norm[TDM_FC_NAME_LEN + 1];

		/* one initiator port each: tcm_qla2xxx's ACLs are per
		 * WWPN, without patterns */
		if (tdm_fc_port_name(pat, norm, sizeof(norm)))
			why = "a qla2x00t initiator is a WWPN, 8 groups of 2 "
			      "hex digits separated by ':' or 0x and 16 hex "
			      "digits";
		else
			memcpy(P->L.st.w[1], norm, sizeof(norm));
	}
	if (!why && t->driver == TDM_DRV_SRP) {
		if (!srp_pattern_ok(pat + (pat[0] == '!')))
			why = "an ib_srpt initiator is an SRP initiator port "
			      "id, 0x and 32 hex digits (* and ? allowed)";
		/* kept lowercase, as srp/ names initiators */
		for (char *q = P->L.st.w[1]; !why && *q; q++)
			if (*q >= 'A' && *q <= 'Z')
				*q = (char)(*q - 'A' + 'a');
	}
	if (why)
		return perr(P, P->L.st.line, "GROUP %s: bad INITIATOR '%s': %s",
			    g->name, tdm__conf_show(pat), why);
	for (size_t i = 0; i < t->ngroups; i++) {
		const struct tdm_conf_group *o = &t->groups[i];

		total += o->ninitiators;
		if (o != g && pat[0] == '!')
			continue;
		for (size_t j = 0; j < o->ninitiators; j++) {
			if (strcmp(o->initiators[j], pat) != 0)
				continue;
			return perr(
				P, P->L.st.line,
				"GROUP %s: INITIATOR %s is already in GROUP %s",
				g->name, pat, o->name);
		}
	}
	if (total >= LIST_MAX)
		return perr(P, P->L.st.line,
			    "TARGET %s: too many INITIATORs (at most %d)",
			    t->name, LIST_MAX);
	r = grow(P, &g->initiators, g->ninitiators, sizeof(*g->initiators),
		 LIST_MAX, "INITIATORs");
	if (r)
		return r;
	copy(g->initiators[g->ninitiators++], sizeof(*g->initiators), pat);
	return 0;
}

static int parse_group(struct parser *P, struct tdm_conf_target *t)
{
	struct tdm__stmt *S = &P->L.st;
	struct tdm_conf_group *g;
	struct lunset used;
	int r, open_line = S->line;
	bool in_block = S->end == TDM__T_LBRACE;

	g = open_named(P, N_GROUP, "TARGET", t->name, &t->groups, &t->ngroups,
		       &r);
	if (!g)
		return r;
	memset(&used, 0, sizeof(used));

	while (in_block) {
		r = next_in_block(P, open_line);
		if (r < 0)
			return r;
		if (r == 1)
			break;
		if (strcmp(S->w[0], "LUN") == 0) {
			r = parse_lun(P, "GROUP", g->name, &g->luns, &g->nluns,
				      &used);
		} else if (strcmp(S->w[0], "INITIATOR") == 0) {
			r = add_initiator(P, t, g);
		} else if (strcmp(S->w[0], "IncomingUser") == 0) {
			if (t->driver != TDM_DRV_ISCSI)
				return not_attr(
					P, "GROUP", g->name,
					(enum tdm_target_driver)t->driver);
			r = add_user(P, "GROUP", g->name, &g->in_users,
				     &g->nin_users);
		} else {
			return unknown(P, "GROUP", g->name);
		}
		if (r)
			return r;
	}
	return 0;
}

enum tattr {
	TA_ENABLED,
	TA_REL_TGT_ID,
	TA_OUT_USER,
	TA_REFUSE,
	TA_SESSION,
	TA__COUNT
};

/*
 * A TARGET's name under driver drv that another driver already has:
 * the error, else 0 (one under the same driver is open_named()'s
 * "duplicate TARGET").
 */
static int other_driver(struct parser *P, enum tdm_target_driver drv)
{
	const struct tdm__stmt *S = &P->L.st;
	const struct tdm_conf *c = P->c;

	if (S->n != 2 || kinds[target_kind(drv)].bad(S->w[1], TDM_NAME_MAX - 1))
		return 0;
	for (size_t i = 0; i < c->ntargets; i++) {
		const struct tdm_conf_target *o = &c->targets[i];

		if (o->driver != drv && strcmp(o->name, S->w[1]) == 0)
			return perr(P, S->line,
				    "duplicate TARGET %s (under TARGET_DRIVER "
				    "%s, first at line %d)",
				    o->name, tdm_target_driver_name(o->driver),
				    o->line);
	}
	return 0;
}

/* session_name S of a scst_local TARGET: the initiator name of its one
 * session, a word */
static int session_name(struct parser *P, struct tdm_conf_target *t, int *seen)
{
	const struct tdm__stmt *S = &P->L.st;
	const char *why;
	int r;

	if (t->driver != TDM_DRV_LOCAL)
		return perr(
			P, S->line,
			"TARGET %s: session_name is a scst_local attribute, "
			"not %s %s one",
			t->name, article(tdm_target_driver_name(t->driver)),
			tdm_target_driver_name(t->driver));
	r = one_value(P, "TARGET", t->name);
	if (!r)
		r = once(P, seen, "TARGET", t->name);
	if (r)
		return r;
	why = bad_word(S->w[1], sizeof(t->session_name) - 1);
	if (why)
		return perr(P, S->line, "TARGET %s: bad session_name '%s': %s",
			    t->name, tdm__conf_show(S->w[1]), why);
	copy(t->session_name, sizeof(t->session_name), S->w[1]);
	return 0;
}

static int parse_target(struct parser *P, enum tdm_target_driver drv)
{
	struct tdm__stmt *S = &P->L.st;
	struct tdm_conf *c = P->c;
	struct tdm_conf_target *t;
	struct lunset used;
	int seen[TA__COUNT] = {0}, pseen[NPARAMS] = {0};
	const char *why;
	uint64_t x;
	int r, open_line = S->line;
	bool in_block = S->end == TDM__T_LBRACE;
	bool kernel = TDM_DRV_IS_KERNEL(drv);

	if (S->n == 2)
		norm_target_name(drv, S->w[1]);
	r = other_driver(P, drv);
	if (r)
		return r;
	t = open_named(P, target_kind(drv), "", "", &c->targets, &c->ntargets,
		       &r);
	if (!t)
		return r;
	t->driver = (uint8_t)drv;
	/* SCST's scst_local targets have no switch: on unless "enabled 0" */
	t->enabled = kernel;
	memset(&used, 0, sizeof(used));
	tdm_conf_params_init(&t->params);

	while (in_block) {
		const char *w;

		r = next_in_block(P, open_line);
		if (r < 0)
			return r;
		if (r == 1)
			break;
		w = S->w[0];
		if ((drv != TDM_DRV_ISCSI && iscsi_only(w, false)) ||
		    (kernel && not_kernel(w, false)))
			return not_attr(P, "TARGET", t->name, drv);
		r = param_stmt(P, "TARGET", t->name, &t->params, pseen);
		if (r < 0)
			return r;
		if (r == 1)
			continue;
		if (strcmp(w, "LUN") == 0) {
			r = parse_lun(P, "TARGET", t->name, &t->luns, &t->nluns,
				      &used);
		} else if (strcmp(w, "GROUP") == 0) {
			r = parse_group(P, t);
		} else if (strcmp(w, "session_name") == 0) {
			r = session_name(P, t, &seen[TA_SESSION]);
		} else if (strcmp(w, "enabled") == 0) {
			r = one_value(P, "TARGET", t->name);
			if (!r)
				r = once(P, &seen[TA_ENABLED], "TARGET",
					 t->name);
			if (!r)
				r = get_bool(P, "enabled", S->w[1],
					     &t->enabled);
		} else if (strcmp(w, "rel_tgt_id") == 0) {
			r = one_value(P, "TARGET", t->name);
			if (!r)
				r = once(P, &seen[TA_REL_TGT_ID], "TARGET",
					 t->name);
			if (!r)
				r = get_num(P, "rel_tgt_id", S->w[1], 1, 65535,
					    &x);
			if (!r)
				t->rel_tgt_id = (uint16_t)x;
		} else if (strcmp(w, "refuse_unmatched_initiators") == 0) {
			r = one_value(P, "TARGET", t->name);
			if (!r)
				r = once(P, &seen[TA_REFUSE], "TARGET",
					 t->name);
			if (!r)
				r = get_bool(P, "refuse_unmatched_initiators",
					     S->w[1], &t->refuse_unmatched);
		} else if (strcmp(w, "IncomingUser") == 0) {
			r = add_user(P, "TARGET", t->name, &t->in_users,
				     &t->nin_users);
		} else if (strcmp(w, "OutgoingUser") == 0) {
			r = once(P, &seen[TA_OUT_USER], "TARGET", t->name);
			if (!r)
				r = get_user(P, "TARGET", t->name,
					     &t->out_user);
			t->has_out_user = true;
		} else if (strcmp(w, "allowed_portal") == 0) {
			r = one_value(P, "TARGET", t->name);
			if (r)
				return r;
			why = bad_word(S->w[1],
				       sizeof(*t->allowed_portals) - 1);
			if (why)
				return perr(P, S->line,
					    "TARGET %s: bad allowed_portal "
					    "'%s': %s",
					    t->name, tdm__conf_show(S->w[1]),
					    why);
			for (size_t i = 0; i < t->nallowed_portals; i++)
				if (strcmp(t->allowed_portals[i], S->w[1]) == 0)
					return perr(P, S->line,
						    "TARGET %s: allowed_portal "
						    "%s given twice",
						    t->name, S->w[1]);
			r = grow(P, &t->allowed_portals, t->nallowed_portals,
				 sizeof(*t->allowed_portals), LIST_MAX,
				 "allowed_portals");
			if (r)
				return r;
			copy(t->allowed_portals[t->nallowed_portals],
			     sizeof(*t->allowed_portals), S->w[1]);
			t->nallowed_portals++;
		} else {
			return unknown(P, "TARGET", t->name);
		}
		if (r)
			return r;
	}
	return 0;
}

/*
 * portal addr[:port] of TARGET_DRIVER drv: normalised (norm_portal),
 * once, appended to (*portals)[*n].
 */
static int add_portal(struct parser *P, enum tdm_target_driver drv,
		      char (**portals)[80], size_t *n)
{
	struct tdm__stmt *S = &P->L.st;
	char norm[sizeof(**portals)];
	const char *why;
	int r;

	r = one_value(P, "TARGET_DRIVER", tdm_target_driver_name(drv));
	if (r)
		return r;
	why = norm_portal(S->w[1], norm, sizeof(norm),
			  drv == TDM_DRV_SRP ? TDM_SRP_DEF_PORT : ISCSI_PORT);
	if (why)
		return perr(P, S->line, "portal '%s': %s",
			    tdm__conf_show(S->w[1]), why);
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*portals)[i], norm) == 0)
			return perr(P, S->line, "portal %s given twice", norm);
	r = grow(P, portals, *n, sizeof(**portals), LIST_MAX, "portals");
	if (r)
		return r;
	memcpy((*portals)[(*n)++], norm, sizeof(norm));
	return 0;
}

enum srpattr { SR_ENABLED, SR_MAX_REQ, SR_MAX_RSP, SR_SQ, SR_SRQ, SR__COUNT };

/* ib_srpt's numbers: SCST's module parameters, LIO's limits */
static const struct {
	const char *name;
	enum srpattr id;
	uint32_t min, max;
	size_t off;
} srp_nums[] = {
#define SO(f) offsetof(struct tdm_conf_srp, f)
	{"srp_max_req_size", SR_MAX_REQ, TDM_SRP_MIN_MAX_REQ,
	 TDM_SRP_MAX_MAX_REQ, SO(max_req_size)},
	{"srp_max_rsp_size", SR_MAX_RSP, TDM_SRP_MIN_MAX_RSP,
	 TDM_SRP_MAX_MAX_RSP, SO(max_rsp_size)},
	{"srp_sq_size", SR_SQ, TDM_SRP_MIN_SQ, TDM_SRP_MAX_SQ, SO(sq_size)},
#undef SO
};

/* TARGET_DRIVER ib_srpt { ... }: the SRP target over RDMA/CM (srp/) */
static int parse_srp_driver(struct parser *P)
{
	struct tdm__stmt *S = &P->L.st;
	struct tdm_conf_srp *srp = &P->c->srp;
	int seen[SR__COUNT] = {0};
	int r, open_line = S->line;
	bool in_block = S->end == TDM__T_LBRACE;

	if (srp->driver_line)
		return perr(
			P, S->line,
			"TARGET_DRIVER ib_srpt given twice (first at line %d)",
			srp->driver_line);
	srp->driver_line = S->line;

	while (in_block) {
		const char *w;
		size_t i;

		r = next_in_block(P, open_line);
		if (r < 0)
			return r;
		if (r == 1)
			break;
		w = S->w[0];
		for (i = 0; i < sizeof(srp_nums) / sizeof(srp_nums[0]); i++)
			if (strcmp(w, srp_nums[i].name) == 0)
				break;
		if (i < sizeof(srp_nums) / sizeof(srp_nums[0])) {
			uint64_t x;
			uint32_t v;

			r = one_value(P, "TARGET_DRIVER", "ib_srpt");
			if (!r)
				r = once(P, &seen[srp_nums[i].id],
					 "TARGET_DRIVER", "ib_srpt");
			if (!r)
				r = get_num(P, w, S->w[1], srp_nums[i].min,
					    srp_nums[i].max, &x);
			if (r)
				return r;
			v = (uint32_t)x;
			memcpy((char *)srp + srp_nums[i].off, &v, sizeof(v));
			continue;
		}
		if (iscsi_only(w, true))
			return not_attr(P, "TARGET_DRIVER", "ib_srpt",
					TDM_DRV_SRP);
		if (strcmp(w, "TARGET") == 0) {
			r = parse_target(P, TDM_DRV_SRP);
		} else if (strcmp(w, "enabled") == 0) {
			r = one_value(P, "TARGET_DRIVER", "ib_srpt");
			if (!r)
				r = once(P, &seen[SR_ENABLED], "TARGET_DRIVER",
					 "ib_srpt");
			if (!r)
				r = get_bool(P, "enabled", S->w[1],
					     &srp->enabled);
		} else if (strcmp(w, "portal") == 0) {
			r = add_portal(P, TDM_DRV_SRP, &srp->portals,
				       &srp->nportals);
		} else if (strcmp(w, "use_srq") == 0) {
			bool srq = false;

			/* SCST's shared receive queue: not implemented */
			r = one_value(P, "TARGET_DRIVER", "ib_srpt");
			if (!r)
				r = once(P, &seen[SR_SRQ], "TARGET_DRIVER",
					 "ib_srpt");
			if (!r)
				r = get_bool(P, "use_srq", S->w[1], &srq);
			if (!r && srq)
				r = perr(P, S->line,
					 "TARGET_DRIVER ib_srpt: use_srq 1 is "
					 "not supported");
		} else {
			return unknown(P, "TARGET_DRIVER", "ib_srpt");
		}
		if (r)
			return r;
	}
	return 0;
}

/*
 * TARGET_DRIVER scst_local, ibmvstgt (or ibmvscsis) and qla2x00t: the
 * kernel's fabrics (kernel/), TARGETs and enabled.
 */
static int parse_kernel_driver(struct parser *P, enum tdm_target_driver drv)
{
	struct tdm__stmt *S = &P->L.st;
	struct tdm_conf_kdrv *k = &P->c->kdrv[drv - TDM_DRV_LOCAL];
	const char *dn = tdm_target_driver_name(drv);
	int r, seen = 0, open_line = S->line;
	bool in_block = S->end == TDM__T_LBRACE;

	if (k->driver_line) {
		if (strcmp(S->w[1], dn) != 0) /* the alias */
			return perr(P, S->line,
				    "TARGET_DRIVER %s (%s) given twice (first "
				    "at line %d)",
				    tdm__conf_show(S->w[1]), dn,
				    k->driver_line);
		return perr(P, S->line,
			    "TARGET_DRIVER %s given twice (first at line %d)",
			    dn, k->driver_line);
	}
	k->driver_line = S->line;

	while (in_block) {
		const char *w;
		bool on = true;

		r = next_in_block(P, open_line);
		if (r < 0)
			return r;
		if (r == 1)
			break;
		w = S->w[0];
		if (iscsi_only(w, true) || not_kernel(w, true))
			return not_attr(P, "TARGET_DRIVER", dn, drv);
		if (strcmp(w, "TARGET") == 0) {
			r = parse_target(P, drv);
		} else if (strcmp(w, "enabled") == 0) {
			r = one_value(P, "TARGET_DRIVER", dn);
			if (!r)
				r = once(P, &seen, "TARGET_DRIVER", dn);
			if (!r)
				r = get_bool(P, "enabled", S->w[1], &on);
			k->disabled = !on;
		} else {
			return unknown(P, "TARGET_DRIVER", dn);
		}
		if (r)
			return r;
	}
	return 0;
}

enum drattr { DR_ENABLED, DR_OUT_USER, DR_MAX_PENDING, DR__COUNT };

static int parse_driver(struct parser *P)
{
	struct tdm__stmt *S = &P->L.st;
	struct tdm_conf *c = P->c;
	int seen[DR__COUNT] = {0}, pseen[NPARAMS] = {0};
	int r, open_line = S->line;
	bool in_block = S->end == TDM__T_LBRACE;

	enum tdm_target_driver drv;

	if (S->n != 2)
		return perr(P, S->line, "TARGET_DRIVER needs exactly one name");
	if (tdm_target_driver_from_name(S->w[1], &drv) < 0)
		return perr(P, S->line,
			    "unknown target driver '%s' (iscsi, ib_srpt, "
			    "scst_local, ibmvstgt or qla2x00t)",
			    tdm__conf_show(S->w[1]));
	if (drv == TDM_DRV_SRP)
		return parse_srp_driver(P);
	if (TDM_DRV_IS_KERNEL(drv))
		return parse_kernel_driver(P, drv);
	if (P->driver_line)
		return perr(
			P, S->line,
			"TARGET_DRIVER iscsi given twice (first at line %d)",
			P->driver_line);
	P->driver_line = S->line;

	while (in_block) {
		const char *w;

		r = next_in_block(P, open_line);
		if (r < 0)
			return r;
		if (r == 1)
			break;
		w = S->w[0];
		r = param_stmt(P, "TARGET_DRIVER", "iscsi", &c->params, pseen);
		if (r < 0)
			return r;
		if (r == 1)
			continue;
		if (strcmp(w, "TARGET") == 0) {
			r = parse_target(P, TDM_DRV_ISCSI);
		} else if (strcmp(w, "enabled") == 0) {
			r = one_value(P, "TARGET_DRIVER", "iscsi");
			if (!r)
				r = once(P, &seen[DR_ENABLED], "TARGET_DRIVER",
					 "iscsi");
			if (!r)
				r = get_bool(P, "enabled", S->w[1],
					     &c->iscsi_enabled);
		} else if (strcmp(w, "max_pending_logins") == 0) {
			uint64_t x;

			r = one_value(P, "TARGET_DRIVER", "iscsi");
			if (!r)
				r = once(P, &seen[DR_MAX_PENDING],
					 "TARGET_DRIVER", "iscsi");
			if (!r)
				r = get_num(P, "max_pending_logins", S->w[1], 1,
					    65536, &x);
			if (!r)
				c->max_pending_logins = (uint32_t)x;
		} else if (strcmp(w, "IncomingUser") == 0) {
			r = add_user(P, "TARGET_DRIVER", "iscsi",
				     &c->discovery_in_users,
				     &c->ndiscovery_in_users);
		} else if (strcmp(w, "OutgoingUser") == 0) {
			r = once(P, &seen[DR_OUT_USER], "TARGET_DRIVER",
				 "iscsi");
			if (!r)
				r = get_user(P, "TARGET_DRIVER", "iscsi",
					     &c->discovery_out_user);
			c->has_discovery_out_user = true;
		} else if (strcmp(w, "portal") == 0) {
			r = add_portal(P, TDM_DRV_ISCSI, &c->portals,
				       &c->nportals);
		} else {
			return unknown(P, "TARGET_DRIVER", "iscsi");
		}
		if (r)
			return r;
	}
	/* here, where the lines are known (tdm_conf_validate checks it too) */
	if (c->params.first_burst_length && c->params.max_burst_length &&
	    c->params.first_burst_length > c->params.max_burst_length) {
		const struct pdesc *f = find_param("FirstBurstLength");
		const struct pdesc *m = find_param("MaxBurstLength");
		int lf = pseen[f - ptab], lm = pseen[m - ptab];

		return perr(P, lf > lm ? lf : lm,
			    "TARGET_DRIVER iscsi: FirstBurstLength %u is "
			    "greater than MaxBurstLength %u",
			    c->params.first_burst_length,
			    c->params.max_burst_length);
	}
	return 0;
}

/* ---- ALUA: DEVICE_GROUP (alua/README.md) ----
 *
 * DEVICE_GROUP dg { DEVICE d; TARGET_GROUP tg { group_id n; preferred
 * 0|1; state s; TARGET t [{ rel_tgt_id n }] } }, as SCST writes it.
 * Cross references are checked by tdm_alua_conf_validate().
 */
static int parse_tg_port(struct parser *P, struct tdm_conf_tgrp *g)
{
	struct tdm__stmt *S = &P->L.st;
	struct tdm_conf_tg_port *t;
	int r, seen = 0, open_line = S->line;
	bool in_block = S->end == TDM__T_LBRACE;
	uint64_t v;

	/* an ib_srpt target's port GID, as its TARGET keeps it (unit
	 * addresses and WWPNs: norm_tg_ports(), once the targets are
	 * known) */
	if (S->n == 2)
		norm_target_name(TDM_DRV_SRP, S->w[1]);
	t = open_named(P, N_TG_PORT, "TARGET_GROUP", g->name, &g->ports,
		       &g->nports, &r);
	if (!t)
		return r;
	while (in_block) {
		r = next_in_block(P, open_line);
		if (r < 0)
			return r;
		if (r == 1)
			break;
		if (strcmp(S->w[0], "rel_tgt_id") != 0)
			return unknown(P, "TARGET", t->name);
		r = one_value(P, "TARGET", t->name);
		if (!r)
			r = once(P, &seen, "TARGET", t->name);
		/* SPC-4 7.8.6.7: relative target port 0 is reserved */
		if (!r)
			r = get_num(P, "rel_tgt_id", S->w[1], 1, 65535, &v);
		if (r)
			return r;
		t->rel_tgt_id = (uint16_t)v;
	}
	return 0;
}

static int parse_tgrp(struct parser *P, struct tdm_conf_dgrp *d)
{
	struct tdm__stmt *S = &P->L.st;
	struct tdm_conf_tgrp *g;
	int r, open_line = S->line, seen[3] = {0};
	bool in_block = S->end == TDM__T_LBRACE;
	uint64_t v;

	g = open_named(P, N_TGRP, "DEVICE_GROUP", d->name, &d->tgrps,
		       &d->ntgrps, &r);
	if (!g)
		return r;
	g->state = TDM_ALUA_AO; /* SCST's default */
	while (in_block) {
		r = next_in_block(P, open_line);
		if (r < 0)
			return r;
		if (r == 1)
			break;
		if (strcmp(S->w[0], "TARGET") == 0) {
			r = parse_tg_port(P, g);
		} else if (strcmp(S->w[0], "group_id") == 0) {
			r = one_value(P, "TARGET_GROUP", g->name);
			if (!r)
				r = once(P, &seen[0], "TARGET_GROUP", g->name);
			/* SPC-4 7.8.6.8: TARGET PORT GROUP, 16 bits */
			if (!r)
				r = get_num(P, "group_id", S->w[1], 1, 65535,
					    &v);
			if (!r)
				g->group_id = (uint16_t)v;
		} else if (strcmp(S->w[0], "preferred") == 0) {
			r = one_value(P, "TARGET_GROUP", g->name);
			if (!r)
				r = once(P, &seen[1], "TARGET_GROUP", g->name);
			if (!r)
				r = get_bool(P, "preferred", S->w[1],
					     &g->preferred);
		} else if (strcmp(S->w[0], "state") == 0) {
			r = one_value(P, "TARGET_GROUP", g->name);
			if (!r)
				r = once(P, &seen[2], "TARGET_GROUP", g->name);
			if (!r &&
			    tdm_alua_state_from_name(S->w[1], &g->state) < 0)
				r = perr(P, S->line,
					 "TARGET_GROUP %s: bad state '%s' "
					 "(active, nonoptimized, standby, "
					 "unavailable, offline or "
					 "transitioning)",
					 g->name, tdm__conf_show(S->w[1]));
		} else {
			return unknown(P, "TARGET_GROUP", g->name);
		}
		if (r)
			return r;
	}
	if (!g->group_id)
		return perr(P, g->line,
			    "TARGET_GROUP %s: group_id (1..65535) is required",
			    g->name);
	return 0;
}

static int parse_dgrp(struct parser *P)
{
	struct tdm__stmt *S = &P->L.st;
	struct tdm_conf *c = P->c;
	struct tdm_conf_dgrp *d;
	int r, open_line = S->line;
	bool in_block = S->end == TDM__T_LBRACE;

	d = open_named(P, N_DGRP, "", "", &c->dgrps, &c->ndgrps, &r);
	if (!d)
		return r;
	while (in_block) {
		r = next_in_block(P, open_line);
		if (r < 0)
			return r;
		if (r == 1)
			break;
		if (strcmp(S->w[0], "DEVICE") == 0) {
			struct tdm_conf_dg_dev *v;

			r = one_value(P, "DEVICE_GROUP", d->name);
			if (!r && bad_ident(S->w[1], sizeof(v->name) - 1))
				r = perr(P, S->line,
					 "DEVICE_GROUP %s: bad DEVICE name "
					 "'%s'",
					 d->name, tdm__conf_show(S->w[1]));
			if (!r)
				r = grow(P, &d->devices, d->ndevices,
					 sizeof(*v), DEVICES_MAX, "DEVICEs");
			if (r)
				return r;
			v = &d->devices[d->ndevices++];
			copy(v->name, sizeof(v->name), S->w[1]);
			v->line = S->line;
		} else if (strcmp(S->w[0], "TARGET_GROUP") == 0) {
			r = parse_tgrp(P, d);
			if (r)
				return r;
		} else {
			return unknown(P, "DEVICE_GROUP", d->name);
		}
	}
	return 0;
}

/*
 * metrics_listen addr:port (top level, node-local): where tandemd serves
 * its metrics and status page (targetd/metrics.c); none: not served.
 */
static int parse_metrics_listen(struct parser *P)
{
	struct tdm__stmt *S = &P->L.st;
	char norm[sizeof(P->c->metrics_listen)];
	const char *why;

	if (S->end == TDM__T_LBRACE)
		return perr(P, S->line, "unexpected '{' after metrics_listen");
	if (S->n != 2)
		return perr(P, S->line,
			    "metrics_listen takes one value, got %d", S->n - 1);
	if (P->c->metrics_listen[0])
		return perr(P, S->line, "metrics_listen given twice");
	why = norm_portal(S->w[1], norm, sizeof(norm), 0);
	if (!why && strcmp(strrchr(norm, ':'), ":0") == 0)
		why = "a port is needed (addr:port, [v6addr]:port)";
	if (why)
		return perr(P, S->line, "metrics_listen '%s': %s",
			    tdm__conf_show(S->w[1]), why);
	memcpy(P->c->metrics_listen, norm, sizeof(norm));
	return 0;
}

static int parse_top(struct parser *P)
{
	struct tdm__stmt *S = &P->L.st;

	for (;;) {
		int r = tdm__lex_stmt(&P->L);

		if (r)
			return r;
		if (S->n == 0) {
			if (S->end == TDM__T_EOF)
				return 0;
			return perr(P, S->line, "unexpected '%c'",
				    S->end == TDM__T_RBRACE ? '}' : '{');
		}
		if (strcmp(S->w[0], "HANDLER") == 0)
			r = parse_handler(P);
		else if (strcmp(S->w[0], "TARGET_DRIVER") == 0)
			r = parse_driver(P);
		else if (strcmp(S->w[0], "DEVICE_GROUP") == 0) /* alua/ */
			r = parse_dgrp(P);
		else if (strcmp(S->w[0], "metrics_listen") == 0)
			r = parse_metrics_listen(P);
		else if (strcmp(S->w[0], "DEVICE") == 0 ||
			 strcmp(S->w[0], "TARGET") == 0 ||
			 strcmp(S->w[0], "LUN") == 0 ||
			 strcmp(S->w[0], "GROUP") == 0 ||
			 strcmp(S->w[0], "TARGET_GROUP") == 0 ||
			 strcmp(S->w[0], "INITIATOR") == 0)
			r = perr(P, S->line, "%s outside of its block",
				 S->w[0]);
		else
			r = unknown(P, "", "");
		if (r)
			return r;
	}
}

/*
 * The iSCSI targets first, then the ib_srpt ones, then scst_local's,
 * ibmvstgt's and qla2x00t's, each in the order of the text: the order the
 * writer gives them back in (one block per driver), and so the order in
 * which targets without rel_tgt_id are numbered, whichever block came
 * first.
 */
static int order_targets(struct tdm_conf *c)
{
	struct tdm_conf_target *v;
	size_t o = 0;

	if (c->ntargets < 2)
		return 0;
	v = malloc(c->ntargets * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (unsigned d = TDM_DRV_ISCSI; d <= TDM_DRV_FC; d++)
		for (size_t i = 0; i < c->ntargets; i++)
			if (c->targets[i].driver == d)
				v[o++] = c->targets[i];
	memcpy(c->targets, v, o * sizeof(*v));
	free(v);
	return 0;
}

/* one TARGET_GROUP TARGET's name (norm_tg_ports()) */
static void norm_tg_port(const struct tdm_conf *c, char *name)
{
	char vio[TDM_VIO_NAME_LEN + 1], fc[TDM_FC_NAME_LEN + 1];
	bool v, f;

	for (size_t i = 0; i < c->ntargets; i++)
		if (strcmp(c->targets[i].name, name) == 0)
			return;
	v = tdm_vio_target_name(name, vio, sizeof(vio)) == 0;
	f = tdm_fc_port_name(name, fc, sizeof(fc)) == 0;
	for (size_t i = 0; i < c->ntargets; i++) {
		const struct tdm_conf_target *t = &c->targets[i];

		if (v && t->driver == TDM_DRV_VIO && strcmp(t->name, vio) == 0)
			memcpy(name, vio, sizeof(vio));
		else if (f && t->driver == TDM_DRV_FC &&
			 strcmp(t->name, fc) == 0)
			memcpy(name, fc, sizeof(fc));
		else
			continue;
		return;
	}
}

/*
 * A TARGET_GROUP's TARGET that names no target as it is written, but an
 * ibmvstgt or qla2x00t target in another form ("0x30000003",
 * "0x21000024FF314C48"), takes that target's name. Only then: a port of
 * another head may have any name.
 */
static void norm_tg_ports(struct tdm_conf *c)
{
	for (size_t d = 0; d < c->ndgrps; d++)
		for (size_t g = 0; g < c->dgrps[d].ntgrps; g++) {
			struct tdm_conf_tgrp *tg = &c->dgrps[d].tgrps[g];

			for (size_t p = 0; p < tg->nports; p++)
				norm_tg_port(c, tg->ports[p].name);
		}
}

int tdm_conf_parse(const char *text, size_t len, const char *name,
		   struct tdm_conf *out, char *err, size_t errlen)
{
	struct parser *P;
	struct tdm_conf c;
	int r;

	if (err && errlen)
		err[0] = '\0';
	if (!name)
		name = "<config>";
	tdm_conf_init(out);
	tdm_conf_init(&c);
	P = calloc(1, sizeof(*P));
	if (!P) {
		if (err && errlen)
			snprintf(err, errlen, "%s: out of memory", name);
		return -ENOMEM;
	}
	P->c = &c;
	if (!text && len == 0)
		text = "";
	if (text) {
		tdm__lex_init(&P->L, text, len, name, err, errlen);
		r = parse_top(P);
	} else {
		r = tdm__conf_err(err, errlen, name, 0, "no text");
	}
	free(P);
	if (!r && order_targets(&c) < 0)
		r = tdm__conf_err(err, errlen, name, 0, "out of memory");
	if (!r)
		norm_tg_ports(&c);
	if (!r)
		r = tdm_conf_validate(&c, name, err, errlen);
	if (r) {
		tdm_conf_free(&c);
		return r;
	}
	*out = c;
	return 0;
}

static void ferr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void ferr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int tdm_conf_parse_file(const char *path, struct tdm_conf *out, char *err,
			size_t errlen)
{
	struct stat st;
	char *buf;
	size_t len = 0;
	int fd, r;

	tdm_conf_init(out);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		ferr(err, errlen, "%s: %s", path, strerror(-r));
		return r;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		ferr(err, errlen, "%s: %s", path, strerror(-r));
		close(fd);
		return r;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > (off_t)FILE_MAX) {
		ferr(err, errlen, "%s: %s", path,
		     S_ISREG(st.st_mode) ? "file too large (over 16 MiB)"
					 : "not a regular file");
		close(fd);
		return -EINVAL;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		ferr(err, errlen, "%s: out of memory", path);
		close(fd);
		return -ENOMEM;
	}
	/* read up to one byte more than stat said, to see a growing file */
	for (;;) {
		ssize_t n = read(fd, buf + len, (size_t)st.st_size + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			ferr(err, errlen, "%s: %s", path, strerror(-r));
			free(buf);
			close(fd);
			return r;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > (size_t)st.st_size) {
			ferr(err, errlen, "%s: file changed while being read",
			     path);
			free(buf);
			close(fd);
			return -EAGAIN;
		}
	}
	close(fd);
	r = tdm_conf_parse(buf, len, path, out, err, errlen);
	free(buf);
	return r;
}
