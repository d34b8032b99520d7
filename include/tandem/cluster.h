/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cluster.h - what tandemd's agent link (targetd/agent.c) needs from the
 * core in cluster mode (scsi/cluster.c), and the operations it orders.
 * The link's messages are in agentd/agent_msg.h.
 *
 * Threading: tdm_cluster_start() before the loops serve; the link ops
 * may be called from any loop thread; everything else here runs on the
 * main loop, in the order the agent's messages arrive.
 */
#ifndef TANDEM_CLUSTER_H
#define TANDEM_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/codec.h"

/* A PERSISTENT RESERVE OUT to order: the device, the CDB and parameter
 * list, the initiator port's TransportID and the receiving target
 * port's relative id (the agent link carries it as PR-OUT/PR-APPLY). */
struct tdm_cluster_pr {
	char device[64];
	const uint8_t *cdb; /* point into the frame (reading) */
	size_t cdb_len;
	const uint8_t *param;
	size_t param_len;
	const uint8_t *tid;
	size_t tid_len;
	uint16_t rel_port;
};

#define TDM_CLUSTER_ALUA_MAX 1024u

/* A SET TARGET PORT GROUPS (or tandemctl's ALUA change) to order. */
struct tdm_cluster_alua {
	char device[64];
	size_t n;
	struct {
		uint16_t group_id;
		uint8_t state;
	} set[TDM_CLUSTER_ALUA_MAX];
};

struct tdm_cluster_link_ops {
	/* Queue a message for the agent; never blocks. 0, or -ENOTCONN
	 * (no agent) / -ENOMEM: the command is then failed at once. */
	int (*send_pr)(uint64_t req, const struct tdm_cluster_pr *pr);
	int (*send_alua)(uint64_t req, const struct tdm_cluster_alua *a);
	int (*send_order)(uint64_t req, uint8_t kind, const void *payload,
			  size_t len);
};

/* Cluster mode on: fenced (not serving) until the agent says serving. */
void tdm_cluster_start(const struct tdm_cluster_link_ops *ops);
void tdm_cluster_set_serving(bool serving);
/* Link version 2: a command of this head completes on STABLE (every head
 * applied it), not when this head applied it. */
void tdm_cluster_set_wait_stable(bool wait);
/* The protocol version the agents' group runs at (the agent's STATUS):
 * what the core may order and write in snapshots (main loop). */
void tdm_cluster_set_group_version(uint16_t version);

/* An operation delivered in agreed order; mine: it came from this head
 * with this req (the command waiting for it completes). */
void tdm_cluster_pr_apply(bool mine, uint64_t req,
			  const struct tdm_cluster_pr *pr);
void tdm_cluster_alua_apply(bool mine, uint64_t req,
			    const struct tdm_cluster_alua *a);
/* The agent did not order req / the link is gone: fail it (them) with
 * a sense the initiator retries. */
void tdm_cluster_ordered(bool mine, uint64_t req, uint8_t kind,
			 const uint8_t *payload, size_t len);
void tdm_cluster_stable(uint64_t req);
void tdm_cluster_reject(uint64_t req);
/* The link is gone: commands not yet applied fail (retried), applied
 * ones complete with their result. */
void tdm_cluster_reject_all(void);

/*
 * The daemon's own ordered events (kinds from TDM_CLUSTER_KIND_DAEMON up;
 * lower kinds are the core's) and its part of the snapshots. All run on
 * the main loop, in the order of the agent's messages.
 */
#define TDM_CLUSTER_KIND_DAEMON 16

struct tdm_cluster_ext {
	/* apply an event; mine: this head sent it. Returns the status
	 * given to the sender's done callback (0 or -errno). */
	int (*apply)(uint8_t kind, const uint8_t *payload, size_t len,
		     bool mine);
	/* append the daemon's part of a snapshot to w (0 or -errno) */
	int (*snapshot)(struct tdm_wbuf *w);
	/* check a snapshot's part without applying it, then apply it */
	int (*check)(const uint8_t *p, size_t len, char *err, size_t errlen);
	int (*load)(const uint8_t *p, size_t len, char *err, size_t errlen);
};

void tdm_cluster_set_ext(const struct tdm_cluster_ext *ext);

/* done(arg, status) of an event this head ordered: 0 or -errno from
 * apply on this head once every head applied it; -EAGAIN when it was not
 * ordered (fenced, no agent, the link lost before it came back). */
#ifndef TDM_CLUSTER_DONE_FN
#define TDM_CLUSTER_DONE_FN
typedef void (*tdm_cluster_done_fn)(void *arg, int status);
#endif
/* Order a daemon event (main loop only). 0, or -ENOTSUP (not in cluster
 * mode), -EAGAIN (fenced), -EPROTONOSUPPORT (the agent is too old),
 * -ENOTCONN / -ENOMEM: done will not be called. */
int tdm_cluster_order_raw(uint8_t kind, const void *payload, size_t len,
			  tdm_cluster_done_fn done, void *arg);

/* Heads of the cluster (protocol 5; docs/cluster.md "Departed heads").
 * This head's relative target ports (for HELLO / PORTS), at most max. */
size_t tdm_cluster_local_ports(uint16_t *out, size_t max);
/* HEADS: the head nodeid with those ports left (its target port groups
 * become unavailable) or joined (transitioning). */
void tdm_cluster_head(uint32_t nodeid, bool joined, const uint16_t *ports,
		      size_t n);
/* The agent's STATUS while serving (became_serving: it was not): once
 * synchronised, order this head's transitioning groups out of it (ORDER
 * kind 9), to their configured states or to the state of
 * tdm_cluster_set_rejoin_state (tandemd --rejoin-state). */
void tdm_cluster_rejoin(bool became_serving);
/* The state a rejoined head's groups leave transitioning to, by name
 * (active, nonoptimized, standby, unavailable, offline; NULL: each
 * group's configured state). 0, or -EINVAL for any other name. */
int tdm_cluster_set_rejoin_state(const char *name);

/* Every LU's PR state and the explicit ALUA states, appended to w; and
 * loaded back (0, or -errno with a message). */
int tdm_cluster_snapshot(struct tdm_wbuf *w);
int tdm_cluster_load(const uint8_t *p, size_t n, char *err, size_t errlen);

#endif
