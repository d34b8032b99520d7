/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * buf.h - data buffers for commands (lib/buf.c): 4096-aligned, from
 * per-thread free lists of power-of-two size classes.
 */
#ifndef TANDEM_LIB_BUF_H
#define TANDEM_LIB_BUF_H

#include <stdint.h>

/* A buffer of at least len bytes; *cap gets its real size (pass it back
 * to tdm_buf_free). NULL when out of memory. */
void *tdm_buf_alloc(uint32_t len, uint32_t *cap);
void tdm_buf_free(void *buf, uint32_t cap);
/*
 * Called with each buffer about to go back to the heap (from any thread,
 * never for one still cached): a transport that registered buffers for
 * RDMA forgets them here, before the memory can be unmapped and its
 * address reused. One hook for the process; NULL removes it.
 */
void tdm_buf_set_release_hook(void (*fn)(void *buf, uint32_t cap));
/* Give this thread's cached buffers back to the heap (a loop ending). */
void tdm_buf_cache_drain(void);

#endif
