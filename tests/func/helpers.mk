# Helper programs of the functional tests (tests/func/*.sh), built with
# libiscsi's client library. Included from tests/func/local.mk.
if HAVE_LIBISCSI
noinst_PROGRAMS += tests/func/hold_session
tests_func_hold_session_SOURCES = tests/func/hold_session.c
tests_func_hold_session_CFLAGS = $(AM_CFLAGS) $(ISCSI_CFLAGS)
tests_func_hold_session_LDADD = $(ISCSI_LIBS)
endif
if HAVE_LIBISCSI
noinst_PROGRAMS += tests/func/metrics_io
tests_func_metrics_io_SOURCES = tests/func/metrics_io.c
tests_func_metrics_io_CFLAGS = $(AM_CFLAGS) $(ISCSI_CFLAGS)
tests_func_metrics_io_LDADD = $(ISCSI_LIBS)
endif
