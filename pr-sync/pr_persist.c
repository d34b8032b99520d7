/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pr_persist.c - the persistent reservation state as bytes: the APTPL file
 * of a logical unit and the PR part of a cluster snapshot use the same
 * versioned, big-endian, checksummed layout:
 *
 *   0   4  magic "TDPR"
 *   4   2  version (1)
 *   6   2  reserved (0)
 *   8   4  payload length P
 *   12  P  payload:
 *            generation u32, flags u8 (bit 0 APTPL, bit 1 reserved),
 *            type u8, scope u8, reserved u8, registration count u32,
 *            then per registration, in registration order:
 *              key u64, relative target port u16, flags u8 (bit 0
 *              ALL_TG_PT, bit 1 APTPL, bit 2 holder), protocol u8,
 *              format u8, reserved u8, identifier length u16, ISID[6],
 *              identifier bytes
 *   12+P 4 CRC32C (Castagnoli) of bytes 0 .. 12+P-1
 *
 * A decoder accepts a buffer only if it is whole, of this version, has the
 * right checksum and describes a consistent state; otherwise the state it
 * was to replace is left as it was.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/crc32c.h"
#include "lib/writefile.h"
#include "pr-sync/pr.h"

#define PR_MAGIC "TDPR"
#define PR_VERSION 1
#define HDR_LEN 12
#define CRC_LEN 4
#define PAYLOAD_FIXED 12
#define REG_FIXED 22
#define FILE_MAX (16u << 20)

size_t tdm_pr_encoded_size(const struct tdm_pr_state *st)
{
	size_t n = HDR_LEN + PAYLOAD_FIXED + CRC_LEN, i;

	for (i = 0; i < st->nregs; i++)
		n += REG_FIXED + st->regs[i].tid.len;
	return n;
}

size_t tdm_pr_encode(const struct tdm_pr_state *st, uint8_t *buf, size_t cap)
{
	size_t n = tdm_pr_encoded_size(st), off, i;

	if (cap < n)
		return 0;
	memset(buf, 0, n);
	memcpy(buf, PR_MAGIC, 4);
	tdm_put_be16(buf + 4, PR_VERSION);
	tdm_put_be32(buf + 8, (uint32_t)(n - HDR_LEN - CRC_LEN));
	off = HDR_LEN;
	tdm_put_be32(buf + off, st->generation);
	buf[off + 4] = (uint8_t)((st->aptpl ? 1 : 0) | (st->reserved ? 2 : 0));
	buf[off + 5] = st->type;
	buf[off + 6] = st->scope;
	tdm_put_be32(buf + off + 8, (uint32_t)st->nregs);
	off += PAYLOAD_FIXED;
	for (i = 0; i < st->nregs; i++) {
		const struct tdm_pr_reg *r = &st->regs[i];

		tdm_put_be64(buf + off, r->key);
		tdm_put_be16(buf + off + 8, r->rel_port);
		buf[off + 10] =
			(uint8_t)((r->all_tg_pt ? 1 : 0) | (r->aptpl ? 2 : 0) |
				  (r->holder ? 4 : 0));
		buf[off + 11] = r->tid.proto;
		buf[off + 12] = r->tid.fmt;
		tdm_put_be16(buf + off + 14, r->tid.len);
		memcpy(buf + off + 16, r->tid.isid, 6);
		memcpy(buf + off + REG_FIXED, r->tid.id, r->tid.len);
		off += REG_FIXED + r->tid.len;
	}
	tdm_put_be32(buf + off, tdm_crc32c(buf, off));
	return n;
}

int tdm_pr_decode(const uint8_t *buf, size_t len, struct tdm_pr_state *st)
{
	struct tdm_pr_state ns;
	size_t plen, off, end, n, i;
	uint8_t fl;

	if (len < HDR_LEN + PAYLOAD_FIXED + CRC_LEN || memcmp(buf, PR_MAGIC, 4))
		return -EBADMSG;
	if (tdm_get_be16(buf + 4) != PR_VERSION)
		return -EPROTONOSUPPORT;
	plen = tdm_get_be32(buf + 8);
	if (tdm_get_be16(buf + 6) || plen != len - HDR_LEN - CRC_LEN)
		return -EBADMSG;
	end = HDR_LEN + plen;
	if (tdm_get_be32(buf + end) != tdm_crc32c(buf, end))
		return -EBADMSG;

	tdm_pr_state_init(&ns);
	off = HDR_LEN;
	ns.generation = tdm_get_be32(buf + off);
	fl = buf[off + 4];
	if (fl & ~3u || buf[off + 7])
		return -EBADMSG;
	ns.aptpl = fl & 1;
	ns.reserved = fl & 2;
	ns.type = buf[off + 5];
	ns.scope = buf[off + 6];
	n = tdm_get_be32(buf + off + 8);
	off += PAYLOAD_FIXED;
	/* every registration takes at least REG_FIXED + 1 bytes */
	if (n > TDM_PR_MAX_REGS || n > (end - off) / (REG_FIXED + 1))
		return -EBADMSG;
	if (n) {
		ns.regs = calloc(n, sizeof(*ns.regs));
		if (!ns.regs)
			return -ENOMEM;
		ns.cap = n;
	}
	for (i = 0; i < n; i++) {
		struct tdm_pr_reg *r = &ns.regs[i];
		size_t idlen;

		if (end - off < REG_FIXED)
			goto bad;
		idlen = tdm_get_be16(buf + off + 14);
		if (idlen > TDM_PR_NAME_MAX || end - off - REG_FIXED < idlen)
			goto bad;
		r->key = tdm_get_be64(buf + off);
		r->rel_port = tdm_get_be16(buf + off + 8);
		fl = buf[off + 10];
		if (fl & ~7u || buf[off + 13])
			goto bad;
		r->all_tg_pt = fl & 1;
		r->aptpl = fl & 2;
		r->holder = fl & 4;
		r->tid.proto = buf[off + 11];
		r->tid.fmt = buf[off + 12];
		r->tid.len = (uint16_t)idlen;
		memcpy(r->tid.isid, buf + off + 16, 6);
		memcpy(r->tid.id, buf + off + REG_FIXED, idlen);
		off += REG_FIXED + idlen;
		ns.nregs++;
	}
	if (off != end || tdm_pr_state_check(&ns) < 0)
		goto bad;
	tdm_pr_state_free(st);
	*st = ns;
	return 0;
bad:
	tdm_pr_state_free(&ns);
	return -EBADMSG;
}

/* ---- APTPL files ---- */

/* A device name is a file name: no '/', no leading '.'. */
static int name_ok(const char *name)
{
	size_t n = strlen(name);

	if (!n || n > 200 || name[0] == '.' || strchr(name, '/'))
		return -EINVAL;
	return 0;
}

/* mkdir -p, mode 0700 for what it creates. */
static int mkdirs(const char *dir)
{
	char path[PATH_MAX];
	size_t n = strlen(dir), i;

	if (!n || n >= sizeof(path))
		return -ENAMETOOLONG;
	memcpy(path, dir, n + 1);
	for (i = 1; i <= n; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		path[i] = '\0';
		if (mkdir(path, 0700) < 0 && errno != EEXIST)
			return -errno;
		if (i < n)
			path[i] = '/';
	}
	return 0;
}

int tdm_pr_file_save(const char *dir, const char *name,
		     const struct tdm_pr_state *st)
{
	char path[PATH_MAX];
	uint8_t *buf;
	size_t n;
	int r;

	r = name_ok(name);
	if (r < 0)
		return r;
	r = mkdirs(dir);
	if (r < 0)
		return r;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    sizeof(path))
		return -ENAMETOOLONG;
	n = tdm_pr_encoded_size(st);
	buf = malloc(n);
	if (!buf)
		return -ENOMEM;
	tdm_pr_encode(st, buf, n);
	r = tdm_file_replace(path, buf, n, NULL, 0, 0);
	free(buf);
	return r;
}

int tdm_pr_file_load(const char *dir, const char *name, struct tdm_pr_state *st)
{
	char path[PATH_MAX];
	struct stat sb;
	uint8_t *buf;
	size_t got = 0;
	int fd, r;

	r = name_ok(name);
	if (r < 0)
		return r;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	if (!S_ISREG(sb.st_mode) || sb.st_size > FILE_MAX) {
		close(fd);
		return -EBADMSG;
	}
	buf = malloc(sb.st_size ? (size_t)sb.st_size : 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)sb.st_size) {
		ssize_t k = read(fd, buf + got, (size_t)sb.st_size - got);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		got += (size_t)k;
	}
	close(fd);
	r = got == (size_t)sb.st_size ? tdm_pr_decode(buf, got, st) : -EBADMSG;
	free(buf);
	return r;
}

int tdm_pr_file_remove(const char *dir, const char *name)
{
	int dfd, r = 0;

	if (name_ok(name) < 0)
		return -EINVAL;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (unlinkat(dfd, name, 0) < 0)
		r = errno == ENOENT ? 0 : -errno;
	else if (fsync(dfd) < 0)
		r = -errno;
	close(dfd);
	return r;
}
