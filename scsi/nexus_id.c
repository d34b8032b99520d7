/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * nexus_id.c - the identity of an I_T nexus, whatever its transport: the
 * initiator port's TransportID that ops->transport_id gives (SPC-4
 * 7.6.4), checked and decoded once when the nexus is made, its printable
 * name, and the name persistent reservations give the nexus (TransportID
 * and relative target port). The transports build their TransportIDs
 * with scsi/transport_id.c.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "scsi/scsi_int.h"
#include "pr-sync/pr.h"

int tdm__nexus_identify(struct tdm_nexus *nx)
{
	const struct tdm_transport_ops *ops = nx->ops;
	uint8_t buf[TDM_TID_MAX];
	struct tdm_pr_tid_err e;
	size_t used = 0;
	int n;

	nx->id.tid_len = 0;
	memset(&nx->tid, 0, sizeof(nx->tid));
	if (!ops->transport_id) {
		/* the fabric does not say which initiator port this is */
		snprintf(nx->id.port, sizeof(nx->id.port), "%s",
			 nx->id.initiator);
		return 0;
	}
	n = ops->transport_id(nx, buf, sizeof(buf));
	if (n <= 0 || (size_t)n > sizeof(buf) ||
	    tdm_pr_tid_decode(buf, (size_t)n, &nx->tid, &used, &e) < 0 ||
	    used != (size_t)n || nx->tid.proto != ops->protocol) {
		/* an initiator name no TransportID can hold (RFC 3722: no
		 * control character): the nexus serves, without PR */
		memset(&nx->tid, 0, sizeof(nx->tid));
		snprintf(nx->id.port, sizeof(nx->id.port), "%s",
			 nx->id.initiator);
		return -EINVAL;
	}
	memcpy(nx->id.tid, buf, (size_t)n);
	nx->id.tid_len = (uint16_t)n;
	tdm_pr_tid_name(&nx->tid, nx->id.port, sizeof(nx->id.port));
	return 0;
}

int tdm__pr_nexus_id(const struct tdm_nexus *nx, struct tdm_pr_nexus *out)
{
	memset(out, 0, sizeof(*out));
	if (!nx->id.tid_len)
		return -ENOENT;
	out->tid = nx->tid;
	out->rel_port = nx->rel_port;
	return 0;
}
