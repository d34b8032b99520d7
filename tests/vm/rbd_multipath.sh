#!/bin/bash
# rbd_multipath.sh - a real Linux initiator against three Tandem heads
# active/active on one Ceph RBD image (issue 17): the VM lab's guest
# (tests/vm/build.sh: open-iscsi, dm-multipath, scsi_dh_alua) in the
# cluster lab's client namespace, one user-mode NIC per head; three heads
# (corosync and tandem-agentd each) exporting the same image (vdisk_rbd)
# of a real Ceph cluster in the lab (tests/cluster/ceph.bash), every
# head's target port group active/optimized.
#
#   a. a login through each head; multipathd builds one map with three
#      paths, all up, in ONE path group (group_by_prio: equal ALUA
#      priorities, 50); VPD 0x80 and the LU's VPD 0x83 identical through
#      the three paths, each head's relative target port;
#   b. vmwriter (4 threads) on the map: its writes spread over the three
#      paths (each head's WRITE count, tandemctl -stats, and each sd
#      disk's writes in the guest; every path carries at least
#      RBD_MP_MIN_SHARE percent of them);
#   c. every process of head C killed under the writer: the writer goes
#      on through heads A and B (both carry writes after the kill), the
#      pause (the longest write) printed, zero I/O errors, every
#      acknowledged block read back (vmwriter's own check); head C's path
#      failed, A's and B's up in the one group.
# Prints "N passed, N failed"; exit 0 only when nothing failed. Root;
# about 2-3 minutes (Ceph's start, the guest under TCG).
set -u
cd "$(dirname "$0")/../.." || exit 1
LAYOUT=active
SCEN="three heads on Ceph RBD, all active/optimized"
. tests/vm/scen.bash
. tests/cluster/ceph.bash
C=$(lab_addr 3)
: "${RBD_TIMEOUT:=8}"
# the smallest share of the writes a path must carry (percent)
: "${RBD_MP_MIN_SHARE:=10}"
# the writer's seconds, and when head C is killed
: "${RBD_MP_SECS:=24}"
: "${RBD_MP_KILL_AT:=10}"
DC=

# rbd_conf I: head I's tandem.conf: image lu0 as device lu0, LUN 0, all
# three target port groups active/optimized (tests/cluster/rbd_heads.sh
# has the same with two images)
rbd_conf() {
	cat <<EOF
HANDLER vdisk_rbd {
	DEVICE lu0 {
		pool $CEPH_POOL
		image lu0
		ceph_conf $CEPH_CONF
		ceph_id tandem
		rbd_timeout $RBD_TIMEOUT
	}
}

TARGET_DRIVER iscsi {
	enabled 1
	portal $(lab_addr "$1"):$LAB_PORT
	TARGET $LAB_IQN {
		enabled 1
		rel_tgt_id $1
		LUN 0 lu0
	}
}

DEVICE_GROUP dg {
	DEVICE lu0
EOF
	lab_tgroups "$1" tg active
	echo "}"
}

# head_writes I: head I's WRITE commands to lu0 (tandemctl -stats)
head_writes() {
	node_exec "$1" "$TANDEMCTL" -s "$LAB_CTL_SOCK" -stats lu0 2>/dev/null |
		awk 'NR == 1 {for (i = 1; i <= NF; i++) if ($i == "WRITE_CMDS") c = i; next}
		     $1 == "lu0" && c {print $c}'
}
# guest_writes: "DISK WRITES" of each path's sd disk (writes completed,
# /sys/block/DISK/stat's fifth field)
guest_writes() {
	vm_run 10 "for d in $DA $DB $DC; do echo \$d \$(awk '{print \$5}' /sys/block/\$d/stat); done"
	echo "$VM_OUT"
}
# ident3: the LU's identity through the three paths: VPD 0x80 and the
# LU's VPD 0x83 designators identical, each head's relative target port
# and group (1, 2, 3); RTPG identical through the three, three groups all
# active/optimized (printed)
ident3() {
	local d h disk id lu rt first=
	for d in "A:$DA:0x1" "B:$DB:0x2" "C:$DC:0x3"; do
		IFS=: read -r h disk id <<<"$d"
		vm_run 20 "sg_vpd -p sn /dev/$disk; sg_vpd -p di_lu /dev/$disk"
		if [ -z "$first" ]; then
			first=$VM_OUT
			lu=$VM_OUT
		elif [ "$VM_OUT" != "$lu" ]; then
			lu=
		fi
		vm_run 20 "sg_vpd -p di_port /dev/$disk"
		grep -q "Relative target port: $id\$" <<<"$VM_OUT" && grep -q "Target port group: $id\$" <<<"$VM_OUT" &&
			ok "VPD 0x83 through head $h: relative target port $id, target port group $id" ||
			ko "VPD 0x83's target port through head $h: $VM_OUT"
		vm_run 20 "sg_rtpg -d /dev/$disk"
		[ "$h" = A ] && rt=$VM_OUT
		[ "$VM_OUT" = "$rt" ] || rt=
	done
	[ -n "$lu" ] && grep -q 'Unit serial number' <<<"$lu" &&
		ok "VPD 0x80 ($(sed -n 's/.*Unit serial number: //p' <<<"$lu")) and the LU's VPD 0x83 designators identical through the three paths" ||
		ko "the LU's identity differs between the paths (first: $first)"
	[ -n "$rt" ] && [ "$(grep -ci 'target port group id' <<<"$rt")" = 3 ] &&
		[ "$(grep -ci 'active/optimized' <<<"$rt")" = 3 ] &&
		ok "REPORT TARGET PORT GROUPS identical through the three paths, three groups, all active/optimized" ||
		ko "RTPG through the paths differ or not all active/optimized: $(tr -s ' \n' ' ' <<<"$VM_OUT")"
	indent "|" "$rt"
	indent "|" "$lu"
}
# share N TOTAL: N in percent of TOTAL
share() { awk -v n="$1" -v t="$2" 'BEGIN {printf "%.0f", t ? 100 * n / t : 0}'; }

echo "== the guest ($SCEN)"
if ! ldd "$TANDEMD" | grep -q librbd; then
	# CI builds tandemd with librbd (scripts/deps.sh installs librbd-dev)
	echo "FAIL: $TANDEMD was built without librbd (configure found no librbd-dev)"
	exit 1
fi
scen_guest base
ceph_need || { ko "cannot install the Ceph packages"; finish; }
lab_up 3 || { ko "lab_up failed"; finish; }
vm_writer || { ko "vmwriter could not be built"; finish; }
t0=$(date +%s%N)
ceph_up 3 || { ko "ceph_up failed"; finish; }
ok "Ceph up and clean: a monitor, a manager, three OSDs ($(secs_since "$t0") s)"
FIG+=("Ceph up: $(secs_since "$t0") s")
ceph_exec rbd create --size 64M --image-feature layering "$CEPH_POOL/lu0" &&
	ok "image $CEPH_POOL/lu0 created (64 MiB, layering)" || ko "rbd create failed"
lab_start_corosync_all
for i in 1 2 3; do
	wait_quorate "$i" 20 || ko "head $i: corosync not quorate"
done
for i in 1 2 3; do
	rbd_conf "$i" >"$(lab_ndir "$i")/tandem.conf"
	head_start "$i"
done
# a third NIC for head C (vm_boot gives eth0 to head A, eth1 to head B)
VM_QEMU_EXTRA=(-netdev 'user,id=pc,net=10.0.4.0/24' -device 'virtio-net-pci,netdev=pc,romfile=')
scen_boot
gx "eth2 up, head C ($C) routed through it" 20 \
	"ip addr add 10.0.4.15/24 dev eth2 && ip link set eth2 up && ip route add $C/32 via 10.0.4.2 dev eth2"

section "a. three paths, one path group"
n=0
for h in "$A" "$B" "$C"; do
	n=$((n + 1))
	gx "SendTargets and login through head $n ($h)" 60 \
		"iscsiadm -m discovery -t sendtargets -p $h >/dev/null && iscsiadm -m node -T $LAB_IQN -p $h -I default --login"
done
if vm_until 40 "[ \$(multipath -ll 2>/dev/null | grep -cE 'active ready running') = 3 ]"; then
	ok "multipathd built the map with three paths up"
else
	ko "no map with three paths up: $VM_OUT"
fi
scen_map
[ -n "$DA" ] && [ -n "$DB" ] && [ -n "$DC" ] &&
	ok "one disk per head: $DA through head A, $DB through B, $DC through C" ||
	ko "disks: A '$DA' B '$DB' C '$DC'"
if [ "$(grep -c '^group' <<<"$GROUPS_")" = 1 ] && [ "$(grep -c '^path 1 sd[a-z]* up$' <<<"$GROUPS_")" = 3 ] &&
	grep -q '^group 1 50 active$' <<<"$GROUPS_"; then
	ok "one path group, priority 50 (active/optimized), status active, holding the three paths up"
else
	ko "the path groups: $(tr '\n' ' ' <<<"$GROUPS_")"
fi
ident3
section "b. the writer's I/O spread over the three paths"
declare -A h0 g0
for i in 1 2 3; do
	h0[$i]=$(head_writes "$i")
done
while read -r d w; do g0[$d]=$w; done <<<"$(guest_writes)"
writer_start k "$RBD_MP_SECS"
sleep $((RBD_MP_KILL_AT - 2))
tot=0
declare -A hd gd
for i in 1 2 3; do
	hd[$i]=$(($(head_writes "$i") - ${h0[$i]:-0}))
	tot=$((tot + hd[$i]))
done
while read -r d w; do gd[$d]=$((w - ${g0[$d]:-0})); done <<<"$(guest_writes)"
spread="A ${hd[1]} ($(share "${hd[1]}" $tot)%), B ${hd[2]} ($(share "${hd[2]}" $tot)%), C ${hd[3]} ($(share "${hd[3]}" $tot)%)"
echo "   WRITE commands per head in the first $((RBD_MP_KILL_AT - 2)) s (tandemctl -stats): $spread"
echo "   writes per sd disk in the guest: $DA ${gd[$DA]:-?}, $DB ${gd[$DB]:-?}, $DC ${gd[$DC]:-?}"
FIG+=("writes per path before the kill (each head's WRITE commands): $spread")
low=
for i in 1 2 3; do
	[ "$(share "${hd[$i]}" $tot)" -ge "$RBD_MP_MIN_SHARE" ] || low+=" head $i"
done
[ "$tot" -gt 0 ] && [ -z "$low" ] &&
	ok "every path carries at least $RBD_MP_MIN_SHARE% of the writes: $spread" ||
	ko "the writes are not spread over the three paths:$low ($spread)"
low=
for d in "$DA" "$DB" "$DC"; do
	[ "${gd[$d]:-0}" -gt 0 ] || low+=" $d"
done
[ -z "$low" ] && ok "the guest's three sd disks completed writes" || ko "no writes on:$low"

vm_run 10 "dmesg | grep -c 'Failing path'"
VM_OUT=$(tr -d '\n' <<<"$VM_OUT")
[ "$VM_OUT" = 0 ] && ok "no path failed before the kill (dm-multipath's log)" ||
	ko "paths failed before the kill: $VM_OUT 'Failing path' lines in the guest's kernel log"

section "c. head C killed under the writer"
sleep 2
node_kill 3
for i in 1 2; do
	h0[$i]=$(head_writes "$i")
done
ok "head C killed (SIGKILL of all its processes) $RBD_MP_KILL_AT s into the writes"
writer_done k "$RBD_MP_SECS" "kill -9 of head C"
tot=0
for i in 1 2; do
	hd[$i]=$(($(head_writes "$i") - ${h0[$i]:-0}))
	tot=$((tot + hd[$i]))
done
spread="A ${hd[1]} ($(share "${hd[1]}" $tot)%), B ${hd[2]} ($(share "${hd[2]}" $tot)%)"
FIG+=("writes per path from the kill on: $spread")
[ "${hd[1]}" -gt 0 ] && [ "${hd[2]}" -gt 0 ] &&
	ok "after the kill the writes went on through heads A and B: $spread" ||
	ko "the writes after the kill: $spread"
show_map
ga=$(group_of "$DA" "$GROUPS_")
gb=$(group_of "$DB" "$GROUPS_")
gc=$(group_of "$DC" "$GROUPS_")
[ "$ga" = "50 active up" ] && [ "$gb" = "50 active up" ] && [ "${gc##* }" = down ] &&
	ok "head A's and B's paths up in the active group, head C's failed" ||
	ko "the map after the kill: A '$ga' B '$gb' C '$gc'"
vm_run 20 "dmesg | grep -iE 'alua|device-mapper: multipath|detected conn error|I/O error' | tail -12"
echo "   the guest's kernel on the failover:"
indent "k" "$VM_OUT"
finish
