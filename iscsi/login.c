/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * login.c - the login phase (RFC 7143 6.3): stage transitions, security
 * negotiation (AuthMethod None / CHAP with MD5, one-way and mutual; 12.1),
 * operational negotiation (param.c), login status codes (11.13.5), and the
 * move to full feature phase (TSIH, reinstatement, nexus).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "iscsi/iscsi_int.h"
#include "tandem/iscsi.h"
#include "lib/escape.h"
#include "lib/log.h"

#define LOGIN_MAX_KEYS 512
#define CHAP_CHALLENGE_LEN 16 /* RFC 7143 12.1.3: at least 16 bytes */
#define CHAP_MD5_LEN 16
#define CHAP_C_MAX 1024 /* RFC 7143 12.1.3: binary value limit */
#define CHAP_ALG_MD5 5	/* RFC 7143 12.1.3, RFC 1994 */

enum auth_method { AUTH_UNSET = 0, AUTH_NONE, AUTH_CHAP };
enum chap_state { CHAP_IDLE = 0, CHAP_WAIT_A, CHAP_WAIT_R, CHAP_DONE };

struct tdm__iscsi_login {
	bool started;
	bool failed;
	bool waiting;  /* for the reinstated session to go */
	bool resolved; /* target looked up */
	bool mrdsl_sent;
	bool tpgt_sent;
	bool auth_required;
	bool authenticated;
	uint8_t stage; /* current stage, RFC 7143 11.12.3 */
	uint8_t auth;
	uint8_t chap;
	uint8_t chap_id;
	uint8_t chal[CHAP_CHALLENGE_LEN];
	uint32_t itt;
	uint16_t tsih_req;
	uint8_t *req; /* text of PDUs with the C bit */
	uint32_t req_len;
	const struct tdm_conf_target *tgt;
	uint8_t final_flags;
	struct tdm__iscsi_text final_text;
	char why[320]; /* a reason quoting what the peer sent */

	/* CHAP answers wait their turn (throttle.c): the PDU held until
	 * then, or the failure to send once its delay is over */
	bool chap_checked; /* the CHAP response had its turn */
	bool chap_wrong;   /* ... and did not verify */
	bool fail_later;
	uint16_t fail_status;
	struct tdm_timer timer;
	uint8_t held_bhs[ISCSI_BHS_LEN];
	uint8_t *held;
	uint32_t held_len;
};

/*
 * Challenges, CHAP identifiers and the initial StatSN come from the
 * kernel's random pool, never from anything else: 0 or -errno (EAGAIN
 * while the pool is not initialised yet, early at boot).
 */
static int random_bytes(void *buf, size_t len)
{
	uint8_t *p = buf;
	size_t got = 0;

	while (got < len) {
		ssize_t n = getrandom(p + got, len - got, GRND_NONBLOCK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		got += (size_t)n;
	}
	return 0;
}

void tdm__iscsi_log_answer(const struct tdm__iscsi_conn *c, const char *key,
			   const char *val, const char *answer)
{
	char k[TDM_ESCAPE_LEN], v[TDM_ESCAPE_LEN];

	if (strcmp(answer, "NotUnderstood") && strcmp(answer, "Reject") &&
	    strcmp(answer, "Irrelevant"))
		return;
	log_debug("iscsi: %s: %s=%s answered %s", c->peer_str,
		  tdm_escape(key, k, sizeof(k)), tdm_escape(val, v, sizeof(v)),
		  answer);
}

/* A reason that quotes a value the peer sent, escaped (lib/escape.h). */
static const char *why_quoting(struct tdm__iscsi_login *L, const char *what,
			       const char *val)
{
	char esc[TDM_ESCAPE_LEN];

	snprintf(L->why, sizeof(L->why), "%s '%s'", what,
		 tdm_escape(val, esc, sizeof(esc)));
	return L->why;
}

void tdm__iscsi_login_free(struct tdm__iscsi_conn *c)
{
	struct tdm__iscsi_login *L = c->login;

	if (L) {
		if (c->loop)
			tdm_timer_stop(c->loop, &L->timer);
		free(L->held);
		free(L->req);
		tdm__iscsi_text_free(&L->final_text);
		free(L);
		c->login = NULL;
	}
	if (c->conf) {
		tdm_conf_release(c->conf);
		c->conf = NULL;
	}
}

static void send_login_rsp(struct tdm__iscsi_conn *c, uint8_t flags,
			   uint16_t status, const struct tdm__iscsi_text *t,
			   uint8_t txflags)
{
	struct tdm__iscsi_login *L = c->login;
	struct tdm__iscsi_txpdu *pdu = tdm__iscsi_pdu_alloc(c);

	if (!pdu) {
		tdm__iscsi_conn_close(c, "out of memory");
		return;
	}
	/* RFC 7143 11.13 */
	pdu->hdr[0] = ISCSI_OP_LOGIN_RSP;
	pdu->hdr[1] = flags;
	pdu->hdr[2] = ISCSI_VERSION; /* VersionMax */
	pdu->hdr[3] = ISCSI_VERSION; /* VersionActive */
	memcpy(pdu->hdr + 8, c->isid, 6);
	tdm_put_be16(pdu->hdr + 14, (txflags & ISCSI_TX_LOGIN_DONE)
					    ? c->tsih
					    : (L ? L->tsih_req : 0));
	tdm_put_be32(pdu->hdr + 16, L ? L->itt : 0);
	tdm__iscsi_pdu_set_sn(c, pdu, true);
	pdu->hdr[36] = (uint8_t)(status >> 8);
	pdu->hdr[37] = (uint8_t)status;
	if (t && t->len &&
	    tdm__iscsi_pdu_set_data_copy(c, pdu, t->buf, (uint32_t)t->len)) {
		tdm__iscsi_pdu_free(c, pdu);
		tdm__iscsi_conn_close(c, "out of memory");
		return;
	}
	pdu->flags = txflags;
	tdm__iscsi_pdu_queue(c, pdu);
	tdm__iscsi_conn_kick(c);
}

static void login_fail(struct tdm__iscsi_conn *c, uint16_t status,
		       const char *why)
{
	struct tdm__iscsi_login *L = c->login;

	if (L) {
		if (L->failed)
			return;
		L->failed = true;
	}
	/* any peer can make these: rate limited (names are valid iSCSI
	 * names by now, what else the peer sent is quoted escaped) */
	log_warnx_rl("iscsi: %s: login of %s to %s refused (0x%04x): %s",
		     c->peer_str, c->initiator[0] ? c->initiator : "?",
		     c->discovery ? "discovery"
				  : (c->target[0] ? c->target : "?"),
		     status, why);
	/* RFC 7143 11.13.5: a failed login ends with the connection */
	send_login_rsp(c, L ? (uint8_t)(L->stage << 2) : 0, status, NULL,
		       ISCSI_TX_CLOSE);
}

void tdm__iscsi_login_refuse(struct tdm__iscsi_conn *c, const uint8_t *bhs,
			     uint16_t status, const char *why)
{
	struct tdm__iscsi_login *L = c->login;

	if (!L) {
		L = calloc(1, sizeof(*L));
		if (!L) {
			tdm__iscsi_conn_close(c, "out of memory");
			return;
		}
		c->login = L;
		memcpy(c->isid, bhs + 8, 6);
		L->tsih_req = tdm_get_be16(bhs + 14);
		L->stage = ISCSI_LOGIN_CSG(bhs[1]);
	}
	if (!L->started) {
		L->started = true;
		c->exp_cmdsn = tdm_get_be32(bhs + 24);
		c->max_cmdsn = c->exp_cmdsn - 1;
		/* any StatSN will do: not a secret (0 without a pool) */
		random_bytes(&c->statsn, sizeof(c->statsn));
	}
	L->itt = tdm_get_be32(bhs + 16);
	login_fail(c, status, why);
}

void tdm__iscsi_login_timeout(struct tdm__iscsi_conn *c)
{
	tdm__iscsi_conn_close(c, "login timed out");
}

/* ---- access ---- */

const struct tdm_conf_target *tdm__iscsi_find_target(const struct tdm_conf *c,
						     const char *name)
{
	const struct tdm_conf_target *t = tdm_conf_find_target(c, name);

	return t && t->driver == TDM_DRV_ISCSI ? t : NULL;
}

bool tdm__iscsi_portal_allowed(const struct tdm_conf_target *t,
			       const char *local_ip)
{
	if (!t->nallowed_portals)
		return true;
	for (size_t i = 0; i < t->nallowed_portals; i++)
		if (tdm_wildcard_match(t->allowed_portals[i], local_ip))
			return true;
	return false;
}

static bool group_has(const struct tdm_conf_group *g, const char *ini)
{
	for (size_t i = 0; i < g->ninitiators; i++)
		if (tdm_wildcard_match(g->initiators[i], ini))
			return true;
	return false;
}

static const struct tdm_conf_user *find_user(const struct tdm_conf_user *u,
					     size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(u[i].name, name))
			return &u[i];
	return NULL;
}

/* IncomingUser of the discovery session, the initiator's groups, or the
 * target. */
static bool auth_needed(const struct tdm__iscsi_conn *c,
			const struct tdm_conf_target *t)
{
	if (c->discovery)
		return c->conf->ndiscovery_in_users > 0;
	if (t->nin_users)
		return true;
	for (size_t i = 0; i < t->ngroups; i++)
		if (t->groups[i].nin_users &&
		    group_has(&t->groups[i], c->initiator))
			return true;
	return false;
}

static const struct tdm_conf_user *
lookup_in_user(const struct tdm__iscsi_conn *c, const struct tdm_conf_target *t,
	       const char *name)
{
	const struct tdm_conf_user *u;

	if (c->discovery)
		return find_user(c->conf->discovery_in_users,
				 c->conf->ndiscovery_in_users, name);
	for (size_t i = 0; i < t->ngroups; i++) {
		if (!t->groups[i].nin_users ||
		    !group_has(&t->groups[i], c->initiator))
			continue;
		u = find_user(t->groups[i].in_users, t->groups[i].nin_users,
			      name);
		if (u)
			return u;
	}
	return find_user(t->in_users, t->nin_users, name);
}

static const struct tdm_conf_user *
lookup_out_user(const struct tdm__iscsi_conn *c,
		const struct tdm_conf_target *t)
{
	if (c->discovery)
		return c->conf->has_discovery_out_user
			       ? &c->conf->discovery_out_user
			       : NULL;
	return t->has_out_user ? &t->out_user : NULL;
}

/* ---- security stage ---- */

/* RFC 7143 6.2.1: first value of the offered list we accept */
static bool list_has(const char *list, const char *want)
{
	size_t wl = strlen(want);
	const char *p = list;

	while (*p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len == wl && !strncmp(p, want, wl))
			return true;
		if (!end)
			break;
		p = end + 1;
	}
	return false;
}

static const char *list_first_of(const char *list, const char *a, const char *b)
{
	const char *p = list;

	while (*p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (a && len == strlen(a) && !strncmp(p, a, len))
			return a;
		if (b && len == strlen(b) && !strncmp(p, b, len))
			return b;
		if (!end)
			break;
		p = end + 1;
	}
	return NULL;
}

static void chap_response(uint8_t id, const char *secret, const uint8_t *chal,
			  size_t chal_len, uint8_t out[CHAP_MD5_LEN])
{
	/* RFC 1994 4.1: MD5(Identifier || secret || Challenge) */
	struct tdm__md5 m;

	tdm__md5_init(&m);
	tdm__md5_update(&m, &id, 1);
	tdm__md5_update(&m, secret, strlen(secret));
	tdm__md5_update(&m, chal, chal_len);
	tdm__md5_final(&m, out);
}

struct sec_keys {
	const char *auth_method;
	const char *chap_a;
	const char *chap_n;
	const char *chap_r;
	const char *chap_i;
	const char *chap_c;
};

/* Returns 0, or a login status to fail with. */
static uint16_t security_step(struct tdm__iscsi_conn *c,
			      const struct sec_keys *k,
			      struct tdm__iscsi_text *rsp, const char **why)
{
	struct tdm__iscsi_login *L = c->login;

	if (k->auth_method) {
		const char *pick;

		if (L->auth != AUTH_UNSET) {
			*why = "AuthMethod offered twice";
			return ISCSI_LOGIN_INITIATOR_ERROR;
		}
		pick = L->auth_required
			       ? list_first_of(k->auth_method, "CHAP", NULL)
			       : list_first_of(k->auth_method, "None", NULL);
		if (!pick) {
			tdm__iscsi_text_add(rsp, "AuthMethod", "Reject");
			*why = L->auth_required ? "CHAP required"
						: "no acceptable AuthMethod";
			return ISCSI_LOGIN_AUTH_FAILED;
		}
		tdm__iscsi_text_add(rsp, "AuthMethod", "%s", pick);
		if (!strcmp(pick, "None")) {
			L->auth = AUTH_NONE;
			L->authenticated = true;
		} else {
			L->auth = AUTH_CHAP;
			L->chap = CHAP_WAIT_A;
		}
	}
	if (k->chap_a) {
		char hex[2 + 2 * CHAP_CHALLENGE_LEN + 1];
		bool ok = false;
		int e;

		if (L->chap != CHAP_WAIT_A) {
			*why = "CHAP_A out of sequence";
			return ISCSI_LOGIN_AUTH_FAILED;
		}
		/* RFC 7143 12.1.3: a list of algorithms; we do MD5 only */
		ok = list_has(k->chap_a, "5");
		if (!ok) {
			tdm__iscsi_text_add(rsp, "CHAP_A", "Reject");
			*why = "no supported CHAP_A";
			return ISCSI_LOGIN_AUTH_FAILED;
		}
		e = random_bytes(&L->chap_id, 1);
		if (!e)
			e = random_bytes(L->chal, sizeof(L->chal));
		if (e) {
			/* no challenge without the kernel's random pool: a
			 * guessable one would let a recorded answer replay */
			log_warnx_rl("iscsi: getrandom: %s", strerror(-e));
			*why = "no random bytes for a CHAP challenge";
			return e == -EAGAIN ? ISCSI_LOGIN_SERVICE_UNAVAILABLE
					    : ISCSI_LOGIN_TARGET_ERROR;
		}
		tdm__iscsi_hex_encode(L->chal, sizeof(L->chal), hex,
				      sizeof(hex));
		tdm__iscsi_text_add(rsp, "CHAP_A", "%d", CHAP_ALG_MD5);
		tdm__iscsi_text_add(rsp, "CHAP_I", "%u", L->chap_id);
		tdm__iscsi_text_add(rsp, "CHAP_C", "%s", hex);
		L->chap = CHAP_WAIT_R;
	}
	if (k->chap_n || k->chap_r) {
		const struct tdm_conf_user *u;
		uint8_t resp[64], want[CHAP_MD5_LEN];
		size_t rlen = 0;

		if (L->chap != CHAP_WAIT_R || !k->chap_n || !k->chap_r) {
			*why = "CHAP_N/CHAP_R out of sequence";
			return ISCSI_LOGIN_AUTH_FAILED;
		}
		if (tdm__iscsi_bin_decode(k->chap_r, resp, sizeof(resp),
					  &rlen) ||
		    rlen != CHAP_MD5_LEN) {
			*why = "malformed CHAP_R";
			return ISCSI_LOGIN_AUTH_FAILED;
		}
		/* a guess at a secret: the failure waits (throttle.c) */
		u = lookup_in_user(c, L->tgt, k->chap_n);
		if (!u) {
			L->chap_wrong = true;
			*why = why_quoting(L, "unknown CHAP user", k->chap_n);
			return ISCSI_LOGIN_AUTH_FAILED;
		}
		chap_response(L->chap_id, u->secret, L->chal, sizeof(L->chal),
			      want);
		if (memcmp(want, resp, CHAP_MD5_LEN)) {
			L->chap_wrong = true;
			*why = why_quoting(L, "wrong CHAP response of user",
					   k->chap_n);
			return ISCSI_LOGIN_AUTH_FAILED;
		}
		if (k->chap_i || k->chap_c) {
			/* mutual CHAP: answer the initiator's challenge */
			const struct tdm_conf_user *out =
				lookup_out_user(c, L->tgt);
			uint8_t chal[CHAP_C_MAX], r[CHAP_MD5_LEN];
			size_t clen = 0;
			uint64_t id;
			char hex[2 + 2 * CHAP_MD5_LEN + 1];

			if (!k->chap_i || !k->chap_c || !out) {
				*why = !out ? "mutual CHAP without OutgoingUser"
					    : "incomplete mutual CHAP";
				return ISCSI_LOGIN_AUTH_FAILED;
			}
			if (tdm__iscsi_parse_num(k->chap_i, &id) || id > 255 ||
			    tdm__iscsi_bin_decode(k->chap_c, chal, sizeof(chal),
						  &clen) ||
			    clen == 0) {
				*why = "malformed CHAP_I/CHAP_C";
				return ISCSI_LOGIN_AUTH_FAILED;
			}
			/* RFC 7143 12.1.3: a reflected challenge is an
			 * attack */
			if (clen == sizeof(L->chal) &&
			    !memcmp(chal, L->chal, clen)) {
				*why = "initiator reflected our challenge";
				return ISCSI_LOGIN_AUTH_FAILED;
			}
			chap_response((uint8_t)id, out->secret, chal, clen, r);
			tdm__iscsi_hex_encode(r, sizeof(r), hex, sizeof(hex));
			tdm__iscsi_text_add(rsp, "CHAP_N", "%s", out->name);
			tdm__iscsi_text_add(rsp, "CHAP_R", "%s", hex);
		}
		L->chap = CHAP_DONE;
		L->authenticated = true;
	} else if (k->chap_i || k->chap_c) {
		*why = "CHAP_I/CHAP_C without CHAP_R";
		return ISCSI_LOGIN_AUTH_FAILED;
	}
	return 0;
}

/* ---- target resolution (first PDU) ---- */

static uint16_t resolve(struct tdm__iscsi_conn *c, const char **why)
{
	struct tdm__iscsi_login *L = c->login;
	const struct tdm_conf_target *t = NULL;

	if (!c->initiator[0]) {
		*why = "no InitiatorName";
		return ISCSI_LOGIN_MISSING_PARAMETER;
	}
	c->conf = tdm_conf_current();
	if (!c->conf) {
		*why = "no configuration";
		return ISCSI_LOGIN_SERVICE_UNAVAILABLE;
	}
	tdm__iscsi_prefs_default(&c->prefs);
	tdm__iscsi_prefs_apply(&c->prefs, &c->conf->params);
	if (!c->discovery) {
		if (!c->target[0]) {
			*why = "no TargetName";
			return ISCSI_LOGIN_MISSING_PARAMETER;
		}
		t = tdm__iscsi_find_target(c->conf, c->target);
		if (!t || !t->enabled || !c->conf->iscsi_enabled) {
			*why = !t ? "no such target" : "target disabled";
			return ISCSI_LOGIN_TARGET_NOT_FOUND;
		}
		if (!tdm_target_allows(t, c->initiator)) {
			*why = "initiator not allowed";
			return ISCSI_LOGIN_AUTHORIZATION_FAILED;
		}
		if (!tdm__iscsi_portal_allowed(t, c->local_ip)) {
			*why = "portal not allowed for the target";
			return ISCSI_LOGIN_AUTHORIZATION_FAILED;
		}
		/* the target portal group tag is the target port's relative
		 * id: the SCSI target port name "IQN,t,0xTPGT" then differs
		 * between heads exporting the same IQN (RFC 7143 13.9) */
		c->tpgt = tdm_target_rel_port(t->name);
		if (!c->tpgt)
			c->tpgt = 1;
		tdm__iscsi_prefs_apply(&c->prefs, &t->params);
	}
	L->tgt = t;
	L->auth_required = auth_needed(c, t);
	L->resolved = true;
	return 0;
}

/* ---- full feature phase ---- */

static void login_finish(struct tdm__iscsi_conn *c)
{
	struct tdm__iscsi_login *L = c->login;
	char isid[13];

	L->waiting = false;
	tdm__iscsi_hex_encode(c->isid, 6, isid, sizeof(isid));
	snprintf(c->desc, sizeof(c->desc),
		 "iscsi %s -> %s cid %u isid %s tsih %u hd %s dd %s mrdsl %u",
		 c->peer_str, c->local_str, c->cid, isid + 2, c->tsih,
		 c->p.header_digest ? "CRC32C" : "None",
		 c->p.data_digest ? "CRC32C" : "None", c->p.max_xmit_dsl);
	if (!c->discovery) {
		struct tdm_nexus_id id;
		int err = 0;

		memset(&id, 0, sizeof(id));
		snprintf(id.initiator, sizeof(id.initiator), "%s",
			 c->initiator);
		snprintf(id.target, sizeof(id.target), "%s", c->target);
		c->nexus =
			tdm_nexus_create(&tdm_iscsi_ops, &id, c->loop, c, &err);
		if (!c->nexus) {
			login_fail(c,
				   err == -ENOENT ? ISCSI_LOGIN_TARGET_REMOVED
						  : ISCSI_LOGIN_TARGET_ERROR,
				   "cannot create the I_T nexus");
			return;
		}
	}
	/* discovery needs no account by default: anyone may open any
	 * number of them, so they are news at debug level only */
	if (c->discovery)
		log_debug("iscsi: %s: %s logged in to discovery (tsih %u)",
			  c->peer_str, c->initiator, c->tsih);
	else
		log_info("iscsi: %s: %s logged in to %s (tsih %u)", c->peer_str,
			 c->initiator, c->target, c->tsih);
	send_login_rsp(c, L->final_flags, ISCSI_LOGIN_OK, &L->final_text,
		       ISCSI_TX_LOGIN_DONE);
	tdm__iscsi_login_free(c);
	tdm__iscsi_conn_enter_ffp(c);
}

void tdm__iscsi_login_reinstated(struct tdm__iscsi_conn *c)
{
	struct tdm__iscsi_login *L = c->login;

	if (!L || !L->waiting || L->failed)
		return;
	login_finish(c);
}

static void to_ffp(struct tdm__iscsi_conn *c, uint8_t flags,
		   struct tdm__iscsi_text *rsp)
{
	struct tdm__iscsi_login *L = c->login;
	uint16_t status = 0;
	int r;

	/* the negotiated values take effect now (RFC 7143 6.3) */
	c->p.max_recv_dsl = c->prefs.max_recv_dsl;
	if (c->p.max_xmit_dsl > c->prefs.max_xmit_dsl)
		c->p.max_xmit_dsl = c->prefs.max_xmit_dsl;
	if (c->p.first_burst > c->p.max_burst)
		c->p.first_burst = c->p.max_burst; /* 13.14 */
	r = tdm__iscsi_session_publish(c, L->tsih_req, &status);
	if (r < 0) {
		login_fail(c, status,
			   status == ISCSI_LOGIN_NO_SESSION
				   ? "no session with that TSIH"
				   : "too many connections");
		return;
	}
	L->final_flags = flags;
	L->final_text = *rsp;
	memset(rsp, 0, sizeof(*rsp));
	if (r > 0) {
		/* RFC 7143 6.3.5: the old session goes first */
		L->waiting = true;
		return;
	}
	login_finish(c);
}

/* ---- CHAP answers that wait their turn (throttle.c) ---- */

static void login_timer_cb(struct tdm_timer *t)
{
	struct tdm__iscsi_conn *c = t->arg;
	struct tdm__iscsi_login *L = c->login;
	uint8_t bhs[ISCSI_BHS_LEN], *data;

	if (c->closed || !L)
		return;
	tdm__iscsi_conn_get(c);
	if (L->fail_later) {
		L->fail_later = false;
		login_fail(c, L->fail_status, L->why);
	} else if (L->held) {
		/* its turn came: the held PDU goes through as it arrived */
		memcpy(bhs, L->held_bhs, sizeof(bhs));
		data = L->held;
		L->held = NULL;
		tdm__iscsi_login_pdu(c, bhs, data, L->held_len);
		free(data);
	}
	L = c->login;
	if (!c->closed && !(L && (L->fail_later || L->held)))
		tdm__iscsi_conn_hold_rx(c, false);
	tdm__iscsi_conn_put(c);
}

/* Nothing more is read from the connection until the timer fires. */
static void login_wait(struct tdm__iscsi_conn *c, uint64_t ns)
{
	struct tdm__iscsi_login *L = c->login;

	L->timer.cb = login_timer_cb;
	L->timer.arg = c;
	tdm__iscsi_conn_hold_rx(c, true);
	tdm_timer_start(c->loop, &L->timer, (ns + 999999) / 1000000);
}

/*
 * The PDU that should carry the CHAP response: checked now, or held until
 * its source's turn (1), or refused unchecked when that source has too
 * many waiting (1).
 */
static int chap_turn(struct tdm__iscsi_conn *c, const uint8_t *bhs,
		     const uint8_t *data, uint32_t len)
{
	struct tdm__iscsi_login *L = c->login;
	int64_t wait;

	if (L->chap != CHAP_WAIT_R || L->chap_checked ||
	    (bhs[1] & ISCSI_LOGIN_CONTINUE))
		return 0;
	L->chap_checked = true;
	wait = tdm__iscsi_auth_admit(&c->peer);
	if (wait == 0)
		return 0;
	if (wait < 0) {
		L->itt = tdm_get_be32(bhs + 16);
		login_fail(c, ISCSI_LOGIN_SERVICE_UNAVAILABLE,
			   "too many failed CHAP logins from this address, "
			   "try later");
		return 1;
	}
	L->held = malloc((size_t)len + 1);
	if (!L->held) {
		tdm__iscsi_conn_close(c, "out of memory");
		return 1;
	}
	memcpy(L->held_bhs, bhs, ISCSI_BHS_LEN);
	memcpy(L->held, data, len);
	L->held[len] = '\0';
	L->held_len = len;
	login_wait(c, (uint64_t)wait);
	return 1;
}

/* ---- the login request ---- */

static bool is_sec_key(const char *k)
{
	return !strcmp(k, "AuthMethod") || !strncmp(k, "CHAP_", 5);
}

int tdm__iscsi_login_pdu(struct tdm__iscsi_conn *c, const uint8_t *bhs,
			 const uint8_t *data, uint32_t len)
{
	struct tdm__iscsi_login *L = c->login;
	uint8_t flags = bhs[1];
	bool transit = flags & ISCSI_LOGIN_TRANSIT;
	bool cont = flags & ISCSI_LOGIN_CONTINUE;
	uint8_t csg = ISCSI_LOGIN_CSG(flags), nsg = ISCSI_LOGIN_NSG(flags);
	struct tdm__iscsi_kv *kv = NULL;
	struct tdm__iscsi_text rsp = {0};
	struct sec_keys sk = {0};
	const char *why = "";
	uint16_t status = 0;
	uint8_t rflags;
	int n;

	if (!L) {
		L = calloc(1, sizeof(*L));
		if (!L) {
			tdm__iscsi_conn_close(c, "out of memory");
			return -ENOMEM;
		}
		c->login = L;
	}
	if (L->failed || L->waiting || L->fail_later || L->held)
		return 0;
	if (chap_turn(c, bhs, data, len))
		return 0;

	if (!L->started) {
		L->started = true;
		L->itt = tdm_get_be32(bhs + 16);
		memcpy(c->isid, bhs + 8, 6);
		L->tsih_req = tdm_get_be16(bhs + 14);
		c->cid = tdm_get_be16(bhs + 20);
		c->exp_cmdsn = tdm_get_be32(bhs + 24);
		c->max_cmdsn = c->exp_cmdsn - 1;
		random_bytes(&c->statsn, sizeof(c->statsn)); /* not a secret */
		L->stage = csg;
		/* RFC 7143 11.12.4: we speak version 0x00 only */
		if (bhs[3] > ISCSI_VERSION) {
			login_fail(c, ISCSI_LOGIN_UNSUPPORTED_VERSION,
				   "unsupported version");
			return 0;
		}
		if (csg != ISCSI_STAGE_SECURITY &&
		    csg != ISCSI_STAGE_OPERATIONAL) {
			login_fail(c, ISCSI_LOGIN_INITIATOR_ERROR,
				   "login starts in a bad stage");
			return 0;
		}
	} else {
		L->itt = tdm_get_be32(bhs + 16);
		c->exp_cmdsn = tdm_get_be32(bhs + 24);
		if (memcmp(c->isid, bhs + 8, 6) ||
		    tdm_get_be16(bhs + 14) != L->tsih_req ||
		    tdm_get_be16(bhs + 20) != c->cid) {
			login_fail(c, ISCSI_LOGIN_INITIATOR_ERROR,
				   "ISID, TSIH or CID changed during login");
			return 0;
		}
		if (csg != L->stage) {
			login_fail(c, ISCSI_LOGIN_INITIATOR_ERROR,
				   "unexpected login stage");
			return 0;
		}
	}
	/* RFC 7143 11.12.2: T and C together are an error; the next stage
	 * must be later and not the reserved 2 */
	if (transit && cont) {
		login_fail(c, ISCSI_LOGIN_INITIATOR_ERROR, "T and C both set");
		return 0;
	}
	if (transit && (nsg <= csg || nsg == 2)) {
		login_fail(c, ISCSI_LOGIN_INITIATOR_ERROR,
			   "bad stage transition");
		return 0;
	}

	/* collect text split over several PDUs (C bit) */
	if (cont || L->req) {
		uint8_t *nb;

		if ((size_t)L->req_len + len > ISCSI_TEXT_MAX) {
			login_fail(c, ISCSI_LOGIN_INITIATOR_ERROR,
				   "login text too long");
			return 0;
		}
		nb = realloc(L->req, L->req_len + len + 1);
		if (!nb) {
			tdm__iscsi_conn_close(c, "out of memory");
			return -ENOMEM;
		}
		memcpy(nb + L->req_len, data, len);
		L->req = nb;
		L->req_len += len;
		L->req[L->req_len] = '\0';
		if (cont) {
			/* RFC 7143 11.13.1: an empty answer asks for more */
			send_login_rsp(c, (uint8_t)(csg << 2), 0, NULL, 0);
			return 0;
		}
		data = L->req;
		len = L->req_len;
	}

	kv = calloc(LOGIN_MAX_KEYS, sizeof(*kv));
	if (!kv) {
		tdm__iscsi_conn_close(c, "out of memory");
		return -ENOMEM;
	}
	n = tdm__iscsi_text_parse((char *)(uintptr_t)data, len, kv,
				  LOGIN_MAX_KEYS);
	if (n < 0) {
		status = ISCSI_LOGIN_INITIATOR_ERROR;
		why = "malformed login text";
		goto fail;
	}

	/* pass 1: names and session type */
	for (int i = 0; i < n; i++) {
		const char *k = kv[i].key, *v = kv[i].val;

		/*
		 * RFC 7143 13.4, 13.5: iSCSI names (4.2.7); anything else
		 * (a newline, an escape sequence, a blank) would end up in
		 * the log and in tandemctl's columns. A name that is there
		 * but malformed is an initiator error (11.13.5: 0x0200,
		 * "miscellaneous iSCSI initiator errors"; 0x0207 is for a
		 * name that is missing).
		 */
		if (!strcmp(k, "InitiatorName")) {
			if (!tdm__iscsi_name_valid(v)) {
				status = ISCSI_LOGIN_INITIATOR_ERROR;
				why = why_quoting(L, "bad InitiatorName", v);
				goto fail;
			}
			if (L->resolved && strcmp(v, c->initiator)) {
				status = ISCSI_LOGIN_INITIATOR_ERROR;
				why = "InitiatorName changed";
				goto fail;
			}
			snprintf(c->initiator, sizeof(c->initiator), "%s", v);
		} else if (!strcmp(k, "TargetName")) {
			if (!tdm__iscsi_name_valid(v)) {
				status = ISCSI_LOGIN_INITIATOR_ERROR;
				why = why_quoting(L, "bad TargetName", v);
				goto fail;
			}
			if (L->resolved && strcmp(v, c->target)) {
				status = ISCSI_LOGIN_INITIATOR_ERROR;
				why = "TargetName changed";
				goto fail;
			}
			snprintf(c->target, sizeof(c->target), "%s", v);
		} else if (!strcmp(k, "SessionType")) {
			bool disc;

			/* RFC 7143 13.21 */
			if (!strcmp(v, "Discovery")) {
				disc = true;
			} else if (!strcmp(v, "Normal")) {
				disc = false;
			} else {
				status = ISCSI_LOGIN_SESSION_TYPE_UNSUPPORTED;
				why = why_quoting(L, "unknown SessionType", v);
				goto fail;
			}
			if (L->resolved && disc != c->discovery) {
				status = ISCSI_LOGIN_INITIATOR_ERROR;
				why = "SessionType changed";
				goto fail;
			}
			c->discovery = disc;
		}
	}
	if (!L->resolved) {
		status = resolve(c, &why);
		if (status)
			goto fail;
		if (csg == ISCSI_STAGE_OPERATIONAL) {
			/* skipping security is fine only without CHAP */
			if (L->auth_required) {
				status = ISCSI_LOGIN_AUTH_FAILED;
				why = "authentication required";
				goto fail;
			}
			L->authenticated = true;
		}
		if (!c->discovery) {
			/* RFC 7143 13.9: in the first login response */
			tdm__iscsi_text_add(&rsp, "TargetPortalGroupTag", "%u",
					    c->tpgt);
			L->tpgt_sent = true;
		}
	}

	/* pass 2: everything else */
	for (int i = 0; i < n; i++) {
		const char *k = kv[i].key, *v = kv[i].val;
		char val[ISCSI_VALUE_MAX + 1];
		enum tdm__iscsi_neg r;

		if (!strcmp(k, "InitiatorName") || !strcmp(k, "TargetName") ||
		    !strcmp(k, "SessionType"))
			continue;
		if (is_sec_key(k)) {
			if (csg != ISCSI_STAGE_SECURITY) {
				status = ISCSI_LOGIN_INITIATOR_ERROR;
				why = "security key in operational stage";
				goto fail;
			}
			if (!strcmp(k, "AuthMethod"))
				sk.auth_method = v;
			else if (!strcmp(k, "CHAP_A"))
				sk.chap_a = v;
			else if (!strcmp(k, "CHAP_N"))
				sk.chap_n = v;
			else if (!strcmp(k, "CHAP_R"))
				sk.chap_r = v;
			else if (!strcmp(k, "CHAP_I"))
				sk.chap_i = v;
			else if (!strcmp(k, "CHAP_C"))
				sk.chap_c = v;
			else {
				tdm__iscsi_text_add(&rsp, k, "NotUnderstood");
				tdm__iscsi_log_answer(c, k, v, "NotUnderstood");
			}
			continue;
		}
		r = tdm__iscsi_negotiate(
			k, v,
			csg == ISCSI_STAGE_SECURITY ? ISCSI_PHASE_SECURITY
						    : ISCSI_PHASE_OPERATIONAL,
			c->discovery, &c->prefs, &c->p, val, sizeof(val));
		switch (r) {
		case ISCSI_NEG_RESPOND:
			tdm__iscsi_text_add(&rsp, k, "%s", val);
			tdm__iscsi_log_answer(c, k, v, val);
			break;
		case ISCSI_NEG_TEXT_KEY:
			/* SendTargets belongs to full feature phase */
			tdm__iscsi_text_add(&rsp, k, "Irrelevant");
			break;
		default:
			break;
		}
	}

	if (csg == ISCSI_STAGE_SECURITY) {
		status = security_step(c, &sk, &rsp, &why);
		if (status)
			goto fail;
		if (transit && !L->authenticated) {
			if (L->auth == AUTH_UNSET && !sk.auth_method) {
				/* RFC 7143 12.1: AuthMethod defaults to None */
				if (L->auth_required) {
					status = ISCSI_LOGIN_AUTH_FAILED;
					why = "authentication required";
					goto fail;
				}
				L->auth = AUTH_NONE;
				L->authenticated = true;
			} else if (L->auth == AUTH_CHAP &&
				   L->chap == CHAP_IDLE) {
				status = ISCSI_LOGIN_AUTH_FAILED;
				why = "CHAP not started";
				goto fail;
			}
		}
	}

	/* our declarations (RFC 7143 13.12) */
	if (!L->mrdsl_sent && (csg == ISCSI_STAGE_OPERATIONAL ||
			       (transit && nsg == ISCSI_STAGE_FFP))) {
		tdm__iscsi_text_add(&rsp, "MaxRecvDataSegmentLength", "%u",
				    c->prefs.max_recv_dsl);
		L->mrdsl_sent = true;
	}
	if (rsp.oom || rsp.len > ISCSI_LOGIN_DSL) {
		status = ISCSI_LOGIN_INITIATOR_ERROR;
		why = "login response too long";
		goto fail;
	}

	free(kv);
	kv = NULL;
	free(L->req);
	L->req = NULL;
	L->req_len = 0;

	rflags = (uint8_t)(csg << 2);
	if (transit && (csg != ISCSI_STAGE_SECURITY || L->authenticated)) {
		rflags |= ISCSI_LOGIN_TRANSIT | nsg;
		if (nsg == ISCSI_STAGE_FFP) {
			to_ffp(c, rflags, &rsp);
			tdm__iscsi_text_free(&rsp);
			return 0;
		}
		L->stage = nsg;
	}
	send_login_rsp(c, rflags, 0, &rsp, 0);
	tdm__iscsi_text_free(&rsp);
	return 0;

fail:
	free(kv);
	tdm__iscsi_text_free(&rsp);
	if (L->chap_wrong) {
		/* a wrong guess at a secret: its answer waits */
		uint64_t d = tdm__iscsi_auth_failed(&c->peer);

		if (d) {
			if (why != L->why)
				snprintf(L->why, sizeof(L->why), "%s", why);
			L->fail_later = true;
			L->fail_status = status;
			login_wait(c, d);
			return 0;
		}
	}
	login_fail(c, status, why);
	return 0;
}
