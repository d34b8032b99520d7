/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kernel.c - what tandemd asks of kernel/ (include/tandem/kernel.h):
 * turn the configuration's kernel-fabric TARGETs into LIO objects
 * (kernel/lio.h) and TCMU devices served by tcmu.c, take over what a
 * previous tandemd left in the kernel, and remove or keep them all at
 * the end.
 *
 * Everything here runs on the main thread: the endpoint and device
 * lists are its own. One endpoint per TARGET (one tandem I_T nexus, on
 * the loop tdm_loop_next() gives), one TCMU device per (LU, endpoint).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernel/kernel_int.h"
#include "lib/log.h"
#include "tandem/admin.h"
#include "tandem/kernel.h"

struct scan_lun {
	struct tdm_lio_ep ep;
	uint64_t lun;
	char dev[64];
};

static struct {
	bool started;
	struct tdm_lio lio;
	struct tdm_list eps; /* struct kep */
	uint32_t next_index;
	/* what the first scan found of a previous tandemd's */
	char (*odevs)[64];
	size_t nodevs;
	struct tdm_lio_ep *oeps;
	size_t noeps;
	struct scan_lun *oluns;
	size_t noluns;
	/* shutdown */
	bool stopping;
	int keep;
	void (*done)(void *arg);
	void *done_arg;
	unsigned pending;
} K = {.eps = TDM_LIST_INIT(K.eps)};

/* A TARGET kernel/ serves: of a kernel fabric, enabled, its
 * TARGET_DRIVER enabled */
static bool served(const struct tdm_conf *c, const struct tdm_conf_target *t)
{
	return TDM_DRV_IS_KERNEL(t->driver) && t->enabled &&
	       tdm_conf_driver_enabled(c, t->driver);
}

static enum tdm_lio_fabric fabric_of(uint8_t d)
{
	return d == TDM_DRV_VIO	 ? TDM_LIO_VIO
	       : d == TDM_DRV_FC ? TDM_LIO_FC
				 : TDM_LIO_LOOP;
}

static const char *module_of(uint8_t d)
{
	return d == TDM_DRV_VIO	 ? "ibmvscsis"
	       : d == TDM_DRV_FC ? "tcm_qla2xxx"
				 : "tcm_loop";
}

/* ---- the first scan: a previous tandemd's objects ---- */

static int scan_dev(void *arg, const char *name, const char *config)
{
	void *p;

	(void)arg;
	(void)config;
	p = realloc(K.odevs, (K.nodevs + 1) * sizeof(*K.odevs));
	if (!p)
		return -ENOMEM;
	K.odevs = p;
	snprintf(K.odevs[K.nodevs++], sizeof(K.odevs[0]), "%s", name);
	return 0;
}

static int scan_ep(void *arg, const struct tdm_lio_ep *ep)
{
	void *p;

	(void)arg;
	p = realloc(K.oeps, (K.noeps + 1) * sizeof(*K.oeps));
	if (!p)
		return -ENOMEM;
	K.oeps = p;
	K.oeps[K.noeps++] = *ep;
	return 0;
}

static int scan_lun(void *arg, const struct tdm_lio_ep *ep, uint64_t lun,
		    const char *dev_name)
{
	void *p;

	(void)arg;
	p = realloc(K.oluns, (K.noluns + 1) * sizeof(*K.oluns));
	if (!p)
		return -ENOMEM;
	K.oluns = p;
	K.oluns[K.noluns].ep = *ep;
	K.oluns[K.noluns].lun = lun;
	snprintf(K.oluns[K.noluns].dev, sizeof(K.oluns[0].dev), "%s", dev_name);
	K.noluns++;
	return 0;
}

static void scan_free(void)
{
	free(K.odevs);
	free(K.oeps);
	free(K.oluns);
	K.odevs = NULL;
	K.oeps = NULL;
	K.oluns = NULL;
	K.nodevs = K.noeps = K.noluns = 0;
}

static bool same_ep(const struct tdm_lio_ep *a, const struct tdm_lio_ep *b)
{
	return a->fabric == b->fabric && !strcmp(a->wwn, b->wwn) &&
	       a->tpgt == b->tpgt;
}

/* ---- endpoints and devices ---- */

static struct kep *ep_find(const struct tdm_lio_ep *lio)
{
	struct tdm_list *pos;

	tdm_list_for_each (pos, &K.eps) {
		struct kep *ep = tdm_list_entry(pos, struct kep, link);

		if (same_ep(&ep->lio, lio))
			return ep;
	}
	return NULL;
}

static struct kdev *dev_find(struct kep *ep, const char *name)
{
	struct tdm_list *pos;

	tdm_list_for_each (pos, &ep->devs) {
		struct kdev *d = tdm_list_entry(pos, struct kdev, link);

		if (!strcmp(d->lio.name, name))
			return d;
	}
	return NULL;
}

static void ep_lio(const struct tdm_conf_target *t, const char *initiator,
		   struct tdm_lio_ep *e)
{
	memset(e, 0, sizeof(*e));
	e->fabric = fabric_of(t->driver);
	e->tpgt = 1;
	switch (t->driver) {
	case TDM_DRV_LOCAL:
		tdm_lio_loop_wwn(e->wwn, sizeof(e->wwn), t->name);
		tdm_lio_loop_nexus(e->nexus, sizeof(e->nexus), initiator);
		break;
	case TDM_DRV_VIO:
		/* the unit address: 8 hex digits at most (config.h); the
		 * driver makes the nexus at the client's login */
		if (snprintf(e->wwn, sizeof(e->wwn), "%s", t->name) >=
		    (int)sizeof(e->wwn))
			e->wwn[0] = 0;
		break;
	default:
		/* the WWPN, TDM_FC_NAME_LEN characters; initiators no GROUP
		 * names see the TARGET's own LUNs (demo mode), those a
		 * GROUP names their ACL's */
		if (snprintf(e->wwn, sizeof(e->wwn), "%s", t->name) >=
		    (int)sizeof(e->wwn))
			e->wwn[0] = 0;
		e->demo_mode = t->nluns > 0;
		break;
	}
}

/* The initiator name of the endpoint's nexus: scst_local's session_name
 * (tdm_conf_session_name: default TDM_LOCAL_DEF_SESSION); the others'
 * the TARGET's own name. */
static void ep_initiator(const struct tdm_conf_target *t, char *out, size_t len)
{
	if (t->driver == TDM_DRV_LOCAL)
		snprintf(out, len, "%s", tdm_conf_session_name(t));
	else
		snprintf(out, len, "%s", t->name);
}

/* the endpoint's tandem I_T nexus for initiator, on its loop */
static struct tdm_nexus *ep_nexus(struct kep *ep,
				  const struct tdm_conf_target *t,
				  const char *initiator, char *err,
				  size_t errlen)
{
	struct tdm_nexus_id id;
	struct tdm_nexus *nx;
	int r = 0;

	memset(&id, 0, sizeof(id));
	snprintf(id.initiator, sizeof(id.initiator), "%s", initiator);
	snprintf(id.target, sizeof(id.target), "%s", t->name);
	nx = tdm_nexus_create(tdm__kernel_ops(t->driver), &id, ep->loop, ep,
			      &r);
	if (!nx)
		snprintf(err, errlen, "%s: no I_T nexus for %s: %s", t->name,
			 initiator, strerror(r > 0 ? r : -r));
	return nx;
}

static struct kep *ep_new(const struct tdm_conf_target *t,
			  const struct tdm_lio_ep *lio, const char *initiator,
			  char *err, size_t errlen)
{
	struct kep *ep;
	char e2[256];
	int r;

	r = tdm_lio_ep_create(&K.lio, lio, err, errlen);
	if (r < 0)
		return NULL;
	ep = calloc(1, sizeof(*ep));
	if (!ep) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	ep->driver = t->driver;
	snprintf(ep->target, sizeof(ep->target), "%s", t->name);
	snprintf(ep->initiator, sizeof(ep->initiator), "%s", initiator);
	ep->lio = *lio;
	tdm_list_init(&ep->devs);
	ep->loop = tdm_loop_next();
	snprintf(ep->desc, sizeof(ep->desc), "%s %s tpgt %u (LIO, TCMU)",
		 module_of(t->driver), lio->wwn, lio->tpgt);
	ep->nexus = ep_nexus(ep, t, initiator, err, errlen);
	if (!ep->nexus)
		goto fail;
	tdm_list_add_tail(&K.eps, &ep->link);
	log_notice("kernel: %s serves TARGET %s as initiator %s", ep->desc,
		   t->name, initiator);
	return ep;
fail:
	/* nothing half made is left behind */
	tdm_lio_ep_remove(&K.lio, lio, e2, sizeof(e2));
	free(ep);
	return NULL;
}

static const struct tdm_conf_device *conf_dev(const struct tdm_conf *c,
					      const char *name)
{
	for (size_t i = 0; i < c->ndevices; i++)
		if (!strcmp(c->devices[i].name, name))
			return &c->devices[i];
	return NULL;
}

static const struct tdm_dev_stats *dev_stats(const struct tdm_dev_stats *s,
					     size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(s[i].name, name))
			return &s[i];
	return NULL;
}

static bool found_before(const char *name)
{
	for (size_t i = 0; i < K.nodevs; i++)
		if (!strcmp(K.odevs[i], name))
			return true;
	return false;
}

/* A device that a previous tandemd left: its ring may hold commands
 * nobody will answer. Block it, fail what is in the ring back to the
 * initiator (which retries), serve it from an empty ring. */
static int dev_recover(struct kdev *d, char *err, size_t errlen)
{
	int r;

	r = tdm_lio_dev_block(&K.lio, d->lio.name, true, err, errlen);
	if (r == 0)
		r = tdm_lio_dev_reset_ring(&K.lio, d->lio.name, err, errlen);
	if (r == 0 &&
	    tdm__tcmu_ring_init(&d->ring, d->map, d->map_len) != TDM_TCMU_OK) {
		snprintf(err, errlen,
			 "%s: the ring after reset_ring is "
			 "unusable",
			 d->lio.name);
		r = -EPROTO;
	}
	if (r == 0)
		r = tdm_lio_dev_block(&K.lio, d->lio.name, false, err, errlen);
	if (r == 0)
		log_notice("kernel: %s recovered (ring reset, unblocked)",
			   d->lio.name);
	return r;
}

static struct kdev *dev_new(struct kep *ep, const struct tdm_conf *c,
			    const struct tdm_conf_lun *l,
			    const struct tdm_dev_stats *st, size_t nst,
			    char *err, size_t errlen)
{
	const struct tdm_conf_device *cd = conf_dev(c, l->device);
	const struct tdm_dev_stats *s = dev_stats(st, nst, l->device);
	bool existed = false;
	struct kdev *d;
	int r;

	if (!cd || !s) {
		snprintf(err, errlen, "%s: LUN %llu: no device %s", ep->target,
			 (unsigned long long)l->lun, l->device);
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	d->fd = -1;
	d->ep = ep;
	d->lun = l->lun;
	d->index = ++K.next_index;
	snprintf(d->lu, sizeof(d->lu), "%s", l->device);
	tdm_lio_dev_name(d->lio.name, sizeof(d->lio.name), l->device,
			 ep->target);
	snprintf(d->lio.config, sizeof(d->lio.config), "%s", d->lio.name);
	d->lio.size = s->size;
	d->lio.block_size = s->block_size ? s->block_size : 512;
	d->lio.max_sectors = (1u << 20) / d->lio.block_size;
	d->lio.write_cache = !cd->write_through && !cd->nv_cache;
	snprintf(d->lio.serial, sizeof(d->lio.serial), "%s", cd->usn);
	r = tdm_lio_dev_create(&K.lio, &d->lio, &existed, err, errlen);
	if (r < 0)
		goto fail;
	r = tdm__kdev_open(d, &K.lio, err, errlen);
	if (r < 0)
		goto fail_rm;
	if ((existed || found_before(d->lio.name)) &&
	    dev_recover(d, err, errlen) < 0)
		goto fail_close;
	tdm_list_add_tail(&ep->devs, &d->link);
	ep->refs++;
	tdm__kdev_start(d);
	r = tdm_lio_lun_add(&K.lio, &ep->lio, d->lun, d->lio.name, err, errlen);
	if (r < 0) {
		/* the device stays and is served; the next apply retries
		 * (-EEXIST: the LUN links to another device) */
		log_err("kernel: %s", err);
		return d;
	}
	d->lun_added = true;
	log_notice("kernel: %s LUN %llu = %s (TCMU %s)", ep->desc,
		   (unsigned long long)d->lun, d->lu, d->lio.name);
	return d;
fail_close:
	tdm__kdev_close(d);
fail_rm:
	if (!existed) {
		char e2[256];

		tdm_lio_dev_remove(&K.lio, d->lio.name, e2, sizeof(e2));
	}
fail:
	free(d);
	return NULL;
}

/* ---- removal (asynchronous: a device's loop ends its commands) ---- */

static void nexus_destroy_on_loop(void *arg)
{
	tdm_nexus_destroy(arg);
}

/* on the endpoint's loop, once every device of a removed endpoint has
 * stopped: no command of its nexus is left in the core */
static void ep_end_on_loop(void *arg)
{
	struct kep *ep = arg;

	if (ep->nexus)
		tdm_nexus_destroy(ep->nexus);
	free(ep);
}

static void ep_put(struct kep *ep)
{
	/* the devices' loops read ep->nexus until they stopped: the nexus
	 * ends after the last one (ep->desc is read by the nexus'
	 * describe, so the endpoint goes with it) */
	if (--ep->refs == 0 && ep->dead)
		tdm_loop_post(ep->loop, ep_end_on_loop, ep);
}

static void dev_gone(struct kdev *d)
{
	struct kep *ep = d->ep;
	char err[512];

	tdm__kdev_close(d);
	if (d->remove) {
		if (tdm_lio_dev_remove(&K.lio, d->lio.name, err, sizeof(err)) <
		    0)
			log_err("kernel: %s", err);
		else
			log_info("kernel: %s removed", d->lio.name);
	}
	free(d);
	ep_put(ep);
}

static void shutdown_step(void);

/* every device stopping (an apply's or the shutdown's) is counted in
 * K.pending: the shutdown ends after the last */
static void dev_stopped(struct kdev *d)
{
	dev_gone(d);
	if (--K.pending == 0 && K.stopping)
		shutdown_step();
}

/* take d out of its endpoint's list and stop it; its configfs device is
 * removed afterwards unless kept for the next tandemd */
static void dev_stop(struct kdev *d, bool remove)
{
	tdm_list_del(&d->link);
	d->remove = remove;
	K.pending++;
	tdm__kdev_stop(d, dev_stopped);
}

/* d's LUN: LIO's removal waits for the commands LIO has in flight,
 * which the device's loop still serves. Kept (and -errno) when the
 * kernel refuses: its commands still come, as that LUN. */
static int dev_lun_remove(struct kdev *d)
{
	char err[512];
	int r;

	if (!d->lun_added)
		return 0;
	r = tdm_lio_lun_remove(&K.lio, &d->ep->lio, d->lun, err, sizeof(err));
	if (r < 0) {
		log_err("kernel: %s", err);
		return r;
	}
	d->lun_added = false;
	return 0;
}

static void ep_free(struct kep *ep, bool remove)
{
	char err[512];

	tdm_list_del(&ep->link);
	if (remove && tdm_lio_ep_remove(&K.lio, &ep->lio, err, sizeof(err)) < 0)
		log_err("kernel: %s", err);
	/* its devices still stopping hold it */
	ep->dead = true;
	ep->refs++;
	ep_put(ep);
}

/* ---- apply ---- */

static bool conf_has_kernel(const struct tdm_conf *c)
{
	for (size_t i = 0; i < c->ntargets; i++)
		if (served(c, &c->targets[i]))
			return true;
	return false;
}

static int fabrics_check(const struct tdm_conf *c, char *err, size_t errlen)
{
	for (size_t i = 0; i < c->ntargets; i++) {
		const struct tdm_conf_target *t = &c->targets[i];

		if (!served(c, t) ||
		    tdm_lio_fabric_present(&K.lio, fabric_of(t->driver)))
			continue;
		snprintf(err, errlen,
			 "%s:%d: TARGET %s: LIO's %s fabric is not loaded "
			 "(%s/%s missing: modprobe %s)",
			 c->source, t->line, t->name, module_of(t->driver),
			 K.lio.root, tdm_lio_fabric_dir(fabric_of(t->driver)),
			 module_of(t->driver));
		return -ENOENT;
	}
	return 0;
}

static int start(const struct tdm_conf *c, char *err, size_t errlen)
{
	static const struct tdm_lio_scan_ops sops = {
		.dev = scan_dev, .ep = scan_ep, .lun = scan_lun};
	int r;

	tdm_lio_init(&K.lio);
	if (access(K.lio.root, F_OK) < 0) {
		snprintf(err, errlen,
			 "kernel fabrics: LIO's configfs %s is not there "
			 "(modprobe target_core_mod; mount -t configfs "
			 "none /sys/kernel/config)",
			 K.lio.root);
		return -ENOENT;
	}
	r = fabrics_check(c, err, errlen);
	if (r < 0)
		return r;
	/* the scan before netlink: a failed start leaves nothing behind
	 * (the netlink socket is watched on loop 0 once started, and
	 * stopping it is asynchronous), and the next apply scans anew */
	r = tdm_lio_scan(&K.lio, &sops, NULL);
	if (r < 0)
		snprintf(err, errlen, "kernel fabrics: scanning %s: %s",
			 K.lio.root, strerror(-r));
	if (r == 0)
		r = tdm__tcmu_nl_start(err, errlen);
	if (r < 0) {
		scan_free();
		return r;
	}
	if (K.nodevs || K.noeps)
		log_notice("kernel: a previous tandemd left %zu TCMU devices, "
			   "%zu endpoints, %zu LUNs: taking them over",
			   K.nodevs, K.noeps, K.noluns);
	K.started = true;
	return 0;
}

/* the previous tandemd's objects this configuration does not claim */
static void orphans_remove(void)
{
	char err[512];

	for (size_t i = 0; i < K.noluns; i++) {
		struct kep *ep = ep_find(&K.oluns[i].ep);
		struct kdev *d = ep ? dev_find(ep, K.oluns[i].dev) : NULL;

		/* claimed: the LUN this configuration gives the device */
		if (d && d->lun_added && d->lun == K.oluns[i].lun)
			continue;
		if (tdm_lio_lun_remove(&K.lio, &K.oluns[i].ep, K.oluns[i].lun,
				       err, sizeof(err)) < 0)
			log_err("kernel: %s", err);
	}
	for (size_t i = 0; i < K.noeps; i++)
		if (!ep_find(&K.oeps[i]) &&
		    tdm_lio_ep_remove(&K.lio, &K.oeps[i], err, sizeof(err)) < 0)
			log_err("kernel: %s", err);
	for (size_t i = 0; i < K.nodevs; i++) {
		bool claimed = false;
		struct tdm_list *pos;

		tdm_list_for_each (pos, &K.eps) {
			struct kep *ep = tdm_list_entry(pos, struct kep, link);

			if (dev_find(ep, K.odevs[i]))
				claimed = true;
		}
		if (!claimed && tdm_lio_dev_remove(&K.lio, K.odevs[i], err,
						   sizeof(err)) < 0)
			log_err("kernel: %s", err);
	}
	scan_free();
}

/* qla2xxx: does a GROUP of t name this initiator (exactly), and map
 * LUN mapped (UINT64_MAX: any) to one of the TARGET's devices? */
static bool fc_wanted(const struct tdm_conf_target *t, const char *ini,
		      uint64_t mapped)
{
	for (size_t g = 0; g < t->ngroups; g++) {
		const struct tdm_conf_group *gr = &t->groups[g];
		bool named = false;

		for (size_t i = 0; i < gr->ninitiators && !named; i++)
			named = !strcmp(gr->initiators[i], ini);
		if (!named)
			continue;
		if (mapped == UINT64_MAX)
			return true;
		for (size_t k = 0; k < gr->nluns; k++) {
			if (gr->luns[k].lun != mapped)
				continue;
			for (size_t j = 0; j < t->nluns; j++)
				if (!strcmp(t->luns[j].device,
					    gr->luns[k].device))
					return true;
		}
	}
	return false;
}

struct acl_seen {
	char ini[TDM_NAME_MAX];
	uint64_t mapped;
};

struct acl_list {
	struct acl_seen *v;
	size_t n;
};

static int acl_collect(void *arg, const char *ini, uint64_t mapped)
{
	struct acl_list *a = arg;
	void *p = realloc(a->v, (a->n + 1) * sizeof(*a->v));

	if (!p)
		return -ENOMEM;
	a->v = p;
	snprintf(a->v[a->n].ini, sizeof(a->v[0].ini), "%s", ini);
	a->v[a->n++].mapped = mapped;
	return 0;
}

/* qla2xxx: the ACLs and mapped LUNs no GROUP asks for any more (or a
 * previous tandemd made), removed: an ACL whose initiator no GROUP
 * names, a mapped LUN its GROUP no longer maps */
static void fc_acls_prune(struct kep *ep, const struct tdm_conf_target *t)
{
	struct acl_list a = {0};
	char err[512];
	int r;

	r = tdm_lio_acl_scan(&K.lio, &ep->lio, acl_collect, &a);
	if (r < 0)
		log_warnx("kernel: %s: the ACLs: %s", t->name, strerror(-r));
	for (size_t i = 0; r == 0 && i < a.n; i++) {
		const struct acl_seen *s = &a.v[i];

		if (!fc_wanted(t, s->ini, UINT64_MAX)) {
			/* once per ACL: its first entry */
			if (i && !strcmp(a.v[i - 1].ini, s->ini))
				continue;
			if (tdm_lio_acl_remove(&K.lio, &ep->lio, s->ini, err,
					       sizeof(err)) < 0)
				log_err("kernel: %s", err);
			else
				log_notice("kernel: %s ACL %s removed",
					   ep->desc, s->ini);
		} else if (s->mapped != UINT64_MAX &&
			   !fc_wanted(t, s->ini, s->mapped)) {
			if (tdm_lio_acl_unmap(&K.lio, &ep->lio, s->ini,
					      s->mapped, err, sizeof(err)) < 0)
				log_err("kernel: %s", err);
		}
	}
	free(a.v);
}

/* qla2xxx: an ACL per initiator a GROUP names (no wildcards: LIO
 * matches exact WWPNs), mapping the group's LUNs onto the tpgt's */
static void fc_acls(struct kep *ep, const struct tdm_conf_target *t)
{
	char err[512];

	fc_acls_prune(ep, t);

	for (size_t g = 0; g < t->ngroups; g++) {
		const struct tdm_conf_group *gr = &t->groups[g];

		for (size_t i = 0; i < gr->ninitiators; i++) {
			const char *ini = gr->initiators[i];

			if (strpbrk(ini, "*?!")) {
				log_warnx("kernel: %s GROUP %s: %s is a "
					  "pattern; qla2xxx ACLs name one "
					  "WWPN each, skipped",
					  t->name, gr->name, ini);
				continue;
			}
			for (size_t k = 0; k < gr->nluns; k++) {
				const struct tdm_conf_lun *l = &gr->luns[k];
				bool mapped = false;

				for (size_t j = 0; j < t->nluns; j++) {
					if (strcmp(t->luns[j].device,
						   l->device))
						continue;
					mapped = true;
					if (tdm_lio_acl_add(&K.lio, &ep->lio,
							    ini, l->lun,
							    t->luns[j].lun,
							    l->read_only, err,
							    sizeof(err)) < 0)
						log_err("kernel: %s", err);
					break;
				}
				if (!mapped)
					log_warnx("kernel: %s GROUP %s LUN "
						  "%llu: %s is not among the "
						  "TARGET's LUNs, not "
						  "exported",
						  t->name, gr->name,
						  (unsigned long long)l->lun,
						  l->device);
			}
		}
	}
}

/*
 * A new session name (scst_local): the same endpoint and devices, a new
 * nexus. The TCMU devices are kept, not made again: TCMU lets its UIO
 * node be opened once, and a device of the same name would be the old
 * one still closing. The LUNs go first (LIO drains what is in flight,
 * still served with the old nexus; no command comes without a LUN, so
 * the loops do not read ep->nexus while it changes), then tcm_loop's
 * nexus is replaced (the kernel refuses it while LUNs are linked);
 * apply_target links the LUNs the new initiator sees. On failure the
 * old nexus stays and the next apply tries again.
 */
static int ep_renexus(struct kep *ep, const struct tdm_conf_target *t,
		      const struct tdm_lio_ep *lio, const char *initiator,
		      char *err, size_t errlen)
{
	struct tdm_nexus *nx;
	struct tdm_list *pos;
	int r;

	nx = ep_nexus(ep, t, initiator, err, errlen);
	if (!nx)
		return -EIO;
	tdm_list_for_each (pos, &ep->devs) {
		struct kdev *d = tdm_list_entry(pos, struct kdev, link);

		if (dev_lun_remove(d) < 0) {
			snprintf(err, errlen,
				 "%s: LUN %llu cannot be removed for the new "
				 "session_name %s",
				 t->name, (unsigned long long)d->lun,
				 initiator);
			r = -EIO;
			goto fail;
		}
	}
	r = tdm_lio_ep_remove(&K.lio, &ep->lio, err, errlen);
	if (r == 0)
		r = tdm_lio_ep_create(&K.lio, lio, err, errlen);
	if (r < 0)
		goto fail;
	tdm_loop_post(ep->loop, nexus_destroy_on_loop, ep->nexus);
	ep->nexus = nx;
	snprintf(ep->initiator, sizeof(ep->initiator), "%s", initiator);
	memcpy(ep->lio.nexus, lio->nexus, sizeof(ep->lio.nexus));
	log_notice("kernel: %s serves TARGET %s as initiator %s (new "
		   "session_name)",
		   ep->desc, t->name, initiator);
	return 0;
fail:
	tdm_loop_post(ep->loop, nexus_destroy_on_loop, nx);
	return -EIO;
}

/* the LUN that the configuration gives the device name, or false */
static bool lun_of(const struct tdm_conf_lun *luns, size_t n,
		   const char *target, const char *name, uint64_t *lun)
{
	for (size_t i = 0; i < n; i++) {
		char dn[64];

		tdm_lio_dev_name(dn, sizeof(dn), luns[i].device, target);
		if (!strcmp(dn, name)) {
			*lun = luns[i].lun;
			return true;
		}
	}
	return false;
}

static int apply_target(const struct tdm_conf *c,
			const struct tdm_conf_target *t,
			const struct tdm_dev_stats *st, size_t nst, char *err,
			size_t errlen)
{
	char initiator[TDM_NAME_MAX];
	const struct tdm_conf_group *g;
	const struct tdm_conf_lun *luns;
	struct tdm_lio_ep lio;
	struct tdm_list *pos;
	struct kep *ep;
	size_t nluns;

	ep_initiator(t, initiator, sizeof(initiator));
	ep_lio(t, initiator, &lio);
	ep = ep_find(&lio);
	if (ep && strcmp(ep->initiator, initiator) &&
	    ep_renexus(ep, t, &lio, initiator, err, errlen) < 0)
		return -EIO;
	if (ep && ep->lio.demo_mode != lio.demo_mode) {
		/* qla2xxx: the TARGET gained its first LUN or lost its
		 * last: generate_node_acls follows (ep_create rewrites it;
		 * sessions already logged in keep what they had) */
		if (tdm_lio_ep_create(&K.lio, &lio, err, errlen) < 0)
			return -EIO;
		ep->lio.demo_mode = lio.demo_mode;
	}
	if (!ep)
		ep = ep_new(t, &lio, initiator, err, errlen);
	if (!ep)
		return -EIO;
	ep->seen = true;
	/* the LUNs the nexus' initiator sees: its GROUP's, else the
	 * TARGET's own (the core resolves them the same way) */
	g = t->driver == TDM_DRV_FC ? NULL : tdm_conf_match_group(t, initiator);
	luns = g ? g->luns : t->luns;
	nluns = g ? g->nluns : t->nluns;
	/* first the LUNs that go away or move (a LUN number another
	 * device takes is free before it is linked again) */
	tdm_list_for_each (pos, &ep->devs) {
		struct kdev *d = tdm_list_entry(pos, struct kdev, link);
		uint64_t lun;

		if (!lun_of(luns, nluns, t->name, d->lio.name, &lun) ||
		    lun != d->lun)
			dev_lun_remove(d);
	}
	for (size_t i = 0; i < nluns; i++) {
		char name[64], e2[512];
		struct kdev *d;

		tdm_lio_dev_name(name, sizeof(name), luns[i].device, t->name);
		d = dev_find(ep, name);
		if (!d) {
			d = dev_new(ep, c, &luns[i], st, nst, err, errlen);
			if (!d)
				return -EIO;
		} else if (!d->lun_added) {
			/* no command comes as d->lun while it is unlinked:
			 * the loop reads it only for a command */
			d->lun = luns[i].lun;
			d->lun_added =
				tdm_lio_lun_add(&K.lio, &ep->lio, d->lun, name,
						e2, sizeof(e2)) == 0;
			if (!d->lun_added)
				log_err("kernel: %s", e2);
			else
				log_notice("kernel: %s LUN %llu = %s (TCMU %s)",
					   ep->desc, (unsigned long long)d->lun,
					   d->lu, name);
		}
		d->seen = true;
	}
	if (t->driver == TDM_DRV_FC)
		fc_acls(ep, t);
	return 0;
}

int tdm_kernel_apply(const struct tdm_conf *c, char *err, size_t errlen)
{
	struct tdm_dev_stats *st = NULL;
	struct tdm_list *pos, *tmp;
	size_t nst = 0;
	int r = 0;

	if (K.stopping)
		return 0;
	if (!conf_has_kernel(c) && !K.started)
		return 0;
	if (!K.started) {
		r = start(c, err, errlen);
		if (r < 0)
			return r;
	} else {
		r = fabrics_check(c, err, errlen);
		if (r < 0)
			return r;
	}
	tdm_list_for_each (pos, &K.eps) {
		struct kep *ep = tdm_list_entry(pos, struct kep, link);
		struct tdm_list *p2;

		ep->seen = false;
		tdm_list_for_each (p2, &ep->devs)
			tdm_list_entry(p2, struct kdev, link)->seen = false;
	}
	if (conf_has_kernel(c) && tdm_core_dev_stats(&st, &nst) < 0) {
		snprintf(err, errlen,
			 "kernel: the core's devices: out of "
			 "memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < c->ntargets && r == 0; i++) {
		const struct tdm_conf_target *t = &c->targets[i];

		if (served(c, t))
			r = apply_target(c, t, st, nst, err, errlen);
	}
	free(st);
	if (r < 0)
		return r;
	/* what is no longer configured */
	tdm_list_for_each_safe (pos, tmp, &K.eps) {
		struct kep *ep = tdm_list_entry(pos, struct kep, link);
		struct tdm_list *p2, *t2;

		tdm_list_for_each_safe (p2, t2, &ep->devs) {
			struct kdev *d = tdm_list_entry(p2, struct kdev, link);

			if (ep->seen && d->seen)
				continue;
			dev_lun_remove(d);
			dev_stop(d, true);
		}
		if (!ep->seen)
			ep_free(ep, true);
	}
	orphans_remove();
	return 0;
}

/* ---- shutdown ---- */

static void nl_stopped(void *arg)
{
	(void)arg;
	K.started = false;
	log_notice("kernel: stopped (%s)",
		   K.keep ? "devices blocked and kept for the next tandemd"
			  : "every LIO object removed");
	K.done(K.done_arg);
}

/* every device has stopped: the endpoints, then netlink */
static void shutdown_step(void)
{
	struct tdm_list *pos, *tmp;

	tdm_list_for_each_safe (pos, tmp, &K.eps)
		ep_free(tdm_list_entry(pos, struct kep, link), !K.keep);
	tdm__tcmu_nl_stop(nl_stopped, NULL);
}

void tdm_kernel_shutdown(int keep, void (*done)(void *arg), void *arg)
{
	struct tdm_list *pos, *p2, *t2;
	char err[512];

	K.done = done;
	K.done_arg = arg;
	K.keep = keep;
	if (!K.started) {
		done(arg);
		return;
	}
	K.stopping = true;
	K.pending++; /* ours, dropped below; devices an apply stops count */
	tdm_list_for_each (pos, &K.eps) {
		struct kep *ep = tdm_list_entry(pos, struct kep, link);

		tdm_list_for_each_safe (p2, t2, &ep->devs) {
			struct kdev *d = tdm_list_entry(p2, struct kdev, link);

			if (keep) {
				/* new commands wait in LIO (BUSY is
				 * retried); the next tandemd unblocks */
				if (tdm_lio_dev_block(&K.lio, d->lio.name, true,
						      err, sizeof(err)) < 0)
					log_err("kernel: %s", err);
			} else {
				dev_lun_remove(d);
			}
			dev_stop(d, !keep);
		}
	}
	if (--K.pending == 0)
		shutdown_step();
}
