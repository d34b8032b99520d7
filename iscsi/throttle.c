/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * throttle.c - slowing down CHAP guesses (RFC 7143 12.1.3 leaves it to the
 * target) per source address: IPv4 addresses, IPv6 /64 prefixes (one
 * host has many addresses of its prefix).
 *
 * A CHAP response is checked at once when its source has no recent
 * failure. After failures, the responses of that source are checked one
 * at a time, each a delay after the previous one (however many
 * connections it opens), and a failure is answered only after its delay:
 * 250 ms, doubled with each failure up to 4 s. A source whose responses
 * would have to wait more than 10 s is refused without a check (login
 * status 0x0301, try later). A source is forgotten 10 minutes after its
 * last failure; the table is bounded, the oldest source makes room.
 * A correct answer from a source without failures never waits.
 *
 * The table is shared by the worker loops: one mutex, taken at a CHAP
 * response only, held for a scan of the table.
 */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>

#include "iscsi/iscsi_int.h"

#define MS 1000000ull
#define SOURCES_MAX 1024
#define DELAY_FIRST_NS (250 * MS)
#define DELAY_MAX_NS (4000 * MS)
#define BACKLOG_MAX_NS (10000 * MS)
#define FORGET_NS (600000 * MS)

struct source {
	uint8_t key[9]; /* 4 + IPv4 address, or 6 + IPv6 /64 prefix */
	uint32_t fails;
	uint64_t last_ns; /* last failure */
	uint64_t next_ns; /* the next response may be checked from then */
};

static struct tdm_mutex lock = /* sources, nsources */
	TDM_MUTEX_INITIALIZER(TDM__ISCSI_LOCK_THROTTLE, "iscsi throttle lock");
static struct source sources[SOURCES_MAX];
static unsigned nsources;

static bool key_of(const struct sockaddr_storage *ss, uint8_t key[9])
{
	memset(key, 0, 9);
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)ss;

		key[0] = 4;
		memcpy(key + 1, &s4->sin_addr, 4);
		return true;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			key[0] = 4;
			memcpy(key + 1, s6->sin6_addr.s6_addr + 12, 4);
		} else {
			key[0] = 6;
			memcpy(key + 1, s6->sin6_addr.s6_addr, 8);
		}
		return true;
	}
	return false; /* no address (the fuzzer's connections) */
}

static uint64_t delay_ns(uint32_t fails)
{
	if (fails == 0)
		return 0;
	if (fails > 5)
		return DELAY_MAX_NS;
	return DELAY_FIRST_NS << (fails - 1) < DELAY_MAX_NS
		       ? DELAY_FIRST_NS << (fails - 1)
		       : DELAY_MAX_NS;
}

/* The source's entry; with add, a new one (an old one's place if full). */
static struct source *find(const uint8_t key[9], uint64_t now, bool add)
{
	struct source *s = NULL, *oldest = NULL;

	for (unsigned i = 0; i < nsources; i++) {
		if (!memcmp(sources[i].key, key, 9)) {
			s = &sources[i];
			break;
		}
		if (!oldest || sources[i].last_ns < oldest->last_ns)
			oldest = &sources[i];
	}
	if (s && now - s->last_ns > FORGET_NS) {
		s->fails = 0;
		s->next_ns = 0;
	}
	if (s || !add)
		return s;
	s = nsources < SOURCES_MAX ? &sources[nsources++] : oldest;
	memset(s, 0, sizeof(*s));
	memcpy(s->key, key, 9);
	return s;
}

int64_t tdm__iscsi_auth_admit(const struct sockaddr_storage *peer)
{
	uint64_t now = tdm_now_ns(), slot;
	uint8_t key[9];
	struct source *s;
	int64_t wait = 0;

	if (!key_of(peer, key))
		return 0;
	tdm_mutex_lock(&lock);
	s = find(key, now, false);
	if (s && s->fails) {
		slot = s->next_ns > now ? s->next_ns : now;
		if (slot - now > BACKLOG_MAX_NS) {
			wait = -EBUSY;
		} else {
			/* the turn after this one, should it fail too */
			s->next_ns = slot + delay_ns(s->fails);
			wait = (int64_t)(slot - now);
		}
	}
	tdm_mutex_unlock(&lock);
	return wait;
}

uint64_t tdm__iscsi_auth_failed(const struct sockaddr_storage *peer)
{
	uint64_t now = tdm_now_ns(), d;
	uint8_t key[9];
	struct source *s;

	if (!key_of(peer, key))
		return 0;
	tdm_mutex_lock(&lock);
	s = find(key, now, true);
	if (s->fails < UINT32_MAX)
		s->fails++;
	s->last_ns = now;
	d = delay_ns(s->fails);
	if (s->next_ns < now + d)
		s->next_ns = now + d;
	tdm_mutex_unlock(&lock);
	return d;
}
