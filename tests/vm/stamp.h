/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * stamp.h - the stamped 4 KiB blocks of the VM lab's writers (vmwriter,
 * crashwriter): a block written by write SEQ holds (magic, seed, block
 * number, SEQ) followed by a pattern derived from the three, so that a
 * block read back says which write it came from and whether it is whole.
 */
#ifndef TDM_TESTS_VM_STAMP_H
#define TDM_TESTS_VM_STAMP_H

#include <stdint.h>
#include <string.h>

#define STAMP_BLK 4096
#define STAMP_MAGIC UINT64_C(0x54444d5657524954) /* "TDMVWRIT" */

struct stamp {
	uint64_t magic;
	uint64_t seed;
	uint64_t block;
	uint64_t seq;
};

static inline uint64_t stamp_xorshift(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

/* the whole content of BLOCK written by write SEQ */
static inline void stamp_fill(unsigned char *b, uint64_t seed, uint64_t block,
			      uint64_t seq)
{
	struct stamp st = {STAMP_MAGIC, seed, block, seq};
	uint64_t s = seed ^ (block * UINT64_C(0x9e3779b97f4a7c15)) ^
		     (seq * UINT64_C(0xbf58476d1ce4e5b9));
	size_t i;

	if (!s)
		s = 1;
	memcpy(b, &st, sizeof(st));
	for (i = sizeof(st); i < STAMP_BLK; i += sizeof(uint64_t)) {
		uint64_t v = stamp_xorshift(&s);

		memcpy(b + i, &v, sizeof(v));
	}
}

#endif
