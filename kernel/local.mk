# kernel: LIO's kernel fabrics (tcm_loop, ibmvscsis, tcm_qla2xxx) served
# through TCMU; see kernel/README.md. One list, extended by each part.
KERNEL_LIO_SOURCES = \
	kernel/lio.h \
	kernel/lio.c
libtandem_a_SOURCES += $(KERNEL_LIO_SOURCES)
