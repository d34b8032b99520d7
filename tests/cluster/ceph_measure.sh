#!/bin/bash
# ceph_measure.sh - the figures of docs/scale-out.md ("Measured: a Ceph
# cluster in the namespace lab"), not a CI step (about 4 minutes): the
# time ceph_up takes, each daemon's memory idle and after rbd bench from
# a head, rbd bench with and without librbd's cache, and the longest
# interval without a completed write (rbd bench from head 1, 4 KiB random
# writes, 4 in flight) when one OSD is killed, when one OSD's link is cut,
# when the mon is cut off, when every Ceph link is cut (healed after
# HEAL_AFTER s, default 15); whether a new client can start while the
# mon is cut off. Prints "measure: ..." lines. Root.
set -u
[ "$(id -u)" -eq 0 ] || { echo "needs root" >&2; exit 1; }
cd "$(dirname "$0")/../.." || exit 1
. tests/cluster/lab.sh
. tests/cluster/ceph.bash
: "${HEAL_AFTER:=15}"
say() { echo "measure: $*"; }
mem() { ceph_mem_report "$1" | sed 's/^/measure: /'; }
bench_end() { ceph_wait "${2:-300}" ceph_bench_done "$1"; }
rate() { grep -E ' elapsed: ' "$1" | sed 's/^[0-9.]* //'; }
# run NAME FAULT HEAL: a bench from head 1; FAULT 3 s after its start,
# HEAL (may be :) HEAL_AFTER s later; prints the longest gap
n=0
run() {
	local name=$1 fault=$2 heal=$3 b at gap gapat cut
	n=$((n + 1))
	b=$LAB_DIR/bench-$n.log
	ceph_bench_bg 1 "$b" --io-type write --io-size 4K --io-threads 4 \
		--io-total 96M --io-pattern rand rbd/bench
	sleep 3
	at=$EPOCHREALTIME
	$fault
	sleep "$HEAL_AFTER"
	$heal
	cut=$(awk -v a="$at" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.1f", b - a}')
	bench_end "$b" 300 || CEPH_BENCH_RC=none
	read -r gap gapat <<<"$(ceph_bench_gap "$b")"
	say "$name: fault lasted $cut s; bench exit $CEPH_BENCH_RC, longest gap ${gap} s starting $(awk -v a="$at" -v b="${gapat:-0}" 'BEGIN {printf "%+.1f", b - a}') s after the fault; $(rate "$b")"
	grep -m3 -iE 'error|failed|timed out' "$b" | sed 's/^/measure:   /'
	ceph_wait_clean 120 && say "$name: active+clean again ${CEPH_WAITED} s after the heal" ||
		say "$name: not clean 120 s after the heal"
}

lab_up 2 || exit 1
for k in 1 2; do
	ceph_up 3 || exit 1
	say "ceph_up 3 ($k): active+clean in $CEPH_UP_SECONDS s"
	[ $k = 1 ] && ceph_down
done
mem idle
ceph_head_exec 1 rbd create --size 1G rbd/bench
for cache in true false; do
	for th in 1 16; do
		b=$LAB_DIR/seq-$cache-$th.log
		ceph_bench_bg 1 "$b" --io-type write --io-size 4K --io-threads $th \
			--io-total 64M --rbd_cache=$cache rbd/bench
		bench_end "$b"
		say "rbd bench write 4K seq 64M threads=$th rbd_cache=$cache: $(rate "$b")"
	done
done
b=$LAB_DIR/rand.log
ceph_bench_bg 1 "$b" --io-type write --io-size 4K --io-threads 16 --io-total 64M \
	--io-pattern rand --rbd_cache=false rbd/bench
bench_end "$b"
say "rbd bench write 4K rand 64M threads=16 rbd_cache=false: $(rate "$b")"
mem "after the benches"

osd_kill() { ceph_osd_kill 1; }
osd_restart() { ceph_osd_start 1; }
run "osd.1 killed (restarted after ${HEAL_AFTER} s)" osd_kill osd_restart
osd_cut() { ceph_osd_cut 1; }
osd_heal() { ceph_osd_heal 1; }
run "osd.1's link cut (healed after ${HEAL_AFTER} s)" osd_cut osd_heal
mon_cut() {
	ceph_mon_cut
	local t0=$EPOCHREALTIME
	if ceph_head_exec 2 rbd ls >/dev/null 2>&1; then
		say "mon cut: a new client (rbd ls from head 2) worked"
	else
		say "mon cut: a new client (rbd ls from head 2) failed after $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.1f", b - a}') s (client_mount_timeout 10)"
	fi
}
run "mon cut off (healed after ${HEAL_AFTER} s)" mon_cut ceph_mon_heal
run "every Ceph link cut (healed after ${HEAL_AFTER} s)" ceph_cut_all ceph_heal_all
mem "at the end"
ceph_exec ceph -s | sed 's/^/measure:   /'
lab_down
