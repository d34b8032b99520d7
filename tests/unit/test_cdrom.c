/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * test_cdrom.c - vcdrom LUs (MMC, device type 05h) driven through the
 * real command gate: INQUIRY, READ, GET CONFIGURATION, READ TOC, GET EVENT
 * STATUS NOTIFICATION, an empty drive, eject and load with PREVENT, and
 * the media change of tandemctl (tdm__mmc_change_medium()).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scsi/scsi_int.h"
#include "lib/loop.h"
#include "gate_harness.h"

#define NBLK 64 /* blocks of the first image */

static char img1[64], img2[64];

#define expect_no_medium() expect_sense(0x2, 0x3A, 0x00)
#define expect_medium_changed() expect_sense(0x6, 0x28, 0x00)

/* ---- images and LUs ---- */

/* An "ISO": NBLK (or n) 2048-byte blocks, each filled with its LBA and
 * a tag byte, plus a partial block that is not exported. */
static void make_image(char *path, size_t n, uint8_t tag)
{
	uint8_t blk[2048];
	int fd;
	size_t i;

	snprintf(path, 64, "/tmp/tandem-cdrom-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	for (i = 0; i < n; i++) {
		memset(blk, tag, sizeof(blk));
		tdm_put_be32(blk, (uint32_t)i);
		assert_int_equal(write(fd, blk, sizeof(blk)), sizeof(blk));
	}
	assert_int_equal(write(fd, blk, 100), 100);
	close(fd);
}

static void cd_conf(struct tdm_conf_device *c, const char *path)
{
	tdm_conf_device_init(c, TDM_HANDLER_CDROM);
	snprintf(c->name, sizeof(c->name), "cd0");
	if (path)
		snprintf(c->filename, sizeof(c->filename), "%s", path);
}

static struct tdm_lu *cd_open(const char *path)
{
	struct tdm_conf_device c;
	struct tdm_lu *lu = NULL;
	char err[256] = "";
	int r;

	cd_conf(&c, path);
	r = tdm__lu_open(&c, &lu, err, sizeof(err));
	if (r < 0)
		print_error("%s\n", err);
	assert_int_equal(r, 0);
	return lu;
}

static int change(struct tdm_lu *lu, const char *path)
{
	struct tdm_conf_device c;
	char err[256] = "";

	cd_conf(&c, path);
	assert_true(tdm__mmc_only_medium_differs(lu, &c));
	return tdm__mmc_change_medium(lu, &c, err, sizeof(err));
}

struct fix {
	struct tdm_lu *lu;
	struct tdm_nexus *nx, *nx2;
};

static int fix_open(void **state, const char *path)
{
	struct fix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->lu = cd_open(path);
	f->nx = tdm__test_nexus(&f->lu, 1, &tops);
	f->nx2 = tdm__test_nexus(&f->lu, 1, &tops);
	assert_non_null(f->nx);
	assert_non_null(f->nx2);
	*state = f;
	return 0;
}

static int fix_setup(void **state)
{
	return fix_open(state, img1);
}

static int fix_setup_empty(void **state)
{
	return fix_open(state, NULL);
}

static int fix_teardown(void **state)
{
	struct fix *f = *state;

	tdm__test_nexus_free(f->nx);
	tdm__test_nexus_free(f->nx2);
	tdm__lu_put(f->lu);
	free(f);
	result_free();
	return 0;
}

/* ---- tests ---- */

static void test_inquiry(void **state)
{
	struct fix *f = *state;
	bool mmc6 = false;
	size_t i;

	RUN0(f->nx, 0x12, 0x00, 0x00, 0x00, 0x60, 0x00);
	expect_good();
	assert_int_equal(R.data[0], 0x05); /* CD/DVD device */
	assert_int_equal(R.data[1], 0x80); /* RMB */
	for (i = 58; i < 74; i += 2)
		if (tdm_get_be16(R.data + i) == 0x04E0)
			mmc6 = true;
	assert_true(mmc6);
	RUN0(f->nx, 0x12, 0x01, 0x00, 0x00, 0xFF, 0x00);
	expect_good();
	assert_int_equal(R.len, 7);
	assert_int_equal(R.data[0], 0x05);
	assert_int_equal(R.data[6], 0x83);
	RUN0(f->nx, 0x12, 0x01, 0x83, 0x00, 0xFF, 0x00);
	expect_good();
	/* block limits are a disk's */
	RUN0(f->nx, 0x12, 0x01, 0xB0, 0x00, 0xFF, 0x00);
	expect_sense(0x5, 0x24, 0x00);
	/* WRITE(10) is no MMC command of a CD-ROM */
	RUN0(f->nx, 0x2A, 0, 0, 0, 0, 0, 0, 0, 1, 0);
	expect_sense(0x5, 0x20, 0x00);
}

static void test_read(void **state)
{
	struct fix *f = *state;

	RUN0(f->nx, 0x00, 0, 0, 0, 0, 0);
	expect_good();
	RUN0(f->nx, 0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0);
	expect_good();
	assert_int_equal(tdm_get_be32(R.data), NBLK - 1);
	assert_int_equal(tdm_get_be32(R.data + 4), 2048);
	RUN0(f->nx, 0x28, 0, 0, 0, 0, 5, 0, 0, 2, 0);
	expect_good();
	assert_int_equal(R.len, 4096);
	assert_int_equal(tdm_get_be32(R.data), 5);
	assert_int_equal(tdm_get_be32(R.data + 2048), 6);
	assert_int_equal(R.data[100], 0xA1);
	RUN0(f->nx, 0xA8, 0, 0, 0, 0, NBLK - 1, 0, 0, 0, 1, 0, 0);
	expect_good();
	assert_int_equal(tdm_get_be32(R.data), NBLK - 1);
	RUN0(f->nx, 0x28, 0, 0, 0, 0, NBLK - 1, 0, 0, 2, 0);
	expect_sense(0x5, 0x21, 0x00);
	/* READ CD: the user data of sectors 5 and 6, any sector type and
	 * mode 1; nothing without USER DATA */
	RUN0(f->nx, 0xBE, 0x00, 0, 0, 0, 5, 0, 0, 2, 0x10, 0, 0);
	expect_good();
	assert_int_equal(R.len, 4096);
	assert_int_equal(tdm_get_be32(R.data), 5);
	assert_int_equal(tdm_get_be32(R.data + 2048), 6);
	RUN0(f->nx, 0xBE, 2 << 2, 0, 0, 0, 7, 0, 0, 1, 0x10, 0, 0);
	expect_good();
	assert_int_equal(tdm_get_be32(R.data), 7);
	RUN0(f->nx, 0xBE, 0x00, 0, 0, 0, 5, 0, 0, 2, 0x00, 0, 0);
	expect_good();
	assert_int_equal(R.len, 0);
	/* CD-DA and mode 2 of a mode 1 track */
	RUN0(f->nx, 0xBE, 1 << 2, 0, 0, 0, 5, 0, 0, 1, 0x10, 0, 0);
	expect_sense(0x5, 0x64, 0x00);
	RUN0(f->nx, 0xBE, 4 << 2, 0, 0, 0, 5, 0, 0, 1, 0x10, 0, 0);
	expect_sense(0x5, 0x64, 0x00);
	/* sync, headers, EDC/ECC, C2, sub-channels: not kept */
	RUN0(f->nx, 0xBE, 0x00, 0, 0, 0, 5, 0, 0, 1, 0xF8, 0, 0);
	expect_cdb_err(9, 7);
	RUN0(f->nx, 0xBE, 0x00, 0, 0, 0, 5, 0, 0, 1, 0x18, 0, 0);
	expect_cdb_err(9, 3);
	RUN0(f->nx, 0xBE, 0x00, 0, 0, 0, 5, 0, 0, 1, 0x10, 0x01, 0);
	expect_cdb_err(10, 2);
	RUN0(f->nx, 0xBE, 0x00, 0, 0, 0, NBLK - 1, 0, 0, 2, 0x10, 0, 0);
	expect_sense(0x5, 0x21, 0x00);
	/* MODE SENSE(10) all pages: WP, capabilities page */
	RUN0(f->nx, 0x5A, 0x00, 0x3F, 0, 0, 0, 0, 0, 0xFF, 0);
	expect_good();
	assert_int_equal(R.data[3] & 0x80, 0x80);
	assert_int_equal(tdm_get_be16(R.data + 6), 0); /* no descriptors */
	assert_int_equal(R.data[8 + 12 + 12], 0x2A);
	RUN0(f->nx, 0x1A, 0x00, 0x2A, 0, 0xFF, 0);
	expect_good();
	assert_int_equal(R.data[2] & 0x80, 0x80);
	assert_int_equal(R.data[4], 0x2A);
}

/* Find feature code in GET CONFIGURATION data; NULL if absent. */
static const uint8_t *feature(uint16_t code)
{
	uint32_t end = 4 + tdm_get_be32(R.data), off = 8;

	if (end > R.len)
		end = R.len;
	while (off + 4 <= end) {
		if (tdm_get_be16(R.data + off) == code)
			return R.data + off;
		off += 4u + R.data[off + 3];
	}
	return NULL;
}

static void test_get_configuration(void **state)
{
	struct fix *f = *state;
	const uint8_t *p;

	/* RT 00b: every feature */
	RUN0(f->nx, 0x46, 0x00, 0, 0, 0, 0, 0, 0x01, 0x00, 0);
	expect_good();
	assert_int_equal(tdm_get_be16(R.data + 6), 0x0008); /* CD-ROM */
	p = feature(0x0000);
	assert_non_null(p);
	assert_int_equal(p[2] & 0x03, 0x03); /* persistent, current */
	assert_int_equal(p[3], 8);
	assert_int_equal(tdm_get_be16(p + 4), 0x0010);
	assert_int_equal(p[6] & 1, 0);
	assert_int_equal(tdm_get_be16(p + 8), 0x0008);
	assert_int_equal(p[10] & 1, 1);
	assert_non_null(feature(0x0001));
	assert_non_null(feature(0x0002));
	p = feature(0x0003);
	assert_non_null(p);
	assert_int_equal(p[4] & 0x09, 0x09); /* Eject, Lock */
	p = feature(0x0010);
	assert_non_null(p);
	assert_int_equal(p[2] & 1, 1);
	assert_int_equal(tdm_get_be32(p + 4), 2048);
	p = feature(0x001F);
	assert_non_null(p);
	assert_int_equal(p[2] & 1, 0); /* DVD Read not current */
	/* RT 10b: that feature only */
	RUN0(f->nx, 0x46, 0x02, 0x00, 0x10, 0, 0, 0, 0x01, 0x00, 0);
	expect_good();
	assert_int_equal(tdm_get_be32(R.data), 4 + 12);
	assert_int_equal(tdm_get_be16(R.data + 8), 0x0010);
	/* RT 01b from 0003h: current ones */
	RUN0(f->nx, 0x46, 0x01, 0x00, 0x03, 0, 0, 0, 0x01, 0x00, 0);
	expect_good();
	assert_null(feature(0x0000));
	assert_non_null(feature(0x0003));
	assert_non_null(feature(0x001E));
	assert_null(feature(0x001F));
	/* RT 11b is reserved */
	RUN0(f->nx, 0x46, 0x03, 0, 0, 0, 0, 0, 0x01, 0x00, 0);
	expect_sense(0x5, 0x24, 0x00);
	/* allocation length 8: the header only */
	RUN0(f->nx, 0x46, 0x00, 0, 0, 0, 0, 0, 0x00, 0x08, 0);
	expect_good();
	assert_int_equal(R.len, 8);
	assert_true(tdm_get_be32(R.data) > 4);
}

/* A DVD-sized image (sparse): DVD-ROM profile, READ DISC STRUCTURE */
static void test_dvd(void **state)
{
	struct fix *f = *state;
	const uint32_t nblk = 360000u + 4096u;
	char dvd[64];
	const uint8_t *p;
	int fd;

	/* on a CD there is no disc structure */
	RUN0(f->nx, 0xAD, 0, 0, 0, 0, 0, 0, 0x00, 0x08, 0x04, 0, 0);
	expect_cdb_err(7, 7);

	snprintf(dvd, sizeof(dvd), "/tmp/tandem-dvd-XXXXXX");
	fd = mkstemp(dvd);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)nblk * 2048), 0);
	close(fd);
	assert_int_equal(change(f->lu, dvd), 0);
	/* the medium change's unit attention */
	RUN0(f->nx, 0x00, 0, 0, 0, 0, 0);
	RUN0(f->nx, 0x46, 0x00, 0, 0, 0, 0, 0, 0x01, 0x00, 0);
	expect_good();
	assert_int_equal(tdm_get_be16(R.data + 6), 0x0010); /* DVD-ROM */
	p = feature(0x001F);
	assert_non_null(p);
	assert_int_equal(p[2] & 1, 1); /* DVD Read current */

	/* format 00h: physical format information */
	RUN0(f->nx, 0xAD, 0, 0, 0, 0, 0, 0, 0x00, 0x08, 0x04, 0, 0);
	expect_good();
	assert_int_equal(R.len, 2052);
	assert_int_equal(tdm_get_be16(R.data), 2050);
	assert_int_equal(R.data[4], 0x01);	  /* DVD-ROM, part version 1 */
	assert_int_equal(R.data[6] & 0x0F, 0x01); /* embossed layer */
	assert_int_equal(tdm_get_be32(R.data + 8), 0x030000);
	assert_int_equal(tdm_get_be32(R.data + 12), 0x030000 + nblk - 1);
	/* format FFh: the list */
	RUN0(f->nx, 0xAD, 0, 0, 0, 0, 0, 0, 0xFF, 0x00, 0xFF, 0, 0);
	expect_good();
	assert_int_equal(tdm_get_be16(R.data), 10);
	assert_int_equal(R.data[4], 0x00);
	assert_int_equal(R.data[8], 0xFF);
	/* other formats, media types, layers */
	RUN0(f->nx, 0xAD, 0, 0, 0, 0, 0, 0, 0x04, 0x08, 0x04, 0, 0);
	expect_cdb_err(7, 7);
	RUN0(f->nx, 0xAD, 0x01, 0, 0, 0, 0, 0, 0x00, 0x08, 0x04, 0, 0);
	expect_cdb_err(1, 3);
	RUN0(f->nx, 0xAD, 0, 0, 0, 0, 0, 1, 0x00, 0x08, 0x04, 0, 0);
	expect_cdb_err(6, 7);

	assert_int_equal(change(f->lu, img1), 0);
	unlink(dvd);
}

static void test_read_toc(void **state)
{
	struct fix *f = *state;

	/* format 0, LBA */
	RUN0(f->nx, 0x43, 0x00, 0x00, 0, 0, 0, 0, 0x03, 0x24, 0);
	expect_good();
	assert_int_equal(tdm_get_be16(R.data), 18);
	assert_int_equal(R.data[2], 1);
	assert_int_equal(R.data[3], 1);
	assert_int_equal(R.data[5], 0x14);
	assert_int_equal(R.data[6], 1);
	assert_int_equal(tdm_get_be32(R.data + 8), 0);
	assert_int_equal(R.data[14], 0xAA);
	assert_int_equal(tdm_get_be32(R.data + 16), NBLK);
	/* format 0, MSF: lead-out at NBLK + 150 frames = 0:02:64 */
	RUN0(f->nx, 0x43, 0x02, 0x00, 0, 0, 0, 0, 0x03, 0x24, 0);
	expect_good();
	assert_int_equal(R.data[9], 0);
	assert_int_equal(R.data[10], 2);
	assert_int_equal(R.data[11], 0);
	assert_int_equal(R.data[17], 0);
	assert_int_equal(R.data[18], (NBLK + 150) / 75);
	assert_int_equal(R.data[19], (NBLK + 150) % 75);
	/* starting at the lead-out */
	RUN0(f->nx, 0x43, 0x00, 0x00, 0, 0, 0, 0xAA, 0x03, 0x24, 0);
	expect_good();
	assert_int_equal(tdm_get_be16(R.data), 10);
	assert_int_equal(R.data[6], 0xAA);
	RUN0(f->nx, 0x43, 0x00, 0x00, 0, 0, 0, 0x02, 0x03, 0x24, 0);
	expect_sense(0x5, 0x24, 0x00);
	/* format 1: session information */
	RUN0(f->nx, 0x43, 0x00, 0x01, 0, 0, 0, 0, 0x00, 0x0C, 0);
	expect_good();
	assert_int_equal(tdm_get_be16(R.data), 10);
	assert_int_equal(R.data[6], 1);
	assert_int_equal(tdm_get_be32(R.data + 8), 0);
	/* the old format field (SFF-8020) in the CONTROL byte: 01b */
	RUN0(f->nx, 0x43, 0x00, 0x00, 0, 0, 0, 0, 0x00, 0x0C, 0x40);
	expect_good();
	assert_int_equal(tdm_get_be16(R.data), 10);
	/* format 2 (full TOC) is not implemented */
	RUN0(f->nx, 0x43, 0x00, 0x02, 0, 0, 0, 0, 0x03, 0x24, 0);
	expect_sense(0x5, 0x24, 0x00);
}

/* GET EVENT STATUS NOTIFICATION, media class: event code, byte 5 */
static void gesn_media(struct tdm_nexus *nx, uint8_t *ev, uint8_t *st)
{
	RUN0(nx, 0x4A, 0x01, 0, 0, 0x10, 0, 0, 0x00, 0x08, 0);
	expect_good();
	assert_int_equal(R.len, 8);
	assert_int_equal(R.data[2] & 0x07, 4);
	assert_int_equal(R.data[3], 0x12);
	*ev = R.data[4] & 0x0F;
	*st = R.data[5];
}

static void test_gesn(void **state)
{
	struct fix *f = *state;
	uint8_t ev, st;

	/* polled only */
	RUN0(f->nx, 0x4A, 0x00, 0, 0, 0x10, 0, 0, 0x00, 0x08, 0);
	expect_sense(0x5, 0x24, 0x00);
	/* no supported class asked: NEA */
	RUN0(f->nx, 0x4A, 0x01, 0, 0, 0x40, 0, 0, 0x00, 0x08, 0);
	expect_good();
	assert_int_equal(R.data[2], 0x80);
	/* operational change class: no change */
	RUN0(f->nx, 0x4A, 0x01, 0, 0, 0x02, 0, 0, 0x00, 0x08, 0);
	expect_good();
	assert_int_equal(R.data[2], 1);
	assert_int_equal(R.data[4], 0);
	gesn_media(f->nx, &ev, &st);
	assert_int_equal(ev, 0);
	assert_int_equal(st, 0x02); /* present, tray closed */

	/* media change: NewMedia once, then no change; a UA on both
	 * nexuses that GESN neither reports nor clears */
	make_image(img2, NBLK * 2, 0xB2);
	assert_int_equal(change(f->lu, img2), 0);
	gesn_media(f->nx, &ev, &st);
	assert_int_equal(ev, 2);
	assert_int_equal(st, 0x02);
	gesn_media(f->nx, &ev, &st);
	assert_int_equal(ev, 0);
	RUN0(f->nx, 0x00, 0, 0, 0, 0, 0);
	expect_medium_changed();
	RUN0(f->nx2, 0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0);
	expect_medium_changed();
	RUN0(f->nx, 0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0);
	expect_good();
	assert_int_equal(tdm_get_be32(R.data), NBLK * 2 - 1);
	RUN0(f->nx, 0x28, 0, 0, 0, 0, NBLK + 1, 0, 0, 1, 0);
	expect_good();
	assert_int_equal(tdm_get_be32(R.data), NBLK + 1);
	assert_int_equal(R.data[100], 0xB2);

	/* eject from tandemctl: MediaRemoval, then NOT READY */
	assert_int_equal(change(f->lu, ""), 0);
	gesn_media(f->nx, &ev, &st);
	assert_int_equal(ev, 3);
	assert_int_equal(st, 0x00);
	RUN0(f->nx, 0x00, 0, 0, 0, 0, 0);
	expect_medium_changed();
	RUN0(f->nx, 0x00, 0, 0, 0, 0, 0);
	expect_no_medium();
	unlink(img2);
}

static void test_empty(void **state)
{
	struct fix *f = *state;
	uint8_t ev, st;

	RUN0(f->nx, 0x00, 0, 0, 0, 0, 0);
	expect_no_medium();
	RUN0(f->nx, 0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0);
	expect_no_medium();
	RUN0(f->nx, 0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0);
	expect_no_medium();
	RUN0(f->nx, 0x43, 0x00, 0x00, 0, 0, 0, 0, 0x03, 0x24, 0);
	expect_no_medium();
	RUN0(f->nx, 0x51, 0x00, 0, 0, 0, 0, 0, 0x00, 0x22, 0);
	expect_no_medium();
	/* REQUEST SENSE reports it */
	RUN0(f->nx, 0x03, 0, 0, 0, 0xFF, 0);
	expect_good();
	assert_int_equal(R.data[2] & 0x0F, 0x2);
	assert_int_equal(R.data[12], 0x3A);
	/* INQUIRY and GET CONFIGURATION answer; no current profile */
	RUN0(f->nx, 0x12, 0x00, 0x00, 0x00, 0x60, 0x00);
	expect_good();
	assert_int_equal(R.data[0], 0x05);
	RUN0(f->nx, 0x46, 0x00, 0, 0, 0, 0, 0, 0x01, 0x00, 0);
	expect_good();
	assert_int_equal(tdm_get_be16(R.data + 6), 0);
	gesn_media(f->nx, &ev, &st);
	assert_int_equal(st, 0x00);
	/* START without a medium; load (close the tray) is fine */
	RUN0(f->nx, 0x1B, 0, 0, 0, 0x01, 0);
	expect_no_medium();
	RUN0(f->nx, 0x1B, 0, 0, 0, 0x03, 0);
	expect_good();

	/* insert an image */
	assert_int_equal(change(f->lu, img1), 0);
	RUN0(f->nx, 0x00, 0, 0, 0, 0, 0);
	expect_medium_changed();
	RUN0(f->nx, 0x00, 0, 0, 0, 0, 0);
	expect_good();
	gesn_media(f->nx, &ev, &st);
	assert_int_equal(ev, 2);
	assert_int_equal(st, 0x02);
	RUN0(f->nx, 0x51, 0x00, 0, 0, 0, 0, 0, 0x00, 0x22, 0);
	expect_good();
	assert_int_equal(tdm_get_be16(R.data), 32);
	assert_int_equal(R.data[2] & 0x03, 0x02);
}

static void test_eject_prevent(void **state)
{
	struct fix *f = *state;
	uint8_t ev, st;

	/* PREVENT: eject refused, and the media change too */
	RUN0(f->nx, 0x1E, 0, 0, 0, 0x01, 0);
	expect_good();
	RUN0(f->nx, 0x1B, 0, 0, 0, 0x02, 0);
	expect_sense(0x5, 0x53, 0x02);
	assert_int_equal(change(f->lu, ""), -EBUSY);
	RUN0(f->nx, 0x00, 0, 0, 0, 0, 0);
	expect_good();
	RUN0(f->nx, 0x5A, 0x00, 0x2A, 0, 0, 0, 0, 0, 0xFF, 0);
	expect_good();
	assert_int_equal(R.data[8 + 6] & 0x02, 0x02); /* Lock State */
	/* ALLOW, eject: MediaRemoval, tray open, NOT READY 3Ah */
	RUN0(f->nx, 0x1E, 0, 0, 0, 0x00, 0);
	expect_good();
	RUN0(f->nx, 0x1B, 0, 0, 0, 0x02, 0);
	expect_good();
	gesn_media(f->nx, &ev, &st);
	assert_int_equal(ev, 3);
	assert_int_equal(st, 0x01);
	RUN0(f->nx, 0xBD, 0, 0, 0, 0, 0, 0, 0, 0, 0x08, 0, 0);
	expect_good();
	assert_int_equal(R.data[1] & 0x10, 0x10);
	RUN0(f->nx, 0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0);
	expect_no_medium();
	RUN0(f->nx, 0x00, 0, 0, 0, 0, 0);
	expect_no_medium();
	/* load: NewMedia, ready; the other nexus gets 28h/00h */
	RUN0(f->nx, 0x1B, 0, 0, 0, 0x03, 0);
	expect_good();
	gesn_media(f->nx, &ev, &st);
	assert_int_equal(ev, 2);
	assert_int_equal(st, 0x02);
	RUN0(f->nx, 0x00, 0, 0, 0, 0, 0);
	expect_good();
	RUN0(f->nx2, 0x00, 0, 0, 0, 0, 0);
	expect_medium_changed();
	RUN0(f->nx2, 0x00, 0, 0, 0, 0, 0);
	expect_good();
	/* a media change after an eject by START STOP UNIT loads it */
	RUN0(f->nx, 0x1B, 0, 0, 0, 0x02, 0);
	expect_good();
	assert_int_equal(change(f->lu, img1), 0);
	RUN0(f->nx, 0x00, 0, 0, 0, 0, 0);
	expect_medium_changed();
	RUN0(f->nx, 0x00, 0, 0, 0, 0, 0);
	expect_good();
	RUN0(f->nx, 0xBB, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 0, 0);
	expect_good();
}

static void test_conf(void **state)
{
	struct tdm_conf c;
	char err[256] = "";
	static const char good[] =
		"HANDLER vcdrom {\n"
		"\tDEVICE cd0 {\n\t\tfilename /srv/iso/debian.iso\n\t}\n"
		"\tDEVICE cd1 {\n\t}\n"
		"}\n";
	static const char bad[] = "HANDLER vcdrom {\n"
				  "\tDEVICE cd0 {\n\t\tblocksize 512\n\t}\n"
				  "}\n";
	char *text = NULL;
	size_t len = 0;
	struct tdm_conf c2;

	(void)state;
	assert_int_equal(tdm_conf_parse(good, sizeof(good) - 1, "t", &c, err,
					sizeof(err)),
			 0);
	assert_int_equal(c.ndevices, 2);
	assert_int_equal(c.devices[0].handler, TDM_HANDLER_CDROM);
	assert_int_equal(c.devices[0].blocksize, 2048);
	assert_true(c.devices[0].read_only);
	assert_true(c.devices[0].removable);
	assert_string_equal(c.devices[1].filename, "");
	/* written back and read again: the same */
	assert_int_equal(tdm_conf_write(&c, &text, &len), 0);
	assert_int_equal(tdm_conf_parse(text, len, "w", &c2, err, sizeof(err)),
			 0);
	assert_true(tdm_conf_equal(&c, &c2));
	free(text);
	tdm_conf_free(&c2);
	tdm_conf_free(&c);
	assert_int_equal(
		tdm_conf_parse(bad, sizeof(bad) - 1, "t", &c, err, sizeof(err)),
		-EINVAL);
	assert_non_null(strstr(err, "2048"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_inquiry, fix_setup,
						fix_teardown),
		cmocka_unit_test_setup_teardown(test_read, fix_setup,
						fix_teardown),
		cmocka_unit_test_setup_teardown(test_get_configuration,
						fix_setup, fix_teardown),
		cmocka_unit_test_setup_teardown(test_dvd, fix_setup,
						fix_teardown),
		cmocka_unit_test_setup_teardown(test_read_toc, fix_setup,
						fix_teardown),
		cmocka_unit_test_setup_teardown(test_gesn, fix_setup,
						fix_teardown),
		cmocka_unit_test_setup_teardown(test_empty, fix_setup_empty,
						fix_teardown),
		cmocka_unit_test_setup_teardown(test_eject_prevent, fix_setup,
						fix_teardown),
		cmocka_unit_test(test_conf),
	};
	int rc;

	setenv("TANDEM_STATE_DIR", "/nonexistent/tandem-test-cdrom", 1);
	loop = tdm_loop_new();
	if (!loop) {
		fprintf(stderr, "cannot create an event loop\n");
		return 77;
	}
	tdm_loop_set_current(loop);
	fixed_sense_only = true;
	make_image(img1, NBLK, 0xA1);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(img1);
	tdm_loop_set_current(NULL);
	tdm_loop_free(loop);
	return rc ? 1 : 0;
}
