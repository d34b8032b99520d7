/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * test_caw.c - COMPARE AND WRITE, ORWRITE, WRITE ATOMIC, the LBA range
 * locks behind them, EXTENDED COPY and RECEIVE COPY RESULTS, driven
 * through the real command gate: ram and file LUs, test nexuses from
 * scsi/target.c, and a transport that records what queue_status() saw.
 * The atomicity test runs two event loops on two threads.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "scsi/scsi_int.h"
#include "lib/loop.h"
#include "gate_harness.h"

#define expect_miscompare() expect_sense(0xE, 0x1D, 0x00)

struct fix {
	struct tdm_lu *lu[2]; /* 512-byte blocks, 16 MiB each */
	struct tdm_nexus *nx; /* sees lu[0] at LUN 0, lu[1] at LUN 1 */
	struct tdm_nexus *nx2;
};

static int fix_setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->lu[0] = ram_lu("caw0", 16 * MiB, 512);
	f->lu[1] = ram_lu("caw1", 16 * MiB, 512);
	f->nx = tdm__test_nexus(f->lu, 2, &tops);
	f->nx2 = tdm__test_nexus(f->lu, 2, &tops);
	assert_non_null(f->nx);
	assert_non_null(f->nx2);
	*state = f;
	return 0;
}

static int fix_teardown(void **state)
{
	struct fix *f = *state;

	tdm__test_nexus_free(f->nx);
	tdm__test_nexus_free(f->nx2);
	tdm__lu_put(f->lu[0]);
	tdm__lu_put(f->lu[1]);
	free(f);
	result_free();
	return 0;
}

/* ---- CDB builders ---- */

static void cdb16(uint8_t *c, uint8_t op, uint64_t lba, uint32_t n)
{
	memset(c, 0, 16);
	c[0] = op;
	tdm_put_be64(c + 2, lba);
	tdm_put_be32(c + 10, n);
}

static void cdb_caw(uint8_t *c, uint64_t lba, uint8_t n)
{
	memset(c, 0, 16);
	c[0] = 0x89;
	tdm_put_be64(c + 2, lba);
	c[13] = n;
}

static void cdb_atomic(uint8_t *c, uint64_t lba, uint16_t n)
{
	memset(c, 0, 16);
	c[0] = 0x9C;
	tdm_put_be64(c + 2, lba);
	tdm_put_be16(c + 12, n);
}

static void write16(struct tdm_nexus *nx, uint64_t lun, uint64_t lba,
		    uint32_t n, const uint8_t *data, uint32_t bs)
{
	uint8_t c[16];

	cdb16(c, 0x8A, lba, n);
	run_out(nx, lun, c, 16, data, (size_t)n * bs);
	expect_good();
}

static void read16(struct tdm_nexus *nx, uint64_t lun, uint64_t lba, uint32_t n)
{
	uint8_t c[16];

	cdb16(c, 0x88, lba, n);
	run(nx, lun, c, 16);
	expect_good();
}

static void caw(struct tdm_nexus *nx, uint64_t lba, uint8_t n,
		const uint8_t *dout, uint32_t bs)
{
	uint8_t c[16];

	cdb_caw(c, lba, n);
	run_out(nx, 0, c, 16, dout, 2u * n * bs);
}

static bool all_bytes(const uint8_t *p, size_t len, uint8_t v)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != v)
			return false;
	return true;
}

/* ---- COMPARE AND WRITE ---- */

static void caw_basic(struct tdm_nexus *nx, struct tdm_lu *lu)
{
	uint32_t bs = lu->block_size;
	uint64_t last = lu->nblocks;
	uint8_t *b = malloc(2 * 255 * (size_t)bs);
	uint8_t c[16];
	unsigned n;

	assert_non_null(b);
	/* match: A -> B, at the start and at the very end, 1..8 and 255 */
	for (n = 1; n <= 255; n = n < 8 ? n + 1 : 255) {
		size_t len = (size_t)n * bs;

		memset(b, 'A', len);
		write16(nx, 0, 0, n, b, bs);
		write16(nx, 0, last - n, n, b, bs);
		memset(b + len, 'B', len);
		caw(nx, 0, (uint8_t)n, b, bs);
		expect_good();
		caw(nx, last - n, (uint8_t)n, b, bs);
		expect_good();
		read16(nx, 0, 0, n);
		assert_true(all_bytes(R.data, len, 'B'));
		read16(nx, 0, last - n, n);
		assert_true(all_bytes(R.data, len, 'B'));
		/* again: now the blocks hold B, not A */
		caw(nx, 0, (uint8_t)n, b, bs);
		expect_miscompare();
		if (n == 255)
			break;
	}
	/* the miscompare offset is counted from the start of the verify
	 * data: byte 27 from the end of n blocks, and every offset of a
	 * block */
	for (n = 1; n <= 4; n++) {
		size_t len = (size_t)n * bs, off;

		memset(b, 'A', len);
		write16(nx, 0, 100, n, b, bs);
		memset(b + len, 'B', len);
		b[len - 27] = 'C';
		caw(nx, 100, (uint8_t)n, b, bs);
		expect_miscompare();
		assert_int_equal(R.sense[0], 0xF0); /* VALID, fixed */
		assert_int_equal(tdm_get_be32(R.sense + 3), len - 27);
		read16(nx, 0, 100, n);
		assert_true(all_bytes(R.data, len, 'A'));
		for (off = 0; n == 1 && off < bs; off += 61) {
			memset(b, 'A', len);
			b[off] = 'Z';
			caw(nx, 100, 1, b, bs);
			expect_miscompare();
			assert_int_equal(tdm_get_be32(R.sense + 3), off);
		}
	}
	/* zero blocks: nothing compared, not an error; at the capacity */
	cdb_caw(c, last, 0);
	run_out(nx, 0, c, 16, NULL, 0);
	expect_good();
	cdb_caw(c, last + 1, 0);
	run_out(nx, 0, c, 16, NULL, 0);
	expect_lba_oob();
	/* past the end, at 2^63, at -1 */
	memset(b, 'A', 2 * 4 * (size_t)bs);
	caw(nx, last - 1, 2, b, bs);
	expect_lba_oob();
	caw(nx, 0x8000000000000000ull, 1, b, bs);
	expect_lba_oob();
	caw(nx, ~0ull, 1, b, bs);
	expect_lba_oob();
	/* Data-Out must be exactly 2 x NUMBER OF LOGICAL BLOCKS blocks */
	cdb_caw(c, 0, 1);
	run_x(nx, 0, c, 16, b, 4 * (size_t)bs, 4 * bs);
	expect_cdb_err(13, 7);
	cdb_caw(c, 0, 3);
	run_x(nx, 0, c, 16, b, 4 * (size_t)bs, 4 * bs);
	expect_cdb_err(13, 7);
	/* WRPROTECT, reserved bits and bytes, GROUP NUMBER */
	cdb_caw(c, 0, 1);
	c[1] = 0x20;
	run_out(nx, 0, c, 16, b, 2 * (size_t)bs);
	expect_cdb_err(1, 7);
	c[1] = 0x02; /* SBC-3 FUA_NV */
	run_out(nx, 0, c, 16, b, 2 * (size_t)bs);
	expect_cdb_err(1, 1);
	c[1] = 0;
	c[11] = 1;
	run_out(nx, 0, c, 16, b, 2 * (size_t)bs);
	expect_cdb_err(11, 7);
	c[11] = 0;
	c[14] = 1;
	run_out(nx, 0, c, 16, b, 2 * (size_t)bs);
	expect_cdb_err(14, 7);
	/* DPO and FUA are accepted (MODE SENSE reports DPOFUA) */
	memset(b, 'Q', 2 * (size_t)bs);
	write16(nx, 0, 5, 1, b, bs);
	cdb_caw(c, 5, 1);
	c[1] = 0x18;
	run_out(nx, 0, c, 16, b, 2 * (size_t)bs);
	expect_good();
	free(b);
}

static void test_caw_512(void **state)
{
	struct fix *f = *state;

	caw_basic(f->nx, f->lu[0]);
}

static void test_caw_4096(void **state)
{
	struct tdm_lu *lu = ram_lu("caw4k", 16 * MiB, 4096);
	struct tdm_nexus *nx = tdm__test_nexus(&lu, 1, &tops);

	(void)state;
	caw_basic(nx, lu);
	tdm__test_nexus_free(nx);
	tdm__lu_put(lu);
}

static void test_caw_protect(void **state)
{
	struct fix *f = *state;
	uint8_t b[1024], c[16];

	memset(b, 0, sizeof(b));
	/* a read-only mapping: DATA PROTECT, WRITE PROTECTED */
	f->nx->test_map->ents[0].read_only = true;
	caw(f->nx, 0, 1, b, 512);
	expect_sense(0x7, 0x27, 0x00);
	cdb16(c, 0x8B, 0, 1);
	run_out(f->nx, 0, c, 16, b, 512);
	expect_sense(0x7, 0x27, 0x00);
	cdb_atomic(c, 0, 1);
	run_out(f->nx, 0, c, 16, b, 512);
	expect_sense(0x7, 0x27, 0x00);
	f->nx->test_map->ents[0].read_only = false;
	caw(f->nx, 0, 1, b, 512);
	expect_good();
}

/* ---- ORWRITE ---- */

static void test_orwrite(void **state)
{
	struct fix *f = *state;
	struct tdm_lu *lu = f->lu[0];
	uint64_t last = lu->nblocks;
	uint8_t *b = malloc(256 * 512), c[16];
	unsigned n;

	assert_non_null(b);
	for (n = 1; n <= 256; n *= 4) {
		size_t len = (size_t)n * 512;

		memset(b, 0, len);
		write16(f->nx, 0, last - n, n, b, 512);
		memset(b, 0xA5, len);
		cdb16(c, 0x8B, last - n, n);
		run_out(f->nx, 0, c, 16, b, len);
		expect_good();
		read16(f->nx, 0, last - n, n);
		assert_true(all_bytes(R.data, len, 0xA5));
		memset(b, 0x5A, len);
		run_out(f->nx, 0, c, 16, b, len);
		expect_good();
		read16(f->nx, 0, last - n, n);
		assert_true(all_bytes(R.data, len, 0xFF));
	}
	/* zero blocks */
	cdb16(c, 0x8B, 0, 0);
	run(f->nx, 0, c, 16);
	expect_good();
	cdb16(c, 0x8B, last + 1, 0);
	run(f->nx, 0, c, 16);
	expect_lba_oob();
	cdb16(c, 0x8B, ~0ull, 0);
	run(f->nx, 0, c, 16);
	expect_lba_oob();
	cdb16(c, 0x8B, last - 1, 2);
	run_out(f->nx, 0, c, 16, b, 1024);
	expect_lba_oob();
	/* ORPROTECT, DPO/FUA, GROUP NUMBER, maximum transfer length */
	cdb16(c, 0x8B, 0, 1);
	c[1] = 0x40;
	run_out(f->nx, 0, c, 16, b, 512);
	expect_cdb_err(1, 7);
	c[1] = 0x18;
	run_out(f->nx, 0, c, 16, b, 512);
	expect_good();
	c[1] = 0;
	c[14] = 0x01;
	run_out(f->nx, 0, c, 16, b, 512);
	expect_cdb_err(14, 7);
	cdb16(c, 0x8B, 0, tdm__lu_max_xfer_blocks(lu) + 1);
	run(f->nx, 0, c, 16);
	expect_cdb_err(10, 7);
	free(b);
}

/* ---- WRITE ATOMIC(16) ---- */

static void test_write_atomic(void **state)
{
	struct fix *f = *state;
	struct tdm_lu *lu = f->lu[0];
	uint32_t max = tdm__lu_max_xfer_blocks(lu);
	uint64_t last = lu->nblocks;
	uint8_t *b = malloc((size_t)max * 512), c[16];

	assert_non_null(b);
	/* block limits VPD: MAXIMUM COMPARE AND WRITE LENGTH, MAXIMUM
	 * ATOMIC TRANSFER LENGTH (<= MAXIMUM TRANSFER LENGTH), ATOMIC
	 * ALIGNMENT and GRANULARITY 0 */
	RUN(f->nx, 0, 0x12, 0x01, 0xB0, 0x00, 0xFF, 0x00);
	expect_good();
	assert_int_equal(R.data[5], 255);
	assert_int_equal(tdm_get_be32(R.data + 44), max);
	assert_true(tdm_get_be32(R.data + 44) <= tdm_get_be32(R.data + 8));
	assert_int_equal(tdm_get_be32(R.data + 48), 0);
	assert_int_equal(tdm_get_be32(R.data + 52), 0);
	assert_int_equal(tdm_get_be32(R.data + 60), 0);

	memset(b, 0x77, (size_t)max * 512);
	cdb_atomic(c, last - max, (uint16_t)max);
	run_out(f->nx, 0, c, 16, b, (size_t)max * 512);
	expect_good();
	read16(f->nx, 0, last - max, max);
	assert_true(all_bytes(R.data, (size_t)max * 512, 0x77));
	cdb_atomic(c, 0, (uint16_t)(max + 1));
	run(f->nx, 0, c, 16);
	expect_cdb_err(12, 7);
	/* ATOMIC BOUNDARY: no boundaries supported */
	cdb_atomic(c, 0, 1);
	c[11] = 1;
	run_out(f->nx, 0, c, 16, b, 512);
	expect_cdb_err(11, 7);
	/* zero blocks, ranges, WRPROTECT, DPO/FUA */
	cdb_atomic(c, last, 0);
	run(f->nx, 0, c, 16);
	expect_good();
	cdb_atomic(c, last + 1, 0);
	run(f->nx, 0, c, 16);
	expect_lba_oob();
	cdb_atomic(c, last - 1, 2);
	run_out(f->nx, 0, c, 16, b, 1024);
	expect_lba_oob();
	cdb_atomic(c, 0x8000000000000000ull, 1);
	run_out(f->nx, 0, c, 16, b, 512);
	expect_lba_oob();
	cdb_atomic(c, 0, 1);
	c[1] = 0xE0;
	run_out(f->nx, 0, c, 16, b, 512);
	expect_cdb_err(1, 7);
	c[1] = 0x18;
	run_out(f->nx, 0, c, 16, b, 512);
	expect_good();
	free(b);
}

/* ---- range locks ---- */

static int granted_calls;

static void on_granted(struct tdm__range *r)
{
	(void)r;
	granted_calls++;
}

static void test_range_api(void **state)
{
	struct fix *f = *state;
	struct tdm_lu *lu = f->lu[0];
	struct tdm__range a, b, c, d;
	uint64_t deadline;

	granted_calls = 0;
	tdm__range_init(&a, lu, 0, 10, NULL, on_granted, loop);
	tdm__range_init(&b, lu, 5, 10, NULL, on_granted, loop);
	tdm__range_init(&c, lu, 20, 10, NULL, on_granted, loop);
	tdm__range_init(&d, lu, 14, 1, NULL, on_granted, loop);
	assert_true(tdm__range_lock(&a));
	assert_int_equal(atomic_load(&lu->rl_active), 1);
	assert_false(tdm__range_lock(&b)); /* overlaps a */
	assert_true(tdm__range_lock(&c));  /* disjoint */
	assert_false(tdm__range_lock(&d)); /* overlaps b, queued before */
	tdm__range_unlock(&c);
	tdm__range_unlock(&a);
	deadline = tdm_now_ns() + 5 * 1000000000ull;
	while (granted_calls < 1 && tdm_now_ns() < deadline)
		tdm_loop_run_once(loop, 10);
	assert_int_equal(granted_calls, 1); /* b, not d */
	tdm__range_unlock(&b);
	while (granted_calls < 2 && tdm_now_ns() < deadline)
		tdm_loop_run_once(loop, 10);
	assert_int_equal(granted_calls, 2);
	tdm__range_unlock(&d);
	assert_int_equal(atomic_load(&lu->rl_active), 0);
	assert_true(tdm_list_empty(&lu->rl_queue));

	/* a held range parks overlapping reads and writes from the gate,
	 * lets the others through */
	{
		uint8_t cd[16], w[1024];
		struct tcmd *t1, *t2, *t3;

		memset(w, 0x42, sizeof(w));
		granted_calls = 0;
		tdm__range_init(&a, lu, 50, 2, NULL, on_granted, loop);
		assert_true(tdm__range_lock(&a));
		cdb16(cd, 0x8A, 51, 2);
		t1 = submit(f->nx, 0, cd, 16, w, 1024, 1024);
		cdb16(cd, 0x88, 49, 2);
		t2 = submit(f->nx2, 0, cd, 16, NULL, 0, 1024);
		cdb16(cd, 0x8A, 52, 2);
		t3 = submit(f->nx, 0, cd, 16, w, 1024, 1024);
		assert_false(atomic_load(&t1->done));
		assert_false(atomic_load(&t2->done));
		assert_true(atomic_load(&t3->done)); /* ram: synchronous */
		collect(t3);
		expect_good();
		tdm_loop_run_once(loop, 10);
		assert_false(atomic_load(&t1->done));
		tdm__range_unlock(&a);
		wait_done(t1);
		wait_done(t2);
		collect(t1);
		expect_good();
		collect(t2);
		expect_good();
	}
	assert_int_equal(atomic_load(&lu->rl_active), 0);
}

/*
 * On a file LU (asynchronous completions) the order is deterministic:
 * a WRITE submitted while a COMPARE AND WRITE of the same blocks is
 * running waits for it and its data wins; a COMPARE AND WRITE submitted
 * while a WRITE is in flight waits for the WRITE and compares its data.
 */
static void test_caw_ordering(void **state)
{
	struct tdm_lu *lu = file_lu("cawfile", 4 * MiB, 512, 0);
	struct tdm_nexus *nx = tdm__test_nexus(&lu, 1, &tops);
	struct tdm_nexus *nx2 = tdm__test_nexus(&lu, 1, &tops);
	uint8_t *b = malloc(16 * 512), *w = malloc(2 * 512), c[16];
	struct tcmd *t1, *t2, *t3, *t4;

	(void)state;
	assert_non_null(b);
	assert_non_null(w);
	memset(b, 'A', 8 * 512);
	write16(nx, 0, 0, 8, b, 512);

	/* CAW first, then an overlapping WRITE and READ, and a disjoint
	 * WRITE, from another nexus */
	memset(b + 8 * 512, 'B', 8 * 512);
	memset(w, 'W', 2 * 512);
	cdb_caw(c, 0, 8);
	t1 = submit(nx, 0, c, 16, b, 16 * 512, 16 * 512);
	cdb16(c, 0x8A, 4, 2);
	t2 = submit(nx2, 0, c, 16, w, 1024, 1024);
	cdb16(c, 0x88, 0, 8);
	t3 = submit(nx2, 0, c, 16, NULL, 0, 8 * 512);
	cdb16(c, 0x8A, 100, 2);
	t4 = submit(nx2, 0, c, 16, w, 1024, 1024);
	assert_false(atomic_load(&t1->done));
	wait_done(t1);
	wait_done(t2);
	wait_done(t3);
	wait_done(t4);
	assert_true(t1->order < t2->order);
	assert_true(t1->order < t3->order);
	collect(t1);
	expect_good();
	collect(t2);
	expect_good();
	/* the READ came after the CAW: B everywhere (W may or may not
	 * have landed: the READ and the WRITE do not exclude each other) */
	collect(t3);
	expect_good();
	assert_true(all_bytes(R.data, 4 * 512, 'B'));
	assert_true(all_bytes(R.data + 6 * 512, 2 * 512, 'B'));
	collect(t4);
	expect_good();
	read16(nx, 0, 0, 8);
	assert_true(all_bytes(R.data, 4 * 512, 'B'));
	assert_true(all_bytes(R.data + 4 * 512, 2 * 512, 'W'));
	assert_true(all_bytes(R.data + 6 * 512, 2 * 512, 'B'));

	/* WRITE in flight, then a CAW expecting its data */
	memset(w, 'N', 2 * 512);
	cdb16(c, 0x8A, 200, 2);
	t1 = submit(nx2, 0, c, 16, w, 1024, 1024);
	assert_false(atomic_load(&t1->done));
	memset(b, 'N', 2 * 512);
	memset(b + 2 * 512, 'M', 2 * 512);
	cdb_caw(c, 200, 2);
	t2 = submit(nx, 0, c, 16, b, 4 * 512, 4 * 512);
	wait_done(t1);
	wait_done(t2);
	assert_true(t1->order < t2->order);
	collect(t1);
	expect_good();
	collect(t2);
	expect_good();
	read16(nx, 0, 200, 2);
	assert_true(all_bytes(R.data, 2 * 512, 'M'));

	/* two CAWs of the same blocks from two nexuses: the second sees
	 * the first one's data (M -> X, then X -> Y) */
	memset(b, 'M', 2 * 512);
	memset(b + 2 * 512, 'X', 2 * 512);
	memset(w, 0, 2 * 512);
	{
		uint8_t *b2 = malloc(4 * 512);

		assert_non_null(b2);
		memset(b2, 'X', 2 * 512);
		memset(b2 + 2 * 512, 'Y', 2 * 512);
		cdb_caw(c, 200, 2);
		t1 = submit(nx, 0, c, 16, b, 4 * 512, 4 * 512);
		t2 = submit(nx2, 0, c, 16, b2, 4 * 512, 4 * 512);
		wait_done(t1);
		wait_done(t2);
		collect(t1);
		expect_good();
		collect(t2);
		expect_good();
		read16(nx, 0, 200, 2);
		assert_true(all_bytes(R.data, 2 * 512, 'Y'));
		free(b2);
	}
	assert_int_equal(atomic_load(&lu->rl_active), 0);
	tdm__test_nexus_free(nx);
	tdm__test_nexus_free(nx2);
	tdm__lu_put(lu);
	free(b);
	free(w);
}

/*
 * Two loops on two threads against one ram LU, region of 255 blocks:
 * loop A writes pattern P0 or P1 over the whole region and reads it
 * back; loop B runs COMPARE AND WRITE (compare P0, write P0) over the
 * same region. Atomicity means: A always reads back what it wrote (a
 * CAW that compared before A's write never writes after it), and a
 * miscompare of B is always at offset 0 (B never sees a half-written
 * region).
 */
#define ST_BLOCKS 255
#define ST_LBA 1000
#define P0 0xA5
#define P1 0x5A

struct worker {
	struct tdm_loop *loop;
	struct tdm_nexus *nx;
	pthread_t th;
	bool caw;
	unsigned iter, iters;
	uint8_t phase;
	uint8_t *dout;
	atomic_bool *stop;
	atomic_bool finished;
	unsigned bad_reads, torn, good, miscompares, errors;
};

static void worker_step(void *arg);

static void worker_next(void *arg)
{
	struct tcmd *t = arg;
	struct worker *w = t->arg;

	tdm_cmd_release(&t->c);
	free(t);
	if (w->caw ? atomic_load(w->stop) : w->iter >= w->iters) {
		atomic_store(&w->finished, true);
		return;
	}
	worker_step(w);
}

static void worker_cb(struct tcmd *t)
{
	struct worker *w = t->arg;
	size_t len = (size_t)ST_BLOCKS * 512;
	uint8_t k, a, q;

	if (w->caw) {
		if (t->c.status == TDM_STATUS_GOOD) {
			w->good++;
		} else {
			sense_kcq(t->c.sense, &k, &a, &q);
			if (k == 0xE && a == 0x1D) {
				w->miscompares++;
				if (tdm_get_be32(t->c.sense + 3) != 0)
					w->torn++;
			} else {
				w->errors++;
			}
		}
	} else if (t->c.status != TDM_STATUS_GOOD) {
		w->errors++;
	} else if (w->phase == 1) {
		if (!all_bytes(t->c.buf, len, w->iter % 2 ? P1 : P0))
			w->bad_reads++;
		w->iter++;
	}
	if (!w->caw)
		w->phase ^= 1;
	tdm_loop_post(w->loop, worker_next, t);
}

static void worker_step(void *arg)
{
	struct worker *w = arg;
	size_t len = (size_t)ST_BLOCKS * 512;
	uint8_t c[16];
	struct tcmd *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	if (w->caw) {
		cdb_caw(c, ST_LBA, ST_BLOCKS);
		t->dout = w->dout;
		t->dout_len = 2 * len;
		t->c.exp_len = (uint32_t)(2 * len);
	} else if (w->phase == 0) {
		memset(w->dout, w->iter % 2 ? P1 : P0, len);
		cdb16(c, 0x8A, ST_LBA, ST_BLOCKS);
		t->dout = w->dout;
		t->dout_len = len;
		t->c.exp_len = (uint32_t)len;
	} else {
		cdb16(c, 0x88, ST_LBA, ST_BLOCKS);
		t->c.exp_len = (uint32_t)len;
	}
	memcpy(t->c.cdb, c, 16);
	t->c.cdb_len = 16;
	t->c.lun = tdm_lun_encode(0);
	t->c.nexus = w->nx;
	t->c.tag = next_cmd_tag();
	t->cb = worker_cb;
	t->arg = w;
	tdm_cmd_submit(&t->c);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	tdm_loop_set_current(w->loop);
	tdm_loop_run(w->loop);
	tdm_buf_cache_drain();
	return NULL;
}

/* UNMAP and COMPARE AND WRITE of the same blocks from two nexuses: one
 * runs after the other, never between the CAW's compare and its write */
static void test_caw_unmap(void **state)
{
	struct tdm_lu *lu = file_lu("cawunmap", 4 * MiB, 512, LU_THIN);
	struct tdm_nexus *nx = tdm__test_nexus(&lu, 1, &tops);
	struct tdm_nexus *nx2 = tdm__test_nexus(&lu, 1, &tops);
	uint8_t *b = malloc(16 * 512), c[16];
	uint8_t um[24] = {0, 22, 0, 16}, cu[10] = {0x42};
	struct tcmd *t1, *t2;

	(void)state;
	assert_non_null(b);
	/* UNMAP of blocks 8..15 (one descriptor) */
	tdm_put_be64(um + 8, 8);
	tdm_put_be32(um + 16, 8);
	tdm_put_be16(cu + 7, sizeof(um));

	/* a CAW in flight, then the UNMAP: the UNMAP ends after it and
	 * wins (zeros) */
	memset(b, 'A', 8 * 512);
	write16(nx, 0, 8, 8, b, 512);
	memset(b + 8 * 512, 'B', 8 * 512);
	cdb_caw(c, 8, 8);
	t1 = submit(nx, 0, c, 16, b, 16 * 512, 16 * 512);
	t2 = submit(nx2, 0, cu, 10, um, sizeof(um), sizeof(um));
	wait_done(t1);
	wait_done(t2);
	assert_true(t1->order < t2->order);
	collect(t1);
	expect_good();
	collect(t2);
	expect_good();
	read16(nx, 0, 8, 8);
	assert_true(all_bytes(R.data, 8 * 512, 0));

	/* the UNMAP first, then a CAW that expects zeros: it matches */
	memset(b, 'C', 8 * 512);
	write16(nx, 0, 8, 8, b, 512);
	t1 = submit(nx2, 0, cu, 10, um, sizeof(um), sizeof(um));
	memset(b, 0, 8 * 512);
	memset(b + 8 * 512, 'D', 8 * 512);
	cdb_caw(c, 8, 8);
	t2 = submit(nx, 0, c, 16, b, 16 * 512, 16 * 512);
	wait_done(t1);
	wait_done(t2);
	collect(t1);
	expect_good();
	collect(t2);
	expect_good();
	read16(nx, 0, 8, 8);
	assert_true(all_bytes(R.data, 8 * 512, 'D'));

	tdm__test_nexus_free(nx);
	tdm__test_nexus_free(nx2);
	tdm__lu_put(lu);
	free(b);
	result_free();
}

static void test_caw_atomic_threads(void **state)
{
	struct tdm_lu *lu = ram_lu("cawmt", 16 * MiB, 512);
	struct worker w[2];
	atomic_bool stop = false;
	size_t len = (size_t)ST_BLOCKS * 512;
	uint64_t deadline;
	int i;

	(void)state;
	memset(w, 0, sizeof(w));
	for (i = 0; i < 2; i++) {
		w[i].loop = tdm_loop_new();
		assert_non_null(w[i].loop);
		tdm_loop_set_current(w[i].loop);
		w[i].nx = tdm__test_nexus(&lu, 1, &tops);
		assert_non_null(w[i].nx);
		w[i].dout = malloc(2 * len);
		assert_non_null(w[i].dout);
		w[i].stop = &stop;
	}
	tdm_loop_set_current(loop);
	w[0].iters = 20000;
	w[1].caw = true;
	memset(w[1].dout, P0, 2 * len); /* compare P0, write P0 */
	for (i = 0; i < 2; i++) {
		assert_int_equal(
			pthread_create(&w[i].th, NULL, worker_main, &w[i]), 0);
		tdm_loop_post(w[i].loop, worker_step, &w[i]);
	}
	deadline = tdm_now_ns() + 120 * 1000000000ull;
	while (!atomic_load(&w[0].finished) && tdm_now_ns() < deadline)
		usleep(1000);
	atomic_store(&stop, true);
	while (!atomic_load(&w[1].finished) && tdm_now_ns() < deadline)
		usleep(1000);
	assert_true(atomic_load(&w[0].finished));
	assert_true(atomic_load(&w[1].finished));
	for (i = 0; i < 2; i++) {
		tdm_loop_break(w[i].loop);
		pthread_join(w[i].th, NULL);
	}
	print_message("    writer: %u rounds; CAW: %u good, %u miscompares\n",
		      w[0].iter, w[1].good, w[1].miscompares);
	assert_int_equal(w[0].errors, 0);
	assert_int_equal(w[1].errors, 0);
	assert_int_equal(w[0].bad_reads, 0);
	assert_int_equal(w[1].torn, 0);
	assert_true(w[1].good + w[1].miscompares > 0);
	assert_int_equal(atomic_load(&lu->rl_active), 0);
	for (i = 0; i < 2; i++) {
		tdm__test_nexus_free(w[i].nx);
		tdm_loop_free(w[i].loop);
		free(w[i].dout);
	}
	tdm__lu_put(lu);
}

/* ---- EXTENDED COPY ---- */

static size_t xc_cscd(uint8_t *d, const struct tdm_lu *lu)
{
	memset(d, 0, 32);
	d[0] = 0xE4;
	d[4] = 0x01; /* binary */
	d[5] = 0x03; /* LU, NAA */
	d[7] = lu->naa_len;
	memcpy(d + 8, lu->naa, lu->naa_len);
	tdm_put_be24(d + 29, lu->block_size);
	return 32;
}

static size_t xc_b2b(uint8_t *d, uint16_t src, uint16_t dst, uint16_t nblk,
		     uint64_t slba, uint64_t dlba)
{
	memset(d, 0, 28);
	d[0] = 0x02;
	tdm_put_be16(d + 2, 0x18);
	tdm_put_be16(d + 4, src);
	tdm_put_be16(d + 6, dst);
	tdm_put_be16(d + 10, nblk);
	tdm_put_be64(d + 12, slba);
	tdm_put_be64(d + 20, dlba);
	return 28;
}

static size_t xc_b2b_off(uint8_t *d, uint16_t src, uint16_t dst, uint32_t bytes,
			 uint64_t slba, uint64_t dlba)
{
	memset(d, 0, 32);
	d[0] = 0x0A;
	tdm_put_be16(d + 2, 0x1C);
	tdm_put_be16(d + 4, src);
	tdm_put_be16(d + 6, dst);
	tdm_put_be32(d + 8, bytes);
	tdm_put_be64(d + 12, slba);
	tdm_put_be64(d + 20, dlba);
	return 32;
}

static void xc_hdr(uint8_t *p, uint8_t list_id, uint8_t usage, size_t tdl,
		   size_t sdl)
{
	memset(p, 0, 16);
	p[0] = list_id;
	p[1] = (uint8_t)(usage << 3);
	tdm_put_be16(p + 2, (uint16_t)tdl);
	tdm_put_be32(p + 8, (uint32_t)sdl);
}

static void xcopy_send(struct tdm_nexus *nx, uint64_t lun, const uint8_t *p,
		       size_t len)
{
	uint8_t c[16];

	memset(c, 0, 16);
	c[0] = 0x83;
	tdm_put_be32(c + 10, (uint32_t)len);
	run_out(nx, lun, c, 16, p, len);
}

/* One source/destination pair, one segment; returns the list length. */
static size_t xc_simple(uint8_t *p, const struct tdm_lu *s,
			const struct tdm_lu *d, uint16_t n, uint64_t slba,
			uint64_t dlba, uint8_t list_id, uint8_t usage)
{
	size_t off = 16;

	off += xc_cscd(p + off, s);
	off += xc_cscd(p + off, d);
	off += xc_b2b(p + off, 0, 1, n, slba, dlba);
	xc_hdr(p, list_id, usage, 64, 28);
	return off;
}

static void rcr(struct tdm_nexus *nx, uint64_t lun, uint8_t sa, uint8_t list_id,
		uint32_t alloc)
{
	uint8_t c[16];

	memset(c, 0, 16);
	c[0] = 0x84;
	c[1] = sa;
	c[2] = list_id;
	tdm_put_be32(c + 10, alloc);
	run(nx, lun, c, 16);
}

/* COPY ABORTED, COPY TARGET DEVICE NOT REACHABLE, segment pointer. */
static void expect_unreachable(uint16_t byte)
{
	expect_sense(0xA, 0x0D, 0x02);
	assert_int_equal(R.sense[15] & 0x80, 0x80);
	assert_int_equal(R.sense[15] & 0x20, 0x00); /* SD=0 */
	assert_int_equal(tdm_get_be16(R.sense + 16), byte);
}

static void test_xcopy_copy(void **state)
{
	struct fix *f = *state;
	struct tdm_lu *a = f->lu[0], *b = f->lu[1];
	uint8_t p[512], *d = malloc(4096 * 512), *e = malloc(4096 * 512);
	size_t len, i, off;

	assert_non_null(d);
	assert_non_null(e);
	for (i = 0; i < 4096 * 512; i++)
		d[i] = (uint8_t)(i * 7 + i / 512);
	write16(f->nx, 0, 10, 4096, d, 512);

	/* LU0 blocks 10.. -> LU1 blocks 3000.., 4096 blocks (2 MiB, more
	 * than one chunk), addressed to LU1 */
	len = xc_simple(p, a, b, 4096, 10, 3000, 1, 2);
	xcopy_send(f->nx, 1, p, len);
	expect_good();
	read16(f->nx, 1, 3000, 4096);
	assert_memory_equal(R.data, d, 4096 * 512);

	/* the same LU, block to block with offsets (0Ah), two segments,
	 * held results (list id 7) */
	off = 16;
	off += xc_cscd(p + off, a);
	off += xc_b2b_off(p + off, 0, 0, 100 * 512, 10, 20000);
	off += xc_b2b(p + off, 0, 0, 0, 0, 0); /* empty segment */
	off += xc_b2b(p + off, 0, 0, 50, 110, 20100);
	xc_hdr(p, 7, 0, 32, off - 48);
	xcopy_send(f->nx, 0, p, off);
	expect_good();
	read16(f->nx, 0, 20000, 150);
	assert_memory_equal(R.data, d, 150 * 512);
	/* RECEIVE COPY RESULTS: COPY STATUS, once */
	rcr(f->nx, 0, 0x00, 7, 255);
	expect_good();
	assert_int_equal(R.len, 12);
	assert_int_equal(tdm_get_be32(R.data), 8);
	assert_int_equal(R.data[4], 0x01); /* completed, no errors */
	assert_int_equal(tdm_get_be16(R.data + 5), 3);
	assert_int_equal(R.data[7], 0); /* bytes */
	assert_int_equal(tdm_get_be32(R.data + 8), 150 * 512);
	/* held per I_T nexus: the other nexus has nothing */
	rcr(f->nx2, 0, 0x00, 7, 255);
	expect_cdb_err(2, 7);
	/* per copy manager: the other LU has nothing */
	rcr(f->nx, 1, 0x00, 7, 255);
	expect_cdb_err(2, 7);
	/* RECEIVE DATA: nothing held, FAILED SEGMENT DETAILS: good */
	rcr(f->nx, 0, 0x01, 7, 255);
	expect_good();
	assert_int_equal(R.len, 4);
	assert_int_equal(tdm_get_be32(R.data), 0);
	rcr(f->nx, 0, 0x04, 7, 255);
	expect_good();
	assert_int_equal(R.len, 60);
	assert_int_equal(tdm_get_be32(R.data), 56);
	assert_int_equal(R.data[56], 0x00);
	assert_int_equal(tdm_get_be16(R.data + 58), 0);
	/* everything read: the results are gone */
	rcr(f->nx, 0, 0x00, 7, 255);
	expect_cdb_err(2, 7);
	/* LIST ID USAGE 10b and 11b hold nothing */
	len = xc_simple(p, a, b, 8, 10, 0, 9, 2);
	xcopy_send(f->nx, 0, p, len);
	expect_good();
	rcr(f->nx, 0, 0x00, 9, 255);
	expect_cdb_err(2, 7);
	len = xc_simple(p, a, b, 8, 10, 0, 0, 3);
	xcopy_send(f->nx, 0, p, len);
	expect_good();
	len = xc_simple(p, a, b, 8, 10, 0, 1, 3); /* 11b needs list id 0 */
	xcopy_send(f->nx, 0, p, len);
	expect_param_err(0, 7);
	/* a PARAMETER LIST LENGTH of zero: nothing to do */
	xcopy_send(f->nx, 0, NULL, 0);
	expect_good();
	/* the whole LU, first block to last */
	len = xc_simple(p, a, b, 1, 0, b->nblocks - 1, 0, 2);
	xcopy_send(f->nx, 0, p, len);
	expect_good();
	/* statistics of the copy targets */
	assert_true(atomic_load(&b->st_write_bytes) >= 4096 * 512);
	free(d);
	free(e);
}

static void test_xcopy_errors(void **state)
{
	struct fix *f = *state;
	struct tdm_lu *a = f->lu[0], *b = f->lu[1];
	uint8_t *p = calloc(1, 8192), c[16];
	size_t len, off, i;

	assert_non_null(p);
	/* OPERATING PARAMETERS */
	rcr(f->nx, 0, 0x03, 0, 255);
	expect_good();
	assert_int_equal(R.len, 47);
	assert_int_equal(tdm_get_be32(R.data), 43);
	assert_int_equal(R.data[4] & 0x01, 0x01); /* SNLID */
	assert_int_equal(tdm_get_be16(R.data + 8), 8);
	assert_int_equal(tdm_get_be16(R.data + 10), 64);
	assert_int_equal(tdm_get_be32(R.data + 12), 4096);
	assert_int_equal(tdm_get_be32(R.data + 16), 128 * MiB);
	assert_int_equal(tdm_get_be32(R.data + 20), 0);
	assert_int_equal(R.data[37], 9);
	assert_int_equal(R.data[43], 3);
	assert_int_equal(R.data[44], 0x02);
	assert_int_equal(R.data[45], 0x0A);
	assert_int_equal(R.data[46], 0xE4);
	rcr(f->nx, 0, 0x03, 1, 255); /* LIST IDENTIFIER reserved */
	expect_cdb_err(2, 7);
	rcr(f->nx, 0, 0x05, 0, 255); /* unsupported service action */
	expect_cdb_err(1, 4);

	/* too many CSCD descriptors (9) */
	off = 16;
	for (i = 0; i < 9; i++)
		off += xc_cscd(p + off, a);
	off += xc_b2b(p + off, 0, 0, 8, 0, 100);
	xc_hdr(p, 1, 0, 9 * 32, 28);
	xcopy_send(f->nx, 0, p, off);
	expect_sense(0x5, 0x26, 0x06);
	/* too many segment descriptors (65) */
	off = 16 + xc_cscd(p + 16, a);
	for (i = 0; i < 65; i++)
		off += xc_b2b(p + off, 0, 0, 8, 0, 100);
	xc_hdr(p, 2, 0, 32, 65 * 28);
	xcopy_send(f->nx, 0, p, off);
	expect_sense(0x5, 0x26, 0x08);
	/* descriptor lists longer than MAXIMUM DESCRIPTOR LIST LENGTH */
	off = 16 + xc_cscd(p + 16, a);
	for (i = 0; i < 146; i++)
		off += xc_b2b(p + off, 0, 0, 8, 0, 100);
	xc_hdr(p, 3, 0, 32, 146 * 28);
	xcopy_send(f->nx, 0, p, off);
	expect_sense(0x5, 0x1A, 0x00);
	/* ... and a parameter list longer than any accepted: refused
	 * before the data phase */
	memset(c, 0, 16);
	c[0] = 0x83;
	tdm_put_be32(c + 10, 16 + 4096 + 1);
	run(f->nx, 0, c, 16);
	expect_sense(0x5, 0x1A, 0x00);
	/* truncated lists */
	len = xc_simple(p, a, b, 8, 0, 100, 1, 0);
	xcopy_send(f->nx, 0, p, 16 + 32 - 1);
	expect_sense(0x5, 0x1A, 0x00);
	xcopy_send(f->nx, 0, p, len - 1);
	expect_sense(0x5, 0x1A, 0x00);
	xcopy_send(f->nx, 0, p, 15);
	expect_sense(0x5, 0x1A, 0x00);
	/* unsupported CSCD type (FC N_Port_Name E0h), segment type
	 * (stream to stream 03h) */
	len = xc_simple(p, a, b, 8, 0, 100, 1, 0);
	p[16 + 32] = 0xE0;
	xcopy_send(f->nx, 0, p, len);
	expect_sense(0x5, 0x26, 0x07);
	assert_int_equal(tdm_get_be16(R.sense + 16), 48);
	len = xc_simple(p, a, b, 8, 0, 100, 1, 0);
	p[80] = 0x03;
	xcopy_send(f->nx, 0, p, len);
	expect_sense(0x5, 0x26, 0x09);
	assert_int_equal(tdm_get_be16(R.sense + 16), 80);
	/* segment descriptor length not that of its type */
	len = xc_simple(p, a, b, 8, 0, 100, 1, 0);
	tdm_put_be16(p + 82, 0x1C);
	tdm_put_be32(p + 8, 32);
	memset(p + len, 0, 4);
	xcopy_send(f->nx, 0, p, len + 4);
	expect_param_err(82, 7);
	/* LIST ID USAGE 01b is reserved; inline data is not accepted */
	len = xc_simple(p, a, b, 8, 0, 100, 1, 1);
	xcopy_send(f->nx, 0, p, len);
	expect_param_err(1, 4);
	len = xc_simple(p, a, b, 8, 0, 100, 1, 0);
	tdm_put_be32(p + 12, 4);
	xcopy_send(f->nx, 0, p, len + 4);
	expect_param_err(12, 7);

	/* CSCD index beyond the list: COPY ABORTED */
	len = xc_simple(p, a, b, 8, 0, 100, 1, 0);
	tdm_put_be16(p + 80 + 6, 2);
	xcopy_send(f->nx, 0, p, len);
	expect_unreachable(86);
	/* past the end of the destination, of the source */
	len = xc_simple(p, a, b, 8, 0, b->nblocks - 7, 1, 0);
	xcopy_send(f->nx, 0, p, len);
	expect_unreachable(100);
	len = xc_simple(p, a, b, 8, a->nblocks - 1, 0, 1, 0);
	xcopy_send(f->nx, 0, p, len);
	expect_unreachable(92);
	/* an LU this nexus does not see, or no such LU */
	{
		struct tdm_lu *other = ram_lu("cawother", MiB, 512);

		len = xc_simple(p, a, other, 8, 0, 0, 1, 0);
		xcopy_send(f->nx, 0, p, len);
		expect_unreachable(48 + 4);
		tdm__lu_put(other);
	}
	len = xc_simple(p, a, b, 8, 0, 100, 1, 0);
	p[16 + 8] ^= 0xFF;
	xcopy_send(f->nx, 0, p, len);
	expect_unreachable(16 + 4);
	/* EUI-64 designators are not configured here: unreachable */
	len = xc_simple(p, a, b, 8, 0, 100, 1, 0);
	p[16 + 5] = 0x02;
	xcopy_send(f->nx, 0, p, len);
	expect_unreachable(16 + 4);
	/* LU ID TYPE is ignored (SPC-4), DISK BLOCK LENGTH must match,
	 * only block devices */
	len = xc_simple(p, a, b, 8, 0, 100, 1, 0);
	p[17] = 0x80;
	xcopy_send(f->nx, 0, p, len);
	expect_good();
	len = xc_simple(p, a, b, 8, 0, 100, 1, 0);
	tdm_put_be24(p + 16 + 29, 4096);
	xcopy_send(f->nx, 0, p, len);
	expect_param_err(16 + 29, 7);
	len = xc_simple(p, a, b, 8, 0, 100, 1, 0);
	p[17] = 0x01; /* sequential access */
	xcopy_send(f->nx, 0, p, len);
	expect_sense(0x5, 0x26, 0x07);
	/* 0Ah: byte offsets, partial blocks, longer than MAXIMUM SEGMENT
	 * LENGTH */
	off = 16 + xc_cscd(p + 16, a);
	off += xc_b2b_off(p + off, 0, 0, 512, 0, 100);
	tdm_put_be16(p + 48 + 28, 1);
	xc_hdr(p, 1, 0, 32, 32);
	xcopy_send(f->nx, 0, p, off);
	expect_param_err(48 + 28, 7);
	off = 16 + xc_cscd(p + 16, a);
	off += xc_b2b_off(p + off, 0, 0, 511, 0, 100);
	xcopy_send(f->nx, 0, p, off);
	expect_param_err(48 + 8, 7);
	off = 16 + xc_cscd(p + 16, a);
	off += xc_b2b_off(p + off, 0, 0, 128 * MiB + 512, 0, 100);
	xcopy_send(f->nx, 0, p, off);
	expect_param_err(48 + 8, 7);
	/* a read-only destination */
	f->nx->test_map->ents[1].read_only = true;
	len = xc_simple(p, a, b, 8, 0, 100, 1, 0);
	xcopy_send(f->nx, 0, p, len);
	expect_sense(0x7, 0x27, 0x00);
	f->nx->test_map->ents[1].read_only = false;
	/* reserved CDB bytes, LID4 service actions */
	memset(c, 0, 16);
	c[0] = 0x83;
	c[5] = 1;
	run(f->nx, 0, c, 16);
	expect_cdb_err(5, 7);
	c[5] = 0;
	c[1] = 0x10; /* POPULATE TOKEN */
	run(f->nx, 0, c, 16);
	expect_cdb_err(1, 4);
	free(p);
}

/* A running copy stops at the next chunk when a TMF aborts it. */
static void test_xcopy_abort(void **state)
{
	struct tdm_lu *lus[2];
	struct tdm_nexus *nx;
	struct tdm_tmf tmf;
	uint8_t p[256], c[16], mark[512];
	struct tcmd *t;
	size_t len, off;
	uint64_t n = 64 * MiB / 512;

	(void)state;
	lus[0] = ram_lu("xsrc", 128 * MiB, 512);
	lus[1] = ram_lu("xdst", 128 * MiB, 512);
	nx = tdm__test_nexus(lus, 2, &tops);
	memset(mark, 0x6B, sizeof(mark));
	write16(nx, 0, n - 1, 1, mark, 512);
	/* one 0Ah segment of 64 MiB: 64 chunks */
	off = 16 + xc_cscd(p + 16, lus[0]);
	off += xc_cscd(p + off, lus[1]);
	off += xc_b2b_off(p + off, 0, 1, (uint32_t)(64 * MiB), 0, 0);
	xc_hdr(p, 4, 0, 64, 32);
	len = off;
	memset(c, 0, 16);
	c[0] = 0x83;
	tdm_put_be32(c + 10, (uint32_t)len);
	t = submit(nx, 0, c, 16, p, len, (uint32_t)len);
	assert_false(atomic_load(&t->done));
	memset(&tmf, 0, sizeof(tmf));
	tmf.fn = TDM_TMF_ABORT_TASK;
	tmf.lun = tdm_lun_encode(0);
	tmf.ref_tag = t->c.tag;
	tmf.nexus = nx;
	atomic_store(&tmf_done, 0);
	tdm_tmf_submit(&tmf);
	wait_done(t);
	while (!atomic_load(&tmf_done))
		tdm_loop_run_once(loop, 10);
	assert_int_equal(tmf.response, TDM_TMF_RSP_COMPLETE);
	assert_true(tdm_cmd_aborted(&t->c));
	collect(t);
	/* the marker at the end was not copied */
	read16(nx, 1, n - 1, 1);
	assert_false(all_bytes(R.data, 512, 0x6B));
	/* the held status says: completed with errors, not every byte */
	rcr(nx, 0, 0x00, 4, 255);
	expect_good();
	assert_int_equal(R.data[4], 0x02);
	assert_true(tdm_get_be32(R.data + 8) < 64 * MiB);
	/* and the copy manager works on */
	len = xc_simple(p, lus[0], lus[1], 1, n - 1, n - 1, 0, 2);
	xcopy_send(nx, 0, p, len);
	expect_good();
	read16(nx, 1, n - 1, 1);
	assert_true(all_bytes(R.data, 512, 0x6B));
	tdm__test_nexus_free(nx);
	tdm__lu_put(lus[0]);
	tdm__lu_put(lus[1]);
}

/* VPD pages 00h and 8Fh. */
static void test_xcopy_vpd(void **state)
{
	struct fix *f = *state;
	const uint8_t *d;
	size_t len, i;
	bool seen = false, xc = false, cs = false;

	RUN(f->nx, 0, 0x12, 0x01, 0x00, 0x00, 0xFF, 0x00);
	expect_good();
	for (i = 4; i < R.len; i++)
		seen |= R.data[i] == 0x8F;
	assert_true(seen);
	RUN(f->nx, 0, 0x12, 0x01, 0x8F, 0x04, 0x00, 0x00);
	expect_good();
	assert_int_equal(R.data[1], 0x8F);
	len = tdm_get_be16(R.data + 2);
	assert_int_equal(len + 4, R.len);
	for (d = R.data + 4; d < R.data + 4 + len;
	     d += 4 + tdm_get_be16(d + 2)) {
		uint16_t type = tdm_get_be16(d), dl = tdm_get_be16(d + 2);

		assert_int_equal(dl % 4, 0);
		if (type == 0x0001) {
			const uint8_t *q = d + 5, *e = d + 5 + d[4];

			for (; q < e; q += 2 + q[1]) {
				if (q[0] == 0x83 && q[1] == 1 && q[2] == 0)
					xc = true;
				if (q[0] == 0x84)
					cs = memchr(q + 2, 0x00, q[1]) != NULL;
			}
		} else if (type == 0x0004) {
			assert_int_equal(tdm_get_be16(d + 8), 8);
			assert_int_equal(tdm_get_be16(d + 10), 64);
			assert_int_equal(tdm_get_be32(d + 12), 4096);
		} else if (type == 0x8001) {
			assert_int_equal(tdm_get_be32(d + 12), 128 * MiB);
		}
	}
	assert_true(xc);
	assert_true(cs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_caw_512, fix_setup,
						fix_teardown),
		cmocka_unit_test(test_caw_4096),
		cmocka_unit_test_setup_teardown(test_caw_protect, fix_setup,
						fix_teardown),
		cmocka_unit_test_setup_teardown(test_orwrite, fix_setup,
						fix_teardown),
		cmocka_unit_test_setup_teardown(test_write_atomic, fix_setup,
						fix_teardown),
		cmocka_unit_test_setup_teardown(test_range_api, fix_setup,
						fix_teardown),
		cmocka_unit_test(test_caw_ordering),
		cmocka_unit_test(test_caw_unmap),
		cmocka_unit_test(test_caw_atomic_threads),
		cmocka_unit_test_setup_teardown(test_xcopy_copy, fix_setup,
						fix_teardown),
		cmocka_unit_test_setup_teardown(test_xcopy_errors, fix_setup,
						fix_teardown),
		cmocka_unit_test(test_xcopy_abort),
		cmocka_unit_test_setup_teardown(test_xcopy_vpd, fix_setup,
						fix_teardown),
	};
	int rc;

	/* no persistent reservation state of the system's LUs */
	setenv("TANDEM_STATE_DIR", "/nonexistent/tandem-test-caw", 1);
	loop = tdm_loop_new();
	if (!loop) {
		fprintf(stderr, "cannot create an event loop\n");
		return 77;
	}
	tdm_loop_set_current(loop);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	tdm_loop_set_current(NULL);
	tdm_loop_free(loop);
	return rc ? 1 : 0;
}
