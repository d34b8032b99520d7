/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * lio.c - LIO's configfs as kernel/ programs it (kernel/lio.h): the TCMU
 * devices of tandem's HBA core/user_7301 and the fabric objects of
 * tcm_loop ("loopback"), ibmvscsis and tcm_qla2xxx ("qla2xxx").
 *
 * What the kernel wants, read in Linux 6.1 (drivers/target):
 *   - target_core_configfs.c: mkdir core/user_<id> makes a TCMU HBA
 *     (target_core_call_addhbatotarget); mkdir of a device in it makes
 *     the device with its default groups action/ attrib/ pr/ wwn/ alua/
 *     statistics/ (target_core_make_subdev); "control" takes the
 *     backend's parameters, "enable" 1 configures the device (once:
 *     -EEXIST after); wwn/vpd_unit_serial is refused while a LUN exports
 *     the device. target_core_user.c: control's dev_config=, dev_size=,
 *     hw_block_size=, hw_max_sectors=, nl_reply_supported=; attrib/
 *     dev_config, dev_size, emulate_write_cache; action/block_dev,
 *     reset_ring; the UIO device's name "tcm-user/<hba>/<dev>/<config>".
 *   - target_core_fabric_configfs.c: <fabric>/<wwn>/tpgt_<n>/ with lun/,
 *     acls/, attrib/; lun/lun_<n> linked to a device (one link);
 *     acls/<initiator>/lun_<m> linked to a tpgt's lun_<n> of the same
 *     tpgt; "enable" only where the fabric has fabric_enable_tpg
 *     (ibmvscsis, qla2xxx; not tcm_loop).
 *   - loopback/tcm_loop.c: the WWN's prefix picks the protocol ("naa."
 *     SAS); tpgt_<n>/nexus takes the initiator port, "NULL" drops it,
 *     refused while LUNs are linked.
 *   - ibmvscsi_tgt.c: the WWN is the VIO adapter's device name (its
 *     unit address in hex); the nexus is made by the driver at the
 *     client's SRP login.
 *   - tcm_qla2xxx.c: the WWN is the port name, strictly
 *     "xx:xx:xx:xx:xx:xx:xx:xx" in lower case; only tpgt_1; attrib/
 *     generate_node_acls (demo mode), demo_mode_write_protect.
 * configfs resolves a symlink's target like any path (absolute here) and
 * reads links back relative to the link's directory.
 */
#include <dirent.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kernel/lio.h"
#include "lib/crc32c.h"

#define CONFIG_PREFIX "tandem/"
#define SERIAL_SHOW "T10 VPD Unit Serial Number: "

typedef char path_t[TDM_LIO_PATH_MAX];

static const char *const fabric_dirs[] = {
	[TDM_LIO_LOOP] = "loopback",
	[TDM_LIO_VIO] = "ibmvscsis",
	[TDM_LIO_FC] = "qla2xxx",
};
#define NFABRICS (sizeof(fabric_dirs) / sizeof(fabric_dirs[0]))

const char *tdm_lio_fabric_dir(enum tdm_lio_fabric f)
{
	return (unsigned)f < NFABRICS ? fabric_dirs[f] : "?";
}

/* Fabrics with a tpgt "enable" (fabric_enable_tpg) */
static bool has_enable(enum tdm_lio_fabric f)
{
	return f == TDM_LIO_VIO || f == TDM_LIO_FC;
}

void tdm_lio_init(struct tdm_lio *l)
{
	snprintf(l->root, sizeof(l->root), "%s", TDM_LIO_ROOT);
	snprintf(l->uio_class, sizeof(l->uio_class), "/sys/class/uio");
	snprintf(l->dev_dir, sizeof(l->dev_dir), "/dev");
}

static int fail(char *err, size_t errlen, const char *op, const char *path,
		int e)
{
	if (err && errlen)
		snprintf(err, errlen, "%s %s: %s", op, path, strerror(e));
	return -e;
}

/* printf into a path; -ENAMETOOLONG when cut */
__attribute__((format(printf, 2, 3))) static int mkpath(path_t p,
							const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(p, sizeof(path_t), fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= sizeof(path_t) ? -ENAMETOOLONG : 0;
}

/* One store of a configfs attribute: one write(2) of the whole value. */
static int attr_write(const char *path, const char *val, char *err,
		      size_t errlen)
{
	size_t n = strlen(val);
	ssize_t w;
	int fd, e;

	fd = open(path,
		  O_WRONLY | O_CLOEXEC); /* configfs: one write, one store */
	if (fd < 0)
		return fail(err, errlen, "open", path, errno);
	w = write(fd, val, n);
	e = w < 0 ? errno : (size_t)w != n ? EIO : 0;
	close(fd);
	if (e) {
		char op[96];

		snprintf(op, sizeof(op), "write \"%.64s\" to", val);
		return fail(err, errlen, op, path, e);
	}
	return 0;
}

/* Read an attribute, its trailing newline cut; -errno */
static int attr_read(const char *path, char *buf, size_t len)
{
	ssize_t r;
	int fd, e;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = read(fd, buf, len - 1);
	e = errno;
	close(fd);
	if (r < 0)
		return -e;
	buf[r] = '\0';
	while (r > 0 && (buf[r - 1] == '\n' || buf[r - 1] == ' '))
		buf[--r] = '\0';
	return 0;
}

/* mkdir: 1 if it was there, 0 if made, -errno with err */
static int make_dir(const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (mkdir(path, 0755) == 0)
		return 0;
	if (errno == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return 1;
	return fail(err, errlen, "mkdir", path, errno);
}

/* rmdir; gone already is success */
static int remove_dir(const char *path, char *err, size_t errlen)
{
	if (rmdir(path) == 0 || errno == ENOENT)
		return 0;
	return fail(err, errlen, "rmdir", path, errno);
}

static bool is_dir(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int check_root(const struct tdm_lio *l, char *err, size_t errlen)
{
	if (is_dir(l->root))
		return 0;
	if (err && errlen)
		snprintf(err, errlen,
			 "LIO configfs %s: %s (configfs mounted, "
			 "target_core_mod and target_core_user loaded?)",
			 l->root, strerror(ENOENT));
	return -ENOENT;
}

/* The last n components of a link's target: comp[0..n-1], in order. */
static int link_tail(const char *path, char comp[][128], int n)
{
	char t[TDM_LIO_PATH_MAX];
	ssize_t r = readlink(path, t, sizeof(t) - 1);
	char *end;

	if (r < 0)
		return -errno;
	t[r] = '\0';
	while (r > 1 && t[r - 1] == '/')
		t[--r] = '\0';
	end = t + r;
	for (int i = n - 1; i >= 0; i--) {
		char *s = end;

		while (s > t && s[-1] != '/')
			s--;
		if (s == end || (size_t)(end - s) >= sizeof(comp[0]))
			return -EINVAL;
		memcpy(comp[i], s, (size_t)(end - s));
		comp[i][end - s] = '\0';
		if (i > 0 && s == t)
			return -EINVAL;
		end = s - 1;
	}
	return 0;
}

/* ---- names ---- */

static uint64_t hash64(const char *domain, const char *s)
{
	uint32_t a = tdm_crc32c_update(~0u, domain, strlen(domain));
	uint32_t b = tdm_crc32c_update(0x9e3779b9u, s, strlen(s));

	a = ~tdm_crc32c_update(a, s, strlen(s));
	b = ~tdm_crc32c_update(b, domain, strlen(domain));
	return (uint64_t)a << 32 | b;
}

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' ||
	       c == ':';
}

void tdm_lio_dev_name(char *out, size_t len, const char *lu, const char *ep)
{
	char full[512];
	size_t n, max = sizeof(((struct tdm_lio_dev *)0)->name) - 1;
	bool changed = false;

	if (len == 0)
		return;
	if (len - 1 < max)
		max = len - 1;
	snprintf(full, sizeof(full), "%s.%s", lu, ep);
	n = strlen(full);
	for (size_t i = 0; i < n; i++)
		if (!name_char(full[i]))
			changed = true;
	if (!changed && n <= max && strcmp(full, ".") && strcmp(full, "..")) {
		memcpy(out, full, n + 1);
		return;
	}
	/* cut, '/' and the like replaced, and the hash of the whole
	 * original: "<cut>-<8 hex>" */
	{
		uint32_t h = (uint32_t)hash64("dev:", full);
		char sfx[10];
		size_t keep;

		snprintf(sfx, sizeof(sfx), "-%08" PRIx32, h);
		keep = max > 9 ? max - 9 : 0;
		if (keep > n)
			keep = n;
		for (size_t i = 0; i < keep; i++)
			out[i] = name_char(full[i]) ? full[i] : '_';
		snprintf(out + keep, len - keep, "%s", sfx);
	}
}

/* "naa.5001405" + 9 hex digits: the IEEE OUI LIO itself uses
 * (00:14:05), the SAS address format tcm_loop takes */
static void loop_naa(char *out, size_t len, const char *domain, const char *s)
{
	uint64_t h = hash64(domain, s) & 0xfffffffffull;

	snprintf(out, len, "naa.5001405%09" PRIx64, h);
}

void tdm_lio_loop_wwn(char *out, size_t len, const char *target)
{
	loop_naa(out, len, "tcm_loop target:", target);
}

void tdm_lio_loop_nexus(char *out, size_t len, const char *session)
{
	loop_naa(out, len, "tcm_loop nexus:", session);
}

/* ---- devices ---- */

static int dev_path(const struct tdm_lio *l, path_t p, const char *name,
		    const char *attr)
{
	if (!name[0] || strchr(name, '/') || !strcmp(name, ".") ||
	    !strcmp(name, ".."))
		return -EINVAL;
	return mkpath(p, "%s/core/user_%d/%s%s%s", l->root, TDM_LIO_HBA, name,
		      attr ? "/" : "", attr ? attr : "");
}

/* Is core/user_7301/<name> tandem's? 1 yes (config after the prefix in
 * cfg), 0 no, -errno (-ENOENT: no such device) */
static int dev_config_of(const struct tdm_lio *l, const char *name, char *cfg,
			 size_t cfglen)
{
	path_t p;
	char v[300];
	int r;

	if (dev_path(l, p, name, NULL))
		return -EINVAL;
	if (!is_dir(p))
		return -ENOENT;
	if (dev_path(l, p, name, "attrib/dev_config"))
		return -EINVAL;
	r = attr_read(p, v, sizeof(v));
	if (r)
		return r;
	if (strncmp(v, CONFIG_PREFIX, strlen(CONFIG_PREFIX)))
		return 0;
	if (cfg)
		snprintf(cfg, cfglen, "%s", v + strlen(CONFIG_PREFIX));
	return 1;
}

static int dev_attr(const struct tdm_lio *l, const char *name, const char *attr,
		    const char *val, char *err, size_t errlen)
{
	path_t p;

	if (dev_path(l, p, name, attr))
		return fail(err, errlen, "path of", name, ENAMETOOLONG);
	return attr_write(p, val, err, errlen);
}

static int read_u64(const char *path, uint64_t *v)
{
	char b[64], *end;
	int r = attr_read(path, b, sizeof(b));

	if (r)
		return r;
	errno = 0;
	*v = strtoull(b, &end, 0);
	return errno || end == b ? -EINVAL : 0;
}

/* An existing device: tandem's with the same config? Adjust what may
 * change (size, write cache, serial before export); refuse the rest. */
static int dev_keep(const struct tdm_lio *l, const struct tdm_lio_dev *d,
		    bool *enabled, char *err, size_t errlen)
{
	char cfg[300], v[128];
	uint64_t u;
	path_t p;
	int r;

	r = dev_config_of(l, d->name, cfg, sizeof(cfg));
	dev_path(l, p, d->name, "attrib/dev_config");
	if (r < 0)
		return fail(err, errlen, "read", p, -r);
	if (r == 0 || strcmp(cfg, d->config)) {
		if (err && errlen)
			snprintf(err, errlen,
				 "%s: exists with dev_config \"%s%s\", not "
				 "\"" CONFIG_PREFIX "%s\"",
				 p, r ? CONFIG_PREFIX : "", r ? cfg : "?",
				 d->config);
		return -EEXIST;
	}
	dev_path(l, p, d->name, "enable");
	*enabled = read_u64(p, &u) == 0 && u == 1;
	if (!*enabled)
		return 0; /* control and enable again */
	dev_path(l, p, d->name, "attrib/hw_block_size");
	if (read_u64(p, &u) == 0 && u != d->block_size) {
		if (err && errlen)
			snprintf(err, errlen,
				 "%s: %" PRIu64 ", not %" PRIu32
				 " (remove the device to change it)",
				 p, u, d->block_size);
		return -EEXIST;
	}
	dev_path(l, p, d->name, "attrib/dev_size");
	if (read_u64(p, &u) == 0 && u != d->size) {
		char s[32];

		snprintf(s, sizeof(s), "%" PRIu64, d->size);
		r = attr_write(p, s, err, errlen);
		if (r)
			return r;
	}
	dev_path(l, p, d->name, "attrib/emulate_write_cache");
	if (read_u64(p, &u) == 0 && u != (uint64_t)d->write_cache) {
		r = attr_write(p, d->write_cache ? "1" : "0", err, errlen);
		if (r)
			return r;
	}
	dev_path(l, p, d->name, "wwn/vpd_unit_serial");
	if (d->serial[0] && attr_read(p, v, sizeof(v)) == 0 &&
	    strcmp(v + (strncmp(v, SERIAL_SHOW, strlen(SERIAL_SHOW))
				? 0
				: strlen(SERIAL_SHOW)),
		   d->serial)) {
		r = attr_write(p, d->serial, err, errlen);
		if (r)
			return r;
	}
	return 0;
}

int tdm_lio_dev_create(const struct tdm_lio *l, const struct tdm_lio_dev *d,
		       bool *existed, char *err, size_t errlen)
{
	char ctl[400];
	bool enabled = false;
	path_t p;
	int r;

	*existed = false;
	r = check_root(l, err, errlen);
	if (r)
		return r;
	if (dev_path(l, p, d->name, NULL) || !d->config[0] ||
	    strchr(d->config, ',') || strchr(d->config, '\n'))
		return fail(err, errlen, "device", d->name, EINVAL);
	if (mkpath(p, "%s/core/user_%d", l->root, TDM_LIO_HBA) == 0) {
		r = make_dir(p, err, errlen);
		if (r < 0)
			return r;
	}
	dev_path(l, p, d->name, NULL);
	r = make_dir(p, err, errlen);
	if (r < 0)
		return r;
	if (r == 1) {
		r = dev_keep(l, d, &enabled, err, errlen);
		if (r)
			return r;
		*existed = enabled;
	}
	if (!enabled) {
		/* hw_block_size and hw_max_sectors: the kernel takes 1 to
		 * INT_MAX (tcmu_set_dev_attrib); 0 leaves its default
		 * (512, 128) */
		if (d->block_size > INT32_MAX || d->max_sectors > INT32_MAX)
			return fail(err, errlen, "block size or max sectors of",
				    d->name, EINVAL);
		snprintf(ctl, sizeof(ctl),
			 "dev_config=" CONFIG_PREFIX "%s,dev_size=%" PRIu64,
			 d->config, d->size);
		if (d->block_size)
			snprintf(ctl + strlen(ctl), sizeof(ctl) - strlen(ctl),
				 ",hw_block_size=%" PRIu32, d->block_size);
		if (d->max_sectors)
			snprintf(ctl + strlen(ctl), sizeof(ctl) - strlen(ctl),
				 ",hw_max_sectors=%" PRIu32, d->max_sectors);
		snprintf(ctl + strlen(ctl), sizeof(ctl) - strlen(ctl),
			 ",nl_reply_supported=-1");
		r = dev_attr(l, d->name, "control", ctl, err, errlen);
		if (!r)
			r = dev_attr(l, d->name, "attrib/emulate_write_cache",
				     d->write_cache ? "1" : "0", err, errlen);
		if (!r && d->serial[0])
			r = dev_attr(l, d->name, "wwn/vpd_unit_serial",
				     d->serial, err, errlen);
		if (!r)
			r = dev_attr(l, d->name, "enable", "1", err, errlen);
		if (r)
			return r;
	}
	/* written only when not 0 already: a kept device is not touched */
	for (int i = 0; i < 2 && !r; i++) {
		const char *a = i ? "attrib/alua_support" : "attrib/emulate_pr";
		uint64_t v;

		dev_path(l, p, d->name, a);
		if (read_u64(p, &v) || v != 0)
			r = attr_write(p, "0", err, errlen);
	}
	return r;
}

/* Does the HBA hold a device still? */
static bool hba_has_devices(const char *hba)
{
	DIR *dir = opendir(hba);
	struct dirent *e;
	bool any = false;

	if (!dir)
		return false;
	while (!any && (e = readdir(dir))) {
		path_t p;

		if (e->d_name[0] == '.')
			continue;
		if (mkpath(p, "%s/%s", hba, e->d_name) == 0 && is_dir(p))
			any = true;
	}
	closedir(dir);
	return any;
}

int tdm_lio_dev_remove(const struct tdm_lio *l, const char *name, char *err,
		       size_t errlen)
{
	path_t p;
	int r;

	r = check_root(l, err, errlen);
	if (r)
		return r;
	if (dev_path(l, p, name, NULL))
		return fail(err, errlen, "device", name, EINVAL);
	r = dev_config_of(l, name, NULL, 0);
	if (r == 0) {
		if (err && errlen)
			snprintf(err, errlen,
				 "%s: not tandem's (dev_config does not start "
				 "with \"" CONFIG_PREFIX "\"): left alone",
				 p);
		return -EPERM;
	}
	if (r != -ENOENT) {
		r = remove_dir(p, err, errlen);
		if (r)
			return r;
	}
	/* the HBA is tandem's own: it goes with its last device */
	mkpath(p, "%s/core/user_%d", l->root, TDM_LIO_HBA);
	if (is_dir(p) && !hba_has_devices(p))
		return remove_dir(p, err, errlen);
	return 0;
}

int tdm_lio_dev_uio(const struct tdm_lio *l, const struct tdm_lio_dev *d,
		    char *path, size_t len)
{
	char want[400], name[400];
	DIR *dir = opendir(l->uio_class);
	struct dirent *e;
	int r = -ENOENT;

	if (!dir)
		return -ENOENT;
	snprintf(want, sizeof(want), "tcm-user/%d/%s/" CONFIG_PREFIX "%s",
		 TDM_LIO_HBA, d->name, d->config);
	while ((e = readdir(dir))) {
		path_t p;

		if (strncmp(e->d_name, "uio", 3))
			continue;
		if (mkpath(p, "%s/%s/name", l->uio_class, e->d_name) ||
		    attr_read(p, name, sizeof(name)) || strcmp(name, want))
			continue;
		r = snprintf(path, len, "%s/%s", l->dev_dir, e->d_name) <
				    (int)len
			    ? 0
			    : -ENAMETOOLONG;
		break;
	}
	closedir(dir);
	return r;
}

int tdm_lio_dev_block(const struct tdm_lio *l, const char *name, bool block,
		      char *err, size_t errlen)
{
	int r = check_root(l, err, errlen);

	return r ? r
		 : dev_attr(l, name, "action/block_dev", block ? "1" : "0", err,
			    errlen);
}

int tdm_lio_dev_reset_ring(const struct tdm_lio *l, const char *name, char *err,
			   size_t errlen)
{
	int r = check_root(l, err, errlen);

	return r ? r : dev_attr(l, name, "action/reset_ring", "1", err, errlen);
}

/* ---- endpoints ---- */

bool tdm_lio_fabric_present(const struct tdm_lio *l, enum tdm_lio_fabric f)
{
	path_t p;

	if ((unsigned)f >= NFABRICS || !is_dir(l->root) ||
	    mkpath(p, "%s/%s", l->root, fabric_dirs[f]))
		return false;
	return is_dir(p) || mkdir(p, 0755) == 0;
}

static int tpg_path(const struct tdm_lio *l, const struct tdm_lio_ep *ep,
		    path_t p, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int tpg_path(const struct tdm_lio *l, const struct tdm_lio_ep *ep,
		    path_t p, const char *fmt, ...)
{
	char tail[TDM_LIO_PATH_MAX] = "";
	va_list ap;
	int n;

	if ((unsigned)ep->fabric >= NFABRICS || !ep->wwn[0] ||
	    strchr(ep->wwn, '/') || ep->wwn[0] == '.')
		return -EINVAL;
	if (fmt) {
		va_start(ap, fmt);
		n = vsnprintf(tail, sizeof(tail), fmt, ap);
		va_end(ap);
		if (n < 0 || (size_t)n >= sizeof(tail))
			return -ENAMETOOLONG;
	}
	return mkpath(p, "%s/%s/%s/tpgt_%u%s%s", l->root,
		      fabric_dirs[ep->fabric], ep->wwn, ep->tpgt,
		      tail[0] ? "/" : "", tail);
}

/* qla2xxx takes its port names strictly as it prints them
 * (tcm_qla2xxx.c tcm_qla2xxx_parse_wwn with strict) */
static bool fc_name_ok(const char *s)
{
	for (int i = 0; i < 23; i++) {
		char c = s[i];

		if (i % 3 == 2 ? c != ':'
			       : !((c >= '0' && c <= '9') ||
				   (c >= 'a' && c <= 'f')))
			return false;
	}
	return s[23] == '\0';
}

static int ep_check(const struct tdm_lio_ep *ep, char *err, size_t errlen)
{
	const char *why = NULL;

	if ((unsigned)ep->fabric >= NFABRICS)
		why = "unknown fabric";
	else if (ep->fabric == TDM_LIO_LOOP &&
		 (strncmp(ep->wwn, "naa.", 4) || ep->tpgt >= 32))
		why = "tcm_loop wants a \"naa.\" WWN (SAS) and tpgt below 32";
	else if (ep->fabric == TDM_LIO_LOOP && strncmp(ep->nexus, "naa.", 4))
		why = "tcm_loop's nexus must be a \"naa.\" port (SAS)";
	else if (ep->fabric == TDM_LIO_FC &&
		 (!fc_name_ok(ep->wwn) || ep->tpgt != 1))
		why = "qla2xxx wants a port name xx:xx:xx:xx:xx:xx:xx:xx "
		      "(lower case) and tpgt 1";
	else if (!ep->wwn[0] || strchr(ep->wwn, '/') || ep->wwn[0] == '.')
		why = "bad WWN";
	if (!why)
		return 0;
	if (err && errlen)
		snprintf(err, errlen, "%s %s/tpgt_%u: %s",
			 tdm_lio_fabric_dir(ep->fabric), ep->wwn, ep->tpgt,
			 why);
	return -EINVAL;
}

int tdm_lio_ep_create(const struct tdm_lio *l, const struct tdm_lio_ep *ep,
		      char *err, size_t errlen)
{
	char v[128];
	path_t p;
	int r;

	r = check_root(l, err, errlen);
	if (!r)
		r = ep_check(ep, err, errlen);
	if (r)
		return r;
	mkpath(p, "%s/%s", l->root, fabric_dirs[ep->fabric]);
	r = make_dir(p, err, errlen); /* loads tcm_loop if needed */
	if (r >= 0 && mkpath(p, "%s/%s/%s", l->root, fabric_dirs[ep->fabric],
			     ep->wwn) == 0)
		r = make_dir(p, err, errlen);
	if (r >= 0) {
		tpg_path(l, ep, p, NULL);
		r = make_dir(p, err, errlen);
	}
	if (r < 0)
		return r;
	r = 0;
	if (ep->fabric == TDM_LIO_LOOP) {
		tpg_path(l, ep, p, "nexus");
		/* no nexus: the kernel says ENODEV (tcm_loop.c) */
		if (attr_read(p, v, sizeof(v)) || !v[0]) {
			r = attr_write(p, ep->nexus, err, errlen);
		} else if (strcmp(v, ep->nexus)) {
			if (err && errlen)
				snprintf(err, errlen,
					 "%s: holds %s, not %s: left alone", p,
					 v, ep->nexus);
			r = -EEXIST;
		}
	}
	if (!r && ep->fabric == TDM_LIO_FC) {
		tpg_path(l, ep, p, "attrib/generate_node_acls");
		r = attr_write(p, ep->demo_mode ? "1" : "0", err, errlen);
		if (!r) {
			tpg_path(l, ep, p, "attrib/demo_mode_write_protect");
			r = attr_write(p, "0", err, errlen);
		}
	}
	if (!r && has_enable(ep->fabric)) {
		tpg_path(l, ep, p, "enable");
		r = attr_write(p, "1", err, errlen);
	}
	return r;
}

/*
 * The device a LUN links to: 1 and its name if the LUN holds one link
 * into tandem's HBA, 0 if it links elsewhere, -ENOENT if it holds none.
 */
static int lun_dev(const char *lundir, char *dev, size_t devlen)
{
	DIR *dir = opendir(lundir);
	struct dirent *e;
	int r = -ENOENT;
	char hba[32];

	if (!dir)
		return -errno;
	snprintf(hba, sizeof(hba), "user_%d", TDM_LIO_HBA);
	while ((e = readdir(dir))) {
		char comp[3][128];
		path_t p;
		struct stat st;

		if (mkpath(p, "%s/%s", lundir, e->d_name) || lstat(p, &st) ||
		    !S_ISLNK(st.st_mode))
			continue;
		if (link_tail(p, comp, 3) == 0 && !strcmp(comp[0], "core") &&
		    !strcmp(comp[1], hba)) {
			snprintf(dev, devlen, "%s", comp[2]);
			r = r == 0 ? 0 : 1;
		} else {
			r = 0;
		}
	}
	closedir(dir);
	return r;
}

/* Remove every symlink in a directory (a LUN's or a mapped LUN's) */
static int unlink_links(const char *d, char *err, size_t errlen)
{
	DIR *dir = opendir(d);
	struct dirent *e;
	int r = 0;

	if (!dir)
		return errno == ENOENT ? 0
				       : fail(err, errlen, "open", d, errno);
	while (!r && (e = readdir(dir))) {
		path_t p;
		struct stat st;

		if (mkpath(p, "%s/%s", d, e->d_name) || lstat(p, &st) ||
		    !S_ISLNK(st.st_mode))
			continue;
		if (unlink(p) && errno != ENOENT)
			r = fail(err, errlen, "unlink", p, errno);
	}
	closedir(dir);
	return r;
}

static bool lun_name(const char *s, uint64_t *lun)
{
	char *end;

	if (strncmp(s, "lun_", 4) || s[4] < '0' || s[4] > '9')
		return false;
	errno = 0;
	*lun = strtoull(s + 4, &end, 10);
	return !errno && !*end;
}

/* One mapped LUN of an ACL: its link, then its directory */
static int mapped_remove(const char *ml, char *err, size_t errlen)
{
	int r = unlink_links(ml, err, errlen);

	return r ? r : remove_dir(ml, err, errlen);
}

/* Mapped LUNs of every ACL that link to the tpgt's lun_<lun> (or to
 * any LUN: all), removed */
static int acls_unmap(const struct tdm_lio *l, const struct tdm_lio_ep *ep,
		      const char *only_acl, bool all, uint64_t lun, char *err,
		      size_t errlen)
{
	path_t acls;
	DIR *dir;
	struct dirent *e;
	int r = 0;

	if (tpg_path(l, ep, acls, "acls"))
		return fail(err, errlen, "acls of", ep->wwn, ENAMETOOLONG);
	dir = opendir(acls);
	if (!dir)
		return errno == ENOENT ? 0
				       : fail(err, errlen, "open", acls, errno);
	while (!r && (e = readdir(dir))) {
		path_t acl;
		DIR *ad;
		struct dirent *m;

		if (e->d_name[0] == '.' ||
		    (only_acl && strcmp(e->d_name, only_acl)) ||
		    mkpath(acl, "%s/%s", acls, e->d_name) || !is_dir(acl))
			continue;
		ad = opendir(acl);
		while (ad && !r && (m = readdir(ad))) {
			path_t ml;
			uint64_t mapped;
			DIR *md;
			struct dirent *k;
			bool hit = all;

			if (!lun_name(m->d_name, &mapped) ||
			    mkpath(ml, "%s/%s", acl, m->d_name))
				continue;
			md = opendir(ml);
			while (md && !hit && (k = readdir(md))) {
				char comp[2][128];
				path_t lp;
				uint64_t t;

				if (mkpath(lp, "%s/%s", ml, k->d_name) == 0 &&
				    link_tail(lp, comp, 2) == 0 &&
				    !strcmp(comp[0], "lun") &&
				    lun_name(comp[1], &t) && t == lun)
					hit = true;
			}
			if (md)
				closedir(md);
			if (hit)
				r = mapped_remove(ml, err, errlen);
		}
		if (ad)
			closedir(ad);
		if (!r && only_acl)
			r = remove_dir(acl, err, errlen);
	}
	closedir(dir);
	return r;
}

int tdm_lio_lun_add(const struct tdm_lio *l, const struct tdm_lio_ep *ep,
		    uint64_t lun, const char *dev_name, char *err,
		    size_t errlen)
{
	path_t d, link, target;
	char have[128];
	int r;

	r = check_root(l, err, errlen);
	if (r)
		return r;
	if (tpg_path(l, ep, d, "lun/lun_%" PRIu64, lun) ||
	    dev_path(l, target, dev_name, NULL) ||
	    mkpath(link, "%s/%s", d, dev_name))
		return fail(err, errlen, "LUN of", ep->wwn, EINVAL);
	r = make_dir(d, err, errlen);
	if (r < 0)
		return r;
	if (r == 1) {
		r = lun_dev(d, have, sizeof(have));
		if (r == 1 && !strcmp(have, dev_name))
			return 0;
		if (r >= 0) {
			if (err && errlen)
				snprintf(err, errlen,
					 "%s: links to %s already: left alone",
					 d, r ? have : "a device not tandem's");
			return -EEXIST;
		}
	}
	if (symlink(target, link))
		return fail(err, errlen, "symlink", link, errno);
	return 0;
}

int tdm_lio_lun_remove(const struct tdm_lio *l, const struct tdm_lio_ep *ep,
		       uint64_t lun, char *err, size_t errlen)
{
	char dev[128];
	path_t d;
	int r;

	r = check_root(l, err, errlen);
	if (r)
		return r;
	if (tpg_path(l, ep, d, "lun/lun_%" PRIu64, lun))
		return fail(err, errlen, "LUN of", ep->wwn, EINVAL);
	if (!is_dir(d))
		return 0;
	r = lun_dev(d, dev, sizeof(dev));
	if (r == 0 || (r == 1 && dev_config_of(l, dev, NULL, 0) != 1)) {
		if (err && errlen)
			snprintf(err, errlen,
				 "%s: links to a device not tandem's: left "
				 "alone",
				 d);
		return -EPERM;
	}
	r = acls_unmap(l, ep, NULL, false, lun, err, errlen);
	if (!r)
		r = unlink_links(d, err, errlen);
	if (!r)
		r = remove_dir(d, err, errlen);
	return r;
}

/* an ACL directory name: not empty, no path */
static bool acl_name_ok(const char *initiator)
{
	return initiator[0] && !strchr(initiator, '/') && initiator[0] != '.';
}

int tdm_lio_acl_add(const struct tdm_lio *l, const struct tdm_lio_ep *ep,
		    const char *initiator, uint64_t mapped, uint64_t lun,
		    bool read_only, char *err, size_t errlen)
{
	path_t acl, ml, link, target, wp;
	int r;

	r = check_root(l, err, errlen);
	if (r)
		return r;
	if (!acl_name_ok(initiator) ||
	    tpg_path(l, ep, acl, "acls/%s", initiator) ||
	    tpg_path(l, ep, target, "lun/lun_%" PRIu64, lun) ||
	    mkpath(ml, "%s/lun_%" PRIu64, acl, mapped) ||
	    mkpath(link, "%s/lun_%" PRIu64, ml, lun) ||
	    mkpath(wp, "%s/write_protect", ml))
		return fail(err, errlen, "ACL", initiator, EINVAL);
	r = make_dir(acl, err, errlen);
	if (r >= 0)
		r = make_dir(ml, err, errlen);
	if (r < 0)
		return r;
	if (r == 1) {
		char comp[2][128];
		uint64_t t;

		if (link_tail(link, comp, 2) == 0 && !strcmp(comp[0], "lun") &&
		    lun_name(comp[1], &t) && t == lun)
			return attr_write(wp, read_only ? "1" : "0", err,
					  errlen);
		r = unlink_links(ml, err, errlen);
		if (r)
			return r;
	}
	if (symlink(target, link))
		return fail(err, errlen, "symlink", link, errno);
	/* after the link: the mapped LUN exists in the kernel only then */
	return attr_write(wp, read_only ? "1" : "0", err, errlen);
}

int tdm_lio_acl_remove(const struct tdm_lio *l, const struct tdm_lio_ep *ep,
		       const char *initiator, char *err, size_t errlen)
{
	int r = check_root(l, err, errlen);

	if (r)
		return r;
	if (!acl_name_ok(initiator))
		return fail(err, errlen, "ACL", initiator, EINVAL);
	return acls_unmap(l, ep, initiator, true, 0, err, errlen);
}

int tdm_lio_acl_unmap(const struct tdm_lio *l, const struct tdm_lio_ep *ep,
		      const char *initiator, uint64_t mapped, char *err,
		      size_t errlen)
{
	path_t ml;
	int r = check_root(l, err, errlen);

	if (r)
		return r;
	if (!acl_name_ok(initiator) ||
	    tpg_path(l, ep, ml, "acls/%s/lun_%" PRIu64, initiator, mapped))
		return fail(err, errlen, "ACL", initiator, EINVAL);
	return mapped_remove(ml, err, errlen);
}

int tdm_lio_acl_scan(const struct tdm_lio *l, const struct tdm_lio_ep *ep,
		     int (*fn)(void *arg, const char *initiator,
			       uint64_t mapped),
		     void *arg)
{
	path_t acls;
	DIR *dir;
	struct dirent *e;
	int r = 0;

	if (tpg_path(l, ep, acls, "acls"))
		return -ENAMETOOLONG;
	dir = opendir(acls);
	if (!dir)
		return errno == ENOENT ? 0 : -errno;
	while (!r && (e = readdir(dir))) {
		path_t acl;
		DIR *ad;
		struct dirent *m;
		bool any = false;

		if (e->d_name[0] == '.' ||
		    mkpath(acl, "%s/%s", acls, e->d_name) || !is_dir(acl))
			continue;
		ad = opendir(acl);
		while (ad && !r && (m = readdir(ad))) {
			uint64_t mapped;

			if (!lun_name(m->d_name, &mapped))
				continue;
			any = true;
			r = fn(arg, e->d_name, mapped);
		}
		if (ad)
			closedir(ad);
		if (!r && !any)
			r = fn(arg, e->d_name, UINT64_MAX);
	}
	closedir(dir);
	return r;
}

/* For each lun_<n> of the tpgt: fn(n, its device or "" if not tandem's);
 * stops at fn's nonzero return */
static int each_lun(const struct tdm_lio *l, const char *tpg,
		    int (*fn)(void *arg, uint64_t lun, const char *dev,
			      bool tandem),
		    void *arg)
{
	path_t d;
	DIR *dir;
	struct dirent *e;
	int r = 0;

	if (mkpath(d, "%s/lun", tpg))
		return -ENAMETOOLONG;
	dir = opendir(d);
	if (!dir)
		return 0;
	while (!r && (e = readdir(dir))) {
		path_t lp;
		char dev[128] = "";
		uint64_t lun;
		int k;

		if (!lun_name(e->d_name, &lun) ||
		    mkpath(lp, "%s/%s", d, e->d_name))
			continue;
		k = lun_dev(lp, dev, sizeof(dev));
		if (k == -ENOENT)
			continue; /* an empty LUN: nobody's device */
		r = fn(arg, lun, dev,
		       k == 1 && dev_config_of(l, dev, NULL, 0) == 1);
	}
	closedir(dir);
	return r;
}

static int lun_foreign(void *arg, uint64_t lun, const char *dev, bool tandem)
{
	(void)lun;
	if (!tandem)
		snprintf(arg, 128, "%s", dev[0] ? dev : "?");
	return tandem ? 0 : 1;
}

static int lun_count(void *arg, uint64_t lun, const char *dev, bool tandem)
{
	(void)lun;
	(void)dev;
	(void)tandem;
	(*(int *)arg)++;
	return 0;
}

int tdm_lio_ep_remove(const struct tdm_lio *l, const struct tdm_lio_ep *ep,
		      char *err, size_t errlen)
{
	char foreign[128] = "", v[128];
	path_t tpg, d;
	DIR *dir;
	struct dirent *e;
	int r;

	r = check_root(l, err, errlen);
	if (r)
		return r;
	if (tpg_path(l, ep, tpg, NULL))
		return fail(err, errlen, "endpoint", ep->wwn, EINVAL);
	if (!is_dir(tpg))
		goto wwn;
	if (each_lun(l, tpg, lun_foreign, foreign)) {
		if (err && errlen)
			snprintf(err, errlen,
				 "%s: a LUN links to %s, not tandem's: left "
				 "alone",
				 tpg, foreign);
		return -EPERM;
	}
	r = acls_unmap(l, ep, NULL, true, 0, err, errlen);
	if (r)
		return r;
	/* the ACLs themselves */
	if (mkpath(d, "%s/acls", tpg) == 0 && (dir = opendir(d))) {
		while (!r && (e = readdir(dir))) {
			path_t a;

			if (e->d_name[0] != '.' &&
			    mkpath(a, "%s/%s", d, e->d_name) == 0 && is_dir(a))
				r = remove_dir(a, err, errlen);
		}
		closedir(dir);
		if (r)
			return r;
	}
	if (has_enable(ep->fabric)) {
		mkpath(d, "%s/enable", tpg);
		if (attr_read(d, v, sizeof(v)) == 0 && strcmp(v, "0")) {
			r = attr_write(d, "0", err, errlen);
			if (r)
				return r;
		}
	}
	/* the LUNs (before tcm_loop's nexus: it refuses to drop one while
	 * LUNs are linked) */
	if (mkpath(d, "%s/lun", tpg) == 0 && (dir = opendir(d))) {
		while (!r && (e = readdir(dir))) {
			path_t lp;
			uint64_t lun;

			if (!lun_name(e->d_name, &lun) ||
			    mkpath(lp, "%s/%s", d, e->d_name))
				continue;
			r = unlink_links(lp, err, errlen);
			if (!r)
				r = remove_dir(lp, err, errlen);
		}
		closedir(dir);
		if (r)
			return r;
	}
	if (ep->fabric == TDM_LIO_LOOP) {
		mkpath(d, "%s/nexus", tpg);
		if (attr_read(d, v, sizeof(v)) == 0 && v[0]) {
			r = attr_write(d, "NULL", err, errlen);
			if (r)
				return r;
		}
	}
	r = remove_dir(tpg, err, errlen);
	if (r)
		return r;
wwn:
	/* the WWN, unless another tpgt lives in it */
	mkpath(d, "%s/%s/%s", l->root, fabric_dirs[ep->fabric], ep->wwn);
	if (!is_dir(d))
		return 0;
	dir = opendir(d);
	if (dir) {
		bool other = false;

		while ((e = readdir(dir)))
			if (!strncmp(e->d_name, "tpgt_", 5))
				other = true;
		closedir(dir);
		if (other)
			return 0;
	}
	return remove_dir(d, err, errlen);
}

/* ---- recovery ---- */

struct scan_ep {
	const struct tdm_lio_scan_ops *ops;
	void *arg;
	struct tdm_lio_ep ep;
};

static int scan_lun(void *arg, uint64_t lun, const char *dev, bool tandem)
{
	struct scan_ep *s = arg;

	(void)tandem;
	return s->ops->lun ? s->ops->lun(s->arg, &s->ep, lun, dev) : 0;
}

static int scan_tpg(const struct tdm_lio *l, struct scan_ep *s, const char *tpg)
{
	char foreign[128] = "";
	int n = 0, r;

	/* tandem's: LUNs there, each linked to one of tandem's devices */
	if (each_lun(l, tpg, lun_foreign, foreign) ||
	    each_lun(l, tpg, lun_count, &n) || n == 0)
		return 0;
	if (s->ep.fabric == TDM_LIO_LOOP) {
		path_t p;

		if (mkpath(p, "%s/nexus", tpg) ||
		    attr_read(p, s->ep.nexus, sizeof(s->ep.nexus)))
			s->ep.nexus[0] = '\0';
	}
	if (s->ep.fabric == TDM_LIO_FC) {
		path_t p;
		uint64_t v = 0;

		s->ep.demo_mode =
			mkpath(p, "%s/attrib/generate_node_acls", tpg) == 0 &&
			read_u64(p, &v) == 0 && v == 1;
	}
	r = s->ops->ep ? s->ops->ep(s->arg, &s->ep) : 0;
	if (!r)
		r = each_lun(l, tpg, scan_lun, s);
	return r;
}

static int scan_fabric(const struct tdm_lio *l, enum tdm_lio_fabric f,
		       const struct tdm_lio_scan_ops *ops, void *arg)
{
	path_t fd;
	DIR *dir;
	struct dirent *e;
	int r = 0;

	if (mkpath(fd, "%s/%s", l->root, fabric_dirs[f]))
		return -ENAMETOOLONG;
	dir = opendir(fd);
	if (!dir)
		return 0;
	while (!r && (e = readdir(dir))) {
		path_t wd;
		DIR *wdir;
		struct dirent *t;

		if (e->d_name[0] == '.' ||
		    !strcmp(e->d_name, "discovery_auth") ||
		    strlen(e->d_name) >=
			    sizeof(((struct tdm_lio_ep *)0)->wwn) ||
		    mkpath(wd, "%s/%s", fd, e->d_name) || !is_dir(wd))
			continue;
		wdir = opendir(wd);
		while (wdir && !r && (t = readdir(wdir))) {
			struct scan_ep s = {.ops = ops, .arg = arg};
			char *end;
			unsigned long n;
			path_t tpg;

			if (strncmp(t->d_name, "tpgt_", 5))
				continue;
			errno = 0;
			n = strtoul(t->d_name + 5, &end, 10);
			if (errno || *end || n > UINT16_MAX ||
			    mkpath(tpg, "%s/%s", wd, t->d_name))
				continue;
			s.ep.fabric = f;
			snprintf(s.ep.wwn, sizeof(s.ep.wwn), "%s", e->d_name);
			s.ep.tpgt = (uint16_t)n;
			r = scan_tpg(l, &s, tpg);
		}
		if (wdir)
			closedir(wdir);
	}
	closedir(dir);
	return r;
}

int tdm_lio_scan(const struct tdm_lio *l, const struct tdm_lio_scan_ops *ops,
		 void *arg)
{
	path_t hba;
	DIR *dir;
	struct dirent *e;
	int r = 0;

	if (!is_dir(l->root))
		return -ENOENT;
	mkpath(hba, "%s/core/user_%d", l->root, TDM_LIO_HBA);
	dir = opendir(hba);
	while (dir && !r && (e = readdir(dir))) {
		char cfg[300];

		if (e->d_name[0] == '.' ||
		    dev_config_of(l, e->d_name, cfg, sizeof(cfg)) != 1)
			continue;
		r = ops->dev ? ops->dev(arg, e->d_name, cfg) : 0;
	}
	if (dir)
		closedir(dir);
	for (unsigned f = 0; !r && f < NFABRICS; f++)
		r = scan_fabric(l, (enum tdm_lio_fabric)f, ops, arg);
	return r;
}
