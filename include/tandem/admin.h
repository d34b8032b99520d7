/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * admin.h - what the daemon and its control socket ask of the core:
 * apply a configuration, list sessions, read statistics, show and move
 * the ALUA states.
 */
#ifndef TANDEM_ADMIN_H
#define TANDEM_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tandem/config.h"

/*
 * Make c the running configuration: open new devices (all checks happen
 * here, before anything changes), build targets and LUN maps, swap them
 * in, raise REPORTED LUNS DATA HAS CHANGED / CAPACITY / INQUIRY CHANGED
 * unit attentions where a nexus' view changed, close sessions of removed
 * or disabled targets, close removed devices once idle. Either all of c is
 * applied or nothing is (returns -errno and a message in err).
 * Runs on the main thread.
 */
int tdm_core_apply(const struct tdm_conf *c, char *err, size_t errlen);
/* Increases by one at each successful tdm_core_apply(). */
uint64_t tdm_core_epoch(void);
/* Drop everything (shutdown), after transports stopped. */
void tdm_core_shutdown(void);

struct tdm_session_info {
	uint64_t id; /* stable for the session's life */
	char initiator[224];
	char port[244]; /* the initiator port (struct tdm_nexus_id) */
	char target[224];
	uint16_t rel_port; /* relative target port id */
	char group[64];
	char transport[16];
	char detail[256]; /* transport's description (connections) */
	uint32_t nluns;
	int32_t inflight;
};
/* Snapshot of the sessions; *out is malloc'ed. */
int tdm_core_sessions(struct tdm_session_info **out, size_t *n);
/* Ask the transport to close session id; -ENOENT if none. */
int tdm_core_close_session(uint64_t id);

struct tdm_dev_stats {
	char name[64];
	char handler[24];
	uint64_t size;
	uint32_t block_size;
	uint64_t read_cmds, write_cmds, other_cmds;
	uint64_t read_bytes, write_bytes;
	uint64_t errors, aborts;
	int32_t inflight;
	/* the backing here: "open", or with deferred_open "detaching" /
	 * "detached" (scsi/backing.c) */
	char backing[12];
};
int tdm_core_dev_stats(struct tdm_dev_stats **out, size_t *n);
/* deferred_open (tandem.conf(5)): open the backing of every device this
 * head serves and close the others', as after an ALUA change; an open
 * that failed (DRBD still Secondary when the group was made active) is
 * tried again. The daemon calls it every second; nothing to do without
 * such devices. */
void tdm_core_backing_retry(void);

/* A target port group of a DEVICE_GROUP as initiators see it now (after
 * SET TARGET PORT GROUPS, activations, the cluster), beside its
 * configuration. */
struct tdm_tgrp_state {
	char dg[64];
	char tg[64];
	uint16_t group_id;
	uint8_t state, status; /* alua/alua.h enum tdm_alua_state, _status */
	bool preferred;
	uint8_t conf_state;
	bool conf_preferred;
};
/* Every target port group of every DEVICE_GROUP, in configuration order;
 * *out malloc'ed (NULL and 0 when out of memory or none). */
size_t tdm_core_alua_states(struct tdm_tgrp_state **out);

#ifndef TDM_CLUSTER_DONE_FN
#define TDM_CLUSTER_DONE_FN
typedef void (*tdm_cluster_done_fn)(void *arg, int status);
#endif
/*
 * Make target group tg of DEVICE_GROUP dg the active one (alua/alua.h
 * tdm_alua_activate: active/optimized with the preferred bit, the others
 * back to their unpromoted state), raising ASYMMETRIC ACCESS STATE CHANGED
 * on every I_T nexus of its devices; who (the administrator) is logged
 * with every transition. One head: applied at once, returns 0. Cluster
 * mode: ordered once through the agent and applied by every head at the
 * same point of the order; returns 1 and done(arg, 0 or -errno) follows
 * once every head applied it. Errors now: -ENOENT (no such group, message
 * in err), -EAGAIN (fenced), -EPROTONOSUPPORT (a head of the cluster runs
 * a protocol older than 3), -ENOMEM.
 */
int tdm_core_alua_activate(const char *dg, const char *tg, const char *who,
			   tdm_cluster_done_fn done, void *arg, char *err,
			   size_t errlen);
/*
 * Set target group tg of DEVICE_GROUP dg to state (alua/alua.h enum
 * tdm_alua_state) and its preferred bit to preferred (0, 1; -1 keeps it),
 * leaving the other groups as they are (alua/alua.h tdm_alua_set_tgrp): a
 * transition, not a configuration edit. ASYMMETRIC ACCESS STATE CHANGED
 * on every I_T nexus of the devices when something changed; who is logged.
 * One head: applied at once, returns 0. Cluster mode: ordered once through
 * the agent, applied by every head at the same point of the order;
 * returns 1 and done(arg, 0 or -errno) follows once every head applied
 * it. Errors now: -EINVAL (a bad state), -ENOENT (no such group, message
 * in err), -EAGAIN (fenced), -EPROTONOSUPPORT (a head of the cluster runs
 * a protocol older than 4), -ENOMEM.
 */
int tdm_core_alua_set_tgrp(const char *dg, const char *tg, uint8_t state,
			   int preferred, const char *who,
			   tdm_cluster_done_fn done, void *arg, char *err,
			   size_t errlen);

#endif
