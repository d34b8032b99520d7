/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hold.c - the fencing hold of tandem-agentd (hold.h). Pure.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agentd/hold.h"

void tdm_hold_init(struct tdm_hold *h)
{
	memset(h, 0, sizeof(*h));
}

void tdm_hold_queue_clear(struct tdm_hold *h)
{
	for (size_t i = 0; i < h->nq; i++)
		free((void *)h->q[i].data);
	h->nq = 0;
}

void tdm_hold_drop_queue(struct tdm_hold *h)
{
	tdm_hold_queue_clear(h);
}

void tdm_hold_free(struct tdm_hold *h)
{
	tdm_hold_queue_clear(h);
	free(h->q);
	memset(h, 0, sizeof(*h));
}

static bool listed(const uint32_t *ids, size_t n, uint32_t id)
{
	for (size_t i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

struct tdm_hold_dep *tdm_hold_find(struct tdm_hold *h, uint32_t nodeid)
{
	for (size_t i = 0; i < h->ndep; i++)
		if (h->dep[i].nodeid == nodeid)
			return &h->dep[i];
	return NULL;
}

static int64_t joined_at(const struct tdm_hold *h, uint32_t nodeid,
			 int64_t wall)
{
	for (size_t i = 0; i < h->nknown; i++)
		if (h->known[i].nodeid == nodeid)
			return h->known[i].joined_wall;
	return wall;
}

static void forget(struct tdm_hold *h, uint32_t nodeid)
{
	for (size_t i = 0; i < h->ndep; i++)
		if (h->dep[i].nodeid == nodeid) {
			h->dep[i] = h->dep[--h->ndep];
			return;
		}
}

size_t tdm_hold_confchg(struct tdm_hold *h, uint32_t self,
			const uint32_t *members, size_t n,
			const struct tdm_hold_left *left, size_t nleft,
			uint16_t version, uint32_t conf, uint64_t now_ms,
			int64_t wall)
{
	struct tdm_hold_known known[TDM_SYNC_MEMBERS_MAX];
	size_t i, k = 0, added = 0;
	bool had = h->ndep > 0;

	if (!listed(members, n, self)) {
		/* this member left the group */
		tdm_hold_queue_clear(h);
		h->nknown = h->ndep = 0;
		return 0;
	}
	if (n > TDM_SYNC_MEMBERS_MAX)
		n = TDM_SYNC_MEMBERS_MAX;
	/* the wall time this member saw each one join: kept for those it
	 * knew, now for the others (a fence before that does not count) */
	for (i = 0; i < n; i++) {
		known[k].nodeid = members[i];
		known[k++].joined_wall = joined_at(h, members[i], wall);
	}
	for (i = 0; i < nleft; i++) {
		struct tdm_hold_dep *d;

		if (left[i].why == TDM_HOLD_LEAVE ||
		    listed(members, n, left[i].nodeid))
			continue;
		if (version < TDM_HOLD_VERSION) {
			h->old_group = true;
			continue;
		}
		d = tdm_hold_find(h, left[i].nodeid);
		if (!d) {
			if (h->ndep == TDM_SYNC_MEMBERS_MAX)
				continue;
			d = &h->dep[h->ndep++];
		}
		memset(d, 0, sizeof(*d));
		d->nodeid = left[i].nodeid;
		d->why = left[i].why;
		d->conf = conf;
		d->left_ms = now_ms;
		d->left_wall = wall;
		d->joined_wall = joined_at(h, left[i].nodeid, wall);
		added++;
	}
	/* a departed member back in the group is no longer waited for */
	for (i = 0; i < n; i++)
		forget(h, members[i]);
	memcpy(h->known, known, k * sizeof(*known));
	h->nknown = k;
	if (!had && h->ndep)
		h->since_ms = now_ms;
	return added;
}

void tdm_hold_cut(struct tdm_hold *h, uint16_t version)
{
	if (version >= TDM_HOLD_VERSION || !h->ndep)
		return;
	h->ndep = 0;
	h->old_group = true;
}

bool tdm_hold_fenced(struct tdm_hold *h, const struct tdm_cmsg_fenced *f)
{
	struct tdm_hold_dep *d = tdm_hold_find(h, f->nodeid);

	if (!d || d->conf != f->conf)
		return false; /* a duplicate, or stale */
	forget(h, f->nodeid);
	return true;
}

bool tdm_hold_active(const struct tdm_hold *h)
{
	return h->ndep > 0;
}

bool tdm_hold_releasable(const struct tdm_hold *h)
{
	return !h->ndep && h->nq;
}

int tdm_hold_take(struct tdm_hold *h, const struct tdm_sync_act *a)
{
	struct tdm_sync_act *c;
	uint8_t *d = NULL;

	if (a->type != TDM_SYNC_APPLY && a->type != TDM_SYNC_STABLE &&
	    a->type != TDM_SYNC_SNAPSHOT_GET &&
	    a->type != TDM_SYNC_SNAPSHOT_LOAD)
		return 0;
	/* while a release is pending (nq), keep the order too */
	if (!h->ndep && !h->nq)
		return 0;
	if (h->nq == h->capq) {
		size_t cap = h->capq ? 2 * h->capq : 64;

		c = realloc(h->q, cap * sizeof(*c));
		if (!c)
			return -ENOMEM;
		h->q = c;
		h->capq = cap;
	}
	if (a->len) {
		d = malloc(a->len);
		if (!d)
			return -ENOMEM;
		memcpy(d, a->data, a->len);
	}
	c = &h->q[h->nq++];
	*c = *a;
	c->data = d;
	return 1;
}
