/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fuzz_pdu.c - libFuzzer target: the iSCSI receive state machine, login,
 * negotiation, text, SCSI command/Data-Out/R2T, TMF and logout paths fed
 * with arbitrary bytes, without sockets or threads.
 *
 * The core and the loops are replaced by a small simulation in this file
 * (commands that read, write or just complete; immediate or deferred
 * completions; TMFs; I_T nexus loss), so the fuzzer drives the transport
 * through the same callbacks the real core uses.
 *
 * Input: byte 0 selects options (bit 0: the target wants CHAP, bit 1:
 * complete commands later instead of at once, bit 2: a second connection
 * reinstates the session), the rest is the PDU stream (split in two
 * writes at a position taken from byte 1 to exercise partial reads).
 *
 * Build: clang -g -O1 -fsanitize=fuzzer,address,undefined -std=gnu11
 *   -D_GNU_SOURCE -Iinclude -I. tests/fuzz/fuzz_pdu.c iscsi/(all .c)
 *   lib/crc32c.c lib/log.c lib/writefile.c -lqb -lpthread -o fuzz_pdu
 *   (or: configure --enable-fuzzers; make fuzzers). lib/log.c is never
 *   initialised here: the transport's messages go nowhere.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iscsi/iscsi_int.h"
#include "tandem/iscsi.h"
#include "lib/log.h"
#include "pr-sync/pr.h"

/* ---- loop stand-ins: one fake loop, posted work runs at drain time ---- */

struct posted {
	struct posted *next;
	void (*fn)(void *arg);
	void *arg;
};

static int fake_loop_obj;
#define FAKE_LOOP ((struct tdm_loop *)(void *)&fake_loop_obj)
static struct posted *post_head, **post_tail = &post_head;
static uint64_t fake_now = 1000000000ull;

struct tdm_loop *tdm_loop_current(void)
{
	return FAKE_LOOP;
}
struct tdm_loop *tdm_loop_next(void)
{
	return FAKE_LOOP;
}
int tdm_loop_add_fd(struct tdm_loop *l, struct tdm_fd_watch *w)
{
	return 0;
}
int tdm_loop_mod_fd(struct tdm_loop *l, struct tdm_fd_watch *w, uint32_t events)
{
	return 0;
}
void tdm_loop_del_fd(struct tdm_loop *l, struct tdm_fd_watch *w)
{
}
void tdm_timer_start(struct tdm_loop *l, struct tdm_timer *t, uint64_t delay_ms)
{
	t->heap_idx = 1;
}
void tdm_timer_stop(struct tdm_loop *l, struct tdm_timer *t)
{
	t->heap_idx = 0;
}
uint64_t tdm_now_ns(void)
{
	return fake_now += 1000;
}
void tdm_loop_post(struct tdm_loop *l, void (*fn)(void *arg), void *arg)
{
	struct posted *p = malloc(sizeof(*p));

	if (!p)
		abort();
	p->next = NULL;
	p->fn = fn;
	p->arg = arg;
	*post_tail = p;
	post_tail = &p->next;
}

static void run_posted(void)
{
	while (post_head) {
		struct posted *p = post_head;

		post_head = p->next;
		if (!post_head)
			post_tail = &post_head;
		p->fn(p->arg);
		free(p);
	}
}

/* ---- configuration ---- */

static struct tdm_conf conf;
static struct tdm_conf_target target;
static struct tdm_conf_user users[1];
static char portals[1][80] = {"127.0.0.1:3260"};

#define TARGET_NAME "iqn.2026-01.org.tandem:fuzz"

static void conf_setup(bool chap)
{
	memset(&conf, 0, sizeof(conf));
	memset(&target, 0, sizeof(target));
	snprintf(target.name, sizeof(target.name), TARGET_NAME);
	target.enabled = true;
	target.params.header_digest = -1;
	target.params.data_digest = -1;
	target.params.initial_r2t = -1;
	target.params.immediate_data = -1;
	target.params.max_recv_data_segment_length = 4096;
	target.params.max_burst_length = 16384;
	target.params.first_burst_length = 8192;
	snprintf(users[0].name, sizeof(users[0].name), "user");
	snprintf(users[0].secret, sizeof(users[0].secret), "secretsecret");
	if (chap) {
		target.in_users = users;
		target.nin_users = 1;
		target.out_user = users[0];
		target.has_out_user = true;
	}
	conf.iscsi_enabled = true;
	conf.targets = &target;
	conf.ntargets = 1;
	conf.portals = portals;
	conf.nportals = 1;
	conf.params.header_digest = -1;
	conf.params.data_digest = -1;
	conf.params.initial_r2t = -1;
	conf.params.immediate_data = -1;
}

const struct tdm_conf *tdm_conf_current(void)
{
	return &conf;
}
void tdm_conf_release(const struct tdm_conf *c)
{
}
const struct tdm_conf_target *tdm_conf_find_target(const struct tdm_conf *c,
						   const char *name)
{
	for (size_t i = 0; i < c->ntargets; i++)
		if (!strcmp(c->targets[i].name, name))
			return &c->targets[i];
	return NULL;
}
bool tdm_target_allows(const struct tdm_conf_target *t, const char *ini)
{
	return strstr(ini, "denied") == NULL;
}
uint16_t tdm_target_rel_port(const char *name)
{
	return (uint16_t)(strlen(name) & 0xFF);
}
bool tdm_wildcard_match(const char *pattern, const char *name)
{
	return !strcmp(pattern, "*") || !strcmp(pattern, name);
}

/* ---- core stand-in ---- */

struct tdm_nexus {
	const struct tdm_transport_ops *ops;
	void *priv;
	int ncmds;
	bool dying;
};

#define MAX_CMDS 512
static struct tdm_cmd *cmds[MAX_CMDS]; /* commands the "core" holds */
static struct tdm_tmf *tmfs[64];
static bool deferred;

static void track(struct tdm_cmd *cmd)
{
	for (int i = 0; i < MAX_CMDS; i++)
		if (!cmds[i]) {
			cmds[i] = cmd;
			return;
		}
	abort(); /* the CmdSN window must bound this */
}

static void untrack(struct tdm_cmd *cmd)
{
	for (int i = 0; i < MAX_CMDS; i++)
		if (cmds[i] == cmd)
			cmds[i] = NULL;
}

/* What the core does with the transport's TransportID (scsi/nexus_id.c):
 * whatever logged in, the iSCSI transport gives one that decodes whole,
 * or none; and its target port designators (scsi/inquiry.c). */
static void check_transport_id(const struct tdm_nexus *nx)
{
	uint8_t buf[TDM_TID_MAX];
	struct tdm_pr_tid_err e;
	struct tdm_pr_tid t;
	size_t used = 0;
	int n = nx->ops->transport_id(nx, buf, sizeof(buf));

	struct tdm_designator d[3];
	size_t k = nx->ops->target_port(nx, d, 3);

	/* and its designators (VPD 83h) fit their field */
	if (k > 3)
		abort();
	for (size_t i = 0; i < k; i++)
		if (d[i].len > TDM_DESIG_MAX ||
		    (d[i].type == TDM_DESIG_SCSI_NAME &&
		     memchr(d[i].id, 0, d[i].len)))
			abort();
	if (n < 0)
		return;
	if (n == 0 || (size_t)n > sizeof(buf) ||
	    tdm_pr_tid_decode(buf, (size_t)n, &t, &used, &e) < 0 ||
	    used != (size_t)n || t.proto != nx->ops->protocol)
		abort();
}

struct tdm_nexus *tdm_nexus_create(const struct tdm_transport_ops *ops,
				   const struct tdm_nexus_id *id,
				   struct tdm_loop *loop, void *priv, int *err)
{
	struct tdm_nexus *nx = calloc(1, sizeof(*nx));

	if (!nx) {
		*err = -12;
		return NULL;
	}
	nx->ops = ops;
	nx->priv = priv;
	check_transport_id(nx);
	return nx;
}

static void nexus_put(struct tdm_nexus *nx)
{
	if (nx->dying && nx->ncmds == 0)
		free(nx);
}

void *tdm_nexus_priv(const struct tdm_nexus *nx)
{
	return nx->priv;
}
struct tdm_loop *tdm_nexus_loop(const struct tdm_nexus *nx)
{
	return FAKE_LOOP;
}

static void finish(struct tdm_cmd *cmd, int sr)
{
	cmd->state = TDM_CMD_DONE;
	if (sr) {
		tdm_cmd_set_sense(cmd, (enum tdm_sense_reason)sr, NULL);
		cmd->data_len = 0;
	} else {
		cmd->status = TDM_STATUS_GOOD;
		cmd->sense_len = 0;
	}
	cmd->nexus->ops->queue_status(cmd);
}

void tdm_cmd_set_sense(struct tdm_cmd *cmd, enum tdm_sense_reason sr,
		       const struct tdm_sense_info *info)
{
	cmd->status = TDM_STATUS_CHECK_CONDITION;
	cmd->sense_len = 18;
	memset(cmd->sense, 0, 18);
	cmd->sense[0] = 0x70;
	cmd->sense[2] = 0x05;
	cmd->sense[7] = 10;
	cmd->sense[12] = (uint8_t)sr;
}

/* the simulated core shortens nothing: the transport's failure path runs */
int tdm_cmd_shorten_write(struct tdm_cmd *cmd, uint32_t len)
{
	(void)cmd;
	(void)len;
	return -EINVAL;
}

bool tdm_cmd_aborted(const struct tdm_cmd *cmd)
{
	return atomic_load(&cmd->aflags) & TDM__CMD_F_ABORTED;
}

void tdm_cmd_execute(struct tdm_cmd *cmd)
{
	cmd->state = TDM_CMD_EXEC;
	if (deferred)
		return; /* completed by complete_all() */
	finish(cmd, 0);
}

void tdm_cmd_fail(struct tdm_cmd *cmd, enum tdm_sense_reason sr)
{
	finish(cmd, sr ? (int)sr : 1);
}

void tdm_cmd_release(struct tdm_cmd *cmd)
{
	struct tdm_nexus *nx = cmd->nexus;

	untrack(cmd);
	free(cmd->buf);
	cmd->buf = NULL;
	cmd->state = TDM_CMD_FREED;
	nx->ops->free_cmd(cmd);
	nx->ncmds--;
	nexus_put(nx);
}

void tdm_cmd_submit(struct tdm_cmd *cmd)
{
	uint32_t blocks = 0;
	uint8_t op = cmd->cdb[0];

	cmd->nexus->ncmds++;
	cmd->state = TDM_CMD_NEW;
	cmd->buf = NULL;
	cmd->buf_cap = 0;
	cmd->sense_len = 0;
	cmd->status = 0;
	cmd->dir = TDM_DIR_NONE;
	cmd->data_len = 0;
	atomic_init(&cmd->aflags, 0);
	track(cmd);
	switch (op) {
	case 0x08: /* READ(6) */
	case 0x28: /* READ(10) */
	case 0x12: /* INQUIRY */
		blocks = op == 0x12 ? 1
				    : (op == 0x08 ? cmd->cdb[4]
						  : tdm_get_be16(cmd->cdb + 7));
		cmd->dir = TDM_DIR_READ;
		cmd->data_len = op == 0x12 ? cmd->cdb[4] : (blocks % 257) * 512;
		cmd->buf = calloc(1, cmd->data_len + 1);
		cmd->buf_cap = cmd->data_len + 1;
		memset(cmd->buf, 0xab, cmd->data_len);
		cmd->state = TDM_CMD_EXEC;
		if (!deferred)
			finish(cmd, 0);
		return;
	case 0x0a: /* WRITE(6) */
	case 0x2a: /* WRITE(10) */
		blocks = op == 0x0a ? cmd->cdb[4] : tdm_get_be16(cmd->cdb + 7);
		cmd->dir = TDM_DIR_WRITE;
		cmd->data_len = (blocks % 257) * 512;
		if (!cmd->data_len) {
			cmd->state = TDM_CMD_EXEC;
			finish(cmd, 0);
			return;
		}
		cmd->buf = malloc(cmd->data_len);
		cmd->buf_cap = cmd->data_len;
		cmd->state = TDM_CMD_WRITE_PENDING;
		cmd->nexus->ops->write_pending(cmd);
		return;
	case 0xa0: /* REPORT LUNS -> an error */
		finish(cmd, TDM_SR_INVALID_FIELD_IN_CDB);
		return;
	default:
		cmd->state = TDM_CMD_EXEC;
		if (!deferred)
			finish(cmd, 0);
		return;
	}
}

static void complete_all(void)
{
	for (int i = 0; i < MAX_CMDS; i++) {
		struct tdm_cmd *cmd = cmds[i];

		if (cmd && cmd->state == TDM_CMD_EXEC)
			finish(cmd, 0);
	}
}

void tdm_tmf_submit(struct tdm_tmf *tmf)
{
	/* abort everything of the nexus that the "core" holds */
	if (tmf->fn != TDM_TMF_QUERY_TASK) {
		for (int i = 0; i < MAX_CMDS; i++) {
			struct tdm_cmd *cmd = cmds[i];

			if (!cmd || cmd->nexus != tmf->nexus ||
			    cmd->state == TDM_CMD_DONE)
				continue;
			if (tmf->fn == TDM_TMF_ABORT_TASK &&
			    cmd->tag != tmf->ref_tag)
				continue;
			atomic_fetch_or(&cmd->aflags, TDM__CMD_F_ABORTED);
			if (cmd->state == TDM_CMD_WRITE_PENDING)
				cmd->nexus->ops->abort_pending(cmd);
			else if (cmd->state == TDM_CMD_EXEC)
				finish(cmd, 0);
		}
	}
	tmf->response = TDM_TMF_RSP_COMPLETE;
	if (deferred) {
		for (int i = 0; i < 64; i++)
			if (!tmfs[i]) {
				tmfs[i] = tmf;
				return;
			}
	}
	tmf->nexus->ops->queue_tmf_rsp(tmf);
}

static void tmfs_complete(void)
{
	for (int i = 0; i < 64; i++) {
		struct tdm_tmf *tmf = tmfs[i];

		if (tmf) {
			tmfs[i] = NULL;
			tmf->nexus->ops->queue_tmf_rsp(tmf);
		}
	}
}

void tdm_nexus_destroy(struct tdm_nexus *nx)
{
	nx->dying = true;
	nx->ncmds++; /* hold it while aborting */
	for (int i = 0; i < 64; i++) {
		struct tdm_tmf *tmf = tmfs[i];

		if (tmf && tmf->nexus == nx) {
			tmfs[i] = NULL;
			tmf->nexus->ops->queue_tmf_rsp(tmf);
		}
	}
	for (int i = 0; i < MAX_CMDS; i++) {
		struct tdm_cmd *cmd = cmds[i];

		if (!cmd || cmd->nexus != nx || cmd->state == TDM_CMD_DONE)
			continue;
		atomic_fetch_or(&cmd->aflags, TDM__CMD_F_ABORTED);
		if (cmd->state == TDM_CMD_WRITE_PENDING)
			nx->ops->abort_pending(cmd);
		else
			finish(cmd, 0);
	}
	nx->ncmds--;
	nexus_put(nx);
}

/* ---- the target ---- */

static struct tdm__iscsi_conn *new_conn(void)
{
	struct tdm__iscsi_conn *c = tdm__iscsi_conn_new(-1, NULL, NULL);

	if (!c)
		abort();
	c->fuzz = true;
	c->loop = FAKE_LOOP;
	tdm__iscsi_reg_add(c);
	tdm__iscsi_conn_start(c);
	return c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tdm__iscsi_conn *c, *c2 = NULL;
	uint8_t opt;
	size_t cut;

	if (size < 2)
		return 0;
	opt = data[0];
	cut = data[1];
	data += 2;
	size -= 2;
	conf_setup(opt & 1);
	deferred = (opt & 2) != 0;

	c = new_conn();
	tdm__iscsi_conn_get(c);
	if (cut > size)
		cut = size;
	tdm__iscsi_conn_feed(c, data, cut);
	run_posted();
	if (deferred) {
		complete_all();
		tmfs_complete();
	}
	tdm__iscsi_conn_feed(c, data + cut, size - cut);
	run_posted();
	if (opt & 4) {
		/* a second login with the same stream: reinstatement */
		c2 = new_conn();
		tdm__iscsi_conn_get(c2);
		tdm__iscsi_conn_feed(c2, data, size);
		run_posted();
	}
	if (deferred) {
		complete_all();
		tmfs_complete();
	}
	run_posted();
	if (c2) {
		tdm__iscsi_conn_close(c2, "fuzz done");
		run_posted();
		tdm__iscsi_conn_put(c2);
	}
	tdm__iscsi_conn_close(c, "fuzz done");
	run_posted();
	tdm__iscsi_conn_put(c);
	run_posted();
	for (int i = 0; i < MAX_CMDS; i++)
		if (cmds[i])
			abort(); /* a command the transport never released */
	return 0;
}
