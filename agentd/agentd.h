/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * agentd.h - tandem-agentd's state and the calls between its files
 * (private to agentd/): agentd.c (options, signals, the poll loop, the
 * sync module's decisions carried out), tandemd_link.c (the link to
 * tandemd: its socket, HELLO/WELCOME, STATUS, the operations tandemd
 * sends), corosync.c (CPG and votequorum: joining and leaving the group,
 * multicasting, delivery, membership and quorum), fencing.c (--fencing,
 * the hold of hold.c fed and carried out, FENCED).
 *
 * One thread: everything runs on agentd.c's poll loop, so the state has
 * no lock.
 */
#ifndef TANDEM_AGENTD_H
#define TANDEM_AGENTD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <corosync/cpg.h>
#include <corosync/votequorum.h>

#include "agentd/agent_msg.h"
#include "agentd/cluster_msg.h"
#include "agentd/hold.h"
#include "agentd/sync.h"

#define LINK_RETRY_MS 500
#define COROSYNC_RETRY_MS 1000
#define LINK_OUT_MAX (256u << 20) /* tandemd not reading: drop the link */
#define SNAP_REQS 8

/* --fencing (fencing.c) */
enum { AG_FENCING_PACEMAKER, AG_FENCING_SELF, AG_FENCING_NONE };
/* --self-fence-ms default: tandemd's default --agent-timeout (1500 ms,
 * the longest a cut-off head's tandemd keeps acknowledging writes after
 * its agent stopped talking), plus 1500 ms by which the minority may see
 * the partition later than the majority (a corosync token of up to
 * 1500 ms), plus 1000 ms of margin */
#define AG_SELF_FENCE_MS 4000u

/* cluster messages waiting for cpg_mcast_joined (flow control) */
struct mq {
	struct mq *next;
	size_t len;
	uint8_t data[];
};

/* this head's operations multicast and not yet applied */
struct pending {
	uint64_t req;
	uint8_t what; /* 1 PR-OUT, 2 ALUA-SET, 3 ORDER */
};

struct agentd {
	/* options */
	const char *sock_path;
	const char *group_name;
	uint16_t proto_max;
	bool stopping;
	int exit_code;

	/* fencing-safe takeover (fencing.c, hold.c) */
	int fencing;
	bool allow_two_heads, two_heads_warned, old_group_logged;
	uint32_t self_fence_ms;
	struct tdm_hold hold;
	uint64_t fence_poll_at;
	bool fencing_oom;
	/* link version 3: STATUS every hb_ms (a third of tandemd's
	 * --agent-timeout, told in HELLO) */
	uint32_t hb_ms;
	uint64_t hb_next;

	/* the link to tandemd (tandemd_link.c) */
	int link_fd;
	bool link_ready;       /* HELLO received, WELCOME sent */
	uint16_t link_version; /* agreed in HELLO / WELCOME */
	uint8_t *rbuf;
	size_t rlen, rcap;
	uint8_t *obuf;
	size_t olen, ooff, ocap;
	uint64_t link_retry_at;
	struct {
		bool valid;
		uint8_t serving, quorate;
		uint32_t members;
		uint64_t seq;
		uint16_t version;
	} last_status; /* the last STATUS sent */

	/* corosync (corosync.c) */
	cpg_handle_t cpg;
	bool cpg_up;
	int cpg_fd;
	bool cpg_joined; /* cpg_join done, cpg_leave not yet */
	votequorum_handle_t vq;
	bool vq_up;
	int vq_fd;
	bool quorate;
	uint32_t nodeid;
	uint64_t corosync_retry_at;
	uint64_t join_retry_at;
	struct mq *mq_head, **mq_tail;
	bool ack_retry; /* corosync said TRY_AGAIN */

	/* the membership sync (sync.c) and what it asked for */
	struct tdm_sync sy;
	uint64_t cuts_logged; /* sy.cuts when the last cut was logged */
	struct pending *pend;
	size_t npend, cappend;
	struct {
		uint64_t req, seq;
		bool used;
	} snap_reqs[SNAP_REQS]; /* SNAPSHOT-GETs sent: req -> seq at cut */
	uint64_t snap_req_next;

	/* scratch */
	struct tdm_wbuf wb;
	struct tdm_cluster_alua alua_tmp;
};

extern struct agentd ag;

/* agentd.c */
uint64_t tdm__ag_now_ms(void);
int tdm__ag_pending_add(uint64_t req, uint8_t what);
void tdm__ag_pending_done(uint64_t req, uint8_t what);
void tdm__ag_pending_reject_all(void);
void tdm__ag_run_actions(void);
void tdm__ag_after_event(int r, const char *what);
/* carry out held actions (fencing.c), never held again */
void tdm__ag_run_held(const struct tdm_sync_act *acts, size_t n);

/* fencing.c */
const char *tdm__ag_fencing_name(int mode);
int tdm__ag_fencing_parse(const char *s);
int tdm__ag_fencing_start(void);
void tdm__ag_fencing_check_votes(unsigned flags, unsigned expected);
void tdm__ag_fencing_confchg(const struct cpg_address *members, size_t n,
			     const struct cpg_address *left, size_t nleft,
			     bool had, uint16_t version);
void tdm__ag_fencing_cut(void);
bool tdm__ag_fencing_take(const struct tdm_sync_act *a);
void tdm__ag_fencing_release(void);
void tdm__ag_fencing_fenced(uint32_t from, const struct tdm_cmsg_fenced *f);
void tdm__ag_fencing_tick(void);
void tdm__ag_fencing_reset(void);

/* tandemd_link.c */
void tdm__ag_link_connect(void);
void tdm__ag_link_close(const char *why);
void tdm__ag_link_read(void);
void tdm__ag_link_flush(void);
/* Queue the frame in ag.wb (tdm_agent_begin ... put ...) for tandemd; 0
 * when queued. */
int tdm__ag_link_send(void);
void tdm__ag_send_reject(uint64_t req, uint8_t what);
void tdm__ag_send_welcome(void);
void tdm__ag_update_status(void);
bool tdm__ag_serving(void);
/* link version 3: the periodic STATUS tandemd's --agent-timeout needs */
void tdm__ag_link_heartbeat(void);

/* corosync.c */
void tdm__ag_corosync_up(void);
void tdm__ag_corosync_down(const char *why);
/* Dispatch corosync's descriptor fd; false if fd is not corosync's. */
bool tdm__ag_corosync_dispatch(int fd);
struct cpg_name tdm__ag_group_cpg_name(void);
void tdm__ag_group_leave(const char *why);
void tdm__ag_group_update(void);
void tdm__ag_mq_clear(void);
int tdm__ag_mq_push(const uint8_t *p, size_t len);
void tdm__ag_mq_flush(void);
void tdm__ag_ack_flush(void);

#endif
