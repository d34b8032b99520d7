/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * sdnotify.h - a daemon under systemd (Type=notify, sd_notify(3)): READY,
 * STATUS, RELOADING, STOPPING, and the watchdog (WatchdogSec=) pinged
 * from the event loops. Without libsystemd (configure --without-systemd)
 * or outside a notify unit (no NOTIFY_SOCKET) every call does nothing.
 */
#ifndef TANDEM_LIB_SDNOTIFY_H
#define TANDEM_LIB_SDNOTIFY_H

#include <stdbool.h>
#include <stdint.h>

struct tdm_loop;

/* READY=1 with STATUS=status; starts the watchdog on main_loop when
 * systemd asked for one (WATCHDOG_USEC for this pid). Main thread. */
void tdm_sd_ready(struct tdm_loop *main_loop, const char *status);
/* STATUS=status alone. */
void tdm_sd_status(const char *status);
/* RELOADING=1 (a reload begins; tdm_sd_ready ends it). */
void tdm_sd_reloading(const char *status);
/* STOPPING=1 (the watchdog keeps running while the daemon drains). */
void tdm_sd_stopping(const char *status);
/* Stop the watchdog timer (main thread, before the loops stop). */
void tdm_sd_watchdog_stop(void);
/* The watchdog's period in microseconds, 0 when off. */
uint64_t tdm_sd_watchdog_usec(void);
/* Built with libsystemd? */
bool tdm_sd_built(void);

#endif
