# tests/func/alua.mk: the libiscsi client of tests/func/alua.sh (built like
# tests/func/helpers.mk builds hold_session: libiscsi's headers by the
# absolute path in the generated hold_libiscsi.inc). Included from
# tests/func/local.mk.
if HAVE_LIBISCSI
noinst_PROGRAMS += tests/func/alua_check
tests_func_alua_check_SOURCES = tests/func/alua_check.c
tests_func_alua_check_CPPFLAGS = -include $(top_builddir)/config.h \
	-I$(top_builddir)/tests/func \
	-DHOLD_LIBISCSI_INC='"hold_libiscsi.inc"'
tests_func_alua_check_CFLAGS = $(AM_CFLAGS) $(ISCSI_CFLAGS)
tests_func_alua_check_LDADD = $(ISCSI_LIBS)
tests/func/alua_check-alua_check.$(OBJEXT): tests/func/hold_libiscsi.inc
endif
