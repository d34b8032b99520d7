#!/bin/bash
# blockdev.sh - the block backstore (vdisk_blockio) on a real loop device:
# a 128 MiB file attached with losetup, served by tandemd, checked with a
# subset of libiscsi's conformance suite (zero failures), and data written
# through iSCSI compared with what dd reads from the loop device directly
# (and the other way round). The loop device is detached at the end, also
# on failure.
# Port: 3420.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/common.sh
. tests/func/funclib.bash

port=3420
need_tandemd
need_hold
command -v iscsi-test-cu >/dev/null || skip "iscsi-test-cu not installed (apt-get install libiscsi-bin)"
command -v losetup >/dev/null || skip "losetup not installed (util-linux)"
[ -e /dev/loop-control ] || skip "no /dev/loop-control: loop devices unavailable here"

tdm_tmpdir
loopdev=
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	tdm_cleanup
	if [ -n "$loopdev" ]; then
		losetup -d "$loopdev" && echo "detached $loopdev"
	fi
}
trap cleanup EXIT
img=$TDM_TMP/blk.img
truncate -s 128M "$img"
if ! loopdev=$(losetup -f --show "$img" 2>"$TDM_TMP/losetup.err"); then
	loopdev=
	skip "losetup -f --show failed: $(cat "$TDM_TMP/losetup.err")"
fi
echo "loop device: $loopdev"
iqn=iqn.2026-11.org.tandem:blockdev
conf=$TDM_TMP/tandem.conf
log=$TDM_TMP/tandemd.log
cat >"$conf" <<CONF
HANDLER vdisk_blockio {
	DEVICE blk0 {
		filename $loopdev
		blocksize 512
	}
}
TARGET_DRIVER iscsi {
	enabled 1
	portal 127.0.0.1:$port
	TARGET $iqn {
		enabled 1
		rel_tgt_id 1
		LUN 0 blk0
	}
}
CONF
start_wait "$conf" "$log" $port || { fail "tandemd did not start"; end_test "$log"; }
pass "tandemd serves $loopdev"
url=iscsi://127.0.0.1:$port/$iqn/0

# capacity: 128 MiB of 512-byte blocks
cap=$(iscsi-readcapacity16 "$url" 2>&1)
if grep -q "Total size:134217728" <<<"$cap"; then
	pass "READ CAPACITY(16): 128 MiB"
else
	fail "READ CAPACITY(16): $cap"
fi

# a fair subset of the conformance suite
tests=SCSI.TestUnitReady,SCSI.ReadCapacity10,SCSI.ReadCapacity16
tests+=,SCSI.Read10,SCSI.Read16,SCSI.Write10,SCSI.Write16,SCSI.Read6
tests+=,SCSI.WriteVerify10,SCSI.Verify10,SCSI.Verify16
tests+=,SCSI.Prefetch10,SCSI.Prefetch16
timeout 300 iscsi-test-cu -V --dataloss --test="$tests" "$url" >"$TDM_TMP/cu.raw" 2>&1
echo "iscsi-test-cu exit $?"
# A suite's cleanup prints its own notes ("[SKIPPED] PERSISTENT RESERVE IN
# is not implemented.") on the line of the suite's last test, after its
# "passed"/"FAILED": put them on a line of their own so that cu_summary.py
# sees the result (it then counts that test as skipped: never more honest).
sed -E 's/(^|\.\.\.)(passed|FAILED)[[:space:]]+(\[[A-Z]+\])/\1\2\n    \3/' \
	"$TDM_TMP/cu.raw" >"$TDM_TMP/cu.log"
if python3 tests/conformance/cu_summary.py "$TDM_TMP/cu.log" --min-honest 60 \
	--select "$tests" --flagged tests/conformance/flagged.txt; then
	pass "iscsi-test-cu subset on the block backstore: no failure"
else
	fail "iscsi-test-cu subset on the block backstore"
fi

# iSCSI -> loop device
lba=20000
n=4096 # 2 MiB
seed=$((RANDOM + 7))
if "${HELPER_ENV[@]}" "$HOLD" --write --seed $seed --lba $lba --blocks $n --chunk 128 "$url"; then
	"${HELPER_ENV[@]}" "$HOLD" --gen --seed $seed --lba $lba --blocks $n --blocksize 512 >"$TDM_TMP/expect.bin"
	dd if="$loopdev" iflag=direct bs=512 skip=$lba count=$n of="$TDM_TMP/got.bin" status=none
	if cmp "$TDM_TMP/expect.bin" "$TDM_TMP/got.bin"; then
		pass "2 MiB written through iSCSI read back from $loopdev with dd (O_DIRECT)"
	else
		fail "the loop device does not hold what was written through iSCSI"
	fi
else
	fail "writing the pattern through iSCSI failed"
fi

# loop device -> iSCSI
lba=90000
seed=$((seed + 1))
"${HELPER_ENV[@]}" "$HOLD" --gen --seed $seed --lba $lba --blocks $n --blocksize 512 >"$TDM_TMP/direct.bin"
if dd if="$TDM_TMP/direct.bin" of="$loopdev" oflag=direct bs=512 seek=$lba conv=notrunc status=none &&
	"${HELPER_ENV[@]}" "$HOLD" --verify --seed $seed --lba $lba --blocks $n --chunk 128 "$url"; then
	pass "2 MiB written to $loopdev with dd read back through iSCSI"
else
	fail "data written to the loop device is not what iSCSI reads"
fi

# the end of the device
last=$(( 128 * 1024 * 1024 / 512 - 8 ))
seed=$((seed + 1))
if "${HELPER_ENV[@]}" "$HOLD" --write --fua --seed $seed --lba $last --blocks 8 "$url" &&
	"${HELPER_ENV[@]}" "$HOLD" --gen --seed $seed --lba $last --blocks 8 --blocksize 512 >"$TDM_TMP/tail.bin" &&
	dd if="$loopdev" iflag=direct bs=512 skip=$last count=8 status=none | cmp - "$TDM_TMP/tail.bin"; then
	pass "the last 8 blocks (FUA write) reach the loop device"
else
	fail "the last 8 blocks written with FUA are not on the loop device"
fi

finish_daemon "$log"
end_test "$log"
