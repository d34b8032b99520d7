# Helper programs of the functional tests (tests/func/*.sh), built with
# libiscsi's client library. Included from Makefile.am.
if HAVE_LIBISCSI
noinst_PROGRAMS += tests/func/hold_session
tests_func_hold_session_SOURCES = tests/func/hold_session.c
# The tree's iscsi/iscsi.h (the target transport) would hide libiscsi's
# <iscsi/iscsi.h> behind automake's -I$(srcdir): libiscsi's headers are
# included by absolute path from the generated hold_libiscsi.inc.
tests_func_hold_session_CPPFLAGS = -include $(top_builddir)/config.h \
	-I$(top_builddir)/tests/func \
	-DHOLD_LIBISCSI_INC='"hold_libiscsi.inc"'
tests_func_hold_session_CFLAGS = $(AM_CFLAGS) $(ISCSI_CFLAGS)
tests_func_hold_session_LDADD = $(ISCSI_LIBS)
tests/func/hold_session-hold_session.$(OBJEXT): tests/func/hold_libiscsi.inc
tests/func/hold_libiscsi.inc: Makefile
	$(AM_V_GEN)$(MKDIR_P) tests/func && \
	dir=`$(PKG_CONFIG) --variable=includedir libiscsi` && \
	{ echo "#include <$$dir/iscsi/iscsi.h>"; \
	  echo "#include <$$dir/iscsi/scsi-lowlevel.h>"; } >$@-t && \
	mv -f $@-t $@
CLEANFILES += tests/func/hold_libiscsi.inc
endif
