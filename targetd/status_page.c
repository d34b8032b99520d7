/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * status_page.c - the read-only status page of the metrics endpoint
 * (metrics.c serves it at / and /status): this head and its cluster view,
 * the LUs, the target ports (the paths initiators use), the ALUA states
 * of every target port group, the sessions. One HTML document: no
 * scripts, no external assets, inline style only; every name from the
 * configuration or an initiator is escaped. Runs on the main loop.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "targetd/daemon.h"
#include "targetd/metrics.h"
#include "tandem/admin.h"
#include "tandem/metrics.h"

/* HTML 5 13.1.2.6: what a text node and a quoted attribute may not hold
 * as itself */
static const char *const entities[256] = {
	['&'] = "&amp;",  ['<'] = "&lt;",   ['>'] = "&gt;",
	['"'] = "&quot;", ['\''] = "&#39;",
};

void tdm__text_html(struct tdm_text *t, const char *s)
{
	for (; *s; s++) {
		const char *e = entities[(unsigned char)*s];

		if (e)
			tdm_text_put(t, e, strlen(e));
		else
			tdm_text_put(t, s, 1);
	}
}

static void cell(struct tdm_text *t, const char *s)
{
	tdm_text_put(t, "<td>", 4);
	tdm__text_html(t, s);
	tdm_text_put(t, "</td>", 5);
}

static void cellu(struct tdm_text *t, unsigned long long v)
{
	tdm_text_printf(t, "<td class=n>%llu</td>", v);
}

static void head(struct tdm_text *t)
{
	struct tdm_agent_info a;
	char when[64];
	time_t now = time(NULL);
	struct tm tm;

	tdm_agent_link_info(&a);
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	tdm_text_printf(t,
			"<h2>Head</h2>\n<table id=head>\n"
			"<tr><th>version</th><td>%s</td></tr>\n"
			"<tr><th>page made</th><td>%s</td></tr>\n"
			"<tr><th>configuration epoch</th><td>%llu</td></tr>\n",
			PACKAGE_VERSION, when,
			(unsigned long long)tdm_core_epoch());
	if (!a.running) {
		tdm_text_printf(t, "<tr><th>cluster</th><td>single head "
				   "(no agent link)</td></tr>\n"
				   "<tr><th>serving</th><td>yes</td></tr>\n");
	} else {
		tdm_text_printf(
			t,
			"<tr><th>cluster</th><td>node %u, agent %s</td></tr>\n"
			"<tr><th>serving</th><td>%s</td></tr>\n"
			"<tr><th>quorum</th><td>%s</td></tr>\n"
			"<tr><th>members</th><td>%u</td></tr>\n"
			"<tr><th>protocol</th><td>%u</td></tr>\n"
			"<tr><th>ordered operations pending</th>"
			"<td>%zu</td></tr>\n",
			a.nodeid,
			a.connected
				? (a.silent ? "connected, silent" : "connected")
				: "not connected",
			tdm_cluster_is_fenced() ? "no (fenced)" : "yes",
			a.quorate ? "quorate" : "no quorum", a.members,
			a.group_version, tdm_cluster_pending_count());
	}
	tdm_text_printf(t, "</table>\n");
}

static void lus(struct tdm_text *t)
{
	struct tdm_lu_metrics *v = NULL;
	size_t n = 0, i;

	tdm_text_printf(t, "<h2>Logical units</h2>\n<table id=lus>\n"
			   "<tr><th>LU</th><th>handler</th><th>size (bytes)"
			   "</th><th>reads</th><th>writes</th><th>other</th>"
			   "<th>in flight</th><th>PR generation</th>"
			   "<th>reserved</th></tr>\n");
	if (tdm_core_lu_metrics(&v, &n) < 0)
		n = 0;
	for (i = 0; i < n; i++) {
		tdm_text_put(t, "<tr class=lu>", 13);
		cell(t, v[i].name);
		cell(t, v[i].handler);
		cellu(t, v[i].size);
		cellu(t, v[i].io.cmds[TDM_IO_READ]);
		cellu(t, v[i].io.cmds[TDM_IO_WRITE]);
		cellu(t, v[i].io.cmds[TDM_IO_OTHER]);
		cellu(t, (unsigned long long)v[i].io.inflight);
		cellu(t, v[i].pr_generation);
		cell(t, v[i].pr_reserved ? "yes" : "no");
		tdm_text_put(t, "</tr>\n", 6);
	}
	tdm_text_printf(t, "</table>\n");
	free(v);
}

static void ports(struct tdm_text *t, const struct tdm_session_info *s,
		  size_t ns)
{
	struct tdm_port_metrics *v = NULL;
	size_t n = 0, i, j;

	tdm_text_printf(t, "<h2>Target ports</h2>\n<table id=ports>\n"
			   "<tr><th>relative port</th><th>target</th>"
			   "<th>sessions</th><th>commands</th>"
			   "<th>in flight</th></tr>\n");
	if (tdm_core_port_metrics(&v, &n) < 0)
		n = 0;
	for (i = 0; i < n; i++) {
		unsigned c = 0;

		for (j = 0; j < ns; j++)
			c += s[j].rel_port == v[i].rel_port;
		tdm_text_put(t, "<tr class=port>", 15);
		cellu(t, v[i].rel_port);
		cell(t, v[i].target);
		cellu(t, c);
		cellu(t, v[i].io.cmds[0] + v[i].io.cmds[1] + v[i].io.cmds[2]);
		cellu(t, (unsigned long long)v[i].io.inflight);
		tdm_text_put(t, "</tr>\n", 6);
	}
	tdm_text_printf(t, "</table>\n");
	free(v);
}

static void alua(struct tdm_text *t)
{
	struct tdm_tgrp_state *st = NULL;
	size_t n = tdm_core_alua_states(&st), i;

	tdm_text_printf(t, "<h2>ALUA target port groups</h2>\n<table id=alua>\n"
			   "<tr><th>device group</th><th>target group</th>"
			   "<th>group id</th><th>state</th><th>preferred</th>"
			   "<th>configured state</th></tr>\n");
	for (i = 0; i < n; i++) {
		tdm_text_put(t, "<tr class=tgrp>", 15);
		cell(t, st[i].dg);
		cell(t, st[i].tg);
		cellu(t, st[i].group_id);
		cell(t, tdm__alua_name(st[i].state));
		cell(t, st[i].preferred ? "yes" : "no");
		cell(t, tdm__alua_name(st[i].conf_state));
		tdm_text_put(t, "</tr>\n", 6);
	}
	tdm_text_printf(t, "</table>\n");
	free(st);
}

static void sessions(struct tdm_text *t, const struct tdm_session_info *s,
		     size_t ns)
{
	size_t i;

	tdm_text_printf(t, "<h2>Sessions</h2>\n<table id=sessions>\n"
			   "<tr><th>id</th><th>initiator port</th>"
			   "<th>target</th><th>relative port</th>"
			   "<th>transport</th><th>initiator group</th>"
			   "<th>LUNs</th><th>in flight</th></tr>\n");
	for (i = 0; i < ns; i++) {
		tdm_text_put(t, "<tr class=session>", 18);
		cellu(t, s[i].id);
		cell(t, s[i].port[0] ? s[i].port : s[i].initiator);
		cell(t, s[i].target);
		cellu(t, s[i].rel_port);
		cell(t, s[i].transport);
		cell(t, s[i].group[0] ? s[i].group : "(default)");
		cellu(t, s[i].nluns);
		cellu(t, s[i].inflight > 0 ? (unsigned)s[i].inflight : 0);
		tdm_text_put(t, "</tr>\n", 6);
	}
	tdm_text_printf(t, "</table>\n");
}

void tdm__status_page(struct tdm_text *t)
{
	struct tdm_session_info *s = NULL;
	size_t ns = 0;

	if (tdm_core_sessions(&s, &ns) < 0)
		ns = 0;
	tdm_text_printf(
		t,
		"<!DOCTYPE html>\n<html lang=en>\n<head>\n"
		"<meta charset=utf-8>\n<title>tandemd status</title>\n"
		"<style>body{font-family:sans-serif;margin:1em}"
		"table{border-collapse:collapse;margin-bottom:1em}"
		"th,td{border:1px solid #999;padding:2px 6px;text-align:left}"
		"td.n{text-align:right}</style>\n</head>\n<body>\n"
		"<h1>tandemd status</h1>\n"
		"<p>Read only; the numbers are the ones /metrics "
		"serves.</p>\n");
	head(t);
	lus(t);
	ports(t, s, ns);
	alua(t);
	sessions(t, s, ns);
	tdm_text_printf(t, "</body>\n</html>\n");
	free(s);
}
