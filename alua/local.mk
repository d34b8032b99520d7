# alua/: the ALUA state model (port groups, device groups, states); its
# wiring into the SCSI core is scsi/alua_scsi.c.
libtandem_a_SOURCES += alua/alua.c alua/alua.h
EXTRA_DIST += alua/README.md
