/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tmf.c - task management (SAM-5 7).
 *
 * Aborting marks commands (an atomic flag, any thread) under their LU's
 * lock. A command already executing finishes its backstore I/O and is then
 * completed silently (or with TASK ABORTED when TAS applies); the TMF
 * response waits for all of them (SAM-5 7.2: the function completes once
 * the tasks are aborted). A command still waiting for data-out is handed
 * back to its transport (ops->abort_pending) on its own loop.
 */
#include <stdlib.h>

#include "scsi/scsi_int.h"
#include "lib/log.h"

struct pending_abort {
	struct tdm_lu *lu;
	struct tdm_cmd *cmd;
};

static void tmf_respond(void *arg)
{
	struct tdm_tmf *tmf = arg;
	struct tdm_nexus *nx = tmf->nexus;

	tdm_lock_assert_none("ops->queue_tmf_rsp");
	nx->ops->queue_tmf_rsp(tmf);
	/* the TMF held the nexus like a command (tdm_tmf_submit) */
	tdm__nexus_cmd_released(nx);
}

void tdm__tmf_cmd_done(struct tdm_tmf *tmf)
{
	if (atomic_fetch_sub(&tmf->pending, 1) != 1)
		return;
	if (tdm_loop_current() == tmf->nexus->loop)
		tmf_respond(tmf);
	else
		tdm_loop_post(tmf->nexus->loop, tmf_respond, tmf);
}

/* On the command's own loop: is it still waiting for data? */
static void abort_pending_cb(void *arg)
{
	struct pending_abort *pa = arg;
	struct tdm_list *pos;
	struct tdm_cmd *found = NULL;

	tdm_mutex_lock(&pa->lu->lock);
	tdm_list_for_each (pos, &pa->lu->cmds) {
		struct tdm_cmd *c =
			tdm_list_entry(pos, struct tdm_cmd, lu_link);

		if (c == pa->cmd && c->state == TDM_CMD_WRITE_PENDING &&
		    tdm_cmd_aborted(c)) {
			found = c;
			break;
		}
	}
	tdm_mutex_unlock(&pa->lu->lock);
	if (found) {
		tdm_lock_assert_none("ops->abort_pending");
		found->nexus->ops->abort_pending(found);
	}
	tdm__lu_put(pa->lu);
	free(pa);
}

/*
 * Abort the commands of lu matching (nx or any nexus, tag or any).
 * Returns how many matched. Those waiting for data-out go back to their
 * transport (ops->abort_pending) at once when they are on this loop,
 * unless posted: the caller holds a lock (tdm__reg_lock), which the
 * transport may need when it ends the nexus from inside.
 */
static unsigned abort_on_lu(struct tdm_lu *lu, struct tdm_tmf *tmf,
			    const struct tdm_nexus *issuer,
			    const struct tdm_nexus *nx, bool match_tag,
			    uint64_t tag, bool other_ua, bool posted)
{
	struct tdm_list *pos;
	unsigned n = 0;
	struct pending_abort *pend[64];
	unsigned npend = 0, i;
	bool again;

	do {
		again = false;
		tdm_mutex_lock(&lu->lock);
		tdm_list_for_each (pos, &lu->cmds) {
			struct tdm_cmd *c =
				tdm_list_entry(pos, struct tdm_cmd, lu_link);
			unsigned fl;

			if (nx && c->nexus != nx)
				continue;
			if (match_tag && c->tag != tag)
				continue;
			if (c->state == TDM_CMD_DONE ||
			    c->state == TDM_CMD_FREED)
				continue;
			fl = atomic_load(&c->aflags);
			if (fl & TDM__CMD_F_ABORTED)
				continue;
			n++;
			fl = TDM__CMD_F_ABORTED;
			/* SPC-4 7.5.8: TAS=1 -> nexuses other than the
			 * issuer's see TASK ABORTED instead of silence */
			if (lu->mode.tas && c->nexus != issuer)
				fl |= TDM__CMD_F_TAS;
			atomic_fetch_or(&c->aflags, fl);
			if (other_ua && c->nexus != issuer && !lu->mode.tas)
				tdm__ua_raise(
					c->nexus, lu,
					TDM_SR_UA_COMMANDS_CLEARED_BY_ANOTHER);
			if (c->state == TDM_CMD_WRITE_PENDING) {
				struct pending_abort *pa;

				if (npend == 64) {
					again = true;
					break;
				}
				pa = malloc(sizeof(*pa));
				if (!pa)
					continue;
				tdm__lu_get(lu);
				pa->lu = lu;
				pa->cmd = c;
				pend[npend++] = pa;
			} else if (tmf && !c->tmf) {
				c->tmf = tmf;
				atomic_fetch_add(&tmf->pending, 1);
			}
		}
		tdm_mutex_unlock(&lu->lock);
		for (i = 0; i < npend; i++) {
			struct tdm_loop *l = pend[i]->cmd->nexus->loop;

			if (l == tdm_loop_current() && !posted)
				abort_pending_cb(pend[i]);
			else
				tdm_loop_post(l, abort_pending_cb, pend[i]);
		}
		npend = 0;
	} while (again);
	return n;
}

/* Does the nexus have a task with tag (or any task, !match_tag) on lu? */
static bool task_exists(struct tdm_lu *lu, const struct tdm_nexus *nx,
			bool match_tag, uint64_t tag)
{
	struct tdm_list *pos;
	bool found = false;

	tdm_mutex_lock(&lu->lock);
	tdm_list_for_each (pos, &lu->cmds) {
		struct tdm_cmd *c =
			tdm_list_entry(pos, struct tdm_cmd, lu_link);

		if (c->nexus == nx && (!match_tag || c->tag == tag) &&
		    c->state != TDM_CMD_DONE && c->state != TDM_CMD_FREED &&
		    !tdm_cmd_aborted(c)) {
			found = true;
			break;
		}
	}
	tdm_mutex_unlock(&lu->lock);
	return found;
}

/*
 * LUN RESET of one LU (SAM-5 7.7): abort every task, clear the SPC-2
 * reservation, and a unit attention on every I_T nexus of the LU, the
 * issuing one included (multipath initiators check it on each path):
 * BUS DEVICE RESET FUNCTION OCCURRED for a LUN RESET and a TARGET WARM
 * RESET (SAM-2's TARGET RESET, a logical unit reset of every LU), POWER
 * ON OCCURRED for a TARGET COLD RESET, which RFC 7143 11.5.1 makes a
 * power on event.
 */
static void lun_reset(struct tdm_lu *lu, struct tdm_tmf *tmf, bool power_on)
{
	abort_on_lu(lu, tmf, tmf->nexus, NULL, false, 0, false, false);
	if (power_on) {
		tdm__spc2_power_on(lu, tmf->nexus, tmf);
		tdm__ua_raise_lu(lu, TDM_SR_UA_POWER_ON_OCCURRED, NULL);
	} else {
		tdm__spc2_reset(lu, tmf->nexus, tmf);
		tdm__ua_raise_lu(lu, TDM_SR_UA_BUS_RESET, NULL);
	}
}

/*
 * SPC-4 5.13.11.5: PREEMPT AND ABORT aborts the preempted nexus' tasks on
 * lu; they end with TASK ABORTED when the control page's TAS is set.
 */
void tdm__abort_lu_nexus(struct tdm_lu *lu, struct tdm_nexus *nx)
{
	/* under tdm__reg_lock (scsi/pr_scsi.c carry_out) */
	abort_on_lu(lu, NULL, NULL, nx, false, 0, false, true);
}

void tdm__abort_lu_all(struct tdm_lu *lu)
{
	abort_on_lu(lu, NULL, NULL, NULL, false, 0, false, false);
}

void tdm__abort_nexus(struct tdm_nexus *nx)
{
	struct tdm_lu **lus;
	size_t n, i;

	lus = tdm__all_lus(&n);
	for (i = 0; i < n; i++) {
		abort_on_lu(lus[i], NULL, nx, nx, false, 0, false, false);
		tdm__lu_put(lus[i]);
	}
	free(lus);
}

void tdm_tmf_submit(struct tdm_tmf *tmf)
{
	struct tdm_nexus *nx = tmf->nexus;
	struct tdm_lu *lu = NULL;
	uint64_t lun;
	bool ro;
	size_t i, n;
	struct tdm_lu **lus;

	atomic_init(&tmf->pending, 1);
	tmf->response = TDM_TMF_RSP_COMPLETE;
	/* a TMF keeps its nexus alive until its response is handed over,
	 * even if the connection closes meanwhile */
	atomic_fetch_add(&nx->ncmds, 1);

	switch (tmf->fn) {
	case TDM_TMF_ABORT_TASK:
	case TDM_TMF_ABORT_TASK_SET:
	case TDM_TMF_CLEAR_TASK_SET:
	case TDM_TMF_LUN_RESET:
	case TDM_TMF_QUERY_TASK:
	case TDM_TMF_QUERY_TASK_SET:
	case TDM_TMF_QUERY_ASYNC_EVENT:
		if (tdm__lun_decode(tmf->lun, &lun) == 0)
			lu = tdm__lun_lookup(nx, lun, &ro);
		if (!lu) {
			tmf->response = TDM_TMF_RSP_LUN_NOT_EXIST;
			goto out;
		}
		break;
	default:
		break;
	}

	switch (tmf->fn) {
	case TDM_TMF_ABORT_TASK:
		/* RFC 7143 11.6.1: an unknown task is "function complete" */
		abort_on_lu(lu, tmf, nx, nx, true, tmf->ref_tag, false, false);
		break;
	case TDM_TMF_ABORT_TASK_SET:
		abort_on_lu(lu, tmf, nx, nx, false, 0, false, false);
		break;
	case TDM_TMF_CLEAR_TASK_SET:
		abort_on_lu(lu, tmf, nx, NULL, false, 0, true, false);
		break;
	case TDM_TMF_LUN_RESET:
		lun_reset(lu, tmf, false);
		break;
	case TDM_TMF_TARGET_WARM_RESET:
	case TDM_TMF_TARGET_COLD_RESET:
		/* every LU of the target as this nexus sees it */
		lus = tdm__nexus_lus(nx, &n);
		for (i = 0; i < n; i++) {
			lun_reset(lus[i], tmf,
				  tmf->fn == TDM_TMF_TARGET_COLD_RESET);
			tdm__lu_put(lus[i]);
		}
		free(lus);
		if (tmf->fn == TDM_TMF_TARGET_COLD_RESET)
			tdm__target_close(nx, tmf);
		break;
	case TDM_TMF_I_T_NEXUS_RESET:
		lus = tdm__all_lus(&n);
		for (i = 0; i < n; i++) {
			abort_on_lu(lus[i], tmf, nx, nx, false, 0, false,
				    false);
			tdm__lu_put(lus[i]);
		}
		free(lus);
		tdm__spc2_nexus_gone(nx);
		break;
	case TDM_TMF_QUERY_TASK:
		tmf->response = task_exists(lu, nx, true, tmf->ref_tag)
					? TDM_TMF_RSP_SUCCEEDED
					: TDM_TMF_RSP_COMPLETE;
		break;
	case TDM_TMF_QUERY_TASK_SET:
		tmf->response = task_exists(lu, nx, false, 0)
					? TDM_TMF_RSP_SUCCEEDED
					: TDM_TMF_RSP_COMPLETE;
		break;
	case TDM_TMF_QUERY_ASYNC_EVENT:
		tmf->response = tdm__ua_take(nx, lu, true) != TDM_SR_OK
					? TDM_TMF_RSP_SUCCEEDED
					: TDM_TMF_RSP_COMPLETE;
		break;
	case TDM_TMF_CLEAR_ACA: /* NACA is not supported (CONTROL byte) */
	default:
		tmf->response = TDM_TMF_RSP_NOT_SUPPORTED;
		break;
	}
out:
	if (lu)
		tdm__lu_put(lu);
	tdm__tmf_cmd_done(tmf);
}
