sbin_PROGRAMS += targetd/tandemd
targetd_tandemd_SOURCES = targetd/tandemd.c targetd/control.c targetd/agent.c \
	targetd/cluster_conf.c targetd/cluster_conf.h targetd/daemon.h
targetd_tandemd_CFLAGS = $(AM_CFLAGS) $(URING_CFLAGS)
targetd_tandemd_LDADD = $(TANDEM_LIBS) $(RDMA_LIBS) $(NL_LIBS) $(SYSTEMD_LIBS)
dist_man_MANS += targetd/tandemd.8
