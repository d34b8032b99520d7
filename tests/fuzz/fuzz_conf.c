/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fuzz_conf.c - libFuzzer target for the scst.conf reader and writer.
 *
 * Any input: parse. Accepted input: validate must agree, then
 * write -> parse must give the same configuration back, write again must
 * give the same bytes, and a deep copy must compare equal. Rejected
 * input: the error must read "fuzz:<line>: ...". Any violation aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tandem/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_conf: %s: %s\n", what, detail ? detail : "");
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tdm_conf c, c2, c3;
	char err[512], *t1 = NULL, *t2 = NULL;
	size_t n1 = 0, n2 = 0;
	int r;

	r = tdm_conf_parse((const char *)data, size, "fuzz", &c, err,
			   sizeof(err));
	if (r) {
		const char *p = err + 5;

		if (strncmp(err, "fuzz:", 5) != 0 || *p < '1' || *p > '9')
			fail("error without file:line", err);
		p += strspn(p, "0123456789");
		if (strncmp(p, ": ", 2) != 0 || strlen(p) < 3)
			fail("error without file:line", err);
		/* a failed parse leaves an empty, freeable configuration */
		tdm_conf_free(&c);
		return 0;
	}
	if (tdm_conf_validate(&c, "fuzz", err, sizeof(err)))
		fail("parse accepted what validate rejects", err);
	if (tdm_conf_write(&c, &t1, &n1))
		fail("write", "failed");
	if (strlen(t1) != n1)
		fail("write", "length mismatch or NUL byte");
	if (tdm_conf_parse(t1, n1, "written", &c2, err, sizeof(err))) {
		fprintf(stderr, "%s\n", t1);
		fail("output does not parse", err);
	}
	if (!tdm_conf_equal(&c, &c2)) {
		fprintf(stderr, "%s\n", t1);
		fail("parse(write(c)) != c", NULL);
	}
	if (tdm_conf_write(&c2, &t2, &n2))
		fail("second write", "failed");
	if (n1 != n2 || memcmp(t1, t2, n1) != 0) {
		fprintf(stderr, "%s\n----\n%s\n", t1, t2);
		fail("write(parse(write(c))) != write(c)", NULL);
	}
	if (tdm_conf_dup(&c, &c3))
		fail("dup", "failed");
	if (!tdm_conf_equal(&c, &c3))
		fail("dup", "copy differs");
	/* exercise the matcher on what was parsed */
	for (size_t i = 0; i < c.ntargets; i++)
		(void)tdm_conf_match_group(&c.targets[i], c.targets[i].name);
	free(t1);
	free(t2);
	tdm_conf_free(&c);
	tdm_conf_free(&c2);
	tdm_conf_free(&c3);
	return 0;
}
