/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * test_iscsi_param.c - iSCSI text negotiation rules (RFC 7143 6, 13),
 * binary values, names, MD5 (RFC 1321 A.5) and CRC32C (RFC 3720 B.4).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "iscsi/iscsi_int.h"
#include "lib/escape.h"

/* ---- helpers ---- */

struct neg_env {
	struct tdm__iscsi_prefs pr;
	struct tdm__iscsi_params p;
	char resp[300];
};

static void env_init(struct neg_env *e)
{
	tdm__iscsi_prefs_default(&e->pr);
	tdm__iscsi_params_default(&e->p);
	e->resp[0] = '\0';
}

static enum tdm__iscsi_neg neg(struct neg_env *e, const char *k, const char *v)
{
	return tdm__iscsi_negotiate(k, v, ISCSI_PHASE_OPERATIONAL, false,
				    &e->pr, &e->p, e->resp, sizeof(e->resp));
}

static void hex16(const uint8_t *d, char *out)
{
	for (int i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* ---- MD5, RFC 1321 A.5 ---- */

static void test_md5_rfc1321(void **state)
{
	static const struct {
		const char *in, *out;
	} v[] = {
		{"", "d41d8cd98f00b204e9800998ecf8427e"},
		{"a", "0cc175b9c0f1b6a831c399e269772661"},
		{"abc", "900150983cd24fb0d6963f7d28e17f72"},
		{"message digest", "f96b697d7cb7938d525a2f31aaf161d0"},
		{"abcdefghijklmnopqrstuvwxyz",
		 "c3fcd3d76192e4007dfb496cca67e13b"},
		{"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz012345"
		 "6789",
		 "d174ab98d277d9f5a5611c2c9f419d9f"},
		{"123456789012345678901234567890123456789012345678901234567"
		 "89012345678901234567890",
		 "57edf4a22be3c955ac49da2e2107b67a"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint8_t d[16];
		char hex[33];

		tdm__md5(v[i].in, strlen(v[i].in), d);
		hex16(d, hex);
		assert_string_equal(hex, v[i].out);
	}
}

static void test_md5_incremental(void **state)
{
	/* the same digest whatever the split */
	const char *s = "12345678901234567890123456789012345678901234567890"
			"123456789012345678901234567890";
	uint8_t a[16], b[16];
	(void)state;

	tdm__md5(s, strlen(s), a);
	for (size_t cut = 0; cut <= strlen(s); cut++) {
		struct tdm__md5 m;

		tdm__md5_init(&m);
		tdm__md5_update(&m, s, cut);
		tdm__md5_update(&m, s + cut, strlen(s) - cut);
		tdm__md5_final(&m, b);
		assert_memory_equal(a, b, 16);
	}
}

static void test_chap_md5(void **state)
{
	/* RFC 1994 4.1: MD5(Identifier || secret || Challenge); reference
	 * value computed with Python's hashlib */
	uint8_t buf[1 + 12 + 16], d[16];
	char hex[33];
	(void)state;

	buf[0] = 0x2a;
	memcpy(buf + 1, "secretsecret", 12);
	for (int i = 0; i < 16; i++)
		buf[13 + i] = (uint8_t)i;
	tdm__md5(buf, sizeof(buf), d);
	hex16(d, hex);
	assert_string_equal(hex, "54d49338a27b0c1dd5e935c21ab005a3");
}

/* ---- CRC32C, RFC 3720 B.4 ---- */

static void test_crc32c_vectors(void **state)
{
	uint8_t b[48];
	static const uint8_t read_pdu[48] = {
		0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00,
		0x00, 0x18, 0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	};
	uint8_t wire[4];
	(void)state;

	memset(b, 0, 32);
	assert_int_equal(tdm_crc32c(b, 32), 0x8a9136aa);
	/* the digest travels least significant byte first */
	tdm__iscsi_put_digest(wire, tdm_crc32c(b, 32));
	assert_int_equal(wire[0], 0xaa);
	assert_int_equal(wire[3], 0x8a);
	assert_int_equal(tdm__iscsi_get_digest(wire), 0x8a9136aa);
	memset(b, 0xff, 32);
	assert_int_equal(tdm_crc32c(b, 32), 0x62a8ab43);
	for (int i = 0; i < 32; i++)
		b[i] = (uint8_t)i;
	assert_int_equal(tdm_crc32c(b, 32), 0x46dd794e);
	for (int i = 0; i < 32; i++)
		b[i] = (uint8_t)(31 - i);
	assert_int_equal(tdm_crc32c(b, 32), 0x113fdb5c);
	assert_int_equal(tdm_crc32c(read_pdu, 48), 0xd9963a56);
	assert_int_equal(tdm_crc32c("123456789", 9), 0xe3069283);
}

static void test_crc32c_split(void **state)
{
	uint8_t buf[1000];
	uint32_t whole;
	(void)state;

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	whole = tdm_crc32c(buf, sizeof(buf));
	/* any split and any alignment gives the same answer */
	for (size_t off = 0; off < 9; off++) {
		for (size_t cut = 0; cut < 300; cut += 37) {
			uint32_t c = tdm_crc32c_update(~0u, buf + off, cut);

			c = ~tdm_crc32c_update(c, buf + off + cut,
					       sizeof(buf) - off - cut);
			assert_int_equal(
				c, tdm_crc32c(buf + off, sizeof(buf) - off));
		}
	}
	assert_int_equal(whole, tdm_crc32c(buf, sizeof(buf)));
}

/* ---- text ---- */

static void test_text_parse(void **state)
{
	char buf[] = "A=1\0Bb.c-d+e@f_g=x,y\0Empty=\0\0\0";
	char bad1[] = "NoEquals\0";
	char bad2[] = "Bad Key=1\0";
	char bad3[] = "=v\0";
	char unterminated[] = "Key=val";
	struct tdm__iscsi_kv kv[8];
	(void)state;

	assert_int_equal(tdm__iscsi_text_parse(buf, sizeof(buf) - 1, kv, 8), 3);
	assert_string_equal(kv[0].key, "A");
	assert_string_equal(kv[0].val, "1");
	assert_string_equal(kv[1].key, "Bb.c-d+e@f_g");
	assert_string_equal(kv[1].val, "x,y");
	assert_string_equal(kv[2].key, "Empty");
	assert_string_equal(kv[2].val, "");
	assert_int_equal(tdm__iscsi_text_parse(bad1, sizeof(bad1) - 1, kv, 8),
			 -EINVAL);
	assert_int_equal(tdm__iscsi_text_parse(bad2, sizeof(bad2) - 1, kv, 8),
			 -EINVAL);
	assert_int_equal(tdm__iscsi_text_parse(bad3, sizeof(bad3) - 1, kv, 8),
			 -EINVAL);
	assert_int_equal(tdm__iscsi_text_parse(unterminated,
					       sizeof(unterminated) - 1, kv, 8),
			 1);
	assert_string_equal(kv[0].val, "val");
	{
		char many[] = "A=1\0B=2\0C=3\0";

		assert_int_equal(
			tdm__iscsi_text_parse(many, sizeof(many) - 1, kv, 2),
			-E2BIG);
	}
}

static void test_text_add(void **state)
{
	struct tdm__iscsi_text t = {0};
	(void)state;

	assert_int_equal(tdm__iscsi_text_add(&t, "Key", "%u", 42u), 0);
	assert_int_equal(tdm__iscsi_text_add(&t, "Other", "%s", "v"), 0);
	assert_int_equal(t.len, strlen("Key=42") + 1 + strlen("Other=v") + 1);
	assert_memory_equal(t.buf, "Key=42\0Other=v\0", t.len);
	tdm__iscsi_text_free(&t);
}

static void test_numbers_and_binary(void **state)
{
	uint64_t v;
	uint8_t out[16];
	size_t n;
	(void)state;

	assert_int_equal(tdm__iscsi_parse_num("262144", &v), 0);
	assert_int_equal(v, 262144);
	assert_int_equal(tdm__iscsi_parse_num("0x200", &v), 0);
	assert_int_equal(v, 512);
	assert_int_equal(tdm__iscsi_parse_num("", &v), -EINVAL);
	assert_int_equal(tdm__iscsi_parse_num("12a", &v), -EINVAL);
	assert_int_equal(tdm__iscsi_parse_num("0x", &v), -EINVAL);
	assert_int_equal(tdm__iscsi_parse_num("-1", &v), -EINVAL);
	assert_int_equal(tdm__iscsi_parse_num("99999999999999999999999", &v),
			 -ERANGE);

	assert_int_equal(tdm__iscsi_bin_decode("0x0aFF", out, 16, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(out[0], 0x0a);
	assert_int_equal(out[1], 0xff);
	assert_int_equal(tdm__iscsi_bin_decode("0xabc", out, 16, &n), 0);
	assert_int_equal(n, 2); /* odd: a leading nibble */
	assert_int_equal(out[0], 0x0a);
	assert_int_equal(out[1], 0xbc);
	assert_int_equal(tdm__iscsi_bin_decode("0bAQID", out, 16, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(out[2], 3);
	assert_int_equal(tdm__iscsi_bin_decode("0bAQI=", out, 16, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(tdm__iscsi_bin_decode("0bAQ==", out, 16, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(tdm__iscsi_bin_decode("0bAQ=A", out, 16, &n), -EINVAL);
	assert_int_equal(tdm__iscsi_bin_decode("0bA", out, 16, &n), -EINVAL);
	assert_int_equal(tdm__iscsi_bin_decode("0xzz", out, 16, &n), -EINVAL);
	assert_int_equal(tdm__iscsi_bin_decode("1234", out, 16, &n), -EINVAL);
	assert_int_equal(tdm__iscsi_bin_decode("0x", out, 16, &n), -EINVAL);
	assert_int_equal(tdm__iscsi_bin_decode("0x00112233", out, 3, &n),
			 -E2BIG);
	{
		char hex[40];

		tdm__iscsi_hex_encode((const uint8_t *)"\x01\xab", 2, hex,
				      sizeof(hex));
		assert_string_equal(hex, "0x01ab");
	}
}

static void test_names(void **state)
{
	(void)state;
	assert_true(tdm__iscsi_name_valid("iqn.2024-01.com.example:disk1"));
	assert_true(tdm__iscsi_name_valid("eui.02004567A425678D"));
	assert_true(tdm__iscsi_name_valid("naa.52004567BA64678D"));
	assert_false(tdm__iscsi_name_valid("Alle"));
	assert_false(tdm__iscsi_name_valid("A"));
	assert_false(tdm__iscsi_name_valid("iqn."));
	assert_false(tdm__iscsi_name_valid("iqn.x y"));
	/* RFC 3720 3.2.6.3.2, RFC 3980: hex digits, 16 or 32 */
	assert_true(tdm__iscsi_name_valid("eui.0123456789abcdef"));
	assert_false(tdm__iscsi_name_valid("eui.0123456789abcde"));
	assert_false(tdm__iscsi_name_valid("eui.0123456789abcdeg"));
	assert_true(
		tdm__iscsi_name_valid("naa.60014051234567890123456789abcdef"));
	assert_false(tdm__iscsi_name_valid("naa.6001405123456789012"));
	/* RFC 3722 6.1: what a log line or a column must not get */
	assert_false(tdm__iscsi_name_valid("iqn.2026-11.x:a\nforged"));
	assert_false(tdm__iscsi_name_valid("iqn.2026-11.x:\x1b[2J"));
	assert_false(tdm__iscsi_name_valid("iqn.2026-11.x:a\tb"));
	assert_false(tdm__iscsi_name_valid("iqn.2026-11.x:a,b"));
	assert_false(tdm__iscsi_name_valid("iqn.2026-11.x:a/b"));
	assert_false(tdm__iscsi_name_valid("iqn.2026-11.x:\xc3\xa9"));
	assert_false(tdm__iscsi_name_valid("iqn.2026-11.x:\x7f"));
	/* what real initiators and our configuration files use */
	assert_true(tdm__iscsi_name_valid("iqn.localhost.hostid.7f000001"));
	assert_true(tdm__iscsi_name_valid(
		"iqn.1993-08.org.debian:01:7a1f2b3c4d5e"));
	assert_true(tdm__iscsi_name_valid("iqn.2026-11.X:Under_Score"));
	{
		char n[230];

		memcpy(n, "iqn.", 4);
		memset(n + 4, 'a', sizeof(n) - 5);
		n[223] = '\0';
		assert_true(tdm__iscsi_name_valid(n)); /* 223 bytes */
		n[223] = 'a';
		n[224] = '\0';
		assert_false(tdm__iscsi_name_valid(n));
	}
}

/* what a peer sent, fit for a log line (lib/escape.h) */
static void test_escape(void **state)
{
	char out[TDM_ESCAPE_LEN], small[12];

	(void)state;
	assert_string_equal(tdm_escape("iqn.2026-11.x:t", out, sizeof(out)),
			    "iqn.2026-11.x:t");
	assert_string_equal(tdm_escape("a\nb c\x1b[2J\\", out, sizeof(out)),
			    "a\\x0ab\\x20c\\x1b[2J\\x5c");
	assert_string_equal(tdm_escape("\xc3\xa9\x7f", out, sizeof(out)),
			    "\\xc3\\xa9\\x7f");
	assert_string_equal(tdm_escape("", out, sizeof(out)), "");
	/* cut at a whole escape, marked */
	assert_string_equal(
		tdm_escape("abcdefghijklmnop", small, sizeof(small)),
		"abcdefgh...");
	assert_string_equal(tdm_escape("abcdef\n\n", small, sizeof(small)),
			    "abcdef...");
	assert_string_equal(tdm_escape("abcdefghijk", small, sizeof(small)),
			    "abcdefghijk");
}

/* ---- negotiation, RFC 7143 6.2 and 13 ---- */

static void test_neg_digest_list(void **state)
{
	struct neg_env e;
	(void)state;

	env_init(&e);
	assert_int_equal(neg(&e, "HeaderDigest", "CRC32C,None"),
			 ISCSI_NEG_RESPOND);
	assert_string_equal(e.resp, "CRC32C");
	assert_true(e.p.header_digest);
	neg(&e, "HeaderDigest", "None,CRC32C");
	assert_string_equal(e.resp, "None");
	assert_false(e.p.header_digest);
	neg(&e, "DataDigest", "X-vendor,CRC32C");
	assert_string_equal(e.resp, "CRC32C");
	assert_true(e.p.data_digest);

	e.pr.header_digest = ISCSI_DIGEST_NONE;
	neg(&e, "HeaderDigest", "CRC32C");
	assert_string_equal(e.resp, "Reject");
	neg(&e, "HeaderDigest", "CRC32C,None");
	assert_string_equal(e.resp, "None");
	neg(&e, "HeaderDigest", "");
	assert_string_equal(e.resp, "Reject");
}

static void test_neg_boolean(void **state)
{
	struct neg_env e;
	(void)state;

	env_init(&e);
	/* InitialR2T: OR (13.10) */
	e.pr.initial_r2t = false;
	neg(&e, "InitialR2T", "No");
	assert_string_equal(e.resp, "No");
	assert_false(e.p.initial_r2t);
	e.pr.initial_r2t = true;
	neg(&e, "InitialR2T", "No");
	assert_string_equal(e.resp, "Yes");
	assert_true(e.p.initial_r2t);
	/* ImmediateData: AND (13.11) */
	e.pr.immediate_data = true;
	neg(&e, "ImmediateData", "Yes");
	assert_string_equal(e.resp, "Yes");
	e.pr.immediate_data = false;
	neg(&e, "ImmediateData", "Yes");
	assert_string_equal(e.resp, "No");
	assert_false(e.p.immediate_data);
	/* we need data in order (13.18, 13.19: OR) */
	neg(&e, "DataPDUInOrder", "No");
	assert_string_equal(e.resp, "Yes");
	neg(&e, "DataSequenceInOrder", "No");
	assert_string_equal(e.resp, "Yes");
	/* not a boolean */
	neg(&e, "InitialR2T", "yes");
	assert_string_equal(e.resp, "Reject");
	neg(&e, "ImmediateData", "1");
	assert_string_equal(e.resp, "Reject");
	/* iSER is not here (RFC 7145): AND with No */
	neg(&e, "RDMAExtensions", "Yes");
	assert_string_equal(e.resp, "No");
}

static void test_neg_numeric(void **state)
{
	struct neg_env e;
	(void)state;

	env_init(&e);
	e.pr.max_burst = 1048576;
	/* minimum function (13.13) */
	neg(&e, "MaxBurstLength", "262144");
	assert_string_equal(e.resp, "262144");
	assert_int_equal(e.p.max_burst, 262144);
	neg(&e, "MaxBurstLength", "16776192");
	assert_string_equal(e.resp, "1048576");
	/* above the legal range: a minimum function clamps */
	neg(&e, "MaxBurstLength", "4294967295");
	assert_string_equal(e.resp, "1048576");
	/* below it: Reject */
	neg(&e, "MaxBurstLength", "511");
	assert_string_equal(e.resp, "Reject");
	neg(&e, "FirstBurstLength", "abc");
	assert_string_equal(e.resp, "Reject");
	neg(&e, "FirstBurstLength", "0x1000");
	assert_string_equal(e.resp, "4096");
	/* maximum function (13.15) */
	neg(&e, "DefaultTime2Wait", "5");
	assert_string_equal(e.resp, "5");
	neg(&e, "DefaultTime2Wait", "0");
	assert_string_equal(e.resp, "2");
	neg(&e, "DefaultTime2Wait", "3601");
	assert_string_equal(e.resp, "Reject");
	neg(&e, "DefaultTime2Retain", "20");
	assert_string_equal(e.resp, "0");
	/* ERL 0 only (13.20) */
	neg(&e, "ErrorRecoveryLevel", "2");
	assert_string_equal(e.resp, "0");
	neg(&e, "ErrorRecoveryLevel", "3");
	assert_string_equal(e.resp, "0");
	/* one connection per session (13.2) */
	neg(&e, "MaxConnections", "8");
	assert_string_equal(e.resp, "1");
	neg(&e, "MaxConnections", "0");
	assert_string_equal(e.resp, "Reject");
	neg(&e, "MaxOutstandingR2T", "1");
	assert_string_equal(e.resp, "1");
	neg(&e, "MaxOutstandingR2T", "100");
	assert_string_equal(e.resp, "16");
}

static void test_neg_declarative(void **state)
{
	struct neg_env e;
	(void)state;

	env_init(&e);
	/* 13.12: the initiator's MaxRecvDataSegmentLength bounds our PDUs */
	assert_int_equal(neg(&e, "MaxRecvDataSegmentLength", "4096"),
			 ISCSI_NEG_SILENT);
	assert_int_equal(e.p.max_xmit_dsl, 4096);
	neg(&e, "MaxRecvDataSegmentLength", "16777215");
	assert_int_equal(e.p.max_xmit_dsl, e.pr.max_xmit_dsl);
	assert_int_equal(neg(&e, "MaxRecvDataSegmentLength", "100"),
			 ISCSI_NEG_RESPOND);
	assert_string_equal(e.resp, "Reject");
	assert_int_equal(neg(&e, "InitiatorAlias", "host1"), ISCSI_NEG_SILENT);
	/* only targets send these */
	neg(&e, "TargetAlias", "x");
	assert_string_equal(e.resp, "Reject");
	neg(&e, "TargetPortalGroupTag", "1");
	assert_string_equal(e.resp, "Reject");
}

static void test_neg_unknown_and_special(void **state)
{
	struct neg_env e;
	char longval[400];
	(void)state;

	env_init(&e);
	neg(&e, "X-com.example.Foo", "bar");
	assert_string_equal(e.resp, "NotUnderstood");
	neg(&e, "X#vendor", "bar");
	assert_string_equal(e.resp, "NotUnderstood");
	neg(&e, "FooBar", "1");
	assert_string_equal(e.resp, "NotUnderstood");
	/* key names are case sensitive */
	neg(&e, "maxburstlength", "512");
	assert_string_equal(e.resp, "NotUnderstood");
	/* 13.26: obsoleted keys */
	neg(&e, "OFMarker", "Yes");
	assert_string_equal(e.resp, "No");
	neg(&e, "IFMarker", "Yes");
	assert_string_equal(e.resp, "No");
	neg(&e, "OFMarkInt", "2048~8192");
	assert_string_equal(e.resp, "Reject");
	/* handed back to the caller */
	assert_int_equal(neg(&e, "InitiatorName", "iqn.x"),
			 ISCSI_NEG_LOGIN_KEY);
	assert_int_equal(neg(&e, "CHAP_A", "5"), ISCSI_NEG_LOGIN_KEY);
	assert_int_equal(neg(&e, "SendTargets", "All"), ISCSI_NEG_TEXT_KEY);
	/* iSER-only keys */
	neg(&e, "TargetRecvDataSegmentLength", "8192");
	assert_string_equal(e.resp, "Irrelevant");
	/* RFC 7144 */
	neg(&e, "TaskReporting", "ResponseFence,RFC3720");
	assert_string_equal(e.resp, "RFC3720");
	neg(&e, "iSCSIProtocolLevel", "2");
	assert_string_equal(e.resp, "1");
	/* values longer than 255 bytes */
	memset(longval, '1', sizeof(longval) - 1);
	longval[sizeof(longval) - 1] = '\0';
	neg(&e, "MaxBurstLength", longval);
	assert_string_equal(e.resp, "Reject");
}

static void test_neg_phases(void **state)
{
	struct neg_env e;
	enum tdm__iscsi_neg r;
	(void)state;

	env_init(&e);
	/* RFC 7143 6.4: login-only keys are rejected in full feature */
	r = tdm__iscsi_negotiate("InitialR2T", "Yes", ISCSI_PHASE_FFP, false,
				 &e.pr, &e.p, e.resp, sizeof(e.resp));
	assert_int_equal(r, ISCSI_NEG_RESPOND);
	assert_string_equal(e.resp, "Reject");
	r = tdm__iscsi_negotiate("MaxRecvDataSegmentLength", "65536",
				 ISCSI_PHASE_FFP, false, &e.pr, &e.p, e.resp,
				 sizeof(e.resp));
	assert_int_equal(r, ISCSI_NEG_SILENT);
	assert_int_equal(e.p.max_xmit_dsl, 65536);
	/* irrelevant in discovery sessions */
	r = tdm__iscsi_negotiate("ImmediateData", "Yes",
				 ISCSI_PHASE_OPERATIONAL, true, &e.pr, &e.p,
				 e.resp, sizeof(e.resp));
	assert_string_equal(e.resp, "Irrelevant");
	r = tdm__iscsi_negotiate("HeaderDigest", "None",
				 ISCSI_PHASE_OPERATIONAL, true, &e.pr, &e.p,
				 e.resp, sizeof(e.resp));
	assert_string_equal(e.resp, "None");
}

static void test_prefs(void **state)
{
	struct tdm__iscsi_prefs pr;
	struct tdm__iscsi_params p;
	struct tdm_conf_iscsi_params cp;
	(void)state;

	tdm__iscsi_params_default(&p);
	/* RFC 7143 13 defaults */
	assert_true(p.initial_r2t);
	assert_true(p.immediate_data);
	assert_int_equal(p.max_recv_dsl, 8192);
	assert_int_equal(p.max_burst, 262144);
	assert_int_equal(p.first_burst, 65536);
	assert_int_equal(p.time2wait, 2);
	assert_int_equal(p.time2retain, 20);
	assert_int_equal(p.max_outstanding_r2t, 1);

	tdm__iscsi_prefs_default(&pr);
	assert_int_equal(pr.max_recv_dsl, 262144);
	memset(&cp, 0, sizeof(cp));
	cp.header_digest = 1;
	cp.data_digest = -1;
	cp.initial_r2t = 1;
	cp.immediate_data = -1;
	cp.max_recv_data_segment_length = 100; /* clamped to 512 */
	cp.first_burst_length = 1 << 22;
	cp.max_burst_length = 1 << 20;
	tdm__iscsi_prefs_apply(&pr, &cp);
	assert_int_equal(pr.header_digest, ISCSI_DIGEST_CRC32C);
	assert_int_equal(pr.data_digest,
			 ISCSI_DIGEST_NONE | ISCSI_DIGEST_CRC32C);
	assert_true(pr.initial_r2t);
	assert_int_equal(pr.max_recv_dsl, 512);
	/* FirstBurstLength never above MaxBurstLength (13.14) */
	assert_int_equal(pr.first_burst, 1 << 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_md5_rfc1321),
		cmocka_unit_test(test_md5_incremental),
		cmocka_unit_test(test_chap_md5),
		cmocka_unit_test(test_crc32c_vectors),
		cmocka_unit_test(test_crc32c_split),
		cmocka_unit_test(test_text_parse),
		cmocka_unit_test(test_text_add),
		cmocka_unit_test(test_numbers_and_binary),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_neg_digest_list),
		cmocka_unit_test(test_neg_boolean),
		cmocka_unit_test(test_neg_numeric),
		cmocka_unit_test(test_neg_declarative),
		cmocka_unit_test(test_neg_unknown_and_special),
		cmocka_unit_test(test_neg_phases),
		cmocka_unit_test(test_prefs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL) ? 1 : 0;
}
