/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * mode.c - MODE SENSE(6)/(10) and MODE SELECT(6)/(10) of disk LUs.
 *
 * Pages: read-write error recovery (01h), caching (08h), control (0Ah),
 * informational exceptions control (1Ch), each with subpage 00h only.
 * Every page is described once (page_build()) for the four page controls;
 * MODE SELECT compares a page with the current values and accepts changes
 * of the changeable bits only. Saved values are not implemented (nothing
 * survives a restart): PC 11b and SP=1 are refused as SPC-4 requires.
 */
#include <string.h>

#include "scsi/scsi_int.h"

/* SPC-4 MODE SENSE: page control field */
enum { PC_CURRENT = 0, PC_CHANGEABLE = 1, PC_DEFAULT = 2, PC_SAVED = 3 };

/* Page codes and whole page lengths (header included) */
#define MP_RW_ERR 0x01	/* SBC-3: read-write error recovery, 12 bytes */
#define MP_CACHING 0x08 /* SBC-3: caching, 20 bytes */
#define MP_CONTROL 0x0A /* SPC-4: control, 12 bytes */
#define MP_IEC 0x1C	/* SPC-4: informational exceptions control */
#define MP_ALL 0x3F

struct page_def {
	uint8_t code;
	uint8_t len;
};

/* ascending page code order (SPC-4 MODE SENSE: "return all pages") */
static const struct page_def pages[] = {
	{MP_RW_ERR, 12},
	{MP_CACHING, 20},
	{MP_CONTROL, 12},
	{MP_IEC, 12},
};

#define NPAGES (sizeof(pages) / sizeof(pages[0]))
#define MODE_MAX 128 /* header + long block descriptor + every page */

static const struct page_def *page_find(uint8_t code)
{
	size_t i;

	for (i = 0; i < NPAGES; i++)
		if (pages[i].code == code)
			return &pages[i];
	return NULL;
}

/* The values a LU starts with. */
static void mode_defaults(const struct tdm_lu *lu, struct tdm_mode_state *m)
{
	memset(m, 0, sizeof(*m));
	/* as scsi/lu.c starts it: WCE when the backstore caches writes */
	m->wce = lu->bs.write_cache;
}

/*
 * Build page def for page control pc into p (def->len bytes) from the
 * mode state m.
 */
static void page_build(const struct page_def *def, int pc,
		       const struct tdm_mode_state *m, uint8_t *p)
{
	bool chg = pc == PC_CHANGEABLE;

	memset(p, 0, def->len);
	p[0] = def->code; /* PS = 0: not saveable */
	p[1] = (uint8_t)(def->len - 2);
	switch (def->code) {
	case MP_RW_ERR:
		/* nothing to tune: retries and reassignment belong to the
		 * backing store */
		break;
	case MP_CACHING:
		if (chg) {
			p[2] = 0x04; /* WCE */
			break;
		}
		if (m->wce)
			p[2] |= 0x04;
		if (m->rcd)
			p[2] |= 0x01;
		break;
	case MP_CONTROL:
		if (chg) {
			p[2] = 0x04; /* D_SENSE */
			p[4] = 0x08; /* SWP */
			p[5] = 0x40; /* TAS */
			break;
		}
		/* TST 000b (one task set), GLTSD: log parameters are not
		 * saved */
		p[2] = 0x02;
		if (m->d_sense)
			p[2] |= 0x04;
		/* QUEUE ALGORITHM MODIFIER 1h: commands may be reordered
		 * (they run concurrently on the backing store); QERR */
		p[3] = (uint8_t)(0x10 | (m->qerr & 3) << 1);
		if (m->swp)
			p[4] |= 0x08;
		if (m->tas)
			p[5] |= 0x40;
		/* BUSY TIMEOUT PERIOD FFFFh: unlimited */
		p[8] = 0xFF;
		p[9] = 0xFF;
		break;
	case MP_IEC:
		if (chg) {
			p[2] = 0x08; /* DEXCPT */
			p[3] = 0x0F; /* MRIE */
			break;
		}
		if (m->dexcpt)
			p[2] |= 0x08;
		p[3] = m->mrie & 0x0F;
		break;
	}
}

static bool lu_write_protected(const struct tdm_cmd *cmd,
			       const struct tdm_mode_state *m)
{
	return cmd->lu->read_only || (cmd->lun_flags & TDM_LUNF_READ_ONLY) ||
	       m->swp;
}

/* ---- MODE SENSE ---- */

int tdm__spc_mode_sense_parse(struct tdm_cmd *cmd)
{
	const uint8_t *cdb = cmd->cdb;
	bool ten = cdb[0] == 0x5A;
	uint8_t pc = cdb[2] >> 6, page = cdb[2] & 0x3F, sub = cdb[3];

	if (pc == PC_SAVED) /* SPC-4 MODE SENSE, saved values */
		return TDM_SR_SAVING_PARAMS_NOT_SUPPORTED;
	if (page != MP_ALL && !page_find(page))
		return tdm__cdb_err(cmd, 2, 5);
	/* only subpage 00h exists; FFh asks for "all subpages" of it */
	if (sub != 0x00 && sub != 0xFF)
		return tdm__cdb_err(cmd, 3, 7);
	cmd->dir = TDM_DIR_READ;
	cmd->alloc_len = ten ? tdm_get_be16(cdb + 7) : cdb[4];
	if (cmd->alloc_len > MODE_MAX)
		cmd->alloc_len = MODE_MAX;
	return TDM_SR_OK;
}

int tdm__spc_mode_sense(struct tdm_cmd *cmd)
{
	const uint8_t *cdb = cmd->cdb;
	struct tdm_lu *lu = cmd->lu;
	bool ten = cdb[0] == 0x5A;
	bool dbd = cdb[1] & 0x08, llbaa = ten && (cdb[1] & 0x10);
	uint8_t pc = cdb[2] >> 6, page = cdb[2] & 0x3F;
	struct tdm_mode_state m;
	uint8_t p[MODE_MAX];
	size_t n, hdr = ten ? 8 : 4, bdl = 0, i;

	if (pc == PC_DEFAULT)
		mode_defaults(lu, &m);
	tdm_mutex_lock(&lu->lock);
	if (pc != PC_DEFAULT)
		m = lu->mode;
	tdm_mutex_unlock(&lu->lock);

	memset(p, 0, sizeof(p));
	/* SBC-3 device-specific parameter: WP, DPOFUA (DPO and FUA bits
	 * are accepted in READ/WRITE CDBs) */
	p[ten ? 3 : 2] =
		(uint8_t)((lu_write_protected(cmd, &m) ? 0x80 : 0) | 0x10);
	n = hdr;
	if (!dbd) {
		/* SBC-3 mode parameter block descriptors: the capacity, or
		 * all ones when the short form cannot hold it */
		if (llbaa) {
			bdl = 16;
			p[4] = 0x01; /* LONGLBA */
			if (pc != PC_CHANGEABLE) {
				tdm_put_be64(p + n, lu->nblocks);
				tdm_put_be32(p + n + 12, lu->block_size);
			}
		} else {
			bdl = 8;
			if (pc != PC_CHANGEABLE) {
				tdm_put_be32(p + n,
					     lu->nblocks > 0xFFFFFFFFull
						     ? 0xFFFFFFFFu
						     : (uint32_t)lu->nblocks);
				tdm_put_be24(p + n + 5, lu->block_size);
			}
		}
		n += bdl;
	}
	for (i = 0; i < NPAGES; i++) {
		if (page != MP_ALL && page != pages[i].code)
			continue;
		page_build(&pages[i], pc, &m, p + n);
		n += pages[i].len;
	}
	if (ten) {
		tdm_put_be16(p, (uint16_t)(n - 2)); /* MODE DATA LENGTH */
		tdm_put_be16(p + 6, (uint16_t)bdl);
	} else {
		p[0] = (uint8_t)(n - 1);
		p[3] = (uint8_t)bdl;
	}
	tdm__cmd_put_data(cmd, p, n);
	return TDM_SR_OK;
}

/* ---- MODE SELECT ---- */

int tdm__spc_mode_select_parse(struct tdm_cmd *cmd)
{
	const uint8_t *cdb = cmd->cdb;
	bool ten = cdb[0] == 0x55;
	uint32_t len = ten ? tdm_get_be16(cdb + 7) : cdb[4];

	/* SPC-4 MODE SELECT: SP=1 needs saved pages, which we lack */
	if (cdb[1] & 0x01)
		return tdm__cdb_err(cmd, 1, 0);
	/* PF=0 would mean vendor specific pages: ours are the standard
	 * ones, so both are read the same way */
	cmd->dir = len ? TDM_DIR_WRITE : TDM_DIR_NONE;
	cmd->data_len = len;
	return TDM_SR_OK;
}

/* MRIE values of SPC-4 table "MRIE field": 0h, 2h-6h */
static bool mrie_valid(uint8_t v)
{
	return v == 0 || (v >= 2 && v <= 6);
}

/* The highest bit set in v (v != 0). */
static int8_t top_bit(uint8_t v)
{
	int8_t b = 7;

	while (!(v & 0x80)) {
		v <<= 1;
		b--;
	}
	return b;
}

/*
 * Check one page at p (offset off in the parameter list) against the
 * current state cur and fold its changeable fields into m.
 */
static int select_page(struct tdm_cmd *cmd, const struct page_def *def,
		       const uint8_t *p, uint32_t off,
		       const struct tdm_mode_state *cur,
		       struct tdm_mode_state *m)
{
	uint8_t now[32], chg[32];
	size_t i;

	page_build(def, PC_CURRENT, cur, now);
	page_build(def, PC_CHANGEABLE, cur, chg);
	for (i = 2; i < def->len; i++) {
		uint8_t bad = (uint8_t)((p[i] ^ now[i]) & ~chg[i]);

		if (bad)
			return tdm__param_err(cmd, (uint16_t)(off + i),
					      top_bit(bad));
	}
	switch (def->code) {
	case MP_CACHING:
		m->wce = p[2] & 0x04;
		break;
	case MP_CONTROL:
		m->d_sense = p[2] & 0x04;
		m->swp = p[4] & 0x08;
		m->tas = p[5] & 0x40;
		break;
	case MP_IEC:
		if (!mrie_valid(p[3] & 0x0F))
			return tdm__param_err(cmd, (uint16_t)(off + 3), 3);
		m->dexcpt = p[2] & 0x08;
		m->mrie = p[3] & 0x0F;
		break;
	}
	return TDM_SR_OK;
}

static int select_parse(struct tdm_cmd *cmd, const struct tdm_mode_state *cur,
			struct tdm_mode_state *m)
{
	struct tdm_lu *lu = cmd->lu;
	bool ten = cmd->cdb[0] == 0x55;
	const uint8_t *p = cmd->buf;
	uint32_t len = cmd->data_len, hdr = ten ? 8 : 4, bdl, off;
	int sr;

	if (len < hdr)
		return TDM_SR_PARAM_LIST_LENGTH_ERROR;
	/* SPC-4 mode parameter header: MEDIUM TYPE 00h for SBC */
	if (p[ten ? 2 : 1])
		return tdm__param_err(cmd, ten ? 2 : 1, 7);
	bdl = ten ? tdm_get_be16(p + 6) : p[3];
	off = hdr;
	if (bdl) {
		bool longlba = ten && (p[4] & 0x01);
		uint64_t nb;
		uint32_t bl;

		if (bdl != (longlba ? 16u : 8u))
			return tdm__param_err(cmd, ten ? 6 : 3, 7);
		if (hdr + bdl > len)
			return TDM_SR_PARAM_LIST_LENGTH_ERROR;
		/* the capacity and block length cannot change */
		if (longlba) {
			nb = tdm_get_be64(p + off);
			bl = tdm_get_be32(p + off + 12);
		} else {
			nb = tdm_get_be32(p + off);
			bl = tdm_get_be24(p + off + 5);
		}
		if (nb && nb != lu->nblocks &&
		    !(!longlba && nb == 0xFFFFFFFFu &&
		      lu->nblocks > 0xFFFFFFFFull))
			return tdm__param_err(cmd, (uint16_t)off, 7);
		if (bl != lu->block_size)
			return tdm__param_err(
				cmd, (uint16_t)(off + (longlba ? 12 : 5)), 7);
		off += bdl;
	}
	while (off < len) {
		const struct page_def *def;

		if (len - off < 2)
			return TDM_SR_PARAM_LIST_LENGTH_ERROR;
		/* SPF: no subpages here */
		if (p[off] & 0x40)
			return tdm__param_err(cmd, (uint16_t)off, 6);
		def = page_find(p[off] & 0x3F);
		if (!def)
			return tdm__param_err(cmd, (uint16_t)off, 5);
		if (p[off + 1] != def->len - 2)
			return tdm__param_err(cmd, (uint16_t)(off + 1), 7);
		if (len - off < def->len)
			return TDM_SR_PARAM_LIST_LENGTH_ERROR;
		sr = select_page(cmd, def, p + off, off, cur, m);
		if (sr != TDM_SR_OK)
			return sr;
		off += def->len;
	}
	return TDM_SR_OK;
}

static bool mode_differs(const struct tdm_mode_state *a,
			 const struct tdm_mode_state *b)
{
	return a->wce != b->wce || a->rcd != b->rcd ||
	       a->d_sense != b->d_sense || a->swp != b->swp ||
	       a->qerr != b->qerr || a->tas != b->tas || a->mrie != b->mrie ||
	       a->dexcpt != b->dexcpt;
}

int tdm__spc_mode_select(struct tdm_cmd *cmd)
{
	struct tdm_lu *lu = cmd->lu;
	struct tdm_mode_state m;
	bool changed = false;
	int sr;

	if (!cmd->data_len)
		return TDM_SR_OK; /* no parameter list: not an error */
	tdm_mutex_lock(&lu->lock);
	m = lu->mode;
	sr = select_parse(cmd, &lu->mode, &m);
	if (sr == TDM_SR_OK && mode_differs(&m, &lu->mode)) {
		__atomic_store_n(&lu->mode.wce, m.wce, __ATOMIC_RELAXED);
		__atomic_store_n(&lu->mode.d_sense, m.d_sense,
				 __ATOMIC_RELAXED);
		__atomic_store_n(&lu->mode.swp, m.swp, __ATOMIC_RELAXED);
		__atomic_store_n(&lu->mode.tas, m.tas, __ATOMIC_RELAXED);
		lu->mode.dexcpt = m.dexcpt;
		lu->mode.mrie = m.mrie;
		changed = true;
	}
	tdm_mutex_unlock(&lu->lock);
	/* SPC-4 MODE SELECT: the other I_T nexuses learn about it */
	if (changed)
		tdm__ua_raise_lu(lu, TDM_SR_UA_MODE_PARAMS_CHANGED, cmd->nexus);
	return sr;
}
