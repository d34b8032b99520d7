# ctl/proto.mk - the control socket protocol (both sides) and the
# configuration edits tandemctl makes, in libtandem; the edits as data
# (shared with tandemd's ordered edits) and the cluster's edit log.
libtandem_a_SOURCES += ctl/ctl_proto.c ctl/ctl_proto.h \
	ctl/conf_edit.c ctl/conf_edit.h \
	ctl/conf_edit_ops.c ctl/conf_edit_ops.h \
	ctl/conf_edit_log.c ctl/conf_edit_log.h
