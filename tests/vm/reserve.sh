#!/bin/bash
# reserve.sh - persistent reservations from a real Linux initiator against
# two Tandem heads (issue 11): the guest of failover.sh (open-iscsi,
# dm-multipath, scsi_dh_alua) with the extras archive (python3,
# fence-agents' fence_scsi, fio), head A active/optimized, head B
# active/non-optimized. Two initiators in the guest: the map's
# (open-iscsi's default iface; each session has its own ISID, so each
# path is an initiator port of its own) and a second one (iface
# "victim", its own initiator name, its disks kept out of multipath by
# guest/40-bypass-multipath.rules), each logged in through both heads.
#
#   a. the second initiator's disks, outside the map;
#   b. mpathpersist registers the map's key on both paths (READ KEYS
#      through every nexus), reserves (WRITE EXCLUSIVE - REGISTRANTS
#      ONLY); READ RESERVATION and READ FULL STATUS identical through both
#      heads (the holder, the type, one descriptor per I_T nexus, the
#      relative target ports of both heads); writes through the map and a
#      registered non-holder path succeed, the unregistered initiator gets
#      RESERVATION CONFLICT;
#   c. kill -9 of every process of head A under vmwriter: zero errors;
#      through head B the keys and the reservation (held through head A's
#      port) are still there and enforced; PREEMPT (the second
#      initiator takes a WRITE EXCLUSIVE reservation: the map's writes
#      conflict), PREEMPT AND ABORT back through the map, RELEASE and
#      CLEAR, all through head B;
#   d. head A restarted: its path returns, multipathd registers the
#      map's key on it (reservation_key file), and READ KEYS, READ
#      RESERVATION and READ FULL STATUS through head A equal head B's;
#   e. fence_scsi with the two initiators as the two nodes of a cluster:
#      unfence (-o on) registers each node's key on every path of that
#      node, status, fence (-o off) of node 2 by node 1 removes its key
#      and its writes get RESERVATION CONFLICT, an unregistered node
#      cannot fence, unfence again;
#   f. fio --verify=crc32c --do_verify on the map while head A is killed:
#      zero errors, every write read back and verified; fio's figures
#      printed; then a block zeroed behind fio's back is reported by
#      --verify_only (the verification can fail).
# Prints what each check saw, then "N passed, N failed"; exit 0 only
# when nothing failed. Root; about 4 minutes (the guest runs under TCG).
set -u
cd "$(dirname "$0")/../.." || exit 1
LAYOUT=nonoptimized
SCEN="reservations, head B $LAYOUT"
. tests/vm/scen.bash

VICTIM_IQN=iqn.2026-12.org.tandem:vm-victim
# the guest's helpers: tur DISK (TEST UNIT READY until the unit
# attentions are read), pin SA DISK (PERSISTENT RESERVE IN), pout DISK
# ARGS (PERSISTENT RESERVE OUT), wr DISK (WRITE(10) of one block near the
# LU's end, sg_raw's status line)
# shellcheck disable=SC2016 # the guest's shell expands them
G='tur() { i=0; while [ $i -lt 6 ] && ! sg_turs /dev/$1 >/dev/null 2>&1; do i=$((i + 1)); done; }
pin() { tur $2; sg_persist -n -i $1 /dev/$2; }
pout() { d=$1; shift; tur $d; sg_persist -n -o "$@" /dev/$d; }
wr() { tur $1; sg_raw -s 512 -i /dev/zero /dev/$1 2a 00 00 01 ff f0 00 00 01 00 2>&1 | grep "SCSI Status"; }
'

# keys_of OUT: the keys of sg_persist -k ("0x1 0x1"), or "none"
keys_of() {
	grep -q 'NO registered reservation keys' <<<"$1" && { echo none; return; }
	awk '/registered reservation keys? follows?/ {f = 1; next} f && /^ *0x/ {printf "%s%s", s, $1; s = " "}' <<<"$1"
}
# resv_of OUT: "KEY TYPE" of sg_persist -r, or "none"
resv_of() {
	grep -q 'NO reservation held' <<<"$1" && { echo none; return; }
	awk '/Key=/ {sub(/.*Key=/, ""); k = $1} /type:/ {sub(/.*type: */, ""); print k, $0}' <<<"$1"
}
# fs_of OUT: sg_persist -s as one line per descriptor: "KEY PORT
# holder|- TYPE|- INITIATOR_PORT"
fs_of() {
	awk 'function out() { if (k != "") print k, p, h, (t == "" ? "-" : t), id }
	/Key=/ {out(); sub(/.*Key=/, ""); k = $1; p = h = t = id = ""; h = "-"}
	/Relative port address:/ {p = $NF}
	/Reservation holder/ {h = "holder"}
	/type:/ {t = $0; sub(/.*type: */, "", t); gsub(/ /, "_", t)}
	/port id:/ {id = $NF}
	END {out()}' <<<"$1"
}
# pin_check DESC SA DISK WANT: PR IN SA through DISK; the parsed answer
# (keys_of or resv_of) must be WANT
pin_check() {
	local got
	vm_run 30 "$G pin $2 $3"
	if [ "$2" = -k ]; then got=$(keys_of "$VM_OUT"); else got=$(resv_of "$VM_OUT"); fi
	[ "$VM_RC" = 0 ] && [ "$got" = "$4" ] && ok "$1: $got" ||
		ko "$1: status $VM_RC, '$got' (want '$4'): $VM_OUT"
}
# wr_check DESC DISK WANT: a WRITE through DISK ends with status WANT
# (Good, Reservation Conflict)
wr_check() {
	vm_run 30 "$G wr $2"
	grep -q "SCSI Status: $3" <<<"$VM_OUT" && ok "$1: $3" ||
		ko "$1: want $3, got: $(tr -s ' \n' ' ' <<<"$VM_OUT")"
}
# ua_check DESC DISK ASC: the unit attentions DISK's nexus has pending
# (TEST UNIT READY until GOOD, sg_raw's sense) include ASC (sg3_utils'
# text, e.g. "Registrations preempted")
ua_check() {
	vm_run 30 "for i in 1 2 3 4; do o=\$(sg_raw /dev/$2 00 00 00 00 00 00 2>&1); echo \"\$o\" | grep -iE 'status|sense'; echo \"\$o\" | grep -q 'Status: Good' && break; done"
	grep -qi "Additional sense: $3" <<<"$VM_OUT" && ok "$1: unit attention, $3" ||
		ko "$1: no unit attention '$3': $(tr -s ' \n' ' ' <<<"$VM_OUT")"
}
# fullstatus DISK: READ FULL STATUS through DISK: FS (sg_persist's text),
# FSL (fs_of)
fullstatus() {
	vm_run 30 "$G pin -s $1"
	FS=$VM_OUT
	FSL=$(fs_of "$FS")
}
# mpp DESC ARGS: mpathpersist ARGS on the map (a check)
mpp() {
	local d=$1
	shift
	gx "$d (mpathpersist $*)" 60 "mpathpersist $* $MAP"
}

scen_up extras
echo "== a. two initiators: the map's paths and a second initiator's disks"
scen_login
gx "a second initiator: iface victim ($VICTIM_IQN), logged in through both heads" 60 \
	"iscsiadm -m iface -I victim -o new >/dev/null &&
	iscsiadm -m iface -I victim -o update -n iface.initiatorname -v $VICTIM_IQN >/dev/null &&
	for h in $A $B; do iscsiadm -m node -o new -T $LAB_IQN -p \$h:$LAB_PORT -I victim >/dev/null &&
		iscsiadm -m node -T $LAB_IQN -p \$h:$LAB_PORT -I victim --login || exit 1; done; udevadm settle"
vm_until 20 "[ \$(paths | grep -c ' victim\$') = 2 ]"
show_map
VA=$(awk -v h="$A" '$2 == h && $3 == "victim" {print $1}' <<<"${MP#*paths:}")
VB=$(awk -v h="$B" '$2 == h && $3 == "victim" {print $1}' <<<"${MP#*paths:}")
[ -n "$VA" ] && [ -n "$VB" ] && ok "the second initiator's disks: $VA through head A, $VB through head B" ||
	ko "the second initiator's disks: A '$VA' B '$VB'"
[ "$(grep -c '^path' <<<"$GROUPS_")" = 2 ] && ! grep -qE " ($VA|$VB) " <<<"$GROUPS_" &&
	ok "the map keeps its two paths ($DA, $DB); $VA and $VB stay outside it (BYPASS_MULTIPATH)" ||
	ko "the map's paths: $GROUPS_"

section "b. register and reserve through the map (mpathpersist)"
mpp "the map's key 0x1 registered on every path" --out --register --param-sark=0x1
for d in "$DA:the map's path through head A" "$DB:the map's path through head B" \
	"$VA:the second initiator through head A" "$VB:the second initiator through head B"; do
	pin_check "READ KEYS through ${d#*:} (${d%%:*})" -k "${d%%:*}" "0x1 0x1"
done
vm_run 10 "cat /etc/multipath/prkeys | grep -v '^#'"
echo "   multipathd's prkeys: $VM_OUT"
mpp "a reservation WRITE EXCLUSIVE - REGISTRANTS ONLY with key 0x1" --out --reserve --param-rk=0x1 --prout-type=5
pin_check "READ RESERVATION through head A" -r "$DA" "0x1 Write Exclusive, registrants only"
pin_check "READ RESERVATION through head B" -r "$DB" "0x1 Write Exclusive, registrants only"
fullstatus "$DA"
FS_A=$FS
fullstatus "$DB"
FS0=$FS
FSL0=$FSL
indent "|" "$FS0"
[ -n "$FS_A" ] && [ "$FS_A" = "$FS0" ] && ok "READ FULL STATUS identical through head A and head B" ||
	ko "READ FULL STATUS differs: A [$FS_A] B [$FS0]"
isids=$(awk '{print $5}' <<<"$FSL0" | sort -u | grep -c "^$VM_IQN,i,0x")
if [ "$(wc -l <<<"$FSL0")" = 2 ] && [ "$(awk '{print $1}' <<<"$FSL0" | sort -u)" = 0x1 ] &&
	[ "$(awk '{print $2}' <<<"$FSL0" | sort | tr '\n' ' ')" = "0x1 0x2 " ] && [ "$isids" = 2 ] &&
	[ "$(grep -c ' holder Write_Exclusive,_registrants_only ' <<<"$FSL0")" = 1 ] &&
	[ "$(grep -c ' - - ' <<<"$FSL0")" = 1 ]; then
	ok "READ FULL STATUS: one descriptor per I_T nexus (two, key 0x1, relative target ports 0x1 and 0x2, two ISIDs of $VM_IQN), one holder with the type"
else
	ko "READ FULL STATUS descriptors: $(tr '\n' ';' <<<"$FSL0")"
fi
indent "=" "$FSL0"
gx "a write through the map succeeds (dd oflag=direct, 64 KiB)" 30 \
	"dd if=/dev/zero of=$MAP bs=64k count=1 seek=8 oflag=direct 2>&1"
holder=$(awk '$3 == "holder" {print $2}' <<<"$FSL0")
other=$DB
[ "$holder" = 0x2 ] && other=$DA
wr_check "a WRITE through the registered path that does not hold the reservation ($other)" "$other" Good
wr_check "a WRITE of the unregistered initiator through head A ($VA)" "$VA" "Reservation Conflict"
wr_check "a WRITE of the unregistered initiator through head B ($VB)" "$VB" "Reservation Conflict"

section "c. kill -9 of every process of head A under load; the reservation through head B"
writer_start c 20
sleep 6
node_kill 1
ok "head A killed (SIGKILL of all its processes) 6 s into the writes"
writer_done c 20 "kill -9 of head A (a reservation held through head A's port)"
show_map
ga=$(group_of "$DA" "$GROUPS_")
[ "${ga##* }" = down ] && ok "head A's path is failed ($ga)" || ko "head A's path after the kill: '$ga'"
pin_check "READ KEYS through head B: both registrations of the map's key, head A's too" -k "$DB" "0x1 0x1"
fullstatus "$DB"
[ "$FS" = "$FS0" ] && ok "READ FULL STATUS through head B unchanged by the kill (same generation, holder on relative port $holder)" ||
	ko "READ FULL STATUS through head B after the kill: [$FS] before [$FS0]"
pin_check "READ RESERVATION through head B" -r "$DB" "0x1 Write Exclusive, registrants only"
wr_check "enforced: a WRITE of the unregistered initiator through head B" "$VB" "Reservation Conflict"
vm_run 30 "$G pout $VB --register-ignore --param-sark=0x2"
[ "$VM_RC" = 0 ] && ok "the second initiator registers key 0x2 through head B" || ko "REGISTER 0x2 through $VB: $VM_OUT"
pin_check "READ KEYS through head B" -k "$DB" "0x1 0x1 0x2"
wr_check "a WRITE of the second initiator, now registered, through head B" "$VB" Good
vm_run 30 "$G pout $VB --preempt --param-rk=0x2 --param-sark=0x1 --prout-type=1"
[ "$VM_RC" = 0 ] && ok "PREEMPT through head B: the second initiator removes key 0x1 and takes a WRITE EXCLUSIVE reservation" ||
	ko "PREEMPT through $VB: $VM_OUT"
pin_check "READ KEYS through head B after the PREEMPT" -k "$DB" "0x2"
pin_check "READ RESERVATION through head B" -r "$DB" "0x2 Write Exclusive"
vm_run 30 "dd if=/dev/zero of=$MAP bs=64k count=1 seek=8 oflag=direct 2>&1; echo dd=\$?; echo \"the kernel's log: \$(dmesg | grep -c 'reservation conflict') reservation conflicts so far\""
indent ">" "$VM_OUT"
grep -q '^dd=[1-9]' <<<"$VM_OUT" && ok "a write through the map fails now (the map's key was preempted)" ||
	ko "a write through the map after the PREEMPT: $VM_OUT"
wr_check "a WRITE through the map's path $DB (preempted)" "$DB" "Reservation Conflict"
wr_check "a WRITE of the holder (the second initiator) through head B" "$VB" Good
mpp "the map registers key 0x1 again (the path through head B)" --out --register-ignore --param-sark=0x1
wr_check "a WRITE through the map's path $DB, registered, while another nexus holds WRITE EXCLUSIVE" "$DB" "Reservation Conflict"
mpp "PREEMPT AND ABORT through the map: key 0x2 removed, WRITE EXCLUSIVE - REGISTRANTS ONLY for 0x1" \
	--out --preempt-abort --param-rk=0x1 --param-sark=0x2 --prout-type=5
ua_check "the second initiator's next command through head B" "$VB" "Registrations preempted"
pin_check "READ KEYS through head B" -k "$DB" "0x1"
pin_check "READ RESERVATION through head B" -r "$DB" "0x1 Write Exclusive, registrants only"
wr_check "a WRITE of the second initiator (preempted) through head B" "$VB" "Reservation Conflict"
gx "a write through the map succeeds again" 30 "dd if=/dev/zero of=$MAP bs=64k count=1 seek=8 oflag=direct 2>&1"
mpp "RELEASE through the map (head B)" --out --release --param-rk=0x1 --prout-type=5
pin_check "READ RESERVATION through head B after the RELEASE" -r "$DB" "none"
wr_check "a WRITE of the unregistered second initiator, no reservation held" "$VB" Good
mpp "CLEAR through the map (head B)" --out --clear --param-rk=0x1
pin_check "READ KEYS through head B after the CLEAR" -k "$DB" "none"
# the state head A must find when it returns: the map's key (on head B's
# path only), its reservation, the second initiator's key
mpp "the map registers key 0x1 (head B's path)" --out --register --param-sark=0x1
mpp "and reserves (WRITE EXCLUSIVE - REGISTRANTS ONLY)" --out --reserve --param-rk=0x1 --prout-type=5
vm_run 30 "$G pout $VB --register-ignore --param-sark=0x2"
[ "$VM_RC" = 0 ] && ok "the second initiator registers key 0x2 through head B" || ko "REGISTER 0x2 through $VB: $VM_OUT"
pin_check "READ KEYS through head B" -k "$DB" "0x1 0x2"

section "d. head A restarted: its path returns with the same reservations"
corosync_start 1
wait_quorate 1 20 || ko "head A: corosync not quorate"
head_start 1
t0=$(date +%s%N)
if vm_until 40 "$PATHS_UP && [ \$(cat /sys/block/$VA/device/state) = running ]"; then
	ok "head A's paths are back (the map's and the second initiator's) $(secs_since "$t0") s after head A served again"
else
	ko "head A's paths did not come back: $VM_OUT"
fi
t0=$(date +%s%N)
if vm_until 30 "$G [ \"\$(pin -k $DA | grep -c '^ *0x1\$')\" = 2 ]"; then
	ok "multipathd registered the map's key on head A's returning path (reservation_key file) within $(secs_since "$t0") s"
	FIG+=("head A restarted: multipathd registered key 0x1 on its path within $(secs_since "$t0") s")
else
	ko "key 0x1 not registered on head A's returning path: $VM_OUT"
fi
for sa in -k -r; do
	vm_run 30 "$G pin $sa $DA"
	pa=$VM_OUT
	vm_run 30 "$G pin $sa $DB"
	[ -n "$pa" ] && [ "$pa" = "$VM_OUT" ] && ok "PERSISTENT RESERVE IN $sa identical through head A and head B: $(tr -s ' \n' ' ' <<<"$pa")" ||
		ko "PERSISTENT RESERVE IN $sa: A [$pa] B [$VM_OUT]"
done
fullstatus "$DA"
FS_A=$FS
fullstatus "$DB"
indent "|" "$FS"
[ -n "$FS_A" ] && [ "$FS_A" = "$FS" ] && [ "$(wc -l <<<"$FSL")" = 3 ] &&
	ok "READ FULL STATUS through head A equals head B's (three registrations: 0x1 on both of the map's paths, 0x2)" ||
	ko "READ FULL STATUS after the restart: A [$FS_A] B [$FS]"
indent "=" "$FSL"
mpp "CLEAR through the map" --out --clear --param-rk=0x1
pin_check "READ KEYS through head A after the CLEAR" -k "$DA" "none"
pin_check "READ RESERVATION through head B after the CLEAR" -r "$DB" "none"

section "e. fence_scsi: node 1 = the map's initiator, node 2 = the second initiator"
# fence NODE ARGS...: fence_scsi ARGS as node NODE (guest/asnode); its
# output in FOUT, its status in FRC
fence() {
	local t0
	t0=$(date +%s%N)
	vm_run 90 "asnode $1 fence_scsi ${*:2} 2>&1"
	FOUT=$VM_OUT
	FRC=$VM_RC
	echo "   fence_scsi ${*:2} as node $1: status $FRC in $(secs_since "$t0") s: $(tr -s ' \n' ' ' <<<"$FOUT")"
}
N2DEV=/dev/$VA,/dev/$VB
fence 1 -o on -k a1 -d "$MAP"
[ "$FRC" = 0 ] && ok "node 1 unfenced (-o on -k a1 on the map)" || ko "node 1 -o on: status $FRC"
fullstatus "$DB"
n1=$(awk '$1 == "0xa1" && $5 ~ /^'"$VM_IQN"',i,/ {print $2}' <<<"$FSL" | sort | tr '\n' ' ')
[ "$n1" = "0x1 0x2 " ] && grep -q '^0xa1 .* holder Write_Exclusive,_registrants_only ' <<<"$FSL" &&
	ok "node 1's key 0xa1 on both of its paths (relative target ports 0x1 and 0x2), WRITE EXCLUSIVE - REGISTRANTS ONLY held by 0xa1" ||
	ko "after node 1's unfence: $(tr '\n' ';' <<<"$FSL")"
fence 2 -o on -k b2 -d "$N2DEV"
[ "$FRC" = 0 ] && ok "node 2 unfenced (-o on -k b2 on $N2DEV)" || ko "node 2 -o on: status $FRC"
fullstatus "$DA"
n2=$(awk '$1 == "0xb2" && $5 ~ /^'"$VICTIM_IQN"',i,/ {print $2}' <<<"$FSL" | sort | tr '\n' ' ')
[ "$n2" = "0x1 0x2 " ] && [ "$(wc -l <<<"$FSL")" = 4 ] &&
	ok "node 2's key 0xb2 on both of its paths (relative target ports 0x1 and 0x2); four registrations" ||
	ko "after node 2's unfence: $(tr '\n' ';' <<<"$FSL")"
indent "=" "$FSL"
for n in "1 a1 $MAP" "2 b2 $N2DEV"; do
	read -r node key devs <<<"$n"
	fence "$node" -o status -k "$key" -d "$devs"
	[ "$FRC" = 0 ] && grep -q 'Status: ON' <<<"$FOUT" && ok "node $node: status ON (exit 0)" ||
		ko "node $node -o status: status $FRC"
done
wr_check "node 2 writes through head A" "$VA" Good
fence 1 -o off -k b2 -d "$MAP"
[ "$FRC" = 0 ] && grep -q 'Success: Powered OFF' <<<"$FOUT" && ok "node 1 fences node 2 (-o off -k b2 on the map: PREEMPT AND ABORT)" ||
	ko "node 1 -o off -k b2: status $FRC"
ua_check "node 2's next command through head A" "$VA" "Registrations preempted"
pin_check "READ KEYS through head B: node 2's key is gone" -k "$DB" "0xa1 0xa1"
fence 1 -o status -k b2 -d "$MAP"
[ "$FRC" = 2 ] && grep -q 'Status: OFF' <<<"$FOUT" && ok "status of node 2's key: OFF (exit 2)" || ko "status -k b2: status $FRC"
wr_check "node 2's WRITE through head A" "$VA" "Reservation Conflict"
wr_check "node 2's WRITE through head B" "$VB" "Reservation Conflict"
vm_run 30 "dd if=/dev/zero of=/dev/$VB bs=4k count=1 seek=100 oflag=direct 2>&1; echo dd=\$?"
grep -q '^dd=[1-9]' <<<"$VM_OUT" && ok "node 2's dd oflag=direct to $VB fails: $(head -1 <<<"$VM_OUT")" ||
	ko "node 2's dd after the fence: $VM_OUT"
gx "node 1 still writes through the map" 30 "dd if=/dev/zero of=$MAP bs=64k count=1 seek=8 oflag=direct 2>&1"
# -v: fence_scsi logs each sg_persist with its status and output
vm_run 90 "asnode 2 fence_scsi -v -o off -k a1 -d $N2DEV 2>&1"
indent ">" "$(grep -iE 'sg_persist -n -o|conflict|ERROR' <<<"$VM_OUT" | cut -c1-200)"
[ "$VM_RC" != 0 ] && grep -qi 'reservation conflict' <<<"$VM_OUT" &&
	ok "node 2 (fenced, unregistered) cannot fence node 1: its PREEMPT AND ABORT got RESERVATION CONFLICT, fence_scsi exit $VM_RC" ||
	ko "node 2's -o off -k a1: status $VM_RC"
pin_check "READ KEYS through head A: node 1's keys are still there" -k "$DA" "0xa1 0xa1"
fence 2 -o on -k b2 -d "$N2DEV"
[ "$FRC" = 0 ] && ok "node 2 unfenced again" || ko "node 2 -o on again: status $FRC"
pin_check "READ KEYS through head A" -k "$DA" "0xa1 0xa1 0xb2 0xb2"
wr_check "node 2 writes again through head B" "$VB" Good
vm_run 30 "$G pout $DA --clear --param-rk=0xa1"
[ "$VM_RC" = 0 ] && ok "CLEAR with node 1's key through head A" || ko "CLEAR through $DA: $VM_OUT"
pin_check "READ KEYS through head B after the CLEAR" -k "$DB" "none"

section "f. fio --verify on the map, head A killed"
# two passes over the LU, each block written once per pass and read back
# (verify_backlog: during the pass, the rest at its end)
FIO="fio --name=verify --filename=$MAP --direct=1 --ioengine=libaio --iodepth=4 --rw=randwrite --bsrange=4k-64k --size=64M --loops=2 --verify=crc32c --do_verify=1 --verify_backlog=64 --verify_fatal=1"
gx "fio started: $FIO" 10 "rm -f /tmp/fio.rc; setsid sh -c '$FIO >/tmp/fio.out 2>&1; echo \$? >/tmp/fio.rc' </dev/null >/dev/null 2>&1 &"
sleep 8
node_kill 1
ok "head A killed 8 s into fio's run"
vm_run 150 "n=0; while [ ! -s /tmp/fio.rc ]; do n=\$((n + 1)); [ \$n -gt 240 ] && exit 124; sleep 0.5; done; cat /tmp/fio.out; exit \$(cat /tmp/fio.rc)"
rc=$VM_RC
indent ">" "$VM_OUT"
err=$(sed -n 's/.* err= *\([0-9]*\).*/\1/p' <<<"$VM_OUT" | head -1)
# "issued rwts: total=READS,WRITES,..."
rw=$(sed -n 's/.*issued rwts: total=\([0-9]*\),\([0-9]*\),.*/\1 \2/p' <<<"$VM_OUT")
# the longest completion (verify reads and writes), in ms: fio prints
# "clat (usec): min=.., max=5116.8k, ..." (k, M: thousands, millions)
lmax=$(awk '/^ *clat \((n|u|m)sec\):/ {
	u = $0; sub(/^ *clat \(/, "", u); u = substr(u, 1, 1)
	m = $0; sub(/.*max= */, "", m); sub(/,.*/, "", m)
	x = m + 0; if (m ~ /k$/) x *= 1e3; if (m ~ /M$/) x *= 1e6
	x /= (u == "n" ? 1e6 : u == "u" ? 1e3 : 1); if (x > best) best = x }
	END {printf "%.1f", best}' <<<"$VM_OUT")
wrt=$(awk '/^ *WRITE:/ {sub(/^ */, ""); print}' <<<"$VM_OUT")
if [ "$rc" = 0 ] && [ "$err" = 0 ] && ! grep -qiE 'verify failed|bad magic|bad header' <<<"$VM_OUT"; then
	ok "fio: exit 0, err=0, no verify failure"
else
	ko "fio: status $rc, err=${err:-?}"
fi
[ -n "$rw" ] && [ "${rw% *}" = "${rw#* }" ] && [ "${rw% *}" -gt 0 ] &&
	ok "fio read back and verified every write: ${rw% *} verify reads for ${rw#* } writes" ||
	ko "fio's reads and writes: '$rw'"
# fio's verification can fail: 1 MiB written with verify data, a block
# zeroed behind its back, then --verify_only
F1="fio --name=corrupt --filename=$MAP --direct=1 --rw=write --bs=4k --size=1M --verify=crc32c"
vm_run 60 "$F1 >/tmp/f1.out 2>&1 || { cat /tmp/f1.out; exit 9; }
dd if=/dev/zero of=$MAP bs=4k seek=5 count=1 oflag=direct 2>/dev/null || exit 8
$F1 --verify_only >/tmp/f2.out 2>&1; echo fio=\$?; grep -iE 'bad magic|verify failed|err=' /tmp/f2.out"
indent ">" "$VM_OUT"
grep -q '^fio=[1-9]' <<<"$VM_OUT" && grep -qiE 'bad magic|verify failed' <<<"$VM_OUT" &&
	ok "fio --verify_only reports the block zeroed behind its back" || ko "fio --verify_only after a corruption: $VM_OUT"
awk -v g="$lmax" -v m="$PAUSE_MAX_MS" 'BEGIN {exit !(g > 0 && g < m)}' &&
	ok "fio's longest I/O (the pause of the kill): $lmax ms (bound $PAUSE_MAX_MS ms)" ||
	ko "fio's longest I/O: '$lmax' ms (bound $PAUSE_MAX_MS ms)"
FIG+=("fio --verify=crc32c, head A killed: $wrt")
FIG+=("fio: ${rw#* } writes, ${rw% *} verify reads, the longest I/O $lmax ms (the pause)")
finish
