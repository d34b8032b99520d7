# libFuzzer targets (configure --enable-fuzzers CC=clang; make fuzzers).
# Each reads one parser's input: the scst.conf reader, the iSCSI PDU
# stream, CDBs through the command gate, the control protocol, the
# cluster messages, the agent link, configuration edits, the SRP
# information units, the TCMU ring (kernel/), and the dm-log-writes
# logs the VM lab's logreplay reads.
EXTRA_DIST += tests/fuzz/corpus
FUZZ_TARGETS = tests/fuzz/fuzz_conf tests/fuzz/fuzz_pdu tests/fuzz/fuzz_cdb tests/fuzz/fuzz_ctl \
	tests/fuzz/fuzz_agent tests/fuzz/fuzz_link tests/fuzz/fuzz_edit \
	tests/fuzz/fuzz_logreplay tests/fuzz/fuzz_srp tests/fuzz/fuzz_tcmu
if ENABLE_FUZZERS
noinst_PROGRAMS += $(FUZZ_TARGETS)
FUZZLINK_FLAGS = -fsanitize=fuzzer,address,undefined
tests_fuzz_fuzz_conf_SOURCES = tests/fuzz/fuzz_conf.c
tests_fuzz_fuzz_conf_LDFLAGS = $(FUZZLINK_FLAGS)
tests_fuzz_fuzz_conf_LDADD = $(TANDEM_LIBS)
# the PDU fuzzer drives the iSCSI transport alone over a small simulated
# core of its own (fuzz_pdu.c), so it links the transport's sources and
# what of lib/, scsi/ and pr-sync/ they use (lib/log.c: never
# initialised, it logs nothing; the TransportID codec)
tests_fuzz_fuzz_pdu_SOURCES = tests/fuzz/fuzz_pdu.c $(ISCSI_TRANSPORT_SOURCES) \
	lib/crc32c.c lib/log.c lib/writefile.c lib/escape.c lib/iscsi_name.c \
	scsi/transport_id.c pr-sync/pr_tid.c
tests_fuzz_fuzz_pdu_LDFLAGS = $(FUZZLINK_FLAGS)
tests_fuzz_fuzz_pdu_LDADD = $(QB_LIBS) $(AX_PTHREAD_LIBS)
tests_fuzz_fuzz_cdb_SOURCES = tests/fuzz/fuzz_cdb.c
tests_fuzz_fuzz_cdb_LDFLAGS = $(FUZZLINK_FLAGS)
tests_fuzz_fuzz_cdb_LDADD = $(TANDEM_LIBS)
tests_fuzz_fuzz_ctl_SOURCES = tests/fuzz/fuzz_ctl.c
tests_fuzz_fuzz_ctl_LDFLAGS = $(FUZZLINK_FLAGS)
tests_fuzz_fuzz_ctl_LDADD = $(TANDEM_LIBS)
# the cluster messages tandem-agentd reads from other heads (agentd/)
tests_fuzz_fuzz_agent_SOURCES = tests/fuzz/fuzz_agent.c agentd/cluster_msg.c \
	agentd/sync.c agentd/hold.c
tests_fuzz_fuzz_agent_LDFLAGS = $(FUZZLINK_FLAGS)
tests_fuzz_fuzz_agent_LDADD = $(TANDEM_LIBS)
# what tandemd reads from its agent link (targetd/agent.c, scsi/cluster.c)
tests_fuzz_fuzz_link_SOURCES = tests/fuzz/fuzz_link.c
tests_fuzz_fuzz_link_LDFLAGS = $(FUZZLINK_FLAGS)
tests_fuzz_fuzz_link_LDADD = $(TANDEM_LIBS)
# ordered configuration edits and the snapshot's edit log (ctl/)
tests_fuzz_fuzz_edit_SOURCES = tests/fuzz/fuzz_edit.c
tests_fuzz_fuzz_edit_LDFLAGS = $(FUZZLINK_FLAGS)
tests_fuzz_fuzz_edit_LDADD = $(TANDEM_LIBS)
# logreplay's log reader (tests/vm/lwlog.c: standalone, none of our
# libraries)
tests_fuzz_fuzz_logreplay_SOURCES = tests/fuzz/fuzz_logreplay.c \
	tests/vm/lwlog.c tests/vm/lwlog.h
tests_fuzz_fuzz_logreplay_LDFLAGS = $(FUZZLINK_FLAGS)
# the SRP information units' codec (srp/iu.c: pure, nothing else linked)
tests_fuzz_fuzz_srp_SOURCES = tests/fuzz/fuzz_srp.c $(SRP_IU_SOURCES)
tests_fuzz_fuzz_srp_LDFLAGS = $(FUZZLINK_FLAGS)
# the TCMU ring codec (kernel/tcmu_ring.c: pure, nothing else linked)
tests_fuzz_fuzz_tcmu_SOURCES = tests/fuzz/fuzz_tcmu.c $(TCMU_RING_SOURCES)
tests_fuzz_fuzz_tcmu_LDFLAGS = $(FUZZLINK_FLAGS)
fuzzers: $(FUZZ_TARGETS)
else
fuzzers:
	@echo "configure with --enable-fuzzers CC=clang to build the fuzzers"
endif
.PHONY: fuzzers

# The seeds of fuzz_agent and fuzz_link, made with the daemons' encoders
# (in any build): "make fuzz-seeds" rewrites tests/fuzz/corpus/agent/ and
# tests/fuzz/corpus/link/ in the source tree, tests/fuzz/corpus/
# logreplay/ (small dm-log-writes logs, tests/fuzz/mkseeds_logreplay.sh)
# tests/fuzz/corpus/srp/ (IUs as ib_srp sends them,
# tests/fuzz/mkseeds_srp.c) and tests/fuzz/corpus/tcmu/ (TCMU areas as
# target_core_user fills them, tests/fuzz/mkseeds_tcmu.c).
# scripts/fuzz.sh runs the fuzzers and checks that each ran on its seeds.
EXTRA_PROGRAMS = tests/fuzz/mkseeds_agent_link tests/fuzz/mkseeds_srp \
	tests/fuzz/mkseeds_tcmu
tests_fuzz_mkseeds_agent_link_SOURCES = tests/fuzz/mkseeds_agent_link.c \
	agentd/cluster_msg.c agentd/sync.c
tests_fuzz_mkseeds_agent_link_LDADD = $(TANDEM_LIBS)
tests_fuzz_mkseeds_srp_SOURCES = tests/fuzz/mkseeds_srp.c $(SRP_IU_SOURCES)
tests_fuzz_mkseeds_tcmu_SOURCES = tests/fuzz/mkseeds_tcmu.c \
	tests/lib/tcmu_build.h $(TCMU_RING_SOURCES)
CLEANFILES += tests/fuzz/mkseeds_agent_link tests/fuzz/mkseeds_srp \
	tests/fuzz/mkseeds_tcmu
fuzz-seeds: tests/fuzz/mkseeds_agent_link tests/fuzz/mkseeds_srp \
		tests/fuzz/mkseeds_tcmu
	rm -rf $(srcdir)/tests/fuzz/corpus/agent $(srcdir)/tests/fuzz/corpus/link
	$(MKDIR_P) $(srcdir)/tests/fuzz/corpus/agent $(srcdir)/tests/fuzz/corpus/link
	tests/fuzz/mkseeds_agent_link $(srcdir)/tests/fuzz/corpus/agent \
		$(srcdir)/tests/fuzz/corpus/link
	rm -rf $(srcdir)/tests/fuzz/corpus/logreplay
	$(srcdir)/tests/fuzz/mkseeds_logreplay.sh \
		$(srcdir)/tests/fuzz/corpus/logreplay
	rm -rf $(srcdir)/tests/fuzz/corpus/srp
	$(MKDIR_P) $(srcdir)/tests/fuzz/corpus/srp
	tests/fuzz/mkseeds_srp $(srcdir)/tests/fuzz/corpus/srp
	rm -rf $(srcdir)/tests/fuzz/corpus/tcmu
	$(MKDIR_P) $(srcdir)/tests/fuzz/corpus/tcmu
	tests/fuzz/mkseeds_tcmu $(srcdir)/tests/fuzz/corpus/tcmu
.PHONY: fuzz-seeds
