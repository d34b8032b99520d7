/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * writefile.h - writing files whole, and where persistent state lives
 * (lib/writefile.c).
 */
#ifndef TANDEM_LIB_WRITEFILE_H
#define TANDEM_LIB_WRITEFILE_H

#include <stddef.h>

/* Write all n bytes (EINTR retried); 0 or -errno. */
int tdm_write_all(int fd, const void *buf, size_t n);
/*
 * Replace the file at path with a + b, atomically: a temporary file in
 * the same directory, fsync, rename, fsync of the directory. The new file
 * is 0600 (configurations hold CHAP secrets, reservations initiators'
 * keys), or with TDM_FILE_KEEP_MODE the mode of the file it replaces;
 * TDM_FILE_BACKUP keeps the old file as path.bak (a hard link: path
 * exists at every moment). 0 or -errno; an error of the last fsync comes
 * after the rename (the new file is in place, maybe not yet durable).
 */
#define TDM_FILE_KEEP_MODE (1u << 0)
#define TDM_FILE_BACKUP (1u << 1)
int tdm_file_replace(const char *path, const void *a, size_t alen,
		     const void *b, size_t blen, unsigned flags);

/* Write this process's pid ("%ld\n") to path, replaced atomically (a
 * reader sees the old file or the whole new one), mode 0644: the daemons'
 * --pidfile, which the Pacemaker agent (ra/target) reads. 0 or -errno. */
int tdm_pidfile_write(const char *path);

/* The directory of persistent state: $TANDEM_STATE_DIR, default
 * /var/lib/tandem; the variable is read once. */
const char *tdm_state_dir(void);

#endif
