/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * target.c - the registry of running objects built from the configuration
 * (LUs, targets, LUN maps), the I_T nexuses, and applying a new
 * configuration atomically.
 *
 * Locking: tdm__reg_lock (rwlock) guards the registry, every nexus' map
 * pointer and the nexus list. Commands take it for reading to resolve a
 * LUN; tdm_core_apply() takes it for writing only to swap prepared
 * objects in, a nexus' creation and end to link and unlink it. Only the
 * main thread changes the registry (apply, shutdown), so it reads it
 * there without the lock. conf_lock, inside it, guards reg.conf alone.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scsi/scsi_int.h"
#include "tandem/admin.h"
#include "lib/log.h"

/* order: scsi/README.md "Locks" */
struct tdm_rwlock tdm__reg_lock =
	TDM_RWLOCK_INITIALIZER(TDM__LOCK_REG, "tdm__reg_lock");
struct tdm_list tdm__nexuses = TDM_LIST_INIT(tdm__nexuses);

struct conf_ref {
	atomic_int ref;
	struct tdm_conf c;
};

struct tgt_group {
	const struct tdm_conf_group *conf;
	struct tdm_lunmap *map;
};

struct tdm_target {
	const struct tdm_conf_target *conf;
	uint16_t rel_port;
	struct tdm_lunmap *defmap;
	struct tgt_group *groups;
	size_t ngroups;
};

struct registry {
	struct conf_ref *conf;
	struct tdm_lu **lus; /* one reference each */
	size_t nlus;
	struct tdm_target *targets;
	size_t ntargets;
};

static struct registry reg;
/* reg.conf, for tdm_conf_current() (taken inside tdm__reg_lock) */
static struct tdm_mutex conf_lock =
	TDM_MUTEX_INITIALIZER(TDM__LOCK_CONF, "conf_lock");
static uint64_t epoch;
static uint64_t next_nexus_id = 1;

/* ---- configuration snapshots ---- */

const struct tdm_conf *tdm_conf_current(void)
{
	struct conf_ref *r;

	tdm_mutex_lock(&conf_lock);
	r = reg.conf;
	if (r)
		atomic_fetch_add(&r->ref, 1);
	tdm_mutex_unlock(&conf_lock);
	return r ? &r->c : NULL;
}

static void conf_ref_put(struct conf_ref *r)
{
	if (r && atomic_fetch_sub(&r->ref, 1) == 1) {
		tdm_conf_free(&r->c);
		free(r);
	}
}

void tdm_conf_release(const struct tdm_conf *c)
{
	if (c)
		conf_ref_put(container_of(c, struct conf_ref, c));
}

const struct tdm_conf_target *tdm_conf_find_target(const struct tdm_conf *c,
						   const char *name)
{
	size_t i;

	for (i = 0; c && i < c->ntargets; i++)
		if (!strcmp(c->targets[i].name, name))
			return &c->targets[i];
	return NULL;
}

bool tdm_target_allows(const struct tdm_conf_target *t, const char *initiator)
{
	if (!t || !t->enabled)
		return false;
	/* refuse_unmatched_initiators: only initiators a GROUP names log
	 * in (and SendTargets shows the target only to them) */
	return !t->refuse_unmatched ||
	       (initiator && tdm_conf_match_group(t, initiator) != NULL);
}

/* ---- LUN maps ---- */

static int lunmap_cmp(const void *a, const void *b)
{
	const struct tdm_lunmap_ent *x = a, *y = b;

	return x->lun < y->lun ? -1 : x->lun > y->lun;
}

static struct tdm_lu *find_lu(struct tdm_lu **lus, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(lus[i]->name, name))
			return lus[i];
	return NULL;
}

static struct tdm_lunmap *build_map(const struct tdm_conf_lun *luns, size_t n,
				    struct tdm_lu **lus, size_t nlus)
{
	struct tdm_lunmap *m = calloc(1, sizeof(*m) + n * sizeof(m->ents[0]));
	size_t i;

	if (!m)
		return NULL;
	for (i = 0; i < n; i++) {
		struct tdm_lu *lu = find_lu(lus, nlus, luns[i].device);

		if (!lu) /* tdm_conf_validate() rules this out */
			continue;
		m->ents[m->n].lun = luns[i].lun;
		m->ents[m->n].lu = lu;
		m->ents[m->n].read_only = luns[i].read_only;
		m->n++;
	}
	qsort(m->ents, m->n, sizeof(m->ents[0]), lunmap_cmp);
	return m;
}

static bool map_equal(const struct tdm_lunmap *a, const struct tdm_lunmap *b)
{
	size_t i;

	if (!a || !b)
		return a == b;
	if (a->n != b->n)
		return false;
	for (i = 0; i < a->n; i++)
		if (a->ents[i].lun != b->ents[i].lun ||
		    a->ents[i].lu != b->ents[i].lu ||
		    a->ents[i].read_only != b->ents[i].read_only)
			return false;
	return true;
}

static void free_targets(struct tdm_target *t, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		free(t[i].defmap);
		for (j = 0; j < t[i].ngroups; j++)
			free(t[i].groups[j].map);
		free(t[i].groups);
	}
	free(t);
}

static struct tdm_target *find_target(struct tdm_target *t, size_t n,
				      const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(t[i].conf->name, name))
			return &t[i];
	return NULL;
}

static const struct tdm_lunmap *map_for(const struct tdm_target *t,
					const char *ini, const char **group)
{
	const struct tdm_conf_group *g = tdm_conf_match_group(t->conf, ini);

	if (g) {
		*group = g->name;
		return t->groups[g - t->conf->groups].map;
	}
	*group = "";
	return t->defmap;
}

struct tdm_lu *tdm__lun_lookup(struct tdm_nexus *nx, uint64_t lun,
			       bool *read_only)
{
	const struct tdm_lunmap *m;
	struct tdm_lu *lu = NULL;
	size_t lo, hi;

	tdm_rwlock_rdlock(&tdm__reg_lock);
	m = nx->map;
	lo = 0;
	hi = m ? m->n : 0;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (m->ents[mid].lun == lun) {
			lu = m->ents[mid].lu;
			*read_only = m->ents[mid].read_only;
			tdm__lu_get(lu);
			break;
		}
		if (m->ents[mid].lun < lun)
			lo = mid + 1;
		else
			hi = mid;
	}
	tdm_rwlock_unlock(&tdm__reg_lock);
	return lu;
}

struct tdm_lu **tdm__nexus_lus(struct tdm_nexus *nx, size_t *n)
{
	struct tdm_lu **v;
	size_t i = 0;

	tdm_rwlock_rdlock(&tdm__reg_lock);
	v = calloc(nx->map && nx->map->n ? nx->map->n : 1, sizeof(*v));
	if (v && nx->map) {
		for (i = 0; i < nx->map->n; i++) {
			v[i] = nx->map->ents[i].lu;
			tdm__lu_get(v[i]);
		}
	}
	tdm_rwlock_unlock(&tdm__reg_lock);
	*n = i;
	return v;
}

uint16_t tdm_target_rel_port(const char *name)
{
	uint16_t id = 0;

	tdm_rwlock_rdlock(&tdm__reg_lock);
	for (size_t i = 0; i < reg.ntargets && !id; i++)
		if (strcmp(reg.targets[i].conf->name, name) == 0)
			id = reg.targets[i].rel_port;
	tdm_rwlock_unlock(&tdm__reg_lock);
	return id;
}

struct tdm_lu *tdm__lu_by_name(const char *name)
{
	struct tdm_lu *lu = NULL;

	tdm_rwlock_rdlock(&tdm__reg_lock);
	for (size_t i = 0; i < reg.nlus && !lu; i++)
		if (strcmp(reg.lus[i]->name, name) == 0)
			lu = reg.lus[i];
	if (lu)
		tdm__lu_get(lu);
	tdm_rwlock_unlock(&tdm__reg_lock);
	return lu;
}

/* ---- applying a configuration ---- */

static bool dev_same(const struct tdm_conf_device *a,
		     const struct tdm_conf_device *b)
{
	struct tdm_conf_device x = *a, y = *b;

	x.line = y.line = 0;
	return !memcmp(&x, &y, sizeof(x));
}

struct close_req {
	uint64_t id;
	struct tdm_loop *loop;
};

static void close_nexus_cb(void *arg)
{
	struct close_req *cr = arg;
	struct tdm_list *pos;
	struct tdm_nexus *found = NULL;

	tdm_rwlock_rdlock(&tdm__reg_lock);
	tdm_list_for_each (pos, &tdm__nexuses) {
		struct tdm_nexus *nx =
			tdm_list_entry(pos, struct tdm_nexus, link);

		if (nx->id_num == cr->id && !atomic_load(&nx->dying)) {
			found = nx;
			break;
		}
	}
	tdm_rwlock_unlock(&tdm__reg_lock);
	/* the nexus lives on this thread: it cannot go away under us */
	if (found && found->ops->close_nexus)
		found->ops->close_nexus(found);
	free(cr);
}

static void post_close(struct tdm_nexus *nx)
{
	struct close_req *cr = malloc(sizeof(*cr));

	if (!cr)
		return;
	cr->id = nx->id_num;
	cr->loop = nx->loop;
	tdm_loop_post(nx->loop, close_nexus_cb, cr);
}

void tdm__close_target_nexuses(const char *target,
			       const struct tdm_nexus *except)
{
	struct tdm_list *pos;

	tdm_rwlock_rdlock(&tdm__reg_lock);
	tdm_list_for_each (pos, &tdm__nexuses) {
		struct tdm_nexus *nx =
			tdm_list_entry(pos, struct tdm_nexus, link);

		if (nx != except && !strcmp(nx->id.target, target))
			post_close(nx);
	}
	tdm_rwlock_unlock(&tdm__reg_lock);
}

static void unit_attention_for_change(struct tdm_nexus *nx,
				      const struct tdm_lunmap *old,
				      const struct tdm_lunmap *neu)
{
	size_t i, j;

	if (!neu)
		return;
	for (i = 0; i < neu->n; i++) {
		const struct tdm_lu *lu = neu->ents[i].lu;
		const struct tdm_lu *prev = NULL;

		for (j = 0; old && j < old->n; j++)
			if (old->ents[j].lun == neu->ents[i].lun)
				prev = old->ents[j].lu;
		if (!prev || prev == lu)
			continue;
		/* same LUN, device reopened or replaced */
		if (!strcmp(prev->name, lu->name) &&
		    prev->nblocks != lu->nblocks)
			tdm__ua_raise(nx, lu, TDM_SR_UA_CAPACITY_CHANGED);
		else
			tdm__ua_raise(nx, lu, TDM_SR_UA_INQUIRY_DATA_CHANGED);
	}
	if (!map_equal(old, neu)) {
		bool set_changed = !old || old->n != neu->n;

		for (i = 0; !set_changed && i < neu->n; i++)
			if (old->ents[i].lun != neu->ents[i].lun)
				set_changed = true;
		/* SPC-4 6.33: REPORTED LUNS DATA HAS CHANGED */
		if (set_changed)
			tdm__ua_raise(nx, NULL,
				      TDM_SR_UA_REPORTED_LUNS_CHANGED);
	}
}

static int build_targets(const struct tdm_conf *c, struct tdm_lu **lus,
			 size_t nlus, struct tdm_target **out)
{
	struct tdm_target *t =
		calloc(c->ntargets ? c->ntargets : 1, sizeof(*t));
	size_t i, j;
	uint16_t next_port = 1;

	if (!t)
		return -ENOMEM;
	for (i = 0; i < c->ntargets; i++) {
		const struct tdm_conf_target *ct = &c->targets[i];

		t[i].conf = ct;
		t[i].defmap = build_map(ct->luns, ct->nluns, lus, nlus);
		t[i].groups = calloc(ct->ngroups ? ct->ngroups : 1,
				     sizeof(*t[i].groups));
		if (!t[i].defmap || !t[i].groups)
			goto nomem;
		t[i].ngroups = ct->ngroups;
		for (j = 0; j < ct->ngroups; j++) {
			t[i].groups[j].conf = &ct->groups[j];
			t[i].groups[j].map =
				build_map(ct->groups[j].luns,
					  ct->groups[j].nluns, lus, nlus);
			if (!t[i].groups[j].map)
				goto nomem;
		}
	}
	/* relative target port ids: configured, or the smallest free one */
	for (i = 0; i < c->ntargets; i++) {
		if (c->targets[i].rel_tgt_id) {
			t[i].rel_port = c->targets[i].rel_tgt_id;
			continue;
		}
		for (;;) {
			bool used = false;

			for (j = 0; j < c->ntargets; j++)
				if (c->targets[j].rel_tgt_id == next_port)
					used = true;
			if (!used)
				break;
			next_port++;
		}
		t[i].rel_port = next_port++;
	}
	*out = t;
	return 0;
nomem:
	free_targets(t, c->ntargets);
	return -ENOMEM;
}

int tdm_core_apply(const struct tdm_conf *c, char *err, size_t errlen)
{
	struct conf_ref *ncr;
	struct tdm_lu **nlus;
	struct tdm_target *ntargets = NULL;
	struct registry old;
	struct tdm_list *pos;
	size_t i;
	int r;

	r = tdm_conf_validate(c, "config", err, errlen);
	if (r < 0)
		return r;
	ncr = calloc(1, sizeof(*ncr));
	nlus = calloc(c->ndevices ? c->ndevices : 1, sizeof(*nlus));
	if (!ncr || !nlus) {
		free(ncr);
		free(nlus);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	r = tdm_conf_dup(c, &ncr->c);
	if (r < 0) {
		free(ncr);
		free(nlus);
		snprintf(err, errlen, "out of memory");
		return r;
	}
	atomic_init(&ncr->ref, 1);

	/* 1. open every new or changed device; nothing changes on error */
	for (i = 0; i < c->ndevices; i++) {
		struct tdm_lu *prev =
			find_lu(reg.lus, reg.nlus, c->devices[i].name);

		if (prev && dev_same(&prev->conf, &c->devices[i])) {
			tdm__lu_get(prev);
			nlus[i] = prev;
			continue;
		}
		if (prev &&
		    tdm__mmc_only_medium_differs(prev, &c->devices[i])) {
			/* scsi/mmc.c: a CD-ROM whose only change is its image
			 * keeps its LU and sessions; the medium is swapped in
			 * place (refused while removal is prevented) */
			r = tdm__mmc_change_medium(prev, &c->devices[i], err,
						   errlen);
			if (r == 0) {
				tdm__lu_get(prev);
				nlus[i] = prev;
				continue;
			}
		} else {
			r = tdm__lu_open(&c->devices[i], &nlus[i], err, errlen);
		}
		if (r < 0 && c->devices[i].line > 0) {
			char msg[1024];

			snprintf(msg, sizeof(msg), "%s", err);
			snprintf(err, errlen, "%s:%d: %s",
				 c->source[0] ? c->source : "config",
				 c->devices[i].line, msg);
		}
		if (r < 0) {
			while (i--)
				tdm__lu_put(nlus[i]);
			free(nlus);
			conf_ref_put(ncr);
			return r;
		}
		log_info("%s: opened (%s, %llu blocks of %u bytes)",
			 nlus[i]->name, tdm_handler_name(c->devices[i].handler),
			 (unsigned long long)nlus[i]->nblocks,
			 nlus[i]->block_size);
	}
	/* 2. targets and maps (point into the new snapshot) */
	r = build_targets(&ncr->c, nlus, c->ndevices, &ntargets);
	if (r < 0) {
		for (i = 0; i < c->ndevices; i++)
			tdm__lu_put(nlus[i]);
		free(nlus);
		conf_ref_put(ncr);
		snprintf(err, errlen, "out of memory");
		return r;
	}

	/* 3. swap */
	tdm_rwlock_wrlock(&tdm__reg_lock);
	tdm_mutex_lock(&conf_lock);
	old = reg;
	reg.conf = ncr;
	reg.lus = nlus;
	reg.nlus = c->ndevices;
	reg.targets = ntargets;
	reg.ntargets = c->ntargets;
	tdm_mutex_unlock(&conf_lock);
	tdm_list_for_each (pos, &tdm__nexuses) {
		struct tdm_nexus *nx =
			tdm_list_entry(pos, struct tdm_nexus, link);
		struct tdm_target *t =
			find_target(ntargets, c->ntargets, nx->id.target);
		const struct tdm_lunmap *prevmap = nx->map;
		const char *group = "";

		if (!t || !t->conf->enabled) {
			nx->map = NULL;
			post_close(nx);
			continue;
		}
		nx->map = map_for(t, nx->id.initiator, &group);
		nx->rel_port = t->rel_port;
		atomic_store(&nx->iost, tdm__iostats_port(t->rel_port));
		snprintf(nx->group, sizeof(nx->group), "%s", group);
		unit_attention_for_change(nx, prevmap, nx->map);
	}
	epoch++;
	tdm_rwlock_unlock(&tdm__reg_lock);
	/* alua/: port groups and states of the new configuration; raises
	 * ASYMMETRIC ACCESS STATE CHANGED (scsi/alua_scsi.c) */
	tdm__alua_apply(c);

	/* 4. drop what the old registry held */
	for (i = 0; i < old.nlus; i++)
		tdm__lu_put(old.lus[i]);
	free(old.lus);
	free_targets(old.targets, old.ntargets);
	conf_ref_put(old.conf);
	return 0;
}

int tdm__registry_lus(struct tdm_lu ***lus, size_t *n)
{
	size_t i;

	tdm_rwlock_rdlock(&tdm__reg_lock);
	*lus = calloc(reg.nlus ? reg.nlus : 1, sizeof(**lus));
	for (i = 0; *lus && i < reg.nlus; i++) {
		(*lus)[i] = reg.lus[i];
		tdm__lu_get(reg.lus[i]);
	}
	*n = *lus ? reg.nlus : 0;
	tdm_rwlock_unlock(&tdm__reg_lock);
	return *lus ? 0 : -ENOMEM;
}

int tdm__registry_ports(uint16_t **ports, char (**names)[224], size_t *n)
{
	size_t i, k;

	tdm_rwlock_rdlock(&tdm__reg_lock);
	k = reg.ntargets ? reg.ntargets : 1;
	*ports = calloc(k, sizeof(**ports));
	*names = calloc(k, sizeof(**names));
	for (i = 0; *ports && *names && i < reg.ntargets; i++) {
		(*ports)[i] = reg.targets[i].rel_port;
		snprintf((*names)[i], sizeof((*names)[i]), "%s",
			 reg.targets[i].conf->name);
	}
	*n = *ports && *names ? reg.ntargets : 0;
	tdm_rwlock_unlock(&tdm__reg_lock);
	if (!*ports || !*names) {
		free(*ports);
		free(*names);
		*ports = NULL;
		*names = NULL;
		return -ENOMEM;
	}
	return 0;
}

uint16_t *tdm__target_ports(size_t *n)
{
	uint16_t *v, *grp = NULL;
	size_t i, k, ng = tdm__alua_ports(&grp);

	/* this head's targets, and the ports of other heads that the
	 * DEVICE_GROUPs name (ALL_TG_PT covers every head); pr-sync sorts
	 * them and needs no duplicates */
	tdm_rwlock_rdlock(&tdm__reg_lock);
	v = calloc(reg.ntargets + ng + 1, sizeof(*v));
	for (i = 0; v && i < reg.ntargets; i++)
		v[i] = reg.targets[i].rel_port;
	k = v ? reg.ntargets : 0;
	tdm_rwlock_unlock(&tdm__reg_lock);
	for (i = 0; v && grp && i < ng; i++) {
		size_t j = 0;

		while (j < k && v[j] != grp[i])
			j++;
		if (j == k)
			v[k++] = grp[i];
	}
	free(grp);
	*n = k;
	return v;
}

uint64_t tdm_core_epoch(void)
{
	uint64_t e;

	tdm_rwlock_rdlock(&tdm__reg_lock);
	e = epoch;
	tdm_rwlock_unlock(&tdm__reg_lock);
	return e;
}

void tdm_core_shutdown(void)
{
	struct registry old;
	size_t i;

	tdm_rwlock_wrlock(&tdm__reg_lock);
	tdm_mutex_lock(&conf_lock);
	old = reg;
	memset(&reg, 0, sizeof(reg));
	tdm_mutex_unlock(&conf_lock);
	tdm_rwlock_unlock(&tdm__reg_lock);
	tdm__alua_shutdown(); /* scsi/alua_scsi.c */
	for (i = 0; i < old.nlus; i++)
		tdm__lu_put(old.lus[i]);
	free(old.lus);
	free_targets(old.targets, old.ntargets);
	conf_ref_put(old.conf);
}

/* ---- nexuses ---- */

static void nexus_free(struct tdm_nexus *nx)
{
	tdm__ua_clear_nexus(nx);
	tdm_mutex_destroy(&nx->ua_lock);
	free(nx);
}

static struct tdm_nexus *nexus_alloc(const struct tdm_transport_ops *ops,
				     struct tdm_loop *loop, void *priv)
{
	struct tdm_nexus *nx = calloc(1, sizeof(*nx));

	if (!nx)
		return NULL;
	nx->ops = ops;
	nx->loop = loop;
	nx->priv = priv;
	tdm_mutex_init(&nx->ua_lock, TDM__LOCK_UA, "nx->ua_lock");
	tdm_list_init(&nx->uas);
	atomic_init(&nx->nua, 0);
	atomic_init(&nx->ncmds, 0);
	atomic_init(&nx->dying, false);
	nx->created_ns = tdm_now_ns();
	return nx;
}

struct tdm_nexus *tdm_nexus_create(const struct tdm_transport_ops *ops,
				   const struct tdm_nexus_id *id,
				   struct tdm_loop *loop, void *transport_priv,
				   int *err)
{
	struct tdm_nexus *nx = nexus_alloc(ops, loop, transport_priv);
	struct tdm_target *t;
	const char *group = "";

	if (!nx) {
		*err = -ENOMEM;
		return NULL;
	}
	nx->id = *id;
	if (tdm__nexus_identify(nx) < 0)
		log_warnx("%s: %s: no TransportID of the initiator port: "
			  "persistent reservations are refused on this I_T "
			  "nexus",
			  id->target, id->initiator);
	tdm_rwlock_wrlock(&tdm__reg_lock);
	t = find_target(reg.targets, reg.ntargets, id->target);
	if (!t || !t->conf->enabled) {
		tdm_rwlock_unlock(&tdm__reg_lock);
		free(nx);
		*err = -ENOENT;
		return NULL;
	}
	nx->map = map_for(t, id->initiator, &group);
	snprintf(nx->group, sizeof(nx->group), "%s", group);
	nx->rel_port = t->rel_port;
	atomic_store(&nx->iost, tdm__iostats_port(t->rel_port));
	nx->id_num = next_nexus_id++;
	/* SAM-5 6.3.1: a new I_T nexus starts with POWER ON, RESET */
	tdm__ua_raise(nx, NULL, TDM_SR_UA_POWER_ON_RESET);
	tdm_list_add_tail(&tdm__nexuses, &nx->link);
	tdm_rwlock_unlock(&tdm__reg_lock);
	return nx;
}

void tdm_nexus_destroy(struct tdm_nexus *nx)
{
	/* hold the nexus while aborting: a command handed back to the
	 * transport (abort_pending) may be released from inside */
	atomic_fetch_add(&nx->ncmds, 1);
	atomic_store(&nx->dying, true);
	tdm_rwlock_wrlock(&tdm__reg_lock);
	tdm_list_del(&nx->link);
	nx->map = NULL;
	tdm_rwlock_unlock(&tdm__reg_lock);
	tdm__abort_nexus(nx);
	tdm__spc2_nexus_gone(nx);
	tdm__nexus_cmd_released(nx);
}

void tdm__nexus_cmd_released(struct tdm_nexus *nx)
{
	if (atomic_fetch_sub(&nx->ncmds, 1) == 1 && atomic_load(&nx->dying))
		nexus_free(nx);
}

void *tdm_nexus_priv(const struct tdm_nexus *nx)
{
	return nx->priv;
}

struct tdm_loop *tdm_nexus_loop(const struct tdm_nexus *nx)
{
	return nx->loop;
}

const struct tdm_nexus_id *tdm_nexus_get_id(const struct tdm_nexus *nx)
{
	return &nx->id;
}

struct tdm_nexus *tdm__test_nexus(struct tdm_lu **lus, size_t n,
				  const struct tdm_transport_ops *ops)
{
	struct tdm_nexus *nx = nexus_alloc(ops, tdm_loop_current(), NULL);
	struct tdm_lunmap *m;
	size_t i;

	if (!nx)
		return NULL;
	m = calloc(1, sizeof(*m) + n * sizeof(m->ents[0]));
	if (!m) {
		free(nx);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		m->ents[i].lun = i;
		m->ents[i].lu = lus[i];
	}
	m->n = n;
	snprintf(nx->id.initiator, sizeof(nx->id.initiator),
		 "iqn.2026-11.org.tandem:test-%llu",
		 (unsigned long long)next_nexus_id);
	snprintf(nx->id.target, sizeof(nx->id.target),
		 "iqn.2026-11.org.tandem:unit");
	if (tdm__nexus_identify(nx) < 0) {
		free(m);
		free(nx);
		return NULL;
	}
	tdm_rwlock_wrlock(&tdm__reg_lock);
	nx->map = m;
	nx->test_map = m;
	nx->rel_port = 1;
	nx->id_num = next_nexus_id++;
	tdm_list_add_tail(&tdm__nexuses, &nx->link);
	tdm_rwlock_unlock(&tdm__reg_lock);
	return nx;
}

void tdm__test_nexus_free(struct tdm_nexus *nx)
{
	struct tdm_lunmap *m = nx->test_map;

	tdm_nexus_destroy(nx);
	free(m);
}

/* ---- administration ---- */

int tdm_core_sessions(struct tdm_session_info **out, size_t *n)
{
	struct tdm_session_info *v;
	struct tdm_list *pos;
	size_t cnt = 0, i = 0;

	tdm_rwlock_rdlock(&tdm__reg_lock);
	tdm_list_for_each (pos, &tdm__nexuses)
		cnt++;
	v = calloc(cnt ? cnt : 1, sizeof(*v));
	if (!v) {
		tdm_rwlock_unlock(&tdm__reg_lock);
		return -ENOMEM;
	}
	tdm_list_for_each (pos, &tdm__nexuses) {
		struct tdm_nexus *nx =
			tdm_list_entry(pos, struct tdm_nexus, link);
		struct tdm_session_info *s = &v[i++];

		s->id = nx->id_num;
		snprintf(s->initiator, sizeof(s->initiator), "%s",
			 nx->id.initiator);
		snprintf(s->port, sizeof(s->port), "%s", nx->id.port);
		snprintf(s->target, sizeof(s->target), "%s", nx->id.target);
		s->rel_port = nx->rel_port;
		snprintf(s->group, sizeof(s->group), "%s", nx->group);
		snprintf(s->transport, sizeof(s->transport), "%s",
			 nx->ops->name ? nx->ops->name : "?");
		if (nx->ops->describe)
			nx->ops->describe(nx, s->detail, sizeof(s->detail));
		s->nluns = nx->map ? (uint32_t)nx->map->n : 0;
		s->inflight = atomic_load(&nx->ncmds);
	}
	tdm_rwlock_unlock(&tdm__reg_lock);
	*out = v;
	*n = i;
	return 0;
}

int tdm_core_close_session(uint64_t id)
{
	struct tdm_list *pos;
	int r = -ENOENT;

	tdm_rwlock_rdlock(&tdm__reg_lock);
	tdm_list_for_each (pos, &tdm__nexuses) {
		struct tdm_nexus *nx =
			tdm_list_entry(pos, struct tdm_nexus, link);

		if (nx->id_num == id) {
			post_close(nx);
			r = 0;
			break;
		}
	}
	tdm_rwlock_unlock(&tdm__reg_lock);
	return r;
}

int tdm_core_dev_stats(struct tdm_dev_stats **out, size_t *n)
{
	struct tdm_dev_stats *v;
	size_t i;

	tdm_rwlock_rdlock(&tdm__reg_lock);
	v = calloc(reg.nlus ? reg.nlus : 1, sizeof(*v));
	if (!v) {
		tdm_rwlock_unlock(&tdm__reg_lock);
		return -ENOMEM;
	}
	for (i = 0; i < reg.nlus; i++) {
		struct tdm_lu *lu = reg.lus[i];
		struct tdm_dev_stats *s = &v[i];
		struct tdm_list *pos;
		int inflight = 0;

		snprintf(s->name, sizeof(s->name), "%s", lu->name);
		snprintf(s->handler, sizeof(s->handler), "%s",
			 tdm_handler_name(lu->conf.handler));
		s->size = lu->nblocks << lu->block_shift;
		s->block_size = lu->block_size;
		s->read_cmds = atomic_load(&lu->st_read_cmds);
		s->write_cmds = atomic_load(&lu->st_write_cmds);
		s->other_cmds = atomic_load(&lu->st_other_cmds);
		s->read_bytes = atomic_load(&lu->st_read_bytes);
		s->write_bytes = atomic_load(&lu->st_write_bytes);
		s->errors = atomic_load(&lu->st_errors);
		s->aborts = atomic_load(&lu->st_aborts);
		tdm_mutex_lock(&lu->lock);
		tdm_list_for_each (pos, &lu->cmds)
			inflight++;
		tdm_mutex_unlock(&lu->lock);
		s->inflight = inflight;
		snprintf(s->backing, sizeof(s->backing), "%s",
			 tdm__bk_state_name(atomic_load(&lu->bk_state)));
	}
	*n = reg.nlus;
	tdm_rwlock_unlock(&tdm__reg_lock);
	*out = v;
	return 0;
}
