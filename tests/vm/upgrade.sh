#!/bin/bash
# upgrade.sh - the rolling upgrade of docs/upgrade.md under load (issue
# 16, part 3): the real Linux initiator of tests/vm (a qemu guest with
# open-iscsi, dm-multipath, scsi_dh_alua and vmwriter) against two heads
# of the cluster lab under a real Pacemaker with fencing, set up as
# pacemaker.sh does (tests/cluster/pcmk.bash: the ocf:tandem:target
# clone, the promotable ocf:tandem:alua clone, unpromoted nonoptimized,
# fence_tandemlab). The heads start on version N, the previous release
# (the last line of dist/releases, built here from that commit with
# `git archive`, configure and make; cached in VM_CACHE by commit), and
# are upgraded one by one to N+1, this tree's build (TANDEMD, AGENTD,
# TANDEMCTL, RA_DIR), by the steps of docs/upgrade.md. Each head runs
# its programs from its own /run/tandem-bin and its OCF agents from its
# own /run/tandem-ocf (mounted over /usr/lib/ocf/resource.d): replacing
# them is the head's package upgrade.
#
#   0. N and N+1 installed into their own prefixes (make install; the
#      tree's build copied into the same layout), their versions; both
#      heads on N, head A promoted; the guest logs in through both,
#      registers key 0x1 on each path (sg_persist) and reserves WRITE
#      EXCLUSIVE - REGISTRANTS ONLY through head A's path; READ KEYS,
#      READ RESERVATION, READ FULL STATUS, VPD 0x80, VPD 0x83 and REPORT
#      TARGET PORT GROUPS recorded through each path; each head's
#      versions (tandemctl -status: tandemd's version, the control
#      protocol, the cluster protocol the group runs at; tandem-agentd's
#      own log line);
#   1. vmwriter on the map for the whole procedure (stopped by SIGUSR1
#      at the end, then every acknowledged block read back); 8 s of it
#      with nothing changing, the baseline of the pauses;
#   2. head B (unpromoted) upgraded: standby, its resources stopped, its
#      programs and agents replaced, versions checked, standby off,
#      serving, its group and its path back; the mixed cluster's versions;
#   3. the promoted role moved to head B (crm_resource --move --promoted,
#      --clear); head A upgraded the same way; the versions;
#   4. the downgrade: head A (unpromoted) back to N the same way, then
#      the promoted role moved back to head A (N promoted beside N+1);
#   5. vmwriter stopped: zero I/O errors, every acknowledged block read
#      back; the longest write of each step (its I/O pause); PR state,
#      VPD 0x80/0x83 and RTPG through each path identical to step 0
#      (the same layout: head A promoted), the PR generation too (no PR
#      OUT was sent meanwhile: the keys were registered with sg_persist,
#      so multipathd has no reservation_key to register again on a
#      returning path); no resource failed.
# UPGRADE_PROTO_CAP=K or below (one below N+1's own protocol; a
# variant, CI step vm-upgrade-capped): each head on N+1 runs
# tandem-agentd with --proto-max K, set for that node only
# (an instance_attributes set of the target primitive with a #uname
# rule, added with cibadmin while the head is in standby, removed when
# it goes back to N): the group must then run at the lowest proto_max of
# its members, K as soon as one head runs N+1.
# Every step also checks that the other head's tandemd was not restarted.
# Prints the figures and "N passed, N failed"; exit 0 only when nothing
# failed; 77 (SKIP) when the release's commit is not in this clone
# (shallow), 1 outside a git checkout.
# Root; 64-86 s with N cached, 110 s with N built (the guest runs
# under TCG; docs/upgrade.md has the figures).
set -u
cd "$(dirname "$0")/../.." || exit 1
LAYOUT=nonoptimized
SCEN="rolling upgrade under Pacemaker, unpromoted $LAYOUT"

# the previous release (version N): dist/releases' last line
read -r N_VER N_COMMIT < <(grep -v '^#' dist/releases | grep . | tail -1)
if [ -z "${N_COMMIT:-}" ]; then
	echo "dist/releases names no release" >&2
	exit 1
fi
if ! out=$(git rev-parse --git-dir 2>&1); then
	echo "FAIL: version N is built from git, and git says: $out" >&2
	exit 1
fi
if ! git cat-file -e "$N_COMMIT^{commit}" 2>/dev/null; then
	echo "SKIP: the previous release's commit $N_COMMIT ($N_VER, dist/releases) is not in this clone's history (a shallow clone?): version N cannot be built"
	exit 77
fi

. tests/vm/scen.bash
. tests/cluster/pcmk.bash
lab_need_agents pacemaker pacemaker-cli-utils resource-agents
SCEN_DOWN=upg_cleanup
letter() { if [ "$1" = 1 ]; then echo A; else echo B; fi; }
: "${VM_CACHE:=/var/cache/tandem-vm}"
: "${VM_OPTIMIZE_STPG:=1}"
CAP=${UPGRADE_PROTO_CAP:-}
UPG=
# shellcheck disable=SC2317 # the EXIT trap and finish call it
upg_cleanup() {
	if [ -n "${OCF:-}" ]; then pcmk_cleanup; else lab_down; fi
	[ -n "$UPG" ] && rm -rf "$UPG"
}

# build_n: version N built from its commit into N_PREFIX (make install),
# cached in VM_CACHE/release-COMMIT; its time in FIG
build_n() {
	local c=$VM_CACHE/release-$N_COMMIT t0
	N_PREFIX=$c/inst
	if [ -x "$N_PREFIX/sbin/tandemd" ] && [ -f "$c/built" ]; then
		ok "version N ($N_VER, $N_COMMIT) from the cache ($c)"
		FIG+=("version N: cached build of $N_VER")
		return 0
	fi
	t0=$(date +%s%N)
	rm -rf "$c" && mkdir -p "$c/src" || return 1
	# release flags, no sanitizers: version N is not what is under test
	if git archive "$N_COMMIT" | tar -x -C "$c/src" &&
		(cd "$c/src" && autoreconf -fi && ./configure --prefix="$N_PREFIX" &&
			make -j2 && make install) >"$c/build.log" 2>&1; then
		touch "$c/built"
		ok "version N ($N_VER) built from $N_COMMIT and installed into $N_PREFIX in $(secs_since "$t0") s"
		FIG+=("version N ($N_VER) built (git archive, autoreconf, configure, make -j2, make install): $(secs_since "$t0") s")
		return 0
	fi
	ko "version N could not be built: $(tail -5 "$c/build.log")"
	return 1
}

# nplus1: this tree's build in the same layout as make install's
nplus1() {
	P_PREFIX=$UPG/n1
	mkdir -p "$P_PREFIX/sbin" "$P_PREFIX/lib/ocf/resource.d/tandem" &&
		install -m 755 "$TANDEMD" "$AGENTD" "$TANDEMCTL" "$P_PREFIX/sbin/" &&
		install -m 755 "$RA_DIR/target" "$RA_DIR/alua" "$P_PREFIX/lib/ocf/resource.d/tandem/"
}

# head_install I PREFIX: the package "upgrade" of head I: its programs
# (/run/tandem-bin, named by the CIB) and its OCF agents (/run/tandem-ocf,
# mounted over /usr/lib/ocf/resource.d) replaced by PREFIX's
head_install() {
	node_exec "$1" sh -ec "mkdir -p /run/tandem-bin /run/tandem-ocf/tandem
		for p in tandemd tandem-agentd tandemctl; do install -m 755 '$2/sbin/'\$p /run/tandem-bin/\$p; done
		for a in target alua; do install -m 755 '$2/lib/ocf/resource.d/tandem/'\$a /run/tandem-ocf/tandem/\$a; done"
}
# installed I: the versions head I has on disk: "tandemd V agentd V
# (protocol P) tandemctl V target V alua V"
installed() {
	# shellcheck disable=SC2016 # the head's shell expands them
	node_exec "$1" sh -c 'b=/run/tandem-bin o=/run/tandem-ocf/tandem
		echo "tandemd $($b/tandemd --version | cut -d" " -f2)" \
			"agentd $($b/tandem-agentd -V | cut -d" " -f2-)" \
			"tandemctl $($b/tandemctl --version | cut -d" " -f2)"
		for a in target alua; do
			echo " $a $(OCF_ROOT=/usr/lib/ocf $o/$a meta-data | sed -n "s/^<resource-agent name=\"$a\" version=\"\([^\"]*\)\".*/\1/p")"
		done' 2>&1 | tr -d '\n'
}
# installed_check I PREFIX VERSION: head I has PREFIX's programs and
# agents, all of VERSION
installed_check() {
	local inst
	inst=$(installed "$1")
	if [ "$inst" = "tandemd $3 agentd $3 (cluster protocol $(proto_of "$2")) tandemctl $3 target $3 alua $3" ]; then
		ok "head $(letter "$1")'s installed versions: $inst"
	else
		ko "head $(letter "$1")'s installed versions: '$inst' (want $3)"
	fi
}
# running I: what head I runs (tandemctl -status of its own tandemctl):
# "version V ctl_proto P cluster_protocol P agentd V"; the agent's
# version from its last start line in the head's log
running() {
	local st ag
	st=$(node_exec "$1" /run/tandem-bin/tandemctl -s "$LAB_CTL_SOCK" -status 2>&1)
	ag=$(grep 'tandem-agentd .* starting (group' "$(lab_ndir "$1")/log/daemons.log" | tail -1 |
		sed 's/.*tandem-agentd \([^ ]*\) starting (group [^,]*, protocol \([0-9]*\).*/\1 proto_max \2/')
	awk -v ag="$ag" '$1 == "version" {v = $2} $1 == "proto" {p = $2}
		$1 == "cluster" {c = $2; sub(/.*protocol=/, "", c); sub(/,.*/, "", c)}
		END {print "tandemd " v " ctl_proto " p " cluster_protocol " c " agentd " ag}' <<<"$st"
}
# versions_check DESC VA VB: each head runs the version wanted (VA, VB),
# both at the cluster protocol of the lowest proto_max (PROTO_N, PROTO_P)
versions_check() {
	local ra rb pa=${CAP:-$PROTO_P} pb=${CAP:-$PROTO_P} want
	ra=$(running 1)
	rb=$(running 2)
	[ "$2" = "$N_VER" ] && pa=$PROTO_N
	[ "$3" = "$N_VER" ] && pb=$PROTO_N
	want=$((pa < pb ? pa : pb))
	echo "   head A: $ra"
	echo "   head B: $rb"
	FIG+=("$1: head A $ra; head B $rb")
	if [[ $ra == "tandemd $2 "*" cluster_protocol $want agentd $2 proto_max $pa" ]] &&
		[[ $rb == "tandemd $3 "*" cluster_protocol $want agentd $3 proto_max $pb" ]]; then
		ok "$1: head A runs $2, head B $3, both at cluster protocol $want (the lowest proto_max)"
	else
		ko "$1: want head A $2, head B $3, protocol $want"
	fi
}
# head_stopped I: Pacemaker shows nothing of tandem on node I (seen from
# the other head) and no daemon of its pid files is alive
# shellcheck disable=SC2317 # called through lab_wait
head_stopped() {
	local o=$((3 - $1))
	# shellcheck disable=SC2016 # the head's shell expands them
	! running_on "$o" target "node$1" && ! running_on "$o" alua "node$1" &&
		node_exec "$1" sh -c 'for f in /run/tandem/*.pid; do [ -e "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null && exit 1; done; exit 0'
}
# shellcheck disable=SC2317 # called through lab_wait
head_back() {
	running_on "$((3 - $1))" alua "node$1" && serving "$1"
}
# mark: the writer's log line count now (the end of a step)
mark() {
	vm_run 10 "wc -l </tmp/u.log"
	MARKS+=("$(tr -dc 0-9 <<<"$VM_OUT")")
	STEPS+=("$1")
}

# cap_set I PREFIX: with UPGRADE_PROTO_CAP, node I's tandem-agentd
# options for PREFIX's version: --proto-max CAP for N+1 (a set of
# instance attributes that applies to node I only), none for N
cap_set() {
	local id=target-cap-node$1 out
	[ -n "$CAP" ] || return 0
	if [ "$2" = "$P_PREFIX" ]; then
		out=$(node_exec "$1" cibadmin --modify --xml-text "<primitive id=\"target\"><instance_attributes id=\"$id\" score=\"10\"><rule id=\"$id-rule\" score=\"INFINITY\"><expression id=\"$id-expr\" attribute=\"#uname\" operation=\"eq\" value=\"node$1\"/></rule><nvpair id=\"$id-opts\" name=\"agentd_options\" value=\"--fencing pacemaker --proto-max $CAP\"/></instance_attributes></primitive>" 2>&1) &&
			ok "node$1's tandem-agentd options: --fencing pacemaker --proto-max $CAP (cibadmin, a #uname rule)" ||
			ko "cibadmin --modify (node$1's --proto-max): $out"
	else
		out=$(node_exec "$1" cibadmin --delete --xml-text "<instance_attributes id=\"$id\"/>" 2>&1) &&
			ok "node$1's --proto-max removed (cibadmin --delete)" ||
			ko "cibadmin --delete $id: $out"
	fi
}
# tandemd_pid I: the pid of head I's tandemd (its pid file)
tandemd_pid() { node_exec "$1" cat /run/tandem/tandemd.pid 2>/dev/null; }

# standby I on|off: node I in Pacemaker's standby, or back
standby() {
	local out
	out=$(node_exec "$1" crm_attribute --node "node$1" --name standby --update "$2" 2>&1) ||
		ko "crm_attribute --node node$1 --name standby --update $2: $out"
}
# until_ok I SECS T0 WHAT COND: COND I within SECS ("head X WHAT, N ms
# after" T0), else a failure and crm_mon as the other head sees it
until_ok() {
	if lab_wait "$2" "$5" "$1"; then
		ok "head $(letter "$1") $4, $(ms_since "$3") ms after crm_attribute"
	else
		ko "head $(letter "$1") not $4 after $2 s"
		crm_show "$((3 - $1))"
	fi
}

# upgrade_head I PREFIX VERSION PA PB: docs/upgrade.md's steps for head I
# (unpromoted): standby, stopped, replaced, checked, standby off,
# serving, its group and its path back; the map's groups at PA/PB after
upgrade_head() {
	local i=$1 h t0 t1 t2 t3 other
	h=$(letter "$i")
	other=$(tandemd_pid "$((3 - i))")
	t0=$(now_ms)
	standby "$i" on
	until_ok "$i" 60 "$t0" "in standby: its resources stopped, no daemon left" head_stopped
	t1=$(now_ms)
	head_install "$i" "$2" || ko "head $h: the programs of $2 not installed"
	installed_check "$i" "$2" "$3"
	cap_set "$i" "$2"
	t2=$(now_ms)
	standby "$i" off
	until_ok "$i" 60 "$t2" "back: its alua instance runs and it serves" head_back
	t3=$(now_ms)
	if vm_until 60 "$PATHS_UP"; then
		ok "head $h's path is back in the map $(ms_since "$t3") ms after it served"
	else
		ko "head $h's path did not come back: $VM_OUT"
	fi
	if wait_prios 30 "$4" "$5"; then
		ok "the map's groups: head A's at $4, head B's at $5, the higher one carries the I/O"
	else
		ko "the map after head $h's return: $WAITED"
	fi
	[ -n "$other" ] && [ "$(tandemd_pid "$((3 - i))")" = "$other" ] &&
		ok "head $(letter "$((3 - i))")'s tandemd kept running through the step (pid $other)" ||
		ko "head $(letter "$((3 - i))")'s tandemd: pid '$other' before, '$(tandemd_pid "$((3 - i))")' after"
	FIG+=("head $h to $3: standby to stopped $((t1 - t0)) ms, replaced and checked $((t2 - t1)) ms, standby off to serving $((t3 - t2)) ms, to its path in the map $(ms_since "$t3") ms; the whole step $(ms_since "$t0") ms")
}
proto_of() { "$1/sbin/tandem-agentd" -V | sed -n 's/.*cluster protocol \([0-9]*\).*/\1/p'; }

# the guest's view of the LU through DISK: PR IN (keys, reservation,
# full status: each with the PR generation), VPD 0x80, 0x83, RTPG; unit
# attentions read first (TEST UNIT READY until GOOD)
lu_view() {
	vm_run 40 "for i in 1 2 3 4 5 6; do sg_turs /dev/$1 >/dev/null 2>&1 && break; done
		for sa in -k -r -s; do sg_persist -n -i \$sa /dev/$1 || echo status \$?; done
		sg_vpd -p sn /dev/$1; sg_vpd -p di /dev/$1; sg_rtpg -d /dev/$1"
	echo "$VM_OUT"
}
gen_of() { sed -n 's/.*PR generation=\(0x[0-9a-f]*\).*/\1/p' <<<"$1" | head -1; }

echo "== versions N ($N_VER) and N+1, the guest, two heads under Pacemaker with fencing"
UPG=$(mktemp -d /tmp/tandem-upgrade.XXXXXX) || exit 1
build_n || { SCEN_DOWN=: finish; }
nplus1 || { ko "N+1 could not be copied"; SCEN_DOWN=: finish; }
P_VER=$("$P_PREFIX/sbin/tandemd" --version | cut -d' ' -f2)
PROTO_N=$(proto_of "$N_PREFIX")
PROTO_P=$(proto_of "$P_PREFIX")
[ -n "$P_VER" ] && [ "$P_VER" != "$N_VER" ] &&
	ok "N is $N_VER (cluster protocol $PROTO_N), N+1 is $P_VER (cluster protocol $PROTO_P)" ||
	ko "N+1's version '$P_VER' must differ from N's $N_VER"
[ "$CAP" = below ] && CAP=$((PROTO_P - 1))
[ -n "$CAP" ] && SCEN+=", N+1's tandem-agentd --proto-max $CAP"
if [ -n "$CAP" ] && ! { [ "$CAP" -ge 1 ] 2>/dev/null && [ "$CAP" -le "$PROTO_P" ]; }; then
	ko "UPGRADE_PROTO_CAP=$CAP: from 1 to N+1's protocol $PROTO_P"
	SCEN_DOWN=: finish
fi
# every tandemctl the CIB names is the head's own (it is upgraded too)
scen_pcmk_lab upg_cleanup 's|name="tandemctl" value="[^"]*"|name="tandemctl" value="/run/tandem-bin/tandemctl"|'
# both heads start on N
for i in 1 2; do
	head_install "$i" "$N_PREFIX" &&
		node_exec "$i" mount --bind /run/tandem-ocf /usr/lib/ocf/resource.d ||
		ko "head $i: version N not installed"
	installed_check "$i" "$N_PREFIX" "$N_VER"
done
scen_pcmk_start
lab_wait 30 head_back 2 || ko "head B does not serve"
versions_check "both heads on N" "$N_VER" "$N_VER"

section "0. the guest logs in through both heads, registers and reserves"
gx "scsi_dh_alua's optimize_stpg set to $VM_OPTIMIZE_STPG" 10 \
	"p=/sys/module/scsi_dh_alua/parameters/optimize_stpg; echo $VM_OPTIMIZE_STPG >\$p && grep -qx $VM_OPTIMIZE_STPG \$p"
scen_login
wait_prios 20 50 10 && ok "head A's group at 50 (promoted) carries the I/O, head B's at 10" ||
	ko "the map's groups: $WAITED"
gx "key 0x1 registered through head A's path and head B's path (sg_persist REGISTER)" 40 \
	"for d in $DA $DB; do for i in 1 2 3 4 5 6; do sg_turs /dev/\$d >/dev/null 2>&1 && break; done
		sg_persist -n -o -G -S 0x1 /dev/\$d || exit 1; done"
gx "WRITE EXCLUSIVE - REGISTRANTS ONLY reserved with key 0x1 through head A's path" 30 \
	"sg_persist -n -o -R -K 0x1 -T 5 /dev/$DA"
VIEW_A0=$(lu_view "$DA")
VIEW_B0=$(lu_view "$DB")
indent "|" "$VIEW_A0"
keys=$(grep -c '^ *0x1$' <<<"$VIEW_A0")
resv=$(grep -c 'Key=0x1' <<<"$VIEW_A0")
[ "$keys" = 2 ] && grep -q 'Write Exclusive, registrants only' <<<"$VIEW_A0" && [ "$resv" -ge 1 ] &&
	ok "READ KEYS: 0x1 on both paths; READ RESERVATION: 0x1, WRITE EXCLUSIVE - REGISTRANTS ONLY (generation $(gen_of "$VIEW_A0"))" ||
	ko "the PR state through head A after the reservation"
[ -n "$(gen_of "$VIEW_A0")" ] && [ "$(gen_of "$VIEW_A0")" = "$(gen_of "$VIEW_B0")" ] &&
	ok "the PR generation through both heads: $(gen_of "$VIEW_B0")" ||
	ko "PR generation: A '$(gen_of "$VIEW_A0")', B '$(gen_of "$VIEW_B0")'"

section "1. vmwriter on the map for the whole procedure"
MARKS=()
STEPS=()
writer_start u 1500
sleep 3
mark "start"
# what the writer sees with nothing changing: the floor of the pauses
sleep 8
mark "nothing changed (8 s, the baseline)"

section "2. head B (unpromoted) upgraded to N+1 ($P_VER)"
upgrade_head 2 "$P_PREFIX" "$P_VER" 50 10
mark "head B upgraded (standby, replaced, back)"
versions_check "mixed: A on N, B on N+1" "$N_VER" "$P_VER"

section "3. the promoted role moved to head B, head A upgraded"
crm_move 2
wait_prios 30 10 50 && ok "the map follows: head B's group at 50 carries the I/O" ||
	ko "the map after the move to head B: $WAITED"
mark "promoted role moved to head B"
upgrade_head 1 "$P_PREFIX" "$P_VER" 10 50
mark "head A upgraded (standby, replaced, back)"
versions_check "both on N+1" "$P_VER" "$P_VER"

section "4. the downgrade: head A back to N ($N_VER), then promoted on it"
upgrade_head 1 "$N_PREFIX" "$N_VER" 10 50
mark "head A downgraded to N (standby, replaced, back)"
versions_check "mixed after the downgrade: A on N, B on N+1" "$N_VER" "$P_VER"
crm_move 1
wait_prios 30 50 10 && ok "the map follows: head A's group (N) at 50 carries the I/O" ||
	ko "the map after the move to head A: $WAITED"
mark "promoted role moved back to head A (N)"
sleep 3

section "5. the writer stopped and verified; the initiator's view before and after"
gx "vmwriter stopped (SIGUSR1)" 10 "kill -USR1 \$(pidof vmwriter)"
writer_done u 30 "the whole procedure (2 upgrades, 1 downgrade, 2 moves)"
vm_run 20 "cat /tmp/u.log"
LOG=$VM_OUT
MARKS+=("$(wc -l <<<"$LOG")")
STEPS+=("after the last move until the writer stopped")
for ((k = 1; k < ${#MARKS[@]}; k++)); do
	read -r w g n <<<"$(sed -n "$((MARKS[k - 1] + 1)),${MARKS[k]}p" <<<"$LOG" | awk '
		/^slow write/ {v = $NF; sub(/ms=/, "", v); if (v + 0 > w) w = v + 0; n++}
		/^gap / {v = $NF; sub(/ms=/, "", v); if (v + 0 > g) g = v + 0}
		END {printf "%d %s %d", w, (g ? int(g) : "<100"), n}')"
	FIG+=("pause of step \"${STEPS[k]}\": longest write $w ms, all I/O stopped $g ms at most, $n writes over 100 ms")
	echo "   ${STEPS[k]}: longest write $w ms, all I/O stopped $g ms at most ($n writes over 100 ms)"
done
VIEW_A1=$(lu_view "$DA")
VIEW_B1=$(lu_view "$DB")
same_view() { # HEAD BEFORE AFTER
	if [ -n "$2" ] && [ "$2" = "$3" ]; then
		ok "through head $1's path: READ KEYS, READ RESERVATION, READ FULL STATUS (generation $(gen_of "$3")), VPD 0x80, VPD 0x83 and RTPG identical to before the upgrade"
	else
		ko "through head $1's path, before (<) and after (>):"
		diff <(echo "$2") <(echo "$3") | sed 's/^/   /'
	fi
}
same_view A "$VIEW_A0" "$VIEW_A1"
same_view B "$VIEW_B0" "$VIEW_B1"
for i in 1 2; do
	mon_xml "$i" | grep -q 'failed="true"' &&
		ko "a resource failed on head $i: $(node_exec "$i" crm_mon -1 2>&1 | grep -A3 Failed)" ||
		ok "head $i: no resource failed (crm_mon)"
done
fails=$(mon_xml 2 | grep -c '<failure ')
[ "$fails" = 0 ] && ok "no failed operation in Pacemaker's history" ||
	ko "$fails failed operations: $(node_exec 2 crm_mon -1 2>&1 | sed -n '/Failed Resource Actions/,$p' | tr '\n' ' ')"
crm_show 2
finish
