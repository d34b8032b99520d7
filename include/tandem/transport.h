/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * transport.h - what a transport (iscsi/, later srp/, kernel/) needs from
 * the core, and what the core calls back.
 *
 * Threading: a nexus is bound to one event loop (the one its connection
 * runs on). Every callback for a command or TMF of that nexus runs on that
 * loop's thread.
 */
#ifndef TANDEM_TRANSPORT_H
#define TANDEM_TRANSPORT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tandem/config.h"
#include "lib/buf.h"
#include "lib/loop.h"
#include "tandem/scsi.h"

struct tdm_nexus;

/* SAM-5 7.1: task management functions */
enum tdm_tmf_fn {
	TDM_TMF_ABORT_TASK = 1,
	TDM_TMF_ABORT_TASK_SET,
	TDM_TMF_CLEAR_ACA,
	TDM_TMF_CLEAR_TASK_SET,
	TDM_TMF_LUN_RESET,
	TDM_TMF_TARGET_WARM_RESET,
	TDM_TMF_TARGET_COLD_RESET,
	TDM_TMF_I_T_NEXUS_RESET,
	TDM_TMF_QUERY_TASK,
	TDM_TMF_QUERY_TASK_SET,
	TDM_TMF_QUERY_ASYNC_EVENT,
};

/* SAM-5 7.12: service responses of a TMF */
enum tdm_tmf_resp {
	TDM_TMF_RSP_COMPLETE = 0, /* FUNCTION COMPLETE */
	TDM_TMF_RSP_SUCCEEDED,	  /* FUNCTION SUCCEEDED (QUERY: task exists) */
	TDM_TMF_RSP_TASK_NOT_EXIST, /* (iSCSI answers COMPLETE for ABORT) */
	TDM_TMF_RSP_LUN_NOT_EXIST,  /* INCORRECT LOGICAL UNIT NUMBER */
	TDM_TMF_RSP_NOT_SUPPORTED,
	TDM_TMF_RSP_REJECTED,
};

struct tdm_tmf {
	/* filled by the transport */
	uint8_t fn;	  /* enum tdm_tmf_fn */
	uint64_t lun;	  /* SAM 8-byte LUN, decoded */
	uint64_t ref_tag; /* ABORT TASK / QUERY TASK: the task's tag */
	uint64_t tag;
	struct tdm_nexus *nexus;
	/* set by the core */
	uint8_t response;   /* enum tdm_tmf_resp */
	atomic_int pending; /* private */
};

/* SPC-4 7.8.6: one designator of the device identification VPD page
 * (83h) that names the target port or the target device a nexus is on */
#define TDM_DESIG_ASSOC_PORT 0x1   /* ASSOCIATION 01b: the target port */
#define TDM_DESIG_ASSOC_TARGET 0x2 /* ASSOCIATION 10b: the target device */
#define TDM_DESIG_EUI64 0x2	   /* EUI-64 based (8, 12 or 16 bytes) */
#define TDM_DESIG_NAA 0x3	   /* NAA (8 or 16 bytes) */
#define TDM_DESIG_SCSI_NAME 0x8	   /* SCSI name string (UTF-8) */
#define TDM_DESIG_MAX 251	   /* a SCSI name string, without its null */

struct tdm_designator {
	uint8_t assoc; /* TDM_DESIG_ASSOC_* */
	uint8_t type;  /* TDM_DESIG_EUI64, _NAA (binary), _SCSI_NAME */
	uint8_t len;   /* bytes of id; a SCSI name string without its null
			* (the core terminates and pads it) */
	uint8_t id[TDM_DESIG_MAX];
};

struct tdm_transport_ops {
	const char *name;
	/*
	 * SPC-4 7.6.1, table 444: the PROTOCOL IDENTIFIER of the transport
	 * (enum tdm_proto), of its TransportIDs and port designators;
	 * TDM_PROTO_NONE for a fabric that does not say. Every transport
	 * sets it: 0 is Fibre Channel.
	 */
	uint8_t protocol;
	/*
	 * The initiator port's TransportID (SPC-4 7.6.4) in the protocol's
	 * format: iSCSI format 01b (name ",i,0x" ISID), the 16-byte SRP
	 * initiator port identifier, the FC N_Port name, the SAS address
	 * (tdm_transport_id_iscsi() and tdm_transport_id() build them).
	 * Returns its length (at most cap) or -errno. Called once, by
	 * tdm_nexus_create(). NULL (or a failure): the initiator port is
	 * unknown, and persistent reservations are refused on the nexus.
	 */
	int (*transport_id)(const struct tdm_nexus *nx, uint8_t *buf,
			    size_t cap);
	/*
	 * The designators of the target port the nexus is on and of its
	 * target device (device identification VPD page): iSCSI, the SCSI
	 * name strings "name" and "name,t,0xTPGT" (RFC 7143 13.4); SRP and
	 * FC, the EUI-64 or NAA port identifier. Writes at most max to d,
	 * returns how many. NULL: none (the relative target port and
	 * target port group designators are always there).
	 */
	size_t (*target_port)(const struct tdm_nexus *nx,
			      struct tdm_designator *d, size_t max);
	/* The command needs cmd->data_len bytes of data-out in cmd->buf. */
	void (*write_pending)(struct tdm_cmd *cmd);
	/*
	 * The command ended: send data-in (cmd->buf, cmd->data_len bytes,
	 * clipped by the transport to exp_len with a residual) and
	 * cmd->status / cmd->sense. If tdm_cmd_aborted(cmd), send nothing.
	 * Afterwards (maybe later) call tdm_cmd_release().
	 */
	void (*queue_status)(struct tdm_cmd *cmd);
	/* A TMF aborted a command still in write_pending: stop waiting for
	 * its data and release it. */
	void (*abort_pending)(struct tdm_cmd *cmd);
	void (*queue_tmf_rsp)(struct tdm_tmf *tmf);
	/* Free the transport's command (the last call for a command). */
	void (*free_cmd)(struct tdm_cmd *cmd);
	/* One line describing the nexus' connections for tandemctl. */
	int (*describe)(struct tdm_nexus *nx, char *buf, size_t len);
	/* Ask the transport to close the nexus (tandemctl, target removal). */
	void (*close_nexus)(struct tdm_nexus *nx);
};

/* The printable name of an initiator port: an iSCSI name ",i,0x" and 12
 * hex digits, or "0x" and 32 (SRP) */
#define TDM_PORT_NAME_MAX (TDM_NAME_MAX + 20)

/*
 * What the core knows of an I_T nexus; opaque except for these. The
 * relative target port is the core's (tdm_target_rel_port()): it follows
 * the configuration of the target.
 */
struct tdm_nexus_id {
	/* filled by the transport */
	char initiator[TDM_NAME_MAX]; /* the name initiator groups match:
				       * iSCSI, the initiator name */
	char target[TDM_NAME_MAX];    /* the target (scst.conf TARGET) */
	/* filled by tdm_nexus_create() from ops->transport_id */
	uint8_t tid[TDM_TID_MAX];     /* the initiator port's TransportID */
	uint16_t tid_len;	      /* 0: none */
	char port[TDM_PORT_NAME_MAX]; /* the initiator port, printable (logs,
				       * tandemctl): iSCSI "name,i,0xISID",
				       * others "0x" and hex; without a
				       * TransportID the initiator name */
};

/*
 * Build a TransportID (SPC-4 7.6.4) for ops->transport_id: iSCSI format
 * 01b of an initiator name (at most 223 bytes) and ISID; or, of protocol
 * proto, the binary identifier of an initiator port (TDM_PROTO_SRP: 16
 * bytes; TDM_PROTO_FC, TDM_PROTO_SAS: 8). Returns the length (written
 * if at most cap) or -EINVAL.
 */
int tdm_transport_id_iscsi(uint8_t *buf, size_t cap, const char *name,
			   const uint8_t isid[6]);
int tdm_transport_id(uint8_t *buf, size_t cap, uint8_t proto, const uint8_t *id,
		     size_t len);

/*
 * Create the nexus of a new session (after a successful login) on loop.
 * Resolves the target's LUN map for this initiator and asks the transport
 * for the initiator port's TransportID (if ops->transport_id fails or
 * gives no TransportID of ops->protocol, the nexus has none: it serves,
 * and persistent reservations are refused on it). Returns NULL and -errno
 * in *err if the target does not exist (any more) or is disabled.
 * The new nexus gets a POWER ON/RESET unit attention on every LU.
 */
struct tdm_nexus *tdm_nexus_create(const struct tdm_transport_ops *ops,
				   const struct tdm_nexus_id *id,
				   struct tdm_loop *loop, void *transport_priv,
				   int *err);
/*
 * I_T nexus loss: aborts the nexus' commands (the transport must already
 * have stopped submitting), drops SPC-2 reservations and frees the nexus
 * once its last command has been released. Commands still executing end
 * later with queue_status() (aborted: send nothing) and the transport must
 * keep them (and whatever queue_status touches) alive until it has called
 * tdm_cmd_release() for each; abort_pending() may be called for those
 * waiting for data-out. ops->describe may be called from another thread
 * (tandemctl): it must read only fields that do not change.
 */
void tdm_nexus_destroy(struct tdm_nexus *nx);
void *tdm_nexus_priv(const struct tdm_nexus *nx);
struct tdm_loop *tdm_nexus_loop(const struct tdm_nexus *nx);
const struct tdm_nexus_id *tdm_nexus_get_id(const struct tdm_nexus *nx);

/* Start a TMF; the answer comes through ops->queue_tmf_rsp(). */
void tdm_tmf_submit(struct tdm_tmf *tmf);

/*
 * The running configuration as an immutable, reference-counted snapshot.
 * Transports read targets, CHAP users, portals and iSCSI parameters from
 * it at login and discovery. Never NULL once tandemd has started.
 */
const struct tdm_conf *tdm_conf_current(void);
void tdm_conf_release(const struct tdm_conf *c);

/* Find a target in a snapshot (NULL if none). */
const struct tdm_conf_target *tdm_conf_find_target(const struct tdm_conf *c,
						   const char *name);
/* May this initiator see/log in to this target (initiator groups and,
 * later, access control)? */
bool tdm_target_allows(const struct tdm_conf_target *t, const char *initiator);
/* The relative target port id of the target named name (configured or
 * assigned), 0 if there is none. Unique cluster-wide, so a transport
 * uses it where target ports must differ between heads (the iSCSI
 * target portal group tag). */
uint16_t tdm_target_rel_port(const char *name);

#endif
