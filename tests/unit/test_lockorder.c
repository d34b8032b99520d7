/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * test_lockorder.c - the debug-build lock order check (lib/lockorder.h):
 * locks taken in rank order pass, whatever order they are released in;
 * a lock taken inside one of a higher or the same rank, a read lock taken
 * twice, a lock released by a thread that does not hold it, and a
 * callback made with a lock held abort (in a forked child) with both
 * locks' names, ranks and file:line; the core's own locks are checked.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "scsi/scsi_int.h"
#include "lib/lockorder.h"

#ifdef TDM_LOCK_DEBUG

static struct tdm_mutex outer = TDM_MUTEX_INITIALIZER(10, "outer");
static struct tdm_rwlock middle = TDM_RWLOCK_INITIALIZER(20, "middle");
static struct tdm_mutex inner = TDM_MUTEX_INITIALIZER(30, "inner");
static struct tdm_mutex inner2 = TDM_MUTEX_INITIALIZER(30, "inner2");

/* Run fn in a child with its stderr in out; returns its wait status. */
static int in_child(void (*fn)(void), char *out, size_t cap)
{
	int fds[2], status;
	size_t n = 0;
	ssize_t r;
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		dup2(fds[1], STDERR_FILENO);
		fn();
		_exit(0);
	}
	close(fds[1]);
	while (n + 1 < cap && (r = read(fds[0], out + n, cap - 1 - n)) > 0)
		n += (size_t)r;
	out[n] = '\0';
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void expect_abort(void (*fn)(void), const char *const *want)
{
	char out[2048];
	int st = in_child(fn, out, sizeof(out));

	print_message("child said: %s", out);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGABRT);
	for (; *want; want++)
		assert_non_null(strstr(out, *want));
}

/* ---- the right order ---- */

static void right_order(void)
{
	tdm_mutex_lock(&outer);
	tdm_rwlock_rdlock(&middle);
	tdm_mutex_lock(&inner);
	/* released out of nesting order: allowed */
	tdm_rwlock_unlock(&middle);
	tdm_mutex_unlock(&outer);
	tdm_mutex_unlock(&inner);
	/* the same locks again, one at a time and as a writer */
	tdm_rwlock_wrlock(&middle);
	tdm_mutex_lock(&inner2);
	tdm_mutex_unlock(&inner2);
	tdm_rwlock_unlock(&middle);
	tdm_mutex_lock(&inner2);
	tdm_mutex_unlock(&inner2);
	tdm_lock_assert_none("a callback");
}

static void test_right_order(void **state)
{
	char out[512];
	int st;

	(void)state;
	right_order(); /* here, and in a child that must exit 0 quietly */
	st = in_child(right_order, out, sizeof(out));
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_string_equal(out, "");
}

/* ---- what aborts ---- */

static void inverted(void)
{
	tdm_mutex_lock(&inner);
	tdm_mutex_lock(&outer); /* line of the message */
}

static void inverted_rw(void)
{
	tdm_mutex_lock(&inner);
	tdm_rwlock_rdlock(&middle);
}

/* two locks of one rank (two LUs' lu->lock) never nest */
static void same_rank(void)
{
	tdm_mutex_lock(&inner);
	tdm_mutex_lock(&inner2);
}

/* a read lock taken twice deadlocks once a writer waits in between */
static void read_twice(void)
{
	tdm_rwlock_rdlock(&middle);
	tdm_rwlock_rdlock(&middle);
}

static void unlock_unheld(void)
{
	pthread_mutex_lock(&inner.m); /* as if by another thread */
	tdm_mutex_unlock(&inner);
}

static void callback_locked(void)
{
	tdm_rwlock_rdlock(&middle);
	tdm_lock_assert_none("ops->abort_pending");
}

static const struct {
	void (*fn)(void);
	const char *want[4]; /* what the message holds */
} aborts[] = {
	{inverted,
	 {"lock order violation: outer (rank 10) taken at ",
	  "test_lockorder.c:", "while holding inner (rank 30)"}},
	{inverted_rw, {"middle (rank 20)", "while holding inner (rank 30)"}},
	{same_rank, {"inner2 (rank 30)", "while holding inner (rank 30)"}},
	{read_twice, {"middle (rank 20)", "(the same lock)"}},
	{unlock_unheld,
	 {"inner released at ", "by a thread that does not hold it"}},
	{callback_locked,
	 {"ops->abort_pending at ", "with middle (rank 20) held"}},
};

static void test_aborts(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(aborts) / sizeof(aborts[0]); i++)
		expect_abort(aborts[i].fn, aborts[i].want);
}

/* ---- the core's locks ---- */

/* the registry lock taken inside an LU's lock: the inversion the order
 * forbids (tdm__reg_lock is taken first, scsi/README.md "Locks") */
static void core_inverted(void)
{
	struct tdm_mutex lu_lock;

	tdm_mutex_init(&lu_lock, TDM__LOCK_LU, "lu->lock");
	tdm_mutex_lock(&lu_lock);
	tdm_rwlock_rdlock(&tdm__reg_lock);
}

static void core_right(void)
{
	struct tdm_mutex lu_lock;

	tdm_mutex_init(&lu_lock, TDM__LOCK_LU, "lu->lock");
	tdm_rwlock_rdlock(&tdm__reg_lock);
	tdm_mutex_lock(&lu_lock);
	tdm_mutex_unlock(&lu_lock);
	tdm_rwlock_unlock(&tdm__reg_lock);
	tdm_mutex_destroy(&lu_lock);
}

static void test_core_locks(void **state)
{
	char reg[64], lu[64], out[512];
	const char *const want[] = {reg, lu, NULL};
	int st;

	(void)state;
	snprintf(reg, sizeof(reg), "tdm__reg_lock (rank %d)", TDM__LOCK_REG);
	snprintf(lu, sizeof(lu), "while holding lu->lock (rank %d)",
		 TDM__LOCK_LU);
	expect_abort(core_inverted, want);
	st = in_child(core_right, out, sizeof(out));
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_right_order),
		cmocka_unit_test(test_aborts),
		cmocka_unit_test(test_core_locks),
	};

	assert_true(tdm_lock_debug());
	return cmocka_run_group_tests(tests, NULL, NULL) ? 1 : 0;
}

#else

int main(void)
{
	printf("SKIP: the lock order check is not compiled in (configure "
	       "--enable-lock-debug)\n");
	return 77;
}

#endif
