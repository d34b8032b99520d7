#!/bin/bash
# alua.sh - ALUA against a real tandemd on loopback: two targets (relative
# target ports 1 and 2) in two target port groups of one DEVICE_GROUP,
# libiscsi clients on both:
#  (a) iscsi-test-cu SCSI.Inquiry (and SCSI.ReportTargetPortGroups when
#      the installed libiscsi has it);
#  (b) REPORT TARGET PORT GROUPS through each port: both groups, states,
#      preferred bit, relative port ids;
#  (c) tandemctl -set_tgrp_attr tg2 -dev_group dg -attributes
#      state=standby with a session open on each port: both see ASYMMETRIC
#      ACCESS STATE CHANGED (6/2A/06), reads through port 2 get NOT READY
#      04/0B and through port 1 work, RTPG shows the new state;
#      -list_dgrp and -list_tgrp_attr show it;
#  (d) SET TARGET PORT GROUPS from port 1 brings group 2 back: the other
#      session sees the UA, reads through port 2 work again;
#  (e) a bad state is refused by tandemctl and nothing changes;
#  (f) what the STPG of (d) left: -list_dgrp / -list_tgrp_attr show the
#      state now beside the configured one, -write_config notes it in a
#      comment and applies unchanged, tandemd logged the STPG with the
#      initiator port and the transition;
#  (g) -activate_tgrp tg2 with a session on each port: group 2 active/
#      optimized with PREF, group 1 back to its unpromoted state
#      (standby), the UA on both sessions, RTPG the same through both
#      ports, the transitions logged with the administrator; and back;
#  (h) a standby port serves what an initiator reads at discovery: READ
#      CAPACITY(10)/(16) (the real size) and MODE SENSE (issue 11).
#  (i) -set_tgrp_state (one group's running state and preferred bit, the
#      Pacemaker agent's promote/demote) with a session on each port: the
#      UA on both, RTPG the same through both ports, the other group
#      untouched; a group made unavailable refuses reads (04/0C); a no-op
#      is logged as one; bad attributes and an unknown group are refused;
#      the transitions logged with the administrator.
# Ports: 4100.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/common.sh
. tests/func/funclib.bash

need_tandemd
[ -x "$TANDEMCTL" ] || skip "no tandemctl at $TANDEMCTL (build it first)"
CHECK=$FUNC_BUILD/tests/func/alua_check
[ -x "$CHECK" ] || skip "no $CHECK (tests/func/alua.mk, needs libiscsi-dev at configure time)"
tdm_tmpdir
trap tdm_cleanup EXIT
T=$TDM_TMP
S=$T/ctl.sock
port=4100
TA=iqn.2026-11.org.tandem:alua-a
TB=iqn.2026-11.org.tandem:alua-b
INI=iqn.2026-11.org.tandem:alua-client
ctl() { "$TANDEMCTL" -s "$S" "$@"; }
has() {
	if grep -qE -- "$2" <<<"$3"; then pass "$1"; else fail "$1: /$2/ not in: $3"; fi
}
# bg_client OUT TARGET STEP...: an alua_check session in the background
# (its pid in BG), output in OUT
bg_client() {
	local out=$1 tgt=$2
	shift 2
	"${HELPER_ENV[@]}" "$CHECK" 127.0.0.1:$port "$tgt" $INI "$@" >"$out" 2>&1 &
	BG=$!
	TDM_PIDS+=("$BG")
}
# wait_ready: both background clients logged in (ready-a, ready-b)
wait_ready() {
	local i
	for ((i = 0; i < 100; i++)); do
		[ -e "$T/ready-a" ] && [ -e "$T/ready-b" ] && return
		sleep 0.1
	done
}
# pair_start: a session on each port in the background (alua_check:
# tur tur, then read read rtpg once "$T/go" exists), logged in on return
pair_start() {
	rm -f "$T"/ready-* "$T/go"
	bg_client "$T/a.out" $TA tur tur "signal:$T/ready-a" "wait:$T/go" read read rtpg
	PA=$BG
	bg_client "$T/b.out" $TB tur tur "signal:$T/ready-b" "wait:$T/go" read read rtpg
	PB=$BG
	wait_ready
}
# pair_finish: both sessions go on and end; their outputs in A and B
pair_finish() {
	local ra rb
	touch "$T/go"
	wait "$PA"
	ra=$?
	forget_pid "$PA"
	wait "$PB"
	rb=$?
	forget_pid "$PB"
	A=$(cat "$T/a.out")
	B=$(cat "$T/b.out")
	[ $ra -eq 0 ] && [ $rb -eq 0 ] && pass "both clients ran" || fail "clients: $ra $rb: $A $B"
}

cat >"$T/tandem.conf" <<EOF
HANDLER ram {
	DEVICE disk01 {
		size_mb 8
	}
}
TARGET_DRIVER iscsi {
	enabled 1
	portal 127.0.0.1:$port
	TARGET $TA {
		enabled 1
		rel_tgt_id 1
		LUN 0 disk01
	}
	TARGET $TB {
		enabled 1
		rel_tgt_id 2
		LUN 0 disk01
	}
}
DEVICE_GROUP dg {
	DEVICE disk01
	TARGET_GROUP tg1 {
		group_id 1
		preferred 1
		state active
		TARGET $TA
	}
	TARGET_GROUP tg2 {
		group_id 2
		state active
		TARGET $TB
		TARGET other-head-port {
			rel_tgt_id 9
		}
	}
}
EOF

start_wait "$T/tandem.conf" "$T/tandemd.log" $port || {
	fail "tandemd did not start"
	end_test "$T/tandemd.log"
}

# (a) the conformance suite's INQUIRY tests (libiscsi 1.19 has no REPORT
# TARGET PORT GROUPS test: alua_check does RTPG below)
tests=SCSI.Inquiry
if command -v iscsi-test-cu >/dev/null; then
	if "${HELPER_ENV[@]}" iscsi-test-cu --test="$tests" \
		"iscsi://127.0.0.1:$port/$TA/0" >"$T/cu.log" 2>&1 &&
		! grep -qE "FAILED|failed: [1-9]" "$T/cu.log"; then
		pass "iscsi-test-cu $tests"
	else
		fail "iscsi-test-cu $tests: $(tail -20 "$T/cu.log")"
	fi
else
	echo "SKIP (part): no iscsi-test-cu"
fi

# (b) RTPG through each port
OUT=$("${HELPER_ENV[@]}" "$CHECK" 127.0.0.1:$port $TA $INI tur tur rtpg 2>&1)
has "port 1: RTPG answers" "^rtpg: GOOD" "$OUT"
has "port 1: group 1 active/optimized, preferred, port 1" "^group 1 state 0 pref 1 status 0 ports 1$" "$OUT"
has "port 1: group 2 active/optimized, ports 2 and 9" "^group 2 state 0 pref 0 status 0 ports 2,9$" "$OUT"
OUT=$("${HELPER_ENV[@]}" "$CHECK" 127.0.0.1:$port $TB $INI tur tur rtpg read 2>&1)
has "port 2: same groups" "^group 2 state 0 pref 0 status 0 ports 2,9$" "$OUT"
has "port 2: reads work while active" "^read: GOOD" "$OUT"

# (c) standby through tandemctl with sessions open on both ports
rm -f "$T"/ready-* "$T/go"
bg_client "$T/a.out" $TA tur tur "signal:$T/ready-a" "wait:$T/go" read read rtpg
PA=$BG
# port 2's session stays for (d): a new login to a standby port fails in
# libiscsi (its TEST UNIT READY after login gets NOT READY)
bg_client "$T/b.out" $TB tur tur "signal:$T/ready-b" "wait:$T/go" read read \
	tur rc10 rc16 modesense rtpg mark "signal:$T/ready-b2" "wait:$T/go2" \
	read read rtpg
PB=$BG
wait_ready
OUT=$(ctl -set_tgrp_attr tg2 -dev_group dg -attributes state=standby 2>&1)
rc=$?
[ $rc -eq 0 ] && pass "tandemctl -set_tgrp_attr state=standby" ||
	fail "tandemctl -set_tgrp_attr: exit $rc: $OUT"
touch "$T/go"
wait "$PA"
ra=$?
forget_pid "$PA"
for ((i = 0; i < 200; i++)); do
	[ -e "$T/ready-b2" ] && break
	sleep 0.1
done
A=$(cat "$T/a.out")
B=$(sed '/^---$/q' "$T/b.out")
[ $ra -eq 0 ] && [ -e "$T/ready-b2" ] && pass "both clients ran" || fail "clients: exit $ra: $A $B"
has "port 1: UA ASYMMETRIC ACCESS STATE CHANGED" "^read: SENSE 6/2a/06" "$A"
has "port 1: reads work after it" "^read: GOOD" "$A"
has "port 1: RTPG shows group 2 standby (implicit change)" "^group 2 state 2 pref 0 status 2 ports 2,9$" "$A"
has "port 2: UA ASYMMETRIC ACCESS STATE CHANGED" "^read: SENSE 6/2a/06" "$B"
has "port 2: reads get NOT READY, TARGET PORT IN STANDBY STATE" "^read: SENSE 2/04/0b" "$B"
has "port 2: TEST UNIT READY too" "^tur: SENSE 2/04/0b" "$B"
# (h) 8 MiB of 512-byte blocks: 16384
has "port 2 (standby): READ CAPACITY(10) GOOD" "^rc10: GOOD" "$B"
has "port 2 (standby): READ CAPACITY(16) GOOD" "^rc16: GOOD" "$B"
has "port 2 (standby): the real capacity, not 0" "^blocks 16384$" "$B"
has "port 2 (standby): MODE SENSE caching page GOOD" "^modesense: GOOD" "$B"
has "port 2: RTPG still answers in standby" "^group 2 state 2" "$B"
OUT=$(ctl -list_dgrp 2>&1)
has "-list_dgrp shows tg2 standby" "tg2 +standby" "$OUT"
OUT=$(ctl -list_tgrp_attr tg2 -dev_group dg 2>&1)
has "-list_tgrp_attr shows state standby" "state +standby" "$OUT"
has "-list_tgrp_attr shows the remote port" "rel_tgt_id +9" "$OUT"

# (d) SET TARGET PORT GROUPS from port 1: group 2 active/non-optimized;
# port 2's session (still open from (c)) sees it
A=$("${HELPER_ENV[@]}" "$CHECK" 127.0.0.1:$port $TA $INI tur tur stpg:2=1 rtpg 2>&1)
touch "$T/go2"
wait "$PB"
rb=$?
forget_pid "$PB"
B=$(sed '1,/^---$/d' "$T/b.out")
[ $rb -eq 0 ] && pass "port 2 client ran to its end" || fail "port 2 client: exit $rb: $(cat "$T/b.out")"
has "STPG from port 1 is GOOD" "^stpg:2=1: GOOD" "$A"
has "RTPG: group 2 active/non-optimized, altered by STPG" "^group 2 state 1 pref 0 status 1 ports 2,9$" "$A"
has "port 2: UA after STPG" "^read: SENSE 6/2a/06" "$B"
has "port 2: reads work again" "^read: GOOD" "$B"

# (e) a bad state changes nothing
OUT=$(ctl -set_tgrp_attr tg2 -dev_group dg -attributes state=sleepy 2>&1)
rc=$?
[ $rc -ne 0 ] && grep -q "bad state 'sleepy'" <<<"$OUT" && pass "bad state refused: $OUT" ||
	fail "bad state: exit $rc: $OUT"
OUT=$(ctl -set_tgrp_attr tg9 -dev_group dg -attributes state=standby 2>&1)
rc=$?
[ $rc -ne 0 ] && pass "unknown target group refused: $OUT" || fail "unknown tg: exit $rc: $OUT"

# (f) the STPG of (d): configured standby, running non-optimized
OUT=$(ctl -list_dgrp 2>&1)
has "-list_dgrp: tg2 now nonoptimized, configured standby" "tg2 +nonoptimized +0 +standby" "$OUT"
has "-list_dgrp: tg1 now active, preferred, as configured" "tg1 +active +1 +active,preferred" "$OUT"
OUT=$(ctl -list_tgrp_attr tg2 -dev_group dg 2>&1)
has "-list_tgrp_attr: the configured state" "^state +standby" "$OUT"
has "-list_tgrp_attr: the state now" "^current_state +nonoptimized" "$OUT"
has "-list_tgrp_attr: set by STPG" "^current_status +set_target_port_groups" "$OUT"
ctl -write_config "$T/written.conf" || fail "-write_config"
has "-write_config: the configured state stays" "state standby" "$(cat "$T/written.conf")"
has "-write_config: a comment says what runs now" "# running now: state nonoptimized, preferred 0 \(set by an initiator's SET TARGET PORT GROUPS\)" "$(cat "$T/written.conf")"
OUT=$(ctl -config "$T/written.conf" 2>&1) && pass "the written file applies: $OUT" || fail "-config written.conf: $OUT"
OUT=$(ctl -list_dgrp 2>&1)
has "... and changes nothing: tg2 still nonoptimized" "tg2 +nonoptimized +0 +standby" "$OUT"
LOG=$(cat "$T/tandemd.log")
has "log: the STPG with the initiator port and the receiving port" "ALUA: dg \(device disk01\): SET TARGET PORT GROUPS of initiator port $INI,i,0x[0-9a-f]+ through relative target port 1: group 2 nonoptimized" "$LOG"
has "log: its transition" "ALUA: dg/tg2 \(group 2\): standby -> nonoptimized, by SET TARGET PORT GROUPS of initiator port $INI" "$LOG"
has "log: the configuration's transition of (c)" "ALUA: dg/tg2 \(group 2\): active -> standby, by the configuration" "$LOG"

# (g) -activate_tgrp with a session open on each port
pair_start
OUT=$(ctl -activate_tgrp tg2 -dev_group dg 2>&1) && pass "-activate_tgrp tg2" ||
	fail "-activate_tgrp tg2: $OUT"
pair_finish
has "port 1: UA after the move" "^read: SENSE 6/2a/06" "$A"
has "port 2: UA after the move" "^read: SENSE 6/2a/06" "$B"
has "port 1 (now standby): reads refused" "^read: SENSE 2/04/0b" "$A"
has "port 2 (now active): reads work" "^read: GOOD" "$B"
for X in "$A" "$B"; do
	has "RTPG: group 1 standby, PREF moved away, implicit" "^group 1 state 2 pref 0 status 2 ports 1$" "$X"
	has "RTPG: group 2 active/optimized with PREF, implicit" "^group 2 state 0 pref 1 status 2 ports 2,9$" "$X"
done
OUT=$(ctl -list_dgrp 2>&1)
has "-list_dgrp after the move: tg2 active, preferred" "tg2 +active +1 +standby" "$OUT"
has "-list_dgrp after the move: tg1 standby, not preferred" "tg1 +standby +0 +active,preferred" "$OUT"
has "log: the move with the administrator" "ALUA: dg/tg2 \(group 2\) made the active group, by tandemctl \(pid [0-9]+, uid [0-9]+\)" "$(cat "$T/tandemd.log")"
has "log: group 1's transition" "ALUA: dg/tg1 \(group 1\): active preferred -> standby, by tandemctl" "$(cat "$T/tandemd.log")"
OUT=$(ctl -activate_tgrp tg7 -dev_group dg 2>&1)
rc=$?
[ $rc -ne 0 ] && grep -q "no target group 'tg7'" <<<"$OUT" && pass "unknown group refused: $OUT" ||
	fail "-activate_tgrp tg7: exit $rc: $OUT"
OUT=$(ctl -activate_tgrp tg1 -dev_group dg 2>&1) && pass "-activate_tgrp tg1 (back)" ||
	fail "-activate_tgrp tg1: $OUT"
OUT=$("${HELPER_ENV[@]}" "$CHECK" 127.0.0.1:$port $TA $INI tur tur rtpg 2>&1)
has "back: group 1 active/optimized, preferred" "^group 1 state 0 pref 1 status 2 ports 1$" "$OUT"
has "back: group 2 standby (its configured state)" "^group 2 state 2 pref 0 status 2 ports 2,9$" "$OUT"

# (i) -set_tgrp_state with a session open on each port (libiscsi's
# login sends TEST UNIT READY: port 2's group active first)
OUT=$(ctl -set_tgrp_state tg2 -dev_group dg -attributes state=active 2>&1) &&
	pass "-set_tgrp_state tg2 active (bit kept)" || fail "-set_tgrp_state tg2 active: $OUT"
pair_start
OUT=$(ctl -set_tgrp_state tg2 -dev_group dg -attributes state=nonoptimized,preferred=1 2>&1) &&
	pass "-set_tgrp_state tg2 nonoptimized with the preferred bit" || fail "-set_tgrp_state tg2: $OUT"
pair_finish
has "port 1: UA after -set_tgrp_state" "^read: SENSE 6/2a/06" "$A"
has "port 2: UA after -set_tgrp_state" "^read: SENSE 6/2a/06" "$B"
has "port 2 (now active/non-optimized): reads work" "^read: GOOD" "$B"
for X in "$A" "$B"; do
	has "RTPG: group 1 untouched (active/optimized, PREF)" "^group 1 state 0 pref 1 status 2 ports 1$" "$X"
	has "RTPG: group 2 active/non-optimized with PREF, implicit" "^group 2 state 1 pref 1 status 2 ports 2,9$" "$X"
done
OUT=$(ctl -set_tgrp_state tg1 -dev_group dg -attributes state=unavailable,preferred=0 2>&1) &&
	pass "-set_tgrp_state tg1 unavailable without the bit" || fail "-set_tgrp_state tg1: $OUT"
OUT=$("${HELPER_ENV[@]}" "$CHECK" 127.0.0.1:$port $TA $INI tur tur read rtpg 2>&1)
has "port 1 (unavailable): NOT READY 04/0C (at libiscsi's login TUR)" "SENSE KEY:NOT READY\(2\) ASCQ:\(null\)\(0x040c\)" "$OUT"
OUT=$("${HELPER_ENV[@]}" "$CHECK" 127.0.0.1:$port $TB $INI tur tur read rtpg 2>&1)
has "port 2 still serves reads" "^read: GOOD" "$OUT"
has "RTPG: group 1 unavailable, no PREF" "^group 1 state 3 pref 0 status 2 ports 1$" "$OUT"
has "RTPG: group 2 kept" "^group 2 state 1 pref 1 status 2 ports 2,9$" "$OUT"
OUT=$(ctl -list_tgrp_attr tg1 -dev_group dg 2>&1)
has "-list_tgrp_attr: current_state unavailable" "current_state +unavailable" "$OUT"
has "-list_tgrp_attr: configured state unchanged (a transition, not an edit)" "^state +active" "$OUT"
n0=$(grep -c 'dg/tg1 (group 1) set to' "$T/tandemd.log")
OUT=$(ctl -set_tgrp_state tg1 -dev_group dg -attributes state=unavailable 2>&1) &&
	pass "the same state again (bit kept)" || fail "again: $OUT"
has "log: the no-op" "dg/tg1 \(group 1\) set to unavailable, by tandemctl \(pid [0-9]+, uid [0-9]+\): it already was" "$(cat "$T/tandemd.log")"
[ "$(grep -c 'dg/tg1 (group 1) set to' "$T/tandemd.log")" = $((n0 + 1)) ] && pass "logged once" || fail "log lines"
for bad in "state=bogus" "preferred=1" "state=active,preferred=2" "state=active,color=red"; do
	OUT=$(ctl -set_tgrp_state tg1 -dev_group dg -attributes "$bad" 2>&1)
	rc=$?
	[ $rc -eq 2 ] && pass "-attributes $bad refused (exit 2): $OUT" || fail "-attributes $bad: exit $rc: $OUT"
done
OUT=$(ctl -set_tgrp_state tg7 -dev_group dg -attributes state=active 2>&1)
rc=$?
[ $rc -eq 1 ] && grep -q "no target group 'tg7'" <<<"$OUT" && pass "unknown group refused: $OUT" ||
	fail "-set_tgrp_state tg7: exit $rc: $OUT"
OUT=$(ctl -list_dgrp 2>&1)
has "nothing changed: tg1 unavailable" "tg1 +unavailable +0 +active,preferred" "$OUT"
has "log: the transition with the administrator" "ALUA: dg/tg1 \(group 1\): active preferred -> unavailable, by tandemctl \(pid [0-9]+, uid [0-9]+\)" "$(cat "$T/tandemd.log")"
OUT=$(ctl -set_tgrp_state tg1 -dev_group dg -attributes state=active,preferred=1 2>&1) &&
	ctl -set_tgrp_state tg2 -dev_group dg -attributes state=standby,preferred=0 &&
	pass "back: tg1 active with the bit, tg2 standby" || fail "back: $OUT"

finish_daemon "$T/tandemd.log"
end_test "$T/tandemd.log"
