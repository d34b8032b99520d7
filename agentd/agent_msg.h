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
 * A frame: u32 length (bytes after this field, at most
 * TDM_AGENT_FRAME_MAX), u16 type, u16 link version, then the body.
 * Integers are big-endian. A "bytes" field is u32 length + data; a
 * "str" is bytes holding no NUL (at most TDM_AGENT_STR_MAX).
 *
 * tandemd -> agent:
 *   HELLO      u16 version_min, u16 version_max, str node (uname)
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
 *              may order operations; 0 fences media access and PR OUT
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

#define TDM_AGENT_LINK_VERSION 2
#define TDM_AGENT_FRAME_MAX (64u << 20)
#define TDM_AGENT_HDR 8u /* u32 length, u16 type, u16 version */
#define TDM_AGENT_STR_MAX 1024u
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

/* ---- writing: a growing buffer; an allocation failure sticks ---- */

struct tdm_agent_wbuf {
	uint8_t *p;
	size_t len, cap;
	bool oom;
};

/* Start a frame of type (resets w, keeps its memory). */
void tdm_agent_begin(struct tdm_agent_wbuf *w, uint16_t type);
void tdm_agent_put_u8(struct tdm_agent_wbuf *w, uint8_t v);
void tdm_agent_put_u16(struct tdm_agent_wbuf *w, uint16_t v);
void tdm_agent_put_u32(struct tdm_agent_wbuf *w, uint32_t v);
void tdm_agent_put_u64(struct tdm_agent_wbuf *w, uint64_t v);
void tdm_agent_put_bytes(struct tdm_agent_wbuf *w, const void *p, size_t n);
void tdm_agent_put_str(struct tdm_agent_wbuf *w, const char *s);
/* Fill in the length; 0, or -ENOMEM / -EMSGSIZE. w->p[0..len) is the
 * frame. */
int tdm_agent_end(struct tdm_agent_wbuf *w);
void tdm_agent_wbuf_free(struct tdm_agent_wbuf *w);

/* ---- reading: a cursor over one frame's body; errors stick ---- */

struct tdm_agent_rd {
	const uint8_t *p;
	size_t len, off;
	bool bad;
};

/*
 * Look at the start of a byte stream: 0 = need more bytes, >0 = a whole
 * frame of that many bytes (header included) is there, -EMSGSIZE /
 * -EPROTO = not a frame (the stream cannot go on).
 */
long tdm_agent_frame_len(const uint8_t *p, size_t avail);
/* Open a whole frame (as tdm_agent_frame_len measured it). */
void tdm_agent_open(struct tdm_agent_rd *r, const uint8_t *frame, size_t len,
		    uint16_t *type, uint16_t *version);
uint8_t tdm_agent_get_u8(struct tdm_agent_rd *r);
uint16_t tdm_agent_get_u16(struct tdm_agent_rd *r);
uint32_t tdm_agent_get_u32(struct tdm_agent_rd *r);
uint64_t tdm_agent_get_u64(struct tdm_agent_rd *r);
/* Points into the frame; NULL with *n = 0 when bad. */
const uint8_t *tdm_agent_get_bytes(struct tdm_agent_rd *r, size_t *n);
/* Copies into out (NUL-terminated); bad if too long or holding a NUL. */
void tdm_agent_get_str(struct tdm_agent_rd *r, char *out, size_t outlen);
/* The frame was read to its end without error. */
bool tdm_agent_done(const struct tdm_agent_rd *r);

/* ---- the PR-OUT / PR-APPLY fields after req ---- */

struct tdm_agent_pr {
	char device[64];
	const uint8_t *cdb; /* point into the frame (reading) */
	size_t cdb_len;
	const uint8_t *param;
	size_t param_len;
	const uint8_t *tid;
	size_t tid_len;
	uint16_t rel_port;
};

void tdm_agent_put_pr(struct tdm_agent_wbuf *w, const struct tdm_agent_pr *pr);
void tdm_agent_get_pr(struct tdm_agent_rd *r, struct tdm_agent_pr *pr);

/* ---- the ALUA-SET / ALUA-APPLY fields after req ---- */

#define TDM_AGENT_ALUA_MAX 1024u

struct tdm_agent_alua {
	char device[64];
	size_t n;
	struct {
		uint16_t group_id;
		uint8_t state;
	} set[TDM_AGENT_ALUA_MAX];
};

void tdm_agent_put_alua(struct tdm_agent_wbuf *w,
			const struct tdm_agent_alua *a);
void tdm_agent_get_alua(struct tdm_agent_rd *r, struct tdm_agent_alua *a);

#endif
