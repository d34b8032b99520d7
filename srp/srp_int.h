/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * srp_int.h - the SRP target transport's private objects (srp/README.md).
 *
 * A channel (struct srp_chan) is one RDMA/CM connection: its QP, one CQ
 * with its completion channel, a receive ring of IU buffers, a pool of
 * response buffers. An I_T nexus (struct srp_nexus) is an initiator port
 * and a target port (SRP r16a 4.6): one tdm_nexus, one or more channels,
 * all on the nexus' loop (transport.h: a nexus is bound to one loop).
 */
#ifndef TANDEM_SRP_INT_H
#define TANDEM_SRP_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <infiniband/verbs.h>
#include <rdma/rdma_cma.h>

#include "lib/list.h"
#include "lib/lockorder.h"
#include "lib/loop.h"
#include "srp/srp_iu.h"
#include "tandem/config.h"
#include "tandem/scsi.h"
#include "tandem/transport.h"

/* The transport's locks (lib/lockorder.h): taken with no other lock of
 * the tree held; only lib/'s are taken inside. */
enum {
	TDM__SRP_LOCK_REG = TDM_LOCK_RANK_TRANSPORT + 50, /* srp.c: reg_lock */
	/* mr.c: mr_lock, ranked just below lib/'s locks: lib/buf's release
	 * hook takes it wherever a buffer is freed, under any lock */
	TDM__SRP_LOCK_MR = TDM_LOCK_RANK_LIB - 10,
};

#define SRP_RQ_MAX 128	  /* receive ring per channel (credits) */
#define SRP_DESC_INLINE 4 /* descriptors kept in the command itself */

struct srp_chan;
struct srp_nexus;
struct srp_mr;

/* An RDMA device as the channels share it (mr.c) */
struct srp_dev {
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	unsigned refs; /* channels */
	struct tdm_list link;
};

/* What a work request's wr_id points to */
enum srp_wr_kind {
	SRP_WR_RECV = 1, /* a receive ring slot */
	SRP_WR_SEND,	 /* a response (struct srp_tx) */
	SRP_WR_READ,	 /* the last RDMA READ of a command */
	SRP_WR_DRAIN,	 /* the drain marker of a closing channel */
	SRP_WR_QUIET,	 /* an unsignaled RDMA WR: completes only when
			  * flushed (its slots come back with the signaled
			  * WR after it) */
};

struct srp_wr {
	uint8_t kind;	/* enum srp_wr_kind */
	uint32_t slots; /* send queue slots this signaled WR frees */
};

/* A receive ring slot: max_it_iu_len bytes of the channel's ring */
struct srp_rx {
	struct srp_wr wr;
	uint8_t *buf;
	uint32_t len; /* bytes received */
	bool held;    /* immediate data still in it (not reposted) */
};

/* A response buffer (max_ti_iu_len bytes of the channel's pool) */
struct srp_tx {
	struct srp_wr wr;
	uint8_t *buf;
	struct srp_cmd *cmd; /* released when the send completes, or NULL */
	struct srp_tmf *tmf;
	bool close_after;     /* T_LOGOUT: disconnect once sent */
	struct tdm_list link; /* on the free list */
};

enum srp_cmd_state {
	SRP_CMD_NEW = 0,
	SRP_CMD_CORE,	 /* in the core */
	SRP_CMD_READING, /* RDMA READ of data-out in flight */
	SRP_CMD_WAIT_SQ, /* waiting for send queue room / a buffer */
	SRP_CMD_SENDING, /* data-in and SRP_RSP posted */
};

struct srp_cmd {
	struct tdm_cmd cmd; /* the core's; container_of back */
	struct srp_chan *ch;
	uint64_t tag;  /* the IU's, as sent */
	uint8_t state; /* enum srp_cmd_state */
	uint8_t dir;   /* TDM_SRP_DIR_* */
	uint8_t fmt;   /* TDM_SRP_FMT_* */
	uint8_t sol_not;
	uint32_t srp_len; /* bytes the initiator's buffer holds */
	uint32_t ndesc;
	struct tdm_srp_desc *desc; /* desc_inline or malloc'ed */
	struct tdm_srp_desc desc_inline[SRP_DESC_INLINE];
	struct srp_rx *imm_rx; /* immediate data: the held slot */
	const uint8_t *imm;
	struct srp_mr *mr;     /* cmd.buf's registration (mr.c) */
	uint32_t xfer;	       /* data-out bytes asked (write_pending) */
	uint32_t want;	       /* data-out the command wanted (residual) */
	bool xfer_done;	       /* data moved: the status is next */
	bool abort_after_read; /* abort_pending came during the READ */
	bool local;	       /* answered by the transport (no core) */
	struct srp_wr rd_wr;
	struct tdm_list link;	   /* on ch->cmds, or the free list */
	struct tdm_list wait_link; /* on ch->sq_wait */
	bool waiting;
};

struct srp_tmf {
	struct tdm_tmf tmf;
	struct srp_chan *ch;
	uint64_t tag;
	uint8_t sol_not;
};

enum srp_chan_state {
	SRP_CH_CONNECTING = 0, /* accepted, waiting for ESTABLISHED */
	SRP_CH_LIVE,
	SRP_CH_CLOSING, /* disconnecting, draining the QP */
	SRP_CH_DEAD,	/* drained, resources gone; freed at refs 0 */
};

struct srp_chan {
	struct rdma_cm_id *id;
	struct srp_nexus *nx;
	struct tdm_loop *loop;
	uint64_t serial; /* for the logs */
	uint8_t state;	 /* enum srp_chan_state */
	int refs;
	struct tdm_srp_agreed a;
	struct srp_dev *dev;
	struct ibv_pd *pd; /* dev->pd */
	struct ibv_comp_channel *cc;
	struct ibv_cq *cq;
	struct tdm_fd_watch cq_watch;
	bool cq_watching;
	unsigned cq_unacked;
	/* receive ring */
	uint8_t *rx_mem;
	struct ibv_mr *rx_mr;
	struct srp_rx *rx;
	uint32_t rq_size;
	/* responses */
	uint8_t *tx_mem;
	struct ibv_mr *tx_mr;
	struct srp_tx *tx;
	uint32_t ntx, ntx_free;
	struct tdm_list tx_free;
	/* send queue room */
	uint32_t sq_size, sq_free;
	struct tdm_list sq_wait; /* commands waiting for room */
	uint32_t credits;	 /* reposted, not yet reported */
	uint32_t max_sge;
	uint32_t max_msg;
	struct tdm_list cmds;	  /* every live command */
	struct tdm_list cmd_free; /* free list */
	unsigned ncmds;
	struct tdm_list nx_link; /* on nx->chans */
	struct srp_wr drain_rq, drain_sq;
	bool drained_rq, drained_sq;
	bool qp_error;
	char peer[64];
};

struct srp_nexus {
	struct tdm_nexus *nexus;
	struct tdm_loop *loop;
	char target[TDM_NAME_MAX];
	char initiator[40]; /* "0x" + 32 hex */
	uint8_t i_port_id[16];
	uint8_t t_port_id[16];
	uint64_t id; /* registry id */
	struct tdm_list chans;
	struct tdm_list reg_link; /* srp.c's registry, under reg_lock */
	bool dying;
	char desc[160]; /* tandemctl's line (fixed at creation) */
};

/* ---- srp.c: registry, listeners, login dispatch ---- */
extern bool tdm__srp_shutting_down;
struct srp_limits_cfg {
	struct tdm_srp_limits lim;
	uint32_t sq_size;
};
/* The live nexus of (initiator port, target port, target) if it lives on
 * loop l; *elsewhere: one lives on another loop. */
struct srp_nexus *tdm__srp_nexus_find(const uint8_t i[16], const uint8_t t[16],
				      const char *target, struct tdm_loop *l,
				      bool *elsewhere);
void tdm__srp_nexus_add(struct srp_nexus *nx);
void tdm__srp_nexus_kill(struct srp_nexus *nx); /* no channel joins it */
void tdm__srp_nexus_unlink(struct srp_nexus *nx);
/* "fe80:0000:...": SCST's form of a port GID (a target's name) */
void tdm__srp_gid_str(const uint8_t gid[16], char *buf, size_t len);
/* O_NONBLOCK on fd: 0 or -errno */
int tdm__srp_set_nonblock(int fd);
/* the peer's address, numeric */
void tdm__srp_peer_str(struct rdma_cm_id *id, char *buf, size_t len);
void tdm__srp_shutdown_progress(void);

/* ---- chan.c: one channel's life on its loop ---- */
struct srp_login_job {
	struct rdma_cm_id *id;
	struct tdm_srp_login login;
	/* the CONNECT_REQUEST's values, already from our side (the CM
	 * swaps them): how many RDMA READs we may have outstanding toward
	 * the initiator (its responder resources) and it toward us */
	uint8_t rd_init, rd_resp;
	struct srp_limits_cfg cfg;
	char target[TDM_NAME_MAX];
	struct tdm_loop *loop;
};
void tdm__srp_login_run(void *arg); /* on the chosen loop */
void tdm__srp_chan_cm_event(struct srp_chan *ch, struct rdma_cm_event *ev);
void tdm__srp_chan_close(struct srp_chan *ch, const char *why);
void tdm__srp_chan_get(struct srp_chan *ch);
void tdm__srp_chan_put(struct srp_chan *ch);
int tdm__srp_post_recv(struct srp_chan *ch, struct srp_rx *rx);
struct srp_tx *tdm__srp_tx_get(struct srp_chan *ch);
void tdm__srp_tx_put(struct srp_chan *ch, struct srp_tx *tx);
/* Post an SRP IU of len bytes from tx (signaled); 0 or -errno */
int tdm__srp_post_send(struct srp_chan *ch, struct srp_tx *tx, uint32_t len,
		       struct ibv_send_wr *chain, uint32_t nchain);
/* Close every channel of nx (on its loop); nx is freed with the last. */
void tdm__srp_nexus_close(struct srp_nexus *nx, const char *why);
/* Nexus teardown once its last channel is gone (on its loop). */
void tdm__srp_nexus_chan_gone(struct srp_nexus *nx, struct srp_chan *ch);
/* per-loop RDMA/CM event channels (srp.c) */
struct rdma_event_channel *tdm__srp_loop_ec(struct tdm_loop *l);

/* ---- mr.c: devices, their PD, the cache of registrations ---- */
struct srp_dev *tdm__srp_dev_get(struct ibv_context *ctx);
void tdm__srp_dev_put(struct srp_dev *d);
/* The registration of [addr, addr + len) on d's PD (cached), NULL and
 * errno on failure; give it back with tdm__srp_mr_put. */
struct srp_mr *tdm__srp_mr_get(struct srp_dev *d, void *addr, uint32_t len);
uint32_t tdm__srp_mr_lkey(const struct srp_mr *e);
void tdm__srp_mr_put(struct srp_mr *e);
void tdm__srp_mr_init(void); /* install lib/buf's release hook */
void tdm__srp_mr_stats(unsigned long long *hits, unsigned long long *misses,
		       unsigned *cached);

/* ---- io.c: IUs, commands, data, responses, TMF ---- */
void tdm__srp_rx_iu(struct srp_chan *ch, struct srp_rx *rx);
void tdm__srp_send_done(struct srp_chan *ch, struct srp_tx *tx, bool ok);
void tdm__srp_read_done(struct srp_chan *ch, struct srp_cmd *sc, bool ok);
void tdm__srp_sq_kick(struct srp_chan *ch);
extern struct srp_wr tdm__srp_quiet_wr;
void tdm__srp_cmds_free(struct srp_chan *ch);
void tdm__srp_write_pending(struct tdm_cmd *cmd);
void tdm__srp_queue_status(struct tdm_cmd *cmd);
void tdm__srp_abort_pending(struct tdm_cmd *cmd);
void tdm__srp_queue_tmf_rsp(struct tdm_tmf *tmf);
void tdm__srp_free_cmd(struct tdm_cmd *cmd);

#endif
