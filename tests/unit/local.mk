# Unit test programs, one fragment per component (each helper owns one).
# A test program exits 0 (pass), 1 (fail) or 77 (skip, with the reason).
UNIT_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(URING_CFLAGS)
UNIT_LIBS = $(TANDEM_LIBS) $(CMOCKA_LIBS)
if HAVE_CMOCKA
include tests/unit/conf.mk
include tests/unit/backstores.mk
include tests/unit/scsi.mk
include tests/unit/thin.mk
include tests/unit/iscsi.mk
include tests/unit/srp_iu.mk
include tests/unit/lio.mk
include tests/unit/tcmu_ring.mk
include tests/unit/ctl.mk
include tests/unit/pr.mk
include tests/unit/caw.mk
include tests/unit/alua.mk
include tests/unit/cdrom.mk
include tests/unit/agent_sync.mk
include tests/unit/agent_hold.mk
include tests/unit/edit.mk
include tests/unit/lockorder.mk
include tests/unit/sdnotify.mk
include tests/unit/loop.mk
endif
