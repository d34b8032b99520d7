# tests/unit/scsi.mk: SPC/SBC emulation through the real command gate
check_PROGRAMS += tests/unit/test_scsi
TESTS += tests/unit/test_scsi
tests_unit_test_scsi_SOURCES = tests/unit/test_scsi.c tests/unit/gate_harness.c \
	tests/unit/gate_harness.h
tests_unit_test_scsi_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_scsi_LDADD = $(UNIT_LIBS)
