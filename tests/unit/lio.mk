# tests/unit/lio.mk: kernel/lio.c (LIO configfs) against a recorded
# configfs layout: the test diverts mkdir, rmdir, write and symlink to its
# simulator of the kernel (-Wl,--wrap), so no LIO is needed
check_PROGRAMS += tests/unit/test_lio
TESTS += tests/unit/test_lio
tests_unit_test_lio_SOURCES = tests/unit/test_lio.c
tests_unit_test_lio_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_lio_LDFLAGS = $(AM_LDFLAGS) \
	-Wl,--wrap=mkdir,--wrap=rmdir,--wrap=write,--wrap=symlink
tests_unit_test_lio_LDADD = $(UNIT_LIBS)
