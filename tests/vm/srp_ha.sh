#!/bin/bash
# srp_ha.sh - SRP HA (issue 13, point 3): two Tandem heads exporting the
# same LU over SRP to one initiator running dm-multipath, all in one qemu
# guest over Soft-RoCE, as srp.sh (tests/vm/README.md):
#   head A: a tandemd on rxe0 (eth0, 10.0.2.15), its target named by
#   rxe0's GID, rel_tgt_id 1, target port group tg1 active/optimized and
#   preferred; head B: a second tandemd on rxe1 (eth1, 10.0.3.15), rxe1's
#   GID, rel_tgt_id 2, tg2 standby. Both serve the same file on tmpfs
#   (shared storage) with the same naa_id and usn.
# There is no cluster agent in this guest (no corosync): the heads' ALUA
# states are static, each head's own, and only the initiator's SET
# TARGET PORT GROUPS (scsi_dh_alua) activates head B's group once head A
# is gone. Ordering PR and ALUA across heads is the agent's job, tested
# over iSCSI in tests/cluster and tests/vm/pacemaker.sh; SRP with the
# agent is not tested here.
#
#   a. Soft-RoCE on both NICs (rxe0, rxe1);
#   b. the two heads, each until its RDMA/CM listener shows;
#   c. ib_srp's reconnect_delay (SRP_HA_RD) as a module parameter,
#      multipathd with guest/multipath-srp.conf, add_target
#      through rxe0 to head A, then through rxe1 to head B: one map, two
#      path groups (A's prio 50 carrying the I/O, B's prio 1), the same
#      LU identity through both (VPD 0x80, the LU's VPD 0x83
#      designators), each head's relative target port and group, RTPG
#      identical; each remote port's timeouts: ib_srp's, multipathd
#      does not write multipath.conf's fast_io_fail_tmo 5 and
#      dev_loss_tmo 60 into SRP remote ports;
#   d. for each fast_io_fail_tmo of SRP_HA_FIO (written into both remote
#      ports with dev_loss_tmo SRP_HA_DL): vmwriter on the map, kill -9
#      of head A's tandemd: zero I/O errors, zero bad blocks, the map
#      switched to B's path (the time), the pause (the longest write);
#      head A restarted: ib_srp's
#      reconnect brings its path back (the time), the ALUA states through
#      each head shown; the layout restored (tandemctl -activate_tgrp
#      tg1 through head B) before the next round;
#   e. both heads stopped, their logs without sanitizer reports.
#
# Prints "N passed, N failed" and the figures; exit 0 only when nothing
# failed, 77 when TANDEMD or TANDEMCTL is not built. Root; under two
# minutes (TCG); every wait is bounded. Environment: TANDEMD, TANDEMCTL,
# VMWRITER, SRP_PORT (5555), SRP_HA_FIO ("5 2"), SRP_HA_RD (2),
# SRP_HA_DL (60), LAB_KEEP=1 keeps the lab directory.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/vm/solo.bash

SRP_PORT=${SRP_PORT:-5555}
SRP_HA_FIO=${SRP_HA_FIO:-5 2}
SRP_HA_RD=${SRP_HA_RD:-2}
SRP_HA_DL=${SRP_HA_DL:-60}
SIZE_MB=64
read -ra FIOS <<<"$SRP_HA_FIO"
SOLO_TITLE="figures (SRP HA: reconnect_delay $SRP_HA_RD, fast_io_fail_tmo $SRP_HA_FIO, dev_loss_tmo $SRP_HA_DL)"
# shellcheck disable=SC2016 # run in the guest
SOLO_DUMP='dmesg | tail -40; for h in a b; do echo "== tandemd-$h.log"; tail -20 /tmp/tandemd-$h.log; done; multipathd show topology'
TANDEMCTL=${TANDEMCTL:-$(dirname "${TANDEMD:-x}")/../ctl/tandemctl}
for f in "${TANDEMD:-}" "$TANDEMCTL"; do
	[ -x "$f" ] || { echo "SKIP: '$f' not built (TANDEMD, TANDEMCTL)"; exit 77; }
done

# map SECS WANT: until the kernel's map state ("srp ha-map": "map=NAME
# cur=a|b|ab a=A|F b=A|F") matches the regex WANT; the last state in
# KMAP, multipathd's topology in TOPO
map_until() {
	local i
	for ((i = 0; i < $1; i++)); do
		vm_run 20 "srp ha-map $DA $DB"
		KMAP=$(head -1 <<<"$VM_OUT")
		TOPO=$(tail -n +2 <<<"$VM_OUT")
		[[ $KMAP =~ $2 ]] && return 0
		sleep 1
	done
	return 1
}
# groups: multipathd's groups of DA and DB ("PRIO STATUS PATHSTATE")
groups() {
	local g
	g=$(mp_groups "$TOPO")
	GA=$(group_of "$DA" "$g")
	GB=$(group_of "$DB" "$g")
	NG=$(grep -c '^group' <<<"$g")
}
# rports: every SRP remote port's state and timeouts (RPORTS)
rports() {
	vm_run 20 "srp ha-rports"
	RPORTS=$VM_OUT
	indent "|" "$RPORTS"
}

echo "== the guest: Soft-RoCE on two NICs, two tandemd heads, ib_srp and dm-multipath"
solo_guest srp "$TANDEMD"
missing=$(vm_libs_missing "$TANDEMCTL")
[ -z "$missing" ] && ok "every library $TANDEMCTL needs is in the guest" ||
	{ ko "$TANDEMCTL needs $missing"; finish; }
solo_files "$LAB_DIR/srp" "$VM_SRC/guest/srp" "$VM_SRC/guest/multipath-srp.conf" "$TANDEMD" "$TANDEMCTL" ||
	{ ko "the guest's files"; finish; }
solo_boot "heads and initiator"

echo "== a. Soft-RoCE: rxe0 on eth0, rxe1 on eth1"
gstep "the modules loaded, rxe0 on eth0 ACTIVE" 60 "srp setup tandem"
GID0=$(kv gid0 "$VM_OUT")
gstep "rxe1 on eth1 ACTIVE" 30 "srp ha-rxe1"
GID1=$(kv gid1 "$VM_OUT")
[ -n "$GID0" ] && [ -n "$GID1" ] && [ "$GID0" != "$GID1" ] &&
	ok "two RDMA devices, two target port names: rxe0 $GID0, rxe1 $GID1" ||
	ko "the GIDs: rxe0 '$GID0', rxe1 '$GID1'"

echo "== b. head A (10.0.2.15, tg1 active/optimized) and head B (10.0.3.15, tg2 standby)"
gstep "both heads serve /tmp/lu.img ($SIZE_MB MiB), each listening on its own address" 80 "srp ha-heads $SIZE_MB $SRP_PORT"
FIG+=("heads started to their RDMA/CM listeners: A $(grep 'head=a' <<<"$VM_OUT" | grep -o 'listen_secs=[0-9.]*' | cut -d= -f2) s, B $(kv listen_secs "$VM_OUT") s")
vm_run 20 "srp listeners"
indent "|" "$VM_OUT"
grep -q "LISTEN.*10.0.2.15:$SRP_PORT " <<<"$VM_OUT" && grep -q "LISTEN.*10.0.3.15:$SRP_PORT " <<<"$VM_OUT" &&
	ok "RDMA/CM listeners on 10.0.2.15:$SRP_PORT and 10.0.3.15:$SRP_PORT" ||
	ko "the listeners of the two heads"

echo "== c. ib_srp through both devices, one map"
# reconnect_delay as a module parameter; fast_io_fail_tmo and
# dev_loss_tmo left at ib_srp's defaults (15, 600) so that what
# multipath.conf's 5 and 60 do to an SRP remote port shows
gstep "ib_srp's module parameters: reconnect_delay $SRP_HA_RD (fast_io_fail_tmo 15, dev_loss_tmo 600: its defaults)" 20 \
	"srp ha-params $SRP_HA_RD 15 600"
gstep "multipathd with multipath-srp.conf (the TANDEM device section)" 30 "srp ha-multipath"
gstep "add_target through rxe0 to head A" 40 "srp ha-login a $SRP_PORT"
DA=$(kv disk "$VM_OUT")
FIG+=("add_target to the disk: head A $(kv secs "$VM_OUT") s")
vm_run 30 "end=\$((\$(cut -d. -f1 /proc/uptime) + 20)); until [ \$(multipathd show paths format '%d %m' 2>/dev/null | grep -c '^$DA mpath') = 1 ]; do [ \$(cut -d. -f1 /proc/uptime) -ge \$end ] && exit 1; sleep 0.5; done"
[ "$VM_RC" = 0 ] && ok "the map holds head A's path ($DA)" || ko "no map with head A's path $DA"
gstep "add_target through rxe1 to head B" 40 "srp ha-login b $SRP_PORT"
DB=$(kv disk "$VM_OUT")
FIG+=("add_target to the disk: head B $(kv secs "$VM_OUT") s")
if map_until 30 '^map=[^ ]+ cur=[a-] a=A b=A$' && groups && [ "${GA%% *}" = 50 ] && [ "${GB%% *}" = 1 ]; then
	ok "one map ($KMAP), two path groups: head A's ($DA) prio 50 carries the I/O, head B's ($DB) prio 1 (standby)"
else
	ko "the map: $KMAP; A '${GA:-}', B '${GB:-}'"
fi
MAP=/dev/mapper/$(sed -n 's/^map=\([^ ]*\).*/\1/p' <<<"$KMAP")
indent "|" "$TOPO"
groups
[ "$NG" = 2 ] && [ "$(cut -d' ' -f2 <<<"$GA")" = active ] && ok "multipath: 2 groups, head A's active ($GA), head B's $GB" ||
	ko "multipath's groups: $NG; A '$GA', B '$GB'"
map_identity 6001405ab7a1d0005a9a000000000001 'SCSI RDMA Protocol'
rports
want="reconnect_delay=$SRP_HA_RD fast_io_fail_tmo=15 dev_loss_tmo=600"
[ "$(grep -c "state=running $want " <<<"$RPORTS")" = 2 ] &&
	ok "both remote ports running with ib_srp's module parameters: $want; multipathd did not apply multipath.conf's fast_io_fail_tmo 5 / dev_loss_tmo 60 to them" ||
	ko "the remote ports' timeouts (want $want)"
FIG+=("the remote ports after the login: $want (ib_srp's module parameters; multipath.conf's 5 / 60 not applied)")

round=0
for fio in "${FIOS[@]}"; do
	round=$((round + 1))
	echo "== d$round. fast_io_fail_tmo $fio: kill -9 of head A under vmwriter"
	gstep "fast_io_fail_tmo $fio, dev_loss_tmo $SRP_HA_DL written into both remote ports" 20 "srp ha-tmo $fio $SRP_HA_DL"
	rports
	[ "$(grep -c " fast_io_fail_tmo=$fio dev_loss_tmo=$SRP_HA_DL " <<<"$RPORTS")" = 2 ] &&
		ok "both remote ports: fast_io_fail_tmo $fio, dev_loss_tmo $SRP_HA_DL" ||
		ko "the remote ports' timeouts (want fast_io_fail_tmo $fio, dev_loss_tmo $SRP_HA_DL)"
	writer_start "w$round" 16
	sleep 5
	vm_run 90 "srp ha-kill a"
	indent "|" "$VM_OUT"
	if [ "$VM_RC" = 0 ]; then
		ok "head A killed: ib_srp's DREQ after $(kv dreq_secs "$VM_OUT") s, its path failed in the map $(kv failed_secs "$VM_OUT") s, head B's path group carried the I/O $(kv switch_secs "$VM_OUT") s after the kill"
		FIG+=("fast_io_fail_tmo $fio: after the kill, ib_srp's DREQ $(kv dreq_secs "$VM_OUT") s, head A's path failed in the map $(kv failed_secs "$VM_OUT") s, the map on head B's path $(kv switch_secs "$VM_OUT") s")
	else
		ko "the switch to head B: status $VM_RC"
	fi
	writer_done "w$round" 16 "fast_io_fail_tmo $fio, kill -9 of head A"
	map_until 5 'cur=b .*b=A$'
	groups
	indent "|" "$TOPO"
	[ "${GA##* }" = down ] && [ "$(cut -d' ' -f2- <<<"$GB")" = "active up" ] &&
		ok "multipath: head A's path failed, head B's group active ($GB)" || ko "multipath after the kill: A '$GA', B '$GB'"
	vm_run 20 "sg_rtpg -d /dev/$DB | grep -iE 'group id|access state'; grep -i 'target port group' /tmp/tandemd-b.log | tail -3"
	indent "|" "$VM_OUT"
	grep -qi 'access state : 0x00 (active/optimized)' <<<"$(grep -iA1 'group id : 0x2' <<<"$VM_OUT")" &&
		ok "head B's group active/optimized: scsi_dh_alua's SET TARGET PORT GROUPS" ||
		ko "head B's group after the kill"

	echo "== d$round'. head A restarted: ib_srp reconnects"
	t0=$(date +%s%N)
	gstep "head A serves again" 40 "srp ha-start a $SRP_PORT"
	t1=$(date +%s%N)
	if map_until 30 ' a=A b=A$'; then
		back=$(secs "$t1")
		ok "head A's path back in the map $back s after head A listened (reconnect_delay $SRP_HA_RD)"
		FIG+=("fast_io_fail_tmo $fio: head A restarted, its path back $back s after it listened ($(secs "$t0") s after the start)")
	else
		ko "head A's path did not come back: $KMAP"
	fi
	rports
	[ "$(grep -c 'state=running' <<<"$RPORTS")" = 2 ] && ok "both remote ports running again" ||
		ko "the remote ports after the restart"
	vm_run 20 "echo 'through head A:'; sg_rtpg -d /dev/$DA | grep -iE 'group id|access state'; echo 'through head B:'; sg_rtpg -d /dev/$DB | grep -iE 'group id|access state'"
	indent "|" "$VM_OUT"
	map_until 10 ' a=A b=A$'
	groups
	indent "|" "$TOPO"
	echo "   head A came back in its configured state (tg1 active/optimized, preferred; tg2 standby in its view), head B kept the STPG's (tg2 active/optimized): multipath groups A '$GA', B '$GB'"
	FIG+=("fast_io_fail_tmo $fio: after head A's restart, A's path group '$GA', B's '$GB' (prio status path)")
	# no agent: the administrator restores the layout on head B
	vm_run 20 "ASAN_OPTIONS=detect_leaks=0 tandemctl -s /run/tandem/b.sock -activate_tgrp tg1 -dev_group dg"
	[ "$VM_RC" = 0 ] && ok "tandemctl -activate_tgrp tg1 through head B (tg2 back to standby there)" ||
		ko "tandemctl -activate_tgrp tg1 through head B: $VM_OUT"
	for ((i = 0; i < 30; i++)); do
		map_until 1 ' a=A b=A$'
		groups
		[ "${GA%% *}" = 50 ] && [ "${GB%% *}" = 1 ] && [ "$(cut -d' ' -f2- <<<"$GA")" = "active up" ] && break
		sleep 1
	done
	[ "${GA%% *}" = 50 ] && [ "${GB%% *}" = 1 ] && [ "$(cut -d' ' -f2- <<<"$GA")" = "active up" ] &&
		ok "the layout restored in $i s: head A's group 50 carries the I/O, head B's 1" ||
		ko "the layout after -activate_tgrp tg1: A '$GA', B '$GB'"
	vm_run 20 "sg_rtpg -d /dev/$DB | grep -iA1 'group id : 0x2'"
	grep -qi 'access state : 0x02 (standby)' <<<"$VM_OUT" && ok "head B reports its group standby again" ||
		ko "head B's group after -activate_tgrp tg1: $VM_OUT"
done

echo "== e. the heads stopped"
gstep "both heads stopped, no sanitizer report" 40 "srp ha-stop"
finish
