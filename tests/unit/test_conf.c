/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * test_conf.c - the scst.conf reader/writer (conf/conf_*.c): a full
 * example field by field, defaults, round trips, every class of error
 * with its exact file:line, wildcards and initiator groups.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "tandem/config.h"

static const char full_example[] =
	"# the example of tandem.conf(5)\n"
	"HANDLER vdisk_fileio {\n" /* 2 */
	"\tDEVICE disk01 {\n"	   /* 3 */
	"\t\tfilename /var/lib/tandem/disk01.img\n"
	"\t\tblocksize 4096\n"
	"\t\tsize 1073741824\n"
	"\t\tread_only 0\n"
	"\t\tnv_cache 1\n"
	"\t\twrite_through 1\n" /* 9 */
	"\t\to_direct 1\n"
	"\t\tthin_provisioned 1\n"
	"\t\trotational 0\n"
	"\t\tremovable 1\n"
	"\t\tt10_vend_id TANDEM\n"
	"\t\tprod_id \"demo disk\"\n"
	"\t\tprod_rev_lvl 0100\n"
	"\t\tt10_dev_id disk01\n"
	"\t\tusn 4a2e9c01\n"
	"\t\tnaa_id 0x6001405ABCDEF0123456789abcdef012\n"
	"\t\teui64_id 0x0123456789abcdef\n"
	"\t}\n"
	"\tDEVICE disk02 {\n" /* 22 */
	"\t\tfilename \"/srv/with space/#2.img\"\n"
	"\t\tread_only 1\n"
	"\t}\n"
	"}\n"
	"HANDLER vdisk_nullio {\n"
	"\tDEVICE disk03 {\n" /* 28 */
	"\t\tsize_mb 64\n"
	"\t}\n"
	"}\n"
	"TARGET_DRIVER iscsi {\n" /* 32 */
	"\tenabled 1\n"
	"\tportal 127.0.0.1:3260\n"
	"\tportal [::1]\n"
	"\tIncomingUser \"user secret\"\n"
	"\tOutgoingUser \"tuser tsecret\"\n"
	"\tMaxRecvDataSegmentLength 262144\n"
	"\tTARGET iqn.2026-11.org.tandem:demo {\n" /* 39 */
	"\t\tenabled 1\n"
	"\t\trel_tgt_id 1\n"
	"\t\tIncomingUser \"user secret\"\n"
	"\t\tIncomingUser user2 secret2\n"
	"\t\tOutgoingUser \"tuser tsecret\"\n"
	"\t\tallowed_portal 127.0.0.*\n"
	"\t\tHeaderDigest None\n"
	"\t\tDataDigest CRC32C\n"
	"\t\tInitialR2T No\n"
	"\t\tImmediateData Yes\n"
	"\t\tMaxRecvDataSegmentLength 262144\n"
	"\t\tMaxXmitDataSegmentLength 131072\n"
	"\t\tMaxBurstLength 1048576\n"
	"\t\tFirstBurstLength 65536\n"
	"\t\tMaxOutstandingR2T 1\n"
	"\t\tQueuedCommands 128\n"
	"\t\tNopInInterval 30\n"
	"\t\tNopInTimeout 20\n"
	"\t\tRspTimeout 90\n"
	"\t\tLUN 0 disk01\n" /* 59 */
	"\t\tLUN 1 disk02 {\n"
	"\t\t\tread_only 1\n"
	"\t\t}\n"
	"\t\tGROUP hosts {\n" /* 63 */
	"\t\t\tLUN 0 disk03\n"
	"\t\t\tINITIATOR iqn.1993-08.org.debian:01:*\n"
	"\t\t\tINITIATOR !iqn.1993-08.org.debian:01:bad*\n"
	"\t\t\tIncomingUser \"u s\"\n"
	"\t\t}\n"
	"\t}\n"
	"\tTARGET iqn.2026-11.org.tandem:second\n" /* 70 */
	"}\n";

/* an ib_srpt target's name: a port GID */
#define GID "fe80:0000:0000:0000:5054:00ff:fe12:3456"

static struct tdm_conf parse_ok(const char *text)
{
	struct tdm_conf c;
	char err[512] = "";
	int r = tdm_conf_parse(text, strlen(text), "t.conf", &c, err,
			       sizeof(err));

	if (r)
		fail_msg("unexpected parse error: %s", err);
	return c;
}

static void test_full_example(void **state)
{
	struct tdm_conf c = parse_ok(full_example);
	const struct tdm_conf_device *d;
	const struct tdm_conf_target *t;
	const struct tdm_conf_group *g;

	(void)state;
	assert_int_equal(c.ndevices, 3);
	d = &c.devices[0];
	assert_string_equal(d->name, "disk01");
	assert_int_equal(d->handler, TDM_HANDLER_FILEIO);
	assert_int_equal(d->line, 3);
	assert_string_equal(d->filename, "/var/lib/tandem/disk01.img");
	assert_int_equal(d->blocksize, 4096);
	assert_true(d->size == 1073741824ull);
	assert_false(d->read_only);
	assert_true(d->nv_cache);
	assert_true(d->write_through);
	assert_true(d->o_direct);
	assert_true(d->thin_provisioned);
	assert_false(d->rotational);
	assert_true(d->removable);
	assert_string_equal(d->t10_vend_id, "TANDEM");
	assert_string_equal(d->prod_id, "demo disk");
	assert_string_equal(d->prod_rev_lvl, "0100");
	assert_string_equal(d->t10_dev_id, "disk01");
	assert_string_equal(d->usn, "4a2e9c01");
	assert_string_equal(d->naa_id, "6001405abcdef0123456789abcdef012");
	assert_string_equal(d->eui64_id, "0123456789abcdef");
	assert_int_equal(d->set_mask,
			 TDM_DA_SIZE | TDM_DA_BLOCKSIZE | TDM_DA_T10_DEV_ID |
				 TDM_DA_USN | TDM_DA_NAA_ID | TDM_DA_EUI64_ID |
				 TDM_DA_PROD_ID | TDM_DA_VEND_ID |
				 TDM_DA_PROD_REV | TDM_DA_ROTATIONAL);

	d = &c.devices[1];
	assert_string_equal(d->name, "disk02");
	assert_int_equal(d->line, 22);
	assert_string_equal(d->filename, "/srv/with space/#2.img");
	assert_true(d->read_only);
	assert_int_equal(d->blocksize, 512);
	assert_true(d->rotational);
	assert_int_equal(d->set_mask, 0);

	d = &c.devices[2];
	assert_string_equal(d->name, "disk03");
	assert_int_equal(d->handler, TDM_HANDLER_NULLIO);
	assert_int_equal(d->line, 28);
	assert_true(d->size == 64ull << 20);
	assert_int_equal(d->set_mask, TDM_DA_SIZE);

	assert_true(c.iscsi_enabled);
	assert_int_equal(c.nportals, 2);
	assert_string_equal(c.portals[0], "127.0.0.1:3260");
	assert_string_equal(c.portals[1], "[::1]:3260");
	assert_int_equal(c.ndiscovery_in_users, 1);
	assert_string_equal(c.discovery_in_users[0].name, "user");
	assert_string_equal(c.discovery_in_users[0].secret, "secret");
	assert_true(c.has_discovery_out_user);
	assert_string_equal(c.discovery_out_user.name, "tuser");
	assert_string_equal(c.discovery_out_user.secret, "tsecret");
	assert_int_equal(c.params.max_recv_data_segment_length, 262144);
	assert_int_equal(c.params.header_digest, -1);
	assert_int_equal(c.params.initial_r2t, -1);
	assert_int_equal(c.params.max_burst_length, 0);

	assert_int_equal(c.ntargets, 2);
	t = &c.targets[0];
	assert_string_equal(t->name, "iqn.2026-11.org.tandem:demo");
	assert_int_equal(t->line, 39);
	assert_true(t->enabled);
	assert_int_equal(t->rel_tgt_id, 1);
	assert_int_equal(t->nin_users, 2);
	assert_string_equal(t->in_users[0].name, "user");
	assert_string_equal(t->in_users[0].secret, "secret");
	assert_string_equal(t->in_users[1].name, "user2");
	assert_string_equal(t->in_users[1].secret, "secret2");
	assert_true(t->has_out_user);
	assert_string_equal(t->out_user.name, "tuser");
	assert_string_equal(t->out_user.secret, "tsecret");
	assert_int_equal(t->nallowed_portals, 1);
	assert_string_equal(t->allowed_portals[0], "127.0.0.*");
	assert_int_equal(t->params.header_digest, 0);
	assert_int_equal(t->params.data_digest, 1);
	assert_int_equal(t->params.initial_r2t, 0);
	assert_int_equal(t->params.immediate_data, 1);
	assert_int_equal(t->params.max_recv_data_segment_length, 262144);
	assert_int_equal(t->params.max_xmit_data_segment_length, 131072);
	assert_int_equal(t->params.max_burst_length, 1048576);
	assert_int_equal(t->params.first_burst_length, 65536);
	assert_int_equal(t->params.max_outstanding_r2t, 1);
	assert_int_equal(t->params.queued_commands, 128);
	assert_int_equal(t->params.nop_in_interval, 30);
	assert_false(t->params.nop_in_disabled);
	assert_int_equal(t->params.nop_in_timeout, 20);
	assert_int_equal(t->params.rsp_timeout, 90);
	assert_int_equal(t->nluns, 2);
	assert_true(t->luns[0].lun == 0);
	assert_string_equal(t->luns[0].device, "disk01");
	assert_false(t->luns[0].read_only);
	assert_int_equal(t->luns[0].line, 59);
	assert_true(t->luns[1].lun == 1);
	assert_string_equal(t->luns[1].device, "disk02");
	assert_true(t->luns[1].read_only);
	assert_int_equal(t->luns[1].line, 60);
	assert_int_equal(t->ngroups, 1);
	g = &t->groups[0];
	assert_string_equal(g->name, "hosts");
	assert_int_equal(g->line, 63);
	assert_int_equal(g->nluns, 1);
	assert_string_equal(g->luns[0].device, "disk03");
	assert_int_equal(g->luns[0].line, 64);
	assert_int_equal(g->ninitiators, 2);
	assert_string_equal(g->initiators[0], "iqn.1993-08.org.debian:01:*");
	assert_string_equal(g->initiators[1],
			    "!iqn.1993-08.org.debian:01:bad*");
	assert_int_equal(g->nin_users, 1);
	assert_string_equal(g->in_users[0].name, "u");
	assert_string_equal(g->in_users[0].secret, "s");

	t = &c.targets[1];
	assert_string_equal(t->name, "iqn.2026-11.org.tandem:second");
	assert_int_equal(t->line, 70);
	assert_false(t->enabled);
	assert_int_equal(t->rel_tgt_id, 0);
	assert_int_equal(t->nluns, 0);
	assert_int_equal(t->params.header_digest, -1);
	assert_int_equal(t->params.immediate_data, -1);
	tdm_conf_free(&c);
}

static void test_defaults(void **state)
{
	struct tdm_conf c = parse_ok("HANDLER vdisk_fileio {\n"
				     "\tDEVICE f {\n"
				     "\t\tfilename /f\n"
				     "\t}\n"
				     "}\n"
				     "HANDLER ram {\n"
				     "\tDEVICE r {\n"
				     "\t\tsize 4096\n"
				     "\t}\n"
				     "}\n"
				     "TARGET_DRIVER iscsi {\n"
				     "\tTARGET iqn.2026-11.x:t {\n"
				     "\t}\n"
				     "}\n");

	(void)state;
	assert_int_equal(c.devices[0].blocksize, 512);
	assert_true(c.devices[0].rotational); /* SCST DEF_ROTATIONAL */
	assert_false(c.devices[0].nv_cache);
	assert_false(c.devices[0].write_through);
	assert_false(c.devices[0].read_only);
	assert_true(c.devices[0].size == 0);
	assert_string_equal(c.devices[0].t10_vend_id, "");
	assert_int_equal(c.devices[0].set_mask, 0);
	assert_false(c.devices[1].rotational); /* ram */
	assert_false(c.iscsi_enabled);	       /* SCST: disabled */
	assert_int_equal(c.nportals, 0);
	assert_false(c.targets[0].enabled);
	assert_int_equal(c.targets[0].params.header_digest, -1);
	assert_int_equal(c.targets[0].params.data_digest, -1);
	assert_int_equal(c.targets[0].params.initial_r2t, -1);
	assert_int_equal(c.targets[0].params.immediate_data, -1);
	assert_int_equal(c.targets[0].params.queued_commands, 0);
	tdm_conf_free(&c);
}

static void test_empty_and_comments(void **state)
{
	static const char *const texts[] = {
		"", "\n\n", "# only a comment", "  # c\n\t\n# d\n", "\r\n",
	};
	struct tdm_conf c;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		assert_int_equal(tdm_conf_parse(texts[i], strlen(texts[i]),
						"t.conf", &c, err, sizeof(err)),
				 0);
		assert_int_equal(c.ndevices, 0);
		assert_int_equal(c.ntargets, 0);
		tdm_conf_free(&c);
	}
	assert_int_equal(
		tdm_conf_parse(NULL, 0, "t.conf", &c, err, sizeof(err)), 0);
	tdm_conf_free(&c);
}

static void test_lexer_forms(void **state)
{
	/* CRLF, blocks on one line, unquoted two-word CHAP users, escapes,
	 * '#' glued to a word, alternative spellings of iSCSI values */
	struct tdm_conf c = parse_ok(
		"HANDLER vdisk_blockio { DEVICE b { filename "
		"\"/dev/a \\\"b\\\" \\\\c\\d\" } }\r\n"
		"HANDLER vdisk_nullio {\r\n"
		"\tDEVICE n {\r\n"
		"\t\tsize 512#comment glued to a value\r\n"
		"\t\tprod_id \"#1 {disk}\"\r\n"
		"\t}\r\n"
		"}\r\n"
		"TARGET_DRIVER iscsi {\n"
		"\tIncomingUser joe s3cr3t\n"
		"\tNopInInterval 0\n"
		"\tHeaderDigest None,CRC32C\n"
		"\tDataDigest crc32c,none\n"
		"\tInitialR2T yes\n"
		"\tImmediateData 0\n"
		"\tTARGET eui.0123456789ABCDEF { LUN 7 n { read_only 1 } }\n"
		"}");

	(void)state;
	assert_string_equal(c.devices[0].filename, "/dev/a \"b\" \\c\\d");
	assert_true(c.devices[1].size == 512);
	assert_string_equal(c.devices[1].prod_id, "#1 {disk}");
	assert_string_equal(c.discovery_in_users[0].name, "joe");
	assert_string_equal(c.discovery_in_users[0].secret, "s3cr3t");
	assert_true(c.params.nop_in_disabled);
	assert_int_equal(c.params.nop_in_interval, 0);
	assert_int_equal(c.params.header_digest, 2);
	assert_int_equal(c.params.data_digest, 2);
	assert_int_equal(c.params.initial_r2t, 1);
	assert_int_equal(c.params.immediate_data, 0);
	assert_true(c.targets[0].luns[0].lun == 7);
	assert_true(c.targets[0].luns[0].read_only);
	assert_int_equal(c.targets[0].luns[0].line, 15);
	tdm_conf_free(&c);
}

static void test_portals(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{"127.0.0.1", "127.0.0.1:3260"},
		{"10.1.2.3:3261", "10.1.2.3:3261"},
		{"0.0.0.0", "0.0.0.0:3260"},
		{"::1", "[::1]:3260"},
		{"[::]", "[::]:3260"},
		{"[0:0:0:0:0:0:0:1]:860", "[::1]:860"},
		{"[fe80::1%eth0]:3262", "[fe80::1%eth0]:3262"},
		{"[2001:DB8::A]", "[2001:db8::a]:3260"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[256];
		struct tdm_conf c;

		snprintf(text, sizeof(text),
			 "TARGET_DRIVER iscsi {\n\tportal %s\n}\n",
			 cases[i].in);
		c = parse_ok(text);
		assert_int_equal(c.nportals, 1);
		assert_string_equal(c.portals[0], cases[i].out);
		tdm_conf_free(&c);
	}
}

/* parse -> write -> parse gives the same; write again, the same bytes */
static void round_trip(const char *text)
{
	struct tdm_conf a = parse_ok(text), b, d;
	char *w1, *w2, err[512];
	size_t n1, n2;

	assert_int_equal(tdm_conf_write(&a, &w1, &n1), 0);
	assert_int_equal(strlen(w1), n1);
	if (tdm_conf_parse(w1, n1, "w", &b, err, sizeof(err)))
		fail_msg("written text does not parse: %s\n%s", err, w1);
	assert_true(tdm_conf_equal(&a, &b));
	assert_int_equal(tdm_conf_write(&b, &w2, &n2), 0);
	assert_int_equal(n1, n2);
	assert_memory_equal(w1, w2, n1);
	assert_int_equal(tdm_conf_dup(&a, &d), 0);
	assert_true(tdm_conf_equal(&a, &d));
	free(w1);
	free(w2);
	tdm_conf_free(&a);
	tdm_conf_free(&b);
	tdm_conf_free(&d);
}

static void test_round_trip(void **state)
{
	(void)state;
	round_trip(full_example);
	round_trip("");
	round_trip("TARGET_DRIVER iscsi {\n\tenabled 0\n}\n");
	round_trip("TARGET_DRIVER iscsi {\n\tmax_pending_logins 32\n}\n");
	round_trip("metrics_listen 127.0.0.1:9363\n");
	round_trip("metrics_listen [::1]:9363\nHANDLER ram {\n DEVICE a {\n "
		   "size 512\n }\n}\n");
	round_trip("TARGET_DRIVER iscsi {\n\tNopInInterval 0\n\tTARGET "
		   "iqn.2026-11.x:t {\n\t\tNopInInterval 0\n\t\tGROUP e\n"
		   "\t}\n}\n");
	round_trip("HANDLER vdisk_fileio {\n\tDEVICE q {\n\t\tfilename "
		   "\"/a \\\"b\\\\\"\n\t\tusn \"x y\"\n\t\tsize 0\n"
		   "\t\tblocksize 512\n\t\trotational 1\n\t}\n}\n");
	round_trip("HANDLER vdisk_rbd {\n\tDEVICE r {\n\t\tpool p\n"
		   "\t\timage i\n\t}\n}\n");
	round_trip("HANDLER vdisk_rbd {\n\tDEVICE r {\n\t\tpool p\n"
		   "\t\timage i\n\t\tceph_conf /c/ceph.conf\n\t\tceph_id t\n"
		   "\t\tceph_keyring /c/k\n\t\trbd_timeout 5\n\t}\n}\n");
	/* handlers interleaved: the device order is kept */
	round_trip("HANDLER ram {\n DEVICE a {\n size 512\n }\n}\n"
		   "HANDLER vdisk_nullio {\n DEVICE b {\n size 512\n }\n}\n"
		   "HANDLER ram {\n DEVICE c {\n size 512\n }\n}\n");
}

/* vdisk_rbd: defaults, every attribute kept, part of equality */
static void test_rbd_attrs(void **state)
{
	struct tdm_conf a = parse_ok("HANDLER vdisk_rbd {\n DEVICE r {\n"
				     "  pool p\n  image i\n }\n}\n"),
			b = parse_ok("HANDLER vdisk_rbd {\n DEVICE r {\n"
				     "  pool p\n  image i\n  ceph_id t\n"
				     "  rbd_timeout 7\n }\n}\n");

	(void)state;
	assert_int_equal(a.devices[0].handler, TDM_HANDLER_RBD);
	assert_string_equal(a.devices[0].rbd_pool, "p");
	assert_string_equal(a.devices[0].rbd_image, "i");
	assert_string_equal(a.devices[0].ceph_conf, "/etc/ceph/ceph.conf");
	assert_string_equal(a.devices[0].ceph_id, "admin");
	assert_string_equal(a.devices[0].ceph_keyring, "");
	assert_int_equal(a.devices[0].rbd_timeout, 30);
	assert_string_equal(b.devices[0].ceph_id, "t");
	assert_int_equal(b.devices[0].rbd_timeout, 7);
	assert_false(tdm_conf_equal(&a, &b));
	assert_string_equal(tdm_handler_name(TDM_HANDLER_RBD), "vdisk_rbd");
	tdm_conf_free(&a);
	tdm_conf_free(&b);
}

/* metrics_listen: normalised, part of equality, kept by dup */
static void test_metrics_listen(void **state)
{
	struct tdm_conf a = parse_ok("metrics_listen [0:0::1]:9363\n"),
			b = parse_ok("metrics_listen 127.0.0.1:9363\n"),
			c = parse_ok(""), d;

	(void)state;
	assert_string_equal(a.metrics_listen, "[::1]:9363");
	assert_string_equal(b.metrics_listen, "127.0.0.1:9363");
	assert_string_equal(c.metrics_listen, "");
	assert_false(tdm_conf_equal(&a, &b));
	assert_false(tdm_conf_equal(&b, &c));
	assert_int_equal(tdm_conf_dup(&b, &d), 0);
	assert_true(tdm_conf_equal(&b, &d));
	tdm_conf_free(&a);
	tdm_conf_free(&b);
	tdm_conf_free(&c);
	tdm_conf_free(&d);
}

static void test_write_canonical(void **state)
{
	struct tdm_conf c = parse_ok(
		"HANDLER vdisk_nullio { DEVICE n {\nsize_mb 1\nprod_id "
		"\"a b\"\n} }\nTARGET_DRIVER iscsi { enabled 1\nTARGET "
		"iqn.2026-11.x:t {\nLUN 0 n { read_only 1 }\n}\n}\n");
	static const char expect[] = "# tandem configuration (scst.conf "
				     "syntax), see tandem.conf(5)\n"
				     "\n"
				     "HANDLER vdisk_nullio {\n"
				     "\tDEVICE n {\n"
				     "\t\tsize 1048576\n"
				     "\t\tprod_id \"a b\"\n"
				     "\t}\n"
				     "}\n"
				     "\n"
				     "TARGET_DRIVER iscsi {\n"
				     "\tenabled 1\n"
				     "\n"
				     "\tTARGET iqn.2026-11.x:t {\n"
				     "\t\tenabled 0\n"
				     "\n"
				     "\t\tLUN 0 n {\n"
				     "\t\t\tread_only 1\n"
				     "\t\t}\n"
				     "\t}\n"
				     "}\n";
	char *w;
	size_t n;

	(void)state;
	assert_int_equal(tdm_conf_write(&c, &w, &n), 0);
	assert_string_equal(w, expect);
	free(w);
	tdm_conf_free(&c);
}

/* A configuration built in code, as tandemctl would. */
static void test_programmatic(void **state)
{
	struct tdm_conf c, b;
	struct tdm_conf_device devs[2];
	struct tdm_conf_lun luns[1] = {{.lun = 5, .device = "m1"}};
	struct tdm_conf_target tg;
	char *w, err[256];
	size_t n;

	(void)state;
	tdm_conf_init(&c);
	tdm_conf_device_init(&devs[0], TDM_HANDLER_RAM);
	snprintf(devs[0].name, sizeof(devs[0].name), "m0");
	devs[0].size = 8192;
	tdm_conf_device_init(&devs[1], TDM_HANDLER_RAM);
	snprintf(devs[1].name, sizeof(devs[1].name), "m1");
	devs[1].size = 4096;
	snprintf(devs[1].usn, sizeof(devs[1].usn), "serial 1");
	memset(&tg, 0, sizeof(tg));
	tdm_conf_params_init(&tg.params);
	snprintf(tg.name, sizeof(tg.name), "iqn.2026-11.x:p");
	tg.luns = luns;
	tg.nluns = 1;
	c.devices = devs;
	c.ndevices = 2;
	c.targets = &tg;
	c.ntargets = 1;
	assert_int_equal(tdm_conf_validate(&c, "built", err, sizeof(err)), 0);
	assert_int_equal(tdm_conf_write(&c, &w, &n), 0);
	assert_int_equal(tdm_conf_parse(w, n, "w", &b, err, sizeof(err)), 0);
	assert_true(b.devices[1].size == 4096);
	assert_string_equal(b.devices[1].usn, "serial 1");
	assert_true(b.targets[0].luns[0].lun == 5);
	free(w);
	tdm_conf_free(&b);

	/* cross references: no line numbers -> "name: problem" */
	snprintf(luns[0].device, sizeof(luns[0].device), "gone");
	assert_int_equal(tdm_conf_validate(&c, "built", err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "built: TARGET iqn.2026-11.x:p: LUN 5: "
				 "unknown device 'gone'");
	snprintf(luns[0].device, sizeof(luns[0].device), "m1");
	snprintf(devs[1].name, sizeof(devs[1].name), "m0");
	assert_int_equal(tdm_conf_validate(&c, "built", err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "duplicate DEVICE m0"));
	snprintf(devs[1].name, sizeof(devs[1].name), "m1");
	devs[1].blocksize = 1024;
	assert_int_equal(tdm_conf_validate(&c, "built", err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "blocksize 1024"));
}

/* tdm_conf_validate() on a configuration built in memory: names given
 * twice (on the line of the second), names without their NUL. */
static void test_validate_names(void **state)
{
	struct tdm_conf c;
	struct tdm_conf_device dev;
	struct tdm_conf_target tg[2];
	struct tdm_conf_group grp[2];
	char err[512];

	(void)state;
	tdm_conf_init(&c);
	tdm_conf_device_init(&dev, TDM_HANDLER_RAM);
	snprintf(dev.name, sizeof(dev.name), "m0");
	dev.size = 4096;
	memset(tg, 0, sizeof(tg));
	memset(grp, 0, sizeof(grp));
	for (int i = 0; i < 2; i++) {
		tdm_conf_params_init(&tg[i].params);
		snprintf(tg[i].name, sizeof(tg[i].name), "iqn.2026-11.x:t%d",
			 i);
		tg[i].line = 10 + i;
		snprintf(grp[i].name, sizeof(grp[i].name), "g");
		grp[i].line = 20 + i;
	}
	c.devices = &dev;
	c.ndevices = 1;
	c.targets = tg;
	c.ntargets = 2;
	assert_int_equal(tdm_conf_validate(&c, "b", err, sizeof(err)), 0);

	tg[1].groups = grp;
	tg[1].ngroups = 2;
	assert_int_equal(tdm_conf_validate(&c, "b", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "b:21: TARGET iqn.2026-11.x:t1: duplicate "
				 "GROUP g (first at line 20)");
	memset(grp[1].name, 'h', sizeof(grp[1].name));
	assert_int_equal(tdm_conf_validate(&c, "b", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "b:11: TARGET iqn.2026-11.x:t1: a GROUP name "
				 "is not terminated");
	tg[1].ngroups = 0;

	snprintf(tg[1].name, sizeof(tg[1].name), "iqn.2026-11.x:t0");
	assert_int_equal(tdm_conf_validate(&c, "b", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "b:11: duplicate TARGET iqn.2026-11.x:t0 "
				 "(first at line 10)");
	memset(tg[1].name, 'i', sizeof(tg[1].name));
	assert_int_equal(tdm_conf_validate(&c, "b", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "b: a TARGET name is not terminated");
	memset(dev.name, 'd', sizeof(dev.name));
	assert_int_equal(tdm_conf_validate(&c, "b", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "b: a DEVICE name is not terminated");
}

/* ---- TARGET_DRIVER ib_srpt ---- */

static const char srp_example[] =
	"HANDLER vdisk_nullio {\n"
	"\tDEVICE disk0 {\n\t\tsize_mb 1\n\t}\n"
	"}\n"
	"TARGET_DRIVER ib_srpt {\n" /* 6 */
	"\tenabled 1\n"
	"\tportal 10.0.2.15\n"
	"\tportal [fe80::1%eth0]:4000\n"
	"\tsrp_max_req_size 8272\n"
	"\tsrp_max_rsp_size 256\n"
	"\tsrp_sq_size 4096\n"
	"\tuse_srq 0\n"
	"\tTARGET FE80:0000:0000:0000:5054:00FF:FE12:3456 {\n" /* 14 */
	"\t\tenabled 1\n"
	"\t\trel_tgt_id 3\n"
	"\t\trefuse_unmatched_initiators 1\n"
	"\t\tLUN 0 disk0\n"
	"\t\tGROUP g1 {\n"
	"\t\t\tLUN 0 disk0\n"
	"\t\t\tINITIATOR 0x0000000000000000505400FFFE123456\n"
	"\t\t\tINITIATOR !0X00*\n"
	"\t\t\tINITIATOR 0x????????????????????????????????\n"
	"\t\t\tINITIATOR *3456\n"
	"\t\t}\n"
	"\t}\n"
	"\tTARGET 0xfe800000000000000002C90300F78FF1\n" /* 27 */
	"}\n"
	"TARGET_DRIVER iscsi {\n"
	"\tenabled 1\n"
	"\tTARGET iqn.2026-11.x:a {\n" /* 31 */
	"\t\tLUN 0 disk0\n"
	"\t}\n"
	"}\n"
	"DEVICE_GROUP dg {\n"
	"\tDEVICE disk0\n"
	"\tTARGET_GROUP tg {\n"
	"\t\tgroup_id 1\n"
	"\t\tTARGET 0xFE80000000000000505400fffe123456\n"
	"\t\tTARGET iqn.2026-11.x:a\n"
	"\t}\n"
	"}\n";

static void test_srp_example(void **state)
{
	struct tdm_conf c = parse_ok(srp_example);
	const struct tdm_conf_target *t;
	const struct tdm_conf_group *g;
	char *w;
	size_t n;

	(void)state;
	assert_true(c.srp.enabled);
	assert_int_equal(c.srp.driver_line, 6);
	assert_int_equal(c.srp.nportals, 2);
	assert_string_equal(c.srp.portals[0], "10.0.2.15:5555");
	assert_string_equal(c.srp.portals[1], "[fe80::1%eth0]:4000");
	assert_int_equal(c.srp.max_req_size, 8272);
	assert_int_equal(c.srp.max_rsp_size, 256);
	assert_int_equal(c.srp.sq_size, 4096);
	/* the iSCSI portals are not touched */
	assert_int_equal(c.nportals, 0);
	assert_true(c.iscsi_enabled);
	/* iSCSI targets first, whichever block came first */
	assert_int_equal(c.ntargets, 3);
	assert_string_equal(c.targets[0].name, "iqn.2026-11.x:a");
	assert_int_equal(c.targets[0].driver, TDM_DRV_ISCSI);
	assert_int_equal(c.targets[0].line, 31);
	t = &c.targets[1];
	assert_string_equal(t->name, GID);
	assert_int_equal(t->driver, TDM_DRV_SRP);
	assert_int_equal(t->line, 14);
	assert_true(t->enabled);
	assert_int_equal(t->rel_tgt_id, 3);
	assert_true(t->refuse_unmatched);
	assert_int_equal(t->nluns, 1);
	assert_int_equal(t->ngroups, 1);
	g = &t->groups[0];
	assert_int_equal(g->ninitiators, 4);
	assert_string_equal(g->initiators[0],
			    "0x0000000000000000505400fffe123456");
	assert_string_equal(g->initiators[1], "!0x00*");
	/* in by "0x???..." (any id), unless "!0x00*" takes it out */
	assert_ptr_equal(
		tdm_conf_match_group(t, "0x1100000000000000505400fffe123457"),
		g);
	assert_null(tdm_conf_match_group(t, "0x0000000000000000505400fffe12"
					    "3456"));
	assert_null(tdm_conf_match_group(t, "0x0011000000000000505400fffe12"
					    "3457"));
	assert_string_equal(c.targets[2].name,
			    "fe80:0000:0000:0000:0002:c903:00f7:8ff1");
	assert_int_equal(c.targets[2].driver, TDM_DRV_SRP);
	assert_false(c.targets[2].enabled);
	/* a TARGET_GROUP's TARGET in the 0x form names the same target */
	assert_string_equal(c.dgrps[0].tgrps[0].ports[0].name, GID);

	assert_int_equal(tdm_conf_write(&c, &w, &n), 0);
	assert_non_null(strstr(w, "\nTARGET_DRIVER ib_srpt {\n"
				  "\tenabled 1\n"
				  "\tportal 10.0.2.15:5555\n"
				  "\tportal [fe80::1%eth0]:4000\n"
				  "\tsrp_max_req_size 8272\n"
				  "\tsrp_max_rsp_size 256\n"
				  "\tsrp_sq_size 4096\n"
				  "\n\tTARGET " GID " {\n"));
	/* ib_srpt after iscsi, and no use_srq (0 is the only value) */
	assert_true(strstr(w, "TARGET_DRIVER iscsi") <
		    strstr(w, "TARGET_DRIVER ib_srpt"));
	assert_null(strstr(w, "use_srq"));
	free(w);
	tdm_conf_free(&c);
	printf("ib_srpt example: 3 targets, 2 portals, 4 INITIATOR patterns "
	       "checked\n");
}

static void test_srp_round_trip(void **state)
{
	struct tdm_conf c;
	char *w;
	size_t n;

	(void)state;
	round_trip(srp_example);
	round_trip("TARGET_DRIVER ib_srpt {\n\tenabled 0\n}\n");
	round_trip("TARGET_DRIVER ib_srpt {\n\tportal [::]\n}\n");
	round_trip("TARGET_DRIVER ib_srpt {\n\tsrp_sq_size 16\n}\n");
	round_trip("TARGET_DRIVER ib_srpt {\n\tTARGET " GID "\n}\n");
	round_trip("TARGET_DRIVER ib_srpt {\n\tTARGET " GID
		   " {\n\t\tGROUP g {\n\t\t\tINITIATOR *\n\t\t}\n\t}\n}\n"
		   "TARGET_DRIVER iscsi {\n\tTARGET iqn.2026-11.x:b\n}\n");
	/* without ib_srpt: written as before, no empty block */
	c = parse_ok(full_example);
	assert_int_equal(tdm_conf_write(&c, &w, &n), 0);
	assert_null(strstr(w, "ib_srpt"));
	free(w);
	tdm_conf_free(&c);
	/* an empty block means the defaults: written as nothing */
	c = parse_ok("TARGET_DRIVER ib_srpt {\n}\n");
	assert_int_equal(c.srp.driver_line, 1);
	assert_int_equal(tdm_conf_write(&c, &w, &n), 0);
	assert_null(strstr(w, "ib_srpt"));
	free(w);
	tdm_conf_free(&c);
}

/* a name and its kept form (out NULL: refused) */
struct name_case {
	const char *in, *out;
};

/* each of the n names v through fn (tdm_srp_target_name(), ...) */
static void name_cases(int (*fn)(const char *, char *, size_t),
		       const struct name_case *v, size_t n)
{
	char out[TDM_SRP_NAME_LEN + 1]; /* the longest kept form */

	for (size_t i = 0; i < n; i++) {
		int r = fn(v[i].in, out, sizeof(out));

		if (v[i].out) {
			if (r != 0 || strcmp(out, v[i].out) != 0)
				fail_msg("'%s': %d '%s', expected '%s'",
					 v[i].in, r, r ? "" : out, v[i].out);
		} else if (r != -EINVAL) {
			fail_msg("'%s' accepted as '%s'", v[i].in, out);
		}
	}
}

static void test_srp_names(void **state)
{
	static const struct name_case v[] = {
		{GID, GID},
		{"FE80:0000:0000:0000:5054:00FF:FE12:3456", GID},
		{"0xfe80000000000000505400fffe123456", GID},
		{"0XFE80000000000000505400FFFE123456", GID},
		{"fe80:0000:0000:0000:5054:00ff:fe12:34567", NULL},
		{"fe80:0000:0000:0000:5054:00ff:fe12:345", NULL},
		{"fe80:0000:0000:0000:5054:00ff:fe12", NULL},
		{"fe80-0000:0000:0000:5054:00ff:fe12:3456", NULL},
		{"fe80::5054:00ff:fe12:3456", NULL},
		{"0xfe80000000000000505400fffe12345", NULL},
		{"0xfe80000000000000505400fffe1234567", NULL},
		{"0x fe80000000000000505400fffe123456", NULL},
		{"fe800000000000005054:00ff:fe12:3456", NULL},
		{"", NULL},
		{"0x", NULL},
	};
	char out[TDM_SRP_NAME_LEN + 1];
	enum tdm_target_driver d;

	(void)state;
	name_cases(tdm_srp_target_name, v, sizeof(v) / sizeof(v[0]));
	assert_int_equal(tdm_srp_target_name(GID, out, sizeof(out) - 1),
			 -EINVAL);
	assert_string_equal(tdm_target_driver_name(TDM_DRV_ISCSI), "iscsi");
	assert_string_equal(tdm_target_driver_name(TDM_DRV_SRP), "ib_srpt");
	assert_string_equal(tdm_target_driver_name(7), "unknown");
	assert_int_equal(tdm_target_driver_from_name("ib_srpt", &d), 0);
	assert_int_equal(d, TDM_DRV_SRP);
	assert_int_equal(tdm_target_driver_from_name("srpt", &d), -ENOENT);
	printf("%zu names tried\n", sizeof(v) / sizeof(v[0]));
}

/* tdm_conf_validate() on ib_srpt parts built in memory */
static void test_srp_validate(void **state)
{
	struct tdm_conf c;
	struct tdm_conf_target tg[2];
	struct tdm_conf_user u = {.name = "u", .secret = "s"};
	char err[512];

	(void)state;
	tdm_conf_init(&c);
	memset(tg, 0, sizeof(tg));
	for (int i = 0; i < 2; i++) {
		tdm_conf_params_init(&tg[i].params);
		tg[i].line = 10 + i;
	}
	snprintf(tg[0].name, sizeof(tg[0].name), "iqn.2026-11.x:t");
	snprintf(tg[1].name, sizeof(tg[1].name), GID);
	tg[1].driver = TDM_DRV_SRP;
	c.targets = tg;
	c.ntargets = 2;
	assert_int_equal(tdm_conf_validate(&c, "b", err, sizeof(err)), 0);
	tg[0].rel_tgt_id = tg[1].rel_tgt_id = 9;
	assert_int_equal(tdm_conf_validate(&c, "b", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "b:11: TARGET " GID ": rel_tgt_id 9 is "
				 "already used by TARGET iqn.2026-11.x:t "
				 "(line 10)");
	tg[0].rel_tgt_id = 0;
	snprintf(tg[0].name, sizeof(tg[0].name), GID);
	assert_int_equal(tdm_conf_validate(&c, "b", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "b:11: duplicate TARGET " GID
				 " (first at line 10)");
	snprintf(tg[0].name, sizeof(tg[0].name), "iqn.2026-11.x:t");
	snprintf(tg[1].name, sizeof(tg[1].name),
		 "FE80:0000:0000:0000:5054:00ff:fe12:3456");
	assert_int_equal(tdm_conf_validate(&c, "b", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "b:11: TARGET FE80:0000:0000:0000:5054:00ff:"
				 "fe12:3456: an ib_srpt target is named by a "
				 "port GID, 8 groups of 4 lowercase hex "
				 "digits separated by ':'");
	snprintf(tg[1].name, sizeof(tg[1].name), GID);
	tg[1].in_users = &u;
	tg[1].nin_users = 1;
	assert_int_equal(tdm_conf_validate(&c, "b", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "b:11: TARGET " GID ": CHAP users and "
				 "allowed_portal are not ib_srpt attributes");
	tg[1].nin_users = 0;
	tg[1].driver = 5;
	assert_int_equal(tdm_conf_validate(&c, "b", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "b:11: TARGET " GID ": bad target driver 5");
	tg[1].driver = TDM_DRV_SRP;
	c.srp.driver_line = 4;
	c.srp.max_rsp_size = 2048;
	assert_int_equal(tdm_conf_validate(&c, "b", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "b:4: TARGET_DRIVER ib_srpt: srp_max_rsp_size "
				 "must be a number in 40..1024, got 2048");
	c.srp.max_rsp_size = 0;
	c.srp.sq_size = 8;
	assert_int_equal(tdm_conf_validate(&c, "b", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "srp_sq_size must be a number in "
				    "16..65536, got 8"));
	c.srp.sq_size = 0;
	c.srp.max_req_size = 100;
	assert_int_equal(tdm_conf_validate(&c, "b", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "srp_max_req_size must be a number in "
				    "996..65536, got 100"));
}

/* dup and equal see the ib_srpt parts */
static void test_srp_dup_equal(void **state)
{
	struct tdm_conf a = parse_ok(srp_example), b;

	(void)state;
	assert_int_equal(tdm_conf_dup(&a, &b), 0);
	assert_true(tdm_conf_equal(&a, &b));
	assert_ptr_not_equal(a.srp.portals, b.srp.portals);
	b.srp.portals[1][1] = 'X';
	assert_false(tdm_conf_equal(&a, &b));
	assert_string_equal(a.srp.portals[1], "[fe80::1%eth0]:4000");
	b.srp.portals[1][1] = 'f';
	assert_true(tdm_conf_equal(&a, &b));
	b.srp.sq_size = 16;
	assert_false(tdm_conf_equal(&a, &b));
	b.srp.sq_size = a.srp.sq_size;
	b.srp.enabled = false;
	assert_false(tdm_conf_equal(&a, &b));
	b.srp.enabled = true;
	b.srp.driver_line = 99; /* lines are not compared */
	assert_true(tdm_conf_equal(&a, &b));
	b.targets[1].driver = TDM_DRV_ISCSI;
	assert_false(tdm_conf_equal(&a, &b));
	tdm_conf_free(&a);
	tdm_conf_free(&b);
}

/* ---- the kernel's fabrics: scst_local, ibmvstgt, qla2x00t ---- */

/* a qla2x00t target's name and two initiators: WWPNs */
#define WWPN "21:00:00:24:ff:31:4c:48"
#define WWPN_I1 "21:00:00:24:ff:31:4c:49"
#define WWPN_I2 "21:00:00:24:ff:31:4c:4a"

static const char kernel_example[] = "HANDLER vdisk_nullio {\n"
				     "\tDEVICE disk0 {\n\t\tsize_mb 1\n\t}\n"
				     "}\n"
				     "TARGET_DRIVER qla2x00t {\n"      /* 6 */
				     "\tTARGET 0x21000024FF314C48 {\n" /* 7 */
				     "\t\trel_tgt_id 7\n"
				     "\t\tLUN 0 disk0\n"
				     "\t\tGROUP hosts {\n" /* 10 */
				     "\t\t\tINITIATOR 21:00:00:24:FF:31:4C:49\n"
				     "\t\t\tINITIATOR 0x21000024ff314c4a\n"
				     "\t\t\tLUN 3 disk0 {\n"
				     "\t\t\t\tread_only 1\n"
				     "\t\t\t}\n"
				     "\t\t}\n"
				     "\t}\n"
				     "}\n"
				     "TARGET_DRIVER ibmvscsis {\n" /* 19 */
				     "\tenabled 1\n"
				     "\tTARGET 0x30000003 {\n" /* 21 */
				     "\t\tLUN 0 disk0\n"
				     "\t}\n"
				     "\tTARGET 0003\n" /* 24 */
				     "}\n"
				     "TARGET_DRIVER scst_local {\n" /* 26 */
				     "\tTARGET local1 {\n"	    /* 27 */
				     "\t\tsession_name host_a\n"
				     "\t\tenabled 0\n"
				     "\t\tLUN 0 disk0\n"
				     "\t\tGROUP g {\n"
				     "\t\t\tINITIATOR host_*\n"
				     "\t\t\tLUN 1 disk0\n"
				     "\t\t}\n"
				     "\t}\n"
				     "\tTARGET local2\n" /* 36 */
				     "}\n"
				     "TARGET_DRIVER iscsi {\n"
				     "\tenabled 1\n"
				     "\tTARGET iqn.2026-11.x:a {\n" /* 40 */
				     "\t\tLUN 0 disk0\n"
				     "\t}\n"
				     "}\n"
				     "DEVICE_GROUP dg {\n"
				     "\tDEVICE disk0\n"
				     "\tTARGET_GROUP tg {\n"
				     "\t\tgroup_id 1\n"
				     "\t\tTARGET 0x30000003\n"
				     "\t\tTARGET 0x21000024FF314C48\n"
				     "\t\tTARGET local1\n"
				     "\t\tTARGET 0x0003\n"
				     "\t\tTARGET iqn.2026-11.x:a\n"
				     "\t}\n"
				     "}\n";

static void test_kernel_example(void **state)
{
	struct tdm_conf c = parse_ok(kernel_example);
	const struct tdm_conf_target *t;
	const struct tdm_conf_group *g;
	const struct tdm_conf_tgrp *tg;
	char *w;
	size_t n;

	(void)state;
	assert_int_equal(c.kdrv[TDM_DRV_LOCAL - TDM_DRV_LOCAL].driver_line, 26);
	assert_int_equal(c.kdrv[TDM_DRV_VIO - TDM_DRV_LOCAL].driver_line, 19);
	assert_int_equal(c.kdrv[TDM_DRV_FC - TDM_DRV_LOCAL].driver_line, 6);
	for (unsigned d = TDM_DRV_LOCAL; d <= TDM_DRV_FC; d++)
		assert_true(tdm_conf_driver_enabled(&c, d));
	assert_true(tdm_conf_driver_enabled(&c, TDM_DRV_ISCSI));
	assert_false(tdm_conf_driver_enabled(&c, TDM_DRV_SRP));
	assert_false(tdm_conf_driver_enabled(&c, 5));
	/* iscsi's first, then one driver after the other */
	assert_int_equal(c.ntargets, 6);
	assert_string_equal(c.targets[0].name, "iqn.2026-11.x:a");
	assert_int_equal(c.targets[0].driver, TDM_DRV_ISCSI);
	assert_false(c.targets[0].enabled); /* iSCSI's default */
	t = &c.targets[1];
	assert_string_equal(t->name, "local1");
	assert_int_equal(t->driver, TDM_DRV_LOCAL);
	assert_int_equal(t->line, 27);
	assert_string_equal(t->session_name, "host_a");
	assert_false(t->enabled);
	assert_int_equal(t->nluns, 1);
	assert_int_equal(t->ngroups, 1);
	g = &t->groups[0];
	assert_ptr_equal(tdm_conf_match_group(t, "host_a"), g);
	assert_null(tdm_conf_match_group(t, TDM_LOCAL_DEF_SESSION));
	t = &c.targets[2];
	assert_string_equal(t->name, "local2");
	assert_int_equal(t->line, 36);
	assert_string_equal(t->session_name, ""); /* the default */
	assert_string_equal(tdm_conf_session_name(t), TDM_LOCAL_DEF_SESSION);
	assert_string_equal(tdm_conf_session_name(&c.targets[1]), "host_a");
	assert_true(t->enabled); /* on unless enabled 0 */
	t = &c.targets[3];
	assert_string_equal(t->name, "30000003");
	assert_int_equal(t->driver, TDM_DRV_VIO);
	assert_int_equal(t->line, 21);
	assert_true(t->enabled);
	assert_string_equal(c.targets[4].name, "3");
	assert_int_equal(c.targets[4].driver, TDM_DRV_VIO);
	assert_int_equal(c.targets[4].line, 24);
	t = &c.targets[5];
	assert_string_equal(t->name, WWPN);
	assert_int_equal(t->driver, TDM_DRV_FC);
	assert_int_equal(t->line, 7);
	assert_int_equal(t->rel_tgt_id, 7);
	g = &t->groups[0];
	assert_int_equal(g->ninitiators, 2);
	assert_string_equal(g->initiators[0], WWPN_I1);
	assert_string_equal(g->initiators[1], WWPN_I2);
	assert_ptr_equal(tdm_conf_match_group(t, WWPN_I2), g);
	assert_int_equal(g->nluns, 1);
	assert_true(g->luns[0].read_only);
	/* a TARGET_GROUP's TARGET in another form names the same target */
	tg = &c.dgrps[0].tgrps[0];
	assert_int_equal(tg->nports, 5);
	assert_string_equal(tg->ports[0].name, "30000003");
	assert_string_equal(tg->ports[1].name, WWPN);
	assert_string_equal(tg->ports[2].name, "local1");
	assert_string_equal(tg->ports[3].name, "3");
	assert_string_equal(tg->ports[4].name, "iqn.2026-11.x:a");

	assert_int_equal(tdm_conf_write(&c, &w, &n), 0);
	assert_non_null(strstr(w, "\nTARGET_DRIVER scst_local {\n"
				  "\tenabled 1\n"
				  "\n\tTARGET local1 {\n"
				  "\t\tenabled 0\n"
				  "\t\tsession_name host_a\n"
				  "\n\t\tLUN 0 disk0\n"));
	/* the default session_name is not written */
	assert_non_null(strstr(w, "\n\tTARGET local2 {\n"
				  "\t\tenabled 1\n"
				  "\t}\n}\n"));
	assert_non_null(strstr(w, "\nTARGET_DRIVER ibmvstgt {\n"
				  "\tenabled 1\n"
				  "\n\tTARGET 30000003 {\n"));
	assert_null(strstr(w, "ibmvscsis"));
	assert_non_null(strstr(w, "\nTARGET_DRIVER qla2x00t {\n"
				  "\tenabled 1\n"
				  "\n\tTARGET " WWPN " {\n"
				  "\t\tenabled 1\n"
				  "\t\trel_tgt_id 7\n"));
	assert_non_null(strstr(w, "\t\t\tINITIATOR " WWPN_I1 "\n"
				  "\t\t\tINITIATOR " WWPN_I2 "\n"));
	assert_true(strstr(w, "TARGET_DRIVER iscsi") <
		    strstr(w, "TARGET_DRIVER scst_local"));
	assert_true(strstr(w, "TARGET_DRIVER scst_local") <
		    strstr(w, "TARGET_DRIVER ibmvstgt"));
	assert_true(strstr(w, "TARGET_DRIVER ibmvstgt") <
		    strstr(w, "TARGET_DRIVER qla2x00t"));
	assert_true(strstr(w, "TARGET_DRIVER qla2x00t") <
		    strstr(w, "DEVICE_GROUP dg"));
	free(w);
	tdm_conf_free(&c);
	printf("kernel fabrics example: 6 targets (2 scst_local, 2 ibmvstgt, "
	       "1 qla2x00t, 1 iscsi), 5 TARGET_GROUP ports checked\n");
}

static void test_kernel_round_trip(void **state)
{
	struct tdm_conf c;
	char *w;
	size_t n;
	int rounds = 0;
	static const char *const texts[] = {
		kernel_example,
		"TARGET_DRIVER scst_local {\n\tenabled 0\n}\n",
		"TARGET_DRIVER ibmvstgt {\n\tenabled 0\n}\n",
		"TARGET_DRIVER ibmvscsis {\n\tenabled 0\n\tTARGET 1\n}\n",
		"TARGET_DRIVER qla2x00t {\n\tenabled 0\n}\n",
		"TARGET_DRIVER scst_local {\n\tTARGET t "
		"{\n\t\tsession_name " TDM_LOCAL_DEF_SESSION "\n\t}\n}\n",
		"TARGET_DRIVER scst_local {\n\tTARGET iqn.2026-11.x:a\n}\n",
		"TARGET_DRIVER qla2x00t {\n\tTARGET " WWPN " {\n\t\tGROUP g "
		"{\n\t\t\tINITIATOR " WWPN_I1 "\n\t\t}\n\t}\n}\n"
		"TARGET_DRIVER ib_srpt {\n\tTARGET " GID "\n}\n",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		round_trip(texts[i]);
		rounds++;
	}
	/* session_name given as the default is kept as given */
	c = parse_ok(texts[5]);
	assert_string_equal(c.targets[0].session_name, TDM_LOCAL_DEF_SESSION);
	assert_int_equal(tdm_conf_write(&c, &w, &n), 0);
	assert_non_null(strstr(w, "session_name " TDM_LOCAL_DEF_SESSION));
	free(w);
	tdm_conf_free(&c);
	/* enabled 0 of the driver, without targets, is kept */
	c = parse_ok(texts[1]);
	assert_true(c.kdrv[0].disabled);
	assert_false(tdm_conf_driver_enabled(&c, TDM_DRV_LOCAL));
	tdm_conf_free(&c);
	/* an empty block means the defaults: written as nothing */
	c = parse_ok("TARGET_DRIVER qla2x00t {\n}\nTARGET_DRIVER scst_local\n"
		     "TARGET_DRIVER ibmvstgt {\n\tenabled 1\n}\n");
	assert_int_equal(c.kdrv[0].driver_line, 3);
	assert_int_equal(tdm_conf_write(&c, &w, &n), 0);
	assert_null(strstr(w, "TARGET_DRIVER"));
	free(w);
	tdm_conf_free(&c);
	printf("%d kernel fabric configurations round-tripped\n", rounds);
}

static void test_kernel_names(void **state)
{
	static const struct name_case vio[] = {
		{"30000003", "30000003"},
		{"0x30000003", "30000003"},
		{"0X3000000A", "3000000a"},
		{"DEADBEEF", "deadbeef"},
		{"0003", "3"},
		{"0x00000000", "0"},
		{"0", "0"},
		{"f", "f"},
		{"300000031", NULL},
		{"0x300000031", NULL},
		{"", NULL},
		{"0x", NULL},
		{"3000000g", NULL},
		{"-3", NULL},
		{"30 0", NULL},
		{"0x0x3", NULL},
	};
	static const struct name_case fc[] = {
		{WWPN, WWPN},
		{"21:00:00:24:FF:31:4C:48", WWPN},
		{"0x21000024ff314c48", WWPN},
		{"0X21000024FF314C48", WWPN},
		{"21000024ff314c48", NULL},
		{"0x21000024ff314c4", NULL},
		{"0x21000024ff314c488", NULL},
		{"21:00:00:24:ff:31:4c", NULL},
		{"21:00:00:24:ff:31:4c:4", NULL},
		{"21:00:00:24:ff:31:4c:488", NULL},
		{"21-00:00:24:ff:31:4c:48", NULL},
		{"2100:0024:ff31:4c48", NULL},
		{"21:00:00:24:ff:31:4c:4g", NULL},
		{"", NULL},
		{"0x", NULL},
	};
	char out[TDM_FC_NAME_LEN + 1];
	enum tdm_target_driver d;

	(void)state;
	name_cases(tdm_vio_target_name, vio, sizeof(vio) / sizeof(vio[0]));
	name_cases(tdm_fc_port_name, fc, sizeof(fc) / sizeof(fc[0]));
	/* out too small; out untouched when refused */
	assert_int_equal(tdm_fc_port_name(WWPN, out, TDM_FC_NAME_LEN), -EINVAL);
	assert_int_equal(tdm_vio_target_name("3", out, TDM_VIO_NAME_LEN),
			 -EINVAL);
	memcpy(out, "keep", 5);
	assert_int_equal(tdm_fc_port_name("0x1", out, sizeof(out)), -EINVAL);
	assert_int_equal(tdm_vio_target_name("x", out, sizeof(out)), -EINVAL);
	assert_string_equal(out, "keep");
	/* the drivers' names, and LIO's for ibmvstgt */
	assert_string_equal(tdm_target_driver_name(TDM_DRV_LOCAL),
			    "scst_local");
	assert_string_equal(tdm_target_driver_name(TDM_DRV_VIO), "ibmvstgt");
	assert_string_equal(tdm_target_driver_name(TDM_DRV_FC), "qla2x00t");
	assert_string_equal(tdm_target_driver_name(5), "unknown");
	assert_int_equal(tdm_target_driver_from_name("scst_local", &d), 0);
	assert_int_equal(d, TDM_DRV_LOCAL);
	assert_int_equal(tdm_target_driver_from_name("ibmvstgt", &d), 0);
	assert_int_equal(d, TDM_DRV_VIO);
	d = TDM_DRV_ISCSI;
	assert_int_equal(tdm_target_driver_from_name("ibmvscsis", &d), 0);
	assert_int_equal(d, TDM_DRV_VIO);
	assert_int_equal(tdm_target_driver_from_name("qla2x00t", &d), 0);
	assert_int_equal(d, TDM_DRV_FC);
	assert_int_equal(tdm_target_driver_from_name("tcm_loop", &d), -ENOENT);
	assert_int_equal(tdm_target_driver_from_name("qla2xxx", &d), -ENOENT);
	assert_int_equal(tdm_target_driver_from_name(NULL, &d), -ENOENT);
	assert_true(TDM_DRV_IS_KERNEL(TDM_DRV_VIO));
	assert_false(TDM_DRV_IS_KERNEL(TDM_DRV_SRP));
	assert_false(TDM_DRV_IS_KERNEL(5));
	printf("%zu unit addresses, %zu WWPNs tried\n",
	       sizeof(vio) / sizeof(vio[0]), sizeof(fc) / sizeof(fc[0]));
}

/* tdm_conf_validate() on kernel fabric targets built in memory */
static void test_kernel_validate(void **state)
{
	struct tdm_conf c;
	struct tdm_conf_target tg[2];
	struct tdm_conf_group g;
	struct tdm_conf_user u = {.name = "u", .secret = "s"};
	char err[512], init[1][TDM_NAME_MAX] = {WWPN_I1};

	(void)state;
	tdm_conf_init(&c);
	memset(tg, 0, sizeof(tg));
	memset(&g, 0, sizeof(g));
	for (int i = 0; i < 2; i++) {
		tdm_conf_params_init(&tg[i].params);
		tg[i].line = 10 + i;
	}
	snprintf(tg[0].name, sizeof(tg[0].name), "local1");
	tg[0].driver = TDM_DRV_LOCAL;
	snprintf(tg[1].name, sizeof(tg[1].name), WWPN);
	tg[1].driver = TDM_DRV_FC;
	snprintf(g.name, sizeof(g.name), "g");
	g.line = 12;
	g.initiators = init;
	g.ninitiators = 1;
	tg[1].groups = &g;
	tg[1].ngroups = 1;
	c.targets = tg;
	c.ntargets = 2;
	assert_int_equal(tdm_conf_validate(&c, "b", err, sizeof(err)), 0);
	/* the same name under two drivers */
	snprintf(tg[0].name, sizeof(tg[0].name), WWPN);
	assert_int_equal(tdm_conf_validate(&c, "b", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "b:11: duplicate TARGET " WWPN
				 " (first at line 10)");
	snprintf(tg[0].name, sizeof(tg[0].name), "local 1");
	assert_int_equal(tdm_conf_validate(&c, "b", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "b:10: TARGET local 1: a scst_local target's "
				 "name and session_name are words (printable "
				 "ASCII without blanks)");
	snprintf(tg[0].name, sizeof(tg[0].name), "local1");
	snprintf(tg[0].session_name, sizeof(tg[0].session_name), "a\tb");
	assert_int_equal(tdm_conf_validate(&c, "b", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "b:10: TARGET local1: a scst_local target's "
				 "name and session_name are words (printable "
				 "ASCII without blanks)");
	tg[0].session_name[0] = '\0';
	snprintf(tg[1].session_name, sizeof(tg[1].session_name), "h");
	assert_int_equal(tdm_conf_validate(&c, "b", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "b:11: TARGET " WWPN ": session_name is a "
				 "scst_local attribute, not a qla2x00t one");
	tg[1].session_name[0] = '\0';
	snprintf(tg[1].name, sizeof(tg[1].name), "0x21000024ff314c48");
	assert_int_equal(tdm_conf_validate(&c, "b", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "b:11: TARGET 0x21000024ff314c48: a qla2x00t "
				 "target is named by a WWPN, 8 groups of 2 "
				 "lowercase hex digits separated by ':'");
	snprintf(tg[1].name, sizeof(tg[1].name), WWPN);
	snprintf(init[0], sizeof(init[0]), "21:00:00:24:ff:31:4c:*");
	assert_int_equal(tdm_conf_validate(&c, "b", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "b:12: TARGET " WWPN ": GROUP g: INITIATOR "
				 "21:00:00:24:ff:31:4c:* is not a WWPN, 8 "
				 "groups of 2 lowercase hex digits separated "
				 "by ':'");
	snprintf(init[0], sizeof(init[0]), WWPN_I1);
	tg[1].refuse_unmatched = true;
	assert_int_equal(tdm_conf_validate(&c, "b", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "b:11: TARGET " WWPN ": "
				 "refuse_unmatched_initiators is not a "
				 "qla2x00t attribute");
	tg[1].refuse_unmatched = false;
	tg[1].in_users = &u;
	tg[1].nin_users = 1;
	assert_int_equal(tdm_conf_validate(&c, "b", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "b:11: TARGET " WWPN ": CHAP users and "
				 "allowed_portal are not qla2x00t attributes");
	tg[1].nin_users = 0;
	/* an ibmvstgt target: a unit address as it is kept */
	snprintf(tg[1].name, sizeof(tg[1].name), "0x30000003");
	tg[1].driver = TDM_DRV_VIO;
	tg[1].ngroups = 0;
	assert_int_equal(tdm_conf_validate(&c, "b", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "b:11: TARGET 0x30000003: an ibmvstgt target "
				 "is named by a unit address, 1 to 8 lowercase "
				 "hex digits without 0x or leading zeros");
	snprintf(tg[1].name, sizeof(tg[1].name), "30000003");
	assert_int_equal(tdm_conf_validate(&c, "b", err, sizeof(err)), 0);
	tg[0].has_out_user = true;
	assert_int_equal(tdm_conf_validate(&c, "b", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "b:10: TARGET local1: CHAP users and "
				 "allowed_portal are not scst_local "
				 "attributes");
	tg[0].has_out_user = false;
	/* session_name on an iSCSI target */
	tg[0].driver = TDM_DRV_ISCSI;
	snprintf(tg[0].name, sizeof(tg[0].name), "iqn.2026-11.x:t");
	snprintf(tg[0].session_name, sizeof(tg[0].session_name), "h");
	assert_int_equal(tdm_conf_validate(&c, "b", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "b:10: TARGET iqn.2026-11.x:t: session_name "
				 "is a scst_local attribute, not an iscsi one");
	printf("11 in-memory kernel fabric configurations validated\n");
}

/* dup and equal see the kernel fabrics' parts */
static void test_kernel_dup_equal(void **state)
{
	struct tdm_conf a = parse_ok(kernel_example), b;

	(void)state;
	assert_int_equal(tdm_conf_dup(&a, &b), 0);
	assert_true(tdm_conf_equal(&a, &b));
	assert_string_equal(b.targets[1].session_name, "host_a");
	b.targets[1].session_name[0] = 'H';
	assert_false(tdm_conf_equal(&a, &b));
	b.targets[1].session_name[0] = 'h';
	assert_true(tdm_conf_equal(&a, &b));
	b.targets[3].driver = TDM_DRV_FC;
	assert_false(tdm_conf_equal(&a, &b));
	b.targets[3].driver = TDM_DRV_VIO;
	b.kdrv[2].disabled = true;
	assert_false(tdm_conf_equal(&a, &b));
	b.kdrv[2].disabled = false;
	b.kdrv[2].driver_line = 99; /* lines are not compared */
	assert_true(tdm_conf_equal(&a, &b));
	assert_ptr_not_equal(a.targets[5].groups[0].initiators,
			     b.targets[5].groups[0].initiators);
	tdm_conf_free(&a);
	tdm_conf_free(&b);
}

static void test_dup_independent(void **state)
{
	struct tdm_conf a = parse_ok(full_example), b;

	(void)state;
	assert_int_equal(tdm_conf_dup(&a, &b), 0);
	assert_true(tdm_conf_equal(&a, &b));
	assert_ptr_not_equal(a.targets[0].groups[0].initiators,
			     b.targets[0].groups[0].initiators);
	b.targets[0].groups[0].initiators[0][0] = 'X';
	assert_false(tdm_conf_equal(&a, &b));
	assert_string_equal(a.targets[0].groups[0].initiators[0],
			    "iqn.1993-08.org.debian:01:*");
	b.targets[0].groups[0].initiators[0][0] = 'i';
	assert_true(tdm_conf_equal(&a, &b));
	b.devices[0].line = 99; /* lines are not compared */
	assert_true(tdm_conf_equal(&a, &b));
	b.devices[0].set_mask = 0;
	assert_false(tdm_conf_equal(&a, &b));
	tdm_conf_free(&a);
	tdm_conf_free(&b);
	tdm_conf_free(&b); /* freeing twice is harmless (free re-inits) */
}

static void test_parse_file(void **state)
{
	char path[] = "/tmp/test_conf_XXXXXX";
	struct tdm_conf c;
	char err[512], expect[600];
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, full_example, sizeof(full_example) - 1),
			 (ssize_t)sizeof(full_example) - 1);
	close(fd);
	assert_int_equal(tdm_conf_parse_file(path, &c, err, sizeof(err)), 0);
	assert_int_equal(c.ndevices, 3);
	tdm_conf_free(&c);

	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "HANDLER x {\n}\n", 14), 14);
	close(fd);
	assert_int_equal(tdm_conf_parse_file(path, &c, err, sizeof(err)),
			 -EINVAL);
	snprintf(expect, sizeof(expect), "%s:1: unknown handler 'x'", path);
	assert_memory_equal(err, expect, strlen(expect));
	tdm_conf_free(&c);
	unlink(path);

	assert_int_equal(tdm_conf_parse_file(path, &c, err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, path));
	assert_int_equal(tdm_conf_parse_file("/tmp", &c, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "not a regular file"));
}

/*
 * The longest word is 4095 bytes, bare or quoted: a filename of that
 * length is read, one byte more is an error on its line.
 */
static void test_word_limit(void **state)
{
	static char text[4300];
	struct tdm_conf c;
	char err[512];

	(void)state;
	for (int quoted = 0; quoted < 2; quoted++) {
		for (size_t n = 4095; n <= 4096; n++) {
			char path[4097];
			int r;

			memset(path, 'a', n);
			path[0] = '/';
			path[n] = '\0';
			snprintf(text, sizeof(text),
				 "HANDLER vdisk_fileio {\n\tDEVICE d {\n"
				 "\t\tfilename %s%s%s\n\t}\n}\n",
				 quoted ? "\"" : "", path, quoted ? "\"" : "");
			r = tdm_conf_parse(text, strlen(text), "t.conf", &c,
					   err, sizeof(err));
			if (n == 4095) {
				if (r)
					fail_msg("quoted %d: %s", quoted, err);
				assert_int_equal(strlen(c.devices[0].filename),
						 4095);
			} else {
				assert_int_equal(r, -EINVAL);
				assert_string_equal(
					err, "t.conf:3: value longer than 4095 "
					     "bytes");
			}
			tdm_conf_free(&c);
		}
	}
}

/* A block holds at most so many elements: 4096 TARGETs in a
 * TARGET_GROUP are read, the 4097th is an error on its line. */
static void test_element_limit(void **state)
{
	static const char head[] =
		"DEVICE_GROUP dg {\n\tTARGET_GROUP tg {\n\t\tgroup_id 1\n";
	char err[512], *text = malloc(sizeof(head) + 4097 * 24);
	struct tdm_conf c;
	size_t len;

	(void)state;
	assert_non_null(text);
	len = (size_t)sprintf(text, "%s", head);
	for (int i = 0; i < 4096; i++)
		len += (size_t)sprintf(text + len, "\t\tTARGET p%d\n", i);
	/* 4096: read as far as the cross references (which find no target
	 * p0 here), so no limit was hit */
	assert_int_equal(
		tdm_conf_parse(text, len, "t.conf", &c, err, sizeof(err)),
		-EINVAL);
	assert_null(strstr(err, "too many"));
	len += (size_t)sprintf(text + len, "\t\tTARGET p4096\n");
	assert_int_equal(
		tdm_conf_parse(text, len, "t.conf", &c, err, sizeof(err)),
		-EINVAL);
	assert_string_equal(err,
			    "t.conf:4100: too many TARGETs (at most 4096)");
	free(text);
}

/* ---- errors: each with its exact file:line ---- */

struct bad {
	const char *name;
	const char *text;
	int line;
	const char *msg; /* must appear in the message; with "t.conf:",
			  * it is the message */
};

#define FIO_HEAD "HANDLER vdisk_fileio {\n\tDEVICE d {\n\t\tfilename /d\n"
#define FIO_TAIL "\t}\n}\n"
#define NUL_HEAD "HANDLER vdisk_nullio {\n\tDEVICE d {\n\t\tsize 4096\n"
#define TGT_HEAD                                                               \
	NUL_HEAD FIO_TAIL "TARGET_DRIVER iscsi {\n\tTARGET iqn.2026-11.x:t "   \
			  "{\n"
/* TGT_HEAD: the TARGET is on line 7, its first attribute on line 8 */
#define TGT_TAIL "\t}\n}\n"
/* SRP_HEAD: TARGET_DRIVER ib_srpt on line 6, its first attribute on line
 * 7; SRPT_HEAD: its TARGET GID on line 7, the first attribute on 8 */
#define SRP_HEAD NUL_HEAD FIO_TAIL "TARGET_DRIVER ib_srpt {\n"
#define SRPT_HEAD SRP_HEAD "\tTARGET " GID " {\n"
/* LOC_HEAD, VIO_HEAD, FC_HEAD: TARGET_DRIVER scst_local, ibmvstgt,
 * qla2x00t on line 6, the first attribute on line 7; LOCT_HEAD,
 * VIOT_HEAD, FCT_HEAD: a TARGET of theirs on line 7, its first attribute
 * on line 8 */
#define LOC_HEAD NUL_HEAD FIO_TAIL "TARGET_DRIVER scst_local {\n"
#define LOCT_HEAD LOC_HEAD "\tTARGET t {\n"
#define VIO_HEAD NUL_HEAD FIO_TAIL "TARGET_DRIVER ibmvstgt {\n"
#define VIOT_HEAD VIO_HEAD "\tTARGET 30000003 {\n"
#define FC_HEAD NUL_HEAD FIO_TAIL "TARGET_DRIVER qla2x00t {\n"
#define FCT_HEAD FC_HEAD "\tTARGET " WWPN " {\n"
#define FC_INIT_BAD                                                            \
	"a qla2x00t initiator is a WWPN, 8 groups of 2 hex digits separated "  \
	"by ':' or 0x and 16 hex digits"

static const struct bad bads[] = {
	{"unknown device attribute", FIO_HEAD "\t\tblcksize 512\n" FIO_TAIL, 4,
	 "DEVICE d: unknown attribute 'blcksize'"},
	{"blocksize", FIO_HEAD "\t\tblocksize 1000\n" FIO_TAIL, 4,
	 "blocksize must be 512 or 4096, got 1000"},
	{"physical_blocksize not a power of two",
	 FIO_HEAD "\t\tphysical_blocksize 3072\n" FIO_TAIL, 4,
	 "DEVICE d: physical_blocksize must be a power of two, got 3072"},
	{"physical_blocksize below blocksize",
	 FIO_HEAD "\t\tphysical_blocksize 2048\n\t\tblocksize 4096\n" FIO_TAIL,
	 4,
	 "DEVICE d: physical_blocksize 2048 must be between blocksize 4096 "
	 "and 32768 times it"},
	{"unterminated block", FIO_HEAD "\t}\n", 4,
	 "unterminated block opened at line 1"},
	{"unterminated at the last line without newline",
	 "HANDLER vdisk_fileio {\n\tDEVICE d {\n\t\tfilename /d", 3,
	 "unterminated block opened at line 2"},
	{"duplicate device",
	 FIO_HEAD FIO_TAIL "HANDLER vdisk_nullio {\n\tDEVICE d {\n"
			   "\t\tsize 512\n\t}\n}\n",
	 7, "duplicate DEVICE d (first at line 2)"},
	{"duplicate LUN in a target",
	 TGT_HEAD "\t\tLUN 0 d\n\t\tLUN 0 d\n" TGT_TAIL, 9,
	 "duplicate LUN 0 (first at line 8)"},
	{"duplicate LUN in a group",
	 TGT_HEAD
	 "\t\tGROUP g {\n\t\t\tLUN 3 d\n\t\t\tLUN 3 d\n\t\t}\n" TGT_TAIL,
	 10, "GROUP g: duplicate LUN 3 (first at line 9)"},
	{"LUN to an unknown device",
	 TGT_HEAD "\t\tLUN 0 d\n\t\tLUN 1 nope\n" TGT_TAIL, 9,
	 "TARGET iqn.2026-11.x:t: LUN 1: unknown device 'nope'"},
	{"group LUN to an unknown device",
	 TGT_HEAD "\t\tGROUP g {\n\t\t\tLUN 2 nope\n\t\t}\n" TGT_TAIL, 9,
	 "TARGET iqn.2026-11.x:t: GROUP g: LUN 2: unknown device 'nope'"},
	{"LUN out of range", TGT_HEAD "\t\tLUN 16384 d\n" TGT_TAIL, 8,
	 "LUN number must be 0..16383, got '16384'"},
	{"LUN with junk", TGT_HEAD "\t\tLUN 1x d\n" TGT_TAIL, 8,
	 "LUN number must be 0..16383, got '1x'"},
	{"LUN without device", TGT_HEAD "\t\tLUN 1\n" TGT_TAIL, 8,
	 "LUN needs a number and a device name"},
	{"LUN block attribute", TGT_HEAD "\t\tLUN 1 d {\n\t\t\tro 1\n\t\t}\n",
	 9, "LUN 1: unknown attribute 'ro'"},
	{"boolean 2", FIO_HEAD "\t\tread_only 2\n" FIO_TAIL, 4,
	 "read_only must be 0 or 1, got '2'"},
	{"boolean yes on a device", FIO_HEAD "\t\tnv_cache yes\n" FIO_TAIL, 4,
	 "nv_cache must be 0 or 1, got 'yes'"},
	{"Yes/No key", TGT_HEAD "\t\tInitialR2T maybe\n" TGT_TAIL, 8,
	 "InitialR2T must be Yes or No, got 'maybe'"},
	{"digest", TGT_HEAD "\t\tHeaderDigest CRC64\n" TGT_TAIL, 8,
	 "HeaderDigest must be None, CRC32C"},
	{"number below range", TGT_HEAD "\t\tMaxBurstLength 511\n" TGT_TAIL, 8,
	 "MaxBurstLength must be a number in 512..16777215, got '511'"},
	{"number with junk", TGT_HEAD "\t\tMaxBurstLength 1024k\n" TGT_TAIL, 8,
	 "MaxBurstLength must be a number in 512..16777215, got '1024k'"},
	{"negative number", TGT_HEAD "\t\tQueuedCommands -1\n" TGT_TAIL, 8,
	 "QueuedCommands must be a number in 1..2048, got '-1'"},
	{"QueuedCommands 0", TGT_HEAD "\t\tQueuedCommands 0\n" TGT_TAIL, 8,
	 "QueuedCommands must be a number in 1..2048"},
	{"NopInInterval", TGT_HEAD "\t\tNopInInterval 3601\n" TGT_TAIL, 8,
	 "NopInInterval must be a number in 0..3600"},
	{"huge number",
	 TGT_HEAD "\t\tRspTimeout 99999999999999999999999\n" TGT_TAIL, 8,
	 "RspTimeout must be a number in 2..65535"},
	{"FirstBurstLength > MaxBurstLength",
	 TGT_HEAD
	 "\t\tFirstBurstLength 65536\n\t\tMaxBurstLength 8192\n" TGT_TAIL,
	 7, "FirstBurstLength 65536 is greater than MaxBurstLength 8192"},
	{"FirstBurstLength > driver MaxBurstLength",
	 TGT_HEAD "\t\tFirstBurstLength 65536\n\t}\n\tMaxBurstLength 8192\n}\n",
	 7, "FirstBurstLength 65536 is greater than MaxBurstLength 8192"},
	{"driver FirstBurstLength > MaxBurstLength",
	 "TARGET_DRIVER iscsi {\n\tMaxBurstLength 8192\n"
	 "\tFirstBurstLength 65536\n}\n",
	 3,
	 "TARGET_DRIVER iscsi: FirstBurstLength 65536 is greater than "
	 "MaxBurstLength 8192"},
	{"given twice",
	 FIO_HEAD "\t\tblocksize 512\n\t\tblocksize 512\n" FIO_TAIL, 5,
	 "DEVICE d: blocksize given twice (first at line 4)"},
	{"size and size_mb", NUL_HEAD "\t\tsize_mb 1\n" FIO_TAIL, 4,
	 "DEVICE d: size given twice"},
	{"target attribute twice",
	 TGT_HEAD "\t\tenabled 1\n\t\tenabled 0\n" TGT_TAIL, 9,
	 "enabled given twice (first at line 8)"},
	{"iSCSI key twice",
	 TGT_HEAD "\t\tDataDigest None\n"
		  "\t\tDataDigest None\n" TGT_TAIL,
	 9, "DataDigest given twice (first at line 8)"},
	{"missing filename",
	 "HANDLER vdisk_blockio {\n\tDEVICE b {\n"
	 "\t\tread_only 1\n\t}\n}\n",
	 2, "DEVICE b: filename is required for vdisk_blockio"},
	{"block-less DEVICE needs a filename",
	 "HANDLER vdisk_fileio {\n\tDEVICE b\n}\n", 2,
	 "filename is required for vdisk_fileio"},
	{"nullio without size",
	 "HANDLER vdisk_nullio {\n\tDEVICE n {\n"
	 "\t}\n}\n",
	 2,
	 "DEVICE n: size (or size_mb) greater than 0 is required for "
	 "vdisk_nullio"},
	{"ram size 0", "HANDLER ram {\n\tDEVICE r {\n\t\tsize 0\n\t}\n}\n", 3,
	 "size (or size_mb) greater than 0 is required for ram"},
	{"filename on nullio", NUL_HEAD "\t\tfilename /x\n" FIO_TAIL, 4,
	 "filename is not valid for vdisk_nullio"},
	{"relative filename",
	 FIO_HEAD "\t}\n\tDEVICE e {\n\t\tfilename e.img\n" FIO_TAIL, 6,
	 "filename must be an absolute path, got 'e.img'"},
	{"o_direct on blockio",
	 "HANDLER vdisk_blockio {\n\tDEVICE b {\n"
	 "\t\to_direct 1\n",
	 3, "o_direct is only valid for vdisk_fileio"},
	{"size not a multiple of blocksize",
	 "HANDLER ram {\n\tDEVICE r {\n\t\tsize 8192\n\t\tblocksize 4096\n"
	 "\t}\n\tDEVICE s {\n\t\tsize 1000\n\t}\n}\n",
	 7, "DEVICE s: size 1000 is not a multiple of blocksize 512"},
	{"size_mb overflow",
	 NUL_HEAD FIO_TAIL "HANDLER ram {\n\tDEVICE r {\n"
			   "\t\tsize_mb 17592186044416\n",
	 8, "size_mb must be a number in 0..17592186044415"},
	{"t10_vend_id too long",
	 FIO_HEAD "\t\tt10_vend_id TANDEM123\n" FIO_TAIL, 4,
	 "t10_vend_id is longer than 8 characters"},
	{"prod_id too long",
	 FIO_HEAD "\t\tprod_id 12345678901234567\n" FIO_TAIL, 4,
	 "prod_id is longer than 16 characters"},
	{"prod_rev_lvl too long", FIO_HEAD "\t\tprod_rev_lvl 01000\n" FIO_TAIL,
	 4, "prod_rev_lvl is longer than 4 characters"},
	{"usn too long",
	 FIO_HEAD
	 "\t\tusn "
	 "0123456789012345678901234567890123456789012345678901234567890123"
	 "\n" FIO_TAIL,
	 4, "usn is longer than 63 characters"},
	{"non-ASCII usn", FIO_HEAD "\t\tusn \"caf\xc3\xa9\"\n" FIO_TAIL, 4,
	 "usn: non-printable character 0xc3"},
	{"control character", FIO_HEAD "\t\tt10_dev_id a\x01z\n" FIO_TAIL, 4,
	 "non-printable character 0x01"},
	{"control character in quotes", FIO_HEAD "\t\tusn \"a\x1b\"\n" FIO_TAIL,
	 4, "non-printable character 0x1b in a quoted string"},
	{"NUL byte", FIO_HEAD "\t\tusn a\0b\n" FIO_TAIL, 4,
	 "non-printable character 0x00"},
	{"naa_id length", FIO_HEAD "\t\tnaa_id 0x600140\n" FIO_TAIL, 4,
	 "naa_id must be 16 or 32 hex digits, got '0x600140'"},
	{"naa_id not hex", FIO_HEAD "\t\tnaa_id 600140512345678g\n" FIO_TAIL, 4,
	 "naa_id must be 16 or 32 hex digits"},
	{"naa_id type", FIO_HEAD "\t\tnaa_id 1001405123456789\n" FIO_TAIL, 4,
	 "an 8-byte NAA identifier starts with 2, 3 or 5"},
	{"eui64_id length",
	 FIO_HEAD "\t\teui64_id 0123456789abcdef0123\n" FIO_TAIL, 4,
	 "eui64_id must be 16, 24 or 32 hex digits"},
	{"unknown target driver", "TARGET_DRIVER qla2xxx {\n}\n", 1,
	 "unknown target driver 'qla2xxx'"},
	{"unknown handler", "\nHANDLER dev_disk {\n}\n", 2,
	 "unknown handler 'dev_disk' (vdisk_fileio, vdisk_blockio, "
	 "vdisk_nullio, vdisk_rbd, vcdrom or ram)"},
	{"handler names are case-sensitive", "HANDLER VCDROM {\n}\n", 1,
	 "unknown handler 'VCDROM'"},
	{"vcdrom blocksize",
	 "HANDLER vcdrom {\n\tDEVICE cd {\n\t\tblocksize 512\n", 3,
	 "DEVICE cd: blocksize of vcdrom is 2048, got 512"},
	{"vdisk_cdrom blocksize",
	 "HANDLER vdisk_cdrom {\n\tDEVICE cd {\n\t\tblocksize 4096\n", 3,
	 "DEVICE cd: blocksize of vcdrom is 2048, got 4096"},
	/* vdisk_rbd (backstores/rbd.c) */
	{"rbd without image",
	 "HANDLER vdisk_rbd {\n\tDEVICE r {\n\t\tpool p\n\t}\n}\n", 2,
	 "DEVICE r: pool and image are required for vdisk_rbd"},
	{"rbd filename", "HANDLER vdisk_rbd {\n\tDEVICE r {\n\t\tfilename /x\n",
	 3, "DEVICE r: filename is not valid for vdisk_rbd"},
	{"pool on fileio", FIO_HEAD "\t\tpool rbd\n" FIO_TAIL, 4,
	 "DEVICE d: pool is only valid for vdisk_rbd"},
	{"rbd image with a slash",
	 "HANDLER vdisk_rbd {\n\tDEVICE r {\n\t\timage rbd/vm1\n", 3,
	 "image: '/' is not allowed in a Ceph name: 'rbd/vm1'"},
	{"rbd image with a snapshot",
	 "HANDLER vdisk_rbd {\n\tDEVICE r {\n\t\timage vm1@snap\n", 3,
	 "image: '@' is not allowed in a Ceph name: 'vm1@snap'"},
	{"rbd ceph_id with client.",
	 "HANDLER vdisk_rbd {\n\tDEVICE r {\n\t\tceph_id client.tandem\n", 3,
	 "ceph_id is the user without 'client.' (as rbd --id), got "
	 "'client.tandem'"},
	{"rbd relative ceph_conf",
	 "HANDLER vdisk_rbd {\n\tDEVICE r {\n\t\tceph_conf ceph.conf\n", 3,
	 "ceph_conf must be an absolute path, got 'ceph.conf'"},
	{"rbd_timeout 0",
	 "HANDLER vdisk_rbd {\n\tDEVICE r {\n\t\trbd_timeout 0\n", 3,
	 "rbd_timeout must be a number in 1..3600, got '0'"},
	{"rbd deferred_open",
	 "HANDLER vdisk_rbd {\n\tDEVICE r {\n\t\tdeferred_open 1\n", 3,
	 "DEVICE r: deferred_open is only valid for vdisk_fileio and "
	 "vdisk_blockio"},
	{"vcdrom physical_blocksize",
	 "HANDLER vcdrom {\n\tDEVICE cd {\n\t\tphysical_blocksize 4096\n", 3,
	 "DEVICE cd: physical_blocksize is not valid for vcdrom"},
	{"vcdrom o_direct", "HANDLER vcdrom {\n\tDEVICE cd {\n\t\to_direct 1\n",
	 3, "DEVICE cd: o_direct is only valid for vdisk_fileio"},
	{"vcdrom relative filename",
	 "HANDLER vcdrom {\n\tDEVICE cd {\n\t\tfilename a.iso\n", 3,
	 "DEVICE cd: filename must be an absolute path, got 'a.iso'"},
	{"vcdrom size", "HANDLER vcdrom {\n\tDEVICE cd {\n\t\tsize 1024\n\t}\n",
	 3, "DEVICE cd: size 1024 is not a multiple of blocksize 2048"},
	{"DEVICE in a vcdrom block, wrong case",
	 "HANDLER vdisk_cdrom {\n\tdevice cd {\n", 2,
	 "HANDLER vdisk_cdrom: unknown keyword 'device'"},
	{"keywords are case-sensitive", "handler vdisk_fileio {\n}\n", 1,
	 "unknown keyword 'handler' (keywords are case-sensitive: HANDLER)"},
	{"Device inside HANDLER", "HANDLER ram {\n\tDevice r {\n", 2,
	 "HANDLER ram: unknown keyword 'Device' (keywords are "
	 "case-sensitive: DEVICE)"},
	{"unknown top-level keyword", "setup_id 0x1234\n", 1,
	 "unknown keyword 'setup_id'"},
	{"SCST attribute not supported",
	 FIO_HEAD "\t\tthreads_num 4\n" FIO_TAIL, 4,
	 "unknown attribute 'threads_num' (an SCST feature"},
	{"TARGET_GROUP outside DEVICE_GROUP", "TARGET_GROUP tg {\n}\n", 1,
	 "TARGET_GROUP outside of its block"},
	{"DEVICE outside HANDLER", "DEVICE d {\n}\n", 1,
	 "DEVICE outside of its block"},
	{"unexpected }", "\n}\n", 2, "unexpected '}'"},
	{"unexpected {", "HANDLER ram {\n\t{\n", 2, "unexpected '{'"},
	{"block after an attribute", FIO_HEAD "\t\tread_only 1 {\n", 4,
	 "DEVICE d: unexpected '{' after 'read_only'"},
	{"unterminated quote", FIO_HEAD "\t\tprod_id \"abc\n" FIO_TAIL, 4,
	 "unterminated quoted string"},
	{"junk after a quote", FIO_HEAD "\t\tprod_id \"abc\"d\n" FIO_TAIL, 4,
	 "unexpected character after a closing quote"},
	{"quote inside a word", FIO_HEAD "\t\tprod_id ab\"c\"\n" FIO_TAIL, 4,
	 "unexpected '\"' inside a word"},
	{"empty value", FIO_HEAD "\t\tprod_id \"\"\n" FIO_TAIL, 4,
	 "empty value"},
	{"missing value", FIO_HEAD "\t\tread_only\n" FIO_TAIL, 4,
	 "DEVICE d: read_only takes one value, got 0"},
	{"too many values", FIO_HEAD "\t\tread_only 1 2 3 4\n" FIO_TAIL, 4,
	 "too many values after 'read_only'"},
	{"rel_tgt_id 0", TGT_HEAD "\t\trel_tgt_id 0\n" TGT_TAIL, 8,
	 "rel_tgt_id must be a number in 1..65535, got '0'"},
	{"duplicate rel_tgt_id",
	 TGT_HEAD "\t\trel_tgt_id 7\n\t}\n\tTARGET iqn.2026-11.x:u {\n"
		  "\t\trel_tgt_id 7\n" TGT_TAIL,
	 10,
	 "TARGET iqn.2026-11.x:u: rel_tgt_id 7 is already used by "
	 "TARGET iqn.2026-11.x:t (line 7)"},
	{"duplicate target", TGT_HEAD "\t}\n\tTARGET iqn.2026-11.x:t\n}\n", 9,
	 "duplicate TARGET iqn.2026-11.x:t (first at line 7)"},
	{"bad target name", "TARGET_DRIVER iscsi {\n\tTARGET foo {\n", 2,
	 "bad TARGET name 'foo': an iSCSI name starts with iqn., eui. or "
	 "naa."},
	/* what login would refuse (lib/iscsi_name.c), refused here too */
	{"eui. name without 16 hex digits",
	 "TARGET_DRIVER iscsi {\n\tTARGET eui.0123456789abcdeg {\n", 2,
	 "bad TARGET name 'eui.0123456789abcdeg': an eui. name has 16 hex "
	 "digits after eui."},
	{"naa. name of 20 hex digits",
	 "TARGET_DRIVER iscsi {\n\tTARGET naa.60014051234567890123 {\n", 2,
	 "bad TARGET name 'naa.60014051234567890123': a naa. name has 16 or "
	 "32 hex digits after naa."},
	{"bare iqn.", "TARGET_DRIVER iscsi {\n\tTARGET iqn. {\n", 2,
	 "bad TARGET name 'iqn.': nothing after iqn."},
	{"target name with a blank",
	 "TARGET_DRIVER iscsi {\n\tTARGET \"iqn.a b\" {\n", 2,
	 "bad TARGET name 'iqn.a b'"},
	{"bad device name", "HANDLER ram {\n\tDEVICE d/1 {\n", 2,
	 "bad DEVICE name 'd/1'"},
	{"device name too long",
	 "HANDLER ram {\n\tDEVICE "
	 "d123456789012345678901234567890123456789012345678901234567890123"
	 " {\n",
	 2, "bad DEVICE name"},
	{"OutgoingUser twice",
	 TGT_HEAD
	 "\t\tOutgoingUser \"a b\"\n\t\tOutgoingUser \"c d\"\n" TGT_TAIL,
	 9, "OutgoingUser given twice (first at line 8)"},
	{"IncomingUser without a secret",
	 TGT_HEAD "\t\tIncomingUser joe\n" TGT_TAIL, 8,
	 "IncomingUser needs \"user secret\""},
	{"IncomingUser with three words",
	 TGT_HEAD "\t\tIncomingUser \"a b c\"\n" TGT_TAIL, 8,
	 "IncomingUser needs \"user secret\""},
	{"IncomingUser twice",
	 TGT_HEAD
	 "\t\tIncomingUser \"joe a\"\n\t\tIncomingUser \"joe b\"\n" TGT_TAIL,
	 9, "IncomingUser 'joe' given twice"},
	{"CHAP secret too long",
	 TGT_HEAD "\t\tOutgoingUser u "
		  "s12345678901234567890123456789012345678901234567890123456789"
		  "012345678901234567890123456789012345678901234567890123456789"
		  "012345678901234567890123456789012345678901234567890123456789"
		  "012345678901234567890123456789012345678901234567890123456789"
		  "012345678901234567890123456789012345678901234567890123456789"
		  "\n" TGT_TAIL,
	 8, "OutgoingUser secret: too long"},
	{"portal host name", "TARGET_DRIVER iscsi {\n\tportal example.com\n", 2,
	 "portal 'example.com': not a numeric IPv4 or IPv6 address"},
	{"portal port", "TARGET_DRIVER iscsi {\n\tportal 1.2.3.4:70000\n", 2,
	 "port must be a number in 1..65535"},
	{"portal bracket", "TARGET_DRIVER iscsi {\n\tportal [::1\n", 2,
	 "missing ']'"},
	{"portal twice",
	 "TARGET_DRIVER iscsi {\n\tportal 127.0.0.1\n"
	 "\tportal 127.0.0.1:3260\n",
	 3, "portal 127.0.0.1:3260 given twice"},
	{"allowed_portal twice",
	 TGT_HEAD "\t\tallowed_portal 10.*\n"
		  "\t\tallowed_portal 10.*\n" TGT_TAIL,
	 9, "allowed_portal 10.* given twice"},
	{"INITIATOR in two groups",
	 TGT_HEAD "\t\tGROUP a {\n\t\t\tINITIATOR iqn.x:*\n\t\t}\n"
		  "\t\tGROUP b {\n\t\t\tINITIATOR iqn.x:*\n" TGT_TAIL,
	 12, "GROUP b: INITIATOR iqn.x:* is already in GROUP a"},
	{"INITIATOR twice in a group",
	 TGT_HEAD "\t\tGROUP a {\n\t\t\tINITIATOR !iqn.x:*\n"
		  "\t\t\tINITIATOR !iqn.x:*\n" TGT_TAIL,
	 10, "GROUP a: INITIATOR !iqn.x:* is already in GROUP a"},
	{"duplicate group", TGT_HEAD "\t\tGROUP a\n\t\tGROUP a\n" TGT_TAIL, 9,
	 "duplicate GROUP a (first at line 8)"},
	{"unknown group attribute",
	 TGT_HEAD "\t\tGROUP a {\n\t\t\tOutgoingUser \"a b\"\n", 9,
	 "GROUP a: unknown attribute 'OutgoingUser'"},
	{"TARGET_DRIVER twice",
	 "TARGET_DRIVER iscsi {\n}\nTARGET_DRIVER iscsi {\n}\n", 3,
	 "TARGET_DRIVER iscsi given twice (first at line 1)"},
	{"unknown driver attribute", "TARGET_DRIVER iscsi {\n\tenable 1\n}\n",
	 2, "TARGET_DRIVER iscsi: unknown attribute 'enable'"},
	/* metrics_listen (targetd/metrics.c) */
	{"metrics_listen a name", "metrics_listen localhost:9363\n", 1,
	 "t.conf:1: metrics_listen 'localhost:9363': not a numeric IPv4 or "
	 "IPv6 address"},
	{"metrics_listen without a port", "\nmetrics_listen 127.0.0.1\n", 2,
	 "t.conf:2: metrics_listen '127.0.0.1': a port is needed (addr:port, "
	 "[v6addr]:port)"},
	{"metrics_listen port 0", "metrics_listen 127.0.0.1:0\n", 1,
	 "port must be a number in 1..65535"},
	{"metrics_listen port 65536", "metrics_listen [::1]:65536\n", 1,
	 "port must be a number in 1..65535"},
	{"metrics_listen junk after ]", "metrics_listen [::1]x:1\n", 1,
	 "junk after ']'"},
	{"metrics_listen two values", "metrics_listen 127.0.0.1:1 2\n", 1,
	 "t.conf:1: metrics_listen takes one value, got 2"},
	{"metrics_listen without a value", "metrics_listen\n", 1,
	 "t.conf:1: metrics_listen takes one value, got 0"},
	{"metrics_listen a block", "metrics_listen 127.0.0.1:1 {\n}\n", 1,
	 "t.conf:1: unexpected '{' after metrics_listen"},
	{"metrics_listen twice",
	 "metrics_listen 127.0.0.1:1\nmetrics_listen 127.0.0.1:1\n", 2,
	 "t.conf:2: metrics_listen given twice"},
	{"metrics_listen in a driver",
	 "TARGET_DRIVER iscsi {\n\tmetrics_listen 127.0.0.1:1\n}\n", 2,
	 "TARGET_DRIVER iscsi: unknown attribute 'metrics_listen'"},
	{"max_pending_logins 0",
	 "TARGET_DRIVER iscsi {\n\tenabled 1\n\tmax_pending_logins 0\n}\n", 3,
	 "max_pending_logins must be a number in 1..65536, got '0'"},
	{"max_pending_logins twice",
	 "TARGET_DRIVER iscsi {\n\tmax_pending_logins 8\n"
	 "\tmax_pending_logins 9\n}\n",
	 3, "max_pending_logins"},
	{"max_pending_logins in a target",
	 TGT_HEAD "\t\tmax_pending_logins 8\n" TGT_TAIL, 8,
	 "TARGET iqn.2026-11.x:t: unknown attribute 'max_pending_logins'"},
	{"unknown target attribute", TGT_HEAD "\t\tQueuedCmds 32\n" TGT_TAIL, 8,
	 "TARGET iqn.2026-11.x:t: unknown attribute 'QueuedCmds'"},
	{"HANDLER without a name", "HANDLER {\n}\n", 1,
	 "HANDLER needs exactly one name"},
	/* the openings of named blocks: one name, a good one, not twice */
	{"DEVICE with two names", "HANDLER ram {\n\tDEVICE a b {\n", 2,
	 "t.conf:2: DEVICE needs exactly one name"},
	{"TARGET without a name", "TARGET_DRIVER iscsi {\n\tTARGET {\n", 2,
	 "t.conf:2: TARGET needs exactly one name"},
	{"GROUP without a name", TGT_HEAD "\t\tGROUP\n" TGT_TAIL, 8,
	 "t.conf:8: TARGET iqn.2026-11.x:t: GROUP needs exactly one name"},
	{"bad group name", TGT_HEAD "\t\tGROUP g/1 {\n", 8,
	 "t.conf:8: TARGET iqn.2026-11.x:t: bad GROUP name 'g/1': only "
	 "letters, digits and _ . : - are allowed"},
	{"DEVICE_GROUP without a name", "\nDEVICE_GROUP {\n}\n", 2,
	 "t.conf:2: DEVICE_GROUP needs exactly one name"},
	{"bad DEVICE_GROUP name", "DEVICE_GROUP d/g {\n}\n", 1,
	 "t.conf:1: bad DEVICE_GROUP name 'd/g': only letters, digits and _ . "
	 ": - are allowed"},
	{"TARGET_GROUP with two names",
	 "DEVICE_GROUP dg {\n\tTARGET_GROUP a b {\n", 2,
	 "t.conf:2: DEVICE_GROUP dg: TARGET_GROUP needs exactly one name"},
	{"bad TARGET_GROUP name", "DEVICE_GROUP dg {\n\tTARGET_GROUP t/g\n", 2,
	 "t.conf:2: DEVICE_GROUP dg: bad TARGET_GROUP name 't/g': only "
	 "letters, digits and _ . : - are allowed"},
	{"TARGET_GROUP TARGET without a name",
	 "DEVICE_GROUP dg {\n\tTARGET_GROUP tg {\n\t\tgroup_id 1\n"
	 "\t\tTARGET\n",
	 4, "t.conf:4: TARGET_GROUP tg: TARGET needs exactly one name"},
	{"bad TARGET_GROUP TARGET name",
	 "DEVICE_GROUP dg {\n\tTARGET_GROUP tg {\n\t\tTARGET \"a b\"\n", 3,
	 "t.conf:3: TARGET_GROUP tg: bad TARGET name 'a b': only printable "
	 "ASCII without blanks is allowed"},
	{"duplicate TARGET_GROUP TARGET",
	 "DEVICE_GROUP dg {\n\tTARGET_GROUP tg {\n\t\tgroup_id 1\n"
	 "\t\tTARGET x {\n\t\t\trel_tgt_id 1\n\t\t}\n\t\tTARGET x\n",
	 7, "t.conf:7: TARGET_GROUP tg: duplicate TARGET x (first at line 4)"},

	/* ---- TARGET_DRIVER ib_srpt ---- */
	{"unknown target driver", "TARGET_DRIVER fc {\n}\n", 1,
	 "t.conf:1: unknown target driver 'fc' (iscsi, ib_srpt, scst_local, "
	 "ibmvstgt or qla2x00t)"},
	{"ib_srpt twice", SRP_HEAD "}\nTARGET_DRIVER ib_srpt {\n}\n", 8,
	 "t.conf:8: TARGET_DRIVER ib_srpt given twice (first at line 6)"},
	{"ib_srpt IncomingUser", SRP_HEAD "\tIncomingUser \"u s\"\n}\n", 7,
	 "t.conf:7: TARGET_DRIVER ib_srpt: IncomingUser is not an ib_srpt "
	 "attribute"},
	{"ib_srpt OutgoingUser", SRP_HEAD "\tOutgoingUser u s\n}\n", 7,
	 "t.conf:7: TARGET_DRIVER ib_srpt: OutgoingUser is not an ib_srpt "
	 "attribute"},
	{"ib_srpt max_pending_logins", SRP_HEAD "\tmax_pending_logins 4\n}\n",
	 7,
	 "t.conf:7: TARGET_DRIVER ib_srpt: max_pending_logins is not an "
	 "ib_srpt attribute"},
	{"ib_srpt iSCSI key", SRP_HEAD "\tMaxRecvDataSegmentLength 65536\n}\n",
	 7,
	 "t.conf:7: TARGET_DRIVER ib_srpt: MaxRecvDataSegmentLength is not "
	 "an ib_srpt attribute"},
	{"ib_srpt unknown attribute", SRP_HEAD "\tsrp_max_rdma_size 1\n}\n", 7,
	 "t.conf:7: TARGET_DRIVER ib_srpt: unknown attribute "
	 "'srp_max_rdma_size'"},
	{"use_srq 1", SRP_HEAD "\tuse_srq 1\n}\n", 7,
	 "t.conf:7: TARGET_DRIVER ib_srpt: use_srq 1 is not supported"},
	{"use_srq 2", SRP_HEAD "\tuse_srq 2\n}\n", 7,
	 "t.conf:7: use_srq must be 0 or 1, got '2'"},
	{"use_srq twice", SRP_HEAD "\tuse_srq 0\n\tuse_srq 0\n}\n", 8,
	 "t.conf:8: TARGET_DRIVER ib_srpt: use_srq given twice (first at "
	 "line 7)"},
	{"ib_srpt enabled 2", SRP_HEAD "\tenabled 2\n}\n", 7,
	 "t.conf:7: enabled must be 0 or 1, got '2'"},
	{"srp_max_req_size low", SRP_HEAD "\tsrp_max_req_size 995\n}\n", 7,
	 "t.conf:7: srp_max_req_size must be a number in 996..65536, got "
	 "'995'"},
	{"srp_max_req_size high", SRP_HEAD "\tsrp_max_req_size 65537\n}\n", 7,
	 "t.conf:7: srp_max_req_size must be a number in 996..65536, got "
	 "'65537'"},
	{"srp_max_rsp_size low", SRP_HEAD "\tsrp_max_rsp_size 39\n}\n", 7,
	 "t.conf:7: srp_max_rsp_size must be a number in 40..1024, got "
	 "'39'"},
	{"srp_max_rsp_size high", SRP_HEAD "\tsrp_max_rsp_size 1025\n}\n", 7,
	 "t.conf:7: srp_max_rsp_size must be a number in 40..1024, got "
	 "'1025'"},
	{"srp_sq_size low", SRP_HEAD "\tsrp_sq_size 15\n}\n", 7,
	 "t.conf:7: srp_sq_size must be a number in 16..65536, got '15'"},
	{"srp_sq_size high", SRP_HEAD "\tsrp_sq_size 65537\n}\n", 7,
	 "t.conf:7: srp_sq_size must be a number in 16..65536, got "
	 "'65537'"},
	{"srp_sq_size junk", SRP_HEAD "\tsrp_sq_size 0x10\n}\n", 7,
	 "t.conf:7: srp_sq_size must be a number in 16..65536, got '0x10'"},
	{"srp_sq_size twice",
	 SRP_HEAD "\tsrp_sq_size 16\n\tsrp_sq_size 16\n}\n", 8,
	 "t.conf:8: TARGET_DRIVER ib_srpt: srp_sq_size given twice (first "
	 "at line 7)"},
	{"ib_srpt bad portal", SRP_HEAD "\tportal 10.0.0.256\n}\n", 7,
	 "t.conf:7: portal '10.0.0.256': not a numeric IPv4 or IPv6 "
	 "address"},
	{"ib_srpt portal twice (default port 5555)",
	 SRP_HEAD "\tportal 10.0.0.1\n\tportal 10.0.0.1:5555\n}\n", 8,
	 "t.conf:8: portal 10.0.0.1:5555 given twice"},
	{"ib_srpt TARGET named as iSCSI", SRP_HEAD "\tTARGET iqn.2026-11.x:t\n",
	 7,
	 "t.conf:7: bad TARGET name 'iqn.2026-11.x:t': not a port GID (8 "
	 "groups of 4 hex digits separated by ':', or 0x and 32 hex "
	 "digits)"},
	{"ib_srpt TARGET 0x and 31 digits",
	 SRP_HEAD "\tTARGET 0xfe80000000000000505400fffe12345\n", 7,
	 "t.conf:7: bad TARGET name '0xfe80000000000000505400fffe12345': not "
	 "a port GID (8 groups of 4 hex digits separated by ':', or 0x and 32 "
	 "hex digits)"},
	{"ib_srpt TARGET a group of 3 digits",
	 SRP_HEAD "\tTARGET fe80:000:0000:0000:5054:00ff:fe12:3456\n", 7,
	 "t.conf:7: bad TARGET name 'fe80:000:0000:0000:5054:00ff:fe12:3456': "
	 "not a port GID (8 groups of 4 hex digits separated by ':', or 0x and "
	 "32 hex digits)"},
	{"ib_srpt TARGET not hex",
	 SRP_HEAD "\tTARGET fe80:0000:0000:0000:5054:00ff:fe12:345g\n", 7,
	 "bad TARGET name 'fe80:0000:0000:0000:5054:00ff:fe12:345g'"},
	{"ib_srpt TARGET twice in two forms",
	 SRP_HEAD "\tTARGET " GID "\n\tTARGET 0xFE800000000000005054"
		  "00FFFE123456\n",
	 8, "t.conf:8: duplicate TARGET " GID " (first at line 7)"},
	{"ib_srpt TARGET IncomingUser", SRPT_HEAD "\t\tIncomingUser u s\n", 8,
	 "t.conf:8: TARGET " GID ": IncomingUser is not an ib_srpt "
	 "attribute"},
	{"ib_srpt TARGET OutgoingUser", SRPT_HEAD "\t\tOutgoingUser u s\n", 8,
	 "t.conf:8: TARGET " GID ": OutgoingUser is not an ib_srpt "
	 "attribute"},
	{"ib_srpt TARGET allowed_portal", SRPT_HEAD "\t\tallowed_portal 10.*\n",
	 8,
	 "t.conf:8: TARGET " GID ": allowed_portal is not an ib_srpt "
	 "attribute"},
	{"ib_srpt TARGET HeaderDigest", SRPT_HEAD "\t\tHeaderDigest None\n", 8,
	 "t.conf:8: TARGET " GID ": HeaderDigest is not an ib_srpt "
	 "attribute"},
	{"ib_srpt TARGET MaxRecvDataSegmentLength",
	 SRPT_HEAD "\t\tMaxRecvDataSegmentLength 8192\n", 8,
	 "t.conf:8: TARGET " GID ": MaxRecvDataSegmentLength is not an "
	 "ib_srpt attribute"},
	{"ib_srpt TARGET unknown attribute", SRPT_HEAD "\t\tio_size 1\n", 8,
	 "t.conf:8: TARGET " GID ": unknown attribute 'io_size'"},
	{"ib_srpt TARGET rel_tgt_id 0", SRPT_HEAD "\t\trel_tgt_id 0\n", 8,
	 "t.conf:8: rel_tgt_id must be a number in 1..65535, got '0'"},
	{"ib_srpt GROUP IncomingUser",
	 SRPT_HEAD "\t\tGROUP g {\n\t\t\tIncomingUser u s\n", 9,
	 "t.conf:9: GROUP g: IncomingUser is not an ib_srpt attribute"},
	{"ib_srpt INITIATOR named as iSCSI",
	 SRPT_HEAD "\t\tGROUP g {\n\t\t\tINITIATOR iqn.1993-08.org.x:*\n", 9,
	 "t.conf:9: GROUP g: bad INITIATOR 'iqn.1993-08.org.x:*': an ib_srpt "
	 "initiator is an SRP initiator port id, 0x and 32 hex digits (* "
	 "and ? allowed)"},
	{"ib_srpt INITIATOR 31 digits",
	 SRPT_HEAD "\t\tGROUP g {\n\t\t\tINITIATOR "
		   "0x0000000000000000505400fffe12345\n",
	 9,
	 "t.conf:9: GROUP g: bad INITIATOR "
	 "'0x0000000000000000505400fffe12345': an ib_srpt initiator is an SRP "
	 "initiator port id, 0x and 32 hex digits (* and ? allowed)"},
	{"ib_srpt INITIATOR 33 digits",
	 SRPT_HEAD "\t\tGROUP g {\n\t\t\tINITIATOR "
		   "0x0000000000000000505400fffe1234567\n",
	 9, "GROUP g: bad INITIATOR '0x0000000000000000505400fffe1234567'"},
	{"ib_srpt INITIATOR not hex",
	 SRPT_HEAD "\t\tGROUP g {\n\t\t\tINITIATOR !0xg*\n", 9,
	 "t.conf:9: GROUP g: bad INITIATOR '!0xg*': an ib_srpt initiator is "
	 "an SRP initiator port id, 0x and 32 hex digits (* and ? allowed)"},
	{"ib_srpt INITIATOR without 0x",
	 SRPT_HEAD "\t\tGROUP g {\n\t\t\tINITIATOR 00*\n", 9,
	 "t.conf:9: GROUP g: bad INITIATOR '00*': an ib_srpt initiator is an "
	 "SRP initiator port id, 0x and 32 hex digits (* and ? allowed)"},
	{"ib_srpt INITIATOR twice in two cases",
	 SRPT_HEAD "\t\tGROUP g {\n\t\t\tINITIATOR 0xAB*\n"
		   "\t\t\tINITIATOR 0xab*\n",
	 10, "t.conf:10: GROUP g: INITIATOR 0xab* is already in GROUP g"},
	{"ib_srpt LUN to an unknown device",
	 SRPT_HEAD "\t\tLUN 1 nope\n\t}\n}\n", 8,
	 "t.conf:8: TARGET " GID ": LUN 1: unknown device 'nope'"},
	{"rel_tgt_id across the drivers",
	 SRPT_HEAD "\t\trel_tgt_id 3\n\t}\n}\nTARGET_DRIVER iscsi {\n"
		   "\tTARGET iqn.2026-11.x:t {\n\t\trel_tgt_id 3\n\t}\n}\n",
	 7,
	 "t.conf:7: TARGET " GID ": rel_tgt_id 3 is already used by TARGET "
	 "iqn.2026-11.x:t (line 12)"},
	/* ---- the kernel's fabrics: scst_local, ibmvstgt, qla2x00t ---- */
	{"scst_local twice", LOC_HEAD "}\nTARGET_DRIVER scst_local {\n}\n", 8,
	 "t.conf:8: TARGET_DRIVER scst_local given twice (first at line 6)"},
	{"ibmvscsis after ibmvstgt", VIO_HEAD "}\nTARGET_DRIVER ibmvscsis\n", 8,
	 "t.conf:8: TARGET_DRIVER ibmvscsis (ibmvstgt) given twice (first at "
	 "line 6)"},
	{"qla2x00t twice", FC_HEAD "}\nTARGET_DRIVER qla2x00t\n", 8,
	 "t.conf:8: TARGET_DRIVER qla2x00t given twice (first at line 6)"},
	{"scst_local IncomingUser", LOC_HEAD "\tIncomingUser \"u s\"\n}\n", 7,
	 "t.conf:7: TARGET_DRIVER scst_local: IncomingUser is not a "
	 "scst_local attribute"},
	{"ibmvstgt OutgoingUser", VIO_HEAD "\tOutgoingUser u s\n}\n", 7,
	 "t.conf:7: TARGET_DRIVER ibmvstgt: OutgoingUser is not an ibmvstgt "
	 "attribute"},
	{"qla2x00t max_pending_logins", FC_HEAD "\tmax_pending_logins 4\n}\n",
	 7,
	 "t.conf:7: TARGET_DRIVER qla2x00t: max_pending_logins is not a "
	 "qla2x00t attribute"},
	{"qla2x00t iSCSI key", FC_HEAD "\tMaxRecvDataSegmentLength 65536\n}\n",
	 7,
	 "t.conf:7: TARGET_DRIVER qla2x00t: MaxRecvDataSegmentLength is not a "
	 "qla2x00t attribute"},
	{"scst_local portal", LOC_HEAD "\tportal 10.0.2.15\n}\n", 7,
	 "t.conf:7: TARGET_DRIVER scst_local: portal is not a scst_local "
	 "attribute"},
	{"ibmvstgt srp_sq_size", VIO_HEAD "\tsrp_sq_size 16\n}\n", 7,
	 "t.conf:7: TARGET_DRIVER ibmvstgt: srp_sq_size is not an ibmvstgt "
	 "attribute"},
	{"qla2x00t use_srq", FC_HEAD "\tuse_srq 0\n}\n", 7,
	 "t.conf:7: TARGET_DRIVER qla2x00t: use_srq is not a qla2x00t "
	 "attribute"},
	{"qla2x00t srp_max_req_size", FC_HEAD "\tsrp_max_req_size 8272\n}\n", 7,
	 "t.conf:7: TARGET_DRIVER qla2x00t: srp_max_req_size is not a "
	 "qla2x00t attribute"},
	{"scst_local session_name of the driver",
	 LOC_HEAD "\tsession_name h\n}\n", 7,
	 "t.conf:7: TARGET_DRIVER scst_local: unknown attribute "
	 "'session_name'"},
	{"qla2x00t unknown attribute", FC_HEAD "\tlink_speed 8\n}\n", 7,
	 "t.conf:7: TARGET_DRIVER qla2x00t: unknown attribute 'link_speed'"},
	{"ibmvstgt enabled 2", VIO_HEAD "\tenabled 2\n}\n", 7,
	 "t.conf:7: enabled must be 0 or 1, got '2'"},
	{"scst_local enabled twice", LOC_HEAD "\tenabled 1\n\tenabled 0\n}\n",
	 8,
	 "t.conf:8: TARGET_DRIVER scst_local: enabled given twice (first at "
	 "line 7)"},
	{"scst_local TARGET IncomingUser", LOCT_HEAD "\t\tIncomingUser u s\n",
	 8, "t.conf:8: TARGET t: IncomingUser is not a scst_local attribute"},
	{"ibmvstgt TARGET allowed_portal",
	 VIOT_HEAD "\t\tallowed_portal 10.*\n", 8,
	 "t.conf:8: TARGET 30000003: allowed_portal is not an ibmvstgt "
	 "attribute"},
	{"qla2x00t TARGET HeaderDigest", FCT_HEAD "\t\tHeaderDigest None\n", 8,
	 "t.conf:8: TARGET " WWPN ": HeaderDigest is not a qla2x00t "
	 "attribute"},
	{"qla2x00t TARGET OutgoingUser", FCT_HEAD "\t\tOutgoingUser u s\n", 8,
	 "t.conf:8: TARGET " WWPN ": OutgoingUser is not a qla2x00t "
	 "attribute"},
	{"scst_local TARGET refuse_unmatched_initiators",
	 LOCT_HEAD "\t\trefuse_unmatched_initiators 1\n", 8,
	 "t.conf:8: TARGET t: refuse_unmatched_initiators is not a scst_local "
	 "attribute"},
	{"ibmvstgt TARGET enabled 2", VIOT_HEAD "\t\tenabled 2\n", 8,
	 "t.conf:8: enabled must be 0 or 1, got '2'"},
	{"ibmvstgt TARGET unknown attribute", VIOT_HEAD "\t\tio_size 1\n", 8,
	 "t.conf:8: TARGET 30000003: unknown attribute 'io_size'"},
	{"ibmvstgt session_name", VIOT_HEAD "\t\tsession_name h\n", 8,
	 "t.conf:8: TARGET 30000003: session_name is a scst_local attribute, "
	 "not an ibmvstgt one"},
	{"qla2x00t session_name", FCT_HEAD "\t\tsession_name h\n", 8,
	 "t.conf:8: TARGET " WWPN ": session_name is a scst_local attribute, "
	 "not a qla2x00t one"},
	{"iscsi session_name", TGT_HEAD "\t\tsession_name h\n", 8,
	 "t.conf:8: TARGET iqn.2026-11.x:t: session_name is a scst_local "
	 "attribute, not an iscsi one"},
	{"ib_srpt session_name", SRPT_HEAD "\t\tsession_name h\n", 8,
	 "t.conf:8: TARGET " GID ": session_name is a scst_local attribute, "
	 "not an ib_srpt one"},
	{"session_name twice",
	 LOCT_HEAD "\t\tsession_name a\n\t\tsession_name b\n", 9,
	 "t.conf:9: TARGET t: session_name given twice (first at line 8)"},
	{"session_name two values", LOCT_HEAD "\t\tsession_name a b\n", 8,
	 "t.conf:8: TARGET t: session_name takes one value, got 2"},
	{"session_name with a blank", LOCT_HEAD "\t\tsession_name \"a b\"\n", 8,
	 "t.conf:8: TARGET t: bad session_name 'a b': only printable ASCII "
	 "without blanks is allowed"},
	{"session_name empty", LOCT_HEAD "\t\tsession_name \"\"\n", 8,
	 "t.conf:8: empty value"},
	{"scst_local TARGET with a blank", LOC_HEAD "\tTARGET \"a b\"\n}\n", 7,
	 "t.conf:7: bad TARGET name 'a b': only printable ASCII without "
	 "blanks is allowed"},
	{"ibmvstgt TARGET 9 digits", VIO_HEAD "\tTARGET 300000031\n}\n", 7,
	 "t.conf:7: bad TARGET name '300000031': not a unit address (1 to 8 "
	 "hex digits, 0x allowed)"},
	{"ibmvstgt TARGET not hex", VIO_HEAD "\tTARGET vscsi0\n}\n", 7,
	 "t.conf:7: bad TARGET name 'vscsi0': not a unit address (1 to 8 hex "
	 "digits, 0x allowed)"},
	{"ibmvstgt TARGET 0x alone", VIO_HEAD "\tTARGET 0x\n}\n", 7,
	 "t.conf:7: bad TARGET name '0x': not a unit address (1 to 8 hex "
	 "digits, 0x allowed)"},
	{"qla2x00t TARGET 7 bytes",
	 FC_HEAD "\tTARGET 21:00:00:24:ff:31:4c\n}\n", 7,
	 "t.conf:7: bad TARGET name '21:00:00:24:ff:31:4c': not a WWPN (8 "
	 "groups of 2 hex digits separated by ':', or 0x and 16 hex "
	 "digits)"},
	{"qla2x00t TARGET 0x and 15 digits",
	 FC_HEAD "\tTARGET 0x21000024ff314c4\n}\n", 7,
	 "t.conf:7: bad TARGET name '0x21000024ff314c4': not a WWPN (8 groups "
	 "of 2 hex digits separated by ':', or 0x and 16 hex digits)"},
	{"qla2x00t TARGET without 0x", FC_HEAD "\tTARGET 21000024ff314c48\n}\n",
	 7,
	 "t.conf:7: bad TARGET name '21000024ff314c48': not a WWPN (8 groups "
	 "of 2 hex digits separated by ':', or 0x and 16 hex digits)"},
	{"ibmvstgt TARGET twice in two forms",
	 VIO_HEAD "\tTARGET 0x30000003\n\tTARGET 30000003\n}\n", 8,
	 "t.conf:8: duplicate TARGET 30000003 (first at line 7)"},
	{"ibmvstgt TARGET twice with leading zeros",
	 VIO_HEAD "\tTARGET 0003\n\tTARGET 0x3\n}\n", 8,
	 "t.conf:8: duplicate TARGET 3 (first at line 7)"},
	{"qla2x00t TARGET twice in two forms",
	 FC_HEAD "\tTARGET " WWPN "\n\tTARGET 0x21000024FF314C48\n}\n", 8,
	 "t.conf:8: duplicate TARGET " WWPN " (first at line 7)"},
	{"scst_local TARGET twice", LOC_HEAD "\tTARGET t\n\tTARGET t\n}\n", 8,
	 "t.conf:8: duplicate TARGET t (first at line 7)"},
	{"a TARGET under scst_local and ibmvstgt",
	 LOC_HEAD "\tTARGET 30000003\n}\nTARGET_DRIVER ibmvstgt {\n"
		  "\tTARGET 0x30000003\n}\n",
	 10,
	 "t.conf:10: duplicate TARGET 30000003 (under TARGET_DRIVER "
	 "scst_local, first at line 7)"},
	{"a TARGET under iscsi and scst_local",
	 TGT_HEAD TGT_TAIL "TARGET_DRIVER scst_local {\n"
			   "\tTARGET iqn.2026-11.x:t\n}\n",
	 11,
	 "t.conf:11: duplicate TARGET iqn.2026-11.x:t (under TARGET_DRIVER "
	 "iscsi, first at line 7)"},
	{"a TARGET under qla2x00t and scst_local",
	 FCT_HEAD "\t}\n}\nTARGET_DRIVER scst_local {\n\tTARGET " WWPN "\n}\n",
	 11,
	 "t.conf:11: duplicate TARGET " WWPN " (under TARGET_DRIVER "
	 "qla2x00t, first at line 7)"},
	{"qla2x00t INITIATOR pattern",
	 FCT_HEAD "\t\tGROUP g {\n\t\t\tINITIATOR 21:00:00:24:ff:31:4c:*\n", 9,
	 "t.conf:9: GROUP g: bad INITIATOR "
	 "'21:00:00:24:ff:31:4c:*': " FC_INIT_BAD},
	{"qla2x00t INITIATOR named as iSCSI",
	 FCT_HEAD "\t\tGROUP g {\n\t\t\tINITIATOR iqn.1993-08.org.x:a\n", 9,
	 "t.conf:9: GROUP g: bad INITIATOR "
	 "'iqn.1993-08.org.x:a': " FC_INIT_BAD},
	{"qla2x00t INITIATOR with !",
	 FCT_HEAD "\t\tGROUP g {\n\t\t\tINITIATOR !" WWPN_I1 "\n", 9,
	 "t.conf:9: GROUP g: bad INITIATOR '!" WWPN_I1 "': " FC_INIT_BAD},
	{"qla2x00t INITIATOR twice in two forms",
	 FCT_HEAD "\t\tGROUP g {\n\t\t\tINITIATOR " WWPN_I1
		  "\n\t\t\tINITIATOR 0x21000024FF314C49\n",
	 10, "t.conf:10: GROUP g: INITIATOR " WWPN_I1 " is already in GROUP g"},
	{"qla2x00t INITIATOR in two GROUPs",
	 FCT_HEAD
	 "\t\tGROUP g {\n\t\t\tINITIATOR " WWPN_I1
	 "\n\t\t}\n\t\tGROUP h {\n\t\t\tINITIATOR 0x21000024ff314c49\n",
	 12, "t.conf:12: GROUP h: INITIATOR " WWPN_I1 " is already in GROUP g"},
	{"scst_local GROUP IncomingUser",
	 LOCT_HEAD "\t\tGROUP g {\n\t\t\tIncomingUser u s\n", 9,
	 "t.conf:9: GROUP g: IncomingUser is not a scst_local attribute"},
	{"ibmvstgt LUN to an unknown device",
	 VIOT_HEAD "\t\tLUN 0 nodev\n\t}\n}\n", 8,
	 "t.conf:8: TARGET 30000003: LUN 0: unknown device 'nodev'"},
	{"qla2x00t duplicate LUN", FCT_HEAD "\t\tLUN 0 d\n\t\tLUN 0 d\n", 9,
	 "t.conf:9: TARGET " WWPN ": duplicate LUN 0 (first at line 8)"},
	{"rel_tgt_id across scst_local and qla2x00t",
	 LOCT_HEAD "\t\trel_tgt_id 3\n\t}\n}\nTARGET_DRIVER qla2x00t {\n"
		   "\tTARGET " WWPN " {\n\t\trel_tgt_id 3\n\t}\n}\n",
	 12,
	 "t.conf:12: TARGET " WWPN ": rel_tgt_id 3 is already used by TARGET "
	 "t (line 7)"},
};

static void test_bad(void **state)
{
	const struct bad *b = *state;
	char err[512], prefix[64];
	struct tdm_conf c;
	size_t len = strlen(b->text);
	int r;

	/* the NUL byte case: count up to the real end */
	if (strcmp(b->name, "NUL byte") == 0)
		len += 1 + strlen(b->text + len + 1);
	memset(err, 'x', sizeof(err));
	r = tdm_conf_parse(b->text, len, "t.conf", &c, err, sizeof(err));
	if (r != -EINVAL)
		fail_msg("%s: parse returned %d, expected -EINVAL", b->name, r);
	snprintf(prefix, sizeof(prefix), "t.conf:%d: ", b->line);
	if (strncmp(err, prefix, strlen(prefix)) != 0 || !strstr(err, b->msg))
		fail_msg("%s:\n  got      '%s'\n  expected '%s%s'", b->name,
			 err, prefix, b->msg);
	/* a message given with its "file:line: " is the whole message */
	if (strncmp(b->msg, "t.conf:", 7) == 0 && strcmp(err, b->msg) != 0)
		fail_msg("%s:\n  got      '%s'\n  expected '%s'", b->name, err,
			 b->msg);
	/* a failed parse leaves an empty configuration */
	assert_int_equal(c.ndevices, 0);
	assert_null(c.devices);
	assert_int_equal(c.ntargets, 0);
	tdm_conf_free(&c);
}

static void test_error_truncation(void **state)
{
	char err[12];
	struct tdm_conf c;

	(void)state;
	assert_int_equal(tdm_conf_parse("}", 1, "t.conf", &c, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "t.conf:1: u");
	assert_int_equal(tdm_conf_parse("}", 1, "t.conf", &c, NULL, 0),
			 -EINVAL);
}

/* ---- wildcards and groups ---- */

static void test_wildcard(void **state)
{
	static const struct {
		const char *p, *s;
		bool m;
	} cases[] = {
		{"", "", true},
		{"", "a", false},
		{"*", "", true},
		{"*", "anything", true},
		{"?", "", false},
		{"?", "a", true},
		{"??", "a", false},
		{"abc", "abc", true},
		{"abc", "abcd", false},
		{"abc", "ab", false},
		{"a*c", "abbbc", true},
		{"a*c", "abbbd", false},
		{"a*b*c", "aXbYc", true},
		{"a*b*c", "aXcYb", false},
		{"*a", "bbba", true},
		{"*a*", "bab", true},
		{"*.*", "a.b", true},
		{"iqn.1993-08.org.debian:01:*",
		 "iqn.1993-08.org.debian:01:abcdef", true},
		{"iqn.1993-08.org.debian:01:*", "iqn.1993-08.org.debian:02:x",
		 false},
		{"IQN.*", "iqn.x", true}, /* ASCII case ignored */
		{"127.0.0.?", "127.0.0.1", true},
		{"127.0.0.?", "127.0.0.10", false},
		{"!abc", "abc", false},
		{"!abc", "abd", true},
		{"!*", "x", false},
		{"!", "x", true},
		{"!", "", false},
		{"a!b", "a!b", true}, /* '!' only negates when leading */
		{"**", "x", true},
		{"*?", "", false},
		{"*?", "x", true},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (tdm_wildcard_match(cases[i].p, cases[i].s) != cases[i].m)
			fail_msg("'%s' against '%s': expected %d", cases[i].p,
				 cases[i].s, cases[i].m);
	assert_false(tdm_wildcard_match(NULL, "x"));
	assert_false(tdm_wildcard_match("x", NULL));
}

static void test_wildcard_hostile(void **state)
{
	static char s[100001], p[4001];
	struct timespec t0, t1;
	double ms;

	(void)state;
	memset(s, 'a', sizeof(s) - 1);
	/* "*a*a*a...*b": exponential for naive recursion */
	for (size_t i = 0; i + 2 < sizeof(p) - 1; i += 2) {
		p[i] = '*';
		p[i + 1] = 'a';
	}
	p[sizeof(p) - 3] = '*';
	p[sizeof(p) - 2] = 'b';
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_false(tdm_wildcard_match("*a*a*a*a*a*a*a*a*a*a*b", s));
	assert_false(tdm_wildcard_match(p, s));
	assert_true(tdm_wildcard_match("*a*a*a*a*a*a*a*a*a*a*", s));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	     (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	if (ms > 2000)
		fail_msg("hostile patterns took %.0f ms", ms);
}

static void test_match_group(void **state)
{
	struct tdm_conf c =
		parse_ok("HANDLER ram {\n\tDEVICE r {\n\t\tsize 512\n\t}\n}\n"
			 "TARGET_DRIVER iscsi {\n"
			 "\tTARGET iqn.2026-11.x:t {\n"
			 "\t\tLUN 0 r\n"
			 "\t\tGROUP debian {\n"
			 "\t\t\tINITIATOR iqn.1993-08.org.debian:01:*\n"
			 "\t\t\tINITIATOR !iqn.1993-08.org.debian:01:bad*\n"
			 "\t\t}\n"
			 "\t\tGROUP empty\n"
			 "\t\tGROUP only_excl {\n"
			 "\t\t\tINITIATOR !*win*\n"
			 "\t\t}\n"
			 "\t\tGROUP notwin {\n"
			 "\t\t\tINITIATOR *\n"
			 "\t\t\tINITIATOR !*win*\n"
			 "\t\t}\n"
			 "\t}\n"
			 "}\n");
	const struct tdm_conf_target *t = &c.targets[0];
	const struct tdm_conf_group *g;

	(void)state;
	g = tdm_conf_match_group(t, "iqn.1993-08.org.debian:01:good1");
	assert_non_null(g);
	assert_string_equal(g->name, "debian");
	/* excluded from "debian"; "empty" and "only_excl" take nobody */
	g = tdm_conf_match_group(t, "iqn.1993-08.org.debian:01:bad1");
	assert_non_null(g);
	assert_string_equal(g->name, "notwin");
	/* excluded everywhere: the target's default LUNs */
	assert_null(tdm_conf_match_group(t, "iqn.1991-05.com.microsoft:win"));
	assert_null(
		tdm_conf_match_group(t, "iqn.1993-08.org.debian:01:badwin"));
	tdm_conf_free(&c);
}

static void test_handler_names(void **state)
{
	enum tdm_handler h;

	(void)state;
	for (int i = 0; i < TDM__HANDLER_COUNT; i++) {
		assert_int_equal(tdm_handler_from_name(tdm_handler_name(i), &h),
				 0);
		assert_int_equal(h, i);
	}
	assert_string_equal(tdm_handler_name(TDM_HANDLER_FILEIO),
			    "vdisk_fileio");
	assert_string_equal(tdm_handler_name(TDM_HANDLER_RAM), "ram");
	assert_int_equal(tdm_handler_from_name("VDISK_FILEIO", &h), -ENOENT);
	assert_string_equal(tdm_handler_name(TDM__HANDLER_COUNT), "unknown");
	/* the CD-ROM: SCST's vcdrom, and tandem's older vdisk_cdrom */
	assert_string_equal(tdm_handler_name(TDM_HANDLER_CDROM), "vcdrom");
	h = TDM_HANDLER_RAM;
	assert_int_equal(tdm_handler_from_name("vdisk_cdrom", &h), 0);
	assert_int_equal(h, TDM_HANDLER_CDROM);
	assert_int_equal(tdm_handler_from_name("VCDROM", &h), -ENOENT);
	assert_int_equal(tdm_handler_from_name("vdisk_cdrom ", &h), -ENOENT);
	assert_true(tdm_handler_is(TDM_HANDLER_CDROM, "vcdrom"));
	assert_true(tdm_handler_is(TDM_HANDLER_CDROM, "vdisk_cdrom"));
	assert_false(tdm_handler_is(TDM_HANDLER_FILEIO, "vdisk_cdrom"));
	assert_false(tdm_handler_is(TDM_HANDLER_CDROM, "vdisk_fileio"));
	assert_false(tdm_handler_is(TDM_HANDLER_CDROM, "cdrom"));
}

/*
 * An SCST scst.conf's "HANDLER vcdrom" and tandem's older "HANDLER
 * vdisk_cdrom" give the same devices; both are written back as vcdrom,
 * in one block when they follow each other.
 */
static void test_vcdrom(void **state)
{
	static const char scst[] = "HANDLER vcdrom {\n"
				   "\tDEVICE cd0 {\n"
				   "\t\tfilename /srv/iso/debian.iso\n"
				   "\t}\n"
				   "\tDEVICE cd1\n"
				   "}\n";
	static const char older[] = "HANDLER vdisk_cdrom {\n"
				    "\tDEVICE cd0 {\n"
				    "\t\tfilename /srv/iso/debian.iso\n"
				    "\t}\n"
				    "}\n"
				    "HANDLER vcdrom {\n"
				    "\tDEVICE cd1 {\n\t\tblocksize 2048\n\t}\n"
				    "}\n";
	struct tdm_conf a = parse_ok(scst), b = parse_ok(older), c;
	char *text;
	size_t len;

	(void)state;
	assert_int_equal(a.ndevices, 2);
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(a.devices[i].handler, TDM_HANDLER_CDROM);
		assert_int_equal(b.devices[i].handler, TDM_HANDLER_CDROM);
		assert_int_equal(a.devices[i].blocksize, 2048);
		assert_true(a.devices[i].read_only);
	}
	b.devices[1].set_mask = 0; /* "blocksize 2048" given: the default */
	assert_true(tdm_conf_equal(&a, &b));
	assert_int_equal(tdm_conf_write(&b, &text, &len), 0);
	assert_non_null(strstr(text, "\nHANDLER vcdrom {\n"
				     "\tDEVICE cd0 {\n"
				     "\t\tfilename /srv/iso/debian.iso\n"
				     "\t\tread_only 1\n"
				     "\t\tremovable 1\n"
				     "\t}\n"
				     "\tDEVICE cd1 {\n"
				     "\t\tread_only 1\n"
				     "\t\tremovable 1\n"
				     "\t}\n"
				     "}\n"));
	assert_null(strstr(text, "vdisk_cdrom"));
	c = parse_ok(text);
	assert_true(tdm_conf_equal(&b, &c));
	free(text);
	tdm_conf_free(&a);
	tdm_conf_free(&b);
	tdm_conf_free(&c);
}

int main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_full_example),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_empty_and_comments),
		cmocka_unit_test(test_lexer_forms),
		cmocka_unit_test(test_word_limit),
		cmocka_unit_test(test_element_limit),
		cmocka_unit_test(test_portals),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_metrics_listen),
		cmocka_unit_test(test_rbd_attrs),
		cmocka_unit_test(test_write_canonical),
		cmocka_unit_test(test_programmatic),
		cmocka_unit_test(test_dup_independent),
		cmocka_unit_test(test_validate_names),
		cmocka_unit_test(test_parse_file),
		cmocka_unit_test(test_error_truncation),
		cmocka_unit_test(test_wildcard),
		cmocka_unit_test(test_wildcard_hostile),
		cmocka_unit_test(test_match_group),
		cmocka_unit_test(test_handler_names),
		cmocka_unit_test(test_vcdrom),
		cmocka_unit_test(test_srp_example),
		cmocka_unit_test(test_srp_round_trip),
		cmocka_unit_test(test_srp_names),
		cmocka_unit_test(test_srp_validate),
		cmocka_unit_test(test_srp_dup_equal),
		cmocka_unit_test(test_kernel_example),
		cmocka_unit_test(test_kernel_round_trip),
		cmocka_unit_test(test_kernel_names),
		cmocka_unit_test(test_kernel_validate),
		cmocka_unit_test(test_kernel_dup_equal),
	};
	const size_t nfixed = sizeof(fixed) / sizeof(fixed[0]);
	const size_t nbad = sizeof(bads) / sizeof(bads[0]);
	struct CMUnitTest *tests = calloc(nfixed + nbad, sizeof(*tests));
	int failed;

	if (!tests)
		return 1;
	memcpy(tests, fixed, sizeof(fixed));
	for (size_t i = 0; i < nbad; i++) {
		tests[nfixed + i].name = bads[i].name;
		tests[nfixed + i].test_func = test_bad;
		tests[nfixed + i].initial_state = (void *)&bads[i];
	}
	failed = _cmocka_run_group_tests("conf", tests, nfixed + nbad, NULL,
					 NULL);
	free(tests);
	return failed ? 1 : 0;
}
