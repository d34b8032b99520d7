/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * metrics.c - the metrics endpoint: the Prometheus text exposition format
 * 0.0.4 at /metrics and the status page (status_page.c) at / and /status,
 * served by libmicrohttpd on tandemd's main loop, off unless the
 * configuration names metrics_listen (docs/observability.md).
 *
 * Threads: none of its own. MHD runs in its external-epoll mode
 * (MHD_USE_EPOLL without an internal thread): its epoll fd is one watch of
 * the main loop and a main-loop timer follows MHD_get_timeout(), so every
 * request handler runs on the main thread, which owns the registry's
 * pointers, the agent link's state and the cluster's view; it reads the
 * counters through the core's snapshots (include/tandem/metrics.h,
 * include/tandem/admin.h), which take the core's own locks as tandemctl's
 * requests do. No lock is added.
 *
 * Bounds: at most CONN_MAX connections (PER_IP_MAX from one address), a
 * connection idle for TIMEOUT_S seconds is closed, CONN_MEM bytes for a
 * request's headers; GET and HEAD only (405 with Allow otherwise), 404
 * for other paths. The query string is not read.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>

#include "targetd/daemon.h"
#include "targetd/metrics.h"
#include "tandem/admin.h"
#include "tandem/metrics.h"
#include "lib/log.h"

#define CONN_MAX 16
#define PER_IP_MAX 8
#define TIMEOUT_S 10
#define CONN_MEM (32 * 1024)

static struct {
	struct MHD_Daemon *d;
	struct tdm_loop *loop;
	struct tdm_fd_watch watch;
	struct tdm_timer timer;
	char listen[80];
	time_t started;
} m;

/* ---- text ---- */

/* Exposition format 0.0.4: a label value escapes \, " and newline. */
static void label(struct tdm_text *t, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			tdm_text_put(t, "\\\\", 2);
		else if (*s == '"')
			tdm_text_put(t, "\\\"", 2);
		else if (*s == '\n')
			tdm_text_put(t, "\\n", 2);
		else
			tdm_text_put(t, s, 1);
	}
}

/* SPC-4 6.37, table 215 (ASYMMETRIC ACCESS STATE) */
const uint8_t tdm__alua_states[6] = {0x0, 0x1, 0x2, 0x3, 0xE, 0xF};

const char *tdm__alua_name(uint8_t state)
{
	switch (state) {
	case 0x0:
		return "active_optimized";
	case 0x1:
		return "active_nonoptimized";
	case 0x2:
		return "standby";
	case 0x3:
		return "unavailable";
	case 0xE:
		return "offline";
	case 0xF:
		return "transitioning";
	}
	return "unknown";
}

/* ---- the exposition ---- */

static void help(struct tdm_text *t, const char *name, const char *type,
		 const char *text)
{
	tdm_text_printf(t, "# HELP %s %s\n# TYPE %s %s\n", name, text, name,
			type);
}

/* A family of one sample without labels. */
static void one(struct tdm_text *t, const char *name, const char *type,
		const char *text, uint64_t v)
{
	help(t, name, type, text);
	tdm_text_printf(t, "%s %llu\n", name, (unsigned long long)v);
}

static const char *const kind_names[TDM_IO_KINDS] = {"read", "write", "other"};

/* A seconds value from nanoseconds, exactly (no float rounding), without
 * trailing zeros: 0.00005, 2.5, 10. */
static void seconds(struct tdm_text *t, uint64_t ns)
{
	char frac[16];
	int n;

	tdm_text_printf(t, "%llu", (unsigned long long)(ns / 1000000000));
	if (!(ns % 1000000000))
		return;
	n = snprintf(frac, sizeof(frac), ".%09llu",
		     (unsigned long long)(ns % 1000000000));
	while (n > 1 && frac[n - 1] == '0')
		n--;
	tdm_text_put(t, frac, (size_t)n);
}

/*
 * The I/O families of one kind of object: pre is "tandem_lu" or
 * "tandem_port", sel(i) writes object i's labels (without braces).
 */
struct io_obj {
	const struct tdm_io_snapshot *io;
	char labels[512]; /* already escaped: lu="d0" */
};

static const char *kind_name(unsigned k)
{
	return kind_names[k];
}

static const char *status_name(unsigned k)
{
	return tdm_io_status_name((enum tdm_io_status)k);
}

static uint64_t v_cmds(const struct tdm_io_snapshot *io, unsigned k)
{
	return io->cmds[k];
}

static uint64_t v_read_bytes(const struct tdm_io_snapshot *io, unsigned k)
{
	(void)k;
	return io->bytes[TDM_IO_READ];
}

static uint64_t v_written_bytes(const struct tdm_io_snapshot *io, unsigned k)
{
	(void)k;
	return io->bytes[TDM_IO_WRITE];
}

static uint64_t v_sense(const struct tdm_io_snapshot *io, unsigned k)
{
	return io->sense[k];
}

static uint64_t v_status(const struct tdm_io_snapshot *io, unsigned k)
{
	return io->status[k];
}

static uint64_t v_inflight(const struct tdm_io_snapshot *io, unsigned k)
{
	(void)k;
	return io->inflight > 0 ? (uint64_t)io->inflight : 0;
}

/* A family of the I/O snapshot: one sample per object, or with lname
 * one per object and value k < nk of that label (kname(k)); sparse: the
 * zero samples left out (the errors: a series appears at its first). */
static const struct io_fam {
	const char *suffix, *type, *help;
	const char *lname;
	unsigned nk;
	const char *(*kname)(unsigned k);
	bool sparse;
	uint64_t (*val)(const struct tdm_io_snapshot *io, unsigned k);
} io_fams[] = {
	{"_commands_total", "counter",
	 "SCSI commands completed, by kind (read, write: medium access "
	 "moving blocks; other: the rest)",
	 "op", TDM_IO_KINDS, kind_name, false, v_cmds},
	{"_read_bytes_total", "counter",
	 "Bytes read by commands that ended GOOD", NULL, 1, NULL, false,
	 v_read_bytes},
	{"_written_bytes_total", "counter",
	 "Bytes written by commands that ended GOOD", NULL, 1, NULL, false,
	 v_written_bytes},
	{"_errors_total", "counter",
	 "Commands that ended in CHECK CONDITION, by sense key (SPC-4 "
	 "table 48; unit attentions included)",
	 "sense_key", 16, tdm_sense_key_name, true, v_sense},
	{"_status_total", "counter",
	 "Commands that ended neither GOOD nor in CHECK CONDITION, by "
	 "status (aborted: by a task management function, no status)",
	 "status", TDM_IOS_COUNT, status_name, true, v_status},
	{"_commands_in_flight", "gauge",
	 "Commands received and not yet completed (the queue depth)", NULL, 1,
	 NULL, false, v_inflight},
};

static void io_fam(struct tdm_text *t, const char *pre, const struct io_fam *f,
		   const struct io_obj *o, size_t n)
{
	char name[96];
	size_t i;
	unsigned k;

	snprintf(name, sizeof(name), "%s%s", pre, f->suffix);
	help(t, name, f->type, f->help);
	for (i = 0; i < n; i++)
		for (k = 0; k < f->nk; k++) {
			uint64_t v = f->val(o[i].io, k);

			if (f->sparse && !v)
				continue;
			if (f->lname)
				tdm_text_printf(t, "%s{%s,%s=\"%s\"} %llu\n",
						name, o[i].labels, f->lname,
						f->kname(k),
						(unsigned long long)v);
			else
				tdm_text_printf(t, "%s{%s} %llu\n", name,
						o[i].labels,
						(unsigned long long)v);
		}
}

/* The latency histograms: cumulative buckets, _sum, _count per op. */
static void io_histogram(struct tdm_text *t, const char *pre,
			 const struct io_obj *o, size_t n)
{
	char name[96];
	size_t i;
	unsigned k, b;

	snprintf(name, sizeof(name), "%s_command_duration_seconds", pre);
	help(t, name, "histogram",
	     "Time from a command's arrival in the core to its status "
	     "handed to the transport (a write's includes its data-out)");
	for (i = 0; i < n; i++)
		for (k = 0; k < TDM_IO_KINDS; k++) {
			uint64_t cum = 0;

			for (b = 0; b <= TDM_LAT_BOUNDS; b++) {
				cum += o[i].io->lat[k][b];
				tdm_text_printf(
					t, "%s_bucket{%s,op=\"%s\",le=\"", name,
					o[i].labels, kind_names[k]);
				if (b < TDM_LAT_BOUNDS)
					seconds(t, tdm_lat_bounds_ns[b]);
				else
					tdm_text_put(t, "+Inf", 4);
				tdm_text_printf(t, "\"} %llu\n",
						(unsigned long long)cum);
			}
			tdm_text_printf(t, "%s_sum{%s,op=\"%s\"} ", name,
					o[i].labels, kind_names[k]);
			seconds(t, o[i].io->lat_sum_ns[k]);
			tdm_text_printf(t, "\n%s_count{%s,op=\"%s\"} %llu\n",
					name, o[i].labels, kind_names[k],
					(unsigned long long)cum);
		}
}

/* The I/O families of one kind of object: pre is "tandem_lu" or
 * "tandem_port". */
static void io_families(struct tdm_text *t, const char *pre,
			const struct io_obj *o, size_t n)
{
	size_t k;

	for (k = 0; k < sizeof(io_fams) / sizeof(io_fams[0]); k++)
		io_fam(t, pre, &io_fams[k], o, n);
	io_histogram(t, pre, o, n);
}

/* name="v" with v escaped, into out */
static void escaped(char *out, size_t len, const char *name, const char *v)
{
	struct tdm_text t = {0};

	label(&t, v);
	snprintf(out, len, "%s=\"%s\"", name, t.p ? t.p : "");
	free(t.p);
}

/* The LU's own gauges, in the order of lu_gauge() */
static const struct {
	const char *name, *help;
} lu_gauges[] = {
	{"tandem_lu_size_bytes", "Capacity of the LU"},
	{"tandem_lu_pr_generation",
	 "Persistent reservations: PRGENERATION (SPC-4 6.16.2)"},
	{"tandem_lu_pr_registrations",
	 "Persistent reservations: registered I_T nexuses"},
	{"tandem_lu_pr_reserved",
	 "Persistent reservations: 1 when a reservation holds the LU"},
};

static uint64_t lu_gauge(const struct tdm_lu_metrics *lu, size_t k)
{
	switch (k) {
	case 0:
		return lu->size;
	case 1:
		return lu->pr_generation;
	case 2:
		return lu->pr_registrations;
	default:
		return lu->pr_reserved;
	}
}

/* The objects' label sets (malloc'ed), or NULL: v freed, t's oom set. */
static struct io_obj *objs(struct tdm_text *t, void *v, size_t n)
{
	struct io_obj *o = calloc(n ? n : 1, sizeof(*o));

	if (!o) {
		free(v);
		t->oom = true;
	}
	return o;
}

static void lu_metrics(struct tdm_text *t)
{
	struct tdm_lu_metrics *v = NULL;
	struct io_obj *o;
	size_t n = 0, i, k;

	if (tdm_core_lu_metrics(&v, &n) < 0)
		return;
	o = objs(t, v, n);
	if (!o)
		return;
	for (i = 0; i < n; i++) {
		o[i].io = &v[i].io;
		escaped(o[i].labels, sizeof(o[i].labels), "lu", v[i].name);
	}
	help(t, "tandem_lu_info", "gauge",
	     "A logical unit of the running configuration (value 1)");
	for (i = 0; i < n; i++)
		tdm_text_printf(t, "tandem_lu_info{%s,handler=\"%s\"} 1\n",
				o[i].labels, v[i].handler);
	for (k = 0; k < sizeof(lu_gauges) / sizeof(lu_gauges[0]); k++) {
		help(t, lu_gauges[k].name, "gauge", lu_gauges[k].help);
		for (i = 0; i < n; i++)
			tdm_text_printf(t, "%s{%s} %llu\n", lu_gauges[k].name,
					o[i].labels,
					(unsigned long long)lu_gauge(&v[i], k));
	}
	io_families(t, "tandem_lu", o, n);
	free(o);
	free(v);
}

static void port_metrics(struct tdm_text *t)
{
	struct tdm_session_info *s = NULL;
	struct tdm_port_metrics *v = NULL;
	struct io_obj *o;
	size_t n = 0, ns = 0, i, j;

	if (tdm_core_port_metrics(&v, &n) < 0)
		return;
	o = objs(t, v, n);
	if (!o)
		return;
	for (i = 0; i < n; i++) {
		char tgt[300];

		o[i].io = &v[i].io;
		escaped(tgt, sizeof(tgt), "target", v[i].target);
		snprintf(o[i].labels, sizeof(o[i].labels), "port=\"%u\",%s",
			 v[i].rel_port, tgt);
	}
	if (tdm_core_sessions(&s, &ns) < 0)
		ns = 0;
	help(t, "tandem_port_sessions", "gauge",
	     "Sessions (I_T nexuses) on the target port");
	for (i = 0; i < n; i++) {
		unsigned c = 0;

		for (j = 0; j < ns; j++)
			c += s[j].rel_port == v[i].rel_port;
		tdm_text_printf(t, "tandem_port_sessions{%s} %u\n", o[i].labels,
				c);
	}
	free(s);
	io_families(t, "tandem_port", o, n);
	free(o);
	free(v);
}

static void alua_metrics(struct tdm_text *t)
{
	struct tdm_tgrp_state *st = NULL;
	size_t n = tdm_core_alua_states(&st), i, k;

	help(t, "tandem_alua_state", "gauge",
	     "ALUA access state of each target port group as initiators see "
	     "it on this head: 1 for its state, 0 for the others");
	for (i = 0; i < n; i++) {
		char dg[160], tg[160];

		escaped(dg, sizeof(dg), "device_group", st[i].dg);
		escaped(tg, sizeof(tg), "target_group", st[i].tg);
		for (k = 0; k < 6; k++)
			tdm_text_printf(
				t,
				"tandem_alua_state{%s,%s,group_id=\"%u\","
				"state=\"%s\"} %d\n",
				dg, tg, st[i].group_id,
				tdm__alua_name(tdm__alua_states[k]),
				st[i].state == tdm__alua_states[k]);
	}
	help(t, "tandem_alua_preferred", "gauge",
	     "The PREF bit of each target port group (RTPG)");
	for (i = 0; i < n; i++) {
		char dg[160], tg[160];

		escaped(dg, sizeof(dg), "device_group", st[i].dg);
		escaped(tg, sizeof(tg), "target_group", st[i].tg);
		tdm_text_printf(
			t, "tandem_alua_preferred{%s,%s,group_id=\"%u\"} %d\n",
			dg, tg, st[i].group_id, st[i].preferred);
	}
	free(st);
}

static void head_metrics(struct tdm_text *t)
{
	struct tdm_agent_info a;

	tdm_agent_link_info(&a);
	help(t, "tandem_build_info", "gauge", "tandemd's version (value 1)");
	tdm_text_printf(t, "tandem_build_info{version=\"%s\"} 1\n",
			PACKAGE_VERSION);
	one(t, "tandem_start_time_seconds", "gauge",
	    "When tandemd started serving metrics, seconds since the epoch",
	    (uint64_t)m.started);
	one(t, "tandem_config_epoch", "gauge",
	    "Configurations applied since tandemd started (the epoch "
	    "tandemctl shows)",
	    tdm_core_epoch());
	one(t, "tandem_cluster_mode", "gauge",
	    "1 when tandemd runs in cluster mode (tandemd -A)", a.running);
	one(t, "tandem_cluster_agent_connected", "gauge",
	    "1 when tandem-agentd is connected to this head", a.connected);
	one(t, "tandem_cluster_serving", "gauge",
	    "1 when this head serves I/O (a single head always does; in "
	    "cluster mode: the agent says serving and is not silent)",
	    !tdm_cluster_is_fenced());
	one(t, "tandem_cluster_fenced", "gauge",
	    "1 when this head refuses media access (cluster mode, not "
	    "serving)",
	    tdm_cluster_is_fenced());
	one(t, "tandem_cluster_quorate", "gauge",
	    "1 when the agent reports quorum (votequorum)", a.quorate);
	one(t, "tandem_cluster_members", "gauge",
	    "Members of the agents' group as the agent reports it", a.members);
	one(t, "tandem_cluster_agent_silent", "gauge",
	    "1 when the agent sent nothing within --agent-timeout", a.silent);
	one(t, "tandem_cluster_protocol_version", "gauge",
	    "The protocol version the cluster runs at", a.group_version);
	one(t, "tandem_cluster_ordered_pending", "gauge",
	    "Operations this head sent to be ordered whose result has not "
	    "come back",
	    tdm_cluster_pending_count());
	one(t, "tandem_cluster_ordered_applied_total", "counter",
	    "Ordered operations applied on this head since the link came up",
	    a.applied);
	one(t, "tandem_cluster_ordered_rejected_total", "counter",
	    "Operations of this head the agent did not order", a.rejected);
}

static void exposition(struct tdm_text *t)
{
	head_metrics(t);
	alua_metrics(t);
	lu_metrics(t);
	port_metrics(t);
}

/* ---- HTTP ---- */

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code,
			     const char *type, struct tdm_text *t)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (t->oom) {
		free(t->p);
		t->p = NULL;
		t->len = 0;
		code = MHD_HTTP_SERVICE_UNAVAILABLE;
		type = "text/plain; charset=utf-8";
	}
	r = MHD_create_response_from_buffer(t->len, t->p ? t->p : (char *)"",
					    t->p ? MHD_RESPMEM_MUST_FREE
						 : MHD_RESPMEM_PERSISTENT);
	if (!r) {
		free(t->p);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (code == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c,
			       const char *url, const char *method,
			       const char *version, const char *upload_data,
			       size_t *upload_data_size, void **con_cls)
{
	struct tdm_text t = {0};

	(void)cls;
	(void)version;
	(void)upload_data;
	(void)con_cls;
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
		/* the body, if any, is not read: the connection closes */
		*upload_data_size = 0;
		tdm_text_printf(&t, "405 method not allowed: GET or HEAD\n");
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED,
			     "text/plain; charset=utf-8", &t);
	}
	if (strcmp(url, "/metrics") == 0) {
		exposition(&t);
		return reply(c, MHD_HTTP_OK,
			     "text/plain; version=0.0.4; charset=utf-8", &t);
	}
	if (strcmp(url, "/") == 0 || strcmp(url, "/status") == 0) {
		tdm__status_page(&t);
		return reply(c, MHD_HTTP_OK, "text/html; charset=utf-8", &t);
	}
	tdm_text_printf(&t, "404 not found: /metrics, /status\n");
	return reply(c, MHD_HTTP_NOT_FOUND, "text/plain; charset=utf-8", &t);
}

/* MHD's own messages (MHD_OPTION_EXTERNAL_LOGGER): its format strings */
static void mhd_log(void *cls, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[256];

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	log_warnx_rl("metrics: %s", msg);
}

/* After every MHD_run: when MHD wants to run again without activity
 * (a connection's timeout, or data it already holds). */
static void rearm(void)
{
	MHD_UNSIGNED_LONG_LONG ms;

	tdm_timer_stop(m.loop, &m.timer);
	if (MHD_get_timeout(m.d, &ms) == MHD_YES)
		tdm_timer_start(m.loop, &m.timer, ms);
}

static void run(void)
{
	MHD_run(m.d);
	rearm();
}

static void watch_cb(struct tdm_fd_watch *w, uint32_t revents)
{
	(void)w;
	(void)revents;
	run();
}

static void timer_cb(struct tdm_timer *tm)
{
	(void)tm;
	run();
}

void tdm_metrics_stop(void)
{
	if (!m.d)
		return;
	tdm_loop_del_fd(m.loop, &m.watch);
	tdm_timer_stop(m.loop, &m.timer);
	MHD_stop_daemon(m.d);
	m.d = NULL;
	log_notice("metrics: stopped serving on %s", m.listen);
	m.listen[0] = '\0';
}

/* "a.b.c.d:port" or "[v6%zone]:port", as conf/ normalised it */
static int to_sockaddr(const char *s, struct sockaddr_storage *ss,
		       socklen_t *len)
{
	char host[80];
	const char *colon = strrchr(s, ':');
	unsigned long port;
	char *end;
	size_t n;

	if (!colon)
		return -EINVAL;
	port = strtoul(colon + 1, &end, 10);
	if (*end || port < 1 || port > 65535)
		return -EINVAL;
	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
		char *pct;

		n = (size_t)(colon - s);
		if (n < 3 || s[n - 1] != ']' || n - 2 >= sizeof(host))
			return -EINVAL;
		memcpy(host, s + 1, n - 2);
		host[n - 2] = '\0';
		pct = strchr(host, '%');
		if (pct) {
			*pct = '\0';
			a->sin6_scope_id = if_nametoindex(pct + 1);
			if (!a->sin6_scope_id)
				return -ENODEV;
		}
		if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
			return -EINVAL;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		*len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		n = (size_t)(colon - s);
		if (n >= sizeof(host))
			return -EINVAL;
		memcpy(host, s, n);
		host[n] = '\0';
		if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
			return -EINVAL;
		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		*len = sizeof(*a);
	}
	return 0;
}

int tdm_metrics_apply(struct tdm_loop *loop, const struct tdm_conf *c,
		      char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	const union MHD_DaemonInfo *info;
	struct MHD_Daemon *d;
	unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	socklen_t sl;
	int r;

	if (strcmp(c->metrics_listen, m.listen) == 0)
		return 0; /* unchanged (also: off and off) */
	if (!c->metrics_listen[0]) {
		tdm_metrics_stop();
		return 0;
	}
	r = to_sockaddr(c->metrics_listen, &ss, &sl);
	if (r < 0) {
		snprintf(err, errlen, "%s: metrics_listen %s: %s", c->source,
			 c->metrics_listen, strerror(-r));
		return r;
	}
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* the port argument is ignored with MHD_OPTION_SOCK_ADDR */
	/* the logger first: MHD's messages about the options go to it */
	d = MHD_start_daemon(
		flags, 0, NULL, NULL, handler, NULL, MHD_OPTION_EXTERNAL_LOGGER,
		mhd_log, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONN_MAX,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)PER_IP_MAX,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)TIMEOUT_S,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEM,
		MHD_OPTION_END);
	if (!d) {
		r = errno ? -errno : -EADDRNOTAVAIL;
		snprintf(err, errlen,
			 "%s: metrics_listen %s: cannot serve there (%s)",
			 c->source, c->metrics_listen, strerror(-r));
		return r;
	}
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info || info->epoll_fd < 0) {
		MHD_stop_daemon(d);
		snprintf(err, errlen,
			 "metrics: no epoll fd from libmicrohttpd");
		return -EINVAL;
	}
	tdm_metrics_stop(); /* a move: the new address is bound first */
	m.d = d;
	m.loop = loop;
	m.watch = (struct tdm_fd_watch){
		.fd = info->epoll_fd, .events = EPOLLIN, .cb = watch_cb};
	m.timer = (struct tdm_timer){.cb = timer_cb};
	r = tdm_loop_add_fd(loop, &m.watch);
	if (r < 0) {
		MHD_stop_daemon(d);
		m.d = NULL;
		snprintf(err, errlen, "metrics: %s", strerror(-r));
		return r;
	}
	snprintf(m.listen, sizeof(m.listen), "%s", c->metrics_listen);
	if (!m.started)
		m.started = time(NULL);
	rearm();
	log_notice("metrics: serving /metrics and /status on %s", m.listen);
	return 0;
}
