/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * spc.c - SPC commands of disk LUs: INQUIRY and its VPD pages, REPORT
 * LUNS (with the SAM-5 LUN encoding the gate decodes), TEST UNIT READY,
 * REQUEST SENSE, LOG SENSE, SPC-2 RESERVE/RELEASE, and the unit and medium
 * state of SBC START STOP UNIT and PREVENT ALLOW MEDIUM REMOVAL.
 * MODE SENSE/SELECT live in mode.c, the block commands in sbc.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "scsi/scsi_int.h"
#include "pr-sync/pr.h"

/* SPC-4 INQUIRY: the version descriptors we claim (version descriptor
 * values table) */
#define VD_SAM5 0x00A0	/* SAM-5 (no version claimed) */
#define VD_SPC4 0x0460	/* SPC-4 (no version claimed) */
#define VD_SBC3 0x04C0	/* SBC-3 (no version claimed) */
#define VD_SRP 0x0940	/* SRP (no version claimed) */
#define VD_ISCSI 0x0960 /* iSCSI (no version claimed) */

/* SPC-4: PROTOCOL IDENTIFIER values */
#define PROTO_SRP 0x4
#define PROTO_ISCSI 0x5

/* SPC-4 device identification VPD page: designator types, code sets,
 * associations */
#define DT_T10 0x1
#define DT_EUI64 0x2
#define DT_NAA 0x3
#define DT_REL_PORT 0x4
#define DT_TPG 0x5
#define DT_SCSI_NAME 0x8
#define CS_BINARY 0x1
#define CS_ASCII 0x2
#define CS_UTF8 0x3
#define ASSOC_LU 0x0
#define ASSOC_PORT 0x1
#define ASSOC_TARGET 0x2

/* The largest INQUIRY answer we build (VPD 83h with two SCSI names). */
#define INQ_MAX 1024
/* REPORT LUNS: header + at most 16384 single level LUNs (0..16383) */
#define RL_MAX (8u + 8u * 16384u)

static uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

/* ---- shared parse helpers ---- */

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

/* tdm__lu_tpgs() and tdm__port_group_of(): scsi/alua_scsi.c */

/* ---- SAM-5 4.7: LUN addressing ---- */

int tdm__lun_decode(uint64_t sam_lun, uint64_t *lun)
{
	uint8_t b0 = (uint8_t)(sam_lun >> 56);

	/* single level only: the second to fourth levels must be zero */
	if (sam_lun & 0x0000FFFFFFFFFFFFull)
		return -EINVAL;
	switch (b0 >> 6) {
	case 0: /* SAM-5 4.7: peripheral device addressing, bus 0 */
		if (b0 & 0x3F)
			return -EINVAL;
		*lun = (sam_lun >> 48) & 0xFF;
		return 0;
	case 1: /* SAM-5 4.7: flat space addressing */
		*lun = (sam_lun >> 48) & 0x3FFF;
		return 0;
	default: /* logical unit / extended addressing: not used here */
		return -EINVAL;
	}
}

uint64_t tdm__lun_encode(uint64_t lun)
{
	if (lun < 256) /* peripheral device addressing, bus 0 */
		return lun << 48;
	/* flat space addressing (LUN numbers are at most 16383) */
	return (0x4000ull | (lun & 0x3FFF)) << 48;
}

/* ---- transport facts for INQUIRY ---- */

static int nexus_protocol(const struct tdm_nexus *nx)
{
	const char *n;

	if (!nx || !nx->ops || !nx->ops->name)
		return -1;
	n = nx->ops->name;
	if (!strcmp(n, "iscsi"))
		return PROTO_ISCSI;
	if (!strcmp(n, "srp"))
		return PROTO_SRP;
	return -1;
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
	cmd->alloc_len = min_u32(tdm_get_be16(cdb + 3), INQ_MAX);
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
	if (proto == PROTO_ISCSI)
		vd[nvd++] = VD_ISCSI;
	else if (proto == PROTO_SRP)
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

/* SCSI name string designator: null terminated, padded to 4 bytes. */
static size_t put_name_desig(uint8_t *p, int proto, uint8_t assoc,
			     const char *name, const char *suffix)
{
	size_t n = strlen(name), s = suffix ? strlen(suffix) : 0;
	size_t len = (n + s + 1 + 3) & ~(size_t)3;

	if (len > 252) /* DESIGNATOR LENGTH is one byte; keep it sane */
		return 0;
	memset(p + 4, 0, len);
	memcpy(p + 4, name, n);
	if (s)
		memcpy(p + 4 + n, suffix, s);
	return put_desig(p, proto, CS_UTF8, assoc, DT_SCSI_NAME, NULL, len);
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
	if (nx && proto == PROTO_ISCSI && nx->id.target[0]) {
		/* SCSI name string designators: the target device
		 * and the target port (RFC 7143 13.4: "name,t,0xTPGT") */
		char tp[16];
		static const char hex[] = "0123456789abcdef";
		size_t i;

		memcpy(tp, ",t,0x", 5);
		for (i = 0; i < 4; i++)
			tp[5 + i] = hex[(nx->id.tpgt >> (12 - 4 * i)) & 0xF];
		tp[9] = '\0';
		n += put_name_desig(p + n, proto, ASSOC_TARGET, nx->id.target,
				    NULL);
		n += put_name_desig(p + n, proto, ASSOC_PORT, nx->id.target,
				    tp);
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
	cmd->alloc_len = min_u32(alloc, RL_MAX);
	return TDM_SR_OK;
}

int tdm__spc_report_luns(struct tdm_cmd *cmd)
{
	const struct tdm_lunmap *map;
	uint8_t *p;
	size_t n = 0, i, len;
	bool all = cmd->cdb[2] == 0x00 || cmd->cdb[2] == 0x02;

	pthread_rwlock_rdlock(&tdm__reg_lock);
	map = cmd->nexus ? cmd->nexus->map : NULL;
	if (all && map)
		n = map->n;
	len = 8 + 8 * (n ? n : (all ? 1 : 0));
	p = calloc(1, len);
	if (!p) {
		pthread_rwlock_unlock(&tdm__reg_lock);
		return TDM_SR_ABORTED_NO_RESOURCES;
	}
	for (i = 0; i < n; i++)
		tdm_put_be64(p + 8 + 8 * i, tdm__lun_encode(map->ents[i].lun));
	pthread_rwlock_unlock(&tdm__reg_lock);
	/* an initiator that sees no LU still finds LUN 0, which answers
	 * INQUIRY with peripheral qualifier 011b */
	tdm_put_be32(p, (uint32_t)(len - 8)); /* LUN LIST LENGTH: untruncated */
	tdm__cmd_put_data(cmd, p, len);
	free(p);
	return TDM_SR_OK;
}

/* ---- medium and unit state ---- */

/*
 * State of removable media and PREVENT ALLOW MEDIUM REMOVAL, kept beside
 * the LU (keyed by its never reused serial): which nexuses prevent
 * removal (SBC-3: the prevention lasts until each of them allows, or
 * until its I_T nexus loss or a LU reset), and whether the medium is
 * unloaded. Only removable LUs have an entry.
 */
struct medium {
	struct tdm_list link;
	uint64_t lu_serial;
	bool unloaded;
	size_t nprevent;
	struct tdm_nexus *prevent[8]; /* first holders; count beyond */
	size_t noverflow;
};

static pthread_mutex_t medium_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tdm_list media = TDM_LIST_INIT(media);

/* Find (or create) the entry of lu; under medium_lock. */
static struct medium *medium_get(const struct tdm_lu *lu, bool create)
{
	struct tdm_list *pos;
	struct medium *m;

	tdm_list_for_each (pos, &media) {
		m = tdm_list_entry(pos, struct medium, link);
		if (m->lu_serial == lu->serial)
			return m;
	}
	if (!create)
		return NULL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->lu_serial = lu->serial;
	tdm_list_add_tail(&media, &m->link);
	return m;
}

static size_t medium_prevent_count(const struct medium *m)
{
	return m->nprevent + m->noverflow;
}

static void medium_put(struct medium *m)
{
	if (!m->unloaded && !medium_prevent_count(m)) {
		tdm_list_del(&m->link);
		free(m);
	}
}

static void set_prevent_count(struct tdm_lu *lu, const struct medium *m)
{
	pthread_mutex_lock(&lu->lock);
	lu->prevent = m ? (uint32_t)medium_prevent_count(m) : 0;
	pthread_mutex_unlock(&lu->lock);
}

static void set_stopped(struct tdm_lu *lu, bool stopped)
{
	pthread_mutex_lock(&lu->lock);
	__atomic_store_n(&lu->stopped, stopped, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&lu->lock);
}

int tdm__lu_medium_check(struct tdm_lu *lu)
{
	struct medium *m;
	bool unloaded = false;

	/* scsi/mmc.c: a CD-ROM drive without an image (MMC-6 3Ah/00h) */
	if (__atomic_load_n(&lu->no_medium, __ATOMIC_ACQUIRE))
		return TDM_SR_NOT_READY_MEDIUM_NOT_PRESENT;
	if (!__atomic_load_n(&lu->stopped, __ATOMIC_ACQUIRE) ||
	    !lu->conf.removable)
		return TDM_SR_OK;
	pthread_mutex_lock(&medium_lock);
	m = medium_get(lu, false);
	if (m)
		unloaded = m->unloaded;
	pthread_mutex_unlock(&medium_lock);
	/* SPC-4 annex D: 3Ah/00h MEDIUM NOT PRESENT */
	return unloaded ? TDM_SR_NOT_READY_MEDIUM_NOT_PRESENT : TDM_SR_OK;
}

/* What TEST UNIT READY and REQUEST SENSE report for a stopped unit. */
static int unit_state(struct tdm_lu *lu)
{
	int sr = tdm__lu_medium_check(lu);

	if (sr != TDM_SR_OK)
		return sr;
	if (__atomic_load_n(&lu->stopped, __ATOMIC_ACQUIRE))
		/* SBC-3 stopped power condition: 04h/02h */
		return TDM_SR_NOT_READY_INIT_REQUIRED;
	return TDM_SR_OK;
}

int tdm__spc_test_unit_ready(struct tdm_cmd *cmd)
{
	return unit_state(cmd->lu);
}

/* Drop nx from the preventers of lu (nx NULL: all of them). */
static void prevent_drop(struct tdm_lu *lu, const struct tdm_nexus *nx)
{
	struct medium *m;
	size_t i;

	pthread_mutex_lock(&medium_lock);
	m = medium_get(lu, false);
	if (m) {
		if (!nx) {
			m->nprevent = 0;
			m->noverflow = 0;
		}
		for (i = 0; i < m->nprevent;) {
			if (m->prevent[i] == nx)
				m->prevent[i] = m->prevent[--m->nprevent];
			else
				i++;
		}
		set_prevent_count(lu, m);
		medium_put(m);
	}
	pthread_mutex_unlock(&medium_lock);
}

int tdm__spc_prevent_allow(struct tdm_cmd *cmd)
{
	struct tdm_lu *lu = cmd->lu;
	uint8_t prevent = cmd->cdb[4] & 0x03;
	struct medium *m;
	size_t i;

	/* SBC-3 PREVENT ALLOW MEDIUM REMOVAL: 00b allow, 01b prevent,
	 * others obsolete */
	if (prevent > 1)
		return tdm__cdb_err(cmd, 4, 1);
	if (!lu->conf.removable)
		return TDM_SR_OK; /* nothing to remove */
	if (!prevent) {
		prevent_drop(lu, cmd->nexus);
		return TDM_SR_OK;
	}
	pthread_mutex_lock(&medium_lock);
	m = medium_get(lu, true);
	if (!m) {
		pthread_mutex_unlock(&medium_lock);
		return TDM_SR_ABORTED_NO_RESOURCES;
	}
	for (i = 0; i < m->nprevent; i++)
		if (m->prevent[i] == cmd->nexus)
			break;
	if (i == m->nprevent) {
		if (m->nprevent < sizeof(m->prevent) / sizeof(m->prevent[0]))
			m->prevent[m->nprevent++] = cmd->nexus;
		else
			m->noverflow++; /* kept until a LU reset */
	}
	set_prevent_count(lu, m);
	pthread_mutex_unlock(&medium_lock);
	return TDM_SR_OK;
}

/* The state change START STOP UNIT asked for, after the flush. */
static int start_stop_apply(struct tdm_cmd *cmd)
{
	struct tdm_lu *lu = cmd->lu;
	bool loej = cmd->cdb[4] & 0x02, start = cmd->cdb[4] & 0x01;
	struct medium *m;
	int sr = TDM_SR_OK;

	pthread_mutex_lock(&medium_lock);
	m = lu->conf.removable ? medium_get(lu, loej && !start) : NULL;
	if (loej && m && medium_prevent_count(m)) {
		/* the medium is locked in: neither unloaded nor (with the
		 * drive closed) loaded while removal is prevented */
		sr = TDM_SR_MEDIUM_REMOVAL_PREVENTED;
	} else if (loej && !start) {
		/* unload */
		if (!m)
			sr = TDM_SR_ABORTED_NO_RESOURCES;
		else {
			m->unloaded = true;
			set_stopped(lu, true);
		}
	} else if (loej) {
		/* load and start */
		bool was = m && m->unloaded;

		if (m) {
			m->unloaded = false;
			medium_put(m);
		}
		set_stopped(lu, false);
		if (was) /* SBC-3: a new medium for everybody else */
			tdm__ua_raise_lu(lu, TDM_SR_UA_MEDIUM_MAY_HAVE_CHANGED,
					 cmd->nexus);
	} else if (start) {
		if (m && m->unloaded)
			sr = TDM_SR_NOT_READY_MEDIUM_NOT_PRESENT;
		else
			set_stopped(lu, false);
	}
	/* START=0 without LOEJ: accepted and the unit keeps serving, as
	 * LIO and SCST do and libiscsi's StartStopUnit.NoLoej expects; a
	 * target with no spindle has nothing to stop */
	if (m && sr != TDM_SR_OK)
		medium_put(m);
	pthread_mutex_unlock(&medium_lock);
	return sr;
}

static void start_stop_flushed(struct tdm_cmd *cmd, int sr)
{
	if (sr == TDM_SR_OK)
		sr = start_stop_apply(cmd);
	tdm__cmd_done(cmd, sr);
}

int tdm__spc_start_stop(struct tdm_cmd *cmd)
{
	struct tdm_lu *lu = cmd->lu;
	const uint8_t *cdb = cmd->cdb;
	uint8_t pcm = cdb[3] & 0x0F, pc = cdb[4] >> 4;
	bool no_flush = cdb[4] & 0x04, loej = cdb[4] & 0x02;
	bool start = cdb[4] & 0x01;

	/* SBC-3 START STOP UNIT, POWER CONDITION. The LU is always in
	 * the active power condition: a POWER CONDITION other than
	 * START_VALID (0h) is accepted and changes nothing, START and LOEJ
	 * then being ignored (libiscsi's StartStopUnit.PwrCnd sends 1h to
	 * Fh and expects GOOD). */
	if (pcm)
		return tdm__cdb_err(cmd, 3, 3);
	if (pc != 0x0)
		return TDM_SR_OK;
	if (loej && !lu->conf.removable)
		return tdm__cdb_err(cmd, 4, 1);
	if (loej) {
		/* SBC-3 START STOP UNIT: LOEJ while medium removal is
		 * prevented: refused early, no flush for that */
		int sr = TDM_SR_OK;
		struct medium *m;

		pthread_mutex_lock(&medium_lock);
		m = medium_get(lu, false);
		if (m && medium_prevent_count(m))
			sr = TDM_SR_MEDIUM_REMOVAL_PREVENTED;
		pthread_mutex_unlock(&medium_lock);
		if (sr != TDM_SR_OK)
			return sr;
	}
	/* stopping writes the volatile cache to the medium first unless
	 * NO_FLUSH; IMMED only allows an earlier status: ignored */
	if (!start && !no_flush && lu->bs.write_cache && !lu->conf.nv_cache) {
		cmd->bsio.op = TDM_BS_FLUSH;
		cmd->bsio.offset = 0;
		cmd->bsio.len = 0;
		cmd->bsio.buf = NULL;
		cmd->bsio.fua = false;
		cmd->exec_done = start_stop_flushed;
		tdm__bs_io(cmd, &cmd->bsio);
		return TDM__SR_ASYNC;
	}
	return start_stop_apply(cmd);
}

/* ---- REQUEST SENSE ---- */

int tdm__spc_request_sense(struct tdm_cmd *cmd)
{
	bool desc = cmd->cdb[1] & 0x01;
	uint8_t s[TDM_SENSE_MAX];
	int sr;
	size_t n;

	memset(s, 0, sizeof(s));
	if (!cmd->lu) {
		/* SPC-4 REQUEST SENSE: a LUN without LU reports 25h/00h in the
		 * parameter data */
		sr = TDM_SR_LUN_NOT_SUPPORTED;
	} else {
		/* REQUEST SENSE is UA exempt in the gate: it reports (and
		 * clears) a pending unit attention itself (SAM-5 5.14) */
		sr = tdm__ua_take(cmd->nexus, cmd->lu, false);
		if (sr == TDM_SR_OK)
			sr = unit_state(cmd->lu);
	}
	if (sr != TDM_SR_OK) {
		n = tdm__sense_build(s, sizeof(s), (enum tdm_sense_reason)sr,
				     NULL, desc);
	} else if (desc) {
		s[0] = 0x72; /* SPC-4 4.5.2: NO SENSE, no descriptors */
		n = 8;
	} else {
		s[0] = 0x70; /* SPC-4 4.5.3: NO SENSE */
		s[7] = 10;
		n = 18;
	}
	tdm__cmd_put_data(cmd, s, n);
	return TDM_SR_OK;
}

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
	cmd->alloc_len = min_u32(tdm_get_be16(cdb + 7), 64);
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

/* ---- SPC-2 RESERVE / RELEASE ---- */

static struct tdm_nexus *spc2_holder(struct tdm_lu *lu)
{
	return __atomic_load_n(&lu->spc2_holder, __ATOMIC_ACQUIRE);
}

static void spc2_set_holder(struct tdm_lu *lu, struct tdm_nexus *nx)
{
	__atomic_store_n(&lu->spc2_holder, nx, __ATOMIC_RELEASE);
}

/* RESERVE/RELEASE (6)/(10): third-party, long id and extents are not
 * supported (SPC-2 RESERVE/RELEASE). */
static int spc2_check_cdb(struct tdm_cmd *cmd)
{
	const uint8_t *cdb = cmd->cdb;

	if (cdb[1] & 0x10) /* 3RDPTY */
		return tdm__cdb_err(cmd, 1, 4);
	if (cdb[1] & 0x01) /* obsolete extent reservations */
		return tdm__cdb_err(cmd, 1, 0);
	if (cmd->op->cdb_len == 10) {
		if (cdb[1] & 0x02) /* LONGID */
			return tdm__cdb_err(cmd, 1, 1);
		if (tdm_get_be16(cdb + 7)) /* no parameter list to take */
			return tdm__cdb_err(cmd, 7, 7);
	}
	return TDM_SR_OK;
}

/*
 * Cluster mode: RESERVE, RELEASE, the loss of an I_T nexus and a LOGICAL
 * UNIT RESET are ordered through the agent (scsi/cluster.c) and applied
 * on every head by tdm__spc2_apply(), the holder kept as an I_T nexus id
 * (initiator port TransportID and relative target port), so that the
 * reservation holds through every head's ports.
 */

/* Under lu->lock. */
static bool id_holds(const struct tdm_lu *lu, const struct tdm_pr_nexus *id)
{
	return atomic_load(&lu->spc2_held) && lu->spc2_id &&
	       lu->spc2_id->rel_port == id->rel_port &&
	       tdm_pr_tid_equal(&lu->spc2_id->tid, &id->tid);
}

/* Under lu->lock. */
static void id_set(struct tdm_lu *lu, const struct tdm_pr_nexus *id)
{
	if (!id) {
		atomic_store(&lu->spc2_held, false);
		return;
	}
	if (!lu->spc2_id)
		lu->spc2_id = calloc(1, sizeof(*lu->spc2_id));
	if (!lu->spc2_id)
		return; /* not reserved: the safe side for nobody */
	*lu->spc2_id = *id;
	atomic_store(&lu->spc2_held, true);
}

bool tdm__spc2_held(struct tdm_lu *lu)
{
	return spc2_holder(lu) != NULL || atomic_load(&lu->spc2_held);
}

bool tdm__spc2_get(struct tdm_lu *lu, struct tdm_pr_nexus *id)
{
	bool held;

	pthread_mutex_lock(&lu->lock);
	held = atomic_load(&lu->spc2_held) && lu->spc2_id;
	if (held)
		*id = *lu->spc2_id;
	pthread_mutex_unlock(&lu->lock);
	return held;
}

void tdm__spc2_set(struct tdm_lu *lu, const struct tdm_pr_nexus *id)
{
	pthread_mutex_lock(&lu->lock);
	id_set(lu, id);
	pthread_mutex_unlock(&lu->lock);
}

static int order_from(struct tdm_cmd *cmd, uint8_t kind)
{
	struct tdm_pr_nexus id;

	if (tdm__pr_nexus_id(cmd->nexus, &id) < 0)
		return TDM_SR_INSUFFICIENT_REGISTRATION_RESOURCES;
	return tdm__cluster_order(cmd, kind, cmd->lu->name, &id);
}

int tdm__spc2_apply(struct tdm_lu *lu, uint8_t kind,
		    const struct tdm_pr_nexus *id, bool mine)
{
	int sr = TDM_SR_OK;

	switch (kind) {
	case TDM__ORD_SPC2_RESERVE:
		pthread_mutex_lock(&lu->lock);
		if (tdm__pr_blocks_spc2(lu)) /* SPC-4 5.13.3 */
			sr = TDM_SR_RESERVATION_CONFLICT;
		else if (!atomic_load(&lu->spc2_held) || id_holds(lu, id))
			id_set(lu, id);
		else
			sr = TDM_SR_RESERVATION_CONFLICT;
		pthread_mutex_unlock(&lu->lock);
		break;
	case TDM__ORD_SPC2_RELEASE:
	case TDM__ORD_NEXUS_GONE:
		pthread_mutex_lock(&lu->lock);
		if (id_holds(lu, id))
			id_set(lu, NULL);
		pthread_mutex_unlock(&lu->lock);
		break;
	case TDM__ORD_LU_RESET:
	case TDM__ORD_LU_POWER_ON:
		pthread_mutex_lock(&lu->lock);
		id_set(lu, NULL);
		pthread_mutex_unlock(&lu->lock);
		/* the head that took the TMF did the rest itself */
		if (!mine) {
			tdm__abort_lu_all(lu);
			if (lu->conf.removable)
				prevent_drop(lu, NULL);
			tdm__ua_raise_lu(lu,
					 kind == TDM__ORD_LU_POWER_ON
						 ? TDM_SR_UA_POWER_ON_OCCURRED
						 : TDM_SR_UA_BUS_RESET,
					 NULL);
		}
		break;
	default:
		sr = TDM_SR_HW_ERROR;
		break;
	}
	return sr;
}

int tdm__spc_reserve(struct tdm_cmd *cmd)
{
	struct tdm_lu *lu = cmd->lu;
	struct tdm_nexus *h;
	int sr = spc2_check_cdb(cmd);

	if (sr != TDM_SR_OK)
		return sr;
	if (tdm__cluster_mode())
		return order_from(cmd, TDM__ORD_SPC2_RESERVE);
	pthread_mutex_lock(&lu->lock);
	h = lu->spc2_holder;
	if (tdm__pr_blocks_spc2(lu)) /* PR: SPC-4 5.13.3, scsi/pr_scsi.c */
		sr = TDM_SR_RESERVATION_CONFLICT;
	else if (!h || h == cmd->nexus)
		spc2_set_holder(lu, cmd->nexus);
	else
		sr = TDM_SR_RESERVATION_CONFLICT;
	pthread_mutex_unlock(&lu->lock);
	return sr;
}

int tdm__spc_release(struct tdm_cmd *cmd)
{
	struct tdm_lu *lu = cmd->lu;
	int sr = spc2_check_cdb(cmd);

	if (sr != TDM_SR_OK)
		return sr;
	if (tdm__cluster_mode())
		return order_from(cmd, TDM__ORD_SPC2_RELEASE);
	/* SPC-2 RELEASE: from another nexus GOOD, without effect */
	pthread_mutex_lock(&lu->lock);
	if (lu->spc2_holder == cmd->nexus)
		spc2_set_holder(lu, NULL);
	pthread_mutex_unlock(&lu->lock);
	return TDM_SR_OK;
}

/* Does an SPC-2 reservation of another nexus hold cmd's LU? */
static bool held_by_other(struct tdm_cmd *cmd)
{
	struct tdm_lu *lu = cmd->lu;
	struct tdm_nexus *h = spc2_holder(lu);
	struct tdm_pr_nexus id;
	bool other;

	if (h)
		return h != cmd->nexus;
	if (!atomic_load(&lu->spc2_held))
		return false;
	if (tdm__pr_nexus_id(cmd->nexus, &id) < 0)
		return true;
	pthread_mutex_lock(&lu->lock);
	other = atomic_load(&lu->spc2_held) && !id_holds(lu, &id);
	pthread_mutex_unlock(&lu->lock);
	return other;
}

bool tdm__spc2_conflict(struct tdm_cmd *cmd)
{
	const uint8_t *cdb = cmd->cdb;

	if (!held_by_other(cmd))
		return false;
	if (cmd->op->flags & TDM_OP_SPC2_ALLOWED)
		return false;
	/* SPC-2 annex B, tables B.1/B.2: allowed only with these fields */
	switch (cdb[0]) {
	case 0x1E: /* PREVENT ALLOW MEDIUM REMOVAL with PREVENT 00b */
		return (cdb[4] & 0x03) != 0;
	case 0x1B: /* START STOP UNIT with START=1, POWER CONDITION 0h */
		return !((cdb[4] & 0x01) && !(cdb[4] >> 4));
	default:
		return true;
	}
}

void tdm__spc2_nexus_gone(struct tdm_nexus *nx)
{
	struct tdm_pr_nexus id;
	struct tdm_lu **lus;
	size_t n, i;

	/* SPC-2: I_T nexus loss releases the reservation (on every head:
	 * ordered, nobody waits; without an agent it is lost with the
	 * link, docs/cluster.md); SBC-3: and ends the nexus' prevention
	 * of medium removal */
	if (tdm__cluster_mode() && tdm__pr_nexus_id(nx, &id) == 0)
		(void)tdm__cluster_order(NULL, TDM__ORD_NEXUS_GONE, "", &id);
	lus = tdm__all_lus(&n);
	if (!lus)
		return;
	for (i = 0; i < n; i++) {
		struct tdm_lu *lu = lus[i];

		pthread_mutex_lock(&lu->lock);
		if (lu->spc2_holder == nx)
			spc2_set_holder(lu, NULL);
		pthread_mutex_unlock(&lu->lock);
		if (lu->conf.removable)
			prevent_drop(lu, nx);
		tdm__lu_put(lu);
	}
	free(lus);
}

static void reset_ordered(void *arg, int status)
{
	(void)status; /* not ordered: this head's reset stands alone */
	tdm__tmf_cmd_done(arg);
}

/* cluster mode: order kind for lu (or for the target: dev) from issuer;
 * tmf answers once every head applied it */
static void reset_order(uint8_t kind, const char *dev,
			const struct tdm_nexus *issuer, struct tdm_tmf *tmf)
{
	struct tdm_pr_nexus id;

	memset(&id, 0, sizeof(id));
	if (issuer)
		(void)tdm__pr_nexus_id(issuer, &id);
	if (tmf)
		atomic_fetch_add(&tmf->pending, 1);
	if (tdm__cluster_order_cb(NULL, tmf ? reset_ordered : NULL, tmf, kind,
				  dev, &id) != 0 &&
	    tmf)
		tdm__tmf_cmd_done(tmf);
}

static void reset(struct tdm_lu *lu, const struct tdm_nexus *issuer,
		  struct tdm_tmf *tmf, uint8_t kind)
{

	/* cluster: every head clears the reservation and the other heads
	 * abort their tasks of lu and raise the reset's unit attention;
	 * the TMF answers once they all did (multipath initiators look
	 * for the unit attention on every path right after) */
	if (tdm__cluster_mode())
		reset_order(kind, lu->name, issuer, tmf);
	/* a LU reset releases the SPC-2 reservation and every prevention
	 * of medium removal (SBC-3 PREVENT ALLOW MEDIUM REMOVAL) */
	pthread_mutex_lock(&lu->lock);
	spc2_set_holder(lu, NULL);
	pthread_mutex_unlock(&lu->lock);
	if (lu->conf.removable)
		prevent_drop(lu, NULL);
}

void tdm__spc2_reset(struct tdm_lu *lu, const struct tdm_nexus *issuer,
		     struct tdm_tmf *tmf)
{
	reset(lu, issuer, tmf, TDM__ORD_LU_RESET);
}

void tdm__spc2_power_on(struct tdm_lu *lu, const struct tdm_nexus *issuer,
			struct tdm_tmf *tmf)
{
	reset(lu, issuer, tmf, TDM__ORD_LU_POWER_ON);
}

/* RFC 7143 11.6.1: after a TARGET COLD RESET "the target MUST then close
 * all of its TCP connections to all initiators": the target's nexuses on
 * every head (the issuer's transport closes the issuer after answering) */
void tdm__target_close(const struct tdm_nexus *issuer, struct tdm_tmf *tmf)
{
	if (tdm__cluster_mode())
		reset_order(TDM__ORD_TARGET_CLOSE, issuer->id.target, issuer,
			    tmf);
	tdm__close_target_nexuses(issuer->id.target, issuer);
}

/* scsi/mmc.c: a CD-ROM got a new medium from tandemctl (media change):
 * it is loaded (an earlier START STOP UNIT eject is over) and started. */
void tdm__lu_medium_inserted(struct tdm_lu *lu)
{
	struct medium *m;

	pthread_mutex_lock(&medium_lock);
	m = medium_get(lu, false);
	if (m) {
		m->unloaded = false;
		medium_put(m);
	}
	pthread_mutex_unlock(&medium_lock);
	set_stopped(lu, false);
}
