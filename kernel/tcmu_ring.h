/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tcmu_ring.h - the TCMU command ring as bytes (kernel/tcmu_ring.c):
 * the mailbox, the entries the kernel queues (CMD, PAD, TMR) and the
 * completions tandem writes back, in the layout of
 * <linux/target_core_user.h> (mailbox version 2).
 *
 * Pure: no I/O, no allocation, no logging, so the unit tests and the
 * fuzz target (tests/fuzz/fuzz_tcmu.c) run it on an ordinary buffer laid
 * out like the kernel's. Everything the ring says is checked against
 * the area it lives in: an entry lies inside the command ring between
 * the tail and the head and never wraps (the kernel pads to the ring's
 * end instead), its iovecs lie inside the data area, its CDB inside the
 * entry; the codec never reads or writes outside the area it was given.
 *
 * Completion is out of order (TCMU_MAILBOX_FLAG_CAP_OOOC, which every
 * kernel since 4.11 sets): a command's status goes into the first CMD
 * slot at the tail, whichever command that slot carried (it was read
 * when it was fetched), with the completed command's cmd_id; the tail
 * then moves past that slot. So the caller must copy what it needs of
 * an entry (the CDB, the iovecs: tdm__tcmu_seg) before it completes
 * anything.
 */
#ifndef TANDEM_KERNEL_TCMU_RING_H
#define TANDEM_KERNEL_TCMU_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The kernel's layout. Its <linux/uio.h> defines struct iovec again
 * (glibc's <sys/uio.h> has it): renamed here, it is only read through
 * offsets anyway. */
#define iovec tdm_linux_iovec
#include <linux/target_core_user.h>
#undef iovec

/* What went wrong with the ring; TDM_TCMU_OK and TDM_TCMU_EMPTY are the
 * normal answers, everything else means the ring cannot be trusted any
 * more (the device is stopped: kernel/README.md). */
enum tdm_tcmu_err {
	TDM_TCMU_OK = 0,
	TDM_TCMU_EMPTY,	    /* nothing between our position and the head */
	TDM_TCMU_E_MAILBOX, /* version, flags or ring bounds unusable */
	TDM_TCMU_E_HEAD,    /* cmd_head outside the ring or not aligned */
	TDM_TCMU_E_LEN,	    /* entry length 0, unaligned, past the head
			     * or past the ring's end */
	TDM_TCMU_E_OP,	    /* an opcode that is neither CMD, PAD nor TMR */
	TDM_TCMU_E_SHORT,   /* entry too short for what it says it holds */
	TDM_TCMU_E_IOV_CNT, /* iovec counts (DIF ones included) */
	TDM_TCMU_E_IOV,	    /* an iovec outside the data area */
	TDM_TCMU_E_CDB,	    /* cdb_off outside the entry, bad CDB length */
	TDM_TCMU_E_NOSLOT,  /* a completion with no fetched CMD slot left */
	TDM_TCMU_E_ARG,	    /* the caller's argument is out of range */
	TDM__TCMU_ERR_COUNT
};

/* A short name for logs ("entry length"). */
const char *tdm__tcmu_err_str(enum tdm_tcmu_err e);

/* The ring tandem reads: the area mmapped from /dev/uioN. */
struct tdm_tcmu_ring {
	uint8_t *base;	   /* start of the area (the mailbox) */
	size_t size;	   /* bytes mapped */
	uint32_t cmdr_off; /* the command ring, from the mailbox */
	uint32_t cmdr_size;
	size_t data_off; /* data area: [data_off, size) */
	uint16_t flags;	 /* TCMU_MAILBOX_FLAG_CAP_* */
	uint32_t next;	 /* the next entry to fetch (ring offset) */
};

/* One entry fetched. */
struct tdm_tcmu_entry {
	uint8_t op;	 /* TCMU_OP_CMD or TCMU_OP_TMR */
	uint16_t cmd_id; /* CMD: the kernel's id, given back on completion */
	uint32_t off;	 /* ring offset of the entry */
	uint32_t len;	 /* its length */
	/* CMD */
	const uint8_t *cdb; /* inside the entry: copy before completing */
	uint8_t cdb_len;
	uint32_t iov_cnt;  /* data-out or data-in segments */
	uint32_t bidi_cnt; /* data-in segments of a bidirectional command */
	uint64_t iov_len;  /* bytes of the iov_cnt segments */
	uint64_t bidi_len; /* bytes of the bidi_cnt segments */
	/* TMR */
	uint8_t tmr_type; /* TCMU_TMR_* */
	uint32_t tmr_cnt; /* cmd_ids listed (tdm__tcmu_tmr_id) */
};

/* A data segment: offset from the area's start, length. */
struct tdm_tcmu_seg {
	uint64_t off;
	uint64_t len;
};

/*
 * Check the mailbox of the size bytes at base and set r up to read from
 * the current tail (which is where the kernel expects the next
 * completion). TDM_TCMU_E_MAILBOX if the version is not 2, the ring does
 * not fit or is not 8-byte aligned, or the tail is outside the ring.
 */
enum tdm_tcmu_err tdm__tcmu_ring_init(struct tdm_tcmu_ring *r, void *base,
				      size_t size);

/*
 * Fetch the next CMD or TMR entry (PAD entries are skipped) and move
 * past it. TDM_TCMU_EMPTY when our position reached the head; an error
 * leaves the position on the entry at fault.
 */
enum tdm_tcmu_err tdm__tcmu_ring_next(struct tdm_tcmu_ring *r,
				      struct tdm_tcmu_entry *e);

/* Segment i of a CMD entry: 0..iov_cnt-1 the first direction's,
 * iov_cnt.. the bidi ones. Checked again: TDM_TCMU_E_ARG / _E_IOV. */
enum tdm_tcmu_err tdm__tcmu_seg(const struct tdm_tcmu_ring *r,
				const struct tdm_tcmu_entry *e, uint32_t i,
				struct tdm_tcmu_seg *s);
/* cmd_id i of a TMR entry */
enum tdm_tcmu_err tdm__tcmu_tmr_id(const struct tdm_tcmu_ring *r,
				   const struct tdm_tcmu_entry *e, uint32_t i,
				   uint16_t *id);

/*
 * Copy between segments (as tdm__tcmu_seg gave them) and a buffer:
 * from the data area into buf (data-out), or from buf into the data
 * area (data-in), at most len bytes; returns the bytes copied. Segments
 * outside the data area are not touched (and end the copy).
 */
size_t tdm__tcmu_copy_from(const struct tdm_tcmu_ring *r,
			   const struct tdm_tcmu_seg *s, uint32_t n,
			   uint8_t *buf, size_t len);
size_t tdm__tcmu_copy_to(const struct tdm_tcmu_ring *r,
			 const struct tdm_tcmu_seg *s, uint32_t n,
			 const uint8_t *buf, size_t len);

/* Zero at most len bytes of the segments (data-in nobody produced:
 * what an earlier command left there is not given out); returns the
 * bytes zeroed. */
size_t tdm__tcmu_zero(const struct tdm_tcmu_ring *r,
		      const struct tdm_tcmu_seg *s, uint32_t n, size_t len);

/* How a command ended. */
struct tdm_tcmu_status {
	uint16_t cmd_id;
	uint8_t scsi_status;
	const uint8_t *sense; /* sense_len bytes, cut to 96 */
	size_t sense_len;
	bool read_len_valid; /* data-in: read_len bytes were produced */
	uint32_t read_len;
};

/*
 * Complete a command: write its status into the first CMD slot from the
 * tail (skipping PAD and TMR entries, which need no answer) among those
 * already fetched, set TCMU_UFLAG_READ_LEN when the kernel reads it
 * (TCMU_MAILBOX_FLAG_CAP_READ_LEN) and the status says so, then move
 * the tail past the slot. TDM_TCMU_E_NOSLOT when every fetched CMD slot
 * has been used (more completions than commands).
 */
enum tdm_tcmu_err tdm__tcmu_complete(struct tdm_tcmu_ring *r,
				     const struct tdm_tcmu_status *st);

/* The length of a CDB from its operation code (SPC-4 4.2.5.1: the
 * group code); variable length (7Fh) from its ADDITIONAL CDB LENGTH.
 * n bytes are readable at cdb. 0 if it cannot be told. */
unsigned tdm__tcmu_cdb_len(const uint8_t *cdb, size_t n);

#endif
