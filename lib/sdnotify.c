/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * sdnotify.c - sd_notify(3) for the daemons (lib/sdnotify.h).
 *
 * The watchdog proves every event loop turns, not only the main one: a
 * timer on the main loop, every quarter of WatchdogSec, sends WATCHDOG=1
 * only if each loop ran the no-op posted to it at the previous tick, then
 * posts the next round. A loop stuck in a handler (or the main loop
 * itself) stops the pings, and systemd kills the daemon after WatchdogSec
 * (SIGABRT, WatchdogSignal=: lib/log.c writes the blackbox on it).
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/loop.h"
#include "lib/sdnotify.h"

#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

static struct tdm_loop *wd_loop;
static struct tdm_timer wd_timer;
static uint64_t wd_usec;

bool tdm_sd_built(void)
{
#ifdef HAVE_SYSTEMD
	return true;
#else
	return false;
#endif
}

static void notify(const char *state, const char *status)
{
#ifdef HAVE_SYSTEMD
	char buf[512];

	if (status)
		snprintf(buf, sizeof(buf), "%s%sSTATUS=%s", state,
			 *state ? "\n" : "", status);
	else
		snprintf(buf, sizeof(buf), "%s", state);
	/* < 0: the socket is gone (systemd restarted?); nothing to do */
	(void)sd_notify(0, buf);
#else
	(void)state;
	(void)status;
#endif
}

#ifdef HAVE_SYSTEMD
static atomic_uint wd_pending; /* loops yet to answer this round */
static bool wd_late;	       /* a round missed: logged once */

static void wd_answer(void *arg)
{
	(void)arg;
	atomic_fetch_sub(&wd_pending, 1);
}

static void wd_tick(struct tdm_timer *t)
{
	unsigned n = tdm_loop_count(), left = atomic_load(&wd_pending);

	if (left) {
		if (!wd_late)
			log_warnx("watchdog: %u of %u event loops did not "
				  "answer in %llu ms; no WATCHDOG=1",
				  left, n,
				  (unsigned long long)(wd_usec / 4000));
		wd_late = true;
	} else {
		if (wd_late)
			log_notice("watchdog: every event loop answers again");
		wd_late = false;
		notify("WATCHDOG=1", NULL);
		atomic_store(&wd_pending, n);
		for (unsigned i = 0; i < n; i++)
			tdm_loop_post(tdm_loop_get(i), wd_answer, NULL);
	}
	tdm_timer_start(wd_loop, t, wd_usec / 4000 ? wd_usec / 4000 : 1);
}

#endif

void tdm_sd_ready(struct tdm_loop *main_loop, const char *status)
{
	char mainpid[64];

	snprintf(mainpid, sizeof(mainpid), "READY=1\nMAINPID=%ld",
		 (long)getpid());
	notify(mainpid, status);
#ifdef HAVE_SYSTEMD
	uint64_t usec = 0;

	if (wd_loop || sd_watchdog_enabled(0, &usec) <= 0 || !usec)
		return;
	wd_usec = usec;
	wd_loop = main_loop;
	atomic_store(&wd_pending, 0);
	wd_timer.cb = wd_tick;
	log_notice("watchdog: WatchdogSec %llu ms, every event loop checked "
		   "every %llu ms",
		   (unsigned long long)(usec / 1000),
		   (unsigned long long)(usec / 4000));
	wd_tick(&wd_timer);
#else
	(void)main_loop;
#endif
}

void tdm_sd_status(const char *status)
{
	notify("", status);
}

void tdm_sd_reloading(const char *status)
{
	notify("RELOADING=1", status);
}

void tdm_sd_stopping(const char *status)
{
	notify("STOPPING=1", status);
}

void tdm_sd_watchdog_stop(void)
{
	if (!wd_loop)
		return;
	tdm_timer_stop(wd_loop, &wd_timer);
	wd_loop = NULL;
}

uint64_t tdm_sd_watchdog_usec(void)
{
	return wd_loop ? wd_usec : 0;
}
