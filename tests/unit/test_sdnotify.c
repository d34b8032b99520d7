/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * test_sdnotify.c - systemd's notifications (lib/sdnotify.h) on a socket
 * of the test's own, as systemd would receive them: READY=1 with STATUS
 * and MAINPID; WATCHDOG=1 every quarter of WATCHDOG_USEC while every
 * event loop turns, none while one worker loop is stuck in a handler,
 * again once it returns; RELOADING=1, STOPPING=1; nothing after the
 * watchdog is stopped.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/loop.h"
#include "lib/sdnotify.h"

static int sock = -1;
static char path[108];
static struct tdm_loop *main_loop;
static atomic_int stuck;

/* Run the main loop for ms; count the datagrams holding what. */
static int run_and_count(unsigned ms, const char *what, char *last,
			 size_t lastlen)
{
	uint64_t end = tdm_now_ns() + (uint64_t)ms * 1000000;
	char buf[1024];
	int n = 0;
	ssize_t r;

	while (tdm_now_ns() < end) {
		tdm_loop_run_once(main_loop, 10);
		while ((r = recv(sock, buf, sizeof(buf) - 1, MSG_DONTWAIT)) >
		       0) {
			buf[r] = 0;
			if (strstr(buf, what)) {
				n++;
				if (last)
					snprintf(last, lastlen, "%s", buf);
			}
		}
	}
	return n;
}

static void hang(void *arg)
{
	(void)arg;
	while (atomic_load(&stuck))
		usleep(1000);
}

static void test_notify(void **state)
{
	char last[1024] = "", env[32];
	int n;

	(void)state;
	snprintf(env, sizeof(env), "%ld", (long)getpid());
	setenv("WATCHDOG_PID", env, 1);
	setenv("WATCHDOG_USEC", "200000", 1); /* a tick every 50 ms */
	setenv("NOTIFY_SOCKET", path, 1);

	tdm_sd_ready(main_loop, "serving: 1 devices");
	n = run_and_count(20, "READY=1", last, sizeof(last));
	assert_int_equal(n, 1);
	assert_non_null(strstr(last, "STATUS=serving: 1 devices"));
	assert_non_null(strstr(last, "MAINPID="));
	assert_int_equal(tdm_sd_watchdog_usec(), 200000);

	/* every loop turns: about one ping per 50 ms */
	n = run_and_count(500, "WATCHDOG=1", NULL, 0);
	assert_in_range(n, 3, 12);

	/* worker loop 1 stuck: at most the ping of the round in flight */
	atomic_store(&stuck, 1);
	tdm_loop_post(tdm_loop_get(1), hang, NULL);
	n = run_and_count(500, "WATCHDOG=1", NULL, 0);
	assert_in_range(n, 0, 1);
	atomic_store(&stuck, 0);
	n = run_and_count(300, "WATCHDOG=1", NULL, 0);
	assert_in_range(n, 2, 8);

	tdm_sd_reloading("reloading");
	assert_int_equal(run_and_count(20, "RELOADING=1", NULL, 0), 1);
	tdm_sd_stopping("stopping");
	assert_int_equal(run_and_count(20, "STOPPING=1", NULL, 0), 1);

	tdm_sd_watchdog_stop();
	assert_int_equal(tdm_sd_watchdog_usec(), 0);
	assert_int_equal(run_and_count(200, "WATCHDOG=1", NULL, 0), 0);
}

static int setup(void **state)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};

	(void)state;
	snprintf(path, sizeof(path), "/tmp/tandem-sdnotify-%ld.sock",
		 (long)getpid());
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	unlink(path);
	sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock < 0 || bind(sock, (struct sockaddr *)&a, sizeof(a)) < 0)
		return -1;
	if (tdm_loops_start(2) < 0)
		return -1;
	main_loop = tdm_loop_new();
	if (!main_loop)
		return -1;
	tdm_loop_set_current(main_loop);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tdm_loops_stop();
	tdm_loop_free(main_loop);
	close(sock);
	unlink(path);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_notify),
	};

	if (!tdm_sd_built()) {
		printf("SKIP: built without libsystemd (configure "
		       "--with-systemd)\n");
		return 77;
	}
	return cmocka_run_group_tests_name("sdnotify", tests, setup, teardown);
}
