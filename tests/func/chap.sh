#!/bin/bash
# chap.sh - CHAP against guessing (iscsi/throttle.c) and its challenges:
#  (a) wrong answers from one address are answered more and more slowly:
#      at most 2 a second over 6 s, one connection after the other and 8
#      at once (without the throttle a raw client gets about 2000 a
#      second answered); the refusals are logged at most a few a second;
#  (b) meanwhile a right login from another address (127.0.0.2) is not
#      delayed, and one from the guessing address still gets in;
#  (c) when getrandom() fails (tests/func/fault_shim.c) a CHAP login is
#      refused with a target error before any challenge: no challenge
#      from anything but the kernel's random pool.
# Port: 3464.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/common.sh
. tests/func/funclib.bash

port=3464
need_tandemd
[ -x "$NEG" ] || skip "no $NEG (built by tests/func/local.mk when libiscsi is found)"
command -v cc >/dev/null || skip "no C compiler for tests/func/fault_shim.c"
tdm_tmpdir
trap tdm_cleanup EXIT
T=$TDM_TMP
TC=iqn.2026-11.org.tandem:chap-throttle
neg() { "${HELPER_ENV[@]}" "$NEG" --port $port --chap $TC --user guser --secret gsecret12345 "$@"; }

cat >"$T/t.conf" <<CONF
HANDLER ram {
	DEVICE c0 {
		size 16777216
	}
}
TARGET_DRIVER iscsi {
	enabled 1
	portal 127.0.0.1:$port
	TARGET $TC {
		enabled 1
		rel_tgt_id 1
		IncomingUser "guser gsecret12345"
		LUN 0 c0
	}
}
CONF
log=$T/tandemd.log
start_wait "$T/t.conf" "$log" $port || {
	fail "tandemd did not start"
	end_test "$log"
}

# (a) one guess after the other, then 8 at once
for p in 1 8; do
	neg --scenario chap-rate --seconds 6 --parallel $p --max-rate 2 >"$T/rate$p.tap" 2>&1
	rc=$?
	echo "   $(grep '^# chap-rate' "$T/rate$p.tap")"
	[ $rc -eq 0 ] && pass "guessing from $p connection(s): $(grep -m1 '^ok' "$T/rate$p.tap")" ||
		fail "guessing from $p connection(s): $(grep -v '^#' "$T/rate$p.tap" | head -3)"
done
n=$(wc -l <"$log")
[ "$n" -le 80 ] && pass "the log has $n lines after 12 s of guessing (rate limited)" ||
	fail "the log has $n lines after 12 s of guessing: $(grep -c 'refused (0x0201)' "$log") refusals"

# (b) a right answer from elsewhere does not wait; from the guesser, it
# waits its turn but gets in
tap_check neg --scenario chap-login --bind 127.0.0.2 --max-ms 1000
tap_check neg --scenario chap-login --max-ms 15000
grep -q "wrong CHAP response of user 'guser'" "$log" &&
	pass "the refusal names the CHAP user" || fail "no CHAP user in the refusals"
finish_daemon "$log"

# (c) no random bytes: no challenge
log2=$T/tandemd2.log
start_with_shim "$T/t.conf" "$log2" "$T/ctl2.sock" TDM_SHIM_GETRANDOM=11 ||
	fail "cannot build tests/func/fault_shim.c"
if wait_port 127.0.0.1 $port 20; then
	tap_check neg --scenario chap-refused
	grep -q "getrandom: Resource temporarily unavailable" "$log2" &&
		pass "tandemd says why" || fail "no getrandom error in the log"
	finish_daemon "$log2"
else
	fail "tandemd without random bytes did not start: $(tail -5 "$log2")"
fi
end_test "$log"
