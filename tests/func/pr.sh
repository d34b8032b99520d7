#!/bin/bash
# pr.sh - persistent reservations and ALUA with several initiators over
# real iSCSI: one tandemd on loopback, LU disk01 behind three targets
# (relative target ports 1, 2, 3; portals 3500 and 3501) in the three
# target port groups of DEVICE_GROUP dg, and disk02 behind a fourth target
# (port 4) in no device group. tests/func/pr_multi (libiscsi) drives it:
#  (a) every PERSISTENT RESERVE OUT service action and reservation type,
#      conflicts, unit attentions, ALL_TG_PT, SPEC_I_PT, REGISTER AND MOVE,
#      PREEMPT AND ABORT with commands in flight (TAS 0 and 1);
#  (b) ALUA: each state set with tandemctl against each opcode class,
#      RTPG in both formats, STPG and its unit attentions;
#  (c) APTPL: registrations, reservation and generation survive a
#      SIGTERM restart and a SIGKILL; with APTPL=0 nothing survives;
#  (d) the unit attentions of LUN RESET, TARGET WARM RESET and TARGET
#      COLD RESET, and the cold reset closing the target's sessions.
# Prints "ok N - ..." / "not ok N - ..." per check, then "N passed, N
# failed". Ports: 3500, 3501.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/common.sh
. tests/func/funclib.bash

need_tandemd
[ -x "$TANDEMCTL" ] || skip "no tandemctl at $TANDEMCTL (build it first)"
PRM=$FUNC_BUILD/tests/func/pr_multi
[ -x "$PRM" ] || skip "no $PRM (tests/func/pr_multi.mk, needs libiscsi-dev at configure time)"
tdm_tmpdir
trap tdm_cleanup EXIT
T=$TDM_TMP
S=$T/ctl.sock
P1=127.0.0.1:3500
P2=127.0.0.1:3501
IQN=iqn.2026-11.org.tandem
export TANDEM_STATE_DIR=$T/state
mkdir -p "$TANDEM_STATE_DIR"

N=1
NPASS=0
NFAIL=0
ok() {
	echo "ok $N - $1"
	N=$((N + 1))
	NPASS=$((NPASS + 1))
}
notok() {
	echo "not ok $N - $1"
	N=$((N + 1))
	NFAIL=$((NFAIL + 1))
}
# phase NAME ARGS...: run pr_multi, count its checks
phase() {
	local out rc line p f
	out=$(PR_FIRST=$N "${HELPER_ENV[@]}" "$PRM" "$@" 2>&1)
	rc=$?
	echo "$out" | grep -v -E '^[0-9]+ passed, [0-9]+ failed$'
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' <<<"$out" | tail -1)
	if [ -n "$line" ]; then
		read -r p _ f _ <<<"$line"
		NPASS=$((NPASS + p))
		NFAIL=$((NFAIL + f))
		N=$((N + p + f))
	fi
	if [ -z "$line" ] || { [ "$rc" -ne 0 ] && [ "$rc" -ne 1 ]; }; then
		notok "pr_multi $1 ran to its end: exit $rc"
	fi
	PHASE_OUT=$out
}
start() {
	if start_wait "$T/tandem.conf" "$T/tandemd.$1.log" 3500 &&
		wait_port 127.0.0.1 3501 5; then
		ok "tandemd started ($1)"
		return 0
	fi
	notok "tandemd started ($1)"
	return 1
}
finish() {
	local l
	for l in "$T"/tandemd.*.log; do
		if sanitizer_clean "$l"; then
			ok "no sanitizer report in $(basename "$l")"
		else
			notok "sanitizer report in $(basename "$l")"
		fi
	done
	echo "$NPASS passed, $NFAIL failed"
	if [ "$NFAIL" -ne 0 ]; then
		tail -n 30 "$T"/tandemd.*.log
		exit 1
	fi
	exit 0
}

cat >"$T/tandem.conf" <<EOF
HANDLER ram {
	DEVICE disk01 {
		size_mb 64
	}
	DEVICE disk02 {
		size_mb 8
	}
}
TARGET_DRIVER iscsi {
	enabled 1
	portal $P1
	portal $P2
	TARGET $IQN:pr-t1 {
		enabled 1
		rel_tgt_id 1
		LUN 0 disk01
	}
	TARGET $IQN:pr-t2 {
		enabled 1
		rel_tgt_id 2
		LUN 0 disk01
	}
	TARGET $IQN:pr-t3 {
		enabled 1
		rel_tgt_id 3
		LUN 0 disk01
	}
	TARGET $IQN:pr-t4 {
		enabled 1
		rel_tgt_id 4
		LUN 0 disk02
	}
}
DEVICE_GROUP dg {
	DEVICE disk01
	TARGET_GROUP tg1 {
		group_id 1
		preferred 1
		state active
		TARGET $IQN:pr-t1
	}
	TARGET_GROUP tg2 {
		group_id 2
		state active
		TARGET $IQN:pr-t2
	}
	TARGET_GROUP tg3 {
		group_id 3
		state active
		TARGET $IQN:pr-t3
	}
}
EOF

start first || finish

# (a) persistent reservations
phase pr $P1 $P2
# (b) ALUA, tandemctl spawned by pr_multi
phase alua $P1 $P2 "$TANDEMCTL" -s "$S"
# (d) LUN RESET, TARGET WARM RESET, TARGET COLD RESET
phase reset $P1 $P2

# (c) APTPL through a clean stop and through SIGKILL
phase aptpl-set $P1 $P2
GEN=$(sed -n 's/^# gen \([0-9]*\)$/\1/p' <<<"$PHASE_OUT")
F=$TANDEM_STATE_DIR/pr/disk01
if [ -s "$F" ]; then ok "APTPL file $F written"; else notok "APTPL file $F written"; fi
if stop_within 15; then
	ok "SIGTERM: tandemd exited 0 in $STOP_MS ms"
else
	notok "SIGTERM: tandemd exit status $STOP_RC after $STOP_MS ms"
fi
start sigterm || finish
phase aptpl-check $P1 $P2 "${GEN:-0}"
kill -KILL "$TANDEMD_PID"
{ wait "$TANDEMD_PID"; } 2>/dev/null
forget_pid "$TANDEMD_PID"
start sigkill || finish
phase aptpl-check $P1 $P2 "${GEN:-0}"
phase aptpl0-set $P1 $P2
if [ ! -e "$F" ]; then
	ok "APTPL=0: the APTPL file is removed"
else
	notok "APTPL=0: the APTPL file is removed ($(ls -l "$F"))"
fi
if stop_within 15; then
	ok "SIGTERM: tandemd exited 0 in $STOP_MS ms"
else
	notok "SIGTERM: tandemd exit status $STOP_RC after $STOP_MS ms"
fi
start aptpl0 || finish
phase aptpl0-check $P1 $P2
if proc_alive "$TANDEMD_PID" && stop_within 15; then
	ok "tandemd alive at the end and exits 0 on SIGTERM"
else
	notok "tandemd alive at the end and exits 0 on SIGTERM ($STOP_RC)"
fi
finish
