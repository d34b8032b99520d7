/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hold.h - the fencing hold of tandem-agentd (cluster protocol 5), pure:
 * no I/O, no clock, no corosync calls; the daemon feeds it CPG's
 * configuration changes (with the reasons of those that left), the
 * delivered FENCED messages, and the sync module's actions (sync.h).
 *
 * The rule (docs/cluster.md, "Fencing-safe takeover"): when a member
 * leaves the configuration in a way that needs fencing (CPG reason
 * NODEDOWN or PROCDOWN; a clean cpg_leave, reason LEAVE, does not: its
 * agent fenced its tandemd before leaving, or its tandemd is gone), every
 * survivor starts holding at that configuration change (a point of the
 * agreed order every survivor sees, before the cut of that
 * configuration): the actions of the sync module that reach tandemd
 * (APPLY, STABLE, SNAPSHOT-GET, SNAPSHOT-LOAD) are queued, in order,
 * instead of being carried out. So no operation delivered after that
 * point is applied, and none of this head's operations completes
 * (STABLE), until every departed member is known to have stopped
 * serving; the initiator's command just waits. REJECTs (LOST, DROP) and
 * SYNC-INFO are not held.
 *
 * The release is a point of the order too: the first survivor that
 * learns a departed member stopped serving (Pacemaker's fencing history,
 * or the self-fence time passed) multicasts FENCED{nodeid, how, conf};
 * at its delivery every survivor forgets that member, and once none is
 * left the queue is carried out in order. Later FENCED for the same
 * departure are ignored; a FENCED whose conf is not the one in which
 * this member saw the node leave is stale, ignored.
 *
 * Edge cases:
 *  - a second shrink while holding adds its members; the release waits
 *    for every one of them;
 *  - a departed member that joins again before FENCED is no longer
 *    waited for: it is in the agreed order again, its agent stopped its
 *    tandemd's serving at the configuration change and it serves again
 *    only after the cut (it loads or keeps the group's state);
 *  - group version below 5 at the configuration change (an older head
 *    in the group: it would neither hold nor send FENCED) or at the
 *    following cut: no hold, the queue is released at once (the daemon
 *    logs it once);
 *  - this member leaves the group: everything is dropped (the daemon
 *    rejects its operations);
 *  - this member's history is replaced at a cut (it loads another
 *    member's snapshot): the queued actions belong to the replaced
 *    history, tdm_hold_drop_queue() drops them; the departed members
 *    are still waited for.
 */
#ifndef TANDEM_AGENT_HOLD_H
#define TANDEM_AGENT_HOLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agentd/cluster_msg.h"
#include "agentd/sync.h"

/* the group version from which members hold and send FENCED */
#define TDM_HOLD_VERSION 5

/* why a member left (CPG's reasons, sorted) */
enum tdm_hold_why {
	TDM_HOLD_LEAVE = 0,    /* cpg_leave: clean, no fencing */
	TDM_HOLD_NODEDOWN = 1, /* its node left corosync's membership */
	TDM_HOLD_PROCDOWN = 2, /* its agent's process is gone */
};

struct tdm_hold_left {
	uint32_t nodeid;
	enum tdm_hold_why why;
};

/* a departed member waited for */
struct tdm_hold_dep {
	uint32_t nodeid;
	enum tdm_hold_why why;
	uint32_t conf;	     /* tag of the first configuration without it */
	uint64_t left_ms;    /* the daemon's clock when it saw it leave */
	int64_t left_wall;   /* wall clock (s) then, for the logs */
	int64_t joined_wall; /* wall clock (s) when this member saw it join */
	bool sent;	     /* this member multicast FENCED for it */
	uint64_t log_ms;     /* the daemon's: next "waiting" log line */
};

struct tdm_hold_known {
	uint32_t nodeid;
	int64_t joined_wall;
};

struct tdm_hold {
	struct tdm_hold_known known[TDM_SYNC_MEMBERS_MAX];
	size_t nknown;
	struct tdm_hold_dep dep[TDM_SYNC_MEMBERS_MAX];
	size_t ndep;
	uint64_t since_ms; /* when the current hold started */
	/* queued actions (data owned) */
	struct tdm_sync_act *q;
	size_t nq, capq;
	/* set by events, cleared by the daemon once reported */
	bool old_group; /* a shrink in a group below TDM_HOLD_VERSION */
};

void tdm_hold_init(struct tdm_hold *h);
void tdm_hold_free(struct tdm_hold *h);

/*
 * A configuration change: members (this member among them, else it left
 * the group: everything is dropped), those that left with their reasons,
 * those that joined. version: the group version of the last cut (0 when
 * this member had none: it just joined, it cannot know who was there);
 * conf: the new configuration's tag (sync.h); now_ms, wall: the daemon's
 * monotonic clock and the wall clock in seconds. Returns how many members
 * are newly waited for.
 */
size_t tdm_hold_confchg(struct tdm_hold *h, uint32_t self,
			const uint32_t *members, size_t n,
			const struct tdm_hold_left *left, size_t nleft,
			uint16_t version, uint32_t conf, uint64_t now_ms,
			int64_t wall);
/* The cut of a configuration: below TDM_HOLD_VERSION nobody is waited
 * for (tdm_hold_releasable() then says so). */
void tdm_hold_cut(struct tdm_hold *h, uint16_t version);
/* A delivered FENCED: true when it ended the wait for a member. */
bool tdm_hold_fenced(struct tdm_hold *h, const struct tdm_cmsg_fenced *f);

/* Some departed member is waited for. */
bool tdm_hold_active(const struct tdm_hold *h);
/* Nobody is waited for and actions are queued: carry them out (in
 * order, h->q[0..h->nq)), then tdm_hold_queue_clear(). */
bool tdm_hold_releasable(const struct tdm_hold *h);
/*
 * While holding, queue a copy of a (APPLY, STABLE, SNAPSHOT-GET,
 * SNAPSHOT-LOAD) and return 1; 0: carry it out now; -ENOMEM.
 */
int tdm_hold_take(struct tdm_hold *h, const struct tdm_sync_act *a);
void tdm_hold_queue_clear(struct tdm_hold *h);
/* The queued actions belong to a replaced history: dropped. */
void tdm_hold_drop_queue(struct tdm_hold *h);

/* The departed member waited for with this nodeid, or NULL. */
struct tdm_hold_dep *tdm_hold_find(struct tdm_hold *h, uint32_t nodeid);

#endif
