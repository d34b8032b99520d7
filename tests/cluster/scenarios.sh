#!/bin/bash
# scenarios.sh - tandem-agentd keeps reservations and ALUA states identical
# on every head (issue 5), in the namespace lab (tests/cluster/lab.sh):
# real corosync per head, real tandemd -A + tandem-agentd, initiators
# (tests/cluster/scsitool, libiscsi's iscsi-test-cu) in a client namespace.
#
#  2 heads:
#   1. a registration and a reservation made through one head are seen
#      (READ KEYS, READ FULL STATUS with each registration's relative port
#      id) and enforced (RESERVATION CONFLICT) through the other, both ways;
#   2. an STPG through head 1 shows in RTPG on head 2; the time is printed;
#      head 2's media access follows its group's new state;
#  2b. tandemctl -activate_tgrp tg2 through head 1: ordered once (each
#      agent's seq grows by one, each tandemd logs it once), RTPG
#      identical through both heads (group 2 active/optimized with PREF,
#      group 1 back to active/non-optimized without it), a session held
#      on each head gets 6/2A/06; and back through head 2;
#  2c. tandemctl -set_tgrp_state through head 2 (one group's running
#      state, as the Pacemaker agent ra/alua promotes and demotes):
#      ordered once, RTPG identical through both heads with only that
#      group changed, held sessions on both heads get 6/2A/06, head 1's
#      port (now standby) refuses media access; and back through head 1;
#   3. two initiators race PR OUT through different heads (loop-pr); both
#      heads end with the identical READ FULL STATUS and generation, and
#      the generation grew by exactly the REGISTERs that got GOOD;
#   4. tandemd of head 2 killed (-9) and restarted: it is fenced until it
#      has the cluster's state, then reports the same keys; then its
#      tandem-agentd killed (-9): head 2 is fenced at once (media access
#      and PR OUT refused with a retryable sense) and, with a new agent,
#      resynchronised;
#   5. iscsi-test-cu --dataloss with one URL per head (MultipathIO runs):
#      zero failures;
#   6. head 1, holding the reservation's nexus, is killed (SIGKILL of all
#      its processes): the reservation survives on head 2, and another
#      initiator PREEMPT AND ABORTs it there;
#  3 heads:
#   7. a partitioned head loses quorum and is fenced (NOT READY 04/0A for
#      media access), the majority goes on (a REGISTER through head 1);
#      healed, the head converges to the same keys before serving;
#   8. a head whose agent speaks protocol version 2 in a group of
#      version-1 agents (--proto-max 1): the group runs at 1 and PR OUT
#      through the newer head works; tandemctl -set_tgrp_state (protocol
#      4) is refused there and changes nothing.
#  After scenarios 1, 4b, 6 and 7 the daemons of a head write their
#  blackbox (SIGUSR1), and qb-blackbox must show that scenario's events
#  (debug and info records, below the daemons' level): the PR OUT
#  ordered through the agent and applied on the other head, the fencing
#  when the agent died, the membership change and the sync when a head
#  died or was cut off. The dumps' sizes are printed.
# Prints "N passed, N failed"; exit 0 only when nothing failed. Root.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/cluster/lab.sh

. tests/cluster/checks.bash
lab_need_daemons
A=iqn.2026-11.org.example:host-a
B=iqn.2026-11.org.example:host-b
C=iqn.2026-11.org.example:host-c
# honest iscsi-test-cu passes across the two heads (step 5), as measured
# with -V (docs/conformance.md)
CU_MIN_HONEST=200

now_ms() { date +%s%3N; }
# sc I [opts] CMD...: scsitool against head I, unit attentions retried
sc() {
	local i=$1
	shift
	scsi_client "$i" -r "$@" 2>&1 | grep -v '^retry=\|sense=6/'
}
status_of() { grep -m1 '^status=' <<<"$1"; }
expect() { # DESC WANT OUTPUT
	if [ "$(status_of "$3")" = "$2" ]; then
		ok "$1"
	else
		ko "$1: want $2, got: $(tr '\n' ' ' <<<"$3")"
	fi
}
keys() { sc "$1" -i "$A" read-keys | grep -E '^(gen|key)=' | sort; }
# bb_dump I NAME: head I's NAME (tandemd | agentd) writes its blackbox;
# BB is what qb-blackbox reads of it; its size is printed
bb_dump() {
	local f
	BB=
	if ! f=$(lab_blackbox "$1" "$2"); then
		ko "head $1's $2 wrote no blackbox"
		return 1
	fi
	BB=$(qb-blackbox "$f" 2>/dev/null)
	echo "   head $1's $2: $(basename "$f"): $(stat -c %s "$f") bytes," \
		"$(sed -n 's/.*=>used \[\([0-9]*\) bytes\]/\1/p' <<<"$BB") bytes of the ring used," \
		"$(grep -cE '^(error|warning|notice|info|debug|trace) ' <<<"$BB") records"
}
bb_has() { # DESC REGEX: the last dump shows REGEX
	grep -qE -- "$2" <<<"$BB" && ok "$1" || ko "$1: /$2/ not in the blackbox"
}
command -v qb-blackbox >/dev/null || ko "qb-blackbox is not installed (libqb-tools, scripts/deps.sh test)"
fullstatus() { sc "$1" -i "$A" read-full-status | grep -E '^(gen|fullstatus)' | sort; }
# after_order: right after an ordered ALUA change, each agent's seq (t1,
# t2) and RTPG through both heads (r1, r2), which must be identical; read
# at once (each scsitool run ends a nexus, which is ordered too)
after_order() {
	t1=$(cluster_field 1 seq)
	t2=$(cluster_field 2 seq)
	r1=$(sc 1 -i "$A" rtpg | grep '^tpg')
	r2=$(sc 2 -i "$B" rtpg | grep '^tpg')
	[ -n "$r1" ] && [ "$r1" = "$r2" ] && ok "RTPG identical through both heads: $(tr '\n' ' ' <<<"$r1")" ||
		ko "RTPG differs: head 1 [$r1] head 2 [$r2]"
}


start_heads() { lab_start_heads "$1"; } # N (checks.bash)

# ==== two heads ====
declare -a AGENT_ARGS=()
start_heads 2

echo "== 1. PR through one head, seen and enforced through the other"
expect "A registers 0xa1 through head 1" status=GOOD "$(sc 1 -i "$A" register 0 0xa1)"
expect "B registers 0xb2 through head 2" status=GOOD "$(sc 2 -i "$B" register 0 0xb2)"
k1=$(keys 1)
k2=$(keys 2)
if [ "$k1" = "$k2" ] && grep -q 'key=0xa1' <<<"$k1" && grep -q 'key=0xb2' <<<"$k1"; then
	ok "READ KEYS identical on both heads: $(tr '\n' ' ' <<<"$k1")"
else
	ko "READ KEYS differ: head 1 [$k1] head 2 [$k2]"
fi
fs=$(fullstatus 2)
grep -q 'fullstatus key=0xa1 rel_port=1 ' <<<"$fs" && grep -q 'fullstatus key=0xb2 rel_port=2 ' <<<"$fs" &&
	ok "READ FULL STATUS on head 2: A at relative port 1, B at 2" ||
	ko "READ FULL STATUS on head 2: $(tr '\n' ' ' <<<"$fs")"
expect "A reserves (write exclusive) through head 1" status=GOOD "$(sc 1 -i "$A" reserve 0xa1 wr_ex)"
r=$(sc 2 -i "$B" read-reservation)
grep -q 'reservation key=0xa1 .*type=1' <<<"$r" && ok "head 2 reports A's reservation" ||
	ko "head 2's READ RESERVATION: $(tr '\n' ' ' <<<"$r")"
expect "B's write through head 2 conflicts" status=RESERVATION_CONFLICT "$(sc 2 -i "$B" write 8 0xbb)"
expect "B's read through head 2 is allowed (write exclusive)" status=GOOD "$(sc 2 -i "$B" read 8)"
expect "A writes through head 2's port? A is registered there only via head 1: conflict" \
	status=RESERVATION_CONFLICT "$(sc 2 -i "$A" write 8 0xaa)"
expect "A writes through head 1" status=GOOD "$(sc 1 -i "$A" write 8 0xaa)"
d=$(sc 2 -i "$B" read 8)
grep -q 'data=aaaaaaaa' <<<"$d" && ok "head 2 reads A's data (shared storage)" || ko "head 2 read: $d"
expect "A releases through head 1" status=GOOD "$(sc 1 -i "$A" release 0xa1 wr_ex)"
expect "B reserves (exclusive access) through head 2" status=GOOD "$(sc 2 -i "$B" reserve 0xb2 ex_ac)"
expect "A's read through head 1 conflicts" status=RESERVATION_CONFLICT "$(sc 1 -i "$A" read 8)"
expect "B releases through head 2" status=GOOD "$(sc 2 -i "$B" release 0xb2 ex_ac)"

echo "== 1a. the blackboxes of head 1 hold scenario 1"
bb_dump 1 tandemd
bb_has "head 1's tandemd: A's REGISTER ordered through the agent" \
	'^debug .*cluster: disk0: PERSISTENT RESERVE OUT REGISTER ordered through the agent \(req [0-9]+\)'
bb_has "head 1's tandemd: B's REGISTER, made through head 2, applied here" \
	'^debug .*cluster: disk0: PERSISTENT RESERVE OUT REGISTER of another head \(req [0-9]+\) applied: sense reason 0'
bb_has "head 1's tandemd: its agent's STATUS (serving, 2 members)" \
	'^info .*cluster: serving, quorate, 2 members'
bb_dump 1 agentd
bb_has "head 1's agentd: the group's configuration with both heads" \
	'^info .*configuration change: members (1 2|2 1); '
bb_has "head 1's agentd: the sync's decision" '^info .*sync: 2 members, group version [0-9]+, source node [12] '
bb_has "head 1's agentd: head 2's PR-OP handed to tandemd" '^debug .*apply PR-OP of node 2 \(req [0-9]+\) at seq [0-9]+'

echo "== 1b. identity: the same LU, a target port per head"
i1=$(sc 1 -i "$A" inquiry)
i2=$(sc 2 -i "$B" inquiry)
lu1=$(grep -E '^(serial|naa|t10_id)=' <<<"$i1")
lu2=$(grep -E '^(serial|naa|t10_id)=' <<<"$i2")
[ -n "$lu1" ] && [ "$lu1" = "$lu2" ] && ok "both heads present the same serial and NAA" ||
	ko "LU identity differs: [$lu1] [$lu2]"
p1=$(grep -E '^port_name=' <<<"$i1")
p2=$(grep -E '^port_name=' <<<"$i2")
[ -n "$p1" ] && [ "$p1" != "$p2" ] && ok "target port names differ: $p1 / $p2" ||
	ko "target port names: [$p1] [$p2]"

echo "== 2. ALUA: STPG through head 1, RTPG on head 2"
# a session on head 2 held across the change sees the unit attention (its
# own initiator name: another login with the same name and ISID would
# reinstate, i.e. end, it)
client_bg "$LAB_DIR/ua.log" "$SCSITOOL" -r -i iqn.2026-11.org.example:host-e "$(lab_url 2)" tur-after 2000
pu=$LAB_PID
for ((n = 0; n < 100; n++)); do grep -q '^held_ms' "$LAB_DIR/ua.log" 2>/dev/null && break; sleep 0.05; done
t0=$(now_ms)
expect "STPG: group 2 standby, through head 1" status=GOOD "$(sc 1 -i "$A" stpg 2 standby)"
seen=
for ((n = 0; n < 200; n++)); do
	if sc 2 -i "$B" rtpg | grep -q 'tpg id=2 state=2'; then
		seen=$(($(now_ms) - t0))
		break
	fi
	sleep 0.02
done
[ -n "$seen" ] && ok "RTPG on head 2 shows group 2 standby ${seen} ms after the STPG was sent" ||
	ko "RTPG on head 2 never showed group 2 standby"
for ((n = 0; n < 100; n++)); do lab_alive "$pu" || break; sleep 0.05; done
tail -1 "$LAB_DIR/ua.log" | grep -q 'sense=6/2a/06' &&
	ok "a session on head 2 held across the STPG gets ASYMMETRIC ACCESS STATE CHANGED (6/2A/06)" ||
	ko "held session on head 2: $(tr '\n' ' ' <"$LAB_DIR/ua.log")"
r=$(sc 2 -i "$B" read 8)
grep -q 'sense=2/04/0b' <<<"$r" && ok "head 2 (standby) refuses media access: NOT READY 04/0B" ||
	ko "read through standby head 2: $(tr '\n' ' ' <<<"$r")"
expect "STPG: group 2 active/optimized again, through head 2" status=GOOD "$(sc 2 -i "$B" stpg 2 ao)"
sc 1 -i "$A" rtpg | grep -q 'tpg id=2 state=0' && ok "head 1 sees group 2 active again" ||
	ko "head 1's RTPG: $(sc 1 -i "$A" rtpg | tr '\n' ' ')"

echo "== 2b. tandemctl -activate_tgrp: one ordered move, the same on both heads"
hold_sessions 2500 1 2
s1=$(cluster_field 1 seq)
s2=$(cluster_field 2 seq)
n1=$(grep -c 'made the active group' "$(lab_ndir 1)/tandemd.log")
n2=$(grep -c 'made the active group' "$(lab_ndir 2)/tandemd.log")
out=$(node_exec 1 "$TANDEMCTL" -s "$LAB_CTL_SOCK" -activate_tgrp tg2 -dev_group dg 2>&1) &&
	ok "tandemctl -activate_tgrp tg2 through head 1" || ko "-activate_tgrp through head 1: $out"
after_order
# group 2 was active/optimized already (scenario 2's STPG: its status
# stays 1), it gains PREF; group 1 steps back (status 2, implicit)
grep -q '^tpg id=2 state=0 pref=1 status=1 ' <<<"$r2" && grep -q '^tpg id=1 state=1 pref=0 status=2 ' <<<"$r2" &&
	ok "group 2 active/optimized with PREF, group 1 active/non-optimized without" ||
	ko "RTPG after the move: $(tr '\n' ' ' <<<"$r2")"
[ "$t1" = $((s1 + 1)) ] && [ "$t2" = $((s2 + 1)) ] &&
	ok "ordered once: each agent applied exactly one more operation ($s1 -> $t1)" ||
	ko "seq: head 1 $s1 -> $t1, head 2 $s2 -> $t2"
[ "$(grep -c 'made the active group' "$(lab_ndir 1)/tandemd.log")" = $((n1 + 1)) ] &&
	[ "$(grep -c 'made the active group' "$(lab_ndir 2)/tandemd.log")" = $((n2 + 1)) ] &&
	ok "each tandemd applied the move once" || ko "move applied: $(grep 'made the active group' "$(lab_ndir 1)/tandemd.log" "$(lab_ndir 2)/tandemd.log")"
grep -qE 'ALUA: dg/tg2 \(group 2\) made the active group, by tandemctl \(pid [0-9]+, uid [0-9]+\) \(ordered by the cluster, through another head\)' "$(lab_ndir 2)/tandemd.log" &&
	ok "head 2 logged the administrator's move, made through head 1" ||
	ko "head 2's log: $(grep 'ALUA' "$(lab_ndir 2)/tandemd.log" | tail -3)"
held_ua "sessions held on both heads get ASYMMETRIC ACCESS STATE CHANGED (6/2A/06)"
l=$(node_exec 2 "$TANDEMCTL" -s "$LAB_CTL_SOCK" -list_dgrp 2>&1)
grep -qE 'tg2 +active +1 +active' <<<"$l" && ok "head 2's -list_dgrp: tg2 active, preferred now" ||
	ko "head 2's -list_dgrp: $l"
out=$(node_exec 2 "$TANDEMCTL" -s "$LAB_CTL_SOCK" -activate_tgrp tg1 -dev_group dg 2>&1) &&
	ok "tandemctl -activate_tgrp tg1 through head 2 (back)" || ko "-activate_tgrp through head 2: $out"
r1=$(sc 1 -i "$A" rtpg | grep '^tpg')
r2=$(sc 2 -i "$B" rtpg | grep '^tpg')
[ "$r1" = "$r2" ] && grep -q '^tpg id=1 state=0 pref=1 ' <<<"$r1" &&
	ok "back: group 1 active/optimized with PREF on both heads" || ko "back: [$r1] [$r2]"
expect "group 2 active/optimized again (STPG), as the scenarios below expect" status=GOOD "$(sc 2 -i "$B" stpg 2 ao)"

echo "== 2c. tandemctl -set_tgrp_state: one group's transition, ordered once"
hold_sessions 2500 1 2
s1=$(cluster_field 1 seq)
s2=$(cluster_field 2 seq)
out=$(node_exec 2 "$TANDEMCTL" -s "$LAB_CTL_SOCK" -set_tgrp_state tg1 -dev_group dg -attributes state=standby,preferred=0 2>&1) &&
	ok "tandemctl -set_tgrp_state tg1 standby through head 2" || ko "-set_tgrp_state through head 2: $out"
after_order
# group 1 standby without PREF (implicit); group 2 untouched (the STPG
# of 2b left it active/optimized, status 1)
grep -q '^tpg id=1 state=2 pref=0 status=2 ' <<<"$r1" && grep -q '^tpg id=2 state=0 pref=0 status=1 ' <<<"$r1" &&
	ok "group 1 standby without PREF, group 2 untouched" || ko "RTPG after -set_tgrp_state: $(tr '\n' ' ' <<<"$r1")"
[ "$t1" = $((s1 + 1)) ] && [ "$t2" = $((s2 + 1)) ] &&
	ok "ordered once: each agent applied exactly one more operation ($s1 -> $t1)" ||
	ko "seq: head 1 $s1 -> $t1, head 2 $s2 -> $t2"
grep -qE 'ALUA: dg/tg1 \(group 1\) set to standby without the preferred bit, by tandemctl \(pid [0-9]+, uid [0-9]+\) \(ordered by the cluster, through another head\)' "$(lab_ndir 1)/tandemd.log" &&
	ok "head 1 logged the transition, asked through head 2" ||
	ko "head 1's log: $(grep 'ALUA' "$(lab_ndir 1)/tandemd.log" | tail -3)"
held_ua "sessions held on both heads get ASYMMETRIC ACCESS STATE CHANGED (6/2A/06)"
r=$(sc 1 -i "$A" read 8)
grep -q 'sense=2/04/0b' <<<"$r" && ok "head 1 (standby now) refuses media access: NOT READY 04/0B" ||
	ko "read through head 1: $(tr '\n' ' ' <<<"$r")"
out=$(node_exec 1 "$TANDEMCTL" -s "$LAB_CTL_SOCK" -set_tgrp_state tg1 -dev_group dg -attributes state=active,preferred=1 2>&1) &&
	ok "tandemctl -set_tgrp_state tg1 active through head 1 (back)" || ko "-set_tgrp_state back: $out"
r2=$(sc 2 -i "$B" rtpg | grep '^tpg')
grep -q '^tpg id=1 state=0 pref=1 status=2 ' <<<"$r2" && ok "back: head 2 reports group 1 active/optimized with PREF" ||
	ko "back: $(tr '\n' ' ' <<<"$r2")"

echo "== 3. two initiators race PR OUT through different heads"
g0=$(sc 1 -i "$A" read-keys | sed -n 's/^gen=//p')
N=${RACE_N:-500}
client_bg "$LAB_DIR/race-a.log" "$SCSITOOL" -r -i "$A" "$(lab_url 1)" loop-pr "$N" 0xa1
pa=$LAB_PID
client_bg "$LAB_DIR/race-b.log" "$SCSITOOL" -r -i "$B" "$(lab_url 2)" loop-pr "$N" 0xb2
pb=$LAB_PID
# client_bg's processes are not children of this shell: poll
for ((n = 0; n < 6000; n++)); do
	lab_alive "$pa" || lab_alive "$pb" || break
	sleep 0.1
done
g1=$(sc 1 -i "$A" read-keys | sed -n 's/^gen=//p')
regs=$(cat "$LAB_DIR/race-a.log" "$LAB_DIR/race-b.log" | grep -c 'register.*status=GOOD')
res=$(cat "$LAB_DIR/race-a.log" "$LAB_DIR/race-b.log" | grep -c 'reserve.*status=GOOD')
conf=$(cat "$LAB_DIR/race-a.log" "$LAB_DIR/race-b.log" | grep -c 'reserve.*status=RESERVATION_CONFLICT')
echo "   $N cycles each: $regs REGISTERs GOOD, $res RESERVEs GOOD, $conf RESERVE conflicts; generation $g0 -> $g1"
[ $((g0 + regs)) -eq "$g1" ] && ok "generation grew by exactly the $regs REGISTERs that got GOOD" ||
	ko "generation $g0 -> $g1 but $regs REGISTERs got GOOD"
[ $((res + conf)) -eq $((2 * N)) ] && ok "every RESERVE got GOOD or RESERVATION CONFLICT" ||
	ko "RESERVE results: $res GOOD + $conf conflicts of $((2 * N))"
f1=$(fullstatus 1)
f2=$(fullstatus 2)
[ -n "$f1" ] && [ "$f1" = "$f2" ] && ok "READ FULL STATUS and generation identical on both heads" ||
	ko "after the race: head 1 [$f1] head 2 [$f2]"
s1=$(cluster_field 1 seq)
s2=$(cluster_field 2 seq)
[ -n "$s1" ] && [ "$s1" = "$s2" ] && ok "both agents applied the same number of operations ($s1)" ||
	ko "applied operations: head 1 $s1, head 2 $s2"

echo "== 4. tandemd of head 2 killed and restarted"
daemon_kill 2 tandemd KILL
expect "C registers 0xc3 through head 1 while head 2 is down" status=GOOD "$(sc 1 -i "$C" register 0 0xc3)"
tandemd_start 2
if wait_portal 2 30 && wait_serving 2 30; then
	ok "head 2 serves again after it got the state (${LAB_WAITED} s)"
else
	ko "head 2 does not serve again"
fi
[ "$(keys 1)" = "$(keys 2)" ] && grep -q 'key=0xc3' <<<"$(keys 2)" &&
	ok "restarted head 2 reports the same keys, 0xc3 included" ||
	ko "after the restart: head 1 [$(keys 1)] head 2 [$(keys 2)]"

echo "== 4b. tandem-agentd of head 2 killed and restarted"
daemon_kill 2 agentd KILL
fenced=
for ((n = 0; n < 50; n++)); do
	if ! is_serving 2; then
		fenced=$((n * 20))
		break
	fi
	sleep 0.02
done
[ -n "$fenced" ] && ok "head 2 fenced within ${fenced} ms of its agent's death" || ko "head 2 still serving without its agent"
[ "$(cluster_field 2 agent)" = none ] && ok "head 2 reports no agent" || ko "head 2's agent field: $(cluster_field 2 agent)"
r=$(sc 2 -i "$B" read 8)
grep -q 'sense=2/04/0a' <<<"$r" && ok "head 2 without agent refuses media access: NOT READY 04/0A" ||
	ko "read through agentless head 2: $(tr '\n' ' ' <<<"$r")"
r=$(sc 2 -i "$B" register-ignore 0xb2)
grep -q 'sense=2/04/0a' <<<"$r" && ok "head 2 without agent refuses PR OUT (retryable 04/0A)" ||
	ko "PR OUT through agentless head 2: $(tr '\n' ' ' <<<"$r")"
expect "D registers 0xd4 through head 1 meanwhile" status=GOOD "$(sc 1 -i iqn.2026-11.org.example:host-d register 0 0xd4)"
agentd_start 2
if wait_serving 2 30; then ok "head 2 serves again with a new agent (${LAB_WAITED} s)"; else ko "head 2 does not serve again"; fi
[ "$(keys 1)" = "$(keys 2)" ] && grep -q 'key=0xd4' <<<"$(keys 2)" &&
	ok "head 2 resynchronised: the same keys, 0xd4 included" ||
	ko "after the new agent: head 1 [$(keys 1)] head 2 [$(keys 2)]"
bb_dump 2 tandemd
bb_has "head 2's tandemd blackbox: the agent's loss, fenced" '^warning .*cluster: agent link lost .*fenced'
bb_has "head 2's tandemd blackbox: fenced" \
	'^notice .*cluster: fenced: media access and PR OUT refused'
bb_has "head 2's tandemd blackbox: the new agent" '^notice .*cluster: agent connected'

echo "== 5. iscsi-test-cu with one URL per head"
if command -v iscsi-test-cu >/dev/null; then
	client_exec iscsi-test-cu -V --dataloss --test=ALL "$(lab_url 1)" "$(lab_url 2)" >"$LAB_DIR/cu.log" 2>&1
	# zero failures, every test of ALL ran and has a result, every
	# [FAILED] lead classified, and the honest passes measured on one
	# head (docs/conformance.md)
	python3 tests/conformance/cu_summary.py "$LAB_DIR/cu.log" --select ALL \
		--min-honest "$CU_MIN_HONEST" --flagged tests/conformance/flagged.txt >"$LAB_DIR/cu.sum" 2>&1
	cu_rc=$?
	sum=$(grep '^iscsi-test-cu:' "$LAB_DIR/cu.sum")
	echo "   $sum"
	if [ "$cu_rc" -eq 0 ]; then
		ok "iscsi-test-cu across two heads: $sum"
	else
		ko "iscsi-test-cu across two heads: $sum: $(sed -n '/^FAILED tests:/,$p' "$LAB_DIR/cu.sum" | tr '\n' ' ')"
	fi
	grep -q 'Suite: MultipathIO' "$LAB_DIR/cu.log" && ! grep -A20 'Suite: MultipathIO' "$LAB_DIR/cu.log" | grep -q 'SKIPPED' &&
		ok "the MultipathIO suite ran across the heads" || ko "MultipathIO did not run"
else
	ko "iscsi-test-cu not installed"
fi

echo "== 5b. a TARGET COLD RESET through head 1 ends the target's sessions on head 2"
# RFC 7143 11.6.1: "the target MUST then close all of its TCP connections
# to all initiators"; the target is one across the heads
client_bg "$LAB_DIR/cold.log" "$SCSITOOL" -r -i iqn.2026-11.org.example:host-f "$(lab_url 2)" tur-after 4000
pc=$LAB_PID
for ((n = 0; n < 100; n++)); do grep -q '^held_ms' "$LAB_DIR/cold.log" 2>/dev/null && break; sleep 0.05; done
r=$(sc 1 -i "$A" cold-reset)
grep -qx 'tmf=0' <<<"$r" && ok "TARGET COLD RESET through head 1: FUNCTION COMPLETE" ||
	ko "TARGET COLD RESET through head 1: $(tr '\n' ' ' <<<"$r")"
for ((n = 0; n < 200; n++)); do lab_alive "$pc" || break; sleep 0.05; done
tail -1 "$LAB_DIR/cold.log" | grep -q 'error=transport' &&
	ok "the session held on head 2 was closed by head 2" ||
	ko "held session on head 2 after the cold reset: $(tr '\n' ' ' <"$LAB_DIR/cold.log")"
expect "a new session on head 2 sees the new nexus' unit attention, then serves" status=GOOD "$(sc 2 -i iqn.2026-11.org.example:host-f tur)"

echo "== 6. head 1 (holding the reservation's nexus) is killed"
sc 1 -i "$A" register-ignore 0xa1 >/dev/null
expect "A reserves through head 1" status=GOOD "$(sc 1 -i "$A" reserve 0xa1 wr_ex)"
node_kill 1
if wait_members 2 1 20; then ok "head 2 sees head 1 gone (${LAB_WAITED} s)"; else ko "head 2 still sees 2 members"; fi
wait_serving 2 20 || ko "head 2 not serving after head 1 died"
r=$(sc 2 -i "$B" read-reservation)
grep -q 'reservation key=0xa1' <<<"$r" && ok "the reservation survives on head 2" ||
	ko "head 2 after head 1 died: $(tr '\n' ' ' <<<"$r")"
sc 2 -i "$B" register-ignore 0xb2 >/dev/null
expect "B PREEMPT AND ABORTs A through head 2" status=GOOD "$(sc 2 -i "$B" preempt-abort 0xb2 0xa1 wr_ex)"
r=$(sc 2 -i "$B" read-reservation)
grep -q 'reservation key=0xb2' <<<"$r" && ok "B holds the reservation" || ko "after the preempt: $(tr '\n' ' ' <<<"$r")"
bb_dump 2 agentd
bb_has "head 2's agentd blackbox: head 1 left the group" \
	'^info .*configuration change: members 2; left 1\((nodedown|procdown)\); joined -'
bb_has "head 2's agentd blackbox: the sync with head 2 alone, its own source" \
	'^info .*sync: 1 members, group version [0-9]+, source node 2 at seq [0-9]+: this head continues'
bb_dump 2 tandemd
bb_has "head 2's tandemd blackbox: its agent reports 1 member" '^info .*cluster: serving, quorate, 1 members'
bb_has "head 2's tandemd blackbox: B's PREEMPT AND ABORT ordered through the agent" \
	'^debug .*cluster: disk0: PERSISTENT RESERVE OUT PREEMPT AND ABORT ordered through the agent'
lab_sanitizer_check
lab_down

# ==== three heads ====
echo "== 7. a partitioned head is fenced, and converges when healed"
# heads 1 and 2 run agents of the previous protocol version (1), head 3
# the current one (2): the group must run at 1
AGENT_ARGS[1]="--proto-max 1"
AGENT_ARGS[2]="--proto-max 1"
start_heads 3
partition 3
if wait_unquorate 3 20; then ok "head 3 lost quorum (${LAB_WAITED} s)"; else ko "head 3 kept quorum"; fi
for ((n = 0; n < 100; n++)); do is_serving 3 || break; sleep 0.1; done
is_serving 3 && ko "head 3 still serving while partitioned" || ok "head 3 is fenced"
# from inside head 3 (the client cannot reach it now): media access gets
# NOT READY, ASYMMETRIC ACCESS STATE TRANSITION; INQUIRY still answers
r=$(node_exec 3 "$SCSITOOL" -r -i "$C" "$(lab_url 3)" read 8 2>&1)
grep -q 'sense=2/04/0a' <<<"$r" && ok "partitioned head 3 refuses media access: NOT READY 04/0A" ||
	ko "read through partitioned head 3: $(tr '\n' ' ' <<<"$r")"
r=$(node_exec 3 "$SCSITOOL" -r -i "$C" "$(lab_url 3)" inquiry 2>&1)
expect "partitioned head 3 still answers INQUIRY" status=GOOD "$r"
expect "C registers 0xc3 through head 1 (majority)" status=GOOD "$(sc 1 -i "$C" register 0 0xc3)"
bb_dump 3 agentd
bb_has "partitioned head 3's agentd blackbox: quorum lost" '^notice .*quorum lost'
bb_has "and head 3 alone in its configuration" '^info .*configuration change: members 3; left [12]'
bb_has "and it stopped serving" '^notice .*not serving \(quorate 0'
bb_dump 3 tandemd
bb_has "partitioned head 3's tandemd blackbox: fenced" '^notice .*cluster: fenced: media access and PR OUT refused'
heal 3
if wait_quorate 3 20 && wait_serving 3 30; then ok "head 3 rejoined and serves (${LAB_WAITED} s)"; else ko "head 3 did not come back"; fi
[ "$(keys 1)" = "$(keys 3)" ] && grep -q 'key=0xc3' <<<"$(keys 3)" &&
	ok "head 3 has the majority's registrations" ||
	ko "after the heal: head 1 [$(keys 1)] head 3 [$(keys 3)]"

echo "== 8. mixed versions: head 3's agent speaks version 2, the others 1"
for i in 1 2 3; do
	v=$(cluster_field "$i" protocol)
	[ "$v" = 1 ] && ok "head $i: the group runs at protocol 1" || ko "head $i: protocol '$v'"
done
expect "B registers through head 3 (the newer agent)" status=GOOD "$(sc 3 -i "$B" register 0 0xb3)"
out=$(node_exec 3 "$TANDEMCTL" -s "$LAB_CTL_SOCK" -set_tgrp_state tg3 -dev_group dg -attributes state=standby 2>&1)
rc=$?
[ $rc -eq 1 ] && grep -q 'protocol older than 4' <<<"$out" &&
	ok "-set_tgrp_state refused in a group at protocol 1: $out" || ko "-set_tgrp_state at protocol 1: exit $rc: $out"
sc 1 -i "$A" rtpg | grep -q '^tpg id=3 state=0 ' && ok "... and group 3 is still active/optimized on head 1" ||
	ko "group 3 after the refused change: $(sc 1 -i "$A" rtpg | tr '\n' ' ')"
[ "$(keys 1)" = "$(keys 3)" ] && [ "$(keys 2)" = "$(keys 3)" ] &&
	ok "all three heads report the same keys" ||
	ko "keys: [$(keys 1)] [$(keys 2)] [$(keys 3)]"
lab_sanitizer_check
lab_down

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
