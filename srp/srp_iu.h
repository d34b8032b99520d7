/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * srp_iu.h - the SCSI RDMA Protocol's information units, as bytes:
 * parsed from a receive buffer, built into a send buffer (srp/iu.c).
 * No RDMA here: the codec is pure, so the unit tests and the fuzz target
 * (tests/fuzz/fuzz_srp.c) run it without a device.
 *
 * Spec: SRP r16a (T10/1415-D), SRP-2 r00a (T10/2174-D) for immediate data;
 * the RDMA/CM login layout is Linux's (ib_srp since 4.17, struct
 * srp_login_req_rdma), the only RDMA/CM SRP initiator there is.
 *
 * Everything a peer sends is checked against what the login agreed on:
 * a parser never reads outside the IU it was given.
 */
#ifndef TANDEM_SRP_IU_H
#define TANDEM_SRP_IU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* SRP r16a 5.1, table 6: information unit types (the first byte) */
#define TDM_SRP_LOGIN_REQ 0x00
#define TDM_SRP_TSK_MGMT 0x01
#define TDM_SRP_CMD 0x02
#define TDM_SRP_I_LOGOUT 0x03
#define TDM_SRP_LOGIN_RSP 0xc0
#define TDM_SRP_RSP 0xc1
#define TDM_SRP_LOGIN_REJ 0xc2
#define TDM_SRP_T_LOGOUT 0x80
#define TDM_SRP_CRED_REQ 0x81
#define TDM_SRP_AER_REQ 0x82
#define TDM_SRP_CRED_RSP 0x41
#define TDM_SRP_AER_RSP 0x42

/* fixed sizes of the IUs (SRP r16a 6) */
#define TDM_SRP_LOGIN_REQ_LEN 64
#define TDM_SRP_LOGIN_REQ_RDMA_LEN 56 /* Linux's RDMA/CM private data */
#define TDM_SRP_LOGIN_RSP_LEN 52
#define TDM_SRP_LOGIN_REJ_LEN 32
#define TDM_SRP_I_LOGOUT_LEN 16
#define TDM_SRP_T_LOGOUT_LEN 16
#define TDM_SRP_TSK_MGMT_LEN 48
#define TDM_SRP_CMD_LEN 48     /* without additional CDB and descriptors */
#define TDM_SRP_RSP_LEN 36     /* without response and sense data */
#define TDM_SRP_DESC_LEN 16    /* a memory descriptor: va, key, len */
#define TDM_SRP_IND_HDR_LEN 20 /* indirect table: table descriptor + total */

/* SRP r16a 6.2 table 9: supported buffer formats (REQUIRED BUFFER FORMATS,
 * SUPPORTED BUFFER FORMATS) */
#define TDM_SRP_BUF_DIRECT (1u << 1)
#define TDM_SRP_BUF_INDIRECT (1u << 2)

/* SRP r16a 6.9 table 24, SRP-2: DATA-OUT / DATA-IN BUFFER DESCRIPTOR
 * FORMAT (the high and low nibble of SRP_CMD's byte 5) */
#define TDM_SRP_FMT_NONE 0
#define TDM_SRP_FMT_DIRECT 1
#define TDM_SRP_FMT_INDIRECT 2
#define TDM_SRP_FMT_IMM 3 /* SRP-2, data-out only */

/* SRP_LOGIN_REQ REQUIRED FLAGS (r16a 6.2; SRP-2 for IMMED) */
#define TDM_SRP_MULTICHAN_MASK 0x03
#define TDM_SRP_MULTICHAN_SINGLE 0 /* terminate the other channels */
#define TDM_SRP_MULTICHAN_MULTI 1  /* keep them */
#define TDM_SRP_IMMED_REQUESTED 0x80

/* SRP_LOGIN_RSP RESPONSE FLAGS (r16a 6.3) */
#define TDM_SRP_LRSP_NO_CHAN 0x0    /* no channel existed */
#define TDM_SRP_LRSP_TERMINATED 0x1 /* existing channels terminated */
#define TDM_SRP_LRSP_MAINTAINED 0x2 /* existing channels maintained */
#define TDM_SRP_LRSP_IMMED_SUPP 0x80

/* SRP r16a 6.4 table 12: SRP_LOGIN_REJ REASON */
#define TDM_SRP_REJ_UNABLE_ESTABLISH 0x00010000u
#define TDM_SRP_REJ_INSUFFICIENT_RES 0x00010001u
#define TDM_SRP_REJ_IT_IU_TOO_LARGE 0x00010002u
#define TDM_SRP_REJ_UNABLE_ASSOCIATE 0x00010003u
#define TDM_SRP_REJ_UNSUPPORTED_FMT 0x00010004u
#define TDM_SRP_REJ_NO_MULTICHAN 0x00010005u
#define TDM_SRP_REJ_CHANNEL_LIMIT 0x00010006u

/* SRP r16a 6.6 table 15: SRP_T_LOGOUT REASON */
#define TDM_SRP_TLO_NO_REASON 0x0000u
#define TDM_SRP_TLO_INACTIVE 0x0001u
#define TDM_SRP_TLO_BAD_IU_TYPE 0x0002u
#define TDM_SRP_TLO_UNEXPECTED_RSP 0x0003u
#define TDM_SRP_TLO_MULTICHAN 0x0004u
#define TDM_SRP_TLO_BAD_OUT_FMT 0x0006u
#define TDM_SRP_TLO_BAD_IN_FMT 0x0007u
#define TDM_SRP_TLO_BAD_COUNT 0x0008u

/* SRP r16a 6.7 table 17: TASK MANAGEMENT FLAGS */
#define TDM_SRP_TSK_ABORT_TASK 0x01
#define TDM_SRP_TSK_ABORT_TASK_SET 0x02
#define TDM_SRP_TSK_CLEAR_TASK_SET 0x04
#define TDM_SRP_TSK_LUN_RESET 0x08
#define TDM_SRP_TSK_CLEAR_ACA 0x40

/* SRP r16a 6.9 table 24: SRP_RSP FLAGS */
#define TDM_SRP_RSP_RSPVALID (1u << 0)
#define TDM_SRP_RSP_SNSVALID (1u << 1)
#define TDM_SRP_RSP_DOOVER (1u << 2)
#define TDM_SRP_RSP_DOUNDER (1u << 3)
#define TDM_SRP_RSP_DIOVER (1u << 4)
#define TDM_SRP_RSP_DIUNDER (1u << 5)

/* SRP r16a 6.9 table 25: RESPONSE CODE of the response data */
#define TDM_SRP_RC_OK 0x00	       /* NO FAILURE / TMF COMPLETE */
#define TDM_SRP_RC_FIELDS_INVALID 0x02 /* REQUEST FIELDS INVALID */
#define TDM_SRP_RC_TMF_NOT_SUPP 0x04
#define TDM_SRP_RC_TMF_FAILED 0x05

/* ---- login ---- */

/* An SRP_LOGIN_REQ, whichever layout it came in. */
struct tdm_srp_login {
	uint64_t tag; /* as sent (echoed, never interpreted) */
	uint32_t req_it_iu_len;
	uint16_t req_buf_fmt;	  /* TDM_SRP_BUF_* */
	uint8_t req_flags;	  /* TDM_SRP_MULTICHAN_*, IMMED_REQUESTED */
	uint16_t imm_data_offset; /* meaningful with IMMED_REQUESTED */
	uint8_t initiator_port_id[16];
	uint8_t target_port_id[16]; /* id_ext, then ioc_guid (r16a) */
};

/*
 * Parse the login request carried as RDMA/CM private data (Linux's
 * srp_login_req_rdma, 56 bytes; longer private data is padding) or as an
 * SRP_LOGIN_REQ IU (64 bytes). Returns 0, or -EINVAL when it is too short
 * or its opcode is not SRP_LOGIN_REQ.
 */
int tdm__srp_login_parse_rdma(const void *p, size_t len,
			      struct tdm_srp_login *l);
int tdm__srp_login_parse(const void *p, size_t len, struct tdm_srp_login *l);

/* What the target offers (its configuration and resources). */
struct tdm_srp_limits {
	uint32_t max_req; /* srp_max_req_size: the longest IU received */
	uint32_t max_rsp; /* srp_max_rsp_size: the longest IU sent */
	uint32_t req_lim; /* credits granted at login (receive ring) */
	uint16_t buf_fmt; /* TDM_SRP_BUF_*: the formats supported */
	bool imm;	  /* immediate data supported */
};

/* What a login agreed on: the channel's rules. */
struct tdm_srp_agreed {
	uint32_t max_it_iu_len;	  /* the initiator's request length */
	uint32_t max_ti_iu_len;	  /* our longest IU */
	uint16_t buf_fmt;	  /* formats both support */
	bool imm;		  /* immediate data in use */
	uint16_t imm_data_offset; /* where it starts in an SRP_CMD */
	uint8_t multichan;	  /* TDM_SRP_MULTICHAN_* */
};

/*
 * Decide a login: 0 with a filled, or the SRP_LOGIN_REJ reason
 * (TDM_SRP_REJ_*). Refused: req_it_iu_len above lim->max_req
 * (IT_IU_TOO_LARGE) or below 64; no buffer format in common
 * (UNSUPPORTED_FMT); an immediate data offset that is not past the fixed
 * SRP_CMD fields (48 + 16 + 4 = 68: SRP-2 says it must not overlap them)
 * or leaves no byte of data inside req_it_iu_len. Immediate data not
 * requested, or not supported: a->imm is false (not a refusal).
 */
uint32_t tdm__srp_login_check(const struct tdm_srp_login *l,
			      const struct tdm_srp_limits *lim,
			      struct tdm_srp_agreed *a);

/* Build SRP_LOGIN_RSP (52 bytes) / SRP_LOGIN_REJ (32 bytes) into buf;
 * return the length, 0 if cap is too small. rsp_flags: TDM_SRP_LRSP_*
 * (IMMED_SUPP is added from a->imm). */
size_t tdm__srp_login_rsp(uint8_t *buf, size_t cap, uint64_t tag,
			  uint32_t req_lim_delta,
			  const struct tdm_srp_agreed *a, uint8_t rsp_flags);
size_t tdm__srp_login_rej(uint8_t *buf, size_t cap, uint64_t tag,
			  uint32_t reason, uint16_t buf_fmt);

/* ---- full feature phase: initiator to target ---- */

/* A memory descriptor of the initiator's buffer (r16a 5.2.2) */
struct tdm_srp_desc {
	uint64_t va;
	uint32_t key;
	uint32_t len;
};

/* Data direction of an SRP_CMD */
#define TDM_SRP_DIR_NONE 0
#define TDM_SRP_DIR_OUT 1 /* the initiator sends: a write */
#define TDM_SRP_DIR_IN 2  /* the initiator receives: a read */

struct tdm_srp_cmd_iu {
	uint64_t tag;	   /* as sent */
	uint64_t lun;	   /* the 8-byte LUN field, big-endian decoded */
	uint8_t task_attr; /* SAM task attribute (r16a table 22) */
	uint8_t sol_not;
	const uint8_t *cdb;  /* inside the IU */
	uint16_t cdb_len;    /* 16 + ADDITIONAL CDB LENGTH * 4: up to 268 */
	uint8_t dir;	     /* TDM_SRP_DIR_* */
	uint8_t fmt;	     /* TDM_SRP_FMT_* of that direction */
	uint32_t data_len;   /* bytes: the indirect table's TOTAL LENGTH, the
			      * direct descriptor's, the immediate data's */
	uint32_t ndesc;	     /* descriptors at desc (direct: 1) */
	const uint8_t *desc; /* ndesc * 16 bytes inside the IU (unaligned:
			      * read them with tdm__srp_desc_get) */
	const uint8_t *imm;  /* TDM_SRP_FMT_IMM: data_len bytes in the IU */
};

/* Why an IU was refused */
enum tdm_srp_iu_err {
	TDM_SRP_IU_OK = 0,
	TDM_SRP_IU_SHORT,     /* shorter than its fixed part: no tag to
			       * answer (T_LOGOUT and disconnect) */
	TDM_SRP_IU_FIELDS,    /* a field is wrong: SRP_RSP with
			       * RSPVALID, REQUEST FIELDS INVALID */
	TDM_SRP_IU_EXT_TABLE, /* an indirect table not all inside the IU
			       * (Linux sends one only with allow_ext_sg):
			       * not supported, answered like FIELDS */
};

/*
 * Parse an SRP_CMD of len bytes (what the receive completion says
 * arrived). Checks: opcode; len at least 48 + the additional CDB; the
 * descriptor formats against a->buf_fmt and a->imm (IMM only for
 * data-out); not both directions (bidirectional commands are not
 * supported); a direct descriptor or an indirect table and its partial
 * list inside the IU (ADDITIONAL CDB LENGTH, descriptor counts, table
 * length a multiple of 16 and equal to the partial list: else EXT_TABLE);
 * the sum of the descriptors' lengths equal to TOTAL LENGTH; immediate
 * data after its length field, at a->imm_data_offset, inside len and
 * inside a->max_it_iu_len. On an error c->tag is still set when len >= 16.
 */
enum tdm_srp_iu_err tdm__srp_cmd_parse(const uint8_t *iu, size_t len,
				       const struct tdm_srp_agreed *a,
				       struct tdm_srp_cmd_iu *c);
/* Descriptor i (< c->ndesc) of a parsed command. */
void tdm__srp_desc_get(const struct tdm_srp_cmd_iu *c, uint32_t i,
		       struct tdm_srp_desc *d);

struct tdm_srp_tmf_iu {
	uint64_t tag;
	uint64_t lun;
	uint8_t fn;	   /* TDM_SRP_TSK_* as sent */
	uint64_t task_tag; /* ABORT TASK: the tag of the task */
	uint8_t sol_not;
};
/* Parse an SRP_TSK_MGMT (48 bytes). FIELDS for a wrong opcode; the
 * function code is not checked (the caller answers TMF NOT SUPPORTED). */
enum tdm_srp_iu_err tdm__srp_tmf_parse(const uint8_t *iu, size_t len,
				       struct tdm_srp_tmf_iu *t);

/* The opcode of an IU (0xff, no IU type, if len is 0) and its tag (0 if
 * len < 16; tag may be NULL). */
uint8_t tdm__srp_iu_opcode(const uint8_t *iu, size_t len, uint64_t *tag);

/* ---- target to initiator ---- */

struct tdm_srp_rsp {
	uint64_t tag;
	uint32_t req_lim_delta;
	uint8_t status;	      /* SCSI status */
	uint8_t flags;	      /* TDM_SRP_RSP_DO/DI OVER/UNDER */
	uint32_t do_resid;    /* DATA-OUT RESIDUAL COUNT */
	uint32_t di_resid;    /* DATA-IN RESIDUAL COUNT */
	int resp_code;	      /* -1: no response data; else
			       * TDM_SRP_RC_* (4 bytes, RSPVALID) */
	const uint8_t *sense; /* sense data, or NULL */
	uint32_t sense_len;
	uint8_t sol_not;
};
/*
 * Build an SRP_RSP into buf (at most cap bytes: max_ti_iu_len). Sense
 * data that does not fit is cut to what fits (SNSVALID and SENSE DATA LIST
 * LENGTH say what was sent). Returns the length, 0 if cap < 36 (+4 with a
 * response code).
 */
size_t tdm__srp_rsp_build(uint8_t *buf, size_t cap,
			  const struct tdm_srp_rsp *r);
/* SRP_T_LOGOUT (16 bytes): returns 16, 0 if cap is too small. */
size_t tdm__srp_t_logout(uint8_t *buf, size_t cap, uint32_t reason,
			 uint64_t tag);

/* Printable "0x" + 32 hex digits of a 16-byte port identifier (buf: 35). */
void tdm__srp_port_id_str(const uint8_t id[16], char buf[35]);

#endif
