# tests/unit/cdrom.mk: vcdrom (MMC) through the real command gate
check_PROGRAMS += tests/unit/test_cdrom
TESTS += tests/unit/test_cdrom
tests_unit_test_cdrom_SOURCES = tests/unit/test_cdrom.c tests/unit/gate_harness.c \
	tests/unit/gate_harness.h
tests_unit_test_cdrom_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_cdrom_LDADD = $(UNIT_LIBS)
