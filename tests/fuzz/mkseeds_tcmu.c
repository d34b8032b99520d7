/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * mkseeds_tcmu.c - writes the seed corpus of fuzz_tcmu (tests/fuzz/
 * corpus/tcmu/): each file a whole TCMU area (mailbox, a 1 KiB command
 * ring, 4 KiB of data) with the entries target_core_user queues
 * (tests/lib/tcmu_build.h): an empty ring, a READ, a WRITE over two
 * segments, a bidirectional command, a TMR, entries wrapping round the
 * ring's end behind a PAD.
 *
 *   make fuzz-seeds
 *
 * The same output on every run. Each area is read back with the codec
 * first and must give as many commands as it was given. Exits 0, or 1
 * with a message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/tcmu_ring.h"
#include "tests/lib/tcmu_build.h"

#define CMDR 1024
#define DATA 4096

static const uint8_t READ10[10] = {0x28, 0, 0, 0, 0, 0, 0, 0, 8, 0};
static const uint8_t WRITE10[10] = {0x2a, 0, 0, 0, 0, 8, 0, 0, 4, 0};
static const uint8_t INQ[6] = {0x12, 0, 0, 0, 96, 0};

static int emit(const char *dir, const char *name, struct tb_area *a,
		unsigned want)
{
	struct tdm_tcmu_entry e;
	struct tdm_tcmu_ring r;
	unsigned got = 0;
	char path[4096];
	FILE *f;

	if (tdm__tcmu_ring_init(&r, a->base, a->size) != TDM_TCMU_OK)
		goto bad;
	while (tdm__tcmu_ring_next(&r, &e) == TDM_TCMU_OK)
		got += e.op == TCMU_OP_CMD;
	if (got != want)
		goto bad;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(a->base, 1, a->size, f) != a->size || fclose(f)) {
		fprintf(stderr, "mkseeds_tcmu: %s: write failed\n", path);
		return 1;
	}
	free(a->base);
	return 0;
bad:
	fprintf(stderr, "mkseeds_tcmu: %s: %u commands read back, %u made\n",
		name, got, want);
	return 1;
}

int main(int argc, char **argv)
{
	struct tdm_tcmu_seg s[3];
	static const uint16_t ids[2] = {1, 2};
	struct tb_area a;
	int bad = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: mkseeds_tcmu DIR\n");
		return 2;
	}
	const uint16_t fl =
		TCMU_MAILBOX_FLAG_CAP_OOOC | TCMU_MAILBOX_FLAG_CAP_READ_LEN;

	tb_init(&a, CMDR, DATA, fl);
	bad |= emit(argv[1], "empty", &a, 0);

	tb_init(&a, CMDR, DATA, fl);
	s[0] = (struct tdm_tcmu_seg){a.data_off, 4096};
	tb_cmd(&a, 1, READ10, sizeof(READ10), s, 1, 0);
	bad |= emit(argv[1], "read", &a, 1);

	tb_init(&a, CMDR, DATA, fl);
	s[0] = (struct tdm_tcmu_seg){a.data_off + 2048, 1024};
	s[1] = (struct tdm_tcmu_seg){a.data_off, 1024};
	tb_cmd(&a, 9, WRITE10, sizeof(WRITE10), s, 2, 0);
	tb_cmd(&a, 10, INQ, sizeof(INQ), s, 1, 0);
	bad |= emit(argv[1], "write-inquiry", &a, 2);

	tb_init(&a, CMDR, DATA, fl);
	s[0] = (struct tdm_tcmu_seg){a.data_off, 512};
	s[1] = (struct tdm_tcmu_seg){a.data_off + 512, 512};
	tb_cmd(&a, 3, WRITE10, sizeof(WRITE10), s, 1, 1);
	bad |= emit(argv[1], "bidi", &a, 1);

	tb_init(&a, CMDR, DATA, fl);
	tb_cmd(&a, 1, INQ, sizeof(INQ), s, 1, 0);
	tb_tmr(&a, TCMU_TMR_ABORT_TASK, ids, 2);
	tb_cmd(&a, 2, INQ, sizeof(INQ), s, 1, 0);
	bad |= emit(argv[1], "tmr", &a, 2);

	/* a PAD: the tail and head start near the ring's end */
	tb_init(&a, CMDR, DATA, fl);
	tb_mb(&a)->cmd_head = CMDR - 64;
	tb_mb(&a)->cmd_tail = CMDR - 64;
	for (uint16_t id = 1; id <= 4; id++)
		tb_cmd(&a, id, READ10, sizeof(READ10), s, 2, 0);
	bad |= emit(argv[1], "pad-wrap", &a, 4);
	return bad;
}
