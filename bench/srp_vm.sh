#!/bin/bash
# srp_vm.sh - SRP against iSCSI and against the kernel's ib_srpt, in one
# qemu guest of the VM lab (issue 13, part 4; bench/README.md). The
# guest (tests/vm/build.sh srp: Soft-RoCE, ib_srp, LIO with ib_srpt,
# open-iscsi, fio) is target and initiator at once:
#
#   1. tandemd (TANDEMD: a release build) serves a vdisk_nullio LU and a
#      ram LU, SIZE_MB each, on TARGET_DRIVER ib_srpt (RDMA/CM on
#      10.0.2.15:5555, rxe0 over eth0) and TARGET_DRIVER iscsi
#      (10.0.2.15:3260); fio runs through ib_srp, then through
#      open-iscsi, on the same two LUs;
#   2. tandemd stopped, LIO's ib_srpt serves two rd_mcp LUs (one with
#      rd_nullio=1, one a ramdisk) of the same size; fio through ib_srp.
#
# The fio jobs, each on each LU: 4 KiB random read and write at iodepth
# 32, 1 MiB sequential read and write at iodepth 4; direct=1,
# ioengine=libaio, time_based, RUNTIME s measured after RAMP s. The
# 1 MiB write runs first on each LU, so every read finds written blocks.
#
#   sudo bench/srp_vm.sh         (from the top of the tree)
#
# Prints every fio run as it ends, then one Markdown table (target x
# transport x LU x job: IOPS, MB/s, completion latency p50/p99/p99.9,
# the guest's CPU split, tandemd's CPU) and the ratios SRP/iSCSI and
# tandem/LIO. Speed is reported, never asserted: the exit status is
# non-zero only when a step failed (a target did not start, a login,
# fio's own error), so that the table is complete when it is 0.
# Environment (defaults in brackets):
#   TANDEMD     tandemd to copy into the guest [./build-rel/targetd/tandemd]
#   RUNTIME     measured seconds per fio run [10]
#   RAMP        unmeasured seconds before it [2]
#   SIZE_MB     MiB per LU [128]
#   JOBS        subset of "write1m read1m randwrite4k randread4k" [all]
#   TARGETS     subset of "tandem lio" [both]
#   VM_MEM      the guest's memory in MiB [1024]
#   OUT         a directory for every fio JSON and the table [none]
#   MTU         eth0's MTU in the guest, before rxe0 is added [1500]:
#               rxe's RDMA MTU follows it (1024 at 1500, 4096 at 9000)
#   VM_CACHE    tests/vm/build.sh's cache; LAB_KEEP=1 keeps the lab
# Root; the VM lab's lock: flock /tmp/tandem-test.lock bench/srp_vm.sh.
# About 6 minutes with the defaults (24 fio runs of 12 s under TCG).
set -u
cd "$(dirname "$0")/.." || exit 1
: "${TANDEMD:=$PWD/build-rel/targetd/tandemd}"
RUNTIME=${RUNTIME:-10}
RAMP=${RAMP:-2}
SIZE_MB=${SIZE_MB:-128}
JOBS=${JOBS:-"write1m read1m randwrite4k randread4k"}
TARGETS=${TARGETS:-"tandem lio"}
MTU=${MTU:-1500}
: "${VM_MEM:=1024}"
OUT=${OUT:-}
SRP_PORT=5555
LIO_PORT=5556
ISCSI_PORT=3260
. tests/vm/solo.bash
. bench/vm_bench.bash
vmb_whole srp_vm RUNTIME RAMP SIZE_MB MTU VM_MEM
command -v jq >/dev/null || scripts/apt-install.sh jq >/dev/null || exit 1
SOLO_TITLE="srp_vm"
SOLO_DUMP='dmesg | tail -30; [ -f /tmp/tandemd.log ] && tail -20 /tmp/tandemd.log'
[ -z "$OUT" ] || mkdir -p "$OUT" || exit 1
ROWS=()

case " $TARGETS " in *" tandem "*)
	[ -x "$TANDEMD" ] || { echo "srp_vm: $TANDEMD not built (a release build: ../configure without --enable-sanitizers)" >&2; exit 2; }
	;;
esac

# run_jobs TARGET TRANSPORT NULLDISK RAMDISK: every job on both LUs, a
# row each (ROWS: tab-separated fields)
run_jobs() {
	local lu dev job v c r t0 x
	for lu in null ram; do
		[ "$lu" = null ] && dev=$3 || dev=$4
		for job in $JOBS; do
			t0=$(date +%s%N)
			vmb_fio "$1 $2 $lu $job" "srpbench fio $dev $job $RUNTIME $RAMP" $((RUNTIME + RAMP + 90)) || continue
			c=$VMB_CPU
			# (then fio's own CPU, usr + sys)
			v="$VMB_V $(jq -r '.jobs[0].usr_cpu + .jobs[0].sys_cpu' <<<"$VMB_JSON")"
			# the guest's CPU over the job (jiffies: all, idle, user,
			# system, softirq; tandemd's), the MB lo and eth0 sent, then
			# per I/O (the counters span RAMP + RUNTIME, at fio's rate):
			# the packets rxe0 sent, tandemd's context switches; then
			# tandemd's system time (% of the CPU), the memory regions
			# registered and the guest's context switches per I/O
			v+=" "$(awk -v iops="${v%% *}" '{d = $14 - $1; if (d <= 0) d = 1
				n = iops * d / 100; if (n <= 0) n = 1
				printf "%.0f %.0f %.0f %.0f %.0f %.0f %.0f %.1f %.1f %.0f %.2f %.1f",
					100 * (d - ($15 - $2)) / d, 100 * ($16 - $3) / d, 100 * ($17 - $4) / d,
					100 * ($18 - $5) / d, 100 * ($19 - $6) / d,
					($20 - $7) / 1e6, ($21 - $8) / 1e6, ($22 - $9) / n, ($23 - $10) / n,
					100 * ($24 - $11) / d, ($25 - $12) / n, ($26 - $13) / n}' <<<"$c")
			r=$(sed -n 's/^res: //p' <<<"$VM_OUT")
			read -ra x <<<"$v"
			[ ${#x[@]} -eq 18 ] || { ko "$1 $2 $lu $job: figures '$v' from '$c'"; continue; }
			ROWS+=("$1 $2 $lu $job $v")
			ok "$1 $2 $lu $job: $(printf '%.0f IOPS, %.1f MB/s, p50 %.0f us, p99 %.0f us' "${x[@]:0:4}"); guest busy ${x[6]}% (sys ${x[8]}%, softirq ${x[9]}%), tandemd ${x[10]}% (system ${x[15]}%); lo ${x[11]} MB, eth0 ${x[12]} MB sent; rxe0 ${x[13]} packets and tandemd ${x[14]} context switches and ${x[16]} memory registrations per I/O, the guest ${x[17]} context switches per I/O; RDMA resources: ${r:-none} ($(secs "$t0") s)"
		done
	done
}

echo "== the guest: Soft-RoCE, ib_srp, LIO's ib_srpt, open-iscsi, fio"
vmb_boot srp srp bench/srp_vm.guest srpbench
[ "$MTU" = 1500 ] || gstep "eth0's MTU $MTU" 10 "ip link set eth0 mtu $MTU"
gstep "Soft-RoCE: the modules (LIO's too), rxe0 on eth0" 60 "srp setup lio | grep -E 'modules=|rxe_secs=|active_mtu'; ibv_devinfo -d rxe0 | grep -E 'active_mtu|max_mtu'"
FIG+=("rxe0: $(grep -oE 'active_mtu:.*' <<<"$VM_OUT" | head -1)")

if [[ " $TARGETS " == *" tandem "* ]]; then
	echo "== tandemd: a null and a ram LU of $SIZE_MB MiB on ib_srpt and iscsi"
	gstep "tandemd serves both LUs on 10.0.2.15:$SRP_PORT (SRP) and :$ISCSI_PORT (iSCSI)" 60 \
		"srpbench tandem $SIZE_MB $SRP_PORT $ISCSI_PORT"
	gstep "ib_srp logged in to tandemd" 60 "srp login $SRP_PORT >/dev/null && srp host && srpbench srpdisks"
	FIG+=("ib_srp on tandemd: req_lim $(kv req_lim "$VM_OUT"), can_queue $(kv can_queue "$VM_OUT"), sg_tablesize $(kv sg_tablesize "$VM_OUT")")
	run_jobs tandem SRP "$(kv null "$VM_OUT")" "$(kv ram "$VM_OUT")"
	gstep "ib_srp logged out" 40 "srp logout"
	gstep "open-iscsi logged in to tandemd on 10.0.2.15:$ISCSI_PORT" 60 "srpbench iscsi $ISCSI_PORT"
	run_jobs tandem iSCSI "$(kv null "$VM_OUT")" "$(kv ram "$VM_OUT")"
	gstep "open-iscsi logged out" 40 "srpbench iscsi_out $ISCSI_PORT"
	gstep "tandemd stopped" 40 "srp stop"
fi
if [[ " $TARGETS " == *" lio "* ]]; then
	echo "== LIO: ib_srpt with an rd_mcp null LU and a ramdisk LU of $SIZE_MB MiB"
	gstep "LIO's ib_srpt serves both LUs on RDMA/CM port $LIO_PORT" 60 "srpbench lio $SIZE_MB $LIO_PORT"
	gstep "ib_srp logged in to LIO" 60 "srp login $LIO_PORT >/dev/null && srp host && srpbench srpdisks"
	FIG+=("ib_srp on LIO: req_lim $(kv req_lim "$VM_OUT"), can_queue $(kv can_queue "$VM_OUT"), sg_tablesize $(kv sg_tablesize "$VM_OUT")")
	run_jobs LIO SRP "$(kv null "$VM_OUT")" "$(kv ram "$VM_OUT")"
	gstep "ib_srp logged out" 40 "srp logout"
fi

echo "== srp_vm: fio, direct=1 libaio, $RUNTIME s after $RAMP s; TCG, 1 vCPU, MTU $MTU"
echo
echo "| target | transport | LU | job | IOPS | MB/s | p50 us | p99 us | p99.9 us | guest busy % | sys % | softirq % | tandemd % (sys) | rxe pkts/IO | tandemd cs/IO | MR regs/IO | guest cs/IO |"
echo "|---|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
for r in "${ROWS[@]}"; do
	# shellcheck disable=SC2086
	set -- $r
	printf '| %s | %s | %s | %s | %.0f | %.1f | %.0f | %.0f | %.0f | %s | %s | %s | %s | %s | %s | %s | %s |\n' \
		"$1" "$2" "$3" "$4" "$5" "$6" "$7" "$8" "$9" "${11}" "${13}" "${14}" \
		"$([ "$1" = tandem ] && echo "${15} (${20})" || echo -)" \
		"$([ "$2" = SRP ] && echo "${18}" || echo -)" "$([ "$1" = tandem ] && echo "${19}" || echo -)" \
		"$([ "$1 $2" = "tandem SRP" ] && echo "${21}" || echo -)" "${22}"
done | tee ${OUT:+"$OUT/table.md"}
echo
echo "| LU | job | tandem SRP / tandem iSCSI | tandem SRP / LIO SRP |"
echo "|---|---|--:|--:|"
printf '%s\n' "${ROWS[@]}" | awk '{k = $3 " " $4; v[$1 " " $2 " " k] = $5; if (!(k in seen)) {seen[k] = 1; o[++n] = k}}
	function r(a, b) {return (a != "" && b > 0) ? sprintf("%.2f", a / b) : "-"}
	END {for (i = 1; i <= n; i++) {k = o[i]; split(k, p, " ")
		printf "| %s | %s | %s | %s |\n", p[1], p[2], r(v["tandem SRP " k], v["tandem iSCSI " k]),
			r(v["tandem SRP " k], v["LIO SRP " k])}}' | tee -a ${OUT:+"$OUT/table.md"}
echo
finish
