/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * conf_edit_log.h - the cluster configuration epoch and the log of
 * ordered configuration edits (tandemd in cluster mode,
 * targetd/cluster_conf.c): the daemon's part of a cluster snapshot and
 * the file tandemd keeps next to its configuration (<config>.edits).
 *
 * Encoding, version 1 (lib/codec.h: integers, bytes, strings):
 *   bytes magic "TDMC", u16 version, u64 epoch, u32 n,
 *   n x (u64 epoch of the edit, bytes edit in conf_edit_ops.h's encoding)
 * The entries' epochs are consecutive and the last one is the epoch; at
 * most TDM_EDIT_LOG_MAX entries and TDM_EDIT_LOG_BYTES bytes of edits
 * (the oldest are dropped beyond; a head further behind than the log
 * reaches cannot catch up from it).
 */
#ifndef TANDEM_CTL_CONF_EDIT_LOG_H
#define TANDEM_CTL_CONF_EDIT_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "lib/codec.h"

#define TDM_EDIT_LOG_VERSION 1
#define TDM_EDIT_LOG_MAX 10000u
#define TDM_EDIT_LOG_BYTES (16u << 20)

struct tdm_edit_log_entry {
	uint64_t epoch;
	uint8_t *p;
	size_t len;
};

struct tdm_edit_log {
	uint64_t epoch; /* ordered edits delivered since the cluster began */
	struct tdm_edit_log_entry *v;
	size_t n, cap, bytes;
};

/* Count one more ordered edit (epoch + 1) and keep it; the oldest go
 * beyond the limits. 0 or -ENOMEM (the epoch still counts). */
int tdm_edit_log_append(struct tdm_edit_log *l, const uint8_t *p, size_t len);
/* Keep the entries up to epoch only (what a configuration file holds). */
void tdm_edit_log_truncate(struct tdm_edit_log *l, uint64_t epoch);
void tdm_edit_log_free(struct tdm_edit_log *l);
/* Append the encoding to w (w->oom on failure). */
void tdm_edit_log_put(const struct tdm_edit_log *l, struct tdm_wbuf *w);
/* Check a whole encoding (every length, the version, the epochs, every
 * edit decodes) and, with out, build it. 0 or -EBADMSG / -EPROTO /
 * -ENOMEM with a message; out is empty on error. */
int tdm_edit_log_decode(const uint8_t *p, size_t len, struct tdm_edit_log *out,
			char *err, size_t errlen);
/* Can a head at epoch have catch up from l (have < l->epoch needs the
 * entries from have + 1)? 0 or -ESTALE with a message. */
int tdm_edit_log_reaches(const struct tdm_edit_log *l, uint64_t have, char *err,
			 size_t errlen);

#endif
