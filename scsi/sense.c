/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * sense.c - the one table that turns a reason into status and sense
 * key/ASC/ASCQ, and the builder of fixed and descriptor sense data.
 * ASC/ASCQ values: SPC-4 annex D, table D.1.
 */
#include <string.h>

#include "scsi/scsi_int.h"

/* SPC-4 4.5.6, table 27: sense keys */
#define SK_NO_SENSE 0x0
#define SK_NOT_READY 0x2
#define SK_MEDIUM_ERROR 0x3
#define SK_HARDWARE_ERROR 0x4
#define SK_ILLEGAL_REQUEST 0x5
#define SK_UNIT_ATTENTION 0x6
#define SK_DATA_PROTECT 0x7
#define SK_COPY_ABORTED 0xA
#define SK_ABORTED_COMMAND 0xB
#define SK_MISCOMPARE 0xE

#define CC TDM_STATUS_CHECK_CONDITION
#define E(st, k, a, q)                                                         \
	{                                                                      \
		.status = (st), .key = (k), .asc = (a), .ascq = (q)            \
	}

const struct tdm_sense_entry tdm_sense_table[TDM__SR_COUNT] = {
	[TDM_SR_OK] = E(TDM_STATUS_GOOD, 0, 0, 0),
	[TDM_SR_RESERVATION_CONFLICT] =
		E(TDM_STATUS_RESERVATION_CONFLICT, 0, 0, 0),
	[TDM_SR_BUSY] = E(TDM_STATUS_BUSY, 0, 0, 0),
	[TDM_SR_TASK_SET_FULL] = E(TDM_STATUS_TASK_SET_FULL, 0, 0, 0),
	[TDM_SR_TASK_ABORTED] = E(TDM_STATUS_TASK_ABORTED, 0, 0, 0),

	[TDM_SR_INVALID_OPCODE] = E(CC, SK_ILLEGAL_REQUEST, 0x20, 0x00),
	[TDM_SR_INVALID_FIELD_IN_CDB] = E(CC, SK_ILLEGAL_REQUEST, 0x24, 0x00),
	[TDM_SR_INVALID_FIELD_IN_PARAM_LIST] =
		E(CC, SK_ILLEGAL_REQUEST, 0x26, 0x00),
	[TDM_SR_PARAM_LIST_LENGTH_ERROR] =
		E(CC, SK_ILLEGAL_REQUEST, 0x1A, 0x00),
	[TDM_SR_PARAM_VALUE_INVALID] = E(CC, SK_ILLEGAL_REQUEST, 0x26, 0x02),
	[TDM_SR_LBA_OUT_OF_RANGE] = E(CC, SK_ILLEGAL_REQUEST, 0x21, 0x00),
	/* MMC-6 READ CD: the sector type asked for is not the track's */
	[TDM_SR_ILLEGAL_MODE_FOR_TRACK] = E(CC, SK_ILLEGAL_REQUEST, 0x64, 0x00),
	[TDM_SR_LUN_NOT_SUPPORTED] = E(CC, SK_ILLEGAL_REQUEST, 0x25, 0x00),
	[TDM_SR_SAVING_PARAMS_NOT_SUPPORTED] =
		E(CC, SK_ILLEGAL_REQUEST, 0x39, 0x00),
	[TDM_SR_INVALID_FIELD_IN_IU] = E(CC, SK_ILLEGAL_REQUEST, 0x0E, 0x03),
	[TDM_SR_INVALID_COMMAND_OP_FOR_DEVICE] =
		E(CC, SK_ILLEGAL_REQUEST, 0x20, 0x00),
	[TDM_SR_INVALID_RELEASE_OF_PR] = E(CC, SK_ILLEGAL_REQUEST, 0x26, 0x04),
	[TDM_SR_INSUFFICIENT_REGISTRATION_RESOURCES] =
		E(CC, SK_ILLEGAL_REQUEST, 0x55, 0x04),
	[TDM_SR_MEDIUM_REMOVAL_PREVENTED] =
		E(CC, SK_ILLEGAL_REQUEST, 0x53, 0x02),
	[TDM_SR_COPY_TARGET_DEVICE_NOT_REACHABLE] =
		E(CC, SK_COPY_ABORTED, 0x0D, 0x02),
	[TDM_SR_TOO_MANY_SEGMENT_DESCRIPTORS] =
		E(CC, SK_ILLEGAL_REQUEST, 0x26, 0x08),
	[TDM_SR_TOO_MANY_TARGET_DESCRIPTORS] =
		E(CC, SK_ILLEGAL_REQUEST, 0x26, 0x06),
	[TDM_SR_UNSUPPORTED_SEGMENT_DESCRIPTOR] =
		E(CC, SK_ILLEGAL_REQUEST, 0x26, 0x09),
	[TDM_SR_UNSUPPORTED_TARGET_DESCRIPTOR] =
		E(CC, SK_ILLEGAL_REQUEST, 0x26, 0x07),

	[TDM_SR_WRITE_PROTECTED] = E(CC, SK_DATA_PROTECT, 0x27, 0x00),

	[TDM_SR_NOT_READY_MEDIUM_NOT_PRESENT] = E(CC, SK_NOT_READY, 0x3A, 0x00),
	[TDM_SR_NOT_READY_BECOMING_READY] = E(CC, SK_NOT_READY, 0x04, 0x01),
	[TDM_SR_NOT_READY_MANUAL_INTERVENTION] =
		E(CC, SK_NOT_READY, 0x04, 0x03),
	[TDM_SR_NOT_READY_INIT_REQUIRED] = E(CC, SK_NOT_READY, 0x04, 0x02),
	[TDM_SR_ALUA_TRANSITION] = E(CC, SK_NOT_READY, 0x04, 0x0A),
	[TDM_SR_ALUA_STANDBY] = E(CC, SK_NOT_READY, 0x04, 0x0B),
	[TDM_SR_ALUA_UNAVAILABLE] = E(CC, SK_NOT_READY, 0x04, 0x0C),
	[TDM_SR_ALUA_OFFLINE] = E(CC, SK_NOT_READY, 0x04, 0x12),

	[TDM_SR_READ_ERROR] = E(CC, SK_MEDIUM_ERROR, 0x11, 0x00),
	[TDM_SR_WRITE_ERROR] = E(CC, SK_MEDIUM_ERROR, 0x0C, 0x00),
	[TDM_SR_SPACE_ALLOC_FAILED] = E(CC, SK_DATA_PROTECT, 0x27, 0x07),
	[TDM_SR_HW_ERROR] = E(CC, SK_HARDWARE_ERROR, 0x44, 0x00),

	[TDM_SR_MISCOMPARE_VERIFY] = E(CC, SK_MISCOMPARE, 0x1D, 0x00),

	[TDM_SR_ABORTED_NO_RESOURCES] = E(CC, SK_ABORTED_COMMAND, 0x55, 0x03),
	[TDM_SR_ABORTED_DATA_PHASE_ERROR] =
		E(CC, SK_ABORTED_COMMAND, 0x4B, 0x00),
	[TDM_SR_ABORTED_INITIATOR_DETECTED] =
		E(CC, SK_ABORTED_COMMAND, 0x48, 0x00),
	[TDM_SR_ABORTED_PROTOCOL_FAILURE] =
		E(CC, SK_ABORTED_COMMAND, 0x47, 0x05),

	[TDM_SR_UA_POWER_ON_RESET] = E(CC, SK_UNIT_ATTENTION, 0x29, 0x00),
	[TDM_SR_UA_POWER_ON_OCCURRED] = E(CC, SK_UNIT_ATTENTION, 0x29, 0x01),
	[TDM_SR_UA_BUS_RESET] = E(CC, SK_UNIT_ATTENTION, 0x29, 0x03),
	[TDM_SR_UA_I_T_NEXUS_LOSS] = E(CC, SK_UNIT_ATTENTION, 0x29, 0x07),
	[TDM_SR_UA_PARAMS_CHANGED] = E(CC, SK_UNIT_ATTENTION, 0x2A, 0x00),
	[TDM_SR_UA_MODE_PARAMS_CHANGED] = E(CC, SK_UNIT_ATTENTION, 0x2A, 0x01),
	[TDM_SR_UA_LOG_PARAMS_CHANGED] = E(CC, SK_UNIT_ATTENTION, 0x2A, 0x02),
	[TDM_SR_UA_RESERVATIONS_PREEMPTED] =
		E(CC, SK_UNIT_ATTENTION, 0x2A, 0x03),
	[TDM_SR_UA_RESERVATIONS_RELEASED] =
		E(CC, SK_UNIT_ATTENTION, 0x2A, 0x04),
	[TDM_SR_UA_REGISTRATIONS_PREEMPTED] =
		E(CC, SK_UNIT_ATTENTION, 0x2A, 0x05),
	[TDM_SR_UA_ASYMMETRIC_ACCESS_CHANGED] =
		E(CC, SK_UNIT_ATTENTION, 0x2A, 0x06),
	[TDM_SR_UA_CAPACITY_CHANGED] = E(CC, SK_UNIT_ATTENTION, 0x2A, 0x09),
	[TDM_SR_UA_REPORTED_LUNS_CHANGED] =
		E(CC, SK_UNIT_ATTENTION, 0x3F, 0x0E),
	[TDM_SR_UA_INQUIRY_DATA_CHANGED] = E(CC, SK_UNIT_ATTENTION, 0x3F, 0x03),
	[TDM_SR_UA_COMMANDS_CLEARED_BY_ANOTHER] =
		E(CC, SK_UNIT_ATTENTION, 0x2F, 0x00),
	[TDM_SR_UA_MEDIUM_MAY_HAVE_CHANGED] =
		E(CC, SK_UNIT_ATTENTION, 0x28, 0x00),
};

#undef E
#undef CC

/* SPC-4 4.5.2.4.2 / 4.5.3: sense key specific, field pointer form */
static void put_sks(uint8_t *p, const struct tdm_sense_info *info)
{
	p[0] = 0x80; /* SKSV */
	if (info->sks_cd)
		p[0] |= 0x40;
	if (info->sks_bit >= 0)
		p[0] |= 0x08 | (info->sks_bit & 7); /* BPV, bit pointer */
	tdm_put_be16(p + 1, info->sks_field);
}

size_t tdm__sense_build(uint8_t *buf, size_t len, enum tdm_sense_reason sr,
			const struct tdm_sense_info *info, bool descriptor)
{
	const struct tdm_sense_entry *e = &tdm_sense_table[sr];
	uint8_t s[TDM_SENSE_MAX];
	size_t n;

	if (e->status != TDM_STATUS_CHECK_CONDITION)
		return 0;
	memset(s, 0, sizeof(s));
	if (descriptor) {
		/* SPC-4 4.5.2: descriptor format, response code 72h */
		s[0] = 0x72;
		s[1] = e->key;
		s[2] = e->asc;
		s[3] = e->ascq;
		n = 8;
		if (info && info->info_valid) {
			/* 4.5.2.2: information descriptor */
			s[n] = 0x00;
			s[n + 1] = 0x0A;
			s[n + 2] = 0x80;
			tdm_put_be64(s + n + 4, info->info);
			n += 12;
		}
		if (info && info->sks_valid) {
			/* 4.5.2.4: sense key specific descriptor */
			s[n] = 0x02;
			s[n + 1] = 0x06;
			put_sks(s + n + 4, info);
			n += 8;
		}
		s[7] = (uint8_t)(n - 8);
	} else {
		/* SPC-4 4.5.3: fixed format, response code 70h */
		s[0] = 0x70;
		s[2] = e->key;
		if (info && info->info_valid && info->info <= 0xFFFFFFFFull) {
			s[0] |= 0x80; /* VALID */
			tdm_put_be32(s + 3, (uint32_t)info->info);
		}
		s[7] = 10;
		s[12] = e->asc;
		s[13] = e->ascq;
		if (info && info->sks_valid)
			put_sks(s + 15, info);
		n = 18;
	}
	if (n > len)
		n = len;
	memcpy(buf, s, n);
	return n;
}

void tdm_cmd_set_sense(struct tdm_cmd *cmd, enum tdm_sense_reason sr,
		       const struct tdm_sense_info *info)
{
	bool desc = false;

	if ((int)sr < 0 || sr >= TDM__SR_COUNT)
		sr = TDM_SR_HW_ERROR;
	if (cmd->lu)
		desc = cmd->lu->mode.d_sense;
	cmd->status = tdm_sense_table[sr].status;
	cmd->sense_len = (uint8_t)tdm__sense_build(
		cmd->sense, sizeof(cmd->sense), sr, info, desc);
}

enum tdm_sense_reason tdm__bs_status_to_sr(enum tdm_bs_status st, bool write)
{
	switch (st) {
	case TDM_BS_OK:
		return TDM_SR_OK;
	case TDM_BS_READ_ERROR:
		return TDM_SR_READ_ERROR;
	case TDM_BS_WRITE_ERROR:
		return TDM_SR_WRITE_ERROR;
	case TDM_BS_NO_SPACE:
		return TDM_SR_SPACE_ALLOC_FAILED;
	case TDM_BS_NO_MEMORY:
		return TDM_SR_BUSY;
	case TDM_BS_UNSUPPORTED:
		return TDM_SR_INVALID_OPCODE;
	case TDM_BS_DETACHED:
		/* scsi/backing.c: not served through this head now; SPC-4
		 * 5.15.2.4.5 (04h/0Ch) sends the initiator to another path */
		return TDM_SR_ALUA_UNAVAILABLE;
	case TDM_BS_MISCOMPARE:
		/* SBC-4 5.3 (the caller adds INFORMATION) */
		return TDM_SR_MISCOMPARE_VERIFY;
	case TDM_BS_TIMEOUT:
		/* the store did not answer in time (rbd_timeout): NOT
		 * READY, BECOMING READY (SPC-4 04h/01h), which initiators
		 * retry (Linux: scsi_check_sense NEEDS_RETRY) */
		return TDM_SR_NOT_READY_BECOMING_READY;
	}
	return write ? TDM_SR_WRITE_ERROR : TDM_SR_READ_ERROR;
}
