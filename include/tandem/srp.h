/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * srp.h - what tandemd asks of the SRP target transport (srp/): SRP over
 * RDMA/CM on rdma-core (librdmacm, libibverbs).
 *
 * All three functions run on the main thread, which drives its own
 * tdm_loop. The listeners' RDMA/CM events come to that loop; a login is
 * checked there and handed to a worker loop (the loop of its I_T nexus
 * when one exists), where the channel lives for its whole life.
 */
#ifndef TANDEM_SRP_H
#define TANDEM_SRP_H

#include <stddef.h>

#include "tandem/config.h"
#include "tandem/transport.h"

/*
 * Apply a configuration: with TARGET_DRIVER ib_srpt enabled, listen on
 * its portals (none: 0.0.0.0:TDM_SRP_DEF_PORT); then close the nexuses
 * of targets that disappeared, were disabled or no longer allow their
 * initiator. When RDMA/CM cannot be opened (no RDMA device, rdma_ucm not
 * loaded) or a portal cannot listen, -errno with a message in err.
 */
int tdm_srp_apply(const struct tdm_conf *c, char *err, size_t errlen);
/* Close every listener (existing channels carry on). */
void tdm_srp_stop_listening(void);
/* Orderly shutdown: stop listening, close every channel (commands in
 * the core end aborted), then done(arg) on the calling loop. */
void tdm_srp_shutdown(void (*done)(void *arg), void *arg);

extern const struct tdm_transport_ops tdm_srp_ops;

#endif
