/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * lu.c - logical units: open the backstore, derive the identity a head
 * presents (VPD 0x80/0x83, INQUIRY strings), reference counting.
 *
 * Identity is derived from the device name, which is the same on every
 * head of a cluster, never from the host name or a random number, so two
 * heads (or one head across restarts) present byte-identical designators.
 * naa_id / eui64_id / usn / t10_dev_id override the derived values.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scsi/scsi_int.h"
#include "lib/log.h"

/* all_lus, next_serial (scsi/README.md "Locks") */
static struct tdm_mutex lus_lock =
	TDM_MUTEX_INITIALIZER(TDM__LOCK_LUS, "lus_lock");
static struct tdm_list all_lus = TDM_LIST_INIT(all_lus);
static uint64_t next_serial = 1;

/* FNV-1a, 64 bit: stable across hosts, versions and restarts. */
static uint64_t fnv1a64(const char *s, uint64_t h)
{
	while (*s) {
		h ^= (uint8_t)*s++;
		h *= 0x100000001b3ull;
	}
	return h;
}

static uint64_t name_hash(const char *name)
{
	return fnv1a64(name, fnv1a64("tandem:", 0xcbf29ce484222325ull));
}

/* Parse 16/24/32 hex digits (optional 0x) into bytes. */
static int parse_hex_id(const char *s, uint8_t *out, size_t max)
{
	size_t n = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	while (*s) {
		int hi, lo;

		if (!isxdigit((unsigned char)s[0]) ||
		    !isxdigit((unsigned char)s[1]) || n == max)
			return -EINVAL;
		hi = isdigit((unsigned char)s[0]) ? s[0] - '0'
						  : (tolower(s[0]) - 'a' + 10);
		lo = isdigit((unsigned char)s[1]) ? s[1] - '0'
						  : (tolower(s[1]) - 'a' + 10);
		out[n++] = (uint8_t)(hi << 4 | lo);
		s += 2;
	}
	return (int)n;
}

static void pad_copy(char *dst, size_t width, const char *src)
{
	size_t n = strlen(src);

	if (n > width)
		n = width;
	memcpy(dst, src, n);
	memset(dst + n, ' ', width - n);
	dst[width] = '\0';
}

static const char *default_product(enum tdm_handler h)
{
	switch (h) {
	case TDM_HANDLER_FILEIO:
		return "FILEIO";
	case TDM_HANDLER_BLOCKIO:
		return "BLOCKIO";
	case TDM_HANDLER_NULLIO:
		return "NULLIO";
	case TDM_HANDLER_RAM:
		return "RAMDISK";
	case TDM_HANDLER_CDROM:
		return "CDROM";
	default:
		return "DISK";
	}
}

static int derive_identity(struct tdm_lu *lu, char *err, size_t errlen)
{
	const struct tdm_conf_device *c = &lu->conf;
	/* a store that keeps the LU's identity (rbd: image metadata)
	 * gives every head the same designators, whatever the name */
	const char *seed = lu->bs.ident[0] ? lu->bs.ident : c->name;
	uint64_t h = name_hash(seed);
	int n;

	if (c->usn[0])
		snprintf(lu->usn, sizeof(lu->usn), "%s", c->usn);
	else
		snprintf(lu->usn, sizeof(lu->usn), "%016llx",
			 (unsigned long long)h);

	if (c->naa_id[0]) {
		n = parse_hex_id(c->naa_id, lu->naa, sizeof(lu->naa));
		if (n != 8 && n != 16) {
			snprintf(err, errlen,
				 "%s: naa_id must be 16 or 32 hex digits",
				 c->name);
			return -EINVAL;
		}
		lu->naa_len = (uint8_t)n;
	} else {
		/* SPC-4 7.8.6.6.4: NAA 3h, locally assigned, 60 bits */
		tdm_put_be64(lu->naa, (3ull << 60) | (h >> 4));
		lu->naa_len = 8;
	}
	if (c->eui64_id[0]) {
		n = parse_hex_id(c->eui64_id, lu->eui64, sizeof(lu->eui64));
		if (n != 8 && n != 12 && n != 16) {
			snprintf(err, errlen,
				 "%s: eui64_id must be 16, 24 or 32 hex digits",
				 c->name);
			return -EINVAL;
		}
		lu->eui64_len = (uint8_t)n;
	}
	pad_copy(lu->t10_vendor, 8,
		 c->t10_vend_id[0] ? c->t10_vend_id : "TANDEM");
	pad_copy(lu->product, 16,
		 c->prod_id[0] ? c->prod_id : default_product(c->handler));
	pad_copy(lu->revision, 4,
		 c->prod_rev_lvl[0] ? c->prod_rev_lvl : "0010");
	/* an identity longer than the field keeps its tail (the image id) */
	n = (int)strlen(c->t10_dev_id[0] ? c->t10_dev_id : seed);
	snprintf(lu->t10_dev_id, sizeof(lu->t10_dev_id), "%.*s",
		 (int)sizeof(lu->t10_dev_id) - 1,
		 (c->t10_dev_id[0] ? c->t10_dev_id : seed) +
			 (n >= (int)sizeof(lu->t10_dev_id)
				  ? n - (int)sizeof(lu->t10_dev_id) + 1
				  : 0));
	/* A value derived from the store (rbd: "<fsid>/<pool id>/<image
	 * id>") keeps to what udev passes unchanged (one derived from the
	 * device name is left as it was: changing it would change the
	 * identity of existing LUs across an upgrade): with a '/' in it,
	 * multipathd saw each path's WWID (udev's ID_SERIAL, "\x2f") differ
	 * from the map's and kept removing the paths
	 * (tests/vm/rbd_multipath.sh). */
	for (char *p = lu->t10_dev_id;
	     lu->bs.ident[0] && !c->t10_dev_id[0] && *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("-._:", *p))
			*p = '.';
	return 0;
}

/* Close the backstore unless a deferred LU's backing is closed already
 * (its probe opened nothing; scsi/backing.c) */
static void bs_close(struct tdm_lu *lu)
{
	if (lu->deferred && !lu->bs.priv)
		return;
	lu->bs.ops->close(&lu->bs);
}

/* On a loop thread: the store says its size changed (rbd resize). */
static void resized_cb(void *arg)
{
	struct tdm_lu *lu = arg;
	uint64_t n;

	if (lu->bs.ops->refresh_size &&
	    lu->bs.ops->refresh_size(&lu->bs) == 0) {
		n = lu->bs.size >> lu->block_shift;
		if (n && n != lu->nblocks) {
			log_notice("%s: resized: %llu -> %llu blocks", lu->name,
				   (unsigned long long)lu->nblocks,
				   (unsigned long long)n);
			lu->nblocks = n;
			/* SBC-4 4.6: CAPACITY DATA HAS CHANGED, every nexus */
			tdm__ua_raise_lu(lu, TDM_SR_UA_CAPACITY_CHANGED, NULL);
		}
	}
	tdm__lu_put(lu);
}

/* Any thread (librbd's): keep the LU while the change is looked at,
 * unless its last reference is already gone. */
static void bs_resized(struct tdm_bs *bs)
{
	struct tdm_lu *lu = container_of(bs, struct tdm_lu, bs);
	int rc = atomic_load(&lu->refcnt);

	if (!tdm_loop_count())
		return;
	while (rc > 0 &&
	       !atomic_compare_exchange_weak(&lu->refcnt, &rc, rc + 1))
		;
	if (rc > 0)
		tdm_loop_post(tdm_loop_get(0), resized_cb, lu);
}

int tdm__lu_open(const struct tdm_conf_device *conf, struct tdm_lu **out,
		 char *err, size_t errlen)
{
	struct tdm_lu *lu = calloc(1, sizeof(*lu));
	const struct tdm_bs_ops *ops;
	int r;

	if (!lu)
		return -ENOMEM;
	lu->conf = *conf;
	snprintf(lu->name, sizeof(lu->name), "%s", conf->name);
	ops = tdm_bs_lookup(conf->handler);
	if (!ops) {
		snprintf(err, errlen, "%s: no backstore for handler %d",
			 conf->name, conf->handler);
		free(lu);
		return -EINVAL;
	}
	lu->bs.ops = ops;
	lu->bs.resized = bs_resized;
	if (conf->deferred_open) {
		/* scsi/backing.c: the geometry now, the backing once this
		 * head serves the LU */
		if (!ops->probe) {
			snprintf(err, errlen,
				 "%s: deferred_open is not supported by %s",
				 conf->name, tdm_handler_name(conf->handler));
			free(lu);
			return -EINVAL;
		}
		lu->deferred = true;
		atomic_init(&lu->bk_state, TDM__BK_DETACHED);
		r = ops->probe(&lu->bs, conf, err, errlen);
	} else {
		atomic_init(&lu->bk_state, TDM__BK_OPEN);
		r = ops->open(&lu->bs, conf, err, errlen);
	}
	if (r < 0) {
		free(lu);
		return r;
	}
	lu->block_size = lu->bs.block_size;
	if (conf->handler == TDM_HANDLER_CDROM) {
		/* MMC-6: 2048-byte blocks, read-only, removable; an
		 * empty drive has no blocks (scsi/mmc.c) */
		lu->dev_type = TDM_DEVTYPE_CDROM;
		lu->conf.read_only = true;
		lu->conf.removable = true;
		lu->no_medium = !lu->bs.size;
	}
	if (lu->block_size != 512 && lu->block_size != 4096 &&
	    !(lu->dev_type == TDM_DEVTYPE_CDROM && lu->block_size == 2048)) {
		snprintf(err, errlen, "%s: unsupported block size %u",
			 conf->name, lu->block_size);
		bs_close(lu);
		free(lu);
		return -EINVAL;
	}
	lu->block_shift = lu->block_size == 512	   ? 9
			  : lu->block_size == 2048 ? 11
						   : 12;
	/* physical_blocksize: reported in READ CAPACITY(16) and the block
	 * limits VPD page; I/O stays per logical block */
	lu->lbppbe = 0;
	while (conf->phys_blocksize > (lu->block_size << lu->lbppbe) &&
	       lu->lbppbe < 15)
		lu->lbppbe++;
	lu->nblocks = lu->bs.size >> lu->block_shift;
	if (!lu->nblocks && !lu->no_medium) {
		snprintf(err, errlen, "%s: smaller than one block", conf->name);
		bs_close(lu);
		free(lu);
		return -EINVAL;
	}
	lu->read_only = conf->read_only || lu->bs.read_only;
	r = derive_identity(lu, err, errlen);
	if (r < 0) {
		bs_close(lu);
		free(lu);
		return r;
	}
	lu->iost = tdm__iostats_new(); /* scsi/io_stats.c */
	if (!lu->iost) {
		ops->close(&lu->bs);
		free(lu);
		return -ENOMEM;
	}
	tdm_mutex_init(&lu->lock, TDM__LOCK_LU, "lu->lock");
	tdm_list_init(&lu->cmds);
	tdm_list_init(&lu->rl_queue); /* range locks (scsi/caw.c) */
	tdm__pr_lu_init(lu); /* PR: restore APTPL state (scsi/pr_scsi.c) */
	lu->mode.wce = lu->bs.write_cache;
	lu->mode_saved = lu->mode;
	atomic_init(&lu->refcnt, 1);
	if (lu->deferred)
		tdm__bk_count(1);

	tdm_mutex_lock(&lus_lock);
	lu->serial = next_serial++;
	tdm_list_add_tail(&all_lus, &lu->all_link);
	tdm_mutex_unlock(&lus_lock);
	*out = lu;
	return 0;
}

void tdm__lu_get(struct tdm_lu *lu)
{
	atomic_fetch_add_explicit(&lu->refcnt, 1, memory_order_relaxed);
}

void tdm__lu_put(struct tdm_lu *lu)
{
	if (atomic_fetch_sub_explicit(&lu->refcnt, 1, memory_order_acq_rel) !=
	    1)
		return;
	tdm_mutex_lock(&lus_lock);
	tdm_list_del(&lu->all_link);
	tdm_mutex_unlock(&lus_lock);
	log_info("%s: closed", lu->name);
	bs_close(lu);
	if (lu->deferred)
		tdm__bk_count(-1);
	tdm__pr_lu_fini(lu); /* PR: scsi/pr_scsi.c */
	free(lu->spc2_id);
	tdm__iostats_free(lu->iost);
	tdm_mutex_destroy(&lu->lock);
	free(lu);
}

struct tdm_lu **tdm__all_lus(size_t *n)
{
	struct tdm_lu **v = NULL;
	struct tdm_list *pos;
	size_t cnt = 0, i = 0;

	tdm_mutex_lock(&lus_lock);
	tdm_list_for_each (pos, &all_lus)
		cnt++;
	v = calloc(cnt ? cnt : 1, sizeof(*v));
	if (v) {
		tdm_list_for_each (pos, &all_lus) {
			struct tdm_lu *lu =
				tdm_list_entry(pos, struct tdm_lu, all_link);

			int rc = atomic_load(&lu->refcnt);

			/* take a reference unless the last one is going away */
			while (rc > 0 && !atomic_compare_exchange_weak(
						 &lu->refcnt, &rc, rc + 1))
				;
			if (rc > 0)
				v[i++] = lu;
		}
	}
	tdm_mutex_unlock(&lus_lock);
	*n = i;
	return v;
}
