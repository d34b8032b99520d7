/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * lio.h - LIO's configfs as kernel/ programs it (private to kernel/).
 *
 * Everything goes through files under one root, normally
 * TDM_LIO_ROOT; the unit tests point it at a directory that holds a
 * recorded layout of the kernel's objects (tests/unit/test_lio.c).
 * Functions return 0 or -errno and, on failure, write one line into err
 * naming the configfs path and what the kernel said (strerror).
 *
 * What is tandem's: the TCMU HBA user_<TDM_LIO_HBA> and the devices in
 * it whose dev_config starts with "tandem/"; fabric WWNs that tandem
 * created (their LUNs link only to tandem's devices). Nothing else is
 * ever changed or removed.
 */
#ifndef TANDEM_KERNEL_LIO_H
#define TANDEM_KERNEL_LIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TDM_LIO_ROOT "/sys/kernel/config/target"
#define TDM_LIO_HBA 7301 /* core/user_7301: tandem's TCMU HBA */
#define TDM_LIO_PATH_MAX 512

enum tdm_lio_fabric {
	TDM_LIO_LOOP, /* "loopback": tcm_loop */
	TDM_LIO_VIO,  /* "ibmvscsis" */
	TDM_LIO_FC,   /* "qla2xxx": tcm_qla2xxx */
};

struct tdm_lio {
	char root[TDM_LIO_PATH_MAX]; /* TDM_LIO_ROOT, or a test directory */
	/* where the UIO devices are listed ("/sys/class/uio") and their
	 * nodes ("/dev"); tests point them elsewhere */
	char uio_class[TDM_LIO_PATH_MAX];
	char dev_dir[TDM_LIO_PATH_MAX];
};

/* Fill l with the real paths. */
void tdm_lio_init(struct tdm_lio *l);

/* One TCMU device: core/user_<TDM_LIO_HBA>/<name> */
struct tdm_lio_dev {
	char name[64];	      /* configfs name: "<lu>.<endpoint>", made by
			       * tdm_lio_dev_name() */
	char config[192];     /* dev_config after "tandem/": the same name */
	uint64_t size;	      /* bytes (dev_size) */
	uint32_t block_size;  /* hw_block_size */
	uint32_t max_sectors; /* hw_max_sectors, in blocks */
	bool write_cache;     /* emulate_write_cache */
	char serial[64];      /* wwn/vpd_unit_serial: the LU's own */
};

/*
 * A device's configfs name from the LU's name and the endpoint's index;
 * names longer than configfs takes are cut and given a hash suffix, so
 * the same inputs always give the same name (a restarted tandemd finds
 * its devices again).
 */
void tdm_lio_dev_name(char *out, size_t len, const char *lu, const char *ep);

/*
 * Create and enable the device: mkdir (the HBA too if needed), control
 * "dev_config=tandem/<config>,dev_size=...,hw_block_size=...,
 * hw_max_sectors=...,nl_reply_supported=-1" (the kernel never waits for
 * a netlink reply on these devices: tandemd writes configfs from the
 * loop that answers netlink), attrib/emulate_write_cache and
 * wwn/vpd_unit_serial (before enable: no reconfiguration message, and
 * the serial cannot change once a LUN exports the device), enable 1,
 * then attrib/emulate_pr 0, attrib/alua_support 0 (ALUA passed through
 * to tandem: kernel/README.md says why). Once
 * enabled the kernel announces it on the TCM-USER netlink family and a
 * /dev/uioN appears. An existing device of the same name and
 * configuration is kept (-EEXIST is not an error: *existed is set).
 */
int tdm_lio_dev_create(const struct tdm_lio *l, const struct tdm_lio_dev *d,
		       bool *existed, char *err, size_t errlen);
/* rmdir the device (after every LUN linking to it is gone); ENOENT is
 * success. The HBA is removed with its last device. */
int tdm_lio_dev_remove(const struct tdm_lio *l, const char *name, char *err,
		       size_t errlen);
/* The UIO node of an enabled device ("/dev/uio3"): the uio class entry
 * whose name is "tcm-user/<hba>/<name>/tandem/<config>". -ENOENT. */
int tdm_lio_dev_uio(const struct tdm_lio *l, const struct tdm_lio_dev *d,
		    char *path, size_t len);
/* action/block_dev 1 or 0; action/reset_ring 1 (fail what is in the
 * ring: the initiator retries) */
int tdm_lio_dev_block(const struct tdm_lio *l, const char *name, bool block,
		      char *err, size_t errlen);
int tdm_lio_dev_reset_ring(const struct tdm_lio *l, const char *name, char *err,
			   size_t errlen);

/* One endpoint: a fabric WWN, its tpgt, and who may reach it */
struct tdm_lio_ep {
	enum tdm_lio_fabric fabric;
	char wwn[64];	/* loopback: "naa.5001405..." (tdm_lio_loop_wwn);
			 * ibmvscsis: the unit address; qla2xxx: the WWPN */
	uint16_t tpgt;	/* 1 */
	char nexus[64]; /* loopback: the initiator port written to
			 * tpgt_N/nexus ("naa...", tdm_lio_loop_nexus);
			 * "" for ibmvscsis (its driver makes the nexus
			 * itself when the client logs in, named after the
			 * adapter) and qla2xxx (one per FC login) */
	bool demo_mode; /* qla2xxx: tpgt_1/attrib/generate_node_acls 1:
			 * every initiator that logs in sees tpgt's LUNs
			 * (read-write); 0: only those of acls/ */
};

/* tcm_loop names: a WWN "naa.5001405" + 9 hex digits derived from the
 * scst_local TARGET name, and the nexus' from its session_name */
void tdm_lio_loop_wwn(char *out, size_t len, const char *target);
void tdm_lio_loop_nexus(char *out, size_t len, const char *session);

/* Create the WWN, its tpgt, the nexus (loopback, ibmvscsis) and enable
 * it; an existing one is kept. */
int tdm_lio_ep_create(const struct tdm_lio *l, const struct tdm_lio_ep *ep,
		      char *err, size_t errlen);
/* tpgt_N/lun/lun_<lun> linked to the device */
int tdm_lio_lun_add(const struct tdm_lio *l, const struct tdm_lio_ep *ep,
		    uint64_t lun, const char *dev_name, char *err,
		    size_t errlen);
int tdm_lio_lun_remove(const struct tdm_lio *l, const struct tdm_lio_ep *ep,
		       uint64_t lun, char *err, size_t errlen);
/* qla2xxx: acls/<initiator>/lun_<mapped> linked to tpgt's lun_<lun>
 * (an initiator of a GROUP and the LUNs the group maps); read_only sets
 * write_protect */
int tdm_lio_acl_add(const struct tdm_lio *l, const struct tdm_lio_ep *ep,
		    const char *initiator, uint64_t mapped, uint64_t lun,
		    bool read_only, char *err, size_t errlen);
int tdm_lio_acl_remove(const struct tdm_lio *l, const struct tdm_lio_ep *ep,
		       const char *initiator, char *err, size_t errlen);
/* remove one mapped LUN of an ACL (the ACL stays); ENOENT is success */
int tdm_lio_acl_unmap(const struct tdm_lio *l, const struct tdm_lio_ep *ep,
		      const char *initiator, uint64_t mapped, char *err,
		      size_t errlen);
/* each ACL of the tpgt with each of its mapped LUNs: fn(arg, initiator,
 * mapped), an ACL without one as mapped UINT64_MAX; stops at fn's
 * nonzero return, which it returns (or -errno) */
int tdm_lio_acl_scan(const struct tdm_lio *l, const struct tdm_lio_ep *ep,
		     int (*fn)(void *arg, const char *initiator,
			       uint64_t mapped),
		     void *arg);
/* Disable and remove the endpoint: its ACLs, LUNs, nexus, tpgt, WWN. */
int tdm_lio_ep_remove(const struct tdm_lio *l, const struct tdm_lio_ep *ep,
		      char *err, size_t errlen);

/*
 * What of tandem's is in the kernel now (after a tandemd that did not
 * stop cleanly, or one that kept them for a restart): each device
 * (name, its uio node if enabled), then each endpoint whose LUNs link to
 * tandem's devices, with those LUNs. The callbacks return 0 to go on.
 */
struct tdm_lio_scan_ops {
	int (*dev)(void *arg, const char *name, const char *config);
	int (*ep)(void *arg, const struct tdm_lio_ep *ep);
	int (*lun)(void *arg, const struct tdm_lio_ep *ep, uint64_t lun,
		   const char *dev_name);
};
int tdm_lio_scan(const struct tdm_lio *l, const struct tdm_lio_scan_ops *ops,
		 void *arg);

/* Is the fabric there: its directory under root exists, or mkdir makes
 * it (the kernel finds the registered fabric, loading tcm_loop itself if
 * needed: target_core_configfs.c target_core_register_fabric)? The
 * directory is the module's registration, not an object of tandem's: it
 * is left in place on teardown. */
bool tdm_lio_fabric_present(const struct tdm_lio *l, enum tdm_lio_fabric f);
const char *tdm_lio_fabric_dir(enum tdm_lio_fabric f);

#endif
