# iscsi: the iSCSI target transport (RFC 7143, ERL 0); see iscsi/README.md
# (the PDU fuzzer links these sources alone: tests/fuzz/local.mk)
ISCSI_TRANSPORT_SOURCES = \
	include/tandem/iscsi.h \
	iscsi/iscsi_int.h \
	iscsi/md5.c \
	iscsi/param.c \
	iscsi/rx.c \
	iscsi/tx.c \
	iscsi/conn.c \
	iscsi/login.c \
	iscsi/throttle.c \
	iscsi/session.c \
	iscsi/scsi_cmd.c \
	iscsi/tmf.c \
	iscsi/discovery.c \
	iscsi/portal.c \
	iscsi/iscsi.c
libtandem_a_SOURCES += $(ISCSI_TRANSPORT_SOURCES)
