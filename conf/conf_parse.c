/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * conf_parse.c - read scst.conf syntax into struct tdm_conf, and check a
 * configuration's cross references (tdm_conf_validate).
 *
 * A small lexer (words, "quoted strings", '{', '}', newlines, '#'
 * comments) feeds a recursive-descent parser whose depth is fixed by the
 * grammar: HANDLER > DEVICE, TARGET_DRIVER > TARGET > GROUP > LUN. The
 * first error stops the parse and is reported as "file:line: problem".
 * Unknown keywords and attributes are errors, never ignored.
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
#include "tandem/config.h"

#define TOK_MAX 4096  /* longest word + NUL: a 4095-byte path */
#define STMT_WORDS 4  /* words in one statement, at most */
#define LUN_MAX 16383 /* flat space addressing: 14 bits (SAM-5) */
#define LIST_MAX 4096 /* entries of one repeatable attribute */
#define DEVICES_MAX 16384
#define TARGETS_MAX 4096
#define FILE_MAX (16u << 20) /* a configuration file, bytes */
#define ISCSI_PORT 3260	     /* IANA: iscsi-target */

enum tok { T_WORD, T_NL, T_LBRACE, T_RBRACE, T_EOF };

struct stmt {
	int line;     /* of its first token */
	int n;	      /* words */
	enum tok end; /* T_NL, T_LBRACE, or (n == 0) T_RBRACE / T_EOF */
	char w[STMT_WORDS][TOK_MAX];
};

struct parser {
	const char *p, *end;
	int line;
	const char *name;
	char *err;
	size_t errlen;
	bool has_pending; /* a '}' or EOF read past the end of a statement */
	enum tok pending;
	int pending_line;
	int driver_line; /* of TARGET_DRIVER iscsi, 0 if none yet */
	struct tdm_conf *c;
	struct stmt st;
};

/* ---- messages ---- */

static int verr(char *err, size_t errlen, const char *name, int line,
		const char *fmt, va_list ap)
	__attribute__((format(printf, 5, 0)));

static int verr(char *err, size_t errlen, const char *name, int line,
		const char *fmt, va_list ap)
{
	int n;

	if (!err || errlen == 0)
		return -EINVAL;
	if (line > 0)
		n = snprintf(err, errlen, "%s:%d: ", name, line);
	else
		n = snprintf(err, errlen, "%s: ", name);
	if (n >= 0 && (size_t)n < errlen)
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	return -EINVAL;
}

static int perr(struct parser *P, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int perr(struct parser *P, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr(P->err, P->errlen, P->name, line, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/*
 * A word as it can be shown in a message: at most 60 bytes, anything but
 * printable ASCII as \xNN. Two buffers per thread, so that two words can
 * appear in one message.
 */
static const char *show(const char *s)
{
	static _Thread_local char bufs[2][256];
	static _Thread_local unsigned which;
	char *b = bufs[which++ & 1];
	size_t o = 0, i;

	for (i = 0; s[i] && i < 60; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch >= 0x20 && ch < 0x7f)
			b[o++] = (char)ch;
		else
			o += (size_t)snprintf(b + o, 8, "\\x%02x", ch);
	}
	if (s[i])
		o += (size_t)snprintf(b + o, 8, "...");
	b[o] = '\0';
	return b;
}

/* Copy a string whose length was checked; never overruns dst. */
static void copy(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* ---- lexer ---- */

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\f' ||
	       ch == '\v';
}

static bool is_ctrl(unsigned char ch)
{
	return ch < 0x20 || ch == 0x7f;
}

/* The line to blame for something found at the end of the text. */
static int eof_line(const struct parser *P)
{
	if (P->line > 1 && P->end[-1] == '\n')
		return P->line - 1;
	return P->line;
}

static int lex_quoted(struct parser *P, char *buf)
{
	size_t o = 0;

	P->p++; /* the opening quote */
	for (;;) {
		char ch;

		if (P->p == P->end || *P->p == '\n')
			return perr(P, P->line, "unterminated quoted string");
		ch = *P->p++;
		if (ch == '"')
			break;
		if (ch == '\\' && P->p < P->end &&
		    (*P->p == '"' || *P->p == '\\'))
			ch = *P->p++;
		else if (is_ctrl((unsigned char)ch))
			return perr(P, P->line,
				    "non-printable character 0x%02x in a "
				    "quoted string",
				    (unsigned char)ch);
		if (o == TOK_MAX - 1)
			return perr(P, P->line, "value longer than %d bytes",
				    TOK_MAX - 1);
		buf[o++] = ch;
	}
	buf[o] = '\0';
	if (P->p < P->end && !is_space(*P->p) && *P->p != '\n' &&
	    *P->p != '#' && *P->p != '{' && *P->p != '}')
		return perr(P, P->line,
			    "unexpected character after a closing quote");
	return 0;
}

static int lex_word(struct parser *P, char *buf)
{
	size_t o = 0;

	while (P->p < P->end) {
		char ch = *P->p;

		if (is_space(ch) || ch == '\n' || ch == '#' || ch == '{' ||
		    ch == '}')
			break;
		if (ch == '"')
			return perr(P, P->line,
				    "unexpected '\"' inside a word (quote the "
				    "whole value)");
		if (is_ctrl((unsigned char)ch))
			return perr(P, P->line,
				    "non-printable character 0x%02x",
				    (unsigned char)ch);
		if (o == TOK_MAX - 1)
			return perr(P, P->line, "value longer than %d bytes",
				    TOK_MAX - 1);
		buf[o++] = ch;
		P->p++;
	}
	buf[o] = '\0';
	return 0;
}

/* Next token; a word goes to buf. *line is where the token starts. */
static int lex(struct parser *P, char *buf, enum tok *t, int *line)
{
	for (;;) {
		*line = P->line;
		if (P->p == P->end) {
			*line = eof_line(P);
			*t = T_EOF;
			return 0;
		}
		switch (*P->p) {
		case '\n':
			P->p++;
			P->line++;
			*t = T_NL;
			return 0;
		case '#':
			while (P->p < P->end && *P->p != '\n')
				P->p++;
			continue;
		case '{':
			P->p++;
			*t = T_LBRACE;
			return 0;
		case '}':
			P->p++;
			*t = T_RBRACE;
			return 0;
		case '"':
			*t = T_WORD;
			return lex_quoted(P, buf);
		default:
			if (is_space(*P->p)) {
				P->p++;
				continue;
			}
			*t = T_WORD;
			return lex_word(P, buf);
		}
	}
}

/*
 * Read one statement: the words up to a newline or '{' (consumed) or a
 * '}' / end of text (left for the next call, which returns it alone).
 * Empty lines are skipped.
 */
static int read_stmt(struct parser *P)
{
	struct stmt *S = &P->st;
	char scratch[TOK_MAX];

	S->n = 0;
	for (;;) {
		enum tok t;
		int line, r;

		if (P->has_pending) {
			P->has_pending = false;
			t = P->pending;
			line = P->pending_line;
		} else {
			char *buf = S->n < STMT_WORDS ? S->w[S->n] : scratch;

			r = lex(P, buf, &t, &line);
			if (r)
				return r;
		}
		if (S->n == 0)
			S->line = line;
		switch (t) {
		case T_WORD:
			if (S->n == STMT_WORDS)
				return perr(P, line,
					    "too many values after '%s'",
					    show(S->w[0]));
			if (S->w[S->n][0] == '\0')
				return perr(P, line, "empty value");
			S->n++;
			continue;
		case T_NL:
			if (S->n == 0)
				continue;
			S->end = T_NL;
			return 0;
		case T_LBRACE:
			S->end = T_LBRACE;
			return 0;
		case T_RBRACE:
		case T_EOF:
			if (S->n == 0) {
				S->end = t;
				return 0;
			}
			P->has_pending = true;
			P->pending = t;
			P->pending_line = line;
			S->end = T_NL;
			return 0;
		}
	}
}

/*
 * The next statement of a block opened at open_line: 1 when the block
 * closes, 0 for a statement, or an error.
 */
static int next_in_block(struct parser *P, int open_line)
{
	struct stmt *S = &P->st;
	int r = read_stmt(P);

	if (r)
		return r;
	if (S->n > 0)
		return 0;
	if (S->end == T_RBRACE)
		return 1;
	if (S->end == T_EOF)
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
		return perr(P, P->st.line,
			    "%s must be a number in %llu..%llu, got '%s'", what,
			    (unsigned long long)min, (unsigned long long)max,
			    show(s));
	return 0;
}

static int get_bool(struct parser *P, const char *what, const char *s, bool *v)
{
	if (strcmp(s, "0") == 0 || strcmp(s, "1") == 0) {
		*v = s[0] == '1';
		return 0;
	}
	return perr(P, P->st.line, "%s must be 0 or 1, got '%s'", what,
		    show(s));
}

/* Printable ASCII (SPC-4 4.3.1: INQUIRY ASCII data fields), 1..max. */
static int get_ascii(struct parser *P, const char *what, const char *s,
		     char *dst, size_t max)
{
	size_t n = strlen(s);

	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return perr(P, P->st.line,
				    "%s: non-printable character 0x%02x", what,
				    (unsigned char)s[i]);
	if (n > max)
		return perr(P, P->st.line,
			    "%s is longer than %zu characters: '%s'", what, max,
			    show(s));
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

/* RFC 7143 4.2.7: "iqn.", "eui." or "naa." names, at most 223 bytes. */
static const char *bad_iscsi_name(const char *s)
{
	if (strncasecmp(s, "iqn.", 4) != 0 && strncasecmp(s, "eui.", 4) != 0 &&
	    strncasecmp(s, "naa.", 4) != 0)
		return "an iSCSI name starts with iqn., eui. or naa.";
	return bad_ident(s, TDM_NAME_MAX - 1);
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
 * "addr", "addr:port", "[v6addr]", "[v6addr]:port" or a bare IPv6
 * address; numeric only. Written back as "a.b.c.d:port" or
 * "[v6%zone]:port" (port 3260 by default).
 */
static const char *norm_portal(const char *in, char *out, size_t outlen)
{
	char addr[80], zone[20] = "";
	const char *start = in, *port = NULL, *p;
	unsigned char bin[16];
	char canon[INET6_ADDRSTRLEN];
	uint64_t portnum = ISCSI_PORT;
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
 * a capacity field in the public structs.
 */
static int grow(struct parser *P, void *arrp, size_t n, size_t sz, size_t max,
		const char *what)
{
	void **arr = arrp;
	size_t cap;
	void *q;

	if (n >= max)
		return perr(P, P->st.line, "too many %s (at most %zu)", what,
			    max);
	if (n != 0 && (n < 4 || (n & (n - 1)) != 0))
		return 0;
	cap = n == 0 ? 4 : n * 2;
	q = realloc(*arr, cap * sz);
	if (!q) {
		perr(P, P->st.line, "out of memory");
		return -ENOMEM;
	}
	*arr = q;
	memset((char *)q + n * sz, 0, (cap - n) * sz);
	return 0;
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
	const char *w = P->st.w[0];
	static const char *const keywords[] = {
		"HANDLER", "DEVICE", "TARGET_DRIVER", "TARGET",
		"LUN",	   "GROUP",  "INITIATOR",
	};

	for (size_t i = 0; i < sizeof(scst_only) / sizeof(scst_only[0]); i++)
		if (strcmp(w, scst_only[i]) == 0)
			return perr(P, P->st.line,
				    "%s%s%s%sunknown %s '%s' (an SCST feature "
				    "tandem does not support)",
				    ctx, *ctx ? " " : "", ctxname,
				    *ctx ? ": " : "",
				    *ctx ? "attribute" : "keyword", w);
	for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
		if (strcasecmp(w, keywords[i]) == 0)
			return perr(P, P->st.line,
				    "%s%s%s%sunknown keyword '%s' (keywords "
				    "are case-sensitive: %s)",
				    ctx, *ctx ? " " : "", ctxname,
				    *ctx ? ": " : "", show(w), keywords[i]);
	if (!*ctx)
		return perr(P, P->st.line,
			    "unknown keyword '%s' (expected HANDLER, "
			    "TARGET_DRIVER or DEVICE_GROUP)",
			    show(w));
	return perr(P, P->st.line, "%s %s: unknown attribute '%s'", ctx,
		    ctxname, show(w));
}

/* Statement must be "name value" with no block. */
static int one_value(struct parser *P, const char *ctx, const char *ctxname)
{
	struct stmt *S = &P->st;

	if (S->end == T_LBRACE)
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
		return perr(P, P->st.line,
			    "%s %s: %s given twice (first at line %d)", ctx,
			    ctxname, P->st.w[0], *seen);
	*seen = P->st.line;
	return 0;
}

/* ---- CHAP users ---- */

/*
 * IncomingUser "user secret" (SCST) or IncomingUser user secret.
 */
static int get_user(struct parser *P, const char *ctx, const char *ctxname,
		    struct tdm_conf_user *u)
{
	struct stmt *S = &P->st;
	char tmp[TOK_MAX];
	const char *name, *secret, *why;
	char *sp;

	if (S->end == T_LBRACE)
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
			return perr(P, P->st.line, "%s %s: %s '%s' given twice",
				    ctx, ctxname, P->st.w[0], show(u.name));
	r = grow(P, users, *n, sizeof(u), LIST_MAX, P->st.w[0]);
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
	struct stmt *S = &P->st;
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
				    d->name, show(v));
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
				    show(v));
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
	uint8_t bits[(LUN_MAX + 1) / 8];
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
	struct stmt *S = &P->st;
	struct tdm_conf_lun *l;
	const char *why;
	uint64_t num;
	int r, open_line, seen_ro = 0;

	if (S->n != 3)
		return perr(P, S->line,
			    "%s %s: LUN needs a number and a device name", ctx,
			    ctxname);
	if (!parse_u64(S->w[1], &num) || num > LUN_MAX)
		return perr(P, S->line,
			    "%s %s: LUN number must be 0..%d, got '%s'", ctx,
			    ctxname, LUN_MAX, show(S->w[1]));
	why = bad_ident(S->w[2], sizeof(l->device) - 1);
	if (why)
		return perr(P, S->line,
			    "%s %s: LUN %llu: bad device name '%s': %s", ctx,
			    ctxname, (unsigned long long)num, show(S->w[2]),
			    why);
	if (!lunset_add(used, num)) {
		int first = 0;

		for (size_t i = 0; i < *nluns && !first; i++)
			if ((*luns)[i].lun == num)
				first = (*luns)[i].line;
		return perr(P, S->line,
			    "%s %s: duplicate LUN %llu (first at line %d)", ctx,
			    ctxname, (unsigned long long)num, first);
	}
	r = grow(P, luns, *nluns, sizeof(**luns), LUN_MAX + 1, "LUNs");
	if (r)
		return r;
	l = &(*luns)[(*nluns)++];
	memset(l, 0, sizeof(*l));
	l->lun = num;
	copy(l->device, sizeof(l->device), S->w[2]);
	l->line = S->line;
	if (S->end != T_LBRACE)
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
	DA_VEND,
	DA_PROD,
	DA_PHYS_BLOCKSIZE,
	DA_REV,
	DA_T10_DEV_ID,
	DA_USN,
	DA_NAA,
	DA_EUI64,
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
	{"t10_vend_id", DA_VEND},
	{"prod_id", DA_PROD},
	{"prod_rev_lvl", DA_REV},
	{"t10_dev_id", DA_T10_DEV_ID},
	{"usn", DA_USN},
	{"naa_id", DA_NAA},
	{"eui64_id", DA_EUI64},
};

static int device_attr(struct parser *P, struct tdm_conf_device *d,
		       enum dattr id)
{
	struct stmt *S = &P->st;
	const char *v = S->w[1];
	const char *hname = tdm_handler_name(d->handler);
	size_t nd;
	uint64_t x;
	int r;

	switch (id) {
	case DA_FILENAME:
		if (d->handler == TDM_HANDLER_NULLIO ||
		    d->handler == TDM_HANDLER_RAM)
			return perr(P, S->line,
				    "DEVICE %s: filename is not valid for %s",
				    d->name, hname);
		/* vdisk_cdrom: an empty filename is an empty drive */
		if (d->handler == TDM_HANDLER_CDROM && v[0] == '\0') {
			d->filename[0] = '\0';
			return 0;
		}
		if (v[0] != '/')
			return perr(P, S->line,
				    "DEVICE %s: filename must be an absolute "
				    "path, got '%s'",
				    d->name, show(v));
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
					    "DEVICE %s: blocksize of "
					    "vdisk_cdrom is 2048, got %s",
					    d->name, show(v));
			d->blocksize = 2048;
			d->set_mask |= TDM_DA_BLOCKSIZE;
			return 0;
		}
		if (strcmp(v, "512") != 0 && strcmp(v, "4096") != 0)
			return perr(P, S->line,
				    "blocksize must be 512 or 4096, got %s",
				    show(v));
		d->blocksize = v[0] == '5' ? 512 : 4096;
		d->set_mask |= TDM_DA_BLOCKSIZE;
		return 0;
	case DA_PHYS_BLOCKSIZE:
		if (d->handler == TDM_HANDLER_CDROM)
			return perr(
				P, S->line,
				"DEVICE %s: physical_blocksize is not valid "
				"for vdisk_cdrom",
				d->name);
		r = get_num(P, "physical_blocksize", v, 512, 1u << 27, &x);
		if (r)
			return r;
		if (x & (x - 1))
			return perr(P, S->line,
				    "DEVICE %s: physical_blocksize must be a "
				    "power of two, got %s",
				    d->name, show(v));
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
				show(v));
		if (nd == 16 && d->naa_id[0] != '2' && d->naa_id[0] != '3' &&
		    d->naa_id[0] != '5')
			return perr(P, S->line,
				    "naa_id: an 8-byte NAA identifier starts "
				    "with 2, 3 or 5 (the NAA type), got '%s'",
				    show(v));
		if (nd == 32 && d->naa_id[0] != '6')
			return perr(P, S->line,
				    "naa_id: a 16-byte NAA identifier starts "
				    "with 6 (the NAA type), got '%s'",
				    show(v));
		d->set_mask |= TDM_DA_NAA_ID;
		return 0;
	case DA_EUI64:
		/* SPC-4 EUI-64 based designator: 8, 12 or 16 bytes */
		if (!get_hex(v, d->eui64_id, sizeof(d->eui64_id), &nd) ||
		    (nd != 16 && nd != 24 && nd != 32))
			return perr(P, S->line,
				    "eui64_id must be 16, 24 or 32 hex digits, "
				    "got '%s'",
				    show(v));
		d->set_mask |= TDM_DA_EUI64_ID;
		return 0;
	case DA__COUNT:
		break;
	}
	return 0;
}

static int parse_device(struct parser *P, enum tdm_handler h)
{
	struct stmt *S = &P->st;
	struct tdm_conf *c = P->c;
	struct tdm_conf_device *d;
	int seen[DA__COUNT] = {0};
	const char *why;
	int r, open_line = S->line;
	bool in_block = S->end == T_LBRACE;

	if (S->n != 2)
		return perr(P, S->line, "DEVICE needs exactly one name");
	why = bad_ident(S->w[1], sizeof(d->name) - 1);
	if (why)
		return perr(P, S->line, "bad DEVICE name '%s': %s",
			    show(S->w[1]), why);
	/* duplicate names: tdm_conf_validate(), in O(n log n) */
	r = grow(P, &c->devices, c->ndevices, sizeof(*d), DEVICES_MAX,
		 "devices");
	if (r)
		return r;
	d = &c->devices[c->ndevices++];
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
	struct stmt *S = &P->st;
	enum tdm_handler h;
	char hname[32];
	int r, open_line = S->line;

	if (S->n != 2)
		return perr(P, S->line, "HANDLER needs exactly one name");
	if (tdm_handler_from_name(S->w[1], &h))
		return perr(P, S->line,
			    "unknown handler '%s' (vdisk_fileio, "
			    "vdisk_blockio, vdisk_nullio, vdisk_cdrom or ram)",
			    show(S->w[1]));
	copy(hname, sizeof(hname), S->w[1]);
	if (S->end != T_LBRACE)
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

/*
 * INITIATOR pattern: one value, given once per group; a pattern without
 * '!' also once per target (in a later GROUP it could never take anyone:
 * the first matching group wins). Exclusions may repeat across groups.
 */
static int add_initiator(struct parser *P, struct tdm_conf_target *t,
			 struct tdm_conf_group *g)
{
	const char *pat = P->st.w[1], *why;
	size_t total = 0;
	int r;

	r = one_value(P, "GROUP", g->name);
	if (r)
		return r;
	why = bad_word(pat, TDM_NAME_MAX - 1);
	if (why)
		return perr(P, P->st.line, "GROUP %s: bad INITIATOR '%s': %s",
			    g->name, show(pat), why);
	for (size_t i = 0; i < t->ngroups; i++) {
		const struct tdm_conf_group *o = &t->groups[i];

		total += o->ninitiators;
		if (o != g && pat[0] == '!')
			continue;
		for (size_t j = 0; j < o->ninitiators; j++) {
			if (strcmp(o->initiators[j], pat) != 0)
				continue;
			return perr(
				P, P->st.line,
				"GROUP %s: INITIATOR %s is already in GROUP %s",
				g->name, pat, o->name);
		}
	}
	if (total >= LIST_MAX)
		return perr(P, P->st.line,
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
	struct stmt *S = &P->st;
	struct tdm_conf_group *g;
	struct lunset used;
	const char *why;
	int r, open_line = S->line;
	bool in_block = S->end == T_LBRACE;

	if (S->n != 2)
		return perr(P, S->line,
			    "TARGET %s: GROUP needs exactly one name", t->name);
	why = bad_ident(S->w[1], sizeof(g->name) - 1);
	if (why)
		return perr(P, S->line, "TARGET %s: bad GROUP name '%s': %s",
			    t->name, show(S->w[1]), why);
	for (size_t i = 0; i < t->ngroups; i++)
		if (strcmp(t->groups[i].name, S->w[1]) == 0)
			return perr(P, S->line,
				    "TARGET %s: duplicate GROUP %s (first at "
				    "line %d)",
				    t->name, S->w[1], t->groups[i].line);
	r = grow(P, &t->groups, t->ngroups, sizeof(*g), LIST_MAX, "GROUPs");
	if (r)
		return r;
	g = &t->groups[t->ngroups++];
	memset(g, 0, sizeof(*g));
	memset(&used, 0, sizeof(used));
	copy(g->name, sizeof(g->name), S->w[1]);
	g->line = S->line;

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

enum tattr { TA_ENABLED, TA_REL_TGT_ID, TA_OUT_USER, TA_REFUSE, TA__COUNT };

static int parse_target(struct parser *P)
{
	struct stmt *S = &P->st;
	struct tdm_conf *c = P->c;
	struct tdm_conf_target *t;
	struct lunset used;
	int seen[TA__COUNT] = {0}, pseen[NPARAMS] = {0};
	const char *why;
	uint64_t x;
	int r, open_line = S->line;
	bool in_block = S->end == T_LBRACE;

	if (S->n != 2)
		return perr(P, S->line, "TARGET needs exactly one name");
	why = bad_iscsi_name(S->w[1]);
	if (why)
		return perr(P, S->line, "bad TARGET name '%s': %s",
			    show(S->w[1]), why);
	for (size_t i = 0; i < c->ntargets; i++)
		if (strcmp(c->targets[i].name, S->w[1]) == 0)
			return perr(P, S->line,
				    "duplicate TARGET %s (first at line %d)",
				    S->w[1], c->targets[i].line);
	r = grow(P, &c->targets, c->ntargets, sizeof(*t), TARGETS_MAX,
		 "targets");
	if (r)
		return r;
	t = &c->targets[c->ntargets++];
	memset(t, 0, sizeof(*t));
	memset(&used, 0, sizeof(used));
	tdm_conf_params_init(&t->params);
	copy(t->name, sizeof(t->name), S->w[1]);
	t->line = S->line;

	while (in_block) {
		const char *w;

		r = next_in_block(P, open_line);
		if (r < 0)
			return r;
		if (r == 1)
			break;
		w = S->w[0];
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
					    t->name, show(S->w[1]), why);
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

enum drattr { DR_ENABLED, DR_OUT_USER, DR_MAX_PENDING, DR__COUNT };

static int parse_driver(struct parser *P)
{
	struct stmt *S = &P->st;
	struct tdm_conf *c = P->c;
	int seen[DR__COUNT] = {0}, pseen[NPARAMS] = {0};
	int r, open_line = S->line;
	bool in_block = S->end == T_LBRACE;

	if (S->n != 2)
		return perr(P, S->line, "TARGET_DRIVER needs exactly one name");
	if (strcmp(S->w[1], "iscsi") != 0)
		return perr(P, S->line,
			    "unknown target driver '%s' (only iscsi)",
			    show(S->w[1]));
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
			r = parse_target(P);
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
			char norm[sizeof(*c->portals)];
			const char *why;

			r = one_value(P, "TARGET_DRIVER", "iscsi");
			if (r)
				return r;
			why = norm_portal(S->w[1], norm, sizeof(norm));
			if (why)
				return perr(P, S->line, "portal '%s': %s",
					    show(S->w[1]), why);
			for (size_t i = 0; i < c->nportals; i++)
				if (strcmp(c->portals[i], norm) == 0)
					return perr(P, S->line,
						    "portal %s given twice",
						    norm);
			r = grow(P, &c->portals, c->nportals,
				 sizeof(*c->portals), LIST_MAX, "portals");
			if (r)
				return r;
			memcpy(c->portals[c->nportals++], norm, sizeof(norm));
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
#define DGRPS_MAX 4096

static int parse_tg_port(struct parser *P, struct tdm_conf_tgrp *g)
{
	struct stmt *S = &P->st;
	struct tdm_conf_tg_port *t;
	const char *why;
	int r, seen = 0, open_line = S->line;
	bool in_block = S->end == T_LBRACE;
	uint64_t v;

	if (S->n != 2)
		return perr(P, S->line,
			    "TARGET_GROUP %s: TARGET needs exactly one name",
			    g->name);
	why = bad_word(S->w[1], TDM_NAME_MAX - 1);
	if (why)
		return perr(P, S->line,
			    "TARGET_GROUP %s: bad TARGET name '%s': %s",
			    g->name, show(S->w[1]), why);
	for (size_t i = 0; i < g->nports; i++)
		if (strcmp(g->ports[i].name, S->w[1]) == 0)
			return perr(P, S->line,
				    "TARGET_GROUP %s: duplicate TARGET %s "
				    "(first at line %d)",
				    g->name, S->w[1], g->ports[i].line);
	r = grow(P, &g->ports, g->nports, sizeof(*t), LIST_MAX, "TARGETs");
	if (r)
		return r;
	t = &g->ports[g->nports++];
	memset(t, 0, sizeof(*t));
	copy(t->name, sizeof(t->name), S->w[1]);
	t->line = S->line;
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
	struct stmt *S = &P->st;
	struct tdm_conf_tgrp *g;
	const char *why;
	int r, open_line = S->line, seen[3] = {0};
	bool in_block = S->end == T_LBRACE;
	uint64_t v;

	if (S->n != 2)
		return perr(P, S->line,
			    "DEVICE_GROUP %s: TARGET_GROUP needs exactly one "
			    "name",
			    d->name);
	why = bad_ident(S->w[1], sizeof(g->name) - 1);
	if (why)
		return perr(P, S->line,
			    "DEVICE_GROUP %s: bad TARGET_GROUP name '%s': %s",
			    d->name, show(S->w[1]), why);
	r = grow(P, &d->tgrps, d->ntgrps, sizeof(*g), LIST_MAX,
		 "TARGET_GROUPs");
	if (r)
		return r;
	g = &d->tgrps[d->ntgrps++];
	memset(g, 0, sizeof(*g));
	copy(g->name, sizeof(g->name), S->w[1]);
	g->line = S->line;
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
					 g->name, show(S->w[1]));
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
	struct stmt *S = &P->st;
	struct tdm_conf *c = P->c;
	struct tdm_conf_dgrp *d;
	const char *why;
	int r, open_line = S->line;
	bool in_block = S->end == T_LBRACE;

	if (S->n != 2)
		return perr(P, S->line, "DEVICE_GROUP needs exactly one name");
	why = bad_ident(S->w[1], sizeof(d->name) - 1);
	if (why)
		return perr(P, S->line, "bad DEVICE_GROUP name '%s': %s",
			    show(S->w[1]), why);
	r = grow(P, &c->dgrps, c->ndgrps, sizeof(*d), DGRPS_MAX,
		 "DEVICE_GROUPs");
	if (r)
		return r;
	d = &c->dgrps[c->ndgrps++];
	memset(d, 0, sizeof(*d));
	copy(d->name, sizeof(d->name), S->w[1]);
	d->line = S->line;
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
					 d->name, show(S->w[1]));
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

static int parse_top(struct parser *P)
{
	struct stmt *S = &P->st;

	for (;;) {
		int r = read_stmt(P);

		if (r)
			return r;
		if (S->n == 0) {
			if (S->end == T_EOF)
				return 0;
			return perr(P, S->line, "unexpected '%c'",
				    S->end == T_RBRACE ? '}' : '{');
		}
		if (strcmp(S->w[0], "HANDLER") == 0)
			r = parse_handler(P);
		else if (strcmp(S->w[0], "TARGET_DRIVER") == 0)
			r = parse_driver(P);
		else if (strcmp(S->w[0], "DEVICE_GROUP") == 0) /* alua/ */
			r = parse_dgrp(P);
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
	P->line = 1;
	P->name = name;
	P->err = err;
	P->errlen = errlen;
	P->c = &c;
	if (!text && len == 0)
		text = "";
	P->p = text;
	P->end = text ? text + len : NULL;
	r = text ? parse_top(P) : perr(P, 0, "no text");
	free(P);
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

/* ---- validation ---- */

static int vfail(char *err, size_t errlen, const char *name, int line,
		 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int vfail(char *err, size_t errlen, const char *name, int line,
		 const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr(err, errlen, name, line, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

struct key {
	const char *s;
	size_t idx;
};

static int key_cmp(const void *a, const void *b)
{
	const struct key *x = a, *y = b;
	int d = strcmp(x->s, y->s);

	if (d)
		return d;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int key_find(const void *k, const void *e)
{
	return strcmp(k, ((const struct key *)e)->s);
}

/*
 * Sort n names (stride bytes apart, each at most max bytes); *dup_at is
 * the earliest index whose name an earlier one already has (n if none)
 * and *dup_first that earlier index.
 */
static int sort_names(const void *base, size_t n, size_t stride, size_t max,
		      struct key **out, size_t *dup_at, size_t *dup_first)
{
	struct key *k;

	*out = NULL;
	*dup_at = n;
	*dup_first = 0;
	if (n == 0)
		return 0;
	k = calloc(n, sizeof(*k));
	if (!k)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		k[i].s = (const char *)base + i * stride;
		if (strnlen(k[i].s, max) == max) {
			free(k);
			return -EINVAL;
		}
		k[i].idx = i;
	}
	qsort(k, n, sizeof(*k), key_cmp);
	for (size_t i = 1, run = 0; i < n; i++) {
		if (strcmp(k[i - 1].s, k[i].s) != 0) {
			run = i; /* a run of equal names starts here */
			continue;
		}
		if (k[i].idx < *dup_at) {
			*dup_at = k[i].idx;
			*dup_first = k[run].idx;
		}
	}
	*out = k;
	return 0;
}

static int check_luns(const struct tdm_conf *c, const char *name,
		      const struct key *devs, const char *where,
		      const struct tdm_conf_lun *luns, size_t n, char *err,
		      size_t errlen)
{
	uint8_t map[(LUN_MAX + 1) / 8];

	memset(map, 0, sizeof(map));
	for (size_t i = 0; i < n; i++) {
		const struct tdm_conf_lun *l = &luns[i];

		if (l->lun > LUN_MAX)
			return vfail(err, errlen, name, l->line,
				     "%s: LUN number must be 0..%d, got %llu",
				     where, LUN_MAX,
				     (unsigned long long)l->lun);
		if (map[l->lun / 8] & (1u << (l->lun % 8))) {
			int first = 0;

			for (size_t j = 0; j < i; j++)
				if (luns[j].lun == l->lun)
					first = luns[j].line;
			return vfail(
				err, errlen, name, l->line,
				"%s: duplicate LUN %llu (first at line %d)",
				where, (unsigned long long)l->lun, first);
		}
		map[l->lun / 8] |= (uint8_t)(1u << (l->lun % 8));
		if (strnlen(l->device, sizeof(l->device)) ==
			    sizeof(l->device) ||
		    !c->ndevices ||
		    !bsearch(l->device, devs, c->ndevices, sizeof(*devs),
			     key_find))
			return vfail(err, errlen, name, l->line,
				     "%s: LUN %llu: unknown device '%s'", where,
				     (unsigned long long)l->lun,
				     show(l->device));
	}
	return 0;
}

static int check_params(const struct tdm_conf_iscsi_params *p,
			const struct tdm_conf_iscsi_params *dflt,
			const char *name, int line, const char *where,
			char *err, size_t errlen)
{
	uint32_t first = p->first_burst_length, max = p->max_burst_length;

	if (dflt) {
		first = first ? first : dflt->first_burst_length;
		max = max ? max : dflt->max_burst_length;
	}
	/* RFC 7143 13.14: FirstBurstLength <= MaxBurstLength */
	if (first && max && first > max)
		return vfail(err, errlen, name, line,
			     "%s: FirstBurstLength %u is greater than "
			     "MaxBurstLength %u",
			     where, first, max);
	if (p->nop_in_disabled && p->nop_in_interval)
		return vfail(err, errlen, name, line,
			     "%s: NopInInterval is both disabled and %u", where,
			     p->nop_in_interval);
	return 0;
}

static int check_target(const struct tdm_conf *c,
			const struct tdm_conf_target *t, const struct key *devs,
			const char *name, char *err, size_t errlen)
{
	char where[TDM_NAME_MAX + 80];
	struct key *k;
	size_t at, first;
	int r;

	snprintf(where, sizeof(where), "TARGET %.*s", TDM_NAME_MAX - 1,
		 t->name);
	r = check_params(&t->params, &c->params, name, t->line, where, err,
			 errlen);
	if (!r)
		r = check_luns(c, name, devs, where, t->luns, t->nluns, err,
			       errlen);
	if (r)
		return r;
	r = sort_names(t->groups, t->ngroups, sizeof(*t->groups),
		       sizeof(t->groups->name), &k, &at, &first);
	free(k);
	if (r == -ENOMEM)
		return vfail(err, errlen, name, 0, "out of memory");
	if (r)
		return vfail(err, errlen, name, t->line,
			     "%s: a GROUP name is not terminated", where);
	if (at < t->ngroups)
		return vfail(err, errlen, name, t->groups[at].line,
			     "%s: duplicate GROUP %s (first at line %d)", where,
			     t->groups[at].name, t->groups[first].line);
	for (size_t i = 0; i < t->ngroups; i++) {
		const struct tdm_conf_group *g = &t->groups[i];

		snprintf(where, sizeof(where), "TARGET %.*s: GROUP %.*s",
			 TDM_NAME_MAX - 1, t->name, (int)sizeof(g->name) - 1,
			 g->name);
		r = check_luns(c, name, devs, where, g->luns, g->nluns, err,
			       errlen);
		if (r)
			return r;
	}
	return 0;
}

int tdm_conf_validate(const struct tdm_conf *c, const char *name, char *err,
		      size_t errlen)
{
	struct key *devs = NULL, *tg = NULL;
	size_t at, first;
	int r;

	if (!name)
		name = "<config>";
	r = sort_names(c->devices, c->ndevices, sizeof(*c->devices),
		       sizeof(c->devices->name), &devs, &at, &first);
	if (r) {
		if (r == -ENOMEM)
			return vfail(err, errlen, name, 0, "out of memory");
		return vfail(err, errlen, name, 0,
			     "a DEVICE name is not terminated");
	}
	if (at < c->ndevices) {
		r = vfail(err, errlen, name, c->devices[at].line,
			  "duplicate DEVICE %s (first at line %d)",
			  c->devices[at].name, c->devices[first].line);
		goto out;
	}
	for (size_t i = 0; i < c->ndevices; i++) {
		const struct tdm_conf_device *d = &c->devices[i];

		if (d->name[0] == '\0' ||
		    (d->blocksize != 512 && d->blocksize != 4096 &&
		     !(d->handler == TDM_HANDLER_CDROM &&
		       d->blocksize == 2048)) ||
		    (d->phys_blocksize &&
		     ((d->phys_blocksize & (d->phys_blocksize - 1)) ||
		      d->phys_blocksize <= d->blocksize ||
		      d->phys_blocksize > (d->blocksize << 15))) ||
		    (unsigned)d->handler >= TDM__HANDLER_COUNT) {
			r = vfail(err, errlen, name, d->line,
				  "DEVICE '%s': empty name, bad handler, "
				  "blocksize %u or physical_blocksize",
				  d->name, d->blocksize);
			goto out;
		}
	}
	r = check_params(&c->params, NULL, name, 0, "TARGET_DRIVER iscsi", err,
			 errlen);
	if (r)
		goto out;

	r = sort_names(c->targets, c->ntargets, sizeof(*c->targets),
		       sizeof(c->targets->name), &tg, &at, &first);
	if (r) {
		r = r == -ENOMEM ? vfail(err, errlen, name, 0, "out of memory")
				 : vfail(err, errlen, name, 0,
					 "a TARGET name is not terminated");
		goto out;
	}
	if (at < c->ntargets) {
		r = vfail(err, errlen, name, c->targets[at].line,
			  "duplicate TARGET %s (first at line %d)",
			  c->targets[at].name, c->targets[first].line);
		goto out;
	}
	for (size_t i = 0; i < c->ntargets; i++) {
		const struct tdm_conf_target *t = &c->targets[i];

		r = check_target(c, t, devs, name, err, errlen);
		if (r)
			goto out;
	}
	/* relative target port ids are unique (SPC-4 relative target port
	 * designator) */
	for (size_t i = 0; i < c->ntargets && !r; i++) {
		const struct tdm_conf_target *t = &c->targets[i];

		for (size_t j = 0; j < i && t->rel_tgt_id; j++)
			if (c->targets[j].rel_tgt_id == t->rel_tgt_id) {
				r = vfail(err, errlen, name, t->line,
					  "TARGET %s: rel_tgt_id %u is already "
					  "used by TARGET %s (line %d)",
					  t->name, t->rel_tgt_id,
					  c->targets[j].name,
					  c->targets[j].line);
				break;
			}
	}
	/* alua/: DEVICE_GROUP cross references */
	if (!r)
		r = tdm_alua_conf_validate(c, name, err, errlen);
out:
	free(devs);
	free(tg);
	return r;
}
