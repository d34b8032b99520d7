# tests/vm/local.mk: the VM lab's programs (tests/vm/README.md). The
# writers that run in the guest's busybox initramfs are linked statically,
# and so without the sanitizers (they do not link statically): vmwriter
# (failover.sh) and crashwriter (crash.sh; also its checker on the host).
# logreplay runs on the host only, with the build's flags (sanitizers
# included: it parses a file). Included from tests/local.mk.
noinst_PROGRAMS += tests/vm/vmwriter tests/vm/crashwriter tests/vm/logreplay
tests_vm_vmwriter_SOURCES = tests/vm/vmwriter.c tests/vm/stamp.h
tests_vm_vmwriter_CFLAGS = $(AX_CFLAGS)
tests_vm_vmwriter_LDFLAGS = -static
tests_vm_vmwriter_LDADD = $(AX_PTHREAD_LIBS)
tests_vm_crashwriter_SOURCES = tests/vm/crashwriter.c tests/vm/stamp.h
tests_vm_crashwriter_CFLAGS = $(AX_CFLAGS)
tests_vm_crashwriter_LDFLAGS = -static
tests_vm_logreplay_SOURCES = tests/vm/logreplay.c tests/vm/lwlog.c tests/vm/lwlog.h
EXTRA_DIST += tests/vm
# srpclient (srp.sh): an SRP initiator of our own on rdma-core, run in the
# guest; linked dynamically (libibverbs loads its providers at run time),
# without the sanitizers (the guest has their runtimes only for tandemd)
noinst_PROGRAMS += tests/vm/srpclient
tests_vm_srpclient_SOURCES = tests/vm/srpclient.c
tests_vm_srpclient_CFLAGS = $(AX_CFLAGS) $(RDMA_CFLAGS)
tests_vm_srpclient_LDFLAGS =
tests_vm_srpclient_LDADD = $(RDMA_LIBS)
