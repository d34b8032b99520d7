#!/bin/bash
# logging.sh - the daemons' logging through libqb (lib/log.c):
#  (a) foreground lines: every one has a millisecond timestamp, the
#      daemon's name and pid and the priority ("Mar 05 14:02:11.347
#      tandemd[812] notice: ..."); at debug level the file:line too;
#  (b) the blackbox at --log-level error: SIGUSR1 and tandemctl
#      -blackbox each write a file in $TANDEM_STATE_DIR that qb-blackbox
#      reads, holding what happened before (a login, a SIGHUP reload, the
#      first dump) although none of it reached stderr;
#  (c) a fatal signal (SIGSEGV sent to tandemd) writes the blackbox too,
#      and the daemon still dies of it;
#  (d) tandem-agentd: its lines, SIGUSR1 and its blackbox (no corosync
#      needed: it records its retries);
#  (e) daemonized: the messages go to syslog (a /dev/log of our own in a
#      private mount namespace), stamped once, by syslog;
#  (f) --blackbox-size: bad values refused, 0 turns the blackbox off.
# Ports: 3450-3452.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/common.sh
. tests/func/funclib.bash

need_tandemd
[ -x "$TANDEMCTL" ] || skip "no tandemctl at $TANDEMCTL (build it first)"
: "${AGENTD:=$FUNC_BUILD/agentd/tandem-agentd}"
tdm_tmpdir
trap tdm_cleanup EXIT
T=$TDM_TMP
iqn=iqn.2026-11.org.tandem:logging
port=3450
export TANDEM_STATE_DIR=$T/state
# a line of lib/log.c on stderr: "Mar 05 14:02:11.347 NAME[PID] PRIORITY: "
stamp='[A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}'

command -v qb-blackbox >/dev/null ||
	fail "qb-blackbox is not installed (libqb-tools, scripts/deps.sh test)"
command -v iscsi-inq >/dev/null ||
	fail "iscsi-inq is not installed (libiscsi-bin, scripts/deps.sh test)"

# has DESC REGEX TEXT / hasnt DESC REGEX TEXT
has() {
	if grep -qE -- "$2" <<<"$3"; then pass "$1"; else fail "$1: /$2/ not in: $(tail -5 <<<"$3")"; fi
}
hasnt() {
	if grep -qE -- "$2" <<<"$3"; then fail "$1: /$2/ in: $(grep -m3 -E -- "$2" <<<"$3")"; else pass "$1"; fi
}

# every_line DESC REGEX FILE: every line of FILE matches REGEX
every_line() {
	local n bad
	n=$(wc -l <"$3")
	bad=$(grep -vcE -- "$2" "$3")
	if [ "$n" -gt 0 ] && [ "$bad" -eq 0 ]; then
		pass "$1 ($n lines)"
	else
		fail "$1: $bad of $n lines do not match, e.g.: $(grep -m3 -vE -- "$2" "$3")"
	fi
}

# newest_dump NAME: the newest blackbox file of NAME in the state dir
# (a dump appears whole: written under another name, then linked)
newest_dump() {
	find "$TANDEM_STATE_DIR" -maxdepth 1 -name "blackbox-$1-*" -printf '%T@ %p\n' 2>/dev/null |
		sort -n | tail -1 | cut -d' ' -f2-
}

# wait_dumps NAME N: until N dumps of NAME exist (10 s)
wait_dumps() {
	local i
	for ((i = 0; i < 100; i++)); do
		[ "$(find "$TANDEM_STATE_DIR" -maxdepth 1 -name "blackbox-$1-*" 2>/dev/null | wc -l)" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

truncate -s 8M "$T/d.img"
cat >"$T/t.conf" <<CONF
HANDLER vdisk_fileio {
	DEVICE d0 {
		filename $T/d.img
	}
}
TARGET_DRIVER iscsi {
	enabled 1
	portal 127.0.0.1:$port
	TARGET $iqn {
		enabled 1
		LUN 0 d0
	}
}
CONF

# ---- (a) foreground lines ----

echo "== (a) foreground lines"
log=$T/info.log
start_wait "$T/t.conf" "$log" $port || fail "tandemd did not start"
iscsi-inq -i iqn.2026-11.org.test:format "iscsi://127.0.0.1:$port/$iqn/0" >/dev/null 2>&1
# discovery needs no account: its sessions are not news (debug only), or
# anyone could fill the log with them
for i in 1 2 3; do
	iscsi-ls -i iqn.2026-11.org.test:disco$i "iscsi://127.0.0.1:$port" >/dev/null 2>&1 ||
		fail "iscsi-ls $i failed"
done
if stop_within 15; then pass "tandemd (info) stopped"; else fail "tandemd (info): $STOP_RC"; fi
hasnt "discovery sessions leave no line at info level" "disco[123]|discovery" "$(cat "$log")"
every_line "every line: time with milliseconds, tandemd[pid], priority" \
	"^$stamp tandemd\[$TANDEMD_PID\] (error|warning|notice|info): " "$log"
has "the login is an info line" "^$stamp tandemd\[$TANDEMD_PID\] info: iscsi: .*iqn.2026-11.org.test:format logged in" "$(cat "$log")"
hasnt "no debug line at info level" " debug: " "$(cat "$log")"

log=$T/debug.log
start_wait "$T/t.conf" "$log" $port 127.0.0.1 --log-level debug || fail "tandemd (debug) did not start"
iscsi-ls -i iqn.2026-11.org.test:disco "iscsi://127.0.0.1:$port" >/dev/null 2>&1 || fail "iscsi-ls (debug) failed"
if stop_within 15; then pass "tandemd (debug) stopped"; else fail "tandemd (debug): $STOP_RC"; fi
has "at debug level, the discovery session is there" " debug: iscsi/login\.c:[0-9]+: iscsi: .*iqn.2026-11.org.test:disco logged in to discovery" "$(cat "$log")"
has "at debug level, lines carry the tree's file:line" "^$stamp tandemd\[$TANDEMD_PID\] notice: targetd/tandemd\.c:[0-9]+: configuration applied" "$(cat "$log")"
every_line "every line at debug level: time, tandemd[pid], priority" \
	"^$stamp tandemd\[$TANDEMD_PID\] (error|warning|notice|info|debug): " "$log"

# ---- (b) the blackbox at --log-level error ----

echo "== (b) the blackbox, the daemon at --log-level error"
log=$T/error.log
start_wait "$T/t.conf" "$log" $port 127.0.0.1 --log-level error --control-socket "$T/ctl.sock" ||
	fail "tandemd (error) did not start"
pid=$TANDEMD_PID
iscsi-inq -i iqn.2026-11.org.test:before-dump "iscsi://127.0.0.1:$port/$iqn/0" >/dev/null 2>&1 &&
	pass "a login before the dump" || fail "iscsi-inq failed"
kill -HUP "$pid"
for ((i = 0; i < 50; i++)); do
	"$TANDEMCTL" -s "$T/ctl.sock" -status 2>/dev/null | grep -qE '^epoch +2$' && break
	sleep 0.1
done
kill -USR1 "$pid"
wait_dumps tandemd 1 && pass "SIGUSR1 wrote a dump" || fail "no dump after SIGUSR1"
d1=$(newest_dump tandemd)
has "its name: blackbox-tandemd-PID-SECONDS.MSEC" "^$TANDEM_STATE_DIR/blackbox-tandemd-$pid-[0-9]+\.[0-9]{3}$" "$d1"
out=$(qb-blackbox "$d1" 2>/dev/null)
has "qb-blackbox reads it: the login" "info .*iqn.2026-11.org.test:before-dump logged in" "$out"
has "the SIGHUP reload" "notice .*SIGHUP: reloading" "$out"
has "the reload's result" "notice .*configuration applied \(epoch 2\)" "$out"
has "debug lines (the connection)" "debug .*iscsi: connection from 127.0.0.1" "$out"
has "each record has a millisecond time and its function(line)" \
	"^notice +[A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8}\.[0-9]{3} signal_cb\([0-9]+\):0: SIGHUP" "$out"
f2=$("$TANDEMCTL" -s "$T/ctl.sock" -blackbox 2>&1)
rc=$?
[ $rc -eq 0 ] && [ -f "$f2" ] && [ "$f2" != "$d1" ] && pass "tandemctl -blackbox: $f2" ||
	fail "tandemctl -blackbox: exit $rc: $f2"
out=$(qb-blackbox "$f2" 2>/dev/null)
has "the second dump holds the login" "iqn.2026-11.org.test:before-dump logged in" "$out"
has "and the first dump" "blackbox written to $d1" "$out"
has "and the control request" "control: pid [0-9]+ \(uid [0-9]+\) asks for the blackbox" "$out"
hasnt "none of it reached stderr (level error)" "logged in|SIGHUP|blackbox|configuration applied" "$(cat "$log")"
[ "$(stat -c %a "$f2")" = 600 ] && pass "the dump is 0600" || fail "the dump's mode: $(stat -c %a "$f2")"

# ---- (c) a fatal signal ----

echo "== (c) SIGSEGV"
n0=$(find "$TANDEM_STATE_DIR" -maxdepth 1 -name "blackbox-tandemd-$pid-*" | wc -l)
kill -SEGV "$pid"
wait "$pid"
rc=$?
forget_pid "$pid"
[ $rc -ne 0 ] && pass "tandemd died of the signal (exit status $rc)" || fail "tandemd exited 0 after SIGSEGV"
n1=$(find "$TANDEM_STATE_DIR" -maxdepth 1 -name "blackbox-tandemd-$pid-*" | wc -l)
[ "$n1" -eq $((n0 + 1)) ] && pass "SIGSEGV wrote one more dump" || fail "dumps before $n0, after $n1"
d3=$(newest_dump tandemd)
has "tandemd said where (stderr)" "tandemd: fatal signal 11: blackbox written to $d3" "$(cat "$log")"
has "qb-blackbox reads it: the events before" "iqn.2026-11.org.test:before-dump logged in" "$(qb-blackbox "$d3" 2>/dev/null)"
left=$(find /dev/shm -maxdepth 1 -name "qb-tandemd-$pid-*" 2>/dev/null)
[ -z "$left" ] && pass "no ring left in /dev/shm" || fail "left in /dev/shm: $left"

# ---- (d) tandem-agentd ----

echo "== (d) tandem-agentd"
if [ -x "$AGENTD" ]; then
	alog=$T/agentd.log
	"$AGENTD" -f -s "$T/no-tandemd.sock" --log-level info >"$alog" 2>&1 &
	apid=$!
	TDM_PIDS+=("$apid")
	for ((i = 0; i < 50; i++)); do grep -q "waiting for tandemd" "$alog" && break; sleep 0.1; done
	kill -USR1 "$apid"
	wait_dumps tandem-agentd 1 && pass "SIGUSR1: tandem-agentd wrote a dump" || fail "no agentd dump"
	out=$(qb-blackbox "$(newest_dump tandem-agentd)" 2>/dev/null)
	has "qb-blackbox reads it: the start" "notice .*tandem-agentd .* starting" "$out"
	has "the wait for tandemd" "info .*waiting for tandemd on $T/no-tandemd.sock" "$out"
	kill -TERM "$apid"
	wait "$apid"
	rc=$?
	forget_pid "$apid"
	[ $rc -eq 0 ] && pass "tandem-agentd stops with SIGTERM" || fail "tandem-agentd exit $rc"
	every_line "every agentd line: time, tandem-agentd[pid], priority" \
		"^$stamp tandem-agentd\[$apid\] (error|warning|notice|info): " "$alog"
	sanitizer_clean "$alog" && pass "no sanitizer report in agentd's log" || fail "sanitizer report in agentd's log"
else
	fail "no tandem-agentd at $AGENTD (needs corosync's client libraries at configure time)"
fi

# ---- (e) daemonized: syslog ----

echo "== (e) daemonized: syslog"
cat >"$T/syslog.py" <<'PY'
# syslog.py SOCK READY SECONDS: receive datagrams on SOCK, print each
import os, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
open(sys.argv[2], "w").close()
end = time.time() + float(sys.argv[3])
while time.time() < end:
    s.settimeout(max(0.1, end - time.time()))
    try:
        d = s.recv(65536)
    except socket.timeout:
        continue
    print(d.decode(errors="replace").rstrip("\n"), flush=True)
PY
# a private mount namespace whose /dev holds what tandemd needs and a
# /dev/log of our own (the host has none, and is not touched)
cat >"$T/ns.sh" <<'SH'
set -u
T=$1 TANDEMD=$2 conf=$3 port=$4
mkdir -p "$T/olddev"
mount --bind /dev "$T/olddev"
mount -t tmpfs -o mode=755 tmpfs /dev
for n in null zero random urandom; do
	touch "/dev/$n"
	mount --bind "$T/olddev/$n" "/dev/$n"
done
mkdir /dev/shm
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
python3 "$T/syslog.py" /dev/log "$T/syslog.ready" 6 >"$T/syslog.out" &
lp=$!
for ((i = 0; i < 50; i++)); do [ -f "$T/syslog.ready" ] && break; sleep 0.1; done
"$TANDEMD" -c "$conf" -s "$T/d.sock" --pidfile "$T/d.pid" || exit 1
for ((i = 0; i < 50; i++)); do [ -s "$T/d.pid" ] && (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
dp=$(cat "$T/d.pid")
echo "$dp" >"$T/d.pid.keep"
kill -USR1 "$dp"
sleep 0.5
kill -TERM "$dp"
for ((i = 0; i < 100; i++)); do kill -0 "$dp" 2>/dev/null || break; sleep 0.1; done
wait "$lp"
kill -0 "$dp" 2>/dev/null && { kill -KILL "$dp"; echo "tandemd did not stop"; exit 1; }
exit 0
SH
sed "s/:$port/:$((port + 1))/" "$T/t.conf" >"$T/d.conf"
if unshare --mount --propagation private bash "$T/ns.sh" "$T" "$TANDEMD" "$T/d.conf" $((port + 1)) >"$T/ns.out" 2>&1; then
	out=$(cat "$T/syslog.out")
	dpid=$(cat "$T/d.pid.keep" 2>/dev/null)
	# glibc: "<PRI>Mmm dd hh:mm:ss IDENT[PID]: MESSAGE"; daemon.notice = 29
	has "syslog got tandemd's notice, daemon facility" \
		"^<29>[A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8} tandemd\[$dpid\]: configuration applied \(epoch 1\)" "$out"
	has "and the dump's line" "tandemd\[$dpid\]: blackbox written to $TANDEM_STATE_DIR/blackbox-tandemd-$dpid-" "$out"
	hasnt "no second timestamp in the message" "\]: $stamp" "$out"
	hasnt "no priority word in the message (syslog carries it)" "\]: (notice|info): " "$out"
	has "the daemon stopped" "tandemd\[$dpid\]: stopped" "$out"
else
	fail "the namespace with a /dev/log of our own: $(tail -5 "$T/ns.out")"
fi

# ---- (f) --blackbox-size ----

echo "== (f) --blackbox-size"
for v in abc -1 1025 99999 1M ""; do
	out=$("$TANDEMD" -f -c "$T/t.conf" --blackbox-size "$v" 2>&1)
	rc=$?
	[ $rc -eq 2 ] && grep -q "bad --blackbox-size" <<<"$out" && pass "tandemd --blackbox-size '$v': exit 2" ||
		fail "tandemd --blackbox-size '$v': exit $rc: $out"
	if [ -x "$AGENTD" ]; then
		out=$("$AGENTD" -f --blackbox-size "$v" 2>&1)
		rc=$?
		[ $rc -eq 2 ] && grep -q "bad --blackbox-size" <<<"$out" && pass "tandem-agentd --blackbox-size '$v': exit 2" ||
			fail "tandem-agentd --blackbox-size '$v': exit $rc: $out"
	fi
done
log=$T/off.log
sed "s/:$port/:$((port + 2))/" "$T/t.conf" >"$T/off.conf"
start_wait "$T/off.conf" "$log" $((port + 2)) 127.0.0.1 --blackbox-size 0 ||
	fail "tandemd (blackbox off) did not start"
n0=$(find "$TANDEM_STATE_DIR" -maxdepth 1 -name "blackbox-tandemd-$TANDEMD_PID-*" | wc -l)
kill -USR1 "$TANDEMD_PID"
for ((i = 0; i < 50; i++)); do grep -q "blackbox not written" "$log" && break; sleep 0.1; done
has "--blackbox-size 0: SIGUSR1 says the blackbox is off" "notice: blackbox not written: it is off" "$(cat "$log")"
n1=$(find "$TANDEM_STATE_DIR" -maxdepth 1 -name "blackbox-tandemd-$TANDEMD_PID-*" | wc -l)
[ "$n0" = 0 ] && [ "$n1" = 0 ] && pass "and writes no file" || fail "dumps of a daemon without blackbox: $n0 -> $n1"
finish_daemon "$log"
end_test "$log"
