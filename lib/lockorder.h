/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * lockorder.h - mutexes and rwlocks that know their place in the lock
 * order, and a check of it in debug builds.
 *
 * Every lock of tandemd has a rank; a thread takes a lock only while
 * every lock it holds has a lower rank. The ranks form one total order,
 * outermost first, written down in scsi/README.md ("Locks") with what
 * each lock protects. Two locks of the same rank (two LUs' lu->lock,
 * two nexuses' ua_lock) are never held at once, and no lock is taken
 * twice (a read lock neither).
 *
 * Ranks grow downwards through the floors: a floor may call down with
 * its lock held, a callback up is made with no lock held. The daemons'
 * locks rank below TDM_LOCK_RANK_TRANSPORT, the transports' below
 * TDM_LOCK_RANK_SCSI, the core's below TDM_LOCK_RANK_LIB, lib/'s last
 * (each floor numbers its own in its header).
 *
 * Built with TDM_LOCK_DEBUG (configure --enable-lock-debug, implied by
 * --enable-sanitizers), each thread records the locks it holds (a
 * _Thread_local array) and taking one out of order, or releasing one it
 * does not hold, writes both locks' names, ranks and file:line to stderr
 * and aborts, before the deadlock could happen. Without it a struct
 * tdm_mutex is a pthread_mutex_t and each call below is the bare pthread
 * call: no cost.
 */
#ifndef TANDEM_LOCKORDER_H
#define TANDEM_LOCKORDER_H

#include <pthread.h>
#include <stdbool.h>

#define TDM_LOCK_RANK_DAEMON 100
#define TDM_LOCK_RANK_TRANSPORT 200
#define TDM_LOCK_RANK_SCSI 300
#define TDM_LOCK_RANK_LIB 900

/* lib/'s locks (lib/README.md): taken inside any other */
enum {
	TDM_LOCK_LOOP_QUEUE = TDM_LOCK_RANK_LIB, /* lib/loop.c: l->qlock */
	TDM_LOCK_LOG = TDM_LOCK_RANK_LIB + 10,	 /* lib/log.c: log_lock */
};

#ifdef TDM_LOCK_DEBUG

struct tdm_mutex {
	pthread_mutex_t m;
	const char *name;
	unsigned rank;
};

struct tdm_rwlock {
	pthread_rwlock_t l;
	const char *name;
	unsigned rank;
};

#define TDM_MUTEX_INITIALIZER(rank_, name_)                                    \
	{                                                                      \
		.m = PTHREAD_MUTEX_INITIALIZER, .name = (name_),               \
		.rank = (rank_)                                                \
	}
#define TDM_RWLOCK_INITIALIZER(rank_, name_)                                   \
	{                                                                      \
		.l = PTHREAD_RWLOCK_INITIALIZER, .name = (name_),              \
		.rank = (rank_)                                                \
	}

/* Before taking lock (abort if out of order) and before releasing it
 * (once released, its owner may free it). */
void tdm__lock_take(const void *lock, const char *name, unsigned rank,
		    const char *file, int line);
void tdm__lock_drop(const void *lock, const char *name, const char *file,
		    int line);
void tdm__lock_assert_none(const char *what, const char *file, int line);

static inline void tdm_mutex_init(struct tdm_mutex *x, unsigned rank,
				  const char *name)
{
	pthread_mutex_init(&x->m, NULL);
	x->name = name;
	x->rank = rank;
}

/* x: a struct tdm_mutex or tdm_rwlock; field: its pthread lock */
#define tdm__lock_call(x, fn, field)                                           \
	do {                                                                   \
		__typeof__(x) x_ = (x);                                        \
		tdm__lock_take(x_, x_->name, x_->rank, __FILE__, __LINE__);    \
		fn(&x_->field);                                                \
	} while (0)
#define tdm__unlock_call(x, fn, field)                                         \
	do {                                                                   \
		__typeof__(x) x_ = (x);                                        \
		tdm__lock_drop(x_, x_->name, __FILE__, __LINE__);              \
		fn(&x_->field);                                                \
	} while (0)
#define tdm_mutex_lock(x) tdm__lock_call(x, pthread_mutex_lock, m)
#define tdm_mutex_unlock(x) tdm__unlock_call(x, pthread_mutex_unlock, m)
#define tdm_rwlock_rdlock(x) tdm__lock_call(x, pthread_rwlock_rdlock, l)
#define tdm_rwlock_wrlock(x) tdm__lock_call(x, pthread_rwlock_wrlock, l)
#define tdm_rwlock_unlock(x) tdm__unlock_call(x, pthread_rwlock_unlock, l)
/* Abort if the calling thread holds any lock (before a callback into a
 * transport or backstore, which may come back into the core). */
#define tdm_lock_assert_none(what)                                             \
	tdm__lock_assert_none((what), __FILE__, __LINE__)

#else /* !TDM_LOCK_DEBUG: the bare pthread calls */

struct tdm_mutex {
	pthread_mutex_t m;
};

struct tdm_rwlock {
	pthread_rwlock_t l;
};

#define TDM_MUTEX_INITIALIZER(rank_, name_)                                    \
	{                                                                      \
		.m = PTHREAD_MUTEX_INITIALIZER                                 \
	}
#define TDM_RWLOCK_INITIALIZER(rank_, name_)                                   \
	{                                                                      \
		.l = PTHREAD_RWLOCK_INITIALIZER                                \
	}
#define tdm_mutex_init(x, rank_, name_) pthread_mutex_init(&(x)->m, NULL)
#define tdm_mutex_lock(x) pthread_mutex_lock(&(x)->m)
#define tdm_mutex_unlock(x) pthread_mutex_unlock(&(x)->m)
#define tdm_rwlock_rdlock(x) pthread_rwlock_rdlock(&(x)->l)
#define tdm_rwlock_wrlock(x) pthread_rwlock_wrlock(&(x)->l)
#define tdm_rwlock_unlock(x) pthread_rwlock_unlock(&(x)->l)
#define tdm_lock_assert_none(what) ((void)0)

#endif

#define tdm_mutex_destroy(x) pthread_mutex_destroy(&(x)->m)

/* Is the check compiled in (TDM_LOCK_DEBUG)? */
bool tdm_lock_debug(void);

#endif
