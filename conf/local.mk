# conf/: the scst.conf model of include/tandem/config.h: reading (the
# lexer conf_lex.c, the parser conf_parse.c, whole-configuration checks
# conf_validate.c), writing (conf_write.c), copying and comparing
# (conf_util.c), and the edits tandemctl makes, as operations on the
# model (conf_edit.c), as data ordered across heads (conf_edit_ops.c),
# and the cluster's edit log (conf_edit_log.c).
libtandem_a_SOURCES += \
	conf/conf_lex.c conf/conf_lex.h conf/conf_parse.c \
	conf/conf_validate.c conf/conf_write.c conf/conf_util.c \
	conf/conf_edit.c conf/conf_edit.h \
	conf/conf_edit_ops.c conf/conf_edit_ops.h \
	conf/conf_edit_log.c conf/conf_edit_log.h
dist_man_MANS += docs/tandem.conf.5
EXTRA_DIST += conf/README.md
