/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tcmu.c - TCMU (target_core_user) as tandem serves it: the TCM-USER
 * generic netlink family, each device's UIO node and mmapped ring, the
 * commands it carries through tandem's core, and the transport ops of
 * the three kernel fabrics.
 *
 * Netlink: the TCM-USER family's "config" group, watched on worker loop
 * 0, tells which of tandem's devices the kernel added, removed or
 * reconfigured (logged). No SET_FEATURES and no *_DONE replies: with
 * kernel command replies on, the configfs write that enables or removes
 * a device waits uninterruptibly for a reply (and the setting is global:
 * other daemons' devices would wait for one after tandemd is gone), so
 * tandem's devices are made with nl_reply_supported=-1 (kernel/lio.c).
 * Resolving the family is how a missing target_core_user is told.
 *
 * A device's ring is served on its endpoint's loop (the nexus' loop):
 * the UIO node is polled there, each CMD entry becomes a struct kcmd
 * submitted to the core, its data copied once between the ring's data
 * area and the core's buffer (write_pending, queue_status), its status
 * written back as an out-of-order completion.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <unistd.h>

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include "kernel/kernel_int.h"
#include "lib/log.h"
#include "tandem/scsi.h"

/* ---- netlink ---- */

static struct {
	struct nl_sock *sock;
	int family;
	struct tdm_fd_watch w;
	struct tdm_loop *loop;
	void (*done)(void *arg);
	void *done_arg;
	struct tdm_loop *done_loop;
} nl;

/* "tcm-user/<hba>/<name>/<dev_config>": ours when the HBA is tandem's */
static bool nl_ours(const char *dev)
{
	char pfx[32];

	snprintf(pfx, sizeof(pfx), "tcm-user/%d/", TDM_LIO_HBA);
	return strncmp(dev, pfx, strlen(pfx)) == 0;
}

static int nl_event(struct nl_msg *msg, void *arg)
{
	static struct nla_policy pol[TCMU_ATTR_MAX + 1] = {
		[TCMU_ATTR_DEVICE] = {.type = NLA_STRING},
		[TCMU_ATTR_MINOR] = {.type = NLA_U32},
		[TCMU_ATTR_DEVICE_ID] = {.type = NLA_U32},
	};
	struct nlattr *a[TCMU_ATTR_MAX + 1];
	struct nlmsghdr *h = nlmsg_hdr(msg);
	struct genlmsghdr *g = nlmsg_data(h);
	const char *dev, *what;
	uint32_t id;

	(void)arg;
	if (genlmsg_parse(h, 0, a, TCMU_ATTR_MAX, pol) < 0 ||
	    !a[TCMU_ATTR_DEVICE] || !a[TCMU_ATTR_DEVICE_ID])
		return NL_SKIP;
	dev = nla_get_string(a[TCMU_ATTR_DEVICE]);
	id = nla_get_u32(a[TCMU_ATTR_DEVICE_ID]);
	switch (g->cmd) {
	case TCMU_CMD_ADDED_DEVICE:
		what = "added";
		break;
	case TCMU_CMD_REMOVED_DEVICE:
		what = "removed";
		break;
	case TCMU_CMD_RECONFIG_DEVICE:
		what = "reconfigured";
		break;
	default:
		return NL_SKIP;
	}
	/* another daemon's devices (tcmu-runner's) are its business */
	if (!nl_ours(dev))
		return NL_SKIP;
	/* no *_DONE reply: tandem's devices are made with
	 * nl_reply_supported=-1 (kernel/lio.c), so the kernel waits for
	 * none (a reply would find no waiter and be logged as an error) */
	log_info("tcmu: %s %s (device %u)", what, dev, id);
	return NL_OK;
}

static void nl_cb(struct tdm_fd_watch *w, uint32_t revents)
{
	int r;

	(void)w;
	(void)revents;
	while ((r = nl_recvmsgs_default(nl.sock)) >= 0)
		;
	if (r != -NLE_AGAIN)
		log_warnx_rl("tcmu: netlink: %s", nl_geterror(r));
}

static void nl_watch(void *arg)
{
	(void)arg;
	if (tdm_loop_add_fd(nl.loop, &nl.w) < 0)
		log_warnx("tcmu: cannot watch the netlink socket");
}

int tdm__tcmu_nl_start(char *err, size_t errlen)
{
	int grp, r;

	nl.sock = nl_socket_alloc();
	if (!nl.sock) {
		snprintf(err, errlen, "tcmu: out of memory");
		return -ENOMEM;
	}
	nl_socket_disable_seq_check(nl.sock);
	nl_socket_modify_cb(nl.sock, NL_CB_VALID, NL_CB_CUSTOM, nl_event, NULL);
	r = genl_connect(nl.sock);
	if (r < 0) {
		snprintf(err, errlen, "tcmu: generic netlink: %s",
			 nl_geterror(r));
		goto fail;
	}
	nl.family = genl_ctrl_resolve(nl.sock, "TCM-USER");
	grp = genl_ctrl_resolve_grp(nl.sock, "TCM-USER", "config");
	if (nl.family < 0 || grp < 0) {
		snprintf(err, errlen,
			 "no TCM-USER netlink family: the kernel module "
			 "target_core_user is not loaded (modprobe "
			 "target_core_user)");
		r = -ENOENT;
		goto fail_close;
	}
	r = nl_socket_add_membership(nl.sock, grp);
	if (r < 0) {
		snprintf(err, errlen, "tcmu: joining TCM-USER config: %s",
			 nl_geterror(r));
		goto fail_close;
	}
	nl_socket_set_nonblocking(nl.sock);
	nl.loop = tdm_loop_get(0);
	nl.w = (struct tdm_fd_watch){.fd = nl_socket_get_fd(nl.sock),
				     .events = EPOLLIN,
				     .cb = nl_cb};
	tdm_loop_post(nl.loop, nl_watch, NULL);
	return 0;
fail_close:
	nl_close(nl.sock);
fail:
	nl_socket_free(nl.sock);
	nl.sock = NULL;
	return r == -ENOENT ? r : -EIO;
}

static void nl_done_main(void *arg)
{
	(void)arg;
	nl.done(nl.done_arg);
}

static void nl_unwatch(void *arg)
{
	(void)arg;
	tdm_loop_del_fd(nl.loop, &nl.w);
	nl_close(nl.sock);
	nl_socket_free(nl.sock);
	nl.sock = NULL;
	tdm_loop_post(nl.done_loop, nl_done_main, NULL);
}

void tdm__tcmu_nl_stop(void (*done)(void *arg), void *arg)
{
	nl.done = done;
	nl.done_arg = arg;
	nl.done_loop = tdm_loop_current();
	if (!nl.sock) {
		done(arg);
		return;
	}
	tdm_loop_post(nl.loop, nl_unwatch, NULL);
}

/* ---- a device's UIO node ---- */

static int read_hex(const char *path, uint64_t *v)
{
	char buf[64];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = 0;
	errno = 0;
	*v = strtoull(buf, NULL, 0);
	return errno ? -errno : 0;
}

int tdm__kdev_open(struct kdev *d, const struct tdm_lio *l, char *err,
		   size_t errlen)
{
	char node[TDM_LIO_PATH_MAX], path[2 * TDM_LIO_PATH_MAX + 32];
	enum tdm_tcmu_err e;
	const char *base;
	uint64_t size = 0;
	int r;

	r = tdm_lio_dev_uio(l, &d->lio, node, sizeof(node));
	if (r < 0) {
		snprintf(err, errlen, "%s: no UIO device: %s", d->lio.name,
			 strerror(-r));
		return r;
	}
	base = strrchr(node, '/');
	base = base ? base + 1 : node;
	snprintf(path, sizeof(path), "%s/%s/maps/map0/size", l->uio_class,
		 base);
	r = read_hex(path, &size);
	if (r < 0 || !size || size > SIZE_MAX) {
		snprintf(err, errlen, "%s: %s: %s", d->lio.name, path,
			 strerror(r < 0 ? -r : EINVAL));
		return r < 0 ? r : -EINVAL;
	}
	d->fd = open(node, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (d->fd < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: %s: %s", d->lio.name, node,
			 strerror(-r));
		return r;
	}
	d->map = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      d->fd, 0);
	if (d->map == MAP_FAILED) {
		r = -errno;
		snprintf(err, errlen, "%s: mmap %s (%" PRIu64 " bytes): %s",
			 d->lio.name, node, size, strerror(-r));
		close(d->fd);
		d->fd = -1;
		d->map = NULL;
		return r;
	}
	d->map_len = (size_t)size;
	e = tdm__tcmu_ring_init(&d->ring, d->map, d->map_len);
	if (e != TDM_TCMU_OK) {
		snprintf(err, errlen, "%s: %s: the ring's %s is unusable",
			 d->lio.name, node, tdm__tcmu_err_str(e));
		tdm__kdev_close(d);
		return -EPROTO;
	}
	d->open = true;
	log_info("tcmu: %s on %s: %zu bytes mapped, ring %u bytes, flags "
		 "0x%x",
		 d->lio.name, node, d->map_len, d->ring.cmdr_size,
		 d->ring.flags);
	return 0;
}

void tdm__kdev_close(struct kdev *d)
{
	if (d->map)
		munmap(d->map, d->map_len);
	if (d->fd >= 0)
		close(d->fd);
	d->map = NULL;
	d->fd = -1;
	d->open = false;
}

/* tell the kernel the tail moved (uio write: tcmu_irqcontrol) */
static void kick(struct kdev *d)
{
	uint32_t one = 1;

	if (write(d->fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warnx_rl("tcmu: %s: write: %s", d->lio.name,
			     strerror(errno));
}

static void stop_done_main(void *arg)
{
	struct kdev *d = arg;

	d->stopped(d);
}

static void maybe_stopped(struct kdev *d)
{
	if (!d->stopping || d->inflight)
		return;
	if (d->watching) {
		tdm_loop_del_fd(d->ep->loop, &d->w);
		d->watching = false;
	}
	d->stopping = false;
	tdm_loop_post(d->main_loop, stop_done_main, d);
}

static void broken(struct kdev *d, enum tdm_tcmu_err e)
{
	log_err("tcmu: %s: ring broken (%s at offset %u): the device is no "
		"longer served",
		d->lio.name, tdm__tcmu_err_str(e), d->ring.next);
	d->broken = true;
}

/* ---- commands ---- */

static void complete(struct kcmd *kc, uint8_t status, const uint8_t *sense,
		     size_t sense_len, bool rl_valid, uint32_t read_len)
{
	struct kdev *d = kc->dev;
	struct tdm_tcmu_status st = {
		.cmd_id = kc->cmd_id,
		.scsi_status = status,
		.sense = sense,
		.sense_len = sense_len,
		.read_len_valid = rl_valid,
		.read_len = read_len,
	};
	enum tdm_tcmu_err e;

	if (d->broken)
		return;
	e = tdm__tcmu_complete(&d->ring, &st);
	if (e != TDM_TCMU_OK) {
		broken(d, e);
		return;
	}
	kick(d);
}

static bool is_stpg(const uint8_t *cdb)
{
	/* SPC-4 6.38: MAINTENANCE OUT (A4h), service action 0Ah */
	return cdb[0] == 0xa4 && (cdb[1] & 0x1f) == 0x0a;
}

static void cmd_new(struct kdev *d, const struct tdm_tcmu_entry *e)
{
	uint32_t n = e->iov_cnt + e->bidi_cnt;
	struct tdm_cmd *cmd;
	struct kcmd *kc;

	kc = calloc(1, sizeof(*kc) + (size_t)n * sizeof(kc->seg[0]));
	if (!kc) {
		struct kcmd tmp = {.dev = d, .cmd_id = e->cmd_id};

		/* SAM-5 5.3.1: BUSY, the initiator retries */
		complete(&tmp, TDM_STATUS_BUSY, NULL, 0, false, 0);
		return;
	}
	kc->dev = d;
	kc->cmd_id = e->cmd_id;
	kc->nout = e->iov_cnt;
	kc->nin = e->bidi_cnt;
	kc->out_len = e->iov_len;
	kc->in_len = e->bidi_len;
	for (uint32_t i = 0; i < n; i++)
		if (tdm__tcmu_seg(&d->ring, e, i, &kc->seg[i]) != TDM_TCMU_OK)
			kc->seg[i].len = 0; /* checked by the fetch */
	cmd = &kc->cmd;
	memcpy(cmd->cdb, e->cdb, e->cdb_len);
	cmd->cdb_len = e->cdb_len;
	cmd->task_attr = TDM_TASK_SIMPLE;
	cmd->lun = tdm_lun_encode(d->lun);
	cmd->tag = (uint64_t)d->index << 16 | e->cmd_id;
	/* the ring does not say which way the data goes: the CDB does */
	cmd->exp_len = (uint32_t)e->iov_len;
	cmd->exp_dir = e->bidi_cnt  ? TDM_DIR_BIDI
		       : e->iov_len ? TDM_DIR_READ
				    : TDM_DIR_NONE;
	cmd->nexus = d->ep->nexus;
	d->inflight++;
	if (is_stpg(cmd->cdb)) {
		/* implicit ALUA only through a kernel fabric: the agent
		 * orders state changes (kernel/README.md) */
		tdm_cmd_set_sense(cmd, TDM_SR_INVALID_OPCODE, NULL);
		complete(kc, cmd->status, cmd->sense, cmd->sense_len, false, 0);
		d->inflight--;
		free(kc);
		return;
	}
	tdm_cmd_submit(cmd);
}

/* A TMR notification's abort of one command, through the core */
struct ktmf {
	struct tdm_tmf tmf;
	struct kdev *dev;
};

static void tmr_entry(struct kdev *d, const struct tdm_tcmu_entry *e)
{
	/* Sent only with attrib/tmr_notification 1, which tandem leaves
	 * at 0 (LIO then just waits for the commands' completions). When
	 * it is on: LIO has aborted the listed commands on its side (a
	 * LUN RESET or ABORT TASK from the kernel's initiator); each is
	 * aborted in the core too (ABORT TASK of its tag), so that it ends
	 * early, TASK ABORTED. The core's LU state is not reset. */
	log_info("tcmu: %s: TMR %u for %u commands", d->lio.name, e->tmr_type,
		 e->tmr_cnt);
	for (uint32_t i = 0; i < e->tmr_cnt; i++) {
		struct ktmf *t;
		uint16_t id;

		if (tdm__tcmu_tmr_id(&d->ring, e, i, &id) != TDM_TCMU_OK)
			break;
		t = calloc(1, sizeof(*t));
		if (!t)
			break;
		t->dev = d;
		t->tmf.fn = TDM_TMF_ABORT_TASK;
		t->tmf.lun = tdm_lun_encode(d->lun);
		t->tmf.ref_tag = (uint64_t)d->index << 16 | id;
		t->tmf.nexus = d->ep->nexus;
		d->inflight++;
		tdm_tmf_submit(&t->tmf);
	}
}

static void ring_run(struct kdev *d)
{
	struct tdm_tcmu_entry e;
	enum tdm_tcmu_err err;

	while (!d->broken) {
		err = tdm__tcmu_ring_next(&d->ring, &e);
		if (err == TDM_TCMU_EMPTY)
			break;
		if (err != TDM_TCMU_OK) {
			broken(d, err);
			break;
		}
		if (e.op == TCMU_OP_TMR)
			tmr_entry(d, &e);
		else
			cmd_new(d, &e);
	}
	maybe_stopped(d);
}

static void uio_cb(struct tdm_fd_watch *w, uint32_t revents)
{
	struct kdev *d = w->arg;
	uint32_t count;

	(void)revents;
	/* the event count: how often the kernel poked us; the ring says
	 * what to do */
	while (read(d->fd, &count, sizeof(count)) == (ssize_t)sizeof(count))
		;
	ring_run(d);
}

static void start_on_loop(void *arg)
{
	struct kdev *d = arg;

	d->w = (struct tdm_fd_watch){
		.fd = d->fd, .events = EPOLLIN, .cb = uio_cb, .arg = d};
	if (tdm_loop_add_fd(d->ep->loop, &d->w) < 0) {
		log_err("tcmu: %s: cannot watch its UIO node", d->lio.name);
		d->broken = true;
		return;
	}
	d->watching = true;
	ring_run(d);
}

void tdm__kdev_start(struct kdev *d)
{
	d->main_loop = tdm_loop_current();
	tdm_loop_post(d->ep->loop, start_on_loop, d);
}

static void stop_on_loop(void *arg)
{
	struct kdev *d = arg;

	d->stopping = true;
	ring_run(d);
}

void tdm__kdev_stop(struct kdev *d, void (*stopped)(struct kdev *d))
{
	d->stopped = stopped;
	d->main_loop = tdm_loop_current();
	tdm_loop_post(d->ep->loop, stop_on_loop, d);
}

/* ---- the core's callbacks ---- */

static void k_write_pending(struct tdm_cmd *cmd)
{
	struct kcmd *kc = container_of(cmd, struct kcmd, cmd);

	if (cmd->data_len > kc->out_len &&
	    tdm_cmd_shorten_write(cmd, (uint32_t)kc->out_len) < 0) {
		/* the initiator's buffer holds less than the CDB says */
		tdm_cmd_fail(cmd, TDM_SR_INVALID_FIELD_IN_CDB);
		return;
	}
	if (cmd->data_len &&
	    tdm__tcmu_copy_from(&kc->dev->ring, kc->seg, kc->nout, cmd->buf,
				cmd->data_len) != cmd->data_len) {
		tdm_cmd_fail(cmd, TDM_SR_ABORTED_DATA_PHASE_ERROR);
		return;
	}
	tdm_cmd_execute(cmd);
}

/*
 * The kernel takes read_len only when it is not 0, and without it gives
 * the initiator the whole data-in area unless the status is CHECK
 * CONDITION (Linux 6.1 tcmu_handle_completion): a command that
 * produced no data-in must not hand out what an earlier command left
 * there. Not for a write (its segments are data-out, never read back).
 */
static void data_in_none(struct kcmd *kc, uint8_t dir, uint8_t status)
{
	const struct tdm_tcmu_seg *in = kc->nin ? kc->seg + kc->nout : kc->seg;
	uint32_t nin = kc->nin ? kc->nin : kc->nout;
	uint64_t cap = kc->nin ? kc->in_len : kc->out_len;

	if (cap && dir != TDM_DIR_WRITE && status != TDM_STATUS_CHECK_CONDITION)
		tdm__tcmu_zero(&kc->dev->ring, in, nin, (size_t)cap);
}

static void k_queue_status(struct tdm_cmd *cmd)
{
	struct kcmd *kc = container_of(cmd, struct kcmd, cmd);
	const struct tdm_tcmu_seg *in = kc->nin ? kc->seg + kc->nout : kc->seg;
	uint32_t nin = kc->nin ? kc->nin : kc->nout;
	uint64_t cap = kc->nin ? kc->in_len : kc->out_len;
	size_t n = 0;

	if (tdm_cmd_aborted(cmd)) {
		/* LIO still waits for this command: SAM-5 5.3.1 */
		data_in_none(kc, cmd->dir, TDM_STATUS_TASK_ABORTED);
		complete(kc, TDM_STATUS_TASK_ABORTED, NULL, 0, false, 0);
		tdm_cmd_release(cmd);
		return;
	}
	if ((cmd->dir == TDM_DIR_READ || cmd->dir == TDM_DIR_BIDI) &&
	    cmd->data_len && cmd->buf)
		n = tdm__tcmu_copy_to(&kc->dev->ring, in, nin, cmd->buf,
				      cmd->data_len < cap ? cmd->data_len
							  : (size_t)cap);
	if (!n)
		data_in_none(kc, cmd->dir, cmd->status);
	complete(kc, cmd->status,
		 cmd->status == TDM_STATUS_CHECK_CONDITION ? cmd->sense : NULL,
		 cmd->sense_len, n > 0, (uint32_t)n);
	tdm_cmd_release(cmd);
}

static void k_abort_pending(struct tdm_cmd *cmd)
{
	struct kcmd *kc = container_of(cmd, struct kcmd, cmd);

	/* write_pending never waits (the data is in the ring already), so
	 * this is not called; should it be, the command ends here */
	data_in_none(kc, cmd->dir, TDM_STATUS_TASK_ABORTED);
	complete(kc, TDM_STATUS_TASK_ABORTED, NULL, 0, false, 0);
	tdm_cmd_release(cmd);
}

static void k_queue_tmf_rsp(struct tdm_tmf *tmf)
{
	struct ktmf *t = container_of(tmf, struct ktmf, tmf);
	struct kdev *d = t->dev;

	free(t);
	d->inflight--;
	maybe_stopped(d);
}

static void k_free_cmd(struct tdm_cmd *cmd)
{
	struct kcmd *kc = container_of(cmd, struct kcmd, cmd);
	struct kdev *d = kc->dev;

	free(kc);
	d->inflight--;
	maybe_stopped(d);
}

static int k_describe(struct tdm_nexus *nx, char *buf, size_t len)
{
	const struct kep *ep = tdm_nexus_priv(nx);

	return snprintf(buf, len, "%s", ep ? ep->desc : "kernel");
}

static void k_close_nexus(struct tdm_nexus *nx)
{
	const struct kep *ep = tdm_nexus_priv(nx);

	/* the kernel's fabric owns the session: it ends when the
	 * configuration removes the TARGET */
	log_notice("%s: a kernel fabric's nexus closes only with its TARGET",
		   ep ? ep->desc : "kernel");
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* 16 hex digits (colons ignored) into 8 bytes */
static bool hex8(const char *s, uint8_t out[8])
{
	unsigned n = 0;

	for (; *s && n < 16; s++) {
		int v;

		if (*s == ':')
			continue;
		v = hexval(*s);
		if (v < 0)
			return false;
		if (n % 2 == 0)
			out[n / 2] = (uint8_t)(v << 4);
		else
			out[n / 2] |= (uint8_t)v;
		n++;
	}
	return n == 16 && !*s;
}

/* SPC-4 7.8.6.6: the target port's NAA designator, from the tcm_loop
 * WWN ("naa." and 16 hex digits) or the FC WWPN */
static size_t k_target_port(const struct tdm_nexus *nx,
			    struct tdm_designator *d, size_t max)
{
	const struct kep *ep = tdm_nexus_priv(nx);
	const char *w;

	if (!ep || max < 1 || ep->driver == TDM_DRV_VIO)
		return 0;
	w = ep->lio.wwn;
	if (!strncmp(w, "naa.", 4))
		w += 4;
	if (!hex8(w, d[0].id))
		return 0;
	d[0].assoc = TDM_DESIG_ASSOC_PORT;
	d[0].type = TDM_DESIG_NAA;
	d[0].len = 8;
	return 1;
}

#define K_OPS(n, p)                                                            \
	{                                                                      \
		.name = n, .protocol = p, .transport_id = NULL,                \
		.target_port = k_target_port,                                  \
		.write_pending = k_write_pending,                              \
		.queue_status = k_queue_status,                                \
		.abort_pending = k_abort_pending,                              \
		.queue_tmf_rsp = k_queue_tmf_rsp, .free_cmd = k_free_cmd,      \
		.describe = k_describe, .close_nexus = k_close_nexus,          \
	}

/* SPC-4 7.6.1 table 444: tcm_loop emulates a SAS port, ibmvscsis is
 * SRP, qla2xxx FC. No TransportID: LIO does not say which initiator
 * sent a command, so these nexuses take no reservations. */
static const struct tdm_transport_ops ops_loop =
	K_OPS("tcm_loop", TDM_PROTO_SAS);
static const struct tdm_transport_ops ops_vio =
	K_OPS("ibmvscsis", TDM_PROTO_SRP);
static const struct tdm_transport_ops ops_fc =
	K_OPS("tcm_qla2xxx", TDM_PROTO_FC);

const struct tdm_transport_ops *tdm__kernel_ops(uint8_t driver)
{
	switch (driver) {
	case TDM_DRV_VIO:
		return &ops_vio;
	case TDM_DRV_FC:
		return &ops_fc;
	default:
		return &ops_loop;
	}
}
