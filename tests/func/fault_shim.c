/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fault_shim.c - an LD_PRELOAD library for the functional tests (built by
 * the script that uses it: cc -shared -fPIC fault_shim.c -ldl):
 *
 *   TDM_SHIM_GETRANDOM=N  getrandom() fails with errno N (11: EAGAIN, as
 *                         before the kernel's pool is initialised)
 *   TDM_SHIM_BIND_LOG=F   after each bind() of an AF_UNIX socket to a
 *                         path, "PATH MODE" (octal) is appended to F: the
 *                         mode the socket has at the moment it exists
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

ssize_t getrandom(void *buf, size_t len, unsigned int flags)
{
	static ssize_t (*real)(void *, size_t, unsigned int);
	const char *fail = getenv("TDM_SHIM_GETRANDOM");

	if (fail) {
		errno = atoi(fail);
		return -1;
	}
	if (!real)
		real = (ssize_t(*)(void *, size_t, unsigned int))dlsym(
			RTLD_NEXT, "getrandom");
	return real(buf, len, flags);
}

int bind(int fd, const struct sockaddr *sa, socklen_t len)
{
	static int (*real)(int, const struct sockaddr *, socklen_t);
	const char *log = getenv("TDM_SHIM_BIND_LOG");
	const struct sockaddr_un *su = (const struct sockaddr_un *)sa;
	struct stat st;
	int r, e;
	FILE *f;

	if (!real)
		real = (int (*)(int, const struct sockaddr *, socklen_t))dlsym(
			RTLD_NEXT, "bind");
	r = real(fd, sa, len);
	e = errno;
	if (r == 0 && log && sa->sa_family == AF_UNIX && su->sun_path[0] &&
	    stat(su->sun_path, &st) == 0) {
		f = fopen(log, "a");
		if (f) {
			fprintf(f, "%s %04o\n", su->sun_path,
				(unsigned)(st.st_mode & 07777));
			fclose(f);
		}
	}
	errno = e;
	return r;
}
