/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * log_sense.c - LOG SENSE (SPC-4): the supported pages, temperature
 * and informational exceptions log pages.
 */
#include <string.h>

#include "scsi/scsi_int.h"

/* ---- LOG SENSE ---- */

/* SPC-4 log pages we keep, ascending */
#define LP_SUPPORTED 0x00
#define LP_TEMPERATURE 0x0D
#define LP_IE 0x2F

int tdm__spc_log_sense_parse(struct tdm_cmd *cmd)
{
	const uint8_t *cdb = cmd->cdb;
	uint8_t page = cdb[2] & 0x3F, sub = cdb[3];
	uint16_t ptr = tdm_get_be16(cdb + 5);
	uint16_t max_param;

	/* SPC-4 LOG SENSE: no parameter pointer control, no saving */
	if (cdb[1] & 0x02)
		return tdm__cdb_err(cmd, 1, 1);
	if (cdb[1] & 0x01)
		return tdm__cdb_err(cmd, 1, 0);
	switch (page) {
	case LP_SUPPORTED:
		max_param = 0xFFFF; /* no parameters: the pointer is unused */
		break;
	case LP_TEMPERATURE:
		max_param = 0x0001;
		break;
	case LP_IE:
		max_param = 0x0000;
		break;
	default:
		return tdm__cdb_err(cmd, 2, 5);
	}
	/* subpage 00h; FFh also for page 00h (pages and subpages) */
	if (sub != 0x00 && !(page == LP_SUPPORTED && sub == 0xFF))
		return tdm__cdb_err(cmd, 3, 7);
	if (ptr > max_param)
		return tdm__cdb_err(cmd, 5, 7);
	cmd->dir = TDM_DIR_READ;
	cmd->alloc_len = tdm__min_u32(tdm_get_be16(cdb + 7), 64);
	return TDM_SR_OK;
}

/* One log parameter: binary, list format (FORMAT AND LINKING 11b). */
static size_t put_log_param(uint8_t *p, uint16_t code, const uint8_t *v,
			    uint8_t len)
{
	tdm_put_be16(p, code);
	p[2] = 0x03;
	p[3] = len;
	memcpy(p + 4, v, len);
	return 4u + len;
}

int tdm__spc_log_sense(struct tdm_cmd *cmd)
{
	const uint8_t *cdb = cmd->cdb;
	uint8_t page = cdb[2] & 0x3F, sub = cdb[3];
	uint16_t ptr = tdm_get_be16(cdb + 5);
	uint8_t p[64];
	size_t n = 4;

	memset(p, 0, sizeof(p));
	p[0] = page;
	switch (page) {
	case LP_SUPPORTED:
		if (sub == 0xFF) {
			/* SPC-4: supported log pages and subpages */
			static const uint8_t pairs[] = {
				LP_SUPPORTED,	0x00, LP_SUPPORTED, 0xFF,
				LP_TEMPERATURE, 0x00, LP_IE,	    0x00,
			};
			p[0] |= 0x40; /* SPF */
			p[1] = 0xFF;
			memcpy(p + 4, pairs, sizeof(pairs));
			n += sizeof(pairs);
		} else {
			/* SPC-4: supported log pages */
			p[4] = LP_SUPPORTED;
			p[5] = LP_TEMPERATURE;
			p[6] = LP_IE;
			n += 3;
		}
		break;
	case LP_TEMPERATURE: {
		/* SPC-4 temperature log page: FFh = no sensor to read */
		static const uint8_t unknown[2] = {0x00, 0xFF};

		p[0] |= 0x80; /* DS: not saveable */
		if (ptr <= 0x0000)
			n += put_log_param(p + n, 0x0000, unknown, 2);
		n += put_log_param(p + n, 0x0001, unknown, 2);
		break;
	}
	case LP_IE: {
		/* SPC-4 informational exceptions log page: no exception
		 * (ASC/ASCQ 0), temperature FFh */
		static const uint8_t ie[3] = {0x00, 0x00, 0xFF};

		p[0] |= 0x80;
		n += put_log_param(p + n, 0x0000, ie, 3);
		break;
	}
	default:
		return tdm__cdb_err(cmd, 2, 5);
	}
	tdm_put_be16(p + 2, (uint16_t)(n - 4));
	tdm__cmd_put_data(cmd, p, n);
	return TDM_SR_OK;
}
