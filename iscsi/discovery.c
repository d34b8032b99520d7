/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * discovery.c - Text Request / Response in full feature phase (RFC 7143
 * 11.10, 11.11), with continuation both ways (C bit from the initiator,
 * Target Transfer Tag for long answers), and SendTargets (13.3, appendix
 * C): the targets an initiator may log in to and the portals they are
 * reachable at.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iscsi/iscsi_int.h"
#include "lib/log.h"

#define TEXT_MAX_KEYS 128

static void add_portals(struct tdm__iscsi_conn *c, const struct tdm_conf *conf,
			const struct tdm_conf_target *t,
			struct tdm__iscsi_text *out)
{
	char seen[16][80];
	size_t nseen = 0;
	/* the tag a login to this target gets (login.c) */
	unsigned tpgt = tdm_target_rel_port(t->name);

	if (!tpgt)
		tpgt = 1;

	if (!conf->nportals) {
		/* listening on the wildcard: the address used to reach us */
		if (tdm__iscsi_portal_allowed(t, c->local_ip))
			tdm__iscsi_text_add(out, "TargetAddress", "%s,%u",
					    c->local_str, tpgt);
		return;
	}
	for (size_t i = 0; i < conf->nportals; i++) {
		struct sockaddr_storage ss;
		socklen_t sl;
		char ip[INET6_ADDRSTRLEN], addr[80];
		uint16_t port;
		bool wild;

		if (tdm__iscsi_parse_portal(conf->portals[i], &ss, &sl))
			continue;
		tdm__iscsi_sockaddr_str((struct sockaddr *)&ss, ip, sizeof(ip),
					&port);
		if (ss.ss_family == AF_INET)
			wild = ((struct sockaddr_in *)&ss)->sin_addr.s_addr ==
			       htonl(INADDR_ANY);
		else
			wild = !memcmp(&((struct sockaddr_in6 *)&ss)->sin6_addr,
				       &in6addr_any, sizeof(struct in6_addr));
		if (wild) {
			/* only the address this connection came in on */
			if (ss.ss_family != c->local.ss_family)
				continue;
			snprintf(ip, sizeof(ip), "%s", c->local_ip);
		}
		if (!tdm__iscsi_portal_allowed(t, ip))
			continue;
		snprintf(addr, sizeof(addr),
			 ss.ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip,
			 port);
		bool dup = false;

		for (size_t k = 0; k < nseen; k++)
			if (!strcmp(seen[k], addr))
				dup = true;
		if (dup)
			continue;
		if (nseen < 16)
			snprintf(seen[nseen++], sizeof(seen[0]), "%s", addr);
		tdm__iscsi_text_add(out, "TargetAddress", "%s,%u", addr, tpgt);
	}
}

static int sendtargets_list(struct tdm__iscsi_conn *c, const char *val,
			    struct tdm__iscsi_text *out)
{
	const struct tdm_conf *conf;
	const char *only = NULL;

	/* RFC 7143 13.3: "All", an iSCSI name, or nothing (own target,
	 * normal sessions only) */
	if (!strcmp(val, "All")) {
		only = NULL;
	} else if (!*val && !c->discovery) {
		only = c->target;
	} else if (tdm__iscsi_name_valid(val)) {
		only = val;
	}
	conf = tdm_conf_current();
	if (!conf)
		return 0;
	for (size_t i = 0; i < conf->ntargets; i++) {
		const struct tdm_conf_target *t = &conf->targets[i];

		if (t->driver != TDM_DRV_ISCSI ||
		    (only && strcmp(only, t->name)))
			continue;
		/* only targets this initiator could log in to here */
		if (!t->enabled || !conf->iscsi_enabled ||
		    !tdm_target_allows(t, c->initiator) ||
		    !tdm__iscsi_portal_allowed(t, c->local_ip))
			continue;
		tdm__iscsi_text_add(out, "TargetName", "%s", t->name);
		add_portals(c, conf, t, out);
	}
	tdm_conf_release(conf);
	return out->oom ? -ENOMEM : 0;
}

int tdm__iscsi_sendtargets(struct tdm__iscsi_conn *c, const char *val,
			   struct tdm__iscsi_text *out)
{
	if (!strcmp(val, "All") || (!*val && !c->discovery) ||
	    tdm__iscsi_name_valid(val))
		return sendtargets_list(c, val, out);
	tdm__iscsi_text_add(out, "SendTargets", "Reject");
	return -EINVAL;
}

#define TEXT_CONTINUE 0x40 /* RFC 7143 11.11.2: C bit */

static void send_text_rsp(struct tdm__iscsi_conn *c, uint32_t itt, uint32_t ttt,
			  uint8_t flags, const uint8_t *data, uint32_t len,
			  const uint8_t *lun)
{
	struct tdm__iscsi_txpdu *pdu = tdm__iscsi_pdu_alloc(c);

	if (!pdu) {
		tdm__iscsi_conn_close(c, "out of memory");
		return;
	}
	/* RFC 7143 11.11: F ends the answer, C says more follows */
	pdu->hdr[0] = ISCSI_OP_TEXT_RSP;
	pdu->hdr[1] = flags;
	if (lun)
		memcpy(pdu->hdr + 8, lun, 8);
	tdm_put_be32(pdu->hdr + 16, itt);
	tdm_put_be32(pdu->hdr + 20,
		     (flags & ISCSI_FLAG_FINAL) ? ISCSI_RSVD_TAG : ttt);
	tdm__iscsi_pdu_set_sn(c, pdu, true);
	if (tdm__iscsi_pdu_set_data_copy(c, pdu, data, len)) {
		tdm__iscsi_pdu_free(c, pdu);
		tdm__iscsi_conn_close(c, "out of memory");
		return;
	}
	tdm__iscsi_pdu_queue(c, pdu);
	tdm__iscsi_conn_kick(c);
}

/* Send the next piece of a long answer. */
static void text_next(struct tdm__iscsi_conn *c, const uint8_t *lun)
{
	uint32_t left = c->text_rsp_len - c->text_rsp_off;
	uint32_t chunk = c->p.max_xmit_dsl;
	bool final = left <= chunk;

	if (final)
		chunk = left;
	send_text_rsp(c, c->text_itt, c->text_ttt,
		      final ? ISCSI_FLAG_FINAL : TEXT_CONTINUE,
		      c->text_rsp + c->text_rsp_off, chunk, lun);
	c->text_rsp_off += chunk;
	if (final) {
		free(c->text_rsp);
		c->text_rsp = NULL;
		c->text_rsp_len = c->text_rsp_off = 0;
		c->text_itt = ISCSI_RSVD_TAG;
	}
}

static uint32_t new_ttt(struct tdm__iscsi_conn *c)
{
	uint32_t t = c->ttt_next++;

	if (t == ISCSI_RSVD_TAG)
		t = c->ttt_next++;
	return t;
}

void tdm__iscsi_text_req(struct tdm__iscsi_conn *c, const uint8_t *bhs,
			 const uint8_t *data, uint32_t len)
{
	uint32_t itt = tdm_get_be32(bhs + 16);
	uint32_t ttt = tdm_get_be32(bhs + 20);
	bool cont = (bhs[1] & 0x40) != 0;
	struct tdm__iscsi_kv *kv;
	struct tdm__iscsi_text out = {0};
	char *req;
	uint32_t rlen;
	int n, understood = 0;
	bool bad = false;

	if (itt == ISCSI_RSVD_TAG) {
		tdm__iscsi_send_reject(c, ISCSI_REJECT_INVALID_PDU_FIELD, bhs);
		return;
	}
	if (ttt != ISCSI_RSVD_TAG) {
		/* the initiator asks for the rest of our answer, or goes
		 * on with its own long request */
		if (c->text_rsp && itt == c->text_itt && ttt == c->text_ttt) {
			text_next(c, bhs + 8);
			return;
		}
		if (!(c->text_req && itt == c->text_itt &&
		      ttt == c->text_ttt)) {
			tdm__iscsi_send_reject(
				c, ISCSI_REJECT_INVALID_PDU_FIELD, bhs);
			return;
		}
	} else if (c->text_rsp || (c->text_req && itt != c->text_itt)) {
		/* RFC 7143 11.10.4: a new request resets the old one */
		free(c->text_rsp);
		c->text_rsp = NULL;
		free(c->text_req);
		c->text_req = NULL;
		c->text_req_len = 0;
	}

	if (cont || c->text_req) {
		uint8_t *nb;

		if ((size_t)c->text_req_len + len > ISCSI_TEXT_MAX) {
			free(c->text_req);
			c->text_req = NULL;
			c->text_req_len = 0;
			tdm__iscsi_send_reject(c, ISCSI_REJECT_PROTOCOL_ERROR,
					       bhs);
			return;
		}
		nb = realloc(c->text_req, c->text_req_len + len + 1);
		if (!nb) {
			tdm__iscsi_conn_close(c, "out of memory");
			return;
		}
		if (len)
			memcpy(nb + c->text_req_len, data, len);
		c->text_req = nb;
		c->text_req_len += len;
		c->text_req[c->text_req_len] = '\0';
		if (cont) {
			/* RFC 7143 11.10.2: ask for the rest */
			c->text_itt = itt;
			c->text_ttt = new_ttt(c);
			send_text_rsp(c, itt, c->text_ttt, 0, NULL, 0, bhs + 8);
			return;
		}
		req = (char *)c->text_req;
		rlen = c->text_req_len;
	} else {
		req = (char *)(uintptr_t)data;
		rlen = len;
	}

	kv = calloc(TEXT_MAX_KEYS, sizeof(*kv));
	if (!kv) {
		tdm__iscsi_conn_close(c, "out of memory");
		return;
	}
	n = tdm__iscsi_text_parse(req, rlen, kv, TEXT_MAX_KEYS);
	if (n < 0) {
		free(kv);
		free(c->text_req);
		c->text_req = NULL;
		c->text_req_len = 0;
		tdm__iscsi_send_reject(c, ISCSI_REJECT_PROTOCOL_ERROR, bhs);
		return;
	}
	for (int i = 0; i < n; i++) {
		char val[ISCSI_VALUE_MAX + 1];
		enum tdm__iscsi_neg r;

		r = tdm__iscsi_negotiate(kv[i].key, kv[i].val, ISCSI_PHASE_FFP,
					 c->discovery, &c->prefs, &c->p, val,
					 sizeof(val));
		switch (r) {
		case ISCSI_NEG_RESPOND:
			tdm__iscsi_text_add(&out, kv[i].key, "%s", val);
			tdm__iscsi_log_answer(c, kv[i].key, kv[i].val, val);
			/* private extension keys (RFC 7143 13.22) are a
			 * normal thing to not understand */
			if (strcmp(val, "NotUnderstood") ||
			    !strncmp(kv[i].key, "X-", 2) ||
			    !strncmp(kv[i].key, "X#", 2))
				understood++;
			break;
		case ISCSI_NEG_SILENT:
			understood++;
			break;
		case ISCSI_NEG_TEXT_KEY:
			if (tdm__iscsi_sendtargets(c, kv[i].val, &out) ==
			    -EINVAL) {
				tdm__iscsi_log_answer(c, kv[i].key, kv[i].val,
						      "Reject");
				bad = true;
			} else
				understood++;
			break;
		case ISCSI_NEG_LOGIN_KEY:
			/* login-only keys (RFC 7143 6.4) */
			tdm__iscsi_text_add(&out, kv[i].key, "Reject");
			tdm__iscsi_log_answer(c, kv[i].key, kv[i].val,
					      "Reject");
			break;
		default:
			break;
		}
	}
	free(kv);
	free(c->text_req);
	c->text_req = NULL;
	c->text_req_len = 0;
	if (bad || (n > 0 && !understood)) {
		/*
		 * Nothing we could act on (only unknown keys that are not
		 * extension keys, such as a misspelt SendTargets) or a
		 * malformed SendTargets value: a Reject tells the initiator the
		 * request failed without ending the session (initiators
		 * such as libiscsi treat a Text Response they cannot parse
		 * as a connection error).
		 */
		tdm__iscsi_text_free(&out);
		tdm__iscsi_send_reject(c, ISCSI_REJECT_PROTOCOL_ERROR, bhs);
		return;
	}
	if (out.oom) {
		tdm__iscsi_text_free(&out);
		tdm__iscsi_send_reject(c, ISCSI_REJECT_OUT_OF_RESOURCES, bhs);
		return;
	}
	if (out.len <= c->p.max_xmit_dsl) {
		send_text_rsp(c, itt, ISCSI_RSVD_TAG, ISCSI_FLAG_FINAL,
			      (const uint8_t *)out.buf, (uint32_t)out.len,
			      bhs + 8);
		tdm__iscsi_text_free(&out);
		return;
	}
	/* longer than the initiator takes at once: hand it out piecewise */
	c->text_rsp = (uint8_t *)out.buf;
	c->text_rsp_len = (uint32_t)out.len;
	c->text_rsp_off = 0;
	c->text_itt = itt;
	c->text_ttt = new_ttt(c);
	text_next(c, bhs + 8);
}
