/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * io_stats.c - the I/O counters of the metrics endpoint, per LU and per
 * relative target port (include/tandem/metrics.h).
 *
 * Each counter set has TDM__IOST_SHARDS shards, each its own cache lines;
 * a thread picks its shard once (round robin over the threads that count)
 * and adds to it with relaxed atomics: with at most as many counting
 * threads as shards (the event loops, one per CPU, and the main loop),
 * no two threads write the same line, so counting costs an uncontended
 * add and takes no lock. More threads than shards share shards: still
 * exact (atomic adds), only slower. Readers (the main loop) sum shards.
 *
 * A port's counters live in port_tab[rel_port], made once and kept for
 * the daemon's life (a port that comes back after a reload keeps
 * counting from where it was); a nexus points at its port's set (set
 * under the registry write lock with its rel_port, read atomically by
 * the command's loop). An LU's counters are the LU's own (lu->iost) and
 * restart when the device is reopened. A command keeps the port set it
 * was submitted on (cmd->port_iost) until it completes, so a reload that
 * gives a live nexus' target another rel_tgt_id moves only the nexus'
 * next commands to the new port's counters.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scsi/scsi_int.h"
#include "pr-sync/pr.h"
#include "tandem/metrics.h"
#include "lib/loop.h"

/* SPC-4 4.5.6, table 48: sense keys */
static const char *const key_names[16] = {
	"no_sense",	   "recovered_error", "not_ready",
	"medium_error",	   "hardware_error",  "illegal_request",
	"unit_attention",  "data_protect",    "blank_check",
	"vendor_specific", "copy_aborted",    "aborted_command",
	"reserved_0c",	   "volume_overflow", "miscompare",
	"completed",
};

static const char *const status_names[TDM_IOS_COUNT] = {
	[TDM_IOS_BUSY] = "busy",
	[TDM_IOS_RESERVATION_CONFLICT] = "reservation_conflict",
	[TDM_IOS_TASK_SET_FULL] = "task_set_full",
	[TDM_IOS_TASK_ABORTED] = "task_aborted",
	[TDM_IOS_ABORTED] = "aborted",
	[TDM_IOS_OTHER] = "other",
};

/* 50 us .. 10 s: a RAM LU answers in tens of microseconds, a cluster's
 * ordered PR OUT in milliseconds, a failover pause in seconds */
const uint64_t tdm_lat_bounds_ns[TDM_LAT_BOUNDS] = {
	50000,	   100000,     250000,	   500000,     1000000,	    2500000,
	5000000,   10000000,   25000000,   50000000,   100000000,   250000000,
	500000000, 1000000000, 2500000000, 5000000000, 10000000000,
};

const char *tdm_sense_key_name(unsigned key)
{
	return key < 16 ? key_names[key] : "?";
}

const char *tdm_io_status_name(enum tdm_io_status s)
{
	return (unsigned)s < TDM_IOS_COUNT ? status_names[s] : "?";
}

/* counter indexes in a shard */
enum {
	C_CMDS = 0,
	C_BYTES = C_CMDS + TDM_IO_KINDS,
	C_LAT = C_BYTES + 2,
	C_LAT_SUM = C_LAT + TDM_IO_KINDS * (TDM_LAT_BOUNDS + 1),
	C_SENSE = C_LAT_SUM + TDM_IO_KINDS,
	C_STATUS = C_SENSE + 16,
	C_SUBMITTED = C_STATUS + TDM_IOS_COUNT,
	C_COMPLETED,
	C_COUNT
};

#define TDM__IOST_SHARDS 16
/* a whole number of 64-byte lines per shard */
#define SHARD_WORDS ((C_COUNT + 7) / 8 * 8)

struct tdm__iostats {
	atomic_uint_fast64_t c[TDM__IOST_SHARDS][SHARD_WORDS];
};

static atomic_uint next_shard;
static _Thread_local int my_shard = -1;

static atomic_uint_fast64_t *shard(struct tdm__iostats *st)
{
	if (my_shard < 0)
		my_shard = (int)(atomic_fetch_add_explicit(
					 &next_shard, 1, memory_order_relaxed) %
				 TDM__IOST_SHARDS);
	return st->c[my_shard];
}

static void add(atomic_uint_fast64_t *c, unsigned idx, uint64_t v)
{
	atomic_fetch_add_explicit(&c[idx], v, memory_order_relaxed);
}

struct tdm__iostats *tdm__iostats_new(void)
{
	struct tdm__iostats *st;

	/* 64-byte aligned: the shards do not share lines */
	st = aligned_alloc(64, sizeof(*st));
	if (st)
		memset(st, 0, sizeof(*st));
	return st;
}

void tdm__iostats_free(struct tdm__iostats *st)
{
	free(st);
}

/* ---- ports: made once, never freed ---- */

static _Atomic(struct tdm__iostats *) port_tab[65536];

struct tdm__iostats *tdm__iostats_port(uint16_t rel_port)
{
	struct tdm__iostats *st = atomic_load(&port_tab[rel_port]), *old;

	if (st)
		return st;
	st = tdm__iostats_new();
	if (!st)
		return NULL;
	old = NULL;
	if (!atomic_compare_exchange_strong(&port_tab[rel_port], &old, st)) {
		tdm__iostats_free(st);
		return old;
	}
	return st;
}

/* ---- the I/O path ---- */

static void count_submit(struct tdm__iostats *st)
{
	if (st)
		add(shard(st), C_SUBMITTED, 1);
}

void tdm__iostats_submit(struct tdm_cmd *cmd)
{
	cmd->start_ns = tdm_now_ns();
	cmd->port_iost =
		atomic_load_explicit(&cmd->nexus->iost, memory_order_acquire);
	count_submit(cmd->port_iost);
	/* the LU's set is counted once the LUN resolved (gate) */
}

void tdm__iostats_lu_resolved(struct tdm_cmd *cmd)
{
	if (cmd->lu)
		count_submit(cmd->lu->iost);
}

static unsigned kind_of(const struct tdm_cmd *cmd)
{
	if (!cmd->op || !(cmd->op->flags & TDM_OP_MEDIA) || !cmd->nblocks)
		return TDM_IO_OTHER;
	return cmd->dir == TDM_DIR_WRITE ? TDM_IO_WRITE : TDM_IO_READ;
}

static unsigned bucket_of(uint64_t ns)
{
	unsigned i = 0;

	while (i < TDM_LAT_BOUNDS && ns > tdm_lat_bounds_ns[i])
		i++;
	return i;
}

static void count_done(struct tdm__iostats *st, unsigned kind, uint64_t bytes,
		       uint64_t ns, int key, int status)
{
	atomic_uint_fast64_t *c;

	if (!st)
		return;
	c = shard(st);
	add(c, C_CMDS + kind, 1);
	if (bytes && kind != TDM_IO_OTHER)
		add(c, C_BYTES + kind, bytes);
	add(c, C_LAT + kind * (TDM_LAT_BOUNDS + 1) + bucket_of(ns), 1);
	add(c, C_LAT_SUM + kind, ns);
	if (key >= 0)
		add(c, C_SENSE + (unsigned)key, 1);
	else if (status >= 0)
		add(c, C_STATUS + (unsigned)status, 1);
	add(c, C_COMPLETED, 1);
}

void tdm__iostats_done(struct tdm_cmd *cmd, bool silent_abort)
{
	unsigned kind = kind_of(cmd);
	uint64_t ns = tdm_now_ns() - cmd->start_ns, bytes = 0;
	int key = -1, status = -1;

	if (silent_abort) {
		status = TDM_IOS_ABORTED;
	} else if (cmd->status == TDM_STATUS_GOOD) {
		if (kind == TDM_IO_READ)
			bytes = (uint64_t)cmd->nblocks << cmd->lu->block_shift;
		else if (kind == TDM_IO_WRITE)
			bytes = cmd->data_len;
	} else if (cmd->status == TDM_STATUS_CHECK_CONDITION) {
		/* SPC-4 4.5.2: fixed (70h/71h) or descriptor (72h/73h) */
		if (cmd->sense_len >= 3 && (cmd->sense[0] & 0x7e) == 0x70)
			key = cmd->sense[2] & 0xf;
		else if (cmd->sense_len >= 2 && (cmd->sense[0] & 0x7e) == 0x72)
			key = cmd->sense[1] & 0xf;
		else
			status = TDM_IOS_OTHER;
	} else {
		switch (cmd->status) {
		case TDM_STATUS_BUSY:
			status = TDM_IOS_BUSY;
			break;
		case TDM_STATUS_RESERVATION_CONFLICT:
			status = TDM_IOS_RESERVATION_CONFLICT;
			break;
		case TDM_STATUS_TASK_SET_FULL:
			status = TDM_IOS_TASK_SET_FULL;
			break;
		case TDM_STATUS_TASK_ABORTED:
			status = TDM_IOS_TASK_ABORTED;
			break;
		default:
			status = TDM_IOS_OTHER;
		}
	}
	if (cmd->lu)
		count_done(cmd->lu->iost, kind, bytes, ns, key, status);
	count_done(cmd->port_iost, kind, bytes, ns, key, status);
}

/* ---- snapshots (the main loop) ---- */

static void snapshot(struct tdm__iostats *st, struct tdm_io_snapshot *s)
{
	uint64_t sum[C_COUNT] = {0};
	unsigned i, k, b;

	memset(s, 0, sizeof(*s));
	if (!st)
		return;
	for (i = 0; i < TDM__IOST_SHARDS; i++)
		for (k = 0; k < C_COUNT; k++)
			sum[k] += atomic_load_explicit(&st->c[i][k],
						       memory_order_relaxed);
	for (k = 0; k < TDM_IO_KINDS; k++) {
		s->cmds[k] = sum[C_CMDS + k];
		s->lat_sum_ns[k] = sum[C_LAT_SUM + k];
		for (b = 0; b <= TDM_LAT_BOUNDS; b++)
			s->lat[k][b] =
				sum[C_LAT + k * (TDM_LAT_BOUNDS + 1) + b];
	}
	s->bytes[TDM_IO_READ] = sum[C_BYTES + TDM_IO_READ];
	s->bytes[TDM_IO_WRITE] = sum[C_BYTES + TDM_IO_WRITE];
	for (k = 0; k < 16; k++)
		s->sense[k] = sum[C_SENSE + k];
	for (k = 0; k < TDM_IOS_COUNT; k++)
		s->status[k] = sum[C_STATUS + k];
	s->submitted = sum[C_SUBMITTED];
	s->inflight = (int64_t)(sum[C_SUBMITTED] - sum[C_COMPLETED]);
	if (s->inflight < 0) /* a completion summed, its submit not yet */
		s->inflight = 0;
}

int tdm_core_lu_metrics(struct tdm_lu_metrics **out, size_t *n)
{
	struct tdm_lu **lus = NULL;
	struct tdm_lu_metrics *v;
	size_t i, nlus = 0;
	int r = tdm__registry_lus(&lus, &nlus);

	*out = NULL;
	*n = 0;
	if (r < 0)
		return r;
	v = calloc(nlus ? nlus : 1, sizeof(*v));
	if (!v) {
		for (i = 0; i < nlus; i++)
			tdm__lu_put(lus[i]);
		free(lus);
		return -ENOMEM;
	}
	for (i = 0; i < nlus; i++) {
		struct tdm_lu *lu = lus[i];
		struct tdm_lu_metrics *m = &v[i];

		snprintf(m->name, sizeof(m->name), "%s", lu->name);
		snprintf(m->handler, sizeof(m->handler), "%s",
			 tdm_handler_name(lu->conf.handler));
		m->size = lu->nblocks << lu->block_shift;
		m->block_size = lu->block_size;
		tdm_mutex_lock(&lu->lock);
		if (lu->pr) {
			m->pr_generation = lu->pr->generation;
			m->pr_reserved = lu->pr->reserved;
			m->pr_registrations = (uint32_t)lu->pr->nregs;
		}
		tdm_mutex_unlock(&lu->lock);
		snapshot(lu->iost, &m->io);
		tdm__lu_put(lu);
	}
	free(lus);
	*out = v;
	*n = nlus;
	return 0;
}

int tdm_core_port_metrics(struct tdm_port_metrics **out, size_t *n)
{
	struct tdm_port_metrics *v;
	uint16_t *ports = NULL;
	char(*names)[224] = NULL;
	size_t i, np = 0;
	int r = tdm__registry_ports(&ports, &names, &np);

	*out = NULL;
	*n = 0;
	if (r < 0)
		return r;
	v = calloc(np ? np : 1, sizeof(*v));
	if (!v) {
		free(ports);
		free(names);
		return -ENOMEM;
	}
	for (i = 0; i < np; i++) {
		v[i].rel_port = ports[i];
		snprintf(v[i].target, sizeof(v[i].target), "%s", names[i]);
		snapshot(atomic_load(&port_tab[ports[i]]), &v[i].io);
	}
	free(ports);
	free(names);
	*out = v;
	*n = np;
	return 0;
}
