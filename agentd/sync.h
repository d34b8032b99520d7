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
 *    others;
 *  - after the cut, an operation encoded with a version above the group
 *    version (queued by its sender before a change that lowered it) is
 *    dropped by every member, since the older members cannot decode it
 *    (TDM_SYNC_DROP: its origin rejects it).
 *
 * Acknowledgements (link version 2: STABLE; sync.h is the only place
 * that decides it):
 *  - applied: the seq up to which this member's tandemd has applied the
 *    group's operations. The daemon reports each PR-APPLY / ALUA-APPLY /
 *    ORDERED it sends (tdm_sync_sent, with the seq that message brings
 *    the member to) and each DONE{count} (tdm_sync_done): applied = the
 *    seq of message number count. With link version 1 no DONE comes:
 *    applied = the seq of the last message sent (what v1 acknowledged).
 *    When the member becomes synced without applying operations one by
 *    one (it loaded the source's snapshot, or it is the source at a first
 *    start), applied = its seq after the replay at once: its tandemd got
 *    STATUS serving=0 before and gets serving=1 only after SNAPSHOT-LOAD
 *    and the replay, so it is fenced until it holds them. Messages sent
 *    before that point no longer count (their seqs are of another
 *    history).
 *  - ACK {nodeid, applied, conf}: group version >= 2 and more than one
 *    member only. A ready member (past the cut, synced) multicasts one
 *    when applied advanced, and once after each cut or load; the daemon
 *    asks (tdm_sync_ack_due) once per round of its loop, so one ACK
 *    covers every DONE read in that round (coalesced). ACKs are built
 *    when handed to corosync, never queued: an ACK sent before the
 *    sender saw a configuration change is delivered before the sender's
 *    SYNC-INFO of the new one, hence before the cut. Receivers take an
 *    ACK only past the cut, from a member, with the current conf tag;
 *    any other is stale and ignored.
 *  - Each member keeps the highest ACK of every member. A configuration
 *    change keeps those of members that stay; at the cut those of
 *    members that do not continue (not synced at the source's seq: they
 *    reload, their numbering changes) are dropped. A joiner therefore
 *    counts once it is synced and has sent its first ACK, whose seq (its
 *    seq after the snapshot and replay) includes an operation or not as
 *    the snapshot says.
 *  - This member's own operations (origin self, req != 0, link version
 *    2) are remembered with their seq when applied (APPLY). One is
 *    STABLE when the member is ready and every member of the current
 *    configuration acknowledged a seq >= it (this member: its own
 *    applied, not its ACK). Members that left are not waited for; a
 *    member not yet synced is waited for. A single-member group: STABLE
 *    as soon as its own tandemd's DONE covers it. A group at version 1
 *    (older agents send no ACK): STABLE on its own DONE alone, the v1
 *    guarantee.
 *  - STABLE{req} means: every member of the configuration has either
 *    confirmed (DONE) applying the operation, or holds it in the snapshot
 *    it loaded and is fenced until it applied it; any member that joins
 *    later gets it in its snapshot. Members that left may not have it;
 *    they reload before serving again.
 *  - If this member does not continue at a cut (its history is replaced
 *    by the source's) or leaves the group, its operations waiting for
 *    STABLE can no longer be known to be anywhere: TDM_SYNC_LOST (the
 *    daemon REJECTs them; tandemd completes an applied one with the
 *    result it had).
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
	/* send STABLE (req) to tandemd */
	TDM_SYNC_STABLE,
	/* this member's operation (req, what: 1 PR, 2 ALUA, 3 ORDER) waited
	 * for STABLE and never will be: REJECT it */
	TDM_SYNC_LOST,
	/* the operation (data, len) was dropped, not applied (encoded above
	 * the group version, or buffered for a snapshot that will not be
	 * loaded): if it is this member's, REJECT it */
	TDM_SYNC_DROP,
};

struct tdm_sync_act {
	enum tdm_sync_act_type type;
	const uint8_t *data; /* valid until the next event */
	size_t len;
	uint64_t seq;
	struct tdm_cmsg_info info;
	uint64_t req; /* STABLE, LOST */
	uint8_t what; /* LOST, STABLE */
};

struct tdm_sync_member {
	uint32_t nodeid;
	bool have_info;
	struct tdm_cmsg_info info;
	bool have_ack; /* acked is valid in the current numbering */
	uint64_t acked;
};

/* this member's operation waiting for STABLE */
struct tdm_sync_stab {
	uint64_t req, seq;
	uint8_t what;
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
	/* acknowledgements (see above) */
	uint16_t link_version; /* 0: no tandemd */
	uint64_t applied;
	uint64_t link_sent, link_done;
	uint64_t *lmap; /* seq of messages link_done+1 .. link_sent */
	size_t lmap_head, lmap_n, lmap_cap;
	bool ack_valid; /* ack_seq was sent since the last cut / load */
	uint64_t ack_seq;
	struct tdm_sync_stab *stab;
	size_t nstab, capstab;
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

/* A new tandemd link speaking link_version (0: none): applied 0, the
 * message counters restart, nothing waits for STABLE. */
void tdm_sync_link(struct tdm_sync *s, uint16_t link_version);
/* A PR-APPLY / ALUA-APPLY / ORDERED bringing tandemd to seq was sent
 * (not an event: produces no action). 0 or -ENOMEM. */
int tdm_sync_sent(struct tdm_sync *s, uint64_t seq);
/* Events (actions: STABLE). DONE{count} from tandemd: 0, or -EPROTO (a
 * count it was never sent, or going back), -ENOMEM. */
int tdm_sync_done(struct tdm_sync *s, uint64_t count);
/* A delivered ACK (from: the sender's nodeid). 0 (stale ones included)
 * or -EPROTO. */
int tdm_sync_ack(struct tdm_sync *s, uint32_t from,
		 const struct tdm_cmsg_ack *a);
/* Should this member multicast an ACK now? Fills *a (encode it at
 * s->version). Call tdm_sync_ack_sent once corosync took it. */
bool tdm_sync_ack_due(const struct tdm_sync *s, struct tdm_cmsg_ack *a);
void tdm_sync_ack_sent(struct tdm_sync *s, const struct tdm_cmsg_ack *a);
/* This member's operations waiting for STABLE are dropped (the daemon
 * rejected them itself, e.g. leaving the group). */
void tdm_sync_stab_clear(struct tdm_sync *s);

#endif
