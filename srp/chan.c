/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * chan.c - one RDMA channel's life, on its loop: the login's second half
 * (resources, the I_T nexus, rdma_accept with SRP_LOGIN_RSP), the
 * completion channel, posting receives and sends, the close (disconnect,
 * drain the QP with marker work requests, free).
 *
 * A channel is reference counted: itself (until drained), each command
 * and TMF still known to the core. Its rdma_cm_id goes last (in
 * chan_free), never while one of its events is unacknowledged.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "lib/log.h"
#include "srp/srp_int.h"
#include "tandem/srp.h"

static uint64_t next_serial = 1; /* only read for logs: a race is harmless */

void tdm__srp_chan_get(struct srp_chan *ch)
{
	ch->refs++;
}

static void chan_free(void *arg)
{
	struct srp_chan *ch = arg;

	if (ch->dev)
		tdm__srp_dev_put(ch->dev);
	if (ch->id)
		rdma_destroy_id(ch->id);
	free(ch);
}

void tdm__srp_chan_put(struct srp_chan *ch)
{
	if (--ch->refs > 0)
		return;
	/* later, on this loop: never inside a callback that still
	 * holds one of the id's events */
	tdm_loop_post(ch->loop, chan_free, ch);
}

/* ---- posting ---- */

int tdm__srp_post_recv(struct srp_chan *ch, struct srp_rx *rx)
{
	struct ibv_sge sge;
	struct ibv_recv_wr wr, *bad;
	int r;

	/* a closing channel's ring may be gone already: touch nothing */
	if (ch->state >= SRP_CH_CLOSING)
		return -ESHUTDOWN;
	rx->held = false;
	sge.addr = (uintptr_t)rx->buf;
	sge.length = ch->a.max_it_iu_len;
	sge.lkey = ch->rx_mr->lkey;
	memset(&wr, 0, sizeof(wr));
	wr.wr_id = (uintptr_t)&rx->wr;
	wr.sg_list = &sge;
	wr.num_sge = 1;
	r = ibv_post_recv(ch->id->qp, &wr, &bad);
	if (r)
		return -r;
	/* SRP r16a 5.5.2: a credit is a posted receive; the next response
	 * reports it (REQUEST LIMIT DELTA) */
	ch->credits++;
	return 0;
}

struct srp_tx *tdm__srp_tx_get(struct srp_chan *ch)
{
	struct srp_tx *tx;

	if (tdm_list_empty(&ch->tx_free))
		return NULL;
	tx = tdm_list_entry(ch->tx_free.next, struct srp_tx, link);
	tdm_list_del(&tx->link);
	ch->ntx_free--;
	tx->cmd = NULL;
	tx->tmf = NULL;
	tx->close_after = false;
	return tx;
}

void tdm__srp_tx_put(struct srp_chan *ch, struct srp_tx *tx)
{
	tdm_list_add(&ch->tx_free, &tx->link);
	ch->ntx_free++;
}

int tdm__srp_post_send(struct srp_chan *ch, struct srp_tx *tx, uint32_t len,
		       struct ibv_send_wr *chain, uint32_t nchain)
{
	struct ibv_sge sge;
	struct ibv_send_wr wr, *bad;
	int r;

	if (ch->state >= SRP_CH_CLOSING)
		return -ESHUTDOWN;
	if (ch->sq_free < nchain + 1)
		return -ENOSPC;
	sge.addr = (uintptr_t)tx->buf;
	sge.length = len;
	sge.lkey = ch->tx_mr->lkey;
	memset(&wr, 0, sizeof(wr));
	wr.wr_id = (uintptr_t)&tx->wr;
	wr.sg_list = &sge;
	wr.num_sge = 1;
	wr.opcode = IBV_WR_SEND;
	wr.send_flags = IBV_SEND_SIGNALED;
	tx->wr.kind = SRP_WR_SEND;
	tx->wr.slots = nchain + 1;
	if (nchain)
		chain[nchain - 1].next = &wr;
	r = ibv_post_send(ch->id->qp, nchain ? chain : &wr, &bad);
	if (r)
		return -r;
	ch->sq_free -= nchain + 1;
	return 0;
}

/* ---- completions ---- */

static void chan_drained(struct srp_chan *ch);

static void drain_seen(struct srp_chan *ch, struct srp_wr *w)
{
	if (w == &ch->drain_rq)
		ch->drained_rq = true;
	else
		ch->drained_sq = true;
	if (ch->drained_rq && ch->drained_sq)
		chan_drained(ch);
}

static void wc_one(struct srp_chan *ch, const struct ibv_wc *wc)
{
	struct srp_wr *w = (struct srp_wr *)(uintptr_t)wc->wr_id;
	bool ok = wc->status == IBV_WC_SUCCESS;

	if (!ok && wc->status != IBV_WC_WR_FLUSH_ERR &&
	    ch->state < SRP_CH_CLOSING)
		log_warnx_rl("srp: %s: work request failed: %s", ch->peer,
			     ibv_wc_status_str(wc->status));
	switch (w->kind) {
	case SRP_WR_RECV: {
		struct srp_rx *rx = container_of(w, struct srp_rx, wr);

		if (!ok) {
			tdm__srp_chan_close(ch, "receive failed");
			return;
		}
		rx->len = wc->byte_len;
		tdm__srp_rx_iu(ch, rx);
		return;
	}
	case SRP_WR_SEND:
		ch->sq_free += w->slots;
		tdm__srp_send_done(ch, container_of(w, struct srp_tx, wr), ok);
		break;
	case SRP_WR_READ:
		ch->sq_free += w->slots;
		tdm__srp_read_done(ch, container_of(w, struct srp_cmd, rd_wr),
				   ok);
		break;
	case SRP_WR_DRAIN:
		drain_seen(ch, w);
		return;
	case SRP_WR_QUIET:
		return;
	default:
		break;
	}
	if (!ok)
		tdm__srp_chan_close(ch, "send queue error");
}

static void cq_poll(struct srp_chan *ch)
{
	struct ibv_wc wc[16];
	int n;

	while (ch->cq && (n = ibv_poll_cq(ch->cq, 16, wc)) > 0) {
		for (int i = 0; i < n && ch->cq; i++)
			wc_one(ch, &wc[i]);
	}
	if (ch->cq && ch->state < SRP_CH_CLOSING)
		tdm__srp_sq_kick(ch);
}

static void cq_cb(struct tdm_fd_watch *w, uint32_t revents)
{
	struct srp_chan *ch = w->arg;
	struct ibv_cq *cq;
	void *ctx;

	(void)revents;
	tdm__srp_chan_get(ch);
	/* one event per wakeup: the watch is level-triggered, and a read
	 * that finds nothing is one more system call per command */
	if (ch->cc && ibv_get_cq_event(ch->cc, &cq, &ctx) == 0) {
		if (++ch->cq_unacked >= 64) {
			ibv_ack_cq_events(ch->cq, ch->cq_unacked);
			ch->cq_unacked = 0;
		}
	}
	if (ch->cq) {
		ibv_req_notify_cq(ch->cq, 0);
		cq_poll(ch);
	}
	tdm__srp_chan_put(ch);
}

/* ---- close: disconnect, drain, free ---- */

static void chan_release_rdma(struct srp_chan *ch)
{
	if (ch->cq_watching) {
		tdm_loop_del_fd(ch->loop, &ch->cq_watch);
		ch->cq_watching = false;
	}
	if (ch->id && ch->id->qp)
		rdma_destroy_qp(ch->id);
	if (ch->cq) {
		if (ch->cq_unacked)
			ibv_ack_cq_events(ch->cq, ch->cq_unacked);
		ch->cq_unacked = 0;
		ibv_destroy_cq(ch->cq);
		ch->cq = NULL;
	}
	if (ch->cc) {
		ibv_destroy_comp_channel(ch->cc);
		ch->cc = NULL;
	}
	if (ch->rx_mr)
		ibv_dereg_mr(ch->rx_mr);
	ch->rx_mr = NULL;
	if (ch->tx_mr)
		ibv_dereg_mr(ch->tx_mr);
	ch->tx_mr = NULL;
	free(ch->rx_mem);
	ch->rx_mem = NULL;
	free(ch->rx);
	ch->rx = NULL;
	free(ch->tx_mem);
	ch->tx_mem = NULL;
	free(ch->tx);
	ch->tx = NULL;
	tdm_list_init(&ch->tx_free);
	ch->ntx_free = 0;
}

static void chan_drained(struct srp_chan *ch)
{
	if (ch->state == SRP_CH_DEAD)
		return;
	ch->state = SRP_CH_DEAD;
	log_debug("srp: %s: channel %llu drained", ch->peer,
		  (unsigned long long)ch->serial);
	chan_release_rdma(ch);
	tdm__srp_cmds_free(ch);
	tdm__srp_chan_put(ch); /* the channel's own reference */
}

static void detach_nexus(struct srp_chan *ch)
{
	struct srp_nexus *nx = ch->nx;

	if (!nx)
		return;
	ch->nx = NULL;
	tdm_list_del(&ch->nx_link);
	tdm__srp_nexus_chan_gone(nx, ch);
}

void tdm__srp_chan_close(struct srp_chan *ch, const char *why)
{
	struct ibv_recv_wr rwr = {0}, *rbad;
	struct ibv_send_wr swr = {0}, *sbad;
	struct ibv_qp_attr attr = {.qp_state = IBV_QPS_ERR};

	if (ch->state >= SRP_CH_CLOSING)
		return;
	tdm__srp_chan_get(ch);
	ch->state = SRP_CH_CLOSING;
	log_info("srp: %s: %s: channel %llu closed: %s", ch->peer,
		 ch->nx ? ch->nx->initiator : "?",
		 (unsigned long long)ch->serial, why);
	if (ch->id)
		rdma_disconnect(ch->id);
	detach_nexus(ch);
	if (!ch->id || !ch->id->qp || !ch->cq) {
		chan_drained(ch);
		tdm__srp_chan_put(ch);
		return;
	}
	/* the QP in the error state flushes every posted work request;
	 * a marker on each queue, posted last, completes last */
	ibv_modify_qp(ch->id->qp, &attr, IBV_QP_STATE);
	ch->drain_rq.kind = SRP_WR_DRAIN;
	ch->drain_sq.kind = SRP_WR_DRAIN;
	rwr.wr_id = (uintptr_t)&ch->drain_rq;
	swr.wr_id = (uintptr_t)&ch->drain_sq;
	swr.opcode = IBV_WR_SEND;
	swr.send_flags = IBV_SEND_SIGNALED;
	if (ibv_post_recv(ch->id->qp, &rwr, &rbad))
		ch->drained_rq = true;
	if (ibv_post_send(ch->id->qp, &swr, &sbad))
		ch->drained_sq = true;
	if (ch->drained_rq && ch->drained_sq)
		chan_drained(ch);
	else
		cq_poll(ch); /* the completions may be there already */
	tdm__srp_chan_put(ch);
}

void tdm__srp_chan_cm_event(struct srp_chan *ch, struct rdma_cm_event *ev)
{
	switch (ev->event) {
	case RDMA_CM_EVENT_ESTABLISHED:
		if (ch->state == SRP_CH_CONNECTING) {
			ch->state = SRP_CH_LIVE;
			log_info("srp: %s: %s -> %s: channel %llu established",
				 ch->peer, ch->nx ? ch->nx->initiator : "?",
				 ch->nx ? ch->nx->target : "?",
				 (unsigned long long)ch->serial);
		}
		break;
	case RDMA_CM_EVENT_DISCONNECTED:
		tdm__srp_chan_close(ch, "disconnected by the initiator");
		break;
	case RDMA_CM_EVENT_CONNECT_ERROR:
	case RDMA_CM_EVENT_UNREACHABLE:
	case RDMA_CM_EVENT_REJECTED:
		tdm__srp_chan_close(ch, rdma_event_str(ev->event));
		break;
	case RDMA_CM_EVENT_DEVICE_REMOVAL:
		tdm__srp_chan_close(ch, "RDMA device removed");
		break;
	default:
		log_debug("srp: %s: channel %llu: %s", ch->peer,
			  (unsigned long long)ch->serial,
			  rdma_event_str(ev->event));
		break;
	}
}

/* ---- the nexus ---- */

void tdm__srp_nexus_close(struct srp_nexus *nx, const char *why)
{
	struct tdm_list *pos;
	unsigned n = 0;

	tdm_list_for_each (pos, &nx->chans)
		n++;
	/* each close takes its channel off the list; the last one frees
	 * the nexus: nx is not touched after it */
	while (n--)
		tdm__srp_chan_close(tdm_list_entry(nx->chans.next,
						   struct srp_chan, nx_link),
				    why);
}

void tdm__srp_nexus_chan_gone(struct srp_nexus *nx, struct srp_chan *ch)
{
	(void)ch;
	if (!tdm_list_empty(&nx->chans))
		return;
	/* the last channel: I_T nexus loss (SAM-5 6.3.4) */
	tdm__srp_nexus_kill(nx);
	if (nx->nexus)
		tdm_nexus_destroy(nx->nexus);
	nx->nexus = NULL;
	log_info("srp: %s -> %s: I_T nexus closed", nx->initiator, nx->target);
	tdm__srp_nexus_unlink(nx);
	free(nx);
}

static struct srp_nexus *nexus_new(struct srp_login_job *job, const char *peer,
				   int *err)
{
	struct srp_nexus *nx = calloc(1, sizeof(*nx));
	struct tdm_nexus_id nid;

	if (!nx) {
		*err = -ENOMEM;
		return NULL;
	}
	tdm_list_init(&nx->chans);
	nx->loop = job->loop;
	memcpy(nx->i_port_id, job->login.initiator_port_id, 16);
	memcpy(nx->t_port_id, job->login.target_port_id, 16);
	snprintf(nx->target, sizeof(nx->target), "%s", job->target);
	tdm__srp_port_id_str(nx->i_port_id, nx->initiator);
	snprintf(nx->desc, sizeof(nx->desc), "srp %s", peer);
	memset(&nid, 0, sizeof(nid));
	snprintf(nid.initiator, sizeof(nid.initiator), "%s", nx->initiator);
	snprintf(nid.target, sizeof(nid.target), "%s", nx->target);
	nx->nexus = tdm_nexus_create(&tdm_srp_ops, &nid, nx->loop, nx, err);
	if (!nx->nexus) {
		free(nx);
		return NULL;
	}
	tdm__srp_nexus_add(nx);
	return nx;
}

/* ---- the login's second half, on the channel's loop ---- */

static int chan_resources(struct srp_chan *ch, struct srp_login_job *job)
{
	struct ibv_device_attr da;
	struct ibv_port_attr pa;
	struct ibv_qp_init_attr qa;
	struct ibv_context *vc = ch->id->verbs;
	uint32_t i, rsz = ch->a.max_it_iu_len, tsz = ch->a.max_ti_iu_len;

	if (ibv_query_device(vc, &da) ||
	    ibv_query_port(vc, ch->id->port_num, &pa))
		return -EIO;
	ch->max_msg = pa.max_msg_sz ? pa.max_msg_sz : (1u << 31);
	ch->rq_size = job->cfg.lim.req_lim;
	if (ch->rq_size + 1 > (uint32_t)da.max_qp_wr)
		ch->rq_size = (uint32_t)da.max_qp_wr - 1;
	ch->sq_size = job->cfg.sq_size;
	if (ch->sq_size + 1 > (uint32_t)da.max_qp_wr)
		ch->sq_size = (uint32_t)da.max_qp_wr - 1;
	ch->sq_free = ch->sq_size;
	ch->dev = tdm__srp_dev_get(vc);
	ch->pd = ch->dev ? ch->dev->pd : NULL;
	ch->cc = ch->pd ? ibv_create_comp_channel(vc) : NULL;
	if (!ch->cc)
		return -ENOMEM;
	if (tdm__srp_set_nonblock(ch->cc->fd) < 0)
		return -errno;
	ch->cq = ibv_create_cq(vc, (int)(ch->rq_size + ch->sq_size + 2), ch,
			       ch->cc, 0);
	if (!ch->cq)
		return -ENOMEM;
	memset(&qa, 0, sizeof(qa));
	qa.send_cq = ch->cq;
	qa.recv_cq = ch->cq;
	qa.qp_type = IBV_QPT_RC;
	qa.cap.max_send_wr = ch->sq_size + 1; /* + the drain marker */
	qa.cap.max_recv_wr = ch->rq_size + 1;
	qa.cap.max_send_sge = 1;
	qa.cap.max_recv_sge = 1;
	if (rdma_create_qp(ch->id, ch->pd, &qa))
		return -errno;
	/* the receive ring: one registration */
	if (posix_memalign((void **)&ch->rx_mem, 4096,
			   (size_t)ch->rq_size * rsz))
		return -ENOMEM;
	ch->rx = calloc(ch->rq_size, sizeof(*ch->rx));
	if (!ch->rx)
		return -ENOMEM;
	ch->rx_mr = ibv_reg_mr(ch->pd, ch->rx_mem, (size_t)ch->rq_size * rsz,
			       IBV_ACCESS_LOCAL_WRITE);
	if (!ch->rx_mr)
		return -errno;
	/* responses: two per credit and a reserve for TMF and T_LOGOUT */
	ch->ntx = ch->rq_size * 2 + 16;
	if (posix_memalign((void **)&ch->tx_mem, 4096, (size_t)ch->ntx * tsz))
		return -ENOMEM;
	ch->tx = calloc(ch->ntx, sizeof(*ch->tx));
	if (!ch->tx)
		return -ENOMEM;
	ch->tx_mr = ibv_reg_mr(ch->pd, ch->tx_mem, (size_t)ch->ntx * tsz, 0);
	if (!ch->tx_mr)
		return -errno;
	for (i = 0; i < ch->ntx; i++) {
		ch->tx[i].buf = ch->tx_mem + (size_t)i * tsz;
		tdm_list_add_tail(&ch->tx_free, &ch->tx[i].link);
	}
	ch->ntx_free = ch->ntx;
	for (i = 0; i < ch->rq_size; i++) {
		ch->rx[i].wr.kind = SRP_WR_RECV;
		ch->rx[i].buf = ch->rx_mem + (size_t)i * rsz;
		if (tdm__srp_post_recv(ch, &ch->rx[i]))
			return -EIO;
	}
	ch->credits = 0; /* granted by the login response */
	ch->cq_watch.fd = ch->cc->fd;
	ch->cq_watch.events = EPOLLIN;
	ch->cq_watch.cb = cq_cb;
	ch->cq_watch.arg = ch;
	if (tdm_loop_add_fd(ch->loop, &ch->cq_watch) < 0)
		return -EIO;
	ch->cq_watching = true;
	if (ibv_req_notify_cq(ch->cq, 0))
		return -EIO;
	return 0;
}

static void login_reject(struct srp_login_job *job, struct srp_chan *ch,
			 uint32_t reason, const char *peer, const char *why)
{
	uint8_t rej[TDM_SRP_LOGIN_REJ_LEN];
	size_t n =
		tdm__srp_login_rej(rej, sizeof(rej), job->login.tag, reason,
				   TDM_SRP_BUF_DIRECT | TDM_SRP_BUF_INDIRECT);

	log_warnx_rl("srp: %s: login refused (reason 0x%08x): %s", peer, reason,
		     why);
	rdma_reject(job->id, rej, (uint8_t)n);
	if (ch) {
		/* the id goes with the channel */
		ch->state = SRP_CH_CLOSING;
		chan_drained(ch);
	} else {
		rdma_destroy_id(job->id);
	}
	free(job);
}

void tdm__srp_login_run(void *arg)
{
	struct srp_login_job *job = arg;
	struct srp_nexus *nx, *old;
	struct srp_chan *ch;
	struct rdma_conn_param cp;
	struct ibv_device_attr da;
	uint8_t rsp[TDM_SRP_LOGIN_RSP_LEN];
	uint8_t rsp_flags = TDM_SRP_LRSP_NO_CHAN;
	char peer[64];
	uint32_t reason;
	bool elsewhere;
	int r, err = 0;

	tdm__srp_peer_str(job->id, peer, sizeof(peer));
	if (tdm__srp_shutting_down) {
		login_reject(job, NULL, TDM_SRP_REJ_UNABLE_ESTABLISH, peer,
			     "shutting down");
		return;
	}
	ch = calloc(1, sizeof(*ch));
	if (!ch) {
		login_reject(job, NULL, TDM_SRP_REJ_INSUFFICIENT_RES, peer,
			     "out of memory");
		return;
	}
	ch->refs = 1;
	ch->id = job->id;
	ch->id->context = ch;
	ch->loop = job->loop;
	ch->serial = next_serial++;
	snprintf(ch->peer, sizeof(ch->peer), "%s", peer);
	tdm_list_init(&ch->tx_free);
	tdm_list_init(&ch->sq_wait);
	tdm_list_init(&ch->cmds);
	tdm_list_init(&ch->cmd_free);
	reason = tdm__srp_login_check(&job->login, &job->cfg.lim, &ch->a);
	if (reason) {
		login_reject(job, ch, reason, peer, "login parameters");
		return;
	}
	r = chan_resources(ch, job);
	if (r) {
		char why[96];

		snprintf(why, sizeof(why), "RDMA resources: %s", strerror(-r));
		login_reject(job, ch, TDM_SRP_REJ_INSUFFICIENT_RES, peer, why);
		return;
	}
	/* SRP r16a 5.4.3: MULTI-CHANNEL ACTION */
	old = tdm__srp_nexus_find(job->login.initiator_port_id,
				  job->login.target_port_id, job->target,
				  ch->loop, &elsewhere);
	if (elsewhere) {
		login_reject(job, ch, TDM_SRP_REJ_UNABLE_ESTABLISH, peer,
			     "the I_T nexus is moving (try again)");
		return;
	}
	nx = NULL;
	if (old && (job->login.req_flags & TDM_SRP_MULTICHAN_MASK) ==
			   TDM_SRP_MULTICHAN_MULTI) {
		nx = old;
		rsp_flags = TDM_SRP_LRSP_MAINTAINED;
	} else if (old) {
		/* a single-channel login ends the nexus' channels (and
		 * so the nexus) */
		tdm__srp_nexus_kill(old);
		tdm__srp_nexus_close(old, "a new single-channel login");
		rsp_flags = TDM_SRP_LRSP_TERMINATED;
	}
	if (!nx) {
		nx = nexus_new(job, peer, &err);
		if (!nx) {
			char why[96];

			snprintf(why, sizeof(why), "I_T nexus: %s",
				 strerror(-err));
			login_reject(job, ch, TDM_SRP_REJ_UNABLE_ASSOCIATE,
				     peer, why);
			return;
		}
	}
	ch->nx = nx;
	tdm_list_add_tail(&nx->chans, &ch->nx_link);
	tdm__srp_login_rsp(rsp, sizeof(rsp), job->login.tag, ch->rq_size,
			   &ch->a, rsp_flags);
	memset(&cp, 0, sizeof(cp));
	if (ibv_query_device(ch->id->verbs, &da) == 0) {
		/* RDMA READs we issue, and those the initiator may */
		cp.initiator_depth = job->rd_init < da.max_qp_init_rd_atom
					     ? job->rd_init
					     : (uint8_t)da.max_qp_init_rd_atom;
		cp.responder_resources = job->rd_resp < da.max_qp_rd_atom
						 ? job->rd_resp
						 : (uint8_t)da.max_qp_rd_atom;
	}
	if (!cp.initiator_depth) {
		/* no RDMA READ possible: no write could get its data */
		log_warnx("srp: %s: the initiator grants no RDMA READ "
			  "(responder resources 0); writes will fail",
			  peer);
	}
	cp.flow_control = 1;
	cp.rnr_retry_count = 7;
	cp.private_data = rsp;
	cp.private_data_len = sizeof(rsp);
	if (rdma_accept(ch->id, &cp)) {
		r = errno;
		log_warnx("srp: %s: rdma_accept: %s", peer, strerror(r));
		free(job);
		tdm__srp_chan_close(ch, "rdma_accept failed");
		return;
	}
	log_info("srp: %s: %s -> %s: login accepted (channel %llu, "
		 "req_lim %u, IU %u/%u bytes, immediate data %s, %s)",
		 peer, nx->initiator, nx->target,
		 (unsigned long long)ch->serial, ch->rq_size,
		 ch->a.max_it_iu_len, ch->a.max_ti_iu_len,
		 ch->a.imm ? "on" : "off",
		 rsp_flags == TDM_SRP_LRSP_MAINTAINED	? "channel added"
		 : rsp_flags == TDM_SRP_LRSP_TERMINATED ? "old channels ended"
							: "new nexus");
	free(job);
}
