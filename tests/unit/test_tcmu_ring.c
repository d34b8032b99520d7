/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * test_tcmu_ring.c - the TCMU ring codec (kernel/tcmu_ring.c) on an area
 * laid out as target_core_user lays it out (tests/lib/tcmu_build.h):
 * the mailbox's checks, CMD entries with their CDB and iovecs, PAD at
 * the ring's end, TMR entries, every refusal tcmu_ring.h lists, and
 * out-of-order completion byte for byte (status, 96-byte sense,
 * read_len with TCMU_UFLAG_READ_LEN, the tail).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/tcmu_ring.h"
#include "tests/lib/tcmu_build.h"

#define FLAGS (TCMU_MAILBOX_FLAG_CAP_OOOC | TCMU_MAILBOX_FLAG_CAP_READ_LEN)

static const uint8_t READ10[10] = {0x28, 0, 0, 0, 0, 8, 0, 0, 2, 0};
static const uint8_t WRITE16[16] = {0x8a, 0, 0, 0, 0, 0, 0, 0,
				    0,	  9, 0, 0, 0, 1, 0, 0};
static const uint8_t TUR[6] = {0};

static void setup(struct tb_area *a, struct tdm_tcmu_ring *r, uint32_t cmdr)
{
	assert_int_equal(tb_init(a, cmdr, 65536, FLAGS), 0);
	assert_int_equal(tdm__tcmu_ring_init(r, a->base, a->size), TDM_TCMU_OK);
}

static struct tdm_tcmu_seg seg(struct tb_area *a, uint64_t at, uint64_t len)
{
	return (struct tdm_tcmu_seg){.off = a->data_off + at, .len = len};
}

static void test_mailbox(void **state)
{
	struct tdm_tcmu_ring r;
	struct tb_area a;
	struct tcmu_mailbox *mb;
	int bad = 0;

	(void)state;
	assert_int_equal(tb_init(&a, 4096, 4096, FLAGS), 0);
	mb = tb_mb(&a);
	assert_int_equal(tdm__tcmu_ring_init(&r, a.base, a.size), TDM_TCMU_OK);
	assert_int_equal(r.data_off, 128 + 4096);
	assert_int_equal(r.flags, FLAGS);
	/* each field spoilt in turn */
	mb->version = 1;
	bad += tdm__tcmu_ring_init(&r, a.base, a.size) == TDM_TCMU_E_MAILBOX;
	mb->version = 2;
	mb->cmdr_off = 64; /* inside the mailbox */
	bad += tdm__tcmu_ring_init(&r, a.base, a.size) == TDM_TCMU_E_MAILBOX;
	mb->cmdr_off = 132; /* not 8-aligned */
	bad += tdm__tcmu_ring_init(&r, a.base, a.size) == TDM_TCMU_E_MAILBOX;
	mb->cmdr_off = 128;
	mb->cmdr_size = 4096 + 4096 + 8; /* past the area */
	bad += tdm__tcmu_ring_init(&r, a.base, a.size) == TDM_TCMU_E_MAILBOX;
	mb->cmdr_size = 4096;
	mb->cmd_tail = 4096; /* outside the ring */
	bad += tdm__tcmu_ring_init(&r, a.base, a.size) == TDM_TCMU_E_MAILBOX;
	mb->cmd_tail = 12;
	bad += tdm__tcmu_ring_init(&r, a.base, a.size) == TDM_TCMU_E_MAILBOX;
	mb->cmd_tail = 0;
	bad += tdm__tcmu_ring_init(&r, a.base, 100) == TDM_TCMU_E_MAILBOX;
	assert_int_equal(bad, 7);
	print_message("mailbox: 7 of 7 spoilt mailboxes refused\n");
	free(a.base);
}

static void test_cmd_read(void **state)
{
	struct tdm_tcmu_seg s[2], g;
	struct tdm_tcmu_entry e;
	struct tdm_tcmu_ring r;
	struct tb_area a;

	(void)state;
	setup(&a, &r, 4096);
	assert_int_equal(tdm__tcmu_ring_next(&r, &e), TDM_TCMU_EMPTY);
	s[0] = seg(&a, 0, 4096);
	s[1] = seg(&a, 8192, 4096);
	tb_cmd(&a, 7, READ10, sizeof(READ10), s, 2, 0);
	assert_int_equal(tdm__tcmu_ring_next(&r, &e), TDM_TCMU_OK);
	assert_int_equal(e.op, TCMU_OP_CMD);
	assert_int_equal(e.cmd_id, 7);
	assert_int_equal(e.off, 0);
	assert_int_equal(e.cdb_len, 10);
	assert_memory_equal(e.cdb, READ10, 10);
	assert_int_equal(e.iov_cnt, 2);
	assert_int_equal(e.bidi_cnt, 0);
	assert_int_equal(e.iov_len, 8192);
	assert_int_equal(tdm__tcmu_seg(&r, &e, 1, &g), TDM_TCMU_OK);
	assert_int_equal(g.off, a.data_off + 8192);
	assert_int_equal(g.len, 4096);
	assert_int_equal(tdm__tcmu_seg(&r, &e, 2, &g), TDM_TCMU_E_ARG);
	assert_int_equal(tdm__tcmu_ring_next(&r, &e), TDM_TCMU_EMPTY);
	print_message(
		"READ(10): id 7, 2 segments, 8192 bytes, entry %u bytes\n",
		e.len);
	free(a.base);
}

static void test_pad_and_bidi(void **state)
{
	struct tdm_tcmu_seg s[3];
	struct tdm_tcmu_entry e;
	struct tdm_tcmu_ring r;
	struct tb_area a;
	unsigned fetched = 0, pads = 0;

	(void)state;
	setup(&a, &r, 1000);
	s[0] = seg(&a, 0, 512);
	s[1] = seg(&a, 512, 512);
	s[2] = seg(&a, 1024, 100);
	/* fill the ring round twice, completing as we go: PAD entries
	 * appear where an entry does not fit before the end */
	for (uint16_t id = 1; id <= 40; id++) {
		uint32_t head = tb_mb(&a)->cmd_head, off;
		struct tdm_tcmu_status st = {.cmd_id = id};

		off = tb_cmd(&a, id, WRITE16, sizeof(WRITE16), s, 2, id % 2);
		pads += off < head;
		assert_int_equal(tdm__tcmu_ring_next(&r, &e), TDM_TCMU_OK);
		assert_int_equal(e.cmd_id, id);
		assert_int_equal(e.off, off);
		assert_int_equal(e.bidi_cnt, id % 2);
		assert_int_equal(e.iov_len, 1024);
		assert_int_equal(e.bidi_len, id % 2 ? 100 : 0);
		assert_int_equal(e.cdb_len, 16);
		fetched++;
		assert_int_equal(tdm__tcmu_complete(&r, &st), TDM_TCMU_OK);
		assert_int_equal(tb_mb(&a)->cmd_tail, tb_mb(&a)->cmd_head);
	}
	assert_true(pads >= 2);
	print_message("%u commands through a 1000-byte ring, %u PAD entries "
		      "skipped\n",
		      fetched, pads);
	free(a.base);
}

static void test_out_of_order(void **state)
{
	struct tdm_tcmu_seg s = {0};
	struct tdm_tcmu_entry e;
	struct tdm_tcmu_ring r;
	struct tb_area a;
	uint8_t sense[120];
	uint32_t off1, off2, rl;
	struct tcmu_cmd_entry_hdr h;
	struct tdm_tcmu_status st;

	(void)state;
	setup(&a, &r, 4096);
	s = seg(&a, 0, 4096);
	off1 = tb_cmd(&a, 1, READ10, sizeof(READ10), &s, 1, 0);
	off2 = tb_cmd(&a, 2, TUR, sizeof(TUR), NULL, 0, 0);
	st = (struct tdm_tcmu_status){.cmd_id = 2};
	/* nothing fetched: no slot */
	assert_int_equal(tdm__tcmu_complete(&r, &st), TDM_TCMU_E_NOSLOT);
	assert_int_equal(tdm__tcmu_ring_next(&r, &e), TDM_TCMU_OK);
	assert_int_equal(tdm__tcmu_ring_next(&r, &e), TDM_TCMU_OK);
	assert_int_equal(e.iov_cnt, 0);
	/* command 2 ends first: its status goes into slot 1 */
	for (size_t i = 0; i < sizeof(sense); i++)
		sense[i] = (uint8_t)(i + 1);
	st = (struct tdm_tcmu_status){.cmd_id = 2,
				      .scsi_status = 0x02,
				      .sense = sense,
				      .sense_len = sizeof(sense)};
	assert_int_equal(tdm__tcmu_complete(&r, &st), TDM_TCMU_OK);
	memcpy(&h, tb_ring(&a, off1), sizeof(h));
	assert_int_equal(h.cmd_id, 2);
	assert_int_equal(h.uflags, 0);
	assert_int_equal(
		tb_ring(&a,
			off1)[offsetof(struct tcmu_cmd_entry, rsp.scsi_status)],
		0x02);
	/* sense cut to 96 bytes */
	assert_memory_equal(tb_ring(&a, off1) + offsetof(struct tcmu_cmd_entry,
							 rsp.sense_buffer),
			    sense, 96);
	assert_int_equal(tb_mb(&a)->cmd_tail, off2);
	/* then command 1, a read of 512 of its 4096 bytes */
	st = (struct tdm_tcmu_status){
		.cmd_id = 1, .read_len_valid = true, .read_len = 512};
	assert_int_equal(tdm__tcmu_complete(&r, &st), TDM_TCMU_OK);
	memcpy(&h, tb_ring(&a, off2), sizeof(h));
	assert_int_equal(h.cmd_id, 1);
	assert_int_equal(h.uflags, TCMU_UFLAG_READ_LEN);
	memcpy(&rl,
	       tb_ring(&a, off2) +
		       offsetof(struct tcmu_cmd_entry, rsp.read_len),
	       4);
	assert_int_equal(rl, 512);
	assert_int_equal(tb_mb(&a)->cmd_tail, tb_mb(&a)->cmd_head);
	/* a third completion has no slot */
	assert_int_equal(tdm__tcmu_complete(&r, &st), TDM_TCMU_E_NOSLOT);
	/* a kernel without READ_LEN does not get the flag */
	r.flags = TCMU_MAILBOX_FLAG_CAP_OOOC;
	tb_cmd(&a, 3, READ10, sizeof(READ10), &s, 1, 0);
	assert_int_equal(tdm__tcmu_ring_next(&r, &e), TDM_TCMU_OK);
	st.cmd_id = 3;
	assert_int_equal(tdm__tcmu_complete(&r, &st), TDM_TCMU_OK);
	memcpy(&h, tb_ring(&a, e.off), sizeof(h));
	assert_int_equal(h.uflags, 0);
	print_message("out of order: 2 then 1 in slots 1 then 2, sense cut "
		      "to 96, read_len 512 flagged; no flag without "
		      "CAP_READ_LEN\n");
	free(a.base);
}

static void test_tmr(void **state)
{
	static const uint16_t ids[3] = {4, 9, 11};
	struct tdm_tcmu_entry e;
	struct tdm_tcmu_ring r;
	struct tb_area a;
	struct tdm_tcmu_status st = {.cmd_id = 5};
	uint16_t id;

	(void)state;
	setup(&a, &r, 4096);
	tb_tmr(&a, TCMU_TMR_ABORT_TASK, ids, 3);
	tb_cmd(&a, 5, TUR, sizeof(TUR), NULL, 0, 0);
	assert_int_equal(tdm__tcmu_ring_next(&r, &e), TDM_TCMU_OK);
	assert_int_equal(e.op, TCMU_OP_TMR);
	assert_int_equal(e.tmr_type, TCMU_TMR_ABORT_TASK);
	assert_int_equal(e.tmr_cnt, 3);
	assert_int_equal(tdm__tcmu_tmr_id(&r, &e, 2, &id), TDM_TCMU_OK);
	assert_int_equal(id, 11);
	assert_int_equal(tdm__tcmu_tmr_id(&r, &e, 3, &id), TDM_TCMU_E_ARG);
	assert_int_equal(tdm__tcmu_ring_next(&r, &e), TDM_TCMU_OK);
	assert_int_equal(e.cmd_id, 5);
	/* the TMR slot at the tail needs no answer: skipped */
	assert_int_equal(tdm__tcmu_complete(&r, &st), TDM_TCMU_OK);
	assert_int_equal(tb_mb(&a)->cmd_tail, tb_mb(&a)->cmd_head);
	print_message("TMR ABORT_TASK of 3 ids read, skipped by the "
		      "completion\n");
	free(a.base);
}

/* one entry spoilt, one refusal expected */
static enum tdm_tcmu_err spoil(int what)
{
	struct tdm_tcmu_seg s;
	struct tdm_tcmu_entry e;
	struct tdm_tcmu_ring r;
	struct tb_area a;
	enum tdm_tcmu_err err;
	uint32_t off, v32;
	uint64_t v64;
	uint8_t *p;

	tb_init(&a, 4096, 8192, FLAGS);
	tdm__tcmu_ring_init(&r, a.base, a.size);
	s = (struct tdm_tcmu_seg){.off = a.data_off, .len = 4096};
	off = tb_cmd(&a, 1, READ10, sizeof(READ10), &s, 1, 0);
	p = tb_ring(&a, off);
	switch (what) {
	case 0: /* length 0 */
		tb_hdr(&a, off, 0, TCMU_OP_CMD, 1);
		break;
	case 1: /* past the head */
		tb_hdr(&a, off, 4000, TCMU_OP_CMD, 1);
		break;
	case 2: /* opcode 5 */
		tb_hdr(&a, off, 128, 5, 1);
		break;
	case 3: /* an iovec past the area */
		v64 = a.size - 100;
		memcpy(p + offsetof(struct tcmu_cmd_entry, req.iov) + 0, &v64,
		       8);
		break;
	case 4: /* an iovec in the ring, not the data area */
		v64 = TB_CMDR_OFF;
		memcpy(p + offsetof(struct tcmu_cmd_entry, req.iov), &v64, 8);
		break;
	case 5: /* more iovecs than the entry holds */
		v32 = 1000;
		memcpy(p + offsetof(struct tcmu_cmd_entry, req.iov_cnt), &v32,
		       4);
		break;
	case 6: /* DIF iovecs */
		v32 = 1;
		memcpy(p + offsetof(struct tcmu_cmd_entry, req.iov_dif_cnt),
		       &v32, 4);
		break;
	case 7: /* the CDB outside the entry */
		v64 = TB_CMDR_OFF + 2048;
		memcpy(p + offsetof(struct tcmu_cmd_entry, req.cdb_off), &v64,
		       8);
		break;
	case 8: /* the CDB over the iovecs */
		v64 = TB_CMDR_OFF + off + 8;
		memcpy(p + offsetof(struct tcmu_cmd_entry, req.cdb_off), &v64,
		       8);
		break;
	case 9: /* head not aligned */
		tb_mb(&a)->cmd_head = 13;
		break;
	case 10: /* shorter than a response */
		tb_hdr(&a, off, 64, TCMU_OP_CMD, 1);
		tb_mb(&a)->cmd_head = 64;
		break;
	case 11: /* a CDB whose length runs past the entry: 16-byte
		  * opcode in the entry's last 8 bytes */
		v64 = TB_CMDR_OFF + off + 128 - 8;
		memcpy(p + offsetof(struct tcmu_cmd_entry, req.cdb_off), &v64,
		       8);
		p[128 - 8] = 0x88;
		break;
	default:
		break;
	}
	err = tdm__tcmu_ring_next(&r, &e);
	free(a.base);
	return err;
}

static void test_refusals(void **state)
{
	static const enum tdm_tcmu_err want[] = {
		TDM_TCMU_E_LEN,	    TDM_TCMU_E_LEN,   TDM_TCMU_E_OP,
		TDM_TCMU_E_IOV,	    TDM_TCMU_E_IOV,   TDM_TCMU_E_IOV_CNT,
		TDM_TCMU_E_IOV_CNT, TDM_TCMU_E_CDB,   TDM_TCMU_E_CDB,
		TDM_TCMU_E_HEAD,    TDM_TCMU_E_SHORT, TDM_TCMU_E_CDB,
	};
	unsigned n = sizeof(want) / sizeof(want[0]);

	(void)state;
	assert_int_equal(spoil(-1), TDM_TCMU_OK);
	for (unsigned i = 0; i < n; i++) {
		enum tdm_tcmu_err got = spoil((int)i);

		if (got != want[i])
			fail_msg("case %u: %s, want %s", i,
				 tdm__tcmu_err_str(got),
				 tdm__tcmu_err_str(want[i]));
	}
	print_message("refusals: %u of %u spoilt entries refused with the "
		      "expected error\n",
		      n, n);
}

static void test_copy(void **state)
{
	struct tdm_tcmu_ring r;
	struct tb_area a;
	struct tdm_tcmu_seg s[3];
	uint8_t in[300], out[300];

	(void)state;
	setup(&a, &r, 4096);
	s[0] = seg(&a, 100, 100);
	s[1] = seg(&a, 1000, 50);
	s[2] = seg(&a, 65536 - 150, 150);
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 7);
	assert_int_equal(tdm__tcmu_copy_to(&r, s, 3, in, 300), 300);
	assert_memory_equal(a.base + a.data_off + 1000, in + 100, 50);
	memset(out, 0, sizeof(out));
	assert_int_equal(tdm__tcmu_copy_from(&r, s, 3, out, 250), 250);
	assert_memory_equal(out, in, 250);
	/* zeroes where no data-in was produced: 120 bytes, the first
	 * segment and 20 of the second; the rest untouched */
	assert_int_equal(tdm__tcmu_zero(&r, s, 3, 120), 120);
	memset(out, 0, sizeof(out));
	assert_memory_equal(a.base + a.data_off + 100, out, 100);
	assert_memory_equal(a.base + a.data_off + 1000, out, 20);
	assert_memory_equal(a.base + a.data_off + 1020, in + 120, 30);
	assert_memory_equal(a.base + a.data_off + 65536 - 150, in + 150, 150);
	/* a segment past the area ends the copy */
	s[1].len = a.size;
	assert_int_equal(tdm__tcmu_copy_from(&r, s, 3, out, 300), 100);
	assert_int_equal(tdm__tcmu_zero(&r, s, 3, 300), 100);
	print_message("copy: 300 bytes over 3 segments both ways; 120 "
		      "zeroed; a bad segment stops at 100\n");
	free(a.base);
}

static void test_cdb_len(void **state)
{
	uint8_t c[16] = {0};

	(void)state;
	c[0] = 0x00;
	assert_int_equal(tdm__tcmu_cdb_len(c, 16), 6);
	c[0] = 0x28;
	assert_int_equal(tdm__tcmu_cdb_len(c, 16), 10);
	c[0] = 0x5a;
	assert_int_equal(tdm__tcmu_cdb_len(c, 16), 10);
	c[0] = 0x88;
	assert_int_equal(tdm__tcmu_cdb_len(c, 16), 16);
	c[0] = 0xa0;
	assert_int_equal(tdm__tcmu_cdb_len(c, 16), 12);
	c[0] = 0x7f;
	c[7] = 0x18;
	assert_int_equal(tdm__tcmu_cdb_len(c, 16), 32);
	assert_int_equal(tdm__tcmu_cdb_len(c, 4), 0);
	c[0] = 0x60; /* group 3: reserved */
	assert_int_equal(tdm__tcmu_cdb_len(c, 16), 0);
	print_message("CDB lengths: 6 10 10 16 12 32, reserved group 0\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mailbox),
		cmocka_unit_test(test_cmd_read),
		cmocka_unit_test(test_pad_and_bidi),
		cmocka_unit_test(test_out_of_order),
		cmocka_unit_test(test_tmr),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_copy),
		cmocka_unit_test(test_cdb_len),
	};

	return cmocka_run_group_tests(tests, NULL, NULL) ? 1 : 0;
}
