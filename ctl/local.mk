# ctl
# The scst.conf reader/writer (the configuration model of tandem/config.h).
libtandem_a_SOURCES += ctl/conf_parse.c ctl/conf_write.c ctl/conf_util.c
dist_man_MANS += docs/tandem.conf.5
EXTRA_DIST += ctl/README.md
