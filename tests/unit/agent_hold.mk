# tests/unit/agent_hold.mk: tandem-agentd's fencing hold and the FENCED
# message (agentd/hold.c, agentd/cluster_msg.c); pure, so it builds
# without corosync
check_PROGRAMS += tests/unit/test_agent_hold
TESTS += tests/unit/test_agent_hold
tests_unit_test_agent_hold_SOURCES = tests/unit/test_agent_hold.c \
	agentd/hold.c agentd/hold.h agentd/cluster_msg.c agentd/cluster_msg.h \
	agentd/sync.c agentd/sync.h
tests_unit_test_agent_hold_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_agent_hold_LDADD = $(UNIT_LIBS)
