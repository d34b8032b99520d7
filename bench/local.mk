# bench: the iSCSI load generator (needs libiscsi), run-compare.sh,
# srp_vm.sh and kernel_vm.sh (with their guest sides). See
# bench/README.md.
if HAVE_LIBISCSI
noinst_PROGRAMS += bench/iscsi_load
bench_iscsi_load_SOURCES = bench/iscsi_load.c
bench_iscsi_load_CFLAGS = $(AM_CFLAGS) $(ISCSI_CFLAGS)
bench_iscsi_load_LDADD = $(ISCSI_LIBS) $(AX_PTHREAD_LIBS) -lm
endif
EXTRA_DIST += bench/run-compare.sh bench/README.md bench/srp_vm.sh \
	bench/srp_vm.guest bench/kernel_vm.sh bench/kernel_vm.guest \
	bench/vm_bench.bash
