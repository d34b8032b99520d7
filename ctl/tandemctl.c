/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tandemctl - administer a running tandemd through its control socket,
 * with scstadmin's option names where they exist.
 *
 * Reads ask the daemon (GET-CONFIG, SESSIONS, STATS, STATUS). An edit is
 * read-modify-write: GET-CONFIG with its epoch, change the configuration
 * with conf/conf_edit.c, APPLY with that epoch; when another admin got
 * there first the daemon answers ESTALE and the edit is redone on the
 * new configuration. In cluster mode (tandemd -A) an edit of the shared
 * configuration is sent as it is (EDIT) and tandemd orders it on every
 * head (targetd/cluster_conf.c); node-local edits stay read-modify-write
 * on this head. Tools print: errors go to stderr, exit status 1 (2 for a
 * bad command line).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alua/alua.h" /* target group state names */
#include "conf/conf_edit.h"
#include "conf/conf_edit_ops.h"
#include "ctl/ctl_proto.h"
#include "lib/writefile.h"
#include "tandem/config.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

#define DEFAULT_SOCKET "/run/tandem/tandemd.sock"
#define EDIT_ATTEMPTS 5
#define ERRLEN 2048
#define RUNNING "<running configuration>"

static const char *prog = "tandemctl";

static void errx_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void errx_(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- the command line ---- */

/* the bits of conf/conf_edit_ops.h, which carries edits to tandemd */
enum mod {
	M_HANDLER = TDM_EDIT_M_HANDLER,
	M_ATTRS = TDM_EDIT_M_ATTRS,
	M_DRIVER = TDM_EDIT_M_DRIVER,
	M_TARGET = TDM_EDIT_M_TARGET,
	M_GROUP = TDM_EDIT_M_GROUP,
	M_DEVICE = TDM_EDIT_M_DEVICE,
	M_DEV_GROUP = TDM_EDIT_M_DEV_GROUP, /* alua/: scstadmin's -dev_group */
};

enum act {
	A_CONFIG,
	A_WRITE_CONFIG,
	A_CHECK_CONFIG,
	A_RELOAD,
	A_STATUS,
	A_LIST_HANDLER,
	A_LIST_DEVICE,
	A_LIST_DEV_ATTR,
	A_LIST_DRIVER,
	A_LIST_DRV_ATTR,
	A_LIST_TARGET,
	A_LIST_TGT_ATTR,
	A_LIST_GROUP,
	A_LIST_GRP_ATTR,
	A_LIST_SESSIONS,
	A_STATS,
	A_OPEN_DEV,
	A_CLOSE_DEV,
	A_SET_DEV_ATTR,
	A_SET_DRV_ATTR,
	A_ADD_DRV_ATTR,
	A_REM_DRV_ATTR,
	A_ADD_TARGET,
	A_REM_TARGET,
	A_SET_TGT_ATTR,
	A_ADD_TGT_ATTR,
	A_REM_TGT_ATTR,
	A_ENABLE_TARGET,
	A_DISABLE_TARGET,
	A_ADD_LUN,
	A_REM_LUN,
	A_ADD_GROUP,
	A_REM_GROUP,
	A_SET_GRP_ATTR,
	A_ADD_GRP_ATTR,
	A_REM_GRP_ATTR,
	A_ADD_INIT,
	A_REM_INIT,
	A_CLOSE_SESSION,
	A_BLACKBOX,
	A_LIST_DGRP, /* alua/ */
	A_LIST_TGRP_ATTR,
	A_SET_TGRP_ATTR,
	A_ACTIVATE_TGRP,
	A_SET_TGRP_STATE,
};

enum argkind { ARG_NONE, ARG_REQ, ARG_OPT };

static const struct actdesc {
	const char *name;
	enum act act;
	enum argkind arg;
	const char *argname;
	unsigned need, allow; /* modifiers */
} acts[] = {
	{"config", A_CONFIG, ARG_REQ, "FILE", 0, 0},
	{"write_config", A_WRITE_CONFIG, ARG_REQ, "FILE", 0, 0},
	{"check_config", A_CHECK_CONFIG, ARG_REQ, "FILE", 0, 0},
	{"reload", A_RELOAD, ARG_NONE, NULL, 0, 0},
	{"status", A_STATUS, ARG_NONE, NULL, 0, 0},
	{"list_handler", A_LIST_HANDLER, ARG_NONE, NULL, 0, 0},
	{"list_device", A_LIST_DEVICE, ARG_NONE, NULL, 0, M_HANDLER},
	{"list_dev_attr", A_LIST_DEV_ATTR, ARG_REQ, "DEVICE", 0, M_HANDLER},
	{"list_driver", A_LIST_DRIVER, ARG_NONE, NULL, 0, 0},
	{"list_drv_attr", A_LIST_DRV_ATTR, ARG_REQ, "DRIVER", 0, 0},
	{"list_target", A_LIST_TARGET, ARG_NONE, NULL, 0, M_DRIVER},
	{"list_tgt_attr", A_LIST_TGT_ATTR, ARG_REQ, "TARGET", 0, M_DRIVER},
	{"list_group", A_LIST_GROUP, ARG_NONE, NULL, 0, M_DRIVER | M_TARGET},
	{"list_grp_attr", A_LIST_GRP_ATTR, ARG_REQ, "GROUP", M_TARGET,
	 M_DRIVER},
	{"list_sessions", A_LIST_SESSIONS, ARG_NONE, NULL, 0,
	 M_DRIVER | M_TARGET},
	{"stats", A_STATS, ARG_OPT, "DEVICE", 0, 0},
	{"open_dev", A_OPEN_DEV, ARG_REQ, "DEVICE", M_HANDLER, M_ATTRS},
	{"close_dev", A_CLOSE_DEV, ARG_REQ, "DEVICE", 0, M_HANDLER},
	{"set_dev_attr", A_SET_DEV_ATTR, ARG_REQ, "DEVICE", M_ATTRS, M_HANDLER},
	{"set_drv_attr", A_SET_DRV_ATTR, ARG_REQ, "DRIVER", M_ATTRS, 0},
	{"add_drv_attr", A_ADD_DRV_ATTR, ARG_REQ, "DRIVER", M_ATTRS, 0},
	{"rem_drv_attr", A_REM_DRV_ATTR, ARG_REQ, "DRIVER", M_ATTRS, 0},
	{"add_target", A_ADD_TARGET, ARG_REQ, "TARGET", 0, M_DRIVER | M_ATTRS},
	{"rem_target", A_REM_TARGET, ARG_REQ, "TARGET", 0, M_DRIVER},
	{"set_tgt_attr", A_SET_TGT_ATTR, ARG_REQ, "TARGET", M_ATTRS, M_DRIVER},
	{"add_tgt_attr", A_ADD_TGT_ATTR, ARG_REQ, "TARGET", M_ATTRS, M_DRIVER},
	{"rem_tgt_attr", A_REM_TGT_ATTR, ARG_REQ, "TARGET", M_ATTRS, M_DRIVER},
	{"enable_target", A_ENABLE_TARGET, ARG_REQ, "TARGET", 0, M_DRIVER},
	{"disable_target", A_DISABLE_TARGET, ARG_REQ, "TARGET", 0, M_DRIVER},
	{"add_lun", A_ADD_LUN, ARG_REQ, "LUN", M_TARGET | M_DEVICE,
	 M_DRIVER | M_GROUP | M_ATTRS},
	{"rem_lun", A_REM_LUN, ARG_REQ, "LUN", M_TARGET, M_DRIVER | M_GROUP},
	{"add_group", A_ADD_GROUP, ARG_REQ, "GROUP", M_TARGET, M_DRIVER},
	{"rem_group", A_REM_GROUP, ARG_REQ, "GROUP", M_TARGET, M_DRIVER},
	{"set_grp_attr", A_SET_GRP_ATTR, ARG_REQ, "GROUP", M_TARGET | M_ATTRS,
	 M_DRIVER},
	{"add_grp_attr", A_ADD_GRP_ATTR, ARG_REQ, "GROUP", M_TARGET | M_ATTRS,
	 M_DRIVER},
	{"rem_grp_attr", A_REM_GRP_ATTR, ARG_REQ, "GROUP", M_TARGET | M_ATTRS,
	 M_DRIVER},
	{"add_init", A_ADD_INIT, ARG_REQ, "PATTERN", M_TARGET | M_GROUP,
	 M_DRIVER},
	{"rem_init", A_REM_INIT, ARG_REQ, "PATTERN", M_TARGET | M_GROUP,
	 M_DRIVER},
	{"close_session", A_CLOSE_SESSION, ARG_REQ, "ID", 0, 0},
	{"blackbox", A_BLACKBOX, ARG_NONE, NULL, 0, 0},
	/* ALUA device and target groups (alua/) */
	{"list_dgrp", A_LIST_DGRP, ARG_OPT, "DEVICE_GROUP", 0, 0},
	{"list_tgrp_attr", A_LIST_TGRP_ATTR, ARG_REQ, "TARGET_GROUP",
	 M_DEV_GROUP, 0},
	{"set_tgrp_attr", A_SET_TGRP_ATTR, ARG_REQ, "TARGET_GROUP",
	 M_DEV_GROUP | M_ATTRS, 0},
	{"activate_tgrp", A_ACTIVATE_TGRP, ARG_REQ, "TARGET_GROUP", M_DEV_GROUP,
	 0},
	{"set_tgrp_state", A_SET_TGRP_STATE, ARG_REQ, "TARGET_GROUP",
	 M_DEV_GROUP | M_ATTRS, 0},
};

static const struct moddesc {
	const char *name;
	enum mod bit;
} mods[] = {
	{"handler", M_HANDLER},	    {"attributes", M_ATTRS},
	{"driver", M_DRIVER},	    {"target", M_TARGET},
	{"group", M_GROUP},	    {"device", M_DEVICE},
	{"dev_group", M_DEV_GROUP},
};

struct opts {
	const char *sock;
	const struct actdesc *act;
	const char *arg;
	const char *mod[7]; /* by bit index */
	unsigned given;
	struct tdm_attrs attrs;
	uint64_t num; /* LUN or session id */
	bool force;   /* -config: even a file without any device */
};

static const char *mod_val(const struct opts *o, enum mod m)
{
	return o->mod[__builtin_ctz((unsigned)m)];
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tandemctl [-s SOCKET] COMMAND [OPTIONS]\n"
		"Administer a running tandemd (default socket %s).\n"
		"\n"
		"Configuration:\n"
		"  -config FILE [-force]        apply FILE to the running "
		"daemon\n"
		"                               (-force: even if FILE has no "
		"device)\n"
		"  -write_config FILE           write the running "
		"configuration "
		"(- = stdout)\n"
		"  -check_config FILE           check FILE locally (no daemon "
		"needed)\n"
		"  -reload                      make tandemd re-read its "
		"configuration file\n"
		"Information:\n"
		"  -status\n"
		"  -list_handler\n"
		"  -list_device [-handler H]    -list_dev_attr DEVICE\n"
		"  -list_driver                 -list_drv_attr D\n"
		"  -list_target [-driver D]     -list_tgt_attr TARGET\n"
		"  -list_group [-target T]      -list_grp_attr GROUP -target "
		"T\n"
		"  -list_sessions [-target T]   -stats [DEVICE]\n"
		"Devices:\n"
		"  -open_dev DEVICE -handler H [-attributes \"k=v,...\"]\n"
		"  -close_dev DEVICE [-handler H]\n"
		"  -set_dev_attr DEVICE -attributes \"k=v,...\"\n"
		"Target drivers (D: iscsi ib_srpt scst_local ibmvstgt "
		"qla2x00t):\n"
		"  -set_drv_attr|-add_drv_attr|-rem_drv_attr D "
		"-attributes \"k=v,...\"\n"
		"Targets (-driver D; iscsi is the default of -add_target):\n"
		"  -add_target TARGET [-driver D] [-attributes \"k=v,...\"]\n"
		"  -rem_target TARGET\n"
		"  -set_tgt_attr|-add_tgt_attr|-rem_tgt_attr TARGET "
		"-attributes "
		"\"k=v,...\"\n"
		"  -enable_target TARGET        -disable_target TARGET\n"
		"LUNs, groups, initiators:\n"
		"  -add_lun N -target T [-group G] -device DEVICE "
		"[-attributes read_only=1]\n"
		"  -rem_lun N -target T [-group G]\n"
		"  -add_group G -target T       -rem_group G -target T\n"
		"  -set_grp_attr|-add_grp_attr|-rem_grp_attr G -target T "
		"-attributes ...\n"
		"  -add_init PATTERN -target T -group G\n"
		"  -rem_init PATTERN -target T -group G\n"
		"Sessions:\n"
		"  -close_session ID\n"
		"Diagnosis:\n"
		"  -blackbox                    make tandemd write its "
		"blackbox; prints the file\n"
		"ALUA (device and target groups):\n"
		"  -list_dgrp [DEVICE_GROUP]    "
		"-list_tgrp_attr TG -dev_group DG\n"
		"  -set_tgrp_attr TG -dev_group DG -attributes "
		"\"state=standby,preferred=1\"\n"
		"  -activate_tgrp TG -dev_group DG  make TG the active group "
		"(the others step back)\n"
		"  -set_tgrp_state TG -dev_group DG -attributes "
		"\"state=S[,preferred=0|1]\"\n"
		"                               set TG's running state (the "
		"others unchanged)\n"
		"Other:\n"
		"  -s, -socket PATH             control socket\n"
		"  -noprompt                    accepted (tandemctl never "
		"prompts)\n"
		"  -h, -help                    this text;  -V, -version\n"
		"\n"
		"An attribute with an empty value (\"usn=\") returns to its "
		"default; see tandemctl(8).\n",
		DEFAULT_SOCKET);
}

static bool parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (!*s || *s == '-' || *s == '+')
		return false;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return !errno && !*end;
}

/* 0, or 2 after a message (bad command line) */
static int parse_args(int argc, char **argv, struct opts *o)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *name;
		size_t k;

		if (a[0] != '-' || a[1] == '\0') {
			errx_("unexpected argument '%s'", a);
			return 2;
		}
		name = a + 1 + (a[1] == '-');
		if (!strcmp(name, "h") || !strcmp(name, "help")) {
			usage(stdout);
			exit(0);
		}
		if (!strcmp(name, "V") || !strcmp(name, "version")) {
			printf("tandemctl %s\n", PACKAGE_VERSION);
			exit(0);
		}
		if (!strcmp(name, "noprompt") || !strcmp(name, "nonkey"))
			continue;
		if (!strcmp(name, "force")) {
			o->force = true;
			continue;
		}
		if (!strcmp(name, "s") || !strcmp(name, "socket")) {
			if (i + 1 == argc) {
				errx_("%s needs a path", a);
				return 2;
			}
			o->sock = argv[++i];
			continue;
		}
		for (k = 0; k < sizeof(mods) / sizeof(mods[0]); k++)
			if (!strcmp(name, mods[k].name))
				break;
		if (k < sizeof(mods) / sizeof(mods[0])) {
			if (i + 1 == argc) {
				errx_("%s needs a value", a);
				return 2;
			}
			if (o->given & mods[k].bit) {
				errx_("%s given twice", a);
				return 2;
			}
			o->given |= mods[k].bit;
			o->mod[__builtin_ctz((unsigned)mods[k].bit)] =
				argv[++i];
			continue;
		}
		for (k = 0; k < sizeof(acts) / sizeof(acts[0]); k++)
			if (!strcmp(name, acts[k].name))
				break;
		if (k == sizeof(acts) / sizeof(acts[0])) {
			errx_("unknown option %s (see -help)", a);
			return 2;
		}
		if (o->act) {
			errx_("one command at a time: -%s and %s", o->act->name,
			      a);
			return 2;
		}
		o->act = &acts[k];
		if (acts[k].arg == ARG_REQ) {
			if (i + 1 == argc) {
				errx_("%s needs %s", a, acts[k].argname);
				return 2;
			}
			o->arg = argv[++i];
		} else if (acts[k].arg == ARG_OPT && i + 1 < argc &&
			   argv[i + 1][0] != '-') {
			o->arg = argv[++i];
		}
	}
	if (!o->act) {
		usage(stderr);
		return 2;
	}
	if (o->force && o->act->act != A_CONFIG) {
		errx_("-force goes with -config only");
		return 2;
	}
	for (size_t k = 0; k < sizeof(mods) / sizeof(mods[0]); k++) {
		if ((o->act->need & mods[k].bit) && !(o->given & mods[k].bit)) {
			errx_("-%s needs -%s", o->act->name, mods[k].name);
			return 2;
		}
		if ((o->given & mods[k].bit) &&
		    !((o->act->need | o->act->allow) & mods[k].bit)) {
			errx_("-%s does not take -%s", o->act->name,
			      mods[k].name);
			return 2;
		}
	}
	return 0;
}

/* ---- tables ---- */

struct table {
	size_t ncols, nrows, cap;
	char **cell; /* nrows * ncols, malloc'ed */
};

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p) {
		errx_("out of memory");
		exit(1);
	}
	return p;
}

static char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(xmalloc(n), s, n);
}

static void table_init(struct table *t, size_t ncols)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
}

/* A row of ncols strings; "" shows as "-" so columns stay columns. */
static void table_row_v(struct table *t, const char *const *cells)
{
	if (t->nrows == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->cell = realloc(t->cell, t->cap * t->ncols * sizeof(char *));
		if (!t->cell) {
			errx_("out of memory");
			exit(1);
		}
	}
	for (size_t i = 0; i < t->ncols; i++)
		t->cell[t->nrows * t->ncols + i] =
			xstrdup(cells[i] && *cells[i] ? cells[i] : "-");
	t->nrows++;
}

#define table_row(t, ...) table_row_v((t), (const char *const[]){__VA_ARGS__})

static void table_print(struct table *t)
{
	size_t *w = calloc(t->ncols, sizeof(*w));

	if (!w) {
		errx_("out of memory");
		exit(1);
	}
	for (size_t r = 0; r < t->nrows; r++)
		for (size_t c = 0; c < t->ncols; c++) {
			size_t n = strlen(t->cell[r * t->ncols + c]);

			if (n > w[c])
				w[c] = n;
		}
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			const char *s = t->cell[r * t->ncols + c];

			if (c + 1 == t->ncols)
				printf("%s\n", s);
			else
				printf("%-*s  ", (int)w[c], s);
		}
	}
	free(w);
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cell[i]);
	free(t->cell);
	memset(t, 0, sizeof(*t));
}

static const char *u64s(char *buf, size_t len, uint64_t v)
{
	snprintf(buf, len, "%llu", (unsigned long long)v);
	return buf;
}

/* ---- talking to the daemon ---- */

struct conn {
	int fd;
	const char *path;
};

static int conn_open(struct conn *c, const char *path)
{
	char err[ERRLEN];

	c->path = path;
	c->fd = tdm_ctl_connect(path, err, sizeof(err));
	if (c->fd < 0) {
		errx_("%s", err);
		return -1;
	}
	return 0;
}

static void conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

/*
 * One request. Returns 0 (OK), the positive errno of an ERR answer (with
 * its message in *payload), or -1 after printing a transport error.
 */
static int call(struct conn *c, const struct tdm_ctl_req *req,
		const void *payload, struct tdm_ctl_rsp *rsp, char **out,
		size_t *outlen)
{
	char err[ERRLEN];
	size_t dummy;
	int r;

	r = tdm_ctl_call(c->fd, req, payload, rsp, out,
			 outlen ? outlen : &dummy, err, sizeof(err));
	if (r < 0) {
		errx_("%s", err);
		return -1;
	}
	return rsp->status;
}

/* Print an ERR answer's message. */
static void print_err(int status, const char *msg)
{
	if (msg && *msg)
		errx_("%s", msg);
	else
		errx_("%s", strerror(status));
}

/* A request without payload whose answer must be OK; 0 or exit status 1. */
static int simple(struct conn *c, enum tdm_ctl_verb verb, const char *name,
		  uint64_t num, struct tdm_ctl_rsp *rsp, char **out)
{
	struct tdm_ctl_req req = {.verb = verb, .num = num};
	char *p = NULL;
	int r;

	if (name)
		snprintf(req.name, sizeof(req.name), "%s", name);
	r = call(c, &req, NULL, rsp, &p, NULL);
	if (r > 0)
		print_err(r, p);
	if (r) {
		free(p);
		return 1;
	}
	if (out)
		*out = p;
	else
		free(p);
	return 0;
}

/* GET-CONFIG, parsed: 0 or exit status 1. */
static int get_config(struct conn *c, struct tdm_conf *conf, uint64_t *epoch)
{
	struct tdm_ctl_rsp *rsp = xmalloc(sizeof(*rsp));
	char err[ERRLEN], *text = NULL;
	const char *e;
	size_t len;
	int r;

	struct tdm_ctl_req req = {.verb = TDM_CTL_GET_CONFIG};

	r = call(c, &req, NULL, rsp, &text, &len);
	if (r > 0)
		print_err(r, text);
	if (r) {
		free(text);
		free(rsp);
		return 1;
	}
	e = tdm_ctl_rsp_get(rsp, "epoch");
	if (!e || !parse_u64(e, epoch)) {
		errx_("tandemd sent no epoch with its configuration");
		free(text);
		free(rsp);
		return 1;
	}
	r = tdm_conf_parse(text, len, RUNNING, conf, err, sizeof(err));
	free(text);
	free(rsp);
	if (r < 0) {
		errx_("cannot read tandemd's configuration: %s", err);
		return 1;
	}
	return 0;
}

/* ---- edits ---- */

static const char *drv_check(const struct opts *o)
{
	const char *d = o->act->act == A_LIST_DRV_ATTR ||
					o->act->act == A_SET_DRV_ATTR ||
					o->act->act == A_ADD_DRV_ATTR ||
					o->act->act == A_REM_DRV_ATTR
				? o->arg
				: mod_val(o, M_DRIVER);

	enum tdm_target_driver drv;

	if (d && tdm_target_driver_from_name(d, &drv) < 0)
		return d;
	return NULL;
}

/* The command line's edit as data (conf/conf_edit_ops.h). */
static void build_edit(const struct opts *o, struct tdm_edit *e)
{
	memset(e, 0, sizeof(*e));
	snprintf(e->action, sizeof(e->action), "%s", o->act->name);
	for (size_t k = 0; k < sizeof(mods) / sizeof(mods[0]); k++) {
		if (!(o->given & mods[k].bit) || mods[k].bit == M_ATTRS)
			continue;
		if (tdm_edit_set_mod(e, mods[k].bit, mod_val(o, mods[k].bit)) <
		    0) {
			errx_("out of memory");
			exit(1);
		}
	}
	e->mods |= o->given & M_ATTRS;
	e->arg = o->arg ? xstrdup(o->arg) : NULL;
	/* the attributes stay o's: e only borrows them */
	e->attrs = o->attrs;
}

static void drop_edit(struct tdm_edit *e)
{
	e->attrs.v = NULL;
	e->attrs.n = 0;
	tdm_edit_free(e);
}

static int do_edit_op(struct tdm_conf *c, const struct opts *o, char *err,
		      size_t errlen)
{
	struct tdm_edit e;
	int r;

	build_edit(o, &e);
	r = tdm_edit_apply(c, &e, err, errlen);
	drop_edit(&e);
	return r;
}

/*
 * Cluster mode (the daemon's STATUS has a cluster line other than "off"
 * and a cluster_conf_epoch): an edit of the shared configuration goes to
 * tandemd as EDIT, which orders it on every head. 1: done here with exit
 * status *status; 0: not in cluster mode or a node-local edit (made as
 * before, on this head).
 */
static int cluster_edit(const struct opts *o, int *status)
{
	struct tdm_ctl_rsp *rsp = xmalloc(sizeof(*rsp));
	struct tdm_ctl_req req = {.verb = TDM_CTL_EDIT};
	enum tdm_edit_scope scope;
	const char *cl, *ce;
	char err[ERRLEN], *answer = NULL;
	struct tdm_edit e;
	struct conn c;
	uint8_t *enc;
	size_t len;
	int r;

	*status = 1;
	build_edit(o, &e);
	err[0] = '\0';
	scope = tdm_edit_scope(&e, err, sizeof(err));
	if (scope != TDM_EDIT_SCOPE_SHARED && scope != TDM_EDIT_SCOPE_MIXED) {
		drop_edit(&e);
		free(rsp);
		return 0;
	}
	if (conn_open(&c, o->sock) < 0) {
		drop_edit(&e);
		free(rsp);
		return 1;
	}
	r = simple(&c, TDM_CTL_STATUS, NULL, 0, rsp, NULL);
	cl = r ? NULL : tdm_ctl_rsp_get(rsp, "cluster");
	ce = r ? NULL : tdm_ctl_rsp_get(rsp, "cluster_conf_epoch");
	if (r || !cl || !strcmp(cl, "off") || !ce) {
		/* no cluster (or a tandemd without ordered edits) */
		conn_close(&c);
		drop_edit(&e);
		free(rsp);
		if (r)
			return 1;
		return 0;
	}
	if (scope == TDM_EDIT_SCOPE_MIXED) {
		errx_("%s", err);
		conn_close(&c);
		drop_edit(&e);
		free(rsp);
		return 1;
	}
	r = tdm_edit_encode(&e, &enc, &len);
	drop_edit(&e);
	if (r < 0) {
		errx_("cannot encode the edit: %s", strerror(-r));
		conn_close(&c);
		free(rsp);
		return 1;
	}
	req.payload_len = len;
	r = call(&c, &req, enc, rsp, &answer, NULL);
	free(enc);
	conn_close(&c);
	if (r > 0)
		print_err(r, answer);
	else if (r == 0)
		*status = 0;
	free(answer);
	free(rsp);
	return 1;
}

/* A short random pause before retrying (50..250 ms). */
static void backoff(void)
{
	struct timespec ts = {0, 0};

	ts.tv_nsec = (50 + (long)((unsigned)getpid() * 7919u +
				  (unsigned)time(NULL)) %
				   200) *
		     1000000L;
	nanosleep(&ts, NULL);
}

static int do_edit(const struct opts *o)
{
	struct tdm_ctl_rsp *rsp = xmalloc(sizeof(*rsp));
	char err[ERRLEN], name[128];
	int attempt, r, status = 1;

	if (cluster_edit(o, &status)) {
		free(rsp);
		return status;
	}
	snprintf(name, sizeof(name), "tandemctl -%s", o->act->name);
	for (attempt = 1; attempt <= EDIT_ATTEMPTS; attempt++) {
		struct tdm_ctl_req req = {.verb = TDM_CTL_APPLY};
		struct tdm_conf before, after;
		struct conn c;
		uint64_t epoch;
		char *text = NULL, *answer = NULL;
		size_t len;

		if (conn_open(&c, o->sock) < 0)
			break;
		if (get_config(&c, &before, &epoch)) {
			conn_close(&c);
			break;
		}
		r = tdm_conf_dup(&before, &after);
		if (r < 0) {
			errx_("out of memory");
			tdm_conf_free(&before);
			conn_close(&c);
			break;
		}
		r = do_edit_op(&after, o, err, sizeof(err));
		if (r < 0) {
			errx_("%s", err);
			tdm_conf_free(&before);
			tdm_conf_free(&after);
			conn_close(&c);
			break;
		}
		if (tdm_conf_equal(&before, &after)) {
			/* nothing to change: do not disturb the daemon */
			status = 0;
			tdm_conf_free(&before);
			tdm_conf_free(&after);
			conn_close(&c);
			break;
		}
		r = tdm_conf_write(&after, &text, &len);
		tdm_conf_free(&before);
		tdm_conf_free(&after);
		if (r < 0) {
			errx_("cannot write the configuration: %s",
			      strerror(-r));
			conn_close(&c);
			break;
		}
		req.num = epoch;
		req.payload_len = len;
		snprintf(req.name, sizeof(req.name), "%s", name);
		/* an edit names what it removes (-close_dev of the last
		 * device included) */
		req.force = true;
		r = call(&c, &req, text, rsp, &answer, NULL);
		free(text);
		conn_close(&c);
		if (r == 0) {
			status = 0;
			free(answer);
			break;
		}
		if (r == ESTALE && attempt < EDIT_ATTEMPTS) {
			/* another admin changed it meanwhile: redo the edit */
			free(answer);
			backoff();
			continue;
		}
		if (r == ESTALE)
			errx_("the configuration kept changing under this "
			      "edit; gave up after %d attempts",
			      EDIT_ATTEMPTS);
		else if (r > 0)
			print_err(r, answer);
		free(answer);
		break;
	}
	free(rsp);
	return status;
}

/* ---- whole configurations ---- */

static int read_input(const char *path, char **buf, size_t *len)
{
	int fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : 0;
	size_t cap = 65536, n = 0;
	char *p;

	if (fd < 0) {
		errx_("%s: %s", path, strerror(errno));
		return 1;
	}
	p = xmalloc(cap);
	for (;;) {
		ssize_t got;

		if (n == cap) {
			if (cap > TDM_CTL_PAYLOAD_MAX) {
				errx_("%s: larger than %u bytes", path,
				      TDM_CTL_PAYLOAD_MAX);
				goto fail;
			}
			cap *= 2;
			p = realloc(p, cap);
			if (!p) {
				errx_("out of memory");
				goto fail;
			}
		}
		got = read(fd, p + n, cap - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			errx_("%s: %s", path, strerror(errno));
			goto fail;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	if (n > TDM_CTL_PAYLOAD_MAX) {
		errx_("%s: larger than %u bytes", path, TDM_CTL_PAYLOAD_MAX);
		goto fail;
	}
	if (fd)
		close(fd);
	*buf = p;
	*len = n;
	return 0;
fail:
	free(p);
	if (fd)
		close(fd);
	return 1;
}

static int do_config(const struct opts *o)
{
	struct tdm_ctl_req req = {.verb = TDM_CTL_APPLY, .num = 0};
	struct tdm_ctl_rsp *rsp;
	char *text, *answer = NULL;
	struct conn c;
	size_t len;
	int r;

	if (read_input(o->arg, &text, &len))
		return 1;
	if (conn_open(&c, o->sock) < 0) {
		free(text);
		return 1;
	}
	rsp = xmalloc(sizeof(*rsp));
	req.payload_len = len;
	req.force = o->force;
	snprintf(req.name, sizeof(req.name), "%s",
		 strcmp(o->arg, "-") ? o->arg : "<stdin>");
	r = call(&c, &req, text, rsp, &answer, NULL);
	if (r > 0)
		print_err(r, answer);
	free(answer);
	free(text);
	free(rsp);
	conn_close(&c);
	return r ? 1 : 0;
}

static char *noted_config(const struct opts *o, size_t *len);

/* FILE is replaced atomically and made 0600 (it holds CHAP secrets). */
static int do_write_config(const struct opts *o)
{
	struct tdm_ctl_rsp *rsp = xmalloc(sizeof(*rsp));
	char *text = NULL;
	struct conn c;
	size_t len;
	int r;

	struct tdm_ctl_req req = {.verb = TDM_CTL_GET_CONFIG};

	if (conn_open(&c, o->sock) < 0) {
		free(rsp);
		return 1;
	}
	r = call(&c, &req, NULL, rsp, &text, &len);
	conn_close(&c);
	free(rsp);
	if (r > 0)
		print_err(r, text);
	if (r) {
		free(text);
		return 1;
	}
	{
		size_t nlen = 0;
		char *noted = noted_config(o, &nlen);

		if (noted && (nlen != len || memcmp(noted, text, len))) {
			free(text);
			text = noted;
			len = nlen;
		} else {
			free(noted);
		}
	}
	if (!strcmp(o->arg, "-")) {
		r = tdm_write_all(1, text, len);
		free(text);
		if (r < 0) {
			errx_("stdout: %s", strerror(-r));
			return 1;
		}
		return 0;
	}
	r = tdm_file_replace(o->arg, text, len, NULL, 0, 0);
	if (r < 0)
		errx_("%s: %s", o->arg, strerror(-r));
	free(text);
	return r < 0 ? 1 : 0;
}

static int do_check_config(const struct opts *o)
{
	struct tdm_conf c;
	char err[ERRLEN];
	char *text;
	size_t len;
	int r;

	if (!strcmp(o->arg, "-")) {
		if (read_input("-", &text, &len))
			return 1;
		r = tdm_conf_parse(text, len, "<stdin>", &c, err, sizeof(err));
		free(text);
	} else {
		r = tdm_conf_parse_file(o->arg, &c, err, sizeof(err));
	}
	if (r < 0) {
		/* as compilers do: file:line: problem */
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	printf("%s: OK (%zu devices, %zu targets)\n",
	       strcmp(o->arg, "-") ? o->arg : "<stdin>", c.ndevices,
	       c.ntargets);
	tdm_conf_free(&c);
	return 0;
}

static int do_reload(const struct opts *o)
{
	struct tdm_ctl_rsp *rsp = xmalloc(sizeof(*rsp));
	struct conn c;
	int r;

	if (conn_open(&c, o->sock) < 0) {
		free(rsp);
		return 1;
	}
	r = simple(&c, TDM_CTL_RELOAD, NULL, 0, rsp, NULL);
	conn_close(&c);
	free(rsp);
	return r;
}

static int do_close_session(const struct opts *o)
{
	struct tdm_ctl_rsp *rsp;
	struct conn c;
	uint64_t id;
	int r;

	if (!parse_u64(o->arg, &id)) {
		errx_("bad session id '%s' (see -list_sessions)", o->arg);
		return 2;
	}
	if (conn_open(&c, o->sock) < 0)
		return 1;
	rsp = xmalloc(sizeof(*rsp));
	r = simple(&c, TDM_CTL_CLOSE_SESSION, NULL, id, rsp, NULL);
	conn_close(&c);
	free(rsp);
	return r;
}

/* BLACKBOX: the daemon writes its flight recorder; print the file's
 * name (read it with qb-blackbox FILE) */
static int do_blackbox(const struct opts *o)
{
	struct tdm_ctl_rsp *rsp;
	const char *file;
	struct conn c;
	int r;

	if (conn_open(&c, o->sock) < 0)
		return 1;
	rsp = xmalloc(sizeof(*rsp));
	r = simple(&c, TDM_CTL_BLACKBOX, NULL, 0, rsp, NULL);
	conn_close(&c);
	file = r ? NULL : tdm_ctl_rsp_get(rsp, "file");
	if (file) {
		printf("%s\n", file);
	} else if (!r) {
		errx_("tandemd did not say where it wrote the blackbox");
		r = 1;
	}
	free(rsp);
	return r;
}

/* ---- listings ---- */

static int do_status(const struct opts *o)
{
	static const char *const keys[] = {
		"version", "pid",      "proto",	  "epoch",
		"uptime",  "config",   "socket",  "devices",
		"targets", "sessions", "clients",
	};
	struct tdm_ctl_rsp *rsp = xmalloc(sizeof(*rsp));
	struct table t;
	struct conn c;
	int r;

	if (conn_open(&c, o->sock) < 0) {
		free(rsp);
		return 1;
	}
	r = simple(&c, TDM_CTL_STATUS, NULL, 0, rsp, NULL);
	conn_close(&c);
	if (r) {
		free(rsp);
		return r;
	}
	table_init(&t, 2);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *v = tdm_ctl_rsp_get(rsp, keys[i]);

		if (v)
			table_row(&t, keys[i], v);
	}
	/* keys a newer daemon adds */
	for (size_t i = 0; i < rsp->nkv; i++) {
		size_t k;

		for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			if (!strcmp(rsp->kv[i].key, keys[k]))
				break;
		if (k == sizeof(keys) / sizeof(keys[0]))
			table_row(&t, rsp->kv[i].key, rsp->kv[i].value);
	}
	table_print(&t);
	free(rsp);
	return 0;
}

static int do_list_handler(void)
{
	struct table t;

	table_init(&t, 1);
	table_row(&t, "HANDLER");
	for (unsigned h = 0; h < TDM__HANDLER_COUNT; h++)
		table_row(&t, tdm_handler_name((enum tdm_handler)h));
	table_print(&t);
	return 0;
}

/* Fetch the running configuration (one connection). */
static int fetch(const struct opts *o, struct tdm_conf *conf)
{
	struct conn c;
	uint64_t epoch;
	int r;

	if (conn_open(&c, o->sock) < 0)
		return 1;
	r = get_config(&c, conf, &epoch);
	conn_close(&c);
	return r;
}

/* A tab-separated answer (header line first) as rows of fields. */
struct tsv {
	char *buf;
	size_t nrows, ncols;
	char ***rows; /* [row][col] into buf */
};

static void tsv_free(struct tsv *t)
{
	for (size_t i = 0; i < t->nrows; i++)
		free(t->rows[i]);
	free(t->rows);
	free(t->buf);
	memset(t, 0, sizeof(*t));
}

static int tsv_parse(char *buf, struct tsv *t)
{
	char *line = buf;

	memset(t, 0, sizeof(*t));
	t->buf = buf;
	while (*line) {
		char *nl = strchr(line, '\n');
		size_t n = 1;
		char **row;

		if (nl)
			*nl = '\0';
		for (char *p = line; *p; p++)
			n += *p == '\t';
		if (t->nrows == 0)
			t->ncols = n;
		if (n != t->ncols) {
			errx_("tandemd sent a malformed table");
			return -1;
		}
		row = xmalloc(n * sizeof(*row));
		for (size_t i = 0; i < n; i++) {
			row[i] = line;
			line += strcspn(line, "\t");
			if (*line)
				*line++ = '\0';
		}
		t->rows = realloc(t->rows, (t->nrows + 1) * sizeof(*t->rows));
		if (!t->rows) {
			errx_("out of memory");
			exit(1);
		}
		t->rows[t->nrows++] = row;
		if (!nl)
			break;
		line = nl + 1;
	}
	return t->nrows ? 0 : -1;
}

static int tsv_col(const struct tsv *t, const char *name)
{
	for (size_t i = 0; i < t->ncols; i++)
		if (!strcmp(t->rows[0][i], name))
			return (int)i;
	return -1;
}

/* SESSIONS or STATS as a table. */
static int fetch_tsv(const struct opts *o, enum tdm_ctl_verb verb,
		     const char *name, struct tsv *t)
{
	struct tdm_ctl_rsp *rsp = xmalloc(sizeof(*rsp));
	char *p = NULL;
	struct conn c;
	int r;

	if (conn_open(&c, o->sock) < 0) {
		free(rsp);
		return 1;
	}
	r = simple(&c, verb, name, 0, rsp, &p);
	conn_close(&c);
	free(rsp);
	if (r)
		return r;
	if (tsv_parse(p, t) < 0) {
		tsv_free(t);
		return 1;
	}
	return 0;
}

static void print_tsv(const struct tsv *t, int filter_col, const char *filter)
{
	struct table tb;

	table_init(&tb, t->ncols);
	for (size_t r = 0; r < t->nrows; r++) {
		if (r > 0 && filter_col >= 0 &&
		    strcmp(t->rows[r][filter_col], filter) != 0)
			continue;
		if (r == 0) {
			/* the header in capitals, like the other tables */
			for (size_t c = 0; c < t->ncols; c++)
				for (char *p = t->rows[0][c]; *p; p++)
					if (*p >= 'a' && *p <= 'z')
						*p = (char)(*p - 'a' + 'A');
		}
		table_row_v(&tb, (const char *const *)t->rows[r]);
	}
	table_print(&tb);
}

static int do_list_sessions(const struct opts *o)
{
	const char *tgt = mod_val(o, M_TARGET);
	struct tsv t;
	int r = fetch_tsv(o, TDM_CTL_SESSIONS, NULL, &t);

	if (r)
		return r;
	print_tsv(&t, tgt ? tsv_col(&t, "target") : -1, tgt);
	tsv_free(&t);
	return 0;
}

static int do_stats(const struct opts *o)
{
	struct tsv t;
	int r = fetch_tsv(o, TDM_CTL_STATS, o->arg, &t);

	if (r)
		return r;
	print_tsv(&t, -1, NULL);
	tsv_free(&t);
	return 0;
}

static int do_list_device(const struct opts *o)
{
	const char *h = mod_val(o, M_HANDLER);
	struct tdm_conf c;
	struct table t;
	struct tsv st = {0};
	int size_col = -1, r;

	r = fetch(o, &c);
	if (r)
		return r;
	/* the size a file or block device really has */
	if (fetch_tsv(o, TDM_CTL_STATS, NULL, &st) == 0)
		size_col = tsv_col(&st, "size");
	table_init(&t, 5);
	table_row(&t, "DEVICE", "HANDLER", "SIZE", "BLOCKSIZE", "FILENAME");
	for (size_t i = 0; i < c.ndevices; i++) {
		const struct tdm_conf_device *d = &c.devices[i];
		char size[24], bs[16];

		if (h && !tdm_handler_is(d->handler, h))
			continue;
		u64s(size, sizeof(size), d->size);
		for (size_t k = 1; size_col >= 0 && k < st.nrows; k++)
			if (!strcmp(st.rows[k][0], d->name))
				snprintf(size, sizeof(size), "%s",
					 st.rows[k][size_col]);
		snprintf(bs, sizeof(bs), "%u", d->blocksize);
		table_row(&t, d->name, tdm_handler_name(d->handler), size, bs,
			  d->filename);
	}
	table_print(&t);
	tsv_free(&st);
	tdm_conf_free(&c);
	return 0;
}

static void row_bool(struct table *t, const char *k, bool v)
{
	table_row(t, k, v ? "1" : "0");
}

static void row_num(struct table *t, const char *k, unsigned long long v)
{
	char b[24];

	snprintf(b, sizeof(b), "%llu", v);
	table_row(t, k, b);
}

static void row_user(struct table *t, const char *k,
		     const struct tdm_conf_user *u)
{
	char both[TDM_NAME_MAX + TDM_SECRET_MAX + 1];

	snprintf(both, sizeof(both), "%s %s", u->name, u->secret);
	table_row(t, k, both);
}

static void param_rows(struct table *t, const struct tdm_conf_iscsi_params *p)
{
	static const char *const dg[] = {"None", "CRC32C", "CRC32C,None"};

	if (p->header_digest >= 0 && p->header_digest <= 2)
		table_row(t, "HeaderDigest", dg[p->header_digest]);
	if (p->data_digest >= 0 && p->data_digest <= 2)
		table_row(t, "DataDigest", dg[p->data_digest]);
	if (p->initial_r2t >= 0)
		table_row(t, "InitialR2T", p->initial_r2t ? "Yes" : "No");
	if (p->immediate_data >= 0)
		table_row(t, "ImmediateData", p->immediate_data ? "Yes" : "No");
	if (p->max_recv_data_segment_length)
		row_num(t, "MaxRecvDataSegmentLength",
			p->max_recv_data_segment_length);
	if (p->max_xmit_data_segment_length)
		row_num(t, "MaxXmitDataSegmentLength",
			p->max_xmit_data_segment_length);
	if (p->max_burst_length)
		row_num(t, "MaxBurstLength", p->max_burst_length);
	if (p->first_burst_length)
		row_num(t, "FirstBurstLength", p->first_burst_length);
	if (p->max_outstanding_r2t)
		row_num(t, "MaxOutstandingR2T", p->max_outstanding_r2t);
	if (p->queued_commands)
		row_num(t, "QueuedCommands", p->queued_commands);
	if (p->nop_in_disabled)
		row_num(t, "NopInInterval", 0);
	else if (p->nop_in_interval)
		row_num(t, "NopInInterval", p->nop_in_interval);
	if (p->nop_in_timeout)
		row_num(t, "NopInTimeout", p->nop_in_timeout);
	if (p->rsp_timeout)
		row_num(t, "RspTimeout", p->rsp_timeout);
}

static int do_list_dev_attr(const struct opts *o)
{
	const struct tdm_conf_device *d;
	struct tdm_conf c;
	struct table t;
	int r = fetch(o, &c);

	if (r)
		return r;
	d = tdm_edit_find_device(&c, o->arg);
	if (!d) {
		errx_("no device '%s'", o->arg);
		tdm_conf_free(&c);
		return 1;
	}
	table_init(&t, 2);
	table_row(&t, "ATTRIBUTE", "VALUE");
	table_row(&t, "handler", tdm_handler_name(d->handler));
	if (d->handler == TDM_HANDLER_FILEIO ||
	    d->handler == TDM_HANDLER_BLOCKIO)
		table_row(&t, "filename", d->filename);
	if (d->handler == TDM_HANDLER_RBD) {
		table_row(&t, "pool", d->rbd_pool);
		table_row(&t, "image", d->rbd_image);
		table_row(&t, "ceph_conf", d->ceph_conf);
		table_row(&t, "ceph_id", d->ceph_id);
		table_row(&t, "ceph_keyring", d->ceph_keyring);
		row_num(&t, "rbd_timeout", d->rbd_timeout);
	}
	row_num(&t, "size", d->size);
	row_num(&t, "blocksize", d->blocksize);
	row_num(&t, "physical_blocksize",
		d->phys_blocksize ? d->phys_blocksize : d->blocksize);
	row_bool(&t, "read_only", d->read_only);
	row_bool(&t, "nv_cache", d->nv_cache);
	row_bool(&t, "write_through", d->write_through);
	if (d->handler == TDM_HANDLER_FILEIO)
		row_bool(&t, "o_direct", d->o_direct);
	row_bool(&t, "thin_provisioned", d->thin_provisioned);
	row_bool(&t, "rotational", d->rotational);
	row_bool(&t, "removable", d->removable);
	if (d->deferred_open)
		row_bool(&t, "deferred_open", 1);
	table_row(&t, "t10_vend_id", d->t10_vend_id);
	table_row(&t, "prod_id", d->prod_id);
	table_row(&t, "prod_rev_lvl", d->prod_rev_lvl);
	table_row(&t, "t10_dev_id", d->t10_dev_id);
	table_row(&t, "usn", d->usn);
	table_row(&t, "naa_id", d->naa_id);
	table_row(&t, "eui64_id", d->eui64_id);
	table_print(&t);
	tdm_conf_free(&c);
	return 0;
}

static int do_list_driver(const struct opts *o)
{
	struct tdm_conf c;
	struct table t;
	char n[24];
	int r = fetch(o, &c);

	if (r)
		return r;
	table_init(&t, 3);
	table_row(&t, "DRIVER", "ENABLED", "TARGETS");
	for (unsigned d = TDM_DRV_ISCSI; d <= TDM_DRV_FC; d++) {
		size_t k = 0;

		for (size_t i = 0; i < c.ntargets; i++)
			k += c.targets[i].driver == d;
		snprintf(n, sizeof(n), "%zu", k);
		table_row(&t, tdm_target_driver_name(d),
			  tdm_conf_driver_enabled(&c, d) ? "1" : "0", n);
	}
	table_print(&t);
	tdm_conf_free(&c);
	return 0;
}

/* TARGET_DRIVER ib_srpt: every attribute, with its default when not
 * given */
static void srp_rows(struct table *t, const struct tdm_conf_srp *s)
{
	row_bool(t, "enabled", s->enabled);
	if (!s->nportals) {
		char p[32];

		snprintf(p, sizeof(p), "0.0.0.0:%u", TDM_SRP_DEF_PORT);
		table_row(t, "portal", p);
	}
	for (size_t i = 0; i < s->nportals; i++)
		table_row(t, "portal", s->portals[i]);
	row_num(t, "srp_max_req_size",
		s->max_req_size ? s->max_req_size : TDM_SRP_DEF_MAX_REQ);
	row_num(t, "srp_max_rsp_size",
		s->max_rsp_size ? s->max_rsp_size : TDM_SRP_DEF_MAX_RSP);
	row_num(t, "srp_sq_size", s->sq_size ? s->sq_size : TDM_SRP_DEF_SQ);
	row_num(t, "use_srq", 0);
}

static int do_list_drv_attr(const struct opts *o)
{
	enum tdm_target_driver drv = TDM_DRV_ISCSI;
	struct tdm_conf c;
	struct table t;
	int r;

	r = fetch(o, &c);
	if (r)
		return r;
	table_init(&t, 2);
	table_row(&t, "ATTRIBUTE", "VALUE");
	(void)tdm_target_driver_from_name(o->arg, &drv); /* drv_check()ed */
	if (drv != TDM_DRV_ISCSI) {
		/* ib_srpt's, or a kernel fabric's only one */
		if (drv == TDM_DRV_SRP)
			srp_rows(&t, &c.srp);
		else
			row_bool(&t, "enabled",
				 tdm_conf_driver_enabled(&c, drv));
		table_print(&t);
		tdm_conf_free(&c);
		return 0;
	}
	row_bool(&t, "enabled", c.iscsi_enabled);
	for (size_t i = 0; i < c.nportals; i++)
		table_row(&t, "portal", c.portals[i]);
	if (c.max_pending_logins) {
		char n[16];

		snprintf(n, sizeof(n), "%u", c.max_pending_logins);
		table_row(&t, "max_pending_logins", n);
	}
	for (size_t i = 0; i < c.ndiscovery_in_users; i++)
		row_user(&t, "IncomingUser", &c.discovery_in_users[i]);
	if (c.has_discovery_out_user)
		row_user(&t, "OutgoingUser", &c.discovery_out_user);
	param_rows(&t, &c.params);
	table_print(&t);
	tdm_conf_free(&c);
	return 0;
}

static int count_sessions(const struct tsv *s, const char *target)
{
	int col = s->nrows ? tsv_col(s, "target") : -1, n = 0;

	for (size_t i = 1; col >= 0 && i < s->nrows; i++)
		n += !strcmp(s->rows[i][col], target);
	return n;
}

static int do_list_target(const struct opts *o)
{
	const char *only = mod_val(o, M_DRIVER);
	enum tdm_target_driver only_drv = TDM_DRV_ISCSI;
	struct tsv s = {0};
	struct tdm_conf c;
	struct table t;
	bool have_s;
	int r;

	r = fetch(o, &c);
	if (r)
		return r;
	have_s = fetch_tsv(o, TDM_CTL_SESSIONS, NULL, &s) == 0;
	if (only) /* drv_check()ed; ibmvscsis is ibmvstgt */
		(void)tdm_target_driver_from_name(only, &only_drv);
	table_init(&t, 7);
	table_row(&t, "TARGET", "ENABLED", "REL_TGT_ID", "LUNS", "GROUPS",
		  "SESSIONS", "DRIVER");
	for (size_t i = 0; i < c.ntargets; i++) {
		const struct tdm_conf_target *x = &c.targets[i];
		const char *drv = tdm_target_driver_name(x->driver);
		char id[16], nl[24], ng[24], ns[24];

		if (only && x->driver != only_drv)
			continue;
		snprintf(id, sizeof(id), "%u", x->rel_tgt_id);
		snprintf(nl, sizeof(nl), "%zu", x->nluns);
		snprintf(ng, sizeof(ng), "%zu", x->ngroups);
		if (have_s)
			snprintf(ns, sizeof(ns), "%d",
				 count_sessions(&s, x->name));
		else
			snprintf(ns, sizeof(ns), "?");
		table_row(&t, x->name, x->enabled ? "1" : "0",
			  x->rel_tgt_id ? id : "auto", nl, ng, ns, drv);
	}
	table_print(&t);
	tsv_free(&s);
	tdm_conf_free(&c);
	return 0;
}

static void lun_table(const struct tdm_conf_lun *l, size_t n)
{
	struct table t;

	table_init(&t, 3);
	table_row(&t, "LUN", "DEVICE", "READ_ONLY");
	for (size_t i = 0; i < n; i++) {
		char num[24];

		table_row(&t, u64s(num, sizeof(num), l[i].lun), l[i].device,
			  l[i].read_only ? "1" : "0");
	}
	table_print(&t);
}

static int do_list_tgt_attr(const struct opts *o)
{
	const struct tdm_conf_target *x;
	struct tdm_conf c;
	struct table t;
	int r = fetch(o, &c);

	if (r)
		return r;
	x = tdm_edit_find_target(&c, o->arg);
	if (!x) {
		errx_("no target '%s'", o->arg);
		tdm_conf_free(&c);
		return 1;
	}
	table_init(&t, 2);
	table_row(&t, "ATTRIBUTE", "VALUE");
	table_row(&t, "driver", tdm_target_driver_name(x->driver));
	row_bool(&t, "enabled", x->enabled);
	if (x->driver == TDM_DRV_LOCAL) /* with its default */
		table_row(&t, "session_name", tdm_conf_session_name(x));
	if (!TDM_DRV_IS_KERNEL(x->driver))
		row_bool(&t, "refuse_unmatched_initiators",
			 x->refuse_unmatched);
	if (x->rel_tgt_id)
		row_num(&t, "rel_tgt_id", x->rel_tgt_id);
	else
		table_row(&t, "rel_tgt_id", "auto");
	for (size_t i = 0; i < x->nin_users; i++)
		row_user(&t, "IncomingUser", &x->in_users[i]);
	if (x->has_out_user)
		row_user(&t, "OutgoingUser", &x->out_user);
	for (size_t i = 0; i < x->nallowed_portals; i++)
		table_row(&t, "allowed_portal", x->allowed_portals[i]);
	param_rows(&t, &x->params);
	table_print(&t);
	printf("\n");
	lun_table(x->luns, x->nluns);
	tdm_conf_free(&c);
	return 0;
}

static int do_list_group(const struct opts *o)
{
	const char *only = mod_val(o, M_TARGET);
	struct tdm_conf c;
	struct table t;
	int r = fetch(o, &c);

	if (r)
		return r;
	if (only && !tdm_edit_find_target(&c, only)) {
		errx_("no target '%s'", only);
		tdm_conf_free(&c);
		return 1;
	}
	table_init(&t, 4);
	table_row(&t, "TARGET", "GROUP", "LUNS", "INITIATORS");
	for (size_t i = 0; i < c.ntargets; i++) {
		const struct tdm_conf_target *x = &c.targets[i];

		if (only && strcmp(only, x->name) != 0)
			continue;
		for (size_t g = 0; g < x->ngroups; g++) {
			char nl[24], ni[24];

			snprintf(nl, sizeof(nl), "%zu", x->groups[g].nluns);
			snprintf(ni, sizeof(ni), "%zu",
				 x->groups[g].ninitiators);
			table_row(&t, x->name, x->groups[g].name, nl, ni);
		}
	}
	table_print(&t);
	tdm_conf_free(&c);
	return 0;
}

static int do_list_grp_attr(const struct opts *o)
{
	const char *tgt = mod_val(o, M_TARGET);
	const struct tdm_conf_target *x;
	const struct tdm_conf_group *g;
	struct tdm_conf c;
	struct table t;
	int r = fetch(o, &c);

	if (r)
		return r;
	x = tdm_edit_find_target(&c, tgt);
	g = x ? tdm_edit_find_group(x, o->arg) : NULL;
	if (!g) {
		if (x)
			errx_("target %s has no group '%s'", tgt, o->arg);
		else
			errx_("no target '%s'", tgt);
		tdm_conf_free(&c);
		return 1;
	}
	table_init(&t, 2);
	table_row(&t, "ATTRIBUTE", "VALUE");
	for (size_t i = 0; i < g->ninitiators; i++)
		table_row(&t, "INITIATOR", g->initiators[i]);
	for (size_t i = 0; i < g->nin_users; i++)
		row_user(&t, "IncomingUser", &g->in_users[i]);
	table_print(&t);
	printf("\n");
	lun_table(g->luns, g->nluns);
	tdm_conf_free(&c);
	return 0;
}

/* ---- ALUA device and target groups (alua/) ---- */

/* The ALUA answer's row of target group tg of dg (NULL: none). */
static char **alua_row(const struct tsv *t, const char *dg, const char *tg)
{
	for (size_t i = 1; i < t->nrows; i++)
		if (!strcmp(t->rows[i][0], dg) && !strcmp(t->rows[i][1], tg))
			return t->rows[i];
	return NULL;
}

/* A state number of the ALUA answer by name ("?" if unknown). */
static const char *state_of(const char *num)
{
	const char *n = tdm_alua_state_name((uint8_t)strtoul(num, NULL, 10));

	return n ? n : "?";
}

/* SPC-4 6.37, table 216: how the state was last set */
static const char *status_of(const char *num)
{
	switch (strtoul(num, NULL, 10)) {
	case TDM_ALUA_ST_SET_TPG:
		return "set_target_port_groups";
	case TDM_ALUA_ST_IMPLICIT:
		return "implicit";
	default:
		return "none";
	}
}

/* The configuration and what runs now (ALUA). */
static int fetch_alua(const struct opts *o, struct tdm_conf *c, struct tsv *t)
{
	int r = fetch(o, c);

	if (r)
		return r;
	r = fetch_tsv(o, TDM_CTL_ALUA, NULL, t);
	if (r)
		tdm_conf_free(c);
	else if (t->ncols < 8) {
		errx_("tandemd sent a malformed ALUA table");
		tsv_free(t);
		tdm_conf_free(c);
		r = 1;
	}
	return r;
}

static int do_list_dgrp(const struct opts *o)
{
	struct tdm_conf c;
	struct table t;
	struct tsv now;
	int r = fetch_alua(o, &c, &now);

	if (r)
		return r;
	table_init(&t, 6);
	table_row(&t, "DEVICE_GROUP", "DEVICES", "TARGET_GROUP", "STATE",
		  "PREFERRED", "CONFIGURED");
	for (size_t i = 0; i < c.ndgrps; i++) {
		const struct tdm_conf_dgrp *d = &c.dgrps[i];
		char nd[32];

		if (o->arg && strcmp(o->arg, d->name) != 0)
			continue;
		snprintf(nd, sizeof(nd), "%zu", d->ndevices);
		if (!d->ntgrps)
			table_row(&t, d->name, nd, "-", "-", "-", "-");
		for (size_t j = 0; j < d->ntgrps; j++) {
			const struct tdm_conf_tgrp *g = &d->tgrps[j];
			const char *st = tdm_alua_state_name(g->state);
			char **row = alua_row(&now, d->name, g->name);
			char conf[64];

			snprintf(conf, sizeof(conf), "%s%s", st ? st : "?",
				 g->preferred ? ",preferred" : "");
			/* STATE, PREFERRED: what initiators see now */
			table_row(&t, j ? "" : d->name, j ? "" : nd, g->name,
				  row ? state_of(row[3]) : "-",
				  row ? row[4] : "-", conf);
		}
	}
	table_print(&t);
	tsv_free(&now);
	tdm_conf_free(&c);
	return 0;
}

static int do_list_tgrp_attr(const struct opts *o)
{
	const char *dg = mod_val(o, M_DEV_GROUP);
	const struct tdm_conf_tgrp *g;
	struct tdm_conf c;
	struct table t;
	struct tsv now;
	char num[32], **row;
	int r = fetch_alua(o, &c, &now);

	if (r)
		return r;
	g = tdm_edit_find_tgrp(&c, dg, o->arg);
	if (!g) {
		errx_("device group %s has no target group '%s'", dg, o->arg);
		tsv_free(&now);
		tdm_conf_free(&c);
		return 1;
	}
	row = alua_row(&now, dg, o->arg);
	table_init(&t, 2);
	table_row(&t, "ATTRIBUTE", "VALUE");
	snprintf(num, sizeof(num), "%u", g->group_id);
	table_row(&t, "group_id", num);
	table_row(&t, "preferred", g->preferred ? "1" : "0");
	table_row(&t, "state",
		  tdm_alua_state_name(g->state) ? tdm_alua_state_name(g->state)
						: "?");
	/* read-only: what REPORT TARGET PORT GROUPS shows now */
	table_row(&t, "current_state", row ? state_of(row[3]) : "-");
	table_row(&t, "current_preferred", row ? row[4] : "-");
	table_row(&t, "current_status", row ? status_of(row[5]) : "-");
	for (size_t i = 0; i < g->nports; i++) {
		snprintf(num, sizeof(num), "%u", g->ports[i].rel_tgt_id);
		table_row(&t, "TARGET", g->ports[i].name);
		if (g->ports[i].rel_tgt_id)
			table_row(&t, "  rel_tgt_id", num);
	}
	table_print(&t);
	tsv_free(&now);
	tdm_conf_free(&c);
	return 0;
}

/* -write_config: a target group that runs in another state (or preferred
 * bit) than configured gets a comment under its state; the configured
 * values stay what is written, so that the file applies unchanged. */
static void alua_note(void *arg, const struct tdm_conf_dgrp *d,
		      const struct tdm_conf_tgrp *t, char *buf, size_t len)
{
	char **row = alua_row(arg, d->name, t->name);

	if (!row || (strtoul(row[3], NULL, 10) == t->state &&
		     (row[4][0] == '1') == t->preferred))
		return;
	snprintf(buf, len,
		 "running now: state %s, preferred %s (%s); configured: the "
		 "lines above",
		 state_of(row[3]), row[4],
		 strtoul(row[5], NULL, 10) == TDM_ALUA_ST_SET_TPG
			 ? "set by an initiator's SET TARGET PORT GROUPS"
			 : "set by -activate_tgrp, -set_tgrp_state or the "
			   "cluster");
}

/* The running configuration's text with those comments; NULL when no
 * group runs otherwise than configured (or tandemd cannot tell). */
static char *noted_config(const struct opts *o, size_t *len)
{
	struct tdm_conf c;
	struct tsv now;
	char *text = NULL;

	if (fetch_alua(o, &c, &now))
		return NULL;
	if (tdm_conf_write_noted(&c, alua_note, &now, &text, len) < 0) {
		free(text);
		text = NULL;
	}
	tsv_free(&now);
	tdm_conf_free(&c);
	return text;
}

/* -set_tgrp_state: state= (a name of tandem.conf(5)) and preferred= of
 * -attributes; 0, or 2 after a message */
static int tgrp_state_attrs(const struct opts *o, uint64_t *state,
			    int *preferred)
{
	bool have_state = false;
	uint8_t st;

	*preferred = -1;
	for (size_t i = 0; i < o->attrs.n; i++) {
		const struct tdm_attr *a = &o->attrs.v[i];

		if (!strcmp(a->key, "state")) {
			if (tdm_alua_state_from_name(a->value, &st) < 0) {
				errx_("bad state '%s' (active, nonoptimized, "
				      "standby, unavailable, offline, "
				      "transitioning)",
				      a->value);
				return 2;
			}
			*state = st;
			have_state = true;
		} else if (!strcmp(a->key, "preferred") &&
			   (!strcmp(a->value, "0") || !strcmp(a->value, "1"))) {
			*preferred = a->value[0] - '0';
		} else {
			errx_("-set_tgrp_state takes state=S and "
			      "preferred=0|1, "
			      "not '%s=%s'",
			      a->key, a->value);
			return 2;
		}
	}
	if (!have_state) {
		errx_("-set_tgrp_state needs -attributes state=S");
		return 2;
	}
	return 0;
}

/* ACTIVATE-TGRP, SET-TGRP-STATE (state, preferred): an ALUA transition of
 * the group o->arg of -dev_group; tandemd answers once it is applied
 * (cluster mode: on every head) */
static int tgrp_call(const struct opts *o, enum tdm_ctl_verb verb,
		     uint64_t state, int preferred)
{
	struct tdm_ctl_rsp *rsp = xmalloc(sizeof(*rsp));
	struct tdm_ctl_req *req = xmalloc(sizeof(*req));
	char *p = NULL;
	struct conn c;
	int r;

	memset(req, 0, sizeof(*req));
	req->verb = verb;
	snprintf(req->name, sizeof(req->name), "%s", mod_val(o, M_DEV_GROUP));
	snprintf(req->name2, sizeof(req->name2), "%s", o->arg);
	req->num = state;
	req->preferred = preferred;
	r = conn_open(&c, o->sock) < 0 ? 1 : 0;
	if (!r) {
		r = call(&c, req, NULL, rsp, &p, NULL);
		conn_close(&c);
		if (r > 0)
			print_err(r, p);
		r = r ? 1 : 0;
	}
	free(p);
	free(req);
	free(rsp);
	return r;
}

static int do_set_tgrp_state(const struct opts *o)
{
	uint64_t state = 0;
	int pref, r = tgrp_state_attrs(o, &state, &pref);

	return r ? r : tgrp_call(o, TDM_CTL_SET_TGRP_STATE, state, pref);
}

int main(int argc, char **argv)
{
	struct opts o = {.sock = DEFAULT_SOCKET};
	char err[ERRLEN];
	int r;

	r = parse_args(argc, argv, &o);
	if (r)
		return r;
	if (o.given & M_ATTRS) {
		if (tdm_attrs_parse(mod_val(&o, M_ATTRS), &o.attrs, err,
				    sizeof(err)) < 0) {
			errx_("-attributes: %s", err);
			return 2;
		}
	}
	if (drv_check(&o)) {
		errx_("unknown target driver '%s' (iscsi, ib_srpt, scst_local, "
		      "ibmvstgt or qla2x00t)",
		      drv_check(&o));
		return 1;
	}
	if (o.act->act == A_ADD_LUN || o.act->act == A_REM_LUN) {
		if (!parse_u64(o.arg, &o.num)) {
			errx_("bad LUN number '%s'", o.arg);
			return 2;
		}
	}
	switch (o.act->act) {
	case A_CONFIG:
		r = do_config(&o);
		break;
	case A_WRITE_CONFIG:
		r = do_write_config(&o);
		break;
	case A_CHECK_CONFIG:
		r = do_check_config(&o);
		break;
	case A_RELOAD:
		r = do_reload(&o);
		break;
	case A_STATUS:
		r = do_status(&o);
		break;
	case A_LIST_HANDLER:
		r = do_list_handler();
		break;
	case A_LIST_DEVICE:
		r = do_list_device(&o);
		break;
	case A_LIST_DEV_ATTR:
		r = do_list_dev_attr(&o);
		break;
	case A_LIST_DRIVER:
		r = do_list_driver(&o);
		break;
	case A_LIST_DRV_ATTR:
		r = do_list_drv_attr(&o);
		break;
	case A_LIST_TARGET:
		r = do_list_target(&o);
		break;
	case A_LIST_TGT_ATTR:
		r = do_list_tgt_attr(&o);
		break;
	case A_LIST_GROUP:
		r = do_list_group(&o);
		break;
	case A_LIST_GRP_ATTR:
		r = do_list_grp_attr(&o);
		break;
	case A_LIST_SESSIONS:
		r = do_list_sessions(&o);
		break;
	case A_STATS:
		r = do_stats(&o);
		break;
	case A_CLOSE_SESSION:
		r = do_close_session(&o);
		break;
	case A_BLACKBOX:
		r = do_blackbox(&o);
		break;
	case A_LIST_DGRP: /* alua/ */
		r = do_list_dgrp(&o);
		break;
	case A_LIST_TGRP_ATTR:
		r = do_list_tgrp_attr(&o);
		break;
	case A_ACTIVATE_TGRP:
		r = tgrp_call(&o, TDM_CTL_ACTIVATE_TGRP, 0, -1);
		break;
	case A_SET_TGRP_STATE:
		r = do_set_tgrp_state(&o);
		break;
	default:
		r = do_edit(&o);
		break;
	}
	tdm_attrs_free(&o.attrs);
	if (fflush(stdout) != 0) {
		errx_("stdout: %s", strerror(errno));
		r = 1;
	}
	return r;
}
