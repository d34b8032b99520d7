# tests/unit/backstores.mk
check_PROGRAMS += tests/unit/test_backstores
TESTS += tests/unit/test_backstores
tests_unit_test_backstores_SOURCES = tests/unit/test_backstores.c
tests_unit_test_backstores_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_backstores_LDADD = $(UNIT_LIBS)
