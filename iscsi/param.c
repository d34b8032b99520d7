/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * param.c - key=value text and operational parameter negotiation
 * (RFC 7143 6.1, 6.2 and 13). Pure functions: no connection state, so the
 * unit tests drive them directly.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iscsi/iscsi_int.h"
#include "lib/iscsi_name.h"

/* Our defaults where the config says nothing. */
#define DEF_MAX_RECV_DSL 262144
#define DEF_MAX_XMIT_DSL 262144
#define DEF_MAX_BURST 1048576
#define DEF_FIRST_BURST 65536
#define DEF_MAX_R2T 16
#define DEF_QUEUED_COMMANDS 128
#define DEF_NOP_INTERVAL 30
#define DEF_NOP_TIMEOUT 30
#define DEF_RSP_TIMEOUT 90

/* RFC 7143 13.12-13.14: legal range of the length keys */
#define LEN_MIN 512
#define LEN_MAX 16777215

void tdm__iscsi_params_default(struct tdm__iscsi_params *p)
{
	/* RFC 7143 13: the default of every key */
	memset(p, 0, sizeof(*p));
	p->header_digest = false;    /* 13.1: None */
	p->data_digest = false;	     /* 13.1: None */
	p->max_connections = 1;	     /* 13.2 */
	p->initial_r2t = true;	     /* 13.10 */
	p->immediate_data = true;    /* 13.11 */
	p->max_recv_dsl = 8192;	     /* 13.12 */
	p->max_xmit_dsl = 8192;	     /* 13.12 */
	p->max_burst = 262144;	     /* 13.13 */
	p->first_burst = 65536;	     /* 13.14 */
	p->time2wait = 2;	     /* 13.15 */
	p->time2retain = 20;	     /* 13.16 */
	p->max_outstanding_r2t = 1;  /* 13.17 */
	p->data_pdu_in_order = true; /* 13.18 */
	p->data_seq_in_order = true; /* 13.19 */
	p->erl = 0;		     /* 13.20 */
}

void tdm__iscsi_prefs_default(struct tdm__iscsi_prefs *pr)
{
	memset(pr, 0, sizeof(*pr));
	pr->header_digest = ISCSI_DIGEST_NONE | ISCSI_DIGEST_CRC32C;
	pr->data_digest = ISCSI_DIGEST_NONE | ISCSI_DIGEST_CRC32C;
	pr->initial_r2t = false;
	pr->immediate_data = true;
	pr->max_recv_dsl = DEF_MAX_RECV_DSL;
	pr->max_xmit_dsl = DEF_MAX_XMIT_DSL;
	pr->max_burst = DEF_MAX_BURST;
	pr->first_burst = DEF_FIRST_BURST;
	pr->max_outstanding_r2t = DEF_MAX_R2T;
	pr->queued_commands = DEF_QUEUED_COMMANDS;
	pr->nop_in_interval = DEF_NOP_INTERVAL;
	pr->nop_in_timeout = DEF_NOP_TIMEOUT;
	pr->rsp_timeout = DEF_RSP_TIMEOUT;
}

static uint8_t digest_mask(int v)
{
	switch (v) {
	case 0:
		return ISCSI_DIGEST_NONE;
	case 1:
		return ISCSI_DIGEST_CRC32C;
	default:
		return ISCSI_DIGEST_NONE | ISCSI_DIGEST_CRC32C;
	}
}

static uint32_t clamp_len(uint32_t v)
{
	if (v < LEN_MIN)
		return LEN_MIN;
	if (v > LEN_MAX)
		return LEN_MAX;
	return v;
}

void tdm__iscsi_prefs_apply(struct tdm__iscsi_prefs *pr,
			    const struct tdm_conf_iscsi_params *cp)
{
	if (!cp)
		return;
	if (cp->header_digest >= 0)
		pr->header_digest = digest_mask(cp->header_digest);
	if (cp->data_digest >= 0)
		pr->data_digest = digest_mask(cp->data_digest);
	if (cp->initial_r2t >= 0)
		pr->initial_r2t = cp->initial_r2t != 0;
	if (cp->immediate_data >= 0)
		pr->immediate_data = cp->immediate_data != 0;
	if (cp->max_recv_data_segment_length)
		pr->max_recv_dsl = clamp_len(cp->max_recv_data_segment_length);
	if (cp->max_xmit_data_segment_length)
		pr->max_xmit_dsl = clamp_len(cp->max_xmit_data_segment_length);
	if (cp->max_burst_length)
		pr->max_burst = clamp_len(cp->max_burst_length);
	if (cp->first_burst_length)
		pr->first_burst = clamp_len(cp->first_burst_length);
	if (cp->max_outstanding_r2t)
		pr->max_outstanding_r2t = cp->max_outstanding_r2t > 65535
						  ? 65535
						  : cp->max_outstanding_r2t;
	if (cp->queued_commands)
		pr->queued_commands =
			cp->queued_commands > 4096 ? 4096 : cp->queued_commands;
	if (cp->nop_in_interval)
		pr->nop_in_interval = cp->nop_in_interval;
	if (cp->nop_in_timeout)
		pr->nop_in_timeout = cp->nop_in_timeout;
	if (cp->nop_in_disabled)
		pr->nop_in_interval = 0;
	if (cp->rsp_timeout)
		pr->rsp_timeout = cp->rsp_timeout;
	if (pr->first_burst > pr->max_burst)
		pr->first_burst = pr->max_burst;
}

/* ---- text segments ---- */

/* RFC 7143 6.1: key-name characters */
static bool key_char_ok(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' ||
	       ch == '+' || ch == '@' || ch == '_';
}

int tdm__iscsi_text_parse(char *buf, size_t len, struct tdm__iscsi_kv *kv,
			  size_t max)
{
	size_t n = 0;
	size_t i = 0;

	while (i < len) {
		char *s = buf + i;
		size_t slen = strnlen(s, len - i);
		char *eq;

		if (slen == 0) { /* padding or stray NUL */
			i++;
			continue;
		}
		/* a pair not terminated inside the segment ends at len */
		s[slen < len - i ? slen : len - i] = '\0';
		eq = memchr(s, '=', slen);
		if (!eq || eq == s || (size_t)(eq - s) > ISCSI_KEY_MAX)
			return -EINVAL;
		for (char *k = s; k < eq; k++)
			if (!key_char_ok(*k))
				return -EINVAL;
		if (n == max)
			return -E2BIG;
		*eq = '\0';
		kv[n].key = s;
		kv[n].val = eq + 1;
		n++;
		i += slen + 1;
	}
	return (int)n;
}

static int text_reserve(struct tdm__iscsi_text *t, size_t more)
{
	size_t want = t->len + more;

	if (want > ISCSI_TEXT_MAX) {
		t->oom = true;
		return -E2BIG;
	}
	if (want > t->cap) {
		size_t cap = t->cap ? t->cap : 512;
		char *nb;

		while (cap < want)
			cap *= 2;
		nb = realloc(t->buf, cap);
		if (!nb) {
			t->oom = true;
			return -ENOMEM;
		}
		t->buf = nb;
		t->cap = cap;
	}
	return 0;
}

int tdm__iscsi_text_add(struct tdm__iscsi_text *t, const char *key,
			const char *fmt, ...)
{
	char val[1024];
	va_list ap;
	int n;
	size_t klen = strlen(key);

	va_start(ap, fmt);
	n = vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(val))
		return -E2BIG;
	if (text_reserve(t, klen + 1 + (size_t)n + 1))
		return -ENOMEM;
	memcpy(t->buf + t->len, key, klen);
	t->buf[t->len + klen] = '=';
	memcpy(t->buf + t->len + klen + 1, val, (size_t)n + 1);
	t->len += klen + 1 + (size_t)n + 1;
	return 0;
}

void tdm__iscsi_text_free(struct tdm__iscsi_text *t)
{
	free(t->buf);
	memset(t, 0, sizeof(*t));
}

/* ---- values ---- */

int tdm__iscsi_parse_num(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	int base = 10;

	if (!s || !*s)
		return -EINVAL;
	/* RFC 7143 6.1: hex-constant "0x..." is a valid numerical-value */
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		if (!*s)
			return -EINVAL;
	}
	for (; *s; s++) {
		unsigned d;

		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = (unsigned)(*s - 'a' + 10);
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = (unsigned)(*s - 'A' + 10);
		else
			return -EINVAL;
		if (v > (UINT64_MAX - d) / (unsigned)base)
			return -ERANGE;
		v = v * (unsigned)base + d;
	}
	*out = v;
	return 0;
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

static int b64val(char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

int tdm__iscsi_bin_decode(const char *s, uint8_t *out, size_t max,
			  size_t *outlen)
{
	size_t n = 0;

	if (!s || s[0] != '0' || !s[1])
		return -EINVAL;
	if (s[1] == 'x' || s[1] == 'X') {
		/* RFC 7143 6.1: hex-constant; an odd count gets a leading 0 */
		size_t len = strlen(s + 2);
		const char *p = s + 2;

		if (len == 0)
			return -EINVAL;
		if (len & 1) {
			int lo = hexval(*p++);

			if (lo < 0)
				return -EINVAL;
			if (n == max)
				return -E2BIG;
			out[n++] = (uint8_t)lo;
		}
		while (*p) {
			int hi = hexval(p[0]), lo = hexval(p[1]);

			if (hi < 0 || lo < 0)
				return -EINVAL;
			if (n == max)
				return -E2BIG;
			out[n++] = (uint8_t)(hi << 4 | lo);
			p += 2;
		}
	} else if (s[1] == 'b' || s[1] == 'B') {
		/* RFC 7143 6.1: base64-constant (RFC 4648, with padding) */
		const char *p = s + 2;
		uint32_t acc = 0;
		int bits = 0;
		size_t nch = 0, npad = 0;

		for (; *p; p++) {
			int v;

			if (*p == '=') {
				npad++;
				continue;
			}
			if (npad)
				return -EINVAL; /* data after padding */
			v = b64val(*p);
			if (v < 0)
				return -EINVAL;
			nch++;
			acc = (acc << 6) | (uint32_t)v;
			bits += 6;
			if (bits >= 8) {
				bits -= 8;
				if (n == max)
					return -E2BIG;
				out[n++] = (uint8_t)(acc >> bits);
			}
		}
		if (nch == 0 || npad > 2 || ((nch + npad) & 3) != 0)
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	*outlen = n;
	return 0;
}

void tdm__iscsi_hex_encode(const uint8_t *in, size_t len, char *out,
			   size_t outlen)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	if (outlen < 3) {
		if (outlen)
			out[0] = '\0';
		return;
	}
	out[o++] = '0';
	out[o++] = 'x';
	for (size_t i = 0; i < len && o + 2 < outlen; i++) {
		out[o++] = hex[in[i] >> 4];
		out[o++] = hex[in[i] & 15];
	}
	out[o] = '\0';
}

/* n hexadecimal digits and nothing else */
bool tdm__iscsi_name_valid(const char *name)
{
	return tdm_iscsi_name_problem(name) == NULL;
}

/* ---- negotiation ---- */

enum key_type {
	KT_DIGEST_H, /* list: None, CRC32C */
	KT_DIGEST_D,
	KT_OR,		/* boolean, result OR */
	KT_AND,		/* boolean, result AND */
	KT_MIN,		/* number, result minimum */
	KT_MAX,		/* number, result maximum */
	KT_DECL_MRDSL,	/* declarative number */
	KT_LOGIN,	/* names, SessionType, security: login.c */
	KT_SILENT,	/* declarative string we only note */
	KT_TARGET_ONLY, /* sent by targets only */
	KT_OBS_NO,	/* RFC 7143 13.26: obsoleted markers -> "No" */
	KT_OBS_REJECT,	/* RFC 7143 13.26: obsoleted intervals -> Reject */
	KT_IRRELEVANT,
	KT_SENDTARGETS,
	KT_TASKREPORTING,
	KT_PROTOLEVEL,
};

enum key_id {
	K_HEADER_DIGEST,
	K_DATA_DIGEST,
	K_MAX_CONNECTIONS,
	K_INITIAL_R2T,
	K_IMMEDIATE_DATA,
	K_MRDSL,
	K_MAX_BURST,
	K_FIRST_BURST,
	K_TIME2WAIT,
	K_TIME2RETAIN,
	K_MAX_R2T,
	K_DATA_PDU_IN_ORDER,
	K_DATA_SEQ_IN_ORDER,
	K_ERL,
	K_IFMARKER,
	K_OFMARKER,
	K_RDMA,
	K_OTHER,
};

#define KF_LO 0x01	 /* login only (LO/IO in RFC 7143 13) */
#define KF_DISC_IRR 0x02 /* "Irrelevant when: SessionType=Discovery" */

struct key_def {
	const char *name;
	uint8_t type;
	uint8_t id;
	uint8_t flags;
	uint32_t min, max;
};

static const struct key_def key_defs[] = {
	/* RFC 7143 13.1 */
	{"HeaderDigest", KT_DIGEST_H, K_HEADER_DIGEST, KF_LO, 0, 0},
	{"DataDigest", KT_DIGEST_D, K_DATA_DIGEST, KF_LO, 0, 0},
	/* 13.2 */
	{"MaxConnections", KT_MIN, K_MAX_CONNECTIONS, KF_LO | KF_DISC_IRR, 1,
	 65535},
	/* 13.3 */
	{"SendTargets", KT_SENDTARGETS, K_OTHER, 0, 0, 0},
	/* 13.4 - 13.9 */
	{"TargetName", KT_LOGIN, K_OTHER, KF_LO, 0, 0},
	{"InitiatorName", KT_LOGIN, K_OTHER, KF_LO, 0, 0},
	{"TargetAlias", KT_TARGET_ONLY, K_OTHER, 0, 0, 0},
	{"InitiatorAlias", KT_SILENT, K_OTHER, 0, 0, 0},
	{"TargetAddress", KT_TARGET_ONLY, K_OTHER, 0, 0, 0},
	{"TargetPortalGroupTag", KT_TARGET_ONLY, K_OTHER, 0, 0, 0},
	/* 13.10, 13.11 */
	{"InitialR2T", KT_OR, K_INITIAL_R2T, KF_LO | KF_DISC_IRR, 0, 0},
	{"ImmediateData", KT_AND, K_IMMEDIATE_DATA, KF_LO | KF_DISC_IRR, 0, 0},
	/* 13.12 - 13.14 */
	{"MaxRecvDataSegmentLength", KT_DECL_MRDSL, K_MRDSL, 0, LEN_MIN,
	 LEN_MAX},
	{"MaxBurstLength", KT_MIN, K_MAX_BURST, KF_LO | KF_DISC_IRR, LEN_MIN,
	 LEN_MAX},
	{"FirstBurstLength", KT_MIN, K_FIRST_BURST, KF_LO | KF_DISC_IRR,
	 LEN_MIN, LEN_MAX},
	/* 13.15, 13.16 */
	{"DefaultTime2Wait", KT_MAX, K_TIME2WAIT, KF_LO, 0, 3600},
	{"DefaultTime2Retain", KT_MIN, K_TIME2RETAIN, KF_LO, 0, 3600},
	/* 13.17 */
	{"MaxOutstandingR2T", KT_MIN, K_MAX_R2T, KF_LO | KF_DISC_IRR, 1, 65535},
	/* 13.18, 13.19 */
	{"DataPDUInOrder", KT_OR, K_DATA_PDU_IN_ORDER, KF_LO | KF_DISC_IRR, 0,
	 0},
	{"DataSequenceInOrder", KT_OR, K_DATA_SEQ_IN_ORDER, KF_LO | KF_DISC_IRR,
	 0, 0},
	/* 13.20 */
	{"ErrorRecoveryLevel", KT_MIN, K_ERL, KF_LO, 0, 2},
	/* 13.21 */
	{"SessionType", KT_LOGIN, K_OTHER, KF_LO, 0, 0},
	/* 13.26: obsoleted keys */
	{"OFMarker", KT_OBS_NO, K_OFMARKER, KF_LO, 0, 0},
	{"IFMarker", KT_OBS_NO, K_IFMARKER, KF_LO, 0, 0},
	{"OFMarkInt", KT_OBS_REJECT, K_OTHER, KF_LO, 0, 0},
	{"IFMarkInt", KT_OBS_REJECT, K_OTHER, KF_LO, 0, 0},
	/* 12.1: security keys */
	{"AuthMethod", KT_LOGIN, K_OTHER, KF_LO, 0, 0},
	{"CHAP_A", KT_LOGIN, K_OTHER, KF_LO, 0, 0},
	{"CHAP_I", KT_LOGIN, K_OTHER, KF_LO, 0, 0},
	{"CHAP_C", KT_LOGIN, K_OTHER, KF_LO, 0, 0},
	{"CHAP_N", KT_LOGIN, K_OTHER, KF_LO, 0, 0},
	{"CHAP_R", KT_LOGIN, K_OTHER, KF_LO, 0, 0},
	/* RFC 7144 13.1, 13.2 */
	{"TaskReporting", KT_TASKREPORTING, K_OTHER, KF_LO, 0, 0},
	{"iSCSIProtocolLevel", KT_PROTOLEVEL, K_OTHER, KF_LO, 0, 31},
	/* RFC 7145 6: iSER keys; we are plain TCP */
	{"RDMAExtensions", KT_AND, K_RDMA, KF_LO, 0, 0},
	{"InitiatorRecvDataSegmentLength", KT_IRRELEVANT, K_OTHER, 0, 0, 0},
	{"TargetRecvDataSegmentLength", KT_IRRELEVANT, K_OTHER, 0, 0, 0},
};

static const struct key_def *key_lookup(const char *key)
{
	for (size_t i = 0; i < sizeof(key_defs) / sizeof(key_defs[0]); i++)
		if (!strcmp(key_defs[i].name, key))
			return &key_defs[i];
	return NULL;
}

static int parse_bool(const char *v, bool *out)
{
	/* RFC 7143 6.1: boolean-value is "Yes" or "No" */
	if (!strcmp(v, "Yes"))
		*out = true;
	else if (!strcmp(v, "No"))
		*out = false;
	else
		return -EINVAL;
	return 0;
}

static void set_resp(char *resp, size_t resplen, const char *s)
{
	snprintf(resp, resplen, "%s", s);
}

/* RFC 7143 6.2.1: pick the first offered value we accept */
static enum tdm__iscsi_neg neg_digest(const char *val, uint8_t mask,
				      bool *result, char *resp, size_t resplen)
{
	const char *p = val;

	while (*p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len == 4 && !strncmp(p, "None", 4) &&
		    (mask & ISCSI_DIGEST_NONE)) {
			*result = false;
			set_resp(resp, resplen, "None");
			return ISCSI_NEG_RESPOND;
		}
		if (len == 6 && !strncmp(p, "CRC32C", 6) &&
		    (mask & ISCSI_DIGEST_CRC32C)) {
			*result = true;
			set_resp(resp, resplen, "CRC32C");
			return ISCSI_NEG_RESPOND;
		}
		if (!end)
			break;
		p = end + 1;
	}
	set_resp(resp, resplen, "Reject");
	return ISCSI_NEG_RESPOND;
}

static bool *bool_field(struct tdm__iscsi_params *p, uint8_t id)
{
	switch (id) {
	case K_INITIAL_R2T:
		return &p->initial_r2t;
	case K_IMMEDIATE_DATA:
		return &p->immediate_data;
	case K_DATA_PDU_IN_ORDER:
		return &p->data_pdu_in_order;
	case K_DATA_SEQ_IN_ORDER:
		return &p->data_seq_in_order;
	case K_IFMARKER:
		return &p->ifmarker;
	case K_OFMARKER:
		return &p->ofmarker;
	default:
		return NULL;
	}
}

static bool bool_pref(const struct tdm__iscsi_prefs *pr, uint8_t id)
{
	switch (id) {
	case K_INITIAL_R2T:
		return pr->initial_r2t;
	case K_IMMEDIATE_DATA:
		return pr->immediate_data;
	case K_DATA_PDU_IN_ORDER:
	case K_DATA_SEQ_IN_ORDER:
		return true; /* we only handle in-order data */
	default:
		return false; /* markers, RDMA */
	}
}

static uint32_t *num_field(struct tdm__iscsi_params *p, uint8_t id)
{
	switch (id) {
	case K_MAX_CONNECTIONS:
		return &p->max_connections;
	case K_MAX_BURST:
		return &p->max_burst;
	case K_FIRST_BURST:
		return &p->first_burst;
	case K_TIME2WAIT:
		return &p->time2wait;
	case K_TIME2RETAIN:
		return &p->time2retain;
	case K_MAX_R2T:
		return &p->max_outstanding_r2t;
	case K_ERL:
		return &p->erl;
	default:
		return NULL;
	}
}

static uint32_t num_pref(const struct tdm__iscsi_prefs *pr, uint8_t id)
{
	switch (id) {
	case K_MAX_CONNECTIONS:
		return 1;
	case K_MAX_BURST:
		return pr->max_burst;
	case K_FIRST_BURST:
		return pr->first_burst;
	case K_TIME2WAIT:
		return 2;
	case K_TIME2RETAIN:
		return 0; /* ERL 0: nothing to retain */
	case K_MAX_R2T:
		return pr->max_outstanding_r2t;
	case K_ERL:
		return 0; /* ERL 0 only */
	default:
		return 0;
	}
}

enum tdm__iscsi_neg tdm__iscsi_negotiate(const char *key, const char *val,
					 enum tdm__iscsi_neg_phase phase,
					 bool discovery,
					 const struct tdm__iscsi_prefs *pr,
					 struct tdm__iscsi_params *p,
					 char *resp, size_t resplen)
{
	const struct key_def *kd = key_lookup(key);
	uint64_t num;
	bool b;

	resp[0] = '\0';
	if (!kd) {
		/* RFC 7143 6.2: unknown keys, including X- and X# ones */
		set_resp(resp, resplen, "NotUnderstood");
		return ISCSI_NEG_RESPOND;
	}
	if (kd->type == KT_LOGIN)
		return ISCSI_NEG_LOGIN_KEY;
	if (kd->type == KT_SENDTARGETS)
		return ISCSI_NEG_TEXT_KEY;
	if (strlen(val) > ISCSI_VALUE_MAX) {
		set_resp(resp, resplen, "Reject");
		return ISCSI_NEG_RESPOND;
	}
	/* RFC 7143 6.4: only "ALL" keys may be renegotiated in FFP */
	if (phase == ISCSI_PHASE_FFP && (kd->flags & KF_LO)) {
		set_resp(resp, resplen, "Reject");
		return ISCSI_NEG_RESPOND;
	}
	if (discovery && (kd->flags & KF_DISC_IRR)) {
		set_resp(resp, resplen, "Irrelevant");
		return ISCSI_NEG_RESPOND;
	}

	switch (kd->type) {
	case KT_DIGEST_H:
		return neg_digest(val, pr->header_digest, &p->header_digest,
				  resp, resplen);
	case KT_DIGEST_D:
		return neg_digest(val, pr->data_digest, &p->data_digest, resp,
				  resplen);
	case KT_OR:
	case KT_AND: {
		bool *f = bool_field(p, kd->id);
		bool ours = bool_pref(pr, kd->id);

		if (parse_bool(val, &b)) {
			set_resp(resp, resplen, "Reject");
			return ISCSI_NEG_RESPOND;
		}
		/* RFC 7143 6.2.2: Boolean OR / AND result functions */
		b = kd->type == KT_OR ? (b || ours) : (b && ours);
		if (f)
			*f = b;
		set_resp(resp, resplen, b ? "Yes" : "No");
		return ISCSI_NEG_RESPOND;
	}
	case KT_MIN:
	case KT_MAX: {
		uint32_t *f = num_field(p, kd->id);
		uint32_t ours = num_pref(pr, kd->id);
		uint32_t r;

		if (tdm__iscsi_parse_num(val, &num) || num < kd->min) {
			set_resp(resp, resplen, "Reject");
			return ISCSI_NEG_RESPOND;
		}
		if (num > kd->max) {
			/* a minimum function cannot pick an offer above the
			 * range: answer with ours (clamp); a maximum would */
			if (kd->type == KT_MAX) {
				set_resp(resp, resplen, "Reject");
				return ISCSI_NEG_RESPOND;
			}
			num = kd->max;
		}
		r = kd->type == KT_MIN
			    ? ((uint32_t)num < ours ? (uint32_t)num : ours)
			    : ((uint32_t)num > ours ? (uint32_t)num : ours);
		if (f)
			*f = r;
		snprintf(resp, resplen, "%u", r);
		return ISCSI_NEG_RESPOND;
	}
	case KT_DECL_MRDSL:
		/* RFC 7143 13.12: the initiator declares what it receives;
		 * we declare ours separately (login.c) */
		if (tdm__iscsi_parse_num(val, &num) || num < kd->min) {
			set_resp(resp, resplen, "Reject");
			return ISCSI_NEG_RESPOND;
		}
		if (num > kd->max)
			num = kd->max;
		p->max_xmit_dsl = (uint32_t)num;
		if (p->max_xmit_dsl > pr->max_xmit_dsl)
			p->max_xmit_dsl = pr->max_xmit_dsl;
		return ISCSI_NEG_SILENT;
	case KT_SILENT:
		return ISCSI_NEG_SILENT;
	case KT_TARGET_ONLY:
	case KT_OBS_REJECT:
		set_resp(resp, resplen, "Reject");
		return ISCSI_NEG_RESPOND;
	case KT_OBS_NO: {
		bool *f = bool_field(p, kd->id);

		if (f)
			*f = false;
		set_resp(resp, resplen, "No");
		return ISCSI_NEG_RESPOND;
	}
	case KT_IRRELEVANT:
		set_resp(resp, resplen, "Irrelevant");
		return ISCSI_NEG_RESPOND;
	case KT_TASKREPORTING: {
		/* RFC 7144 13.1: list; we do what RFC 3720 describes */
		const char *s = val;

		while (*s) {
			const char *end = strchr(s, ',');
			size_t len = end ? (size_t)(end - s) : strlen(s);

			if (len == 7 && !strncmp(s, "RFC3720", 7)) {
				set_resp(resp, resplen, "RFC3720");
				return ISCSI_NEG_RESPOND;
			}
			if (!end)
				break;
			s = end + 1;
		}
		set_resp(resp, resplen, "Reject");
		return ISCSI_NEG_RESPOND;
	}
	case KT_PROTOLEVEL:
		/* RFC 7144 13.2: we implement RFC 7143 (level 1) */
		if (tdm__iscsi_parse_num(val, &num) || num > kd->max) {
			set_resp(resp, resplen, "Reject");
			return ISCSI_NEG_RESPOND;
		}
		snprintf(resp, resplen, "%u", num < 1 ? (unsigned)num : 1u);
		return ISCSI_NEG_RESPOND;
	default:
		break;
	}
	set_resp(resp, resplen, "NotUnderstood");
	return ISCSI_NEG_RESPOND;
}
