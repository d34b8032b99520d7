# tests/unit/tcmu_ring.mk: the TCMU ring codec (kernel/tcmu_ring.c) on an
# in-memory area laid out like target_core_user's; needs no kernel
check_PROGRAMS += tests/unit/test_tcmu_ring
TESTS += tests/unit/test_tcmu_ring
tests_unit_test_tcmu_ring_SOURCES = tests/unit/test_tcmu_ring.c \
	tests/lib/tcmu_build.h
tests_unit_test_tcmu_ring_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_tcmu_ring_LDADD = $(UNIT_LIBS)
