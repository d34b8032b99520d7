# tests/unit/caw.mk: COMPARE AND WRITE, ORWRITE, WRITE ATOMIC, range locks,
# EXTENDED COPY and RECEIVE COPY RESULTS through the real command gate
check_PROGRAMS += tests/unit/test_caw
TESTS += tests/unit/test_caw
tests_unit_test_caw_SOURCES = tests/unit/test_caw.c tests/unit/gate_harness.c \
	tests/unit/gate_harness.h
tests_unit_test_caw_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_caw_LDADD = $(UNIT_LIBS)
