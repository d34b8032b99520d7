/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * iscsi_name.c - the iSCSI name rule: "iqn." (RFC 3720 3.2.6.3.1),
 * "eui." and 16 hex digits (RFC 3720 3.2.6.3.2, EUI-64), "naa." and 16
 * or 32 hex digits (RFC 3980, 64- or 128-bit NAA), at most 223 bytes.
 */
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "lib/iscsi_name.h"

static bool all_hex(const char *s, size_t n)
{
	if (strlen(s) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strchr("0123456789abcdefABCDEF", s[i]))
			return false;
	return true;
}

const char *tdm_iscsi_name_problem(const char *name)
{
	size_t len = strlen(name);

	if (len > TDM_ISCSI_NAME_MAX)
		return "longer than 223 bytes";
	if (!strncasecmp(name, "eui.", 4))
		return all_hex(name + 4, 16)
			       ? NULL
			       : "an eui. name has 16 hex digits after eui.";
	if (!strncasecmp(name, "naa.", 4))
		return all_hex(name + 4, 16) || all_hex(name + 4, 32)
			       ? NULL
			       : "a naa. name has 16 or 32 hex digits after "
				 "naa.";
	if (strncasecmp(name, "iqn.", 4))
		return "an iSCSI name starts with iqn., eui. or naa.";
	if (len == 4)
		return "nothing after iqn.";
	/*
	 * RFC 3722 6.1 (the stringprep profile of RFC 7143 4.2.7.2) leaves
	 * ASCII letters (folded to lower case), digits, '-', '.' and ':';
	 * '_' is accepted too, as other targets do. Other bytes, non-ASCII
	 * included, are refused. The date and naming authority of RFC 3720
	 * 3.2.6.3.1 are not enforced: AIX names itself
	 * "iqn.localhost.hostid.<hex>" by default.
	 */
	for (const char *p = name + 4; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr("-.:_", *p)))
			return "only letters, digits and _ . : - are allowed";
	return NULL;
}
