/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * md5.c - MD5 (RFC 1321), used only for CHAP_A=5 (RFC 1994, RFC 7143
 * 12.1.3). Not for anything that needs collision resistance.
 */
#include <stdint.h>
#include <string.h>

#include "iscsi/iscsi_int.h"

/* RFC 1321 3.4: T[i] = floor(2^32 * abs(sin(i + 1))) */
static const uint32_t md5_t[64] = {
	0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a,
	0xa8304613, 0xfd469501, 0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be,
	0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821, 0xf61e2562, 0xc040b340,
	0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
	0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8,
	0x676f02d9, 0x8d2a4c8a, 0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c,
	0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70, 0x289b7ec6, 0xeaa127fa,
	0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
	0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92,
	0xffeff47d, 0x85845dd1, 0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1,
	0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
};

/* RFC 1321 3.4: per-round shift amounts */
static const uint8_t md5_s[4][4] = {
	{7, 12, 17, 22},
	{5, 9, 14, 20},
	{4, 11, 16, 23},
	{6, 10, 15, 21},
};

static inline uint32_t rol32(uint32_t x, unsigned n)
{
	return (x << n) | (x >> (32 - n));
}

static void md5_block(uint32_t s[4], const uint8_t *blk)
{
	uint32_t x[16];
	uint32_t a = s[0], b = s[1], c = s[2], d = s[3];

	for (int i = 0; i < 16; i++)
		x[i] = (uint32_t)blk[i * 4] | (uint32_t)blk[i * 4 + 1] << 8 |
		       (uint32_t)blk[i * 4 + 2] << 16 |
		       (uint32_t)blk[i * 4 + 3] << 24;

	for (int i = 0; i < 64; i++) {
		uint32_t f;
		int g;
		int round = i >> 4;

		switch (round) {
		case 0:
			f = (b & c) | (~b & d);
			g = i;
			break;
		case 1:
			f = (d & b) | (~d & c);
			g = (5 * i + 1) & 15;
			break;
		case 2:
			f = b ^ c ^ d;
			g = (3 * i + 5) & 15;
			break;
		default:
			f = c ^ (b | ~d);
			g = (7 * i) & 15;
			break;
		}
		f = f + a + md5_t[i] + x[g];
		a = d;
		d = c;
		c = b;
		b = b + rol32(f, md5_s[round][i & 3]);
	}
	s[0] += a;
	s[1] += b;
	s[2] += c;
	s[3] += d;
}

void tdm__md5_init(struct tdm__md5 *m)
{
	/* RFC 1321 3.3 */
	m->s[0] = 0x67452301;
	m->s[1] = 0xefcdab89;
	m->s[2] = 0x98badcfe;
	m->s[3] = 0x10325476;
	m->n = 0;
}

void tdm__md5_update(struct tdm__md5 *m, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t have = (size_t)(m->n & 63);

	m->n += len;
	if (have) {
		size_t take = 64 - have;

		if (take > len)
			take = len;
		memcpy(m->buf + have, p, take);
		p += take;
		len -= take;
		if (have + take < 64)
			return;
		md5_block(m->s, m->buf);
	}
	while (len >= 64) {
		md5_block(m->s, p);
		p += 64;
		len -= 64;
	}
	if (len)
		memcpy(m->buf, p, len);
}

void tdm__md5_final(struct tdm__md5 *m, uint8_t out[16])
{
	/* RFC 1321 3.1, 3.2: pad with 0x80, zeros, then the bit length */
	uint64_t bits = m->n * 8;
	uint8_t pad[72];
	size_t have = (size_t)(m->n & 63);
	size_t padlen = (have < 56) ? 56 - have : 120 - have;

	memset(pad, 0, sizeof(pad));
	pad[0] = 0x80;
	for (int i = 0; i < 8; i++)
		pad[padlen + i] = (uint8_t)(bits >> (8 * i));
	tdm__md5_update(m, pad, padlen + 8);
	for (int i = 0; i < 4; i++) {
		out[i * 4] = (uint8_t)m->s[i];
		out[i * 4 + 1] = (uint8_t)(m->s[i] >> 8);
		out[i * 4 + 2] = (uint8_t)(m->s[i] >> 16);
		out[i * 4 + 3] = (uint8_t)(m->s[i] >> 24);
	}
}

void tdm__md5(const void *data, size_t len, uint8_t out[16])
{
	struct tdm__md5 m;

	tdm__md5_init(&m);
	tdm__md5_update(&m, data, len);
	tdm__md5_final(&m, out);
}
