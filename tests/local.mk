# Unit tests (cmocka, TAP-less: exit 0/1/77), functional tests, fuzzers.
include tests/unit/local.mk
include tests/func/local.mk
include tests/fuzz/local.mk
include tests/cluster/local.mk
include tests/vm/local.mk
