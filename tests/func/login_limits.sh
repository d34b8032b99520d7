#!/bin/bash
# login_limits.sh - connections that never log in:
#  (a) max_pending_logins 4 and 10 idle connections: the 6 oldest are
#      closed (each newcomer over the cap closes the oldest), the 4
#      newest stay, and a normal login still works (it closes one more);
#  (b) tandemd with few descriptors (prlimit) and more connections than
#      it may open: accept() fails with EMFILE, tandemd pauses its portal
#      instead of spinning (CPU under 30 % over 3 s), the connections it
#      cannot take are closed at once (a spare descriptor accepts and
#      closes them) rather than left waiting, its log does not flood, and
#      once the connections go a login works again.
# Port: 3460.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/common.sh
. tests/func/funclib.bash

port=3460
need_tandemd
[ -x "$NEG" ] || skip "no $NEG (built by tests/func/local.mk when libiscsi is found)"
command -v python3 >/dev/null || skip "python3 is needed for the idle connections"
command -v prlimit >/dev/null || skip "prlimit (util-linux) is needed"
tdm_tmpdir
trap tdm_cleanup EXIT
T=$TDM_TMP
TG=iqn.2026-11.org.tandem:limits
serves() { "${HELPER_ENV[@]}" "$NEG" --port $port --plain $TG --scenario serves >"$T/serves.tap" 2>&1; }

# hold.py N GAP_MS WAIT_S OUT [CMD...]: N idle connections GAP_MS apart;
# after WAIT_S the state of each (O open, C closed) goes to OUT; with CMD,
# CMD runs and its exit status and the states again follow; then it holds
# the connections until it is killed
cat >"$T/hold.py" <<PY
import select, socket, subprocess, sys, time
n, gap, wait, out = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
cmd = sys.argv[5:]
socks = []
for i in range(n):
    socks.append(socket.create_connection(("127.0.0.1", $port)))
    time.sleep(gap / 1000.0)
def states():
    st = ""
    for s in socks:
        r, _, _ = select.select([s], [], [], 0)
        closed = False
        if r:
            try:
                closed = s.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
            except OSError:
                closed = True
        st += "C" if closed else "O"
    return st
time.sleep(wait)
with open(out, "w") as f:
    f.write(states() + "\n")
    if cmd:
        f.write("rc %d\n" % subprocess.call(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(0.5)
        f.write(states() + "\n")
open(out + ".done", "w").close()
time.sleep(3600)
PY
hold() { "${HELPER_ENV[@]}" python3 "$T/hold.py" "$@" & }
wait_done() {
	local i
	for ((i = 0; i < 200; i++)); do [ -f "$1.done" ] && return 0; sleep 0.1; done
	return 1
}

conf() {
	cat <<CONF
HANDLER ram {
	DEVICE l0 {
		size 16777216
	}
}
TARGET_DRIVER iscsi {
	enabled 1
	portal 127.0.0.1:$port
	max_pending_logins $1
	TARGET $TG {
		enabled 1
		rel_tgt_id 1
		LUN 0 l0
	}
}
CONF
}

# (a) the cap
conf 4 >"$T/a.conf"
log=$T/a.log
start_wait "$T/a.conf" "$log" $port || {
	fail "tandemd did not start"
	end_test "$log"
}
sleep 0.5 # start_wait's probe connection is gone
hold 10 50 1 "$T/a.out" "${HELPER_ENV[@]}" "$NEG" --port $port --plain $TG --scenario serves
hpid=$!
wait_done "$T/a.out" || fail "the idle connections did not report"
kill "$hpid" 2>/dev/null
wait "$hpid" 2>/dev/null
mapfile -t a <"$T/a.out"
echo "   10 idle connections, oldest first: ${a[0]:-?}; a login: ${a[1]:-?}; then: ${a[2]:-?}"
[ "${a[0]:-}" = CCCCCCOOOO ] && pass "max_pending_logins 4: the 6 oldest of 10 idle connections closed, the newest 4 kept" ||
	fail "max_pending_logins 4, 10 idle connections: ${a[0]:-none}"
[ "${a[1]:-}" = "rc 0" ] && pass "a normal login works meanwhile" || fail "a login meanwhile: ${a[1]:-none}"
[ "${a[2]:-}" = CCCCCCCOOO ] && pass "... and closed the oldest idle one" || fail "after the login: ${a[2]:-none}"
grep -q "connections logging in (max_pending_logins): closing the oldest" "$log" &&
	pass "tandemd says so" || fail "no word of the cap in the log"
finish_daemon "$log"

# (b) out of descriptors: tandemd's own at start, and 12 more
conf 1000 >"$T/b.conf"
log=$T/b.log
start_wait "$T/b.conf" "$log" $port || {
	fail "tandemd did not start"
	end_test "$log"
}
sleep 0.5
nfd=$(find "/proc/$TANDEMD_PID/fd" -mindepth 1 | wc -l)
stop_within 15 || fail "tandemd did not stop: $STOP_RC"
limit=$((nfd + 12))
start_tandemd "$T/b.conf" "$log"
prlimit --pid "$TANDEMD_PID" --nofile=$limit:$limit
wait_port 127.0.0.1 $port 20 || {
	fail "tandemd with $limit descriptors did not start"
	end_test "$log"
}
sleep 0.5
lines0=$(wc -l <"$log")
hold 40 10 1.5 "$T/b.out"
hpid=$!
sleep 1
hz=$(getconf CLK_TCK)
c0=$(awk '{ print $14 + $15 }' "/proc/$TANDEMD_PID/stat")
sleep 3
c1=$(awk '{ print $14 + $15 }' "/proc/$TANDEMD_PID/stat")
wait_done "$T/b.out" || fail "the idle connections did not report"
st=$(head -1 "$T/b.out")
nlines=$(($(wc -l <"$log") - lines0))
kill "$hpid" 2>/dev/null
wait "$hpid" 2>/dev/null
echo "   $nfd descriptors at start, limit $limit; 40 connections: $st"
if [ $(((c1 - c0) * 100 / (3 * hz))) -lt 30 ]; then
	pass "EMFILE: tandemd used $((c1 - c0)) ticks of $((3 * hz)) in 3 s"
else
	fail "EMFILE: tandemd used $((c1 - c0)) ticks of $((3 * hz)) in 3 s (spinning)"
fi
grep -q "accept on 127.0.0.1:$port: Too many open files" "$log" &&
	pass "EMFILE: tandemd says so" || fail "EMFILE: not in the log"
[ "$nlines" -le 40 ] && pass "EMFILE: $nlines log lines in 4 s" ||
	fail "EMFILE: $nlines log lines in 4 s"
nopen=$(tr -cd O <<<"$st" | wc -c)
nclosed=$(tr -cd C <<<"$st" | wc -c)
# about 12 taken (one or two of tandemd's own descriptors come and go)
[ "$nopen" -ge 1 ] && [ "$nopen" -le 14 ] && [ "$nclosed" -ge 26 ] &&
	pass "EMFILE: $nopen connections taken, $nclosed closed at once" ||
	fail "EMFILE: $nopen connections open and $nclosed closed (want about 12 open, the rest closed)"
ok=0
for ((i = 0; i < 10; i++)); do
	serves && {
		ok=1
		break
	}
	sleep 0.5
done
[ $ok -eq 1 ] && pass "once they are gone a login works again" ||
	fail "no login after the flood: $(cat "$T/serves.tap")"
finish_daemon "$log"
end_test "$log"
