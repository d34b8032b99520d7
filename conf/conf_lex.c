/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * conf_lex.c - the scst.conf lexer (conf_lex.h): words, "quoted \"
 * strings", '{', '}', newlines and '#' comments, grouped into statements
 * with their lines and byte offsets; and the "name:line: problem"
 * messages of conf/.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "conf/conf_lex.h"

/* ---- messages ---- */

int tdm__conf_verr(char *err, size_t errlen, const char *name, int line,
		   const char *fmt, va_list ap)
{
	int n;

	if (!err || errlen == 0)
		return -EINVAL;
	if (line > 0)
		n = snprintf(err, errlen, "%s:%d: ", name, line);
	else
		n = snprintf(err, errlen, "%s: ", name);
	if (n >= 0 && (size_t)n < errlen)
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	return -EINVAL;
}

int tdm__conf_err(char *err, size_t errlen, const char *name, int line,
		  const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tdm__conf_verr(err, errlen, name, line, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int tdm__lex_err(struct tdm__lex *L, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tdm__conf_verr(L->err, L->errlen, L->name, line, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

const char *tdm__conf_show(const char *s)
{
	static _Thread_local char bufs[2][256];
	static _Thread_local unsigned which;
	char *b = bufs[which++ & 1];
	size_t o = 0, i;

	for (i = 0; s[i] && i < 60; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch >= 0x20 && ch < 0x7f)
			b[o++] = (char)ch;
		else
			o += (size_t)snprintf(b + o, 8, "\\x%02x", ch);
	}
	if (s[i])
		o += (size_t)snprintf(b + o, 8, "...");
	b[o] = '\0';
	return b;
}

const char *tdm__lex_keyword(const char *w)
{
	static const char *const keywords[] = {
		"HANDLER", "DEVICE", "TARGET_DRIVER", "TARGET",
		"LUN",	   "GROUP",  "INITIATOR",
	};

	for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
		if (strcasecmp(w, keywords[i]) == 0)
			return keywords[i];
	return NULL;
}

/* ---- tokens ---- */

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\f' ||
	       ch == '\v';
}

static bool is_ctrl(unsigned char ch)
{
	return ch < 0x20 || ch == 0x7f;
}

/* The line to blame for something found at the end of the text. */
static int eof_line(const struct tdm__lex *L)
{
	if (L->line > 1 && L->end[-1] == '\n')
		return L->line - 1;
	return L->line;
}

/* What ends a bare word, and must follow a closing quote. */
static inline bool ends_word(char ch)
{
	return is_space(ch) || ch == '\n' || ch == '#' || ch == '{' ||
	       ch == '}';
}

/* One more byte of a word: printable, and room for it. */
static int word_byte(struct tdm__lex *L, char *buf, size_t *o, char ch,
		     const char *where)
{
	if (is_ctrl((unsigned char)ch))
		return tdm__lex_err(L, L->line,
				    "non-printable character 0x%02x%s",
				    (unsigned char)ch, where);
	if (*o == TDM__WORD_MAX - 1)
		return tdm__lex_err(L, L->line, "value longer than %d bytes",
				    TDM__WORD_MAX - 1);
	buf[(*o)++] = ch;
	return 0;
}

static int lex_quoted(struct tdm__lex *L, char *buf)
{
	size_t o = 0;

	L->p++; /* the opening quote */
	for (;;) {
		char ch;
		int r;

		if (L->p == L->end || *L->p == '\n')
			return tdm__lex_err(L, L->line,
					    "unterminated quoted string");
		ch = *L->p++;
		if (ch == '"')
			break;
		if (ch == '\\' && L->p < L->end &&
		    (*L->p == '"' || *L->p == '\\'))
			ch = *L->p++;
		r = word_byte(L, buf, &o, ch, " in a quoted string");
		if (r)
			return r;
	}
	buf[o] = '\0';
	if (L->p < L->end && !ends_word(*L->p))
		return tdm__lex_err(L, L->line,
				    "unexpected character after a closing "
				    "quote");
	return 0;
}

static int lex_word(struct tdm__lex *L, char *buf)
{
	size_t o = 0;

	for (; L->p < L->end && !ends_word(*L->p); L->p++) {
		int r;

		if (*L->p == '"')
			return tdm__lex_err(L, L->line,
					    "unexpected '\"' inside a word "
					    "(quote the whole value)");
		r = word_byte(L, buf, &o, *L->p, "");
		if (r)
			return r;
	}
	buf[o] = '\0';
	return 0;
}

/* Next token; a word goes to buf. *line and *at: where it starts. */
static int lex(struct tdm__lex *L, char *buf, enum tdm__tok *t, int *line,
	       size_t *at)
{
	for (;;) {
		*line = L->line;
		*at = (size_t)(L->p - L->text);
		if (L->p == L->end) {
			*line = eof_line(L);
			*t = TDM__T_EOF;
			return 0;
		}
		switch (*L->p) {
		case '\n':
			L->p++;
			L->line++;
			*t = TDM__T_NL;
			return 0;
		case '#':
			while (L->p < L->end && *L->p != '\n')
				L->p++;
			continue;
		case '{':
			L->p++;
			*t = TDM__T_LBRACE;
			return 0;
		case '}':
			L->p++;
			*t = TDM__T_RBRACE;
			return 0;
		case '"':
			*t = TDM__T_WORD;
			return lex_quoted(L, buf);
		default:
			if (is_space(*L->p)) {
				L->p++;
				continue;
			}
			*t = TDM__T_WORD;
			return lex_word(L, buf);
		}
	}
}

/* ---- statements ---- */

void tdm__lex_init(struct tdm__lex *L, const char *text, size_t len,
		   const char *name, char *err, size_t errlen)
{
	L->text = L->p = text;
	L->end = text + len;
	L->line = 1;
	L->name = name;
	L->err = err;
	L->errlen = errlen;
	L->has_pending = false;
	L->st.n = 0;
}

/* Empty lines are skipped. */
int tdm__lex_stmt(struct tdm__lex *L)
{
	struct tdm__stmt *S = &L->st;
	char scratch[TDM__WORD_MAX];

	S->n = 0;
	for (;;) {
		enum tdm__tok t;
		size_t at;
		int line, r;

		if (L->has_pending) {
			L->has_pending = false;
			t = L->pending.tok;
			line = L->pending.line;
			at = L->pending.at;
		} else {
			char *buf =
				S->n < TDM__STMT_WORDS ? S->w[S->n] : scratch;

			r = lex(L, buf, &t, &line, &at);
			if (r)
				return r;
		}
		if (S->n == 0) {
			S->line = line;
			S->first = at;
		}
		S->stop = (size_t)(L->p - L->text);
		switch (t) {
		case TDM__T_WORD:
			if (S->n == TDM__STMT_WORDS)
				return tdm__lex_err(
					L, line, "too many values after '%s'",
					tdm__conf_show(S->w[0]));
			if (S->w[S->n][0] == '\0')
				return tdm__lex_err(L, line, "empty value");
			S->n++;
			S->words_end = S->stop;
			continue;
		case TDM__T_NL:
			if (S->n == 0)
				continue;
			S->end = TDM__T_NL;
			return 0;
		case TDM__T_LBRACE:
			S->end = TDM__T_LBRACE;
			return 0;
		case TDM__T_RBRACE:
		case TDM__T_EOF:
			if (S->n == 0) {
				S->end = t;
				return 0;
			}
			L->has_pending = true;
			L->pending = (struct tdm__tok_at){t, line, at};
			S->end = TDM__T_NL;
			S->stop = at;
			return 0;
		}
	}
}
