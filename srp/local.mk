# srp: the SCSI RDMA Protocol target transport; see srp/README.md
# (the SRP fuzzer links the codec alone: tests/fuzz/local.mk)
SRP_IU_SOURCES = \
	srp/srp_iu.h \
	srp/iu.c
libtandem_a_SOURCES += $(SRP_IU_SOURCES)
