# pr-sync/: the persistent reservation state machine and its persistence
# (its wiring into the SCSI core is scsi/pr_scsi.c).
libtandem_a_SOURCES += \
	pr-sync/pr.h \
	pr-sync/pr_int.h \
	pr-sync/pr_tid.c \
	pr-sync/pr_state.c \
	pr-sync/pr_out_decode.c \
	pr-sync/pr_in.c \
	pr-sync/pr_persist.c
