/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * conf_edit_ops.h - one tandemctl edit command as data: its action name
 * ("add_lun"), its modifiers (-target, -group, -device, ...), its
 * argument and its attributes; applying it to a configuration (the one
 * dispatch over conf/conf_edit.c that tandemctl and tandemd share), which
 * edits are shared by the heads of a cluster, and a canonical, versioned
 * binary encoding (tandemctl -> tandemd EDIT, and the cluster's ordered
 * event).
 *
 * Encoding, version 1 (integers big-endian; "bytes" = u32 length + data;
 * "str" = bytes holding no NUL, at most 1024):
 *   bytes magic "TDME", u16 version, u64 tag (0 from tandemctl; tandemd
 *   puts its own to find the waiting client), str action, u8 modifier
 *   mask (TDM_EDIT_M_*), one str per modifier bit set except
 *   TDM_EDIT_M_ATTRS (in bit order), u8 has_arg, [str arg], u32 n
 *   attributes (at most TDM_EDIT_ATTRS_MAX; 0 unless TDM_EDIT_M_ATTRS),
 *   n x (str key, str value). Nothing may follow.
 */
#ifndef TANDEM_CTL_CONF_EDIT_OPS_H
#define TANDEM_CTL_CONF_EDIT_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/conf_edit.h"

#define TDM_EDIT_VERSION 1
#define TDM_EDIT_ATTRS_MAX 256u
#define TDM_EDIT_ACTION_MAX 32u

/* Modifier bits (tandemctl's) and their slots in struct tdm_edit.mod. */
enum {
	TDM_EDIT_M_HANDLER = 1 << 0,
	TDM_EDIT_M_ATTRS = 1 << 1,
	TDM_EDIT_M_DRIVER = 1 << 2,
	TDM_EDIT_M_TARGET = 1 << 3,
	TDM_EDIT_M_GROUP = 1 << 4,
	TDM_EDIT_M_DEVICE = 1 << 5,
	TDM_EDIT_M_DEV_GROUP = 1 << 6,
	TDM_EDIT_M_ALL = (1 << 7) - 1,
};
#define TDM_EDIT_NMOD 7

struct tdm_edit {
	uint64_t tag;
	char action[TDM_EDIT_ACTION_MAX]; /* without the '-' */
	unsigned mods;			  /* TDM_EDIT_M_* given */
	char *mod[TDM_EDIT_NMOD]; /* by bit index; [1] (attributes) unused */
	char *arg;		  /* NULL: none */
	struct tdm_attrs attrs;
};

enum tdm_edit_scope {
	TDM_EDIT_SCOPE_NONE,   /* not an edit action */
	TDM_EDIT_SCOPE_LOCAL,  /* node-local: this head only */
	TDM_EDIT_SCOPE_SHARED, /* ordered and applied on every head */
	TDM_EDIT_SCOPE_MIXED,  /* refused: shared and local attributes */
};

/* Is action an edit ("add_lun"); need/allow: its modifiers. */
bool tdm_edit_action(const char *action, unsigned *need, unsigned *allow);
/* Shared or node-local; MIXED with a message saying how to split it. */
enum tdm_edit_scope tdm_edit_scope(const struct tdm_edit *e, char *err,
				   size_t errlen);
/* Apply e to c (conf/conf_edit.c); 0 or -errno with a message; on error
 * c is unchanged. */
int tdm_edit_apply(struct tdm_conf *c, const struct tdm_edit *e, char *err,
		   size_t errlen);
/* "-add_lun 3 -target T -device D" (for logs), truncated to len. */
const char *tdm_edit_describe(const struct tdm_edit *e, char *buf, size_t len);

/* *out malloc'ed. 0, -ENOMEM, -ENAMETOOLONG (a string over 1024 bytes),
 * -E2BIG (too many attributes), -EINVAL (not an edit action). */
int tdm_edit_encode(const struct tdm_edit *e, uint8_t **out, size_t *len);
/* Decode and validate (the action is an edit, its modifiers are what it
 * needs and allows); 0 or -EBADMSG / -EPROTO (version) / -ENOMEM with a
 * message; e is empty on error. */
int tdm_edit_decode(const uint8_t *p, size_t len, struct tdm_edit *e, char *err,
		    size_t errlen);
/* Set modifier bit m (one bit) to a copy of v; -ENOMEM. */
int tdm_edit_set_mod(struct tdm_edit *e, unsigned m, const char *v);
void tdm_edit_free(struct tdm_edit *e);

#endif
