/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * lockorder.c - the debug-build check of the lock order (lockorder.h):
 * each thread's record of the locks it holds, and the abort when one is
 * taken out of order. Nothing of it is compiled without TDM_LOCK_DEBUG.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/lockorder.h"

bool tdm_lock_debug(void)
{
#ifdef TDM_LOCK_DEBUG
	return true;
#else
	return false;
#endif
}

#ifdef TDM_LOCK_DEBUG

/* deeper than any nesting of the tree (four) */
#define MAX_HELD 16

struct held {
	const void *lock;
	const char *name;
	unsigned rank;
	const char *file;
	int line;
};

static _Thread_local struct held held[MAX_HELD];
static _Thread_local unsigned nheld;

/* Say what is wrong on stderr (not through lib/log.c: its lock may be
 * the one in question) and abort. */
static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void fail(const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n > sizeof(msg) - 2)
		n = (int)sizeof(msg) - 2;
	msg[n++] = '\n';
	if (write(STDERR_FILENO, msg, (size_t)n) < 0) {
		/* nothing left to tell it with */
	}
	abort();
}

void tdm__lock_take(const void *lock, const char *name, unsigned rank,
		    const char *file, int line)
{
	unsigned i;

	for (i = 0; i < nheld; i++) {
		const struct held *h = &held[i];

		if (h->rank < rank)
			continue;
		fail("lock order violation: %s (rank %u) taken at %s:%d while "
		     "holding %s (rank %u) taken at %s:%d%s; the order is in "
		     "scsi/README.md \"Locks\"",
		     name, rank, file, line, h->name, h->rank, h->file, h->line,
		     h->lock == lock ? " (the same lock)" : "");
	}
	if (nheld == MAX_HELD)
		fail("lock order: %s taken at %s:%d with %u locks held", name,
		     file, line, nheld);
	held[nheld++] = (struct held){lock, name, rank, file, line};
}

void tdm__lock_drop(const void *lock, const char *name, const char *file,
		    int line)
{
	unsigned i = nheld;

	while (i > 0 && held[i - 1].lock != lock)
		i--;
	if (i == 0)
		fail("lock order: %s released at %s:%d by a thread that does "
		     "not hold it",
		     name, file, line);
	/* released out of nesting order: fine, keep the others in order */
	memmove(&held[i - 1], &held[i], (nheld - i) * sizeof(held[0]));
	nheld--;
}

void tdm__lock_assert_none(const char *what, const char *file, int line)
{
	if (nheld)
		fail("lock order: %s at %s:%d with %s (rank %u) held, taken at "
		     "%s:%d",
		     what, file, line, held[nheld - 1].name,
		     held[nheld - 1].rank, held[nheld - 1].file,
		     held[nheld - 1].line);
}

#endif
