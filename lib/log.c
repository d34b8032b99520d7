/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * log.c - daemon logging on libqb's qb_log (log.h): stderr or syslog, and
 * the blackbox flight recorder.
 *
 * A message is formatted here, once, and handed to qb_log as "%s" at its
 * own call site (qb_log_callsite_get with the caller's function, file and
 * line): libqb 2.0.6's blackbox serializer mishandles precisions (a
 * "%.*s" argument is read to its NUL) and records over 512 bytes (its
 * reader then calls the whole file corrupt), so it gets one string of at
 * most TDM_LOG_MSG_MAX bytes. qb_log is not thread safe (a message that
 * arrives while another is being written is dropped): one mutex
 * serialises the messages of every thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <qb/qblog.h>

#include "lib/writefile.h"
#include "lib/lockorder.h"
#include "lib/log.h"

int tdm__log_max = -1;

/* every qb_log call and the blackbox; the innermost lock of all
 * (lib/lockorder.h, scsi/README.md "Locks") */
static struct tdm_mutex log_lock =
	TDM_MUTEX_INITIALIZER(TDM_LOCK_LOG, "log_lock");
static char ident[64];
static bool inited;
/* a stderr or syslog line: the time, name, priority, file:line and a
 * message */
#define LINE_MAX_LEN (TDM_LOG_MSG_MAX + 256)

/* the blackbox: on, and the directory of its dumps */
static bool bb_on;
static char bb_dir[PATH_MAX];

static const int fatal_sigs[] = {SIGSEGV, SIGBUS, SIGABRT, SIGILL, SIGFPE};
#define NFATAL (sizeof(fatal_sigs) / sizeof(fatal_sigs[0]))
static struct sigaction fatal_old[NFATAL];
static bool fatal_set;
static int fatal_seen;

void tdm_log_init(const char *name, bool use_syslog, int level)
{
	const int32_t t = use_syslog ? QB_LOG_SYSLOG : QB_LOG_STDERR;
	const uint8_t prio = (uint8_t)(level < LOG_EMERG ? LOG_EMERG : level);
	const bool debug = level >= TDM_LOG_DEBUG;

	if (inited)
		return;
	snprintf(ident, sizeof(ident), "%s", name);
	/* syslog, enabled with every message up to prio */
	qb_log_init(ident, LOG_DAEMON, prio);
	if (!use_syslog) {
		qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_ENABLED, QB_FALSE);
		qb_log_filter_ctl(QB_LOG_STDERR, QB_LOG_FILTER_ADD,
				  QB_LOG_FILTER_FILE, "*", prio);
		qb_log_ctl(QB_LOG_STDERR, QB_LOG_CONF_ENABLED, QB_TRUE);
		qb_log_format_set(QB_LOG_STDERR,
				  debug ? "%T %N[%P] %p: %f:%l: %b"
					: "%T %N[%P] %p: %b");
	} else {
		/* syslog stamps the time, the ident, the pid */
		qb_log_format_set(QB_LOG_SYSLOG, debug ? "%f:%l: %b" : "%b");
	}
	qb_log_ctl(t, QB_LOG_CONF_MAX_LINE_LEN, LINE_MAX_LEN);
	qb_log_ctl(t, QB_LOG_CONF_ELLIPSIS, QB_TRUE);
	tdm__log_max = level < LOG_EMERG ? LOG_EMERG : level;
	inited = true;
}

static void fatal_restore(void)
{
	if (!fatal_set)
		return;
	for (size_t i = 0; i < NFATAL; i++)
		sigaction(fatal_sigs[i], &fatal_old[i], NULL);
	fatal_set = false;
}

void tdm_log_fini(void)
{
	if (!inited)
		return;
	fatal_restore();
	tdm_mutex_lock(&log_lock);
	bb_on = false;
	tdm__log_max = -1;
	qb_log_fini();
	inited = false;
	tdm_mutex_unlock(&log_lock);
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

void tdm__log(const char *func, const char *file, int line, int level, int err,
	      const char *fmt, ...)
{
	char msg[TDM_LOG_MSG_MAX + 1];
	struct qb_log_callsite *cs;
	int saved = errno;
	size_t len;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	len = n < 0 ? 0 : (size_t)n;
	if (err >= 0 && len < sizeof(msg))
		len += (size_t)snprintf(msg + len, sizeof(msg) - len, ": %s",
					strerror(err));
	if (len >= sizeof(msg))
		memcpy(msg + TDM_LOG_MSG_MAX - 3, "...", 3);
	tdm_mutex_lock(&log_lock);
	cs = qb_log_callsite_get(func, file, "%s", (uint8_t)level,
				 (uint32_t)line, 0);
	if (cs)
		qb_log_real_(cs, msg);
	tdm_mutex_unlock(&log_lock);
	errno = saved;
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

/* ---- the blackbox ---- */

/* Append s, or v in decimal (at least width digits), to buf at *o; false
 * when it does not fit. No stdio: the fatal-signal handler uses them. */
static bool put_str(char *buf, size_t len, size_t *o, const char *s)
{
	size_t n = strlen(s);

	if (*o + n >= len)
		return false;
	memcpy(buf + *o, s, n + 1);
	*o += n;
	return true;
}

static bool put_num(char *buf, size_t len, size_t *o, uint64_t v, int width)
{
	char tmp[24];
	int i = (int)sizeof(tmp) - 1;

	tmp[i] = '\0';
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while ((v || (int)sizeof(tmp) - 1 - i < width) && i > 0);
	return put_str(buf, len, o, tmp + i);
}

/* The start of a dump's path: the state directory, lead ("/" or "/."),
 * "blackbox-IDENT-PID"; appended to buf at *o. */
static bool bb_base(char *buf, size_t len, size_t *o, const char *lead)
{
	return put_str(buf, len, o, bb_dir) && put_str(buf, len, o, lead) &&
	       put_str(buf, len, o, "blackbox-") &&
	       put_str(buf, len, o, ident) && put_str(buf, len, o, "-") &&
	       put_num(buf, len, o, (uint64_t)getpid(), 1);
}

/* A dump holds libqb's file header and the ring's (5 words each) */
#define BB_HEADERS 40

/*
 * Write the blackbox to a new file of the state directory (made when
 * missing), whole or not at all: into .blackbox-IDENT-PID.TAG, mode 0600,
 * then linked as blackbox-IDENT-PID-SEC.MSEC ("-N" appended when that
 * exists), its path in path. The bytes written, or -errno.
 * Async-signal-safe but for libqb's part (on_fatal).
 */
static ssize_t bb_write(char *path, size_t len, const char *tag)
{
	char tmp[PATH_MAX];
	struct timespec ts;
	size_t o = 0;
	ssize_t n;
	int fd, e;

	if (!bb_base(tmp, sizeof(tmp), &o, "/.") ||
	    !put_str(tmp, sizeof(tmp), &o, ".") ||
	    !put_str(tmp, sizeof(tmp), &o, tag))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 && errno == ENOENT &&
	    (mkdir(bb_dir, 0755) == 0 || errno == EEXIST))
		fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	close(fd);
	n = qb_log_blackbox_write_to_file(tmp);
	if (n < BB_HEADERS) {
		unlink(tmp);
		return n < 0 ? n : -EIO;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	for (unsigned i = 0; i < 100; i++) {
		o = 0;
		if (!bb_base(path, len, &o, "/") ||
		    !put_str(path, len, &o, "-") ||
		    !put_num(path, len, &o, (uint64_t)ts.tv_sec, 1) ||
		    !put_str(path, len, &o, ".") ||
		    !put_num(path, len, &o, (uint64_t)ts.tv_nsec / 1000000,
			     3) ||
		    (i && (!put_str(path, len, &o, "-") ||
			   !put_num(path, len, &o, i, 1)))) {
			unlink(tmp);
			return -ENAMETOOLONG;
		}
		if (link(tmp, path) == 0) {
			unlink(tmp);
			return n;
		}
		if (errno != EEXIST) {
			e = errno;
			unlink(tmp);
			return -e;
		}
	}
	unlink(tmp);
	return -EEXIST;
}

ssize_t tdm_log_blackbox_dump(char *path, size_t pathlen)
{
	ssize_t n;

	if (!bb_on) {
		log_notice("blackbox not written: it is off "
			   "(--blackbox-size 0)");
		return -ENOENT;
	}
	/* no message is written to the ring while it is copied */
	tdm_mutex_lock(&log_lock);
	n = bb_write(path, pathlen, "tmp");
	tdm_mutex_unlock(&log_lock);
	if (n < 0) {
		log_warnx("blackbox not written to %s: %s", bb_dir,
			  strerror((int)-n));
		return n;
	}
	log_notice("blackbox written to %s (%zd bytes)", path, n);
	return n;
}

/*
 * A fatal signal: write the blackbox (once, whichever thread is first),
 * then give the signal back to the action it had (a sanitizer's report,
 * the default core dump): a fault comes again when the instruction runs
 * again, a signal that was sent (kill, abort) is sent again and delivered
 * when this handler returns. Like pacemaker's crm_write_blackbox, this
 * calls into libqb from a signal handler: open, write and close, and the
 * lock of libqb's callsite registry when it logs that it wrote; a crash
 * inside that registry would hang here instead of dying.
 */
static void on_fatal(int sig, siginfo_t *si, void *uc)
{
	char path[PATH_MAX], line[PATH_MAX + 128];
	int saved = errno;
	bool locked;
	size_t o = 0;

	if (bb_on && !__atomic_exchange_n(&fatal_seen, 1, __ATOMIC_SEQ_CST)) {
		/* the other threads' messages wait, unless one of them (or
		 * this thread) is inside the logger */
		locked = pthread_mutex_trylock(&log_lock.m) == 0;
		if (bb_write(path, sizeof(path), "fatal") >= 0 &&
		    put_str(line, sizeof(line), &o, ident) &&
		    put_str(line, sizeof(line), &o, ": fatal signal ") &&
		    put_num(line, sizeof(line), &o, (uint64_t)sig, 1) &&
		    put_str(line, sizeof(line), &o, ": blackbox written to ") &&
		    put_str(line, sizeof(line), &o, path) &&
		    put_str(line, sizeof(line), &o, "\n"))
			(void)!write(STDERR_FILENO, line, o);
		if (locked)
			pthread_mutex_unlock(&log_lock.m);
	}
	for (size_t i = 0; i < NFATAL; i++)
		if (fatal_sigs[i] == sig)
			sigaction(sig, &fatal_old[i], NULL);
	if (si->si_code <= 0)
		raise(sig);
	errno = saved;
}

static void fatal_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_fatal;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < NFATAL; i++)
		sigaction(fatal_sigs[i], &sa, &fatal_old[i]);
	fatal_set = true;
}

int tdm_log_blackbox_start(unsigned mib)
{
	char shm[PATH_MAX];
	size_t o = 0;
	int r, fd;

	if (mib == 0)
		return 0;
	if (mib > 1024 || !inited || bb_on)
		return -EINVAL;
	if (!put_str(bb_dir, sizeof(bb_dir), &o, tdm_state_dir()))
		return -ENAMETOOLONG;
	tdm_mutex_lock(&log_lock);
	r = qb_log_ctl(QB_LOG_BLACKBOX, QB_LOG_CONF_SIZE, (int32_t)(mib << 20));
	if (r == 0)
		r = qb_log_ctl(QB_LOG_BLACKBOX, QB_LOG_CONF_ENABLED, QB_TRUE);
	if (r == 0)
		r = qb_log_filter_ctl(QB_LOG_BLACKBOX, QB_LOG_FILTER_ADD,
				      QB_LOG_FILTER_FILE, "*", LOG_DEBUG);
	if (r == 0) {
		bb_on = true;
		tdm__log_max = TDM_LOG_DEBUG;
	}
	tdm_mutex_unlock(&log_lock);
	if (r < 0)
		return r;
	/* libqb 2.0 keeps the ring in two files of /dev/shm until the
	 * target closes: a daemon killed by SIGKILL would leave them
	 * behind. Gone now; the mapping stays. */
	snprintf(shm, sizeof(shm), "/dev/shm/qb-%s-%d-blackbox-header", ident,
		 (int)getpid());
	unlink(shm);
	snprintf(shm, sizeof(shm), "/dev/shm/qb-%s-%d-blackbox-data", ident,
		 (int)getpid());
	unlink(shm);
	/* libqb prints the ring's header on stdout at every dump
	 * (qb_rb_write_to_file): a daemon writes nothing else there, so
	 * stdout goes to /dev/null, unbuffered (no malloc in a signal
	 * handler) */
	fflush(stdout);
	setvbuf(stdout, NULL, _IONBF, 0);
	fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		dup2(fd, STDOUT_FILENO);
		close(fd);
	}
	fatal_install();
	return 0;
}

int tdm_log_blackbox_size_parse(const char *s)
{
	int v = 0;

	if (!*s || strlen(s) > 4)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v <= 1024 ? v : -1;
}
