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
	if (a->proto != TDM_PROTO_ISCSI)
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
	if (a->proto != TDM_PROTO_ISCSI)
		return a->len == b->len && !memcmp(a->id, b->id, a->len);
	if (!name_eq(a, b))
		return false;
	/* SPC-4 7.6.4.6: format 00b names the initiator device, i.e. every
	 * initiator port (ISID) of that iSCSI name */
	if (a->fmt == TDM_PR_TID_FMT_NAME || b->fmt == TDM_PR_TID_FMT_NAME)
		return true;
	return !memcmp(a->isid, b->isid, sizeof(a->isid));
}

/* ---- building ---- */

int tdm_pr_tid_iscsi(struct tdm_pr_tid *t, const char *name,
		     const uint8_t isid[6])
{
	size_t n = strlen(name);

	memset(t, 0, sizeof(*t));
	if (!n || n > TDM_PR_NAME_MAX)
		return -EINVAL;
	t->proto = TDM_PROTO_ISCSI;
	t->fmt = TDM_PR_TID_FMT_NAME_ISID;
	t->len = (uint16_t)n;
	memcpy(t->id, name, n);
	memcpy(t->isid, isid, sizeof(t->isid));
	return tdm__pr_tid_valid(t) ? 0 : -EINVAL;
}

int tdm_pr_tid_port(struct tdm_pr_tid *t, uint8_t proto, const uint8_t *id,
		    size_t len)
{
	memset(t, 0, sizeof(*t));
	if (proto == TDM_PROTO_ISCSI || len > sizeof(t->id))
		return -EINVAL;
	t->proto = proto;
	t->len = (uint16_t)len;
	memcpy(t->id, id, len);
	return tdm__pr_tid_valid(t) ? 0 : -EINVAL;
}

/* Is t a TransportID this code could have made (decode, state checks)? */
bool tdm__pr_tid_valid(const struct tdm_pr_tid *t)
{
	size_t i;

	switch (t->proto) {
	case TDM_PROTO_FC:
	case TDM_PROTO_SAS:
		return t->fmt == 0 && t->len == 8;
	case TDM_PROTO_SRP:
		return t->fmt == 0 && t->len == 16;
	case TDM_PROTO_ISCSI:
		if (t->fmt > TDM_PR_TID_FMT_NAME_ISID || !t->len ||
		    t->len > TDM_PR_NAME_MAX)
			return false;
		/* SPC-4 7.6.4.6: a UTF-8 name; RFC 7143 4.2.7.1: no
		 * white space, no control character */
		for (i = 0; i < t->len; i++)
			if (t->id[i] <= 0x20 || t->id[i] == 0x7F)
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

static void put_hex(uint8_t *dst, const uint8_t *src, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		dst[2 * i] = (uint8_t)hex[src[i] >> 4];
		dst[2 * i + 1] = (uint8_t)hex[src[i] & 0xF];
	}
}

/* The field of byte 0 (FORMAT CODE 7:6, reserved 5:4, PROTOCOL
 * IDENTIFIER 3:0) or of the name at byte off that is wrong. */
static int bad_field(struct tdm_pr_tid_err *e, size_t off, int8_t bit)
{
	e->byte = off;
	e->bit = bit;
	return -EINVAL;
}

int tdm_pr_tid_decode(const uint8_t *p, size_t avail, struct tdm_pr_tid *t,
		      size_t *used, struct tdm_pr_tid_err *e)
{
	uint8_t fmt, proto;
	size_t addl, slen, nlen, i;
	const uint8_t *s;

	memset(t, 0, sizeof(*t));
	e->byte = 0;
	e->bit = 7;
	if (avail < 4)
		return -EMSGSIZE;
	fmt = p[0] >> 6;
	proto = p[0] & 0x0F;
	if (p[0] & 0x30) /* reserved */
		return bad_field(e, 0, (p[0] & 0x20) ? 5 : 4);
	t->proto = proto;
	switch (proto) {
	case TDM_PROTO_FC:  /* 7.6.4.2: N_PORT_NAME at bytes 8-15 */
	case TDM_PROTO_SAS: /* 7.6.4.7: SAS ADDRESS at bytes 4-11 */
	case TDM_PROTO_SRP: /* 7.6.4.5: port identifier, bytes 8-23 */
		/* one format only: 00b */
		if (fmt)
			return bad_field(e, 0, 7);
		if (avail < 24)
			return -EMSGSIZE;
		if (proto == TDM_PROTO_SRP) {
			t->len = 16;
			memcpy(t->id, p + 8, 16);
		} else {
			t->len = 8;
			memcpy(t->id, p + (proto == TDM_PROTO_SAS ? 4 : 8), 8);
		}
		*used = 24;
		return 0;
	case TDM_PROTO_ISCSI:
		break;
	default: /* SPI, SSA, SBP, ADT, ATA, UAS, SOP: not here */
		return bad_field(e, 0, 3);
	}
	/* 7.6.4.6: iSCSI formats 00b and 01b, ADDITIONAL LENGTH a multiple
	 * of four */
	if (fmt > TDM_PR_TID_FMT_NAME_ISID)
		return bad_field(e, 0, 7);
	t->fmt = fmt;
	addl = tdm_get_be16(p + 2);
	if (addl % 4 || !addl)
		return bad_field(e, 2, 7);
	if (4 + addl > avail)
		return -EMSGSIZE;
	s = p + 4;
	for (slen = 0; slen < addl && s[slen]; slen++)
		;
	if (slen == addl) /* not null-terminated */
		return bad_field(e, 4, 7);
	nlen = slen;
	if (fmt == TDM_PR_TID_FMT_NAME_ISID) {
		if (slen < ISCSI_SEP_LEN + ISID_HEX + 1)
			return bad_field(e, 4, 7);
		nlen = slen - ISCSI_SEP_LEN - ISID_HEX;
		if (memcmp(s + nlen, ISCSI_SEP, ISCSI_SEP_LEN - 1) ||
		    lower(s[nlen + ISCSI_SEP_LEN - 1]) != 'x')
			return bad_field(e, 4 + nlen, 7);
		for (i = 0; i < ISID_HEX; i++) {
			int v = hexval(s[nlen + ISCSI_SEP_LEN + i]);

			if (v < 0)
				return bad_field(
					e, 4 + nlen + ISCSI_SEP_LEN + i, 7);
			t->isid[i / 2] = (uint8_t)(t->isid[i / 2] << 4 | v);
		}
	}
	if (!nlen || nlen > TDM_PR_NAME_MAX)
		return bad_field(e, 4, 7);
	t->len = (uint16_t)nlen;
	memcpy(t->id, s, nlen);
	if (!tdm__pr_tid_valid(t))
		return bad_field(e, 4, 7);
	*used = 4 + addl;
	return 0;
}

size_t tdm_pr_tid_encode(const struct tdm_pr_tid *t, uint8_t *buf, size_t cap)
{
	uint8_t tmp[4 + TDM_PR_NAME_MAX + ISCSI_SEP_LEN + ISID_HEX + 4];
	size_t n, addl;

	memset(tmp, 0, sizeof(tmp));
	tmp[0] = (uint8_t)(t->fmt << 6 | (t->proto & 0x0F));
	switch (t->proto) {
	case TDM_PROTO_SRP:
		memcpy(tmp + 8, t->id, 16);
		n = 24;
		break;
	case TDM_PROTO_SAS:
		memcpy(tmp + 4, t->id, 8);
		n = 24;
		break;
	case TDM_PROTO_ISCSI:
		memcpy(tmp + 4, t->id, t->len);
		n = 4 + t->len;
		if (t->fmt == TDM_PR_TID_FMT_NAME_ISID) {
			memcpy(tmp + n, ISCSI_SEP, ISCSI_SEP_LEN);
			n += ISCSI_SEP_LEN;
			put_hex(tmp + n, t->isid, sizeof(t->isid));
			n += ISID_HEX;
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

size_t tdm_pr_tid_name(const struct tdm_pr_tid *t, char *buf, size_t cap)
{
	uint8_t tmp[2 + 2 * sizeof(t->id) + ISCSI_SEP_LEN + ISID_HEX];
	size_t n = 0;

	if (t->proto == TDM_PROTO_ISCSI) {
		memcpy(tmp, t->id, t->len);
		n = t->len;
		if (t->fmt == TDM_PR_TID_FMT_NAME_ISID) {
			memcpy(tmp + n, ISCSI_SEP, ISCSI_SEP_LEN);
			n += ISCSI_SEP_LEN;
			put_hex(tmp + n, t->isid, sizeof(t->isid));
			n += ISID_HEX;
		}
	} else {
		tmp[n++] = '0';
		tmp[n++] = 'x';
		put_hex(tmp + n, t->id, t->len);
		n += 2u * t->len;
	}
	if (cap) {
		size_t k = n < cap ? n : cap - 1;

		memcpy(buf, tmp, k);
		buf[k] = '\0';
	}
	return n;
}
