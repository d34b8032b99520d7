# The tandemd <-> tandem-agentd link codec: both daemons link it.
libtandem_a_SOURCES += \
	agentd/agent_msg.h \
	agentd/agent_msg.c

# tandem-agentd: built when libcpg and libvotequorum are found.
if HAVE_COROSYNC
sbin_PROGRAMS += agentd/tandem-agentd
agentd_tandem_agentd_SOURCES = agentd/agentd.c agentd/agentd.h \
	agentd/tandemd_link.c agentd/corosync.c \
	agentd/cluster_msg.c agentd/cluster_msg.h \
	agentd/sync.c agentd/sync.h \
	agentd/hold.c agentd/hold.h agentd/fencing.c
agentd_tandem_agentd_CFLAGS = $(AM_CFLAGS) $(COROSYNC_CFLAGS) $(STONITH_CFLAGS)
agentd_tandem_agentd_LDADD = $(TANDEM_LIBS) $(COROSYNC_LIBS) $(STONITH_DL) $(SYSTEMD_LIBS)
dist_man_MANS += agentd/tandem-agentd.8
endif
EXTRA_DIST += agentd/README.md
