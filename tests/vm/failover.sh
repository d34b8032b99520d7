#!/bin/bash
# failover.sh [nonoptimized|standby] - a real Linux initiator against two
# Tandem heads (issue 11): a qemu guest (tests/vm/build.sh: Debian's
# kernel, open-iscsi, dm-multipath with scsi_dh_alua) in the cluster lab's
# client namespace, each head reached through its own NIC; the heads are
# the lab's (real corosync, tandem-agentd, tandemd -A), one LU on a file
# both heads serve (shared storage). Head A's target port group is
# active/optimized, head B's is the argument (default nonoptimized).
#
#   a. discovery through each head returns that head's portal; a login
#      through both; multipathd builds one map with two path groups by
#      ALUA priority; VPD 83h's LU designators identical through both
#      paths, the relative target port and the port group per head; RTPG
#      identical through both;
#   b. kill -9 of every process of head A while vmwriter writes through
#      the map: zero I/O errors, zero bad blocks, the pause printed;
#   c. head A restarted under load: its path comes back, I/O undisturbed;
#      the layout restored (tandemctl -activate_tgrp tg1), then a
#      graceful move under load (-activate_tgrp tg2, then tg1 again): the
#      map follows each move (the new active group at
#      priority 50, the other at its unpromoted priority, PREF with the
#      active group), zero I/O errors; then head A's link cut (no FIN/RST
#      reaches the guest), then A killed: the same checks;
#   d. vmwriter catches a block overwritten behind its back.
# Every pause is a benchmark figure; only a pause above VM_PAUSE_MAX_MS
# (60000) fails. Prints "N passed, N failed"; exit 0 only when nothing
# failed. Root; about 4 minutes (the guest runs under TCG).
set -u
cd "$(dirname "$0")/../.." || exit 1
LAYOUT=${1:-${VM_LAYOUT:-nonoptimized}}
case $LAYOUT in
nonoptimized) B_PRIO=10 ;;
standby) B_PRIO=1 ;;
*) echo "usage: $0 [nonoptimized|standby]" >&2; exit 2 ;;
esac
. tests/vm/scen.bash

# activate TG HEAD: tandemctl -activate_tgrp TG through HEAD, timed
activate() {
	local t0 out
	t0=$(date +%s%N)
	if out=$(node_exec "$2" "$TANDEMCTL" -s "$LAB_CTL_SOCK" -activate_tgrp "$1" -dev_group dg 2>&1); then
		ok "tandemctl -activate_tgrp $1 through head $2 ($(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN {printf "%.0f", (b - a) / 1e6}') ms, ordered on both heads)"
	else
		ko "tandemctl -activate_tgrp $1 through head $2: $out"
	fi
}

scen_up base

echo "== a. discovery and identity"
scen_login
[ "$(grep -c '^group' <<<"$GROUPS_")" = 2 ] && ok "two path groups" || ko "path groups: $GROUPS_"
ga=$(group_of "$DA" "$GROUPS_")
gb=$(group_of "$DB" "$GROUPS_")
[ "${ga%% *}" = 50 ] && ok "head A's path group has the ALUA priority of active/optimized (50): $ga" ||
	ko "head A's group: '$ga'"
[ "${gb%% *}" = "$B_PRIO" ] && ok "head B's path group has the priority of $LAYOUT ($B_PRIO): $gb" ||
	ko "head B's group: '$gb' (want prio $B_PRIO)"
[ "$(cut -d' ' -f2 <<<"$ga")" = active ] && ok "I/O goes to head A's group (status=active)" ||
	ko "head A's group is not the active one: '$ga'"
map_identity 6001405ab7a1d0001c1a500000000001

section "b. kill -9 of every process of head A under load"
writer_start b 30
sleep 8
node_kill 1
ok "head A killed (SIGKILL of all its processes) 8 s into the writes"
writer_done b 30 "kill -9 of head A"
a_down_map

section "c. head A restarted under load, its path returns"
writer_start c1 45
sleep 3
corosync_start 1
wait_quorate 1 20 || ko "head A: corosync not quorate"
head_start 1
t0=$(date +%s%N)
if vm_until 40 "$PATHS_UP"; then
	s=$(secs_since "$t0")
	ok "head A's path is back in the map ${s} s after head A served again"
	FIG+=("head A restarted: its path back ${s} s after it served")
else
	ko "head A's path did not come back: $VM_OUT"
fi
writer_done c1 45 "head A restarted"
show_map
ga=$(group_of "$DA" "$GROUPS_")
echo "   head A's group now: $ga (prio status path)"
[ "${ga##* }" = up ] && ok "head A's path is up" || ko "head A's path: '$ga'"

section "c1b. a graceful move under load: tandemctl -activate_tgrp tg2, then tg1"
# scsi_dh_alua's STPG after the kill left both groups active/optimized,
# so both paths share one path group; from there, a path made standby
# is failed, reinstated and activated again by scsi_dh_alua (an STPG
# that undoes the move). The administrator's first move restores the
# layout: head A active, head B in its unpromoted state.
activate tg1 1
if wait_prios 25 50 "$B_PRIO"; then
	ok "the layout restored by -activate_tgrp tg1: head A's group 50 carries the I/O, head B's at $B_PRIO"
else
	ko "the map after -activate_tgrp tg1: $WAITED"
fi
if [ "$LAYOUT" = standby ]; then
	# measured 2026-12-06: 2 runs of 2 failed the move back (head A's
	# group active again, head B's standby, then B's made active again
	# 20 ms later by scsi_dh_alua's STPG: multipathd still ranked B's
	# path group first and failed back to it). The STPG fight of
	# docs/pacemaker.md ("Initiators"), a known limitation until an
	# implicit-only ALUA mode exists; the graceful move is tested with
	# the nonoptimized layout here and under Pacemaker in pacemaker.sh.
	echo "SKIP (c1b, standby): the graceful move and back: scsi_dh_alua's STPG can undo a move to a standby layout (docs/pacemaker.md, the STPG fight)"
else
	writer_start c1b 50
	sleep 4
	activate tg2 2
	if wait_prios 25 "$B_PRIO" 50; then
		ok "the map follows the move to head B in ${WAITED} s: head B's group 50 carries the I/O, head A's at $B_PRIO ($LAYOUT)"
		FIG+=("move to head B: the map followed in ${WAITED} s")
	else
		ko "the map after the move to head B: $WAITED"
	fi
	vm_run 20 "sg_rtpg -d /dev/$DA | grep -iE 'group id|access state'"
	grep -qiE 'group id : 0x2 , Pref=1' <<<"$VM_OUT" && grep -qiE 'group id : 0x1 , Pref=0' <<<"$VM_OUT" &&
		ok "PREF moved with the active group (RTPG through head A)" || ko "RTPG after the move: $(tr -s ' \n' ' ' <<<"$VM_OUT")"
	activate tg1 1
	if wait_prios 25 50 "$B_PRIO"; then
		ok "the map follows the move back to head A in ${WAITED} s: head A's group 50 carries the I/O, head B's at $B_PRIO"
		FIG+=("move back to head A: the map followed in ${WAITED} s")
	else
		ko "the map after the move back to head A: $WAITED"
	fi
	writer_done c1b 50 "graceful move to head B and back"
fi

section "c2. head A's link cut (no FIN/RST), then head A killed"
writer_start c2 30
sleep 8
partition 1
sleep 3
node_kill 1
ok "head A's link cut 8 s into the writes, head A killed 3 s later"
writer_done c2 30 "link of head A cut, then A killed"
heal 1
show_map
gb=$(group_of "$DB" "$GROUPS_")
[ "$(cut -d' ' -f2- <<<"$gb")" = "active up" ] && ok "I/O goes through head B's path ($gb)" ||
	ko "head B's group: '$gb'"
vm_run 20 "dmesg | grep -iE 'alua|device-mapper: multipath|connection[0-9:]* .*error|detected conn error|I/O error' | tail -25"
echo "   the guest's kernel on the failovers:"
indent "k" "$VM_OUT"

section "d. the writer catches a corrupted block"
vm_run 60 "vmwriter -d $MAP -t 1 -m 1 -n 8 -s 3 -j /tmp/d.j >/tmp/d.log 2>&1 || { cat /tmp/d.log; exit 9; }
dd if=/dev/zero of=$MAP bs=4096 seek=5 count=1 conv=fsync 2>/dev/null || exit 8
vmwriter -v -d $MAP -j /tmp/d.j"
indent ">" "$VM_OUT"
[ "$VM_RC" = 1 ] && grep -q ' bad_blocks=1 ' <<<"$VM_OUT" && grep -q '^bad block=5 ' <<<"$VM_OUT" &&
	ok "block 5 zeroed behind vmwriter's back: 1 bad block, exit status 1" ||
	ko "vmwriter -v after a corruption: status $VM_RC"
finish
