/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * loop.c - event loops: epoll + timer heap + cross-thread queue + io_uring.
 *
 * One loop per worker thread. The io_uring's completions are signalled
 * through an eventfd registered in the epoll set, so a loop sleeps in one
 * place (epoll_wait) whatever it waits for. SQEs queued during an
 * iteration are submitted together at its end.
 */
#include <errno.h>
#include <liburing.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "lib/lockorder.h"
#include "lib/log.h"
#include "lib/loop.h"
#include "lib/buf.h"

#define URING_DEPTH 1024
#define MAX_EVENTS 64

struct post_msg {
	struct post_msg *next;
	void (*fn)(void *arg);
	void *arg;
};

struct tdm_loop {
	int epfd;
	int wakefd; /* eventfd: posted messages */
	bool running;
	bool has_uring;
	struct io_uring ring;
	int ringfd; /* eventfd: io_uring completions */
	unsigned pending_sqes;
	struct tdm_fd_watch wake_watch, ring_watch;
	/* timer min-heap, 1-based */
	struct tdm_timer **heap;
	unsigned nheap, heapcap;
	/* cross-thread queue */
	struct tdm_mutex qlock; /* qhead, qtail; TDM_LOCK_LOOP_QUEUE */
	struct post_msg *qhead, *qtail;
	/* messages of tdm_loop_send(): a lock-free stack, newest first */
	_Atomic(struct tdm_loop_msg *) msgs;
	pthread_t thread;
	/* the epoll batch being dispatched: tdm_loop_del_fd() clears a
	 * watch's later events so a callback may free another watch */
	struct epoll_event *batch;
	int batch_n;
};

static _Thread_local struct tdm_loop *cur_loop;
static struct tdm_loop **workers;
static unsigned nworkers;
static _Atomic unsigned rr_next;

uint64_t tdm_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- timers ---- */

static void heap_swap(struct tdm_loop *l, unsigned a, unsigned b)
{
	struct tdm_timer *t = l->heap[a];

	l->heap[a] = l->heap[b];
	l->heap[b] = t;
	l->heap[a]->heap_idx = a;
	l->heap[b]->heap_idx = b;
}

static void heap_up(struct tdm_loop *l, unsigned i)
{
	while (i > 1 && l->heap[i / 2]->when_ns > l->heap[i]->when_ns) {
		heap_swap(l, i, i / 2);
		i /= 2;
	}
}

static void heap_down(struct tdm_loop *l, unsigned i)
{
	for (;;) {
		unsigned m = i, c = 2 * i;

		if (c <= l->nheap && l->heap[c]->when_ns < l->heap[m]->when_ns)
			m = c;
		if (c + 1 <= l->nheap &&
		    l->heap[c + 1]->when_ns < l->heap[m]->when_ns)
			m = c + 1;
		if (m == i)
			return;
		heap_swap(l, i, m);
		i = m;
	}
}

void tdm_timer_stop(struct tdm_loop *l, struct tdm_timer *t)
{
	unsigned i = t->heap_idx;

	if (!i)
		return;
	t->heap_idx = 0;
	if (i != l->nheap) {
		l->heap[i] = l->heap[l->nheap];
		l->heap[i]->heap_idx = i;
		l->nheap--;
		heap_up(l, i);
		heap_down(l, i);
	} else {
		l->nheap--;
	}
}

void tdm_timer_start(struct tdm_loop *l, struct tdm_timer *t, uint64_t delay_ms)
{
	tdm_timer_stop(l, t);
	if (l->nheap + 1 >= l->heapcap) {
		unsigned ncap = l->heapcap ? l->heapcap * 2 : 64;
		struct tdm_timer **nh = realloc(l->heap, ncap * sizeof(*nh));

		if (!nh)
			abort(); /* a timer that silently never fires is worse
				  */
		l->heap = nh;
		l->heapcap = ncap;
	}
	t->when_ns = tdm_now_ns() + delay_ms * 1000000ull;
	l->heap[++l->nheap] = t;
	t->heap_idx = l->nheap;
	heap_up(l, l->nheap);
}

static int run_timers(struct tdm_loop *l)
{
	uint64_t now = tdm_now_ns();

	while (l->nheap && l->heap[1]->when_ns <= now) {
		struct tdm_timer *t = l->heap[1];

		tdm_timer_stop(l, t);
		t->cb(t);
	}
	if (!l->nheap)
		return -1;
	return (int)((l->heap[1]->when_ns - now + 999999) / 1000000);
}

/* ---- fd watches ---- */

int tdm_loop_add_fd(struct tdm_loop *l, struct tdm_fd_watch *w)
{
	struct epoll_event ev = {.events = w->events, .data.ptr = w};

	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, w->fd, &ev) < 0)
		return -errno;
	return 0;
}

int tdm_loop_mod_fd(struct tdm_loop *l, struct tdm_fd_watch *w, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = w};

	if (w->events == events)
		return 0;
	w->events = events;
	if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, w->fd, &ev) < 0)
		return -errno;
	return 0;
}

void tdm_loop_del_fd(struct tdm_loop *l, struct tdm_fd_watch *w)
{
	int i;

	epoll_ctl(l->epfd, EPOLL_CTL_DEL, w->fd, NULL);
	for (i = 0; i < l->batch_n; i++)
		if (l->batch[i].data.ptr == w)
			l->batch[i].data.ptr = NULL;
}

/* ---- cross-thread posting ---- */

void tdm_loop_post(struct tdm_loop *l, void (*fn)(void *arg), void *arg)
{
	struct post_msg *m = malloc(sizeof(*m));
	uint64_t one = 1;

	if (!m)
		abort(); /* losing a cross-thread message would hang a TMF */
	m->fn = fn;
	m->arg = arg;
	m->next = NULL;
	tdm_mutex_lock(&l->qlock);
	if (l->qtail)
		l->qtail->next = m;
	else
		l->qhead = m;
	l->qtail = m;
	tdm_mutex_unlock(&l->qlock);
	if (write(l->wakefd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("loop wakeup");
}

static void run_posted(struct tdm_loop *l)
{
	struct post_msg *m;

	tdm_mutex_lock(&l->qlock);
	m = l->qhead;
	l->qhead = l->qtail = NULL;
	tdm_mutex_unlock(&l->qlock);
	while (m) {
		struct post_msg *next = m->next;

		m->fn(m->arg);
		free(m);
		m = next;
	}
}

/*
 * tdm_loop_send(): a push onto the loop's stack (compare and swap, no
 * lock, no allocation: the message is the caller's). Only the push that
 * finds the stack empty wakes the loop: a later push before the loop
 * takes the stack is taken with it.
 */
void tdm_loop_send(struct tdm_loop *l, struct tdm_loop_msg *m)
{
	struct tdm_loop_msg *head = atomic_load(&l->msgs);
	uint64_t one = 1;

	do
		m->next = head;
	while (!atomic_compare_exchange_weak(&l->msgs, &head, m));
	if (!head && write(l->wakefd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("loop wakeup");
}

/* Take the whole stack and run it oldest first. */
static void run_sent(struct tdm_loop *l)
{
	struct tdm_loop_msg *m = atomic_exchange(&l->msgs, NULL);
	struct tdm_loop_msg *fifo = NULL;

	while (m) {
		struct tdm_loop_msg *next = m->next;

		m->next = fifo;
		fifo = m;
		m = next;
	}
	while (fifo) {
		m = fifo;
		fifo = m->next;
		m->fn(m);
	}
}

static void wake_cb(struct tdm_fd_watch *w, uint32_t revents)
{
	struct tdm_loop *l = w->arg;
	uint64_t v;

	if (read(l->wakefd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_warn("loop wakeup read");
	run_sent(l);
	run_posted(l);
}

/* ---- io_uring ---- */

static void reap_cqes(struct tdm_loop *l)
{
	struct io_uring_cqe *cqe;
	unsigned head, n;

	do {
		n = 0;
		io_uring_for_each_cqe(&l->ring, head, cqe)
		{
			struct tdm_uring_req *req = io_uring_cqe_get_data(cqe);
			int res = cqe->res;

			n++;
			io_uring_cq_advance(&l->ring, 1);
			if (req)
				req->done(req, res);
		}
	} while (n);
}

static void ring_cb(struct tdm_fd_watch *w, uint32_t revents)
{
	struct tdm_loop *l = w->arg;
	uint64_t v;

	if (read(l->ringfd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_warn("uring eventfd read");
	reap_cqes(l);
}

void tdm_uring_flush(struct tdm_loop *l)
{
	int r;

	if (!l->pending_sqes)
		return;
	do {
		r = io_uring_submit(&l->ring);
	} while (r == -EINTR);
	if (r < 0)
		log_warnx_rl("io_uring_submit: %s", strerror(-r));
	l->pending_sqes = 0;
}

struct io_uring_sqe *tdm_uring_sqe(struct tdm_loop *l)
{
	struct io_uring_sqe *sqe;

	if (!l->has_uring)
		return NULL;
	sqe = io_uring_get_sqe(&l->ring);
	if (!sqe) {
		tdm_uring_flush(l);
		sqe = io_uring_get_sqe(&l->ring);
		if (!sqe)
			return NULL;
	}
	l->pending_sqes++;
	return sqe;
}

void tdm_uring_set_req(struct io_uring_sqe *sqe, struct tdm_uring_req *req)
{
	io_uring_sqe_set_data(sqe, req);
}

/* ---- lifecycle ---- */

struct tdm_loop *tdm_loop_new(void)
{
	struct tdm_loop *l = calloc(1, sizeof(*l));
	struct io_uring_params p;
	int r;

	if (!l)
		return NULL;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	l->ringfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (l->epfd < 0 || l->wakefd < 0 || l->ringfd < 0)
		goto fail;
	tdm_mutex_init(&l->qlock, TDM_LOCK_LOOP_QUEUE, "loop qlock");
	l->wake_watch = (struct tdm_fd_watch){
		.fd = l->wakefd, .events = EPOLLIN, .cb = wake_cb, .arg = l};
	if (tdm_loop_add_fd(l, &l->wake_watch) < 0)
		goto fail;

	memset(&p, 0, sizeof(p));
	r = io_uring_queue_init_params(URING_DEPTH, &l->ring, &p);
	if (r < 0) {
		log_warnx("io_uring unavailable (%s): file and block "
			  "backstores will not work",
			  strerror(-r));
	} else {
		l->has_uring = true;
		io_uring_register_eventfd(&l->ring, l->ringfd);
		l->ring_watch = (struct tdm_fd_watch){.fd = l->ringfd,
						      .events = EPOLLIN,
						      .cb = ring_cb,
						      .arg = l};
		if (tdm_loop_add_fd(l, &l->ring_watch) < 0)
			goto fail;
	}
	return l;
fail:
	tdm_loop_free(l);
	return NULL;
}

void tdm_loop_free(struct tdm_loop *l)
{
	if (!l)
		return;
	if (l->has_uring)
		io_uring_queue_exit(&l->ring);
	if (l->epfd >= 0)
		close(l->epfd);
	if (l->wakefd >= 0)
		close(l->wakefd);
	if (l->ringfd >= 0)
		close(l->ringfd);
	run_sent(l);
	run_posted(l);
	free(l->heap);
	free(l);
}

int tdm_loop_run_once(struct tdm_loop *l, int timeout_ms)
{
	struct epoll_event evs[MAX_EVENTS];
	int n, i, tmo;
	struct tdm_loop *prev = cur_loop;

	cur_loop = l;
	tmo = run_timers(l);
	if (timeout_ms >= 0 && (tmo < 0 || tmo > timeout_ms))
		tmo = timeout_ms;
	if (l->pending_sqes)
		tdm_uring_flush(l);
	/* completions may already be waiting in the CQ */
	if (l->has_uring && io_uring_cq_ready(&l->ring))
		tmo = 0;
	n = epoll_wait(l->epfd, evs, MAX_EVENTS, tmo);
	if (n < 0 && errno != EINTR) {
		cur_loop = prev;
		return -errno;
	}
	l->batch = evs;
	l->batch_n = n > 0 ? n : 0;
	for (i = 0; i < n; i++) {
		struct tdm_fd_watch *w = evs[i].data.ptr;

		if (w) /* NULL: deleted by an earlier callback of this batch */
			w->cb(w, evs[i].events);
	}
	l->batch = NULL;
	l->batch_n = 0;
	if (l->has_uring)
		reap_cqes(l);
	run_timers(l);
	tdm_uring_flush(l);
	cur_loop = prev;
	return n < 0 ? 0 : n;
}

void tdm_loop_run(struct tdm_loop *l)
{
	l->running = true;
	while (l->running)
		tdm_loop_run_once(l, -1);
}

static void break_cb(void *arg)
{
	struct tdm_loop *l = arg;

	l->running = false;
}

void tdm_loop_break(struct tdm_loop *l)
{
	if (cur_loop == l)
		l->running = false;
	else
		tdm_loop_post(l, break_cb, l);
}

struct tdm_loop *tdm_loop_current(void)
{
	return cur_loop;
}

void tdm_loop_set_current(struct tdm_loop *l)
{
	cur_loop = l;
}

static void *worker_main(void *arg)
{
	tdm_loop_run(arg);
	tdm_buf_cache_drain();
	return NULL;
}

int tdm_loops_start(unsigned n)
{
	unsigned i;
	long cpus;
	int r;

	if (!n) {
		cpus = sysconf(_SC_NPROCESSORS_ONLN);
		n = cpus > 0 ? (unsigned)cpus : 1;
	}
	workers = calloc(n, sizeof(*workers));
	if (!workers)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		workers[i] = tdm_loop_new();
		if (!workers[i])
			return -ENOMEM;
		workers[i]->running = true;
		r = pthread_create(&workers[i]->thread, NULL, worker_main,
				   workers[i]);
		if (r)
			return -r;
		nworkers = i + 1;
	}
	return 0;
}

void tdm_loops_stop(void)
{
	unsigned i;

	for (i = 0; i < nworkers; i++)
		tdm_loop_break(workers[i]);
	for (i = 0; i < nworkers; i++) {
		pthread_join(workers[i]->thread, NULL);
		tdm_loop_free(workers[i]);
	}
	free(workers);
	workers = NULL;
	nworkers = 0;
}

unsigned tdm_loop_count(void)
{
	return nworkers;
}

struct tdm_loop *tdm_loop_get(unsigned idx)
{
	return idx < nworkers ? workers[idx] : NULL;
}

struct tdm_loop *tdm_loop_next(void)
{
	if (!nworkers)
		return cur_loop;
	return workers[rr_next++ % nworkers];
}
