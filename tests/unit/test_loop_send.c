/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * test_loop_send.c - tdm_loop_send() (lib/loop.h), the allocation-free
 * cross-thread message that brings librbd's completions home: four
 * threads send 20000 messages each to one loop; every message runs once,
 * on the loop's thread, and each sender's messages run in the order they
 * were sent; a loop asleep in epoll_wait wakes for one message.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "lib/loop.h"

#define SENDERS 4
#define PER_SENDER 20000

struct msg {
	struct tdm_loop_msg m;
	unsigned sender, seq;
};

static struct tdm_loop *loop;
static pthread_t loop_thread;
static unsigned next_seq[SENDERS];
static unsigned received, out_of_order, wrong_thread;

static void on_msg(struct tdm_loop_msg *m)
{
	struct msg *x = (struct msg *)m;

	if (!pthread_equal(pthread_self(), loop_thread))
		wrong_thread++;
	if (x->seq != next_seq[x->sender])
		out_of_order++;
	next_seq[x->sender] = x->seq + 1;
	received++;
}

static struct msg *msgs;

static void *sender(void *arg)
{
	unsigned s = (unsigned)(uintptr_t)arg;

	for (unsigned i = 0; i < PER_SENDER; i++) {
		struct msg *x = &msgs[s * PER_SENDER + i];

		x->m.fn = on_msg;
		x->sender = s;
		x->seq = i;
		tdm_loop_send(loop, &x->m);
	}
	return NULL;
}

static void test_send_many(void **state)
{
	pthread_t t[SENDERS];
	uint64_t end;

	(void)state;
	msgs = calloc(SENDERS * PER_SENDER, sizeof(*msgs));
	assert_non_null(msgs);
	loop = tdm_loop_new();
	assert_non_null(loop);
	loop_thread = pthread_self();
	for (unsigned s = 0; s < SENDERS; s++)
		assert_int_equal(pthread_create(&t[s], NULL, sender,
						(void *)(uintptr_t)s),
				 0);
	end = tdm_now_ns() + 20ull * 1000000000ull;
	while (received < SENDERS * PER_SENDER && tdm_now_ns() < end)
		tdm_loop_run_once(loop, 100);
	for (unsigned s = 0; s < SENDERS; s++)
		pthread_join(t[s], NULL);
	assert_int_equal(received, SENDERS * PER_SENDER);
	assert_int_equal(out_of_order, 0);
	assert_int_equal(wrong_thread, 0);
	/* nothing left over, nothing runs twice */
	tdm_loop_run_once(loop, 10);
	assert_int_equal(received, SENDERS * PER_SENDER);
	tdm_loop_free(loop);
	free(msgs);
}

static void *late_sender(void *arg)
{
	struct timespec ts = {0, 50 * 1000000};

	nanosleep(&ts, NULL);
	tdm_loop_send(loop, arg);
	return NULL;
}

/* A loop asleep in epoll_wait is woken by one message. */
static void test_send_wakes(void **state)
{
	struct msg x = {.m.fn = on_msg, .sender = 0};
	pthread_t t;
	uint64_t t0;

	(void)state;
	loop = tdm_loop_new();
	assert_non_null(loop);
	loop_thread = pthread_self();
	received = 0;
	next_seq[0] = 0;
	assert_int_equal(pthread_create(&t, NULL, late_sender, &x), 0);
	t0 = tdm_now_ns();
	while (!received && tdm_now_ns() - t0 < 5000000000ull)
		tdm_loop_run_once(loop, 5000);
	pthread_join(t, NULL);
	assert_int_equal(received, 1);
	/* woken by the message, not by the 5 s timeout */
	assert_true(tdm_now_ns() - t0 < 2000000000ull);
	tdm_loop_free(loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_send_many),
		cmocka_unit_test(test_send_wakes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
