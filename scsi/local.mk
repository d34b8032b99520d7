# scsi/: the SCSI core (see scsi/README.md)
libtandem_a_SOURCES += \
	scsi/scsi_int.h \
	scsi/sense.c \
	scsi/cmd.c \
	scsi/ua.c \
	scsi/task_mgmt.c \
	scsi/lu.c \
	scsi/backing.c \
	scsi/target.c \
	scsi/nexus_id.c \
	scsi/transport_id.c \
	scsi/optable.c \
	scsi/inquiry.c \
	scsi/lun.c \
	scsi/unit_state.c \
	scsi/log_sense.c \
	scsi/spc2_reserve.c \
	scsi/mode.c \
	scsi/sbc.c \
	scsi/thin.c \
	scsi/rsoc.c \
	scsi/caw.c \
	scsi/xcopy.c \
	scsi/cluster.c \
	scsi/optable_mmc.c \
	scsi/mmc.c \
	scsi/pr_scsi.c \
	scsi/alua_scsi.c \
	scsi/io_stats.c
EXTRA_DIST += scsi/README.md
