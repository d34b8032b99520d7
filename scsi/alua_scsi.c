/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * alua_scsi.c - ALUA in the SCSI core: the running model of alua/, the
 * gate's access check (SPC-4 5.15.2.4), the TPGS field and target port
 * group designator of INQUIRY, REPORT TARGET PORT GROUPS (SPC-4 6.37) and
 * SET TARGET PORT GROUPS (SPC-4 6.45).
 *
 * The seam for the cluster: tdm__alua_submit(). Today it applies a SET
 * TARGET PORT GROUPS at once; the agent will order it cluster-wide first,
 * like PERSISTENT RESERVE OUT (scsi/pr_scsi.c).
 *
 * Locking: alua_lock (rwlock) guards the model; the gate reads it only
 * when some target port group is not active/optimized (all_ao).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alua/alua.h"
#include "scsi/scsi_int.h"
#include "lib/log.h"

/* model (all_ao written under it); order: scsi/README.md "Locks" */
static struct tdm_rwlock alua_lock =
	TDM_RWLOCK_INITIALIZER(TDM__LOCK_ALUA, "alua_lock");
static struct tdm_alua_model model; /* ndgs 0 until the first apply */
static atomic_bool all_ao = true;

/* SPC-4 6.37, table 214: supported states T_SUP, O_SUP, U_SUP, S_SUP,
 * AN_SUP, AO_SUP (no LBD_SUP) */
#define RTPG_SUP 0xCF
/* Largest RTPG answer and STPG parameter list taken */
#define RTPG_MAX (64u << 10)
#define STPG_MAX (4u + 4u * 4096u)

/* Under alua_lock: is every group active/optimized? */
static void update_all_ao(void)
{
	bool ao = true;

	for (size_t i = 0; i < model.ndgs; i++)
		for (size_t j = 0; j < model.dgs[i].ntpgs; j++)
			if (model.dgs[i].tpgs[j].state != TDM_ALUA_AO)
				ao = false;
	atomic_store(&all_ao, ao);
}

/* Under alua_lock: log every transition of chg with what caused it. */
static void log_changes(const struct tdm_alua_change *chg, size_t n,
			const char *cause)
{
	for (size_t i = 0; i < n; i++) {
		const struct tdm_alua_dg *d = &model.dgs[chg[i].dg];
		const struct tdm_alua_tpg *t = &d->tpgs[chg[i].tpg];
		const char *o = tdm_alua_state_name(chg[i].old_state);
		const char *x = tdm_alua_state_name(chg[i].new_state);

		log_notice("ALUA: %s/%s (group %u): %s%s -> %s%s, by %s",
			   d->name, t->name, t->id, o ? o : "?",
			   chg[i].old_pref ? " preferred" : "", x ? x : "?",
			   chg[i].new_pref ? " preferred" : "", cause);
	}
}

/*
 * Raise ASYMMETRIC ACCESS STATE CHANGED on every nexus (but except) of
 * each LU for which changed(lu) holds. Called with alua_lock held; the
 * unit attentions are queued after it is dropped.
 */
struct ua_job {
	struct tdm_lu **lus;
	bool *hit;
	size_t n;
};

static void ua_collect(struct ua_job *j, const struct tdm_alua_model *old,
		       const bool *dg_changed)
{
	j->lus = tdm__all_lus(&j->n);
	j->hit = calloc(j->n ? j->n : 1, sizeof(*j->hit));
	if (!j->lus || !j->hit) {
		log_warnx("ALUA: unit attentions dropped: out of memory");
		j->n = 0;
		return;
	}
	for (size_t i = 0; i < j->n; i++) {
		const char *name = j->lus[i]->name;

		if (old) {
			j->hit[i] = tdm_alua_dev_changed(old, &model, name);
		} else {
			const struct tdm_alua_dg *dg =
				tdm_alua_dg_of(&model, name);

			j->hit[i] = dg && dg_changed[dg - model.dgs];
		}
	}
}

static void ua_raise(struct ua_job *j, const struct tdm_nexus *except)
{
	for (size_t i = 0; i < j->n; i++) {
		if (j->hit[i]) /* SPC-4 5.15.2.6 */
			tdm__ua_raise_lu(j->lus[i],
					 TDM_SR_UA_ASYMMETRIC_ACCESS_CHANGED,
					 except);
		tdm__lu_put(j->lus[i]);
	}
	free(j->lus);
	free(j->hit);
	/* scsi/backing.c: deferred_open LUs open or close their backing as
	 * this head's groups became active or stopped being so */
	tdm__bk_follow();
}

int tdm__alua_apply(const struct tdm_conf *c)
{
	struct tdm_alua_model next, old;
	struct ua_job job = {0};
	bool first;
	int r;

	tdm_rwlock_wrlock(&alua_lock);
	r = tdm_alua_build(&next, c, &model);
	if (r < 0) {
		tdm_rwlock_unlock(&alua_lock);
		log_warnx("ALUA: keeping the previous port groups: out of "
			  "memory");
		return r;
	}
	old = model;
	model = next;
	first = old.ndgs == 0;
	update_all_ao();
	if (!first) { /* at start-up the POWER ON UA tells everything */
		struct tdm_alua_change *chg = NULL;
		size_t nchg = 0;

		ua_collect(&job, &old, NULL);
		if (tdm_alua_diff(&old, &model, &chg, &nchg) == 0)
			log_changes(chg, nchg, "the configuration");
		free(chg);
	}
	tdm_rwlock_unlock(&alua_lock);
	tdm_alua_free(&old);
	ua_raise(&job, NULL);
	return 0;
}

int tdm__alua_set_state(const char *dg, uint16_t group_id, uint8_t state)
{
	return tdm__alua_set_state_status(dg, group_id, state,
					  TDM_ALUA_ST_IMPLICIT,
					  "an implicit transition");
}

void tdm__alua_shutdown(void)
{
	tdm_rwlock_wrlock(&alua_lock);
	tdm_alua_free(&model);
	atomic_store(&all_ao, true);
	tdm_rwlock_unlock(&alua_lock);
}

/* ---- per LU and port ---- */

/* Under alua_lock: the device group of lu (NULL before any apply). */
static const struct tdm_alua_dg *dg_of(const struct tdm_lu *lu)
{
	return model.ndgs ? tdm_alua_dg_of(&model, lu->name) : NULL;
}

/* Under alua_lock: the group of nx's port in dg (NULL: none). */
static const struct tdm_alua_tpg *tpg_of(const struct tdm_alua_dg *dg,
					 const struct tdm_nexus *nx)
{
	if (!dg)
		return NULL;
	/* the implicit group holds every port of this head */
	if (dg->implicit)
		return &dg->tpgs[0];
	return tdm_alua_tpg_of(dg, nx->rel_port);
}

uint8_t tdm__lu_tpgs(const struct tdm_lu *lu)
{
	const struct tdm_alua_dg *dg;
	uint8_t tpgs;

	tdm_rwlock_rdlock(&alua_lock);
	dg = dg_of(lu);
	/* SPC-4 6.4.2, table 142: 01b implicit only, 11b both */
	tpgs = dg && !dg->implicit ? 0x3 : 0x1;
	tdm_rwlock_unlock(&alua_lock);
	return tpgs;
}

uint16_t tdm__port_group_of(const struct tdm_lu *lu, const struct tdm_nexus *nx)
{
	const struct tdm_alua_tpg *t;
	uint16_t id;

	tdm_rwlock_rdlock(&alua_lock);
	t = model.ndgs ? tpg_of(dg_of(lu), nx) : NULL;
	id = t ? t->id : (model.ndgs ? 0 : TDM_ALUA_DEFAULT_GROUP_ID);
	tdm_rwlock_unlock(&alua_lock);
	return id;
}

bool tdm__alua_explicit(const struct tdm_lu *lu)
{
	const struct tdm_alua_dg *dg;
	bool r;

	tdm_rwlock_rdlock(&alua_lock);
	dg = dg_of(lu);
	r = dg && !dg->implicit;
	tdm_rwlock_unlock(&alua_lock);
	return r;
}

static bool state_active(uint8_t s)
{
	return s == TDM_ALUA_AO || s == TDM_ALUA_AN;
}

bool tdm__alua_active_here(const struct tdm_lu *lu, const uint16_t *ports,
			   size_t n)
{
	const struct tdm_alua_dg *dg;
	bool active = false, grouped = false;

	tdm_rwlock_rdlock(&alua_lock);
	dg = dg_of(lu);
	if (!dg) {
		active = true; /* no model yet: every port active/optimized */
	} else if (dg->implicit) {
		active = state_active(dg->tpgs[0].state);
	} else {
		for (size_t i = 0; i < n; i++) {
			const struct tdm_alua_tpg *t =
				tdm_alua_tpg_of(dg, ports[i]);

			if (!t)
				continue;
			grouped = true;
			if (state_active(t->state))
				active = true;
		}
		/* a port in no group of the device group: no restriction
		 * (tdm__alua_check) */
		if (!grouped)
			active = true;
	}
	tdm_rwlock_unlock(&alua_lock);
	return active;
}

bool tdm__alua_tgrp_serves(const char *dg, const char *tg,
			   const struct tdm_lu *lu, const uint16_t *ports,
			   size_t n)
{
	const struct tdm_alua_dg *d;
	bool r = false;

	tdm_rwlock_rdlock(&alua_lock);
	d = dg_of(lu);
	if (d && !d->implicit && strcmp(d->name, dg) == 0) {
		for (size_t i = 0; i < n && !r; i++) {
			const struct tdm_alua_tpg *t =
				tdm_alua_tpg_of(d, ports[i]);

			r = t && strcmp(t->name, tg) == 0;
		}
	}
	tdm_rwlock_unlock(&alua_lock);
	return r;
}

/* ---- the gate (SPC-4 5.15.2.4) ---- */

int tdm__alua_check(struct tdm_cmd *cmd)
{
	const struct tdm_alua_tpg *t;
	uint32_t fl = cmd->op->flags;
	uint8_t state;

	if (!cmd->lu)
		return TDM_SR_OK;
	if (tdm__cluster_fenced()) {
		/* scsi/cluster.c: this head cannot know the cluster's state
		 * (no agent, no quorum, not yet synchronised): every port
		 * behaves as transitioning, which initiators retry */
		state = TDM_ALUA_TRANSITIONING;
	} else if (atomic_load_explicit(&all_ao, memory_order_acquire)) {
		return TDM_SR_OK;
	} else {
		tdm_rwlock_rdlock(&alua_lock);
		t = tpg_of(dg_of(cmd->lu), cmd->nexus);
		/* a port in no group of the device group: no restriction */
		state = t ? t->state : TDM_ALUA_AO;
		tdm_rwlock_unlock(&alua_lock);
	}

	/* SPC-4 5.15.2.4: the opcode table says which states serve each
	 * command (scsi/scsi_int.h TDM_OP_ALUA_*) */
	switch (state) {
	case TDM_ALUA_AO:
	case TDM_ALUA_AN: /* 5.15.2.4.2/3: every command */
		return TDM_SR_OK;
	case TDM_ALUA_STANDBY: /* 5.15.2.4.4 */
		return fl & TDM_OP_ALUA_ALLOWED ? TDM_SR_OK
						: TDM_SR_ALUA_STANDBY;
	case TDM_ALUA_UNAVAILABLE: /* 5.15.2.4.5 */
		return fl & TDM_OP_ALUA_UNAVAIL ? TDM_SR_OK
						: TDM_SR_ALUA_UNAVAILABLE;
	case TDM_ALUA_OFFLINE: /* 5.15.2.4.6 */
		return fl & TDM_OP_ALUA_OFFLINE ? TDM_SR_OK
						: TDM_SR_ALUA_OFFLINE;
	default: /* 5.15.2.4.7: transitioning */
		return fl & TDM_OP_ALUA_TRANS ? TDM_SR_OK
					      : TDM_SR_ALUA_TRANSITION;
	}
}

/* ---- REPORT TARGET PORT GROUPS (SPC-4 6.37) ---- */

int tdm__rtpg_parse(struct tdm_cmd *cmd)
{
	uint8_t fmt = cmd->cdb[1] >> 5;
	uint32_t len = tdm_get_be32(cmd->cdb + 6);

	/* table 213: PARAMETER DATA FORMAT 000b length only, 001b
	 * extended header */
	if (fmt > 1)
		return tdm__cdb_err(cmd, 1, 7);
	cmd->dir = TDM_DIR_READ;
	cmd->alloc_len = len < RTPG_MAX ? len : RTPG_MAX;
	return TDM_SR_OK;
}

static size_t put_tpg(uint8_t *p, size_t cap, const struct tdm_alua_tpg *t,
		      const struct tdm_nexus *nx, bool implicit)
{
	size_t n = 8, cnt = 0;
	bool self = false;

	if (cap < 8)
		return 0;
	memset(p, 0, 8);
	/* table 214: PREF, ASYMMETRIC ACCESS STATE */
	p[0] = (uint8_t)((t->preferred ? 0x80 : 0) | (t->state & 0x0F));
	p[1] = RTPG_SUP;
	tdm_put_be16(p + 2, t->id);
	p[5] = t->status; /* table 216 */
	for (size_t i = 0; i < t->nports && cnt < 255 && n + 4 <= cap; i++) {
		/* table 217: target port descriptor */
		memset(p + n, 0, 4);
		tdm_put_be16(p + n + 2, t->ports[i]);
		self |= t->ports[i] == nx->rel_port;
		n += 4;
		cnt++;
	}
	/* the implicit group holds the receiving port, listed or not */
	if (implicit && !self && cnt < 255 && n + 4 <= cap) {
		memset(p + n, 0, 4);
		tdm_put_be16(p + n + 2, nx->rel_port);
		n += 4;
		cnt++;
	}
	p[7] = (uint8_t)cnt; /* TARGET PORT COUNT */
	return n;
}

int tdm__rtpg(struct tdm_cmd *cmd)
{
	bool ext = (cmd->cdb[1] >> 5) == 1;
	size_t hdr = ext ? 8 : 4, n;
	const struct tdm_alua_dg *dg;
	uint8_t *p = calloc(1, RTPG_MAX);

	if (!p)
		return TDM_SR_BUSY;
	n = hdr;
	tdm_rwlock_rdlock(&alua_lock);
	dg = dg_of(cmd->lu);
	if (dg) {
		for (size_t i = 0; i < dg->ntpgs; i++)
			n += put_tpg(p + n, RTPG_MAX - n, &dg->tpgs[i],
				     cmd->nexus, dg->implicit);
	} else {
		/* before any configuration: the receiving port alone */
		struct tdm_alua_tpg t = {.id = TDM_ALUA_DEFAULT_GROUP_ID};

		n += put_tpg(p + n, RTPG_MAX - n, &t, cmd->nexus, true);
	}
	tdm_rwlock_unlock(&alua_lock);
	/* RETURN DATA LENGTH: what follows the four bytes */
	tdm_put_be32(p, (uint32_t)(n - 4));
	if (ext) {
		p[4] = 0x10; /* table 212: FORMAT TYPE 001b */
		p[5] = 0;    /* IMPLICIT TRANSITION TIME: at once */
	}
	tdm__cmd_put_data(cmd, p, n);
	free(p);
	return TDM_SR_OK;
}

/* ---- SET TARGET PORT GROUPS (SPC-4 6.45) ---- */

bool tdm__stpg_supported(const struct tdm_lu *lu)
{
	return tdm__alua_explicit(lu);
}

int tdm__stpg_parse(struct tdm_cmd *cmd)
{
	uint32_t len = tdm_get_be32(cmd->cdb + 6);

	/* explicit ALUA only on LUs of a configured DEVICE_GROUP */
	if (!tdm__alua_explicit(cmd->lu))
		return TDM_SR_INVALID_OPCODE;
	if (len == 0)
		return TDM_SR_OK; /* 6.45: not an error, nothing to do */
	/* table 295: a 4-byte header, then 4-byte descriptors */
	if (len < 4 || len % 4 || len > STPG_MAX)
		return TDM_SR_PARAM_LIST_LENGTH_ERROR;
	cmd->dir = TDM_DIR_WRITE;
	cmd->data_len = len;
	return TDM_SR_OK;
}

/* Under alua_lock: log an initiator's SET TARGET PORT GROUPS (what it
 * asked, who asked) and cause, what its transitions are logged with. */
static void log_stpg(const struct tdm_alua_dg *dg, const struct tdm_lu *lu,
		     const struct tdm_alua_req *reqs, size_t n,
		     const struct tdm_nexus *sender, char *cause,
		     size_t causelen)
{
	char what[256] = "";
	size_t o = 0;

	if (sender)
		snprintf(cause, causelen,
			 "SET TARGET PORT GROUPS of initiator port %s through "
			 "relative target port %u",
			 sender->id.port, sender->rel_port);
	else
		snprintf(cause, causelen,
			 "SET TARGET PORT GROUPS through another head "
			 "(ordered by the cluster)");
	for (size_t i = 0; i < n && o < sizeof(what); i++) {
		const char *st = tdm_alua_state_name(reqs[i].state);
		int k = snprintf(what + o, sizeof(what) - o, "%sgroup %u %s",
				 i ? ", " : "", reqs[i].group_id,
				 st ? st : "(bad state)");

		o += k > 0 ? (size_t)k : 0;
	}
	log_notice("ALUA: %s (device %s): %s: %s", dg ? dg->name : "-",
		   lu->name, cause, n ? what : "no descriptor");
}

/* Apply SET TARGET PORT GROUPS descriptors for lu's device group; the
 * unit attentions go to every nexus of its devices but sender. */
static int alua_apply(struct tdm_lu *lu, const struct tdm_alua_req *reqs,
		      size_t n, const struct tdm_nexus *sender,
		      struct tdm_sense_info *info)
{
	struct tdm_alua_change *chg = NULL;
	struct ua_job job = {0};
	const struct tdm_alua_dg *dg;
	bool bad_state = false, *hit = NULL;
	size_t nchg = 0, bad = 0;
	char cause[TDM_PORT_NAME_MAX + 128];
	int r, sr = TDM_SR_OK;

	memset(info, 0, sizeof(*info));
	tdm_rwlock_wrlock(&alua_lock);
	dg = dg_of(lu);
	log_stpg(dg, lu, reqs, n, sender, cause, sizeof(cause));
	hit = calloc(model.ndgs ? model.ndgs : 1, sizeof(*hit));
	if (!dg || !hit)
		r = dg ? -ENOMEM : -ENOTSUP;
	else
		r = tdm_alua_stpg(&model, (size_t)(dg - model.dgs), reqs, n,
				  &bad, &bad_state, &chg, &nchg);
	for (size_t i = 0; i < nchg; i++)
		hit[chg[i].dg] = true;
	if (!r) {
		update_all_ao();
		log_changes(chg, nchg, cause);
		if (nchg)
			ua_collect(&job, NULL, hit);
	} else {
		log_notice("ALUA: %s: refused (%s)", cause, strerror(-r));
	}
	tdm_rwlock_unlock(&alua_lock);
	/* SPC-4 5.15.2.6: every I_T nexus but the one that asked */
	if (!r)
		ua_raise(&job, sender);
	free(hit);
	free(chg);

	switch (r) {
	case 0:
		break;
	case -EINVAL: /* table 296: the descriptor's state or group */
		info->sks_valid = true;
		info->sks_cd = false;
		info->sks_bit = bad_state ? 3 : -1;
		info->sks_field = (uint16_t)(4 + 4 * bad + (bad_state ? 0 : 2));
		sr = TDM_SR_INVALID_FIELD_IN_PARAM_LIST;
		break;
	case -ENOTSUP:
		sr = TDM_SR_INVALID_OPCODE;
		break;
	default:
		sr = TDM_SR_BUSY;
		break;
	}
	return sr;
}

void tdm__alua_submit(struct tdm_lu *lu, const struct tdm_alua_req *reqs,
		      size_t n, struct tdm_nexus *sender,
		      tdm__alua_done_fn done, void *arg)
{
	struct tdm_sense_info info;
	int sr = alua_apply(lu, reqs, n, sender, &info);

	done(arg, sr, info.sks_valid ? &info : NULL);
}

int tdm__alua_apply_ordered(struct tdm_lu *lu, const struct tdm_alua_req *reqs,
			    size_t n, const struct tdm_nexus *sender,
			    struct tdm_sense_info *info)
{
	return alua_apply(lu, reqs, n, sender, info);
}

size_t tdm__alua_ports(uint16_t **out)
{
	size_t n = 0, k = 0;

	tdm_rwlock_rdlock(&alua_lock);
	for (size_t i = 0; i < model.ndgs; i++)
		for (size_t j = 0; j < model.dgs[i].ntpgs; j++)
			n += model.dgs[i].tpgs[j].nports;
	*out = calloc(n ? n : 1, sizeof(**out));
	for (size_t i = 0; *out && i < model.ndgs; i++)
		for (size_t j = 0; j < model.dgs[i].ntpgs; j++)
			for (size_t p = 0; p < model.dgs[i].tpgs[j].nports; p++)
				(*out)[k++] = model.dgs[i].tpgs[j].ports[p];
	tdm_rwlock_unlock(&alua_lock);
	return *out ? k : 0;
}

size_t tdm_core_alua_states(struct tdm_tgrp_state **out)
{
	size_t n = 0, k = 0;

	tdm_rwlock_rdlock(&alua_lock);
	for (size_t i = 0; i < model.ndgs; i++)
		n += model.dgs[i].implicit ? 0 : model.dgs[i].ntpgs;
	*out = calloc(n ? n : 1, sizeof(**out));
	for (size_t i = 0; *out && i < model.ndgs; i++) {
		const struct tdm_alua_dg *dg = &model.dgs[i];

		for (size_t j = 0; !dg->implicit && j < dg->ntpgs; j++) {
			const struct tdm_alua_tpg *t = &dg->tpgs[j];
			struct tdm_tgrp_state *e = &(*out)[k++];

			snprintf(e->dg, sizeof(e->dg), "%s", dg->name);
			snprintf(e->tg, sizeof(e->tg), "%s", t->name);
			e->group_id = t->id;
			e->state = t->state;
			e->status = t->status;
			e->preferred = t->preferred;
			e->conf_state = t->conf_state;
			e->conf_preferred = t->conf_preferred;
		}
	}
	tdm_rwlock_unlock(&alua_lock);
	return *out ? k : 0;
}

/* Under alua_lock, after a change of the model: the unit attentions of
 * chg (to raise once the lock is dropped), its log lines. */
static int changed(struct ua_job *job, const struct tdm_alua_change *chg,
		   size_t n, const char *cause)
{
	bool *hit = calloc(model.ndgs ? model.ndgs : 1, sizeof(*hit));

	update_all_ao();
	log_changes(chg, n, cause);
	if (!hit)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		hit[chg[i].dg] = true;
	if (n)
		ua_collect(job, NULL, hit);
	free(hit);
	return 0;
}

/* One change of the model (its arguments in op), logged with cause, its
 * unit attentions raised. */
struct model_op {
	const char *dg;
	uint16_t group_id;
	uint8_t state, status;
	int preferred; /* -1: the state, else the preferred bit */
};

static int run_op(const struct model_op *op, const char *cause)
{
	struct tdm_alua_change *chg = NULL;
	struct ua_job job = {0};
	size_t n = 0;
	int r;

	tdm_rwlock_wrlock(&alua_lock);
	if (op->preferred < 0)
		r = tdm_alua_set_state(&model, op->dg, op->group_id, op->state,
				       op->status, &chg, &n);
	else
		r = tdm_alua_set_preferred(&model, op->dg, op->group_id,
					   op->preferred, &chg, &n);
	if (changed(&job, chg, n, cause) < 0 && !r)
		r = -ENOMEM;
	tdm_rwlock_unlock(&alua_lock);
	ua_raise(&job, NULL);
	free(chg);
	return r;
}

int tdm__alua_set_state_status(const char *dg, uint16_t group_id, uint8_t state,
			       uint8_t status, const char *cause)
{
	struct model_op op = {dg, group_id, state, status, -1};

	return run_op(&op, cause);
}

int tdm__alua_set_preferred(const char *dg, uint16_t group_id, bool preferred,
			    const char *cause)
{
	struct model_op op = {dg, group_id, 0, 0, preferred};

	return run_op(&op, cause);
}

/* Under alua_lock: device group dg's index and target group tg's id;
 * -ENOENT with a message. */
static int find_tgrp(const char *dg, const char *tg, size_t *di, uint16_t *id,
		     char *err, size_t errlen)
{
	for (size_t i = 0; i < model.ndgs; i++) {
		const struct tdm_alua_dg *d = &model.dgs[i];

		if (d->implicit || strcmp(d->name, dg) != 0)
			continue;
		for (size_t j = 0; j < d->ntpgs; j++)
			if (!strcmp(d->tpgs[j].name, tg)) {
				*di = i;
				*id = d->tpgs[j].id;
				return 0;
			}
		snprintf(err, errlen,
			 "device group %s has no target group '%s'", dg, tg);
		return -ENOENT;
	}
	snprintf(err, errlen, "no device group '%s'", dg);
	return -ENOENT;
}

/* An administrator's transition of one target group: made the active
 * group (tandemctl -activate_tgrp), or set to state and, unless
 * preferred < 0, that preferred bit (tandemctl -set_tgrp_state). */
struct tgrp_move {
	bool activate;
	uint8_t state;
	int preferred;
	int proto; /* the cluster protocol every head needs for it */
};

static void move_text(const struct tgrp_move *mv, char *buf, size_t len)
{
	const char *s = tdm_alua_state_name(mv->state);

	if (mv->activate)
		snprintf(buf, len, "made the active group");
	else
		snprintf(buf, len, "set to %s%s", s ? s : "?",
			 mv->preferred < 0   ? ""
			 : mv->preferred > 0 ? " with the preferred bit"
					     : " without the preferred bit");
}

/* Apply mv on this head now, cause for the log */
static int tgrp_apply(const char *dg, const char *tg,
		      const struct tgrp_move *mv, const char *cause)
{
	struct tdm_alua_change *chg = NULL;
	struct ua_job job = {0};
	char err[256], what[96];
	size_t n = 0, di = 0;
	uint16_t id = 0;
	int r;

	move_text(mv, what, sizeof(what));
	tdm_rwlock_wrlock(&alua_lock);
	r = find_tgrp(dg, tg, &di, &id, err, sizeof(err));
	if (!r)
		r = mv->activate ? tdm_alua_activate(&model, di, id, &chg, &n)
				 : tdm_alua_set_tgrp(&model, di, id, mv->state,
						     mv->preferred, &chg, &n);
	if (!r) {
		log_notice("ALUA: %s/%s (group %u) %s, by %s%s", dg, tg, id,
			   what, cause, n ? "" : ": it already was");
		r = changed(&job, chg, n, cause);
	} else {
		log_warnx("ALUA: %s/%s: not %s (%s), asked by %s", dg, tg, what,
			  r == -ENOENT ? err : strerror(-r), cause);
	}
	tdm_rwlock_unlock(&alua_lock);
	/* SPC-4 5.15.2.6: every I_T nexus of the devices, nobody asked */
	ua_raise(&job, NULL);
	free(chg);
	return r;
}

int tdm__alua_activate(const char *dg, const char *tg, const char *cause)
{
	struct tgrp_move mv = {.activate = true};

	return tgrp_apply(dg, tg, &mv, cause);
}

int tdm__alua_set_tgrp(const char *dg, const char *tg, uint8_t state,
		       int preferred, const char *cause)
{
	struct tgrp_move mv = {.state = state, .preferred = preferred};

	return tgrp_apply(dg, tg, &mv, cause);
}

/* mv asked by who through tandemctl: ordered in cluster mode (1, done
 * follows), else applied now (0); -errno with a message in err */
static int tgrp_move(const char *dg, const char *tg, const struct tgrp_move *mv,
		     const char *who, tdm_cluster_done_fn done, void *arg,
		     char *err, size_t errlen)
{
	size_t di;
	uint16_t id;
	int r;

	tdm_rwlock_rdlock(&alua_lock);
	r = find_tgrp(dg, tg, &di, &id, err, errlen);
	tdm_rwlock_unlock(&alua_lock);
	if (r)
		return r;
	/* scsi/backing.c: a deferred_open device of this head's group is
	 * opened before the group is made active, or nothing changes */
	if (mv->activate || state_active(mv->state)) {
		r = tdm__bk_prepare_active(dg, tg, err, errlen);
		if (r)
			return r;
	}
	if (tdm__cluster_mode()) {
		r = mv->activate
			    ? tdm__cluster_alua_activate(dg, tg, who, done, arg)
			    : tdm__cluster_alua_set_tgrp(dg, tg, mv->state,
							 mv->preferred, who,
							 done, arg);
		if (r == -EPROTONOSUPPORT)
			snprintf(err, errlen,
				 "not ordered: a head of the cluster runs a "
				 "protocol older than %d (upgrade every head "
				 "first)",
				 mv->proto);
		else if (r == -EAGAIN || r == -ENOTCONN)
			snprintf(err, errlen,
				 "not ordered: this head is fenced / no "
				 "quorum, try again");
		else if (r < 0)
			snprintf(err, errlen, "not ordered: %s", strerror(-r));
		return r == -ENOTCONN ? -EAGAIN : r;
	}
	r = tgrp_apply(dg, tg, mv, who);
	if (r < 0)
		snprintf(err, errlen, "%s", strerror(-r));
	return r;
}

int tdm_core_alua_activate(const char *dg, const char *tg, const char *who,
			   tdm_cluster_done_fn done, void *arg, char *err,
			   size_t errlen)
{
	struct tgrp_move mv = {.activate = true,
			       .proto = TDM__CLUSTER_PROTO_ACTIVATE};

	return tgrp_move(dg, tg, &mv, who, done, arg, err, errlen);
}

int tdm_core_alua_set_tgrp(const char *dg, const char *tg, uint8_t state,
			   int preferred, const char *who,
			   tdm_cluster_done_fn done, void *arg, char *err,
			   size_t errlen)
{
	struct tgrp_move mv = {.state = state,
			       .preferred = preferred,
			       .proto = TDM__CLUSTER_PROTO_SET_TGRP};

	if (!tdm_alua_state_valid(state)) {
		snprintf(err, errlen, "bad target port group state %u",
			 (unsigned)state);
		return -EINVAL;
	}
	return tgrp_move(dg, tg, &mv, who, done, arg, err, errlen);
}

static void stpg_done(void *arg, int sr, const struct tdm_sense_info *info)
{
	tdm__cmd_done_info(arg, sr, info);
}

int tdm__stpg(struct tdm_cmd *cmd)
{
	struct tdm_alua_req *reqs;
	size_t n;

	if (cmd->data_len < 4)
		return TDM_SR_OK;
	n = (cmd->data_len - 4) / 4;
	reqs = calloc(n ? n : 1, sizeof(*reqs));
	if (!reqs)
		return TDM_SR_BUSY;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *d = cmd->buf + 4 + 4 * i;

		/* table 296: ASYMMETRIC ACCESS STATE, TARGET PORT GROUP */
		reqs[i].state = d[0] & 0x0F;
		reqs[i].group_id = tdm_get_be16(d + 2);
	}
	if (tdm__cluster_mode()) {
		/* scsi/cluster.c: ordered through the agent like PR OUT */
		int sr = tdm__cluster_alua_set(cmd, reqs, n);

		free(reqs);
		return sr;
	}
	tdm__alua_submit(cmd->lu, reqs, n, cmd->nexus, stpg_done, cmd);
	free(reqs);
	return TDM__SR_ASYNC;
}

/* ---- heads that left and joined the cluster (scsi/cluster.c) ---- */

size_t tdm__alua_local_ports(uint16_t *out, size_t max)
{
	size_t n = 0;

	tdm_rwlock_rdlock(&alua_lock);
	/* the implicit group holds every port of this head */
	if (model.ndgs && model.dgs[0].implicit) {
		const struct tdm_alua_tpg *t = &model.dgs[0].tpgs[0];

		for (; n < t->nports && n < max; n++)
			out[n] = t->ports[n];
	}
	tdm_rwlock_unlock(&alua_lock);
	return n;
}

int tdm__alua_set_head(const uint16_t *ports, size_t n, uint8_t state, int from,
		       const char *cause)
{
	struct tdm_alua_change *chg = NULL;
	struct ua_job job = {0};
	size_t nchg = 0;
	int r;

	tdm_rwlock_wrlock(&alua_lock);
	r = tdm_alua_set_head(&model, ports, n, state, from, &chg, &nchg);
	if (changed(&job, chg, nchg, cause) < 0 && !r)
		r = -ENOMEM;
	tdm_rwlock_unlock(&alua_lock);
	/* SPC-4 5.15.2.6: every I_T nexus of the devices (this head's) */
	ua_raise(&job, NULL);
	free(chg);
	return r < 0 ? r : (int)nchg;
}

size_t tdm__alua_local_transitioning(struct tdm_alua_tgrp_set **out,
				     int rejoin_state)
{
	const struct tdm_alua_tpg *local;
	size_t n = 0;

	tdm_rwlock_rdlock(&alua_lock);
	*out = NULL;
	local = model.ndgs && model.dgs[0].implicit ? &model.dgs[0].tpgs[0]
						    : NULL;
	for (size_t i = 1; local && i < model.ndgs; i++) {
		const struct tdm_alua_dg *d = &model.dgs[i];

		for (size_t j = 0; j < d->ntpgs; j++) {
			const struct tdm_alua_tpg *t = &d->tpgs[j];
			struct tdm_alua_tgrp_set *v;

			if (t->state != TDM_ALUA_TRANSITIONING ||
			    t->conf_state == TDM_ALUA_TRANSITIONING ||
			    !tdm_alua_tpg_within(t, local->ports,
						 local->nports))
				continue;
			v = realloc(*out, (n + 1) * sizeof(*v));
			if (!v)
				break;
			*out = v;
			memset(&v[n], 0, sizeof(v[n]));
			snprintf(v[n].dg, sizeof(v[n].dg), "%s", d->name);
			v[n].group_id = t->id;
			v[n].state = rejoin_state < 0 ? t->conf_state
						      : (uint8_t)rejoin_state;
			v[n].preferred = rejoin_state < 0 && t->conf_preferred;
			n++;
		}
	}
	tdm_rwlock_unlock(&alua_lock);
	return n;
}

int tdm__alua_set_tgrps(const struct tdm_alua_tgrp_set *v, size_t n,
			const char *cause)
{
	struct tdm_alua_change *chg = NULL;
	struct ua_job job = {0};
	size_t nchg = 0, skipped = 0;
	int r;

	tdm_rwlock_wrlock(&alua_lock);
	r = tdm_alua_set_tgrps(&model, v, n, &skipped, &chg, &nchg);
	if (skipped)
		log_warnx("ALUA: %zu target port groups of %s are not "
			  "configured here",
			  skipped, cause);
	if (changed(&job, chg, nchg, cause) < 0 && !r)
		r = -ENOMEM;
	tdm_rwlock_unlock(&alua_lock);
	ua_raise(&job, NULL);
	free(chg);
	return r;
}
