/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * daemon.h - what tandemd's parts (tandemd.c, control.c) share.
 */
#ifndef TANDEM_TARGETD_DAEMON_H
#define TANDEM_TARGETD_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tandem/config.h"
#include "lib/loop.h"

#define TDM_DEFAULT_CONFIG "/etc/tandem/tandem.conf"
#define TDM_DEFAULT_CONTROL_SOCKET "/run/tandem/tandemd.sock"

/* tandemd.c: apply c to the core and the transports (main thread only). */
int tdm_daemon_apply(const struct tdm_conf *c, char *err, size_t errlen);
/* tandemd.c: re-read the config file given with --config and apply it. */
int tdm_daemon_reload(char *err, size_t errlen);
/* Devices of the configuration tandemd runs now. */
size_t tdm_daemon_ndevices(void);
const char *tdm_daemon_config_path(void);
/* tandemd.c: begin a clean shutdown (as SIGTERM does). */
void tdm_daemon_request_stop(void);

/*
 * control.c: the control socket (tandemctl, later tandem-agentd), served
 * on the main loop. Only root or the daemon's own uid may connect
 * (SO_PEERCRED). Returns 0 or -errno with a message.
 */
int tdm_control_start(struct tdm_loop *main_loop, const char *path, char *err,
		      size_t errlen);
void tdm_control_stop(void);

/* control.c: a listening AF_UNIX stream socket at path (its parent made,
 * a stale socket replaced, a live one refused), mode 0660. */
struct stat;
int tdm__unix_listen(const char *path, int *fd, struct stat *st, char *err,
		     size_t errlen);
/* control.c: may this peer connect (root or our uid)? 0 or -errno. */
int tdm__peer_allowed(int fd, const char *what, pid_t *pid, uid_t *uid);

/*
 * agent.c: the link to tandem-agentd (cluster mode, tandemd -A): listen
 * on path, one agent at a time; puts the core in cluster mode. Returns
 * 0 or -errno with a message.
 */
int tdm_agent_link_start(struct tdm_loop *main_loop, const char *path,
			 char *err, size_t errlen);
void tdm_agent_link_stop(void);
/* Link version 3: fenced when the agent sent no frame for ms (0: never;
 * default TDM_AGENT_TIMEOUT_MS); the agent sends STATUS every third. */
#define TDM_AGENT_TIMEOUT_MS 1500
void tdm_agent_link_set_timeout(unsigned ms);
/* After a configuration apply: tell the agent this head's relative
 * target ports if they changed (PORTS, link version 3). */
void tdm_agent_link_ports_changed(void);
/* For tandemctl status: "off" or comma-separated key=value pairs. */
void tdm_agent_link_status(char *buf, size_t len);
/* The same as numbers, for the metrics endpoint (main loop). */
struct tdm_agent_info {
	bool running;	/* cluster mode (tandemd -A) */
	bool connected; /* an agent is on the link */
	bool serving;	/* the agent says serving and is not silent */
	bool quorate, silent;
	uint32_t nodeid, members;
	uint16_t group_version;
	uint64_t seq, applied, rejected;
};
void tdm_agent_link_info(struct tdm_agent_info *info);

/*
 * metrics.c: the metrics endpoint and status page (libmicrohttpd on the
 * main loop). Start, move or stop it to match c->metrics_listen (main
 * thread; at start-up and on every apply). 0 or -errno with a message.
 */
int tdm_metrics_apply(struct tdm_loop *main_loop, const struct tdm_conf *c,
		      char *err, size_t errlen);
void tdm_metrics_stop(void);

#endif
