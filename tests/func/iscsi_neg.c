/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * iscsi_neg.c - negative and functional tests of tandemd's iSCSI target.
 *
 * A minimal iSCSI initiator of our own, on raw TCP sockets, so that
 * malformed PDUs, bad login sequences, wrong digests and CmdSN window
 * violations can be sent on purpose. Written from the specifications:
 * RFC 7143 (iSCSI), RFC 1994 (CHAP), RFC 1321 (MD5), RFC 3385 (CRC32C),
 * SPC-4/SBC-3 (CDBs, sense data).
 *
 * usage: iscsi_neg [--host H] [--port P] [--plain IQN] [--chap IQN]
 *                  [--mutual IQN] [--user U] [--secret S]
 *                  [--target-user U] [--target-secret S] [--lun N]
 *                  [--bind ADDR] [--scenario NAME [its options]]
 *
 * With --scenario, one attack or measurement runs instead of the suite
 * (the scripts in tests/func measure the target meanwhile):
 *   chap-rate   wrong CHAP secrets for --seconds S from --parallel P
 *               connections at once; at most --max-rate R guesses/s
 *   chap-login  one right CHAP login, answered within --max-ms M
 *   flood       --count N READs of --edtl E bytes each (--immediate, or
 *               within the CmdSN window), then no reading for --hold-ms
 *               H; then --drain (every command must be answered) or
 *               wait --close-ms C for the target to drop the connection
 *               (--half-close: shut our sending side down first)
 *   chap-refused  a right CHAP login refused by a target error (0x03xx)
 *               before any challenge (no random bytes to make one)
 *   serves      a login to the plain target and an INQUIRY
 *   refused     a login to --plain refused with an initiator error,
 *               class 02h (a name that is not an iSCSI target here)
 *
 * The three targets must exist: --plain without CHAP, --chap with
 * IncomingUser U S, --mutual with IncomingUser U S and OutgoingUser
 * (target-user, target-secret); each with a disk at LUN --lun (default 0)
 * of at least 1 MiB whose content may be overwritten.
 *
 * Output is TAP: "ok N - ..." / "not ok N - ...", "# ..." diagnostics,
 * the plan "1..N" last. Exit status 0 when every case passed, 1 otherwise.
 */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- options ---- */

static struct {
	const char *host;
	const char *port;
	const char *plain;
	const char *chap;
	const char *mutual;
	const char *user;
	const char *secret;
	const char *tuser;
	const char *tsecret;
	const char *iname;
	const char *bind;
	int lun;
	const char *scenario;
	int seconds, parallel, count, hold_ms, close_ms, max_ms;
	uint32_t edtl;
	bool immediate, drain, half_close;
	double max_rate;
} opt = {
	.host = "127.0.0.1",
	.port = "3400",
	.plain = "iqn.2026-11.org.tandem:neg-plain",
	.chap = "iqn.2026-11.org.tandem:neg-chap",
	.mutual = "iqn.2026-11.org.tandem:neg-mutual",
	.user = "neguser",
	.secret = "negsecret1234",
	.tuser = "negtarget",
	.tsecret = "tgtsecret5678",
	.iname = "iqn.2026-11.org.tandem:neg-initiator",
	.lun = 0,
	.seconds = 5,
	.parallel = 1,
	.count = 256,
	.edtl = 1048576,
	.hold_ms = 3000,
	.close_ms = 15000,
	.max_ms = 1000,
	.max_rate = 1e9,
};

/* ---- TAP ---- */

static int ntests, nfailed;

static void __attribute__((format(printf, 2, 3)))
tap(bool ok, const char *fmt, ...)
{
	va_list ap;

	ntests++;
	if (!ok)
		nfailed++;
	printf("%sok %d - ", ok ? "" : "not ", ntests);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static void __attribute__((format(printf, 1, 2))) diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000,
			      .tv_nsec = (long)(ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* small deterministic generator (xorshift32) for patterns and garbage */
static uint32_t rng_state = 0x2545f491;

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put24(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 16);
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* RFC 1982 serial number arithmetic on 32 bits (RFC 7143 4.2.2.1) */
static bool sn_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

/* ---- CRC32C (Castagnoli), RFC 3385 / RFC 7143 13.1 ---- */

static uint32_t crc_table[256];

static void crc32c_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
		crc_table[i] = c;
	}
}

static uint32_t crc32c(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint32_t c = 0xffffffffu;

	while (len--)
		c = crc_table[(c ^ *p++) & 0xff] ^ (c >> 8);
	return c ^ 0xffffffffu;
}

/* digests go on the wire least significant byte first (RFC 7143 13.1) */
static void put_digest(uint8_t *p, uint32_t crc)
{
	p[0] = (uint8_t)crc;
	p[1] = (uint8_t)(crc >> 8);
	p[2] = (uint8_t)(crc >> 16);
	p[3] = (uint8_t)(crc >> 24);
}

static uint32_t get_digest(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* ---- MD5, RFC 1321 (for CHAP, RFC 1994) ---- */

struct md5 {
	uint32_t h[4];
	uint64_t len;
	uint8_t blk[64];
	size_t n;
};

static const uint32_t md5_k[64] = {
	0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a,
	0xa8304613, 0xfd469501, 0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be,
	0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821, 0xf61e2562, 0xc040b340,
	0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
	0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8,
	0x676f02d9, 0x8d2a4c8a, 0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c,
	0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70, 0x289b7ec6, 0xeaa127fa,
	0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
	0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92,
	0xffeff47d, 0x85845dd1, 0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1,
	0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
};

static const uint8_t md5_r[16] = {7, 12, 17, 22, 5, 9,	14, 20,
				  4, 11, 16, 23, 6, 10, 15, 21};

static uint32_t rol32(uint32_t x, unsigned n)
{
	return x << n | x >> (32 - n);
}

static void md5_block(struct md5 *m, const uint8_t *b)
{
	uint32_t w[16], a = m->h[0], bb = m->h[1], c = m->h[2], d = m->h[3];

	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)b[4 * i] | (uint32_t)b[4 * i + 1] << 8 |
		       (uint32_t)b[4 * i + 2] << 16 |
		       (uint32_t)b[4 * i + 3] << 24;
	for (int i = 0; i < 64; i++) {
		uint32_t f, t;
		int g;

		switch (i / 16) {
		case 0:
			f = (bb & c) | (~bb & d);
			g = i;
			break;
		case 1:
			f = (d & bb) | (~d & c);
			g = (5 * i + 1) % 16;
			break;
		case 2:
			f = bb ^ c ^ d;
			g = (3 * i + 5) % 16;
			break;
		default:
			f = c ^ (bb | ~d);
			g = (7 * i) % 16;
			break;
		}
		t = d;
		d = c;
		c = bb;
		bb = bb + rol32(a + f + md5_k[i] + w[g],
				md5_r[(i / 16) * 4 + i % 4]);
		a = t;
	}
	m->h[0] += a;
	m->h[1] += bb;
	m->h[2] += c;
	m->h[3] += d;
}

static void md5_init(struct md5 *m)
{
	m->h[0] = 0x67452301;
	m->h[1] = 0xefcdab89;
	m->h[2] = 0x98badcfe;
	m->h[3] = 0x10325476;
	m->len = 0;
	m->n = 0;
}

static void md5_update(struct md5 *m, const void *data, size_t len)
{
	const uint8_t *p = data;

	m->len += len;
	while (len) {
		size_t k = 64 - m->n < len ? 64 - m->n : len;

		memcpy(m->blk + m->n, p, k);
		m->n += k;
		p += k;
		len -= k;
		if (m->n == 64) {
			md5_block(m, m->blk);
			m->n = 0;
		}
	}
}

static void md5_final(struct md5 *m, uint8_t out[16])
{
	uint64_t bits = m->len * 8;
	uint8_t pad = 0x80, zero = 0, lenle[8];

	md5_update(m, &pad, 1);
	while (m->n != 56)
		md5_update(m, &zero, 1);
	for (int i = 0; i < 8; i++)
		lenle[i] = (uint8_t)(bits >> (8 * i));
	md5_update(m, lenle, 8);
	for (int i = 0; i < 4; i++) {
		out[4 * i] = (uint8_t)m->h[i];
		out[4 * i + 1] = (uint8_t)(m->h[i] >> 8);
		out[4 * i + 2] = (uint8_t)(m->h[i] >> 16);
		out[4 * i + 3] = (uint8_t)(m->h[i] >> 24);
	}
}

/* CHAP response, RFC 1994 4.1: MD5(identifier || secret || challenge) */
static void chap_md5(uint8_t id, const char *secret, const uint8_t *chal,
		     size_t chal_len, uint8_t out[16])
{
	struct md5 m;

	md5_init(&m);
	md5_update(&m, &id, 1);
	md5_update(&m, secret, strlen(secret));
	md5_update(&m, chal, chal_len);
	md5_final(&m, out);
}

static void to_hex(const uint8_t *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	*out++ = '0';
	*out++ = 'x';
	for (size_t i = 0; i < n; i++) {
		*out++ = digits[b[i] >> 4];
		*out++ = digits[b[i] & 15];
	}
	*out = 0;
}

static int b64_val(char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

/* RFC 7143 6.1: binary values are 0x<hex> or 0b<base64>; -1 if bad */
static int decode_binary(const char *s, uint8_t *out, size_t max)
{
	size_t n = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		size_t len = strlen(s + 2);
		const char *p = s + 2;

		if (len % 2) /* odd: implicit leading zero nibble */
			return -1;
		for (; *p; p += 2) {
			unsigned v;

			if (n >= max || sscanf(p, "%2x", &v) != 1)
				return -1;
			out[n++] = (uint8_t)v;
		}
		return (int)n;
	}
	if (s[0] == '0' && (s[1] == 'b' || s[1] == 'B')) {
		uint32_t acc = 0;
		int bits = 0;

		for (const char *p = s + 2; *p && *p != '='; p++) {
			int v = b64_val(*p);

			if (v < 0)
				return -1;
			acc = acc << 6 | (uint32_t)v;
			bits += 6;
			if (bits >= 8) {
				bits -= 8;
				if (n >= max)
					return -1;
				out[n++] = (uint8_t)(acc >> bits);
			}
		}
		return (int)n;
	}
	return -1;
}

/* ---- text key=value segments, RFC 7143 6.1 ---- */

struct kv {
	char buf[16384];
	size_t len;
};

static void __attribute__((format(printf, 3, 4)))
kv_add(struct kv *t, const char *key, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(t->buf + t->len, sizeof(t->buf) - t->len, "%s=", key);
	if (n < 0 || (size_t)n >= sizeof(t->buf) - t->len)
		abort();
	t->len += (size_t)n;
	va_start(ap, fmt);
	n = vsnprintf(t->buf + t->len, sizeof(t->buf) - t->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(t->buf) - t->len)
		abort();
	t->len += (size_t)n + 1; /* keep the NUL as separator */
}

/* value of key in a NUL-separated segment, copied to out; NULL if absent */
static const char *kv_get(const uint8_t *data, size_t len, const char *key,
			  char *out, size_t outlen)
{
	size_t klen = strlen(key), i = 0;

	while (i < len) {
		const char *s = (const char *)data + i;
		size_t n = strnlen(s, len - i);

		if (n > klen && !strncmp(s, key, klen) && s[klen] == '=') {
			size_t vlen = n - klen - 1;

			if (vlen >= outlen)
				vlen = outlen - 1;
			memcpy(out, s + klen + 1, vlen);
			out[vlen] = 0;
			return out;
		}
		i += n + 1;
	}
	return NULL;
}

/* ---- connections and PDUs, RFC 7143 11 ---- */

#define BHS_LEN 48
#define RSVD_TAG 0xffffffffu

/* opcodes, RFC 7143 11.2.1.2 */
#define OP_NOP_OUT 0x00
#define OP_SCSI_CMD 0x01
#define OP_LOGIN_REQ 0x03
#define OP_TEXT_REQ 0x04
#define OP_DATA_OUT 0x05
#define OP_LOGOUT_REQ 0x06
#define OP_NOP_IN 0x20
#define OP_SCSI_RSP 0x21
#define OP_LOGIN_RSP 0x23
#define OP_TEXT_RSP 0x24
#define OP_DATA_IN 0x25
#define OP_LOGOUT_RSP 0x26
#define OP_R2T 0x31
#define OP_ASYNC 0x32
#define OP_REJECT 0x3f
#define OP_IMMEDIATE 0x40

/* Reject reasons, RFC 7143 11.17.1 */
#define REJ_DATA_DIGEST 0x02
#define REJ_PROTOCOL 0x04
#define REJ_NOT_SUPPORTED 0x05
#define REJ_INVALID_FIELD 0x09

enum { IO_OK = 0, IO_TIMEOUT = -1, IO_CLOSED = -2, IO_BAD_DIGEST = -3 };

#define TMO 10000 /* ms: how long we wait for an answer that must come */

struct conn {
	int fd;
	bool hdig, ddig;
	uint32_t itt;
	uint32_t cmdsn, expstatsn, expcmdsn, maxcmdsn;
	uint32_t xmit_dsl; /* the target's MaxRecvDataSegmentLength */
	uint32_t first_burst, max_burst;
	bool immediate_data, initial_r2t;
	uint8_t isid[6];
	uint16_t tsih;
	uint16_t cid;
	unsigned stray; /* PDUs we did not expect (desynchronisation) */
};

struct pdu {
	uint8_t bhs[BHS_LEN];
	uint8_t ahs[1024];
	size_t ahslen;
	uint8_t *data;
	size_t dlen;
};

static void pdu_free(struct pdu *p)
{
	free(p->data);
	p->data = NULL;
	p->dlen = 0;
}

/* --bind: another source address (127.0.0.2 is loopback too) */
static int bind_local(int fd, int family)
{
	struct addrinfo hints = {.ai_family = family,
				 .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_NUMERICHOST},
			*res;
	int r;

	if (getaddrinfo(opt.bind, NULL, &hints, &res))
		return -1;
	r = bind(fd, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	return r;
}

static int tcp_connect(void)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res, *ai;
	int fd = -1, one = 1;

	if (getaddrinfo(opt.host, opt.port, &hints, &res))
		return -1;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		if (opt.bind && bind_local(fd, ai->ai_family) < 0) {
			close(fd);
			fd = -1;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd >= 0)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* close with a TCP RST instead of a FIN */
static void close_rst(int fd)
{
	struct linger l = {.l_onoff = 1, .l_linger = 0};

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	close(fd);
}

static unsigned isid_seq;

static bool conn_open(struct conn *c)
{
	memset(c, 0, sizeof(*c));
	c->fd = tcp_connect();
	if (c->fd < 0) {
		diag("connect to %s port %s: %s", opt.host, opt.port,
		     strerror(errno));
		return false;
	}
	/* RFC 7143 11.12.5: ISID type 0x80 (random) */
	c->isid[0] = 0x80;
	c->isid[1] = 0x4e;
	c->isid[2] = (uint8_t)(getpid() >> 8);
	c->isid[3] = (uint8_t)getpid();
	c->isid[4] = (uint8_t)(++isid_seq >> 8);
	c->isid[5] = (uint8_t)isid_seq;
	c->itt = 0x100;
	c->cmdsn = 0x1000 + (rnd() & 0xffff);
	c->xmit_dsl = 8192; /* RFC 7143 13.12: the default, also in login */
	c->first_burst = 65536;
	c->max_burst = 262144;
	c->initial_r2t = true;
	return true;
}

static void conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

static int wait_fd(int fd, short ev, int64_t deadline)
{
	for (;;) {
		struct pollfd p = {.fd = fd, .events = ev};
		int64_t left = deadline - now_ms();
		int r;

		if (left <= 0)
			return IO_TIMEOUT;
		r = poll(&p, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return IO_CLOSED;
		if (r == 0)
			return IO_TIMEOUT;
		return IO_OK;
	}
}

static int read_full(int fd, void *buf, size_t n, int64_t deadline)
{
	size_t got = 0;

	while (got < n) {
		ssize_t k;
		int r = wait_fd(fd, POLLIN, deadline);

		if (r)
			return r;
		k = recv(fd, (char *)buf + got, n - got, MSG_DONTWAIT);
		if (k == 0)
			return IO_CLOSED;
		if (k < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return IO_CLOSED;
		}
		got += (size_t)k;
	}
	return IO_OK;
}

static int write_full(int fd, const void *buf, size_t n)
{
	int64_t deadline = now_ms() + TMO;
	size_t done = 0;

	while (done < n) {
		ssize_t k;
		int r = wait_fd(fd, POLLOUT, deadline);

		if (r)
			return r;
		k = send(fd, (const char *)buf + done, n - done,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (k < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return IO_CLOSED;
		}
		done += (size_t)k;
	}
	return IO_OK;
}

#define SEND_BAD_HDIG 1u /* corrupt the header digest */
#define SEND_BAD_DDIG 2u /* corrupt the data digest */
#define SEND_KEEP_LEN 4u /* keep TotalAHSLength/DataSegmentLength as given */

static int send_pdu(struct conn *c, uint8_t *bhs, const uint8_t *ahs,
		    size_t ahslen, const void *data, size_t dlen,
		    unsigned flags)
{
	size_t pad = (4 - (dlen & 3)) & 3, off, total;
	uint8_t *buf;
	int r;

	total = BHS_LEN + ahslen + (c->hdig ? 4 : 0) + dlen + pad +
		(c->ddig && dlen ? 4 : 0);
	buf = malloc(total);
	if (!buf)
		abort();
	if (!(flags & SEND_KEEP_LEN)) {
		bhs[4] = (uint8_t)(ahslen / 4);
		put24(bhs + 5, (uint32_t)dlen);
	}
	memcpy(buf, bhs, BHS_LEN);
	if (ahslen)
		memcpy(buf + BHS_LEN, ahs, ahslen);
	off = BHS_LEN + ahslen;
	if (c->hdig) {
		uint32_t crc = crc32c(buf, off);

		if (flags & SEND_BAD_HDIG)
			crc ^= 0x5a5a5a5a;
		put_digest(buf + off, crc);
		off += 4;
	}
	if (dlen) {
		memcpy(buf + off, data, dlen);
		memset(buf + off + dlen, 0, pad);
		if (c->ddig) {
			uint32_t crc = crc32c(buf + off, dlen + pad);

			if (flags & SEND_BAD_DDIG)
				crc ^= 0xa5a5a5a5;
			put_digest(buf + off + dlen + pad, crc);
		}
	}
	r = write_full(c->fd, buf, total);
	free(buf);
	return r;
}

static void note_sn(struct conn *c, const struct pdu *p)
{
	uint8_t op = p->bhs[0] & 0x3f;
	uint32_t statsn = get32(p->bhs + 24);
	uint32_t expcmdsn = get32(p->bhs + 28);
	uint32_t maxcmdsn = get32(p->bhs + 32);
	bool status = false;

	switch (op) {
	case OP_DATA_IN:
		status = p->bhs[1] & 0x01;
		break;
	case OP_NOP_IN:
		status = get32(p->bhs + 16) != RSVD_TAG;
		break;
	case OP_R2T:
		break;
	default:
		status = true;
		break;
	}
	if (status && !sn_lt(statsn + 1, c->expstatsn))
		c->expstatsn = statsn + 1;
	/* RFC 7143 4.2.2.1: MaxCmdSN < ExpCmdSN - 1 carries no window */
	if (!sn_lt(maxcmdsn, expcmdsn - 1)) {
		c->expcmdsn = expcmdsn;
		c->maxcmdsn = maxcmdsn;
	}
}

/* read one PDU; digests are checked when negotiated */
static int recv_pdu(struct conn *c, struct pdu *p, int timeout)
{
	int64_t deadline = now_ms() + timeout;
	uint8_t dig[4];
	size_t padded;
	int r;

	p->data = NULL;
	p->dlen = 0;
	r = read_full(c->fd, p->bhs, BHS_LEN, deadline);
	if (r)
		return r;
	p->ahslen = (size_t)p->bhs[4] * 4;
	r = read_full(c->fd, p->ahs, p->ahslen, deadline);
	if (r)
		return r;
	if (c->hdig) {
		uint8_t hdr[BHS_LEN + sizeof(p->ahs)];

		r = read_full(c->fd, dig, 4, deadline);
		if (r)
			return r;
		memcpy(hdr, p->bhs, BHS_LEN);
		memcpy(hdr + BHS_LEN, p->ahs, p->ahslen);
		if (crc32c(hdr, BHS_LEN + p->ahslen) != get_digest(dig)) {
			diag("the target sent a bad header digest (opcode "
			     "0x%02x)",
			     p->bhs[0] & 0x3f);
			return IO_BAD_DIGEST;
		}
	}
	p->dlen = get24(p->bhs + 5);
	padded = (p->dlen + 3) & ~(size_t)3;
	p->data = malloc(padded + 1);
	if (!p->data)
		abort();
	p->data[padded] = 0;
	r = read_full(c->fd, p->data, padded, deadline);
	if (r == IO_OK && c->ddig && p->dlen) {
		r = read_full(c->fd, dig, 4, deadline);
		if (r == IO_OK && crc32c(p->data, padded) != get_digest(dig)) {
			diag("the target sent a bad data digest (opcode "
			     "0x%02x)",
			     p->bhs[0] & 0x3f);
			r = IO_BAD_DIGEST;
		}
	}
	if (r) {
		pdu_free(p);
		return r;
	}
	note_sn(c, p);
	return IO_OK;
}

/* answer a target's NOP-In that asks for one (RFC 7143 11.19) */
static void nop_reply(struct conn *c, const struct pdu *in)
{
	uint8_t bhs[BHS_LEN] = {0};

	bhs[0] = OP_IMMEDIATE | OP_NOP_OUT;
	bhs[1] = 0x80;
	memcpy(bhs + 8, in->bhs + 8, 8);
	put32(bhs + 16, RSVD_TAG);
	memcpy(bhs + 20, in->bhs + 20, 4);
	put32(bhs + 24, c->cmdsn);
	put32(bhs + 28, c->expstatsn);
	send_pdu(c, bhs, NULL, 0, NULL, 0, 0);
}

/* next PDU other than a target's own NOP-In or an async message */
static int wait_pdu(struct conn *c, struct pdu *p, int timeout)
{
	int64_t deadline = now_ms() + timeout;

	for (;;) {
		int64_t left = deadline - now_ms();
		uint8_t op;
		int r;

		r = recv_pdu(c, p, left > 0 ? (int)left : 0);
		if (r)
			return r;
		op = p->bhs[0] & 0x3f;
		if (op == OP_NOP_IN && get32(p->bhs + 16) == RSVD_TAG) {
			if (get32(p->bhs + 20) != RSVD_TAG)
				nop_reply(c, p);
			pdu_free(p);
			continue;
		}
		if (op == OP_ASYNC) {
			diag("async message, event %u", p->bhs[36]);
			pdu_free(p);
			continue;
		}
		return IO_OK;
	}
}

static const char *io_name(int r)
{
	switch (r) {
	case IO_OK:
		return "ok";
	case IO_TIMEOUT:
		return "timeout";
	case IO_CLOSED:
		return "connection closed";
	case IO_BAD_DIGEST:
		return "bad digest from the target";
	default:
		return "?";
	}
}

/*
 * Read until the target closes the connection. Returns true if it did
 * before the timeout; PDUs read meanwhile are counted in *npdu and the
 * opcode of the last one is left in *last_op.
 */
static bool wait_closed(struct conn *c, int timeout, int *npdu,
			uint8_t *last_op, uint32_t *last_itt)
{
	int64_t deadline = now_ms() + timeout;
	int n = 0;

	for (;;) {
		struct pdu p;
		int64_t left = deadline - now_ms();
		int r = recv_pdu(c, &p, left > 0 ? (int)left : 0);

		if (r == IO_CLOSED || r == IO_BAD_DIGEST) {
			if (npdu)
				*npdu = n;
			return r == IO_CLOSED;
		}
		if (r == IO_TIMEOUT) {
			if (npdu)
				*npdu = n;
			return false;
		}
		n++;
		if (last_op)
			*last_op = p.bhs[0] & 0x3f;
		if (last_itt)
			*last_itt = get32(p.bhs + 16);
		pdu_free(&p);
	}
}

/* ---- login, RFC 7143 6 and 11.12 ---- */

struct login_opts {
	const char *initiator; /* NULL: no InitiatorName */
	const char *target;    /* NULL: SessionType=Discovery */
	const char *user;      /* CHAP: NULL = AuthMethod=None */
	const char *secret;
	const char *tuser; /* mutual CHAP: the target's expected name */
	const char *tsecret;
	const char *chap_a;	/* default "5" */
	bool reflect;		/* mutual: send the target's challenge back */
	bool auth_none_to_chap; /* offer AuthMethod=None to a CHAP target */
	bool hdig, ddig;
	bool no_immediate;
};

struct login_res {
	int status; /* class << 8 | detail; -1 on transport error */
	int io;	    /* IO_* of the failure, when status == -1 */
	bool ffp;
	bool chap_a_rejected;
	bool got_challenge;
	bool mutual_ok;
	char why[256];
};

/* one login request/response exchange */
static int login_pdu(struct conn *c, uint8_t flags, uint8_t vmax, uint8_t vmin,
		     const struct kv *t, struct pdu *rsp)
{
	uint8_t bhs[BHS_LEN] = {0};
	int r;

	bhs[0] = OP_IMMEDIATE | OP_LOGIN_REQ;
	bhs[1] = flags;
	bhs[2] = vmax;
	bhs[3] = vmin;
	memcpy(bhs + 8, c->isid, 6);
	put16(bhs + 14, c->tsih);
	put32(bhs + 16, c->itt);
	put16(bhs + 20, c->cid);
	put32(bhs + 24, c->cmdsn);
	put32(bhs + 28, c->expstatsn);
	r = send_pdu(c, bhs, NULL, 0, t ? t->buf : NULL, t ? t->len : 0, 0);
	if (r)
		return r;
	r = wait_pdu(c, rsp, TMO);
	if (r)
		return r;
	if ((rsp->bhs[0] & 0x3f) != OP_LOGIN_RSP) {
		diag("login answered by opcode 0x%02x", rsp->bhs[0] & 0x3f);
		pdu_free(rsp);
		return IO_CLOSED;
	}
	return IO_OK;
}

#define LOGIN_T 0x80
#define LOGIN_C 0x40
#define STAGE(csg, nsg) ((uint8_t)((csg) << 2 | (nsg)))

static int login_status(const struct pdu *p)
{
	return p->bhs[36] << 8 | p->bhs[37];
}

static void __attribute__((format(printf, 2, 3)))
why(struct login_res *res, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(res->why, sizeof(res->why), fmt, ap);
	va_end(ap);
}

static void negotiated(struct conn *c, const struct pdu *p, bool *hd, bool *dd)
{
	char v[256];

	if (kv_get(p->data, p->dlen, "HeaderDigest", v, sizeof(v)))
		*hd = !strcasecmp(v, "CRC32C");
	if (kv_get(p->data, p->dlen, "DataDigest", v, sizeof(v)))
		*dd = !strcasecmp(v, "CRC32C");
	if (kv_get(p->data, p->dlen, "MaxRecvDataSegmentLength", v, sizeof(v)))
		c->xmit_dsl = (uint32_t)strtoul(v, NULL, 10);
	if (kv_get(p->data, p->dlen, "ImmediateData", v, sizeof(v)))
		c->immediate_data = !strcmp(v, "Yes") && c->immediate_data;
	if (kv_get(p->data, p->dlen, "InitialR2T", v, sizeof(v)))
		c->initial_r2t = !strcmp(v, "Yes") || c->initial_r2t;
	if (kv_get(p->data, p->dlen, "FirstBurstLength", v, sizeof(v)))
		c->first_burst = (uint32_t)strtoul(v, NULL, 10);
	if (kv_get(p->data, p->dlen, "MaxBurstLength", v, sizeof(v)))
		c->max_burst = (uint32_t)strtoul(v, NULL, 10);
}

static bool chap_exchange(struct conn *c, const struct login_opts *o,
			  struct login_res *res, struct pdu *rsp)
{
	uint8_t chal[1024], mychal[16], digest[16], expect[16], id, myid = 0;
	char v[2100], hex[2 * sizeof(chal) + 3];
	struct kv t = {.len = 0};
	int n, r;

	/* 1: offer CHAP */
	if (o->initiator)
		kv_add(&t, "InitiatorName", "%s", o->initiator);
	kv_add(&t, "TargetName", "%s", o->target);
	kv_add(&t, "SessionType", "Normal");
	kv_add(&t, "AuthMethod", "CHAP");
	r = login_pdu(c, STAGE(0, 0), 0, 0, &t, rsp);
	if (r) {
		res->io = r;
		why(res, "AuthMethod=CHAP: %s", io_name(r));
		return false;
	}
	res->status = login_status(rsp);
	if (res->status) {
		why(res, "AuthMethod=CHAP answered with status 0x%04x",
		    res->status);
		return false;
	}
	if (!kv_get(rsp->data, rsp->dlen, "AuthMethod", v, sizeof(v)) ||
	    strcmp(v, "CHAP")) {
		why(res, "AuthMethod=CHAP answered with AuthMethod=%s",
		    kv_get(rsp->data, rsp->dlen, "AuthMethod", v, sizeof(v))
			    ? v
			    : "(none)");
		pdu_free(rsp);
		res->status = -1;
		return false;
	}
	pdu_free(rsp);

	/* 2: CHAP_A, the target answers with CHAP_A, CHAP_I, CHAP_C */
	t.len = 0;
	kv_add(&t, "CHAP_A", "%s", o->chap_a ? o->chap_a : "5");
	r = login_pdu(c, STAGE(0, 0), 0, 0, &t, rsp);
	if (r) {
		res->io = r;
		res->status = -1;
		why(res, "CHAP_A: %s", io_name(r));
		return false;
	}
	res->status = login_status(rsp);
	if (kv_get(rsp->data, rsp->dlen, "CHAP_A", v, sizeof(v)) &&
	    strcmp(v, "5"))
		res->chap_a_rejected = true;
	res->got_challenge =
		kv_get(rsp->data, rsp->dlen, "CHAP_C", v, sizeof(v)) != NULL;
	if (res->status || res->chap_a_rejected) {
		why(res, "CHAP_A answered with status 0x%04x, CHAP_A=%s",
		    res->status,
		    kv_get(rsp->data, rsp->dlen, "CHAP_A", v, sizeof(v))
			    ? v
			    : "(none)");
		pdu_free(rsp);
		return false;
	}
	if (!kv_get(rsp->data, rsp->dlen, "CHAP_I", v, sizeof(v))) {
		why(res, "no CHAP_I from the target");
		pdu_free(rsp);
		res->status = -1;
		return false;
	}
	id = (uint8_t)strtoul(v, NULL, 0);
	if (!kv_get(rsp->data, rsp->dlen, "CHAP_C", v, sizeof(v)) ||
	    (n = decode_binary(v, chal, sizeof(chal))) <= 0) {
		why(res, "no or bad CHAP_C from the target");
		pdu_free(rsp);
		res->status = -1;
		return false;
	}
	pdu_free(rsp);

	/* 3: our response (and challenge, for mutual CHAP) */
	chap_md5(id, o->secret, chal, (size_t)n, digest);
	t.len = 0;
	kv_add(&t, "CHAP_N", "%s", o->user);
	to_hex(digest, 16, hex);
	kv_add(&t, "CHAP_R", "%s", hex);
	if (o->tsecret) {
		myid = (uint8_t)rnd();
		if (o->reflect) {
			to_hex(chal, (size_t)n, hex);
			myid = id;
		} else {
			for (size_t i = 0; i < sizeof(mychal); i++)
				mychal[i] = (uint8_t)rnd();
			to_hex(mychal, sizeof(mychal), hex);
		}
		kv_add(&t, "CHAP_I", "%u", myid);
		kv_add(&t, "CHAP_C", "%s", hex);
	}
	r = login_pdu(c, LOGIN_T | STAGE(0, 1), 0, 0, &t, rsp);
	if (r) {
		res->io = r;
		res->status = -1;
		why(res, "CHAP_R: %s", io_name(r));
		return false;
	}
	res->status = login_status(rsp);
	if (res->status) {
		why(res, "CHAP_R answered with status 0x%04x", res->status);
		return false;
	}
	if (o->tsecret && !o->reflect) {
		char name[256];

		if (!kv_get(rsp->data, rsp->dlen, "CHAP_N", name,
			    sizeof(name)) ||
		    !kv_get(rsp->data, rsp->dlen, "CHAP_R", v, sizeof(v))) {
			why(res,
			    "mutual CHAP: no CHAP_N/CHAP_R from the target");
		} else if (strcmp(name, o->tuser)) {
			why(res, "mutual CHAP: target's CHAP_N=%s, expected %s",
			    name, o->tuser);
		} else if (decode_binary(v, digest, sizeof(digest)) != 16) {
			why(res, "mutual CHAP: bad CHAP_R=%s", v);
		} else {
			chap_md5(myid, o->tsecret, mychal, sizeof(mychal),
				 expect);
			res->mutual_ok = !memcmp(digest, expect, 16);
			if (!res->mutual_ok)
				why(res, "mutual CHAP: the target's CHAP_R "
					 "does not verify");
		}
	}
	return true;
}

/*
 * A complete login to full feature phase. rsp holds the last login
 * response when the status is not 0 (the caller frees it).
 */
static struct login_res login(struct conn *c, const struct login_opts *o)
{
	struct login_res res = {.status = -1};
	struct kv t = {.len = 0};
	struct pdu rsp = {.data = NULL};
	bool hd = false, dd = false;
	int r, i;

	if (o->user && !o->auth_none_to_chap) {
		if (!chap_exchange(c, o, &res, &rsp))
			goto out_free;
	} else {
		if (o->initiator)
			kv_add(&t, "InitiatorName", "%s", o->initiator);
		if (o->target) {
			kv_add(&t, "TargetName", "%s", o->target);
			kv_add(&t, "SessionType", "Normal");
		} else {
			kv_add(&t, "SessionType", "Discovery");
		}
		kv_add(&t, "AuthMethod", "None");
		r = login_pdu(c, LOGIN_T | STAGE(0, 1), 0, 0, &t, &rsp);
		if (r) {
			res.io = r;
			why(&res, "security stage: %s", io_name(r));
			return res;
		}
		res.status = login_status(&rsp);
		if (res.status) {
			why(&res, "security stage: status 0x%04x", res.status);
			goto out_free;
		}
	}
	/* the target may want another round before it transits */
	for (i = 0; !(rsp.bhs[1] & LOGIN_T) && i < 4; i++) {
		pdu_free(&rsp);
		r = login_pdu(c, LOGIN_T | STAGE(0, 1), 0, 0, NULL, &rsp);
		if (r) {
			res.status = -1;
			res.io = r;
			why(&res, "security stage: %s", io_name(r));
			return res;
		}
		res.status = login_status(&rsp);
		if (res.status)
			goto out_free;
	}
	if (!(rsp.bhs[1] & LOGIN_T) || (rsp.bhs[1] & 3) != 1) {
		why(&res, "the target did not move to the operational stage");
		res.status = -1;
		goto out_free;
	}
	c->tsih = get16(rsp.bhs + 14);
	pdu_free(&rsp);

	t.len = 0;
	kv_add(&t, "HeaderDigest", "%s", o->hdig ? "CRC32C,None" : "None");
	kv_add(&t, "DataDigest", "%s", o->ddig ? "CRC32C,None" : "None");
	kv_add(&t, "MaxRecvDataSegmentLength", "%u", 262144);
	kv_add(&t, "ImmediateData", "%s", o->no_immediate ? "No" : "Yes");
	kv_add(&t, "InitialR2T", "Yes");
	if (o->target) {
		kv_add(&t, "MaxBurstLength", "%u", 262144);
		kv_add(&t, "FirstBurstLength", "%u", 65536);
		kv_add(&t, "MaxOutstandingR2T", "1");
		kv_add(&t, "DataPDUInOrder", "Yes");
		kv_add(&t, "DataSequenceInOrder", "Yes");
	}
	kv_add(&t, "ErrorRecoveryLevel", "0");
	kv_add(&t, "MaxConnections", "1");
	kv_add(&t, "DefaultTime2Wait", "0");
	kv_add(&t, "DefaultTime2Retain", "0");
	c->immediate_data = !o->no_immediate;
	for (i = 0; i < 5; i++) {
		r = login_pdu(c, LOGIN_T | STAGE(1, 3), 0, 0, i ? NULL : &t,
			      &rsp);
		if (r) {
			res.status = -1;
			res.io = r;
			why(&res, "operational stage: %s", io_name(r));
			return res;
		}
		res.status = login_status(&rsp);
		if (res.status) {
			why(&res, "operational stage: status 0x%04x",
			    res.status);
			goto out_free;
		}
		negotiated(c, &rsp, &hd, &dd);
		if ((rsp.bhs[1] & LOGIN_T) && (rsp.bhs[1] & 3) == 3)
			break;
		pdu_free(&rsp);
	}
	if (i == 5) {
		why(&res, "the target never moved to full feature phase");
		res.status = -1;
		return res;
	}
	c->tsih = get16(rsp.bhs + 14);
	c->cmdsn = get32(rsp.bhs + 28);
	pdu_free(&rsp);
	c->hdig = hd;
	c->ddig = dd;
	res.ffp = true;
	return res;
out_free:
	pdu_free(&rsp);
	return res;
}

static bool login_plain(struct conn *c, const char *target)
{
	struct login_opts o = {.initiator = opt.iname, .target = target};
	struct login_res r;

	if (!conn_open(c))
		return false;
	r = login(c, &o);
	if (!r.ffp) {
		diag("login to %s failed: %s", target, r.why);
		conn_close(c);
	}
	return r.ffp;
}

/* ---- SCSI commands, RFC 7143 11.3-11.8 ---- */

enum { DIR_NONE, DIR_READ, DIR_WRITE };

struct scsi_res {
	int status; /* SCSI status; -1 transport error; -2 rejected */
	int io;
	uint8_t response;
	uint8_t key, asc, ascq;
	bool rejected;
	uint8_t reject_reason;
	bool r2t;
	size_t got;
};

#define CMD_BAD_DDIG 1u /* corrupt the data digest of the first data */
#define CMD_OVERSIZE 2u /* immediate data beyond MaxRecvDataSegmentLength */

static void parse_sense(const uint8_t *s, size_t n, struct scsi_res *r)
{
	uint8_t code;

	if (n < 1)
		return;
	code = s[0] & 0x7f;
	if ((code == 0x70 || code == 0x71) && n >= 14) {
		r->key = s[2] & 0x0f;
		r->asc = s[12];
		r->ascq = s[13];
	} else if ((code == 0x72 || code == 0x73) && n >= 4) {
		r->key = s[1] & 0x0f;
		r->asc = s[2];
		r->ascq = s[3];
	}
}

static void build_cmd(struct conn *c, uint8_t *bhs, uint32_t itt, int lun,
		      const uint8_t *cdb, size_t cdblen, int dir, uint32_t len)
{
	memset(bhs, 0, BHS_LEN);
	bhs[0] = OP_SCSI_CMD;
	bhs[1] = 0x80 | (dir == DIR_READ ? 0x40 : 0) |
		 (dir == DIR_WRITE ? 0x20 : 0) | 1 /* SIMPLE */;
	bhs[9] = (uint8_t)lun; /* SAM-5 4.7.7: peripheral addressing */
	put32(bhs + 16, itt);
	put32(bhs + 20, len);
	put32(bhs + 24, c->cmdsn++);
	put32(bhs + 28, c->expstatsn);
	memcpy(bhs + 32, cdb, cdblen);
}

static int send_data_out(struct conn *c, int lun, uint32_t itt, uint32_t ttt,
			 const uint8_t *buf, uint32_t off, uint32_t len,
			 bool *corrupt)
{
	uint32_t sent = 0, datasn = 0;

	while (sent < len) {
		uint8_t bhs[BHS_LEN] = {0};
		uint32_t n = len - sent;
		int r;

		if (n > c->xmit_dsl)
			n = c->xmit_dsl;
		bhs[0] = OP_DATA_OUT;
		bhs[1] = sent + n == len ? 0x80 : 0;
		bhs[9] = (uint8_t)lun;
		put32(bhs + 16, itt);
		put32(bhs + 20, ttt);
		put32(bhs + 28, c->expstatsn);
		put32(bhs + 36, datasn++);
		put32(bhs + 40, off + sent);
		r = send_pdu(c, bhs, NULL, 0, buf + off + sent, n,
			     *corrupt ? SEND_BAD_DDIG : 0);
		*corrupt = false;
		if (r)
			return r;
		sent += n;
	}
	return IO_OK;
}

static struct scsi_res scsi_exec(struct conn *c, int lun, const uint8_t *cdb,
				 size_t cdblen, int dir, uint8_t *buf,
				 uint32_t len, unsigned flags)
{
	struct scsi_res res = {.status = -1};
	uint8_t bhs[BHS_LEN];
	uint32_t itt = c->itt++, imm = 0;
	bool corrupt = flags & CMD_BAD_DDIG;
	int r;

	build_cmd(c, bhs, itt, lun, cdb, cdblen, dir, len);
	if (dir == DIR_WRITE && c->immediate_data) {
		imm = len;
		if (imm > c->first_burst)
			imm = c->first_burst;
		if (imm > c->xmit_dsl && !(flags & CMD_OVERSIZE))
			imm = c->xmit_dsl;
	}
	r = send_pdu(c, bhs, NULL, 0, buf, imm,
		     corrupt && imm ? SEND_BAD_DDIG : 0);
	if (imm)
		corrupt = false;
	if (r) {
		res.io = r;
		return res;
	}
	for (;;) {
		struct pdu p;
		uint8_t op;

		r = wait_pdu(c, &p, res.rejected ? 3000 : TMO);
		if (r) {
			res.io = r;
			if (res.rejected)
				res.status = -2;
			return res;
		}
		op = p.bhs[0] & 0x3f;
		if (op == OP_REJECT) {
			if (p.dlen >= BHS_LEN && get32(p.data + 16) == itt) {
				res.rejected = true;
				res.reject_reason = p.bhs[2];
			} else {
				diag("reject (reason 0x%02x) of another PDU",
				     p.bhs[2]);
				c->stray++;
			}
		} else if (get32(p.bhs + 16) != itt) {
			diag("PDU opcode 0x%02x for ITT 0x%x while waiting "
			     "for 0x%x",
			     op, get32(p.bhs + 16), itt);
			c->stray++;
		} else if (op == OP_DATA_IN) {
			uint32_t off = get32(p.bhs + 40);

			if (dir == DIR_READ && off <= len &&
			    p.dlen <= len - off) {
				memcpy(buf + off, p.data, p.dlen);
				res.got += p.dlen;
			} else {
				diag("Data-In outside the buffer (%u+%zu)", off,
				     p.dlen);
				c->stray++;
			}
			if (p.bhs[1] & 0x01) {
				res.status = p.bhs[3];
				pdu_free(&p);
				return res;
			}
		} else if (op == OP_R2T) {
			uint32_t off = get32(p.bhs + 40);
			uint32_t want = get32(p.bhs + 44);

			res.r2t = true;
			if (dir != DIR_WRITE || off > len || want > len - off) {
				diag("R2T outside the buffer (%u+%u)", off,
				     want);
				c->stray++;
			} else {
				r = send_data_out(c, lun, itt,
						  get32(p.bhs + 20), buf, off,
						  want, &corrupt);
				if (r) {
					res.io = r;
					pdu_free(&p);
					return res;
				}
			}
		} else if (op == OP_SCSI_RSP) {
			res.response = p.bhs[2];
			res.status = p.bhs[3];
			if (p.dlen >= 2) {
				size_t sl = get16(p.data);

				if (sl > p.dlen - 2)
					sl = p.dlen - 2;
				parse_sense(p.data + 2, sl, &res);
			}
			pdu_free(&p);
			return res;
		} else {
			diag("unexpected opcode 0x%02x", op);
			c->stray++;
		}
		pdu_free(&p);
	}
}

static const uint8_t cdb_tur[6] = {0x00};

static struct scsi_res inquiry(struct conn *c, bool evpd, uint8_t page,
			       uint8_t *buf, uint16_t alloc)
{
	uint8_t cdb[6] = {0x12, evpd ? 1 : 0, page, 0, 0, 0};

	put16(cdb + 3, alloc);
	return scsi_exec(c, opt.lun, cdb, 6, DIR_READ, buf, alloc, 0);
}

static struct scsi_res rw10(struct conn *c, bool write, uint32_t lba,
			    uint16_t nblocks, uint32_t bs, uint8_t *buf,
			    unsigned flags)
{
	uint8_t cdb[10] = {write ? 0x2a : 0x28};

	put32(cdb + 2, lba);
	put16(cdb + 7, nblocks);
	return scsi_exec(c, opt.lun, cdb, 10, write ? DIR_WRITE : DIR_READ, buf,
			 nblocks * bs, flags);
}

/* consume the unit attentions a new I_T nexus gets */
static bool clear_ua(struct conn *c)
{
	for (int i = 0; i < 10; i++) {
		struct scsi_res r =
			scsi_exec(c, opt.lun, cdb_tur, 6, DIR_NONE, NULL, 0, 0);

		if (r.status == 0)
			return true;
		if (r.status != 2 || r.key != 6) {
			diag("TEST UNIT READY: status %d sense %x/%02x/%02x",
			     r.status, r.key, r.asc, r.ascq);
			return false;
		}
	}
	return false;
}

static bool read_capacity(struct conn *c, uint32_t *last, uint32_t *bs)
{
	uint8_t cdb[10] = {0x25}, buf[8];
	struct scsi_res r = scsi_exec(c, opt.lun, cdb, 10, DIR_READ, buf, 8, 0);

	if (r.status != 0 || r.got != 8)
		return false;
	*last = get32(buf);
	*bs = get32(buf + 4);
	return *bs >= 512 && *bs <= 65536;
}

/* NOP-Out ping; true if the echo came back intact */
static bool nop_ping(struct conn *c, size_t len)
{
	uint8_t bhs[BHS_LEN] = {0}, *data = malloc(len + 1);
	uint32_t itt = c->itt++;
	struct pdu p;
	bool ok = false;
	int r;

	if (!data)
		abort();
	for (size_t i = 0; i < len; i++)
		data[i] = (uint8_t)(i * 7 + 3);
	bhs[0] = OP_IMMEDIATE | OP_NOP_OUT;
	bhs[1] = 0x80;
	put32(bhs + 16, itt);
	put32(bhs + 20, RSVD_TAG);
	put32(bhs + 24, c->cmdsn);
	put32(bhs + 28, c->expstatsn);
	r = send_pdu(c, bhs, NULL, 0, data, len, 0);
	while (r == IO_OK) {
		r = wait_pdu(c, &p, TMO);
		if (r)
			break;
		if ((p.bhs[0] & 0x3f) == OP_NOP_IN &&
		    get32(p.bhs + 16) == itt) {
			ok = get32(p.bhs + 20) == RSVD_TAG && p.dlen == len &&
			     !memcmp(p.data, data, len);
			if (!ok)
				diag("NOP-In: TTT 0x%x, %zu bytes of data (%zu "
				     "sent)",
				     get32(p.bhs + 20), p.dlen, len);
			pdu_free(&p);
			break;
		}
		diag("PDU opcode 0x%02x ITT 0x%x while waiting for the "
		     "NOP-In",
		     p.bhs[0] & 0x3f, get32(p.bhs + 16));
		c->stray++;
		pdu_free(&p);
	}
	if (r)
		diag("NOP-Out ping: %s", io_name(r));
	free(data);
	return ok;
}

/* after a protocol error: either the target closed the connection or
 * the connection still works and is in step (no stray PDUs) */
static bool closed_or_in_step(struct conn *c, const char **what)
{
	unsigned stray = c->stray;

	if (nop_ping(c, 16) && c->stray == stray) {
		*what = "connection still in step";
		return true;
	}
	if (wait_closed(c, 5000, NULL, NULL, NULL)) {
		*what = "connection closed";
		return true;
	}
	*what = "connection neither closed nor answering";
	return false;
}

/* a fresh session answers INQUIRY */
static bool target_serves(const char *target)
{
	struct conn c;
	uint8_t buf[96];
	struct scsi_res r;

	if (!login_plain(&c, target))
		return false;
	r = inquiry(&c, false, 0, buf, sizeof(buf));
	conn_close(&c);
	if (r.status != 0 || r.got < 36) {
		diag("INQUIRY: status %d, %zu bytes", r.status, r.got);
		return false;
	}
	return true;
}

/* ---- the cases ---- */

static void t_selftests(void)
{
	static const uint8_t zeros[32];
	uint8_t d[16];
	char hex[40];
	struct md5 m;

	/* RFC 3720 B.4: 32 bytes of zeros -> aa 36 91 8a */
	tap(crc32c("123456789", 9) == 0xe3069283u &&
		    crc32c(zeros, 32) == 0x8a9136aau,
	    "CRC32C self-test (check value and RFC 3720 B.4 vector)");
	md5_init(&m);
	md5_update(&m, "abc", 3);
	md5_final(&m, d);
	to_hex(d, 16, hex);
	tap(!strcmp(hex, "0x900150983cd24fb0d6963f7d28e17f72"),
	    "MD5 self-test (RFC 1321 A.5 \"abc\")");
}

static uint32_t disk_last, disk_bs;

static void t_plain_basics(void)
{
	struct conn c;
	uint8_t buf[4096];
	struct scsi_res r;
	bool ok;

	ok = login_plain(&c, opt.plain);
	tap(ok, "login without CHAP reaches full feature phase (TSIH %u)",
	    ok ? c.tsih : 0);
	if (!ok)
		return;
	r = inquiry(&c, false, 0, buf, 96);
	tap(r.status == 0 && r.got >= 36 && (buf[0] & 0x1f) == 0,
	    "INQUIRY answers standard data of a disk (status %d, %zu bytes)",
	    r.status, r.got);
	tap(clear_ua(&c), "TEST UNIT READY is GOOD once unit attentions are "
			  "reported");
	ok = read_capacity(&c, &disk_last, &disk_bs);
	tap(ok && disk_last >= 2047, "READ CAPACITY(10): %u blocks of %u",
	    disk_last + 1, disk_bs);
	tap(nop_ping(&c, 101), "NOP-Out ping with 101 bytes is echoed "
			       "(ITT, TTT, data, padding)");
	tap(nop_ping(&c, 0), "NOP-Out ping without data is answered");

	r = rw10(&c, false, disk_last + 1, 1, disk_bs, buf, 0);
	tap(r.status == 2 && r.key == 5 && r.asc == 0x21 && r.ascq == 0,
	    "READ(10) past the end: CHECK CONDITION 5/21/00 (got %d "
	    "%x/%02x/%02x)",
	    r.status, r.key, r.asc, r.ascq);
	{
		uint8_t two[2 * 4096];

		r = rw10(&c, false, disk_last, 2, disk_bs, two, 0);
	}
	tap(r.status == 2 && r.key == 5 && r.asc == 0x21 && r.ascq == 0,
	    "READ(10) across the end: CHECK CONDITION 5/21/00 (got %d "
	    "%x/%02x/%02x)",
	    r.status, r.key, r.asc, r.ascq);
	{
		uint8_t cdb[16] = {0x88}; /* READ(16), LBA 2^63 */

		cdb[2] = 0x80;
		put32(cdb + 10, 1);
		r = scsi_exec(&c, opt.lun, cdb, 16, DIR_READ, buf, disk_bs, 0);
	}
	tap(r.status == 2 && r.key == 5 && r.asc == 0x21 && r.ascq == 0,
	    "READ(16) at LBA 2^63: CHECK CONDITION 5/21/00 (got %d "
	    "%x/%02x/%02x)",
	    r.status, r.key, r.asc, r.ascq);
	{
		uint8_t cdb[10] = {0xc5};

		r = scsi_exec(&c, opt.lun, cdb, 10, DIR_NONE, NULL, 0, 0);
	}
	tap(r.status == 2 && r.key == 5 && r.asc == 0x20 && r.ascq == 0,
	    "unknown opcode 0xc5: CHECK CONDITION 5/20/00 (got %d "
	    "%x/%02x/%02x)",
	    r.status, r.key, r.asc, r.ascq);
	{
		uint8_t cdb[6] = {0x02};

		r = scsi_exec(&c, opt.lun, cdb, 6, DIR_NONE, NULL, 0, 0);
	}
	tap(r.status == 2 && r.key == 5 && r.asc == 0x20 && r.ascq == 0,
	    "unused opcode 0x02: CHECK CONDITION 5/20/00 (got %d "
	    "%x/%02x/%02x)",
	    r.status, r.key, r.asc, r.ascq);
	r = inquiry(&c, true, 0xab, buf, 255);
	tap(r.status == 2 && r.key == 5 && r.asc == 0x24 && r.ascq == 0,
	    "INQUIRY EVPD page 0xab: CHECK CONDITION 5/24/00 (got %d "
	    "%x/%02x/%02x)",
	    r.status, r.key, r.asc, r.ascq);
	r = inquiry(&c, false, 0x80, buf, 255);
	tap(r.status == 2 && r.key == 5 && r.asc == 0x24 && r.ascq == 0,
	    "INQUIRY page code without EVPD: CHECK CONDITION 5/24/00 (got %d "
	    "%x/%02x/%02x)",
	    r.status, r.key, r.asc, r.ascq);

	/* a write larger than FirstBurstLength: immediate data + R2T */
	{
		uint32_t n = 256 * 1024 / disk_bs;
		uint8_t *w = malloc(n * disk_bs), *rd = malloc(n * disk_bs);

		if (!w || !rd)
			abort();
		for (uint32_t i = 0; i < n * disk_bs; i++)
			w[i] = (uint8_t)rnd();
		r = rw10(&c, true, 16, (uint16_t)n, disk_bs, w, 0);
		ok = r.status == 0;
		memset(rd, 0, n * disk_bs);
		r = rw10(&c, false, 16, (uint16_t)n, disk_bs, rd, 0);
		tap(ok && r.status == 0 && r.got == n * disk_bs &&
			    !memcmp(w, rd, n * disk_bs),
		    "WRITE(10)+READ(10) of 256 KiB (immediate data, R2T, "
		    "Data-In) reads back what was written");
		free(w);
		free(rd);
	}
	conn_close(&c);
}

static void t_bad_opcodes(void)
{
	static const uint8_t ops[] = {0x1c, 0x0b};

	for (size_t i = 0; i < sizeof(ops); i++) {
		uint8_t bhs[BHS_LEN] = {0};
		struct conn c;
		struct pdu p;
		const char *what = "";
		bool rej = false, after;
		int r;

		if (!login_plain(&c, opt.plain)) {
			tap(false, "iSCSI opcode 0x%02x: no login", ops[i]);
			continue;
		}
		bhs[0] = OP_IMMEDIATE | ops[i];
		bhs[1] = 0x80;
		put32(bhs + 16, c.itt++);
		put32(bhs + 20, RSVD_TAG);
		put32(bhs + 24, c.cmdsn);
		put32(bhs + 28, c.expstatsn);
		r = send_pdu(&c, bhs, NULL, 0, NULL, 0, 0);
		if (r == IO_OK)
			r = wait_pdu(&c, &p, TMO);
		if (r == IO_OK) {
			rej = (p.bhs[0] & 0x3f) == OP_REJECT &&
			      (p.bhs[2] == REJ_PROTOCOL ||
			       p.bhs[2] == REJ_NOT_SUPPORTED) &&
			      p.dlen >= BHS_LEN && !memcmp(p.data, bhs, 4);
			if (!rej)
				diag("answered by opcode 0x%02x reason 0x%02x",
				     p.bhs[0] & 0x3f, p.bhs[2]);
			pdu_free(&p);
		} else {
			diag("no answer: %s", io_name(r));
		}
		after = closed_or_in_step(&c, &what);
		tap(rej && after,
		    "unknown iSCSI opcode 0x%02x: Reject with reason 0x04 or "
		    "0x05 carrying the header; %s",
		    ops[i], what);
		conn_close(&c);
	}
}

static void t_oversized(void)
{
	uint8_t bhs[BHS_LEN] = {0}, *data;
	struct conn c;
	struct pdu p;
	const char *what = "";
	bool answered_ok = false, after;
	size_t len;
	int r;

	if (!login_plain(&c, opt.plain)) {
		tap(false, "oversized NOP-Out: no login");
		return;
	}
	len = (size_t)c.xmit_dsl + 4096;
	data = calloc(1, len);
	if (!data)
		abort();
	bhs[0] = OP_IMMEDIATE | OP_NOP_OUT;
	bhs[1] = 0x80;
	put32(bhs + 16, c.itt++);
	put32(bhs + 20, RSVD_TAG);
	put32(bhs + 24, c.cmdsn);
	put32(bhs + 28, c.expstatsn);
	r = send_pdu(&c, bhs, NULL, 0, data, len, 0);
	free(data);
	if (r == IO_OK && (r = wait_pdu(&c, &p, TMO)) == IO_OK) {
		answered_ok = (p.bhs[0] & 0x3f) == OP_NOP_IN;
		diag("answered by opcode 0x%02x (reason 0x%02x)",
		     p.bhs[0] & 0x3f, p.bhs[2]);
		pdu_free(&p);
	}
	after = answered_ok ? false : closed_or_in_step(&c, &what);
	tap(!answered_ok && after,
	    "NOP-Out with %zu data bytes > MaxRecvDataSegmentLength %u: "
	    "not echoed; Reject or close (%s)",
	    len, c.xmit_dsl, answered_ok ? "echoed" : what);
	conn_close(&c);

	/* a WRITE whose immediate data exceeds MaxRecvDataSegmentLength */
	if (!login_plain(&c, opt.plain)) {
		tap(false, "oversized immediate data: no login");
		return;
	}
	clear_ua(&c);
	if (!c.immediate_data || c.first_burst <= c.xmit_dsl) {
		tap(true,
		    "# SKIP oversized immediate data: ImmediateData=%s, "
		    "FirstBurstLength %u <= MaxRecvDataSegmentLength %u",
		    c.immediate_data ? "Yes" : "No", c.first_burst, c.xmit_dsl);
		conn_close(&c);
		return;
	}
	{
		uint32_t n = (c.xmit_dsl + 4096) / disk_bs + 1;
		uint8_t *w = calloc(n, disk_bs);
		struct scsi_res sr;

		if (!w)
			abort();
		sr = rw10(&c, true, 64, (uint16_t)n, disk_bs, w, CMD_OVERSIZE);
		free(w);
		after = sr.status == 0 ? false : closed_or_in_step(&c, &what);
		tap(sr.status != 0 && after,
		    "WRITE with %u bytes of immediate data > "
		    "MaxRecvDataSegmentLength %u: not GOOD (status %d, "
		    "rejected %d reason 0x%02x); %s",
		    n * disk_bs, c.xmit_dsl, sr.status, sr.rejected,
		    sr.reject_reason, what);
	}
	conn_close(&c);
}

static void t_ahs_garbage(void)
{
	static const char *const names[] = {
		"AHSLength 0xfff0 inside a 4-byte TotalAHSLength",
		"TotalAHSLength 255 words of 0xff",
	};

	for (int v = 0; v < 2; v++) {
		uint8_t bhs[BHS_LEN], ahs[1020];
		struct conn c;
		struct pdu p;
		const char *what = "";
		bool good = false, after;
		uint32_t itt;
		size_t ahslen;
		int r;

		if (!login_plain(&c, opt.plain)) {
			tap(false, "AHS garbage: no login");
			continue;
		}
		clear_ua(&c);
		itt = c.itt++;
		build_cmd(&c, bhs, itt, opt.lun, cdb_tur, 6, DIR_NONE, 0);
		memset(ahs, 0, sizeof(ahs));
		switch (v) {
		case 0:
			put16(ahs, 0xfff0);
			ahs[2] = 1; /* extended CDB */
			ahslen = 4;
			break;
		default:
			memset(ahs, 0xff, sizeof(ahs));
			ahslen = 1020;
			break;
		}
		r = send_pdu(&c, bhs, ahs, ahslen, NULL, 0, 0);
		if (r == IO_OK && (r = wait_pdu(&c, &p, 5000)) == IO_OK) {
			uint8_t op = p.bhs[0] & 0x3f;

			good = op == OP_SCSI_RSP && p.bhs[3] == 0 &&
			       get32(p.bhs + 16) == itt;
			diag("answered by opcode 0x%02x (byte 2 0x%02x, "
			     "byte 3 0x%02x)",
			     op, p.bhs[2], p.bhs[3]);
			pdu_free(&p);
		}
		after = good ? false : closed_or_in_step(&c, &what);
		tap(!good && after, "%s: not executed as GOOD; %s", names[v],
		    good ? "GOOD" : what);
		conn_close(&c);
	}
}

static void t_login_in_ffp(void)
{
	struct conn c;
	struct kv t = {.len = 0};
	uint8_t bhs[BHS_LEN] = {0};
	struct pdu p;
	bool rej = false;
	int r;

	if (!login_plain(&c, opt.plain)) {
		tap(false, "login in full feature phase: no login");
		return;
	}
	kv_add(&t, "InitiatorName", "%s", opt.iname);
	kv_add(&t, "TargetName", "%s", opt.plain);
	kv_add(&t, "AuthMethod", "None");
	bhs[0] = OP_IMMEDIATE | OP_LOGIN_REQ;
	bhs[1] = LOGIN_T | STAGE(0, 1);
	memcpy(bhs + 8, c.isid, 6);
	put16(bhs + 14, c.tsih);
	put32(bhs + 16, c.itt++);
	put32(bhs + 24, c.cmdsn);
	put32(bhs + 28, c.expstatsn);
	r = send_pdu(&c, bhs, NULL, 0, t.buf, t.len, 0);
	if (r == IO_OK && (r = wait_pdu(&c, &p, TMO)) == IO_OK) {
		rej = (p.bhs[0] & 0x3f) == OP_REJECT;
		diag("answered by opcode 0x%02x (reason 0x%02x)",
		     p.bhs[0] & 0x3f, p.bhs[2]);
		pdu_free(&p);
	} else {
		diag("no answer: %s", io_name(r));
	}
	tap(rej, "Login request in full feature phase: Reject");
	conn_close(&c);
}

/* RFC 7143 4.2.2.1: commands beyond MaxCmdSN are silently ignored */
static void t_cmdsn_burst(void)
{
	struct conn c;
	uint32_t first, window, n, answered = 0;
	uint8_t *seen, *out;
	size_t outlen, sent = 0;
	int64_t quiet;
	bool prefix = true, bad_status = false;
	struct scsi_res r;

	if (!login_plain(&c, opt.plain)) {
		tap(false, "CmdSN burst: no login");
		return;
	}
	clear_ua(&c);
	/* learn the current window from a NOP-In */
	nop_ping(&c, 0);
	first = c.cmdsn;
	window = c.maxcmdsn - c.cmdsn + 1;
	if (window > 4096 || window == 0) {
		tap(false, "CmdSN burst: odd window ExpCmdSN %u MaxCmdSN %u",
		    c.expcmdsn, c.maxcmdsn);
		conn_close(&c);
		return;
	}
	n = window + 64;
	diag("CmdSN window %u: sending %u TEST UNIT READY at once", window, n);
	seen = calloc(n, 1);
	outlen = (size_t)n * BHS_LEN;
	out = malloc(outlen);
	if (!seen || !out)
		abort();
	for (uint32_t i = 0; i < n; i++)
		build_cmd(&c, out + (size_t)i * BHS_LEN, 0x10000 + i, opt.lun,
			  cdb_tur, 6, DIR_NONE, 0);
	quiet = now_ms() + 3000;
	while (now_ms() < quiet) {
		struct pollfd pfd = {.fd = c.fd, .events = POLLIN};

		if (sent < outlen)
			pfd.events |= POLLOUT;
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		if (pfd.revents & POLLOUT) {
			ssize_t k = send(c.fd, out + sent, outlen - sent,
					 MSG_NOSIGNAL | MSG_DONTWAIT);

			if (k > 0)
				sent += (size_t)k;
			quiet = now_ms() + 3000;
		}
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
			struct pdu p;
			uint32_t itt;

			if (recv_pdu(&c, &p, TMO))
				break;
			itt = get32(p.bhs + 16);
			if ((p.bhs[0] & 0x3f) == OP_SCSI_RSP &&
			    itt >= 0x10000 && itt < 0x10000 + n &&
			    !seen[itt - 0x10000]) {
				seen[itt - 0x10000] = 1;
				answered++;
				if (p.bhs[3] != 0)
					bad_status = true;
			} else if ((p.bhs[0] & 0x3f) == OP_NOP_IN &&
				   itt == RSVD_TAG) {
				if (get32(p.bhs + 20) != RSVD_TAG)
					nop_reply(&c, &p);
			} else {
				diag("burst: opcode 0x%02x ITT 0x%x",
				     p.bhs[0] & 0x3f, itt);
				c.stray++;
			}
			pdu_free(&p);
			quiet = now_ms() + 2000;
		}
	}
	for (uint32_t i = 0; i < n; i++)
		if (!seen[i] && i < answered)
			prefix = false;
	tap(sent == outlen && answered >= window && prefix && !bad_status &&
		    c.stray == 0,
	    "%u commands sent at once with a window of %u: the %u in the "
	    "window answered GOOD, in order (%u answered, all sent: %d)",
	    n, window, window, answered, sent == outlen);
	/* the target's ExpCmdSN must not have moved past what it ran */
	nop_ping(&c, 0);
	tap(c.expcmdsn == first + answered,
	    "after the burst ExpCmdSN is %u = first CmdSN %u + %u executed",
	    c.expcmdsn, first, answered);
	c.cmdsn = c.expcmdsn;
	r = scsi_exec(&c, opt.lun, cdb_tur, 6, DIR_NONE, NULL, 0, 0);
	tap(r.status == 0,
	    "the session still executes commands after the "
	    "burst (status %d, %s)",
	    r.status, io_name(r.io));
	free(seen);
	free(out);
	conn_close(&c);
}

static void t_logout(void)
{
	struct conn c;
	uint8_t bhs[BHS_LEN] = {0};
	struct pdu p;
	bool ok = false;
	int r;

	if (!login_plain(&c, opt.plain)) {
		tap(false, "logout: no login");
		return;
	}
	bhs[0] = OP_IMMEDIATE | OP_LOGOUT_REQ;
	bhs[1] = 0x80 | 0; /* close the session */
	put32(bhs + 16, c.itt++);
	put32(bhs + 24, c.cmdsn);
	put32(bhs + 28, c.expstatsn);
	r = send_pdu(&c, bhs, NULL, 0, NULL, 0, 0);
	if (r == IO_OK && (r = wait_pdu(&c, &p, TMO)) == IO_OK) {
		ok = (p.bhs[0] & 0x3f) == OP_LOGOUT_RSP && p.bhs[2] == 0;
		pdu_free(&p);
	}
	ok = ok && wait_closed(&c, 5000, NULL, NULL, NULL);
	tap(ok, "Logout (close session): response 0, then the target closes");
	conn_close(&c);
}

/* login request with arbitrary fields; returns the status or -1 */
static int raw_login(uint8_t flags, uint8_t vmax, uint8_t vmin,
		     const struct kv *t, bool *closed)
{
	struct conn c;
	struct pdu p;
	int r, st = -1;

	*closed = false;
	if (!conn_open(&c))
		return -1;
	r = login_pdu(&c, flags, vmax, vmin, t, &p);
	if (r == IO_OK) {
		st = login_status(&p);
		pdu_free(&p);
		if (st)
			*closed = wait_closed(&c, 5000, NULL, NULL, NULL);
	} else {
		diag("login: %s", io_name(r));
	}
	conn_close(&c);
	return st;
}

static void t_bad_logins(void)
{
	struct kv t = {.len = 0};
	struct conn c;
	bool closed;
	int st, n = 0;
	uint8_t op = 0;

	/* the first PDU is not a login request: NOP-Out, then SCSI */
	for (int v = 0; v < 2; v++) {
		uint8_t bhs[BHS_LEN] = {0};

		if (!conn_open(&c)) {
			tap(false, "first PDU not a login: no connection");
			continue;
		}
		if (v == 0) {
			bhs[0] = OP_IMMEDIATE | OP_NOP_OUT;
			bhs[1] = 0x80;
			put32(bhs + 16, 1);
			put32(bhs + 20, RSVD_TAG);
		} else {
			build_cmd(&c, bhs, 1, 0, cdb_tur, 6, DIR_NONE, 0);
		}
		send_pdu(&c, bhs, NULL, 0, NULL, 0, 0);
		closed = wait_closed(&c, 5000, &n, &op, NULL);
		tap(closed && (n == 0 || op == OP_REJECT || op == OP_LOGIN_RSP),
		    "first PDU a %s instead of a login: connection closed "
		    "(%d PDUs before, last opcode 0x%02x)",
		    v ? "SCSI command" : "NOP-Out", n, op);
		conn_close(&c);
	}

	kv_add(&t, "InitiatorName", "%s", opt.iname);
	kv_add(&t, "TargetName", "%s", "iqn.2026-11.org.tandem:no-such");
	kv_add(&t, "SessionType", "Normal");
	kv_add(&t, "AuthMethod", "None");
	st = raw_login(LOGIN_T | STAGE(0, 1), 0, 0, &t, &closed);
	tap(st == 0x0203 && closed,
	    "unknown TargetName: status 0x0203 and close (got 0x%04x, "
	    "closed %d)",
	    st, closed);

	t.len = 0;
	kv_add(&t, "TargetName", "%s", opt.plain);
	kv_add(&t, "SessionType", "Normal");
	kv_add(&t, "AuthMethod", "None");
	st = raw_login(LOGIN_T | STAGE(0, 1), 0, 0, &t, &closed);
	tap(st == 0x0207 && closed,
	    "no InitiatorName: status 0x0207 and close (got 0x%04x, closed "
	    "%d)",
	    st, closed);

	t.len = 0;
	kv_add(&t, "InitiatorName", "%s", opt.iname);
	kv_add(&t, "SessionType", "Normal");
	kv_add(&t, "AuthMethod", "None");
	st = raw_login(LOGIN_T | STAGE(0, 1), 0, 0, &t, &closed);
	tap(st == 0x0207 && closed,
	    "normal session without TargetName: status 0x0207 (got 0x%04x)",
	    st);

	t.len = 0;
	kv_add(&t, "InitiatorName", "%s", opt.iname);
	kv_add(&t, "TargetName", "%s", opt.plain);
	kv_add(&t, "SessionType", "Normal");
	kv_add(&t, "AuthMethod", "None");
	st = raw_login(LOGIN_T | STAGE(0, 2), 0, 0, &t, &closed);
	tap(st == 0x0200 && closed,
	    "transition to the reserved stage 2: status 0x0200 (got 0x%04x, "
	    "closed %d)",
	    st, closed);
	st = raw_login(LOGIN_T | STAGE(0, 0), 0, 0, &t, &closed);
	tap(st == 0x0200 && closed,
	    "transition from stage 0 to stage 0: status 0x0200 (got 0x%04x, "
	    "closed %d)",
	    st, closed);
	st = raw_login(LOGIN_T | STAGE(2, 3), 0, 0, &t, &closed);
	tap(st == 0x0200 && closed,
	    "current stage 2 (reserved): status 0x0200 (got 0x%04x, closed "
	    "%d)",
	    st, closed);
	/* RFC 7143 11.13.5: 0x0205 "Unsupported version" */
	st = raw_login(LOGIN_T | STAGE(0, 1), 5, 3, &t, &closed);
	tap(st == 0x0205 && closed,
	    "Version-max 5 Version-min 3: status 0x0205 (got 0x%04x, closed "
	    "%d)",
	    st, closed);

	t.len = 0;
	kv_add(&t, "InitiatorName", "%s", opt.iname);
	kv_add(&t, "TargetName", "%s", opt.plain);
	kv_add(&t, "SessionType", "Bogus");
	kv_add(&t, "AuthMethod", "None");
	st = raw_login(LOGIN_T | STAGE(0, 1), 0, 0, &t, &closed);
	tap(st >= 0x0200 && st < 0x0300 && closed,
	    "SessionType=Bogus: initiator error status (got 0x%04x)", st);

	/* a key without '=' and an over-long value */
	t.len = 0;
	kv_add(&t, "InitiatorName", "%s", opt.iname);
	kv_add(&t, "TargetName", "%s", opt.plain);
	memcpy(t.buf + t.len, "NoEqualsSign", 13);
	t.len += 13;
	{
		char big[1200];

		memset(big, 'x', sizeof(big) - 1);
		big[sizeof(big) - 1] = 0;
		kv_add(&t, "X-org.tandem.Long", "%s", big);
	}
	st = raw_login(LOGIN_T | STAGE(0, 1), 0, 0, &t, &closed);
	tap(st >= 0x0200 && st < 0x0300,
	    "malformed text (key without '=', 1199-byte value): initiator "
	    "error status (got 0x%04x)",
	    st);
}

static void t_chap(void)
{
	struct conn c;
	struct login_opts o = {.initiator = opt.iname,
			       .target = opt.chap,
			       .user = opt.user,
			       .secret = "wrong-secret-99"};
	struct login_res r;
	uint8_t buf[96];

	/* wrong secret */
	if (conn_open(&c)) {
		r = login(&c, &o);
		tap(!r.ffp && r.status == 0x0201,
		    "CHAP with a wrong secret: status 0x0201 (got 0x%04x: %s)",
		    r.status, r.why);
		conn_close(&c);
	}
	/* wrong user name */
	o.user = "nobody";
	o.secret = opt.secret;
	if (conn_open(&c)) {
		r = login(&c, &o);
		tap(!r.ffp && r.status == 0x0201,
		    "CHAP with an unknown user: status 0x0201 (got 0x%04x: %s)",
		    r.status, r.why);
		conn_close(&c);
	}
	/* right secret */
	o.user = opt.user;
	if (conn_open(&c)) {
		struct scsi_res sr = {.status = -1};

		r = login(&c, &o);
		if (r.ffp)
			sr = inquiry(&c, false, 0, buf, sizeof(buf));
		tap(r.ffp && sr.status == 0,
		    "CHAP with the right secret: full feature phase, INQUIRY "
		    "GOOD (%s)",
		    r.why);
		conn_close(&c);
	}
	/* AuthMethod=None to a target that requires CHAP */
	o.auth_none_to_chap = true;
	if (conn_open(&c)) {
		r = login(&c, &o);
		tap(!r.ffp && r.status == 0x0201,
		    "AuthMethod=None to a CHAP target: status 0x0201 (got "
		    "0x%04x: %s)",
		    r.status, r.why);
		conn_close(&c);
	}
	o.auth_none_to_chap = false;
	/* CHAP_A other than 5 (MD5) */
	o.chap_a = "7";
	if (conn_open(&c)) {
		r = login(&c, &o);
		tap(!r.ffp && !r.got_challenge &&
			    (r.chap_a_rejected ||
			     (r.status >= 0x0200 && r.status < 0x0300) ||
			     (r.status == -1 && r.io == IO_CLOSED)),
		    "CHAP_A=7: refused, no challenge (%s)", r.why);
		conn_close(&c);
	}
	o.chap_a = NULL;

	/* mutual CHAP */
	o.target = opt.mutual;
	o.tuser = opt.tuser;
	o.tsecret = opt.tsecret;
	if (conn_open(&c)) {
		struct scsi_res sr = {.status = -1};

		r = login(&c, &o);
		if (r.ffp)
			sr = inquiry(&c, false, 0, buf, sizeof(buf));
		tap(r.ffp && r.mutual_ok && sr.status == 0,
		    "mutual CHAP: the target's CHAP_N/CHAP_R verify with its "
		    "OutgoingUser secret, INQUIRY GOOD (%s)",
		    r.why);
		conn_close(&c);
	}
	/* mutual CHAP, our challenge is the target's own (RFC 7143 12.1.3) */
	o.reflect = true;
	if (conn_open(&c)) {
		r = login(&c, &o);
		tap(!r.ffp && (r.status == -1 || r.status >= 0x0200),
		    "mutual CHAP with the target's challenge reflected: "
		    "refused (%s)",
		    r.why);
		conn_close(&c);
	}
	o.reflect = false;
	/* mutual target, no mutual challenge from us: allowed (one-way) */
	o.tsecret = NULL;
	o.tuser = NULL;
	/* the plain target accepts AuthMethod=None */
	o.target = opt.plain;
	o.user = NULL;
	if (conn_open(&c)) {
		r = login(&c, &o);
		tap(r.ffp, "plain target: AuthMethod=None accepted (%s)",
		    r.why);
		conn_close(&c);
	}
}

/*
 * RFC 7143 13.4, 13.5: InitiatorName and TargetName are iSCSI names
 * (4.2.7); anything else is refused with 0x0200, "initiator error"
 * (11.13.5). The bytes these carry never make a log line of their own:
 * neg.sh looks for FORGED at the start of a line of the target's log. The
 * pauses put each logged refusal in a second of its own (refusals are
 * logged at most a few a second).
 */
static void t_bad_names(void)
{
	static const struct {
		const char *what, *ini, *tgt;
		bool logged;
	} cases[] = {
		{"InitiatorName with a newline and a forged log line",
		 "iqn.2026-11.org.tandem:neg\nFORGED-LOG-LINE", NULL, true},
		{"InitiatorName with a terminal escape",
		 "iqn.2026-11.org.tandem:neg\x1b[2J", NULL, false},
		{"InitiatorName with a blank",
		 "iqn.2026-11.org.tandem:two words", NULL, false},
		{"InitiatorName that is no iSCSI name", "neg-initiator", NULL,
		 false},
		{"InitiatorName eui. with 15 hex digits", "eui.0123456789abcde",
		 NULL, false},
		{"TargetName with a newline", NULL,
		 "iqn.2026-11.org.tandem:neg-plain\nFORGED-LOG-LINE", true},
	};
	struct login_opts o = {.target = opt.chap,
			       .user = "neguser\nFORGED-CHAP-LINE",
			       .secret = opt.secret};
	struct kv t = {.len = 0};
	struct login_res r;
	struct conn c;
	bool closed;
	int st;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (cases[i].logged)
			sleep_ms(1100);
		t.len = 0;
		kv_add(&t, "InitiatorName", "%s",
		       cases[i].ini ? cases[i].ini : opt.iname);
		kv_add(&t, "TargetName", "%s",
		       cases[i].tgt ? cases[i].tgt : opt.plain);
		kv_add(&t, "SessionType", "Normal");
		kv_add(&t, "AuthMethod", "None");
		st = raw_login(LOGIN_T | STAGE(0, 1), 0, 0, &t, &closed);
		tap(st == 0x0200 && closed,
		    "%s: status 0x0200 and close (got 0x%04x, closed %d)",
		    cases[i].what, st, closed);
	}
	t.len = 0;
	kv_add(&t, "InitiatorName", "%s", "iqn.2026-11.org.tandem:d\r\nx");
	kv_add(&t, "SessionType", "Discovery");
	kv_add(&t, "AuthMethod", "None");
	st = raw_login(LOGIN_T | STAGE(0, 1), 0, 0, &t, &closed);
	tap(st == 0x0200 && closed,
	    "discovery with a CR LF in InitiatorName: status 0x0200 (got "
	    "0x%04x)",
	    st);
	/* a CHAP user name is quoted, escaped, in the refusal's reason */
	sleep_ms(1100);
	o.initiator = opt.iname;
	if (conn_open(&c)) {
		r = login(&c, &o);
		tap(!r.ffp && r.status == 0x0201,
		    "CHAP_N with a newline: status 0x0201 (got 0x%04x: %s)",
		    r.status, r.why);
		conn_close(&c);
	}
}

static void t_digests(void)
{
	struct login_opts o = {.initiator = opt.iname,
			       .target = opt.plain,
			       .hdig = true,
			       .ddig = true};
	struct conn c, other;
	struct login_res lr;
	struct scsi_res r;
	uint8_t buf[96], bhs[BHS_LEN], *a, *b, *rd;
	bool other_ok, closed;
	uint32_t itt, last_itt = 0;
	uint8_t last_op = 0;
	int n = 0;

	other_ok = login_plain(&other, opt.plain);
	if (!conn_open(&c))
		return;
	lr = login(&c, &o);
	tap(lr.ffp && c.hdig && c.ddig,
	    "HeaderDigest=CRC32C and DataDigest=CRC32C negotiated (%s)",
	    lr.why);
	if (!lr.ffp || !c.hdig) {
		conn_close(&c);
		if (other_ok)
			conn_close(&other);
		return;
	}
	r = inquiry(&c, false, 0, buf, sizeof(buf));
	tap(r.status == 0 && r.io == IO_OK,
	    "INQUIRY with digests: GOOD, the target's digests verify");
	clear_ua(&c);

	/* data digest: a correct write, then a corrupted one */
	a = malloc(8 * disk_bs);
	b = malloc(8 * disk_bs);
	rd = malloc(8 * disk_bs);
	if (!a || !b || !rd)
		abort();
	for (uint32_t i = 0; i < 8 * disk_bs; i++) {
		a[i] = (uint8_t)rnd();
		b[i] = (uint8_t)~a[i];
	}
	r = rw10(&c, true, 200, 8, disk_bs, a, 0);
	tap(r.status == 0,
	    "WRITE(10) with a correct data digest: GOOD "
	    "(status %d)",
	    r.status);
	r = rw10(&c, true, 200, 8, disk_bs, b, CMD_BAD_DDIG);
	tap(r.rejected && r.reject_reason == REJ_DATA_DIGEST,
	    "WRITE(10) with a bad data digest on its %s: Reject reason 0x02 "
	    "(rejected %d, reason 0x%02x)",
	    c.immediate_data ? "immediate data" : "Data-Out", r.rejected,
	    r.reject_reason);
	tap(r.status != 0,
	    "... and the command does not end GOOD (status %d, "
	    "sense %x/%02x/%02x, %s)",
	    r.status, r.key, r.asc, r.ascq, io_name(r.io));
	if (r.io == IO_CLOSED || r.io == IO_BAD_DIGEST) {
		conn_close(&c);
		if (!conn_open(&c) || !(lr = login(&c, &o)).ffp) {
			tap(false, "... no new login to read the data back");
			conn_close(&c);
			goto out;
		}
		clear_ua(&c);
	}
	memset(rd, 0, 8 * disk_bs);
	r = rw10(&c, false, 200, 8, disk_bs, rd, 0);
	tap(r.status == 0 && !memcmp(rd, a, 8 * disk_bs),
	    "... and the blocks still hold the data written before");

	/* header digest: a bad one must drop the connection (ERL 0) */
	{
		itt = c.itt++;
		build_cmd(&c, bhs, itt, opt.lun, cdb_tur, 6, DIR_NONE, 0);
		send_pdu(&c, bhs, NULL, 0, NULL, 0, SEND_BAD_HDIG);
		closed = wait_closed(&c, 5000, &n, &last_op, &last_itt);
		tap(closed && !(n && last_op == OP_SCSI_RSP && last_itt == itt),
		    "bad header digest: the command is not executed and the "
		    "target closes the connection (closed %d, %d PDUs)",
		    closed, n);
	}
	conn_close(&c);
	if (other_ok) {
		r = inquiry(&other, false, 0, buf, sizeof(buf));
		tap(r.status == 0 && nop_ping(&other, 8),
		    "another session still served after the digest errors");
		conn_close(&other);
	} else {
		tap(false, "another session: login failed");
	}
out:
	free(a);
	free(b);
	free(rd);
}

static void t_garbage(void)
{
	uint8_t junk[4096];
	struct conn c;
	bool closed;
	int n = 0;

	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)rnd();
	junk[0] = 0xa5;	    /* opcode 0x25: not one an initiator sends */
	put24(junk + 5, 0); /* no data segment to wait for */
	if (conn_open(&c)) {
		write_full(c.fd, junk, sizeof(junk));
		closed = wait_closed(&c, 5000, &n, NULL, NULL);
		tap(closed,
		    "4 KiB of garbage on a new connection: closed "
		    "(%d PDUs answered)",
		    n);
		conn_close(&c);
	}
	/* garbage in full feature phase: anything but a crash */
	if (login_plain(&c, opt.plain)) {
		for (int k = 0; k < 4; k++) {
			for (size_t i = 0; i < sizeof(junk); i++)
				junk[i] = (uint8_t)rnd();
			if (write_full(c.fd, junk, sizeof(junk)))
				break;
		}
		wait_closed(&c, 1000, NULL, NULL, NULL);
		close_rst(c.fd);
		c.fd = -1;
	}
	tap(target_serves(opt.plain),
	    "after 16 KiB of garbage in full feature phase the target "
	    "serves a new session");
}

static void t_truncated(void)
{
	struct kv t = {.len = 0};
	uint8_t bhs[BHS_LEN] = {0};
	struct conn c, hold;
	bool served;

	/* a truncated BHS, then close; 20 times */
	for (int i = 0; i < 20; i++) {
		if (!conn_open(&c))
			break;
		bhs[0] = OP_IMMEDIATE | OP_LOGIN_REQ;
		bhs[1] = LOGIN_T | STAGE(0, 1);
		write_full(c.fd, bhs, (size_t)(1 + i * 2));
		if (i % 2)
			close_rst(c.fd);
		else
			close(c.fd);
	}
	tap(target_serves(opt.plain),
	    "20 connections closed after a truncated BHS: the target serves");

	/* a truncated BHS kept open does not block other sessions */
	if (conn_open(&hold)) {
		write_full(hold.fd, bhs, 20);
		served = target_serves(opt.plain);
		tap(served, "a connection stuck in a truncated BHS does not "
			    "block a new session");
		conn_close(&hold);
	}

	/* a login PDU whose data segment never fully arrives */
	kv_add(&t, "InitiatorName", "%s", opt.iname);
	kv_add(&t, "TargetName", "%s", opt.plain);
	if (conn_open(&hold)) {
		bhs[4] = 0;
		put24(bhs + 5, 4000);
		memcpy(bhs + 8, hold.isid, 6);
		write_full(hold.fd, bhs, BHS_LEN);
		write_full(hold.fd, t.buf, t.len);
		served = target_serves(opt.plain);
		tap(served, "a login with a partial data segment does not "
			    "block a new session");
		close_rst(hold.fd);
	}
}

static void t_many_drops(void)
{
	enum { BATCH = 50, ROUNDS = 4 };
	int fds[BATCH];
	int opened = 0;

	for (int round = 0; round < ROUNDS; round++) {
		for (int i = 0; i < BATCH; i++) {
			struct conn c;
			struct kv t = {.len = 0};
			uint8_t bhs[BHS_LEN] = {0};

			fds[i] = -1;
			if (!conn_open(&c))
				continue;
			opened++;
			fds[i] = c.fd;
			kv_add(&t, "InitiatorName", "%s", opt.iname);
			kv_add(&t, "TargetName", "%s", opt.plain);
			kv_add(&t, "SessionType", "Normal");
			kv_add(&t, "AuthMethod", "None");
			bhs[0] = OP_IMMEDIATE | OP_LOGIN_REQ;
			bhs[1] = LOGIN_T | STAGE(0, 1);
			memcpy(bhs + 8, c.isid, 6);
			put32(bhs + 16, 1);
			put32(bhs + 24, 1);
			switch ((i + round) % 4) {
			case 0: /* connect only */
				break;
			case 1: /* half a BHS */
				write_full(c.fd, bhs, 24);
				break;
			case 2: /* the BHS and half the keys */
				put24(bhs + 5, (uint32_t)t.len);
				write_full(c.fd, bhs, BHS_LEN);
				write_full(c.fd, t.buf, t.len / 2);
				break;
			default: /* the whole first login request */
				send_pdu(&c, bhs, NULL, 0, t.buf, t.len, 0);
				break;
			}
		}
		for (int i = 0; i < BATCH; i++) {
			if (fds[i] < 0)
				continue;
			if ((i + round) % 3)
				close_rst(fds[i]);
			else
				close(fds[i]);
		}
	}
	tap(opened == BATCH * ROUNDS && target_serves(opt.plain),
	    "%d connections dropped in the middle of a login: the target "
	    "serves",
	    opened);
}

/* read nblocks at lba on a fresh session; false if that fails */
static bool read_blocks(uint32_t lba, uint16_t nblocks, uint8_t *buf)
{
	struct conn c;
	struct scsi_res r;

	if (!login_plain(&c, opt.plain))
		return false;
	clear_ua(&c);
	r = rw10(&c, false, lba, nblocks, disk_bs, buf, 0);
	conn_close(&c);
	return r.status == 0 && r.got == (size_t)nblocks * disk_bs;
}

static bool write_blocks(uint32_t lba, uint16_t nblocks, uint8_t *buf)
{
	struct conn c;
	struct scsi_res r;

	if (!login_plain(&c, opt.plain))
		return false;
	clear_ua(&c);
	r = rw10(&c, true, lba, nblocks, disk_bs, buf, 0);
	conn_close(&c);
	return r.status == 0;
}

/*
 * Data the target did not ask for: a Data-Out with the reserved TTT
 * while InitialR2T=Yes, and a Data-Out larger than the R2T asked for.
 * Neither may reach the disk beyond the command's own blocks.
 */
static void t_bad_data_out(void)
{
	uint8_t *before, *after, *good, *bad;
	size_t bs = disk_bs;
	const uint32_t lba = 300;

	before = malloc(2 * bs);
	after = malloc(2 * bs);
	good = malloc(2 * bs);
	bad = malloc(2 * bs);
	if (!before || !after || !good || !bad)
		abort();
	for (size_t i = 0; i < 2 * bs; i++) {
		before[i] = (uint8_t)rnd();
		good[i] = (uint8_t)rnd();
		bad[i] = (uint8_t)~good[i];
	}
	for (int v = 0; v < 2; v++) {
		struct login_opts o = {.initiator = opt.iname,
				       .target = opt.plain,
				       .no_immediate = true};
		uint8_t bhs[BHS_LEN], cdb[10] = {0x2a};
		struct conn c;
		struct login_res lr;
		struct pdu p;
		const char *what = "";
		bool bad_ok = true, after_ok, status_good = false;
		uint32_t itt;
		int r;

		if (!write_blocks(lba, 2, before) || !conn_open(&c)) {
			tap(false, "bad Data-Out: setup failed");
			continue;
		}
		lr = login(&c, &o);
		if (!lr.ffp || !clear_ua(&c)) {
			tap(false, "bad Data-Out: login: %s", lr.why);
			conn_close(&c);
			continue;
		}
		/* WRITE(10) of one block at lba: no immediate data */
		put32(cdb + 2, lba);
		put16(cdb + 7, 1);
		itt = c.itt++;
		build_cmd(&c, bhs, itt, opt.lun, cdb, 10, DIR_WRITE,
			  (uint32_t)bs);
		r = send_pdu(&c, bhs, NULL, 0, NULL, 0, 0);
		if (v == 0 && r == IO_OK) {
			/* unsolicited data, although InitialR2T=Yes */
			uint8_t d[BHS_LEN] = {OP_DATA_OUT, 0x80};

			d[9] = (uint8_t)opt.lun;
			put32(d + 16, itt);
			put32(d + 20, RSVD_TAG);
			put32(d + 28, c.expstatsn);
			r = send_pdu(&c, d, NULL, 0, bad, bs, 0);
		}
		while (r == IO_OK && (r = wait_pdu(&c, &p, 5000)) == IO_OK) {
			uint8_t op = p.bhs[0] & 0x3f;

			if (op == OP_R2T && get32(p.bhs + 16) == itt) {
				uint8_t d[BHS_LEN] = {OP_DATA_OUT, 0x80};
				/* v 1: twice what the R2T asked for */
				size_t len = v ? 2 * bs : bs;

				d[9] = (uint8_t)opt.lun;
				put32(d + 16, itt);
				memcpy(d + 20, p.bhs + 20, 4);
				put32(d + 28, c.expstatsn);
				put32(d + 40, get32(p.bhs + 40));
				r = send_pdu(&c, d, NULL, 0, v ? bad : good,
					     len, 0);
			} else if (op == OP_SCSI_RSP &&
				   get32(p.bhs + 16) == itt) {
				status_good = p.bhs[3] == 0 && p.bhs[2] == 0;
				pdu_free(&p);
				break;
			} else {
				diag("answered by opcode 0x%02x (byte 2 "
				     "0x%02x)",
				     op, p.bhs[2]);
			}
			pdu_free(&p);
		}
		after_ok = closed_or_in_step(&c, &what);
		conn_close(&c);
		memset(after, 0, 2 * bs);
		if (!read_blocks(lba, 2, after)) {
			tap(false, "bad Data-Out: cannot read the blocks back");
			continue;
		}
		if (v == 0) {
			/* the unsolicited block must not have landed */
			bad_ok = memcmp(after, bad, bs) != 0;
			tap(bad_ok && after_ok &&
				    !memcmp(after + bs, before + bs, bs),
			    "unsolicited Data-Out with InitialR2T=Yes: its "
			    "data is not written (command %s); %s",
			    status_good ? "GOOD" : "not GOOD", what);
		} else {
			/* the block after the command's must be intact */
			bad_ok = !memcmp(after + bs, before + bs, bs);
			tap(bad_ok && after_ok && !status_good,
			    "Data-Out of %zu bytes for an R2T of %zu: the next "
			    "block is untouched, the command is not GOOD; %s",
			    2 * bs, bs, what);
		}
	}
	/* immediate data longer than the expected data transfer length */
	{
		struct conn c;
		uint8_t bhs[BHS_LEN], cdb[10] = {0x2a};
		struct pdu p;
		const char *what = "";
		bool after_ok, good_status = false;
		uint32_t itt;
		int r;

		if (!write_blocks(lba, 2, before) ||
		    !login_plain(&c, opt.plain)) {
			tap(false, "immediate data > EDTL: setup failed");
			goto out;
		}
		clear_ua(&c);
		put32(cdb + 2, lba);
		put16(cdb + 7, 1);
		itt = c.itt++;
		build_cmd(&c, bhs, itt, opt.lun, cdb, 10, DIR_WRITE,
			  (uint32_t)bs);
		r = send_pdu(&c, bhs, NULL, 0, bad, 2 * bs, 0);
		while (r == IO_OK && (r = wait_pdu(&c, &p, 5000)) == IO_OK) {
			uint8_t op = p.bhs[0] & 0x3f;

			diag("answered by opcode 0x%02x (byte 2 0x%02x, byte "
			     "3 0x%02x)",
			     op, p.bhs[2], p.bhs[3]);
			if (op == OP_R2T) {
				uint8_t d[BHS_LEN] = {OP_DATA_OUT, 0x80};

				d[9] = (uint8_t)opt.lun;
				put32(d + 16, itt);
				memcpy(d + 20, p.bhs + 20, 4);
				put32(d + 28, c.expstatsn);
				put32(d + 40, get32(p.bhs + 40));
				r = send_pdu(&c, d, NULL, 0,
					     bad + get32(p.bhs + 40),
					     get32(p.bhs + 44), 0);
			} else if (op == OP_SCSI_RSP || op == OP_REJECT) {
				good_status = op == OP_SCSI_RSP &&
					      p.bhs[3] == 0 && p.bhs[2] == 0;
				pdu_free(&p);
				break;
			}
			pdu_free(&p);
		}
		after_ok = closed_or_in_step(&c, &what);
		conn_close(&c);
		if (!read_blocks(lba, 2, after)) {
			tap(false, "immediate data > EDTL: cannot read back");
			goto out;
		}
		tap(after_ok && !memcmp(after + bs, before + bs, bs),
		    "WRITE with %zu bytes of immediate data for an expected "
		    "length of %zu: the next block is untouched (command %s); "
		    "%s",
		    2 * bs, bs, good_status ? "GOOD" : "not GOOD", what);
	}
out:
	free(before);
	free(after);
	free(good);
	free(bad);
}

/* RFC 7143 4.2.2.1: a non-immediate command whose CmdSN is behind
 * ExpCmdSN (a duplicate) is silently ignored */
static void t_dup_cmdsn(void)
{
	struct conn c;
	struct scsi_res r;
	uint8_t bhs[BHS_LEN];
	uint32_t dup_itt, exp;
	bool silent = true;

	if (!login_plain(&c, opt.plain)) {
		tap(false, "duplicate CmdSN: no login");
		return;
	}
	clear_ua(&c);
	r = scsi_exec(&c, opt.lun, cdb_tur, 6, DIR_NONE, NULL, 0, 0);
	c.cmdsn--; /* send the same CmdSN again */
	dup_itt = c.itt++;
	build_cmd(&c, bhs, dup_itt, opt.lun, cdb_tur, 6, DIR_NONE, 0);
	send_pdu(&c, bhs, NULL, 0, NULL, 0, 0);
	exp = c.cmdsn;
	{
		struct pdu p;

		if (wait_pdu(&c, &p, 1500) == IO_OK) {
			diag("answered by opcode 0x%02x ITT 0x%x",
			     p.bhs[0] & 0x3f, get32(p.bhs + 16));
			silent = false;
			pdu_free(&p);
		}
	}
	nop_ping(&c, 0);
	tap(r.status == 0 && silent && c.expcmdsn == exp,
	    "a command repeating an executed CmdSN is ignored silently "
	    "(ExpCmdSN %u, expected %u)",
	    c.expcmdsn, exp);
	r = scsi_exec(&c, opt.lun, cdb_tur, 6, DIR_NONE, NULL, 0, 0);
	tap(r.status == 0, "... and the next CmdSN is executed (status %d)",
	    r.status);
	conn_close(&c);
}

static void t_snack_tmf_text(void)
{
	struct conn c;
	uint8_t bhs[BHS_LEN];
	struct pdu p;
	const char *what = "";
	bool ok;
	int r;

	/* SNACK at ErrorRecoveryLevel 0 */
	if (login_plain(&c, opt.plain)) {
		memset(bhs, 0, sizeof(bhs));
		bhs[0] = 0x10;	   /* SNACK */
		bhs[1] = 0x80 | 1; /* status SNACK */
		put32(bhs + 16, RSVD_TAG);
		put32(bhs + 20, RSVD_TAG);
		put32(bhs + 28, c.expstatsn);
		put32(bhs + 40, c.expstatsn - 1);
		put32(bhs + 44, 1);
		ok = false;
		r = send_pdu(&c, bhs, NULL, 0, NULL, 0, 0);
		if (r == IO_OK && (r = wait_pdu(&c, &p, 5000)) == IO_OK) {
			ok = (p.bhs[0] & 0x3f) == OP_REJECT;
			diag("SNACK answered by opcode 0x%02x reason 0x%02x",
			     p.bhs[0] & 0x3f, p.bhs[2]);
			pdu_free(&p);
		} else {
			ok = r == IO_CLOSED;
		}
		ok = ok && closed_or_in_step(&c, &what);
		tap(ok, "SNACK at ErrorRecoveryLevel 0: Reject or close; %s",
		    what);
		conn_close(&c);
	}

	/* TMF: ABORT TASK of a task that does not exist, LUN RESET */
	if (login_plain(&c, opt.plain)) {
		static const uint8_t fns[] = {1, 5};

		clear_ua(&c);
		for (size_t i = 0; i < sizeof(fns); i++) {
			int resp = -1;

			memset(bhs, 0, sizeof(bhs));
			bhs[0] = OP_IMMEDIATE | 0x02;
			bhs[1] = 0x80 | fns[i];
			bhs[9] = (uint8_t)opt.lun;
			put32(bhs + 16, c.itt++);
			put32(bhs + 20, fns[i] == 1 ? 0x7777777 : RSVD_TAG);
			put32(bhs + 24, c.cmdsn);
			put32(bhs + 28, c.expstatsn);
			put32(bhs + 32, c.cmdsn - 1);
			r = send_pdu(&c, bhs, NULL, 0, NULL, 0, 0);
			if (r == IO_OK &&
			    (r = wait_pdu(&c, &p, TMO)) == IO_OK) {
				if ((p.bhs[0] & 0x3f) == 0x22)
					resp = p.bhs[2];
				pdu_free(&p);
			}
			if (fns[i] == 1)
				tap(resp == 0 || resp == 1,
				    "ABORT TASK of an unknown task: response "
				    "0 or 1 (got %d)",
				    resp);
			else
				tap(resp == 0,
				    "LOGICAL UNIT RESET: function complete "
				    "(got %d)",
				    resp);
		}
		{
			struct scsi_res sr;
			int i;

			for (i = 0; i < 3; i++) {
				sr = scsi_exec(&c, opt.lun, cdb_tur, 6,
					       DIR_NONE, NULL, 0, 0);
				if (sr.status == 0)
					break;
			}
			tap(sr.status == 0,
			    "the session works after the TMFs (status %d)",
			    sr.status);
		}
		conn_close(&c);
	}

	/* Text request with a key the target cannot know */
	if (login_plain(&c, opt.plain)) {
		struct kv t = {.len = 0};
		char v[64];

		kv_add(&t, "X-org.tandem.NoSuchKey", "1");
		memset(bhs, 0, sizeof(bhs));
		bhs[0] = OP_IMMEDIATE | OP_TEXT_REQ;
		bhs[1] = 0x80;
		put32(bhs + 16, c.itt++);
		put32(bhs + 20, RSVD_TAG);
		put32(bhs + 24, c.cmdsn);
		put32(bhs + 28, c.expstatsn);
		ok = false;
		r = send_pdu(&c, bhs, NULL, 0, t.buf, t.len, 0);
		if (r == IO_OK && (r = wait_pdu(&c, &p, TMO)) == IO_OK) {
			ok = (p.bhs[0] & 0x3f) == OP_TEXT_RSP &&
			     kv_get(p.data, p.dlen, "X-org.tandem.NoSuchKey", v,
				    sizeof(v)) &&
			     !strcmp(v, "NotUnderstood");
			pdu_free(&p);
		}
		tap(ok, "Text request with an unknown X- key: NotUnderstood");
		conn_close(&c);
	}
}

static void t_session_rules(void)
{
	struct kv t = {.len = 0};
	struct conn a, b;
	struct pdu p;
	struct login_res lr;
	struct login_opts o = {.initiator = opt.iname, .target = opt.plain};
	int st = -1, r;
	bool closed;

	/* TSIH of a session that does not exist: 0x020a */
	if (conn_open(&a)) {
		a.tsih = 0x7777;
		lr = login(&a, &o);
		tap(!lr.ffp && lr.status == 0x020a,
		    "login with the TSIH of no session: refused with 0x020a "
		    "(full feature phase %d, status 0x%04x: %s)",
		    lr.ffp, lr.status, lr.why);
		conn_close(&a);
	}

	/* a second connection (CID 1) to a session negotiated with
	 * MaxConnections=1 */
	if (login_plain(&a, opt.plain)) {
		lr.ffp = false;
		lr.status = -1;
		if (conn_open(&b)) {
			memcpy(b.isid, a.isid, 6);
			b.tsih = a.tsih;
			b.cid = 1;
			lr = login(&b, &o);
			conn_close(&b);
		}
		tap(!lr.ffp && (lr.status == 0x0206 || lr.status == 0x0208) &&
			    nop_ping(&a, 4),
		    "a second connection (CID 1) to a MaxConnections=1 "
		    "session: refused with 0x0206 or 0x0208 (full feature "
		    "phase %d, status 0x%04x: %s), the session carries on",
		    lr.ffp, lr.status, lr.why);
		conn_close(&a);
	}

	/* the same ISID, TSIH and CID again: connection reinstatement
	 * (RFC 7143 6.3.4): the old connection must go */
	if (login_plain(&a, opt.plain)) {
		lr.ffp = false;
		lr.status = -1;
		closed = false;
		if (conn_open(&b)) {
			memcpy(b.isid, a.isid, 6);
			b.tsih = a.tsih;
			lr = login(&b, &o);
			closed = wait_closed(&a, 5000, NULL, NULL, NULL);
			if (lr.ffp && closed) {
				uint8_t buf[96];
				struct scsi_res sr;

				sr = inquiry(&b, false, 0, buf, sizeof(buf));
				lr.ffp = sr.status == 0;
			}
			conn_close(&b);
		}
		tap((lr.ffp && closed) ||
			    (!lr.ffp && lr.status >= 0x0200 && !closed),
		    "a login with the ISID, TSIH and CID of a live connection: "
		    "either it replaces the old connection (new one works "
		    "%d, old closed %d) or it is refused (status 0x%04x)",
		    lr.ffp, closed, lr.status);
		conn_close(&a);
	}

	/* session reinstatement: same initiator and ISID, TSIH 0 */
	if (login_plain(&a, opt.plain) && conn_open(&b)) {
		uint8_t buf[96];
		struct scsi_res sr = {.status = -1};

		memcpy(b.isid, a.isid, 6);
		lr = login(&b, &o);
		if (lr.ffp)
			sr = inquiry(&b, false, 0, buf, sizeof(buf));
		closed = wait_closed(&a, 5000, NULL, NULL, NULL);
		tap(lr.ffp && sr.status == 0 && closed,
		    "a new login with the same ISID reinstates the session: "
		    "new one works (%s), old connection closed (%d)",
		    lr.why, closed);
		conn_close(&a);
		conn_close(&b);
	}

	/* login text over MaxRecvDataSegmentLength (8192 during login) */
	if (conn_open(&a)) {
		char big[250];

		t.len = 0;
		kv_add(&t, "InitiatorName", "%s", opt.iname);
		kv_add(&t, "TargetName", "%s", opt.plain);
		memset(big, 'y', sizeof(big) - 1);
		big[sizeof(big) - 1] = 0;
		for (int i = 0; i < 40; i++) {
			char key[32];

			snprintf(key, sizeof(key), "X-org.tandem.k%d", i);
			kv_add(&t, key, "%s", big);
		}
		st = -1;
		r = login_pdu(&a, LOGIN_T | STAGE(0, 1), 0, 0, &t, &p);
		if (r == IO_OK) {
			st = login_status(&p);
			pdu_free(&p);
		}
		tap(st != 0 && (st == -1 || st >= 0x0200),
		    "a %zu-byte login request (over 8192): refused (status "
		    "0x%04x, %s)",
		    t.len, st, io_name(r));
		conn_close(&a);
	}

	/* login text continued over two PDUs (C bit), split inside a key */
	if (conn_open(&a)) {
		size_t cut;
		bool ok = false;

		t.len = 0;
		kv_add(&t, "InitiatorName", "%s", opt.iname);
		kv_add(&t, "TargetName", "%s", opt.plain);
		kv_add(&t, "SessionType", "Normal");
		kv_add(&t, "AuthMethod", "None");
		cut = strlen(opt.iname) / 2 + 14;
		{
			struct kv first = {.len = cut}, rest = {.len = 0};

			memcpy(first.buf, t.buf, cut);
			memcpy(rest.buf, t.buf + cut, t.len - cut);
			rest.len = t.len - cut;
			r = login_pdu(&a, LOGIN_C | STAGE(0, 0), 0, 0, &first,
				      &p);
			if (r == IO_OK) {
				ok = login_status(&p) == 0 &&
				     !(p.bhs[1] & LOGIN_T) && p.dlen == 0;
				if (!ok)
					diag("first part answered: status "
					     "0x%04x, flags 0x%02x, %zu bytes",
					     login_status(&p), p.bhs[1],
					     p.dlen);
				pdu_free(&p);
				r = login_pdu(&a, LOGIN_T | STAGE(0, 1), 0, 0,
					      &rest, &p);
			}
			if (r == IO_OK) {
				ok = ok && login_status(&p) == 0 &&
				     (p.bhs[1] & LOGIN_T) &&
				     (p.bhs[1] & 3) == 1;
				if (!ok)
					diag("second part answered: status "
					     "0x%04x, flags 0x%02x",
					     login_status(&p), p.bhs[1]);
				pdu_free(&p);
			}
		}
		tap(ok,
		    "login text split over two PDUs (C bit, inside a "
		    "value): empty answer, then the stage transition (%s)",
		    io_name(r));
		conn_close(&a);
	}
}

static void t_discovery(void)
{
	struct login_opts o = {.initiator = opt.iname};
	uint8_t bhs[BHS_LEN] = {0};
	struct conn c;
	struct login_res lr;
	struct kv t = {.len = 0};
	struct pdu p;
	bool found = false;
	int r;

	if (!conn_open(&c))
		return;
	lr = login(&c, &o);
	if (!lr.ffp) {
		tap(false, "discovery session login: %s", lr.why);
		conn_close(&c);
		return;
	}
	kv_add(&t, "SendTargets", "All");
	bhs[0] = OP_IMMEDIATE | OP_TEXT_REQ;
	bhs[1] = 0x80;
	put32(bhs + 16, c.itt++);
	put32(bhs + 20, RSVD_TAG);
	put32(bhs + 24, c.cmdsn);
	put32(bhs + 28, c.expstatsn);
	r = send_pdu(&c, bhs, NULL, 0, t.buf, t.len, 0);
	if (r == IO_OK && (r = wait_pdu(&c, &p, TMO)) == IO_OK) {
		for (size_t i = 0; i < p.dlen;) {
			const char *s = (const char *)p.data + i;

			if (!strncmp(s, "TargetName=", 11) &&
			    !strcmp(s + 11, opt.plain))
				found = true;
			i += strnlen(s, p.dlen - i) + 1;
		}
		pdu_free(&p);
	}
	tap(found, "discovery session: SendTargets=All lists %s", opt.plain);
	/* SCSI commands are not allowed in a discovery session */
	{
		struct scsi_res sr =
			scsi_exec(&c, 0, cdb_tur, 6, DIR_NONE, NULL, 0, 0);

		tap(sr.status != 0,
		    "SCSI command in a discovery session: refused (status %d, "
		    "rejected %d reason 0x%02x, %s)",
		    sr.status, sr.rejected, sr.reject_reason, io_name(sr.io));
	}
	conn_close(&c);
}

/* ---- scenarios: one attack or measurement (tests/func scripts) ---- */

/* --scenario chap-rate: how many wrong CHAP answers a second get an
 * answer, from --parallel connections at once */
static int sc_chap_rate(void)
{
	struct login_opts o = {.initiator = opt.iname,
			       .target = opt.chap,
			       .user = opt.user,
			       .secret = "wrong-secret-99"};
	int fds[2], answered = 0, refused = 0, other = 0;
	int64_t t0 = now_ms(), end = t0 + opt.seconds * 1000;
	double secs, rate;

	if (pipe(fds))
		return 1;
	for (int p = 0; p < opt.parallel; p++) {
		pid_t pid = fork();

		if (pid < 0)
			return 1;
		if (pid == 0) {
			int n[3] = {0, 0, 0};

			close(fds[0]);
			while (now_ms() < end) {
				struct login_res r;
				struct conn c;

				if (!conn_open(&c))
					break;
				r = login(&c, &o);
				conn_close(&c);
				n[r.status == 0x0201   ? 0
				  : r.status == 0x0301 ? 1
						       : 2]++;
			}
			if (write(fds[1], n, sizeof(n)) != sizeof(n))
				_exit(1);
			_exit(0);
		}
	}
	close(fds[1]);
	for (int p = 0; p < opt.parallel; p++) {
		int n[3];

		if (read(fds[0], n, sizeof(n)) == sizeof(n)) {
			answered += n[0];
			refused += n[1];
			other += n[2];
		}
	}
	while (wait(NULL) > 0)
		;
	secs = (double)(now_ms() - t0) / 1000.0;
	rate = answered / secs;
	printf("# chap-rate: %d wrong answers checked and refused (0x0201) "
	       "in %.1f s from %d connection%s at once: %.1f guesses/s; %d "
	       "refused unchecked (0x0301), %d other\n",
	       answered, secs, opt.parallel, opt.parallel == 1 ? "" : "s", rate,
	       refused, other);
	tap(answered > 0 && rate <= opt.max_rate,
	    "wrong CHAP answers: %.1f checked a second, at most %.1f", rate,
	    opt.max_rate);
	return nfailed ? 1 : 0;
}

/* --scenario chap-login: a right CHAP login, timed */
static int sc_chap_login(void)
{
	struct login_opts o = {.initiator = opt.iname,
			       .target = opt.chap,
			       .user = opt.user,
			       .secret = opt.secret};
	struct login_res r = {.ffp = false};
	struct conn c;
	int64_t t0 = now_ms(), ms;

	if (conn_open(&c)) {
		r = login(&c, &o);
		conn_close(&c);
	}
	ms = now_ms() - t0;
	tap(r.ffp && ms <= opt.max_ms,
	    "a right CHAP login from %s: full feature phase in %lld ms (at "
	    "most %d) %s",
	    opt.bind ? opt.bind : "the default address", (long long)ms,
	    opt.max_ms, r.why);
	return nfailed ? 1 : 0;
}

/* --scenario flood: READs that are not read back (RFC 7143 4.2.2.1) */
static int sc_flood(void)
{
	uint8_t cdb[10] = {0x28}, bhs[BHS_LEN];
	uint32_t last = 0, bs = 0, itt0, nsent = 0, done = 0, rej = 0;
	uint32_t rej06 = 0;
	int64_t deadline;
	struct conn c;

	if (!login_plain(&c, opt.plain) || !clear_ua(&c) ||
	    !read_capacity(&c, &last, &bs) || opt.edtl / bs > 65535 ||
	    opt.edtl / bs > last + 1) {
		tap(false, "flood: a session to %s that can read %u bytes",
		    opt.plain, opt.edtl);
		return 1;
	}
	put16(cdb + 7, (uint16_t)(opt.edtl / bs)); /* from LBA 0 */
	itt0 = c.itt;
	for (int i = 0; i < opt.count; i++) {
		if (!opt.immediate && sn_lt(c.maxcmdsn, c.cmdsn))
			break; /* the window is full: what is sent is out */
		build_cmd(&c, bhs, c.itt++, opt.lun, cdb, 10, DIR_READ,
			  opt.edtl);
		if (opt.immediate) {
			/* RFC 7143 4.2.2.1: the current CmdSN, not advanced */
			bhs[0] |= OP_IMMEDIATE;
			c.cmdsn--;
		}
		if (send_pdu(&c, bhs, NULL, 0, NULL, 0, 0))
			break;
		nsent++;
	}
	if (opt.half_close)
		shutdown(c.fd, SHUT_WR);
	printf("# flood: %u %s READs of %u bytes sent, not reading for %d "
	       "ms\n",
	       nsent, opt.immediate ? "immediate" : "windowed", opt.edtl,
	       opt.hold_ms);
	fflush(stdout);
	sleep_ms(opt.hold_ms);
	deadline = now_ms() + (opt.drain ? 120000 : opt.close_ms);
	while (done + rej < nsent) {
		struct pdu p;
		int64_t left = deadline - now_ms();
		int r = wait_pdu(&c, &p, left > 0 ? (int)left : 0);
		uint8_t op;

		if (r) {
			printf("# flood: %s after %u answers and %u rejects\n",
			       io_name(r), done, rej);
			if (!opt.drain) {
				tap(r == IO_CLOSED,
				    "flood: the target dropped the connection "
				    "that did not read (%s)",
				    io_name(r));
				conn_close(&c);
				return nfailed ? 1 : 0;
			}
			break;
		}
		op = p.bhs[0] & 0x3f;
		if (op == OP_REJECT && p.dlen >= BHS_LEN &&
		    get32(p.data + 16) - itt0 < nsent) {
			rej++;
			rej06 += p.bhs[2] == 0x06;
		} else if ((op == OP_SCSI_RSP ||
			    (op == OP_DATA_IN && (p.bhs[1] & 0x01))) &&
			   get32(p.bhs + 16) - itt0 < nsent) {
			done++;
		}
		pdu_free(&p);
	}
	conn_close(&c);
	printf("# flood: %u commands answered, %u rejected (%u with reason "
	       "0x06, too many immediate commands)\n",
	       done, rej, rej06);
	if (!opt.drain) {
		tap(false, "flood: the target kept a connection that did not "
			   "read");
		return 1;
	}
	tap(done + rej == nsent, "flood: each of the %u commands answered",
	    nsent);
	if (opt.immediate && nsent > 16)
		tap(rej06 > 0 && done >= 1,
		    "flood: immediate commands over the limit rejected with "
		    "reason 0x06 (%u of %u), at least one run (%u)",
		    rej06, nsent, done);
	return nfailed ? 1 : 0;
}

/* one login on a connection of its own */
static struct login_res login_once(const struct login_opts *o)
{
	struct login_res r = {.status = -1};
	struct conn c;

	if (conn_open(&c)) {
		r = login(&c, o);
		conn_close(&c);
	}
	return r;
}

static int run_scenario(void)
{
	if (!strcmp(opt.scenario, "chap-rate"))
		return sc_chap_rate();
	if (!strcmp(opt.scenario, "chap-login"))
		return sc_chap_login();
	if (!strcmp(opt.scenario, "flood"))
		return sc_flood();
	if (!strcmp(opt.scenario, "chap-refused")) {
		struct login_opts o = {.initiator = opt.iname,
				       .target = opt.chap,
				       .user = opt.user,
				       .secret = opt.secret};
		struct login_res r = login_once(&o);

		tap(!r.ffp && !r.got_challenge && r.status >= 0x0300 &&
			    r.status < 0x0400,
		    "CHAP: refused with a target error before any challenge "
		    "(status 0x%04x, challenge %d: %s)",
		    r.status, r.got_challenge, r.why);
		return nfailed ? 1 : 0;
	}
	if (!strcmp(opt.scenario, "refused")) {
		/* a login to --plain must be refused with an initiator
		 * error, class 02h (an ib_srpt target's name:
		 * tests/func/ctl.sh) */
		struct login_opts o = {.initiator = opt.iname,
				       .target = opt.plain};
		struct login_res r = login_once(&o);

		tap(!r.ffp && r.status >= 0x0200 && r.status < 0x0300,
		    "%s: login refused with status 0x%04x (%s)", opt.plain,
		    r.status, r.why);
		return nfailed ? 1 : 0;
	}
	if (!strcmp(opt.scenario, "serves")) {
		tap(target_serves(opt.plain), "%s: login and INQUIRY",
		    opt.plain);
		return nfailed ? 1 : 0;
	}
	fprintf(stderr, "iscsi_neg: unknown scenario '%s'\n", opt.scenario);
	return 2;
}

static void on_alarm(int sig)
{
	static const char msg[] = "not ok - iscsi_neg: global timeout, "
				  "the target stopped answering\n";

	(void)sig;
	if (write(1, msg, sizeof(msg) - 1) < 0)
		_exit(1);
	_exit(1);
}

static void usage(void) __attribute__((noreturn));

static int atoi_pos(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*end || v < 1 || v > 100000000)
		usage();
	return (int)v;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: iscsi_neg [--host H] [--port P] [--plain IQN] "
		"[--chap IQN] [--mutual IQN]\n"
		"                 [--user U] [--secret S] [--target-user U] "
		"[--target-secret S] [--lun N]\n"
		"                 [--bind ADDR] [--scenario chap-rate|"
		"chap-login|chap-refused|flood|serves|refused]\n"
		"                 [--seconds S] [--parallel P] [--max-rate R] "
		"[--max-ms M]\n"
		"                 [--count N] [--edtl E] [--immediate] "
		"[--hold-ms H] [--drain] [--close-ms C]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"host", required_argument, NULL, 'h'},
		{"port", required_argument, NULL, 'p'},
		{"plain", required_argument, NULL, 'P'},
		{"chap", required_argument, NULL, 'C'},
		{"mutual", required_argument, NULL, 'M'},
		{"user", required_argument, NULL, 'u'},
		{"secret", required_argument, NULL, 's'},
		{"target-user", required_argument, NULL, 'U'},
		{"target-secret", required_argument, NULL, 'S'},
		{"initiator", required_argument, NULL, 'i'},
		{"lun", required_argument, NULL, 'l'},
		{"bind", required_argument, NULL, 'b'},
		{"scenario", required_argument, NULL, 'x'},
		{"seconds", required_argument, NULL, 1},
		{"parallel", required_argument, NULL, 2},
		{"max-rate", required_argument, NULL, 3},
		{"max-ms", required_argument, NULL, 4},
		{"count", required_argument, NULL, 5},
		{"edtl", required_argument, NULL, 6},
		{"immediate", no_argument, NULL, 7},
		{"hold-ms", required_argument, NULL, 8},
		{"drain", no_argument, NULL, 9},
		{"close-ms", required_argument, NULL, 10},
		{"half-close", no_argument, NULL, 11},
		{NULL, 0, NULL, 0},
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'h':
			opt.host = optarg;
			break;
		case 'p':
			opt.port = optarg;
			break;
		case 'P':
			opt.plain = optarg;
			break;
		case 'C':
			opt.chap = optarg;
			break;
		case 'M':
			opt.mutual = optarg;
			break;
		case 'u':
			opt.user = optarg;
			break;
		case 's':
			opt.secret = optarg;
			break;
		case 'U':
			opt.tuser = optarg;
			break;
		case 'S':
			opt.tsecret = optarg;
			break;
		case 'i':
			opt.iname = optarg;
			break;
		case 'l':
			opt.lun = (int)strtol(optarg, NULL, 10);
			if (opt.lun < 0 || opt.lun > 255)
				usage();
			break;
		case 'b':
			opt.bind = optarg;
			break;
		case 'x':
			opt.scenario = optarg;
			break;
		case 1:
			opt.seconds = atoi_pos(optarg);
			break;
		case 2:
			opt.parallel = atoi_pos(optarg);
			break;
		case 3:
			opt.max_rate = strtod(optarg, NULL);
			break;
		case 4:
			opt.max_ms = atoi_pos(optarg);
			break;
		case 5:
			opt.count = atoi_pos(optarg);
			break;
		case 6:
			opt.edtl = (uint32_t)atoi_pos(optarg);
			break;
		case 7:
			opt.immediate = true;
			break;
		case 8:
			opt.hold_ms = atoi_pos(optarg);
			break;
		case 9:
			opt.drain = true;
			break;
		case 10:
			opt.close_ms = atoi_pos(optarg);
			break;
		case 11:
			opt.half_close = true;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	signal(SIGPIPE, SIG_IGN);
	signal(SIGALRM, on_alarm);
	alarm(240);
	rng_state ^= (uint32_t)getpid();
	crc32c_init();
	if (opt.scenario) {
		int r;

		alarm(0); /* the script bounds a scenario */
		r = run_scenario();
		printf("1..%d\n", ntests);
		return r;
	}

	t_selftests();
	t_plain_basics();
	if (!disk_bs) {
		tap(false, "no working session to the plain target: the other "
			   "cases cannot run");
		printf("1..%d\n", ntests);
		return 1;
	}
	t_bad_opcodes();
	t_oversized();
	t_ahs_garbage();
	t_login_in_ffp();
	t_cmdsn_burst();
	t_logout();
	t_bad_logins();
	t_chap();
	t_bad_names();
	t_digests();
	t_bad_data_out();
	t_dup_cmdsn();
	t_snack_tmf_text();
	t_session_rules();
	t_discovery();
	t_garbage();
	t_truncated();
	t_many_drops();
	sleep_ms(200);
	tap(target_serves(opt.plain), "after all that, a fresh login and "
				      "INQUIRY work");
	printf("1..%d\n", ntests);
	if (nfailed)
		printf("# %d of %d failed\n", nfailed, ntests);
	return nfailed ? 1 : 0;
}
