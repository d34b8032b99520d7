/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fuzz_agent.c - libFuzzer target for tandem-agentd's cluster messages
 * (agentd/cluster_msg.c), the bytes other heads multicast, and for the
 * sync state machine fed with what decodes. Invariants: decoding never
 * reads outside its input; a decoded message re-encodes to one that
 * decodes to the same fields; the sync machine never crashes, including
 * its acknowledgements (ORDER-OP, ACK, and DONE counts taken from the
 * input), nor the fencing hold (hold.c: configuration changes with
 * members leaving, FENCED, the sync module's actions queued and
 * released). Violations abort.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentd/cluster_msg.h"
#include "agentd/hold.h"
#include "agentd/sync.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what)
{
	fprintf(stderr, "fuzz_agent: %s\n", what);
	abort();
}

static void check_roundtrip(const struct tdm_cmsg *m)
{
	static struct tdm_wbuf w;
	struct tdm_cmsg b;
	int r = -1;

	switch (m->type) {
	case TDM_CMSG_SYNC_INFO:
		r = tdm_cmsg_put_info(&w, &m->info);
		break;
	case TDM_CMSG_PR_OP:
		r = tdm_cmsg_put_pr(&w, 1, m->origin, m->req, &m->pr);
		break;
	case TDM_CMSG_ALUA_OP:
		r = tdm_cmsg_put_alua(&w, 1, m->origin, m->req, &m->alua);
		break;
	case TDM_CMSG_SNAP_CHUNK:
		r = tdm_cmsg_put_chunk(&w, 1, m->source, m->snap_seq, m->total,
				       m->offset, m->data, m->data_len);
		break;
	case TDM_CMSG_ORDER_OP:
		r = tdm_cmsg_put_order(&w, 2, m->origin, m->req, m->kind,
				       m->payload, m->payload_len);
		break;
	case TDM_CMSG_ACK:
		r = tdm_cmsg_put_ack(&w, 2, &m->ack);
		break;
	case TDM_CMSG_FENCED:
		r = tdm_cmsg_put_fenced(&w, 5, &m->fenced);
		break;
	}
	if (r < 0)
		return; /* e.g. a message that grew past TDM_CMSG_MAX */
	if (tdm_cmsg_decode(w.p, w.len, AGENT_PROTO_VERSION, &b) != 0)
		fail("re-encoded message does not decode");
	if (b.type != m->type || b.req != m->req || b.origin != m->origin ||
	    b.info.seq != m->info.seq || b.data_len != m->data_len ||
	    b.pr.cdb_len != m->pr.cdb_len || b.alua.n != m->alua.n ||
	    strcmp(b.pr.device, m->pr.device) != 0 || b.kind != m->kind ||
	    b.payload_len != m->payload_len ||
	    (b.payload_len &&
	     memcmp(b.payload, m->payload, b.payload_len) != 0) ||
	    b.ack.nodeid != m->ack.nodeid ||
	    b.ack.applied_seq != m->ack.applied_seq ||
	    b.ack.conf != m->ack.conf ||
	    memcmp(&b.fenced, &m->fenced, sizeof(b.fenced)) != 0)
		fail("round trip changed a field");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tdm_sync s;
	static struct tdm_hold h;
	static bool init;
	static const uint32_t ids[] = {1, 2, 3};
	struct tdm_cmsg m;
	uint8_t *copy;

	if (!init) {
		tdm_sync_init(&s, 2, AGENT_PROTO_VERSION);
		tdm_sync_link(&s, 2);
		init = true;
	}
	/* an exact-size copy, so ASan sees any overread */
	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	if (tdm_cmsg_decode(copy, size, AGENT_PROTO_VERSION, &m) == 0) {
		check_roundtrip(&m);
		/* the last byte picks a membership ({1}, {1,2}, {1,2,3}:
		 * this member is 2); data[0] is the frame length's top byte,
		 * always 0 for a message that decodes. The hold sees the
		 * others leave with a reason from the same byte. */
		if (size && (data[size - 1] & 7) == 0) {
			size_t n = 1 + (data[size - 1] >> 3) % 3;
			struct tdm_hold_left l[1] = {
				{3,
				 (enum tdm_hold_why)(data[size - 1] >> 5 & 3)}};

			tdm_sync_confchg(&s, ids, n);
			tdm_hold_confchg(&h, 2, ids, n, l, n < 3 ? 1 : 0,
					 s.version, s.conf, size,
					 (int64_t)size);
			if (s.cuts)
				tdm_hold_cut(&h, s.version);
		}
		switch (m.type) {
		case TDM_CMSG_SYNC_INFO:
			tdm_sync_info(&s, m.info.nodeid, &m.info);
			break;
		case TDM_CMSG_PR_OP:
		case TDM_CMSG_ALUA_OP:
		case TDM_CMSG_ORDER_OP:
			tdm_sync_op(&s, copy, size);
			/* the daemon sends each APPLY to tandemd */
			for (size_t i = 0; i < s.nact; i++)
				if (s.act[i].type == TDM_SYNC_APPLY)
					tdm_sync_sent(&s, s.act[i].seq);
			break;
		case TDM_CMSG_SNAP_CHUNK:
			tdm_sync_chunk(&s, &m);
			break;
		case TDM_CMSG_ACK: {
			struct tdm_cmsg_ack a;

			tdm_sync_ack(&s, m.ack.nodeid, &m.ack);
			if (tdm_sync_ack_due(&s, &a))
				tdm_sync_ack_sent(&s, &a);
			break;
		}
		case TDM_CMSG_FENCED:
			tdm_hold_fenced(&h, &m.fenced);
			break;
		}
		/* the daemon offers each action to the hold, releases what
		 * it may */
		for (size_t i = 0; i < s.nact; i++)
			tdm_hold_take(&h, &s.act[i]);
		if (tdm_hold_releasable(&h) || h.nq > 4096)
			tdm_hold_queue_clear(&h);
		/* tandemd's DONE: any count, valid or not */
		if (size > 1 && (data[size - 2] & 3) == 0)
			tdm_sync_done(&s, data[size - 2] >> 2);
		else if (size > 1 && (data[size - 2] & 3) == 1)
			tdm_sync_done(&s, s.link_sent);
		if (s.nstab > 4096)
			tdm_sync_stab_clear(&s); /* bound the memory */
	}
	free(copy);
	return 0;
}
