/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kernel.h - what tandemd asks of kernel/: the kernel's target fabrics
 * (LIO tcm_loop, ibmvscsis, tcm_qla2xxx) served from tandem's core
 * through TCMU (target_core_user). docs/kernel.md is the manual.
 *
 * All functions run on the main thread. Each TCMU device (one per LU and
 * endpoint) is served on one worker loop, the loop of its endpoint's
 * nexus.
 */
#ifndef TANDEM_KERNEL_H
#define TANDEM_KERNEL_H

#include <stddef.h>

#include "tandem/config.h"

/*
 * Apply a configuration: create, change or remove the LIO objects of
 * every TARGET of TARGET_DRIVER scst_local, ibmvstgt and qla2x00t (TCMU
 * devices, fabric WWNs, tpgts, nexuses, LUNs, ACLs) and serve their
 * rings. The first call also takes over what a previous tandemd left in
 * the kernel (devices kept for a restart, or left by a crash): its rings
 * are recovered, objects no longer configured removed. Nothing is done
 * (and nothing is required of the kernel) when no such target is
 * served (configured, enabled, its TARGET_DRIVER enabled). -errno with a
 * message in err when the kernel lacks what is needed (configfs,
 * target_core_user, the fabric's module).
 */
int tdm_kernel_apply(const struct tdm_conf *c, char *err, size_t errlen);

/*
 * Orderly shutdown: stop taking commands from the rings, let those in
 * the core end, then either remove every object tandem created (keep 0:
 * nothing is left in the kernel) or block the devices and leave them
 * for the next tandemd (keep 1: initiators see their commands wait, not
 * fail), then done(arg) on the calling loop.
 */
void tdm_kernel_shutdown(int keep, void (*done)(void *arg), void *arg);

#endif
