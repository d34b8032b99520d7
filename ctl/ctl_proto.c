/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ctl_proto.c - the control socket protocol: header lines, %XX words,
 * incremental framing, and the blocking client call tandemctl uses.
 * See ctl_proto.h for the grammar.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl/ctl_proto.h"

#define WORDS_MAX (2 + TDM_CTL_KV_MAX) /* "OK <n>" and the pairs */
#define CLIENT_TIMEOUT_S 300	       /* an APPLY may open many devices */

static const struct verb_desc {
	const char *name;
	unsigned min_args, max_args;
} verbs[TDM__CTL_VERB_COUNT] = {
	[TDM_CTL_STATUS] = {"STATUS", 0, 0},
	[TDM_CTL_GET_CONFIG] = {"GET-CONFIG", 0, 0},
	[TDM_CTL_APPLY] = {"APPLY", 2, 4},
	[TDM_CTL_RELOAD] = {"RELOAD", 0, 0},
	[TDM_CTL_SESSIONS] = {"SESSIONS", 0, 0},
	[TDM_CTL_CLOSE_SESSION] = {"CLOSE-SESSION", 1, 1},
	[TDM_CTL_STATS] = {"STATS", 0, 1},
	[TDM_CTL_EDIT] = {"EDIT", 1, 1},
	[TDM_CTL_BLACKBOX] = {"BLACKBOX", 0, 0},
	[TDM_CTL_ALUA] = {"ALUA", 0, 0},
	[TDM_CTL_ACTIVATE_TGRP] = {"ACTIVATE-TGRP", 2, 2},
	[TDM_CTL_SET_TGRP_STATE] = {"SET-TGRP-STATE", 3, 4},
};

const char *tdm_ctl_verb_name(enum tdm_ctl_verb v)
{
	if ((unsigned)v >= TDM__CTL_VERB_COUNT)
		return "?";
	return verbs[v].name;
}

static int fail(char *err, size_t errlen, int r, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int r, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return r;
}

/* ---- words ---- */

static bool is_wordch(unsigned char ch)
{
	return ch > 0x20 && ch < 0x7f;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

size_t tdm_ctl_encode(const char *in, char *out, size_t outlen)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0, written = 0;

	for (; *in; in++) {
		unsigned char ch = (unsigned char)*in;
		bool plain = is_wordch(ch) && ch != '%';
		size_t n = plain ? 1 : 3;

		/* whole escapes only: stop writing at the first misfit */
		if (written == o && o + n < outlen) {
			if (plain) {
				out[o] = (char)ch;
			} else {
				out[o] = '%';
				out[o + 1] = hex[ch >> 4];
				out[o + 2] = hex[ch & 15];
			}
			written += n;
		}
		o += n;
	}
	if (outlen)
		out[written] = '\0';
	return o;
}

int tdm_ctl_decode(const char *in, size_t inlen, char *out, size_t outlen)
{
	size_t o = 0;

	if (outlen == 0)
		return -ENAMETOOLONG;
	for (size_t i = 0; i < inlen; i++) {
		char ch = in[i];

		if (ch == '%') {
			int hi, lo;

			if (i + 2 >= inlen)
				return -EINVAL;
			hi = hexval(in[i + 1]);
			lo = hexval(in[i + 2]);
			if (hi < 0 || lo < 0 || (hi | lo) == 0)
				return -EINVAL;
			ch = (char)(hi << 4 | lo);
			i += 2;
		} else if (!is_wordch((unsigned char)ch)) {
			return -EINVAL;
		}
		if (o + 1 >= outlen)
			return -ENAMETOOLONG;
		out[o++] = ch;
	}
	out[o] = '\0';
	return (int)o;
}

struct word {
	const char *p;
	size_t n;
};

/* Split a header line into words separated by single spaces. */
static int split(const char *line, size_t len, struct word *w, size_t *nw,
		 const char *what, char *err, size_t errlen)
{
	size_t i = 0, n = 0;

	if (len == 0)
		return fail(err, errlen, -EINVAL, "empty %s line", what);
	if (len > TDM_CTL_LINE_MAX - 1)
		return fail(err, errlen, -EINVAL,
			    "%s line longer than %d "
			    "bytes",
			    what, TDM_CTL_LINE_MAX);
	while (i < len) {
		size_t start = i;

		while (i < len && line[i] != ' ') {
			unsigned char ch = (unsigned char)line[i];

			if (!is_wordch(ch))
				return fail(err, errlen, -EINVAL,
					    "%s line: "
					    "byte 0x%02x at offset %zu is not "
					    "allowed (printable ASCII only)",
					    what, ch, i);
			i++;
		}
		if (i == start)
			return fail(err, errlen, -EINVAL,
				    "%s line: empty word "
				    "at offset %zu (one space between "
				    "words)",
				    what, i);
		if (n == WORDS_MAX)
			return fail(err, errlen, -EINVAL,
				    "%s line: more than "
				    "%d words",
				    what, WORDS_MAX);
		w[n].p = line + start;
		w[n].n = i - start;
		n++;
		if (i < len) {
			i++; /* the space */
			if (i == len)
				return fail(err, errlen, -EINVAL,
					    "%s line ends "
					    "with a space",
					    what);
		}
	}
	*nw = n;
	return 0;
}

static bool word_is(const struct word *w, const char *s)
{
	return strlen(s) == w->n && memcmp(w->p, s, w->n) == 0;
}

/* Decimal, no sign, no leading zeros beyond "0", fits in max. */
static bool get_u64(const struct word *w, uint64_t max, uint64_t *v)
{
	uint64_t x = 0;

	if (w->n == 0 || w->n > 20 || (w->n > 1 && w->p[0] == '0'))
		return false;
	for (size_t i = 0; i < w->n; i++) {
		unsigned d = (unsigned)(w->p[i] - '0');

		if (d > 9 || x > (UINT64_MAX - d) / 10)
			return false;
		x = x * 10 + d;
	}
	if (x > max)
		return false;
	*v = x;
	return true;
}

/* Shown in messages: at most 40 bytes of a word (already printable). */
#define SHOW(w) (int)((w)->n > 40 ? 40 : (w)->n), (w)->p

/* ---- requests ---- */

int tdm_ctl_req_parse(const char *line, size_t len, struct tdm_ctl_req *req,
		      char *err, size_t errlen)
{
	struct word w[WORDS_MAX];
	size_t nw, nargs;
	uint64_t x;
	unsigned v;
	int r;

	memset(req, 0, sizeof(*req));
	r = split(line, len, w, &nw, "request", err, errlen);
	if (r)
		return r;
	for (v = 0; v < TDM__CTL_VERB_COUNT; v++)
		if (word_is(&w[0], verbs[v].name))
			break;
	if (v == TDM__CTL_VERB_COUNT)
		return fail(err, errlen, -EOPNOTSUPP,
			    "unknown request "
			    "'%.*s'",
			    SHOW(&w[0]));
	req->verb = (enum tdm_ctl_verb)v;
	nargs = nw - 1;
	if (nargs < verbs[v].min_args || nargs > verbs[v].max_args) {
		if (verbs[v].min_args == verbs[v].max_args)
			return fail(err, errlen, -EINVAL,
				    "%s takes %u "
				    "argument%s, got %zu",
				    verbs[v].name, verbs[v].min_args,
				    verbs[v].min_args == 1 ? "" : "s", nargs);
		return fail(err, errlen, -EINVAL,
			    "%s takes %u to %u "
			    "arguments, got %zu",
			    verbs[v].name, verbs[v].min_args, verbs[v].max_args,
			    nargs);
	}
	switch (req->verb) {
	case TDM_CTL_APPLY:
		if (!get_u64(&w[1], UINT64_MAX, &req->num))
			return fail(err, errlen, -EINVAL,
				    "APPLY: bad epoch "
				    "'%.*s'",
				    SHOW(&w[1]));
		if (!get_u64(&w[2], UINT64_MAX, &x))
			return fail(err, errlen, -EINVAL,
				    "APPLY: bad byte "
				    "count '%.*s'",
				    SHOW(&w[2]));
		if (x > TDM_CTL_PAYLOAD_MAX)
			return fail(err, errlen, -EMSGSIZE,
				    "APPLY: payload of "
				    "%llu bytes is over the limit of %u",
				    (unsigned long long)x, TDM_CTL_PAYLOAD_MAX);
		req->payload_len = (size_t)x;
		if (nw >= 4 && tdm_ctl_decode(w[3].p, w[3].n, req->name,
					      sizeof(req->name)) < 0)
			return fail(err, errlen, -EINVAL,
				    "APPLY: bad name "
				    "'%.*s' (bad %%XX escape or too long)",
				    SHOW(&w[3]));
		if (nw == 5 && !word_is(&w[4], "force"))
			return fail(err, errlen, -EINVAL,
				    "APPLY: '%.*s' after the name is not "
				    "'force'",
				    SHOW(&w[4]));
		req->force = nw == 5;
		break;
	case TDM_CTL_EDIT:
		if (!get_u64(&w[1], UINT64_MAX, &x))
			return fail(err, errlen, -EINVAL,
				    "EDIT: bad byte count '%.*s'", SHOW(&w[1]));
		if (x > TDM_CTL_PAYLOAD_MAX)
			return fail(err, errlen, -EMSGSIZE,
				    "EDIT: payload of %llu bytes is over the "
				    "limit of %u",
				    (unsigned long long)x, TDM_CTL_PAYLOAD_MAX);
		req->payload_len = (size_t)x;
		break;
	case TDM_CTL_CLOSE_SESSION:
		if (!get_u64(&w[1], UINT64_MAX, &req->num))
			return fail(err, errlen, -EINVAL,
				    "CLOSE-SESSION: bad "
				    "session id '%.*s'",
				    SHOW(&w[1]));
		break;
	case TDM_CTL_STATS:
		if (nw == 2 && tdm_ctl_decode(w[1].p, w[1].n, req->name,
					      sizeof(req->name)) < 0)
			return fail(err, errlen, -EINVAL,
				    "STATS: bad device "
				    "name '%.*s'",
				    SHOW(&w[1]));
		break;
	case TDM_CTL_ACTIVATE_TGRP:
	case TDM_CTL_SET_TGRP_STATE:
		if (tdm_ctl_decode(w[1].p, w[1].n, req->name,
				   sizeof(req->name)) <= 0 ||
		    tdm_ctl_decode(w[2].p, w[2].n, req->name2,
				   sizeof(req->name2)) <= 0)
			return fail(err, errlen, -EINVAL,
				    "%s: bad group name '%.*s' '%.*s'",
				    verbs[v].name, SHOW(&w[1]), SHOW(&w[2]));
		if (req->verb == TDM_CTL_ACTIVATE_TGRP)
			break;
		/* SPC-4 6.37, table 215: a 4-bit code */
		if (!get_u64(&w[3], 15, &req->num))
			return fail(err, errlen, -EINVAL,
				    "SET-TGRP-STATE: bad state '%.*s'",
				    SHOW(&w[3]));
		req->preferred = -1;
		if (nw == 5 && !get_u64(&w[4], 1, &x))
			return fail(err, errlen, -EINVAL,
				    "SET-TGRP-STATE: bad preferred bit '%.*s'",
				    SHOW(&w[4]));
		if (nw == 5)
			req->preferred = (int)x;
		break;
	default:
		break;
	}
	return 0;
}

/* Append s to buf at *o; false when it does not fit. */
static bool put(char *buf, size_t buflen, size_t *o, const char *s, size_t n)
{
	if (*o + n >= buflen)
		return false;
	memcpy(buf + *o, s, n);
	*o += n;
	buf[*o] = '\0';
	return true;
}

static bool put_num(char *buf, size_t buflen, size_t *o, uint64_t v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof(tmp), " %llu", (unsigned long long)v);

	return put(buf, buflen, o, tmp, (size_t)n);
}

static bool put_word(char *buf, size_t buflen, size_t *o, const char *s)
{
	size_t need = tdm_ctl_encode(s, NULL, 0);

	if (*o + 1 + need >= buflen)
		return false;
	buf[(*o)++] = ' ';
	tdm_ctl_encode(s, buf + *o, buflen - *o);
	*o += need;
	return true;
}

int tdm_ctl_req_format(const struct tdm_ctl_req *req, char *buf, size_t buflen)
{
	size_t o = 0, max = buflen < TDM_CTL_LINE_MAX + 1
				    ? buflen
				    : TDM_CTL_LINE_MAX + 1;
	const char *vn;
	bool ok;

	if ((unsigned)req->verb >= TDM__CTL_VERB_COUNT)
		return -EINVAL;
	vn = verbs[req->verb].name;
	ok = put(buf, max, &o, vn, strlen(vn));
	switch (req->verb) {
	case TDM_CTL_APPLY:
		if (req->payload_len > TDM_CTL_PAYLOAD_MAX)
			return -EMSGSIZE;
		/* force follows a name: the name is optional */
		if (req->force && !req->name[0])
			return -EINVAL;
		ok = ok && put_num(buf, max, &o, req->num) &&
		     put_num(buf, max, &o, req->payload_len);
		if (req->name[0])
			ok = ok && put_word(buf, max, &o, req->name);
		if (req->force)
			ok = ok && put(buf, max, &o, " force", 6);
		break;
	case TDM_CTL_EDIT:
		if (req->payload_len > TDM_CTL_PAYLOAD_MAX)
			return -EMSGSIZE;
		ok = ok && put_num(buf, max, &o, req->payload_len);
		break;
	case TDM_CTL_CLOSE_SESSION:
		ok = ok && put_num(buf, max, &o, req->num);
		break;
	case TDM_CTL_STATS:
		if (req->name[0])
			ok = ok && put_word(buf, max, &o, req->name);
		break;
	case TDM_CTL_ACTIVATE_TGRP:
	case TDM_CTL_SET_TGRP_STATE:
		if (!req->name[0] || !req->name2[0])
			return -EINVAL;
		ok = ok && put_word(buf, max, &o, req->name) &&
		     put_word(buf, max, &o, req->name2);
		if (req->verb == TDM_CTL_ACTIVATE_TGRP)
			break;
		if (req->num > 15 || req->preferred > 1 || req->preferred < -1)
			return -EINVAL;
		ok = ok && put_num(buf, max, &o, req->num);
		if (req->preferred >= 0)
			ok = ok &&
			     put_num(buf, max, &o, (uint64_t)req->preferred);
		break;
	default:
		break;
	}
	ok = ok && put(buf, max, &o, "\n", 1);
	return ok ? (int)o : -ENAMETOOLONG;
}

/* ---- responses ---- */

void tdm_ctl_rsp_init(struct tdm_ctl_rsp *rsp, int status)
{
	rsp->status = status;
	rsp->payload_len = 0;
	rsp->nkv = 0;
}

static bool good_key(const char *k, size_t n)
{
	if (n == 0 || n >= TDM_CTL_KEY_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((k[i] >= 'a' && k[i] <= 'z') ||
		      (k[i] >= '0' && k[i] <= '9') || k[i] == '_'))
			return false;
	return true;
}

int tdm_ctl_rsp_add(struct tdm_ctl_rsp *rsp, const char *key, const char *fmt,
		    ...)
{
	struct tdm_ctl_kv *kv;
	va_list ap;
	int n;

	if (!good_key(key, strlen(key)))
		return -EINVAL;
	if (rsp->nkv == TDM_CTL_KV_MAX)
		return -ENOSPC;
	kv = &rsp->kv[rsp->nkv];
	snprintf(kv->key, sizeof(kv->key), "%s", key);
	va_start(ap, fmt);
	n = vsnprintf(kv->value, sizeof(kv->value), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(kv->value))
		return -EINVAL;
	rsp->nkv++;
	return 0;
}

const char *tdm_ctl_rsp_get(const struct tdm_ctl_rsp *rsp, const char *key)
{
	for (size_t i = 0; i < rsp->nkv; i++)
		if (strcmp(rsp->kv[i].key, key) == 0)
			return rsp->kv[i].value;
	return NULL;
}

int tdm_ctl_rsp_parse(const char *line, size_t len, struct tdm_ctl_rsp *rsp,
		      char *err, size_t errlen)
{
	struct word w[WORDS_MAX];
	size_t nw;
	uint64_t x;
	int r;

	tdm_ctl_rsp_init(rsp, 0);
	r = split(line, len, w, &nw, "response", err, errlen);
	if (r)
		return r;
	if (word_is(&w[0], "ERR")) {
		if (nw != 3)
			return fail(err, errlen, -EINVAL,
				    "ERR response takes "
				    "2 words, got %zu",
				    nw - 1);
		if (!get_u64(&w[1], 4095, &x) || x == 0)
			return fail(err, errlen, -EINVAL,
				    "ERR response: bad "
				    "errno '%.*s'",
				    SHOW(&w[1]));
		rsp->status = (int)x;
		if (!get_u64(&w[2], TDM_CTL_PAYLOAD_MAX, &x))
			return fail(err, errlen, -EINVAL,
				    "ERR response: bad "
				    "byte count '%.*s'",
				    SHOW(&w[2]));
		rsp->payload_len = (size_t)x;
		return 0;
	}
	if (!word_is(&w[0], "OK"))
		return fail(err, errlen, -EINVAL,
			    "response is neither OK nor "
			    "ERR: '%.*s'",
			    SHOW(&w[0]));
	if (nw < 2 || !get_u64(&w[1], UINT64_MAX, &x))
		return fail(err, errlen, -EINVAL,
			    "OK response: missing or bad "
			    "byte count");
	if (x > TDM_CTL_PAYLOAD_MAX)
		return fail(err, errlen, -EMSGSIZE,
			    "OK response: payload of "
			    "%llu bytes is over the limit of %u",
			    (unsigned long long)x, TDM_CTL_PAYLOAD_MAX);
	rsp->payload_len = (size_t)x;
	for (size_t i = 2; i < nw; i++) {
		const char *eq = memchr(w[i].p, '=', w[i].n);
		struct tdm_ctl_kv *kv = &rsp->kv[rsp->nkv];
		size_t kn;

		if (rsp->nkv == TDM_CTL_KV_MAX)
			return fail(err, errlen, -EINVAL,
				    "OK response: more "
				    "than %d key=value pairs",
				    TDM_CTL_KV_MAX);
		kn = eq ? (size_t)(eq - w[i].p) : 0;
		if (!eq || !good_key(w[i].p, kn))
			return fail(err, errlen, -EINVAL,
				    "OK response: bad "
				    "key=value '%.*s'",
				    SHOW(&w[i]));
		memcpy(kv->key, w[i].p, kn);
		kv->key[kn] = '\0';
		if (tdm_ctl_decode(eq + 1, w[i].n - kn - 1, kv->value,
				   sizeof(kv->value)) < 0)
			return fail(err, errlen, -EINVAL,
				    "OK response: bad "
				    "value of '%s'",
				    kv->key);
		rsp->nkv++;
	}
	return 0;
}

int tdm_ctl_rsp_format(const struct tdm_ctl_rsp *rsp, char *buf, size_t buflen)
{
	size_t o = 0, max = buflen < TDM_CTL_LINE_MAX + 1
				    ? buflen
				    : TDM_CTL_LINE_MAX + 1;
	bool ok;

	if (rsp->status) {
		char tmp[64];
		int n = snprintf(tmp, sizeof(tmp), "ERR %d %zu\n", rsp->status,
				 rsp->payload_len);

		if (rsp->status < 0 || rsp->status > 4095)
			return -EINVAL;
		return put(buf, max, &o, tmp, (size_t)n) ? (int)o
							 : -ENAMETOOLONG;
	}
	ok = put(buf, max, &o, "OK", 2) &&
	     put_num(buf, max, &o, rsp->payload_len);
	for (size_t i = 0; ok && i < rsp->nkv; i++) {
		const struct tdm_ctl_kv *kv = &rsp->kv[i];
		size_t kn = strlen(kv->key);

		ok = put(buf, max, &o, " ", 1) &&
		     put(buf, max, &o, kv->key, kn) &&
		     put(buf, max, &o, "=", 1);
		if (ok && kv->value[0]) {
			size_t need = tdm_ctl_encode(kv->value, NULL, 0);

			ok = o + need < max;
			if (ok) {
				tdm_ctl_encode(kv->value, buf + o, max - o);
				o += need;
			}
		}
	}
	ok = ok && put(buf, max, &o, "\n", 1);
	return ok ? (int)o : -ENAMETOOLONG;
}

/* ---- framing ---- */

void tdm_ctl_rx_init(struct tdm_ctl_rx *rx, enum tdm_ctl_rx_kind kind)
{
	memset(rx, 0, sizeof(*rx));
	rx->kind = kind;
}

void tdm_ctl_rx_next(struct tdm_ctl_rx *rx)
{
	free(rx->payload);
	rx->payload = NULL;
	rx->line_len = 0;
	rx->have_header = false;
	rx->complete = false;
	rx->payload_len = rx->payload_got = 0;
}

void tdm_ctl_rx_free(struct tdm_ctl_rx *rx)
{
	tdm_ctl_rx_next(rx);
}

size_t tdm_ctl_rx_pending(const struct tdm_ctl_rx *rx)
{
	return rx->have_header ? rx->line_len + 1 + rx->payload_got
			       : rx->line_len;
}

static int header_done(struct tdm_ctl_rx *rx)
{
	int r;

	if (rx->kind == TDM_CTL_RX_REQUEST) {
		r = tdm_ctl_req_parse(rx->line, rx->line_len, &rx->req, rx->err,
				      sizeof(rx->err));
		rx->payload_len = rx->req.payload_len;
	} else {
		r = tdm_ctl_rsp_parse(rx->line, rx->line_len, &rx->rsp, rx->err,
				      sizeof(rx->err));
		rx->payload_len = rx->rsp.payload_len;
	}
	if (r)
		return r;
	rx->payload = malloc(rx->payload_len + 1);
	if (!rx->payload) {
		snprintf(rx->err, sizeof(rx->err),
			 "out of memory for a "
			 "payload of %zu bytes",
			 rx->payload_len);
		return -ENOMEM;
	}
	rx->payload[0] = '\0';
	rx->have_header = true;
	return 0;
}

int tdm_ctl_rx_feed(struct tdm_ctl_rx *rx, const char *data, size_t len,
		    size_t *used)
{
	size_t o = 0;
	int r;

	*used = 0;
	if (rx->complete)
		return 1;
	if (!rx->have_header) {
		size_t room = TDM_CTL_LINE_MAX - 1 - rx->line_len;
		size_t scan = len < room + 1 ? len : room + 1;
		const char *nl = memchr(data, '\n', scan);
		size_t n = nl ? (size_t)(nl - data) : scan;

		if (!nl && len > room) {
			snprintf(rx->err, sizeof(rx->err),
				 "%s line longer "
				 "than %d bytes",
				 rx->kind == TDM_CTL_RX_REQUEST ? "request"
								: "response",
				 TDM_CTL_LINE_MAX);
			return -EINVAL;
		}
		memcpy(rx->line + rx->line_len, data, n);
		rx->line_len += n;
		o = n;
		if (!nl) {
			*used = o;
			return 0;
		}
		o++; /* the newline */
		rx->line[rx->line_len] = '\0';
		r = header_done(rx);
		*used = o;
		if (r)
			return r;
	}
	if (rx->payload_got < rx->payload_len && o < len) {
		size_t n = rx->payload_len - rx->payload_got;

		if (n > len - o)
			n = len - o;
		memcpy(rx->payload + rx->payload_got, data + o, n);
		rx->payload_got += n;
		o += n;
	}
	*used = o;
	if (rx->payload_got < rx->payload_len)
		return 0;
	rx->payload[rx->payload_len] = '\0';
	rx->complete = true;
	return 1;
}

/* ---- client ---- */

int tdm_ctl_connect(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = CLIENT_TIMEOUT_S};
	int fd, r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return fail(err, errlen, -ENAMETOOLONG,
			    "socket path %s is "
			    "longer than %zu bytes",
			    path, sizeof(sa.sun_path) - 1);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(err, errlen, -errno, "socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		close(fd);
		return fail(err, errlen, r,
			    "cannot connect to tandemd at %s: "
			    "%s%s",
			    path, strerror(-r),
			    r == -ENOENT || r == -ECONNREFUSED
				    ? " (is tandemd running? see -s)"
			    : r == -EACCES ? " (root or tandemd's user only)"
					   : "");
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static int send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int tdm_ctl_call(int fd, const struct tdm_ctl_req *req, const void *payload,
		 struct tdm_ctl_rsp *rsp, char **rpayload, size_t *rlen,
		 char *err, size_t errlen)
{
	char line[TDM_CTL_LINE_MAX + 1], buf[65536];
	struct tdm_ctl_rx *rx;
	int n, r;

	*rpayload = NULL;
	*rlen = 0;
	n = tdm_ctl_req_format(req, line, sizeof(line));
	if (n < 0)
		return fail(err, errlen, n,
			    "%s request does not fit in %d "
			    "bytes",
			    tdm_ctl_verb_name(req->verb), TDM_CTL_LINE_MAX);
	r = send_all(fd, line, (size_t)n);
	if (!r && (req->verb == TDM_CTL_APPLY || req->verb == TDM_CTL_EDIT))
		r = send_all(fd, payload, req->payload_len);
	/* on EPIPE the daemon may still have said why: read it */
	if (r && r != -EPIPE && r != -ECONNRESET)
		return fail(err, errlen, r, "sending to tandemd: %s",
			    strerror(-r));
	rx = malloc(sizeof(*rx));
	if (!rx)
		return fail(err, errlen, -ENOMEM, "out of memory");
	tdm_ctl_rx_init(rx, TDM_CTL_RX_RESPONSE);
	for (;;) {
		ssize_t got = recv(fd, buf, sizeof(buf), 0);
		size_t off = 0, used;

		if (got < 0 && errno == EINTR)
			continue;
		/* a close with our request unread resets: the same to us */
		if (got < 0 && errno == ECONNRESET)
			got = 0;
		if (got < 0) {
			r = -errno;
			fail(err, errlen, r, "reading from tandemd: %s",
			     r == -EAGAIN ? "no answer within 300 s"
					  : strerror(-r));
			break;
		}
		if (got == 0) {
			r = fail(err, errlen, -ECONNRESET,
				 "tandemd closed the "
				 "connection without an answer");
			break;
		}
		while (off < (size_t)got) {
			r = tdm_ctl_rx_feed(rx, buf + off, (size_t)got - off,
					    &used);
			off += used;
			if (r)
				break;
		}
		if (r < 0) {
			fail(err, errlen, r, "bad answer from tandemd: %s",
			     rx->err);
			break;
		}
		if (r == 1) {
			if (off < (size_t)got) {
				r = fail(err, errlen, -EPROTO,
					 "tandemd sent "
					 "more than one answer");
				break;
			}
			*rsp = rx->rsp;
			*rpayload = rx->payload;
			*rlen = rx->payload_len;
			rx->payload = NULL;
			r = 0;
			break;
		}
	}
	tdm_ctl_rx_free(rx);
	free(rx);
	return r;
}
