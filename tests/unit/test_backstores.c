/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * test_backstores.c - the backstores against real files, a real loop
 * block device (losetup; skipped with the reason when unavailable), and
 * memory, driven by a real tdm_loop and its io_uring.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/fs.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backstores/bs_internal.h"
#include "tandem/backstore.h"
#include "tandem/config.h"
#include "lib/loop.h"

#define ERRLEN 256
#define KiB 1024ull
#define MiB (1024ull * 1024)
#define FILE_SIZE (8 * MiB)

static struct tdm_loop *loop;
static char tmpdir[256];
static char loopdev[256];  /* /dev/loopN of the block tests, "" = none */
static char loopfile[300]; /* its backing file */
static const char *no_loop_reason = "not set up";

/* ---- helpers ---- */

struct res {
	enum tdm_bs_status st;
	unsigned ncalls;
	unsigned *counter;
};

struct batch {
	struct tdm_bs *bs;
	struct tdm_bs_io *ios;
	struct res *res;
	unsigned n;
	unsigned ndone;
};

static void io_cb(struct tdm_bs_io *io, enum tdm_bs_status st)
{
	struct res *r = io->arg;

	r->st = st;
	r->ncalls++;
	(*r->counter)++;
}

static void submit_batch(void *arg)
{
	struct batch *b = arg;
	unsigned i;

	assert_ptr_equal(tdm_loop_current(), loop);
	for (i = 0; i < b->n; i++)
		b->bs->ops->submit(b->bs, &b->ios[i]);
}

/* Prepare ios[i] to report into b. */
static void batch_init(struct batch *b, struct tdm_bs *bs,
		       struct tdm_bs_io *ios, struct res *res, unsigned n)
{
	unsigned i;

	*b = (struct batch){.bs = bs, .ios = ios, .res = res, .n = n};
	for (i = 0; i < n; i++) {
		res[i] = (struct res){.st = 99, .counter = &b->ndone};
		ios[i].done = io_cb;
		ios[i].arg = &res[i];
	}
}

/* Submit the whole batch from the loop thread, pump until all are done
 * (or 60 s have passed). */
static void batch_run(struct batch *b)
{
	uint64_t deadline = tdm_now_ns() + 60 * 1000000000ull;
	unsigned i;

	tdm_loop_post(loop, submit_batch, b);
	while (b->ndone < b->n && tdm_now_ns() < deadline)
		tdm_loop_run_once(loop, 100);
	assert_int_equal(b->ndone, b->n);
	for (i = 0; i < b->n; i++)
		assert_int_equal(b->res[i].ncalls, 1);
}

static enum tdm_bs_status do_io(struct tdm_bs *bs, uint8_t op, uint64_t off,
				uint64_t len, void *buf, bool fua)
{
	struct tdm_bs_io io = {
		.op = op, .fua = fua, .offset = off, .len = len, .buf = buf};
	struct res r;
	struct batch b;

	batch_init(&b, bs, &io, &r, 1);
	batch_run(&b);
	return r.st;
}

static void *abuf(size_t len)
{
	void *p = aligned_alloc(4096, (len + 4095) / 4096 * 4096);

	assert_non_null(p);
	return p;
}

static uint8_t pat(uint64_t pos, unsigned seed)
{
	uint64_t x =
		(pos + 1) * 0x9E3779B97F4A7C15ull + seed * 0x632BE59BD9B4E5ull;

	return (uint8_t)(x >> 56) | 1; /* never 0: tells data from a hole */
}

static void fill(uint8_t *buf, uint64_t off, uint64_t len, unsigned seed)
{
	uint64_t i;

	for (i = 0; i < len; i++)
		buf[i] = pat(off + i, seed);
}

static bool check(const uint8_t *buf, uint64_t off, uint64_t len, unsigned seed)
{
	uint64_t i;

	for (i = 0; i < len; i++)
		if (buf[i] != pat(off + i, seed)) {
			print_message("mismatch at %llu (+%llu)\n",
				      (unsigned long long)(off + i),
				      (unsigned long long)i);
			return false;
		}
	return true;
}

static bool all_zero(const uint8_t *buf, uint64_t len)
{
	uint64_t i;

	for (i = 0; i < len; i++)
		if (buf[i])
			return false;
	return true;
}

static void conf_init(struct tdm_conf_device *c, enum tdm_handler h,
		      const char *path, uint64_t size)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "disk01");
	c->handler = h;
	snprintf(c->filename, sizeof(c->filename), "%s", path ? path : "");
	c->size = size;
}

static int bs_open(struct tdm_bs *bs, const struct tdm_conf_device *c,
		   char *err)
{
	memset(bs, 0, sizeof(*bs));
	err[0] = 0;
	bs->ops = tdm_bs_lookup(c->handler);
	assert_non_null(bs->ops);
	return bs->ops->open(bs, c, err, ERRLEN);
}

static void tmp_path(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", tmpdir, name);
}

/* A file of size bytes: sparse (a hole) or written with zero bytes. */
static void make_file(const char *path, uint64_t size, bool sparse, mode_t mode)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	if (sparse) {
		assert_int_equal(ftruncate(fd, (off_t)size), 0);
	} else {
		static const uint8_t z[64 * 1024];
		uint64_t o;

		for (o = 0; o < size; o += sizeof(z))
			assert_true(pwrite(fd, z,
					   size - o < sizeof(z) ? size - o
								: sizeof(z),
					   (off_t)o) > 0);
	}
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static int fd_flags(struct tdm_bs *bs)
{
	struct tdm__bs_fdev *f = bs->priv;

	return fcntl(f->fd, F_GETFL);
}

/* ---- registry ---- */

static void test_registry(void **state)
{
	assert_string_equal(tdm_bs_lookup(TDM_HANDLER_FILEIO)->name,
			    "vdisk_fileio");
	assert_string_equal(tdm_bs_lookup(TDM_HANDLER_BLOCKIO)->name,
			    "vdisk_blockio");
	assert_string_equal(tdm_bs_lookup(TDM_HANDLER_NULLIO)->name,
			    "vdisk_nullio");
	assert_string_equal(tdm_bs_lookup(TDM_HANDLER_RAM)->name, "ram");
	assert_string_equal(tdm_bs_lookup(TDM_HANDLER_CDROM)->name, "vcdrom");
	assert_string_equal(tdm_bs_lookup(TDM_HANDLER_RBD)->name, "vdisk_rbd");
	assert_null(tdm_bs_lookup(TDM__HANDLER_COUNT));
	assert_null(tdm_bs_lookup((enum tdm_handler) - 1));
}

/* ---- vdisk_rbd: what open() finds before any Ceph is reached (the
 * rest runs against a real cluster: tests/cluster/rbd_heads.sh) ---- */

static void rbd_conf(struct tdm_conf_device *c, const char *conf_path)
{
	tdm_conf_device_init(c, TDM_HANDLER_RBD);
	snprintf(c->name, sizeof(c->name), "r0");
	snprintf(c->rbd_pool, sizeof(c->rbd_pool), "rbd");
	snprintf(c->rbd_image, sizeof(c->rbd_image), "img");
	snprintf(c->ceph_conf, sizeof(c->ceph_conf), "%s", conf_path);
	c->rbd_timeout = 2;
}

static void test_rbd_open_errors(void **state)
{
	struct tdm_conf_device c;
	struct tdm_bs bs;
	char err[ERRLEN], path[512];
	FILE *f;

	(void)state;
	rbd_conf(&c, "/nonexistent/ceph.conf");
	c.rbd_image[0] = '\0';
	assert_int_equal(bs_open(&bs, &c, err), -EINVAL);
	assert_string_equal(err, "r0: vdisk_rbd needs pool and image");
	rbd_conf(&c, "/nonexistent/ceph.conf");
	c.blocksize = 1024;
	assert_int_equal(bs_open(&bs, &c, err), -EINVAL);
	assert_non_null(strstr(err, "blocksize=1024 not supported"));
#ifdef HAVE_RBD
	rbd_conf(&c, "/nonexistent/ceph.conf");
	assert_true(bs_open(&bs, &c, err) < 0);
	assert_string_equal(err, "r0: ceph_conf /nonexistent/ceph.conf: No "
				 "such file or directory");
	/* a file librados cannot parse */
	tmp_path(path, sizeof(path), "bad-ceph.conf");
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("[global\nmon_host = \n", f);
	fclose(f);
	rbd_conf(&c, path);
	assert_true(bs_open(&bs, &c, err) < 0);
	assert_non_null(strstr(err, "r0: ceph_conf "));
	/* no monitor: given up after rbd_timeout (2 s), naming the cause */
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("[global]\nmon_host = 127.0.0.1:1\nauth_client_required = "
	      "none\n",
	      f);
	fclose(f);
	rbd_conf(&c, path);
	assert_int_equal(bs_open(&bs, &c, err), -ETIMEDOUT);
	assert_non_null(strstr(err, "no monitor answered"));
	unlink(path);
#else
	(void)path;
	(void)f;
	rbd_conf(&c, "/nonexistent/ceph.conf");
	assert_int_equal(bs_open(&bs, &c, err), -EOPNOTSUPP);
	assert_non_null(strstr(err, "built without librbd"));
#endif
}

/* ---- vdisk_fileio ---- */

static void test_file_open_errors(void **state)
{
	struct tdm_conf_device c;
	char path[300], want[600], err[ERRLEN];
	struct tdm_bs bs;

	tmp_path(path, sizeof(path), "missing.img");
	conf_init(&c, TDM_HANDLER_FILEIO, path, 0);
	assert_int_equal(bs_open(&bs, &c, err), -ENOENT);
	snprintf(want, sizeof(want), "disk01: %s: No such file or directory",
		 path);
	assert_string_equal(err, want);

	conf_init(&c, TDM_HANDLER_FILEIO, tmpdir, 0);
	assert_int_equal(bs_open(&bs, &c, err), -EISDIR);
	assert_non_null(strstr(err, "is a directory"));

	conf_init(&c, TDM_HANDLER_FILEIO, "/dev/null", 0);
	assert_int_equal(bs_open(&bs, &c, err), -EINVAL);
	assert_non_null(strstr(err, "not a regular file"));

	if (access("/dev/loop0", F_OK) == 0) {
		conf_init(&c, TDM_HANDLER_FILEIO, "/dev/loop0", 0);
		assert_int_equal(bs_open(&bs, &c, err), -EINVAL);
		assert_non_null(strstr(err, "use vdisk_blockio"));
	}

	conf_init(&c, TDM_HANDLER_FILEIO, "", 0);
	assert_int_equal(bs_open(&bs, &c, err), -EINVAL);
	assert_non_null(strstr(err, "filename="));

	tmp_path(path, sizeof(path), "small.img");
	make_file(path, 1 * MiB, true, 0644);
	conf_init(&c, TDM_HANDLER_FILEIO, path, 2 * MiB);
	assert_int_equal(bs_open(&bs, &c, err), -EINVAL);
	assert_non_null(strstr(err, "file too small"));
	assert_non_null(strstr(err, "never extends"));

	c.size = 0;
	c.blocksize = 1024;
	assert_int_equal(bs_open(&bs, &c, err), -EINVAL);
	assert_non_null(strstr(err, "blocksize=1024"));

	make_file(path, 100, false, 0644);
	c.blocksize = 0;
	assert_int_equal(bs_open(&bs, &c, err), -EINVAL);
	assert_non_null(strstr(err, "less than one 512-byte block"));
	unlink(path);
}

/*
 * EACCES: root passes every permission check, so the open runs in a child
 * that became nobody. Exit 0 = as expected, 77 = could not drop root.
 */
static int child_open_as_nobody(const char *path, bool read_only)
{
	struct tdm_conf_device c;
	char err[ERRLEN];
	struct tdm_bs bs;
	pid_t pid = fork();
	int st, rc;

	assert_true(pid >= 0);
	if (pid == 0) {
		if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
			_exit(77);
		conf_init(&c, TDM_HANDLER_FILEIO, path, 0);
		c.read_only = read_only;
		rc = bs_open(&bs, &c, err);
		if (read_only) {
			if (rc == 0)
				_exit(0);
			fprintf(stderr, "read-only open: %s\n", err);
			_exit(1);
		}
		if (rc == -EACCES && strstr(err, "Permission denied") &&
		    strstr(err, "read and write access needed"))
			_exit(0);
		fprintf(stderr, "rc %d: %s\n", rc, err);
		_exit(1);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static void test_file_open_eacces(void **state)
{
	struct tdm_conf_device c;
	char path[300], err[ERRLEN];
	struct tdm_bs bs;
	int rc;

	tmp_path(path, sizeof(path), "no-access.img");
	if (geteuid() != 0) {
		/* not root: a file without permissions is enough */
		make_file(path, 1 * MiB, true, 0);
		conf_init(&c, TDM_HANDLER_FILEIO, path, 0);
		assert_int_equal(bs_open(&bs, &c, err), -EACCES);
		assert_non_null(strstr(err, "read and write access needed"));
		unlink(path);
		return;
	}
	make_file(path, 1 * MiB, true, 0644);
	assert_int_equal(chmod(tmpdir, 0755), 0);
	rc = child_open_as_nobody(path, false);
	if (rc == 77) {
		print_message("skip: cannot setuid(nobody)\n");
		unlink(path);
		skip();
	}
	assert_int_equal(rc, 0);
	assert_int_equal(child_open_as_nobody(path, true), 0);
	unlink(path);
}

/*
 * EROFS: a tmpfs remounted read-only, in a private mount namespace of a
 * child. 77 = no mount namespace here (not root, or a container without
 * CAP_SYS_ADMIN).
 */
static void test_file_open_erofs(void **state)
{
	char dir[300], path[320];
	pid_t pid;
	int st;

	tmp_path(dir, sizeof(dir), "rofs");
	snprintf(path, sizeof(path), "%s/disk.img", dir);
	assert_int_equal(mkdir(dir, 0755), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct tdm_conf_device c;
		char err[ERRLEN];
		struct tdm_bs bs;
		int fd, rc;

		if (unshare(CLONE_NEWNS) ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
		    mount("tmpfs", dir, "tmpfs", 0, "size=4m"))
			_exit(77);
		fd = open(path, O_RDWR | O_CREAT, 0644);
		if (fd < 0 || ftruncate(fd, 1 << 20))
			_exit(1);
		close(fd);
		if (mount(NULL, dir, NULL, MS_REMOUNT | MS_RDONLY, NULL))
			_exit(77);
		conf_init(&c, TDM_HANDLER_FILEIO, path, 0);
		rc = bs_open(&bs, &c, err);
		if (rc != -EROFS || !strstr(err, "Read-only file system") ||
		    !strstr(err, "read_only=1")) {
			fprintf(stderr, "rc %d: %s\n", rc, err);
			_exit(1);
		}
		c.read_only = true;
		if (bs_open(&bs, &c, err)) {
			fprintf(stderr, "read-only: %s\n", err);
			_exit(1);
		}
		bs.ops->close(&bs);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	rmdir(dir);
	assert_true(WIFEXITED(st));
	if (WEXITSTATUS(st) == 77) {
		print_message("skip: no private mount namespace for a "
			      "read-only tmpfs\n");
		skip();
	}
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void test_file_geometry(void **state)
{
	struct tdm_conf_device c;
	char path[300], err[ERRLEN];
	struct tdm_bs bs;

	tmp_path(path, sizeof(path), "geom.img");
	make_file(path, 1 * MiB + 100, true, 0644);

	/* size 0: the file's, rounded down to whole blocks */
	conf_init(&c, TDM_HANDLER_FILEIO, path, 0);
	assert_int_equal(bs_open(&bs, &c, err), 0);
	assert_int_equal(bs.size, 1 * MiB);
	assert_int_equal(bs.block_size, 512);
	assert_true(bs.write_cache);
	assert_false(bs.read_only);
	assert_false(bs.can_unmap);
	assert_int_equal(fd_flags(&bs) & (O_ACCMODE | O_DSYNC | O_DIRECT),
			 O_RDWR);
	bs.ops->close(&bs);

	/* size= smaller than the file, 4 KiB blocks, rounded down */
	c.size = 64 * KiB + 1;
	c.blocksize = 4096;
	c.write_through = true;
	assert_int_equal(bs_open(&bs, &c, err), 0);
	assert_int_equal(bs.size, 64 * KiB);
	assert_int_equal(bs.block_size, 4096);
	assert_false(bs.write_cache);
	assert_int_equal(fd_flags(&bs) & O_DSYNC, O_DSYNC);
	bs.ops->close(&bs);

	/* nv_cache overrides write_through: no O_DSYNC, no volatile cache */
	c.nv_cache = true;
	assert_int_equal(bs_open(&bs, &c, err), 0);
	assert_false(bs.write_cache);
	assert_int_equal(fd_flags(&bs) & O_DSYNC, 0);
	bs.ops->close(&bs);

	conf_init(&c, TDM_HANDLER_FILEIO, path, 0);
	c.read_only = true;
	c.o_direct = true;
	c.thin_provisioned = true; /* no unmap on a read-only LU */
	c.rotational = true;
	assert_int_equal(bs_open(&bs, &c, err), 0);
	assert_true(bs.read_only);
	assert_true(bs.rotational);
	assert_false(bs.can_unmap);
	assert_int_equal(fd_flags(&bs) & (O_ACCMODE | O_DIRECT),
			 O_RDONLY | O_DIRECT);
	bs.ops->close(&bs);
	unlink(path);
}

struct variant {
	const char *name;
	uint32_t blocksize;
	bool o_direct, write_through, nv_cache;
};

static const struct variant v_buf512 = {"buffered/512", 512, 0, 0, 0};
static const struct variant v_buf4k = {"buffered/4096", 4096, 0, 0, 0};
static const struct variant v_dio512 = {"o_direct/512", 512, 1, 0, 0};
static const struct variant v_dio4k = {"o_direct/4096", 4096, 1, 0, 0};
static const struct variant v_wt = {"write_through", 512, 0, 1, 0};
static const struct variant v_nv = {"nv_cache", 4096, 0, 0, 1};
static const struct variant v_dio_wt = {"o_direct+write_through", 4096, 1, 1,
					0};

static void open_variant(struct tdm_bs *bs, const struct variant *v,
			 const char *path, bool thin)
{
	struct tdm_conf_device c;
	char err[ERRLEN];

	conf_init(&c, TDM_HANDLER_FILEIO, path, 0);
	c.blocksize = v->blocksize;
	c.o_direct = v->o_direct;
	c.write_through = v->write_through;
	c.nv_cache = v->nv_cache;
	c.thin_provisioned = thin;
	if (bs_open(bs, &c, err)) {
		print_message("%s: %s\n", v->name, err);
		fail();
	}
}

/*
 * Round trips at several offsets and lengths, FUA or not; what the file
 * holds afterwards is checked with plain pread() too.
 */
static void roundtrip(struct tdm_bs *bs, const char *backing)
{
	const uint32_t b = bs->block_size;
	const struct {
		uint64_t off, len;
	} r[] = {
		{0, b},
		{b, 4096},
		{8 * KiB, 64 * KiB},
		{1 * MiB - b, 2ull * b},
		{3 * MiB + 4096, 1 * MiB},
		{bs->size - 128 * KiB, 128 * KiB},
	};
	size_t i, n = sizeof(r) / sizeof(r[0]);
	uint8_t *buf = abuf(2 * MiB);
	int fd;

	for (i = 0; i < n; i++) {
		fill(buf, r[i].off, r[i].len, (unsigned)i);
		assert_int_equal(
			do_io(bs, TDM_BS_WRITE, r[i].off, r[i].len, buf, i & 1),
			TDM_BS_OK);
	}
	for (i = 0; i < n; i++) {
		memset(buf, 0, r[i].len);
		assert_int_equal(
			do_io(bs, TDM_BS_READ, r[i].off, r[i].len, buf, false),
			TDM_BS_OK);
		assert_true(check(buf, r[i].off, r[i].len, (unsigned)i));
	}
	assert_int_equal(do_io(bs, TDM_BS_FLUSH, 0, 0, NULL, false), TDM_BS_OK);
	fd = open(backing, O_RDONLY);
	assert_true(fd >= 0);
	for (i = 0; i < n; i++) {
		assert_int_equal(pread(fd, buf, r[i].len, (off_t)r[i].off),
				 (ssize_t)r[i].len);
		assert_true(check(buf, r[i].off, r[i].len, (unsigned)i));
	}
	close(fd);
	free(buf);
}

static void test_file_rw(void **state)
{
	const struct variant *v = *state;
	char path[300];
	struct tdm_bs bs;

	print_message("variant %s\n", v->name);
	tmp_path(path, sizeof(path), "rw.img");
	make_file(path, FILE_SIZE, true, 0644);
	open_variant(&bs, v, path, false);
	assert_int_equal(bs.size, FILE_SIZE);
	assert_int_equal(bs.write_cache, !v->write_through && !v->nv_cache);
	roundtrip(&bs, path);
	bs.ops->close(&bs);
	unlink(path);
}

/*
 * Holes read as zeros; so does what lies past the end of a file that
 * shrank under the LU, also when the end is not block aligned.
 */
static void test_file_sparse_eof(void **state)
{
	const struct variant *v = *state;
	uint8_t *buf = abuf(64 * KiB);
	char path[300];
	struct tdm_bs bs;

	print_message("variant %s\n", v->name);
	tmp_path(path, sizeof(path), "sparse.img");
	make_file(path, 1 * MiB, true, 0644);
	open_variant(&bs, v, path, false);

	fill(buf, 252 * KiB, 8 * KiB, 7);
	assert_int_equal(
		do_io(&bs, TDM_BS_WRITE, 252 * KiB, 8 * KiB, buf, false),
		TDM_BS_OK);
	memset(buf, 0xaa, 64 * KiB);
	assert_int_equal(do_io(&bs, TDM_BS_READ, 0, 64 * KiB, buf, false),
			 TDM_BS_OK);
	assert_true(all_zero(buf, 64 * KiB));

	assert_int_equal(truncate(path, 256 * KiB + 100), 0);
	memset(buf, 0xaa, 64 * KiB);
	assert_int_equal(
		do_io(&bs, TDM_BS_READ, 252 * KiB, 8 * KiB, buf, false),
		TDM_BS_OK);
	assert_true(check(buf, 252 * KiB, 4 * KiB + 100, 7));
	assert_true(all_zero(buf + 4 * KiB + 100, 4 * KiB - 100));

	memset(buf, 0xaa, 64 * KiB);
	assert_int_equal(
		do_io(&bs, TDM_BS_READ, 512 * KiB, 64 * KiB, buf, false),
		TDM_BS_OK);
	assert_true(all_zero(buf, 64 * KiB));
	bs.ops->close(&bs);
	unlink(path);
	free(buf);
}

/* FUA and FLUSH succeed in every cache mode and the data is there. */
static void test_file_fua_flush(void **state)
{
	static const struct variant *vs[] = {&v_buf512, &v_wt, &v_nv, &v_dio4k};
	uint8_t *buf = abuf(64 * KiB);
	char path[300];
	struct tdm_bs bs;
	size_t i;

	tmp_path(path, sizeof(path), "fua.img");
	for (i = 0; i < sizeof(vs) / sizeof(vs[0]); i++) {
		make_file(path, 1 * MiB, true, 0644);
		open_variant(&bs, vs[i], path, false);
		fill(buf, 64 * KiB, 64 * KiB, 3);
		assert_int_equal(
			do_io(&bs, TDM_BS_WRITE, 64 * KiB, 64 * KiB, buf, true),
			TDM_BS_OK);
		assert_int_equal(do_io(&bs, TDM_BS_FLUSH, 0, 0, NULL, false),
				 TDM_BS_OK);
		memset(buf, 0, 64 * KiB);
		assert_int_equal(
			do_io(&bs, TDM_BS_READ, 64 * KiB, 64 * KiB, buf, false),
			TDM_BS_OK);
		assert_true(check(buf, 64 * KiB, 64 * KiB, 3));
		bs.ops->close(&bs);
	}
	unlink(path);
	free(buf);
}

static void test_file_unmap(void **state)
{
	const uint64_t size = 4 * MiB;
	uint8_t *buf = abuf(size);
	struct stat before, after;
	char path[300];
	struct tdm_bs bs;

	tmp_path(path, sizeof(path), "thin.img");
	make_file(path, size, true, 0644);

	open_variant(&bs, &v_buf512, path, false);
	assert_false(bs.can_unmap);
	assert_int_equal(do_io(&bs, TDM_BS_UNMAP, 0, 4096, NULL, false),
			 TDM_BS_UNSUPPORTED);
	bs.ops->close(&bs);

	open_variant(&bs, &v_buf512, path, true);
	assert_true(bs.can_unmap);
	fill(buf, 0, size, 11);
	assert_int_equal(do_io(&bs, TDM_BS_WRITE, 0, size, buf, false),
			 TDM_BS_OK);
	assert_int_equal(do_io(&bs, TDM_BS_FLUSH, 0, 0, NULL, false),
			 TDM_BS_OK);
	assert_int_equal(stat(path, &before), 0);
	assert_int_equal(
		do_io(&bs, TDM_BS_UNMAP, 1 * MiB, 1 * MiB, NULL, false),
		TDM_BS_OK);
	assert_int_equal(stat(path, &after), 0);
	assert_int_equal(after.st_size, before.st_size);
	/* st_blocks counts 512-byte units: the hole freed the megabyte */
	assert_true(before.st_blocks - after.st_blocks >= (blkcnt_t)2048);

	memset(buf, 0xaa, size);
	assert_int_equal(do_io(&bs, TDM_BS_READ, 0, size, buf, false),
			 TDM_BS_OK);
	assert_true(check(buf, 0, 1 * MiB, 11));
	assert_true(all_zero(buf + 1 * MiB, 1 * MiB));
	assert_true(check(buf + 2 * MiB, 2 * MiB, 2 * MiB, 11));
	bs.ops->close(&bs);

	/* write_through: the punch and the zero range are made stable
	 * (fdatasync) before they complete */
	open_variant(&bs, &v_wt, path, true);
	assert_true(bs.can_unmap);
	assert_int_equal(do_io(&bs, TDM_BS_UNMAP, 0, 1 * MiB, NULL, false),
			 TDM_BS_OK);
	assert_int_equal(
		do_io(&bs, TDM_BS_WRITE_ZEROES, 2 * MiB, 64 * KiB, NULL, false),
		TDM_BS_OK);
	memset(buf, 0xaa, size);
	assert_int_equal(do_io(&bs, TDM_BS_READ, 0, size, buf, false),
			 TDM_BS_OK);
	assert_true(all_zero(buf, 2 * MiB));
	assert_true(all_zero(buf + 2 * MiB, 64 * KiB));
	assert_true(check(buf + 2 * MiB + 64 * KiB, 2 * MiB + 64 * KiB,
			  2 * MiB - 64 * KiB, 11));
	bs.ops->close(&bs);
	unlink(path);
	free(buf);
}

/* WRITE_ZEROES; on tmpfs (no FALLOC_FL_ZERO_RANGE) by writing zeros. */
static void write_zeroes_in(const char *dir)
{
	uint8_t *buf = abuf(1 * MiB);
	char path[300];
	struct tdm_bs bs;

	snprintf(path, sizeof(path), "%s/tdm-zero-%d.img", dir, (int)getpid());
	make_file(path, 4 * MiB, true, 0644);
	open_variant(&bs, &v_buf4k, path, false);
	fill(buf, 1 * MiB, 1 * MiB, 5);
	assert_int_equal(do_io(&bs, TDM_BS_WRITE, 1 * MiB, 1 * MiB, buf, false),
			 TDM_BS_OK);
	/* 1.5 MiB: more than one write of the fallback's zero buffer */
	assert_int_equal(do_io(&bs, TDM_BS_WRITE_ZEROES, 1 * MiB + 64 * KiB,
			       1536 * KiB, NULL, false),
			 TDM_BS_OK);
	memset(buf, 0xaa, 1 * MiB);
	assert_int_equal(do_io(&bs, TDM_BS_READ, 1 * MiB, 1 * MiB, buf, false),
			 TDM_BS_OK);
	assert_true(check(buf, 1 * MiB, 64 * KiB, 5));
	assert_true(all_zero(buf + 64 * KiB, 1 * MiB - 64 * KiB));
	bs.ops->close(&bs);
	unlink(path);
	free(buf);
}

static void test_file_write_zeroes(void **state)
{
	struct stat st;

	write_zeroes_in(tmpdir);
	if (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode))
		write_zeroes_in("/dev/shm");
	else
		print_message("note: no /dev/shm, WRITE_ZEROES fallback "
			      "not exercised\n");
}

/*
 * Many I/Os in flight on one ring, completions in any order: n writes of
 * distinct blocks (a shuffled order, mixed sizes), then n reads.
 */
static void concurrent(struct tdm_bs *bs, unsigned n)
{
	const uint64_t unit = 8 * KiB; /* each I/O owns one 8 KiB slot */
	struct tdm_bs_io *ios = calloc(n, sizeof(*ios));
	struct res *res = calloc(n, sizeof(*res));
	unsigned *slot = calloc(n, sizeof(*slot));
	uint8_t *bufs = abuf(n * unit);
	struct batch b;
	unsigned i;

	assert_true(ios && res && slot);
	assert_true(n * unit <= bs->size);
	for (i = 0; i < n; i++)
		slot[i] = i;
	srand(42);
	for (i = n - 1; i > 0; i--) {
		unsigned j = (unsigned)rand() % (i + 1), t = slot[i];

		slot[i] = slot[j];
		slot[j] = t;
	}
	for (i = 0; i < n; i++) {
		ios[i] = (struct tdm_bs_io){
			.op = TDM_BS_WRITE,
			.fua = i % 7 == 0,
			.offset = slot[i] * unit,
			.len = i % 3 ? 4096 : unit,
			.buf = bufs + i * unit,
		};
		fill(ios[i].buf, ios[i].offset, ios[i].len, i);
	}
	batch_init(&b, bs, ios, res, n);
	batch_run(&b);
	for (i = 0; i < n; i++)
		assert_int_equal(res[i].st, TDM_BS_OK);

	memset(bufs, 0, n * unit);
	for (i = 0; i < n; i++)
		ios[i].op = TDM_BS_READ;
	batch_init(&b, bs, ios, res, n);
	batch_run(&b);
	for (i = 0; i < n; i++) {
		assert_int_equal(res[i].st, TDM_BS_OK);
		assert_true(check(ios[i].buf, ios[i].offset, ios[i].len, i));
	}
	free(ios);
	free(res);
	free(slot);
	free(bufs);
}

static void test_file_concurrent(void **state)
{
	const struct variant *v = *state;
	char path[300];
	struct tdm_bs bs;

	print_message("variant %s\n", v->name);
	tmp_path(path, sizeof(path), "qd.img");
	make_file(path, 16 * MiB, true, 0644);
	open_variant(&bs, v, path, false);
	concurrent(&bs, 256);
	/* more than the ring's 1024 SQEs queued in one loop iteration */
	concurrent(&bs, 1500);
	bs.ops->close(&bs);
	unlink(path);
}

/*
 * One I/O on loop l without cmocka (for other threads and forked
 * children): the status, or -1 if it did not complete in 60 s.
 */
struct plain {
	struct tdm_bs *bs;
	struct tdm_bs_io io;
	int st;
};

static void plain_done(struct tdm_bs_io *io, enum tdm_bs_status st)
{
	struct plain *p = io->arg;

	p->st = (int)st;
}

static void plain_submit(void *arg)
{
	struct plain *p = arg;

	p->bs->ops->submit(p->bs, &p->io);
}

static int plain_io(struct tdm_loop *l, struct tdm_bs *bs, uint8_t op,
		    uint64_t off, uint64_t len, void *buf)
{
	uint64_t deadline = tdm_now_ns() + 60 * 1000000000ull;
	struct plain p = {
		.bs = bs,
		.io = {.op = op,
		       .offset = off,
		       .len = len,
		       .buf = buf,
		       .done = plain_done,
		       .arg = &p},
		.st = -1,
	};

	tdm_loop_post(l, plain_submit, &p);
	while (p.st < 0 && tdm_now_ns() < deadline)
		tdm_loop_run_once(l, 100);
	return p.st;
}

/* Two loops on two threads share one file LU. */
struct thread_arg {
	struct tdm_bs *bs;
	uint64_t base;
	int failures;
};

static void *loop_thread(void *arg)
{
	struct thread_arg *a = arg;
	struct tdm_loop *l = tdm_loop_new();
	uint8_t *buf = aligned_alloc(4096, 64 * KiB);
	unsigned i;

	if (!l || !buf) {
		a->failures++;
		return NULL;
	}
	for (i = 0; i < 64; i++) {
		uint8_t op = i % 2 ? TDM_BS_READ : TDM_BS_WRITE;
		uint64_t off = a->base + (i / 2 % 8) * 64 * KiB;

		if (op == TDM_BS_WRITE)
			fill(buf, off, 64 * KiB, 9);
		else
			memset(buf, 0, 64 * KiB);
		if (plain_io(l, a->bs, op, off, 64 * KiB, buf) != TDM_BS_OK ||
		    (op == TDM_BS_READ && !check(buf, off, 64 * KiB, 9)))
			a->failures++;
	}
	free(buf);
	tdm_loop_free(l);
	return NULL;
}

static void test_file_two_loops(void **state)
{
	struct thread_arg a[2];
	pthread_t t[2];
	char path[300];
	struct tdm_bs bs;
	int i;

	tmp_path(path, sizeof(path), "two.img");
	make_file(path, 2 * MiB, true, 0644);
	open_variant(&bs, &v_dio4k, path, false);
	for (i = 0; i < 2; i++) {
		a[i] = (struct thread_arg){&bs, (uint64_t)i * MiB, 0};
		assert_int_equal(
			pthread_create(&t[i], NULL, loop_thread, &a[i]), 0);
	}
	for (i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(a[i].failures, 0);
	}
	bs.ops->close(&bs);
	unlink(path);
}

/*
 * ENOSPC -> TDM_BS_NO_SPACE: a sparse file larger than the 1 MiB tmpfs
 * it lives on, in a private mount namespace of a child (77 = none here).
 */
static void test_file_enospc(void **state)
{
	char dir[300], path[320];
	pid_t pid;
	int st;

	tmp_path(dir, sizeof(dir), "full");
	snprintf(path, sizeof(path), "%s/disk.img", dir);
	assert_int_equal(mkdir(dir, 0755), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct tdm_conf_device c;
		struct tdm_loop *l;
		char err[ERRLEN];
		struct tdm_bs bs;
		uint8_t *buf;
		int fd, rc;

		if (unshare(CLONE_NEWNS) ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
		    mount("tmpfs", dir, "tmpfs", 0, "size=1m"))
			_exit(77);
		fd = open(path, O_RDWR | O_CREAT, 0644);
		if (fd < 0 || ftruncate(fd, 8 << 20))
			_exit(1);
		close(fd);
		conf_init(&c, TDM_HANDLER_FILEIO, path, 0);
		l = tdm_loop_new();
		buf = aligned_alloc(4096, 2 * MiB);
		if (!l || !buf || bs_open(&bs, &c, err))
			_exit(1);
		memset(buf, 0x5a, 2 * MiB);
		rc = plain_io(l, &bs, TDM_BS_WRITE, 0, 2 * MiB, buf);
		if (rc != TDM_BS_NO_SPACE) {
			fprintf(stderr, "write to a full fs: status %d\n", rc);
			_exit(1);
		}
		rc = plain_io(l, &bs, TDM_BS_WRITE_ZEROES, 4 * MiB, 2 * MiB,
			      NULL);
		if (rc != TDM_BS_OK && rc != TDM_BS_NO_SPACE) {
			fprintf(stderr, "write zeroes: status %d\n", rc);
			_exit(1);
		}
		bs.ops->close(&bs);
		tdm_loop_free(l);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	rmdir(dir);
	assert_true(WIFEXITED(st));
	if (WEXITSTATUS(st) == 77) {
		print_message("skip: no private mount namespace for a small "
			      "tmpfs\n");
		skip();
	}
	assert_int_equal(WEXITSTATUS(st), 0);
}

/* ---- vdisk_blockio on a loop device ---- */

static int run_cmd(const char *cmd, char *out, size_t outlen)
{
	FILE *p = popen(cmd, "r");
	size_t n = 0;
	int st;

	if (!p)
		return -1;
	if (out) {
		n = fread(out, 1, outlen - 1, p);
		out[n] = 0;
		while (n && (out[n - 1] == '\n' || out[n - 1] == ' '))
			out[--n] = 0;
	}
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int block_setup(void **state)
{
	char cmd[400], out[256];

	snprintf(loopfile, sizeof(loopfile), "%s/loop-backing.img", tmpdir);
	make_file(loopfile, 16 * MiB, true, 0644);
	if (run_cmd("command -v losetup >/dev/null 2>&1", NULL, 0) != 0) {
		no_loop_reason = "losetup(8) is not installed";
		return 0;
	}
	snprintf(cmd, sizeof(cmd), "losetup -f --show '%s' 2>&1", loopfile);
	if (run_cmd(cmd, out, sizeof(out)) != 0 ||
	    strncmp(out, "/dev/", 5) != 0) {
		static char why[300];

		snprintf(why, sizeof(why), "losetup -f --show failed: %s", out);
		no_loop_reason = why;
		return 0;
	}
	snprintf(loopdev, sizeof(loopdev), "%s", out);
	return 0;
}

static int block_teardown(void **state)
{
	char cmd[300];

	if (loopdev[0]) {
		snprintf(cmd, sizeof(cmd), "losetup -d %s", loopdev);
		run_cmd(cmd, NULL, 0);
		loopdev[0] = 0;
	}
	unlink(loopfile);
	return 0;
}

static void need_loopdev(void)
{
	if (!loopdev[0]) {
		print_message("skip: no loop block device: %s\n",
			      no_loop_reason);
		skip();
	}
}

static void open_block(struct tdm_bs *bs, uint32_t blocksize, bool thin,
		       bool write_through)
{
	struct tdm_conf_device c;
	char err[ERRLEN];

	conf_init(&c, TDM_HANDLER_BLOCKIO, loopdev, 0);
	c.blocksize = blocksize;
	c.thin_provisioned = thin;
	c.write_through = write_through;
	if (bs_open(bs, &c, err)) {
		print_message("%s\n", err);
		fail();
	}
}

static void test_block_open_errors(void **state)
{
	struct tdm_conf_device c;
	char path[300], err[ERRLEN];
	struct tdm_bs bs, bs2;

	tmp_path(path, sizeof(path), "not-a-bdev.img");
	make_file(path, 1 * MiB, true, 0644);
	conf_init(&c, TDM_HANDLER_BLOCKIO, path, 0);
	assert_int_equal(bs_open(&bs, &c, err), -ENOTBLK);
	assert_non_null(strstr(err, "not a block device; use vdisk_fileio"));
	unlink(path);

	conf_init(&c, TDM_HANDLER_BLOCKIO, "/dev/null", 0);
	assert_int_equal(bs_open(&bs, &c, err), -ENOTBLK);
	assert_non_null(strstr(err, "not a block device"));

	tmp_path(path, sizeof(path), "missing-bdev");
	conf_init(&c, TDM_HANDLER_BLOCKIO, path, 0);
	assert_int_equal(bs_open(&bs, &c, err), -ENOENT);
	assert_non_null(strstr(err, "No such file or directory"));

	need_loopdev();
	conf_init(&c, TDM_HANDLER_BLOCKIO, loopdev, 32 * MiB);
	assert_int_equal(bs_open(&bs, &c, err), -EINVAL);
	assert_non_null(strstr(err, "device too small"));

	c.size = 0;
	c.blocksize = 1024;
	assert_int_equal(bs_open(&bs, &c, err), -EINVAL);
	assert_non_null(strstr(err, "blocksize=1024"));

	/* blocksize 0: the device's (a loop device: 512) */
	c.blocksize = 0;
	c.size = 1 * MiB + 1000;
	assert_int_equal(bs_open(&bs, &c, err), 0);
	assert_int_equal(bs.block_size, 512);
	assert_int_equal(bs.size, 1 * MiB + 512);
	assert_true(bs.write_cache);
	assert_int_equal(fd_flags(&bs) & O_DIRECT, O_DIRECT);

	/* O_EXCL: a second writer of the same device is refused */
	assert_int_equal(bs_open(&bs2, &c, err), -EBUSY);
	assert_non_null(strstr(err, "in use"));
	bs.ops->close(&bs);

	c.size = 0;
	c.blocksize = 4096;
	c.nv_cache = true;
	assert_int_equal(bs_open(&bs, &c, err), 0);
	assert_int_equal(bs.size, 16 * MiB);
	assert_false(bs.write_cache);
	bs.ops->close(&bs);
}

static void test_block_rw(void **state)
{
	struct tdm_bs bs;

	need_loopdev();
	open_block(&bs, 0, false, false);
	roundtrip(&bs, loopfile);
	bs.ops->close(&bs);

	open_block(&bs, 4096, false, true);
	assert_false(bs.write_cache);
	assert_int_equal(fd_flags(&bs) & O_DSYNC, O_DSYNC);
	roundtrip(&bs, loopfile);
	bs.ops->close(&bs);
}

/*
 * Does loopdev discard? Asked of the device itself, BLKDISCARD of its
 * last MiB (no test writes there), not of sysfs as block.c does, so
 * that a blockio backstore that wrongly decides it cannot fails the
 * test instead of skipping it. why: the reason when not.
 */
static bool loop_discards(char *why, size_t len)
{
	uint64_t range[2] = {15 * MiB, 1 * MiB}; /* offset, length */
	int fd = open(loopdev, O_RDWR | O_CLOEXEC);
	bool ok;

	assert_true(fd >= 0);
	ok = ioctl(fd, BLKDISCARD, range) == 0;
	if (!ok)
		snprintf(why, len, "%s does not discard: BLKDISCARD: %s",
			 loopdev, strerror(errno));
	close(fd);
	return ok;
}

/* Without thin_provisioned=1: no UNMAP; WRITE_ZEROES writes zeros. */
static void test_block_write_zeroes(void **state)
{
	uint8_t *buf = abuf(2 * MiB);
	struct tdm_bs bs;

	need_loopdev();
	open_block(&bs, 4096, false, false);
	assert_false(bs.can_unmap);
	assert_int_equal(do_io(&bs, TDM_BS_UNMAP, 0, 4096, NULL, false),
			 TDM_BS_UNSUPPORTED);

	fill(buf, 2 * MiB, 2 * MiB, 21);
	assert_int_equal(do_io(&bs, TDM_BS_WRITE, 2 * MiB, 2 * MiB, buf, false),
			 TDM_BS_OK);
	assert_int_equal(do_io(&bs, TDM_BS_WRITE_ZEROES, 2 * MiB + 4096,
			       64 * KiB, NULL, false),
			 TDM_BS_OK);
	memset(buf, 0xaa, 2 * MiB);
	assert_int_equal(do_io(&bs, TDM_BS_READ, 2 * MiB, 2 * MiB, buf, false),
			 TDM_BS_OK);
	assert_true(check(buf, 2 * MiB, 4096, 21));
	assert_true(all_zero(buf + 4096, 64 * KiB));
	assert_true(check(buf + 4096 + 64 * KiB, 2 * MiB + 4096 + 64 * KiB,
			  2 * MiB - 4096 - 64 * KiB, 21));
	bs.ops->close(&bs);
	free(buf);
}

/* With thin_provisioned=1 on a device that discards: UNMAP. */
static void test_block_unmap(void **state)
{
	struct tdm_bs bs;
	char why[300];
	uint8_t *buf;

	need_loopdev();
	if (!loop_discards(why, sizeof(why))) {
		print_message("skip: %s\n", why);
		skip();
	}
	open_block(&bs, 4096, true, false);
	if (!bs.can_unmap) {
		bs.ops->close(&bs);
		fail_msg("%s discards, yet blockio with thin_provisioned=1 "
			 "cannot unmap",
			 loopdev);
	}
	buf = abuf(2 * MiB);
	fill(buf, 2 * MiB, 2 * MiB, 21);
	assert_int_equal(do_io(&bs, TDM_BS_WRITE, 2 * MiB, 2 * MiB, buf, false),
			 TDM_BS_OK);
	/*
	 * A loop device discards by punching a hole in its file, so the
	 * range reads back as zeros (a real disk need not: no LBPRZ).
	 */
	assert_int_equal(do_io(&bs, TDM_BS_UNMAP, 2 * MiB + 1 * MiB, 512 * KiB,
			       NULL, false),
			 TDM_BS_OK);
	memset(buf, 0xaa, 2 * MiB);
	assert_int_equal(do_io(&bs, TDM_BS_READ, 2 * MiB, 2 * MiB, buf, false),
			 TDM_BS_OK);
	assert_true(check(buf, 2 * MiB, 1 * MiB, 21));
	assert_true(all_zero(buf + 1 * MiB, 512 * KiB));
	assert_true(
		check(buf + 1536 * KiB, 2 * MiB + 1536 * KiB, 512 * KiB, 21));
	bs.ops->close(&bs);
	free(buf);
}

static void test_block_concurrent(void **state)
{
	struct tdm_bs bs;

	need_loopdev();
	open_block(&bs, 4096, false, false);
	concurrent(&bs, 512);
	assert_int_equal(do_io(&bs, TDM_BS_FLUSH, 0, 0, NULL, false),
			 TDM_BS_OK);
	bs.ops->close(&bs);
}

/* ---- vdisk_nullio ---- */

static void nop_done(struct tdm_bs_io *io, enum tdm_bs_status st)
{
	*(int *)io->arg = (int)st;
}

/* submit() completes before returning: no loop needed. */
static int sync_io(struct tdm_bs *bs, uint8_t op, uint64_t off, uint64_t len,
		   void *buf)
{
	int st = -1;
	struct tdm_bs_io io = {.op = op,
			       .offset = off,
			       .len = len,
			       .buf = buf,
			       .done = nop_done,
			       .arg = &st};

	bs->ops->submit(bs, &io);
	return st;
}

static void test_null(void **state)
{
	struct tdm_conf_device c;
	uint8_t *buf = abuf(64 * KiB);
	char err[ERRLEN];
	struct tdm_bs bs;

	conf_init(&c, TDM_HANDLER_NULLIO, NULL, 0);
	assert_int_equal(bs_open(&bs, &c, err), -EINVAL);
	assert_non_null(strstr(err, "needs size="));
	c.size = 1 * MiB;
	c.blocksize = 520;
	assert_int_equal(bs_open(&bs, &c, err), -EINVAL);
	assert_non_null(strstr(err, "blocksize=520"));

	c.blocksize = 4096;
	c.size = 1ull << 40; /* 1 TiB of nothing */
	assert_int_equal(bs_open(&bs, &c, err), 0);
	assert_int_equal(bs.size, 1ull << 40);
	assert_int_equal(bs.block_size, 4096);
	assert_false(bs.write_cache);

	memset(buf, 0xaa, 64 * KiB);
	assert_int_equal(sync_io(&bs, TDM_BS_WRITE, 0, 64 * KiB, buf),
			 TDM_BS_OK);
	assert_int_equal(sync_io(&bs, TDM_BS_READ, 0, 64 * KiB, buf),
			 TDM_BS_OK);
	assert_true(all_zero(buf, 64 * KiB));
	assert_int_equal(sync_io(&bs, TDM_BS_FLUSH, 0, 0, NULL), TDM_BS_OK);
	/* through the loop as well */
	assert_int_equal(do_io(&bs, TDM_BS_READ, 4096, 4096, buf, false),
			 TDM_BS_OK);
	bs.ops->close(&bs);
	free(buf);
}

/* ---- ram ---- */

static long rss_pages(void)
{
	long size = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (!f)
		return -1;
	if (fscanf(f, "%ld %ld", &size, &rss) != 2)
		rss = -1;
	fclose(f);
	return rss;
}

static void open_ram(struct tdm_bs *bs, uint64_t size, bool thin)
{
	struct tdm_conf_device c;
	char err[ERRLEN];

	conf_init(&c, TDM_HANDLER_RAM, NULL, size);
	c.thin_provisioned = thin;
	if (bs_open(bs, &c, err)) {
		print_message("%s\n", err);
		fail();
	}
}

static void test_ram_open(void **state)
{
	struct tdm_conf_device c;
	char err[ERRLEN];
	struct tdm_bs bs;
	long before;

	conf_init(&c, TDM_HANDLER_RAM, NULL, 0);
	assert_int_equal(bs_open(&bs, &c, err), -EINVAL);
	assert_non_null(strstr(err, "needs size="));
	c.size = 1 * MiB;
	c.blocksize = 2048;
	assert_int_equal(bs_open(&bs, &c, err), -EINVAL);

	/* 64 GiB: reserved, not committed */
	before = rss_pages();
	open_ram(&bs, 64ull << 30, false);
	assert_int_equal(bs.size, 64ull << 30);
	assert_true(rss_pages() - before < (long)(64 * MiB / 4096));
	bs.ops->close(&bs);
}

static void test_ram_rw(void **state)
{
	uint8_t *buf = abuf(3 * MiB);
	struct tdm_bs bs;
	const struct {
		uint64_t off, len;
	} r[] = {
		{0, 512},
		{4096, 4096},
		{1 * MiB - 4096, 8192}, /* across a chunk boundary */
		{5 * MiB + 512, 2 * MiB + 1024},
		{32 * MiB - 4096, 4096},
	};
	size_t i, n = sizeof(r) / sizeof(r[0]);

	open_ram(&bs, 32 * MiB, false);
	/* never written: zeros */
	memset(buf, 0xaa, 3 * MiB);
	assert_int_equal(sync_io(&bs, TDM_BS_READ, 8 * MiB, 3 * MiB, buf),
			 TDM_BS_OK);
	assert_true(all_zero(buf, 3 * MiB));
	for (i = 0; i < n; i++) {
		fill(buf, r[i].off, r[i].len, (unsigned)i);
		assert_int_equal(
			sync_io(&bs, TDM_BS_WRITE, r[i].off, r[i].len, buf),
			TDM_BS_OK);
	}
	for (i = 0; i < n; i++) {
		memset(buf, 0, r[i].len);
		assert_int_equal(
			sync_io(&bs, TDM_BS_READ, r[i].off, r[i].len, buf),
			TDM_BS_OK);
		assert_true(check(buf, r[i].off, r[i].len, (unsigned)i));
	}
	/* a read over written and never-written chunks */
	memset(buf, 0xaa, 3 * MiB);
	assert_int_equal(sync_io(&bs, TDM_BS_READ, 4 * MiB, 3 * MiB, buf),
			 TDM_BS_OK);
	assert_true(all_zero(buf, 1 * MiB + 512));
	assert_true(
		check(buf + 1 * MiB + 512, 5 * MiB + 512, 2 * MiB - 512, 3));
	assert_int_equal(sync_io(&bs, TDM_BS_FLUSH, 0, 0, NULL), TDM_BS_OK);
	/* past the end: refused, nothing touched */
	assert_int_equal(sync_io(&bs, TDM_BS_WRITE, 32 * MiB - 512, 1024, buf),
			 TDM_BS_WRITE_ERROR);
	assert_int_equal(sync_io(&bs, TDM_BS_READ, UINT64_MAX - 511, 1024, buf),
			 TDM_BS_READ_ERROR);
	/* and through the loop */
	assert_int_equal(do_io(&bs, TDM_BS_READ, 4096, 4096, buf, false),
			 TDM_BS_OK);
	assert_true(check(buf, 4096, 4096, 1));
	bs.ops->close(&bs);
	free(buf);
}

static void test_ram_unmap(void **state)
{
	const uint64_t size = 64 * MiB;
	uint8_t *buf = abuf(size);
	struct tdm_bs bs;
	long full, freed;

	open_ram(&bs, size, false);
	assert_int_equal(sync_io(&bs, TDM_BS_UNMAP, 0, 4096, NULL),
			 TDM_BS_UNSUPPORTED);
	bs.ops->close(&bs);

	open_ram(&bs, size, true);
	assert_true(bs.can_unmap);
	fill(buf, 0, size, 13);
	assert_int_equal(sync_io(&bs, TDM_BS_WRITE, 0, size, buf), TDM_BS_OK);
	full = rss_pages();
	/* unaligned both ends: partial pages zeroed, whole ones freed */
	assert_int_equal(sync_io(&bs, TDM_BS_UNMAP, 512, size - 1024, NULL),
			 TDM_BS_OK);
	freed = rss_pages();
	assert_true(full - freed > (long)(48 * MiB / 4096));
	memset(buf, 0xaa, size);
	assert_int_equal(sync_io(&bs, TDM_BS_READ, 0, size, buf), TDM_BS_OK);
	assert_true(check(buf, 0, 512, 13));
	assert_true(all_zero(buf + 512, size - 1024));
	assert_true(check(buf + size - 512, size - 512, 512, 13));

	/* the freed pages take writes again */
	fill(buf, 8 * MiB, 4096, 14);
	assert_int_equal(sync_io(&bs, TDM_BS_WRITE, 8 * MiB, 4096, buf),
			 TDM_BS_OK);
	assert_int_equal(
		sync_io(&bs, TDM_BS_WRITE_ZEROES, 8 * MiB + 1024, 1024, NULL),
		TDM_BS_OK);
	memset(buf, 0, 4096);
	assert_int_equal(sync_io(&bs, TDM_BS_READ, 8 * MiB, 4096, buf),
			 TDM_BS_OK);
	assert_true(check(buf, 8 * MiB, 1024, 14));
	assert_true(all_zero(buf + 1024, 1024));
	assert_true(check(buf + 2048, 8 * MiB + 2048, 2048, 14));
	bs.ops->close(&bs);
	free(buf);
}

/*
 * Threads write and read interleaved blocks of the same chunks (thread t
 * owns the blocks b with b % N == t) while another thread unmaps a
 * region of its own: no lock, no lost or torn data.
 */
#define RAM_THREADS 6
struct ram_arg {
	struct tdm_bs *bs;
	unsigned t;
	int failures;
};

static void *ram_worker(void *arg)
{
	struct ram_arg *a = arg;
	uint8_t *buf = aligned_alloc(4096, 4096);
	unsigned round, blk;

	for (round = 0; buf && round < 4; round++) {
		for (blk = a->t; blk < 2048; blk += RAM_THREADS) {
			uint64_t off = (uint64_t)blk * 4096;

			fill(buf, off, 4096, round);
			if (sync_io(a->bs, TDM_BS_WRITE, off, 4096, buf))
				a->failures++;
		}
		for (blk = a->t; blk < 2048; blk += RAM_THREADS) {
			uint64_t off = (uint64_t)blk * 4096;

			if (sync_io(a->bs, TDM_BS_READ, off, 4096, buf) ||
			    !check(buf, off, 4096, round))
				a->failures++;
		}
	}
	free(buf);
	return NULL;
}

static void *ram_unmapper(void *arg)
{
	struct ram_arg *a = arg;
	uint8_t *buf = aligned_alloc(4096, 64 * KiB);
	unsigned i;

	for (i = 0; buf && i < 200; i++) {
		fill(buf, 0, 64 * KiB, i);
		if (sync_io(a->bs, TDM_BS_WRITE, 8 * MiB + (i % 16) * 64 * KiB,
			    64 * KiB, buf) ||
		    sync_io(a->bs, TDM_BS_UNMAP, 8 * MiB, 1 * MiB, NULL))
			a->failures++;
	}
	free(buf);
	return NULL;
}

static void test_ram_threads(void **state)
{
	struct ram_arg a[RAM_THREADS + 1];
	pthread_t t[RAM_THREADS + 1];
	struct tdm_bs bs;
	unsigned i;

	open_ram(&bs, 16 * MiB, true);
	for (i = 0; i <= RAM_THREADS; i++) {
		a[i] = (struct ram_arg){&bs, i, 0};
		assert_int_equal(pthread_create(&t[i], NULL,
						i < RAM_THREADS ? ram_worker
								: ram_unmapper,
						&a[i]),
				 0);
	}
	for (i = 0; i <= RAM_THREADS; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(a[i].failures, 0);
	}
	bs.ops->close(&bs);
}

/* ---- main ---- */

static int group_setup(void **state)
{
	const char *base = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/tdm-bs-XXXXXX",
		 base && *base ? base : "/var/tmp");
	if (!mkdtemp(tmpdir))
		return -1;
	loop = tdm_loop_new();
	return loop ? 0 : -1;
}

static int group_teardown(void **state)
{
	tdm_loop_free(loop);
	loop = NULL;
	rmdir(tmpdir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registry),
		cmocka_unit_test(test_file_open_errors),
		cmocka_unit_test(test_file_open_eacces),
		cmocka_unit_test(test_file_open_erofs),
		cmocka_unit_test(test_file_geometry),
		cmocka_unit_test_prestate(test_file_rw, (void *)&v_buf512),
		cmocka_unit_test_prestate(test_file_rw, (void *)&v_buf4k),
		cmocka_unit_test_prestate(test_file_rw, (void *)&v_dio512),
		cmocka_unit_test_prestate(test_file_rw, (void *)&v_dio4k),
		cmocka_unit_test_prestate(test_file_rw, (void *)&v_wt),
		cmocka_unit_test_prestate(test_file_rw, (void *)&v_nv),
		cmocka_unit_test_prestate(test_file_rw, (void *)&v_dio_wt),
		cmocka_unit_test_prestate(test_file_sparse_eof,
					  (void *)&v_buf512),
		cmocka_unit_test_prestate(test_file_sparse_eof,
					  (void *)&v_dio512),
		cmocka_unit_test(test_file_fua_flush),
		cmocka_unit_test(test_file_unmap),
		cmocka_unit_test(test_file_write_zeroes),
		cmocka_unit_test_prestate(test_file_concurrent,
					  (void *)&v_buf4k),
		cmocka_unit_test_prestate(test_file_concurrent,
					  (void *)&v_dio4k),
		cmocka_unit_test(test_file_two_loops),
		cmocka_unit_test(test_file_enospc),
		cmocka_unit_test_setup_teardown(test_block_open_errors,
						block_setup, block_teardown),
		cmocka_unit_test_setup_teardown(test_block_rw, block_setup,
						block_teardown),
		cmocka_unit_test_setup_teardown(test_block_write_zeroes,
						block_setup, block_teardown),
		cmocka_unit_test_setup_teardown(test_block_unmap, block_setup,
						block_teardown),
		cmocka_unit_test_setup_teardown(test_block_concurrent,
						block_setup, block_teardown),
		cmocka_unit_test(test_null),
		cmocka_unit_test(test_ram_open),
		cmocka_unit_test(test_ram_rw),
		cmocka_unit_test(test_ram_unmap),
		cmocka_unit_test(test_ram_threads),
		cmocka_unit_test(test_rbd_open_errors),
	};

	return cmocka_run_group_tests_name("backstores", tests, group_setup,
					   group_teardown);
}
