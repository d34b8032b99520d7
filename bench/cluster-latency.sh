#!/bin/bash
# cluster-latency.sh [N] - what cluster ordering costs, in the namespace
# lab (tests/cluster/lab.sh; root):
#   1. one head without an agent (tandemd alone): TEST UNIT READY and
#      PERSISTENT RESERVE OUT (REGISTER AND IGNORE EXISTING KEY) latency,
#      N of each, one at a time on one session;
#   2. two heads, tandemd -A + tandem-agentd + corosync each: the same
#      through head 1, then SET TARGET PORT GROUPS through head 1 (a
#      group change that completes once every head applied it: the time
#      an ALUA change takes to reach all heads), and a check that head 2
#      reports the last state at once;
#   3. the same with three heads.
# Prints one line per measurement (percentiles in microseconds). The
# numbers are for docs/cluster.md; nothing here passes or fails on speed.
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/cluster/lab.sh
[ "$(id -u)" -eq 0 ] || { echo "needs root"; exit 77; }
: "${TANDEMCTL:=$LAB_SRC/ctl/tandemctl}"
N=${1:-2000}
I=iqn.2026-11.org.example:bench

is_serving() {
	node_exec "$1" "$TANDEMCTL" -s "$LAB_CTL_SOCK" -status 2>/dev/null |
		grep -q 'serving=1'
}

measure() { # LABEL HEAD
	local h=$1
	shift
	scsi_client "$h" -r -i "$I" tur-latency "$N" | grep '^test_unit_ready' | sed "s/^/$* /"
	scsi_client "$h" -r -i "$I" pr-latency "$N" 0xbe | grep '^pr_out' | sed "s/^/$* /"
}

echo "== 1 head, no agent (single node)"
lab_up 1 >/dev/null
TANDEMD_AGENT_OPT='' tandemd_start 1
wait_portal 1 30 || { echo "head did not start"; exit 1; }
measure 1 "single-node"
lab_down

for heads in 2 3; do
	echo "== $heads heads, cluster mode"
	lab_up "$heads" >/dev/null
	lab_start_corosync_all
	for ((i = 1; i <= heads; i++)); do wait_quorate "$i" 20; done
	for ((i = 1; i <= heads; i++)); do
		agentd_start "$i"
		tandemd_start "$i"
	done
	for ((i = 1; i <= heads; i++)); do
		wait_portal "$i" 30 && lab_wait 30 is_serving "$i" || { echo "head $i not serving"; exit 1; }
	done
	measure 1 "$heads-heads"
	scsi_client 1 -r -i "$I" stpg-latency "$((N * 2 / 4))" 2 | grep '^stpg' | sed "s/^/$heads-heads /"
	for ((i = 2; i <= heads; i++)); do
		st=$(scsi_client "$i" -r -i "$I" rtpg | sed -n 's/^tpg id=2 state=\([0-9]*\).*/\1/p')
		echo "$heads-heads head $i reports group 2 state $st right after the last STPG (0 expected)"
	done
	lab_down
done
