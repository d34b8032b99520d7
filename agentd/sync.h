/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * sync.h - the agent's membership sync decisions, pure: no I/O, no
 * corosync calls. The daemon feeds it what CPG delivers, in delivery
 * order (configuration changes and cluster messages); after each event
 * s->act[0..s->nact) lists what to do, in order. Every member of a group
 * sees the same deliveries, so every member computes the same decisions.
 *
 * Protocol (DESIGN.md "Cluster semantics", Membership):
 *  - on every configuration change each member stops serving (syncing)
 *    and multicasts SYNC-INFO {proto_max, synced, seq, nodeid};
 *  - once SYNC-INFO of every member of the configuration is delivered
 *    (the cut; a newer configuration change starts over), each computes:
 *    group version = min(proto_max); source = the synced member with the
 *    highest seq (ties: lowest nodeid), else the lowest nodeid. A member's
 *    seq at the cut is its SYNC-INFO seq (its seq at the configuration
 *    change) plus the operations delivered since the change (a synced
 *    member applies each one). SYNC-INFO carries a tag of the
 *    configuration it answers; one answering another is stale, ignored;
 *  - the source (and every synced member at the source's seq) continues;
 *    the others drop what they hold, buffer the operations delivered after
 *    the cut, load the source's snapshot (taken by the source right at
 *    the cut) when it is delivered, replay the buffer, and are synced;
 *  - operations are applied at once by a synced member, buffered by the
 *    others.
 */
#ifndef TANDEM_AGENT_SYNC_H
#define TANDEM_AGENT_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agentd/cluster_msg.h"

#define TDM_SYNC_MEMBERS_MAX 128 /* CPG_MEMBERS_MAX */

enum tdm_sync_act_type {
	/* multicast SYNC-INFO (info) */
	TDM_SYNC_SEND_INFO = 1,
	/* pass the delivered operation (data, len: the cluster message) to
	 * tandemd as PR-APPLY / ALUA-APPLY; seq is the seq after it */
	TDM_SYNC_APPLY,
	/* source at the cut: ask tandemd for a snapshot now, multicast it
	 * as SNAP-CHUNKs carrying seq */
	TDM_SYNC_SNAPSHOT_GET,
	/* send SNAPSHOT-LOAD (data, len) to tandemd */
	TDM_SYNC_SNAPSHOT_LOAD,
};

struct tdm_sync_act {
	enum tdm_sync_act_type type;
	const uint8_t *data; /* valid until the next event */
	size_t len;
	uint64_t seq;
	struct tdm_cmsg_info info;
};

struct tdm_sync_member {
	uint32_t nodeid;
	bool have_info;
	struct tdm_cmsg_info info;
};

struct tdm_sync_buf {
	uint8_t *data;
	size_t len;
};

struct tdm_sync {
	uint32_t self;
	uint16_t proto_max;
	bool joined;  /* a configuration listing this member was delivered */
	bool syncing; /* between a configuration change and its cut */
	bool synced;  /* tandemd holds the group's state */
	uint64_t seq; /* operations applied in that state */
	uint16_t version; /* group version at the last cut (0: none yet) */
	uint32_t source;  /* source at the last cut */
	uint64_t cuts;
	uint32_t conf;	    /* tag of the current configuration */
	uint64_t ops_since; /* operations delivered since its change */
	size_t nmembers;
	struct tdm_sync_member members[TDM_SYNC_MEMBERS_MAX];
	/* not synced after a cut: waiting for (snap_source, snap_seq) */
	bool waiting;
	uint32_t snap_source;
	uint64_t snap_seq;
	uint8_t *snap;
	size_t snap_total, snap_have;
	bool snap_started;
	/* operations delivered while not synced */
	struct tdm_sync_buf *buf;
	size_t nbuf, capbuf;
	/* actions of the last event, and memory they point to */
	struct tdm_sync_act *act;
	size_t nact, capact;
	struct tdm_sync_buf *gc;
	size_t ngc;
	uint8_t *gc_snap;
	bool oom;
};

void tdm_sync_init(struct tdm_sync *s, uint32_t self, uint16_t proto_max);
void tdm_sync_free(struct tdm_sync *s);
/* Out of the group (left, or about to join with a fresh tandemd): drop
 * everything; tandemd's state is its own (not synced, seq 0). */
void tdm_sync_reset(struct tdm_sync *s);

/* Events. 0, or -ENOMEM (the member cannot follow: leave the group),
 * or -EPROTO (message ignored). */
int tdm_sync_confchg(struct tdm_sync *s, const uint32_t *nodeids, size_t n);
int tdm_sync_info(struct tdm_sync *s, uint32_t from,
		  const struct tdm_cmsg_info *info);
int tdm_sync_op(struct tdm_sync *s, const uint8_t *msg, size_t len);
int tdm_sync_chunk(struct tdm_sync *s, const struct tdm_cmsg *m);

/* In the group, past the cut and holding the group's state. */
bool tdm_sync_ready(const struct tdm_sync *s);

#endif
