/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * srp.c - what the daemon and the core see of the SRP target transport:
 * the tdm_transport_ops table, the RDMA/CM listeners and their event
 * channel on the main loop, the login's first checks and its dispatch to
 * a worker loop, the registry of I_T nexuses, config apply, shutdown.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "lib/log.h"
#include "srp/srp_int.h"
#include "tandem/srp.h"

bool tdm__srp_shutting_down;

/* ---- the registry of I_T nexuses ---- */

/* reg_lock: the registry list and each entry's link and dying flag; the
 * nexuses themselves belong to their loops */
static struct tdm_mutex reg_lock =
	TDM_MUTEX_INITIALIZER(TDM__SRP_LOCK_REG, "srp reg_lock");
static struct tdm_list reg = TDM_LIST_INIT(reg);
static uint64_t next_nexus_id = 1;
static void (*shutdown_done)(void *arg);
static void *shutdown_arg;
static struct tdm_loop *shutdown_loop;

static bool nexus_match(const struct srp_nexus *nx, const uint8_t i[16],
			const uint8_t t[16], const char *target)
{
	return !nx->dying && memcmp(nx->i_port_id, i, 16) == 0 &&
	       memcmp(nx->t_port_id, t, 16) == 0 &&
	       strcmp(nx->target, target) == 0;
}

/* The live nexus of (i, t, target) (reg_lock held). */
static struct srp_nexus *find_locked(const uint8_t i[16], const uint8_t t[16],
				     const char *target)
{
	struct tdm_list *pos;

	tdm_list_for_each (pos, &reg) {
		struct srp_nexus *nx =
			tdm_list_entry(pos, struct srp_nexus, reg_link);

		if (nexus_match(nx, i, t, target))
			return nx;
	}
	return NULL;
}

/* The loop of a live nexus of (i, t, target), NULL if none (any thread:
 * only the loop is read, under the lock). */
static struct tdm_loop *nexus_loop(const uint8_t i[16], const uint8_t t[16],
				   const char *target)
{
	struct srp_nexus *nx;
	struct tdm_loop *l;

	tdm_mutex_lock(&reg_lock);
	nx = find_locked(i, t, target);
	l = nx ? nx->loop : NULL;
	tdm_mutex_unlock(&reg_lock);
	return l;
}

/* The live nexus of (i, t, target) if it lives on loop l (only that loop
 * frees it); *elsewhere says whether one lives on another loop. */
struct srp_nexus *tdm__srp_nexus_find(const uint8_t i[16], const uint8_t t[16],
				      const char *target, struct tdm_loop *l,
				      bool *elsewhere)
{
	struct srp_nexus *nx;

	tdm_mutex_lock(&reg_lock);
	nx = find_locked(i, t, target);
	*elsewhere = nx && nx->loop != l;
	if (*elsewhere)
		nx = NULL;
	tdm_mutex_unlock(&reg_lock);
	return nx;
}

void tdm__srp_nexus_add(struct srp_nexus *nx)
{
	tdm_mutex_lock(&reg_lock);
	nx->id = next_nexus_id++;
	tdm_list_add_tail(&reg, &nx->reg_link);
	tdm_mutex_unlock(&reg_lock);
}

/* Mark nx dying: no new channel joins it. */
void tdm__srp_nexus_kill(struct srp_nexus *nx)
{
	tdm_mutex_lock(&reg_lock);
	nx->dying = true;
	tdm_mutex_unlock(&reg_lock);
}

void tdm__srp_nexus_unlink(struct srp_nexus *nx)
{
	tdm_mutex_lock(&reg_lock);
	tdm_list_del(&nx->reg_link);
	tdm_mutex_unlock(&reg_lock);
	tdm__srp_shutdown_progress();
}

static void shutdown_finish(void *arg)
{
	void (*done)(void *) = shutdown_done;

	(void)arg;
	if (!done)
		return;
	shutdown_done = NULL;
	log_info("srp: every channel closed");
	done(shutdown_arg);
}

void tdm__srp_shutdown_progress(void)
{
	bool empty;

	if (!tdm__srp_shutting_down || !shutdown_loop)
		return;
	tdm_mutex_lock(&reg_lock);
	empty = tdm_list_empty(&reg);
	tdm_mutex_unlock(&reg_lock);
	if (empty)
		tdm_loop_post(shutdown_loop, shutdown_finish, NULL);
}

/* ---- closing nexuses from any thread ---- */

struct close_msg {
	uint64_t id;
	char why[64];
};

static void close_on_loop(void *arg)
{
	struct close_msg *m = arg;
	struct srp_nexus *nx = NULL;
	struct tdm_list *pos;

	tdm_mutex_lock(&reg_lock);
	tdm_list_for_each (pos, &reg) {
		struct srp_nexus *n =
			tdm_list_entry(pos, struct srp_nexus, reg_link);

		if (n->id == m->id) {
			nx = n;
			n->dying = true;
			break;
		}
	}
	tdm_mutex_unlock(&reg_lock);
	/* the nexus lives on this loop: only this thread frees it */
	if (nx)
		tdm__srp_nexus_close(nx, m->why);
	free(m);
}

static void close_by_id(struct tdm_loop *l, uint64_t id, const char *why)
{
	struct close_msg *m = calloc(1, sizeof(*m));

	if (!m) {
		log_warnx("srp: out of memory closing a nexus");
		return;
	}
	m->id = id;
	snprintf(m->why, sizeof(m->why), "%s", why);
	tdm_loop_post(l, close_on_loop, m);
}

/* Close every nexus for which keep() says no. */
static unsigned close_where(bool (*keep)(const struct srp_nexus *nx,
					 const void *arg),
			    const void *arg, const char *why)
{
	struct tdm_list *pos;
	unsigned n = 0;

	tdm_mutex_lock(&reg_lock);
	tdm_list_for_each (pos, &reg) {
		struct srp_nexus *nx =
			tdm_list_entry(pos, struct srp_nexus, reg_link);

		if (keep && keep(nx, arg))
			continue;
		close_by_id(nx->loop, nx->id, why);
		n++;
	}
	tdm_mutex_unlock(&reg_lock);
	return n;
}

/* ---- the transport ops ---- */

static int srp_describe(struct tdm_nexus *nexus, char *buf, size_t len)
{
	const struct srp_nexus *nx = tdm_nexus_priv(nexus);

	return snprintf(buf, len, "%s", nx ? nx->desc : "srp");
}

/* SPC-4 7.6.4.5: the SRP TransportID is the 16-byte initiator port
 * identifier */
static int srp_transport_id(const struct tdm_nexus *nexus, uint8_t *buf,
			    size_t cap)
{
	const struct srp_nexus *nx = tdm_nexus_priv(nexus);

	return tdm_transport_id(buf, cap, TDM_PROTO_SRP, nx->i_port_id, 16);
}

/* SPC-4 7.8.6 / SRP r16a 4.7: the target port's name is its 16-byte
 * target port identifier, an EUI-64 based 16-byte designator */
static size_t srp_target_port(const struct tdm_nexus *nexus,
			      struct tdm_designator *d, size_t max)
{
	const struct srp_nexus *nx = tdm_nexus_priv(nexus);

	if (max < 1)
		return 0;
	d[0].assoc = TDM_DESIG_ASSOC_PORT;
	d[0].type = TDM_DESIG_EUI64;
	d[0].len = 16;
	memcpy(d[0].id, nx->t_port_id, 16);
	return 1;
}

static void srp_close_nexus(struct tdm_nexus *nexus)
{
	const struct srp_nexus *nx = tdm_nexus_priv(nexus);

	if (nx)
		close_by_id(nx->loop, nx->id, "closed by the administrator");
}

const struct tdm_transport_ops tdm_srp_ops = {
	.name = "srp",
	.protocol = TDM_PROTO_SRP,
	.transport_id = srp_transport_id,
	.target_port = srp_target_port,
	.write_pending = tdm__srp_write_pending,
	.queue_status = tdm__srp_queue_status,
	.abort_pending = tdm__srp_abort_pending,
	.queue_tmf_rsp = tdm__srp_queue_tmf_rsp,
	.free_cmd = tdm__srp_free_cmd,
	.describe = srp_describe,
	.close_nexus = srp_close_nexus,
};

/* ---- event channels: the listeners' on the main loop, one per worker
 * loop for the channels living there ---- */

struct loop_ec {
	struct tdm_loop *loop;
	struct rdma_event_channel *ec;
	struct tdm_fd_watch w;
};

static struct rdma_event_channel *main_ec;
static struct tdm_fd_watch main_watch;
static struct tdm_loop *main_loop;
static struct loop_ec *loop_ecs;
static unsigned nloop_ecs;

int tdm__srp_set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

static void loop_ec_cb(struct tdm_fd_watch *w, uint32_t revents)
{
	struct loop_ec *le = w->arg;
	struct rdma_cm_event *ev;

	(void)revents;
	while (rdma_get_cm_event(le->ec, &ev) == 0) {
		struct srp_chan *ch = ev->id ? ev->id->context : NULL;

		/* the channel outlives the event's handling: its id is
		 * destroyed only once every event of it was acked */
		if (ch) {
			tdm__srp_chan_get(ch);
			tdm__srp_chan_cm_event(ch, ev);
		}
		rdma_ack_cm_event(ev);
		if (ch)
			tdm__srp_chan_put(ch);
	}
}

static void loop_ec_register(void *arg)
{
	struct loop_ec *le = arg;

	le->w.fd = le->ec->fd;
	le->w.events = EPOLLIN;
	le->w.cb = loop_ec_cb;
	le->w.arg = le;
	if (tdm_loop_add_fd(le->loop, &le->w) < 0)
		log_warnx("srp: cannot watch a loop's RDMA/CM events");
}

struct rdma_event_channel *tdm__srp_loop_ec(struct tdm_loop *l)
{
	for (unsigned i = 0; i < nloop_ecs; i++)
		if (loop_ecs[i].loop == l)
			return loop_ecs[i].ec;
	return NULL;
}

static const char *cm_hint(int e)
{
	if (e == ENODEV || e == ENOENT)
		return ": no RDMA device, or the rdma_ucm module is not "
		       "loaded (modprobe rdma_ucm; for Soft-RoCE: rdma link "
		       "add rxe0 type rxe netdev IF)";
	return "";
}

static int ecs_open(char *err, size_t errlen)
{
	unsigned n = tdm_loop_count();
	int e;

	if (main_ec)
		return 0;
	main_ec = rdma_create_event_channel();
	if (!main_ec) {
		e = errno;
		snprintf(err, errlen,
			 "TARGET_DRIVER ib_srpt: cannot open RDMA/CM "
			 "(/dev/infiniband/rdma_cm): %s%s",
			 strerror(e), cm_hint(e));
		return -e;
	}
	if (tdm__srp_set_nonblock(main_ec->fd) < 0)
		goto fail;
	loop_ecs = calloc(n ? n : 1, sizeof(*loop_ecs));
	if (!loop_ecs)
		goto fail;
	for (unsigned i = 0; i < n; i++) {
		struct loop_ec *le = &loop_ecs[i];

		le->loop = tdm_loop_get(i);
		le->ec = rdma_create_event_channel();
		if (!le->ec || tdm__srp_set_nonblock(le->ec->fd) < 0)
			goto fail;
		nloop_ecs++;
		tdm_loop_post(le->loop, loop_ec_register, le);
	}
	return 0;
fail:
	e = errno ? errno : ENOMEM;
	snprintf(err, errlen,
		 "TARGET_DRIVER ib_srpt: RDMA/CM event channel: %s",
		 strerror(e));
	/* worker channels already registered stay (closed at exit) */
	return -e;
}

/* ---- listeners ---- */

struct listener {
	char portal[80];
	struct rdma_cm_id *id;
};

static struct listener *listeners;
static size_t nlisteners;
static struct srp_limits_cfg cur_cfg;

/* "addr[:port]" or "[v6addr][:port]" into a sockaddr */
static int portal_addr(const char *portal, struct sockaddr_storage *ss,
		       char *err, size_t errlen)
{
	char host[80], port[8];
	const char *p = portal, *colon;
	struct addrinfo hints = {0}, *ai = NULL;
	int r;

	if (*p == '[') {
		const char *end = strchr(p, ']');

		if (!end || (size_t)(end - p - 1) >= sizeof(host))
			goto bad;
		memcpy(host, p + 1, (size_t)(end - p - 1));
		host[end - p - 1] = 0;
		colon = end[1] == ':' ? end + 1 : NULL;
	} else {
		colon = strrchr(p, ':');
		size_t hl = colon ? (size_t)(colon - p) : strlen(p);

		if (hl >= sizeof(host))
			goto bad;
		memcpy(host, p, hl);
		host[hl] = 0;
	}
	snprintf(port, sizeof(port), "%u",
		 colon ? (unsigned)strtoul(colon + 1, NULL, 10)
		       : TDM_SRP_DEF_PORT);
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	hints.ai_socktype = SOCK_STREAM;
	r = getaddrinfo(host[0] ? host : NULL, port, &hints, &ai);
	if (r || !ai || ai->ai_addrlen > sizeof(*ss)) {
		if (ai)
			freeaddrinfo(ai);
		goto bad;
	}
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	return 0;
bad:
	snprintf(err, errlen, "TARGET_DRIVER ib_srpt: bad portal '%s'", portal);
	return -EINVAL;
}

static int listener_open(struct listener *li, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	int r;

	r = portal_addr(li->portal, &ss, err, errlen);
	if (r)
		return r;
	if (rdma_create_id(main_ec, &li->id, NULL, RDMA_PS_TCP)) {
		r = -errno;
		snprintf(err, errlen, "TARGET_DRIVER ib_srpt: portal %s: %s",
			 li->portal, strerror(-r));
		return r;
	}
	if (rdma_bind_addr(li->id, (struct sockaddr *)&ss) ||
	    rdma_listen(li->id, 128)) {
		r = -errno;
		snprintf(err, errlen, "TARGET_DRIVER ib_srpt: portal %s: %s%s",
			 li->portal, strerror(-r),
			 r == -EADDRNOTAVAIL || r == -ENODEV
				 ? " (no RDMA device has that address)"
				 : "");
		rdma_destroy_id(li->id);
		li->id = NULL;
		return r;
	}
	log_info("srp: listening on %s (RDMA/CM)", li->portal);
	return 0;
}

static void listeners_close(void)
{
	for (size_t i = 0; i < nlisteners; i++)
		if (listeners[i].id) {
			rdma_destroy_id(listeners[i].id);
			log_info("srp: stopped listening on %s",
				 listeners[i].portal);
		}
	free(listeners);
	listeners = NULL;
	nlisteners = 0;
}

/* ---- a login (CONNECT_REQUEST on a listener) ---- */

static void reject(struct rdma_cm_id *id, uint64_t tag, uint32_t reason,
		   const char *peer, const char *why)
{
	uint8_t rej[TDM_SRP_LOGIN_REJ_LEN];
	size_t n =
		tdm__srp_login_rej(rej, sizeof(rej), tag, reason,
				   TDM_SRP_BUF_DIRECT | TDM_SRP_BUF_INDIRECT);

	log_warnx_rl("srp: %s: login refused (reason 0x%08x): %s", peer, reason,
		     why);
	rdma_reject(id, rej, (uint8_t)n);
	rdma_destroy_id(id);
}

void tdm__srp_gid_str(const uint8_t gid[16], char *buf, size_t len)
{
	snprintf(buf, len,
		 "%02x%02x:%02x%02x:%02x%02x:%02x%02x:%02x%02x:%02x%02x:"
		 "%02x%02x:%02x%02x",
		 gid[0], gid[1], gid[2], gid[3], gid[4], gid[5], gid[6], gid[7],
		 gid[8], gid[9], gid[10], gid[11], gid[12], gid[13], gid[14],
		 gid[15]);
}

void tdm__srp_peer_str(struct rdma_cm_id *id, char *buf, size_t len)
{
	struct sockaddr *sa = rdma_get_peer_addr(id);
	char host[64] = "?";

	if (sa)
		getnameinfo(sa,
			    sa->sa_family == AF_INET6
				    ? sizeof(struct sockaddr_in6)
				    : sizeof(struct sockaddr_in),
			    host, sizeof(host), NULL, 0, NI_NUMERICHOST);
	snprintf(buf, len, "%s", host);
}

static void connect_request(struct rdma_cm_event *ev)
{
	struct rdma_cm_id *id = ev->id;
	struct srp_login_job *job;
	const struct tdm_conf *conf;
	const struct tdm_conf_target *t;
	struct tdm_loop *l;
	struct rdma_event_channel *ec;
	union ibv_gid gid;
	uint8_t guid[8];
	uint64_t be_guid;
	char peer[64], gidstr[48], iname[40], why[160];
	uint32_t reason;
	struct tdm_srp_agreed a;

	tdm__srp_peer_str(id, peer, sizeof(peer));
	job = calloc(1, sizeof(*job));
	if (!job) {
		reject(id, 0, TDM_SRP_REJ_INSUFFICIENT_RES, peer,
		       "out of memory");
		return;
	}
	if (tdm__srp_login_parse_rdma(ev->param.conn.private_data,
				      ev->param.conn.private_data_len,
				      &job->login)) {
		free(job);
		reject(id, 0, TDM_SRP_REJ_UNABLE_ESTABLISH, peer,
		       "no SRP_LOGIN_REQ in the connection's private data");
		return;
	}
	job->rd_init = ev->param.conn.initiator_depth;
	job->rd_resp = ev->param.conn.responder_resources;
	tdm__srp_port_id_str(job->login.initiator_port_id, iname);
	reason = 0;
	why[0] = 0;
	if (tdm__srp_shutting_down) {
		reason = TDM_SRP_REJ_UNABLE_ESTABLISH;
		snprintf(why, sizeof(why), "shutting down");
	} else if (!id->verbs ||
		   ibv_query_gid(id->verbs, id->port_num, 0, &gid)) {
		reason = TDM_SRP_REJ_UNABLE_ESTABLISH;
		snprintf(why, sizeof(why), "no GID on the receiving port");
	}
	conf = tdm_conf_current();
	t = NULL;
	if (!reason) {
		tdm__srp_gid_str(gid.raw, gidstr, sizeof(gidstr));
		t = tdm_conf_find_target(conf, gidstr);
		be_guid = ibv_get_device_guid(id->verbs->device);
		memcpy(guid, &be_guid, 8);
		if (!conf->srp.enabled || !t || t->driver != TDM_DRV_SRP ||
		    !t->enabled) {
			reason = TDM_SRP_REJ_UNABLE_ASSOCIATE;
			snprintf(why, sizeof(why),
				 "no enabled ib_srpt TARGET %s (the port GID "
				 "of %s port %u)",
				 gidstr, ibv_get_device_name(id->verbs->device),
				 (unsigned)id->port_num);
		} else if (memcmp(job->login.target_port_id, guid, 8) ||
			   memcmp(job->login.target_port_id + 8, guid, 8)) {
			char tp[35], g[35];
			uint8_t want[16];

			memcpy(want, guid, 8);
			memcpy(want + 8, guid, 8);
			tdm__srp_port_id_str(job->login.target_port_id, tp);
			tdm__srp_port_id_str(want, g);
			reason = TDM_SRP_REJ_UNABLE_ASSOCIATE;
			snprintf(why, sizeof(why),
				 "target port id %s is not %s (id_ext and "
				 "ioc_guid: the node GUID of %s)",
				 tp, g, ibv_get_device_name(id->verbs->device));
		} else if (!tdm_target_allows(t, iname)) {
			reason = TDM_SRP_REJ_UNABLE_ESTABLISH;
			snprintf(why, sizeof(why),
				 "initiator %s may not log in to %s", iname,
				 gidstr);
		}
	}
	if (!reason) {
		job->cfg = cur_cfg;
		reason = tdm__srp_login_check(&job->login, &job->cfg.lim, &a);
		if (reason)
			snprintf(why, sizeof(why),
				 "req_it_iu_len %u, buffer formats 0x%x, "
				 "flags 0x%02x, immediate data offset %u "
				 "(srp_max_req_size %u)",
				 job->login.req_it_iu_len,
				 job->login.req_buf_fmt, job->login.req_flags,
				 job->login.imm_data_offset,
				 job->cfg.lim.max_req);
	}
	if (t)
		snprintf(job->target, sizeof(job->target), "%s", t->name);
	tdm_conf_release(conf);
	if (reason) {
		uint64_t tag = job->login.tag;

		free(job);
		reject(id, tag, reason, peer, why);
		return;
	}
	l = nexus_loop(job->login.initiator_port_id, job->login.target_port_id,
		       job->target);
	if (!l)
		l = tdm_loop_next();
	ec = tdm__srp_loop_ec(l);
	job->loop = l;
	job->id = id;
	if (!ec || rdma_migrate_id(id, ec)) {
		uint64_t tag = job->login.tag;

		free(job);
		reject(id, tag, TDM_SRP_REJ_INSUFFICIENT_RES, peer,
		       "cannot move the connection to a worker loop");
		return;
	}
	tdm_loop_post(l, tdm__srp_login_run, job);
}

static void main_ec_cb(struct tdm_fd_watch *w, uint32_t revents)
{
	struct rdma_cm_event *ev;

	(void)w;
	(void)revents;
	while (main_ec && rdma_get_cm_event(main_ec, &ev) == 0) {
		if (ev->event == RDMA_CM_EVENT_CONNECT_REQUEST) {
			struct rdma_cm_event copy = *ev;
			uint8_t priv[256];
			uint8_t plen = ev->param.conn.private_data_len;

			/* the event must be acked before the new id can
			 * move to another channel: keep what it said
			 * (private data is at most 255 bytes) */
			if (ev->param.conn.private_data)
				memcpy(priv, ev->param.conn.private_data, plen);
			else
				plen = 0;
			copy.param.conn.private_data = plen ? priv : NULL;
			copy.param.conn.private_data_len = plen;
			rdma_ack_cm_event(ev);
			connect_request(&copy);
			continue;
		}
		if (ev->event == RDMA_CM_EVENT_DEVICE_REMOVAL)
			log_warnx("srp: an RDMA device under a listener was "
				  "removed");
		else
			log_debug("srp: listener event %s",
				  rdma_event_str(ev->event));
		rdma_ack_cm_event(ev);
	}
}

/* ---- apply, stop, shutdown ---- */

static bool still_allowed(const struct srp_nexus *nx, const void *arg)
{
	const struct tdm_conf *c = arg;
	const struct tdm_conf_target *t = tdm_conf_find_target(c, nx->target);

	return c->srp.enabled && t && t->driver == TDM_DRV_SRP && t->enabled &&
	       tdm_target_allows(t, nx->initiator);
}

static bool portals_same(const struct tdm_conf *c)
{
	size_t want = c->srp.nportals ? c->srp.nportals : 1;

	if (!c->srp.enabled)
		return nlisteners == 0;
	if (nlisteners != want)
		return false;
	for (size_t i = 0; i < want; i++) {
		char def[80];
		const char *p = c->srp.nportals ? c->srp.portals[i] : def;

		if (!c->srp.nportals)
			snprintf(def, sizeof(def), "0.0.0.0:%u",
				 TDM_SRP_DEF_PORT);
		if (strcmp(listeners[i].portal, p) != 0)
			return false;
	}
	return true;
}

static void cfg_from(const struct tdm_conf *c, struct srp_limits_cfg *cfg)
{
	const struct tdm_conf_srp *s = &c->srp;

	memset(cfg, 0, sizeof(*cfg));
	cfg->lim.max_req =
		s->max_req_size ? s->max_req_size : TDM_SRP_DEF_MAX_REQ;
	cfg->lim.max_rsp =
		s->max_rsp_size ? s->max_rsp_size : TDM_SRP_DEF_MAX_RSP;
	cfg->sq_size = s->sq_size ? s->sq_size : TDM_SRP_DEF_SQ;
	cfg->lim.req_lim =
		cfg->sq_size / 2 < SRP_RQ_MAX ? cfg->sq_size / 2 : SRP_RQ_MAX;
	cfg->lim.buf_fmt = TDM_SRP_BUF_DIRECT | TDM_SRP_BUF_INDIRECT;
	cfg->lim.imm = true;
}

int tdm_srp_apply(const struct tdm_conf *c, char *err, size_t errlen)
{
	struct listener *nl = NULL;
	size_t n = 0;
	int r;

	if (tdm__srp_shutting_down)
		return 0;
	cfg_from(c, &cur_cfg);
	if (!portals_same(c)) {
		if (c->srp.enabled) {
			size_t want = c->srp.nportals ? c->srp.nportals : 1;

			r = ecs_open(err, errlen);
			if (r)
				return r;
			tdm__srp_mr_init();
			if (!main_loop) {
				main_loop = tdm_loop_current();
				main_watch.fd = main_ec->fd;
				main_watch.events = EPOLLIN;
				main_watch.cb = main_ec_cb;
				if (tdm_loop_add_fd(main_loop, &main_watch) <
				    0) {
					main_loop = NULL;
					snprintf(err, errlen,
						 "ib_srpt: cannot watch "
						 "RDMA/CM events");
					return -EIO;
				}
			}
			/* the old listeners go first: the new set may
			 * bind the same addresses */
			listeners_close();
			nl = calloc(want, sizeof(*nl));
			if (!nl)
				return -ENOMEM;
			for (n = 0; n < want; n++) {
				if (c->srp.nportals)
					snprintf(nl[n].portal,
						 sizeof(nl[n].portal), "%s",
						 c->srp.portals[n]);
				else
					snprintf(nl[n].portal,
						 sizeof(nl[n].portal),
						 "0.0.0.0:%u",
						 TDM_SRP_DEF_PORT);
				r = listener_open(&nl[n], err, errlen);
				if (r) {
					listeners = nl;
					nlisteners = n;
					listeners_close();
					return r;
				}
			}
			listeners = nl;
			nlisteners = want;
		} else {
			listeners_close();
		}
	}
	close_where(still_allowed, c, "target removed or disabled");
	return 0;
}

void tdm_srp_stop_listening(void)
{
	listeners_close();
}

void tdm_srp_shutdown(void (*done)(void *arg), void *arg)
{
	unsigned n;

	listeners_close();
	tdm__srp_shutting_down = true;
	shutdown_done = done;
	shutdown_arg = arg;
	shutdown_loop = tdm_loop_current();
	n = close_where(NULL, NULL, "shutting down");
	if (main_ec) {
		unsigned long long h, m;
		unsigned c;

		tdm__srp_mr_stats(&h, &m, &c);
		log_info("srp: memory registrations: %llu reused, %llu made, "
			 "%u cached",
			 h, m, c);
	}
	log_info("srp: shutting down, %u nexus%s to close", n,
		 n == 1 ? "" : "es");
	tdm__srp_shutdown_progress();
}
