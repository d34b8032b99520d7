/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * portal.c - listening sockets (network portals, RFC 7143 3.4.1) on the
 * main loop. An accepted connection is handed to a worker loop and lives
 * there from then on.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "iscsi/iscsi_int.h"
#include "lib/log.h"

#define ISCSI_PORT 3260 /* RFC 7143 13.8: well-known port */
#define LISTEN_BACKLOG 128
#define ACCEPTS_PER_WAKEUP 64
#define ACCEPT_PAUSE_MS 500	   /* after EMFILE and friends */
#define PENDING_LOGINS_DEFAULT 256 /* TARGET_DRIVER max_pending_logins */

/*
 * The cap on connections not in full feature phase yet (main loop only;
 * session.c counts them). One descriptor is kept in reserve: when
 * accept() fails for want of descriptors it is given up for a moment to
 * accept and close what waits, so that those peers get an answer rather
 * than a timeout, and the portals pause instead of spinning.
 */
static unsigned prelogin_max = PENDING_LOGINS_DEFAULT;
static int reserve_fd = -1;

struct portal {
	struct tdm_list link;
	int fd;
	struct tdm_fd_watch w;
	struct tdm_timer pause;
	struct tdm_loop *loop;
	struct sockaddr_storage ss;
	socklen_t len;
	char name[96];
	bool keep;
};

static struct tdm_list portals = TDM_LIST_INIT(portals);

void tdm__iscsi_sockaddr_str(const struct sockaddr *sa, char *ip, size_t iplen,
			     uint16_t *port)
{
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;

		inet_ntop(AF_INET6, &s6->sin6_addr, ip, (socklen_t)iplen);
		*port = ntohs(s6->sin6_port);
	} else {
		const struct sockaddr_in *s4 = (const void *)sa;

		inet_ntop(AF_INET, &s4->sin_addr, ip, (socklen_t)iplen);
		*port = ntohs(s4->sin_port);
	}
}

int tdm__iscsi_parse_portal(const char *s, struct sockaddr_storage *ss,
			    socklen_t *len)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *port_s = NULL;
	uint64_t port = ISCSI_PORT;
	size_t hl;

	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		const char *end = strchr(s, ']');

		if (!end)
			return -EINVAL;
		hl = (size_t)(end - s - 1);
		if (hl >= sizeof(host))
			return -EINVAL;
		memcpy(host, s + 1, hl);
		host[hl] = '\0';
		if (end[1] == ':')
			port_s = end + 2;
		else if (end[1])
			return -EINVAL;
	} else {
		const char *colon = strchr(s, ':');

		if (colon && strchr(colon + 1, ':'))
			colon = NULL; /* a bare IPv6 address */
		hl = colon ? (size_t)(colon - s) : strlen(s);
		if (hl >= sizeof(host))
			return -EINVAL;
		memcpy(host, s, hl);
		host[hl] = '\0';
		if (colon)
			port_s = colon + 1;
	}
	if (port_s &&
	    (tdm__iscsi_parse_num(port_s, &port) || port == 0 || port > 65535))
		return -EINVAL;
	if (!strcmp(host, "*") || !host[0])
		snprintf(host, sizeof(host), "0.0.0.0");
	if (strchr(host, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1)
			return -EINVAL;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
			return -EINVAL;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*len = sizeof(*s4);
	}
	return 0;
}

static void reserve_open(void)
{
	if (reserve_fd < 0)
		reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static void pause_cb(struct tdm_timer *t)
{
	struct portal *p = t->arg;

	reserve_open();
	if (p->fd >= 0 && tdm_loop_mod_fd(p->loop, &p->w, EPOLLIN) < 0)
		log_warnx("iscsi: %s: cannot watch the portal again", p->name);
}

/* accept() failed with e: answer what waits if we can, then pause. */
static void accept_trouble(struct portal *p, int e)
{
	unsigned shed = 0;

	if ((e == EMFILE || e == ENFILE) && reserve_fd >= 0) {
		close(reserve_fd);
		reserve_fd = -1;
		while (shed < LISTEN_BACKLOG) {
			int fd = accept4(p->fd, NULL, NULL, SOCK_CLOEXEC);

			if (fd < 0)
				break;
			close(fd);
			shed++;
		}
		reserve_open();
	}
	log_warnx_rl("iscsi: accept on %s: %s: %u connection%s closed at "
		     "once, not accepting for %d ms",
		     p->name, strerror(e), shed, shed == 1 ? "" : "s",
		     ACCEPT_PAUSE_MS);
	tdm_loop_mod_fd(p->loop, &p->w, 0);
	tdm_timer_start(p->loop, &p->pause, ACCEPT_PAUSE_MS);
}

static void accept_cb(struct tdm_fd_watch *w, uint32_t revents)
{
	struct portal *p = w->arg;

	for (int i = 0; i < ACCEPTS_PER_WAKEUP; i++) {
		struct sockaddr_storage peer, local;
		socklen_t pl = sizeof(peer), ll = sizeof(local);
		struct tdm__iscsi_conn *c;
		struct tdm_loop *loop;
		int one = 1;
		int fd = accept4(p->fd, (struct sockaddr *)&peer, &pl,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				accept_trouble(p, errno);
			return;
		}
		if (tdm__iscsi_shutting_down) {
			close(fd);
			continue;
		}
		if (!tdm__iscsi_prelogin_room(prelogin_max)) {
			log_warnx_rl(
				"iscsi: %s: over %u connections logging "
				"in (max_pending_logins), a new one refused",
				p->name, prelogin_max);
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
		if (getsockname(fd, (struct sockaddr *)&local, &ll)) {
			close(fd);
			continue;
		}
		c = tdm__iscsi_conn_new(fd, (struct sockaddr *)&local,
					(struct sockaddr *)&peer);
		if (!c) {
			log_warnx("iscsi: out of memory accepting on %s",
				  p->name);
			close(fd);
			continue;
		}
		loop = tdm_loop_next();
		if (!loop)
			loop = p->loop;
		c->loop = loop;
		c->prelogin = true;
		c->accept_ns = tdm_now_ns();
		tdm__iscsi_reg_add(c);
		tdm_loop_post(loop, tdm__iscsi_conn_start, c);
	}
}

static void portal_name(struct portal *p)
{
	char ip[INET6_ADDRSTRLEN];
	uint16_t port;

	tdm__iscsi_sockaddr_str((struct sockaddr *)&p->ss, ip, sizeof(ip),
				&port);
	snprintf(p->name, sizeof(p->name),
		 p->ss.ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip, port);
}

static int portal_open(struct portal *p, char *err, size_t errlen)
{
	int one = 1;
	int fd =
		socket(p->ss.ss_family,
		       SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);

	if (fd < 0) {
		int e = errno;

		snprintf(err, errlen, "iscsi portal %s: socket: %s", p->name,
			 strerror(e));
		return -e;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (p->ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&p->ss, p->len) ||
	    listen(fd, LISTEN_BACKLOG)) {
		int e = errno;

		snprintf(err, errlen, "iscsi portal %s: %s", p->name,
			 strerror(e));
		close(fd);
		return -e;
	}
	p->fd = fd;
	return 0;
}

static int portal_watch(struct portal *p)
{
	p->loop = tdm_loop_current();
	p->w.fd = p->fd;
	p->w.events = EPOLLIN;
	p->w.cb = accept_cb;
	p->w.arg = p;
	p->pause.cb = pause_cb;
	p->pause.arg = p;
	return p->loop ? tdm_loop_add_fd(p->loop, &p->w) : -EINVAL;
}

static void portal_close(struct portal *p)
{
	if (p->fd >= 0) {
		if (p->loop) {
			tdm_timer_stop(p->loop, &p->pause);
			tdm_loop_del_fd(p->loop, &p->w);
		}
		close(p->fd);
		p->fd = -1;
	}
	tdm_list_del(&p->link);
	log_info("iscsi: stopped listening on %s", p->name);
	free(p);
}

static bool same_addr(const struct portal *a, const struct portal *b)
{
	return a->len == b->len && !memcmp(&a->ss, &b->ss, a->len);
}

int tdm__iscsi_portals_apply(const struct tdm_conf *c, char *err, size_t errlen)
{
	static const char *const defaults[] = {"0.0.0.0:3260", "[::]:3260"};
	const char *const *specs;
	size_t n;
	struct tdm_list fresh = TDM_LIST_INIT(fresh);
	struct tdm_list *pos, *tmp;
	int ret = 0;

	if (!c->iscsi_enabled) {
		n = 0;
		specs = NULL;
	} else if (c->nportals) {
		n = c->nportals;
		specs = NULL;
	} else {
		n = 2;
		specs = defaults;
	}

	tdm_list_for_each (pos, &portals)
		tdm_list_entry(pos, struct portal, link)->keep = false;

	/* parse everything before touching anything */
	for (size_t i = 0; i < n; i++) {
		const char *s = specs ? specs[i] : c->portals[i];
		struct portal *p = calloc(1, sizeof(*p));
		bool dup = false;

		if (!p) {
			snprintf(err, errlen, "iscsi: out of memory");
			ret = -ENOMEM;
			goto undo;
		}
		p->fd = -1;
		tdm_list_init(&p->link);
		if (tdm__iscsi_parse_portal(s, &p->ss, &p->len)) {
			snprintf(err, errlen, "iscsi: bad portal address '%s'",
				 s);
			free(p);
			ret = -EINVAL;
			goto undo;
		}
		portal_name(p);
		tdm_list_for_each (pos, &portals) {
			struct portal *o =
				tdm_list_entry(pos, struct portal, link);

			if (same_addr(o, p)) {
				o->keep = true;
				dup = true;
			}
		}
		tdm_list_for_each (pos, &fresh)
			if (same_addr(tdm_list_entry(pos, struct portal, link),
				      p))
				dup = true;
		if (dup) {
			free(p);
			continue;
		}
		tdm_list_add_tail(&fresh, &p->link);
	}

	/* open the new ones; an address held by a portal that goes away
	 * is retried once that portal is closed */
	tdm_list_for_each (pos, &fresh) {
		struct portal *p = tdm_list_entry(pos, struct portal, link);
		int r = portal_open(p, err, errlen);

		if (r == -EADDRINUSE) {
			struct tdm_list *q, *qt;
			bool closed_any = false;

			tdm_list_for_each_safe (q, qt, &portals) {
				struct portal *o =
					tdm_list_entry(q, struct portal, link);

				if (!o->keep) {
					portal_close(o);
					closed_any = true;
				}
			}
			if (closed_any)
				r = portal_open(p, err, errlen);
		}
		if (r == -EAFNOSUPPORT && specs == defaults &&
		    p->ss.ss_family == AF_INET6) {
			/* no IPv6 on this host: the default v4 is enough */
			p->fd = -1;
			continue;
		}
		if (r) {
			ret = r;
			goto undo;
		}
	}
	tdm_list_for_each_safe (pos, tmp, &portals) {
		struct portal *o = tdm_list_entry(pos, struct portal, link);

		if (!o->keep)
			portal_close(o);
	}
	tdm_list_for_each_safe (pos, tmp, &fresh) {
		struct portal *p = tdm_list_entry(pos, struct portal, link);

		tdm_list_del(&p->link);
		if (p->fd < 0) {
			free(p);
			continue;
		}
		if (portal_watch(p)) {
			snprintf(err, errlen, "iscsi portal %s: cannot watch",
				 p->name);
			close(p->fd);
			free(p);
			ret = -EIO;
			continue;
		}
		tdm_list_add_tail(&portals, &p->link);
		log_info("iscsi: listening on %s", p->name);
	}
	prelogin_max = c->max_pending_logins ? c->max_pending_logins
					     : PENDING_LOGINS_DEFAULT;
	if (!tdm_list_empty(&portals))
		reserve_open();
	return ret;

undo:
	tdm_list_for_each_safe (pos, tmp, &fresh) {
		struct portal *p = tdm_list_entry(pos, struct portal, link);

		if (p->fd >= 0)
			close(p->fd);
		tdm_list_del(&p->link);
		free(p);
	}
	return ret;
}

void tdm__iscsi_portals_close(void)
{
	while (!tdm_list_empty(&portals))
		portal_close(tdm_list_entry(portals.next, struct portal, link));
	if (reserve_fd >= 0)
		close(reserve_fd);
	reserve_fd = -1;
}
