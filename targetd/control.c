/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * control.c - tandemd's control socket (tandemctl, later tandem-agentd).
 *
 * An AF_UNIX stream socket served on the main loop: every callback runs
 * on the main thread, so requests may call tdm_daemon_apply() directly.
 * Only root or the daemon's own uid may connect (SO_PEERCRED). Clients
 * are non-blocking with their own buffers: one request is handled at a
 * time per client, its input is not read while its answer waits to be
 * written, and a client idle for IDLE_MS is dropped, so a slow or stuck
 * client holds at most one answer and never blocks the daemon. The
 * protocol is in ctl/ctl_proto.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl/ctl_proto.h"
#include "targetd/cluster_conf.h"
#include "targetd/daemon.h"
#include "tandem/admin.h"
#include "lib/list.h"
#include "lib/log.h"
#include "lib/text.h"
#include "tandem/transport.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

#define MAX_CLIENTS 64
#define IDLE_MS 60000
#define ACCEPT_PAUSE_MS 1000 /* after EMFILE and friends */
#define INBUF 16384
#define ERRLEN 2048

/* An ACTIVATE-TGRP or SET-TGRP-STATE being ordered; it outlives a client
 * that goes. */
struct act_wait {
	struct client *c; /* NULL: the client went, nobody hears the end */
};

struct client {
	struct tdm_list link;
	struct tdm_fd_watch w;
	struct tdm_timer idle;
	struct tdm_ctl_rx rx;
	char in[INBUF];
	size_t in_len;
	char *out;
	size_t out_len, out_off;
	bool eof;     /* the peer will send nothing more */
	bool closing; /* close once out is written */
	bool dead;    /* closed by tdm_control_stop(), memory kept */
	bool waiting; /* an EDIT being ordered: no input until answered */
	struct tdm_cconf_wait *wait;
	struct act_wait *act; /* ... or an ACTIVATE-TGRP, SET-TGRP-STATE */
	pid_t pid;
	uid_t uid;
};

static struct {
	struct tdm_loop *loop;
	struct tdm_fd_watch lw;
	struct tdm_timer pause;
	bool running;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t dev;
	ino_t ino;
	struct tdm_list clients, zombies;
	unsigned nclients;
	uint64_t started_ns;
} ctl = {
	.clients = TDM_LIST_INIT(ctl.clients),
	.zombies = TDM_LIST_INIT(ctl.zombies),
};

/* A field of a tab-separated line: no tab, newline or control byte. */
static const char *field(char *s)
{
	for (char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return s;
}

/* ---- clients ---- */

static void client_free(struct client *c)
{
	tdm_ctl_rx_free(&c->rx);
	free(c->out);
	free(c);
}

/* Close c's socket; its memory goes at once or, when dead, to zombies. */
static void client_close(struct client *c, bool keep)
{
	if (c->wait) {
		/* the edit goes on; nobody hears of its end */
		tdm_cconf_cancel(c->wait);
		c->wait = NULL;
		c->waiting = false;
	}
	if (c->act) {
		c->act->c = NULL;
		c->act = NULL;
		c->waiting = false;
	}
	tdm_loop_del_fd(ctl.loop, &c->w);
	close(c->w.fd);
	c->w.fd = -1;
	tdm_timer_stop(ctl.loop, &c->idle);
	tdm_list_del(&c->link);
	ctl.nclients--;
	if (keep) {
		c->dead = true;
		tdm_list_add_tail(&ctl.zombies, &c->link);
	} else {
		client_free(c);
	}
}

static void free_zombies(void)
{
	struct tdm_list *pos, *tmp;

	tdm_list_for_each_safe (pos, tmp, &ctl.zombies) {
		tdm_list_del(pos);
		client_free(tdm_list_entry(pos, struct client, link));
	}
}

/* Queue an answer: header and payload in one buffer. */
static void reply(struct client *c, struct tdm_ctl_rsp *rsp,
		  const char *payload, size_t len)
{
	char line[TDM_CTL_LINE_MAX + 1];
	int n;

	rsp->payload_len = len;
	n = tdm_ctl_rsp_format(rsp, line, sizeof(line));
	if (n < 0) {
		/* our own header does not fit: a bug, but say so */
		tdm_ctl_rsp_init(rsp, EOVERFLOW);
		payload = "answer header too long";
		len = strlen(payload);
		rsp->payload_len = len;
		n = tdm_ctl_rsp_format(rsp, line, sizeof(line));
	}
	c->out = malloc((size_t)n + len);
	if (!c->out) {
		log_warnx("control: out of memory for a %zu-byte answer; "
			  "closing the connection of pid %d",
			  len, (int)c->pid);
		c->closing = true;
		return;
	}
	memcpy(c->out, line, (size_t)n);
	if (len)
		memcpy(c->out + n, payload, len);
	c->out_len = (size_t)n + len;
	c->out_off = 0;
}

static void reply_err(struct client *c, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void reply_err(struct client *c, int err, const char *fmt, ...)
{
	struct tdm_ctl_rsp rsp;
	char msg[ERRLEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	tdm_ctl_rsp_init(&rsp, err > 0 && err < 4096 ? err : EIO);
	reply(c, &rsp, msg, strlen(msg));
}

static void reply_ok(struct client *c, struct tdm_ctl_rsp *rsp,
		     const char *payload, size_t len)
{
	reply(c, rsp, payload, len);
}

/* ---- requests ---- */

static void do_status(struct client *c)
{
	const struct tdm_conf *conf = tdm_conf_current();
	struct tdm_session_info *s = NULL;
	struct tdm_ctl_rsp rsp;
	size_t ns = 0;

	tdm_ctl_rsp_init(&rsp, 0);
	tdm_ctl_rsp_add(&rsp, "proto", "%d", TDM_CTL_PROTO_VERSION);
	tdm_ctl_rsp_add(&rsp, "version", "%s", PACKAGE_VERSION);
	tdm_ctl_rsp_add(&rsp, "pid", "%ld", (long)getpid());
	tdm_ctl_rsp_add(&rsp, "epoch", "%llu",
			(unsigned long long)tdm_core_epoch());
	tdm_ctl_rsp_add(&rsp, "uptime", "%llu",
			(unsigned long long)((tdm_now_ns() - ctl.started_ns) /
					     1000000000ull));
	tdm_ctl_rsp_add(&rsp, "config", "%.1000s", tdm_daemon_config_path());
	tdm_ctl_rsp_add(&rsp, "socket", "%.1000s", ctl.path);
	tdm_ctl_rsp_add(&rsp, "devices", "%zu", conf ? conf->ndevices : 0);
	tdm_ctl_rsp_add(&rsp, "targets", "%zu", conf ? conf->ntargets : 0);
	if (tdm_core_sessions(&s, &ns) == 0)
		tdm_ctl_rsp_add(&rsp, "sessions", "%zu", ns);
	tdm_ctl_rsp_add(&rsp, "clients", "%u", ctl.nclients);
	{
		char cluster[512];

		tdm_agent_link_status(cluster, sizeof(cluster));
		tdm_ctl_rsp_add(&rsp, "cluster", "%s", cluster);
		if (tdm_cconf_on())
			tdm_ctl_rsp_add(&rsp, "cluster_conf_epoch", "%llu",
					(unsigned long long)tdm_cconf_epoch());
	}
	free(s);
	tdm_conf_release(conf);
	reply_ok(c, &rsp, NULL, 0);
}

static void do_get_config(struct client *c)
{
	const struct tdm_conf *conf = tdm_conf_current();
	struct tdm_ctl_rsp rsp;
	char *text;
	size_t len;
	int r;

	if (!conf) {
		reply_err(c, EAGAIN, "tandemd has no configuration yet");
		return;
	}
	tdm_ctl_rsp_init(&rsp, 0);
	/* apply runs on this thread: the epoch matches the snapshot */
	tdm_ctl_rsp_add(&rsp, "epoch", "%llu",
			(unsigned long long)tdm_core_epoch());
	r = tdm_conf_write(conf, &text, &len);
	tdm_conf_release(conf);
	if (r < 0) {
		reply_err(c, -r, "cannot write the configuration: %s",
			  strerror(-r));
		return;
	}
	if (len > TDM_CTL_PAYLOAD_MAX)
		reply_err(c, EMSGSIZE,
			  "the configuration is %zu bytes, over "
			  "the protocol's limit of %u",
			  len, TDM_CTL_PAYLOAD_MAX);
	else
		reply_ok(c, &rsp, text, len);
	free(text);
}

static void do_apply(struct client *c)
{
	const struct tdm_ctl_req *req = &c->rx.req;
	const char *name = req->name[0] ? req->name : "<tandemctl>";
	uint64_t now = tdm_core_epoch();
	struct tdm_ctl_rsp rsp;
	struct tdm_conf conf;
	char err[ERRLEN];
	int r;

	if (req->num && req->num != now) {
		log_info("control: pid %d: stale change refused (made on "
			 "epoch %llu, now %llu)",
			 (int)c->pid, (unsigned long long)req->num,
			 (unsigned long long)now);
		reply_err(c, ESTALE,
			  "the configuration changed (epoch %llu, "
			  "not %llu): read it again and redo the change",
			  (unsigned long long)now,
			  (unsigned long long)req->num);
		return;
	}
	r = tdm_conf_parse(c->rx.payload, c->rx.payload_len, name, &conf, err,
			   sizeof(err));
	if (r < 0) {
		reply_err(c, -r, "%s", err);
		return;
	}
	if (!req->force && !conf.ndevices && tdm_daemon_ndevices()) {
		/* an empty or truncated file would take every LU away
		 * from the initiators: only when asked for in so many words */
		log_warnx("control: pid %d (uid %u): %s has no device and "
			  "would remove all %zu, refused (not forced)",
			  (int)c->pid, (unsigned)c->uid, name,
			  tdm_daemon_ndevices());
		reply_err(c, EPERM,
			  "%s has no device: applying it would remove every "
			  "device (%zu) and LU of the running tandemd; "
			  "tandemctl -config FILE -force does that",
			  name, tdm_daemon_ndevices());
		tdm_conf_free(&conf);
		return;
	}
	r = tdm_daemon_apply(&conf, err, sizeof(err));
	tdm_conf_free(&conf);
	if (r < 0) {
		log_warnx("control: configuration from pid %d (%s) not "
			  "applied: %s",
			  (int)c->pid, name, err);
		reply_err(c, -r, "%s", err);
		return;
	}
	log_notice("control: pid %d (uid %u) applied %s, epoch %llu",
		   (int)c->pid, (unsigned)c->uid, name,
		   (unsigned long long)tdm_core_epoch());
	tdm_ctl_rsp_init(&rsp, 0);
	tdm_ctl_rsp_add(&rsp, "epoch", "%llu",
			(unsigned long long)tdm_core_epoch());
	reply_ok(c, &rsp, NULL, 0);
}

static bool client_run(struct client *c);

/* An ordered EDIT came back: answer it and go on with the client. */
static void edit_done(void *arg, int status, uint64_t epoch, const char *msg)
{
	struct client *c = arg;
	struct tdm_ctl_rsp rsp;

	c->wait = NULL;
	c->waiting = false;
	if (status < 0) {
		reply_err(c, -status, "%s", msg);
	} else {
		tdm_ctl_rsp_init(&rsp, 0);
		tdm_ctl_rsp_add(&rsp, "cluster_conf_epoch", "%llu",
				(unsigned long long)epoch);
		tdm_ctl_rsp_add(&rsp, "epoch", "%llu",
				(unsigned long long)tdm_core_epoch());
		reply_ok(c, &rsp, NULL, 0);
	}
	if (!c->dead)
		client_run(c);
}

static void do_edit(struct client *c)
{
	char err[ERRLEN], who[64];
	int r;

	if (!tdm_cconf_on()) {
		reply_err(c, EOPNOTSUPP,
			  "EDIT: tandemd is not in cluster mode (tandemd -A); "
			  "edit with GET-CONFIG and APPLY");
		return;
	}
	snprintf(who, sizeof(who), "pid %d (uid %u)", (int)c->pid,
		 (unsigned)c->uid);
	r = tdm_cconf_submit((const uint8_t *)c->rx.payload, c->rx.payload_len,
			     who, edit_done, c, &c->wait, err, sizeof(err));
	if (r < 0) {
		log_info("control: %s: edit refused: %s", who, err);
		reply_err(c, -r, "%s", err);
		return;
	}
	c->waiting = true;
}

/* The running ALUA states beside the configured ones (tandemctl
 * -list_dgrp, -list_tgrp_attr, -write_config). */
static void do_alua(struct client *c)
{
	struct tdm_tgrp_state *st = NULL;
	size_t n = tdm_core_alua_states(&st);
	struct tdm_ctl_rsp rsp;
	struct tdm_text b = {0};

	tdm_text_printf(&b, "device_group\ttarget_group\tgroup_id\tstate\t"
			    "preferred\tstatus\tconf_state\tconf_preferred\n");
	for (size_t i = 0; i < n; i++)
		tdm_text_printf(&b, "%s\t%s\t%u\t%u\t%d\t%u\t%u\t%d\n",
				st[i].dg, st[i].tg, st[i].group_id, st[i].state,
				st[i].preferred, st[i].status, st[i].conf_state,
				st[i].conf_preferred);
	free(st);
	if (b.oom) {
		free(b.p);
		reply_err(c, ENOMEM, "out of memory");
		return;
	}
	tdm_ctl_rsp_init(&rsp, 0);
	reply_ok(c, &rsp, b.p, b.len);
	free(b.p);
}

static void activate_done(void *arg, int status)
{
	struct act_wait *w = arg;
	struct client *c = w->c;
	struct tdm_ctl_rsp rsp;

	free(w);
	if (!c)
		return;
	c->act = NULL;
	c->waiting = false;
	if (status == -EAGAIN)
		reply_err(c, EAGAIN,
			  "not ordered: this head is fenced / no quorum, "
			  "try again");
	else if (status < 0)
		reply_err(c, -status, "%s", strerror(-status));
	if (status >= 0) {
		tdm_ctl_rsp_init(&rsp, 0);
		reply_ok(c, &rsp, NULL, 0);
	}
	client_run(c);
}

/* ACTIVATE-TGRP and SET-TGRP-STATE: an ALUA transition, ordered in
 * cluster mode (answered by activate_done once every head applied it) */
static void do_activate(struct client *c)
{
	const struct tdm_ctl_req *req = &c->rx.req;
	bool set = req->verb == TDM_CTL_SET_TGRP_STATE;
	struct act_wait *w = calloc(1, sizeof(*w));
	struct tdm_ctl_rsp rsp;
	char who[96], err[ERRLEN];
	int r;

	if (!w) {
		reply_err(c, ENOMEM, "out of memory");
		return;
	}
	snprintf(who, sizeof(who), "tandemctl (pid %d, uid %u)", (int)c->pid,
		 (unsigned)c->uid);
	/* waiting before it is ordered: done may come at once */
	w->c = c;
	c->act = w;
	c->waiting = true;
	if (set)
		r = tdm_core_alua_set_tgrp(req->name, req->name2,
					   (uint8_t)req->num, req->preferred,
					   who, activate_done, w, err,
					   sizeof(err));
	else
		r = tdm_core_alua_activate(req->name, req->name2, who,
					   activate_done, w, err, sizeof(err));
	if (r == 1) /* ordered: activate_done answers */
		return;
	c->act = NULL;
	c->waiting = false;
	free(w);
	if (r < 0) {
		log_info("control: %s: -%s %s -dev_group %s refused: %s", who,
			 set ? "set_tgrp_state" : "activate_tgrp", req->name2,
			 req->name, err);
		reply_err(c, -r, "%s", err);
		return;
	}
	tdm_ctl_rsp_init(&rsp, 0);
	reply_ok(c, &rsp, NULL, 0);
}

static void do_reload(struct client *c)
{
	struct tdm_ctl_rsp rsp;
	char err[ERRLEN];
	int r;

	log_notice("control: pid %d (uid %u) asks to reload %s", (int)c->pid,
		   (unsigned)c->uid, tdm_daemon_config_path());
	r = tdm_daemon_reload(err, sizeof(err));
	if (r < 0) {
		log_warnx("reload failed, configuration unchanged: %s", err);
		reply_err(c, -r, "%s", err);
		return;
	}
	tdm_ctl_rsp_init(&rsp, 0);
	tdm_ctl_rsp_add(&rsp, "epoch", "%llu",
			(unsigned long long)tdm_core_epoch());
	reply_ok(c, &rsp, NULL, 0);
}

static void do_sessions(struct client *c)
{
	struct tdm_session_info *s = NULL;
	struct tdm_text b = {0};
	struct tdm_ctl_rsp rsp;
	size_t n = 0;
	int r;

	r = tdm_core_sessions(&s, &n);
	if (r < 0) {
		reply_err(c, -r, "cannot list sessions: %s", strerror(-r));
		return;
	}
	tdm_text_printf(&b, "id\ttransport\tinitiator\tport\ttarget\trel_port\t"
			    "group\tluns\tinflight\tdetail\n");
	for (size_t i = 0; i < n; i++) {
		struct tdm_session_info *x = &s[i];

		tdm_text_printf(&b, "%llu\t%s\t", (unsigned long long)x->id,
				field(x->transport));
		tdm_text_printf(&b, "%s\t%s\t", field(x->initiator),
				field(x->port));
		tdm_text_printf(&b, "%s\t%u\t%s\t%u\t%d\t", field(x->target),
				x->rel_port, field(x->group), x->nluns,
				x->inflight);
		tdm_text_printf(&b, "%s\n", field(x->detail));
	}
	free(s);
	if (b.oom) {
		free(b.p);
		reply_err(c, ENOMEM, "out of memory");
		return;
	}
	tdm_ctl_rsp_init(&rsp, 0);
	tdm_ctl_rsp_add(&rsp, "sessions", "%zu", n);
	reply_ok(c, &rsp, b.p, b.len);
	free(b.p);
}

static void do_close_session(struct client *c)
{
	uint64_t id = c->rx.req.num;
	struct tdm_ctl_rsp rsp;
	int r = tdm_core_close_session(id);

	if (r == -ENOENT) {
		reply_err(c, ENOENT, "no session %llu", (unsigned long long)id);
		return;
	}
	if (r < 0) {
		reply_err(c, -r, "cannot close session %llu: %s",
			  (unsigned long long)id, strerror(-r));
		return;
	}
	log_notice("control: pid %d (uid %u) closed session %llu", (int)c->pid,
		   (unsigned)c->uid, (unsigned long long)id);
	tdm_ctl_rsp_init(&rsp, 0);
	reply_ok(c, &rsp, NULL, 0);
}

static void do_stats(struct client *c)
{
	const char *only = c->rx.req.name[0] ? c->rx.req.name : NULL;
	struct tdm_dev_stats *s = NULL;
	struct tdm_text b = {0};
	struct tdm_ctl_rsp rsp;
	size_t n = 0, shown = 0;
	int r;

	r = tdm_core_dev_stats(&s, &n);
	if (r < 0) {
		reply_err(c, -r, "cannot read statistics: %s", strerror(-r));
		return;
	}
	tdm_text_printf(
		&b, "device\thandler\tsize\tblock_size\tread_cmds\t"
		    "write_cmds\tother_cmds\tread_bytes\twrite_bytes\terrors\t"
		    "aborts\tinflight\tbacking\n");
	for (size_t i = 0; i < n; i++) {
		struct tdm_dev_stats *x = &s[i];

		if (only && strcmp(only, x->name) != 0)
			continue;
		shown++;
		tdm_text_printf(&b, "%s\t%s\t%llu\t%u\t", field(x->name),
				field(x->handler), (unsigned long long)x->size,
				x->block_size);
		tdm_text_printf(&b, "%llu\t%llu\t%llu\t",
				(unsigned long long)x->read_cmds,
				(unsigned long long)x->write_cmds,
				(unsigned long long)x->other_cmds);
		tdm_text_printf(&b, "%llu\t%llu\t%llu\t%llu\t%d\t%s\n",
				(unsigned long long)x->read_bytes,
				(unsigned long long)x->write_bytes,
				(unsigned long long)x->errors,
				(unsigned long long)x->aborts, x->inflight,
				x->backing);
	}
	free(s);
	if (b.oom) {
		free(b.p);
		reply_err(c, ENOMEM, "out of memory");
		return;
	}
	if (only && !shown) {
		free(b.p);
		reply_err(c, ENOENT, "no device '%s'", only);
		return;
	}
	tdm_ctl_rsp_init(&rsp, 0);
	reply_ok(c, &rsp, b.p, b.len);
	free(b.p);
}

static void do_blackbox(struct client *c)
{
	struct tdm_ctl_rsp rsp;
	char path[PATH_MAX];
	ssize_t n;

	log_notice("control: pid %d (uid %u) asks for the blackbox",
		   (int)c->pid, (unsigned)c->uid);
	n = tdm_log_blackbox_dump(path, sizeof(path));
	if (n == -ENOENT) {
		reply_err(c, ENOENT, "the blackbox is off (--blackbox-size 0)");
		return;
	}
	if (n < 0) {
		reply_err(c, (int)-n, "cannot write the blackbox: %s",
			  strerror((int)-n));
		return;
	}
	tdm_ctl_rsp_init(&rsp, 0);
	if (tdm_ctl_rsp_add(&rsp, "file", "%s", path) < 0) {
		reply_err(c, ENAMETOOLONG,
			  "blackbox written to a path too "
			  "long for an answer");
		return;
	}
	tdm_ctl_rsp_add(&rsp, "bytes", "%zd", n);
	reply_ok(c, &rsp, NULL, 0);
}

static void handle(struct client *c)
{
	log_debug("control: pid %d: %s", (int)c->pid,
		  tdm_ctl_verb_name(c->rx.req.verb));
	switch (c->rx.req.verb) {
	case TDM_CTL_STATUS:
		do_status(c);
		break;
	case TDM_CTL_GET_CONFIG:
		do_get_config(c);
		break;
	case TDM_CTL_APPLY:
		do_apply(c);
		break;
	case TDM_CTL_RELOAD:
		do_reload(c);
		break;
	case TDM_CTL_SESSIONS:
		do_sessions(c);
		break;
	case TDM_CTL_CLOSE_SESSION:
		do_close_session(c);
		break;
	case TDM_CTL_STATS:
		do_stats(c);
		break;
	case TDM_CTL_EDIT:
		do_edit(c);
		break;
	case TDM_CTL_BLACKBOX:
		do_blackbox(c);
		break;
	case TDM_CTL_ALUA:
		do_alua(c);
		break;
	case TDM_CTL_ACTIVATE_TGRP:
	case TDM_CTL_SET_TGRP_STATE:
		do_activate(c);
		break;
	case TDM__CTL_VERB_COUNT:
		reply_err(c, EOPNOTSUPP, "unknown request");
		break;
	}
}

/* ---- client I/O ---- */

/* Write what we can of c->out: 1 when all is written, 0 when the socket
 * is full, -errno when the peer is gone. */
static int flush_out(struct client *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->w.fd, c->out + c->out_off,
				 c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n < 0)
			return -errno;
		c->out_off += (size_t)n;
		tdm_timer_start(ctl.loop, &c->idle, IDLE_MS);
	}
	free(c->out);
	c->out = NULL;
	c->out_len = c->out_off = 0;
	return 1;
}

/* Frame the buffered input; handle at most one complete request. */
static void process_input(struct client *c)
{
	size_t used;
	int r;

	r = tdm_ctl_rx_feed(&c->rx, c->in, c->in_len, &used);
	memmove(c->in, c->in + used, c->in_len - used);
	c->in_len -= used;
	if (r < 0) {
		log_warnx_rl("control: bad request from pid %d (uid %u), "
			     "closing: %s",
			     (int)c->pid, (unsigned)c->uid, c->rx.err);
		reply_err(c, -r, "%s", c->rx.err);
		c->closing = true;
		c->in_len = 0;
		return;
	}
	if (r == 1) {
		handle(c);
		tdm_ctl_rx_next(&c->rx);
	}
}

/*
 * Move c forward as far as it goes without blocking: write the pending
 * answer, then handle buffered requests one by one. Returns false when c
 * was closed (and freed).
 */
static bool client_run(struct client *c)
{
	uint32_t ev;
	int r;

	for (;;) {
		if (c->out) {
			r = flush_out(c);
			if (r < 0) {
				log_debug("control: pid %d went away: %s",
					  (int)c->pid, strerror(-r));
				client_close(c, false);
				return false;
			}
			if (r == 0)
				break;
		}
		if (c->waiting)
			break;
		if (c->closing)
			goto close;
		if (c->in_len) {
			process_input(c);
			continue;
		}
		if (c->eof) {
			if (tdm_ctl_rx_pending(&c->rx))
				log_warnx_rl("control: pid %d closed its end "
					     "in the middle of a request",
					     (int)c->pid);
			goto close;
		}
		break;
	}
	ev = c->out ? EPOLLOUT : c->waiting ? 0 : EPOLLIN;
	if (tdm_loop_mod_fd(ctl.loop, &c->w, ev) < 0) {
		log_warn("control: epoll");
		goto close;
	}
	return true;
close:
	client_close(c, false);
	return false;
}

static void client_cb(struct tdm_fd_watch *w, uint32_t revents)
{
	struct client *c = w->arg;

	if (c->dead)
		return; /* an event of this batch, after tdm_control_stop() */
	if (c->waiting && !c->out) {
		/* only HUP/ERR come while an EDIT is ordered: the peer left */
		if (revents & (EPOLLHUP | EPOLLERR)) {
			log_debug("control: pid %d left before its edit was "
				  "ordered",
				  (int)c->pid);
			client_close(c, false);
		}
		return;
	}
	if ((revents & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !c->out &&
	    !c->closing && !c->eof) {
		ssize_t n;

		do
			n = recv(c->w.fd, c->in + c->in_len,
				 sizeof(c->in) - c->in_len, MSG_DONTWAIT);
		while (n < 0 && errno == EINTR);
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			log_debug("control: pid %d: %s", (int)c->pid,
				  strerror(errno));
			client_close(c, false);
			return;
		}
		if (n == 0)
			c->eof = true;
		if (n > 0) {
			c->in_len += (size_t)n;
			tdm_timer_start(ctl.loop, &c->idle, IDLE_MS);
		}
	}
	client_run(c);
}

static void idle_cb(struct tdm_timer *t)
{
	struct client *c = t->arg;

	log_info("control: pid %d idle for %d s%s, closing its connection",
		 (int)c->pid, IDLE_MS / 1000,
		 c->out ? " (not reading its answer)" : "");
	client_close(c, false);
}

/* ---- listening socket ---- */

static void refuse(int fd, int err, const char *msg)
{
	char buf[256];
	int n = snprintf(buf, sizeof(buf), "ERR %d %zu\n%s", err, strlen(msg),
			 msg);

	if (send(fd, buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		log_debug("control: refusing a client: %s", strerror(errno));
	close(fd);
}

static void pause_cb(struct tdm_timer *t)
{
	if (ctl.running && tdm_loop_mod_fd(ctl.loop, &ctl.lw, EPOLLIN) < 0)
		log_warn("control: epoll");
}

static void accept_one(int fd)
{
	struct {
		pid_t pid;
		uid_t uid;
	} cred;
	struct client *c;

	if (tdm__peer_allowed(fd, "control", &cred.pid, &cred.uid) < 0) {
		close(fd);
		return;
	}
	if (ctl.nclients >= MAX_CLIENTS) {
		log_warnx_rl("control: refused pid %d: %d clients already",
			     (int)cred.pid, MAX_CLIENTS);
		refuse(fd, EBUSY, "too many control connections, try again");
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		log_warnx_rl("control: out of memory for a client");
		refuse(fd, ENOMEM, "out of memory");
		return;
	}
	c->pid = cred.pid;
	c->uid = cred.uid;
	c->w = (struct tdm_fd_watch){
		.fd = fd, .events = EPOLLIN, .cb = client_cb, .arg = c};
	c->idle = (struct tdm_timer){.cb = idle_cb, .arg = c};
	tdm_ctl_rx_init(&c->rx, TDM_CTL_RX_REQUEST);
	if (tdm_loop_add_fd(ctl.loop, &c->w) < 0) {
		log_warn("control: epoll");
		close(fd);
		free(c);
		return;
	}
	tdm_list_add_tail(&ctl.clients, &c->link);
	ctl.nclients++;
	tdm_timer_start(ctl.loop, &c->idle, IDLE_MS);
	log_debug("control: pid %d (uid %u) connected", (int)c->pid,
		  (unsigned)c->uid);
}

static void listen_cb(struct tdm_fd_watch *w, uint32_t revents)
{
	if (!ctl.running)
		return;
	for (int i = 0; i < 16; i++) {
		int fd = accept4(w->fd, NULL, NULL,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd >= 0) {
			accept_one(fd);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return;
		/* EMFILE, ENFILE, ENOBUFS, ENOMEM: do not spin on it */
		log_warn("control: accept");
		tdm_loop_mod_fd(ctl.loop, &ctl.lw, 0);
		ctl.pause.cb = pause_cb;
		tdm_timer_start(ctl.loop, &ctl.pause, ACCEPT_PAUSE_MS);
		return;
	}
}

static int failf(char *err, size_t errlen, int r, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int failf(char *err, size_t errlen, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return r;
}

/* mkdir -p of path's directory; new directories get mode 0750. */
static int make_parent(const char *path, char *err, size_t errlen)
{
	char dir[sizeof(ctl.path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	for (char *p = dir + 1;; p++) {
		bool last = *p == '\0';

		if (*p != '/' && !last)
			continue;
		*p = '\0';
		if (mkdir(dir, 0750) < 0 && errno != EEXIST)
			return failf(err, errlen, -errno,
				     "cannot create %s: %s", dir,
				     strerror(errno));
		if (last)
			break;
		*p = '/';
	}
	return 0;
}

/* An existing socket file: stale (removed) or served (-EADDRINUSE). */
static int check_existing(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	int fd, r;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return failf(err, errlen, -errno, "%s: %s", path,
			     strerror(errno));
	}
	if (!S_ISSOCK(st.st_mode))
		return failf(err, errlen, -EEXIST,
			     "%s exists and is not a "
			     "socket",
			     path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return failf(err, errlen, -errno, "socket: %s",
			     strerror(errno));
	r = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
	close(fd);
	if (r == 0 || r == -EAGAIN)
		return failf(err, errlen, -EADDRINUSE,
			     "%s is in use (another "
			     "tandemd?)",
			     path);
	if (unlink(path) < 0 && errno != ENOENT)
		return failf(err, errlen, -errno,
			     "cannot remove the stale "
			     "socket %s: %s",
			     path, strerror(errno));
	log_info("control: removed the stale socket %s", path);
	return 0;
}

int tdm__unix_listen(const char *path, int *fdp, struct stat *st, char *err,
		     size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	mode_t mask;
	int fd, r;

	if (!path || !*path)
		return failf(err, errlen, -EINVAL, "no socket path");
	if (strlen(path) >= sizeof(sa.sun_path))
		return failf(err, errlen, -ENAMETOOLONG,
			     "socket path %s is "
			     "longer than %zu bytes",
			     path, sizeof(sa.sun_path) - 1);
	r = make_parent(path, err, errlen);
	if (!r)
		r = check_existing(path, err, errlen);
	if (r)
		return r;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return failf(err, errlen, -errno, "socket: %s",
			     strerror(errno));
	/* created with its final mode 0660, never wider for a moment (the
	 * umask is the process's: this runs at start-up, before anything
	 * else creates files) */
	mask = umask(S_IXUSR | S_IXGRP | S_IRWXO);
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
	umask(mask);
	if (r < 0) {
		r = failf(err, errlen, r, "bind %s: %s", path, strerror(-r));
		close(fd);
		return r;
	}
	if (stat(path, st) < 0 || listen(fd, 16) < 0) {
		r = failf(err, errlen, -errno, "%s: %s", path, strerror(errno));
		unlink(path);
		close(fd);
		return r;
	}
	*fdp = fd;
	return 0;
}

int tdm__peer_allowed(int fd, const char *what, pid_t *pid, uid_t *uid)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		log_warn("%s: SO_PEERCRED", what);
		return -errno;
	}
	if (cred.uid != 0 && cred.uid != geteuid()) {
		log_warnx_rl("%s: refused pid %d (uid %u): only root or "
			     "uid %u may connect",
			     what, (int)cred.pid, (unsigned)cred.uid,
			     (unsigned)geteuid());
		return -EPERM;
	}
	*pid = cred.pid;
	*uid = cred.uid;
	return 0;
}

int tdm_control_start(struct tdm_loop *main_loop, const char *path, char *err,
		      size_t errlen)
{
	struct stat st;
	int fd, r;

	free_zombies();
	if (ctl.running)
		return failf(err, errlen, -EALREADY,
			     "control socket already "
			     "started on %s",
			     ctl.path);
	if (!main_loop)
		return failf(err, errlen, -EINVAL, "no loop");
	r = tdm__unix_listen(path, &fd, &st, err, errlen);
	if (r)
		return r;
	ctl.loop = main_loop;
	ctl.lw = (struct tdm_fd_watch){
		.fd = fd, .events = EPOLLIN, .cb = listen_cb, .arg = NULL};
	r = tdm_loop_add_fd(main_loop, &ctl.lw);
	if (r < 0) {
		unlink(path);
		close(fd);
		return failf(err, errlen, r, "epoll: %s", strerror(-r));
	}
	snprintf(ctl.path, sizeof(ctl.path), "%s", path);
	ctl.dev = st.st_dev;
	ctl.ino = st.st_ino;
	ctl.started_ns = tdm_now_ns();
	ctl.running = true;
	log_info("control: listening on %s", path);
	return 0;
}

/*
 * May run inside an event callback of the main loop (SIGTERM): the
 * clients' memory is kept until the next call, since events already
 * collected in this loop iteration may still point at their watches.
 */
void tdm_control_stop(void)
{
	struct tdm_list *pos, *tmp;
	struct stat st;

	free_zombies();
	if (!ctl.running)
		return;
	ctl.running = false;
	tdm_timer_stop(ctl.loop, &ctl.pause);
	tdm_loop_del_fd(ctl.loop, &ctl.lw);
	close(ctl.lw.fd);
	/* remove the socket only if it is still ours */
	if (stat(ctl.path, &st) == 0 && st.st_dev == ctl.dev &&
	    st.st_ino == ctl.ino)
		unlink(ctl.path);
	tdm_list_for_each_safe (pos, tmp, &ctl.clients)
		client_close(tdm_list_entry(pos, struct client, link), true);
	log_info("control: stopped");
}
