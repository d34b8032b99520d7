/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * lun.c - logical unit numbers: the SAM-5 LUN encoding the gate decodes,
 * and REPORT LUNS (SPC-4) from the nexus' LUN map.
 */
#include <errno.h>
#include <stdlib.h>

#include "scsi/scsi_int.h"

/* REPORT LUNS: header + at most 16384 single level LUNs (0..16383) */
#define RL_MAX (8u + 8u * 16384u)

/* ---- SAM-5 4.7: LUN addressing ---- */

int tdm__lun_decode(uint64_t sam_lun, uint64_t *lun)
{
	uint8_t b0 = (uint8_t)(sam_lun >> 56);

	/* single level only: the second to fourth levels must be zero */
	if (sam_lun & 0x0000FFFFFFFFFFFFull)
		return -EINVAL;
	switch (b0 >> 6) {
	case 0: /* SAM-5 4.7: peripheral device addressing */
		/*
		 * A single level target has only bus 0, so a bus identifier
		 * can name nothing else: it is read as the LUN's high bits,
		 * as Linux (scsilun_to_int), LIO and tgt read it. libiscsi
		 * (qemu's iSCSI driver among its users) sends a LUN as 16
		 * bits, 256 as 0x0100; REPORT LUNS still reports 256 and up
		 * in flat space addressing (tdm_lun_encode).
		 */
		*lun = (sam_lun >> 48) & 0x3FFF;
		return 0;
	case 1: /* SAM-5 4.7: flat space addressing */
		*lun = (sam_lun >> 48) & 0x3FFF;
		return 0;
	default: /* logical unit / extended addressing: not used here */
		return -EINVAL;
	}
}

uint64_t tdm_lun_encode(uint64_t lun)
{
	if (lun < 256) /* peripheral device addressing, bus 0 */
		return lun << 48;
	/* flat space addressing (LUN numbers are at most 16383) */
	return (0x4000ull | (lun & 0x3FFF)) << 48;
}

/* ---- REPORT LUNS ---- */

int tdm__spc_report_luns_parse(struct tdm_cmd *cmd)
{
	uint32_t alloc = tdm_get_be32(cmd->cdb + 6);

	/* SPC-4 REPORT LUNS: SELECT REPORT */
	switch (cmd->cdb[2]) {
	case 0x00: /* all LUs but well known ones */
	case 0x01: /* well known LUs only */
	case 0x02: /* all LUs */
	case 0x10: /* administrative LU (none here) */
	case 0x11: /* administrative LU and its subsidiaries */
	case 0x12: /* subsidiaries of the addressed administrative LU */
		break;
	default:
		return tdm__cdb_err(cmd, 2, 7);
	}
	/* the allocation length shall be at least 16 bytes */
	if (alloc < 16)
		return tdm__cdb_err(cmd, 6, 7);
	cmd->dir = TDM_DIR_READ;
	cmd->alloc_len = tdm__min_u32(alloc, RL_MAX);
	return TDM_SR_OK;
}

int tdm__spc_report_luns(struct tdm_cmd *cmd)
{
	const struct tdm_lunmap *map;
	uint8_t *p;
	size_t n = 0, i, len;
	bool all = cmd->cdb[2] == 0x00 || cmd->cdb[2] == 0x02;

	tdm_rwlock_rdlock(&tdm__reg_lock);
	map = cmd->nexus ? cmd->nexus->map : NULL;
	if (all && map)
		n = map->n;
	len = 8 + 8 * (n ? n : (all ? 1 : 0));
	p = calloc(1, len);
	if (!p) {
		tdm_rwlock_unlock(&tdm__reg_lock);
		return TDM_SR_ABORTED_NO_RESOURCES;
	}
	for (i = 0; i < n; i++)
		tdm_put_be64(p + 8 + 8 * i, tdm_lun_encode(map->ents[i].lun));
	tdm_rwlock_unlock(&tdm__reg_lock);
	/* an initiator that sees no LU still finds LUN 0, which answers
	 * INQUIRY with peripheral qualifier 011b */
	tdm_put_be32(p, (uint32_t)(len - 8)); /* LUN LIST LENGTH: untruncated */
	tdm__cmd_put_data(cmd, p, len);
	free(p);
	return TDM_SR_OK;
}
