/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * alua.c - the ALUA state model (alua.h): device groups, target port
 * groups, their states, and the checks of the DEVICE_GROUP configuration.
 * Pure: no I/O, no locks, no clock.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alua/alua.h"

/* ---- states ---- */

static const struct {
	uint8_t state;
	const char *name; /* SCST's scst_alua_state names */
} state_names[] = {
	{TDM_ALUA_AO, "active"},
	{TDM_ALUA_AN, "nonoptimized"},
	{TDM_ALUA_STANDBY, "standby"},
	{TDM_ALUA_UNAVAILABLE, "unavailable"},
	{TDM_ALUA_OFFLINE, "offline"},
	{TDM_ALUA_TRANSITIONING, "transitioning"},
};

#define NSTATES (sizeof(state_names) / sizeof(state_names[0]))

const char *tdm_alua_state_name(uint8_t state)
{
	for (size_t i = 0; i < NSTATES; i++)
		if (state_names[i].state == state)
			return state_names[i].name;
	return NULL;
}

int tdm_alua_state_from_name(const char *name, uint8_t *state)
{
	for (size_t i = 0; i < NSTATES; i++)
		if (strcmp(state_names[i].name, name) == 0) {
			*state = state_names[i].state;
			return 0;
		}
	return -EINVAL;
}

bool tdm_alua_state_valid(uint8_t state)
{
	return tdm_alua_state_name(state) != NULL;
}

/* ---- local ports ---- */

uint16_t *tdm_alua_local_rel_ids(const struct tdm_conf *c)
{
	uint16_t *v = calloc(c->ntargets ? c->ntargets : 1, sizeof(*v));
	uint16_t next = 1;

	if (!v)
		return NULL;
	/* the same assignment as scsi/target.c build_targets() */
	for (size_t i = 0; i < c->ntargets; i++) {
		if (c->targets[i].rel_tgt_id) {
			v[i] = c->targets[i].rel_tgt_id;
			continue;
		}
		for (;;) {
			bool used = false;

			for (size_t j = 0; j < c->ntargets; j++)
				if (c->targets[j].rel_tgt_id == next)
					used = true;
			if (!used)
				break;
			next++;
		}
		v[i] = next++;
	}
	return v;
}

static long local_index(const struct tdm_conf *c, const char *name)
{
	for (size_t i = 0; i < c->ntargets; i++)
		if (strcmp(c->targets[i].name, name) == 0)
			return (long)i;
	return -1;
}

/* ---- the model ---- */

static void free_dg(struct tdm_alua_dg *dg)
{
	for (size_t i = 0; i < dg->ntpgs; i++)
		free(dg->tpgs[i].ports);
	free(dg->tpgs);
	free(dg->devices);
}

void tdm_alua_free(struct tdm_alua_model *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->ndgs; i++)
		free_dg(&m->dgs[i]);
	free(m->dgs);
	m->dgs = NULL;
	m->ndgs = 0;
}

static const struct tdm_alua_dg *find_dg(const struct tdm_alua_model *m,
					 const char *name, bool implicit)
{
	for (size_t i = 0; m && i < m->ndgs; i++)
		if (m->dgs[i].implicit == implicit &&
		    strcmp(m->dgs[i].name, name) == 0)
			return &m->dgs[i];
	return NULL;
}

static const struct tdm_alua_tpg *find_tpg(const struct tdm_alua_dg *dg,
					   uint16_t id)
{
	for (size_t i = 0; dg && i < dg->ntpgs; i++)
		if (dg->tpgs[i].id == id)
			return &dg->tpgs[i];
	return NULL;
}

/* State of a new group: kept from prev when its configuration did not
 * change (a SET TARGET PORT GROUPS result survives unrelated edits). */
static void merge_state(struct tdm_alua_tpg *t, const struct tdm_alua_dg *pdg)
{
	const struct tdm_alua_tpg *p = find_tpg(pdg, t->id);

	t->state = t->conf_state;
	t->status = TDM_ALUA_ST_NONE;
	t->preferred = t->conf_preferred;
	if (!p)
		return;
	if (p->conf_preferred == t->conf_preferred)
		t->preferred = p->preferred;
	if (p->conf_state == t->conf_state) {
		t->state = p->state;
		t->status = p->status;
	} else if (p->state != t->conf_state) {
		t->status = TDM_ALUA_ST_IMPLICIT;
	}
}

static int build_implicit(struct tdm_alua_dg *dg, const struct tdm_conf *c)
{
	struct tdm_alua_tpg *t;

	snprintf(dg->name, sizeof(dg->name), "default");
	dg->implicit = true;
	dg->tpgs = calloc(1, sizeof(*dg->tpgs));
	if (!dg->tpgs)
		return -ENOMEM;
	dg->ntpgs = 1;
	t = &dg->tpgs[0];
	snprintf(t->name, sizeof(t->name), "default");
	t->id = TDM_ALUA_DEFAULT_GROUP_ID;
	t->state = t->conf_state = TDM_ALUA_AO;
	t->ports = tdm_alua_local_rel_ids(c);
	if (!t->ports)
		return -ENOMEM;
	t->nports = c->ntargets;
	return 0;
}

static int build_dg(struct tdm_alua_dg *dg, const struct tdm_conf *c,
		    const struct tdm_conf_dgrp *cd, const uint16_t *local,
		    const struct tdm_alua_model *prev)
{
	const struct tdm_alua_dg *pdg = find_dg(prev, cd->name, false);

	snprintf(dg->name, sizeof(dg->name), "%s", cd->name);
	dg->devices =
		calloc(cd->ndevices ? cd->ndevices : 1, sizeof(*dg->devices));
	dg->tpgs = calloc(cd->ntgrps ? cd->ntgrps : 1, sizeof(*dg->tpgs));
	if (!dg->devices || !dg->tpgs)
		return -ENOMEM;
	for (size_t i = 0; i < cd->ndevices; i++)
		snprintf(dg->devices[i], sizeof(dg->devices[i]), "%s",
			 cd->devices[i].name);
	dg->ndevices = cd->ndevices;
	for (size_t i = 0; i < cd->ntgrps; i++) {
		const struct tdm_conf_tgrp *ct = &cd->tgrps[i];
		struct tdm_alua_tpg *t = &dg->tpgs[i];

		dg->ntpgs = i + 1;
		snprintf(t->name, sizeof(t->name), "%s", ct->name);
		t->id = ct->group_id;
		t->conf_preferred = ct->preferred;
		t->conf_state = ct->state;
		merge_state(t, pdg);
		t->ports =
			calloc(ct->nports ? ct->nports : 1, sizeof(*t->ports));
		if (!t->ports)
			return -ENOMEM;
		for (size_t j = 0; j < ct->nports; j++) {
			long li = local_index(c, ct->ports[j].name);

			t->ports[j] =
				li >= 0 ? local[li] : ct->ports[j].rel_tgt_id;
		}
		t->nports = ct->nports;
	}
	return 0;
}

int tdm_alua_build(struct tdm_alua_model *m, const struct tdm_conf *c,
		   const struct tdm_alua_model *prev)
{
	uint16_t *local = NULL;
	int r;

	memset(m, 0, sizeof(*m));
	m->dgs = calloc(c->ndgrps + 1, sizeof(*m->dgs));
	local = tdm_alua_local_rel_ids(c);
	if (!m->dgs || !local) {
		r = -ENOMEM;
		goto fail;
	}
	m->ndgs = 1;
	r = build_implicit(&m->dgs[0], c);
	for (size_t i = 0; !r && i < c->ndgrps; i++) {
		m->ndgs = i + 2;
		r = build_dg(&m->dgs[i + 1], c, &c->dgrps[i], local, prev);
	}
	if (r)
		goto fail;
	free(local);
	return 0;
fail:
	free(local);
	tdm_alua_free(m);
	return r ? r : -ENOMEM;
}

const struct tdm_alua_dg *tdm_alua_dg_of(const struct tdm_alua_model *m,
					 const char *device)
{
	if (!m || !m->ndgs)
		return NULL;
	for (size_t i = 1; i < m->ndgs; i++)
		for (size_t j = 0; j < m->dgs[i].ndevices; j++)
			if (strcmp(m->dgs[i].devices[j], device) == 0)
				return &m->dgs[i];
	return &m->dgs[0];
}

const struct tdm_alua_tpg *tdm_alua_tpg_of(const struct tdm_alua_dg *dg,
					   uint16_t rel_port)
{
	for (size_t i = 0; dg && i < dg->ntpgs; i++)
		for (size_t j = 0; j < dg->tpgs[i].nports; j++)
			if (dg->tpgs[i].ports[j] == rel_port)
				return &dg->tpgs[i];
	return NULL;
}

static bool tpg_same(const struct tdm_alua_tpg *a, const struct tdm_alua_tpg *b)
{
	return a->id == b->id && a->state == b->state &&
	       a->preferred == b->preferred && a->nports == b->nports &&
	       (!a->nports ||
		!memcmp(a->ports, b->ports, a->nports * sizeof(*a->ports)));
}

bool tdm_alua_dev_changed(const struct tdm_alua_model *a,
			  const struct tdm_alua_model *b, const char *device)
{
	const struct tdm_alua_dg *x = tdm_alua_dg_of(a, device);
	const struct tdm_alua_dg *y = tdm_alua_dg_of(b, device);

	if (!x || !y)
		return x != y;
	if (x->ntpgs != y->ntpgs)
		return true;
	for (size_t i = 0; i < x->ntpgs; i++)
		if (!tpg_same(&x->tpgs[i], &y->tpgs[i]))
			return true;
	return false;
}

static int add_change(struct tdm_alua_change **chg, size_t *n, size_t dg,
		      size_t tpg, uint8_t old_state, uint8_t new_state,
		      bool old_pref, bool new_pref)
{
	struct tdm_alua_change *v = realloc(*chg, (*n + 1) * sizeof(*v));

	if (!v) { /* the list goes: the caller fails as a whole */
		free(*chg);
		*chg = NULL;
		*n = 0;
		return -ENOMEM;
	}
	v[*n] = (struct tdm_alua_change){dg,	    tpg,      old_state,
					 new_state, old_pref, new_pref};
	*chg = v;
	(*n)++;
	return 0;
}

int tdm_alua_set_state(struct tdm_alua_model *m, const char *dg,
		       uint16_t group_id, uint8_t state, uint8_t status,
		       struct tdm_alua_change **chg, size_t *nchg)
{
	bool found = false;

	*chg = NULL;
	*nchg = 0;
	if (!tdm_alua_state_valid(state))
		return -EINVAL;
	for (size_t i = 0; i < m->ndgs; i++) {
		struct tdm_alua_dg *d = &m->dgs[i];

		if (dg && (d->implicit || strcmp(d->name, dg) != 0))
			continue;
		for (size_t j = 0; j < d->ntpgs; j++) {
			struct tdm_alua_tpg *t = &d->tpgs[j];

			if (t->id != group_id)
				continue;
			found = true;
			if (t->state == state)
				continue;
			if (add_change(chg, nchg, i, j, t->state, state,
				       t->preferred, t->preferred))
				return -ENOMEM;
			t->state = state;
			t->status = status;
		}
	}
	return found ? 0 : -ENOENT;
}

/* A change at (dg, tpg), if the state or the preferred bit changes;
 * -ENOMEM frees the list. */
static int note(struct tdm_alua_change **chg, size_t *nchg, size_t dg,
		size_t tpg, uint8_t old_state, uint8_t new_state, bool old_pref,
		bool new_pref)
{
	if (old_state == new_state && old_pref == new_pref)
		return 0;
	return add_change(chg, nchg, dg, tpg, old_state, new_state, old_pref,
			  new_pref);
}

int tdm_alua_set_preferred(struct tdm_alua_model *m, const char *dg,
			   uint16_t group_id, bool preferred,
			   struct tdm_alua_change **chg, size_t *nchg)
{
	bool found = false;

	*chg = NULL;
	*nchg = 0;
	for (size_t i = 0; i < m->ndgs; i++) {
		struct tdm_alua_dg *d = &m->dgs[i];

		if (d->implicit || strcmp(d->name, dg) != 0)
			continue;
		for (size_t j = 0; j < d->ntpgs; j++) {
			struct tdm_alua_tpg *t = &d->tpgs[j];
			bool old = t->preferred;

			if (t->id != group_id)
				continue;
			found = true;
			if (note(chg, nchg, i, j, t->state, t->state, old,
				 preferred))
				return -ENOMEM;
			t->preferred = preferred;
		}
	}
	return found ? 0 : -ENOENT;
}

uint8_t tdm_alua_unpromoted(const struct tdm_alua_dg *dg, size_t tpg)
{
	const struct tdm_alua_tpg *t = &dg->tpgs[tpg];

	switch (t->conf_state) {
	case TDM_ALUA_STANDBY:
	case TDM_ALUA_AN:
		return t->conf_state;
	case TDM_ALUA_AO:
		break;
	default: /* unavailable, offline, transitioning: left alone */
		return t->state;
	}
	for (size_t i = 0; i < dg->ntpgs; i++)
		if (dg->tpgs[i].conf_state == TDM_ALUA_STANDBY ||
		    dg->tpgs[i].conf_state == TDM_ALUA_AN)
			return dg->tpgs[i].conf_state;
	return TDM_ALUA_AN;
}

int tdm_alua_activate(struct tdm_alua_model *m, size_t dg, uint16_t group_id,
		      struct tdm_alua_change **chg, size_t *nchg)
{
	struct tdm_alua_dg *d;

	*chg = NULL;
	*nchg = 0;
	if (dg >= m->ndgs || m->dgs[dg].implicit)
		return -ENOTSUP;
	d = &m->dgs[dg];
	if (!find_tpg(d, group_id))
		return -ENOENT;
	/* every new state from the states before the change, all of them
	 * listed before any is changed (nothing changes on -ENOMEM) */
	for (size_t j = 0; j < d->ntpgs; j++) {
		const struct tdm_alua_tpg *t = &d->tpgs[j];
		bool me = t->id == group_id;

		if (note(chg, nchg, dg, j, t->state,
			 me ? TDM_ALUA_AO : tdm_alua_unpromoted(d, j),
			 t->preferred, me))
			return -ENOMEM;
	}
	for (size_t k = 0; k < *nchg; k++) {
		struct tdm_alua_tpg *t = &d->tpgs[(*chg)[k].tpg];

		if (t->state != (*chg)[k].new_state)
			t->status = TDM_ALUA_ST_IMPLICIT;
		t->state = (*chg)[k].new_state;
		t->preferred = (*chg)[k].new_pref;
	}
	return 0;
}

/* Group (dg, tpg) to state and pref, noted in chg. */
static int set_one(struct tdm_alua_model *m, size_t dg, size_t tpg,
		   uint8_t state, bool pref, struct tdm_alua_change **chg,
		   size_t *nchg)
{
	struct tdm_alua_tpg *t = &m->dgs[dg].tpgs[tpg];

	if (note(chg, nchg, dg, tpg, t->state, state, t->preferred, pref))
		return -ENOMEM;
	if (t->state != state)
		t->status = TDM_ALUA_ST_IMPLICIT;
	t->state = state;
	t->preferred = pref;
	return 0;
}

int tdm_alua_set_tgrp(struct tdm_alua_model *m, size_t dg, uint16_t group_id,
		      uint8_t state, int preferred,
		      struct tdm_alua_change **chg, size_t *nchg)
{
	struct tdm_alua_tpg *t = NULL;
	struct tdm_alua_dg *d;
	size_t j;
	bool pref;

	*chg = NULL;
	*nchg = 0;
	if (dg >= m->ndgs || m->dgs[dg].implicit)
		return -ENOTSUP;
	if (!tdm_alua_state_valid(state))
		return -EINVAL;
	d = &m->dgs[dg];
	for (j = 0; j < d->ntpgs && !t; j++)
		if (d->tpgs[j].id == group_id)
			t = &d->tpgs[j];
	if (!t)
		return -ENOENT;
	pref = preferred < 0 ? t->preferred : preferred != 0;
	return set_one(m, dg, j - 1, state, pref, chg, nchg);
}

bool tdm_alua_tpg_within(const struct tdm_alua_tpg *t, const uint16_t *ports,
			 size_t n)
{
	size_t i, k;

	if (!t->nports)
		return false;
	for (i = 0; i < t->nports; i++) {
		for (k = 0; k < n && ports[k] != t->ports[i]; k++)
			;
		if (k == n)
			return false;
	}
	return true;
}

int tdm_alua_set_head(struct tdm_alua_model *m, const uint16_t *ports, size_t n,
		      uint8_t state, int from, struct tdm_alua_change **chg,
		      size_t *nchg)
{
	*chg = NULL;
	*nchg = 0;
	if (!tdm_alua_state_valid(state))
		return -EINVAL;
	for (size_t i = 0; i < m->ndgs; i++) {
		struct tdm_alua_dg *d = &m->dgs[i];

		for (size_t j = 0; !d->implicit && j < d->ntpgs; j++)
			if ((from < 0 || d->tpgs[j].state == from) &&
			    tdm_alua_tpg_within(&d->tpgs[j], ports, n) &&
			    set_one(m, i, j, state, false, chg, nchg))
				return -ENOMEM;
	}
	return 0;
}

int tdm_alua_set_tgrps(struct tdm_alua_model *m,
		       const struct tdm_alua_tgrp_set *v, size_t n,
		       size_t *skipped, struct tdm_alua_change **chg,
		       size_t *nchg)
{
	*chg = NULL;
	*nchg = 0;
	*skipped = 0;
	for (size_t k = 0; k < n; k++)
		if (!tdm_alua_state_valid(v[k].state))
			return -EINVAL;
	for (size_t k = 0; k < n; k++) {
		const struct tdm_alua_dg *d = find_dg(m, v[k].dg, false);
		const struct tdm_alua_tpg *t = find_tpg(d, v[k].group_id);

		if (!t) {
			(*skipped)++;
			continue;
		}
		if (set_one(m, (size_t)(d - m->dgs), (size_t)(t - d->tpgs),
			    v[k].state, v[k].preferred, chg, nchg))
			return -ENOMEM;
	}
	return 0;
}

int tdm_alua_diff(const struct tdm_alua_model *a,
		  const struct tdm_alua_model *b, struct tdm_alua_change **chg,
		  size_t *nchg)
{
	*chg = NULL;
	*nchg = 0;
	for (size_t i = 0; b && i < b->ndgs; i++) {
		const struct tdm_alua_dg *y = &b->dgs[i];
		const struct tdm_alua_dg *x = find_dg(a, y->name, y->implicit);

		for (size_t j = 0; x && j < y->ntpgs; j++) {
			const struct tdm_alua_tpg *p =
				find_tpg(x, y->tpgs[j].id);

			if (p &&
			    note(chg, nchg, i, j, p->state, y->tpgs[j].state,
				 p->preferred, y->tpgs[j].preferred))
				return -ENOMEM;
		}
	}
	return 0;
}

/* SPC-4 5.15.2.5 / 6.45: the states SET TARGET PORT GROUPS may request */
static bool stpg_state_ok(uint8_t s)
{
	return s == TDM_ALUA_AO || s == TDM_ALUA_AN || s == TDM_ALUA_STANDBY ||
	       s == TDM_ALUA_UNAVAILABLE;
}

int tdm_alua_stpg(struct tdm_alua_model *m, size_t dg,
		  const struct tdm_alua_req *reqs, size_t n, size_t *bad,
		  bool *bad_state, struct tdm_alua_change **chg, size_t *nchg)
{
	struct tdm_alua_dg *d;

	*chg = NULL;
	*nchg = 0;
	if (dg >= m->ndgs || m->dgs[dg].implicit)
		return -ENOTSUP;
	d = &m->dgs[dg];
	for (size_t i = 0; i < n; i++) {
		if (!find_tpg(d, reqs[i].group_id)) {
			*bad = i;
			*bad_state = false;
			return -EINVAL;
		}
		if (!stpg_state_ok(reqs[i].state)) {
			*bad = i;
			*bad_state = true;
			return -EINVAL;
		}
	}
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < d->ntpgs; j++) {
			struct tdm_alua_tpg *t = &d->tpgs[j];

			if (t->id != reqs[i].group_id)
				continue;
			/* SPC-4 6.37: the status tells how the state was
			 * last set, even when the state stays */
			t->status = TDM_ALUA_ST_SET_TPG;
			if (t->state == reqs[i].state)
				continue;
			if (add_change(chg, nchg, dg, j, t->state,
				       reqs[i].state, t->preferred,
				       t->preferred))
				return -ENOMEM;
			t->state = reqs[i].state;
		}
	}
	return 0;
}

/* ---- configuration ---- */

static int fail(char *err, size_t errlen, const char *name, int line,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int fail(char *err, size_t errlen, const char *name, int line,
		const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!err || !errlen)
		return -EINVAL;
	n = line > 0 ? snprintf(err, errlen, "%s:%d: ", name, line)
		     : snprintf(err, errlen, "%s: ", name);
	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < errlen)
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static bool has_device(const struct tdm_conf *c, const char *name)
{
	for (size_t i = 0; i < c->ndevices; i++)
		if (strcmp(c->devices[i].name, name) == 0)
			return true;
	return false;
}

static int check_tgrp(const struct tdm_conf *c, const struct tdm_conf_dgrp *d,
		      size_t ti, const uint16_t *local, const char *name,
		      char *err, size_t errlen)
{
	const struct tdm_conf_tgrp *t = &d->tgrps[ti];

	if (!t->group_id)
		return fail(err, errlen, name, t->line,
			    "DEVICE_GROUP %s: TARGET_GROUP %s: group_id "
			    "(1..65535) is required",
			    d->name, t->name);
	if (!tdm_alua_state_valid(t->state))
		return fail(err, errlen, name, t->line,
			    "DEVICE_GROUP %s: TARGET_GROUP %s: bad state %u",
			    d->name, t->name, t->state);
	for (size_t i = 0; i < ti; i++) {
		if (strcmp(d->tgrps[i].name, t->name) == 0)
			return fail(err, errlen, name, t->line,
				    "DEVICE_GROUP %s: duplicate TARGET_GROUP "
				    "%s (first at line %d)",
				    d->name, t->name, d->tgrps[i].line);
		if (d->tgrps[i].group_id == t->group_id)
			return fail(err, errlen, name, t->line,
				    "DEVICE_GROUP %s: TARGET_GROUP %s: "
				    "duplicate group_id %u (TARGET_GROUP %s, "
				    "line %d)",
				    d->name, t->name, t->group_id,
				    d->tgrps[i].name, d->tgrps[i].line);
	}
	for (size_t i = 0; i < t->nports; i++) {
		const struct tdm_conf_tg_port *p = &t->ports[i];
		long li = local_index(c, p->name);
		uint16_t id = li >= 0 ? local[li] : p->rel_tgt_id;

		if (li >= 0 && p->rel_tgt_id && p->rel_tgt_id != local[li])
			return fail(err, errlen, name, p->line,
				    "TARGET_GROUP %s: TARGET %s: rel_tgt_id "
				    "%u disagrees with the target's "
				    "rel_tgt_id %u",
				    t->name, p->name, p->rel_tgt_id, local[li]);
		if (li < 0 && !p->rel_tgt_id)
			return fail(err, errlen, name, p->line,
				    "TARGET_GROUP %s: TARGET %s is not a "
				    "local target: rel_tgt_id is required",
				    t->name, p->name);
		/* a port is in one group of a device group (SPC-4 5.15.2.1) */
		for (size_t g = 0; g <= ti; g++) {
			const struct tdm_conf_tgrp *o = &d->tgrps[g];

			for (size_t k = 0; k < o->nports; k++) {
				long lk;
				uint16_t ok;

				if (g == ti && k >= i)
					break;
				lk = local_index(c, o->ports[k].name);
				ok = lk >= 0 ? local[lk]
					     : o->ports[k].rel_tgt_id;
				if (ok == id)
					return fail(
						err, errlen, name, p->line,
						"DEVICE_GROUP %s: TARGET %s: "
						"relative target port %u is "
						"already in TARGET_GROUP %s "
						"(line %d)",
						d->name, p->name, id, o->name,
						o->ports[k].line);
			}
		}
	}
	return 0;
}

int tdm_alua_conf_validate(const struct tdm_conf *c, const char *name,
			   char *err, size_t errlen)
{
	uint16_t *local;
	int r = 0;

	if (!c->ndgrps)
		return 0;
	if (!name)
		name = "<config>";
	local = tdm_alua_local_rel_ids(c);
	if (!local)
		return fail(err, errlen, name, 0, "out of memory");
	for (size_t i = 0; !r && i < c->ndgrps; i++) {
		const struct tdm_conf_dgrp *d = &c->dgrps[i];

		for (size_t j = 0; !r && j < i; j++)
			if (strcmp(c->dgrps[j].name, d->name) == 0)
				r = fail(err, errlen, name, d->line,
					 "duplicate DEVICE_GROUP %s (first at "
					 "line %d)",
					 d->name, c->dgrps[j].line);
		for (size_t j = 0; !r && j < d->ndevices; j++) {
			const struct tdm_conf_dg_dev *v = &d->devices[j];

			if (!has_device(c, v->name)) {
				r = fail(err, errlen, name, v->line,
					 "DEVICE_GROUP %s: unknown device '%s'",
					 d->name, v->name);
				break;
			}
			/* a device is in one device group */
			for (size_t g = 0; !r && g <= i; g++) {
				const struct tdm_conf_dgrp *o = &c->dgrps[g];
				size_t lim = g == i ? j : o->ndevices;

				for (size_t k = 0; k < lim; k++)
					if (!strcmp(o->devices[k].name,
						    v->name)) {
						r = fail(err, errlen, name,
							 v->line,
							 "DEVICE %s is already "
							 "in DEVICE_GROUP %s "
							 "(line %d)",
							 v->name, o->name,
							 o->devices[k].line);
						break;
					}
			}
		}
		for (size_t j = 0; !r && j < d->ntgrps; j++)
			r = check_tgrp(c, d, j, local, name, err, errlen);
	}
	free(local);
	return r;
}

static int dup_arr(void *dstp, const void *src, size_t n, size_t sz)
{
	void **dst = dstp;

	*dst = NULL;
	if (!n)
		return 0;
	*dst = malloc(n * sz);
	if (!*dst)
		return -ENOMEM;
	memcpy(*dst, src, n * sz);
	return 0;
}

void tdm_alua_conf_free(struct tdm_conf_dgrp *d, size_t n)
{
	for (size_t i = 0; d && i < n; i++) {
		for (size_t j = 0; j < d[i].ntgrps; j++)
			free(d[i].tgrps[j].ports);
		free(d[i].tgrps);
		free(d[i].devices);
	}
	free(d);
}

int tdm_alua_conf_dup(struct tdm_conf_dgrp **dst, size_t *ndst,
		      const struct tdm_conf_dgrp *src, size_t n)
{
	struct tdm_conf_dgrp *v;

	*dst = NULL;
	*ndst = 0;
	if (!n)
		return 0;
	v = calloc(n, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		v[i] = src[i];
		v[i].devices = NULL;
		v[i].tgrps = NULL;
		v[i].ntgrps = 0;
		if (dup_arr(&v[i].devices, src[i].devices, src[i].ndevices,
			    sizeof(*src[i].devices)))
			goto nomem;
		if (!src[i].ntgrps)
			continue;
		v[i].tgrps = calloc(src[i].ntgrps, sizeof(*v[i].tgrps));
		if (!v[i].tgrps)
			goto nomem;
		for (size_t j = 0; j < src[i].ntgrps; j++) {
			v[i].ntgrps = j + 1;
			v[i].tgrps[j] = src[i].tgrps[j];
			if (dup_arr(&v[i].tgrps[j].ports, src[i].tgrps[j].ports,
				    src[i].tgrps[j].nports,
				    sizeof(*src[i].tgrps[j].ports))) {
				v[i].tgrps[j].nports = 0;
				goto nomem;
			}
		}
	}
	*dst = v;
	*ndst = n;
	return 0;
nomem:
	tdm_alua_conf_free(v, n);
	return -ENOMEM;
}

bool tdm_alua_conf_equal(const struct tdm_conf_dgrp *a,
			 const struct tdm_conf_dgrp *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(a[i].name, b[i].name) ||
		    a[i].ndevices != b[i].ndevices ||
		    a[i].ntgrps != b[i].ntgrps)
			return false;
		for (size_t j = 0; j < a[i].ndevices; j++)
			if (strcmp(a[i].devices[j].name, b[i].devices[j].name))
				return false;
		for (size_t j = 0; j < a[i].ntgrps; j++) {
			const struct tdm_conf_tgrp *x = &a[i].tgrps[j];
			const struct tdm_conf_tgrp *y = &b[i].tgrps[j];

			if (strcmp(x->name, y->name) ||
			    x->group_id != y->group_id ||
			    x->preferred != y->preferred ||
			    x->state != y->state || x->nports != y->nports)
				return false;
			for (size_t k = 0; k < x->nports; k++)
				if (strcmp(x->ports[k].name,
					   y->ports[k].name) ||
				    x->ports[k].rel_tgt_id !=
					    y->ports[k].rel_tgt_id)
					return false;
		}
	}
	return true;
}
