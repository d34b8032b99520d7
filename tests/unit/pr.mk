# tests/unit/pr.mk: the persistent reservation state machine (pr-sync/)
check_PROGRAMS += tests/unit/test_pr
TESTS += tests/unit/test_pr
tests_unit_test_pr_SOURCES = tests/unit/test_pr.c
tests_unit_test_pr_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_pr_LDADD = $(UNIT_LIBS)
