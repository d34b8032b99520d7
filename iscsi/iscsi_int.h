/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * iscsi.h - private header of the iSCSI target transport (RFC 7143, ERL 0).
 *
 * One connection per session (MaxConnections=1), so struct tdm__iscsi_conn
 * carries the session state too. A connection lives on one event loop; all
 * of its state is touched from that loop's thread only. The state shared
 * between loops is behind three mutexes, never nested (below, and
 * iscsi/README.md "Threads"): the connection registry (session.c), used at
 * login, logout, reinstatement, config apply and shutdown, the next
 * connection id (conn.c) and the CHAP throttle's table (throttle.c).
 */
#ifndef TANDEM_ISCSI_PRIV_H
#define TANDEM_ISCSI_PRIV_H

#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "tandem/config.h"
#include "lib/crc32c.h"
#include "lib/list.h"
#include "lib/lockorder.h"
#include "lib/loop.h"
#include "tandem/scsi.h"
#include "tandem/transport.h"

/* The transport's locks (lib/lockorder.h): each is taken with no other
 * lock of the tree held, and only lib/'s are taken inside it. */
enum {
	TDM__ISCSI_LOCK_REG = TDM_LOCK_RANK_TRANSPORT,		 /* session.c */
	TDM__ISCSI_LOCK_CONN_ID = TDM_LOCK_RANK_TRANSPORT + 10,	 /* conn.c */
	TDM__ISCSI_LOCK_THROTTLE = TDM_LOCK_RANK_TRANSPORT + 20, /* throttle */
};

/* ---- PDU layout (RFC 7143 11.2) ---- */

#define ISCSI_BHS_LEN 48	/* RFC 7143 11.2.1 */
#define ISCSI_DIGEST_LEN 4	/* RFC 7143 11.2.3: CRC32C */
#define ISCSI_AHS_MAX (255 * 4) /* RFC 7143 11.2.1.5: TotalAHSLength, words */
#define ISCSI_HDR_MAX (ISCSI_BHS_LEN + ISCSI_AHS_MAX + ISCSI_DIGEST_LEN)
#define ISCSI_DSL_MAX 0xffffffu	   /* RFC 7143 11.2.1.6: 24-bit length */
#define ISCSI_RSVD_TAG 0xffffffffu /* RFC 7143 11.2.1.8: reserved tag */

/* RFC 7143 11.2.1.2: opcodes, initiator */
#define ISCSI_OP_NOP_OUT 0x00
#define ISCSI_OP_SCSI_CMD 0x01
#define ISCSI_OP_TMF_REQ 0x02
#define ISCSI_OP_LOGIN_REQ 0x03
#define ISCSI_OP_TEXT_REQ 0x04
#define ISCSI_OP_DATA_OUT 0x05
#define ISCSI_OP_LOGOUT_REQ 0x06
#define ISCSI_OP_SNACK 0x10
/* ... and target */
#define ISCSI_OP_NOP_IN 0x20
#define ISCSI_OP_SCSI_RSP 0x21
#define ISCSI_OP_TMF_RSP 0x22
#define ISCSI_OP_LOGIN_RSP 0x23
#define ISCSI_OP_TEXT_RSP 0x24
#define ISCSI_OP_DATA_IN 0x25
#define ISCSI_OP_LOGOUT_RSP 0x26
#define ISCSI_OP_R2T 0x31
#define ISCSI_OP_ASYNC 0x32
#define ISCSI_OP_REJECT 0x3f

#define ISCSI_OP_IMMEDIATE 0x40 /* RFC 7143 11.2.1.1: I bit */
#define ISCSI_OP_MASK 0x3f
#define ISCSI_FLAG_FINAL 0x80 /* F bit */

/* RFC 7143 11.3.1: SCSI Command flags */
#define ISCSI_CMD_READ 0x40
#define ISCSI_CMD_WRITE 0x20
#define ISCSI_CMD_ATTR_MASK 0x07
/* RFC 7143 11.3.1.1 (and SAM): task attributes */
#define ISCSI_ATTR_UNTAGGED 0
#define ISCSI_ATTR_SIMPLE 1
#define ISCSI_ATTR_ORDERED 2
#define ISCSI_ATTR_HEAD_OF_QUEUE 3
#define ISCSI_ATTR_ACA 4

/* RFC 7143 11.2.2: AHS types */
#define ISCSI_AHS_EXT_CDB 1
#define ISCSI_AHS_BIDI_LEN 2

/* RFC 7143 11.4.1 / 11.7.5: residual flags of SCSI Response / Data-In */
#define ISCSI_RSP_BIDI_OVERFLOW 0x10
#define ISCSI_RSP_BIDI_UNDERFLOW 0x08
#define ISCSI_RSP_OVERFLOW 0x04
#define ISCSI_RSP_UNDERFLOW 0x02
#define ISCSI_DATAIN_ACK 0x40
#define ISCSI_DATAIN_STATUS 0x01 /* S bit, RFC 7143 11.7.4 */
/* RFC 7143 11.4.3: SCSI Response "Response" field */
#define ISCSI_RSP_COMPLETED 0x00
#define ISCSI_RSP_TARGET_FAILURE 0x01

/* RFC 7143 11.12.1: Login request flags */
#define ISCSI_LOGIN_TRANSIT 0x80
#define ISCSI_LOGIN_CONTINUE 0x40
#define ISCSI_LOGIN_CSG(f) (((f) >> 2) & 3)
#define ISCSI_LOGIN_NSG(f) ((f)&3)
/* RFC 7143 11.12.3: stages */
#define ISCSI_STAGE_SECURITY 0
#define ISCSI_STAGE_OPERATIONAL 1
#define ISCSI_STAGE_FFP 3
#define ISCSI_VERSION 0x00 /* RFC 7143 11.12.4 */

/* RFC 7143 11.13.5: Login status class/detail */
#define ISCSI_LOGIN_OK 0x0000
#define ISCSI_LOGIN_INITIATOR_ERROR 0x0200
#define ISCSI_LOGIN_AUTH_FAILED 0x0201
#define ISCSI_LOGIN_AUTHORIZATION_FAILED 0x0202
#define ISCSI_LOGIN_TARGET_NOT_FOUND 0x0203
#define ISCSI_LOGIN_TARGET_REMOVED 0x0204
#define ISCSI_LOGIN_UNSUPPORTED_VERSION 0x0205
#define ISCSI_LOGIN_TOO_MANY_CONNECTIONS 0x0206
#define ISCSI_LOGIN_MISSING_PARAMETER 0x0207
#define ISCSI_LOGIN_CANT_INCLUDE 0x0208
#define ISCSI_LOGIN_SESSION_TYPE_UNSUPPORTED 0x0209
#define ISCSI_LOGIN_NO_SESSION 0x020a
#define ISCSI_LOGIN_INVALID_DURING_LOGIN 0x020b
#define ISCSI_LOGIN_TARGET_ERROR 0x0300
#define ISCSI_LOGIN_SERVICE_UNAVAILABLE 0x0301
#define ISCSI_LOGIN_OUT_OF_RESOURCES 0x0302

/* RFC 7143 11.17.1: Reject reasons */
#define ISCSI_REJECT_DATA_DIGEST 0x02
#define ISCSI_REJECT_SNACK 0x03
#define ISCSI_REJECT_PROTOCOL_ERROR 0x04
#define ISCSI_REJECT_CMD_NOT_SUPPORTED 0x05
#define ISCSI_REJECT_IMM_CMD 0x06
#define ISCSI_REJECT_TASK_IN_PROGRESS 0x07
#define ISCSI_REJECT_INVALID_DATA_ACK 0x08
#define ISCSI_REJECT_INVALID_PDU_FIELD 0x09
#define ISCSI_REJECT_OUT_OF_RESOURCES 0x0a
#define ISCSI_REJECT_WAITING_FOR_LOGOUT 0x0c

/* RFC 7143 11.5.1 (+ RFC 7144 4.1): TMF functions */
#define ISCSI_TMF_ABORT_TASK 1
#define ISCSI_TMF_ABORT_TASK_SET 2
#define ISCSI_TMF_CLEAR_ACA 3
#define ISCSI_TMF_CLEAR_TASK_SET 4
#define ISCSI_TMF_LUN_RESET 5
#define ISCSI_TMF_TARGET_WARM_RESET 6
#define ISCSI_TMF_TARGET_COLD_RESET 7
#define ISCSI_TMF_TASK_REASSIGN 8
#define ISCSI_TMF_QUERY_TASK 9
#define ISCSI_TMF_QUERY_TASK_SET 10
#define ISCSI_TMF_I_T_NEXUS_RESET 11
#define ISCSI_TMF_QUERY_ASYNC_EVENT 12
/* RFC 7143 11.6.1 (+ RFC 7144 4.2): TMF responses */
#define ISCSI_TMF_RSP_COMPLETE 0
#define ISCSI_TMF_RSP_NO_TASK 1
#define ISCSI_TMF_RSP_NO_LUN 2
#define ISCSI_TMF_RSP_ALLEGIANT 3
#define ISCSI_TMF_RSP_NO_REASSIGN 4
#define ISCSI_TMF_RSP_NOT_SUPPORTED 5
#define ISCSI_TMF_RSP_AUTH_FAILED 6
#define ISCSI_TMF_RSP_SUCCEEDED 7
#define ISCSI_TMF_RSP_REJECTED 255

/* RFC 7143 11.14.1 / 11.15.1: logout reasons and responses */
#define ISCSI_LOGOUT_CLOSE_SESSION 0
#define ISCSI_LOGOUT_CLOSE_CONNECTION 1
#define ISCSI_LOGOUT_REMOVE_FOR_RECOVERY 2
#define ISCSI_LOGOUT_RSP_OK 0
#define ISCSI_LOGOUT_RSP_NO_CID 1
#define ISCSI_LOGOUT_RSP_NO_RECOVERY 2

/* RFC 7143 11.9.1: asynchronous events */
#define ISCSI_ASYNC_LOGOUT_REQUEST 1

/* ---- negotiation (param.c) ---- */

/* RFC 7143 6.1: key names up to 63 bytes, values up to 255 */
#define ISCSI_KEY_MAX 63
#define ISCSI_VALUE_MAX 255
#define ISCSI_TEXT_MAX 65536 /* our limit for one text/login exchange */
#define ISCSI_LOGIN_DSL 8192 /* RFC 7143 13.12: default MRDSL during login */

/* Digest choices (bit mask of what we accept). */
#define ISCSI_DIGEST_NONE 1u
#define ISCSI_DIGEST_CRC32C 2u

/* What this target offers/accepts, from the config (target overrides
 * driver-wide defaults, which override ours). */
struct tdm__iscsi_prefs {
	uint8_t header_digest; /* ISCSI_DIGEST_* mask */
	uint8_t data_digest;
	bool initial_r2t;
	bool immediate_data;
	uint32_t max_recv_dsl;
	uint32_t max_xmit_dsl;
	uint32_t max_burst;
	uint32_t first_burst;
	uint32_t max_outstanding_r2t;
	uint32_t queued_commands;
	uint32_t nop_in_interval; /* seconds, 0 = off */
	uint32_t nop_in_timeout;
	uint32_t rsp_timeout; /* seconds the initiator may keep us waiting
			       * for Data-Out */
};

/* Negotiated operational parameters of a session/connection. */
struct tdm__iscsi_params {
	bool header_digest;
	bool data_digest;
	bool initial_r2t;
	bool immediate_data;
	bool data_pdu_in_order;
	bool data_seq_in_order;
	bool ifmarker, ofmarker;
	uint32_t max_connections;
	uint32_t max_recv_dsl; /* ours: the largest data segment we accept */
	uint32_t max_xmit_dsl; /* initiator's MaxRecvDataSegmentLength */
	uint32_t max_burst;
	uint32_t first_burst;
	uint32_t time2wait;
	uint32_t time2retain;
	uint32_t max_outstanding_r2t;
	uint32_t erl;
};

/* Outcome of negotiating one key (tdm__iscsi_negotiate). */
enum tdm__iscsi_neg {
	ISCSI_NEG_RESPOND = 0, /* resp holds the value to answer */
	ISCSI_NEG_SILENT,      /* declarative, nothing to answer */
	ISCSI_NEG_LOGIN_KEY,   /* a login/security key: the caller handles it */
	ISCSI_NEG_TEXT_KEY,    /* SendTargets: the caller handles it */
};

/* Where a key is negotiated (RFC 7143 13, "Use"). */
enum tdm__iscsi_neg_phase {
	ISCSI_PHASE_SECURITY = 0,
	ISCSI_PHASE_OPERATIONAL,
	ISCSI_PHASE_FFP,
};

struct tdm__iscsi_kv {
	const char *key;
	const char *val;
};

/* Growing NUL-separated key=value buffer. */
struct tdm__iscsi_text {
	char *buf;
	size_t len;
	size_t cap;
	bool oom;
};

void tdm__iscsi_params_default(struct tdm__iscsi_params *p);
void tdm__iscsi_prefs_default(struct tdm__iscsi_prefs *pr);
/* Fold config overrides (driver-wide, then target) into prefs. */
void tdm__iscsi_prefs_apply(struct tdm__iscsi_prefs *pr,
			    const struct tdm_conf_iscsi_params *cp);
/*
 * Split a text data segment into key=value pairs (buf is modified).
 * Returns the number of pairs, -EINVAL for a malformed pair (no '=', bad
 * key), -E2BIG for more than max pairs.
 */
int tdm__iscsi_text_parse(char *buf, size_t len, struct tdm__iscsi_kv *kv,
			  size_t max);
int tdm__iscsi_text_add(struct tdm__iscsi_text *t, const char *key,
			const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void tdm__iscsi_text_free(struct tdm__iscsi_text *t);
/*
 * Negotiate one key offered by the initiator against our prefs; updates p
 * with the result. *seen is a bit mask of keys negotiated so far.
 */
enum tdm__iscsi_neg tdm__iscsi_negotiate(const char *key, const char *val,
					 enum tdm__iscsi_neg_phase phase,
					 bool discovery,
					 const struct tdm__iscsi_prefs *pr,
					 struct tdm__iscsi_params *p,
					 char *resp, size_t resplen);
/* RFC 7143 6.1: numerical-value (decimal, 0x hex); -EINVAL if malformed */
int tdm__iscsi_parse_num(const char *s, uint64_t *out);
/* RFC 7143 6.1: binary-value, "0x" hex or "0b" base64. */
int tdm__iscsi_bin_decode(const char *s, uint8_t *out, size_t max,
			  size_t *outlen);
void tdm__iscsi_hex_encode(const uint8_t *in, size_t len, char *out,
			   size_t outlen);
/* RFC 3720 3.2.6 / RFC 7143 4.2.7: iqn., eui., naa. names */
bool tdm__iscsi_name_valid(const char *name);

/* ---- digests (crc32c.c, md5.c) ---- */

/* Store a digest the way it travels: RFC 7143 11.2.3, little endian */
static inline void tdm__iscsi_put_digest(uint8_t *p, uint32_t crc)
{
	p[0] = (uint8_t)crc;
	p[1] = (uint8_t)(crc >> 8);
	p[2] = (uint8_t)(crc >> 16);
	p[3] = (uint8_t)(crc >> 24);
}
static inline uint32_t tdm__iscsi_get_digest(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

struct tdm__md5 {
	uint32_t s[4];
	uint64_t n;
	uint8_t buf[64];
};
void tdm__md5_init(struct tdm__md5 *m);
void tdm__md5_update(struct tdm__md5 *m, const void *data, size_t len);
void tdm__md5_final(struct tdm__md5 *m, uint8_t out[16]);
void tdm__md5(const void *data, size_t len, uint8_t out[16]);

/* ---- objects ---- */

struct tdm__iscsi_conn;

/* A PDU waiting to be sent (tx.c). */
struct tdm__iscsi_txpdu {
	struct tdm_list link;
	uint8_t hdr[ISCSI_BHS_LEN + ISCSI_DIGEST_LEN];
	uint8_t hdr_len;
	uint8_t trailer_len; /* padding + data digest */
	uint8_t flags;	     /* ISCSI_TX_* */
	uint8_t trailer[8];
	const uint8_t *data;
	uint32_t data_len;
	uint8_t *owned;		      /* malloc'ed data, freed once sent */
	struct tdm__iscsi_task *task; /* release the task once sent */
	uint8_t small[128];	      /* inline data (sense, short NOP echo) */
};
#define ISCSI_TX_CLOSE 0x01	 /* close the connection once sent */
#define ISCSI_TX_LOGIN_DONE 0x02 /* the final login response */

#define ISCSI_MAX_R2T 16

struct tdm__iscsi_r2t {
	uint32_t ttt;
	uint32_t offset;
	uint32_t len;
	uint32_t got;
	uint32_t datasn;
};

enum tdm__iscsi_task_state {
	ISCSI_TASK_FREE = 0,
	ISCSI_TASK_QUEUED, /* waiting for its CmdSN turn */
	ISCSI_TASK_CORE,   /* submitted to the core */
	ISCSI_TASK_WRITE,  /* core called write_pending */
	ISCSI_TASK_EXEC,   /* data complete, tdm_cmd_execute called */
	ISCSI_TASK_STATUS, /* status queued for sending */
	ISCSI_TASK_LOCAL,  /* answered by the transport itself */
	ISCSI__TASK_STATE_COUNT
};

/* What a queued (CmdSN-ordered) request is. */
enum tdm__iscsi_task_kind {
	ISCSI_KIND_SCSI = 0,
	ISCSI_KIND_PLACEHOLDER, /* non-SCSI request already handled */
};

struct tdm__iscsi_task {
	struct tdm_cmd cmd;
	struct tdm__iscsi_conn *conn;
	struct tdm_list link;	       /* conn->tasks or conn->queued */
	struct tdm__iscsi_task *hnext; /* ITT hash chain */
	uint32_t itt;
	uint32_t cmdsn;
	uint32_t edtl;
	uint32_t din; /* counted in conn->din_bytes while submitted */
	uint8_t state;
	uint8_t kind;
	uint8_t fail_sr; /* data phase failed before write_pending */
	bool hashed;
	bool immediate;
	bool counted;	 /* in conn->nimm / din_bytes (submitted) */
	bool aborted;	 /* aborted by a TMF before being submitted */
	bool core_freed; /* free_cmd called while refs held */
	int refs;

	/* data-out */
	uint32_t xfer_len;    /* bytes kept: min(data_len, edtl) */
	uint32_t received;    /* bytes received so far (contiguous) */
	uint32_t imm_len;     /* immediate data still in flight */
	uint32_t unsol_limit; /* end offset of unsolicited data */
	uint32_t unsol_datasn;
	bool unsol_done;
	uint8_t *ubuf; /* data received before write_pending */
	uint32_t ubuf_cap;
	uint32_t r2t_off; /* next offset to solicit */
	uint32_t r2tsn;
	uint8_t nr2t;
	uint8_t r2t_head;
	struct tdm__iscsi_r2t r2t[ISCSI_MAX_R2T];
	uint32_t spdtl;	  /* cmd->data_len seen at write_pending */
	uint64_t wait_ns; /* since when we wait for its Data-Out */
};

/* A TMF in the core. */
struct tdm__iscsi_tmf {
	struct tdm_tmf tmf;
	struct tdm__iscsi_conn *conn;
	uint32_t itt;
	uint8_t fn;
};

/* What to do once the data segment of a PDU arrived (rx.c). */
enum tdm__iscsi_rx_action {
	ISCSI_ACT_DROP = 0,
	ISCSI_ACT_LOGIN,
	ISCSI_ACT_NOP,
	ISCSI_ACT_SCSI,
	ISCSI_ACT_DATA_OUT,
	ISCSI_ACT_TMF,
	ISCSI_ACT_TEXT,
	ISCSI_ACT_LOGOUT,
	ISCSI_ACT_REJECT,
	ISCSI_ACT_LOGIN_TOO_LONG,
};

enum tdm__iscsi_rx_state {
	ISCSI_RX_BHS = 0,
	ISCSI_RX_AHS,
	ISCSI_RX_DATA,
	ISCSI_RX_TRAILER,
};

enum tdm__iscsi_conn_state {
	ISCSI_CONN_LOGIN = 0,
	ISCSI_CONN_FFP,
	ISCSI_CONN_LOGOUT,  /* logout received, draining */
	ISCSI_CONN_CLOSING, /* closed, waiting for the core */
};

struct tdm__iscsi_login; /* login.c */

#define ISCSI_ITT_HASH 256
#define ISCSI_RBUF_SIZE 65536

struct tdm__iscsi_conn {
	uint64_t id; /* unique, for cross-thread lookups */
	struct tdm_loop *loop;
	int fd;
	struct tdm_fd_watch watch;
	uint32_t watch_events;
	bool watching;
	int refs;
	uint8_t state; /* enum tdm__iscsi_conn_state */
	bool closed;   /* conn_close() ran */
	bool draining; /* shutdown: no new requests */
	bool in_rx;    /* inside the receive callback */
	bool in_flush; /* inside tdm__iscsi_tx_flush() */
	bool want_flush;
	bool rx_paused;
	bool rx_hold;  /* login: input waits for a timer (CHAP throttle) */
	bool fuzz;     /* no socket: fuzzer/unit tests */
	bool prelogin; /* accepted, not logged in (session.c counts) */
	bool evicted;  /* ... and closed to make room for a newer one */
	uint64_t accept_ns;

	struct sockaddr_storage local, peer;
	char local_str[64]; /* "addr:port" */
	char peer_str[64];
	char local_ip[INET6_ADDRSTRLEN];
	uint16_t local_port;

	/* ---- receive state machine ---- */
	uint8_t rx_state;
	uint8_t hdr[ISCSI_HDR_MAX];
	uint32_t hdr_need; /* bytes of header wanted in hdr[] */
	uint32_t hdr_got;
	uint32_t ahs_len;
	uint32_t dsl;	      /* data segment length of the current PDU */
	uint8_t *rx_dst;      /* where stored data goes */
	uint32_t rx_store;    /* bytes to store at rx_dst */
	uint32_t rx_skip;     /* bytes to read and drop after that */
	uint32_t rx_data_got; /* of dsl */
	uint32_t rx_off;      /* buffer offset of the data (Data-Out) */
	uint32_t rx_crc;
	uint8_t rx_trailer[8];
	uint32_t rx_trailer_need;
	uint32_t rx_trailer_got;
	uint8_t rx_action; /* what to do once the data arrived */
	uint8_t rx_reject; /* reject reason decided at header time */
	struct tdm__iscsi_task *rx_task; /* task the data belongs to (ref) */
	uint8_t *dbuf; /* data of PDUs handled after arrival */
	uint32_t dbuf_cap;
	uint8_t *rbuf; /* staging buffer for recv() */
	uint32_t rbuf_pos, rbuf_len;
	uint64_t last_rx_ns;

	/* ---- send queue ---- */
	struct tdm_list txq;
	uint32_t tx_off;       /* bytes of the head PDU already sent */
	size_t tx_owned_bytes; /* malloc'ed bytes waiting (back pressure) */
	unsigned tx_live;      /* PDUs allocated, not on tx_free */
	uint64_t last_tx_ns;   /* when sendmsg() last took something */
	struct tdm_list tx_free;
	unsigned tx_nfree;

	/* ---- login / session ---- */
	struct tdm__iscsi_login *login;
	const struct tdm_conf *conf; /* snapshot held during login */
	struct tdm__iscsi_prefs prefs;
	struct tdm__iscsi_params p;
	bool discovery;
	char initiator[TDM_NAME_MAX];
	char target[TDM_NAME_MAX];
	uint8_t isid[6];
	uint16_t tsih;
	uint16_t cid;
	uint16_t tpgt;
	struct tdm_nexus *nexus;
	bool registered_session;   /* visible in the session registry */
	uint64_t reinstate_waiter; /* conn id to notify once we are gone */
	struct tdm_loop *reinstate_loop;
	char desc[256];

	/* ---- sequence numbers (RFC 7143 4.2.2) ---- */
	uint32_t statsn;
	uint32_t exp_cmdsn;
	uint32_t max_cmdsn;
	uint32_t ttt_next;

	/* ---- tasks ---- */
	struct tdm__iscsi_task *itt_hash[ISCSI_ITT_HASH];
	struct tdm_list tasks;	/* live tasks (not queued) */
	struct tdm_list queued; /* waiting for their CmdSN, sorted */
	struct tdm_list task_free;
	unsigned task_nfree;
	unsigned ntasks;    /* allocated tasks */
	unsigned nactive;   /* tasks handed to the core, not freed */
	unsigned nimm;	    /* ... of them immediate SCSI commands */
	uint64_t din_bytes; /* EDTL of the READs among them (back pressure) */
	unsigned ntmf;	    /* TMFs in the core */

	/* ---- text continuation (RFC 7143 11.10 / 11.11) ---- */
	uint8_t *text_rsp;
	uint32_t text_rsp_len;
	uint32_t text_rsp_off;
	uint32_t text_itt;
	uint32_t text_ttt;
	uint8_t *text_req;
	uint32_t text_req_len;

	/* ---- logout ---- */
	bool logout_pending;
	uint32_t logout_itt;
	uint8_t logout_rsp;
	bool close_after_reset;

	/* ---- timers ---- */
	struct tdm_timer nop_timer; /* housekeeping: NOP-In, RspTimeout */
	bool nop_outstanding;
	uint32_t nop_ttt;
	uint64_t nop_sent_ns;
	struct tdm_timer deadline; /* login / logout timeout */

	/* registry */
	struct tdm_list reg_link;
};

/* ---- conn.c: a connection's life ---- */
struct tdm__iscsi_conn *tdm__iscsi_conn_new(int fd,
					    const struct sockaddr *local,
					    const struct sockaddr *peer);
void tdm__iscsi_conn_start(void *arg); /* on the worker loop */
void tdm__iscsi_conn_get(struct tdm__iscsi_conn *c);
void tdm__iscsi_conn_put(struct tdm__iscsi_conn *c);
void tdm__iscsi_conn_close(struct tdm__iscsi_conn *c, const char *why);
/* The epoll events watched (none while the watch is off or fuzzing). */
void tdm__iscsi_conn_set_events(struct tdm__iscsi_conn *c, uint32_t ev);
void tdm__iscsi_conn_nop_arm(struct tdm__iscsi_conn *c);
/* Login finished: switch the connection to full feature phase. */
void tdm__iscsi_conn_enter_ffp(struct tdm__iscsi_conn *c);

/* ---- rx.c: the receive side ---- */
/* Read what the socket has and handle the complete PDUs. */
void tdm__iscsi_rx_read(struct tdm__iscsi_conn *c);
/* Feed bytes as if received (fuzzer, tests); returns 0 or -errno. */
int tdm__iscsi_conn_feed(struct tdm__iscsi_conn *c, const uint8_t *buf,
			 size_t len);
/* Let go of the task the data segment being read belongs to. */
void tdm__iscsi_rx_detach(struct tdm__iscsi_conn *c);
/* Room for a data segment of len bytes in the connection's buffer. */
int tdm__iscsi_rx_dbuf_reserve(struct tdm__iscsi_conn *c, uint32_t len);
/* Drain input: ask for no more reads (shutdown / logout). */
void tdm__iscsi_conn_stop_rx(struct tdm__iscsi_conn *c);
/* Read again if nothing holds the input back any more (back pressure
 * relieved; not after stop_rx for shutdown or logout). */
void tdm__iscsi_conn_rx_check(struct tdm__iscsi_conn *c);
/* Login: hold the input while a timer runs, or let it go. */
void tdm__iscsi_conn_hold_rx(struct tdm__iscsi_conn *c, bool hold);

/* ---- tx.c: the send side ---- */
/* Flush the send queue now, or at the end of the receive callback. */
void tdm__iscsi_conn_kick(struct tdm__iscsi_conn *c);
/* Write what the send queue holds, as far as the socket takes it. */
void tdm__iscsi_tx_flush(struct tdm__iscsi_conn *c);
struct tdm__iscsi_txpdu *tdm__iscsi_pdu_alloc(struct tdm__iscsi_conn *c);
void tdm__iscsi_pdu_free(struct tdm__iscsi_conn *c,
			 struct tdm__iscsi_txpdu *pdu);
/* Set data: copies into small[] when it fits, else mallocs a copy. */
int tdm__iscsi_pdu_set_data_copy(struct tdm__iscsi_conn *c,
				 struct tdm__iscsi_txpdu *pdu, const void *data,
				 uint32_t len);
/* Finish the header (lengths, digests) and append to the send queue. */
void tdm__iscsi_pdu_queue(struct tdm__iscsi_conn *c,
			  struct tdm__iscsi_txpdu *pdu);
/* Fill StatSN (advancing it when adv), ExpCmdSN and MaxCmdSN. */
void tdm__iscsi_pdu_set_sn(struct tdm__iscsi_conn *c,
			   struct tdm__iscsi_txpdu *pdu, bool adv);
int tdm__iscsi_send_reject(struct tdm__iscsi_conn *c, uint8_t reason,
			   const uint8_t *bhs);
void tdm__iscsi_send_nop_in(struct tdm__iscsi_conn *c, uint32_t itt,
			    uint32_t ttt, const uint8_t *lun,
			    const uint8_t *data, uint32_t len, bool adv);
static inline uint32_t tdm__iscsi_pad4(uint32_t n)
{
	return (4 - (n & 3)) & 3;
}
/* Serial number arithmetic, RFC 1982 (RFC 7143 4.2.2.1) */
static inline bool tdm__sn_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}
static inline bool tdm__sn_le(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) <= 0;
}
const char *tdm__iscsi_opcode_name(uint8_t op);

/* ---- login.c ---- */
int tdm__iscsi_login_pdu(struct tdm__iscsi_conn *c, const uint8_t *bhs,
			 const uint8_t *data, uint32_t len);
void tdm__iscsi_login_free(struct tdm__iscsi_conn *c);
/* Refuse a login request outright (status from RFC 7143 11.13.5). */
void tdm__iscsi_login_refuse(struct tdm__iscsi_conn *c, const uint8_t *bhs,
			     uint16_t status, const char *why);
/* The old session of a reinstatement is gone (on c's loop). */
void tdm__iscsi_login_reinstated(struct tdm__iscsi_conn *c);
void tdm__iscsi_login_timeout(struct tdm__iscsi_conn *c);
/* Debug log of a key the peer sent that we refused or did not know
 * (answer NotUnderstood, Reject or Irrelevant), escaped. */
void tdm__iscsi_log_answer(const struct tdm__iscsi_conn *c, const char *key,
			   const char *val, const char *answer);
/* Which CHAP users authenticate initiator on target t (NULL: discovery) */
bool tdm__iscsi_portal_allowed(const struct tdm_conf_target *t,
			       const char *local_ip);
/* The iSCSI target named name in c: NULL when there is none, or when
 * the name is an ib_srpt target's (never seen by iSCSI) */
const struct tdm_conf_target *tdm__iscsi_find_target(const struct tdm_conf *c,
						     const char *name);

/* ---- session.c ---- */
void tdm__iscsi_reg_add(struct tdm__iscsi_conn *c);
void tdm__iscsi_reg_del(struct tdm__iscsi_conn *c);
/*
 * Room for one more connection in login (c->prelogin) with at most max of
 * them (accept, main loop): true when there is, or when the oldest one
 * was told to close to make it; false when those closing are that many.
 */
bool tdm__iscsi_prelogin_room(unsigned max);
/* The connection logged in: out of the pre-login count. */
void tdm__iscsi_prelogin_done(struct tdm__iscsi_conn *c);
/*
 * Make c a logged-in session: assign a TSIH (when tsih is 0) and find
 * older sessions of the same I_T nexus to reinstate. Returns the number of
 * old sessions being closed (c is told through
 * tdm__iscsi_login_reinstated() when they are gone), or -errno.
 */
int tdm__iscsi_session_publish(struct tdm__iscsi_conn *c, uint16_t want_tsih,
			       uint16_t *status);
/* Close the connection with this id on its own loop (any thread). */
void tdm__iscsi_close_by_id(struct tdm_loop *loop, uint64_t id);
/* Close every connection (drain=true: shutdown semantics). */
unsigned tdm__iscsi_close_all(bool drain);
/* Close the sessions of targets missing or disabled in c. */
void tdm__iscsi_close_stale(const struct tdm_conf *c);
/* Shutdown: call done(arg) on loop once no connection is left. */
void tdm__iscsi_set_shutdown(void (*done)(void *arg), void *arg,
			     struct tdm_loop *loop);
/* Called when a conn is freed (shutdown accounting). */
void tdm__iscsi_conn_gone(void);
uint32_t tdm__iscsi_window(const struct tdm__iscsi_conn *c);
/* Recompute MaxCmdSN (never moves backwards). */
void tdm__iscsi_update_window(struct tdm__iscsi_conn *c);
/* Check a non-immediate CmdSN: 0 in order, 1 ahead (queue), -1 drop. */
int tdm__iscsi_cmdsn_check(struct tdm__iscsi_conn *c, uint32_t cmdsn);
/* Queue t (its cmdsn set) ahead of a gap in the command order, in
 * CmdSN order. */
void tdm__iscsi_queue_by_cmdsn(struct tdm__iscsi_conn *c,
			       struct tdm__iscsi_task *t);
/* A non-immediate request that will not be queued as a task itself (a
 * non-SCSI request, a rejected command) takes its CmdSN: in order (order
 * 0, from tdm__iscsi_cmdsn_check), ExpCmdSN moves on; ahead of a gap, a
 * placeholder waits in its place. */
void tdm__iscsi_cmdsn_consume(struct tdm__iscsi_conn *c, int order,
			      uint32_t cmdsn);
/* Deliver queued tasks whose turn came. */
void tdm__iscsi_deliver_queued(struct tdm__iscsi_conn *c);
extern bool tdm__iscsi_shutting_down;

/* ---- scsi_cmd.c ---- */
struct tdm__iscsi_task *tdm__iscsi_task_alloc(struct tdm__iscsi_conn *c);
void tdm__iscsi_task_get(struct tdm__iscsi_task *t);
void tdm__iscsi_task_put(struct tdm__iscsi_task *t);
struct tdm__iscsi_task *tdm__iscsi_task_find(struct tdm__iscsi_conn *c,
					     uint32_t itt);
void tdm__iscsi_task_unhash(struct tdm__iscsi_task *t);
/* SCSI Command header arrived: decide where its immediate data goes. */
void tdm__iscsi_scsi_cmd_hdr(struct tdm__iscsi_conn *c);
void tdm__iscsi_scsi_cmd_data(struct tdm__iscsi_conn *c, bool digest_ok);
void tdm__iscsi_data_out_hdr(struct tdm__iscsi_conn *c);
void tdm__iscsi_data_out_data(struct tdm__iscsi_conn *c, bool digest_ok);
void tdm__iscsi_task_submit(struct tdm__iscsi_task *t);
/* A sent PDU carried the task's last bytes. */
void tdm__iscsi_task_tx_done(struct tdm__iscsi_task *t);
/* Connection teardown: drop queued tasks and transport references. */
void tdm__iscsi_tasks_teardown(struct tdm__iscsi_conn *c, bool closing);
void tdm__iscsi_tasks_free_cache(struct tdm__iscsi_conn *c);
void tdm__iscsi_write_pending(struct tdm_cmd *cmd);
void tdm__iscsi_queue_status(struct tdm_cmd *cmd);
void tdm__iscsi_abort_pending(struct tdm_cmd *cmd);
void tdm__iscsi_free_cmd(struct tdm_cmd *cmd);
/* Abort queued (not yet submitted) tasks: all, or of one LUN. */
void tdm__iscsi_abort_queued(struct tdm__iscsi_conn *c, bool all, uint64_t lun);

/* ---- tmf.c ---- */
void tdm__iscsi_tmf_req(struct tdm__iscsi_conn *c, const uint8_t *bhs);
void tdm__iscsi_queue_tmf_rsp(struct tdm_tmf *tmf);

/* ---- discovery.c ---- */
void tdm__iscsi_text_req(struct tdm__iscsi_conn *c, const uint8_t *bhs,
			 const uint8_t *data, uint32_t len);
/* Build the SendTargets answer for value val into t. */
int tdm__iscsi_sendtargets(struct tdm__iscsi_conn *c, const char *val,
			   struct tdm__iscsi_text *t);

/* ---- portal.c ---- */
int tdm__iscsi_portals_apply(const struct tdm_conf *c, char *err,
			     size_t errlen);
void tdm__iscsi_portals_close(void);
/* Parse "addr[:port]" / "[v6]:port" into a sockaddr. */
int tdm__iscsi_parse_portal(const char *s, struct sockaddr_storage *ss,
			    socklen_t *len);
void tdm__iscsi_sockaddr_str(const struct sockaddr *sa, char *ip, size_t iplen,
			     uint16_t *port);

/* ---- throttle.c: CHAP guesses, per source address ---- */
/*
 * A CHAP response of peer arrived: how many ns it must wait before it is
 * checked (0: now), or -EBUSY when that source has more waiting already
 * than a login may wait.
 */
int64_t tdm__iscsi_auth_admit(const struct sockaddr_storage *peer);
/* It did not verify: how many ns the failure answer waits (0: now). */
uint64_t tdm__iscsi_auth_failed(const struct sockaddr_storage *peer);

/* session.c: Logout, and what follows the last running command */
void tdm__iscsi_logout_req(struct tdm__iscsi_conn *c, const uint8_t *bhs);
void tdm__iscsi_logout_progress(struct tdm__iscsi_conn *c);

#endif
