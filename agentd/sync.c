/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * sync.c - membership sync decisions of tandem-agentd (sync.h). Pure.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agentd/sync.h"

void tdm_sync_init(struct tdm_sync *s, uint32_t self, uint16_t proto_max)
{
	memset(s, 0, sizeof(*s));
	s->self = self;
	s->proto_max = proto_max;
}

static void free_bufs(struct tdm_sync_buf *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(b[i].data);
}

/* memory the previous event's actions pointed to */
static void gc(struct tdm_sync *s)
{
	free_bufs(s->gc, s->ngc);
	free(s->gc);
	s->gc = NULL;
	s->ngc = 0;
	free(s->gc_snap);
	s->gc_snap = NULL;
	s->nact = 0;
	s->oom = false;
}

static void drop_buffer(struct tdm_sync *s)
{
	free_bufs(s->buf, s->nbuf);
	s->nbuf = 0;
}

static void drop_snap(struct tdm_sync *s)
{
	free(s->snap);
	s->snap = NULL;
	s->snap_total = s->snap_have = 0;
	s->snap_started = false;
}

/* tandemd's applied seq restarts at seq: the messages sent so far no
 * longer count (another numbering) */
static void applied_restart(struct tdm_sync *s, uint64_t seq)
{
	for (size_t i = 0; i < s->lmap_n; i++)
		s->lmap[(s->lmap_head + i) % s->lmap_cap] = 0;
	s->applied = seq;
	s->ack_valid = false;
}

void tdm_sync_reset(struct tdm_sync *s)
{
	gc(s);
	drop_buffer(s);
	drop_snap(s);
	applied_restart(s, 0);
	s->joined = s->syncing = s->synced = s->waiting = false;
	s->seq = 0;
	s->version = 0;
	s->source = 0;
	s->nmembers = 0;
}

void tdm_sync_free(struct tdm_sync *s)
{
	tdm_sync_reset(s);
	free(s->buf);
	free(s->act);
	free(s->lmap);
	free(s->stab);
	memset(s, 0, sizeof(*s));
}

static struct tdm_sync_act *push(struct tdm_sync *s,
				 enum tdm_sync_act_type type)
{
	struct tdm_sync_act *a;

	if (s->nact == s->capact) {
		size_t cap = s->capact ? 2 * s->capact : 16;

		a = realloc(s->act, cap * sizeof(*a));
		if (!a) {
			s->oom = true;
			return NULL;
		}
		s->act = a;
		s->capact = cap;
	}
	a = &s->act[s->nact++];
	memset(a, 0, sizeof(*a));
	a->type = type;
	return a;
}

bool tdm_sync_ready(const struct tdm_sync *s)
{
	return s->joined && !s->syncing && s->synced;
}

/* ---- acknowledgements ---- */

static uint8_t op_what(uint16_t type)
{
	return type == TDM_CMSG_PR_OP ? 1 : type == TDM_CMSG_ALUA_OP ? 2 : 3;
}

/* An APPLY of msg at seq: remember this member's own operation. */
static void stab_add(struct tdm_sync *s, const uint8_t *msg, size_t len,
		     uint64_t seq)
{
	uint16_t type, version;
	uint32_t origin;
	uint64_t req;

	if (s->link_version < 2 ||
	    tdm_cmsg_op_ids(msg, len, &type, &version, &origin, &req) < 0 ||
	    origin != s->self || req == 0)
		return;
	if (s->nstab == s->capstab) {
		size_t cap = s->capstab ? 2 * s->capstab : 64;
		struct tdm_sync_stab *p = realloc(s->stab, cap * sizeof(*p));

		if (!p) {
			s->oom = true;
			return;
		}
		s->stab = p;
		s->capstab = cap;
	}
	s->stab[s->nstab].req = req;
	s->stab[s->nstab].seq = seq;
	s->stab[s->nstab++].what = op_what(type);
}

/* every operation waiting for STABLE is lost */
static void stab_lose(struct tdm_sync *s)
{
	struct tdm_sync_act *a;

	for (size_t i = 0; i < s->nstab; i++) {
		a = push(s, TDM_SYNC_LOST);
		if (!a)
			break;
		a->req = s->stab[i].req;
		a->what = s->stab[i].what;
	}
	s->nstab = 0;
}

void tdm_sync_stab_clear(struct tdm_sync *s)
{
	s->nstab = 0;
}

/* STABLE for every operation of ours that every member applied */
static void check_stable(struct tdm_sync *s)
{
	struct tdm_sync_act *a;
	uint64_t min = s->applied;
	size_t i, k = 0;

	if (!s->nstab || !tdm_sync_ready(s))
		return;
	if (s->version >= 2)
		for (i = 0; i < s->nmembers; i++) {
			const struct tdm_sync_member *m = &s->members[i];

			if (m->nodeid == s->self)
				continue;
			if (!m->have_ack)
				return;
			if (m->acked < min)
				min = m->acked;
		}
	for (i = 0; i < s->nstab; i++) {
		if (s->stab[i].seq > min) {
			s->stab[k++] = s->stab[i];
			continue;
		}
		a = push(s, TDM_SYNC_STABLE);
		if (!a) {
			s->stab[k++] = s->stab[i];
			continue;
		}
		a->req = s->stab[i].req;
		a->seq = s->stab[i].seq;
		a->what = s->stab[i].what;
	}
	s->nstab = k;
}

/* this member became synced without applying one by one: its tandemd is
 * fenced until it has processed what was sent up to now */
static void became_synced(struct tdm_sync *s)
{
	applied_restart(s, s->seq);
}

void tdm_sync_link(struct tdm_sync *s, uint16_t link_version)
{
	s->link_version = link_version;
	s->link_sent = s->link_done = 0;
	s->lmap_head = s->lmap_n = 0;
	s->nstab = 0;
	applied_restart(s, 0);
}

int tdm_sync_sent(struct tdm_sync *s, uint64_t seq)
{
	s->link_sent++;
	if (s->link_version < 2) {
		/* no DONE will come: what was sent counts as applied */
		if (seq > s->applied)
			s->applied = seq;
		s->link_done = s->link_sent;
		return 0;
	}
	if (s->lmap_n == s->lmap_cap) {
		size_t cap = s->lmap_cap ? 2 * s->lmap_cap : 256;
		uint64_t *p = malloc(cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		for (size_t i = 0; i < s->lmap_n; i++)
			p[i] = s->lmap[(s->lmap_head + i) % s->lmap_cap];
		free(s->lmap);
		s->lmap = p;
		s->lmap_cap = cap;
		s->lmap_head = 0;
	}
	s->lmap[(s->lmap_head + s->lmap_n++) % s->lmap_cap] = seq;
	return 0;
}

int tdm_sync_done(struct tdm_sync *s, uint64_t count)
{
	uint64_t seq;

	gc(s);
	if (s->link_version < 2 || count < s->link_done || count > s->link_sent)
		return -EPROTO;
	while (s->link_done < count) {
		s->link_done++;
		if (!s->lmap_n)
			continue; /* sent before a re-initialisation */
		seq = s->lmap[s->lmap_head];
		s->lmap_head = (s->lmap_head + 1) % s->lmap_cap;
		s->lmap_n--;
		if (seq > s->applied)
			s->applied = seq;
	}
	check_stable(s);
	return s->oom ? -ENOMEM : 0;
}

static struct tdm_sync_member *member(struct tdm_sync *s, uint32_t nodeid);

int tdm_sync_ack(struct tdm_sync *s, uint32_t from,
		 const struct tdm_cmsg_ack *a)
{
	struct tdm_sync_member *m;

	gc(s);
	if (a->nodeid != from)
		return -EPROTO;
	if (!s->joined || s->syncing || a->conf != s->conf)
		return 0; /* stale: sent before the cut of this configuration */
	m = member(s, from);
	if (!m)
		return 0;
	if (!m->have_ack || a->applied_seq > m->acked)
		m->acked = a->applied_seq;
	m->have_ack = true;
	check_stable(s);
	return s->oom ? -ENOMEM : 0;
}

bool tdm_sync_ack_due(const struct tdm_sync *s, struct tdm_cmsg_ack *a)
{
	if (!tdm_sync_ready(s) || s->version < 2 || s->nmembers < 2 ||
	    (s->ack_valid && s->applied <= s->ack_seq))
		return false;
	a->nodeid = s->self;
	a->applied_seq = s->applied;
	a->conf = s->conf;
	return true;
}

void tdm_sync_ack_sent(struct tdm_sync *s, const struct tdm_cmsg_ack *a)
{
	if (a->conf != s->conf)
		return;
	s->ack_valid = true;
	s->ack_seq = a->applied_seq;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static struct tdm_sync_member *member(struct tdm_sync *s, uint32_t nodeid)
{
	for (size_t i = 0; i < s->nmembers; i++)
		if (s->members[i].nodeid == nodeid)
			return &s->members[i];
	return NULL;
}

static void drop_unloaded(struct tdm_sync *s);

int tdm_sync_confchg(struct tdm_sync *s, const uint32_t *nodeids, size_t n)
{
	uint32_t ids[TDM_SYNC_MEMBERS_MAX];
	struct {
		uint32_t nodeid;
		uint64_t acked;
	} kept[TDM_SYNC_MEMBERS_MAX];
	struct tdm_sync_act *a;
	size_t i, j, k = 0, nkept = 0;
	bool self = false;

	gc(s);
	for (i = 0; i < s->nmembers; i++)
		if (s->members[i].have_ack) {
			kept[nkept].nodeid = s->members[i].nodeid;
			kept[nkept++].acked = s->members[i].acked;
		}
	if (n > TDM_SYNC_MEMBERS_MAX)
		n = TDM_SYNC_MEMBERS_MAX;
	memcpy(ids, nodeids, n * sizeof(*ids));
	qsort(ids, n, sizeof(*ids), cmp_u32);
	for (i = 0; i < n; i++) {
		if (k && ids[i] == s->members[k - 1].nodeid)
			continue; /* one agent per node */
		memset(&s->members[k], 0, sizeof(s->members[k]));
		s->members[k++].nodeid = ids[i];
		if (ids[i] == s->self)
			self = true;
	}
	if (!self) {
		/* this member left (or this is an older configuration) */
		tdm_sync_reset(s);
		stab_lose(s);
		return s->oom ? -ENOMEM : 0;
	}
	s->nmembers = k;
	/* members that stay keep their ACK until the cut decides */
	for (i = 0; i < k; i++)
		for (j = 0; j < nkept; j++)
			if (kept[j].nodeid == s->members[i].nodeid) {
				s->members[i].have_ack = true;
				s->members[i].acked = kept[j].acked;
			}
	s->conf = 2166136261u; /* FNV-1a over the sorted nodeids */
	for (i = 0; i < k; i++)
		for (int b = 0; b < 4; b++)
			s->conf = (s->conf ^
				   (uint8_t)(s->members[i].nodeid >> (8 * b))) *
				  16777619u;
	s->ops_since = 0;
	s->joined = true;
	s->syncing = true;
	if (!s->synced) {
		/* what it buffered follows a snapshot of the previous
		 * configuration's source: this cut decides anew (its seq is
		 * this member's SYNC-INFO seq plus what comes from now on) */
		drop_unloaded(s);
		drop_snap(s);
		s->waiting = false;
	}
	a = push(s, TDM_SYNC_SEND_INFO);
	if (!a)
		return -ENOMEM;
	a->info.proto_max = s->proto_max;
	a->info.synced = s->synced;
	a->info.seq = s->seq;
	a->info.nodeid = s->self;
	a->info.conf = s->conf;
	return s->oom ? -ENOMEM : 0;
}

static bool buffer_op(struct tdm_sync *s, const uint8_t *msg, size_t len)
{
	uint8_t *d;

	if (s->nbuf == s->capbuf) {
		size_t cap = s->capbuf ? 2 * s->capbuf : 64;
		struct tdm_sync_buf *b = realloc(s->buf, cap * sizeof(*b));

		if (!b)
			return false;
		s->buf = b;
		s->capbuf = cap;
	}
	d = malloc(len ? len : 1);
	if (!d)
		return false;
	memcpy(d, msg, len);
	s->buf[s->nbuf].data = d;
	s->buf[s->nbuf++].len = len;
	return true;
}

/* The buffered operations will not be applied (the snapshot they follow
 * will not be loaded): this member's own get TDM_SYNC_DROP (its daemon
 * rejects them, else they would wait forever); the buffer goes to gc
 * (the actions point into it). */
static void drop_unloaded(struct tdm_sync *s)
{
	struct tdm_sync_act *a;
	uint16_t type, version;
	uint32_t origin;
	uint64_t req;

	for (size_t i = 0; i < s->nbuf; i++) {
		if (tdm_cmsg_op_ids(s->buf[i].data, s->buf[i].len, &type,
				    &version, &origin, &req) < 0 ||
		    origin != s->self || req == 0)
			continue;
		a = push(s, TDM_SYNC_DROP);
		if (!a)
			break;
		a->data = s->buf[i].data;
		a->len = s->buf[i].len;
	}
	free_bufs(s->gc, s->ngc);
	free(s->gc);
	s->gc = s->buf;
	s->ngc = s->nbuf;
	s->buf = NULL;
	s->nbuf = s->capbuf = 0;
}

/* Apply the buffered operations; the buffer goes to gc (the actions point
 * into it). */
static void replay(struct tdm_sync *s)
{
	struct tdm_sync_act *a;

	for (size_t i = 0; i < s->nbuf; i++) {
		a = push(s, TDM_SYNC_APPLY);
		if (!a)
			break;
		a->data = s->buf[i].data;
		a->len = s->buf[i].len;
		a->seq = ++s->seq;
		stab_add(s, a->data, a->len, a->seq);
	}
	s->gc = s->buf;
	s->ngc = s->nbuf;
	s->buf = NULL;
	s->nbuf = s->capbuf = 0;
}

/* its seq at the cut */
static uint64_t eff_seq(const struct tdm_sync *s,
			const struct tdm_sync_member *m)
{
	return m->info.seq + s->ops_since;
}

static bool continues(const struct tdm_sync *s, const struct tdm_sync_member *m,
		      uint64_t src_seq)
{
	return m->info.synced && eff_seq(s, m) == src_seq;
}

static void cut(struct tdm_sync *s)
{
	struct tdm_sync_member *src = NULL, *me = member(s, s->self);
	struct tdm_sync_act *a;
	uint16_t version = s->members[0].info.proto_max;
	bool need = false;
	uint64_t src_seq;
	size_t i;

	for (i = 0; i < s->nmembers; i++) {
		struct tdm_sync_member *m = &s->members[i];

		if (m->info.proto_max < version)
			version = m->info.proto_max;
		/* members are sorted: strictly greater keeps the lowest id */
		if (m->info.synced && (!src || eff_seq(s, m) > eff_seq(s, src)))
			src = m;
	}
	if (!src)
		src = &s->members[0];
	src_seq = eff_seq(s, src);
	for (i = 0; i < s->nmembers; i++)
		if (&s->members[i] != src &&
		    !continues(s, &s->members[i], src_seq))
			need = true;
	s->version = version;
	s->source = src->nodeid;
	s->syncing = false;
	s->cuts++;
	/* ACKs count only from members that keep this numbering */
	for (i = 0; i < s->nmembers; i++)
		if (!continues(s, &s->members[i], src_seq))
			s->members[i].have_ack = false;
	s->ack_valid = false; /* announce applied in this configuration */
	if (me == src) {
		bool was = s->synced;

		if (!was)
			replay(s); /* delivered before the cut: ours now */
		else
			drop_buffer(s);
		drop_snap(s);
		s->waiting = false;
		s->synced = true;
		s->seq = src_seq;
		if (!was)
			became_synced(s);
		if (need) {
			a = push(s, TDM_SYNC_SNAPSHOT_GET);
			if (a)
				a->seq = src_seq;
		}
	} else if (continues(s, me, src_seq)) {
		s->synced = true;
		s->seq = src_seq;
	} else {
		drop_unloaded(s);
		drop_snap(s);
		s->synced = false;
		s->waiting = true;
		s->snap_source = src->nodeid;
		s->snap_seq = src_seq;
		/* our history is replaced: nothing of ours is known stable */
		stab_lose(s);
		applied_restart(s, 0);
	}
	check_stable(s);
}

int tdm_sync_info(struct tdm_sync *s, uint32_t from,
		  const struct tdm_cmsg_info *info)
{
	struct tdm_sync_member *m;
	size_t i;

	gc(s);
	if (!s->joined || !s->syncing)
		return 0; /* a late duplicate: the cut is behind us */
	if (info->nodeid != from)
		return -EPROTO;
	if (info->conf != s->conf)
		return 0; /* answers an earlier configuration */
	m = member(s, from);
	if (!m)
		return -EPROTO;
	m->have_info = true;
	m->info = *info;
	for (i = 0; i < s->nmembers; i++)
		if (!s->members[i].have_info)
			return 0;
	cut(s);
	return s->oom ? -ENOMEM : 0;
}

int tdm_sync_op(struct tdm_sync *s, const uint8_t *msg, size_t len)
{
	struct tdm_sync_act *a;
	uint16_t type, version;
	uint32_t origin;
	uint64_t req;

	gc(s);
	if (!s->joined)
		return 0;
	if (tdm_cmsg_op_ids(msg, len, &type, &version, &origin, &req) < 0)
		return -EPROTO;
	if (!s->syncing && s->version && version > s->version) {
		/* the group's older members cannot decode it: nobody
		 * applies it */
		a = push(s, TDM_SYNC_DROP);
		if (!a)
			return -ENOMEM;
		a->data = msg;
		a->len = len;
		return 0;
	}
	if (s->syncing)
		s->ops_since++;
	if (!s->synced)
		return buffer_op(s, msg, len) ? 0 : -ENOMEM;
	a = push(s, TDM_SYNC_APPLY);
	if (!a)
		return -ENOMEM;
	a->data = msg;
	a->len = len;
	a->seq = ++s->seq;
	stab_add(s, msg, len, a->seq);
	return s->oom ? -ENOMEM : 0;
}

int tdm_sync_chunk(struct tdm_sync *s, const struct tdm_cmsg *m)
{
	struct tdm_sync_act *a;

	gc(s);
	if (!s->joined || !s->waiting || m->source != s->snap_source ||
	    m->snap_seq != s->snap_seq)
		return 0; /* not the snapshot this member waits for */
	if (m->offset == 0) {
		drop_snap(s);
		s->snap = malloc(m->total ? m->total : 1);
		if (!s->snap)
			return -ENOMEM;
		s->snap_total = m->total;
		s->snap_started = true;
	} else if (!s->snap_started || m->offset != s->snap_have ||
		   m->total != s->snap_total) {
		drop_snap(s);
		return -EPROTO;
	}
	if (m->data_len > s->snap_total - s->snap_have) {
		drop_snap(s);
		return -EPROTO;
	}
	if (m->data_len)
		memcpy(s->snap + s->snap_have, m->data, m->data_len);
	s->snap_have += m->data_len;
	if (s->snap_have < s->snap_total)
		return 0;
	a = push(s, TDM_SYNC_SNAPSHOT_LOAD);
	if (!a)
		return -ENOMEM;
	a->data = s->snap;
	a->len = s->snap_total;
	a->seq = s->snap_seq;
	s->gc_snap = s->snap;
	s->snap = NULL;
	s->snap_started = false;
	s->seq = s->snap_seq;
	s->waiting = false;
	s->synced = true;
	replay(s);
	became_synced(s);
	check_stable(s);
	return s->oom ? -ENOMEM : 0;
}
