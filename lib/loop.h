/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * loop.h - the event loops: one thread per core, each with an epoll set,
 * a timer heap, a cross-thread message queue and an io_uring for backstore
 * I/O. A connection lives on one loop for its whole life; the commands it
 * submits complete on that same loop, so per-connection state needs no lock.
 */
#ifndef TANDEM_LOOP_H
#define TANDEM_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct tdm_loop;
struct io_uring_sqe;

struct tdm_fd_watch {
	int fd;
	uint32_t events; /* EPOLLIN | EPOLLOUT ... */
	void (*cb)(struct tdm_fd_watch *w, uint32_t revents);
	void *arg;
};

struct tdm_timer {
	uint64_t when_ns;  /* CLOCK_MONOTONIC deadline */
	unsigned heap_idx; /* 0 = not armed */
	void (*cb)(struct tdm_timer *t);
	void *arg;
};

/* An io_uring request: its address is the SQE's user_data. */
struct tdm_uring_req {
	void (*done)(struct tdm_uring_req *req, int res);
};

/* Start nthreads loops (0 = one per online CPU). Returns 0 or -errno. */
int tdm_loops_start(unsigned nthreads);
/* Ask every loop to stop and join the threads. */
void tdm_loops_stop(void);
unsigned tdm_loop_count(void);
struct tdm_loop *tdm_loop_get(unsigned idx);
/* The loop running on this thread, NULL on a non-loop thread. */
struct tdm_loop *tdm_loop_current(void);
/* Make l the current loop of the calling thread (the main thread during
 * start-up, before it enters tdm_loop_run()). */
void tdm_loop_set_current(struct tdm_loop *l);
/* Pick a loop for a new connection (round robin). */
struct tdm_loop *tdm_loop_next(void);

/* Create a standalone loop driven by tdm_loop_run() on the caller's
 * thread (used by the main thread and by tests). */
struct tdm_loop *tdm_loop_new(void);
void tdm_loop_free(struct tdm_loop *l);
/* Run until tdm_loop_break(). */
void tdm_loop_run(struct tdm_loop *l);
/* Run one iteration, waiting at most timeout_ms (-1 forever). */
int tdm_loop_run_once(struct tdm_loop *l, int timeout_ms);
void tdm_loop_break(struct tdm_loop *l);

/* fd watches: only from the loop's own thread. */
int tdm_loop_add_fd(struct tdm_loop *l, struct tdm_fd_watch *w);
int tdm_loop_mod_fd(struct tdm_loop *l, struct tdm_fd_watch *w,
		    uint32_t events);
void tdm_loop_del_fd(struct tdm_loop *l, struct tdm_fd_watch *w);

/* timers: only from the loop's own thread. */
void tdm_timer_start(struct tdm_loop *l, struct tdm_timer *t,
		     uint64_t delay_ms);
void tdm_timer_stop(struct tdm_loop *l, struct tdm_timer *t);
uint64_t tdm_now_ns(void);

/* Run fn(arg) on loop l's thread (any thread may call; never fails). */
void tdm_loop_post(struct tdm_loop *l, void (*fn)(void *arg), void *arg);

/*
 * The same without an allocation, for completions that arrive on a
 * library's thread (librbd: backstores/rbd.c): any thread may send m,
 * which must stay valid until m->fn(m) runs on l's thread. Messages sent
 * from one thread run in the order they were sent.
 */
struct tdm_loop_msg {
	struct tdm_loop_msg *next;
	void (*fn)(struct tdm_loop_msg *m);
};
void tdm_loop_send(struct tdm_loop *l, struct tdm_loop_msg *m);

/*
 * io_uring of loop l (the caller must be on l's thread). Get an SQE, fill
 * it, set its user_data with tdm_uring_set_req(); it is submitted at the
 * end of the loop iteration (batched). Returns NULL only if the ring is
 * full even after an immediate submit.
 */
struct io_uring_sqe *tdm_uring_sqe(struct tdm_loop *l);
void tdm_uring_set_req(struct io_uring_sqe *sqe, struct tdm_uring_req *req);
/* Submit pending SQEs now. */
void tdm_uring_flush(struct tdm_loop *l);

#endif
