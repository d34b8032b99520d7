/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tcmu_ring.c - the TCMU command ring codec (kernel/tcmu_ring.h).
 *
 * The layout is <linux/target_core_user.h>'s, read through memcpy (the
 * entries are packed: an iovec sits at a 4- or 8-byte offset). The
 * mailbox's cmd_head is written by the kernel and cmd_tail by us: both
 * are accessed atomically (acquire / release), the rest of the ring is
 * ordered by them.
 */
#include <stddef.h>
#include <string.h>

#include "kernel/tcmu_ring.h"

/* the fixed parts, from the kernel's own structures */
#define MB_LEN sizeof(struct tcmu_mailbox)
#define HDR_LEN sizeof(struct tcmu_cmd_entry_hdr)
#define ENTRY_MIN sizeof(struct tcmu_cmd_entry) /* room for the response */
#define IOV_OFF offsetof(struct tcmu_cmd_entry, req.iov)
#define IOV_LEN sizeof(struct tdm_linux_iovec) /* base, len */
#define TMR_IDS_OFF offsetof(struct tcmu_tmr_entry, cmd_ids)
#define ALIGN TCMU_OP_ALIGN_SIZE
#define CDB_MAX 32 /* the longest CDB LIO passes (TCM_MAX_COMMAND_SIZE) */

static const char *const err_names[TDM__TCMU_ERR_COUNT] = {
	[TDM_TCMU_OK] = "ok",
	[TDM_TCMU_EMPTY] = "empty",
	[TDM_TCMU_E_MAILBOX] = "mailbox",
	[TDM_TCMU_E_HEAD] = "cmd_head",
	[TDM_TCMU_E_LEN] = "entry length",
	[TDM_TCMU_E_OP] = "unknown entry opcode",
	[TDM_TCMU_E_SHORT] = "entry too short",
	[TDM_TCMU_E_IOV_CNT] = "iovec count",
	[TDM_TCMU_E_IOV] = "iovec outside the data area",
	[TDM_TCMU_E_CDB] = "CDB",
	[TDM_TCMU_E_NOSLOT] = "completion without a command slot",
	[TDM_TCMU_E_ARG] = "argument",
};

const char *tdm__tcmu_err_str(enum tdm_tcmu_err e)
{
	if ((unsigned)e >= TDM__TCMU_ERR_COUNT)
		return "?";
	return err_names[e];
}

static uint32_t mb_head(const struct tdm_tcmu_ring *r)
{
	const struct tcmu_mailbox *mb = (const void *)r->base;

	return __atomic_load_n(&mb->cmd_head, __ATOMIC_ACQUIRE);
}

static uint32_t mb_tail(const struct tdm_tcmu_ring *r)
{
	const struct tcmu_mailbox *mb = (const void *)r->base;

	return __atomic_load_n(&mb->cmd_tail, __ATOMIC_RELAXED);
}

static void mb_set_tail(struct tdm_tcmu_ring *r, uint32_t tail)
{
	struct tcmu_mailbox *mb = (void *)r->base;

	__atomic_store_n(&mb->cmd_tail, tail, __ATOMIC_RELEASE);
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* a position in the ring (head, tail): inside it, aligned */
static bool pos_ok(const struct tdm_tcmu_ring *r, uint32_t pos)
{
	return pos < r->cmdr_size && pos % ALIGN == 0;
}

/* ring offset off as a pointer: the caller checked off < cmdr_size */
static uint8_t *at(const struct tdm_tcmu_ring *r, uint32_t off)
{
	return r->base + r->cmdr_off + off;
}

enum tdm_tcmu_err tdm__tcmu_ring_init(struct tdm_tcmu_ring *r, void *base,
				      size_t size)
{
	struct tcmu_mailbox mb;
	uint32_t tail;

	memset(r, 0, sizeof(*r));
	if (!base || size < MB_LEN)
		return TDM_TCMU_E_MAILBOX;
	memcpy(&mb, base, MB_LEN);
	if (mb.version != TCMU_MAILBOX_VERSION)
		return TDM_TCMU_E_MAILBOX;
	/* the ring after the mailbox, aligned, at least one entry long,
	 * inside the area */
	if (mb.cmdr_off < MB_LEN || mb.cmdr_off % ALIGN ||
	    mb.cmdr_size < ENTRY_MIN || mb.cmdr_size % ALIGN ||
	    (uint64_t)mb.cmdr_off + mb.cmdr_size > size)
		return TDM_TCMU_E_MAILBOX;
	r->base = base;
	r->size = size;
	r->cmdr_off = mb.cmdr_off;
	r->cmdr_size = mb.cmdr_size;
	r->data_off = (size_t)mb.cmdr_off + mb.cmdr_size;
	r->flags = mb.flags;
	tail = mb_tail(r);
	if (!pos_ok(r, tail)) {
		r->base = NULL;
		return TDM_TCMU_E_MAILBOX;
	}
	r->next = tail;
	return TDM_TCMU_OK;
}

unsigned tdm__tcmu_cdb_len(const uint8_t *cdb, size_t n)
{
	/* SPC-4 4.2.5.1, table 6: CDB length by group code */
	static const uint8_t by_group[8] = {6, 10, 10, 0, 16, 12, 0, 0};
	unsigned g;

	if (n < 1)
		return 0;
	if (cdb[0] == 0x7f) {
		/* SPC-4 4.2.5.4: variable length, 8 + ADDITIONAL CDB LENGTH */
		if (n < 8)
			return 0;
		return 8u + cdb[7];
	}
	g = cdb[0] >> 5;
	/* groups 3, 6 and 7: reserved / vendor specific; the kernel's
	 * COMMAND_SIZE() says 10 for 6 and 7 */
	if (g == 6 || g == 7)
		return 10;
	return by_group[g];
}

/* bytes from a to b going forward round the ring */
static uint32_t dist(const struct tdm_tcmu_ring *r, uint32_t a, uint32_t b)
{
	return b >= a ? b - a : r->cmdr_size - a + b;
}

/* an entry of len bytes at ring offset off, before limit (the head, or
 * our position): non-zero, aligned, not wrapping, not past limit */
static bool entry_fits(const struct tdm_tcmu_ring *r, uint32_t off,
		       uint32_t len, uint32_t limit)
{
	return len >= HDR_LEN && len % ALIGN == 0 &&
	       len <= r->cmdr_size - off && len <= dist(r, off, limit);
}

static bool seg_ok(const struct tdm_tcmu_ring *r, const struct tdm_tcmu_seg *s)
{
	return s->off >= r->data_off && s->off <= r->size &&
	       s->len <= r->size - s->off;
}

static enum tdm_tcmu_err seg_at(const struct tdm_tcmu_ring *r,
				const struct tdm_tcmu_entry *e, uint32_t i,
				struct tdm_tcmu_seg *s)
{
	const uint8_t *p = at(r, e->off) + IOV_OFF + (size_t)i * IOV_LEN;

	s->off = get64(p);
	s->len = get64(p + 8);
	return seg_ok(r, s) ? TDM_TCMU_OK : TDM_TCMU_E_IOV;
}

static enum tdm_tcmu_err parse_cmd(const struct tdm_tcmu_ring *r,
				   struct tdm_tcmu_entry *e)
{
	const uint8_t *p = at(r, e->off);
	uint64_t start = (uint64_t)r->cmdr_off + e->off, end = start + e->len;
	uint64_t nseg, cdb_off, sum = 0;
	uint32_t dif;
	unsigned len;

	if (e->len < ENTRY_MIN)
		return TDM_TCMU_E_SHORT;
	e->iov_cnt = get32(p + offsetof(struct tcmu_cmd_entry, req.iov_cnt));
	e->bidi_cnt =
		get32(p + offsetof(struct tcmu_cmd_entry, req.iov_bidi_cnt));
	dif = get32(p + offsetof(struct tcmu_cmd_entry, req.iov_dif_cnt));
	if (dif) /* tandem asks for no protection information */
		return TDM_TCMU_E_IOV_CNT;
	nseg = (uint64_t)e->iov_cnt + e->bidi_cnt;
	if (IOV_OFF + nseg * IOV_LEN > e->len)
		return TDM_TCMU_E_IOV_CNT;
	for (uint32_t i = 0; i < nseg; i++) {
		struct tdm_tcmu_seg s;

		if (seg_at(r, e, i, &s) != TDM_TCMU_OK)
			return TDM_TCMU_E_IOV;
		if (i == e->iov_cnt) {
			e->iov_len = sum;
			sum = 0;
		}
		sum += s.len; /* each below the area's size: no overflow */
	}
	if (e->bidi_cnt)
		e->bidi_len = sum;
	else
		e->iov_len = sum;
	if (e->iov_len > UINT32_MAX || e->bidi_len > UINT32_MAX)
		return TDM_TCMU_E_IOV;
	/* the CDB: inside this entry, after its iovecs (all offsets are
	 * from the area's start) */
	cdb_off = get64(p + offsetof(struct tcmu_cmd_entry, req.cdb_off));
	if (cdb_off < start + IOV_OFF + nseg * IOV_LEN || cdb_off >= end)
		return TDM_TCMU_E_CDB;
	e->cdb = r->base + cdb_off;
	len = tdm__tcmu_cdb_len(e->cdb, (size_t)(end - cdb_off));
	if (!len || len > CDB_MAX || len > end - cdb_off)
		return TDM_TCMU_E_CDB;
	e->cdb_len = (uint8_t)len;
	return TDM_TCMU_OK;
}

static enum tdm_tcmu_err parse_tmr(const struct tdm_tcmu_ring *r,
				   struct tdm_tcmu_entry *e)
{
	const uint8_t *p = at(r, e->off);

	if (e->len < TMR_IDS_OFF)
		return TDM_TCMU_E_SHORT;
	e->tmr_type = p[offsetof(struct tcmu_tmr_entry, tmr_type)];
	e->tmr_cnt = get32(p + offsetof(struct tcmu_tmr_entry, cmd_cnt));
	if (TMR_IDS_OFF + (uint64_t)e->tmr_cnt * 2 > e->len)
		return TDM_TCMU_E_SHORT;
	return TDM_TCMU_OK;
}

enum tdm_tcmu_err tdm__tcmu_ring_next(struct tdm_tcmu_ring *r,
				      struct tdm_tcmu_entry *e)
{
	uint32_t head, len_op, len;
	enum tdm_tcmu_err err;
	uint8_t op;

	if (!r->base)
		return TDM_TCMU_E_ARG;
	head = mb_head(r);
	if (!pos_ok(r, head))
		return TDM_TCMU_E_HEAD;
	for (;;) {
		const uint8_t *p;

		if (r->next == head)
			return TDM_TCMU_EMPTY;
		/* next is aligned and below cmdr_size, so the 8-byte header
		 * is inside the ring */
		p = at(r, r->next);
		len_op = get32(p);
		len = tcmu_hdr_get_len(len_op);
		op = (uint8_t)tcmu_hdr_get_op(len_op);
		/* an entry never wraps: it ends at or before the ring's end,
		 * and at or before the head */
		if (!entry_fits(r, r->next, len, head))
			return TDM_TCMU_E_LEN;
		if (op == TCMU_OP_PAD) {
			r->next = (r->next + len) % r->cmdr_size;
			continue;
		}
		break;
	}
	memset(e, 0, sizeof(*e));
	e->op = op;
	e->off = r->next;
	e->len = len;
	memcpy(&e->cmd_id,
	       at(r, r->next) + offsetof(struct tcmu_cmd_entry_hdr, cmd_id),
	       sizeof(e->cmd_id));
	if (op == TCMU_OP_CMD)
		err = parse_cmd(r, e);
	else if (op == TCMU_OP_TMR)
		err = parse_tmr(r, e);
	else
		err = TDM_TCMU_E_OP;
	if (err != TDM_TCMU_OK)
		return err;
	r->next = (r->next + len) % r->cmdr_size;
	return TDM_TCMU_OK;
}

enum tdm_tcmu_err tdm__tcmu_seg(const struct tdm_tcmu_ring *r,
				const struct tdm_tcmu_entry *e, uint32_t i,
				struct tdm_tcmu_seg *s)
{
	if (e->op != TCMU_OP_CMD ||
	    (uint64_t)i >= (uint64_t)e->iov_cnt + e->bidi_cnt)
		return TDM_TCMU_E_ARG;
	if (e->off >= r->cmdr_size || e->len > r->cmdr_size - e->off ||
	    IOV_OFF + ((uint64_t)i + 1) * IOV_LEN > e->len)
		return TDM_TCMU_E_ARG;
	return seg_at(r, e, i, s);
}

enum tdm_tcmu_err tdm__tcmu_tmr_id(const struct tdm_tcmu_ring *r,
				   const struct tdm_tcmu_entry *e, uint32_t i,
				   uint16_t *id)
{
	const uint8_t *p;

	if (e->op != TCMU_OP_TMR || i >= e->tmr_cnt || e->off >= r->cmdr_size ||
	    e->len > r->cmdr_size - e->off ||
	    TMR_IDS_OFF + ((uint64_t)i + 1) * 2 > e->len)
		return TDM_TCMU_E_ARG;
	p = at(r, e->off) + TMR_IDS_OFF + (size_t)i * 2;
	memcpy(id, p, 2);
	return TDM_TCMU_OK;
}

/* both directions: buf is the core's buffer, the segments the area's;
 * into the area without a buffer: zeroes */
static size_t copy(const struct tdm_tcmu_ring *r, const struct tdm_tcmu_seg *s,
		   uint32_t n, uint8_t *buf, size_t len, bool to_area)
{
	size_t done = 0;

	for (uint32_t i = 0; i < n && done < len; i++) {
		uint8_t *area;
		size_t k;

		if (!seg_ok(r, &s[i]))
			break;
		area = r->base + s[i].off;
		k = s[i].len < len - done ? (size_t)s[i].len : len - done;
		if (to_area && !buf)
			memset(area, 0, k);
		else if (to_area)
			memcpy(area, buf + done, k);
		else
			memcpy(buf + done, area, k);
		done += k;
	}
	return done;
}

size_t tdm__tcmu_copy_from(const struct tdm_tcmu_ring *r,
			   const struct tdm_tcmu_seg *s, uint32_t n,
			   uint8_t *buf, size_t len)
{
	return copy(r, s, n, buf, len, false);
}

size_t tdm__tcmu_copy_to(const struct tdm_tcmu_ring *r,
			 const struct tdm_tcmu_seg *s, uint32_t n,
			 const uint8_t *buf, size_t len)
{
	/* copy() writes only into the area when to_area is set */
	return copy(r, s, n, (uint8_t *)(uintptr_t)buf, len, true);
}

size_t tdm__tcmu_zero(const struct tdm_tcmu_ring *r,
		      const struct tdm_tcmu_seg *s, uint32_t n, size_t len)
{
	return copy(r, s, n, NULL, len, true);
}

enum tdm_tcmu_err tdm__tcmu_complete(struct tdm_tcmu_ring *r,
				     const struct tdm_tcmu_status *st)
{
	struct tcmu_cmd_entry_hdr hdr;
	uint32_t tail, len;
	uint8_t *p;
	size_t n;

	tail = r->base ? mb_tail(r) : 0;
	if (!r->base || !pos_ok(r, tail))
		return TDM_TCMU_E_NOSLOT;
	/* the slots from the tail up to our position were all fetched, so
	 * their lengths were checked then */
	for (;;) {
		if (tail == r->next)
			return TDM_TCMU_E_NOSLOT;
		p = at(r, tail);
		memcpy(&hdr, p, HDR_LEN);
		len = tcmu_hdr_get_len(hdr.len_op);
		if (len < HDR_LEN || len % ALIGN || len > r->cmdr_size - tail ||
		    len > dist(r, tail, r->next))
			return TDM_TCMU_E_LEN;
		if (tcmu_hdr_get_op(hdr.len_op) == TCMU_OP_CMD)
			break;
		tail = (tail + len) % r->cmdr_size;
	}
	if (len < ENTRY_MIN)
		return TDM_TCMU_E_SHORT;
	hdr.cmd_id = st->cmd_id;
	hdr.uflags = 0;
	if (st->read_len_valid && (r->flags & TCMU_MAILBOX_FLAG_CAP_READ_LEN))
		hdr.uflags |= TCMU_UFLAG_READ_LEN;
	memcpy(p, &hdr, HDR_LEN);
	p[offsetof(struct tcmu_cmd_entry, rsp.scsi_status)] = st->scsi_status;
	if (hdr.uflags & TCMU_UFLAG_READ_LEN)
		memcpy(p + offsetof(struct tcmu_cmd_entry, rsp.read_len),
		       &st->read_len, sizeof(st->read_len));
	n = st->sense_len < TCMU_SENSE_BUFFERSIZE ? st->sense_len
						  : TCMU_SENSE_BUFFERSIZE;
	memset(p + offsetof(struct tcmu_cmd_entry, rsp.sense_buffer), 0,
	       TCMU_SENSE_BUFFERSIZE);
	if (n && st->sense)
		memcpy(p + offsetof(struct tcmu_cmd_entry, rsp.sense_buffer),
		       st->sense, n);
	mb_set_tail(r, (tail + len) % r->cmdr_size);
	return TDM_TCMU_OK;
}
