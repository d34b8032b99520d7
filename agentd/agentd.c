/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tandem-agentd - keeps persistent reservations and ALUA states identical
 * on every head: it orders tandemd's PR OUT / SET TARGET PORT GROUPS
 * (and, link version 2, ORDER events) through a Corosync CPG group
 * (agreed order), tracks votequorum, runs the membership sync (sync.c)
 * that feeds a joining head the group's state, and (link version 2)
 * tells tandemd when every member applied one of its operations
 * (STABLE; ACK bookkeeping in sync.c).
 *
 * Thin by design: one poll() loop over tandemd's agent socket, the CPG
 * and votequorum descriptors and a signalfd (this file), the link to
 * tandemd in tandemd_link.c, corosync in corosync.c, the fencing hold's
 * wiring and --fencing in fencing.c (agentd.h: the state they share).
 * Decisions live in sync.c and hold.c, the cluster messages' codec in
 * cluster_msg.c, the link's in agent_msg.c.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "agentd/agentd.h"
#include "lib/log.h"
#include "lib/sdnotify.h"
#include "lib/writefile.h"

struct agentd ag = {
	.sock_path = TDM_AGENT_SOCKET,
	.group_name = "tandem",
	.proto_max = AGENT_PROTO_VERSION,
	.link_fd = -1,
	.cpg_fd = -1,
	.vq_fd = -1,
	.mq_tail = &ag.mq_head,
	.fencing = AG_FENCING_PACEMAKER,
	.self_fence_ms = AG_SELF_FENCE_MS,
};

uint64_t tdm__ag_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int tdm__ag_pending_add(uint64_t req, uint8_t what)
{
	if (ag.npend == ag.cappend) {
		size_t cap = ag.cappend ? 2 * ag.cappend : 64;
		struct pending *p = realloc(ag.pend, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		ag.pend = p;
		ag.cappend = cap;
	}
	ag.pend[ag.npend].req = req;
	ag.pend[ag.npend++].what = what;
	return 0;
}

void tdm__ag_pending_done(uint64_t req, uint8_t what)
{
	for (size_t i = 0; i < ag.npend; i++)
		if (ag.pend[i].req == req && ag.pend[i].what == what) {
			ag.pend[i] = ag.pend[--ag.npend];
			return;
		}
}

/* Our operations will never be delivered, or never known stable: tell
 * tandemd (if there; it completes an applied one with its result). */
void tdm__ag_pending_reject_all(void)
{
	if (ag.npend)
		log_notice("rejecting %zu operations not ordered", ag.npend);
	for (size_t i = 0; i < ag.npend; i++)
		tdm__ag_send_reject(ag.pend[i].req, ag.pend[i].what);
	ag.npend = 0;
	if (ag.sy.nstab)
		log_notice("%zu operations will not be known stable",
			   ag.sy.nstab);
	for (size_t i = 0; i < ag.sy.nstab; i++)
		tdm__ag_send_reject(ag.sy.stab[i].req, ag.sy.stab[i].what);
	tdm_sync_stab_clear(&ag.sy);
	tdm__ag_fencing_reset();
}

/* Run what the sync module decided (held: hold.h, not held again). */
static void run_acts(const struct tdm_sync_act *acts, size_t n, bool held)
{
	struct tdm_cmsg m;
	int r;

	for (size_t i = 0; i < n; i++) {
		const struct tdm_sync_act *a = &acts[i];

		if (!held && tdm__ag_fencing_take(a))
			continue;
		switch (a->type) {
		case TDM_SYNC_SEND_INFO:
			if (tdm_cmsg_put_info_ports(&ag.wb, &a->info,
						    &ag.sy.own_ports) == 0 &&
			    tdm__ag_mq_push(ag.wb.p, ag.wb.len) == 0)
				break;
			tdm__ag_group_leave("cannot send SYNC-INFO");
			return;
		case TDM_SYNC_APPLY:
			r = tdm_cmsg_decode(a->data, a->len, ag.proto_max, &m);
			if (r < 0)
				break; /* decoded before: cannot happen */
			if (m.type == TDM_CMSG_PR_OP) {
				tdm_agent_begin(&ag.wb, TDM_AGENT_PR_APPLY);
				tdm_wbuf_put_u32(&ag.wb, m.origin);
				tdm_wbuf_put_u64(&ag.wb, m.req);
				tdm_agent_put_pr(&ag.wb, &m.pr);
			} else if (m.type == TDM_CMSG_ALUA_OP) {
				tdm_agent_begin(&ag.wb, TDM_AGENT_ALUA_APPLY);
				tdm_wbuf_put_u32(&ag.wb, m.origin);
				tdm_wbuf_put_u64(&ag.wb, m.req);
				tdm_agent_put_alua(&ag.wb, &m.alua);
			} else {
				tdm_agent_begin(&ag.wb, TDM_AGENT_ORDERED);
				tdm_wbuf_put_u32(&ag.wb, m.origin);
				tdm_wbuf_put_u64(&ag.wb, m.req);
				tdm_wbuf_put_u8(&ag.wb, m.kind);
				tdm_wbuf_put_bytes(&ag.wb, m.payload,
						   m.payload_len);
			}
			log_debug("apply %s of node %u (req %llu) at seq %llu",
				  tdm_cmsg_type_name(m.type), m.origin,
				  (unsigned long long)m.req,
				  (unsigned long long)a->seq);
			if (tdm__ag_link_send() == 0 &&
			    tdm_sync_sent(&ag.sy, a->seq) < 0)
				tdm__ag_link_close("out of memory");
			if (m.origin == ag.nodeid)
				tdm__ag_pending_done(
					m.req, m.type == TDM_CMSG_PR_OP ? 1
					       : m.type == TDM_CMSG_ALUA_OP
						       ? 2
						       : 3);
			break;
		case TDM_SYNC_DROP: {
			uint16_t type, version;
			uint32_t origin;
			uint64_t req;

			if (tdm_cmsg_op_ids(a->data, a->len, &type, &version,
					    &origin, &req) < 0)
				break;
			if (version > ag.sy.version)
				log_warnx_rl(
					"%s of node %u (version %u) dropped: "
					"the group runs at version %u",
					tdm_cmsg_type_name(type), origin,
					version, ag.sy.version);
			else
				log_warnx_rl("%s of node %u dropped: delivered "
					     "while this head was loading a "
					     "snapshot the group no longer "
					     "sends",
					     tdm_cmsg_type_name(type), origin);
			if (origin != ag.nodeid)
				break;
			uint8_t what = type == TDM_CMSG_PR_OP	  ? 1
				       : type == TDM_CMSG_ALUA_OP ? 2
								  : 3;
			tdm__ag_pending_done(req, what);
			if (req)
				tdm__ag_send_reject(req, what);
			break;
		}
		case TDM_SYNC_STABLE:
			log_debug("req %llu stable at seq %llu",
				  (unsigned long long)a->req,
				  (unsigned long long)a->seq);
			tdm_agent_begin(&ag.wb, TDM_AGENT_STABLE);
			tdm_wbuf_put_u64(&ag.wb, a->req);
			tdm__ag_link_send();
			break;
		case TDM_SYNC_LOST:
			log_notice("req %llu will not be known stable",
				   (unsigned long long)a->req);
			tdm__ag_send_reject(a->req, a->what);
			break;
		case TDM_SYNC_SNAPSHOT_GET: {
			size_t k = (size_t)(ag.snap_req_next % SNAP_REQS);

			ag.snap_reqs[k].req = ++ag.snap_req_next;
			ag.snap_reqs[k].seq = a->seq;
			ag.snap_reqs[k].used = true;
			log_info("sync source: snapshot at seq %llu",
				 (unsigned long long)a->seq);
			/* the group version of this cut first: tandemd
			 * writes the snapshot in the format every member
			 * reads (the source is synced: its STATUS is) */
			tdm__ag_update_status();
			tdm_agent_begin(&ag.wb, TDM_AGENT_SNAPSHOT_GET);
			tdm_wbuf_put_u64(&ag.wb, ag.snap_reqs[k].req);
			tdm__ag_link_send();
			break;
		}
		case TDM_SYNC_HEADS:
			tdm__ag_send_heads();
			break;
		case TDM_SYNC_SNAPSHOT_LOAD:
			log_notice(
				"loading the snapshot of node %u (%zu bytes, "
				"seq %llu)",
				ag.sy.snap_source, a->len,
				(unsigned long long)a->seq);
			tdm_agent_begin(&ag.wb, TDM_AGENT_SNAPSHOT_LOAD);
			tdm_wbuf_put_bytes(&ag.wb, a->data, a->len);
			tdm__ag_link_send();
			break;
		}
	}
}

void tdm__ag_run_actions(void)
{
	run_acts(ag.sy.act, ag.sy.nact, false);
	tdm__ag_fencing_release();
}

void tdm__ag_run_held(const struct tdm_sync_act *acts, size_t n)
{
	run_acts(acts, n, true);
}

void tdm__ag_after_event(int r, const char *what)
{
	if (ag.sy.cuts != ag.cuts_logged) {
		ag.cuts_logged = ag.sy.cuts;
		log_info("sync: %zu members, group version %u, source node %u "
			 "at seq %llu: this head %s",
			 ag.sy.nmembers, ag.sy.version, ag.sy.source,
			 (unsigned long long)ag.sy.seq,
			 ag.sy.synced ? "continues"
				      : "loads the source's snapshot");
		tdm__ag_fencing_cut();
	}
	if (r == -ENOMEM) {
		tdm__ag_run_actions();
		tdm__ag_group_leave("out of memory");
		return;
	}
	if (r < 0)
		log_warnx_rl("%s ignored: %s", what, strerror(-r));
	tdm__ag_run_actions();
	tdm__ag_mq_flush();
	tdm__ag_update_status();
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tandem-agentd [options]\n"
		"  -f, --foreground       stay in the foreground, log to "
		"stderr\n"
		"  -s, --socket PATH      tandemd's agent socket (default "
		"%s)\n"
		"  -g, --group NAME       CPG group name (default tandem)\n"
		"  -l, --log-level LEVEL  error, warning, notice, info, debug\n"
		"      --syslog           log to syslog even in the "
		"foreground\n"
		"      --proto-max N      announce cluster protocol N (tests "
		"of mixed versions)\n"
		"      --blackbox-size MIB the blackbox's ring (default %d; "
		"0: off)\n"
		"      --fencing MODE     how a departed head is known to have "
		"stopped\n"
		"                         serving: pacemaker (default), self, "
		"none\n"
		"      --self-fence-ms MS the self-fence time (default %u)\n"
		"      --allow-two-heads-without-fencing  --fencing self or "
		"none on two\n"
		"                         heads: both can serve during a "
		"partition\n"
		"  -p, --pidfile FILE     write the agent's pid (removed at "
		"exit)\n"
		"  -V, --version\n"
		"  -h, --help\n",
		TDM_AGENT_SOCKET, TDM_LOG_BLACKBOX_MIB, AG_SELF_FENCE_MS);
}

static int setup_signals(void)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

static void dispatch(struct pollfd *pf, int sig_fd)
{
	struct signalfd_siginfo si;
	char path[PATH_MAX];

	if (sig_fd >= 0 && pf->fd == sig_fd) {
		while (read(sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
			if (si.ssi_signo == SIGUSR1)
				tdm_log_blackbox_dump(path, sizeof(path));
			else if (si.ssi_signo != SIGHUP)
				ag.stopping = true;
		return;
	}
	if (tdm__ag_corosync_dispatch(pf->fd))
		return;
	if (ag.link_fd >= 0 && pf->fd == ag.link_fd) {
		if (pf->revents & POLLOUT)
			tdm__ag_link_flush();
		if (ag.link_fd >= 0 &&
		    (pf->revents & (POLLIN | POLLHUP | POLLERR)))
			tdm__ag_link_read();
	}
}

static void run(int sig_fd)
{
	struct pollfd pf[4];
	int n, timeout;
	uint64_t now;

	while (!ag.stopping) {
		now = tdm__ag_now_ms();
		if ((!ag.cpg_up || !ag.vq_up) && now >= ag.corosync_retry_at)
			tdm__ag_corosync_up();
		if (ag.link_fd < 0 && now >= ag.link_retry_at)
			tdm__ag_link_connect();
		if (ag.link_ready && ag.cpg_up && !ag.cpg_joined &&
		    now >= ag.join_retry_at)
			tdm__ag_group_update();
		tdm__ag_mq_flush();
		n = 0;
		pf[n++] = (struct pollfd){.fd = sig_fd, .events = POLLIN};
		if (ag.cpg_up)
			pf[n++] = (struct pollfd){.fd = ag.cpg_fd,
						  .events = POLLIN};
		if (ag.vq_up)
			pf[n++] = (struct pollfd){.fd = ag.vq_fd,
						  .events = POLLIN};
		if (ag.link_fd >= 0)
			pf[n++] = (struct pollfd){
				.fd = ag.link_fd,
				.events = POLLIN |
					  (ag.olen > ag.ooff ? POLLOUT : 0)};
		timeout = (ag.mq_head && ag.cpg_joined) || ag.ack_retry ||
					  (ag.link_ready && ag.cpg_up &&
					   !ag.cpg_joined)
				  ? 10
				  : 250;
		if (ag.hb_ms && (uint32_t)timeout > ag.hb_ms)
			timeout = (int)ag.hb_ms;
		if (poll(pf, (nfds_t)n, timeout) < 0) {
			if (errno == EINTR)
				continue;
			log_warn("poll");
			break;
		}
		for (int i = 0; i < n && !ag.stopping; i++)
			if (pf[i].revents)
				dispatch(&pf[i], sig_fd);
		tdm__ag_ack_flush();
		tdm__ag_fencing_tick();
		tdm__ag_link_heartbeat();
		tdm_sd_watchdog_poll();
	}
}

int main(int argc, char **argv)
{
	enum {
		OPT_SYSLOG = 256,
		OPT_PROTO_MAX,
		OPT_BLACKBOX,
		OPT_FENCING,
		OPT_SELF_FENCE_MS,
		OPT_ALLOW_TWO,
	};
	static const struct option opts[] = {
		{"foreground", no_argument, NULL, 'f'},
		{"socket", required_argument, NULL, 's'},
		{"group", required_argument, NULL, 'g'},
		{"log-level", required_argument, NULL, 'l'},
		{"syslog", no_argument, NULL, OPT_SYSLOG},
		{"proto-max", required_argument, NULL, OPT_PROTO_MAX},
		{"blackbox-size", required_argument, NULL, OPT_BLACKBOX},
		{"fencing", required_argument, NULL, OPT_FENCING},
		{"self-fence-ms", required_argument, NULL, OPT_SELF_FENCE_MS},
		{"allow-two-heads-without-fencing", no_argument, NULL,
		 OPT_ALLOW_TWO},
		{"pidfile", required_argument, NULL, 'p'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	bool foreground = false, use_syslog = false;
	const char *pid_path = NULL;
	int level = TDM_LOG_INFO, bb_mib = TDM_LOG_BLACKBOX_MIB, c, r, sig_fd;
	unsigned long v;
	char *end;

	while ((c = getopt_long(argc, argv, "fs:g:l:p:Vh", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			foreground = true;
			break;
		case 's':
			ag.sock_path = optarg;
			break;
		case 'g':
			if (!*optarg || strlen(optarg) >= CPG_MAX_NAME_LENGTH) {
				fprintf(stderr, "tandem-agentd: bad --group\n");
				return 2;
			}
			ag.group_name = optarg;
			break;
		case 'l':
			level = tdm_log_level_parse(optarg);
			if (level < 0) {
				fprintf(stderr,
					"tandem-agentd: bad --log-level '%s'\n",
					optarg);
				return 2;
			}
			break;
		case OPT_SYSLOG:
			use_syslog = true;
			break;
		case OPT_PROTO_MAX:
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || *end || v < 1 || v > 65535) {
				fprintf(stderr,
					"tandem-agentd: bad --proto-max '%s'\n",
					optarg);
				return 2;
			}
			ag.proto_max = (uint16_t)v;
			break;
		case OPT_BLACKBOX:
			bb_mib = tdm_log_blackbox_size_parse(optarg);
			if (bb_mib < 0) {
				fprintf(stderr,
					"tandem-agentd: bad --blackbox-size "
					"'%s' (MiB, 0 to 1024)\n",
					optarg);
				return 2;
			}
			break;
		case OPT_FENCING:
			r = tdm__ag_fencing_parse(optarg);
			if (r < 0) {
				fprintf(stderr,
					"tandem-agentd: bad --fencing '%s' "
					"(pacemaker, self or none)\n",
					optarg);
				return 2;
			}
			ag.fencing = r;
			break;
		case OPT_SELF_FENCE_MS:
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || *end || v < 1 || v > 3600000) {
				fprintf(stderr,
					"tandem-agentd: bad --self-fence-ms "
					"'%s' (1 to 3600000)\n",
					optarg);
				return 2;
			}
			ag.self_fence_ms = (uint32_t)v;
			break;
		case OPT_ALLOW_TWO:
			ag.allow_two_heads = true;
			break;
		case 'p':
			pid_path = optarg;
			break;
		case 'V':
			printf("tandem-agentd %s (cluster protocol %d)\n",
			       PACKAGE_VERSION, AGENT_PROTO_VERSION);
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
	if (!foreground) {
		use_syslog = true;
		r = tdm_daemonize();
		if (r < 0) {
			fprintf(stderr, "tandem-agentd: daemonize: %s\n",
				strerror(-r));
			return 1;
		}
	}
	tdm_log_init("tandem-agentd", use_syslog, level);
	r = tdm_log_blackbox_start((unsigned)bb_mib);
	if (r < 0)
		log_warnx("no blackbox: %s", strerror(-r));
	r = pid_path ? tdm_pidfile_write(pid_path) : 0;
	if (r < 0)
		log_warnx("pidfile %s: %s", pid_path, strerror(-r));
	sig_fd = setup_signals();
	if (sig_fd < 0) {
		log_err("signals: %s", strerror(-sig_fd));
		return 1;
	}
	tdm_sync_init(&ag.sy, 0, ag.proto_max);
	tdm_hold_init(&ag.hold);
	log_notice("tandem-agentd %s starting (group %s, protocol %u, "
		   "fencing %s)",
		   PACKAGE_VERSION, ag.group_name, ag.proto_max,
		   tdm__ag_fencing_name(ag.fencing));
	if (tdm__ag_fencing_start() < 0) {
		ag.exit_code = 1;
	} else {
		/* systemd (Type=notify): up; corosync and tandemd are
		 * (re)connected from the loop */
		tdm_sd_ready(NULL, "running: connecting to corosync and "
				   "tandemd");
		run(sig_fd);
	}
	tdm_sd_stopping("stopping: leaving the cluster group");
	tdm_sd_watchdog_stop();

	if (ag.cpg_up && ag.cpg_joined) {
		struct cpg_name n = tdm__ag_group_cpg_name();

		cpg_leave(ag.cpg, &n);
	}
	if (ag.cpg_up)
		cpg_finalize(ag.cpg);
	if (ag.vq_up)
		votequorum_finalize(ag.vq);
	if (ag.link_fd >= 0)
		close(ag.link_fd);
	tdm_sync_free(&ag.sy);
	tdm_hold_free(&ag.hold);
	tdm__ag_mq_clear();
	tdm_wbuf_free(&ag.wb);
	free(ag.rbuf);
	free(ag.obuf);
	free(ag.pend);
	close(sig_fd);
	if (pid_path)
		unlink(pid_path);
	log_notice("stopped");
	tdm_log_fini();
	return ag.exit_code;
}
