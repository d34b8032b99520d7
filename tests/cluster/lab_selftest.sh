#!/bin/bash
# lab_selftest.sh - checks the cluster lab itself (tests/cluster/lab.sh)
# with corosync only:
#  (a) 2 nodes: both quorate with 2 members; SIGKILL of one corosync: the
#      survivor sees 1 member and stays quorate (two_node);
#  (b) 3 nodes: all quorate with 3 members; SIGKILL of node 3's corosync:
#      nodes 1 and 2 see 2 members and keep quorum; restarted, it rejoins;
#  (c) partition of node 3: it loses quorum, 1 and 2 keep it with 2
#      members; healed, node 3 rejoins (3 members everywhere);
#  (d) lab_down leaves no namespace, mount or process behind.
# Prints "N passed, N failed"; exit 0 only when nothing failed. Root.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/cluster/lab.sh

. tests/cluster/checks.bash
lab_need_root
T0=$(date +%s%N)
check() { # check DESC CMD...
	local d=$1
	shift
	if "$@"; then ok "$d${LAB_WAITED:+ (${LAB_WAITED} s)}"; else ko "$d"; fi
	LAB_WAITED=
}
elapsed() { awk -v a="$T0" -v b="$(date +%s%N)" 'BEGIN {printf "%.1f", (b - a) / 1e9}'; }

# the traces a lab leaves while it is up: mounts of its directory, the
# inodes of its namespaces
NS_INOS=()
lab_record() {
	local f
	NS_INOS=()
	for f in "$LAB_DIR"/ns/*; do
		NS_INOS+=("$(stat -L -c %i "$f")")
	done
	LAST_DIR=$LAB_DIR
}
lab_traces() {
	local left=0 p i ino
	if grep -q "$LAST_DIR" /proc/self/mountinfo; then
		echo "mounts left: $(grep -c "$LAST_DIR" /proc/self/mountinfo)"
		left=1
	fi
	[ -e "$LAST_DIR" ] && { echo "directory left"; left=1; }
	for p in /proc/[0-9]*; do
		for i in net mnt uts; do
			ino=$(stat -L -c %i "$p/ns/$i" 2>/dev/null) || continue
			for n in "${NS_INOS[@]}"; do
				if [ "$ino" = "$n" ]; then
					echo "process ${p#/proc/} in a lab namespace"
					left=1
				fi
			done
		done
	done
	for n in "${NS_INOS[@]}"; do
		if lsns -n -o NS 2>/dev/null | grep -qx " *$n"; then
			echo "namespace $n still listed"
			left=1
		fi
	done
	return $left
}
no_traces() {
	local out
	out=$(lab_traces)
	[ -z "$out" ] || echo "$out"
	[ -z "$out" ]
}

# ---- (a) two nodes ----
if lab_up 2; then
	ok "lab_up 2"
	lab_record
	lab_start_corosync_all
	check "node 1 quorate" wait_quorate 1 15
	check "node 2 quorate" wait_quorate 2 15
	check "node 1 sees 2 members" wait_members 1 2 10
	check "node 2 sees 2 members" wait_members 2 2 10
	check "client reaches node 1 (bash /dev/tcp to a closed port: node 1 refuses)" \
		client_exec timeout 10 bash -c "(exec 3<>/dev/tcp/10.213.0.11/9) 2>&1 | grep -q 'Connection refused'"
	corosync_kill 2
	check "2 nodes: node 1 sees 1 member after corosync 2 was killed" wait_members 1 1 10
	check "2 nodes: node 1 stays quorate (two_node)" is_quorate 1
	lab_down
	check "2 nodes: lab_down leaves nothing behind" no_traces
else
	ko "lab_up 2"
fi
echo "--- $(elapsed) s"

# ---- (b) three nodes ----
if lab_up 3; then
	ok "lab_up 3"
	lab_record
	lab_start_corosync_all
	for i in 1 2 3; do
		check "node $i quorate" wait_quorate $i 15
		check "node $i sees 3 members" wait_members $i 3 10
	done
	corosync_kill 3
	check "3 nodes: node 1 sees 2 members after corosync 3 was killed" wait_members 1 2 10
	check "3 nodes: node 2 sees 2 members" wait_members 2 2 10
	check "3 nodes: node 1 keeps quorum" is_quorate 1
	check "3 nodes: node 2 keeps quorum" is_quorate 2
	corosync_start 3
	check "node 3 restarted: quorate" wait_quorate 3 15
	check "node 3 restarted: 3 members on node 1" wait_members 1 3 15

	# ---- (c) partition ----
	partition 3
	check "partition 3: node 3 loses quorum" wait_unquorate 3 10
	check "partition 3: node 1 sees 2 members" wait_members 1 2 10
	check "partition 3: node 1 keeps quorum" is_quorate 1
	check "partition 3: node 2 keeps quorum" is_quorate 2
	check "partition 3: node 3 sees itself alone" wait_members 3 1 5
	heal 3
	check "heal 3: node 3 quorate again" wait_quorate 3 20
	check "heal 3: node 3 sees 3 members" wait_members 3 3 10
	check "heal 3: node 1 sees 3 members" wait_members 1 3 10

	# node_kill: the whole node
	node_kill 2
	check "node_kill 2: nothing left in node 2" test -z "$(lab_ns_pids 2)"
	check "node_kill 2: node 1 sees 2 members" wait_members 1 2 10
	lab_down
	check "3 nodes: lab_down leaves nothing behind" no_traces
	lab_down
	check "lab_down twice is harmless" test -z "$LAB_DIR"
else
	ko "lab_up 3"
fi
echo "--- $(elapsed) s"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
