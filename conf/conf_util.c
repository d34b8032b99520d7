/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * conf_util.c - the configuration model's housekeeping: init, free, deep
 * copy, comparison, handler names, and SCST-style wildcard patterns.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alua/alua.h" /* DEVICE_GROUP copies */
#include "tandem/config.h"

/* SCST's names (scst_vdisk.c), and tandem's ram */
static const char *const handler_names[TDM__HANDLER_COUNT] = {
	[TDM_HANDLER_FILEIO] = "vdisk_fileio",
	[TDM_HANDLER_BLOCKIO] = "vdisk_blockio",
	[TDM_HANDLER_NULLIO] = "vdisk_nullio",
	[TDM_HANDLER_RAM] = "ram",
	[TDM_HANDLER_CDROM] = "vcdrom",
	[TDM_HANDLER_RBD] = "vdisk_rbd",
};

/* Other names a handler is known by: read, never written. */
static const struct {
	const char *name;
	enum tdm_handler h;
} handler_aliases[] = {
	/* tandem's name for vcdrom before it took SCST's */
	{"vdisk_cdrom", TDM_HANDLER_CDROM},
};

const char *tdm_handler_name(enum tdm_handler h)
{
	if ((unsigned)h >= TDM__HANDLER_COUNT)
		return "unknown";
	return handler_names[h];
}

int tdm_handler_from_name(const char *name, enum tdm_handler *h)
{
	for (unsigned i = 0; i < TDM__HANDLER_COUNT; i++) {
		if (strcmp(name, handler_names[i]) == 0) {
			*h = (enum tdm_handler)i;
			return 0;
		}
	}
	for (size_t i = 0;
	     i < sizeof(handler_aliases) / sizeof(handler_aliases[0]); i++) {
		if (strcmp(name, handler_aliases[i].name) == 0) {
			*h = handler_aliases[i].h;
			return 0;
		}
	}
	return -ENOENT;
}

bool tdm_handler_is(enum tdm_handler h, const char *name)
{
	enum tdm_handler n;

	return tdm_handler_from_name(name, &n) == 0 && n == h;
}

void tdm_conf_params_init(struct tdm_conf_iscsi_params *p)
{
	memset(p, 0, sizeof(*p));
	p->header_digest = -1;
	p->data_digest = -1;
	p->initial_r2t = -1;
	p->immediate_data = -1;
}

void tdm_conf_device_init(struct tdm_conf_device *d, enum tdm_handler h)
{
	memset(d, 0, sizeof(*d));
	d->handler = h;
	d->blocksize = 512;
	/* SCST's DEF_ROTATIONAL is 1; a RAM disk does not spin. */
	d->rotational = h != TDM_HANDLER_RAM;
	if (h == TDM_HANDLER_CDROM) {
		/* MMC-6: 2048-byte logical blocks; a CD is read-only
		 * and removable */
		d->blocksize = 2048;
		d->read_only = true;
		d->removable = true;
	}
	if (h == TDM_HANDLER_RBD) {
		snprintf(d->ceph_conf, sizeof(d->ceph_conf), "%s",
			 TDM_RBD_DEFAULT_CONF);
		snprintf(d->ceph_id, sizeof(d->ceph_id), "%s",
			 TDM_RBD_DEFAULT_ID);
		d->rbd_timeout = TDM_RBD_DEFAULT_TIMEOUT;
	}
}

void tdm_conf_init(struct tdm_conf *c)
{
	memset(c, 0, sizeof(*c));
	tdm_conf_params_init(&c->params);
}

static void free_group(struct tdm_conf_group *g)
{
	free(g->luns);
	free(g->initiators);
	free(g->in_users);
}

static void free_target(struct tdm_conf_target *t)
{
	free(t->in_users);
	free(t->allowed_portals);
	free(t->luns);
	for (size_t i = 0; i < t->ngroups; i++)
		free_group(&t->groups[i]);
	free(t->groups);
}

void tdm_conf_free(struct tdm_conf *c)
{
	if (!c)
		return;
	free(c->devices);
	free(c->portals);
	free(c->discovery_in_users);
	for (size_t i = 0; i < c->ntargets; i++)
		free_target(&c->targets[i]);
	free(c->targets);
	tdm_alua_conf_free(c->dgrps, c->ndgrps); /* alua/ */
	free(c->srp.portals);
	tdm_conf_init(c);
}

/* Copy n elements of size sz; NULL (and success) when n is 0. */
static int dup_array(void *dstp, const void *src, size_t n, size_t sz)
{
	void **dst = dstp;

	*dst = NULL;
	if (n == 0)
		return 0;
	if (!src || n > SIZE_MAX / sz)
		return -EINVAL;
	*dst = malloc(n * sz);
	if (!*dst)
		return -ENOMEM;
	memcpy(*dst, src, n * sz);
	return 0;
}

static int dup_group(struct tdm_conf_group *d, const struct tdm_conf_group *s)
{
	int r;

	*d = *s;
	d->luns = NULL;
	d->initiators = NULL;
	d->in_users = NULL;
	r = dup_array(&d->luns, s->luns, s->nluns, sizeof(*s->luns));
	if (!r)
		r = dup_array(&d->initiators, s->initiators, s->ninitiators,
			      sizeof(*s->initiators));
	if (!r)
		r = dup_array(&d->in_users, s->in_users, s->nin_users,
			      sizeof(*s->in_users));
	return r;
}

static int dup_target(struct tdm_conf_target *d,
		      const struct tdm_conf_target *s)
{
	int r;

	*d = *s;
	d->in_users = NULL;
	d->allowed_portals = NULL;
	d->luns = NULL;
	d->groups = NULL;
	d->ngroups = 0;
	r = dup_array(&d->in_users, s->in_users, s->nin_users,
		      sizeof(*s->in_users));
	if (!r)
		r = dup_array(&d->allowed_portals, s->allowed_portals,
			      s->nallowed_portals, sizeof(*s->allowed_portals));
	if (!r)
		r = dup_array(&d->luns, s->luns, s->nluns, sizeof(*s->luns));
	if (r || s->ngroups == 0)
		return r;
	d->groups = calloc(s->ngroups, sizeof(*d->groups));
	if (!d->groups)
		return -ENOMEM;
	for (size_t i = 0; i < s->ngroups; i++) {
		/* count first, so that free_target() sees what to free */
		d->ngroups = i + 1;
		r = dup_group(&d->groups[i], &s->groups[i]);
		if (r)
			return r;
	}
	return 0;
}

int tdm_conf_dup(const struct tdm_conf *src, struct tdm_conf *dst)
{
	struct tdm_conf c = *src;
	int r;

	c.devices = NULL;
	c.portals = NULL;
	c.discovery_in_users = NULL;
	c.targets = NULL;
	c.ntargets = 0;
	c.dgrps = NULL; /* alua/ */
	c.ndgrps = 0;
	c.srp.portals = NULL;
	r = dup_array(&c.devices, src->devices, src->ndevices,
		      sizeof(*src->devices));
	if (!r)
		r = dup_array(&c.portals, src->portals, src->nportals,
			      sizeof(*src->portals));
	if (!r)
		r = dup_array(&c.discovery_in_users, src->discovery_in_users,
			      src->ndiscovery_in_users,
			      sizeof(*src->discovery_in_users));
	if (!r)
		r = dup_array(&c.srp.portals, src->srp.portals,
			      src->srp.nportals, sizeof(*src->srp.portals));
	if (!r && src->ntargets) {
		c.targets = calloc(src->ntargets, sizeof(*c.targets));
		if (!c.targets)
			r = -ENOMEM;
		for (size_t i = 0; !r && i < src->ntargets; i++) {
			c.ntargets = i + 1;
			r = dup_target(&c.targets[i], &src->targets[i]);
		}
	}
	if (!r) /* alua/ */
		r = tdm_alua_conf_dup(&c.dgrps, &c.ndgrps, src->dgrps,
				      src->ndgrps);
	if (r) {
		tdm_conf_free(&c);
		tdm_conf_init(dst);
		return r;
	}
	*dst = c;
	return 0;
}

/* ---- comparison ---- */

#define SEQ(a, b) (strncmp((a), (b), sizeof(a)) == 0)

static bool users_equal(const struct tdm_conf_user *a,
			const struct tdm_conf_user *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!SEQ(a[i].name, b[i].name) ||
		    !SEQ(a[i].secret, b[i].secret))
			return false;
	return true;
}

static bool luns_equal(const struct tdm_conf_lun *a,
		       const struct tdm_conf_lun *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i].lun != b[i].lun || !SEQ(a[i].device, b[i].device) ||
		    a[i].read_only != b[i].read_only)
			return false;
	return true;
}

static bool params_equal(const struct tdm_conf_iscsi_params *a,
			 const struct tdm_conf_iscsi_params *b)
{
	return a->header_digest == b->header_digest &&
	       a->data_digest == b->data_digest &&
	       a->initial_r2t == b->initial_r2t &&
	       a->immediate_data == b->immediate_data &&
	       a->max_recv_data_segment_length ==
		       b->max_recv_data_segment_length &&
	       a->max_xmit_data_segment_length ==
		       b->max_xmit_data_segment_length &&
	       a->max_burst_length == b->max_burst_length &&
	       a->first_burst_length == b->first_burst_length &&
	       a->max_outstanding_r2t == b->max_outstanding_r2t &&
	       a->queued_commands == b->queued_commands &&
	       a->nop_in_interval == b->nop_in_interval &&
	       a->nop_in_timeout == b->nop_in_timeout &&
	       a->rsp_timeout == b->rsp_timeout &&
	       a->nop_in_disabled == b->nop_in_disabled;
}

static bool device_equal(const struct tdm_conf_device *a,
			 const struct tdm_conf_device *b)
{
	return SEQ(a->name, b->name) && a->handler == b->handler &&
	       SEQ(a->filename, b->filename) && a->size == b->size &&
	       a->blocksize == b->blocksize &&
	       a->phys_blocksize == b->phys_blocksize &&
	       a->read_only == b->read_only && a->nv_cache == b->nv_cache &&
	       a->write_through == b->write_through &&
	       a->o_direct == b->o_direct &&
	       a->thin_provisioned == b->thin_provisioned &&
	       a->rotational == b->rotational && a->removable == b->removable &&
	       a->deferred_open == b->deferred_open &&
	       SEQ(a->t10_vend_id, b->t10_vend_id) &&
	       SEQ(a->prod_id, b->prod_id) &&
	       SEQ(a->prod_rev_lvl, b->prod_rev_lvl) &&
	       SEQ(a->t10_dev_id, b->t10_dev_id) && SEQ(a->usn, b->usn) &&
	       SEQ(a->naa_id, b->naa_id) && SEQ(a->eui64_id, b->eui64_id) &&
	       a->set_mask == b->set_mask && SEQ(a->rbd_pool, b->rbd_pool) &&
	       SEQ(a->rbd_image, b->rbd_image) &&
	       SEQ(a->ceph_conf, b->ceph_conf) && SEQ(a->ceph_id, b->ceph_id) &&
	       SEQ(a->ceph_keyring, b->ceph_keyring) &&
	       a->rbd_timeout == b->rbd_timeout;
}

static bool group_equal(const struct tdm_conf_group *a,
			const struct tdm_conf_group *b)
{
	if (!SEQ(a->name, b->name) || a->nluns != b->nluns ||
	    a->ninitiators != b->ninitiators || a->nin_users != b->nin_users)
		return false;
	for (size_t i = 0; i < a->ninitiators; i++)
		if (!SEQ(a->initiators[i], b->initiators[i]))
			return false;
	return luns_equal(a->luns, b->luns, a->nluns) &&
	       users_equal(a->in_users, b->in_users, a->nin_users);
}

static bool target_equal(const struct tdm_conf_target *a,
			 const struct tdm_conf_target *b)
{
	if (!SEQ(a->name, b->name) || a->enabled != b->enabled ||
	    a->driver != b->driver || a->rel_tgt_id != b->rel_tgt_id ||
	    a->refuse_unmatched != b->refuse_unmatched ||
	    a->nin_users != b->nin_users ||
	    a->has_out_user != b->has_out_user ||
	    a->nallowed_portals != b->nallowed_portals ||
	    a->nluns != b->nluns || a->ngroups != b->ngroups ||
	    !SEQ(a->session_name, b->session_name) ||
	    !params_equal(&a->params, &b->params))
		return false;
	if (a->has_out_user && !users_equal(&a->out_user, &b->out_user, 1))
		return false;
	for (size_t i = 0; i < a->nallowed_portals; i++)
		if (!SEQ(a->allowed_portals[i], b->allowed_portals[i]))
			return false;
	for (size_t i = 0; i < a->ngroups; i++)
		if (!group_equal(&a->groups[i], &b->groups[i]))
			return false;
	return users_equal(a->in_users, b->in_users, a->nin_users) &&
	       luns_equal(a->luns, b->luns, a->nluns);
}

static bool srp_equal(const struct tdm_conf_srp *a,
		      const struct tdm_conf_srp *b)
{
	if (a->enabled != b->enabled || a->nportals != b->nportals ||
	    a->max_req_size != b->max_req_size ||
	    a->max_rsp_size != b->max_rsp_size || a->sq_size != b->sq_size)
		return false;
	for (size_t i = 0; i < a->nportals; i++)
		if (!SEQ(a->portals[i], b->portals[i]))
			return false;
	return true;
}

bool tdm_conf_equal(const struct tdm_conf *a, const struct tdm_conf *b)
{
	if (a->ndevices != b->ndevices ||
	    a->iscsi_enabled != b->iscsi_enabled ||
	    a->nportals != b->nportals ||
	    a->max_pending_logins != b->max_pending_logins ||
	    strcmp(a->metrics_listen, b->metrics_listen) != 0 ||
	    a->ndiscovery_in_users != b->ndiscovery_in_users ||
	    a->has_discovery_out_user != b->has_discovery_out_user ||
	    a->ntargets != b->ntargets ||
	    !params_equal(&a->params, &b->params) ||
	    !srp_equal(&a->srp, &b->srp))
		return false;
	for (size_t i = 0; i < TDM_KDRV_COUNT; i++)
		if (a->kdrv[i].disabled != b->kdrv[i].disabled)
			return false;
	for (size_t i = 0; i < a->ndevices; i++)
		if (!device_equal(&a->devices[i], &b->devices[i]))
			return false;
	for (size_t i = 0; i < a->nportals; i++)
		if (!SEQ(a->portals[i], b->portals[i]))
			return false;
	if (!users_equal(a->discovery_in_users, b->discovery_in_users,
			 a->ndiscovery_in_users))
		return false;
	if (a->has_discovery_out_user &&
	    !users_equal(&a->discovery_out_user, &b->discovery_out_user, 1))
		return false;
	for (size_t i = 0; i < a->ntargets; i++)
		if (!target_equal(&a->targets[i], &b->targets[i]))
			return false;
	/* alua/ */
	return a->ndgrps == b->ndgrps &&
	       tdm_alua_conf_equal(a->dgrps, b->dgrps, a->ndgrps);
}

/* ---- wildcards ---- */

static int lower(int ch)
{
	return ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch;
}

/*
 * '*' matches any run, '?' one character, ASCII case ignored. Classic
 * two-pointer backtracking: only the last '*' is ever retried, so the
 * cost is O(strlen(p) * strlen(s)) at worst, never exponential.
 */
static bool wild(const char *p, const char *s)
{
	const char *star = NULL, *resume = NULL;

	while (*s) {
		if (*p == '*') {
			star = p++;
			resume = s;
		} else if (*p &&
			   (*p == '?' || lower((unsigned char)*p) ==
						 lower((unsigned char)*s))) {
			p++;
			s++;
		} else if (star) {
			p = star + 1;
			s = ++resume;
		} else {
			return false;
		}
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

bool tdm_wildcard_match(const char *pattern, const char *name)
{
	if (!pattern || !name)
		return false;
	if (pattern[0] == '!')
		return !wild(pattern + 1, name);
	return wild(pattern, name);
}

const struct tdm_conf_group *
tdm_conf_match_group(const struct tdm_conf_target *t, const char *initiator)
{
	for (size_t i = 0; i < t->ngroups; i++) {
		const struct tdm_conf_group *g = &t->groups[i];
		bool in = false, out = false;

		for (size_t j = 0; j < g->ninitiators && !out; j++) {
			const char *p = g->initiators[j];

			if (p[0] == '!')
				out = wild(p + 1, initiator);
			else
				in = in || wild(p, initiator);
		}
		if (in && !out)
			return g;
	}
	return NULL;
}

/* ---- target drivers ---- */

/* enum tdm_target_driver, as TARGET_DRIVER names them (SCST's names) */
static const char *const driver_names[] = {
	[TDM_DRV_ISCSI] = "iscsi",	[TDM_DRV_SRP] = "ib_srpt",
	[TDM_DRV_LOCAL] = "scst_local", [TDM_DRV_VIO] = "ibmvstgt",
	[TDM_DRV_FC] = "qla2x00t",
};

const char *tdm_target_driver_name(unsigned drv)
{
	if (drv >= sizeof(driver_names) / sizeof(driver_names[0]))
		return "unknown";
	return driver_names[drv];
}

int tdm_target_driver_from_name(const char *name, enum tdm_target_driver *drv)
{
	for (unsigned i = 0; i < sizeof(driver_names) / sizeof(driver_names[0]);
	     i++)
		if (name && strcmp(name, driver_names[i]) == 0) {
			*drv = (enum tdm_target_driver)i;
			return 0;
		}
	/* LIO's name of the VIO server adapter's driver: read, not written */
	if (name && strcmp(name, "ibmvscsis") == 0) {
		*drv = TDM_DRV_VIO;
		return 0;
	}
	return -ENOENT;
}

bool tdm_conf_driver_enabled(const struct tdm_conf *c, unsigned drv)
{
	if (drv == TDM_DRV_ISCSI)
		return c->iscsi_enabled;
	if (drv == TDM_DRV_SRP)
		return c->srp.enabled;
	if (TDM_DRV_IS_KERNEL(drv))
		return !c->kdrv[drv - TDM_DRV_LOCAL].disabled;
	return false;
}

/* ---- names in hex digits: ib_srpt GIDs, unit addresses, WWPNs ---- */

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = lower(ch);
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

/*
 * A name of ndig hex digits, as "0x" and the digits or as groups of grp
 * digits separated by ':', either case; written into out in the colon
 * form, lowercase (ndig + ndig / grp - 1 characters and a NUL).
 */
static int colon_hex_name(const char *in, char *out, size_t ndig, size_t grp)
{
	static const char digits[] = "0123456789abcdef";
	const size_t len = ndig + ndig / grp - 1;
	char hex[32];
	size_t n = 0;

	if (in[0] == '0' && (in[1] == 'x' || in[1] == 'X')) {
		/* "0x" and ndig hex digits */
		for (in += 2; *in && n < ndig; in++)
			if (hexval((unsigned char)*in) < 0)
				return -EINVAL;
			else
				hex[n++] = *in;
		if (*in || n != ndig)
			return -EINVAL;
	} else {
		/* groups of grp hex digits separated by ':' */
		for (size_t i = 0; i < len; i++) {
			if (i % (grp + 1) == grp) {
				if (in[i] != ':')
					return -EINVAL;
			} else if (hexval((unsigned char)in[i]) < 0) {
				return -EINVAL;
			} else {
				hex[n++] = in[i];
			}
		}
		if (in[len] != '\0')
			return -EINVAL;
	}
	for (size_t i = 0, o = 0; i < ndig; i++) {
		if (i && i % grp == 0)
			out[o++] = ':';
		out[o++] = digits[hexval((unsigned char)hex[i])];
	}
	out[len] = '\0';
	return 0;
}

int tdm_srp_target_name(const char *in, char *out, size_t outlen)
{
	if (!in || !out || outlen < TDM_SRP_NAME_LEN + 1)
		return -EINVAL;
	return colon_hex_name(in, out, 32, 4); /* a GID: 16 bytes */
}

/* ---- the kernel fabrics' names ---- */

const char *tdm_conf_session_name(const struct tdm_conf_target *t)
{
	return t->session_name[0] ? t->session_name : TDM_LOCAL_DEF_SESSION;
}

int tdm_vio_target_name(const char *in, char *out, size_t outlen)
{
	size_t n;

	if (!in || !out || outlen < TDM_VIO_NAME_LEN + 1)
		return -EINVAL;
	if (in[0] == '0' && (in[1] == 'x' || in[1] == 'X'))
		in += 2;
	n = strlen(in);
	if (n < 1 || n > TDM_VIO_NAME_LEN)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (hexval((unsigned char)in[i]) < 0)
			return -EINVAL;
	/* the vio bus names a device "%x" of its unit address */
	while (n > 1 && in[0] == '0') {
		in++;
		n--;
	}
	for (size_t i = 0; i < n; i++)
		out[i] = (char)lower((unsigned char)in[i]);
	out[n] = '\0';
	return 0;
}

int tdm_fc_port_name(const char *in, char *out, size_t outlen)
{
	if (!in || !out || outlen < TDM_FC_NAME_LEN + 1)
		return -EINVAL;
	return colon_hex_name(in, out, 16, 2); /* a WWPN: 8 bytes */
}
