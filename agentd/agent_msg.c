/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * agent_msg.c - the messages of the tandemd <-> tandem-agentd link
 * (agent_msg.h) on lib/codec.h. No I/O here: the daemons read and write
 * the bytes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agentd/agent_msg.h"

const char *tdm_agent_type_name(uint16_t type)
{
	switch (type) {
	case TDM_AGENT_HELLO:
		return "HELLO";
	case TDM_AGENT_PR_OUT:
		return "PR-OUT";
	case TDM_AGENT_ALUA_SET:
		return "ALUA-SET";
	case TDM_AGENT_SNAPSHOT:
		return "SNAPSHOT";
	case TDM_AGENT_WELCOME:
		return "WELCOME";
	case TDM_AGENT_STATUS:
		return "STATUS";
	case TDM_AGENT_PR_APPLY:
		return "PR-APPLY";
	case TDM_AGENT_ALUA_APPLY:
		return "ALUA-APPLY";
	case TDM_AGENT_REJECT:
		return "REJECT";
	case TDM_AGENT_SNAPSHOT_GET:
		return "SNAPSHOT-GET";
	case TDM_AGENT_SNAPSHOT_LOAD:
		return "SNAPSHOT-LOAD";
	case TDM_AGENT_ORDER:
		return "ORDER";
	case TDM_AGENT_DONE:
		return "DONE";
	case TDM_AGENT_ORDERED:
		return "ORDERED";
	case TDM_AGENT_STABLE:
		return "STABLE";
	case TDM_AGENT_PORTS:
		return "PORTS";
	case TDM_AGENT_HEADS:
		return "HEADS";
	}
	return "?";
}

void tdm_agent_begin(struct tdm_wbuf *w, uint16_t type)
{
	tdm_frame_begin(w, type, TDM_AGENT_LINK_VERSION);
}

/* ---- composite fields ---- */

void tdm_agent_put_pr(struct tdm_wbuf *w, const struct tdm_cluster_pr *pr)
{
	tdm_wbuf_put_str(w, pr->device);
	tdm_wbuf_put_bytes(w, pr->cdb, pr->cdb_len);
	tdm_wbuf_put_bytes(w, pr->param, pr->param_len);
	tdm_wbuf_put_bytes(w, pr->tid, pr->tid_len);
	tdm_wbuf_put_u16(w, pr->rel_port);
}

void tdm_agent_get_pr(struct tdm_rd *r, struct tdm_cluster_pr *pr)
{
	tdm_rd_get_str(r, pr->device, sizeof(pr->device));
	pr->cdb = tdm_rd_get_bytes(r, &pr->cdb_len);
	pr->param = tdm_rd_get_bytes(r, &pr->param_len);
	pr->tid = tdm_rd_get_bytes(r, &pr->tid_len);
	pr->rel_port = tdm_rd_get_u16(r);
	/* a PERSISTENT RESERVE OUT CDB is 10 bytes */
	if (pr->cdb_len != 10)
		r->bad = true;
}

void tdm_agent_put_alua(struct tdm_wbuf *w, const struct tdm_cluster_alua *a)
{
	size_t n = a->n < TDM_CLUSTER_ALUA_MAX ? a->n : TDM_CLUSTER_ALUA_MAX;

	tdm_wbuf_put_str(w, a->device);
	tdm_wbuf_put_u32(w, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		tdm_wbuf_put_u16(w, a->set[i].group_id);
		tdm_wbuf_put_u8(w, a->set[i].state);
	}
}

void tdm_agent_get_alua(struct tdm_rd *r, struct tdm_cluster_alua *a)
{
	uint32_t n;

	tdm_rd_get_str(r, a->device, sizeof(a->device));
	n = tdm_rd_get_u32(r);
	if (n > TDM_CLUSTER_ALUA_MAX) {
		r->bad = true;
		n = 0;
	}
	a->n = n;
	for (uint32_t i = 0; i < n; i++) {
		a->set[i].group_id = tdm_rd_get_u16(r);
		a->set[i].state = tdm_rd_get_u8(r);
	}
}

void tdm_agent_put_ports(struct tdm_wbuf *w, const uint16_t *ports, size_t n)
{
	if (n > TDM_AGENT_PORTS_MAX)
		n = TDM_AGENT_PORTS_MAX;
	tdm_wbuf_put_u16(w, (uint16_t)n);
	for (size_t i = 0; i < n; i++)
		tdm_wbuf_put_u16(w, ports[i]);
}

void tdm_agent_get_ports(struct tdm_rd *r, struct tdm_agent_ports *p)
{
	uint16_t n = tdm_rd_get_u16(r);

	p->n = 0;
	if (n > TDM_AGENT_PORTS_MAX) {
		r->bad = true;
		return;
	}
	for (uint16_t i = 0; i < n && !r->bad; i++)
		p->id[i] = tdm_rd_get_u16(r);
	if (!r->bad)
		p->n = n;
}
