/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * optable.c - the opcode table of disk logical units (peripheral device
 * type 00h). The table is the dispatch: the gate finds a command here with
 * tdm__op_lookup() and runs its parse and exec handlers; REPORT SUPPORTED
 * OPERATION CODES is generated from the same entries.
 *
 * Each entry carries:
 *  - flags for the gate: medium access, medium write, unit attention and
 *    unmapped-LUN exemptions, and what reservations / ALUA states allow;
 *  - the CDB usage data of REPORT SUPPORTED OPERATION CODES (SPC-4):
 *    byte 0 is the operation code, a
 *    service action sits where the CDB has it, every other byte is the map
 *    of the bits the device server looks at. Bits that are rejected when
 *    set (RDPROTECT, third-party bits, ...) are not "used".
 *
 * Reservation flags (TDM_OP_SPC2_ALLOWED, TDM_OP_PR_ALLOWED_WE/EA) come
 * from SPC-2 annex B tables B.1/B.2, SPC-4 table 66 and the SBC-3 table of
 * commands allowed in the presence of reservations.
 * START STOP UNIT and PREVENT ALLOW MEDIUM REMOVAL are allowed or not
 * depending on CDB fields (START=1 with POWER CONDITION 0h; PREVENT 00b):
 * they carry no "allowed" flag here and the reservation checkers look at
 * their CDB (see tdm__spc2_conflict()).
 */
#include <pthread.h>
#include <stddef.h>

#include "scsi/scsi_int.h"

/* CDB usage of the CONTROL byte: NACA (SAM-5 5.2) */
#define CTL 0x04

#define F_ALWAYS TDM_OP_ALWAYS
/* Medium reads: SBC-3 allows them under Write Exclusive. */
#define F_READ (TDM_OP_MEDIA | TDM_OP_PR_ALLOWED_WE)
#define F_WRITE (TDM_OP_MEDIA | TDM_OP_WRITE)
/*
 * What an initiator reads once when it discovers a path and keeps for the
 * life of its device: the capacity and the mode pages (the caching page
 * decides whether it sends SYNCHRONIZE CACHE). Served through a port in
 * any ALUA state (SPC-4 5.15.2.4.4-7 let a device server support more
 * than the minimum list; SCST serves them in standby, unavailable and
 * transitioning, LIO READ CAPACITY in standby): refused, Linux records a
 * standby path as 0 bytes and fails every write once an STPG made it
 * active (issue 11), or assumes a write-through cache.
 */
#define F_DISCOVERY TDM_OP_ALUA_ANY

/* PERSISTENT RESERVE IN/OUT (SPC-4 6.15, 6.16): one entry per service
 * action; they pass every persistent reservation (their service action
 * decides, scsi/pr_scsi.c) and the ALUA standby state (SPC-4 5.15.2.4.4). */
#define F_PR (TDM_OP_PR_ALLOWED_WE | TDM_OP_PR_ALLOWED_EA | TDM_OP_ALUA_ALLOWED)
#define PR_IN(sa_, name_)                                                      \
	{                                                                      \
		.opcode = 0x5E, .sa = (sa_), .has_sa = true, .cdb_len = 10,    \
		.flags = F_PR, .name = "PERSISTENT RESERVE IN " name_,         \
		.parse = tdm__pr_in_parse, .exec = tdm__pr_in,                 \
		.usage = {0x5E, (sa_), 0x00, 0x00, 0x00,                       \
			  0x00, 0x00,  0xFF, 0xFF, CTL},                       \
	}
/* st_: the CDB's SCOPE and TYPE byte is looked at */
#define PR_OUT(sa_, name_, st_)                                                \
	{                                                                      \
		.opcode = 0x5F, .sa = (sa_), .has_sa = true, .cdb_len = 10,    \
		.flags = F_PR, .name = "PERSISTENT RESERVE OUT " name_,        \
		.parse = tdm__pr_out_parse, .exec = tdm__pr_out,               \
		.usage = {0x5F, (sa_), (st_), 0x00, 0x00,                      \
			  0xFF, 0xFF,  0xFF,  0xFF, CTL},                      \
	}

static const struct tdm_opdesc disk_ops[] = {
	/* ---- SPC-4 ---- */
	{
		.opcode = 0x00,
		.cdb_len = 6,
		.flags = TDM_OP_PR_ALLOWED_WE | TDM_OP_PR_ALLOWED_EA,
		.name = "TEST UNIT READY",
		.parse = tdm__parse_none,
		.exec = tdm__spc_test_unit_ready,
		.usage = {0x00, 0x00, 0x00, 0x00, 0x00, CTL},
	},
	{
		.opcode = 0x03,
		.cdb_len = 6,
		.flags = F_ALWAYS,
		.name = "REQUEST SENSE",
		.parse = tdm__parse_alloc6,
		.exec = tdm__spc_request_sense,
		.usage = {0x03, 0x01, 0x00, 0x00, 0xFF, CTL},
	},
	{
		.opcode = 0x12,
		.cdb_len = 6,
		.flags = F_ALWAYS,
		.name = "INQUIRY",
		.parse = tdm__spc_inquiry_parse,
		.exec = tdm__spc_inquiry,
		.usage = {0x12, 0x01, 0xFF, 0xFF, 0xFF, CTL},
	},
	{
		.opcode = 0x15,
		.cdb_len = 6,
		.flags = TDM_OP_ALUA_ALLOWED,
		.name = "MODE SELECT(6)",
		.parse = tdm__spc_mode_select_parse,
		.exec = tdm__spc_mode_select,
		.usage = {0x15, 0x10, 0x00, 0x00, 0xFF, CTL},
	},
	{
		/* SPC-2 (obsolete in SPC-4) */
		.opcode = 0x16,
		.cdb_len = 6,
		.name = "RESERVE(6)",
		.parse = tdm__parse_none,
		.exec = tdm__spc_reserve,
		.usage = {0x16, 0x00, 0x00, 0x00, 0x00, CTL},
	},
	{
		/* SPC-2 (obsolete in SPC-4) */
		.opcode = 0x17,
		.cdb_len = 6,
		.flags = TDM_OP_SPC2_ALLOWED,
		.name = "RELEASE(6)",
		.parse = tdm__parse_none,
		.exec = tdm__spc_release,
		.usage = {0x17, 0x00, 0x00, 0x00, 0x00, CTL},
	},
	{
		.opcode = 0x1A,
		.cdb_len = 6,
		.flags = F_DISCOVERY,
		.name = "MODE SENSE(6)",
		.parse = tdm__spc_mode_sense_parse,
		.exec = tdm__spc_mode_sense,
		.usage = {0x1A, 0x08, 0xFF, 0xFF, 0xFF, CTL},
	},
	{
		.opcode = 0x1B,
		.cdb_len = 6,
		.name = "START STOP UNIT",
		.parse = tdm__parse_none,
		.exec = tdm__spc_start_stop,
		.usage = {0x1B, 0x01, 0x00, 0x00, 0xF7, CTL},
	},
	{
		.opcode = 0x1E,
		.cdb_len = 6,
		.name = "PREVENT ALLOW MEDIUM REMOVAL",
		.parse = tdm__parse_none,
		.exec = tdm__spc_prevent_allow,
		.usage = {0x1E, 0x00, 0x00, 0x00, 0x03, CTL},
	},
	{
		.opcode = 0x4D,
		.cdb_len = 10,
		.flags = TDM_OP_SPC2_ALLOWED | TDM_OP_PR_ALLOWED_WE |
			 TDM_OP_PR_ALLOWED_EA | TDM_OP_ALUA_ALLOWED,
		.name = "LOG SENSE",
		.parse = tdm__spc_log_sense_parse,
		.exec = tdm__spc_log_sense,
		.usage = {0x4D, 0x00, 0xFF, 0xFF, 0x00, 0xFF, 0xFF, 0xFF, 0xFF,
			  CTL},
	},
	{
		.opcode = 0x55,
		.cdb_len = 10,
		.flags = TDM_OP_ALUA_ALLOWED,
		.name = "MODE SELECT(10)",
		.parse = tdm__spc_mode_select_parse,
		.exec = tdm__spc_mode_select,
		.usage = {0x55, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF,
			  CTL},
	},
	{
		/* SPC-2 (obsolete in SPC-4) */
		.opcode = 0x56,
		.cdb_len = 10,
		.name = "RESERVE(10)",
		.parse = tdm__parse_none,
		.exec = tdm__spc_reserve,
		.usage = {0x56, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
			  CTL},
	},
	{
		/* SPC-2 (obsolete in SPC-4) */
		.opcode = 0x57,
		.cdb_len = 10,
		.flags = TDM_OP_SPC2_ALLOWED,
		.name = "RELEASE(10)",
		.parse = tdm__parse_none,
		.exec = tdm__spc_release,
		.usage = {0x57, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
			  CTL},
	},
	{
		.opcode = 0x5A,
		.cdb_len = 10,
		.flags = F_DISCOVERY,
		.name = "MODE SENSE(10)",
		.parse = tdm__spc_mode_sense_parse,
		.exec = tdm__spc_mode_sense,
		.usage = {0x5A, 0x18, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0xFF, 0xFF,
			  CTL},
	},
	{
		/* SPC-4 6.3 EXTENDED COPY (LID1), service action 00h
		 * (xcopy.c); reservations: treated as a medium write of the
		 * addressed LU (SPC-4 table 66 leaves it to the copy
		 * manager's policy) */
		.opcode = 0x83,
		.sa = 0x00,
		.has_sa = true,
		.cdb_len = 16,
		.flags = TDM_OP_MEDIA,
		.name = "EXTENDED COPY(LID1)",
		.parse = tdm__xcopy_parse,
		.exec = tdm__xcopy,
		/* PARAMETER LIST LENGTH */
		.usage = {0x83, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
			  0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, CTL},
	},
	{
		/* SPC-4 RECEIVE COPY RESULTS (LID1) (xcopy.c) */
		.opcode = 0x84,
		.sa = 0x00,
		.has_sa = true,
		.cdb_len = 16,
		.name = "RECEIVE COPY STATUS(LID1)",
		.parse = tdm__rcr_parse,
		.exec = tdm__rcr,
		/* LIST IDENTIFIER, ALLOCATION LENGTH */
		.usage = {0x84, 0x00, 0xFF, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
			  0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, CTL},
	},
	{
		.opcode = 0x84,
		.sa = 0x01,
		.has_sa = true,
		.cdb_len = 16,
		.name = "RECEIVE COPY DATA(LID1)",
		.parse = tdm__rcr_parse,
		.exec = tdm__rcr,
		.usage = {0x84, 0x01, 0xFF, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
			  0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, CTL},
	},
	{
		.opcode = 0x84,
		.sa = 0x03,
		.has_sa = true,
		.cdb_len = 16,
		.name = "RECEIVE COPY OPERATING PARAMETERS",
		.parse = tdm__rcr_parse,
		.exec = tdm__rcr,
		/* ALLOCATION LENGTH (the LIST IDENTIFIER is reserved) */
		.usage = {0x84, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
			  0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, CTL},
	},
	{
		.opcode = 0x84,
		.sa = 0x04,
		.has_sa = true,
		.cdb_len = 16,
		.name = "RECEIVE COPY FAILURE DETAILS(LID1)",
		.parse = tdm__rcr_parse,
		.exec = tdm__rcr,
		.usage = {0x84, 0x04, 0xFF, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
			  0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, CTL},
	},
	/* persistent reservations (scsi/pr_scsi.c) */
	PR_IN(0x00, "READ KEYS"),
	PR_IN(0x01, "READ RESERVATION"),
	PR_IN(0x02, "REPORT CAPABILITIES"),
	PR_IN(0x03, "READ FULL STATUS"),
	PR_OUT(0x00, "REGISTER", 0x00),
	PR_OUT(0x01, "RESERVE", 0xFF),
	PR_OUT(0x02, "RELEASE", 0xFF),
	PR_OUT(0x03, "CLEAR", 0x00),
	PR_OUT(0x04, "PREEMPT", 0xFF),
	PR_OUT(0x05, "PREEMPT AND ABORT", 0xFF),
	PR_OUT(0x06, "REGISTER AND IGNORE EXISTING KEY", 0x00),
	PR_OUT(0x07, "REGISTER AND MOVE", 0xFF),
	{
		.opcode = 0xA0,
		.cdb_len = 12,
		.flags = F_ALWAYS,
		.name = "REPORT LUNS",
		.parse = tdm__spc_report_luns_parse,
		.exec = tdm__spc_report_luns,
		.usage = {0xA0, 0x00, 0xFF, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF,
			  0xFF, 0x00, CTL},
	},
	{
		/* SPC-4 6.35: MAINTENANCE IN, service action 0Ch (rsoc.c) */
		.opcode = 0xA3,
		.sa = 0x0C,
		.has_sa = true,
		.cdb_len = 12,
		/* PR: conflicts under Exclusive Access (SPC-4 table 66);
		 * ALUA: served in standby (SPC-4 5.15.2.4.4 "may") */
		.flags = TDM_OP_SPC2_ALLOWED | TDM_OP_PR_ALLOWED_WE |
			 TDM_OP_ALUA_ALLOWED,
		.name = "REPORT SUPPORTED OPERATION CODES",
		.parse = tdm__rsoc_parse,
		.exec = tdm__rsoc,
		/* RCTD, REPORTING OPTIONS, REQUESTED OPERATION CODE and
		 * SERVICE ACTION, ALLOCATION LENGTH */
		.usage = {0xA3, 0x0C, 0x87, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
			  0xFF, 0x00, CTL},
	},
	{
		/* SPC-4 6.36: MAINTENANCE IN, service action 0Dh (rsoc.c) */
		.opcode = 0xA3,
		.sa = 0x0D,
		.has_sa = true,
		.cdb_len = 12,
		/* PR: conflicts under Exclusive Access (SPC-4 table 66) */
		.flags = TDM_OP_SPC2_ALLOWED | TDM_OP_PR_ALLOWED_WE |
			 TDM_OP_ALUA_ALLOWED,
		.name = "REPORT SUPPORTED TASK MANAGEMENT FUNCTIONS",
		.parse = tdm__rstmf_parse,
		.exec = tdm__rstmf,
		/* REPD, ALLOCATION LENGTH */
		.usage = {0xA3, 0x0D, 0x80, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF,
			  0xFF, 0x00, CTL},
	},
	{
		/* SPC-4 6.37: MAINTENANCE IN, service action 0Ah
		 * (alua_scsi.c); allowed in every ALUA state and under
		 * every reservation (SPC-4 5.15.2.4, table 66) */
		.opcode = 0xA3,
		.sa = 0x0A,
		.has_sa = true,
		.cdb_len = 12,
		.flags = TDM_OP_SPC2_ALLOWED | TDM_OP_PR_ALLOWED_WE |
			 TDM_OP_PR_ALLOWED_EA | TDM_OP_ALUA_ANY,
		.name = "REPORT TARGET PORT GROUPS",
		.parse = tdm__rtpg_parse,
		.exec = tdm__rtpg,
		/* ALLOCATION LENGTH (the PARAMETER DATA FORMAT bits 7-5
		 * of byte 1 are looked at too) */
		.usage = {0xA3, 0x0A, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF,
			  0xFF, 0x00, CTL},
	},
	{
		/* SPC-4 6.45: MAINTENANCE OUT, service action 0Ah
		 * (alua_scsi.c): explicit ALUA, LUs of a DEVICE_GROUP;
		 * standby and unavailable take it (SPC-4 5.15.2.4.4/5) */
		.opcode = 0xA4,
		.sa = 0x0A,
		.has_sa = true,
		.cdb_len = 12,
		.flags = TDM_OP_ALUA_ALLOWED | TDM_OP_ALUA_UNAVAIL,
		.name = "SET TARGET PORT GROUPS",
		.parse = tdm__stpg_parse,
		.exec = tdm__stpg,
		/* PARAMETER LIST LENGTH */
		.usage = {0xA4, 0x0A, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF,
			  0xFF, 0x00, CTL},
		.supported = tdm__stpg_supported,
	},

	/* ---- SBC-3 ---- */
	{
		.opcode = 0x08,
		.cdb_len = 6,
		.flags = F_READ,
		.name = "READ(6)",
		.parse = tdm__sbc_rw_parse,
		.exec = tdm__sbc_read,
		.usage = {0x08, 0x1F, 0xFF, 0xFF, 0xFF, CTL},
	},
	{
		.opcode = 0x0A,
		.cdb_len = 6,
		.flags = F_WRITE,
		.name = "WRITE(6)",
		.parse = tdm__sbc_rw_parse,
		.exec = tdm__sbc_write,
		.usage = {0x0A, 0x1F, 0xFF, 0xFF, 0xFF, CTL},
	},
	{
		.opcode = 0x25,
		.cdb_len = 10,
		.flags = TDM_OP_SPC2_ALLOWED | TDM_OP_PR_ALLOWED_WE |
			 TDM_OP_PR_ALLOWED_EA | F_DISCOVERY,
		.name = "READ CAPACITY(10)",
		.parse = tdm__sbc_read_capacity10_parse,
		.exec = tdm__sbc_read_capacity10,
		.usage = {0x25, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x01,
			  CTL},
	},
	{
		.opcode = 0x28,
		.cdb_len = 10,
		.flags = F_READ,
		.name = "READ(10)",
		.parse = tdm__sbc_rw_parse,
		.exec = tdm__sbc_read,
		.usage = {0x28, 0x18, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0xFF, 0xFF,
			  CTL},
	},
	{
		.opcode = 0x2A,
		.cdb_len = 10,
		.flags = F_WRITE,
		.name = "WRITE(10)",
		.parse = tdm__sbc_rw_parse,
		.exec = tdm__sbc_write,
		.usage = {0x2A, 0x18, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0xFF, 0xFF,
			  CTL},
	},
	{
		.opcode = 0x2E,
		.cdb_len = 10,
		.flags = F_WRITE,
		.name = "WRITE AND VERIFY(10)",
		.parse = tdm__sbc_rw_parse,
		.exec = tdm__sbc_write_verify,
		.usage = {0x2E, 0x16, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0xFF, 0xFF,
			  CTL},
	},
	{
		.opcode = 0x2F,
		.cdb_len = 10,
		.flags = F_READ,
		.name = "VERIFY(10)",
		.parse = tdm__sbc_verify_parse,
		.exec = tdm__sbc_verify,
		.usage = {0x2F, 0x16, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0xFF, 0xFF,
			  CTL},
	},
	{
		.opcode = 0x34,
		.cdb_len = 10,
		.flags = F_READ,
		.name = "PRE-FETCH(10)",
		.parse = tdm__sbc_prefetch_parse,
		.exec = tdm__sbc_prefetch,
		.usage = {0x34, 0x02, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0xFF, 0xFF,
			  CTL},
	},
	{
		.opcode = 0x35,
		.cdb_len = 10,
		.flags = TDM_OP_MEDIA,
		.name = "SYNCHRONIZE CACHE(10)",
		.parse = tdm__sbc_sync_cache_parse,
		.exec = tdm__sbc_sync_cache,
		.usage = {0x35, 0x02, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0xFF, 0xFF,
			  CTL},
	},
	{
		.opcode = 0x37,
		.cdb_len = 10,
		.name = "READ DEFECT DATA(10)",
		.parse = tdm__sbc_read_defect_parse,
		.exec = tdm__sbc_read_defect,
		.usage = {0x37, 0x00, 0x1F, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF,
			  CTL},
	},
	{
		/* SBC-4 WRITE SAME(10) (thin.c): UNMAP; WRPROTECT, ANCHOR
		 * and the obsolete PBDATA/LBDATA are refused when set */
		.opcode = 0x41,
		.cdb_len = 10,
		.flags = F_WRITE,
		.name = "WRITE SAME(10)",
		.parse = tdm__thin_ws_parse,
		.exec = tdm__thin_ws,
		.usage = {0x41, 0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0xFF, 0xFF,
			  CTL},
	},
	{
		/* SBC-4 5.30 UNMAP (thin.c): thin LUs only; ANCHOR refused */
		.opcode = 0x42,
		.cdb_len = 10,
		.flags = F_WRITE,
		.name = "UNMAP",
		.parse = tdm__thin_unmap_parse,
		.exec = tdm__thin_unmap,
		.usage = {0x42, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF,
			  CTL},
		.supported = tdm__lu_thin,
	},
	{
		.opcode = 0x88,
		.cdb_len = 16,
		.flags = F_READ,
		.name = "READ(16)",
		.parse = tdm__sbc_rw_parse,
		.exec = tdm__sbc_read,
		.usage = {0x88, 0x18, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
			  0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, CTL},
	},
	{
		/* SBC-4 5.3 COMPARE AND WRITE (caw.c): DPO, FUA, LBA,
		 * NUMBER OF LOGICAL BLOCKS */
		.opcode = 0x89,
		.cdb_len = 16,
		.flags = F_WRITE,
		.name = "COMPARE AND WRITE",
		.parse = tdm__caw_parse,
		.exec = tdm__caw,
		.usage = {0x89, 0x18, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
			  0xFF, 0x00, 0x00, 0x00, 0xFF, 0x00, CTL},
	},
	{
		.opcode = 0x8A,
		.cdb_len = 16,
		.flags = F_WRITE,
		.name = "WRITE(16)",
		.parse = tdm__sbc_rw_parse,
		.exec = tdm__sbc_write,
		.usage = {0x8A, 0x18, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
			  0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, CTL},
	},
	{
		/* SBC-4 ORWRITE(16) (caw.c): DPO, FUA, LBA, TRANSFER
		 * LENGTH */
		.opcode = 0x8B,
		.cdb_len = 16,
		.flags = F_WRITE,
		.name = "ORWRITE(16)",
		.parse = tdm__orwrite_parse,
		.exec = tdm__orwrite,
		.usage = {0x8B, 0x18, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
			  0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, CTL},
	},
	{
		.opcode = 0x8E,
		.cdb_len = 16,
		.flags = F_WRITE,
		.name = "WRITE AND VERIFY(16)",
		.parse = tdm__sbc_rw_parse,
		.exec = tdm__sbc_write_verify,
		.usage = {0x8E, 0x16, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
			  0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, CTL},
	},
	{
		.opcode = 0x8F,
		.cdb_len = 16,
		.flags = F_READ,
		.name = "VERIFY(16)",
		.parse = tdm__sbc_verify_parse,
		.exec = tdm__sbc_verify,
		.usage = {0x8F, 0x16, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
			  0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, CTL},
	},
	{
		.opcode = 0x90,
		.cdb_len = 16,
		.flags = F_READ,
		.name = "PRE-FETCH(16)",
		.parse = tdm__sbc_prefetch_parse,
		.exec = tdm__sbc_prefetch,
		.usage = {0x90, 0x02, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
			  0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, CTL},
	},
	{
		.opcode = 0x91,
		.cdb_len = 16,
		.flags = TDM_OP_MEDIA,
		.name = "SYNCHRONIZE CACHE(16)",
		.parse = tdm__sbc_sync_cache_parse,
		.exec = tdm__sbc_sync_cache,
		.usage = {0x91, 0x02, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
			  0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, CTL},
	},
	{
		/* SBC-4 WRITE SAME(16) (thin.c): UNMAP, NDOB */
		.opcode = 0x93,
		.cdb_len = 16,
		.flags = F_WRITE,
		.name = "WRITE SAME(16)",
		.parse = tdm__thin_ws_parse,
		.exec = tdm__thin_ws,
		.usage = {0x93, 0x09, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
			  0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, CTL},
	},
	{
		/* SBC-4 WRITE ATOMIC(16) (caw.c): DPO, FUA, LBA, TRANSFER
		 * LENGTH (no ATOMIC BOUNDARY) */
		.opcode = 0x9C,
		.cdb_len = 16,
		.flags = F_WRITE,
		.name = "WRITE ATOMIC(16)",
		.parse = tdm__write_atomic_parse,
		.exec = tdm__write_atomic,
		.usage = {0x9C, 0x18, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
			  0xFF, 0x00, 0x00, 0xFF, 0xFF, 0x00, CTL},
	},
	{
		/* SBC-3: SERVICE ACTION IN(16), service action 10h */
		.opcode = 0x9E,
		.sa = 0x10,
		.has_sa = true,
		.cdb_len = 16,
		.flags = TDM_OP_SPC2_ALLOWED | TDM_OP_PR_ALLOWED_WE |
			 TDM_OP_PR_ALLOWED_EA | F_DISCOVERY,
		.name = "READ CAPACITY(16)",
		.parse = tdm__sbc_read_capacity16_parse,
		.exec = tdm__sbc_read_capacity16,
		.usage = {0x9E, 0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
			  0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, CTL},
	},
	{
		/* SBC-4 5.20: SERVICE ACTION IN(16), service action 12h
		 * (thin.c); reports the medium like a read */
		.opcode = 0x9E,
		.sa = 0x12,
		.has_sa = true,
		.cdb_len = 16,
		.flags = TDM_OP_MEDIA | TDM_OP_PR_ALLOWED_WE,
		.name = "GET LBA STATUS",
		.parse = tdm__thin_lba_status_parse,
		.exec = tdm__thin_lba_status,
		/* STARTING LBA, ALLOCATION LENGTH (REPORT TYPE: 0 only) */
		.usage = {0x9E, 0x12, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
			  0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, CTL},
	},
	{
		.opcode = 0xA8,
		.cdb_len = 12,
		.flags = F_READ,
		.name = "READ(12)",
		.parse = tdm__sbc_rw_parse,
		.exec = tdm__sbc_read,
		.usage = {0xA8, 0x18, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
			  0xFF, 0x00, CTL},
	},
	{
		.opcode = 0xAA,
		.cdb_len = 12,
		.flags = F_WRITE,
		.name = "WRITE(12)",
		.parse = tdm__sbc_rw_parse,
		.exec = tdm__sbc_write,
		.usage = {0xAA, 0x18, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
			  0xFF, 0x00, CTL},
	},
	{
		.opcode = 0xAE,
		.cdb_len = 12,
		.flags = F_WRITE,
		.name = "WRITE AND VERIFY(12)",
		.parse = tdm__sbc_rw_parse,
		.exec = tdm__sbc_write_verify,
		.usage = {0xAE, 0x16, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
			  0xFF, 0x00, CTL},
	},
	{
		.opcode = 0xAF,
		.cdb_len = 12,
		.flags = F_READ,
		.name = "VERIFY(12)",
		.parse = tdm__sbc_verify_parse,
		.exec = tdm__sbc_verify,
		.usage = {0xAF, 0x16, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
			  0xFF, 0x00, CTL},
	},
	{
		.opcode = 0xB7,
		.cdb_len = 12,
		.name = "READ DEFECT DATA(12)",
		.parse = tdm__sbc_read_defect_parse,
		.exec = tdm__sbc_read_defect,
		.usage = {0xB7, 0x1F, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF,
			  0xFF, 0x00, CTL},
	},
};

#define NOPS (sizeof(disk_ops) / sizeof(disk_ops[0]))

/*
 * The index: one slot per operation code. An opcode without service
 * actions points at its entry; an opcode with service actions points at
 * the first of its entries, and sa_next[] chains the others.
 */
static const struct tdm_opdesc *by_opcode[256];
static uint8_t sa_next[NOPS]; /* index + 1 of the next entry, 0 = end */
static pthread_once_t index_once = PTHREAD_ONCE_INIT;

static void build_index(void)
{
	size_t i, j;

	for (i = NOPS; i-- > 0;) {
		const struct tdm_opdesc *op = &disk_ops[i];
		const struct tdm_opdesc *head = by_opcode[op->opcode];

		if (head) {
			j = (size_t)(head - disk_ops);
			sa_next[i] = (uint8_t)(j + 1);
		}
		by_opcode[op->opcode] = op;
	}
}

/* Where a CDB keeps its service action (SPC-4 CDB formats). */
static uint16_t cdb_sa(const struct tdm_cmd *cmd)
{
	if (cmd->cdb[0] == 0x7F) /* variable length CDB: bytes 8-9 */
		return tdm_get_be16(cmd->cdb + 8);
	return cmd->cdb[1] & 0x1F;
}

const struct tdm_opdesc *tdm__op_lookup(const struct tdm_cmd *cmd, bool *bad_sa)
{
	/* CD/DVD-ROM LUs (device type 05h) have their own table
	 * (scsi/optable_mmc.c); unmapped LUNs and disks use this one */
	if (cmd->lu && cmd->lu->dev_type == TDM_DEVTYPE_CDROM)
		return tdm__mmc_op_lookup(cmd, bad_sa);
	return tdm__disk_op_lookup(cmd, bad_sa);
}

const struct tdm_opdesc *tdm__disk_op_lookup(const struct tdm_cmd *cmd,
					     bool *bad_sa)
{
	const struct tdm_opdesc *op;
	uint16_t sa;

	pthread_once(&index_once, build_index);
	if (bad_sa)
		*bad_sa = false;
	op = by_opcode[cmd->cdb[0]];
	if (!op || !op->has_sa)
		return op;
	sa = cdb_sa(cmd);
	for (;;) {
		size_t next;

		if (op->sa == sa)
			return op;
		next = sa_next[op - disk_ops];
		if (!next)
			break;
		op = &disk_ops[next - 1];
	}
	if (bad_sa)
		*bad_sa = true;
	return NULL;
}

size_t tdm__op_count(void)
{
	return NOPS;
}

const struct tdm_opdesc *tdm__op_at(size_t i)
{
	return i < NOPS ? &disk_ops[i] : NULL;
}

/* ---- parse helpers shared by the opcode tables ---- */

int tdm__parse_none(struct tdm_cmd *cmd)
{
	cmd->dir = TDM_DIR_NONE;
	cmd->data_len = 0;
	return TDM_SR_OK;
}

int tdm__parse_alloc6(struct tdm_cmd *cmd)
{
	cmd->dir = TDM_DIR_READ;
	cmd->alloc_len = cmd->cdb[4];
	return TDM_SR_OK;
}

int tdm__parse_alloc10(struct tdm_cmd *cmd)
{
	cmd->dir = TDM_DIR_READ;
	cmd->alloc_len = tdm_get_be16(cmd->cdb + 7);
	return TDM_SR_OK;
}
