/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xcopy.c - the copy manager of a disk LU: EXTENDED COPY (LID1) (SPC-4
 * 6.3, operation code 83h service action 00h), RECEIVE COPY RESULTS (LID1)
 * (SPC-4, 84h: COPY STATUS, RECEIVE DATA, OPERATING PARAMETERS,
 * FAILED SEGMENT DETAILS) and the third-party copy VPD page (SPC-4
 * 7.8.17).
 *
 * Copy sources and destinations (CSCDs) are identification descriptor
 * CSCD descriptors (E4h) naming an LU of this target by its NAA or EUI-64
 * designator; only LUs that the I_T nexus sees through its LUN map are
 * reachable. Segments are block to block (02h) and block to block with
 * byte offsets (0Ah, offsets 0 only). The whole parameter list is checked
 * before the first byte moves; then each segment is copied in chunks:
 * read from the source's backstore into a buffer, lock the destination
 * blocks (caw.c: the write is atomic with respect to COMPARE AND WRITE),
 * write, unlock, and continue on the command's loop, where a task
 * management function that aborted the command stops the copy. No data
 * goes through the initiator.
 *
 * Copy results of commands with LIST ID USAGE 00b are held per (I_T
 * nexus, copy manager LU, list identifier) until read.
 */
#include <stdlib.h>
#include <string.h>

#include "scsi/scsi_int.h"
#include "lib/log.h"

/*
 * The copy manager's limits (SPC-4 RECEIVE COPY RESULTS
 * OPERATING PARAMETERS; the same in the third-party copy VPD page).
 */
#define MAX_CSCD 8		   /* MAXIMUM CSCD DESCRIPTOR COUNT */
#define MAX_SEGS 64		   /* MAXIMUM SEGMENT DESCRIPTOR COUNT */
#define MAX_DESC_LIST 4096u	   /* MAXIMUM DESCRIPTOR LIST LENGTH */
#define MAX_SEG_BYTES (128u << 20) /* MAXIMUM SEGMENT LENGTH */
#define MAX_INLINE 0u		   /* MAXIMUM INLINE DATA LENGTH */
#define MAX_COPIES 16 /* TOTAL CONCURRENT COPIES per copy manager */
#define MAX_PARAM (16u + MAX_DESC_LIST + MAX_INLINE)
#define CHUNK (1u << 20) /* bytes moved per backstore request */
#define MAX_HELD 64	 /* held copy results, all nexuses */

/* SPC-4 6.3: segment and CSCD descriptor type codes */
#define SEG_B2B 0x02	 /* block device to block device */
#define SEG_B2B_OFF 0x0A /* block device to block device with offset */
#define CSCD_IDENT 0xE4	 /* identification descriptor CSCD descriptor */
#define SEG_B2B_LEN 28
#define SEG_B2B_OFF_LEN 32
#define CSCD_LEN 32

/* SPC-4 RECEIVE COPY RESULTS (LID1) service actions */
#define RCR_COPY_STATUS 0x00
#define RCR_RECEIVE_DATA 0x01
#define RCR_OP_PARAMS 0x03
#define RCR_FAILED_SEGMENT 0x04
#define RCR_MAX 160 /* the longest answer: failed segment details */

/* SPC-4 RECEIVE COPY RESULTS COPY STATUS: COPY MANAGER STATUS */
#define CS_IN_PROGRESS 0x00
#define CS_GOOD 0x01
#define CS_ERROR 0x02

/* SPC-4 6.3: LIST ID USAGE */
#define LID_HOLD 0
#define LID_NO_HOLD 2
#define LID_NONE 3

/* Results kept for RECEIVE COPY RESULTS. */
struct held {
	struct tdm_list link;
	uint64_t nexus_id;
	uint64_t lu_serial;
	uint8_t list_id;
	uint8_t state; /* CS_* */
	bool status_held;
	bool details_held;
	uint16_t segs;
	uint64_t bytes;
	uint8_t cmd_status;
	uint8_t sense_len;
	uint8_t sense[TDM_SENSE_MAX];
};

struct cscd {
	struct tdm_lu *lu; /* one reference */
	bool read_only;
};

struct seg {
	uint16_t src, dst;
	uint64_t src_lba, dst_lba;
	uint64_t bytes;
	uint16_t off; /* in the parameter list */
};

struct xcopy {
	struct tdm_list link; /* on actives */
	struct tdm_cmd *cmd;
	struct tdm_loop *loop;
	uint64_t nexus_id, lu_serial;
	uint8_t list_id, usage;
	struct held *held; /* LID_HOLD: our results (kept while running) */
	size_t ncscd, nseg;
	struct cscd cscd[MAX_CSCD];
	struct seg seg[MAX_SEGS];
	/* progress */
	size_t cur;	    /* segment */
	uint64_t done;	    /* bytes of seg[cur] copied */
	uint64_t total;	    /* bytes copied */
	uint32_t chunk;	    /* bytes in flight */
	uint32_t chunk_max; /* bytes per request: whole blocks of every LU */
	uint8_t *buf;
	uint32_t buf_cap;
	struct tdm_bs_io io;
	struct tdm__range r;
	bool locked;
};

/* helds, nhelds, actives and what they point to (scsi/README.md "Locks") */
static struct tdm_mutex xc_lock =
	TDM_MUTEX_INITIALIZER(TDM__LOCK_XCOPY, "xc_lock");
static struct tdm_list helds = TDM_LIST_INIT(helds);
static size_t nhelds;
static struct tdm_list actives = TDM_LIST_INIT(actives);

/* ---- errors ---- */

/*
 * A reason with a field pointer into the parameter list (SPC-4 4.5.2.4:
 * field pointer with C/D=0; for COPY ABORTED the segment pointer with
 * SD=0: the byte is counted from the start of the parameter list).
 */
static int list_err(struct tdm_cmd *cmd, enum tdm_sense_reason sr,
		    uint32_t byte)
{
	struct tdm_sense_info info = {.sks_valid = true,
				      .sks_cd = false,
				      .sks_bit = -1,
				      .sks_field = (uint16_t)byte};

	tdm_cmd_set_sense(cmd, sr, &info);
	cmd->sense_set = true;
	return sr;
}

/* ---- EXTENDED COPY: parameter list ---- */

int tdm__xcopy_parse(struct tdm_cmd *cmd)
{
	const uint8_t *cdb = cmd->cdb;
	uint32_t len = tdm_get_be32(cdb + 10);
	unsigned i;

	/* SPC-4 6.3 EXTENDED COPY (LID1) CDB: bytes 2-9 and 14 reserved */
	for (i = 2; i <= 14; i++)
		if ((i < 10 || i == 14) && cdb[i])
			return tdm__cdb_err(cmd, (uint16_t)i, 7);
	if (cdb[1] & 0xE0)
		return tdm__cdb_err(cmd, 1, 7);
	/* longer than any list we accept: refuse before the data moves */
	if (len > MAX_PARAM)
		return TDM_SR_PARAM_LIST_LENGTH_ERROR;
	cmd->lba = 0;
	cmd->nblocks = 0; /* no medium range of the addressed LU */
	cmd->data_len = len;
	cmd->dir = len ? TDM_DIR_WRITE : TDM_DIR_NONE;
	return TDM_SR_OK;
}

/* SPC-4 6.3: CSCD descriptor lengths */
static uint32_t cscd_len(uint8_t type)
{
	/* IPv6 (EAh) and IP copy service (EBh) are 64 bytes, the others
	 * 32 */
	return (type == 0xEA || type == 0xEB) ? 64 : 32;
}

/* Find the LU of the nexus' map with this designator (a reference). */
static struct tdm_lu *find_lu(struct tdm_nexus *nx, uint8_t type,
			      const uint8_t *d, uint8_t len, bool *ro)
{
	const struct tdm_lunmap *map;
	struct tdm_lu *found = NULL;
	size_t i;

	tdm_rwlock_rdlock(&tdm__reg_lock);
	map = nx->map;
	for (i = 0; map && i < map->n && !found; i++) {
		struct tdm_lu *lu = map->ents[i].lu;

		if ((type == 0x3 && len == lu->naa_len &&
		     !memcmp(d, lu->naa, len)) ||
		    (type == 0x2 && lu->eui64_len && len == lu->eui64_len &&
		     !memcmp(d, lu->eui64, len))) {
			found = lu;
			*ro = map->ents[i].read_only;
			tdm__lu_get(lu);
		}
	}
	tdm_rwlock_unlock(&tdm__reg_lock);
	return found;
}

/* SPC-4 6.3: an identification descriptor CSCD descriptor (E4h). */
static int resolve_cscd(struct tdm_cmd *cmd, uint32_t off, struct cscd *c)
{
	const uint8_t *d = cmd->buf + off;
	uint8_t assoc = (d[5] >> 4) & 3, type = d[5] & 0x0F, len = d[7];

	/* byte 1: LU ID TYPE (ignored in SPC-4), NUL (obsolete),
	 * PERIPHERAL DEVICE TYPE: block devices only */
	if ((d[1] & 0x1F) != 0x00)
		return list_err(cmd, TDM_SR_UNSUPPORTED_TARGET_DESCRIPTOR,
				off + 1);
	/* the designation descriptor (SPC-4 7.8.6.1), 20 bytes at most */
	if (len > 20)
		return tdm__param_err(cmd, (uint16_t)(off + 7), 7);
	c->lu = NULL;
	if (assoc == 0 && (d[4] & 0x0F) == 0x1)
		c->lu = find_lu(cmd->nexus, type, d + 8, len, &c->read_only);
	if (!c->lu || tdm__lu_medium_check(c->lu) != TDM_SR_OK ||
	    __atomic_load_n(&c->lu->stopped, __ATOMIC_ACQUIRE))
		return list_err(cmd, TDM_SR_COPY_TARGET_DEVICE_NOT_REACHABLE,
				off + 4);
	/* block device type specific parameters: DISK BLOCK LENGTH */
	if (tdm_get_be24(d + 29) != c->lu->block_size)
		return tdm__param_err(cmd, (uint16_t)(off + 29), 7);
	return TDM_SR_OK;
}

/* SPC-4 6.3: a block to block segment (02h, 0Ah) against its CSCDs. */
static int check_seg(struct xcopy *x, struct tdm_cmd *cmd, uint32_t off,
		     struct seg *s)
{
	const uint8_t *d = cmd->buf + off;
	const struct tdm_lu *src, *dst;
	uint32_t len_field;

	s->off = (uint16_t)off;
	s->src = tdm_get_be16(d + 4);
	s->dst = tdm_get_be16(d + 6);
	if (s->src >= x->ncscd)
		return list_err(cmd, TDM_SR_COPY_TARGET_DEVICE_NOT_REACHABLE,
				off + 4);
	if (s->dst >= x->ncscd)
		return list_err(cmd, TDM_SR_COPY_TARGET_DEVICE_NOT_REACHABLE,
				off + 6);
	src = x->cscd[s->src].lu;
	dst = x->cscd[s->dst].lu;
	if (d[0] == SEG_B2B) {
		/* NUMBER OF BLOCKS in the source's blocks, or the
		 * destination's with DC=1 */
		len_field = off + 10;
		s->bytes = (uint64_t)tdm_get_be16(d + 10) *
			   ((d[1] & 0x02) ? dst->block_size : src->block_size);
	} else {
		len_field = off + 8;
		s->bytes = tdm_get_be32(d + 8);
		/* byte offsets inside the first blocks: not supported */
		if (tdm_get_be16(d + 28))
			return tdm__param_err(cmd, (uint16_t)(off + 28), 7);
		if (tdm_get_be16(d + 30))
			return tdm__param_err(cmd, (uint16_t)(off + 30), 7);
	}
	s->src_lba = tdm_get_be64(d + 12);
	s->dst_lba = tdm_get_be64(d + 20);
	/* whole blocks on both sides, no longer than MAXIMUM SEGMENT
	 * LENGTH */
	if (s->bytes % src->block_size || s->bytes % dst->block_size ||
	    s->bytes > MAX_SEG_BYTES)
		return tdm__param_err(cmd, (uint16_t)len_field, 7);
	/* the blocks must exist on both copy targets: COPY ABORTED */
	if (!tdm__lba_in_range(src, s->src_lba, s->bytes / src->block_size))
		return list_err(cmd, TDM_SR_COPY_TARGET_DEVICE_NOT_REACHABLE,
				off + 12);
	if (!tdm__lba_in_range(dst, s->dst_lba, s->bytes / dst->block_size))
		return list_err(cmd, TDM_SR_COPY_TARGET_DEVICE_NOT_REACHABLE,
				off + 20);
	if (s->bytes && (x->cscd[s->dst].read_only || dst->read_only ||
			 __atomic_load_n(&dst->mode.swp, __ATOMIC_RELAXED)))
		return TDM_SR_WRITE_PROTECTED;
	return TDM_SR_OK;
}

/* SPC-4 6.3: the EXTENDED COPY (LID1) parameter list, checked whole. */
static int parse_list(struct xcopy *x, struct tdm_cmd *cmd)
{
	const uint8_t *b = cmd->buf;
	uint32_t len = cmd->data_len, off, end, tdl, sdl, inl;
	uint32_t cscd_off[MAX_CSCD], seg_off[MAX_SEGS];
	size_t n, i;
	int sr;

	if (len < 16)
		return TDM_SR_PARAM_LIST_LENGTH_ERROR;
	x->list_id = b[0];
	x->usage = (b[1] >> 3) & 3;
	if (x->usage == 1) /* reserved */
		return tdm__param_err(cmd, 1, 4);
	if (x->usage == LID_NONE && b[0])
		return tdm__param_err(cmd, 0, 7);
	tdl = tdm_get_be16(b + 2);
	sdl = tdm_get_be32(b + 8);
	inl = tdm_get_be32(b + 12);
	/* SPC-4 6.3: the descriptor lists longer than MAXIMUM
	 * DESCRIPTOR LIST LENGTH, or longer than what was sent */
	if ((uint64_t)tdl + sdl > MAX_DESC_LIST)
		return TDM_SR_PARAM_LIST_LENGTH_ERROR;
	if (inl > MAX_INLINE)
		return tdm__param_err(cmd, 12, 7);
	if (16ull + tdl + sdl + inl > len)
		return TDM_SR_PARAM_LIST_LENGTH_ERROR;

	/* count the descriptors first: TOO MANY ... DESCRIPTORS */
	end = 16 + tdl;
	for (off = 16, n = 0; off < end; n++) {
		uint32_t dl = cscd_len(b[off]);

		if (dl > end - off)
			return TDM_SR_PARAM_LIST_LENGTH_ERROR;
		if (n < MAX_CSCD)
			cscd_off[n] = off;
		off += dl;
	}
	if (n > MAX_CSCD)
		return TDM_SR_TOO_MANY_TARGET_DESCRIPTORS;
	x->ncscd = n;
	end = 16 + tdl + sdl;
	for (off = 16 + tdl, n = 0; off < end; n++) {
		uint32_t dl;

		if (end - off < 4)
			return TDM_SR_PARAM_LIST_LENGTH_ERROR;
		dl = 4u + tdm_get_be16(b + off + 2);
		if (dl > end - off)
			return TDM_SR_PARAM_LIST_LENGTH_ERROR;
		if (n < MAX_SEGS)
			seg_off[n] = off;
		off += dl;
	}
	if (n > MAX_SEGS)
		return TDM_SR_TOO_MANY_SEGMENT_DESCRIPTORS;
	x->nseg = n;

	/* then the types */
	for (i = 0; i < x->ncscd; i++)
		if (b[cscd_off[i]] != CSCD_IDENT)
			return list_err(cmd,
					TDM_SR_UNSUPPORTED_TARGET_DESCRIPTOR,
					cscd_off[i]);
	for (i = 0; i < x->nseg; i++) {
		const uint8_t *d = b + seg_off[i];
		uint32_t dl = 4u + tdm_get_be16(d + 2);

		if (d[0] != SEG_B2B && d[0] != SEG_B2B_OFF)
			return list_err(cmd,
					TDM_SR_UNSUPPORTED_SEGMENT_DESCRIPTOR,
					seg_off[i]);
		if (dl != (d[0] == SEG_B2B ? SEG_B2B_LEN : SEG_B2B_OFF_LEN))
			return tdm__param_err(cmd, (uint16_t)(seg_off[i] + 2),
					      7);
	}

	/* then what they name */
	for (i = 0; i < x->ncscd; i++) {
		sr = resolve_cscd(cmd, cscd_off[i], &x->cscd[i]);
		if (sr != TDM_SR_OK)
			return sr;
	}
	for (i = 0; i < x->nseg; i++) {
		sr = check_seg(x, cmd, seg_off[i], &x->seg[i]);
		if (sr != TDM_SR_OK)
			return sr;
	}
	return TDM_SR_OK;
}

/* ---- held results and the active copies ---- */

static struct held *held_find(uint64_t nexus_id, uint64_t serial,
			      uint8_t list_id)
{
	struct tdm_list *pos;

	tdm_list_for_each (pos, &helds) {
		struct held *h = tdm_list_entry(pos, struct held, link);

		if (h->nexus_id == nexus_id && h->lu_serial == serial &&
		    h->list_id == list_id)
			return h;
	}
	return NULL;
}

static void held_drop(struct held *h)
{
	tdm_list_del(&h->link);
	nhelds--;
	free(h);
}

/* Register x as running; under xc_lock. */
static int register_copy(struct xcopy *x)
{
	struct tdm_list *pos;
	struct held *h;
	unsigned running = 0;

	tdm_list_for_each (pos, &actives) {
		struct xcopy *o = tdm_list_entry(pos, struct xcopy, link);

		if (o->lu_serial != x->lu_serial)
			continue;
		running++;
		/* SPC-4 6.3: a list identifier of a copy in progress */
		if (x->usage != LID_NONE && o->usage != LID_NONE &&
		    o->nexus_id == x->nexus_id && o->list_id == x->list_id)
			return tdm__param_err(x->cmd, 0, 7);
	}
	if (running >= MAX_COPIES)
		return TDM_SR_ABORTED_NO_RESOURCES;
	if (x->usage == LID_HOLD) {
		h = held_find(x->nexus_id, x->lu_serial, x->list_id);
		if (!h && nhelds >= MAX_HELD) {
			/* forget the oldest finished results */
			tdm_list_for_each (pos, &helds) {
				struct held *o =
					tdm_list_entry(pos, struct held, link);

				if (o->state != CS_IN_PROGRESS) {
					held_drop(o);
					break;
				}
			}
		}
		if (!h && nhelds < MAX_HELD) {
			h = calloc(1, sizeof(*h));
			if (h) {
				tdm_list_add_tail(&helds, &h->link);
				nhelds++;
			}
		}
		if (!h)
			return TDM_SR_ABORTED_NO_RESOURCES;
		memset((char *)h + sizeof(h->link), 0,
		       sizeof(*h) - sizeof(h->link));
		h->nexus_id = x->nexus_id;
		h->lu_serial = x->lu_serial;
		h->list_id = x->list_id;
		h->state = CS_IN_PROGRESS;
		h->status_held = true;
		x->held = h;
	}
	tdm_list_add_tail(&actives, &x->link);
	return TDM_SR_OK;
}

static void xc_free(struct xcopy *x)
{
	size_t i;

	for (i = 0; i < x->ncscd; i++)
		if (x->cscd[i].lu)
			tdm__lu_put(x->cscd[i].lu);
	tdm_buf_free(x->buf, x->buf_cap);
	free(x);
}

/* ---- the copy ---- */

static void xc_end(struct xcopy *x, int sr, const struct tdm_sense_info *info)
{
	struct tdm_cmd *cmd = x->cmd;
	struct held *h = x->held;

	if (x->locked) {
		tdm__range_unlock(&x->r);
		x->locked = false;
	}
	tdm_mutex_lock(&xc_lock);
	tdm_list_del(&x->link);
	if (h) {
		h->state = sr == TDM_SR_OK ? CS_GOOD : CS_ERROR;
		h->segs = (uint16_t)x->cur;
		h->bytes = x->total;
		h->details_held = true;
		h->cmd_status = tdm_sense_table[sr].status;
		h->sense_len = (uint8_t)tdm__sense_build(
			h->sense, sizeof(h->sense), (enum tdm_sense_reason)sr,
			info, cmd->lu->mode.d_sense);
	}
	tdm_mutex_unlock(&xc_lock);
	xc_free(x);
	tdm__cmd_done_info(cmd, sr, info);
}

static void xc_step(void *arg);

static void xc_written(struct tdm_bs_io *io, enum tdm_bs_status st)
{
	struct xcopy *x = io->arg;
	const struct seg *s = &x->seg[x->cur];
	struct tdm_lu *dst = x->cscd[s->dst].lu;

	tdm__range_unlock(&x->r);
	x->locked = false;
	if (st != TDM_BS_OK) {
		xc_end(x, tdm__bs_status_to_sr(st, true), NULL);
		return;
	}
	atomic_fetch_add_explicit(&dst->st_write_bytes, x->chunk,
				  memory_order_relaxed);
	x->done += x->chunk;
	x->total += x->chunk;
	if (x->done == s->bytes) {
		x->cur++;
		x->done = 0;
	}
	if (x->held) {
		tdm_mutex_lock(&xc_lock);
		x->held->segs = (uint16_t)x->cur;
		x->held->bytes = x->total;
		tdm_mutex_unlock(&xc_lock);
	}
	/* the next chunk from the loop: a TMF, other sessions and a
	 * memory backstore's synchronous completions get their turn */
	tdm_loop_post(x->loop, xc_step, x);
}

static void xc_write(struct xcopy *x)
{
	const struct seg *s = &x->seg[x->cur];
	struct tdm_lu *dst = x->cscd[s->dst].lu;
	struct tdm_bs_io *io = &x->io;

	io->op = TDM_BS_WRITE;
	/* SBC-4 caching mode page of the destination: WCE=0 writes
	 * through */
	io->fua = tdm__write_stable(dst, false);
	io->offset = s->dst_lba * dst->block_size + x->done;
	io->len = x->chunk;
	io->buf = x->buf;
	io->done = xc_written;
	io->arg = x;
	io->done_bytes = 0;
	tdm__bk_submit(dst, io);
}

static void xc_granted(struct tdm__range *r)
{
	xc_write(container_of(r, struct xcopy, r));
}

static void xc_read(struct tdm_bs_io *io, enum tdm_bs_status st)
{
	struct xcopy *x = io->arg;
	const struct seg *s = &x->seg[x->cur];
	struct tdm_lu *dst = x->cscd[s->dst].lu;
	uint64_t lba = s->dst_lba + x->done / dst->block_size;

	if (st != TDM_BS_OK) {
		xc_end(x, tdm__bs_status_to_sr(st, false), NULL);
		return;
	}
	atomic_fetch_add_explicit(&x->cscd[s->src].lu->st_read_bytes, x->chunk,
				  memory_order_relaxed);
	tdm__range_init(&x->r, dst, lba, x->chunk / dst->block_size, x->cmd,
			xc_granted, x->loop);
	x->locked = true;
	if (tdm__range_lock(&x->r))
		xc_write(x);
}

static void xc_step(void *arg)
{
	struct xcopy *x = arg;
	const struct seg *s;
	struct tdm_lu *src;
	struct tdm_bs_io *io = &x->io;
	uint64_t left;

	if (tdm_cmd_aborted(x->cmd)) {
		xc_end(x, TDM_SR_TASK_ABORTED, NULL);
		return;
	}
	while (x->cur < x->nseg && !x->seg[x->cur].bytes)
		x->cur++;
	if (x->cur == x->nseg) {
		xc_end(x, TDM_SR_OK, NULL);
		return;
	}
	s = &x->seg[x->cur];
	src = x->cscd[s->src].lu;
	left = s->bytes - x->done;
	x->chunk = left < x->chunk_max ? (uint32_t)left : x->chunk_max;
	io->op = TDM_BS_READ;
	io->fua = false;
	io->offset = s->src_lba * src->block_size + x->done;
	io->len = x->chunk;
	io->buf = x->buf;
	io->done = xc_read;
	io->arg = x;
	io->done_bytes = 0;
	tdm__bk_submit(src, io);
}

int tdm__xcopy(struct tdm_cmd *cmd)
{
	struct xcopy *x;
	uint64_t most = 0;
	size_t i;
	int sr;

	/* SPC-4 6.3: a PARAMETER LIST LENGTH of zero is not an error */
	if (!cmd->data_len)
		return TDM_SR_OK;
	x = calloc(1, sizeof(*x));
	if (!x)
		return TDM_SR_ABORTED_NO_RESOURCES;
	x->cmd = cmd;
	x->loop = cmd->nexus->loop;
	x->nexus_id = cmd->nexus->id_num;
	x->lu_serial = cmd->lu->serial;
	sr = parse_list(x, cmd);
	for (i = 0; sr == TDM_SR_OK && i < x->nseg; i++)
		if (x->seg[i].bytes > most)
			most = x->seg[i].bytes;
	if (sr == TDM_SR_OK && most) {
		x->buf = tdm_buf_alloc(most < CHUNK ? (uint32_t)most : CHUNK,
				       &x->buf_cap);
		if (!x->buf)
			sr = TDM_SR_ABORTED_NO_RESOURCES;
		x->chunk_max = most < CHUNK ? (uint32_t)most : CHUNK;
	}
	if (sr == TDM_SR_OK) {
		tdm_mutex_lock(&xc_lock);
		sr = register_copy(x);
		tdm_mutex_unlock(&xc_lock);
	}
	if (sr != TDM_SR_OK) {
		xc_free(x);
		return sr;
	}
	xc_step(x);
	return TDM__SR_ASYNC;
}

/* ---- RECEIVE COPY RESULTS ---- */

int tdm__rcr_parse(struct tdm_cmd *cmd)
{
	const uint8_t *cdb = cmd->cdb;
	uint32_t alloc = tdm_get_be32(cdb + 10);
	unsigned i;

	/* SPC-4 RECEIVE COPY RESULTS (LID1) CDB: bytes 3-9 and 14 reserved; the
	 * LIST IDENTIFIER is reserved for OPERATING PARAMETERS */
	for (i = 3; i <= 14; i++)
		if ((i < 10 || i == 14) && cdb[i])
			return tdm__cdb_err(cmd, (uint16_t)i, 7);
	if (cdb[1] & 0xE0)
		return tdm__cdb_err(cmd, 1, 7);
	if ((cdb[1] & 0x1F) == RCR_OP_PARAMS && cdb[2])
		return tdm__cdb_err(cmd, 2, 7);
	cmd->dir = TDM_DIR_READ;
	cmd->alloc_len = alloc < RCR_MAX ? alloc : RCR_MAX;
	return TDM_SR_OK;
}

/* SPC-4 RECEIVE COPY RESULTS: OPERATING PARAMETERS data. */
static size_t op_params(const struct tdm_lu *lu, uint8_t *p)
{
	static const uint8_t impl[] = {SEG_B2B, SEG_B2B_OFF, CSCD_IDENT};

	tdm_put_be32(p, 44 + sizeof(impl) - 4); /* AVAILABLE DATA */
	p[4] = 0x01;				/* SNLID */
	tdm_put_be16(p + 8, MAX_CSCD);
	tdm_put_be16(p + 10, MAX_SEGS);
	tdm_put_be32(p + 12, MAX_DESC_LIST);
	tdm_put_be32(p + 16, MAX_SEG_BYTES);
	tdm_put_be32(p + 20, MAX_INLINE);
	tdm_put_be32(p + 24, 0); /* HELD DATA LIMIT */
	tdm_put_be32(p + 28, 0); /* MAXIMUM STREAM DEVICE TRANSFER SIZE */
	tdm_put_be16(p + 34, MAX_COPIES); /* TOTAL CONCURRENT COPIES */
	p[36] = MAX_COPIES;		  /* MAXIMUM CONCURRENT COPIES */
	p[37] = (uint8_t)lu->block_shift; /* DATA SEGMENT GRANULARITY */
	p[38] = 0;			  /* INLINE DATA GRANULARITY */
	p[39] = 0;			  /* HELD DATA GRANULARITY */
	p[43] = sizeof(impl); /* IMPLEMENTED DESCRIPTOR LIST LENGTH */
	memcpy(p + 44, impl, sizeof(impl));
	return 44 + sizeof(impl);
}

int tdm__rcr(struct tdm_cmd *cmd)
{
	uint8_t sa = cmd->cdb[1] & 0x1F, list_id = cmd->cdb[2];
	uint8_t p[RCR_MAX];
	struct held *h;
	size_t n = 0;

	memset(p, 0, sizeof(p));
	if (sa == RCR_OP_PARAMS) {
		n = op_params(cmd->lu, p);
		tdm__cmd_put_data(cmd, p, n);
		return TDM_SR_OK;
	}
	tdm_mutex_lock(&xc_lock);
	h = held_find(cmd->nexus->id_num, cmd->lu->serial, list_id);
	switch (sa) {
	case RCR_COPY_STATUS: /* COPY STATUS data */
		if (!h || !h->status_held)
			break;
		{
			uint64_t count = h->bytes;
			uint8_t units = 0;

			/* TRANSFER COUNT UNITS: 00h bytes, 01h KiB, ... */
			while (count > 0xFFFFFFFFull) {
				count >>= 10;
				units++;
			}
			tdm_put_be32(p, 8);
			p[4] = h->state; /* HDD 0: no held data discarded */
			tdm_put_be16(p + 5, h->segs);
			p[7] = units;
			tdm_put_be32(p + 8, (uint32_t)count);
			n = 12;
		}
		/* status of a finished copy is returned once */
		if (h->state != CS_IN_PROGRESS)
			h->status_held = false;
		break;
	case RCR_RECEIVE_DATA: /* no data is ever held */
		if (!h)
			break;
		n = 4;
		break;
	case RCR_FAILED_SEGMENT: /* FAILED SEGMENT DETAILS */
		if (!h)
			break;
		if (h->state == CS_IN_PROGRESS || !h->details_held) {
			n = 4; /* AVAILABLE DATA 0 */
			break;
		}
		tdm_put_be32(p, 56u + h->sense_len);
		p[56] = h->cmd_status;
		tdm_put_be16(p + 58, h->sense_len);
		memcpy(p + 60, h->sense, h->sense_len);
		n = 60u + h->sense_len;
		h->details_held = false;
		break;
	default:
		break;
	}
	if (h && !h->status_held && !h->details_held &&
	    h->state != CS_IN_PROGRESS)
		held_drop(h);
	tdm_mutex_unlock(&xc_lock);
	if (!n) /* no copy with this LIST IDENTIFIER */
		return tdm__cdb_err(cmd, 2, 7);
	tdm__cmd_put_data(cmd, p, n);
	return TDM_SR_OK;
}

/* ---- third-party copy VPD page ---- */

/* Close a third-party copy descriptor opened at p + start: the length,
 * padded to a multiple of four (SPC-4 7.8.17). */
static size_t tpc_close(uint8_t *p, size_t start, size_t end)
{
	size_t len = (end - start - 4 + 3) & ~(size_t)3;

	tdm_put_be16(p + start + 2, (uint16_t)len);
	return start + 4 + len;
}

size_t tdm__xcopy_vpd(const struct tdm_lu *lu, uint8_t *p)
{
	static const uint8_t cmds[] = {
		0x83,
		1,
		0x00, /* EXTENDED COPY (LID1) */
		0x84,
		4,
		RCR_COPY_STATUS,
		RCR_RECEIVE_DATA,
		RCR_OP_PARAMS,
		RCR_FAILED_SEGMENT, /* RECEIVE COPY RESULTS */
	};
	static const uint8_t descs[] = {SEG_B2B, SEG_B2B_OFF, CSCD_IDENT};
	size_t n = 4, s;

	/* SPC-4 7.8.17: Supported Commands (0001h) */
	s = n;
	tdm_put_be16(p + s, 0x0001);
	p[s + 4] = sizeof(cmds);
	memcpy(p + s + 5, cmds, sizeof(cmds));
	n = tpc_close(p, s, s + 5 + sizeof(cmds));
	/* Parameter Data (0004h) */
	s = n;
	tdm_put_be16(p + s, 0x0004);
	tdm_put_be16(p + s + 8, MAX_CSCD);
	tdm_put_be16(p + s + 10, MAX_SEGS);
	tdm_put_be32(p + s + 12, MAX_DESC_LIST);
	tdm_put_be32(p + s + 16, MAX_INLINE);
	n = tpc_close(p, s, s + 32);
	/* Supported Descriptors (0008h) */
	s = n;
	tdm_put_be16(p + s, 0x0008);
	p[s + 4] = sizeof(descs);
	memcpy(p + s + 5, descs, sizeof(descs));
	n = tpc_close(p, s, s + 5 + sizeof(descs));
	/* Supported CSCD Descriptor IDs (000Ch): none of the
	 * special ones (null LU, copy manager LU, ROD token) */
	s = n;
	tdm_put_be16(p + s, 0x000C);
	tdm_put_be16(p + s + 4, 0);
	n = tpc_close(p, s, s + 6);
	/* General Copy Operations (8001h) */
	s = n;
	tdm_put_be16(p + s, 0x8001);
	tdm_put_be32(p + s + 4, MAX_COPIES); /* TOTAL CONCURRENT COPIES */
	tdm_put_be32(p + s + 8, MAX_COPIES); /* MAX IDENTIFIED COPIES */
	tdm_put_be32(p + s + 12, MAX_SEG_BYTES);
	p[s + 16] = (uint8_t)lu->block_shift; /* DATA SEGMENT GRANULARITY */
	p[s + 17] = 0;			      /* INLINE DATA GRANULARITY */
	n = tpc_close(p, s, s + 32);
	return n;
}
