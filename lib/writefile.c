/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * writefile.c - writing files whole: every byte (EINTR retried), and atomic
 * replacement (temporary file, fsync, rename, fsync of the directory);
 * the state directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/writefile.h"

int tdm_write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int tdm_file_replace(const char *path, const void *a, size_t alen,
		     const void *b, size_t blen, unsigned flags)
{
	char tmp[4096], old[4096], dir[4096];
	struct stat st;
	char *slash;
	int fd, r;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >=
		    sizeof(tmp) ||
	    (size_t)snprintf(old, sizeof(old), "%s.bak", path) >= sizeof(old))
		return -ENAMETOOLONG;
	fd = mkstemp(tmp); /* 0600 */
	if (fd < 0)
		return -errno;
	if ((flags & TDM_FILE_KEEP_MODE) && stat(path, &st) == 0)
		(void)fchmod(fd, st.st_mode & 0777);
	r = tdm_write_all(fd, a, alen);
	if (!r && blen)
		r = tdm_write_all(fd, b, blen);
	if (!r && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && !r)
		r = -errno;
	if (!r && (flags & TDM_FILE_BACKUP)) {
		if (unlink(old) < 0 && errno != ENOENT)
			r = -errno;
		if (!r && link(path, old) < 0 && errno != ENOENT)
			r = -errno;
	}
	if (!r && rename(tmp, path) < 0)
		r = -errno;
	if (r) {
		unlink(tmp);
		return r;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	/* the rename is durable once the directory is */
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = fsync(fd) < 0 ? -errno : 0;
	close(fd);
	return r;
}

static pthread_once_t state_once = PTHREAD_ONCE_INIT;
static char state_dir[PATH_MAX];

static void state_dir_init(void)
{
	const char *d = getenv("TANDEM_STATE_DIR");

	if (!d || !*d)
		d = "/var/lib/tandem";
	snprintf(state_dir, sizeof(state_dir), "%s", d);
}

int tdm_pidfile_write(const char *path)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	int r = tdm_file_replace(path, buf, (size_t)n, NULL, 0, 0);

	if (!r && chmod(path, 0644) < 0)
		r = -errno;
	return r;
}

const char *tdm_state_dir(void)
{
	pthread_once(&state_once, state_dir_init);
	return state_dir;
}
