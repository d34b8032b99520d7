# tests/unit/lockorder.mk: the debug-build lock order check (lib/lockorder.h)
check_PROGRAMS += tests/unit/test_lockorder
TESTS += tests/unit/test_lockorder
tests_unit_test_lockorder_SOURCES = tests/unit/test_lockorder.c
tests_unit_test_lockorder_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_lockorder_LDADD = $(UNIT_LIBS)
