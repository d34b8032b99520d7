# kernel: LIO's kernel fabrics (tcm_loop, ibmvscsis, tcm_qla2xxx) served
# through TCMU; see kernel/README.md. One list, extended by each part.
KERNEL_LIO_SOURCES = \
	kernel/lio.h \
	kernel/lio.c
# the TCMU ring's codec: pure (the fuzzer links it alone,
# tests/fuzz/local.mk)
TCMU_RING_SOURCES = \
	kernel/tcmu_ring.h \
	kernel/tcmu_ring.c
# netlink, the UIO nodes and rings, the configuration (libnl-genl-3)
KERNEL_TCMU_SOURCES = \
	include/tandem/kernel.h \
	kernel/kernel_int.h \
	kernel/tcmu.c \
	kernel/kernel.c
libtandem_a_SOURCES += $(KERNEL_LIO_SOURCES) $(TCMU_RING_SOURCES) \
	$(KERNEL_TCMU_SOURCES)
