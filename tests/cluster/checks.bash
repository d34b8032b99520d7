# shellcheck shell=bash disable=SC2034
# checks.bash - counting checks in the cluster lab's scripts (sourced
# after lab.sh): ok/ko print one line each and count; lab_need_daemons
# skips (exit 77, with the reason) when what a scenario runs is not built.
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
# lab_sanitizer_check: no ASan/UBSan report in any daemon's log of the lab
# (daemons.log: both daemons as the OCF agent ra/target starts them)
lab_sanitizer_check() {
	local f bad=
	for f in "$LAB_DIR"/node*/tandemd.log "$LAB_DIR"/node*/agentd.log "$LAB_DIR"/node*/daemons.log; do
		[ -f "$f" ] || continue
		if grep -qE "ERROR: AddressSanitizer|runtime error:|Sanitizer:DEADLYSIGNAL" "$f"; then
			bad+=" $f"
			grep -m5 -A10 -E "Sanitizer|runtime error" "$f"
		fi
	done
	[ -z "$bad" ] && ok "no sanitizer report in the daemons' logs" || ko "sanitizer reports in:$bad"
}
