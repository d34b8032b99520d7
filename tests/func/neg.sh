#!/bin/bash
# neg.sh - negative tests of the iSCSI target: tests/func/iscsi_neg (our own
# raw-socket initiator) sends malformed PDUs, bad login sequences, CHAP
# failures, digest errors, out-of-range CDBs, CmdSN window violations and
# garbage to a tandemd serving a plain, a CHAP and a mutual-CHAP target;
# then tandemd must still run, stop on SIGTERM with status 0, and its log
# must hold no sanitizer report. Names that are not iSCSI names (a newline
# and a forged line in them) are refused, and what a peer sent shows in
# the log escaped, never as a line of its own.
# Port: 3400.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/common.sh
. tests/func/funclib.bash

port=3400
need_tandemd
[ -x "$NEG" ] || skip "no $NEG (built by tests/func/local.mk when libiscsi is found)"

tdm_tmpdir
trap tdm_cleanup EXIT
conf=$TDM_TMP/tandem.conf
log=$TDM_TMP/tandemd.log
cat >"$conf" <<CONF
HANDLER ram {
	DEVICE negplain {
		size 67108864
		blocksize 512
	}
	DEVICE negchap {
		size 16777216
		blocksize 512
	}
	DEVICE negmutual {
		size 16777216
		blocksize 512
	}
}
TARGET_DRIVER iscsi {
	enabled 1
	portal 127.0.0.1:$port
	TARGET iqn.2026-11.org.tandem:neg-plain {
		enabled 1
		rel_tgt_id 1
		# small, so that oversized data segments and R2T sequences
		# of several Data-Out PDUs are exercised
		MaxRecvDataSegmentLength 8192
		LUN 0 negplain
	}
	TARGET iqn.2026-11.org.tandem:neg-chap {
		enabled 1
		rel_tgt_id 2
		IncomingUser "neguser negsecret1234"
		LUN 0 negchap
	}
	TARGET iqn.2026-11.org.tandem:neg-mutual {
		enabled 1
		rel_tgt_id 3
		IncomingUser "neguser negsecret1234"
		OutgoingUser "negtarget tgtsecret5678"
		LUN 0 negmutual
	}
}
CONF

start_wait "$conf" "$log" $port || { fail "tandemd did not start"; end_test "$log"; }
pass "tandemd started"

timeout 300 "${HELPER_ENV[@]}" "$NEG" --host 127.0.0.1 --port $port \
	--plain iqn.2026-11.org.tandem:neg-plain \
	--chap iqn.2026-11.org.tandem:neg-chap \
	--mutual iqn.2026-11.org.tandem:neg-mutual \
	--user neguser --secret negsecret1234 \
	--target-user negtarget --target-secret tgtsecret5678 \
	>"$TDM_TMP/neg.tap" 2>&1
rc=$?
cat "$TDM_TMP/neg.tap"
nok=$(grep -c '^ok ' "$TDM_TMP/neg.tap")
nnot=$(grep -c '^not ok ' "$TDM_TMP/neg.tap")
if [ $rc -eq 0 ] && [ "$nnot" -eq 0 ] && [ "$nok" -gt 40 ]; then
	pass "iscsi_neg: $nok cases passed"
else
	fail "iscsi_neg: exit $rc, $nok passed, $nnot failed"
fi

# a peer's bytes (names, CHAP user names) never start a line of the log;
# where the log quotes them, they are escaped (lib/escape.h)
if grep -n '^FORGED' "$log"; then
	fail "a peer forged a line of tandemd's log"
else
	pass "no line of the log starts with what a peer sent"
fi
for q in "bad InitiatorName 'iqn.2026-11.org.tandem:neg\x0aFORGED-LOG-LINE'" \
	"bad TargetName 'iqn.2026-11.org.tandem:neg-plain\x0aFORGED-LOG-LINE'" \
	"user 'neguser\x0aFORGED-CHAP-LINE'"; do
	if grep -qF -- "$q" "$log"; then
		pass "the log quotes it escaped: $q"
	else
		fail "not in the log: $q"
	fi
done

finish_daemon "$log"
end_test "$log"
