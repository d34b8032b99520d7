# tests/func/pr_multi.mk: the libiscsi client of tests/func/pr.sh
# (persistent reservations and ALUA with several initiators and ports).
# Included from tests/func/local.mk.
if HAVE_LIBISCSI
noinst_PROGRAMS += tests/func/pr_multi
tests_func_pr_multi_SOURCES = tests/func/pr_multi.c
tests_func_pr_multi_CFLAGS = $(AM_CFLAGS) $(ISCSI_CFLAGS)
tests_func_pr_multi_LDADD = $(ISCSI_LIBS)
endif
