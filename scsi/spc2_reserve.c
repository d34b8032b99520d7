/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * spc2_reserve.c - SPC-2 RESERVE and RELEASE (6)/(10): the reservation,
 * the gate's conflict check (SPC-2 annex B), its release on I_T nexus
 * loss, and the resets that clear it (LOGICAL UNIT RESET, TARGET COLD
 * RESET), ordered cluster-wide through the agent in cluster mode.
 */
#include <stdlib.h>
#include <string.h>

#include "scsi/scsi_int.h"
#include "pr-sync/pr.h"

/* ---- SPC-2 RESERVE / RELEASE ---- */

static struct tdm_nexus *spc2_holder(struct tdm_lu *lu)
{
	return __atomic_load_n(&lu->spc2_holder, __ATOMIC_ACQUIRE);
}

static void spc2_set_holder(struct tdm_lu *lu, struct tdm_nexus *nx)
{
	__atomic_store_n(&lu->spc2_holder, nx, __ATOMIC_RELEASE);
}

/* RESERVE/RELEASE (6)/(10): third-party, long id and extents are not
 * supported (SPC-2 RESERVE/RELEASE). */
static int spc2_check_cdb(struct tdm_cmd *cmd)
{
	const uint8_t *cdb = cmd->cdb;

	if (cdb[1] & 0x10) /* 3RDPTY */
		return tdm__cdb_err(cmd, 1, 4);
	if (cdb[1] & 0x01) /* obsolete extent reservations */
		return tdm__cdb_err(cmd, 1, 0);
	if (cmd->op->cdb_len == 10) {
		if (cdb[1] & 0x02) /* LONGID */
			return tdm__cdb_err(cmd, 1, 1);
		if (tdm_get_be16(cdb + 7)) /* no parameter list to take */
			return tdm__cdb_err(cmd, 7, 7);
	}
	return TDM_SR_OK;
}

/*
 * Cluster mode: RESERVE, RELEASE, the loss of an I_T nexus and a LOGICAL
 * UNIT RESET are ordered through the agent (scsi/cluster.c) and applied
 * on every head by tdm__spc2_apply(), the holder kept as an I_T nexus id
 * (initiator port TransportID and relative target port), so that the
 * reservation holds through every head's ports.
 */

/* Under lu->lock. */
static bool id_holds(const struct tdm_lu *lu, const struct tdm_pr_nexus *id)
{
	return atomic_load(&lu->spc2_held) && lu->spc2_id &&
	       lu->spc2_id->rel_port == id->rel_port &&
	       tdm_pr_tid_equal(&lu->spc2_id->tid, &id->tid);
}

/* Under lu->lock. */
static void id_set(struct tdm_lu *lu, const struct tdm_pr_nexus *id)
{
	if (!id) {
		atomic_store(&lu->spc2_held, false);
		return;
	}
	if (!lu->spc2_id)
		lu->spc2_id = calloc(1, sizeof(*lu->spc2_id));
	if (!lu->spc2_id)
		return; /* not reserved: the safe side for nobody */
	*lu->spc2_id = *id;
	atomic_store(&lu->spc2_held, true);
}

bool tdm__spc2_held(struct tdm_lu *lu)
{
	return spc2_holder(lu) != NULL || atomic_load(&lu->spc2_held);
}

bool tdm__spc2_get(struct tdm_lu *lu, struct tdm_pr_nexus *id)
{
	bool held;

	tdm_mutex_lock(&lu->lock);
	held = atomic_load(&lu->spc2_held) && lu->spc2_id;
	if (held)
		*id = *lu->spc2_id;
	tdm_mutex_unlock(&lu->lock);
	return held;
}

void tdm__spc2_set(struct tdm_lu *lu, const struct tdm_pr_nexus *id)
{
	tdm_mutex_lock(&lu->lock);
	id_set(lu, id);
	tdm_mutex_unlock(&lu->lock);
}

static int order_from(struct tdm_cmd *cmd, uint8_t kind)
{
	struct tdm_pr_nexus id;

	if (tdm__pr_nexus_id(cmd->nexus, &id) < 0)
		return TDM_SR_INSUFFICIENT_REGISTRATION_RESOURCES;
	return tdm__cluster_order(cmd, kind, cmd->lu->name, &id);
}

int tdm__spc2_apply(struct tdm_lu *lu, uint8_t kind,
		    const struct tdm_pr_nexus *id, bool mine)
{
	int sr = TDM_SR_OK;

	switch (kind) {
	case TDM__ORD_SPC2_RESERVE:
		tdm_mutex_lock(&lu->lock);
		if (tdm__pr_blocks_spc2(lu)) /* SPC-4 5.13.3 */
			sr = TDM_SR_RESERVATION_CONFLICT;
		else if (!atomic_load(&lu->spc2_held) || id_holds(lu, id))
			id_set(lu, id);
		else
			sr = TDM_SR_RESERVATION_CONFLICT;
		tdm_mutex_unlock(&lu->lock);
		break;
	case TDM__ORD_SPC2_RELEASE:
	case TDM__ORD_NEXUS_GONE:
		tdm_mutex_lock(&lu->lock);
		if (id_holds(lu, id))
			id_set(lu, NULL);
		tdm_mutex_unlock(&lu->lock);
		break;
	case TDM__ORD_LU_RESET:
	case TDM__ORD_LU_POWER_ON:
		tdm_mutex_lock(&lu->lock);
		id_set(lu, NULL);
		tdm_mutex_unlock(&lu->lock);
		/* the head that took the TMF did the rest itself */
		if (!mine) {
			tdm__abort_lu_all(lu);
			if (lu->conf.removable)
				tdm__medium_prevent_drop(lu, NULL);
			tdm__ua_raise_lu(lu,
					 kind == TDM__ORD_LU_POWER_ON
						 ? TDM_SR_UA_POWER_ON_OCCURRED
						 : TDM_SR_UA_BUS_RESET,
					 NULL);
		}
		break;
	default:
		sr = TDM_SR_HW_ERROR;
		break;
	}
	return sr;
}

/* RESERVE and RELEASE: true with the command's result in *sr when the
 * CDB is refused or, in cluster mode, the agent orders kind; false when
 * this head carries the command out alone. */
static bool checked_or_ordered(struct tdm_cmd *cmd, uint8_t kind, int *sr)
{
	*sr = spc2_check_cdb(cmd);
	if (*sr != TDM_SR_OK)
		return true;
	if (!tdm__cluster_mode())
		return false;
	*sr = order_from(cmd, kind);
	return true;
}

int tdm__spc_reserve(struct tdm_cmd *cmd)
{
	struct tdm_lu *lu = cmd->lu;
	struct tdm_nexus *h;
	int sr;

	if (checked_or_ordered(cmd, TDM__ORD_SPC2_RESERVE, &sr))
		return sr;
	tdm_mutex_lock(&lu->lock);
	h = lu->spc2_holder;
	if (tdm__pr_blocks_spc2(lu)) /* PR: SPC-4 5.13.3, scsi/pr_scsi.c */
		sr = TDM_SR_RESERVATION_CONFLICT;
	else if (!h || h == cmd->nexus)
		spc2_set_holder(lu, cmd->nexus);
	else
		sr = TDM_SR_RESERVATION_CONFLICT;
	tdm_mutex_unlock(&lu->lock);
	return sr;
}

int tdm__spc_release(struct tdm_cmd *cmd)
{
	struct tdm_lu *lu = cmd->lu;
	int sr;

	if (checked_or_ordered(cmd, TDM__ORD_SPC2_RELEASE, &sr))
		return sr;
	/* SPC-2 RELEASE: from another nexus GOOD, without effect */
	tdm_mutex_lock(&lu->lock);
	if (lu->spc2_holder == cmd->nexus)
		spc2_set_holder(lu, NULL);
	tdm_mutex_unlock(&lu->lock);
	return TDM_SR_OK;
}

/* Does an SPC-2 reservation of another nexus hold cmd's LU? */
static bool held_by_other(struct tdm_cmd *cmd)
{
	struct tdm_lu *lu = cmd->lu;
	struct tdm_nexus *h = spc2_holder(lu);
	struct tdm_pr_nexus id;
	bool other;

	if (h)
		return h != cmd->nexus;
	if (!atomic_load(&lu->spc2_held))
		return false;
	if (tdm__pr_nexus_id(cmd->nexus, &id) < 0)
		return true;
	tdm_mutex_lock(&lu->lock);
	other = atomic_load(&lu->spc2_held) && !id_holds(lu, &id);
	tdm_mutex_unlock(&lu->lock);
	return other;
}

bool tdm__spc2_conflict(struct tdm_cmd *cmd)
{
	const uint8_t *cdb = cmd->cdb;

	if (!held_by_other(cmd))
		return false;
	if (cmd->op->flags & TDM_OP_SPC2_ALLOWED)
		return false;
	/* SPC-2 annex B, tables B.1/B.2: allowed only with these fields */
	switch (cdb[0]) {
	case 0x1E: /* PREVENT ALLOW MEDIUM REMOVAL with PREVENT 00b */
		return (cdb[4] & 0x03) != 0;
	case 0x1B: /* START STOP UNIT with START=1, POWER CONDITION 0h */
		return !((cdb[4] & 0x01) && !(cdb[4] >> 4));
	default:
		return true;
	}
}

void tdm__spc2_nexus_gone(struct tdm_nexus *nx)
{
	struct tdm_pr_nexus id;
	struct tdm_lu **lus;
	size_t n, i;

	/* SPC-2: I_T nexus loss releases the reservation (on every head:
	 * ordered, nobody waits; without an agent it is lost with the
	 * link, docs/cluster.md); SBC-3: and ends the nexus' prevention
	 * of medium removal */
	if (tdm__cluster_mode() && tdm__pr_nexus_id(nx, &id) == 0)
		(void)tdm__cluster_order(NULL, TDM__ORD_NEXUS_GONE, "", &id);
	lus = tdm__all_lus(&n);
	if (!lus)
		return;
	for (i = 0; i < n; i++) {
		struct tdm_lu *lu = lus[i];

		tdm_mutex_lock(&lu->lock);
		if (lu->spc2_holder == nx)
			spc2_set_holder(lu, NULL);
		tdm_mutex_unlock(&lu->lock);
		if (lu->conf.removable)
			tdm__medium_prevent_drop(lu, nx);
		tdm__lu_put(lu);
	}
	free(lus);
}

static void reset_ordered(void *arg, int status)
{
	(void)status; /* not ordered: this head's reset stands alone */
	tdm__tmf_cmd_done(arg);
}

/* cluster mode: order kind for lu (or for the target: dev) from issuer;
 * tmf answers once every head applied it */
static void reset_order(uint8_t kind, const char *dev,
			const struct tdm_nexus *issuer, struct tdm_tmf *tmf)
{
	struct tdm_pr_nexus id;

	memset(&id, 0, sizeof(id));
	if (issuer)
		(void)tdm__pr_nexus_id(issuer, &id);
	if (tmf)
		atomic_fetch_add(&tmf->pending, 1);
	if (tdm__cluster_order_cb(NULL, tmf ? reset_ordered : NULL, tmf, kind,
				  dev, &id) != 0 &&
	    tmf)
		tdm__tmf_cmd_done(tmf);
}

static void reset(struct tdm_lu *lu, const struct tdm_nexus *issuer,
		  struct tdm_tmf *tmf, uint8_t kind)
{

	/* cluster: every head clears the reservation and the other heads
	 * abort their tasks of lu and raise the reset's unit attention;
	 * the TMF answers once they all did (multipath initiators look
	 * for the unit attention on every path right after) */
	if (tdm__cluster_mode())
		reset_order(kind, lu->name, issuer, tmf);
	/* a LU reset releases the SPC-2 reservation and every prevention
	 * of medium removal (SBC-3 PREVENT ALLOW MEDIUM REMOVAL) */
	tdm_mutex_lock(&lu->lock);
	spc2_set_holder(lu, NULL);
	tdm_mutex_unlock(&lu->lock);
	if (lu->conf.removable)
		tdm__medium_prevent_drop(lu, NULL);
}

void tdm__spc2_reset(struct tdm_lu *lu, const struct tdm_nexus *issuer,
		     struct tdm_tmf *tmf)
{
	reset(lu, issuer, tmf, TDM__ORD_LU_RESET);
}

void tdm__spc2_power_on(struct tdm_lu *lu, const struct tdm_nexus *issuer,
			struct tdm_tmf *tmf)
{
	reset(lu, issuer, tmf, TDM__ORD_LU_POWER_ON);
}

/* RFC 7143 11.6.1: after a TARGET COLD RESET "the target MUST then close
 * all of its TCP connections to all initiators": the target's nexuses on
 * every head (the issuer's transport closes the issuer after answering) */
void tdm__target_close(const struct tdm_nexus *issuer, struct tdm_tmf *tmf)
{
	if (tdm__cluster_mode())
		reset_order(TDM__ORD_TARGET_CLOSE, issuer->id.target, issuer,
			    tmf);
	tdm__close_target_nexuses(issuer->id.target, issuer);
}
