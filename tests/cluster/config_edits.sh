#!/bin/bash
# config_edits.sh - edits of the shared configuration made with tandemctl
# on any head are ordered and applied on every head (targetd/
# cluster_conf.c), in the namespace lab (tests/cluster/lab.sh), 2 heads:
#   1. a node-local edit (-open_dev) stays on its head; the epoch does
#      not move;
#   2. -add_lun through head 1: head 2 lists it and serves the LU there
#      (INQUIRY on LUN 1 through head 2); the same epoch on both heads;
#   3. -add_group / -add_init through head 1 and head 2, a device's
#      identity (-set_dev_attr usn) through head 2: seen on the other
#      head, INQUIRY's serial through head 1 is the new one;
#   4. tandemd of head 2 killed (-9) while two edits are made through
#      head 1: restarted from its own (persisted) file, it has both
#      edits and the same epoch before it serves;
#   5. tandem-agentd of head 2 killed: an edit through head 2 is
#      answered "not ordered ... fenced", nothing changes anywhere;
#   6. no sanitizer report in the daemons' logs.
# Prints "N passed, N failed"; exit 0 only when nothing failed. Root.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/cluster/lab.sh

. tests/cluster/checks.bash
lab_need_daemons
A=iqn.2026-11.org.example:host-a
ctl() { # I tandemctl-args...
	local i=$1
	shift
	node_exec "$i" "$TANDEMCTL" -s "$LAB_CTL_SOCK" "$@"
}
epoch() { ctl "$1" -status 2>/dev/null | sed -n 's/^cluster_conf_epoch *//p'; }
sc() { # I LUN [opts] CMD...: scsitool against head I's LUN
	local i=$1 lun=$2
	shift 2
	client_exec "$SCSITOOL" -r -i "$A" "$(lab_url "$i" "$lun")" "$@" 2>&1 |
		grep -v '^retry=\|sense=6/'
}
same_epoch() { # DESC: both heads at the same epoch, printed
	local e1 e2
	e1=$(epoch 1)
	e2=$(epoch 2)
	if [ -n "$e1" ] && [ "$e1" = "$e2" ]; then
		ok "$1: both heads at cluster_conf_epoch $e1"
	else
		ko "$1: epochs head 1 [$e1] head 2 [$e2]"
	fi
}

lab_start_heads 2 || { echo "0 passed, 1 failed"; exit 1; }
T=$LAB_IQN
DISK1=$LAB_DIR/shared/disk1.img
truncate -s 16M "$DISK1"
same_epoch "at start"
e0=$(epoch 1)

echo "== 1. a node-local edit stays local"
if ctl 1 -open_dev disk1 -handler vdisk_fileio -attributes "filename=$DISK1,blocksize=512"; then
	ok "-open_dev disk1 on head 1"
else
	ko "-open_dev disk1 on head 1 failed"
fi
ctl 1 -list_device | grep -q '^disk1 ' && ok "head 1 has disk1" || ko "head 1 lacks disk1"
ctl 2 -list_device | grep -q '^disk1 ' && ko "head 2 has disk1 (a node-local edit travelled)" ||
	ok "head 2 does not have disk1 (node-local)"
[ "$(epoch 1)" = "$e0" ] && ok "a node-local edit does not move the epoch ($e0)" ||
	ko "epoch moved from $e0 to $(epoch 1) after a node-local edit"
ctl 2 -open_dev disk1 -handler vdisk_fileio -attributes "filename=$DISK1,blocksize=512" ||
	ko "-open_dev disk1 on head 2 failed"

echo "== 2. -add_lun through head 1, seen on head 2"
if out=$(ctl 1 -add_lun 1 -target "$T" -device disk1 2>&1); then
	ok "-add_lun 1 through head 1"
else
	ko "-add_lun 1 through head 1: $out"
fi
ctl 2 -list_tgt_attr "$T" | grep -qE '^1 +disk1 ' && ok "head 2 lists LUN 1 disk1" ||
	ko "head 2's LUNs: $(ctl 2 -list_tgt_attr "$T" | tail -3 | tr '\n' ' ')"
r=$(sc 2 1 inquiry)
grep -q '^status=GOOD' <<<"$r" && ok "INQUIRY on LUN 1 through head 2: GOOD" ||
	ko "INQUIRY on LUN 1 through head 2: $(tr '\n' ' ' <<<"$r")"
same_epoch "after -add_lun"
[ "$(epoch 1)" = $((e0 + 1)) ] && ok "the epoch counts the edit ($e0 -> $((e0 + 1)))" ||
	ko "epoch $e0 -> $(epoch 1)"
grep -q "^# tandem cluster_conf_epoch $((e0 + 1)) " "$(lab_ndir 2)/tandem.conf" &&
	grep -q "LUN 1 disk1" "$(lab_ndir 2)/tandem.conf" &&
	ok "head 2's configuration file holds the edit and the epoch" ||
	ko "head 2's file: $(head -3 "$(lab_ndir 2)/tandem.conf" | tr '\n' ' ')"
out=$(ctl 1 -add_lun 1 -target "$T" -device disk1 2>&1) &&
	ko "the same -add_lun again succeeded" ||
	ok "the same -add_lun again is refused: $out"

echo "== 3. groups and identity, both ways"
ctl 1 -add_group hosts -target "$T" || ko "-add_group through head 1"
ctl 2 -add_init 'iqn.2026-11.org.example:*' -target "$T" -group hosts ||
	ko "-add_init through head 2"
ctl 1 -list_grp_attr hosts -target "$T" | grep -q 'INITIATOR.*iqn.2026-11.org.example:\*' &&
	ok "head 1 has the group with head 2's INITIATOR" ||
	ko "head 1's group: $(ctl 1 -list_grp_attr hosts -target "$T" 2>&1 | tr '\n' ' ')"
ctl 2 -list_group -target "$T" | grep -q 'hosts' && ok "head 2 lists the group made through head 1" ||
	ko "head 2's groups: $(ctl 2 -list_group 2>&1 | tr '\n' ' ')"
ctl 2 -add_lun 1 -target "$T" -group hosts -device disk1 || ko "-add_lun in the group through head 2"
ctl 2 -set_dev_attr disk1 -attributes usn=cafe0001 || ko "-set_dev_attr usn through head 2"
ctl 1 -list_dev_attr disk1 | grep -qE '^usn +cafe0001' && ok "head 1 has head 2's usn for disk1" ||
	ko "head 1's disk1: $(ctl 1 -list_dev_attr disk1 | grep usn)"
r=$(sc 1 1 inquiry)
grep -q 'cafe0001' <<<"$r" && ok "INQUIRY through head 1 (initiator in group hosts, LUN 1) shows serial cafe0001" ||
	ko "INQUIRY through head 1 LUN 1: $(tr '\n' ' ' <<<"$r")"
same_epoch "after groups and identity"
out=$(ctl 1 -set_dev_attr disk1 -attributes "usn=1,nv_cache=1" 2>&1) &&
	ko "a mix of shared and node-local attributes was accepted" ||
	ok "a mix of shared and node-local attributes is refused: $out"

echo "== 4. tandemd of head 2 killed during two edits through head 1"
daemon_kill 2 tandemd KILL
ctl 1 -add_group late1 -target "$T" && ok "edit 1 through head 1 while head 2's tandemd is dead" ||
	ko "edit 1 through head 1 failed"
ctl 1 -add_init 'iqn.late:*' -target "$T" -group late1 &&
	ok "edit 2 through head 1 while head 2's tandemd is dead" || ko "edit 2 through head 1 failed"
tandemd_start 2 "$(lab_ndir 2)/tandem.conf"
if wait_portal 2 30 && wait_serving 2 30; then
	ok "head 2's tandemd restarted and serves"
else
	ko "head 2 does not serve after the restart: $(tail -5 "$(lab_ndir 2)/tandemd.log")"
fi
ctl 2 -list_grp_attr late1 -target "$T" | grep -q 'iqn.late:\*' &&
	ok "head 2 has both edits made while its tandemd was down" ||
	ko "head 2 lacks the edits: $(ctl 2 -list_group 2>&1 | tr '\n' ' ')"
same_epoch "after the restart"
grep -q "caught up" "$(lab_ndir 2)/tandemd.log" && ok "head 2 caught up before serving: $(grep -m1 'caught up' "$(lab_ndir 2)/tandemd.log" | sed 's/.*cluster: //')" ||
	ko "head 2's log says nothing of catching up"

echo "== 5. a fenced head answers 'not ordered'"
e5=$(epoch 1)
daemon_kill 2 agentd KILL
for ((n = 0; n < 50; n++)); do
	[ "$(cluster_field 2 serving)" = 0 ] && break
	sleep 0.1
done
out=$(ctl 2 -add_group fenced -target "$T" 2>&1)
rc=$?
[ $rc -ne 0 ] && grep -q 'not ordered' <<<"$out" && ok "an edit through fenced head 2 is refused: $out" ||
	ko "an edit through fenced head 2: rc=$rc $out"
ctl 1 -list_group -target "$T" | grep -q fenced && ko "head 1 got the refused edit" ||
	ok "head 1 did not get it"
[ "$(epoch 1)" = "$e5" ] && ok "epoch unchanged ($e5)" || ko "epoch $e5 -> $(epoch 1)"
agentd_start 2
wait_serving 2 30 && ok "head 2 serves again with its agent" || ko "head 2 does not serve again"
same_epoch "at the end"

lab_sanitizer_check
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
