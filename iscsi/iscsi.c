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

/* SPC-4 7.6.4.6: the initiator port, format 01b (name ",i,0x" ISID) */
static int iscsi_transport_id(const struct tdm_nexus *nx, uint8_t *buf,
			      size_t cap)
{
	const struct tdm__iscsi_conn *c = tdm_nexus_priv(nx);

	return tdm_transport_id_iscsi(buf, cap, c->initiator, c->isid);
}

/* RFC 7143 13.4: the SCSI device is the target name, the target port
 * "name,t,0xTPGT" (SCSI name string designators) */
static size_t iscsi_target_port(const struct tdm_nexus *nx,
				struct tdm_designator *d, size_t max)
{
	const struct tdm__iscsi_conn *c = tdm_nexus_priv(nx);
	int n;

	if (max < 2 || !c->target[0])
		return 0;
	n = snprintf((char *)d[0].id, sizeof(d[0].id), "%s", c->target);
	d[0].assoc = TDM_DESIG_ASSOC_TARGET;
	d[0].type = TDM_DESIG_SCSI_NAME;
	d[0].len = (uint8_t)n;
	n = snprintf((char *)d[1].id, sizeof(d[1].id), "%s,t,0x%04x", c->target,
		     c->tpgt);
	d[1].assoc = TDM_DESIG_ASSOC_PORT;
	d[1].type = TDM_DESIG_SCSI_NAME;
	d[1].len = (uint8_t)n;
	return 2;
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
	.protocol = TDM_PROTO_ISCSI,
	.transport_id = iscsi_transport_id,
	.target_port = iscsi_target_port,
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
