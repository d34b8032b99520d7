# tests/func/alua.mk: the libiscsi client of tests/func/alua.sh.
# Included from tests/func/local.mk.
if HAVE_LIBISCSI
noinst_PROGRAMS += tests/func/alua_check
tests_func_alua_check_SOURCES = tests/func/alua_check.c
tests_func_alua_check_CFLAGS = $(AM_CFLAGS) $(ISCSI_CFLAGS)
tests_func_alua_check_LDADD = $(ISCSI_LIBS)
endif
