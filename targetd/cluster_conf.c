/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cluster_conf.c - edits of the shared configuration in cluster mode
 * (tandemd -A). tandemctl sends one edit (EDIT, conf/conf_edit_ops.h's
 * encoding); it is checked here, ordered cluster-wide as a daemon event
 * (TDM_CLUSTER_KIND_DAEMON + 0) and applied on every head, in the
 * cluster's order, to that head's running configuration with the same
 * functions tandemctl uses (tdm_edit_apply), then tdm_daemon_apply()'d.
 *
 * The cluster configuration epoch counts the ordered edits delivered
 * (applied or failed here: every head counts the same). Each edit is
 * kept in a log (conf/conf_edit_log.h) that goes in the daemon's part of
 * the cluster snapshot, so a joining head applies the edits above its
 * own epoch before it serves. After each edit the running configuration
 * is written back to the configuration file (epoch on its first line)
 * and the log to <config>.edits, atomically, the old file kept as
 * <config>.bak.
 *
 * Everything here runs on the main loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "conf/conf_edit_log.h"
#include "conf/conf_edit_ops.h"
#include "targetd/cluster_conf.h"
#include "targetd/daemon.h"
#include "tandem/cluster.h"
#include "lib/writefile.h"
#include "lib/list.h"
#include "lib/log.h"
#include "tandem/transport.h"

#define KIND_EDIT (TDM_CLUSTER_KIND_DAEMON + 0)
#define EPOCH_LINE "# tandem cluster_conf_epoch "
#define ERRLEN 2048

struct tdm_cconf_wait {
	struct tdm_list link;
	uint64_t tag;
	tdm_cconf_done_fn cb;
	void *arg;
	bool cancelled, applied;
	int status;
	uint64_t epoch;
	char what[256];
	char msg[ERRLEN];
};

static struct {
	bool on;
	const char *path;
	struct tdm_edit_log log;
	uint64_t next_tag;
	struct tdm_list waits;
} cc = {.waits = TDM_LIST_INIT(cc.waits)};

bool tdm_cconf_on(void)
{
	return cc.on;
}

uint64_t tdm_cconf_epoch(void)
{
	return cc.log.epoch;
}

uint64_t tdm_cconf_file_epoch(const char *text, size_t len)
{
	size_t n = strlen(EPOCH_LINE);
	uint64_t v = 0;

	if (len < n || memcmp(text, EPOCH_LINE, n) != 0)
		return 0;
	for (size_t i = n; i < len && text[i] >= '0' && text[i] <= '9'; i++) {
		if (v > (UINT64_MAX - 9) / 10)
			return 0;
		v = v * 10 + (uint64_t)(text[i] - '0');
	}
	return v;
}

/* ---- files ---- */

static int read_file(const char *path, uint8_t **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t cap = 65536, n = 0;
	uint8_t *p;
	int r = 0;

	*out = NULL;
	*len = 0;
	if (fd < 0)
		return -errno;
	p = malloc(cap);
	while (p) {
		ssize_t got;

		if (n == cap) {
			uint8_t *q =
				cap < (64u << 20) ? realloc(p, cap * 2) : NULL;

			if (!q) {
				r = cap < (64u << 20) ? -ENOMEM : -EFBIG;
				break;
			}
			p = q;
			cap *= 2;
		}
		got = read(fd, p + n, cap - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			r = -errno;
			break;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	close(fd);
	if (!p)
		return -ENOMEM;
	if (r < 0) {
		free(p);
		return r;
	}
	*out = p;
	*len = n;
	return 0;
}

static void log_path(char *buf, size_t len)
{
	snprintf(buf, len, "%s.edits", cc.path);
}

/* The running configuration and the log to disk; errors are logged and
 * the daemon goes on serving from memory. */
static void persist(void)
{
	const struct tdm_conf *conf = tdm_conf_current();
	struct tdm_wbuf w = {0};
	char head[128], lp[4096];
	char *text = NULL;
	size_t len = 0;
	int r, hl;

	if (!conf) {
		log_err("cluster: no running configuration to write to %s",
			cc.path);
		return;
	}
	r = tdm_conf_write(conf, &text, &len);
	tdm_conf_release(conf);
	if (r < 0) {
		log_err("cluster: cannot write out the configuration: %s; %s "
			"is not updated (epoch %llu kept in memory only)",
			strerror(-r), cc.path,
			(unsigned long long)cc.log.epoch);
		return;
	}
	/* the log first: a log ahead of the file is cut back at start */
	log_path(lp, sizeof(lp));
	tdm_wbuf_reset(&w);
	tdm_edit_log_put(&cc.log, &w);
	r = w.oom ? -ENOMEM
		  : tdm_file_replace(lp, w.p, w.len, NULL, 0,
				     TDM_FILE_KEEP_MODE);
	tdm_wbuf_free(&w);
	if (r < 0)
		log_err("cluster: cannot write the configuration edit log "
			"%s: %s",
			lp, strerror(-r));
	hl = snprintf(head, sizeof(head),
		      EPOCH_LINE "%llu (written by tandemd after each "
				 "ordered edit)\n",
		      (unsigned long long)cc.log.epoch);
	r = tdm_file_replace(cc.path, head, (size_t)hl, text, len,
			     TDM_FILE_KEEP_MODE | TDM_FILE_BACKUP);
	free(text);
	if (r < 0)
		log_err("cluster: cannot write the configuration to %s: %s; "
			"a restart of this head would start from the old "
			"file (epoch %llu kept in memory)",
			cc.path, strerror(-r),
			(unsigned long long)cc.log.epoch);
}

/* ---- applying ---- */

/*
 * Count and apply one ordered edit to the running configuration. 0 or
 * -errno with the message in msg.
 */
static int apply_one(const uint8_t *p, size_t len, uint64_t *tag, char *msg,
		     size_t msglen)
{
	const struct tdm_conf *cur;
	struct tdm_conf conf;
	struct tdm_edit e;
	char what[512];
	uint64_t epoch;
	int r;

	if (tdm_edit_log_append(&cc.log, p, len) < 0)
		log_err("cluster: out of memory for the configuration edit "
			"log: heads that are further behind than epoch %llu "
			"cannot catch up from this one",
			(unsigned long long)cc.log.epoch);
	epoch = cc.log.epoch;
	*tag = 0;
	r = tdm_edit_decode(p, len, &e, msg, msglen);
	if (r < 0) {
		log_err("cluster: configuration edit %llu not applied on this "
			"head: %s",
			(unsigned long long)epoch, msg);
		return r;
	}
	*tag = e.tag;
	tdm_edit_describe(&e, what, sizeof(what));
	cur = tdm_conf_current();
	if (!cur) {
		snprintf(msg, msglen, "tandemd has no configuration yet");
		r = -EAGAIN;
	} else {
		r = tdm_conf_dup(cur, &conf);
		tdm_conf_release(cur);
		if (r < 0)
			snprintf(msg, msglen, "out of memory");
	}
	if (!r) {
		r = tdm_edit_apply(&conf, &e, msg, msglen);
		if (!r)
			r = tdm_daemon_apply(&conf, msg, msglen);
		tdm_conf_free(&conf);
	}
	if (r < 0)
		log_err("cluster: configuration edit %llu (%s) failed on this "
			"head: %s",
			(unsigned long long)epoch, what, msg);
	else
		log_notice("cluster: configuration edit %llu applied: %s",
			   (unsigned long long)epoch, what);
	tdm_edit_free(&e);
	return r;
}

static struct tdm_cconf_wait *wait_by_tag(uint64_t tag)
{
	struct tdm_list *pos;

	tdm_list_for_each (pos, &cc.waits) {
		struct tdm_cconf_wait *w =
			tdm_list_entry(pos, struct tdm_cconf_wait, link);

		if (w->tag == tag)
			return w;
	}
	return NULL;
}

static int ext_apply(uint8_t kind, const uint8_t *payload, size_t len,
		     bool mine)
{
	struct tdm_cconf_wait *w;
	char msg[ERRLEN] = "";
	uint64_t tag;
	int r;

	if (kind != KIND_EDIT) {
		log_err("cluster: daemon event of kind %u unknown to this "
			"tandemd (an upgrade in progress?): ignored",
			kind);
		return -ENOTSUP;
	}
	r = apply_one(payload, len, &tag, msg, sizeof(msg));
	persist();
	w = mine && tag ? wait_by_tag(tag) : NULL;
	if (w) {
		w->applied = true;
		w->status = r;
		w->epoch = cc.log.epoch;
		snprintf(w->msg, sizeof(w->msg), "%s", msg);
	}
	return r;
}

static int ext_snapshot(struct tdm_wbuf *w)
{
	tdm_edit_log_put(&cc.log, w);
	return w->oom ? -ENOMEM : 0;
}

static int ext_check(const uint8_t *p, size_t len, char *err, size_t errlen)
{
	struct tdm_edit_log l;
	int r = tdm_edit_log_decode(p, len, &l, err, errlen);

	if (r < 0) {
		log_err("cluster: snapshot refused: %s", err);
		return r;
	}
	r = tdm_edit_log_reaches(&l, cc.log.epoch, err, errlen);
	if (r < 0)
		log_err("cluster: snapshot refused: %s", err);
	tdm_edit_log_free(&l);
	return r;
}

static int ext_load(const uint8_t *p, size_t len, char *err, size_t errlen)
{
	struct tdm_edit_log l, tmp;
	uint64_t from = cc.log.epoch, tag;
	size_t applied = 0, failed = 0;
	char msg[ERRLEN];
	int r;

	r = tdm_edit_log_decode(p, len, &l, err, errlen);
	if (r < 0)
		return r; /* checked before: not reached */
	if (l.epoch < from) {
		log_err("cluster: this head's configuration epoch %llu is "
			"ahead of the cluster's %llu: its shared "
			"configuration may differ from the other heads' (a "
			"partition that kept editing?); taking the cluster's "
			"epoch and log",
			(unsigned long long)from, (unsigned long long)l.epoch);
		tmp = cc.log;
		cc.log = l;
		tdm_edit_log_free(&tmp);
		persist();
		return 0;
	}
	if (l.epoch == from) {
		/* the same epoch: keep the longer history */
		if (l.n > cc.log.n) {
			tmp = cc.log;
			cc.log = l;
			l = tmp;
		}
		tdm_edit_log_free(&l);
		return 0;
	}
	for (size_t i = 0; i < l.n; i++) {
		if (l.v[i].epoch <= cc.log.epoch)
			continue;
		if (apply_one(l.v[i].p, l.v[i].len, &tag, msg, sizeof(msg)) < 0)
			failed++;
		else
			applied++;
	}
	tdm_edit_log_free(&l);
	log_notice("cluster: configuration caught up from epoch %llu to "
		   "%llu (%zu edits applied, %zu failed on this head)",
		   (unsigned long long)from, (unsigned long long)cc.log.epoch,
		   applied, failed);
	persist();
	return 0;
}

static const struct tdm_cluster_ext ext = {
	.apply = ext_apply,
	.snapshot = ext_snapshot,
	.check = ext_check,
	.load = ext_load,
};

void tdm_cconf_start(const char *config_path)
{
	uint8_t *text = NULL;
	size_t len = 0;
	uint64_t epoch = 0;
	char lp[4096], err[ERRLEN];
	int r;

	cc.path = config_path;
	cc.next_tag =
		((uint64_t)time(NULL) << 32) ^ ((uint64_t)getpid() << 16) ^ 1;
	if (read_file(config_path, &text, &len) == 0)
		epoch = tdm_cconf_file_epoch((const char *)text, len);
	free(text);
	log_path(lp, sizeof(lp));
	r = read_file(lp, &text, &len);
	if (r == 0) {
		r = tdm_edit_log_decode(text, len, &cc.log, err, sizeof(err));
		if (r < 0)
			log_err("cluster: %s: %s; starting with an empty edit "
				"log",
				lp, err);
	} else if (r != -ENOENT) {
		log_err("cluster: %s: %s; starting with an empty edit log", lp,
			strerror(-r));
	}
	free(text);
	/* the file is the truth: edits logged after it was written are
	 * not in it (they come back with the cluster's snapshot) */
	tdm_edit_log_truncate(&cc.log, epoch);
	if (cc.log.epoch < epoch) {
		tdm_edit_log_free(&cc.log);
		cc.log.epoch = epoch;
	}
	cc.on = true;
	tdm_cluster_set_ext(&ext);
	log_notice("cluster: configuration epoch %llu (%zu edits in the log)",
		   (unsigned long long)cc.log.epoch, cc.log.n);
}

/* ---- edits from tandemctl ---- */

static void edit_done(void *arg, int status)
{
	struct tdm_cconf_wait *w = arg;
	const char *msg = w->msg;

	tdm_list_del(&w->link);
	if (status == -EAGAIN && !w->applied)
		msg = "not ordered: this head is fenced / no quorum, try "
		      "again";
	else if (status < 0 && !msg[0])
		msg = strerror(-status);
	if (status < 0)
		log_warnx("cluster: %s: %s", w->what, msg);
	if (!w->cancelled)
		w->cb(w->arg, status, w->applied ? w->epoch : cc.log.epoch,
		      msg);
	free(w);
}

int tdm_cconf_submit(const uint8_t *p, size_t len, const char *who,
		     tdm_cconf_done_fn cb, void *arg,
		     struct tdm_cconf_wait **wp, char *err, size_t errlen)
{
	const struct tdm_conf *cur;
	struct tdm_cconf_wait *w;
	struct tdm_conf conf;
	struct tdm_edit e;
	uint8_t *out;
	size_t olen;
	int r;

	*wp = NULL;
	if (!cc.on) {
		snprintf(err, errlen, "tandemd is not in cluster mode");
		return -EOPNOTSUPP;
	}
	r = tdm_edit_decode(p, len, &e, err, errlen);
	if (r < 0)
		return r == -ENOMEM ? r : -EINVAL;
	switch (tdm_edit_scope(&e, err, errlen)) {
	case TDM_EDIT_SCOPE_SHARED:
		break;
	case TDM_EDIT_SCOPE_MIXED:
		tdm_edit_free(&e);
		return -EINVAL;
	default:
		snprintf(err, errlen,
			 "-%s is node-local here: tandemctl makes it on this "
			 "head alone (GET-CONFIG / APPLY)",
			 e.action);
		tdm_edit_free(&e);
		return -EINVAL;
	}
	/* refuse at once what fails on this head's configuration */
	cur = tdm_conf_current();
	if (!cur) {
		snprintf(err, errlen, "tandemd has no configuration yet");
		tdm_edit_free(&e);
		return -EAGAIN;
	}
	r = tdm_conf_dup(cur, &conf);
	tdm_conf_release(cur);
	if (r < 0) {
		snprintf(err, errlen, "out of memory");
		tdm_edit_free(&e);
		return -ENOMEM;
	}
	r = tdm_edit_apply(&conf, &e, err, errlen);
	tdm_conf_free(&conf);
	if (r < 0) {
		tdm_edit_free(&e);
		return r;
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		tdm_edit_free(&e);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	e.tag = cc.next_tag++;
	if (!e.tag)
		e.tag = cc.next_tag++;
	w->tag = e.tag;
	w->cb = cb;
	w->arg = arg;
	snprintf(w->what, sizeof(w->what), "%s: ", who);
	tdm_edit_describe(&e, w->what + strlen(w->what),
			  sizeof(w->what) - strlen(w->what));
	r = tdm_edit_encode(&e, &out, &olen);
	tdm_edit_free(&e);
	if (r < 0) {
		snprintf(err, errlen, "cannot encode the edit: %s",
			 strerror(-r));
		free(w);
		return r;
	}
	tdm_list_add_tail(&cc.waits, &w->link);
	r = tdm_cluster_order_raw(KIND_EDIT, out, olen, edit_done, w);
	free(out);
	if (r < 0) {
		tdm_list_del(&w->link);
		free(w);
		if (r == -EAGAIN || r == -ENOTCONN)
			snprintf(err, errlen,
				 "not ordered: this head is fenced / no "
				 "quorum, try again");
		else if (r == -EPROTONOSUPPORT)
			snprintf(err, errlen,
				 "not ordered: the agent is too old (link "
				 "version 2 needed)");
		else
			snprintf(err, errlen, "not ordered: %s", strerror(-r));
		return r == -ENOTCONN ? -EAGAIN : r;
	}
	log_info("cluster: %s sent to be ordered", w->what);
	*wp = w;
	return 0;
}

void tdm_cconf_cancel(struct tdm_cconf_wait *w)
{
	if (w)
		w->cancelled = true;
}
