#!/bin/bash
# kernel_vm.sh - the kernel's fabric tcm_loop served by tandemd through
# TCMU against LIO's own backstores through the same tcm_loop, in one
# qemu guest of the VM lab (issue 14, part 4; bench/README.md). The
# guest (tests/vm/build.sh kernel: LIO, TCMU, tcm_loop, fio) is target
# and initiator at once:
#
#   1. tandemd (TANDEMD: a release build) serves a vdisk_nullio, a ram
#      and a vdisk_fileio LU (on tmpfs), SIZE_MB each, each as LUN 0 of
#      its own TARGET of TARGET_DRIVER scst_local: fio on each tcm_loop
#      disk;
#   2. tandemd stopped (SIGTERM), LIO serves rd_mcp with rd_nullio=1,
#      an rd_mcp ramdisk and fileio on tmpfs, the same size, as LUNs 0-2
#      of a tcm_loop WWN written in configfs: fio on each.
#
# The fio jobs, each on each LU: 4 KiB random read and write at iodepth
# 32, 1 MiB sequential read and write at iodepth 4; direct=1,
# ioengine=libaio, time_based, RUNTIME s measured after RAMP s. The
# 1 MiB write runs first on each LU, so every read finds written blocks.
#
#   sudo flock /tmp/tandem-test.lock bench/kernel_vm.sh   (top of the tree)
#
# Prints every fio run as it ends, then one Markdown table (target x LU
# x job: IOPS, MB/s, completion latency p50/p99/p99.9, the guest's CPU split,
# tandemd's CPU, the guest's CPU time per I/O and tandemd's) and the
# ratios tandem/LIO. Speed is reported, never asserted: the exit status
# is non-zero only when a step failed (a target did not start, fio's
# own error), so that the table is complete when it is 0.
# Environment (defaults in brackets):
#   TANDEMD     tandemd to copy into the guest [./build-rel/targetd/tandemd]
#   RUNTIME     measured seconds per fio run [10]
#   RAMP        unmeasured seconds before it [2]
#   SIZE_MB     MiB per LU [128]
#   JOBS        subset of "write1m read1m randwrite4k randread4k" [all]
#   LUS         subset of "null ram file" [all]
#   TARGETS     subset of "tandem lio" [both]
#   VM_MEM      the guest's memory in MiB [1536]
#   OUT         a directory for every fio JSON and the table [none]
#   VM_CACHE    tests/vm/build.sh's cache; LAB_KEEP=1 keeps the lab
# About 6 minutes with the defaults (24 fio runs of 12 s under TCG).
set -u
cd "$(dirname "$0")/.." || exit 1
: "${TANDEMD:=$PWD/build-rel/targetd/tandemd}"
RUNTIME=${RUNTIME:-10}
RAMP=${RAMP:-2}
SIZE_MB=${SIZE_MB:-128}
JOBS=${JOBS:-"write1m read1m randwrite4k randread4k"}
LUS=${LUS:-"null ram file"}
TARGETS=${TARGETS:-"tandem lio"}
: "${VM_MEM:=1536}"
OUT=${OUT:-}
case " $TARGETS " in *" tandem "*)
	[ -x "$TANDEMD" ] || { echo "kernel_vm: $TANDEMD not built (a release build: ../configure without --enable-sanitizers)" >&2; exit 2; }
	;;
esac
. tests/vm/solo.bash
. bench/vm_bench.bash
vmb_whole kernel_vm RUNTIME RAMP SIZE_MB VM_MEM
command -v jq >/dev/null || scripts/apt-install.sh jq >/dev/null || exit 1
SOLO_TITLE="kernel_vm"
SOLO_DUMP='dmesg | tail -30; [ -f /tmp/tandemd.log ] && tail -20 /tmp/tandemd.log'
[ -z "$OUT" ] || mkdir -p "$OUT" || exit 1
ROWS=()

# run_jobs TARGET DISKS: every job on each LU of LUS ("null=sdX ram=sdY
# file=sdZ"), a row each (ROWS: space-separated fields)
run_jobs() {
	local lu dev job v c t0 x
	for lu in $LUS; do
		dev=$(kv "$lu" "$2")
		[ -n "$dev" ] || { ko "$1: no $lu disk in '$2'"; continue; }
		for job in $JOBS; do
			t0=$(date +%s%N)
			vmb_fio "$1 $lu $job" "kbench fio $dev $job $RUNTIME $RAMP" $((RUNTIME + RAMP + 90)) || continue
			c=$VMB_CPU
			v=$VMB_V
			# the counters (cpu: 9 fields before, 9 after) span RAMP +
			# RUNTIME at fio's rate: the guest busy, user, system and
			# softirq in % of its one CPU, tandemd's % (and its system
			# part), the guest's CPU time per I/O and tandemd's (us),
			# the guest's context switches and tandemd's per I/O
			# (jiffies: 1/100 s)
			v+=" "$(awk -v iops="${v%% *}" '{d = $10 - $1; if (d <= 0) d = 1
				n = iops * d / 100; if (n <= 0) n = 1
				busy = d - ($11 - $2)
				printf "%.0f %.0f %.0f %.0f %.0f %.0f %.1f %.1f %.2f %.2f",
					100 * busy / d, 100 * ($12 - $3) / d, 100 * ($13 - $4) / d,
					100 * ($14 - $5) / d, 100 * ($15 - $6) / d, 100 * ($16 - $7) / d,
					busy * 1e4 / n, ($15 - $6) * 1e4 / n, ($18 - $9) / n, ($17 - $8) / n}' <<<"$c")
			read -ra x <<<"$v"
			[ ${#x[@]} -eq 15 ] || { ko "$1 $lu $job: figures '$v' from '$c'"; continue; }
			ROWS+=("$1 $lu $job $v")
			ok "$1 $lu $job: $(printf '%.0f IOPS, %.1f MB/s, p50 %.0f us, p99 %.0f us' "${x[@]:0:4}"); guest busy ${x[5]}% (sys ${x[7]}%, softirq ${x[8]}%), tandemd ${x[9]}% (system ${x[10]}%); CPU per I/O: guest ${x[11]} us, tandemd ${x[12]} us; context switches per I/O: guest ${x[13]}, tandemd ${x[14]} ($(secs "$t0") s)"
		done
	done
}

echo "== the guest: LIO, TCMU, tcm_loop, fio"
vmb_boot kernel kernel bench/kernel_vm.guest kbench
gstep "the modules (LIO, TCMU, tcm_loop)" 60 "kernel setup"

if [[ " $TARGETS " == *" tandem "* ]]; then
	echo "== tandemd: null, ram and fileio LUs of $SIZE_MB MiB through scst_local (tcm_loop, TCMU)"
	gstep "tandemd serves the three LUs through tcm_loop" 90 "kbench tandem $SIZE_MB >/tmp/kb.out; rc=\$?; grep -vE '^[[:space:]]|^[A-Z_]|^}' /tmp/kb.out; exit \$rc"
	run_jobs tandem "$(grep '^null=' <<<"$VM_OUT")"
	gstep "tandemd stopped (SIGTERM)" 40 "kernel stop TERM"
fi
if [[ " $TARGETS " == *" lio "* ]]; then
	echo "== LIO: rd_mcp null, rd_mcp ramdisk, fileio on tmpfs of $SIZE_MB MiB through tcm_loop"
	gstep "LIO serves the three LUs through tcm_loop" 90 "kbench lio $SIZE_MB"
	run_jobs LIO "$(grep '^null=' <<<"$VM_OUT")"
	gstep "LIO's objects removed" 40 "kbench lio_off"
fi

echo "== kernel_vm: fio through tcm_loop, direct=1 libaio, $RUNTIME s after $RAMP s; TCG, 1 vCPU"
echo
echo "| target | LU | job | IOPS | MB/s | p50 us | p99 us | p99.9 us | guest busy % | sys % | softirq % | tandemd % (sys) | CPU us/IO guest | CPU us/IO tandemd | guest cs/IO |"
echo "|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
for r in "${ROWS[@]}"; do
	# shellcheck disable=SC2086
	set -- $r
	printf '| %s | %s | %s | %.0f | %.1f | %.0f | %.0f | %.0f | %s | %s | %s | %s | %s | %s | %s |\n' \
		"$1" "$2" "$3" "$4" "$5" "$6" "$7" "$8" "$9" "${11}" "${12}" \
		"$([ "$1" = tandem ] && echo "${13} (${14})" || echo -)" "${15}" \
		"$([ "$1" = tandem ] && echo "${16}" || echo -)" "${17}"
done | tee ${OUT:+"$OUT/table.md"}
echo
echo "| LU | job | tandem / LIO IOPS | CPU per I/O tandem / LIO |"
echo "|---|---|--:|--:|"
printf '%s\n' "${ROWS[@]}" | awk '{k = $2 " " $3; v[$1 " " k] = $4; u[$1 " " k] = $15
		if (!(k in seen)) {seen[k] = 1; o[++n] = k}}
	function r(a, b) {return (a != "" && b > 0) ? sprintf("%.2f", a / b) : "-"}
	END {for (i = 1; i <= n; i++) {k = o[i]; split(k, p, " ")
		printf "| %s | %s | %s | %s |\n", p[1], p[2], r(v["tandem " k], v["LIO " k]),
			r(u["tandem " k], u["LIO " k])}}' | tee -a ${OUT:+"$OUT/table.md"}
echo
finish
