/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * conf_edit_ops.c - tandemctl's edit commands as data (conf_edit_ops.h):
 * the dispatch over conf/conf_edit.c, the shared/node-local split, and
 * the binary encoding. tandemctl applies an edit to the configuration it
 * fetched; tandemd applies an ordered one to its running configuration;
 * both through tdm_edit_apply().
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/codec.h"
#include "conf/conf_edit_ops.h"

#define MAGIC "TDME"

enum op {
	OP_OPEN_DEV,
	OP_CLOSE_DEV,
	OP_SET_DEV_ATTR,
	OP_SET_DRV_ATTR,
	OP_ADD_DRV_ATTR,
	OP_REM_DRV_ATTR,
	OP_ADD_TARGET,
	OP_REM_TARGET,
	OP_SET_TGT_ATTR,
	OP_ADD_TGT_ATTR,
	OP_REM_TGT_ATTR,
	OP_ENABLE_TARGET,
	OP_DISABLE_TARGET,
	OP_ADD_LUN,
	OP_REM_LUN,
	OP_ADD_GROUP,
	OP_REM_GROUP,
	OP_SET_GRP_ATTR,
	OP_ADD_GRP_ATTR,
	OP_REM_GRP_ATTR,
	OP_ADD_INIT,
	OP_REM_INIT,
	OP_SET_TGRP_ATTR,
};

/* how an edit is classified (tdm_edit_scope) */
enum cls {
	C_LOCAL,  /* always node-local */
	C_SHARED, /* always shared */
	C_DEV,	  /* by attribute: identity keys shared */
	C_TGT,	  /* by attribute: rel_tgt_id, allowed_portal local */
};

#define M_H TDM_EDIT_M_HANDLER
#define M_A TDM_EDIT_M_ATTRS
#define M_DR TDM_EDIT_M_DRIVER
#define M_T TDM_EDIT_M_TARGET
#define M_G TDM_EDIT_M_GROUP
#define M_DEV TDM_EDIT_M_DEVICE
#define M_DG TDM_EDIT_M_DEV_GROUP

static const struct opdesc {
	const char *name;
	enum op op;
	unsigned need, allow;
	enum cls cls;
} ops[] = {
	{"open_dev", OP_OPEN_DEV, M_H, M_A, C_LOCAL},
	{"close_dev", OP_CLOSE_DEV, 0, M_H, C_LOCAL},
	{"set_dev_attr", OP_SET_DEV_ATTR, M_A, M_H, C_DEV},
	{"set_drv_attr", OP_SET_DRV_ATTR, M_A, 0, C_LOCAL},
	{"add_drv_attr", OP_ADD_DRV_ATTR, M_A, 0, C_LOCAL},
	{"rem_drv_attr", OP_REM_DRV_ATTR, M_A, 0, C_LOCAL},
	{"add_target", OP_ADD_TARGET, 0, M_DR | M_A, C_TGT},
	{"rem_target", OP_REM_TARGET, 0, M_DR, C_SHARED},
	{"set_tgt_attr", OP_SET_TGT_ATTR, M_A, M_DR, C_TGT},
	{"add_tgt_attr", OP_ADD_TGT_ATTR, M_A, M_DR, C_TGT},
	{"rem_tgt_attr", OP_REM_TGT_ATTR, M_A, M_DR, C_TGT},
	{"enable_target", OP_ENABLE_TARGET, 0, M_DR, C_SHARED},
	{"disable_target", OP_DISABLE_TARGET, 0, M_DR, C_SHARED},
	{"add_lun", OP_ADD_LUN, M_T | M_DEV, M_DR | M_G | M_A, C_SHARED},
	{"rem_lun", OP_REM_LUN, M_T, M_DR | M_G, C_SHARED},
	{"add_group", OP_ADD_GROUP, M_T, M_DR, C_SHARED},
	{"rem_group", OP_REM_GROUP, M_T, M_DR, C_SHARED},
	{"set_grp_attr", OP_SET_GRP_ATTR, M_T | M_A, M_DR, C_SHARED},
	{"add_grp_attr", OP_ADD_GRP_ATTR, M_T | M_A, M_DR, C_SHARED},
	{"rem_grp_attr", OP_REM_GRP_ATTR, M_T | M_A, M_DR, C_SHARED},
	{"add_init", OP_ADD_INIT, M_T | M_G, M_DR, C_SHARED},
	{"rem_init", OP_REM_INIT, M_T | M_G, M_DR, C_SHARED},
	{"set_tgrp_attr", OP_SET_TGRP_ATTR, M_DG | M_A, 0, C_SHARED},
};

#define NOPS (sizeof(ops) / sizeof(ops[0]))

static const char *const mod_names[TDM_EDIT_NMOD] = {
	"handler", "attributes", "driver",    "target",
	"group",   "device",	 "dev_group",
};

/* a device's identity: what an initiator sees through every head */
static const char *const dev_shared_keys[] = {
	"t10_vend_id", "prod_id", "prod_rev_lvl", "t10_dev_id",
	"usn",	       "naa_id",  "eui64_id",	  "read_only",
};

/* a target's facts of this head only */
static const char *const tgt_local_keys[] = {"rel_tgt_id", "allowed_portal"};

static const struct opdesc *find_op(const char *name)
{
	for (size_t i = 0; i < NOPS; i++)
		if (!strcmp(ops[i].name, name))
			return &ops[i];
	return NULL;
}

bool tdm_edit_action(const char *action, unsigned *need, unsigned *allow)
{
	const struct opdesc *d = find_op(action);

	if (d && need)
		*need = d->need;
	if (d && allow)
		*allow = d->allow;
	return d != NULL;
}

static const char *mod(const struct tdm_edit *e, unsigned m)
{
	return (e->mods & m) ? e->mod[__builtin_ctz(m)] : NULL;
}

static bool in_list(const char *k, const char *const *l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcasecmp(k, l[i]))
			return true;
	return false;
}

enum tdm_edit_scope tdm_edit_scope(const struct tdm_edit *e, char *err,
				   size_t errlen)
{
	const struct opdesc *d = find_op(e->action);
	const char *shared = NULL, *local = NULL;

	if (!d)
		return TDM_EDIT_SCOPE_NONE;
	switch (d->cls) {
	case C_LOCAL:
		return TDM_EDIT_SCOPE_LOCAL;
	case C_SHARED:
		return TDM_EDIT_SCOPE_SHARED;
	case C_DEV:
	case C_TGT:
		break;
	}
	for (size_t i = 0; i < e->attrs.n; i++) {
		const char *k = e->attrs.v[i].key;
		bool is_shared =
			d->cls == C_DEV
				? in_list(k, dev_shared_keys,
					  sizeof(dev_shared_keys) /
						  sizeof(dev_shared_keys[0]))
				: !in_list(k, tgt_local_keys,
					   sizeof(tgt_local_keys) /
						   sizeof(tgt_local_keys[0]));

		if (is_shared && !shared)
			shared = k;
		if (!is_shared && !local)
			local = k;
	}
	if (d->op == OP_ADD_TARGET && local) {
		snprintf(err, errlen,
			 "%s is node-local and a new target is shared: add "
			 "the target without it, then set %s on each head "
			 "with -set_tgt_attr",
			 local, local);
		return TDM_EDIT_SCOPE_MIXED;
	}
	if (d->op == OP_ADD_TARGET)
		return TDM_EDIT_SCOPE_SHARED;
	if (shared && local) {
		snprintf(err, errlen,
			 "%s is shared by the cluster's heads and %s is "
			 "node-local: set them with two commands",
			 shared, local);
		return TDM_EDIT_SCOPE_MIXED;
	}
	return local ? TDM_EDIT_SCOPE_LOCAL : TDM_EDIT_SCOPE_SHARED;
}

static bool parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (!s || !*s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return !errno && !*end;
}

/*
 * -driver D with an edit of an existing target (the argument or
 * -target): true when the target is D's, or not there (the edit says
 * so); false with a message when it is another driver's.
 */
static bool wrong_driver(const struct tdm_conf *c, const struct tdm_edit *e,
			 const struct opdesc *d, enum tdm_target_driver dv,
			 char *err, size_t errlen)
{
	const char *name = (d->need | d->allow) & M_T ? mod(e, M_T) : e->arg;
	const struct tdm_conf_target *t;

	if (d->op >= OP_SET_DRV_ATTR && d->op <= OP_REM_DRV_ATTR)
		return true;
	t = name ? tdm_edit_find_target(c, name) : NULL;
	if (!t || t->driver == dv)
		return true;
	snprintf(err, errlen, "target %s is %s %s target, not %s", t->name,
		 tdm_target_driver_name(t->driver)[0] == 'i' ? "an" : "a",
		 tdm_target_driver_name(t->driver), tdm_target_driver_name(dv));
	return false;
}

int tdm_edit_apply(struct tdm_conf *c, const struct tdm_edit *e, char *err,
		   size_t errlen)
{
	const struct opdesc *d = find_op(e->action);
	const char *tgt = mod(e, M_T), *grp = mod(e, M_G);
	const char *drv = mod(e, M_DR);
	enum tdm_target_driver drvid = TDM_DRV_ISCSI;
	struct tdm_attrs en = {0};
	struct tdm_attr one;
	uint64_t lun = 0;

	if (!d) {
		snprintf(err, errlen, "-%s is not an edit", e->action);
		return -EINVAL;
	}
	if ((e->mods & d->need) != d->need ||
	    (e->mods & ~(d->need | d->allow))) {
		snprintf(err, errlen, "-%s with the wrong modifiers",
			 e->action);
		return -EINVAL;
	}
	if (!e->arg) {
		snprintf(err, errlen, "-%s needs an argument", e->action);
		return -EINVAL;
	}
	if (d->op >= OP_SET_DRV_ATTR && d->op <= OP_REM_DRV_ATTR)
		drv = e->arg;
	if (drv && tdm_target_driver_from_name(drv, &drvid) < 0) {
		snprintf(err, errlen,
			 "unknown target driver '%s' (iscsi, ib_srpt, "
			 "scst_local, ibmvstgt or qla2x00t)",
			 drv);
		return -EINVAL;
	}
	if (drv && d->op != OP_ADD_TARGET &&
	    !wrong_driver(c, e, d, drvid, err, errlen))
		return -EINVAL;
	if ((d->op == OP_ADD_LUN || d->op == OP_REM_LUN) &&
	    !parse_u64(e->arg, &lun)) {
		snprintf(err, errlen, "bad LUN number '%s'", e->arg);
		return -EINVAL;
	}
	switch (d->op) {
	case OP_OPEN_DEV:
		return tdm_edit_add_device(c, e->arg, mod(e, M_H), &e->attrs,
					   err, errlen);
	case OP_CLOSE_DEV:
		return tdm_edit_rem_device(c, e->arg, mod(e, M_H), err, errlen);
	case OP_SET_DEV_ATTR: {
		const struct tdm_conf_device *dv =
			tdm_edit_find_device(c, e->arg);
		const char *h = mod(e, M_H);

		if (dv && h && !tdm_handler_is(dv->handler, h)) {
			snprintf(err, errlen,
				 "device '%s' has handler %s, not %s", e->arg,
				 tdm_handler_name(dv->handler), h);
			return -EINVAL;
		}
		return tdm_edit_dev_attr(c, e->arg, &e->attrs, err, errlen);
	}
	case OP_SET_DRV_ATTR:
		return tdm_edit_drv_attr(c, drvid, TDM_EDIT_SET, &e->attrs, err,
					 errlen);
	case OP_ADD_DRV_ATTR:
		return tdm_edit_drv_attr(c, drvid, TDM_EDIT_ADD, &e->attrs, err,
					 errlen);
	case OP_REM_DRV_ATTR:
		return tdm_edit_drv_attr(c, drvid, TDM_EDIT_REMOVE, &e->attrs,
					 err, errlen);
	case OP_ADD_TARGET:
		return tdm_edit_add_target(c, drvid, e->arg, &e->attrs, err,
					   errlen);
	case OP_REM_TARGET:
		return tdm_edit_rem_target(c, e->arg, err, errlen);
	case OP_SET_TGT_ATTR:
		return tdm_edit_tgt_attr(c, e->arg, TDM_EDIT_SET, &e->attrs,
					 err, errlen);
	case OP_ADD_TGT_ATTR:
		return tdm_edit_tgt_attr(c, e->arg, TDM_EDIT_ADD, &e->attrs,
					 err, errlen);
	case OP_REM_TGT_ATTR:
		return tdm_edit_tgt_attr(c, e->arg, TDM_EDIT_REMOVE, &e->attrs,
					 err, errlen);
	case OP_ENABLE_TARGET:
	case OP_DISABLE_TARGET:
		one.key = (char *)"enabled";
		one.value = (char *)(d->op == OP_ENABLE_TARGET ? "1" : "0");
		en.v = &one;
		en.n = 1;
		return tdm_edit_tgt_attr(c, e->arg, TDM_EDIT_SET, &en, err,
					 errlen);
	case OP_ADD_LUN:
		return tdm_edit_add_lun(c, tgt, grp, lun, mod(e, M_DEV),
					&e->attrs, err, errlen);
	case OP_REM_LUN:
		return tdm_edit_rem_lun(c, tgt, grp, lun, err, errlen);
	case OP_ADD_GROUP:
		return tdm_edit_add_group(c, tgt, e->arg, err, errlen);
	case OP_REM_GROUP:
		return tdm_edit_rem_group(c, tgt, e->arg, err, errlen);
	case OP_SET_GRP_ATTR:
		return tdm_edit_grp_attr(c, tgt, e->arg, TDM_EDIT_SET,
					 &e->attrs, err, errlen);
	case OP_ADD_GRP_ATTR:
		return tdm_edit_grp_attr(c, tgt, e->arg, TDM_EDIT_ADD,
					 &e->attrs, err, errlen);
	case OP_REM_GRP_ATTR:
		return tdm_edit_grp_attr(c, tgt, e->arg, TDM_EDIT_REMOVE,
					 &e->attrs, err, errlen);
	case OP_ADD_INIT:
		return tdm_edit_add_init(c, tgt, grp, e->arg, err, errlen);
	case OP_REM_INIT:
		return tdm_edit_rem_init(c, tgt, grp, e->arg, err, errlen);
	case OP_SET_TGRP_ATTR:
		return tdm_edit_tgrp_attr(c, mod(e, M_DG), e->arg, &e->attrs,
					  err, errlen);
	}
	snprintf(err, errlen, "-%s is not an edit", e->action);
	return -EINVAL;
}

static void addf(char *buf, size_t len, size_t *o, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void addf(char *buf, size_t len, size_t *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*o + 1 >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *o, len - *o, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	*o += (size_t)n < len - *o ? (size_t)n : len - *o - 1;
}

const char *tdm_edit_describe(const struct tdm_edit *e, char *buf, size_t len)
{
	size_t o = 0;

	if (!len)
		return buf;
	buf[0] = '\0';
	addf(buf, len, &o, "-%s", e->action);
	if (e->arg)
		addf(buf, len, &o, " %s", e->arg);
	for (unsigned i = 0; i < TDM_EDIT_NMOD; i++)
		if ((e->mods & (1u << i)) && (1u << i) != M_A && e->mod[i])
			addf(buf, len, &o, " -%s %s", mod_names[i], e->mod[i]);
	if (e->mods & M_A) {
		addf(buf, len, &o, " -attributes %c", '"');
		for (size_t i = 0; i < e->attrs.n; i++)
			addf(buf, len, &o, "%s%s=%s", i ? "," : "",
			     e->attrs.v[i].key, e->attrs.v[i].value);
		addf(buf, len, &o, "%c", '"');
	}
	return buf;
}

/* ---- encoding ---- */

static bool str_ok(const char *s)
{
	return s && strlen(s) <= TDM_CODEC_STR_MAX;
}

int tdm_edit_encode(const struct tdm_edit *e, uint8_t **out, size_t *len)
{
	struct tdm_wbuf w = {0};
	unsigned mods = e->mods & TDM_EDIT_M_ALL;

	*out = NULL;
	*len = 0;
	if (!find_op(e->action))
		return -EINVAL;
	if (e->attrs.n > TDM_EDIT_ATTRS_MAX)
		return -E2BIG;
	if (e->arg && !str_ok(e->arg))
		return -ENAMETOOLONG;
	for (unsigned i = 0; i < TDM_EDIT_NMOD; i++)
		if ((mods & (1u << i)) && (1u << i) != M_A &&
		    !str_ok(e->mod[i]))
			return e->mod[i] ? -ENAMETOOLONG : -EINVAL;
	for (size_t i = 0; i < e->attrs.n; i++)
		if (!str_ok(e->attrs.v[i].key) || !str_ok(e->attrs.v[i].value))
			return -ENAMETOOLONG;
	tdm_wbuf_reset(&w);
	tdm_wbuf_put_bytes(&w, MAGIC, 4);
	tdm_wbuf_put_u16(&w, TDM_EDIT_VERSION);
	tdm_wbuf_put_u64(&w, e->tag);
	tdm_wbuf_put_str(&w, e->action);
	tdm_wbuf_put_u8(&w, (uint8_t)mods);
	for (unsigned i = 0; i < TDM_EDIT_NMOD; i++)
		if ((mods & (1u << i)) && (1u << i) != M_A)
			tdm_wbuf_put_str(&w, e->mod[i]);
	tdm_wbuf_put_u8(&w, e->arg != NULL);
	if (e->arg)
		tdm_wbuf_put_str(&w, e->arg);
	tdm_wbuf_put_u32(&w, (mods & M_A) ? (uint32_t)e->attrs.n : 0);
	for (size_t i = 0; (mods & M_A) && i < e->attrs.n; i++) {
		tdm_wbuf_put_str(&w, e->attrs.v[i].key);
		tdm_wbuf_put_str(&w, e->attrs.v[i].value);
	}
	if (w.oom) {
		tdm_wbuf_free(&w);
		return -ENOMEM;
	}
	*len = w.len;
	*out = malloc(*len ? *len : 1);
	if (!*out) {
		tdm_wbuf_free(&w);
		return -ENOMEM;
	}
	memcpy(*out, w.p, *len);
	tdm_wbuf_free(&w);
	return 0;
}

/* a str field, malloc'ed; NULL when bad (r->bad set) or out of memory */
static char *get_dup(struct tdm_rd *r, bool *oom)
{
	size_t n;
	const uint8_t *p = tdm_rd_get_bytes(r, &n);
	char *s;

	if (r->bad)
		return NULL;
	if (n > TDM_CODEC_STR_MAX || (n && memchr(p, '\0', n))) {
		r->bad = true;
		return NULL;
	}
	s = malloc(n + 1);
	if (!s) {
		*oom = true;
		r->bad = true;
		return NULL;
	}
	if (n)
		memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

static int bad(struct tdm_edit *e, int r, char *err, size_t errlen,
	       const char *what)
{
	tdm_edit_free(e);
	snprintf(err, errlen, "malformed configuration edit: %s", what);
	return r;
}

int tdm_edit_decode(const uint8_t *p, size_t len, struct tdm_edit *e, char *err,
		    size_t errlen)
{
	struct tdm_rd r = {.p = p, .len = len};
	const struct opdesc *d;
	const uint8_t *magic;
	size_t mlen;
	uint16_t version;
	uint32_t n;
	bool oom = false;
	uint8_t has_arg;

	memset(e, 0, sizeof(*e));
	magic = tdm_rd_get_bytes(&r, &mlen);
	version = tdm_rd_get_u16(&r);
	if (r.bad || mlen != 4 || memcmp(magic, MAGIC, 4))
		return bad(e, -EBADMSG, err, errlen, "no TDME header");
	if (version != TDM_EDIT_VERSION) {
		tdm_edit_free(e);
		snprintf(err, errlen,
			 "configuration edit of version %u (this tandemd "
			 "reads version %d)",
			 version, TDM_EDIT_VERSION);
		return -EPROTO;
	}
	e->tag = tdm_rd_get_u64(&r);
	tdm_rd_get_str(&r, e->action, sizeof(e->action));
	if (r.bad)
		return bad(e, -EBADMSG, err, errlen, "bad action");
	d = find_op(e->action);
	if (!d)
		return bad(e, -EBADMSG, err, errlen, "not an edit action");
	e->mods = tdm_rd_get_u8(&r);
	if (r.bad || (e->mods & ~(unsigned)TDM_EDIT_M_ALL) ||
	    (e->mods & d->need) != d->need || (e->mods & ~(d->need | d->allow)))
		return bad(e, -EBADMSG, err, errlen, "bad modifiers");
	for (unsigned i = 0; i < TDM_EDIT_NMOD; i++) {
		if (!(e->mods & (1u << i)) || (1u << i) == M_A)
			continue;
		e->mod[i] = get_dup(&r, &oom);
		if (!e->mod[i])
			break;
	}
	has_arg = tdm_rd_get_u8(&r);
	if (!r.bad && has_arg > 1)
		r.bad = true;
	if (!r.bad && has_arg)
		e->arg = get_dup(&r, &oom);
	n = tdm_rd_get_u32(&r);
	if (!r.bad && (n > TDM_EDIT_ATTRS_MAX || (n && !(e->mods & M_A))))
		return bad(e, -EBADMSG, err, errlen, "bad attribute count");
	if (!r.bad && n) {
		e->attrs.v = calloc(n, sizeof(*e->attrs.v));
		if (!e->attrs.v) {
			oom = true;
			r.bad = true;
		}
	}
	for (uint32_t i = 0; !r.bad && i < n; i++) {
		e->attrs.v[i].key = get_dup(&r, &oom);
		e->attrs.v[i].value = get_dup(&r, &oom);
		if (!r.bad)
			e->attrs.n++;
		else {
			free(e->attrs.v[i].key);
			free(e->attrs.v[i].value);
		}
	}
	if (oom) {
		tdm_edit_free(e);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (!tdm_rd_done(&r))
		return bad(e, -EBADMSG, err, errlen,
			   "truncated, overlong or bad field");
	if (!e->arg)
		return bad(e, -EBADMSG, err, errlen, "no argument");
	for (size_t i = 0; i < e->attrs.n; i++)
		if (!e->attrs.v[i].key[0])
			return bad(e, -EBADMSG, err, errlen,
				   "empty attribute name");
	return 0;
}

int tdm_edit_set_mod(struct tdm_edit *e, unsigned m, const char *v)
{
	unsigned i = (unsigned)__builtin_ctz(m);
	size_t n = strlen(v) + 1;
	char *s = malloc(n);

	if (!s)
		return -ENOMEM;
	memcpy(s, v, n);
	free(e->mod[i]);
	e->mod[i] = s;
	e->mods |= m;
	return 0;
}

void tdm_edit_free(struct tdm_edit *e)
{
	for (unsigned i = 0; i < TDM_EDIT_NMOD; i++)
		free(e->mod[i]);
	free(e->arg);
	tdm_attrs_free(&e->attrs);
	memset(e, 0, sizeof(*e));
}
