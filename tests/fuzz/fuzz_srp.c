/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fuzz_srp.c - libFuzzer target for the SRP information units' codec
 * (srp/iu.c): what an initiator sends over RDMA (the login request as
 * RDMA/CM private data or as an IU, SRP_CMD, SRP_TSK_MGMT, any IU by its
 * opcode) and the SRP_RSP the target builds around sense data.
 *
 * Input: byte 0 selects what is done with the rest (the IU):
 *   bits 2..0: 0 login request, RDMA/CM layout; 1 login request, IU
 *     layout (each then decided, answered with SRP_LOGIN_RSP or REJ);
 *     2, 3, 7 SRP_CMD; 4 SRP_TSK_MGMT; 5 SRP_RSP from fuzzed fields and
 *     sense data; 6 by the IU's own opcode, as the receive path does
 *   bits 7..3: the target's limits (login) or what the login agreed on
 *     (SRP_CMD): immediate data on/off, the buffer formats, the immediate
 *     data offset, the initiator's IU length.
 * The IU is the rest of libFuzzer's buffer (which ends where the input
 * does, so ASan sees a read past it); every buffer the codec writes is
 * allocated at exactly the capacity it is given.
 *
 * Checked, abort on a violation: a parsed command's CDB, descriptors and
 * immediate data lie inside the IU (every descriptor is read back, every
 * immediate byte and CDB byte touched), the descriptors' lengths add up
 * to data_len, the immediate data sits at the agreed offset inside the
 * agreed IU length; a refused IU still has its tag from 16 bytes on; an
 * accepted login agrees on what both sides allow; SRP_RSP says in its
 * SENSE DATA LIST LENGTH exactly the sense bytes it carries, within cap.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "srp/srp_iu.h"
#include "tandem/config.h"
#include "tandem/scsi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what) __attribute__((noreturn));

static void fail(const char *what)
{
	fprintf(stderr, "fuzz_srp: %s\n", what);
	abort();
}

/* a sink the compiler cannot drop: touching bytes means reading them */
static volatile uint8_t sink;

static void touch(const uint8_t *p, size_t n)
{
	uint8_t x = 0;

	for (size_t i = 0; i < n; i++)
		x ^= p[i];
	sink = x;
}

static bool inside(const uint8_t *iu, size_t len, const uint8_t *p, uint64_t n)
{
	return p >= iu && (uint64_t)(p - iu) <= len &&
	       n <= len - (size_t)(p - iu);
}

static uint64_t tag_at(const uint8_t *p)
{
	uint64_t t;

	memcpy(&t, p, 8);
	return t;
}

/* ---- login ---- */

static void login(const uint8_t *iu, size_t len, bool rdma, uint8_t sel)
{
	static const uint16_t fmts[4] = {
		TDM_SRP_BUF_DIRECT | TDM_SRP_BUF_INDIRECT, TDM_SRP_BUF_DIRECT,
		TDM_SRP_BUF_INDIRECT, 0};
	struct tdm_srp_limits lim = {
		.max_req =
			sel & 0x40 ? TDM_SRP_MIN_MAX_REQ : TDM_SRP_DEF_MAX_REQ,
		.max_rsp = TDM_SRP_DEF_MAX_RSP,
		.req_lim = 64,
		.buf_fmt = fmts[(sel >> 4) & 3],
		.imm = sel & 0x08,
	};
	struct tdm_srp_login l;
	struct tdm_srp_agreed a;
	uint32_t why;
	uint8_t *out;
	size_t n;

	if (rdma ? tdm__srp_login_parse_rdma(iu, len, &l)
		 : tdm__srp_login_parse(iu, len, &l))
		return;
	why = tdm__srp_login_check(&l, &lim, &a);
	if (why) {
		if (why != TDM_SRP_REJ_IT_IU_TOO_LARGE &&
		    why != TDM_SRP_REJ_UNSUPPORTED_FMT)
			fail("login refused with an unknown reason");
		out = malloc(TDM_SRP_LOGIN_REJ_LEN);
		if (!out)
			return;
		n = tdm__srp_login_rej(out, TDM_SRP_LOGIN_REJ_LEN, l.tag, why,
				       lim.buf_fmt);
		if (n != TDM_SRP_LOGIN_REJ_LEN || out[0] != TDM_SRP_LOGIN_REJ ||
		    tdm_get_be32(out + 4) != why || tag_at(out + 8) != l.tag)
			fail("SRP_LOGIN_REJ");
		free(out);
		return;
	}
	if (a.max_it_iu_len < 64 || a.max_it_iu_len > lim.max_req ||
	    a.max_it_iu_len != l.req_it_iu_len)
		fail("login accepted an IU length out of range");
	if (!a.buf_fmt || (a.buf_fmt & ~(l.req_buf_fmt & lim.buf_fmt)))
		fail("login agreed on a format one side lacks");
	if (a.imm &&
	    (!lim.imm || !(l.req_flags & TDM_SRP_IMMED_REQUESTED) ||
	     a.imm_data_offset < 68 || a.imm_data_offset >= a.max_it_iu_len))
		fail("login agreed on immediate data it should not");
	out = malloc(TDM_SRP_LOGIN_RSP_LEN);
	if (!out)
		return;
	n = tdm__srp_login_rsp(out, TDM_SRP_LOGIN_RSP_LEN, l.tag, lim.req_lim,
			       &a, TDM_SRP_LRSP_NO_CHAN);
	if (n != TDM_SRP_LOGIN_RSP_LEN || out[0] != TDM_SRP_LOGIN_RSP ||
	    tag_at(out + 8) != l.tag ||
	    !(out[26] & TDM_SRP_LRSP_IMMED_SUPP) != !a.imm)
		fail("SRP_LOGIN_RSP");
	free(out);
}

/* ---- SRP_CMD ---- */

static void agreed_of(uint8_t sel, struct tdm_srp_agreed *a)
{
	static const uint16_t fmts[4] = {
		TDM_SRP_BUF_DIRECT | TDM_SRP_BUF_INDIRECT, TDM_SRP_BUF_DIRECT,
		TDM_SRP_BUF_INDIRECT, 0};

	memset(a, 0, sizeof(*a));
	a->imm = !(sel & 0x08);
	a->buf_fmt = fmts[(sel >> 4) & 3];
	a->imm_data_offset = a->imm ? (sel & 0x40 ? 132 : 68) : 0;
	a->max_it_iu_len = sel & 0x80 ? 256 : 8260;
	a->max_ti_iu_len = TDM_SRP_DEF_MAX_RSP;
}

static void cmd(const uint8_t *iu, size_t len, const struct tdm_srp_agreed *a)
{
	struct tdm_srp_cmd_iu c;
	struct tdm_srp_desc d;
	enum tdm_srp_iu_err e;
	uint64_t sum = 0;

	e = tdm__srp_cmd_parse(iu, len, a, &c);
	if (len >= 16 && c.tag != tag_at(iu + 8))
		fail("SRP_CMD: the tag is not the IU's");
	if (e != TDM_SRP_IU_OK) {
		if (e != TDM_SRP_IU_SHORT && e != TDM_SRP_IU_FIELDS &&
		    e != TDM_SRP_IU_EXT_TABLE)
			fail("SRP_CMD: unknown error");
		if ((e == TDM_SRP_IU_SHORT) != (len < TDM_SRP_CMD_LEN))
			fail("SRP_CMD: SHORT for a whole header or not");
		return;
	}
	if (iu[0] != TDM_SRP_CMD)
		fail("SRP_CMD: accepted another opcode");
	if (c.cdb != iu + 32 || c.cdb_len < 16 || c.cdb_len > 268 ||
	    !inside(iu, len, c.cdb, c.cdb_len))
		fail("SRP_CMD: CDB outside the IU");
	touch(c.cdb, c.cdb_len);
	switch (c.fmt) {
	case TDM_SRP_FMT_NONE:
		if (c.dir != TDM_SRP_DIR_NONE || c.data_len || c.ndesc ||
		    c.desc || c.imm)
			fail("SRP_CMD: data without a format");
		return;
	case TDM_SRP_FMT_DIRECT:
		if (!(a->buf_fmt & TDM_SRP_BUF_DIRECT) || c.ndesc != 1)
			fail("SRP_CMD: direct descriptor not agreed");
		break;
	case TDM_SRP_FMT_INDIRECT:
		if (!(a->buf_fmt & TDM_SRP_BUF_INDIRECT))
			fail("SRP_CMD: indirect descriptor not agreed");
		break;
	case TDM_SRP_FMT_IMM:
		if (!a->imm || c.dir != TDM_SRP_DIR_OUT || c.ndesc || c.desc)
			fail("SRP_CMD: immediate data not agreed");
		if (c.imm != iu + a->imm_data_offset ||
		    !inside(iu, len, c.imm, c.data_len) ||
		    a->imm_data_offset + (uint64_t)c.data_len >
			    a->max_it_iu_len ||
		    c.imm < c.cdb + c.cdb_len + 4)
			fail("SRP_CMD: immediate data out of place");
		touch(c.imm, c.data_len);
		return;
	default:
		fail("SRP_CMD: unknown format accepted");
	}
	if (c.dir != TDM_SRP_DIR_OUT && c.dir != TDM_SRP_DIR_IN)
		fail("SRP_CMD: descriptor without a direction");
	if (c.ndesc &&
	    (!c.desc || c.desc < c.cdb + c.cdb_len ||
	     !inside(iu, len, c.desc, (uint64_t)c.ndesc * TDM_SRP_DESC_LEN)))
		fail("SRP_CMD: descriptors outside the IU");
	for (uint32_t i = 0; i < c.ndesc; i++) {
		tdm__srp_desc_get(&c, i, &d);
		sum += d.len;
	}
	if (sum != c.data_len)
		fail("SRP_CMD: descriptors do not add up to data_len");
}

/* ---- SRP_TSK_MGMT ---- */

static void tmf(const uint8_t *iu, size_t len)
{
	struct tdm_srp_tmf_iu t;
	enum tdm_srp_iu_err e;

	e = tdm__srp_tmf_parse(iu, len, &t);
	if (len >= 16 && t.tag != tag_at(iu + 8))
		fail("SRP_TSK_MGMT: the tag is not the IU's");
	if (e == TDM_SRP_IU_OK &&
	    (len < TDM_SRP_TSK_MGMT_LEN || iu[0] != TDM_SRP_TSK_MGMT ||
	     t.fn != iu[30] || t.task_tag != tag_at(iu + 32)))
		fail("SRP_TSK_MGMT: accepted wrongly");
	if ((e == TDM_SRP_IU_SHORT) != (len < TDM_SRP_TSK_MGMT_LEN))
		fail("SRP_TSK_MGMT: SHORT for a whole IU or not");
}

/* ---- SRP_RSP: 14 bytes of fields, then the sense data ---- */

static void rsp(const uint8_t *in, size_t len)
{
	struct tdm_srp_rsp r;
	size_t cap, hdr, n, sent;
	uint8_t *out;

	if (len < 14)
		return;
	memset(&r, 0, sizeof(r));
	cap = tdm_get_be16(in) % 1100;
	r.sense_len = tdm_get_be16(in + 2);
	r.status = in[4];
	r.flags = in[5];
	r.resp_code = in[6] == 0xff ? -1 : in[6];
	r.sol_not = in[7];
	r.do_resid = tdm_get_be32(in + 8);
	r.di_resid = (uint32_t)tdm_get_be16(in + 12) << 8;
	memcpy(&r.tag, in + 4, sizeof(r.tag));
	/* the sense data the caller has: never more than there is */
	if (r.sense_len > len - 14)
		r.sense_len = (uint32_t)(len - 14);
	r.sense = len > 14 ? in + 14 : NULL;

	out = malloc(cap ? cap : 1);
	if (!out)
		return;
	hdr = TDM_SRP_RSP_LEN + (r.resp_code >= 0 ? 4 : 0);
	n = tdm__srp_rsp_build(out, cap, &r);
	if (cap < hdr) {
		if (n)
			fail("SRP_RSP built without room");
		free(out);
		return;
	}
	sent = r.sense ? r.sense_len : 0;
	if (sent > cap - hdr)
		sent = cap - hdr;
	if (n != hdr + sent || n > cap)
		fail("SRP_RSP: length");
	if (tdm_get_be32(out + 28) != sent ||
	    !(out[18] & TDM_SRP_RSP_SNSVALID) != !sent ||
	    (sent && memcmp(out + hdr, r.sense, sent)))
		fail("SRP_RSP: sense data");
	if (!(out[18] & TDM_SRP_RSP_RSPVALID) != (r.resp_code < 0) ||
	    tdm_get_be32(out + 32) != (r.resp_code < 0 ? 0 : 4) ||
	    (r.resp_code >= 0 && out[39] != r.resp_code))
		fail("SRP_RSP: response data");
	if (out[0] != TDM_SRP_RSP || tag_at(out + 8) != r.tag ||
	    out[19] != r.status)
		fail("SRP_RSP: header");
	free(out);
}

/* ---- any IU, by its opcode ---- */

static void dispatch(const uint8_t *iu, size_t len, uint8_t sel)
{
	struct tdm_srp_agreed a;
	struct tdm_srp_login l;
	uint64_t tag;
	uint8_t *out;
	uint8_t op;

	op = tdm__srp_iu_opcode(iu, len, &tag);
	if (!len ? op != 0xff : op != iu[0])
		fail("iu_opcode: opcode");
	if (tag != (len >= 16 ? tag_at(iu + 8) : 0))
		fail("iu_opcode: tag");
	switch (op) {
	case TDM_SRP_CMD:
		agreed_of(sel, &a);
		cmd(iu, len, &a);
		break;
	case TDM_SRP_TSK_MGMT:
		tmf(iu, len);
		break;
	case TDM_SRP_LOGIN_REQ:
		(void)tdm__srp_login_parse(iu, len, &l);
		break;
	default:
		out = malloc(TDM_SRP_T_LOGOUT_LEN);
		if (!out)
			return;
		if (tdm__srp_t_logout(out, TDM_SRP_T_LOGOUT_LEN,
				      TDM_SRP_TLO_BAD_IU_TYPE,
				      tag) != TDM_SRP_T_LOGOUT_LEN ||
		    out[0] != TDM_SRP_T_LOGOUT || tag_at(out + 8) != tag)
			fail("SRP_T_LOGOUT");
		free(out);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tdm_srp_agreed a;
	uint8_t sel;

	if (size < 1)
		return 0;
	sel = data[0];
	data++;
	size--;
	switch (sel & 7) {
	case 0:
	case 1:
		login(data, size, !(sel & 1), sel);
		break;
	case 4:
		tmf(data, size);
		break;
	case 5:
		rsp(data, size);
		break;
	case 6:
		dispatch(data, size, sel);
		break;
	default:
		agreed_of(sel, &a);
		cmd(data, size, &a);
	}
	return 0;
}
