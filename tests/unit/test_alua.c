/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * test_alua.c - ALUA: the pure model of alua/, the DEVICE_GROUP
 * configuration (parse, write, errors), and the SCSI side through the
 * real command gate (access per state, REPORT/SET TARGET PORT GROUPS,
 * unit attentions), and the heads of a cluster (protocol 5: a departed
 * head's groups unavailable, a joining head's transitioning, a rejoined
 * head's groups back to given states).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alua/alua.h"
#include "scsi/scsi_int.h"
#include "lib/loop.h"
#include "gate_harness.h"

/* ---- configurations ---- */

#define DEVS                                                                   \
	"HANDLER ram {\n"                                                      \
	"\tDEVICE disk01 {\n\t\tsize_mb 16\n\t}\n"                             \
	"\tDEVICE disk02 {\n\t\tsize_mb 16\n\t}\n"                             \
	"\tDEVICE disk03 {\n\t\tsize_mb 16\n\t}\n"                             \
	"}\n"
#define TGTS                                                                   \
	"TARGET_DRIVER iscsi {\n"                                              \
	"\tenabled 1\n"                                                        \
	"\tTARGET iqn.2026-11.org.tandem:a {\n\t\tenabled 1\n"                 \
	"\t\trel_tgt_id 1\n\t}\n"                                              \
	"\tTARGET iqn.2026-11.org.tandem:b {\n\t\tenabled 1\n\t}\n"            \
	"}\n"
/* lines: DEVS 1-11, TGTS 12-21, the DEVICE_GROUP from 22 */
#define DG_HEAD "DEVICE_GROUP dg {\n\tDEVICE disk01\n\tDEVICE disk02\n"
#define TG1                                                                    \
	"\tTARGET_GROUP tg1 {\n\t\tgroup_id 1\n\t\tpreferred 1\n"              \
	"\t\tstate active\n"                                                   \
	"\t\tTARGET iqn.2026-11.org.tandem:a\n\t}\n"
#define TG2(state)                                                             \
	"\tTARGET_GROUP tg2 {\n\t\tgroup_id 2\n\t\tstate " state "\n"          \
	"\t\tTARGET remote-head-port {\n\t\t\trel_tgt_id 7\n\t\t}\n"           \
	"\t\tTARGET iqn.2026-11.org.tandem:b\n\t}\n"

static const char *const good_conf = DEVS TGTS DG_HEAD TG1 TG2("standby") "}\n";

static void parse_ok(const char *text, struct tdm_conf *c)
{
	char err[512] = "";
	int r = tdm_conf_parse(text, strlen(text), "t.conf", c, err,
			       sizeof(err));

	if (r)
		print_error("%s\n", err);
	assert_int_equal(r, 0);
}

/* ---- the pure model ---- */

static void test_model(void **state)
{
	struct tdm_alua_model m, m2;
	struct tdm_alua_change *chg;
	struct tdm_alua_req req[2];
	const struct tdm_alua_dg *dg;
	const struct tdm_alua_tpg *t;
	struct tdm_conf c;
	size_t n, bad;
	bool bad_state;

	(void)state;
	parse_ok(good_conf, &c);
	assert_int_equal(tdm_alua_build(&m, &c, NULL), 0);
	assert_int_equal(m.ndgs, 2);
	/* the implicit group: every local port, active/optimized */
	assert_true(m.dgs[0].implicit);
	assert_int_equal(m.dgs[0].tpgs[0].id, TDM_ALUA_DEFAULT_GROUP_ID);
	assert_int_equal(m.dgs[0].tpgs[0].nports, 2);
	assert_int_equal(m.dgs[0].tpgs[0].ports[0], 1);
	assert_int_equal(m.dgs[0].tpgs[0].ports[1], 2); /* assigned */
	dg = tdm_alua_dg_of(&m, "disk03");
	assert_ptr_equal(dg, &m.dgs[0]);
	dg = tdm_alua_dg_of(&m, "disk02");
	assert_ptr_equal(dg, &m.dgs[1]);
	assert_string_equal(dg->name, "dg");
	t = tdm_alua_tpg_of(dg, 1);
	assert_non_null(t);
	assert_int_equal(t->id, 1);
	assert_true(t->preferred);
	assert_int_equal(t->state, TDM_ALUA_AO);
	t = tdm_alua_tpg_of(dg, 7); /* another head's port */
	assert_non_null(t);
	assert_int_equal(t->id, 2);
	assert_int_equal(t->state, TDM_ALUA_STANDBY);
	assert_ptr_equal(tdm_alua_tpg_of(dg, 2), t); /* local target b */
	assert_null(tdm_alua_tpg_of(dg, 9));

	/* transitions report what changed, once */
	assert_int_equal(tdm_alua_set_state(&m, "dg", 2, TDM_ALUA_AN,
					    TDM_ALUA_ST_IMPLICIT, &chg, &n),
			 0);
	assert_int_equal(n, 1);
	assert_int_equal(chg[0].dg, 1);
	assert_int_equal(chg[0].tpg, 1);
	assert_int_equal(chg[0].old_state, TDM_ALUA_STANDBY);
	assert_int_equal(chg[0].new_state, TDM_ALUA_AN);
	free(chg);
	assert_int_equal(tdm_alua_set_state(&m, NULL, 2, TDM_ALUA_AN,
					    TDM_ALUA_ST_IMPLICIT, &chg, &n),
			 0);
	assert_int_equal(n, 0);
	free(chg);
	assert_int_equal(
		tdm_alua_set_state(&m, "dg", 5, TDM_ALUA_AN, 0, &chg, &n),
		-ENOENT);
	free(chg);
	assert_int_equal(tdm_alua_set_state(&m, "dg", 2, 7, 0, &chg, &n),
			 -EINVAL);
	free(chg);

	/* SET TARGET PORT GROUPS: all or nothing */
	req[0] = (struct tdm_alua_req){.group_id = 1, .state = 2};
	req[1] = (struct tdm_alua_req){.group_id = 2, .state = 0xE};
	assert_int_equal(
		tdm_alua_stpg(&m, 1, req, 2, &bad, &bad_state, &chg, &n),
		-EINVAL);
	assert_int_equal(bad, 1);
	assert_true(bad_state);
	assert_int_equal(m.dgs[1].tpgs[0].state, TDM_ALUA_AO);
	req[1] = (struct tdm_alua_req){.group_id = 3, .state = 0};
	assert_int_equal(
		tdm_alua_stpg(&m, 1, req, 2, &bad, &bad_state, &chg, &n),
		-EINVAL);
	assert_false(bad_state);
	req[1] = (struct tdm_alua_req){.group_id = 2, .state = 0};
	assert_int_equal(
		tdm_alua_stpg(&m, 1, req, 2, &bad, &bad_state, &chg, &n), 0);
	assert_int_equal(n, 2);
	free(chg);
	assert_int_equal(m.dgs[1].tpgs[0].state, TDM_ALUA_STANDBY);
	assert_int_equal(m.dgs[1].tpgs[0].status, TDM_ALUA_ST_SET_TPG);
	assert_int_equal(m.dgs[1].tpgs[1].state, TDM_ALUA_AO);
	assert_int_equal(
		tdm_alua_stpg(&m, 0, req, 1, &bad, &bad_state, &chg, &n),
		-ENOTSUP);

	/* rebuilding from an unchanged configuration keeps what STPG set */
	assert_int_equal(tdm_alua_build(&m2, &c, &m), 0);
	assert_int_equal(m2.dgs[1].tpgs[0].state, TDM_ALUA_STANDBY);
	assert_int_equal(m2.dgs[1].tpgs[0].status, TDM_ALUA_ST_SET_TPG);
	assert_false(tdm_alua_dev_changed(&m, &m2, "disk01"));
	assert_false(tdm_alua_dev_changed(&m, &m2, "disk03"));
	tdm_alua_free(&m2);
	/* a changed configured state wins */
	c.dgrps[0].tgrps[1].state = TDM_ALUA_UNAVAILABLE;
	assert_int_equal(tdm_alua_build(&m2, &c, &m), 0);
	assert_int_equal(m2.dgs[1].tpgs[1].state, TDM_ALUA_UNAVAILABLE);
	assert_int_equal(m2.dgs[1].tpgs[1].status, TDM_ALUA_ST_IMPLICIT);
	assert_true(tdm_alua_dev_changed(&m, &m2, "disk02"));
	assert_false(tdm_alua_dev_changed(&m, &m2, "disk03"));
	tdm_alua_free(&m2);
	tdm_alua_free(&m);
	tdm_conf_free(&c);
}

/* tdm_alua_activate(): the active group moves with the preferred bit;
 * the others step back to their unpromoted state */
static void test_model_activate(void **state)
{
	struct tdm_alua_model m, m2;
	struct tdm_alua_change *chg;
	struct tdm_conf c;
	size_t n;

	(void)state;
	parse_ok(good_conf, &c);
	assert_int_equal(tdm_alua_build(&m, &c, NULL), 0);
	/* tg1 configured active: its unpromoted state is the device group's
	 * non-active one (tg2's standby); tg2's is its own */
	assert_int_equal(tdm_alua_unpromoted(&m.dgs[1], 0), TDM_ALUA_STANDBY);
	assert_int_equal(tdm_alua_unpromoted(&m.dgs[1], 1), TDM_ALUA_STANDBY);
	assert_int_equal(tdm_alua_activate(&m, 1, 2, &chg, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(chg[0].old_state, TDM_ALUA_AO);
	assert_int_equal(chg[0].new_state, TDM_ALUA_STANDBY);
	assert_true(chg[0].old_pref && !chg[0].new_pref);
	assert_int_equal(chg[1].new_state, TDM_ALUA_AO);
	assert_true(!chg[1].old_pref && chg[1].new_pref);
	free(chg);
	assert_int_equal(m.dgs[1].tpgs[0].state, TDM_ALUA_STANDBY);
	assert_false(m.dgs[1].tpgs[0].preferred);
	assert_int_equal(m.dgs[1].tpgs[0].status, TDM_ALUA_ST_IMPLICIT);
	assert_int_equal(m.dgs[1].tpgs[1].state, TDM_ALUA_AO);
	assert_true(m.dgs[1].tpgs[1].preferred);
	/* again: nothing changes */
	assert_int_equal(tdm_alua_activate(&m, 1, 2, &chg, &n), 0);
	assert_int_equal(n, 0);
	free(chg);
	/* an unchanged configuration keeps the move, preferred bit too */
	assert_int_equal(tdm_alua_build(&m2, &c, &m), 0);
	assert_int_equal(m2.dgs[1].tpgs[1].state, TDM_ALUA_AO);
	assert_true(m2.dgs[1].tpgs[1].preferred);
	assert_false(m2.dgs[1].tpgs[0].preferred);
	assert_int_equal(tdm_alua_diff(&m, &m2, &chg, &n), 0);
	assert_int_equal(n, 0);
	free(chg);
	tdm_alua_free(&m2);
	/* errors: no such group, the implicit group */
	assert_int_equal(tdm_alua_activate(&m, 1, 9, &chg, &n), -ENOENT);
	assert_int_equal(tdm_alua_activate(&m, 0, 1, &chg, &n), -ENOTSUP);
	assert_int_equal(tdm_alua_activate(&m, 5, 1, &chg, &n), -ENOTSUP);
	tdm_alua_free(&m);

	/* the non-optimized layout: back to active/non-optimized */
	c.dgrps[0].tgrps[1].state = TDM_ALUA_AN;
	assert_int_equal(tdm_alua_build(&m, &c, NULL), 0);
	assert_int_equal(tdm_alua_activate(&m, 1, 2, &chg, &n), 0);
	free(chg);
	assert_int_equal(m.dgs[1].tpgs[0].state, TDM_ALUA_AN);
	assert_int_equal(tdm_alua_activate(&m, 1, 1, &chg, &n), 0);
	free(chg);
	assert_int_equal(m.dgs[1].tpgs[0].state, TDM_ALUA_AO);
	assert_true(m.dgs[1].tpgs[0].preferred);
	assert_int_equal(m.dgs[1].tpgs[1].state, TDM_ALUA_AN);
	assert_false(m.dgs[1].tpgs[1].preferred);
	tdm_alua_free(&m);
	/* every group configured active: the others become non-optimized */
	c.dgrps[0].tgrps[1].state = TDM_ALUA_AO;
	assert_int_equal(tdm_alua_build(&m, &c, NULL), 0);
	assert_int_equal(tdm_alua_unpromoted(&m.dgs[1], 0), TDM_ALUA_AN);
	/* a group configured unavailable keeps its state */
	tdm_alua_free(&m);
	c.dgrps[0].tgrps[1].state = TDM_ALUA_UNAVAILABLE;
	assert_int_equal(tdm_alua_build(&m, &c, NULL), 0);
	assert_int_equal(tdm_alua_activate(&m, 1, 1, &chg, &n), 0);
	free(chg);
	assert_int_equal(m.dgs[1].tpgs[1].state, TDM_ALUA_UNAVAILABLE);
	/* the configured preferred bit changed: it wins on a rebuild */
	assert_int_equal(tdm_alua_set_preferred(&m, "dg", 2, true, &chg, &n),
			 0);
	assert_int_equal(n, 1);
	free(chg);
	c.dgrps[0].tgrps[0].preferred = false;
	assert_int_equal(tdm_alua_build(&m2, &c, &m), 0);
	assert_false(m2.dgs[1].tpgs[0].preferred);
	assert_true(m2.dgs[1].tpgs[1].preferred); /* runtime, kept */
	tdm_alua_free(&m2);
	tdm_alua_free(&m);
	tdm_conf_free(&c);
}

static void test_state_names(void **state)
{
	static const char *const names[] = {
		"active",      "nonoptimized", "standby",
		"unavailable", "offline",      "transitioning",
	};
	uint8_t s;

	(void)state;
	for (size_t i = 0; i < 6; i++) {
		assert_int_equal(tdm_alua_state_from_name(names[i], &s), 0);
		assert_string_equal(tdm_alua_state_name(s), names[i]);
	}
	assert_int_equal(tdm_alua_state_from_name("optimized", &s), -EINVAL);
	assert_null(tdm_alua_state_name(4));
}

/* ---- configuration ---- */

static void test_conf_roundtrip(void **state)
{
	struct tdm_conf c, c2, c3;
	char *out = NULL, *out2 = NULL;
	size_t len, len2;

	(void)state;
	parse_ok(good_conf, &c);
	assert_int_equal(c.ndgrps, 1);
	assert_int_equal(c.dgrps[0].ndevices, 2);
	assert_int_equal(c.dgrps[0].ntgrps, 2);
	assert_int_equal(c.dgrps[0].tgrps[1].state, TDM_ALUA_STANDBY);
	assert_int_equal(c.dgrps[0].tgrps[1].ports[0].rel_tgt_id, 7);
	assert_int_equal(c.dgrps[0].tgrps[1].ports[0].line, 34);
	assert_int_equal(tdm_conf_write(&c, &out, &len), 0);
	assert_non_null(strstr(out, "DEVICE_GROUP dg {\n\tDEVICE disk01\n"));
	assert_non_null(strstr(out, "\t\tstate standby\n"));
	assert_non_null(strstr(out, "\t\tpreferred 1\n"));
	assert_non_null(strstr(out, "\t\tTARGET remote-head-port {\n"
				    "\t\t\trel_tgt_id 7\n\t\t}\n"));
	parse_ok(out, &c2);
	assert_true(tdm_conf_equal(&c, &c2));
	assert_int_equal(tdm_conf_write(&c2, &out2, &len2), 0);
	assert_int_equal(len, len2);
	assert_memory_equal(out, out2, len);
	assert_int_equal(tdm_conf_dup(&c2, &c3), 0);
	assert_true(tdm_conf_equal(&c, &c3));
	c3.dgrps[0].tgrps[0].preferred = false;
	assert_false(tdm_conf_equal(&c, &c3));
	free(out);
	free(out2);
	tdm_conf_free(&c);
	tdm_conf_free(&c2);
	tdm_conf_free(&c3);
}

static const struct {
	const char *what, *text, *msg;
} bad_confs[] = {
	{"unknown device", DEVS TGTS "DEVICE_GROUP dg {\n\tDEVICE nodisk\n}\n",
	 "t.conf:23: DEVICE_GROUP dg: unknown device 'nodisk'"},
	{"device in two device groups",
	 DEVS TGTS "DEVICE_GROUP dg {\n\tDEVICE disk01\n}\n"
		   "DEVICE_GROUP dh {\n\tDEVICE disk01\n}\n",
	 "t.conf:26: DEVICE disk01 is already in DEVICE_GROUP dg (line 23)"},
	{"duplicate group_id",
	 DEVS TGTS DG_HEAD TG1 "\tTARGET_GROUP tg2 {\n\t\tgroup_id 1\n\t}\n}\n",
	 "t.conf:31: DEVICE_GROUP dg: TARGET_GROUP tg2: duplicate group_id 1"},
	{"bad state",
	 DEVS TGTS DG_HEAD "\tTARGET_GROUP tg1 {\n\t\tgroup_id 1\n"
			   "\t\tstate optimized\n\t}\n}\n",
	 "t.conf:27: TARGET_GROUP tg1: bad state 'optimized'"},
	{"rel_tgt_id disagrees",
	 DEVS TGTS DG_HEAD "\tTARGET_GROUP tg1 {\n\t\tgroup_id 1\n"
			   "\t\tTARGET iqn.2026-11.org.tandem:a {\n"
			   "\t\t\trel_tgt_id 3\n\t\t}\n\t}\n}\n",
	 "t.conf:27: TARGET_GROUP tg1: TARGET iqn.2026-11.org.tandem:a: "
	 "rel_tgt_id 3 disagrees with the target's rel_tgt_id 1"},
	{"remote port without rel_tgt_id",
	 DEVS TGTS DG_HEAD "\tTARGET_GROUP tg1 {\n\t\tgroup_id 1\n"
			   "\t\tTARGET elsewhere\n\t}\n}\n",
	 "t.conf:27: TARGET_GROUP tg1: TARGET elsewhere is not a local "
	 "target: rel_tgt_id is required"},
	{"port in two groups",
	 DEVS TGTS DG_HEAD TG1 "\tTARGET_GROUP tg2 {\n\t\tgroup_id 2\n"
			       "\t\tTARGET x {\n\t\t\trel_tgt_id 1\n\t\t}\n"
			       "\t}\n}\n",
	 "t.conf:33: DEVICE_GROUP dg: TARGET x: relative target port 1 is "
	 "already in TARGET_GROUP tg1"},
	{"missing group_id",
	 DEVS TGTS DG_HEAD "\tTARGET_GROUP tg1 {\n\t\tstate standby\n\t}\n}\n",
	 "t.conf:25: TARGET_GROUP tg1: group_id (1..65535) is required"},
	{"group_id 0",
	 DEVS TGTS DG_HEAD "\tTARGET_GROUP tg1 {\n\t\tgroup_id 0\n\t}\n}\n",
	 "t.conf:26: group_id must be a number in 1..65535, got '0'"},
	{"unknown attribute",
	 DEVS TGTS DG_HEAD "\tTARGET_GROUP tg1 {\n\t\tcolour blue\n\t}\n}\n",
	 "t.conf:26: TARGET_GROUP tg1: unknown attribute 'colour'"},
	{"duplicate DEVICE_GROUP",
	 DEVS TGTS "DEVICE_GROUP dg {\n}\nDEVICE_GROUP dg {\n}\n",
	 "t.conf:24: duplicate DEVICE_GROUP dg (first at line 22)"},
};

static void note_tg2(void *arg, const struct tdm_conf_dgrp *d,
		     const struct tdm_conf_tgrp *t, char *buf, size_t len)
{
	(void)d;
	if (!strcmp(t->name, "tg2"))
		snprintf(buf, len, "%s", (const char *)arg);
}

/* tdm_conf_write_noted(): a comment under the state, nothing else
 * changes; a note that is not one line is dropped */
static void test_conf_noted(void **state)
{
	struct tdm_conf c, c2;
	char *a, *b;
	size_t na, nb;

	(void)state;
	parse_ok(good_conf, &c);
	assert_int_equal(tdm_conf_write(&c, &a, &na), 0);
	assert_int_equal(
		tdm_conf_write_noted(&c, note_tg2, "running now: x", &b, &nb),
		0);
	assert_non_null(strstr(b, "\t\tstate standby\n\t\t# running now: x\n"));
	assert_int_equal(nb, na + strlen("\t\t# running now: x\n"));
	parse_ok(b, &c2);
	assert_true(tdm_alua_conf_equal(c.dgrps, c2.dgrps, c.ndgrps));
	tdm_conf_free(&c2);
	free(b);
	assert_int_equal(
		tdm_conf_write_noted(&c, note_tg2, "two\nlines", &b, &nb), 0);
	assert_int_equal(nb, na);
	assert_memory_equal(a, b, na);
	free(a);
	free(b);
	tdm_conf_free(&c);
}

static void test_conf_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_confs) / sizeof(bad_confs[0]); i++) {
		struct tdm_conf c;
		char err[512] = "";
		int r = tdm_conf_parse(bad_confs[i].text,
				       strlen(bad_confs[i].text), "t.conf", &c,
				       err, sizeof(err));

		if (r != -EINVAL || !strstr(err, bad_confs[i].msg))
			print_error("%s: got %d '%s'\nwant '%s'\n",
				    bad_confs[i].what, r, err,
				    bad_confs[i].msg);
		assert_int_equal(r, -EINVAL);
		assert_non_null(strstr(err, bad_confs[i].msg));
	}
}

/* ---- through the gate ---- */

/* 0 for GOOD, else key << 16 | asc << 8 | ascq */
static unsigned result(void)
{
	const uint8_t *s = R.sense;

	if (R.status == TDM_STATUS_GOOD)
		return 0;
	if (R.status != TDM_STATUS_CHECK_CONDITION)
		return 0xFF000000u | R.status;
	if ((s[0] & 0x7F) >= 0x72)
		return (unsigned)(s[1] & 0x0F) << 16 | s[2] << 8 | s[3];
	return (unsigned)(s[2] & 0x0F) << 16 | s[12] << 8 | s[13];
}

#define KCQ(k, a, q) ((unsigned)(k) << 16 | (a) << 8 | (q))
#define UA_ALUA KCQ(6, 0x2A, 0x06)

struct fix {
	struct tdm_lu *lus[2]; /* disk01 (in dg), disk03 (implicit) */
	struct tdm_nexus *nx1; /* port 1: tg1 */
	struct tdm_nexus *nx2; /* port 2: tg2 */
	struct tdm_conf c;
};

static struct tdm_lu *dg_lu(const char *name)
{
	struct tdm_conf_device d;
	struct tdm_lu *lu = NULL;
	char err[256] = "";

	tdm_conf_device_init(&d, TDM_HANDLER_RAM);
	snprintf(d.name, sizeof(d.name), "%s", name);
	d.size = 16 * MiB;
	d.set_mask |= TDM_DA_SIZE;
	assert_int_equal(tdm__lu_open(&d, &lu, err, sizeof(err)), 0);
	return lu;
}

static int fix_setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->lus[0] = dg_lu("disk01");
	f->lus[1] = dg_lu("disk03");
	f->nx1 = tdm__test_nexus(f->lus, 2, &tops);
	f->nx2 = tdm__test_nexus(f->lus, 2, &tops);
	f->nx2->rel_port = 2;
	parse_ok(good_conf, &f->c);
	assert_int_equal(tdm__alua_apply(&f->c), 0);
	*state = f;
	return 0;
}

static int fix_teardown(void **state)
{
	struct fix *f = *state;

	tdm__alua_shutdown();
	tdm__test_nexus_free(f->nx1);
	tdm__test_nexus_free(f->nx2);
	tdm__lu_put(f->lus[0]);
	tdm__lu_put(f->lus[1]);
	tdm_conf_free(&f->c);
	free(f);
	result_free();
	return 0;
}

static void rtpg(struct tdm_nexus *nx, uint64_t lun, bool ext)
{
	RUN(nx, lun, 0xA3, (uint8_t)(0x0A | (ext ? 0x20 : 0)), 0, 0, 0, 0, 0, 0,
	    0x10, 0, 0, 0);
}

static void expect_ua(struct tdm_nexus *nx)
{
	rtpg(nx, 0, false);
	assert_int_equal(result(), UA_ALUA);
}

static void test_inquiry(void **state)
{
	struct fix *f = *state;
	const uint8_t *p;
	size_t off;
	int found = 0;

	RUN(f->nx1, 0, 0x12, 0, 0, 0, 96, 0);
	assert_int_equal(result(), 0);
	assert_int_equal(R.data[5] & 0x30, 0x30); /* TPGS 11b */
	RUN(f->nx1, 1, 0x12, 0, 0, 0, 96, 0);
	assert_int_equal(R.data[5] & 0x30, 0x10); /* implicit only */
	/* VPD 83h: target port group of the receiving port */
	RUN(f->nx2, 0, 0x12, 1, 0x83, 0, 255, 0);
	assert_int_equal(result(), 0);
	for (off = 4; off + 4 <= R.len; off += 4u + R.data[off + 3]) {
		p = R.data + off;
		if (((p[1] >> 4) & 3) == 1 && (p[1] & 0x0F) == 5) {
			assert_int_equal(tdm_get_be16(p + 6), 2);
			found++;
		}
		if (((p[1] >> 4) & 3) == 1 && (p[1] & 0x0F) == 4)
			assert_int_equal(tdm_get_be16(p + 6), 2);
	}
	assert_int_equal(found, 1);
}

static void test_rtpg(void **state)
{
	struct fix *f = *state;
	const uint8_t *d;

	rtpg(f->nx1, 0, false);
	assert_int_equal(result(), 0);
	/* two groups: 8 + 4 (port 1), 8 + 4 + 4 (ports 7 and 2) */
	assert_int_equal(R.len, 4 + 12 + 16);
	assert_int_equal(tdm_get_be32(R.data), 28);
	d = R.data + 4;
	assert_int_equal(d[0], 0x80 | TDM_ALUA_AO); /* PREF */
	assert_int_equal(d[1], 0xCF);
	assert_int_equal(tdm_get_be16(d + 2), 1);
	assert_int_equal(d[5], 0);
	assert_int_equal(d[7], 1);
	assert_int_equal(tdm_get_be16(d + 10), 1);
	d += 12;
	assert_int_equal(d[0], TDM_ALUA_STANDBY);
	assert_int_equal(tdm_get_be16(d + 2), 2);
	assert_int_equal(d[7], 2);
	assert_int_equal(tdm_get_be16(d + 10), 7);
	assert_int_equal(tdm_get_be16(d + 14), 2);

	rtpg(f->nx1, 0, true);
	assert_int_equal(result(), 0);
	assert_int_equal(R.len, 8 + 12 + 16);
	assert_int_equal(tdm_get_be32(R.data), 32);
	assert_int_equal(R.data[4], 0x10); /* FORMAT TYPE 001b */
	assert_int_equal(R.data[5], 0);	   /* IMPLICIT TRANSITION TIME */
	assert_int_equal(tdm_get_be16(R.data + 8 + 2), 1);

	/* truncated by the allocation length */
	RUN(f->nx1, 0, 0xA3, 0x0A, 0, 0, 0, 0, 0, 0, 0, 6, 0, 0);
	assert_int_equal(result(), 0);
	assert_int_equal(R.len, 6);
	/* PARAMETER DATA FORMAT 010b is reserved */
	RUN(f->nx1, 0, 0xA3, 0x4A, 0, 0, 0, 0, 0, 0, 0, 6, 0, 0);
	assert_int_equal(result(), KCQ(5, 0x24, 0));

	/* the implicit group of a device without DEVICE_GROUP */
	rtpg(f->nx2, 1, false);
	assert_int_equal(result(), 0);
	assert_int_equal(R.len, 4 + 8 + 8);
	assert_int_equal(R.data[4], TDM_ALUA_AO);
	assert_int_equal(tdm_get_be16(R.data + 6), 1);
	assert_int_equal(R.data[11], 2); /* ports 1 and 2 of the config */
}

/*
 * Every ALUA state x the commands initiators send to a path at discovery
 * (Linux sd and scsi_dh_alua, VMware, Windows MPIO) and a few that move
 * data. in: the states that serve the command (the others refuse it with
 * their sense): the decisions of alua/README.md ("Access per state").
 */
#define SB (1u << 0) /* standby */
#define UN (1u << 1) /* unavailable */
#define TR (1u << 2) /* transitioning */
#define OF (1u << 3) /* offline */
#define ANY (SB | UN | TR | OF)

struct op {
	const char *name;
	uint8_t cdb[16];
	size_t len;
	size_t dout;
	unsigned in;
};

#define VPD(page)                                                              \
	{                                                                      \
		"INQUIRY VPD " #page, {0x12, 1, page, 0, 255, 0}, 6, 0, ANY    \
	}

static const struct op ops[] = {
	{"READ(10)", {0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0}, 10, 0, 0},
	{"WRITE(10)", {0x2A, 0, 0, 0, 0, 0, 0, 0, 1, 0}, 10, 512, 0},
	{"SYNCHRONIZE CACHE(10)", {0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 10, 0, 0},
	{"TEST UNIT READY", {0, 0, 0, 0, 0, 0}, 6, 0, 0},
	{"INQUIRY", {0x12, 0, 0, 0, 96, 0}, 6, 0, ANY},
	VPD(0x00),
	VPD(0x80),
	VPD(0x83),
	VPD(0x86),
	VPD(0x8F),
	VPD(0xB0),
	VPD(0xB1),
	VPD(0xB2),
	{"REPORT LUNS", {0xA0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0}, 12, 0, ANY},
	{"REQUEST SENSE", {0x03, 0, 0, 0, 18, 0}, 6, 0, ANY},
	{"RTPG", {0xA3, 0x0A, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0}, 12, 0, ANY},
	{"STPG", {0xA4, 0x0A, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 12, 0, SB | UN},
	{"READ CAPACITY(10)", {0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 10, 0, ANY},
	{"READ CAPACITY(16)",
	 {0x9E, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0},
	 16,
	 0,
	 ANY},
	{"MODE SENSE(6)", {0x1A, 0, 0x3F, 0, 0xFF, 0}, 6, 0, ANY},
	{"MODE SENSE(10) caching",
	 {0x5A, 0, 0x08, 0, 0, 0, 0, 0, 0xFF, 0},
	 10,
	 0,
	 ANY},
	{"LOG SENSE", {0x4D, 0, 0x40, 0, 0, 0, 0, 0, 0xFF, 0}, 10, 0, SB},
	{"REPORT SUPPORTED OPCODES",
	 {0xA3, 0x0C, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0},
	 12,
	 0,
	 SB},
	{"PR IN READ KEYS", {0x5E, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0}, 10, 0, SB},
	{"PR IN READ RESERVATION",
	 {0x5E, 1, 0, 0, 0, 0, 0, 0, 0xFF, 0},
	 10,
	 0,
	 SB},
	{"PR IN REPORT CAPABILITIES",
	 {0x5E, 2, 0, 0, 0, 0, 0, 0, 0xFF, 0},
	 10,
	 0,
	 SB},
	{"PR IN READ FULL STATUS",
	 {0x5E, 3, 0, 0, 0, 0, 0, 0, 0xFF, 0},
	 10,
	 0,
	 SB},
	{"PR OUT", {0x5F, 0x06, 0, 0, 0, 0, 0, 0, 24, 0}, 10, 24, SB},
};

static void test_states(void **state)
{
	struct fix *f = *state;
	static const struct {
		uint8_t state;
		unsigned bit;	 /* SB ... OF; 0: everything allowed */
		unsigned refuse; /* KCQ */
	} states[] = {
		{TDM_ALUA_AO, 0, 0},
		{TDM_ALUA_AN, 0, 0},
		{TDM_ALUA_STANDBY, SB, KCQ(2, 0x04, 0x0B)},
		{TDM_ALUA_UNAVAILABLE, UN, KCQ(2, 0x04, 0x0C)},
		{TDM_ALUA_OFFLINE, OF, KCQ(2, 0x04, 0x12)},
		{TDM_ALUA_TRANSITIONING, TR, KCQ(2, 0x04, 0x0A)},
	};
	static uint8_t pr[24], wbuf[512];
	unsigned checked = 0;
#define DOUT(o) ((o)->dout == 24 ? pr : (o)->dout ? wbuf : NULL)

	tdm_put_be64(pr + 8, 0x1234); /* SERVICE ACTION RESERVATION KEY */
	/* group 2 starts in standby (the configuration) */
	for (size_t s = 0; s < sizeof(states) / sizeof(states[0]); s++) {
		assert_int_equal(tdm__alua_set_state("dg", 2, states[s].state),
				 0);
		/* standby (configured), then every state in turn: each
		 * set is a change, seen on every nexus of the LU */
		expect_ua(f->nx1);
		expect_ua(f->nx2);
		for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
			const struct op *o = &ops[i];
			bool ok = !states[s].bit || (o->in & states[s].bit);
			unsigned want = ok ? 0 : states[s].refuse;

			run_data(f->nx2, 0, o->cdb, o->len, DOUT(o), o->dout);
			if (result() != want)
				print_error("state %x %s: got %06x want %06x\n",
					    states[s].state, o->name, result(),
					    want);
			assert_int_equal(result(), want);
			/* what is served answers with data */
			if (ok && o->cdb[0] == 0x25)
				assert_int_equal(tdm_get_be32(R.data + 4), 512);
			if (ok && o->cdb[0] == 0x9E)
				assert_true(tdm_get_be64(R.data) ==
					    16 * MiB / 512 - 1);
			checked++;
			/* the other port (group 1) serves everything */
			run_data(f->nx1, 0, o->cdb, o->len, DOUT(o), o->dout);
			assert_int_equal(result(), 0);
			/* a device of the implicit group is not affected */
			run_data(f->nx2, 1, o->cdb, o->len, DOUT(o), o->dout);
			if (o->cdb[0] != 0xA4) /* STPG: explicit ALUA only */
				assert_int_equal(result(), 0);
			else
				assert_int_equal(result(), KCQ(5, 0x20, 0));
		}
	}
	assert_int_equal(checked, 6 * sizeof(ops) / sizeof(ops[0]));
}

static void stpg(struct tdm_nexus *nx, uint64_t lun, const uint8_t *p,
		 uint32_t len)
{
	uint8_t cdb[12] = {0xA4, 0x0A};

	tdm_put_be32(cdb + 6, len);
	run_data(nx, lun, cdb, sizeof(cdb), p, len);
}

static void test_stpg(void **state)
{
	struct fix *f = *state;
	uint8_t p[12] = {0,	      0, 0, 0, TDM_ALUA_STANDBY, 0, 0, 1,
			 TDM_ALUA_AO, 0, 0, 2};

	/* group 1 to standby, group 2 to active/optimized, from port 1 */
	stpg(f->nx1, 0, p, 12);
	assert_int_equal(result(), 0);
	expect_ua(f->nx2); /* every other nexus */
	rtpg(f->nx1, 0, false);
	assert_int_equal(result(), 0); /* but not the sender */
	assert_int_equal(R.data[4], 0x80 | TDM_ALUA_STANDBY);
	assert_int_equal(R.data[4 + 5], TDM_ALUA_ST_SET_TPG);
	assert_int_equal(R.data[16], TDM_ALUA_AO);
	assert_int_equal(R.data[16 + 5], TDM_ALUA_ST_SET_TPG);
	/* port 1 is standby now, port 2 serves reads */
	RUN(f->nx1, 0, 0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0);
	assert_int_equal(result(), KCQ(2, 0x04, 0x0B));
	RUN(f->nx2, 0, 0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0);
	assert_int_equal(result(), 0);

	/* bad state (offline cannot be set): field pointer at byte 4 */
	p[4] = TDM_ALUA_OFFLINE;
	stpg(f->nx2, 0, p, 8);
	assert_int_equal(result(), KCQ(5, 0x26, 0));
	assert_int_equal(R.sense[15] & 0xC0, 0x80); /* SKSV, C/D 0 */
	assert_int_equal(tdm_get_be16(R.sense + 16), 4);
	/* unknown group: byte 2 of the second descriptor */
	p[4] = TDM_ALUA_AO;
	p[11] = 9;
	stpg(f->nx2, 0, p, 12);
	assert_int_equal(result(), KCQ(5, 0x26, 0));
	assert_int_equal(tdm_get_be16(R.sense + 16), 10);
	/* nothing changed */
	rtpg(f->nx2, 0, false);
	assert_int_equal(result(), 0);
	assert_int_equal(R.data[4], 0x80 | TDM_ALUA_STANDBY);
	/* a parameter list that is not whole descriptors */
	stpg(f->nx2, 0, p, 6);
	assert_int_equal(result(), KCQ(5, 0x1A, 0));
	/* a device without DEVICE_GROUP has no explicit ALUA */
	stpg(f->nx2, 1, p, 8);
	assert_int_equal(result(), KCQ(5, 0x20, 0));
	assert_false(tdm__alua_explicit(f->lus[1]));
	assert_true(tdm__alua_explicit(f->lus[0]));

	/* a new configuration with the same states keeps STPG's ... */
	assert_int_equal(tdm__alua_apply(&f->c), 0);
	rtpg(f->nx2, 0, false);
	assert_int_equal(result(), 0);
	assert_int_equal(R.data[4], 0x80 | TDM_ALUA_STANDBY);
	/* ... and a changed configured state wins, with a UA */
	f->c.dgrps[0].tgrps[1].state = TDM_ALUA_UNAVAILABLE;
	assert_int_equal(tdm__alua_apply(&f->c), 0);
	expect_ua(f->nx1);
	expect_ua(f->nx2);
	rtpg(f->nx1, 0, false);
	assert_int_equal(R.data[16], TDM_ALUA_UNAVAILABLE);
	assert_int_equal(R.data[16 + 5], TDM_ALUA_ST_IMPLICIT);
	/* the implicit device saw no change */
	RUN(f->nx1, 1, 0x00, 0, 0, 0, 0, 0);
	assert_int_equal(result(), 0);
}

/* tandemctl -activate_tgrp on one head: RTPG through both ports, UAs on
 * every nexus (nobody asked through SCSI), access per state */
static void test_activate(void **state)
{
	struct fix *f = *state;
	struct tdm_tgrp_state *st = NULL;
	size_t n;

	assert_int_equal(tdm__alua_activate("dg", "tg2", "the unit test"), 0);
	expect_ua(f->nx1);
	expect_ua(f->nx2);
	for (int i = 0; i < 2; i++) {
		rtpg(i ? f->nx2 : f->nx1, 0, false);
		assert_int_equal(result(), 0);
		/* group 1: standby, PREF moved away; group 2: active/optimized
		 * and PREF; both "altered by implicit behaviour" */
		assert_int_equal(R.data[4], TDM_ALUA_STANDBY);
		assert_int_equal(R.data[4 + 5], TDM_ALUA_ST_IMPLICIT);
		assert_int_equal(R.data[16], 0x80 | TDM_ALUA_AO);
		assert_int_equal(R.data[16 + 5], TDM_ALUA_ST_IMPLICIT);
	}
	RUN(f->nx1, 0, 0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0);
	assert_int_equal(result(), KCQ(2, 0x04, 0x0B));
	RUN(f->nx2, 0, 0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0);
	assert_int_equal(result(), 0);
	/* tandemctl's view: now and configured */
	n = tdm_core_alua_states(&st);
	assert_int_equal(n, 2);
	assert_string_equal(st[1].tg, "tg2");
	assert_int_equal(st[1].state, TDM_ALUA_AO);
	assert_true(st[1].preferred);
	assert_int_equal(st[1].conf_state, TDM_ALUA_STANDBY);
	assert_false(st[1].conf_preferred);
	assert_int_equal(st[0].state, TDM_ALUA_STANDBY);
	assert_false(st[0].preferred);
	free(st);
	/* the same again: no transition, no UA */
	assert_int_equal(tdm__alua_activate("dg", "tg2", "the unit test"), 0);
	RUN(f->nx1, 0, 0x00, 0, 0, 0, 0, 0);
	assert_int_equal(result(), KCQ(2, 0x04, 0x0B)); /* standby, no UA */
	/* unknown groups change nothing */
	assert_int_equal(tdm__alua_activate("dg", "tg9", "t"), -ENOENT);
	assert_int_equal(tdm__alua_activate("nodg", "tg1", "t"), -ENOENT);
	/* and back */
	assert_int_equal(tdm__alua_activate("dg", "tg1", "the unit test"), 0);
	expect_ua(f->nx2);
	rtpg(f->nx1, 0, false);
	assert_int_equal(result(), UA_ALUA);
	rtpg(f->nx1, 0, false);
	assert_int_equal(R.data[4], 0x80 | TDM_ALUA_AO);
	assert_int_equal(R.data[16], TDM_ALUA_STANDBY);
}

/* tdm_alua_set_tgrp(): one group's state and preferred bit, the others
 * untouched */
static void test_model_set_tgrp(void **state)
{
	struct tdm_alua_model m;
	struct tdm_alua_change *chg;
	struct tdm_conf c;
	size_t n;

	(void)state;
	parse_ok(good_conf, &c);
	assert_int_equal(tdm_alua_build(&m, &c, NULL), 0);
	/* tg2 (standby) to active/optimized with the bit: tg1 keeps its
	 * state and its own bit (a promotion does not demote the others) */
	assert_int_equal(tdm_alua_set_tgrp(&m, 1, 2, TDM_ALUA_AO, 1, &chg, &n),
			 0);
	assert_int_equal(n, 1);
	assert_int_equal(chg[0].tpg, 1);
	assert_int_equal(chg[0].old_state, TDM_ALUA_STANDBY);
	assert_int_equal(chg[0].new_state, TDM_ALUA_AO);
	assert_true(!chg[0].old_pref && chg[0].new_pref);
	free(chg);
	assert_int_equal(m.dgs[1].tpgs[1].state, TDM_ALUA_AO);
	assert_int_equal(m.dgs[1].tpgs[1].status, TDM_ALUA_ST_IMPLICIT);
	assert_true(m.dgs[1].tpgs[1].preferred);
	assert_int_equal(m.dgs[1].tpgs[0].state, TDM_ALUA_AO);
	assert_true(m.dgs[1].tpgs[0].preferred);
	/* the same again: nothing changes */
	assert_int_equal(tdm_alua_set_tgrp(&m, 1, 2, TDM_ALUA_AO, 1, &chg, &n),
			 0);
	assert_int_equal(n, 0);
	free(chg);
	/* tg1 to unavailable, its bit kept (-1), then dropped alone */
	assert_int_equal(
		tdm_alua_set_tgrp(&m, 1, 1, TDM_ALUA_UNAVAILABLE, -1, &chg, &n),
		0);
	assert_int_equal(n, 1);
	assert_true(chg[0].old_pref && chg[0].new_pref);
	free(chg);
	assert_int_equal(m.dgs[1].tpgs[0].state, TDM_ALUA_UNAVAILABLE);
	assert_int_equal(
		tdm_alua_set_tgrp(&m, 1, 1, TDM_ALUA_UNAVAILABLE, 0, &chg, &n),
		0);
	assert_int_equal(n, 1);
	assert_int_equal(chg[0].old_state, chg[0].new_state);
	assert_false(chg[0].new_pref);
	free(chg);
	/* the bit alone does not make the change "implicit" twice: the
	 * status comes from the state's last change */
	assert_int_equal(m.dgs[1].tpgs[0].status, TDM_ALUA_ST_IMPLICIT);
	/* errors change nothing */
	assert_int_equal(tdm_alua_set_tgrp(&m, 1, 9, TDM_ALUA_AO, 1, &chg, &n),
			 -ENOENT);
	assert_int_equal(n, 0);
	assert_int_equal(tdm_alua_set_tgrp(&m, 1, 1, 0x7, 1, &chg, &n),
			 -EINVAL);
	assert_int_equal(tdm_alua_set_tgrp(&m, 0, 1, TDM_ALUA_AO, 1, &chg, &n),
			 -ENOTSUP);
	assert_int_equal(tdm_alua_set_tgrp(&m, 5, 1, TDM_ALUA_AO, 1, &chg, &n),
			 -ENOTSUP);
	assert_int_equal(m.dgs[1].tpgs[0].state, TDM_ALUA_UNAVAILABLE);
	assert_int_equal(m.dgs[1].tpgs[1].state, TDM_ALUA_AO);
	tdm_alua_free(&m);
	tdm_conf_free(&c);
}

/* tandemctl -set_tgrp_state on one head: RTPG through both ports, UAs on
 * every nexus, access per state, nothing for a no-op */
static void test_set_tgrp(void **state)
{
	struct fix *f = *state;

	/* group 1 (active/optimized, PREF) to standby without the bit */
	assert_int_equal(tdm__alua_set_tgrp("dg", "tg1", TDM_ALUA_STANDBY, 0,
					    "the unit test"),
			 0);
	expect_ua(f->nx1);
	expect_ua(f->nx2);
	for (int i = 0; i < 2; i++) {
		rtpg(i ? f->nx2 : f->nx1, 0, false);
		assert_int_equal(result(), 0);
		assert_int_equal(R.data[4], TDM_ALUA_STANDBY);
		assert_int_equal(R.data[4 + 5], TDM_ALUA_ST_IMPLICIT);
		/* group 2 untouched: standby as configured, no status */
		assert_int_equal(R.data[16], TDM_ALUA_STANDBY);
		assert_int_equal(R.data[16 + 5], TDM_ALUA_ST_NONE);
	}
	RUN(f->nx1, 0, 0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0);
	assert_int_equal(result(), KCQ(2, 0x04, 0x0B));
	/* the same again: no transition, no UA */
	assert_int_equal(tdm__alua_set_tgrp("dg", "tg1", TDM_ALUA_STANDBY, 0,
					    "the unit test"),
			 0);
	RUN(f->nx2, 0, 0x00, 0, 0, 0, 0, 0);
	assert_int_equal(result(), KCQ(2, 0x04, 0x0B)); /* standby, no UA */
	/* group 2 promoted with the bit: port 2 serves */
	assert_int_equal(tdm__alua_set_tgrp("dg", "tg2", TDM_ALUA_AO, 1,
					    "the unit test"),
			 0);
	expect_ua(f->nx1);
	expect_ua(f->nx2);
	rtpg(f->nx2, 0, false);
	assert_int_equal(R.data[4], TDM_ALUA_STANDBY);
	assert_int_equal(R.data[16], 0x80 | TDM_ALUA_AO);
	RUN(f->nx2, 0, 0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0);
	assert_int_equal(result(), 0);
	/* unknown groups, a bad state: nothing changes */
	assert_int_equal(tdm__alua_set_tgrp("dg", "tg9", TDM_ALUA_AO, 1, "t"),
			 -ENOENT);
	assert_int_equal(tdm__alua_set_tgrp("nodg", "tg1", TDM_ALUA_AO, 1, "t"),
			 -ENOENT);
	assert_int_equal(tdm__alua_set_tgrp("dg", "tg1", 0x7, 1, "t"), -EINVAL);
	RUN(f->nx1, 0, 0x00, 0, 0, 0, 0, 0);
	assert_int_equal(result(), KCQ(2, 0x04, 0x0B)); /* no UA either */
}

/* heads of a cluster (protocol 5): a head's groups are those all of whose
 * ports are its; unavailable / transitioning without the bit; a rejoined
 * head's groups back to given states */
static void test_model_heads(void **state)
{
	const uint16_t p7[] = {7}, p72[] = {7, 2}, p1[] = {1}, p12[] = {1, 2};
	struct tdm_alua_tgrp_set v[3] = {
		{"dg", 1, TDM_ALUA_AO, true},
		{"dg", 9, TDM_ALUA_AO, false},
		{"nodg", 1, TDM_ALUA_AO, false},
	};
	struct tdm_alua_model m;
	struct tdm_alua_change *chg;
	struct tdm_conf c;
	size_t n, skipped;

	(void)state;
	parse_ok(good_conf, &c);
	assert_int_equal(tdm_alua_build(&m, &c, NULL), 0);
	/* tg2 holds ports 7 and 2: port 7 alone is not its head */
	assert_false(tdm_alua_tpg_within(&m.dgs[1].tpgs[1], p7, 1));
	assert_int_equal(tdm_alua_set_head(&m, p7, 1, TDM_ALUA_UNAVAILABLE, -1,
					   &chg, &n),
			 0);
	assert_int_equal(n, 0);
	free(chg);
	assert_int_equal(tdm_alua_set_head(&m, p72, 2, TDM_ALUA_UNAVAILABLE, -1,
					   &chg, &n),
			 0);
	assert_int_equal(n, 1);
	assert_int_equal(chg[0].tpg, 1);
	assert_int_equal(chg[0].new_state, TDM_ALUA_UNAVAILABLE);
	free(chg);
	assert_int_equal(m.dgs[1].tpgs[1].status, TDM_ALUA_ST_IMPLICIT);
	/* tg1 (active, preferred) joining for the first time: unchanged */
	assert_int_equal(tdm_alua_set_head(&m, p12, 2, TDM_ALUA_TRANSITIONING,
					   TDM_ALUA_UNAVAILABLE, &chg, &n),
			 0);
	assert_int_equal(n, 0);
	free(chg);
	/* leaving: unavailable, the bit dropped; rejoining: transitioning;
	 * the implicit group (ports 1 and 2) is never a head's */
	assert_int_equal(tdm_alua_set_head(&m, p12, 2, TDM_ALUA_UNAVAILABLE, -1,
					   &chg, &n),
			 0);
	assert_int_equal(n, 1);
	assert_true(chg[0].old_pref && !chg[0].new_pref);
	free(chg);
	assert_int_equal(tdm_alua_set_head(&m, p12, 2, TDM_ALUA_TRANSITIONING,
					   TDM_ALUA_UNAVAILABLE, &chg, &n),
			 0);
	assert_int_equal(n, 1);
	free(chg);
	assert_int_equal(m.dgs[1].tpgs[0].state, TDM_ALUA_TRANSITIONING);
	assert_false(m.dgs[1].tpgs[0].preferred);
	assert_int_equal(m.dgs[0].tpgs[0].state, TDM_ALUA_AO);
	assert_int_equal(m.dgs[1].tpgs[1].state, TDM_ALUA_UNAVAILABLE);
	assert_int_equal(tdm_alua_set_head(&m, p1, 1, 0x7, -1, &chg, &n),
			 -EINVAL);
	/* back: tg1 active with the bit; unknown groups skipped */
	assert_int_equal(tdm_alua_set_tgrps(&m, v, 3, &skipped, &chg, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(skipped, 2);
	free(chg);
	assert_int_equal(m.dgs[1].tpgs[0].state, TDM_ALUA_AO);
	assert_true(m.dgs[1].tpgs[0].preferred);
	/* a bad state: nothing changes */
	v[0].state = 0x7;
	v[0].preferred = false;
	assert_int_equal(tdm_alua_set_tgrps(&m, v, 1, &skipped, &chg, &n),
			 -EINVAL);
	assert_true(m.dgs[1].tpgs[0].preferred);
	tdm_alua_free(&m);
	tdm_conf_free(&c);
}

/* the same through the core: 6/2A/06 on every nexus, RTPG, this head's
 * ports and its transitioning groups with the states they leave it for */
static void test_heads(void **state)
{
	const uint16_t p72[] = {7, 2}, p12[] = {1, 2}, p9[] = {9};
	struct fix *f = *state;
	struct tdm_alua_tgrp_set *v;
	uint16_t local[8];

	assert_int_equal(tdm__alua_local_ports(local, 8), 2);
	assert_int_equal(local[0], 1);
	assert_int_equal(local[1], 2);
	/* the head with ports 7 and 2 left: group 2 unavailable */
	assert_int_equal(tdm__alua_set_head(p72, 2, TDM_ALUA_UNAVAILABLE, -1,
					    "the unit test"),
			 1);
	expect_ua(f->nx1);
	expect_ua(f->nx2);
	rtpg(f->nx1, 0, false);
	assert_int_equal(result(), 0);
	assert_int_equal(R.data[4], 0x80 | TDM_ALUA_AO);
	assert_int_equal(R.data[16], TDM_ALUA_UNAVAILABLE);
	assert_int_equal(R.data[16 + 5], TDM_ALUA_ST_IMPLICIT);
	RUN(f->nx2, 0, 0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0);
	assert_int_equal(result(), KCQ(2, 0x04, 0x0C));
	/* a head none of whose groups are here: nothing, no UA */
	assert_int_equal(tdm__alua_set_head(p9, 1, TDM_ALUA_UNAVAILABLE, -1,
					    "the unit test"),
			 0);
	RUN(f->nx1, 0, 0x00, 0, 0, 0, 0, 0);
	assert_int_equal(result(), 0);
	/* this head's first join: nothing; after it left, its rejoin:
	 * group 1 transitioning without PREF */
	assert_int_equal(tdm__alua_set_head(p12, 2, TDM_ALUA_TRANSITIONING,
					    TDM_ALUA_UNAVAILABLE,
					    "the unit test"),
			 0);
	RUN(f->nx1, 0, 0x00, 0, 0, 0, 0, 0);
	assert_int_equal(result(), 0);
	assert_int_equal(tdm__alua_set_head(p12, 2, TDM_ALUA_UNAVAILABLE, -1,
					    "the unit test"),
			 1);
	assert_int_equal(tdm__alua_set_head(p12, 2, TDM_ALUA_TRANSITIONING,
					    TDM_ALUA_UNAVAILABLE,
					    "the unit test"),
			 1);
	expect_ua(f->nx1);
	expect_ua(f->nx2);
	rtpg(f->nx2, 0, false);
	assert_int_equal(R.data[4], TDM_ALUA_TRANSITIONING);
	/* what it orders once synchronised: its configured state and bit,
	 * or the --rejoin-state without the bit */
	assert_int_equal(tdm__alua_local_transitioning(&v, -1), 1);
	assert_string_equal(v[0].dg, "dg");
	assert_int_equal(v[0].group_id, 1);
	assert_int_equal(v[0].state, TDM_ALUA_AO);
	assert_true(v[0].preferred);
	free(v);
	assert_int_equal(
		tdm__alua_local_transitioning(&v, TDM_ALUA_UNAVAILABLE), 1);
	assert_int_equal(v[0].state, TDM_ALUA_UNAVAILABLE);
	assert_false(v[0].preferred);
	free(v);
	assert_int_equal(tdm__alua_local_transitioning(&v, -1), 1);
	assert_int_equal(tdm__alua_set_tgrps(v, 1, "the unit test"), 0);
	free(v);
	expect_ua(f->nx1);
	expect_ua(f->nx2);
	rtpg(f->nx1, 0, false);
	assert_int_equal(R.data[4], 0x80 | TDM_ALUA_AO);
	assert_int_equal(tdm__alua_local_transitioning(&v, -1), 0);
	free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_model),
		cmocka_unit_test(test_model_activate),
		cmocka_unit_test(test_model_set_tgrp),
		cmocka_unit_test(test_model_heads),
		cmocka_unit_test(test_state_names),
		cmocka_unit_test(test_conf_roundtrip),
		cmocka_unit_test(test_conf_errors),
		cmocka_unit_test(test_conf_noted),
		cmocka_unit_test_setup_teardown(test_inquiry, fix_setup,
						fix_teardown),
		cmocka_unit_test_setup_teardown(test_rtpg, fix_setup,
						fix_teardown),
		cmocka_unit_test_setup_teardown(test_states, fix_setup,
						fix_teardown),
		cmocka_unit_test_setup_teardown(test_stpg, fix_setup,
						fix_teardown),
		cmocka_unit_test_setup_teardown(test_activate, fix_setup,
						fix_teardown),
		cmocka_unit_test_setup_teardown(test_heads, fix_setup,
						fix_teardown),
		cmocka_unit_test_setup_teardown(test_set_tgrp, fix_setup,
						fix_teardown),
	};
	int rc;

	setenv("TANDEM_STATE_DIR", "/nonexistent/tandem-test-alua", 1);
	loop = tdm_loop_new();
	if (!loop) {
		fprintf(stderr, "cannot create an event loop\n");
		return 77;
	}
	tdm_loop_set_current(loop);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	tdm_loop_set_current(NULL);
	tdm_loop_free(loop);
	return rc ? 1 : 0;
}
