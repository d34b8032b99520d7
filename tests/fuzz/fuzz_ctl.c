/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fuzz_ctl.c - libFuzzer target for the control protocol (the bytes a
 * control socket client sends tandemd) and for tandemctl's -attributes.
 *
 * The input is framed as a request stream in chunks whose sizes come from
 * the input itself, as a response stream in one piece, and parsed as an
 * -attributes list applied to a small configuration. Invariants:
 * framing never consumes more than it is given; a parsed request or
 * response formats back to a header that parses to the same thing; a
 * failed frame leaves a message; an attribute edit either fails with a
 * message and leaves the configuration as it was, or gives one that
 * survives a write/parse round trip and still has exactly its devices
 * and targets (a value can never inject a statement). Violations abort.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf_edit.h"
#include "ctl/ctl_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_ctl: %s: %s\n", what, detail ? detail : "");
	abort();
}

static void check_req(const struct tdm_ctl_req *a)
{
	char line[TDM_CTL_LINE_MAX + 1], err[256];
	struct tdm_ctl_req b;
	int n = tdm_ctl_req_format(a, line, sizeof(line));

	if (n < 0)
		fail("request does not format back",
		     tdm_ctl_verb_name(a->verb));
	if (tdm_ctl_req_parse(line, (size_t)n - 1, &b, err, sizeof(err)))
		fail("formatted request does not parse", err);
	if (a->verb != b.verb || a->num != b.num ||
	    a->payload_len != b.payload_len || strcmp(a->name, b.name) != 0 ||
	    strcmp(a->name2, b.name2) != 0 || a->preferred != b.preferred)
		fail("request round trip", line);
}

static void check_rsp(const struct tdm_ctl_rsp *a)
{
	char line[TDM_CTL_LINE_MAX + 1], err[256];
	struct tdm_ctl_rsp *b = malloc(sizeof(*b));
	int n = tdm_ctl_rsp_format(a, line, sizeof(line));

	if (!b)
		fail("malloc", NULL);
	if (n < 0)
		fail("response does not format back", NULL);
	if (tdm_ctl_rsp_parse(line, (size_t)n - 1, b, err, sizeof(err)))
		fail("formatted response does not parse", err);
	if (a->status != b->status || a->payload_len != b->payload_len ||
	    a->nkv != b->nkv)
		fail("response round trip", line);
	for (size_t i = 0; i < a->nkv; i++)
		if (strcmp(a->kv[i].key, b->kv[i].key) != 0 ||
		    strcmp(a->kv[i].value, b->kv[i].value) != 0)
			fail("response pair round trip", line);
	free(b);
}

static void frame_requests(const uint8_t *data, size_t size)
{
	struct tdm_ctl_rx *rx = malloc(sizeof(*rx));
	size_t off = 0, chunk = size ? (size_t)data[0] % 17 + 1 : 1;

	if (!rx)
		fail("malloc", NULL);
	tdm_ctl_rx_init(rx, TDM_CTL_RX_REQUEST);
	while (off < size) {
		size_t n = size - off < chunk ? size - off : chunk, used;
		int r = tdm_ctl_rx_feed(rx, (const char *)data + off, n, &used);

		if (used > n)
			fail("framing consumed more than given", NULL);
		off += used;
		if (r < 0) {
			if (!rx->err[0])
				fail("framing error without a message", NULL);
			break;
		}
		if (r == 1) {
			if (rx->payload_len != rx->req.payload_len ||
			    rx->payload[rx->payload_len] != '\0')
				fail("payload", "length or terminator");
			check_req(&rx->req);
			tdm_ctl_rx_next(rx);
		} else if (used != n) {
			fail("framing stalled", NULL);
		}
	}
	tdm_ctl_rx_free(rx);
	free(rx);
}

static void frame_response(const uint8_t *data, size_t size)
{
	struct tdm_ctl_rx *rx = malloc(sizeof(*rx));
	size_t used;

	if (!rx)
		fail("malloc", NULL);
	tdm_ctl_rx_init(rx, TDM_CTL_RX_RESPONSE);
	if (tdm_ctl_rx_feed(rx, (const char *)data, size, &used) == 1)
		check_rsp(&rx->rsp);
	tdm_ctl_rx_free(rx);
	free(rx);
}

static const char base[] = "HANDLER ram {\nDEVICE r0 {\nsize_mb 1\n}\n}\n"
			   "TARGET_DRIVER iscsi {\nenabled 1\n"
			   "TARGET iqn.2026-01.x:t {\nLUN 0 r0\n"
			   "GROUP g {\nINITIATOR a*\n}\n}\n}\n";

static void edit_attrs(const uint8_t *data, size_t size)
{
	struct tdm_conf c, before, back;
	struct tdm_attrs a;
	char err[2048], *s, *text;
	size_t len;
	int r;

	if (size > 4096)
		return;
	s = malloc(size + 1);
	if (!s)
		fail("malloc", NULL);
	memcpy(s, data, size);
	s[size] = '\0';
	r = tdm_attrs_parse(s, &a, err, sizeof(err));
	free(s);
	if (r) {
		if (!err[0])
			fail("attrs error without a message", NULL);
		return;
	}
	if (tdm_conf_parse(base, sizeof(base) - 1, "base", &c, err,
			   sizeof(err)) ||
	    tdm_conf_dup(&c, &before))
		fail("base", err);
	for (int which = 0; which < 4; which++) {
		err[0] = '\0';
		switch (which) {
		case 0:
			r = tdm_edit_dev_attr(&c, "r0", &a, err, sizeof(err));
			break;
		case 1:
			r = tdm_edit_tgt_attr(&c, "iqn.2026-01.x:t",
					      (enum tdm_edit_mode)(size % 3),
					      &a, err, sizeof(err));
			break;
		case 2:
			r = tdm_edit_drv_attr(&c, TDM_DRV_ISCSI, TDM_EDIT_ADD,
					      &a, err, sizeof(err));
			break;
		default:
			r = tdm_edit_add_lun(&c, "iqn.2026-01.x:t", "g", 1,
					     "r0", &a, err, sizeof(err));
			break;
		}
		if (r) {
			if (!err[0])
				fail("edit error without a message", NULL);
			if (!tdm_conf_equal(&c, &before))
				fail("a failed edit changed the configuration",
				     err);
			continue;
		}
		if (c.ndevices != 1 || c.ntargets != 1 ||
		    c.targets[0].ngroups != 1 || c.targets[0].nluns != 1 ||
		    c.targets[0].groups[0].ninitiators != 1 ||
		    c.targets[0].groups[0].nluns != (which == 3 ? 1u : 0u))
			fail("an attribute edit changed the structure", NULL);
		if (tdm_conf_write(&c, &text, &len))
			fail("write", NULL);
		if (tdm_conf_parse(text, len, "back", &back, err, sizeof(err)))
			fail("edited configuration does not parse", err);
		if (!tdm_conf_equal(&c, &back))
			fail("edited configuration round trip", text);
		free(text);
		tdm_conf_free(&back);
		tdm_conf_free(&before);
		if (tdm_conf_dup(&c, &before))
			fail("dup", NULL);
	}
	tdm_conf_free(&c);
	tdm_conf_free(&before);
	tdm_attrs_free(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	frame_requests(data, size);
	frame_response(data, size);
	edit_attrs(data, size);
	return 0;
}
