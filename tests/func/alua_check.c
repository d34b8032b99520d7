/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * alua_check.c - a libiscsi client for tests/func/alua.sh: one session,
 * a list of steps, one output line per SCSI step.
 *
 * usage: alua_check PORTAL TARGET INITIATOR STEP...
 *
 * steps
 *   tur | read | write    TEST UNIT READY, READ(10) / WRITE(10) of LBA 0
 *   rc10 | rc16           READ CAPACITY(10) / (16): adds "blocks N"
 *   modesense             MODE SENSE(6), caching page
 *   rtpg                  REPORT TARGET PORT GROUPS (extended header)
 *   stpg:ID=STATE         SET TARGET PORT GROUPS, STATE in hex (0..3)
 *   signal:FILE           create FILE
 *   wait:FILE             wait (20 s at most) until FILE exists
 *   mark                  print "---" (separates phases in the output)
 *
 * A SCSI step prints "GOOD" or "SENSE k/asc/ascq"; rtpg adds one line per
 * group: "group ID state S pref P status C ports A,B".
 * Exit status: 0, 1 (session failure or timeout), 2 (usage).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

static void show(const struct scsi_task *t)
{
	if (t->status == SCSI_STATUS_GOOD)
		printf("GOOD\n");
	else if (t->status == SCSI_STATUS_CHECK_CONDITION)
		printf("SENSE %x/%02x/%02x\n", t->sense.key,
		       (t->sense.ascq >> 8) & 0xFF, t->sense.ascq & 0xFF);
	else
		printf("STATUS %02x\n", t->status);
}

static void show_rtpg(const struct scsi_task *t)
{
	const unsigned char *p = t->datain.data;
	size_t n = (size_t)t->datain.size, off = 8;

	if (t->status != SCSI_STATUS_GOOD || n < 8)
		return;
	/* SPC-4 6.37: extended header, then target port group
	 * descriptors */
	while (off + 8 <= n) {
		unsigned cnt = p[off + 7];

		printf("group %u state %x pref %u status %u ports",
		       (unsigned)(p[off + 2] << 8 | p[off + 3]), p[off] & 0x0F,
		       p[off] >> 7, p[off + 5]);
		for (unsigned i = 0; i < cnt && off + 12 + 4 * i <= n; i++)
			printf("%s%u", i ? "," : " ",
			       (unsigned)(p[off + 8 + 4 * i + 2] << 8 |
					  p[off + 8 + 4 * i + 3]));
		printf("\n");
		off += 8 + 4 * (size_t)cnt;
	}
}

static struct scsi_task *raw(const unsigned char *cdb, int len, int dir,
			     int xfer)
{
	struct scsi_task *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	memcpy(t->cdb, cdb, (size_t)len);
	t->cdb_size = len;
	t->xfer_dir = dir;
	t->expxferlen = xfer;
	return t;
}

int main(int argc, char **argv)
{
	struct iscsi_context *iscsi;
	static unsigned char zero[512], wbuf[12];
	int i;

	if (argc < 5) {
		fprintf(stderr, "usage: alua_check PORTAL TARGET INITIATOR "
				"STEP...\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	iscsi = iscsi_create_context(argv[3]);
	if (!iscsi)
		return 1;
	iscsi_set_targetname(iscsi, argv[2]);
	iscsi_set_session_type(iscsi, ISCSI_SESSION_NORMAL);
	iscsi_set_header_digest(iscsi, ISCSI_HEADER_DIGEST_NONE);
	if (iscsi_full_connect_sync(iscsi, argv[1], 0) != 0) {
		fprintf(stderr, "login: %s\n", iscsi_get_error(iscsi));
		iscsi_destroy_context(iscsi);
		return 1;
	}
	for (i = 4; i < argc; i++) {
		const char *s = argv[i];
		struct scsi_task *t = NULL;
		struct iscsi_data d = {0}, *dp = NULL;

		if (!strcmp(s, "mark")) {
			printf("---\n");
			continue;
		}
		if (!strncmp(s, "signal:", 7)) {
			FILE *f = fopen(s + 7, "w");

			if (f)
				fclose(f);
			continue;
		}
		if (!strncmp(s, "wait:", 5)) {
			struct stat st;
			int n;

			for (n = 0; n < 200 && stat(s + 5, &st) != 0; n++)
				usleep(100000);
			if (n == 200) {
				fprintf(stderr, "timeout waiting for %s\n",
					s + 5);
				return 1;
			}
			continue;
		}
		if (!strcmp(s, "tur")) {
			t = scsi_cdb_testunitready();
		} else if (!strcmp(s, "read")) {
			t = scsi_cdb_read10(0, 512, 512, 0, 0, 0, 0, 0);
		} else if (!strcmp(s, "write")) {
			t = scsi_cdb_write10(0, 512, 512, 0, 0, 0, 0, 0);
			d.data = zero;
			d.size = 512;
			dp = &d;
		} else if (!strcmp(s, "rc10")) {
			t = scsi_cdb_readcapacity10(0, 0);
		} else if (!strcmp(s, "rc16")) {
			t = scsi_cdb_readcapacity16();
		} else if (!strcmp(s, "modesense")) {
			t = scsi_cdb_modesense6(0, SCSI_MODESENSE_PC_CURRENT,
						SCSI_MODEPAGE_CACHING, 0, 255);
		} else if (!strcmp(s, "rtpg")) {
			/* PARAMETER DATA FORMAT 001b: extended header */
			static const unsigned char c[12] = {
				0xA3, 0x2A, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0};

			t = raw(c, 12, SCSI_XFER_READ, 4096);
		} else if (!strncmp(s, "stpg:", 5)) {
			static const unsigned char c[12] = {
				0xA4, 0x0A, 0, 0, 0, 0, 0, 0, 0, 12, 0, 0};
			unsigned id, st;

			if (sscanf(s + 5, "%u=%x", &id, &st) != 2)
				return 2;
			memset(wbuf, 0, sizeof(wbuf));
			wbuf[4] = (unsigned char)st;
			wbuf[6] = (unsigned char)(id >> 8);
			wbuf[7] = (unsigned char)id;
			t = raw(c, 12, SCSI_XFER_WRITE, 8);
			t->cdb[9] = 8;
			d.data = wbuf;
			d.size = 8;
			dp = &d;
		} else {
			fprintf(stderr, "unknown step '%s'\n", s);
			return 2;
		}
		if (!t)
			return 1;
		if (!iscsi_scsi_command_sync(iscsi, 0, t, dp)) {
			fprintf(stderr, "%s: %s\n", s, iscsi_get_error(iscsi));
			return 1;
		}
		printf("%s: ", s);
		show(t);
		if (!strcmp(s, "rtpg"))
			show_rtpg(t);
		/* the number of blocks, as a kernel records it */
		if (t->status == SCSI_STATUS_GOOD && !strcmp(s, "rc10") &&
		    t->datain.size >= 8)
			printf("blocks %u\n",
			       (unsigned)((t->datain.data[0] << 24 |
					   t->datain.data[1] << 16 |
					   t->datain.data[2] << 8 |
					   t->datain.data[3]) +
					  1u));
		if (t->status == SCSI_STATUS_GOOD && !strcmp(s, "rc16") &&
		    t->datain.size >= 12) {
			unsigned long long b = 0;

			for (int k = 0; k < 8; k++)
				b = b << 8 | t->datain.data[k];
			printf("blocks %llu\n", b + 1);
		}
		scsi_free_scsi_task(t);
	}
	iscsi_logout_sync(iscsi);
	iscsi_destroy_context(iscsi);
	return 0;
}
