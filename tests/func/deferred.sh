#!/bin/bash
# deferred.sh - deferred_open (scsi/backing.c): a block device that can be
# opened only while this head serves it, as DRBD's Secondary refuses
# every open. On the host, a loop device held open O_EXCL by another
# process of the test stands for it (tandemd's writable open fails with
# EBUSY; a DRBD 8.4 Secondary answers EROFS or EMEDIUMTYPE: the same path
# in tandemd). tandemd's target port group tg1 starts standby beside
# another head's active group.
#  (a) tandemd starts without opening the device (it is not in its open
#      files), -stats shows the backing detached; INQUIRY, and READ
#      CAPACITY with the size probed from sysfs (128 MiB), are answered;
#      TEST UNIT READY gets the standby sense (2/04/0B);
#  (b) -set_tgrp_state tg1 active while the device cannot be opened:
#      refused with the device, the path and the reason; tg1 stays
#      standby, the backing detached;
#  (c) the device writable ("promoted"): -set_tgrp_state tg1 active opens
#      it (open files, -stats), a block written through iSCSI is read
#      back through iSCSI and from the device itself;
#  (d) tg1 standby: the backing is closed (not in the open files, and an
#      exclusive open of the device succeeds, which DRBD's demote needs);
#  (e) tg1 active again under a writer (scsitool write-loop), then standby
#      while it writes: every write before the change GOOD, every one
#      after gets 2/04/0B (or 2/04/0C: past the gate before the change,
#      at the device after it closed; never a medium error), closed at
#      the end, the last GOOD block is on the device;
#  (f) an activation by another head's group (-activate_tgrp tg2) closes
#      ours too: state and backing follow every ALUA change;
#  (h) SET TARGET PORT GROUPS from the initiator makes tg1 active while
#      the device is held elsewhere: the group is active, the backing
#      not open (TEST UNIT READY 2/04/0C, logged once); once the holder
#      lets go, tandemd opens it by itself within seconds (retried every
#      second) and TEST UNIT READY is GOOD;
#  (g) configuration errors: deferred_open on vdisk_nullio refused with
#      file:line, deferred_open on a missing device refused at start
#      naming it.
# Port: 4150.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/common.sh
. tests/func/funclib.bash

port=4150
need_tandemd
[ -x "$TANDEMCTL" ] || skip "no tandemctl at $TANDEMCTL (build it first)"
SCSITOOL=${SCSITOOL:-$FUNC_BUILD/tests/cluster/scsitool}
[ -x "$SCSITOOL" ] || skip "no $SCSITOOL (needs libiscsi-dev at configure time)"
command -v losetup >/dev/null || skip "losetup not installed (util-linux)"
command -v blockdev >/dev/null || skip "blockdev not installed (util-linux)"
[ -e /dev/loop-control ] || skip "no /dev/loop-control: loop devices unavailable here"

tdm_tmpdir
T=$TDM_TMP
S=$T/ctl.sock
loopdev=
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	tdm_cleanup
	[ -n "$loopdev" ] && losetup -d "$loopdev" && echo "detached $loopdev"
}
trap cleanup EXIT
truncate -s 128M "$T/drbd.img"
if ! loopdev=$(losetup -f --show "$T/drbd.img" 2>"$T/losetup.err"); then
	loopdev=
	skip "losetup -f --show failed: $(cat "$T/losetup.err")"
fi
echo "loop device: $loopdev"
TA=iqn.2026-12.org.tandem:deferred
URL=iscsi://127.0.0.1:$port/$TA/0
ctl() { "$TANDEMCTL" -s "$S" "$@"; }
tool() { "${HELPER_ENV[@]}" "$SCSITOOL" -i iqn.2026-12.org.tandem:deferred-client --retry-ua "$URL" "$@" 2>&1; }
has() {
	if grep -qE -- "$2" <<<"$3"; then pass "$1"; else fail "$1: /$2/ not in: $3"; fi
}
# held: is the loop device among tandemd's open files?
held() {
	local f
	for f in /proc/"$TANDEMD_PID"/fd/*; do
		[ "$(readlink "$f" 2>/dev/null)" = "$loopdev" ] && return 0
	done
	return 1
}
backing() { ctl -stats d0 2>&1 | awk 'NR == 2 {print $NF}'; }
# excl: can the device be opened O_EXCL (nobody holds it; DRBD's demote
# needs no opener)?
excl() {
	python3 -c 'import os, sys; os.close(os.open(sys.argv[1], os.O_RDWR | os.O_EXCL))' "$loopdev" 2>&1
}
state_of() { ctl -list_dgrp 2>&1 | awk -v g="$1" '{for (i = 1; i < NF; i++) if ($i == g) {print $(i + 1); exit}}'; }
# hold_excl: another holder of the device (O_EXCL), as the peer's
# Primary keeps a Secondary from opening: until $T/release exists
hold_excl() {
	python3 -c 'import os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_EXCL)
open(sys.argv[2] + ".held", "w").close()
while not os.path.exists(sys.argv[2]):
    time.sleep(0.05)
os.close(fd)' "$loopdev" "$T/release" &
	HOLDER=$!
	TDM_PIDS+=("$HOLDER")
	for ((i = 0; i < 100; i++)); do
		[ -e "$T/release.held" ] && return 0
		sleep 0.05
	done
	return 1
}

cat >"$T/tandem.conf" <<EOF
HANDLER vdisk_blockio {
	DEVICE d0 {
		filename $loopdev
		deferred_open 1
	}
}
TARGET_DRIVER iscsi {
	enabled 1
	portal 127.0.0.1:$port
	TARGET $TA {
		enabled 1
		rel_tgt_id 1
		LUN 0 d0
	}
}
DEVICE_GROUP dg {
	DEVICE d0
	TARGET_GROUP tg1 {
		group_id 1
		state standby
		TARGET $TA
	}
	TARGET_GROUP tg2 {
		group_id 2
		preferred 1
		state active
		TARGET other-head-port {
			rel_tgt_id 9
		}
	}
}
EOF

hold_excl || fail "the test's exclusive holder of $loopdev did not start"
# (a)
start_wait "$T/tandem.conf" "$T/tandemd.log" $port || {
	fail "tandemd did not start with a device it cannot open"
	end_test "$T/tandemd.log"
}
pass "(a) tandemd started; d0 cannot be opened (another holder has it exclusively)"
held && fail "(a) tandemd holds $loopdev" || pass "(a) $loopdev is not among tandemd's open files"
[ "$(backing)" = detached ] && pass "(a) -stats d0: backing detached" || fail "(a) -stats: $(ctl -stats d0 2>&1)"
OUT=$(tool inquiry)
has "(a) INQUIRY answered (identity without the device)" "status=GOOD" "$OUT"
OUT=$(tool readcap)
has "(a) READ CAPACITY(16) on the standby port: the size from sysfs (262144 blocks of 512)" "^blocks=262144 block_size=512$" "$OUT"
OUT=$(tool tur)
has "(a) TEST UNIT READY: standby (2/04/0b)" "sense=2/04/0b" "$OUT"

# (b)
OUT=$(ctl -set_tgrp_state tg1 -dev_group dg -attributes state=active 2>&1)
rc=$?
[ $rc -ne 0 ] && grep -q "d0: $loopdev: Device or resource busy" <<<"$OUT" &&
	pass "(b) activation refused while the device cannot be opened (exit $rc): $OUT" ||
	fail "(b) -set_tgrp_state active: exit $rc: $OUT"
[ "$(state_of tg1)" = standby ] && pass "(b) tg1 still standby" || fail "(b) tg1: $(ctl -list_dgrp 2>&1)"
[ "$(backing)" = detached ] && ! held && pass "(b) backing still detached" || fail "(b) backing $(backing)"

# (c)
touch "$T/release"
wait "$HOLDER"
forget_pid "$HOLDER"
OUT=$(ctl -set_tgrp_state tg1 -dev_group dg -attributes state=active 2>&1) &&
	pass "(c) the other holder gone: tg1 active" || fail "(c) -set_tgrp_state active: $OUT"
held && [ "$(backing)" = open ] && pass "(c) tandemd opened $loopdev (-stats: open)" ||
	fail "(c) backing $(backing), held: $(held && echo yes || echo no)"
OUT=$(tool write 5 171)
has "(c) WRITE of block 5 (0xab) through iSCSI" "status=GOOD" "$OUT"
OUT=$(tool read 5)
has "(c) read back through iSCSI" "data=abababab" "$OUT"
b=$(dd if="$loopdev" bs=512 skip=5 count=1 iflag=direct 2>/dev/null | od -An -tx1 | head -1 | tr -d ' ')
[ "${b:0:8}" = abababab ] && pass "(c) and from $loopdev itself" || fail "(c) $loopdev block 5: $b"

# (d)
OUT=$(ctl -set_tgrp_state tg1 -dev_group dg -attributes state=standby 2>&1) &&
	pass "(d) tg1 standby" || fail "(d) -set_tgrp_state standby: $OUT"
for ((i = 0; i < 50; i++)); do
	[ "$(backing)" = detached ] && break
	sleep 0.1
done
[ "$(backing)" = detached ] && ! held && pass "(d) backing closed (-stats: detached, not among the open files)" ||
	fail "(d) backing $(backing)"
OUT=$(excl) && pass "(d) an exclusive open of $loopdev succeeds (a demote could run)" || fail "(d) O_EXCL: $OUT"
OUT=$(tool tur)
has "(d) TEST UNIT READY: standby again" "sense=2/04/0b" "$OUT"

# (e)
ctl -set_tgrp_state tg1 -dev_group dg -attributes state=active >/dev/null 2>&1 &&
	pass "(e) tg1 active again" || fail "(e) active"
tool tur >/dev/null
tool write-loop 5000 7 >"$T/loop.out" &
WL=$!
TDM_PIDS+=("$WL")
sleep 2
t0=$(date +%s%3N)
OUT=$(ctl -set_tgrp_state tg1 -dev_group dg -attributes state=standby 2>&1) &&
	pass "(e) tg1 standby under the writer" || fail "(e) standby: $OUT"
wait "$WL"
forget_pid "$WL"
L=$(cat "$T/loop.out")
while IFS= read -r l; do echo "    $l"; done <<<"$L"
good=$(sed -n 's/.* good=\([0-9]*\).*/\1/p' <<<"$L")
writes=$(sed -n 's/^writes=\([0-9]*\).*/\1/p' <<<"$L")
[ "${good:-0}" -gt 0 ] && pass "(e) $good of $writes writes GOOD before the change" || fail "(e) no GOOD write: $L"
# a write past the gate when the group changed, reaching the device after
# it closed, gets 2/04/0C (not served here): also a path error
bad=$(grep -E '^t=' <<<"$L" | grep -v 'status=GOOD' | grep -v 'sense=6/2a/06' | grep -v 'sense=2/04/0b' |
	grep -vc 'sense=2/04/0c')
[ "$bad" = 0 ] && pass "(e) after the change only the state change (6/2a/06), standby (2/04/0b) or not served here (2/04/0c), never a medium error" ||
	fail "(e) $bad other statuses"
lg=$(sed -n 's/.* last_good_ms=\([0-9]*\).*/\1/p' <<<"$L")
fb=$(sed -n 's/.* first_bad_ms=\([0-9]*\).*/\1/p' <<<"$L")
echo "    standby asked at $t0 ms; last GOOD $lg, first refused $fb"
for ((i = 0; i < 50; i++)); do
	[ "$(backing)" = detached ] && break
	sleep 0.1
done
[ "$(backing)" = detached ] && ! held && pass "(e) backing closed after the writer's requests" || fail "(e) backing $(backing)"
b=$(dd if="$loopdev" bs=512 skip=7 count=1 iflag=direct 2>/dev/null | od -An -tx1 | head -1 | tr -d ' ')
[ -n "$b" ] && [ "${b:0:2}" != 00 ] && pass "(e) the writer's block 7 is on the device ($b)" || fail "(e) block 7: $b"

# (f)
ctl -set_tgrp_state tg1 -dev_group dg -attributes state=active >/dev/null 2>&1
[ "$(backing)" = open ] && pass "(f) tg1 active: backing open" || fail "(f) backing $(backing)"
OUT=$(ctl -activate_tgrp tg2 -dev_group dg 2>&1) && pass "(f) -activate_tgrp tg2 (another head's group)" || fail "(f) $OUT"
for ((i = 0; i < 50; i++)); do
	[ "$(backing)" = detached ] && break
	sleep 0.1
done
[ "$(state_of tg1)" != active ] && [ "$(backing)" = detached ] && ! held &&
	pass "(f) tg1 $(state_of tg1): backing closed by the other group's activation" ||
	fail "(f) tg1 $(state_of tg1), backing $(backing)"
has "(f) log: opened and closed with the reason" "d0: backing $loopdev closed \(this head does not serve it\)" "$(cat "$T/tandemd.log")"

# (h)
rm -f "$T/release" "$T/release.held"
n0=$(grep -c "d0: backing not opened" "$T/tandemd.log")
hold_excl || fail "(h) the test's holder did not start"
OUT=$(tool stpg 1 ao)
has "(h) SET TARGET PORT GROUPS (tg1 active/optimized) from the initiator: GOOD" "status=GOOD" "$OUT"
[ "$(state_of tg1)" = active ] && [ "$(backing)" = detached ] &&
	pass "(h) tg1 active, the backing not open (held elsewhere)" || fail "(h) tg1 $(state_of tg1), backing $(backing)"
OUT=$(tool tur)
has "(h) TEST UNIT READY: 2/04/0c while it is not open" "sense=2/04/0c" "$OUT"
sleep 3
n=$(($(grep -c "d0: backing not opened" "$T/tandemd.log") - n0))
[ "$n" = 1 ] && pass "(h) the failed open logged once, though retried every second" || fail "(h) logged $n times"
touch "$T/release"
wait "$HOLDER"
forget_pid "$HOLDER"
for ((i = 0; i < 50; i++)); do
	[ "$(backing)" = open ] && break
	sleep 0.1
done
[ "$(backing)" = open ] && held && pass "(h) opened by the retry $((i / 10)).$((i % 10)) s after the holder let go" ||
	fail "(h) backing $(backing)"
OUT=$(tool tur)
has "(h) TEST UNIT READY: GOOD" "status=GOOD" "$OUT"

finish_daemon "$T/tandemd.log"

# (g)
cat >"$T/bad1.conf" <<EOF
HANDLER vdisk_nullio {
	DEVICE n0 {
		deferred_open 1
	}
}
EOF
OUT=$("$TANDEMD" --check --config "$T/bad1.conf" 2>&1)
rc=$?
[ $rc -ne 0 ] && grep -q "bad1.conf:3: DEVICE n0: deferred_open is only valid for vdisk_fileio and vdisk_blockio" <<<"$OUT" &&
	pass "(g) deferred_open on vdisk_nullio refused: $OUT" || fail "(g) nullio: exit $rc: $OUT"
sed "s|filename $loopdev|filename /dev/tandem-no-such-device|" "$T/tandem.conf" >"$T/bad2.conf"
OUT=$(timeout 20 "$TANDEMD" --foreground --config "$T/bad2.conf" --control-socket "$T/bad.sock" 2>&1)
rc=$?
[ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -q "/dev/tandem-no-such-device: No such file or directory" <<<"$OUT" &&
	pass "(g) a missing device refused at start (exit $rc)" || fail "(g) missing device: exit $rc: $OUT"
end_test "$T/tandemd.log"
