/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tcmu_build.h - a TCMU area laid out as the kernel lays it out
 * (drivers/target/target_core_user.c: the mailbox, the command ring
 * after it, the data area after the ring; queue_cmd_ring and
 * ring_insert_padding for entries), for the ring codec's unit test and
 * the fuzz seeds (tests/unit/test_tcmu_ring.c,
 * tests/fuzz/mkseeds_tcmu.c). Written from the kernel's description, as
 * the kernel's side; nothing here is tandem's.
 */
#ifndef TANDEM_TESTS_TCMU_BUILD_H
#define TANDEM_TESTS_TCMU_BUILD_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/tcmu_ring.h"

#define TB_CMDR_OFF 128u /* sizeof(struct tcmu_mailbox) */

struct tb_area {
	uint8_t *base;
	size_t size;
	uint32_t cmdr_size;
	size_t data_off;
};

static inline struct tcmu_mailbox *tb_mb(struct tb_area *a)
{
	return (struct tcmu_mailbox *)(void *)a->base;
}

/* a zeroed area: mailbox version 2 with flags, ring, data */
static inline int tb_init(struct tb_area *a, uint32_t cmdr_size,
			  size_t data_size, uint16_t flags)
{
	struct tcmu_mailbox mb;

	a->cmdr_size = cmdr_size;
	a->data_off = TB_CMDR_OFF + cmdr_size;
	a->size = a->data_off + data_size;
	a->base = calloc(1, a->size);
	if (!a->base)
		return -1;
	memset(&mb, 0, sizeof(mb));
	mb.version = TCMU_MAILBOX_VERSION;
	mb.flags = flags;
	mb.cmdr_off = TB_CMDR_OFF;
	mb.cmdr_size = cmdr_size;
	memcpy(a->base, &mb, sizeof(mb));
	return 0;
}

static inline uint8_t *tb_ring(struct tb_area *a, uint32_t off)
{
	return a->base + TB_CMDR_OFF + off;
}

static inline void tb_hdr(struct tb_area *a, uint32_t off, uint32_t len,
			  uint8_t op, uint16_t cmd_id)
{
	struct tcmu_cmd_entry_hdr h;

	memset(&h, 0, sizeof(h));
	h.len_op = len | op;
	h.cmd_id = cmd_id;
	memcpy(tb_ring(a, off), &h, sizeof(h));
}

/* room for len bytes at the head: a PAD to the ring's end first if the
 * entry would not fit there (ring_insert_padding); the head's offset */
static inline uint32_t tb_reserve(struct tb_area *a, uint32_t len)
{
	struct tcmu_mailbox *mb = tb_mb(a);
	uint32_t head = mb->cmd_head;

	if (head + len > a->cmdr_size) {
		tb_hdr(a, head, a->cmdr_size - head, TCMU_OP_PAD, 0);
		head = 0;
	}
	return head;
}

static inline void tb_advance(struct tb_area *a, uint32_t head, uint32_t len)
{
	tb_mb(a)->cmd_head = (head + len) % a->cmdr_size;
}

/* A CMD entry: iovecs (offsets from the area's start) then the CDB,
 * rounded up to 8 bytes with at least the response's room. Returns the
 * entry's ring offset. */
static inline uint32_t tb_cmd(struct tb_area *a, uint16_t cmd_id,
			      const uint8_t *cdb, size_t cdb_len,
			      const struct tdm_tcmu_seg *seg, uint32_t nseg,
			      uint32_t nbidi)
{
	size_t iov_end =
		offsetof(struct tcmu_cmd_entry, req.iov) +
		(size_t)(nseg + nbidi) * sizeof(struct tdm_linux_iovec);
	size_t base = iov_end < sizeof(struct tcmu_cmd_entry)
			      ? sizeof(struct tcmu_cmd_entry)
			      : iov_end;
	uint32_t len, off;
	uint64_t cdb_off;
	uint8_t *e;

	base = (base + 7) & ~(size_t)7;
	len = (uint32_t)((base + cdb_len + 7) & ~(size_t)7);
	off = tb_reserve(a, len);
	e = tb_ring(a, off);
	memset(e, 0, len);
	tb_hdr(a, off, len, TCMU_OP_CMD, cmd_id);
	memcpy(e + offsetof(struct tcmu_cmd_entry, req.iov_cnt), &nseg, 4);
	memcpy(e + offsetof(struct tcmu_cmd_entry, req.iov_bidi_cnt), &nbidi,
	       4);
	for (uint32_t i = 0; i < nseg + nbidi; i++) {
		uint8_t *v = e + offsetof(struct tcmu_cmd_entry, req.iov) +
			     (size_t)i * sizeof(struct tdm_linux_iovec);

		memcpy(v, &seg[i].off, 8);
		memcpy(v + 8, &seg[i].len, 8);
	}
	cdb_off = TB_CMDR_OFF + off + base;
	memcpy(e + offsetof(struct tcmu_cmd_entry, req.cdb_off), &cdb_off, 8);
	memcpy(e + base, cdb, cdb_len);
	tb_advance(a, off, len);
	return off;
}

/* A TMR entry listing cmd_ids */
static inline uint32_t tb_tmr(struct tb_area *a, uint8_t type,
			      const uint16_t *ids, uint32_t n)
{
	uint32_t len = (uint32_t)((sizeof(struct tcmu_tmr_entry) + 2u * n + 7) &
				  ~(size_t)7);
	uint32_t off = tb_reserve(a, len);
	uint8_t *e = tb_ring(a, off);

	memset(e, 0, len);
	tb_hdr(a, off, len, TCMU_OP_TMR, 0);
	e[offsetof(struct tcmu_tmr_entry, tmr_type)] = type;
	memcpy(e + offsetof(struct tcmu_tmr_entry, cmd_cnt), &n, 4);
	memcpy(e + offsetof(struct tcmu_tmr_entry, cmd_ids), ids, 2u * n);
	tb_advance(a, off, len);
	return off;
}

#endif
