/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rsoc.c - REPORT SUPPORTED OPERATION CODES and REPORT SUPPORTED TASK
 * MANAGEMENT FUNCTIONS (SPC-4 6.35, 6.36; MAINTENANCE IN A3h, service
 * actions 0Ch and 0Dh).
 *
 * The answer is generated from the opcode table (scsi/optable.c), which is
 * also the dispatch, so what is reported is what the gate runs: the CDB
 * length and the CDB usage data are the table's, and an entry whose
 * .supported hook says no for the LU (UNMAP on a fully provisioned LU) is
 * reported as not supported. The task management functions are those
 * scsi/task_mgmt.c implements.
 */
#include <stdlib.h>
#include <string.h>

#include "scsi/scsi_int.h"

/* SPC-4 6.35: REPORTING OPTIONS */
#define RO_ALL 0x0	 /* every command */
#define RO_OPCODE 0x1	 /* one command without service action */
#define RO_OPCODE_SA 0x2 /* one command with service action */
#define RO_EITHER 0x3	 /* one command, with service action if it has */

/* SPC-4 6.35, one_command parameter data: SUPPORT */
#define SUPPORT_NONE 0x1 /* not supported */
#define SUPPORT_STD 0x3	 /* supported, as a SCSI standard says */

/* SPC-4 6.35, all_commands parameter data: command descriptor */
#define CMD_DESC_LEN 8
#define CMD_DESC_CTDP 0x02     /* byte 5: timeouts descriptor follows */
#define CMD_DESC_SERVACTV 0x01 /* byte 5: the command has service actions */
/* SPC-4 6.35: command timeouts descriptor */
#define TIMEOUTS_LEN 12
/* the answer's upper bound: a header and every entry with timeouts */
#define RSOC_MAX(nops) (4 + (nops) * (CMD_DESC_LEN + TIMEOUTS_LEN))

/* SPC-4 6.36: supported task management functions (parameter data) */
#define TMF_ATS 0x80   /* byte 0: ABORT TASK */
#define TMF_ATSS 0x40  /* ABORT TASK SET */
#define TMF_CACAS 0x20 /* CLEAR ACA */
#define TMF_CTSS 0x10  /* CLEAR TASK SET */
#define TMF_LURS 0x08  /* LOGICAL UNIT RESET */
#define TMF_QTS 0x04   /* QUERY TASK */
#define TMF_TRS 0x02   /* TARGET RESET (SAM-5: obsolete) */
#define TMF_QAES 0x04  /* byte 1: QUERY ASYNCHRONOUS EVENT */
#define TMF_QTSS 0x02  /* QUERY TASK SET */
#define TMF_ITNRS 0x01 /* I_T NEXUS RESET */

static bool op_supported(const struct tdm_cmd *cmd, const struct tdm_opdesc *op)
{
	return !op->supported || op->supported(cmd->lu);
}

/*
 * SPC-4 6.35: a command timeouts descriptor. Timeouts 0: not
 * specified (the time a command takes is the backing store's).
 */
static size_t put_timeouts(uint8_t *p)
{
	memset(p, 0, TIMEOUTS_LEN);
	tdm_put_be16(p, TIMEOUTS_LEN - 2); /* DESCRIPTOR LENGTH: 0Ah */
	return TIMEOUTS_LEN;
}

int tdm__rsoc_parse(struct tdm_cmd *cmd)
{
	const uint8_t *cdb = cmd->cdb;
	uint32_t alloc = tdm_get_be32(cdb + 6);
	uint32_t max = (uint32_t)RSOC_MAX(tdm__op_count());

	/* byte 2: RCTD (bit 7), REPORTING OPTIONS (bits 2:0) */
	if ((cdb[2] & 0x07) > RO_EITHER)
		return tdm__cdb_err(cmd, 2, 2);
	cmd->dir = TDM_DIR_READ;
	cmd->alloc_len = alloc < max ? alloc : max;
	return TDM_SR_OK;
}

/* Table order by operation code, then service action. */
static int cmp_op(const void *a, const void *b)
{
	const struct tdm_opdesc *x = *(const struct tdm_opdesc *const *)a;
	const struct tdm_opdesc *y = *(const struct tdm_opdesc *const *)b;

	if (x->opcode != y->opcode)
		return x->opcode < y->opcode ? -1 : 1;
	return x->sa < y->sa ? -1 : x->sa > y->sa;
}

/* SPC-4 6.35: the all_commands parameter data. */
static int report_all(struct tdm_cmd *cmd, bool rctd)
{
	size_t nops = tdm__op_count(), n = 0, i, len = 4;
	const struct tdm_opdesc **ops;
	uint8_t *p;

	ops = calloc(nops ? nops : 1, sizeof(*ops));
	p = calloc(1, RSOC_MAX(nops));
	if (!ops || !p) {
		free(ops);
		free(p);
		return TDM_SR_ABORTED_NO_RESOURCES;
	}
	for (i = 0; i < nops; i++)
		if (op_supported(cmd, tdm__op_at(i)))
			ops[n++] = tdm__op_at(i);
	qsort(ops, n, sizeof(*ops), cmp_op);
	for (i = 0; i < n; i++) {
		uint8_t *d = p + len;

		d[0] = ops[i]->opcode;
		if (ops[i]->has_sa) {
			tdm_put_be16(d + 2, ops[i]->sa);
			d[5] |= CMD_DESC_SERVACTV;
		}
		if (rctd)
			d[5] |= CMD_DESC_CTDP;
		tdm_put_be16(d + 6, ops[i]->cdb_len);
		len += CMD_DESC_LEN;
		if (rctd)
			len += put_timeouts(p + len);
	}
	/* COMMAND DATA LENGTH: what follows, whatever the allocation
	 * length lets through */
	tdm_put_be32(p, (uint32_t)(len - 4));
	tdm__cmd_put_data(cmd, p, len);
	free(ops);
	free(p);
	return TDM_SR_OK;
}

/* The entry for opcode (and sa), NULL if the table has none. */
static const struct tdm_opdesc *find_op(uint8_t opcode, bool with_sa,
					uint16_t sa, bool *opcode_has_sa)
{
	const struct tdm_opdesc *found = NULL;
	size_t i;

	*opcode_has_sa = false;
	for (i = 0; i < tdm__op_count(); i++) {
		const struct tdm_opdesc *op = tdm__op_at(i);

		if (op->opcode != opcode)
			continue;
		if (op->has_sa)
			*opcode_has_sa = true;
		if (!op->has_sa || (with_sa && op->sa == sa))
			found = op;
	}
	return found;
}

/* SPC-4 6.35: the one_command parameter data. */
static int report_one(struct tdm_cmd *cmd, uint8_t ro, bool rctd)
{
	const uint8_t *cdb = cmd->cdb;
	uint8_t opcode = cdb[3];
	uint16_t sa = tdm_get_be16(cdb + 4);
	const struct tdm_opdesc *op;
	uint8_t p[4 + 16 + TIMEOUTS_LEN];
	size_t len = 4;
	bool has_sa;

	op = find_op(opcode, ro != RO_OPCODE, sa, &has_sa);
	/* SPC-4 6.35, REPORTING OPTIONS: 001b for an operation code with
	 * service actions, 010b for one without, are invalid */
	if (ro == RO_OPCODE && has_sa)
		return tdm__cdb_err(cmd, 3, 7);
	if (ro == RO_OPCODE_SA && op && !op->has_sa)
		return tdm__cdb_err(cmd, 3, 7);
	memset(p, 0, sizeof(p));
	if (!op || !op_supported(cmd, op)) {
		/* SUPPORT 001b: nothing after byte 3 */
		p[1] = SUPPORT_NONE;
	} else {
		p[1] = SUPPORT_STD;
		if (rctd)
			p[1] |= 0x80; /* CTDP */
		tdm_put_be16(p + 2, op->cdb_len);
		memcpy(p + 4, op->usage, op->cdb_len);
		len += op->cdb_len;
		if (rctd)
			len += put_timeouts(p + len);
	}
	tdm__cmd_put_data(cmd, p, len);
	return TDM_SR_OK;
}

int tdm__rsoc(struct tdm_cmd *cmd)
{
	uint8_t ro = cmd->cdb[2] & 0x07;
	bool rctd = cmd->cdb[2] & 0x80;

	if (ro == RO_ALL)
		return report_all(cmd, rctd);
	return report_one(cmd, ro, rctd);
}

/* ---- REPORT SUPPORTED TASK MANAGEMENT FUNCTIONS ---- */

int tdm__rstmf_parse(struct tdm_cmd *cmd)
{
	uint32_t alloc = tdm_get_be32(cmd->cdb + 6);

	/* SPC-4 6.36: an allocation length below 4 is an invalid field */
	if (alloc < 4)
		return tdm__cdb_err(cmd, 6, 7);
	cmd->dir = TDM_DIR_READ;
	cmd->alloc_len = alloc < 16 ? alloc : 16;
	return TDM_SR_OK;
}

int tdm__rstmf(struct tdm_cmd *cmd)
{
	bool repd = cmd->cdb[2] & 0x80;
	uint8_t p[16];

	/* scsi/task_mgmt.c: everything but CLEAR ACA (NACA is refused in the
	 * CONTROL byte, so no ACA can exist) */
	memset(p, 0, sizeof(p));
	p[0] = TMF_ATS | TMF_ATSS | TMF_CTSS | TMF_LURS | TMF_QTS | TMF_TRS;
	p[1] = TMF_QAES | TMF_QTSS | TMF_ITNRS;
	if (repd) {
		/* SPC-4 6.36 (REPD=1): extended parameter data with
		 * TMFTMOV=0: no task management function timeouts */
		p[3] = 0x0C; /* ADDITIONAL DATA LENGTH */
		tdm__cmd_put_data(cmd, p, 16);
	} else {
		tdm__cmd_put_data(cmd, p, 4);
	}
	return TDM_SR_OK;
}
