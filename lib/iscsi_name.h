/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * iscsi_name.h - is a string an iSCSI name (RFC 7143 4.2.7)? One rule
 * for the configuration (conf/) and for login (iscsi/), so that a name
 * the configuration takes is a name an initiator can log in to.
 */
#ifndef TANDEM_LIB_ISCSI_NAME_H
#define TANDEM_LIB_ISCSI_NAME_H

/* The longest iSCSI name, in bytes (RFC 7143 4.2.7.1). */
#define TDM_ISCSI_NAME_MAX 223

/* NULL when name is an iSCSI name, else what is wrong with it. */
const char *tdm_iscsi_name_problem(const char *name);

#endif
