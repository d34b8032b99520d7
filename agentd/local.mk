# The tandemd <-> tandem-agentd link codec: both daemons link it.
libtandem_a_SOURCES += \
	agentd/agent_msg.h \
	agentd/agent_msg.c
