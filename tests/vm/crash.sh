#!/bin/bash
# crash.sh - crash consistency of what a Tandem head acknowledges (issue
# 11): the power loss that a kill -9 cannot give. In a qemu guest
# (tests/vm/build.sh crash) the data disk (vda) sits under
# dm-log-writes, which logs every write to the log disk (vdb) in the
# order it reached stable storage; ext4 on it holds two LU files that
# tandemd (the tree's) serves, one write_through, one write-back.
# crashwriter, through the guest's own iSCSI initiator on 127.0.0.1,
# writes stamped blocks: plain writes to the write-through LU, FUA
# writes, writes + SYNCHRONIZE CACHE and writes + fdatasync to the
# write-back LU, then writes with no flush at all (the negative
# control), and puts a mark in the log after each batch. Then on the
# host, in user space (the host kernel has no dm and mounts no ext4):
#
#   a. logreplay replays the whole log onto a zeroed image: it must
#      equal the data disk byte for byte (the replay is right);
#   b. for every mark: logreplay rebuilds the power-loss state at the
#      mark (up to its last FLUSH, plus the FUA writes after it), e2fsck
#      replays ext4's journal (as a mount after a crash would) and must
#      leave a consistent filesystem, debugfs extracts the two LU files,
#      and crashwriter -c checks that every write acknowledged as stable
#      before the mark is there (that write or a later one in each block,
#      never an older one, zeros or garbage); the writes that were not
#      stable are counted, with those that are missing;
#   c. the checks have teeth: the negative control's writes are missing
#      at their marks (and crashwriter -N, counting them as stable,
#      fails), a block overwritten behind the writer's back is caught,
#      a replay stopped one mark early is caught; logreplay refuses a
#      truncated or corrupt log with a precise message, writing nothing.
#
# Prints "N passed, N failed"; exit 0 only when nothing failed. Root;
# about 40 s (the guest runs under TCG). Environment: TANDEMD (the
# tree's tandemd; its libraries must be in the guest: build.sh's XLIBS
# of the crash flavour), CRASHWRITER (static) and LOGREPLAY (built here with cc
# when unset), CRASH_MARKS (15), CRASH_PER_BATCH (16), LAB_KEEP=1 keeps
# the lab directory.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/vm/solo.bash
[ -x "$TANDEMD" ] || { echo "SKIP: $TANDEMD not built"; exit 77; }

MARKS=${CRASH_MARKS:-15}
PER=${CRASH_PER_BATCH:-16}
DATA_MB=64
LOG_MB=256
KINDS=(fua sync fsync)
CD=
SOLO_DUMP='dmesg | tail -40; echo "== tandemd.log"; tail -30 /tmp/tandemd.log'

# host_tools: e2fsck and debugfs (e2fsprogs), crashwriter, logreplay
host_tools() {
	command -v e2fsck >/dev/null && command -v debugfs >/dev/null ||
		"$LAB_SRC/scripts/apt-install.sh" e2fsprogs || return 1
	if [ -z "${CRASHWRITER:-}" ] || [ ! -x "$CRASHWRITER" ]; then
		CRASHWRITER=$LAB_DIR/crashwriter
		cc -O2 -Wall -Wextra -Werror -static -o "$CRASHWRITER" \
			"$VM_SRC/crashwriter.c" || return 1
	fi
	if [ -z "${LOGREPLAY:-}" ] || [ ! -x "$LOGREPLAY" ]; then
		LOGREPLAY=$LAB_DIR/logreplay
		cc -O2 -Wall -Wextra -Werror -o "$LOGREPLAY" \
			"$VM_SRC/logreplay.c" "$VM_SRC/lwlog.c" || return 1
	fi
}

echo "== the guest: dm-log-writes, ext4 and tandemd"
solo_guest crash "$TANDEMD"
host_tools || { ko "e2fsprogs, crashwriter or logreplay missing"; finish; }
CD=$LAB_DIR/crash
mkdir -p "$CD"
truncate -s ${DATA_MB}M "$CD/data.img"
truncate -s ${LOG_MB}M "$CD/log.img"
solo_files "$CD" "$TANDEMD" "$CRASHWRITER" "$VM_SRC/guest/crash" ||
	{ ko "the guest's files"; finish; }
VM_QEMU_EXTRA=(-drive "file=$CD/data.img,format=raw,if=virtio,cache=writeback"
	-drive "file=$CD/log.img,format=raw,if=virtio,cache=writeback")
solo_boot "data disk ${DATA_MB} MiB, log disk ${LOG_MB} MiB"

gstep "dm-log-writes over the data disk, ext4 on it, the LUs' files created (marks mkfs, setup)" 120 "crash setup"
grep -q '^vda write_cache: write back' <<<"$VM_OUT" && grep -q '^lw write_cache: write back' <<<"$VM_OUT" &&
	ok "the data disk and the log-writes device have a volatile cache: FLUSH and FUA reach dm-log-writes" ||
	ko "the data disk's cache: FLUSH/FUA would be dropped before dm-log-writes"
t0=$(date +%s%N)
vm_run 120 "crash serve"
indent "|" "$VM_OUT"
if [ "$VM_RC" = 0 ]; then
	ok "tandemd serves the two LUs, the guest's initiator logged in ($(secs "$t0") s)"
else
	ko "tandemd or the login: status $VM_RC"
	finish
fi
WT=$(kv wt "$VM_OUT")
WB=$(kv wb "$VM_OUT")
WT=${WT#/dev/}
WB=${WB#/dev/}
grep -q "\[$WT\] Write cache: disabled" <<<"$VM_OUT" &&
	ok "sd sees the write_through LU without a volatile cache (WCE=0): $WT" ||
	ko "sd's view of the write_through LU ($WT)"
grep -q "\[$WB\] Write cache: enabled.*supports DPO and FUA" <<<"$VM_OUT" &&
	ok "sd sees the write-back LU with a volatile cache and FUA (WCE=1, DPOFUA=1): $WB" ||
	ko "sd's view of the write-back LU ($WB)"

echo "== the writes: $MARKS batches of $PER writes per class, a mark after each"
t0=$(date +%s%N)
vm_run 600 "crash write -m $MARKS -k $PER"
W_OUT=$VM_OUT
indent ">" "$W_OUT"
W_S=$(secs "$t0")
grep -q '^lu=wt .* wce=0 ' <<<"$W_OUT" && grep -q '^lu=wb .* wce=1 dpofua=1$' <<<"$W_OUT" &&
	ok "MODE SENSE through SG_IO: write_through LU WCE=0, write-back LU WCE=1 DPOFUA=1" ||
	ko "MODE SENSE: the LUs' cache bits"
if [ "$VM_RC" = 0 ] && grep -q '^result=ok' <<<"$W_OUT" && [ "$(kv io_errors "$W_OUT")" = 0 ]; then
	ok "crashwriter: $(kv writes "$W_OUT") writes acknowledged (wt $(kv wt "$W_OUT"), fua $(kv fua "$W_OUT"), sync $(kv sync "$W_OUT"), fsync $(kv fsync "$W_OUT"), none $(kv none "$W_OUT")), $(kv sync_caches "$W_OUT") SYNCHRONIZE CACHE, $(kv fdatasyncs "$W_OUT") fdatasync, $MARKS marks, 0 I/O errors in $W_S s"
	FIG+=("writes: $(grep '^writes=' <<<"$W_OUT")")
else
	ko "crashwriter: status $VM_RC"
	finish
fi
vm_run 60 "cat /tmp/crash.journal"
printf '%s\n' "$VM_OUT" >"$CD/journal"
[ "$VM_RC" = 0 ] && [ "$(grep -c '^[WF] ' "$CD/journal")" = "$(kv writes "$W_OUT")" ] &&
	ok "the journal copied to the host: $(grep -c '^[WF] ' "$CD/journal") writes" ||
	{ ko "the journal: status $VM_RC, $(wc -l <"$CD/journal") lines"; finish; }
gstep "tandemd stopped (no sanitizer report), ext4 unmounted, the log-writes device removed" 60 "crash stop"
if grep -q 'logging_disabled' <<<"$VM_OUT"; then
	ko "dm-log-writes stopped logging (log full or an error): the log is incomplete"
else
	ok "dm-log-writes logged to the end: $(grep -m1 'lw status' <<<"$VM_OUT" | sed 's/.*log-writes //') (entries, highest sector)"
fi
vm_run 10 "(sleep 1; poweroff -f) </dev/null >/dev/null 2>&1 &"
t0=$(date +%s%N)
for ((i = 0; i < 300; i++)); do
	lab_alive "$VM_PID" || break
	sleep 0.1
done
if lab_alive "$VM_PID"; then
	ko "the guest did not power off in 30 s"
	lab_kill_node 0 KILL
else
	ok "the guest powered off ($(secs "$t0") s)"
fi
VM_BROKEN="the guest is off"

echo "== a. the replay tool against the data disk"
LIST=$("$LOGREPLAY" -l "$CD/log.img" -L 2>&1)
indent "|" "$(grep -v '^mark ' <<<"$LIST")"
nm=0
for ((k = 1; k <= MARKS; k++)); do
	grep -q "^mark entry=[0-9]* name=$(printf 'b%02d' "$k")\$" <<<"$LIST" && nm=$((nm + 1))
done
[ "$nm" = "$MARKS" ] && grep -q ' name=dm-log-writes-end$' <<<"$LIST" &&
	ok "the log holds the $MARKS marks and the driver's end mark" ||
	ko "marks in the log: $nm of $MARKS: $(grep '^mark ' <<<"$LIST" | tr '\n' ' ')"
FIG+=("log: $(grep '^log=' <<<"$LIST" | cut -d' ' -f2-), $(du -m --apparent-size "$CD/log.img" | cut -f1) MiB file, $(du -m "$CD/log.img" | cut -f1) MiB used")
truncate -s ${DATA_MB}M "$CD/full.img"
if out=$("$LOGREPLAY" -l "$CD/log.img" -r "$CD/full.img" -a 2>&1) &&
	cmp -s "$CD/full.img" "$CD/data.img"; then
	ok "every entry replayed onto zeros gives the data disk byte for byte ($out)"
else
	ko "the whole log replayed differs from the data disk: $out; $(cmp "$CD/full.img" "$CD/data.img" 2>&1 | head -1)"
fi
rm -f "$CD/full.img"

echo "== b. the power-loss state at each mark: replay, e2fsck, the stable writes"
# at_mark K [CHECKMARK] [crashwriter options]: replay to mark bK,
# e2fsck, extract the LUs (CD/wt.img, CD/wb.img), crashwriter -c
# (CHECKMARK: the mark to check against, default K); its output in
# CHK, its status in CHK_RC; the steps' failures in AT_ERR
at_mark() {
	local k=$1 m=${2:-$1} name img=$CD/m.img f
	shift
	[ $# -gt 0 ] && shift
	name=$(printf 'b%02d' "$k")
	AT_ERR=
	rm -f "$img" "$CD/wt.img" "$CD/wb.img"
	truncate -s ${DATA_MB}M "$img"
	REPLAY=$("$LOGREPLAY" -l "$CD/log.img" -r "$img" -m "$name" 2>&1) ||
		{ AT_ERR="logreplay: $REPLAY"; return 1; }
	FSCK=$(e2fsck -fy "$img" 2>&1)
	FSCK_RC=$?
	[ "$FSCK_RC" -le 1 ] || { AT_ERR="e2fsck -fy: status $FSCK_RC: $FSCK"; return 1; }
	FSCK2=$(e2fsck -fn "$img" 2>&1) || { AT_ERR="e2fsck -fn after the repair: $FSCK2"; return 1; }
	for f in wt wb; do
		debugfs -R "dump /$f.img $CD/$f.img" "$img" >/dev/null 2>&1
		[ -s "$CD/$f.img" ] || { AT_ERR="debugfs could not dump /$f.img"; return 1; }
	done
	CHK=$("$CRASHWRITER" -c -j "$CD/journal" -M "$m" "$@" "$CD/wt.img" "$CD/wb.img" 2>&1)
	CHK_RC=$?
}
tot_stable=0
tot_later=0
tot_unstable=0
tot_unmiss=0
neg_mark=
declare -A per_cls=()
t_check=$(date +%s%N)
for ((k = 1; k <= MARKS; k++)); do
	kind=${KINDS[$(((k - 1) % 3))]}
	if ! at_mark "$k"; then
		ko "mark b$(printf '%02d' "$k"): $AT_ERR"
		continue
	fi
	[ "$k" = 1 ] && indent "e2fsck>" "$FSCK"
	fix=$(grep -cE '\? yes$' <<<"$FSCK")
	line=$(grep '^mark=' <<<"$CHK")
	if [ "$CHK_RC" = 0 ] && [ "$(kv missing "$line")" = 0 ] && [ "$(kv garbage "$line")" = 0 ]; then
		ok "mark b$(printf '%02d' "$k") ($kind batch): replayed to entry $(kv mark_entry "$REPLAY") (last flush $(kv last_flush_entry "$REPLAY"), $(kv fua "$REPLAY") FUA writes, $(kv volatile_skipped "$REPLAY") volatile left out); e2fsck: $(grep -qi 'recovering journal' <<<"$FSCK" && echo "journal replayed, ")$fix fixes, then clean; $(kv verified "$line") of $(kv stable_writes "$line") stable writes there (wt $(kv wt "$line"), fua $(kv fua "$line"), sync $(kv sync "$line"), fsync $(kv fsync "$line"), none made stable later $(kv none "$line")), $(kv later "$line") of them through a later write, 0 missing, 0 garbage; not stable: $(kv unstable_writes "$line") writes, $(kv unstable_missing "$line") missing"
	else
		ko "mark b$(printf '%02d' "$k") ($kind batch): $(kv missing "$line") of $(kv stable_writes "$line") stable writes missing ($(kv older "$line") of them older data), $(kv garbage "$line") garbage blocks (crashwriter -c status $CHK_RC)"
		indent "!" "$CHK"
	fi
	tot_stable=$((tot_stable + $(num verified "$line")))
	tot_later=$((tot_later + $(num later "$line")))
	tot_unstable=$((tot_unstable + $(num unstable_writes "$line")))
	tot_unmiss=$((tot_unmiss + $(num unstable_missing "$line")))
	for c in wt fua sync fsync none; do
		per_cls[$c]=$((${per_cls[$c]:-0} + $(num "$c" "$line")))
	done
	[ -z "$neg_mark" ] && [ "$(num unstable_missing "$line")" -gt 0 ] && neg_mark=$k
done
FIG+=("marks checked: $MARKS; stable writes verified over all marks: $tot_stable (wt ${per_cls[wt]}, fua ${per_cls[fua]}, sync ${per_cls[sync]}, fsync ${per_cls[fsync]}, none after a later flush ${per_cls[none]}; $tot_later of them through a later write), 0 missing wanted")
FIG+=("negative control: $tot_unmiss of $tot_unstable write-checks of writes not stable at their mark found missing")
FIG+=("the checks at $MARKS marks (replay, e2fsck twice, debugfs, crashwriter -c): $(secs "$t_check") s")

echo "== c. the checks have teeth"
if [ "$tot_unmiss" -gt 0 ]; then
	ok "the negative control: $tot_unmiss of $tot_unstable checks of writes acknowledged without FUA or SYNCHRONIZE CACHE found them missing at the mark (never stable: reported, not a failure)"
else
	ko "the negative control: no write acknowledged without a flush was missing at any mark ($tot_unstable checked): the check could not be shown to see a lost write"
fi
if [ -n "$neg_mark" ] && at_mark "$neg_mark" "$neg_mark" -N; then
	line=$(grep '^mark=' <<<"$CHK")
	[ "$CHK_RC" = 1 ] && [ "$(num missing "$line")" -gt 0 ] &&
		ok "counted as stable (-N), the unflushed writes at mark b$(printf '%02d' "$neg_mark") fail the check: $(kv missing "$line") missing, exit 1; $(grep -m1 '^missing' <<<"$CHK")" ||
		ko "crashwriter -N at mark $neg_mark: status $CHK_RC: $line"
else
	ko "crashwriter -N: no mark to run it at ($AT_ERR)"
fi
if [ "$MARKS" -ge 2 ] && at_mark $((MARKS - 1)) "$MARKS"; then
	line=$(grep '^mark=' <<<"$CHK")
	[ "$CHK_RC" = 1 ] && [ "$(num missing "$line")" -gt 0 ] &&
		ok "the state at mark b$(printf '%02d' $((MARKS - 1))) checked as b$(printf '%02d' "$MARKS") (a replay one mark short): $(kv missing "$line") stable writes missing, exit 1" ||
		ko "a replay one mark short was not caught: status $CHK_RC: $line"
fi
if at_mark "$MARKS"; then
	# a block of a stable write-through write, overwritten with other bytes
	lba=$(awk '$1 == "W" && $3 == "wt" && $8 > 0 {b = $5} END {print b}' "$CD/journal")
	head -c 4096 /dev/urandom | dd of="$CD/wt.img" bs=4096 seek="$lba" conv=notrunc status=none
	CHK=$("$CRASHWRITER" -c -j "$CD/journal" -M "$MARKS" "$CD/wt.img" "$CD/wb.img" 2>&1)
	CHK_RC=$?
	line=$(grep '^mark=' <<<"$CHK")
	[ "$CHK_RC" = 1 ] && [ "$(num garbage "$line")" = 1 ] && [ "$(num missing "$line")" -ge 1 ] &&
		ok "a block of the write_through LU overwritten behind the writer's back (block $lba): 1 garbage block, $(kv missing "$line") stable write(s) missing, exit 1" ||
		ko "the overwritten block was not caught: status $CHK_RC: $line"
else
	ko "mark b$(printf '%02d' "$MARKS") for the overwrite test: $AT_ERR"
fi

# bad logs: a precise error, exit 2, nothing written to the image
bad_log() {
	local desc=$1 want=$2 out rc
	truncate -s 0 "$CD/bad.img"
	truncate -s ${DATA_MB}M "$CD/bad.img"
	out=$("$LOGREPLAY" -l "$CD/bad.log" -r "$CD/bad.img" -m "${3:-b01}" 2>&1)
	rc=$?
	if [ "$rc" = 2 ] && grep -q -- "$want" <<<"$out" && cmp -s -n $((DATA_MB << 20)) "$CD/bad.img" /dev/zero; then
		ok "logreplay on $desc: exit 2, image untouched: $out"
	else
		ko "logreplay on $desc: status $rc: $out"
	fi
}
# put_le64 FILE OFFSET VALUE: a little-endian 64-bit field
put_le64() {
	perl -e 'print pack("Q<", $ARGV[0])' "$3" |
		dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
entries=$(kv entries "$(grep '^log=' <<<"$LIST")")
cp --sparse=always "$CD/log.img" "$CD/bad.log"
truncate -s $((4096 * 8)) "$CD/bad.log"
bad_log "a log cut after 32 KiB (of its $entries entries)" "truncated"
cp --sparse=always "$CD/log.img" "$CD/bad.log"
printf 'X' | dd of="$CD/bad.log" bs=1 seek=0 conv=notrunc status=none
bad_log "a log whose magic is damaged" "not a dm-log-writes log"
cp --sparse=always "$CD/log.img" "$CD/bad.log"
put_le64 "$CD/bad.log" $((512 + 16)) 128
bad_log "a log whose first entry has unknown flags" "entry 0 at byte 512: unknown flags 0x80"
cp --sparse=always "$CD/log.img" "$CD/bad.log"
put_le64 "$CD/bad.log" 512 $((1 << 40))
bad_log "a log whose first entry lies past the device" "entry 0 at byte 512: sectors 1099511627776+.* beyond the device"
# the log cut where its last entry ends, its super block announcing one
# entry more
used=$(kv log_bytes "$(grep '^log=' <<<"$LIST")")
cp --sparse=always "$CD/log.img" "$CD/bad.log"
truncate -s "$used" "$CD/bad.log"
put_le64 "$CD/bad.log" 16 $((entries + 1))
bad_log "a log whose super block announces one entry more than it holds" "entry $entries at byte $used: truncated: the log ends"
cp --sparse=always "$CD/log.img" "$CD/bad.log"
bad_log "a mark the log does not hold" "no mark 'b99'" b99
rm -f "$CD/bad.log" "$CD/bad.img" "$CD/m.img"
finish
