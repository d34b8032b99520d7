/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * mkseeds_srp.c - writes the seed corpus of fuzz_srp (tests/fuzz/
 * corpus/srp/): one input per file, its first byte fuzz_srp.c's selector,
 * then an IU as ib_srp sends it (the login request in both layouts,
 * SRP_CMD without data, direct, indirect, immediate; SRP_TSK_MGMT;
 * SRP_I_LOGOUT) or the fields of an SRP_RSP:
 *
 *   make fuzz-seeds
 *
 * A few hundred bytes at most each; the same output on every run. Each
 * seed is parsed with the codec before it is written and must give the
 * answer its name says. Exits 0, or 1 with a message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "srp/srp_iu.h"
#include "tandem/config.h"
#include "tandem/scsi.h"

/* fuzz_srp.c's selector: bits 2..0 the operation; for SRP_CMD bit 3 set
 * turns immediate data off, bit 6 moves its offset to 132 */
#define SEL_LOGIN_RDMA 0x08 /* the target supports immediate data */
#define SEL_LOGIN_IU 0x09
#define SEL_LOGIN_IU_SMALL 0x49 /* max_req 996 */
#define SEL_CMD 0x02		/* DIRECT|INDIRECT, immediate at 68 */
#define SEL_CMD_IMM132 0x42
#define SEL_TMF 0x04
#define SEL_RSP 0x05
#define SEL_BY_OPCODE 0x06

static const struct tdm_srp_agreed agreed68 = {
	.max_it_iu_len = 8260,
	.max_ti_iu_len = TDM_SRP_DEF_MAX_RSP,
	.buf_fmt = TDM_SRP_BUF_DIRECT | TDM_SRP_BUF_INDIRECT,
	.imm = true,
	.imm_data_offset = 68,
};

static const char *dir;
static uint8_t seed[400];

static void fail(const char *what, const char *name)
{
	fprintf(stderr, "mkseeds_srp: %s: %s\n", name, what);
	exit(1);
}

/* write the selector and the len bytes of seed + 1 */
static void save(const char *name, uint8_t sel, size_t len)
{
	char path[4096];
	FILE *f;

	seed[0] = sel;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(seed, 1, len + 1, f) != len + 1 || fclose(f) != 0)
		fail("cannot write the file", path);
}

/* ---- login ---- */

static void login(void)
{
	const uint16_t fmt = TDM_SRP_BUF_DIRECT | TDM_SRP_BUF_INDIRECT;
	struct tdm_srp_limits lim = {
		.max_req = TDM_SRP_DEF_MAX_REQ,
		.max_rsp = TDM_SRP_DEF_MAX_RSP,
		.req_lim = 64,
		.buf_fmt = fmt,
		.imm = true,
	};
	uint8_t *iu = seed + 1;
	struct tdm_srp_login l;
	struct tdm_srp_agreed a;

	/* ib_srp over RDMA/CM: struct srp_login_req_rdma */
	memset(seed, 0, sizeof(seed));
	tdm_put_be16(iu + 8, fmt);
	iu[10] = TDM_SRP_MULTICHAN_MULTI | TDM_SRP_IMMED_REQUESTED;
	iu[11] = TDM_SRP_LOGIN_REQ;
	tdm_put_be32(iu + 12, 8260);
	iu[16] = 0xfe; /* initiator port id: ... */
	iu[31] = 0x01;
	iu[40] = 0x02; /* target port id */
	tdm_put_be16(iu + 48, 68);
	if (tdm__srp_login_parse_rdma(iu, 56, &l) ||
	    tdm__srp_login_check(&l, &lim, &a) || !a.imm)
		fail("not accepted with immediate data", "login_rdma_ib_srp");
	save("login_rdma_ib_srp", SEL_LOGIN_RDMA, 56);
	iu[10] = TDM_SRP_MULTICHAN_SINGLE;
	tdm_put_be32(iu + 12, 276);
	tdm_put_be16(iu + 48, 0);
	if (tdm__srp_login_parse_rdma(iu, 56, &l) ||
	    tdm__srp_login_check(&l, &lim, &a) || a.imm)
		fail("not accepted without immediate data",
		     "login_rdma_no_imm");
	save("login_rdma_no_imm", SEL_LOGIN_RDMA, 56);

	/* the SRP_LOGIN_REQ IU (r16a 6.2) */
	memset(seed, 0, sizeof(seed));
	iu[0] = TDM_SRP_LOGIN_REQ;
	tdm_put_be32(iu + 16, 8260);
	tdm_put_be16(iu + 24, fmt);
	iu[26] = TDM_SRP_MULTICHAN_MULTI | TDM_SRP_IMMED_REQUESTED;
	tdm_put_be16(iu + 28, 68);
	iu[32] = 0xfe;
	iu[63] = 0x02;
	if (tdm__srp_login_parse(iu, 64, &l) ||
	    tdm__srp_login_check(&l, &lim, &a) || !a.imm)
		fail("not accepted with immediate data", "login_iu_ib_srp");
	save("login_iu_ib_srp", SEL_LOGIN_IU, 64);
	lim.max_req = TDM_SRP_MIN_MAX_REQ;
	if (tdm__srp_login_check(&l, &lim, &a) != TDM_SRP_REJ_IT_IU_TOO_LARGE)
		fail("not refused as too large", "login_iu_too_large");
	save("login_iu_too_large", SEL_LOGIN_IU_SMALL, 64);
}

/* ---- SRP_CMD, SRP_TSK_MGMT, SRP_I_LOGOUT ---- */

/* an SRP_CMD header (r16a 6.8) in seed + 1: a CDB of 16 + add bytes */
static uint8_t *cmd_hdr(uint8_t fmt, uint8_t out_cnt, uint8_t in_cnt,
			uint8_t add, uint8_t op)
{
	uint8_t *iu = seed + 1;

	memset(seed, 0, sizeof(seed));
	iu[0] = TDM_SRP_CMD;
	iu[5] = fmt;
	iu[6] = out_cnt;
	iu[7] = in_cnt;
	tdm_put_be64(iu + 8, 0x2a);
	iu[31] = add;
	iu[32] = op;
	iu[45] = 8; /* a transfer length of 8 blocks, where READ(16) has it */
	return iu;
}

static void desc(uint8_t *p, uint64_t va, uint32_t key, uint32_t len)
{
	tdm_put_be64(p, va);
	tdm_put_be32(p + 8, key);
	tdm_put_be32(p + 12, len);
}

static void cmd_seed(const char *name, uint8_t sel, size_t len,
		     const struct tdm_srp_agreed *a, enum tdm_srp_iu_err want)
{
	struct tdm_srp_cmd_iu c;

	if (tdm__srp_cmd_parse(seed + 1, len, a, &c) != want)
		fail("not parsed as its name says", name);
	save(name, sel, len);
}

static void commands(void)
{
	struct tdm_srp_agreed a132 = agreed68;
	struct tdm_srp_tmf_iu t;
	uint8_t *iu;

	cmd_hdr(0, 0, 0, 0, 0x12); /* INQUIRY, no data descriptor */
	cmd_seed("cmd_no_data", SEL_CMD, 48, &agreed68, TDM_SRP_IU_OK);

	iu = cmd_hdr(0x10, 0, 0, 0, 0x8a); /* WRITE(16), direct */
	desc(iu + 48, 0x7f0000001000ull, 0x1234, 4096);
	cmd_seed("cmd_direct_out", SEL_CMD, 64, &agreed68, TDM_SRP_IU_OK);
	cmd_seed("by_opcode_cmd", SEL_BY_OPCODE, 64, &agreed68, TDM_SRP_IU_OK);

	iu = cmd_hdr(0x01, 0, 0, 16, 0x88); /* READ(16), 16 more CDB bytes */
	desc(iu + 64, 0x7f0000002000ull, 0x1234, 4096);
	cmd_seed("cmd_direct_in_add_cdb", SEL_CMD, 80, &agreed68,
		 TDM_SRP_IU_OK);

	iu = cmd_hdr(0x02, 0, 3, 0, 0x88); /* READ(16), 3 descriptors */
	desc(iu + 48, 0x7f0000009000ull, 0x99, 48);
	tdm_put_be32(iu + 64, 3 * 4096);
	for (int i = 0; i < 3; i++)
		desc(iu + 68 + 16 * i, 0x7f0000010000ull + 0x10000ull * i,
		     0x1234, 4096);
	cmd_seed("cmd_indirect_in_3", SEL_CMD, 116, &agreed68, TDM_SRP_IU_OK);

	/* ib_srp's allow_ext_sg: 2 of 4 descriptors in the IU */
	iu = cmd_hdr(0x20, 2, 0, 0, 0x8a);
	desc(iu + 48, 0x7f0000009000ull, 0x99, 64);
	tdm_put_be32(iu + 64, 4 * 512);
	desc(iu + 68, 0x7f0000010000ull, 0x1234, 512);
	desc(iu + 84, 0x7f0000020000ull, 0x1234, 512);
	cmd_seed("cmd_indirect_out_ext", SEL_CMD, 100, &agreed68,
		 TDM_SRP_IU_EXT_TABLE);

	/* immediate data (SRP-2) at ib_srp's offset, 68 */
	iu = cmd_hdr(0x30, 0, 0, 0, 0x8a);
	tdm_put_be32(iu + 48, 64);
	for (int i = 0; i < 64; i++)
		iu[68 + i] = (uint8_t)(0xa0 + i);
	cmd_seed("cmd_imm_64", SEL_CMD, 68 + 64, &agreed68, TDM_SRP_IU_OK);
	/* ... and at 132 */
	a132.imm_data_offset = 132;
	iu = cmd_hdr(0x30, 0, 0, 0, 0x8a);
	tdm_put_be32(iu + 48, 16);
	memset(iu + 132, 0x5c, 16);
	cmd_seed("cmd_imm_at_132", SEL_CMD_IMM132, 148, &a132, TDM_SRP_IU_OK);

	/* SRP_TSK_MGMT (r16a 6.7): ABORT TASK of tag 0x2a, LUN RESET */
	memset(seed, 0, sizeof(seed));
	iu = seed + 1;
	iu[0] = TDM_SRP_TSK_MGMT;
	tdm_put_be64(iu + 8, 0x2b);
	iu[30] = TDM_SRP_TSK_ABORT_TASK;
	tdm_put_be64(iu + 32, 0x2a);
	if (tdm__srp_tmf_parse(iu, 48, &t) != TDM_SRP_IU_OK)
		fail("not parsed", "tmf_abort_task");
	save("tmf_abort_task", SEL_TMF, 48);
	save("by_opcode_tmf", SEL_BY_OPCODE, 48);
	iu[30] = TDM_SRP_TSK_LUN_RESET;
	tdm_put_be64(iu + 32, 0);
	save("tmf_lun_reset", SEL_TMF, 48);

	/* SRP_I_LOGOUT: the target answers other IUs with SRP_T_LOGOUT */
	memset(seed, 0, sizeof(seed));
	seed[1] = TDM_SRP_I_LOGOUT;
	save("by_opcode_i_logout", SEL_BY_OPCODE, TDM_SRP_I_LOGOUT_LEN);
}

/* ---- SRP_RSP: fuzz_srp.c's 14 bytes of fields, then sense data ---- */

static void responses(void)
{
	static const uint8_t sense[18] = {0x70, 0, 0x05, 0, 0, 0,    0,
					  10,	0, 0,	 0, 0, 0x24, 0x00};
	uint8_t *f = seed + 1;

	memset(seed, 0, sizeof(seed));
	tdm_put_be16(f, 256); /* cap */
	tdm_put_be16(f + 2, sizeof(sense));
	f[4] = 0x02; /* CHECK CONDITION */
	f[5] = TDM_SRP_RSP_DIUNDER;
	f[6] = 0xff; /* no response data */
	tdm_put_be16(f + 12, 2);
	memcpy(f + 14, sense, sizeof(sense));
	save("rsp_sense", SEL_RSP, 14 + sizeof(sense));
	tdm_put_be16(f, 40); /* the sense cut to 4 bytes */
	save("rsp_sense_cut", SEL_RSP, 14 + sizeof(sense));
	tdm_put_be16(f, 40);
	tdm_put_be16(f + 2, 0);
	f[4] = 0;
	f[5] = 0;
	f[6] = TDM_SRP_RC_TMF_NOT_SUPP;
	save("rsp_tmf", SEL_RSP, 14);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: mkseeds_srp DIR\n");
		return 2;
	}
	dir = argv[1];
	login();
	commands();
	responses();
	return 0;
}
