# tests/unit/thin.mk: thin provisioning (UNMAP, WRITE SAME, GET LBA STATUS)
# and REPORT SUPPORTED OPERATION CODES / TMFs through the real command gate
check_PROGRAMS += tests/unit/test_thin
TESTS += tests/unit/test_thin
tests_unit_test_thin_SOURCES = tests/unit/test_thin.c tests/unit/gate_harness.c \
	tests/unit/gate_harness.h
tests_unit_test_thin_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_thin_LDADD = $(UNIT_LIBS)
