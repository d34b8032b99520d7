/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * conf_validate.c - tdm_conf_validate(): the checks of a whole
 * configuration that no single statement can make (cross references,
 * duplicate names and rel_tgt_id used twice across the target drivers,
 * the names and attributes of ib_srpt's and the kernel fabrics'
 * targets), on parsed text or on a
 * configuration built in memory. Names are sorted once, so a file with
 * many devices and targets is checked in O(n log n).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alua/alua.h" /* DEVICE_GROUP cross references */
#include "conf/conf_lex.h"
#include "tandem/config.h"

struct key {
	const char *s;
	size_t idx;
};

static int key_cmp(const void *a, const void *b)
{
	const struct key *x = a, *y = b;
	int d = strcmp(x->s, y->s);

	if (d)
		return d;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int key_find(const void *k, const void *e)
{
	return strcmp(k, ((const struct key *)e)->s);
}

/*
 * Sort the names of n elements into *out (to free): elements of stride
 * bytes, each with its name first (at most max bytes) and its int line at
 * line_off. A name that is not terminated is an error on line, one given
 * twice an error on the line of the second: "where: duplicate KW name
 * (first at line N)", for the earliest such second.
 */
static int sort_names(const void *base, size_t n, size_t stride, size_t max,
		      size_t line_off, const char *kw, const char *where,
		      int line, const char *name, char *err, size_t errlen,
		      struct key **out)
{
	const char *b = base, *sep = *where ? ": " : "";
	size_t at = n, first = 0;
	struct key *k;
	int l1, l2;

	*out = NULL;
	if (n == 0)
		return 0;
	k = calloc(n, sizeof(*k));
	if (!k)
		return tdm__conf_err(err, errlen, name, 0, "out of memory");
	*out = k;
	for (size_t i = 0; i < n; i++) {
		k[i].s = b + i * stride;
		if (strnlen(k[i].s, max) == max)
			return tdm__conf_err(err, errlen, name, line,
					     "%s%sa %s name is not terminated",
					     where, sep, kw);
		k[i].idx = i;
	}
	qsort(k, n, sizeof(*k), key_cmp);
	for (size_t i = 1, run = 0; i < n; i++) {
		if (strcmp(k[i - 1].s, k[i].s) != 0) {
			run = i; /* a run of equal names starts here */
			continue;
		}
		if (k[i].idx < at) {
			at = k[i].idx;
			first = k[run].idx;
		}
	}
	if (at == n)
		return 0;
	memcpy(&l1, b + first * stride + line_off, sizeof(l1));
	memcpy(&l2, b + at * stride + line_off, sizeof(l2));
	return tdm__conf_err(err, errlen, name, l2,
			     "%s%sduplicate %s %s (first at line %d)", where,
			     sep, kw, b + at * stride, l1);
}

static int check_luns(const struct tdm_conf *c, const char *name,
		      const struct key *devs, const char *where,
		      const struct tdm_conf_lun *luns, size_t n, char *err,
		      size_t errlen)
{
	uint8_t map[(TDM_LUN_MAX + 1) / 8];

	memset(map, 0, sizeof(map));
	for (size_t i = 0; i < n; i++) {
		const struct tdm_conf_lun *l = &luns[i];

		if (l->lun > TDM_LUN_MAX)
			return tdm__conf_err(
				err, errlen, name, l->line,
				"%s: LUN number must be 0..%d, got %llu", where,
				TDM_LUN_MAX, (unsigned long long)l->lun);
		if (map[l->lun / 8] & (1u << (l->lun % 8))) {
			int first = 0;

			for (size_t j = 0; j < i; j++)
				if (luns[j].lun == l->lun)
					first = luns[j].line;
			return tdm__conf_err(
				err, errlen, name, l->line,
				"%s: duplicate LUN %llu (first at line %d)",
				where, (unsigned long long)l->lun, first);
		}
		map[l->lun / 8] |= (uint8_t)(1u << (l->lun % 8));
		if (strnlen(l->device, sizeof(l->device)) ==
			    sizeof(l->device) ||
		    !c->ndevices ||
		    !bsearch(l->device, devs, c->ndevices, sizeof(*devs),
			     key_find))
			return tdm__conf_err(
				err, errlen, name, l->line,
				"%s: LUN %llu: unknown device '%s'", where,
				(unsigned long long)l->lun,
				tdm__conf_show(l->device));
	}
	return 0;
}

static int check_params(const struct tdm_conf_iscsi_params *p,
			const struct tdm_conf_iscsi_params *dflt,
			const char *name, int line, const char *where,
			char *err, size_t errlen)
{
	uint32_t first = p->first_burst_length, max = p->max_burst_length;

	if (dflt) {
		first = first ? first : dflt->first_burst_length;
		max = max ? max : dflt->max_burst_length;
	}
	/* RFC 7143 13.14: FirstBurstLength <= MaxBurstLength */
	if (first && max && first > max)
		return tdm__conf_err(err, errlen, name, line,
				     "%s: FirstBurstLength %u is greater than "
				     "MaxBurstLength %u",
				     where, first, max);
	if (p->nop_in_disabled && p->nop_in_interval)
		return tdm__conf_err(
			err, errlen, name, line,
			"%s: NopInInterval is both disabled and %u", where,
			p->nop_in_interval);
	return 0;
}

/* Printable ASCII without blanks, 1 byte at least (the parser's words) */
static bool is_word(const char *s, size_t size)
{
	size_t n = strnlen(s, size);

	if (n == 0 || n == size)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

/* Is name in the form fn keeps (tdm_srp_target_name(), ...)? */
static bool kept(int (*fn)(const char *, char *, size_t), const char *name)
{
	char norm[TDM_SRP_NAME_LEN + 1];

	return fn(name, norm, sizeof(norm)) == 0 && strcmp(norm, name) == 0;
}

/* A qla2x00t target's GROUPs name initiator WWPNs, as it keeps them */
static int check_fc_initiators(const struct tdm_conf_target *t,
			       const char *name, const char *where, char *err,
			       size_t errlen)
{
	for (size_t i = 0; i < t->ngroups; i++) {
		const struct tdm_conf_group *g = &t->groups[i];

		for (size_t j = 0; j < g->ninitiators; j++)
			if (!kept(tdm_fc_port_name, g->initiators[j]))
				return tdm__conf_err(
					err, errlen, name, g->line,
					"%s: GROUP %s: INITIATOR %s is not a "
					"WWPN, 8 groups of 2 lowercase hex "
					"digits separated by ':'",
					where, g->name,
					tdm__conf_show(g->initiators[j]));
	}
	return 0;
}

/*
 * A target's driver; the name an ib_srpt, ibmvstgt or qla2x00t target
 * keeps (a port GID, a unit address, a WWPN); nothing of iSCSI's outside
 * iscsi; session_name only in scst_local.
 */
static int check_driver_target(const struct tdm_conf_target *t,
			       const char *name, const char *where, char *err,
			       size_t errlen)
{
	static const struct {
		int (*fn)(const char *, char *, size_t);
		const char *what;
	} names[] = {
		[TDM_DRV_SRP] = {tdm_srp_target_name,
				 "an ib_srpt target is named by a port GID, 8 "
				 "groups of 4 lowercase hex digits separated "
				 "by ':'"},
		[TDM_DRV_VIO] = {tdm_vio_target_name,
				 "an ibmvstgt target is named by a unit "
				 "address, 1 to 8 lowercase hex digits without "
				 "0x or leading zeros"},
		[TDM_DRV_FC] = {tdm_fc_port_name,
				"a qla2x00t target is named by a WWPN, 8 "
				"groups of 2 lowercase hex digits separated "
				"by ':'"},
	};
	const char *dn = tdm_target_driver_name(t->driver);
	bool groups_users = false;

	if (t->driver > TDM_DRV_FC)
		return tdm__conf_err(err, errlen, name, t->line,
				     "%s: bad target driver %u", where,
				     t->driver);
	if (t->session_name[0] && t->driver != TDM_DRV_LOCAL)
		return tdm__conf_err(err, errlen, name, t->line,
				     "%s: session_name is a scst_local "
				     "attribute, not %s %s one",
				     where, dn[0] == 'i' ? "an" : "a", dn);
	if (t->driver == TDM_DRV_ISCSI)
		return 0;
	if (names[t->driver].fn && !kept(names[t->driver].fn, t->name))
		return tdm__conf_err(err, errlen, name, t->line, "%s: %s",
				     where, names[t->driver].what);
	if (t->driver == TDM_DRV_LOCAL &&
	    (!is_word(t->name, sizeof(t->name)) ||
	     (t->session_name[0] &&
	      !is_word(t->session_name, sizeof(t->session_name)))))
		return tdm__conf_err(err, errlen, name, t->line,
				     "%s: a scst_local target's name and "
				     "session_name are words (printable "
				     "ASCII without blanks)",
				     where);
	for (size_t i = 0; i < t->ngroups; i++)
		groups_users = groups_users || t->groups[i].nin_users;
	if (t->nin_users || t->has_out_user || t->nallowed_portals ||
	    groups_users)
		return tdm__conf_err(err, errlen, name, t->line,
				     "%s: CHAP users and allowed_portal are "
				     "not %s attributes",
				     where, dn);
	if (TDM_DRV_IS_KERNEL(t->driver) && t->refuse_unmatched)
		return tdm__conf_err(err, errlen, name, t->line,
				     "%s: refuse_unmatched_initiators is not "
				     "%s %s attribute",
				     where, dn[0] == 'i' ? "an" : "a", dn);
	if (t->driver == TDM_DRV_FC)
		return check_fc_initiators(t, name, where, err, errlen);
	return 0;
}

/* TARGET_DRIVER ib_srpt's numbers: 0 (the default) or in range. */
static int check_srp(const struct tdm_conf_srp *s, const char *name, char *err,
		     size_t errlen)
{
	const struct {
		const char *what;
		uint32_t v, min, max;
	} n[] = {
		{"srp_max_req_size", s->max_req_size, TDM_SRP_MIN_MAX_REQ,
		 TDM_SRP_MAX_MAX_REQ},
		{"srp_max_rsp_size", s->max_rsp_size, TDM_SRP_MIN_MAX_RSP,
		 TDM_SRP_MAX_MAX_RSP},
		{"srp_sq_size", s->sq_size, TDM_SRP_MIN_SQ, TDM_SRP_MAX_SQ},
	};

	for (size_t i = 0; i < sizeof(n) / sizeof(n[0]); i++)
		if (n[i].v && (n[i].v < n[i].min || n[i].v > n[i].max))
			return tdm__conf_err(
				err, errlen, name, s->driver_line,
				"TARGET_DRIVER ib_srpt: %s must be a number "
				"in %u..%u, got %u",
				n[i].what, n[i].min, n[i].max, n[i].v);
	return 0;
}

static int check_target(const struct tdm_conf *c,
			const struct tdm_conf_target *t, const struct key *devs,
			const char *name, char *err, size_t errlen)
{
	char where[TDM_NAME_MAX + 80];
	struct key *k;
	int r;

	snprintf(where, sizeof(where), "TARGET %.*s", TDM_NAME_MAX - 1,
		 t->name);
	r = check_driver_target(t, name, where, err, errlen);
	if (r)
		return r;
	r = check_params(&t->params, &c->params, name, t->line, where, err,
			 errlen);
	if (!r)
		r = check_luns(c, name, devs, where, t->luns, t->nluns, err,
			       errlen);
	if (r)
		return r;
	r = sort_names(t->groups, t->ngroups, sizeof(*t->groups),
		       sizeof(t->groups->name),
		       offsetof(struct tdm_conf_group, line), "GROUP", where,
		       t->line, name, err, errlen, &k);
	free(k);
	if (r)
		return r;
	for (size_t i = 0; i < t->ngroups; i++) {
		const struct tdm_conf_group *g = &t->groups[i];

		snprintf(where, sizeof(where), "TARGET %.*s: GROUP %.*s",
			 TDM_NAME_MAX - 1, t->name, (int)sizeof(g->name) - 1,
			 g->name);
		r = check_luns(c, name, devs, where, g->luns, g->nluns, err,
			       errlen);
		if (r)
			return r;
	}
	return 0;
}

/* The devices: names unique (sorted into *devs), fields in range. */
static int check_devices(const struct tdm_conf *c, const char *name, char *err,
			 size_t errlen, struct key **devs)
{
	int r = sort_names(c->devices, c->ndevices, sizeof(*c->devices),
			   sizeof(c->devices->name),
			   offsetof(struct tdm_conf_device, line), "DEVICE", "",
			   0, name, err, errlen, devs);

	for (size_t i = 0; i < c->ndevices && !r; i++) {
		const struct tdm_conf_device *d = &c->devices[i];

		if (d->name[0] == '\0' ||
		    (d->blocksize != 512 && d->blocksize != 4096 &&
		     !(d->handler == TDM_HANDLER_CDROM &&
		       d->blocksize == 2048)) ||
		    (d->phys_blocksize &&
		     ((d->phys_blocksize & (d->phys_blocksize - 1)) ||
		      d->phys_blocksize <= d->blocksize ||
		      d->phys_blocksize > (d->blocksize << 15))) ||
		    (unsigned)d->handler >= TDM__HANDLER_COUNT)
			r = tdm__conf_err(
				err, errlen, name, d->line,
				"DEVICE '%s': empty name, bad handler, "
				"blocksize %u or physical_blocksize",
				d->name, d->blocksize);
	}
	return r;
}

int tdm_conf_validate(const struct tdm_conf *c, const char *name, char *err,
		      size_t errlen)
{
	struct key *devs = NULL, *tg = NULL;
	int r;

	if (!name)
		name = "<config>";
	r = check_devices(c, name, err, errlen, &devs);
	if (!r)
		r = check_params(&c->params, NULL, name, 0,
				 "TARGET_DRIVER iscsi", err, errlen);
	if (!r)
		r = check_srp(&c->srp, name, err, errlen);
	if (r)
		goto out;
	r = sort_names(c->targets, c->ntargets, sizeof(*c->targets),
		       sizeof(c->targets->name),
		       offsetof(struct tdm_conf_target, line), "TARGET", "", 0,
		       name, err, errlen, &tg);
	if (r)
		goto out;
	for (size_t i = 0; i < c->ntargets; i++) {
		const struct tdm_conf_target *t = &c->targets[i];

		r = check_target(c, t, devs, name, err, errlen);
		if (r)
			goto out;
	}
	/* relative target port ids are unique (SPC-4 relative target port
	 * designator) */
	for (size_t i = 0; i < c->ntargets && !r; i++) {
		const struct tdm_conf_target *t = &c->targets[i];

		for (size_t j = 0; j < i && t->rel_tgt_id; j++)
			if (c->targets[j].rel_tgt_id == t->rel_tgt_id) {
				r = tdm__conf_err(
					err, errlen, name, t->line,
					"TARGET %s: rel_tgt_id %u is already "
					"used by TARGET %s (line %d)",
					t->name, t->rel_tgt_id,
					c->targets[j].name, c->targets[j].line);
				break;
			}
	}
	/* alua/: DEVICE_GROUP cross references */
	if (!r)
		r = tdm_alua_conf_validate(c, name, err, errlen);
out:
	free(devs);
	free(tg);
	return r;
}
