#!/bin/bash
# rbd_heads.sh - three heads exporting the same two Ceph RBD images
# active/active (issue 17; docs/scale-out.md), on a real Ceph cluster in
# the namespace lab (tests/cluster/ceph.bash: a monitor, a manager and
# three OSDs from Debian's packages) with corosync and tandem-agentd on
# every head:
#   1. configuration errors name what is wrong: pool, image, user, key,
#      an unreachable cluster (within rbd_timeout), an image with the
#      exclusive-lock feature;
#   2. the designators come from the image, not the device's name: a
#      head alone exporting lu0 as "other" presents the ones the cluster
#      presents for it as lu0 (kept in the image's metadata,
#      tandem.identity); every head serves both LUs, every group
#      active/optimized, the same designators on every head; tandemctl
#      opens an RBD device at run time and refuses a missing image;
#   3. a write through one head is read through the two others (no
#      cache anywhere), UNMAP reads back zeros on another head;
#   4. ATS: three clients, one per head, take a COMPARE AND WRITE lock
#      and add one to a counter under it: the counter is the sum of the
#      acquisitions (no lost update), no client found the lock taken
#      from it (no two holders);
#   5. a persistent reservation taken through head 1 holds on heads 2
#      and 3: the key is read through head 3, another initiator's write
#      through heads 2 and 3 and the holder's own through an unregistered
#      port (head 3) get RESERVATION CONFLICT; released through head 1;
#   6. `rbd resize` of an image: every head reports the new capacity and
#      a held session gets CAPACITY DATA HAS CHANGED;
#   7. iscsi-test-cu --dataloss against LU 1 through heads 1 and 2 (RBD_CU=0
#      skips it), counted by tests/conformance/cu_summary.py: no failure,
#      at least 200 honest passes;
#   8. a verifying writer (mpclient) through head 1 while head 3 is
#      killed: no pause beyond 1 s, nothing lost; then through heads 1
#      and 2 while head 1 is killed: it moves to head 2, every
#      acknowledged write read back;
#   9. an OSD killed under the writer: I/O goes on, nothing lost;
#  10. the monitor cut off while OSDs stay reachable: I/O goes on; the
#      whole Ceph cluster cut off: a write ends within rbd_timeout + 5 s
#      with NOT READY, BECOMING READY (2/04/01), TEST UNIT READY is still
#      answered meanwhile; after the heal writes succeed again.
# Prints "N passed, N failed"; exit 0 only when nothing failed. Root.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/cluster/lab.sh
. tests/cluster/ceph.bash
. tests/cluster/checks.bash
lab_need_daemons
: "${MPCLIENT:=$(dirname "$SCSITOOL")/mpclient}"
[ -x "$MPCLIENT" ] || { echo "SKIP: $MPCLIENT not built (needs libiscsi-dev)"; exit 77; }
: "${RBD_CU:=1}"
: "${RBD_TIMEOUT:=8}"
ceph_need || { echo "FAIL: cannot install the Ceph packages"; exit 1; }
if ! ldd "$TANDEMD" | grep -q librbd; then
	echo "SKIP: $TANDEMD was built without librbd (configure found no librbd-dev)"
	exit 77
fi
A=iqn.2026-11.org.example:host-a
B=iqn.2026-11.org.example:host-b
T0=$(date +%s)
since() { echo "$(($(date +%s) - T0)) s"; }

# rbd_conf I [NAME0]: head I's tandem.conf: images lu0 and lu1 as devices
# lu0 (or NAME0) and lu1, LUN 0 and 1. The agent orders reservations and
# ALUA changes by device name: a device has the same name on every head.
rbd_conf() {
	local i=$1 k name
	echo "HANDLER vdisk_rbd {"
	for k in 0 1; do
		name=lu$k
		[ $k = 0 ] && name=${2:-lu0}
		cat <<EOF
	DEVICE $name {
		pool $CEPH_POOL
		image lu$k
		ceph_conf $CEPH_CONF
		ceph_id tandem
		thin_provisioned 1
		rbd_timeout $RBD_TIMEOUT
	}
EOF
	done
	echo "}"
	lab_iscsi_target "$i" "${2:-lu0}" lu1
	cat <<EOF

DEVICE_GROUP dg {
	DEVICE ${2:-lu0}
	DEVICE lu1
EOF
	lab_tgroups "$i" tg active
	echo "}"
}

# bad_conf NAME ATTRS...: a one-device configuration for head 1 with
# pool/image/ceph_* as given
bad_conf() {
	local a
	echo "HANDLER vdisk_rbd {"
	echo "	DEVICE bad {"
	for a in "$@"; do
		echo "		$a"
	done
	echo "	}"
	echo "}"
}

# refused DESC WANT ATTRS...: tandemd on head 1 with that device exits
# non-zero within rbd_timeout + 15 s, its message containing WANT
refused() {
	local desc=$1 want=$2 f out rc
	shift 2
	f=$LAB_DIR/bad.conf
	bad_conf "$@" >"$f"
	out=$(node_exec 1 timeout 60 "$TANDEMD" -f -c "$f" -s /run/tandem/bad.sock 2>&1)
	rc=$?
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && grep -qF -- "$want" <<<"$out"; then
		ok "$desc: refused: $(grep -m1 -F -- "$want" <<<"$out" | cut -c1-220)"
	else
		ko "$desc: rc=$rc, wanted '$want': $(tail -3 <<<"$out" | tr '\n' ' ' | cut -c1-400)"
	fi
}

scsi() { # I INI CMD...: scsitool through head I as initiator INI, LUN
	# ${LUN:-0}; the new nexus' POWER ON unit attention retried
	local i=$1 ini=$2
	shift 2
	client_exec "$SCSITOOL" -r -i "$ini" -t 30 "$(lab_url "$i" "${LUN:-0}")" "$@"
}

lab_up 3 || exit 1
echo "== Ceph: a monitor, a manager and three OSDs"
ceph_up 3 || { ko "ceph_up failed"; lab_down; echo "$PASSED passed, $FAILED failed"; exit 1; }
ok "Ceph up and clean ($(since))"
ceph_exec rbd create --size 64M --image-feature layering "$CEPH_POOL/lu0" &&
	ceph_exec rbd create --size 64M --image-feature layering "$CEPH_POOL/lu1" &&
	ceph_exec rbd create --size 16M "$CEPH_POOL/locked" &&
	ok "images lu0, lu1 (layering only) and locked (Ceph's default features) created" ||
	ko "rbd create failed"

echo "== 1. configuration errors"
P="pool $CEPH_POOL"
C="ceph_conf $CEPH_CONF"
refused "a pool that does not exist" "pool nosuch: no such pool" "pool nosuch" "image lu0" "$C" "ceph_id tandem"
refused "an image that does not exist" "image $CEPH_POOL/nosuch: no such image" "$P" "image nosuch" "$C" "ceph_id tandem"
refused "an unknown user" "cannot connect to Ceph as client.nosuch" "$P" "image lu0" "$C" "ceph_id nosuch"
printf '[client.tandem]\n\tkey = AQBnqVRnAAAAABAAqlJ0c3x1uN3bbAgpcLr0eA==\n' >"$LAB_DIR/wrong.keyring"
refused "a wrong key" "the monitors refused this user's key" "$P" "image lu0" "$C" "ceph_id tandem" \
	"ceph_keyring $LAB_DIR/wrong.keyring"
refused "a configuration file that does not exist" "ceph_conf /nonexistent/ceph.conf" "$P" "image lu0" \
	"ceph_conf /nonexistent/ceph.conf" "ceph_id tandem"
sed "s/^mon_host = .*/mon_host = [v2:$LAB_NET.99:3300,v1:$LAB_NET.99:6789]/" "$CEPH_CONF" >"$LAB_DIR/nomon.conf"
t0=$(date +%s)
refused "monitors that do not answer (rbd_timeout 4)" "no monitor answered" "$P" "image lu0" \
	"ceph_conf $LAB_DIR/nomon.conf" "ceph_id tandem" "rbd_timeout 4"
el=$(($(date +%s) - t0))
[ "$el" -le 15 ] && ok "given up after $el s (rbd_timeout 4)" || ko "gave up after $el s with rbd_timeout 4"
refused "an image with exclusive-lock" "has the exclusive-lock feature" "$P" "image locked" "$C" "ceph_id tandem"

echo "== 2. the identity follows the image; three heads, all active/optimized"
d=$(lab_ndir 1)
rbd_conf 1 other >"$d/alone.conf"
TANDEMD_AGENT_OPT='' tandemd_start 1 "$d/alone.conf"
wait_portal 1 60 || ko "head 1 alone does not listen: $(tail -3 "$d/tandemd.log")"
naa_alone=$(scsi 1 $A inquiry | grep -m1 '^naa=')
daemon_kill 1 tandemd TERM
[ -n "$naa_alone" ] && ok "head 1 alone, lu0 exported as device 'other': $naa_alone" ||
	ko "no designator from head 1 alone"
lab_start_corosync_all
for i in 1 2 3; do
	wait_quorate $i 20 || ko "head $i: corosync not quorate"
done
for i in 1 2 3; do
	d=$(lab_ndir $i)
	rbd_conf $i >"$d/tandem.conf"
	agentd_start $i
	tandemd_start $i "$d/tandem.conf"
done
for i in 1 2 3; do
	if wait_portal $i 60 && wait_serving $i 30; then
		ok "head $i serves with its agent ($(since))"
	else
		ko "head $i does not serve: $(tail -5 "$(lab_ndir $i)/tandemd.log")"
	fi
done
naa=()
for i in 1 2 3; do
	out=$(scsi $i $A inquiry)
	naa[i]=$(grep -m1 '^naa=' <<<"$out")
	rt=$(scsi $i $A rtpg)
	n_ao=$(grep -c '^tpg id=[0-9]* state=0 ' <<<"$rt")
	[ "$n_ao" = 3 ] && ok "head $i: RTPG has three groups, all active/optimized" ||
		ko "head $i: RTPG: $(tr '\n' ' ' <<<"$rt")"
done
[ -n "${naa[1]}" ] && [ "${naa[1]}" = "${naa[2]}" ] && [ "${naa[1]}" = "${naa[3]}" ] &&
	[ "${naa[1]}" = "$naa_alone" ] &&
	ok "the same designator on every head, and as device 'other' before: ${naa[1]}" ||
	ko "designators differ: ${naa[*]}, alone as 'other': $naa_alone"
id=$(ceph_exec rbd image-meta get "$CEPH_POOL/lu0" tandem.identity 2>&1)
grep -qE '^[0-9a-f-]{36}/[0-9]+/[0-9a-f]+$' <<<"$id" &&
	ok "the identity is kept in the image's metadata: tandem.identity=$id" ||
	ko "tandem.identity of lu0: $id"

ctl() { # I ARGS...: tandemctl of head I
	local i=$1
	shift
	node_exec "$i" "$TANDEMCTL" -s "$LAB_CTL_SOCK" "$@" 2>&1
}
out=$(ctl 1 -open_dev extra -handler vdisk_rbd \
	-attributes "pool=$CEPH_POOL,image=lu1,ceph_conf=$CEPH_CONF,ceph_id=tandem,read_only=1")
out2=$(ctl 1 -list_dev_attr extra)
grep -q 'image *lu1' <<<"$out2" && grep -q 'ceph_id *tandem' <<<"$out2" &&
	ok "tandemctl -open_dev of an RBD device at run time, -list_dev_attr shows pool, image, ceph_id" ||
	ko "tandemctl -open_dev extra: $out $(tr '\n' ' ' <<<"$out2")"
out=$(ctl 1 -open_dev extra2 -handler vdisk_rbd -attributes "pool=$CEPH_POOL,image=nosuch,ceph_conf=$CEPH_CONF,ceph_id=tandem")
grep -q 'image rbd/nosuch: no such image' <<<"$out" &&
	ok "tandemctl -open_dev of a missing image refused: $(head -1 <<<"$out")" ||
	ko "tandemctl -open_dev of a missing image: $out"
ctl 1 -close_dev extra >/dev/null || ko "tandemctl -close_dev extra"

echo "== 3. coherence: written through one head, read through the others"
scsi 1 $A write 100 0xA5 | grep -q status=GOOD || ko "write through head 1"
bad=
for i in 2 3; do
	scsi $i $A read 100 | grep -q 'data=a5a5a5a5' || bad+=" head$i"
done
[ -z "$bad" ] && ok "a block written through head 1 is read through heads 2 and 3" || ko "stale on:$bad"
scsi 2 $A write 101 0x3C | grep -q status=GOOD || ko "write through head 2"
scsi 3 $A read 101 | grep -q 'data=3c3c3c3c' && ok "and one written through head 2 through head 3" ||
	ko "head 3 does not read head 2's write"

echo "== 4. ATS: a COMPARE AND WRITE lock taken through three heads at once"
N=${ATS_N:-150}
# the lock block 10 and the counter 11 were never written: the OSD
# compares against the zeros of an object that does not exist yet
for i in 1 2 3; do
	client_bg "$LAB_DIR/ats$i.log" "$SCSITOOL" -r -i "iqn.2026-11.org.example:ats$i" -t 30 \
		"$(lab_url $i 1)" ats "$N" "$i" 10 11
	echo "$LAB_PID" >"$LAB_DIR/ats$i.pid"
done
for i in 1 2 3; do
	p=$(cat "$LAB_DIR/ats$i.pid")
	lab_wait 330 sh -c "! kill -0 $p 2>/dev/null" || ko "ats client $i still running"
done
acq=0
viol=0
err=0
cont=0
for i in 1 2 3; do
	l=$(grep '^ats ' "$LAB_DIR/ats$i.log")
	echo "   head $i: $l"
	a=$(sed -n 's/.*acquired=\([0-9]*\).*/\1/p' <<<"$l")
	acq=$((acq + ${a:-0}))
	viol=$((viol + $(sed -n 's/.*violations=\([0-9]*\).*/\1/p' <<<"$l" || echo 1)))
	err=$((err + $(sed -n 's/.*errors=\([0-9]*\).*/\1/p' <<<"$l" || echo 1)))
	cont=$((cont + $(sed -n 's/.*contended=\([0-9]*\).*/\1/p' <<<"$l" || echo 0)))
done
ctr_hex=$(LUN=1 scsi 1 $A read 11 | sed -n 's/^data=\(................\).*/\1/p')
ctr=$((16#${ctr_hex:-0}))
[ "$acq" = $((3 * N)) ] && [ "$err" = 0 ] && ok "every client took the lock $N times, no error" ||
	ko "acquisitions $acq of $((3 * N)), errors $err"
[ "$viol" = 0 ] && ok "no two holders (violations 0; $cont attempts found the lock taken)" ||
	ko "$viol violations: the lock was found taken from its holder"
[ "$ctr" = "$acq" ] && ok "no lost update: the counter is $ctr = the acquisitions" ||
	ko "the counter is $ctr, acquisitions $acq (lost updates)"
[ "$cont" -gt 0 ] && ok "the clients did contend ($cont miscompares)" ||
	ko "no contention at all: the test did not test the lock"

echo "== 5. a persistent reservation through head 1 holds on heads 2 and 3"
LUN=0
scsi 1 $A register-ignore 0xA1 | grep -q status=GOOD &&
	scsi 1 $A reserve 0xA1 wr_ex | grep -q status=GOOD &&
	ok "initiator A registered and reserved (write exclusive) through head 1" ||
	ko "register/reserve through head 1"
scsi 3 $B read-keys | grep -q 'key=0xa1' && ok "its key is read through head 3" ||
	ko "the key through head 3: $(scsi 3 $B read-keys | tr '\n' ' ')"
bad=
for i in 2 3; do
	scsi $i $B write 200 0x11 | grep -q status=RESERVATION_CONFLICT || bad+=" head$i"
done
[ -z "$bad" ] && ok "another initiator's write through heads 2 and 3: RESERVATION CONFLICT" ||
	ko "no conflict on:$bad"
scsi 3 $A write 200 0x12 | grep -q status=RESERVATION_CONFLICT &&
	ok "the holder's own write through head 3 (a port it did not register): RESERVATION CONFLICT" ||
	ko "the holder's write through head 3 was not refused"
scsi 1 $A write 200 0x13 | grep -q status=GOOD && ok "the holder writes through head 1" ||
	ko "the holder's write through head 1 refused"
scsi 1 $A clear 0xA1 | grep -q status=GOOD && ok "PR cleared through head 1" || ko "clear through head 1"
scsi 2 $B write 200 0x14 | grep -q status=GOOD && ok "B writes through head 2 once cleared" ||
	ko "B's write through head 2 after the clear"

echo "== 6. rbd resize: every head follows"
hold_sessions 6000 1 2 3
ceph_exec rbd resize --size 96M "$CEPH_POOL/lu0" >/dev/null 2>&1 || ko "rbd resize failed"
for h in "${HELD[@]}"; do
	lab_wait 15 sh -c "! kill -0 ${h#*:} 2>/dev/null" || true
done
bad=
for h in "${HELD[@]}"; do
	tail -1 "$LAB_DIR/held${h%%:*}.log" | grep -q 'sense=6/2a/09' ||
		bad+=" head ${h%%:*} [$(tr '\n' ' ' <"$LAB_DIR/held${h%%:*}.log")]"
done
[ -z "$bad" ] && ok "a session held on every head got CAPACITY DATA HAS CHANGED (6/2A/09)" ||
	ko "no capacity unit attention:$bad"
bad=
for i in 1 2 3; do
	c=$(scsi $i $A readcap | grep -o 'blocks=[0-9]*')
	[ "$c" = "blocks=$((96 * 2048))" ] || bad+=" head$i:$c"
done
[ -z "$bad" ] && ok "READ CAPACITY on every head: $((96 * 2048)) blocks (96 MiB)" ||
	ko "capacity after the resize:$bad"

echo "== 7. iscsi-test-cu --dataloss through heads 1 and 2 (LU 1)"
if [ "$RBD_CU" = 1 ]; then
	log=$LAB_DIR/cu.log
	t1=$(date +%s)
	client_exec timeout 900 iscsi-test-cu -V --dataloss --test=ALL "$(lab_url 1 1)" "$(lab_url 2 1)" >"$log" 2>&1
	# counted as tests/conformance/iscsi-test-cu.sh counts: a failure,
	# a test without result, an unclassified [FAILED] line or fewer than
	# 200 honest passes (200 measured with -V) fail it
	if sum=$(python3 tests/conformance/cu_summary.py "$log" --min-honest 200 \
		--flagged tests/conformance/flagged.txt 2>&1); then
		ok "$(tail -1 <<<"$sum") ($(($(date +%s) - t1)) s)"
	else
		ko "iscsi-test-cu: $(grep -A20 '^FAILED tests' <<<"$sum" | head -20 | tr '\n' ' ') $(tail -1 <<<"$sum")"
	fi
else
	echo "SKIP: iscsi-test-cu (RBD_CU=0)"
fi

# mp_run LOG SECS URL...: mpclient in the background (region 512
# blocks at LBA 4096 of LU 0)
mp_run() {
	local log=$1 secs=$2
	shift 2
	client_bg "$log" "$MPCLIENT" -i "iqn.2026-11.org.example:mp" -l 4096 -n 512 -t 2 -s "$secs" "$@"
	MP_PID=$LAB_PID
}
# mp_end DESC LOG: wait for it; verified > 0, nothing missing or stale
mp_end() {
	local desc=$1 log=$2 l
	lab_wait 120 sh -c "! kill -0 $MP_PID 2>/dev/null" || ko "$desc: mpclient still running"
	l="$(grep -E '^(writes|verified)' "$log" | tr '\n' ' ')"
	MP_GAP=$(sed -n 's/.*max_gap_ms=\([0-9]*\).*/\1/p' "$log")
	if grep -q '^result=PASS' "$log"; then
		ok "$desc: every acknowledged write read back: $l"
	else
		ko "$desc: $l $(grep -m5 '^bad' "$log" | tr '\n' ' ')"
	fi
}
# head_restart I: corosync, tandem-agentd and tandemd of head I again
head_restart() {
	corosync_start "$1"
	wait_quorate "$1" 20 || ko "head $1: corosync not quorate after the restart"
	agentd_start "$1"
	tandemd_start "$1" "$(lab_ndir "$1")/tandem.conf"
	wait_portal "$1" 60 && wait_serving "$1" 30 && ok "head $1 serves again" ||
		ko "head $1 does not serve after the restart: $(tail -3 "$(lab_ndir "$1")/tandemd.log")"
}

echo "== 8. heads killed under a verifying writer"
LUN=0
mp_run "$LAB_DIR/mp1.log" 12 "$(lab_url 1)"
sleep 4
node_kill 3
mp_end "writer through head 1, head 3 killed" "$LAB_DIR/mp1.log"
[ -n "$MP_GAP" ] && [ "$MP_GAP" -lt 1000 ] && ok "the writer through head 1 did not pause (longest gap $MP_GAP ms)" ||
	ko "the writer through head 1 paused ${MP_GAP:-?} ms while head 3 died"
head_restart 3
mp_run "$LAB_DIR/mp2.log" 14 "$(lab_url 1)" "$(lab_url 2)"
sleep 4
node_kill 1
mp_end "writer through heads 1 and 2, head 1 killed" "$LAB_DIR/mp2.log"
grep -q '^switch .*from=A to=B' "$LAB_DIR/mp2.log" &&
	ok "the writer moved to head 2: $(grep -E '^pause from=A to=B' "$LAB_DIR/mp2.log" | head -1)" ||
	ko "no switch to head 2: $(grep -E '^(switch|pause|path)' "$LAB_DIR/mp2.log" | tr '\n' ' ')"
head_restart 1

echo "== 9. an OSD killed under the writer"
mp_run "$LAB_DIR/mp3.log" 25 "$(lab_url 2)" "$(lab_url 3)"
sleep 5
ceph_osd_kill 1
ceph_osd_down_wait 1 30 && ok "osd.1 killed and marked down" || ko "osd.1 not marked down in 30 s"
sleep 5
ceph_osd_start 1
mp_end "writer through heads 2 and 3, osd.1 killed and restarted" "$LAB_DIR/mp3.log"
echo "   longest gap between two acknowledged writes: ${MP_GAP:-?} ms"
[ -n "$MP_GAP" ] && [ "$MP_GAP" -lt $((RBD_TIMEOUT * 1000)) ] &&
	ok "I/O went on (longest gap $MP_GAP ms, under rbd_timeout ${RBD_TIMEOUT} s)" ||
	ko "I/O stalled ${MP_GAP:-?} ms"
ceph_wait_clean 120 && ok "Ceph clean again after osd.1's restart (${CEPH_WAITED:-?} s)" ||
	ko "Ceph not clean 120 s after osd.1's restart"

echo "== 10. the monitor, then the whole Ceph cluster, cut off"
mp_run "$LAB_DIR/mp4.log" 15 "$(lab_url 1)"
sleep 3
ceph_mon_cut
sleep 8
ceph_mon_heal
mp_end "writer through head 1 while the monitor was cut off 8 s" "$LAB_DIR/mp4.log"
[ -n "$MP_GAP" ] && [ "$MP_GAP" -lt 2000 ] && ok "I/O went on without the monitor (longest gap $MP_GAP ms)" ||
	ko "I/O paused ${MP_GAP:-?} ms without the monitor"
ceph_cut_all
t0=$(date +%s%N)
out=$(scsi 2 $A write 300 0x77)
el=$((($(date +%s%N) - t0) / 1000000))
grep -q 'sense=2/04/01' <<<"$out" && [ "$el" -le $(((RBD_TIMEOUT + 5) * 1000)) ] &&
	ok "a write with Ceph cut off: NOT READY, BECOMING READY after $el ms (rbd_timeout ${RBD_TIMEOUT} s)" ||
	ko "a write with Ceph cut off, after $el ms: $(tr '\n' ' ' <<<"$out")"
out=$(scsi 3 $A tur)
grep -q 'status=GOOD' <<<"$out" && ok "TEST UNIT READY answered meanwhile (the head does not hang)" ||
	ko "TEST UNIT READY with Ceph cut off: $(tr '\n' ' ' <<<"$out")"
ceph_heal_all
ok_after=
for ((k = 0; k < 60; k++)); do
	scsi 2 $A write 300 0x78 | grep -q status=GOOD && { ok_after=$k; break; }
	sleep 1
done
[ -n "$ok_after" ] && ok "writes succeed again ${ok_after} s after the heal" || ko "no write succeeded within 60 s of the heal"
scsi 1 $A read 300 | grep -q 'data=78787878' && ok "and are read back through another head" ||
	ko "the write after the heal is not read through head 1"

echo "$PASSED passed, $FAILED failed ($(since))"
lab_sanitizer_check
lab_down
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
