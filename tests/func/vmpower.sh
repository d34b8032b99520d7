#!/bin/bash
# vmpower.sh - the VM lab's power switch (tests/vm/vmpower) and the head
# VMs' fence agent (tests/vm/guest/fence_tandemvm) on the host, without
# qemu: sleep processes stand for the guests, a one-connection TCP
# listener of python3 on 127.0.0.1 plays qemu's guestfwd (it runs vmpower
# with the connection as stdin and stdout, as qemu does).
#  (a) vmpower: list, status of a running and of a missing guest, off (the
#      process is gone, "ok off"), off again (still "ok off"), status off;
#      bad requests (unknown verb, a name with a slash, extra words, an
#      empty line) answered "error ..." and nothing killed; every request
#      logged;
#  (b) fence_tandemvm: metadata is well-formed XML naming its actions;
#      validate-all without a port fails; through the listener: monitor,
#      list, status (exit 0 on), off (exit 0, the guest gone), status
#      (exit 2 off), the stdin form pacemaker-fenced uses (action=,
#      port=); an unreachable switch is a failure (exit 1), not a success.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/common.sh
. tests/func/funclib.bash

command -v python3 >/dev/null || skip "python3 not installed"
tdm_tmpdir
trap tdm_cleanup EXIT
T=$TDM_TMP
P=$T/power
mkdir -p "$P"
VMPOWER=$PWD/tests/vm/vmpower
AGENT=$PWD/tests/vm/guest/fence_tandemvm
guest() { # guest NAME: a stand-in guest, its pid in P/NAME.pid
	sleep 600 &
	TDM_PIDS+=("$!")
	echo "$!" >"$P/$1.pid"
	disown "$!" # no "Killed" job report when vmpower kills it
}
ask() { printf '%s\n' "$1" | "$VMPOWER" "$P"; }
is() {
	if [ "$2" = "$3" ]; then pass "$1: $3"; else fail "$1: '$3', expected '$2'"; fi
}

# (a)
guest g1
guest g2
g1=$(cat "$P/g1.pid")
is "(a) list" "ok g1 g2" "$(ask list)"
is "(a) status of a running guest" "ok on" "$(ask 'status g1')"
is "(a) status of no such guest" "error no guest g9" "$(ask 'status g9')"
for bad in "reboot g1" "off ../g1" "off g1 now" "" "OFF g1"; do
	is "(a) bad request '$bad'" "error bad request" "$(ask "$bad")"
done
proc_alive "$g1" && pass "(a) nothing killed by the bad requests" || fail "(a) g1 gone"
is "(a) off g1" "ok off" "$(ask 'off g1')"
proc_alive "$g1" && fail "(a) g1 still runs" || pass "(a) g1's process is gone"
is "(a) off g1 again" "ok off" "$(ask 'off g1')"
is "(a) status g1" "ok off" "$(ask 'status g1')"
n=$(wc -l <"$P/power.log")
[ "$n" -eq 11 ] && pass "(a) every request logged ($n lines)" || fail "(a) power.log has $n lines: $(cat "$P/power.log")"
grep -q "off g1 -> ok off" "$P/power.log" && pass "(a) the power-off logged" || fail "(a) log: $(cat "$P/power.log")"

# (b)
OUT=$("$AGENT" -o metadata)
python3 -c 'import sys, xml.etree.ElementTree as E
r = E.fromstring(sys.stdin.read())
a = sorted(x.get("name") for x in r.iter("action"))
assert r.get("name") == "fence_tandemvm", r.get("name")
print(" ".join(a))' <<<"$OUT" >"$T/actions" 2>&1 &&
	pass "(b) metadata: XML with actions $(cat "$T/actions")" || fail "(b) metadata: $(cat "$T/actions")"
"$AGENT" -o validate-all >/dev/null 2>&1 && fail "(b) validate-all without a port passed" ||
	pass "(b) validate-all without a port fails"
# the listener: each connection runs vmpower on it (qemu's guestfwd)
python3 - "$VMPOWER" "$P" "$T/port" <<'EOF' &
import socket, subprocess, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
open(sys.argv[3], "w").write(str(s.getsockname()[1]))
while True:
    c, _ = s.accept()
    subprocess.run([sys.argv[1], sys.argv[2]], stdin=c, stdout=c)
    c.close()
EOF
TDM_PIDS+=("$!")
for ((i = 0; i < 50; i++)); do [ -s "$T/port" ] && break; sleep 0.1; done
port=$(cat "$T/port")
fa() { "$AGENT" --ipaddr=127.0.0.1 --ipport="$port" "$@" 2>&1; }
OUT=$(fa -o monitor) && pass "(b) monitor: the switch answers" || fail "(b) monitor: $OUT"
OUT=$(fa -o list) && [ "$OUT" = "$(printf 'g1\ng2')" ] && pass "(b) list: g1 g2" || fail "(b) list: $OUT"
OUT=$(fa -o status -n g2)
rc=$?
[ $rc -eq 0 ] && pass "(b) status g2: on (exit 0)" || fail "(b) status g2: exit $rc: $OUT"
g2=$(cat "$P/g2.pid")
OUT=$(printf 'action=off\nport=g2\nipaddr=127.0.0.1\nipport=%s\nnodename=h1\n' "$port" | "$AGENT" 2>&1)
rc=$?
[ $rc -eq 0 ] && ! proc_alive "$g2" && pass "(b) off through stdin (pacemaker-fenced's form): g2 gone, exit 0" ||
	fail "(b) off g2: exit $rc: $OUT"
OUT=$(fa -o status -n g2)
rc=$?
[ $rc -eq 2 ] && pass "(b) status g2: off (exit 2)" || fail "(b) status g2 after off: exit $rc: $OUT"
OUT=$(fa -o reboot -n g1)
rc=$?
[ $rc -eq 0 ] && pass "(b) reboot of an off guest: off, success (reboot = off)" || fail "(b) reboot g1: exit $rc: $OUT"
OUT=$("$AGENT" --ipaddr=127.0.0.1 --ipport=1 -o off -n g1 2>&1)
rc=$?
[ $rc -eq 1 ] && pass "(b) unreachable switch: failure (exit 1)" || fail "(b) unreachable switch: exit $rc: $OUT"
end_test /dev/null
