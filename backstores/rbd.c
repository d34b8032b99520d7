/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rbd.c - vdisk_rbd: a Ceph RBD image through librbd's asynchronous API,
 * so that any number of heads can serve the same image at once (scale
 * out past a DRBD pair; docs/scale-out.md).
 *
 * Coherence between heads: librbd's cache is off (rbd_cache=false), so a
 * read goes to the OSDs and sees every write any head had acknowledged;
 * a write is acknowledged once the OSDs have it on every replica of its
 * placement group: there is no volatile cache here (WCE=0). FUA and
 * SYNCHRONIZE CACHE still send rbd_aio_flush (a no-op for librbd without
 * a cache, kept so that the promise does not depend on a setting).
 * COMPARE AND WRITE is rbd_aio_compare_and_write: the OSD compares and
 * writes as one operation, so it is atomic against writes sent by every
 * head (VMware's ATS over several heads). UNMAP and WRITE SAME with UNMAP
 * are rbd_aio_discard with rbd_skip_partial_discard=false (a partial
 * object is zeroed, not skipped: unmapped blocks read back as zeros);
 * WRITE SAME of zeros is rbd_aio_write_zeroes.
 *
 * Threads: librbd completes a request on its own thread (the callback
 * below); the callback only stores the result and sends the request back
 * to the loop that submitted it (tdm_loop_send: no lock, no allocation),
 * where io->done() runs. librbd allocates its completion per request.
 *
 * Image features: exclusive-lock (and object-map, fast-diff, journaling,
 * which need it) make librbd move a lock to each writer in turn, which
 * with several heads writing at once is the lock ping-pong of
 * ceph-iscsi; such an image is refused at open with the command that
 * disables them.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rados/librados.h>
#include <rbd/librbd.h>

#include "backstores/bs_internal.h"
#include "tandem/backstore.h"
#include "lib/log.h"

/* the image metadata key that holds the LU's identity (backstore.h) */
#define IDENT_KEY "tandem.identity"
/* the features that make librbd take the exclusive lock on a write */
#define LOCK_FEATURES                                                          \
	(RBD_FEATURE_EXCLUSIVE_LOCK | RBD_FEATURE_OBJECT_MAP |                 \
	 RBD_FEATURE_FAST_DIFF | RBD_FEATURE_JOURNALING)

/*
 * One connection to a cluster (a rados_t: its messenger threads, its
 * sessions with the monitors and OSDs) is shared by every device that
 * names the same ceph_conf, ceph_id, ceph_keyring and rbd_timeout: a head
 * with a hundred images has one client, not a hundred. Devices are
 * opened and closed on the main thread, but the list has its own lock.
 */
struct rbd_conn {
	struct rbd_conn *next;
	rados_t cluster;
	unsigned refs;
	uint32_t timeout;
	char conf[256], id[64], keyring[256];
};

static struct rbd_conn *conns;
static pthread_mutex_t conns_lock = PTHREAD_MUTEX_INITIALIZER;

struct rbd_dev {
	struct rbd_conn *conn;
	rados_t cluster; /* conn->cluster */
	rados_ioctx_t ioctx;
	rbd_image_t image;
	uint64_t watch;
	bool watching;
	uint64_t conf_size; /* size= as configured, 0 = the image's */
	char name[64];
};

static int conf_set(rados_t c, const char *key, const char *val,
		    const struct tdm_conf_device *conf, char *err,
		    size_t errlen)
{
	int r = rados_conf_set(c, key, val);

	if (r < 0)
		return tdm__bs_errf(err, errlen, r, "%s: ceph option %s=%s: %s",
				    conf->name, key, val, strerror(-r));
	return 0;
}

/* Read ceph_conf, then the options Tandem needs whatever it says. */
static int cluster_conf(rados_t c, const struct tdm_conf_device *conf,
			char *err, size_t errlen)
{
	char tmo[16];
	int r;

	r = rados_conf_read_file(c, conf->ceph_conf);
	if (r < 0)
		return tdm__bs_errf(err, errlen, r, "%s: ceph_conf %s: %s",
				    conf->name, conf->ceph_conf,
				    r == -EINVAL ? "cannot be parsed"
						 : strerror(-r));
	if (conf->ceph_keyring[0]) {
		r = conf_set(c, "keyring", conf->ceph_keyring, conf, err,
			     errlen);
		if (r)
			return r;
	}
	snprintf(tmo, sizeof(tmo), "%" PRIu32, conf->rbd_timeout);
	/* heads must never serve each other stale data: no client cache */
	r = conf_set(c, "rbd_cache", "false", conf, err, errlen);
	/* UNMAP zeroes partial objects instead of skipping them (LBPRZ) */
	if (!r)
		r = conf_set(c, "rbd_skip_partial_discard", "false", conf, err,
			     errlen);
	/* a cluster that stops answering ends a request with ETIMEDOUT
	 * (a retryable sense) instead of holding it forever */
	if (!r)
		r = conf_set(c, "rados_osd_op_timeout", tmo, conf, err, errlen);
	if (!r)
		r = conf_set(c, "rados_mon_op_timeout", tmo, conf, err, errlen);
	/* and rados_connect() gives up after as long */
	if (!r)
		r = conf_set(c, "client_mount_timeout", tmo, conf, err, errlen);
	/* librados logs to stderr otherwise */
	if (!r)
		r = conf_set(c, "log_to_stderr", "false", conf, err, errlen);
	if (!r)
		r = conf_set(c, "err_to_stderr", "false", conf, err, errlen);
	return r;
}

static int connect_error(const struct tdm_conf_device *conf, int r, char *err,
			 size_t errlen)
{
	const char *why;

	switch (r) {
	case -ENOENT:
		why = "no keyring with this user's key (ceph_keyring=, or "
		      "keyring in ceph_conf)";
		break;
	case -EACCES:
	case -EPERM:
		why = "the monitors refused this user's key";
		break;
	case -ETIMEDOUT:
		why = "no monitor answered (mon_host in ceph_conf, the "
		      "network, or the cluster is down)";
		break;
	default:
		why = strerror(-r);
	}
	return tdm__bs_errf(err, errlen, r,
			    "%s: cannot connect to Ceph as client.%s "
			    "(ceph_conf %s, within %" PRIu32 " s): %s",
			    conf->name, conf->ceph_id, conf->ceph_conf,
			    conf->rbd_timeout, why);
}

/* The image's identity: its metadata key, else fsid/pool id/image id,
 * written there so that it follows the image. */
static void load_identity(struct tdm_bs *bs, struct rbd_dev *d,
			  const struct tdm_conf_device *conf)
{
	char fsid[64] = "", id[64] = "";
	size_t len = sizeof(bs->ident);
	int r;

	r = rbd_metadata_get(d->image, IDENT_KEY, bs->ident, &len);
	if (r >= 0 && bs->ident[0])
		return;
	bs->ident[0] = '\0';
	if (rados_cluster_fsid(d->cluster, fsid, sizeof(fsid)) < 0 ||
	    rbd_get_id(d->image, id, sizeof(id)) < 0) {
		log_warnx("%s: no identity from the image; the designators "
			  "follow the device name",
			  conf->name);
		return;
	}
	snprintf(bs->ident, sizeof(bs->ident), "%s/%" PRId64 "/%s", fsid,
		 rados_ioctx_get_id(d->ioctx), id);
	if (conf->read_only)
		return;
	r = rbd_metadata_set(d->image, IDENT_KEY, bs->ident);
	if (r < 0)
		log_warnx("%s: %s/%s: cannot store the identity in image "
			  "metadata %s: %s (derived the same way on every "
			  "head, so nothing is lost)",
			  conf->name, conf->rbd_pool, conf->rbd_image,
			  IDENT_KEY, strerror(-r));
}

static int geometry(struct tdm_bs *bs, struct rbd_dev *d, char *err,
		    size_t errlen)
{
	uint64_t have = 0;
	int r = rbd_get_size(d->image, &have);

	if (r < 0)
		return tdm__bs_errf(err, errlen, r, "%s: image size: %s",
				    d->name, strerror(-r));
	if (d->conf_size) {
		if (d->conf_size > have)
			return tdm__bs_errf(err, errlen, -EINVAL,
					    "%s: image too small: %" PRIu64
					    " bytes, size=%" PRIu64 " asked",
					    d->name, have, d->conf_size);
		have = d->conf_size;
	}
	if (have < bs->block_size)
		return tdm__bs_errf(err, errlen, -EINVAL,
				    "%s: image smaller than one block",
				    d->name);
	bs->size = have - have % bs->block_size;
	return 0;
}

/* librbd's thread: a watched image changed (a resize, a snapshot...). */
static void image_changed(void *arg)
{
	struct tdm_bs *bs = arg;

	if (bs->resized)
		bs->resized(bs);
}

static bool conn_is(const struct rbd_conn *c,
		    const struct tdm_conf_device *conf)
{
	return !strcmp(c->conf, conf->ceph_conf) &&
	       !strcmp(c->id, conf->ceph_id) &&
	       !strcmp(c->keyring, conf->ceph_keyring) &&
	       c->timeout == conf->rbd_timeout;
}

/* The connection of conf: a shared one, or a new one connected here. */
static int conn_get(const struct tdm_conf_device *conf, struct rbd_conn **out,
		    char *err, size_t errlen)
{
	struct rbd_conn *c;
	int r;

	pthread_mutex_lock(&conns_lock);
	for (c = conns; c; c = c->next)
		if (conn_is(c, conf))
			break;
	if (c) {
		c->refs++;
		pthread_mutex_unlock(&conns_lock);
		*out = c;
		return 0;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		pthread_mutex_unlock(&conns_lock);
		return -ENOMEM;
	}
	snprintf(c->conf, sizeof(c->conf), "%s", conf->ceph_conf);
	snprintf(c->id, sizeof(c->id), "%s", conf->ceph_id);
	snprintf(c->keyring, sizeof(c->keyring), "%s", conf->ceph_keyring);
	c->timeout = conf->rbd_timeout;
	r = rados_create(&c->cluster, conf->ceph_id);
	if (r < 0) {
		r = tdm__bs_errf(err, errlen, r, "%s: ceph_id %s: %s",
				 conf->name, conf->ceph_id, strerror(-r));
		c->cluster = NULL;
	}
	if (!r)
		r = cluster_conf(c->cluster, conf, err, errlen);
	if (!r) {
		r = rados_connect(c->cluster);
		if (r < 0)
			r = connect_error(conf, r, err, errlen);
	}
	if (r) {
		pthread_mutex_unlock(&conns_lock);
		if (c->cluster)
			rados_shutdown(c->cluster);
		free(c);
		return r;
	}
	c->refs = 1;
	c->next = conns;
	conns = c;
	pthread_mutex_unlock(&conns_lock);
	*out = c;
	return 0;
}

static void conn_put(struct rbd_conn *c)
{
	struct rbd_conn **pp;

	pthread_mutex_lock(&conns_lock);
	if (--c->refs) {
		pthread_mutex_unlock(&conns_lock);
		return;
	}
	for (pp = &conns; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	pthread_mutex_unlock(&conns_lock);
	rados_shutdown(c->cluster);
	free(c);
}

static void rbd_close_dev(struct rbd_dev *d)
{
	if (d->watching)
		rbd_update_unwatch(d->image, d->watch);
	if (d->image)
		rbd_close(d->image); /* waits for requests in flight */
	if (d->ioctx)
		rados_ioctx_destroy(d->ioctx);
	if (d->conn)
		conn_put(d->conn);
	free(d);
}

static int rbd_open_img(struct rbd_dev *d, const struct tdm_conf_device *conf,
			char *err, size_t errlen)
{
	uint64_t features = 0;
	int r;

	r = rados_ioctx_create(d->cluster, conf->rbd_pool, &d->ioctx);
	if (r < 0)
		return tdm__bs_errf(err, errlen, r, "%s: pool %s: %s",
				    conf->name, conf->rbd_pool,
				    r == -ENOENT ? "no such pool"
						 : strerror(-r));
	if (conf->read_only)
		r = rbd_open_read_only(d->ioctx, conf->rbd_image, &d->image,
				       NULL);
	else
		r = rbd_open(d->ioctx, conf->rbd_image, &d->image, NULL);
	if (r < 0) {
		d->image = NULL;
		return tdm__bs_errf(
			err, errlen, r, "%s: image %s/%s: %s", conf->name,
			conf->rbd_pool, conf->rbd_image,
			r == -ENOENT ? "no such image"
			: r == -EPERM || r == -EACCES
				? "permission denied (the user's osd caps: "
				  "profile rbd pool=...)"
				: strerror(-r));
	}
	r = rbd_get_features(d->image, &features);
	if (r < 0)
		return tdm__bs_errf(err, errlen, r, "%s: image features: %s",
				    conf->name, strerror(-r));
	if ((features & LOCK_FEATURES) && !conf->read_only)
		return tdm__bs_errf(
			err, errlen, -EINVAL,
			"%s: image %s/%s has the exclusive-lock feature, "
			"which moves a lock between heads on every write: "
			"rbd feature disable %s/%s journaling fast-diff "
			"object-map exclusive-lock",
			conf->name, conf->rbd_pool, conf->rbd_image,
			conf->rbd_pool, conf->rbd_image);
	return 0;
}

static int rbd_open_bs(struct tdm_bs *bs, const struct tdm_conf_device *conf,
		       char *err, size_t errlen)
{
	struct rbd_dev *d;
	uint32_t bsz;
	int r;

	r = tdm__bs_blocksize(conf, 512, &bsz, err, errlen);
	if (r)
		return r;
	if (!conf->rbd_pool[0] || !conf->rbd_image[0])
		return tdm__bs_errf(err, errlen, -EINVAL,
				    "%s: vdisk_rbd needs pool and image",
				    conf->name);
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	snprintf(d->name, sizeof(d->name), "%s", conf->name);
	d->conf_size = conf->size;
	r = conn_get(conf, &d->conn, err, errlen);
	if (r)
		goto fail;
	d->cluster = d->conn->cluster;
	r = rbd_open_img(d, conf, err, errlen);
	if (r)
		goto fail;
	bs->block_size = bsz;
	r = geometry(bs, d, err, errlen);
	if (r)
		goto fail;
	load_identity(bs, d, conf);
	bs->read_only = conf->read_only;
	bs->write_cache = false;
	bs->can_unmap = conf->thin_provisioned && !conf->read_only;
	/* librbd (16.2) compares and writes within one 512-byte sector
	 * only (-EINVAL beyond): one block of 512 bytes, the size VMware's
	 * ATS uses; none with 4096-byte blocks */
	bs->atomic_caw = true;
	bs->caw_max_len = 512;
	bs->rotational = conf->rotational;
	/* a resize by `rbd resize`, from any client */
	if (rbd_update_watch(d->image, &d->watch, image_changed, bs) == 0)
		d->watching = true;
	else
		log_warnx("%s: cannot watch the image: a resize is seen at "
			  "the next configuration reload only",
			  conf->name);
	bs->priv = d;
	return 0;
fail:
	rbd_close_dev(d);
	return r;
}

static void rbd_close_bs(struct tdm_bs *bs)
{
	if (bs->priv)
		rbd_close_dev(bs->priv);
	bs->priv = NULL;
}

static int rbd_refresh_size(struct tdm_bs *bs)
{
	struct rbd_dev *d = bs->priv;
	char err[160];

	if (!d)
		return -EBADF;
	if (geometry(bs, d, err, sizeof(err)) < 0) {
		log_warnx("%s", err);
		return -EINVAL;
	}
	return 0;
}

static enum tdm_bs_status status_of(const struct tdm_bs_io *io, int64_t r)
{
	if (r >= 0)
		return TDM_BS_OK;
	switch (r) {
	case -EILSEQ:
		if (io->op == TDM_BS_COMPARE_AND_WRITE)
			return TDM_BS_MISCOMPARE;
		break;
	case -ETIMEDOUT:
		return TDM_BS_TIMEOUT;
	case -ENOSPC:
	case -EDQUOT:
		return TDM_BS_NO_SPACE;
	case -ENOMEM:
		return TDM_BS_NO_MEMORY;
	default:
		break;
	}
	return io->op == TDM_BS_READ ? TDM_BS_READ_ERROR : TDM_BS_WRITE_ERROR;
}

static void finish(struct tdm_bs_io *io, int64_t r)
{
	enum tdm_bs_status st = status_of(io, r);

	if (st != TDM_BS_OK && st != TDM_BS_MISCOMPARE)
		log_warnx_rl("%s: rbd %s at offset %" PRIu64 ": %s",
			     ((struct rbd_dev *)io->bs->priv)->name,
			     io->op == TDM_BS_READ ? "read" : "write",
			     io->offset, strerror((int)-r));
	io->done(io, st);
}

static void start(struct tdm_bs_io *io);

/* On the submitting loop's thread. */
static void completed(struct tdm_loop_msg *m)
{
	struct tdm_bs_io *io = container_of(m, struct tdm_bs_io, lmsg);

	/* librbd gives the image offset of the first differing byte */
	if (io->res == -EILSEQ && io->op == TDM_BS_COMPARE_AND_WRITE &&
	    io->miscompare >= io->offset)
		io->miscompare -= io->offset;
	/* FUA: the write, then a flush (done_bytes counts the stage) */
	if (io->res >= 0 && io->op == TDM_BS_WRITE && io->fua &&
	    !io->done_bytes) {
		io->done_bytes = io->len;
		start(io);
		return;
	}
	finish(io, io->res);
}

/* librbd's thread: keep the result, send io home. */
static void rbd_cb(rbd_completion_t c, void *arg)
{
	struct tdm_bs_io *io = arg;

	io->res = rbd_aio_get_return_value(c);
	rbd_aio_release(c);
	tdm_loop_send(io->loop, &io->lmsg);
}

static void start(struct tdm_bs_io *io)
{
	struct rbd_dev *d = io->bs->priv;
	rbd_completion_t c;
	ssize_t r;

	r = rbd_aio_create_completion(io, rbd_cb, &c);
	if (r < 0) {
		finish(io, -ENOMEM);
		return;
	}
	switch (io->op) {
	case TDM_BS_READ:
		r = rbd_aio_read(d->image, io->offset, io->len, io->buf, c);
		break;
	case TDM_BS_WRITE:
		if (io->done_bytes) /* FUA's flush */
			r = rbd_aio_flush(d->image, c);
		else
			r = rbd_aio_write(d->image, io->offset, io->len,
					  io->buf, c);
		break;
	case TDM_BS_FLUSH:
		r = rbd_aio_flush(d->image, c);
		break;
	case TDM_BS_UNMAP:
		r = rbd_aio_discard(d->image, io->offset, io->len, c);
		break;
	case TDM_BS_WRITE_ZEROES:
		r = rbd_aio_write_zeroes(d->image, io->offset, io->len, c, 0,
					 0);
		break;
	case TDM_BS_COMPARE_AND_WRITE:
		io->miscompare = 0;
		r = rbd_aio_compare_and_write(
			d->image, io->offset, io->len, io->buf,
			(const char *)io->buf + io->len, c, &io->miscompare, 0);
		break;
	default:
		r = -EOPNOTSUPP;
	}
	if (r < 0) {
		rbd_aio_release(c);
		finish(io, r);
	}
}

static void rbd_submit(struct tdm_bs *bs, struct tdm_bs_io *io)
{
	if (io->op == TDM_BS_UNMAP && !bs->can_unmap) {
		io->done(io, TDM_BS_UNSUPPORTED);
		return;
	}
	io->bs = bs;
	io->loop = tdm_loop_current();
	io->lmsg.fn = completed;
	io->done_bytes = 0;
	io->res = 0;
	start(io);
}

const struct tdm_bs_ops tdm__bs_rbd_ops = {
	.name = "vdisk_rbd",
	.open = rbd_open_bs,
	.close = rbd_close_bs,
	.submit = rbd_submit,
	.refresh_size = rbd_refresh_size,
};
