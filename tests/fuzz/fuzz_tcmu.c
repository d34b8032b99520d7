/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fuzz_tcmu.c - libFuzzer target for the TCMU ring codec
 * (kernel/tcmu_ring.c): the input is a whole mmapped area as the kernel
 * shares it (the mailbox at 0, the command ring, the data area), copied
 * into a buffer of exactly its size so that ASan sees any access past
 * it. Every entry is fetched as tcmu.c fetches them, then every command
 * completed, out of order (the last fetched first), and one completion
 * more than there were commands.
 *
 * Checked, abort on a violation: a CMD's CDB lies inside its entry and
 * after its iovecs, has the length its opcode says and at most 32
 * bytes; each segment lies inside the data area and they add up to the
 * lengths the entry reports; the entry lies inside the ring; every CDB
 * and data byte is read and the data written back (copy_from, copy_to);
 * each completion moves the tail forward inside the ring, never past
 * the last entry fetched; the extra completion is refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/tcmu_ring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_CMDS 512

static void fail(const char *what) __attribute__((noreturn));

static void fail(const char *what)
{
	fprintf(stderr, "fuzz_tcmu: %s\n", what);
	abort();
}

static volatile uint8_t sink;

static void check_cmd(struct tdm_tcmu_ring *r, const struct tdm_tcmu_entry *e)
{
	uint64_t start = (uint64_t)r->cmdr_off + e->off, end = start + e->len;
	uint64_t sum[2] = {0, 0};
	uint8_t x = 0, *tmp;
	uint32_t n = e->iov_cnt + e->bidi_cnt;
	struct tdm_tcmu_seg *segs;
	size_t cap;

	if (e->off >= r->cmdr_size || e->len > r->cmdr_size - e->off)
		fail("entry outside the ring");
	if ((uint64_t)(e->cdb - r->base) < start ||
	    (uint64_t)(e->cdb - r->base) + e->cdb_len > end)
		fail("CDB outside its entry");
	if (!e->cdb_len || e->cdb_len > 32 ||
	    tdm__tcmu_cdb_len(e->cdb, e->cdb_len) != e->cdb_len)
		fail("CDB length");
	for (unsigned i = 0; i < e->cdb_len; i++)
		x ^= e->cdb[i];
	segs = calloc(n ? n : 1, sizeof(*segs));
	if (!segs)
		return;
	for (uint32_t i = 0; i < n; i++) {
		if (tdm__tcmu_seg(r, e, i, &segs[i]) != TDM_TCMU_OK)
			fail("a segment of an accepted entry refused");
		if (segs[i].off < r->data_off || segs[i].off > r->size ||
		    segs[i].len > r->size - segs[i].off)
			fail("segment outside the data area");
		sum[i >= e->iov_cnt] += segs[i].len;
	}
	if (sum[0] != e->iov_len || sum[1] != e->bidi_len)
		fail("segment lengths do not add up");
	cap = e->iov_len < (1u << 20) ? (size_t)e->iov_len : 1u << 20;
	tmp = malloc(cap ? cap : 1);
	if (tmp) {
		size_t got = tdm__tcmu_copy_from(r, segs, e->iov_cnt, tmp, cap);

		if (got != cap)
			fail("copy_from short of the entry's length");
		for (size_t i = 0; i < got; i++)
			x ^= tmp[i];
		if (tdm__tcmu_copy_to(r, segs, e->iov_cnt, tmp, got) != got)
			fail("copy_to short");
		free(tmp);
	}
	free(segs);
	sink = x;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint16_t ids[MAX_CMDS];
	struct tdm_tcmu_entry e;
	struct tdm_tcmu_ring r;
	enum tdm_tcmu_err err;
	unsigned n = 0;
	uint8_t *area;

	if (!size)
		return 0;
	area = malloc(size);
	if (!area)
		return 0;
	memcpy(area, data, size);
	if (tdm__tcmu_ring_init(&r, area, size) != TDM_TCMU_OK)
		goto out;
	if (r.data_off > size || r.cmdr_off + (size_t)r.cmdr_size > size)
		fail("ring outside the area");
	for (unsigned k = 0; k < 4 * MAX_CMDS && n < MAX_CMDS; k++) {
		err = tdm__tcmu_ring_next(&r, &e);
		if (err != TDM_TCMU_OK)
			break;
		if (r.next >= r.cmdr_size || r.next % 8)
			fail("position outside the ring");
		if (e.op == TCMU_OP_CMD) {
			check_cmd(&r, &e);
			ids[n++] = e.cmd_id;
		} else if (e.op == TCMU_OP_TMR) {
			uint16_t id;

			for (uint32_t i = 0; i < e.tmr_cnt && i < 64; i++)
				if (tdm__tcmu_tmr_id(&r, &e, i, &id) !=
				    TDM_TCMU_OK)
					fail("a TMR id of an accepted entry");
		} else {
			fail("an entry that is neither CMD nor TMR");
		}
	}
	/* out of order: the last fetched first */
	for (unsigned i = n; i-- > 0;) {
		struct tcmu_mailbox *mb = (void *)area;
		static const uint8_t sense[100] = {0x70, 0, 5};
		struct tdm_tcmu_status st = {
			.cmd_id = ids[i],
			.scsi_status = (uint8_t)(i & 1 ? 2 : 0),
			.sense = sense,
			.sense_len = i % 3 ? 18 : sizeof(sense),
			.read_len_valid = i & 2,
			.read_len = i,
		};
		err = tdm__tcmu_complete(&r, &st);
		if (err != TDM_TCMU_OK)
			fail("completion of a fetched command refused");
		if (mb->cmd_tail >= r.cmdr_size || mb->cmd_tail % 8)
			fail("tail outside the ring");
	}
	{
		struct tdm_tcmu_status st = {.cmd_id = 1};

		if (tdm__tcmu_complete(&r, &st) == TDM_TCMU_OK)
			fail("a completion without a command accepted");
	}
out:
	free(area);
	return 0;
}
