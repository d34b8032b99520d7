/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * gate_harness.h - the fixture shared by the unit tests that drive SCSI
 * commands through the real command gate (tdm_cmd_submit()): a transport
 * that records what queue_status() saw, helpers that run one CDB to its
 * end on the test's loop and keep the result in R, sense checks that
 * report the line of their caller, and LU creation.
 *
 * Include after <cmocka.h> (and its prerequisites).
 */
#ifndef TANDEM_TESTS_GATE_HARNESS_H
#define TANDEM_TESTS_GATE_HARNESS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scsi/scsi_int.h"
#include "lib/loop.h"

#define MiB (1024ull * 1024)

/* The loop the commands run on; each test's main() creates it. */
extern struct tdm_loop *loop;

/* ---- a transport that records ---- */

struct tcmd {
	struct tdm_cmd c;
	const uint8_t *dout; /* copied into the buffer by write_pending */
	size_t dout_len;
	atomic_bool done;
	bool freed;
	unsigned order;		    /* completion order (1, 2, ...) */
	void (*cb)(struct tcmd *t); /* called by queue_status, if set */
	void *arg;
};

/* iSCSI (initiator "iqn.2026-11.org.tandem:test-N", target port
 * "iqn.2026-11.org.tandem:unit,t,0x0001"), SRP (initiator port
 * identifiers SRP_TID_PREFIX and a 64-bit count, target port the EUI-64
 * srp_target_port) and a fabric without protocol or TransportID. */
extern const struct tdm_transport_ops tops, tops_srp, tops_anon;
#define SRP_TID_PREFIX "\xfe\x80\x00\x00\x00\x00\x00\x00"
extern const uint8_t srp_target_port[8];
extern atomic_uint order_ctr; /* completions so far */
extern atomic_int tmf_done;   /* TMF responses so far */

/* The next command tag (commands get unique tags from 1 up). */
uint64_t next_cmd_tag(void);

/* What the last command ended with. */
struct gate_result {
	uint8_t status;
	uint8_t sense[TDM_SENSE_MAX];
	size_t sense_len;
	uint8_t *data; /* R.len bytes, malloc'd */
	uint32_t len;
};

extern struct gate_result R;

/* When set, every sense check also requires fixed-format (70h) sense. */
extern bool fixed_sense_only;

/* Submit a command on the current loop; exp_len is the transport's
 * expected data transfer length. */
struct tcmd *submit(struct tdm_nexus *nx, uint64_t lun, const uint8_t *cdb,
		    size_t cdb_len, const void *dout, size_t dout_len,
		    uint32_t exp_len);
/* Pump the loop until t has completed. */
void wait_done(struct tcmd *t);
/* Move the result of t into R and release it. */
void collect(struct tcmd *t);

/* Run one command to its end; the result is in R. */
void run_x(struct tdm_nexus *nx, uint64_t lun, const uint8_t *cdb,
	   size_t cdb_len, const void *dout, size_t dout_len, uint32_t exp_len);
/* ... with a (large) expected length that does not limit the command */
void run_data(struct tdm_nexus *nx, uint64_t lun, const uint8_t *cdb,
	      size_t cdb_len, const void *dout, size_t dout_len);
/* ... with the expected length the size of the data-out */
void run_out(struct tdm_nexus *nx, uint64_t lun, const uint8_t *cdb,
	     size_t cdb_len, const void *dout, size_t dout_len);
/* ... without data-out */
void run(struct tdm_nexus *nx, uint64_t lun, const uint8_t *cdb,
	 size_t cdb_len);
/* Free R.data (fixture teardown). */
void result_free(void);

#define RUN(nx, lun, ...)                                                      \
	do {                                                                   \
		const uint8_t cdb_[] = {__VA_ARGS__};                          \
		run(nx, lun, cdb_, sizeof(cdb_));                              \
	} while (0)

/* RUN at LUN 0 */
#define RUN0(nx, ...) RUN(nx, 0, __VA_ARGS__)

/* ---- sense checks; they report the line of their caller ---- */

/* Sense key, ASC and ASCQ of fixed or descriptor format sense. */
void sense_kcq(const uint8_t *s, uint8_t *k, uint8_t *asc, uint8_t *ascq);

void expect_good_at(const char *file, int line);
void expect_sense_at(uint8_t key, uint8_t asc, uint8_t ascq, const char *file,
		     int line);
/* INVALID FIELD IN CDB (cdb) / PARAMETER LIST (!cdb), fixed format, with
 * the field pointer at byte/bit; bit < 0: any bit. */
void expect_field_at(bool cdb, uint16_t byte, int bit, const char *file,
		     int line);

#define expect_good() expect_good_at(__FILE__, __LINE__)
#define expect_sense(k, a, q) expect_sense_at(k, a, q, __FILE__, __LINE__)
#define expect_cdb_err(byte, bit)                                              \
	expect_field_at(true, byte, bit, __FILE__, __LINE__)
#define expect_param_err(byte, bit)                                            \
	expect_field_at(false, byte, bit, __FILE__, __LINE__)
#define expect_lba_oob() expect_sense(0x5, 0x21, 0x00)

/* ---- LUs ---- */

#define LU_REMOVABLE (1u << 0)
#define LU_THIN (1u << 1)
#define LU_RO (1u << 2)
#define LU_PHYS4K (1u << 3) /* physical_blocksize 4096 */

/* An LU of handler h; size 0: the size of the file; blocksize 0: the
 * default; flags LU_*. */
struct tdm_lu *open_lu(enum tdm_handler h, const char *name, const char *path,
		       uint64_t size, uint32_t blocksize, unsigned flags);
struct tdm_lu *ram_lu(const char *name, uint64_t size, uint32_t bs);
/* A fileio LU on a sparse file of size bytes in $TMPDIR (or /tmp),
 * unlinked at once (io_uring: completions come on later loop
 * iterations). */
struct tdm_lu *file_lu(const char *name, uint64_t size, uint32_t bs,
		       unsigned flags);

#endif
