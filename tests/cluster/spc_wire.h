/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * spc_wire.h - what the cluster lab's libiscsi clients (scsitool.c,
 * mpclient.c) both read and write on the wire: big-endian fields and the
 * designation descriptors of VPD page 83h.
 */
#ifndef TDM_TESTS_SPC_WIRE_H
#define TDM_TESTS_SPC_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

static inline void put_be16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

static inline void put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static inline void put_be64(unsigned char *p, uint64_t v)
{
	put_be32(p, (uint32_t)(v >> 32));
	put_be32(p + 4, (uint32_t)v);
}

static inline unsigned get_be16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static inline uint32_t get_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t get_be64(const unsigned char *p)
{
	return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

/* SPC-4 7.8.5: one designation descriptor of VPD page 83h */
struct vpd83_desig {
	unsigned type;	/* designator type (3 NAA, 4 relative port, ...) */
	unsigned assoc; /* association: 0 LU, 1 target port, 2 target */
	size_t len;
	const unsigned char *d;
};

/*
 * The next descriptor of the page p (n bytes returned) from *off (start
 * at 4: the page header); false at the end or at a descriptor that runs
 * past the page.
 */
static inline bool vpd83_next(const unsigned char *p, size_t n, size_t *off,
			      struct vpd83_desig *ds)
{
	if (n >= 4 && (size_t)get_be16(p + 2) + 4 < n)
		n = (size_t)get_be16(p + 2) + 4;
	if (*off + 4 > n || *off + 4 + p[*off + 3] > n)
		return false;
	ds->type = p[*off + 1] & 0x0F;
	ds->assoc = (p[*off + 1] >> 4) & 3;
	ds->len = p[*off + 3];
	ds->d = p + *off + 4;
	*off += 4 + ds->len;
	return true;
}

#endif
