/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fuzz_link.c - libFuzzer target for what tandemd reads from its agent
 * link (agentd/agent_msg.h): the byte stream cut into frames, each frame
 * decoded as tandemd decodes it (targetd/agent.c), and snapshot bodies
 * through scsi/cluster.c's loader (no LU is configured: it must parse,
 * reject or skip, never crash); HELLO's and PORTS' ports, HEADS applied
 * (scsi/cluster.c tdm_cluster_head), ORDERED of every kind (9 included).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "agentd/agent_msg.h"
#include "tandem/cluster.h"
#include "lib/log.h"

static void decode(const uint8_t *f, size_t len)
{
	struct tdm_cluster_alua *a = malloc(sizeof(*a));
	static struct tdm_agent_ports ports[1];
	struct tdm_rd r;
	struct tdm_cluster_pr pr;
	uint16_t type, version;
	const uint8_t *p;
	size_t n;
	char err[256], s[64];

	if (!a)
		return;
	tdm_frame_open(&r, f, len, &type, &version);
	switch (type) {
	case TDM_AGENT_HELLO:
		(void)tdm_rd_get_u16(&r);
		(void)tdm_rd_get_u16(&r);
		tdm_rd_get_str(&r, s, sizeof(s));
		if (r.off < r.len) /* version 3: the agent timeout */
			(void)tdm_rd_get_u32(&r);
		if (r.off < r.len)
			tdm_agent_get_ports(&r, ports);
		break;
	case TDM_AGENT_PORTS:
		tdm_agent_get_ports(&r, ports);
		break;
	case TDM_AGENT_HEADS:
		/* as targetd/agent.c on_heads: left, then joined */
		for (int joined = 0; joined < 2 && !r.bad; joined++) {
			uint32_t nh = tdm_rd_get_u32(&r);

			for (uint32_t i = 0; i < nh && !r.bad; i++) {
				uint32_t nodeid = tdm_rd_get_u32(&r);

				tdm_agent_get_ports(&r, ports);
				if (!r.bad)
					tdm_cluster_head(nodeid, joined,
							 ports->id, ports->n);
			}
		}
		break;
	case TDM_AGENT_PR_OUT:
	case TDM_AGENT_PR_APPLY:
		if (type == TDM_AGENT_PR_APPLY)
			(void)tdm_rd_get_u32(&r);
		(void)tdm_rd_get_u64(&r);
		tdm_agent_get_pr(&r, &pr);
		break;
	case TDM_AGENT_ALUA_SET:
	case TDM_AGENT_ALUA_APPLY:
		if (type == TDM_AGENT_ALUA_APPLY)
			(void)tdm_rd_get_u32(&r);
		(void)tdm_rd_get_u64(&r);
		tdm_agent_get_alua(&r, a);
		break;
	case TDM_AGENT_ORDERED: {
		uint8_t kind;

		(void)tdm_rd_get_u32(&r);
		(void)tdm_rd_get_u64(&r);
		kind = tdm_rd_get_u8(&r);
		p = tdm_rd_get_bytes(&r, &n);
		if (tdm_rd_done(&r))
			tdm_cluster_ordered(false, 0, kind, p, n);
		break;
	}
	case TDM_AGENT_SNAPSHOT_LOAD:
		p = tdm_rd_get_bytes(&r, &n);
		if (tdm_rd_done(&r))
			(void)tdm_cluster_load(p, n, err, sizeof(err));
		break;
	default:
		(void)tdm_rd_get_u64(&r);
		break;
	}
	(void)tdm_rd_done(&r);
	free(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool quiet;
	size_t off = 0;
	long n;

	/* rejecting bad input logs an error each time: millions of lines */
	if (!quiet) {
		tdm_log_init("fuzz_link", false, TDM_LOG_ERR - 1);
		quiet = true;
	}

	/* the whole input as one snapshot body, too */
	{
		char err[256];

		(void)tdm_cluster_load(data, size, err, sizeof(err));
	}
	while (off < size) {
		n = tdm_frame_len(data + off, size - off);
		if (n <= 0)
			break;
		decode(data + off, (size_t)n);
		off += (size_t)n;
	}
	return 0;
}
