/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * thin.c - SBC-4 logical block provisioning: UNMAP, WRITE SAME(10)/(16)
 * with and without UNMAP and NDOB, GET LBA STATUS, and what the block
 * limits and logical block provisioning VPD pages and READ CAPACITY(16)
 * say about them.
 *
 * An LU is thin provisioned (LBPME=1, SBC-4 4.7) when its device is
 * configured thin_provisioned and its backstore can deallocate
 * (bs->can_unmap: fileio punches holes, blockio discards, ram gives pages
 * back). Deallocated blocks read back as zeros (LBPRZ=1) on fileio, ram
 * and nullio; what a discarded block of a block device reads is up to the
 * device, so blockio does not claim LBPRZ (backstores/README.md).
 *
 * WRITE SAME works on every LU. Its data is written through the
 * backstore in chunks of one buffer (CHUNK_BYTES) filled with the block
 * repeated; a block of zeros becomes one WRITE_ZEROES request. With
 * UNMAP=1 (thin LUs only) the range is deallocated with one UNMAP request,
 * whatever the block holds: SBC-4 (WRITE SAME, ANCHOR and UNMAP bits)
 * says a thin LU "should deallocate each LBA", and reads then return what
 * LBPRZ says, not the block (libiscsi's WriteSame*.UnmapUntilEnd checks
 * that). UNMAP issues one backstore request per block descriptor. The requests
 * of a command run one after the other (cmd->exec_done); a request that
 * completes inside submit() (ram, nullio) continues the loop in step()
 * rather than recursing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "scsi/scsi_int.h"

/*
 * SBC-4 block limits VPD page: our limits.
 * MAXIMUM UNMAP LBA COUNT: every descriptor is one fallocate/discard;
 * bound the work of one command (and stay below the 1M blocks that
 * libiscsi deems sane). MAXIMUM UNMAP BLOCK DESCRIPTOR COUNT: 256.
 * MAXIMUM WRITE SAME LENGTH: what WRITE SAME(10) can ask for, so that
 * both CDB sizes have one limit (at most 256 MiB of 4096-byte blocks,
 * written 1 MiB at a time).
 */
#define MAX_UNMAP_LBAS 0x100000u
#define MAX_UNMAP_DESCS 256u
#define MAX_WS_BLOCKS 0xFFFFu
#define CHUNK_BYTES (1u << 20)
/* OPTIMAL UNMAP GRANULARITY: a filesystem block / memory page */
#define UNMAP_GRAN_BYTES 4096u

/* SBC-4 5.20 GET LBA STATUS: descriptors returned at most */
#define MAX_LBA_STATUS_DESCS 1024u
/* SBC-4 5.20 LBA status descriptor: PROVISIONING STATUS */
#define PS_MAPPED 0x0
#define PS_DEALLOCATED 0x1

/* SBC-4 5.30 UNMAP: the parameter list header, and one descriptor */
#define UNMAP_HDR 8u
#define UNMAP_DESC 16u

bool tdm__lu_thin(const struct tdm_lu *lu)
{
	return lu->conf.thin_provisioned && lu->bs.can_unmap;
}

bool tdm__lu_lbprz(const struct tdm_lu *lu)
{
	/* backstores/README.md: a punched hole, a page given back with
	 * MADV_DONTNEED and nullio read zeros; a discarded device block
	 * reads whatever the device returns */
	return tdm__lu_thin(lu) && lu->conf.handler != TDM_HANDLER_BLOCKIO;
}

void tdm__thin_vpd_block_limits(const struct tdm_lu *lu, uint8_t *p)
{
	uint32_t gran = UNMAP_GRAN_BYTES >> lu->block_shift;

	/* never finer than a physical block */
	if (gran < (1u << lu->lbppbe))
		gran = 1u << lu->lbppbe;

	/* WSNZ (byte 4 bit 0) stays 0: WRITE SAME with NUMBER OF LOGICAL
	 * BLOCKS 0 writes to the end of the medium (SBC-4 WRITE SAME) */
	if (tdm__lu_thin(lu)) {
		tdm_put_be32(p + 20, MAX_UNMAP_LBAS);
		tdm_put_be32(p + 24, MAX_UNMAP_DESCS);
		tdm_put_be32(p + 28, gran ? gran : 1);
		/* UGAVALID, UNMAP GRANULARITY ALIGNMENT 0 */
		tdm_put_be32(p + 32, 0x80000000u);
	}
	tdm_put_be64(p + 36, MAX_WS_BLOCKS);
}

size_t tdm__thin_vpd_lbp(const struct tdm_lu *lu, uint8_t *p)
{
	/* SBC-4 logical block provisioning VPD: THRESHOLD EXPONENT 0 (no
	 * thresholds), no provisioning group descriptor (DP=0), ANC_SUP=0 */
	p[4] = 0;
	p[5] = 0;
	p[6] = 0; /* PROVISIONING TYPE 000b: fully provisioned */
	p[7] = 0;
	if (tdm__lu_thin(lu)) {
		p[5] = 0x80 | 0x40 | 0x20; /* LBPU, LBPWS, LBPWS10 */
		if (tdm__lu_lbprz(lu))
			p[5] |= 0x04; /* LBPRZ 001b */
		p[6] = 0x02;	      /* PROVISIONING TYPE 010b: thin */
	}
	return 8;
}

uint8_t tdm__thin_rc16_bits(const struct tdm_lu *lu)
{
	/* SBC-4 READ CAPACITY(16) data: byte 14 bit 7 LBPME, bit 6 LBPRZ */
	if (!tdm__lu_thin(lu))
		return 0;
	return (uint8_t)(0x80 | (tdm__lu_lbprz(lu) ? 0x40 : 0));
}

/* ---- the request loop ---- */

struct job {
	uint8_t op;	/* enum tdm_bs_op of the requests */
	bool fua;	/* writes must be stable */
	bool flush;	/* FLUSH once the requests are done */
	bool in_submit; /* inside tdm__bs_io() */
	bool sync_done; /* ... and the request already completed */
	int sr;		/* result of the last request */
	uint64_t lba;	/* WRITE SAME: next block */
	uint64_t left;	/* WRITE SAME: blocks left */
	uint32_t chunk; /* WRITE SAME: blocks per request */
	uint32_t desc;	/* UNMAP: next descriptor */
	uint32_t ndesc; /* UNMAP: descriptors */
};

static void job_end(struct tdm_cmd *cmd, int sr)
{
	free(cmd->priv);
	cmd->priv = NULL;
	tdm_buf_free(cmd->buf2, cmd->buf2_cap);
	cmd->buf2 = NULL;
	cmd->buf2_cap = 0;
	tdm__cmd_done(cmd, sr);
}

/* Fill io with the next request of the job; false when there is none. */
static bool next_io(struct tdm_cmd *cmd, struct job *j, struct tdm_bs_io *io)
{
	const struct tdm_lu *lu = cmd->lu;

	memset(io, 0, sizeof(*io));
	if (j->op == TDM_BS_UNMAP && j->ndesc) {
		/* UNMAP: the descriptors, checked by tdm__thin_unmap() */
		while (j->desc < j->ndesc) {
			const uint8_t *d =
				cmd->buf + UNMAP_HDR + UNMAP_DESC * j->desc++;
			uint32_t n = tdm_get_be32(d + 8);

			if (!n)
				continue;
			io->op = TDM_BS_UNMAP;
			io->offset = tdm_get_be64(d) << lu->block_shift;
			io->len = (uint64_t)n << lu->block_shift;
			return true;
		}
	} else if (j->left) {
		uint64_t n = j->left;

		if (j->op == TDM_BS_WRITE && n > j->chunk)
			n = j->chunk;
		io->op = j->op;
		io->fua = j->op == TDM_BS_WRITE && j->fua;
		io->offset = j->lba << lu->block_shift;
		io->len = n << lu->block_shift;
		io->buf = j->op == TDM_BS_WRITE ? cmd->buf2 : NULL;
		j->lba += n;
		j->left -= n;
		return true;
	}
	if (j->flush) {
		j->flush = false;
		io->op = TDM_BS_FLUSH;
		return true;
	}
	return false;
}

static void step(struct tdm_cmd *cmd);

static void io_done(struct tdm_cmd *cmd, int sr)
{
	struct job *j = cmd->priv;

	j->sr = sr;
	if (j->in_submit) {
		j->sync_done = true;
		return;
	}
	step(cmd);
}

/* Issue the job's requests until one goes asynchronous or all are done. */
static void step(struct tdm_cmd *cmd)
{
	struct job *j = cmd->priv;

	for (;;) {
		if (j->sr != TDM_SR_OK) {
			job_end(cmd, j->sr);
			return;
		}
		if (tdm_cmd_aborted(cmd)) {
			job_end(cmd, TDM_SR_TASK_ABORTED);
			return;
		}
		if (!next_io(cmd, j, &cmd->bsio)) {
			job_end(cmd, TDM_SR_OK);
			return;
		}
		j->in_submit = true;
		j->sync_done = false;
		cmd->exec_done = io_done;
		tdm__bs_io(cmd, &cmd->bsio);
		j->in_submit = false;
		if (!j->sync_done)
			return; /* io_done() continues */
	}
}

static int job_start(struct tdm_cmd *cmd, struct job *proto)
{
	struct job *j = malloc(sizeof(*j));

	if (!j)
		return TDM_SR_ABORTED_NO_RESOURCES;
	*j = *proto;
	j->sr = TDM_SR_OK;
	cmd->priv = j;
	step(cmd);
	return TDM__SR_ASYNC;
}

/* ---- UNMAP (SBC-4 5.30) ---- */

int tdm__thin_unmap_parse(struct tdm_cmd *cmd)
{
	const uint8_t *cdb = cmd->cdb;
	uint16_t plen = tdm_get_be16(cdb + 7);
	int sr;

	/* a fully provisioned LU has no UNMAP command (LBPU=0); the
	 * opcode table's .supported says the same to RSOC */
	if (!tdm__lu_thin(cmd->lu))
		return TDM_SR_INVALID_OPCODE;
	if (cdb[1] & 0x01) /* ANCHOR: ANC_SUP=0 in the LBP VPD page */
		return tdm__cdb_err(cmd, 1, 0);
	sr = tdm__lu_medium_check(cmd->lu);
	if (sr != TDM_SR_OK)
		return sr;
	/* SBC-4 5.30: a PARAMETER LIST LENGTH of 0 is no error; 1..7
	 * cannot hold the header */
	if (plen && plen < UNMAP_HDR)
		return TDM_SR_PARAM_LIST_LENGTH_ERROR;
	cmd->lba = 0;
	cmd->nblocks = 0;
	cmd->dir = plen ? TDM_DIR_WRITE : TDM_DIR_NONE;
	cmd->data_len = plen;
	return TDM_SR_OK;
}

int tdm__thin_unmap(struct tdm_cmd *cmd)
{
	const struct tdm_lu *lu = cmd->lu;
	const uint8_t *p = cmd->buf;
	uint32_t plen = cmd->data_len, bd_len, n, i;
	uint64_t total = 0;
	struct job j = {.op = TDM_BS_UNMAP};
	int sr;

	if (plen < UNMAP_HDR)
		return TDM_SR_OK; /* no parameter list: nothing to do */
	bd_len = tdm_get_be16(p + 2);
	/* the block descriptors announced must have been transferred */
	if (bd_len > plen - UNMAP_HDR)
		return TDM_SR_PARAM_LIST_LENGTH_ERROR;
	/* SBC-4 5.30: an incomplete last descriptor is ignored */
	n = bd_len / UNMAP_DESC;
	if (n > MAX_UNMAP_DESCS)
		return tdm__param_err(cmd, 2, 7);
	/* check every descriptor before deallocating anything */
	for (i = 0; i < n; i++) {
		const uint8_t *d = p + UNMAP_HDR + UNMAP_DESC * i;
		uint64_t lba = tdm_get_be64(d);
		uint32_t cnt = tdm_get_be32(d + 8);

		sr = tdm__lba_check(lu, lba, cnt);
		if (sr != TDM_SR_OK)
			return sr;
		total += cnt;
		if (total > MAX_UNMAP_LBAS)
			return tdm__param_err(
				cmd, (uint16_t)(UNMAP_HDR + UNMAP_DESC * i + 8),
				7);
	}
	if (!total)
		return TDM_SR_OK;
	j.ndesc = n;
	j.flush = tdm__write_stable(lu, false);
	return job_start(cmd, &j);
}

/* ---- WRITE SAME(10) and (16) (SBC-4) ---- */

int tdm__thin_ws_parse(struct tdm_cmd *cmd)
{
	const uint8_t *cdb = cmd->cdb;
	struct tdm_lu *lu = cmd->lu;
	bool ws16 = cdb[0] == 0x93;
	uint8_t len_off = ws16 ? 10 : 7;
	uint64_t lba, n;
	int sr;

	if (cdb[1] & 0xE0) /* WRPROTECT: no protection information */
		return tdm__cdb_err(cmd, 1, 7);
	if (cdb[1] & 0x10) /* ANCHOR: ANC_SUP=0 */
		return tdm__cdb_err(cmd, 1, 4);
	if (cdb[1] & 0x04) /* PBDATA (obsolete) */
		return tdm__cdb_err(cmd, 1, 2);
	if (cdb[1] & 0x02) /* LBDATA (obsolete) */
		return tdm__cdb_err(cmd, 1, 1);
	if (!ws16 && (cdb[1] & 0x01)) /* reserved in WRITE SAME(10) */
		return tdm__cdb_err(cmd, 1, 0);
	/* UNMAP=1 needs LBPWS/LBPWS10, which only a thin LU reports */
	if ((cdb[1] & 0x08) && !tdm__lu_thin(lu))
		return tdm__cdb_err(cmd, 1, 3);
	if (ws16) {
		lba = tdm_get_be64(cdb + 2);
		n = tdm_get_be32(cdb + 10);
	} else {
		lba = tdm_get_be32(cdb + 2);
		n = tdm_get_be16(cdb + 7);
	}
	sr = tdm__lu_medium_check(lu);
	if (sr != TDM_SR_OK)
		return sr;
	if (!n) {
		/* WSNZ=0: from lba to the last block of the medium */
		sr = tdm__lba_check(lu, lba, 1);
		if (sr != TDM_SR_OK)
			return sr;
		n = lu->nblocks - lba;
	}
	/* SBC-4 WRITE SAME: more than MAXIMUM WRITE SAME LENGTH is an invalid
	 * field */
	if (n > MAX_WS_BLOCKS)
		return tdm__cdb_err(cmd, len_off, 7);
	sr = tdm__lba_check(lu, lba, n);
	if (sr != TDM_SR_OK)
		return sr;
	cmd->lba = lba;
	cmd->nblocks = (uint32_t)n;
	if (ws16 && (cdb[1] & 0x01)) {
		/* NDOB: no Data-Out Buffer, the block is zeros */
		cmd->dir = TDM_DIR_NONE;
		cmd->data_len = 0;
	} else {
		cmd->dir = TDM_DIR_WRITE;
		cmd->data_len = lu->block_size;
		/* the Data-Out Buffer is one logical block; a transport
		 * expecting more or less is not told to shorten or pad it
		 * (libiscsi WriteSame10/16.InvalidDataOutSize) */
		if (cmd->exp_len != cmd->data_len)
			return TDM_SR_INVALID_FIELD_IN_CDB;
	}
	return TDM_SR_OK;
}

static bool all_zero(const uint8_t *p, size_t len)
{
	static const uint8_t zero[64];
	size_t off = 0;

	while (len - off >= sizeof(zero)) {
		if (memcmp(p + off, zero, sizeof(zero)))
			return false;
		off += sizeof(zero);
	}
	while (off < len)
		if (p[off++])
			return false;
	return true;
}

int tdm__thin_ws(struct tdm_cmd *cmd)
{
	struct tdm_lu *lu = cmd->lu;
	bool ndob = cmd->cdb[0] == 0x93 && (cmd->cdb[1] & 0x01);
	bool unmap = cmd->cdb[1] & 0x08;
	bool zero = ndob || unmap || all_zero(cmd->buf, lu->block_size);
	struct job j = {.lba = cmd->lba, .left = cmd->nblocks};
	uint64_t bytes, off;

	if (!cmd->nblocks)
		return TDM_SR_OK;
	if (unmap) {
		/* SBC-4 WRITE SAME, UNMAP=1 ANCHOR=0: a thin LU should
		 * deallocate each LBA (the parse refused UNMAP=1 on other
		 * LUs); reads then return zeros if LBPRZ */
		j.op = TDM_BS_UNMAP;
		j.flush = tdm__write_stable(lu, false);
	} else if (zero) {
		j.op = TDM_BS_WRITE_ZEROES;
		j.flush = tdm__write_stable(lu, false);
	} else {
		j.op = TDM_BS_WRITE;
		j.fua = tdm__write_stable(lu, false);
		bytes = (uint64_t)cmd->nblocks << lu->block_shift;
		if (bytes > CHUNK_BYTES)
			bytes = CHUNK_BYTES;
		cmd->buf2 = tdm_buf_alloc((uint32_t)bytes, &cmd->buf2_cap);
		if (!cmd->buf2) {
			cmd->buf2_cap = 0;
			return TDM_SR_ABORTED_NO_RESOURCES;
		}
		for (off = 0; off < bytes; off += lu->block_size)
			memcpy(cmd->buf2 + off, cmd->buf, lu->block_size);
		j.chunk = (uint32_t)(bytes >> lu->block_shift);
	}
	return job_start(cmd, &j);
}

/* ---- GET LBA STATUS (SBC-4 5.20) ---- */

int tdm__thin_lba_status_parse(struct tdm_cmd *cmd)
{
	const uint8_t *cdb = cmd->cdb;
	uint64_t lba = tdm_get_be64(cdb + 2);
	uint32_t alloc = tdm_get_be32(cdb + 10);
	uint32_t max = 8 + 16 * MAX_LBA_STATUS_DESCS;
	int sr;

	/* byte 14: REPORT TYPE (SBC-4) — only 0h, every status */
	if (cdb[14] & 0x03)
		return tdm__cdb_err(cmd, 14, (int8_t)(cdb[14] & 0x02 ? 1 : 0));
	sr = tdm__lu_medium_check(cmd->lu);
	if (sr != TDM_SR_OK)
		return sr;
	sr = tdm__lba_check(cmd->lu, lba, 1); /* the LBA asked about */
	if (sr != TDM_SR_OK)
		return sr;
	cmd->lba = lba;
	cmd->nblocks = 0; /* no data of the medium moves */
	cmd->dir = TDM_DIR_READ;
	cmd->alloc_len = alloc < max ? alloc : max;
	return TDM_SR_OK;
}

/* The status of the blocks from lba: *mapped and how many (>= 1). */
static int extent_at(struct tdm_lu *lu, uint64_t lba, bool *mapped,
		     uint64_t *blocks)
{
	const struct tdm_bs *bs = &lu->bs;
	uint64_t len, bsz = lu->block_size;
	int rc;

	*mapped = true;
	*blocks = lu->nblocks - lba;
	if (!tdm__lu_thin(lu) || !bs->ops->lba_status)
		return 0; /* fully provisioned, or nothing to ask */
	/* scsi/backing.c: a deferred LU's backing may be closing */
	if (!tdm__bk_enter(lu))
		return -ENODEV;
	rc = bs->ops->lba_status((struct tdm_bs *)bs, lba << lu->block_shift,
				 &len, mapped);
	tdm__bk_exit(lu);
	if (rc < 0)
		return rc;
	/* a block is mapped if any of its bytes is */
	*blocks = *mapped ? (len + bsz - 1) / bsz : len / bsz;
	if (!*blocks) {
		*mapped = true;
		*blocks = 1;
	}
	if (*blocks > lu->nblocks - lba)
		*blocks = lu->nblocks - lba;
	return 0;
}

int tdm__thin_lba_status(struct tdm_cmd *cmd)
{
	struct tdm_lu *lu = cmd->lu;
	uint32_t max = cmd->alloc_len > 8 ? (cmd->alloc_len - 8) / 16 : 0;
	uint64_t lba = cmd->lba, blocks, cnt = 0;
	uint8_t *p, *d = NULL;
	uint32_t nd = 0;
	bool mapped;
	size_t len;

	/* at least one descriptor, even if the allocation length cuts it:
	 * PARAMETER DATA LENGTH says how much there was */
	if (max < 1)
		max = 1;
	if (max > MAX_LBA_STATUS_DESCS)
		max = MAX_LBA_STATUS_DESCS;
	p = calloc(1, 8 + 16 * (size_t)max);
	if (!p)
		return TDM_SR_ABORTED_NO_RESOURCES;
	while (lba < lu->nblocks) {
		uint64_t take;

		int rc = extent_at(lu, lba, &mapped, &blocks);

		if (rc < 0) {
			free(p);
			return rc == -ENODEV ? TDM_SR_ALUA_UNAVAILABLE
					     : TDM_SR_READ_ERROR;
		}
		/* extend the last descriptor while the status is the same
		 * and its NUMBER OF LOGICAL BLOCKS (32 bits) holds it */
		if (d && (d[12] == PS_MAPPED) == mapped &&
		    cnt < 0xFFFFFFFFull) {
			take = blocks < 0xFFFFFFFFull - cnt
				       ? blocks
				       : 0xFFFFFFFFull - cnt;
			cnt += take;
		} else {
			if (nd == max)
				break;
			if (d)
				tdm_put_be32(d + 8, (uint32_t)cnt);
			/* SBC-4 5.20: LBA status descriptor */
			d = p + 8 + 16 * nd++;
			tdm_put_be64(d, lba);
			d[12] = mapped ? PS_MAPPED : PS_DEALLOCATED;
			take = blocks < 0xFFFFFFFFull ? blocks : 0xFFFFFFFFull;
			cnt = take;
		}
		lba += take;
	}
	if (d)
		tdm_put_be32(d + 8, (uint32_t)cnt);
	len = 8 + 16 * (size_t)nd;
	/* PARAMETER DATA LENGTH: the bytes after itself */
	tdm_put_be32(p, (uint32_t)(len - 4));
	tdm__cmd_put_data(cmd, p, len);
	free(p);
	return TDM_SR_OK;
}
