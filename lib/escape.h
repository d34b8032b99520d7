/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * escape.h - bytes a peer sent, made safe to put in a log line: what is
 * printable ASCII stays (but '\' and the blank), everything else becomes
 * \xHH, so a name, key, value or CHAP user name can neither start a new
 * line, drive a terminal nor look like two words.
 */
#ifndef TANDEM_ESCAPE_H
#define TANDEM_ESCAPE_H

#include <stddef.h>

/* A buffer size that shows a 63-byte key or a 223-byte name whole when
 * it is plain, and a fair part of anything else. */
#define TDM_ESCAPE_LEN 256

/*
 * Write the escaped form of the NUL-terminated s into out (outlen bytes,
 * NUL included); what does not fit is cut at a whole escape and marked
 * with "...". Returns out, for use as a printf argument.
 */
const char *tdm_escape(const char *s, char *out, size_t outlen);

#endif
