#!/bin/bash
# ceph_lab.sh - checks the Ceph part of the cluster lab
# (tests/cluster/ceph.bash) on 2 heads:
#  (a) ceph_up 3: one mon, one mgr, 3 OSDs, pool rbd (size 3, min_size 2)
#      active+clean, HEALTH_OK; the time and each daemon's PSS/RSS printed;
#  (b) from head 1 with client.tandem (caps mon 'profile rbd', osd
#      'profile rbd pool=rbd'): rbd import of a random 8 MiB file, read
#      back from head 2 (rbd export) identical; the key cannot create a
#      pool; rbd bench (4 KiB writes, 64 MiB) from head 1, its rate and
#      the daemons' memory after it printed;
#  (c) osd.1 killed (kill -9) during an rbd bench from head 1: marked
#      down, the bench completes without error (size 3, min_size 2), its
#      longest pause printed; the image reads back identical while
#      degraded; osd.1 restarted: up, active+clean again;
#  (d) the mon (and mgr) cut off during an rbd bench: the bench's writes
#      continue (the OSDs and the client keep their maps), healed:
#      HEALTH_OK; every Ceph link cut: head 1 cannot list the images,
#      healed: it can, active+clean;
#  (e) ceph_down (via lab_down) leaves no process and no namespace.
# Prints "N passed, N failed"; exit 0 only when nothing failed. Root.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/cluster/lab.sh
. tests/cluster/ceph.bash
. tests/cluster/checks.bash
lab_need_root
T0=$(date +%s%N)
check() { # check DESC CMD...
	local d=$1
	shift
	CEPH_WAITED=
	if "$@"; then ok "$d${CEPH_WAITED:+ (${CEPH_WAITED} s)}"; else ko "$d"; fi
}
elapsed() { awk -v a="$T0" -v b="$(date +%s%N)" 'BEGIN {printf "%.1f", (b - a) / 1e9}'; }
# bench_ok LOG SECS: the bench of LOG ended within SECS with status 0
# and without an error line (rbd bench exits 0 even when librbd logged
# failed writes: ceph_measure.sh's cut of every link)
bench_ok() {
	ceph_wait "$2" ceph_bench_done "$1" && [ "$CEPH_BENCH_RC" = 0 ] &&
		! grep -iE 'error|failed' "$1"
}
# same_back I FILE: head I reads rbd/pattern back identical to $P
same_back() {
	ceph_head_exec "$1" rbd export --no-progress rbd/pattern "$2" && cmp "$P" "$2"
}
osds_up_in() { ceph_exec ceph osd stat | grep -q "3 osds: 3 up.*3 in"; }
pool_rbd_ok() {
	ceph_exec ceph osd pool ls detail |
		grep -qE "^pool [0-9]+ .rbd. replicated size 3 min_size 2 .* pg_num 32 "
}
# pool_denied OUT: no pool notallowed, OUT says access denied
pool_denied() {
	! ceph_exec ceph osd pool ls | grep -qx notallowed &&
		grep -qiE "denied|EACCES|permission" <<<"$1"
}
degraded_active() { ceph_exec ceph pg stat | grep -q "active+undersized+degraded"; }
# ns_gone INOS: none of these network namespace inodes listed any more
ns_gone() { ! lsns -t net -n -o NS | tr -d " " | grep -qxFf <(echo "$1"); }
bench_rate() { # the summary line of rbd bench
	grep -E ' elapsed: ' "$1" | sed 's/^[0-9.]* //'
}

if ! lab_up 2; then
	ko "lab_up 2"
	echo "$PASSED passed, $FAILED failed"
	exit 1
fi
ok "lab_up 2"

# ---- (a) ----
if ! ceph_up 3; then
	ko "ceph_up 3"
	LAB_KEEP=1 lab_down
	echo "$PASSED passed, $FAILED failed"
	exit 1
fi
ok "ceph_up 3: PGs active+clean $CEPH_UP_SECONDS s after the start"
check "HEALTH_OK" ceph_wait_health 30
check "3 OSDs up and in" osds_up_in
check "pool rbd: size 3 min_size 2 pg_num 32" pool_rbd_ok
NOSD=$(ceph_pids | grep -c '^osd\.')
check "3 ceph-osd processes" test "$NOSD" = 3
ceph_mem_report idle
DEV_NS=$(ceph_ns_procs | wc -l)
check "every daemon in a Ceph namespace ($DEV_NS processes)" test "$DEV_NS" = 5

# ---- (b) ----
P=$LAB_DIR/pattern
head -c 8M /dev/urandom >"$P"
check "head 1 (client.tandem): rbd import of 8 MiB" ceph_head_exec 1 rbd import --no-progress "$P" rbd/pattern
check "head 2 (client.tandem): rbd export reads it back identical" same_back 2 "$LAB_DIR/back"
OUT=$(ceph_head_exec 1 ceph osd pool create notallowed 8 2>&1)
check "client.tandem cannot create a pool ($(tr '\n' ' ' <<<"$OUT" | cut -c1-60))" pool_denied "$OUT"
check "head 1: rbd create rbd/bench 1G" ceph_head_exec 1 rbd create --size 1G rbd/bench
B=$LAB_DIR/bench1.log
ceph_bench_bg 1 "$B" --io-type write --io-size 4K --io-total 64M rbd/bench
check "head 1: rbd bench 64 MiB of 4 KiB writes" bench_ok "$B" 120
echo "bench: $(bench_rate "$B")"
ceph_mem_report "after 64 MiB of writes"

# ---- (c) ----
B=$LAB_DIR/bench2.log
ceph_bench_bg 1 "$B" --io-type write --io-size 4K --io-threads 4 --io-total 48M --io-pattern rand rbd/bench
sleep 3
KILL_AT=$EPOCHREALTIME
check "osd.1 killed" ceph_osd_kill 1
check "osd.1 marked down" ceph_osd_down_wait 1 30
check "bench through the kill completes without error" bench_ok "$B" 120
read -r GAP GAPAT <<<"$(ceph_bench_gap "$B")"
echo "bench: $(bench_rate "$B")"
echo "kill osd.1: longest interval between progress lines ${GAP} s (from $(awk -v a="$KILL_AT" -v b="${GAPAT:-0}" 'BEGIN {printf "%+.1f", b - a}') s after the kill)"
check "PGs degraded, still active (min_size 2)" degraded_active
check "head 2: rbd export while degraded reads back identical" same_back 2 "$LAB_DIR/back2"
ceph_osd_start 1
check "osd.1 restarted: up" ceph_osd_up_wait 1 60
check "active+clean again" ceph_wait_clean 90

# ---- (d) ----
B=$LAB_DIR/bench3.log
ceph_bench_bg 1 "$B" --io-type write --io-size 4K --io-threads 4 --io-total 128M --io-pattern rand rbd/bench
sleep 3
ceph_mon_cut
CUT_AT=$EPOCHREALTIME
sleep 8
n_cut=$(awk -v a="$CUT_AT" '$1 > a + 1 && $2 ~ /^[0-9]+$/ && NF >= 4' "$B" | wc -l)
check "mon cut off: the bench's writes go on ($n_cut progress lines in the 7 s after the cut)" test "$n_cut" -ge 4
ceph_mon_heal
check "bench through the mon cut completes without error" bench_ok "$B" 120
echo "bench: $(bench_rate "$B")"
check "mon healed: HEALTH_OK" ceph_wait_health 60

# every Ceph link cut: a head cannot reach Ceph at all (the CLI fails
# within its mount timeout, 3 s here), healed: it can again
head_lists() { ceph_head_exec 1 rbd ls --client_mount_timeout 3 2>/dev/null | grep -qx pattern; }
head_fails() { ! head_lists; }
ceph_cut_all
check "every Ceph link cut: head 1 cannot list the images" head_fails
ceph_heal_all
check "healed: head 1 lists them again" ceph_wait 60 head_lists
check "healed: active+clean" ceph_wait_clean 60

# ---- (e) ----
PIDS=$(ceph_pids | awk '{print $2}')
INOS=$(for f in "$LAB_DIR"/ns/ceph*.net; do stat -L -c %i "$f"; done)
lab_down
left=
for p in $PIDS; do lab_alive "$p" && left+=" $p"; done
check "lab_down (ceph_down): no Ceph daemon left${left:+:$left}" test -z "$left"
left=
for p in /proc/[0-9]*; do
	ino=$(stat -L -c %i "$p/ns/net" 2>/dev/null) || continue
	grep -qx "$ino" <<<"$INOS" && left+=" ${p#/proc/}"
done
check "no process in a Ceph namespace${left:+:$left}" test -z "$left"
check "no Ceph namespace left" ns_gone "$INOS"
echo "--- $(elapsed) s"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
