#!/bin/bash
# shellcheck disable=SC2016 # the scripts given to hv_run expand in the head
# drbd.sh - two appliance heads with DRBD underneath, a real initiator
# (issue 16, part 2; tests/vm/README.md). Three qemu guests under TCG:
#
#   heads h1, h2   the appliance image (images/build.sh), each on a copy
#                  of it, with a second virtio disk that DRBD 8.4
#                  replicates; set up by tandem-setup as an administrator
#                  would (corosync, Pacemaker, DRBD single-primary, the
#                  ocf:tandem agents, one fence device per head), their
#                  LU configured with deferred_open
#   the initiator  tests/vm's guest (open-iscsi, dm-multipath, vmwriter)
#                  in the lab's client namespace, a path through each head
#
# Networks (all inside the cluster lab's namespaces, tests/cluster/lab.sh):
# each head's eth0 is a tap bridged, in its node namespace, to the lab's
# switch (10.213.0.1N: the iSCSI portal the initiator reaches); eth1 a tap
# on a second bridge of the switch namespace (10.214.0.1N: corosync and
# DRBD, the link a partition cuts); eth2 qemu's user network, only for the
# lab's power switch (tests/vm/vmpower through guestfwd 10.0.2.100:7000),
# which the heads' fence agent (tests/vm/guest/fence_tandemvm) asks to
# power the other head off.
#
#   0. the image and guests built; the heads booted; tandem-setup on h1,
#      its bundle carried to h2, tandem-setup --join there; DRBD's new
#      disks marked in sync (new-current-uuid --clear-bitmap); Pacemaker
#      promotes DRBD and ALUA on one head (P), the other's ports standby
#      and its device closed (deferred_open);
#   1. the initiator logs in through both heads: one map, P's path
#      active/optimized, the other standby;
#   2. P powered off (its qemu SIGKILLed) under vmwriter: the survivor
#      fences it (the power switch's log), DRBD and then ALUA are promoted
#      there, I/O continues: zero errors, every acknowledged block read
#      back, the pause measured;
#   3. the dead head boots again: it rejoins as Secondary, DRBD resyncs,
#      its ports standby, under load with zero errors;
#   4. the heads' link cut (a partition, fencing configured): one head
#      fences the other, never two DRBD Primaries (both polled every
#      second), I/O continues through the survivor, zero errors.
#
# Measured 2026-12-07 (docs/appliance.md): 47 passed, 0 failed in 494 s
# with the image reused; the pauses 25.3 s (power cut), 0.3 s (rejoin),
# 18.5 s (partition), zero I/O errors and bad blocks in each.
# Not in CI (three TCG guests take longer than CI's budget allows; the
# image step boots the image); run it alone, as root:
#   tests/vm/drbd.sh       prints the figures and "N passed, N failed"
# DRBD_IMAGE=DIR reuses an image built by images/build.sh -o DIR.
set -u
cd "$(dirname "$0")/../.." || exit 1
SCEN=drbd
LAYOUT=standby
LAB_IQN=iqn.2026-12.org.tandem:drbd
LAB_TOKEN=${LAB_TOKEN:-1000}
. tests/vm/scen.bash
: "${VM_CACHE:=/var/cache/tandem-vm}"
: "${HEAD_MEM:=1024}"
VMPOWER=$LAB_SRC/tests/vm/vmpower
LINK_NET=10.214.0
declare -A HV_PID=() HV_IN=() HV_OUT=() HV_SEQ=()
HV_RC=
HV_OUT_=

# ---- the heads' guests ----

# hv_boot N: head N's qemu in node N's namespaces (its power: kill it)
hv_boot() {
	local n=$1 d=$LAB_DIR/h$1 line cin cout
	rm -f "$d/ctl.in" "$d/ctl.out"
	mkfifo "$d/ctl.in" "$d/ctl.out"
	node_bg "$n" "$d/qemu.log" env VMPOWER_DIR="$LAB_DIR/power" \
		qemu-system-x86_64 -accel tcg -cpu max -m "$HEAD_MEM" -smp 1 \
		-nodefaults -display none -no-reboot \
		-kernel "$IMG/vmlinuz" -initrd "$IMG/initrd.img" \
		-append "root=$ROOTDEV rw console=ttyS0 panic=-1 net.ifnames=0" \
		-drive "file=$d/root.img,format=raw,if=virtio" \
		-drive "file=$d/data.img,format=raw,if=virtio,cache=none" \
		-serial "file:$d/console.log" \
		-chardev "pipe,id=ctl,path=$d/ctl" -serial chardev:ctl \
		-netdev tap,id=lan,ifname=tap0,script=no,downscript=no \
		-device "virtio-net-pci,netdev=lan,romfile=,mac=52:54:00:13:00:1$n" \
		-netdev tap,id=link,ifname=tap1,script=no,downscript=no \
		-device "virtio-net-pci,netdev=link,romfile=,mac=52:54:00:14:00:1$n" \
		-netdev "user,id=pw,restrict=on,guestfwd=tcp:10.0.2.100:7000-cmd:$VMPOWER" \
		-device "virtio-net-pci,netdev=pw,romfile=" \
		-monitor "unix:$d/monitor,server,nowait"
	HV_PID[$n]=$LAB_PID
	echo "$LAB_PID" >"$LAB_DIR/power/h$n.pid"
	# the taps onto the node's bridges: eth0 to the lab's switch, eth1 to
	# the heads' link
	for ((line = 0; line < 50; line++)); do
		node_exec "$n" ip link show tap1 >/dev/null 2>&1 && break
		sleep 0.1
	done
	node_exec "$n" sh -c 'ip link set tap0 master hb0 && ip link set tap0 up &&
		ip link set tap1 master hb1 && ip link set tap1 up' ||
		ko "head $n: taps onto the bridges"
	exec {cin}<>"$d/ctl.in" {cout}<>"$d/ctl.out"
	HV_IN[$n]=$cin
	HV_OUT[$n]=$cout
	HV_SEQ[$n]=0
}

# hv_ready N SECS: head N's control channel answers (systemd started it)
hv_ready() {
	local line
	while IFS= read -r -t "$2" -u "${HV_OUT[$1]}" line; do
		case $line in __VMREADY*) return 0 ;; esac
	done
	return 1
}

# hv_run N SECS SCRIPT: SCRIPT in head N; HV_OUT_, HV_RC (124: no answer)
hv_run() {
	local n=$1 line deadline seq
	HV_SEQ[$n]=$((HV_SEQ[$n] + 1))
	seq=${HV_SEQ[$n]}
	HV_OUT_=
	HV_RC=124
	lab_alive "${HV_PID[$n]:-0}" || { HV_OUT_="head $n is off"; return 124; }
	printf '%s %s\n' "$seq" "$(printf '%s\n' "$3" | base64 -w0)" >&"${HV_IN[$n]}"
	deadline=$((SECONDS + $2))
	while [ $SECONDS -lt $deadline ]; do
		line=
		IFS= read -r -t $((deadline - SECONDS)) -u "${HV_OUT[$n]}" line || [ -n "$line" ] || continue
		case $line in
		*"__VMEND_$seq "*)
			HV_OUT_+=${line%%__VMEND_*}
			HV_RC=${line##* }
			return "$HV_RC"
			;;
		esac
		HV_OUT_+=$line$'\n'
	done
	return 124
}

# hx N DESC SECS SCRIPT: SCRIPT in head N must exit 0 (a check)
hx() {
	if hv_run "$1" "$3" "$4"; then ok "h$1: $2"; else ko "h$1: $2: status $HV_RC: $HV_OUT_"; fi
}

# hv_until N SECS COND: COND (head N's shell) polled every second
hv_until() {
	hv_run "$1" $(($2 + 20)) "for i in \$(seq $2); do if $3; then exit 0; fi; sleep 1; done; exit 1"
}

# role N: DRBD's role of r0 on head N ("" when it does not answer)
role() {
	hv_run "$1" 10 'drbdadm role r0 2>/dev/null | cut -d/ -f1' >/dev/null 2>&1
	[ "$HV_RC" = 0 ] && tr -d '\n' <<<"$HV_OUT_"
}

# hold: with DRBD_HOLD=SECS, keep the guests running that long after a
# failure (to look inside them through their control channels)
hold() {
	[ -n "${DRBD_HOLD:-}" ] || return 0
	echo "holding the guests for $DRBD_HOLD s (lab $LAB_DIR)"
	sleep "$DRBD_HOLD"
}

# ---- the image and the heads' disks ----

section "the image and the guests"
scen_guest base
t0=$(date +%s%N)
IMG=${DRBD_IMAGE:-$VM_CACHE/drbd-image}
if [ -z "${DRBD_IMAGE:-}" ]; then
	images/build.sh -o "$IMG" -c "$VM_CACHE/image" -s 2048 >"$LAB_DIR/image-build.log" 2>&1 ||
		{ ko "images/build.sh: $(tail -5 "$LAB_DIR/image-build.log")"; finish; }
fi
ROOTFILE=$IMG/tandem-head.img
ROOTDEV=/dev/vda1
OFFSET=1048576
if [ ! -e "$ROOTFILE" ]; then
	ROOTFILE=$IMG/tandem-head.raw
	ROOTDEV=/dev/vda
	OFFSET=0
fi
[ -s "$ROOTFILE" ] && [ -s "$IMG/vmlinuz" ] && [ -s "$IMG/initrd.img" ] &&
	ok "the head image ready in $(secs_since "$t0") s ($ROOTFILE)" || { ko "no image in $IMG"; finish; }
FIG+=("image build (or reuse): $(secs_since "$t0") s")

lab_up 2 || { ko "lab_up 2"; finish; }
vm_writer || { ko "vmwriter could not be built"; finish; }
mkdir -p "$LAB_DIR/power"
# the heads' link: a second bridge in the switch; in each node namespace
# a bridge per network, the node's veth on it (the tap joins at boot)
nsenter --net="$LAB_DIR/ns/switch.net" sh -c 'ip link add br1 type bridge && ip link set br1 up' ||
	ko "the heads' link bridge"
for n in 1 2; do
	nsenter --net="$LAB_DIR/ns/switch.net" ip link add "swl$n" type veth peer name lnk0 \
		netns "$LAB_DIR/ns/n$n.net" &&
		nsenter --net="$LAB_DIR/ns/switch.net" sh -c "ip link set swl$n master br1 && ip link set swl$n up" &&
		node_exec "$n" sh -c "ip addr flush dev eth0 &&
			ip link add hb0 type bridge && ip link set eth0 master hb0 && ip link set hb0 up &&
			ip link add hb1 type bridge && ip link set lnk0 master hb1 &&
			ip link set lnk0 up && ip link set hb1 up" ||
		ko "head $n: the node namespace's bridges"
done

mnt=$LAB_DIR/mnt
mkdir -p "$mnt"
for n in 1 2; do
	d=$LAB_DIR/h$n
	mkdir -p "$d"
	cp --sparse=always "$ROOTFILE" "$d/root.img"
	truncate -s "${DRBD_DISK_MB:-128}M" "$d/data.img"
	mount -o "loop,offset=$OFFSET" "$d/root.img" "$mnt" || { ko "mount head $n's disk"; finish; }
	install -m 755 tests/vm/guest/vmctl "$mnt/etc/vmctl"
	install -m 755 tests/vm/guest/fence_tandemvm "$mnt/usr/sbin/fence_tandemvm"
	cat >"$mnt/etc/systemd/system/tandem-vmctl.service" <<'EOF'
[Unit]
Description=tests/vm/drbd.sh's control channel on ttyS1

[Service]
ExecStart=/bin/sh -c 'stty -F /dev/ttyS1 raw -echo; exec sh /etc/vmctl </dev/ttyS1 >/dev/ttyS1 2>&1'

[Install]
WantedBy=multi-user.target
EOF
	ln -sf /etc/systemd/system/tandem-vmctl.service "$mnt/etc/systemd/system/multi-user.target.wants/"
	# eth0: the portal's network (tandem-setup gives eth1 its address)
	mkdir -p "$mnt/etc/systemd/network"
	printf '[Match]\nName=eth0\n\n[Network]\nAddress=%s/24\n' "$(lab_addr "$n")" \
		>"$mnt/etc/systemd/network/50-lab-eth0.network"
	umount "$mnt"
done
ok "two copies of the image with the lab's control channel, fence agent and portal address"

section "boot and tandem-setup"
t0=$(date +%s%N)
hv_boot 1
hv_boot 2
for n in 1 2; do
	hv_ready "$n" 300 && ok "h$n boots to its control channel" ||
		{ ko "h$n did not boot: $(tail -20 "$LAB_DIR/h$n/console.log")"; finish; }
done
FIG+=("both heads booted: $(secs_since "$t0") s")
for n in 1 2; do
	hx "$n" "systemd running, no unit failed" 200 \
		'timeout 180 systemctl is-system-running --wait; r=$?; systemctl --failed --no-legend --plain; exit $r'
done
L1=$LINK_NET.11
L2=$LINK_NET.12
t0=$(date +%s%N)
hx 1 "tandem-setup (first head)" 120 "tandem-setup --name h1 --address $L1/24 --interface eth1 \
	--peer h2=$L2 --portal $A --iqn $LAB_IQN --token $LAB_TOKEN \
	--drbd-disk /dev/vdb --drbd-create-md \
	--fence 'h1=fence_tandemvm port=h1' --fence 'h2=fence_tandemvm port=h2'"
echo "$HV_OUT_" | tail -5
hv_run 1 20 'base64 -w0 /etc/tandem/setup/peer-bundle.tar'
BUNDLE=$HV_OUT_
hx 2 "the bundle carried over" 20 "echo '$BUNDLE' | base64 -d >/root/peer-bundle.tar && tar -tf /root/peer-bundle.tar"
hx 2 "tandem-setup --join" 120 "tandem-setup --name h2 --address $L2/24 --interface eth1 \
	--portal $B --join /root/peer-bundle.tar --drbd-disk /dev/vdb --drbd-create-md"
echo "$HV_OUT_" | tail -5
if hv_until 1 120 '[ "$(drbdadm cstate r0 2>/dev/null)" = Connected ]'; then
	ok "DRBD r0 connected between the heads"
else
	ko "DRBD not connected"
	for n in 1 2; do
		hv_run "$n" 60 'cat /proc/drbd; crm_mon -1 -r -f 2>&1 | tail -40; crm_verify -L -V 2>&1 | tail -10;
			journalctl -b --no-pager -u pacemaker -u corosync 2>&1 | grep -iE "error|warn|fail" | tail -25'
		indent "h$n|" "$HV_OUT_"
	done
	hold
	finish
fi
# new, empty disks: in sync without a full resync (LINBIT's procedure)
hx 1 "DRBD: the new disks marked UpToDate (new-current-uuid --clear-bitmap)" 30 \
	'drbdadm -- --clear-bitmap new-current-uuid r0 && sleep 2 && cat /proc/drbd'
P=
for ((i = 0; i < 90; i++)); do
	r1=$(role 1)
	r2=$(role 2)
	if [ "$r1" = Primary ] && [ "$r2" = Secondary ]; then P=1; elif [ "$r2" = Primary ] && [ "$r1" = Secondary ]; then P=2; fi
	if [ -n "$P" ]; then
		hv_run "$P" 10 'tandemctl -list_dgrp'
		grep -q "h$P *active" <<<"$HV_OUT_" && break
	fi
	P=
	sleep 2
done
if [ -n "$P" ]; then
	ok "Pacemaker promoted DRBD and ALUA on h$P in $(secs_since "$t0") s after tandem-setup"
else
	ko "no head promoted: roles '$r1' '$r2'"
	hv_run 1 20 'crm_mon -1 -r 2>&1 | tail -30'
	echo "$HV_OUT_"
	finish
fi
S=$((3 - P))
FIG+=("setup to promoted: $(secs_since "$t0") s")
hv_run "$P" 10 'tandemctl -list_dgrp; tandemctl -stats'
indent "|" "$HV_OUT_"
grep -qE "disk0 .* open$" <<<"$HV_OUT_" && ok "h$P: disk0 open (Primary, group active)" || ko "h$P: disk0 not open"
hv_run "$S" 10 'tandemctl -list_dgrp; tandemctl -stats'
indent "|" "$HV_OUT_"
grep -q "h$S *standby" <<<"$HV_OUT_" && grep -qE "disk0 .* detached$" <<<"$HV_OUT_" &&
	ok "h$S: its group standby, disk0 closed (Secondary)" || ko "h$S: group or device state"

section "1. the initiator"
scen_boot
scen_login
if [ "$P" = 1 ]; then wait_prios 30 50 1; else wait_prios 30 1 50; fi &&
	ok "the map: h$P's path active/optimized (50), h$S's standby (1)" || ko "path priorities: $GROUPS_"
map_identity ""

section "2. h$P powered off under load"
writer_start w1 45
sleep 8
tk=$(date +%s%N)
node_kill "$P"
ok "h$P's qemu killed (power cut) at $(date +%T.%N | cut -c1-12)"
if hv_until "$S" 120 '[ "$(drbdadm role r0 | cut -d/ -f1)" = Primary ] && tandemctl -list_dgrp | grep -q "h'"$S"' *active"'; then
	ok "h$S: DRBD Primary and its group active $(secs_since "$tk") s after the power cut"
	FIG+=("power cut to survivor promoted: $(secs_since "$tk") s")
else
	ko "h$S not promoted: $(hv_run "$S" 20 'crm_mon -1 2>&1 | tail -20'; echo "$HV_OUT_")"
fi
grep -q "off h$P -> ok off" "$LAB_DIR/power/power.log" 2>/dev/null &&
	ok "h$S fenced h$P through the power switch: $(grep "off h$P" "$LAB_DIR/power/power.log" | tail -1)" ||
	ko "no fencing of h$P in the power switch's log: $(cat "$LAB_DIR/power/power.log" 2>/dev/null)"
writer_done w1 45 "h$P powered off"

section "3. h$P boots again and rejoins"
writer_start w2 70
t0=$(date +%s%N)
hv_boot "$P"
hv_ready "$P" 300 && ok "h$P booted again" || ko "h$P did not boot again"
if hv_until "$S" 200 'cat /proc/drbd | grep -q "cs:Connected ro:Primary/Secondary ds:UpToDate/UpToDate"'; then
	ok "h$P rejoined: DRBD resynced, Secondary/UpToDate, $(secs_since "$t0") s after its boot"
	FIG+=("rejoin (boot to UpToDate): $(secs_since "$t0") s")
else
	ko "h$P did not resync: $HV_OUT_"
fi
hv_until "$P" 60 'tandemctl -list_dgrp 2>/dev/null | grep -q "h'"$P"' *standby"' &&
	ok "h$P's group standby again" || ko "h$P's group: $(hv_run "$P" 10 'tandemctl -list_dgrp'; echo "$HV_OUT_")"
writer_done w2 70 "h$P rejoining"

section "4. the heads' link cut (a partition)"
writer_start w3 60
sleep 5
both=0
nsenter --net="$LAB_DIR/ns/switch.net" sh -c 'ip link set swl1 down; ip link set swl2 down'
tp=$(date +%s%N)
for ((i = 0; i < 45; i++)); do
	r1=$(role 1)
	r2=$(role 2)
	[ "$r1" = Primary ] && [ "$r2" = Primary ] && both=$((both + 1))
	sleep 1
done
alive=
for n in 1 2; do lab_alive "${HV_PID[$n]}" && alive+=" h$n"; done
[ "$both" = 0 ] && ok "never two DRBD Primaries (45 polls of both heads)" || ko "two Primaries in $both polls"
[ "$(wc -w <<<"$alive")" = 1 ] && ok "one head left running:$alive ($(grep ' off ' "$LAB_DIR/power/power.log" | tail -1))" ||
	ko "heads running after the partition:$alive"
FIG+=("partition to one head: $(secs_since "$tp") s")
writer_done w3 60 "partition"

finish
