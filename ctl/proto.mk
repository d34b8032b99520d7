# ctl/proto.mk - the control socket protocol (both sides) and the
# configuration edits tandemctl makes, in libtandem.
libtandem_a_SOURCES += ctl/ctl_proto.c ctl/ctl_proto.h \
	ctl/conf_edit.c ctl/conf_edit.h
