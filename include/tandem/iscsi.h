/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * iscsi.h - what tandemd asks of the iSCSI target transport (iscsi/).
 *
 * All three functions run on the main thread, which drives its own
 * tdm_loop (tdm_loop_current() returns it). Listening sockets live on that
 * loop; every accepted connection is handed to a worker loop
 * (tdm_loop_next()) and stays there for its whole life.
 */
#ifndef TANDEM_ISCSI_H
#define TANDEM_ISCSI_H

#include <stddef.h>

#include "tandem/config.h"
#include "tandem/transport.h"

/*
 * Apply a configuration: open/close the listening portals (TARGET_DRIVER
 * iscsi `portal` lines; none => 0.0.0.0:3260 and [::]:3260 with
 * IPV6_V6ONLY), then close the sessions of targets that disappeared or were
 * disabled. When a portal cannot be opened (address in use, bad address)
 * nothing changes and -errno is returned with a message in err.
 * With c->iscsi_enabled false every portal is closed.
 */
int tdm_iscsi_apply(const struct tdm_conf *c, char *err, size_t errlen);

/* Close every listening socket (existing connections carry on). */
void tdm_iscsi_stop_listening(void);

/*
 * Orderly shutdown (SIGTERM): stop accepting, stop reading new requests,
 * let the commands already handed to the core finish, close every
 * connection and session, then call done(arg) on the main loop.
 */
void tdm_iscsi_shutdown(void (*done)(void *arg), void *arg);

/* The transport's callbacks (for tests and for the core's session list). */
extern const struct tdm_transport_ops tdm_iscsi_ops;

#endif
