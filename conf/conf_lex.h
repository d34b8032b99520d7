/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * conf_lex.h - the scst.conf lexer, private to conf/: the one reader of
 * words, "quoted strings", '{', '}', newlines and '#' comments. The
 * parser (conf_parse.c) reads a file through it statement by statement;
 * the edits (conf_edit.c) read the written configuration through it to
 * find where a statement or a block stands (byte offsets). Also the
 * "name:line: problem" messages that lexing, parsing and validation
 * (conf_validate.c) share.
 */
#ifndef TANDEM_CONF_LEX_H
#define TANDEM_CONF_LEX_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#define TDM__WORD_MAX 4096 /* longest word + NUL: a 4095-byte path */
#define TDM__STMT_WORDS 4  /* words in one statement, at most */

enum tdm__tok {
	TDM__T_WORD,
	TDM__T_NL,
	TDM__T_LBRACE,
	TDM__T_RBRACE,
	TDM__T_EOF
};

/*
 * One statement: its words up to a newline or '{' (both consumed), or a
 * '}' or the end of the text alone (n == 0; a '}' or the end right after
 * words ends that statement and comes back alone at the next call).
 */
struct tdm__stmt {
	int line;	   /* of its first token */
	int n;		   /* words */
	enum tdm__tok end; /* NL, LBRACE, or (n == 0) RBRACE / EOF */
	size_t first;	   /* byte offset of its first token */
	size_t words_end;  /* just past its last word */
	size_t stop;	   /* just past it: past its '\n', '{' or '}'; at
			    * the '}' or the end that ends its words */
	char w[TDM__STMT_WORDS][TDM__WORD_MAX];
};

/* A token read, and where it starts. */
struct tdm__tok_at {
	enum tdm__tok tok;
	int line;
	size_t at;
};

struct tdm__lex {
	const char *text, *p, *end;
	int line;
	const char *name; /* of the text, in messages */
	char *err;	  /* NULL: no messages */
	size_t errlen;
	bool has_pending; /* a '}' or the end read past a statement: */
	struct tdm__tok_at pending; /* the next statement's */
	struct tdm__stmt st;	    /* the statement just read */
};

/* Read text[0..len) (not NUL-terminated; never NULL); name and err as
 * above. */
void tdm__lex_init(struct tdm__lex *L, const char *text, size_t len,
		   const char *name, char *err, size_t errlen);
/* The next statement into L->st: 0, or -EINVAL with the message. */
int tdm__lex_stmt(struct tdm__lex *L);
/* "name:line: problem" into L's err; returns -EINVAL. */
int tdm__lex_err(struct tdm__lex *L, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The keyword (HANDLER, DEVICE, ...) w spells in another case, or NULL:
 * keywords are case-sensitive, and never attribute names. */
const char *tdm__lex_keyword(const char *w);

/* "name:line: problem" (line 0: "name: problem") into err; -EINVAL. */
int tdm__conf_verr(char *err, size_t errlen, const char *name, int line,
		   const char *fmt, va_list ap)
	__attribute__((format(printf, 5, 0)));
int tdm__conf_err(char *err, size_t errlen, const char *name, int line,
		  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/*
 * A word as it can be shown in a message: at most 60 bytes, anything but
 * printable ASCII as \xNN. Two buffers per thread, so that two words can
 * appear in one message.
 */
const char *tdm__conf_show(const char *s);

#endif
