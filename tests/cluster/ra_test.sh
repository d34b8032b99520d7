#!/bin/bash
# ra_test.sh - the OCF resource agents of ra/ (ocf:tandem:target and
# ocf:tandem:alua) in the namespace lab (tests/cluster/lab.sh): each agent
# runs inside a head's namespaces and starts the real daemons there
# (corosync is the lab's; tandemd -A and tandem-agentd are the agent's).
#
#  2 heads, two device groups (dg: LUN 0, groups tg1/tg2 configured
#  active; dg1: LUN 1, groups h1/h2 configured unavailable):
#   1. both agents' metadata validate against resource-agents' DTD and
#      RELAX NG schema; ocf-tester passes on ocf:tandem:target in head 1;
#   2. target: start on both heads (each serves), a clean stop ->
#      monitor NOT_RUNNING and no daemon left in the head; only
#      tandem-agentd killed -> ERR_GENERIC, and the reverse; tandemd
#      frozen (SIGSTOP) -> ERR_GENERIC, and stop still leaves nothing
#      (SIGKILL after its budget); a stop with an initiator's session
#      open drains it; OCF_CHECK_LEVEL=10 (login + INQUIRY through the
#      head's portal) passes, and fails on a wrong target; the head's
#      corosync killed -> ERR_GENERIC ("does not serve"), back once
#      corosync is;
#   3. ocf-tester passes on ocf:tandem:alua in head 1 (target running);
#   4. alua: start on both heads (unpromoted = active/non-optimized),
#      promote head 1 -> its group active/optimized with PREF in REPORT
#      TARGET PORT GROUPS through BOTH heads, held sessions on both heads
#      get 6/2A/06; demote -> back to active/non-optimized; the other
#      device group at the same time promoted on head 2 (independent);
#      unpromoted_state=standby; stop -> unavailable through the other
#      head; derived target groups; promotion scores (serving, devices
#      open, DRBD role through a stand-in drbdadm: the real DRBD needs a
#      kernel module this host cannot load); promote refused on a head
#      that does not serve;
#  3 heads:
#   5. target and alua on three heads: promote head 3, then move to head
#      2 (demote, promote): RTPG identical through all three heads.
# Prints what it measured (times) and "N passed, N failed"; exit 0 only
# when nothing failed. Root. Installs what it needs (resource-agents for
# ocf-tester and ocf-shellfuncs, pacemaker-cli-utils for crm_attribute,
# libxml2-utils, libiscsi-bin for iscsi-inq).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/cluster/lab.sh

. tests/cluster/checks.bash
lab_need_daemons
lab_need_agents resource-agents pacemaker-cli-utils libxml2-utils libiscsi-bin
OCF_ROOT=/usr/lib/ocf
A=iqn.2026-11.org.example:host-a

now_ms() { date +%s%3N; }
T0=$(now_ms)
# section TITLE: a header with the time since the start
section() { echo "== $* (at $((($(now_ms) - T0) / 1000)) s)"; }

# the agents where the user nobody can read them (ocf-tester runs
# meta-data as nobody; the lab's directory is private)
AG=$(mktemp -d /tmp/tandem-ra.XXXXXX) || exit 1
chmod 755 "$AG"
cp "$RA_DIR/target" "$RA_DIR/alua" "$AG/"
chmod 755 "$AG/target" "$AG/alua"
# a stand-in for drbdadm: "drbdadm role R" and "drbdadm dstate R" print
# what the test wrote to $AG/stub/role and $AG/stub/dstate
mkdir -p "$AG/stub"
cat >"$AG/stub/drbdadm" <<'EOF'
#!/bin/sh
d=$(dirname "$0")
case $1 in
role) cat "$d/role" ;;
dstate) cat "$d/dstate" ;;
*) exit 1 ;;
esac
EOF
chmod 755 "$AG/stub" "$AG/stub/drbdadm"
cleanup() {
	lab_down
	rm -rf "$AG"
}
trap cleanup EXIT

# ra_conf I: head I's configuration: lab_tandem_conf's with two LUs, dg
# (disk0, LUN 0, groups tgJ configured active) and dg1 (disk1, LUN 1,
# groups hJ configured unavailable, as docs/pacemaker.md advises)
ra_conf() {
	lab_tandem_conf "$1" 2
	echo "DEVICE_GROUP dg1 {"
	echo "	DEVICE disk1"
	lab_tgroups "$1" h unavailable
	echo "}"
}

# the agents' parameters for head I, as OCF_RESKEY_ variables
ra_env() {
	local d
	d=$(lab_ndir "$1")
	echo OCF_ROOT=$OCF_ROOT OCF_RESKEY_config="$d/ra.conf" \
		OCF_RESKEY_tandemd="$TANDEMD" OCF_RESKEY_agentd="$AGENTD" \
		OCF_RESKEY_tandemctl="$TANDEMCTL" OCF_RESKEY_state_dir="$d/state" \
		OCF_RESKEY_log_file="$d/daemons.log" HA_LOGFILE="$d/ra.log"
}

# ra I AGENT ACTION [VAR=VALUE...]: run an agent's action inside head I;
# its exit code in RC, its output (exit reasons) in OUT, its duration in
# MS
ra() {
	local i=$1 a=$2 act=$3 t0
	shift 3
	t0=$(now_ms)
	# shellcheck disable=SC2046 # ra_env's words are VAR=VALUE
	OUT=$(node_exec "$i" env $(ra_env "$i") OCF_RESOURCE_INSTANCE="r$a" \
		OCF_RESKEY_agentd_options="$LAB_AGENTD_FENCING" \
		OCF_RESKEY_device_group=dg "$@" "$AG/$a" "$act" 2>&1)
	RC=$?
	MS=$(($(now_ms) - t0))
}

# want DESC CODE: RC is CODE
want() {
	if [ "$RC" = "$2" ]; then
		ok "$1: rc $RC (${MS} ms)${OUT:+: $(grep -m1 'ocf-exit-reason' <<<"$OUT")}"
	else
		ko "$1: rc $RC, want $2 (${MS} ms): $(tr '\n' ' ' <<<"$OUT" | cut -c1-400)"
	fi
}

# daemons I: the tandem daemons running in head I ("comm pid" lines)
daemons() {
	local p c
	for p in $(lab_ns_pids "$1"); do
		c=$(cat "/proc/$p/comm" 2>/dev/null) || continue
		case $c in tandemd | tandem-agentd*) echo "$c $p" ;; esac
	done
}
no_daemons() { # I DESC
	local left
	left=$(daemons "$1")
	[ -z "$left" ] && ok "$2: no tandemd or tandem-agentd left in head $1" ||
		ko "$2: left in head $1: $(tr '\n' ' ' <<<"$left")"
}
pidfile() { node_exec "$1" cat "/run/tandem/$2.pid" 2>/dev/null; }

# rtpg I [LUN]: head I's REPORT TARGET PORT GROUPS, "tpg" lines
rtpg() {
	client_exec "$SCSITOOL" -r -i "$A" "$(lab_url "$1" "${2:-0}")" rtpg 2>&1 | grep '^tpg'
}
# rtpg_all N LUN: RTPG through heads 1..N, identical; printed once
same_rtpg() { # DESC N LUN WANT-REGEX...
	local desc=$1 n=$2 lun=$3 i r0 r
	shift 3
	r0=$(rtpg 1 "$lun")
	for ((i = 2; i <= n; i++)); do
		r=$(rtpg "$i" "$lun")
		[ "$r" = "$r0" ] || {
			ko "$desc: RTPG differs: head 1 [$(tr '\n' ' ' <<<"$r0")] head $i [$(tr '\n' ' ' <<<"$r")]"
			return
		}
	done
	for r in "$@"; do
		grep -qE "$r" <<<"$r0" || {
			ko "$desc: /$r/ not in RTPG: $(tr '\n' ' ' <<<"$r0")"
			return
		}
	done
	ok "$desc: RTPG identical through all $n heads: $(tr '\n' ' ' <<<"$r0")"
}

# ocf_tester I AGENT [NAME=VALUE...]: resource-agents' ocf-tester inside
# head I on AGENT with the lab's parameters
ocf_tester() {
	local i=$1 a=$2 d o=() t0 out rc
	shift 2
	d=$(lab_ndir "$i")
	for kv in config="$d/ra.conf" tandemd="$TANDEMD" agentd="$AGENTD" \
		tandemctl="$TANDEMCTL" state_dir="$d/state" log_file="$d/daemons.log" \
		agentd_options="$LAB_AGENTD_FENCING" "$@"; do
		o+=(-o "$kv")
	done
	t0=$(now_ms)
	out=$(node_exec "$i" env HA_LOGFILE="$d/ra.log" ocf-tester -v -n "t$a" "${o[@]}" "$AG/$a" 2>&1)
	rc=$?
	echo "$out" | grep -E '^(Beginning|\* |Testing|Checking|Checking for|.*passed all tests|Tests failed|\* Your agent)' | sed 's/^/   | /'
	[ $rc -eq 0 ] && grep -q "passed all tests" <<<"$out" &&
		ok "ocf-tester: ocf:tandem:$a passed all tests in head $i ($(($(now_ms) - t0)) ms)" ||
		ko "ocf-tester on ocf:tandem:$a: exit $rc: $(grep -E '^\* rc|Tests failed' <<<"$out" | tr '\n' ' ')"
}

start_lab() { # N
	local i
	lab_up "$1" || return 1
	# lab_up's EXIT trap is lab_down alone: ours removes $AG too
	trap cleanup EXIT
	lab_start_corosync_all
	for ((i = 1; i <= $1; i++)); do
		wait_quorate "$i" 20 || ko "head $i: corosync not quorate"
		ra_conf "$i" >"$(lab_ndir "$i")/ra.conf"
	done
}

section "1. metadata; ocf-tester on ocf:tandem:target"
for a in target alua; do
	md=$(OCF_ROOT=$OCF_ROOT "$AG/$a" meta-data 2>&1)
	e1=$(cd /usr/share/resource-agents && xmllint --noout --valid - <<<"$md" 2>&1) &&
		ok "ocf:tandem:$a metadata valid against ra-api-1.dtd" || ko "$a metadata, DTD: $e1"
	e2=$(xmllint --noout --relaxng /usr/share/resource-agents/metadata.rng - <<<"$md" 2>&1) &&
		ok "ocf:tandem:$a metadata valid against metadata.rng" || ko "$a metadata, RELAX NG: $e2"
	np=$(grep -c '<parameter ' <<<"$md")
	nd=$(grep -c 'content type="[a-z]*" default=' <<<"$md")
	[ "$np" -gt 0 ] && [ "$np" = "$nd" ] && ok "ocf:tandem:$a: $np parameters, each with a type and a default" ||
		ko "$a: $np parameters, $nd with type and default"
done
start_lab 2
ocf_tester 1 target
no_daemons 1 "after ocf-tester"

section "2. ocf:tandem:target"
for i in 1 2; do
	ra "$i" target start
	want "start on head $i (serves)" 0
done
ra 1 target monitor
want "monitor on head 1" 0
ra 1 target validate-all
want "validate-all" 0
ra 1 target validate-all OCF_RESKEY_config=/nonexistent.conf
want "validate-all, no configuration file" 5
ra 1 target validate-all OCF_RESKEY_sync_wait=soon
want "validate-all, sync_wait not a number" 6
ra 1 target stop
want "clean stop" 0
no_daemons 1 "clean stop"
ra 1 target monitor
want "monitor after a clean stop: NOT_RUNNING" 7
ra 1 target monitor OCF_RESKEY_CRM_meta_interval=0
want "probe after a clean stop: NOT_RUNNING" 7

ra 1 target start
want "start again" 0
kill -KILL "$(pidfile 1 tandem-agentd)" 2>/dev/null
ra 1 target monitor
want "only tandemd alive (tandem-agentd killed -9): ERR_GENERIC" 1
grep -q "but tandem-agentd does not" <<<"$OUT" && ok "... its exit reason names the dead agent" || ko "exit reason: $OUT"
ra 1 target stop
want "stop of the half-dead head" 0
no_daemons 1 "stop of the half-dead head"
ra 1 target monitor
want "monitor after it: NOT_RUNNING" 7

ra 1 target start
want "start again" 0
kill -KILL "$(pidfile 1 tandemd)" 2>/dev/null
ra 1 target monitor
want "only tandem-agentd alive (tandemd killed -9): ERR_GENERIC" 1
ra 1 target stop
want "stop" 0
no_daemons 1 "stop after tandemd was killed"

ra 1 target start
want "start again" 0
tp=$(pidfile 1 tandemd)
kill -STOP "$tp"
ra 1 target monitor OCF_RESKEY_CRM_meta_timeout=10000
want "tandemd frozen (SIGSTOP): ERR_GENERIC" 1
grep -q "does not answer" <<<"$OUT" && ok "... it does not answer on its control socket" || ko "exit reason: $OUT"
ra 1 target stop OCF_RESKEY_CRM_meta_timeout=10000
want "stop of the frozen tandemd (10 s budget)" 0
[ "$MS" -lt 10000 ] && ok "stop took $MS ms, within its 10 s timeout" || ko "stop took $MS ms"
grep -q "still runs .* after SIGTERM: SIGKILL" "$(lab_ndir 1)/ra.log" && ok "tandemd got SIGKILL once the budget ran short" ||
	ko "no SIGKILL logged: $(tail -3 "$(lab_ndir 1)/ra.log")"
no_daemons 1 "stop of the frozen tandemd"

# a tandemd that the resource did not start (no pid file)
TANDEMD_AGENT_OPT=-A tandemd_start 1 "$(lab_ndir 1)/ra.conf"
wait_portal 1 20
ra 1 target monitor OCF_RESKEY_CRM_meta_interval=0
want "probe with a tandemd started outside the resource: ERR_GENERIC" 1
grep -q "started outside this resource" <<<"$OUT" && ok "... named so" || ko "exit reason: $OUT"
daemon_kill 1 tandemd TERM
# a start that cannot work: the portal's address is not the head's
sed "s/portal $(lab_addr 1):/portal 10.213.0.99:/" "$(lab_ndir 1)/ra.conf" >"$(lab_ndir 1)/bad.conf"
ra 1 target start OCF_RESKEY_config="$(lab_ndir 1)/bad.conf"
want "start with a portal the head does not have: ERR_GENERIC" 1
grep -q "did not start\|exited during start" <<<"$OUT" && ok "... tandemd's failure named: $(grep -o 'ocf-exit-reason:.*' <<<"$OUT" | cut -c1-200)" ||
	ko "exit reason: $OUT"
ra 1 target stop
want "stop after the failed start" 0
no_daemons 1 "failed start"

ra 1 target start
want "start again" 0
: >"$LAB_DIR/held.log"
client_bg "$LAB_DIR/held.log" "$SCSITOOL" -r -i "$A" "$(lab_url 1)" tur-after 20000
ph=$LAB_PID
for ((n = 0; n < 100; n++)); do grep -q '^held_ms' "$LAB_DIR/held.log" && break; sleep 0.05; done
ra 1 target stop
want "stop with an initiator's session open" 0
dl=$(grep -c 'to drain' "$(lab_ndir 1)/daemons.log")
grep 'to drain' "$(lab_ndir 1)/daemons.log" | tail -1 | grep -q 'shutting down, 1 connection to drain' &&
	ok "tandemd drained the open session during the stop (stop: $MS ms)" ||
	ko "drain ($dl lines): $(grep 'to drain' "$(lab_ndir 1)/daemons.log" | tail -1)"
grep -q "$A -> $LAB_IQN: connection closed: shutting down" "$(lab_ndir 1)/daemons.log" &&
	ok "the initiator's connection was closed by the shutdown" ||
	ko "no 'connection closed: shutting down' for $A in the daemons' log"
# the initiator notices when it next sends (after its 20 s hold)
kill -KILL "$ph" 2>/dev/null
no_daemons 1 "stop with a session"

ra 1 target start
want "start again" 0
ra 1 target monitor OCF_CHECK_LEVEL=10
want "monitor OCF_CHECK_LEVEL=10 (login and INQUIRY through $(lab_addr 1):$LAB_PORT)" 0
ra 1 target monitor OCF_CHECK_LEVEL=20
want "monitor OCF_CHECK_LEVEL=20 (runs level 10)" 0
ra 1 target monitor OCF_CHECK_LEVEL=10 OCF_RESKEY_check_url="iscsi://$(lab_addr 1):$LAB_PORT/iqn.2026-11.org.tandem:nosuch/0"
want "level 10 on a target that does not exist: ERR_GENERIC" 1
ra 1 target monitor OCF_CHECK_LEVEL=0 OCF_RESKEY_check_url="iscsi://$(lab_addr 1):$LAB_PORT/iqn.2026-11.org.tandem:nosuch/0"
want "... which level 0 does not check" 0

corosync_kill 1
ra 1 target monitor OCF_RESKEY_sync_wait=3
want "head 1's corosync killed: ERR_GENERIC" 1
grep -q "does not serve" <<<"$OUT" && ok "... the head does not serve: $(grep -o 'serving=[01],quorate=[01]' <<<"$OUT")" ||
	ko "exit reason: $OUT"
corosync_start 1
ra 1 target monitor OCF_RESKEY_sync_wait=20
want "corosync back: the head serves again (monitor waited)" 0

section "3. ocf-tester on ocf:tandem:alua (head 1's target running)"
ocf_tester 1 alua device_group=dg
ra 1 target monitor
want "head 1 still serves after ocf-tester on alua" 0

section "4. ocf:tandem:alua on two heads"
# dg's groups are configured active: a probe finds them promoted
ra 1 alua monitor OCF_RESKEY_CRM_meta_interval=0
want "probe of dg on head 1 (ocf-tester left it stopped: unavailable)" 7
ra 2 alua monitor OCF_RESKEY_CRM_meta_interval=0
want "probe of dg on head 2 (configured active: promoted)" 8
ra 2 alua demote
want "demote dg on head 2" 0
ra 1 alua start
want "start dg on head 1" 0
same_rtpg "dg started on both heads" 2 0 '^tpg id=1 state=1 pref=0 ' '^tpg id=2 state=1 pref=0 '
# dg1's groups are configured unavailable: stopped
ra 1 alua monitor OCF_RESKEY_device_group=dg1 OCF_RESKEY_CRM_meta_interval=0
want "probe of dg1 on head 1 (configured unavailable: stopped)" 7
for i in 1 2; do
	ra "$i" alua start OCF_RESKEY_device_group=dg1
	want "start dg1 on head $i (derived target group h$i)" 0
done
same_rtpg "dg1 started on both heads" 2 1 '^tpg id=1 state=1 pref=0 ' '^tpg id=2 state=1 pref=0 '

hold_sessions 3000 1 2
ra 1 alua promote
want "promote dg on head 1" 0
same_rtpg "dg promoted on head 1" 2 0 '^tpg id=1 state=0 pref=1 status=2 ' '^tpg id=2 state=1 pref=0 '
held_ua "sessions held on both heads got ASYMMETRIC ACCESS STATE CHANGED (6/2A/06)"
ra 1 alua monitor
want "monitor dg on head 1: promoted" 8
ra 2 alua monitor
want "monitor dg on head 2: unpromoted" 0
ra 2 alua promote OCF_RESKEY_device_group=dg1
want "promote dg1 on head 2 (the other device group, the other head)" 0
same_rtpg "dg1 promoted on head 2" 2 1 '^tpg id=1 state=1 pref=0 ' '^tpg id=2 state=0 pref=1 '
same_rtpg "dg untouched by dg1" 2 0 '^tpg id=1 state=0 pref=1 ' '^tpg id=2 state=1 pref=0 '
w=$(client_exec "$SCSITOOL" -r -i "$A" "$(lab_url 1)" write 10 0x5a 2>&1 | grep '^status=' | tail -1)
[ "$w" = status=GOOD ] && ok "a write through head 1 (dg active/optimized) succeeds" || ko "write through head 1: $w"
ra 1 alua promote
want "promote a promoted head: nothing to do" 0
ra 1 alua demote
want "demote dg on head 1" 0
same_rtpg "dg demoted" 2 0 '^tpg id=1 state=1 pref=0 ' '^tpg id=2 state=1 pref=0 '
ra 1 alua demote OCF_RESKEY_unpromoted_state=standby
want "demote again with unpromoted_state=standby" 0
same_rtpg "dg on head 1 standby" 2 0 '^tpg id=1 state=2 pref=0 '
r=$(client_exec "$SCSITOOL" -r -i "$A" "$(lab_url 1)" read 10 2>&1)
grep -q 'sense=2/04/0b' <<<"$r" && ok "head 1 (standby) refuses media access: NOT READY 04/0B" ||
	ko "read through standby head 1: $(tr '\n' ' ' <<<"$r")"
ra 1 alua monitor
want "monitor with the default unpromoted_state: standby is still unpromoted" 0
grep -q "is standby, not nonoptimized" "$(lab_ndir 1)/ra.log" && ok "... and the difference is logged" || ko "no warning logged"
ra 2 alua stop
want "stop dg on head 2" 0
same_rtpg "dg stopped on head 2" 2 0 '^tpg id=2 state=3 pref=0 '
ra 2 alua monitor
want "monitor dg on head 2 after stop: NOT_RUNNING" 7
ra 2 alua stop
want "stop again" 0
ra 1 alua validate-all OCF_RESKEY_unpromoted_state=offline
want "validate-all, unpromoted_state offline" 6
ra 1 alua validate-all OCF_RESKEY_device_group=
want "validate-all, no device_group" 6
ra 1 alua validate-all OCF_RESKEY_device_group=nosuch
want "validate-all, a device group this head does not have" 5
ra 1 alua validate-all OCF_RESKEY_target_group=tg2
want "validate-all, target_group named explicitly" 0
ra 1 alua validate-all OCF_RESKEY_CRM_meta_clone_max=2
want "validate-all as a clone that is not promotable" 6

echo "   promotion scores (head 1, dg; HA_LOGFILE lines):"
score_line() { grep 'promotion score' "$(lab_ndir 1)/ra.log" | tail -1 | sed 's/.*INFO: //'; }
ra 1 alua stop
ra 1 alua start
want "start dg on head 1" 0
s=$(score_line)
[[ $s == "promotion score 100: serving, 1 device(s) open" ]] && ok "healthy head: $s" || ko "score: $s"
echo Secondary >"$AG/stub/role"
echo UpToDate/UpToDate >"$AG/stub/dstate"
ra 1 alua monitor OCF_RESKEY_drbd_resource=r0 PATH="$AG/stub:$PATH"
s=$(score_line)
[[ $s == *"promotion score 10: "*"DRBD r0 Secondary/UpToDate" ]] && ok "DRBD (stand-in) Secondary/UpToDate: $s" || ko "score: $s"
echo Primary >"$AG/stub/role"
ra 1 alua monitor OCF_RESKEY_drbd_resource=r0 PATH="$AG/stub:$PATH"
s=$(score_line)
[[ $s == *"promotion score 100: "*"DRBD r0 Primary/UpToDate" ]] && ok "DRBD (stand-in) Primary/UpToDate: $s" || ko "score: $s"
echo Inconsistent/UpToDate >"$AG/stub/dstate"
ra 1 alua monitor OCF_RESKEY_drbd_resource=r0 PATH="$AG/stub:$PATH"
s=$(score_line)
[[ $s == "promotion score 0: DRBD r0: disk Inconsistent"* ]] && ok "DRBD (stand-in) disk Inconsistent: $s" || ko "score: $s"
# drbd-utils may be installed (the doc-configs step installs it): hide
# drbdadm in head 1's mount namespace under a file that is not executable
# (ocf-shellfuncs appends the system directories to any PATH)
hid=
if [ -e /usr/sbin/drbdadm ]; then
	: >"$AG/no-drbdadm"
	chmod 644 "$AG/no-drbdadm"
	node_exec 1 mount --bind "$AG/no-drbdadm" /usr/sbin/drbdadm && hid=1
fi
ra 1 alua validate-all OCF_RESKEY_drbd_resource=r0 PATH=/usr/sbin:/usr/bin:/sbin:/bin
[ -n "$hid" ] && node_exec 1 umount /usr/sbin/drbdadm
want "validate-all, drbd_resource without drbdadm" 5
ra 1 alua monitor
s=$(score_line)
[[ $s == "promotion score 100: "* ]] && ok "without DRBD again: $s" || ko "score: $s"
corosync_kill 1
for ((n = 0; n < 50; n++)); do
	node_exec 1 "$TANDEMCTL" -s "$LAB_CTL_SOCK" -status 2>/dev/null | grep -q 'serving=0' && break
	sleep 0.1
done
ra 1 alua monitor
want "monitor while head 1 does not serve: still unpromoted" 0
s=$(score_line)
[[ $s == "promotion score 0: the head does not serve"* ]] && ok "not serving: $s" || ko "score: $s"
ra 1 alua promote
want "promote on a head that does not serve: refused" 1
grep -q "does not serve" <<<"$OUT" && ok "... with its reason" || ko "exit reason: $OUT"
ra 1 alua stop
want "stop on a head that does not serve: succeeds (its ports serve nothing)" 0
corosync_start 1
ra 1 target monitor OCF_RESKEY_sync_wait=20
want "head 1 serves again" 0
for i in 1 2; do
	ra "$i" target stop
	want "target stop on head $i" 0
	no_daemons "$i" "end of the two-head part"
done
lab_sanitizer_check
lab_down

section "5. three heads"
start_lab 3
for i in 1 2 3; do
	ra "$i" target start
	want "target start on head $i" 0
done
for i in 1 2 3; do
	ra "$i" alua start OCF_RESKEY_device_group=dg1
	want "alua start (dg1) on head $i" 0
done
HOLD_LUN=1 hold_sessions 3000 1 2 3
ra 3 alua promote OCF_RESKEY_device_group=dg1
want "promote dg1 on head 3" 0
held_ua "sessions to LUN 1 held on all three heads got ASYMMETRIC ACCESS STATE CHANGED (6/2A/06)"
same_rtpg "dg1 promoted on head 3" 3 1 '^tpg id=1 state=1 pref=0 ' '^tpg id=2 state=1 pref=0 ' '^tpg id=3 state=0 pref=1 '
t0=$(now_ms)
ra 3 alua demote OCF_RESKEY_device_group=dg1
want "demote dg1 on head 3" 0
ra 2 alua promote OCF_RESKEY_device_group=dg1
want "promote dg1 on head 2" 0
echo "   move from head 3 to head 2 (demote + promote, two ordered changes): $(($(now_ms) - t0)) ms"
same_rtpg "dg1 moved to head 2" 3 1 '^tpg id=2 state=0 pref=1 ' '^tpg id=3 state=1 pref=0 '
for i in 1 2 3; do
	ra "$i" target stop
	want "target stop on head $i" 0
	no_daemons "$i" "three heads"
done
lab_sanitizer_check

echo "   total: $((($(now_ms) - T0) / 1000)) s"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
