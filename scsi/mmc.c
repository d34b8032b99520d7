/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * mmc.c - CD/DVD-ROM logical units (peripheral device type 05h, handler
 * vcdrom): the MMC-6 commands of a read-only drive with one data
 * track, and the media change that tandemctl asks for.
 *
 * The medium is an image file behind the LU's backstore. It can be absent
 * (filename ""), unloaded by START STOP UNIT (LOEJ=1, START=0; unit_state.c
 * keeps that state with the prevention of medium removal), or swapped by
 * tdm__mmc_change_medium() without closing a session: that raises NOT
 * READY TO READY CHANGE, MEDIUM MAY HAVE CHANGED (28h/00h) on every I_T
 * nexus and a media event for GET EVENT STATUS NOTIFICATION.
 *
 * Media events are kept per LU, not per I_T nexus: the first initiator
 * that polls consumes them (a shared CD-ROM drive is rare; the unit
 * attention still reaches every nexus).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "scsi/scsi_int.h"
#include "lib/log.h"

#define CD_BLOCK 2048u
/* an image up to the size of an 80-minute CD (360000 blocks) is a
 * CD-ROM, a larger one a DVD-ROM */
#define CD_MAX_BLOCKS 360000u

/* MMC-6 profile list: profile numbers */
#define PROFILE_NONE 0x0000
#define PROFILE_CDROM 0x0008
#define PROFILE_DVDROM 0x0010

/* MMC-6 feature codes */
#define FEAT_PROFILE_LIST 0x0000
#define FEAT_CORE 0x0001
#define FEAT_MORPHING 0x0002
#define FEAT_REMOVABLE 0x0003
#define FEAT_RANDOM_READ 0x0010
#define FEAT_CD_READ 0x001E
#define FEAT_DVD_READ 0x001F

/* MMC-6 GET EVENT STATUS NOTIFICATION: notification classes (bit
 * numbers of the request mask) and media event codes */
#define NC_OP_CHANGE 1
#define NC_MEDIA 4
#define ME_NO_CHANGE 0x0
#define ME_NEW_MEDIA 0x2
#define ME_MEDIA_REMOVAL 0x3

/* SPC-4 version descriptors: SBC-3 and MMC-6, no version claimed */
#define VD_SBC3 0x04C0
#define VD_MMC6 0x04E0

/* MODE SENSE pages of a CD-ROM */
#define MP_RW_ERR 0x01 /* MMC-6 read/write error recovery, 12 bytes */
#define MP_POWER 0x1A  /* SPC-4 power condition, 12 bytes */
#define MP_CAPS                                                                \
	0x2A /* MMC-3 CD/DVD capabilities and mechanical                       \
	      * status (what Linux sr and Windows ask for) */
#define MP_ALL 0x3F
#define MODE_MAX 128

/* Is there a loaded medium (an image, not ejected)? */
static bool medium_present(struct tdm_lu *lu)
{
	return tdm__lu_medium_check(lu) == TDM_SR_OK;
}

/* The tray is open after an eject by START STOP UNIT. */
static bool tray_open(struct tdm_lu *lu)
{
	return !__atomic_load_n(&lu->no_medium, __ATOMIC_ACQUIRE) &&
	       !medium_present(lu);
}

static uint16_t current_profile(struct tdm_lu *lu)
{
	if (!medium_present(lu))
		return PROFILE_NONE;
	return lu->nblocks <= CD_MAX_BLOCKS ? PROFILE_CDROM : PROFILE_DVDROM;
}

static void set_event(struct tdm_lu *lu, uint8_t ev)
{
	tdm_mutex_lock(&lu->lock);
	lu->mmc_event = ev;
	tdm_mutex_unlock(&lu->lock);
}

/* ---- INQUIRY ---- */

static const uint8_t cd_vpd_pages[] = {
	0x00, /* SPC-4: supported VPD pages */
	0x80, /* SPC-4: unit serial number */
	0x83, /* SPC-4: device identification */
};

int tdm__mmc_inquiry_parse(struct tdm_cmd *cmd)
{
	size_t i;

	if ((cmd->cdb[1] & 0x03) == 0x01) {
		for (i = 0; i < sizeof(cd_vpd_pages); i++)
			if (cd_vpd_pages[i] == cmd->cdb[2])
				break;
		if (i == sizeof(cd_vpd_pages))
			return tdm__cdb_err(cmd, 2, 7);
	}
	return tdm__spc_inquiry_parse(cmd);
}

int tdm__mmc_inquiry(struct tdm_cmd *cmd)
{
	uint8_t p[4 + sizeof(cd_vpd_pages)];
	size_t i;
	int sr;

	if ((cmd->cdb[1] & 0x01) && cmd->cdb[2] == 0x00) {
		p[0] = TDM_DEVTYPE_CDROM;
		p[1] = 0x00;
		tdm_put_be16(p + 2, sizeof(cd_vpd_pages));
		memcpy(p + 4, cd_vpd_pages, sizeof(cd_vpd_pages));
		tdm__cmd_put_data(cmd, p, sizeof(p));
		return TDM_SR_OK;
	}
	sr = tdm__spc_inquiry(cmd);
	if (sr != TDM_SR_OK || (cmd->cdb[1] & 0x01))
		return sr;
	/* standard data: claim MMC-6 where inquiry.c claims SBC-3 (VERSION
	 * DESCRIPTORs at bytes 58-73) */
	for (i = 58; i + 2 <= 74 && i + 2 <= cmd->data_len; i += 2)
		if (tdm_get_be16(cmd->buf + i) == VD_SBC3)
			tdm_put_be16(cmd->buf + i, VD_MMC6);
	return TDM_SR_OK;
}

/* ---- START STOP UNIT ---- */

int tdm__mmc_start_stop(struct tdm_cmd *cmd)
{
	struct tdm_lu *lu = cmd->lu;
	uint8_t pc = cmd->cdb[4] >> 4;
	bool loej = cmd->cdb[4] & 0x02, start = cmd->cdb[4] & 0x01;
	bool before, after;
	uint32_t prevent;
	int sr;

	if (__atomic_load_n(&lu->no_medium, __ATOMIC_ACQUIRE) && !pc &&
	    !(cmd->cdb[3] & 0x0F)) {
		/* an empty drive: the tray opens and closes, nothing to
		 * start (MMC-6 START STOP UNIT, table "Start/Stop and
		 * Eject operations") */
		tdm_mutex_lock(&lu->lock);
		prevent = lu->prevent;
		tdm_mutex_unlock(&lu->lock);
		if (loej && prevent)
			return TDM_SR_MEDIUM_REMOVAL_PREVENTED;
		if (start && !loej)
			return TDM_SR_NOT_READY_MEDIUM_NOT_PRESENT;
		return TDM_SR_OK;
	}
	/*
	 * MMC-6 START STOP UNIT: with a POWER CONDITION LoEj and Start are
	 * ignored; the drive is always active, so nothing changes. A
	 * stopped drive spins up again at the next medium access: a stop
	 * without LoEj leaves it ready (libiscsi StartStopUnit.NoLoej).
	 */
	if (!(cmd->cdb[3] & 0x0F) && (pc || (!loej && !start)))
		return TDM_SR_OK;
	before = medium_present(lu);
	/* no write cache on a CD-ROM: unit_state.c completes it at once */
	sr = tdm__spc_start_stop(cmd);
	if (sr == TDM__SR_ASYNC)
		return sr;
	after = medium_present(lu);
	if (sr == TDM_SR_OK && before != after)
		set_event(lu, after ? ME_NEW_MEDIA : ME_MEDIA_REMOVAL);
	return sr;
}

/* ---- MODE SENSE ---- */

static bool mode_page_known(uint8_t page)
{
	return page == MP_RW_ERR || page == MP_POWER || page == MP_CAPS ||
	       page == MP_ALL;
}

int tdm__mmc_mode_sense_parse(struct tdm_cmd *cmd)
{
	const uint8_t *cdb = cmd->cdb;
	bool ten = cdb[0] == 0x5A;
	uint8_t pc = cdb[2] >> 6, sub = cdb[3];

	if (pc == 3) /* SPC-4 MODE SENSE: saved values */
		return TDM_SR_SAVING_PARAMS_NOT_SUPPORTED;
	if (!mode_page_known(cdb[2] & 0x3F))
		return tdm__cdb_err(cmd, 2, 5);
	if (sub != 0x00 && sub != 0xFF)
		return tdm__cdb_err(cmd, 3, 7);
	cmd->dir = TDM_DIR_READ;
	cmd->alloc_len =
		tdm__min_u32(ten ? tdm_get_be16(cdb + 7) : cdb[4], MODE_MAX);
	return TDM_SR_OK;
}

/* One page for page control pc (0 current, 1 changeable, 2 default) at
 * p; returns its length. */
static size_t mode_page(struct tdm_lu *lu, uint8_t code, int pc, uint8_t *p)
{
	size_t len = code == MP_CAPS ? 22 : 12;
	uint32_t prevent;

	memset(p, 0, len);
	p[0] = code; /* PS = 0: nothing is saveable */
	p[1] = (uint8_t)(len - 2);
	if (pc == 1 || code != MP_CAPS)
		return len; /* nothing changeable; error recovery and
			     * power condition pages: all zero */
	/* capabilities: reads DVD-ROM (and CD-ROM) media, no writing,
	 * no audio; tray loading, eject, lock */
	p[2] = 0x08;		   /* DVD-ROM Read */
	p[6] = 0x20 | 0x08 | 0x01; /* tray, Eject, Lock */
	tdm_mutex_lock(&lu->lock);
	prevent = lu->prevent;
	tdm_mutex_unlock(&lu->lock);
	if (pc == 0 && prevent)
		p[6] |= 0x02; /* Lock State */
	/* maximum and current read speed (obsolete fields), kB/s: 48x */
	tdm_put_be16(p + 8, 8467);
	tdm_put_be16(p + 14, 8467);
	return len;
}

int tdm__mmc_mode_sense(struct tdm_cmd *cmd)
{
	static const uint8_t order[] = {MP_RW_ERR, MP_POWER, MP_CAPS};
	const uint8_t *cdb = cmd->cdb;
	bool ten = cdb[0] == 0x5A;
	uint8_t pc = cdb[2] >> 6, page = cdb[2] & 0x3F;
	uint8_t p[MODE_MAX];
	size_t n = ten ? 8 : 4, i;

	memset(p, 0, sizeof(p));
	/* device-specific parameter: WP, a CD-ROM is write protected; MMC
	 * uses no block descriptors (BLOCK DESCRIPTOR LENGTH 0) */
	p[ten ? 3 : 2] = 0x80;
	for (i = 0; i < sizeof(order); i++)
		if (page == MP_ALL || page == order[i])
			n += mode_page(cmd->lu, order[i], pc, p + n);
	if (ten)
		tdm_put_be16(p, (uint16_t)(n - 2)); /* MODE DATA LENGTH */
	else
		p[0] = (uint8_t)(n - 1);
	tdm__cmd_put_data(cmd, p, n);
	return TDM_SR_OK;
}

/* ---- GET CONFIGURATION ---- */

#define GC_MAX 256

int tdm__mmc_get_config_parse(struct tdm_cmd *cmd)
{
	/* MMC-6 GET CONFIGURATION: RT 11b is reserved */
	if ((cmd->cdb[1] & 0x03) == 0x03)
		return tdm__cdb_err(cmd, 1, 1);
	cmd->dir = TDM_DIR_READ;
	cmd->alloc_len = tdm__min_u32(tdm_get_be16(cmd->cdb + 7), GC_MAX);
	return TDM_SR_OK;
}

struct feat_ctx {
	uint8_t *p;
	size_t n;
	uint8_t rt;
	uint16_t sfn; /* STARTING FEATURE NUMBER */
};

/*
 * Append the feature descriptor header of code with its additional data
 * (len bytes at d), if RT and the starting feature number ask for it.
 */
static void put_feature(struct feat_ctx *f, uint16_t code, uint8_t version,
			bool persistent, bool current, const uint8_t *d,
			uint8_t len)
{
	uint8_t *p = f->p + f->n;

	switch (f->rt) {
	case 0: /* every feature from SFN on */
		if (code < f->sfn)
			return;
		break;
	case 1: /* the current ones from SFN on */
		if (code < f->sfn || !current)
			return;
		break;
	default: /* 10b: the one feature SFN names */
		if (code != f->sfn)
			return;
		break;
	}
	if (f->n + 4u + len > GC_MAX)
		return;
	tdm_put_be16(p, code);
	p[2] = (uint8_t)((version & 0x0F) << 2 | (persistent ? 0x02 : 0) |
			 (current ? 0x01 : 0));
	p[3] = len;
	if (len)
		memcpy(p + 4, d, len);
	f->n += 4u + len;
}

int tdm__mmc_get_config(struct tdm_cmd *cmd)
{
	struct tdm_lu *lu = cmd->lu;
	uint8_t buf[GC_MAX], d[8];
	uint16_t cur = current_profile(lu);
	bool present = cur != PROFILE_NONE;
	struct feat_ctx f = {
		.p = buf,
		.n = 8,
		.rt = cmd->cdb[1] & 0x03,
		.sfn = tdm_get_be16(cmd->cdb + 2),
	};

	memset(buf, 0, sizeof(buf));
	/* Profile List: descending profile numbers, CurrentP */
	memset(d, 0, sizeof(d));
	tdm_put_be16(d, PROFILE_DVDROM);
	d[2] = cur == PROFILE_DVDROM;
	tdm_put_be16(d + 4, PROFILE_CDROM);
	d[6] = cur == PROFILE_CDROM;
	put_feature(&f, FEAT_PROFILE_LIST, 0, true, true, d, 8);
	/* Core, version 2: PHYSICAL INTERFACE STANDARD 1 (SCSI family),
	 * DBE (the drive reports Device Busy events: none here, allowed) */
	memset(d, 0, sizeof(d));
	tdm_put_be32(d, 0x00000001);
	d[4] = 0x01; /* DBE */
	put_feature(&f, FEAT_CORE, 2, true, true, d, 8);
	/* Morphing, version 1: OCEvent (operational change events are
	 * reported by GET EVENT STATUS NOTIFICATION), polling only */
	memset(d, 0, sizeof(d));
	d[0] = 0x02;
	put_feature(&f, FEAT_MORPHING, 1, true, true, d, 4);
	/* Removable Medium: loading mechanism 001b tray, Eject, Lock */
	memset(d, 0, sizeof(d));
	d[0] = 0x20 | 0x08 | 0x01;
	put_feature(&f, FEAT_REMOVABLE, 0, true, true, d, 4);
	/* Random Readable: logical block size, BLOCKING (sectors per ECC
	 * block: 1 on CD, 16 on DVD), no PP */
	memset(d, 0, sizeof(d));
	tdm_put_be32(d, CD_BLOCK);
	tdm_put_be16(d + 4, cur == PROFILE_DVDROM ? 16 : 1);
	put_feature(&f, FEAT_RANDOM_READ, 0, false, present, d, 8);
	/* CD Read: no CD-Text, C2 error pointers or digital audio */
	memset(d, 0, sizeof(d));
	put_feature(&f, FEAT_CD_READ, 0, false, cur == PROFILE_CDROM, d, 0);
	/* DVD Read, version 0 (no DVD-R dual layer or multi) */
	put_feature(&f, FEAT_DVD_READ, 0, false, cur == PROFILE_DVDROM, d, 0);

	tdm_put_be32(buf, (uint32_t)(f.n - 4)); /* DATA LENGTH */
	tdm_put_be16(buf + 6, cur);		/* CURRENT PROFILE */
	tdm__cmd_put_data(cmd, buf, f.n);
	return TDM_SR_OK;
}

/* ---- READ CD ---- */

/*
 * MMC-6 READ CD of the image's one data track (mode 1, 2048 bytes of user
 * data a sector): EXPECTED SECTOR TYPE any (000b) or mode 1 (010b); of
 * the fields of byte 9 only USER DATA is there to give (no sync, header,
 * EDC/ECC or C2 pointers are kept), no sub-channel data. Without USER
 * DATA nothing is transferred.
 */
int tdm__mmc_read_cd_parse(struct tdm_cmd *cmd)
{
	const uint8_t *cdb = cmd->cdb;
	struct tdm_lu *lu = cmd->lu;
	uint8_t type = (cdb[1] >> 2) & 0x07;
	uint32_t lba = tdm_get_be32(cdb + 2);
	uint32_t n = tdm_get_be24(cdb + 6);
	int sr;

	cmd->flags = 0;
	if (cdb[1] & 0xE0)
		return tdm__cdb_err(cmd, 1, 7);
	if (type > 5)
		return tdm__cdb_err(cmd, 1, 4);
	sr = tdm__lu_medium_check(lu);
	if (sr != TDM_SR_OK)
		return sr;
	if (type != 0 && type != 2) /* CD-DA or mode 2 of a mode 1 track */
		return TDM_SR_ILLEGAL_MODE_FOR_TRACK;
	if (cdb[9] & 0x80)
		return tdm__cdb_err(cmd, 9, 7); /* SYNC */
	if (cdb[9] & 0x60)
		return tdm__cdb_err(cmd, 9, 6); /* HEADER CODES */
	if (cdb[9] & 0x08)
		return tdm__cdb_err(cmd, 9, 3); /* EDC & ECC */
	if (cdb[9] & 0x06)
		return tdm__cdb_err(cmd, 9, 2); /* C2 ERROR INFORMATION */
	if (cdb[10] & 0x07)
		return tdm__cdb_err(cmd, 10, 2); /* SUB-CHANNEL SELECTION */
	sr = tdm__lba_check(lu, lba, n);
	if (sr != TDM_SR_OK)
		return sr;
	if (n > tdm__lu_max_xfer_blocks(lu))
		return tdm__cdb_err(cmd, 6, 7);
	cmd->lba = lba;
	cmd->nblocks = cdb[9] & 0x10 ? n : 0;
	cmd->dir = cmd->nblocks ? TDM_DIR_READ : TDM_DIR_NONE;
	cmd->data_len = cmd->nblocks << lu->block_shift;
	return TDM_SR_OK;
}

/* ---- READ TOC/PMA/ATIP ---- */

/* MMC-6: LBA to MSF (a CD starts 2 seconds, 150 frames, before LBA 0) */
static void put_addr(uint8_t *p, uint32_t lba, bool msf)
{
	if (!msf) {
		tdm_put_be32(p, lba);
		return;
	}
	lba += 150;
	p[0] = 0;
	p[1] = (uint8_t)(lba / (75 * 60));
	p[2] = (uint8_t)((lba / 75) % 60);
	p[3] = (uint8_t)(lba % 75);
}

static uint8_t toc_format(const uint8_t *cdb)
{
	uint8_t format = cdb[2] & 0x0F;

	/* SFF-8020: the old format field in bits 7-6 of the CONTROL byte */
	if (!format && (cdb[9] >> 6))
		format = cdb[9] >> 6;
	return format;
}

int tdm__mmc_read_toc_parse(struct tdm_cmd *cmd)
{
	const uint8_t *cdb = cmd->cdb;
	uint8_t format = toc_format(cdb);

	/* formats 0000b (TOC) and 0001b (session information) only */
	if (format > 1)
		return tdm__cdb_err(cmd, 2, 3);
	/* TOC: TRACK/SESSION NUMBER 0, 1 (the only track) or AAh (the
	 * lead-out); a larger one is an invalid field */
	if (format == 0 && cdb[6] > 1 && cdb[6] != 0xAA)
		return tdm__cdb_err(cmd, 6, 7);
	cmd->dir = TDM_DIR_READ;
	cmd->alloc_len = tdm_get_be16(cdb + 7);
	return tdm__lu_medium_check(cmd->lu);
}

int tdm__mmc_read_toc(struct tdm_cmd *cmd)
{
	const uint8_t *cdb = cmd->cdb;
	struct tdm_lu *lu = cmd->lu;
	bool msf = cdb[1] & 0x02;
	uint8_t p[4 + 2 * 8];
	size_t n = 4;

	memset(p, 0, sizeof(p));
	p[2] = 1; /* first track / first session */
	p[3] = 1; /* last track / last session */
	if (toc_format(cdb) == 1) {
		/* session information: the first track of the last session
		 * starts at LBA 0; ADR 1, CONTROL 4 (data track) */
		p[n + 1] = 0x14;
		p[n + 2] = 1;
		put_addr(p + n + 4, 0, msf);
		n += 8;
	} else {
		if (cdb[6] <= 1) {
			p[n + 1] = 0x14; /* track 1: data, uninterrupted */
			p[n + 2] = 1;
			put_addr(p + n + 4, 0, msf);
			n += 8;
		}
		p[n + 1] = 0x14; /* lead-out: track AAh */
		p[n + 2] = 0xAA;
		put_addr(p + n + 4, (uint32_t)lu->nblocks, msf);
		n += 8;
	}
	tdm_put_be16(p, (uint16_t)(n - 2)); /* TOC DATA LENGTH */
	tdm__cmd_put_data(cmd, p, n);
	return TDM_SR_OK;
}

/* ---- GET EVENT STATUS NOTIFICATION ---- */

int tdm__mmc_gesn_parse(struct tdm_cmd *cmd)
{
	/* MMC-6: asynchronous notification is not supported, POLLED=0
	 * is an invalid field */
	if (!(cmd->cdb[1] & 0x01))
		return tdm__cdb_err(cmd, 1, 0);
	cmd->dir = TDM_DIR_READ;
	cmd->alloc_len = tdm_get_be16(cmd->cdb + 7);
	return TDM_SR_OK;
}

int tdm__mmc_gesn(struct tdm_cmd *cmd)
{
	struct tdm_lu *lu = cmd->lu;
	const uint8_t supported = 1u << NC_OP_CHANGE | 1u << NC_MEDIA;
	uint8_t req = cmd->cdb[4] & supported;
	uint8_t p[8], ev = ME_NO_CHANGE;
	bool present, open;

	memset(p, 0, sizeof(p));
	p[3] = supported; /* SUPPORTED EVENT CLASSES */
	if (!req) {
		/* NEA: none of the requested classes is supported */
		tdm_put_be16(p, 2);
		p[2] = 0x80;
		tdm__cmd_put_data(cmd, p, 4);
		return TDM_SR_OK;
	}
	present = medium_present(lu);
	open = tray_open(lu);
	tdm_mutex_lock(&lu->lock);
	if (req & (1u << NC_MEDIA)) {
		ev = lu->mmc_event;
		/* polled: a reported event is consumed, but only when the
		 * allocation length lets the initiator see it */
		if (ev && cmd->alloc_len >= 8)
			lu->mmc_event = ME_NO_CHANGE;
	}
	tdm_mutex_unlock(&lu->lock);
	tdm_put_be16(p, 6); /* EVENT DESCRIPTOR LENGTH */
	if ((req & (1u << NC_MEDIA)) && (ev || !(req & (1u << NC_OP_CHANGE)))) {
		/* media event descriptor */
		p[2] = NC_MEDIA;
		p[4] = ev;
		p[5] = (uint8_t)((present ? 0x02 : 0) | (open ? 0x01 : 0));
	} else {
		/* operational change descriptor: no change; Persistent
		 * Prevented 0, OPERATIONAL STATUS 0h (available) */
		p[2] = NC_OP_CHANGE;
	}
	tdm__cmd_put_data(cmd, p, 8);
	return TDM_SR_OK;
}

/* ---- READ DISC INFORMATION ---- */

/* ---- READ DISC STRUCTURE ---- */

/* MMC-6 READ DISC STRUCTURE for DVD media (MEDIA TYPE 0000b): format 00h
 * physical format information (a read-only, single layer, 120 mm
 * DVD-ROM whose data area starts at physical sector 30000h) and FFh, the
 * list of formats. A CD has no disc structure. */
#define DS_PHYSICAL 0x00
#define DS_LIST 0xFF
#define DVD_DATA_START 0x030000u

int tdm__mmc_disc_structure_parse(struct tdm_cmd *cmd)
{
	const uint8_t *cdb = cmd->cdb;
	int sr;

	if (cdb[1] & 0x0F) /* MEDIA TYPE: only DVD */
		return tdm__cdb_err(cmd, 1, 3);
	if (cdb[7] != DS_PHYSICAL && cdb[7] != DS_LIST)
		return tdm__cdb_err(cmd, 7, 7);
	if (cdb[7] == DS_PHYSICAL && cdb[6]) /* LAYER NUMBER: one layer */
		return tdm__cdb_err(cmd, 6, 7);
	sr = tdm__lu_medium_check(cmd->lu);
	if (sr != TDM_SR_OK)
		return sr;
	if (current_profile(cmd->lu) != PROFILE_DVDROM)
		return tdm__cdb_err(cmd, 7, 7);
	cmd->dir = TDM_DIR_READ;
	cmd->alloc_len = tdm_get_be16(cdb + 8);
	return TDM_SR_OK;
}

int tdm__mmc_disc_structure(struct tdm_cmd *cmd)
{
	uint8_t p[4 + 2048];
	size_t n;

	memset(p, 0, sizeof(p));
	if (cmd->cdb[7] == DS_LIST) {
		/* one 4-byte descriptor a format: code, RDS (readable) */
		p[4] = DS_PHYSICAL;
		p[5] = 0x40;
		tdm_put_be16(p + 6, 2048 + 2);
		p[8] = DS_LIST;
		p[9] = 0x40;
		tdm_put_be16(p + 10, 0xFFFF);
		n = 12;
	} else {
		/* DISK CATEGORY DVD-ROM, PART VERSION 1; 120 mm, maximum rate
		 * not specified (Fh); one layer, parallel track path, layer
		 * type embossed (0001b); densities 0 */
		p[4] = 0x01;
		p[5] = 0x0F;
		p[6] = 0x01;
		tdm_put_be32(p + 8, DVD_DATA_START);
		tdm_put_be32(p + 12,
			     DVD_DATA_START + (uint32_t)cmd->lu->nblocks - 1);
		n = sizeof(p);
	}
	tdm_put_be16(p, (uint16_t)(n - 2)); /* DISC STRUCTURE DATA LENGTH */
	tdm__cmd_put_data(cmd, p, n);
	return TDM_SR_OK;
}

int tdm__mmc_disc_info_parse(struct tdm_cmd *cmd)
{
	/* DATA TYPE 000b: standard disc information only */
	if (cmd->cdb[1] & 0x07)
		return tdm__cdb_err(cmd, 1, 2);
	cmd->dir = TDM_DIR_READ;
	cmd->alloc_len = tdm_get_be16(cmd->cdb + 7);
	return tdm__lu_medium_check(cmd->lu);
}

int tdm__mmc_disc_info(struct tdm_cmd *cmd)
{
	uint8_t p[34];

	memset(p, 0, sizeof(p));
	tdm_put_be16(p, sizeof(p) - 2); /* DISC INFORMATION LENGTH */
	/* not erasable, last session complete (11b), disc complete (10b) */
	p[2] = 0x0C | 0x02;
	p[3] = 1;    /* NUMBER OF FIRST TRACK ON DISC */
	p[4] = 1;    /* NUMBER OF SESSIONS (LSB) */
	p[5] = 1;    /* FIRST TRACK NUMBER IN LAST SESSION (LSB) */
	p[6] = 1;    /* LAST TRACK NUMBER IN LAST SESSION (LSB) */
	p[8] = 0x00; /* DISC TYPE: CD-DA or CD-ROM */
	/* complete disc: no next session, no lead-out to write */
	tdm_put_be32(p + 16, 0xFFFFFFFFu);
	tdm_put_be32(p + 20, 0xFFFFFFFFu);
	tdm__cmd_put_data(cmd, p, sizeof(p));
	return TDM_SR_OK;
}

/* ---- MECHANISM STATUS, SET CD SPEED ---- */

int tdm__mmc_mech_status_parse(struct tdm_cmd *cmd)
{
	cmd->dir = TDM_DIR_READ;
	cmd->alloc_len = tdm_get_be16(cmd->cdb + 8);
	return TDM_SR_OK;
}

int tdm__mmc_mech_status(struct tdm_cmd *cmd)
{
	uint8_t p[8];

	/* MMC-6 MECHANISM STATUS: no changer, mechanism idle, no slot
	 * table; DOOR OPEN after an eject */
	memset(p, 0, sizeof(p));
	if (tray_open(cmd->lu))
		p[1] = 0x10;
	tdm__cmd_put_data(cmd, p, sizeof(p));
	return TDM_SR_OK;
}

int tdm__mmc_set_cd_speed(struct tdm_cmd *cmd)
{
	(void)cmd;
	return TDM_SR_OK;
}

/* ---- media change ---- */

bool tdm__mmc_only_medium_differs(const struct tdm_lu *lu,
				  const struct tdm_conf_device *conf)
{
	struct tdm_conf_device x = lu->conf, y = *conf;

	if (lu->dev_type != TDM_DEVTYPE_CDROM ||
	    conf->handler != TDM_HANDLER_CDROM)
		return false;
	x.line = y.line = 0;
	memset(x.filename, 0, sizeof(x.filename));
	memset(y.filename, 0, sizeof(y.filename));
	/* forced on a CD-ROM LU (scsi/lu.c) */
	x.read_only = y.read_only = true;
	x.removable = y.removable = true;
	return !memcmp(&x, &y, sizeof(x));
}

/* Commands of lu that have not ended yet (under lu->lock). */
static bool lu_busy(struct tdm_lu *lu)
{
	struct tdm_list *pos;

	tdm_list_for_each (pos, &lu->cmds) {
		struct tdm_cmd *c =
			tdm_list_entry(pos, struct tdm_cmd, lu_link);

		if (c->state != TDM_CMD_DONE && c->state != TDM_CMD_FREED)
			return true;
	}
	return false;
}

int tdm__mmc_change_medium(struct tdm_lu *lu,
			   const struct tdm_conf_device *conf, char *err,
			   size_t errlen)
{
	struct tdm_bs nbs, obs;
	struct timespec ts = {0, 10 * 1000 * 1000};
	bool present;
	int r, tries = 0;

	if (lu->dev_type != TDM_DEVTYPE_CDROM) {
		snprintf(err, errlen, "%s: not a CD-ROM", lu->name);
		return -EINVAL;
	}
	memset(&nbs, 0, sizeof(nbs));
	nbs.ops = lu->bs.ops;
	r = nbs.ops->open(&nbs, conf, err, errlen);
	if (r < 0)
		return r;
	present = nbs.size != 0;
	for (;;) {
		tdm_mutex_lock(&lu->lock);
		if (lu->prevent) {
			tdm_mutex_unlock(&lu->lock);
			nbs.ops->close(&nbs);
			snprintf(err, errlen,
				 "%s: medium removal is prevented by an "
				 "initiator (PREVENT ALLOW MEDIUM REMOVAL); "
				 "the medium was not changed",
				 lu->name);
			return -EBUSY;
		}
		if (!lu_busy(lu))
			break;
		tdm_mutex_unlock(&lu->lock);
		if (++tries > 200) { /* 2 s of commands without a gap */
			nbs.ops->close(&nbs);
			snprintf(err, errlen,
				 "%s: commands keep running; the medium was "
				 "not changed, try again",
				 lu->name);
			return -EBUSY;
		}
		nanosleep(&ts, NULL);
	}
	/* no command of lu runs: the next ones see the new medium */
	obs = lu->bs;
	lu->bs = nbs;
	lu->nblocks = nbs.size / CD_BLOCK;
	__atomic_store_n(&lu->no_medium, !present, __ATOMIC_RELEASE);
	snprintf(lu->conf.filename, sizeof(lu->conf.filename), "%s",
		 conf->filename);
	lu->mmc_event = present ? ME_NEW_MEDIA : ME_MEDIA_REMOVAL;
	tdm_mutex_unlock(&lu->lock);
	obs.ops->close(&obs);
	/* loaded and started: an earlier eject by START STOP UNIT ends */
	tdm__lu_medium_inserted(lu);
	/* SPC-4 / MMC-6: 28h/00h NOT READY TO READY CHANGE, MEDIUM MAY
	 * HAVE CHANGED, for every I_T nexus */
	tdm__ua_raise_lu(lu, TDM_SR_UA_MEDIUM_MAY_HAVE_CHANGED, NULL);
	if (present)
		log_info("%s: medium changed: %s (%llu blocks of %u bytes)",
			 lu->name, conf->filename,
			 (unsigned long long)lu->nblocks, CD_BLOCK);
	else
		log_info("%s: medium removed", lu->name);
	return 0;
}
