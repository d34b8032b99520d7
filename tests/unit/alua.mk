# tests/unit/alua.mk: ALUA model, DEVICE_GROUP configuration, and the SCSI
# side through the real gate (alua/, scsi/alua_scsi.c)
check_PROGRAMS += tests/unit/test_alua
TESTS += tests/unit/test_alua
tests_unit_test_alua_SOURCES = tests/unit/test_alua.c tests/unit/gate_harness.c \
	tests/unit/gate_harness.h
tests_unit_test_alua_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_alua_LDADD = $(UNIT_LIBS)
