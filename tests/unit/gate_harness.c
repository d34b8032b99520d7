/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * gate_harness.c - the fixture shared by the unit tests that drive SCSI
 * commands through the real command gate; see gate_harness.h.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gate_harness.h"

struct tdm_loop *loop;
struct gate_result R;
bool fixed_sense_only;
atomic_uint order_ctr;
atomic_int tmf_done;

static uint64_t next_tag = 1;

uint64_t next_cmd_tag(void)
{
	return __atomic_fetch_add(&next_tag, 1, __ATOMIC_RELAXED);
}

/* ---- a transport that records ---- */

static void t_write_pending(struct tdm_cmd *cmd)
{
	struct tcmd *t = container_of(cmd, struct tcmd, c);
	size_t n = t->dout_len < cmd->data_len ? t->dout_len : cmd->data_len;

	if (n)
		memcpy(cmd->buf, t->dout, n);
	memset(cmd->buf + n, 0, cmd->data_len - n);
	tdm_cmd_execute(cmd);
}

static void t_queue_status(struct tdm_cmd *cmd)
{
	struct tcmd *t = container_of(cmd, struct tcmd, c);

	assert_false(atomic_load(&t->done));
	t->order = atomic_fetch_add(&order_ctr, 1) + 1;
	if (t->cb)
		t->cb(t);
	atomic_store(&t->done, true);
}

static void t_free_cmd(struct tdm_cmd *cmd)
{
	container_of(cmd, struct tcmd, c)->freed = true;
}

static void t_queue_tmf_rsp(struct tdm_tmf *tmf)
{
	(void)tmf;
	atomic_fetch_add(&tmf_done, 1);
}

/* iSCSI: the initiator port is the nexus' initiator name with ISID 0,
 * the target port "target,t,0x0001" */
static int t_iscsi_tid(const struct tdm_nexus *nx, uint8_t *buf, size_t cap)
{
	static const uint8_t isid[6];

	return tdm_transport_id_iscsi(buf, cap, tdm_nexus_get_id(nx)->initiator,
				      isid);
}

static void desig(struct tdm_designator *d, uint8_t assoc, uint8_t type,
		  const void *id, size_t len)
{
	d->assoc = assoc;
	d->type = type;
	d->len = (uint8_t)len;
	memcpy(d->id, id, len);
}

static size_t t_iscsi_port(const struct tdm_nexus *nx, struct tdm_designator *d,
			   size_t max)
{
	const char *t = tdm_nexus_get_id(nx)->target;
	char port[TDM_DESIG_MAX];
	int n = snprintf(port, sizeof(port), "%s,t,0x0001", t);

	assert_true(max >= 2);
	desig(&d[0], TDM_DESIG_ASSOC_TARGET, TDM_DESIG_SCSI_NAME, t, strlen(t));
	desig(&d[1], TDM_DESIG_ASSOC_PORT, TDM_DESIG_SCSI_NAME, port,
	      (size_t)n);
	return 2;
}

/* what every test transport does with commands */
#define T_COMMANDS                                                             \
	.write_pending = t_write_pending, .queue_status = t_queue_status,      \
	.queue_tmf_rsp = t_queue_tmf_rsp, .free_cmd = t_free_cmd

const struct tdm_transport_ops tops = {
	.name = "iscsi",
	.protocol = TDM_PROTO_ISCSI,
	.transport_id = t_iscsi_tid,
	.target_port = t_iscsi_port,
	T_COMMANDS,
};

/* SRP: 16-byte initiator port identifiers SRP_TID_PREFIX and a count;
 * the target port an EUI-64 */
const uint8_t srp_target_port[8] = {0x00, 0x02, 0xc9, 0x03,
				    0x00, 0xa1, 0xb2, 0xc3};

static int t_srp_tid(const struct tdm_nexus *nx, uint8_t *buf, size_t cap)
{
	static uint64_t next = 1;
	uint8_t id[16];

	(void)nx;
	memcpy(id, SRP_TID_PREFIX, 8);
	tdm_put_be64(id + 8, next++);
	return tdm_transport_id(buf, cap, TDM_PROTO_SRP, id, sizeof(id));
}

static size_t t_srp_port(const struct tdm_nexus *nx, struct tdm_designator *d,
			 size_t max)
{
	(void)nx;
	assert_true(max >= 1);
	desig(&d[0], TDM_DESIG_ASSOC_PORT, TDM_DESIG_EUI64, srp_target_port,
	      sizeof(srp_target_port));
	return 1;
}

const struct tdm_transport_ops tops_srp = {
	.name = "srp",
	.protocol = TDM_PROTO_SRP,
	.transport_id = t_srp_tid,
	.target_port = t_srp_port,
	T_COMMANDS,
};

/* A kernel fabric that does not say who the initiator is */
const struct tdm_transport_ops tops_anon = {
	.name = "anon",
	.protocol = TDM_PROTO_NONE,
	T_COMMANDS,
};

/* ---- running commands ---- */

struct tcmd *submit(struct tdm_nexus *nx, uint64_t lun, const uint8_t *cdb,
		    size_t cdb_len, const void *dout, size_t dout_len,
		    uint32_t exp_len)
{
	struct tcmd *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	memcpy(t->c.cdb, cdb, cdb_len);
	t->c.cdb_len = (uint8_t)cdb_len;
	t->c.lun = tdm_lun_encode(lun);
	t->c.nexus = nx;
	t->c.tag = next_cmd_tag();
	t->c.exp_len = exp_len;
	t->c.exp_dir = dout_len ? TDM_DIR_WRITE : TDM_DIR_READ;
	t->dout = dout;
	t->dout_len = dout_len;
	tdm_cmd_submit(&t->c);
	return t;
}

void wait_done(struct tcmd *t)
{
	uint64_t deadline = tdm_now_ns() + 60 * 1000000000ull;

	while (!atomic_load(&t->done) && tdm_now_ns() < deadline)
		tdm_loop_run_once(loop, 100);
	assert_true(atomic_load(&t->done));
}

void collect(struct tcmd *t)
{
	free(R.data);
	R.status = t->c.status;
	R.sense_len = t->c.sense_len;
	memcpy(R.sense, t->c.sense, sizeof(R.sense));
	R.len = t->c.data_len;
	R.data = malloc(R.len ? R.len : 1);
	assert_non_null(R.data);
	if (R.len)
		memcpy(R.data, t->c.buf, R.len);
	assert_null(t->c.priv); /* the handlers freed their state */
	tdm_cmd_release(&t->c);
	assert_true(t->freed);
	free(t);
}

void run_x(struct tdm_nexus *nx, uint64_t lun, const uint8_t *cdb,
	   size_t cdb_len, const void *dout, size_t dout_len, uint32_t exp_len)
{
	struct tcmd *t = submit(nx, lun, cdb, cdb_len, dout, dout_len, exp_len);

	wait_done(t);
	collect(t);
}

void run_data(struct tdm_nexus *nx, uint64_t lun, const uint8_t *cdb,
	      size_t cdb_len, const void *dout, size_t dout_len)
{
	run_x(nx, lun, cdb, cdb_len, dout, dout_len, 1u << 30);
}

void run_out(struct tdm_nexus *nx, uint64_t lun, const uint8_t *cdb,
	     size_t cdb_len, const void *dout, size_t dout_len)
{
	run_x(nx, lun, cdb, cdb_len, dout, dout_len, (uint32_t)dout_len);
}

void run(struct tdm_nexus *nx, uint64_t lun, const uint8_t *cdb, size_t cdb_len)
{
	run_x(nx, lun, cdb, cdb_len, NULL, 0, 1u << 30);
}

void result_free(void)
{
	free(R.data);
	R.data = NULL;
}

/* ---- sense checks ---- */

void sense_kcq(const uint8_t *s, uint8_t *k, uint8_t *asc, uint8_t *ascq)
{
	if ((s[0] & 0x7F) >= 0x72) {
		*k = s[1] & 0x0F;
		*asc = s[2];
		*ascq = s[3];
	} else {
		*k = s[2] & 0x0F;
		*asc = s[12];
		*ascq = s[13];
	}
}

void expect_good_at(const char *file, int line)
{
	if (R.status != TDM_STATUS_GOOD) {
		uint8_t k, a, q;

		sense_kcq(R.sense, &k, &a, &q);
		print_error("status %02x sense %x/%02x/%02x field %u\n",
			    R.status, k, a, q, tdm_get_be16(R.sense + 16));
	}
	_assert_int_equal(R.status, TDM_STATUS_GOOD, file, line);
}

void expect_sense_at(uint8_t key, uint8_t asc, uint8_t ascq, const char *file,
		     int line)
{
	uint8_t k, a, q;

	_assert_int_equal(R.status, TDM_STATUS_CHECK_CONDITION, file, line);
	if (fixed_sense_only)
		_assert_int_equal(R.sense[0] & 0x7F, 0x70, file, line);
	sense_kcq(R.sense, &k, &a, &q);
	if (k != key || a != asc || q != ascq)
		print_error("sense %x/%02x/%02x, want %x/%02x/%02x\n", k, a, q,
			    key, asc, ascq);
	_assert_int_equal(k, key, file, line);
	_assert_int_equal(a, asc, file, line);
	_assert_int_equal(q, ascq, file, line);
}

void expect_field_at(bool cdb, uint16_t byte, int bit, const char *file,
		     int line)
{
	expect_sense_at(0x5, cdb ? 0x24 : 0x26, 0x00, file, line);
	_assert_int_equal(R.sense[0] & 0x7F, 0x70, file, line);
	_assert_int_equal(R.sense[15] & 0x80, 0x80, file, line); /* SKSV */
	_assert_int_equal(R.sense[15] & 0x40, cdb ? 0x40 : 0x00, file, line);
	if (bit >= 0) {
		_assert_int_equal(R.sense[15] & 0x08, 0x08, file,
				  line); /* BPV */
		_assert_int_equal(R.sense[15] & 0x07, bit, file, line);
	}
	_assert_int_equal(tdm_get_be16(R.sense + 16), byte, file, line);
}

/* ---- LUs ---- */

struct tdm_lu *open_lu(enum tdm_handler h, const char *name, const char *path,
		       uint64_t size, uint32_t blocksize, unsigned flags)
{
	struct tdm_conf_device c;
	struct tdm_lu *lu = NULL;
	char err[256] = "";
	int r;

	memset(&c, 0, sizeof(c));
	snprintf(c.name, sizeof(c.name), "%s", name);
	c.handler = h;
	if (path)
		snprintf(c.filename, sizeof(c.filename), "%s", path);
	c.size = size;
	c.blocksize = blocksize;
	if (blocksize)
		c.set_mask |= TDM_DA_BLOCKSIZE;
	if (size)
		c.set_mask |= TDM_DA_SIZE;
	c.removable = flags & LU_REMOVABLE;
	c.thin_provisioned = flags & LU_THIN;
	c.read_only = flags & LU_RO;
	if (flags & LU_PHYS4K)
		c.phys_blocksize = 4096;
	r = tdm__lu_open(&c, &lu, err, sizeof(err));
	if (r < 0)
		print_error("%s: %s\n", name, err);
	assert_int_equal(r, 0);
	return lu;
}

struct tdm_lu *ram_lu(const char *name, uint64_t size, uint32_t bs)
{
	return open_lu(TDM_HANDLER_RAM, name, NULL, size, bs, 0);
}

struct tdm_lu *file_lu(const char *name, uint64_t size, uint32_t bs,
		       unsigned flags)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];
	struct tdm_lu *lu;
	int fd;

	snprintf(path, sizeof(path), "%s/tandem-test-XXXXXX",
		 dir && *dir ? dir : "/tmp");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	close(fd);
	lu = open_lu(TDM_HANDLER_FILEIO, name, path, 0, bs, flags);
	unlink(path);
	return lu;
}
