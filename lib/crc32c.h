/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * crc32c.h - CRC32C (Castagnoli, reflected 0x82F63B78): the iSCSI digests
 * (RFC 7143 11.2.3) and the checksums of the files tandem writes.
 */
#ifndef TANDEM_LIB_CRC32C_H
#define TANDEM_LIB_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Raw CRC32C register update (start with ~0, finish with ~crc). */
uint32_t tdm_crc32c_update(uint32_t crc, const void *buf, size_t len);
/* The CRC32C of buf: ~tdm_crc32c_update(~0, buf, len). */
uint32_t tdm_crc32c(const void *buf, size_t len);

#endif
