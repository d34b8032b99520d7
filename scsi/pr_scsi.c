/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pr_scsi.c - persistent reservations in the SCSI core: the PERSISTENT
 * RESERVE IN/OUT handlers, the gate's reservation check, the LU's PR
 * state with its APTPL file, unit attentions, and PREEMPT AND ABORT. The
 * rules live in pr-sync/; this file only feeds it and carries out its
 * results.
 *
 * Locking: lu->pr is read and replaced under lu->lock. PERSISTENT RESERVE
 * OUT is serialized by pr_out_lock: it applies the operation to a copy,
 * writes the APTPL file, and only then swaps the copy in, so an initiator
 * never sees GOOD for a state that is not on disk, and a failure leaves
 * the old state (memory and file) in place.
 *
 * Single node: tdm__pr_submit() applies at once. Cluster mode
 * (scsi/cluster.c): the operation goes to the agent, which multicasts it;
 * tdm__pr_apply_ordered() applies it on every head in agreed order, and
 * the originating head then completes the command.
 *
 * APTPL files live in $TANDEM_STATE_DIR/pr/<device name> (default
 * /var/lib/tandem/pr), the variable being read once.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scsi/scsi_int.h"
#include "pr-sync/pr.h"
#include "lib/writefile.h"
#include "lib/log.h"

/* SPC-4 6.16.3: the largest parameter list taken (28 bytes and a
 * TransportID for every registration a LU can hold) */
#define PR_PARAM_MAX (1u << 20)

/* one PR OUT or state load at a time, lu->pr replaced only under it;
 * the outermost of the core (scsi/README.md "Locks") */
static struct tdm_mutex pr_out_lock =
	TDM_MUTEX_INITIALIZER(TDM__LOCK_PR_OUT, "pr_out_lock");
static pthread_once_t dir_once = PTHREAD_ONCE_INIT;
static char state_dir[PATH_MAX];

static void dir_init(void)
{
	snprintf(state_dir, sizeof(state_dir), "%s/pr", tdm_state_dir());
}

static const char *pr_dir(void)
{
	pthread_once(&dir_once, dir_init);
	return state_dir;
}

static int8_t top_bit(uint8_t v)
{
	int8_t b = 7;

	while (b > 0 && !(v & (1u << b)))
		b--;
	return b;
}

/* ---- the LU's state ---- */

static unsigned pr_flags_of(const struct tdm_pr_state *st)
{
	return (st->nregs ? TDM__PR_F_REGISTERED : 0) |
	       (st->reserved ? TDM__PR_F_RESERVED : 0);
}

void tdm__pr_lu_init(struct tdm_lu *lu)
{
	struct tdm_pr_state *st = calloc(1, sizeof(*st));
	char from[PATH_MAX], to[PATH_MAX];
	int r;

	atomic_init(&lu->pr_flags, 0);
	lu->pr = st;
	if (!st) {
		log_err("%s: out of memory for persistent reservations",
			lu->name);
		return;
	}
	tdm_pr_state_init(st);
	r = tdm_pr_file_load(pr_dir(), lu->name, st);
	if (r == 0) {
		log_notice("%s: persistent reservations restored from %s/%s "
			   "(generation %u, %zu registrations%s)",
			   lu->name, pr_dir(), lu->name, st->generation,
			   st->nregs, st->reserved ? ", reserved" : "");
	} else if (r == -EBADMSG || r == -EPROTONOSUPPORT) {
		/* never half-applied: start empty, keep the file aside */
		if ((size_t)snprintf(from, sizeof(from), "%s/%s", pr_dir(),
				     lu->name) >= sizeof(from) ||
		    (size_t)snprintf(to, sizeof(to), "%s.corrupt", from) >=
			    sizeof(to))
			to[0] = '\0';
		log_err("%s: APTPL file %s is %s: starting with NO persistent "
			"reservations; the file is kept as %s",
			lu->name, from,
			r == -EBADMSG ? "corrupt or torn"
				      : "of an unknown version",
			to);
		if (to[0] && rename(from, to) < 0)
			log_warn("%s: rename %s", lu->name, from);
	} else if (r == -EINVAL) {
		log_warnx("%s: the device name cannot name a file: persistent "
			  "reservations will not persist through power loss "
			  "(APTPL)",
			  lu->name);
	} else if (r != -ENOENT) {
		log_err("%s: cannot read APTPL file %s/%s (%s): starting with "
			"NO persistent reservations",
			lu->name, pr_dir(), lu->name, strerror(-r));
	}
	atomic_store(&lu->pr_flags, pr_flags_of(st));
}

void tdm__pr_lu_fini(struct tdm_lu *lu)
{
	if (lu->pr) {
		tdm_pr_state_free(lu->pr);
		free(lu->pr);
		lu->pr = NULL;
	}
}

bool tdm__pr_blocks_spc2(struct tdm_lu *lu)
{
	return lu->pr && lu->pr->nregs;
}

/* ---- the gate (SPC-4 5.13.1, table 66; SBC-3 table 13) ---- */

static uint32_t allowed_bits(const struct tdm_cmd *cmd)
{
	const uint8_t *cdb = cmd->cdb;
	uint32_t a = 0;

	if (cmd->op->flags & TDM_OP_PR_ALLOWED_WE)
		a |= TDM_PR_ALLOW_WE;
	if (cmd->op->flags & TDM_OP_PR_ALLOWED_EA)
		a |= TDM_PR_ALLOW_EA;
	switch (cdb[0]) {
	case 0x1B: /* START STOP UNIT: START=1, POWER CONDITION 0h only */
		if ((cdb[4] & 0x01) && !(cdb[4] >> 4))
			a |= TDM_PR_ALLOW_WE | TDM_PR_ALLOW_EA;
		break;
	case 0x1E: /* PREVENT ALLOW MEDIUM REMOVAL: PREVENT 00b only */
		if (!(cdb[4] & 0x03))
			a |= TDM_PR_ALLOW_WE | TDM_PR_ALLOW_EA;
		break;
	default:
		break;
	}
	return a;
}

bool tdm__pr_conflict(struct tdm_cmd *cmd)
{
	struct tdm_lu *lu = cmd->lu;
	struct tdm_pr_nexus nx;
	uint32_t allowed;
	unsigned fl;
	bool conflict;

	switch (cmd->cdb[0]) {
	case 0x5E:
	case 0x5F:
		/* SPC-2 5.5.1: while a RESERVE(6)/(10) holds the LU,
		 * PERSISTENT RESERVE IN and OUT conflict, whoever sends
		 * them */
		return tdm__spc2_held(lu);
	default:
		break;
	}
	fl = atomic_load_explicit(&lu->pr_flags, memory_order_acquire);
	if (!fl)
		return false;
	switch (cmd->cdb[0]) {
	case 0x16: /* RESERVE(6) */
	case 0x17: /* RELEASE(6) */
	case 0x56: /* RESERVE(10) */
	case 0x57: /* RELEASE(10) */
		/* SPC-4 5.13.3 (CRH=0): they conflict while any I_T nexus is
		 * registered */
		return true;
	default:
		break;
	}
	if (!(fl & TDM__PR_F_RESERVED))
		return false;
	if (tdm__pr_nexus_id(cmd->nexus, &nx) < 0) {
		/* a nexus with no TransportID (the kernel fabrics: LIO does
		 * not say which initiator sent a command) cannot register:
		 * it is an unregistered I_T nexus, allowed what
		 * SPC-4 table 66 allows one (reads and READ CAPACITY under
		 * WRITE EXCLUSIVE). No TransportID is of protocol NONE, so
		 * no registration matches it. */
		memset(&nx, 0, sizeof(nx));
		nx.tid.proto = TDM_PROTO_NONE;
	}
	allowed = allowed_bits(cmd);
	tdm_mutex_lock(&lu->lock);
	conflict = tdm_pr_check(lu->pr, &nx, allowed) != TDM_SR_OK;
	tdm_mutex_unlock(&lu->lock);
	return conflict;
}

/* ---- PERSISTENT RESERVE IN (SPC-4 6.15) ---- */

int tdm__pr_in_parse(struct tdm_cmd *cmd)
{
	const uint8_t *cdb = cmd->cdb;
	uint16_t i;

	/* SPC-4 6.15.1, table 203 */
	if (cdb[1] & 0xE0)
		return tdm__cdb_err(cmd, 1, top_bit(cdb[1] & 0xE0));
	for (i = 2; i <= 6; i++)
		if (cdb[i])
			return tdm__cdb_err(cmd, i, top_bit(cdb[i]));
	cmd->alloc_len = tdm_get_be16(cdb + 7);
	cmd->dir = TDM_DIR_READ;
	return TDM_SR_OK;
}

/* Is opcode/sa in the table, and allowed under Write Exclusive? */
static int we_allowed(uint8_t opcode, int sa)
{
	size_t i, n = tdm__op_count();

	for (i = 0; i < n; i++) {
		const struct tdm_opdesc *op = tdm__op_at(i);

		if (op->opcode != opcode || (sa >= 0 && op->sa != sa))
			continue;
		return (op->flags & TDM_OP_PR_ALLOWED_WE) ? 1 : 0;
	}
	return -1;
}

/*
 * SPC-4 6.15.4, table 208: ALLOW COMMANDS, from the opcode table: 010b
 * if none of the commands the field speaks of passes Write Exclusive, 011b
 * if all do (TEST UNIT READY passing both WE and EA).
 */
static uint8_t allow_commands(void)
{
	static const struct {
		uint8_t opcode;
		int sa;
	} list[] = {
		{0x1A, -1},   /* MODE SENSE(6) */
		{0x5A, -1},   /* MODE SENSE(10) */
		{0x8C, -1},   /* READ ATTRIBUTE */
		{0x3C, -1},   /* READ BUFFER */
		{0x84, -1},   /* RECEIVE COPY RESULTS */
		{0x1C, -1},   /* RECEIVE DIAGNOSTIC RESULTS */
		{0xA3, 0x0C}, /* REPORT SUPPORTED OPERATION CODES */
		{0xA3, 0x0D}, /* REPORT SUPPORTED TASK MANAGEMENT FUNCTIONS */
		{0x37, -1},   /* READ DEFECT DATA(10) */
		{0xB7, -1},   /* READ DEFECT DATA(12) */
	};
	unsigned yes = 0, no = 0;
	size_t i, n = tdm__op_count();
	int tur_ok = 0;

	for (i = 0; i < n; i++) {
		const struct tdm_opdesc *op = tdm__op_at(i);

		if (op->opcode == 0x00)
			tur_ok = (op->flags & TDM_OP_PR_ALLOWED_WE) &&
				 (op->flags & TDM_OP_PR_ALLOWED_EA);
	}
	if (!tur_ok)
		return 0;
	for (i = 0; i < sizeof(list) / sizeof(list[0]); i++) {
		int r = we_allowed(list[i].opcode, list[i].sa);

		if (r > 0)
			yes++;
		else if (r == 0)
			no++;
	}
	if (!yes)
		return 2;
	return no ? 1 : 3;
}

int tdm__pr_in(struct tdm_cmd *cmd)
{
	struct tdm_lu *lu = cmd->lu;
	struct tdm_pr_state empty;
	const struct tdm_pr_state *st;
	size_t cap = cmd->alloc_len, n;
	uint8_t ac = 0;

	if (cap > cmd->buf_cap)
		cap = cmd->buf_cap;
	if ((cmd->cdb[1] & 0x1F) == TDM_PR_REPORT_CAPABILITIES)
		ac = allow_commands();
	tdm_pr_state_init(&empty);
	tdm_mutex_lock(&lu->lock);
	st = lu->pr ? lu->pr : &empty;
	switch (cmd->cdb[1] & 0x1F) {
	case TDM_PR_READ_KEYS:
		n = tdm_pr_in_read_keys(st, cmd->buf, cap);
		break;
	case TDM_PR_READ_RESERVATION:
		n = tdm_pr_in_read_reservation(st, cmd->buf, cap);
		break;
	case TDM_PR_REPORT_CAPABILITIES:
		n = tdm_pr_in_report_caps(st, ac, cmd->buf, cap);
		break;
	case TDM_PR_READ_FULL_STATUS:
		n = tdm_pr_in_read_full_status(st, cmd->buf, cap);
		break;
	default: /* the opcode table knows only the four */
		tdm_mutex_unlock(&lu->lock);
		return tdm__cdb_err(cmd, 1, 4);
	}
	tdm_mutex_unlock(&lu->lock);
	cmd->data_len = (uint32_t)(n < cap ? n : cap);
	return TDM_SR_OK;
}

/* ---- PERSISTENT RESERVE OUT (SPC-4 6.16) ---- */

int tdm__pr_out_parse(struct tdm_cmd *cmd)
{
	const uint8_t *cdb = cmd->cdb;
	uint32_t len = tdm_get_be32(cdb + 5);

	/* SPC-4 6.16.1, table 215 */
	if (cdb[1] & 0xE0)
		return tdm__cdb_err(cmd, 1, top_bit(cdb[1] & 0xE0));
	if (cdb[3])
		return tdm__cdb_err(cmd, 3, top_bit(cdb[3]));
	if (cdb[4])
		return tdm__cdb_err(cmd, 4, top_bit(cdb[4]));
	/* 6.16.3: never shorter than the 24-byte basic parameter list */
	if (len < 24)
		return TDM_SR_PARAM_LIST_LENGTH_ERROR;
	if (len > PR_PARAM_MAX)
		return TDM_SR_INSUFFICIENT_REGISTRATION_RESOURCES;
	cmd->dir = TDM_DIR_WRITE;
	cmd->data_len = len;
	return TDM_SR_OK;
}

/* Relative target port ids of every target of the configuration, as
 * scsi/target.c assigns them (configured, or the smallest free one). */

/* Does nx's LUN map hold lu (registry lock held)? */
static bool nexus_sees(const struct tdm_nexus *nx, const struct tdm_lu *lu)
{
	size_t i;

	for (i = 0; nx->map && i < nx->map->n; i++)
		if (nx->map->ents[i].lu == lu)
			return true;
	return false;
}

/* Establish the unit attentions and aborts of res on the connected
 * nexuses that see lu; the sender gets none. */
static void carry_out(struct tdm_lu *lu, const struct tdm_nexus *sender,
		      const struct tdm_pr_result *res)
{
	struct tdm_pr_nexus id;
	struct tdm_list *pos;
	size_t i;

	if (!res->nua && !res->nabort)
		return;
	tdm_rwlock_rdlock(&tdm__reg_lock);
	tdm_list_for_each (pos, &tdm__nexuses) {
		struct tdm_nexus *nx =
			tdm_list_entry(pos, struct tdm_nexus, link);

		if (nx == sender || !nexus_sees(nx, lu) ||
		    tdm__pr_nexus_id(nx, &id) < 0)
			continue;
		for (i = 0; i < res->nua; i++)
			if (res->ua[i].rel_port == id.rel_port &&
			    tdm_pr_tid_match(&res->ua[i].tid, &id.tid))
				tdm__ua_raise(nx, lu, res->ua[i].reason);
		for (i = 0; i < res->nabort; i++) {
			if (res->abort[i].rel_port == id.rel_port &&
			    tdm_pr_tid_match(&res->abort[i].tid, &id.tid)) {
				tdm__abort_lu_nexus(lu, nx);
				break;
			}
		}
	}
	tdm_rwlock_unlock(&tdm__reg_lock);
}

/* Make the APTPL file say st (prev: the state it says now). */
static int persist(struct tdm_lu *lu, const struct tdm_pr_state *st,
		   const struct tdm_pr_state *prev)
{
	int r;

	if (st->aptpl) {
		r = tdm_pr_file_save(pr_dir(), lu->name, st);
		if (r < 0)
			log_err("%s: cannot write APTPL file %s/%s: %s",
				lu->name, pr_dir(), lu->name, strerror(-r));
		return r;
	}
	if (prev && prev->aptpl) {
		r = tdm_pr_file_remove(pr_dir(), lu->name);
		if (r < 0)
			log_err("%s: cannot remove APTPL file %s/%s: %s",
				lu->name, pr_dir(), lu->name, strerror(-r));
	}
	return 0;
}

/*
 * Apply op from the nexus nx to lu's state: on a copy, written to the
 * APTPL file, then swapped in. spc2: an SPC-2 reservation conflicts
 * (SPC-2 5.5.1; in cluster mode it is the same on every head).
 */
static int pr_apply(struct tdm_lu *lu, const struct tdm_pr_op *op,
		    const struct tdm_pr_nexus *nx, bool spc2,
		    struct tdm_pr_result *res)
{
	struct tdm_pr_state *next = calloc(1, sizeof(*next)), *old, empty;
	const struct tdm_pr_state *cur;
	struct tdm_pr_ports ports;
	uint16_t *ids;
	size_t nids;
	int sr = TDM_SR_OK;

	ids = tdm__target_ports(&nids);
	ports.n = nids;
	ports.ids = ids;

	tdm_mutex_lock(&pr_out_lock);
	tdm_mutex_lock(&lu->lock);
	spc2 = spc2 && tdm__spc2_held(lu);
	if (next && lu->pr && tdm_pr_state_copy(next, lu->pr) < 0) {
		free(next);
		next = NULL;
	}
	tdm_mutex_unlock(&lu->lock);

	if (!next || !ids)
		sr = TDM_SR_INSUFFICIENT_REGISTRATION_RESOURCES;
	else if (spc2) /* SPC-2 5.5.1 */
		sr = TDM_SR_RESERVATION_CONFLICT;
	else
		sr = tdm_pr_apply(next, op, nx, &ports, res);

	tdm_pr_state_init(&empty);
	cur = lu->pr ? lu->pr : &empty; /* replaced under pr_out_lock only */
	if (sr == TDM_SR_OK && res->changed && persist(lu, next, cur) < 0 &&
	    next->aptpl) {
		/* the initiator asked for persistence we cannot give */
		sr = TDM_SR_INSUFFICIENT_REGISTRATION_RESOURCES;
		tdm_pr_result_free(res);
	}
	if (sr == TDM_SR_OK && res->changed) {
		tdm_mutex_lock(&lu->lock);
		if (spc2 && tdm__spc2_held(lu)) {
			/* an SPC-2 RESERVE came in between */
			sr = TDM_SR_RESERVATION_CONFLICT;
		} else {
			old = lu->pr;
			lu->pr = next;
			next = old;
			atomic_store(&lu->pr_flags, pr_flags_of(lu->pr));
		}
		tdm_mutex_unlock(&lu->lock);
		if (sr != TDM_SR_OK) {
			persist(lu, cur, next); /* the file back as it was */
			tdm_pr_result_free(res);
		}
	}
	tdm_mutex_unlock(&pr_out_lock);

	if (next) {
		tdm_pr_state_free(next);
		free(next);
	}
	free(ids);
	return sr;
}

void tdm__pr_submit(struct tdm_lu *lu, const struct tdm_pr_op *op,
		    struct tdm_nexus *sender, tdm__pr_done_fn done, void *arg)
{
	struct tdm_pr_result res;
	struct tdm_pr_nexus nx;
	int sr;

	memset(&res, 0, sizeof(res));
	if (tdm__pr_nexus_id(sender, &nx) < 0) {
		log_warnx_rl("%s: PERSISTENT RESERVE OUT from a nexus without "
			     "a TransportID (%s)",
			     lu->name, sender->id.port);
		sr = TDM_SR_INSUFFICIENT_REGISTRATION_RESOURCES;
	} else {
		sr = pr_apply(lu, op, &nx, true, &res);
	}
	if (sr == TDM_SR_OK)
		carry_out(lu, sender, &res);
	done(arg, sr, &res);
	tdm_pr_result_free(&res);
}

int tdm__pr_apply_ordered(struct tdm_lu *lu, const uint8_t *cdb,
			  const uint8_t *param, size_t len,
			  const struct tdm_pr_nexus *nx,
			  const struct tdm_nexus *sender,
			  struct tdm_sense_info *info)
{
	struct tdm_pr_result res;
	struct tdm_pr_op op;
	int sr;

	memset(&res, 0, sizeof(res));
	memset(info, 0, sizeof(*info));
	sr = tdm_pr_out_decode(cdb, param, len, &op, info);
	if (sr != TDM_SR_OK)
		return sr;
	/* the SPC-2 reservation is the cluster's too (scsi/spc2_reserve.c) */
	sr = pr_apply(lu, &op, nx, true, &res);
	tdm_pr_op_free(&op);
	if (sr == TDM_SR_OK)
		carry_out(lu, sender, &res);
	if (res.info.sks_valid)
		*info = res.info;
	tdm_pr_result_free(&res);
	return sr;
}

int tdm__pr_snapshot(struct tdm_lu *lu, uint8_t **buf, size_t *len)
{
	struct tdm_pr_state empty;
	size_t n;
	int r = 0;

	tdm_pr_state_init(&empty);
	tdm_mutex_lock(&lu->lock);
	n = tdm_pr_encoded_size(lu->pr ? lu->pr : &empty);
	*buf = malloc(n ? n : 1);
	if (!*buf)
		r = -ENOMEM;
	else
		*len = tdm_pr_encode(lu->pr ? lu->pr : &empty, *buf, n);
	tdm_mutex_unlock(&lu->lock);
	return r;
}

int tdm__pr_load(struct tdm_lu *lu, const uint8_t *buf, size_t len)
{
	struct tdm_pr_state *next = calloc(1, sizeof(*next)), empty;
	struct tdm_pr_state *old;
	int r;

	if (!next)
		return -ENOMEM;
	tdm_pr_state_init(next);
	r = tdm_pr_decode(buf, len, next);
	if (r < 0) {
		free(next);
		return r;
	}
	tdm_pr_state_init(&empty);
	tdm_mutex_lock(&pr_out_lock);
	/* the APTPL file says what the cluster says, before anyone sees it */
	r = persist(lu, next, lu->pr ? lu->pr : &empty);
	tdm_mutex_lock(&lu->lock);
	old = lu->pr;
	lu->pr = next;
	atomic_store(&lu->pr_flags, pr_flags_of(lu->pr));
	tdm_mutex_unlock(&lu->lock);
	tdm_mutex_unlock(&pr_out_lock);
	if (old) {
		tdm_pr_state_free(old);
		free(old);
	}
	return r < 0 && next->aptpl ? r : 0;
}

static void pr_out_done(void *arg, int sr, const struct tdm_pr_result *res)
{
	struct tdm_cmd *cmd = arg;

	tdm__cmd_done_info(cmd, sr,
			   res && res->info.sks_valid ? &res->info : NULL);
}

int tdm__pr_out(struct tdm_cmd *cmd)
{
	struct tdm_sense_info info;
	struct tdm_pr_nexus nx;
	struct tdm_pr_op op;
	int sr;

	sr = tdm_pr_out_decode(cmd->cdb, cmd->buf, cmd->data_len, &op, &info);
	/* TransportIDs the receiving port cannot have: refused here, before
	 * ordering (a nexus without TransportID: tdm__pr_submit()) */
	if (sr == TDM_SR_OK && tdm__pr_nexus_id(cmd->nexus, &nx) == 0) {
		sr = tdm_pr_out_check_tids(&op, &nx, &info);
		if (sr != TDM_SR_OK)
			tdm_pr_op_free(&op);
	}
	if (sr != TDM_SR_OK) {
		if (!info.sks_valid)
			return sr;
		tdm__cmd_done_info(cmd, sr, &info);
		return TDM__SR_ASYNC;
	}
	if (tdm__cluster_mode()) {
		/* scsi/cluster.c: ordered through the agent, applied when
		 * delivered back (the decoding above is the same on every
		 * head, so only well-formed operations travel) */
		tdm_pr_op_free(&op);
		return tdm__cluster_pr_out(cmd);
	}
	tdm__pr_submit(cmd->lu, &op, cmd->nexus, pr_out_done, cmd);
	tdm_pr_op_free(&op);
	return TDM__SR_ASYNC;
}
