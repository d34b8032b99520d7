/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * test_thin.c - logical block provisioning (UNMAP, WRITE SAME, GET LBA
 * STATUS, the VPD pages and READ CAPACITY(16) bits) and REPORT SUPPORTED
 * OPERATION CODES / TASK MANAGEMENT FUNCTIONS, driven through the real
 * command gate: ram and file LUs, test nexuses from scsi/target.c, and a
 * transport that records what queue_status() saw.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scsi/scsi_int.h"
#include "lib/loop.h"
#include "gate_harness.h"

#define expect_bad_opcode() expect_sense(0x5, 0x20, 0x00)
#define expect_plist_len_err() expect_sense(0x5, 0x1A, 0x00)

struct fix {
	struct tdm_lu *lu;
	struct tdm_nexus *nx;
};

static struct fix *fix_new(struct tdm_lu *lu)
{
	struct fix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->lu = lu;
	f->nx = tdm__test_nexus(&f->lu, 1, &tops);
	assert_non_null(f->nx);
	return f;
}

static void fix_free(struct fix *f)
{
	tdm__test_nexus_free(f->nx);
	tdm__lu_put(f->lu);
	free(f);
	result_free();
}

/* ---- what the filesystem of the file LUs can do ---- */

#define PROBE_SIZE (1 * MiB)
#define PROBE_HOLE (256 * 1024) /* [PROBE_HOLE, 3 * PROBE_HOLE) */

/* The directory of file_lu()'s files (gate_harness.c). */
static const char *file_dir(void)
{
	const char *dir = getenv("TMPDIR");

	return dir && *dir ? dir : "/tmp";
}

/*
 * Can the filesystem of file_dir() punch holes, and does lseek(2)
 * SEEK_HOLE/SEEK_DATA report them (*reports)? Asked of the filesystem
 * directly, never of the backstore, so that a fileio backstore that
 * wrongly decides it cannot fails the tests instead of skipping them:
 * a scratch file gets 1 MiB of data and the middle half punched out,
 * which must free its blocks (st_blocks) and keep the size. why: the
 * reason when not.
 */
static bool probe_holes(bool *reports, char *why, size_t len)
{
	const off_t a = PROBE_HOLE, b = 3 * PROBE_HOLE;
	uint8_t *data = malloc(PROBE_SIZE);
	struct stat before, after;
	char path[4096];
	bool ok = false;
	int fd;

	*reports = false;
	assert_non_null(data);
	memset(data, 0xA5, PROBE_SIZE);
	snprintf(path, sizeof(path), "%s/tandem-probe-XXXXXX", file_dir());
	fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(pwrite(fd, data, PROBE_SIZE, 0), PROBE_SIZE);
	free(data);
	assert_int_equal(fsync(fd), 0);
	assert_int_equal(fstat(fd, &before), 0);
	if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, a,
		      b - a) < 0) {
		snprintf(why, len,
			 "%s cannot punch holes: fallocate(PUNCH_HOLE): %s",
			 file_dir(), strerror(errno));
		goto out;
	}
	assert_int_equal(fstat(fd, &after), 0);
	assert_int_equal(after.st_size, before.st_size);
	if (before.st_blocks - after.st_blocks < (b - a) / 512) {
		snprintf(why, len,
			 "%s: fallocate(PUNCH_HOLE) succeeds but frees "
			 "nothing (st_blocks %lld, then %lld)",
			 file_dir(), (long long)before.st_blocks,
			 (long long)after.st_blocks);
		goto out;
	}
	ok = true;
	*reports = lseek(fd, 0, SEEK_HOLE) == a && lseek(fd, a, SEEK_DATA) == b;
	if (!*reports)
		snprintf(why, len,
			 "%s punches holes, but lseek(SEEK_HOLE/SEEK_DATA) "
			 "does not report them",
			 file_dir());
out:
	close(fd);
	return ok;
}

/*
 * A thin fileio LU of size bytes, or a skip with the probe's reason when
 * the filesystem cannot punch holes (or, with need_reports, not report
 * them). When the probe says it can, the LU must be thin.
 */
static struct fix *thin_file_fix(const char *name, uint64_t size,
				 bool need_reports)
{
	bool reports;
	char why[512];
	struct fix *f;

	if (!probe_holes(&reports, why, sizeof(why))) {
		print_message("skip: %s\n", why);
		skip();
	}
	f = fix_new(file_lu(name, size, 512, LU_THIN));
	if (!tdm__lu_thin(f->lu)) {
		fix_free(f);
		fail_msg("%s punches holes, yet the fileio LU %s with "
			 "thin_provisioned=1 is not thin",
			 file_dir(), name);
	}
	if (need_reports && !reports) {
		fix_free(f);
		print_message("skip: %s\n", why);
		skip();
	}
	return f;
}

/* ---- CDB helpers ---- */

static void read10(struct fix *f, uint32_t lba, uint16_t n)
{
	uint8_t c[10] = {0x28};

	tdm_put_be32(c + 2, lba);
	tdm_put_be16(c + 7, n);
	run_data(f->nx, 0, c, 10, NULL, 0);
	expect_good();
	assert_int_equal(R.len, (uint32_t)n * 512);
}

static void write10(struct fix *f, uint32_t lba, uint16_t n, uint8_t byte)
{
	uint8_t c[10] = {0x2A};
	uint8_t *d = malloc((size_t)n * 512);

	assert_non_null(d);
	memset(d, byte, (size_t)n * 512);
	tdm_put_be32(c + 2, lba);
	tdm_put_be16(c + 7, n);
	run_data(f->nx, 0, c, 10, d, (size_t)n * 512);
	free(d);
	expect_good();
}

static bool all_bytes(const uint8_t *p, size_t len, uint8_t v)
{
	while (len--)
		if (*p++ != v)
			return false;
	return true;
}

struct ud {
	uint64_t lba;
	uint32_t n;
};

/* UNMAP with descriptors d[0..n); plen/bd_len < 0: the right values. */
static void unmap_raw(struct fix *f, const struct ud *d, size_t n, int plen,
		      int bd_len, uint8_t byte1)
{
	size_t len = 8 + 16 * n, i;
	uint8_t *p = calloc(1, len + 16);
	uint8_t c[10] = {0x42, byte1};

	assert_non_null(p);
	tdm_put_be16(p, (uint16_t)(len - 2));
	tdm_put_be16(p + 2, (uint16_t)(bd_len < 0 ? 16 * n : (size_t)bd_len));
	for (i = 0; i < n; i++) {
		tdm_put_be64(p + 8 + 16 * i, d[i].lba);
		tdm_put_be32(p + 8 + 16 * i + 8, d[i].n);
	}
	tdm_put_be16(c + 7, (uint16_t)(plen < 0 ? len : (size_t)plen));
	run_data(f->nx, 0, c, 10, p, len);
	free(p);
}

static void unmap1(struct fix *f, uint64_t lba, uint32_t n)
{
	struct ud d = {lba, n};

	unmap_raw(f, &d, 1, -1, -1, 0);
}

static void ws(struct fix *f, bool sixteen, uint8_t byte1, uint64_t lba,
	       uint32_t n, const uint8_t *block)
{
	uint8_t c[16] = {0};

	c[0] = sixteen ? 0x93 : 0x41;
	c[1] = byte1;
	if (sixteen) {
		tdm_put_be64(c + 2, lba);
		tdm_put_be32(c + 10, n);
	} else {
		tdm_put_be32(c + 2, (uint32_t)lba);
		tdm_put_be16(c + 7, (uint16_t)n);
	}
	run_out(f->nx, 0, c, sixteen ? 16 : 10, block, block ? 512 : 0);
}

/* GET LBA STATUS from lba; R holds the parameter data. */
static void gls(struct fix *f, uint64_t lba, uint32_t alloc)
{
	uint8_t c[16] = {0x9E, 0x12};

	tdm_put_be64(c + 2, lba);
	tdm_put_be32(c + 10, alloc);
	run_data(f->nx, 0, c, 16, NULL, 0);
}

/* Descriptor i of the last GET LBA STATUS. */
static void gls_desc(unsigned i, uint64_t *lba, uint32_t *n, uint8_t *st)
{
	const uint8_t *d = R.data + 8 + 16 * i;

	assert_true(R.len >= 8 + 16 * (i + 1));
	*lba = tdm_get_be64(d);
	*n = tdm_get_be32(d + 8);
	*st = d[12] & 0x0F;
}

/* ---- the VPD pages and READ CAPACITY(16) ---- */

static void check_provisioning(struct fix *f, bool thin, bool lbprz)
{
	uint8_t rc[16] = {0x9E, 0x10};

	RUN0(f->nx, 0x12, 1, 0xB0, 0, 255, 0);
	expect_good();
	assert_int_equal(R.len, 64);
	assert_int_equal(R.data[4] & 0x01, 0); /* WSNZ */
	assert_int_equal(tdm_get_be64(R.data + 36), 0xFFFF);
	if (thin) {
		assert_int_equal(tdm_get_be32(R.data + 20), 0x100000);
		assert_int_equal(tdm_get_be32(R.data + 24), 256);
		assert_int_equal(tdm_get_be32(R.data + 28), 8);
		assert_int_equal(tdm_get_be32(R.data + 32), 0x80000000u);
	} else {
		assert_int_equal(tdm_get_be32(R.data + 20), 0);
		assert_int_equal(tdm_get_be32(R.data + 24), 0);
		assert_int_equal(tdm_get_be32(R.data + 28), 0);
		assert_int_equal(tdm_get_be32(R.data + 32), 0);
	}

	RUN0(f->nx, 0x12, 1, 0xB2, 0, 255, 0);
	expect_good();
	assert_int_equal(R.len, 8);
	assert_int_equal(tdm_get_be16(R.data + 2), 4);
	assert_int_equal(R.data[5], thin ? (0xE0 | (lbprz ? 0x04 : 0)) : 0x00);
	assert_int_equal(R.data[6] & 0x07, thin ? 2 : 0);

	tdm_put_be32(rc + 10, 32);
	run_data(f->nx, 0, rc, 16, NULL, 0);
	expect_good();
	assert_int_equal(R.data[14] & 0xC0,
			 thin ? (0x80 | (lbprz ? 0x40 : 0)) : 0x00);
}

/* physical_blocksize 4096 on 512-byte blocks: LBPPBE 3 in READ
 * CAPACITY(16), the granularities in the block limits VPD page */
static void test_physical_blocksize(void **state)
{
	uint8_t rc[16] = {0x9E, 0x10};
	struct fix *f;

	(void)state;
	f = fix_new(open_lu(TDM_HANDLER_RAM, "p4k", NULL, 16 * MiB, 512,
			    LU_THIN | LU_PHYS4K));
	tdm_put_be32(rc + 10, 32);
	run_data(f->nx, 0, rc, 16, NULL, 0);
	expect_good();
	assert_int_equal(tdm_get_be32(R.data + 8), 512);
	assert_int_equal(R.data[13] & 0x0F, 3);
	assert_int_equal(tdm_get_be16(R.data + 14) & 0x3FFF, 0); /* aligned */
	RUN0(f->nx, 0x12, 1, 0xB0, 0, 255, 0);
	expect_good();
	assert_int_equal(tdm_get_be16(R.data + 6), 8);
	assert_int_equal(tdm_get_be32(R.data + 28), 8);
	/* I/O stays per logical block: an unaligned one-block UNMAP and
	 * WRITE SAME UNMAP succeed */
	unmap1(f, 1, 1);
	expect_good();
	ws(f, false, 0x08, 3, 2, (const uint8_t[512]){0});
	expect_good();
	fix_free(f);

	/* the default: one logical block per physical block */
	f = fix_new(open_lu(TDM_HANDLER_RAM, "p512", NULL, 16 * MiB, 4096, 0));
	run_data(f->nx, 0, rc, 16, NULL, 0);
	expect_good();
	assert_int_equal(R.data[13] & 0x0F, 0);
	fix_free(f);
}

/* WRITE SAME's Data-Out Buffer is exactly one block: a transport that
 * expects more or less data gets INVALID FIELD IN CDB, nothing written */
static void test_write_same_dataout_size(void **state)
{
	uint8_t c[10] = {0x41}, blk[1024];
	struct fix *f;

	(void)state;
	memset(blk, 0xA6, sizeof(blk));
	f = fix_new(
		open_lu(TDM_HANDLER_RAM, "wsd", NULL, 16 * MiB, 512, LU_THIN));
	tdm_put_be32(c + 2, 4);
	tdm_put_be16(c + 7, 1);
	run_x(f->nx, 0, c, 10, blk, 256, 256);
	expect_sense(0x5, 0x24, 0x00);
	run_x(f->nx, 0, c, 10, blk, 1024, 1024);
	expect_sense(0x5, 0x24, 0x00);
	read10(f, 4, 1);
	expect_good();
	assert_int_equal(R.data[0], 0);
	run_out(f->nx, 0, c, 10, blk, 512);
	expect_good();
	read10(f, 4, 1);
	assert_int_equal(R.data[0], 0xA6);
	fix_free(f);
}

static void test_provisioning_pages(void **state)
{
	struct fix *f;

	(void)state;
	f = fix_new(
		open_lu(TDM_HANDLER_RAM, "thin", NULL, 16 * MiB, 512, LU_THIN));
	assert_true(tdm__lu_thin(f->lu));
	check_provisioning(f, true, true);
	fix_free(f);

	f = fix_new(open_lu(TDM_HANDLER_NULLIO, "nthin", NULL, 16 * MiB, 512,
			    LU_THIN));
	check_provisioning(f, true, true);
	fix_free(f);

	f = fix_new(open_lu(TDM_HANDLER_RAM, "full", NULL, 16 * MiB, 512, 0));
	assert_false(tdm__lu_thin(f->lu));
	check_provisioning(f, false, false);
	/* a fully provisioned LU: no UNMAP, no WRITE SAME UNMAP=1 */
	unmap1(f, 0, 1);
	expect_bad_opcode();
	ws(f, true, 0x08, 0, 1, (const uint8_t[512]){0});
	expect_cdb_err(1, 3);
	ws(f, false, 0x08, 0, 1, (const uint8_t[512]){0});
	expect_cdb_err(1, 3);
	/* ... but WRITE SAME itself */
	ws(f, false, 0, 0, 1, (const uint8_t[512]){0});
	expect_good();
	/* GET LBA STATUS: every block mapped, in one descriptor */
	gls(f, 5, 64);
	expect_good();
	{
		uint64_t lba;
		uint32_t n;
		uint8_t st;

		assert_int_equal(tdm_get_be32(R.data), 4 + 16);
		gls_desc(0, &lba, &n, &st);
		assert_int_equal(lba, 5);
		assert_int_equal(n, f->lu->nblocks - 5);
		assert_int_equal(st, 0);
	}
	fix_free(f);
}

/* ---- UNMAP ---- */

static void unmap_edges(struct fix *f)
{
	uint64_t nb = f->lu->nblocks;
	struct ud d[300];
	size_t i;

	/* SBC-4 5.30: zero blocks anywhere up to the end; no descriptor */
	unmap1(f, 0, 0);
	expect_good();
	unmap1(f, nb, 0);
	expect_good();
	unmap_raw(f, NULL, 0, -1, -1, 0);
	expect_good();
	unmap_raw(f, NULL, 0, 0, -1, 0); /* PARAMETER LIST LENGTH 0 */
	expect_good();
	/* the range ends */
	unmap1(f, nb - 1, 1);
	expect_good();
	unmap1(f, nb, 1);
	expect_lba_oob();
	unmap1(f, nb + 1, 0);
	expect_lba_oob();
	unmap1(f, nb - 1, 2);
	expect_lba_oob();
	unmap1(f, UINT64_MAX, 2); /* lba + n wraps */
	expect_lba_oob();
	unmap1(f, 0, (uint32_t)(nb < 0x100000 ? nb : 0x100000));
	expect_good();
	/* ANCHOR: not supported (ANC_SUP=0) */
	d[0] = (struct ud){0, 1};
	unmap_raw(f, d, 1, -1, -1, 0x01);
	expect_cdb_err(1, 0);
	/* parameter list lengths */
	unmap_raw(f, d, 1, 7, -1, 0);
	expect_plist_len_err();
	unmap_raw(f, d, 1, 1, -1, 0);
	expect_plist_len_err();
	unmap_raw(f, d, 1, 8 + 16, 32, 0); /* 2 announced, 1 sent */
	expect_plist_len_err();
	unmap_raw(f, d, 1, 8 + 20, 20, 0); /* incomplete one ignored */
	expect_good();
	unmap_raw(f, d, 1, -1, 15, 0);
	expect_good();
	/* the limits: 256 descriptors, 1M blocks */
	for (i = 0; i < 257; i++)
		d[i] = (struct ud){i, 1};
	unmap_raw(f, d, 256, -1, -1, 0);
	expect_good();
	unmap_raw(f, d, 257, -1, -1, 0);
	expect_param_err(2, 7);
	if (nb >= 0x100001) {
		unmap1(f, 0, 0x100000);
		expect_good();
		unmap1(f, 0, 0x100001);
		expect_param_err(8 + 8, 7);
		d[0] = (struct ud){0, 0x80000};
		d[1] = (struct ud){0x80000, 0x80000};
		d[2] = (struct ud){0x100000, 1};
		unmap_raw(f, d, 3, -1, -1, 0);
		expect_param_err(8 + 2 * 16 + 8, 7);
	}
}

static void unmap_reads_zeros(struct fix *f)
{
	struct ud d[3] = {{8, 8}, {100, 3}, {0, 0}};

	write10(f, 0, 128, 0xA5);
	unmap_raw(f, d, 3, -1, -1, 0);
	expect_good();
	read10(f, 0, 128);
	assert_true(all_bytes(R.data, 8 * 512, 0xA5));
	assert_true(all_bytes(R.data + 8 * 512, 8 * 512, 0));
	assert_true(all_bytes(R.data + 16 * 512, 84 * 512, 0xA5));
	assert_true(all_bytes(R.data + 100 * 512, 3 * 512, 0));
	assert_true(all_bytes(R.data + 103 * 512, 25 * 512, 0xA5));

	/* a bad descriptor after a good one: nothing is deallocated */
	d[0] = (struct ud){0, 8};
	d[1] = (struct ud){f->lu->nblocks, 1};
	unmap_raw(f, d, 2, -1, -1, 0);
	expect_lba_oob();
	read10(f, 0, 8);
	assert_true(all_bytes(R.data, 8 * 512, 0xA5));
}

static void test_unmap_ram(void **state)
{
	struct fix *f;

	(void)state;
	/* 1 GiB of address space, nothing committed: the 1M-block limit */
	f = fix_new(open_lu(TDM_HANDLER_RAM, "uram", NULL, 1024 * MiB, 512,
			    LU_THIN));
	unmap_edges(f);
	unmap_reads_zeros(f);
	fix_free(f);

	/* read-only: WRITE PROTECTED (the gate, after parse) */
	f = fix_new(open_lu(TDM_HANDLER_RAM, "uro", NULL, 16 * MiB, 512,
			    LU_THIN | LU_RO));
	unmap1(f, 0, 1);
	expect_sense(0x7, 0x27, 0x00);
	ws(f, false, 0, 0, 1, (const uint8_t[512]){1});
	expect_sense(0x7, 0x27, 0x00);
	fix_free(f);
}

static void test_unmap_file(void **state)
{
	struct fix *f;

	(void)state;
	f = thin_file_fix("ufile", 16 * MiB, false);
	check_provisioning(f, true, true);
	unmap_edges(f);
	unmap_reads_zeros(f);
	fix_free(f);
}

/* ---- WRITE SAME ---- */

static void ws_check(struct fix *f, uint32_t lba, uint32_t n, uint8_t v)
{
	uint32_t done = 0;

	while (done < n) {
		uint16_t k = n - done > 2048 ? 2048 : (uint16_t)(n - done);

		read10(f, lba + done, k);
		assert_true(all_bytes(R.data, (size_t)k * 512, v));
		done += k;
	}
}

static void ws_tests(struct fix *f)
{
	uint64_t nb = f->lu->nblocks, max = 0xFFFF;
	uint8_t blk[512], zero[512];
	unsigned i;

	memset(zero, 0, sizeof(zero));
	for (i = 0; i < 2; i++) {
		bool s = i == 1;

		memset(blk, 0x11 + i, sizeof(blk));
		ws(f, s, 0, 3, 1, blk);
		expect_good();
		ws_check(f, 3, 1, 0x11 + i);
		/* more than one 1 MiB chunk */
		ws(f, s, 0, 10, 5000, blk);
		expect_good();
		ws_check(f, 10, 5000, 0x11 + i);
		/* the ends of the medium */
		ws(f, s, 0, nb - 7, 7, blk);
		expect_good();
		ws_check(f, (uint32_t)(nb - 7), 7, 0x11 + i);
		ws(f, s, 0, nb - 7, 8, blk);
		expect_lba_oob();
		ws(f, s, 0, nb, 1, blk);
		expect_lba_oob();
		ws(f, s, 0, s ? UINT64_MAX : 0xFFFFFFFFu, 1, blk);
		expect_lba_oob();
		/* 0 blocks with WSNZ=0: to the end of the medium */
		memset(blk, 0x33 + i, sizeof(blk));
		ws(f, s, 0, nb - 300, 0, blk);
		expect_good();
		ws_check(f, (uint32_t)(nb - 300), 300, 0x33 + i);
		ws(f, s, 0, nb, 0, blk);
		expect_lba_oob();
		ws(f, s, 0, nb + 1, 0, blk);
		expect_lba_oob();
		/* the CDB's refused bits */
		ws(f, s, 0xE0, 0, 1, blk);
		expect_cdb_err(1, 7);
		ws(f, s, 0x20, 0, 1, blk);
		expect_cdb_err(1, 7);
		ws(f, s, 0x10, 0, 1, blk);
		expect_cdb_err(1, 4);
		ws(f, s, 0x18, 0, 1, blk);
		expect_cdb_err(1, 4);
		ws(f, s, 0x04, 0, 1, blk);
		expect_cdb_err(1, 2);
		ws(f, s, 0x02, 0, 1, blk);
		expect_cdb_err(1, 1);
		/* UNMAP=1: deallocated whatever the block (SBC-4: a thin
		 * LU should deallocate), reads zeros (LBPRZ) */
		ws(f, s, 0x08, 20, 30, blk);
		expect_good();
		ws_check(f, 20, 30, 0);
		ws(f, s, 0, 20, 30, blk);
		expect_good();
		ws_check(f, 20, 30, 0x33 + i);
		ws(f, s, 0x08, 20, 30, zero);
		expect_good();
		ws_check(f, 20, 30, 0);
		/* zeros without UNMAP */
		ws(f, s, 0, 10, 10, zero);
		expect_good();
		ws_check(f, 10, 10, 0);
		ws_check(f, 50, 100, 0x11 + i);
	}
	/* WRITE SAME(10) reserved bit 0; WRITE SAME(16) NDOB: zeros, no
	 * data-out */
	ws(f, false, 0x01, 0, 1, blk);
	expect_cdb_err(1, 0);
	ws(f, true, 0x01, 60, 40, NULL);
	expect_good();
	ws_check(f, 60, 40, 0);
	ws_check(f, 100, 10, 0x12);
	ws(f, true, 0x09, 100, 10, NULL); /* NDOB + UNMAP */
	expect_good();
	ws_check(f, 100, 10, 0);
	/* MAXIMUM WRITE SAME LENGTH */
	if (nb > max + 1) {
		ws(f, true, 0x01, 0, (uint32_t)max, NULL);
		expect_good();
		ws(f, true, 0x01, 0, (uint32_t)max + 1, NULL);
		expect_cdb_err(10, 7);
		ws(f, true, 0, nb - max - 1, 0, blk);
		expect_cdb_err(10, 7);
		ws(f, false, 0, 0, 0, blk);
		expect_cdb_err(7, 7);
		ws(f, true, 0, nb - max, 0, blk);
		expect_good();
	}
}

static void test_write_same_ram(void **state)
{
	struct fix *f;

	(void)state;
	f = fix_new(open_lu(TDM_HANDLER_RAM, "wsram", NULL, 128 * MiB, 512,
			    LU_THIN));
	ws_tests(f);
	fix_free(f);
}

static void test_write_same_file(void **state)
{
	struct fix *f;

	(void)state;
	f = thin_file_fix("wsfile", 48 * MiB, false);
	ws_tests(f);
	fix_free(f);
}

/* ---- GET LBA STATUS ---- */

static void test_lba_status_file(void **state)
{
	struct fix *f;
	uint64_t lba, nb;
	uint32_t n;
	uint8_t st, c[16] = {0x9E, 0x12};

	(void)state;
	f = thin_file_fix("glsfile", 8 * MiB, true);
	nb = f->lu->nblocks;
	/* a new sparse file: everything deallocated */
	gls(f, 0, 1024);
	expect_good();
	assert_int_equal(tdm_get_be32(R.data), 4 + 16);
	gls_desc(0, &lba, &n, &st);
	assert_int_equal(lba, 0);
	assert_int_equal(n, nb);
	assert_int_equal(st, 1);

	/* one 512-byte block maps its filesystem block (4 KiB at least) */
	write10(f, 64, 1, 0x5A);
	gls(f, 0, 1024);
	expect_good();
	assert_int_equal(tdm_get_be32(R.data), 4 + 3 * 16);
	gls_desc(0, &lba, &n, &st);
	assert_int_equal(lba, 0);
	assert_int_equal(st, 1);
	assert_true(n <= 64);
	gls_desc(1, &lba, &n, &st);
	assert_true(lba <= 64);
	assert_true(lba + n > 64);
	assert_int_equal(st, 0);
	gls_desc(2, &lba, &n, &st);
	assert_int_equal(lba + n, nb);
	assert_int_equal(st, 1);

	/* the first descriptor starts at the STARTING LBA */
	gls(f, 65, 1024);
	expect_good();
	gls_desc(0, &lba, &n, &st);
	assert_int_equal(lba, 65);

	/* the allocation length cuts descriptors, not the length field */
	gls(f, 0, 24);
	expect_good();
	assert_int_equal(R.len, 24);
	assert_int_equal(tdm_get_be32(R.data), 4 + 16);
	gls(f, 0, 8);
	expect_good();
	assert_int_equal(R.len, 8);
	assert_int_equal(tdm_get_be32(R.data), 4 + 16);
	gls(f, 0, 0);
	expect_good();
	assert_int_equal(R.len, 0);

	/* UNMAP gives it back */
	unmap1(f, 0, (uint32_t)nb);
	expect_good();
	gls(f, 0, 1024);
	expect_good();
	assert_int_equal(tdm_get_be32(R.data), 4 + 16);
	gls_desc(0, &lba, &n, &st);
	assert_int_equal(n, nb);
	assert_int_equal(st, 1);

	/* WRITE SAME UNMAP=1 with zeros deallocates too */
	write10(f, 0, 64, 0x77);
	ws(f, true, 0x08, 0, 64, (const uint8_t[512]){0});
	expect_good();
	gls(f, 0, 1024);
	gls_desc(0, &lba, &n, &st);
	assert_int_equal(n, nb);
	assert_int_equal(st, 1);

	/* the range: the last block, and past it */
	gls(f, nb - 1, 1024);
	expect_good();
	gls_desc(0, &lba, &n, &st);
	assert_int_equal(lba, nb - 1);
	assert_int_equal(n, 1);
	gls(f, nb, 1024);
	expect_lba_oob();
	gls(f, UINT64_MAX, 1024);
	expect_lba_oob();
	/* REPORT TYPE other than 0 */
	tdm_put_be32(c + 10, 64);
	c[14] = 0x01;
	run_data(f->nx, 0, c, 16, NULL, 0);
	expect_cdb_err(14, 0);
	fix_free(f);
}

static void test_lba_status_ram(void **state)
{
	struct fix *f;
	uint64_t lba, nb;
	uint32_t n;
	uint8_t st;
	const uint32_t chunk = MiB / 512;

	(void)state;
	f = fix_new(open_lu(TDM_HANDLER_RAM, "glsram", NULL, 8 * MiB, 512,
			    LU_THIN));
	nb = f->lu->nblocks;
	gls(f, 0, 1024);
	expect_good();
	gls_desc(0, &lba, &n, &st);
	assert_int_equal(n, nb);
	assert_int_equal(st, 1);
	/* ram keeps the status per 1 MiB chunk */
	write10(f, chunk + 5, 1, 1);
	gls(f, 0, 1024);
	expect_good();
	assert_int_equal(tdm_get_be32(R.data), 4 + 3 * 16);
	gls_desc(1, &lba, &n, &st);
	assert_int_equal(lba, chunk);
	assert_int_equal(n, chunk);
	assert_int_equal(st, 0);
	/* part of a chunk stays mapped; all of it is given back */
	unmap1(f, chunk, chunk - 1);
	expect_good();
	gls(f, chunk, 1024);
	gls_desc(0, &lba, &n, &st);
	assert_int_equal(st, 0);
	unmap1(f, chunk, chunk);
	expect_good();
	gls(f, 0, 1024);
	assert_int_equal(tdm_get_be32(R.data), 4 + 16);
	gls_desc(0, &lba, &n, &st);
	assert_int_equal(n, nb);
	assert_int_equal(st, 1);
	fix_free(f);
}

/* ---- REPORT SUPPORTED OPERATION CODES ---- */

static void rsoc(struct fix *f, uint8_t byte2, uint8_t op, uint16_t sa,
		 uint32_t alloc)
{
	uint8_t c[12] = {0xA3, 0x0C, byte2, op};

	tdm_put_be16(c + 4, sa);
	tdm_put_be32(c + 6, alloc);
	run_data(f->nx, 0, c, 12, NULL, 0);
}

static void check_rsoc(struct fix *f, bool thin)
{
	size_t nops = tdm__op_count(), i, j, ndesc, listed = 0;
	uint8_t *all;
	uint32_t all_len;

	/* all commands, without and with timeouts descriptors */
	rsoc(f, 0x00, 0, 0, 65535);
	expect_good();
	all_len = R.len;
	all = malloc(all_len);
	assert_non_null(all);
	memcpy(all, R.data, all_len);
	assert_int_equal(tdm_get_be32(all), all_len - 4);
	assert_int_equal((all_len - 4) % 8, 0);
	ndesc = (all_len - 4) / 8;

	for (i = 0; i < nops; i++) {
		const struct tdm_opdesc *op = tdm__op_at(i);
		bool sup = !op->supported || op->supported(f->lu);
		size_t found = 0;

		for (j = 0; j < ndesc; j++) {
			const uint8_t *d = all + 4 + 8 * j;

			if (d[0] != op->opcode ||
			    (op->has_sa && tdm_get_be16(d + 2) != op->sa))
				continue;
			found++;
			assert_int_equal(d[5] & 0x01, op->has_sa);
			assert_int_equal(d[5] & 0x02, 0); /* CTDP */
			if (!op->has_sa)
				assert_int_equal(tdm_get_be16(d + 2), 0);
			assert_int_equal(tdm_get_be16(d + 6), op->cdb_len);
		}
		assert_int_equal(found, sup ? 1 : 0);
		listed += found;
		if (op->opcode == 0x42)
			assert_int_equal(sup, thin);

		/* one command: the table's CDB length and usage data */
		rsoc(f, op->has_sa ? 0x02 : 0x01, op->opcode, op->sa, 512);
		expect_good();
		assert_int_equal(R.data[1] & 0x07, sup ? 3 : 1);
		if (sup) {
			assert_int_equal(R.len, 4 + op->cdb_len);
			assert_int_equal(tdm_get_be16(R.data + 2), op->cdb_len);
			assert_memory_equal(R.data + 4, op->usage, op->cdb_len);
			assert_int_equal(R.data[4], op->opcode);
		}
		/* 011b: with or without service action */
		rsoc(f, 0x03, op->opcode, op->sa, 512);
		expect_good();
		assert_int_equal(R.data[1] & 0x07, sup ? 3 : 1);
		/* the other one-command option is invalid */
		rsoc(f, op->has_sa ? 0x01 : 0x02, op->opcode, op->sa, 512);
		expect_cdb_err(3, 7);
		/* RCTD: CTDP and a command timeouts descriptor */
		rsoc(f, 0x80 | (op->has_sa ? 0x02 : 0x01), op->opcode, op->sa,
		     512);
		expect_good();
		if (sup) {
			assert_int_equal(R.data[1], 0x83);
			assert_int_equal(R.len, 4 + op->cdb_len + 12);
			assert_int_equal(tdm_get_be16(R.data + 4 + op->cdb_len),
					 0x0A);
		}
	}
	assert_int_equal(listed, ndesc); /* nothing beyond the table */

	/* sorted by operation code, then service action */
	for (j = 1; j < ndesc; j++) {
		const uint8_t *a = all + 4 + 8 * (j - 1), *b = a + 8;

		assert_true(a[0] < b[0] ||
			    (a[0] == b[0] &&
			     tdm_get_be16(a + 2) < tdm_get_be16(b + 2)));
	}

	rsoc(f, 0x80, 0, 0, 65535);
	expect_good();
	assert_int_equal(R.len, 4 + 20 * ndesc);
	assert_int_equal(tdm_get_be32(R.data), 20 * ndesc);
	for (j = 0; j < ndesc; j++) {
		const uint8_t *d = R.data + 4 + 20 * j;

		assert_int_equal(d[5] & 0x02, 0x02);
		assert_int_equal(tdm_get_be16(d + 8), 0x0A);
	}
	/* truncated: COMMAND DATA LENGTH still says it all */
	rsoc(f, 0x00, 0, 0, 10);
	expect_good();
	assert_int_equal(R.len, 10);
	assert_int_equal(tdm_get_be32(R.data), all_len - 4);
	free(all);
}

static void test_rsoc(void **state)
{
	struct fix *f;

	(void)state;
	f = fix_new(open_lu(TDM_HANDLER_RAM, "rsthin", NULL, 16 * MiB, 512,
			    LU_THIN));
	check_rsoc(f, true);
	/* READ/WRITE(10) announce DPO and FUA (the DPOFUA of MODE SENSE) */
	rsoc(f, 0x01, 0x2A, 0, 512);
	expect_good();
	assert_int_equal(R.data[5] & 0x18, 0x18);
	/* WRITE SAME(16): UNMAP and NDOB, not ANCHOR nor WRPROTECT */
	rsoc(f, 0x01, 0x93, 0, 512);
	expect_good();
	assert_int_equal(R.data[5], 0x09);
	/* unknown operation codes and service actions: not supported */
	rsoc(f, 0x01, 0x02, 0, 512);
	expect_good();
	assert_int_equal(R.data[1] & 0x07, 1);
	assert_int_equal(R.len, 4);
	rsoc(f, 0x02, 0x9E, 0x1F, 512);
	expect_good();
	assert_int_equal(R.data[1] & 0x07, 1);
	rsoc(f, 0x03, 0xA3, 0x1F, 512);
	expect_good();
	assert_int_equal(R.data[1] & 0x07, 1);
	/* reserved REPORTING OPTIONS */
	rsoc(f, 0x04, 0, 0, 512);
	expect_cdb_err(2, 2);
	rsoc(f, 0x07, 0, 0, 512);
	expect_cdb_err(2, 2);
	fix_free(f);

	f = fix_new(open_lu(TDM_HANDLER_RAM, "rsfull", NULL, 16 * MiB, 512, 0));
	check_rsoc(f, false);
	rsoc(f, 0x01, 0x42, 0, 512);
	expect_good();
	assert_int_equal(R.data[1] & 0x07, 1);
	fix_free(f);
}

/* ---- REPORT SUPPORTED TASK MANAGEMENT FUNCTIONS ---- */

static void rstmf(struct fix *f, uint8_t byte2, uint32_t alloc)
{
	uint8_t c[12] = {0xA3, 0x0D, byte2};

	tdm_put_be32(c + 6, alloc);
	run_data(f->nx, 0, c, 12, NULL, 0);
}

static void test_rstmf(void **state)
{
	struct fix *f;

	(void)state;
	f = fix_new(open_lu(TDM_HANDLER_RAM, "tmf", NULL, 16 * MiB, 512, 0));
	rstmf(f, 0, 255);
	expect_good();
	assert_int_equal(R.len, 4);
	/* ATS ATSS CTSS LURS QTS TRS (no CLEAR ACA, no WAKEUP) */
	assert_int_equal(R.data[0], 0xDE);
	/* QAES QTSS ITNRS */
	assert_int_equal(R.data[1], 0x07);
	assert_int_equal(R.data[3], 0);
	rstmf(f, 0x80, 255); /* REPD: the extended format */
	expect_good();
	assert_int_equal(R.len, 16);
	assert_int_equal(R.data[0], 0xDE);
	assert_int_equal(R.data[3], 0x0C);
	rstmf(f, 0x80, 4);
	expect_good();
	assert_int_equal(R.len, 4);
	rstmf(f, 0, 3);
	expect_cdb_err(6, 7);
	rstmf(f, 0, 0);
	expect_cdb_err(6, 7);
	fix_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_provisioning_pages),
		cmocka_unit_test(test_physical_blocksize),
		cmocka_unit_test(test_write_same_dataout_size),
		cmocka_unit_test(test_unmap_ram),
		cmocka_unit_test(test_unmap_file),
		cmocka_unit_test(test_write_same_ram),
		cmocka_unit_test(test_write_same_file),
		cmocka_unit_test(test_lba_status_file),
		cmocka_unit_test(test_lba_status_ram),
		cmocka_unit_test(test_rsoc),
		cmocka_unit_test(test_rstmf),
	};
	int rc;

	loop = tdm_loop_new();
	if (!loop) {
		fprintf(stderr, "cannot create an event loop\n");
		return 77;
	}
	tdm_loop_set_current(loop);
	fixed_sense_only = true;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	tdm_loop_set_current(NULL);
	tdm_loop_free(loop);
	return rc ? 1 : 0;
}
