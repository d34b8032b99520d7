# shellcheck shell=bash disable=SC2034 # TDM_FAILED: read by funclib.bash
# common.sh - helpers for functional tests (sourced).
# Every test starts its own tandemd on loopback with a port of its own,
# and ends only the processes it started, by PID.

: "${TANDEMD:=$(pwd)/targetd/tandemd}"
: "${TANDEMCTL:=$(pwd)/ctl/tandemctl}"
TDM_PIDS=()

tdm_tmpdir() {
	TDM_TMP=$(mktemp -d /tmp/tandem-test.XXXXXX)
}

tdm_cleanup() {
	local p
	for p in "${TDM_PIDS[@]:-}"; do
		[ -n "$p" ] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	TDM_PIDS=()
	[ -n "${TDM_TMP:-}" ] && [ -z "${TDM_KEEP:-}" ] && rm -rf "$TDM_TMP"
	return 0
}

# wait_port HOST PORT [seconds]: until something listens there
wait_port() {
	local host=$1 port=$2 t=${3:-20} i
	for ((i = 0; i < t * 10; i++)); do
		if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# start_tandemd CONF LOG [extra args]: start in the foreground (background
# job), remember its pid in TANDEMD_PID
start_tandemd() {
	local conf=$1 log=$2
	shift 2
	"$TANDEMD" --foreground --config "$conf" \
		--control-socket "$TDM_TMP/ctl.sock" "$@" >"$log" 2>&1 &
	TANDEMD_PID=$!
	TDM_PIDS+=("$TANDEMD_PID")
}

# stop_tandemd: SIGTERM, wait; returns tandemd's exit status
stop_tandemd() {
	local rc=0
	kill -TERM "$TANDEMD_PID" 2>/dev/null || return 1
	wait "$TANDEMD_PID" || rc=$?
	return $rc
}

pass() { echo "ok: $*"; }
fail() {
	echo "FAIL: $*"
	TDM_FAILED=1
}
