/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * conf_edit_log.c - the cluster configuration epoch and its edit log
 * (conf_edit_log.h). Input from other heads: every length is checked
 * before anything is kept.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf_edit_log.h"
#include "conf/conf_edit_ops.h"

#define MAGIC "TDMC"

static void drop_oldest(struct tdm_edit_log *l)
{
	l->bytes -= l->v[0].len;
	free(l->v[0].p);
	memmove(l->v, l->v + 1, (l->n - 1) * sizeof(*l->v));
	l->n--;
}

static int push(struct tdm_edit_log *l, uint64_t epoch, const uint8_t *p,
		size_t len)
{
	uint8_t *copy;

	if (len > TDM_EDIT_LOG_BYTES)
		return -E2BIG;
	copy = malloc(len ? len : 1);
	if (!copy)
		return -ENOMEM;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct tdm_edit_log_entry *v = realloc(l->v, cap * sizeof(*v));

		if (!v) {
			free(copy);
			return -ENOMEM;
		}
		l->v = v;
		l->cap = cap;
	}
	if (len)
		memcpy(copy, p, len);
	while (l->n && (l->n >= TDM_EDIT_LOG_MAX ||
			l->bytes + len > TDM_EDIT_LOG_BYTES))
		drop_oldest(l);
	l->v[l->n].epoch = epoch;
	l->v[l->n].p = copy;
	l->v[l->n].len = len;
	l->n++;
	l->bytes += len;
	return 0;
}

int tdm_edit_log_append(struct tdm_edit_log *l, const uint8_t *p, size_t len)
{
	int r;

	l->epoch++;
	r = push(l, l->epoch, p, len);
	if (r < 0) {
		/* a gap: the log can no longer feed heads behind this */
		while (l->n)
			drop_oldest(l);
	}
	return r;
}

void tdm_edit_log_truncate(struct tdm_edit_log *l, uint64_t epoch)
{
	while (l->n && l->v[l->n - 1].epoch > epoch) {
		l->n--;
		l->bytes -= l->v[l->n].len;
		free(l->v[l->n].p);
	}
	if (l->epoch > epoch)
		l->epoch = epoch;
	/* entries must end at the epoch: a log that stops short of it has
	 * a gap and is dropped */
	if (l->n && l->v[l->n - 1].epoch != l->epoch)
		while (l->n)
			drop_oldest(l);
}

void tdm_edit_log_free(struct tdm_edit_log *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].p);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

void tdm_edit_log_put(const struct tdm_edit_log *l, struct tdm_wbuf *w)
{
	tdm_wbuf_put_bytes(w, MAGIC, 4);
	tdm_wbuf_put_u16(w, TDM_EDIT_LOG_VERSION);
	tdm_wbuf_put_u64(w, l->epoch);
	tdm_wbuf_put_u32(w, (uint32_t)l->n);
	for (size_t i = 0; i < l->n; i++) {
		tdm_wbuf_put_u64(w, l->v[i].epoch);
		tdm_wbuf_put_bytes(w, l->v[i].p, l->v[i].len);
	}
}

static int fail(struct tdm_edit_log *out, int r, char *err, size_t errlen,
		const char *msg)
{
	if (out)
		tdm_edit_log_free(out);
	snprintf(err, errlen, "configuration edit log: %s", msg);
	return r;
}

int tdm_edit_log_decode(const uint8_t *p, size_t len, struct tdm_edit_log *out,
			char *err, size_t errlen)
{
	struct tdm_rd r = {.p = p, .len = len};
	const uint8_t *magic;
	size_t mlen, total = 0;
	uint16_t version;
	uint64_t epoch;
	uint32_t n;
	char e2[512];

	if (out)
		memset(out, 0, sizeof(*out));
	magic = tdm_rd_get_bytes(&r, &mlen);
	version = tdm_rd_get_u16(&r);
	if (r.bad || mlen != 4 || memcmp(magic, MAGIC, 4))
		return fail(out, -EBADMSG, err, errlen, "no TDMC header");
	if (version != TDM_EDIT_LOG_VERSION) {
		snprintf(err, errlen,
			 "configuration edit log of version %u (this tandemd "
			 "reads version %d)",
			 version, TDM_EDIT_LOG_VERSION);
		return -EPROTO;
	}
	epoch = tdm_rd_get_u64(&r);
	n = tdm_rd_get_u32(&r);
	if (r.bad)
		return fail(out, -EBADMSG, err, errlen, "truncated header");
	if (n > TDM_EDIT_LOG_MAX)
		return fail(out, -EBADMSG, err, errlen, "too many entries");
	if (n > epoch)
		return fail(out, -EBADMSG, err, errlen,
			    "more entries than the epoch counts");
	for (uint32_t i = 0; i < n; i++) {
		uint64_t e = tdm_rd_get_u64(&r);
		const uint8_t *ep;
		size_t el;
		struct tdm_edit ed;

		ep = tdm_rd_get_bytes(&r, &el);
		if (r.bad)
			return fail(out, -EBADMSG, err, errlen,
				    "truncated entry");
		/* consecutive, ending at the epoch */
		if (e != epoch - (n - 1 - i))
			return fail(out, -EBADMSG, err, errlen,
				    "entries' epochs are not consecutive up "
				    "to the epoch");
		total += el;
		if (total > TDM_EDIT_LOG_BYTES)
			return fail(out, -EBADMSG, err, errlen,
				    "edits over the size limit");
		if (tdm_edit_decode(ep, el, &ed, e2, sizeof(e2)) < 0) {
			if (out)
				tdm_edit_log_free(out);
			snprintf(err, errlen,
				 "configuration edit log: entry %llu: %s",
				 (unsigned long long)e, e2);
			return -EBADMSG;
		}
		tdm_edit_free(&ed);
		if (out && push(out, e, ep, el) < 0)
			return fail(out, -ENOMEM, err, errlen, "out of memory");
	}
	if (!tdm_rd_done(&r))
		return fail(out, -EBADMSG, err, errlen, "trailing bytes");
	if (out)
		out->epoch = epoch;
	return 0;
}

int tdm_edit_log_reaches(const struct tdm_edit_log *l, uint64_t have, char *err,
			 size_t errlen)
{
	if (have >= l->epoch)
		return 0;
	if (l->n && l->v[0].epoch <= have + 1)
		return 0;
	snprintf(err, errlen,
		 "this head's configuration is at epoch %llu and the "
		 "cluster's edit log holds epochs %llu..%llu only: copy the "
		 "configuration file of a current head here and restart",
		 (unsigned long long)have,
		 (unsigned long long)(l->n ? l->v[0].epoch : l->epoch + 1),
		 (unsigned long long)l->epoch);
	return -ESTALE;
}
