/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * conf_edit.c - edits of a struct tdm_conf for tandemctl.
 *
 * Additions and attribute changes are text edits: the configuration is
 * written as scst.conf (tdm_conf_write), statements are deleted from or
 * inserted into one block of that text, and the result is parsed back
 * (tdm_conf_parse). The parser is thus the only judge of names, ranges
 * and cross references, and an edit can never produce a configuration
 * that a file could not hold. The written text is read with the parser's
 * own lexer (conf_lex.c), whose statements carry their byte offsets:
 * that is how a block and its statements are found. Removals edit the
 * structure.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alua/alua.h" /* target group states */
#include "conf/conf_edit.h"
#include "conf/conf_lex.h"

/* HANDLER > DEVICE, TARGET_DRIVER > TARGET > GROUP > LUN: 4 deep, with
 * room */
#define DEPTH_MAX 8
#define EDIT_NAME "<edit>"

static int fail(char *err, size_t errlen, int r, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int r, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return r;
}

/* ---- -attributes "k=v,k=v" ---- */

void tdm_attrs_free(struct tdm_attrs *a)
{
	for (size_t i = 0; i < a->n; i++) {
		free(a->v[i].key);
		free(a->v[i].value);
	}
	free(a->v);
	a->v = NULL;
	a->n = 0;
}

static bool blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* s[0..n) without surrounding blanks, as a new string. */
static char *trimdup(const char *s, size_t n)
{
	char *r;

	while (n && blank(*s)) {
		s++;
		n--;
	}
	while (n && blank(s[n - 1]))
		n--;
	r = malloc(n + 1);
	if (r) {
		memcpy(r, s, n);
		r[n] = '\0';
	}
	return r;
}

static int add_piece(struct tdm_attrs *a, const char *p, size_t n, char *err,
		     size_t errlen)
{
	const char *eq = memchr(p, '=', n);
	struct tdm_attr *v;
	char *k, *val;

	if (!eq) {
		char *piece, *joined, *prev;
		size_t pl;

		if (a->n == 0) {
			piece = trimdup(p, n);
			fail(err, errlen, -EINVAL,
			     "attribute '%s' is not "
			     "name=value",
			     piece ? piece : "");
			free(piece);
			return -EINVAL;
		}
		/* "HeaderDigest=CRC32C,None": continues the last value */
		piece = trimdup(p, n);
		prev = a->v[a->n - 1].value;
		pl = strlen(prev);
		joined = piece ? malloc(pl + strlen(piece) + 2) : NULL;
		if (!joined) {
			free(piece);
			return fail(err, errlen, -ENOMEM, "out of memory");
		}
		memcpy(joined, prev, pl);
		joined[pl] = ',';
		memcpy(joined + pl + 1, piece, strlen(piece) + 1);
		free(piece);
		free(prev);
		a->v[a->n - 1].value = joined;
		return 0;
	}
	k = trimdup(p, (size_t)(eq - p));
	val = trimdup(eq + 1, n - (size_t)(eq - p) - 1);
	v = realloc(a->v, (a->n + 1) * sizeof(*v));
	if (!k || !val || !v) {
		free(k);
		free(val);
		if (v)
			a->v = v;
		return fail(err, errlen, -ENOMEM, "out of memory");
	}
	a->v = v;
	if (!*k) {
		free(k);
		free(val);
		return fail(err, errlen, -EINVAL,
			    "attribute without a name "
			    "before '='");
	}
	a->v[a->n].key = k;
	a->v[a->n].value = val;
	a->n++;
	return 0;
}

int tdm_attrs_parse(const char *s, struct tdm_attrs *out, char *err,
		    size_t errlen)
{
	size_t n = strlen(s), o = 0;
	char *piece = malloc(n + 1);
	int r = 0;

	out->v = NULL;
	out->n = 0;
	if (!piece)
		return fail(err, errlen, -ENOMEM, "out of memory");
	for (size_t i = 0; i <= n && !r; i++) {
		if (i < n && s[i] == '\\' && i + 1 < n &&
		    (s[i + 1] == ',' || s[i + 1] == '\\')) {
			piece[o++] = s[++i];
			continue;
		}
		if (i < n && s[i] != ',') {
			piece[o++] = s[i];
			continue;
		}
		/* end of a piece */
		{
			size_t k = 0;

			while (k < o && blank(piece[k]))
				k++;
			if (k == o) {
				if (i < n || out->n || o)
					r = fail(err, errlen, -EINVAL,
						 "empty attribute in '%s'", s);
			} else {
				r = add_piece(out, piece, o, err, errlen);
			}
		}
		o = 0;
	}
	free(piece);
	if (r)
		tdm_attrs_free(out);
	return r;
}

/* ---- lookups ---- */

struct tdm_conf_device *tdm_edit_find_device(const struct tdm_conf *c,
					     const char *name)
{
	for (size_t i = 0; i < c->ndevices; i++)
		if (strcmp(c->devices[i].name, name) == 0)
			return &c->devices[i];
	return NULL;
}

struct tdm_conf_target *tdm_edit_find_target(const struct tdm_conf *c,
					     const char *name)
{
	/* the drivers whose names have other forms, and their kept form */
	static const struct {
		enum tdm_target_driver drv;
		int (*norm)(const char *in, char *out, size_t outlen);
	} forms[] = {
		{TDM_DRV_SRP, tdm_srp_target_name}, /* a port GID */
		{TDM_DRV_VIO, tdm_vio_target_name}, /* a unit address */
		{TDM_DRV_FC, tdm_fc_port_name},	    /* a WWPN */
	};
	char kept[TDM_SRP_NAME_LEN + 1]; /* the longest of them */

	for (size_t i = 0; i < c->ntargets; i++)
		if (strcmp(c->targets[i].name, name) == 0)
			return &c->targets[i];
	/* a target of such a driver by its name in another form */
	for (size_t f = 0; f < sizeof(forms) / sizeof(forms[0]); f++) {
		if (forms[f].norm(name, kept, sizeof(kept)) < 0)
			continue;
		for (size_t i = 0; i < c->ntargets; i++)
			if (c->targets[i].driver == forms[f].drv &&
			    strcmp(c->targets[i].name, kept) == 0)
				return &c->targets[i];
	}
	return NULL;
}

struct tdm_conf_group *tdm_edit_find_group(const struct tdm_conf_target *t,
					   const char *name)
{
	for (size_t i = 0; i < t->ngroups; i++)
		if (strcmp(t->groups[i].name, name) == 0)
			return &t->groups[i];
	return NULL;
}

/* ---- finding a block in the written text ---- */

struct pathel {
	const char *kw;
	const char *name; /* NULL: any */
};

static bool path_match(const struct tdm__stmt *S, const struct pathel *p)
{
	return S->n == 2 && strcmp(S->w[0], p->kw) == 0 &&
	       (!p->name || strcmp(S->w[1], p->name) == 0);
}

/* Where the block at the end of a path is. */
struct blk {
	bool found;
	bool braced;
	size_t close; /* braced: offset of its '}' */
	size_t after; /* not braced: offset just past its header's words */
};

typedef int (*child_fn)(const struct tdm__lex *L, void *arg);

/*
 * Find the block at path in the text L reads; call fn for each statement
 * directly in it.
 */
static int walk(struct tdm__lex *L, const struct pathel *path, int npath,
		child_fn fn, void *arg, struct blk *b)
{
	const struct tdm__stmt *S = &L->st;
	bool on[DEPTH_MAX + 1];
	int depth = 0, r;

	memset(b, 0, sizeof(*b));
	on[0] = true;
	for (;;) {
		r = tdm__lex_stmt(L);
		if (r)
			return r;
		if (S->n == 0) {
			if (S->end == TDM__T_EOF)
				return depth == 0 ? 0 : -EINVAL;
			if (S->end == TDM__T_LBRACE || depth == 0)
				return -EINVAL;
			if (depth == npath && on[depth]) {
				b->found = b->braced = true;
				b->close = S->first;
				return 0;
			}
			depth--;
			continue;
		}
		if (depth == npath && on[depth] && fn) {
			r = fn(L, arg);
			if (r)
				return r;
		}
		if (S->end == TDM__T_LBRACE) {
			bool m = depth < npath && on[depth] &&
				 path_match(S, &path[depth]);

			if (depth == DEPTH_MAX)
				return -EINVAL;
			on[++depth] = m;
			continue;
		}
		if (depth == npath - 1 && on[depth] &&
		    path_match(S, &path[depth])) {
			b->found = true;
			b->after = S->words_end;
			return 0;
		}
	}
}

/* ---- a rewrite of one block ---- */

struct cut {
	size_t off, len;
};

struct rewrite {
	struct cut *cuts;
	size_t ncuts;
	/* attribute edits */
	enum tdm_edit_mode mode;
	const struct tdm_attrs *a;
	char **norm;	  /* REMOVE: values as the parser keeps them, or NULL */
	bool *hit;	  /* REMOVE: a statement matched a->v[i] */
	const char *what; /* the block, in messages */
};

/* Cut the statement L just read, with its line's indentation when
 * alone. */
static int cut_stmt(struct rewrite *rw, const struct tdm__lex *L)
{
	const struct tdm__stmt *S = &L->st;
	size_t from = S->first;
	struct cut *c;

	if (S->end == TDM__T_LBRACE)
		return -EINVAL; /* attributes never open blocks */
	while (from > 0 && blank(L->text[from - 1]))
		from--;
	if (from > 0 && L->text[from - 1] != '\n')
		from = S->first;
	c = realloc(rw->cuts, (rw->ncuts + 1) * sizeof(*c));
	if (!c)
		return -ENOMEM;
	rw->cuts = c;
	c[rw->ncuts].off = from;
	c[rw->ncuts].len = S->stop - from;
	rw->ncuts++;
	return 0;
}

static bool same_key(const char *stmt_key, const char *key)
{
	bool a = strcmp(stmt_key, "size") == 0 ||
		 strcmp(stmt_key, "size_mb") == 0;
	bool b = strcmp(key, "size") == 0 || strcmp(key, "size_mb") == 0;

	return strcmp(stmt_key, key) == 0 || (a && b);
}

static bool is_user_key(const char *key)
{
	return strcmp(key, "IncomingUser") == 0 ||
	       strcmp(key, "OutgoingUser") == 0;
}

/* The first blank-separated word of s. */
static size_t first_word(const char *s, const char **start)
{
	while (blank(*s))
		s++;
	*start = s;
	return strcspn(s, " \t");
}

static bool value_match(const struct tdm__stmt *S, const char *key,
			const char *want)
{
	char have[2 * TDM__WORD_MAX];

	if (S->n < 2)
		return false;
	if (S->n >= 3)
		snprintf(have, sizeof(have), "%s %s", S->w[1], S->w[2]);
	else
		snprintf(have, sizeof(have), "%s", S->w[1]);
	if (is_user_key(key)) {
		const char *h, *w;
		size_t hn = first_word(have, &h), wn = first_word(want, &w);

		return hn == wn && memcmp(h, w, hn) == 0;
	}
	return strcmp(have, want) == 0;
}

static int attr_child(const struct tdm__lex *L, void *arg)
{
	const struct tdm__stmt *S = &L->st;
	struct rewrite *rw = arg;

	if (rw->mode == TDM_EDIT_ADD)
		return 0;
	for (size_t i = 0; i < rw->a->n; i++) {
		const struct tdm_attr *at = &rw->a->v[i];
		const char *want;

		if (!same_key(S->w[0], at->key))
			continue;
		want = rw->norm && rw->norm[i] ? rw->norm[i] : at->value;
		if (rw->mode == TDM_EDIT_REMOVE && *want &&
		    !value_match(S, at->key, want))
			continue;
		if (rw->hit)
			rw->hit[i] = true;
		return cut_stmt(rw, L);
	}
	return 0;
}

/* A value as a quoted word the parser reads back as it is. */
static int put_quoted(char **buf, size_t *len, const char *v)
{
	size_t n = strlen(v), extra = 0;
	char *q, *p;

	for (size_t i = 0; i < n; i++)
		extra += v[i] == '"' || v[i] == '\\';
	q = realloc(*buf, *len + n + extra + 3);
	if (!q)
		return -ENOMEM;
	*buf = q;
	p = q + *len;
	*p++ = '"';
	for (size_t i = 0; i < n; i++) {
		if (v[i] == '"' || v[i] == '\\')
			*p++ = '\\';
		*p++ = v[i];
	}
	*p++ = '"';
	*p = '\0';
	*len = (size_t)(p - q);
	return 0;
}

static int put_str(char **buf, size_t *len, const char *s)
{
	size_t n = strlen(s);
	char *q = realloc(*buf, *len + n + 1);

	if (!q)
		return -ENOMEM;
	memcpy(q + *len, s, n + 1);
	*buf = q;
	*len += n;
	return 0;
}

/* Reject what cannot travel as one quoted word on one line. */
static int check_word(const char *what, const char *v, char *err, size_t errlen)
{
	for (const char *p = v; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return fail(err, errlen, -EINVAL,
				    "%s contains a "
				    "control character (0x%02x)",
				    what, (unsigned char)*p);
	if (strlen(v) >= TDM__WORD_MAX)
		return fail(err, errlen, -EINVAL,
			    "%s is longer than %d "
			    "bytes",
			    what, TDM__WORD_MAX - 1);
	return 0;
}

static int check_key(const char *key, char *err, size_t errlen)
{
	if (!*key)
		return fail(err, errlen, -EINVAL, "empty attribute name");
	for (const char *p = key; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_'))
			return fail(err, errlen, -EINVAL,
				    "bad attribute name "
				    "'%.64s'",
				    key);
	if (tdm__lex_keyword(key))
		return fail(err, errlen, -EINVAL,
			    "%s is not an "
			    "attribute (use the command that adds or "
			    "removes it)",
			    key);
	return 0;
}

/* Append "key "value"\n" for each attribute with a value. */
static int put_attrs(char **buf, size_t *len, const struct tdm_attrs *a,
		     bool need_value, char *err, size_t errlen)
{
	int r;

	for (size_t i = 0; a && i < a->n; i++) {
		const struct tdm_attr *at = &a->v[i];

		r = check_key(at->key, err, errlen);
		if (!r)
			r = check_word(at->key, at->value, err, errlen);
		if (r)
			return r;
		if (!*at->value) {
			if (need_value)
				return fail(err, errlen, -EINVAL,
					    "attribute "
					    "%s needs a value",
					    at->key);
			continue;
		}
		r = put_str(buf, len, at->key);
		if (!r)
			r = put_str(buf, len, " ");
		if (!r)
			r = put_quoted(buf, len, at->value);
		if (!r)
			r = put_str(buf, len, "\n");
		if (r)
			return fail(err, errlen, r, "out of memory");
	}
	return 0;
}

/*
 * The parser's message without its locations (the text is ours, not the
 * user's): drop "<edit>:N: ", " (first at line N)", ", first at line N"
 * and " (line N)".
 */
static void clean_msg(const char *in, char *out, size_t outlen)
{
	static const struct {
		const char *pre, *post;
	} locs[] = {
		{" (first at line ", ")"},
		{", first at line ", ""},
		{" (line ", ")"},
	};
	const char *p = in;
	size_t o = 0;

	if (strncmp(p, EDIT_NAME ":", strlen(EDIT_NAME) + 1) == 0) {
		p += strlen(EDIT_NAME) + 1;
		while (*p >= '0' && *p <= '9')
			p++;
		if (*p == ':')
			p++;
		while (*p == ' ')
			p++;
	}
	while (*p && o + 1 < outlen) {
		size_t i;

		for (i = 0; i < sizeof(locs) / sizeof(locs[0]); i++) {
			size_t n = strlen(locs[i].pre),
			       m = strlen(locs[i].post);
			const char *q = p + n;

			if (strncmp(p, locs[i].pre, n) != 0 || *q < '0' ||
			    *q > '9')
				continue;
			while (*q >= '0' && *q <= '9')
				q++;
			if (strncmp(q, locs[i].post, m) == 0) {
				p = q + m;
				break;
			}
		}
		if (i < sizeof(locs) / sizeof(locs[0]))
			continue;
		out[o++] = *p++;
	}
	out[o] = '\0';
}

/* Parse text; on success it replaces *c. */
static int reparse(struct tdm_conf *c, const char *text, size_t len, char *err,
		   size_t errlen)
{
	struct tdm_conf nc;
	char msg[2048];
	int r;

	r = tdm_conf_parse(text, len, EDIT_NAME, &nc, msg, sizeof(msg));
	if (r < 0) {
		char clean[2048];

		clean_msg(msg, clean, sizeof(clean));
		return fail(err, errlen, r, "%s", clean);
	}
	tdm_conf_free(c);
	*c = nc;
	return 0;
}

/*
 * Write c, cut the statements rw selects in the block at path, insert
 * add at the end of that block (making one when the header has none),
 * and parse the result into c. npath 0: add goes at the end of the text.
 * With create set and the block missing, "create {\nadd}\n" is appended.
 */
static int rewrite_block(struct tdm_conf *c, const struct pathel *path,
			 int npath, struct rewrite *rw, const char *add,
			 const char *create, char *err, size_t errlen)
{
	struct tdm__lex *L = NULL;
	struct blk b = {0};
	char *text = NULL, *out = NULL;
	size_t len, olen = 0, prev = 0, at;
	int r;

	r = tdm_conf_write(c, &text, &len);
	if (r < 0)
		return fail(err, errlen, r,
			    "cannot write the configuration: "
			    "%s",
			    strerror(-r));
	if (npath > 0) {
		L = malloc(sizeof(*L));
		if (!L) {
			r = fail(err, errlen, -ENOMEM, "out of memory");
			goto out;
		}
		tdm__lex_init(L, text, len, "<written>", NULL, 0);
		r = walk(L, path, npath, rw ? attr_child : NULL, rw, &b);
		if (r == -ENOMEM) {
			r = fail(err, errlen, r, "out of memory");
			goto out;
		}
		if (r) {
			r = fail(err, errlen, -EINVAL,
				 "internal error: cannot "
				 "edit the written configuration");
			goto out;
		}
		if (rw && rw->mode == TDM_EDIT_REMOVE && rw->a) {
			/* every value to remove must be there */
			for (size_t i = 0; i < rw->a->n; i++)
				if (!rw->hit[i] && *rw->a->v[i].value) {
					r = fail(err, errlen, -ENOENT,
						 "%s has no %s %s", rw->what,
						 rw->a->v[i].key,
						 rw->a->v[i].value);
					goto out;
				}
		}
		if (!b.found && !create) {
			r = fail(err, errlen, -ENOENT,
				 "internal error: %s %s "
				 "not found in the written configuration",
				 path[npath - 1].kw,
				 path[npath - 1].name ? path[npath - 1].name
						      : "");
			goto out;
		}
	}
	/* copy with the cuts, then the insertion */
	at = !b.found ? len : b.braced ? b.close : b.after;
	r = 0;
	for (size_t i = 0; rw && i < rw->ncuts && !r; i++) {
		out = realloc(out, olen + (rw->cuts[i].off - prev) + 1);
		if (!out) {
			r = -ENOMEM;
			break;
		}
		memcpy(out + olen, text + prev, rw->cuts[i].off - prev);
		olen += rw->cuts[i].off - prev;
		out[olen] = '\0';
		prev = rw->cuts[i].off + rw->cuts[i].len;
	}
	if (!r) {
		char *q = realloc(out, olen + (at - prev) + 1);

		if (q) {
			out = q;
			memcpy(out + olen, text + prev, at - prev);
			olen += at - prev;
			out[olen] = '\0';
		} else {
			r = -ENOMEM;
		}
	}
	if (!r && npath > 0 && !b.found) {
		r = put_str(&out, &olen, "\n");
		if (!r)
			r = put_str(&out, &olen, create);
		if (!r)
			r = put_str(&out, &olen, " {\n");
		if (!r)
			r = put_str(&out, &olen, add);
		if (!r)
			r = put_str(&out, &olen, "}\n");
	} else if (!r && npath > 0 && !b.braced) {
		r = put_str(&out, &olen, " {\n");
		if (!r)
			r = put_str(&out, &olen, add);
		if (!r)
			r = put_str(&out, &olen, "}");
	} else if (!r) {
		r = put_str(&out, &olen, "\n");
		if (!r)
			r = put_str(&out, &olen, add);
	}
	if (!r && at < len) {
		char *q = realloc(out, olen + (len - at) + 1);

		if (q) {
			out = q;
			memcpy(out + olen, text + at, len - at);
			olen += len - at;
			out[olen] = '\0';
		} else {
			r = -ENOMEM;
		}
	}
	if (r) {
		r = fail(err, errlen, r, "out of memory");
		goto out;
	}
	r = reparse(c, out, olen, err, errlen);
out:
	free(L);
	free(text);
	free(out);
	return r;
}

/*
 * SET, ADD or REMOVE attributes a of the block at path. what names the
 * object in messages ("TARGET iqn...").
 */
static int edit_attrs(struct tdm_conf *c, const struct pathel *path, int npath,
		      const char *create, enum tdm_edit_mode mode,
		      const struct tdm_attrs *a, const char *what, char *err,
		      size_t errlen)
{
	struct rewrite rw = {.mode = mode, .a = a, .what = what};
	char *add = NULL;
	size_t addlen = 0;
	int r = 0;

	if (!a || a->n == 0)
		return fail(err, errlen, -EINVAL, "no attributes given");
	for (size_t i = 0; i < a->n && !r; i++) {
		r = check_key(a->v[i].key, err, errlen);
		if (!r)
			r = check_word(a->v[i].key, a->v[i].value, err, errlen);
	}
	if (r)
		return r;
	rw.hit = calloc(a->n, sizeof(*rw.hit));
	rw.norm = calloc(a->n, sizeof(*rw.norm));
	if (!rw.hit || !rw.norm) {
		r = fail(err, errlen, -ENOMEM, "out of memory");
		goto out;
	}
	if (mode == TDM_EDIT_REMOVE) {
		/* a portal is kept normalised ("1.2.3.4:3260"), by the
		 * rules of its driver (path[0]: TARGET_DRIVER name): compare
		 * so */
		for (size_t i = 0; i < a->n; i++) {
			struct tdm_conf pc;
			char *t = NULL;
			size_t tl = 0;

			if (strcmp(a->v[i].key, "portal") != 0 ||
			    !*a->v[i].value || npath != 1 ||
			    strcmp(path[0].kw, "TARGET_DRIVER") != 0)
				continue;
			if (put_str(&t, &tl, "TARGET_DRIVER ") ||
			    put_str(&t, &tl, path[0].name) ||
			    put_str(&t, &tl, " {\nportal ") ||
			    put_quoted(&t, &tl, a->v[i].value) ||
			    put_str(&t, &tl, "\n}\n")) {
				free(t);
				r = fail(err, errlen, -ENOMEM, "out of memory");
				goto out;
			}
			if (tdm_conf_parse(t, tl, EDIT_NAME, &pc, NULL, 0) ==
			    0) {
				if (pc.nportals == 1)
					rw.norm[i] = strdup(pc.portals[0]);
				else if (pc.srp.nportals == 1)
					rw.norm[i] = strdup(pc.srp.portals[0]);
			}
			tdm_conf_free(&pc);
			free(t);
		}
	} else {
		r = put_attrs(&add, &addlen, a, mode == TDM_EDIT_ADD, err,
			      errlen);
		if (r)
			goto out;
	}
	r = rewrite_block(c, path, npath, &rw, add ? add : "", create, err,
			  errlen);
out:
	if (rw.norm)
		for (size_t i = 0; i < a->n; i++)
			free(rw.norm[i]);
	free(rw.norm);
	free(rw.hit);
	free(rw.cuts);
	free(add);
	return r;
}

/* ---- devices ---- */

static int need_device(const struct tdm_conf *c, const char *name,
		       struct tdm_conf_device **d, char *err, size_t errlen)
{
	*d = tdm_edit_find_device(c, name);
	if (!*d)
		return fail(err, errlen, -ENOENT, "no device '%s'", name);
	return 0;
}

int tdm_edit_add_device(struct tdm_conf *c, const char *name,
			const char *handler, const struct tdm_attrs *a,
			char *err, size_t errlen)
{
	enum tdm_handler h;
	char *add = NULL;
	size_t len = 0;
	int r;

	if (tdm_edit_find_device(c, name))
		return fail(err, errlen, -EEXIST, "device '%s' already exists",
			    name);
	if (!handler || tdm_handler_from_name(handler, &h) < 0)
		return fail(err, errlen, -EINVAL,
			    "unknown handler '%s' "
			    "(vdisk_fileio, vdisk_blockio, vdisk_nullio, "
			    "vdisk_rbd, vcdrom or ram)",
			    handler ? handler : "");
	r = check_word("device name", name, err, errlen);
	if (r)
		return r;
	r = put_str(&add, &len, "HANDLER ");
	if (!r)
		r = put_str(&add, &len, tdm_handler_name(h));
	if (!r)
		r = put_str(&add, &len, " {\nDEVICE ");
	if (!r)
		r = put_quoted(&add, &len, name);
	if (!r)
		r = put_str(&add, &len, " {\n");
	if (r) {
		free(add);
		return fail(err, errlen, -ENOMEM, "out of memory");
	}
	r = put_attrs(&add, &len, a, true, err, errlen);
	if (!r && (put_str(&add, &len, "}\n}\n") < 0))
		r = fail(err, errlen, -ENOMEM, "out of memory");
	if (!r)
		r = rewrite_block(c, NULL, 0, NULL, add, NULL, err, errlen);
	free(add);
	return r;
}

/* The first LUN that maps device name, for messages. */
static bool device_user(const struct tdm_conf *c, const char *name, char *where,
			size_t wlen)
{
	for (size_t i = 0; i < c->ntargets; i++) {
		const struct tdm_conf_target *t = &c->targets[i];

		for (size_t j = 0; j < t->nluns; j++)
			if (strcmp(t->luns[j].device, name) == 0) {
				snprintf(where, wlen, "LUN %llu of target %s",
					 (unsigned long long)t->luns[j].lun,
					 t->name);
				return true;
			}
		for (size_t g = 0; g < t->ngroups; g++)
			for (size_t j = 0; j < t->groups[g].nluns; j++)
				if (strcmp(t->groups[g].luns[j].device, name) ==
				    0) {
					snprintf(
						where, wlen,
						"LUN %llu of "
						"group %s of target %s",
						(unsigned long long)t->groups[g]
							.luns[j]
							.lun,
						t->groups[g].name, t->name);
					return true;
				}
	}
	return false;
}

int tdm_edit_rem_device(struct tdm_conf *c, const char *name,
			const char *handler, char *err, size_t errlen)
{
	struct tdm_conf_device *d;
	char where[TDM_NAME_MAX + 160];
	size_t i;
	int r;

	r = need_device(c, name, &d, err, errlen);
	if (r)
		return r;
	if (handler && !tdm_handler_is(d->handler, handler))
		return fail(err, errlen, -EINVAL,
			    "device '%s' has handler %s, "
			    "not %s",
			    name, tdm_handler_name(d->handler), handler);
	if (device_user(c, name, where, sizeof(where)))
		return fail(err, errlen, -EBUSY,
			    "device '%s' is used by %s: "
			    "remove its LUNs first",
			    name, where);
	i = (size_t)(d - c->devices);
	memmove(&c->devices[i], &c->devices[i + 1],
		(c->ndevices - i - 1) * sizeof(*d));
	c->ndevices--;
	return 0;
}

int tdm_edit_dev_attr(struct tdm_conf *c, const char *name,
		      const struct tdm_attrs *a, char *err, size_t errlen)
{
	struct pathel path[2] = {{"HANDLER", NULL}, {"DEVICE", name}};
	struct tdm_conf_device *d;
	char what[128];
	int r;

	r = need_device(c, name, &d, err, errlen);
	if (r)
		return r;
	snprintf(what, sizeof(what), "device %s", name);
	return edit_attrs(c, path, 2, NULL, TDM_EDIT_SET, a, what, err, errlen);
}

/* ---- the target drivers ---- */

int tdm_edit_drv_attr(struct tdm_conf *c, enum tdm_target_driver drv,
		      enum tdm_edit_mode mode, const struct tdm_attrs *a,
		      char *err, size_t errlen)
{
	const char *name = tdm_target_driver_name(drv);
	struct pathel path[1] = {{"TARGET_DRIVER", name}};
	char create[64], what[64];

	snprintf(create, sizeof(create), "TARGET_DRIVER %s", name);
	snprintf(what, sizeof(what), "target driver %s", name);
	return edit_attrs(c, path, 1, create, mode, a, what, err, errlen);
}

/* ---- targets ---- */

/* TARGET_DRIVER drv > TARGET name (> GROUP): where t is written */
static void target_path(const struct tdm_conf_target *t, struct pathel *path)
{
	path[0].kw = "TARGET_DRIVER";
	path[0].name = tdm_target_driver_name(t->driver);
	path[1].kw = "TARGET";
	path[1].name = t->name;
}

static int need_target(const struct tdm_conf *c, const char *name,
		       struct tdm_conf_target **t, char *err, size_t errlen)
{
	*t = tdm_edit_find_target(c, name);
	if (!*t)
		return fail(err, errlen, -ENOENT, "no target '%s'", name);
	return 0;
}

static int need_group(const struct tdm_conf_target *t, const char *name,
		      struct tdm_conf_group **g, char *err, size_t errlen)
{
	*g = tdm_edit_find_group(t, name);
	if (!*g)
		return fail(err, errlen, -ENOENT, "target %s has no group '%s'",
			    t->name, name);
	return 0;
}

int tdm_edit_add_target(struct tdm_conf *c, enum tdm_target_driver drv,
			const char *name, const struct tdm_attrs *a, char *err,
			size_t errlen)
{
	const char *dname = tdm_target_driver_name(drv);
	struct pathel path[1] = {{"TARGET_DRIVER", dname}};
	const struct tdm_conf_target *t;
	char *add = NULL, create[64];
	size_t len = 0;
	int r;

	snprintf(create, sizeof(create), "TARGET_DRIVER %s", dname);
	/* the name itself, or another form of a name of drv's; a GID, unit
	 * address or WWPN of another driver may be a word of this one's (the
	 * parser judges) */
	t = tdm_edit_find_target(c, name);
	if (t && (t->driver == drv || strcmp(t->name, name) == 0))
		return fail(err, errlen, -EEXIST, "target '%s' already exists",
			    name);
	r = check_word("target name", name, err, errlen);
	if (r)
		return r;
	if (put_str(&add, &len, "TARGET ") || put_quoted(&add, &len, name) ||
	    put_str(&add, &len, " {\n")) {
		free(add);
		return fail(err, errlen, -ENOMEM, "out of memory");
	}
	r = put_attrs(&add, &len, a, true, err, errlen);
	if (!r && put_str(&add, &len, "}\n") < 0)
		r = fail(err, errlen, -ENOMEM, "out of memory");
	if (!r)
		r = rewrite_block(c, path, 1, NULL, add, create, err, errlen);
	free(add);
	return r;
}

static void free_group(struct tdm_conf_group *g)
{
	free(g->luns);
	free(g->initiators);
	free(g->in_users);
}

int tdm_edit_rem_target(struct tdm_conf *c, const char *name, char *err,
			size_t errlen)
{
	struct tdm_conf_target *t;
	size_t i;
	int r;

	r = need_target(c, name, &t, err, errlen);
	if (r)
		return r;
	free(t->in_users);
	free(t->allowed_portals);
	free(t->luns);
	for (size_t g = 0; g < t->ngroups; g++)
		free_group(&t->groups[g]);
	free(t->groups);
	i = (size_t)(t - c->targets);
	memmove(&c->targets[i], &c->targets[i + 1],
		(c->ntargets - i - 1) * sizeof(*t));
	c->ntargets--;
	return 0;
}

int tdm_edit_tgt_attr(struct tdm_conf *c, const char *target,
		      enum tdm_edit_mode mode, const struct tdm_attrs *a,
		      char *err, size_t errlen)
{
	struct pathel path[2];
	struct tdm_conf_target *t;
	char what[TDM_NAME_MAX + 16];
	int r;

	r = need_target(c, target, &t, err, errlen);
	if (r)
		return r;
	target_path(t, path);
	snprintf(what, sizeof(what), "target %s", t->name);
	return edit_attrs(c, path, 2, NULL, mode, a, what, err, errlen);
}

/* ---- LUNs ---- */

int tdm_edit_add_lun(struct tdm_conf *c, const char *target, const char *group,
		     uint64_t lun, const char *device,
		     const struct tdm_attrs *a, char *err, size_t errlen)
{
	struct pathel path[3] = {{NULL, NULL}, {NULL, NULL}, {"GROUP", group}};
	struct tdm_conf_target *t;
	struct tdm_conf_group *g = NULL;
	const struct tdm_conf_lun *luns;
	char num[32], *add = NULL;
	size_t nluns, len = 0;
	int r;

	r = need_target(c, target, &t, err, errlen);
	if (!r && group)
		r = need_group(t, group, &g, err, errlen);
	if (r)
		return r;
	target_path(t, path);
	luns = g ? g->luns : t->luns;
	nluns = g ? g->nluns : t->nluns;
	for (size_t i = 0; i < nluns; i++)
		if (luns[i].lun == lun) {
			if (g)
				return fail(err, errlen, -EEXIST,
					    "group %s of "
					    "target %s already has LUN %llu "
					    "(device %s)",
					    group, target,
					    (unsigned long long)lun,
					    luns[i].device);
			return fail(err, errlen, -EEXIST,
				    "target %s already "
				    "has LUN %llu (device %s)",
				    target, (unsigned long long)lun,
				    luns[i].device);
		}
	if (!tdm_edit_find_device(c, device))
		return fail(err, errlen, -ENOENT, "no device '%s'", device);
	snprintf(num, sizeof(num), "LUN %llu ", (unsigned long long)lun);
	if (put_str(&add, &len, num) || put_quoted(&add, &len, device) ||
	    put_str(&add, &len, " {\n")) {
		free(add);
		return fail(err, errlen, -ENOMEM, "out of memory");
	}
	r = put_attrs(&add, &len, a, true, err, errlen);
	if (!r && put_str(&add, &len, "}\n") < 0)
		r = fail(err, errlen, -ENOMEM, "out of memory");
	if (!r)
		r = rewrite_block(c, path, g ? 3 : 2, NULL, add, NULL, err,
				  errlen);
	free(add);
	return r;
}

int tdm_edit_rem_lun(struct tdm_conf *c, const char *target, const char *group,
		     uint64_t lun, char *err, size_t errlen)
{
	struct tdm_conf_target *t;
	struct tdm_conf_group *g = NULL;
	struct tdm_conf_lun *luns;
	size_t *nluns;
	int r;

	r = need_target(c, target, &t, err, errlen);
	if (!r && group)
		r = need_group(t, group, &g, err, errlen);
	if (r)
		return r;
	luns = g ? g->luns : t->luns;
	nluns = g ? &g->nluns : &t->nluns;
	for (size_t i = 0; i < *nluns; i++)
		if (luns[i].lun == lun) {
			memmove(&luns[i], &luns[i + 1],
				(*nluns - i - 1) * sizeof(*luns));
			(*nluns)--;
			return 0;
		}
	if (g)
		return fail(err, errlen, -ENOENT,
			    "group %s of target %s has "
			    "no LUN %llu",
			    group, target, (unsigned long long)lun);
	return fail(err, errlen, -ENOENT, "target %s has no LUN %llu", target,
		    (unsigned long long)lun);
}

/* ---- groups and initiators ---- */

int tdm_edit_add_group(struct tdm_conf *c, const char *target,
		       const char *group, char *err, size_t errlen)
{
	struct pathel path[2];
	struct tdm_conf_target *t;
	char *add = NULL;
	size_t len = 0;
	int r;

	r = need_target(c, target, &t, err, errlen);
	if (r)
		return r;
	target_path(t, path);
	if (tdm_edit_find_group(t, group))
		return fail(err, errlen, -EEXIST,
			    "target %s already has group "
			    "'%s'",
			    target, group);
	r = check_word("group name", group, err, errlen);
	if (r)
		return r;
	if (put_str(&add, &len, "GROUP ") || put_quoted(&add, &len, group) ||
	    put_str(&add, &len, " {\n}\n")) {
		free(add);
		return fail(err, errlen, -ENOMEM, "out of memory");
	}
	r = rewrite_block(c, path, 2, NULL, add, NULL, err, errlen);
	free(add);
	return r;
}

int tdm_edit_rem_group(struct tdm_conf *c, const char *target,
		       const char *group, char *err, size_t errlen)
{
	struct tdm_conf_target *t;
	struct tdm_conf_group *g;
	size_t i;
	int r;

	r = need_target(c, target, &t, err, errlen);
	if (!r)
		r = need_group(t, group, &g, err, errlen);
	if (r)
		return r;
	free_group(g);
	i = (size_t)(g - t->groups);
	memmove(&t->groups[i], &t->groups[i + 1],
		(t->ngroups - i - 1) * sizeof(*g));
	t->ngroups--;
	return 0;
}

int tdm_edit_grp_attr(struct tdm_conf *c, const char *target, const char *group,
		      enum tdm_edit_mode mode, const struct tdm_attrs *a,
		      char *err, size_t errlen)
{
	struct pathel path[3] = {{NULL, NULL}, {NULL, NULL}, {"GROUP", group}};
	struct tdm_conf_target *t;
	struct tdm_conf_group *g;
	char what[TDM_NAME_MAX + 96];
	int r;

	r = need_target(c, target, &t, err, errlen);
	if (!r)
		r = need_group(t, group, &g, err, errlen);
	if (r)
		return r;
	target_path(t, path);
	snprintf(what, sizeof(what), "group %s of target %s", group, target);
	return edit_attrs(c, path, 3, NULL, mode, a, what, err, errlen);
}

/* An ib_srpt target keeps its patterns lowercase (hex digits), a
 * qla2x00t target its initiators as WWPNs in the colon form: compare
 * so. */
static bool same_pattern(const struct tdm_conf_target *t, const char *have,
			 const char *want)
{
	char wwpn[TDM_FC_NAME_LEN + 1];

	if (t->driver == TDM_DRV_FC &&
	    tdm_fc_port_name(want, wwpn, sizeof(wwpn)) == 0)
		return strcmp(have, wwpn) == 0;
	return t->driver == TDM_DRV_SRP ? strcasecmp(have, want) == 0
					: strcmp(have, want) == 0;
}

int tdm_edit_add_init(struct tdm_conf *c, const char *target, const char *group,
		      const char *pattern, char *err, size_t errlen)
{
	struct pathel path[3] = {{NULL, NULL}, {NULL, NULL}, {"GROUP", group}};
	struct tdm_conf_target *t;
	struct tdm_conf_group *g;
	char *add = NULL;
	size_t len = 0;
	int r;

	r = need_target(c, target, &t, err, errlen);
	if (!r)
		r = need_group(t, group, &g, err, errlen);
	if (!r)
		r = check_word("initiator pattern", pattern, err, errlen);
	if (r)
		return r;
	target_path(t, path);
	for (size_t i = 0; i < t->ngroups; i++)
		for (size_t j = 0; j < t->groups[i].ninitiators; j++)
			if (same_pattern(t, t->groups[i].initiators[j],
					 pattern))
				return fail(err, errlen, -EEXIST,
					    "initiator "
					    "pattern '%s' is already in group "
					    "%s of target %s",
					    pattern, t->groups[i].name, target);
	if (put_str(&add, &len, "INITIATOR ") ||
	    put_quoted(&add, &len, pattern) || put_str(&add, &len, "\n")) {
		free(add);
		return fail(err, errlen, -ENOMEM, "out of memory");
	}
	r = rewrite_block(c, path, 3, NULL, add, NULL, err, errlen);
	free(add);
	return r;
}

int tdm_edit_rem_init(struct tdm_conf *c, const char *target, const char *group,
		      const char *pattern, char *err, size_t errlen)
{
	struct tdm_conf_target *t;
	struct tdm_conf_group *g;
	int r;

	r = need_target(c, target, &t, err, errlen);
	if (!r)
		r = need_group(t, group, &g, err, errlen);
	if (r)
		return r;
	for (size_t j = 0; j < g->ninitiators; j++)
		if (same_pattern(t, g->initiators[j], pattern)) {
			memmove(&g->initiators[j], &g->initiators[j + 1],
				(g->ninitiators - j - 1) *
					sizeof(*g->initiators));
			g->ninitiators--;
			return 0;
		}
	return fail(err, errlen, -ENOENT,
		    "group %s of target %s has no "
		    "initiator pattern '%s'",
		    group, target, pattern);
}

/* ---- ALUA target groups (alua/README.md; appended) ---- */

struct tdm_conf_tgrp *tdm_edit_find_tgrp(const struct tdm_conf *c,
					 const char *dgrp, const char *tgrp)
{
	for (size_t i = 0; i < c->ndgrps; i++) {
		if (strcmp(c->dgrps[i].name, dgrp) != 0)
			continue;
		for (size_t j = 0; j < c->dgrps[i].ntgrps; j++)
			if (strcmp(c->dgrps[i].tgrps[j].name, tgrp) == 0)
				return &c->dgrps[i].tgrps[j];
	}
	return NULL;
}

int tdm_edit_tgrp_attr(struct tdm_conf *c, const char *dgrp, const char *tgrp,
		       const struct tdm_attrs *a, char *err, size_t errlen)
{
	struct tdm_conf_tgrp *g = tdm_edit_find_tgrp(c, dgrp, tgrp);
	uint8_t state;
	bool pref;

	if (!g)
		return fail(err, errlen, -ENOENT,
			    "device group %s has no target group '%s'", dgrp,
			    tgrp);
	state = g->state;
	pref = g->preferred;
	/* check every attribute first: on error c is unchanged */
	for (size_t i = 0; i < a->n; i++) {
		const char *k = a->v[i].key, *v = a->v[i].value;

		if (strcmp(k, "state") == 0) {
			if (tdm_alua_state_from_name(v, &state) < 0)
				return fail(err, errlen, -EINVAL,
					    "bad state '%s' (active, "
					    "nonoptimized, standby, "
					    "unavailable, offline or "
					    "transitioning)",
					    v);
		} else if (strcmp(k, "preferred") == 0) {
			if (strcmp(v, "0") != 0 && strcmp(v, "1") != 0)
				return fail(err, errlen, -EINVAL,
					    "preferred must be 0 or 1, got "
					    "'%s'",
					    v);
			pref = v[0] == '1';
		} else {
			return fail(err, errlen, -EINVAL,
				    "unknown target group attribute '%s' "
				    "(state, preferred)",
				    k);
		}
	}
	g->state = state;
	g->preferred = pref;
	return 0;
}
