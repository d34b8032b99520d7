# tests/unit/srp_iu.mk: the SRP information units' codec (srp/iu.c); pure,
# so it needs no RDMA device
check_PROGRAMS += tests/unit/test_srp_iu
TESTS += tests/unit/test_srp_iu
tests_unit_test_srp_iu_SOURCES = tests/unit/test_srp_iu.c
tests_unit_test_srp_iu_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_srp_iu_LDADD = $(UNIT_LIBS)
