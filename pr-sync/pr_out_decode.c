/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pr_out_decode.c - the PERSISTENT RESERVE OUT CDB and parameter list
 * (SPC-4 6.16) decoded into a struct tdm_pr_op, with the field pointer
 * of whatever is wrong.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pr-sync/pr_int.h"

static int8_t top_bit(uint8_t v)
{
	int8_t b = 7;

	while (b > 0 && !(v & (1u << b)))
		b--;
	return b;
}

static int dec_err(struct tdm_sense_info *info, int sr, bool cdb, size_t byte,
		   int8_t bit)
{
	info->sks_valid = true;
	info->sks_cd = cdb;
	info->sks_field = (uint16_t)(byte > 0xFFFF ? 0xFFFF : byte);
	info->sks_bit = bit;
	return sr;
}

/* Decode the TransportIDs of p[0..len) into op->tids; base: their offset
 * in the parameter list (field pointers). */
static int dec_tids(struct tdm_pr_op *op, const uint8_t *p, size_t len,
		    size_t base, size_t max, struct tdm_sense_info *info)
{
	struct tdm_pr_tid_err e;
	struct tdm_pr_tid t;
	size_t off, used, n = 0;
	int pass, r;

	for (pass = 0; pass < 2; pass++) {
		for (off = 0; off < len; off += used) {
			r = tdm_pr_tid_decode(p + off, len - off,
					      pass ? &op->tids[n] : &t, &used,
					      &e);
			if (r == -EMSGSIZE)
				return TDM_SR_PARAM_LIST_LENGTH_ERROR;
			if (r < 0)
				return dec_err(
					info,
					TDM_SR_INVALID_FIELD_IN_PARAM_LIST,
					false, base + off + e.byte, e.bit);
			if (pass)
				op->tid_off[n] = (uint32_t)(base + off);
			n++;
			if (n > max)
				return TDM_SR_INSUFFICIENT_REGISTRATION_RESOURCES;
		}
		if (pass)
			break;
		if (!n)
			return TDM_SR_OK;
		op->tids = calloc(n, sizeof(*op->tids));
		op->tid_off = calloc(n, sizeof(*op->tid_off));
		if (!op->tids || !op->tid_off)
			return TDM_SR_INSUFFICIENT_REGISTRATION_RESOURCES;
		op->ntids = n;
		n = 0;
	}
	return TDM_SR_OK;
}

void tdm_pr_op_free(struct tdm_pr_op *op)
{
	free(op->tids);
	free(op->tid_off);
	op->tids = NULL;
	op->tid_off = NULL;
	op->ntids = 0;
}

int tdm_pr_out_decode(const uint8_t *cdb, const uint8_t *param, size_t len,
		      struct tdm_pr_op *op, struct tdm_sense_info *info)
{
	size_t tlen;
	int sr;

	memset(op, 0, sizeof(*op));
	memset(info, 0, sizeof(*info));
	info->sks_bit = -1;
	/* SPC-4 6.16.1, table 215: the CDB */
	op->sa = cdb[1] & 0x1F;
	op->scope = cdb[2] >> 4;
	op->type = cdb[2] & 0x0F;
	if (cdb[1] & 0xE0)
		return dec_err(info, TDM_SR_INVALID_FIELD_IN_CDB, true, 1,
			       top_bit(cdb[1] & 0xE0));
	if (cdb[3] || cdb[4])
		return dec_err(info, TDM_SR_INVALID_FIELD_IN_CDB, true,
			       cdb[3] ? 3 : 4,
			       top_bit(cdb[3] ? cdb[3] : cdb[4]));
	if (op->sa > TDM_PR_REGISTER_AND_MOVE)
		return dec_err(info, TDM_SR_INVALID_FIELD_IN_CDB, true, 1, 4);
	if (len < 24)
		return TDM_SR_PARAM_LIST_LENGTH_ERROR;
	op->key = tdm_get_be64(param);
	op->sa_key = tdm_get_be64(param + 8);

	if (op->sa == TDM_PR_REGISTER_AND_MOVE) {
		/* 6.16.4, table 221 */
		if (param[16])
			return dec_err(info, TDM_SR_INVALID_FIELD_IN_PARAM_LIST,
				       false, 16, top_bit(param[16]));
		if (param[17] & 0xFC)
			return dec_err(info, TDM_SR_INVALID_FIELD_IN_PARAM_LIST,
				       false, 17, top_bit(param[17] & 0xFC));
		if (param[17] & 0x01)
			op->flags |= TDM_PR_F_APTPL;
		if (param[17] & 0x02)
			op->flags |= TDM_PR_F_UNREG;
		op->move_rel_port = tdm_get_be16(param + 18);
		tlen = tdm_get_be32(param + 20);
		if (tlen != len - 24)
			return TDM_SR_PARAM_LIST_LENGTH_ERROR;
		sr = dec_tids(op, param + 24, tlen, 24, 1, info);
		if (sr == TDM_SR_OK && op->ntids != 1)
			sr = dec_err(info, TDM_SR_INVALID_FIELD_IN_PARAM_LIST,
				     false, 20, 7);
		if (sr != TDM_SR_OK)
			tdm_pr_op_free(op);
		return sr;
	}

	/* 6.16.3, table 219 */
	if (param[20] & 0xF2)
		return dec_err(info, TDM_SR_INVALID_FIELD_IN_PARAM_LIST, false,
			       20, top_bit(param[20] & 0xF2));
	if (param[21])
		return dec_err(info, TDM_SR_INVALID_FIELD_IN_PARAM_LIST, false,
			       21, top_bit(param[21]));
	if (param[20] & 0x08)
		op->flags |= TDM_PR_F_SPEC_I_PT;
	/* ALL_TG_PT and APTPL count for the two register actions only */
	if (op->sa == TDM_PR_REGISTER || op->sa == TDM_PR_REGISTER_AND_IGNORE) {
		if (param[20] & 0x04)
			op->flags |= TDM_PR_F_ALL_TG_PT;
		if (param[20] & 0x01)
			op->flags |= TDM_PR_F_APTPL;
	}
	/* SPEC_I_PT is valid for REGISTER only */
	if ((op->flags & TDM_PR_F_SPEC_I_PT) && op->sa != TDM_PR_REGISTER)
		return dec_err(info, TDM_SR_INVALID_FIELD_IN_PARAM_LIST, false,
			       20, 3);
	if (!(op->flags & TDM_PR_F_SPEC_I_PT))
		return len == 24 ? TDM_SR_OK : TDM_SR_PARAM_LIST_LENGTH_ERROR;
	if (len < 28)
		return TDM_SR_PARAM_LIST_LENGTH_ERROR;
	tlen = tdm_get_be32(param + 24);
	if (tlen != len - 28)
		return TDM_SR_PARAM_LIST_LENGTH_ERROR;
	sr = dec_tids(op, param + 28, tlen, 28, TDM_PR_MAX_REGS, info);
	if (sr != TDM_SR_OK)
		tdm_pr_op_free(op);
	return sr;
}

int tdm_pr_out_check_tids(const struct tdm_pr_op *op,
			  const struct tdm_pr_nexus *nx,
			  struct tdm_sense_info *info)
{
	uint8_t proto = nx->tid.proto;
	size_t i;

	memset(info, 0, sizeof(*info));
	info->sks_bit = -1;
	if (op->sa == TDM_PR_REGISTER_AND_MOVE) {
		/* 6.16.4: the destination port may be another head's, whose
		 * protocol is not known here: only the receiving port */
		if (op->ntids == 1 && op->move_rel_port == nx->rel_port &&
		    op->tids[0].proto != proto)
			return dec_err(info, TDM_SR_INVALID_FIELD_IN_PARAM_LIST,
				       false, 24, 3);
		return TDM_SR_OK;
	}
	/* 5.13.7: SPEC_I_PT names I_T nexuses of the receiving target port
	 * (ALL_TG_PT: of every target port, of any protocol) */
	if (!(op->flags & TDM_PR_F_SPEC_I_PT) ||
	    (op->flags & TDM_PR_F_ALL_TG_PT))
		return TDM_SR_OK;
	for (i = 0; i < op->ntids; i++)
		if (op->tids[i].proto != proto)
			return dec_err(info, TDM_SR_INVALID_FIELD_IN_PARAM_LIST,
				       false, op->tid_off ? op->tid_off[i] : 28,
				       3);
	return TDM_SR_OK;
}
