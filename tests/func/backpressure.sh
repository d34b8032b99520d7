#!/bin/bash
# backpressure.sh - a logged-in initiator that never reads its Data-In:
#  (a) 1000 immediate READs of 1 MiB (immediate commands go around the
#      CmdSN window): tandemd's RSS grows by at most 160 MiB (without
#      bounds, by about 1 GiB); over 16 at once they are rejected with
#      reason 0x06 (RFC 7143 11.17.1); another session works meanwhile;
#      once the client reads, every command is answered;
#  (b) READs of 8 MiB filling the CmdSN window (128, 1 GiB of Data-In),
#      never read: RSS grows by at most 160 MiB (the Data-In budget stops
#      reading the connection), another session works, and the target
#      drops the connection once its NOP-In goes unanswered;
#  (c) the same with the client's sending side shut down while tandemd
#      has stopped reading it: tandemd does not spin (CPU under 30 %).
# Port: 3462.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/common.sh
. tests/func/funclib.bash

port=3462
need_tandemd
[ -x "$NEG" ] || skip "no $NEG (built by tests/func/local.mk when libiscsi is found)"
tdm_tmpdir
trap tdm_cleanup EXIT
T=$TDM_TMP
TF=iqn.2026-11.org.tandem:bp-flood
TS=iqn.2026-11.org.tandem:bp-slow
neg() { "${HELPER_ENV[@]}" "$NEG" --port $port "$@"; }

cat >"$T/t.conf" <<CONF
HANDLER ram {
	DEVICE b0 {
		size 16777216
	}
}
TARGET_DRIVER iscsi {
	enabled 1
	portal 127.0.0.1:$port
	TARGET $TF {
		enabled 1
		rel_tgt_id 1
		LUN 0 b0
	}
	# pings every second, 2 s to answer: a client that does not read
	# is dropped within seconds
	TARGET $TS {
		enabled 1
		rel_tgt_id 2
		NopInInterval 1
		NopInTimeout 2
		LUN 0 b0
	}
}
CONF
log=$T/tandemd.log
start_wait "$T/t.conf" "$log" $port || {
	fail "tandemd did not start"
	end_test "$log"
}

rss() { awk '/^VmRSS:/ { print int($2 / 1024) }' "/proc/$TANDEMD_PID/status"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$TANDEMD_PID/stat"; }

# watch PID: the largest RSS (MiB) while PID runs, into $T/peak
watch_rss() {
	local peak=0 r
	while kill -0 "$1" 2>/dev/null; do
		r=$(rss)
		[ "${r:-0}" -gt "$peak" ] && peak=$r
		sleep 0.1
	done
	echo "$peak" >"$T/peak"
}

# flood NAME LIMIT TARGET ARGS...: the flood runs, RSS is watched, and
# another session must work while the flood holds its data unread
flood() {
	local name=$1 limit=$2 tgt=$3 base fpid wpid peak
	shift 3
	neg --plain "$tgt" --scenario serves >/dev/null 2>&1 # warm up
	base=$(rss)
	neg --plain "$tgt" --scenario flood "$@" >"$T/$name.tap" 2>&1 &
	fpid=$!
	watch_rss $fpid &
	wpid=$!
	sleep 2
	if neg --plain "$TF" --scenario serves >"$T/$name.other" 2>&1; then
		pass "$name: another session logs in and reads meanwhile"
	else
		fail "$name: another session meanwhile: $(cat "$T/$name.other")"
	fi
	wait $fpid
	FRC=$?
	wait $wpid
	peak=$(cat "$T/peak")
	grep '^# flood' "$T/$name.tap" | sed 's/^/   /'
	if [ $((peak - base)) -le "$limit" ]; then
		pass "$name: RSS $base MiB before, $peak MiB at most (+$((peak - base)), limit +$limit)"
	else
		fail "$name: RSS $base MiB before, $peak MiB at most (+$((peak - base)), limit +$limit)"
	fi
}

# (a) immediate commands, read back after 4 s
flood immediate 160 "$TF" --immediate --count 1000 --edtl 1048576 --hold-ms 4000 --drain
[ "$FRC" -eq 0 ] && pass "immediate: $(grep '^ok' "$T/immediate.tap" | tr '\n' ' ')" ||
	fail "immediate: $(grep -v '^#' "$T/immediate.tap" | tr '\n' ' ')"

# (b) the CmdSN window full of 8 MiB READs, never read
flood window 160 "$TS" --count 128 --edtl 8388608 --hold-ms 8000 --close-ms 5000
[ "$FRC" -eq 0 ] && pass "window: $(grep '^ok' "$T/window.tap")" ||
	fail "window: $(grep -v '^#' "$T/window.tap" | tr '\n' ' ')"
grep -q "NOP-In ping timed out" "$log" && pass "window: tandemd says why it dropped it" ||
	fail "window: no NOP-In timeout in the log"

# (c) paused, then half-closed by the client: no busy loop
neg --plain "$TS" --scenario flood --count 16 --edtl 8388608 --hold-ms 3000 \
	--close-ms 5000 --half-close >"$T/half.tap" 2>&1 &
fpid=$!
sleep 1
c0=$(cpu_ticks)
sleep 2
c1=$(cpu_ticks)
wait $fpid
hz=$(getconf CLK_TCK)
if [ $(((c1 - c0) * 100 / (2 * hz))) -lt 30 ]; then
	pass "half-closed while not read: tandemd used $((c1 - c0)) ticks of $((2 * hz)) in 2 s"
else
	fail "half-closed while not read: tandemd used $((c1 - c0)) ticks of $((2 * hz)) in 2 s"
fi

finish_daemon "$log"
end_test "$log"
