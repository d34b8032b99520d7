# funclib.bash - helpers shared by the functional tests in tests/func
# (sourced after tests/lib/common.sh; not a test itself: scripts/test.sh
# runs only tests/func/*.sh).

# The helper programs live in the build directory of the tandemd under
# test ($TANDEMD = BUILD/targetd/tandemd).
FUNC_BUILD=$(cd "$(dirname "$TANDEMD")/.." 2>/dev/null && pwd)
# shellcheck disable=SC2034 # used by the scripts that source this file
HOLD=${HOLD_SESSION:-$FUNC_BUILD/tests/func/hold_session}
# shellcheck disable=SC2034
NEG=${ISCSI_NEG:-$FUNC_BUILD/tests/func/iscsi_neg}
# the helpers are test clients: their own leaks are not what we test (the
# last detect_leaks in ASAN_OPTIONS wins)
# shellcheck disable=SC2034
HELPER_ENV=(env "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0")

skip() {
	echo "SKIP: $*"
	exit 77
}

need_tandemd() {
	[ -x "$TANDEMD" ] || skip "no tandemd at $TANDEMD (build it first)"
}

need_hold() {
	[ -x "$HOLD" ] || skip "no $HOLD (tests/func/helpers.mk, needs libiscsi-dev at configure time)"
}

# proc_alive PID: running (an exited child that was not reaped yet is a
# zombie: not alive)
proc_alive() {
	local st
	st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ]
}

# forget_pid PID: take PID out of the list tdm_cleanup kills
forget_pid() {
	local keep=() p
	for p in "${TDM_PIDS[@]}"; do
		[ "$p" != "$1" ] && keep+=("$p")
	done
	TDM_PIDS=("${keep[@]}")
}

# start_wait CONF LOG PORT [HOST [ARGS...]]: start tandemd (with ARGS),
# wait for its portal; 1 (with the log shown) if it does not come up
start_wait() {
	local conf=$1 log=$2 port=$3 host=${4:-127.0.0.1} i
	start_tandemd "$conf" "$log" "${@:5}"
	for ((i = 0; i < 200; i++)); do
		if ! proc_alive "$TANDEMD_PID"; then
			echo "tandemd exited at start:"
			tail -20 "$log"
			return 1
		fi
		if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	echo "tandemd does not listen on $host:$port after 20 s:"
	tail -20 "$log"
	return 1
}

# stop_within SECS: SIGTERM tandemd and wait at most SECS for it to
# exit; sets STOP_RC (its exit status, or "timeout") and STOP_MS
STOP_RC=
STOP_MS=
stop_within() {
	local secs=$1 t0 i
	t0=$(date +%s%N)
	STOP_RC=
	kill -TERM "$TANDEMD_PID" 2>/dev/null || { STOP_RC="not running"; return 1; }
	for ((i = 0; i < secs * 20; i++)); do
		proc_alive "$TANDEMD_PID" || break
		sleep 0.05
	done
	STOP_MS=$((($(date +%s%N) - t0) / 1000000))
	if proc_alive "$TANDEMD_PID"; then
		STOP_RC=timeout
		kill -KILL "$TANDEMD_PID" 2>/dev/null
		wait "$TANDEMD_PID" 2>/dev/null
		forget_pid "$TANDEMD_PID"
		return 1
	fi
	wait "$TANDEMD_PID"
	STOP_RC=$?
	forget_pid "$TANDEMD_PID"
	[ "$STOP_RC" -eq 0 ]
}

# sanitizer_clean LOG: no ASan/LSan/UBSan report in LOG
sanitizer_clean() {
	if grep -qE "ERROR: (Address|Leak)Sanitizer|runtime error:|Sanitizer:DEADLYSIGNAL" "$1"; then
		grep -A30 -E "Sanitizer|runtime error" "$1" | head -60
		return 1
	fi
	return 0
}

# finish_daemon LOG: the daemon must still be alive, stop with SIGTERM in
# 15 s with status 0, and its log must be free of sanitizer reports
finish_daemon() {
	local log=$1
	if proc_alive "$TANDEMD_PID"; then
		pass "tandemd still running"
		if stop_within 15; then
			pass "SIGTERM: tandemd exited 0 in $STOP_MS ms"
		else
			fail "SIGTERM: tandemd exit status $STOP_RC after $STOP_MS ms"
		fi
	else
		wait "$TANDEMD_PID"
		fail "tandemd died (exit status $?)"
		forget_pid "$TANDEMD_PID"
	fi
	if sanitizer_clean "$log"; then
		pass "no sanitizer report in tandemd's log"
	else
		fail "sanitizer report in tandemd's log"
	fi
}

# tap_check CMD...: run a helper that prints TAP (iscsi_neg --scenario):
# pass with its "ok" lines, or fail with what it printed
tap_check() {
	local out
	if out=$("$@" 2>&1); then
		pass "$(grep '^ok' <<<"$out" | tr '\n' ' ')"
	else
		fail "$(grep -v '^1\.\.' <<<"$out" | tr '\n' ' ')"
	fi
}

# start_with_shim CONF LOG SOCKET [VAR=VALUE...]: start tandemd (as
# start_tandemd, TANDEMD_PID) with tests/func/fault_shim.c preloaded and
# the shim's TDM_SHIM_* settings; under umask $SHIM_UMASK if set; 1 if the
# shim cannot be built
start_with_shim() {
	local conf=$1 log=$2 sock=$3
	shift 3
	[ -f "$TDM_TMP/fault_shim.so" ] ||
		cc -shared -fPIC -O2 -o "$TDM_TMP/fault_shim.so" tests/func/fault_shim.c -ldl ||
		return 1
	(
		umask "${SHIM_UMASK:-$(umask)}"
		exec env "$@" LD_PRELOAD="$TDM_TMP/fault_shim.so" \
			ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
			"$TANDEMD" --foreground --config "$conf" --control-socket "$sock" >"$log" 2>&1
	) &
	TANDEMD_PID=$!
	TDM_PIDS+=("$TANDEMD_PID")
}

# end_test: the exit status from TDM_FAILED (common.sh's fail sets it)
end_test() {
	if [ -n "${TDM_FAILED:-}" ]; then
		echo "== some checks FAILED"
		[ -n "${1:-}" ] && [ -f "$1" ] && { echo "--- tandemd log (tail)"; tail -40 "$1"; }
		exit 1
	fi
	echo "== all checks passed"
	exit 0
}
