/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * metrics.h - the core's I/O counters, per logical unit and per relative
 * target port, as the daemon's metrics endpoint (targetd/metrics.c) and
 * status page read them (scsi/io_stats.c counts them).
 *
 * Counting: every command is counted once, when its status is handed to
 * the transport, on the thread that completes it, into that thread's own
 * shard of the counters (relaxed atomic adds on cache lines no other
 * event loop writes while there are no more loops than shards): no lock
 * on the I/O path. A snapshot sums the shards; it is not atomic across
 * counters (a command completing meanwhile may show in one and not yet
 * in another), each counter alone never goes back.
 */
#ifndef TANDEM_METRICS_H
#define TANDEM_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Kinds of command: medium reads, medium writes, everything else. */
enum tdm_io_kind { TDM_IO_READ, TDM_IO_WRITE, TDM_IO_OTHER, TDM_IO_KINDS };

/* Latency histogram: upper bounds in nanoseconds (le), +Inf after. */
#define TDM_LAT_BOUNDS 17
extern const uint64_t tdm_lat_bounds_ns[TDM_LAT_BOUNDS];

/* A status other than GOOD without sense data (SAM-5 5.3.1). */
enum tdm_io_status {
	TDM_IOS_BUSY,
	TDM_IOS_RESERVATION_CONFLICT,
	TDM_IOS_TASK_SET_FULL,
	TDM_IOS_TASK_ABORTED, /* TAS: reported */
	TDM_IOS_ABORTED,      /* aborted by a TMF without a status */
	TDM_IOS_OTHER,
	TDM_IOS_COUNT
};
const char *tdm_io_status_name(enum tdm_io_status s);
/* SPC-4 4.5.6 table 48: the sense key's name in lower case with _
 * ("illegal_request"); key 0..15. */
const char *tdm_sense_key_name(unsigned key);

struct tdm_io_snapshot {
	uint64_t cmds[TDM_IO_KINDS]; /* completed commands */
	uint64_t bytes[2];	     /* [TDM_IO_READ], [TDM_IO_WRITE]: moved
				      * by commands that ended GOOD */
	uint64_t lat[TDM_IO_KINDS][TDM_LAT_BOUNDS + 1]; /* per bucket, not
							 * cumulative */
	uint64_t lat_sum_ns[TDM_IO_KINDS];
	uint64_t sense[16];		/* CHECK CONDITION by sense key */
	uint64_t status[TDM_IOS_COUNT]; /* other ends that are not GOOD */
	uint64_t submitted;
	int64_t inflight; /* submitted and not completed */
};

struct tdm_lu_metrics {
	char name[64];
	char handler[24];
	uint64_t size; /* bytes */
	uint32_t block_size;
	uint32_t pr_generation; /* SPC-4 PRGENERATION */
	bool pr_reserved;	/* a persistent reservation holds it */
	uint32_t pr_registrations;
	struct tdm_io_snapshot io;
};

struct tdm_port_metrics {
	uint16_t rel_port; /* relative target port id */
	char target[224];
	struct tdm_io_snapshot io;
};

/* The LUs of the running configuration (*out malloc'ed). 0 or -ENOMEM. */
int tdm_core_lu_metrics(struct tdm_lu_metrics **out, size_t *n);
/* This head's target ports (*out malloc'ed). 0 or -ENOMEM. */
int tdm_core_port_metrics(struct tdm_port_metrics **out, size_t *n);

/* Cluster mode (scsi/cluster.c): operations this head sent to be ordered
 * whose result has not come back yet; fenced: not serving. */
size_t tdm_cluster_pending_count(void);
bool tdm_cluster_is_fenced(void);
bool tdm_cluster_is_on(void);

#endif
