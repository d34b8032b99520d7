#!/bin/bash
# run-compare.sh - tandemd against tgtd on this machine, same client, same
# backstore kinds, one run; iperf3 over loopback as the ceiling.
#
#   bench/run-compare.sh [-o DIR] [-h]
#
# Run from the top of a built tree (make), as root (tgtd needs it).  Prints a
# Markdown table on stdout and keeps every raw result (JSON), the targets'
# logs and the table in DIR (default bench-results-DATE).
#
# Environment (defaults in brackets):
#   TANDEMD       tandemd binary [./targetd/tandemd]
#   ISCSI_LOAD    load generator [./bench/iscsi_load]
#   DURATION      measured seconds per run, an integer [7]
#   WARMUP        unmeasured seconds before each run, an integer [1]
#   SIZE          bytes per LU, and the range every run uses [1073741824]
#   BACKSTORES    subset of "ram null fileio" [all three]
#   TARGETS       subset of "tandem tgtd" [both]
#   IPERF_SECS    seconds per iperf3 run [10]
#   TANDEM_PORT / TGT_PORT / IPERF_PORT  [3500 / 3510 / 3520]
#   TGT_CONTROL_PORT  tgtd's management channel number (-C) [3510]
#   PERF          1: also count the target's system calls, context switches
#                 and CPU time per I/O with perf stat (needs perf) [0].
#                 The system call tracepoint costs the target time per
#                 call, more for tgtd (many calls per I/O) than tandemd:
#                 take the speed table from a run without it.
#   WAIT_QUIET    before each workload, wait up to this many seconds for
#                 the machine to be idle (other processes below 15% of a
#                 core for 1 s) [0: do not wait]; for shared machines
#   NICE          niceness of everything started here (targets, client,
#                 iperf3) [0]; a negative value (root) keeps other work on
#                 a shared machine from disturbing the runs as much
#
# Speed is reported, not asserted: the exit status is 1 if any run had an
# I/O error or a target failed to start or stop, 2 on a usage error.
# Every process this script starts is ended by its PID.
set -u

usage() {
	sed -n '2,/^set -u/p' "$0" | sed -e '/^set -u/d' -e 's/^# \{0,1\}//'
}

OUT=""
while getopts "o:h" o; do
	case $o in
	o) OUT=$OPTARG ;;
	h)
		usage
		exit 0
		;;
	*)
		usage >&2
		exit 2
		;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || {
	usage >&2
	exit 2
}

TANDEMD=${TANDEMD:-./targetd/tandemd}
ISCSI_LOAD=${ISCSI_LOAD:-./bench/iscsi_load}
DURATION=${DURATION:-7}
WARMUP=${WARMUP:-1}
SIZE=${SIZE:-1073741824}
BACKSTORES=${BACKSTORES:-"ram null fileio"}
TARGETS=${TARGETS:-"tandem tgtd"}
IPERF_SECS=${IPERF_SECS:-10}
TANDEM_PORT=${TANDEM_PORT:-3500}
TGT_PORT=${TGT_PORT:-3510}
IPERF_PORT=${IPERF_PORT:-3520}
TGT_CONTROL_PORT=${TGT_CONTROL_PORT:-3510}
NICE=${NICE:-0}
PERF=${PERF:-0}
WAIT_QUIET=${WAIT_QUIET:-0}
OUT=${OUT:-bench-results-$(date +%Y%m%d-%H%M%S)}
for v in DURATION WARMUP SIZE IPERF_SECS TANDEM_PORT TGT_PORT \
	IPERF_PORT TGT_CONTROL_PORT WAIT_QUIET; do
	case ${!v} in
	'' | *[!0-9]*)
		echo "run-compare: $v must be a whole number, not '${!v}'" >&2
		exit 2
		;;
	esac
done
case $NICE in
-[0-9] | -1[0-9] | [0-9] | 1[0-9]) ;;
*)
	echo "run-compare: NICE must be from -19 to 19, not '$NICE'" >&2
	exit 2
	;;
esac
IQN=iqn.2026-11.org.tandem.bench

# The iSCSI parameters both targets get, explicitly: their defaults differ
# (tgtd: InitialR2T=Yes, 8 KiB data segments, 256 KiB bursts, one R2T),
# and large writes would compare the defaults, not the targets.
# QueuedCommands is tgtd's MaxQueueCmd.
ISCSI_KEYS="
InitialR2T No
ImmediateData Yes
MaxRecvDataSegmentLength 262144
MaxBurstLength 1048576
FirstBurstLength 65536
MaxOutstandingR2T 16
QueuedCommands 128
HeaderDigest None
DataDigest None
"

# name bs rw pattern qd sessions client-threads
# With 4 sessions the client runs once in one thread and once in two: in
# one thread it is the bottleneck (about 6 us of CPU per 4 KiB read, 10 per
# write); in two it takes CPU from the target. Both are reported.
WORKLOADS="
4k-randread-qd32-1s 4k read random 32 1 1
4k-randread-qd32-4s 4k read random 32 4 1
4k-randread-qd32-4s-2t 4k read random 32 4 2
4k-randwrite-qd32-1s 4k write random 32 1 1
4k-randwrite-qd32-4s 4k write random 32 4 1
4k-randwrite-qd32-4s-2t 4k write random 32 4 2
64k-seqread-qd8 64k read seq 8 1 1
64k-seqwrite-qd8 64k write seq 8 1 1
1m-seqread-qd8 1m read seq 8 1 1
1m-seqwrite-qd8 1m write seq 8 1 1
"

say() { printf '%s\n' "run-compare: $*" >&2; }
fail=0
PIDS=""
WORK=""
SHM=""
TANDEM_PID=""
TGT_PID=""

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	local p
	[ -n "$TGT_PID" ] && stop_tgt
	for p in $PIDS; do
		stop_pid "$p" 5
	done
	[ -n "$SHM" ] && rm -rf "$SHM"
	[ -n "$WORK" ] && rm -rf "$WORK"
}
trap cleanup EXIT
trap 'say "interrupted"; exit 1' INT TERM

forget_pid() {
	local p out=""
	for p in $PIDS; do
		[ "$p" = "$1" ] || out="$out $p"
	done
	PIDS=$out
}

# Stop one process we started: SIGTERM, then SIGKILL after $2 seconds.
stop_pid() {
	local pid=$1 grace=${2:-35} i=0
	kill -TERM "$pid" 2>/dev/null || {
		forget_pid "$pid"
		return 0
	}
	while kill -0 "$pid" 2>/dev/null && [ $i -lt $((grace * 10)) ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if kill -0 "$pid" 2>/dev/null; then
		say "PID $pid did not stop in $grace s; killing it"
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		forget_pid "$pid"
		return 1
	fi
	wait "$pid" 2>/dev/null
	forget_pid "$pid"
	return 0
}

# busy CPU ticks of the whole machine (all CPUs; iowait counts as idle)
sys_ticks() {
	awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat
}

# Wait (at most WAIT_QUIET s) until the machine is idle for a second.
wait_quiet() {
	local deadline=$((SECONDS + WAIT_QUIET)) a b
	[ "$WAIT_QUIET" -gt 0 ] || return 0
	while :; do
		a=$(sys_ticks)
		sleep 1
		b=$(sys_ticks)
		[ $(((b - a) * 100 / CLK_TCK)) -lt 15 ] && return 0
		if [ $SECONDS -ge $deadline ]; then
			say "the machine is still busy after $WAIT_QUIET s; going on"
			return 0
		fi
	done
}

listening() {
	[ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]
}

# wait_listen PORT PID LOG: until PORT listens (10 s), or PID died
wait_listen() {
	local i=0
	while [ $i -lt 100 ]; do
		listening "$1" && return 0
		kill -0 "$2" 2>/dev/null || {
			say "the process (PID $2) exited; its log:"
			tail -n 20 "$3" >&2
			return 1
		}
		sleep 0.1
		i=$((i + 1))
	done
	say "nothing listens on 127.0.0.1:$1 after 10 s; log:"
	tail -n 20 "$3" >&2
	return 1
}

# ---- prerequisites: install only what is absent ----

need=""
command -v tgtd >/dev/null && command -v tgtadm >/dev/null || need="$need tgt"
command -v iperf3 >/dev/null || need="$need iperf3"
command -v iscsi-inq >/dev/null || need="$need libiscsi-bin"
command -v jq >/dev/null || need="$need jq"
command -v ss >/dev/null || need="$need iproute2"
[ "$PERF" != 1 ] || command -v perf >/dev/null || need="$need linux-perf"
if [ -n "$need" ]; then
	say "installing:$need"
	# shellcheck disable=SC2086 # a list of package names
	"$(dirname "$0")/../scripts/apt-install.sh" $need >&2 || {
		say "apt-get install failed"
		exit 1
	}
fi
[ -x "$ISCSI_LOAD" ] || {
	say "$ISCSI_LOAD is missing: build it (make; needs libiscsi-dev)"
	exit 1
}
case " $TARGETS " in *" tandem "*)
	[ -x "$TANDEMD" ] || {
		say "$TANDEMD is missing (build it, or TARGETS=tgtd)"
		exit 1
	}
	;;
esac
[ "$(id -u)" = 0 ] || say "warning: not root; tgtd may fail to start"
for p in $TANDEM_PORT $TGT_PORT $IPERF_PORT; do
	if listening "$p"; then
		say "port $p is already in use"
		exit 1
	fi
done

mkdir -p "$OUT" || exit 1
WORK=$(mktemp -d /tmp/run-compare.XXXXXX) || exit 1
SHM=$(mktemp -d /dev/shm/run-compare.XXXXXX) || exit 1
CLK_TCK=$(getconf CLK_TCK)
nwl=$(echo "$WORKLOADS" | grep -c .)
nbs=$(wc -w <<<"$BACKSTORES")
ntg=$(wc -w <<<"$TARGETS")
say "$((nwl * nbs * ntg)) runs of ${WARMUP}+${DURATION} s, about" \
	"$(((nwl * nbs * ntg * (DURATION + WARMUP + 1) + 2 * IPERF_SECS + 30) / 60 + 1))" \
	"minutes; results in $OUT"

# ---- the machine ----
{
	echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "kernel: $(uname -r)"
	echo "cpus: $(nproc) ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-))"
	echo "memory: $(free -g | awk '/^Mem:/ {print $2}') GiB"
	echo "tgtd: $(tgtd -V 2>/dev/null | head -n1)"
	echo "iperf3: $(iperf3 -v 2>/dev/null | head -n1)"
	echo "libiscsi: $(pkg-config --modversion libiscsi 2>/dev/null || echo '?')"
	echo "duration: $DURATION s after $WARMUP s warmup; range: $SIZE bytes"
	echo "niceness of targets, client and iperf3: $NICE"
} >"$OUT/machine.txt"

# what else keeps this machine busy: 2 s of /proc/stat before we start
b0=$(sys_ticks)
sleep 2
BACKGROUND=$(awk -v a="$b0" -v b="$(sys_ticks)" -v hz="$CLK_TCK" \
	'BEGIN { printf "%.0f", (b - a) / hz / 2 * 100 }')
echo "background CPU before the runs: $BACKGROUND% of one core" \
	>>"$OUT/machine.txt"
[ "$BACKGROUND" -lt 20 ] ||
	say "warning: the machine is busy ($BACKGROUND% of a core before" \
		"the runs); the numbers will be noisy"

# ---- (a) the ceiling: iperf3 over loopback ----

IPERF1=0
IPERF4=0
nice -n "$NICE" iperf3 -s -B 127.0.0.1 -p "$IPERF_PORT" >"$OUT/iperf3-server.log" 2>&1 &
ipid=$!
PIDS="$PIDS $ipid"
if wait_listen "$IPERF_PORT" "$ipid" "$OUT/iperf3-server.log"; then
	for n in 1 4; do
		wait_quiet
		# -l 1M: iperf3's default 128 KiB writes give a lower figure
		if timeout $((IPERF_SECS + 20)) nice -n "$NICE" iperf3 -c 127.0.0.1 \
			-p "$IPERF_PORT" -t "$IPERF_SECS" -P "$n" -l 1M -J \
			>"$OUT/iperf3-P$n.json" 2>&1; then
			g=$(jq -r '.end.sum_received.bits_per_second / 1e9 |
				. * 100 | round / 100' "$OUT/iperf3-P$n.json")
			say "iperf3 loopback, $n stream(s): $g Gbit/s"
			if [ "$n" = 1 ]; then IPERF1=$g; else IPERF4=$g; fi
		else
			say "iperf3 -P $n failed (see $OUT/iperf3-P$n.json)"
		fi
	done
fi
stop_pid "$ipid" 5
# the ceiling: the better of the two (iperf3 itself is one thread)
CEIL=$(awk -v a="$IPERF1" -v b="$IPERF4" 'BEGIN { print (a > b) ? a : b }')

# ---- the targets ----

start_tandem() {
	local conf=$WORK/tandem.conf
	truncate -s "$SIZE" "$SHM/tandem-fileio.img" || return 1
	cat >"$conf" <<EOF
# written by bench/run-compare.sh
HANDLER ram {
	DEVICE bench_ram {
		size $SIZE
	}
}
HANDLER vdisk_nullio {
	DEVICE bench_null {
		size $SIZE
	}
}
HANDLER vdisk_fileio {
	DEVICE bench_fileio {
		filename $SHM/tandem-fileio.img
	}
}
TARGET_DRIVER iscsi {
	enabled 1
	portal 127.0.0.1:$TANDEM_PORT
$(sed -e '/^$/d' -e 's/^/	/' <<<"$ISCSI_KEYS")
	TARGET $IQN:ram {
		enabled 1
		LUN 0 bench_ram
	}
	TARGET $IQN:null {
		enabled 1
		LUN 0 bench_null
	}
	TARGET $IQN:fileio {
		enabled 1
		LUN 0 bench_fileio
	}
}
EOF
	cp "$conf" "$OUT/tandem.conf"
	nice -n "$NICE" "$TANDEMD" -f -c "$conf" -s "$WORK/tandemd.sock" \
		-p "$WORK/tandemd.pid" >"$OUT/tandemd.log" 2>&1 &
	TANDEM_PID=$!
	PIDS="$PIDS $TANDEM_PID"
	wait_listen "$TANDEM_PORT" "$TANDEM_PID" "$OUT/tandemd.log"
}

tgtadm_() {
	tgtadm -C "$TGT_CONTROL_PORT" --lld iscsi "$@" </dev/null \
		>>"$OUT/tgtadm.log" 2>&1 ||
		{
			say "tgtadm $* failed:"
			tail -n 3 "$OUT/tgtadm.log" >&2
			return 1
		}
}

start_tgt() {
	local tid=0 b
	# tgt has no RAM backstore: "ram" is a file on tmpfs (/dev/shm) with
	# bstype rdwr, and so is "fileio"; its null LU is 1 TiB whatever we
	# ask (bs_null.c), so every run uses the same --range instead.
	truncate -s "$SIZE" "$SHM/tgt-ram.img" "$SHM/tgt-fileio.img" || return 1
	nice -n "$NICE" tgtd -f -C "$TGT_CONTROL_PORT" \
		--iscsi "portal=127.0.0.1:$TGT_PORT" \
		>"$OUT/tgtd.log" 2>&1 &
	TGT_PID=$!
	PIDS="$PIDS $TGT_PID"
	wait_listen "$TGT_PORT" "$TGT_PID" "$OUT/tgtd.log" || return 1
	for b in ram null fileio; do
		tid=$((tid + 1))
		tgtadm_ --mode target --op new --tid $tid -T "$IQN:tgt-$b" ||
			return 1
		case $b in
		null) tgtadm_ --mode logicalunit --op new --tid $tid --lun 1 \
			--bstype null -b /dev/null || return 1 ;;
		*) tgtadm_ --mode logicalunit --op new --tid $tid --lun 1 \
			--bstype rdwr -b "$SHM/tgt-$b.img" || return 1 ;;
		esac
		tgtadm_ --mode target --op bind --tid $tid -I ALL || return 1
		while read -r k v; do
			[ -n "$k" ] || continue
			[ "$k" = QueuedCommands ] && k=MaxQueueCmd
			tgtadm_ --mode target --op update --tid $tid \
				--name "$k" --value "$v" || return 1
		done <<<"$ISCSI_KEYS"
	done
}

# tgtd ignores SIGTERM: take it offline and delete the system, as
# tgt-admin does; SIGKILL (our PID) only if that does not work.
stop_tgt() {
	local tid
	tgtadm -C "$TGT_CONTROL_PORT" --mode system --op update --name State \
		-v offline </dev/null >>"$OUT/tgtadm.log" 2>&1
	for tid in 1 2 3; do
		tgtadm -C "$TGT_CONTROL_PORT" --lld iscsi --mode target \
			--op delete --force --tid $tid </dev/null \
			>>"$OUT/tgtadm.log" 2>&1
	done
	tgtadm -C "$TGT_CONTROL_PORT" --mode system --op delete </dev/null \
		>>"$OUT/tgtadm.log" 2>&1
	local i=0 rc=0
	while kill -0 "$TGT_PID" 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if kill -0 "$TGT_PID" 2>/dev/null; then
		say "tgtd (PID $TGT_PID) did not stop in 10 s; killing it"
		kill -KILL "$TGT_PID" 2>/dev/null
		rc=1
	fi
	wait "$TGT_PID" 2>/dev/null
	forget_pid "$TGT_PID"
	TGT_PID=""
	return $rc
}

url_of() { # target backstore
	case $1 in
	tandem) echo "iscsi://127.0.0.1:$TANDEM_PORT/$IQN:$2/0" ;;
	tgtd) echo "iscsi://127.0.0.1:$TGT_PORT/$IQN:tgt-$2/1" ;;
	esac
}

pid_of() {
	case $1 in
	tandem) echo "$TANDEM_PID" ;;
	tgtd) echo "$TGT_PID" ;;
	esac
}

# CPU ticks (user + system, all threads) of a process
cpu_ticks() {
	awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null ||
		echo 0
}

# run_one TARGET BACKSTORE NAME BS RW PATTERN QD SESSIONS THREADS
run_one() {
	local t=$1 b=$2 name=$3 bs=$4 rw=$5 pat=$6 qd=$7 ns=$8 nt=$9
	local f="$OUT/$t-$b-$name.json" pid c0 c1 s0 s1 t0 t1 rc cpu sys
	local perfpid="" perf='{}'
	pid=$(pid_of "$t")
	if [ "$PERF" = 1 ]; then
		# the target's system calls, context switches and CPU time over
		# the measured window (perf stat from the end of the warmup)
		(
			sleep "$WARMUP"
			exec perf stat -x, -o "$f.perf" \
				-e raw_syscalls:sys_enter,context-switches,task-clock \
				-p "$pid" -- sleep "$DURATION"
		) >/dev/null 2>&1 &
		perfpid=$!
	fi
	c0=$(cpu_ticks "$pid")
	s0=$(sys_ticks)
	t0=$(date +%s.%N)
	timeout $((DURATION + WARMUP + 90)) nice -n "$NICE" "$ISCSI_LOAD" \
		--url "$(url_of "$t" "$b")" --sessions "$ns" --threads "$nt" \
		--qd "$qd" --bs "$bs" --rw "$rw" --pattern "$pat" \
		--range "$SIZE" --duration "$DURATION" --warmup "$WARMUP" \
		--json >"$f.tmp" 2>"$OUT/$t-$b-$name.err" </dev/null
	rc=$?
	t1=$(date +%s.%N)
	c1=$(cpu_ticks "$pid")
	s1=$(sys_ticks)
	if [ -n "$perfpid" ]; then
		wait "$perfpid"
		perf=$(awk -F, '
			$3 ~ /sys_enter/ { sc = $1 }
			$3 ~ /context-switches/ { cs = $1 }
			$3 ~ /task-clock/ { tc = $1 }
			END { printf "{\"syscalls\": %d, \"ctxsw\": %d, \"cpu_ms\": %.1f}",
				sc, cs, tc }' "$f.perf" 2>/dev/null) || perf='{}'
		rm -f "$f.perf"
	fi
	cpu=$(awk -v a="$c0" -v b="$c1" -v t0="$t0" -v t1="$t1" -v hz="$CLK_TCK" \
		'BEGIN { printf "%.1f", (b - a) / hz / (t1 - t0) * 100 }')
	sys=$(awk -v a="$s0" -v b="$s1" -v t0="$t0" -v t1="$t1" -v hz="$CLK_TCK" \
		'BEGIN { printf "%.1f", (b - a) / hz / (t1 - t0) * 100 }')
	if jq -e . "$f.tmp" >/dev/null 2>&1; then
		# others: the machine's busy time less the target's and the
		# client's, both over the whole run (login to logout)
		jq --argjson cpu "$cpu" --argjson sys "$sys" --argjson rc "$rc" \
			--argjson perf "${perf:-{\}}" \
			--argjson wall "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" \
			'. + {target_cpu_pct: $cpu, machine_cpu_pct: $sys,
			      others_cpu_pct: (($sys - $cpu - .client_cpu_total_s / $wall * 100) * 10 | round / 10),
			      exit_status: $rc}
			    + (if $perf.syscalls then {target_perf: ($perf + {
				syscalls_per_io: ($perf.syscalls / ([.total.ios, 1] | max) * 100 | round / 100),
				ctxsw_per_io: ($perf.ctxsw / ([.total.ios, 1] | max) * 100 | round / 100),
				cpu_us_per_io: ($perf.cpu_ms * 1000 / ([.total.ios, 1] | max) * 100 | round / 100)})}
			       else {} end)' "$f.tmp" >"$f"
	else
		echo "{\"exit_status\": $rc, \"target_cpu_pct\": $cpu}" >"$f"
	fi
	rm -f "$f.tmp"
	[ -s "$OUT/$t-$b-$name.err" ] || rm -f "$OUT/$t-$b-$name.err"
	if [ "$rc" != 0 ]; then
		fail=1
		say "$t $b $name: FAILED (exit $rc):"
		head -n 5 "$OUT/$t-$b-$name.err" >&2 2>/dev/null
	fi
	say "$(jq -r --arg n "$t $b $name" '"\($n): \(.total.iops // 0 | floor) IOPS \(.total.mbps // 0) MB/s p50 \(.total.lat_us.p50 // 0) us p99 \(.total.lat_us.p99 // 0) us, errors \(.errors.total // "?"), target cpu \(.target_cpu_pct)%, client cpu \(.client_cpu_pct // "?")%, others \(.others_cpu_pct // "?")%"' "$f")"
}

# Write the whole range once so that reads find allocated, written blocks.
prefill() { # target backstore
	nice -n "$NICE" "$ISCSI_LOAD" --url "$(url_of "$1" "$2")" \
		--prefill --duration 0 \
		--bs 1m --qd 8 --range "$SIZE" --json \
		>"$OUT/$1-$2-prefill.json" 2>"$OUT/$1-$2-prefill.err" </dev/null || {
		fail=1
		say "$1 $2: prefill failed:"
		head -n 5 "$OUT/$1-$2-prefill.err" >&2
	}
	[ -s "$OUT/$1-$2-prefill.err" ] || rm -f "$OUT/$1-$2-prefill.err"
}

# Both targets run at once, idle but for the run at hand; each workload runs
# on one target and then on the other, so that a change in the machine's
# background load touches both alike.
UP=""
for t in $TARGETS; do
	case $t in
	tandem)
		if start_tandem; then UP="$UP tandem"; else
			fail=1
			say "tandemd did not start"
		fi
		;;
	tgtd)
		if start_tgt; then UP="$UP tgtd"; else
			fail=1
			say "tgtd did not start"
			[ -n "$TGT_PID" ] && stop_tgt
		fi
		;;
	*)
		say "unknown target '$t'"
		exit 2
		;;
	esac
done

for b in $BACKSTORES; do
	for t in $UP; do
		prefill "$t" "$b"
	done
	while read -r name bs rw pat qd ns nt; do
		[ -n "$name" ] || continue
		wait_quiet
		for t in $UP; do
			run_one "$t" "$b" "$name" "$bs" "$rw" "$pat" "$qd" "$ns" "$nt"
		done
	done <<<"$WORKLOADS"
done

for t in $UP; do
	pid=$(pid_of "$t")
	if ! kill -0 "$pid" 2>/dev/null; then
		fail=1
		say "$t (PID $pid) died during the runs; log tail:"
		tail -n 20 "$OUT/${t/tandem/tandemd}.log" >&2
	fi
	case $t in
	tgtd) stop_tgt || fail=1 ;;
	*)
		stop_pid "$pid" 35 || fail=1
		TANDEM_PID=""
		;;
	esac
done

# ---- the table ----

val() { # file jq-expression
	if [ -f "$1" ]; then jq -r "$2 // empty" "$1" 2>/dev/null; fi
}

{
	echo "Loopback TCP (iperf3 -l 1M, $IPERF_SECS s): 1 stream $IPERF1 Gbit/s," \
		"4 streams $IPERF4 Gbit/s; ceiling = the better, $CEIL Gbit/s" \
		"= $(awk -v c="$CEIL" 'BEGIN { printf "%.0f", c * 125 }') MB/s."
	echo
	echo "| backstore | workload | tandem IOPS | MB/s | p50 us | p99 us |" \
		"tgtd IOPS | MB/s | p50 us | p99 us | IOPS ratio | % of TCP ceiling (tandem / tgtd) |"
	echo "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
	for b in $BACKSTORES; do
		while read -r name rest; do
			[ -n "$name" ] || continue
			a=$OUT/tandem-$b-$name.json
			g=$OUT/tgtd-$b-$name.json
			ai=$(val "$a" .total.iops)
			gi=$(val "$g" .total.iops)
			line="| $b | $name"
			for f in "$a" "$g"; do
				if [ -n "$(val "$f" .total.iops)" ]; then
					e=$(val "$f" .errors.total)
					[ "${e:-0}" = 0 ] && e="" || e=" ($e errors)"
					line="$line | $(val "$f" '.total.iops | floor')$e"
					line="$line | $(val "$f" .total.mbps)"
					line="$line | $(val "$f" .total.lat_us.p50)"
					line="$line | $(val "$f" .total.lat_us.p99)"
				else
					line="$line | - | - | - | -"
				fi
			done
			if [ -n "$ai" ] && [ -n "$gi" ]; then
				line="$line | $(awk -v a="$ai" -v g="$gi" 'BEGIN { if (g > 0) printf "%.2f", a / g; else print "-" }')"
			else
				line="$line | -"
			fi
			case $name in
			*seqread*)
				line="$line | $(awk -v a="$(val "$a" .total.mbps)" \
					-v g="$(val "$g" .total.mbps)" -v c="$CEIL" '
					function pct(x) { return (x == "" || c == 0) ? "-" : sprintf("%.0f%%", x * 8 / 1000 / c * 100) }
					BEGIN { print pct(a) " / " pct(g) }')"
				;;
			*) line="$line | " ;;
			esac
			echo "$line |"
		done <<<"$WORKLOADS"
	done
	echo
	echo "CPU in % of one core ($(nproc) cores here). target: the daemon," \
		"whole run (login to logout); client: iscsi_load, measured" \
		"window; others: every other process on the machine (busy" \
		"time less target and client, whole run)."
	echo
	echo "| backstore | workload | tandemd | client | others | tgtd | client | others |"
	echo "|---|---|--:|--:|--:|--:|--:|--:|"
	for b in $BACKSTORES; do
		while read -r name rest; do
			[ -n "$name" ] || continue
			a=$OUT/tandem-$b-$name.json
			g=$OUT/tgtd-$b-$name.json
			echo "| $b | $name | $(val "$a" .target_cpu_pct) | $(val "$a" .client_cpu_pct) | $(val "$a" .others_cpu_pct) | $(val "$g" .target_cpu_pct) | $(val "$g" .client_cpu_pct) | $(val "$g" .others_cpu_pct) |"
		done <<<"$WORKLOADS"
	done
	echo
	echo "Cost per I/O in the measured window: CPU microseconds" \
		"(user + system), and for the target (PERF=1) system calls and" \
		"context switches."
	echo
	echo "| backstore | workload | tandemd us | syscalls | ctx sw | client us | tgtd us | syscalls | ctx sw | client us |"
	echo "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|"
	for b in $BACKSTORES; do
		while read -r name rest; do
			[ -n "$name" ] || continue
			line="| $b | $name"
			for f in "$OUT/tandem-$b-$name.json" "$OUT/tgtd-$b-$name.json"; do
				line="$line | $(val "$f" .target_perf.cpu_us_per_io)"
				line="$line | $(val "$f" .target_perf.syscalls_per_io)"
				line="$line | $(val "$f" .target_perf.ctxsw_per_io)"
				line="$line | $(val "$f" 'if .total.ios > 0 then .client_cpu_pct / 100 * .duration_s / .total.ios * 1e6 * 100 | round / 100 else empty end')"
			done
			echo "$line |"
		done <<<"$WORKLOADS"
	done
} | tee "$OUT/results.md"

if [ $fail != 0 ]; then
	say "FAILED: some runs had errors or a target misbehaved (see $OUT)"
	exit 1
fi
say "done; results in $OUT"
exit 0
