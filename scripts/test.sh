#!/bin/bash
# test.sh - install everything the tests need, then build and run the whole
# suite: gcc build with ASan+UBSan and its unit tests, the functional and
# conformance tests against that (sanitized) tandemd, the cluster lab, the
# VM lab (a Linux initiator in qemu against two heads), a clang -Werror
# build, the fuzzers for a short while, and the format check.
# Ends with one line "N passed, N failed, N skipped" (steps passed and
# failed; skips are every step that exited 77 and every part of a step
# that said "SKIP" or that cmocka skipped); exits non-zero on any failure
# and on any skip that tests/skips.allow does not list with its reason.
#
# Environment (for working on one part by hand; .ci/run clears them):
# FUZZ_SECONDS (default 30 per fuzzer), FUZZ_ONLY (a regex of fuzzer
# names: scripts/fuzz.sh), TESTS_ONLY (a regex of step names
# to run), KEEP_BUILD=1 (reuse build directories).
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1

./scripts/deps.sh test || { echo "dependency installation failed"; echo "0 passed, 1 failed, 0 skipped"; exit 1; }

passed=0
failed=0
skipped=0
notrun=0
failures=()
# the knobs that make the run shorter or point it at other binaries: a
# run with any of them set is never reported as a complete run
shortened=()
for v in TESTS_ONLY FUZZ_SECONDS FUZZ_MIN_RUNS FUZZ_ONLY CTL_QUICK RACE_N HOLD_SESSION ISCSI_NEG; do
	[ -n "${!v:-}" ] && shortened+=("$v=${!v}")
done
logdir=$top/test-logs
rm -rf "$logdir"
mkdir -p "$logdir"

# skip_allowed STEP TEXT: print the reason tests/skips.allow gives for
# this skip ("STEP-REGEX :: TEXT-REGEX :: reason" per line)
skip_allowed() {
	local step=$1 text=$2 srx trx why
	while IFS= read -r line; do
		case $line in '' | '#'*) continue ;; esac
		srx=${line%% :: *}
		line=${line#* :: }
		trx=${line%% :: *}
		why=${line#* :: }
		if [[ $step =~ ^($srx)$ ]] && [[ $text =~ $trx ]]; then
			echo "$why"
			return 0
		fi
	done <tests/skips.allow
	return 1
}

# skips_of STEP RC: count the skips in STEP's log (the whole step when it
# exited 77, "SKIP..." lines of the scripts, cmocka's skipped tests,
# automake's skipped test programs); an unlisted one fails the step
skips_of() {
	local name=$1 rc=$2 text why bad=0
	if [ "$rc" -eq 77 ]; then
		echo "the whole step: $(grep -m1 '^SKIP' "$logdir/$name.log")"
	else
		grep -E '^SKIP( \([^)]*\))?: |^\[  SKIPPED \] ' "$logdir/$name.log" | sort -u
	fi >"$logdir/$name.skips"
	while IFS= read -r text; do
		skipped=$((skipped + 1))
		if why=$(skip_allowed "$name" "$text"); then
			echo "    skipped: $text (allowed: $why)"
		else
			echo "    skipped: $text -- NOT in tests/skips.allow"
			bad=1
		fi
	done <"$logdir/$name.skips"
	return $bad
}

# step NAME CMD...: run CMD, its output to test-logs/NAME.log
step() {
	local name=$1 rc t0
	shift
	if [ -n "${TESTS_ONLY:-}" ] && ! [[ $name =~ $TESTS_ONLY ]]; then
		notrun=$((notrun + 1))
		return 0
	fi
	t0=$(date +%s)
	printf '%-44s ' "$name"
	"$@" >"$logdir/$name.log" 2>&1
	rc=$?
	if [ $rc -eq 0 ]; then
		passed=$((passed + 1))
		echo "ok ($(( $(date +%s) - t0 )) s)"
	elif [ $rc -eq 77 ]; then
		echo "skipped ($(( $(date +%s) - t0 )) s)"
	else
		failed=$((failed + 1))
		failures+=("$name")
		echo "FAILED (exit $rc, $(( $(date +%s) - t0 )) s); last lines of $logdir/$name.log:"
		tail -40 "$logdir/$name.log" | sed 's/^/    /'
	fi
	if ! skips_of "$name" "$rc"; then
		failed=$((failed + 1))
		failures+=("$name (a skip not in tests/skips.allow)")
	fi
	# show the conformance summary lines even on success
	case $name in conformance-*) grep -E "^iscsi-test-cu:|^excluded:" "$logdir/$name.log" | sed 's/^/    /' ;; esac
	return 0
}

configure_build() {
	local dir=$1
	shift
	if [ -z "${KEEP_BUILD:-}" ] || [ ! -f "$dir/Makefile" ]; then
		rm -rf "$dir"
		mkdir -p "$dir"
		(cd "$dir" && "$top/configure" --quiet "$@")
	fi
}

build_asan() {
	autoreconf -fi &&
		configure_build build-asan CC=gcc --enable-sanitizers &&
		make -C build-asan -j"$(nproc)"
}

# make check, then: every unit test program (tests/unit/test_*.c) ran and
# has a result (a configure that lost cmocka builds none, and make check
# then passes with nothing run)
unit_tests() {
	local rc=0 src prog res
	make -C build-asan -j"$(nproc)" check || rc=1
	for f in build-asan/tests/unit/*.log; do
		[ -f "$f" ] && { echo "== $f"; cat "$f"; }
	done
	for src in tests/unit/test_*.c; do
		prog=build-asan/tests/unit/$(basename "$src" .c)
		res=$(sed -n 's/^:test-result: //p' "$prog.trs" 2>/dev/null)
		case $res in
		PASS) ;;
		SKIP) echo "SKIP: $(basename "$prog") (the whole program exited 77)" ;;
		*) echo "FAIL: $(basename "$prog") has no result (${res:-not built or not run})"; rc=1 ;;
		esac
	done
	return $rc
}

build_clang() {
	configure_build build-clang CC=clang && make -C build-clang -j"$(nproc)"
}

# gcc with configure's default CFLAGS (-g -O2), as scripts/demo.sh builds:
# the optimiser's warnings (maybe-uninitialized) differ from -O0/-O1
build_release() {
	configure_build build-rel CC=gcc && make -C build-rel -j"$(nproc)"
}

# every fuzzer of tests/fuzz/local.mk on its seeds, UBSan not recoverable,
# each checked to have really run (scripts/fuzz.sh)
fuzz() {
	configure_build build-fuzz CC=clang --enable-fuzzers || return 1
	make -C build-fuzz -j"$(nproc)" fuzzers || return 1
	scripts/fuzz.sh build-fuzz "$logdir/fuzz" "${FUZZ_SECONDS:-30}"
}

format_check() {
	local bad=0 f
	for f in $(git ls-files '*.c' '*.h'); do
		if ! clang-format --style=file "$f" | cmp -s - "$f"; then
			echo "not clang-formatted: $f"
			bad=1
		fi
	done
	return $bad
}

# every shell script of the tree (.shellcheckrc says what is disabled)
shellcheck_all() {
	# shellcheck disable=SC2046 # one argument per file
	shellcheck -x $(git ls-files '*.sh' '*.bash') .ci/run &&
		# the VM lab guest's scripts (busybox sh, no extension)
		shellcheck -s sh tests/vm/guest/init tests/vm/guest/vmctl tests/vm/guest/paths \
			tests/vm/guest/asnode tests/vm/guest/bypass-multipath \
			tests/vm/guest/crash tests/vm/guest/srp tests/vm/guest/kernel tests/vm/guest/powervm \
			bench/srp_vm.guest &&
		# the OCF agents (POSIX sh, sources of ra/NAME)
		shellcheck -s sh ra/target.in ra/alua.in &&
		# the appliance's first-boot tool (bash, source of images/tandem-setup)
		shellcheck images/tandem-setup.in &&
		# the lab's fence agent (POSIX sh, no extension)
		shellcheck -s sh tests/cluster/fence_tandemlab &&
		# the VM lab's power switch and its fence agent (bash)
		shellcheck -s bash tests/vm/vmpower tests/vm/guest/fence_tandemvm
}

step build-gcc-sanitizers build_asan
# the clang build before the tests: cluster-failover upgrades the heads
# to it (a different build of the same tree)
step build-clang build_clang
step build-gcc-release build_release
if [ -x build-asan/targetd/tandemd ]; then
	export TANDEMD=$top/build-asan/targetd/tandemd
	export TANDEMCTL=$top/build-asan/ctl/tandemctl
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
	export UBSAN_OPTIONS=print_stacktrace=1
	step unit-tests unit_tests
	for t in tests/func/*.sh; do
		[ -f "$t" ] || continue
		step "func-$(basename "$t" .sh)" bash "$t"
	done
	# each conformance run's bar is its honest count measured with -V
	# (docs/conformance.md); every selected test must run
	step conformance-fileio-512 tests/conformance/iscsi-test-cu.sh --handler vdisk_fileio --blocksize 512 --port 3300 --min-honest 200
	# the same LU fully provisioned: the thin-provisioning tests skip
	# (libiscsi: "Logical unit is fully provisioned"), the rest must pass
	step conformance-fileio-512-thick tests/conformance/iscsi-test-cu.sh --handler vdisk_fileio --blocksize 512 --port 3330 --min-honest 191 --thick
	# a 512e LU (4096-byte physical blocks): the 5 tests that need more
	# than one logical block per physical block run here; libiscsi's
	# GetLBAStatus.UnmapSingle wants a first descriptor that does not
	# contain the LBA asked for when LBPPB > 1 (it passes above)
	step conformance-fileio-512e tests/conformance/iscsi-test-cu.sh --handler vdisk_fileio --blocksize 512 --port 3320 --min-honest 204 \
		--device-attr "physical_blocksize 4096" \
		--exclude 'GetLBAStatus\.UnmapSingle' "with LBPPB > 1 libiscsi 1.19 expects the first LBA status descriptor to start at the next physical block, not at the LBA asked for (SBC-4 GET LBA STATUS)"
	# libiscsi 1.19's verify_write_works() (ProutReserve.Access*) sends
	# 512 bytes per block whatever the block size: those 6 tests run on
	# the 512-byte LU above
	step conformance-ram-4096 tests/conformance/iscsi-test-cu.sh --handler ram --blocksize 4096 --port 3310 --min-honest 194 \
		--exclude 'ProutReserve\.Access' "libiscsi 1.19 writes 512 bytes per block in these tests whatever the block size"
	# a read-only removable disk: libiscsi's ReadOnly, PreventAllow,
	# NoMedia and StartStopUnit suites only run on an SBC device with
	# RMB=1 (they eject the medium themselves with START STOP UNIT)
	step conformance-readonly-removable tests/conformance/iscsi-test-cu.sh --handler vdisk_fileio --port 4000 --min-honest 13 --one-path \
		--device-attr "read_only 1" --device-attr "removable 1" --test "ALL.ReadOnly,ALL.PreventAllow,ALL.NoMedia,ALL.StartStopUnit"
	# the cluster lab: namespaces, real corosync, tandemd -A and
	# tandem-agentd per head (tests/cluster/README.md); the initiators'
	# own leaks are not what these steps test
	export AGENTD=$top/build-asan/agentd/tandem-agentd
	export SCSITOOL=$top/build-asan/tests/cluster/scsitool
	step cluster-lab tests/cluster/lab_selftest.sh
	step cluster-scenarios env ASAN_OPTIONS=detect_leaks=0:abort_on_error=0 tests/cluster/scenarios.sh
	step cluster-config-edits env ASAN_OPTIONS=detect_leaks=0:abort_on_error=0 tests/cluster/config_edits.sh
	# the fencing-safe takeover: the hold until a departed head is
	# fenced (--fencing self on 3 heads, pacemaker on 2 with
	# stonith_admin --confirm), the two-head refusal, a frozen agent
	step cluster-fencing env ASAN_OPTIONS=detect_leaks=0:abort_on_error=0 tests/cluster/fencing.sh
	# a killed head's target port groups unavailable in every
	# survivor's RTPG, a rejoining head's transitioning (protocol 5)
	step cluster-departed env ASAN_OPTIONS=detect_leaks=0:abort_on_error=0 tests/cluster/departed.sh
	# the metrics endpoint of two heads: the same ALUA states, 2 members,
	# quorate, the PR generation on both, a killed head seen (about 5 s)
	step cluster-metrics env ASAN_OPTIONS=detect_leaks=0:abort_on_error=0 tests/cluster/metrics_heads.sh
	# scale-out on Ceph RBD (docs/scale-out.md): a real Ceph cluster in
	# the lab's namespaces (tests/cluster/ceph.bash: mon, mgr, 3 OSDs),
	# three heads active/active on two images: configuration errors,
	# one identity, ATS across heads, PR, resize, heads, an OSD, the
	# monitor and the whole cluster lost under I/O. iscsi-test-cu
	# against RBD (RBD_CU=1, 134 s more) and the lab's own self-test
	# (tests/cluster/ceph_lab.sh) run by hand: the CI budget
	step cluster-rbd env RBD_CU=0 ASAN_OPTIONS=detect_leaks=0:abort_on_error=0 tests/cluster/rbd_heads.sh
	# the OCF agents (ra/): ocf-tester on ocf:tandem:target and
	# ocf:tandem:alua inside a head of the lab, and their behaviour
	# beyond it (tests/cluster/ra_test.sh installs resource-agents)
	export RA_DIR=$top/build-asan/ra
	step ra-ocf-tester env ASAN_OPTIONS=detect_leaks=0:abort_on_error=0 tests/cluster/ra_test.sh
	# the same agents under a real Pacemaker (2 heads, no fencing yet):
	# promotion, a graceful move, the promoted head killed
	step cluster-pacemaker env ASAN_OPTIONS=detect_leaks=0:abort_on_error=0 tests/cluster/pacemaker.sh
	# docs/pacemaker.md's pcs and crm configurations, applied as written
	# to CIB files (no cluster) and compared
	step doc-configs tests/cluster/doc_configs.sh
	# Pacemaker with fencing (the lab fence agent tests/cluster/fence_tandemlab)
	# on 2 and 3 heads, a multipathing writer (tests/cluster/mpclient)
	# throughout: the promoted head killed and fenced, graceful moves, a
	# rolling upgrade to the clang build (built above), reservations kept;
	# every acknowledged block read back
	export MPCLIENT=$top/build-asan/tests/cluster/mpclient
	[ -x build-clang/targetd/tandemd ] && export UPGRADE_BUILD=$top/build-clang
	step cluster-failover env ASAN_OPTIONS=detect_leaks=0:abort_on_error=0 tests/cluster/failover_pcmk.sh
	# a real Linux initiator (open-iscsi, dm-multipath, scsi_dh_alua in a
	# qemu guest built from Debian packages) against two heads of the
	# lab: identity, head A killed, restarted, cut off (tests/vm/README.md)
	export VMWRITER=$top/build-asan/tests/vm/vmwriter
	step vm-failover env ASAN_OPTIONS=detect_leaks=0:abort_on_error=0 tests/vm/failover.sh nonoptimized
	# the same with head B in standby: its path must know the LU's size
	# (READ CAPACITY in standby) or the failover stalls
	step vm-failover-standby env ASAN_OPTIONS=detect_leaks=0:abort_on_error=0 tests/vm/failover.sh standby
	# the same guest against three heads active/active on one Ceph RBD
	# image (issue 17): one map, three paths in one path group, the
	# writes spread over them, one head killed under vmwriter
	step vm-rbd-multipath env ASAN_OPTIONS=detect_leaks=0:abort_on_error=0 tests/vm/rbd_multipath.sh
	# reservations from the same guest with a second initiator:
	# mpathpersist and sg_persist through both heads, head A killed and
	# restarted, fence_scsi, fio --verify (the guest's extras archive)
	step vm-reserve env ASAN_OPTIONS=detect_leaks=0:abort_on_error=0 tests/vm/reserve.sh
	# the same guest against two heads under a real Pacemaker with
	# fencing (fence_tandemlab, the tandem:target and tandem:alua
	# clones, unpromoted nonoptimized): the promoted head killed and
	# fenced, started again, graceful moves with crm_resource
	step vm-pacemaker env ASAN_OPTIONS=detect_leaks=0:abort_on_error=0 tests/vm/pacemaker.sh
	# the rolling upgrade of docs/upgrade.md under the same Pacemaker:
	# both heads on the previous release (dist/releases, built from its
	# commit), each in turn in standby, upgraded to this tree's build and
	# brought back, then one downgraded, under vmwriter; zero errors,
	# PR state, VPD and RTPG unchanged, the pause of each step
	step vm-upgrade env ASAN_OPTIONS=detect_leaks=0:abort_on_error=0 tests/vm/upgrade.sh
	# the same with N+1's tandem-agentd capped one protocol below its
	# own (--proto-max, per node): the group runs at the lowest
	# proto_max of its members (version N from vm-upgrade's cache)
	step vm-upgrade-capped env ASAN_OPTIONS=detect_leaks=0:abort_on_error=0 UPGRADE_PROTO_CAP=below tests/vm/upgrade.sh
	# crash consistency of what a head acknowledges (a power loss, not a
	# kill): tandemd's write_through and write-back fileio LUs on ext4 on
	# dm-log-writes in a guest, the log replayed to each mark on the host
	export CRASHWRITER=$top/build-asan/tests/vm/crashwriter
	export LOGREPLAY=$top/build-asan/tests/vm/logreplay
	step vm-crash env ASAN_OPTIONS=detect_leaks=0:abort_on_error=0 tests/vm/crash.sh
	# SRP over Soft-RoCE (rdma_rxe) in one guest: the kernel's ib_srp
	# logs in to the tree's tandemd (TARGET_DRIVER ib_srpt) in the same
	# guest: login, INQUIRY/VPD, dd figures, verified writes, LUN reset,
	# the remote port removed and added again, PR with the SRP
	# TransportID, the same identity through iSCSI, srpclient's edge
	# cases; then the same against LIO's ib_srpt, the kernel's peer
	# (tests/vm/README.md)
	export SRPCLIENT=$top/build-asan/tests/vm/srpclient
	step vm-srp env ASAN_OPTIONS=detect_leaks=0:abort_on_error=0 SRP_TARGET=tandem tests/vm/srp.sh
	step vm-srp-lio env SRP_TARGET=lio tests/vm/srp.sh
	# SRP HA: two tandemd heads in one guest (rxe0, rxe1: the same LU,
	# tg1 active, tg2 standby, no cluster agent), ib_srp through both,
	# dm-multipath: head A killed under verified writes with
	# fast_io_fail_tmo 5 and 2 (the pauses), ib_srp's reconnect when it
	# returns (tests/vm/README.md, docs/srp.md "SRP HA clients")
	step vm-srp-ha env ASAN_OPTIONS=detect_leaks=0:abort_on_error=0 tests/vm/srp_ha.sh
	# the kernel's fabric tcm_loop (SCST's scst_local) served by tandemd
	# through TCMU (kernel/) and the same LU over iSCSI in one guest:
	# identity, fio verify, data across the two paths, an iSCSI WRITE
	# EXCLUSIVE against the tcm_loop nexus, PR refused through tcm_loop,
	# transport_status offline/online under a multipath map, kill -9
	# and SIGUSR2 restarts, nothing left after SIGTERM, writeback under
	# memory pressure; then LIO's own backstores through tcm_loop
	# (tests/vm/README.md)
	step vm-kernel env ASAN_OPTIONS=detect_leaks=0:abort_on_error=0 tests/vm/kernel.sh
	step vm-kernel-lio env KERNEL_TARGET=lio tests/vm/kernel.sh
	# a PowerVM dual-VIOS client partition: qemu's pseries machine, two
	# spapr-vscsi adapters passing SCSI through qemu's iSCSI driver, one
	# per head; ibmvscsi and dm-multipath in the POWER guest (issue 15)
	step vm-powervm env ASAN_OPTIONS=detect_leaks=0:abort_on_error=0 tests/vm/powervm.sh
	# the appliance (issue 16): images/build.sh makes the Debian 12 head
	# image from Debian's packages (a release build of this tree inside),
	# qemu boots it with a demo LU; from the host: systemd running,
	# tandemd active through Type=notify, the watchdog armed and killing a
	# stuck tandemd, systemd-analyze verify and security, an iSCSI login,
	# INQUIRY, a write read back, tandem-setup inside (docs/appliance.md)
	step image env SCSITOOL="$top/build-asan/tests/cluster/scsitool" tests/vm/image.sh
	# vcdrom (MMC, type 05h, one path): what libiscsi runs on a
	# non-SBC device; its SBC-only tests report [SKIPPED] and do not count
	step conformance-cdrom tests/conformance/iscsi-test-cu.sh --handler vcdrom --port 4010 --min-honest 16 \
		--test "ALL.Inquiry,ALL.TestUnitReady,ALL.StartStopUnit,ALL.PreventAllow,ALL.NoMedia,ALL.ReadOnly,ALL.Read10,ALL.Read12,ALL.ReadCapacity10"
fi
step fuzzers fuzz
step clang-format format_check
step shellcheck shellcheck_all
step layers scripts/check-layers.sh

echo
if [ ${#failures[@]} -gt 0 ]; then
	echo "failed steps: ${failures[*]} (logs in $logdir)"
fi
if [ ${#shortened[@]} -gt 0 ]; then
	echo "not a complete run: shortened by ${shortened[*]} ($notrun steps not run)"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ ${#shortened[@]} -eq 0 ]
