#!/bin/bash
# access.sh - access control at login and discovery, and the identity an LU
# presents across restarts and across heads:
#  - refuse_unmatched_initiators 1: an initiator that no GROUP names cannot
#    log in and does not see the target in SendTargets; one that a GROUP
#    names logs in and sees it; a target without the option still takes
#    every initiator;
#  - INQUIRY, VPD 0x80 and 0x83 of every LU are byte-identical after a
#    restart with the devices listed in another order at another portal,
#    and from a second daemon running under another hostname (a second
#    head); a device of another name has other designators.
# Ports: 3520-3522.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/common.sh
. tests/func/funclib.bash

need_tandemd
command -v iscsi-ls >/dev/null || skip "iscsi-ls not installed (apt-get install libiscsi-bin)"
command -v iscsi-inq >/dev/null || skip "iscsi-inq not installed (apt-get install libiscsi-bin)"

tdm_tmpdir
trap tdm_cleanup EXIT
T=$TDM_TMP
pfx=iqn.2026-11.org.tandem:access
ini=iqn.2026-11.org.example
truncate -s 16M "$T/d1.img"

# conf PORT ORDER: the same devices, listed in ORDER (ab or ba)
conf() {
	local port=$1 order=$2
	local a="	DEVICE disk_a {
		filename $T/d1.img
	}" b="	DEVICE disk_b {
		filename $T/d1.img
		read_only 1
	}"
	echo "HANDLER vdisk_fileio {"
	if [ "$order" = ab ]; then printf '%s\n%s\n' "$a" "$b"; else printf '%s\n%s\n' "$b" "$a"; fi
	cat <<CONF
}
HANDLER ram {
	DEVICE disk_c {
		size 4194304
		t10_dev_id tandem-c
		usn C0FFEE
		naa_id 6001405abcdef0123456789abcdef012
	}
}
TARGET_DRIVER iscsi {
	enabled 1
	portal 127.0.0.1:$port
	TARGET $pfx:closed {
		enabled 1
		rel_tgt_id 1
		refuse_unmatched_initiators 1
		LUN 0 disk_a
		GROUP hosts {
			LUN 0 disk_a
			LUN 1 disk_c
			INITIATOR $ini:good*
			INITIATOR !$ini:good-but-not
		}
	}
	TARGET $pfx:open {
		enabled 1
		rel_tgt_id 2
		LUN 0 disk_b
		LUN 1 disk_c
	}
}
CONF
}

conf 3520 ab >"$T/a.conf"
log=$T/tandemd.log
start_wait "$T/a.conf" "$log" 3520 || { fail "tandemd did not start"; end_test "$log"; }
pass "tandemd started"

# ---- logins ----
inq() { # INITIATOR PORT TARGET LUN [iscsi-inq args]
	local i=$1 port=$2 t=$3 l=$4
	shift 4
	timeout 30 iscsi-inq -i "$i" "$@" "iscsi://127.0.0.1:$port/$pfx:$t/$l" 2>&1
}
if out=$(inq "$ini:good1" 3520 closed 1); then
	pass "a GROUP's initiator logs in to the closed target"
else
	fail "a GROUP's initiator cannot log in: $out"
fi
# refused: a login response with status 0202 (RFC 7143 11.13.5:
# "Authorization failure"), not a timeout or a dropped connection
for who in "$ini:stranger" "$ini:good-but-not"; do
	if out=$(inq "$who" 3520 closed 0); then
		fail "$who logged in to the closed target"
	elif grep -q "Status: Authorization failure(514)" <<<"$out"; then
		pass "$who is refused by the closed target (login status 0202)"
	else
		fail "$who: no login reject from the closed target: $out"
	fi
done
grep -q "initiator not allowed" "$log" &&
	pass "the log says why the login was refused" ||
	fail "no 'initiator not allowed' in the log"
if out=$(inq "$ini:stranger" 3520 open 0); then
	pass "a target without the option takes any initiator"
else
	fail "the open target refused a stranger: $out"
fi

# ---- discovery ----
listed() { # INITIATOR -> the TargetNames that SendTargets gave
	timeout 30 iscsi-ls -i "$1" "iscsi://127.0.0.1:3520" 2>&1 |
		sed -n 's/^Target:\([^ ]*\) .*/\1/p' | sort
}
got=$(listed "$ini:good7" | tr '\n' ' ')
[ "$got" = "$pfx:closed $pfx:open " ] &&
	pass "SendTargets shows both targets to a GROUP's initiator" ||
	fail "SendTargets to a GROUP's initiator: '$got'"
got=$(listed "$ini:stranger" | tr '\n' ' ')
[ "$got" = "$pfx:open " ] &&
	pass "SendTargets hides the closed target from a stranger" ||
	fail "SendTargets to a stranger: '$got'"

# ---- identity ----
# ident PORT TARGET LUN: standard INQUIRY, VPD 0x80 and 0x83, decoded
ident() {
	local p=$1 t=$2 l=$3
	{
		inq "$ini:good1" "$p" "$t" "$l"
		# iscsi-inq takes the page code in decimal
		inq "$ini:good1" "$p" "$t" "$l" -e 1 -c 128
		inq "$ini:good1" "$p" "$t" "$l" -e 1 -c 131
	}
}
# the designators of every device, as one initiator sees them
snap() { # PORT OUT
	ident "$1" closed 0 >"$2.a"
	ident "$1" open 0 >"$2.b"
	ident "$1" closed 1 >"$2.c"
}
snap 3520 "$T/id1"
grep -q "Designator Type:(3) NAA" "$T/id1.a" &&
	grep -q "Designator Type:(3) NAA" "$T/id1.c" &&
	pass "VPD 0x83 carries NAA designators" ||
	fail "no NAA designator in VPD 0x83: $(cat "$T/id1.a")"
# iscsi-inq prints the NAA designator's bytes raw
od -An -tx1 "$T/id1.c" | tr -d ' \n' | grep -q "6001405abcdef0123456789abcdef012" &&
	pass "naa_id is the designator given" ||
	fail "disk_c's NAA is not its naa_id"
grep -q "Unit Serial Number:\[C0FFEE\]" "$T/id1.c" &&
	pass "usn is the unit serial number given" ||
	fail "disk_c's serial is not its usn: $(grep Serial "$T/id1.c")"
grep -q "T10_VENDORT_ID" "$T/id1.c" && grep -q "Designator:\[TANDEM  tandem-c\]" "$T/id1.c" &&
	pass "t10_dev_id is the T10 vendor id designator given" ||
	fail "disk_c's T10 designator: $(grep -A1 T10_VENDOR "$T/id1.c")"
if cmp -s <(grep -a -A1 "NAA\|Serial" "$T/id1.a") <(grep -a -A1 "NAA\|Serial" "$T/id1.b"); then
	fail "disk_a and disk_b share designators"
else
	pass "two devices on the same file have different designators"
fi

stop_within 15
[ "$STOP_RC" = 0 ] && pass "stopped" || fail "stop: $STOP_RC"

# restarted, devices in another order, another portal
conf 3521 ba >"$T/b.conf"
start_wait "$T/b.conf" "$T/tandemd2.log" 3521 || { fail "restart failed"; end_test "$T/tandemd2.log"; }
snap 3521 "$T/id2"
for x in a b c; do
	if cmp -s "$T/id1.$x" "$T/id2.$x"; then
		pass "disk_$x: identical INQUIRY, VPD 0x80, 0x83 after a restart in another order"
	else
		fail "disk_$x changed across a restart: $(diff "$T/id1.$x" "$T/id2.$x" | head -5)"
	fi
done

# a second head: another daemon under another hostname (UTS namespace)
conf 3522 ab >"$T/c.conf"
# shellcheck disable=SC2016 # $0 and $@ are sh -c's own
unshare --uts sh -c 'hostname tandem-other-head && exec "$0" "$@"' \
	"$TANDEMD" --foreground --config "$T/c.conf" \
	--control-socket "$T/ctl2.sock" >"$T/tandemd3.log" 2>&1 &
head2=$!
TDM_PIDS+=("$head2")
if wait_port 127.0.0.1 3522 20; then
	snap 3522 "$T/id3"
	for x in a b c; do
		if cmp -s "$T/id1.$x" "$T/id3.$x"; then
			pass "disk_$x: identical identification on a head with another hostname"
		else
			fail "disk_$x differs on the second head: $(diff "$T/id1.$x" "$T/id3.$x" | head -5)"
		fi
	done
else
	fail "the second head did not start: $(tail -5 "$T/tandemd3.log")"
fi
kill -TERM "$head2" 2>/dev/null
wait "$head2" 2>/dev/null
forget_pid "$head2"
sanitizer_clean "$T/tandemd3.log" || fail "sanitizer report in the second head's log"

finish_daemon "$T/tandemd2.log"
end_test "$T/tandemd2.log"
