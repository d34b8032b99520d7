/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * test_srp_iu.c - the SRP information units' codec (srp/iu.c): the login
 * request in both layouts and the login decision, SRP_LOGIN_RSP/REJ,
 * SRP_CMD and its descriptors (every refusal srp_iu.h lists), SRP_TSK_MGMT,
 * SRP_RSP, SRP_T_LOGOUT, byte for byte (layouts: SRP r16a 6, Linux's
 * struct srp_login_req_rdma).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "srp/srp_iu.h"
#include "tandem/config.h"
#include "tandem/scsi.h"

/* a tag as the initiator sent it: 8 bytes the target never interprets */
static const uint8_t TAG[8] = {0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6, 0x07, 0x18};
static const uint8_t TAG2[8] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88};

static uint64_t tag_of(const uint8_t b[8])
{
	uint64_t t;

	memcpy(&t, b, 8);
	return t;
}

static void fill_ids(uint8_t *ini, uint8_t *tgt)
{
	for (int i = 0; i < 16; i++) {
		ini[i] = (uint8_t)(0x10 + i);
		tgt[i] = (uint8_t)(0x80 + i);
	}
}

/* SRP_LOGIN_REQ, the IU (r16a 6.2) */
static void mk_login_iu(uint8_t b[64], uint32_t it_iu_len, uint16_t fmt,
			uint8_t flags, uint16_t imm_off)
{
	memset(b, 0, 64);
	b[0] = TDM_SRP_LOGIN_REQ;
	memcpy(b + 8, TAG, 8);
	tdm_put_be32(b + 16, it_iu_len);
	tdm_put_be16(b + 24, fmt);
	b[26] = flags;
	tdm_put_be16(b + 28, imm_off);
	fill_ids(b + 32, b + 48);
}

/* struct srp_login_req_rdma: Linux's RDMA/CM private data */
static void mk_login_rdma(uint8_t b[56], uint32_t it_iu_len, uint16_t fmt,
			  uint8_t flags, uint16_t imm_off)
{
	memset(b, 0, 56);
	memcpy(b, TAG, 8);
	tdm_put_be16(b + 8, fmt);
	b[10] = flags;
	b[11] = TDM_SRP_LOGIN_REQ;
	tdm_put_be32(b + 12, it_iu_len);
	fill_ids(b + 16, b + 32);
	tdm_put_be16(b + 48, imm_off);
}

static void check_login(const struct tdm_srp_login *l, uint32_t it_iu_len,
			uint16_t fmt, uint8_t flags, uint16_t imm_off)
{
	uint8_t ini[16], tgt[16];

	fill_ids(ini, tgt);
	assert_memory_equal(&l->tag, TAG, 8);
	assert_int_equal(l->req_it_iu_len, it_iu_len);
	assert_int_equal(l->req_buf_fmt, fmt);
	assert_int_equal(l->req_flags, flags);
	assert_int_equal(l->imm_data_offset, imm_off);
	assert_memory_equal(l->initiator_port_id, ini, 16);
	assert_memory_equal(l->target_port_id, tgt, 16);
}

/* ib_srp's login (ib_srp.c srp_send_req, srp_max_it_iu_len): 48 + 16 +
 * 20 + 12 * 16 for the commands, 68 + 8192 with immediate data */
#define IB_SRP_IT_IU_LEN 8260
#define IB_SRP_FMT (TDM_SRP_BUF_DIRECT | TDM_SRP_BUF_INDIRECT)
#define IB_SRP_FLAGS (TDM_SRP_MULTICHAN_MULTI | TDM_SRP_IMMED_REQUESTED)

static void test_login_parse_iu(void **state)
{
	uint8_t b[80];
	struct tdm_srp_login l;

	(void)state;
	mk_login_iu(b, IB_SRP_IT_IU_LEN, IB_SRP_FMT, IB_SRP_FLAGS, 68);
	assert_int_equal(tdm__srp_login_parse(b, 64, &l), 0);
	check_login(&l, IB_SRP_IT_IU_LEN, IB_SRP_FMT, IB_SRP_FLAGS, 68);
	/* longer is fine, what follows is not read */
	memset(b + 64, 0xee, 16);
	assert_int_equal(tdm__srp_login_parse(b, 80, &l), 0);
	check_login(&l, IB_SRP_IT_IU_LEN, IB_SRP_FMT, IB_SRP_FLAGS, 68);
	/* one byte short, and every shorter length */
	for (size_t n = 0; n < 64; n++)
		assert_int_equal(tdm__srp_login_parse(b, n, &l), -EINVAL);
	/* not SRP_LOGIN_REQ */
	b[0] = TDM_SRP_CMD;
	assert_int_equal(tdm__srp_login_parse(b, 64, &l), -EINVAL);
	/* the RDMA/CM layout is not the IU layout */
	mk_login_rdma(b, IB_SRP_IT_IU_LEN, IB_SRP_FMT, IB_SRP_FLAGS, 68);
	b[0] = 0x01; /* a tag byte that is no SRP_LOGIN_REQ opcode */
	assert_int_equal(tdm__srp_login_parse(b, 64, &l), -EINVAL);
	print_message("login IU: 64 and 80 bytes parsed, 64 shorter lengths "
		      "and 2 wrong opcodes refused\n");
}

static void test_login_parse_rdma(void **state)
{
	uint8_t b[64];
	struct tdm_srp_login l;

	(void)state;
	mk_login_rdma(b, IB_SRP_IT_IU_LEN, IB_SRP_FMT, IB_SRP_FLAGS, 68);
	assert_int_equal(tdm__srp_login_parse_rdma(b, 56, &l), 0);
	check_login(&l, IB_SRP_IT_IU_LEN, IB_SRP_FMT, IB_SRP_FLAGS, 68);
	/* private data longer than the request: padding */
	memset(b + 56, 0xee, 8);
	assert_int_equal(tdm__srp_login_parse_rdma(b, 64, &l), 0);
	check_login(&l, IB_SRP_IT_IU_LEN, IB_SRP_FMT, IB_SRP_FLAGS, 68);
	for (size_t n = 0; n < 56; n++)
		assert_int_equal(tdm__srp_login_parse_rdma(b, n, &l), -EINVAL);
	/* the opcode is byte 11 in this layout */
	b[11] = TDM_SRP_TSK_MGMT;
	assert_int_equal(tdm__srp_login_parse_rdma(b, 56, &l), -EINVAL);
	/* an IU-layout request is refused: its byte 11 is a tag byte
	 * (0xd4 here), not SRP_LOGIN_REQ */
	mk_login_iu(b, IB_SRP_IT_IU_LEN, IB_SRP_FMT, IB_SRP_FLAGS, 68);
	assert_int_equal(tdm__srp_login_parse_rdma(b, 64, &l), -EINVAL);
	print_message("login RDMA/CM: 56 and 64 bytes parsed, 56 shorter "
		      "lengths and 2 wrong opcodes refused\n");
}

static const struct tdm_srp_limits DEF_LIM = {
	.max_req = TDM_SRP_DEF_MAX_REQ,
	.max_rsp = TDM_SRP_DEF_MAX_RSP,
	.req_lim = 128,
	.buf_fmt = TDM_SRP_BUF_DIRECT | TDM_SRP_BUF_INDIRECT,
	.imm = true,
};

static struct tdm_srp_login login_of(uint32_t it_iu_len, uint16_t fmt,
				     uint8_t flags, uint16_t imm_off)
{
	uint8_t b[64];
	struct tdm_srp_login l;

	mk_login_iu(b, it_iu_len, fmt, flags, imm_off);
	assert_int_equal(tdm__srp_login_parse(b, 64, &l), 0);
	return l;
}

static void test_login_check_ib_srp(void **state)
{
	struct tdm_srp_login l;
	struct tdm_srp_agreed a;

	(void)state;
	l = login_of(IB_SRP_IT_IU_LEN, IB_SRP_FMT, IB_SRP_FLAGS, 68);
	assert_int_equal(tdm__srp_login_check(&l, &DEF_LIM, &a), 0);
	assert_int_equal(a.max_it_iu_len, IB_SRP_IT_IU_LEN);
	assert_int_equal(a.max_ti_iu_len, TDM_SRP_DEF_MAX_RSP);
	assert_int_equal(a.buf_fmt, IB_SRP_FMT);
	assert_true(a.imm);
	assert_int_equal(a.imm_data_offset, 68);
	assert_int_equal(a.multichan, TDM_SRP_MULTICHAN_MULTI);
	/* the same without immediate data, single channel */
	l = login_of(276, IB_SRP_FMT, TDM_SRP_MULTICHAN_SINGLE, 0);
	assert_int_equal(tdm__srp_login_check(&l, &DEF_LIM, &a), 0);
	assert_int_equal(a.max_it_iu_len, 276);
	assert_false(a.imm);
	assert_int_equal(a.imm_data_offset, 0);
	assert_int_equal(a.multichan, TDM_SRP_MULTICHAN_SINGLE);
	print_message("ib_srp's login (8260, DIRECT|INDIRECT, IMMED at 68) "
		      "accepted with max_req %u, max_rsp %u\n",
		      TDM_SRP_DEF_MAX_REQ, TDM_SRP_DEF_MAX_RSP);
}

static void test_login_check_refusals(void **state)
{
	struct tdm_srp_login l;
	struct tdm_srp_limits lim = DEF_LIM;
	struct tdm_srp_agreed a;
	int n = 0;

	(void)state;
	/* IU length: above max_req, below 64 (r16a 6.4 table 12) */
	l = login_of(TDM_SRP_DEF_MAX_REQ + 1, IB_SRP_FMT, 0, 0);
	assert_int_equal(tdm__srp_login_check(&l, &lim, &a),
			 TDM_SRP_REJ_IT_IU_TOO_LARGE),
		n++;
	l = login_of(TDM_SRP_DEF_MAX_REQ, IB_SRP_FMT, 0, 0);
	assert_int_equal(tdm__srp_login_check(&l, &lim, &a), 0);
	l = login_of(63, IB_SRP_FMT, 0, 0);
	assert_int_equal(tdm__srp_login_check(&l, &lim, &a),
			 TDM_SRP_REJ_IT_IU_TOO_LARGE),
		n++;
	l = login_of(0xffffffffu, IB_SRP_FMT, 0, 0);
	assert_int_equal(tdm__srp_login_check(&l, &lim, &a),
			 TDM_SRP_REJ_IT_IU_TOO_LARGE),
		n++;
	l = login_of(64, IB_SRP_FMT, 0, 0);
	assert_int_equal(tdm__srp_login_check(&l, &lim, &a), 0);
	assert_int_equal(a.max_it_iu_len, 64);

	/* buffer formats: none in common */
	l = login_of(276, TDM_SRP_BUF_DIRECT, 0, 0);
	lim.buf_fmt = TDM_SRP_BUF_INDIRECT;
	assert_int_equal(tdm__srp_login_check(&l, &lim, &a),
			 TDM_SRP_REJ_UNSUPPORTED_FMT),
		n++;
	l = login_of(276, 0, 0, 0);
	lim.buf_fmt = IB_SRP_FMT;
	assert_int_equal(tdm__srp_login_check(&l, &lim, &a),
			 TDM_SRP_REJ_UNSUPPORTED_FMT),
		n++;
	/* bits of no format are not a format */
	l = login_of(276, 0xfff9, 0, 0);
	assert_int_equal(tdm__srp_login_check(&l, &lim, &a),
			 TDM_SRP_REJ_UNSUPPORTED_FMT),
		n++;
	/* the intersection */
	l = login_of(276, 0xffff, 0, 0);
	lim.buf_fmt = TDM_SRP_BUF_INDIRECT;
	assert_int_equal(tdm__srp_login_check(&l, &lim, &a), 0);
	assert_int_equal(a.buf_fmt, TDM_SRP_BUF_INDIRECT);
	lim.buf_fmt = IB_SRP_FMT;

	/* immediate data offset: not past 48 + 16 + 4 */
	l = login_of(IB_SRP_IT_IU_LEN, IB_SRP_FMT, IB_SRP_FLAGS, 67);
	assert_int_equal(tdm__srp_login_check(&l, &lim, &a),
			 TDM_SRP_REJ_UNSUPPORTED_FMT),
		n++;
	l = login_of(IB_SRP_IT_IU_LEN, IB_SRP_FMT, IB_SRP_FLAGS, 48);
	assert_int_equal(tdm__srp_login_check(&l, &lim, &a),
			 TDM_SRP_REJ_UNSUPPORTED_FMT),
		n++;
	/* ... or leaving no byte of data inside the IU */
	l = login_of(200, IB_SRP_FMT, IB_SRP_FLAGS, 200);
	assert_int_equal(tdm__srp_login_check(&l, &lim, &a),
			 TDM_SRP_REJ_UNSUPPORTED_FMT),
		n++;
	l = login_of(200, IB_SRP_FMT, IB_SRP_FLAGS, 0xffff);
	assert_int_equal(tdm__srp_login_check(&l, &lim, &a),
			 TDM_SRP_REJ_UNSUPPORTED_FMT),
		n++;
	l = login_of(200, IB_SRP_FMT, IB_SRP_FLAGS, 199);
	assert_int_equal(tdm__srp_login_check(&l, &lim, &a), 0);
	assert_true(a.imm);
	assert_int_equal(a.imm_data_offset, 199);

	/* immediate data requested, not supported: no immediate data, and
	 * its offset (even a wrong one) does not matter */
	lim.imm = false;
	l = login_of(IB_SRP_IT_IU_LEN, IB_SRP_FMT, IB_SRP_FLAGS, 68);
	assert_int_equal(tdm__srp_login_check(&l, &lim, &a), 0);
	assert_false(a.imm);
	assert_int_equal(a.imm_data_offset, 0);
	l = login_of(IB_SRP_IT_IU_LEN, IB_SRP_FMT, IB_SRP_FLAGS, 3);
	assert_int_equal(tdm__srp_login_check(&l, &lim, &a), 0);
	assert_false(a.imm);
	/* supported, not requested: the offset is not looked at */
	lim.imm = true;
	l = login_of(IB_SRP_IT_IU_LEN, IB_SRP_FMT, TDM_SRP_MULTICHAN_MULTI, 3);
	assert_int_equal(tdm__srp_login_check(&l, &lim, &a), 0);
	assert_false(a.imm);
	assert_int_equal(a.imm_data_offset, 0);
	print_message("login_check: %d refusals with their reasons, 8 "
		      "acceptances at the edges\n",
		      n);
}

static void test_login_rsp_rej(void **state)
{
	static const uint8_t want_rsp[52] = {
		0xc0, 0,    0,	  0,
		0x00, 0x00, 0x01, 0x00, /* req_lim_delta 256 */
		0xa1, 0xb2, 0xc3, 0xd4,
		0xe5, 0xf6, 0x07, 0x18, /* tag */
		0x00, 0x00, 0x20, 0x44, /* max_it_iu_len 8260 */
		0x00, 0x00, 0x01, 0x00, /* max_ti_iu_len 256 */
		0x00, 0x06,		/* DIRECT | INDIRECT */
		0x82,			/* IMMED_SUPP | MAINTAINED */
	};
	static const uint8_t want_rej[32] = {
		0xc2, 0,    0,	  0,	/* SRP_LOGIN_REJ */
		0x00, 0x01, 0x00, 0x02, /* IT_IU_TOO_LARGE */
		0xa1, 0xb2, 0xc3, 0xd4, /* tag */
		0xe5, 0xf6, 0x07, 0x18, /* tag */
		0,    0,    0,	  0,	/* reserved */
		0,    0,    0,	  0,	/* reserved */
		0x00, 0x06,		/* DIRECT | INDIRECT */
	};
	struct tdm_srp_agreed a = {
		.max_it_iu_len = 8260,
		.max_ti_iu_len = 256,
		.buf_fmt = IB_SRP_FMT,
		.imm = true,
		.imm_data_offset = 68,
		.multichan = TDM_SRP_MULTICHAN_MULTI,
	};
	uint8_t b[64];

	(void)state;
	memset(b, 0x5a, sizeof(b));
	assert_int_equal(tdm__srp_login_rsp(b, 52, tag_of(TAG), 256, &a,
					    TDM_SRP_LRSP_MAINTAINED),
			 52);
	assert_memory_equal(b, want_rsp, 52);
	assert_int_equal(b[52], 0x5a); /* nothing past it */
	/* IMMED_SUPP says a->imm, whatever the caller passed */
	a.imm = false;
	assert_int_equal(tdm__srp_login_rsp(b, 64, tag_of(TAG), 256, &a,
					    TDM_SRP_LRSP_IMMED_SUPP |
						    TDM_SRP_LRSP_TERMINATED),
			 52);
	assert_int_equal(b[26], TDM_SRP_LRSP_TERMINATED);
	memset(b, 0x5a, sizeof(b));
	assert_int_equal(tdm__srp_login_rsp(b, 51, tag_of(TAG), 256, &a, 0), 0);
	assert_int_equal(b[0], 0x5a);

	memset(b, 0x5a, sizeof(b));
	assert_int_equal(tdm__srp_login_rej(b, 32, tag_of(TAG),
					    TDM_SRP_REJ_IT_IU_TOO_LARGE,
					    IB_SRP_FMT),
			 32);
	assert_memory_equal(b, want_rej, 32);
	assert_int_equal(b[32], 0x5a);
	memset(b, 0x5a, sizeof(b));
	assert_int_equal(tdm__srp_login_rej(b, 31, tag_of(TAG),
					    TDM_SRP_REJ_IT_IU_TOO_LARGE,
					    IB_SRP_FMT),
			 0);
	assert_int_equal(b[0], 0x5a);
	print_message("SRP_LOGIN_RSP 52 and SRP_LOGIN_REJ 32 bytes as "
		      "expected; one byte less room: nothing written\n");
}

/* ---- SRP_CMD ---- */

static const struct tdm_srp_agreed AGREED = {
	.max_it_iu_len = 8260,
	.max_ti_iu_len = 256,
	.buf_fmt = TDM_SRP_BUF_DIRECT | TDM_SRP_BUF_INDIRECT,
	.imm = true,
	.imm_data_offset = 68,
	.multichan = TDM_SRP_MULTICHAN_MULTI,
};

/* an SRP_CMD header (r16a 6.8): READ(16)-like CDB, LUN 0x0001... */
static void mk_cmd(uint8_t *iu, size_t cap, uint8_t fmt, uint8_t out_cnt,
		   uint8_t in_cnt, uint8_t add_cdb_len)
{
	memset(iu, 0, cap);
	iu[0] = TDM_SRP_CMD;
	iu[1] = 0x06; /* SOLNT bits */
	iu[5] = fmt;
	iu[6] = out_cnt;
	iu[7] = in_cnt;
	memcpy(iu + 8, TAG, 8);
	tdm_put_be64(iu + 20, 0x0001020304050607ull);
	iu[29] = 0xfa; /* reserved bits set, TASK ATTRIBUTE 2 (ORDERED) */
	iu[31] = add_cdb_len;
	for (int i = 0; i < 16 + (add_cdb_len & ~3); i++)
		iu[32 + i] = (uint8_t)(0x88 + i);
}

static void put_desc(uint8_t *p, uint64_t va, uint32_t key, uint32_t len)
{
	tdm_put_be64(p, va);
	tdm_put_be32(p + 8, key);
	tdm_put_be32(p + 12, len);
}

/* an indirect descriptor at off: table (va, key, table_len), total, then
 * n descriptors of lengths len0, len0 + 1, ... */
static size_t put_indirect(uint8_t *iu, size_t off, uint32_t n,
			   uint32_t table_len, uint32_t len0, uint32_t *total)
{
	uint32_t sum = 0;

	put_desc(iu + off, 0x7000000000ull, 0x99, table_len);
	for (uint32_t i = 0; i < n; i++) {
		put_desc(iu + off + 20 + 16 * i, 0x1000000000ull * (i + 1),
			 0x100 + i, len0 + i);
		sum += len0 + i;
	}
	tdm_put_be32(iu + off + 16, sum);
	if (total)
		*total = sum;
	return off + 20 + 16 * n;
}

static void check_common(const struct tdm_srp_cmd_iu *c, const uint8_t *iu)
{
	assert_int_equal(c->tag, tag_of(TAG));
	assert_true(c->lun == 0x0001020304050607ull);
	assert_int_equal(c->task_attr, 2);
	assert_int_equal(c->sol_not, 0x06);
	assert_ptr_equal(c->cdb, iu + 32);
}

static void test_cmd_no_data(void **state)
{
	uint8_t iu[300];
	struct tdm_srp_cmd_iu c;

	(void)state;
	mk_cmd(iu, sizeof(iu), 0x00, 0, 0, 0);
	assert_int_equal(tdm__srp_cmd_parse(iu, 48, &AGREED, &c),
			 TDM_SRP_IU_OK);
	check_common(&c, iu);
	assert_int_equal(c.cdb_len, 16);
	assert_int_equal(c.dir, TDM_SRP_DIR_NONE);
	assert_int_equal(c.fmt, TDM_SRP_FMT_NONE);
	assert_int_equal(c.data_len, 0);
	assert_int_equal(c.ndesc, 0);
	assert_null(c.desc);
	assert_null(c.imm);
	/* descriptor counts without a format are not looked at */
	iu[6] = 3;
	iu[7] = 5;
	assert_int_equal(tdm__srp_cmd_parse(iu, 48, &AGREED, &c),
			 TDM_SRP_IU_OK);
	/* an additional CDB: bits 7..2 in words, bits 1..0 reserved */
	mk_cmd(iu, sizeof(iu), 0x00, 0, 0, 0x0b);
	assert_int_equal(tdm__srp_cmd_parse(iu, 56, &AGREED, &c),
			 TDM_SRP_IU_OK);
	assert_int_equal(c.cdb_len, 24);
	assert_int_equal(c.cdb[23], 0x88 + 23);
	/* the longest: 16 + 63 * 4 */
	mk_cmd(iu, sizeof(iu), 0x00, 0, 0, 0xff);
	assert_int_equal(tdm__srp_cmd_parse(iu, 48 + 252, &AGREED, &c),
			 TDM_SRP_IU_OK);
	assert_int_equal(c.cdb_len, 268);
	print_message("no data: cdb_len 16, 24 (0x0b), 268 (0xff)\n");
}

static void test_cmd_direct(void **state)
{
	uint8_t iu[100];
	struct tdm_srp_cmd_iu c;
	struct tdm_srp_desc d;

	(void)state;
	/* data-out (a write): format in the high nibble */
	mk_cmd(iu, sizeof(iu), 0x10, 0, 0, 0);
	put_desc(iu + 48, 0x0000123456789abcull, 0xdeadbeef, 4096);
	assert_int_equal(tdm__srp_cmd_parse(iu, 64, &AGREED, &c),
			 TDM_SRP_IU_OK);
	check_common(&c, iu);
	assert_int_equal(c.dir, TDM_SRP_DIR_OUT);
	assert_int_equal(c.fmt, TDM_SRP_FMT_DIRECT);
	assert_int_equal(c.data_len, 4096);
	assert_int_equal(c.ndesc, 1);
	assert_ptr_equal(c.desc, iu + 48);
	tdm__srp_desc_get(&c, 0, &d);
	assert_true(d.va == 0x0000123456789abcull);
	assert_int_equal(d.key, 0xdeadbeef);
	assert_int_equal(d.len, 4096);
	/* out of range: zeroes, nothing read */
	tdm__srp_desc_get(&c, 1, &d);
	assert_true(d.va == 0 && d.key == 0 && d.len == 0);

	/* data-in (a read), after an additional CDB of 16 bytes */
	mk_cmd(iu, sizeof(iu), 0x01, 0, 0, 16);
	put_desc(iu + 64, 0xffff000011112222ull, 7, 512);
	assert_int_equal(tdm__srp_cmd_parse(iu, 80, &AGREED, &c),
			 TDM_SRP_IU_OK);
	check_common(&c, iu);
	assert_int_equal(c.cdb_len, 32);
	assert_int_equal(c.dir, TDM_SRP_DIR_IN);
	assert_int_equal(c.fmt, TDM_SRP_FMT_DIRECT);
	assert_int_equal(c.data_len, 512);
	assert_int_equal(c.ndesc, 1);
	assert_ptr_equal(c.desc, iu + 64);
	tdm__srp_desc_get(&c, 0, &d);
	assert_true(d.va == 0xffff000011112222ull);
	assert_int_equal(d.key, 7);
	assert_int_equal(d.len, 512);
	print_message("direct: data-out 4096 at 48, data-in 512 at 64\n");
}

static void test_cmd_indirect(void **state)
{
	uint8_t iu[48 + 16 + 20 + 16 * 8];
	struct tdm_srp_cmd_iu c;
	struct tdm_srp_desc d;
	int runs = 0;

	(void)state;
	for (uint32_t n = 1; n <= 8; n++) {
		for (int in = 0; in < 2; in++) {
			uint8_t add = in ? 16 : 0;
			size_t off = 48 + add, len;
			uint32_t total;

			mk_cmd(iu, sizeof(iu), in ? 0x02 : 0x20,
			       in ? 0 : (uint8_t)n, in ? (uint8_t)n : 0, add);
			len = put_indirect(iu, off, n, 16 * n, 1000, &total);
			assert_int_equal(
				tdm__srp_cmd_parse(iu, len, &AGREED, &c),
				TDM_SRP_IU_OK);
			check_common(&c, iu);
			assert_int_equal(c.dir,
					 in ? TDM_SRP_DIR_IN : TDM_SRP_DIR_OUT);
			assert_int_equal(c.fmt, TDM_SRP_FMT_INDIRECT);
			assert_int_equal(c.ndesc, n);
			assert_int_equal(c.data_len, total);
			assert_int_equal(total, n * 1000 + n * (n - 1) / 2);
			assert_ptr_equal(c.desc, iu + off + 20);
			for (uint32_t i = 0; i < n; i++) {
				tdm__srp_desc_get(&c, i, &d);
				assert_true(d.va == 0x1000000000ull * (i + 1));
				assert_int_equal(d.key, 0x100 + i);
				assert_int_equal(d.len, 1000 + i);
			}
			runs++;
		}
	}
	print_message("indirect: 1..8 descriptors, data-out and data-in: "
		      "%d commands, every descriptor read back\n",
		      runs);
}

static void test_cmd_immediate(void **state)
{
	uint8_t iu[68 + 600];
	struct tdm_srp_cmd_iu c;
	struct tdm_srp_agreed a = AGREED;

	(void)state;
	mk_cmd(iu, sizeof(iu), 0x30, 0, 0, 0);
	tdm_put_be32(iu + 48, 512);
	for (int i = 0; i < 512; i++)
		iu[68 + i] = (uint8_t)i;
	assert_int_equal(tdm__srp_cmd_parse(iu, 68 + 512, &AGREED, &c),
			 TDM_SRP_IU_OK);
	check_common(&c, iu);
	assert_int_equal(c.dir, TDM_SRP_DIR_OUT);
	assert_int_equal(c.fmt, TDM_SRP_FMT_IMM);
	assert_int_equal(c.data_len, 512);
	assert_int_equal(c.ndesc, 0);
	assert_null(c.desc);
	assert_ptr_equal(c.imm, iu + 68);
	/* the descriptor right after an additional CDB of 16 bytes */
	mk_cmd(iu, sizeof(iu), 0x30, 0, 0, 16);
	tdm_put_be32(iu + 64, 4);
	assert_int_equal(tdm__srp_cmd_parse(iu, 72, &AGREED, &c),
			 TDM_SRP_IU_OK);
	assert_int_equal(c.data_len, 4);
	assert_ptr_equal(c.imm, iu + 68);
	/* a later offset; the data exactly up to max_it_iu_len */
	a.imm_data_offset = 128;
	a.max_it_iu_len = 128 + 200;
	mk_cmd(iu, sizeof(iu), 0x30, 0, 0, 0);
	tdm_put_be32(iu + 48, 200);
	assert_int_equal(tdm__srp_cmd_parse(iu, 128 + 200, &a, &c),
			 TDM_SRP_IU_OK);
	assert_ptr_equal(c.imm, iu + 128);
	assert_int_equal(c.data_len, 200);
	/* zero bytes of immediate data */
	tdm_put_be32(iu + 48, 0);
	assert_int_equal(tdm__srp_cmd_parse(iu, 128, &a, &c), TDM_SRP_IU_OK);
	assert_int_equal(c.data_len, 0);
	print_message("immediate: 512 bytes at 68, 4 after a 16-byte "
		      "additional CDB, 200 at 128 up to max_it_iu_len, 0\n");
}

struct neg {
	const char *what;
	enum tdm_srp_iu_err want;
	enum tdm_srp_iu_err got;
};

static void test_cmd_refusals(void **state)
{
	uint8_t iu[48 + 256 + 20 + 16 * 8];
	struct tdm_srp_cmd_iu c;
	struct tdm_srp_agreed a;
	struct neg v[40];
	int n = 0;
	size_t len;

	(void)state;
#define NEG(w, e, agreed, l)                                                   \
	v[n].what = (w), v[n].want = (e),                                      \
	v[n].got = tdm__srp_cmd_parse(iu, (l), (agreed), &c), n++

	/* shorter than the fixed part: SHORT, the tag from 16 bytes on */
	mk_cmd(iu, sizeof(iu), 0x00, 0, 0, 0);
	NEG("47 bytes", TDM_SRP_IU_SHORT, &AGREED, 47);
	assert_int_equal(c.tag, tag_of(TAG));
	NEG("16 bytes", TDM_SRP_IU_SHORT, &AGREED, 16);
	assert_int_equal(c.tag, tag_of(TAG));
	NEG("15 bytes", TDM_SRP_IU_SHORT, &AGREED, 15);
	assert_int_equal(c.tag, 0);
	NEG("0 bytes", TDM_SRP_IU_SHORT, &AGREED, 0);
	iu[0] = TDM_SRP_TSK_MGMT;
	NEG("opcode SRP_TSK_MGMT", TDM_SRP_IU_FIELDS, &AGREED, 48);
	assert_int_equal(c.tag, tag_of(TAG));

	/* the additional CDB not all there */
	mk_cmd(iu, sizeof(iu), 0x00, 0, 0, 0xff);
	NEG("additional CDB 252, 299 bytes", TDM_SRP_IU_FIELDS, &AGREED, 299);

	/* a direct descriptor beyond the IU */
	mk_cmd(iu, sizeof(iu), 0x10, 0, 0, 0);
	put_desc(iu + 48, 1, 2, 3);
	NEG("direct, 63 bytes", TDM_SRP_IU_FIELDS, &AGREED, 63);
	NEG("direct, 48 bytes", TDM_SRP_IU_FIELDS, &AGREED, 48);
	/* pushed out by the additional CDB */
	mk_cmd(iu, sizeof(iu), 0x01, 0, 0, 16);
	put_desc(iu + 64, 1, 2, 3);
	NEG("direct after 16-byte CDB, 64+15", TDM_SRP_IU_FIELDS, &AGREED, 79);
	assert_int_equal(tdm__srp_cmd_parse(iu, 80, &AGREED, &c),
			 TDM_SRP_IU_OK);
	/* an indirect table pushed out by the additional CDB */
	mk_cmd(iu, sizeof(iu), 0x20, 2, 0, 8);
	len = put_indirect(iu, 56, 2, 32, 100, NULL);
	NEG("indirect after 8-byte CDB, 1 byte short", TDM_SRP_IU_FIELDS,
	    &AGREED, len - 1);
	NEG("indirect header cut", TDM_SRP_IU_FIELDS, &AGREED, 56 + 19);
	assert_int_equal(tdm__srp_cmd_parse(iu, len, &AGREED, &c),
			 TDM_SRP_IU_OK);

	/* counts and table length */
	mk_cmd(iu, sizeof(iu), 0x20, 3, 0, 0);
	len = put_indirect(iu, 48, 2, 32, 100, NULL);
	NEG("count 3, 2 descriptors sent", TDM_SRP_IU_FIELDS, &AGREED, len);
	mk_cmd(iu, sizeof(iu), 0x20, 3, 0, 0);
	len = put_indirect(iu, 48, 3, 32, 100, NULL);
	NEG("count 3, table of 2", TDM_SRP_IU_FIELDS, &AGREED, len);
	mk_cmd(iu, sizeof(iu), 0x02, 0, 2, 0);
	len = put_indirect(iu, 48, 2, 40, 100, NULL);
	NEG("table length 40", TDM_SRP_IU_FIELDS, &AGREED, len);
	mk_cmd(iu, sizeof(iu), 0x02, 2, 0, 0);
	len = put_indirect(iu, 48, 2, 32, 100, NULL);
	NEG("data-in table, data-out count", TDM_SRP_IU_EXT_TABLE, &AGREED,
	    len);
	/* an external table (ib_srp's allow_ext_sg): 2 of 4 in the IU */
	mk_cmd(iu, sizeof(iu), 0x20, 2, 0, 0);
	len = put_indirect(iu, 48, 2, 64, 100, NULL);
	NEG("external table: 2 of 4", TDM_SRP_IU_EXT_TABLE, &AGREED, len);
	mk_cmd(iu, sizeof(iu), 0x02, 0, 0, 0);
	len = put_indirect(iu, 48, 0, 16 * 200, 100, NULL);
	NEG("external table: 0 of 200", TDM_SRP_IU_EXT_TABLE, &AGREED, len);

	/* TOTAL LENGTH against the sum */
	mk_cmd(iu, sizeof(iu), 0x20, 2, 0, 0);
	len = put_indirect(iu, 48, 2, 32, 100, NULL);
	tdm_put_be32(iu + 48 + 16, 200);
	NEG("total 200, sum 201", TDM_SRP_IU_FIELDS, &AGREED, len);
	tdm_put_be32(iu + 48 + 20 + 12, 0xffffffffu);
	tdm_put_be32(iu + 48 + 36 + 12, 0xffffffffu);
	tdm_put_be32(iu + 48 + 16, 0xfffffffeu);
	NEG("total 2^32-2, sum 2^33-2", TDM_SRP_IU_FIELDS, &AGREED, len);

	/* bidirectional */
	mk_cmd(iu, sizeof(iu), 0x11, 0, 0, 0);
	put_desc(iu + 48, 1, 2, 3);
	put_desc(iu + 64, 1, 2, 3);
	NEG("bidirectional direct", TDM_SRP_IU_FIELDS, &AGREED, 80);
	mk_cmd(iu, sizeof(iu), 0x22, 1, 1, 0);
	NEG("bidirectional indirect", TDM_SRP_IU_FIELDS, &AGREED, 200);

	/* formats the login did not agree on */
	a = AGREED;
	a.buf_fmt = TDM_SRP_BUF_INDIRECT;
	mk_cmd(iu, sizeof(iu), 0x10, 0, 0, 0);
	put_desc(iu + 48, 1, 2, 3);
	NEG("direct, not agreed", TDM_SRP_IU_FIELDS, &a, 64);
	a.buf_fmt = TDM_SRP_BUF_DIRECT;
	mk_cmd(iu, sizeof(iu), 0x02, 0, 1, 0);
	len = put_indirect(iu, 48, 1, 16, 100, NULL);
	NEG("indirect, not agreed", TDM_SRP_IU_FIELDS, &a, len);
	mk_cmd(iu, sizeof(iu), 0x40, 0, 0, 0);
	NEG("data-out format 4 (reserved)", TDM_SRP_IU_FIELDS, &AGREED, 200);
	mk_cmd(iu, sizeof(iu), 0x0f, 0, 0, 0);
	NEG("data-in format 15 (reserved)", TDM_SRP_IU_FIELDS, &AGREED, 200);
	a = AGREED;
	a.imm = false;
	mk_cmd(iu, sizeof(iu), 0x30, 0, 0, 0);
	tdm_put_be32(iu + 48, 4);
	NEG("immediate, not agreed", TDM_SRP_IU_FIELDS, &a, 72);

	/* immediate data */
	mk_cmd(iu, sizeof(iu), 0x03, 0, 0, 0);
	tdm_put_be32(iu + 48, 4);
	NEG("immediate data-in", TDM_SRP_IU_FIELDS, &AGREED, 72);
	mk_cmd(iu, sizeof(iu), 0x30, 0, 0, 0);
	tdm_put_be32(iu + 48, 100);
	NEG("immediate 100, 99 sent", TDM_SRP_IU_FIELDS, &AGREED, 68 + 99);
	NEG("immediate, descriptor cut", TDM_SRP_IU_FIELDS, &AGREED, 51);
	tdm_put_be32(iu + 48, 0xffffffffu);
	NEG("immediate 2^32-1", TDM_SRP_IU_FIELDS, &AGREED, sizeof(iu));
	a = AGREED;
	a.max_it_iu_len = 100;
	tdm_put_be32(iu + 48, 33);
	NEG("immediate past max_it_iu_len", TDM_SRP_IU_FIELDS, &a, 68 + 33);
	tdm_put_be32(iu + 48, 32);
	assert_int_equal(tdm__srp_cmd_parse(iu, 68 + 32, &a, &c),
			 TDM_SRP_IU_OK);
	/* the descriptor after a 20-byte additional CDB overlaps the data */
	mk_cmd(iu, sizeof(iu), 0x30, 0, 0, 20);
	tdm_put_be32(iu + 68, 4);
	NEG("immediate offset inside the descriptor", TDM_SRP_IU_FIELDS,
	    &AGREED, 200);
#undef NEG

	for (int i = 0; i < n; i++) {
		print_message("  %-44s -> %d (want %d)\n", v[i].what, v[i].got,
			      v[i].want);
		assert_int_equal(v[i].got, v[i].want);
	}
	print_message("SRP_CMD: %d malformed commands refused as expected\n",
		      n);
}

/* ---- SRP_TSK_MGMT, opcodes ---- */

static void test_tmf_parse(void **state)
{
	uint8_t iu[64];
	struct tdm_srp_tmf_iu t;

	(void)state;
	memset(iu, 0, sizeof(iu));
	iu[0] = TDM_SRP_TSK_MGMT;
	iu[1] = 0x02;
	memcpy(iu + 8, TAG, 8);
	tdm_put_be64(iu + 20, 0x4001000000000000ull);
	iu[30] = TDM_SRP_TSK_ABORT_TASK;
	memcpy(iu + 32, TAG2, 8);
	assert_int_equal(tdm__srp_tmf_parse(iu, 48, &t), TDM_SRP_IU_OK);
	assert_int_equal(t.tag, tag_of(TAG));
	assert_true(t.lun == 0x4001000000000000ull);
	assert_int_equal(t.fn, TDM_SRP_TSK_ABORT_TASK);
	assert_int_equal(t.task_tag, tag_of(TAG2));
	assert_int_equal(t.sol_not, 0x02);
	/* the function is not checked here */
	iu[30] = 0x77;
	assert_int_equal(tdm__srp_tmf_parse(iu, 64, &t), TDM_SRP_IU_OK);
	assert_int_equal(t.fn, 0x77);
	assert_int_equal(tdm__srp_tmf_parse(iu, 47, &t), TDM_SRP_IU_SHORT);
	assert_int_equal(t.tag, tag_of(TAG));
	assert_int_equal(tdm__srp_tmf_parse(iu, 15, &t), TDM_SRP_IU_SHORT);
	assert_int_equal(t.tag, 0);
	iu[0] = TDM_SRP_CMD;
	assert_int_equal(tdm__srp_tmf_parse(iu, 48, &t), TDM_SRP_IU_FIELDS);
	assert_int_equal(t.tag, tag_of(TAG));
	print_message("SRP_TSK_MGMT: fields read; 47 and 15 bytes SHORT, "
		      "SRP_CMD opcode FIELDS\n");
}

static void test_iu_opcode(void **state)
{
	uint8_t iu[16];
	uint64_t tag = 1;

	(void)state;
	memset(iu, 0, sizeof(iu));
	iu[0] = TDM_SRP_I_LOGOUT;
	memcpy(iu + 8, TAG, 8);
	assert_int_equal(tdm__srp_iu_opcode(iu, 16, &tag), TDM_SRP_I_LOGOUT);
	assert_int_equal(tag, tag_of(TAG));
	assert_int_equal(tdm__srp_iu_opcode(iu, 15, &tag), TDM_SRP_I_LOGOUT);
	assert_int_equal(tag, 0);
	tag = 1;
	assert_int_equal(tdm__srp_iu_opcode(iu, 0, &tag), 0xff);
	assert_int_equal(tag, 0);
	assert_int_equal(tdm__srp_iu_opcode(iu, 1, NULL), TDM_SRP_I_LOGOUT);
	print_message("iu_opcode: 16, 15, 1 and 0 bytes\n");
}

/* ---- target to initiator ---- */

static void test_rsp_build(void **state)
{
	static const uint8_t want_good[36] = {
		0xc1, 0x04, 0,	  0,	0x00, 0x00, 0x00, 0x01, /* delta 1 */
		0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6, 0x07, 0x18,
		0,    0,    0x20,	/* DIUNDER */
		0x00,			/* GOOD */
		0,    0,    0,	  0,	/* no data-out residual */
		0x00, 0x00, 0x02, 0x00, /* data-in residual 512 */
		0,    0,    0,	  0,	0,    0,    0,	  0,
	};
	uint8_t sense[18] = {0x70, 0, 0x05, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x24};
	uint8_t b[100];
	struct tdm_srp_rsp r = {
		.tag = tag_of(TAG),
		.req_lim_delta = 1,
		.status = 0,
		.flags = TDM_SRP_RSP_DIUNDER,
		.do_resid = 77, /* no DO flag: not sent */
		.di_resid = 512,
		.resp_code = -1,
		.sol_not = 0x04,
	};

	(void)state;
	memset(b, 0x5a, sizeof(b));
	assert_int_equal(tdm__srp_rsp_build(b, sizeof(b), &r), 36);
	assert_memory_equal(b, want_good, 36);
	assert_int_equal(b[36], 0x5a);
	assert_int_equal(tdm__srp_rsp_build(b, 35, &r), 0);
	/* SNSVALID/RSPVALID are the codec's: not taken from r->flags */
	r.flags = TDM_SRP_RSP_RSPVALID | TDM_SRP_RSP_SNSVALID |
		  TDM_SRP_RSP_DOOVER;
	assert_int_equal(tdm__srp_rsp_build(b, sizeof(b), &r), 36);
	assert_int_equal(b[18], TDM_SRP_RSP_DOOVER);
	assert_int_equal(tdm_get_be32(b + 20), 77);
	assert_int_equal(tdm_get_be32(b + 24), 0);

	/* CHECK CONDITION with sense data */
	r.flags = 0;
	r.status = 0x02;
	r.sense = sense;
	r.sense_len = sizeof(sense);
	memset(b, 0x5a, sizeof(b));
	assert_int_equal(tdm__srp_rsp_build(b, sizeof(b), &r), 36 + 18);
	assert_int_equal(b[18], TDM_SRP_RSP_SNSVALID);
	assert_int_equal(b[19], 0x02);
	assert_int_equal(tdm_get_be32(b + 20), 0);
	assert_int_equal(tdm_get_be32(b + 28), 18);
	assert_int_equal(tdm_get_be32(b + 32), 0);
	assert_memory_equal(b + 36, sense, 18);
	assert_int_equal(b[54], 0x5a);
	/* cut to the cap */
	memset(b, 0x5a, sizeof(b));
	assert_int_equal(tdm__srp_rsp_build(b, 40, &r), 40);
	assert_int_equal(b[18], TDM_SRP_RSP_SNSVALID);
	assert_int_equal(tdm_get_be32(b + 28), 4);
	assert_memory_equal(b + 36, sense, 4);
	assert_int_equal(b[40], 0x5a);
	/* no room for any: no SNSVALID, length 0 */
	assert_int_equal(tdm__srp_rsp_build(b, 36, &r), 36);
	assert_int_equal(b[18], 0);
	assert_int_equal(tdm_get_be32(b + 28), 0);
	/* a length without data is no sense */
	r.sense = NULL;
	assert_int_equal(tdm__srp_rsp_build(b, sizeof(b), &r), 36);
	assert_int_equal(b[18], 0);

	/* response data: a TMF answer (RSPVALID, 4 bytes, code in byte 3) */
	r.status = 0;
	r.resp_code = TDM_SRP_RC_TMF_NOT_SUPP;
	memset(b, 0x5a, sizeof(b));
	assert_int_equal(tdm__srp_rsp_build(b, 39, &r), 0);
	assert_int_equal(b[0], 0x5a);
	assert_int_equal(tdm__srp_rsp_build(b, 40, &r), 40);
	assert_int_equal(b[18], TDM_SRP_RSP_RSPVALID);
	assert_int_equal(tdm_get_be32(b + 28), 0);
	assert_int_equal(tdm_get_be32(b + 32), 4);
	assert_int_equal(tdm_get_be32(b + 36), TDM_SRP_RC_TMF_NOT_SUPP);
	/* response data then sense data, the sense cut */
	r.resp_code = TDM_SRP_RC_OK;
	r.sense = sense;
	memset(b, 0x5a, sizeof(b));
	assert_int_equal(tdm__srp_rsp_build(b, 50, &r), 50);
	assert_int_equal(b[18], TDM_SRP_RSP_RSPVALID | TDM_SRP_RSP_SNSVALID);
	assert_int_equal(tdm_get_be32(b + 28), 10);
	assert_int_equal(tdm_get_be32(b + 32), 4);
	assert_int_equal(tdm_get_be32(b + 36), 0);
	assert_memory_equal(b + 40, sense, 10);
	assert_int_equal(b[50], 0x5a);
	print_message("SRP_RSP: GOOD 36 bytes; sense 18 -> 18, 4 (cap 40), "
		      "0 (cap 36); response code 40 bytes; both at cap 50\n");
}

static void test_t_logout_and_port_id(void **state)
{
	static const uint8_t want[16] = {
		0x80, 0,    0,	  0,	0x00, 0x00, 0x00, 0x08,
		0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6, 0x07, 0x18,
	};
	uint8_t b[20], ini[16], tgt[16];
	char s[35];

	(void)state;
	memset(b, 0x5a, sizeof(b));
	assert_int_equal(
		tdm__srp_t_logout(b, 16, TDM_SRP_TLO_BAD_COUNT, tag_of(TAG)),
		16);
	assert_memory_equal(b, want, 16);
	assert_int_equal(b[16], 0x5a);
	memset(b, 0x5a, sizeof(b));
	assert_int_equal(tdm__srp_t_logout(b, 15, 0, 0), 0);
	assert_int_equal(b[0], 0x5a);

	fill_ids(ini, tgt);
	memset(s, 'x', sizeof(s));
	tdm__srp_port_id_str(tgt, s);
	assert_string_equal(s, "0x808182838485868788898a8b8c8d8e8f");
	print_message("SRP_T_LOGOUT 16 bytes; port id %s\n", s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_login_parse_iu),
		cmocka_unit_test(test_login_parse_rdma),
		cmocka_unit_test(test_login_check_ib_srp),
		cmocka_unit_test(test_login_check_refusals),
		cmocka_unit_test(test_login_rsp_rej),
		cmocka_unit_test(test_cmd_no_data),
		cmocka_unit_test(test_cmd_direct),
		cmocka_unit_test(test_cmd_indirect),
		cmocka_unit_test(test_cmd_immediate),
		cmocka_unit_test(test_cmd_refusals),
		cmocka_unit_test(test_tmf_parse),
		cmocka_unit_test(test_iu_opcode),
		cmocka_unit_test(test_rsp_build),
		cmocka_unit_test(test_t_logout_and_port_id),
	};

	return cmocka_run_group_tests(tests, NULL, NULL) ? 1 : 0;
}
