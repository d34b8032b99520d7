/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pr.h - SPC-4 persistent reservations as a pure, deterministic state
 * machine (SPC-4 5.13, 6.15 PERSISTENT RESERVE IN, 6.16 PERSISTENT RESERVE
 * OUT).
 *
 *   tdm_pr_apply(state, operation, nexus, ports) -> (result, new state,
 *                                                   unit attentions, aborts)
 *
 * No I/O, no clock, no globals: the same operations applied in the same
 * order to the same state give byte-identical states (tdm_pr_encode()) on
 * every head of a cluster. A failed operation (any result but TDM_SR_OK)
 * leaves the state untouched; memory is reserved before anything changes.
 *
 * An I_T nexus is named cluster-wide by its initiator TransportID and the
 * relative target port identifier of its target port.
 */
#ifndef TANDEM_PR_H
#define TANDEM_PR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tandem/scsi.h"

/* SPC-4 7.6.4.6: iSCSI TransportID format codes */
#define TDM_PR_TID_FMT_NAME 0x0	     /* 00b: iSCSI name (initiator device) */
#define TDM_PR_TID_FMT_NAME_ISID 0x1 /* 01b: name ",i,0x" ISID (port) */

#define TDM_PR_NAME_MAX 223 /* RFC 7143 4.2.7.1: iSCSI names */

/* SPC-4 6.16.1, table 216: PERSISTENT RESERVE OUT service actions */
enum tdm_pr_sa {
	TDM_PR_REGISTER = 0x00,
	TDM_PR_RESERVE = 0x01,
	TDM_PR_RELEASE = 0x02,
	TDM_PR_CLEAR = 0x03,
	TDM_PR_PREEMPT = 0x04,
	TDM_PR_PREEMPT_AND_ABORT = 0x05,
	TDM_PR_REGISTER_AND_IGNORE = 0x06,
	TDM_PR_REGISTER_AND_MOVE = 0x07,
};

/* SPC-4 6.15.1, table 204: PERSISTENT RESERVE IN service actions */
enum tdm_pr_in_sa {
	TDM_PR_READ_KEYS = 0x00,
	TDM_PR_READ_RESERVATION = 0x01,
	TDM_PR_REPORT_CAPABILITIES = 0x02,
	TDM_PR_READ_FULL_STATUS = 0x03,
};

/* SPC-4 6.16.2, table 218: persistent reservation types */
enum tdm_pr_type {
	TDM_PR_TYPE_NONE = 0x0,
	TDM_PR_WE = 0x1,    /* Write Exclusive */
	TDM_PR_EA = 0x3,    /* Exclusive Access */
	TDM_PR_WE_RO = 0x5, /* Write Exclusive - Registrants Only */
	TDM_PR_EA_RO = 0x6, /* Exclusive Access - Registrants Only */
	TDM_PR_WE_AR = 0x7, /* Write Exclusive - All Registrants */
	TDM_PR_EA_AR = 0x8, /* Exclusive Access - All Registrants */
};

/* SPC-4 6.16.2, table 217: the only scope left */
#define TDM_PR_SCOPE_LU 0x0

/* tdm_pr_op.flags */
#define TDM_PR_F_APTPL (1u << 0)     /* SPC-4 6.16.3 byte 20 bit 0 */
#define TDM_PR_F_ALL_TG_PT (1u << 2) /* byte 20 bit 2 */
#define TDM_PR_F_SPEC_I_PT (1u << 3) /* byte 20 bit 3 */
#define TDM_PR_F_UNREG (1u << 4)     /* REGISTER AND MOVE: 6.16.4 byte 17 */

/* An initiator port (or, iSCSI format 00b, an initiator device). */
struct tdm_pr_tid {
	uint8_t proto; /* enum tdm_proto (tandem/scsi.h): FC, SRP, iSCSI, SAS */
	uint8_t fmt;   /* TDM_PR_TID_FMT_* (0 except iSCSI 01b) */
	uint16_t len;  /* bytes used in id[] */
	uint8_t isid[6];		 /* iSCSI format 01b */
	uint8_t id[TDM_PR_NAME_MAX + 1]; /* iSCSI name (no NUL), FC/SAS 8
					  * bytes, SRP 16 bytes */
};

/* What names an I_T nexus cluster-wide. */
struct tdm_pr_nexus {
	struct tdm_pr_tid tid; /* iSCSI: always format 01b (name + ISID) */
	uint16_t rel_port;     /* relative target port identifier */
};

/* Every target port of the SCSI target device (all heads): ALL_TG_PT. */
struct tdm_pr_ports {
	size_t n;
	const uint16_t *ids;
};

/* One registered I_T nexus (SPC-4 5.13.7). */
struct tdm_pr_reg {
	struct tdm_pr_tid tid;
	uint16_t rel_port;
	uint64_t key;
	bool all_tg_pt; /* registered with ALL_TG_PT=1 (one of a group) */
	bool aptpl;	/* APTPL of the command that registered it */
	bool holder;	/* holds the reservation (not *_ALL_REGISTRANTS) */
};

struct tdm_pr_state {
	uint32_t generation; /* SPC-4 6.15.2 PRGENERATION */
	bool aptpl;    /* last APTPL received: persist through power loss */
	bool reserved; /* a persistent reservation exists */
	uint8_t type;  /* enum tdm_pr_type, when reserved */
	uint8_t scope;
	size_t nregs; /* in registration order: the order is part of the state
		       */
	size_t cap;
	struct tdm_pr_reg *regs;
};

/* A decoded PERSISTENT RESERVE OUT command. */
struct tdm_pr_op {
	uint8_t sa;		 /* enum tdm_pr_sa */
	uint8_t type;		 /* CDB TYPE */
	uint8_t scope;		 /* CDB SCOPE */
	uint8_t flags;		 /* TDM_PR_F_* */
	uint64_t key;		 /* RESERVATION KEY */
	uint64_t sa_key;	 /* SERVICE ACTION RESERVATION KEY */
	uint16_t move_rel_port;	 /* REGISTER AND MOVE destination port */
	size_t ntids;		 /* SPEC_I_PT list, or the one REGISTER AND */
	struct tdm_pr_tid *tids; /* MOVE destination; malloc'ed */
	uint32_t *tid_off;	 /* where each starts in the parameter list
				  * (decoded ops; else NULL) */
};

/* A unit attention to raise, or an I_T nexus whose tasks to abort. */
struct tdm_pr_event {
	struct tdm_pr_tid tid; /* matched with tdm_pr_tid_match() */
	uint16_t rel_port;
	uint8_t reason; /* enum tdm_sense_reason (unit attentions) */
};

struct tdm_pr_result {
	struct tdm_sense_info info; /* field pointer of an ILLEGAL REQUEST */
	bool changed;		    /* the state changed */
	size_t nua;
	struct tdm_pr_event *ua;
	size_t nabort; /* PREEMPT AND ABORT: nexuses whose tasks to abort */
	struct tdm_pr_event *abort;
};

/* Most registrations (I_T nexuses) one logical unit keeps. */
#define TDM_PR_MAX_REGS 2048

/* ---- state ---- */

void tdm_pr_state_init(struct tdm_pr_state *st);
void tdm_pr_state_free(struct tdm_pr_state *st);
/* Deep copy into *dst (initialized or not); -ENOMEM leaves dst empty. */
int tdm_pr_state_copy(struct tdm_pr_state *dst, const struct tdm_pr_state *src);
/* Structural invariants (tests, decode): 0 or -EINVAL. */
int tdm_pr_state_check(const struct tdm_pr_state *st);

/* ---- PERSISTENT RESERVE OUT ---- */

/*
 * Decode a PERSISTENT RESERVE OUT CDB and its parameter list (len bytes).
 * Returns TDM_SR_OK with *op filled (free with tdm_pr_op_free()), or the
 * reason, with a field pointer in *info where SPC-4 asks for one.
 */
int tdm_pr_out_decode(const uint8_t *cdb, const uint8_t *param, size_t len,
		      struct tdm_pr_op *op, struct tdm_sense_info *info);
void tdm_pr_op_free(struct tdm_pr_op *op);
/*
 * Can the TransportIDs of decoded op name initiator ports of the target
 * ports they would be registered at, received on nx? The one thing a
 * TransportID says about a target port is its protocol, and of every
 * target port the receiving one is the only whose protocol is known
 * here: SPEC_I_PT without ALL_TG_PT registers each at the receiving
 * port, and REGISTER AND MOVE may name it. A TransportID of another
 * protocol gets INVALID FIELD IN PARAMETER LIST at its PROTOCOL
 * IDENTIFIER. Checked where the command arrives, before it is ordered,
 * so that heads without this check agree on what they apply.
 */
int tdm_pr_out_check_tids(const struct tdm_pr_op *op,
			  const struct tdm_pr_nexus *nx,
			  struct tdm_sense_info *info);

/*
 * Apply op received on nexus nx. Returns TDM_SR_OK, TDM_SR_RESERVATION_
 * CONFLICT or a CHECK CONDITION reason (res->info has the field pointer).
 * On TDM_SR_OK, res lists the unit attentions to establish and the
 * nexuses whose tasks to abort; free it with tdm_pr_result_free() in every
 * case. ports: every target port (ALL_TG_PT, REGISTER AND MOVE).
 */
int tdm_pr_apply(struct tdm_pr_state *st, const struct tdm_pr_op *op,
		 const struct tdm_pr_nexus *nx,
		 const struct tdm_pr_ports *ports, struct tdm_pr_result *res);
void tdm_pr_result_free(struct tdm_pr_result *res);

/* ---- the reservation check of the command gate (SPC-4 5.13.1) ---- */

#define TDM_PR_ALLOW_WE (1u << 0) /* allowed under Write Exclusive */
#define TDM_PR_ALLOW_EA (1u << 1) /* allowed under Exclusive Access */

/*
 * May nx run a command that the reservation types in `allowed` let
 * through (SPC-4 table 66, SBC-3 table 13)? TDM_SR_OK or
 * TDM_SR_RESERVATION_CONFLICT.
 */
enum tdm_sense_reason tdm_pr_check(const struct tdm_pr_state *st,
				   const struct tdm_pr_nexus *nx,
				   uint32_t allowed);
/* Is nx registered (any key)? */
bool tdm_pr_registered(const struct tdm_pr_state *st,
		       const struct tdm_pr_nexus *nx);

/* ---- PERSISTENT RESERVE IN (SPC-4 6.15) ---- */

/*
 * Each builder writes at most cap bytes of its parameter data to buf and
 * returns the full length the data has (more than cap when truncated by
 * the allocation length).
 */
size_t tdm_pr_in_read_keys(const struct tdm_pr_state *st, uint8_t *buf,
			   size_t cap);
size_t tdm_pr_in_read_reservation(const struct tdm_pr_state *st, uint8_t *buf,
				  size_t cap);
/* allow_commands: the ALLOW COMMANDS field (SPC-4 6.15.4, table 208). */
size_t tdm_pr_in_report_caps(const struct tdm_pr_state *st,
			     uint8_t allow_commands, uint8_t *buf, size_t cap);
size_t tdm_pr_in_read_full_status(const struct tdm_pr_state *st, uint8_t *buf,
				  size_t cap);

/* ---- TransportIDs (SPC-4 7.6.4) ---- */

/* Where a TransportID is wrong: its byte, and the field's highest bit. */
struct tdm_pr_tid_err {
	size_t byte;
	int8_t bit;
};

/*
 * Decode one TransportID from p (avail bytes). Returns 0 and the bytes it
 * takes in *used; -EMSGSIZE if it does not fit in avail; -EINVAL with the
 * offending field in *e: byte 0 bit 7 a format code the protocol does not
 * have, bit 5 or 4 reserved bits, bit 3 a protocol that is not FC, SRP,
 * iSCSI or SAS; byte 2 an iSCSI ADDITIONAL LENGTH; from byte 4 the
 * iSCSI name.
 */
int tdm_pr_tid_decode(const uint8_t *p, size_t avail, struct tdm_pr_tid *t,
		      size_t *used, struct tdm_pr_tid_err *e);
/* Encode t; returns its length (written only if <= cap). */
size_t tdm_pr_tid_encode(const struct tdm_pr_tid *t, uint8_t *buf, size_t cap);
/* Build the iSCSI format 01b TransportID of an initiator port; -EINVAL
 * for a name that cannot be in one. */
int tdm_pr_tid_iscsi(struct tdm_pr_tid *t, const char *name,
		     const uint8_t isid[6]);
/* Build the TransportID of an initiator port of protocol proto from its
 * binary identifier (SRP 16 bytes, FC and SAS 8); -EINVAL otherwise. */
int tdm_pr_tid_port(struct tdm_pr_tid *t, uint8_t proto, const uint8_t *id,
		    size_t len);
/* The initiator port t names, printable: an iSCSI name (",i,0x" and the
 * ISID in format 01b), else "0x" and the identifier in hex. Writes at
 * most cap bytes with the null, returns the length it has. */
size_t tdm_pr_tid_name(const struct tdm_pr_tid *t, char *buf, size_t cap);
/* Same identifier, byte for byte (iSCSI names compared without case). */
bool tdm_pr_tid_equal(const struct tdm_pr_tid *a, const struct tdm_pr_tid *b);
/*
 * Does registered TransportID reg name the initiator port tid? An iSCSI
 * format 00b TransportID names every port of the initiator device.
 */
bool tdm_pr_tid_match(const struct tdm_pr_tid *reg,
		      const struct tdm_pr_tid *tid);

/* ---- persistence and cluster snapshots (pr_persist.c) ---- */

/* Size of the encoded state. */
size_t tdm_pr_encoded_size(const struct tdm_pr_state *st);
/* Encode into buf (cap bytes); returns the size, 0 if cap is too small. */
size_t tdm_pr_encode(const struct tdm_pr_state *st, uint8_t *buf, size_t cap);
/*
 * Decode len bytes into *st (replacing it) only if the input is whole,
 * of a known version, has a good checksum and a consistent state;
 * -EBADMSG (corrupt, torn), -EPROTONOSUPPORT (unknown version) or -ENOMEM,
 * *st untouched.
 */
int tdm_pr_decode(const uint8_t *buf, size_t len, struct tdm_pr_state *st);

/*
 * APTPL files: <dir>/<name>, written atomically (temporary file, fsync,
 * rename, fsync of the directory). 0 or -errno.
 */
int tdm_pr_file_save(const char *dir, const char *name,
		     const struct tdm_pr_state *st);
/* -ENOENT if there is no file; -EBADMSG etc. from tdm_pr_decode(). */
int tdm_pr_file_load(const char *dir, const char *name,
		     struct tdm_pr_state *st);
/* Remove (no file is not an error). */
int tdm_pr_file_remove(const char *dir, const char *name);

#endif
