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

static pthread_rwlock_t alua_lock = PTHREAD_RWLOCK_INITIALIZER;
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
}

int tdm__alua_apply(const struct tdm_conf *c)
{
	struct tdm_alua_model next, old;
	struct ua_job job = {0};
	bool first;
	int r;

	pthread_rwlock_wrlock(&alua_lock);
	r = tdm_alua_build(&next, c, &model);
	if (r < 0) {
		pthread_rwlock_unlock(&alua_lock);
		log_warnx("ALUA: keeping the previous port groups: out of "
			  "memory");
		return r;
	}
	old = model;
	model = next;
	first = old.ndgs == 0;
	update_all_ao();
	if (!first) /* at start-up the POWER ON UA tells everything */
		ua_collect(&job, &old, NULL);
	pthread_rwlock_unlock(&alua_lock);
	tdm_alua_free(&old);
	ua_raise(&job, NULL);
	return 0;
}

int tdm__alua_set_state(const char *dg, uint16_t group_id, uint8_t state)
{
	return tdm__alua_set_state_status(dg, group_id, state,
					  TDM_ALUA_ST_IMPLICIT);
}

void tdm__alua_shutdown(void)
{
	pthread_rwlock_wrlock(&alua_lock);
	tdm_alua_free(&model);
	atomic_store(&all_ao, true);
	pthread_rwlock_unlock(&alua_lock);
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

	pthread_rwlock_rdlock(&alua_lock);
	dg = dg_of(lu);
	/* SPC-4 6.4.2, table 142: 01b implicit only, 11b both */
	tpgs = dg && !dg->implicit ? 0x3 : 0x1;
	pthread_rwlock_unlock(&alua_lock);
	return tpgs;
}

uint16_t tdm__port_group_of(const struct tdm_lu *lu, const struct tdm_nexus *nx)
{
	const struct tdm_alua_tpg *t;
	uint16_t id;

	pthread_rwlock_rdlock(&alua_lock);
	t = model.ndgs ? tpg_of(dg_of(lu), nx) : NULL;
	id = t ? t->id : (model.ndgs ? 0 : TDM_ALUA_DEFAULT_GROUP_ID);
	pthread_rwlock_unlock(&alua_lock);
	return id;
}

bool tdm__alua_explicit(const struct tdm_lu *lu)
{
	const struct tdm_alua_dg *dg;
	bool r;

	pthread_rwlock_rdlock(&alua_lock);
	dg = dg_of(lu);
	r = dg && !dg->implicit;
	pthread_rwlock_unlock(&alua_lock);
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
		pthread_rwlock_rdlock(&alua_lock);
		t = tpg_of(dg_of(cmd->lu), cmd->nexus);
		/* a port in no group of the device group: no restriction */
		state = t ? t->state : TDM_ALUA_AO;
		pthread_rwlock_unlock(&alua_lock);
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
	pthread_rwlock_rdlock(&alua_lock);
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
	pthread_rwlock_unlock(&alua_lock);
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
	int r, sr = TDM_SR_OK;

	memset(info, 0, sizeof(*info));
	pthread_rwlock_wrlock(&alua_lock);
	dg = dg_of(lu);
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
		if (nchg)
			ua_collect(&job, NULL, hit);
	}
	pthread_rwlock_unlock(&alua_lock);
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

	pthread_rwlock_rdlock(&alua_lock);
	for (size_t i = 0; i < model.ndgs; i++)
		for (size_t j = 0; j < model.dgs[i].ntpgs; j++)
			n += model.dgs[i].tpgs[j].nports;
	*out = calloc(n ? n : 1, sizeof(**out));
	for (size_t i = 0; *out && i < model.ndgs; i++)
		for (size_t j = 0; j < model.dgs[i].ntpgs; j++)
			for (size_t p = 0; p < model.dgs[i].tpgs[j].nports; p++)
				(*out)[k++] = model.dgs[i].tpgs[j].ports[p];
	pthread_rwlock_unlock(&alua_lock);
	return *out ? k : 0;
}

size_t tdm__alua_states(struct tdm__alua_st **out)
{
	size_t n = 0, k = 0;

	pthread_rwlock_rdlock(&alua_lock);
	for (size_t i = 0; i < model.ndgs; i++)
		n += model.dgs[i].implicit ? 0 : model.dgs[i].ntpgs;
	*out = calloc(n ? n : 1, sizeof(**out));
	for (size_t i = 0; *out && i < model.ndgs; i++) {
		const struct tdm_alua_dg *dg = &model.dgs[i];

		for (size_t j = 0; !dg->implicit && j < dg->ntpgs; j++) {
			struct tdm__alua_st *e = &(*out)[k++];

			snprintf(e->dg, sizeof(e->dg), "%s", dg->name);
			e->group_id = dg->tpgs[j].id;
			e->state = dg->tpgs[j].state;
			e->status = dg->tpgs[j].status;
		}
	}
	pthread_rwlock_unlock(&alua_lock);
	return *out ? k : 0;
}

int tdm__alua_set_state_status(const char *dg, uint16_t group_id, uint8_t state,
			       uint8_t status)
{
	struct tdm_alua_change *chg = NULL;
	struct ua_job job = {0};
	bool *hit;
	size_t n = 0;
	int r;

	pthread_rwlock_wrlock(&alua_lock);
	hit = calloc(model.ndgs ? model.ndgs : 1, sizeof(*hit));
	if (!hit) {
		pthread_rwlock_unlock(&alua_lock);
		return -ENOMEM;
	}
	r = tdm_alua_set_state(&model, dg, group_id, state, status, &chg, &n);
	for (size_t i = 0; i < n; i++)
		hit[chg[i].dg] = true;
	update_all_ao();
	if (n)
		ua_collect(&job, NULL, hit);
	pthread_rwlock_unlock(&alua_lock);
	ua_raise(&job, NULL);
	free(hit);
	free(chg);
	return r;
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
