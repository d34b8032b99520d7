/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * optable_mmc.c - the opcode table of CD/DVD-ROM logical units
 * (peripheral device type 05h, handler vcdrom). As for disks
 * (optable.c) the table is the dispatch: tdm__op_lookup() comes here for
 * an LU of type 05h. The commands are those a read-only drive with one
 * data track needs to boot and install an operating system: SPC-4 and
 * MMC-6 (the handlers are in scsi/mmc.c, or shared with disks where the
 * semantics are the same: READ(10)/(12), READ CAPACITY, PREVENT ALLOW
 * MEDIUM REMOVAL, REQUEST SENSE, TEST UNIT READY, REPORT LUNS).
 *
 * REPORT SUPPORTED OPERATION CODES is not offered (it is optional in
 * MMC-6), so the entries carry no CDB usage data.
 */
#include <stddef.h>

#include "scsi/scsi_int.h"

#define F_ALWAYS TDM_OP_ALWAYS
/*
 * MMC-6 (unit attention conditions): GET CONFIGURATION and GET
 * EVENT STATUS NOTIFICATION neither report nor clear a unit attention;
 * they report the drive, not the medium.
 */
#define F_STATUS                                                               \
	(TDM_OP_UA_EXEMPT | TDM_OP_SPC2_ALLOWED | TDM_OP_PR_ALLOWED_WE |       \
	 TDM_OP_PR_ALLOWED_EA | TDM_OP_ALUA_ALLOWED)
#define F_READ (TDM_OP_MEDIA | TDM_OP_PR_ALLOWED_WE)

static const struct tdm_opdesc mmc_ops[] = {
	/* ---- SPC-4 ---- */
	{
		.opcode = 0x00,
		.cdb_len = 6,
		.flags = TDM_OP_PR_ALLOWED_WE | TDM_OP_PR_ALLOWED_EA,
		.name = "TEST UNIT READY",
		.parse = tdm__parse_none,
		.exec = tdm__spc_test_unit_ready,
	},
	{
		.opcode = 0x03,
		.cdb_len = 6,
		.flags = F_ALWAYS,
		.name = "REQUEST SENSE",
		.parse = tdm__parse_alloc6,
		.exec = tdm__spc_request_sense,
	},
	{
		.opcode = 0x12,
		.cdb_len = 6,
		.flags = F_ALWAYS,
		.name = "INQUIRY",
		.parse = tdm__mmc_inquiry_parse,
		.exec = tdm__mmc_inquiry,
	},
	{
		.opcode = 0x1A,
		.cdb_len = 6,
		.flags = TDM_OP_ALUA_ALLOWED,
		.name = "MODE SENSE(6)",
		.parse = tdm__mmc_mode_sense_parse,
		.exec = tdm__mmc_mode_sense,
	},
	{
		.opcode = 0x1B,
		.cdb_len = 6,
		.name = "START STOP UNIT",
		.parse = tdm__parse_none,
		.exec = tdm__mmc_start_stop,
	},
	{
		/* MMC-6: PREVENT 01b (Persistent Prevent is refused) */
		.opcode = 0x1E,
		.cdb_len = 6,
		.name = "PREVENT ALLOW MEDIUM REMOVAL",
		.parse = tdm__parse_none,
		.exec = tdm__spc_prevent_allow,
	},
	{
		.opcode = 0x5A,
		.cdb_len = 10,
		.flags = TDM_OP_ALUA_ALLOWED,
		.name = "MODE SENSE(10)",
		.parse = tdm__mmc_mode_sense_parse,
		.exec = tdm__mmc_mode_sense,
	},
	{
		.opcode = 0xA0,
		.cdb_len = 12,
		.flags = F_ALWAYS,
		.name = "REPORT LUNS",
		.parse = tdm__spc_report_luns_parse,
		.exec = tdm__spc_report_luns,
	},
	/* ---- MMC-6 ---- */
	{
		/* MMC-6 (the PMI bit is obsolete: as SBC) */
		.opcode = 0x25,
		.cdb_len = 10,
		.flags = TDM_OP_SPC2_ALLOWED | TDM_OP_PR_ALLOWED_WE |
			 TDM_OP_PR_ALLOWED_EA,
		.name = "READ CAPACITY",
		.parse = tdm__sbc_read_capacity10_parse,
		.exec = tdm__sbc_read_capacity10,
	},
	{
		.opcode = 0x28,
		.cdb_len = 10,
		.flags = F_READ,
		.name = "READ(10)",
		.parse = tdm__sbc_rw_parse,
		.exec = tdm__sbc_read,
	},
	{
		.opcode = 0x43,
		.cdb_len = 10,
		.flags = TDM_OP_MEDIA | TDM_OP_PR_ALLOWED_WE,
		.name = "READ TOC/PMA/ATIP",
		.parse = tdm__mmc_read_toc_parse,
		.exec = tdm__mmc_read_toc,
	},
	{
		.opcode = 0x46,
		.cdb_len = 10,
		.flags = F_STATUS,
		.name = "GET CONFIGURATION",
		.parse = tdm__mmc_get_config_parse,
		.exec = tdm__mmc_get_config,
	},
	{
		.opcode = 0x4A,
		.cdb_len = 10,
		.flags = F_STATUS,
		.name = "GET EVENT STATUS NOTIFICATION",
		.parse = tdm__mmc_gesn_parse,
		.exec = tdm__mmc_gesn,
	},
	{
		.opcode = 0x51,
		.cdb_len = 10,
		.flags = TDM_OP_MEDIA | TDM_OP_PR_ALLOWED_WE,
		.name = "READ DISC INFORMATION",
		.parse = tdm__mmc_disc_info_parse,
		.exec = tdm__mmc_disc_info,
	},
	{
		.opcode = 0xA8,
		.cdb_len = 12,
		.flags = F_READ,
		.name = "READ(12)",
		.parse = tdm__sbc_rw_parse,
		.exec = tdm__sbc_read,
	},
	{
		/* MMC-6 READ DISC STRUCTURE: DVD physical format (mmc.c) */
		.opcode = 0xAD,
		.cdb_len = 12,
		.flags = TDM_OP_MEDIA | TDM_OP_PR_ALLOWED_WE,
		.name = "READ DISC STRUCTURE",
		.parse = tdm__mmc_disc_structure_parse,
		.exec = tdm__mmc_disc_structure,
	},
	{
		/* MMC-6 READ CD: the user data of the data track (mmc.c);
		 * executed as a READ */
		.opcode = 0xBE,
		.cdb_len = 12,
		.flags = F_READ,
		.name = "READ CD",
		.parse = tdm__mmc_read_cd_parse,
		.exec = tdm__sbc_read,
	},
	{
		/* MMC-6: accepted, the speed is what the host gets */
		.opcode = 0xBB,
		.cdb_len = 12,
		.flags = TDM_OP_ALUA_ALLOWED,
		.name = "SET CD SPEED",
		.parse = tdm__parse_none,
		.exec = tdm__mmc_set_cd_speed,
	},
	{
		.opcode = 0xBD,
		.cdb_len = 12,
		.flags = F_STATUS & ~TDM_OP_UA_EXEMPT,
		.name = "MECHANISM STATUS",
		.parse = tdm__mmc_mech_status_parse,
		.exec = tdm__mmc_mech_status,
	},
};

#define NOPS (sizeof(mmc_ops) / sizeof(mmc_ops[0]))

const struct tdm_opdesc *tdm__mmc_op_lookup(const struct tdm_cmd *cmd,
					    bool *bad_sa)
{
	size_t i;

	/* SPC-4 commands of every device type: persistent reservations
	 * come from the disk table (one set of entries) */
	if (cmd->cdb[0] == 0x5E || cmd->cdb[0] == 0x5F)
		return tdm__disk_op_lookup(cmd, bad_sa);
	if (bad_sa)
		*bad_sa = false;
	for (i = 0; i < NOPS; i++)
		if (mmc_ops[i].opcode == cmd->cdb[0])
			return &mmc_ops[i];
	return NULL;
}
