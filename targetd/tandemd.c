/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tandemd - the Tandem SCSI target daemon.
 *
 * Thin by design: parse options, load the configuration, start the event
 * loops, apply the configuration to the core and the transports, serve the
 * control socket, and turn signals into reload (SIGHUP), a blackbox dump
 * (SIGUSR1: lib/log.h) and a clean stop (SIGTERM/SIGINT: stop accepting,
 * drain in-flight commands, flush and close the backstores, remove the
 * kernel fabrics' LIO objects; SIGUSR2: the same, but the kernel's TCMU
 * devices are blocked and kept for the next tandemd: kernel/README.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agentd/agent_msg.h"
#include "targetd/cluster_conf.h"
#include "targetd/daemon.h"
#include "tandem/admin.h"
#include "tandem/cluster.h"
#include "tandem/iscsi.h"
#include "tandem/kernel.h"
#include "tandem/srp.h"
#include "lib/log.h"
#include "lib/sdnotify.h"
#include "lib/writefile.h"
#include "tandem/transport.h"

static const char *config_path = TDM_DEFAULT_CONFIG;
static const char *control_path = TDM_DEFAULT_CONTROL_SOCKET;
static const char *agent_path; /* cluster mode: tandemd -A */
static const char *pid_path;
static struct tdm_loop *main_loop;
static struct tdm_fd_watch sig_watch;
static struct tdm_timer stop_timer;
static bool stopping;
static int keep_kernel; /* SIGUSR2: keep the kernel's TCMU devices */

const char *tdm_daemon_config_path(void)
{
	return config_path;
}

int tdm_daemon_apply(const struct tdm_conf *c, char *err, size_t errlen)
{
	int r;

	/* first: a metrics_listen that cannot be bound changes nothing */
	r = tdm_metrics_apply(main_loop, c, err, errlen);
	if (r < 0)
		return r;
	r = tdm_core_apply(c, err, errlen);
	if (r < 0)
		return r;
	r = tdm_iscsi_apply(c, err, errlen);
	if (r < 0)
		return r;
	r = tdm_srp_apply(c, err, errlen);
	if (r < 0)
		return r;
	r = tdm_kernel_apply(c, err, errlen);
	if (r < 0)
		return r;
	tdm_agent_link_ports_changed();
	log_notice("configuration applied (epoch %llu): %zu devices, %zu "
		   "targets",
		   (unsigned long long)tdm_core_epoch(), c->ndevices,
		   c->ntargets);
	return 0;
}

size_t tdm_daemon_ndevices(void)
{
	const struct tdm_conf *conf = tdm_conf_current();
	size_t n = conf ? conf->ndevices : 0;

	if (conf)
		tdm_conf_release(conf);
	return n;
}

int tdm_daemon_reload(char *err, size_t errlen)
{
	size_t running = tdm_daemon_ndevices();
	struct tdm_conf c;
	int r;

	tdm_conf_init(&c);
	r = tdm_conf_parse_file(config_path, &c, err, errlen);
	snprintf(c.source, sizeof(c.source), "%s", config_path);
	if (r == 0 && !c.ndevices && running) {
		/* a file emptied or cut short by an editor or a full disk
		 * would take every LU away: removing them all is asked for
		 * in so many words (tandemctl -config FILE -force) */
		snprintf(err, errlen,
			 "%s has no device: reloading it would remove every "
			 "device (%zu) and LU; tandemctl -config %s -force "
			 "does that",
			 config_path, running, config_path);
		r = -EPERM;
	}
	if (r == 0)
		r = tdm_daemon_apply(&c, err, errlen);
	tdm_conf_free(&c);
	return r;
}

/* systemd's READY=1 (lib/sdnotify.h), with what the daemon runs */
static void notify_ready(void)
{
	char status[160];

	snprintf(status, sizeof(status),
		 "%s%zu devices configured (epoch %llu)",
		 agent_path ? "cluster head, serving as tandem-agentd says: "
			    : "serving: ",
		 tdm_daemon_ndevices(), (unsigned long long)tdm_core_epoch());
	tdm_sd_ready(main_loop, status);
}

static void shutdown_done(void *arg)
{
	tdm_loop_break(main_loop);
}

/* SRP closed: now the kernel fabrics' rings */
static void srp_done(void *arg)
{
	tdm_kernel_shutdown(keep_kernel, shutdown_done, arg);
}

/* iSCSI drained: now the SRP channels */
static void iscsi_done(void *arg)
{
	tdm_srp_shutdown(srp_done, arg);
}

/* deferred_open devices: an open that failed is tried again each second
 * (scsi/backing.c) */
static struct tdm_timer backing_timer;

static void backing_tick(struct tdm_timer *t)
{
	tdm_core_backing_retry();
	if (!stopping)
		tdm_timer_start(main_loop, t, 1000);
}

static void stop_timeout(struct tdm_timer *t)
{
	log_warnx("commands still in flight after %d s; stopping anyway", 30);
	tdm_loop_break(main_loop);
}

void tdm_daemon_request_stop(void)
{
	if (stopping)
		return;
	stopping = true;
	log_notice("stopping: draining in-flight commands");
	tdm_sd_stopping("stopping: draining in-flight commands");
	tdm_control_stop();
	stop_timer.cb = stop_timeout;
	tdm_timer_start(main_loop, &stop_timer, 30000);
	tdm_iscsi_shutdown(iscsi_done, NULL);
}

static void signal_cb(struct tdm_fd_watch *w, uint32_t revents)
{
	struct signalfd_siginfo si;
	char err[1024], path[PATH_MAX];

	while (read(w->fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGHUP:
			log_notice("SIGHUP: reloading %s", config_path);
			tdm_sd_reloading("reloading the configuration");
			if (tdm_daemon_reload(err, sizeof(err)) < 0)
				log_warnx("reload failed, configuration "
					  "unchanged: %s",
					  err);
			notify_ready();
			break;
		case SIGTERM:
		case SIGINT:
			tdm_daemon_request_stop();
			break;
		case SIGUSR2:
			/* a stop for a restart: initiators on the kernel
			 * fabrics wait instead of losing their devices */
			if (!stopping)
				keep_kernel = 1;
			log_notice("SIGUSR2: stopping, the kernel's TCMU "
				   "devices are kept for the next tandemd");
			tdm_daemon_request_stop();
			break;
		case SIGUSR1:
			log_notice("SIGUSR1: writing the blackbox");
			tdm_log_blackbox_dump(path, sizeof(path));
			break;
		default:
			break;
		}
	}
}

static int setup_signals(void)
{
	sigset_t set;
	int fd;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	/* blocked before the worker threads start, so they inherit it */
	if (pthread_sigmask(SIG_BLOCK, &set, NULL))
		return -errno;
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	sig_watch = (struct tdm_fd_watch){
		.fd = fd, .events = EPOLLIN, .cb = signal_cb};
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tandemd [options]\n"
		"  -f, --foreground          stay in the foreground, log to "
		"stderr\n"
		"  -c, --config FILE         configuration (default %s)\n"
		"  -s, --control-socket PATH control socket (default %s)\n"
		"  -A, --agent-socket PATH   cluster mode: serve only as "
		"tandem-agentd\n"
		"                            on PATH says (e.g. %s)\n"
		"  -t, --threads N           event loop threads (default: one "
		"per CPU)\n"
		"  -l, --log-level LEVEL     error, warning, notice, info, "
		"debug\n"
		"      --syslog              log to syslog even in the "
		"foreground\n"
		"      --blackbox-size MIB   the blackbox's ring (default %d; "
		"0: off)\n"
		"      --agent-timeout MS    cluster mode: fenced when the "
		"agent is\n"
		"                            silent that long (default %d; 0: "
		"never)\n"
		"      --rejoin-state STATE  cluster mode: this head's target "
		"port groups\n"
		"                            leave transitioning for STATE "
		"(unavailable,\n"
		"                            standby, ...) when it rejoins, "
		"not the\n"
		"                            configured state\n"
		"  -p, --pidfile FILE        write the daemon's pid\n"
		"  -n, --check               check the configuration and exit\n"
		"  -V, --version\n"
		"  -h, --help\n",
		TDM_DEFAULT_CONFIG, TDM_DEFAULT_CONTROL_SOCKET,
		TDM_AGENT_SOCKET, TDM_LOG_BLACKBOX_MIB, TDM_AGENT_TIMEOUT_MS);
}

int main(int argc, char **argv)
{
	enum { OPT_SYSLOG = 256, OPT_BLACKBOX, OPT_AGENT_TIMEOUT, OPT_REJOIN };
	static const struct option opts[] = {
		{"foreground", no_argument, NULL, 'f'},
		{"config", required_argument, NULL, 'c'},
		{"control-socket", required_argument, NULL, 's'},
		{"agent-socket", required_argument, NULL, 'A'},
		{"threads", required_argument, NULL, 't'},
		{"log-level", required_argument, NULL, 'l'},
		{"syslog", no_argument, NULL, OPT_SYSLOG},
		{"blackbox-size", required_argument, NULL, OPT_BLACKBOX},
		{"agent-timeout", required_argument, NULL, OPT_AGENT_TIMEOUT},
		{"pidfile", required_argument, NULL, 'p'},
		{"rejoin-state", required_argument, NULL, OPT_REJOIN},
		{"check", no_argument, NULL, 'n'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	bool foreground = false, use_syslog = false, check_only = false;
	int level = TDM_LOG_INFO, bb_mib = TDM_LOG_BLACKBOX_MIB, c, r;
	unsigned long threads = 0;
	struct tdm_conf conf;
	char err[2048];
	char *end;

	while ((c = getopt_long(argc, argv, "fc:s:A:t:l:p:nVh", opts, NULL)) !=
	       -1) {
		switch (c) {
		case 'f':
			foreground = true;
			break;
		case 'c':
			config_path = optarg;
			break;
		case 's':
			control_path = optarg;
			break;
		case 'A':
			agent_path = optarg;
			break;
		case 't':
			errno = 0;
			threads = strtoul(optarg, &end, 10);
			if (errno || *end || threads > 256) {
				fprintf(stderr, "tandemd: bad --threads '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'l':
			level = tdm_log_level_parse(optarg);
			if (level < 0) {
				fprintf(stderr,
					"tandemd: bad --log-level '%s'\n",
					optarg);
				return 2;
			}
			break;
		case OPT_SYSLOG:
			use_syslog = true;
			break;
		case OPT_BLACKBOX:
			bb_mib = tdm_log_blackbox_size_parse(optarg);
			if (bb_mib < 0) {
				fprintf(stderr,
					"tandemd: bad --blackbox-size '%s' "
					"(MiB, 0 to 1024)\n",
					optarg);
				return 2;
			}
			break;
		case OPT_AGENT_TIMEOUT: {
			unsigned long ms;

			errno = 0;
			ms = strtoul(optarg, &end, 10);
			if (errno || *end || ms > 600000) {
				fprintf(stderr,
					"tandemd: bad --agent-timeout '%s' "
					"(ms, 0 to 600000)\n",
					optarg);
				return 2;
			}
			tdm_agent_link_set_timeout((unsigned)ms);
			break;
		}
		case 'p':
			pid_path = optarg;
			break;
		case OPT_REJOIN:
			if (tdm_cluster_set_rejoin_state(optarg) < 0) {
				fprintf(stderr,
					"tandemd: bad --rejoin-state '%s' "
					"(active, nonoptimized, standby, "
					"unavailable, offline)\n",
					optarg);
				return 2;
			}
			break;
		case 'n':
			check_only = true;
			break;
		case 'V':
			printf("tandemd %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}

	tdm_conf_init(&conf);
	if (tdm_conf_parse_file(config_path, &conf, err, sizeof(err)) < 0) {
		fprintf(stderr, "tandemd: %s\n", err);
		return 1;
	}
	snprintf(conf.source, sizeof(conf.source), "%s", config_path);
	if (check_only) {
		printf("%s: OK (%zu devices, %zu targets)\n", config_path,
		       conf.ndevices, conf.ntargets);
		tdm_conf_free(&conf);
		return 0;
	}
	if (!foreground) {
		use_syslog = true;
		r = tdm_daemonize();
		if (r < 0) {
			fprintf(stderr, "tandemd: daemonize: %s\n",
				strerror(-r));
			return 1;
		}
	}
	tdm_log_init("tandemd", use_syslog, level);
	r = tdm_log_blackbox_start((unsigned)bb_mib);
	if (r < 0)
		log_warnx("no blackbox: %s", strerror(-r));
	r = pid_path ? tdm_pidfile_write(pid_path) : 0;
	if (r < 0)
		log_warnx("pidfile %s: %s", pid_path, strerror(-r));

	r = setup_signals();
	if (r < 0) {
		log_err("signals: %s", strerror(-r));
		return 1;
	}
	main_loop = tdm_loop_new();
	if (!main_loop) {
		log_err("cannot create the main event loop");
		return 1;
	}
	r = tdm_loops_start((unsigned)threads);
	if (r < 0) {
		log_err("cannot start event loops: %s", strerror(-r));
		return 1;
	}
	/* the main thread runs main_loop: make it current for the setup */
	tdm_loop_set_current(main_loop);
	tdm_loop_add_fd(main_loop, &sig_watch);

	if (agent_path) {
		/* before the portals open: no command is served unfenced */
		r = tdm_agent_link_start(main_loop, agent_path, err,
					 sizeof(err));
		if (r < 0) {
			log_err("agent socket: %s", err);
			tdm_loops_stop();
			return 1;
		}
		/* ordered configuration edits: the epoch, the log */
		tdm_cconf_start(config_path);
	}
	r = tdm_daemon_apply(&conf, err, sizeof(err));
	tdm_conf_free(&conf);
	if (r < 0) {
		log_err("%s", err);
		tdm_loops_stop();
		tdm_core_shutdown();
		return 1;
	}
	r = tdm_control_start(main_loop, control_path, err, sizeof(err));
	if (r < 0)
		log_warnx("control socket disabled: %s", err);
	log_notice("tandemd %s ready (%u event loop threads)", PACKAGE_VERSION,
		   tdm_loop_count());
	notify_ready();
	backing_timer.cb = backing_tick;
	tdm_timer_start(main_loop, &backing_timer, 1000);

	tdm_loop_run(main_loop);
	tdm_timer_stop(main_loop, &backing_timer);

	tdm_sd_watchdog_stop();
	tdm_metrics_stop();
	tdm_control_stop();
	tdm_agent_link_stop();
	tdm_loops_stop();
	tdm_core_shutdown();
	tdm_timer_stop(main_loop, &stop_timer);
	tdm_loop_free(main_loop);
	close(sig_watch.fd);
	tdm_buf_cache_drain();
	if (pid_path)
		unlink(pid_path);
	log_notice("stopped");
	tdm_log_fini();
	return 0;
}
