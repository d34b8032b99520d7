#!/bin/bash
# kernel.sh - the kernel's target fabric tcm_loop (SCST's scst_local)
# served by tandemd through TCMU (issue 14, kernel/), in one qemu guest
# (tests/vm/build.sh kernel): tandemd exports one fileio LU (64 MiB on
# tmpfs) through TARGET_DRIVER scst_local (TARGET tl0, session_name
# host0, LUN 0) and TARGET_DRIVER iscsi on 127.0.0.1 at once, and the
# guest's own SCSI stack uses both:
#
#   a. the modules; tandemd started: the tcm_loop LU appears as
#      /dev/sdX, and the target's second LUN (a ram LU) as another
#      disk; tandem's kernel objects (a TCMU device per LU in user_7301
#      with emulate_pr 0 and alua_support 0, a loopback WWN);
#   b. identity: open-iscsi logs in to 127.0.0.1; INQUIRY, VPD 0x80 and
#      the LU's VPD 0x83 designators identical through both disks; the
#      tcm_loop port's designators (protocol SAS); REPORT TARGET PORT
#      GROUPS through tcm_loop;
#   c. fio with verify through /dev/sdX (random writes of 512 B to 1 MiB,
#      crc32c, every block read back);
#   d. data written through tcm_loop read back through iSCSI, and the
#      other way (O_DIRECT, checksums);
#   e. reservations: an iSCSI initiator's WRITE EXCLUSIVE reservation
#      (sg_persist on the iSCSI disk): a write through tcm_loop gets
#      RESERVATION CONFLICT (sg_raw's status, dd fails), a read works;
#      released: the write works; PERSISTENT RESERVE IN and OUT and
#      RESERVE(6) through tcm_loop refused (ILLEGAL REQUEST, INVALID
#      COMMAND OPERATION CODE), and SET TARGET PORT GROUPS;
#   f. tcm_loop's tpgt transport_status offline, then online: a read of
#      the raw disk fails while offline (tcm_loop answers
#      DID_TRANSPORT_DISRUPTED; a raw sd queues nothing); fio on a
#      dm-multipath map over the disk (one path, no_path_retry) pauses
#      and resumes with no error (the pause printed);
#   g. tandemd killed (-9) under vmwriter on /dev/sdX, restarted: the
#      device recovers, every acknowledged write reads back;
#   h. ext4 on /dev/sdX: files written, kill -USR2 (a stop that keeps
#      the kernel's objects), tandemd restarted: the files read back
#      (page cache dropped), the filesystem checked after unmount;
#   i. SIGTERM with nothing mounted: no tandem object left under
#      core/ and loopback/, no /dev/uio*, the disk gone;
#   j. memory pressure (scst_local's README warns of memory deadlocks
#      with fileio): tandemd again, a buffered write through /dev/sdX
#      with dirty_ratio 5 and most of the guest's memory taken by a
#      tmpfs hog: the time, or the hang (bounded), reported.
#
# KERNEL_TARGET=lio runs LIO's own baseline instead (no tandemd): a
# fileio LU on tmpfs and an rd_mcp ramdisk through a tcm_loop WWN
# written by hand in configfs, and the scenarios that apply (a, b
# without iSCSI, c, f, j, LIO's PR emulation through tcm_loop, a TCMU
# device with no daemon and its removal).
#
# Prints "N passed, N failed" and the figures; exit 0 only when nothing
# failed, 77 when KERNEL_TARGET=tandem and TANDEMD is not built. Root;
# 2-4 minutes under TCG; every wait is bounded. Environment:
# KERNEL_TARGET (tandem), TANDEMD, VMWRITER, VM_MEM (768),
# KERNEL_MEM_LEFT (64: j.'s memory left beside the hog, MiB), LAB_KEEP=1
# keeps the lab directory (vm/console.log).
set -u
cd "$(dirname "$0")/../.." || exit 1
KERNEL_TARGET=${KERNEL_TARGET:-tandem}
case $KERNEL_TARGET in
tandem) [ -x "${TANDEMD:-}" ] || { echo "SKIP: tandemd not built (TANDEMD=${TANDEMD:-})"; exit 77; } ;;
lio) ;;
*)
	echo "kernel.sh: KERNEL_TARGET=$KERNEL_TARGET: tandem or lio" >&2
	exit 2
	;;
esac
. tests/vm/solo.bash
command -v jq >/dev/null || scripts/apt-install.sh jq >/dev/null || exit 1
SIZE_MB=64
# j.: the memory left to the guest beside the hog (MiB)
MEM_LEFT=${KERNEL_MEM_LEFT:-64}
SOLO_TITLE="figures (KERNEL_TARGET=$KERNEL_TARGET)"
SOLO_DUMP='dmesg | tail -40; [ -f /tmp/tandemd.log ] && { echo "== tandemd.log"; tail -30 /tmp/tandemd.log; }'

# fio_figs NAME: fio's JSON (after "json:" in VM_OUT): "ios=N errors=E
# clat_max_ms=M iops=I" of the write side
fio_figs() {
	sed -n '/^json:$/,$p' <<<"$VM_OUT" | sed 1d | jq -r '.jobs[0] |
		"ios=\(.write.total_ios) errors=\(.error) clat_max_ms=\(.write.clat_ns.max / 1e6 | floor) iops=\(.write.iops | floor)"' 2>/dev/null
}
# same_identity A B: INQUIRY's identification, VPD 0x80 and the LU's VPD
# 0x83 designators of disks A and B identical
ident='sg_vpd -p di /dev/X | sed -n "/Addressed logical unit/,/Target port/p" | grep -v "Target port"; sg_vpd -p sn /dev/X; sg_inq /dev/X | grep -E "identification|revision"'

echo "== the guest: LIO's tcm_loop and TCMU; target: $KERNEL_TARGET"
files=("$VM_SRC/guest/kernel")
if [ "$KERNEL_TARGET" = tandem ]; then
	solo_guest kernel "$TANDEMD"
	files+=("$TANDEMD")
else
	solo_guest kernel
fi
solo_files "$LAB_DIR/kernel" "${files[@]}" || { ko "the guest's files"; finish; }
solo_boot "KERNEL_TARGET=$KERNEL_TARGET"

echo "== a. the modules, the target, the tcm_loop disk"
gstep "the modules of /modules.kernel loaded, configfs mounted" 60 "kernel setup"
FIG+=("modules: $(kv modules "$VM_OUT") loaded in $(kv modules_secs "$VM_OUT") s")
if [ "$KERNEL_TARGET" = lio ]; then
	gstep "LIO: a $SIZE_MB MiB fileio LU on tmpfs (LUN 0) and an rd_mcp ramdisk (LUN 1) through a tcm_loop WWN; both disks appear" 60 "kernel lio $SIZE_MB"
	DISK=$(kv fileio "$VM_OUT")
	RAMDISK=$(kv ramdisk "$VM_OUT")
	WWN=$(kv wwn "$VM_OUT")
	FIG+=("LIO through configfs to the tcm_loop disks: $(kv secs "$VM_OUT") s")
else
	gstep "tandemd's configuration: a $SIZE_MB MiB fileio LU through scst_local (tl0, session_name host0) and iSCSI (127.0.0.1)" 30 "kernel conf $SIZE_MB"
	gstep "tandemd started, the tcm_loop LU appears as a disk" 60 "kernel start"
	DISK=$(kv disk "$VM_OUT")
	FIG+=("tandemd started to the tcm_loop disk: $(kv secs "$VM_OUT") s")
	vm_run 30 "kernel lun_wait 1 15"
	indent "|" "$VM_OUT"
	[ "$VM_RC" = 0 ] && ok "tl0's LUN 1 (a 16 MiB ram LU) appears too: /dev/$(kv disk "$VM_OUT")" ||
		ko "tl0's LUN 1 has no disk: $VM_OUT"
	vm_run 20 "kernel objects"
	indent "|" "$VM_OUT"
	WWN=$(kv wwn "$VM_OUT")
	[ "$VM_RC" = 0 ] && grep -q '^dev=core/user_7301/.* config=tandem/.* emulate_pr=0 alua_support=0' <<<"$VM_OUT" &&
		[ -n "$WWN" ] && grep -qE '^uio=/dev/uio[0-9]+ ' <<<"$VM_OUT" &&
		ok "tandem's kernel objects: a TCMU device in user_7301 (dev_config tandem/..., emulate_pr 0, alua_support 0), its UIO node, the loopback WWN $WWN" ||
		ko "tandem's kernel objects (status $VM_RC)"
fi
[ -n "$DISK" ] && ok "the tcm_loop LU is /dev/$DISK (WWN $WWN)" || { ko "no tcm_loop disk"; finish; }
vm_run 20 "sg_inq /dev/$DISK; sg_readcap /dev/$DISK"
indent "|" "$VM_OUT"
blocks=$(sed -n 's/.*Last LBA=\([0-9]*\).*/\1/p' <<<"$VM_OUT")
bsz=$(sed -n 's/.*Logical block length=\([0-9]*\).*/\1/p' <<<"$VM_OUT")
[ -n "$blocks" ] && [ -n "$bsz" ] && [ $(((blocks + 1) * bsz)) = $((SIZE_MB << 20)) ] &&
	ok "INQUIRY and READ CAPACITY through tcm_loop: $((blocks + 1)) blocks of $bsz bytes ($SIZE_MB MiB), vendor $(sed -n 's/.*Vendor identification: *//p' <<<"$VM_OUT")" ||
	ko "READ CAPACITY through tcm_loop: last LBA '$blocks', block '$bsz'"

echo "== b. identity"
vm_run 20 "sg_vpd -p di /dev/$DISK"
indent "|" "$VM_OUT"
tp=$(awk '/Target port:/ {f = 1; next} /^  [A-Z]/ {f = 0} f' <<<"$VM_OUT")
[ "$VM_RC" = 0 ] && grep -q 'NAA' <<<"$VM_OUT" && grep -qi 'Serial Attached SCSI' <<<"$tp" &&
	grep -q 'Relative target port' <<<"$tp" &&
	ok "VPD 0x83 through tcm_loop: the LU's NAA designator; the target port's relative port $(sed -n 's/.*Relative target port: *//p' <<<"$tp" | head -1), protocol SAS" ||
	ko "VPD 0x83 through tcm_loop (status $VM_RC): an NAA LU designator and a SAS target port wanted"
if [ "$KERNEL_TARGET" = tandem ]; then
	gstep "open-iscsi logged in to tandemd on 127.0.0.1" 60 "kernel iscsi"
	IDISK=$(kv disk "$VM_OUT")
	vm_run 30 "${ident//X/$DISK}"
	A=$VM_OUT
	vm_run 30 "${ident//X/$IDISK}"
	B=$VM_OUT
	indent "|" "$A"
	[ -n "$A" ] && [ "$A" = "$B" ] && grep -q NAA <<<"$A" &&
		ok "/dev/$DISK (tcm_loop) and /dev/$IDISK (iSCSI): the same LU designators (VPD 0x83), unit serial number (VPD 0x80) and INQUIRY identification" ||
		ko "the identity differs between tcm_loop and iSCSI: $B"
else
	vm_run 30 "${ident//X/$DISK}; ${ident//X/$RAMDISK}"
	indent "|" "$VM_OUT"
	[ "$VM_RC" = 0 ] && [ "$(grep -c 'NAA' <<<"$VM_OUT")" -ge 2 ] &&
		ok "LIO's fileio and rd_mcp LUs through tcm_loop: an NAA designator each (their serials written by hand)" ||
		ko "LIO's identity (status $VM_RC)"
fi
vm_run 20 "sg_rtpg -d /dev/$DISK"
indent "|" "$VM_OUT"
if [ "$VM_RC" = 0 ] && grep -qE 'target port group id *: *0x[0-9a-f]+' <<<"$VM_OUT"; then
	ok "REPORT TARGET PORT GROUPS through tcm_loop: $(grep -cE 'target port group id' <<<"$VM_OUT") group(s), $(grep -m1 -oE 'asymmetric access state *: *[^,]*' <<<"$VM_OUT")"
	RTPG_LOOP=$VM_OUT
else
	ko "REPORT TARGET PORT GROUPS through tcm_loop: status $VM_RC"
	RTPG_LOOP=
fi
if [ "$KERNEL_TARGET" = tandem ]; then
	vm_run 20 "sg_rtpg -d /dev/$IDISK"
	[ -n "$RTPG_LOOP" ] && [ "$RTPG_LOOP" = "$VM_OUT" ] &&
		ok "REPORT TARGET PORT GROUPS identical through tcm_loop and iSCSI" ||
		{ ko "RTPG through iSCSI differs from tcm_loop's"; indent "|" "$VM_OUT"; }
fi

echo "== c. fio with verify on /dev/$DISK"
FIO="--name=verify --filename=/dev/$DISK --direct=1 --ioengine=libaio --iodepth=8 --rw=randwrite --bssplit=512/20:4k/30:64k/25:256k/15:1m/10 --size=24M --runtime=60 --verify=crc32c --do_verify=1 --verify_fatal=1 --verify_state_save=0"
t0=$(date +%s%N)
vm_run 120 "fio $FIO"
rc=$VM_RC
indent ">" "$(grep -E 'err=|issued rwts|WRITE:|READ:|verify' <<<"$VM_OUT")"
err=$(sed -n 's/.* err= *\([0-9]*\).*/\1/p' <<<"$VM_OUT" | head -1)
rw=$(sed -n 's/.*issued rwts: total=\([0-9]*\),\([0-9]*\),.*/\1 \2/p' <<<"$VM_OUT")
if [ "$rc" = 0 ] && [ "$err" = 0 ] && [ -n "$rw" ] && [ "${rw% *}" = "${rw#* }" ] && [ "${rw% *}" -gt 0 ] &&
	! grep -qiE 'verify failed|bad magic|bad header|crc32c: wanted' <<<"$VM_OUT"; then
	ok "fio (512 B-1 MiB random writes, QD 8, verify=crc32c) through tcm_loop: err=0, ${rw% *} verify reads for ${rw#* } writes, in $(secs "$t0") s"
	FIG+=("fio verify through tcm_loop (24 MiB, QD 8): ${rw#* } writes verified, $(secs "$t0") s")
else
	ko "fio verify through tcm_loop: status $rc, err=${err:-?}, reads/writes '$rw'"
fi

if [ "$KERNEL_TARGET" = tandem ]; then
	echo "== d. written through one path, read through the other"
	vm_run 60 "kernel cross $DISK $IDISK 0 && kernel cross $IDISK $DISK 8"
	indent "|" "$VM_OUT"
	[ "$VM_RC" = 0 ] && [ "$(grep -c '^same ' <<<"$VM_OUT")" = 2 ] &&
		ok "4 MiB written through tcm_loop read back identical through iSCSI, and 4 MiB the other way (O_DIRECT, md5)" ||
		ko "cross-path data (status $VM_RC)"

	echo "== e. reservations: iSCSI's WRITE EXCLUSIVE against the tcm_loop nexus"
	vm_run 60 "kernel pr_we $IDISK $DISK"
	indent "|" "$VM_OUT"
	[ "$VM_RC" = 0 ] && grep -q '^reserved' <<<"$VM_OUT" &&
		ok "sg_persist through iSCSI: key 0x1 registered, WRITE EXCLUSIVE reserved" ||
		ko "the iSCSI initiator's reservation (status $VM_RC)"
	grep -q '^loop_write_status=Reservation Conflict' <<<"$VM_OUT" && grep -q '^loop_dd_write=failed' <<<"$VM_OUT" &&
		ok "a write through tcm_loop while iSCSI holds WRITE EXCLUSIVE: RESERVATION CONFLICT (sg_raw), dd fails ($(sed -n 's/^loop_dd_err=//p' <<<"$VM_OUT"))" ||
		ko "a write through tcm_loop under the reservation: $(grep -E '^loop_' <<<"$VM_OUT" | tr '\n' ' ')"
	# SPC-4 5.13.1 table 47: allowed under WRITE EXCLUSIVE for a nexus
	# that is not registered; MODE SENSE is the device server's choice
	# (REPORT CAPABILITIES' ALLOW COMMANDS): printed, not asserted
	al=$(grep -E '^allowed_(tur|readcap10|readcap16|vpd_b0)=' <<<"$VM_OUT")
	[ "$(grep -c '=0$' <<<"$al")" = 4 ] && grep -q "^loop_size_blocks=$((SIZE_MB << 11))\$" <<<"$VM_OUT" &&
		ok "under the reservation what SPC-4 allows a non-registrant works through tcm_loop: TEST UNIT READY, READ CAPACITY(10) and (16), INQUIRY (VPD 0xb0); the disk keeps its size; MODE SENSE(6): $(sed -n 's/^allowed_modesense6=//p' <<<"$VM_OUT" | sed 's/^24$/RESERVATION CONFLICT (tandem: ALLOW COMMANDS 010b)/; s/^0$/allowed/')" ||
		ko "under the reservation the commands SPC-4 allows a non-registrant (0: done; 24: RESERVATION CONFLICT): $(tr '\n' ' ' <<<"$al")$(grep -E '^loop_size_blocks=' <<<"$VM_OUT")"
	grep -q '^loop_read=ok' <<<"$VM_OUT" && grep -q '^holder_write=ok' <<<"$VM_OUT" &&
		ok "under the reservation: reads through tcm_loop (16 KiB read) and the holder's writes through iSCSI work" ||
		ko "under the reservation: $(grep -E '^(loop_read|holder_write)=' <<<"$VM_OUT" | tr '\n' ' ')"
	grep -q '^released' <<<"$VM_OUT" && grep -q '^after_write_status=Good' <<<"$VM_OUT" && grep -q '^after_dd_write=ok' <<<"$VM_OUT" &&
		ok "released and unregistered: writes through tcm_loop work again" ||
		ko "after the release: $(grep -E '^after_' <<<"$VM_OUT" | tr '\n' ' ')"
fi
vm_run 30 "kernel pr_refused $DISK"
indent "|" "$VM_OUT"
if [ "$KERNEL_TARGET" = tandem ]; then
	grep -q '^prin_raw=refused' <<<"$VM_OUT" && grep -q '^prout_raw=refused' <<<"$VM_OUT" &&
		grep -q '^reserve6_raw=refused' <<<"$VM_OUT" && grep -q '^sg_persist_in=9' <<<"$VM_OUT" &&
		ok "PERSISTENT RESERVE IN and OUT and RESERVE(6) through tcm_loop refused: ILLEGAL REQUEST, INVALID COMMAND OPERATION CODE (sg_persist: not supported, status 9)" ||
		ko "PR through tcm_loop not refused as wanted"
	grep -q '^stpg_raw=refused' <<<"$VM_OUT" &&
		ok "SET TARGET PORT GROUPS through tcm_loop refused (implicit ALUA only on a kernel fabric): INVALID COMMAND OPERATION CODE" ||
		ko "STPG through tcm_loop: $(grep '^stpg_raw' <<<"$VM_OUT")"
else
	FIG+=("LIO's own tcm_loop LU: STPG $(sed -n 's/^stpg_raw=//p' <<<"$VM_OUT")")
	grep -q '^sg_persist_in=0' <<<"$VM_OUT" &&
		ok "LIO's own tcm_loop LU: PERSISTENT RESERVE IN answered (the kernel's PR emulation, emulate_pr 1)" ||
		ko "LIO's PR emulation through tcm_loop: $(grep sg_persist <<<"$VM_OUT")"
fi

if [ "$KERNEL_TARGET" = tandem ]; then
	# the map of f. would hold the iSCSI path too (the same LU)
	gstep "open-iscsi logged out" 30 "kernel iscsi_logout"
fi
echo "== f. transport_status offline and online: the raw disk, then a multipath map under fio"
vm_run 60 "kernel offline_raw $WWN $DISK"
indent "|" "$VM_OUT"
[ "$VM_RC" = 0 ] && grep -q '^offline_read=failed' <<<"$VM_OUT" && grep -q '^tur=ok' <<<"$VM_OUT" &&
	ok "the raw disk while tcm_loop's tpgt is offline: a read fails in $(kv secs "$VM_OUT") s (tcm_loop answers DID_TRANSPORT_DISRUPTED; sd retries and fails: nothing queues I/O on a raw sd), and answers again once online" ||
	ko "the raw disk through an offline tpgt: status $VM_RC"
gstep "multipathd: a map over /dev/$DISK (one path, no_path_retry: I/O queued while no path)" 60 "kernel mp_on $DISK"
MAP=$(kv map "$VM_OUT")
F="--name=tstatus --filename=/dev/mapper/$MAP --direct=1 --ioengine=libaio --iodepth=8 --rw=randwrite --bs=4k --size=32M --time_based --runtime=16 --output-format=json"
vm_run 20 "kernel fio_bg tstatus $F"
sleep 4
vm_run 20 "kernel tstatus $WWN offline"
indent "|" "$VM_OUT"
[ "$VM_RC" = 0 ] || ko "transport_status offline: $VM_RC"
sleep 3
vm_run 20 "kernel tstatus $WWN online"
indent "|" "$VM_OUT"
[ "$VM_RC" = 0 ] || ko "transport_status online: $VM_RC"
vm_run 60 "kernel fio_wait tstatus 50"
rc=$VM_RC
indent "|" "$(sed '/^json:$/,$d' <<<"$VM_OUT")"
f=$(fio_figs)
FIG+=("transport_status offline 3 s under fio on the map (4 KiB randwrite QD 8, 16 s): $f")
[ "$rc" = 0 ] && [ "$(kv errors "$f")" = 0 ] && [ "$(kv ios "$f")" -gt 0 ] 2>/dev/null &&
	ok "fio on the map while tcm_loop's tpgt went offline for 3 s and back: I/O paused $(kv clat_max_ms "$f") ms at most and resumed, no error ($(kv ios "$f") writes, $(kv iops "$f") IOPS)" ||
	ko "fio on the map through the offline/online tpgt: status $rc, $f"
gstep "multipathd stopped, the map flushed" 30 "kernel mp_off"
vm_run 20 "sg_turs /dev/$DISK; sg_turs /dev/$DISK && echo tur=ok"
grep -q 'tur=ok' <<<"$VM_OUT" && ok "the disk answers after the tpgt came back" || ko "the disk after online: $VM_OUT"

if [ "$KERNEL_TARGET" = tandem ]; then
	echo "== g. tandemd killed (-9) under vmwriter, restarted"
	vm_run 10 "rm -f /tmp/kw.rc; setsid sh -c 'vmwriter -d /dev/$DISK -t 4 -s 16 -L 30 -j /tmp/kw.j >/tmp/kw.log 2>&1; echo \$? >/tmp/kw.rc' </dev/null >/dev/null 2>&1 &"
	sleep 5
	gstep "tandemd killed (-9) with /dev/$DISK open" 20 "kernel stop KILL"
	vm_run 20 "kernel objects"
	indent "|" "$VM_OUT"
	grep -q '^dev=core/user_7301/' <<<"$VM_OUT" && ok "after kill -9 the kernel keeps tandem's TCMU device and the tcm_loop disk" ||
		ko "tandem's objects after kill -9"
	sleep 2
	gstep "tandemd restarted: it finds the kernel's objects and serves the ring again" 60 "kernel start"
	[ "$(kv disk "$VM_OUT")" = "$DISK" ] && ok "the same disk /dev/$DISK after the restart ($(kv secs "$VM_OUT") s)" ||
		ko "the disk after the restart: '$(kv disk "$VM_OUT")', was $DISK"
	vm_run 120 "n=0; while [ ! -s /tmp/kw.rc ]; do n=\$((n + 1)); [ \$n -gt 220 ] && exit 124; sleep 0.5; done; cat /tmp/kw.log; exit \$(cat /tmp/kw.rc)"
	rc=$VM_RC
	indent ">" "$VM_OUT"
	FIG+=("kill -9 and restart under vmwriter: $(grep -E '^writes=' <<<"$VM_OUT" | tail -1); $(grep -E '^verified=' <<<"$VM_OUT" | tail -1)")
	[ "$rc" = 0 ] && grep -q '^result=ok' <<<"$VM_OUT" && grep -q ' io_errors=0 ' <<<"$VM_OUT" && grep -q ' bad_blocks=0 ' <<<"$VM_OUT" &&
		ok "kill -9 and restart: zero I/O errors, every acknowledged block read back; the longest write $(sed -n 's/.* max_write_ms=\([0-9.]*\).*/\1/p' <<<"$VM_OUT" | tail -1) ms" ||
		ko "kill -9 and restart: vmwriter status $rc"

	echo "== h. ext4 on /dev/$DISK across kill -USR2 and a restart"
	gstep "ext4 made and mounted, files written and synced" 60 "kernel fs_write $DISK"
	SUMS=$VM_OUT
	gstep "kill -USR2: tandemd stops and keeps the kernel's objects" 30 "kernel stop USR2"
	vm_run 20 "kernel objects"
	indent "|" "$VM_OUT"
	grep -q 'block_dev=blocked' <<<"$VM_OUT" && ok "after USR2: the TCMU device kept and blocked, the disk still there" ||
		ko "after USR2: the device is not kept blocked"
	gstep "tandemd restarted" 60 "kernel start"
	vm_run 60 "kernel fs_check $DISK"
	indent "|" "$VM_OUT"
	[ "$VM_RC" = 0 ] && [ -n "$SUMS" ] && [ "$(grep '^sum ' <<<"$VM_OUT")" = "$(grep '^sum ' <<<"$SUMS")" ] &&
		grep -q '^fsck=0' <<<"$VM_OUT" &&
		ok "after USR2 and the restart: the files read back identical (page cache dropped), a file written after it too, e2fsck clean after unmount" ||
		ko "ext4 across USR2 and a restart (status $VM_RC)"

	echo "== i. SIGTERM: nothing of tandem's left in the kernel"
	gstep "tandemd stopped (SIGTERM), no sanitizer report" 40 "kernel stop TERM"
	vm_run 20 "kernel objects; find /sys/kernel/config/target/core /sys/kernel/config/target/loopback -maxdepth 1"
	indent "|" "$VM_OUT"
	! grep -qE '^(dev|wwn|uio)=' <<<"$VM_OUT" && grep -q '^disks=0' <<<"$VM_OUT" &&
		ok "after SIGTERM: no TCMU device, no loopback WWN, no /dev/uio*, no tcm_loop disk" ||
		ko "after SIGTERM tandem's objects are left: $(grep -E '^(dev|wwn|uio|disks)=' <<<"$VM_OUT" | tr '\n' ' ')"
	gstep "tandemd started again for the memory-pressure run" 60 "kernel start"
	DISK=$(kv disk "$VM_OUT")
else
	echo "== a TCMU device with no daemon"
	gstep "core/user_1/x enabled: /dev/uio0 with its map; removed: no uio device left" 30 "kernel tcmu_bare | grep -E '^uio|^removed|failed'"
fi

echo "== j. writeback under memory pressure through /dev/$DISK"
vm_run 200 "kernel memwb $DISK $SIZE_MB 90 $MEM_LEFT"
rc=$VM_RC
indent "|" "$VM_OUT"
FIG+=("memory pressure ($KERNEL_TARGET): $(grep -E '^memwb:' <<<"$VM_OUT" | tr '\n' ' ')")
if [ "$rc" = 0 ]; then
	ok "a $SIZE_MB MiB buffered write through tcm_loop with ~$(kv avail_mb "$VM_OUT") MiB available (KERNEL_MEM_LEFT $MEM_LEFT) and dirty_ratio 5: done, $(kv write_s "$VM_OUT") s to write, $(kv sync_s "$VM_OUT") s to sync, $(kv mbs "$VM_OUT") MB/s, OOM kills: $(kv oom "$VM_OUT")"
elif [ "$rc" = 3 ]; then
	ko "the buffered write hung for 90 s under memory pressure (then the hog removed: $(kv after "$VM_OUT"))"
else
	ko "memory pressure run: status $rc"
fi
if [ "$KERNEL_TARGET" = tandem ]; then
	gstep "tandemd stopped (SIGTERM) at the end, no sanitizer report" 40 "kernel stop TERM"
else
	gstep "LIO's objects removed, the disks gone" 30 "kernel lio_off"
fi
finish
