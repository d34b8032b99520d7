/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fuzz_cdb.c - libFuzzer target for the command gate and the SPC/SBC
 * emulation: arbitrary CDBs (and data-out bytes) from two I_T nexuses to
 * a ram disk, a removable ram disk and unmapped LUNs.
 *
 * Input: records of
 *   u8  selector: bit 0 nexus, bits 1-2 LUN (0, 1, 2 unmapped, 3 raw),
 *       bit 3 flat space LUN encoding
 *   u8  CDB length - 1 (mod 32), then the CDB bytes
 *   u8  raw LUN byte 0 (selector LUN 3 only)
 *   u16 data-out length (big-endian), then the bytes (zero padded)
 * Every command must complete exactly once, synchronously (ram), with a
 * sane status, sense and data length. State (mode pages, reservations,
 * medium) is reset before each input so that crashes reproduce.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scsi/scsi_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fcmd {
	struct tdm_cmd c;
	const uint8_t *dout;
	size_t dout_len;
	int ncompl;
	bool freed;
};

static void fail(const char *what, const struct tdm_cmd *c)
{
	fprintf(stderr, "fuzz_cdb: %s (opcode %02x)\n", what, c->cdb[0]);
	abort();
}

static void f_write_pending(struct tdm_cmd *cmd)
{
	struct fcmd *f = container_of(cmd, struct fcmd, c);
	size_t n = f->dout_len < cmd->data_len ? f->dout_len : cmd->data_len;

	if (!cmd->buf || cmd->buf_cap < cmd->data_len)
		fail("data-out buffer smaller than data_len", cmd);
	if (n)
		memcpy(cmd->buf, f->dout, n);
	memset(cmd->buf + n, 0, cmd->data_len - n);
	tdm_cmd_execute(cmd);
}

static void f_queue_status(struct tdm_cmd *cmd)
{
	struct fcmd *f = container_of(cmd, struct fcmd, c);

	f->ncompl++;
	if (cmd->sense_len > TDM_SENSE_MAX)
		fail("sense too long", cmd);
	if (cmd->status == TDM_STATUS_CHECK_CONDITION && cmd->sense_len < 8)
		fail("CHECK CONDITION without sense", cmd);
	if (cmd->status != TDM_STATUS_GOOD && cmd->data_len)
		fail("data with an error status", cmd);
	if (cmd->data_len && (!cmd->buf || cmd->data_len > cmd->buf_cap))
		fail("data-in beyond the buffer", cmd);
	if (cmd->dir == TDM_DIR_READ && cmd->alloc_len &&
	    cmd->data_len > cmd->alloc_len)
		fail("data-in beyond the allocation length", cmd);
}

static void f_free_cmd(struct tdm_cmd *cmd)
{
	container_of(cmd, struct fcmd, c)->freed = true;
}

static const struct tdm_transport_ops fops = {
	.name = "iscsi",
	.write_pending = f_write_pending,
	.queue_status = f_queue_status,
	.free_cmd = f_free_cmd,
};

static struct tdm_lu *lus[2];
static struct tdm_nexus *nxs[2];
static struct tdm_mode_state mode0[2];

static struct tdm_lu *open_ram(const char *name, bool removable)
{
	struct tdm_conf_device c;
	struct tdm_lu *lu;
	char err[256];

	memset(&c, 0, sizeof(c));
	snprintf(c.name, sizeof(c.name), "%s", name);
	c.handler = TDM_HANDLER_RAM;
	c.size = 1 << 20;
	c.blocksize = 512;
	c.removable = removable;
	if (tdm__lu_open(&c, &lu, err, sizeof(err)) < 0) {
		fprintf(stderr, "fuzz_cdb: %s\n", err);
		abort();
	}
	return lu;
}

static void setup(void)
{
	static char dir[] = "/tmp/tandem-fuzz-cdb-XXXXXX";

	/* PERSISTENT RESERVE OUT with APTPL writes state files: keep them
	 * out of the system's state directory */
	if (!getenv("TANDEM_STATE_DIR") && mkdtemp(dir))
		setenv("TANDEM_STATE_DIR", dir, 1);
	lus[0] = open_ram("fuzz0", false);
	lus[1] = open_ram("fuzz1", true);
	nxs[0] = tdm__test_nexus(lus, 2, &fops);
	nxs[1] = tdm__test_nexus(lus, 2, &fops);
	if (!nxs[0] || !nxs[1])
		abort();
	mode0[0] = lus[0]->mode;
	mode0[1] = lus[1]->mode;
}

static void submit(struct tdm_nexus *nx, uint64_t sam_lun, const uint8_t *cdb,
		   size_t cdb_len, const uint8_t *dout, size_t dout_len)
{
	struct fcmd *f = calloc(1, sizeof(*f));

	if (!f)
		abort();
	memcpy(f->c.cdb, cdb, cdb_len);
	f->c.cdb_len = (uint8_t)cdb_len;
	f->c.lun = sam_lun;
	f->c.nexus = nx;
	f->c.exp_len = (uint32_t)dout_len;
	f->dout = dout;
	f->dout_len = dout_len;
	tdm_cmd_submit(&f->c);
	if (f->ncompl != 1)
		fail(f->ncompl ? "completed twice" : "did not complete", &f->c);
	tdm_cmd_release(&f->c);
	if (!f->freed)
		fail("not freed", &f->c);
	free(f);
}

/* Back to a known state: no reservation, prevention, UA; loaded and
 * started; the initial mode pages. */
static void reset_state(void)
{
	static const uint8_t load[6] = {0x1B, 0, 0, 0, 0x03, 0};
	int i;

	for (i = 0; i < 2; i++) {
		tdm__spc2_reset(lus[i], NULL, NULL);
		tdm_mutex_lock(&lus[i]->lock);
		lus[i]->mode = mode0[i];
		tdm_mutex_unlock(&lus[i]->lock);
	}
	tdm__ua_clear_nexus(nxs[0]);
	submit(nxs[0], tdm_lun_encode(1), load, sizeof(load), NULL, 0);
	for (i = 0; i < 2; i++) {
		tdm__ua_clear_nexus(nxs[i]);
		__atomic_store_n(&lus[i]->stopped, false, __ATOMIC_RELEASE);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	size_t pos = 0;
	int n = 0;

	if (!ready) {
		setup();
		ready = true;
	}
	reset_state();
	while (pos + 2 <= size && n++ < 64) {
		uint8_t sel = data[pos++];
		size_t cdb_len = (size_t)(data[pos++] & 31) + 1, dlen;
		uint8_t cdb[TDM_CDB_MAX] = {0};
		uint64_t lun;

		memcpy(cdb, data + pos,
		       cdb_len < size - pos ? cdb_len : size - pos);
		pos += cdb_len < size - pos ? cdb_len : size - pos;
		switch ((sel >> 1) & 3) {
		case 3:
			lun = pos < size ? (uint64_t)data[pos++] << 56 : 0;
			break;
		default:
			lun = (sel >> 1) & 3;
			lun = (sel & 0x08) ? (0x4000ull | lun) << 48
					   : tdm_lun_encode(lun);
			break;
		}
		dlen = 0;
		if (pos + 2 <= size) {
			dlen = tdm_get_be16(data + pos);
			pos += 2;
		}
		if (dlen > size - pos)
			dlen = size - pos;
		submit(nxs[sel & 1], lun, cdb, cdb_len, data + pos, dlen);
		pos += dlen;
	}
	return 0;
}
