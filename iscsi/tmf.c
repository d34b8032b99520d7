/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tmf.c - Task Management Function Request / Response (RFC 7143 11.5,
 * 11.6; RFC 7144 4 for the QUERY functions). The core does the work; this
 * file maps functions and answers, and handles tasks the core never saw
 * (still waiting for their CmdSN turn, or unknown ones).
 */
#include <stdlib.h>
#include <string.h>

#include "iscsi/iscsi_int.h"
#include "lib/log.h"

static void send_tmf_rsp(struct tdm__iscsi_conn *c, uint32_t itt,
			 uint8_t response, bool close_after)
{
	struct tdm__iscsi_txpdu *pdu = tdm__iscsi_pdu_alloc(c);

	if (!pdu) {
		tdm__iscsi_conn_close(c, "out of memory");
		return;
	}
	/* RFC 7143 11.6 */
	pdu->hdr[0] = ISCSI_OP_TMF_RSP;
	pdu->hdr[1] = ISCSI_FLAG_FINAL;
	pdu->hdr[2] = response;
	tdm_put_be32(pdu->hdr + 16, itt);
	tdm__iscsi_pdu_set_sn(c, pdu, true);
	if (close_after)
		pdu->flags |= ISCSI_TX_CLOSE;
	tdm__iscsi_pdu_queue(c, pdu);
	tdm__iscsi_conn_kick(c);
}

static int map_fn(uint8_t fn)
{
	switch (fn) {
	case ISCSI_TMF_ABORT_TASK:
		return TDM_TMF_ABORT_TASK;
	case ISCSI_TMF_ABORT_TASK_SET:
		return TDM_TMF_ABORT_TASK_SET;
	case ISCSI_TMF_CLEAR_ACA:
		return TDM_TMF_CLEAR_ACA;
	case ISCSI_TMF_CLEAR_TASK_SET:
		return TDM_TMF_CLEAR_TASK_SET;
	case ISCSI_TMF_LUN_RESET:
		return TDM_TMF_LUN_RESET;
	case ISCSI_TMF_TARGET_WARM_RESET:
		return TDM_TMF_TARGET_WARM_RESET;
	case ISCSI_TMF_TARGET_COLD_RESET:
		return TDM_TMF_TARGET_COLD_RESET;
	case ISCSI_TMF_QUERY_TASK:
		return TDM_TMF_QUERY_TASK;
	case ISCSI_TMF_QUERY_TASK_SET:
		return TDM_TMF_QUERY_TASK_SET;
	case ISCSI_TMF_I_T_NEXUS_RESET:
		return TDM_TMF_I_T_NEXUS_RESET;
	case ISCSI_TMF_QUERY_ASYNC_EVENT:
		return TDM_TMF_QUERY_ASYNC_EVENT;
	default:
		return -1;
	}
}

static uint8_t map_rsp(uint8_t r)
{
	switch (r) {
	case TDM_TMF_RSP_COMPLETE:
		return ISCSI_TMF_RSP_COMPLETE;
	case TDM_TMF_RSP_SUCCEEDED:
		return ISCSI_TMF_RSP_SUCCEEDED;
	case TDM_TMF_RSP_TASK_NOT_EXIST:
		return ISCSI_TMF_RSP_NO_TASK;
	case TDM_TMF_RSP_LUN_NOT_EXIST:
		return ISCSI_TMF_RSP_NO_LUN;
	case TDM_TMF_RSP_NOT_SUPPORTED:
		return ISCSI_TMF_RSP_NOT_SUPPORTED;
	default:
		return ISCSI_TMF_RSP_REJECTED;
	}
}

void tdm__iscsi_tmf_req(struct tdm__iscsi_conn *c, const uint8_t *bhs)
{
	uint8_t fn = bhs[1] & 0x7f;
	uint64_t lun = tdm_get_be64(bhs + 8);
	uint32_t itt = tdm_get_be32(bhs + 16);
	uint32_t rtt = tdm_get_be32(bhs + 20);
	uint32_t cmdsn = tdm_get_be32(bhs + 24);
	uint32_t refcmdsn = tdm_get_be32(bhs + 32);
	struct tdm__iscsi_tmf *m;
	int cfn;

	if (c->discovery) {
		tdm__iscsi_send_reject(c, ISCSI_REJECT_CMD_NOT_SUPPORTED, bhs);
		return;
	}
	if (fn == ISCSI_TMF_TASK_REASSIGN) {
		/* RFC 7143 11.5.1: reassignment needs ERL 2 */
		send_tmf_rsp(c, itt, ISCSI_TMF_RSP_NO_REASSIGN, false);
		return;
	}
	cfn = map_fn(fn);
	if (cfn < 0) {
		send_tmf_rsp(c, itt, ISCSI_TMF_RSP_NOT_SUPPORTED, false);
		return;
	}

	if (fn == ISCSI_TMF_ABORT_TASK || fn == ISCSI_TMF_QUERY_TASK) {
		struct tdm__iscsi_task *t = tdm__iscsi_task_find(c, rtt);

		if (!t || t->state == ISCSI_TASK_STATUS ||
		    t->state == ISCSI_TASK_LOCAL) {
			/*
			 * RFC 7143 11.5.1: an unknown task whose RefCmdSN is
			 * in the window and below this request's CmdSN was
			 * never received: "Function complete"; otherwise it
			 * completed already: "Task does not exist".
			 */
			bool in_window = fn == ISCSI_TMF_ABORT_TASK && !t &&
					 !tdm__sn_lt(refcmdsn, c->exp_cmdsn) &&
					 tdm__sn_le(refcmdsn, c->max_cmdsn) &&
					 tdm__sn_lt(refcmdsn, cmdsn);

			send_tmf_rsp(
				c, itt,
				in_window ? ISCSI_TMF_RSP_COMPLETE
					  : (fn == ISCSI_TMF_QUERY_TASK
						     ? ISCSI_TMF_RSP_COMPLETE
						     : ISCSI_TMF_RSP_NO_TASK),
				false);
			return;
		}
		if (t->state == ISCSI_TASK_QUEUED) {
			if (fn == ISCSI_TMF_ABORT_TASK)
				t->aborted = true;
			send_tmf_rsp(c, itt,
				     fn == ISCSI_TMF_ABORT_TASK
					     ? ISCSI_TMF_RSP_COMPLETE
					     : ISCSI_TMF_RSP_SUCCEEDED,
				     false);
			return;
		}
	} else if (fn == ISCSI_TMF_ABORT_TASK_SET ||
		   fn == ISCSI_TMF_CLEAR_TASK_SET ||
		   fn == ISCSI_TMF_LUN_RESET) {
		tdm__iscsi_abort_queued(c, false, lun);
	} else if (fn == ISCSI_TMF_TARGET_WARM_RESET ||
		   fn == ISCSI_TMF_TARGET_COLD_RESET ||
		   fn == ISCSI_TMF_I_T_NEXUS_RESET) {
		tdm__iscsi_abort_queued(c, true, 0);
	}

	if (!c->nexus) {
		send_tmf_rsp(c, itt, ISCSI_TMF_RSP_REJECTED, false);
		return;
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		send_tmf_rsp(c, itt, ISCSI_TMF_RSP_REJECTED, false);
		return;
	}
	m->conn = c;
	m->itt = itt;
	m->fn = fn;
	m->tmf.fn = (uint8_t)cfn;
	m->tmf.lun = lun;
	m->tmf.ref_tag = rtt;
	m->tmf.tag = itt;
	m->tmf.nexus = c->nexus;
	c->ntmf++;
	tdm__iscsi_conn_get(c);
	tdm_tmf_submit(&m->tmf);
}

void tdm__iscsi_queue_tmf_rsp(struct tdm_tmf *tmf)
{
	struct tdm__iscsi_tmf *m =
		container_of(tmf, struct tdm__iscsi_tmf, tmf);
	struct tdm__iscsi_conn *c = m->conn;

	if (c->ntmf)
		c->ntmf--;
	if (!c->closed) {
		/* RFC 7143 11.5.1: after a cold reset the target drops
		 * its connections; I_T NEXUS RESET ends this nexus */
		bool close_after = (m->fn == ISCSI_TMF_TARGET_COLD_RESET ||
				    m->fn == ISCSI_TMF_I_T_NEXUS_RESET) &&
				   tmf->response == TDM_TMF_RSP_COMPLETE;

		send_tmf_rsp(c, m->itt, map_rsp(tmf->response), close_after);
	}
	free(m);
	tdm__iscsi_logout_progress(c);
	tdm__iscsi_conn_put(c);
}
