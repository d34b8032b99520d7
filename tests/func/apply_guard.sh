#!/bin/bash
# apply_guard.sh - what the control socket guards against:
#  (a) an APPLY of a configuration without any device (an empty or
#      truncated file) is refused while tandemd runs devices: tandemctl
#      -config exits 1, every device, target and session stays, the epoch
#      does not move; with -force it is applied; -force goes with -config
#      only; an edit that removes the last device (-close_dev) is explicit
#      and goes through; a reload (tandemctl -reload, SIGHUP) of the
#      configuration file emptied is refused the same way;
#  (b) the control socket exists with its final mode 0660 from the moment
#      bind() creates it, even under umask 000 (tests/func/fault_shim.c
#      reports the mode right after bind()).
# Port: 3466.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/common.sh
. tests/func/funclib.bash

need_tandemd
[ -x "$TANDEMCTL" ] || skip "no tandemctl at $TANDEMCTL (build it first)"
command -v cc >/dev/null || skip "no C compiler for tests/func/fault_shim.c"
tdm_tmpdir
trap tdm_cleanup EXIT
T=$TDM_TMP
S=$T/ctl.sock
port=3466
TG=iqn.2026-11.org.tandem:guard
ctl() { "$TANDEMCTL" -s "$S" "$@"; }
epoch() { ctl -status 2>/dev/null | awk '$1 == "epoch" { print $2 }'; }
ndev() { ctl -list_device 2>/dev/null | grep -c "^r[01] "; }

cat >"$T/t.conf" <<CONF
HANDLER ram {
	DEVICE r0 {
		size 16777216
	}
	DEVICE r1 {
		size 16777216
	}
}
TARGET_DRIVER iscsi {
	enabled 1
	portal 127.0.0.1:$port
	TARGET $TG {
		enabled 1
		rel_tgt_id 1
		LUN 0 r0
		LUN 1 r1
	}
}
CONF
log=$T/tandemd.log
# (b): umask 000, so that a socket not created with its mode would be
# world-writable for a moment (0777 at bind, before a chmod)
SHIM_UMASK=000 start_with_shim "$T/t.conf" "$log" "$S" TDM_SHIM_BIND_LOG="$T/bind.log" || {
	fail "cannot build tests/func/fault_shim.c"
	end_test
}
if ! wait_port 127.0.0.1 $port 20; then
	fail "tandemd did not start"
	end_test "$log"
fi
for ((i = 0; i < 50; i++)); do [ -S "$S" ] && break; sleep 0.1; done
mode=$(awk -v s="$S" '$1 == s { print $2 }' "$T/bind.log" 2>/dev/null)
if [ "$mode" = 0660 ]; then
	pass "the control socket is 0660 right after bind(), umask 000"
else
	fail "the control socket's mode right after bind(): '${mode:-none}' (want 0660): $(cat "$T/bind.log" 2>&1)"
fi
[ "$(stat -c %a "$S")" = 660 ] && pass "and 0660 afterwards" ||
	fail "the control socket is $(stat -c %a "$S")"

# (a) a configuration without any device
: >"$T/empty.conf"
printf 'TARGET_DRIVER iscsi {\n\tenabled 1\n\tportal 127.0.0.1:%s\n}\n' $port >"$T/nodev.conf"
"${HELPER_ENV[@]}" "$NEG" --port $port --plain $TG --scenario serves >"$T/s0.tap" 2>&1 ||
	fail "no session before the checks: $(cat "$T/s0.tap")"
e0=$(epoch)
for f in empty.conf nodev.conf; do
	out=$(ctl -config "$T/$f" 2>&1)
	rc=$?
	if [ $rc -eq 1 ] && grep -q "has no device.*-force" <<<"$out"; then
		pass "-config $f refused: $out"
	else
		fail "-config $f: exit $rc: $out"
	fi
done
[ "$(ndev)" = 2 ] && [ "$(epoch)" = "$e0" ] &&
	pass "the devices are there, the epoch still $e0" ||
	fail "after the refused APPLYs: $(ndev) devices, epoch $(epoch) (was $e0)"
grep -q "control: .*empty.conf has no device and would remove all 2, refused" "$log" &&
	pass "tandemd logs the refusal" || fail "no refusal in the log"
if "${HELPER_ENV[@]}" "$NEG" --port $port --plain $TG --scenario serves >"$T/s1.tap" 2>&1; then
	pass "the target still serves"
else
	fail "the target does not serve: $(cat "$T/s1.tap")"
fi
# the configuration file itself emptied (an editor, a full disk), then
# reloaded: tandemctl -reload and SIGHUP refuse it too
cp "$T/t.conf" "$T/t.conf.orig"
: >"$T/t.conf"
out=$(ctl -reload 2>&1)
rc=$?
if [ $rc -eq 1 ] && grep -q "t.conf has no device: reloading it would remove every device (2).*-force" <<<"$out"; then
	pass "-reload of the emptied file refused: $out"
else
	fail "-reload of the emptied file: exit $rc: $out"
fi
kill -HUP "$TANDEMD_PID"
for ((i = 0; i < 50; i++)); do
	[ "$(grep -c "reload failed, configuration unchanged: .*t.conf has no device" "$log")" -ge 2 ] && break
	sleep 0.1
done
[ "$(grep -c "reload failed, configuration unchanged: .*t.conf has no device" "$log")" -ge 2 ] &&
	pass "SIGHUP with the emptied file: refused, logged" ||
	fail "SIGHUP with the emptied file: no refusal in the log"
[ "$(ndev)" = 2 ] && [ "$(epoch)" = "$e0" ] &&
	pass "after both reloads: the devices are there, the epoch still $e0" ||
	fail "after the refused reloads: $(ndev) devices, epoch $(epoch) (was $e0)"
cp "$T/t.conf.orig" "$T/t.conf"
out=$(ctl -reload 2>&1) && [ "$(ndev)" = 2 ] &&
	pass "the restored file reloads" || fail "reload of the restored file: $out"

out=$(ctl -status -force 2>&1)
rc=$?
[ $rc -eq 2 ] && grep -q -- "-force goes with -config only" <<<"$out" &&
	pass "-force without -config: exit 2" || fail "-status -force: exit $rc: $out"

# an edit names what it removes: the last device may go
ctl -config "$T/t.conf" >/dev/null 2>&1
if ctl -rem_lun 1 -target $TG >/dev/null 2>&1 && ctl -close_dev r1 >/dev/null 2>&1 &&
	ctl -rem_lun 0 -target $TG >/dev/null 2>&1 && ctl -close_dev r0 >/dev/null 2>&1 &&
	[ "$(ndev)" = 0 ]; then
	pass "edits remove the last device without -force"
else
	fail "edits down to no device: $(ctl -list_device 2>&1)"
fi
ctl -config "$T/t.conf" >/dev/null 2>&1
[ "$(ndev)" = 2 ] || fail "cannot restore the configuration"

if ctl -config "$T/empty.conf" -force >"$T/force.out" 2>&1 && [ "$(ndev)" = 0 ]; then
	pass "-config empty.conf -force: applied, no device left"
else
	fail "-config -force: $(cat "$T/force.out"); devices: $(ndev)"
fi
if "${HELPER_ENV[@]}" "$NEG" --port $port --plain $TG --scenario serves >"$T/s2.tap" 2>&1; then
	fail "the target still serves after the forced empty configuration"
else
	pass "the target is gone after the forced empty configuration"
fi

finish_daemon "$log"
end_test "$log"
