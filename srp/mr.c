/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * mr.c - RDMA devices and memory registrations shared by the channels:
 * one protection domain per device (ibv_context), and a cache of the
 * registrations of the core's data buffers, so that a buffer the loops
 * reuse (lib/buf.c keeps them on per-thread free lists) is registered
 * once, not for every command (ibv_reg_mr pins pages: two system calls
 * and a page walk per command otherwise).
 *
 * A registration is forgotten (ibv_dereg_mr) when lib/buf gives its
 * buffer back to the heap (tdm_buf_set_release_hook): the memory may then
 * be unmapped and its address reused for other pages, which a stale
 * registration would still point to. And when the last channel of its
 * device goes. Cached buffers stay pinned: at most what lib/buf keeps
 * (64 buffers per size class and loop).
 *
 * mr_lock (rank TDM__SRP_LOCK_MR) protects the devices, their reference
 * counts and the cache; it is taken with no other lock held, from any
 * thread (the release hook runs where a buffer is freed).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/log.h"
#include "srp/srp_int.h"

#define NBUCKET 1024
#define CACHE_MAX 4096 /* entries; beyond, unused ones are dropped */

struct srp_mr {
	struct srp_mr *next; /* in its bucket */
	struct srp_dev *dev;
	void *addr;
	uint32_t len;
	unsigned inuse;
	bool orphan; /* out of the cache, freed by its last put */
	struct ibv_mr *mr;
};

static struct tdm_mutex mr_lock =
	TDM_MUTEX_INITIALIZER(TDM__SRP_LOCK_MR, "srp mr_lock");
static struct tdm_list devs = TDM_LIST_INIT(devs);
static struct srp_mr *bucket[NBUCKET];
static unsigned nentries;
static unsigned long long hits, misses;

static unsigned hash(const void *addr)
{
	uintptr_t a = (uintptr_t)addr >> 12;

	return (unsigned)((a ^ (a >> 10)) % NBUCKET);
}

struct srp_dev *tdm__srp_dev_get(struct ibv_context *ctx)
{
	struct srp_dev *d = NULL;
	struct tdm_list *pos;

	tdm_mutex_lock(&mr_lock);
	tdm_list_for_each (pos, &devs) {
		struct srp_dev *x = tdm_list_entry(pos, struct srp_dev, link);

		if (x->ctx == ctx) {
			d = x;
			break;
		}
	}
	if (!d) {
		d = calloc(1, sizeof(*d));
		if (d) {
			d->ctx = ctx;
			d->pd = ibv_alloc_pd(ctx);
			if (!d->pd) {
				free(d);
				d = NULL;
			} else {
				tdm_list_add_tail(&devs, &d->link);
			}
		}
	}
	if (d)
		d->refs++;
	tdm_mutex_unlock(&mr_lock);
	return d;
}

/* Unlink and deregister e (mr_lock held). */
static void drop(struct srp_mr **link)
{
	struct srp_mr *e = *link;

	*link = e->next;
	ibv_dereg_mr(e->mr);
	free(e);
	nentries--;
}

void tdm__srp_dev_put(struct srp_dev *d)
{
	tdm_mutex_lock(&mr_lock);
	if (--d->refs > 0) {
		tdm_mutex_unlock(&mr_lock);
		return;
	}
	/* the last channel of the device: no command holds a registration */
	for (unsigned b = 0; b < NBUCKET; b++) {
		struct srp_mr **link = &bucket[b];

		while (*link) {
			if ((*link)->dev == d)
				drop(link);
			else
				link = &(*link)->next;
		}
	}
	tdm_list_del(&d->link);
	tdm_mutex_unlock(&mr_lock);
	ibv_dealloc_pd(d->pd);
	free(d);
}

/* Make room: drop unused entries (mr_lock held). */
static void trim(void)
{
	for (unsigned b = 0; b < NBUCKET && nentries >= CACHE_MAX; b++) {
		struct srp_mr **link = &bucket[b];

		while (*link && nentries >= CACHE_MAX) {
			if (!(*link)->inuse)
				drop(link);
			else
				link = &(*link)->next;
		}
	}
}

struct srp_mr *tdm__srp_mr_get(struct srp_dev *d, void *addr, uint32_t len)
{
	struct srp_mr *e;
	unsigned b = hash(addr);

	tdm_mutex_lock(&mr_lock);
	for (e = bucket[b]; e; e = e->next)
		if (e->dev == d && e->addr == addr && e->len >= len)
			break;
	if (e) {
		e->inuse++;
		hits++;
		tdm_mutex_unlock(&mr_lock);
		return e;
	}
	misses++;
	if (nentries >= CACHE_MAX)
		trim();
	e = calloc(1, sizeof(*e));
	if (e)
		e->mr = ibv_reg_mr(d->pd, addr, len, IBV_ACCESS_LOCAL_WRITE);
	if (!e || !e->mr) {
		int err = errno;

		free(e);
		tdm_mutex_unlock(&mr_lock);
		errno = err ? err : ENOMEM;
		return NULL;
	}
	e->dev = d;
	e->addr = addr;
	e->len = len;
	e->inuse = 1;
	e->next = bucket[b];
	bucket[b] = e;
	nentries++;
	tdm_mutex_unlock(&mr_lock);
	return e;
}

uint32_t tdm__srp_mr_lkey(const struct srp_mr *e)
{
	return e->mr->lkey;
}

void tdm__srp_mr_put(struct srp_mr *e)
{
	tdm_mutex_lock(&mr_lock);
	if (--e->inuse == 0 && e->orphan) {
		ibv_dereg_mr(e->mr);
		free(e);
	}
	tdm_mutex_unlock(&mr_lock);
}

/* lib/buf's release hook: buf goes back to the heap. */
static void forget(void *buf, uint32_t cap)
{
	struct srp_mr **link;

	(void)cap;
	tdm_mutex_lock(&mr_lock);
	link = &bucket[hash(buf)];
	while (*link) {
		if ((*link)->addr == buf && (*link)->inuse) {
			/* never expected: the last put deregisters it */
			struct srp_mr *e = *link;

			log_warnx("srp: a buffer freed while an RDMA transfer "
				  "used it");
			*link = e->next;
			e->orphan = true;
			nentries--;
		} else if ((*link)->addr == buf) {
			drop(link);
		} else {
			link = &(*link)->next;
		}
	}
	tdm_mutex_unlock(&mr_lock);
}

void tdm__srp_mr_init(void)
{
	tdm_buf_set_release_hook(forget);
}

void tdm__srp_mr_stats(unsigned long long *h, unsigned long long *m,
		       unsigned *n)
{
	tdm_mutex_lock(&mr_lock);
	*h = hits;
	*m = misses;
	*n = nentries;
	tdm_mutex_unlock(&mr_lock);
}
