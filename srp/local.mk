# srp: the SRP target transport over RDMA/CM on rdma-core; see srp/README.md
# (the IU fuzzer links srp/iu.c alone: tests/fuzz/local.mk)
SRP_IU_SOURCES = \
	srp/srp_iu.h \
	srp/iu.c
SRP_TRANSPORT_SOURCES = \
	include/tandem/srp.h \
	srp/srp_int.h \
	srp/srp.c \
	srp/chan.c \
	srp/io.c \
	srp/mr.c
libtandem_a_SOURCES += $(SRP_IU_SOURCES) $(SRP_TRANSPORT_SOURCES)
