/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * alua.h - asymmetric logical unit access (SPC-4 5.15): target port
 * groups, device groups and their asymmetric access states, as a pure
 * state model.
 *
 * Nothing here does I/O, takes a lock or reads a clock: the model is
 * built from a configuration (struct tdm_conf) and changed by explicit
 * operations that return what changed, so that a cluster agent can order
 * the operations and replay them on every head with the same result.
 * scsi/alua_scsi.c wires the model into the SCSI core (access checks,
 * REPORT/SET TARGET PORT GROUPS, unit attentions).
 */
#ifndef TANDEM_ALUA_H
#define TANDEM_ALUA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tandem/config.h"

/* SPC-4 6.37, table 215: ASYMMETRIC ACCESS STATE */
enum tdm_alua_state {
	TDM_ALUA_AO = 0x0,	      /* active/optimized */
	TDM_ALUA_AN = 0x1,	      /* active/non-optimized */
	TDM_ALUA_STANDBY = 0x2,	      /* standby */
	TDM_ALUA_UNAVAILABLE = 0x3,   /* unavailable */
	TDM_ALUA_OFFLINE = 0xE,	      /* offline */
	TDM_ALUA_TRANSITIONING = 0xF, /* transitioning between states */
};

/* SPC-4 6.37, table 216: STATUS CODE of a target port group */
enum tdm_alua_status {
	TDM_ALUA_ST_NONE = 0x00,     /* no status available */
	TDM_ALUA_ST_SET_TPG = 0x01,  /* altered by SET TARGET PORT GROUPS */
	TDM_ALUA_ST_IMPLICIT = 0x02, /* altered by implicit behaviour */
};

/* The group id of a head's implicit group (nothing configured). */
#define TDM_ALUA_DEFAULT_GROUP_ID 1

struct tdm_alua_tpg {
	char name[64];
	uint16_t id;	     /* TARGET PORT GROUP, 1..65535 */
	bool preferred;	     /* PREF, as seen by initiators */
	bool conf_preferred; /* the preferred bit configured */
	uint8_t state;	     /* enum tdm_alua_state, as seen by initiators */
	uint8_t status;	     /* enum tdm_alua_status */
	uint8_t conf_state;  /* the state configured (see tdm_alua_build) */
	uint16_t *ports;     /* relative target port ids */
	size_t nports;
};

struct tdm_alua_dg {
	char name[64];
	bool implicit;	     /* the head's default group: implicit ALUA */
	char (*devices)[64]; /* empty for the implicit group: every device
			      * that no DEVICE_GROUP names */
	size_t ndevices;
	struct tdm_alua_tpg *tpgs;
	size_t ntpgs;
};

/* dgs[0] is always the implicit group of this head's ports. */
struct tdm_alua_model {
	struct tdm_alua_dg *dgs;
	size_t ndgs;
};

/* One (device group, target port group) whose state or preferred bit
 * changed. */
struct tdm_alua_change {
	size_t dg, tpg;
	uint8_t old_state, new_state;
	bool old_pref, new_pref;
};

/* One descriptor of SET TARGET PORT GROUPS (SPC-4 6.45, table 296). */
struct tdm_alua_req {
	uint16_t group_id;
	uint8_t state;
};

/* SCST's names: active, nonoptimized, standby, unavailable, offline,
 * transitioning. NULL for a state that has none. */
const char *tdm_alua_state_name(uint8_t state);
int tdm_alua_state_from_name(const char *name, uint8_t *state);
/* SPC-4 5.15.2.4: the states a target port group can be in here. */
bool tdm_alua_state_valid(uint8_t state);

/*
 * The relative target port id of every local target of c (configured, or
 * assigned as scsi/target.c does: the smallest free one, in order);
 * malloc'ed array of c->ntargets entries, NULL when out of memory.
 */
uint16_t *tdm_alua_local_rel_ids(const struct tdm_conf *c);

/*
 * Build the model of c. With prev (the model being replaced), a target
 * port group whose configured state did not change keeps the state (and
 * status) it reached through SET TARGET PORT GROUPS or an activation;
 * one whose configured state changed takes it, status "implicit". The
 * preferred bit likewise. c must have passed tdm_conf_validate(). 0 or
 * -ENOMEM.
 */
int tdm_alua_build(struct tdm_alua_model *m, const struct tdm_conf *c,
		   const struct tdm_alua_model *prev);
void tdm_alua_free(struct tdm_alua_model *m);

/* The device group of a device (the implicit one if none names it). */
const struct tdm_alua_dg *tdm_alua_dg_of(const struct tdm_alua_model *m,
					 const char *device);
/* The target port group of dg that holds rel_port, NULL if none. */
const struct tdm_alua_tpg *tdm_alua_tpg_of(const struct tdm_alua_dg *dg,
					   uint16_t rel_port);
/* Has device's view (its groups: ids, states, preferred, ports) changed
 * between two models? The core raises ASYMMETRIC ACCESS STATE CHANGED. */
bool tdm_alua_dev_changed(const struct tdm_alua_model *a,
			  const struct tdm_alua_model *b, const char *device);

/*
 * Set the state of target port group group_id of device group dg (NULL:
 * of every device group that has one with that id). *chg (malloc'ed,
 * *nchg entries; free it) lists the groups whose state changed: the
 * devices of those device groups get a unit attention. -ENOENT when no
 * group has that id, -EINVAL for a bad state, -ENOMEM.
 */
int tdm_alua_set_state(struct tdm_alua_model *m, const char *dg,
		       uint16_t group_id, uint8_t state, uint8_t status,
		       struct tdm_alua_change **chg, size_t *nchg);

/*
 * SET TARGET PORT GROUPS on device group dg: every descriptor is checked
 * first (a group of dg, a state SPC-4 5.15.2.5 allows to set: active/
 * optimized, active/non-optimized, standby, unavailable) and then all
 * are applied, status "altered by SET TARGET PORT GROUPS". On -EINVAL
 * *bad is the index of the first bad descriptor and *bad_state tells
 * whether its state (true) or its group (false) is wrong; nothing
 * changed. -ENOTSUP for the implicit group (no explicit ALUA).
 */
int tdm_alua_stpg(struct tdm_alua_model *m, size_t dg,
		  const struct tdm_alua_req *reqs, size_t n, size_t *bad,
		  bool *bad_state, struct tdm_alua_change **chg, size_t *nchg);

/*
 * The state target port group tpg of dg steps back to when another group
 * is made active (tdm_alua_activate): its configured state when that is
 * standby or active/non-optimized; for a group configured active, the
 * device group's non-active state: that of its first group configured
 * standby or active/non-optimized, else active/non-optimized. A group
 * configured unavailable, offline or transitioning keeps its state
 * (returned as is).
 */
uint8_t tdm_alua_unpromoted(const struct tdm_alua_dg *dg, size_t tpg);

/*
 * Make target port group group_id of device group dg the active one: it
 * becomes active/optimized with the preferred bit, every other group of
 * dg takes its unpromoted state (tdm_alua_unpromoted) without it; status
 * "implicit" (SPC-4 6.37, table 216: not an initiator's SET TARGET PORT
 * GROUPS) on every group that changed. *chg as tdm_alua_set_state;
 * -ENOTSUP for the implicit group, -ENOENT for no such group.
 */
int tdm_alua_activate(struct tdm_alua_model *m, size_t dg, uint16_t group_id,
		      struct tdm_alua_change **chg, size_t *nchg);

/*
 * Set target port group group_id of device group dg to state, and its
 * preferred bit to preferred (-1: kept): the transition of one group that
 * an administrator or a cluster manager asks for (tandemctl
 * -set_tgrp_state; the Pacemaker agent ra/alua promotes, demotes, starts
 * and stops its head's group with it). The other groups keep their state
 * and bit. Status "implicit" when the state changes. *chg as
 * tdm_alua_set_state; -ENOTSUP for the implicit group, -ENOENT for no
 * such group, -EINVAL for a state tdm_alua_state_valid() refuses.
 */
int tdm_alua_set_tgrp(struct tdm_alua_model *m, size_t dg, uint16_t group_id,
		      uint8_t state, int preferred,
		      struct tdm_alua_change **chg, size_t *nchg);

/* Set the preferred bit of group group_id of device group dg (the running
 * one: snapshots). As tdm_alua_set_state. */
int tdm_alua_set_preferred(struct tdm_alua_model *m, const char *dg,
			   uint16_t group_id, bool preferred,
			   struct tdm_alua_change **chg, size_t *nchg);

/* ---- cluster heads (protocol 5, docs/cluster.md) ---- */

/* Does every one of t's ports (at least one) appear in ports[0..n)? A
 * group is a head's when all its ports are that head's. */
bool tdm_alua_tpg_within(const struct tdm_alua_tpg *t, const uint16_t *ports,
			 size_t n);

/*
 * A head whose relative target ports are ports[0..n) left the cluster
 * (state unavailable, from any state: from < 0) or rejoined it
 * (transitioning, from TDM_ALUA_UNAVAILABLE: only its groups that are
 * unavailable, as its departure left them; a head's first join changes
 * nothing): every target port group of a configured device group that is
 * that head's (tdm_alua_tpg_within) and in state from takes state,
 * without the preferred bit, status "implicit" where the state changes.
 * *chg as tdm_alua_set_state (may be empty). -EINVAL for a bad state,
 * -ENOMEM.
 */
int tdm_alua_set_head(struct tdm_alua_model *m, const uint16_t *ports, size_t n,
		      uint8_t state, int from, struct tdm_alua_change **chg,
		      size_t *nchg);

/* One group's new state and preferred bit (a rejoined head's, ORDER kind
 * 9). */
struct tdm_alua_tgrp_set {
	char dg[64];
	uint16_t group_id;
	uint8_t state;
	bool preferred;
};

/*
 * Apply v[0..n): each named group of a configured device group takes its
 * state and preferred bit, status "implicit" where the state changes;
 * groups this model does not have are skipped (*skipped counts them).
 * *chg as tdm_alua_set_state. -EINVAL (nothing changed) for a state
 * tdm_alua_state_valid() refuses, -ENOMEM.
 */
int tdm_alua_set_tgrps(struct tdm_alua_model *m,
		       const struct tdm_alua_tgrp_set *v, size_t n,
		       size_t *skipped, struct tdm_alua_change **chg,
		       size_t *nchg);

/* What differs (state, preferred) between the groups of two models, by
 * device group name and group id; indexes into b. */
int tdm_alua_diff(const struct tdm_alua_model *a,
		  const struct tdm_alua_model *b, struct tdm_alua_change **chg,
		  size_t *nchg);

/* ---- the configuration (DEVICE_GROUP blocks of struct tdm_conf) ---- */

/* Cross references: unknown device, device in two device groups,
 * duplicate group_id / names, a local TARGET whose rel_tgt_id disagrees,
 * a remote TARGET without rel_tgt_id, a port in two groups. Messages are
 * "name:line: problem". */
int tdm_alua_conf_validate(const struct tdm_conf *c, const char *name,
			   char *err, size_t errlen);
int tdm_alua_conf_dup(struct tdm_conf_dgrp **dst, size_t *ndst,
		      const struct tdm_conf_dgrp *src, size_t n);
void tdm_alua_conf_free(struct tdm_conf_dgrp *d, size_t n);
bool tdm_alua_conf_equal(const struct tdm_conf_dgrp *a,
			 const struct tdm_conf_dgrp *b, size_t n);

#endif
