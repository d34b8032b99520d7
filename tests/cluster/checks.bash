# shellcheck shell=bash disable=SC2034
# checks.bash - counting checks in the cluster lab's scripts (sourced
# after lab.sh): ok/ko print one line each and count; lab_need_daemons
# skips (exit 77, with the reason) when what a scenario runs is not built;
# helpers the scenarios share (a head's cluster status, starting heads).
PASSED=0
FAILED=0
ok() {
	echo "ok: $*"
	PASSED=$((PASSED + 1))
}
ko() {
	echo "FAIL: $*"
	FAILED=$((FAILED + 1))
}
# lab_need_root; lab_need_daemons: tandem-agentd and scsitool built
lab_need_root() {
	[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
}
lab_need_daemons() {
	lab_need_root
	[ -x "$AGENTD" ] || { echo "SKIP: $AGENTD not built (needs libcpg-dev, libvotequorum-dev at configure time)"; exit 77; }
	[ -x "$SCSITOOL" ] || { echo "SKIP: $SCSITOOL not built (needs libiscsi-dev)"; exit 77; }
	: "${TANDEMCTL:=$LAB_SRC/ctl/tandemctl}"
}
# lab_need_agents PKG...: the OCF agents of ra/ built (RA_DIR, default
# the tree's ra/; skip otherwise) and the Debian packages PKG installed
lab_need_agents() {
	local a
	: "${RA_DIR:=$LAB_SRC/ra}"
	for a in target alua; do
		[ -x "$RA_DIR/$a" ] || { echo "SKIP: $RA_DIR/$a not built (make)"; exit 77; }
	done
	"$LAB_SRC/scripts/apt-install.sh" "$@" || { echo "FAIL: cannot install $*"; exit 1; }
}
# lab_sanitizer_check: no ASan/UBSan report in any daemon's log of the lab
# (daemons.log, log/daemons.log: both daemons as the OCF agent ra/target
# starts them, by hand or under Pacemaker)
lab_sanitizer_check() {
	local f bad=
	for f in "$LAB_DIR"/node*/tandemd.log "$LAB_DIR"/node*/agentd.log "$LAB_DIR"/node*/daemons.log \
		"$LAB_DIR"/node*/log/daemons.log; do
		[ -f "$f" ] || continue
		if grep -qE "ERROR: AddressSanitizer|runtime error:|Sanitizer:DEADLYSIGNAL" "$f"; then
			bad+=" $f"
			grep -m5 -A10 -E "Sanitizer|runtime error" "$f"
		fi
	done
	[ -z "$bad" ] && ok "no sanitizer report in the daemons' logs" || ko "sanitizer reports in:$bad"
}
# hold_sessions MS I...: one session on each head I to LUN HOLD_LUN
# (default 0; scsitool tur-after MS: TEST UNIT READY, the session held MS
# ms, TEST UNIT READY again), initiators host-f, host-g, ... in that
# order; returns once every one is held. held_ua DESC: each of them ended with ASYMMETRIC ACCESS STATE
# CHANGED (6/2A/06): a unit attention raised on it meanwhile
HELD_INI=(f g h i j k l m n)
hold_sessions() {
	local ms=$1 i k=0 n held
	shift
	HELD=()
	for i in "$@"; do
		: >"$LAB_DIR/held$i.log"
		client_bg "$LAB_DIR/held$i.log" "$SCSITOOL" -r -i "iqn.2026-11.org.example:host-${HELD_INI[k]}" \
			"$(lab_url "$i" "${HOLD_LUN:-0}")" tur-after "$ms"
		HELD+=("$i:$LAB_PID")
		k=$((k + 1))
	done
	for ((n = 0; n < 100; n++)); do
		held=1
		for i in "$@"; do
			grep -q '^held_ms' "$LAB_DIR/held$i.log" 2>/dev/null || held=0
		done
		[ $held = 1 ] && break
		sleep 0.05
	done
}
held_ua() {
	local h n alive bad=
	for ((n = 0; n < 200; n++)); do
		alive=0
		for h in "${HELD[@]}"; do lab_alive "${h#*:}" && alive=1; done
		[ $alive = 0 ] && break
		sleep 0.05
	done
	for h in "${HELD[@]}"; do
		tail -1 "$LAB_DIR/held${h%%:*}.log" | grep -q 'sense=6/2a/06' ||
			bad+=" head ${h%%:*} [$(tr '\n' ' ' <"$LAB_DIR/held${h%%:*}.log")]"
	done
	[ -z "$bad" ] && ok "$1" || ko "$1:$bad"
}
# cluster_field I KEY: a field of tandemctl -status's cluster line of
# head I; is_serving I, wait_serving I [SECS]: its serving=1
cluster_field() {
	node_exec "$1" "$TANDEMCTL" -s "$LAB_CTL_SOCK" -status 2>/dev/null |
		sed -n "s/^cluster *//p" | tr ',' '\n' | sed -n "s/^$2=//p"
}
is_serving() { [ "$(cluster_field "$1" serving)" = 1 ]; }
wait_serving() { lab_wait "${2:-30}" is_serving "$1"; }
# lab_start_heads N: a lab of N heads, corosync quorate, tandem-agentd
# (with AGENT_ARGS[I], word by word, when set) and tandemd on each, until
# each serves (one ok or ko line per head)
lab_start_heads() {
	local i
	lab_up "$1" || return 1
	lab_start_corosync_all
	for ((i = 1; i <= $1; i++)); do
		wait_quorate "$i" 20 || ko "head $i: corosync not quorate"
	done
	for ((i = 1; i <= $1; i++)); do
		# shellcheck disable=SC2086 # the agent arguments, word by word
		agentd_start "$i" ${AGENT_ARGS[$i]:-}
		tandemd_start "$i"
	done
	for ((i = 1; i <= $1; i++)); do
		if wait_portal "$i" 30 && wait_serving "$i" 30; then
			ok "head $i serves with its agent (${LAB_WAITED:-?} s)"
		else
			ko "head $i does not serve: $(tail -5 "$(lab_ndir "$i")/tandemd.log") $(tail -5 "$(lab_ndir "$i")/agentd.log")"
		fi
	done
}
