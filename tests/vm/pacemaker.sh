#!/bin/bash
# pacemaker.sh - the real Linux initiator of tests/vm (a qemu guest:
# Debian's kernel, open-iscsi, dm-multipath, scsi_dh_alua; vmwriter
# writing through the map) against two heads of the cluster lab that run
# under a real Pacemaker with fencing (issue 12, part 5), as
# tests/cluster/failover_pcmk.sh sets it up (tests/cluster/pcmk.bash:
# stonith-enabled=true, one fence_tandemlab device per head, the
# ocf:tandem:target clone, the promotable ocf:tandem:alua clone,
# tandem-agentd --fencing pacemaker), corosync's token as the other VM
# tests (LAB_TOKEN, default 500 ms). The unpromoted state is
# nonoptimized, never standby: with standby paths only, scsi_dh_alua
# sends SET TARGET PORT GROUPS itself and fights Pacemaker
# (docs/pacemaker.md). It does the same to activate a non-optimized
# group unless its optimize_stpg is set: VM_OPTIMIZE_STPG (default 1)
# is written there before the login.
#
#   0. head A promoted (moved there first if Pacemaker chose B), the
#      guest logs in through A, then B: one map, A's group at the ALUA
#      priority of active/optimized (50), B's of active/non-optimized (10);
#   1. kill -9 of every process of the promoted head A under load:
#      Pacemaker fences it (stonith_admin --history, the fence agent's
#      log) and promotes B; zero I/O errors, zero bad blocks, the I/O pause
#      (vmwriter's longest write) and the times to fencing and promotion
#      printed; A's group unavailable in B's REPORT TARGET PORT GROUPS
#      (sg_rtpg in the guest);
#   2. head A started again (corosync, pacemakerd; its daemons come back
#      under Pacemaker, unpromoted) under load: its path returns to the
#      map at priority 10, zero errors;
#   3. a graceful move under load (crm_resource --move --promoted to A,
#      --clear, then to B and --clear): the map follows each move (the
#      new promoted head's group at 50 carries the I/O), zero errors,
#      the longest write printed;
#   4. no resource failed now; the guest's own STPGs (tandemd's logs)
#      and Pacemaker's failed operations: none with VM_OPTIMIZE_STPG=1,
#      counted and printed with 0 (Linux's default).
# Each writer's end is vmwriter's verification: every acknowledged block
# read back. Prints the figures and "N passed, N failed"; exit 0 only
# when nothing failed. Root; 132-147 s (the guest runs under TCG).
set -u
cd "$(dirname "$0")/../.." || exit 1
LAYOUT=nonoptimized
SCEN="Pacemaker with fencing, unpromoted nonoptimized"
. tests/vm/scen.bash
. tests/cluster/pcmk.bash
lab_need_agents pacemaker pacemaker-cli-utils resource-agents
SCEN_DOWN=pcmk_cleanup
# scsi_dh_alua's optimize_stpg (Linux's default 0): with 1 it does not
# send SET TARGET PORT GROUPS to activate an active/non-optimized group
# without PREF (Linux 6.1's alua_stpg), the unpromoted state here
: "${VM_OPTIMIZE_STPG:=1}"
case $VM_OPTIMIZE_STPG in 0 | 1) ;; *) echo "VM_OPTIMIZE_STPG: 0 or 1" >&2; exit 2 ;; esac
SCEN+=", optimize_stpg=$VM_OPTIMIZE_STPG"
letter() { if [ "$1" = 1 ]; then echo A; else echo B; fi; }
# layout_is I S1 S2: through head I, RTPG shows group 1 in state S1 and
# group 2 in S2 (0 active/optimized, 1 active/non-optimized)
# shellcheck disable=SC2317 # called through lab_wait
layout_is() {
	local r
	r=$(client_exec "$SCSITOOL" -r "$(lab_url "$1")" rtpg 2>&1)
	grep -q "^tpg id=1 state=$2 " <<<"$r" && grep -q "^tpg id=2 state=$3 " <<<"$r"
}
echo "== the guest, two heads under Pacemaker with fencing (token ${LAB_TOKEN:-500} ms, unpromoted $LAYOUT)"
scen_pcmk_lab pcmk_cleanup
scen_pcmk_start
if lab_wait 30 layout_is 2 0 1; then
	ok "RTPG through head B: head A's group active/optimized, head B's active/non-optimized"
else
	ko "RTPG through head B before the login: $(client_exec "$SCSITOOL" -r "$(lab_url 2)" rtpg 2>&1 | tr '\n' ' ')"
fi
out=$(node_exec 2 stonith_admin --list-registered 2>&1)
grep -q fence-node1 <<<"$out" &&
	ok "head B's pacemaker-fenced has the lab fence devices: $(grep -o 'fence-node[0-9]' <<<"$out" | tr '\n' ' ')" ||
	ko "stonith_admin --list-registered on head B: $out"
crm_show 1

section "0. the guest logs in through both heads"
# scsi_dh_alua reads optimize_stpg when it meets a port group: set before
# the login
gx "scsi_dh_alua's optimize_stpg set to $VM_OPTIMIZE_STPG" 10 \
	"p=/sys/module/scsi_dh_alua/parameters/optimize_stpg; echo $VM_OPTIMIZE_STPG >\$p && grep -qx $VM_OPTIMIZE_STPG \$p"
scen_login
if wait_prios 20 50 10; then
	ok "two path groups: head A's at 50 (promoted: active/optimized) carries the I/O, head B's at 10 (unpromoted: active/non-optimized)"
else
	ko "the map's groups: $WAITED"
fi

section "1. kill -9 of every process of the promoted head A under load"
writer_start k 25
sleep 8
tk=$(now_ms)
node_kill 1
ok "head A killed (SIGKILL of all its processes) 8 s into the writes"
if lab_wait 60 promoted_elsewhere 2 1; then
	promo=$(ms_since "$tk")
	ok "Pacemaker promoted $(promoted_on 2) $promo ms after the kill (crm_mon on head B)"
	FIG+=("kill -> promotion of node2 (crm_mon, polled): $promo ms")
else
	ko "no promotion 60 s after the kill of head A"
fi
out=$(node_exec 2 stonith_admin --history node1 --output-as=xml 2>&1)
grep -q 'target="node1".*status="success"\|status="success".*target="node1"' <<<"$out" &&
	ok "stonith_admin --history node1 (head B): fenced: $(grep -o '<fence_event [^>]*>' <<<"$out" | head -1)" ||
	ko "stonith_admin --history node1: $out"
ft=$(fenced_at 1)
if [ -n "$ft" ]; then
	ms=$(awk -v a="$ft" -v b="$tk" 'BEGIN {printf "%d", a * 1000 - b}')
	ok "the lab fence agent turned node1 off $ms ms after the kill"
	FIG+=("kill -> node1 fenced (the agent's off): $ms ms")
else
	ko "the lab fence agent's log has no off of node1: $(cat "$LAB_DIR/fence/fence.log" 2>&1)"
fi
crm_show 2
writer_done k 25 "kill -9 of the promoted head A"
a_down_map
st=$(awk '/group id : 0x1 / {g = 1} /group id : 0x2 / {g = 2} /access state/ && g {s[g] = $0}
	END {print (s[1] ~ /unavailable/) (s[2] ~ /active\/optimized/)}' <<<"$VM_OUT")
[ "$st" = 11 ] && ok "sg_rtpg through head B: head A's group unavailable, head B's active/optimized" ||
	ko "sg_rtpg through head B after the kill: $(tr -s ' \n' ' ' <<<"$VM_OUT")"

section "2. head A started again under Pacemaker, under load: its path returns"
writer_start r 30
sleep 3
t0=$(now_ms)
pcmk_head_start 1
if lab_wait 60 running_on 2 alua node1; then
	ok "head A's daemons and its unpromoted alua instance back $(ms_since "$t0") ms after corosync and pacemakerd started"
else
	ko "alua not running on node1 60 s after head A's pacemakerd started"
	crm_show 2
fi
if vm_until 40 "$PATHS_UP"; then
	s=$(awk -v ms="$(ms_since "$t0")" 'BEGIN {printf "%.1f", ms / 1000}')
	ok "head A's path is back in the map ${s} s after its pacemakerd started"
	FIG+=("head A back under Pacemaker: its path in the map ${s} s after pacemakerd started")
else
	ko "head A's path did not come back: $VM_OUT"
fi
writer_done r 30 "head A back under Pacemaker"
if wait_prios 20 10 50; then
	ok "head A's group at 10 (unpromoted, active/non-optimized), head B's at 50 carries the I/O"
else
	ko "the map after head A's return: $WAITED"
fi
show_map

section "3. graceful moves under load: crm_resource --move --promoted to head A, then back to head B"
writer_start m 40
sleep 3
for to in 1 2; do
	crm_move "$to"
	if [ "$to" = 1 ]; then pa=50 pb=10; else pa=10 pb=50; fi
	if wait_prios 30 "$pa" "$pb"; then
		ms=$(ms_since "$MOVE_T0")
		ok "the map follows the move to head $(letter "$to"): its group at 50 carries the I/O, the other at 10 (at the ${WAITED}. look, within ${ms} ms of the command)"
		FIG+=("move to head $(letter "$to"): the map followed within $ms ms of crm_resource --move")
	else
		ko "the map after the move to head $(letter "$to"): $WAITED"
	fi
done
writer_done m 40 "graceful moves to head A and back to head B"

section "4. the end: did the initiator and Pacemaker fight?"
for i in 1 2; do
	mon_xml "$i" | grep -q 'failed="true"' &&
		ko "a resource failed now on head $i: $(node_exec "$i" crm_mon -1 2>&1 | grep -A3 Failed)" ||
		ok "head $i: no resource failed now (crm_mon)"
done
crm_show 2
# the guest's own SET TARGET PORT GROUPS (tandemd logs who changed a
# group) and the failed operations Pacemaker recorded
stpg=$(cat "$LAB_DIR"/node*/log/daemons.log | grep -c 'by SET TARGET PORT GROUPS of initiator port')
fails=$(mon_xml 2 | grep -c '<failure ')
FIG+=("the guest's SET TARGET PORT GROUPS: $stpg; failed operations in Pacemaker's history: $fails (optimize_stpg=$VM_OPTIMIZE_STPG)")
if [ "$VM_OPTIMIZE_STPG" = 1 ]; then
	[ "$stpg" = 0 ] && ok "no SET TARGET PORT GROUPS from the guest (optimize_stpg=1)" ||
		ko "the guest sent $stpg SET TARGET PORT GROUPS with optimize_stpg=1: $(grep -h 'of initiator port' "$LAB_DIR"/node*/log/daemons.log | head -3)"
	[ "$fails" = 0 ] && ok "no failed operation in Pacemaker's history" ||
		ko "$fails failed operations: $(node_exec 2 crm_mon -1 2>&1 | sed -n '/Failed Resource Actions/,$p' | tr '\n' ' ')"
else
	echo "   (optimize_stpg=0, Linux's default: each of the guest's STPGs made an unpromoted group active/optimized,"
	echo "   its ocf:tandem:alua monitor then returned promoted: counted, not failed; docs/pacemaker.md)"
	grep -h 'of initiator port' "$LAB_DIR"/node*/log/daemons.log | sed 's/^/   | /'
	node_exec 2 crm_mon -1 2>&1 | sed -n '/Failed Resource Actions/,$p' | sed 's/^/   | /'
fi
finish
