/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * admin.h - what the daemon and its control socket ask of the core:
 * apply a configuration, list sessions, read statistics.
 */
#ifndef TANDEM_ADMIN_H
#define TANDEM_ADMIN_H

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
};
int tdm_core_dev_stats(struct tdm_dev_stats **out, size_t *n);

#endif
