/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pr_tid.c - TransportIDs (SPC-4 7.6.4): decoding and encoding the
 * formats of iSCSI (00b name, 01b name and ISID), SRP, FC and SAS, and
 * comparing them as persistent reservations name initiator ports.
 */
#include <errno.h>
#include <string.h>

#include "pr-sync/pr_int.h"

/* ---- comparing ---- */

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static bool name_eq(const struct tdm_pr_tid *a, const struct tdm_pr_tid *b)
{
	size_t i;

	if (a->len != b->len)
		return false;
	/* RFC 3722: iSCSI names are case-insensitive */
	for (i = 0; i < a->len; i++)
		if (lower(a->id[i]) != lower(b->id[i]))
			return false;
	return true;
}

bool tdm_pr_tid_equal(const struct tdm_pr_tid *a, const struct tdm_pr_tid *b)
{
	if (a->proto != b->proto || a->fmt != b->fmt || a->len != b->len)
		return false;
	if (a->proto != TDM_PR_PROTO_ISCSI)
		return !memcmp(a->id, b->id, a->len);
	if (!name_eq(a, b))
		return false;
	return a->fmt != TDM_PR_TID_FMT_NAME_ISID ||
	       !memcmp(a->isid, b->isid, sizeof(a->isid));
}

bool tdm_pr_tid_match(const struct tdm_pr_tid *a, const struct tdm_pr_tid *b)
{
	if (a->proto != b->proto)
		return false;
	if (a->proto != TDM_PR_PROTO_ISCSI)
		return a->len == b->len && !memcmp(a->id, b->id, a->len);
	if (!name_eq(a, b))
		return false;
	/* SPC-4 7.6.4.6: format 00b names the initiator device, i.e. every
	 * initiator port (ISID) of that iSCSI name */
	if (a->fmt == TDM_PR_TID_FMT_NAME || b->fmt == TDM_PR_TID_FMT_NAME)
		return true;
	return !memcmp(a->isid, b->isid, sizeof(a->isid));
}

int tdm_pr_tid_iscsi(struct tdm_pr_tid *t, const char *name,
		     const uint8_t isid[6])
{
	size_t n = strlen(name);

	memset(t, 0, sizeof(*t));
	if (!n || n > TDM_PR_NAME_MAX)
		return -EINVAL;
	t->proto = TDM_PR_PROTO_ISCSI;
	t->fmt = TDM_PR_TID_FMT_NAME_ISID;
	t->len = (uint16_t)n;
	memcpy(t->id, name, n);
	memcpy(t->isid, isid, sizeof(t->isid));
	return 0;
}

/* Is t a TransportID this code could have made (decode, state checks)? */
bool tdm__pr_tid_valid(const struct tdm_pr_tid *t)
{
	size_t i;

	switch (t->proto) {
	case TDM_PR_PROTO_FC:
	case TDM_PR_PROTO_SAS:
		return t->fmt == 0 && t->len == 8;
	case TDM_PR_PROTO_SRP:
		return t->fmt == 0 && t->len == 16;
	case TDM_PR_PROTO_ISCSI:
		if (t->fmt > TDM_PR_TID_FMT_NAME_ISID || !t->len ||
		    t->len > TDM_PR_NAME_MAX)
			return false;
		for (i = 0; i < t->len; i++)
			if (t->id[i] <= 0x20 || t->id[i] >= 0x7F)
				return false;
		return true;
	default:
		return false;
	}
}

/* ---- decoding and encoding ---- */

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* SPC-4 7.6.4.6, table 454: the ",i,0x" SEPARATOR of format 01b */
#define ISCSI_SEP ",i,0x"
#define ISCSI_SEP_LEN 5
#define ISID_HEX 12

int tdm_pr_tid_decode(const uint8_t *p, size_t avail, struct tdm_pr_tid *t,
		      size_t *used, size_t *bad)
{
	uint8_t fmt, proto;
	size_t addl, slen, nlen, i;
	const uint8_t *s;

	memset(t, 0, sizeof(*t));
	*bad = 0;
	if (avail < 4)
		return -EMSGSIZE;
	fmt = p[0] >> 6;
	proto = p[0] & 0x0F;
	if (p[0] & 0x30) /* reserved */
		return -EINVAL;
	t->proto = proto;
	switch (proto) {
	case TDM_PR_PROTO_FC:  /* 7.6.4.2: N_PORT_NAME at bytes 8-15 */
	case TDM_PR_PROTO_SAS: /* 7.6.4.7: SAS ADDRESS at bytes 4-11 */
	case TDM_PR_PROTO_SRP: /* 7.6.4.5: port identifier, bytes 8-23 */
		if (fmt)
			return -EINVAL;
		if (avail < 24)
			return -EMSGSIZE;
		if (proto == TDM_PR_PROTO_SRP) {
			t->len = 16;
			memcpy(t->id, p + 8, 16);
		} else {
			t->len = 8;
			memcpy(t->id, p + (proto == TDM_PR_PROTO_SAS ? 4 : 8),
			       8);
		}
		*used = 24;
		return 0;
	case TDM_PR_PROTO_ISCSI:
		break;
	default:
		return -EINVAL;
	}
	/* 7.6.4.6: iSCSI, ADDITIONAL LENGTH a multiple of four */
	if (fmt > TDM_PR_TID_FMT_NAME_ISID)
		return -EINVAL;
	t->fmt = fmt;
	addl = tdm_get_be16(p + 2);
	if (addl % 4 || !addl) {
		*bad = 2;
		return -EINVAL;
	}
	if (4 + addl > avail)
		return -EMSGSIZE;
	s = p + 4;
	for (slen = 0; slen < addl && s[slen]; slen++)
		;
	if (slen == addl) { /* not null-terminated */
		*bad = 4;
		return -EINVAL;
	}
	nlen = slen;
	if (fmt == TDM_PR_TID_FMT_NAME_ISID) {
		if (slen < ISCSI_SEP_LEN + ISID_HEX + 1) {
			*bad = 4;
			return -EINVAL;
		}
		nlen = slen - ISCSI_SEP_LEN - ISID_HEX;
		if (memcmp(s + nlen, ISCSI_SEP, ISCSI_SEP_LEN - 1) ||
		    lower(s[nlen + ISCSI_SEP_LEN - 1]) != 'x') {
			*bad = 4 + nlen;
			return -EINVAL;
		}
		for (i = 0; i < ISID_HEX; i++) {
			int v = hexval(s[nlen + ISCSI_SEP_LEN + i]);

			if (v < 0) {
				*bad = 4 + nlen + ISCSI_SEP_LEN + i;
				return -EINVAL;
			}
			t->isid[i / 2] = (uint8_t)(t->isid[i / 2] << 4 | v);
		}
	}
	if (!nlen || nlen > TDM_PR_NAME_MAX) {
		*bad = 4;
		return -EINVAL;
	}
	t->len = (uint16_t)nlen;
	memcpy(t->id, s, nlen);
	if (!tdm__pr_tid_valid(t)) {
		*bad = 4;
		return -EINVAL;
	}
	*used = 4 + addl;
	return 0;
}

size_t tdm_pr_tid_encode(const struct tdm_pr_tid *t, uint8_t *buf, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t tmp[4 + TDM_PR_NAME_MAX + ISCSI_SEP_LEN + ISID_HEX + 4];
	size_t n, addl, i;

	memset(tmp, 0, sizeof(tmp));
	tmp[0] = (uint8_t)(t->fmt << 6 | (t->proto & 0x0F));
	switch (t->proto) {
	case TDM_PR_PROTO_SRP:
		memcpy(tmp + 8, t->id, 16);
		n = 24;
		break;
	case TDM_PR_PROTO_SAS:
		memcpy(tmp + 4, t->id, 8);
		n = 24;
		break;
	case TDM_PR_PROTO_ISCSI:
		memcpy(tmp + 4, t->id, t->len);
		n = 4 + t->len;
		if (t->fmt == TDM_PR_TID_FMT_NAME_ISID) {
			memcpy(tmp + n, ISCSI_SEP, ISCSI_SEP_LEN);
			n += ISCSI_SEP_LEN;
			for (i = 0; i < 6; i++) {
				tmp[n++] = (uint8_t)hex[t->isid[i] >> 4];
				tmp[n++] = (uint8_t)hex[t->isid[i] & 0xF];
			}
		}
		n++; /* the null terminator, then pad to a multiple of 4 */
		addl = (n - 4 + 3) & ~(size_t)3;
		if (addl < 20) /* 7.6.4.6: at least 20 */
			addl = 20;
		tdm_put_be16(tmp + 2, (uint16_t)addl);
		n = 4 + addl;
		break;
	default: /* FC */
		memcpy(tmp + 8, t->id, 8);
		n = 24;
		break;
	}
	if (n <= cap)
		memcpy(buf, tmp, n);
	return n;
}
