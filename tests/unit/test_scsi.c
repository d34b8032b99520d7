/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * test_scsi.c - SPC/SBC emulation driven through the real command gate:
 * ram (and one file) LUs, test nexuses from scsi/target.c, a transport
 * that records what queue_status() saw, and CDBs built byte by byte.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "scsi/scsi_int.h"
#include "lib/loop.h"
#include "gate_harness.h"

struct fix {
	struct tdm_lu *lu;     /* 512-byte blocks, 16 MiB */
	struct tdm_nexus *nx;  /* sees lu at LUN 0 */
	struct tdm_nexus *nx2; /* a second I_T nexus to the same LU */
};

static int fix_setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->lu = ram_lu("disk0", 16 * MiB, 512);
	f->nx = tdm__test_nexus(&f->lu, 1, &tops);
	f->nx2 = tdm__test_nexus(&f->lu, 1, &tops);
	assert_non_null(f->nx);
	assert_non_null(f->nx2);
	*state = f;
	return 0;
}

static int fix_teardown(void **state)
{
	struct fix *f = *state;

	tdm__test_nexus_free(f->nx);
	tdm__test_nexus_free(f->nx2);
	tdm__lu_put(f->lu);
	free(f);
	result_free();
	return 0;
}

/* CDB builders */
static void cdb_rw10(uint8_t *c, uint8_t op, uint32_t lba, uint16_t n)
{
	memset(c, 0, 10);
	c[0] = op;
	tdm_put_be32(c + 2, lba);
	tdm_put_be16(c + 7, n);
}

static void cdb_rw16(uint8_t *c, uint8_t op, uint64_t lba, uint32_t n)
{
	memset(c, 0, 16);
	c[0] = op;
	tdm_put_be64(c + 2, lba);
	tdm_put_be32(c + 10, n);
}

static void fill(uint8_t *p, size_t len, unsigned seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 131 + seed * 7 + (i >> 9));
}

static void write10(struct tdm_nexus *nx, uint32_t lba, uint16_t n,
		    const uint8_t *d, uint32_t bs)
{
	uint8_t c[10];

	cdb_rw10(c, 0x2A, lba, n);
	run_data(nx, 0, c, 10, d, (size_t)n * bs);
	expect_good();
}

/* ---- the opcode table ---- */

static void test_optable(void **state)
{
	struct tdm_cmd cmd;
	const struct tdm_opdesc *op;
	bool bad;
	size_t i;

	(void)state;
	assert_true(tdm__op_count() > 30);
	assert_null(tdm__op_at(tdm__op_count()));
	for (i = 0; i < tdm__op_count(); i++) {
		const struct tdm_opdesc *d = tdm__op_at(i);
		uint8_t grp = d->opcode >> 5;
		static const uint8_t len_of_group[8] = {6,  10, 10, 0,
							16, 12, 0,  0};
		uint8_t want = len_of_group[grp];

		memset(&cmd, 0, sizeof(cmd));
		cmd.cdb[0] = d->opcode;
		if (d->opcode == 0x7F) /* variable length: SA in bytes 8-9 */
			tdm_put_be16(cmd.cdb + 8, d->sa);
		else
			cmd.cdb[1] = (uint8_t)d->sa;
		assert_ptr_equal(tdm__op_lookup(&cmd, &bad), d);
		assert_false(bad);
		assert_int_equal(d->usage[0], d->opcode);
		if (want) /* not variable length or vendor specific */
			assert_int_equal(d->cdb_len, want);
		assert_non_null(d->name);
		assert_non_null(d->exec);
		/* the CONTROL byte is the last one: NACA is looked at */
		assert_int_equal(d->usage[d->cdb_len - 1] & 0x04, 0x04);
		if (d->has_sa && d->opcode != 0x7F)
			assert_int_equal(d->usage[1], d->sa);
		/* the commands of unmapped LUNs are the UA exempt ones */
		assert_int_equal(!!(d->flags & TDM_OP_NO_LUN),
				 !!(d->flags & TDM_OP_UA_EXEMPT));
		if (d->flags & TDM_OP_WRITE)
			assert_true(d->flags & TDM_OP_MEDIA);
	}
	memset(&cmd, 0, sizeof(cmd));
	cmd.cdb[0] = 0x9E;
	cmd.cdb[1] = 0x11; /* READ LONG(16): not here */
	assert_null(tdm__op_lookup(&cmd, &bad));
	assert_true(bad);
	cmd.cdb[0] = 0x02;
	assert_null(tdm__op_lookup(&cmd, &bad));
	assert_false(bad);
	cmd.cdb[0] = 0x28;
	op = tdm__op_lookup(&cmd, NULL);
	assert_non_null(op);
	assert_string_equal(op->name, "READ(10)");
	assert_int_equal(op->usage[1], 0x18); /* DPO, FUA */
}

/* ---- LUN addressing ---- */

static void test_lun_codec(void **state)
{
	static const uint64_t luns[] = {0, 1, 255, 256, 512, 16383};
	uint64_t l;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(luns) / sizeof(luns[0]); i++) {
		assert_int_equal(tdm__lun_decode(tdm_lun_encode(luns[i]), &l),
				 0);
		assert_int_equal(l, luns[i]);
	}
	assert_int_equal(tdm_lun_encode(5), 0x0005000000000000ull);
	assert_int_equal(tdm_lun_encode(256), 0x4100000000000000ull);
	assert_int_equal(tdm_lun_encode(16383), 0x7FFF000000000000ull);
	/* flat space form of a small LUN */
	assert_int_equal(tdm__lun_decode(0x4005000000000000ull, &l), 0);
	assert_int_equal(l, 5);
	/* peripheral addressing with a bus identifier: libiscsi's 16-bit
	 * LUN 261, as Linux and LIO read it */
	assert_int_equal(tdm__lun_decode(0x0105000000000000ull, &l), 0);
	assert_int_equal(l, 261);
	assert_int_equal(tdm__lun_decode(0x3FFF000000000000ull, &l), 0);
	assert_int_equal(l, 16383);
	/* a second level, logical unit and extended addressing */
	assert_int_equal(tdm__lun_decode(0x0005000100000000ull, &l), -EINVAL);
	assert_int_equal(tdm__lun_decode(0x8005000000000000ull, &l), -EINVAL);
	assert_int_equal(tdm__lun_decode(0xD200010000000000ull, &l), -EINVAL);
}

/* ---- INQUIRY ---- */

static void test_inquiry_standard(void **state)
{
	struct fix *f = *state;
	bool spc4 = false, sbc3 = false, iscsi = false;
	int i;

	RUN(f->nx, 0, 0x12, 0, 0, 0x01, 0x04, 0);
	expect_good();
	assert_int_equal(R.len, 96);
	assert_int_equal(R.data[0], 0x00);
	assert_int_equal(R.data[1], 0x00); /* not removable */
	assert_int_equal(R.data[2], 0x06); /* SPC-4 */
	assert_int_equal(R.data[3], 0x12); /* HISUP, format 2 */
	assert_int_equal(R.data[4], 91);
	assert_int_equal(R.data[5] & 0x30, 0x10); /* TPGS: implicit ALUA */
	assert_int_equal(R.data[7], 0x02);	  /* CMDQUE */
	assert_memory_equal(R.data + 8, "TANDEM  ", 8);
	assert_memory_equal(R.data + 16, f->lu->product, 16);
	assert_memory_equal(R.data + 32, f->lu->revision, 4);
	for (i = 0; i < 8; i++) {
		uint16_t v = tdm_get_be16(R.data + 58 + 2 * i);

		spc4 |= v == 0x0460;
		sbc3 |= v == 0x04C0;
		iscsi |= v == 0x0960;
	}
	assert_true(spc4 && sbc3 && iscsi);

	/* allocation lengths: 0 -> nothing, 5, 16-bit values */
	RUN(f->nx, 0, 0x12, 0, 0, 0, 0, 0);
	expect_good();
	assert_int_equal(R.len, 0);
	RUN(f->nx, 0, 0x12, 0, 0, 0, 5, 0);
	expect_good();
	assert_int_equal(R.len, 5);
	RUN(f->nx, 0, 0x12, 0, 0, 0x02, 0x00, 0);
	expect_good();
	assert_int_equal(R.len, 96);

	/* CMDDT, and a page code without EVPD */
	RUN(f->nx, 0, 0x12, 0x02, 0, 0, 255, 0);
	expect_cdb_err(1, 1);
	RUN(f->nx, 0, 0x12, 0, 0x80, 0, 255, 0);
	expect_cdb_err(2, 7);
	/* NACA in the CONTROL byte */
	RUN(f->nx, 0, 0x12, 0, 0, 0, 255, 0x04);
	expect_cdb_err(5, 2);
}

static const uint8_t *find_desig(const uint8_t *p, size_t len, uint8_t assoc,
				 uint8_t type)
{
	size_t off = 4;

	while (off + 4 <= len) {
		if (((p[off + 1] >> 4) & 3) == assoc &&
		    (p[off + 1] & 0x0F) == type)
			return p + off;
		off += 4u + p[off + 3];
	}
	return NULL;
}

/*
 * The identity derived from a device name is part of what initiators keep:
 * AIX builds an hdisk's unique_id from it and matches a VIOS's disk to its
 * clients by it, dm-multipath names its maps by the NAA (docs/powervm.md).
 * Pin the values for one name, so that a change of the derivation fails
 * here instead of giving every LU a new identity after an upgrade.
 */
static void test_identity_pinned(void **state)
{
	static const uint8_t naa[8] = {0x3b, 0x62, 0x17, 0xee,
				       0xb1, 0x8b, 0xaa, 0x38};
	struct tdm_conf_device c;
	struct tdm_lu *lu;
	char err[256];

	(void)state;
	memset(&c, 0, sizeof(c));
	snprintf(c.name, sizeof(c.name), "disk0");
	c.handler = TDM_HANDLER_RAM;
	c.size = 1 << 20;
	c.blocksize = 512;
	if (tdm__lu_open(&c, &lu, err, sizeof(err)) < 0)
		fail_msg("ram LU: %s", err);
	assert_string_equal(lu->usn, "b6217eeb18baa387");
	assert_int_equal(lu->naa_len, 8);
	assert_memory_equal(lu->naa, naa, sizeof(naa));
	assert_string_equal(lu->t10_vendor, "TANDEM  ");
	assert_string_equal(lu->product, "RAMDISK         ");
	assert_string_equal(lu->revision, "0010");
	assert_string_equal(lu->t10_dev_id, "disk0");
	tdm__lu_put(lu);
}

static void test_inquiry_vpd(void **state)
{
	struct fix *f = *state;
	static const uint8_t pages[] = {0x00, 0x80, 0x83, 0x86,
					0xB0, 0xB1, 0xB2};
	const uint8_t *d;
	size_t i, n;

	/* our pages are listed (others may add theirs), ascending */
	RUN(f->nx, 0, 0x12, 1, 0x00, 0, 255, 0);
	expect_good();
	assert_int_equal(R.len, 4u + tdm_get_be16(R.data + 2));
	for (i = 5; i < R.len; i++)
		assert_true(R.data[i] > R.data[i - 1]);
	for (i = 0; i < sizeof(pages); i++)
		assert_non_null(memchr(R.data + 4, pages[i], R.len - 4));
	for (i = 0; i < sizeof(pages); i++) {
		RUN(f->nx, 0, 0x12, 1, pages[i], 0, 255, 0);
		expect_good();
		assert_int_equal(R.data[1], pages[i]);
		assert_int_equal(R.len, 4u + tdm_get_be16(R.data + 2));
	}

	/* unit serial number */
	RUN(f->nx, 0, 0x12, 1, 0x80, 0, 255, 0);
	n = strlen(f->lu->usn);
	assert_int_equal(R.len, 4 + n);
	assert_memory_equal(R.data + 4, f->lu->usn, n);

	/* device identification */
	RUN(f->nx, 0, 0x12, 1, 0x83, 0x04, 0, 0);
	expect_good();
	d = find_desig(R.data, R.len, 0, 3); /* NAA, LU */
	assert_non_null(d);
	assert_int_equal(d[0] & 0x0F, 1); /* binary */
	assert_int_equal(d[3], f->lu->naa_len);
	assert_memory_equal(d + 4, f->lu->naa, f->lu->naa_len);
	d = find_desig(R.data, R.len, 0, 1); /* T10 vendor ID */
	assert_non_null(d);
	assert_int_equal(d[0] & 0x0F, 2); /* ASCII */
	assert_memory_equal(d + 4, "TANDEM  ", 8);
	assert_int_equal(d[3], 8 + strlen(f->lu->t10_dev_id));
	assert_memory_equal(d + 12, f->lu->t10_dev_id, d[3] - 8);
	d = find_desig(R.data, R.len, 1, 4); /* relative target port */
	assert_non_null(d);
	assert_int_equal(d[0], 0x51); /* iSCSI, binary */
	assert_int_equal(d[1], 0x94); /* PIV, port */
	assert_int_equal(tdm_get_be16(d + 6), 1);
	d = find_desig(R.data, R.len, 1, 5); /* target port group */
	assert_non_null(d);
	assert_int_equal(tdm_get_be16(d + 6), 1);
	d = find_desig(R.data, R.len, 2, 8); /* SCSI name: target */
	assert_non_null(d);
	assert_int_equal(d[0], 0x53);
	assert_int_equal(d[3] % 4, 0);
	assert_string_equal((const char *)d + 4, f->nx->id.target);
	d = find_desig(R.data, R.len, 1, 8); /* SCSI name: target port */
	assert_non_null(d);
	assert_non_null(strstr((const char *)d + 4, ",t,0x"));
	/* every head presents the same LU designators: none is per port
	 * except the port ones */
	assert_null(find_desig(R.data, R.len, 0, 4));

	/* extended INQUIRY data: ram has no volatile cache */
	RUN(f->nx, 0, 0x12, 1, 0x86, 0, 255, 0);
	assert_int_equal(tdm_get_be16(R.data + 2), 0x3C);
	assert_int_equal(R.data[5], 0x07);
	assert_int_equal(R.data[6], 0x00);
	assert_int_equal(R.data[7], 0x01);

	/* block limits */
	RUN(f->nx, 0, 0x12, 1, 0xB0, 0, 255, 0);
	assert_int_equal(R.len, 64);
	assert_int_equal(tdm_get_be16(R.data + 2), 0x3C);
	assert_int_equal(tdm_get_be16(R.data + 6), 1);
	assert_int_equal(tdm_get_be32(R.data + 8), 16384);
	assert_int_equal(tdm_get_be32(R.data + 8),
			 tdm__lu_max_xfer_blocks(f->lu));

	/* block device characteristics: not rotational */
	RUN(f->nx, 0, 0x12, 1, 0xB1, 0, 255, 0);
	assert_int_equal(tdm_get_be16(R.data + 2), 0x3C);
	assert_int_equal(tdm_get_be16(R.data + 4), 1);

	/* logical block provisioning: fully provisioned */
	RUN(f->nx, 0, 0x12, 1, 0xB2, 0, 255, 0);
	assert_int_equal(R.len, 8);
	assert_int_equal(tdm_get_be16(R.data + 2), 4);
	assert_int_equal(R.data[5], 0);

	/* pages we do not have */
	RUN(f->nx, 0, 0x12, 1, 0x81, 0, 255, 0);
	expect_cdb_err(2, 7);
	RUN(f->nx, 0, 0x12, 1, 0xC0, 0, 255, 0);
	expect_cdb_err(2, 7);
	/* truncated by the allocation length */
	RUN(f->nx, 0, 0x12, 1, 0x83, 0, 6, 0);
	expect_good();
	assert_int_equal(R.len, 6);
}

/* Has the standard INQUIRY data of nx the version descriptor vd? */
static bool has_vd(struct tdm_nexus *nx, uint16_t vd)
{
	bool found = false;

	RUN(nx, 0, 0x12, 0, 0, 0, 96, 0);
	expect_good();
	for (size_t i = 0; i < 8; i++)
		found |= tdm_get_be16(R.data + 58 + 2 * i) == vd;
	return found;
}

/* Does VPD 83h (in R) hold a designator of this type anywhere? */
static bool has_type(uint8_t type)
{
	for (uint8_t a = 0; a < 3; a++)
		if (find_desig(R.data, R.len, a, type))
			return true;
	return false;
}

/* PERSISTENT RESERVE OUT (SPC-4 6.16) with a parameter list */
static void prout(struct tdm_nexus *nx, uint8_t sa, const uint8_t *p,
		  size_t len)
{
	uint8_t c[10] = {0x5F, sa};

	tdm_put_be32(c + 5, (uint32_t)len);
	run_out(nx, 0, c, sizeof(c), p, len);
}

/* Transports that give no TransportID of theirs (tdm__nexus_identify) */
static int tid_fc(const struct tdm_nexus *nx, uint8_t *buf, size_t cap)
{
	static const uint8_t wwpn[8] = {0x21, 0, 0, 0x1b, 0x32, 0xa1, 0, 1};

	(void)nx;
	return tdm_transport_id(buf, cap, TDM_PROTO_FC, wwpn, sizeof(wwpn));
}

static int tid_spi(const struct tdm_nexus *nx, uint8_t *buf, size_t cap)
{
	(void)nx;
	assert_true(cap >= 24);
	memset(buf, 0, 24);
	buf[0] = 0x01; /* SPI: no TransportID of ours */
	return 24;
}

static int tid_fails(const struct tdm_nexus *nx, uint8_t *buf, size_t cap)
{
	(void)nx;
	(void)buf;
	(void)cap;
	return -EIO;
}

static int tid_too_long(const struct tdm_nexus *nx, uint8_t *buf, size_t cap)
{
	(void)nx;
	(void)buf;
	return (int)cap + 4;
}

/* Identity through other transports than iSCSI: an SRP nexus and one of
 * a fabric that does not say (TDM_PROTO_NONE). */
static void test_transport_identity(void **state)
{
	struct fix *f = *state;
	struct tdm_nexus *srp = tdm__test_nexus(&f->lu, 1, &tops_srp);
	struct tdm_nexus *srp2 = tdm__test_nexus(&f->lu, 1, &tops_srp);
	struct tdm_nexus *srp3 = tdm__test_nexus(&f->lu, 1, &tops_srp);
	struct tdm_nexus *anon = tdm__test_nexus(&f->lu, 1, &tops_anon);
	const struct tdm_nexus_id *id;
	uint8_t p[28 + TDM_TID_MAX], fs[256];
	const uint8_t *d;
	char want[TDM_PORT_NAME_MAX];

	assert_non_null(srp);
	assert_non_null(srp2);
	assert_non_null(srp3);
	assert_non_null(anon);

	/* the iSCSI nexus: format 01b, named "name,i,0xISID"; persistent
	 * reservations and the cluster's messages name it with the bytes
	 * they did when the core built it from the name and the ISID */
	id = tdm_nexus_get_id(f->nx);
	assert_int_equal(id->tid[0], 0x45);
	assert_int_equal(id->tid_len % 4, 0);
	snprintf(want, sizeof(want), "%s,i,0x000000000000", id->initiator);
	assert_string_equal(id->port, want);
	{
		static const uint8_t isid0[6];
		struct tdm_pr_tid before;
		struct tdm_pr_nexus now;
		uint8_t a[TDM_TID_MAX], b[TDM_TID_MAX];
		size_t na, nb;

		assert_int_equal(
			tdm_pr_tid_iscsi(&before, id->initiator, isid0), 0);
		assert_int_equal(tdm__pr_nexus_id(f->nx, &now), 0);
		assert_int_equal(now.rel_port, 1);
		assert_true(tdm_pr_tid_equal(&before, &now.tid));
		assert_memory_equal(&before, &now.tid, sizeof(before));
		na = tdm_pr_tid_encode(&before, a, sizeof(a));
		nb = tdm_pr_tid_encode(&now.tid, b, sizeof(b));
		assert_int_equal(na, nb);
		assert_memory_equal(a, b, na);
		assert_int_equal(id->tid_len, na);
		assert_memory_equal(id->tid, a, na);
	}
	/* SRP: the 24-byte TransportID of SPC-4 7.6.4.5, named in hex */
	id = tdm_nexus_get_id(srp);
	assert_int_equal(id->tid_len, 24);
	assert_int_equal(id->tid[0], TDM_PROTO_SRP);
	assert_memory_equal(id->tid + 8, SRP_TID_PREFIX, 8);
	assert_int_equal(strlen(id->port), 2 + 32);
	assert_memory_equal(id->port, "0xfe80000000000000", 18);
	/* no TransportID: the initiator name stands for the port */
	id = tdm_nexus_get_id(anon);
	assert_int_equal(id->tid_len, 0);
	assert_string_equal(id->port, id->initiator);
	{
		struct tdm_pr_nexus none;

		assert_int_equal(tdm__pr_nexus_id(anon, &none), -ENOENT);
	}

	/* INQUIRY: the transport's version descriptor */
	assert_true(has_vd(f->nx, 0x0960));
	assert_false(has_vd(f->nx, 0x0940));
	assert_true(has_vd(srp, 0x0940));
	assert_false(has_vd(srp, 0x0960));
	assert_false(has_vd(anon, 0x0940) || has_vd(anon, 0x0960));

	/* VPD 83h through SRP: port designators with PIV and protocol 4h,
	 * the target port an EUI-64, no SCSI name string */
	RUN(srp, 0, 0x12, 1, 0x83, 0x04, 0, 0);
	expect_good();
	d = find_desig(R.data, R.len, 1, 4); /* relative target port */
	assert_non_null(d);
	assert_int_equal(d[0], 0x41);	     /* SRP, binary */
	assert_int_equal(d[1], 0x94);	     /* PIV, port, type 4h */
	d = find_desig(R.data, R.len, 1, 5); /* target port group */
	assert_non_null(d);
	assert_int_equal(d[0], 0x41);
	assert_int_equal(d[1], 0x95);
	d = find_desig(R.data, R.len, 1, 2); /* EUI-64: the target port */
	assert_non_null(d);
	assert_int_equal(d[0], 0x41);
	assert_int_equal(d[1], 0x92);
	assert_int_equal(d[3], 8);
	assert_memory_equal(d + 4, srp_target_port, 8);
	assert_false(has_type(8));
	d = find_desig(R.data, R.len, 0, 3); /* the LU's NAA: no PIV */
	assert_non_null(d);
	assert_int_equal(d[0], 0x01);
	assert_int_equal(d[1], 0x03);
	assert_int_equal(R.len, 4u + tdm_get_be16(R.data + 2));

	/* ... through a fabric that does not say: no PIV, no protocol, no
	 * designator of the transport's */
	RUN(anon, 0, 0x12, 1, 0x83, 0x04, 0, 0);
	expect_good();
	d = find_desig(R.data, R.len, 1, 4);
	assert_non_null(d);
	assert_int_equal(d[0], 0x01);
	assert_int_equal(d[1], 0x14);
	assert_false(has_type(8));
	assert_null(find_desig(R.data, R.len, 1, 2));

	/* persistent reservations key the SRP nexus by its TransportID:
	 * READ FULL STATUS shows it as the transport gave it */
	memset(p, 0, 24);
	tdm_put_be64(p + 8, 0xABCD);
	prout(srp, 0x00, p, 24);
	expect_good();
	RUN(srp, 0, 0x5E, 0x03, 0, 0, 0, 0, 0, 0x01, 0x00, 0);
	expect_good();
	assert_int_equal(tdm_get_be32(R.data + 4), 24 + 24);
	assert_int_equal(tdm_get_be64(R.data + 8), 0xABCD);
	assert_int_equal(tdm_get_be32(R.data + 8 + 20), 24);
	memcpy(fs, R.data + 8 + 24, 24);
	id = tdm_nexus_get_id(srp);
	assert_memory_equal(fs, id->tid, 24);
	/* the iSCSI nexus is another I_T nexus: not registered */
	tdm_put_be64(p, 0xABCD);
	tdm_put_be64(p + 8, 0);
	prout(f->nx, 0x00, p, 24);
	assert_int_equal(R.status, TDM_STATUS_RESERVATION_CONFLICT);

	/* SPEC_I_PT names I_T nexuses of the receiving port: an iSCSI port
	 * takes no SRP TransportID, nor an SRP port an iSCSI one (INVALID
	 * FIELD IN PARAMETER LIST at the PROTOCOL IDENTIFIER) */
	memset(p, 0, sizeof(p));
	tdm_put_be64(p + 8, 0x5EC);
	p[20] = 0x08; /* SPEC_I_PT */
	tdm_put_be32(p + 24, 24);
	memcpy(p + 28, tdm_nexus_get_id(srp)->tid, 24);
	p[28 + 23] ^= 0x80; /* another SRP initiator port */
	prout(f->nx, 0x00, p, 28 + 24);
	expect_param_err(28, 3);
	prout(srp2, 0x00, p, 28 + 24); /* SRP to SRP: registered */
	expect_good();
	RUN(srp, 0, 0x5E, 0x00, 0, 0, 0, 0, 0, 0x01, 0x00, 0);
	expect_good();
	assert_int_equal(tdm_get_be32(R.data + 4), 3 * 8);
	id = tdm_nexus_get_id(f->nx2);
	memcpy(p + 28, id->tid, id->tid_len);
	tdm_put_be32(p + 24, id->tid_len);
	tdm_put_be64(p + 8, 0x5ED);
	prout(srp3, 0x00, p, 28u + id->tid_len);
	expect_param_err(28, 3);

	/* no TransportID, no persistent reservation: INSUFFICIENT
	 * REGISTRATION RESOURCES */
	memset(p, 0, 24);
	tdm_put_be64(p + 8, 0xA);
	prout(anon, 0x00, p, 24);
	expect_sense(0x5, 0x55, 0x04);

	/* a transport whose TransportID is of another protocol than it
	 * says, of none we know, fails or overflows: the nexus has none */
	{
		int (*const bad[])(const struct tdm_nexus *, uint8_t *,
				   size_t) = {tid_fc, tid_spi, tid_fails,
					      tid_too_long};
		const struct tdm_transport_ops *keep = srp3->ops;
		struct tdm_transport_ops o = *keep;
		struct tdm_pr_nexus none;

		srp3->ops = &o;
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			o.transport_id = bad[i];
			assert_int_equal(tdm__nexus_identify(srp3), -EINVAL);
			id = tdm_nexus_get_id(srp3);
			assert_int_equal(id->tid_len, 0);
			assert_string_equal(id->port, id->initiator);
			assert_int_equal(tdm__pr_nexus_id(srp3, &none),
					 -ENOENT);
		}
		/* FC says FC: fine */
		o.protocol = TDM_PROTO_FC;
		o.transport_id = tid_fc;
		assert_int_equal(tdm__nexus_identify(srp3), 0);
		assert_string_equal(tdm_nexus_get_id(srp3)->port,
				    "0x2100001b32a10001");
		srp3->ops = keep;
	}

	tdm__test_nexus_free(srp);
	tdm__test_nexus_free(srp2);
	tdm__test_nexus_free(srp3);
	tdm__test_nexus_free(anon);
}

/* ---- PREEMPT AND ABORT of a command waiting for its data ---- */

static int parked_aborts; /* abort_pending calls */
static int reg_lock_free; /* ... made with tdm__reg_lock free */

/* write_pending of a transport whose WRITE(10) data never comes */
static void park_write_pending(struct tdm_cmd *cmd)
{
	if (cmd->cdb[0] != 0x2A)
		tops.write_pending(cmd);
}

static void park_abort_pending(struct tdm_cmd *cmd)
{
	/* a transport may end the nexus from here (iscsi/ does when a send
	 * fails), and tdm_nexus_destroy() takes tdm__reg_lock */
	if (pthread_rwlock_trywrlock(&tdm__reg_lock.l) == 0) {
		reg_lock_free++;
		pthread_rwlock_unlock(&tdm__reg_lock.l);
	}
	parked_aborts++;
	tdm_cmd_release(cmd);
}

/* PERSISTENT RESERVE OUT with its type (SPC-4 6.16, table 215) */
static void prout_type(struct tdm_nexus *nx, uint8_t sa, uint8_t type,
		       uint64_t key, uint64_t sa_key)
{
	uint8_t c[10] = {0x5F, sa, type}, p[24];

	memset(p, 0, sizeof(p));
	tdm_put_be64(p, key);
	tdm_put_be64(p + 8, sa_key);
	tdm_put_be32(c + 5, sizeof(p));
	run_out(nx, 0, c, sizeof(c), p, sizeof(p));
}

/* A nexus with no TransportID (the kernel fabrics) under another
 * initiator's WRITE EXCLUSIVE reservation: an unregistered I_T nexus
 * (SPC-4 table 66): its reads, READ CAPACITY and INQUIRY run, its
 * writes conflict; once the reservation is released they run again */
static void test_pr_no_tid_unregistered(void **state)
{
	struct fix *f = *state;
	struct tdm_nexus *anon = tdm__test_nexus(&f->lu, 1, &tops_anon);
	uint8_t c[10], blk[512];

	assert_non_null(anon);
	memset(blk, 0x5A, sizeof(blk));
	prout_type(f->nx, 0x00, 0, 0, 0xA); /* REGISTER */
	expect_good();
	prout_type(f->nx, 0x01, 0x01, 0xA, 0); /* RESERVE, Write Exclusive */
	expect_good();
	cdb_rw10(c, 0x28, 0, 1);
	run(anon, 0, c, sizeof(c));
	expect_good();
	RUN0(anon, 0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0); /* READ CAPACITY(10) */
	expect_good();
	RUN0(anon, 0x12, 0, 0, 0, 36, 0); /* INQUIRY */
	expect_good();
	cdb_rw10(c, 0x2A, 0, 1);
	run_out(anon, 0, c, sizeof(c), blk, sizeof(blk));
	assert_int_equal(R.status, TDM_STATUS_RESERVATION_CONFLICT);
	prout_type(f->nx, 0x02, 0x01, 0xA, 0); /* RELEASE */
	expect_good();
	run_out(anon, 0, c, sizeof(c), blk, sizeof(blk));
	expect_good();
	print_message("no TransportID under WRITE EXCLUSIVE: READ, READ "
		      "CAPACITY, INQUIRY good, WRITE conflicts; good after "
		      "RELEASE\n");
	tdm__test_nexus_free(anon);
}

/* SPC-4 5.13.11.2.6: PREEMPT AND ABORT from nx2 aborts nx's WRITE that
 * waits for its data-out; the transport gets it back from its own loop
 * with no lock of the core held (it came inside the registry's read
 * lock, from which the transport could not end the nexus) */
static void test_preempt_abort_pending(void **state)
{
	struct fix *f = *state;
	const struct tdm_transport_ops *keep = f->nx->ops;
	struct tdm_transport_ops o = *keep;
	uint8_t c[10];
	struct tcmd *w;

	o.write_pending = park_write_pending;
	o.abort_pending = park_abort_pending;
	f->nx->ops = &o;
	prout_type(f->nx, 0x00, 0, 0, 0xA); /* REGISTER */
	expect_good();
	prout_type(f->nx2, 0x00, 0, 0, 0xB);
	expect_good();
	prout_type(f->nx, 0x01, 0x01, 0xA, 0); /* RESERVE, Write Exclusive */
	expect_good();
	cdb_rw10(c, 0x2A, 0, 1);
	w = submit(f->nx, 0, c, sizeof(c), NULL, 512, 512);
	assert_int_equal(w->c.state, TDM_CMD_WRITE_PENDING);

	prout_type(f->nx2, 0x05, 0x01, 0xB, 0xA); /* PREEMPT AND ABORT */
	expect_good();
	for (int i = 0; i < 10 && !parked_aborts; i++)
		tdm_loop_run_once(loop, 10);
	assert_int_equal(parked_aborts, 1);
	assert_int_equal(reg_lock_free, 1);
	assert_true(w->freed);
	assert_false(atomic_load(&w->done)); /* TAS=0: silently */
	free(w);
	f->nx->ops = keep;
}

/* ---- unmapped LUNs ---- */

static void test_unmapped_lun(void **state)
{
	struct fix *f = *state;

	RUN(f->nx, 7, 0x12, 0, 0, 0, 96, 0);
	expect_good();
	assert_int_equal(R.data[0], 0x7F);
	assert_int_equal(R.data[2], 0x06);
	RUN(f->nx, 7, 0x12, 1, 0x00, 0, 96, 0);
	expect_good();
	assert_int_equal(R.data[0], 0x7F);
	assert_int_equal(R.len, 5);
	RUN(f->nx, 7, 0x12, 1, 0x83, 0, 96, 0);
	expect_cdb_err(2, 7);
	RUN(f->nx, 7, 0x00, 0, 0, 0, 0, 0);
	expect_sense(0x5, 0x25, 0x00);
	RUN(f->nx, 7, 0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0);
	expect_sense(0x5, 0x25, 0x00);
	/* REQUEST SENSE tells it in the parameter data, status GOOD */
	RUN(f->nx, 7, 0x03, 0, 0, 0, 18, 0);
	expect_good();
	assert_int_equal(R.len, 18);
	assert_int_equal(R.data[2], 0x5);
	assert_int_equal(R.data[12], 0x25);
	/* REPORT LUNS works from any LUN */
	RUN(f->nx, 7, 0xA0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0);
	expect_good();
	assert_int_equal(tdm_get_be32(R.data), 8);
}

/* ---- REPORT LUNS ---- */

static void test_report_luns(void **state)
{
	static const uint64_t luns[] = {0, 1, 255, 256, 512, 16383};
	static const uint8_t enc[][2] = {{0x00, 0x00}, {0x00, 0x01},
					 {0x00, 0xFF}, {0x41, 0x00},
					 {0x42, 0x00}, {0x7F, 0xFF}};
	struct tdm_lu *lus[6];
	struct tdm_nexus *nx;
	char name[16];
	size_t i;

	(void)state;
	for (i = 0; i < 6; i++) {
		snprintf(name, sizeof(name), "rl%zu", i);
		lus[i] = ram_lu(name, 1 * MiB, 512);
	}
	nx = tdm__test_nexus(lus, 6, &tops);
	assert_non_null(nx);
	tdm_rwlock_wrlock(&tdm__reg_lock);
	for (i = 0; i < 6; i++)
		nx->test_map->ents[i].lun = luns[i];
	tdm_rwlock_unlock(&tdm__reg_lock);

	RUN(nx, 0, 0xA0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0);
	expect_good();
	assert_int_equal(R.len, 8 + 6 * 8);
	assert_int_equal(tdm_get_be32(R.data), 48);
	for (i = 0; i < 6; i++) {
		assert_memory_equal(R.data + 8 + 8 * i, enc[i], 2);
		assert_int_equal(tdm_get_be32(R.data + 8 + 8 * i + 2), 0);
		assert_int_equal(tdm_get_be16(R.data + 8 + 8 * i + 6), 0);
	}
	/* every reported LUN reaches its own LU */
	for (i = 0; i < 6; i++) {
		RUN(nx, luns[i], 0x12, 1, 0x80, 0, 255, 0);
		expect_good();
		assert_memory_equal(R.data + 4, lus[i]->usn,
				    strlen(lus[i]->usn));
	}
	/* truncated by the allocation length: LIST LENGTH stays whole */
	RUN(nx, 0, 0xA0, 0, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0);
	expect_good();
	assert_int_equal(R.len, 16);
	assert_int_equal(tdm_get_be32(R.data), 48);
	/* allocation length below 16 */
	RUN(nx, 0, 0xA0, 0, 0, 0, 0, 0, 0, 0, 0, 15, 0, 0);
	expect_cdb_err(6, 7);
	/* well known LUs only: none; SELECT REPORT 02h: all */
	RUN(nx, 0, 0xA0, 0, 0x01, 0, 0, 0, 0, 0, 0x10, 0, 0, 0);
	expect_good();
	assert_int_equal(tdm_get_be32(R.data), 0);
	RUN(nx, 0, 0xA0, 0, 0x02, 0, 0, 0, 0, 0, 0x10, 0, 0, 0);
	expect_good();
	assert_int_equal(tdm_get_be32(R.data), 48);
	RUN(nx, 0, 0xA0, 0, 0x03, 0, 0, 0, 0, 0, 0x10, 0, 0, 0);
	expect_cdb_err(2, 7);

	tdm__test_nexus_free(nx);
	for (i = 0; i < 6; i++)
		tdm__lu_put(lus[i]);

	/* a nexus that sees no LU at all still finds LUN 0 (without LU) */
	nx = tdm__test_nexus(NULL, 0, &tops);
	assert_non_null(nx);
	RUN(nx, 0, 0xA0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0);
	expect_good();
	assert_int_equal(R.len, 16);
	assert_int_equal(tdm_get_be32(R.data), 8);
	assert_int_equal(tdm_get_be64(R.data + 8), 0);
	RUN(nx, 0, 0x12, 0, 0, 0, 96, 0);
	expect_good();
	assert_int_equal(R.data[0], 0x7F);
	tdm__test_nexus_free(nx);
}

static void test_report_luns_many(void **state)
{
	enum { N = 300 };
	struct tdm_lu *lu, **lus;
	struct tdm_nexus *nx;
	uint32_t alloc = 8 + 8 * N;
	uint64_t l;
	size_t i;

	(void)state;
	lu = ram_lu("many", 1 * MiB, 512);
	lus = calloc(N, sizeof(*lus));
	assert_non_null(lus);
	for (i = 0; i < N; i++)
		lus[i] = lu;
	nx = tdm__test_nexus(lus, N, &tops);
	assert_non_null(nx);
	{
		uint8_t c[12] = {0xA0};

		tdm_put_be32(c + 6, alloc);
		run(nx, 0, c, sizeof(c));
	}
	expect_good();
	assert_int_equal(R.len, alloc);
	assert_int_equal(tdm_get_be32(R.data), 8 * N);
	for (i = 0; i < N; i++) {
		assert_int_equal(
			tdm__lun_decode(tdm_get_be64(R.data + 8 + 8 * i), &l),
			0);
		assert_int_equal(l, i);
	}
	tdm__test_nexus_free(nx);
	free(lus);
	tdm__lu_put(lu);
}

/* ---- READ / WRITE ---- */

static void rw_edges(struct tdm_nexus *nx, struct tdm_lu *lu)
{
	uint32_t bs = lu->block_size;
	uint64_t nb = lu->nblocks;
	uint8_t *w = malloc(256 * (size_t)bs);
	uint8_t c[16];

	assert_non_null(w);
	fill(w, 256 * (size_t)bs, 3);

	/* the last block, both ways */
	cdb_rw10(c, 0x2A, (uint32_t)(nb - 1), 1);
	run_data(nx, 0, c, 10, w, bs);
	expect_good();
	cdb_rw10(c, 0x28, (uint32_t)(nb - 1), 1);
	run(nx, 0, c, 10);
	expect_good();
	assert_int_equal(R.len, bs);
	assert_memory_equal(R.data, w, bs);
	/* one past the end, and two blocks from the last */
	cdb_rw10(c, 0x28, (uint32_t)nb, 1);
	run(nx, 0, c, 10);
	expect_lba_oob();
	cdb_rw10(c, 0x28, (uint32_t)(nb - 1), 2);
	run(nx, 0, c, 10);
	expect_lba_oob();
	cdb_rw10(c, 0x2A, (uint32_t)nb, 1);
	run_data(nx, 0, c, 10, w, bs);
	expect_lba_oob();
	/* lba + length wraps around 2^64 */
	cdb_rw16(c, 0x88, ~0ull, 2);
	run(nx, 0, c, 16);
	expect_lba_oob();
	cdb_rw16(c, 0x8A, ~0ull - 1, 4);
	run(nx, 0, c, 16);
	expect_lba_oob();
	/* READ(12) at the end */
	memset(c, 0, 12);
	c[0] = 0xA8;
	tdm_put_be32(c + 2, (uint32_t)(nb - 2));
	tdm_put_be32(c + 6, 2);
	run(nx, 0, c, 12);
	expect_good();
	assert_int_equal(R.len, 2 * bs);
	assert_memory_equal(R.data + bs, w, bs);

	/* zero length: GOOD, no data; beyond the end still an error */
	cdb_rw10(c, 0x28, 0, 0);
	run(nx, 0, c, 10);
	expect_good();
	assert_int_equal(R.len, 0);
	cdb_rw10(c, 0x2A, 0, 0);
	run(nx, 0, c, 10);
	expect_good();
	cdb_rw16(c, 0x88, nb + 1, 0);
	run(nx, 0, c, 16);
	expect_lba_oob();
	cdb_rw16(c, 0x88, nb, 0);
	run(nx, 0, c, 16);
	expect_good();

	/* READ(6)/WRITE(6): length 0 is 256 blocks */
	write10(nx, 0, 256, w, bs);
	memset(c, 0, 6);
	c[0] = 0x08;
	run(nx, 0, c, 6);
	expect_good();
	assert_int_equal(R.len, 256 * bs);
	assert_memory_equal(R.data, w, 256 * (size_t)bs);
	c[0] = 0x0A;
	c[3] = 5; /* LBA 5, 256 blocks */
	run_data(nx, 0, c, 6, w, 256 * (size_t)bs);
	expect_good();
	cdb_rw10(c, 0x28, 5, 1);
	run(nx, 0, c, 10);
	assert_memory_equal(R.data, w, bs);
	/* READ(6) past the end */
	memset(c, 0, 6);
	c[0] = 0x08;
	tdm_put_be24(c + 1, (uint32_t)(nb - 1));
	c[4] = 2;
	run(nx, 0, c, 6);
	expect_lba_oob();

	/* the block limits: MAXIMUM TRANSFER LENGTH and one more */
	cdb_rw16(c, 0x88, 0, tdm__lu_max_xfer_blocks(lu));
	run(nx, 0, c, 16);
	expect_good();
	assert_int_equal(R.len, 8u << 20);
	cdb_rw16(c, 0x88, 0, tdm__lu_max_xfer_blocks(lu) + 1);
	run(nx, 0, c, 16);
	expect_cdb_err(10, 7);

	/* no protection information */
	cdb_rw10(c, 0x28, 0, 1);
	c[1] = 0x20;
	run(nx, 0, c, 10);
	expect_cdb_err(1, 7);
	cdb_rw10(c, 0x2A, 0, 1);
	c[1] = 0xE0;
	run_data(nx, 0, c, 10, w, bs);
	expect_cdb_err(1, 7);
	/* DPO and FUA are accepted */
	cdb_rw10(c, 0x2A, 0, 1);
	c[1] = 0x18;
	run_data(nx, 0, c, 10, w, bs);
	expect_good();
	cdb_rw10(c, 0x28, 0, 1);
	c[1] = 0x18;
	run(nx, 0, c, 10);
	expect_good();
	free(w);
}

static void test_rw_512(void **state)
{
	struct fix *f = *state;

	rw_edges(f->nx, f->lu);
}

static void test_rw_4096(void **state)
{
	struct tdm_lu *lu = ram_lu("disk4k", 16 * MiB, 4096);
	struct tdm_nexus *nx = tdm__test_nexus(&lu, 1, &tops);

	(void)state;
	assert_int_equal(lu->block_size, 4096);
	assert_int_equal(lu->nblocks, 4096);
	rw_edges(nx, lu);
	RUN(nx, 0, 0x12, 1, 0xB0, 0, 255, 0);
	assert_int_equal(tdm_get_be32(R.data + 8), 2048);
	tdm__test_nexus_free(nx);
	tdm__lu_put(lu);
}

/* ---- VERIFY / WRITE AND VERIFY ---- */

static void test_verify(void **state)
{
	struct fix *f = *state;
	const uint32_t bs = 512;
	uint8_t *w = malloc(8 * bs), *v = malloc(8 * bs);
	uint8_t c[16];
	size_t i;

	assert_non_null(w);
	assert_non_null(v);
	fill(w, 8 * bs, 9);
	write10(f->nx, 100, 8, w, bs);

	/* BYTCHK 01b: equal, then a difference at several offsets */
	cdb_rw10(c, 0x2F, 100, 8);
	c[1] = 0x02;
	run_data(f->nx, 0, c, 10, w, 8 * bs);
	expect_good();
	{
		static const size_t offs[] = {0, 1, 511, 512, 1000, 4095};

		for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
			memcpy(v, w, 8 * bs);
			v[offs[i]] ^= 0x58;
			if (offs[i] + 3 < 8 * bs)
				v[offs[i] + 3] ^= 0x01; /* a later one too */
			run_data(f->nx, 0, c, 10, v, 8 * bs);
			expect_sense(0xE, 0x1D, 0x00);
			assert_int_equal(R.sense[0], 0xF0); /* VALID */
			assert_int_equal(tdm_get_be32(R.sense + 3), offs[i]);
		}
	}
	/* VERIFY(16) and (12) the same */
	memcpy(v, w, 8 * bs);
	v[777] ^= 1;
	cdb_rw16(c, 0x8F, 100, 8);
	c[1] = 0x02;
	run_data(f->nx, 0, c, 16, v, 8 * bs);
	expect_sense(0xE, 0x1D, 0x00);
	assert_int_equal(tdm_get_be32(R.sense + 3), 777);
	memset(c, 0, 12);
	c[0] = 0xAF;
	c[1] = 0x02;
	tdm_put_be32(c + 2, 100);
	tdm_put_be32(c + 6, 8);
	run_data(f->nx, 0, c, 12, w, 8 * bs);
	expect_good();

	/* BYTCHK 00b: medium verification, no data */
	cdb_rw10(c, 0x2F, 100, 8);
	run(f->nx, 0, c, 10);
	expect_good();
	/* BYTCHK 11b: one block against each block */
	for (i = 0; i < 8; i++)
		memcpy(v + i * bs, w, bs);
	write10(f->nx, 200, 8, v, bs);
	cdb_rw10(c, 0x2F, 200, 8);
	c[1] = 0x06;
	run_data(f->nx, 0, c, 10, w, bs);
	expect_good();
	v[5 * bs + 17] ^= 0xFF;
	write10(f->nx, 200, 8, v, bs);
	run_data(f->nx, 0, c, 10, w, bs);
	expect_sense(0xE, 0x1D, 0x00);
	assert_int_equal(tdm_get_be32(R.sense + 3), 5 * bs + 17);
	/* BYTCHK 10b is reserved; VRPROTECT; range; zero length */
	cdb_rw10(c, 0x2F, 100, 8);
	c[1] = 0x04;
	run(f->nx, 0, c, 10);
	expect_cdb_err(1, 2);
	c[1] = 0x40 | 0x02;
	run_data(f->nx, 0, c, 10, w, 8 * bs);
	expect_cdb_err(1, 7);
	cdb_rw10(c, 0x2F, (uint32_t)f->lu->nblocks - 1, 2);
	run(f->nx, 0, c, 10);
	expect_lba_oob();
	cdb_rw10(c, 0x2F, 0, 0);
	c[1] = 0x02;
	run(f->nx, 0, c, 10);
	expect_good();
	/* DPO accepted */
	cdb_rw10(c, 0x2F, 100, 8);
	c[1] = 0x10;
	run(f->nx, 0, c, 10);
	expect_good();

	/* WRITE AND VERIFY: BYTCHK 0 and 1 write; the data is there */
	fill(w, 8 * bs, 21);
	cdb_rw10(c, 0x2E, 300, 8);
	c[1] = 0x02;
	run_data(f->nx, 0, c, 10, w, 8 * bs);
	expect_good();
	cdb_rw10(c, 0x28, 300, 8);
	run(f->nx, 0, c, 10);
	assert_memory_equal(R.data, w, 8 * bs);
	fill(w, 8 * bs, 22);
	cdb_rw16(c, 0x8E, 300, 8);
	run_data(f->nx, 0, c, 16, w, 8 * bs);
	expect_good();
	cdb_rw10(c, 0x28, 300, 8);
	run(f->nx, 0, c, 10);
	assert_memory_equal(R.data, w, 8 * bs);
	cdb_rw10(c, 0x2E, 300, 8);
	c[1] = 0x06; /* 11b is reserved for WRITE AND VERIFY */
	run_data(f->nx, 0, c, 10, w, 8 * bs);
	expect_cdb_err(1, 2);
	cdb_rw10(c, 0x2E, 0, 0);
	run(f->nx, 0, c, 10);
	expect_good();
	free(w);
	free(v);
}

/* ---- READ CAPACITY ---- */

static void rc16(struct tdm_nexus *nx, uint8_t sa, uint32_t alloc, uint64_t lba)
{
	uint8_t c[16] = {0x9E, sa};

	tdm_put_be64(c + 2, lba);
	tdm_put_be32(c + 10, alloc);
	run(nx, 0, c, 16);
}

static void test_read_capacity(void **state)
{
	struct fix *f = *state;

	RUN(f->nx, 0, 0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0);
	expect_good();
	assert_int_equal(R.len, 8);
	assert_int_equal(tdm_get_be32(R.data), f->lu->nblocks - 1);
	assert_int_equal(tdm_get_be32(R.data + 4), 512);
	RUN(f->nx, 0, 0x25, 0, 0, 0, 0, 1, 0, 0, 0, 0);
	expect_cdb_err(2, 7);
	RUN(f->nx, 0, 0x25, 0, 0, 0, 0, 1, 0, 0, 1, 0); /* PMI */
	expect_good();
	rc16(f->nx, 0x10, 32, 5); /* an LBA without PMI */
	expect_cdb_err(2, 7);

	rc16(f->nx, 0x10, 32, 0);
	expect_good();
	assert_int_equal(R.len, 32);
	assert_int_equal(tdm_get_be64(R.data), f->lu->nblocks - 1);
	assert_int_equal(tdm_get_be32(R.data + 8), 512);
	assert_int_equal(R.data[12], 0); /* no protection */
	assert_int_equal(R.data[13], 0);
	assert_int_equal(R.data[14], 0); /* LBPME, LBPRZ */
	rc16(f->nx, 0x10, 0, 0);
	expect_good();
	assert_int_equal(R.len, 0);
	rc16(f->nx, 0x10, 12, 0);
	expect_good();
	assert_int_equal(R.len, 12);
	rc16(f->nx, 0x10, 256, 0);
	expect_good();
	assert_int_equal(R.len, 32);
	/* an unknown SERVICE ACTION IN(16) service action */
	rc16(f->nx, 0x1F, 32, 0);
	expect_cdb_err(1, 4);
}

/*
 * Can this process reserve size bytes the way the ram backstore does
 * (backstores/ram.c): at most half the address space (SIZE_MAX / 2),
 * one anonymous MAP_NORESERVE mapping of the whole size? Tried here,
 * apart from the backstore, so that a ram LU that wrongly fails to open
 * fails the test instead of skipping it. why: the reason when not.
 */
static bool can_reserve(uint64_t size, char *why, size_t len)
{
	void *p;

	if (size > SIZE_MAX / 2) {
		snprintf(why, len,
			 "%llu bytes do not fit a %zu-bit address space",
			 (unsigned long long)size, sizeof(size_t) * 8);
		return false;
	}
	p = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED) {
		snprintf(why, len,
			 "cannot reserve %llu bytes of address space "
			 "(mmap MAP_NORESERVE): %s",
			 (unsigned long long)size, strerror(errno));
		return false;
	}
	munmap(p, (size_t)size);
	return true;
}

/* a capacity beyond 32 bits: a ram LU of 4 TiB of address space */
static void test_read_capacity_4tib(void **state)
{
	const uint64_t size = 4ull << 40;
	struct tdm_conf_device c;
	struct tdm_nexus *nx;
	struct tdm_lu *big;
	char err[256];

	if (!can_reserve(size, err, sizeof(err))) {
		print_message("skip: %s\n", err);
		skip();
	}
	memset(&c, 0, sizeof(c));
	snprintf(c.name, sizeof(c.name), "big");
	c.handler = TDM_HANDLER_RAM;
	c.size = size;
	c.blocksize = 512;
	if (tdm__lu_open(&c, &big, err, sizeof(err)) < 0)
		fail_msg("4 TiB can be reserved, yet the ram LU does not "
			 "open: %s",
			 err);
	nx = tdm__test_nexus(&big, 1, &tops);
	RUN(nx, 0, 0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0);
	expect_good();
	assert_int_equal(tdm_get_be32(R.data), 0xFFFFFFFFu);
	rc16(nx, 0x10, 32, 0);
	assert_int_equal(tdm_get_be64(R.data), (8ull << 30) - 1);
	RUN(nx, 0, 0x1A, 0, 0x3F, 0, 255, 0);
	expect_good();
	assert_int_equal(R.data[3], 8);
	assert_int_equal(tdm_get_be32(R.data + 4), 0xFFFFFFFFu);
	RUN(nx, 0, 0x5A, 0x10, 0x3F, 0, 0, 0, 0, 0, 255, 0);
	expect_good();
	assert_int_equal(tdm_get_be16(R.data + 6), 16);
	assert_int_equal(tdm_get_be64(R.data + 8), 8ull << 30);
	/* an LBA above 2^32 */
	{
		uint8_t cdb[16];

		cdb_rw16(cdb, 0x88, (8ull << 30) - 1, 1);
		run(nx, 0, cdb, 16);
		expect_good();
		cdb_rw16(cdb, 0x88, 8ull << 30, 1);
		run(nx, 0, cdb, 16);
		expect_lba_oob();
	}
	tdm__test_nexus_free(nx);
	tdm__lu_put(big);
}

/* ---- MODE SENSE / MODE SELECT ---- */

/* Find page `code` in MODE SENSE data. */
static uint8_t *mode_page(bool ten, uint8_t code)
{
	size_t hdr = ten ? 8 : 4;
	size_t bdl = ten ? tdm_get_be16(R.data + 6) : R.data[3];
	size_t end = ten ? 2u + tdm_get_be16(R.data) : 1u + R.data[0];
	size_t off = hdr + bdl;

	while (off + 2 <= end) {
		if ((R.data[off] & 0x3F) == code)
			return R.data + off;
		off += 2u + R.data[off + 1];
	}
	return NULL;
}

static void test_mode_sense(void **state)
{
	struct fix *f = *state;
	uint8_t *p;

	RUN(f->nx, 0, 0x1A, 0, 0x3F, 0, 255, 0);
	expect_good();
	assert_int_equal(R.len, 1u + R.data[0]);
	assert_int_equal(R.data[1], 0);	   /* medium type */
	assert_int_equal(R.data[2], 0x10); /* DPOFUA, not WP */
	assert_int_equal(R.data[3], 8);
	assert_int_equal(tdm_get_be32(R.data + 4), f->lu->nblocks);
	assert_int_equal(tdm_get_be24(R.data + 9), 512);
	assert_non_null(p = mode_page(false, 0x01));
	assert_int_equal(p[1], 0x0A);
	assert_non_null(p = mode_page(false, 0x08));
	assert_int_equal(p[1], 0x12);
	assert_int_equal(p[2] & 0x04, 0); /* ram: no write cache */
	assert_non_null(p = mode_page(false, 0x0A));
	assert_int_equal(p[1], 0x0A);
	assert_int_equal(p[2] & 0x04, 0); /* D_SENSE */
	assert_non_null(p = mode_page(false, 0x1C));
	assert_int_equal(p[1], 0x0A);
	/* ascending page codes */
	assert_true(mode_page(false, 0x01) < mode_page(false, 0x08));
	assert_true(mode_page(false, 0x0A) < mode_page(false, 0x1C));

	/* one page, DBD, subpage FFh, changeable values */
	RUN(f->nx, 0, 0x1A, 0x08, 0x0A, 0xFF, 255, 0);
	expect_good();
	assert_int_equal(R.data[3], 0);
	assert_int_equal(R.len, 4 + 12);
	assert_int_equal(R.data[4], 0x0A);
	RUN(f->nx, 0, 0x1A, 0x08, 0x40 | 0x0A, 0, 255, 0);
	expect_good();
	assert_int_equal(R.data[4 + 2], 0x04); /* D_SENSE */
	assert_int_equal(R.data[4 + 4], 0x08); /* SWP */
	assert_int_equal(R.data[4 + 5], 0x40); /* TAS */
	RUN(f->nx, 0, 0x1A, 0x08, 0x40 | 0x08, 0, 255, 0);
	assert_int_equal(R.data[4 + 2], 0x04);		   /* WCE */
	RUN(f->nx, 0, 0x1A, 0x08, 0x80 | 0x3F, 0, 255, 0); /* defaults */
	expect_good();
	/* saved values: not supported */
	RUN(f->nx, 0, 0x1A, 0, 0xC0 | 0x3F, 0, 255, 0);
	expect_sense(0x5, 0x39, 0x00);
	/* unknown page and subpage */
	RUN(f->nx, 0, 0x1A, 0, 0x19, 0, 255, 0);
	expect_cdb_err(2, 5);
	RUN(f->nx, 0, 0x1A, 0, 0x0A, 0x01, 255, 0);
	expect_cdb_err(3, 7);
	/* allocation length 4: only the header */
	RUN(f->nx, 0, 0x1A, 0, 0x3F, 0, 4, 0);
	expect_good();
	assert_int_equal(R.len, 4);

	/* MODE SENSE(10), with the long LBA block descriptor */
	RUN(f->nx, 0, 0x5A, 0, 0x3F, 0, 0, 0, 0, 0x01, 0, 0);
	expect_good();
	assert_int_equal(R.len, 2u + tdm_get_be16(R.data));
	assert_int_equal(tdm_get_be16(R.data + 6), 8);
	assert_non_null(mode_page(true, 0x1C));
	RUN(f->nx, 0, 0x5A, 0x10, 0x08, 0, 0, 0, 0, 0x01, 0, 0);
	expect_good();
	assert_int_equal(R.data[4] & 1, 1);
	assert_int_equal(tdm_get_be16(R.data + 6), 16);
	assert_int_equal(tdm_get_be64(R.data + 8), f->lu->nblocks);
	assert_int_equal(tdm_get_be32(R.data + 20), 512);
	assert_non_null(mode_page(true, 0x08));

	/* a read-only LUN mapping sets WP */
	tdm_rwlock_wrlock(&tdm__reg_lock);
	f->nx2->test_map->ents[0].read_only = true;
	tdm_rwlock_unlock(&tdm__reg_lock);
	RUN(f->nx2, 0, 0x1A, 0, 0x3F, 0, 255, 0);
	expect_good();
	assert_int_equal(R.data[2], 0x90);
	{
		uint8_t c[10];
		uint8_t b[512] = {0};

		cdb_rw10(c, 0x2A, 0, 1);
		run_data(f->nx2, 0, c, 10, b, 512);
		expect_sense(0x7, 0x27, 0x00);
	}
	tdm_rwlock_wrlock(&tdm__reg_lock);
	f->nx2->test_map->ents[0].read_only = false;
	tdm_rwlock_unlock(&tdm__reg_lock);
}

/* MODE SELECT(6) of the page MODE SENSE(6) returned, with edits. */
static void select6(struct tdm_nexus *nx, const uint8_t *page, size_t len)
{
	uint8_t d[64] = {0};
	uint8_t c[6] = {0x15, 0x10, 0, 0, 0, 0};

	memcpy(d + 4, page, len);
	d[4] &= 0x7F; /* PS is reserved in MODE SELECT */
	c[4] = (uint8_t)(4 + len);
	run_data(nx, 0, c, 6, d, 4 + len);
}

static void test_mode_select(void **state)
{
	struct fix *f = *state;
	uint8_t page[32], c[16];
	uint8_t blk[512];

	/* WCE on: GOOD, visible, a UA for the other nexus only */
	RUN(f->nx, 0, 0x1A, 0x08, 0x08, 0, 255, 0);
	expect_good();
	memcpy(page, R.data + 4, 20);
	page[2] |= 0x04;
	select6(f->nx, page, 20);
	expect_good();
	RUN(f->nx, 0, 0x1A, 0x08, 0x08, 0, 255, 0);
	assert_int_equal(R.data[4 + 2] & 0x04, 0x04);
	assert_true(f->lu->mode.wce);
	RUN(f->nx, 0, 0x00, 0, 0, 0, 0, 0);
	expect_good();
	RUN(f->nx2, 0, 0x00, 0, 0, 0, 0, 0);
	expect_sense(0x6, 0x2A, 0x01);
	RUN(f->nx2, 0, 0x00, 0, 0, 0, 0, 0);
	expect_good();
	/* the same values again: no change, no UA */
	select6(f->nx, page, 20);
	expect_good();
	RUN(f->nx2, 0, 0x00, 0, 0, 0, 0, 0);
	expect_good();
	/* writes still work with the cache "on" */
	memset(blk, 0x5A, sizeof(blk));
	write10(f->nx, 10, 1, blk, 512);

	/* RCD is not changeable: INVALID FIELD IN PARAMETER LIST at
	 * byte 4 + 2, bit 0 */
	page[2] |= 0x01;
	select6(f->nx, page, 20);
	expect_sense(0x5, 0x26, 0x00);
	assert_int_equal(R.sense[15] & 0xC0, 0x80); /* SKSV, C/D = 0 */
	assert_int_equal(R.sense[15] & 0x0F, 0x08); /* BPV, bit 0 */
	assert_int_equal(tdm_get_be16(R.sense + 16), 6);
	page[2] &= (uint8_t)~0x01;
	/* a wrong page length, an unknown page */
	page[1] = 0x10;
	select6(f->nx, page, 18);
	expect_sense(0x5, 0x26, 0x00);
	assert_int_equal(tdm_get_be16(R.sense + 16), 5);
	page[1] = 0x12;
	page[0] = 0x19;
	select6(f->nx, page, 20);
	expect_sense(0x5, 0x26, 0x00);
	page[0] = 0x08;
	/* the list ends inside the page */
	{
		uint8_t d[64] = {0};
		uint8_t c6[6] = {0x15, 0x10, 0, 0, 14, 0};

		memcpy(d + 4, page, 20);
		run_data(f->nx, 0, c6, 6, d, 14);
		expect_sense(0x5, 0x1A, 0x00);
		/* shorter than the header */
		c6[4] = 3;
		run_data(f->nx, 0, c6, 6, d, 3);
		expect_sense(0x5, 0x1A, 0x00);
		/* no parameter list at all */
		c6[4] = 0;
		run(f->nx, 0, c6, 6);
		expect_good();
		/* SP: no saved pages */
		c6[1] = 0x11;
		c6[4] = 24;
		run_data(f->nx, 0, c6, 6, d, 24);
		expect_cdb_err(1, 0);
	}

	/* D_SENSE: errors now come in descriptor format */
	RUN(f->nx, 0, 0x1A, 0x08, 0x0A, 0, 255, 0);
	memcpy(page, R.data + 4, 12);
	page[2] |= 0x04;
	select6(f->nx, page, 12);
	expect_good();
	cdb_rw16(c, 0x88, ~0ull, 1);
	run(f->nx, 0, c, 16);
	expect_lba_oob();
	assert_int_equal(R.sense[0], 0x72);
	page[2] &= (uint8_t)~0x04;
	select6(f->nx, page, 12);
	expect_good();
	run(f->nx, 0, c, 16);
	assert_int_equal(R.sense[0], 0x70);

	/* SWP: write protected, WP in MODE SENSE, reads still fine */
	page[4] |= 0x08;
	select6(f->nx, page, 12);
	expect_good();
	RUN(f->nx, 0, 0x1A, 0, 0x3F, 0, 255, 0);
	assert_int_equal(R.data[2] & 0x80, 0x80);
	cdb_rw10(c, 0x2A, 0, 1);
	run_data(f->nx, 0, c, 10, blk, 512);
	expect_sense(0x7, 0x27, 0x00);
	cdb_rw10(c, 0x28, 0, 1);
	run(f->nx, 0, c, 10);
	expect_good();
	page[4] &= (uint8_t)~0x08;
	select6(f->nx, page, 12);
	expect_good();
	write10(f->nx, 0, 1, blk, 512);

	/* the control page's QAM is not changeable */
	page[3] ^= 0x10;
	select6(f->nx, page, 12);
	expect_sense(0x5, 0x26, 0x00);
	assert_int_equal(tdm_get_be16(R.sense + 16), 4 + 3);
	page[3] ^= 0x10;

	/* informational exceptions: MRIE 6 fine, 7 is reserved */
	RUN(f->nx, 0, 0x1A, 0x08, 0x1C, 0, 255, 0);
	memcpy(page, R.data + 4, 12);
	page[3] = 6;
	select6(f->nx, page, 12);
	expect_good();
	page[3] = 7;
	select6(f->nx, page, 12);
	expect_sense(0x5, 0x26, 0x00);

	/* MODE SELECT(10) with a block descriptor that matches */
	{
		uint8_t d[8 + 8 + 20] = {0};
		uint8_t c10[10] = {0x55, 0x10, 0, 0, 0, 0, 0, 0, sizeof(d), 0};

		tdm_put_be16(d + 6, 8);
		tdm_put_be32(d + 8, (uint32_t)f->lu->nblocks);
		tdm_put_be24(d + 13, 512);
		RUN(f->nx, 0, 0x1A, 0x08, 0x08, 0, 255, 0);
		memcpy(d + 16, R.data + 4, 20);
		run_data(f->nx, 0, c10, 10, d, sizeof(d));
		expect_good();
		/* another block length cannot be set */
		tdm_put_be24(d + 13, 4096);
		run_data(f->nx, 0, c10, 10, d, sizeof(d));
		expect_sense(0x5, 0x26, 0x00);
		assert_int_equal(tdm_get_be16(R.sense + 16), 13);
	}
}

/* ---- SPC-2 reservations ---- */

static void test_reserve(void **state)
{
	struct fix *f = *state;
	uint8_t c[10];

	RUN(f->nx, 0, 0x16, 0, 0, 0, 0, 0);
	expect_good();
	RUN(f->nx, 0, 0x16, 0, 0, 0, 0, 0); /* again: fine */
	expect_good();
	RUN(f->nx2, 0, 0x16, 0, 0, 0, 0, 0);
	assert_int_equal(R.status, TDM_STATUS_RESERVATION_CONFLICT);
	assert_int_equal(R.sense_len, 0);
	RUN(f->nx2, 0, 0x00, 0, 0, 0, 0, 0);
	assert_int_equal(R.status, TDM_STATUS_RESERVATION_CONFLICT);
	RUN(f->nx2, 0, 0x1A, 0, 0x3F, 0, 255, 0);
	assert_int_equal(R.status, TDM_STATUS_RESERVATION_CONFLICT);
	cdb_rw10(c, 0x28, 0, 1);
	run(f->nx2, 0, c, 10);
	assert_int_equal(R.status, TDM_STATUS_RESERVATION_CONFLICT);
	/* allowed from the other nexus */
	RUN(f->nx2, 0, 0x12, 0, 0, 0, 96, 0);
	expect_good();
	RUN(f->nx2, 0, 0xA0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0);
	expect_good();
	RUN(f->nx2, 0, 0x03, 0, 0, 0, 18, 0);
	expect_good();
	RUN(f->nx2, 0, 0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0);
	expect_good();
	RUN(f->nx2, 0, 0x4D, 0, 0x00, 0, 0, 0, 0, 0, 64, 0);
	expect_good();
	RUN(f->nx2, 0, 0x1E, 0, 0, 0, 0, 0); /* PREVENT 00b */
	expect_good();
	RUN(f->nx2, 0, 0x1E, 0, 0, 0, 1, 0);
	assert_int_equal(R.status, TDM_STATUS_RESERVATION_CONFLICT);
	RUN(f->nx2, 0, 0x1B, 0, 0, 0, 1, 0); /* START=1 */
	expect_good();
	RUN(f->nx2, 0, 0x1B, 0, 0, 0, 0, 0); /* START=0 */
	assert_int_equal(R.status, TDM_STATUS_RESERVATION_CONFLICT);
	/* RELEASE from the other nexus: GOOD, no effect */
	RUN(f->nx2, 0, 0x17, 0, 0, 0, 0, 0);
	expect_good();
	RUN(f->nx2, 0, 0x00, 0, 0, 0, 0, 0);
	assert_int_equal(R.status, TDM_STATUS_RESERVATION_CONFLICT);
	RUN(f->nx, 0, 0x00, 0, 0, 0, 0, 0);
	expect_good();
	/* RELEASE(10) by the holder; then the other one may reserve */
	RUN(f->nx, 0, 0x57, 0, 0, 0, 0, 0, 0, 0, 0, 0);
	expect_good();
	RUN(f->nx2, 0, 0x56, 0, 0, 0, 0, 0, 0, 0, 0, 0);
	expect_good();
	RUN(f->nx, 0, 0x00, 0, 0, 0, 0, 0);
	assert_int_equal(R.status, TDM_STATUS_RESERVATION_CONFLICT);
	/* I_T nexus loss of the holder releases it */
	tdm__spc2_nexus_gone(f->nx2);
	RUN(f->nx, 0, 0x00, 0, 0, 0, 0, 0);
	expect_good();
	/* and a LU reset too */
	RUN(f->nx, 0, 0x16, 0, 0, 0, 0, 0);
	expect_good();
	tdm__spc2_reset(f->lu, NULL, NULL);
	RUN(f->nx2, 0, 0x00, 0, 0, 0, 0, 0);
	expect_good();
	/* third party, long id, extents: not supported */
	RUN(f->nx, 0, 0x56, 0x10, 0, 0, 0, 0, 0, 0, 0, 0);
	expect_cdb_err(1, 4);
	RUN(f->nx, 0, 0x56, 0x02, 0, 0, 0, 0, 0, 0, 0, 0);
	expect_cdb_err(1, 1);
	RUN(f->nx, 0, 0x16, 0x01, 0, 0, 0, 0);
	expect_cdb_err(1, 0);
	RUN(f->nx, 0, 0x56, 0, 0, 0, 0, 0, 0, 0, 8, 0);
	expect_cdb_err(7, 7);
	RUN(f->nx2, 0, 0x00, 0, 0, 0, 0, 0);
	expect_good();
}

/* ---- TEST UNIT READY, START STOP UNIT, REQUEST SENSE ---- */

static void test_start_stop(void **state)
{
	struct fix *f = *state;
	uint8_t c[16];

	RUN(f->nx, 0, 0x00, 0, 0, 0, 0, 0);
	expect_good();
	RUN(f->nx, 0, 0x1B, 1, 0, 0, 0x00, 0); /* IMMED, stop */
	expect_good();
	/* START=0 without LOEJ: accepted, the unit keeps serving */
	RUN(f->nx, 0, 0x00, 0, 0, 0, 0, 0);
	expect_good();
	cdb_rw10(c, 0x28, 0, 1);
	run(f->nx, 0, c, 10);
	expect_good();
	cdb_rw10(c, 0x35, 0, 0);
	run(f->nx, 0, c, 10);
	expect_good();
	RUN(f->nx, 0, 0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0);
	expect_good();
	RUN(f->nx, 0, 0x12, 0, 0, 0, 96, 0);
	expect_good();
	/* REQUEST SENSE: nothing to report */
	RUN(f->nx, 0, 0x03, 0, 0, 0, 252, 0);
	expect_good();
	assert_int_equal(R.len, 18);
	assert_int_equal(R.data[0], 0x70);
	assert_int_equal(R.data[2], 0x0);
	RUN(f->nx, 0, 0x1B, 0, 0, 0, 0x01, 0); /* start */
	expect_good();
	RUN(f->nx, 0, 0x00, 0, 0, 0, 0, 0);
	expect_good();
	/* power conditions: every value is accepted and changes nothing
	 * (the LU is always active) */
	for (unsigned pc = 1; pc < 16; pc++) {
		RUN(f->nx, 0, 0x1B, 0, 0, 0, (uint8_t)(pc << 4), 0);
		expect_good();
	}
	RUN(f->nx, 0, 0x00, 0, 0, 0, 0, 0);
	expect_good();
	RUN(f->nx, 0, 0x1B, 0, 0, 0x01, 0x00, 0); /* modifier */
	expect_cdb_err(3, 3);
	/* LOEJ on a fixed disk */
	RUN(f->nx, 0, 0x1B, 0, 0, 0, 0x02, 0);
	expect_cdb_err(4, 1);
	/* PREVENT ALLOW on a fixed disk: accepted, nothing to do */
	RUN(f->nx, 0, 0x1E, 0, 0, 0, 1, 0);
	expect_good();
	RUN(f->nx, 0, 0x1E, 0, 0, 0, 0, 0);
	expect_good();
	RUN(f->nx, 0, 0x1E, 0, 0, 0, 2, 0);
	expect_cdb_err(4, 1);
	RUN(f->nx, 0, 0x00, 0, 0, 0, 0, 0);
	expect_good();
}

static void test_request_sense(void **state)
{
	struct fix *f = *state;

	RUN(f->nx, 0, 0x03, 0, 0, 0, 18, 0);
	expect_good();
	assert_int_equal(R.len, 18);
	assert_int_equal(R.data[0], 0x70);
	assert_int_equal(R.data[2], 0);
	assert_int_equal(R.data[7], 10);
	assert_int_equal(R.data[12], 0);
	RUN(f->nx, 0, 0x03, 1, 0, 0, 18, 0); /* DESC */
	expect_good();
	assert_int_equal(R.len, 8);
	assert_int_equal(R.data[0], 0x72);
	RUN(f->nx, 0, 0x03, 0, 0, 0, 0, 0);
	expect_good();
	assert_int_equal(R.len, 0);

	/* a pending UA is reported (and cleared) by REQUEST SENSE */
	tdm__ua_raise(f->nx, f->lu, TDM_SR_UA_POWER_ON_RESET);
	RUN(f->nx, 0, 0x03, 0, 0, 0, 18, 0);
	expect_good();
	assert_int_equal(R.data[2], 0x6);
	assert_int_equal(R.data[12], 0x29);
	assert_int_equal(R.data[13], 0x00);
	RUN(f->nx, 0, 0x00, 0, 0, 0, 0, 0);
	expect_good();
	tdm__ua_raise(f->nx, f->lu, TDM_SR_UA_CAPACITY_CHANGED);
	RUN(f->nx, 0, 0x03, 1, 0, 0, 32, 0);
	expect_good();
	assert_int_equal(R.data[0], 0x72);
	assert_int_equal(R.data[1], 0x6);
	assert_int_equal(R.data[2], 0x2A);
	assert_int_equal(R.data[3], 0x09);
	/* INQUIRY does not consume a UA, TUR does */
	tdm__ua_raise(f->nx, f->lu, TDM_SR_UA_POWER_ON_RESET);
	RUN(f->nx, 0, 0x12, 0, 0, 0, 96, 0);
	expect_good();
	RUN(f->nx, 0, 0x00, 0, 0, 0, 0, 0);
	expect_sense(0x6, 0x29, 0x00);
	RUN(f->nx, 0, 0x00, 0, 0, 0, 0, 0);
	expect_good();
}

/* ---- removable media ---- */

static void test_removable(void **state)
{
	struct tdm_lu *lu = open_lu(TDM_HANDLER_RAM, "rmb", NULL, 4 * MiB, 512,
				    LU_REMOVABLE);
	struct tdm_lu *lus[1] = {lu};
	struct tdm_nexus *a = tdm__test_nexus(lus, 1, &tops);
	struct tdm_nexus *b = tdm__test_nexus(lus, 1, &tops);
	uint8_t c[16];

	(void)state;
	RUN(a, 0, 0x12, 0, 0, 0, 96, 0);
	assert_int_equal(R.data[1], 0x80); /* RMB */
	/* prevented by a: neither a nor b may unload */
	RUN(a, 0, 0x1E, 0, 0, 0, 1, 0);
	expect_good();
	assert_int_equal(lu->prevent, 1);
	RUN(a, 0, 0x1B, 0, 0, 0, 0x02, 0);
	expect_sense(0x5, 0x53, 0x02);
	RUN(b, 0, 0x1B, 0, 0, 0, 0x02, 0);
	expect_sense(0x5, 0x53, 0x02);
	RUN(a, 0, 0x00, 0, 0, 0, 0, 0);
	expect_good();
	/* b's ALLOW does not end a's prevention */
	RUN(b, 0, 0x1E, 0, 0, 0, 0, 0);
	expect_good();
	RUN(b, 0, 0x1B, 0, 0, 0, 0x02, 0);
	expect_sense(0x5, 0x53, 0x02);
	RUN(a, 0, 0x1E, 0, 0, 0, 0, 0);
	expect_good();
	assert_int_equal(lu->prevent, 0);
	/* unload: no medium for media access and READ CAPACITY */
	RUN(a, 0, 0x1B, 0, 0, 0, 0x02, 0);
	expect_good();
	RUN(a, 0, 0x00, 0, 0, 0, 0, 0);
	expect_sense(0x2, 0x3A, 0x00);
	cdb_rw10(c, 0x28, 0, 1);
	run(a, 0, c, 10);
	expect_sense(0x2, 0x3A, 0x00);
	cdb_rw16(c, 0x91, 0, 1);
	run(a, 0, c, 16);
	expect_sense(0x2, 0x3A, 0x00);
	RUN(a, 0, 0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0);
	expect_sense(0x2, 0x3A, 0x00);
	RUN(a, 0, 0x03, 0, 0, 0, 18, 0);
	expect_good();
	assert_int_equal(R.data[12], 0x3A);
	/* START without LOEJ cannot start an empty unit */
	RUN(a, 0, 0x1B, 0, 0, 0, 0x01, 0);
	expect_sense(0x2, 0x3A, 0x00);
	/* no loading while removal is prevented either */
	RUN(a, 0, 0x1E, 0, 0, 0, 1, 0);
	expect_good();
	RUN(a, 0, 0x1B, 0, 0, 0, 0x03, 0);
	expect_sense(0x5, 0x53, 0x02);
	RUN(a, 0, 0x1E, 0, 0, 0, 0, 0);
	expect_good();
	RUN(a, 0, 0x1B, 0, 0, 0, 0x03, 0);
	expect_good();
	RUN(a, 0, 0x1E, 0, 0, 0, 1, 0);
	expect_good();
	RUN(a, 0, 0x00, 0, 0, 0, 0, 0);
	expect_good();
	/* the other nexus learns that the medium may have changed */
	RUN(b, 0, 0x00, 0, 0, 0, 0, 0);
	expect_sense(0x6, 0x28, 0x00);
	RUN(b, 0, 0x00, 0, 0, 0, 0, 0);
	expect_good();
	/* a's I_T nexus loss ends its prevention */
	tdm__spc2_nexus_gone(a);
	assert_int_equal(lu->prevent, 0);
	RUN(b, 0, 0x1B, 0, 0, 0, 0x02, 0);
	expect_good();
	RUN(b, 0, 0x1B, 0, 0, 0, 0x03, 0);
	expect_good();
	/* a LU reset too */
	RUN(b, 0, 0x1E, 0, 0, 0, 1, 0);
	assert_int_equal(lu->prevent, 1);
	tdm__spc2_reset(lu, NULL, NULL);
	assert_int_equal(lu->prevent, 0);
	RUN(b, 0, 0x1B, 0, 0, 0, 0x02, 0);
	expect_good();
	RUN(b, 0, 0x1B, 0, 0, 0, 0x03, 0);
	expect_good();
	RUN(a, 0, 0x00, 0, 0, 0, 0, 0);
	expect_sense(0x6, 0x28, 0x00);
	tdm__test_nexus_free(a);
	tdm__test_nexus_free(b);
	tdm__lu_put(lu);
}

/* ---- SYNCHRONIZE CACHE, PRE-FETCH, READ DEFECT DATA, LOG SENSE ---- */

static void test_misc_sbc(void **state)
{
	struct fix *f = *state;
	uint64_t nb = f->lu->nblocks;
	uint8_t c[16];

	cdb_rw10(c, 0x35, 0, 0);
	run(f->nx, 0, c, 10);
	expect_good();
	cdb_rw10(c, 0x35, (uint32_t)nb - 1, 1);
	c[1] = 0x02; /* IMMED */
	run(f->nx, 0, c, 10);
	expect_good();
	cdb_rw10(c, 0x35, (uint32_t)nb - 1, 2);
	run(f->nx, 0, c, 10);
	expect_lba_oob();
	cdb_rw16(c, 0x91, nb + 1, 0);
	run(f->nx, 0, c, 16);
	expect_lba_oob();
	cdb_rw16(c, 0x91, 0, (uint32_t)nb);
	run(f->nx, 0, c, 16);
	expect_good();

	cdb_rw10(c, 0x34, 0, 256);
	run(f->nx, 0, c, 10);
	expect_good();
	cdb_rw10(c, 0x34, (uint32_t)nb - 1, 2);
	run(f->nx, 0, c, 10);
	expect_lba_oob();
	cdb_rw16(c, 0x90, ~0ull, 1);
	run(f->nx, 0, c, 16);
	expect_lba_oob();
	cdb_rw16(c, 0x90, 0, 1);
	c[1] = 0x02;
	c[14] = 3;
	run(f->nx, 0, c, 16);
	expect_good();

	RUN(f->nx, 0, 0x37, 0, 0x18, 0, 0, 0, 0, 0, 32, 0);
	expect_good();
	assert_int_equal(R.len, 4);
	assert_int_equal(R.data[1], 0x18);
	assert_int_equal(tdm_get_be16(R.data + 2), 0);
	RUN(f->nx, 0, 0xB7, 0x05, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0);
	expect_good();
	assert_int_equal(R.len, 8);
	assert_int_equal(R.data[1], 0x05);
	assert_int_equal(tdm_get_be32(R.data + 4), 0);

	/* LOG SENSE */
	RUN(f->nx, 0, 0x4D, 0, 0x00, 0, 0, 0, 0, 0, 64, 0);
	expect_good();
	assert_int_equal(R.len, 7);
	assert_int_equal(R.data[4], 0x00);
	assert_int_equal(R.data[5], 0x0D);
	assert_int_equal(R.data[6], 0x2F);
	RUN(f->nx, 0, 0x4D, 0, 0x00, 0xFF, 0, 0, 0, 0, 64, 0);
	expect_good();
	assert_int_equal(R.data[0], 0x40);
	assert_int_equal(R.data[1], 0xFF);
	assert_int_equal(tdm_get_be16(R.data + 2), 8);
	RUN(f->nx, 0, 0x4D, 0, 0x40 | 0x0D, 0, 0, 0, 0, 0, 64, 0);
	expect_good();
	assert_int_equal(tdm_get_be16(R.data + 2), 12);
	assert_int_equal(R.data[9], 0xFF);
	RUN(f->nx, 0, 0x4D, 0, 0x0D, 0, 0, 0, 1, 0, 64, 0); /* pointer */
	expect_good();
	assert_int_equal(tdm_get_be16(R.data + 2), 6);
	assert_int_equal(tdm_get_be16(R.data + 4), 1);
	RUN(f->nx, 0, 0x4D, 0, 0x0D, 0, 0, 0, 2, 0, 64, 0);
	expect_cdb_err(5, 7);
	RUN(f->nx, 0, 0x4D, 0, 0x2F, 0, 0, 0, 0, 0, 64, 0);
	expect_good();
	assert_int_equal(R.len, 11);
	RUN(f->nx, 0, 0x4D, 0x02, 0x00, 0, 0, 0, 0, 0, 64, 0);
	expect_cdb_err(1, 1);
	RUN(f->nx, 0, 0x4D, 0x01, 0x00, 0, 0, 0, 0, 0, 64, 0);
	expect_cdb_err(1, 0);
	RUN(f->nx, 0, 0x4D, 0, 0x30, 0, 0, 0, 0, 0, 64, 0);
	expect_cdb_err(2, 5);
	RUN(f->nx, 0, 0x4D, 0, 0x0D, 0x01, 0, 0, 0, 0, 64, 0);
	expect_cdb_err(3, 7);
	/* an opcode nobody implements (yet) */
	RUN(f->nx, 0, 0x02, 0, 0, 0, 0, 0);
	expect_sense(0x5, 0x20, 0x00);
}

/* ---- a file LU: a volatile write cache, FLUSH, FUA ---- */

static void test_file_cache(void **state)
{
	char path[] = "/tmp/tandem-test-scsi-XXXXXX";
	int fd = mkstemp(path);
	struct tdm_lu *lu;
	struct tdm_nexus *nx;
	uint8_t c[16], *w = malloc(64 * 4096);

	(void)state;
	assert_true(fd >= 0);
	assert_non_null(w);
	assert_int_equal(ftruncate(fd, 8 * MiB), 0);
	close(fd);
	lu = open_lu(TDM_HANDLER_FILEIO, "fdisk", path, 0, 4096, 0);
	unlink(path);
	nx = tdm__test_nexus(&lu, 1, &tops);
	assert_true(lu->bs.write_cache);
	assert_true(lu->mode.wce);

	RUN(nx, 0, 0x1A, 0x08, 0x08, 0, 255, 0);
	assert_int_equal(R.data[4 + 2] & 0x04, 0x04);
	RUN(nx, 0, 0x12, 1, 0x86, 0, 255, 0);
	assert_int_equal(R.data[6], 0x01); /* V_SUP */

	fill(w, 64 * 4096, 5);
	write10(nx, 0, 64, w, 4096);
	cdb_rw10(c, 0x2A, 64, 64);
	c[1] = 0x08; /* FUA */
	run_data(nx, 0, c, 10, w, 64 * 4096);
	expect_good();
	cdb_rw16(c, 0x91, 0, 0);
	run(nx, 0, c, 16);
	expect_good();
	cdb_rw10(c, 0x28, 64, 64);
	run(nx, 0, c, 10);
	expect_good();
	assert_memory_equal(R.data, w, 64 * 4096);
	/* WRITE AND VERIFY with a comparison, VERIFY on a file */
	cdb_rw10(c, 0x2E, 10, 8);
	c[1] = 0x02;
	run_data(nx, 0, c, 10, w, 8 * 4096);
	expect_good();
	w[3 * 4096 + 100] ^= 1;
	cdb_rw10(c, 0x2F, 10, 8);
	c[1] = 0x02;
	run_data(nx, 0, c, 10, w, 8 * 4096);
	expect_sense(0xE, 0x1D, 0x00);
	assert_int_equal(tdm_get_be32(R.sense + 3), 3 * 4096 + 100);
	/* stop flushes first; the unit keeps serving */
	RUN(nx, 0, 0x1B, 0, 0, 0, 0x00, 0);
	expect_good();
	RUN(nx, 0, 0x00, 0, 0, 0, 0, 0);
	expect_good();
	RUN(nx, 0, 0x1B, 0, 0, 0, 0x01, 0);
	expect_good();
	/* WCE off: writes go through */
	RUN(nx, 0, 0x1A, 0x08, 0x08, 0, 255, 0);
	{
		uint8_t page[20];

		memcpy(page, R.data + 4, 20);
		page[2] &= (uint8_t)~0x04;
		select6(nx, page, 20);
		expect_good();
	}
	assert_false(lu->mode.wce);
	write10(nx, 0, 64, w, 4096);
	cdb_rw10(c, 0x35, 0, 0);
	run(nx, 0, c, 10);
	expect_good();
	tdm__test_nexus_free(nx);
	tdm__lu_put(lu);
	free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_optable),
		cmocka_unit_test(test_lun_codec),
		cmocka_unit_test_setup_teardown(test_inquiry_standard,
						fix_setup, fix_teardown),
		cmocka_unit_test_setup_teardown(test_transport_identity,
						fix_setup, fix_teardown),
		cmocka_unit_test_setup_teardown(test_preempt_abort_pending,
						fix_setup, fix_teardown),
		cmocka_unit_test_setup_teardown(test_pr_no_tid_unregistered,
						fix_setup, fix_teardown),
		cmocka_unit_test(test_identity_pinned),
		cmocka_unit_test_setup_teardown(test_inquiry_vpd, fix_setup,
						fix_teardown),
		cmocka_unit_test_setup_teardown(test_unmapped_lun, fix_setup,
						fix_teardown),
		cmocka_unit_test(test_report_luns),
		cmocka_unit_test(test_report_luns_many),
		cmocka_unit_test_setup_teardown(test_rw_512, fix_setup,
						fix_teardown),
		cmocka_unit_test(test_rw_4096),
		cmocka_unit_test_setup_teardown(test_verify, fix_setup,
						fix_teardown),
		cmocka_unit_test_setup_teardown(test_read_capacity, fix_setup,
						fix_teardown),
		cmocka_unit_test(test_read_capacity_4tib),
		cmocka_unit_test_setup_teardown(test_mode_sense, fix_setup,
						fix_teardown),
		cmocka_unit_test_setup_teardown(test_mode_select, fix_setup,
						fix_teardown),
		cmocka_unit_test_setup_teardown(test_reserve, fix_setup,
						fix_teardown),
		cmocka_unit_test_setup_teardown(test_start_stop, fix_setup,
						fix_teardown),
		cmocka_unit_test_setup_teardown(test_request_sense, fix_setup,
						fix_teardown),
		cmocka_unit_test(test_removable),
		cmocka_unit_test_setup_teardown(test_misc_sbc, fix_setup,
						fix_teardown),
		cmocka_unit_test(test_file_cache),
	};
	int rc;

	/* no persistent reservation state of the system's LUs */
	setenv("TANDEM_STATE_DIR", "/nonexistent/tandem-test-scsi", 1);
	loop = tdm_loop_new();
	if (!loop) {
		fprintf(stderr, "cannot create an event loop\n");
		return 77;
	}
	tdm_loop_set_current(loop);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	tdm_loop_set_current(NULL);
	tdm_loop_free(loop);
	return rc ? 1 : 0;
}
