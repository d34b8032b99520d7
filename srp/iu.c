/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * iu.c - the SCSI RDMA Protocol's information units as bytes (the codec
 * of srp_iu.h): login request in both layouts, the login decision,
 * SRP_LOGIN_RSP/REJ, SRP_CMD with its data buffer descriptors (direct,
 * indirect, SRP-2 immediate data), SRP_TSK_MGMT, SRP_RSP, SRP_T_LOGOUT.
 *
 * Pure: no RDMA, no allocation, no logging. Every read is bounded by the
 * length the caller gives; every multi-byte field is big-endian except
 * the tags, which are the initiator's 8 opaque bytes, copied as they came
 * and sent back the same way (a tag is the initiator's to interpret; the
 * target only echoes it).
 */
#include <errno.h>
#include <string.h>

#include "srp/srp_iu.h"
#include "tandem/scsi.h"

/* The fixed SRP_CMD fields before the immediate data: the 48-byte
 * SRP_CMD, an additional CDB of up to 16 bytes (what ib_srp sends) and
 * the 4-byte immediate data descriptor (SRP-2 r00a). */
#define IMM_OFFSET_MIN (TDM_SRP_CMD_LEN + 16 + 4)

/* the smallest SRP_LOGIN_REQ REQUESTED MAXIMUM INITIATOR TO TARGET IU
 * LENGTH (r16a 6.2: at least 64, the length of SRP_LOGIN_REQ itself) */
#define IT_IU_LEN_MIN 64

static uint64_t get_tag(const uint8_t *p)
{
	uint64_t t;

	memcpy(&t, p, sizeof(t));
	return t;
}

static void put_tag(uint8_t *p, uint64_t t)
{
	memcpy(p, &t, sizeof(t));
}

/* ---- login ---- */

/*
 * Linux's RDMA/CM private data (ib_srp since 4.17, struct
 * srp_login_req_rdma): tag 0..7, REQUIRED BUFFER FORMATS 8..9, REQUIRED
 * FLAGS 10, opcode 11, REQUESTED MAXIMUM IT IU LENGTH 12..15, INITIATOR
 * PORT IDENTIFIER 16..31, TARGET PORT IDENTIFIER 32..47, IMMEDIATE DATA
 * OFFSET 48..49, reserved 50..55.
 */
int tdm__srp_login_parse_rdma(const void *p, size_t len,
			      struct tdm_srp_login *l)
{
	const uint8_t *b = p;

	memset(l, 0, sizeof(*l));
	if (!b || len < TDM_SRP_LOGIN_REQ_RDMA_LEN ||
	    b[11] != TDM_SRP_LOGIN_REQ)
		return -EINVAL;
	l->tag = get_tag(b);
	l->req_buf_fmt = tdm_get_be16(b + 8);
	l->req_flags = b[10];
	l->req_it_iu_len = tdm_get_be32(b + 12);
	memcpy(l->initiator_port_id, b + 16, 16);
	memcpy(l->target_port_id, b + 32, 16);
	l->imm_data_offset = tdm_get_be16(b + 48);
	return 0;
}

/*
 * SRP_LOGIN_REQ (r16a 6.2; SRP-2 for the immediate data
 * offset): opcode 0, tag 8..15, REQUESTED MAXIMUM IT IU LENGTH 16..19,
 * REQUIRED BUFFER FORMATS 24..25, REQUIRED FLAGS 26, IMMEDIATE DATA
 * OFFSET 28..29, INITIATOR PORT IDENTIFIER 32..47, TARGET PORT
 * IDENTIFIER 48..63.
 */
int tdm__srp_login_parse(const void *p, size_t len, struct tdm_srp_login *l)
{
	const uint8_t *b = p;

	memset(l, 0, sizeof(*l));
	if (!b || len < TDM_SRP_LOGIN_REQ_LEN || b[0] != TDM_SRP_LOGIN_REQ)
		return -EINVAL;
	l->tag = get_tag(b + 8);
	l->req_it_iu_len = tdm_get_be32(b + 16);
	l->req_buf_fmt = tdm_get_be16(b + 24);
	l->req_flags = b[26];
	l->imm_data_offset = tdm_get_be16(b + 28);
	memcpy(l->initiator_port_id, b + 32, 16);
	memcpy(l->target_port_id, b + 48, 16);
	return 0;
}

uint32_t tdm__srp_login_check(const struct tdm_srp_login *l,
			      const struct tdm_srp_limits *lim,
			      struct tdm_srp_agreed *a)
{
	const uint16_t known = TDM_SRP_BUF_DIRECT | TDM_SRP_BUF_INDIRECT;

	memset(a, 0, sizeof(*a));
	/* r16a 6.4 table 12 has one reason about the length: ib_srpt
	 * answers it for a length below 64 too */
	if (l->req_it_iu_len > lim->max_req || l->req_it_iu_len < IT_IU_LEN_MIN)
		return TDM_SRP_REJ_IT_IU_TOO_LARGE;
	/* r16a 6.2 table 9: the formats both ports support */
	a->buf_fmt = l->req_buf_fmt & lim->buf_fmt & known;
	if (!a->buf_fmt)
		return TDM_SRP_REJ_UNSUPPORTED_FMT;
	/* SRP-2: immediate data is the IMMEDIATE descriptor format; its
	 * data must not overlap the fixed SRP_CMD fields and must have room
	 * inside the IU the initiator will send */
	if ((l->req_flags & TDM_SRP_IMMED_REQUESTED) && lim->imm) {
		if (l->imm_data_offset < IMM_OFFSET_MIN ||
		    l->imm_data_offset >= l->req_it_iu_len)
			return TDM_SRP_REJ_UNSUPPORTED_FMT;
		a->imm = true;
		a->imm_data_offset = l->imm_data_offset;
	}
	a->max_it_iu_len = l->req_it_iu_len;
	a->max_ti_iu_len = lim->max_rsp;
	a->multichan = l->req_flags & TDM_SRP_MULTICHAN_MASK;
	return 0;
}

/*
 * SRP_LOGIN_RSP (r16a 6.3): opcode 0, REQUEST LIMIT DELTA
 * 4..7, tag 8..15, MAXIMUM INITIATOR TO TARGET IU LENGTH 16..19, MAXIMUM
 * TARGET TO INITIATOR IU LENGTH 20..23, SUPPORTED BUFFER FORMATS 24..25,
 * RESPONSE FLAGS 26, reserved to 51. IMMED_SUPP says a->imm, nothing
 * else (SRP-2).
 */
size_t tdm__srp_login_rsp(uint8_t *buf, size_t cap, uint64_t tag,
			  uint32_t req_lim_delta,
			  const struct tdm_srp_agreed *a, uint8_t rsp_flags)
{
	if (cap < TDM_SRP_LOGIN_RSP_LEN)
		return 0;
	memset(buf, 0, TDM_SRP_LOGIN_RSP_LEN);
	buf[0] = TDM_SRP_LOGIN_RSP;
	tdm_put_be32(buf + 4, req_lim_delta);
	put_tag(buf + 8, tag);
	tdm_put_be32(buf + 16, a->max_it_iu_len);
	tdm_put_be32(buf + 20, a->max_ti_iu_len);
	tdm_put_be16(buf + 24, a->buf_fmt);
	buf[26] = (uint8_t)((rsp_flags & ~TDM_SRP_LRSP_IMMED_SUPP) |
			    (a->imm ? TDM_SRP_LRSP_IMMED_SUPP : 0));
	return TDM_SRP_LOGIN_RSP_LEN;
}

/*
 * SRP_LOGIN_REJ (r16a 6.4): opcode 0, REASON 4..7, tag 8..15,
 * SUPPORTED BUFFER FORMATS 24..25, reserved to 31.
 */
size_t tdm__srp_login_rej(uint8_t *buf, size_t cap, uint64_t tag,
			  uint32_t reason, uint16_t buf_fmt)
{
	if (cap < TDM_SRP_LOGIN_REJ_LEN)
		return 0;
	memset(buf, 0, TDM_SRP_LOGIN_REJ_LEN);
	buf[0] = TDM_SRP_LOGIN_REJ;
	tdm_put_be32(buf + 4, reason);
	put_tag(buf + 8, tag);
	tdm_put_be16(buf + 24, buf_fmt);
	return TDM_SRP_LOGIN_REJ_LEN;
}

/* ---- SRP_CMD ---- */

/* A direction's descriptor format against what the login agreed on. */
static bool fmt_agreed(uint8_t fmt, uint8_t dir, const struct tdm_srp_agreed *a)
{
	switch (fmt) {
	case TDM_SRP_FMT_DIRECT:
		return a->buf_fmt & TDM_SRP_BUF_DIRECT;
	case TDM_SRP_FMT_INDIRECT:
		return a->buf_fmt & TDM_SRP_BUF_INDIRECT;
	case TDM_SRP_FMT_IMM:
		/* SRP-2: immediate data carries data-out only */
		return a->imm && dir == TDM_SRP_DIR_OUT;
	default:
		return false; /* r16a 6.8: the other values are reserved */
	}
}

/*
 * An indirect data buffer descriptor at off (r16a 5.2): the table's
 * memory descriptor (16 bytes: va, key, TABLE LENGTH), TOTAL LENGTH
 * (4), then the partial memory descriptor list of count descriptors.
 * Only a table all inside the IU is supported: its length equals the
 * partial list (Linux sends a longer one, an external table, only with
 * allow_ext_sg).
 */
static enum tdm_srp_iu_err parse_indirect(const uint8_t *iu, size_t len,
					  size_t off, uint8_t count,
					  struct tdm_srp_cmd_iu *c)
{
	size_t list = off + TDM_SRP_IND_HDR_LEN;
	uint32_t table_len, total;
	uint64_t sum = 0;

	if (len < list || len - list < (size_t)count * TDM_SRP_DESC_LEN)
		return TDM_SRP_IU_FIELDS;
	table_len = tdm_get_be32(iu + off + 12);
	total = tdm_get_be32(iu + off + 16);
	if (table_len % TDM_SRP_DESC_LEN)
		return TDM_SRP_IU_FIELDS;
	if (table_len / TDM_SRP_DESC_LEN > count)
		return TDM_SRP_IU_EXT_TABLE;
	if (table_len / TDM_SRP_DESC_LEN < count)
		return TDM_SRP_IU_FIELDS; /* the count says more than the table
					   */
	for (uint32_t i = 0; i < count; i++)
		sum += tdm_get_be32(iu + list + i * TDM_SRP_DESC_LEN + 12);
	if (sum != total)
		return TDM_SRP_IU_FIELDS;
	c->data_len = total;
	c->ndesc = count;
	c->desc = count ? iu + list : NULL;
	return TDM_SRP_IU_OK;
}

/*
 * SRP-2 immediate data: the 4-byte descriptor (its LENGTH) at off, the
 * data at the offset the login agreed on, after the descriptor, all
 * inside what arrived and inside the IU length the initiator announced.
 */
static enum tdm_srp_iu_err parse_imm(const uint8_t *iu, size_t len, size_t off,
				     const struct tdm_srp_agreed *a,
				     struct tdm_srp_cmd_iu *c)
{
	uint64_t end;
	uint32_t n;

	if (len < off + 4 || off + 4 > a->imm_data_offset)
		return TDM_SRP_IU_FIELDS;
	n = tdm_get_be32(iu + off);
	end = (uint64_t)a->imm_data_offset + n;
	if (end > len || end > a->max_it_iu_len)
		return TDM_SRP_IU_FIELDS;
	c->data_len = n;
	c->imm = iu + a->imm_data_offset;
	return TDM_SRP_IU_OK;
}

/*
 * SRP_CMD (r16a 6.8): opcode 0, SOLNT 1, DATA-OUT (bits 7..4)
 * and DATA-IN (bits 3..0) BUFFER DESCRIPTOR FORMAT 5, DATA-OUT and
 * DATA-IN BUFFER DESCRIPTOR COUNT 6 and 7, tag 8..15, LUN 20..27, TASK
 * ATTRIBUTE 29 (bits 2..0), ADDITIONAL CDB LENGTH 31 (bits 7..2, in
 * 4-byte words), CDB 32..47, the additional CDB, then the data-out and
 * the data-in buffer descriptors. The descriptor counts count the
 * partial memory descriptor list of an indirect descriptor; for the
 * other formats they are not used (ib_srp leaves them 0).
 */
enum tdm_srp_iu_err tdm__srp_cmd_parse(const uint8_t *iu, size_t len,
				       const struct tdm_srp_agreed *a,
				       struct tdm_srp_cmd_iu *c)
{
	uint8_t out_fmt, in_fmt;
	size_t off;

	memset(c, 0, sizeof(*c));
	if (len >= 16)
		c->tag = get_tag(iu + 8);
	if (len < TDM_SRP_CMD_LEN)
		return TDM_SRP_IU_SHORT;
	if (iu[0] != TDM_SRP_CMD)
		return TDM_SRP_IU_FIELDS;
	c->sol_not = iu[1];
	c->lun = tdm_get_be64(iu + 20);
	c->task_attr = iu[29] & 0x07;
	c->cdb = iu + 32;
	c->cdb_len = (uint16_t)(16 + (iu[31] & ~3u));
	off = TDM_SRP_CMD_LEN + (iu[31] & ~3u);
	if (len < off)
		return TDM_SRP_IU_FIELDS; /* the additional CDB is not all there
					   */

	out_fmt = iu[5] >> 4;
	in_fmt = iu[5] & 0x0f;
	if (out_fmt && in_fmt)
		return TDM_SRP_IU_FIELDS; /* bidirectional: not supported */
	if (out_fmt) {
		c->dir = TDM_SRP_DIR_OUT;
		c->fmt = out_fmt;
	} else if (in_fmt) {
		c->dir = TDM_SRP_DIR_IN;
		c->fmt = in_fmt;
	} else {
		return TDM_SRP_IU_OK; /* no data */
	}
	if (!fmt_agreed(c->fmt, c->dir, a))
		return TDM_SRP_IU_FIELDS;

	switch (c->fmt) {
	case TDM_SRP_FMT_DIRECT:
		/* a memory descriptor (r16a 5.2.2): va, key, length */
		if (len - off < TDM_SRP_DESC_LEN)
			return TDM_SRP_IU_FIELDS;
		c->ndesc = 1;
		c->desc = iu + off;
		c->data_len = tdm_get_be32(iu + off + 12);
		return TDM_SRP_IU_OK;
	case TDM_SRP_FMT_INDIRECT:
		return parse_indirect(iu, len, off,
				      c->dir == TDM_SRP_DIR_OUT ? iu[6] : iu[7],
				      c);
	default:
		return parse_imm(iu, len, off, a, c);
	}
}

void tdm__srp_desc_get(const struct tdm_srp_cmd_iu *c, uint32_t i,
		       struct tdm_srp_desc *d)
{
	const uint8_t *p;

	if (i >= c->ndesc || !c->desc) {
		memset(d, 0, sizeof(*d));
		return;
	}
	p = c->desc + (size_t)i * TDM_SRP_DESC_LEN;
	d->va = tdm_get_be64(p);
	d->key = tdm_get_be32(p + 8);
	d->len = tdm_get_be32(p + 12);
}

/* ---- SRP_TSK_MGMT, opcodes ---- */

/*
 * SRP_TSK_MGMT (r16a 6.7): opcode 0, SOLNT 1, tag 8..15, LUN
 * 20..27, TASK MANAGEMENT FLAGS 30, TAG OF TASK TO BE MANAGED 32..39
 * (an initiator's tag: opaque as well).
 */
enum tdm_srp_iu_err tdm__srp_tmf_parse(const uint8_t *iu, size_t len,
				       struct tdm_srp_tmf_iu *t)
{
	memset(t, 0, sizeof(*t));
	if (len >= 16)
		t->tag = get_tag(iu + 8);
	if (len < TDM_SRP_TSK_MGMT_LEN)
		return TDM_SRP_IU_SHORT;
	if (iu[0] != TDM_SRP_TSK_MGMT)
		return TDM_SRP_IU_FIELDS;
	t->sol_not = iu[1];
	t->lun = tdm_get_be64(iu + 20);
	t->fn = iu[30];
	t->task_tag = get_tag(iu + 32);
	return TDM_SRP_IU_OK;
}

/* Every IU starts with its type (r16a 5.1, table 6) and, from byte 8,
 * its tag. */
uint8_t tdm__srp_iu_opcode(const uint8_t *iu, size_t len, uint64_t *tag)
{
	if (tag)
		*tag = len >= 16 ? get_tag(iu + 8) : 0;
	return len ? iu[0] : 0xff;
}

/* ---- target to initiator ---- */

/*
 * SRP_RSP (r16a 6.9): opcode 0, SOLNT 1, REQUEST LIMIT DELTA
 * 4..7, tag 8..15, flags 18, STATUS 19, DATA-OUT RESIDUAL COUNT 20..23,
 * DATA-IN RESIDUAL COUNT 24..27, SENSE DATA LIST LENGTH 28..31, RESPONSE
 * DATA LIST LENGTH 32..35, the response data (4 bytes, RESPONSE CODE in
 * its byte 3: table 25), then the sense data. A residual count is sent
 * only with its OVER or UNDER flag (else the field is 0).
 */
size_t tdm__srp_rsp_build(uint8_t *buf, size_t cap, const struct tdm_srp_rsp *r)
{
	const uint8_t resid = TDM_SRP_RSP_DOOVER | TDM_SRP_RSP_DOUNDER |
			      TDM_SRP_RSP_DIOVER | TDM_SRP_RSP_DIUNDER;
	size_t hdr = TDM_SRP_RSP_LEN + (r->resp_code >= 0 ? 4 : 0);
	size_t sense = r->sense ? r->sense_len : 0;
	uint8_t flags = r->flags & resid;

	if (cap < hdr)
		return 0;
	if (sense > cap - hdr)
		sense = cap - hdr;
	memset(buf, 0, hdr);
	buf[0] = TDM_SRP_RSP;
	buf[1] = r->sol_not;
	tdm_put_be32(buf + 4, r->req_lim_delta);
	put_tag(buf + 8, r->tag);
	buf[19] = r->status;
	if (flags & (TDM_SRP_RSP_DOOVER | TDM_SRP_RSP_DOUNDER))
		tdm_put_be32(buf + 20, r->do_resid);
	if (flags & (TDM_SRP_RSP_DIOVER | TDM_SRP_RSP_DIUNDER))
		tdm_put_be32(buf + 24, r->di_resid);
	if (r->resp_code >= 0) {
		flags |= TDM_SRP_RSP_RSPVALID;
		tdm_put_be32(buf + 32, 4);
		buf[TDM_SRP_RSP_LEN + 3] = (uint8_t)r->resp_code;
	}
	if (sense) {
		flags |= TDM_SRP_RSP_SNSVALID;
		tdm_put_be32(buf + 28, (uint32_t)sense);
		memcpy(buf + hdr, r->sense, sense);
	}
	buf[18] = flags;
	return hdr + sense;
}

/* SRP_T_LOGOUT (r16a 6.6): opcode 0, SOLNT 1, REASON 4..7,
 * tag 8..15. */
size_t tdm__srp_t_logout(uint8_t *buf, size_t cap, uint32_t reason,
			 uint64_t tag)
{
	if (cap < TDM_SRP_T_LOGOUT_LEN)
		return 0;
	memset(buf, 0, TDM_SRP_T_LOGOUT_LEN);
	buf[0] = TDM_SRP_T_LOGOUT;
	tdm_put_be32(buf + 4, reason);
	put_tag(buf + 8, tag);
	return TDM_SRP_T_LOGOUT_LEN;
}

void tdm__srp_port_id_str(const uint8_t id[16], char buf[35])
{
	static const char hex[] = "0123456789abcdef";

	buf[0] = '0';
	buf[1] = 'x';
	for (int i = 0; i < 16; i++) {
		buf[2 + 2 * i] = hex[id[i] >> 4];
		buf[3 + 2 * i] = hex[id[i] & 0x0f];
	}
	buf[34] = '\0';
}
