/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * scsi.h - the SCSI command object a transport hands to the core.
 *
 * A transport embeds struct tdm_cmd in its own per-command structure and
 * gets back to it with container_of() in its tdm_transport_ops callbacks.
 *
 * Life of a command (see docs/architecture.md):
 *   transport fills cdb/lun/tag/exp_len/exp_dir/nexus, calls tdm_cmd_submit()
 *   core: LUN lookup -> UA -> (ALUA) -> reservation -> parse
 *     error                -> ops->queue_status()
 *     needs data-out       -> ops->write_pending(); transport fills
 *                             cmd->buf[0..data_len) and calls
 *                             tdm_cmd_execute()
 *     otherwise            -> execute
 *   execute completes (maybe later, on the same thread) -> ops->queue_status()
 *   transport has sent everything -> tdm_cmd_release() -> ops->free_cmd()
 */
#ifndef TANDEM_SCSI_H
#define TANDEM_SCSI_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tandem/backstore.h"
#include "lib/list.h"

#define TDM_CDB_MAX 32
#define TDM_SENSE_MAX 96

#ifndef container_of
#define container_of(ptr, type, member)                                        \
	((type *)(void *)((char *)(ptr)-offsetof(type, member)))
#endif

/*
 * SPC-4 7.6.1, table 444 (PROTOCOL IDENTIFIER values): the SCSI transport
 * protocol of a transport, of its initiator ports' TransportIDs and of its
 * port designators.
 */
enum tdm_proto {
	TDM_PROTO_FC = 0x0,    /* Fibre Channel (FCP) */
	TDM_PROTO_SRP = 0x4,   /* SCSI RDMA Protocol */
	TDM_PROTO_ISCSI = 0x5, /* iSCSI */
	TDM_PROTO_SAS = 0x6,   /* SAS Serial SCSI Protocol */
	TDM_PROTO_NONE =
		0xF, /* no specific protocol: the fabric does not say */
};

/* The longest TransportID (SPC-4 7.6.4.6: iSCSI format 01b, a 223-byte
 * name, ",i,0x", 12 hex digits and a null, padded to a multiple of 4). */
#define TDM_TID_MAX 248

/* SAM-5 5.3.1, table 20: status codes */
enum tdm_scsi_status {
	TDM_STATUS_GOOD = 0x00,
	TDM_STATUS_CHECK_CONDITION = 0x02,
	TDM_STATUS_CONDITION_MET = 0x04,
	TDM_STATUS_BUSY = 0x08,
	TDM_STATUS_RESERVATION_CONFLICT = 0x18,
	TDM_STATUS_TASK_SET_FULL = 0x28,
	TDM_STATUS_ACA_ACTIVE = 0x30,
	TDM_STATUS_TASK_ABORTED = 0x40,
};

enum tdm_data_dir {
	TDM_DIR_NONE = 0,
	TDM_DIR_READ = 1,  /* data-in: target to initiator */
	TDM_DIR_WRITE = 2, /* data-out: initiator to target */
	TDM_DIR_BIDI = 3,
};

/* SAM-5 8.9: task attributes */
enum tdm_task_attr {
	TDM_TASK_SIMPLE = 0,
	TDM_TASK_ORDERED = 1,
	TDM_TASK_HEAD_OF_QUEUE = 2,
	TDM_TASK_ACA = 3,
	TDM_TASK_UNTAGGED = 4,
};

/*
 * Every way a command can end other than GOOD. One table in scsi/sense.c
 * (tdm_sense_table) maps each to status + sense key/ASC/ASCQ.
 */
enum tdm_sense_reason {
	TDM_SR_OK = 0,
	/* non-CHECK CONDITION statuses */
	TDM_SR_RESERVATION_CONFLICT,
	TDM_SR_BUSY,
	TDM_SR_TASK_SET_FULL,
	TDM_SR_TASK_ABORTED,
	/* ILLEGAL REQUEST */
	TDM_SR_INVALID_OPCODE,
	TDM_SR_INVALID_FIELD_IN_CDB,
	TDM_SR_INVALID_FIELD_IN_PARAM_LIST,
	TDM_SR_PARAM_LIST_LENGTH_ERROR,
	TDM_SR_PARAM_VALUE_INVALID,
	TDM_SR_LBA_OUT_OF_RANGE,
	TDM_SR_ILLEGAL_MODE_FOR_TRACK, /* MMC-6: ASC 0x64/0x00 */
	TDM_SR_LUN_NOT_SUPPORTED,
	TDM_SR_SAVING_PARAMS_NOT_SUPPORTED,
	TDM_SR_INVALID_FIELD_IN_IU,	      /* SPC-4 4.5.6: ASC 0x0E/0x03 */
	TDM_SR_INVALID_COMMAND_OP_FOR_DEVICE, /* 0x20/0x00 used for bad SA too
					       */
	TDM_SR_INVALID_RELEASE_OF_PR,
	TDM_SR_INSUFFICIENT_REGISTRATION_RESOURCES,
	TDM_SR_MEDIUM_REMOVAL_PREVENTED,
	TDM_SR_COPY_TARGET_DEVICE_NOT_REACHABLE,
	TDM_SR_TOO_MANY_SEGMENT_DESCRIPTORS,
	TDM_SR_TOO_MANY_TARGET_DESCRIPTORS,
	TDM_SR_UNSUPPORTED_SEGMENT_DESCRIPTOR,
	TDM_SR_UNSUPPORTED_TARGET_DESCRIPTOR,
	/* DATA PROTECT */
	TDM_SR_WRITE_PROTECTED,
	/* NOT READY */
	TDM_SR_NOT_READY_MEDIUM_NOT_PRESENT,
	TDM_SR_NOT_READY_BECOMING_READY,
	TDM_SR_NOT_READY_MANUAL_INTERVENTION,
	TDM_SR_NOT_READY_INIT_REQUIRED,
	TDM_SR_ALUA_TRANSITION,
	TDM_SR_ALUA_STANDBY,
	TDM_SR_ALUA_UNAVAILABLE,
	TDM_SR_ALUA_OFFLINE,
	/* MEDIUM ERROR / HARDWARE ERROR */
	TDM_SR_READ_ERROR,
	TDM_SR_WRITE_ERROR,
	TDM_SR_SPACE_ALLOC_FAILED,
	TDM_SR_HW_ERROR,
	/* MISCOMPARE */
	TDM_SR_MISCOMPARE_VERIFY,
	/* ABORTED COMMAND */
	TDM_SR_ABORTED_NO_RESOURCES,
	TDM_SR_ABORTED_DATA_PHASE_ERROR,   /* iSCSI: unexpected data, CRC */
	TDM_SR_ABORTED_INITIATOR_DETECTED, /* 0x48/0x00 */
	TDM_SR_ABORTED_PROTOCOL_FAILURE,   /* 0x47/0x7F digest error etc */
	/* UNIT ATTENTION (reported through the UA queue, listed here so one
	 * table owns every key/ASC/ASCQ) */
	TDM_SR_UA_POWER_ON_RESET,
	TDM_SR_UA_BUS_RESET,
	TDM_SR_UA_I_T_NEXUS_LOSS,
	TDM_SR_UA_PARAMS_CHANGED,
	TDM_SR_UA_MODE_PARAMS_CHANGED,
	TDM_SR_UA_CAPACITY_CHANGED,
	TDM_SR_UA_REPORTED_LUNS_CHANGED,
	TDM_SR_UA_INQUIRY_DATA_CHANGED,
	TDM_SR_UA_RESERVATIONS_PREEMPTED,
	TDM_SR_UA_RESERVATIONS_RELEASED,
	TDM_SR_UA_REGISTRATIONS_PREEMPTED,
	TDM_SR_UA_ASYMMETRIC_ACCESS_CHANGED,
	TDM_SR_UA_COMMANDS_CLEARED_BY_ANOTHER,
	TDM_SR_UA_MEDIUM_MAY_HAVE_CHANGED,
	TDM_SR_UA_LOG_PARAMS_CHANGED,
	TDM_SR_UA_POWER_ON_OCCURRED, /* 29/01: TARGET COLD RESET */
	TDM__SR_COUNT
};

/* Optional details that go into the sense data of the reason above. */
struct tdm_sense_info {
	bool info_valid;    /* fill the INFORMATION field */
	uint64_t info;	    /* LBA, miscompare offset, ... */
	bool sks_valid;	    /* sense key specific: field pointer */
	bool sks_cd;	    /* C/D: 1 = error in CDB, 0 = in parameter data */
	int8_t sks_bit;	    /* bit pointer, -1 when not valid */
	uint16_t sks_field; /* byte of the CDB / parameter list */
};

/* The I_T nexus as the core sees it; created with tdm_nexus_create(). */
struct tdm_nexus;
struct tdm_lu;
struct tdm_transport_ops;

/* Command states (enum with a name table beside it, scsi/cmd.c). */
enum tdm_cmd_state {
	TDM_CMD_NEW = 0,
	TDM_CMD_WRITE_PENDING, /* waiting for the transport's data-out */
	TDM_CMD_EXEC,	       /* handler/backstore running */
	TDM_CMD_DONE,	       /* status queued to the transport */
	TDM_CMD_FREED,
	TDM__CMD_STATE_COUNT
};

struct tdm__iostats;

struct tdm_cmd {
	/* ---- filled in by the transport before tdm_cmd_submit() ---- */
	uint8_t cdb[TDM_CDB_MAX];
	uint8_t cdb_len;
	uint8_t task_attr; /* enum tdm_task_attr */
	uint64_t lun;	   /* the 8-byte SAM LUN field, big-endian decoded */
	uint64_t tag;	   /* transport's task tag (ITT for iSCSI) */
	uint32_t exp_len;  /* expected data transfer length of the transport */
	uint8_t exp_dir;   /* enum tdm_data_dir the transport announced */
	struct tdm_nexus *nexus;

	/* ---- set by the core ---- */
	uint8_t dir;	   /* enum tdm_data_dir of the command (parse) */
	uint32_t data_len; /* bytes the command moves: data-out it needs, or
			    * data-in it produced (already clipped to the
			    * allocation length) */
	uint8_t *buf;	   /* data buffer (aligned, buf_cap bytes) */
	uint32_t buf_cap;
	uint8_t status; /* enum tdm_scsi_status */
	uint8_t sense_len;
	uint8_t sense[TDM_SENSE_MAX];

	/* ---- core private ---- */
	uint8_t state;	    /* enum tdm_cmd_state */
	atomic_uint aflags; /* TDM__CMD_F_* */
	struct tdm_lu *lu;
	uint16_t lun_flags; /* mapping flags (read-only mapping) */
	bool sense_set;	    /* sense already built with details */
	const struct tdm_opdesc *op;
	uint64_t lba;	    /* parsed LBA */
	uint32_t nblocks;   /* parsed transfer length in blocks */
	uint32_t alloc_len; /* parsed allocation length (data-in) */
	uint32_t flags;	    /* parsed CDB bits: TDM_CF_* */
	void *priv;	    /* handler/backstore scratch */
	uint64_t start_ns;
	/* the receiving port's metrics counters, from submit to completion
	 * (scsi/io_stats.c) */
	struct tdm__iostats *port_iost;
	struct tdm_list lu_link; /* on lu->cmds while TDM_CMD_EXEC */
	struct tdm_tmf *tmf;	 /* TMF waiting for this command */
	/* internal chaining: called instead of completing the command when
	 * a backstore request started by tdm__bs_io() ends */
	void (*exec_done)(struct tdm_cmd *cmd, int sr);
	struct tdm_bs_io bsio; /* the command's backstore request */
	uint8_t *buf2;	       /* second buffer (VERIFY BYTCHK, CAW) */
	uint32_t buf2_cap;
};

/* parsed CDB bits */
#define TDM_CF_FUA (1u << 0)
#define TDM_CF_DPO (1u << 1)
#define TDM_CF_BYTCHK (1u << 2)
#define TDM_CF_IMMED (1u << 3)

/* aflags (atomic, may be set from another thread by a TMF) */
#define TDM__CMD_F_ABORTED (1u << 0)
#define TDM__CMD_F_TAS (1u << 1) /* report TASK ABORTED instead of silence */

/* ---- core API for transports ---- */

/* Submit a command. Completion comes through ops->queue_status(). */
void tdm_cmd_submit(struct tdm_cmd *cmd);
/* Data-out arrived (cmd->buf[0..data_len) filled): run the command. */
void tdm_cmd_execute(struct tdm_cmd *cmd);
/*
 * The transport could not get the data (connection lost, data digest
 * error, ...): end the command with the reason, calls queue_status().
 */
void tdm_cmd_fail(struct tdm_cmd *cmd, enum tdm_sense_reason sr);
/* The transport has sent the status (or gave up): free everything. */
void tdm_cmd_release(struct tdm_cmd *cmd);
/*
 * In write_pending: the initiator will send only len bytes, fewer than
 * cmd->data_len (iSCSI EDTL below the CDB's transfer length). A plain
 * WRITE or WRITE AND VERIFY of whole blocks is shortened to them (the
 * transport reports the overflow residual); returns 0, or -EINVAL when
 * the command cannot run shortened and must fail.
 */
int tdm_cmd_shorten_write(struct tdm_cmd *cmd, uint32_t len);
/* True once a TMF aborted the command; the transport then sends nothing. */
bool tdm_cmd_aborted(const struct tdm_cmd *cmd);
/*
 * The 8-byte SAM LUN field (SAM-5 4.7, as tdm_cmd.lun and tdm_tmf.lun
 * hold it) of LUN number lun (at most 16383): peripheral device
 * addressing below 256, flat space addressing above. For a transport
 * that knows a LUN by its number (kernel/: LIO's lun_N).
 */
uint64_t tdm_lun_encode(uint64_t lun);

/* Fill cmd->status/sense from a reason (used by the core and transports). */
void tdm_cmd_set_sense(struct tdm_cmd *cmd, enum tdm_sense_reason sr,
		       const struct tdm_sense_info *info);

/* ---- small big-endian helpers used everywhere ---- */
static inline uint16_t tdm_get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}
static inline uint32_t tdm_get_be24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}
static inline uint32_t tdm_get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}
static inline uint64_t tdm_get_be64(const uint8_t *p)
{
	return (uint64_t)tdm_get_be32(p) << 32 | tdm_get_be32(p + 4);
}
static inline void tdm_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}
static inline void tdm_put_be24(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 16);
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)v;
}
static inline void tdm_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}
static inline void tdm_put_be64(uint8_t *p, uint64_t v)
{
	tdm_put_be32(p, (uint32_t)(v >> 32));
	tdm_put_be32(p + 4, (uint32_t)v);
}

#endif
