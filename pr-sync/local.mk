# pr-sync/: the persistent reservation state machine and its persistence
# (its wiring into the SCSI core is scsi/pr_scsi.c).
libtandem_a_SOURCES += pr-sync/pr.c pr-sync/pr.h pr-sync/pr_persist.c
