/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kernel_int.h - kernel/'s private structures (not included outside
 * kernel/ and its tests): endpoints, TCMU devices, commands, and what
 * kernel.c (the configuration: main thread) asks of tcmu.c (netlink,
 * UIO, the rings: worker loops).
 *
 * Threads: every field of struct kep and struct kdev marked "main" is
 * read and written on the main thread only; those marked "loop" on the
 * device's loop (its endpoint's nexus' loop) only, after
 * tdm__kdev_start() posted it there and until tdm__kdev_stop() posted
 * its end back. No lock: the hand-over is tdm_loop_post().
 */
#ifndef TANDEM_KERNEL_INT_H
#define TANDEM_KERNEL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/lio.h"
#include "kernel/tcmu_ring.h"
#include "lib/list.h"
#include "lib/loop.h"
#include "tandem/config.h"
#include "tandem/transport.h"

/* One endpoint: a tcm_loop WWN/tpgt, an ibmvscsis adapter, a qla2xxx
 * port; one tandem I_T nexus. */
struct kep {
	struct tdm_list link;	      /* main: kernel.c's list */
	uint8_t driver;		      /* enum tdm_target_driver */
	char target[TDM_NAME_MAX];    /* the TARGET */
	char initiator[TDM_NAME_MAX]; /* what its GROUPs match */
	struct tdm_lio_ep lio;	      /* its configfs objects */
	struct tdm_nexus *nexus;      /* created on main, lives on loop */
	struct tdm_loop *loop;	      /* every device of the endpoint */
	char desc[200];		      /* for tandemctl; never changes */
	struct tdm_list devs;	      /* main: struct kdev */
	bool seen;		      /* main: in the configuration applied */
	bool dead;		      /* main: removed, freed with refs 0 */
	unsigned refs;		      /* main: its struct kdev alive */
};

/* One TCMU device: an LU as one endpoint's LUN. */
struct kdev {
	struct tdm_list link; /* main: ep->devs */
	struct kep *ep;
	struct tdm_lio_dev lio;
	char lu[64];	/* the DEVICE */
	uint64_t lun;	/* the LUN the endpoint shows it as */
	uint32_t index; /* high bits of the command tags (tags of one
			 * nexus differ between its devices) */
	bool seen;	/* main */
	bool lun_added; /* main */
	bool open;	/* main: UIO open and mapped */
	bool remove;	/* main: its configfs device goes once stopped */
	/* the ring: set on main before start, then the loop's */
	int fd;
	void *map;
	size_t map_len;
	struct tdm_tcmu_ring ring;
	struct tdm_fd_watch w; /* loop */
	unsigned inflight;     /* loop: commands not freed yet */
	bool watching;	       /* loop */
	bool stopping;	       /* loop */
	bool broken;	       /* loop: the ring cannot be read any more */
	void (*stopped)(struct kdev *d); /* posted to main_loop */
	struct tdm_loop *main_loop;
};

/* A command from the ring. */
struct kcmd {
	struct tdm_cmd cmd;
	struct kdev *dev;
	uint16_t cmd_id;
	uint32_t nout;		   /* segments of the first direction */
	uint32_t nin;		   /* segments of data-in of a bidi command */
	uint64_t out_len;	   /* bytes of the first nout segments */
	uint64_t in_len;	   /* bytes of data-in (bidi) */
	struct tdm_tcmu_seg seg[]; /* nout + nin */
};

/* ---- tcmu.c ---- */

/* The TCM-USER netlink family: resolve it, join its "config" group and
 * watch it on worker loop 0 (events are logged). -ENOENT when
 * target_core_user is not loaded. */
int tdm__tcmu_nl_start(char *err, size_t errlen);
/* Close it; then done(arg) on the calling loop. */
void tdm__tcmu_nl_stop(void (*done)(void *arg), void *arg);

/* main: open the device's UIO node and map its area */
int tdm__kdev_open(struct kdev *d, const struct tdm_lio *l, char *err,
		   size_t errlen);
/* main: serve the ring on d->ep->loop */
void tdm__kdev_start(struct kdev *d);
/* main: stop taking commands once the ring is empty and every command
 * has ended; then d->stopped(d) on the main loop */
void tdm__kdev_stop(struct kdev *d, void (*stopped)(struct kdev *d));
/* main, after stopped: unmap and close */
void tdm__kdev_close(struct kdev *d);

/* the transport ops by driver (TDM_DRV_LOCAL, _VIO, _FC) */
const struct tdm_transport_ops *tdm__kernel_ops(uint8_t driver);

#endif
