/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ua.c - unit attention conditions, per I_T nexus and LU (SAM-5 5.14).
 *
 * Each nexus keeps a short list of (LU, reason). A reason is queued once
 * per (nexus, LU); reset-class conditions (ASC 29h) are reported first and
 * clear the others they imply. The gate checks nx->nua before taking the
 * lock, so the common case costs one atomic load.
 */
#include <stdlib.h>

#include "scsi/scsi_int.h"
#include "lib/log.h"

/* Lower value = reported first. */
static int prio(uint8_t sr)
{
	switch (sr) {
	case TDM_SR_UA_POWER_ON_RESET:
	case TDM_SR_UA_POWER_ON_OCCURRED:
		return 0;
	case TDM_SR_UA_BUS_RESET:
	case TDM_SR_UA_I_T_NEXUS_LOSS:
		return 1;
	default:
		return 2;
	}
}

static bool is_reset(uint8_t sr)
{
	return prio(sr) < 2;
}

void tdm__ua_raise(struct tdm_nexus *nx, const struct tdm_lu *lu,
		   enum tdm_sense_reason sr)
{
	struct tdm_list *pos, *tmp;
	struct tdm_ua *ua;

	if (!lu) {
		/* every LU of the nexus' current map: caller holds the
		 * registry lock (read or write) */
		size_t i;

		if (!nx->map)
			return;
		for (i = 0; i < nx->map->n; i++)
			tdm__ua_raise(nx, nx->map->ents[i].lu, sr);
		return;
	}
	tdm_mutex_lock(&nx->ua_lock);
	tdm_list_for_each_safe (pos, tmp, &nx->uas) {
		ua = tdm_list_entry(pos, struct tdm_ua, link);
		if (ua->lu_serial != lu->serial)
			continue;
		if (ua->reason == sr)
			goto out;
		/* a pending reset condition already tells the initiator
		 * to rediscover everything */
		if (is_reset(ua->reason) && prio(ua->reason) <= prio(sr))
			goto out;
		/* ... and a new one replaces what it implies (a power on
		 * after a LU reset: one POWER ON OCCURRED) */
		if (is_reset(sr) && prio(ua->reason) > prio(sr)) {
			tdm_list_del(&ua->link);
			free(ua);
			atomic_fetch_sub_explicit(&nx->nua, 1,
						  memory_order_release);
		}
	}
	ua = calloc(1, sizeof(*ua));
	if (!ua) {
		log_warnx_rl("unit attention dropped: out of memory");
		goto out;
	}
	ua->lu_serial = lu->serial;
	ua->reason = (uint8_t)sr;
	tdm_list_add_tail(&nx->uas, &ua->link);
	atomic_fetch_add_explicit(&nx->nua, 1, memory_order_release);
out:
	tdm_mutex_unlock(&nx->ua_lock);
}

void tdm__ua_raise_lu(struct tdm_lu *lu, enum tdm_sense_reason sr,
		      const struct tdm_nexus *except)
{
	struct tdm_list *pos;

	tdm_rwlock_rdlock(&tdm__reg_lock);
	tdm_list_for_each (pos, &tdm__nexuses) {
		struct tdm_nexus *nx =
			tdm_list_entry(pos, struct tdm_nexus, link);
		size_t i;

		if (nx == except || !nx->map)
			continue;
		for (i = 0; i < nx->map->n; i++) {
			if (nx->map->ents[i].lu == lu) {
				tdm__ua_raise(nx, lu, sr);
				break;
			}
		}
	}
	tdm_rwlock_unlock(&tdm__reg_lock);
}

enum tdm_sense_reason tdm__ua_take(struct tdm_nexus *nx,
				   const struct tdm_lu *lu, bool peek)
{
	struct tdm_list *pos;
	struct tdm_ua *best = NULL;
	enum tdm_sense_reason sr = TDM_SR_OK;

	if (!atomic_load_explicit(&nx->nua, memory_order_acquire))
		return TDM_SR_OK;
	tdm_mutex_lock(&nx->ua_lock);
	tdm_list_for_each (pos, &nx->uas) {
		struct tdm_ua *ua = tdm_list_entry(pos, struct tdm_ua, link);

		if (ua->lu_serial != lu->serial)
			continue;
		if (!best || prio(ua->reason) < prio(best->reason))
			best = ua;
	}
	if (best) {
		sr = (enum tdm_sense_reason)best->reason;
		if (!peek) {
			tdm_list_del(&best->link);
			free(best);
			atomic_fetch_sub_explicit(&nx->nua, 1,
						  memory_order_release);
		}
	}
	tdm_mutex_unlock(&nx->ua_lock);
	return sr;
}

/* Drop (nx, lu)'s pending conditions of one reason (REPORT LUNS clears
 * REPORTED LUNS DATA HAS CHANGED, SPC-4 6.33). */
void tdm__ua_clear(struct tdm_nexus *nx, const struct tdm_lu *lu,
		   enum tdm_sense_reason sr)
{
	struct tdm_list *pos, *tmp;

	if (!atomic_load_explicit(&nx->nua, memory_order_acquire))
		return;
	tdm_mutex_lock(&nx->ua_lock);
	tdm_list_for_each_safe (pos, tmp, &nx->uas) {
		struct tdm_ua *ua = tdm_list_entry(pos, struct tdm_ua, link);

		if ((lu && ua->lu_serial != lu->serial) || ua->reason != sr)
			continue;
		tdm_list_del(&ua->link);
		free(ua);
		atomic_fetch_sub_explicit(&nx->nua, 1, memory_order_release);
	}
	tdm_mutex_unlock(&nx->ua_lock);
}

void tdm__ua_clear_nexus(struct tdm_nexus *nx)
{
	struct tdm_list *pos, *tmp;

	tdm_mutex_lock(&nx->ua_lock);
	tdm_list_for_each_safe (pos, tmp, &nx->uas) {
		struct tdm_ua *ua = tdm_list_entry(pos, struct tdm_ua, link);

		tdm_list_del(&ua->link);
		free(ua);
	}
	atomic_store(&nx->nua, 0);
	tdm_mutex_unlock(&nx->ua_lock);
}
