/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fuzz_edit.c - libFuzzer target for the ordered configuration edits
 * tandemd reads from other heads and from tandemctl: an edit
 * (conf/conf_edit_ops.h; a decoded one must re-encode to the same bytes
 * and apply to a small configuration without harm) and the daemon's part
 * of a cluster snapshot, the edit log (conf/conf_edit_log.h; a decoded
 * one must re-encode to the same bytes).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf_edit_log.h"
#include "conf/conf_edit_ops.h"

static const char base_conf[] = "HANDLER ram {\n"
				"\tDEVICE r0 {\n\t\tsize_mb 16\n\t}\n"
				"}\n"
				"TARGET_DRIVER iscsi {\n"
				"\tenabled 1\n"
				"\tTARGET iqn.2026-01.org.tandem:t1 {\n"
				"\t\tLUN 0 r0\n"
				"\t\tGROUP g {\n"
				"\t\t\tINITIATOR iqn.*\n"
				"\t\t}\n"
				"\t}\n"
				"}\n";

static void edit(const uint8_t *data, size_t size)
{
	struct tdm_conf c;
	struct tdm_edit e;
	char err[2048], buf[256];
	uint8_t *p;
	size_t n;

	if (tdm_edit_decode(data, size, &e, err, sizeof(err)) < 0)
		return;
	if (tdm_edit_encode(&e, &p, &n) == 0) {
		if (n != size || memcmp(p, data, n) != 0)
			abort(); /* the encoding is canonical */
		free(p);
	}
	(void)tdm_edit_scope(&e, err, sizeof(err));
	tdm_edit_describe(&e, buf, sizeof(buf));
	if (tdm_conf_parse(base_conf, strlen(base_conf), "base", &c, err,
			   sizeof(err)) == 0) {
		(void)tdm_edit_apply(&c, &e, err, sizeof(err));
		tdm_conf_free(&c);
	}
	tdm_edit_free(&e);
}

static void log_part(const uint8_t *data, size_t size)
{
	struct tdm_wbuf w = {0};
	struct tdm_edit_log l;
	char err[2048];

	if (tdm_edit_log_decode(data, size, &l, err, sizeof(err)) < 0)
		return;
	(void)tdm_edit_log_reaches(&l, 1, err, sizeof(err));
	tdm_wbuf_reset(&w);
	tdm_edit_log_put(&l, &w);
	if (!w.oom && (w.len != size || memcmp(w.p, data, size) != 0))
		abort();
	tdm_wbuf_free(&w);
	tdm_edit_log_free(&l);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	edit(data, size);
	log_part(data, size);
	return 0;
}
