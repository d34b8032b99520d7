/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * srpclient - an SRP initiator of our own, on librdmacm and libibverbs,
 * for what Linux's ib_srp never sends: logins it would not make, malformed
 * information units, commands beyond the credit limit, task management
 * functions it does not use, I_LOGOUT, a second channel. Run inside the VM
 * lab's guest (tests/vm/srp.sh) against tandemd over rdma_rxe.
 *
 *   srpclient ADDR PORT [TARGET_GUID]
 *
 * TARGET_GUID (hex, 16 digits): the target's id_ext and ioc_guid; default
 * the node GUID of the RDMA device the route goes through (the same
 * device when target and client share the guest). LUN 0 must be a disk of
 * at least 1 MiB with 512-byte blocks whose content may be overwritten.
 *
 * Every check prints "ok - ..." or "not ok - ..."; the last line is
 * "N passed, N failed"; the exit status is 0 only when none failed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <infiniband/verbs.h>
#include <rdma/rdma_cma.h>

#define NRECV 64
#define IU_MAX 8272
#define DATA_LEN (1u << 20)

static int passed, failed;

static void check(bool ok, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void check(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s - ", ok ? "ok" : "not ok");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (ok)
		passed++;
	else
		failed++;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- a channel ---- */

struct chan {
	struct rdma_event_channel *ec;
	struct rdma_cm_id *id;
	struct ibv_pd *pd;
	struct ibv_cq *cq;
	struct ibv_mr *rmr, *smr, *dmr;
	uint8_t *rbuf, *sbuf, *data;
	uint8_t priv[256]; /* the login answer's private data */
	uint8_t privlen;
	int event; /* the connection's outcome */
	uint32_t req_lim, max_ti, max_it;
	uint8_t rsp_flags;
	uint8_t iu[IU_MAX]; /* the last IU received */
	uint32_t iulen;
	bool disconnected;
};

static const char *addr, *port;
static uint8_t target_guid[8];
static bool guid_given;
static uint8_t iport[16] = {0,	  0, 0, 0, 0, 0, 0, 0x11, /* initiator_ext */
			    0x02, 0, 0, 0, 0, 0, 0, 0x01};

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 ? fl : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static int wait_cm(struct chan *c, int want, int ms)
{
	struct rdma_cm_event *ev;
	uint64_t end = now_ms() + (uint64_t)ms;

	while (now_ms() < end) {
		if (rdma_get_cm_event(c->ec, &ev)) {
			if (errno == EAGAIN) {
				usleep(1000);
				continue;
			}
			return -1;
		}
		int e = ev->event;

		if (e == RDMA_CM_EVENT_ESTABLISHED ||
		    e == RDMA_CM_EVENT_REJECTED) {
			c->privlen = ev->param.conn.private_data_len;
			if (c->privlen && ev->param.conn.private_data)
				memcpy(c->priv, ev->param.conn.private_data,
				       c->privlen);
		}
		if (e == RDMA_CM_EVENT_DISCONNECTED)
			c->disconnected = true;
		rdma_ack_cm_event(ev);
		if (want < 0 || e == want || e == RDMA_CM_EVENT_REJECTED ||
		    e == RDMA_CM_EVENT_CONNECT_ERROR ||
		    e == RDMA_CM_EVENT_UNREACHABLE ||
		    e == RDMA_CM_EVENT_ADDR_ERROR ||
		    e == RDMA_CM_EVENT_ROUTE_ERROR)
			return e;
	}
	return -2;
}

static int post_recv(struct chan *c, int i)
{
	struct ibv_sge sge = {(uintptr_t)(c->rbuf + (size_t)i * IU_MAX), IU_MAX,
			      c->rmr->lkey};
	struct ibv_recv_wr wr = {.wr_id = (uint64_t)i,
				 .sg_list = &sge,
				 .num_sge = 1},
			   *bad;

	return ibv_post_recv(c->id->qp, &wr, &bad);
}

static void chan_close(struct chan *c)
{
	if (c->id) {
		rdma_disconnect(c->id);
		if (c->id->qp)
			rdma_destroy_qp(c->id);
	}
	if (c->rmr)
		ibv_dereg_mr(c->rmr);
	if (c->smr)
		ibv_dereg_mr(c->smr);
	if (c->dmr)
		ibv_dereg_mr(c->dmr);
	if (c->cq)
		ibv_destroy_cq(c->cq);
	if (c->pd)
		ibv_dealloc_pd(c->pd);
	if (c->id)
		rdma_destroy_id(c->id);
	if (c->ec)
		rdma_destroy_event_channel(c->ec);
	free(c->rbuf);
	free(c->sbuf);
	free(c->data);
	memset(c, 0, sizeof(*c));
}

/* Linux's srp_login_req_rdma (56 bytes) */
static size_t login_priv(uint8_t *p, uint32_t it_len, uint16_t fmt,
			 uint8_t flags, const uint8_t tpid[16],
			 uint16_t imm_off)
{
	memset(p, 0, 56);
	put64(p, 0x1122334455667788ull);
	put16(p + 8, fmt);
	p[10] = flags;
	p[11] = 0x00; /* SRP_LOGIN_REQ */
	put32(p + 12, it_len);
	memcpy(p + 16, iport, 16);
	memcpy(p + 32, tpid, 16);
	put16(p + 48, imm_off);
	return 56;
}

static void default_tpid(struct chan *c, uint8_t tpid[16])
{
	if (!guid_given) {
		__be64 g = ibv_get_device_guid(c->id->verbs->device);

		memcpy(target_guid, &g, 8);
	}
	memcpy(tpid, target_guid, 8);
	memcpy(tpid + 8, target_guid, 8);
}

/*
 * Connect with the login private data that mk builds (tpid: the default
 * target port id). Returns the event (ESTABLISHED, REJECTED, ...).
 */
typedef size_t (*mk_login)(uint8_t *p, const uint8_t tpid[16]);

static int chan_open(struct chan *c, mk_login mk)
{
	struct addrinfo *ai;
	struct ibv_qp_init_attr qa = {0};
	struct rdma_conn_param cp = {0};
	uint8_t priv[64], tpid[16];
	int e;

	memset(c, 0, sizeof(*c));
	c->ec = rdma_create_event_channel();
	if (!c->ec || rdma_create_id(c->ec, &c->id, c, RDMA_PS_TCP))
		return -1;
	if (set_nonblock(c->ec->fd) < 0)
		return -1;
	if (getaddrinfo(addr, port, NULL, &ai))
		return -1;
	e = rdma_resolve_addr(c->id, NULL, ai->ai_addr, 2000);
	freeaddrinfo(ai);
	if (e || wait_cm(c, RDMA_CM_EVENT_ADDR_RESOLVED, 3000) !=
			 RDMA_CM_EVENT_ADDR_RESOLVED)
		return -1;
	if (rdma_resolve_route(c->id, 2000) ||
	    wait_cm(c, RDMA_CM_EVENT_ROUTE_RESOLVED, 3000) !=
		    RDMA_CM_EVENT_ROUTE_RESOLVED)
		return -1;
	c->pd = ibv_alloc_pd(c->id->verbs);
	c->cq = ibv_create_cq(c->id->verbs, 1024, NULL, NULL, 0);
	if (!c->pd || !c->cq)
		return -1;
	qa.send_cq = c->cq;
	qa.recv_cq = c->cq;
	qa.qp_type = IBV_QPT_RC;
	qa.cap.max_send_wr = 512;
	qa.cap.max_recv_wr = NRECV;
	qa.cap.max_send_sge = 1;
	qa.cap.max_recv_sge = 1;
	qa.sq_sig_all = 1;
	if (rdma_create_qp(c->id, c->pd, &qa))
		return -1;
	c->rbuf = calloc(NRECV, IU_MAX);
	c->sbuf = calloc(256, IU_MAX);
	c->data = calloc(1, DATA_LEN);
	if (!c->rbuf || !c->sbuf || !c->data)
		return -1;
	c->rmr = ibv_reg_mr(c->pd, c->rbuf, (size_t)NRECV * IU_MAX,
			    IBV_ACCESS_LOCAL_WRITE);
	c->smr = ibv_reg_mr(c->pd, c->sbuf, (size_t)256 * IU_MAX, 0);
	c->dmr = ibv_reg_mr(c->pd, c->data, DATA_LEN,
			    IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_READ |
				    IBV_ACCESS_REMOTE_WRITE);
	if (!c->rmr || !c->smr || !c->dmr)
		return -1;
	for (int i = 0; i < NRECV; i++)
		if (post_recv(c, i))
			return -1;
	default_tpid(c, tpid);
	cp.private_data = priv;
	cp.private_data_len = (uint8_t)mk(priv, tpid);
	cp.responder_resources = 4;
	cp.initiator_depth = 4;
	cp.retry_count = 7;
	cp.rnr_retry_count = 7;
	cp.flow_control = 1;
	if (rdma_connect(c->id, &cp))
		return -1;
	c->event = wait_cm(c, RDMA_CM_EVENT_ESTABLISHED, 5000);
	if (c->event == RDMA_CM_EVENT_ESTABLISHED && c->privlen >= 52 &&
	    c->priv[0] == 0xc0) {
		c->req_lim = get32(c->priv + 4);
		c->max_it = get32(c->priv + 16);
		c->max_ti = get32(c->priv + 20);
		c->rsp_flags = c->priv[26];
	}
	return c->event;
}

static int send_iu(struct chan *c, const uint8_t *iu, uint32_t len)
{
	static unsigned slot;
	uint8_t *p = c->sbuf + (size_t)(slot++ % 256) * IU_MAX;
	struct ibv_sge sge = {(uintptr_t)p, len, c->smr->lkey};
	struct ibv_send_wr wr = {.wr_id = 1ull << 63,
				 .sg_list = &sge,
				 .num_sge = 1,
				 .opcode = IBV_WR_SEND,
				 .send_flags = IBV_SEND_SIGNALED},
			   *bad;

	memcpy(p, iu, len);
	return ibv_post_send(c->id->qp, &wr, &bad);
}

/* The next IU received (copied to c->iu), or false after ms. */
static bool recv_iu(struct chan *c, int ms)
{
	uint64_t end = now_ms() + (uint64_t)ms;
	struct ibv_wc wc;

	while (now_ms() < end) {
		int n = ibv_poll_cq(c->cq, 1, &wc);

		if (n < 0)
			return false;
		if (n == 0) {
			usleep(200);
			continue;
		}
		if (wc.wr_id & (1ull << 63))
			continue; /* our send */
		if (wc.status != IBV_WC_SUCCESS)
			return false;
		c->iulen = wc.byte_len;
		memcpy(c->iu, c->rbuf + wc.wr_id * IU_MAX, wc.byte_len);
		post_recv(c, (int)wc.wr_id);
		return true;
	}
	return false;
}

/* ---- IUs ---- */

struct desc {
	uint64_t va;
	uint32_t key, len;
};

enum fmt { F_NONE, F_DIRECT, F_INDIRECT, F_IMM };

/* An SRP_CMD: out or in data through ndesc descriptors, or immediate. */
static uint32_t mk_cmd(uint8_t *iu, uint64_t tag, const uint8_t *cdb, bool out,
		       enum fmt f, const struct desc *d, unsigned nd,
		       const uint8_t *imm, uint32_t imm_len)
{
	uint32_t len = 48, total = 0;
	uint8_t code;

	memset(iu, 0, 48);
	iu[0] = 0x02;
	put64(iu + 8, tag);
	memcpy(iu + 32, cdb, 16);
	code = f == F_DIRECT ? 1 : f == F_INDIRECT ? 2 : f == F_IMM ? 3 : 0;
	iu[5] = out ? (uint8_t)(code << 4) : code;
	if (f == F_DIRECT) {
		put64(iu + 48, d[0].va);
		put32(iu + 56, d[0].key);
		put32(iu + 60, d[0].len);
		len = 64;
		if (out)
			iu[6] = 1;
		else
			iu[7] = 1;
	} else if (f == F_INDIRECT) {
		/* table descriptor: where the whole table is (in the IU) */
		put64(iu + 48, 0);
		put32(iu + 56, 0);
		put32(iu + 60, nd * 16);
		for (unsigned i = 0; i < nd; i++) {
			put64(iu + 68 + 16 * i, d[i].va);
			put32(iu + 76 + 16 * i, d[i].key);
			put32(iu + 80 + 16 * i, d[i].len);
			total += d[i].len;
		}
		put32(iu + 64, total);
		len = 68 + 16 * nd;
		if (out)
			iu[6] = (uint8_t)nd;
		else
			iu[7] = (uint8_t)nd;
	} else if (f == F_IMM) {
		put32(iu + 48, imm_len);
		memset(iu + 52, 0, 16);
		memcpy(iu + 68, imm, imm_len);
		len = 68 + imm_len;
	}
	return len;
}

struct rsp {
	bool ok;
	uint8_t op, flags, status;
	uint32_t delta, do_resid, di_resid, sense_len, resp_len;
	uint8_t resp_code;
	const uint8_t *sense;
	uint64_t tag;
};

static struct rsp parse_rsp(const struct chan *c)
{
	struct rsp r = {0};

	r.op = c->iu[0];
	if (c->iulen < 36 || r.op != 0xc1)
		return r;
	r.ok = true;
	r.delta = get32(c->iu + 4);
	r.tag = (uint64_t)get32(c->iu + 8) << 32 | get32(c->iu + 12);
	r.flags = c->iu[18];
	r.status = c->iu[19];
	r.do_resid = get32(c->iu + 20);
	r.di_resid = get32(c->iu + 24);
	r.sense_len = get32(c->iu + 28);
	r.resp_len = get32(c->iu + 32);
	if ((r.flags & 1) && r.resp_len >= 4 && c->iulen >= 40)
		r.resp_code = c->iu[39];
	r.sense = c->iu + 36 + ((r.flags & 1) ? r.resp_len : 0);
	return r;
}

static struct desc dd(struct chan *c, uint32_t off, uint32_t len)
{
	struct desc d = {(uintptr_t)(c->data + off), c->dmr->rkey, len};

	return d;
}

/* Send an IU, wait for its response; r.ok false on a timeout. */
static struct rsp exchange(struct chan *c, const uint8_t *iu, uint32_t len)
{
	struct rsp none = {0};

	if (send_iu(c, iu, len) || !recv_iu(c, 5000))
		return none;
	return parse_rsp(c);
}

static void cdb_rw(uint8_t *cdb, bool write, uint32_t lba, uint16_t blocks)
{
	memset(cdb, 0, 16);
	cdb[0] = write ? 0x2a : 0x28;
	put32(cdb + 2, lba);
	put16(cdb + 7, blocks);
}

/* TEST UNIT READY until GOOD (the first ones report unit attentions). */
static bool tur_clean(struct chan *c, uint8_t *last_asc)
{
	uint8_t iu[64], cdb[16] = {0};

	for (int i = 0; i < 8; i++) {
		struct rsp r =
			exchange(c, iu,
				 mk_cmd(iu, 100 + (uint64_t)i, cdb, false,
					F_NONE, NULL, 0, NULL, 0));

		if (!r.ok)
			return false;
		if (r.status == 0)
			return true;
		if (last_asc && r.sense_len >= 14)
			*last_asc = r.sense[12];
	}
	return false;
}

/* ---- the scenarios ---- */

static uint32_t l_it_len = 8260;
static uint16_t l_fmt = 6;
static uint8_t l_flags = 0x80;
static uint16_t l_imm = 68;
static bool l_bad_tpid;

static size_t mk_default(uint8_t *p, const uint8_t tpid[16])
{
	uint8_t t[16];

	memcpy(t, tpid, 16);
	if (l_bad_tpid)
		t[15] ^= 0xff;
	return login_priv(p, l_it_len, l_fmt, l_flags, t, l_imm);
}

static size_t mk_short(uint8_t *p, const uint8_t tpid[16])
{
	login_priv(p, 8260, 6, 0, tpid, 0);
	return 20;
}

static void reset_login(void)
{
	l_it_len = 8260;
	l_fmt = 6;
	l_flags = 0x80;
	l_imm = 68;
	l_bad_tpid = false;
}

static void expect_rej(const char *what, mk_login mk, uint32_t reason)
{
	struct chan c;
	int e = chan_open(&c, mk);
	uint32_t got =
		c.privlen >= 8 && c.priv[0] == 0xc2 ? get32(c.priv + 4) : 0;

	check(e == RDMA_CM_EVENT_REJECTED && got == reason,
	      "login %s: SRP_LOGIN_REJ reason 0x%08x (event %d, reason "
	      "0x%08x)",
	      what, reason, e, got);
	chan_close(&c);
	reset_login();
}

static void logins(void)
{
	struct chan c;
	int e;

	l_it_len = 70000;
	expect_rej("req_it_iu_len 70000", mk_default, 0x00010002);
	l_it_len = 40;
	expect_rej("req_it_iu_len 40", mk_default, 0x00010002);
	l_bad_tpid = true;
	expect_rej("wrong target port id", mk_default, 0x00010003);
	l_fmt = 0x8;
	expect_rej("no buffer format in common", mk_default, 0x00010004);
	l_imm = 20;
	expect_rej("immediate data offset 20", mk_default, 0x00010004);
	expect_rej("20 bytes of private data", mk_short, 0x00010000);

	e = chan_open(&c, mk_default);
	check(e == RDMA_CM_EVENT_ESTABLISHED && c.priv[0] == 0xc0,
	      "login as ib_srp does (8260, direct+indirect, immediate at 68): "
	      "SRP_LOGIN_RSP (event %d)",
	      e);
	check(c.req_lim >= 16 && c.max_it == 8260 && c.max_ti >= 36 &&
		      (c.rsp_flags & 0x80),
	      "SRP_LOGIN_RSP: req_lim %u, max_it_iu_len %u, max_ti_iu_len %u, "
	      "flags 0x%02x (IMMED_SUPP)",
	      c.req_lim, c.max_it, c.max_ti, c.rsp_flags);
	chan_close(&c);
	l_flags = 0;
	e = chan_open(&c, mk_default);
	check(e == RDMA_CM_EVENT_ESTABLISHED && !(c.rsp_flags & 0x80),
	      "login without immediate data: no IMMED_SUPP (flags 0x%02x)",
	      c.rsp_flags);
	chan_close(&c);
	reset_login();
}

static void data_path(struct chan *c)
{
	uint8_t iu[IU_MAX], cdb[16];
	struct desc d[4];
	struct rsp r;
	uint8_t pat[4096];
	uint8_t asc = 0;

	check(tur_clean(c, &asc),
	      "TEST UNIT READY reaches GOOD (first "
	      "unit attention ASC 0x%02x)",
	      asc);
	/* INQUIRY, direct descriptor: data-in by RDMA WRITE */
	memset(cdb, 0, 16);
	cdb[0] = 0x12;
	put16(cdb + 3, 96);
	memset(c->data, 0, 96);
	d[0] = dd(c, 0, 96);
	r = exchange(c, iu, mk_cmd(iu, 1, cdb, false, F_DIRECT, d, 1, NULL, 0));
	check(r.ok && r.status == 0 && c->data[0] == 0 &&
		      memcmp(c->data + 8, "TANDEM", 6) == 0 && r.delta >= 1,
	      "INQUIRY through a direct descriptor: status %u, vendor "
	      "'%.8s', req_lim_delta %u",
	      r.status, c->data + 8, r.delta);
	/* VPD 0x83: the target port's EUI-64 16-byte designator */
	cdb[1] = 1;
	cdb[2] = 0x83;
	put16(cdb + 3, 512);
	memset(c->data, 0, 512);
	d[0] = dd(c, 0, 512);
	r = exchange(c, iu, mk_cmd(iu, 2, cdb, false, F_DIRECT, d, 1, NULL, 0));
	{
		bool found = false;
		unsigned len = (unsigned)c->data[2] << 8 | c->data[3];

		for (unsigned o = 4; o + 4 <= 4 + len && o + 4 < 512;
		     o += 4 + c->data[o + 3]) {
			const uint8_t *p = c->data + o;

			if ((p[1] & 0x30) == 0x10 && (p[1] & 0xf) == 2 &&
			    p[3] == 16 && (p[0] >> 4) == 4 &&
			    memcmp(p + 4, target_guid, 8) == 0)
				found = true;
		}
		check(r.ok && r.status == 0 && found,
		      "VPD 0x83 has the target port's 16-byte EUI-64 "
		      "designator (protocol SRP)");
	}
	/* WRITE with immediate data, READ back through 3 descriptors */
	for (unsigned i = 0; i < sizeof(pat); i++)
		pat[i] = (uint8_t)(i * 7 + 3);
	cdb_rw(cdb, true, 8, 8);
	r = exchange(c, iu,
		     mk_cmd(iu, 3, cdb, true, F_IMM, NULL, 0, pat, 4096));
	check(r.ok && r.status == 0 && r.flags == 0,
	      "WRITE(10) 4 KiB as immediate data: status %u flags 0x%02x",
	      r.status, r.flags);
	memset(c->data, 0, 8192);
	d[0] = dd(c, 0, 1000);
	d[1] = dd(c, 3000, 2096);
	d[2] = dd(c, 6000, 1000);
	cdb_rw(cdb, false, 8, 8);
	r = exchange(c, iu,
		     mk_cmd(iu, 4, cdb, false, F_INDIRECT, d, 3, NULL, 0));
	check(r.ok && r.status == 0 && memcmp(c->data, pat, 1000) == 0 &&
		      memcmp(c->data + 3000, pat + 1000, 2096) == 0 &&
		      memcmp(c->data + 6000, pat + 3096, 1000) == 0,
	      "READ(10) through an indirect table of 3 descriptors (RDMA "
	      "WRITE): the data written");
	/* WRITE by RDMA READ from 2 descriptors */
	for (unsigned i = 0; i < 8192; i++)
		c->data[i] = (uint8_t)(i * 13 + 1);
	d[0] = dd(c, 0, 512);
	d[1] = dd(c, 4096, 3584);
	cdb_rw(cdb, true, 16, 8);
	r = exchange(c, iu,
		     mk_cmd(iu, 5, cdb, true, F_INDIRECT, d, 2, NULL, 0));
	check(r.ok && r.status == 0,
	      "WRITE(10) through 2 descriptors (RDMA "
	      "READ): status %u",
	      r.status);
	memset(c->data + 65536, 0, 4096);
	d[0] = dd(c, 65536, 4096);
	cdb_rw(cdb, false, 16, 8);
	r = exchange(c, iu, mk_cmd(iu, 6, cdb, false, F_DIRECT, d, 1, NULL, 0));
	check(r.ok && r.status == 0 &&
		      memcmp(c->data + 65536, c->data, 512) == 0 &&
		      memcmp(c->data + 65536 + 512, c->data + 4096, 3584) == 0,
	      "read back: what the RDMA READ fetched");
	/* residuals */
	d[0] = dd(c, 0, 2048);
	cdb_rw(cdb, false, 0, 8);
	r = exchange(c, iu, mk_cmd(iu, 7, cdb, false, F_DIRECT, d, 1, NULL, 0));
	check(r.ok && r.status == 0 && (r.flags & 0x10) && r.di_resid == 2048,
	      "READ of 4 KiB into a 2 KiB buffer: DIOVER, residual %u",
	      r.di_resid);
	d[0] = dd(c, 0, 8192);
	r = exchange(c, iu, mk_cmd(iu, 8, cdb, false, F_DIRECT, d, 1, NULL, 0));
	check(r.ok && r.status == 0 && (r.flags & 0x20) && r.di_resid == 4096,
	      "READ of 4 KiB into an 8 KiB buffer: DIUNDER, residual %u",
	      r.di_resid);
	/* a write whose buffer is too small: shortened or refused */
	d[0] = dd(c, 0, 1000);
	cdb_rw(cdb, true, 0, 8);
	r = exchange(c, iu, mk_cmd(iu, 9, cdb, true, F_DIRECT, d, 1, NULL, 0));
	check(r.ok && r.status == 2 && (r.flags & 0x04) && r.do_resid == 3096,
	      "WRITE of 4 KiB from a 1000-byte buffer: CHECK CONDITION, "
	      "DOOVER residual %u (status %u)",
	      r.do_resid, r.status);
}

static void malformed(struct chan *c)
{
	uint8_t iu[IU_MAX], cdb[16];
	struct desc d[2];
	struct rsp r;
	uint32_t len;

	cdb_rw(cdb, false, 0, 1);
	d[0] = dd(c, 0, 512);
	/* the indirect table's partial list runs past the IU */
	len = mk_cmd(iu, 20, cdb, false, F_INDIRECT, d, 1, NULL, 0);
	iu[7] = 4;
	put32(iu + 60, 64);
	r = exchange(c, iu, len);
	check(r.ok && (r.flags & 1) && r.resp_code == 0x02 && r.tag == 20,
	      "descriptor list past the end of the IU: SRP_RSP REQUEST "
	      "FIELDS INVALID (code 0x%02x)",
	      r.resp_code);
	/* an external table (table length says 2, one in the IU) */
	len = mk_cmd(iu, 21, cdb, false, F_INDIRECT, d, 1, NULL, 0);
	put32(iu + 60, 32);
	r = exchange(c, iu, len);
	check(r.ok && (r.flags & 1) && r.resp_code == 0x02,
	      "indirect table outside the IU: REQUEST FIELDS INVALID");
	/* total length not the sum */
	d[1] = dd(c, 512, 512);
	len = mk_cmd(iu, 22, cdb, false, F_INDIRECT, d, 2, NULL, 0);
	put32(iu + 64, 4096);
	r = exchange(c, iu, len);
	check(r.ok && (r.flags & 1) && r.resp_code == 0x02,
	      "total length 4096 for descriptors of 1024: REQUEST FIELDS "
	      "INVALID");
	/* ADDITIONAL CDB LENGTH pushing the descriptor out */
	len = mk_cmd(iu, 23, cdb, false, F_DIRECT, d, 1, NULL, 0);
	iu[27] = 0xfc;
	r = exchange(c, iu, len);
	check(r.ok && (r.flags & 1) && r.resp_code == 0x02,
	      "ADDITIONAL CDB LENGTH beyond the IU: REQUEST FIELDS INVALID");
	/* immediate data longer than the IU */
	len = mk_cmd(iu, 24, cdb, true, F_IMM, NULL, 0, c->data, 512);
	put32(iu + 48, 100000);
	r = exchange(c, iu, len);
	check(r.ok && (r.flags & 1) && r.resp_code == 0x02,
	      "immediate data length 100000 in a 580-byte IU: REQUEST FIELDS "
	      "INVALID");
	/* both directions */
	len = mk_cmd(iu, 25, cdb, false, F_DIRECT, d, 1, NULL, 0);
	iu[5] = 0x11;
	r = exchange(c, iu, len);
	check(r.ok && (r.flags & 1) && r.resp_code == 0x02,
	      "bidirectional command: REQUEST FIELDS INVALID");
	/* task management */
	memset(iu, 0, 48);
	iu[0] = 0x01;
	put64(iu + 8, 30);
	iu[26] = 0x80;
	r = exchange(c, iu, 48);
	check(r.ok && (r.flags & 1) && r.resp_code == 0x04,
	      "TMF 0x80: TASK MANAGEMENT FUNCTION NOT SUPPORTED (0x%02x)",
	      r.resp_code);
	iu[26] = 0x01;
	put64(iu + 32, 0xdead);
	r = exchange(c, iu, 48);
	check(r.ok && (r.flags & 1) && r.resp_code == 0x00,
	      "ABORT TASK of a tag never sent: FUNCTION COMPLETE (0x%02x)",
	      r.resp_code);
	iu[26] = 0x08;
	r = exchange(c, iu, 48);
	check(r.ok && (r.flags & 1) && r.resp_code == 0x00,
	      "LUN RESET: FUNCTION COMPLETE (0x%02x)", r.resp_code);
	{
		uint8_t asc = 0;

		check(tur_clean(c, &asc) && asc == 0x29,
		      "after LUN RESET: unit attention ASC 0x%02x (29h)", asc);
	}
}

/* More commands than credits, all at once: every one answered. */
static void beyond_credits(struct chan *c)
{
	uint8_t iu[64], cdb[16] = {0};
	unsigned n = c->req_lim + 8, got = 0;
	uint64_t t0 = now_ms();

	for (unsigned i = 0; i < n; i++)
		send_iu(c, iu,
			mk_cmd(iu, 1000 + i, cdb, false, F_NONE, NULL, 0, NULL,
			       0));
	while (got < n && recv_iu(c, 5000))
		got++;
	check(got == n,
	      "%u TEST UNIT READY sent at once with req_lim %u: %u "
	      "answered (%llu ms)",
	      n, c->req_lim, got, (unsigned long long)(now_ms() - t0));
}

static void logouts(void)
{
	struct chan a, b;
	uint8_t iu[16];
	int e;

	/* an IU of an unknown type: T_LOGOUT, then the channel goes */
	if (chan_open(&a, mk_default) == RDMA_CM_EVENT_ESTABLISHED) {
		memset(iu, 0, 16);
		iu[0] = 0x55;
		send_iu(&a, iu, 16);
		bool got = recv_iu(&a, 3000);

		check(got && a.iu[0] == 0x80 && get32(a.iu + 4) == 2,
		      "unknown IU type 0x55: SRP_T_LOGOUT reason %u",
		      got ? get32(a.iu + 4) : 0);
		e = wait_cm(&a, RDMA_CM_EVENT_DISCONNECTED, 3000);
		check(e == RDMA_CM_EVENT_DISCONNECTED,
		      "... and the target disconnects (event %d)", e);
	} else {
		check(false, "login for the T_LOGOUT case");
	}
	chan_close(&a);
	/* SRP_I_LOGOUT: the target disconnects */
	if (chan_open(&a, mk_default) == RDMA_CM_EVENT_ESTABLISHED) {
		memset(iu, 0, 16);
		iu[0] = 0x03;
		send_iu(&a, iu, 16);
		e = wait_cm(&a, RDMA_CM_EVENT_DISCONNECTED, 3000);
		check(e == RDMA_CM_EVENT_DISCONNECTED,
		      "SRP_I_LOGOUT: disconnected (event %d)", e);
	} else {
		check(false, "login for the I_LOGOUT case");
	}
	chan_close(&a);
	/* multi-channel: a second channel joins, a single login ends both */
	l_flags = 0x80 | 1;
	e = chan_open(&a, mk_default);
	e = e == RDMA_CM_EVENT_ESTABLISHED ? chan_open(&b, mk_default) : e;
	check(e == RDMA_CM_EVENT_ESTABLISHED && (b.rsp_flags & 3) == 2,
	      "a second channel with MULTI: MAINTAINED (flags 0x%02x)",
	      b.rsp_flags);
	check(tur_clean(&b, NULL) && tur_clean(&a, NULL),
	      "both channels of the nexus serve commands");
	{
		struct chan s;

		l_flags = 0x80;
		e = chan_open(&s, mk_default);
		check(e == RDMA_CM_EVENT_ESTABLISHED && (s.rsp_flags & 3) == 1,
		      "a SINGLE login then: TERMINATED (flags 0x%02x)",
		      s.rsp_flags);
		e = wait_cm(&a, RDMA_CM_EVENT_DISCONNECTED, 3000);
		check(e == RDMA_CM_EVENT_DISCONNECTED,
		      "... and the first channels are disconnected (event %d)",
		      e);
		chan_close(&s);
	}
	chan_close(&a);
	chan_close(&b);
	reset_login();
}

int main(int argc, char **argv)
{
	struct chan c;

	if (argc < 3) {
		fprintf(stderr, "usage: srpclient ADDR PORT [TARGET_GUID]\n");
		return 2;
	}
	addr = argv[1];
	port = argv[2];
	if (argc > 3) {
		uint64_t g = strtoull(argv[3], NULL, 16);

		put64(target_guid, g);
		guid_given = true;
	}
	logins();
	if (chan_open(&c, mk_default) != RDMA_CM_EVENT_ESTABLISHED) {
		check(false, "login for the data path");
	} else {
		data_path(&c);
		malformed(&c);
		beyond_credits(&c);
	}
	chan_close(&c);
	logouts();
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
