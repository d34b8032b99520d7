/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * transport_id.c - what a transport builds its initiator ports'
 * TransportIDs (SPC-4 7.6.4) with, for its ops->transport_id: the
 * encoder of pr-sync/ behind the public tdm_transport_id*() of
 * include/tandem/transport.h.
 */
#include <errno.h>

#include "tandem/transport.h"
#include "pr-sync/pr.h"

int tdm_transport_id_iscsi(uint8_t *buf, size_t cap, const char *name,
			   const uint8_t isid[6])
{
	struct tdm_pr_tid t;

	if (tdm_pr_tid_iscsi(&t, name, isid) < 0)
		return -EINVAL;
	return (int)tdm_pr_tid_encode(&t, buf, cap);
}

int tdm_transport_id(uint8_t *buf, size_t cap, uint8_t proto, const uint8_t *id,
		     size_t len)
{
	struct tdm_pr_tid t;

	if (tdm_pr_tid_port(&t, proto, id, len) < 0)
		return -EINVAL;
	return (int)tdm_pr_tid_encode(&t, buf, cap);
}
