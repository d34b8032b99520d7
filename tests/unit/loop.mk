# tests/unit/loop.mk: the event loop's cross-thread messages (lib/loop.h)
check_PROGRAMS += tests/unit/test_loop_send
TESTS += tests/unit/test_loop_send
tests_unit_test_loop_send_SOURCES = tests/unit/test_loop_send.c
tests_unit_test_loop_send_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_loop_send_LDADD = $(UNIT_LIBS)
