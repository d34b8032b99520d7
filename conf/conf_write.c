/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * conf_write.c - write struct tdm_conf as canonical scst.conf text: tabs
 * for indentation, one blank line between blocks, values quoted only
 * when they must be, and only the attributes that were given or differ
 * from the handler's default. Parsing the output gives the same
 * configuration back, and writing that gives the same bytes.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alua/alua.h" /* DEVICE_GROUP states */
#include "tandem/config.h"

struct buf {
	char *p;
	size_t len, cap;
	int err;
};

static void reserve(struct buf *b, size_t more)
{
	size_t cap;
	char *q;

	if (b->err || b->len + more < b->cap)
		return;
	cap = b->cap ? b->cap : 1024;
	while (cap <= b->len + more) {
		if (cap > SIZE_MAX / 2) {
			b->err = -ENOMEM;
			return;
		}
		cap *= 2;
	}
	q = realloc(b->p, cap);
	if (!q) {
		b->err = -ENOMEM;
		return;
	}
	b->p = q;
	b->cap = cap;
}

static void put(struct buf *b, const char *s, size_t n)
{
	reserve(b, n);
	if (b->err)
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* A string literal */
#define PUTS(b, lit) put((b), (lit), sizeof(lit) - 1)

static void bprintf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void bprintf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->err = -EINVAL;
		return;
	}
	reserve(b, (size_t)n);
	if (b->err)
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

static void indent(struct buf *b, int depth)
{
	put(b, "\t\t\t\t", (size_t)depth);
}

/*
 * A value as the lexer reads it back: bare when it is a plain word, else
 * in double quotes with '"' and '\' escaped. max bounds the field.
 */
static void value(struct buf *b, const char *v, size_t max)
{
	size_t n = strnlen(v, max);
	bool quote = n == 0;

	for (size_t i = 0; i < n && !quote; i++)
		quote = strchr(" \t#\"\\{}", v[i]) != NULL;
	if (!quote) {
		put(b, v, n);
		return;
	}
	put(b, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		if (v[i] == '"' || v[i] == '\\')
			PUTS(b, "\\");
		put(b, &v[i], 1);
	}
	put(b, "\"", 1);
}

#define FIELD(b, v) value((b), (v), sizeof(v))

static void attr_str(struct buf *b, int depth, const char *name, const char *v,
		     size_t max)
{
	indent(b, depth);
	bprintf(b, "%s ", name);
	value(b, v, max);
	PUTS(b, "\n");
}

static void attr_num(struct buf *b, int depth, const char *name,
		     unsigned long long v)
{
	indent(b, depth);
	bprintf(b, "%s %llu\n", name, v);
}

static void user(struct buf *b, int depth, const char *key,
		 const struct tdm_conf_user *u)
{
	char both[TDM_NAME_MAX + TDM_SECRET_MAX + 1];

	snprintf(both, sizeof(both), "%.*s %.*s", TDM_NAME_MAX - 1, u->name,
		 TDM_SECRET_MAX - 1, u->secret);
	attr_str(b, depth, key, both, sizeof(both));
}

static const char *const digest_names[] = {"None", "CRC32C", "CRC32C,None"};

static void params(struct buf *b, int depth,
		   const struct tdm_conf_iscsi_params *p)
{
	if (p->header_digest >= 0 && p->header_digest <= 2)
		attr_str(b, depth, "HeaderDigest",
			 digest_names[p->header_digest], 16);
	if (p->data_digest >= 0 && p->data_digest <= 2)
		attr_str(b, depth, "DataDigest", digest_names[p->data_digest],
			 16);
	if (p->initial_r2t >= 0)
		attr_str(b, depth, "InitialR2T", p->initial_r2t ? "Yes" : "No",
			 4);
	if (p->immediate_data >= 0)
		attr_str(b, depth, "ImmediateData",
			 p->immediate_data ? "Yes" : "No", 4);
	if (p->max_recv_data_segment_length)
		attr_num(b, depth, "MaxRecvDataSegmentLength",
			 p->max_recv_data_segment_length);
	if (p->max_xmit_data_segment_length)
		attr_num(b, depth, "MaxXmitDataSegmentLength",
			 p->max_xmit_data_segment_length);
	if (p->max_burst_length)
		attr_num(b, depth, "MaxBurstLength", p->max_burst_length);
	if (p->first_burst_length)
		attr_num(b, depth, "FirstBurstLength", p->first_burst_length);
	if (p->max_outstanding_r2t)
		attr_num(b, depth, "MaxOutstandingR2T", p->max_outstanding_r2t);
	if (p->queued_commands)
		attr_num(b, depth, "QueuedCommands", p->queued_commands);
	if (p->nop_in_disabled)
		attr_num(b, depth, "NopInInterval", 0);
	else if (p->nop_in_interval)
		attr_num(b, depth, "NopInInterval", p->nop_in_interval);
	if (p->nop_in_timeout)
		attr_num(b, depth, "NopInTimeout", p->nop_in_timeout);
	if (p->rsp_timeout)
		attr_num(b, depth, "RspTimeout", p->rsp_timeout);
}

static void device(struct buf *b, const struct tdm_conf_device *d)
{
	unsigned m = d->set_mask;
	bool dflt_rot = d->handler != TDM_HANDLER_RAM;

	indent(b, 1);
	PUTS(b, "DEVICE ");
	FIELD(b, d->name);
	PUTS(b, " {\n");
	if (d->filename[0])
		attr_str(b, 2, "filename", d->filename, sizeof(d->filename));
	if ((m & TDM_DA_SIZE) || d->size)
		attr_num(b, 2, "size", d->size);
	/* vcdrom: 2048 is its default (and only) block size */
	if ((m & TDM_DA_BLOCKSIZE) ||
	    d->blocksize != (d->handler == TDM_HANDLER_CDROM ? 2048u : 512u))
		attr_num(b, 2, "blocksize", d->blocksize);
	if (d->phys_blocksize)
		attr_num(b, 2, "physical_blocksize", d->phys_blocksize);
	if (d->read_only)
		attr_num(b, 2, "read_only", 1);
	if (d->nv_cache)
		attr_num(b, 2, "nv_cache", 1);
	if (d->write_through)
		attr_num(b, 2, "write_through", 1);
	if (d->o_direct)
		attr_num(b, 2, "o_direct", 1);
	if (d->thin_provisioned)
		attr_num(b, 2, "thin_provisioned", 1);
	if ((m & TDM_DA_ROTATIONAL) || d->rotational != dflt_rot)
		attr_num(b, 2, "rotational", d->rotational);
	if (d->removable)
		attr_num(b, 2, "removable", 1);
	if (d->deferred_open)
		attr_num(b, 2, "deferred_open", 1);
	if (d->handler == TDM_HANDLER_RBD) {
		attr_str(b, 2, "pool", d->rbd_pool, sizeof(d->rbd_pool));
		attr_str(b, 2, "image", d->rbd_image, sizeof(d->rbd_image));
		if (strcmp(d->ceph_conf, TDM_RBD_DEFAULT_CONF))
			attr_str(b, 2, "ceph_conf", d->ceph_conf,
				 sizeof(d->ceph_conf));
		if (strcmp(d->ceph_id, TDM_RBD_DEFAULT_ID))
			attr_str(b, 2, "ceph_id", d->ceph_id,
				 sizeof(d->ceph_id));
		if (d->ceph_keyring[0])
			attr_str(b, 2, "ceph_keyring", d->ceph_keyring,
				 sizeof(d->ceph_keyring));
		if (d->rbd_timeout != TDM_RBD_DEFAULT_TIMEOUT)
			attr_num(b, 2, "rbd_timeout", d->rbd_timeout);
	}
	if ((m & TDM_DA_VEND_ID) || d->t10_vend_id[0])
		attr_str(b, 2, "t10_vend_id", d->t10_vend_id,
			 sizeof(d->t10_vend_id));
	if ((m & TDM_DA_PROD_ID) || d->prod_id[0])
		attr_str(b, 2, "prod_id", d->prod_id, sizeof(d->prod_id));
	if ((m & TDM_DA_PROD_REV) || d->prod_rev_lvl[0])
		attr_str(b, 2, "prod_rev_lvl", d->prod_rev_lvl,
			 sizeof(d->prod_rev_lvl));
	if ((m & TDM_DA_T10_DEV_ID) || d->t10_dev_id[0])
		attr_str(b, 2, "t10_dev_id", d->t10_dev_id,
			 sizeof(d->t10_dev_id));
	if ((m & TDM_DA_USN) || d->usn[0])
		attr_str(b, 2, "usn", d->usn, sizeof(d->usn));
	if ((m & TDM_DA_NAA_ID) || d->naa_id[0])
		attr_str(b, 2, "naa_id", d->naa_id, sizeof(d->naa_id));
	if ((m & TDM_DA_EUI64_ID) || d->eui64_id[0])
		attr_str(b, 2, "eui64_id", d->eui64_id, sizeof(d->eui64_id));
	indent(b, 1);
	PUTS(b, "}\n");
}

static void luns(struct buf *b, int depth, const struct tdm_conf_lun *l,
		 size_t n)
{
	for (size_t i = 0; i < n; i++) {
		indent(b, depth);
		bprintf(b, "LUN %llu ", (unsigned long long)l[i].lun);
		FIELD(b, l[i].device);
		if (!l[i].read_only) {
			PUTS(b, "\n");
			continue;
		}
		PUTS(b, " {\n");
		attr_num(b, depth + 1, "read_only", 1);
		indent(b, depth);
		PUTS(b, "}\n");
	}
}

static void group(struct buf *b, const struct tdm_conf_group *g)
{
	PUTS(b, "\n");
	indent(b, 2);
	PUTS(b, "GROUP ");
	FIELD(b, g->name);
	PUTS(b, " {\n");
	luns(b, 3, g->luns, g->nluns);
	if (g->nluns && g->ninitiators)
		PUTS(b, "\n");
	for (size_t i = 0; i < g->ninitiators; i++)
		attr_str(b, 3, "INITIATOR", g->initiators[i],
			 sizeof(*g->initiators));
	for (size_t i = 0; i < g->nin_users; i++)
		user(b, 3, "IncomingUser", &g->in_users[i]);
	indent(b, 2);
	PUTS(b, "}\n");
}

static void target(struct buf *b, const struct tdm_conf_target *t)
{
	PUTS(b, "\n");
	indent(b, 1);
	PUTS(b, "TARGET ");
	FIELD(b, t->name);
	PUTS(b, " {\n");
	attr_num(b, 2, "enabled", t->enabled);
	if (t->rel_tgt_id)
		attr_num(b, 2, "rel_tgt_id", t->rel_tgt_id);
	if (t->session_name[0]) /* scst_local's, when given */
		attr_str(b, 2, "session_name", t->session_name,
			 sizeof(t->session_name));
	if (t->refuse_unmatched)
		attr_num(b, 2, "refuse_unmatched_initiators", 1);
	for (size_t i = 0; i < t->nin_users; i++)
		user(b, 2, "IncomingUser", &t->in_users[i]);
	if (t->has_out_user)
		user(b, 2, "OutgoingUser", &t->out_user);
	for (size_t i = 0; i < t->nallowed_portals; i++)
		attr_str(b, 2, "allowed_portal", t->allowed_portals[i],
			 sizeof(*t->allowed_portals));
	params(b, 2, &t->params);
	if (t->nluns)
		PUTS(b, "\n");
	luns(b, 2, t->luns, t->nluns);
	for (size_t i = 0; i < t->ngroups; i++)
		group(b, &t->groups[i]);
	indent(b, 1);
	PUTS(b, "}\n");
}

static bool params_given(const struct tdm_conf_iscsi_params *p)
{
	return p->header_digest >= 0 || p->data_digest >= 0 ||
	       p->initial_r2t >= 0 || p->immediate_data >= 0 ||
	       p->max_recv_data_segment_length ||
	       p->max_xmit_data_segment_length || p->max_burst_length ||
	       p->first_burst_length || p->max_outstanding_r2t ||
	       p->queued_commands || p->nop_in_interval || p->nop_in_timeout ||
	       p->rsp_timeout || p->nop_in_disabled;
}

/* alua/: DEVICE_GROUP blocks (alua/README.md); note: a comment after a
 * target group's state (tdm_conf_write_noted) */
static void dgrp(struct buf *b, const struct tdm_conf_dgrp *d,
		 tdm_conf_tgrp_note_fn note, void *arg)
{
	PUTS(b, "\nDEVICE_GROUP ");
	FIELD(b, d->name);
	PUTS(b, " {\n");
	for (size_t i = 0; i < d->ndevices; i++)
		attr_str(b, 1, "DEVICE", d->devices[i].name,
			 sizeof(d->devices[i].name));
	for (size_t i = 0; i < d->ntgrps; i++) {
		const struct tdm_conf_tgrp *g = &d->tgrps[i];
		const char *st = tdm_alua_state_name(g->state);

		PUTS(b, "\n\tTARGET_GROUP ");
		FIELD(b, g->name);
		PUTS(b, " {\n");
		attr_num(b, 2, "group_id", g->group_id);
		if (g->preferred)
			attr_num(b, 2, "preferred", 1);
		attr_str(b, 2, "state", st ? st : "active", 16);
		if (note) {
			char text[256] = "";

			note(arg, d, g, text, sizeof(text));
			if (text[0] && !strpbrk(text, "\r\n")) {
				indent(b, 2);
				PUTS(b, "# ");
				put(b, text, strlen(text));
				PUTS(b, "\n");
			}
		}
		if (g->nports)
			PUTS(b, "\n");
		for (size_t j = 0; j < g->nports; j++) {
			const struct tdm_conf_tg_port *p = &g->ports[j];

			indent(b, 2);
			PUTS(b, "TARGET ");
			FIELD(b, p->name);
			if (!p->rel_tgt_id) {
				PUTS(b, "\n");
				continue;
			}
			PUTS(b, " {\n");
			attr_num(b, 3, "rel_tgt_id", p->rel_tgt_id);
			indent(b, 2);
			PUTS(b, "}\n");
		}
		PUTS(b, "\t}\n");
	}
	PUTS(b, "}\n");
}

/* How many targets are under driver drv. */
static size_t targets_of(const struct tdm_conf *c, enum tdm_target_driver drv)
{
	size_t n = 0;

	for (size_t i = 0; i < c->ntargets; i++)
		n += c->targets[i].driver == drv;
	return n;
}

/* TARGET_DRIVER ib_srpt, when anything of it is set or it has targets */
static void srp_driver(struct buf *b, const struct tdm_conf *c)
{
	const struct tdm_conf_srp *s = &c->srp;

	if (!s->enabled && !s->nportals && !s->max_req_size &&
	    !s->max_rsp_size && !s->sq_size && !targets_of(c, TDM_DRV_SRP))
		return;
	PUTS(b, "\nTARGET_DRIVER ib_srpt {\n");
	attr_num(b, 1, "enabled", s->enabled);
	for (size_t i = 0; i < s->nportals; i++)
		attr_str(b, 1, "portal", s->portals[i], sizeof(*s->portals));
	if (s->max_req_size)
		attr_num(b, 1, "srp_max_req_size", s->max_req_size);
	if (s->max_rsp_size)
		attr_num(b, 1, "srp_max_rsp_size", s->max_rsp_size);
	if (s->sq_size)
		attr_num(b, 1, "srp_sq_size", s->sq_size);
	for (size_t i = 0; i < c->ntargets; i++)
		if (c->targets[i].driver == TDM_DRV_SRP)
			target(b, &c->targets[i]);
	PUTS(b, "}\n");
}

/* TARGET_DRIVER scst_local, ibmvstgt, qla2x00t: when disabled or with
 * targets */
static void kernel_driver(struct buf *b, const struct tdm_conf *c,
			  enum tdm_target_driver drv)
{
	const struct tdm_conf_kdrv *k = &c->kdrv[drv - TDM_DRV_LOCAL];

	if (!k->disabled && !targets_of(c, drv))
		return;
	bprintf(b, "\nTARGET_DRIVER %s {\n", tdm_target_driver_name(drv));
	attr_num(b, 1, "enabled", !k->disabled);
	for (size_t i = 0; i < c->ntargets; i++)
		if (c->targets[i].driver == drv)
			target(b, &c->targets[i]);
	PUTS(b, "}\n");
}

int tdm_conf_write(const struct tdm_conf *c, char **out, size_t *outlen)
{
	return tdm_conf_write_noted(c, NULL, NULL, out, outlen);
}

int tdm_conf_write_noted(const struct tdm_conf *c, tdm_conf_tgrp_note_fn note,
			 void *arg, char **out, size_t *outlen)
{
	struct buf b = {0};

	*out = NULL;
	if (outlen)
		*outlen = 0;
	PUTS(&b,
	     "# tandem configuration (scst.conf syntax), see tandem.conf(5)\n");
	if (c->metrics_listen[0])
		attr_str(&b, 0, "metrics_listen", c->metrics_listen,
			 sizeof(c->metrics_listen));

	/* one HANDLER block per run of devices with the same handler, so
	 * that the order of the devices is kept */
	for (size_t i = 0; i < c->ndevices; i++) {
		const struct tdm_conf_device *d = &c->devices[i];

		if (i == 0 || d->handler != c->devices[i - 1].handler)
			bprintf(&b, "\nHANDLER %s {\n",
				tdm_handler_name(d->handler));
		device(&b, d);
		if (i + 1 == c->ndevices ||
		    c->devices[i + 1].handler != d->handler)
			PUTS(&b, "}\n");
	}

	if (c->iscsi_enabled || c->nportals || c->ndiscovery_in_users ||
	    c->has_discovery_out_user || targets_of(c, TDM_DRV_ISCSI) ||
	    params_given(&c->params) || c->max_pending_logins) {
		PUTS(&b, "\nTARGET_DRIVER iscsi {\n");
		attr_num(&b, 1, "enabled", c->iscsi_enabled);
		for (size_t i = 0; i < c->nportals; i++)
			attr_str(&b, 1, "portal", c->portals[i],
				 sizeof(*c->portals));
		if (c->max_pending_logins)
			attr_num(&b, 1, "max_pending_logins",
				 c->max_pending_logins);
		for (size_t i = 0; i < c->ndiscovery_in_users; i++)
			user(&b, 1, "IncomingUser", &c->discovery_in_users[i]);
		if (c->has_discovery_out_user)
			user(&b, 1, "OutgoingUser", &c->discovery_out_user);
		params(&b, 1, &c->params);
		for (size_t i = 0; i < c->ntargets; i++)
			if (c->targets[i].driver == TDM_DRV_ISCSI)
				target(&b, &c->targets[i]);
		PUTS(&b, "}\n");
	}
	srp_driver(&b, c);
	for (unsigned d = TDM_DRV_LOCAL; d <= TDM_DRV_FC; d++)
		kernel_driver(&b, c, (enum tdm_target_driver)d);
	for (size_t i = 0; i < c->ndgrps; i++) /* alua/ */
		dgrp(&b, &c->dgrps[i], note, arg);

	if (b.err) {
		free(b.p);
		return b.err;
	}
	*out = b.p;
	if (outlen)
		*outlen = b.len;
	return 0;
}
