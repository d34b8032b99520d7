# ctl/tandemctl.mk - the administration tool.
sbin_PROGRAMS += ctl/tandemctl
ctl_tandemctl_SOURCES = ctl/tandemctl.c
ctl_tandemctl_LDADD = $(TANDEM_LIBS)
dist_man_MANS += ctl/tandemctl.8
