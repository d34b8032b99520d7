# tests/unit/ctl.mk - the control protocol and tandemctl's edits.
check_PROGRAMS += tests/unit/test_ctl_proto
TESTS += tests/unit/test_ctl_proto
tests_unit_test_ctl_proto_SOURCES = tests/unit/test_ctl_proto.c
tests_unit_test_ctl_proto_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_ctl_proto_LDADD = $(UNIT_LIBS)
