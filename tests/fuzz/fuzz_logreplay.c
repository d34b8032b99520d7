/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fuzz_logreplay.c - libFuzzer target for logreplay's reader of
 * dm-log-writes logs (tests/vm/lwlog.c): the input is the log.
 *
 * Each input is scanned four ways: as a device of unknown size, read in
 * chunks of 4096 bytes; as a device of 1 MiB, in chunks of 509 bytes;
 * and twice with a reader that fails in the middle of the log (an I/O
 * error, or an end of file before the size the log claims). Accepted:
 * every entry must agree with the bytes of the input (the header's
 * fields, a mark's text, the data inside the log, reread through
 * lw_read), the entries must follow each other with nothing between
 * them, and what the 1 MiB device accepts the unknown one accepts alike.
 * Rejected: a message of a known form, an entry number below the count
 * the super block announces and a byte offset inside the log; the 1 MiB
 * device may refuse more only with "beyond the device". Any violation
 * aborts; ASan finds what the scan leaks.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/vm/lwlog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct mem {
	const uint8_t *p;
	size_t len;
	size_t chunk;	 /* at most this many bytes a call */
	uint64_t cut;	 /* reads at or past it fail with ... */
	ssize_t cut_err; /* ... this (0: end of file) */
};

static ssize_t mem_read(void *arg, void *buf, size_t len, uint64_t off)
{
	const struct mem *m = arg;
	size_t n = len;

	if (off >= m->cut)
		return m->cut_err;
	if (off >= m->len)
		return 0;
	if (n > m->len - off)
		n = (size_t)(m->len - off);
	if (n > m->chunk)
		n = m->chunk;
	if (n > m->cut - off)
		n = (size_t)(m->cut - off);
	memcpy(buf, m->p + off, n);
	return (ssize_t)n;
}

static void fail(const char *what, const struct lw_log *lw)
	__attribute__((noreturn));

static void fail(const char *what, const struct lw_log *lw)
{
	fprintf(stderr,
		"fuzz_logreplay: %s (error \"%s\", %" PRIu64 " entries)\n",
		what, lw->err, lw->nents);
	abort();
}

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static int scan(struct lw_log *lw, struct mem *m, uint64_t image_size)
{
	memset(lw, 0, sizeof(*lw));
	lw->read = mem_read;
	lw->arg = m;
	lw->size = m->len;
	return lw_scan(lw, image_size);
}

/* an accepted log: every entry against the input's bytes */
static void check_accepted(struct lw_log *lw, const uint8_t *data, size_t size)
{
	static uint8_t buf[1 << 16];
	uint64_t i, off = lw->ssize;

	if (lw->ssize < 512 || lw->ssize > LW_MAX_SECTOR ||
	    (lw->ssize & (lw->ssize - 1)))
		fail("accepted a bad sector size", lw);
	if (lw->nents != le64(data + 16) || (lw->nents && !lw->ents))
		fail("not the entries the super block announces", lw);
	for (i = 0; i < lw->nents; i++) {
		const struct lw_entry *e = &lw->ents[i];
		const uint8_t *h = data + e->off;
		uint64_t len;

		if (e->off != off || e->off > size - lw->ssize)
			fail("an entry not where the previous one ends", lw);
		if (le64(h) != e->sector || le64(h + 8) != e->nr ||
		    le64(h + 16) != e->flags || (e->flags & ~LW_KNOWN))
			fail("an entry's fields differ from its header", lw);
		if (e->sector > (UINT64_C(1) << 48) ||
		    e->nr > (UINT64_C(1) << 48) - e->sector)
			fail("an entry past 2^48 sectors accepted", lw);
		if (!(e->flags & LW_MARK) != !e->mark)
			fail("a mark without text, or text without a mark", lw);
		if (e->mark) {
			size_t n = strlen(e->mark);

			if (e->flags != LW_MARK || e->nr || !n ||
			    n > lw->ssize - LW_ENTRY_LEN || le64(h + 24) != n ||
			    memcmp(e->mark, h + LW_ENTRY_LEN, n))
				fail("a bad mark accepted", lw);
		} else if (le64(h + 24) || (!e->nr && !(e->flags & LW_FLUSH)) ||
			   ((e->flags & LW_DISCARD) &&
			    (e->flags & (LW_FLUSH | LW_FUA)))) {
			fail("a bad entry accepted", lw);
		}
		off += lw->ssize;
		if (e->flags & LW_DISCARD)
			continue;
		len = e->nr * lw->ssize;
		if (len > size - off)
			fail("an entry's data past the log's end", lw);
		if (len <= sizeof(buf) &&
		    (lw_read(lw, buf, (size_t)len, off) ||
		     memcmp(buf, data + off, (size_t)len)))
			fail("an entry's data reread differs", lw);
		off += len;
	}
	if (lw->end != off)
		fail("the log's end is not after its last entry", lw);
}

/* a rejected log: a message of a known form; an entry's number below
 * what the super block announces, its offset inside the log */
static void check_rejected(const struct lw_log *lw, int r, const uint8_t *data,
			   size_t size)
{
	static const char *const heads[] = {
		"truncated: ", "not a dm-log-writes log: magic 0x",
		"log version ", "super block: ", "out of memory"};
	uint64_t n, b;
	size_t i;
	int end = 0;

	if (r != -EINVAL && r != -EIO && r != -ENOMEM)
		fail("an error that is not -EINVAL, -EIO or -ENOMEM", lw);
	if (lw->nents || lw->ents)
		fail("entries kept after an error", lw);
	if (!lw->err[0] || strchr(lw->err, '\n'))
		fail("an empty or multi-line message", lw);
	for (i = 0; i < sizeof(heads) / sizeof(heads[0]); i++)
		if (!strncmp(lw->err, heads[i], strlen(heads[i])))
			return;
	if (sscanf(lw->err, "read at byte %" SCNu64 ": %n", &b, &end) == 1 &&
	    end > 0) {
		if (r != -EIO || b >= size)
			fail("a read error not inside the log", lw);
		return;
	}
	end = 0;
	if (sscanf(lw->err, "entry %" SCNu64 " at byte %" SCNu64 ": %n", &n, &b,
		   &end) != 2 ||
	    !end || !lw->err[end])
		fail("a message of no known form", lw);
	/* past the log's end only as the first entry of a log shorter than
	 * its super block's sector */
	if (size < 32 || n >= le64(data + 16) || b < lw->ssize ||
	    (b > size && (n || b != lw->ssize)) || r != -EINVAL)
		fail("an entry's number or offset outside the log", lw);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mem m = {
		.p = data, .len = size, .chunk = 4096, .cut = UINT64_MAX};
	struct lw_log lw, lw2;
	int r, r2;

	/* a device of unknown size */
	r = scan(&lw, &m, UINT64_MAX);
	if (r)
		check_rejected(&lw, r, data, size);
	else
		check_accepted(&lw, data, size);

	/* a device of 1 MiB, other chunks: accepts no more than above */
	m.chunk = 509;
	r2 = scan(&lw2, &m, UINT64_C(1) << 20);
	if (r2) {
		check_rejected(&lw2, r2, data, size);
		if ((!r || strcmp(lw.err, lw2.err)) &&
		    !strstr(lw2.err, " beyond the device ("))
			fail("a smaller device refuses for another reason",
			     &lw2);
	} else {
		check_accepted(&lw2, data, size);
		if (r || lw2.nents != lw.nents || lw2.end != lw.end)
			fail("a 1 MiB device accepts what an unknown one "
			     "does not",
			     &lw2);
	}
	lw_free(&lw2);

	/* the reader fails half way: an I/O error, or the end of file
	 * before the size the log claims */
	m.chunk = 4096;
	m.cut = size / 2;
	m.cut_err = (size & 1) ? -EIO : 0;
	r2 = scan(&lw2, &m, UINT64_MAX);
	if (r2)
		check_rejected(&lw2, r2, data, size);
	else if (r || lw2.nents != lw.nents || lw2.end != lw.end)
		fail("a failing reader gives another log", &lw2);
	lw_free(&lw2);
	lw_free(&lw);
	return 0;
}
