/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cluster_msg.c - codec of the CPG messages between tandem-agentds
 * (cluster_msg.h). Pure: the decoder validates every length.
 */
#include <errno.h>
#include <string.h>

#include "agentd/cluster_msg.h"

const char *tdm_cmsg_type_name(uint16_t type)
{
	switch (type) {
	case TDM_CMSG_SYNC_INFO:
		return "SYNC-INFO";
	case TDM_CMSG_PR_OP:
		return "PR-OP";
	case TDM_CMSG_ALUA_OP:
		return "ALUA-OP";
	case TDM_CMSG_SNAP_CHUNK:
		return "SNAP-CHUNK";
	case TDM_CMSG_ORDER_OP:
		return "ORDER-OP";
	case TDM_CMSG_ACK:
		return "ACK";
	case TDM_CMSG_FENCED:
		return "FENCED";
	}
	return "?";
}

int tdm_cmsg_decode(const uint8_t *p, size_t len, uint16_t max_version,
		    struct tdm_cmsg *m)
{
	struct tdm_rd r;
	long flen;

	memset(m, 0, sizeof(*m));
	if (len > TDM_CMSG_MAX)
		return -EMSGSIZE;
	flen = tdm_frame_len(p, len);
	if (flen < 0)
		return (int)flen;
	if (flen == 0 || (size_t)flen != len)
		return -EPROTO;
	tdm_frame_open(&r, p, len, &m->type, &m->version);
	if (r.bad)
		return -EPROTO;
	if (m->version == 0 || m->version > max_version)
		return -ENOTSUP;
	switch (m->type) {
	case TDM_CMSG_SYNC_INFO:
		m->info.proto_max = tdm_rd_get_u16(&r);
		m->info.synced = tdm_rd_get_u8(&r);
		m->info.seq = tdm_rd_get_u64(&r);
		m->info.nodeid = tdm_rd_get_u32(&r);
		m->info.conf = tdm_rd_get_u32(&r);
		if (!r.bad && (m->info.proto_max == 0 || m->info.synced > 1))
			return -EPROTO;
		break;
	case TDM_CMSG_PR_OP:
		m->origin = tdm_rd_get_u32(&r);
		m->req = tdm_rd_get_u64(&r);
		tdm_agent_get_pr(&r, &m->pr);
		break;
	case TDM_CMSG_ALUA_OP:
		m->origin = tdm_rd_get_u32(&r);
		m->req = tdm_rd_get_u64(&r);
		tdm_agent_get_alua(&r, &m->alua);
		break;
	case TDM_CMSG_SNAP_CHUNK:
		m->source = tdm_rd_get_u32(&r);
		m->snap_seq = tdm_rd_get_u64(&r);
		m->total = tdm_rd_get_u32(&r);
		m->offset = tdm_rd_get_u32(&r);
		m->data = tdm_rd_get_bytes(&r, &m->data_len);
		if (r.bad)
			break;
		if (m->total > TDM_CMSG_SNAP_MAX || m->offset > m->total ||
		    m->data_len > m->total - m->offset)
			return -EMSGSIZE;
		break;
	case TDM_CMSG_ORDER_OP:
		if (m->version < 2)
			return -EPROTO;
		m->origin = tdm_rd_get_u32(&r);
		m->req = tdm_rd_get_u64(&r);
		m->kind = tdm_rd_get_u8(&r);
		m->payload = tdm_rd_get_bytes(&r, &m->payload_len);
		break;
	case TDM_CMSG_ACK:
		if (m->version < 2)
			return -EPROTO;
		m->ack.nodeid = tdm_rd_get_u32(&r);
		m->ack.applied_seq = tdm_rd_get_u64(&r);
		m->ack.conf = tdm_rd_get_u32(&r);
		break;
	case TDM_CMSG_FENCED:
		if (m->version < 5)
			return -EPROTO;
		m->fenced.nodeid = tdm_rd_get_u32(&r);
		m->fenced.how = tdm_rd_get_u8(&r);
		m->fenced.conf = tdm_rd_get_u32(&r);
		m->fenced.waited_ms = tdm_rd_get_u32(&r);
		if (!r.bad && (m->fenced.nodeid == 0 || m->fenced.how == 0))
			return -EPROTO;
		break;
	default:
		return -ENOMSG;
	}
	/* trailing bytes: fields of a later version, ignored */
	return r.bad ? -EPROTO : 0;
}

int tdm_cmsg_op_ids(const uint8_t *p, size_t len, uint16_t *type,
		    uint16_t *version, uint32_t *origin, uint64_t *req)
{
	struct tdm_rd r;

	if (len < TDM_FRAME_HDR)
		return -EPROTO;
	tdm_frame_open(&r, p, len, type, version);
	if (r.bad || !TDM_CMSG_IS_OP(*type))
		return -EPROTO;
	*origin = tdm_rd_get_u32(&r);
	*req = tdm_rd_get_u64(&r);
	return r.bad ? -EPROTO : 0;
}

static int finish(struct tdm_wbuf *w, uint16_t version)
{
	int r = tdm_frame_end(w);

	if (r < 0)
		return r;
	if (w->len > TDM_CMSG_MAX)
		return -EMSGSIZE;
	w->p[6] = (uint8_t)(version >> 8);
	w->p[7] = (uint8_t)version;
	return 0;
}

int tdm_cmsg_put_info(struct tdm_wbuf *w, const struct tdm_cmsg_info *i)
{
	tdm_agent_begin(w, TDM_CMSG_SYNC_INFO);
	tdm_wbuf_put_u16(w, i->proto_max);
	tdm_wbuf_put_u8(w, i->synced ? 1 : 0);
	tdm_wbuf_put_u64(w, i->seq);
	tdm_wbuf_put_u32(w, i->nodeid);
	tdm_wbuf_put_u32(w, i->conf);
	return finish(w, 1);
}

int tdm_cmsg_put_pr(struct tdm_wbuf *w, uint16_t version, uint32_t origin,
		    uint64_t req, const struct tdm_cluster_pr *pr)
{
	tdm_agent_begin(w, TDM_CMSG_PR_OP);
	tdm_wbuf_put_u32(w, origin);
	tdm_wbuf_put_u64(w, req);
	tdm_agent_put_pr(w, pr);
	return finish(w, version);
}

int tdm_cmsg_put_alua(struct tdm_wbuf *w, uint16_t version, uint32_t origin,
		      uint64_t req, const struct tdm_cluster_alua *a)
{
	tdm_agent_begin(w, TDM_CMSG_ALUA_OP);
	tdm_wbuf_put_u32(w, origin);
	tdm_wbuf_put_u64(w, req);
	tdm_agent_put_alua(w, a);
	return finish(w, version);
}

int tdm_cmsg_put_chunk(struct tdm_wbuf *w, uint16_t version, uint32_t source,
		       uint64_t seq, uint32_t total, uint32_t offset,
		       const void *data, size_t len)
{
	tdm_agent_begin(w, TDM_CMSG_SNAP_CHUNK);
	tdm_wbuf_put_u32(w, source);
	tdm_wbuf_put_u64(w, seq);
	tdm_wbuf_put_u32(w, total);
	tdm_wbuf_put_u32(w, offset);
	tdm_wbuf_put_bytes(w, data, len);
	return finish(w, version);
}

int tdm_cmsg_put_order(struct tdm_wbuf *w, uint16_t version, uint32_t origin,
		       uint64_t req, uint8_t kind, const void *payload,
		       size_t len)
{
	if (version < 2)
		return -EINVAL;
	tdm_agent_begin(w, TDM_CMSG_ORDER_OP);
	tdm_wbuf_put_u32(w, origin);
	tdm_wbuf_put_u64(w, req);
	tdm_wbuf_put_u8(w, kind);
	tdm_wbuf_put_bytes(w, payload, len);
	return finish(w, version);
}

int tdm_cmsg_put_ack(struct tdm_wbuf *w, uint16_t version,
		     const struct tdm_cmsg_ack *a)
{
	if (version < 2)
		return -EINVAL;
	tdm_agent_begin(w, TDM_CMSG_ACK);
	tdm_wbuf_put_u32(w, a->nodeid);
	tdm_wbuf_put_u64(w, a->applied_seq);
	tdm_wbuf_put_u32(w, a->conf);
	return finish(w, version);
}

int tdm_cmsg_put_fenced(struct tdm_wbuf *w, uint16_t version,
			const struct tdm_cmsg_fenced *f)
{
	if (version < 5)
		return -EINVAL;
	tdm_agent_begin(w, TDM_CMSG_FENCED);
	tdm_wbuf_put_u32(w, f->nodeid);
	tdm_wbuf_put_u8(w, f->how);
	tdm_wbuf_put_u32(w, f->conf);
	tdm_wbuf_put_u32(w, f->waited_ms);
	return finish(w, version);
}
