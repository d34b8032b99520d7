/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * agent_msg.h - the link between tandemd and tandem-agentd: framing and
 * the codec of its messages. Both daemons link it (libtandem.a).
 *
 * tandemd listens on an AF_UNIX stream socket (tandemd -A PATH, default
 * /run/tandem/agent.sock) and accepts one agent at a time (SO_PEERCRED:
 * root or tandemd's uid). The agent connects, retrying while tandemd is
 * down. Either side may send at any time; each side handles messages in
 * the order they arrive, and tandemd answers SNAPSHOT-GET in that order,
 * so a snapshot holds exactly the PR-APPLY/ALUA-APPLY messages sent
 * before it.
 *
 * A frame (lib/codec.h): u32 length (bytes after this field, at most
 * TDM_FRAME_MAX), u16 type, u16 link version, then the body. Integers
 * are big-endian. A "bytes" field is u32 length + data; a "str" is bytes
 * holding no NUL (at most TDM_CODEC_STR_MAX).
 *
 * tandemd -> agent:
 *   HELLO      u16 version_min, u16 version_max, str node (uname),
 *              u32 agent_timeout_ms (version 3; tandemd fences itself
 *              when no frame came from the agent for that long)
 *   PR-OUT     u64 req, str device, bytes cdb, bytes param,
 *              bytes tid (SPC-4 TransportID of the initiator port),
 *              u16 rel_port (of the receiving target port)
 *   ALUA-SET   u64 req, str device ("" from tandemctl), u32 n,
 *              n x (u16 group_id, u8 state)
 *   SNAPSHOT   u64 req, bytes snapshot (the answer to SNAPSHOT-GET)
 *   ORDER      u64 req, u8 kind, bytes payload (version 2): any other
 *              event to apply on every head in the cluster's order
 *              (tandemd's kinds and payloads, opaque to the agent); req 0
 *              = nobody waits for it
 *   DONE       u64 count (version 2): how many PR-APPLY, ALUA-APPLY and
 *              ORDERED messages tandemd has applied since the link came
 *              up, sent after each of them (the agent acknowledges to the
 *              group only what its tandemd applied)
 * agent -> tandemd:
 *   WELCOME    u16 version, u32 nodeid
 *   STATUS     u8 serving, u8 quorate, u32 members, u64 seq,
 *              u16 group version (the protocol the group runs at)
 *              serving: this head holds the cluster's current state and
 *              may order operations; 0 fences media access and PR OUT.
 *              Link version 3: sent again every third of HELLO's
 *              agent_timeout_ms even when nothing changed (the heartbeat)
 *   PR-APPLY   u32 origin nodeid, u64 req, then PR-OUT's fields after req
 *   ALUA-APPLY u32 origin nodeid, u64 req, then ALUA-SET's fields
 *   REJECT     u64 req, u8 what (1 PR-OUT, 2 ALUA-SET): not ordered (no
 *              quorum, leaving the group); tandemd fails the command
 *              with a sense the initiator retries
 *   SNAPSHOT-GET  u64 req
 *   SNAPSHOT-LOAD bytes snapshot: replace every LU's PR state and the
 *              ALUA states with it (tandemd's format, opaque to the agent)
 *   ORDERED    u32 origin nodeid, u64 req, u8 kind, bytes payload
 *              (version 2): an ORDER delivered in the cluster's order
 *   STABLE     u64 req (version 2): every member of the group has applied
 *              this head's operation req (members that left do not count)
 *
 * Version 1: a PR-APPLY / ALUA-APPLY whose origin is this head's nodeid
 * and whose req is pending completes that command with the result of
 * applying it. Version 2 (both sides said 2 in HELLO / WELCOME): the
 * result is kept and the command completes on STABLE, so when the
 * initiator sees the status, every head already enforces the new state
 * (a PR IN or a write through another head sees it). If the link drops
 * between the two, the command completes with the result it had.
 */
#ifndef TANDEM_AGENT_MSG_H
#define TANDEM_AGENT_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/codec.h"
#include "tandem/cluster.h"

/* 3: HELLO's agent_timeout_ms and the STATUS heartbeat */
#define TDM_AGENT_LINK_VERSION 3
#define TDM_AGENT_SOCKET "/run/tandem/agent.sock"

enum tdm_agent_type {
	TDM_AGENT_HELLO = 1,
	TDM_AGENT_PR_OUT = 2,
	TDM_AGENT_ALUA_SET = 3,
	TDM_AGENT_SNAPSHOT = 4,
	TDM_AGENT_ORDER = 5,
	TDM_AGENT_DONE = 6,
	TDM_AGENT_WELCOME = 16,
	TDM_AGENT_STATUS = 17,
	TDM_AGENT_PR_APPLY = 18,
	TDM_AGENT_ALUA_APPLY = 19,
	TDM_AGENT_REJECT = 20,
	TDM_AGENT_SNAPSHOT_GET = 21,
	TDM_AGENT_SNAPSHOT_LOAD = 22,
	TDM_AGENT_ORDERED = 23,
	TDM_AGENT_STABLE = 24,
};

/* "HELLO", ... or "?" */
const char *tdm_agent_type_name(uint16_t type);

/* Start a link frame of type (lib/codec.h tdm_frame_begin at this
 * link's version); tdm_frame_end() closes it. */
void tdm_agent_begin(struct tdm_wbuf *w, uint16_t type);

/* ---- the PR-OUT / PR-APPLY fields after req ---- */

void tdm_agent_put_pr(struct tdm_wbuf *w, const struct tdm_cluster_pr *pr);
void tdm_agent_get_pr(struct tdm_rd *r, struct tdm_cluster_pr *pr);

/* ---- the ALUA-SET / ALUA-APPLY fields after req ---- */

void tdm_agent_put_alua(struct tdm_wbuf *w, const struct tdm_cluster_alua *a);
void tdm_agent_get_alua(struct tdm_rd *r, struct tdm_cluster_alua *a);

#endif
