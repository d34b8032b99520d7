# tests/unit/sdnotify.mk: systemd's notifications and the watchdog (lib/sdnotify.h)
check_PROGRAMS += tests/unit/test_sdnotify
TESTS += tests/unit/test_sdnotify
tests_unit_test_sdnotify_SOURCES = tests/unit/test_sdnotify.c
tests_unit_test_sdnotify_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_sdnotify_LDADD = $(UNIT_LIBS) $(SYSTEMD_LIBS)
