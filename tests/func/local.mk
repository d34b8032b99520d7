# Functional tests are shell scripts run by scripts/test.sh against the
# built tandemd (see tests/lib/common.sh); helper programs they use:
if HAVE_LIBISCSI
noinst_PROGRAMS += tests/func/iscsi_neg
tests_func_iscsi_neg_SOURCES = tests/func/iscsi_neg.c
tests_func_iscsi_neg_LDADD = $(TANDEM_LIBS)
endif
EXTRA_DIST += tests/func tests/lib tests/conformance
include tests/func/helpers.mk
include tests/func/alua.mk
include tests/func/pr_multi.mk
