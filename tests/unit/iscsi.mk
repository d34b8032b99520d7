# tests/unit/iscsi.mk: iSCSI negotiation rules, MD5, CRC32C
check_PROGRAMS += tests/unit/test_iscsi_param
TESTS += tests/unit/test_iscsi_param
tests_unit_test_iscsi_param_SOURCES = tests/unit/test_iscsi_param.c
tests_unit_test_iscsi_param_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_iscsi_param_LDADD = $(UNIT_LIBS)
