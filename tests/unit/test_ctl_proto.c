/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * test_ctl_proto.c - the control protocol (header lines, %XX words,
 * framing, the blocking client call over a socketpair) and the
 * configuration edits tandemctl makes (conf/conf_edit.c), with their
 * errors.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf/conf_edit.h"
#include "ctl/ctl_proto.h"

static char err[2048];

/* ---- request headers ---- */

static int req(const char *line, struct tdm_ctl_req *r)
{
	return tdm_ctl_req_parse(line, strlen(line), r, err, sizeof(err));
}

static void test_req_valid(void **state)
{
	struct tdm_ctl_req r;

	assert_int_equal(req("STATUS", &r), 0);
	assert_int_equal(r.verb, TDM_CTL_STATUS);
	assert_int_equal(req("GET-CONFIG", &r), 0);
	assert_int_equal(r.verb, TDM_CTL_GET_CONFIG);
	assert_int_equal(req("RELOAD", &r), 0);
	assert_int_equal(req("SESSIONS", &r), 0);
	assert_int_equal(req("BLACKBOX", &r), 0);
	assert_int_equal(r.verb, TDM_CTL_BLACKBOX);
	assert_int_equal(r.payload_len, 0);
	assert_int_equal(req("STATS", &r), 0);
	assert_string_equal(r.name, "");
	assert_int_equal(req("STATS disk%201", &r), 0);
	assert_string_equal(r.name, "disk 1");
	assert_int_equal(req("CLOSE-SESSION 18446744073709551615", &r), 0);
	assert_true(r.num == UINT64_MAX);
	assert_int_equal(req("APPLY 0 0", &r), 0);
	assert_int_equal(r.verb, TDM_CTL_APPLY);
	assert_int_equal(r.num, 0);
	assert_int_equal(r.payload_len, 0);
	assert_int_equal(req("APPLY 7 16777216 my%25file%0A.conf", &r), 0);
	assert_int_equal(r.num, 7);
	assert_int_equal(r.payload_len, 16u << 20);
	assert_string_equal(r.name, "my%file\n.conf");
	assert_false(r.force);
	/* force follows the name; a name "force" is just a name */
	assert_int_equal(req("APPLY 0 0 empty.conf force", &r), 0);
	assert_string_equal(r.name, "empty.conf");
	assert_true(r.force);
	assert_int_equal(req("APPLY 0 0 force", &r), 0);
	assert_string_equal(r.name, "force");
	assert_false(r.force);
	assert_int_equal(req("ALUA", &r), 0);
	assert_int_equal(r.verb, TDM_CTL_ALUA);
	assert_int_equal(req("ACTIVATE-TGRP dg tg%202", &r), 0);
	assert_int_equal(r.verb, TDM_CTL_ACTIVATE_TGRP);
	assert_string_equal(r.name, "dg");
	assert_string_equal(r.name2, "tg 2");
	/* SET-TGRP-STATE: the state's code, the preferred bit or none */
	assert_int_equal(req("SET-TGRP-STATE dg tg%201 2", &r), 0);
	assert_int_equal(r.verb, TDM_CTL_SET_TGRP_STATE);
	assert_string_equal(r.name, "dg");
	assert_string_equal(r.name2, "tg 1");
	assert_int_equal(r.num, 2);
	assert_int_equal(r.preferred, -1);
	assert_int_equal(req("SET-TGRP-STATE dg tg1 0 1", &r), 0);
	assert_int_equal(r.num, 0);
	assert_int_equal(r.preferred, 1);
	assert_int_equal(req("SET-TGRP-STATE dg tg1 15 0", &r), 0);
	assert_int_equal(r.num, 15);
	assert_int_equal(r.preferred, 0);
}

static void test_req_malformed(void **state)
{
	static const struct {
		const char *line;
		int r;
		const char *msg; /* a part of the message */
	} bad[] = {
		{"", -EINVAL, "empty"},
		{" STATUS", -EINVAL, "empty word"},
		{"STATUS ", -EINVAL, "ends with a space"},
		{"STATS  x", -EINVAL, "empty word"},
		{"STATUS\t", -EINVAL, "0x09"},
		{"STATUS\r", -EINVAL, "0x0d"},
		{"STATS d\xc3\xa9", -EINVAL, "0xc3"},
		{"status", -EOPNOTSUPP, "unknown request 'status'"},
		{"SHUTDOWN", -EOPNOTSUPP, "unknown request"},
		{"STATUS now", -EINVAL, "takes 0 arguments, got 1"},
		{"CLOSE-SESSION", -EINVAL, "takes 1 argument, got 0"},
		{"BLACKBOX /tmp/x", -EINVAL, "takes 0 arguments, got 1"},
		{"BLACKBOX ", -EINVAL, "ends with a space"},
		{"blackbox", -EOPNOTSUPP, "unknown request 'blackbox'"},
		{"BLACKBOXES", -EOPNOTSUPP, "unknown request"},
		{"STATS a b", -EINVAL, "takes 0 to 1 arguments, got 2"},
		{"APPLY 1", -EINVAL, "takes 2 to 4 arguments"},
		{"APPLY 1 2 3 4 5", -EINVAL, "takes 2 to 4 arguments"},
		{"APPLY 1 2 3 4", -EINVAL, "'4' after the name is not 'force'"},
		{"APPLY 1 2 3 FORCE", -EINVAL, "is not 'force'"},
		{"APPLY -1 5", -EINVAL, "bad epoch"},
		{"APPLY 01 5", -EINVAL, "bad epoch"},
		{"APPLY 18446744073709551616 5", -EINVAL, "bad epoch"},
		{"APPLY 1 5x", -EINVAL, "bad byte count"},
		{"APPLY 1 +5", -EINVAL, "bad byte count"},
		{"APPLY 1 16777217", -EMSGSIZE, "over the limit"},
		{"APPLY 1 99999999999999999999", -EINVAL, "bad byte count"},
		{"APPLY 1 5 bad%2", -EINVAL, "bad name"},
		{"APPLY 1 5 bad%zz", -EINVAL, "bad name"},
		{"APPLY 1 5 nul%00here", -EINVAL, "bad name"},
		{"CLOSE-SESSION x", -EINVAL, "bad session id"},
		{"ALUA dg", -EINVAL, "takes 0 arguments, got 1"},
		{"ACTIVATE-TGRP", -EINVAL, "takes 2 arguments, got 0"},
		{"ACTIVATE-TGRP dg", -EINVAL, "takes 2 arguments, got 1"},
		{"ACTIVATE-TGRP dg tg x", -EINVAL, "takes 2 arguments, got 3"},
		{"ACTIVATE-TGRP dg tg%00", -EINVAL, "bad group name"},
		{"ACTIVATE-TGRP d%zz tg", -EINVAL, "bad group name"},
		{"activate-tgrp dg tg", -EOPNOTSUPP, "unknown request"},
		{"SET-TGRP-STATE dg tg", -EINVAL,
		 "takes 3 to 4 arguments, got 2"},
		{"SET-TGRP-STATE dg tg 1 1 x", -EINVAL,
		 "takes 3 to 4 arguments, got 5"},
		{"SET-TGRP-STATE dg tg%00 1", -EINVAL,
		 "SET-TGRP-STATE: bad group name"},
		{"SET-TGRP-STATE dg tg 16", -EINVAL, "bad state '16'"},
		{"SET-TGRP-STATE dg tg standby", -EINVAL, "bad state"},
		{"SET-TGRP-STATE dg tg 01", -EINVAL, "bad state"},
		{"SET-TGRP-STATE dg tg 2 2", -EINVAL, "bad preferred bit '2'"},
		{"SET-TGRP-STATE dg tg 2 -1", -EINVAL, "bad preferred bit"},
		{"A B C D E F G H I J K L M N O P Q R S", -EINVAL,
		 "more than 18 words"},
	};
	struct tdm_ctl_req r;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int got = req(bad[i].line, &r);

		if (got != bad[i].r || !strstr(err, bad[i].msg))
			fail_msg("'%s': got %d '%s', want %d '...%s...'",
				 bad[i].line, got, err, bad[i].r, bad[i].msg);
	}
}

static void test_req_too_long(void **state)
{
	char line[TDM_CTL_LINE_MAX + 8];
	struct tdm_ctl_req r;
	char *name;

	/* a name whose encoding makes the line too long */
	memset(line, 0, sizeof(line));
	memcpy(line, "STATS ", 6);
	memset(line + 6, 'a', TDM_CTL_LINE_MAX - 6);
	assert_int_equal(
		tdm_ctl_req_parse(line, strlen(line), &r, err, sizeof(err)),
		-EINVAL);
	assert_non_null(strstr(err, "longer than"));

	/* the longest name still fits in a line; a small buffer does not */
	r = (struct tdm_ctl_req){.verb = TDM_CTL_APPLY, .payload_len = 3};
	name = malloc(TDM_CTL_NAME_MAX);
	memset(name, ' ', TDM_CTL_NAME_MAX - 1);
	name[TDM_CTL_NAME_MAX - 1] = '\0';
	memcpy(r.name, name, TDM_CTL_NAME_MAX);
	assert_true(tdm_ctl_req_format(&r, line, sizeof(line)) > 3000);
	assert_int_equal(
		tdm_ctl_req_parse(line, strlen(line) - 1, &r, err, sizeof(err)),
		0);
	assert_string_equal(r.name, name);
	assert_int_equal(tdm_ctl_req_format(&r, line, 100), -ENAMETOOLONG);
	free(name);
}

static void test_req_roundtrip(void **state)
{
	static const char *const names[] = {
		"",	    "a",	 "/etc/tandem/my file.conf",
		"100%",	    "tab\there", "é\x7f",
		"=,;\"'\\",
	};
	char line[TDM_CTL_LINE_MAX + 1];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct tdm_ctl_req a = {.verb = TDM_CTL_APPLY,
					.num = 42 + i,
					.payload_len = i * 1000};
		struct tdm_ctl_req b;
		int n;

		snprintf(a.name, sizeof(a.name), "%s", names[i]);
		n = tdm_ctl_req_format(&a, line, sizeof(line));
		assert_true(n > 0);
		assert_int_equal(line[n - 1], '\n');
		assert_int_equal(tdm_ctl_req_parse(line, (size_t)n - 1, &b, err,
						   sizeof(err)),
				 0);
		assert_int_equal(b.verb, TDM_CTL_APPLY);
		assert_int_equal(b.num, a.num);
		assert_int_equal(b.payload_len, a.payload_len);
		assert_string_equal(b.name, a.name);
		assert_false(b.force);
		/* and forced, which needs a name */
		a.force = true;
		n = tdm_ctl_req_format(&a, line, sizeof(line));
		if (!a.name[0]) {
			assert_int_equal(n, -EINVAL);
			continue;
		}
		assert_true(n > 0);
		assert_int_equal(tdm_ctl_req_parse(line, (size_t)n - 1, &b, err,
						   sizeof(err)),
				 0);
		assert_string_equal(b.name, a.name);
		assert_true(b.force);
	}
	for (int v = 0; v < TDM__CTL_VERB_COUNT; v++) {
		struct tdm_ctl_req a = {.verb = (enum tdm_ctl_verb)v, .num = 5};
		struct tdm_ctl_req b;
		int n;

		if (v == TDM_CTL_ACTIVATE_TGRP || v == TDM_CTL_SET_TGRP_STATE) {
			/* two names are needed */
			assert_int_equal(
				tdm_ctl_req_format(&a, line, sizeof(line)),
				-EINVAL);
			snprintf(a.name, sizeof(a.name), "d g");
			snprintf(a.name2, sizeof(a.name2), "t%%g");
		}
		if (v == TDM_CTL_SET_TGRP_STATE) {
			/* a state is 4 bits, the preferred bit 0, 1, -1 */
			a.num = 16;
			assert_int_equal(
				tdm_ctl_req_format(&a, line, sizeof(line)),
				-EINVAL);
			a.num = 14;
			a.preferred = 2;
			assert_int_equal(
				tdm_ctl_req_format(&a, line, sizeof(line)),
				-EINVAL);
			a.preferred = 1;
		}
		n = tdm_ctl_req_format(&a, line, sizeof(line));
		assert_true(n > 0);
		assert_int_equal(tdm_ctl_req_parse(line, (size_t)n - 1, &b, err,
						   sizeof(err)),
				 0);
		assert_int_equal(b.verb, v);
		assert_string_equal(b.name2, a.name2);
		if (v == TDM_CTL_ACTIVATE_TGRP || v == TDM_CTL_SET_TGRP_STATE)
			assert_string_equal(b.name, "d g");
		if (v == TDM_CTL_SET_TGRP_STATE) {
			assert_int_equal(b.num, 14);
			assert_int_equal(b.preferred, 1);
			/* without the bit: kept */
			a.preferred = -1;
			n = tdm_ctl_req_format(&a, line, sizeof(line));
			assert_true(n > 0);
			assert_non_null(strstr(line, " 14\n"));
			assert_int_equal(tdm_ctl_req_parse(line, (size_t)n - 1,
							   &b, err,
							   sizeof(err)),
					 0);
			assert_int_equal(b.preferred, -1);
		}
	}
	assert_string_equal(tdm_ctl_verb_name(TDM__CTL_VERB_COUNT), "?");
}

/* ---- response headers ---- */

static void test_rsp_roundtrip(void **state)
{
	struct tdm_ctl_rsp a, b;
	char line[TDM_CTL_LINE_MAX + 1];
	int n;

	tdm_ctl_rsp_init(&a, 0);
	assert_int_equal(tdm_ctl_rsp_add(&a, "epoch", "%d", 12), 0);
	assert_int_equal(
		tdm_ctl_rsp_add(&a, "config", "%s", "/etc/my conf=%.conf"), 0);
	assert_int_equal(tdm_ctl_rsp_add(&a, "empty", "%s", ""), 0);
	assert_int_equal(tdm_ctl_rsp_add(&a, "Bad", "x"), -EINVAL);
	assert_int_equal(tdm_ctl_rsp_add(&a, "a=b", "x"), -EINVAL);
	a.payload_len = 99;
	n = tdm_ctl_rsp_format(&a, line, sizeof(line));
	assert_true(n > 0);
	assert_string_equal(line, "OK 99 epoch=12 config=/etc/my%20conf=%25"
				  ".conf empty=\n");
	assert_int_equal(
		tdm_ctl_rsp_parse(line, (size_t)n - 1, &b, err, sizeof(err)),
		0);
	assert_int_equal(b.status, 0);
	assert_int_equal(b.payload_len, 99);
	assert_string_equal(tdm_ctl_rsp_get(&b, "epoch"), "12");
	assert_string_equal(tdm_ctl_rsp_get(&b, "config"),
			    "/etc/my conf=%.conf");
	assert_string_equal(tdm_ctl_rsp_get(&b, "empty"), "");
	assert_null(tdm_ctl_rsp_get(&b, "nope"));

	tdm_ctl_rsp_init(&a, ESTALE);
	a.payload_len = 5;
	n = tdm_ctl_rsp_format(&a, line, sizeof(line));
	assert_true(n > 0);
	assert_int_equal(
		tdm_ctl_rsp_parse(line, (size_t)n - 1, &b, err, sizeof(err)),
		0);
	assert_int_equal(b.status, ESTALE);
	assert_int_equal(b.payload_len, 5);

	/* full */
	tdm_ctl_rsp_init(&a, 0);
	for (int i = 0; i < TDM_CTL_KV_MAX; i++)
		assert_int_equal(tdm_ctl_rsp_add(&a, "k", "%d", i), 0);
	assert_int_equal(tdm_ctl_rsp_add(&a, "k", "x"), -ENOSPC);
}

static void test_rsp_malformed(void **state)
{
	static const char *const bad[] = {
		"OK",	      "OK x",	    "OK 1 novalue", "OK 1 =x",
		"OK 1 K=x",   "OK 1 k=%zz", "ERR 0 5",	    "ERR 22",
		"ERR 22 5 x", "ERR 4096 1", "MAYBE 1",	    "OK 16777217",
		"ERR x 1",    "OK 1  k=v",
	};
	struct tdm_ctl_rsp r;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (tdm_ctl_rsp_parse(bad[i], strlen(bad[i]), &r, err,
				      sizeof(err)) >= 0)
			fail_msg("'%s' accepted", bad[i]);
}

static void test_encode(void **state)
{
	char out[64];

	assert_int_equal(tdm_ctl_encode("a b%", out, sizeof(out)), 8);
	assert_string_equal(out, "a%20b%25");
	/* too small: the length needed is still returned, out is cut at
	 * a whole escape */
	assert_int_equal(tdm_ctl_encode("a b%", out, 4), 8);
	assert_string_equal(out, "a");
	assert_int_equal(tdm_ctl_encode("a b%", out, 5), 8);
	assert_string_equal(out, "a%20");
	assert_int_equal(tdm_ctl_decode("a%20b", 5, out, sizeof(out)), 3);
	assert_string_equal(out, "a b");
	assert_int_equal(tdm_ctl_decode("abc", 3, out, 3), -ENAMETOOLONG);
	assert_int_equal(tdm_ctl_decode("a%2", 3, out, sizeof(out)), -EINVAL);
	assert_int_equal(tdm_ctl_decode("a b", 3, out, sizeof(out)), -EINVAL);
	assert_int_equal(tdm_ctl_decode("%00", 3, out, sizeof(out)), -EINVAL);
}

/* ---- framing ---- */

static void test_rx_pipeline_bytewise(void **state)
{
	static const char stream[] = "APPLY 3 5 f\nhelloSTATUS\n"
				     "APPLY 0 0\nSTATS r0\n";
	struct tdm_ctl_rx rx;
	int got = 0;
	size_t i = 0;

	tdm_ctl_rx_init(&rx, TDM_CTL_RX_REQUEST);
	while (i < sizeof(stream) - 1) {
		size_t used;
		int r = tdm_ctl_rx_feed(&rx, stream + i, 1, &used);

		assert_true(r >= 0);
		i += used;
		if (r == 0) {
			assert_int_equal(used, 1);
			continue;
		}
		switch (got++) {
		case 0:
			assert_int_equal(rx.req.verb, TDM_CTL_APPLY);
			assert_int_equal(rx.payload_len, 5);
			assert_string_equal(rx.payload, "hello");
			assert_string_equal(rx.req.name, "f");
			break;
		case 1:
			assert_int_equal(rx.req.verb, TDM_CTL_STATUS);
			break;
		case 2:
			assert_int_equal(rx.req.verb, TDM_CTL_APPLY);
			assert_int_equal(rx.payload_len, 0);
			assert_string_equal(rx.payload, "");
			break;
		case 3:
			assert_int_equal(rx.req.verb, TDM_CTL_STATS);
			assert_string_equal(rx.req.name, "r0");
			break;
		}
		/* complete: feeding more consumes nothing */
		assert_int_equal(tdm_ctl_rx_feed(&rx, "X", 1, &used), 1);
		assert_int_equal(used, 0);
		tdm_ctl_rx_next(&rx);
		assert_int_equal(tdm_ctl_rx_pending(&rx), 0);
	}
	assert_int_equal(got, 4);
	tdm_ctl_rx_free(&rx);
}

static void test_rx_pipeline_whole(void **state)
{
	static const char stream[] = "APPLY 3 5 f\nhelloSTATUS\nSESS";
	struct tdm_ctl_rx rx;
	size_t used, off = 0;

	tdm_ctl_rx_init(&rx, TDM_CTL_RX_REQUEST);
	assert_int_equal(
		tdm_ctl_rx_feed(&rx, stream, sizeof(stream) - 1, &used), 1);
	assert_int_equal(used, 17);
	assert_string_equal(rx.payload, "hello");
	/* the payload may be taken */
	free(rx.payload);
	rx.payload = NULL;
	tdm_ctl_rx_next(&rx);
	off += used;
	assert_int_equal(tdm_ctl_rx_feed(&rx, stream + off,
					 sizeof(stream) - 1 - off, &used),
			 1);
	assert_int_equal(rx.req.verb, TDM_CTL_STATUS);
	off += used;
	tdm_ctl_rx_next(&rx);
	assert_int_equal(tdm_ctl_rx_feed(&rx, stream + off,
					 sizeof(stream) - 1 - off, &used),
			 0);
	assert_int_equal(tdm_ctl_rx_pending(&rx), 4);
	assert_int_equal(tdm_ctl_rx_feed(&rx, "IONS\n", 5, &used), 1);
	assert_int_equal(rx.req.verb, TDM_CTL_SESSIONS);
	tdm_ctl_rx_free(&rx);
}

static void test_rx_errors(void **state)
{
	char *big = malloc(TDM_CTL_LINE_MAX + 2);
	struct tdm_ctl_rx rx;
	size_t used;

	/* 4096 bytes without a newline: too long, whatever comes next */
	memset(big, 'A', TDM_CTL_LINE_MAX + 1);
	tdm_ctl_rx_init(&rx, TDM_CTL_RX_REQUEST);
	assert_int_equal(tdm_ctl_rx_feed(&rx, big, 100, &used), 0);
	assert_int_equal(
		tdm_ctl_rx_feed(&rx, big, TDM_CTL_LINE_MAX - 101, &used), 0);
	/* 4095 bytes so far: one more that is not '\n' is too many */
	assert_int_equal(tdm_ctl_rx_feed(&rx, big, 1, &used), -EINVAL);
	assert_non_null(strstr(rx.err, "longer than 4096"));
	tdm_ctl_rx_free(&rx);

	/* 4095 bytes and '\n' is a full-length line: framed, then parsed */
	big[TDM_CTL_LINE_MAX - 1] = '\n';
	tdm_ctl_rx_init(&rx, TDM_CTL_RX_REQUEST);
	assert_int_equal(tdm_ctl_rx_feed(&rx, big, TDM_CTL_LINE_MAX, &used),
			 -EOPNOTSUPP);
	assert_int_equal(used, TDM_CTL_LINE_MAX);
	tdm_ctl_rx_free(&rx);

	tdm_ctl_rx_init(&rx, TDM_CTL_RX_REQUEST);
	assert_int_equal(tdm_ctl_rx_feed(&rx, "APPLY 0 99999999\n", 17, &used),
			 -EMSGSIZE);
	tdm_ctl_rx_free(&rx);

	tdm_ctl_rx_init(&rx, TDM_CTL_RX_RESPONSE);
	assert_int_equal(tdm_ctl_rx_feed(&rx, "HELLO\n", 6, &used), -EINVAL);
	tdm_ctl_rx_free(&rx);
	free(big);
}

/* ---- the client call over a socketpair ---- */

static void test_call(void **state)
{
	struct tdm_ctl_req r = {.verb = TDM_CTL_APPLY, .num = 3};
	struct tdm_ctl_rsp *rsp = malloc(sizeof(*rsp));
	char buf[256], *payload;
	size_t len;
	ssize_t n;
	int sv[2];

	/* the answer is queued before the call: no thread needed */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(write(sv[1], "OK 2 epoch=4\nhi", 15), 15);
	r.payload_len = 3;
	snprintf(r.name, sizeof(r.name), "x y");
	assert_int_equal(tdm_ctl_call(sv[0], &r, "abc", rsp, &payload, &len,
				      err, sizeof(err)),
			 0);
	assert_int_equal(rsp->status, 0);
	assert_string_equal(tdm_ctl_rsp_get(rsp, "epoch"), "4");
	assert_int_equal(len, 2);
	assert_string_equal(payload, "hi");
	free(payload);
	n = read(sv[1], buf, sizeof(buf) - 1);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_string_equal(buf, "APPLY 3 3 x%20y\nabc");

	/* an ERR answer is a response, not a failure */
	assert_int_equal(write(sv[1], "ERR 116 5\nstale", 15), 15);
	r = (struct tdm_ctl_req){.verb = TDM_CTL_STATUS};
	assert_int_equal(tdm_ctl_call(sv[0], &r, NULL, rsp, &payload, &len, err,
				      sizeof(err)),
			 0);
	assert_int_equal(rsp->status, 116);
	assert_string_equal(payload, "stale");
	free(payload);
	read(sv[1], buf, sizeof(buf));

	/* garbage */
	assert_int_equal(write(sv[1], "WHAT\n", 5), 5);
	assert_true(tdm_ctl_call(sv[0], &r, NULL, rsp, &payload, &len, err,
				 sizeof(err)) < 0);
	assert_non_null(strstr(err, "bad answer"));
	read(sv[1], buf, sizeof(buf));

	/* the peer goes away mid-answer */
	assert_int_equal(write(sv[1], "OK 10\nabc", 9), 9);
	close(sv[1]);
	assert_int_equal(tdm_ctl_call(sv[0], &r, NULL, rsp, &payload, &len, err,
				      sizeof(err)),
			 -ECONNRESET);
	assert_null(payload);
	close(sv[0]);
	free(rsp);
}

static void test_connect_errors(void **state)
{
	char path[200];

	assert_int_equal(
		tdm_ctl_connect("/nonexistent/tandem.sock", err, sizeof(err)),
		-ENOENT);
	assert_non_null(strstr(err, "is tandemd running"));
	memset(path, 'x', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	assert_int_equal(tdm_ctl_connect(path, err, sizeof(err)),
			 -ENAMETOOLONG);
}

/* ---- attributes ---- */

static void test_attrs(void **state)
{
	struct tdm_attrs a;

	assert_int_equal(tdm_attrs_parse("", &a, err, sizeof(err)), 0);
	assert_int_equal(a.n, 0);
	assert_int_equal(tdm_attrs_parse(" size_mb = 16 , IncomingUser=joe "
					 "secret12345 ,HeaderDigest=CRC32C,"
					 "None,usn=,p=a\\,b\\\\",
					 &a, err, sizeof(err)),
			 0);
	assert_int_equal(a.n, 5);
	assert_string_equal(a.v[0].key, "size_mb");
	assert_string_equal(a.v[0].value, "16");
	assert_string_equal(a.v[1].value, "joe secret12345");
	assert_string_equal(a.v[2].value, "CRC32C,None");
	assert_string_equal(a.v[3].value, "");
	assert_string_equal(a.v[4].value, "a,b\\");
	tdm_attrs_free(&a);

	assert_int_equal(tdm_attrs_parse("nothing", &a, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "not name=value"));
	assert_int_equal(tdm_attrs_parse("=1", &a, err, sizeof(err)), -EINVAL);
	assert_int_equal(tdm_attrs_parse("a=1,,b=2", &a, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "empty attribute"));
	assert_int_equal(a.n, 0);
}

/* ---- configuration edits ---- */

static const char base_conf[] = "HANDLER ram {\n"
				"\tDEVICE r0 {\n\t\tsize_mb 16\n\t}\n"
				"\tDEVICE r1 {\n\t\tsize_mb 16\n\t}\n"
				"}\n"
				"TARGET_DRIVER iscsi {\n"
				"\tenabled 1\n"
				"\tTARGET iqn.2026-01.org.tandem:t1 {\n"
				"\t\tenabled 1\n"
				"\t\trel_tgt_id 1\n"
				"\t\tLUN 0 r0\n"
				"\t\tGROUP hosts {\n"
				"\t\t\tLUN 0 r1\n"
				"\t\t\tINITIATOR iqn.1993-08.org.debian:*\n"
				"\t\t}\n"
				"\t}\n"
				"\tTARGET iqn.2026-01.org.tandem:t2 {\n"
				"\t\trel_tgt_id 2\n"
				"\t}\n"
				"}\n";

#define T1 "iqn.2026-01.org.tandem:t1"
#define T2 "iqn.2026-01.org.tandem:t2"

static int setup_conf(void **state)
{
	struct tdm_conf *c = malloc(sizeof(*c));

	if (!c || tdm_conf_parse(base_conf, strlen(base_conf), "base", c, err,
				 sizeof(err)) < 0) {
		fprintf(stderr, "base config: %s\n", err);
		free(c);
		return -1;
	}
	*state = c;
	return 0;
}

static int teardown_conf(void **state)
{
	tdm_conf_free(*state);
	free(*state);
	return 0;
}

static struct tdm_attrs *attrs(const char *s)
{
	static struct tdm_attrs a;

	tdm_attrs_free(&a);
	if (tdm_attrs_parse(s, &a, err, sizeof(err)) < 0)
		fail_msg("attrs '%s': %s", s, err);
	return &a;
}

/*
 * Run an edit that must fail with want and a message containing msg,
 * and check that the configuration did not change and that the message
 * carries no location in the edit's own text.
 */
#define EXPECT_FAIL(c, want, msg, call)                                        \
	do {                                                                   \
		struct tdm_conf before_;                                       \
		int got_;                                                      \
		assert_int_equal(tdm_conf_dup((c), &before_), 0);              \
		got_ = (call);                                                 \
		if (got_ != (want) || !strstr(err, (msg)))                     \
			fail_msg("%s: got %d '%s', want %d '...%s...'", #call, \
				 got_, err, (want), (msg));                    \
		assert_true(tdm_conf_equal(&before_, (c)));                    \
		assert_null(strstr(err, "<edit>"));                            \
		if (strstr(err, "line"))                                       \
			fail_msg("%s: location in '%s'", #call, err);          \
		tdm_conf_free(&before_);                                       \
	} while (0)

#define EXPECT_OK(call)                                                        \
	do {                                                                   \
		int got_ = (call);                                             \
		if (got_ != 0)                                                 \
			fail_msg("%s: got %d '%s'", #call, got_, err);         \
	} while (0)

/* The edited configuration survives a write/parse round trip. */
static void assert_roundtrip(const struct tdm_conf *c)
{
	struct tdm_conf back;
	char *text;
	size_t len;

	assert_int_equal(tdm_conf_write(c, &text, &len), 0);
	if (tdm_conf_parse(text, len, "roundtrip", &back, err, sizeof(err)))
		fail_msg("round trip: %s\n%s", err, text);
	assert_true(tdm_conf_equal(c, &back));
	tdm_conf_free(&back);
	free(text);
}

static void test_edit_devices(void **state)
{
	struct tdm_conf *c = *state;
	struct tdm_conf_device *d;

	EXPECT_OK(tdm_edit_add_device(c, "n0", "vdisk_nullio",
				      attrs("size_mb=8,usn=N0-SERIAL"), err,
				      sizeof(err)));
	d = tdm_edit_find_device(c, "n0");
	assert_non_null(d);
	assert_int_equal(d->handler, TDM_HANDLER_NULLIO);
	assert_int_equal(d->size, 8 << 20);
	assert_string_equal(d->usn, "N0-SERIAL");

	EXPECT_FAIL(c, -EEXIST, "already exists",
		    tdm_edit_add_device(c, "n0", "ram", attrs("size_mb=1"), err,
					sizeof(err)));
	EXPECT_FAIL(c, -EINVAL, "unknown handler 'vdisk_foo'",
		    tdm_edit_add_device(c, "x", "vdisk_foo", NULL, err,
					sizeof(err)));
	EXPECT_FAIL(c, -EINVAL, "blocksize must be 512 or 4096, got 1000",
		    tdm_edit_add_device(c, "x", "ram",
					attrs("size_mb=1,blocksize=1000"), err,
					sizeof(err)));
	EXPECT_FAIL(c, -EINVAL, "size (or size_mb) greater than 0 is required",
		    tdm_edit_add_device(c, "x", "ram", NULL, err, sizeof(err)));
	EXPECT_FAIL(c, -EINVAL, "filename is required",
		    tdm_edit_add_device(c, "f", "vdisk_fileio", NULL, err,
					sizeof(err)));
	EXPECT_FAIL(c, -EINVAL, "filename must be an absolute path",
		    tdm_edit_add_device(c, "f", "vdisk_fileio",
					attrs("filename=rel/path"), err,
					sizeof(err)));
	EXPECT_FAIL(c, -EINVAL, "unknown attribute 'colour'",
		    tdm_edit_add_device(c, "x", "ram",
					attrs("size_mb=1,colour=blue"), err,
					sizeof(err)));
	EXPECT_FAIL(c, -EINVAL, "bad DEVICE name",
		    tdm_edit_add_device(c, "bad name", "ram",
					attrs("size_mb=1"), err, sizeof(err)));
	EXPECT_FAIL(c, -EINVAL, "control character",
		    tdm_edit_add_device(c, "x", "ram",
					attrs("size_mb=1,usn=a\nb"), err,
					sizeof(err)));
	EXPECT_FAIL(c, -EINVAL, "needs a value",
		    tdm_edit_add_device(c, "x", "ram", attrs("size_mb=1,usn="),
					err, sizeof(err)));
	EXPECT_FAIL(c, -EINVAL, "not a multiple of blocksize",
		    tdm_edit_add_device(c, "x", "ram", attrs("size=1000"), err,
					sizeof(err)));

	/* attributes: size_mb replaces size, an empty value resets */
	EXPECT_OK(tdm_edit_dev_attr(c, "n0",
				    attrs("size_mb=32,usn=,prod_id=Disk One"),
				    err, sizeof(err)));
	d = tdm_edit_find_device(c, "n0");
	assert_int_equal(d->size, 32 << 20);
	assert_string_equal(d->usn, "");
	assert_string_equal(d->prod_id, "Disk One");
	EXPECT_FAIL(c, -EINVAL, "prod_id is longer than 16",
		    tdm_edit_dev_attr(c, "n0",
				      attrs("prod_id=abcdefghijklmnopq"), err,
				      sizeof(err)));
	EXPECT_FAIL(c, -EINVAL, "o_direct is only valid for vdisk_fileio",
		    tdm_edit_dev_attr(c, "n0", attrs("o_direct=1"), err,
				      sizeof(err)));
	EXPECT_FAIL(c, -EINVAL, "read_only must be 0 or 1",
		    tdm_edit_dev_attr(c, "n0", attrs("read_only=yes"), err,
				      sizeof(err)));
	EXPECT_FAIL(c, -EINVAL, "given twice",
		    tdm_edit_dev_attr(c, "n0", attrs("size=512,size_mb=1"), err,
				      sizeof(err)));
	EXPECT_FAIL(c, -EINVAL, "not an attribute",
		    tdm_edit_dev_attr(c, "n0", attrs("DEVICE=x"), err,
				      sizeof(err)));
	EXPECT_FAIL(
		c, -EINVAL, "bad attribute name",
		tdm_edit_dev_attr(c, "n0", attrs("a b=1"), err, sizeof(err)));
	EXPECT_FAIL(c, -EINVAL, "no attributes",
		    tdm_edit_dev_attr(c, "n0", attrs(""), err, sizeof(err)));
	EXPECT_FAIL(c, -ENOENT, "no device 'zz'",
		    tdm_edit_dev_attr(c, "zz", attrs("read_only=1"), err,
				      sizeof(err)));

	/* the CD-ROM handler: vcdrom (SCST), or vdisk_cdrom (older tandem) */
	EXPECT_OK(tdm_edit_add_device(c, "cd0", "vdisk_cdrom",
				      attrs("filename=/srv/a.iso"), err,
				      sizeof(err)));
	EXPECT_OK(tdm_edit_add_device(c, "cd1", "vcdrom", NULL, err,
				      sizeof(err)));
	assert_int_equal(tdm_edit_find_device(c, "cd0")->handler,
			 TDM_HANDLER_CDROM);
	assert_int_equal(tdm_edit_find_device(c, "cd1")->blocksize, 2048);
	EXPECT_FAIL(c, -EINVAL, "blocksize of vcdrom is 2048, got 512",
		    tdm_edit_dev_attr(c, "cd0", attrs("blocksize=512"), err,
				      sizeof(err)));
	EXPECT_FAIL(c, -EINVAL, "device 'cd0' has handler vcdrom, not ram",
		    tdm_edit_rem_device(c, "cd0", "ram", err, sizeof(err)));
	EXPECT_FAIL(c, -EINVAL,
		    "unknown handler 'VCDROM' (vdisk_fileio, vdisk_blockio, "
		    "vdisk_nullio, vdisk_rbd, vcdrom or ram)",
		    tdm_edit_add_device(c, "cd2", "VCDROM", NULL, err,
					sizeof(err)));
	EXPECT_OK(tdm_edit_rem_device(c, "cd0", "vcdrom", err, sizeof(err)));
	EXPECT_OK(
		tdm_edit_rem_device(c, "cd1", "vdisk_cdrom", err, sizeof(err)));

	/* removal */
	EXPECT_FAIL(c, -EBUSY, "used by LUN 0 of target " T1,
		    tdm_edit_rem_device(c, "r0", NULL, err, sizeof(err)));
	EXPECT_FAIL(c, -EBUSY, "LUN 0 of group hosts of target " T1,
		    tdm_edit_rem_device(c, "r1", NULL, err, sizeof(err)));
	EXPECT_FAIL(c, -EINVAL, "has handler vdisk_nullio, not ram",
		    tdm_edit_rem_device(c, "n0", "ram", err, sizeof(err)));
	EXPECT_FAIL(c, -ENOENT, "no device 'zz'",
		    tdm_edit_rem_device(c, "zz", NULL, err, sizeof(err)));
	EXPECT_OK(
		tdm_edit_rem_device(c, "n0", "vdisk_nullio", err, sizeof(err)));
	assert_null(tdm_edit_find_device(c, "n0"));
	assert_int_equal(c->ndevices, 2);
	assert_roundtrip(c);
}

static void test_edit_targets(void **state)
{
	struct tdm_conf *c = *state;
	struct tdm_conf_target *t;

	EXPECT_OK(tdm_edit_add_target(
		c, TDM_DRV_ISCSI, "iqn.2026-01.org.tandem:t3",
		attrs("enabled=1,rel_tgt_id=3"), err, sizeof(err)));
	t = tdm_edit_find_target(c, "iqn.2026-01.org.tandem:t3");
	assert_non_null(t);
	assert_true(t->enabled);
	assert_int_equal(t->rel_tgt_id, 3);
	EXPECT_FAIL(c, -EEXIST, "already exists",
		    tdm_edit_add_target(c, TDM_DRV_ISCSI, T1, NULL, err,
					sizeof(err)));
	EXPECT_FAIL(c, -EINVAL, "starts with iqn., eui. or naa.",
		    tdm_edit_add_target(c, TDM_DRV_ISCSI, "target1", NULL, err,
					sizeof(err)));
	EXPECT_FAIL(c, -EINVAL, "rel_tgt_id 1 is already used by TARGET " T1,
		    tdm_edit_add_target(
			    c, TDM_DRV_ISCSI, "iqn.2026-01.org.tandem:t4",
			    attrs("rel_tgt_id=1"), err, sizeof(err)));

	/* SET */
	EXPECT_OK(tdm_edit_tgt_attr(c, T2, TDM_EDIT_SET,
				    attrs("enabled=1,HeaderDigest=CRC32C,None,"
					  "MaxBurstLength=65536"),
				    err, sizeof(err)));
	t = tdm_edit_find_target(c, T2);
	assert_true(t->enabled);
	assert_int_equal(t->params.header_digest, 2);
	assert_int_equal(t->params.max_burst_length, 65536);
	EXPECT_FAIL(c, -EINVAL, "rel_tgt_id must be a number in 1..65535",
		    tdm_edit_tgt_attr(c, T2, TDM_EDIT_SET,
				      attrs("rel_tgt_id=70000"), err,
				      sizeof(err)));
	EXPECT_FAIL(c, -EINVAL,
		    "FirstBurstLength 131072 is greater than "
		    "MaxBurstLength 65536",
		    tdm_edit_tgt_attr(c, T2, TDM_EDIT_SET,
				      attrs("FirstBurstLength=131072"), err,
				      sizeof(err)));
	EXPECT_FAIL(c, -EINVAL, "unknown attribute 'portal'",
		    tdm_edit_tgt_attr(c, T2, TDM_EDIT_SET,
				      attrs("portal=1.2.3.4"), err,
				      sizeof(err)));
	EXPECT_FAIL(c, -ENOENT, "no target 'iqn.x'",
		    tdm_edit_tgt_attr(c, "iqn.x", TDM_EDIT_SET,
				      attrs("enabled=1"), err, sizeof(err)));
	/* reset to the default */
	EXPECT_OK(tdm_edit_tgt_attr(c, T2, TDM_EDIT_SET,
				    attrs("MaxBurstLength="), err,
				    sizeof(err)));
	assert_int_equal(tdm_edit_find_target(c, T2)->params.max_burst_length,
			 0);

	/* ADD / REMOVE of repeatable attributes */
	EXPECT_OK(tdm_edit_tgt_attr(c, T2, TDM_EDIT_ADD,
				    attrs("IncomingUser=joe secret123456,"
					  "IncomingUser=ann other1234567,"
					  "allowed_portal=10.0.0.*"),
				    err, sizeof(err)));
	t = tdm_edit_find_target(c, T2);
	assert_int_equal(t->nin_users, 2);
	assert_string_equal(t->in_users[1].secret, "other1234567");
	EXPECT_FAIL(c, -EINVAL, "IncomingUser 'joe' given twice",
		    tdm_edit_tgt_attr(c, T2, TDM_EDIT_ADD,
				      attrs("IncomingUser=joe again12345"), err,
				      sizeof(err)));
	EXPECT_FAIL(c, -EINVAL, "given twice",
		    tdm_edit_tgt_attr(c, T2, TDM_EDIT_ADD, attrs("enabled=0"),
				      err, sizeof(err)));
	EXPECT_FAIL(c, -EINVAL, "needs a value",
		    tdm_edit_tgt_attr(c, T2, TDM_EDIT_ADD,
				      attrs("IncomingUser="), err,
				      sizeof(err)));
	EXPECT_FAIL(c, -ENOENT, "target " T2 " has no IncomingUser bob",
		    tdm_edit_tgt_attr(c, T2, TDM_EDIT_REMOVE,
				      attrs("IncomingUser=bob"), err,
				      sizeof(err)));
	EXPECT_OK(tdm_edit_tgt_attr(c, T2, TDM_EDIT_REMOVE,
				    attrs("IncomingUser=joe"), err,
				    sizeof(err)));
	t = tdm_edit_find_target(c, T2);
	assert_int_equal(t->nin_users, 1);
	assert_string_equal(t->in_users[0].name, "ann");
	/* SET replaces every value of the key */
	EXPECT_OK(tdm_edit_tgt_attr(c, T2, TDM_EDIT_SET,
				    attrs("IncomingUser=zed zedsecret1234"),
				    err, sizeof(err)));
	t = tdm_edit_find_target(c, T2);
	assert_int_equal(t->nin_users, 1);
	assert_string_equal(t->in_users[0].name, "zed");
	/* REMOVE with no value: all of them */
	EXPECT_OK(tdm_edit_tgt_attr(c, T2, TDM_EDIT_REMOVE,
				    attrs("IncomingUser=,allowed_portal="), err,
				    sizeof(err)));
	t = tdm_edit_find_target(c, T2);
	assert_int_equal(t->nin_users, 0);
	assert_int_equal(t->nallowed_portals, 0);
	/* LUNs and groups of T1 untouched by its attribute edits */
	EXPECT_OK(tdm_edit_tgt_attr(c, T1, TDM_EDIT_SET, attrs("enabled=0"),
				    err, sizeof(err)));
	t = tdm_edit_find_target(c, T1);
	assert_false(t->enabled);
	assert_int_equal(t->nluns, 1);
	assert_int_equal(t->ngroups, 1);
	assert_int_equal(t->groups[0].ninitiators, 1);

	EXPECT_FAIL(c, -ENOENT, "no target 'iqn.nope'",
		    tdm_edit_rem_target(c, "iqn.nope", err, sizeof(err)));
	EXPECT_OK(tdm_edit_rem_target(c, "iqn.2026-01.org.tandem:t3", err,
				      sizeof(err)));
	assert_int_equal(c->ntargets, 2);
	assert_roundtrip(c);
}

static void test_edit_driver(void **state)
{
	struct tdm_conf *c = *state;
	struct tdm_conf empty;

	EXPECT_OK(tdm_edit_drv_attr(c, TDM_DRV_ISCSI, TDM_EDIT_ADD,
				    attrs("portal=127.0.0.1,portal=[::1]:3261"),
				    err, sizeof(err)));
	assert_int_equal(c->nportals, 2);
	assert_string_equal(c->portals[0], "127.0.0.1:3260");
	EXPECT_FAIL(c, -EINVAL, "portal 127.0.0.1:3260 given twice",
		    tdm_edit_drv_attr(c, TDM_DRV_ISCSI, TDM_EDIT_ADD,
				      attrs("portal=127.0.0.1:3260"), err,
				      sizeof(err)));
	EXPECT_FAIL(c, -EINVAL, "not a numeric IPv4 or IPv6 address",
		    tdm_edit_drv_attr(c, TDM_DRV_ISCSI, TDM_EDIT_ADD,
				      attrs("portal=localhost"), err,
				      sizeof(err)));
	/* removal compares normalised portals */
	EXPECT_OK(tdm_edit_drv_attr(c, TDM_DRV_ISCSI, TDM_EDIT_REMOVE,
				    attrs("portal=127.0.0.1"), err,
				    sizeof(err)));
	assert_int_equal(c->nportals, 1);
	assert_string_equal(c->portals[0], "[::1]:3261");
	EXPECT_FAIL(c, -ENOENT, "has no portal 10.9.9.9",
		    tdm_edit_drv_attr(c, TDM_DRV_ISCSI, TDM_EDIT_REMOVE,
				      attrs("portal=10.9.9.9"), err,
				      sizeof(err)));
	EXPECT_OK(tdm_edit_drv_attr(c, TDM_DRV_ISCSI, TDM_EDIT_SET,
				    attrs("enabled=0"), err, sizeof(err)));
	assert_false(c->iscsi_enabled);
	assert_int_equal(c->ntargets, 2);

	/* a configuration without TARGET_DRIVER gets one */
	assert_int_equal(
		tdm_conf_parse("", 0, "empty", &empty, err, sizeof(err)), 0);
	EXPECT_OK(tdm_edit_add_target(&empty, TDM_DRV_ISCSI, "iqn.2026-01.x:a",
				      attrs("enabled=1"), err, sizeof(err)));
	assert_int_equal(empty.ntargets, 1);
	EXPECT_OK(tdm_edit_drv_attr(&empty, TDM_DRV_ISCSI, TDM_EDIT_SET,
				    attrs("enabled=1"), err, sizeof(err)));
	assert_true(empty.iscsi_enabled);
	assert_roundtrip(&empty);
	tdm_conf_free(&empty);
	assert_int_equal(
		tdm_conf_parse("", 0, "empty", &empty, err, sizeof(err)), 0);
	EXPECT_OK(tdm_edit_drv_attr(&empty, TDM_DRV_ISCSI, TDM_EDIT_ADD,
				    attrs("portal=127.0.0.1:3300"), err,
				    sizeof(err)));
	assert_int_equal(empty.nportals, 1);
	tdm_conf_free(&empty);

	/* the kernel fabrics: a target each, their driver made by it */
	assert_int_equal(
		tdm_conf_parse("", 0, "empty", &empty, err, sizeof(err)), 0);
	EXPECT_OK(tdm_edit_add_target(&empty, TDM_DRV_LOCAL, "local1",
				      attrs("session_name=host_a"), err,
				      sizeof(err)));
	EXPECT_OK(tdm_edit_add_target(&empty, TDM_DRV_VIO, "0x30000003", NULL,
				      err, sizeof(err)));
	EXPECT_OK(tdm_edit_add_target(&empty, TDM_DRV_FC, "0x21000024ff314c48",
				      NULL, err, sizeof(err)));
	EXPECT_FAIL(&empty, -EINVAL,
		    "TARGET_DRIVER qla2x00t: portal is not a qla2x00t "
		    "attribute",
		    tdm_edit_drv_attr(&empty, TDM_DRV_FC, TDM_EDIT_ADD,
				      attrs("portal=127.0.0.1"), err,
				      sizeof(err)));
	EXPECT_OK(tdm_edit_drv_attr(&empty, TDM_DRV_FC, TDM_EDIT_SET,
				    attrs("enabled=0"), err, sizeof(err)));
	assert_int_equal(empty.ntargets, 3);
	assert_string_equal(empty.targets[0].session_name, "host_a");
	assert_string_equal(empty.targets[1].name, "30000003");
	assert_string_equal(empty.targets[2].name, "21:00:00:24:ff:31:4c:48");
	assert_true(empty.targets[2].enabled);
	assert_false(tdm_conf_driver_enabled(&empty, TDM_DRV_FC));
	assert_roundtrip(&empty);
	tdm_conf_free(&empty);
}

static void test_edit_luns_groups(void **state)
{
	struct tdm_conf *c = *state;
	struct tdm_conf_target *t;
	struct tdm_conf_group *g;

	EXPECT_OK(tdm_edit_add_lun(c, T1, NULL, 5, "r1", attrs("read_only=1"),
				   err, sizeof(err)));
	t = tdm_edit_find_target(c, T1);
	assert_int_equal(t->nluns, 2);
	assert_int_equal(t->luns[1].lun, 5);
	assert_true(t->luns[1].read_only);
	EXPECT_FAIL(
		c, -EEXIST, "target " T1 " already has LUN 5",
		tdm_edit_add_lun(c, T1, NULL, 5, "r0", NULL, err, sizeof(err)));
	EXPECT_FAIL(c, -EEXIST,
		    "group hosts of target " T1 " already has LUN 0",
		    tdm_edit_add_lun(c, T1, "hosts", 0, "r0", NULL, err,
				     sizeof(err)));
	EXPECT_FAIL(c, -ENOENT, "no device 'nope'",
		    tdm_edit_add_lun(c, T1, NULL, 6, "nope", NULL, err,
				     sizeof(err)));
	EXPECT_FAIL(
		c, -ENOENT, "has no group 'g9'",
		tdm_edit_add_lun(c, T1, "g9", 6, "r0", NULL, err, sizeof(err)));
	EXPECT_FAIL(c, -ENOENT, "no target",
		    tdm_edit_add_lun(c, "iqn.no", NULL, 6, "r0", NULL, err,
				     sizeof(err)));
	EXPECT_FAIL(c, -EINVAL, "LUN number must be 0..16383, got '16384'",
		    tdm_edit_add_lun(c, T1, NULL, 16384, "r0", NULL, err,
				     sizeof(err)));
	EXPECT_FAIL(c, -EINVAL, "read_only must be 0 or 1, got '2'",
		    tdm_edit_add_lun(c, T1, NULL, 6, "r0", attrs("read_only=2"),
				     err, sizeof(err)));
	EXPECT_FAIL(c, -EINVAL, "unknown attribute 'foo'",
		    tdm_edit_add_lun(c, T1, NULL, 6, "r0", attrs("foo=1"), err,
				     sizeof(err)));
	EXPECT_FAIL(c, -ENOENT, "target " T1 " has no LUN 9",
		    tdm_edit_rem_lun(c, T1, NULL, 9, err, sizeof(err)));
	EXPECT_OK(tdm_edit_rem_lun(c, T1, NULL, 5, err, sizeof(err)));
	assert_int_equal(tdm_edit_find_target(c, T1)->nluns, 1);

	/* groups */
	EXPECT_OK(tdm_edit_add_group(c, T1, "g2", err, sizeof(err)));
	EXPECT_FAIL(c, -EEXIST, "already has group 'g2'",
		    tdm_edit_add_group(c, T1, "g2", err, sizeof(err)));
	EXPECT_FAIL(c, -EINVAL, "bad GROUP name 'no good'",
		    tdm_edit_add_group(c, T1, "no good", err, sizeof(err)));
	EXPECT_OK(
		tdm_edit_add_lun(c, T1, "g2", 3, "r0", NULL, err, sizeof(err)));
	EXPECT_OK(tdm_edit_add_init(c, T1, "g2", "iqn.2000-01.com.x:host1", err,
				    sizeof(err)));
	EXPECT_OK(tdm_edit_add_init(c, T1, "g2", "!iqn.2000-01.com.x:bad", err,
				    sizeof(err)));
	g = tdm_edit_find_group(tdm_edit_find_target(c, T1), "g2");
	assert_int_equal(g->nluns, 1);
	assert_int_equal(g->ninitiators, 2);
	assert_string_equal(g->initiators[1], "!iqn.2000-01.com.x:bad");
	EXPECT_FAIL(c, -EEXIST, "already in group hosts",
		    tdm_edit_add_init(c, T1, "g2", "iqn.1993-08.org.debian:*",
				      err, sizeof(err)));
	EXPECT_FAIL(
		c, -EINVAL, "bad INITIATOR",
		tdm_edit_add_init(c, T1, "g2", "has space", err, sizeof(err)));
	EXPECT_FAIL(c, -ENOENT, "no initiator pattern 'iqn.zz'",
		    tdm_edit_rem_init(c, T1, "g2", "iqn.zz", err, sizeof(err)));
	EXPECT_OK(tdm_edit_grp_attr(c, T1, "g2", TDM_EDIT_ADD,
				    attrs("IncomingUser=h1 h1secret1234"), err,
				    sizeof(err)));
	g = tdm_edit_find_group(tdm_edit_find_target(c, T1), "g2");
	assert_int_equal(g->nin_users, 1);
	EXPECT_FAIL(c, -EINVAL, "unknown attribute 'enabled'",
		    tdm_edit_grp_attr(c, T1, "g2", TDM_EDIT_SET,
				      attrs("enabled=1"), err, sizeof(err)));
	assert_roundtrip(c);
	EXPECT_OK(tdm_edit_rem_init(c, T1, "g2", "iqn.2000-01.com.x:host1", err,
				    sizeof(err)));
	g = tdm_edit_find_group(tdm_edit_find_target(c, T1), "g2");
	assert_int_equal(g->ninitiators, 1);
	EXPECT_OK(tdm_edit_rem_lun(c, T1, "g2", 3, err, sizeof(err)));
	EXPECT_FAIL(c, -ENOENT, "has no group 'g3'",
		    tdm_edit_rem_group(c, T1, "g3", err, sizeof(err)));
	EXPECT_OK(tdm_edit_rem_group(c, T1, "g2", err, sizeof(err)));
	assert_int_equal(tdm_edit_find_target(c, T1)->ngroups, 1);
	assert_roundtrip(c);
	attrs(""); /* frees the static attributes */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_req_valid),
		cmocka_unit_test(test_req_malformed),
		cmocka_unit_test(test_req_too_long),
		cmocka_unit_test(test_req_roundtrip),
		cmocka_unit_test(test_rsp_roundtrip),
		cmocka_unit_test(test_rsp_malformed),
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_rx_pipeline_bytewise),
		cmocka_unit_test(test_rx_pipeline_whole),
		cmocka_unit_test(test_rx_errors),
		cmocka_unit_test(test_call),
		cmocka_unit_test(test_connect_errors),
		cmocka_unit_test(test_attrs),
		cmocka_unit_test_setup_teardown(test_edit_devices, setup_conf,
						teardown_conf),
		cmocka_unit_test_setup_teardown(test_edit_targets, setup_conf,
						teardown_conf),
		cmocka_unit_test_setup_teardown(test_edit_driver, setup_conf,
						teardown_conf),
		cmocka_unit_test_setup_teardown(test_edit_luns_groups,
						setup_conf, teardown_conf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL) ? 1 : 0;
}
