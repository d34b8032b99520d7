/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * unit_state.c - the unit and medium state of disk LUs and the commands
 * that report or change it: TEST UNIT READY, REQUEST SENSE, SBC START
 * STOP UNIT and PREVENT ALLOW MEDIUM REMOVAL (removable media).
 */
#include <stdlib.h>
#include <string.h>

#include "scsi/scsi_int.h"

/* ---- medium and unit state ---- */

/*
 * State of removable media and PREVENT ALLOW MEDIUM REMOVAL, kept beside
 * the LU (keyed by its never reused serial): which nexuses prevent
 * removal (SBC-3: the prevention lasts until each of them allows, or
 * until its I_T nexus loss or a LU reset), and whether the medium is
 * unloaded. Only removable LUs have an entry.
 */
struct medium {
	struct tdm_list link;
	uint64_t lu_serial;
	bool unloaded;
	size_t nprevent;
	struct tdm_nexus *prevent[8]; /* first holders; count beyond */
	size_t noverflow;
};

/* media and each entry; taken before tdm__reg_lock and lu->lock
 * (scsi/README.md "Locks") */
static struct tdm_mutex medium_lock =
	TDM_MUTEX_INITIALIZER(TDM__LOCK_MEDIUM, "medium_lock");
static struct tdm_list media = TDM_LIST_INIT(media);

/* Find (or create) the entry of lu; under medium_lock. */
static struct medium *medium_get(const struct tdm_lu *lu, bool create)
{
	struct tdm_list *pos;
	struct medium *m;

	tdm_list_for_each (pos, &media) {
		m = tdm_list_entry(pos, struct medium, link);
		if (m->lu_serial == lu->serial)
			return m;
	}
	if (!create)
		return NULL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->lu_serial = lu->serial;
	tdm_list_add_tail(&media, &m->link);
	return m;
}

static size_t medium_prevent_count(const struct medium *m)
{
	return m->nprevent + m->noverflow;
}

static void medium_put(struct medium *m)
{
	if (!m->unloaded && !medium_prevent_count(m)) {
		tdm_list_del(&m->link);
		free(m);
	}
}

static void set_prevent_count(struct tdm_lu *lu, const struct medium *m)
{
	tdm_mutex_lock(&lu->lock);
	lu->prevent = m ? (uint32_t)medium_prevent_count(m) : 0;
	tdm_mutex_unlock(&lu->lock);
}

static void set_stopped(struct tdm_lu *lu, bool stopped)
{
	tdm_mutex_lock(&lu->lock);
	__atomic_store_n(&lu->stopped, stopped, __ATOMIC_RELEASE);
	tdm_mutex_unlock(&lu->lock);
}

int tdm__lu_medium_check(struct tdm_lu *lu)
{
	struct medium *m;
	bool unloaded = false;

	/* scsi/mmc.c: a CD-ROM drive without an image (MMC-6 3Ah/00h) */
	if (__atomic_load_n(&lu->no_medium, __ATOMIC_ACQUIRE))
		return TDM_SR_NOT_READY_MEDIUM_NOT_PRESENT;
	if (!__atomic_load_n(&lu->stopped, __ATOMIC_ACQUIRE) ||
	    !lu->conf.removable)
		return TDM_SR_OK;
	tdm_mutex_lock(&medium_lock);
	m = medium_get(lu, false);
	if (m)
		unloaded = m->unloaded;
	tdm_mutex_unlock(&medium_lock);
	/* SPC-4 annex D: 3Ah/00h MEDIUM NOT PRESENT */
	return unloaded ? TDM_SR_NOT_READY_MEDIUM_NOT_PRESENT : TDM_SR_OK;
}

/* What TEST UNIT READY and REQUEST SENSE report for a stopped unit. */
static int unit_state(struct tdm_lu *lu)
{
	int sr = tdm__lu_medium_check(lu);

	if (sr != TDM_SR_OK)
		return sr;
	/* scsi/backing.c: deferred_open, the backing not open here: the
	 * path checker's TEST UNIT READY says so (04h/0Ch); READ CAPACITY
	 * and the like still answer from the probed geometry, I/O gets the
	 * same sense from tdm__bk_submit() */
	if (lu->deferred && atomic_load(&lu->bk_state) != TDM__BK_OPEN)
		return TDM_SR_ALUA_UNAVAILABLE;
	if (__atomic_load_n(&lu->stopped, __ATOMIC_ACQUIRE))
		/* SBC-3 stopped power condition: 04h/02h */
		return TDM_SR_NOT_READY_INIT_REQUIRED;
	return TDM_SR_OK;
}

int tdm__spc_test_unit_ready(struct tdm_cmd *cmd)
{
	return unit_state(cmd->lu);
}

void tdm__medium_prevent_drop(struct tdm_lu *lu, const struct tdm_nexus *nx)
{
	struct medium *m;
	size_t i;

	tdm_mutex_lock(&medium_lock);
	m = medium_get(lu, false);
	if (m) {
		if (!nx) {
			m->nprevent = 0;
			m->noverflow = 0;
		}
		for (i = 0; i < m->nprevent;) {
			if (m->prevent[i] == nx)
				m->prevent[i] = m->prevent[--m->nprevent];
			else
				i++;
		}
		set_prevent_count(lu, m);
		medium_put(m);
	}
	tdm_mutex_unlock(&medium_lock);
}

int tdm__spc_prevent_allow(struct tdm_cmd *cmd)
{
	struct tdm_lu *lu = cmd->lu;
	uint8_t prevent = cmd->cdb[4] & 0x03;
	struct medium *m;
	size_t i;

	/* SBC-3 PREVENT ALLOW MEDIUM REMOVAL: 00b allow, 01b prevent,
	 * others obsolete */
	if (prevent > 1)
		return tdm__cdb_err(cmd, 4, 1);
	if (!lu->conf.removable)
		return TDM_SR_OK; /* nothing to remove */
	if (!prevent) {
		tdm__medium_prevent_drop(lu, cmd->nexus);
		return TDM_SR_OK;
	}
	tdm_mutex_lock(&medium_lock);
	m = medium_get(lu, true);
	if (!m) {
		tdm_mutex_unlock(&medium_lock);
		return TDM_SR_ABORTED_NO_RESOURCES;
	}
	for (i = 0; i < m->nprevent; i++)
		if (m->prevent[i] == cmd->nexus)
			break;
	if (i == m->nprevent) {
		if (m->nprevent < sizeof(m->prevent) / sizeof(m->prevent[0]))
			m->prevent[m->nprevent++] = cmd->nexus;
		else
			m->noverflow++; /* kept until a LU reset */
	}
	set_prevent_count(lu, m);
	tdm_mutex_unlock(&medium_lock);
	return TDM_SR_OK;
}

/* The state change START STOP UNIT asked for, after the flush. */
static int start_stop_apply(struct tdm_cmd *cmd)
{
	struct tdm_lu *lu = cmd->lu;
	bool loej = cmd->cdb[4] & 0x02, start = cmd->cdb[4] & 0x01;
	struct medium *m;
	int sr = TDM_SR_OK;

	tdm_mutex_lock(&medium_lock);
	m = lu->conf.removable ? medium_get(lu, loej && !start) : NULL;
	if (loej && m && medium_prevent_count(m)) {
		/* the medium is locked in: neither unloaded nor (with the
		 * drive closed) loaded while removal is prevented */
		sr = TDM_SR_MEDIUM_REMOVAL_PREVENTED;
	} else if (loej && !start) {
		/* unload */
		if (!m)
			sr = TDM_SR_ABORTED_NO_RESOURCES;
		else {
			m->unloaded = true;
			set_stopped(lu, true);
		}
	} else if (loej) {
		/* load and start */
		bool was = m && m->unloaded;

		if (m) {
			m->unloaded = false;
			medium_put(m);
		}
		set_stopped(lu, false);
		if (was) /* SBC-3: a new medium for everybody else */
			tdm__ua_raise_lu(lu, TDM_SR_UA_MEDIUM_MAY_HAVE_CHANGED,
					 cmd->nexus);
	} else if (start) {
		if (m && m->unloaded)
			sr = TDM_SR_NOT_READY_MEDIUM_NOT_PRESENT;
		else
			set_stopped(lu, false);
	}
	/* START=0 without LOEJ: accepted and the unit keeps serving, as
	 * LIO and SCST do and libiscsi's StartStopUnit.NoLoej expects; a
	 * target with no spindle has nothing to stop */
	if (m && sr != TDM_SR_OK)
		medium_put(m);
	tdm_mutex_unlock(&medium_lock);
	return sr;
}

static void start_stop_flushed(struct tdm_cmd *cmd, int sr)
{
	if (sr == TDM_SR_OK)
		sr = start_stop_apply(cmd);
	tdm__cmd_done(cmd, sr);
}

int tdm__spc_start_stop(struct tdm_cmd *cmd)
{
	struct tdm_lu *lu = cmd->lu;
	const uint8_t *cdb = cmd->cdb;
	uint8_t pcm = cdb[3] & 0x0F, pc = cdb[4] >> 4;
	bool no_flush = cdb[4] & 0x04, loej = cdb[4] & 0x02;
	bool start = cdb[4] & 0x01;

	/* SBC-3 START STOP UNIT, POWER CONDITION. The LU is always in
	 * the active power condition: a POWER CONDITION other than
	 * START_VALID (0h) is accepted and changes nothing, START and LOEJ
	 * then being ignored (libiscsi's StartStopUnit.PwrCnd sends 1h to
	 * Fh and expects GOOD). */
	if (pcm)
		return tdm__cdb_err(cmd, 3, 3);
	if (pc != 0x0)
		return TDM_SR_OK;
	if (loej && !lu->conf.removable)
		return tdm__cdb_err(cmd, 4, 1);
	if (loej) {
		/* SBC-3 START STOP UNIT: LOEJ while medium removal is
		 * prevented: refused early, no flush for that */
		int sr = TDM_SR_OK;
		struct medium *m;

		tdm_mutex_lock(&medium_lock);
		m = medium_get(lu, false);
		if (m && medium_prevent_count(m))
			sr = TDM_SR_MEDIUM_REMOVAL_PREVENTED;
		tdm_mutex_unlock(&medium_lock);
		if (sr != TDM_SR_OK)
			return sr;
	}
	/* stopping writes the volatile cache to the medium first unless
	 * NO_FLUSH; IMMED only allows an earlier status: ignored */
	if (!start && !no_flush && tdm__lu_volatile_cache(lu)) {
		cmd->exec_done = start_stop_flushed;
		tdm__sbc_flush(cmd);
		return TDM__SR_ASYNC;
	}
	return start_stop_apply(cmd);
}

/* ---- REQUEST SENSE ---- */

int tdm__spc_request_sense(struct tdm_cmd *cmd)
{
	bool desc = cmd->cdb[1] & 0x01;
	uint8_t s[TDM_SENSE_MAX];
	int sr;
	size_t n;

	memset(s, 0, sizeof(s));
	if (!cmd->lu) {
		/* SPC-4 REQUEST SENSE: a LUN without LU reports 25h/00h in the
		 * parameter data */
		sr = TDM_SR_LUN_NOT_SUPPORTED;
	} else {
		/* REQUEST SENSE is UA exempt in the gate: it reports (and
		 * clears) a pending unit attention itself (SAM-5 5.14) */
		sr = tdm__ua_take(cmd->nexus, cmd->lu, false);
		if (sr == TDM_SR_OK)
			sr = unit_state(cmd->lu);
	}
	if (sr != TDM_SR_OK) {
		n = tdm__sense_build(s, sizeof(s), (enum tdm_sense_reason)sr,
				     NULL, desc);
	} else if (desc) {
		s[0] = 0x72; /* SPC-4 4.5.2: NO SENSE, no descriptors */
		n = 8;
	} else {
		s[0] = 0x70; /* SPC-4 4.5.3: NO SENSE */
		s[7] = 10;
		n = 18;
	}
	tdm__cmd_put_data(cmd, s, n);
	return TDM_SR_OK;
}

/* scsi/mmc.c: a CD-ROM got a new medium from tandemctl (media change):
 * it is loaded (an earlier START STOP UNIT eject is over) and started. */
void tdm__lu_medium_inserted(struct tdm_lu *lu)
{
	struct medium *m;

	tdm_mutex_lock(&medium_lock);
	m = medium_get(lu, false);
	if (m) {
		m->unloaded = false;
		medium_put(m);
	}
	tdm_mutex_unlock(&medium_lock);
	set_stopped(lu, false);
}
