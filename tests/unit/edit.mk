# tests/unit/edit.mk - tandemctl's edits as data (conf/conf_edit_ops.c):
# encoding, decoding of bad input, shared/local, applying; and the
# cluster's configuration edit log (conf/conf_edit_log.c).
check_PROGRAMS += tests/unit/test_conf_edit_ops
TESTS += tests/unit/test_conf_edit_ops
tests_unit_test_conf_edit_ops_SOURCES = tests/unit/test_conf_edit_ops.c
tests_unit_test_conf_edit_ops_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_conf_edit_ops_LDADD = $(UNIT_LIBS)
