/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * test_conf_edit_ops.c - tandemctl's edits as data (conf/conf_edit_ops.c):
 * the encoding round trip, every kind of malformed input refused, the
 * shared/node-local split, applying an edit to a configuration; and the
 * cluster's configuration edit log (conf/conf_edit_log.c): round trip,
 * limits, catching up, malformed input.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conf/conf_edit_log.h"
#include "conf/conf_edit_ops.h"
#include "ctl/ctl_proto.h"

static char err[2048];

static const char base_conf[] = "HANDLER ram {\n"
				"\tDEVICE r0 {\n\t\tsize_mb 16\n\t}\n"
				"\tDEVICE r1 {\n\t\tsize_mb 16\n\t}\n"
				"}\n"
				"TARGET_DRIVER iscsi {\n"
				"\tenabled 1\n"
				"\tTARGET iqn.2026-01.org.tandem:t1 {\n"
				"\t\tenabled 1\n"
				"\t\trel_tgt_id 1\n"
				"\t\tLUN 0 r0\n"
				"\t}\n"
				"}\n";

#define T1 "iqn.2026-01.org.tandem:t1"

/* an edit from words: action, arg, then (modifier bit, value) pairs,
 * 0-terminated; attributes as a string (NULL: none) */
static void mk(struct tdm_edit *e, const char *action, const char *arg,
	       const char *attrs, ...)
{
	va_list ap;
	unsigned bit;

	memset(e, 0, sizeof(*e));
	snprintf(e->action, sizeof(e->action), "%s", action);
	if (arg)
		e->arg = strdup(arg);
	if (attrs) {
		assert_int_equal(
			tdm_attrs_parse(attrs, &e->attrs, err, sizeof(err)), 0);
		e->mods |= TDM_EDIT_M_ATTRS;
	}
	va_start(ap, attrs);
	while ((bit = va_arg(ap, unsigned)) != 0)
		assert_int_equal(tdm_edit_set_mod(e, bit, va_arg(ap, char *)),
				 0);
	va_end(ap);
}

static void test_roundtrip(void **state)
{
	struct tdm_edit e, d;
	uint8_t *p, *p2;
	size_t n, n2;

	(void)state;
	mk(&e, "add_lun", "3", "read_only=1", TDM_EDIT_M_TARGET, T1,
	   TDM_EDIT_M_DEVICE, "r1", TDM_EDIT_M_GROUP, "hosts", 0);
	e.tag = 0x1122334455667788ull;
	assert_int_equal(tdm_edit_encode(&e, &p, &n), 0);
	assert_int_equal(tdm_edit_decode(p, n, &d, err, sizeof(err)), 0);
	assert_string_equal(d.action, "add_lun");
	assert_string_equal(d.arg, "3");
	assert_true(d.tag == e.tag);
	assert_int_equal(d.mods, e.mods);
	assert_string_equal(d.mod[3], T1);
	assert_string_equal(d.mod[4], "hosts");
	assert_string_equal(d.mod[5], "r1");
	assert_int_equal(d.attrs.n, 1);
	assert_string_equal(d.attrs.v[0].key, "read_only");
	assert_string_equal(d.attrs.v[0].value, "1");
	/* canonical: re-encoding gives the same bytes */
	assert_int_equal(tdm_edit_encode(&d, &p2, &n2), 0);
	assert_int_equal(n, n2);
	assert_memory_equal(p, p2, n);
	{
		char buf[256];

		tdm_edit_describe(&d, buf, sizeof(buf));
		assert_non_null(strstr(buf, "-add_lun 3"));
		assert_non_null(strstr(buf, "-device r1"));
		assert_non_null(strstr(buf, "read_only=1"));
		/* truncation never overflows */
		tdm_edit_describe(&d, buf, 5);
		assert_int_equal(strlen(buf), 4);
	}
	free(p);
	free(p2);
	tdm_edit_free(&e);
	tdm_edit_free(&d);
}

static void test_encode_refuses(void **state)
{
	struct tdm_edit e;
	uint8_t *p;
	size_t n;
	char *big = malloc(2000);

	(void)state;
	mk(&e, "list_device", "x", NULL, 0);
	assert_int_equal(tdm_edit_encode(&e, &p, &n), -EINVAL);
	tdm_edit_free(&e);
	memset(big, 'a', 1999);
	big[1999] = '\0';
	mk(&e, "add_group", big, NULL, TDM_EDIT_M_TARGET, T1, 0);
	assert_int_equal(tdm_edit_encode(&e, &p, &n), -ENAMETOOLONG);
	tdm_edit_free(&e);
	free(big);
}

/* every prefix and every one-byte change of a valid encoding: refused
 * or decoded to something valid, never a crash or a leak */
static void test_decode_mutations(void **state)
{
	struct tdm_edit e, d;
	uint8_t *p, *q;
	size_t n;
	int ok = 0;

	(void)state;
	mk(&e, "set_tgrp_attr", "tg1", "state=standby,preferred=1",
	   TDM_EDIT_M_DEV_GROUP, "dg", 0);
	assert_int_equal(tdm_edit_encode(&e, &p, &n), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_not_equal(
			tdm_edit_decode(p, i, &d, err, sizeof(err)), 0);
	q = malloc(n + 1);
	memcpy(q, p, n);
	q[n] = 0;
	assert_int_equal(tdm_edit_decode(q, n + 1, &d, err, sizeof(err)),
			 -EBADMSG);
	assert_non_null(strstr(err, "truncated, overlong"));
	for (size_t i = 0; i < n; i++) {
		for (int x = 1; x < 256; x <<= 1) {
			memcpy(q, p, n);
			q[i] ^= (uint8_t)x;
			if (tdm_edit_decode(q, n, &d, err, sizeof(err)) == 0) {
				ok++;
				tdm_edit_free(&d);
			}
		}
	}
	/* some changes of names still decode; most do not */
	assert_true(ok < (int)(n * 8) / 2);
	free(q);
	free(p);
	tdm_edit_free(&e);
}

static void test_decode_bad(void **state)
{
	/* hand-made: magic, version, tag, action, mods, arg, attrs */
	static const uint8_t good[] = {
		0,   0,	  0,   4,   'T', 'D', 'M', 'E', 0, 1, 0,   0,
		0,   0,	  0,   0,   0,	 0,   0,   0,	0, 9, 'a', 'd',
		'd', '_', 'g', 'r', 'o', 'u', 'p', 8,	0, 0, 0,   1,
		'T', 1,	  0,   0,   0,	 1,   'g', 0,	0, 0, 0};
	uint8_t b[sizeof(good)];
	struct tdm_edit d;

	(void)state;
	assert_int_equal(
		tdm_edit_decode(good, sizeof(good), &d, err, sizeof(err)), 0);
	assert_string_equal(d.arg, "g");
	assert_string_equal(d.mod[3], "T");
	tdm_edit_free(&d);
	/* version 2 */
	memcpy(b, good, sizeof(b));
	b[9] = 2;
	assert_int_equal(tdm_edit_decode(b, sizeof(b), &d, err, sizeof(err)),
			 -EPROTO);
	/* magic */
	memcpy(b, good, sizeof(b));
	b[4] = 'X';
	assert_int_equal(tdm_edit_decode(b, sizeof(b), &d, err, sizeof(err)),
			 -EBADMSG);
	/* modifiers: a disallowed one (device) */
	memcpy(b, good, sizeof(b));
	b[31] = 8 | 32;
	assert_int_equal(tdm_edit_decode(b, sizeof(b), &d, err, sizeof(err)),
			 -EBADMSG);
	/* modifiers: the needed one missing, an unknown bit */
	b[31] = 0;
	assert_int_equal(tdm_edit_decode(b, sizeof(b), &d, err, sizeof(err)),
			 -EBADMSG);
	b[31] = 8 | 128;
	assert_int_equal(tdm_edit_decode(b, sizeof(b), &d, err, sizeof(err)),
			 -EBADMSG);
	/* has_arg 2, no argument */
	memcpy(b, good, sizeof(b));
	b[37] = 2;
	assert_int_equal(tdm_edit_decode(b, sizeof(b), &d, err, sizeof(err)),
			 -EBADMSG);
	/* a string length past the end */
	memcpy(b, good, sizeof(b));
	b[35] = 0xff;
	assert_int_equal(tdm_edit_decode(b, sizeof(b), &d, err, sizeof(err)),
			 -EBADMSG);
	memcpy(b, good, sizeof(b));
	b[32] = 0x80;
	assert_int_equal(tdm_edit_decode(b, sizeof(b), &d, err, sizeof(err)),
			 -EBADMSG);
	/* a NUL inside a string */
	memcpy(b, good, sizeof(b));
	b[36] = 0;
	assert_int_equal(tdm_edit_decode(b, sizeof(b), &d, err, sizeof(err)),
			 -EBADMSG);
	/* attributes where -add_group takes none; a huge count */
	memcpy(b, good, sizeof(b));
	b[46] = 1;
	assert_int_equal(tdm_edit_decode(b, sizeof(b), &d, err, sizeof(err)),
			 -EBADMSG);
	b[43] = 0xff;
	assert_int_equal(tdm_edit_decode(b, sizeof(b), &d, err, sizeof(err)),
			 -EBADMSG);
	/* not an edit action */
	memcpy(b, good, sizeof(b));
	memcpy(b + 22, "rem_groop", 9);
	assert_int_equal(tdm_edit_decode(b, sizeof(b), &d, err, sizeof(err)),
			 -EBADMSG);
	assert_int_equal(tdm_edit_decode(NULL, 0, &d, err, sizeof(err)),
			 -EBADMSG);
}

static void test_scope(void **state)
{
	static const struct {
		const char *action, *attrs;
		enum tdm_edit_scope s;
	} cases[] = {
		{"add_lun", NULL, TDM_EDIT_SCOPE_SHARED},
		{"rem_lun", NULL, TDM_EDIT_SCOPE_SHARED},
		{"add_group", NULL, TDM_EDIT_SCOPE_SHARED},
		{"rem_group", NULL, TDM_EDIT_SCOPE_SHARED},
		{"add_init", NULL, TDM_EDIT_SCOPE_SHARED},
		{"rem_init", NULL, TDM_EDIT_SCOPE_SHARED},
		{"set_grp_attr", "IncomingUser=a b", TDM_EDIT_SCOPE_SHARED},
		{"add_target", NULL, TDM_EDIT_SCOPE_SHARED},
		{"add_target", "enabled=1", TDM_EDIT_SCOPE_SHARED},
		{"add_target", "rel_tgt_id=5", TDM_EDIT_SCOPE_MIXED},
		{"rem_target", NULL, TDM_EDIT_SCOPE_SHARED},
		{"enable_target", NULL, TDM_EDIT_SCOPE_SHARED},
		{"set_tgt_attr", "rel_tgt_id=5", TDM_EDIT_SCOPE_LOCAL},
		{"add_tgt_attr", "allowed_portal=10.0.0.1",
		 TDM_EDIT_SCOPE_LOCAL},
		{"set_tgt_attr", "HeaderDigest=None", TDM_EDIT_SCOPE_SHARED},
		{"set_tgt_attr", "rel_tgt_id=5,enabled=1",
		 TDM_EDIT_SCOPE_MIXED},
		{"set_dev_attr", "usn=1234,naa_id=0x6001405abcdef012",
		 TDM_EDIT_SCOPE_SHARED},
		{"set_dev_attr", "T10_VEND_ID=ACME", TDM_EDIT_SCOPE_SHARED},
		{"set_dev_attr", "read_only=1", TDM_EDIT_SCOPE_SHARED},
		{"set_dev_attr", "filename=/x", TDM_EDIT_SCOPE_LOCAL},
		{"set_dev_attr", "usn=1,filename=/x", TDM_EDIT_SCOPE_MIXED},
		{"open_dev", "filename=/x", TDM_EDIT_SCOPE_LOCAL},
		{"close_dev", NULL, TDM_EDIT_SCOPE_LOCAL},
		{"add_drv_attr", "portal=0.0.0.0", TDM_EDIT_SCOPE_LOCAL},
		{"set_tgrp_attr", "state=standby", TDM_EDIT_SCOPE_SHARED},
		{"list_target", NULL, TDM_EDIT_SCOPE_NONE},
	};
	struct tdm_edit e;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mk(&e, cases[i].action, "x", cases[i].attrs, 0);
		err[0] = '\0';
		if (tdm_edit_scope(&e, err, sizeof(err)) != cases[i].s)
			fail_msg("-%s %s: scope %d, expected %d",
				 cases[i].action,
				 cases[i].attrs ? cases[i].attrs : "",
				 tdm_edit_scope(&e, err, sizeof(err)),
				 cases[i].s);
		if (cases[i].s == TDM_EDIT_SCOPE_MIXED)
			assert_true(err[0] != '\0');
		tdm_edit_free(&e);
	}
}

static void test_apply(void **state)
{
	struct tdm_conf c, before;
	struct tdm_edit e, d;
	uint8_t *p;
	size_t n;

	(void)state;
	assert_int_equal(tdm_conf_parse(base_conf, strlen(base_conf), "base",
					&c, err, sizeof(err)),
			 0);
	assert_int_equal(tdm_conf_dup(&c, &before), 0);
	/* an edit decoded from its encoding, as every head applies it */
	mk(&e, "add_lun", "1", NULL, TDM_EDIT_M_TARGET, T1, TDM_EDIT_M_DEVICE,
	   "r1", 0);
	assert_int_equal(tdm_edit_encode(&e, &p, &n), 0);
	assert_int_equal(tdm_edit_decode(p, n, &d, err, sizeof(err)), 0);
	assert_int_equal(tdm_edit_apply(&c, &d, err, sizeof(err)), 0);
	assert_int_equal(c.targets[0].nluns, 2);
	/* the same again: refused, c unchanged */
	assert_int_equal(tdm_edit_apply(&c, &d, err, sizeof(err)), -EEXIST);
	assert_int_equal(c.targets[0].nluns, 2);
	free(p);
	tdm_edit_free(&e);
	tdm_edit_free(&d);

	mk(&e, "add_group", "hosts", NULL, TDM_EDIT_M_TARGET, T1, 0);
	assert_int_equal(tdm_edit_apply(&c, &e, err, sizeof(err)), 0);
	tdm_edit_free(&e);
	mk(&e, "add_init", "iqn.1993-08.org.debian:*", NULL, TDM_EDIT_M_TARGET,
	   T1, TDM_EDIT_M_GROUP, "hosts", 0);
	assert_int_equal(tdm_edit_apply(&c, &e, err, sizeof(err)), 0);
	assert_int_equal(c.targets[0].ngroups, 1);
	assert_int_equal(c.targets[0].groups[0].ninitiators, 1);
	tdm_edit_free(&e);
	mk(&e, "set_dev_attr", "r0", "usn=abc123", 0);
	assert_int_equal(tdm_edit_apply(&c, &e, err, sizeof(err)), 0);
	assert_string_equal(c.devices[0].usn, "abc123");
	tdm_edit_free(&e);

	/* failures: a device this configuration does not have, a bad LUN
	 * number, another driver, the wrong modifiers */
	mk(&e, "add_lun", "7", NULL, TDM_EDIT_M_TARGET, T1, TDM_EDIT_M_DEVICE,
	   "nosuch", 0);
	assert_int_equal(tdm_edit_apply(&c, &e, err, sizeof(err)), -ENOENT);
	tdm_edit_free(&e);
	mk(&e, "rem_lun", "x1", NULL, TDM_EDIT_M_TARGET, T1, 0);
	assert_int_equal(tdm_edit_apply(&c, &e, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "bad LUN number"));
	tdm_edit_free(&e);
	mk(&e, "rem_lun", "0", NULL, TDM_EDIT_M_TARGET, T1, TDM_EDIT_M_DRIVER,
	   "fc", 0);
	assert_int_equal(tdm_edit_apply(&c, &e, err, sizeof(err)), -EINVAL);
	tdm_edit_free(&e);
	mk(&e, "rem_lun", "0", NULL, 0);
	assert_int_equal(tdm_edit_apply(&c, &e, err, sizeof(err)), -EINVAL);
	tdm_edit_free(&e);
	mk(&e, "stats", "0", NULL, 0);
	assert_int_equal(tdm_edit_apply(&c, &e, err, sizeof(err)), -EINVAL);
	tdm_edit_free(&e);
	/* a CD-ROM named vdisk_cdrom (by a head of an older release) or
	 * vcdrom: the same handler */
	mk(&e, "open_dev", "cd0", NULL, TDM_EDIT_M_HANDLER, "vdisk_cdrom", 0);
	assert_int_equal(tdm_edit_apply(&c, &e, err, sizeof(err)), 0);
	assert_int_equal(c.devices[2].handler, TDM_HANDLER_CDROM);
	tdm_edit_free(&e);
	mk(&e, "set_dev_attr", "cd0", "usn=cd0", TDM_EDIT_M_HANDLER, "vcdrom",
	   0);
	assert_int_equal(tdm_edit_apply(&c, &e, err, sizeof(err)), 0);
	assert_string_equal(c.devices[2].usn, "cd0");
	tdm_edit_free(&e);
	mk(&e, "set_dev_attr", "cd0", "usn=", TDM_EDIT_M_HANDLER, "ram", 0);
	assert_int_equal(tdm_edit_apply(&c, &e, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "device 'cd0' has handler vcdrom, not ram");
	tdm_edit_free(&e);
	mk(&e, "close_dev", "cd0", NULL, TDM_EDIT_M_HANDLER, "vdisk_cdrom", 0);
	assert_int_equal(tdm_edit_apply(&c, &e, err, sizeof(err)), 0);
	assert_int_equal(c.ndevices, 2);
	tdm_edit_free(&e);
	/* removals bring it back */
	mk(&e, "rem_group", "hosts", NULL, TDM_EDIT_M_TARGET, T1, 0);
	assert_int_equal(tdm_edit_apply(&c, &e, err, sizeof(err)), 0);
	tdm_edit_free(&e);
	mk(&e, "rem_lun", "1", NULL, TDM_EDIT_M_TARGET, T1, 0);
	assert_int_equal(tdm_edit_apply(&c, &e, err, sizeof(err)), 0);
	tdm_edit_free(&e);
	mk(&e, "set_dev_attr", "r0", "usn=", 0);
	assert_int_equal(tdm_edit_apply(&c, &e, err, sizeof(err)), 0);
	tdm_edit_free(&e);
	assert_true(tdm_conf_equal(&c, &before));
	tdm_conf_free(&c);
	tdm_conf_free(&before);
}

/* ---- TARGET_DRIVER ib_srpt through the edits ---- */

#define GID "fe80:0000:0000:0000:5054:00ff:fe12:3456"
#define GID0X "0xFE80000000000000505400FFFE123456"

/* apply e (freed); expect r and, on an error, the message msg */
static void apply_expect(struct tdm_conf *c, struct tdm_edit *e, int r,
			 const char *msg)
{
	struct tdm_conf before;

	assert_int_equal(tdm_conf_dup(c, &before), 0);
	err[0] = '\0';
	if (tdm_edit_apply(c, e, err, sizeof(err)) != r)
		fail_msg("-%s %s: expected %d, message '%s'", e->action,
			 e->arg ? e->arg : "", r, err);
	if (msg && strcmp(err, msg) != 0)
		fail_msg("-%s %s:\n  got      '%s'\n  expected '%s'", e->action,
			 e->arg ? e->arg : "", err, msg);
	if (r) /* on error c is unchanged */
		assert_true(tdm_conf_equal(c, &before));
	tdm_conf_free(&before);
	tdm_edit_free(e);
}

/* -X_drv_attr D refused, with the parser's message */
struct drv_case {
	const char *action, *drv, *attrs;
	int r;
	const char *msg;
};

/* apply each of the n cases v to c (apply_expect()) */
static void drv_cases(struct tdm_conf *c, const struct drv_case *v, size_t n)
{
	struct tdm_edit e;

	for (size_t i = 0; i < n; i++) {
		mk(&e, v[i].action, v[i].drv, v[i].attrs, 0);
		apply_expect(c, &e, v[i].r, v[i].msg);
	}
}

/* ib_srpt's */
static const struct drv_case drv_bad[] = {
	{"set_drv_attr", "ib_srpt", "srp_max_req_size=995", -EINVAL,
	 "srp_max_req_size must be a number in 996..65536, got '995'"},
	{"set_drv_attr", "ib_srpt", "srp_max_rsp_size=1025", -EINVAL,
	 "srp_max_rsp_size must be a number in 40..1024, got '1025'"},
	{"set_drv_attr", "ib_srpt", "srp_sq_size=15", -EINVAL,
	 "srp_sq_size must be a number in 16..65536, got '15'"},
	{"set_drv_attr", "ib_srpt", "enabled=2", -EINVAL,
	 "enabled must be 0 or 1, got '2'"},
	{"add_drv_attr", "ib_srpt", "portal=10.0.0.256", -EINVAL,
	 "portal '10.0.0.256': not a numeric IPv4 or IPv6 address"},
	{"add_drv_attr", "ib_srpt", "portal=[::1]:4000", -EINVAL,
	 "portal [::1]:4000 given twice"},
	{"rem_drv_attr", "ib_srpt", "portal=10.9.9.9", -ENOENT,
	 "target driver ib_srpt has no portal 10.9.9.9"},
	{"set_drv_attr", "ib_srpt", "use_srq=1", -EINVAL,
	 "TARGET_DRIVER ib_srpt: use_srq 1 is not supported"},
	{"add_drv_attr", "ib_srpt", "IncomingUser=u s", -EINVAL,
	 "TARGET_DRIVER ib_srpt: IncomingUser is not an ib_srpt attribute"},
	{"set_drv_attr", "ib_srpt", "max_pending_logins=4", -EINVAL,
	 "TARGET_DRIVER ib_srpt: max_pending_logins is not an ib_srpt "
	 "attribute"},
	{"set_drv_attr", "srp", "enabled=1", -EINVAL,
	 "unknown target driver 'srp' (iscsi, ib_srpt, scst_local, ibmvstgt "
	 "or qla2x00t)"},
};

static void test_apply_srp(void **state)
{
	struct tdm_conf c, before, back;
	struct tdm_edit e;
	const struct tdm_conf_target *t;
	char *w;
	size_t n;
	int checks = 0;

	(void)state;
	assert_int_equal(tdm_conf_parse(base_conf, strlen(base_conf), "base",
					&c, err, sizeof(err)),
			 0);
	assert_int_equal(tdm_conf_dup(&c, &before), 0);

	/* the driver's attributes: the block is made by the first one */
	mk(&e, "set_drv_attr", "ib_srpt",
	   "enabled=1,srp_max_req_size=4096,srp_max_rsp_size=128,"
	   "srp_sq_size=256",
	   0);
	apply_expect(&c, &e, 0, NULL);
	assert_true(c.srp.enabled);
	assert_int_equal(c.srp.max_req_size, 4096);
	assert_int_equal(c.srp.max_rsp_size, 128);
	assert_int_equal(c.srp.sq_size, 256);
	mk(&e, "add_drv_attr", "ib_srpt", "portal=10.0.2.15", 0);
	apply_expect(&c, &e, 0, NULL);
	mk(&e, "add_drv_attr", "ib_srpt", "portal=[::1]:4000", 0);
	apply_expect(&c, &e, 0, NULL);
	assert_int_equal(c.srp.nportals, 2);
	assert_string_equal(c.srp.portals[0], "10.0.2.15:5555");
	assert_int_equal(c.nportals, 0); /* not iSCSI's */
	/* removed as it is kept: with ib_srpt's default port */
	mk(&e, "rem_drv_attr", "ib_srpt", "portal=10.0.2.15", 0);
	apply_expect(&c, &e, 0, NULL);
	assert_int_equal(c.srp.nportals, 1);
	assert_string_equal(c.srp.portals[0], "[::1]:4000");
	/* the same validation as a file */
	drv_cases(&c, drv_bad, sizeof(drv_bad) / sizeof(drv_bad[0]));
	checks += 5 + (int)(sizeof(drv_bad) / sizeof(drv_bad[0]));

	/* a target named in the 0x form, kept in the colon form */
	mk(&e, "add_target", GID0X, "enabled=1", TDM_EDIT_M_DRIVER, "ib_srpt",
	   0);
	apply_expect(&c, &e, 0, NULL);
	t = tdm_edit_find_target(&c, GID);
	assert_non_null(t);
	assert_ptr_equal(tdm_edit_find_target(&c, GID0X), t);
	assert_int_equal(t->driver, TDM_DRV_SRP);
	assert_true(t->enabled);
	mk(&e, "add_target", GID, NULL, TDM_EDIT_M_DRIVER, "ib_srpt", 0);
	apply_expect(&c, &e, -EEXIST, "target '" GID "' already exists");
	mk(&e, "add_target", "iqn.2026-01.org.tandem:t9", NULL,
	   TDM_EDIT_M_DRIVER, "ib_srpt", 0);
	apply_expect(&c, &e, -EINVAL,
		     "bad TARGET name 'iqn.2026-01.org.tandem:t9': not a port "
		     "GID (8 groups of 4 hex digits separated by ':', or 0x "
		     "and 32 hex digits)");
	mk(&e, "add_target", "fe80:0000:0000:0000:0002:c903:00f7:8ff1",
	   "IncomingUser=u s", TDM_EDIT_M_DRIVER, "ib_srpt", 0);
	apply_expect(&c, &e, -EINVAL,
		     "TARGET fe80:0000:0000:0000:0002:c903:00f7:8ff1: "
		     "IncomingUser is not an ib_srpt attribute");
	/* an iSCSI target cannot be named like that */
	mk(&e, "add_target", "fe80:0000:0000:0000:0002:c903:00f7:8ff1", NULL,
	   0);
	apply_expect(&c, &e, -EINVAL, NULL);
	checks += 4;

	/* the target's attributes, LUNs, groups, initiators */
	mk(&e, "set_tgt_attr", GID0X, "rel_tgt_id=7", TDM_EDIT_M_DRIVER,
	   "ib_srpt", 0);
	apply_expect(&c, &e, 0, NULL);
	assert_int_equal(tdm_edit_find_target(&c, GID)->rel_tgt_id, 7);
	mk(&e, "set_tgt_attr", GID, "rel_tgt_id=1", 0);
	apply_expect(&c, &e, -EINVAL,
		     "TARGET " GID
		     ": rel_tgt_id 1 is already used by TARGET " T1);
	mk(&e, "add_tgt_attr", GID, "allowed_portal=10.*", 0);
	apply_expect(&c, &e, -EINVAL,
		     "TARGET " GID ": allowed_portal is not an ib_srpt "
		     "attribute");
	mk(&e, "set_tgt_attr", GID, "HeaderDigest=None", 0);
	apply_expect(&c, &e, -EINVAL,
		     "TARGET " GID ": HeaderDigest is not an ib_srpt "
		     "attribute");
	mk(&e, "set_tgt_attr", GID, "rel_tgt_id=1", TDM_EDIT_M_DRIVER, "iscsi",
	   0);
	apply_expect(&c, &e, -EINVAL,
		     "target " GID " is an ib_srpt target, not iscsi");
	mk(&e, "disable_target", T1, NULL, TDM_EDIT_M_DRIVER, "ib_srpt", 0);
	apply_expect(&c, &e, -EINVAL,
		     "target " T1 " is an iscsi target, not ib_srpt");
	mk(&e, "add_lun", "0", NULL, TDM_EDIT_M_TARGET, GID0X,
	   TDM_EDIT_M_DEVICE, "r1", TDM_EDIT_M_DRIVER, "ib_srpt", 0);
	apply_expect(&c, &e, 0, NULL);
	mk(&e, "add_lun", "0", NULL, TDM_EDIT_M_TARGET, GID, TDM_EDIT_M_DEVICE,
	   "r1", TDM_EDIT_M_DRIVER, "iscsi", 0);
	apply_expect(&c, &e, -EINVAL,
		     "target " GID " is an ib_srpt target, not iscsi");
	mk(&e, "add_group", "hosts", NULL, TDM_EDIT_M_TARGET, GID, 0);
	apply_expect(&c, &e, 0, NULL);
	mk(&e, "add_lun", "2", "read_only=1", TDM_EDIT_M_TARGET, GID,
	   TDM_EDIT_M_GROUP, "hosts", TDM_EDIT_M_DEVICE, "r0", 0);
	apply_expect(&c, &e, 0, NULL);
	mk(&e, "add_init", "0x0000000000000000505400FFFE12345*", NULL,
	   TDM_EDIT_M_TARGET, GID, TDM_EDIT_M_GROUP, "hosts", 0);
	apply_expect(&c, &e, 0, NULL);
	t = tdm_edit_find_target(&c, GID);
	assert_int_equal(t->nluns, 1);
	assert_int_equal(t->groups[0].nluns, 1);
	assert_true(t->groups[0].luns[0].read_only);
	assert_string_equal(t->groups[0].initiators[0],
			    "0x0000000000000000505400fffe12345*");
	mk(&e, "add_init", "0x0000000000000000505400fffe12345*", NULL,
	   TDM_EDIT_M_TARGET, GID, TDM_EDIT_M_GROUP, "hosts", 0);
	apply_expect(&c, &e, -EEXIST,
		     "initiator pattern '0x0000000000000000505400fffe12345*' "
		     "is already in group hosts of target " GID);
	mk(&e, "add_init", "iqn.1993-08.org.debian:*", NULL, TDM_EDIT_M_TARGET,
	   GID, TDM_EDIT_M_GROUP, "hosts", 0);
	apply_expect(&c, &e, -EINVAL,
		     "GROUP hosts: bad INITIATOR 'iqn.1993-08.org.debian:*': "
		     "an ib_srpt initiator is an SRP initiator port id, 0x and "
		     "32 hex digits (* and ? allowed)");
	mk(&e, "add_grp_attr", "hosts", "IncomingUser=u s", TDM_EDIT_M_TARGET,
	   GID, 0);
	apply_expect(&c, &e, -EINVAL,
		     "GROUP hosts: IncomingUser is not an ib_srpt attribute");
	checks += 13;

	/* written and read back: the same */
	assert_int_equal(tdm_conf_write(&c, &w, &n), 0);
	assert_non_null(strstr(w, "TARGET_DRIVER ib_srpt {\n"));
	assert_int_equal(tdm_conf_parse(w, n, "w", &back, err, sizeof(err)), 0);
	assert_true(tdm_conf_equal(&c, &back));
	tdm_conf_free(&back);
	free(w);

	/* removals, by the pattern in another case and the 0x name */
	mk(&e, "rem_init", "0x0000000000000000505400FFFE12345*", NULL,
	   TDM_EDIT_M_TARGET, GID0X, TDM_EDIT_M_GROUP, "hosts", 0);
	apply_expect(&c, &e, 0, NULL);
	mk(&e, "rem_group", "hosts", NULL, TDM_EDIT_M_TARGET, GID0X, 0);
	apply_expect(&c, &e, 0, NULL);
	mk(&e, "rem_lun", "0", NULL, TDM_EDIT_M_TARGET, GID0X,
	   TDM_EDIT_M_DRIVER, "ib_srpt", 0);
	apply_expect(&c, &e, 0, NULL);
	mk(&e, "rem_target", GID0X, NULL, TDM_EDIT_M_DRIVER, "iscsi", 0);
	apply_expect(&c, &e, -EINVAL,
		     "target " GID " is an ib_srpt target, not iscsi");
	mk(&e, "rem_target", GID0X, NULL, TDM_EDIT_M_DRIVER, "ib_srpt", 0);
	apply_expect(&c, &e, 0, NULL);
	assert_null(tdm_edit_find_target(&c, GID));
	mk(&e, "rem_drv_attr", "ib_srpt", "portal=[::1]:4000", 0);
	apply_expect(&c, &e, 0, NULL);
	mk(&e, "set_drv_attr", "ib_srpt",
	   "enabled=0,srp_max_req_size=,srp_max_rsp_size=,srp_sq_size=", 0);
	apply_expect(&c, &e, 0, NULL);
	assert_true(tdm_conf_equal(&c, &before));
	/* and nothing of ib_srpt is written any more */
	assert_int_equal(tdm_conf_write(&c, &w, &n), 0);
	assert_null(strstr(w, "ib_srpt"));
	free(w);
	checks += 2;
	tdm_conf_free(&c);
	tdm_conf_free(&before);
	printf("ib_srpt edits: %d refusals and results checked\n", checks);
}

/* ---- the kernel's fabrics through the edits ---- */

#define WWPN "21:00:00:24:ff:31:4c:48"
#define WWPN0X "0x21000024FF314C48"
#define WWPN_I1 "21:00:00:24:ff:31:4c:49"

/* -X_drv_attr of the kernel fabrics refused, with the parser's message */
static const struct drv_case kdrv_bad[] = {
	{"set_drv_attr", "scst_local", "enabled=2", -EINVAL,
	 "enabled must be 0 or 1, got '2'"},
	{"add_drv_attr", "ibmvstgt", "portal=10.0.2.15", -EINVAL,
	 "TARGET_DRIVER ibmvstgt: portal is not an ibmvstgt attribute"},
	{"set_drv_attr", "qla2x00t", "srp_sq_size=16", -EINVAL,
	 "TARGET_DRIVER qla2x00t: srp_sq_size is not a qla2x00t attribute"},
	{"add_drv_attr", "scst_local", "IncomingUser=u s", -EINVAL,
	 "TARGET_DRIVER scst_local: IncomingUser is not a scst_local "
	 "attribute"},
	{"set_drv_attr", "qla2x00t", "MaxBurstLength=65536", -EINVAL,
	 "TARGET_DRIVER qla2x00t: MaxBurstLength is not a qla2x00t "
	 "attribute"},
	{"set_drv_attr", "scst_local", "session_name=h", -EINVAL,
	 "TARGET_DRIVER scst_local: unknown attribute 'session_name'"},
	{"set_drv_attr", "tcm_loop", "enabled=1", -EINVAL,
	 "unknown target driver 'tcm_loop' (iscsi, ib_srpt, scst_local, "
	 "ibmvstgt or qla2x00t)"},
};

static void test_apply_kernel(void **state)
{
	struct tdm_conf c, before, back;
	struct tdm_edit e;
	const struct tdm_conf_target *t;
	char *w;
	size_t n;
	int checks = 0;

	(void)state;
	assert_int_equal(tdm_conf_parse(base_conf, strlen(base_conf), "base",
					&c, err, sizeof(err)),
			 0);
	assert_int_equal(tdm_conf_dup(&c, &before), 0);

	/* the drivers' one attribute; ibmvscsis names ibmvstgt */
	mk(&e, "set_drv_attr", "scst_local", "enabled=0", 0);
	apply_expect(&c, &e, 0, NULL);
	assert_false(tdm_conf_driver_enabled(&c, TDM_DRV_LOCAL));
	mk(&e, "set_drv_attr", "ibmvscsis", "enabled=0", 0);
	apply_expect(&c, &e, 0, NULL);
	assert_false(tdm_conf_driver_enabled(&c, TDM_DRV_VIO));
	assert_true(tdm_conf_driver_enabled(&c, TDM_DRV_FC));
	drv_cases(&c, kdrv_bad, sizeof(kdrv_bad) / sizeof(kdrv_bad[0]));
	checks += 3 + (int)(sizeof(kdrv_bad) / sizeof(kdrv_bad[0]));

	/* scst_local: a target on by default, its session_name */
	mk(&e, "add_target", "local1", "session_name=host_a", TDM_EDIT_M_DRIVER,
	   "scst_local", 0);
	apply_expect(&c, &e, 0, NULL);
	t = tdm_edit_find_target(&c, "local1");
	assert_non_null(t);
	assert_int_equal(t->driver, TDM_DRV_LOCAL);
	assert_true(t->enabled);
	assert_string_equal(t->session_name, "host_a");
	mk(&e, "set_tgt_attr", "local1", "session_name=host_b",
	   TDM_EDIT_M_DRIVER, "scst_local", 0);
	apply_expect(&c, &e, 0, NULL);
	assert_string_equal(tdm_edit_find_target(&c, "local1")->session_name,
			    "host_b");
	mk(&e, "set_tgt_attr", "local1", "session_name=a b", 0);
	apply_expect(&c, &e, -EINVAL,
		     "TARGET local1: bad session_name 'a b': only printable "
		     "ASCII without blanks is allowed");
	mk(&e, "set_tgt_attr", T1, "session_name=h", 0);
	apply_expect(&c, &e, -EINVAL,
		     "TARGET " T1 ": session_name is a scst_local attribute, "
		     "not an iscsi one");
	mk(&e, "add_target", "local2", "IncomingUser=u s", TDM_EDIT_M_DRIVER,
	   "scst_local", 0);
	apply_expect(&c, &e, -EINVAL,
		     "TARGET local2: IncomingUser is not a scst_local "
		     "attribute");
	mk(&e, "add_target", "local1", NULL, TDM_EDIT_M_DRIVER, "qla2x00t", 0);
	apply_expect(&c, &e, -EEXIST, "target 'local1' already exists");
	mk(&e, "add_target", T1, NULL, TDM_EDIT_M_DRIVER, "scst_local", 0);
	apply_expect(&c, &e, -EEXIST, "target '" T1 "' already exists");
	mk(&e, "set_tgt_attr", "local1", "rel_tgt_id=5", TDM_EDIT_M_DRIVER,
	   "iscsi", 0);
	apply_expect(&c, &e, -EINVAL,
		     "target local1 is a scst_local target, not iscsi");
	mk(&e, "add_lun", "0", NULL, TDM_EDIT_M_TARGET, "local1",
	   TDM_EDIT_M_DEVICE, "r0", TDM_EDIT_M_DRIVER, "scst_local", 0);
	apply_expect(&c, &e, 0, NULL);
	mk(&e, "add_group", "g", NULL, TDM_EDIT_M_TARGET, "local1", 0);
	apply_expect(&c, &e, 0, NULL);
	mk(&e, "add_init", "host_*", NULL, TDM_EDIT_M_TARGET, "local1",
	   TDM_EDIT_M_GROUP, "g", 0);
	apply_expect(&c, &e, 0, NULL);
	mk(&e, "add_lun", "1", "read_only=1", TDM_EDIT_M_TARGET, "local1",
	   TDM_EDIT_M_GROUP, "g", TDM_EDIT_M_DEVICE, "r1", 0);
	apply_expect(&c, &e, 0, NULL);
	t = tdm_edit_find_target(&c, "local1");
	assert_ptr_equal(tdm_conf_match_group(t, "host_b"), &t->groups[0]);
	mk(&e, "add_grp_attr", "g", "IncomingUser=u s", TDM_EDIT_M_TARGET,
	   "local1", 0);
	apply_expect(&c, &e, -EINVAL,
		     "GROUP g: IncomingUser is not a scst_local attribute");
	/* back to the default session: not written any more */
	mk(&e, "rem_tgt_attr", "local1", "session_name=host_b", 0);
	apply_expect(&c, &e, 0, NULL);
	assert_string_equal(tdm_edit_find_target(&c, "local1")->session_name,
			    "");
	checks += 16;

	/* ibmvstgt: by the unit address in any form */
	mk(&e, "add_target", "0x3000000A", NULL, TDM_EDIT_M_DRIVER, "ibmvscsis",
	   0);
	apply_expect(&c, &e, 0, NULL);
	t = tdm_edit_find_target(&c, "3000000a");
	assert_non_null(t);
	assert_int_equal(t->driver, TDM_DRV_VIO);
	assert_ptr_equal(tdm_edit_find_target(&c, "0X3000000A"), t);
	mk(&e, "add_target", "3000000A", NULL, TDM_EDIT_M_DRIVER, "ibmvstgt",
	   0);
	apply_expect(&c, &e, -EEXIST, "target '3000000A' already exists");
	mk(&e, "add_target", "vscsi0", NULL, TDM_EDIT_M_DRIVER, "ibmvstgt", 0);
	apply_expect(&c, &e, -EINVAL,
		     "bad TARGET name 'vscsi0': not a unit address (1 to 8 hex "
		     "digits, 0x allowed)");
	mk(&e, "add_lun", "0", NULL, TDM_EDIT_M_TARGET, "0x3000000a",
	   TDM_EDIT_M_DEVICE, "r0", TDM_EDIT_M_DRIVER, "ibmvstgt", 0);
	apply_expect(&c, &e, 0, NULL);
	mk(&e, "set_tgt_attr", "3000000a", "session_name=h", 0);
	apply_expect(&c, &e, -EINVAL,
		     "TARGET 3000000a: session_name is a scst_local attribute, "
		     "not an ibmvstgt one");
	mk(&e, "add_tgt_attr", "3000000a", "allowed_portal=10.*", 0);
	apply_expect(&c, &e, -EINVAL,
		     "TARGET 3000000a: allowed_portal is not an ibmvstgt "
		     "attribute");
	mk(&e, "disable_target", "0x3000000a", NULL, TDM_EDIT_M_DRIVER,
	   "ibmvscsis", 0);
	apply_expect(&c, &e, 0, NULL);
	assert_false(tdm_edit_find_target(&c, "3000000a")->enabled);
	mk(&e, "disable_target", "3000000a", NULL, TDM_EDIT_M_DRIVER,
	   "qla2x00t", 0);
	apply_expect(&c, &e, -EINVAL,
		     "target 3000000a is an ibmvstgt target, not qla2x00t");
	checks += 8;

	/* qla2x00t: WWPNs, for the target and its initiators */
	mk(&e, "add_target", WWPN0X, "rel_tgt_id=9", TDM_EDIT_M_DRIVER,
	   "qla2x00t", 0);
	apply_expect(&c, &e, 0, NULL);
	t = tdm_edit_find_target(&c, WWPN);
	assert_non_null(t);
	assert_int_equal(t->driver, TDM_DRV_FC);
	assert_int_equal(t->rel_tgt_id, 9);
	mk(&e, "add_target", "21:00:00:24:ff:31:4c", NULL, TDM_EDIT_M_DRIVER,
	   "qla2x00t", 0);
	apply_expect(
		&c, &e, -EINVAL,
		"bad TARGET name '21:00:00:24:ff:31:4c': not a WWPN (8 "
		"groups of 2 hex digits separated by ':', or 0x and 16 hex "
		"digits)");
	mk(&e, "add_target", "3000000a", NULL, TDM_EDIT_M_DRIVER, "scst_local",
	   0);
	apply_expect(&c, &e, -EEXIST, "target '3000000a' already exists");
	/* another driver's unit address in another form: the parser judges */
	mk(&e, "add_target", "0x3000000a", NULL, TDM_EDIT_M_DRIVER, "qla2x00t",
	   0);
	apply_expect(&c, &e, -EINVAL,
		     "bad TARGET name '0x3000000a': not a WWPN (8 groups of 2 "
		     "hex digits separated by ':', or 0x and 16 hex digits)");
	mk(&e, "add_target", "0x3000000A", NULL, TDM_EDIT_M_DRIVER,
	   "scst_local", 0);
	apply_expect(&c, &e, 0, NULL);
	assert_int_equal(tdm_edit_find_target(&c, "0x3000000A")->driver,
			 TDM_DRV_LOCAL);
	assert_int_equal(tdm_edit_find_target(&c, "0x3000000a")->driver,
			 TDM_DRV_VIO);
	mk(&e, "rem_target", "0x3000000A", NULL, TDM_EDIT_M_DRIVER,
	   "scst_local", 0);
	apply_expect(&c, &e, 0, NULL);
	mk(&e, "add_target", "3000000b", NULL, TDM_EDIT_M_DRIVER, "scst_local",
	   0);
	apply_expect(&c, &e, 0, NULL);
	mk(&e, "add_target", "0x3000000B", NULL, TDM_EDIT_M_DRIVER, "ibmvstgt",
	   0);
	apply_expect(&c, &e, -EINVAL,
		     "duplicate TARGET 3000000b (under TARGET_DRIVER "
		     "scst_local)");
	mk(&e, "rem_target", "3000000b", NULL, TDM_EDIT_M_DRIVER, "scst_local",
	   0);
	apply_expect(&c, &e, 0, NULL);
	mk(&e, "add_group", "hosts", NULL, TDM_EDIT_M_TARGET, WWPN0X,
	   TDM_EDIT_M_DRIVER, "qla2x00t", 0);
	apply_expect(&c, &e, 0, NULL);
	mk(&e, "add_init", "0x21000024FF314C49", NULL, TDM_EDIT_M_TARGET, WWPN,
	   TDM_EDIT_M_GROUP, "hosts", 0);
	apply_expect(&c, &e, 0, NULL);
	assert_string_equal(
		tdm_edit_find_target(&c, WWPN)->groups[0].initiators[0],
		WWPN_I1);
	mk(&e, "add_init", "21:00:00:24:FF:31:4C:49", NULL, TDM_EDIT_M_TARGET,
	   WWPN, TDM_EDIT_M_GROUP, "hosts", 0);
	apply_expect(&c, &e, -EEXIST,
		     "initiator pattern '21:00:00:24:FF:31:4C:49' is already "
		     "in group hosts of target " WWPN);
	mk(&e, "add_init", "21:00:00:24:ff:31:4c:*", NULL, TDM_EDIT_M_TARGET,
	   WWPN, TDM_EDIT_M_GROUP, "hosts", 0);
	apply_expect(&c, &e, -EINVAL,
		     "GROUP hosts: bad INITIATOR '21:00:00:24:ff:31:4c:*': a "
		     "qla2x00t initiator is a WWPN, 8 groups of 2 hex digits "
		     "separated by ':' or 0x and 16 hex digits");
	mk(&e, "add_lun", "4", NULL, TDM_EDIT_M_TARGET, WWPN, TDM_EDIT_M_GROUP,
	   "hosts", TDM_EDIT_M_DEVICE, "r1", 0);
	apply_expect(&c, &e, 0, NULL);
	mk(&e, "set_tgt_attr", WWPN, "refuse_unmatched_initiators=1", 0);
	apply_expect(&c, &e, -EINVAL,
		     "TARGET " WWPN ": refuse_unmatched_initiators is not a "
		     "qla2x00t attribute");
	checks += 14;

	/* written and read back: the same */
	assert_int_equal(tdm_conf_write(&c, &w, &n), 0);
	assert_non_null(strstr(w, "TARGET_DRIVER scst_local {\n"
				  "\tenabled 0\n"));
	assert_non_null(strstr(w, "TARGET_DRIVER ibmvstgt {\n"
				  "\tenabled 0\n"));
	assert_non_null(strstr(w, "TARGET_DRIVER qla2x00t {\n"
				  "\tenabled 1\n"));
	assert_int_equal(tdm_conf_parse(w, n, "w", &back, err, sizeof(err)), 0);
	assert_true(tdm_conf_equal(&c, &back));
	tdm_conf_free(&back);
	free(w);

	/* removals, by the other forms of the names */
	mk(&e, "rem_init", "0X21000024FF314C49", NULL, TDM_EDIT_M_TARGET,
	   WWPN0X, TDM_EDIT_M_GROUP, "hosts", 0);
	apply_expect(&c, &e, 0, NULL);
	mk(&e, "rem_group", "hosts", NULL, TDM_EDIT_M_TARGET, WWPN0X, 0);
	apply_expect(&c, &e, 0, NULL);
	mk(&e, "rem_target", WWPN0X, NULL, TDM_EDIT_M_DRIVER, "qla2x00t", 0);
	apply_expect(&c, &e, 0, NULL);
	mk(&e, "rem_lun", "0", NULL, TDM_EDIT_M_TARGET, "0x3000000A",
	   TDM_EDIT_M_DRIVER, "ibmvscsis", 0);
	apply_expect(&c, &e, 0, NULL);
	mk(&e, "rem_target", "0x3000000A", NULL, TDM_EDIT_M_DRIVER, "iscsi", 0);
	apply_expect(&c, &e, -EINVAL,
		     "target 3000000a is an ibmvstgt target, not iscsi");
	mk(&e, "rem_target", "0x3000000A", NULL, 0);
	apply_expect(&c, &e, 0, NULL);
	mk(&e, "rem_target", "local1", NULL, TDM_EDIT_M_DRIVER, "scst_local",
	   0);
	apply_expect(&c, &e, 0, NULL);
	mk(&e, "set_drv_attr", "scst_local", "enabled=1", 0);
	apply_expect(&c, &e, 0, NULL);
	mk(&e, "set_drv_attr", "ibmvstgt", "enabled=1", 0);
	apply_expect(&c, &e, 0, NULL);
	assert_true(tdm_conf_equal(&c, &before));
	/* and nothing of the kernel fabrics is written any more */
	assert_int_equal(tdm_conf_write(&c, &w, &n), 0);
	assert_null(strstr(w, "scst_local"));
	assert_null(strstr(w, "ibmvstgt"));
	assert_null(strstr(w, "qla2x00t"));
	free(w);
	checks += 4;
	tdm_conf_free(&c);
	tdm_conf_free(&before);
	printf("kernel fabric edits: %d refusals and results checked\n",
	       checks);
}

/* ---- the edit log ---- */

static void put_edit(struct tdm_edit_log *l, const char *grp)
{
	struct tdm_edit e;
	uint8_t *p;
	size_t n;

	mk(&e, "add_group", grp, NULL, TDM_EDIT_M_TARGET, T1, 0);
	assert_int_equal(tdm_edit_encode(&e, &p, &n), 0);
	assert_int_equal(tdm_edit_log_append(l, p, n), 0);
	free(p);
	tdm_edit_free(&e);
}

static void enc(const struct tdm_edit_log *l, struct tdm_wbuf *w)
{
	tdm_wbuf_reset(w);
	tdm_edit_log_put(l, w);
	assert_false(w->oom);
}

static void test_log_roundtrip(void **state)
{
	struct tdm_edit_log l = {0}, d;
	struct tdm_wbuf w = {0};
	const uint8_t *p;
	size_t n;

	(void)state;
	put_edit(&l, "a");
	put_edit(&l, "b");
	put_edit(&l, "c");
	assert_int_equal(l.epoch, 3);
	enc(&l, &w);
	p = w.p;
	n = w.len;
	assert_int_equal(tdm_edit_log_decode(p, n, &d, err, sizeof(err)), 0);
	assert_int_equal(d.epoch, 3);
	assert_int_equal(d.n, 3);
	assert_int_equal(d.v[0].epoch, 1);
	assert_int_equal(d.v[2].epoch, 3);
	assert_int_equal(tdm_edit_log_reaches(&d, 0, err, sizeof(err)), 0);
	assert_int_equal(tdm_edit_log_reaches(&d, 2, err, sizeof(err)), 0);
	assert_int_equal(tdm_edit_log_reaches(&d, 9, err, sizeof(err)), 0);
	tdm_edit_log_free(&d);
	/* every prefix and trailing bytes refused */
	for (size_t i = 0; i < n; i++)
		assert_int_not_equal(
			tdm_edit_log_decode(p, i, &d, err, sizeof(err)), 0);
	tdm_wbuf_put_u8(&w, 0);
	assert_int_equal(
		tdm_edit_log_decode(w.p, w.len, NULL, err, sizeof(err)),
		-EBADMSG);
	/* cut back to epoch 2 (a file written before the third edit) */
	tdm_edit_log_truncate(&l, 2);
	assert_int_equal(l.epoch, 2);
	assert_int_equal(l.n, 2);
	tdm_edit_log_free(&l);
	tdm_wbuf_free(&w);
}

static void test_log_bad(void **state)
{
	struct tdm_edit_log l = {0}, d;
	struct tdm_wbuf w = {0};
	uint8_t *p;
	size_t n;

	(void)state;
	put_edit(&l, "a");
	put_edit(&l, "b");
	enc(&l, &w);
	p = w.p;
	n = w.len;
	/* layout: 4+4 magic, 2 version, 8 epoch, 4 n, then entries */
	p[9] = 2; /* version */
	assert_int_equal(tdm_edit_log_decode(p, n, &d, err, sizeof(err)),
			 -EPROTO);
	p[9] = 1;
	p[17] = 7; /* epoch 7 with entries 1, 2: not consecutive to it */
	assert_int_equal(tdm_edit_log_decode(p, n, &d, err, sizeof(err)),
			 -EBADMSG);
	p[17] = 1; /* epoch 1 with 2 entries */
	assert_int_equal(tdm_edit_log_decode(p, n, &d, err, sizeof(err)),
			 -EBADMSG);
	p[17] = 2;
	p[21] = 3; /* n = 3 */
	assert_int_equal(tdm_edit_log_decode(p, n, &d, err, sizeof(err)),
			 -EBADMSG);
	p[18] = 0x7f; /* n huge */
	assert_int_equal(tdm_edit_log_decode(p, n, &d, err, sizeof(err)),
			 -EBADMSG);
	p[18] = 0;
	p[21] = 2;
	p[29] = 5; /* the first entry's epoch */
	assert_int_equal(tdm_edit_log_decode(p, n, &d, err, sizeof(err)),
			 -EBADMSG);
	p[29] = 1;
	p[38] = 'X'; /* inside the first edit's magic */
	assert_int_equal(tdm_edit_log_decode(p, n, &d, err, sizeof(err)),
			 -EBADMSG);
	assert_non_null(strstr(err, "entry 1"));
	p[38] = 'T';
	assert_int_equal(tdm_edit_log_decode(p, n, &d, err, sizeof(err)), 0);
	tdm_edit_log_free(&d);
	tdm_edit_log_free(&l);
	tdm_wbuf_free(&w);
}

static void test_log_limits(void **state)
{
	struct tdm_edit_log l = {0};

	(void)state;
	for (unsigned i = 0; i < TDM_EDIT_LOG_MAX + 5; i++)
		put_edit(&l, "g");
	assert_int_equal(l.epoch, TDM_EDIT_LOG_MAX + 5);
	assert_int_equal(l.n, TDM_EDIT_LOG_MAX);
	assert_int_equal(l.v[0].epoch, 6);
	/* a head at epoch 5 can catch up, one at 4 cannot */
	assert_int_equal(tdm_edit_log_reaches(&l, 5, err, sizeof(err)), 0);
	assert_int_equal(tdm_edit_log_reaches(&l, 4, err, sizeof(err)),
			 -ESTALE);
	assert_non_null(strstr(err, "copy the configuration file"));
	tdm_edit_log_free(&l);
	/* an empty log at epoch 3 feeds only heads at 3 or more */
	l.epoch = 3;
	assert_int_equal(tdm_edit_log_reaches(&l, 2, err, sizeof(err)),
			 -ESTALE);
	assert_int_equal(tdm_edit_log_reaches(&l, 3, err, sizeof(err)), 0);
}

/* the EDIT request of the control protocol */
static void test_edit_verb(void **state)
{
	struct tdm_ctl_req r = {.verb = TDM_CTL_EDIT, .payload_len = 47};
	char line[64];

	(void)state;
	assert_int_equal(tdm_ctl_req_format(&r, line, sizeof(line)), 8);
	assert_string_equal(line, "EDIT 47\n");
	assert_int_equal(tdm_ctl_req_parse("EDIT 47", 7, &r, err, sizeof(err)),
			 0);
	assert_int_equal(r.verb, TDM_CTL_EDIT);
	assert_int_equal(r.payload_len, 47);
	assert_int_equal(tdm_ctl_req_parse("EDIT", 4, &r, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(tdm_ctl_req_parse("EDIT x", 6, &r, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(
		tdm_ctl_req_parse("EDIT 99999999999", 16, &r, err, sizeof(err)),
		-EMSGSIZE);
	assert_int_equal(tdm_ctl_req_parse("EDIT 1 2", 8, &r, err, sizeof(err)),
			 -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_encode_refuses),
		cmocka_unit_test(test_decode_mutations),
		cmocka_unit_test(test_decode_bad),
		cmocka_unit_test(test_scope),
		cmocka_unit_test(test_apply),
		cmocka_unit_test(test_apply_srp),
		cmocka_unit_test(test_apply_kernel),
		cmocka_unit_test(test_log_roundtrip),
		cmocka_unit_test(test_log_bad),
		cmocka_unit_test(test_log_limits),
		cmocka_unit_test(test_edit_verb),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
