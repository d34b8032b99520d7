# tests/vm/local.mk: the VM lab's verifying writer (tests/vm/README.md),
# linked statically so that it runs in the guest's busybox initramfs, and
# so without the sanitizers (they do not link statically). Included from
# tests/local.mk.
noinst_PROGRAMS += tests/vm/vmwriter
tests_vm_vmwriter_SOURCES = tests/vm/vmwriter.c tests/vm/stamp.h
tests_vm_vmwriter_CFLAGS = $(AX_CFLAGS)
tests_vm_vmwriter_LDFLAGS = -static
tests_vm_vmwriter_LDADD = $(AX_PTHREAD_LIBS)
EXTRA_DIST += tests/vm
