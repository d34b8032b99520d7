/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * log.h - daemon logging (stderr or syslog). Daemons log, tools print.
 * log_warn() appends strerror(errno), log_warnx() does not.
 */
#ifndef TANDEM_LOG_H
#define TANDEM_LOG_H

#include <stdbool.h>

enum tdm_log_level {
	TDM_LOG_ERR = 3,
	TDM_LOG_WARN = 4,
	TDM_LOG_NOTICE = 5,
	TDM_LOG_INFO = 6,
	TDM_LOG_DEBUG = 7
};

void tdm_log_init(const char *ident, bool use_syslog, int level);
/* "error", "warning", "notice", "info", "debug" -> TDM_LOG_*, or -1. */
int tdm_log_level_parse(const char *s);
/* Detach from the terminal (fork twice, setsid, chdir /, stdio to
 * /dev/null) before the daemon logs to syslog; 0 or -errno. */
int tdm_daemonize(void);
void tdm_log(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
bool tdm_log_enabled(int level);

#define log_err(...) tdm_log(TDM_LOG_ERR, __VA_ARGS__)
#define log_warnx(...) tdm_log(TDM_LOG_WARN, __VA_ARGS__)
#define log_notice(...) tdm_log(TDM_LOG_NOTICE, __VA_ARGS__)
#define log_info(...) tdm_log(TDM_LOG_INFO, __VA_ARGS__)
#define log_debug(...)                                                         \
	do {                                                                   \
		if (tdm_log_enabled(TDM_LOG_DEBUG))                            \
			tdm_log(TDM_LOG_DEBUG, __VA_ARGS__);                   \
	} while (0)
/* with strerror(errno) appended */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Rate limited (per call site): at most a few lines a second. */
#define log_warnx_rl(...)                                                      \
	do {                                                                   \
		static unsigned long long tdm__rl_last_;                       \
		static unsigned tdm__rl_n_;                                    \
		if (tdm_log_ratelimit(&tdm__rl_last_, &tdm__rl_n_))            \
			tdm_log(TDM_LOG_WARN, __VA_ARGS__);                    \
	} while (0)
bool tdm_log_ratelimit(unsigned long long *last, unsigned *n);

#endif
