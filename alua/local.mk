# alua/: the ALUA state model (port groups, device groups, states) and its
# wiring into the SCSI core (core/alua_scsi.c, kept here with its owner).
libtandem_a_SOURCES += alua/alua.c alua/alua.h core/alua_scsi.c
EXTRA_DIST += alua/README.md
