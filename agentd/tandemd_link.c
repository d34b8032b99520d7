/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tandemd_link.c - tandem-agentd's end of the link to tandemd
 * (agentd/agent_msg.h): connecting to tandemd's socket and retrying,
 * reading and writing frames, HELLO/WELCOME, STATUS, and the operations
 * tandemd sends to be ordered (PR-OUT, ALUA-SET, ORDER), its DONE counts
 * and snapshots.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "agentd/agentd.h"
#include "lib/log.h"

void tdm__ag_link_flush(void)
{
	ssize_t n;

	while (ag.link_fd >= 0 && ag.ooff < ag.olen) {
		n = send(ag.link_fd, ag.obuf + ag.ooff, ag.olen - ag.ooff,
			 MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			log_warn("agent socket: send");
			tdm__ag_link_close("send failed");
			return;
		}
		ag.ooff += (size_t)n;
	}
	ag.olen = ag.ooff = 0;
}

int tdm__ag_link_send(void)
{
	uint16_t type =
		(uint16_t)(ag.wb.len >= 6 ? ag.wb.p[4] << 8 | ag.wb.p[5] : 0);
	int r = tdm_frame_end(&ag.wb);

	if (ag.link_fd < 0)
		return -ENOTCONN;
	if (r < 0) {
		log_warnx("cannot encode %s: %s", tdm_agent_type_name(type),
			  strerror(-r));
		return r;
	}
	if (ag.olen - ag.ooff + ag.wb.len > LINK_OUT_MAX) {
		tdm__ag_link_close("tandemd does not read");
		return -ENOBUFS;
	}
	if (ag.ooff && ag.olen + ag.wb.len > ag.ocap) {
		memmove(ag.obuf, ag.obuf + ag.ooff, ag.olen - ag.ooff);
		ag.olen -= ag.ooff;
		ag.ooff = 0;
	}
	if (ag.olen + ag.wb.len > ag.ocap) {
		size_t cap = ag.ocap ? ag.ocap : 4096;
		uint8_t *p;

		while (cap < ag.olen + ag.wb.len)
			cap *= 2;
		p = realloc(ag.obuf, cap);
		if (!p) {
			tdm__ag_link_close("out of memory");
			return -ENOMEM;
		}
		ag.obuf = p;
		ag.ocap = cap;
	}
	memcpy(ag.obuf + ag.olen, ag.wb.p, ag.wb.len);
	ag.olen += ag.wb.len;
	log_debug("-> tandemd %s (%zu bytes)", tdm_agent_type_name(type),
		  ag.wb.len);
	tdm__ag_link_flush();
	return 0;
}

void tdm__ag_send_reject(uint64_t req, uint8_t what)
{
	tdm_agent_begin(&ag.wb, TDM_AGENT_REJECT);
	tdm_wbuf_put_u64(&ag.wb, req);
	tdm_wbuf_put_u8(&ag.wb, what);
	tdm__ag_link_send();
}

void tdm__ag_send_welcome(void)
{
	tdm_agent_begin(&ag.wb, TDM_AGENT_WELCOME);
	tdm_wbuf_put_u16(&ag.wb, ag.link_version);
	tdm_wbuf_put_u32(&ag.wb, ag.nodeid);
	tdm__ag_link_send();
}

void tdm__ag_update_status(void)
{
	uint8_t serving = ag.link_ready && ag.quorate && ag.cpg_joined &&
			  tdm_sync_ready(&ag.sy);
	uint32_t members = ag.sy.joined ? (uint32_t)ag.sy.nmembers : 0;

	if (!ag.link_ready)
		return;
	if (ag.last_status.valid && ag.last_status.serving == serving &&
	    ag.last_status.quorate == ag.quorate &&
	    ag.last_status.members == members &&
	    ag.last_status.seq == ag.sy.seq &&
	    ag.last_status.version == ag.sy.version)
		return;
	if (!ag.last_status.valid || ag.last_status.serving != serving)
		log_notice("%s (quorate %d, %u members, seq %llu, version %u)",
			   serving ? "serving" : "not serving", ag.quorate,
			   members, (unsigned long long)ag.sy.seq,
			   ag.sy.version);
	ag.last_status.valid = true;
	ag.last_status.serving = serving;
	ag.last_status.quorate = ag.quorate;
	ag.last_status.members = members;
	ag.last_status.seq = ag.sy.seq;
	ag.last_status.version = ag.sy.version;
	tdm_agent_begin(&ag.wb, TDM_AGENT_STATUS);
	tdm_wbuf_put_u8(&ag.wb, serving);
	tdm_wbuf_put_u8(&ag.wb, ag.quorate);
	tdm_wbuf_put_u32(&ag.wb, members);
	tdm_wbuf_put_u64(&ag.wb, ag.sy.seq);
	tdm_wbuf_put_u16(&ag.wb, ag.sy.version);
	tdm__ag_link_send();
}

/* Link version 3: the last STATUS again every hb_ms, so that tandemd
 * knows this agent runs (it fences itself after --agent-timeout without
 * a frame). */
void tdm__ag_link_heartbeat(void)
{
	uint64_t now = tdm__ag_now_ms();

	if (!ag.link_ready || ag.link_version < 3 || !ag.hb_ms ||
	    !ag.last_status.valid || now < ag.hb_next)
		return;
	ag.hb_next = now + ag.hb_ms;
	tdm_agent_begin(&ag.wb, TDM_AGENT_STATUS);
	tdm_wbuf_put_u8(&ag.wb, ag.last_status.serving);
	tdm_wbuf_put_u8(&ag.wb, ag.last_status.quorate);
	tdm_wbuf_put_u32(&ag.wb, ag.last_status.members);
	tdm_wbuf_put_u64(&ag.wb, ag.last_status.seq);
	tdm_wbuf_put_u16(&ag.wb, ag.last_status.version);
	tdm__ag_link_send();
}

bool tdm__ag_serving(void)
{
	return ag.link_ready && ag.quorate && ag.cpg_joined &&
	       tdm_sync_ready(&ag.sy);
}

void tdm__ag_link_close(const char *why)
{
	if (ag.link_fd < 0)
		return;
	log_notice("tandemd link closed: %s", why);
	close(ag.link_fd);
	ag.link_fd = -1;
	ag.link_ready = false;
	ag.link_version = 0;
	ag.hb_ms = 0;
	ag.rlen = ag.olen = ag.ooff = 0;
	ag.last_status.valid = false;
	ag.npend = 0; /* tandemd is gone: nothing to answer */
	ag.link_retry_at = tdm__ag_now_ms() + LINK_RETRY_MS;
	tdm__ag_group_update();
}

void tdm__ag_link_connect(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	static bool warned;
	int fd;

	ag.link_retry_at = tdm__ag_now_ms() + LINK_RETRY_MS;
	if (strlen(ag.sock_path) >= sizeof(sa.sun_path)) {
		log_err("socket path too long: %s", ag.sock_path);
		ag.stopping = true;
		return;
	}
	memcpy(sa.sun_path, ag.sock_path, strlen(ag.sock_path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_warn("socket");
		return;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (!warned)
			log_info("waiting for tandemd on %s (%s)", ag.sock_path,
				 strerror(errno));
		warned = true;
		close(fd);
		return;
	}
	warned = false;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	ag.link_fd = fd;
	log_notice("connected to tandemd on %s", ag.sock_path);
}

static void on_hello(struct tdm_rd *r)
{
	uint16_t vmin = tdm_rd_get_u16(r), vmax = tdm_rd_get_u16(r), v;
	char node[TDM_CODEC_STR_MAX + 1];

	uint32_t timeout_ms = 0;

	tdm_rd_get_str(r, node, sizeof(node));
	if (!r->bad && r->off < r->len)
		timeout_ms = tdm_rd_get_u32(r); /* version 3 */
	if (r->bad) {
		tdm__ag_link_close("bad HELLO");
		return;
	}
	if (ag.link_ready) {
		tdm__ag_link_close("second HELLO");
		return;
	}
	/* the highest version both speak */
	v = vmax < TDM_AGENT_LINK_VERSION ? vmax : TDM_AGENT_LINK_VERSION;
	if (v < 1 || v < vmin) {
		log_err("tandemd speaks link versions %u..%u, this agent "
			"1..%u",
			vmin, vmax, TDM_AGENT_LINK_VERSION);
		tdm__ag_link_close("no common link version");
		return;
	}
	log_notice("HELLO from tandemd on %s: link version %u", node, v);
	ag.link_version = v;
	ag.hb_ms = 0;
	if (v >= 3 && timeout_ms) {
		/* a third of tandemd's --agent-timeout */
		ag.hb_ms = timeout_ms / 3 ? timeout_ms / 3 : 1;
		ag.hb_next = tdm__ag_now_ms() + ag.hb_ms;
		log_info("link heartbeat every %u ms (tandemd's agent "
			 "timeout %u ms)",
			 ag.hb_ms, timeout_ms);
	}
	tdm_sync_link(&ag.sy, v);
	ag.link_ready = true;
	ag.last_status.valid = false;
	tdm__ag_send_welcome();
	tdm__ag_group_update();
}

static void on_op(struct tdm_rd *r, uint16_t type)
{
	uint8_t what = type == TDM_AGENT_PR_OUT ? 1 : 2;
	uint64_t req = tdm_rd_get_u64(r);
	struct tdm_cluster_pr pr;
	int e;

	if (type == TDM_AGENT_PR_OUT)
		tdm_agent_get_pr(r, &pr);
	else
		tdm_agent_get_alua(r, &ag.alua_tmp);
	if (r->bad) {
		log_warnx("malformed %s from tandemd: rejected",
			  tdm_agent_type_name(type));
		tdm__ag_send_reject(req, what);
		return;
	}
	if (!tdm__ag_serving()) {
		tdm__ag_send_reject(req, what);
		return;
	}
	if (type == TDM_AGENT_PR_OUT)
		e = tdm_cmsg_put_pr(&ag.wb, ag.sy.version, ag.nodeid, req, &pr);
	else
		e = tdm_cmsg_put_alua(&ag.wb, ag.sy.version, ag.nodeid, req,
				      &ag.alua_tmp);
	if (e == 0)
		e = tdm__ag_mq_push(ag.wb.p, ag.wb.len);
	if (e == 0)
		e = tdm__ag_pending_add(req, what);
	if (e < 0) {
		log_warnx("%s req %llu not ordered: %s",
			  tdm_agent_type_name(type), (unsigned long long)req,
			  strerror(-e));
		tdm__ag_send_reject(req, what);
		return;
	}
	tdm__ag_mq_flush();
}

/* ORDER (link version 2): an opaque event ordered like PR-OUT */
static void on_order(struct tdm_rd *r)
{
	uint64_t req = tdm_rd_get_u64(r);
	uint8_t kind = tdm_rd_get_u8(r);
	const uint8_t *p;
	size_t n;
	const char *why = NULL;
	int e;

	p = tdm_rd_get_bytes(r, &n);
	if (r->bad)
		why = "malformed";
	else if (!tdm__ag_serving())
		why = "not serving";
	else if (ag.sy.version < 2)
		why = "the group runs at protocol 1";
	if (!why) {
		e = tdm_cmsg_put_order(&ag.wb, ag.sy.version, ag.nodeid, req,
				       kind, p, n);
		if (e == 0)
			e = tdm__ag_mq_push(ag.wb.p, ag.wb.len);
		if (e == 0 && req)
			e = tdm__ag_pending_add(req, 3);
		if (e == 0) {
			tdm__ag_mq_flush();
			return;
		}
		why = strerror(-e);
	}
	if (req) {
		log_debug("ORDER req %llu kind %u not ordered: %s",
			  (unsigned long long)req, kind, why);
		tdm__ag_send_reject(req, 3);
	} else {
		log_warnx_rl("ORDER kind %u (nobody waits) dropped: %s", kind,
			     why);
	}
}

/* DONE (link version 2): tandemd applied count messages */
static void on_done(struct tdm_rd *r)
{
	uint64_t count = tdm_rd_get_u64(r);

	if (r->bad) {
		tdm__ag_link_close("bad DONE");
		return;
	}
	tdm__ag_after_event(tdm_sync_done(&ag.sy, count), "DONE");
}

static void on_snapshot(struct tdm_rd *r)
{
	uint64_t req = tdm_rd_get_u64(r), seq = 0;
	const uint8_t *p;
	size_t n, off = 0, chunk;
	bool found = false;

	p = tdm_rd_get_bytes(r, &n);
	if (r->bad) {
		tdm__ag_link_close("bad SNAPSHOT");
		return;
	}
	for (size_t i = 0; i < SNAP_REQS; i++)
		if (ag.snap_reqs[i].used && ag.snap_reqs[i].req == req) {
			ag.snap_reqs[i].used = false;
			seq = ag.snap_reqs[i].seq;
			found = true;
		}
	if (!found || !ag.cpg_joined)
		return; /* asked before we left the group */
	if (n > TDM_CMSG_SNAP_MAX) {
		log_err("snapshot of %zu bytes is too large", n);
		tdm__ag_group_leave("snapshot too large");
		return;
	}
	log_info("multicasting the snapshot: %zu bytes, seq %llu", n,
		 (unsigned long long)seq);
	do {
		chunk = n - off < TDM_CMSG_CHUNK ? n - off : TDM_CMSG_CHUNK;
		if (tdm_cmsg_put_chunk(&ag.wb, ag.sy.version, ag.nodeid, seq,
				       (uint32_t)n, (uint32_t)off, p + off,
				       chunk) < 0 ||
		    tdm__ag_mq_push(ag.wb.p, ag.wb.len) < 0) {
			tdm__ag_group_leave("cannot send the snapshot");
			return;
		}
		off += chunk;
	} while (off < n);
	tdm__ag_mq_flush();
}

static void link_frame(const uint8_t *f, size_t len)
{
	struct tdm_rd r;
	uint16_t type, version;

	tdm_frame_open(&r, f, len, &type, &version);
	log_debug("<- tandemd %s (%zu bytes)", tdm_agent_type_name(type), len);
	if (!ag.link_ready && type != TDM_AGENT_HELLO) {
		tdm__ag_link_close("expected HELLO first");
		return;
	}
	switch (type) {
	case TDM_AGENT_HELLO:
		on_hello(&r);
		break;
	case TDM_AGENT_PR_OUT:
	case TDM_AGENT_ALUA_SET:
		on_op(&r, type);
		break;
	case TDM_AGENT_SNAPSHOT:
		on_snapshot(&r);
		break;
	case TDM_AGENT_ORDER:
		if (ag.link_version < 2)
			goto unexpected;
		on_order(&r);
		break;
	case TDM_AGENT_DONE:
		if (ag.link_version < 2)
			goto unexpected;
		on_done(&r);
		break;
	default:
	unexpected:
		log_warnx_rl("unexpected %s (type %u) from tandemd ignored",
			     tdm_agent_type_name(type), type);
		break;
	}
}

void tdm__ag_link_read(void)
{
	size_t off = 0;
	ssize_t n;
	long fl;

	if (ag.rcap - ag.rlen < 65536) {
		size_t cap = ag.rcap ? 2 * ag.rcap : 131072;
		uint8_t *p;

		if (cap > TDM_FRAME_MAX + 4 + 131072)
			cap = TDM_FRAME_MAX + 4 + 131072;
		if (cap > ag.rcap) {
			p = realloc(ag.rbuf, cap);
			if (!p) {
				tdm__ag_link_close("out of memory");
				return;
			}
			ag.rbuf = p;
			ag.rcap = cap;
		}
	}
	n = recv(ag.link_fd, ag.rbuf + ag.rlen, ag.rcap - ag.rlen, 0);
	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			tdm__ag_link_close(strerror(errno));
		return;
	}
	if (n == 0) {
		tdm__ag_link_close("tandemd disconnected");
		return;
	}
	ag.rlen += (size_t)n;
	while (ag.link_fd >= 0) {
		fl = tdm_frame_len(ag.rbuf + off, ag.rlen - off);
		if (fl < 0) {
			tdm__ag_link_close("bad frame from tandemd");
			return;
		}
		if (fl == 0)
			break;
		link_frame(ag.rbuf + off, (size_t)fl);
		off += (size_t)fl;
	}
	if (ag.link_fd < 0)
		return;
	memmove(ag.rbuf, ag.rbuf + off, ag.rlen - off);
	ag.rlen -= off;
}
