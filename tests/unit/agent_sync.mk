# tests/unit/agent_sync.mk: tandem-agentd's membership sync decisions and
# the cluster message codec (agentd/sync.c, agentd/cluster_msg.c); pure,
# so it builds without corosync
check_PROGRAMS += tests/unit/test_agent_sync
TESTS += tests/unit/test_agent_sync
tests_unit_test_agent_sync_SOURCES = tests/unit/test_agent_sync.c \
	agentd/sync.c agentd/sync.h agentd/cluster_msg.c agentd/cluster_msg.h
tests_unit_test_agent_sync_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_agent_sync_LDADD = $(UNIT_LIBS)
