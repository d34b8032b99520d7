/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cluster_conf.h - edits of the shared configuration in cluster mode
 * (targetd/cluster_conf.c): ordered through the agent, applied on every
 * head, counted by the cluster configuration epoch.
 */
#ifndef TANDEM_TARGETD_CLUSTER_CONF_H
#define TANDEM_TARGETD_CLUSTER_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Cluster mode: read the epoch and the edit log kept with the
 * configuration file and register the daemon's part of the cluster's
 * events and snapshots (main loop, before it serves). */
void tdm_cconf_start(const char *config_path);
bool tdm_cconf_on(void);
uint64_t tdm_cconf_epoch(void);
/* The epoch written at the top of a configuration file ("# tandem
 * cluster_conf_epoch N"), 0 when none. */
uint64_t tdm_cconf_file_epoch(const char *text, size_t len);

/* status 0 or -errno; msg: what the edit said (status < 0) */
typedef void (*tdm_cconf_done_fn)(void *arg, int status, uint64_t epoch,
				  const char *msg);
struct tdm_cconf_wait;

/*
 * Order one edit (conf_edit_ops.h's encoding, from tandemctl). 0: cb
 * will be called once (unless cancelled) when every head applied it;
 * -errno with a message: refused now (malformed, node-local, fails on
 * this head's configuration, fenced: -EAGAIN).
 */
int tdm_cconf_submit(const uint8_t *p, size_t len, const char *who,
		     tdm_cconf_done_fn cb, void *arg,
		     struct tdm_cconf_wait **wp, char *err, size_t errlen);
/* The client went away: cb will not be called. */
void tdm_cconf_cancel(struct tdm_cconf_wait *w);

#endif
