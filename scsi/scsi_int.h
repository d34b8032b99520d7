/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * core.h - the SCSI core's private header (not for transports or
 * backstores; they use include/tandem/).
 */
#ifndef TANDEM_CORE_H
#define TANDEM_CORE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "tandem/admin.h"
#include "tandem/backstore.h"
#include "tandem/config.h"
#include "lib/list.h"
#include "lib/lockorder.h"
#include "tandem/scsi.h"
#include "tandem/transport.h"
#include "pr-sync/pr.h"

/*
 * The core's locks, outermost first: a thread takes one only while the
 * locks it holds rank lower (lib/lockorder.h; scsi/README.md "Locks" says
 * what each protects and who takes it).
 */
enum {
	TDM__LOCK_PR_OUT = TDM_LOCK_RANK_SCSI,	     /* pr_scsi.c pr_out_lock */
	TDM__LOCK_MEDIUM = TDM_LOCK_RANK_SCSI + 10,  /* unit_state.c */
	TDM__LOCK_ALUA = TDM_LOCK_RANK_SCSI + 20,    /* alua_scsi.c (rw) */
	TDM__LOCK_REG = TDM_LOCK_RANK_SCSI + 30,     /* tdm__reg_lock (rw) */
	TDM__LOCK_CONF = TDM_LOCK_RANK_SCSI + 40,    /* target.c conf_lock */
	TDM__LOCK_LU = TDM_LOCK_RANK_SCSI + 50,	     /* lu->lock */
	TDM__LOCK_UA = TDM_LOCK_RANK_SCSI + 60,	     /* nx->ua_lock */
	TDM__LOCK_LUS = TDM_LOCK_RANK_SCSI + 70,     /* lu.c lus_lock */
	TDM__LOCK_XCOPY = TDM_LOCK_RANK_SCSI + 80,   /* xcopy.c xc_lock */
	TDM__LOCK_CLUSTER = TDM_LOCK_RANK_SCSI + 90, /* cluster.c cl.lock */
};

/* An exec handler returns a sense reason, or this when it will call
 * tdm__cmd_done() later. */
#define TDM__SR_ASYNC (-1)

/* ---- opcode tables (scsi/optable.c) ---- */

/* tdm_opdesc.flags */
#define TDM_OP_MEDIA                                                           \
	(1u << 0)	       /* medium access: refused by ALUA               \
				* standby/unavailable, NOT READY */
#define TDM_OP_WRITE (1u << 1) /* modifies the medium: write protect */
#define TDM_OP_UA_EXEMPT                                                       \
	(1u << 2) /* INQUIRY, REPORT LUNS, REQUEST SENSE:                      \
		   * do not report/clear a UA (SAM-5 5.14) */
#define TDM_OP_NO_LUN                                                          \
	(1u << 3) /* allowed on an unmapped LUN (REPORT                        \
		   * LUNS, INQUIRY, REQUEST SENSE) */
#define TDM_OP_SPC2_ALLOWED                                                    \
	(1u << 4) /* allowed under another nexus' SPC-2                        \
		   * RESERVE (SPC-2 5.5.1 / SPC-4 table) */
#define TDM_OP_PR_ALLOWED_WE                                                   \
	(1u << 5)		       /* allowed for non-registrants under    \
					* Write Exclusive (SPC-4 table 66) */
#define TDM_OP_PR_ALLOWED_EA (1u << 6) /* ... under Exclusive Access */
/*
 * ALUA: what a target port group that is not active serves (SPC-4
 * 5.15.2.4; scsi/alua_scsi.c tdm__alua_check()). One flag per state, so
 * that each entry of an opcode table says where it is served; active/
 * optimized and active/non-optimized serve every command. SPC-4's
 * minimum list per state, what Tandem serves beyond it and why: the
 * table of alua/README.md.
 */
#define TDM_OP_ALUA_ALLOWED (1u << 7)  /* standby (5.15.2.4.4) */
#define TDM_OP_ALUA_UNAVAIL (1u << 16) /* unavailable (5.15.2.4.5) */
#define TDM_OP_ALUA_TRANS (1u << 17)   /* transitioning (5.15.2.4.7) */
#define TDM_OP_ALUA_OFFLINE (1u << 18) /* offline (5.15.2.4.6) */
/* every state: INQUIRY, REPORT LUNS, REQUEST SENSE, REPORT TARGET PORT
 * GROUPS (the commands that find the way to another port) */
#define TDM_OP_ALUA_ANY                                                        \
	(TDM_OP_ALUA_ALLOWED | TDM_OP_ALUA_UNAVAIL | TDM_OP_ALUA_TRANS |       \
	 TDM_OP_ALUA_OFFLINE)
/* The gate flags of the commands every LU answers in every state:
 * INQUIRY, REPORT LUNS, REQUEST SENSE (both opcode tables use it) */
#define TDM_OP_ALWAYS                                                          \
	(TDM_OP_UA_EXEMPT | TDM_OP_NO_LUN | TDM_OP_SPC2_ALLOWED |              \
	 TDM_OP_PR_ALLOWED_WE | TDM_OP_PR_ALLOWED_EA | TDM_OP_ALUA_ANY)

struct tdm_opdesc {
	uint8_t opcode;
	uint16_t sa; /* service action, when has_sa */
	bool has_sa;
	uint8_t cdb_len;
	uint32_t flags;
	const char *name;
	/* Check the CDB, set cmd->dir, data_len, lba, nblocks, alloc_len,
	 * flags. May be NULL (no data, nothing to check). */
	int (*parse)(struct tdm_cmd *cmd);
	/* Run the command; see TDM__SR_ASYNC. */
	int (*exec)(struct tdm_cmd *cmd);
	/* CDB usage data for REPORT SUPPORTED OPERATION CODES */
	uint8_t usage[16];
	/* optional: does lu support the command at all (NULL: every LU
	 * does)? REPORT SUPPORTED OPERATION CODES asks it; the parse
	 * handler answers INVALID COMMAND OPERATION CODE itself. */
	bool (*supported)(const struct tdm_lu *lu);
};

/* Find the descriptor for cmd's CDB on its LU (NULL = invalid opcode;
 * *bad_sa set if the opcode exists but not the service action). */
const struct tdm_opdesc *tdm__op_lookup(const struct tdm_cmd *cmd,
					bool *bad_sa);
/* The disk (device type 00h) table alone; other tables borrow its SPC
 * entries (persistent reservations). */
const struct tdm_opdesc *tdm__disk_op_lookup(const struct tdm_cmd *cmd,
					     bool *bad_sa);
/* Iterate the disk table (REPORT SUPPORTED OPERATION CODES). */
size_t tdm__op_count(void);
const struct tdm_opdesc *tdm__op_at(size_t i);

/* ---- logical units ---- */

struct tdm_mode_state {
	bool wce;     /* caching page: write cache enable */
	bool rcd;     /* read cache disable */
	bool d_sense; /* control page: descriptor format sense */
	bool swp;     /* software write protect */
	uint8_t qerr;
	bool tas;     /* task aborted status */
	uint8_t mrie; /* informational exceptions */
	bool dexcpt;
};

struct tdm_lu {
	struct tdm_list all_link; /* on the list of every live LU */
	char name[64];
	atomic_int refcnt;
	uint64_t serial; /* unique for the daemon's life, never reused */
	struct tdm_conf_device conf;
	struct tdm_bs bs;
	uint32_t block_size;
	uint32_t block_shift;
	uint32_t lbppbe; /* logical blocks per physical block exponent */
	uint64_t nblocks;
	bool read_only; /* device level */

	/* identity (VPD 0x80 / 0x83), derived in scsi/lu.c */
	char usn[65];
	uint8_t naa[16];
	uint8_t naa_len; /* 8 (NAA 5) or 16 (NAA 6) */
	uint8_t eui64[16];
	uint8_t eui64_len;
	char t10_vendor[9];
	char product[17];
	char revision[5];
	char t10_dev_id[64];

	struct tdm_mutex lock; /* everything below; TDM__LOCK_LU */
	struct tdm_list cmds;  /* commands in TDM_CMD_EXEC */
	struct tdm_mode_state mode;
	struct tdm_mode_state mode_saved;
	struct tdm_nexus *spc2_holder; /* SPC-2 RESERVE holder (one head) */
	/* cluster mode: the holder by I_T nexus id, on any head
	 * (scsi/spc2_reserve.c); spc2_held is read by the gate without the lock
	 */
	atomic_bool spc2_held;
	struct tdm_pr_nexus *spc2_id;
	uint32_t prevent; /* PREVENT ALLOW MEDIUM REMOVAL count */
	bool stopped;	  /* START STOP UNIT stopped it */

	/* statistics */
	atomic_uint_fast64_t st_read_cmds, st_write_cmds, st_other_cmds;
	atomic_uint_fast64_t st_read_bytes, st_write_bytes;
	atomic_uint_fast64_t st_errors, st_aborts;
	struct tdm__iostats *iost; /* the metrics' counters (io_stats.c) */

	/* ---- persistent reservations (scsi/pr_scsi.c) ---- */
	struct tdm_pr_state *pr; /* under lock; replaced by PR OUT */
	atomic_uint pr_flags;	 /* TDM__PR_F_*, for the gate */

	/* ---- LBA range locks (scsi/caw.c) ---- */
	struct tdm_list rl_queue; /* struct tdm__range, under lock */
	atomic_uint rl_active;	  /* locks queued: 0 = the gate's fast path */

	/* ---- device type and CD-ROM medium (scsi/mmc.c) ---- */
	uint8_t dev_type;  /* SPC-4 PERIPHERAL DEVICE TYPE: 00h, 05h (MMC) */
	bool no_medium;	   /* CD-ROM drive without an image (under lock) */
	uint8_t mmc_event; /* pending MMC-6 media event code (under lock) */

	/* ---- deferred_open: the backing follows ALUA (scsi/backing.c) ---- */
	bool deferred;	     /* conf.deferred_open, set at open */
	atomic_int bk_state; /* enum tdm__bk_state */
	atomic_int bk_users; /* requests in the backstore now */
	char bk_error[160];  /* the last attach failure (main thread) */
};

/* scsi/backing.c */
enum tdm__bk_state {
	TDM__BK_OPEN = 0,  /* the backing is open (every LU without
			    * deferred_open, always) */
	TDM__BK_DETACHING, /* no new request; closed by the last one out */
	TDM__BK_DETACHED,  /* closed; the geometry is the probe's */
};
const char *tdm__bk_state_name(int st);
/* Begin/end a use of lu->bs outside tdm__bk_submit (GET LBA STATUS):
 * false when the backing is not open here */
bool tdm__bk_enter(struct tdm_lu *lu);
void tdm__bk_exit(struct tdm_lu *lu);
/* lu->bs.ops->submit, counted for a deferred LU; io->done gets
 * TDM_BS_DETACHED when the backing is not open here */
void tdm__bk_submit(struct tdm_lu *lu, struct tdm_bs_io *io);
/* Open lu's backing now (main thread or a loop; no lock held); 0, or
 * -errno with the reason in err and in lu->bk_error */
int tdm__bk_attach(struct tdm_lu *lu, char *err, size_t errlen);
/* Stop new requests to lu's backing; the last one out closes it */
void tdm__bk_detach(struct tdm_lu *lu);
/* Attach or detach every deferred LU of the registry as this head's
 * port group for it is active or not (after every ALUA change) */
void tdm__bk_follow(void);
/* Deferred LUs created (+1) and freed (-1), by scsi/lu.c */
void tdm__bk_count(int delta);
/* Attach the deferred LUs of device group dg before this head's group tg
 * is made active: 0, or -errno with the device and reason in err */
int tdm__bk_prepare_active(const char *dg, const char *tg, char *err,
			   size_t errlen);

/* scsi/lu.c */
int tdm__lu_open(const struct tdm_conf_device *conf, struct tdm_lu **out,
		 char *err, size_t errlen);
void tdm__lu_get(struct tdm_lu *lu);
void tdm__lu_put(struct tdm_lu *lu);

/* ---- LUN maps, targets, nexuses (scsi/target.c) ---- */

/* cmd->lun_flags */
#define TDM_LUNF_READ_ONLY (1u << 0)

/*
 * SAM-5 4.7: decode the 8-byte LUN field (peripheral 00b and flat space
 * 01b addressing, single level) into a LUN number 0..16383; -EINVAL for
 * other forms. encode is the inverse (REPORT LUNS).
 */
int tdm__lun_decode(uint64_t sam_lun, uint64_t *lun);
/* Ask nx's transport for the initiator port's TransportID, check that it
 * is one of ops->protocol and keep it, decoded, with its printable name
 * (scsi/nexus_id.c). 0 (also without ops->transport_id), or -EINVAL: the
 * transport gave none that decodes, and nx has no TransportID. */
int tdm__nexus_identify(struct tdm_nexus *nx);
/* A command of nx was released (frees a dying nexus after the last). */
void tdm__nexus_cmd_released(struct tdm_nexus *nx);

struct tdm_lunmap_ent {
	uint64_t lun;
	struct tdm_lu *lu;
	bool read_only;
};

struct tdm_lunmap {
	size_t n;
	struct tdm_lunmap_ent ents[]; /* sorted by lun */
};

struct tdm_ua {
	struct tdm_list link;
	uint64_t lu_serial;
	uint8_t reason; /* enum tdm_sense_reason, UA family */
};

struct tdm_nexus {
	struct tdm_list link; /* on the global nexus list */
	struct tdm_nexus_id id;
	/* id.tid decoded (if id.tid_len): the initiator port as persistent
	 * reservations name it (scsi/nexus_id.c) */
	struct tdm_pr_tid tid;
	uint64_t id_num; /* session id for tandemctl, never reused */
	struct tdm_lunmap *test_map; /* owned map of tdm__test_nexus() */
	uint16_t rel_port;
	const struct tdm_transport_ops *ops;
	struct tdm_loop *loop;
	void *priv;
	/* current LUN map (owned by the registry, replaced under the
	 * registry write lock) */
	const struct tdm_lunmap *map;
	char group[64]; /* initiator group that gave the map, "" = default */

	struct tdm_mutex ua_lock; /* uas; TDM__LOCK_UA */
	struct tdm_list uas;
	atomic_int nua;

	atomic_int ncmds;  /* commands submitted and not yet released */
	atomic_bool dying; /* tdm_nexus_destroy() called */
	/* its port's metrics counters (scsi/io_stats.c): set with rel_port
	 * under the registry write lock, read by its commands' loop */
	_Atomic(struct tdm__iostats *) iost;
	uint64_t created_ns;
};

/* The registry: the running objects built from the current config
 * (TDM__LOCK_REG). */
extern struct tdm_rwlock tdm__reg_lock;

/* Resolve a command's LUN (takes a ref on the LU); NULL if not mapped. */
struct tdm_lu *tdm__lun_lookup(struct tdm_nexus *nx, uint64_t lun,
			       bool *read_only);
/* Every live LU, retired ones included, each with a reference taken;
 * the array is malloc'ed. */
struct tdm_lu **tdm__all_lus(size_t *n);
/* The LUs of nx's current map, each with a reference; malloc'ed array. */
struct tdm_lu **tdm__nexus_lus(struct tdm_nexus *nx, size_t *n);
/* SPC-2 reservation cleared by a reset (scsi/spc2_reserve.c) */
/* A LOGICAL UNIT RESET of lu from issuer clears its SPC-2 reservation;
 * in cluster mode on every head: tmf's response then waits until every
 * head applied it (tmf may be NULL). */
struct tdm_tmf;
void tdm__spc2_reset(struct tdm_lu *lu, const struct tdm_nexus *issuer,
		     struct tdm_tmf *tmf);
/* The same for a TARGET COLD RESET (a power on of lu: POWER ON OCCURRED
 * on the other heads' nexuses) */
void tdm__spc2_power_on(struct tdm_lu *lu, const struct tdm_nexus *issuer,
			struct tdm_tmf *tmf);
/* A TARGET COLD RESET from issuer ends every other nexus of its target,
 * and in cluster mode on every head (tmf waits as above). */
void tdm__target_close(const struct tdm_nexus *issuer, struct tdm_tmf *tmf);
/* Ask the transports to close every nexus of the target but except
 * (scsi/target.c). */
void tdm__close_target_nexuses(const char *target,
			       const struct tdm_nexus *except);
/* An SPC-2 reservation holds lu (any nexus, any head). */
bool tdm__spc2_held(struct tdm_lu *lu);
/*
 * Unit tests: a nexus on the current loop that sees lus[i] at LUN i
 * (ops must implement queue_status and free_cmd), and its disposal.
 */
struct tdm_nexus *tdm__test_nexus(struct tdm_lu **lus, size_t n,
				  const struct tdm_transport_ops *ops);
void tdm__test_nexus_free(struct tdm_nexus *nx);
/* The relative target port ids of every target (malloc'ed array). */
uint16_t *tdm__target_ports(size_t *n);
/* The registry's LUs, each referenced (*lus malloc'ed); this head's
 * target ports and their names (both malloc'ed). 0 or -ENOMEM. */
int tdm__registry_lus(struct tdm_lu ***lus, size_t *n);
int tdm__registry_ports(uint16_t **ports, char (**names)[224], size_t *n);

/* ---- metrics' counters (scsi/io_stats.c, include/tandem/metrics.h) ---- */
struct tdm__iostats;
struct tdm__iostats *tdm__iostats_new(void);
void tdm__iostats_free(struct tdm__iostats *st);
/* The counters of relative target port rel_port (made at first use, kept
 * for the daemon's life); NULL when out of memory. */
struct tdm__iostats *tdm__iostats_port(uint16_t rel_port);
/* A command enters the gate (its start time, its port's in-flight
 * count); its LUN resolved to cmd->lu; its status goes to the transport
 * (silent_abort: aborted without a status). */
void tdm__iostats_submit(struct tdm_cmd *cmd);
void tdm__iostats_lu_resolved(struct tdm_cmd *cmd);
void tdm__iostats_done(struct tdm_cmd *cmd, bool silent_abort);

/* The LU named name, referenced (tdm__lu_put it), or NULL. */
struct tdm_lu *tdm__lu_by_name(const char *name);

/* Iterate the nexuses (under tdm__reg_lock held for reading). */
extern struct tdm_list tdm__nexuses;

/* ---- unit attentions (scsi/ua.c) ---- */

/* Queue UA sr for every nexus that sees lu, except `except` (may be NULL). */
void tdm__ua_raise_lu(struct tdm_lu *lu, enum tdm_sense_reason sr,
		      const struct tdm_nexus *except);
/* Queue UA sr on one nexus for one LU (or every LU in its map if NULL). */
void tdm__ua_raise(struct tdm_nexus *nx, const struct tdm_lu *lu,
		   enum tdm_sense_reason sr);
/* Pop the highest priority UA of (nx, lu); TDM_SR_OK if none. */
enum tdm_sense_reason tdm__ua_take(struct tdm_nexus *nx,
				   const struct tdm_lu *lu, bool peek);
void tdm__ua_clear_nexus(struct tdm_nexus *nx);
/* Drop pending conditions of reason sr for (nx, lu) (lu NULL: any LU). */
void tdm__ua_clear(struct tdm_nexus *nx, const struct tdm_lu *lu,
		   enum tdm_sense_reason sr);

/* ---- commands (scsi/cmd.c) ---- */

/* Complete an async command (TDM_SR_OK or a reason). */
void tdm__cmd_done(struct tdm_cmd *cmd, int sr);
/* Same with sense details (INFORMATION, field pointer). */
void tdm__cmd_done_info(struct tdm_cmd *cmd, int sr,
			const struct tdm_sense_info *info);
/*
 * Data-in helper: copy min(len, cmd->alloc_len, buf_cap) bytes to cmd->buf
 * and set data_len.
 */
void tdm__cmd_put_data(struct tdm_cmd *cmd, const void *data, size_t len);
/* Make sure cmd->buf holds at least len bytes (keeps content). */
int tdm__cmd_buf_reserve(struct tdm_cmd *cmd, uint32_t len);
/* Invalid field in CDB at byte/bit, with the sense key specific pointer. */
int tdm__cdb_err(struct tdm_cmd *cmd, uint16_t byte, int8_t bit);
/* Invalid field in parameter list at byte/bit. */
int tdm__param_err(struct tdm_cmd *cmd, uint16_t byte, int8_t bit);
const char *tdm__cmd_state_name(enum tdm_cmd_state s);

/* ---- task management (scsi/task_mgmt.c) ---- */

/* A command that a TMF waited for has ended. */
void tdm__tmf_cmd_done(struct tdm_tmf *tmf);
/* Abort every command of nx (I_T nexus loss), no TMF response. */
void tdm__abort_nexus(struct tdm_nexus *nx);

/* ---- sense (scsi/sense.c) ---- */

struct tdm_sense_entry {
	uint8_t status;
	uint8_t key;
	uint8_t asc;
	uint8_t ascq;
};
extern const struct tdm_sense_entry tdm_sense_table[TDM__SR_COUNT];
/* Build sense data in fixed (0x70) or descriptor (0x72) format. */
size_t tdm__sense_build(uint8_t *buf, size_t len, enum tdm_sense_reason sr,
			const struct tdm_sense_info *info, bool descriptor);
enum tdm_sense_reason tdm__bs_status_to_sr(enum tdm_bs_status st, bool write);

/* ---- SPC / SBC handlers (scsi/inquiry.c, lun.c, unit_state.c,
 * log_sense.c, spc2_reserve.c, mode.c, sbc.c) ---- */

static inline uint32_t tdm__min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

/* Parse helpers shared by the opcode tables (scsi/optable.c) */
int tdm__parse_alloc6(struct tdm_cmd *cmd);  /* alloc len in byte 4 */
int tdm__parse_alloc10(struct tdm_cmd *cmd); /* alloc len in bytes 7-8 */
int tdm__parse_none(struct tdm_cmd *cmd);

/* SPC */
int tdm__spc_inquiry_parse(struct tdm_cmd *cmd);
int tdm__spc_inquiry(struct tdm_cmd *cmd);
int tdm__spc_report_luns_parse(struct tdm_cmd *cmd);
int tdm__spc_report_luns(struct tdm_cmd *cmd);
int tdm__spc_test_unit_ready(struct tdm_cmd *cmd);
int tdm__spc_request_sense(struct tdm_cmd *cmd);
int tdm__spc_mode_sense_parse(struct tdm_cmd *cmd);
int tdm__spc_mode_sense(struct tdm_cmd *cmd);
int tdm__spc_mode_select_parse(struct tdm_cmd *cmd);
int tdm__spc_mode_select(struct tdm_cmd *cmd);
int tdm__spc_log_sense_parse(struct tdm_cmd *cmd);
int tdm__spc_log_sense(struct tdm_cmd *cmd);
int tdm__spc_reserve(struct tdm_cmd *cmd);
int tdm__spc_release(struct tdm_cmd *cmd);
int tdm__spc_prevent_allow(struct tdm_cmd *cmd);
int tdm__spc_start_stop(struct tdm_cmd *cmd);
/* Called by the gate: does an SPC-2 reservation forbid this command? */
bool tdm__spc2_conflict(struct tdm_cmd *cmd);
void tdm__spc2_nexus_gone(struct tdm_nexus *nx);
/* Cluster: apply an ordered SPC-2 event (TDM__ORD_* below) from the
 * nexus id; lu NULL: every LU (nexus gone). mine: this head sent it.
 * Returns the sense reason of the command that sent it. */
int tdm__spc2_apply(struct tdm_lu *lu, uint8_t kind,
		    const struct tdm_pr_nexus *id, bool mine);
/* The holder's id for a snapshot (false: none), and set from one. */
bool tdm__spc2_get(struct tdm_lu *lu, struct tdm_pr_nexus *id);
void tdm__spc2_set(struct tdm_lu *lu, const struct tdm_pr_nexus *id);

/* SBC */
int tdm__sbc_rw_parse(struct tdm_cmd *cmd);
int tdm__sbc_read(struct tdm_cmd *cmd);
int tdm__sbc_write(struct tdm_cmd *cmd);
int tdm__sbc_verify_parse(struct tdm_cmd *cmd);
int tdm__sbc_verify(struct tdm_cmd *cmd);
int tdm__sbc_write_verify(struct tdm_cmd *cmd);
int tdm__sbc_read_capacity10_parse(struct tdm_cmd *cmd);
int tdm__sbc_read_capacity10(struct tdm_cmd *cmd);
int tdm__sbc_read_capacity16_parse(struct tdm_cmd *cmd);
int tdm__sbc_read_capacity16(struct tdm_cmd *cmd);
int tdm__sbc_sync_cache_parse(struct tdm_cmd *cmd);
int tdm__sbc_sync_cache(struct tdm_cmd *cmd);

/* Issue a backstore request for cmd; completion ends the command. */
void tdm__bs_io(struct tdm_cmd *cmd, struct tdm_bs_io *io);

/*
 * What every medium access command decides the same way (scsi/sbc.c).
 * SBC-4 4.5: do the n blocks from lba lie on lu's medium (overflow
 * included)? tdm__lba_check(): TDM_SR_OK, or LOGICAL BLOCK ADDRESS OUT OF
 * RANGE without INFORMATION or field pointer (EXTENDED COPY reports its
 * copy targets' ranges otherwise); tdm__sbc_check_range(): the medium
 * (tdm__lu_medium_check()) first.
 */
bool tdm__lba_in_range(const struct tdm_lu *lu, uint64_t lba, uint64_t n);
int tdm__lba_check(const struct tdm_lu *lu, uint64_t lba, uint64_t n);
int tdm__sbc_check_range(struct tdm_cmd *cmd, uint64_t lba, uint64_t n);
/* Has lu a volatile write cache (nv_cache: declared non-volatile)? */
bool tdm__lu_volatile_cache(const struct tdm_lu *lu);
/* Must a write to lu reach stable storage before it completes? With a
 * volatile cache: FUA, or WCE=0 in the caching mode page (write
 * through). */
bool tdm__write_stable(const struct tdm_lu *lu, bool fua);
/* Read or write cmd's blocks (cmd->lba, cmd->nblocks) from or to buf;
 * cmd->exec_done gets the result. */
void tdm__sbc_rw(struct tdm_cmd *cmd, uint8_t op, void *buf, bool fua);
/* Flush lu's volatile cache; cmd->exec_done gets the result. */
void tdm__sbc_flush(struct tdm_cmd *cmd);
/* Offset of the first byte where a and b differ, or len (MISCOMPARE's
 * INFORMATION). */
size_t tdm__first_diff(const uint8_t *a, const uint8_t *b, size_t len);

/* ---- appended by the SPC/SBC emulation (scsi/unit_state.c, sbc.c) ---- */

/* SBC-3 PRE-FETCH(10)/(16) and READ DEFECT DATA(10)/(12) */
int tdm__sbc_prefetch_parse(struct tdm_cmd *cmd);
int tdm__sbc_prefetch(struct tdm_cmd *cmd);
int tdm__sbc_read_defect_parse(struct tdm_cmd *cmd);
int tdm__sbc_read_defect(struct tdm_cmd *cmd);
/* Block limits VPD MAXIMUM TRANSFER LENGTH of lu, in logical blocks. */
uint32_t tdm__lu_max_xfer_blocks(const struct tdm_lu *lu);
/*
 * Medium state of a removable LU: TDM_SR_OK, or NOT READY MEDIUM NOT
 * PRESENT after START STOP UNIT unloaded it (LOEJ=1, START=0). The gate's
 * lu->stopped test covers a stopped unit; an unloaded one is also stopped.
 */
int tdm__lu_medium_check(struct tdm_lu *lu);
/* SBC-3 PREVENT ALLOW MEDIUM REMOVAL: nx no longer prevents removal from
 * lu (nx NULL: nobody does; a LU reset). */
void tdm__medium_prevent_drop(struct tdm_lu *lu, const struct tdm_nexus *nx);
/*
 * INQUIRY TPGS field and the target port group of a nexus' port (VPD 83h
 * designator type 5h), from scsi/alua_scsi.c.
 */
uint8_t tdm__lu_tpgs(const struct tdm_lu *lu);
uint16_t tdm__port_group_of(const struct tdm_lu *lu,
			    const struct tdm_nexus *nx);

/* ---- appended by thin provisioning and RSOC (scsi/thin.c, rsoc.c) ---- */

/*
 * SBC-4 4.7: logical block provisioning. An LU is thin provisioned
 * (LBPME=1) when configured thin_provisioned and its backstore can
 * deallocate; LBPRZ says that deallocated blocks read back as zeros.
 */
bool tdm__lu_thin(const struct tdm_lu *lu);
bool tdm__lu_lbprz(const struct tdm_lu *lu);
/* Block limits VPD (64 bytes at p): WSNZ, the UNMAP and WRITE SAME
 * fields. */
void tdm__thin_vpd_block_limits(const struct tdm_lu *lu, uint8_t *p);
/* Logical block provisioning VPD: fills p[4..]; returns the page size. */
size_t tdm__thin_vpd_lbp(const struct tdm_lu *lu, uint8_t *p);
/* READ CAPACITY(16) byte 14: LBPME and LBPRZ. */
uint8_t tdm__thin_rc16_bits(const struct tdm_lu *lu);
/* UNMAP, WRITE SAME(10)/(16), GET LBA STATUS */
int tdm__thin_unmap_parse(struct tdm_cmd *cmd);
int tdm__thin_unmap(struct tdm_cmd *cmd);
int tdm__thin_ws_parse(struct tdm_cmd *cmd);
int tdm__thin_ws(struct tdm_cmd *cmd);
int tdm__thin_lba_status_parse(struct tdm_cmd *cmd);
int tdm__thin_lba_status(struct tdm_cmd *cmd);

/* SPC-4 6.35, 6.36: REPORT SUPPORTED OPERATION CODES / TASK MANAGEMENT
 * FUNCTIONS (MAINTENANCE IN) */
int tdm__rsoc_parse(struct tdm_cmd *cmd);
int tdm__rsoc(struct tdm_cmd *cmd);
int tdm__rstmf_parse(struct tdm_cmd *cmd);
int tdm__rstmf(struct tdm_cmd *cmd);

/* ---- persistent reservations (scsi/pr_scsi.c, pr-sync/) ---- */

/* lu->pr_flags: what the gate must look at without taking lu->lock */
#define TDM__PR_F_REGISTERED (1u << 0) /* some I_T nexus is registered */
#define TDM__PR_F_RESERVED (1u << 1)   /* a persistent reservation exists */

int tdm__pr_in_parse(struct tdm_cmd *cmd);
int tdm__pr_in(struct tdm_cmd *cmd);
int tdm__pr_out_parse(struct tdm_cmd *cmd);
int tdm__pr_out(struct tdm_cmd *cmd);
/* Called by the gate: does a persistent reservation forbid this command
 * (SPC-4 5.13.1), or an SPC-2 RESERVE this PERSISTENT RESERVE IN/OUT? */
bool tdm__pr_conflict(struct tdm_cmd *cmd);
/* LU open (restores the APTPL file) and last put. */
void tdm__pr_lu_init(struct tdm_lu *lu);
void tdm__pr_lu_fini(struct tdm_lu *lu);
/* Under lu->lock: registrations exist, so SPC-2 RESERVE conflicts. */
bool tdm__pr_blocks_spc2(struct tdm_lu *lu);
/* Abort the tasks of nx on lu (PREEMPT AND ABORT); may be called with
 * tdm__reg_lock held: those waiting for data-out go back to their
 * transport later, from their loop, never from inside the call. */
void tdm__abort_lu_nexus(struct tdm_lu *lu, struct tdm_nexus *nx);
/* Abort every task of lu, whichever nexus (a LU reset on another head). */
void tdm__abort_lu_all(struct tdm_lu *lu);
/*
 * Order and apply a PERSISTENT RESERVE OUT received on nx; done() gets the
 * result (res valid during the call only). Single node: applied at once.
 * op is not kept after the call returns.
 */
typedef void (*tdm__pr_done_fn)(void *arg, int sr,
				const struct tdm_pr_result *res);
void tdm__pr_submit(struct tdm_lu *lu, const struct tdm_pr_op *op,
		    struct tdm_nexus *nx, tdm__pr_done_fn done, void *arg);
/*
 * Cluster: apply a PERSISTENT RESERVE OUT delivered in agreed order (the
 * CDB, its parameter list, and the nexus that sent it on whichever
 * head). sender: that nexus when it is on this head (it gets no unit
 * attention), else NULL. Returns the sense reason; info its SKS.
 */
int tdm__pr_apply_ordered(struct tdm_lu *lu, const uint8_t *cdb,
			  const uint8_t *param, size_t len,
			  const struct tdm_pr_nexus *nx,
			  const struct tdm_nexus *sender,
			  struct tdm_sense_info *info);
/* The name persistent reservations and the cluster give nx: its
 * TransportID and relative target port (scsi/nexus_id.c); -ENOENT if the
 * transport gave no TransportID. */
int tdm__pr_nexus_id(const struct tdm_nexus *nx, struct tdm_pr_nexus *out);
/* lu's PR state as bytes (pr-sync's encoding), and back (written to the
 * APTPL file first). */
int tdm__pr_snapshot(struct tdm_lu *lu, uint8_t **buf, size_t *len);
int tdm__pr_load(struct tdm_lu *lu, const uint8_t *buf, size_t len);

/* ---- COMPARE AND WRITE, ORWRITE, WRITE ATOMIC, range locks (scsi/caw.c) */

/*
 * An LBA range lock of an LU (or a command parked behind one). Owners
 * fill it with tdm__range_init(); the other fields are caw.c's.
 */
struct tdm__range {
	struct tdm_list link; /* on lu->rl_queue */
	struct tdm_lu *lu;
	uint64_t lba, end;   /* [lba, end) */
	struct tdm_cmd *cmd; /* owner (may be NULL), or the parked command */
	void (*granted)(struct tdm__range *r);
	struct tdm_loop *loop; /* where granted() runs */
	uint8_t kind, state;
	bool async;
};
void tdm__range_init(struct tdm__range *r, struct tdm_lu *lu, uint64_t lba,
		     uint64_t nblocks, struct tdm_cmd *owner,
		     void (*granted)(struct tdm__range *r),
		     struct tdm_loop *loop);
/* Queue r: true if granted at once, else r->granted(r) runs later on
 * r->loop. Hold a range only for the owner's own backstore I/O. */
bool tdm__range_lock(struct tdm__range *r);
void tdm__range_unlock(struct tdm__range *r);
/* Gate hooks (cmd.c), called only while lu->rl_active is not 0: park a
 * medium access command that overlaps a queued lock (true: it resumes
 * later), and a command of the LU finished. */
bool tdm__range_park(struct tdm_cmd *cmd);
void tdm__range_cmd_done(struct tdm_cmd *cmd);
int tdm__caw_parse(struct tdm_cmd *cmd);
int tdm__caw(struct tdm_cmd *cmd);
int tdm__orwrite_parse(struct tdm_cmd *cmd);
int tdm__orwrite(struct tdm_cmd *cmd);
int tdm__write_atomic_parse(struct tdm_cmd *cmd);
int tdm__write_atomic(struct tdm_cmd *cmd);
/* Block limits VPD (64 bytes at p): MAXIMUM COMPARE AND WRITE LENGTH and
 * the atomic write fields. */
void tdm__caw_vpd_b0(const struct tdm_lu *lu, uint8_t *p);

/* ---- EXTENDED COPY, RECEIVE COPY RESULTS (scsi/xcopy.c) ---- */
int tdm__xcopy_parse(struct tdm_cmd *cmd);
int tdm__xcopy(struct tdm_cmd *cmd);
int tdm__rcr_parse(struct tdm_cmd *cmd);
int tdm__rcr(struct tdm_cmd *cmd);
/* Third-party copy VPD page (SPC-4 7.8.17): fills p[4..], returns the
 * page size. */
size_t tdm__xcopy_vpd(const struct tdm_lu *lu, uint8_t *p);

/* ---- ALUA (scsi/alua_scsi.c, alua/; appended) ---- */

struct tdm_alua_req;
/* The gate: may cmd pass the asymmetric access state of its port? */
int tdm__alua_check(struct tdm_cmd *cmd);
/* Rebuild the port groups from a new configuration (tdm_core_apply):
 * ASYMMETRIC ACCESS STATE CHANGED where a device's groups changed. */
int tdm__alua_apply(const struct tdm_conf *c);
/* Set a group's state (implicit transition; dg NULL: every device
 * group with that group id). 0, -ENOENT, -EINVAL, -ENOMEM. cause: who
 * made the change, for the log ("cluster snapshot" ...). */
int tdm__alua_set_state(const char *dg, uint16_t group_id, uint8_t state);
int tdm__alua_set_state_status(const char *dg, uint16_t group_id, uint8_t state,
			       uint8_t status, const char *cause);
/* Set a group's preferred bit (cluster snapshots). As above. */
int tdm__alua_set_preferred(const char *dg, uint16_t group_id, bool preferred,
			    const char *cause);
/* tdm_core_alua_activate() applied on this head now, cause for the log.
 * 0, -ENOENT, -ENOTSUP (not a DEVICE_GROUP), -ENOMEM. */
int tdm__alua_activate(const char *dg, const char *tg, const char *cause);
/* tdm_core_alua_set_tgrp() applied on this head now (preferred -1: kept),
 * cause for the log. 0, -ENOENT, -ENOTSUP, -EINVAL, -ENOMEM. */
int tdm__alua_set_tgrp(const char *dg, const char *tg, uint8_t state,
		       int preferred, const char *cause);
/* An ordered SET TARGET PORT GROUPS (cluster): apply, UAs to every nexus
 * but sender (NULL: all; the command came through another head). Returns
 * the sense reason, info for its SKS. */
int tdm__alua_apply_ordered(struct tdm_lu *lu, const struct tdm_alua_req *reqs,
			    size_t n, const struct tdm_nexus *sender,
			    struct tdm_sense_info *info);
/* The relative port ids of every target port group (all heads' ports,
 * duplicates possible). */
size_t tdm__alua_ports(uint16_t **out);
/* Heads of the cluster (protocol 5, scsi/cluster.c). This head's
 * relative target ports (at most max; 0 before any configuration). */
struct tdm_alua_tgrp_set;
size_t tdm__alua_local_ports(uint16_t *out, size_t max);
/* Is lu served through one of ports (this head's) now: the group holding
 * it active/optimized or active/non-optimized (or no group: true)? */
bool tdm__alua_active_here(const struct tdm_lu *lu, const uint16_t *ports,
			   size_t n);
/* Is lu in device group dg, and does its target group tg hold one of
 * ports (this head's)? */
bool tdm__alua_tgrp_serves(const char *dg, const char *tg,
			   const struct tdm_lu *lu, const uint16_t *ports,
			   size_t n);
/* A head with ports[0..n) left (state unavailable, from -1) or rejoined
 * (transitioning, from unavailable): its groups in state from take state
 * without the preferred bit (alua.h tdm_alua_set_head), logged with
 * cause, 6/2A/06 on every nexus of their devices. The number of groups
 * changed, or -errno. */
int tdm__alua_set_head(const uint16_t *ports, size_t n, uint8_t state, int from,
		       const char *cause);
/* This head's groups that are transitioning (and not configured so),
 * each with the state it leaves it for: its configured state and
 * preferred bit (rejoin_state < 0), or rejoin_state without the bit.
 * *out malloc'ed (free it). */
size_t tdm__alua_local_transitioning(struct tdm_alua_tgrp_set **out,
				     int rejoin_state);
/* Apply v[0..n) (alua.h tdm_alua_set_tgrps), logged with cause, 6/2A/06
 * on every nexus of their devices. 0 or -errno. */
int tdm__alua_set_tgrps(const struct tdm_alua_tgrp_set *v, size_t n,
			const char *cause);

/* ---- cluster mode (scsi/cluster.c) ---- */

/* ORDER kinds of tandemd (opaque to the agent; never renumber) */
enum {
	TDM__ORD_SPC2_RESERVE = 1,
	TDM__ORD_SPC2_RELEASE = 2,
	TDM__ORD_NEXUS_GONE = 3,    /* releases its SPC-2 reservations */
	TDM__ORD_LU_RESET = 4,	    /* LOGICAL UNIT RESET on some head */
	TDM__ORD_LU_POWER_ON = 5,   /* TARGET COLD RESET: each LU, 29/01 */
	TDM__ORD_TARGET_CLOSE = 6,  /* ... then the target's sessions end */
	TDM__ORD_ALUA_ACTIVATE = 7, /* tandemctl -activate_tgrp (protocol 3) */
	TDM__ORD_ALUA_SET_TGRP = 8, /* tandemctl -set_tgrp_state (protocol 4) */
	TDM__ORD_ALUA_REJOINED = 9, /* a rejoined head's groups (protocol 5) */
};
/* The lowest cluster protocol (agents' group version) that orders
 * TDM__ORD_ALUA_ACTIVATE and carries the preferred bits in snapshots. */
#define TDM__CLUSTER_PROTO_ACTIVATE 3
/* ... that orders TDM__ORD_ALUA_SET_TGRP (every head applies kind 8) */
#define TDM__CLUSTER_PROTO_SET_TGRP 4
/* ... whose heads apply HEADS (departed heads unavailable, joining ones
 * transitioning) and TDM__ORD_ALUA_REJOINED */
#define TDM__CLUSTER_PROTO_HEADS 5
/* Order event kind for device dev ("" = all) from the nexus id through
 * the agent; with cmd, cmd completes when it comes back (TDM__SR_ASYNC
 * or a sense reason now), without, nobody waits (0 or -errno). */
int tdm__cluster_order(struct tdm_cmd *cmd, uint8_t kind, const char *dev,
		       const struct tdm_pr_nexus *id);
/* ... or with done(arg, status) instead of a command (main loop or any
 * loop: done runs on the main loop); 0 when done will be called. */
#ifndef TDM_CLUSTER_DONE_FN
#define TDM_CLUSTER_DONE_FN
typedef void (*tdm_cluster_done_fn)(void *arg, int status);
#endif
int tdm__cluster_order_cb(struct tdm_cmd *cmd, tdm_cluster_done_fn done,
			  void *arg, uint8_t kind, const char *dev,
			  const struct tdm_pr_nexus *id);

/* tandemd runs with an agent: PR OUT and STPG are ordered by it. */
bool tdm__cluster_mode(void);
/* Cluster mode and not serving: media access and PR OUT are refused
 * (the ports behave as transitioning). */
bool tdm__cluster_fenced(void);
/* Send cmd's PERSISTENT RESERVE OUT / SET TARGET PORT GROUPS to the
 * agent; the command completes when it comes back ordered (or is
 * rejected). Returns TDM__SR_ASYNC or a sense reason. */
int tdm__cluster_pr_out(struct tdm_cmd *cmd);
int tdm__cluster_alua_set(struct tdm_cmd *cmd, const struct tdm_alua_req *reqs,
			  size_t n);
/* Order tdm_core_alua_activate() through the agent (1, or -errno). */
int tdm__cluster_alua_activate(const char *dg, const char *tg, const char *who,
			       tdm_cluster_done_fn done, void *arg);
/* Order tdm_core_alua_set_tgrp() through the agent (1, or -errno). */
int tdm__cluster_alua_set_tgrp(const char *dg, const char *tg, uint8_t state,
			       int preferred, const char *who,
			       tdm_cluster_done_fn done, void *arg);
void tdm__alua_shutdown(void);
/* Is lu in a configured DEVICE_GROUP (explicit ALUA, TPGS 11b)? */
bool tdm__alua_explicit(const struct tdm_lu *lu);
/*
 * Order and apply SET TARGET PORT GROUPS received on sender; done() gets
 * the result. Single node: applied at once (the cluster seam).
 */
typedef void (*tdm__alua_done_fn)(void *arg, int sr,
				  const struct tdm_sense_info *info);
void tdm__alua_submit(struct tdm_lu *lu, const struct tdm_alua_req *reqs,
		      size_t n, struct tdm_nexus *sender,
		      tdm__alua_done_fn done, void *arg);
/* REPORT / SET TARGET PORT GROUPS (MAINTENANCE IN / OUT, SA 0Ah) */
int tdm__rtpg_parse(struct tdm_cmd *cmd);
int tdm__rtpg(struct tdm_cmd *cmd);
int tdm__stpg_parse(struct tdm_cmd *cmd);
int tdm__stpg(struct tdm_cmd *cmd);
bool tdm__stpg_supported(const struct tdm_lu *lu);

/* ---- MMC CD/DVD-ROM logical units (scsi/mmc.c, scsi/optable_mmc.c) ---- */

/* SPC-4 table 48 (INQUIRY): PERIPHERAL DEVICE TYPE */
#define TDM_DEVTYPE_DISK 0x00
#define TDM_DEVTYPE_CDROM 0x05

/* The MMC opcode table (lookup as tdm__op_lookup() does for disks). */
const struct tdm_opdesc *tdm__mmc_op_lookup(const struct tdm_cmd *cmd,
					    bool *bad_sa);
/* unit_state.c: a CD-ROM got a new medium (the drive is loaded and
 * started). */
void tdm__lu_medium_inserted(struct tdm_lu *lu);
/*
 * Swap the medium of CD-ROM lu for the image of conf (filename "" ejects
 * it) without closing a session: refused with -EBUSY while PREVENT
 * ALLOW MEDIUM REMOVAL prevents removal or commands keep running;
 * raises MEDIUM MAY HAVE CHANGED on every nexus of lu. 0 or -errno with
 * a message in err.
 */
int tdm__mmc_change_medium(struct tdm_lu *lu,
			   const struct tdm_conf_device *conf, char *err,
			   size_t errlen);
/* A CD-ROM whose configuration differs from conf only in filename. */
bool tdm__mmc_only_medium_differs(const struct tdm_lu *lu,
				  const struct tdm_conf_device *conf);
int tdm__mmc_inquiry_parse(struct tdm_cmd *cmd);
int tdm__mmc_inquiry(struct tdm_cmd *cmd);
int tdm__mmc_start_stop(struct tdm_cmd *cmd);
int tdm__mmc_mode_sense_parse(struct tdm_cmd *cmd);
int tdm__mmc_mode_sense(struct tdm_cmd *cmd);
int tdm__mmc_get_config_parse(struct tdm_cmd *cmd);
int tdm__mmc_get_config(struct tdm_cmd *cmd);
int tdm__mmc_read_toc_parse(struct tdm_cmd *cmd);
int tdm__mmc_read_toc(struct tdm_cmd *cmd);
int tdm__mmc_gesn_parse(struct tdm_cmd *cmd);
int tdm__mmc_gesn(struct tdm_cmd *cmd);
int tdm__mmc_disc_info_parse(struct tdm_cmd *cmd);
int tdm__mmc_disc_info(struct tdm_cmd *cmd);
int tdm__mmc_mech_status_parse(struct tdm_cmd *cmd);
int tdm__mmc_read_cd_parse(struct tdm_cmd *cmd);
int tdm__mmc_disc_structure_parse(struct tdm_cmd *cmd);
int tdm__mmc_disc_structure(struct tdm_cmd *cmd);
int tdm__mmc_mech_status(struct tdm_cmd *cmd);
int tdm__mmc_set_cd_speed(struct tdm_cmd *cmd);

#endif
