/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ctl_proto.h - the control socket protocol between tandemd and its
 * clients (tandemctl, later tandem-agentd): message framing, request and
 * response headers, and a blocking client call. The server side
 * (targetd/control.c) uses the framing and the parsers only.
 *
 * A message is one header line ending in '\n' (at most TDM_CTL_LINE_MAX
 * bytes with it) and then a payload whose byte count is in the header.
 *
 *   request:  VERB [arg ...]\n[payload]
 *             STATUS | GET-CONFIG | RELOAD | SESSIONS
 *             APPLY <expected-epoch> <nbytes> [<name> [force]]
 *                               (epoch 0 = any; without force, a
 *                               configuration without any device is
 *                               refused while tandemd has one)
 *             CLOSE-SESSION <id>
 *             STATS [<device>]
 *             EDIT <nbytes>    (cluster mode: one edit of the shared
 *                               configuration, conf/conf_edit_ops.h's
 *                               encoding; OK cluster_conf_epoch=N once
 *                               every head applied it)
 *             BLACKBOX         (write the blackbox, lib/log.h: OK
 *                               file=PATH bytes=N)
 *             ALUA             (the target port groups now: one line
 *                               each, tab-separated, after a header)
 *             ACTIVATE-TGRP <device-group> <target-group>
 *                              (make it the active group; cluster mode:
 *                               answered once every head applied it)
 *             SET-TGRP-STATE <device-group> <target-group> <state>
 *                            [<preferred>]
 *                              (set that group's running state, SPC-4
 *                               6.37 code 0..15, and preferred bit 0|1,
 *                               kept when absent; the others unchanged;
 *                               cluster mode: answered once every head
 *                               applied it)
 *   response: OK <nbytes> [key=value ...]\n<payload>
 *             ERR <errno> <nbytes>\n<message>
 *
 * Words are separated by one space. Arguments and values are printable
 * ASCII: a byte outside '!'..'~', and '%' itself, travel as %XX. A key is
 * [a-z0-9_]; its value is what follows the first '='. Numbers are
 * decimal without sign. A request the server cannot frame or
 * parse gets an ERR and the connection is closed.
 */
#ifndef TANDEM_CTL_PROTO_H
#define TANDEM_CTL_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TDM_CTL_PROTO_VERSION 1
#define TDM_CTL_LINE_MAX 4096		/* header line, '\n' included */
#define TDM_CTL_PAYLOAD_MAX (16u << 20) /* 16 MiB */
#define TDM_CTL_NAME_MAX 1024		/* a decoded argument, NUL included */
#define TDM_CTL_KV_MAX 16		/* key=value pairs in a response */
#define TDM_CTL_KEY_MAX 32
#define TDM_CTL_VALUE_MAX 1024

enum tdm_ctl_verb {
	TDM_CTL_STATUS,
	TDM_CTL_GET_CONFIG,
	TDM_CTL_APPLY,
	TDM_CTL_RELOAD,
	TDM_CTL_SESSIONS,
	TDM_CTL_CLOSE_SESSION,
	TDM_CTL_STATS,
	TDM_CTL_EDIT,
	TDM_CTL_BLACKBOX,
	TDM_CTL_ALUA,
	TDM_CTL_ACTIVATE_TGRP,
	TDM_CTL_SET_TGRP_STATE,
	TDM__CTL_VERB_COUNT
};

/* "STATUS", "GET-CONFIG", ... ("?" when out of range). */
const char *tdm_ctl_verb_name(enum tdm_ctl_verb v);

struct tdm_ctl_req {
	enum tdm_ctl_verb verb;
	uint64_t num;	    /* APPLY: expected epoch; CLOSE-SESSION: id;
			     * SET-TGRP-STATE: the state */
	size_t payload_len; /* APPLY, EDIT */
	char name[TDM_CTL_NAME_MAX];  /* APPLY: config name; STATS: device;
				       * ACTIVATE-TGRP, SET-TGRP-STATE: device
				       * group */
	char name2[TDM_CTL_NAME_MAX]; /* ACTIVATE-TGRP, SET-TGRP-STATE:
				       * target group */
	bool force;    /* APPLY: even if it removes every device (needs name) */
	int preferred; /* SET-TGRP-STATE: 0, 1, or -1 (kept) */
};

struct tdm_ctl_kv {
	char key[TDM_CTL_KEY_MAX];
	char value[TDM_CTL_VALUE_MAX];
};

struct tdm_ctl_rsp {
	int status; /* 0 = OK, else a positive errno */
	size_t payload_len;
	size_t nkv;
	struct tdm_ctl_kv kv[TDM_CTL_KV_MAX];
};

/*
 * Parse a request header (line without its '\n'). Returns 0, or -EINVAL
 * (malformed), -EOPNOTSUPP (unknown verb) or -EMSGSIZE (payload over the
 * limit) with a message in err.
 */
int tdm_ctl_req_parse(const char *line, size_t len, struct tdm_ctl_req *req,
		      char *err, size_t errlen);
/* Write req's header line with its '\n' (NUL-terminated); returns its
 * length or -ENAMETOOLONG / -EINVAL. */
int tdm_ctl_req_format(const struct tdm_ctl_req *req, char *buf, size_t buflen);

void tdm_ctl_rsp_init(struct tdm_ctl_rsp *rsp, int status);
/* Add key=value (value printf-formatted); -ENOSPC when full, -EINVAL for
 * a bad key or a value longer than TDM_CTL_VALUE_MAX - 1. */
int tdm_ctl_rsp_add(struct tdm_ctl_rsp *rsp, const char *key, const char *fmt,
		    ...) __attribute__((format(printf, 3, 4)));
/* The value of key, NULL if absent. */
const char *tdm_ctl_rsp_get(const struct tdm_ctl_rsp *rsp, const char *key);
/* Like tdm_ctl_req_parse, for a response header. */
int tdm_ctl_rsp_parse(const char *line, size_t len, struct tdm_ctl_rsp *rsp,
		      char *err, size_t errlen);
/* Header line with '\n'; returns its length or -ENAMETOOLONG. */
int tdm_ctl_rsp_format(const struct tdm_ctl_rsp *rsp, char *buf, size_t buflen);

/*
 * %XX encoding of one argument or value. encode returns the length the
 * encoded form needs (without NUL; out is written when it fits). decode
 * returns the decoded length or -EINVAL (bad escape, %00) / -ENAMETOOLONG.
 */
size_t tdm_ctl_encode(const char *in, char *out, size_t outlen);
int tdm_ctl_decode(const char *in, size_t inlen, char *out, size_t outlen);

/*
 * Incremental framing of a byte stream into messages (either side).
 * Feed bytes as they come; when a whole message has arrived, feed returns
 * 1 with req (or rsp) and payload set, and stops consuming. Call
 * tdm_ctl_rx_next() before feeding the next message. Errors (-EINVAL,
 * -EMSGSIZE, -EOPNOTSUPP, -ENOMEM) leave a message in rx->err; the stream
 * cannot be resynchronised after one.
 */
enum tdm_ctl_rx_kind { TDM_CTL_RX_REQUEST, TDM_CTL_RX_RESPONSE };

struct tdm_ctl_rx {
	enum tdm_ctl_rx_kind kind;
	char line[TDM_CTL_LINE_MAX];
	size_t line_len;
	bool have_header;
	bool complete;
	char *payload; /* NUL-terminated; malloc'ed, may be taken */
	size_t payload_len, payload_got;
	struct tdm_ctl_req req;
	struct tdm_ctl_rsp rsp;
	char err[256];
};

void tdm_ctl_rx_init(struct tdm_ctl_rx *rx, enum tdm_ctl_rx_kind kind);
int tdm_ctl_rx_feed(struct tdm_ctl_rx *rx, const char *data, size_t len,
		    size_t *used);
/* Bytes of the current message received so far (0 = between messages). */
size_t tdm_ctl_rx_pending(const struct tdm_ctl_rx *rx);
/* Drop the finished message (and its payload unless taken: set
 * rx->payload to NULL after taking it). */
void tdm_ctl_rx_next(struct tdm_ctl_rx *rx);
void tdm_ctl_rx_free(struct tdm_ctl_rx *rx);

/* ---- client side (blocking) ---- */

/* Connect to the daemon's socket. Returns an fd or -errno with a message. */
int tdm_ctl_connect(const char *path, char *err, size_t errlen);
/*
 * Send req with payload (req->payload_len bytes) and read the response;
 * *rpayload is malloc'ed and NUL-terminated (free it). Returns 0 when a
 * response arrived (check rsp->status) or -errno with a message in err
 * (I/O or protocol failure; the connection is then unusable).
 */
int tdm_ctl_call(int fd, const struct tdm_ctl_req *req, const void *payload,
		 struct tdm_ctl_rsp *rsp, char **rpayload, size_t *rlen,
		 char *err, size_t errlen);

#endif
