#!/bin/bash
# daemon.sh - tandemd's life cycle:
#  (a) configuration errors: tandemd --check and a normal start refuse bad
#      configurations with "file:line: problem" and a non-zero status;
#      TARGET_DRIVER ib_srpt without RDMA/CM and scst_local without LIO's
#      configfs are refused with a message naming what is missing;
#  (b) SIGHUP reload under a live session (tests/func/hold_session doing
#      verified I/O, no reconnect allowed): a new LUN appears in REPORT
#      LUNS, the session gets REPORTED LUNS DATA HAS CHANGED (6/3F/0E); a
#      broken configuration is refused and changes nothing;
#  (c) SIGTERM during writes (plain, FUA, SYNCHRONIZE CACHE): the daemon
#      drains and exits 0 within seconds, and every acknowledged write is
#      in the backing file;
#  (d) the control socket: tandemctl -status, -list_sessions, -reload.
# Ports: 3410-3413.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/common.sh
. tests/func/funclib.bash

need_tandemd
tdm_tmpdir
trap tdm_cleanup EXIT
iqn=iqn.2026-11.org.tandem:daemon
T=$TDM_TMP

# ---- (a) configuration errors ----

echo "== (a) configuration errors"
truncate -s 1M "$T/small.img"
truncate -s 8M "$T/ok.img"

# bad_conf NAME MARKER-REGEX PROBLEM-REGEX CHECK(1/0): the config is in
# $T/NAME.conf; the line in the message must be one of those matching
# MARKER-REGEX ("" = any line number)
bad_conf() {
	local name=$1 marker=$2 problem=$3 check=$4 f=$T/$1.conf line want out rc
	if [ -n "$marker" ]; then
		line=$(grep -n -E "$marker" "$f" | cut -d: -f1 | paste -sd'|')
		want="$f:($line):"
	else
		want="$f:[0-9]+:"
	fi
	if [ "$check" = 1 ]; then
		out=$(timeout 20 "$TANDEMD" --check --config "$f" 2>&1)
		rc=$?
		if [ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -qE "$want" <<<"$out" &&
			grep -qiE "$problem" <<<"$out"; then
			pass "$name: --check exits $rc with \"$(grep -m1 -E "$want" <<<"$out")\""
		else
			fail "$name: --check exit $rc, expected non-zero and '$want' + /$problem/ in: $out"
		fi
	fi
	out=$(timeout 20 "$TANDEMD" --foreground --config "$f" \
		--control-socket "$T/bad.sock" 2>&1)
	rc=$?
	if [ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -qE "$want" <<<"$out" &&
		grep -qiE "$problem" <<<"$out"; then
		pass "$name: start exits $rc with \"$(grep -m1 -E "$want" <<<"$out")\""
	else
		fail "$name: start exit $rc (124 = still running after 20 s), expected non-zero and '$want' + /$problem/ in: $(tail -5 <<<"$out")"
	fi
}

# conf_with DEVICE-BODY [LUN-LINE]: a whole config around one fileio device
conf_with() {
	cat <<CONF
HANDLER vdisk_fileio {
	DEVICE d0 {
$1
	}
}
TARGET_DRIVER iscsi {
	enabled 1
	portal 127.0.0.1:3410
	TARGET $iqn {
		enabled 1
		${2:-LUN 0 d0}
	}
}
CONF
}

conf_with "		filename $T/ok.img
		frobnicate 1" >"$T/unknown_attr.conf"
bad_conf unknown_attr "frobnicate" "frobnicate" 1

conf_with "		filename $T/ok.img
		blocksize 1000" >"$T/blocksize_1000.conf"
bad_conf blocksize_1000 "blocksize 1000" "blocksize|1000" 1

conf_with "		filename $T/ok.img" "LUN 0 nosuchdev" >"$T/unknown_device.conf"
bad_conf unknown_device "LUN 0 nosuchdev" "nosuchdev" 1

conf_with "		filename $T/ok.img" >"$T/unterminated.conf"
# drop the last closing brace: the TARGET_DRIVER block never ends
sed -i '$d' "$T/unterminated.conf"
bad_conf unterminated "" "unterminated|end of file|eof|missing|expected|\}|not closed" 1

# backing-file problems: tandemd(8) says --check does not open backing
# files, so only a real start must refuse them
conf_with "		filename $T/no-such-file.img" >"$T/missing_file.conf"
bad_conf missing_file "DEVICE d0|no-such-file.img" "no-such-file|no such file|not found|exist" 0

conf_with "		filename $T/small.img
		size 8388608" >"$T/file_too_small.conf"
bad_conf file_too_small "DEVICE d0|small.img|size 8388608" "small|size|short|large" 0

# a good config passes --check (so the checks above can fail)
conf_with "		filename $T/ok.img" >"$T/good.conf"
out=$(timeout 20 "$TANDEMD" --check --config "$T/good.conf" 2>&1)
rc=$?
if [ $rc -eq 0 ]; then
	pass "a good configuration passes --check ($out)"
else
	fail "a good configuration fails --check: exit $rc: $out"
fi


# refused WHAT NAME PATTERN SHOWN: tandemd started on $T/NAME.conf exits
# non-zero (not by the timeout) saying PATTERN; SHOWN is what is quoted
refused() {
	local out rc
	out=$(timeout 20 "$TANDEMD" --foreground --config "$T/$2.conf" \
		--control-socket "$T/$2.sock" 2>&1)
	rc=$?
	if [ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -q "$3" <<<"$out"; then
		pass "$1: start exits $rc with \"$(grep -m1 -o "$4" <<<"$out")...\""
	else
		fail "$1: exit $rc, expected non-zero and /$3/ in: $(tail -3 <<<"$out")"
	fi
}

# TARGET_DRIVER ib_srpt on a machine without RDMA/CM: a clear refusal
# (the SRP data path itself is tested in the VM lab: tests/vm/srp.sh)
cat >"$T/srp.conf" <<EOF
HANDLER vdisk_fileio {
	DEVICE d0 {
		filename $T/ok.img
	}
}
TARGET_DRIVER ib_srpt {
	enabled 1
	TARGET fe80:0000:0000:0000:0002:c903:00f7:8ff1 {
		enabled 1
		LUN 0 d0
	}
}
EOF
if [ -e /dev/infiniband/rdma_cm ]; then
	echo "SKIP: this machine has /dev/infiniband/rdma_cm: the refusal without RDMA cannot be shown"
else
	refused "ib_srpt without RDMA/CM" srp \
		'TARGET_DRIVER ib_srpt: cannot open RDMA/CM (/dev/infiniband/rdma_cm).*rdma_ucm' \
		'TARGET_DRIVER ib_srpt: cannot open RDMA/CM[^:]*'
	sed -i 's/^\tenabled 1$/\tenabled 0/' "$T/srp.conf"
	out=$(timeout 20 "$TANDEMD" --check --config "$T/srp.conf" 2>&1)
	rc=$?
	[ $rc -eq 0 ] && pass "ib_srpt disabled: the same configuration passes --check" ||
		fail "ib_srpt disabled: --check exit $rc: $out"
fi
# TARGET_DRIVER scst_local (LIO's tcm_loop through TCMU, kernel/) on a
# machine without LIO's configfs: a clear refusal, nothing made (the
# kernel fabrics themselves are tested in the VM lab)
cat >"$T/local.conf" <<EOF
HANDLER vdisk_fileio {
	DEVICE d0 {
		filename $T/ok.img
	}
}
TARGET_DRIVER scst_local {
	TARGET tl0 {
		session_name host0
		LUN 0 d0
	}
}
EOF
if [ -d /sys/kernel/config/target ]; then
	echo "SKIP: this machine has /sys/kernel/config/target: the refusal without LIO cannot be shown"
else
	refused "scst_local without LIO" local \
		"LIO's configfs /sys/kernel/config/target is not there.*modprobe target_core_mod" \
		"kernel fabrics: LIO's configfs [^(]*"
	out=$(timeout 20 "$TANDEMD" --check --config "$T/local.conf" 2>&1)
	rc=$?
	[ $rc -eq 0 ] && pass "scst_local: the same configuration passes --check (no kernel needed to check it)" ||
		fail "scst_local: --check exit $rc: $out"
fi
# ---- (b) SIGHUP reload under a live session ----

echo "== (b) SIGHUP reload"
conf=$T/reload.conf
log=$T/reload.log
port=3411

reload_conf() { # $1 = extra LUN lines
	cat <<CONF
HANDLER ram {
	DEVICE r0 {
		size 33554432
		blocksize 512
	}
	DEVICE r1 {
		size 16777216
		blocksize 512
	}
}
TARGET_DRIVER iscsi {
	enabled 1
	portal 127.0.0.1:$port
	TARGET $iqn {
		enabled 1
		rel_tgt_id 1
		LUN 0 r0
$1
	}
}
CONF
}

have_hold=1
[ -x "$HOLD" ] || have_hold=0
have_ctl=1
if ! [ -x "$TANDEMCTL" ]; then
	have_ctl=0
	echo "SKIP (part d): no tandemctl at $TANDEMCTL: control socket checks not run"
fi

# ctl_field KEY: a value of tandemctl -status
ctl_field() {
	"$TANDEMCTL" -s "$T/ctl.sock" -status 2>/dev/null | awk -v k="$1" '$1 == k { print $2; exit }'
}

reload_conf "" >"$conf"
if ! start_wait "$conf" "$log" $port; then
	fail "tandemd did not start with the reload configuration"
	end_test "$log"
fi
pass "tandemd started with LUN 0"

if [ $have_ctl = 1 ]; then
	out=$("$TANDEMCTL" -s "$T/ctl.sock" -status 2>&1)
	rc=$?
	# shellcheck disable=SC2001 # indent every line
	echo "$out" | sed 's/^/    /'
	if [ $rc -eq 0 ] && [ "$(ctl_field pid)" = "$TANDEMD_PID" ]; then
		pass "tandemctl -status: exit 0, pid $TANDEMD_PID"
	else
		fail "tandemctl -status: exit $rc, pid '$(ctl_field pid)' (tandemd is $TANDEMD_PID)"
	fi
	epoch0=$(ctl_field epoch)
fi

if [ $have_hold = 0 ]; then
	echo "SKIP (part b, c): no $HOLD (needs libiscsi-dev at configure time)"
	finish_daemon "$log"
	end_test "$log"
fi

url=iscsi://127.0.0.1:$port/$iqn/0
rm -f "$T/stop" "$T/ready"
"${HELPER_ENV[@]}" "$HOLD" --hold --initiator iqn.2026-11.org.tandem:daemon-hold \
	--seconds 60 --stop-file "$T/stop" --ready-file "$T/ready" \
	--lba 0 --blocks 2048 --expect-ua --expect-lun 0 --expect-lun 1 \
	"$url" >"$T/hold.log" 2>&1 &
hold_pid=$!
TDM_PIDS+=("$hold_pid")
for ((i = 0; i < 100; i++)); do
	[ -e "$T/ready" ] && break
	proc_alive $hold_pid || break
	sleep 0.1
done
if ! [ -e "$T/ready" ]; then
	fail "hold_session did not start its I/O: $(cat "$T/hold.log")"
else
	pass "hold_session logged in and does verified I/O"
	sleep 1
	if [ $have_ctl = 1 ]; then
		if "$TANDEMCTL" -s "$T/ctl.sock" -list_sessions 2>&1 | grep -q daemon-hold; then
			pass "tandemctl -list_sessions shows the held session"
		else
			fail "tandemctl -list_sessions does not show daemon-hold: $("$TANDEMCTL" -s "$T/ctl.sock" -list_sessions 2>&1)"
		fi
	fi
	reload_conf "		LUN 1 r1" >"$conf"
	kill -HUP "$TANDEMD_PID"
	sleep 2
	if proc_alive "$TANDEMD_PID"; then
		pass "SIGHUP with LUN 1 added: tandemd runs"
	else
		fail "SIGHUP: tandemd died"
	fi
	luns=$("${HELPER_ENV[@]}" "$HOLD" --report-luns --initiator iqn.2026-11.org.tandem:daemon-probe "$url" 2>&1 | tr '\n' ' ')
	if [ "$luns" = "0 1 " ]; then
		pass "after the reload a new session's REPORT LUNS lists 0 1"
	else
		fail "after the reload REPORT LUNS: '$luns' (expected '0 1')"
	fi
	if [ $have_ctl = 1 ]; then
		epoch1=$(ctl_field epoch)
		if [ -n "$epoch0" ] && [ "$epoch1" = $((epoch0 + 1)) ]; then
			pass "configuration epoch $epoch0 -> $epoch1 after the reload"
		else
			fail "configuration epoch '$epoch0' -> '$epoch1' after one reload"
		fi
	fi

	# a broken configuration: refused, old one kept, session untouched
	cp "$conf" "$T/good-reload.conf"
	printf 'HANDLER ram {\n\tDEVICE r0 {\n\t\tblocksize 1000\n' >"$conf"
	kill -HUP "$TANDEMD_PID"
	sleep 1.5
	if proc_alive "$TANDEMD_PID" && grep -qE "$conf:[0-9]+:" "$log"; then
		pass "SIGHUP with a broken file: refused with file:line in the log"
	else
		fail "SIGHUP with a broken file: alive=$(proc_alive "$TANDEMD_PID" && echo 1 || echo 0), no '$conf:N:' in the log"
	fi
	luns=$("${HELPER_ENV[@]}" "$HOLD" --report-luns --initiator iqn.2026-11.org.tandem:daemon-probe "$url" 2>&1 | tr '\n' ' ')
	if [ "$luns" = "0 1 " ]; then
		pass "after the refused reload the configuration is unchanged (LUNs 0 1)"
	else
		fail "after the refused reload REPORT LUNS: '$luns' (expected '0 1')"
	fi
	if [ $have_ctl = 1 ]; then
		epoch2=$(ctl_field epoch)
		[ "$epoch2" = "${epoch1:-x}" ] && pass "epoch unchanged ($epoch2) by the refused reload" ||
			fail "epoch '$epoch1' -> '$epoch2' after a refused reload"
		out=$("$TANDEMCTL" -s "$T/ctl.sock" -reload 2>&1)
		rc=$?
		if [ $rc -ne 0 ] && grep -qE "$conf:[0-9]+:" <<<"$out"; then
			pass "tandemctl -reload of the broken file: exit $rc with file:line"
		else
			fail "tandemctl -reload of the broken file: exit $rc: $out"
		fi
		cp "$T/good-reload.conf" "$conf"
		out=$("$TANDEMCTL" -s "$T/ctl.sock" -reload 2>&1)
		rc=$?
		[ $rc -eq 0 ] && pass "tandemctl -reload of a good file: exit 0" ||
			fail "tandemctl -reload of a good file: exit $rc: $out"
	fi
	cp "$T/good-reload.conf" "$conf"
	sleep 1
fi
touch "$T/stop"
wait $hold_pid
hold_rc=$?
forget_pid $hold_pid
sed 's/^/    /' "$T/hold.log"
if [ $hold_rc -eq 0 ]; then
	pass "the held session survived the reloads: no I/O error, no reconnect, saw 6/3F/0E, LUN 1 listed"
else
	fail "hold_session exit $hold_rc"
fi
finish_daemon "$log"

# ---- (c) SIGTERM during writes ----

echo "== (c) SIGTERM during I/O"
port=3412
# plain writes three times: a shutdown race (a connection freed while its
# socket event is still pending in the same epoll batch) shows up in about
# one plain round in six under ASan
round=0
for mode in plain fua sync plain plain; do
	round=$((round + 1))
	img=$T/term-$mode.img
	conf=$T/term-$mode.conf
	log=$T/term-$mode-$round.log
	rm -f "$T"/term-*.img
	truncate -s 256M "$img"
	cat >"$conf" <<CONF
HANDLER vdisk_fileio {
	DEVICE t0 {
		filename $img
		blocksize 512
	}
}
TARGET_DRIVER iscsi {
	enabled 1
	portal 127.0.0.1:$port
	TARGET $iqn {
		enabled 1
		LUN 0 t0
	}
}
CONF
	if ! start_wait "$conf" "$log" $port; then
		fail "$mode #$round: tandemd did not start"
		continue
	fi
	case $mode in
	plain) extra=() ;;
	fua) extra=(--fua) ;;
	sync) extra=(--sync-every 4) ;;
	esac
	seed=$((RANDOM + 1))
	rm -f "$T/ready" "$T/acks"
	"${HELPER_ENV[@]}" "$HOLD" --write-seq "${extra[@]}" --seed $seed \
		--lba 0 --blocks 524288 --chunk 16 --ack-log "$T/acks" \
		--ready-file "$T/ready" --initiator iqn.2026-11.org.tandem:daemon-term \
		"iscsi://127.0.0.1:$port/$iqn/0" >"$T/seq.log" 2>&1 &
	wpid=$!
	TDM_PIDS+=("$wpid")
	for ((i = 0; i < 100; i++)); do
		[ -e "$T/ready" ] && break
		proc_alive $wpid || break
		sleep 0.1
	done
	sleep 0.5
	if ! proc_alive $wpid; then
		fail "$mode #$round: the writer was not running when SIGTERM was due: $(cat "$T/seq.log")"
	fi
	if stop_within 10; then
		pass "$mode #$round: SIGTERM during writes: tandemd exited 0 in $STOP_MS ms"
	else
		fail "$mode #$round: SIGTERM during writes: exit status $STOP_RC after $STOP_MS ms"
	fi
	wait $wpid
	wrc=$?
	forget_pid $wpid
	nack=$(wc -l <"$T/acks" 2>/dev/null || echo 0)
	cat "$T/seq.log"
	if [ $wrc -ne 0 ] && [ $wrc -ne 3 ]; then
		fail "$mode #$round: writer exit $wrc"
	fi
	if [ "$nack" -gt 0 ] && "${HELPER_ENV[@]}" "$HOLD" --verify-file "$img" --ack-log "$T/acks" \
		--seed $seed --blocksize 512; then
		pass "$mode #$round: all $nack acknowledged ranges are in the backing file"
	else
		fail "$mode #$round: acknowledged data missing from the backing file ($nack ranges acknowledged)"
	fi
	if sanitizer_clean "$log"; then
		pass "$mode #$round: no sanitizer report"
	else
		fail "$mode #$round: sanitizer report in tandemd's log"
	fi
done

end_test "$log"
