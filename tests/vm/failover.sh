#!/bin/bash
# failover.sh [nonoptimized|standby] - a real Linux initiator against two
# Tandem heads (issue 11): a qemu guest (tests/vm/build.sh: Debian's
# kernel, open-iscsi, dm-multipath with scsi_dh_alua) in the cluster lab's
# client namespace, each head reached through its own NIC; the heads are
# the lab's (real corosync, tandem-agentd, tandemd -A), one LU on a file
# both heads serve (shared storage). Head A's target port group is
# active/optimized, head B's is the argument (default nonoptimized).
#
#   a. discovery through each head returns that head's portal; a login
#      through both; multipathd builds one map with two path groups by
#      ALUA priority; VPD 83h's LU designators identical through both
#      paths, the relative target port and the port group per head; RTPG
#      identical through both;
#   b. kill -9 of every process of head A while vmwriter writes through
#      the map: zero I/O errors, zero bad blocks, the pause printed;
#   c. head A restarted under load: its path comes back, I/O undisturbed;
#      the layout restored (tandemctl -activate_tgrp tg1), then a
#      graceful move under load (-activate_tgrp tg2, then tg1 again): the
#      map follows each move (the new active group at
#      priority 50, the other at its unpromoted priority, PREF with the
#      active group), zero I/O errors; then head A's link cut (no FIN/RST
#      reaches the guest), then A killed: the same checks;
#   d. vmwriter catches a block overwritten behind its back.
# Every pause is a benchmark figure; only a pause above VM_PAUSE_MAX_MS
# (60000) fails. Prints "N passed, N failed"; exit 0 only when nothing
# failed. Root; about 4 minutes (the guest runs under TCG).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/cluster/lab.sh
. tests/cluster/checks.bash
. tests/vm/vm.bash
lab_need_daemons

LAYOUT=${1:-${VM_LAYOUT:-nonoptimized}}
case $LAYOUT in
nonoptimized) B_PRIO=10 ;;
standby) B_PRIO=1 ;;
*) echo "usage: $0 [nonoptimized|standby]" >&2; exit 2 ;;
esac
PAUSE_MAX_MS=${VM_PAUSE_MAX_MS:-60000}
A=$(lab_addr 1)
B=$(lab_addr 2)
FIG=()

finish() {
	if [ "$FAILED" -gt 0 ] && [ -n "$VM_DIR" ]; then
		echo "== the guest's console (last lines)"
		vm_console 40
		# a late answer to an earlier request may come first
		VM_BROKEN='' vm_run 20 'dmesg | tail -60; ps'
		echo "== the guest's dmesg and processes"
		echo "$VM_OUT"
	fi
	[ -n "$LAB_DIR" ] && lab_sanitizer_check
	FIG+=("the whole run: $SECONDS s")
	echo "== figures ($LAYOUT)"
	printf '   %s\n' "${FIG[@]}"
	echo "$PASSED passed, $FAILED failed"
	lab_down
	[ "$FAILED" -eq 0 ]
	exit
}

# section TITLE: the next scenario, unless the guest stopped answering
section() {
	if [ -n "$VM_BROKEN" ]; then
		ko "the guest's control channel: $VM_BROKEN"
		finish
	fi
	echo "== $1"
}
# indent MARK TEXT: TEXT's lines, indented and marked
indent() {
	local l
	while IFS= read -r l; do
		printf '   %s %s\n' "$1" "$l"
	done <<<"$2"
}
# gx DESC SECS SCRIPT: SCRIPT runs in the guest and must exit 0
gx() {
	if vm_run "$2" "$3"; then ok "$1"; else ko "$1: status $VM_RC: $VM_OUT"; fi
}
# vm_until SECS COND: poll COND (guest shell) every 0.5 s for SECS of
# the guest's clock
vm_until() {
	vm_run $(($1 + 20)) "end=\$((\$(cut -d. -f1 /proc/uptime) + $1)); until $2; do [ \$(cut -d. -f1 /proc/uptime) -ge \$end ] && exit 1; sleep 0.5; done"
}
# both paths up: ready, or ghost (standby)
PATHS_UP="[ \$(multipath -ll 2>/dev/null | grep -cE 'active (ready|ghost) running') = 2 ]"
# shellcheck disable=SC2317 # called through lab_wait
serving() {
	node_exec "$1" "$TANDEMCTL" -s "$LAB_CTL_SOCK" -status 2>/dev/null |
		grep -q '^cluster .*serving=1'
}
# head B's target port group in the layout under test
head_conf() {
	lab_tandem_conf "$1" | awk -v st="$LAYOUT" '
		/TARGET_GROUP tg2 / {g = 1}
		g && /state active/ {sub(/active/, st); g = 0}
		{print}'
}
head_start() {
	local conf
	conf=$(lab_ndir "$1")/tandem.conf
	[ -f "$conf" ] || head_conf "$1" >"$conf"
	agentd_start "$1"
	tandemd_start "$1" "$conf"
	if wait_portal "$1" 30 && lab_wait 30 serving "$1"; then
		ok "head $1 serves (${LAB_WAITED} s)"
	else
		ko "head $1 does not serve: $(tail -3 "$(lab_ndir "$1")/tandemd.log")"
	fi
}

# the map's path groups: "group N PRIO STATUS" and "path N DISK up|down"
mp_groups() {
	awk '/policy=/ {
		g++; match($0, /prio=[0-9-]+/); p = substr($0, RSTART + 5, RLENGTH - 5)
		match($0, /status=[a-z]+/); s = substr($0, RSTART + 7, RLENGTH - 7)
		print "group", g, p, s; next }
	g && match($0, / sd[a-z]+ /) {
		print "path", g, substr($0, RSTART + 1, RLENGTH - 2),
			($0 ~ /active (ready|ghost)/ ? "up" : "down") }' <<<"$1"
}
# group_of DISK GROUPS: "PRIO STATUS PATHSTATE" of the group holding DISK
group_of() {
	local g
	g=$(awk -v d="$1" '$1 == "path" && $3 == d {print $2, $4}' <<<"$2")
	[ -n "$g" ] || return 1
	awk -v g="${g% *}" -v u="${g#* }" '$1 == "group" && $2 == g {print $3, $4, u}' <<<"$2"
}
# wait_prios SECS PA PB: until head A's path group has priority PA and
# head B's PB, the higher one carrying the I/O (status=active)
wait_prios() {
	local i ga gb top
	for ((i = 0; i < $1; i++)); do
		vm_run 20 'multipath -ll 2>&1'
		GROUPS_=$(mp_groups "$VM_OUT")
		ga=$(group_of "$DA" "$GROUPS_")
		gb=$(group_of "$DB" "$GROUPS_")
		top=$ga
		[ "$3" -gt "$2" ] && top=$gb
		if [ "${ga%% *}" = "$2" ] && [ "${gb%% *}" = "$3" ] &&
			[ "$(cut -d' ' -f2- <<<"$top")" = "active up" ]; then
			WAITED=$i
			return 0
		fi
		sleep 1
	done
	WAITED="A '$ga', B '$gb'"
	return 1
}
# activate TG HEAD: tandemctl -activate_tgrp TG through HEAD, timed
activate() {
	local t0 out
	t0=$(date +%s%N)
	if out=$(node_exec "$2" "$TANDEMCTL" -s "$LAB_CTL_SOCK" -activate_tgrp "$1" -dev_group dg 2>&1); then
		ok "tandemctl -activate_tgrp $1 through head $2 ($(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN {printf "%.0f", (b - a) / 1e6}') ms, ordered on both heads)"
	else
		ko "tandemctl -activate_tgrp $1 through head $2: $out"
	fi
}
show_map() {
	vm_run 20 'multipath -ll 2>&1; echo "paths:"; paths'
	MP=$VM_OUT
	GROUPS_=$(mp_groups "$MP")
	indent "|" "$MP"
}

# writer_start NAME SECS: vmwriter on the map in the background
writer_start() {
	gx "vmwriter $1 started ($2 s, 4 threads)" 10 \
		"rm -f /tmp/$1.rc; setsid sh -c 'vmwriter -d $MAP -t 4 -s $2 -L 70 -j /tmp/$1.j >/tmp/$1.log 2>&1; echo \$? >/tmp/$1.rc' </dev/null >/dev/null 2>&1 &"
}
# writer_done NAME SECS DESC: wait for it (its SECS of writes and its
# verification), print its figures, check them
writer_done() {
	local out gap wr rc
	vm_run $(($2 + 75)) "n=0; while [ ! -s /tmp/$1.rc ]; do n=\$((n + 1)); [ \$n -gt $((($2 + 60) * 2)) ] && exit 124; sleep 0.5; done; cat /tmp/$1.log; exit \$(cat /tmp/$1.rc)"
	rc=$VM_RC
	out=$VM_OUT
	indent ">" "$out"
	gap=$(sed -n 's/.* max_gap_ms=\([0-9.]*\).*/\1/p' <<<"$out" | tail -1)
	wr=$(sed -n 's/.* max_write_ms=\([0-9.]*\).*/\1/p' <<<"$out" | tail -1)
	FIG+=("$3: $(grep -E '^writes=' <<<"$out" | tail -1); $(grep -E '^verified=' <<<"$out" | tail -1)")
	FIG+=("$3: pause $(awk -v g="${wr:-0}" -v a="${gap:-0}" \
		'BEGIN {printf "%.1f s (the longest write); all I/O stopped %.1f s at most", g / 1000, a / 1000}')")
	if [ "$rc" = 0 ] && grep -q '^result=ok' <<<"$out" && grep -q ' io_errors=0 ' <<<"$out" &&
		grep -q ' bad_blocks=0 ' <<<"$out"; then
		ok "$3: zero I/O errors, zero bad blocks, every acknowledged block verified"
	else
		ko "$3: vmwriter status $rc"
	fi
	if [ -n "$wr" ] && awk -v g="$wr" -v m="$PAUSE_MAX_MS" 'BEGIN {exit !(g < m)}'; then
		ok "$3: pause $wr ms (the longest write; bound $PAUSE_MAX_MS ms), all I/O stopped ${gap:-?} ms at most"
	else
		ko "$3: pause ${wr:-unknown} ms (bound $PAUSE_MAX_MS ms)"
	fi
}

echo "== the guest ($LAYOUT layout: head A active/optimized, head B $LAYOUT)"
vm_need || { ko "qemu-system-x86, cpio, kmod could not be installed"; finish; }
if vm_build; then
	ok "guest kernel and initramfs ready in $VM_BUILD_S s ($VM_GUEST, kernel $(cat "$VM_GUEST/kver"), initrd $(du -k "$VM_GUEST/initrd.gz" | cut -f1) KiB)"
	FIG+=("guest build (or cache hit): $VM_BUILD_S s")
else
	ko "tests/vm/build.sh failed"
	finish
fi
lab_up 2 || { ko "lab_up failed"; finish; }
vm_writer || { ko "vmwriter could not be built"; finish; }
lab_start_corosync_all
for i in 1 2; do
	wait_quorate "$i" 20 || ko "head $i: corosync not quorate"
done
for i in 1 2; do
	head_start "$i"
done
if vm_boot "$A" "$B"; then
	ok "the guest boots to its control loop in $VM_BOOT_S s"
	FIG+=("guest boot: $VM_BOOT_S s")
else
	ko "the guest did not boot: $(vm_console 20)"
	finish
fi

echo "== a. discovery and identity"
for h in "$A" "$B"; do
	vm_run 30 "iscsiadm -m discovery -t sendtargets -p $h"
	if [ "$VM_RC" = 0 ] && grep -q "^$h:$LAB_PORT,[0-9]* $LAB_IQN\$" <<<"$VM_OUT" &&
		[ "$(grep -c . <<<"$VM_OUT")" = "$(grep -c "^$h:" <<<"$VM_OUT")" ]; then
		ok "SendTargets through $h returns that head's portal: $(tr '\n' ' ' <<<"$VM_OUT")"
	else
		ko "SendTargets through $h: status $VM_RC: $VM_OUT"
	fi
done
gx "iscsiadm login through head A and head B" 60 \
	"iscsiadm -m node -T $LAB_IQN -p $A --login && iscsiadm -m node -T $LAB_IQN -p $B --login"
if vm_until 30 "$PATHS_UP"; then
	ok "multipathd built the map with both paths up"
else
	ko "no map with two paths up: $VM_OUT"
fi
section "a. the map"
vm_run 10 "dmsetup ls --target multipath | awk '{print \$1}'"
MAP=/dev/mapper/$(head -1 <<<"$VM_OUT")
show_map
[ "$(grep -c 'TANDEM,' <<<"$MP")" = 1 ] && ok "one multipath map of a TANDEM LU ($MAP)" ||
	ko "maps: $(grep -c 'TANDEM,' <<<"$MP")"
DA=$(awk -v h="$A" '$2 == h {print $1}' <<<"${MP#*paths:}")
DB=$(awk -v h="$B" '$2 == h {print $1}' <<<"${MP#*paths:}")
[ -n "$DA" ] && [ -n "$DB" ] && ok "one disk per head: $DA through head A, $DB through head B" ||
	ko "disks: A '$DA' B '$DB'"
[ "$(grep -c '^group' <<<"$GROUPS_")" = 2 ] && ok "two path groups" || ko "path groups: $GROUPS_"
ga=$(group_of "$DA" "$GROUPS_")
gb=$(group_of "$DB" "$GROUPS_")
[ "${ga%% *}" = 50 ] && ok "head A's path group has the ALUA priority of active/optimized (50): $ga" ||
	ko "head A's group: '$ga'"
[ "${gb%% *}" = "$B_PRIO" ] && ok "head B's path group has the priority of $LAYOUT ($B_PRIO): $gb" ||
	ko "head B's group: '$gb' (want prio $B_PRIO)"
[ "$(cut -d' ' -f2 <<<"$ga")" = active ] && ok "I/O goes to head A's group (status=active)" ||
	ko "head A's group is not the active one: '$ga'"
vm_run 20 "sg_vpd -p di_lu /dev/$DA"
la=$VM_OUT
vm_run 20 "sg_vpd -p di_lu /dev/$DB"
lb=$VM_OUT
[ -n "$la" ] && [ "$la" = "$lb" ] && grep -qi '6001405ab7a1d0001c1a500000000001' <<<"$la" &&
	ok "VPD 83h: the LU's designators are identical through both paths (NAA 6001405ab7a1d0001c1a500000000001)" ||
	ko "VPD 83h LU designators: [$la] [$lb]"
for d in "A:$DA:0x1" "B:$DB:0x2"; do
	IFS=: read -r h disk id <<<"$d"
	vm_run 20 "sg_vpd -p di_port /dev/$disk"
	grep -q "Relative target port: $id\$" <<<"$VM_OUT" && grep -q "Target port group: $id\$" <<<"$VM_OUT" &&
		ok "VPD 83h through head $h: relative target port $id, target port group $id" ||
		ko "VPD 83h target port through head $h: $VM_OUT"
done
vm_run 20 "sg_rtpg -d /dev/$DA"
ra=$VM_OUT
vm_run 20 "sg_rtpg -d /dev/$DB"
rb=$VM_OUT
[ -n "$ra" ] && [ "$ra" = "$rb" ] && [ "$(grep -ci 'target port group id' <<<"$ra")" = 2 ] &&
	ok "REPORT TARGET PORT GROUPS identical through both paths, two groups" ||
	ko "RTPG: [$ra] [$rb]"
indent "|" "$ra"

section "b. kill -9 of every process of head A under load"
writer_start b 30
sleep 8
node_kill 1
ok "head A killed (SIGKILL of all its processes) 8 s into the writes"
writer_done b 30 "kill -9 of head A"
show_map
gb=$(group_of "$DB" "$GROUPS_")
ga=$(group_of "$DA" "$GROUPS_")
[ "$(cut -d' ' -f2- <<<"$gb")" = "active up" ] && ok "I/O goes through head B's path ($gb)" ||
	ko "head B's group after the kill: '$gb'"
[ "${ga##* }" = down ] && ok "head A's path is failed" || ko "head A's path after the kill: '$ga'"
vm_run 20 "sg_rtpg -d /dev/$DB | grep -iE 'group id|access state'"
echo "   RTPG through head B now: $(tr -s ' \n' ' ' <<<"$VM_OUT")"

section "c. head A restarted under load, its path returns"
writer_start c1 45
sleep 3
corosync_start 1
wait_quorate 1 20 || ko "head A: corosync not quorate"
head_start 1
t0=$(date +%s%N)
if vm_until 40 "$PATHS_UP"; then
	s=$(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN {printf "%.1f", (b - a) / 1e9}')
	ok "head A's path is back in the map ${s} s after head A served again"
	FIG+=("head A restarted: its path back ${s} s after it served")
else
	ko "head A's path did not come back: $VM_OUT"
fi
writer_done c1 45 "head A restarted"
show_map
ga=$(group_of "$DA" "$GROUPS_")
echo "   head A's group now: $ga (prio status path)"
[ "${ga##* }" = up ] && ok "head A's path is up" || ko "head A's path: '$ga'"

section "c1b. a graceful move under load: tandemctl -activate_tgrp tg2, then tg1"
# scsi_dh_alua's STPG after the kill left both groups active/optimized,
# so both paths share one path group; from there, a path made standby
# is failed, reinstated and activated again by scsi_dh_alua (an STPG
# that undoes the move). The administrator's first move restores the
# layout: head A active, head B in its unpromoted state.
activate tg1 1
if wait_prios 25 50 "$B_PRIO"; then
	ok "the layout restored by -activate_tgrp tg1: head A's group 50 carries the I/O, head B's at $B_PRIO"
else
	ko "the map after -activate_tgrp tg1: $WAITED"
fi
writer_start c1b 50
sleep 4
activate tg2 2
if wait_prios 25 "$B_PRIO" 50; then
	ok "the map follows the move to head B in ${WAITED} s: head B's group 50 carries the I/O, head A's at $B_PRIO ($LAYOUT)"
	FIG+=("move to head B: the map followed in ${WAITED} s")
else
	ko "the map after the move to head B: $WAITED"
fi
vm_run 20 "sg_rtpg -d /dev/$DA | grep -iE 'group id|access state'"
grep -qiE 'group id : 0x2 , Pref=1' <<<"$VM_OUT" && grep -qiE 'group id : 0x1 , Pref=0' <<<"$VM_OUT" &&
	ok "PREF moved with the active group (RTPG through head A)" || ko "RTPG after the move: $(tr -s ' \n' ' ' <<<"$VM_OUT")"
activate tg1 1
if wait_prios 25 50 "$B_PRIO"; then
	ok "the map follows the move back to head A in ${WAITED} s: head A's group 50 carries the I/O, head B's at $B_PRIO"
	FIG+=("move back to head A: the map followed in ${WAITED} s")
else
	ko "the map after the move back to head A: $WAITED"
fi
writer_done c1b 50 "graceful move to head B and back"

section "c2. head A's link cut (no FIN/RST), then head A killed"
writer_start c2 30
sleep 8
partition 1
sleep 3
node_kill 1
ok "head A's link cut 8 s into the writes, head A killed 3 s later"
writer_done c2 30 "link of head A cut, then A killed"
heal 1
show_map
gb=$(group_of "$DB" "$GROUPS_")
[ "$(cut -d' ' -f2- <<<"$gb")" = "active up" ] && ok "I/O goes through head B's path ($gb)" ||
	ko "head B's group: '$gb'"
vm_run 20 "dmesg | grep -iE 'alua|device-mapper: multipath|connection[0-9:]* .*error|detected conn error|I/O error' | tail -25"
echo "   the guest's kernel on the failovers:"
indent "k" "$VM_OUT"

section "d. the writer catches a corrupted block"
vm_run 60 "vmwriter -d $MAP -t 1 -m 1 -n 8 -s 3 -j /tmp/d.j >/tmp/d.log 2>&1 || { cat /tmp/d.log; exit 9; }
dd if=/dev/zero of=$MAP bs=4096 seek=5 count=1 conv=fsync 2>/dev/null || exit 8
vmwriter -v -d $MAP -j /tmp/d.j"
indent ">" "$VM_OUT"
[ "$VM_RC" = 1 ] && grep -q ' bad_blocks=1 ' <<<"$VM_OUT" && grep -q '^bad block=5 ' <<<"$VM_OUT" &&
	ok "block 5 zeroed behind vmwriter's back: 1 bad block, exit status 1" ||
	ko "vmwriter -v after a corruption: status $VM_RC"
finish
