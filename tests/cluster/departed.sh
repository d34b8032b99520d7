#!/bin/bash
# departed.sh - departed and rejoining heads as initiators see them
# (issue 12 part 3, cluster protocol 5), in the namespace lab
# (tests/cluster/lab.sh; every head's configuration: lab_tandem_conf, one
# target port group per head, all active, group 1 preferred):
#
#  2 heads:
#   1. both heads report groups 1 and 2 active/optimized (group 1 with
#      PREF) after the first start, as before protocol 5;
#   2. head 2 killed (node_kill: kill -9 of every process of the head):
#      head 1's RTPG shows group 2 unavailable without PREF (the time from
#      the kill is printed), a session held on head 1 gets ASYMMETRIC
#      ACCESS STATE CHANGED (6/2A/06), head 1's tandemd logs the cause;
#   3. head 2 restarted: head 1 reports group 2 transitioning while head
#      2 synchronises (if the window was caught: it is short; printed
#      either way), then active/optimized again, identical through both
#      heads (the configured state);
#  3 heads:
#   4. head 3 killed: heads 1 and 2 both report group 3 unavailable
#      (times printed), sessions held on both get 6/2A/06;
#   5. head 3 restarted with tandemd --rejoin-state unavailable: once it
#      serves, all three heads report group 3 unavailable without PREF
#      and groups 1 and 2 unchanged;
#  2 heads, head 1's agent at protocol 4 (--proto-max 4):
#   6. the group runs at 4; head 2 killed: nothing of the above happens
#      on head 1, which stays at 4 (it still reports group 2
#      active/optimized, as before protocol 5), and its agent logs why,
#      once.
# Prints "N passed, N failed"; exit 0 only when nothing failed. Root.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/cluster/lab.sh

. tests/cluster/checks.bash
lab_need_daemons
A=iqn.2026-11.org.example:host-a

now_ms() { date +%s%3N; }
# rtpg I: the target port group lines of RTPG through head I
rtpg() {
	scsi_client "$1" -r -i "$A" rtpg 2>/dev/null | grep '^tpg'
}
# tpg_is I ID PATTERN: head I reports group ID as PATTERN (state=.. pref=..)
tpg_is() { rtpg "$1" | grep -q "^tpg id=$2 $3 "; }
# wait_tpg I ID PATTERN SECONDS: until tpg_is
wait_tpg() {
	local t0 end
	t0=$(now_ms)
	end=$((t0 + $4 * 1000))
	while [ "$(now_ms)" -lt $end ]; do
		if tpg_is "$1" "$2" "$3"; then
			return 0
		fi
		sleep 0.05
	done
	return 1
}
declare -a AGENT_ARGS=()
start_head() { # I [tandemd args]
	local i=$1
	shift
	# shellcheck disable=SC2086 # the agent arguments, word by word
	agentd_start "$i" ${AGENT_ARGS[$i]:-}
	tandemd_start "$i" "" "$@"
}
# killed I SURVIVOR...: head I killed; each survivor's RTPG shows group I
# unavailable without PREF, the time from the kill printed, and the
# sessions held on the survivors get 6/2A/06
killed() {
	local i=$1 s t0
	shift
	hold_sessions 5000 "$@"
	t0=$(now_ms)
	node_kill "$i"
	for s in "$@"; do
		if wait_tpg "$s" "$i" 'state=3 pref=0' 20; then
			ok "head $s reports group $i unavailable without PREF, $(($(now_ms) - t0)) ms after the kill"
		else
			ko "head $s after head $i was killed: $(rtpg "$s" | tr '\n' ' ')"
		fi
	done
	held_ua "the sessions held on heads $* got ASYMMETRIC ACCESS STATE CHANGED"
	for s in "$@"; do
		grep -q "cluster: node $i left the cluster: 1 target port groups unavailable" "$(lab_ndir "$s")/tandemd.log" &&
			ok "head $s's tandemd logged the cause" || ko "head $s's tandemd did not log head $i's departure"
	done
}

# ==== two heads ====
lab_start_heads 2
echo "== 1. after the first start: as before"
r1=$(rtpg 1)
r2=$(rtpg 2)
grep -q '^tpg id=1 state=0 pref=1 ' <<<"$r1" && grep -q '^tpg id=2 state=0 pref=0 ' <<<"$r1" && [ "$r1" = "$r2" ] &&
	ok "both heads: group 1 active/optimized with PREF, group 2 active/optimized" ||
	ko "after the start: head 1 [$r1] head 2 [$r2]"

echo "== 2. head 2 killed"
killed 2 1
expect_w() { # DESC WRITE-RESULT
	grep -q '^status=GOOD' <<<"$2" && ok "$1" || ko "$1: $(tr '\n' ' ' <<<"$2")"
}
expect_w "a write through head 1 (group 1, still active/optimized) succeeds" \
	"$(scsi_client 1 -r -i "$A" write 8 0xd1 2>&1)"

echo "== 3. head 2 restarted"
corosync_start 2
wait_quorate 2 20 || ko "head 2: corosync not quorate"
t0=$(now_ms)
start_head 2
seen=
for ((n = 0; n < 600; n++)); do
	r=$(rtpg 1)
	grep -q '^tpg id=2 state=15 ' <<<"$r" && seen=$(($(now_ms) - t0))
	grep -q '^tpg id=2 state=0 ' <<<"$r" && break
	sleep 0.02
done
t_back=$(($(now_ms) - t0))
if [ -n "$seen" ]; then
	ok "head 1 showed group 2 transitioning while head 2 synchronised (${seen} ms after its start)"
else
	echo "   group 2 transitioning not caught through head 1 (the window lasts from head 2's cut to its ORDER kind 9)"
fi
# the window is milliseconds: its length from head 1's log (libqb's
# timestamps, HH:MM:SS.mmm)
log_ms() { # FILE REGEX: the time of the last line matching, in ms of the day
	grep -E "$2" "$1" | tail -1 | awk '{split($3, t, /[:.]/); print ((t[1] * 60 + t[2]) * 60 + t[3]) * 1000 + t[4]}'
}
l1=$(lab_ndir 1)/tandemd.log
tr_in=$(log_ms "$l1" 'ALUA: dg/tg2 \(group 2\): unavailable -> transitioning, by node 2 rejoining the cluster')
tr_out=$(log_ms "$l1" 'ALUA: dg/tg2 \(group 2\): transitioning -> active, by another head rejoined and synchronised')
[ -n "$tr_in" ] && [ -n "$tr_out" ] &&
	ok "head 1 had group 2 transitioning while head 2 synchronised: $((tr_out - tr_in)) ms (head 1's log)" ||
	ko "head 1's tandemd did not log group 2 transitioning, then active: $(grep 'ALUA: dg/tg2' "$l1" | tail -3)"
wait_serving 2 30 || ko "head 2 does not serve again"
r1=$(rtpg 1)
r2=$(rtpg 2)
grep -q '^tpg id=1 state=0 pref=1 ' <<<"$r1" && grep -q '^tpg id=2 state=0 pref=0 ' <<<"$r1" && [ "$r1" = "$r2" ] &&
	ok "group 2 active/optimized again (its configured state) through both heads, ${t_back} ms after head 2's start" ||
	ko "after the rejoin: head 1 [$r1] head 2 [$r2]"
lab_sanitizer_check
lab_down

# ==== three heads ====
lab_start_heads 3
echo "== 4. head 3 killed"
killed 3 1 2

echo "== 5. head 3 restarted with --rejoin-state unavailable"
corosync_start 3
wait_quorate 3 20 || ko "head 3: corosync not quorate"
start_head 3 --rejoin-state unavailable
wait_serving 3 30 || ko "head 3 does not serve again"
wait_tpg 3 3 'state=3 pref=0' 10 || true
for s in 1 2 3; do
	r=$(rtpg "$s")
	grep -q '^tpg id=1 state=0 pref=1 ' <<<"$r" && grep -q '^tpg id=2 state=0 pref=0 ' <<<"$r" &&
		grep -q '^tpg id=3 state=3 pref=0 ' <<<"$r" &&
		ok "head $s: group 3 unavailable after the rejoin, groups 1 and 2 unchanged" ||
		ko "head $s after head 3's rejoin: $(tr '\n' ' ' <<<"$r")"
done
grep -q 'ordering this head.s 1 target port groups out of transitioning (--rejoin-state)' "$(lab_ndir 3)/tandemd.log" &&
	ok "head 3's tandemd ordered its group out of transitioning" || ko "head 3's tandemd did not log its ORDER kind 9"
lab_sanitizer_check
lab_down

# ==== two heads, one agent at protocol 4 ====
AGENT_ARGS[1]="--proto-max 4"
lab_start_heads 2
echo "== 6. a group at protocol 4: a departed head is not shown"
[ "$(cluster_field 1 protocol)" = 4 ] && ok "the group runs at protocol 4" ||
	ko "protocol: $(cluster_field 1 protocol)"
node_kill 2
wait_members 1 1 20 || ko "head 1 still sees 2 members"
wait_serving 1 20 || ko "head 1 not serving after head 2 died"
r=$(rtpg 1)
grep -q '^tpg id=2 state=0 ' <<<"$r" && ok "head 1 still reports group 2 active/optimized (protocol 4)" ||
	ko "head 1 at protocol 4: $(tr '\n' ' ' <<<"$r")"
n=$(grep -c 'heads that left are not shown unavailable' "$(lab_ndir 1)/agentd.log")
[ "$n" = 1 ] && ok "head 1's agent logged once why: $(grep -o 'membership:.*not shown unavailable' "$(lab_ndir 1)/agentd.log")" ||
	ko "head 1's agent logged it $n times"
lab_sanitizer_check
lab_down
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
