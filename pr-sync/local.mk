# pr-sync/: the persistent reservation state machine, its persistence, and
# its wiring into the SCSI core (core/pr.c, kept here with its owner).
libtandem_a_SOURCES += pr-sync/pr.c pr-sync/pr.h pr-sync/pr_persist.c core/pr.c
