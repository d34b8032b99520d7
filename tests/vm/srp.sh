#!/bin/bash
# srp.sh - SRP over Soft-RoCE in one qemu guest (issue 13): the kernel's
# SRP initiator (ib_srp) logs in to an SRP target in the same guest over
# rdma_rxe on eth0, as blktests' srp tests do with one machine. The
# target is SRP_TARGET: lio (LIO's ib_srpt, the baseline: what Linux's
# own target does in this VM) or tandem (the tree's tandemd, TANDEMD,
# with TARGET_DRIVER ib_srpt; needs the transport of srp/).
#
#   a. Soft-RoCE: the modules, rxe0 on eth0 (port ACTIVE, GID 0, node
#      GUID), ibv_devinfo through the rxe provider, rping on eth0's
#      address;
#   b. the target: a 64 MiB fileio LU on tmpfs as LUN 0 of the target
#      named by rxe0's port GID, listening on RDMA/CM port SRP_PORT;
#   c. ib_srp's login (id_ext = ioc_guid = rxe0's node GUID, dest =
#      10.0.2.15:SRP_PORT): the disk appears (the login time), the
#      initiator's view (req_lim, ch_count, ...), INQUIRY, VPD 0x83's
#      designators, READ CAPACITY;
#   d. figures: 64 MiB written and read with dd (O_DIRECT, 1 MiB), and
#      8 MiB in 4 KiB blocks (one I/O at a time: the latency);
#   e. data: vmwriter's stamped O_DIRECT writes of 4 KiB to 256 KiB from
#      two threads, every acknowledged block read back;
#   f. a LOGICAL UNIT RESET (sg_reset -d: ib_srp's SRP_TSK_LUN_RESET)
#      succeeds and the disk answers afterwards;
#   g. the remote port deleted (the disk goes); a login to a target port
#      id the target does not have is refused; the target added again:
#      a new disk, every block of e. still there (vmwriter -v).
#
#   h. persistent reservations through the SRP disk: register, reserve,
#      READ FULL STATUS with the SRP TransportID, release;
#   i. (tandem) the same LU through tandemd's iSCSI target in the guest
#      (127.0.0.1): the same designators, serial and identification;
#   j. (tandem) srpclient (tests/vm/srpclient.c, SRPCLIENT): logins,
#      IUs and task management ib_srp never sends.
#
# Prints "N passed, N failed" and the figures; exit 0 only when nothing
# failed, 77 when SRP_TARGET=tandem and TANDEMD is not built. Root;
# about a minute (the guest runs under TCG); every wait is bounded.
# Environment: SRP_TARGET (lio), SRP_PORT (5555), TANDEMD, VMWRITER,
# LAB_KEEP=1 keeps the lab directory (vm/console.log).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/vm/solo.bash

SRP_TARGET=${SRP_TARGET:-lio}
SRP_PORT=${SRP_PORT:-5555}
SRPCLIENT=${SRPCLIENT:-$(dirname "${TANDEMD:-.}")/../tests/vm/srpclient}
SIZE_MB=64
SOLO_TITLE="figures (SRP_TARGET=$SRP_TARGET)"
SOLO_DUMP='dmesg | tail -40; [ -f /tmp/tandemd.log ] && { echo "== tandemd.log"; tail -30 /tmp/tandemd.log; }'
case $SRP_TARGET in
lio) VENDOR=LIO-ORG ;;
tandem)
	VENDOR=TANDEM
	[ -x "$TANDEMD" ] || { echo "SKIP: $TANDEMD not built"; exit 77; }
	;;
*)
	echo "srp.sh: SRP_TARGET=$SRP_TARGET: lio or tandem" >&2
	exit 2
	;;
esac

# login WHAT: ib_srp's add_target, the disk (DISK), the login time
login() {
	gstep "$1: ib_srp logged in to the $SRP_TARGET target, the disk appeared" 40 "srp login $SRP_PORT"
	DISK=$(kv disk "$VM_OUT")
	LOGIN_S=$(kv secs "$VM_OUT")
	FIG+=("$1: add_target to the disk: $LOGIN_S s")
	[ -n "$DISK" ] || { ko "$1: no disk name"; finish; }
}
# dd_rate WHAT BS_KIB COUNT DDARGS: one dd of COUNT blocks of BS_KIB KiB
# in the guest, its MB/s and I/Os per second
dd_rate() {
	local mib=$(($2 * $3 / 1024))
	vm_run 120 "t0=\$(cut -d' ' -f1 /proc/uptime); dd $4 bs=$2k count=$3 2>&1 || exit 1; awk -v a=\$t0 -v b=\$(cut -d' ' -f1 /proc/uptime) 'BEGIN {printf \"secs=%.2f mbs=%.1f iops=%.0f\\n\", b - a, $2 * $3 * 1.024 / 1000 / (b - a), $3 / (b - a)}'"
	if [ "$VM_RC" = 0 ]; then
		ok "$1: $mib MiB in $(kv secs "$VM_OUT") s: $(kv mbs "$VM_OUT") MB/s, $(kv iops "$VM_OUT") I/Os per second"
		FIG+=("$1 ($mib MiB, $2 KiB O_DIRECT, one at a time): $(kv mbs "$VM_OUT") MB/s, $(kv iops "$VM_OUT") IOPS")
	else
		ko "$1: status $VM_RC: $VM_OUT"
	fi
}

echo "== the guest: Soft-RoCE, ib_srp and the $SRP_TARGET SRP target"
files=("$VM_SRC/guest/srp")
if [ "$SRP_TARGET" = tandem ]; then
	solo_guest srp "$TANDEMD"
	files+=("$TANDEMD")
	[ -x "$SRPCLIENT" ] || { ko "no srpclient at $SRPCLIENT (make tests/vm/srpclient)"; finish; }
	files+=("$SRPCLIENT")
else
	solo_guest srp
fi
solo_files "$LAB_DIR/srp" "${files[@]}" || { ko "the guest's files"; finish; }
solo_boot "target and initiator: SRP_TARGET=$SRP_TARGET"

echo "== a. Soft-RoCE: rxe0 on eth0"
gstep "the modules loaded, rxe0 added on eth0, its port ACTIVE" 60 "srp setup $SRP_TARGET"
FIG+=("modules: $(kv modules "$VM_OUT") loaded in $(kv modules_secs "$VM_OUT") s; rdma link add to port ACTIVE: $(kv rxe_secs "$VM_OUT") s")
GID0=$(kv gid0 "$VM_OUT")
GUID=$(kv node_guid "$VM_OUT")
[[ $GID0 =~ ^fe80(:[0-9a-f]{4}){7}$ ]] && [[ $GUID =~ ^[0-9a-f]{4}(:[0-9a-f]{4}){3}$ ]] &&
	ok "rxe0: node GUID $GUID, port GID 0 $GID0 (link-local, from eth0's MAC)" ||
	ko "rxe0's node GUID '$GUID' or GID 0 '$GID0'"
grep -qE 'state:[[:space:]]+PORT_ACTIVE' <<<"$VM_OUT" && grep -qE 'link_layer:[[:space:]]+Ethernet' <<<"$VM_OUT" &&
	grep -qE 'transport:[[:space:]]+InfiniBand' <<<"$VM_OUT" &&
	ok "ibv_devinfo finds rxe0 through the rxe provider: PORT_ACTIVE, link layer Ethernet" ||
	ko "ibv_devinfo: no active rxe0"
vm_run 40 "srp rping"
indent "|" "$(grep -vE '^ping data:' <<<"$VM_OUT"; echo "($(grep -c '^ping data:' <<<"$VM_OUT") 'ping data' lines)")"
[ "$VM_RC" = 0 ] && [ "$(grep -c '^ping data:' <<<"$VM_OUT")" = 5 ] &&
	ok "rping: 5 RDMA ping-pongs on 10.0.2.15 in $(kv rping_secs "$VM_OUT") s" ||
	ko "rping: status $VM_RC"

echo "== b. the $SRP_TARGET target on RDMA/CM port $SRP_PORT"
if [ "$SRP_TARGET" = lio ]; then
	gstep "LIO: a $SIZE_MB MiB fileio LU on tmpfs, ib_srpt's target named by rxe0's GID, an ACL for ib_srp's port id" 60 \
		"srp lio $SIZE_MB $SRP_PORT"
	FIG+=("LIO configured through configfs: $(kv lio_secs "$VM_OUT") s")
else
	gstep "tandemd serves a $SIZE_MB MiB fileio LU on tmpfs as TARGET $GID0 of TARGET_DRIVER ib_srpt" 60 \
		"srp tandem $SIZE_MB $SRP_PORT"
	FIG+=("tandemd started to its RDMA/CM listener: $(kv listen_secs "$VM_OUT") s")
fi
vm_run 20 "srp listeners"
indent "|" "$VM_OUT"
grep -q "LISTEN.*:$SRP_PORT " <<<"$VM_OUT" && ok "an RDMA/CM id listens on port $SRP_PORT" ||
	ko "no RDMA/CM listener on port $SRP_PORT"

echo "== c. ib_srp's login"
login "first login"
vm_run 20 "dmesg | grep -E 'ib_srp|ib_srpt' | tail -6"
indent "|" "$VM_OUT"
grep -q 'ib_srp: using immediate data' <<<"$VM_OUT" &&
	FIG+=("ib_srp: the target accepted immediate data (SRP_LOGIN_RSP)") ||
	FIG+=("ib_srp: no immediate data")
vm_run 20 "srp host"
indent "|" "$VM_OUT"
HOST=$VM_OUT
g=${GUID//:/}
[ "$(kv id_ext "$HOST")" = "0x$g" ] && [ "$(kv ioc_guid "$HOST")" = "0x$g" ] &&
	[ "$(kv roles "$HOST")" = SRP_Target ] &&
	ok "the SRP host: id_ext and ioc_guid $g, req_lim $(kv req_lim "$HOST") (the target's credits), ch_count $(kv ch_count "$HOST"), sg_tablesize $(kv sg_tablesize "$HOST"), can_queue $(kv can_queue "$HOST"); the remote port $(kv rport "$HOST") is an SRP target" ||
	ko "the SRP host's attributes"
FIG+=("ib_srp: req_lim $(kv req_lim "$HOST"), ch_count $(kv ch_count "$HOST"), can_queue $(kv can_queue "$HOST"), sg_tablesize $(kv sg_tablesize "$HOST")")
vm_run 20 "sg_inq /dev/$DISK"
indent "|" "$VM_OUT"
grep -qE "Vendor identification: $VENDOR" <<<"$VM_OUT" && grep -q 'Peripheral device type: disk' <<<"$VM_OUT" &&
	ok "INQUIRY through SRP: a disk of $VENDOR" || ko "INQUIRY: status $VM_RC"
vm_run 20 "sg_vpd -p di /dev/$DISK"
indent "|" "$VM_OUT"
DI=$VM_OUT
# the addressed LU's designators, then the target port's (with their
# protocol identifier)
lu=$(awk '/Addressed logical unit:/ {f = 1; next} /^  [A-Z]/ {f = 0} f && /designator type:/ {sub(/.*designator type: /, ""); sub(/,.*/, ""); print}' <<<"$DI" | tr '\n' ';')
tp=$(awk '/Target port:/ {f = 1; next} /^  [A-Z]/ {f = 0} f && /designator type:/ {sub(/.*designator type: /, ""); sub(/,.*/, ""); print}' <<<"$DI" | tr '\n' ';')
if [ "$VM_RC" = 0 ] && [[ $lu == *NAA* ]] && [[ $tp == *"Relative target port"* ]] &&
	grep -q 'transport: SCSI RDMA Protocol (SRP)' <<<"$DI"; then
	ok "VPD 0x83: the LU: ${lu%;}; the target port (protocol SRP): ${tp%;}"
	FIG+=("VPD 0x83 ($SRP_TARGET): LU ${lu%;}; target port ${tp%;}")
else
	ko "VPD 0x83: status $VM_RC; LU '${lu%;}', target port '${tp%;}'"
fi
vm_run 20 "sg_rtpg -d /dev/$DISK"
indent "|" "$VM_OUT"
# REPORT TARGET PORT GROUPS through SRP: a group holding the SRP port
if [ "$VM_RC" = 0 ] && grep -qE 'target port group id *: *0x[0-9a-f]+' <<<"$VM_OUT" &&
	grep -qE 'Relative target port ids:|Relative target port id' <<<"$VM_OUT"; then
	ok "REPORT TARGET PORT GROUPS through SRP: $(grep -cE 'target port group id' <<<"$VM_OUT") group(s), state $(grep -m1 -oE 'asymmetric access state: *[^,]*|Active/optimized|active/optimized' <<<"$VM_OUT" | head -1)"
else
	ko "REPORT TARGET PORT GROUPS through SRP: status $VM_RC"
fi
vm_run 20 "sg_readcap /dev/$DISK"
indent "|" "$VM_OUT"
blocks=$(sed -n 's/.*Last LBA=\([0-9]*\).*/\1/p' <<<"$VM_OUT")
bsz=$(sed -n 's/.*Logical block length=\([0-9]*\).*/\1/p' <<<"$VM_OUT")
[ -n "$blocks" ] && [ -n "$bsz" ] && [ $(((blocks + 1) * bsz)) = $((SIZE_MB << 20)) ] &&
	ok "READ CAPACITY: $((blocks + 1)) blocks of $bsz bytes ($SIZE_MB MiB)" ||
	ko "READ CAPACITY: last LBA '$blocks', block '$bsz'"

echo "== d. throughput (TCG: a figure of this VM, not of SRP)"
dd_rate "dd write" 1024 "$SIZE_MB" "if=/dev/zero of=/dev/$DISK oflag=direct"
dd_rate "dd read" 1024 "$SIZE_MB" "if=/dev/$DISK of=/dev/null iflag=direct"
dd_rate "dd write" 4 2048 "if=/dev/zero of=/dev/$DISK oflag=direct"
dd_rate "dd read" 4 2048 "if=/dev/$DISK of=/dev/null iflag=direct"

echo "== e. data: vmwriter on /dev/$DISK"
vm_run 90 "vmwriter -d /dev/$DISK -t 2 -s 10 -m 64 -L 30 -j /tmp/srp.j 2>&1"
indent ">" "$VM_OUT"
if [ "$VM_RC" = 0 ] && grep -q '^result=ok' <<<"$VM_OUT" && grep -q ' io_errors=0 ' <<<"$VM_OUT" &&
	grep -q ' bad_blocks=0 ' <<<"$VM_OUT"; then
	ok "vmwriter: $(grep -E '^writes=' <<<"$VM_OUT" | tail -1); $(grep -E '^verified=' <<<"$VM_OUT" | tail -1)"
	FIG+=("vmwriter (2 threads, 4-256 KiB O_DIRECT, 10 s): $(grep -E '^writes=' <<<"$VM_OUT" | tail -1)")
else
	ko "vmwriter: status $VM_RC"
fi

echo "== f. LOGICAL UNIT RESET"
# ib_srp sends SRP_TSK_LUN_RESET and fails the ioctl unless the target
# answers it with success; the first TEST UNIT READY after it may get
# the target's unit attention, the second must pass
vm_run 60 "t0=\$(cut -d' ' -f1 /proc/uptime); sg_reset -d /dev/$DISK || exit 1; awk -v a=\$t0 -v b=\$(cut -d' ' -f1 /proc/uptime) 'BEGIN {printf \"secs=%.2f\\n\", b - a}'; sg_turs /dev/$DISK; sg_turs /dev/$DISK || exit 2; dmesg | grep -iE 'reset' | tail -3"
indent "|" "$VM_OUT"
[ "$VM_RC" = 0 ] && grep -q 'SRP reset_device called' <<<"$VM_OUT" &&
	ok "sg_reset -d: ib_srp's LUN reset answered with success in $(kv secs "$VM_OUT") s, TEST UNIT READY answers afterwards" ||
	ko "sg_reset -d or TEST UNIT READY afterwards: status $VM_RC"
FIG+=("LUN reset (sg_reset -d): $(kv secs "$VM_OUT") s")

echo "== g. the remote port removed, a wrong login refused, the target added again"
gstep "the remote port deleted, its disk gone" 40 "srp logout"
FIG+=("remote port delete to the disk gone: $(kv secs "$VM_OUT") s")
OLD=$DISK
vm_run 60 "srp badlogin $SRP_PORT"
indent "|" "$VM_OUT"
# SRP r16a 6.4, table 12 (SRP_LOGIN_REJ REASON): 0x00010003, unable to
# associate the RDMA channel with the I_T nexus
[ "$VM_RC" = 0 ] && grep -q 'SRP LOGIN REJECTED, reason 0x00010003' <<<"$VM_OUT" &&
	ok "a login to a target port id the target does not have is refused in $(kv rejected_secs "$VM_OUT") s (SRP_LOGIN_REJ 0x00010003: unable to associate the channel), no remote port" ||
	ko "a login with a wrong target port id: status $VM_RC, not rejected with 0x00010003"
login "second login"
vm_run 90 "vmwriter -v -d /dev/$DISK -j /tmp/srp.j 2>&1"
indent ">" "$VM_OUT"
[ "$VM_RC" = 0 ] && grep -q '^result=ok' <<<"$VM_OUT" && grep -q 'bad_blocks=0' <<<"$VM_OUT" &&
	ok "after the new login (/dev/$OLD, now /dev/$DISK) every block vmwriter had acknowledged is there: $(grep -E '^verified=' <<<"$VM_OUT" | tail -1)" ||
	ko "the data after the new login: status $VM_RC"

echo "== h. persistent reservations through SRP"
# ib_srp's initiator port identifier: initiator_ext (0), then the
# interface id of rxe0's GID 0 (its last four groups)
IPID=0000000000000000$(tr -d ':' <<<"${GID0:20}")
vm_run 60 "srp pr $DISK"
indent "|" "$VM_OUT"
full=$(sed -n '/^== full status/,/^== reservation/p' <<<"$VM_OUT")
hex=$(tr -d ' :\n' <<<"$full" | tr 'A-F' 'a-f')
if [ "$VM_RC" = 0 ] && grep -qi 'key=0x5a5a' <<<"$full" && grep -qiE 'RDMA initiator port identifier' <<<"$full" &&
	[[ $hex == *"$IPID"* ]]; then
	ok "PR through SRP: registered and reserved (Write Exclusive); READ FULL STATUS shows key 0x5a5a and the SRP TransportID 0x$IPID; released and unregistered"
else
	ko "PR through SRP: status $VM_RC; key 0x5a5a, an SRP TransportID 0x$IPID expected in READ FULL STATUS"
fi
grep -qi 'type: Write Exclusive' <<<"$(sed -n '/^== reservation/,/^== keys/p' <<<"$VM_OUT")" && ok "READ RESERVATION: Write Exclusive" ||
	ko "READ RESERVATION does not show Write Exclusive"

if [ "$SRP_TARGET" = tandem ]; then
	echo "== i. the same LU through tandemd's iSCSI target: the same identity"
	vm_run 60 "srp iscsi"
	indent "|" "$VM_OUT"
	IDISK=$(kv disk "$VM_OUT")
	if [ "$VM_RC" = 0 ] && [ -n "$IDISK" ]; then
		ident='sg_vpd -p di /dev/X | sed -n "/Addressed logical unit/,/Target port/p" | grep -v "Target port"; sg_vpd -p sn /dev/X; sg_inq /dev/X | grep -E "identification|revision"'
		vm_run 30 "${ident//X/$DISK}"
		A=$VM_OUT
		vm_run 30 "${ident//X/$IDISK}"
		B=$VM_OUT
		indent "|" "$A"
		if [ -n "$A" ] && [ "$A" = "$B" ] && grep -q 'NAA' <<<"$A"; then
			ok "/dev/$DISK (SRP) and /dev/$IDISK (iSCSI): the same LU designators, unit serial number and INQUIRY identification"
		else
			ko "the LU's identity differs between SRP (/dev/$DISK) and iSCSI (/dev/$IDISK): $B"
		fi
		vm_run 30 "srp iscsi_logout"
	else
		ko "the iSCSI login to tandemd in the guest: status $VM_RC"
	fi
fi
gstep "the remote port deleted again" 40 "srp logout"
if [ "$SRP_TARGET" = tandem ]; then
	echo "== j. srpclient: what ib_srp never sends"
	vm_run 180 "srpclient 10.0.2.15 $SRP_PORT 2>&1"
	indent "|" "$VM_OUT"
	sc=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' <<<"$VM_OUT")
	if [ "$VM_RC" = 0 ] && [[ $sc =~ ^([0-9]+)\ passed,\ 0\ failed$ ]] && [ "${BASH_REMATCH[1]}" -ge 30 ]; then
		ok "srpclient: $sc (bad logins, malformed IUs, credits, TMF, logouts, multi-channel)"
	else
		ko "srpclient: status $VM_RC, '$sc'"
	fi
	gstep "tandemd stopped, no sanitizer report" 40 "srp stop"
fi
finish
