/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cluster_msg.h - the messages tandem-agentd multicasts to its CPG group,
 * and their decoder (pure: no I/O, safe on any bytes from the network).
 *
 * A cluster message uses the link's framing (agent_msg.h): u32 length,
 * u16 type, u16 protocol version, then the body, big-endian. The version
 * is the one the message is encoded with (SYNC-INFO: always 1, since it
 * is sent before the group version is known; the others: the group
 * version). A member decodes any version up to its own maximum and
 * ignores trailing bytes it does not know, so a version N+1 body may only
 * append fields to the version N body.
 *
 *   SYNC-INFO   u16 proto_max, u8 synced, u64 seq, u32 nodeid,
 *               u32 conf (tag of the configuration it answers: a hash of
 *               its members' nodeids; SYNC-INFO of another one is stale)
 *   PR-OP       u32 origin, u64 req, PR-OUT's fields after req
 *   ALUA-OP     u32 origin, u64 req, ALUA-SET's fields after req
 *   SNAP-CHUNK  u32 source, u64 seq at the cut, u32 total, u32 offset,
 *               bytes data (offset + len <= total <= TDM_CMSG_SNAP_MAX)
 *   ORDER-OP    (version 2) u32 origin, u64 req, u8 kind, bytes payload:
 *               tandemd's ORDER, an operation like PR-OP (opaque to the
 *               agents, delivered to every tandemd as ORDERED)
 *   ACK         (version 2) u32 nodeid, u64 applied_seq, u32 conf: the
 *               sender's tandemd has applied the operations up to seq
 *               applied_seq (sync.h, "Acknowledgements"); conf as in
 *               SYNC-INFO, the configuration it was sent in
 *   FENCED      (version 5) u32 nodeid, u8 how, u32 conf, u32 waited_ms:
 *               node nodeid, which left the configuration tagged conf
 *               (the first one without it) in a way that needs fencing,
 *               is known to have stopped serving (how: 1 Pacemaker's
 *               fencing history, 2 the self-fence time passed); the
 *               sender had held for waited_ms. Every member holding
 *               for it releases at its delivery (hold.h)
 *
 * ORDER-OP and ACK exist from version 2 on: a member only sends them when
 * the group version is 2 or more, and one encoded with version 1 is
 * malformed.
 */
#ifndef TANDEM_CLUSTER_MSG_H
#define TANDEM_CLUSTER_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "agentd/agent_msg.h"

/* the highest protocol this build speaks; 3: the same messages as 2, and
 * every member's tandemd applies ORDER kind 7 (tandemctl -activate_tgrp)
 * and reads snapshots of version 4 (scsi/cluster.c); 4: the same again,
 * and every member's tandemd applies ORDER kind 8 (tandemctl
 * -set_tgrp_state, the Pacemaker agent ra/alua); 5: FENCED, and every
 * member holds ordered operations after a member's failure until one
 * multicasts FENCED for it (hold.h) */
#define AGENT_PROTO_VERSION 5
/* a snapshot must fit a SNAPSHOT-LOAD frame */
#define TDM_CMSG_SNAP_MAX (TDM_FRAME_MAX - 64u)
/* snapshot chunk size: well under libcpg's IPC buffer (1 MiB) */
#define TDM_CMSG_CHUNK 262144u
/* largest cluster message we send or accept */
#define TDM_CMSG_MAX (TDM_CMSG_CHUNK + 4096u)

enum tdm_cmsg_type {
	TDM_CMSG_SYNC_INFO = 1,
	TDM_CMSG_PR_OP = 2,
	TDM_CMSG_ALUA_OP = 3,
	TDM_CMSG_SNAP_CHUNK = 4,
	TDM_CMSG_ORDER_OP = 5,
	TDM_CMSG_ACK = 6,
	TDM_CMSG_FENCED = 7,
};

/* FENCED's how */
enum tdm_cmsg_fenced_how {
	TDM_FENCED_PACEMAKER = 1,
	TDM_FENCED_SELF_TIME = 2,
};

struct tdm_cmsg_fenced {
	uint32_t nodeid;
	uint8_t how;
	uint32_t conf;
	uint32_t waited_ms;
};

/* an operation: delivered in agreed order, counted in seq */
#define TDM_CMSG_IS_OP(t)                                                      \
	((t) == TDM_CMSG_PR_OP || (t) == TDM_CMSG_ALUA_OP ||                   \
	 (t) == TDM_CMSG_ORDER_OP)

struct tdm_cmsg_info {
	uint16_t proto_max;
	uint8_t synced;
	uint64_t seq;
	uint32_t nodeid;
	uint32_t conf;
};

struct tdm_cmsg_ack {
	uint32_t nodeid;
	uint64_t applied_seq;
	uint32_t conf;
};

struct tdm_cmsg {
	uint16_t type;
	uint16_t version;
	struct tdm_cmsg_info info;
	/* PR-OP, ALUA-OP, ORDER-OP */
	uint32_t origin;
	uint64_t req;
	struct tdm_cluster_pr pr; /* points into the decoded bytes */
	struct tdm_cluster_alua alua;
	uint8_t kind;		/* ORDER-OP */
	const uint8_t *payload; /* points into the decoded bytes */
	size_t payload_len;
	/* ACK */
	struct tdm_cmsg_ack ack;
	/* FENCED */
	struct tdm_cmsg_fenced fenced;
	/* SNAP-CHUNK */
	uint32_t source;
	uint64_t snap_seq;
	uint32_t total, offset;
	const uint8_t *data; /* points into the decoded bytes */
	size_t data_len;
};

const char *tdm_cmsg_type_name(uint16_t type);

/*
 * Decode one cluster message of len bytes. 0, or -EPROTO (malformed),
 * -EMSGSIZE (a length out of bounds), -ENOTSUP (version above max_version
 * or 0), -ENOMSG (unknown type). Never reads outside p[0..len).
 */
int tdm_cmsg_decode(const uint8_t *p, size_t len, uint16_t max_version,
		    struct tdm_cmsg *m);

/*
 * The header and leading fields of an operation (PR-OP, ALUA-OP,
 * ORDER-OP) already decoded once: type, version, origin, req. 0, or
 * -EPROTO when p is not an operation.
 */
int tdm_cmsg_op_ids(const uint8_t *p, size_t len, uint16_t *type,
		    uint16_t *version, uint32_t *origin, uint64_t *req);

/* Encoders: 0, or a negative errno; w->p[0..w->len) is the message. */
int tdm_cmsg_put_info(struct tdm_wbuf *w, const struct tdm_cmsg_info *i);
int tdm_cmsg_put_pr(struct tdm_wbuf *w, uint16_t version, uint32_t origin,
		    uint64_t req, const struct tdm_cluster_pr *pr);
int tdm_cmsg_put_alua(struct tdm_wbuf *w, uint16_t version, uint32_t origin,
		      uint64_t req, const struct tdm_cluster_alua *a);
int tdm_cmsg_put_chunk(struct tdm_wbuf *w, uint16_t version, uint32_t source,
		       uint64_t seq, uint32_t total, uint32_t offset,
		       const void *data, size_t len);
/* version >= 2 (-EINVAL otherwise) */
int tdm_cmsg_put_order(struct tdm_wbuf *w, uint16_t version, uint32_t origin,
		       uint64_t req, uint8_t kind, const void *payload,
		       size_t len);
int tdm_cmsg_put_ack(struct tdm_wbuf *w, uint16_t version,
		     const struct tdm_cmsg_ack *a);
/* version >= 5 (-EINVAL otherwise) */
int tdm_cmsg_put_fenced(struct tdm_wbuf *w, uint16_t version,
			const struct tdm_cmsg_fenced *f);

#endif
