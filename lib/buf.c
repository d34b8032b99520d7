/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * buf.c - data buffers for commands: 4096-aligned (O_DIRECT), power-of-two
 * size classes from 4 KiB to 1 MiB kept on per-thread free lists so the
 * steady state allocates nothing. Larger buffers go straight to the heap.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"

#define MIN_SHIFT 12
#define MAX_SHIFT 20
#define NCLASS (MAX_SHIFT - MIN_SHIFT + 1)
#define KEEP_PER_CLASS 64

struct freebuf {
	struct freebuf *next;
};

struct cache {
	struct freebuf *head[NCLASS];
	unsigned n[NCLASS];
};

static _Thread_local struct cache tcache;
static _Atomic(void (*)(void *, uint32_t)) release_hook;

void tdm_buf_set_release_hook(void (*fn)(void *buf, uint32_t cap))
{
	atomic_store(&release_hook, fn);
}

static void heap_free(void *buf, uint32_t cap)
{
	void (*fn)(void *, uint32_t) = atomic_load(&release_hook);

	if (fn)
		fn(buf, cap);
	free(buf);
}

static int class_of(uint32_t len, uint32_t *cap)
{
	int c = 0;
	uint32_t sz = 1u << MIN_SHIFT;

	while (sz < len && c < NCLASS) {
		sz <<= 1;
		c++;
	}
	*cap = sz;
	return c < NCLASS ? c : -1;
}

void *tdm_buf_alloc(uint32_t len, uint32_t *cap)
{
	int c = class_of(len ? len : 1, cap);
	void *p;

	if (c >= 0 && tcache.head[c]) {
		struct freebuf *f = tcache.head[c];

		tcache.head[c] = f->next;
		tcache.n[c]--;
		return f;
	}
	if (c < 0)
		*cap = (len + 4095u) & ~4095u;
	if (posix_memalign(&p, 4096, *cap))
		return NULL;
	return p;
}

void tdm_buf_free(void *buf, uint32_t cap)
{
	uint32_t ccap;
	int c;

	if (!buf)
		return;
	c = class_of(cap, &ccap);
	if (c >= 0 && ccap == cap && tcache.n[c] < KEEP_PER_CLASS) {
		struct freebuf *f = buf;

		f->next = tcache.head[c];
		tcache.head[c] = f;
		tcache.n[c]++;
		return;
	}
	heap_free(buf, cap);
}

/* Free this thread's cached buffers (thread exit, shutdown). */
void tdm_buf_cache_drain(void)
{
	int c;

	for (c = 0; c < NCLASS; c++) {
		while (tcache.head[c]) {
			struct freebuf *f = tcache.head[c];

			tcache.head[c] = f->next;
			heap_free(f, 1u << (MIN_SHIFT + c));
		}
		tcache.n[c] = 0;
	}
}
