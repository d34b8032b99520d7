# tests/cluster/local.mk: the cluster lab (tests/cluster/lab.sh, sourced by
# the scenarios) and its libiscsi client scsitool. Included from
# tests/local.mk.
if HAVE_LIBISCSI
noinst_PROGRAMS += tests/cluster/scsitool
tests_cluster_scsitool_SOURCES = tests/cluster/scsitool.c
tests_cluster_scsitool_CFLAGS = $(AM_CFLAGS) $(ISCSI_CFLAGS)
tests_cluster_scsitool_LDADD = $(ISCSI_LIBS)
endif
EXTRA_DIST += tests/cluster
