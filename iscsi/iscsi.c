/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * iscsi.c - what the daemon and the core see of the iSCSI transport: the
 * tdm_transport_ops table, config apply, stop listening, shutdown.
 */
#include <stdio.h>

#include "iscsi/iscsi_int.h"
#include "tandem/iscsi.h"
#include "lib/log.h"

static int iscsi_describe(struct tdm_nexus *nx, char *buf, size_t len)
{
	const struct tdm__iscsi_conn *c = tdm_nexus_priv(nx);

	/* written once at login, before the nexus existed */
	return snprintf(buf, len, "%s", c ? c->desc : "iscsi");
}

static void iscsi_close_nexus(struct tdm_nexus *nx)
{
	const struct tdm__iscsi_conn *c = tdm_nexus_priv(nx);

	/* any thread: the connection closes on its own loop */
	if (c)
		tdm__iscsi_close_by_id(tdm_nexus_loop(nx), c->id);
}

const struct tdm_transport_ops tdm_iscsi_ops = {
	.name = "iscsi",
	.write_pending = tdm__iscsi_write_pending,
	.queue_status = tdm__iscsi_queue_status,
	.abort_pending = tdm__iscsi_abort_pending,
	.queue_tmf_rsp = tdm__iscsi_queue_tmf_rsp,
	.free_cmd = tdm__iscsi_free_cmd,
	.describe = iscsi_describe,
	.close_nexus = iscsi_close_nexus,
};

int tdm_iscsi_apply(const struct tdm_conf *c, char *err, size_t errlen)
{
	int r;

	if (tdm__iscsi_shutting_down)
		return 0;
	r = tdm__iscsi_portals_apply(c, err, errlen);
	if (r)
		return r;
	tdm__iscsi_close_stale(c);
	return 0;
}

void tdm_iscsi_stop_listening(void)
{
	tdm__iscsi_portals_close();
}

void tdm_iscsi_shutdown(void (*done)(void *arg), void *arg)
{
	unsigned n;

	tdm__iscsi_portals_close();
	tdm__iscsi_set_shutdown(done, arg, tdm_loop_current());
	n = tdm__iscsi_close_all(true);
	log_info("iscsi: shutting down, %u connection%s to drain", n,
		 n == 1 ? "" : "s");
}
