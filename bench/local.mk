# bench: the iSCSI load generator (needs libiscsi) and run-compare.sh.
# See bench/README.md.
if HAVE_LIBISCSI
noinst_PROGRAMS += bench/iscsi_load
bench_iscsi_load_SOURCES = bench/iscsi_load.c
# Own CPPFLAGS, without AM_CPPFLAGS: this tool needs neither config.h nor
# include/tandem.  The tree's iscsi/iscsi.h (the target transport) would
# still hide libiscsi's <iscsi/iscsi.h> behind automake's -I., so the
# libiscsi headers are included by absolute path from bench/libiscsi.inc.
bench_iscsi_load_CPPFLAGS = -D_GNU_SOURCE -I$(top_builddir)/bench \
	-DISCSI_LOAD_LIBISCSI_INC='"libiscsi.inc"'
bench_iscsi_load_CFLAGS = $(AM_CFLAGS) $(ISCSI_CFLAGS)
bench_iscsi_load_LDADD = $(ISCSI_LIBS) $(AX_PTHREAD_LIBS) -lm
bench/iscsi_load-iscsi_load.$(OBJEXT): bench/libiscsi.inc
bench/libiscsi.inc: Makefile
	$(AM_V_GEN)$(MKDIR_P) bench && \
	dir=`$(PKG_CONFIG) --variable=includedir libiscsi` && \
	{ echo "#include <$$dir/iscsi/iscsi.h>"; \
	  echo "#include <$$dir/iscsi/scsi-lowlevel.h>"; } >$@-t && mv -f $@-t $@
CLEANFILES += bench/libiscsi.inc
endif
EXTRA_DIST += bench/run-compare.sh bench/README.md
