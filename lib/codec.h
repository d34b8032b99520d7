/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * codec.h - the byte codec under tandem's messages (the agent link, the
 * cluster's messages, snapshots, configuration edits) and its files:
 * big-endian integers, "bytes" (u32 length + data) and "str" (bytes
 * without NUL, at most TDM_CODEC_STR_MAX), written into a growing buffer
 * whose allocation failure sticks, read through a cursor whose errors
 * stick; and frames: u32 length of what follows, u16 type, u16 version,
 * body.
 */
#ifndef TANDEM_LIB_CODEC_H
#define TANDEM_LIB_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TDM_FRAME_MAX (64u << 20)
#define TDM_FRAME_HDR 8u /* u32 length, u16 type, u16 version */
#define TDM_CODEC_STR_MAX 1024u

/* ---- writing: a growing buffer; an allocation failure sticks ---- */

struct tdm_wbuf {
	uint8_t *p;
	size_t len, cap;
	bool oom;
};

/* Start a plain body, no frame header (resets w, keeps its memory). */
void tdm_wbuf_reset(struct tdm_wbuf *w);
/* Start a frame (resets w, keeps its memory). */
void tdm_frame_begin(struct tdm_wbuf *w, uint16_t type, uint16_t version);
void tdm_wbuf_put_u8(struct tdm_wbuf *w, uint8_t v);
void tdm_wbuf_put_u16(struct tdm_wbuf *w, uint16_t v);
void tdm_wbuf_put_u32(struct tdm_wbuf *w, uint32_t v);
void tdm_wbuf_put_u64(struct tdm_wbuf *w, uint64_t v);
void tdm_wbuf_put_bytes(struct tdm_wbuf *w, const void *p, size_t n);
void tdm_wbuf_put_str(struct tdm_wbuf *w, const char *s);
/* Fill in the length; 0, or -ENOMEM / -EMSGSIZE. w->p[0..len) is the
 * frame. */
int tdm_frame_end(struct tdm_wbuf *w);
void tdm_wbuf_free(struct tdm_wbuf *w);

/* ---- reading: a cursor over one frame's body; errors stick ---- */

struct tdm_rd {
	const uint8_t *p;
	size_t len, off;
	bool bad;
};

/*
 * Look at the start of a byte stream: 0 = need more bytes, >0 = a whole
 * frame of that many bytes (header included) is there, -EMSGSIZE /
 * -EPROTO = not a frame (the stream cannot go on).
 */
long tdm_frame_len(const uint8_t *p, size_t avail);
/* Open a whole frame (as tdm_frame_len measured it). */
void tdm_frame_open(struct tdm_rd *r, const uint8_t *frame, size_t len,
		    uint16_t *type, uint16_t *version);
uint8_t tdm_rd_get_u8(struct tdm_rd *r);
uint16_t tdm_rd_get_u16(struct tdm_rd *r);
uint32_t tdm_rd_get_u32(struct tdm_rd *r);
uint64_t tdm_rd_get_u64(struct tdm_rd *r);
/* Points into the frame; NULL with *n = 0 when bad. */
const uint8_t *tdm_rd_get_bytes(struct tdm_rd *r, size_t *n);
/* Copies into out (NUL-terminated); bad if too long or holding a NUL. */
void tdm_rd_get_str(struct tdm_rd *r, char *out, size_t outlen);
/* The frame was read to its end without error. */
bool tdm_rd_done(const struct tdm_rd *r);

#endif
