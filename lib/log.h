/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * log.h - daemon logging through libqb's qb_log, as corosync and pacemaker
 * log. Daemons log, tools print. log_warn() appends strerror(errno),
 * log_warnx() does not.
 *
 * Each log_* is a macro that hands its call site (function, file, line)
 * to qb_log's callsite registry. The targets (lib/log.c):
 *   - stderr in the foreground, one line per message:
 *     "Mar 05 14:02:11.347 tandemd[812] notice: ..." (a millisecond
 *     timestamp, the daemon's name and pid, the priority; file:line too
 *     at debug level);
 *   - syslog once daemonized (or with --syslog): the message alone, the
 *     syslog daemon stamps it;
 *   - the blackbox (tdm_log_blackbox_start): every message up to debug,
 *     whatever the level of the two above, in a ring of shared memory,
 *     written to a file on demand (tdm_log_blackbox_dump) and on a fatal
 *     signal; `qb-blackbox FILE` prints it.
 * Before tdm_log_init() (tools, unit tests, fuzzers) nothing is logged.
 * Any thread may log.
 */
#ifndef TANDEM_LOG_H
#define TANDEM_LOG_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* syslog's priorities */
enum tdm_log_level {
	TDM_LOG_ERR = 3,
	TDM_LOG_WARN = 4,
	TDM_LOG_NOTICE = 5,
	TDM_LOG_INFO = 6,
	TDM_LOG_DEBUG = 7
};

/* the blackbox's size when no option says otherwise */
#define TDM_LOG_BLACKBOX_MIB 8
/* a message is cut at this length (libqb 2.0's blackbox reader refuses
 * records over 512 bytes) */
#define TDM_LOG_MSG_MAX 500

/* Log as ident (the name in every line, syslog's ident) to syslog or else
 * stderr, messages up to level (below TDM_LOG_ERR: none). Once, after
 * tdm_daemonize(), before other threads start. */
void tdm_log_init(const char *ident, bool use_syslog, int level);
/* Flush and close every target (the blackbox's memory goes). */
void tdm_log_fini(void);
/* "error", "warning", "notice", "info", "debug" -> TDM_LOG_*, or -1. */
int tdm_log_level_parse(const char *s);
/* Detach from the terminal (fork twice, setsid, chdir /, stdio to
 * /dev/null) before the daemon logs to syslog; 0 or -errno. */
int tdm_daemonize(void);

/*
 * The blackbox: start recording every message up to debug in a ring of
 * mib MiB (1..1024; 0 leaves it off), and write it to a file when the
 * process dies of SIGSEGV, SIGBUS, SIGABRT, SIGILL or SIGFPE (the signal
 * then goes on to the action it had). stdout goes to /dev/null (libqb
 * prints there at each dump). After tdm_log_init(); 0 or -errno (the
 * daemon runs on without it).
 */
int tdm_log_blackbox_start(unsigned mib);
/* "--blackbox-size": MiB, 0..1024, decimal; -1 when s is not that. */
int tdm_log_blackbox_size_parse(const char *s);
/*
 * Write the blackbox to a new file,
 * $TANDEM_STATE_DIR/blackbox-IDENT-PID-SECONDS.MSEC, mode 0600 (the state
 * directory is made when missing; the file appears whole: written under
 * a temporary name, then linked), its name in path, and log that it did.
 * The bytes written, or -errno (-ENOENT: the blackbox is off).
 */
ssize_t tdm_log_blackbox_dump(char *path, size_t pathlen);

/* ---- the messages ---- */

/* the most verbose level a target takes; -1 before tdm_log_init() */
extern int tdm__log_max;

static inline bool tdm_log_enabled(int level)
{
	return level <= tdm__log_max;
}

/* err: an errno to append as ": strerror(err)", or -1 */
void tdm__log(const char *func, const char *file, int line, int level, int err,
	      const char *fmt, ...) __attribute__((format(printf, 6, 7)));

#define tdm__log_at(level, err, ...)                                           \
	do {                                                                   \
		if (tdm_log_enabled(level))                                    \
			tdm__log(__func__, __FILE__, __LINE__, level, err,     \
				 __VA_ARGS__);                                 \
	} while (0)

#define tdm_log(level, ...) tdm__log_at(level, -1, __VA_ARGS__)
#define log_err(...) tdm_log(TDM_LOG_ERR, __VA_ARGS__)
#define log_warnx(...) tdm_log(TDM_LOG_WARN, __VA_ARGS__)
#define log_notice(...) tdm_log(TDM_LOG_NOTICE, __VA_ARGS__)
#define log_info(...) tdm_log(TDM_LOG_INFO, __VA_ARGS__)
#define log_debug(...) tdm_log(TDM_LOG_DEBUG, __VA_ARGS__)
/* with ": strerror(errno)" appended, errno as it was before the arguments
 * were evaluated; errno is left as it was */
#define log_warn(...)                                                          \
	do {                                                                   \
		int tdm__errno_ = errno;                                       \
		tdm__log_at(TDM_LOG_WARN, tdm__errno_, __VA_ARGS__);           \
	} while (0)
/* Rate limited (per call site, for every target, the blackbox too): at
 * most 5 lines a second. */
#define log_warnx_rl(...)                                                      \
	do {                                                                   \
		static unsigned long long tdm__rl_last_;                       \
		static unsigned tdm__rl_n_;                                    \
		if (tdm_log_enabled(TDM_LOG_WARN) &&                           \
		    tdm_log_ratelimit(&tdm__rl_last_, &tdm__rl_n_))            \
			tdm__log(__func__, __FILE__, __LINE__, TDM_LOG_WARN,   \
				 -1, __VA_ARGS__);                             \
	} while (0)
bool tdm_log_ratelimit(unsigned long long *last, unsigned *n);

#endif
