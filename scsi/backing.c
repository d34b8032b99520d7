/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * backing.c - deferred_open: a device whose backing store can be opened
 * only on the head that serves it. DRBD in single-primary mode refuses
 * every open of a Secondary (8.4: EROFS for writing, EMEDIUMTYPE for
 * reading), so the head whose port group is standby cannot hold the
 * device open, and the Primary cannot be demoted while tandemd holds it.
 *
 * Such an LU is created from its backstore's probe (stat(2), sysfs: the
 * geometry, no open) and starts detached. Its backing is opened when this
 * head's target port group for it becomes active (active/optimized or
 * active/non-optimized) and closed when the group stops being active
 * (standby, unavailable, offline, transitioning): tdm__bk_follow() runs
 * after every change of the ALUA model (scsi/alua_scsi.c), and tandemctl
 * -set_tgrp_state / -activate_tgrp open the devices of this head's group
 * before they change anything, so that a failed open (DRBD still
 * Secondary) refuses the promotion with the reason.
 *
 * Every request to the backstore of a deferred LU is counted
 * (bk_users); closing never waits: tdm__bk_detach() stops new requests
 * and whoever sees the count reach zero in DETACHING closes the backing.
 * A request that finds the backing closed ends with TDM_BS_DETACHED
 * (NOT READY, 04h/0Ch: the initiator tries another path). The gate sees
 * the same through tdm__lu_medium_check() before any data moves.
 *
 * Ordering: a user increments bk_users, then reads bk_state; detach
 * writes bk_state, then reads bk_users (both sequentially consistent): a
 * user that saw OPEN is counted before the detacher looks, so the backing
 * is never closed under a request. LUs without deferred_open never touch
 * these counters (no shared cache line on the I/O path).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scsi/scsi_int.h"
#include "lib/log.h"

const char *tdm__bk_state_name(int st)
{
	switch (st) {
	case TDM__BK_OPEN:
		return "open";
	case TDM__BK_DETACHING:
		return "detaching";
	case TDM__BK_DETACHED:
		return "detached";
	default:
		return "?";
	}
}

/* The last user of a DETACHING backing closes it (once: the state moves
 * to DETACHED first). Any thread. */
static void close_if_idle(struct tdm_lu *lu)
{
	int st = TDM__BK_DETACHING;
	void *priv;

	if (atomic_load(&lu->bk_users) != 0 ||
	    !atomic_compare_exchange_strong(&lu->bk_state, &st,
					    TDM__BK_DETACHED))
		return;
	/* nobody else touches lu->bs.priv now (see the top of the file) */
	priv = lu->bs.priv;
	if (priv)
		lu->bs.ops->close(&lu->bs);
	lu->bs.priv = NULL;
	log_notice("%s: backing %s closed (this head does not serve it)",
		   lu->name, lu->conf.filename);
}

bool tdm__bk_enter(struct tdm_lu *lu)
{
	if (!lu->deferred)
		return true;
	atomic_fetch_add(&lu->bk_users, 1);
	if (atomic_load(&lu->bk_state) == TDM__BK_OPEN)
		return true;
	tdm__bk_exit(lu);
	return false;
}

void tdm__bk_exit(struct tdm_lu *lu)
{
	if (!lu->deferred)
		return;
	if (atomic_fetch_sub(&lu->bk_users, 1) == 1 &&
	    atomic_load(&lu->bk_state) == TDM__BK_DETACHING)
		close_if_idle(lu);
}

static void counted_done(struct tdm_bs_io *io, enum tdm_bs_status st)
{
	struct tdm_lu *lu = container_of(io->bs, struct tdm_lu, bs);
	void (*done)(struct tdm_bs_io *, enum tdm_bs_status) = io->core_done;

	io->done = done;
	tdm__bk_exit(lu);
	done(io, st);
}

void tdm__bk_submit(struct tdm_lu *lu, struct tdm_bs_io *io)
{
	io->bs = &lu->bs;
	if (!lu->deferred) {
		lu->bs.ops->submit(&lu->bs, io);
		return;
	}
	if (!tdm__bk_enter(lu)) {
		io->done(io, TDM_BS_DETACHED);
		return;
	}
	io->core_done = io->done;
	io->done = counted_done;
	lu->bs.ops->submit(&lu->bs, io);
}

int tdm__bk_attach(struct tdm_lu *lu, char *err, size_t errlen)
{
	struct tdm_bs nbs;
	int st, r;

	if (!lu->deferred)
		return 0;
	st = atomic_load(&lu->bk_state);
	if (st == TDM__BK_OPEN)
		return 0;
	if (st == TDM__BK_DETACHING) {
		/* requests of the last detach still run: not reopened
		 * under them; the caller tries again */
		snprintf(err, errlen,
			 "%s: %s: still closing (requests in flight), try "
			 "again",
			 lu->name, lu->conf.filename);
		return -EBUSY;
	}
	memset(&nbs, 0, sizeof(nbs));
	nbs.ops = lu->bs.ops;
	r = nbs.ops->open(&nbs, &lu->conf, err, errlen);
	if (r == 0 && nbs.block_size != lu->block_size) {
		snprintf(err, errlen,
			 "%s: %s: block size %u, was %u when the device was "
			 "configured",
			 lu->name, lu->conf.filename, nbs.block_size,
			 lu->block_size);
		nbs.ops->close(&nbs);
		r = -EINVAL;
	}
	if (r < 0) {
		/* tried every second while it should be open: logged when
		 * the reason changes */
		if (strncmp(lu->bk_error, err, sizeof(lu->bk_error) - 1) != 0)
			log_warnx("%s: backing not opened: %s", lu->name, err);
		snprintf(lu->bk_error, sizeof(lu->bk_error), "%s", err);
		return r;
	}
	if ((nbs.size >> lu->block_shift) != lu->nblocks)
		log_warnx("%s: %s: %llu blocks now, %llu when probed; serving "
			  "the size probed until the device is configured "
			  "again",
			  lu->name, lu->conf.filename,
			  (unsigned long long)(nbs.size >> lu->block_shift),
			  (unsigned long long)lu->nblocks);
	/* DETACHED: nobody uses lu->bs until the state says OPEN */
	lu->bs.priv = nbs.priv;
	lu->bs.can_unmap = nbs.can_unmap;
	lu->bk_error[0] = '\0';
	atomic_store(&lu->bk_state, TDM__BK_OPEN);
	log_notice("%s: backing %s opened (this head serves it)", lu->name,
		   lu->conf.filename);
	return 0;
}

void tdm__bk_detach(struct tdm_lu *lu)
{
	int st = TDM__BK_OPEN;

	if (!lu->deferred || !atomic_compare_exchange_strong(&lu->bk_state, &st,
							     TDM__BK_DETACHING))
		return;
	log_info("%s: closing its backing once %d requests end", lu->name,
		 atomic_load(&lu->bk_users));
	close_if_idle(lu);
}

static atomic_int ndeferred; /* deferred LUs alive: 0 skips the walks */

void tdm__bk_count(int delta)
{
	atomic_fetch_add(&ndeferred, delta);
}

void tdm__bk_follow(void)
{
	struct tdm_lu **lus = NULL;
	uint16_t *ports = NULL;
	char(*names)[224] = NULL;
	size_t n = 0, np = 0;
	char err[256];

	if (!atomic_load(&ndeferred))
		return;
	if (tdm__registry_lus(&lus, &n) < 0)
		return;
	if (tdm__registry_ports(&ports, &names, &np) < 0)
		np = 0;
	for (size_t i = 0; lus && i < n; i++) {
		struct tdm_lu *lu = lus[i];

		if (lu->deferred) {
			if (tdm__alua_active_here(lu, ports, np))
				(void)tdm__bk_attach(lu, err, sizeof(err));
			else
				tdm__bk_detach(lu);
		}
		tdm__lu_put(lu);
	}
	free(names);
	free(ports);
	free(lus);
}

void tdm_core_backing_retry(void)
{
	tdm__bk_follow();
}

int tdm__bk_prepare_active(const char *dg, const char *tg, char *err,
			   size_t errlen)
{
	struct tdm_lu **lus = NULL;
	uint16_t *ports = NULL;
	char(*names)[224] = NULL;
	size_t n = 0, np = 0, i;
	int r = 0;

	if (!atomic_load(&ndeferred))
		return 0;
	if (tdm__registry_lus(&lus, &n) < 0) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (tdm__registry_ports(&ports, &names, &np) < 0)
		np = 0;
	for (i = 0; lus && i < n; i++) {
		struct tdm_lu *lu = lus[i];

		if (!r && lu->deferred &&
		    tdm__alua_tgrp_serves(dg, tg, lu, ports, np))
			r = tdm__bk_attach(lu, err, errlen);
		tdm__lu_put(lu);
	}
	free(names);
	free(ports);
	free(lus);
	return r;
}
