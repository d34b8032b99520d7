/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * config.h - the configuration model read from and written to scst.conf
 * syntax (conf/: conf_parse.c, conf_write.c) and applied by tandemd
 * (targetd/apply.c). Plain data: no pointers into the running state.
 */
#ifndef TANDEM_CONFIG_H
#define TANDEM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TDM_NAME_MAX 224 /* iSCSI names are at most 223 bytes */
#define TDM_SECRET_MAX 256

enum tdm_handler {
	TDM_HANDLER_FILEIO = 0, /* vdisk_fileio */
	TDM_HANDLER_BLOCKIO,	/* vdisk_blockio */
	TDM_HANDLER_NULLIO,	/* vdisk_nullio */
	TDM_HANDLER_RAM,	/* tandem's ram */
	TDM_HANDLER_CDROM,	/* vcdrom (or vdisk_cdrom): read-only MMC
				 * CD/DVD-ROM */
	TDM_HANDLER_RBD,	/* vdisk_rbd: a Ceph RBD image (librbd) */
	TDM__HANDLER_COUNT
};

struct tdm_conf_device {
	char name[64];
	enum tdm_handler handler;
	int line; /* where it was defined, for messages */
	char filename[4096];
	uint64_t size;		 /* bytes; 0 = size of the file / device */
	uint32_t blocksize;	 /* 512 or 4096 */
	uint32_t phys_blocksize; /* 0: one logical block per physical block;
				  * else blocksize << n, n in 1..15 */
	bool read_only;
	bool nv_cache;	    /* SCST: cache is non-volatile: SYNC CACHE and FUA
			     * complete at once, WCE=0 reported */
	bool write_through; /* SCST: open O_SYNC, report WCE=0 */
	bool o_direct;	    /* fileio: O_DIRECT */
	bool thin_provisioned;
	bool rotational;
	bool removable;
	bool deferred_open;   /* fileio/blockio: the backing is opened only
			       * while this head's port group for the LU is
			       * active (DRBD single-primary; scsi/backing.c) */
	char t10_vend_id[9];  /* 8 chars INQUIRY vendor */
	char prod_id[17];     /* 16 chars */
	char prod_rev_lvl[5]; /* 4 chars */
	char t10_dev_id[64];  /* T10 vendor id designator's vendor specific */
	char usn[64];	      /* unit serial number (VPD 0x80) */
	char naa_id[40];      /* hex, 16 or 32 digits; "" = derived */
	char eui64_id[40];    /* hex, 16/24/32 digits; "" = none */
	unsigned set_mask;    /* which optional attributes were given */
	/* vdisk_rbd (backstores/rbd.c) */
	char rbd_pool[128];	/* pool */
	char rbd_image[128];	/* image */
	char ceph_conf[256];	/* ceph_conf, default /etc/ceph/ceph.conf */
	char ceph_id[64];	/* ceph_id: client.<ceph_id>, default admin */
	char ceph_keyring[256]; /* ceph_keyring: "" = ceph_conf's keyring */
	uint32_t rbd_timeout;	/* rbd_timeout: seconds, default 30 */
};

#define TDM_RBD_DEFAULT_CONF "/etc/ceph/ceph.conf"
#define TDM_RBD_DEFAULT_ID "admin"
#define TDM_RBD_DEFAULT_TIMEOUT 30

/* set_mask bits: attributes written back only when given */
#define TDM_DA_SIZE (1u << 0)
#define TDM_DA_BLOCKSIZE (1u << 1)
#define TDM_DA_T10_DEV_ID (1u << 2)
#define TDM_DA_USN (1u << 3)
#define TDM_DA_NAA_ID (1u << 4)
#define TDM_DA_EUI64_ID (1u << 5)
#define TDM_DA_PROD_ID (1u << 6)
#define TDM_DA_VEND_ID (1u << 7)
#define TDM_DA_PROD_REV (1u << 8)
#define TDM_DA_ROTATIONAL (1u << 9)
#define TDM_DA_PHYS_BLOCKSIZE (1u << 10)

#define TDM_LUN_MAX 16383 /* flat space addressing: 14 bits (SAM-5) */

struct tdm_conf_lun {
	uint64_t lun; /* 0..TDM_LUN_MAX */
	char device[64];
	bool read_only;
	int line;
};

struct tdm_conf_user {
	char name[TDM_NAME_MAX];
	char secret[TDM_SECRET_MAX];
};

struct tdm_conf_group {
	char name[64];
	int line;
	struct tdm_conf_lun *luns;
	size_t nluns;
	char (*initiators)[TDM_NAME_MAX]; /* patterns: *, ?, leading ! */
	size_t ninitiators;
	struct tdm_conf_user *in_users; /* per-group CHAP (optional) */
	size_t nin_users;
};

/* RFC 7143 operational keys a target may override (0 = default). */
struct tdm_conf_iscsi_params {
	int header_digest; /* -1 default, 0 None only, 1 CRC32C only, 2 both */
	int data_digest;
	int initial_r2t; /* -1 default, 0/1 */
	int immediate_data;
	uint32_t max_recv_data_segment_length;
	uint32_t max_xmit_data_segment_length;
	uint32_t max_burst_length;
	uint32_t first_burst_length;
	uint32_t max_outstanding_r2t;
	uint32_t queued_commands;
	uint32_t nop_in_interval; /* seconds, 0 = default */
	uint32_t nop_in_timeout;  /* seconds, 0 = default */
	uint32_t rsp_timeout;	  /* seconds, 0 = default */
	bool nop_in_disabled;	  /* "NopInInterval 0" given: send no NOP-In */
};

/* The TARGET_DRIVER a TARGET is under */
enum tdm_target_driver {
	TDM_DRV_ISCSI = 0, /* TARGET_DRIVER iscsi */
	TDM_DRV_SRP,	   /* TARGET_DRIVER ib_srpt (srp/) */
	/* the kernel's fabrics, served through TCMU (kernel/, docs/kernel.md)
	 */
	TDM_DRV_LOCAL, /* TARGET_DRIVER scst_local: LIO tcm_loop */
	TDM_DRV_VIO,   /* TARGET_DRIVER ibmvstgt (alias ibmvscsis): LIO
			* ibmvscsis, a PowerVM virtual SCSI server adapter */
	TDM_DRV_FC,    /* TARGET_DRIVER qla2x00t: LIO tcm_qla2xxx */
};

struct tdm_conf_target {
	char name[TDM_NAME_MAX];
	int line;
	bool enabled;
	uint16_t rel_tgt_id;   /* 0 = assigned automatically */
	bool refuse_unmatched; /* an initiator no GROUP names: no login,
				* not shown by SendTargets */
	struct tdm_conf_user *in_users; /* IncomingUser */
	size_t nin_users;
	struct tdm_conf_user out_user; /* OutgoingUser (mutual CHAP) */
	bool has_out_user;
	char (*allowed_portals)[64];
	size_t nallowed_portals;
	struct tdm_conf_lun *luns; /* default LUNs */
	size_t nluns;
	struct tdm_conf_group *groups;
	size_t ngroups;
	struct tdm_conf_iscsi_params params;
	/* ---- appended ---- */
	uint8_t driver; /* enum tdm_target_driver */
	/* TARGET_DRIVER scst_local: session_name, the initiator name of
	 * the target's one session (tcm_loop's nexus); the one name its
	 * GROUPs match. "" = the default (TDM_LOCAL_DEF_SESSION) */
	char session_name[TDM_NAME_MAX];
};

/*
 * The kernel fabrics' TARGET names:
 * - scst_local: a word, as SCST allows (the tcm_loop WWN is derived from
 *   it: kernel/README.md);
 * - ibmvstgt: the server adapter's unit address, 1 to 8 hex digits as
 *   the kernel names the device ("30000003"); kept lowercase, without
 *   leading "0x" or zeros;
 * - qla2x00t: the HBA port's WWPN, 8 bytes as "21:00:00:24:ff:31:4c:48"
 *   or "0x2100002..." (16 hex digits); kept in the colon form, lowercase.
 *   GROUPs of a qla2x00t TARGET name initiator WWPNs the same way.
 */
#define TDM_LOCAL_DEF_SESSION "scst_local_host"
/* A scst_local target's session_name, TDM_LOCAL_DEF_SESSION when not
 * given: the initiator name its GROUPs match */
const char *tdm_conf_session_name(const struct tdm_conf_target *t);
#define TDM_FC_NAME_LEN 23
/*
 * The kept forms, written into out; 0, or -EINVAL when in is not such a
 * name (out untouched). tdm_vio_target_name(): "0x" optional, either
 * case, 1 to 8 hex digits; kept as the kernel's vio bus names the
 * adapter ("%x": lowercase, no leading zeros, "0x0003" -> "3"); out
 * holds at least TDM_VIO_NAME_LEN + 1 bytes. tdm_fc_port_name(): 8
 * groups of 2 hex digits separated by ':' or "0x" and 16 hex digits,
 * either case; kept as tcm_qla2xxx formats a WWPN
 * ("21:00:00:24:ff:31:4c:48"); out holds TDM_FC_NAME_LEN + 1 bytes.
 */
#define TDM_VIO_NAME_LEN 8
int tdm_vio_target_name(const char *in, char *out, size_t outlen);
int tdm_fc_port_name(const char *in, char *out, size_t outlen);

/*
 * TARGET_DRIVER scst_local, ibmvstgt and qla2x00t: the one attribute of
 * the driver itself, enabled. SCST has no such switch for them, so it
 * is on unless "enabled 0" is given (their TARGETs too are enabled
 * unless they say "enabled 0"). kdrv[drv - TDM_DRV_LOCAL].
 */
#define TDM_KDRV_COUNT 3 /* TDM_DRV_LOCAL, TDM_DRV_VIO, TDM_DRV_FC */
struct tdm_conf_kdrv {
	bool disabled;	 /* "enabled 0": none of its targets is served */
	int driver_line; /* where its TARGET_DRIVER was, 0 none */
};

/*
 * TARGET_DRIVER ib_srpt: the SRP target (srp/) over RDMA/CM. Its TARGETs
 * are named like SCST's, by the port GID of the RDMA port a login
 * arrives on ("fe80:0000:0000:0000:0002:c903:00f7:8ff1").
 * The attribute names are SCST's (ib_srpt module parameters).
 */
#define TDM_SRP_DEF_PORT 5555	 /* RDMA/CM port when none given */
#define TDM_SRP_DEF_MAX_REQ 8272 /* srp_max_req_size (LIO's) */
#define TDM_SRP_MIN_MAX_REQ 996	 /* LIO's floor */
#define TDM_SRP_MAX_MAX_REQ 65536
#define TDM_SRP_DEF_MAX_RSP 256 /* srp_max_rsp_size */
#define TDM_SRP_MIN_MAX_RSP 40	/* an SRP_RSP header (36) + 4 */
#define TDM_SRP_MAX_MAX_RSP 1024
#define TDM_SRP_DEF_SQ 4096 /* srp_sq_size */
#define TDM_SRP_MIN_SQ 16
#define TDM_SRP_MAX_SQ 65536

struct tdm_conf_srp {
	bool enabled;	     /* TARGET_DRIVER ib_srpt { enabled 1 } */
	char (*portals)[80]; /* RDMA/CM listen "addr[:port]"; none =
			      * 0.0.0.0:TDM_SRP_DEF_PORT */
	size_t nportals;
	uint32_t max_req_size; /* srp_max_req_size; 0 = default */
	uint32_t max_rsp_size; /* srp_max_rsp_size; 0 = default */
	uint32_t sq_size;      /* srp_sq_size; 0 = default */
	int driver_line;       /* where TARGET_DRIVER ib_srpt was, 0 none */
};

/* ---- ALUA (alua/): SCST DEVICE_GROUP / TARGET_GROUP blocks ---- */

/* A TARGET of a TARGET_GROUP: a local target, or (with rel_tgt_id) a
 * port of another head. */
struct tdm_conf_tg_port {
	char name[TDM_NAME_MAX];
	uint16_t rel_tgt_id; /* 0 = the local target's own */
	int line;
};

struct tdm_conf_tgrp {
	char name[64];
	int line;
	uint16_t group_id; /* 1..65535 */
	bool preferred;
	uint8_t state; /* SPC-4 asymmetric access state (alua/alua.h) */
	struct tdm_conf_tg_port *ports;
	size_t nports;
};

struct tdm_conf_dg_dev {
	char name[64];
	int line;
};

struct tdm_conf_dgrp {
	char name[64];
	int line;
	struct tdm_conf_dg_dev *devices;
	size_t ndevices;
	struct tdm_conf_tgrp *tgrps;
	size_t ntgrps;
};

struct tdm_conf {
	struct tdm_conf_device *devices;
	size_t ndevices;
	bool iscsi_enabled;
	char (*portals)[80]; /* listen addresses "addr[:port]"; none = all */
	size_t nportals;
	struct tdm_conf_user
		*discovery_in_users; /* TARGET_DRIVER IncomingUser */
	size_t ndiscovery_in_users;
	struct tdm_conf_user discovery_out_user;
	bool has_discovery_out_user;
	struct tdm_conf_target *targets;
	size_t ntargets;
	struct tdm_conf_iscsi_params params; /* driver-wide defaults */
	/* where the text came from (file name), for "file:line:" messages
	 * of errors found when applying it; set by whoever parsed it */
	char source[256];
	/* ---- ALUA device groups (alua/README.md; appended) ---- */
	struct tdm_conf_dgrp *dgrps;
	size_t ndgrps;
	/* TARGET_DRIVER iscsi max_pending_logins: connections accepted and
	 * not in full feature phase yet, all portals together; 0 = the
	 * default (iscsi/portal.c) */
	uint32_t max_pending_logins;
	/* TARGET_DRIVER ib_srpt (appended) */
	struct tdm_conf_srp srp;
	/* TARGET_DRIVER scst_local, ibmvstgt, qla2x00t (appended) */
	struct tdm_conf_kdrv kdrv[TDM_KDRV_COUNT];
	/* metrics_listen (appended; node-local): "a.b.c.d:port" or
	 * "[v6]:port" where tandemd serves metrics, "" = off */
	char metrics_listen[80];
};

/*
 * Parse scst.conf text. On error returns -EINVAL and writes
 * "file:line: problem" into err. name is used in messages only.
 */
int tdm_conf_parse(const char *text, size_t len, const char *name,
		   struct tdm_conf *out, char *err, size_t errlen);
int tdm_conf_parse_file(const char *path, struct tdm_conf *out, char *err,
			size_t errlen);
/* Check cross references (LUN -> device, duplicate LUNs, ...). */
int tdm_conf_validate(const struct tdm_conf *c, const char *name, char *err,
		      size_t errlen);
/* Write c as scst.conf text into a malloc'ed string (*out, *outlen). */
int tdm_conf_write(const struct tdm_conf *c, char **out, size_t *outlen);
/* ... with, after the state of each TARGET_GROUP, the comment note
 * writes into buf (nothing when it leaves buf empty; one line): what
 * runs now when it differs from the configuration. */
typedef void (*tdm_conf_tgrp_note_fn)(void *arg, const struct tdm_conf_dgrp *d,
				      const struct tdm_conf_tgrp *t, char *buf,
				      size_t len);
int tdm_conf_write_noted(const struct tdm_conf *c, tdm_conf_tgrp_note_fn note,
			 void *arg, char **out, size_t *outlen);
void tdm_conf_free(struct tdm_conf *c);
void tdm_conf_init(struct tdm_conf *c);
/* Deep copy. */
int tdm_conf_dup(const struct tdm_conf *src, struct tdm_conf *dst);

/* A handler's name, as written (SCST's: vdisk_fileio, ..., vcdrom). */
const char *tdm_handler_name(enum tdm_handler h);
/* The handler a name or an older alias (vdisk_cdrom) names; -ENOENT. */
int tdm_handler_from_name(const char *name, enum tdm_handler *h);
/* Does name (or an alias) name handler h? */
bool tdm_handler_is(enum tdm_handler h, const char *name);

/* SCST-style wildcard match: '*', '?'; a leading '!' negates. */
bool tdm_wildcard_match(const char *pattern, const char *name);

/* Added by conf/conf_util.c: */
/* Every field equal except the line numbers (tests, round trips). */
bool tdm_conf_equal(const struct tdm_conf *a, const struct tdm_conf *b);
/* All keys "not given" (digests and Yes/No keys -1, numbers 0). */
void tdm_conf_params_init(struct tdm_conf_iscsi_params *p);
/* Zero d and set handler h's defaults (blocksize 512, rotational as
 * SCST: 1, but 0 for ram). */
void tdm_conf_device_init(struct tdm_conf_device *d, enum tdm_handler h);
/*
 * The GROUP of t whose LUNs initiator sees, NULL for the target's default
 * LUNs. Groups are tried in order; a group takes an initiator that matches
 * one of its patterns without '!' and none of those with '!'.
 */
const struct tdm_conf_group *
tdm_conf_match_group(const struct tdm_conf_target *t, const char *initiator);

/*
 * An ib_srpt TARGET name: a port GID as 8 groups of 4 hex digits separated
 * by ':' (SCST's form), or "0x" and 32 hex digits; either case. Written
 * into out (at least TDM_SRP_NAME_LEN + 1 bytes) in the one form the
 * configuration keeps: the colon form, lowercase. 0, or -EINVAL when in
 * is neither form (out untouched).
 */
#define TDM_SRP_NAME_LEN 39
int tdm_srp_target_name(const char *in, char *out, size_t outlen);
/* A target driver's name as TARGET_DRIVER says it ("iscsi", "ib_srpt",
 * "scst_local", "ibmvstgt", "qla2x00t"), "unknown" for none; and back
 * (-ENOENT), where "ibmvscsis" (LIO's name) is read as ibmvstgt. */
const char *tdm_target_driver_name(unsigned drv);
int tdm_target_driver_from_name(const char *name, enum tdm_target_driver *drv);
/* Is TARGET_DRIVER drv enabled (iscsi_enabled, srp.enabled, or not
 * kdrv[].disabled)? false for an unknown drv. */
bool tdm_conf_driver_enabled(const struct tdm_conf *c, unsigned drv);
/* Is drv one of the kernel's fabrics (TDM_DRV_LOCAL .. TDM_DRV_FC)? */
#define TDM_DRV_IS_KERNEL(drv) ((drv) >= TDM_DRV_LOCAL && (drv) <= TDM_DRV_FC)

#endif
