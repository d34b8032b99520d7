# ctl/: tandemctl and the control socket protocol (both sides: tandemd's
# targetd/control.c is the other end).
libtandem_a_SOURCES += ctl/ctl_proto.c ctl/ctl_proto.h
EXTRA_DIST += ctl/README.md
