/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * agent.c - tandemd's link to tandem-agentd (cluster mode, tandemd -A).
 *
 * An AF_UNIX stream socket on the main loop; one agent at a time (root or
 * our uid). The messages are in agentd/agent_msg.h; the core's side is
 * scsi/cluster.c. Messages from the agent are handled one by one in
 * arrival order on the main thread, so a SNAPSHOT answer holds exactly
 * the operations applied before the SNAPSHOT-GET. Loop threads queue
 * PR-OUT and ALUA-SET through send_pr/send_alua (under out_lock) and
 * post a flush to the main loop.
 *
 * Without an agent the head is fenced: scsi/cluster.c refuses media
 * access and PR OUT with a sense initiators retry.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "agentd/agent_msg.h"
#include "targetd/daemon.h"
#include "tandem/cluster.h"
#include "lib/lockorder.h"
#include "lib/log.h"

#define RX_CHUNK 65536
/* bytes queued for the agent at most (a snapshot is at most 64 MiB) */
#define OUT_MAX (2 * (size_t)TDM_FRAME_MAX)

static struct {
	struct tdm_loop *loop;
	struct tdm_fd_watch lw, cw; /* listening, the agent's connection */
	bool running, connected;
	char path[108];
	/* out: written by any thread under out_lock, flushed on the loop */
	struct tdm_mutex out_lock; /* the outermost lock of all */
	uint8_t *out;
	size_t out_len, out_cap;
	bool flush_posted;
	/* in: main loop only */
	uint8_t *in;
	size_t in_len, in_cap;
	/* what the agent told */
	uint32_t nodeid;
	uint16_t version, group_version;
	bool serving, quorate;
	uint32_t members;
	uint64_t seq;
	uint64_t applied, rejected, snapshots_sent, snapshots_loaded;
	uint64_t done; /* applied since the link came up (DONE) */
	/* link version 3: fenced after timeout_ms without a frame */
	uint32_t timeout_ms;
	uint64_t last_rx_ns;
	bool stale;
	struct tdm_timer live;
} ag = {.timeout_ms = TDM_AGENT_TIMEOUT_MS,
	.out_lock =
		TDM_MUTEX_INITIALIZER(TDM_LOCK_RANK_DAEMON, "agent out_lock")};

static void link_close(const char *why);

/* ---- output ---- */

/* Under out_lock: append a finished frame. */
static int queue_locked(const struct tdm_wbuf *w)
{
	size_t cap;
	uint8_t *p;

	if (!ag.connected)
		return -ENOTCONN;
	/* an agent that stopped reading: refuse more (the commands get a
	 * sense the initiator retries) rather than grow without bound */
	if (ag.out_len + w->len > OUT_MAX) {
		log_warnx_rl("cluster: the agent does not read its link (%zu "
			     "bytes waiting): operation refused",
			     ag.out_len);
		return -ENOBUFS;
	}
	if (ag.out_len + w->len > ag.out_cap) {
		cap = ag.out_cap ? ag.out_cap : 4096;
		while (cap < ag.out_len + w->len)
			cap *= 2;
		p = realloc(ag.out, cap);
		if (!p)
			return -ENOMEM;
		ag.out = p;
		ag.out_cap = cap;
	}
	memcpy(ag.out + ag.out_len, w->p, w->len);
	ag.out_len += w->len;
	return 0;
}

/* On the loop: write what is queued; EPOLLOUT while some remains. */
static void flush(void)
{
	ssize_t n;
	int r = 0;

	tdm_mutex_lock(&ag.out_lock);
	ag.flush_posted = false;
	while (ag.connected && ag.out_len) {
		n = send(ag.cw.fd, ag.out, ag.out_len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				r = -errno;
			break;
		}
		memmove(ag.out, ag.out + n, ag.out_len - (size_t)n);
		ag.out_len -= (size_t)n;
	}
	if (ag.connected && !r)
		tdm_loop_mod_fd(ag.loop, &ag.cw,
				EPOLLIN | (ag.out_len ? EPOLLOUT : 0));
	tdm_mutex_unlock(&ag.out_lock);
	if (r)
		link_close(strerror(-r));
}

static void flush_cb(void *arg)
{
	(void)arg;
	flush();
}

/* Any thread: queue w (a finished frame) and have the loop flush it. */
static int send_frame(struct tdm_wbuf *w)
{
	bool post = false;
	int r = tdm_frame_end(w);

	if (r < 0)
		return r;
	tdm_mutex_lock(&ag.out_lock);
	r = queue_locked(w);
	if (!r && !ag.flush_posted) {
		ag.flush_posted = true;
		post = true;
	}
	tdm_mutex_unlock(&ag.out_lock);
	/* posted even from the main loop: a failed send closes the link,
	 * which completes the pending commands, never inside a caller that
	 * still holds one (scsi/cluster.c, cluster_conf.c) */
	if (post)
		tdm_loop_post(ag.loop, flush_cb, NULL);
	return r;
}

static int send_pr(uint64_t req, const struct tdm_cluster_pr *pr)
{
	struct tdm_wbuf w = {0};
	int r;

	tdm_agent_begin(&w, TDM_AGENT_PR_OUT);
	tdm_wbuf_put_u64(&w, req);
	tdm_agent_put_pr(&w, pr);
	r = send_frame(&w);
	tdm_wbuf_free(&w);
	return r;
}

static int send_alua(uint64_t req, const struct tdm_cluster_alua *a)
{
	struct tdm_wbuf w = {0};
	int r;

	tdm_agent_begin(&w, TDM_AGENT_ALUA_SET);
	tdm_wbuf_put_u64(&w, req);
	tdm_agent_put_alua(&w, a);
	r = send_frame(&w);
	tdm_wbuf_free(&w);
	return r;
}

static int send_order(uint64_t req, uint8_t kind, const void *payload,
		      size_t len)
{
	struct tdm_wbuf w = {0};
	int r;

	/* version 1 agents order only PR OUT and STPG */
	if (ag.version < 2)
		return -EPROTONOSUPPORT;
	tdm_agent_begin(&w, TDM_AGENT_ORDER);
	tdm_wbuf_put_u64(&w, req);
	tdm_wbuf_put_u8(&w, kind);
	tdm_wbuf_put_bytes(&w, payload, len);
	r = send_frame(&w);
	tdm_wbuf_free(&w);
	return r;
}

static const struct tdm_cluster_link_ops link_ops = {
	.send_pr = send_pr,
	.send_alua = send_alua,
	.send_order = send_order,
};

/* Link version 2: tell the agent what this head has applied, so that it
 * acknowledges to the group only that. */
static void send_done(void)
{
	struct tdm_wbuf w = {0};

	ag.done++;
	if (ag.version < 2)
		return;
	tdm_agent_begin(&w, TDM_AGENT_DONE);
	tdm_wbuf_put_u64(&w, ag.done);
	send_frame(&w);
	tdm_wbuf_free(&w);
}

/* ---- heads of the cluster (link version 3) ---- */

static struct tdm_agent_ports sent_ports; /* main loop: the last announced */

static void put_local_ports(struct tdm_wbuf *w)
{
	sent_ports.n = (uint16_t)tdm_cluster_local_ports(sent_ports.id,
							 TDM_AGENT_PORTS_MAX);
	tdm_agent_put_ports(w, sent_ports.id, sent_ports.n);
}

void tdm_agent_link_ports_changed(void)
{
	struct tdm_agent_ports now;
	struct tdm_wbuf w = {0};

	if (!ag.running || !ag.connected || ag.version < 3)
		return;
	now.n = (uint16_t)tdm_cluster_local_ports(now.id, TDM_AGENT_PORTS_MAX);
	if (now.n == sent_ports.n &&
	    !memcmp(now.id, sent_ports.id, now.n * sizeof(now.id[0])))
		return;
	tdm_agent_begin(&w, TDM_AGENT_PORTS);
	put_local_ports(&w);
	send_frame(&w);
	tdm_wbuf_free(&w);
}

/* HEADS: u32 n, n x (u32 nodeid, ports), twice (left, joined) */
static bool on_heads(struct tdm_rd *r)
{
	struct tdm_agent_ports *p = malloc(sizeof(*p));
	size_t start = r->off;

	if (!p)
		return false;
	/* checked whole first, then applied */
	for (int pass = 0; pass < 2; pass++) {
		r->off = start;
		for (int joined = 0; joined < 2 && !r->bad; joined++) {
			uint32_t n = tdm_rd_get_u32(r);

			for (uint32_t i = 0; i < n && !r->bad; i++) {
				uint32_t nodeid = tdm_rd_get_u32(r);

				tdm_agent_get_ports(r, p);
				if (pass && !r->bad)
					tdm_cluster_head(nodeid, joined, p->id,
							 p->n);
			}
		}
		if (!tdm_rd_done(r))
			break;
	}
	free(p);
	return tdm_rd_done(r);
}

/* ---- input ---- */

static void send_hello(void)
{
	struct tdm_wbuf w = {0};
	struct utsname u;

	if (uname(&u) < 0)
		snprintf(u.nodename, sizeof(u.nodename), "?");
	tdm_agent_begin(&w, TDM_AGENT_HELLO);
	tdm_wbuf_put_u16(&w, 1);
	tdm_wbuf_put_u16(&w, TDM_AGENT_LINK_VERSION);
	tdm_wbuf_put_str(&w, u.nodename);
	tdm_wbuf_put_u32(&w, ag.timeout_ms); /* version 3 */
	put_local_ports(&w); /* version 3; an older agent ignores it */
	send_frame(&w);
	tdm_wbuf_free(&w);
}

static void send_snapshot(uint64_t req)
{
	struct tdm_wbuf w = {0}, snap = {0};
	int r;

	/* the snapshot is a bytes field: build it apart, then wrap it */
	tdm_wbuf_reset(&snap);
	r = tdm_cluster_snapshot(&snap);
	tdm_agent_begin(&w, TDM_AGENT_SNAPSHOT);
	tdm_wbuf_put_u64(&w, req);
	if (!r && !snap.oom)
		tdm_wbuf_put_bytes(&w, snap.p, snap.len);
	if (r || snap.oom || send_frame(&w) < 0) {
		/* the agent cannot sync others from us: let it retry */
		log_err("cluster: cannot build or send a snapshot: %s",
			strerror(r ? -r : ENOMEM));
		link_close("snapshot failed");
	} else {
		ag.snapshots_sent++;
	}
	tdm_wbuf_free(&snap);
	tdm_wbuf_free(&w);
}

/* One whole frame from the agent; false: protocol error. */
static bool handle(const uint8_t *f, size_t len)
{
	struct tdm_cluster_alua *a;
	struct tdm_rd r;
	struct tdm_cluster_pr pr;
	uint16_t type, version;
	uint32_t origin;
	uint64_t req;
	const uint8_t *p;
	size_t n;
	char err[256];

	tdm_frame_open(&r, f, len, &type, &version);
	switch (type) {
	case TDM_AGENT_WELCOME:
		ag.version = tdm_rd_get_u16(&r);
		ag.nodeid = tdm_rd_get_u32(&r);
		if (!tdm_rd_done(&r))
			break;
		if (ag.version >= 3 && ag.timeout_ms)
			log_info("cluster: fenced when the agent is silent for "
				 "%u ms (--agent-timeout)",
				 ag.timeout_ms);
		if (ag.version < 1 || ag.version > TDM_AGENT_LINK_VERSION) {
			log_err("cluster: the agent speaks link version %u, "
				"tandemd 1 to %u",
				ag.version, TDM_AGENT_LINK_VERSION);
			return false;
		}
		tdm_cluster_set_wait_stable(ag.version >= 2);
		log_notice("cluster: agent connected, node id %u, link "
			   "version %u",
			   ag.nodeid, ag.version);
		return true;
	case TDM_AGENT_STATUS: {
		bool serving = tdm_rd_get_u8(&r), q0 = ag.quorate;
		uint32_t m0 = ag.members;
		uint16_t v0 = ag.group_version;

		ag.quorate = tdm_rd_get_u8(&r);
		ag.members = tdm_rd_get_u32(&r);
		ag.seq = tdm_rd_get_u64(&r);
		ag.group_version = tdm_rd_get_u16(&r);
		if (!tdm_rd_done(&r))
			break;
		tdm_cluster_set_group_version(ag.group_version);
		tdm_cluster_set_serving(serving && !ag.stale);
		/* seq changes with every operation: log the rest only */
		if (serving == ag.serving && q0 == ag.quorate &&
		    m0 == ag.members && v0 == ag.group_version) {
			tdm_cluster_rejoin(false); /* a retry, if any */
			return true;
		}
		tdm_cluster_rejoin(serving && !ag.serving);
		ag.serving = serving;
		log_info("cluster: %s, %s, %u members, seq %llu, protocol %u",
			 serving ? "serving" : "not serving",
			 ag.quorate ? "quorate" : "no quorum", ag.members,
			 (unsigned long long)ag.seq, ag.group_version);
		return true;
	}
	case TDM_AGENT_PR_APPLY:
		origin = tdm_rd_get_u32(&r);
		req = tdm_rd_get_u64(&r);
		tdm_agent_get_pr(&r, &pr);
		if (!tdm_rd_done(&r))
			break;
		ag.applied++;
		tdm_cluster_pr_apply(origin == ag.nodeid, req, &pr);
		send_done();
		return true;
	case TDM_AGENT_ALUA_APPLY:
		a = malloc(sizeof(*a));
		if (!a)
			return false;
		origin = tdm_rd_get_u32(&r);
		req = tdm_rd_get_u64(&r);
		tdm_agent_get_alua(&r, a);
		if (tdm_rd_done(&r)) {
			ag.applied++;
			tdm_cluster_alua_apply(origin == ag.nodeid, req, a);
		}
		free(a);
		if (r.bad || r.off != r.len)
			break;
		send_done();
		return true;
	case TDM_AGENT_ORDERED: {
		uint8_t kind;

		origin = tdm_rd_get_u32(&r);
		req = tdm_rd_get_u64(&r);
		kind = tdm_rd_get_u8(&r);
		p = tdm_rd_get_bytes(&r, &n);
		if (!tdm_rd_done(&r))
			break;
		ag.applied++;
		tdm_cluster_ordered(origin == ag.nodeid, req, kind, p, n);
		send_done();
		return true;
	}
	case TDM_AGENT_HEADS:
		if (on_heads(&r))
			return true;
		break;
	case TDM_AGENT_STABLE:
		req = tdm_rd_get_u64(&r);
		if (!tdm_rd_done(&r))
			break;
		tdm_cluster_stable(req);
		return true;
	case TDM_AGENT_REJECT:
		req = tdm_rd_get_u64(&r);
		(void)tdm_rd_get_u8(&r);
		if (!tdm_rd_done(&r))
			break;
		ag.rejected++;
		tdm_cluster_reject(req);
		return true;
	case TDM_AGENT_SNAPSHOT_GET:
		req = tdm_rd_get_u64(&r);
		if (!tdm_rd_done(&r))
			break;
		send_snapshot(req);
		return true;
	case TDM_AGENT_SNAPSHOT_LOAD:
		p = tdm_rd_get_bytes(&r, &n);
		if (!tdm_rd_done(&r))
			break;
		if (tdm_cluster_load(p, n, err, sizeof(err)) < 0) {
			log_err("cluster: snapshot not loaded: %s", err);
			return false;
		}
		ag.snapshots_loaded++;
		log_notice("cluster: state loaded from the cluster (%zu "
			   "bytes)",
			   n);
		return true;
	default:
		log_err("cluster: unknown message type %u from the agent",
			type);
		return false;
	}
	log_err("cluster: malformed %s from the agent",
		tdm_agent_type_name(type));
	return false;
}

/* ---- liveness (link version 3) ---- */

/* A frame came: the agent runs. */
static void alive(void)
{
	ag.last_rx_ns = tdm_now_ns();
	if (!ag.stale)
		return;
	ag.stale = false;
	log_notice("cluster: the agent speaks again: %s",
		   ag.serving ? "serving" : "still not serving");
	tdm_cluster_set_serving(ag.serving);
}

/* Every quarter of the timeout: an agent silent for timeout_ms (frozen,
 * or its head cut off) no longer tells this head whether it may serve:
 * fenced at once, until it speaks again. */
static void live_cb(struct tdm_timer *t)
{
	uint64_t silent_ms;

	(void)t;
	if (!ag.connected || ag.version < 3 || !ag.timeout_ms)
		return;
	silent_ms = (tdm_now_ns() - ag.last_rx_ns) / 1000000;
	if (!ag.stale && silent_ms >= ag.timeout_ms) {
		ag.stale = true;
		tdm_cluster_set_serving(false);
		log_notice("cluster: no word from the agent for %llu ms "
			   "(--agent-timeout %u): fenced until it speaks "
			   "again",
			   (unsigned long long)silent_ms, ag.timeout_ms);
	}
	tdm_timer_start(ag.loop, &ag.live,
			ag.timeout_ms / 4 ? ag.timeout_ms / 4 : 1);
}

void tdm_agent_link_set_timeout(unsigned ms)
{
	ag.timeout_ms = ms;
}

static void conn_cb(struct tdm_fd_watch *w, uint32_t revents)
{
	ssize_t n;
	long flen;
	size_t off = 0;
	uint8_t *p;

	(void)w;
	if (revents & EPOLLOUT)
		flush();
	if (!ag.connected || !(revents & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	if (ag.in_cap - ag.in_len < RX_CHUNK) {
		p = realloc(ag.in, ag.in_cap + RX_CHUNK);
		if (!p) {
			link_close("out of memory");
			return;
		}
		ag.in = p;
		ag.in_cap += RX_CHUNK;
	}
	n = recv(ag.cw.fd, ag.in + ag.in_len, ag.in_cap - ag.in_len, 0);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		link_close(n == 0 ? "closed by the agent" : strerror(errno));
		return;
	}
	if (n < 0)
		return;
	ag.in_len += (size_t)n;
	alive();
	while (ag.connected) {
		flen = tdm_frame_len(ag.in + off, ag.in_len - off);
		if (flen < 0) {
			link_close("not a frame");
			return;
		}
		if (flen == 0)
			break;
		if (!handle(ag.in + off, (size_t)flen)) {
			link_close("protocol error");
			return;
		}
		off += (size_t)flen;
	}
	if (!ag.connected)
		return;
	memmove(ag.in, ag.in + off, ag.in_len - off);
	ag.in_len -= off;
}

static void link_close(const char *why)
{
	if (!ag.connected)
		return;
	log_warnx("cluster: agent link lost (%s): fenced until an agent "
		  "reconnects and resynchronises",
		  why);
	tdm_loop_del_fd(ag.loop, &ag.cw);
	tdm_timer_stop(ag.loop, &ag.live);
	ag.stale = false;
	tdm_mutex_lock(&ag.out_lock);
	ag.connected = false;
	ag.out_len = 0;
	tdm_mutex_unlock(&ag.out_lock);
	close(ag.cw.fd);
	ag.cw.fd = -1;
	ag.in_len = 0;
	ag.serving = ag.quorate = false;
	ag.members = 0;
	tdm_cluster_set_serving(false);
	tdm_cluster_reject_all();
}

static void listen_cb(struct tdm_fd_watch *w, uint32_t revents)
{
	pid_t pid;
	uid_t uid;
	int fd;

	(void)revents;
	fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	if (tdm__peer_allowed(fd, "cluster", &pid, &uid) < 0) {
		close(fd);
		return;
	}
	if (ag.connected) {
		log_warnx_rl("cluster: refused a second agent (pid %d)",
			     (int)pid);
		close(fd);
		return;
	}
	ag.cw = (struct tdm_fd_watch){
		.fd = fd, .events = EPOLLIN, .cb = conn_cb};
	if (tdm_loop_add_fd(ag.loop, &ag.cw) < 0) {
		close(fd);
		return;
	}
	tdm_mutex_lock(&ag.out_lock);
	ag.connected = true;
	ag.out_len = 0;
	tdm_mutex_unlock(&ag.out_lock);
	ag.nodeid = 0;
	ag.version = 0;
	ag.done = 0;
	log_info("cluster: agent pid %d connected", (int)pid);
	send_hello();
	ag.stale = false;
	ag.last_rx_ns = tdm_now_ns();
	ag.live = (struct tdm_timer){.cb = live_cb};
	if (ag.timeout_ms)
		tdm_timer_start(ag.loop, &ag.live,
				ag.timeout_ms / 4 ? ag.timeout_ms / 4 : 1);
}

int tdm_agent_link_start(struct tdm_loop *main_loop, const char *path,
			 char *err, size_t errlen)
{
	struct stat st;
	int fd, r;

	r = tdm__unix_listen(path, &fd, &st, err, errlen);
	if (r)
		return r;
	ag.loop = main_loop;
	ag.lw = (struct tdm_fd_watch){
		.fd = fd, .events = EPOLLIN, .cb = listen_cb};
	r = tdm_loop_add_fd(main_loop, &ag.lw);
	if (r < 0) {
		unlink(path);
		close(fd);
		snprintf(err, errlen, "epoll: %s", strerror(-r));
		return r;
	}
	snprintf(ag.path, sizeof(ag.path), "%s", path);
	ag.running = true;
	tdm_cluster_start(&link_ops);
	log_notice("cluster: waiting for tandem-agentd on %s (fenced until "
		   "it reports the cluster's state)",
		   path);
	return 0;
}

void tdm_agent_link_stop(void)
{
	if (!ag.running)
		return;
	link_close("tandemd stopping");
	tdm_loop_del_fd(ag.loop, &ag.lw);
	close(ag.lw.fd);
	unlink(ag.path);
	ag.running = false;
	free(ag.in);
	free(ag.out);
	ag.in = ag.out = NULL;
	ag.in_cap = ag.out_cap = ag.in_len = ag.out_len = 0;
}

void tdm_agent_link_info(struct tdm_agent_info *info)
{
	*info = (struct tdm_agent_info){
		.running = ag.running,
		.connected = ag.running && ag.connected,
		.serving = ag.running && ag.serving && !ag.stale,
		.quorate = ag.running && ag.quorate,
		.silent = ag.running && ag.stale,
		.nodeid = ag.nodeid,
		.members = ag.running ? ag.members : 0,
		.group_version = ag.group_version,
		.seq = ag.seq,
		.applied = ag.applied,
		.rejected = ag.rejected,
	};
}

void tdm_agent_link_status(char *buf, size_t len)
{
	if (!ag.running) {
		snprintf(buf, len, "off");
		return;
	}
	snprintf(buf, len,
		 "agent=%s,node_id=%u,serving=%d,quorate=%d,members=%u,"
		 "seq=%llu,protocol=%u,applied=%llu,rejected=%llu,"
		 "snapshots_sent=%llu,snapshots_loaded=%llu,agent_silent=%d",
		 ag.connected ? "connected" : "none", ag.nodeid,
		 ag.serving && !ag.stale, ag.quorate, ag.members,
		 (unsigned long long)ag.seq, ag.group_version,
		 (unsigned long long)ag.applied,
		 (unsigned long long)ag.rejected,
		 (unsigned long long)ag.snapshots_sent,
		 (unsigned long long)ag.snapshots_loaded, ag.stale);
}
