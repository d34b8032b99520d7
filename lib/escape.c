/* SPDX-License-Identifier: GPL-2.0-only */
/* escape.c - peer-supplied strings made safe for a log line (escape.h). */
#include <stdbool.h>
#include <string.h>

#include "lib/escape.h"

static bool plain(unsigned char ch)
{
	return ch > ' ' && ch < 0x7f && ch != '\\';
}

const char *tdm_escape(const char *s, char *out, size_t outlen)
{
	static const char hex[] = "0123456789abcdef";
	size_t need = 0, room, o = 0;

	if (outlen == 0)
		return out;
	for (const char *p = s; *p; p++)
		need += plain((unsigned char)*p) ? 1 : 4;
	/* all of it, or whole escapes and "..." */
	room = need < outlen ? need : (outlen > 4 ? outlen - 4 : 0);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (o + (plain(ch) ? 1 : 4) > room)
			break;
		if (plain(ch)) {
			out[o++] = (char)ch;
			continue;
		}
		out[o++] = '\\';
		out[o++] = 'x';
		out[o++] = hex[ch >> 4];
		out[o++] = hex[ch & 15];
	}
	if (need >= outlen && outlen > 4) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}
