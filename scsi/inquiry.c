/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * inquiry.c - INQUIRY of disk LUs (SPC-4): the standard data and the
 * VPD pages, among them the device identification page (83h) whose port
 * designators the transport names (struct tdm_transport_ops). CD-ROM LUs
 * answer from scsi/mmc.c.
 */
#include <string.h>

#include "scsi/scsi_int.h"

/* SPC-4 INQUIRY: the version descriptors we claim (version descriptor
 * values table) */
#define VD_SAM5 0x00A0	/* SAM-5 (no version claimed) */
#define VD_SPC4 0x0460	/* SPC-4 (no version claimed) */
#define VD_SBC3 0x04C0	/* SBC-3 (no version claimed) */
#define VD_SRP 0x0940	/* SRP (no version claimed) */
#define VD_ISCSI 0x0960 /* iSCSI (no version claimed) */

/* SPC-4 device identification VPD page: designator types, code sets,
 * associations */
#define DT_T10 0x1
#define DT_EUI64 TDM_DESIG_EUI64
#define DT_NAA TDM_DESIG_NAA
#define DT_REL_PORT 0x4
#define DT_TPG 0x5
#define DT_SCSI_NAME TDM_DESIG_SCSI_NAME
#define CS_BINARY 0x1
#define CS_ASCII 0x2
#define CS_UTF8 0x3
#define ASSOC_LU 0x0
#define ASSOC_PORT TDM_DESIG_ASSOC_PORT

/* The largest INQUIRY answer we build (VPD 83h with two SCSI names). */
#define INQ_MAX 1024
/* The most designators a transport gives for its port and device. */
#define TPORT_DESIG_MAX 3

/* tdm__lu_tpgs() and tdm__port_group_of(): scsi/alua_scsi.c */

/* ---- transport facts for INQUIRY ---- */

/* The transport's PROTOCOL IDENTIFIER (struct tdm_transport_ops), or -1
 * when it does not say (TDM_PROTO_NONE) or there is no nexus. */
static int nexus_protocol(const struct tdm_nexus *nx)
{
	if (!nx || !nx->ops || nx->ops->protocol == TDM_PROTO_NONE)
		return -1;
	return nx->ops->protocol;
}

static void pad_field(uint8_t *dst, size_t width, const char *src)
{
	size_t n = src ? strnlen(src, width) : 0;

	memcpy(dst, src ? src : "", n);
	memset(dst + n, ' ', width - n);
}

/* ---- INQUIRY ---- */

static const uint8_t disk_vpd_pages[] = {
	0x00, /* SPC-4: supported VPD pages */
	0x80, /* SPC-4: unit serial number */
	0x83, /* SPC-4: device identification */
	0x86, /* SPC-4: extended INQUIRY data */
	0x8F, /* SPC-4 7.8.17: third-party copy (scsi/xcopy.c) */
	0xB0, /* SBC-3: block limits */
	0xB1, /* SBC-3: block device characteristics */
	0xB2, /* SBC-3: logical block provisioning */
};

static bool vpd_supported(const struct tdm_cmd *cmd, uint8_t page)
{
	size_t i;

	if (!cmd->lu) /* an unmapped LUN lists only page 00h */
		return page == 0x00;
	for (i = 0; i < sizeof(disk_vpd_pages); i++)
		if (disk_vpd_pages[i] == page)
			return true;
	return false;
}

int tdm__spc_inquiry_parse(struct tdm_cmd *cmd)
{
	const uint8_t *cdb = cmd->cdb;

	/* SPC-4 INQUIRY: CMDDT is obsolete, PAGE CODE only with EVPD */
	if (cdb[1] & 0x02)
		return tdm__cdb_err(cmd, 1, 1);
	if (cdb[1] & 0x01) {
		if (!vpd_supported(cmd, cdb[2]))
			return tdm__cdb_err(cmd, 2, 7);
	} else if (cdb[2]) {
		return tdm__cdb_err(cmd, 2, 7);
	}
	cmd->dir = TDM_DIR_READ;
	cmd->alloc_len = tdm__min_u32(tdm_get_be16(cdb + 3), INQ_MAX);
	return TDM_SR_OK;
}

/* Byte 0 of INQUIRY data: PERIPHERAL QUALIFIER and DEVICE TYPE. */
static uint8_t inq_byte0(const struct tdm_cmd *cmd)
{
	/* SPC-4 standard INQUIRY data: PERIPHERAL QUALIFIER 011b = no LU
	 * at this LUN, PERIPHERAL DEVICE TYPE 1Fh; 05h for CD-ROM LUs */
	return cmd->lu ? cmd->lu->dev_type : 0x7F;
}

/* SPC-4 standard INQUIRY data, 96 bytes. */
static size_t inq_standard(const struct tdm_cmd *cmd, uint8_t *p)
{
	const struct tdm_lu *lu = cmd->lu;
	uint16_t vd[8];
	size_t nvd = 0, i;
	int proto = nexus_protocol(cmd->nexus);

	p[0] = inq_byte0(cmd);
	if (lu && lu->conf.removable)
		p[1] = 0x80; /* RMB */
	p[2] = 0x06;	     /* VERSION: SPC-4 */
	p[3] = 0x10 | 0x02;  /* HISUP, RESPONSE DATA FORMAT 2 */
	p[4] = 96 - 5;	     /* ADDITIONAL LENGTH */
	if (lu)
		p[5] = (uint8_t)((tdm__lu_tpgs(lu) & 3) << 4); /* TPGS */
	if (lu && tdm__lu_tpgs(lu))
		p[6] = 0x10; /* MULTIP: ALUA implies more than one port */
	p[7] = 0x02;	     /* CMDQUE */
	if (lu) {
		pad_field(p + 8, 8, lu->t10_vendor);
		pad_field(p + 16, 16, lu->product);
		pad_field(p + 32, 4, lu->revision);
	} else {
		pad_field(p + 8, 8, "TANDEM");
		pad_field(p + 16, 16, NULL);
		pad_field(p + 32, 4, NULL);
	}
	vd[nvd++] = VD_SAM5;
	if (proto == TDM_PROTO_ISCSI)
		vd[nvd++] = VD_ISCSI;
	else if (proto == TDM_PROTO_SRP)
		vd[nvd++] = VD_SRP;
	vd[nvd++] = VD_SPC4;
	vd[nvd++] = VD_SBC3;
	for (i = 0; i < nvd; i++)
		tdm_put_be16(p + 58 + 2 * i, vd[i]);
	return 96;
}

/* Append one designation descriptor (SPC-4 device identification VPD
 * page). */
static size_t put_desig(uint8_t *p, int proto, uint8_t code_set, uint8_t assoc,
			uint8_t type, const void *d, size_t len)
{
	p[0] = code_set & 0x0F;
	p[1] = (uint8_t)((assoc & 3) << 4 | (type & 0x0F));
	if (proto >= 0 && assoc != ASSOC_LU) {
		p[0] |= (uint8_t)(proto << 4);
		p[1] |= 0x80; /* PIV */
	}
	p[2] = 0;
	p[3] = (uint8_t)len;
	if (d)
		memcpy(p + 4, d, len);
	return 4 + len;
}

/* A designator of the transport's (SPC-4 7.8.6) in room bytes at p, or
 * nothing (0) if it does not fit. A SCSI name string is null terminated
 * and padded to a multiple of 4 bytes. */
static size_t put_port_desig(uint8_t *p, size_t room, int proto,
			     const struct tdm_designator *d)
{
	bool name = d->type == DT_SCSI_NAME;
	size_t len = name ? (d->len + 1u + 3u) & ~(size_t)3 : d->len;

	if (d->len > sizeof(d->id) || len > 252 || 4 + len > room)
		return 0; /* DESIGNATOR LENGTH: one byte */
	if (!name)
		return put_desig(p, proto, CS_BINARY, d->assoc, d->type, d->id,
				 len);
	memset(p + 4, 0, len);
	memcpy(p + 4, d->id, d->len);
	return put_desig(p, proto, CS_UTF8, d->assoc, DT_SCSI_NAME, NULL, len);
}

static size_t vpd_devid(const struct tdm_cmd *cmd, uint8_t *p)
{
	const struct tdm_lu *lu = cmd->lu;
	const struct tdm_nexus *nx = cmd->nexus;
	int proto = nexus_protocol(nx);
	uint8_t t10[8 + sizeof(lu->t10_dev_id)];
	uint8_t b4[4] = {0};
	size_t n = 4, dl;

	/* NAA designator: the LU's name, the same on every head */
	n += put_desig(p + n, -1, CS_BINARY, ASSOC_LU, DT_NAA, lu->naa,
		       lu->naa_len);
	if (lu->eui64_len)
		n += put_desig(p + n, -1, CS_BINARY, ASSOC_LU, DT_EUI64,
			       lu->eui64, lu->eui64_len);
	/* T10 vendor ID based designator: vendor + vendor specific */
	pad_field(t10, 8, lu->t10_vendor);
	dl = strnlen(lu->t10_dev_id, sizeof(lu->t10_dev_id));
	memcpy(t10 + 8, lu->t10_dev_id, dl);
	n += put_desig(p + n, -1, CS_ASCII, ASSOC_LU, DT_T10, t10, 8 + dl);
	if (nx) {
		/* relative target port designator */
		tdm_put_be16(b4 + 2, nx->rel_port);
		n += put_desig(p + n, proto, CS_BINARY, ASSOC_PORT, DT_REL_PORT,
			       b4, 4);
		/* target port group designator */
		tdm_put_be16(b4 + 2, tdm__port_group_of(lu, nx));
		n += put_desig(p + n, proto, CS_BINARY, ASSOC_PORT, DT_TPG, b4,
			       4);
	}
	if (nx && nx->ops->target_port) {
		/* the target port and target device as the transport names
		 * them (iSCSI: SCSI name strings, SRP and FC: EUI-64/NAA) */
		struct tdm_designator d[TPORT_DESIG_MAX];
		size_t k = nx->ops->target_port(nx, d, TPORT_DESIG_MAX), i;

		for (i = 0; i < k && i < TPORT_DESIG_MAX; i++)
			n += put_port_desig(p + n, INQ_MAX - n, proto, &d[i]);
	}
	return n;
}

static size_t inq_vpd(const struct tdm_cmd *cmd, uint8_t page, uint8_t *p)
{
	const struct tdm_lu *lu = cmd->lu;
	size_t n, i;

	p[0] = inq_byte0(cmd);
	p[1] = page;
	switch (page) {
	case 0x00:
		if (!lu) {
			n = 5;
			p[4] = 0x00;
			break;
		}
		for (i = 0; i < sizeof(disk_vpd_pages); i++)
			p[4 + i] = disk_vpd_pages[i];
		n = 4 + sizeof(disk_vpd_pages);
		break;
	case 0x80:
		n = strnlen(lu->usn, sizeof(lu->usn) - 1);
		memcpy(p + 4, lu->usn, n);
		n += 4;
		break;
	case 0x83:
		n = vpd_devid(cmd, p);
		break;
	case 0x86: /* SPC-4 extended INQUIRY data VPD page */
		n = 64;
		p[5] = 0x04 | 0x02 | 0x01; /* HEADSUP, ORDSUP, SIMPSUP */
		if (lu->conf.nv_cache)
			p[6] |= 0x02; /* NV_SUP */
		else if (lu->bs.write_cache)
			p[6] |= 0x01; /* V_SUP */
		p[7] = 0x01; /* LUICLR: unit attentions are per I_T nexus */
		break;
	case 0xB0: /* SBC-3 block limits VPD page */
		n = 64;
		/* OPTIMAL TRANSFER LENGTH GRANULARITY: a physical block
		 * (READ CAPACITY(16)'s exponent) */
		tdm_put_be16(p + 6, (uint16_t)(1u << lu->lbppbe));
		tdm_put_be32(p + 8, tdm__lu_max_xfer_blocks(lu));
		/* OPTIMAL TRANSFER LENGTH, MAXIMUM PREFETCH LENGTH:
		 * 0 = not reported */
		/* thin: WSNZ, UNMAP and WRITE SAME limits (scsi/thin.c) */
		tdm__thin_vpd_block_limits(lu, p);
		/* COMPARE AND WRITE and atomic write limits (scsi/caw.c) */
		tdm__caw_vpd_b0(lu, p);
		break;
	case 0x8F: /* SPC-4 7.8.17 third-party copy (scsi/xcopy.c) */
		n = tdm__xcopy_vpd(lu, p);
		break;
	case 0xB1: /* SBC-3 block device characteristics VPD page */
		n = 64;
		/* MEDIUM ROTATION RATE: 0001h non-rotating, 0 not reported */
		tdm_put_be16(p + 4, lu->conf.rotational ? 0 : 1);
		break;
	case 0xB2: /* SBC-3 logical block provisioning VPD page */
		/* thin: LBPU, LBPWS, LBPWS10, LBPRZ (scsi/thin.c) */
		n = tdm__thin_vpd_lbp(lu, p);
		break;
	default:
		return 0;
	}
	tdm_put_be16(p + 2, (uint16_t)(n - 4));
	return n;
}

int tdm__spc_inquiry(struct tdm_cmd *cmd)
{
	uint8_t p[INQ_MAX];
	size_t n;

	memset(p, 0, sizeof(p));
	if (cmd->cdb[1] & 0x01)
		n = inq_vpd(cmd, cmd->cdb[2], p);
	else
		n = inq_standard(cmd, p);
	if (!n)
		return tdm__cdb_err(cmd, 2, 7);
	tdm__cmd_put_data(cmd, p, n);
	return TDM_SR_OK;
}
