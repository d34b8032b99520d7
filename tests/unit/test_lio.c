/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * test_lio.c - kernel/lio.c against a recorded configfs layout.
 *
 * No LIO here: a small simulator stands in for the kernel. lio.c's
 * mkdir, rmdir, write and symlink calls are diverted to it (the program
 * is linked with -Wl,--wrap, tests/unit/lio.mk); in a temporary
 * directory that plays /sys/kernel/config/target it does what Linux 6.1
 * does: mkdir of a known kind of directory makes the attribute files and
 * default groups the kernel makes (the tables below, each citing the
 * kernel source it was read from), stores check what the kernel checks
 * (enable once, block_dev only on an enabled device, tcm_loop's nexus
 * prefix and "NULL", the serial refused while exported, LUN links only
 * to enabled devices, ACL links only within their tpgt, qla2xxx's strict
 * port names, ibmvscsis' known adapters), rmdir refuses a directory that
 * still holds what the user made (ENOTEMPTY) and takes the default groups
 * with it, an enabled TCMU device gets a UIO entry named as
 * target_core_user.c names it, and symlinks read back relative as
 * configfs returns them. Every store is logged in order, so the tests
 * check what lio.c wrote and when. ibmvscsis and qla2xxx are tested only
 * this way: no hardware here (kernel/README.md).
 *
 * Not simulated: attribute values the kernel computes (statistics files
 * are left out of the tables), open(2) refusals of read-only attributes
 * (the simulator refuses the write instead), netlink.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kernel/lio.h"

#define ERRLEN 512

/* snprintf that fails the test when it cuts */
__attribute__((format(printf, 3, 4))) static void fmt(char *out, size_t len,
						      const char *f, ...)
{
	va_list ap;
	int n;

	va_start(ap, f);
	n = vsnprintf(out, len, f, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < len);
}

/* ---- the recorded layout (Linux 6.1) ---- */

struct attr {
	const char *name;
	const char *init;
	char mode; /* 'r' read-only, 'w' write-only, 'b' both */
};

struct group {
	const char *name;
	const struct attr *attrs;
	const struct group *groups; /* default groups, {NULL} ended */
};

static const struct attr no_attrs[] = {{NULL, NULL, 0}};
static const struct group no_groups[] = {{NULL, NULL, NULL}};

/* target_core_configfs.c target_core_hba_attrs */
static const struct attr hba_attrs[] = {
	{"hba_info", "HBA Index: 1 plugin: user version: v5.0", 'r'},
	{"hba_mode", "0", 'b'},
	{NULL, NULL, 0},
};

/* target_core_configfs.c target_core_dev_attrs */
static const struct attr dev_attrs[] = {
	{"info", "Status: DEACTIVATED", 'r'},
	{"control", "", 'w'},
	{"alias", "", 'b'},
	{"udev_path", "", 'b'},
	{"enable", "0", 'b'},
	{"alua_lu_gp", "default_lu_gp", 'b'},
	{"lba_map", "", 'b'},
	{NULL, NULL, 0},
};

/* target_core_user.c tcmu_action_attrs */
static const struct attr dev_action_attrs[] = {
	{"block_dev", "unblocked", 'b'},
	{"reset_ring", "", 'w'},
	{"free_kept_buf", "", 'w'},
	{NULL, NULL, 0},
};

/* target_core_user.c tcm_user init: passthrough_attrib_attrs +
 * passthrough_pr_attrib_attrs (target_core_configfs.c) +
 * tcmu_attrib_attrs */
static const struct attr dev_attrib_attrs[] = {
	{"hw_pi_prot_type", "0", 'r'},	   {"hw_block_size", "0", 'r'},
	{"hw_max_sectors", "0", 'r'},	   {"hw_queue_depth", "0", 'r'},
	{"emulate_pr", "1", 'b'},	   {"alua_support", "1", 'b'},
	{"pgr_support", "1", 'b'},	   {"enforce_pr_isids", "1", 'b'},
	{"force_pr_aptpl", "0", 'b'},	   {"cmd_time_out", "30", 'b'},
	{"qfull_time_out", "-1", 'b'},	   {"max_data_area_mb", "1024", 'r'},
	{"data_pages_per_blk", "1", 'r'},  {"cmd_ring_size_mb", "8", 'r'},
	{"dev_config", "", 'b'},	   {"dev_size", "0", 'b'},
	{"emulate_write_cache", "0", 'b'}, {"tmr_notification", "0", 'b'},
	{"nl_reply_supported", "0", 'b'},  {NULL, NULL, 0},
};

/* target_core_configfs.c target_core_dev_pr_attrs */
static const struct attr dev_pr_attrs[] = {
	{"res_holder", "No SPC-3 Reservation holder", 'r'},
	{"res_pr_all_tgt_pts", "", 'r'},
	{"res_pr_generation", "0x00000000", 'r'},
	{"res_pr_holder_tg_port", "", 'r'},
	{"res_pr_registered_i_pts", "", 'r'},
	{"res_pr_type", "", 'r'},
	{"res_type", "SPC3_PERSISTENT_RESERVATIONS", 'r'},
	{"res_aptpl_active", "0", 'r'},
	{"res_aptpl_metadata", "", 'b'},
	{NULL, NULL, 0},
};

/* target_core_configfs.c target_core_dev_wwn_attrs */
static const struct attr dev_wwn_attrs[] = {
	{"vendor_id", "LIO-ORG", 'b'},
	{"product_id", "", 'b'},
	{"revision", "", 'b'},
	{"company_id", "0x001405", 'b'},
	{"vpd_unit_serial", "T10 VPD Unit Serial Number: ", 'b'},
	{"vpd_protocol_identifier", "", 'r'},
	{"vpd_assoc_logical_unit", "", 'r'},
	{"vpd_assoc_target_port", "", 'r'},
	{"vpd_assoc_scsi_target_device", "", 'r'},
	{NULL, NULL, 0},
};

/* target_core_configfs.c target_core_alua_tg_pt_gp_attrs */
static const struct attr tg_pt_gp_attrs[] = {
	{"alua_access_state", "0", 'b'},
	{"alua_access_status", "None", 'b'},
	{"alua_access_type", "Implicit and Explicit", 'b'},
	{"alua_support_transitioning", "1", 'b'},
	{"alua_support_offline", "1", 'b'},
	{"alua_support_lba_dependent", "0", 'b'},
	{"alua_support_unavailable", "1", 'b'},
	{"alua_support_standby", "1", 'b'},
	{"alua_support_active_optimized", "1", 'b'},
	{"alua_support_active_nonoptimized", "1", 'b'},
	{"alua_write_metadata", "0", 'b'},
	{"nonop_delay_msecs", "100", 'b'},
	{"trans_delay_msecs", "0", 'b'},
	{"implicit_trans_secs", "0", 'b'},
	{"preferred", "0", 'b'},
	{"tg_pt_gp_id", "0", 'b'},
	{"members", "", 'r'},
	{NULL, NULL, 0},
};

static const struct group dev_alua_groups[] = {
	{"default_tg_pt_gp", tg_pt_gp_attrs, no_groups},
	{NULL, NULL, NULL},
};

/* target_core_stat.c target_stat_setup_dev_default_groups */
static const struct group dev_stat_groups[] = {
	{"scsi_dev", no_attrs, no_groups},
	{"scsi_tgt_dev", no_attrs, no_groups},
	{"scsi_lu", no_attrs, no_groups},
	{NULL, NULL, NULL},
};

/* target_core_configfs.c target_core_make_subdev */
static const struct group dev_groups[] = {
	{"action", dev_action_attrs, no_groups},
	{"attrib", dev_attrib_attrs, no_groups},
	{"pr", dev_pr_attrs, no_groups},
	{"wwn", dev_wwn_attrs, no_groups},
	{"alua", no_attrs, dev_alua_groups},
	{"statistics", no_attrs, dev_stat_groups},
	{NULL, NULL, NULL},
};

/* target_core_configfs.c target_core_register_fabric: discovery_auth;
 * the fabric's tfc_wwn_attrs ("version" in all three) */
static const struct attr fabric_attrs[] = {
	{"version", "v1", 'r'},
	{NULL, NULL, 0},
};
static const struct group fabric_groups[] = {
	{"discovery_auth", no_attrs, no_groups},
	{NULL, NULL, NULL},
};

/* target_core_fabric_configfs.c target_fabric_make_wwn */
static const struct attr wwn_param_attrs[] = {
	{"cmd_completion_affinity", "-1", 'b'},
	{NULL, NULL, 0},
};
static const struct group wwn_groups[] = {
	{"fabric_statistics", no_attrs, no_groups},
	{"param", wwn_param_attrs, no_groups},
	{NULL, NULL, NULL},
};

/* loopback/tcm_loop.c tcm_loop_tpg_attrs, tcm_loop_tpg_attrib_attrs (no
 * fabric_enable_tpg: no "enable") */
static const struct attr loop_tpg_attrs[] = {
	{"nexus", "", 'b'},
	{"transport_status", "online", 'b'},
	{"address", "0:0:1", 'r'},
	{NULL, NULL, 0},
};
static const struct attr loop_tpg_attrib[] = {
	{"fabric_prot_type", "0", 'b'},
	{NULL, NULL, 0},
};
/* ibmvscsi_tgt.c ibmvscsis_ops: no tpg attributes; fabric_enable_tpg */
static const struct attr vio_tpg_attrs[] = {
	{"enable", "0", 'b'},
	{NULL, NULL, 0},
};
/* tcm_qla2xxx.c tcm_qla2xxx_tpg_attrs, tcm_qla2xxx_tpg_attrib_attrs and
 * tcm_qla2xxx_make_tpg's defaults; fabric_enable_tpg */
static const struct attr fc_tpg_attrs[] = {
	{"dynamic_sessions", "", 'r'},
	{"fabric_prot_type", "0", 'b'},
	{"enable", "0", 'b'},
	{NULL, NULL, 0},
};
static const struct attr fc_tpg_attrib[] = {
	{"generate_node_acls", "1", 'b'},
	{"cache_dynamic_acls", "1", 'b'},
	{"demo_mode_write_protect", "1", 'b'},
	{"prod_mode_write_protect", "0", 'b'},
	{"demo_mode_login_only", "1", 'b'},
	{NULL, NULL, 0},
};

/* target_core_fabric_configfs.c target_fabric_make_tpg */
#define TPG_GROUPS(attrib)                                                     \
	{                                                                      \
		{"lun", no_attrs, no_groups}, {"np", no_attrs, no_groups},     \
			{"acls", no_attrs, no_groups},                         \
			{"attrib", attrib, no_groups},                         \
			{"auth", no_attrs, no_groups},                         \
			{"param", no_attrs, no_groups}, {NULL, NULL, NULL},    \
	}
static const struct group loop_tpg_groups[] = TPG_GROUPS(loop_tpg_attrib);
static const struct group vio_tpg_groups[] = TPG_GROUPS(no_attrs);
static const struct group fc_tpg_groups[] = TPG_GROUPS(fc_tpg_attrib);

/* target_core_fabric_configfs.c target_fabric_port_attrs,
 * target_fabric_make_lun; target_core_stat.c port groups */
static const struct attr lun_attrs[] = {
	{"alua_tg_pt_gp", "TG Port Alias: default_tg_pt_gp", 'b'},
	{"alua_tg_pt_offline", "0", 'b'},
	{"alua_tg_pt_status", "0", 'b'},
	{"alua_tg_pt_write_md", "0", 'b'},
	{NULL, NULL, 0},
};
static const struct group lun_stat_groups[] = {
	{"scsi_port", no_attrs, no_groups},
	{"scsi_tgt_port", no_attrs, no_groups},
	{"scsi_transport", no_attrs, no_groups},
	{NULL, NULL, NULL},
};
static const struct group lun_groups[] = {
	{"statistics", no_attrs, lun_stat_groups},
	{NULL, NULL, NULL},
};

/* target_core_fabric_configfs.c target_fabric_make_nodeacl (qla2xxx has
 * no tfc_tpg_nacl_* attributes) */
static const struct group acl_groups[] = {
	{"attrib", no_attrs, no_groups},
	{"auth", no_attrs, no_groups},
	{"param", no_attrs, no_groups},
	{"fabric_statistics", no_attrs, no_groups},
	{NULL, NULL, NULL},
};

/* target_core_fabric_configfs.c target_fabric_mappedlun_attrs,
 * target_fabric_make_mappedlun; target_core_stat.c */
static const struct attr mlun_attrs[] = {
	{"write_protect", "0", 'b'},
	{NULL, NULL, 0},
};
static const struct group mlun_stat_groups[] = {
	{"scsi_auth_intr", no_attrs, no_groups},
	{"scsi_att_intr_port", no_attrs, no_groups},
	{NULL, NULL, NULL},
};
static const struct group mlun_groups[] = {
	{"statistics", no_attrs, mlun_stat_groups},
	{NULL, NULL, NULL},
};

enum kind {
	K_NONE,
	K_HBA,
	K_DEV,
	K_FABRIC,
	K_WWN,
	K_TPG,
	K_LUN,
	K_ACL,
	K_MLUN
};

static const char *const fabrics[] = {"loopback", "ibmvscsis", "qla2xxx"};

/* ---- the simulator's state ---- */

static char base[256], root[300], uio_class[300], dev_dir[300];
static bool fabric_loaded[3];
static const char *vio_adapters[] = {"30000003", "30000004", NULL};
static const char *fc_ports[] = {"21:00:00:24:ff:31:4c:48", NULL};
static int next_uio;

struct op {
	char op; /* M mkdir, R rmdir, W write, L symlink */
	char path[300];
	char val[300];
};
static struct op ops[4096];
static int nops;

static void log_op(char op, const char *rel, const char *val)
{
	if (nops < (int)(sizeof(ops) / sizeof(ops[0]))) {
		ops[nops].op = op;
		fmt(ops[nops].path, sizeof(ops[0].path), "%s", rel);
		fmt(ops[nops].val, sizeof(ops[0].val), "%s", val);
		nops++;
	}
}

/* index of the first op on a path ending in suffix (after from), -1 */
static int find_op(char op, const char *suffix, int from)
{
	size_t sl = strlen(suffix);

	for (int i = from; i < nops; i++) {
		size_t pl = strlen(ops[i].path);

		if (ops[i].op == op && pl >= sl &&
		    !strcmp(ops[i].path + pl - sl, suffix))
			return i;
	}
	return -1;
}

static int count_ops(char op)
{
	int n = 0;

	for (int i = 0; i < nops; i++)
		n += ops[i].op == op;
	return n;
}

int __real_mkdir(const char *path, mode_t mode);
int __real_rmdir(const char *path);
ssize_t __real_write(int fd, const void *buf, size_t n);
int __real_symlink(const char *target, const char *link);

/* path relative to root, or NULL if outside */
static const char *rel_of(const char *path)
{
	size_t n = strlen(root);

	if (strncmp(path, root, n) || (path[n] != '/' && path[n] != '\0'))
		return NULL;
	return path[n] == '/' ? path + n + 1 : path + n;
}

static int split(const char *rel, char comp[8][256])
{
	int n = 0;
	const char *s = rel;

	while (*s && n < 8) {
		const char *e = strchr(s, '/');
		size_t l = e ? (size_t)(e - s) : strlen(s);

		fmt(comp[n++], 256, "%.*s", (int)l, s);
		if (!e)
			break;
		s = e + 1;
	}
	return n;
}

static int fabric_index(const char *name)
{
	for (int i = 0; i < 3; i++)
		if (!strcmp(name, fabrics[i]))
			return i;
	return -1;
}

static bool num_after(const char *s, const char *prefix, unsigned long *v)
{
	char *end;

	if (strncmp(s, prefix, strlen(prefix)))
		return false;
	s += strlen(prefix);
	if (*s < '0' || *s > '9')
		return false;
	*v = strtoul(s, &end, 10);
	return *end == '\0';
}

/* tcm_qla2xxx.c tcm_qla2xxx_parse_wwn, strict */
static bool fc_strict(const char *s)
{
	if (strlen(s) != 23)
		return false;
	for (int i = 0; i < 23; i++)
		if (i % 3 == 2 ? s[i] != ':'
			       : !((s[i] >= '0' && s[i] <= '9') ||
				   (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static bool in_list(const char *const *l, const char *s)
{
	for (; *l; l++)
		if (!strcmp(*l, s))
			return true;
	return false;
}

/* The kind of directory rel is (or would be), its groups and attrs;
 * *why the errno the kernel gives a mkdir of a bad name. */
static enum kind kind_of(const char *rel, const struct attr **attrs,
			 const struct group **groups, int *why)
{
	char c[8][256];
	int n = split(rel, c), f;
	unsigned long v;

	*why = EPERM; /* no make_group there */
	*attrs = no_attrs;
	*groups = no_groups;
	if (n == 2 && !strcmp(c[0], "core")) {
		*why = EINVAL;
		if (!strchr(c[1], '_'))
			return K_NONE;
		*attrs = hba_attrs;
		return K_HBA;
	}
	if (n == 3 && !strcmp(c[0], "core")) {
		*attrs = dev_attrs;
		*groups = dev_groups;
		return K_DEV;
	}
	f = n >= 1 ? fabric_index(c[0]) : -1;
	if (n == 1) {
		*why = EINVAL; /* target_core_register_fabric */
		if (f < 0 || !fabric_loaded[f])
			return K_NONE;
		*attrs = fabric_attrs;
		*groups = fabric_groups;
		return K_FABRIC;
	}
	if (f < 0)
		return K_NONE;
	if (n == 2) {
		*why = EINVAL;
		if (f == 0 && strncmp(c[1], "naa.", 4) &&
		    strncmp(c[1], "fc.", 3) && strncmp(c[1], "iqn.", 4))
			return K_NONE; /* tcm_loop_make_scsi_hba */
		if (f == 1 && !in_list(vio_adapters, c[1]))
			return K_NONE; /* ibmvscsis_make_tport */
		if (f == 2 && !fc_strict(c[1]))
			return K_NONE; /* tcm_qla2xxx_make_lport */
		if (f == 2 && !in_list(fc_ports, c[1])) {
			*why = ENODEV; /* qlt_lport_register */
			return K_NONE;
		}
		*groups = wwn_groups;
		return K_WWN;
	}
	if (n == 3) {
		*why = EINVAL;
		if (!num_after(c[2], "tpgt_", &v))
			return K_NONE;
		if (f == 0 && v >= 32)
			return K_NONE;
		if (f == 2 && v != 1) {
			*why = ENOSYS;
			return K_NONE;
		}
		*attrs = f == 0	  ? loop_tpg_attrs
			 : f == 1 ? vio_tpg_attrs
				  : fc_tpg_attrs;
		*groups = f == 0   ? loop_tpg_groups
			  : f == 1 ? vio_tpg_groups
				   : fc_tpg_groups;
		return K_TPG;
	}
	if (n == 5 && !strcmp(c[3], "lun")) {
		*why = EINVAL;
		if (!num_after(c[4], "lun_", &v))
			return K_NONE;
		*attrs = lun_attrs;
		*groups = lun_groups;
		return K_LUN;
	}
	if (n == 5 && !strcmp(c[3], "acls")) {
		*why = EINVAL;
		if (f == 2 && !fc_strict(c[4]))
			return K_NONE; /* tcm_qla2xxx_init_nodeacl */
		*groups = acl_groups;
		return K_ACL;
	}
	if (n == 6 && !strcmp(c[3], "acls")) {
		*why = EINVAL;
		if (!num_after(c[5], "lun_", &v))
			return K_NONE;
		*attrs = mlun_attrs;
		*groups = mlun_groups;
		return K_MLUN;
	}
	return K_NONE;
}

static bool is_dir_sim(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void put(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	if (val[0])
		assert_int_equal(__real_write(fd, val, strlen(val)),
				 (ssize_t)strlen(val));
	if (val[0])
		assert_int_equal(__real_write(fd, "\n", 1), 1);
	close(fd);
}

static void get(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t r;

	buf[0] = '\0';
	if (fd < 0)
		return;
	r = read(fd, buf, len - 1);
	close(fd);
	if (r < 0)
		r = 0;
	buf[r] = '\0';
	while (r > 0 && buf[r - 1] == '\n')
		buf[--r] = '\0';
}

static void populate(const char *dir, const struct attr *attrs,
		     const struct group *groups)
{
	char p[PATH_MAX];

	for (const struct attr *a = attrs; a->name; a++) {
		fmt(p, sizeof(p), "%s/%s", dir, a->name);
		put(p, a->init);
	}
	for (const struct group *g = groups; g->name; g++) {
		fmt(p, sizeof(p), "%s/%s", dir, g->name);
		assert_int_equal(__real_mkdir(p, 0755), 0);
		populate(p, g->attrs, g->groups);
	}
}

/* Does dir hold only its default layout? */
static bool only_defaults(const char *dir, const struct attr *attrs,
			  const struct group *groups)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	bool ok = true;

	if (!d)
		return true;
	while (ok && (e = readdir(d))) {
		char p[PATH_MAX];
		bool found = false;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		fmt(p, sizeof(p), "%s/%s", dir, e->d_name);
		for (const struct attr *a = attrs; a->name; a++)
			if (!strcmp(a->name, e->d_name))
				found = true;
		for (const struct group *g = groups; !found && g->name; g++)
			if (!strcmp(g->name, e->d_name)) {
				found = true;
				ok = only_defaults(p, g->attrs, g->groups);
			}
		if (!found)
			ok = false;
	}
	closedir(d);
	return ok;
}

static void rm_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d) {
		unlink(dir);
		return;
	}
	while ((e = readdir(d))) {
		char p[PATH_MAX];
		struct stat st;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		fmt(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
			rm_tree(p);
		else
			unlink(p);
	}
	closedir(d);
	__real_rmdir(dir);
}

int __wrap_mkdir(const char *path, mode_t mode);
int __wrap_mkdir(const char *path, mode_t mode)
{
	const char *rel = rel_of(path);
	const struct attr *attrs;
	const struct group *groups;
	struct stat st;
	int why;

	if (!rel || !rel[0])
		return __real_mkdir(path, mode);
	log_op('M', rel, "");
	if (stat(path, &st) == 0) {
		errno = EEXIST;
		return -1;
	}
	if (kind_of(rel, &attrs, &groups, &why) == K_NONE) {
		errno = why;
		return -1;
	}
	if (__real_mkdir(path, mode))
		return -1;
	populate(path, attrs, groups);
	return 0;
}

/* Every symlink under the fabrics whose target is dev (a relative path
 * under root): how many LUNs export it */
static int links_to(const char *dir, const char *target_abs)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		char p[PATH_MAX], t[PATH_MAX], res[PATH_MAX];
		struct stat st;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		fmt(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (lstat(p, &st))
			continue;
		if (S_ISDIR(st.st_mode)) {
			n += links_to(p, target_abs);
		} else if (S_ISLNK(st.st_mode) && readlink(p, t, 1) > 0 &&
			   realpath(p, res) && !strcmp(res, target_abs)) {
			n++;
		}
	}
	closedir(d);
	return n;
}

static int dev_exports(const char *devdir)
{
	char real[PATH_MAX];
	int n = 0;

	if (!realpath(devdir, real))
		return 0;
	for (int f = 0; f < 3; f++) {
		char p[PATH_MAX];

		fmt(p, sizeof(p), "%s/%s", root, fabrics[f]);
		n += links_to(p, real);
	}
	return n;
}

static void uio_remove(const char *devrel)
{
	char c[8][256], want[600], p[PATH_MAX], name[600];
	DIR *d = opendir(uio_class);
	struct dirent *e;
	unsigned long id = 0;

	split(devrel, c);
	num_after(strchr(c[1], '_') + 1, "", &id);
	fmt(want, sizeof(want), "tcm-user/%lu/%s", id, c[2]);
	while (d && (e = readdir(d))) {
		if (strncmp(e->d_name, "uio", 3))
			continue;
		fmt(p, sizeof(p), "%s/%s/name", uio_class, e->d_name);
		get(p, name, sizeof(name));
		if (!strncmp(name, want, strlen(want)) &&
		    (name[strlen(want)] == '\0' || name[strlen(want)] == '/')) {
			fmt(p, sizeof(p), "%s/%s", uio_class, e->d_name);
			rm_tree(p);
			fmt(p, sizeof(p), "%s/%s", dev_dir, e->d_name);
			unlink(p);
		}
	}
	if (d)
		closedir(d);
}

int __wrap_rmdir(const char *path);
int __wrap_rmdir(const char *path)
{
	const char *rel = rel_of(path);
	const struct attr *attrs;
	const struct group *groups;
	enum kind k;
	int why;

	if (!rel || !rel[0])
		return __real_rmdir(path);
	log_op('R', rel, "");
	k = kind_of(rel, &attrs, &groups, &why);
	if (!is_dir_sim(path)) {
		errno = ENOENT;
		return -1;
	}
	if (k == K_NONE) {
		errno = EPERM; /* a default group, or core/ itself */
		return -1;
	}
	if (!only_defaults(path, attrs, groups)) {
		errno = ENOTEMPTY;
		return -1;
	}
	if (k == K_DEV)
		uio_remove(rel);
	rm_tree(path);
	return 0;
}

/* The object that holds rel (the deepest directory of a known kind) and
 * rel's path inside it */
static enum kind owner_of(const char *rel, char *obj, size_t objlen,
			  const char **sub, const struct attr **attrs,
			  const struct group **groups)
{
	char r[PATH_MAX];
	int why;

	fmt(r, sizeof(r), "%s", rel);
	for (;;) {
		char *slash = strrchr(r, '/');
		enum kind k;

		if (!slash)
			return K_NONE;
		*slash = '\0';
		k = kind_of(r, attrs, groups, &why);
		if (k != K_NONE) {
			fmt(obj, objlen, "%s", r);
			*sub = rel + strlen(r) + 1;
			return k;
		}
	}
}

/* The attribute at sub ("attrib/emulate_pr") of an object's layout */
static const struct attr *attr_at(const char *sub, const struct attr *attrs,
				  const struct group *groups)
{
	const char *slash = strchr(sub, '/');

	if (!slash) {
		for (const struct attr *a = attrs; a->name; a++)
			if (!strcmp(a->name, sub))
				return a;
		return NULL;
	}
	for (const struct group *g = groups; g->name; g++)
		if (strlen(g->name) == (size_t)(slash - sub) &&
		    !strncmp(g->name, sub, (size_t)(slash - sub)))
			return attr_at(slash + 1, g->attrs, g->groups);
	return NULL;
}

static bool strtobool_k(const char *v, bool *b)
{
	/* lib/kstrtox.c kstrtobool: 0/1, y/n, on/off */
	if (v[0] == '1' || v[0] == 'y' || v[0] == 'Y' || !strcmp(v, "on")) {
		*b = true;
		return true;
	}
	if (v[0] == '0' || v[0] == 'n' || v[0] == 'N' || !strcmp(v, "off")) {
		*b = false;
		return true;
	}
	return false;
}

static char *objpath(char *out, size_t len, const char *obj, const char *sub)
{
	fmt(out, len, "%s/%s/%s", root, obj, sub);
	return out;
}

static bool dev_enabled(const char *obj)
{
	char p[PATH_MAX], v[16];

	get(objpath(p, sizeof(p), obj, "enable"), v, sizeof(v));
	return !strcmp(v, "1");
}

/* target_core_user.c tcmu_set_configfs_dev_params: each option lands
 * where attrib/ shows it */
static int dev_control(const char *obj, const char *val)
{
	static const char *const opts[][2] = {
		{"dev_config=", "attrib/dev_config"},
		{"dev_size=", "attrib/dev_size"},
		{"hw_block_size=", "attrib/hw_block_size"},
		{"hw_max_sectors=", "attrib/hw_max_sectors"},
		{"nl_reply_supported=", "attrib/nl_reply_supported"},
	};
	char copy[600], *save = NULL, p[PATH_MAX];

	fmt(copy, sizeof(copy), "%s", val);
	for (char *t = strtok_r(copy, ",\n", &save); t;
	     t = strtok_r(NULL, ",\n", &save))
		for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
			const char *v = t + strlen(opts[i][0]);

			if (strncmp(t, opts[i][0], strlen(opts[i][0])))
				continue;
			/* tcmu_set_dev_attrib: greater than zero */
			if (!strncmp(t, "hw_", 3) && strtol(v, NULL, 10) <= 0)
				return EINVAL;
			put(objpath(p, sizeof(p), obj, opts[i][1]), v);
		}
	return 0;
}

/* target_configure_device + tcmu_configure_device: hw defaults, the
 * UIO device named by tcmu_update_uio_info */
static int dev_enable(const char *obj)
{
	char p[PATH_MAX], v[600], name[700], c[8][256];
	unsigned long id = 0;

	if (dev_enabled(obj))
		return EEXIST;
	get(objpath(p, sizeof(p), obj, "attrib/hw_block_size"), v, sizeof(v));
	if (!strcmp(v, "0"))
		put(p, "512");
	get(objpath(p, sizeof(p), obj, "attrib/hw_max_sectors"), v, sizeof(v));
	if (!strcmp(v, "0"))
		put(p, "128");
	put(objpath(p, sizeof(p), obj, "enable"), "1");
	split(obj, c);
	if (strncmp(c[1], "user_", 5))
		return 0; /* not TCMU: no UIO device */
	num_after(strchr(c[1], '_') + 1, "", &id);
	get(objpath(p, sizeof(p), obj, "attrib/dev_config"), v, sizeof(v));
	if (v[0])
		fmt(name, sizeof(name), "tcm-user/%lu/%s/%s", id, c[2], v);
	else
		fmt(name, sizeof(name), "tcm-user/%lu/%s", id, c[2]);
	fmt(p, sizeof(p), "%s/uio%d", uio_class, next_uio);
	assert_int_equal(__real_mkdir(p, 0755), 0);
	fmt(p, sizeof(p), "%s/uio%d/name", uio_class, next_uio);
	put(p, name);
	fmt(p, sizeof(p), "%s/uio%d", dev_dir, next_uio);
	put(p, "");
	next_uio++;
	return 0;
}

static bool tpg_has_luns_linked(const char *obj)
{
	char p[PATH_MAX];
	DIR *d;
	struct dirent *e;
	bool any = false;

	d = opendir(objpath(p, sizeof(p), obj, "lun"));
	while (d && (e = readdir(d))) {
		char lp[PATH_MAX];

		if (strncmp(e->d_name, "lun_", 4))
			continue;
		fmt(lp, sizeof(lp), "%s/%s", p, e->d_name);
		if (!only_defaults(lp, lun_attrs, lun_groups))
			any = true;
	}
	if (d)
		closedir(d);
	return any;
}

/* What a store does; 0 or the errno the kernel returns */
static int store(enum kind k, const char *obj, const char *sub,
		 const struct attr *a, const char *val, const char *path)
{
	char p[PATH_MAX];
	bool b;

	if (a->mode == 'r')
		return EACCES;
	if (k == K_DEV && !strcmp(sub, "control"))
		return dev_control(obj, val);
	if (k == K_DEV && !strcmp(sub, "enable"))
		return strchr(val, '1') ? dev_enable(obj) : EINVAL;
	if (k == K_DEV && (!strcmp(sub, "attrib/emulate_pr") ||
			   !strcmp(sub, "attrib/alua_support"))) {
		if (!strtobool_k(val, &b))
			return EINVAL;
		put(path, b ? "1" : "0");
		return 0;
	}
	if (k == K_DEV && !strcmp(sub, "wwn/vpd_unit_serial")) {
		char v[300];

		/* target_wwn_vpd_unit_serial_store: not while exported */
		if (dev_exports(objpath(p, sizeof(p), obj, "")))
			return EINVAL;
		fmt(v, sizeof(v), "T10 VPD Unit Serial Number: %s", val);
		put(path, v);
		return 0;
	}
	if (k == K_DEV && !strcmp(sub, "action/block_dev")) {
		if (!dev_enabled(obj) || (strcmp(val, "0") && strcmp(val, "1")))
			return EINVAL;
		put(path, val[0] == '1' ? "blocked" : "unblocked");
		return 0;
	}
	if (k == K_DEV && !strcmp(sub, "action/reset_ring")) {
		if (!dev_enabled(obj) || (strcmp(val, "1") && strcmp(val, "2")))
			return EINVAL;
		return 0; /* write-only: nothing to show */
	}
	if (k == K_TPG && !strcmp(sub, "nexus")) {
		char v[300];

		/* tcm_loop.c tcm_loop_tpg_nexus_store, tcm_loop_drop_nexus
		 * (EPERM while LUNs are linked), tcm_loop_make_nexus */
		get(path, v, sizeof(v));
		if (!strncmp(val, "NULL", 4)) {
			if (!v[0])
				return ENODEV;
			if (tpg_has_luns_linked(obj))
				return EPERM;
			put(path, "");
			return 0;
		}
		if (strncmp(val, "naa.", 4))
			return EINVAL; /* a naa. WWN: SAS */
		if (v[0])
			return EEXIST;
		put(path, val);
		return 0;
	}
	if ((k == K_TPG && !strcmp(sub, "enable")) ||
	    (k == K_TPG && !strncmp(sub, "attrib/", 7)) ||
	    (k == K_MLUN && !strcmp(sub, "write_protect"))) {
		if (!strtobool_k(val, &b))
			return EINVAL;
		put(path, b ? "1" : "0");
		return 0;
	}
	put(path, val);
	return 0;
}

ssize_t __wrap_write(int fd, const void *buf, size_t n);
ssize_t __wrap_write(int fd, const void *buf, size_t n)
{
	char fdp[64], path[PATH_MAX], val[600], obj[PATH_MAX];
	const struct attr *attrs, *a;
	const struct group *groups;
	const char *rel, *sub;
	ssize_t l;
	enum kind k;
	int e;

	fmt(fdp, sizeof(fdp), "/proc/self/fd/%d", fd);
	l = readlink(fdp, path, sizeof(path) - 1);
	if (l <= 0)
		return __real_write(fd, buf, n);
	path[l] = '\0';
	rel = rel_of(path);
	if (!rel || !rel[0])
		return __real_write(fd, buf, n);
	fmt(val, sizeof(val), "%.*s", (int)(n < 599 ? n : 599),
	    (const char *)buf);
	if (val[0] && val[strlen(val) - 1] == '\n')
		val[strlen(val) - 1] = '\0';
	log_op('W', rel, val);
	k = owner_of(rel, obj, sizeof(obj), &sub, &attrs, &groups);
	a = k == K_NONE ? NULL : attr_at(sub, attrs, groups);
	if (!a) {
		errno = EACCES;
		return -1;
	}
	e = store(k, obj, sub, a, val, path);
	if (e) {
		errno = e;
		return -1;
	}
	return (ssize_t)n;
}

/* configfs_symlink: the target is looked up as a path; the fabric's
 * allow_link decides (target_fabric_port_link: a configured device, one
 * per LUN; target_fabric_mappedlun_link: a LUN of the same tpgt with a
 * device); readlink then shows it relative (configfs_get_target_path) */
int __wrap_symlink(const char *target, const char *link);
int __wrap_symlink(const char *target, const char *link)
{
	const char *rel = rel_of(link), *trel = rel_of(target), *sub;
	const struct attr *attrs;
	const struct group *groups;
	char obj[PATH_MAX], dir[PATH_MAX], c[8][256], t[8][256], rl[PATH_MAX];
	enum kind k, tk;
	int why, n, depth;

	if (!rel)
		return __real_symlink(target, link);
	log_op('L', rel, trel ? trel : target);
	k = owner_of(rel, obj, sizeof(obj), &sub, &attrs, &groups);
	if ((k != K_LUN && k != K_MLUN) || strchr(sub, '/')) {
		errno = EPERM;
		return -1;
	}
	if (!trel || !is_dir_sim(target)) {
		errno = ENOENT;
		return -1;
	}
	tk = kind_of(trel, &attrs, &groups, &why);
	fmt(dir, sizeof(dir), "%s/%s", root, obj);
	if (k == K_LUN) {
		if (tk != K_DEV) {
			errno = EINVAL;
			return -1;
		}
		if (!dev_enabled(trel)) {
			errno = ENODEV;
			return -1;
		}
		if (!only_defaults(dir, lun_attrs, lun_groups)) {
			errno = EEXIST; /* "Port Symlink already exists" */
			return -1;
		}
	} else {
		char tdir[PATH_MAX];

		split(obj, c);
		n = split(trel, t);
		fmt(tdir, sizeof(tdir), "%s/%s", root, trel);
		if (tk != K_LUN || n != 5 || strcmp(c[0], t[0]) ||
		    strcmp(c[1], t[1]) || strcmp(c[2], t[2]) ||
		    only_defaults(tdir, lun_attrs, lun_groups)) {
			errno = EINVAL;
			return -1;
		}
	}
	/* relative to the link's directory, as configfs shows it */
	depth = split(obj, c) + 1;
	rl[0] = '\0';
	for (int i = 0; i < depth; i++)
		strcat(rl, "../");
	fmt(rl + strlen(rl), sizeof(rl) - strlen(rl), "%s/%s",
	    strrchr(root, '/') + 1, trel);
	return __real_symlink(rl, link);
}

/* ---- snapshots: the whole tree as text ---- */

static void snap_dir(const char *dir, const char *rel, char *out, size_t len)
{
	struct dirent **ents;
	int n = scandir(dir, &ents, NULL, alphasort);

	for (int i = 0; i < n; i++) {
		char p[PATH_MAX], r[PATH_MAX], v[600];
		struct stat st;

		if (!strcmp(ents[i]->d_name, ".") ||
		    !strcmp(ents[i]->d_name, "..")) {
			free(ents[i]);
			continue;
		}
		fmt(p, sizeof(p), "%s/%s", dir, ents[i]->d_name);
		fmt(r, sizeof(r), "%s%s%s", rel, rel[0] ? "/" : "",
		    ents[i]->d_name);
		free(ents[i]);
		if (lstat(p, &st))
			continue;
		if (S_ISDIR(st.st_mode)) {
			fmt(out + strlen(out), len - strlen(out), "d %s\n", r);
			snap_dir(p, r, out, len);
		} else if (S_ISLNK(st.st_mode)) {
			ssize_t l = readlink(p, v, sizeof(v) - 1);

			v[l > 0 ? l : 0] = '\0';
			fmt(out + strlen(out), len - strlen(out),
			    "l %s -> %s\n", r, v);
		} else {
			get(p, v, sizeof(v));
			fmt(out + strlen(out), len - strlen(out), "f %s = %s\n",
			    r, v);
		}
	}
	if (n >= 0)
		free(ents);
}

#define SNAP_MAX (1 << 20)

static char *snapshot(void)
{
	char *s = calloc(1, SNAP_MAX);

	assert_non_null(s);
	snap_dir(root, "", s, SNAP_MAX);
	snap_dir(uio_class, "uio:", s, SNAP_MAX);
	assert_true(strlen(s) < SNAP_MAX - 1);
	return s;
}

static int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* ---- fixtures ---- */

static struct tdm_lio lio;

static int setup(void **state)
{
	char p[PATH_MAX];

	(void)state;
	fmt(base, sizeof(base), "/tmp/test_lio.XXXXXX");
	assert_non_null(mkdtemp(base));
	fmt(root, sizeof(root), "%s/target", base);
	fmt(uio_class, sizeof(uio_class), "%s/uio", base);
	fmt(dev_dir, sizeof(dev_dir), "%s/dev", base);
	assert_int_equal(__real_mkdir(root, 0755), 0);
	assert_int_equal(__real_mkdir(uio_class, 0755), 0);
	assert_int_equal(__real_mkdir(dev_dir, 0755), 0);
	/* target_core_configfs.c target_core_init_configfs: the root's
	 * attributes, core/ and core/alua/lu_gps/default_lu_gp */
	fmt(p, sizeof(p), "%s/version", root);
	put(p, "Target Engine Core ConfigFS Infrastructure v5.0");
	fmt(p, sizeof(p), "%s/dbroot", root);
	put(p, "/etc/target");
	fmt(p, sizeof(p), "%s/core", root);
	assert_int_equal(__real_mkdir(p, 0755), 0);
	fmt(p, sizeof(p), "%s/core/alua", root);
	assert_int_equal(__real_mkdir(p, 0755), 0);
	fmt(p, sizeof(p), "%s/core/alua/lu_gps", root);
	assert_int_equal(__real_mkdir(p, 0755), 0);
	fmt(p, sizeof(p), "%s/core/alua/lu_gps/default_lu_gp", root);
	assert_int_equal(__real_mkdir(p, 0755), 0);
	for (int i = 0; i < 3; i++)
		fabric_loaded[i] = true;
	next_uio = 0;
	nops = 0;
	memset(&lio, 0, sizeof(lio));
	fmt(lio.root, sizeof(lio.root), "%s", root);
	fmt(lio.uio_class, sizeof(lio.uio_class), "%s", uio_class);
	fmt(lio.dev_dir, sizeof(lio.dev_dir), "%s", dev_dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	rm_tree(base);
	return 0;
}

static void mkdev(struct tdm_lio_dev *d, const char *lu, const char *ep,
		  uint64_t size)
{
	memset(d, 0, sizeof(*d));
	tdm_lio_dev_name(d->name, sizeof(d->name), lu, ep);
	fmt(d->config, sizeof(d->config), "%s", d->name);
	d->size = size;
	d->block_size = 512;
	d->max_sectors = 2048;
	d->write_cache = true;
	fmt(d->serial, sizeof(d->serial), "%.20s-sn", lu);
}

static void mkloop(struct tdm_lio_ep *ep, const char *target,
		   const char *session)
{
	memset(ep, 0, sizeof(*ep));
	ep->fabric = TDM_LIO_LOOP;
	tdm_lio_loop_wwn(ep->wwn, sizeof(ep->wwn), target);
	tdm_lio_loop_nexus(ep->nexus, sizeof(ep->nexus), session);
	ep->tpgt = 1;
}

static void read_rel(const char *rel, char *buf, size_t len)
{
	char p[PATH_MAX];

	fmt(p, sizeof(p), "%s/%s", root, rel);
	get(p, buf, len);
}

static void devrel(char *out, size_t len, const char *name, const char *sub)
{
	fmt(out, len, "core/user_%d/%s/%s", TDM_LIO_HBA, name, sub);
}

/* the link in dir (relative to root) resolves to rel_target */
static void assert_link(const char *dir, const char *rel_target)
{
	char p[PATH_MAX], want[PATH_MAX], got[PATH_MAX];
	DIR *d;
	struct dirent *e;
	int links = 0;

	fmt(p, sizeof(p), "%s/%s", root, dir);
	d = opendir(p);
	assert_non_null(d);
	while ((e = readdir(d))) {
		char lp[PATH_MAX], t[PATH_MAX];
		struct stat st;
		ssize_t l;

		fmt(lp, sizeof(lp), "%s/%s", p, e->d_name);
		if (lstat(lp, &st) || !S_ISLNK(st.st_mode))
			continue;
		links++;
		l = readlink(lp, t, sizeof(t) - 1);
		assert_true(l > 0);
		t[l] = '\0';
		assert_true(strncmp(t, "../", 3) == 0); /* configfs' form */
		fmt(want, sizeof(want), "%s/%s", root, rel_target);
		assert_non_null(realpath(lp, got));
		assert_string_equal(got, want);
		printf("# %s/%s -> %s\n", dir, e->d_name, t);
	}
	closedir(d);
	assert_int_equal(links, 1);
}

/* ---- tests ---- */

/* tcm_loop end to end: device, WWN, nexus, LUN, block/reset, teardown */
static void test_loopback(void **state)
{
	struct tdm_lio_dev d;
	struct tdm_lio_ep ep;
	char err[ERRLEN] = "", rel[PATH_MAX], v[600], want[600], uio[256];
	char *before, *after;
	bool existed = true;
	int ictl, ienable, ipr, ialua, iwc, isn;

	(void)state;
	assert_true(tdm_lio_fabric_present(&lio, TDM_LIO_LOOP));
	before = snapshot();
	mkdev(&d, "lu1", "0", 64ull << 20);
	mkloop(&ep, "local1", "scst_local_host");
	printf("# device %s, wwn %s, nexus %s\n", d.name, ep.wwn, ep.nexus);
	assert_int_equal(strlen(ep.wwn), 20);
	assert_true(!strncmp(ep.wwn, "naa.5001405", 11));
	assert_true(!strncmp(ep.nexus, "naa.5001405", 11));
	assert_string_not_equal(ep.wwn, ep.nexus);

	assert_int_equal(tdm_lio_dev_create(&lio, &d, &existed, err, ERRLEN),
			 0);
	assert_false(existed);
	fmt(want, sizeof(want),
	    "dev_config=tandem/%s,dev_size=67108864,hw_block_size=512,"
	    "hw_max_sectors=2048,nl_reply_supported=-1",
	    d.name);
	ictl = find_op('W', "/control", 0);
	ienable = find_op('W', "/enable", 0);
	ipr = find_op('W', "/attrib/emulate_pr", 0);
	ialua = find_op('W', "/attrib/alua_support", 0);
	iwc = find_op('W', "/attrib/emulate_write_cache", 0);
	isn = find_op('W', "/wwn/vpd_unit_serial", 0);
	printf("# order: control %d, write cache %d, serial %d, enable %d, "
	       "emulate_pr %d, alua_support %d\n",
	       ictl, iwc, isn, ienable, ipr, ialua);
	assert_true(ictl >= 0 && ictl < ienable);
	assert_true(iwc >= 0 && iwc < ienable && isn >= 0 && isn < ienable);
	assert_true(ienable < ipr && ienable < ialua);
	assert_string_equal(ops[ictl].val, want);
	assert_string_equal(ops[ienable].val, "1");
	assert_string_equal(ops[ipr].val, "0");
	assert_string_equal(ops[ialua].val, "0");
	devrel(rel, sizeof(rel), d.name, "attrib/emulate_pr");
	read_rel(rel, v, sizeof(v));
	assert_string_equal(v, "0");
	devrel(rel, sizeof(rel), d.name, "attrib/alua_support");
	read_rel(rel, v, sizeof(v));
	assert_string_equal(v, "0");
	devrel(rel, sizeof(rel), d.name, "attrib/emulate_write_cache");
	read_rel(rel, v, sizeof(v));
	assert_string_equal(v, "1");
	devrel(rel, sizeof(rel), d.name, "wwn/vpd_unit_serial");
	read_rel(rel, v, sizeof(v));
	assert_string_equal(v, "T10 VPD Unit Serial Number: lu1-sn");
	devrel(rel, sizeof(rel), d.name, "attrib/dev_config");
	read_rel(rel, v, sizeof(v));
	printf("# attrib/dev_config = %s\n", v);

	assert_int_equal(tdm_lio_dev_uio(&lio, &d, uio, sizeof(uio)), 0);
	fmt(want, sizeof(want), "%s/uio0", dev_dir);
	assert_string_equal(uio, want);
	fmt(rel, sizeof(rel), "%s/uio0/name", uio_class);
	get(rel, v, sizeof(v));
	printf("# %s: %s (uio name \"%s\")\n", d.name, uio, v);
	fmt(want, sizeof(want), "tcm-user/%d/%s/tandem/%s", TDM_LIO_HBA, d.name,
	    d.config);
	assert_string_equal(v, want);

	assert_int_equal(tdm_lio_ep_create(&lio, &ep, err, ERRLEN), 0);
	fmt(rel, sizeof(rel), "loopback/%s/tpgt_1/nexus", ep.wwn);
	read_rel(rel, v, sizeof(v));
	assert_string_equal(v, ep.nexus);
	assert_int_equal(find_op('W', "tpgt_1/enable", 0), -1);
	assert_int_equal(tdm_lio_lun_add(&lio, &ep, 0, d.name, err, ERRLEN), 0);
	fmt(rel, sizeof(rel), "loopback/%s/tpgt_1/lun/lun_0", ep.wwn);
	devrel(want, sizeof(want), d.name, "");
	want[strlen(want) - 1] = '\0';
	assert_link(rel, want);

	/* stop for a restart, and the recovery */
	assert_int_equal(tdm_lio_dev_block(&lio, d.name, true, err, ERRLEN), 0);
	devrel(rel, sizeof(rel), d.name, "action/block_dev");
	read_rel(rel, v, sizeof(v));
	assert_string_equal(v, "blocked");
	assert_int_equal(tdm_lio_dev_reset_ring(&lio, d.name, err, ERRLEN), 0);
	assert_string_equal(ops[find_op('W', "/action/reset_ring", 0)].val,
			    "1");
	assert_int_equal(tdm_lio_dev_block(&lio, d.name, false, err, ERRLEN),
			 0);
	read_rel(rel, v, sizeof(v));
	assert_string_equal(v, "unblocked");

	/* teardown: LUN, endpoint, device (and tandem's HBA) */
	assert_int_equal(tdm_lio_lun_remove(&lio, &ep, 0, err, ERRLEN), 0);
	assert_int_equal(tdm_lio_ep_remove(&lio, &ep, err, ERRLEN), 0);
	assert_int_equal(tdm_lio_dev_remove(&lio, d.name, err, ERRLEN), 0);
	after = snapshot();
	printf("# %d ops (%d mkdir, %d write, %d symlink, %d rmdir); tree "
	       "before/after: %d/%d entries\n",
	       nops, count_ops('M'), count_ops('W'), count_ops('L'),
	       count_ops('R'), count_lines(before), count_lines(after));
	assert_string_equal(before, after);
	free(before);
	free(after);
}

/* Teardown in one call: ep_remove takes the LUNs and the nexus itself */
static void test_loopback_ep_remove_all(void **state)
{
	struct tdm_lio_dev d[2];
	struct tdm_lio_ep ep;
	char err[ERRLEN] = "", *before, *after;
	bool existed;

	(void)state;
	assert_true(tdm_lio_fabric_present(&lio, TDM_LIO_LOOP));
	before = snapshot();
	mkloop(&ep, "local2", "host2");
	assert_int_equal(tdm_lio_ep_create(&lio, &ep, err, ERRLEN), 0);
	for (int i = 0; i < 2; i++) {
		mkdev(&d[i], i ? "lu-b" : "lu-a", "local2", 1ull << 30);
		assert_int_equal(
			tdm_lio_dev_create(&lio, &d[i], &existed, err, ERRLEN),
			0);
		assert_int_equal(tdm_lio_lun_add(&lio, &ep, (uint64_t)i * 7,
						 d[i].name, err, ERRLEN),
				 0);
	}
	/* a device still exported cannot go (the kernel holds it): the
	 * endpoint first */
	assert_int_equal(tdm_lio_ep_remove(&lio, &ep, err, ERRLEN), 0);
	assert_true(find_op('W', "tpgt_1/nexus", find_op('R', "lun_7", 0)) > 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(
			tdm_lio_dev_remove(&lio, d[i].name, err, ERRLEN), 0);
	after = snapshot();
	printf("# 2 LUNs, one endpoint: %d ops; nexus dropped (op %d) "
	       "after the last LUN's rmdir (op %d)\n",
	       nops, find_op('W', "tpgt_1/nexus", find_op('R', "lun_7", 0)),
	       find_op('R', "lun_7", 0));
	assert_string_equal(before, after);
	free(before);
	free(after);
}

struct seen {
	char devs[8][64];
	char cfgs[8][192];
	int ndev;
	struct tdm_lio_ep eps[8];
	int nep;
	uint64_t luns[16];
	char lundev[16][64];
	int nlun;
};

static int seen_dev(void *arg, const char *name, const char *config)
{
	struct seen *s = arg;

	fmt(s->devs[s->ndev], 64, "%s", name);
	fmt(s->cfgs[s->ndev++], 192, "%s", config);
	printf("# scan: device %s (tandem/%s)\n", name, config);
	return 0;
}

static int seen_ep(void *arg, const struct tdm_lio_ep *ep)
{
	struct seen *s = arg;

	s->eps[s->nep++] = *ep;
	printf("# scan: %s %s tpgt_%u nexus \"%s\"\n",
	       tdm_lio_fabric_dir(ep->fabric), ep->wwn, ep->tpgt, ep->nexus);
	return 0;
}

static int seen_lun(void *arg, const struct tdm_lio_ep *ep, uint64_t lun,
		    const char *dev)
{
	struct seen *s = arg;

	(void)ep;
	s->luns[s->nlun] = lun;
	fmt(s->lundev[s->nlun++], 64, "%s", dev);
	printf("# scan:   lun_%" PRIu64 " -> %s\n", lun, dev);
	return 0;
}

static const struct tdm_lio_scan_ops seen_ops = {seen_dev, seen_ep, seen_lun};

/* A tandemd that stopped for a restart (devices blocked) or crashed:
 * the next one finds everything, recovers the rings and cleans up */
static void test_scan(void **state)
{
	struct tdm_lio_dev d[2];
	struct tdm_lio_ep ep;
	struct seen s;
	char err[ERRLEN] = "", uio[256], *before, *after;
	bool existed;

	(void)state;
	assert_true(tdm_lio_fabric_present(&lio, TDM_LIO_LOOP));
	before = snapshot();
	memset(&s, 0, sizeof(s));
	assert_int_equal(tdm_lio_scan(&lio, &seen_ops, &s), 0);
	assert_int_equal(s.ndev + s.nep + s.nlun, 0);
	mkloop(&ep, "local3", "scst_local_host");
	assert_int_equal(tdm_lio_ep_create(&lio, &ep, err, ERRLEN), 0);
	for (int i = 0; i < 2; i++) {
		mkdev(&d[i], i ? "db" : "web", "local3", 8ull << 20);
		assert_int_equal(
			tdm_lio_dev_create(&lio, &d[i], &existed, err, ERRLEN),
			0);
		assert_int_equal(tdm_lio_lun_add(&lio, &ep, (uint64_t)i,
						 d[i].name, err, ERRLEN),
				 0);
		assert_int_equal(
			tdm_lio_dev_block(&lio, d[i].name, true, err, ERRLEN),
			0);
	}
	/* the next tandemd */
	memset(&s, 0, sizeof(s));
	assert_int_equal(tdm_lio_scan(&lio, &seen_ops, &s), 0);
	assert_int_equal(s.ndev, 2);
	assert_int_equal(s.nep, 1);
	assert_int_equal(s.nlun, 2);
	assert_int_equal(s.eps[0].fabric, TDM_LIO_LOOP);
	assert_string_equal(s.eps[0].wwn, ep.wwn);
	assert_string_equal(s.eps[0].nexus, ep.nexus);
	assert_int_equal(s.eps[0].tpgt, 1);
	for (int i = 0; i < 2; i++) {
		struct tdm_lio_dev f;
		int j = strcmp(s.devs[0], d[i].name) ? 1 : 0;

		assert_string_equal(s.devs[j], d[i].name);
		assert_string_equal(s.cfgs[j], d[i].config);
		j = s.luns[0] == (uint64_t)i ? 0 : 1;
		assert_int_equal(s.luns[j], (uint64_t)i);
		assert_string_equal(s.lundev[j], d[i].name);
		/* recovery: its UIO node, the ring reset, unblocked */
		memset(&f, 0, sizeof(f));
		fmt(f.name, sizeof(f.name), "%s", s.devs[i]);
		fmt(f.config, sizeof(f.config), "%s", s.cfgs[i]);
		assert_int_equal(tdm_lio_dev_uio(&lio, &f, uio, sizeof(uio)),
				 0);
		printf("# recover %s: %s\n", f.name, uio);
		assert_int_equal(
			tdm_lio_dev_reset_ring(&lio, f.name, err, ERRLEN), 0);
		assert_int_equal(
			tdm_lio_dev_block(&lio, f.name, false, err, ERRLEN), 0);
	}
	/* a configuration without them: remove what the scan found */
	assert_int_equal(tdm_lio_ep_remove(&lio, &s.eps[0], err, ERRLEN), 0);
	for (int i = 0; i < s.ndev; i++)
		assert_int_equal(
			tdm_lio_dev_remove(&lio, s.devs[i], err, ERRLEN), 0);
	after = snapshot();
	assert_string_equal(before, after);
	free(before);
	free(after);
}

/* The same configuration twice: kept, nothing written again that the
 * kernel would refuse (enable, nexus, serial while exported) */
static void test_idempotent(void **state)
{
	struct tdm_lio_dev d, other;
	struct tdm_lio_ep ep;
	char err[ERRLEN] = "", rel[PATH_MAX], v[64];
	bool existed = false;
	int mark, i, writes;

	(void)state;
	mkdev(&d, "lu1", "local1", 16ull << 20);
	mkloop(&ep, "local1", "scst_local_host");
	assert_int_equal(tdm_lio_dev_create(&lio, &d, &existed, err, ERRLEN),
			 0);
	assert_int_equal(tdm_lio_ep_create(&lio, &ep, err, ERRLEN), 0);
	assert_int_equal(tdm_lio_lun_add(&lio, &ep, 3, d.name, err, ERRLEN), 0);
	mark = nops;
	writes = count_ops('W');
	assert_int_equal(tdm_lio_dev_create(&lio, &d, &existed, err, ERRLEN),
			 0);
	assert_true(existed);
	assert_int_equal(tdm_lio_ep_create(&lio, &ep, err, ERRLEN), 0);
	assert_int_equal(tdm_lio_lun_add(&lio, &ep, 3, d.name, err, ERRLEN), 0);
	printf("# second apply: %d ops, errors \"%s\"\n", nops - mark, err);
	for (i = mark; i < nops; i++)
		printf("#   %c %s %s\n", ops[i].op, ops[i].path, ops[i].val);
	assert_int_equal(count_ops('W'), writes); /* nothing written */
	assert_int_equal(find_op('W', "/control", mark), -1);
	assert_int_equal(find_op('W', "/enable", mark), -1);
	assert_int_equal(find_op('W', "/nexus", mark), -1);
	assert_int_equal(find_op('W', "/vpd_unit_serial", mark), -1);
	assert_int_equal(find_op('L', "lun_3/", mark), -1);

	/* a new size is applied to the live device */
	d.size = 32ull << 20;
	assert_int_equal(tdm_lio_dev_create(&lio, &d, &existed, err, ERRLEN),
			 0);
	devrel(rel, sizeof(rel), d.name, "attrib/dev_size");
	read_rel(rel, v, sizeof(v));
	assert_string_equal(v, "33554432");
	/* another block size is not */
	d.block_size = 4096;
	assert_int_equal(tdm_lio_dev_create(&lio, &d, &existed, err, ERRLEN),
			 -EEXIST);
	printf("# block size change: %s\n", err);
	assert_non_null(strstr(err, "hw_block_size"));
	/* the same name with another dev_config is someone else's */
	other = d;
	other.block_size = 512;
	fmt(other.config, sizeof(other.config), "something-else");
	assert_int_equal(
		tdm_lio_dev_create(&lio, &other, &existed, err, ERRLEN),
		-EEXIST);
	printf("# other config: %s\n", err);
	/* 0 leaves the kernel's defaults (a 0 in control is refused) */
	mkdev(&other, "lu3", "local1", 16ull << 20);
	other.block_size = 0;
	other.max_sectors = 0;
	assert_int_equal(
		tdm_lio_dev_create(&lio, &other, &existed, err, ERRLEN), 0);
	devrel(rel, sizeof(rel), other.name, "attrib/hw_block_size");
	read_rel(rel, v, sizeof(v));
	assert_string_equal(v, "512");
	devrel(rel, sizeof(rel), other.name, "attrib/hw_max_sectors");
	read_rel(rel, v, sizeof(v));
	assert_string_equal(v, "128");
	printf("# block size 0, max sectors 0: the kernel's 512, 128\n");
	/* a LUN already linked to another device */
	mkdev(&other, "lu2", "local1", 16ull << 20);
	assert_int_equal(
		tdm_lio_dev_create(&lio, &other, &existed, err, ERRLEN), 0);
	assert_int_equal(tdm_lio_lun_add(&lio, &ep, 3, other.name, err, ERRLEN),
			 -EEXIST);
	printf("# LUN taken: %s\n", err);
	/* a nexus held by another initiator port */
	tdm_lio_loop_nexus(ep.nexus, sizeof(ep.nexus), "another_host");
	assert_int_equal(tdm_lio_ep_create(&lio, &ep, err, ERRLEN), -EEXIST);
	printf("# nexus taken: %s\n", err);
}

/* Names: deterministic, cut with a hash, only configfs-safe characters */
static void test_names(void **state)
{
	char a[64], b[64], c[64], w1[64], w2[64], w3[64];
	char longlu[200];

	(void)state;
	tdm_lio_dev_name(a, sizeof(a), "disk1", "3");
	assert_string_equal(a, "disk1.3");
	memset(longlu, 'x', sizeof(longlu) - 1);
	longlu[sizeof(longlu) - 1] = '\0';
	tdm_lio_dev_name(a, sizeof(a), longlu, "1");
	tdm_lio_dev_name(b, sizeof(b), longlu, "1");
	tdm_lio_dev_name(c, sizeof(c), longlu, "2");
	printf("# long names: %s / %s\n", a, c);
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	assert_int_equal(strlen(a), 63);
	tdm_lio_dev_name(a, sizeof(a), "a/b", "1");
	tdm_lio_dev_name(b, sizeof(b), "a_b", "1");
	printf("# a/b.1 -> %s, a_b.1 -> %s\n", a, b);
	assert_null(strchr(a, '/'));
	assert_string_not_equal(a, b);
	tdm_lio_loop_wwn(w1, sizeof(w1), "t1");
	tdm_lio_loop_wwn(w2, sizeof(w2), "t1");
	tdm_lio_loop_wwn(w3, sizeof(w3), "t2");
	assert_string_equal(w1, w2);
	assert_string_not_equal(w1, w3);
	tdm_lio_loop_nexus(w2, sizeof(w2), "t1");
	assert_string_not_equal(w1, w2);
	for (int i = 4; w1[i]; i++)
		assert_non_null(strchr("0123456789abcdef", w1[i]));
	printf("# wwn(t1) %s, wwn(t2) %s, nexus(t1) %s\n", w1, w3, w2);
}

/* What is refused, with what message */
static void test_refusals(void **state)
{
	struct tdm_lio_dev d;
	struct tdm_lio_ep ep;
	struct tdm_lio gone = lio;
	char err[ERRLEN] = "";
	bool existed;

	(void)state;
	mkdev(&d, "lu1", "0", 1 << 20);
	fmt(gone.root, sizeof(gone.root), "%s/no-such-configfs", base);
	assert_int_equal(tdm_lio_dev_create(&gone, &d, &existed, err, ERRLEN),
			 -ENOENT);
	printf("# root missing: %s\n", err);
	assert_non_null(strstr(err, gone.root));
	assert_non_null(strstr(err, strerror(ENOENT)));
	mkloop(&ep, "t", "s");
	err[0] = '\0';
	assert_int_equal(tdm_lio_ep_create(&gone, &ep, err, ERRLEN), -ENOENT);
	assert_non_null(strstr(err, gone.root));
	assert_false(tdm_lio_fabric_present(&gone, TDM_LIO_LOOP));
	assert_int_equal(tdm_lio_scan(&gone, &seen_ops, NULL), -ENOENT);

	/* a fabric module not there: mkdir of its directory fails */
	fabric_loaded[TDM_LIO_FC] = false;
	assert_false(tdm_lio_fabric_present(&lio, TDM_LIO_FC));
	fabric_loaded[TDM_LIO_FC] = true;
	printf("# qla2xxx not loaded: fabric_present false\n");

	/* tcm_loop: a WWN without "naa." would not be SAS */
	fmt(ep.wwn, sizeof(ep.wwn), "iqn.2026-12.org.example:x");
	assert_int_equal(tdm_lio_ep_create(&lio, &ep, err, ERRLEN), -EINVAL);
	printf("# %s\n", err);
	/* a device that is not enabled cannot be linked: the kernel says
	 * ENODEV, named with the path */
	mkloop(&ep, "t", "s");
	assert_int_equal(tdm_lio_ep_create(&lio, &ep, err, ERRLEN), 0);
	assert_int_equal(tdm_lio_lun_add(&lio, &ep, 0, "nodev", err, ERRLEN),
			 -ENOENT);
	printf("# LUN to a missing device: %s\n", err);
	assert_non_null(strstr(err, "symlink"));
	assert_int_equal(tdm_lio_dev_block(&lio, "nodev", true, err, ERRLEN),
			 -ENOENT);
	printf("# block a missing device: %s\n", err);
	assert_int_equal(tdm_lio_ep_remove(&lio, &ep, err, ERRLEN), 0);
}

/* Others' objects: an iblock device, a TCMU device of tcmu-runner in
 * tandem's own HBA, a tcm_loop WWN exporting them. Never changed, never
 * removed, never reported by the scan. */
static void test_foreign_untouched(void **state)
{
	char p[PATH_MAX], t[PATH_MAX], err[ERRLEN] = "";
	char *before, *after, foreign_wwn[] = "naa.5001405aaaaaaaaa";
	struct tdm_lio_dev d;
	struct tdm_lio_ep ep, theirs;
	struct seen s;
	bool existed;
	int fd;

	(void)state;
	/* what targetcli would have done (through the same simulator) */
	fmt(p, sizeof(p), "%s/core/iblock_0", root);
	assert_int_equal(mkdir(p, 0755), 0);
	fmt(p, sizeof(p), "%s/core/iblock_0/disk1", root);
	assert_int_equal(mkdir(p, 0755), 0);
	fmt(p, sizeof(p), "%s/core/iblock_0/disk1/enable", root);
	fd = open(p, O_WRONLY);
	assert_int_equal(write(fd, "1", 1), 1);
	close(fd);
	fmt(p, sizeof(p), "%s/core/user_%d", root, TDM_LIO_HBA);
	assert_int_equal(mkdir(p, 0755), 0);
	fmt(p, sizeof(p), "%s/core/user_%d/rbd0", root, TDM_LIO_HBA);
	assert_int_equal(mkdir(p, 0755), 0);
	fmt(p, sizeof(p), "%s/core/user_%d/rbd0/control", root, TDM_LIO_HBA);
	fd = open(p, O_WRONLY);
	assert_int_equal(write(fd, "dev_config=rbd/pool/img", 23), 23);
	close(fd);
	fmt(p, sizeof(p), "%s/core/user_%d/rbd0/enable", root, TDM_LIO_HBA);
	fd = open(p, O_WRONLY);
	assert_int_equal(write(fd, "1", 1), 1);
	close(fd);
	fmt(p, sizeof(p), "%s/loopback", root);
	assert_int_equal(mkdir(p, 0755), 0);
	fmt(p, sizeof(p), "%s/loopback/%s", root, foreign_wwn);
	assert_int_equal(mkdir(p, 0755), 0);
	fmt(p, sizeof(p), "%s/loopback/%s/tpgt_1", root, foreign_wwn);
	assert_int_equal(mkdir(p, 0755), 0);
	for (int i = 0; i < 2; i++) {
		fmt(p, sizeof(p), "%s/loopback/%s/tpgt_1/lun/lun_%d", root,
		    foreign_wwn, i);
		assert_int_equal(mkdir(p, 0755), 0);
		fmt(p + strlen(p), sizeof(p) - strlen(p), "/x");
		if (i)
			fmt(t, sizeof(t), "%s/core/user_%d/rbd0", root,
			    TDM_LIO_HBA);
		else
			fmt(t, sizeof(t), "%s/core/iblock_0/disk1", root);
		assert_int_equal(symlink(t, p), 0);
	}
	before = snapshot();
	printf("# foreign layout: %d entries\n", count_lines(before));

	/* tandem's objects beside them */
	mkdev(&d, "lu1", "0", 1 << 20);
	mkloop(&ep, "local1", "scst_local_host");
	assert_int_equal(tdm_lio_dev_create(&lio, &d, &existed, err, ERRLEN),
			 0);
	assert_int_equal(tdm_lio_ep_create(&lio, &ep, err, ERRLEN), 0);
	assert_int_equal(tdm_lio_lun_add(&lio, &ep, 0, d.name, err, ERRLEN), 0);

	/* the scan reports only tandem's */
	memset(&s, 0, sizeof(s));
	assert_int_equal(tdm_lio_scan(&lio, &seen_ops, &s), 0);
	assert_int_equal(s.ndev, 1);
	assert_string_equal(s.devs[0], d.name);
	assert_int_equal(s.nep, 1);
	assert_string_equal(s.eps[0].wwn, ep.wwn);

	/* asked to remove theirs: refused, nothing touched */
	assert_int_equal(tdm_lio_dev_remove(&lio, "rbd0", err, ERRLEN), -EPERM);
	printf("# %s\n", err);
	memset(&theirs, 0, sizeof(theirs));
	theirs.fabric = TDM_LIO_LOOP;
	theirs.tpgt = 1;
	fmt(theirs.wwn, sizeof(theirs.wwn), "%s", foreign_wwn);
	assert_int_equal(tdm_lio_ep_remove(&lio, &theirs, err, ERRLEN), -EPERM);
	printf("# %s\n", err);
	assert_int_equal(tdm_lio_lun_remove(&lio, &theirs, 1, err, ERRLEN),
			 -EPERM);
	printf("# %s\n", err);

	/* tandem's teardown from the scan: theirs stay as they were, the
	 * HBA too (it still holds rbd0) */
	assert_int_equal(tdm_lio_ep_remove(&lio, &s.eps[0], err, ERRLEN), 0);
	assert_int_equal(tdm_lio_dev_remove(&lio, s.devs[0], err, ERRLEN), 0);
	after = snapshot();
	assert_string_equal(before, after);
	printf("# after tandem's teardown: %d entries, as before\n",
	       count_lines(after));
	free(before);
	free(after);
}

/* ibmvscsis: the adapter's unit address as WWN, tpgt_1 enabled, no
 * nexus attribute (the driver makes the nexus at the SRP login) */
static void test_ibmvscsis(void **state)
{
	struct tdm_lio_dev d;
	struct tdm_lio_ep ep, bad;
	char err[ERRLEN] = "", rel[PATH_MAX], v[64], want[PATH_MAX];
	char *before, *after;
	bool existed;
	int ien, ilink, idis, ilun;

	(void)state;
	assert_true(tdm_lio_fabric_present(&lio, TDM_LIO_VIO));
	before = snapshot();
	memset(&ep, 0, sizeof(ep));
	ep.fabric = TDM_LIO_VIO;
	fmt(ep.wwn, sizeof(ep.wwn), "30000003");
	ep.tpgt = 1;
	mkdev(&d, "aixroot", "30000003", 20ull << 30);
	assert_int_equal(tdm_lio_dev_create(&lio, &d, &existed, err, ERRLEN),
			 0);
	assert_int_equal(tdm_lio_ep_create(&lio, &ep, err, ERRLEN), 0);
	assert_int_equal(tdm_lio_lun_add(&lio, &ep, 0, d.name, err, ERRLEN), 0);
	fmt(rel, sizeof(rel), "ibmvscsis/30000003/tpgt_1/enable");
	read_rel(rel, v, sizeof(v));
	assert_string_equal(v, "1");
	fmt(rel, sizeof(rel), "%s/ibmvscsis/30000003/tpgt_1/nexus", root);
	assert_int_equal(access(rel, F_OK), -1); /* no such attribute */
	assert_int_equal(find_op('W', "/nexus", 0), -1);
	ien = find_op('W', "30000003/tpgt_1/enable", 0);
	fmt(want, sizeof(want), "30000003/tpgt_1/lun/lun_0/%s", d.name);
	ilink = find_op('L', want, 0);
	printf("# ibmvscsis/30000003: enable at op %d, LUN link at op %d\n",
	       ien, ilink);
	assert_true(ien >= 0 && ilink > ien);
	fmt(rel, sizeof(rel), "ibmvscsis/30000003/tpgt_1/lun/lun_0");
	devrel(want, sizeof(want), d.name, "");
	want[strlen(want) - 1] = '\0';
	assert_link(rel, want);

	/* an adapter this partition does not have: the kernel's EINVAL,
	 * with the path */
	bad = ep;
	fmt(bad.wwn, sizeof(bad.wwn), "3000000f");
	assert_int_equal(tdm_lio_ep_create(&lio, &bad, err, ERRLEN), -EINVAL);
	printf("# unknown adapter: %s\n", err);
	assert_non_null(strstr(err, "ibmvscsis/3000000f"));

	/* teardown: disabled, then LUN, tpgt, WWN */
	assert_int_equal(tdm_lio_ep_remove(&lio, &ep, err, ERRLEN), 0);
	idis = find_op('W', "tpgt_1/enable", ien + 1);
	ilun = find_op('R', "tpgt_1/lun/lun_0", 0);
	printf("# teardown: enable 0 at op %d, lun_0 removed at op %d\n", idis,
	       ilun);
	assert_true(idis >= 0 && ilun > idis);
	assert_string_equal(ops[idis].val, "0");
	assert_int_equal(tdm_lio_dev_remove(&lio, d.name, err, ERRLEN), 0);
	after = snapshot();
	printf("# %d ops; tree before/after: %d/%d entries\n", nops,
	       count_lines(before), count_lines(after));
	assert_string_equal(before, after);
	free(before);
	free(after);
}

static int acls_n, acls_empty;

static int acl_count(void *arg, const char *initiator, uint64_t mapped)
{
	(void)arg;
	printf("#   ACL %s mapped %s%llu\n", initiator,
	       mapped == UINT64_MAX ? "none " : "",
	       mapped == UINT64_MAX ? 0ull : (unsigned long long)mapped);
	acls_n++;
	if (mapped == UINT64_MAX)
		acls_empty++;
	return 0;
}

/* qla2xxx: the WWPN, tpgt_1, demo mode off, LUNs, an ACL mapping one
 * of them, enable; the scan; teardown */
static void test_qla2xxx(void **state)
{
	static const char wwpn[] = "21:00:00:24:ff:31:4c:48";
	static const char ini[] = "21:00:00:24:ff:31:4c:49";
	static const char ini2[] = "21:00:00:24:ff:31:4c:4b";
	struct tdm_lio_dev d[2];
	struct tdm_lio_ep ep, bad;
	struct seen s;
	char err[ERRLEN] = "", rel[PATH_MAX], v[64], want[PATH_MAX];
	char *before, *after;
	bool existed;
	int ilink, iwp;

	(void)state;
	assert_true(tdm_lio_fabric_present(&lio, TDM_LIO_FC));
	before = snapshot();
	memset(&ep, 0, sizeof(ep));
	ep.fabric = TDM_LIO_FC;
	fmt(ep.wwn, sizeof(ep.wwn), "%s", wwpn);
	ep.tpgt = 1;
	assert_int_equal(tdm_lio_ep_create(&lio, &ep, err, ERRLEN), 0);
	fmt(rel, sizeof(rel), "qla2xxx/%s/tpgt_1/attrib/generate_node_acls",
	    wwpn);
	read_rel(rel, v, sizeof(v));
	assert_string_equal(v, "0");
	fmt(rel, sizeof(rel),
	    "qla2xxx/%s/tpgt_1/attrib/demo_mode_write_protect", wwpn);
	read_rel(rel, v, sizeof(v));
	assert_string_equal(v, "0");
	fmt(rel, sizeof(rel), "qla2xxx/%s/tpgt_1/enable", wwpn);
	read_rel(rel, v, sizeof(v));
	assert_string_equal(v, "1");
	assert_true(find_op('W', "/attrib/generate_node_acls", 0) <
		    find_op('W', "tpgt_1/enable", 0));
	for (int i = 0; i < 2; i++) {
		mkdev(&d[i], i ? "db" : "logs", "fc0", 4ull << 30);
		assert_int_equal(
			tdm_lio_dev_create(&lio, &d[i], &existed, err, ERRLEN),
			0);
		assert_int_equal(tdm_lio_lun_add(&lio, &ep, (uint64_t)i,
						 d[i].name, err, ERRLEN),
				 0);
	}
	/* GROUP g { INITIATOR ini; LUN 0 db }: mapped LUN 0 = tpgt's lun_1 */
	assert_int_equal(
		tdm_lio_acl_add(&lio, &ep, ini, 0, 1, false, err, ERRLEN), 0);
	fmt(rel, sizeof(rel), "qla2xxx/%s/tpgt_1/acls/%s/lun_0", wwpn, ini);
	fmt(want, sizeof(want), "qla2xxx/%s/tpgt_1/lun/lun_1", wwpn);
	assert_link(rel, want);
	ilink = find_op('L', "/acls/21:00:00:24:ff:31:4c:49/lun_0/lun_1", 0);
	iwp = find_op('W', "/lun_0/write_protect", 0);
	printf("# ACL %s: link at op %d, write_protect at op %d\n", ini, ilink,
	       iwp);
	assert_true(ilink >= 0 && iwp > ilink);
	/* read-only now: the same ACL again, write_protect 1, no new link */
	assert_int_equal(
		tdm_lio_acl_add(&lio, &ep, ini, 0, 1, true, err, ERRLEN), 0);
	fmt(rel, sizeof(rel), "qla2xxx/%s/tpgt_1/acls/%s/lun_0/write_protect",
	    wwpn, ini);
	read_rel(rel, v, sizeof(v));
	assert_string_equal(v, "1");
	assert_int_equal(find_op('L', "/lun_0/lun_1", ilink + 1), -1);

	/* an apply that follows the GROUPs: tdm_lio_acl_scan lists each
	 * ACL's mapped LUNs, tdm_lio_acl_unmap takes one away, the ACL
	 * and its other mapped LUN stay */
	assert_int_equal(
		tdm_lio_acl_add(&lio, &ep, ini, 1, 0, false, err, ERRLEN), 0);
	assert_int_equal(
		tdm_lio_acl_add(&lio, &ep, ini2, 0, 0, false, err, ERRLEN), 0);
	acls_n = 0;
	assert_int_equal(tdm_lio_acl_scan(&lio, &ep, acl_count, NULL), 0);
	printf("# ACL entries: %d (%s lun_0 lun_1, %s lun_0)\n", acls_n, ini,
	       ini2);
	assert_int_equal(acls_n, 3);
	assert_int_equal(tdm_lio_acl_unmap(&lio, &ep, ini, 1, err, ERRLEN), 0);
	fmt(rel, sizeof(rel), "%s/qla2xxx/%s/tpgt_1/acls/%s/lun_1", root, wwpn,
	    ini);
	assert_int_equal(access(rel, F_OK), -1);
	fmt(rel, sizeof(rel), "qla2xxx/%s/tpgt_1/acls/%s/lun_0", wwpn, ini);
	assert_link(rel, want);
	/* again: ENOENT is success */
	assert_int_equal(tdm_lio_acl_unmap(&lio, &ep, ini, 1, err, ERRLEN), 0);
	assert_int_equal(tdm_lio_acl_unmap(&lio, &ep, "../x", 0, err, ERRLEN),
			 -EINVAL);
	assert_int_equal(tdm_lio_acl_remove(&lio, &ep, ini2, err, ERRLEN), 0);
	acls_n = 0;
	assert_int_equal(tdm_lio_acl_scan(&lio, &ep, acl_count, NULL), 0);
	printf("# ACL entries after unmap and remove: %d\n", acls_n);
	assert_int_equal(acls_n, 1);
	/* an ACL without mapped LUNs is reported once, as UINT64_MAX */
	assert_int_equal(tdm_lio_acl_unmap(&lio, &ep, ini, 0, err, ERRLEN), 0);
	acls_n = acls_empty = 0;
	assert_int_equal(tdm_lio_acl_scan(&lio, &ep, acl_count, NULL), 0);
	assert_int_equal(acls_n, 1);
	assert_int_equal(acls_empty, 1);
	assert_int_equal(
		tdm_lio_acl_add(&lio, &ep, ini, 0, 1, true, err, ERRLEN), 0);

	/* the scan finds the port and its LUNs, demo mode off */
	memset(&s, 0, sizeof(s));
	assert_int_equal(tdm_lio_scan(&lio, &seen_ops, &s), 0);
	assert_int_equal(s.nep, 1);
	assert_int_equal(s.eps[0].fabric, TDM_LIO_FC);
	assert_string_equal(s.eps[0].wwn, wwpn);
	assert_false(s.eps[0].demo_mode);
	assert_int_equal(s.nlun, 2);

	/* refused before the kernel sees them: upper case, tpgt 2 */
	bad = ep;
	fmt(bad.wwn, sizeof(bad.wwn), "21:00:00:24:FF:31:4C:48");
	assert_int_equal(tdm_lio_ep_create(&lio, &bad, err, ERRLEN), -EINVAL);
	printf("# %s\n", err);
	bad = ep;
	bad.tpgt = 2;
	assert_int_equal(tdm_lio_ep_create(&lio, &bad, err, ERRLEN), -EINVAL);
	/* a port this host does not have: the kernel's ENODEV */
	fmt(bad.wwn, sizeof(bad.wwn), "21:00:00:24:ff:31:4c:4a");
	bad.tpgt = 1;
	assert_int_equal(tdm_lio_ep_create(&lio, &bad, err, ERRLEN), -ENODEV);
	printf("# unknown port: %s\n", err);

	/* removing the LUN the ACL maps takes the mapping first */
	assert_int_equal(tdm_lio_lun_remove(&lio, &ep, 1, err, ERRLEN), 0);
	fmt(rel, sizeof(rel), "%s/qla2xxx/%s/tpgt_1/acls/%s/lun_0", root, wwpn,
	    ini);
	assert_int_equal(access(rel, F_OK), -1);
	assert_int_equal(tdm_lio_acl_remove(&lio, &ep, ini, err, ERRLEN), 0);
	fmt(rel, sizeof(rel), "%s/qla2xxx/%s/tpgt_1/acls/%s", root, wwpn, ini);
	assert_int_equal(access(rel, F_OK), -1);
	/* and again with the ACL in place when the endpoint goes */
	assert_int_equal(tdm_lio_lun_add(&lio, &ep, 1, d[1].name, err, ERRLEN),
			 0);
	assert_int_equal(
		tdm_lio_acl_add(&lio, &ep, ini, 5, 0, false, err, ERRLEN), 0);
	assert_int_equal(tdm_lio_ep_remove(&lio, &ep, err, ERRLEN), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(
			tdm_lio_dev_remove(&lio, d[i].name, err, ERRLEN), 0);
	after = snapshot();
	printf("# %d ops; tree before/after: %d/%d entries\n", nops,
	       count_lines(before), count_lines(after));
	assert_string_equal(before, after);
	free(before);
	free(after);

	/* demo mode: generate_node_acls 1 */
	ep.demo_mode = true;
	assert_int_equal(tdm_lio_ep_create(&lio, &ep, err, ERRLEN), 0);
	fmt(rel, sizeof(rel), "qla2xxx/%s/tpgt_1/attrib/generate_node_acls",
	    wwpn);
	read_rel(rel, v, sizeof(v));
	assert_string_equal(v, "1");
	assert_int_equal(tdm_lio_ep_remove(&lio, &ep, err, ERRLEN), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_loopback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loopback_ep_remove_all,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_ibmvscsis, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_qla2xxx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scan, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idempotent, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_untouched, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("lio", tests, NULL, NULL);
}
