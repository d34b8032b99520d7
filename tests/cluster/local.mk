# tests/cluster/local.mk: the cluster lab (tests/cluster/lab.sh, sourced by
# the scenarios) and its libiscsi clients: scsitool (one command) and
# mpclient (a multipathing writer that verifies what it wrote). Included
# from tests/local.mk.
if HAVE_LIBISCSI
noinst_PROGRAMS += tests/cluster/scsitool tests/cluster/mpclient
tests_cluster_scsitool_SOURCES = tests/cluster/scsitool.c tests/cluster/spc_wire.h
tests_cluster_scsitool_CFLAGS = $(AM_CFLAGS) $(ISCSI_CFLAGS)
tests_cluster_scsitool_LDADD = $(ISCSI_LIBS)
tests_cluster_mpclient_SOURCES = tests/cluster/mpclient.c tests/cluster/spc_wire.h
tests_cluster_mpclient_CFLAGS = $(AM_CFLAGS) $(ISCSI_CFLAGS)
tests_cluster_mpclient_LDADD = $(ISCSI_LIBS) $(AX_PTHREAD_LIBS)
endif
EXTRA_DIST += tests/cluster
