/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * metrics_io.c - known I/O for tests/func/metrics.sh, through libiscsi:
 * log in, issue exactly --reads READ(10) and --writes WRITE(10) of
 * --blocks blocks each (every one must end GOOD), then --oob READ(10)s
 * of one block at the first LBA past the end (each must end in CHECK
 * CONDITION, ILLEGAL REQUEST / LOGICAL BLOCK ADDRESS OUT OF RANGE), then
 * stay logged in while --hold-file exists, and log out.
 *
 * usage: metrics_io [--reads N] [--writes N] [--blocks N] [--oob N]
 *                   [--hold-file F] [--initiator NAME] iscsi://h:p/iqn/lun
 * Prints "capacity BLOCKS BLOCKSIZE" after login. Exit 0, 1 (a check
 * failed), 2 (usage).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

static unsigned long num(const char *s)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (!*s || *end) {
		fprintf(stderr, "metrics_io: bad number '%s'\n", s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"reads", required_argument, NULL, 'r'},
		{"writes", required_argument, NULL, 'w'},
		{"blocks", required_argument, NULL, 'b'},
		{"oob", required_argument, NULL, 'o'},
		{"hold-file", required_argument, NULL, 'h'},
		{"initiator", required_argument, NULL, 'i'},
		{NULL, 0, NULL, 0},
	};
	const char *initiator = "iqn.2026-11.org.tandem:metrics-io";
	const char *hold = NULL;
	unsigned long reads = 0, writes = 0, blocks = 1, oob = 0, i;
	struct iscsi_context *ctx;
	struct iscsi_url *u;
	struct scsi_task *t;
	struct scsi_readcapacity10 *rc10;
	uint32_t nblocks, bs;
	unsigned char *buf;
	int ch, bad = 0;

	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'r':
			reads = num(optarg);
			break;
		case 'w':
			writes = num(optarg);
			break;
		case 'b':
			blocks = num(optarg);
			break;
		case 'o':
			oob = num(optarg);
			break;
		case 'h':
			hold = optarg;
			break;
		case 'i':
			initiator = optarg;
			break;
		default:
			return 2;
		}
	}
	if (optind + 1 != argc || blocks < 1 || blocks > 256) {
		fprintf(stderr, "usage: metrics_io [options] URL\n");
		return 2;
	}
	ctx = iscsi_create_context(initiator);
	if (!ctx)
		return 1;
	u = iscsi_parse_full_url(ctx, argv[optind]);
	if (!u) {
		fprintf(stderr, "metrics_io: %s\n", iscsi_get_error(ctx));
		return 2;
	}
	iscsi_set_targetname(ctx, u->target);
	iscsi_set_session_type(ctx, ISCSI_SESSION_NORMAL);
	if (iscsi_full_connect_sync(ctx, u->portal, u->lun) != 0) {
		fprintf(stderr, "metrics_io: login: %s\n",
			iscsi_get_error(ctx));
		return 1;
	}
	t = iscsi_readcapacity10_sync(ctx, u->lun, 0, 0);
	if (!t || t->status != SCSI_STATUS_GOOD) {
		fprintf(stderr, "metrics_io: READ CAPACITY: %s\n",
			iscsi_get_error(ctx));
		return 1;
	}
	rc10 = scsi_datain_unmarshall(t);
	if (!rc10) {
		fprintf(stderr, "metrics_io: READ CAPACITY: bad data\n");
		return 1;
	}
	nblocks = rc10->lba + 1;
	bs = rc10->block_size;
	scsi_free_scsi_task(t);
	printf("capacity %" PRIu32 " %" PRIu32 "\n", nblocks, bs);
	buf = calloc(blocks, bs);
	if (!buf || nblocks < blocks)
		return 1;
	for (i = 0; i < reads; i++) {
		t = iscsi_read10_sync(ctx, u->lun, 0, (uint32_t)(blocks * bs),
				      bs, 0, 0, 0, 0, 0);
		if (!t || t->status != SCSI_STATUS_GOOD) {
			fprintf(stderr, "metrics_io: READ(10) %lu: %s\n", i,
				iscsi_get_error(ctx));
			bad = 1;
		}
		if (t)
			scsi_free_scsi_task(t);
	}
	memset(buf, 0xa5, blocks * bs);
	for (i = 0; i < writes; i++) {
		t = iscsi_write10_sync(ctx, u->lun, 0, buf,
				       (uint32_t)(blocks * bs), bs, 0, 0, 0, 0,
				       0);
		if (!t || t->status != SCSI_STATUS_GOOD) {
			fprintf(stderr, "metrics_io: WRITE(10) %lu: %s\n", i,
				iscsi_get_error(ctx));
			bad = 1;
		}
		if (t)
			scsi_free_scsi_task(t);
	}
	for (i = 0; i < oob; i++) {
		/* SBC-4 5.15: the first LBA past the end */
		t = iscsi_read10_sync(ctx, u->lun, nblocks, bs, bs, 0, 0, 0, 0,
				      0);
		if (!t || t->status != SCSI_STATUS_CHECK_CONDITION ||
		    t->sense.key != SCSI_SENSE_ILLEGAL_REQUEST ||
		    t->sense.ascq != SCSI_SENSE_ASCQ_LBA_OUT_OF_RANGE) {
			fprintf(stderr,
				"metrics_io: READ(10) past the end: not "
				"ILLEGAL REQUEST/LBA OUT OF RANGE: %s\n",
				iscsi_get_error(ctx));
			bad = 1;
		}
		if (t)
			scsi_free_scsi_task(t);
	}
	printf("done reads %lu writes %lu blocks %lu oob %lu\n", reads, writes,
	       blocks, oob);
	fflush(stdout);
	while (hold && access(hold, F_OK) == 0)
		usleep(50000);
	iscsi_logout_sync(ctx);
	iscsi_destroy_url(u);
	iscsi_destroy_context(ctx);
	free(buf);
	return bad;
}
