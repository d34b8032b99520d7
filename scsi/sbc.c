/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * sbc.c - SBC block commands of disk LUs: READ/WRITE (6)/(10)/(12)/(16),
 * WRITE AND VERIFY, VERIFY, PRE-FETCH, SYNCHRONIZE CACHE, READ CAPACITY
 * and READ DEFECT DATA.
 *
 * Parse checks every CDB field, the transfer length against the block
 * limits and the LBA range, and sets dir/data_len/lba/nblocks; execute
 * issues the backstore request and lets its completion end the command
 * (tdm__bs_io()), chaining a second request through cmd->exec_done when a
 * command needs two (WRITE AND VERIFY, VERIFY with a comparison).
 *
 * No protection information: RDPROTECT/WRPROTECT/VRPROTECT must be 0.
 */
#include <string.h>

#include "scsi/scsi_int.h"

/* The block limits VPD MAXIMUM TRANSFER LENGTH, in bytes: 256 blocks
 * of 4096 bytes at least, and what a command buffer reasonably holds. */
#define MAX_XFER_BYTES (8u << 20)

uint32_t tdm__lu_max_xfer_blocks(const struct tdm_lu *lu)
{
	return MAX_XFER_BYTES >> lu->block_shift;
}

/* Where the fields of a block command CDB are. */
struct cdb_layout {
	uint8_t lba_off, lba_len; /* bytes */
	uint8_t len_off, len_len;
};

static bool layout_of(uint8_t opcode, struct cdb_layout *l)
{
	switch (opcode >> 5) {
	case 1: /* 10-byte CDBs (group 1) */
		*l = (struct cdb_layout){2, 4, 7, 2};
		return true;
	case 4: /* 16-byte CDBs (group 4) */
		*l = (struct cdb_layout){2, 8, 10, 4};
		return true;
	case 5: /* 12-byte CDBs (group 5) */
		*l = (struct cdb_layout){2, 4, 6, 4};
		return true;
	default:
		return false;
	}
}

static uint64_t get_be(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | *p++;
	return v;
}

/* ---- what every medium access command decides the same way ---- */

bool tdm__lba_in_range(const struct tdm_lu *lu, uint64_t lba, uint64_t n)
{
	/* SBC-4 4.5: blocks 0 to the capacity - 1, overflow included */
	return lba <= lu->nblocks && n <= lu->nblocks - lba;
}

int tdm__lba_check(const struct tdm_lu *lu, uint64_t lba, uint64_t n)
{
	/* SBC-4: LOGICAL BLOCK ADDRESS OUT OF RANGE, without INFORMATION
	 * or field pointer */
	return tdm__lba_in_range(lu, lba, n) ? TDM_SR_OK
					     : TDM_SR_LBA_OUT_OF_RANGE;
}

int tdm__sbc_check_range(struct tdm_cmd *cmd, uint64_t lba, uint64_t n)
{
	int sr = tdm__lu_medium_check(cmd->lu);

	return sr != TDM_SR_OK ? sr : tdm__lba_check(cmd->lu, lba, n);
}

bool tdm__lu_volatile_cache(const struct tdm_lu *lu)
{
	/* nv_cache: the cache is declared non-volatile, FUA is moot */
	return lu->bs.write_cache && !lu->conf.nv_cache;
}

bool tdm__write_stable(const struct tdm_lu *lu, bool fua)
{
	/* SBC-4 caching mode page: WCE=0 means write through */
	return tdm__lu_volatile_cache(lu) &&
	       (fua || !__atomic_load_n(&lu->mode.wce, __ATOMIC_RELAXED));
}

void tdm__sbc_rw(struct tdm_cmd *cmd, uint8_t op, void *buf, bool fua)
{
	struct tdm_bs_io *io = &cmd->bsio;

	io->op = op;
	io->fua = fua;
	io->offset = cmd->lba << cmd->lu->block_shift;
	io->len = (uint64_t)cmd->nblocks << cmd->lu->block_shift;
	io->buf = buf;
	tdm__bs_io(cmd, io);
}

void tdm__sbc_flush(struct tdm_cmd *cmd)
{
	cmd->bsio.op = TDM_BS_FLUSH;
	cmd->bsio.fua = false;
	cmd->bsio.offset = 0;
	cmd->bsio.len = 0;
	cmd->bsio.buf = NULL;
	tdm__bs_io(cmd, &cmd->bsio);
}

size_t tdm__first_diff(const uint8_t *a, const uint8_t *b, size_t len)
{
	size_t off = 0;

	while (len - off >= 64 && !memcmp(a + off, b + off, 64))
		off += 64;
	while (off < len && a[off] == b[off])
		off++;
	return off;
}

/* Decode LBA and transfer length; max transfer length check. */
static int decode_lba_len(struct tdm_cmd *cmd, const struct cdb_layout *l,
			  uint64_t *lba, uint32_t *n)
{
	*lba = get_be(cmd->cdb + l->lba_off, l->lba_len);
	*n = (uint32_t)get_be(cmd->cdb + l->len_off, l->len_len);
	/* SBC-3 block limits VPD: a longer transfer is an invalid field */
	if (*n > tdm__lu_max_xfer_blocks(cmd->lu))
		return tdm__cdb_err(cmd, l->len_off, 7);
	return TDM_SR_OK;
}

/* ---- READ / WRITE / WRITE AND VERIFY ---- */

static bool is_write_verify(uint8_t opcode)
{
	return opcode == 0x2E || opcode == 0xAE || opcode == 0x8E;
}

int tdm__sbc_rw_parse(struct tdm_cmd *cmd)
{
	const uint8_t *cdb = cmd->cdb;
	struct tdm_lu *lu = cmd->lu;
	struct cdb_layout l;
	uint64_t lba;
	uint32_t n;
	int sr;

	cmd->flags = 0;
	if (cdb[0] == 0x08 || cdb[0] == 0x0A) {
		/* READ(6)/WRITE(6): 21-bit LBA, length 0 means 256 */
		lba = tdm_get_be24(cdb + 1) & 0x1FFFFF;
		n = cdb[4] ? cdb[4] : 256;
		if (n > tdm__lu_max_xfer_blocks(lu))
			return tdm__cdb_err(cmd, 4, 7);
	} else {
		if (!layout_of(cdb[0], &l))
			return TDM_SR_INVALID_OPCODE;
		/* RDPROTECT/WRPROTECT: no protection information */
		if (cdb[1] & 0xE0)
			return tdm__cdb_err(cmd, 1, 7);
		if (cdb[1] & 0x10)
			cmd->flags |= TDM_CF_DPO;
		if (is_write_verify(cdb[0])) {
			/* SBC-3 WRITE AND VERIFY: BYTCHK 00b or 01b */
			uint8_t bytchk = (cdb[1] >> 1) & 3;

			if (bytchk > 1)
				return tdm__cdb_err(cmd, 1, 2);
			if (bytchk)
				cmd->flags |= TDM_CF_BYTCHK;
		} else if (cdb[1] & 0x08) {
			cmd->flags |= TDM_CF_FUA;
		}
		sr = decode_lba_len(cmd, &l, &lba, &n);
		if (sr != TDM_SR_OK)
			return sr;
	}
	sr = tdm__sbc_check_range(cmd, lba, n);
	if (sr != TDM_SR_OK)
		return sr;
	cmd->lba = lba;
	cmd->nblocks = n;
	cmd->dir = (cdb[0] == 0x08 || cdb[0] == 0x28 || cdb[0] == 0xA8 ||
		    cdb[0] == 0x88)
			   ? TDM_DIR_READ
			   : TDM_DIR_WRITE;
	cmd->data_len = n << lu->block_shift;
	return TDM_SR_OK;
}

int tdm__sbc_read(struct tdm_cmd *cmd)
{
	if (!cmd->nblocks)
		return TDM_SR_OK;
	cmd->exec_done = NULL;
	tdm__sbc_rw(cmd, TDM_BS_READ, cmd->buf, false);
	return TDM__SR_ASYNC;
}

int tdm__sbc_write(struct tdm_cmd *cmd)
{
	if (!cmd->nblocks)
		return TDM_SR_OK;
	cmd->exec_done = NULL;
	tdm__sbc_rw(cmd, TDM_BS_WRITE, cmd->buf,
		    tdm__write_stable(cmd->lu, cmd->flags & TDM_CF_FUA));
	return TDM__SR_ASYNC;
}

static void free_buf2(struct tdm_cmd *cmd)
{
	tdm_buf_free(cmd->buf2, cmd->buf2_cap);
	cmd->buf2 = NULL;
	cmd->buf2_cap = 0;
}

/*
 * The medium was read into buf2: compare it with the data-out buffer.
 * bytchk 01b: the whole transfer; 11b: one block against each block.
 * SBC-3 VERIFY: MISCOMPARE DURING VERIFY OPERATION with the offset of
 * the first differing byte in INFORMATION.
 */
static void compare_done(struct tdm_cmd *cmd, int sr)
{
	uint32_t bs = cmd->lu->block_size;
	struct tdm_sense_info info = {.info_valid = true, .sks_bit = -1};
	size_t len = (size_t)cmd->nblocks * bs, off = len, i;
	bool single = ((cmd->cdb[1] >> 1) & 3) == 3;

	if (sr != TDM_SR_OK) {
		free_buf2(cmd);
		tdm__cmd_done(cmd, sr);
		return;
	}
	if (!single) {
		off = tdm__first_diff(cmd->buf, cmd->buf2, len);
	} else {
		for (i = 0; i < cmd->nblocks && off == len; i++) {
			size_t d = tdm__first_diff(cmd->buf, cmd->buf2 + i * bs,
						   bs);

			if (d < bs)
				off = i * bs + d;
		}
	}
	free_buf2(cmd);
	if (off < len) {
		info.info = off;
		tdm__cmd_done_info(cmd, TDM_SR_MISCOMPARE_VERIFY, &info);
		return;
	}
	tdm__cmd_done(cmd, TDM_SR_OK);
}

/* Read the command's blocks into buf2; then call done. */
static int read_to_buf2(struct tdm_cmd *cmd,
			void (*done)(struct tdm_cmd *cmd, int sr))
{
	uint32_t len = cmd->nblocks << cmd->lu->block_shift;

	cmd->buf2 = tdm_buf_alloc(len, &cmd->buf2_cap);
	if (!cmd->buf2) {
		cmd->buf2_cap = 0;
		return TDM_SR_ABORTED_NO_RESOURCES;
	}
	cmd->exec_done = done;
	tdm__sbc_rw(cmd, TDM_BS_READ, cmd->buf2, false);
	return TDM__SR_ASYNC;
}

static void write_verify_written(struct tdm_cmd *cmd, int sr)
{
	if (sr == TDM_SR_OK && (cmd->flags & TDM_CF_BYTCHK)) {
		sr = read_to_buf2(cmd, compare_done);
		if (sr == TDM__SR_ASYNC)
			return;
	}
	tdm__cmd_done(cmd, sr);
}

int tdm__sbc_write_verify(struct tdm_cmd *cmd)
{
	const struct tdm_lu *lu = cmd->lu;

	if (!cmd->nblocks)
		return TDM_SR_OK;
	/* write to the medium (not only a volatile cache) then verify:
	 * BYTCHK 01b reads it back and compares */
	cmd->exec_done = write_verify_written;
	tdm__sbc_rw(cmd, TDM_BS_WRITE, cmd->buf, tdm__write_stable(lu, true));
	return TDM__SR_ASYNC;
}

/* ---- VERIFY ---- */

int tdm__sbc_verify_parse(struct tdm_cmd *cmd)
{
	const uint8_t *cdb = cmd->cdb;
	struct tdm_lu *lu = cmd->lu;
	struct cdb_layout l;
	uint8_t bytchk = (cdb[1] >> 1) & 3;
	uint64_t lba;
	uint32_t n;
	int sr;

	cmd->flags = 0;
	if (!layout_of(cdb[0], &l))
		return TDM_SR_INVALID_OPCODE;
	if (cdb[1] & 0xE0) /* VRPROTECT */
		return tdm__cdb_err(cmd, 1, 7);
	if (bytchk == 2) /* SBC-3 VERIFY: BYTCHK 10b is reserved */
		return tdm__cdb_err(cmd, 1, 2);
	if (cdb[1] & 0x10)
		cmd->flags |= TDM_CF_DPO;
	if (bytchk)
		cmd->flags |= TDM_CF_BYTCHK;
	sr = decode_lba_len(cmd, &l, &lba, &n);
	if (sr != TDM_SR_OK)
		return sr;
	sr = tdm__sbc_check_range(cmd, lba, n);
	if (sr != TDM_SR_OK)
		return sr;
	cmd->lba = lba;
	cmd->nblocks = n;
	/* BYTCHK 00b: no data-out; 01b: n blocks; 11b: one block */
	if (!bytchk || !n) {
		cmd->dir = TDM_DIR_NONE;
		cmd->data_len = 0;
	} else {
		cmd->dir = TDM_DIR_WRITE;
		cmd->data_len = (bytchk == 3 ? 1u : n) << lu->block_shift;
	}
	return TDM_SR_OK;
}

static void verify_read(struct tdm_cmd *cmd, int sr)
{
	if (!(cmd->flags & TDM_CF_BYTCHK)) {
		/* medium verification: the blocks could be read */
		free_buf2(cmd);
		tdm__cmd_done(cmd, sr);
		return;
	}
	compare_done(cmd, sr);
}

int tdm__sbc_verify(struct tdm_cmd *cmd)
{
	if (!cmd->nblocks)
		return TDM_SR_OK;
	return read_to_buf2(cmd, verify_read);
}

/* ---- PRE-FETCH ---- */

/* PRE-FETCH and SYNCHRONIZE CACHE (10)/(16): IMMED, a range that must lie
 * on the medium (NUMBER OF LOGICAL BLOCKS 0: from lba to the end; PRE-FETCH
 * has no length limit: MAXIMUM PREFETCH LENGTH is not reported), no data */
static int range_only_parse(struct tdm_cmd *cmd)
{
	struct cdb_layout l;
	uint64_t lba;
	uint32_t n;

	if (!layout_of(cmd->cdb[0], &l))
		return TDM_SR_INVALID_OPCODE;
	if (cmd->cdb[1] & 0x02)
		cmd->flags |= TDM_CF_IMMED;
	lba = get_be(cmd->cdb + l.lba_off, l.lba_len);
	n = (uint32_t)get_be(cmd->cdb + l.len_off, l.len_len);
	cmd->lba = lba;
	cmd->nblocks = 0; /* no data moves (statistics) */
	cmd->dir = TDM_DIR_NONE;
	return tdm__sbc_check_range(cmd, lba, n);
}

int tdm__sbc_prefetch_parse(struct tdm_cmd *cmd)
{
	return range_only_parse(cmd);
}

int tdm__sbc_prefetch(struct tdm_cmd *cmd)
{
	/* SBC-3 PRE-FETCH: GOOD when the blocks were not all brought into
	 * a cache (there is none of ours to fill; the backing store's own
	 * read-ahead does the job) */
	return TDM_SR_OK;
}

/* ---- SYNCHRONIZE CACHE ---- */

int tdm__sbc_sync_cache_parse(struct tdm_cmd *cmd)
{
	return range_only_parse(cmd);
}

int tdm__sbc_sync_cache(struct tdm_cmd *cmd)
{
	const struct tdm_lu *lu = cmd->lu;

	/*
	 * Flush whenever the backing store has a volatile cache, whatever
	 * WCE says now: data written while WCE was 1 may still be there.
	 * nv_cache declares the cache non-volatile. The range is flushed
	 * whole: backstores flush files or devices, not ranges. IMMED only
	 * allows an early status: ignored.
	 */
	if (!tdm__lu_volatile_cache(lu))
		return TDM_SR_OK;
	cmd->exec_done = NULL;
	tdm__sbc_flush(cmd);
	return TDM__SR_ASYNC;
}

/* ---- READ CAPACITY ---- */

int tdm__sbc_read_capacity10_parse(struct tdm_cmd *cmd)
{
	/* SBC-3 READ CAPACITY(10): with PMI=0 the LBA must be 0 */
	if (!(cmd->cdb[8] & 0x01) && tdm_get_be32(cmd->cdb + 2))
		return tdm__cdb_err(cmd, 2, 7);
	cmd->dir = TDM_DIR_READ;
	cmd->alloc_len = 8; /* fixed length parameter data */
	return tdm__lu_medium_check(cmd->lu);
}

int tdm__sbc_read_capacity10(struct tdm_cmd *cmd)
{
	const struct tdm_lu *lu = cmd->lu;
	uint64_t last = lu->nblocks - 1;
	uint8_t p[8];

	/* a last LBA above 32 bits asks for READ CAPACITY(16) */
	tdm_put_be32(p, last > 0xFFFFFFFFull ? 0xFFFFFFFFu : (uint32_t)last);
	tdm_put_be32(p + 4, lu->block_size);
	tdm__cmd_put_data(cmd, p, sizeof(p));
	return TDM_SR_OK;
}

int tdm__sbc_read_capacity16_parse(struct tdm_cmd *cmd)
{
	uint32_t alloc = tdm_get_be32(cmd->cdb + 10);

	if (!(cmd->cdb[14] & 0x01) && tdm_get_be64(cmd->cdb + 2))
		return tdm__cdb_err(cmd, 2, 7);
	cmd->dir = TDM_DIR_READ;
	cmd->alloc_len = alloc < 32 ? alloc : 32;
	return tdm__lu_medium_check(cmd->lu);
}

int tdm__sbc_read_capacity16(struct tdm_cmd *cmd)
{
	const struct tdm_lu *lu = cmd->lu;
	uint8_t p[32];

	/* SBC-4 5.21.2 READ CAPACITY(16) parameter data: no protection
	 * (P_TYPE, PROT_EN 0), LOGICAL BLOCKS PER PHYSICAL BLOCK EXPONENT
	 * from physical_blocksize, LOWEST ALIGNED LBA 0 */
	memset(p, 0, sizeof(p));
	tdm_put_be64(p, lu->nblocks - 1);
	tdm_put_be32(p + 8, lu->block_size);
	p[13] = (uint8_t)(lu->lbppbe & 0x0f);
	/* thin: LBPME, LBPRZ (scsi/thin.c) */
	p[14] |= tdm__thin_rc16_bits(lu);
	tdm__cmd_put_data(cmd, p, sizeof(p));
	return TDM_SR_OK;
}

/* ---- READ DEFECT DATA ---- */

int tdm__sbc_read_defect_parse(struct tdm_cmd *cmd)
{
	bool twelve = cmd->cdb[0] == 0xB7;
	uint32_t alloc = twelve ? tdm_get_be32(cmd->cdb + 6)
				: tdm_get_be16(cmd->cdb + 7);

	cmd->dir = TDM_DIR_READ;
	cmd->alloc_len = alloc < 8 ? alloc : 8;
	return TDM_SR_OK;
}

int tdm__sbc_read_defect(struct tdm_cmd *cmd)
{
	bool twelve = cmd->cdb[0] == 0xB7;
	/* REQ_PLIST, REQ_GLIST and the DEFECT LIST FORMAT */
	uint8_t req = cmd->cdb[twelve ? 1 : 2] & 0x1F;
	uint8_t p[8];

	/* SBC-3 READ DEFECT DATA parameter data: the lists asked for are
	 * valid (PLISTV, GLISTV) and empty, in the format asked for */
	memset(p, 0, sizeof(p));
	p[1] = req;
	tdm__cmd_put_data(cmd, p, twelve ? 8 : 4);
	return TDM_SR_OK;
}
