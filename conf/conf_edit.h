/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * conf_edit.h - edits of a struct tdm_conf, the way tandemctl makes them
 * (open/close a device, add/remove a target, a LUN, a group, an initiator
 * pattern, set attributes).
 *
 * Every edit that adds or changes a value is made on the configuration's
 * scst.conf text (tdm_conf_write) and parsed back with tdm_conf_parse, so
 * a value is accepted here exactly when the parser accepts it in a file,
 * with the parser's message when not. Removals work on the structure.
 *
 * Each function returns 0, or -errno with a message in err (no file:line,
 * the edit has none); on error c is unchanged. Errors: -ENOENT (no such
 * device, target, group, LUN, pattern or attribute value), -EEXIST
 * (already there), -EBUSY (a device still used by a LUN), -EINVAL (a value
 * the parser refuses, an unknown handler or attribute), -ENOMEM.
 */
#ifndef TANDEM_CTL_CONF_EDIT_H
#define TANDEM_CTL_CONF_EDIT_H

#include <stddef.h>
#include <stdint.h>

#include "tandem/config.h"

struct tdm_attr {
	char *key;
	char *value; /* "" = none: SET resets it, REMOVE removes every value */
};

struct tdm_attrs {
	struct tdm_attr *v;
	size_t n;
};

/*
 * Parse scstadmin's -attributes "key=value,key=value". A piece without
 * '=' continues the previous value ("HeaderDigest=CRC32C,None"); "\,"
 * is a literal comma and "\\" a backslash. Blanks around keys and values
 * are dropped (a value keeps its inner blanks: "IncomingUser=joe secret").
 */
int tdm_attrs_parse(const char *s, struct tdm_attrs *out, char *err,
		    size_t errlen);
void tdm_attrs_free(struct tdm_attrs *a);

enum tdm_edit_mode {
	TDM_EDIT_SET,	 /* replace every value of each key */
	TDM_EDIT_ADD,	 /* add a value (IncomingUser, portal, ...) */
	TDM_EDIT_REMOVE, /* remove one value (users: by user name) */
};

/* Devices: handler is a name ("vdisk_fileio", ... "ram"). */
int tdm_edit_add_device(struct tdm_conf *c, const char *name,
			const char *handler, const struct tdm_attrs *a,
			char *err, size_t errlen);
/* handler NULL: any; else it must be the device's handler. */
int tdm_edit_rem_device(struct tdm_conf *c, const char *name,
			const char *handler, char *err, size_t errlen);
int tdm_edit_dev_attr(struct tdm_conf *c, const char *name,
		      const struct tdm_attrs *a, char *err, size_t errlen);

/* A target driver's attributes (TARGET_DRIVER iscsi, ib_srpt, or the
 * kernel fabrics' scst_local, ibmvstgt, qla2x00t: enabled only). */
int tdm_edit_drv_attr(struct tdm_conf *c, enum tdm_target_driver drv,
		      enum tdm_edit_mode mode, const struct tdm_attrs *a,
		      char *err, size_t errlen);

/* Targets; a new target is disabled unless a has enabled=1 (SCST),
 * except a kernel fabric's (scst_local, ibmvstgt, qla2x00t), which is
 * enabled unless a has enabled=0 (as the parser reads its TARGET). The
 * edits of a target find it under its own driver; a target (-target) is
 * named as its TARGET is, or, for an ib_srpt, ibmvstgt or qla2x00t one,
 * by its port GID, unit address or WWPN in any form the parser reads
 * (tdm_edit_find_target). */
int tdm_edit_add_target(struct tdm_conf *c, enum tdm_target_driver drv,
			const char *name, const struct tdm_attrs *a, char *err,
			size_t errlen);
int tdm_edit_rem_target(struct tdm_conf *c, const char *name, char *err,
			size_t errlen);
int tdm_edit_tgt_attr(struct tdm_conf *c, const char *target,
		      enum tdm_edit_mode mode, const struct tdm_attrs *a,
		      char *err, size_t errlen);

/* LUNs: group NULL for the target's default LUNs; a may hold
 * read_only=0|1. */
int tdm_edit_add_lun(struct tdm_conf *c, const char *target, const char *group,
		     uint64_t lun, const char *device,
		     const struct tdm_attrs *a, char *err, size_t errlen);
int tdm_edit_rem_lun(struct tdm_conf *c, const char *target, const char *group,
		     uint64_t lun, char *err, size_t errlen);

/* Initiator groups and their patterns. */
int tdm_edit_add_group(struct tdm_conf *c, const char *target,
		       const char *group, char *err, size_t errlen);
int tdm_edit_rem_group(struct tdm_conf *c, const char *target,
		       const char *group, char *err, size_t errlen);
int tdm_edit_grp_attr(struct tdm_conf *c, const char *target, const char *group,
		      enum tdm_edit_mode mode, const struct tdm_attrs *a,
		      char *err, size_t errlen);
int tdm_edit_add_init(struct tdm_conf *c, const char *target, const char *group,
		      const char *pattern, char *err, size_t errlen);
int tdm_edit_rem_init(struct tdm_conf *c, const char *target, const char *group,
		      const char *pattern, char *err, size_t errlen);

/* Lookups (NULL when absent). */
struct tdm_conf_device *tdm_edit_find_device(const struct tdm_conf *c,
					     const char *name);
struct tdm_conf_target *tdm_edit_find_target(const struct tdm_conf *c,
					     const char *name);
struct tdm_conf_group *tdm_edit_find_group(const struct tdm_conf_target *t,
					   const char *name);

/* ALUA (alua/): a TARGET_GROUP of a DEVICE_GROUP, and its attributes
 * state=<SCST state name> and preferred=0|1 (scstadmin -set_tgrp_attr). */
struct tdm_conf_tgrp *tdm_edit_find_tgrp(const struct tdm_conf *c,
					 const char *dgrp, const char *tgrp);
int tdm_edit_tgrp_attr(struct tdm_conf *c, const char *dgrp, const char *tgrp,
		       const struct tdm_attrs *a, char *err, size_t errlen);

#endif
