/* SPDX-License-Identifier: GPL-2.0-only */
/* log.c - daemon logging to stderr or syslog. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"

static bool to_syslog;
static int max_level = TDM_LOG_INFO;
static const char *log_ident = "tandem";

void tdm_log_init(const char *ident, bool use_syslog, int level)
{
	log_ident = ident;
	to_syslog = use_syslog;
	max_level = level;
	if (use_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

bool tdm_log_enabled(int level)
{
	return level <= max_level;
}

static __attribute__((format(printf, 2, 0))) void
vlog(int level, const char *fmt, va_list ap, const char *suffix)
{
	char msg[1024];

	if (level > max_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (to_syslog) {
		syslog(level, "%s%s%s", msg, suffix ? ": " : "",
		       suffix ? suffix : "");
	} else {
		static const char *names[] = {"",      "",	  "",
					      "error", "warning", "notice",
					      "info",  "debug"};

		fprintf(stderr, "%s: %s: %s%s%s\n", log_ident, names[level & 7],
			msg, suffix ? ": " : "", suffix ? suffix : "");
	}
}

void tdm_log(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, fmt, ap, NULL);
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog(TDM_LOG_WARN, fmt, ap, strerror(saved));
	va_end(ap);
	errno = saved;
}

bool tdm_log_ratelimit(unsigned long long *last, unsigned *n)
{
	struct timespec ts;
	unsigned long long now;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	now = (unsigned long long)ts.tv_sec;
	if (now != __atomic_load_n(last, __ATOMIC_RELAXED)) {
		__atomic_store_n(last, now, __ATOMIC_RELAXED);
		__atomic_store_n(n, 0, __ATOMIC_RELAXED);
	}
	return __atomic_fetch_add(n, 1, __ATOMIC_RELAXED) < 5;
}

int tdm_log_level_parse(const char *s)
{
	static const char *const names[] = {"error", "warning", "notice",
					    "info", "debug"};

	for (int i = 0; i < 5; i++)
		if (!strcmp(s, names[i]))
			return TDM_LOG_ERR + i;
	return -1;
}

int tdm_daemonize(void)
{
	pid_t pid = fork();
	int fd;

	if (pid < 0)
		return -errno;
	if (pid > 0)
		_exit(0);
	if (setsid() < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0)
		_exit(0);
	if (chdir("/") < 0)
		return -errno;
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	return 0;
}
