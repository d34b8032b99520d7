# shellcheck shell=bash disable=SC2034
# scen.bash - what the VM lab's scenario scripts share (failover.sh,
# reserve.sh; tests/vm/README.md). Sourced from the top of the tree: it
# sources tests/cluster/lab.sh, checks.bash and vm.bash, and skips (exit
# 77) when the lab's daemons are not built.
#
#   scen_up base|extras   the guest built (with the extras archive), the
#                         lab with two heads (head A's group
#                         active/optimized, head B's in LAYOUT), the guest
#                         booted against them
#   scen_guest base|extras, scen_boot
#                         its first and last parts (the guest built; the
#                         guest booted against the lab's heads A and B)
#   scen_pcmk_lab TRAP [SED]
#                         (pacemaker.sh, upgrade.sh; pcmk.bash sourced)
#                         the guest built, two heads prepared for
#                         Pacemaker with fencing (the CIB of
#                         pcmk_fenced_cib through sed SED), TRAP the
#                         EXIT trap
#   scen_pcmk_start       (the same)
#                         pacemakerd on both heads, the guest booted
#                         meanwhile, until the device group is promoted;
#                         then promoted on head A
#   scen_map              the map: MAP (one of a TANDEM LU, a check),
#                         DA, DB (DC through C, when set)
#   scen_login            SendTargets through each head, a login through
#                         both, the map: MAP, DA (head A's disk), DB;
#                         fast_io_fail_tmo in both sessions' recovery_tmo
#   section TITLE         the next scenario (finish when the guest no
#                         longer answers)
#   gx DESC SECS SCRIPT   SCRIPT in the guest must exit 0 (a check)
#   vm_until SECS COND    COND (guest shell) polled for SECS
#   head_start I          agentd and tandemd of head I, until it serves
#   show_map              multipath -ll and the disks (MP, GROUPS_)
#   wait_prios SECS PA PB until head A's path group has priority PA and
#                         head B's PB, the higher one carrying the I/O
#   a_down_map            after head A's death: the map, I/O through B,
#                         A's path failed, RTPG through B printed
#   mp_groups, group_of, writer_start, writer_done: vm.bash's
#   secs_since T0         seconds since T0 (date +%s%N), 0.1 s
#   finish                the guest's console on failure, the sanitizer
#                         check, the figures (FIG), "N passed, N failed",
#                         SCEN_DOWN (default lab_down); exits 0 only when nothing failed
#
# Uses LAYOUT (nonoptimized | standby) and SCEN (the title of the
# figures); A and B are the heads' addresses.
. tests/cluster/lab.sh
. tests/cluster/checks.bash
. tests/vm/vm.bash
lab_need_daemons
: "${LAYOUT:=nonoptimized}"
: "${SCEN:=$LAYOUT}"
A=$(lab_addr 1)
B=$(lab_addr 2)
FIG=()
MAP=
DA=
DB=

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
	echo "== figures ($SCEN)"
	printf '   %s\n' "${FIG[@]}"
	echo "$PASSED passed, $FAILED failed"
	"${SCEN_DOWN:-lab_down}"
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
# secs_since T0: seconds (0.1) since T0 (date +%s%N)
secs_since() {
	awk -v a="$1" -v b="$(date +%s%N)" 'BEGIN {printf "%.1f", (b - a) / 1e9}'
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

# wait_prios SECS PA PB: until head A's path group has priority PA and
# head B's PB, the higher one carrying the I/O (status=active); the
# seconds it took in WAITED (the groups seen last on a timeout)
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
show_map() {
	vm_run 20 'multipath -ll 2>&1; echo "paths:"; paths'
	MP=$VM_OUT
	GROUPS_=$(mp_groups "$MP")
	indent "|" "$MP"
}

# a_down_map: after head A's death, the map (show_map): I/O through
# head B's path, head A's failed; RTPG through head B printed (VM_OUT)
a_down_map() {
	local ga gb
	show_map
	gb=$(group_of "$DB" "$GROUPS_")
	ga=$(group_of "$DA" "$GROUPS_")
	[ "$(cut -d' ' -f2- <<<"$gb")" = "active up" ] && ok "I/O goes through head B's path ($gb)" ||
		ko "head B's group after the kill: '$gb'"
	[ "${ga##* }" = down ] && ok "head A's path is failed" || ko "head A's path after the kill: '$ga'"
	vm_run 20 "sg_rtpg -d /dev/$DB | grep -iE 'group id|access state'"
	echo "   RTPG through head B now: $(tr -s ' \n' ' ' <<<"$VM_OUT")"
}

# scen_up base|extras: the guest (with the extras archive), the lab's two
# heads, the guest booted
scen_up() {
	local i
	echo "== the guest ($SCEN: head A active/optimized, head B $LAYOUT)"
	scen_guest "$1"
	lab_up 2 || { ko "lab_up failed"; finish; }
	vm_writer || { ko "vmwriter could not be built"; finish; }
	lab_start_corosync_all
	for i in 1 2; do
		wait_quorate "$i" 20 || ko "head $i: corosync not quorate"
	done
	for i in 1 2; do
		head_start "$i"
	done
	scen_boot
}
# scen_guest base|extras: the guest's kernel and initramfs built (or the
# cache's)
scen_guest() {
	vm_guest "$1" || finish
}
# scen_boot: the guest booted against heads A and B (the lab up)
scen_boot() {
	if vm_boot "$A" "$B"; then
		ok "the guest boots to its control loop in $VM_BOOT_S s (fast_io_fail_tmo $VM_FAST_IO_FAIL_TMO)"
		FIG+=("guest boot: $VM_BOOT_S s")
	else
		ko "the guest did not boot: $(vm_console 20)"
		finish
	fi
}

# scen_map: the guest's multipath map (MAP; MP, GROUPS_), one of a
# TANDEM LU (a check), and the disk through each head (DA, DB; DC
# through a third head at C, when C is set)
scen_map() {
	vm_run 10 "dmsetup ls --target multipath | awk '{print \$1}'"
	MAP=/dev/mapper/$(head -1 <<<"$VM_OUT")
	show_map
	[ "$(grep -c 'TANDEM,' <<<"$MP")" = 1 ] && ok "one multipath map of a TANDEM LU ($MAP)" ||
		ko "maps: $(grep -c 'TANDEM,' <<<"$MP")"
	DA=$(awk -v h="$A" '$2 == h {print $1}' <<<"${MP#*paths:}")
	DB=$(awk -v h="$B" '$2 == h {print $1}' <<<"${MP#*paths:}")
	[ -z "${C:-}" ] || DC=$(awk -v h="$C" '$2 == h {print $1}' <<<"${MP#*paths:}")
}

# scen_login: SendTargets through each head returns that head's portal;
# a login through both; multipathd's map with both paths up (MAP, MP,
# GROUPS_); the disk of each head (DA, DB)
scen_login() {
	local h
	for h in "$A" "$B"; do
		vm_run 30 "iscsiadm -m discovery -t sendtargets -p $h"
		if [ "$VM_RC" = 0 ] && grep -q "^$h:$LAB_PORT,[0-9]* $LAB_IQN\$" <<<"$VM_OUT" &&
			[ "$(grep -c . <<<"$VM_OUT")" = "$(grep -c "^$h:" <<<"$VM_OUT")" ]; then
			ok "SendTargets through $h returns that head's portal: $(tr '\n' ' ' <<<"$VM_OUT")"
		else
			ko "SendTargets through $h: status $VM_RC: $VM_OUT"
		fi
	done
	# head A first, and head B once the map holds A's path: a map whose
	# first path is B's gets its first I/O (udev's probes) there, and
	# scsi_dh_alua activates B's group with SET TARGET PORT GROUPS,
	# making it active/optimized too (alua_stpg sends it for an
	# active/non-optimized group unless optimize_stpg is set; seen once
	# in CI, docs/initiators.md)
	gx "iscsiadm login through head A" 60 \
		"iscsiadm -m node -T $LAB_IQN -p $A -I default --login"
	vm_until 30 "[ \$(multipath -ll 2>/dev/null | grep -cE 'active (ready|ghost) running') = 1 ]" ||
		ko "no map with head A's path: $VM_OUT"
	gx "iscsiadm login through head B" 60 \
		"iscsiadm -m node -T $LAB_IQN -p $B -I default --login"
	if vm_until 30 "$PATHS_UP"; then
		ok "multipathd built the map with both paths up"
	else
		ko "no map with two paths up: $VM_OUT"
	fi
	section "the map"
	scen_map
	[ -n "$DA" ] && [ -n "$DB" ] && ok "one disk per head: $DA through head A, $DB through head B" ||
		ko "disks: A '$DA' B '$DB'"
	# multipathd writes fast_io_fail_tmo into each iSCSI session's
	# recovery_tmo
	vm_run 10 "for d in $DA $DB; do s=\$(readlink -f /sys/block/\$d/device/../..); cat \$s/iscsi_session/\${s##*/}/recovery_tmo; done | tr '\n' ' '"
	local want=$VM_FAST_IO_FAIL_TMO
	[ "$want" = off ] && want=
	[ -z "$want" ] || [ "$VM_OUT" = "$want $want " ] &&
		ok "both sessions' recovery_tmo: $VM_OUT(fast_io_fail_tmo ${VM_FAST_IO_FAIL_TMO})" ||
		ko "the sessions' recovery_tmo: '$VM_OUT' (fast_io_fail_tmo $VM_FAST_IO_FAIL_TMO)"
}

# scen_pcmk_start: pacemakerd of both heads (prepared with pcmk.bash),
# the guest booted while Pacemaker starts them, until dg is promoted;
# then moved to head A if Pacemaker chose B: the guest logs in through
# the promoted head first (scen_login: why)
scen_pcmk_start() {
	local i t0
	t0=$(now_ms)
	for i in 1 2; do
		pacemaker_start "$i"
	done
	scen_boot
	if lab_wait 60 any_promoted 1; then
		ok "dg promoted on $(promoted_on 1) $(ms_since "$t0") ms after pacemakerd started"
	else
		ko "nothing promoted 60 s after pacemakerd started"
		crm_show 1
		finish
	fi
	[ "$(promoted_on 1)" = node1 ] || crm_move 1
}

# scen_pcmk_lab TRAP [SED]: the guest (base) built, the OCF agents'
# directory, the lab's two heads with corosync quorate, TRAP as the EXIT
# trap (pcmk_cleanup or one that calls it), vmwriter, the CIB of
# pcmk_fenced_cib (edited by the sed script SED) in LAB_DIR/cib.xml and
# each head prepared for pacemakerd with it
scen_pcmk_lab() {
	local i
	scen_guest base
	pcmk_ocf_dir || { ko "no OCF directory"; finish; }
	lab_up 2 || { ko "lab_up failed"; finish; }
	# shellcheck disable=SC2064 # the name of a function, given now
	trap "$1" EXIT
	vm_writer || { ko "vmwriter could not be built"; finish; }
	lab_start_corosync_all
	pcmk_fenced_cib 2 "$LAYOUT" | sed "${2:-}" >"$LAB_DIR/cib.xml"
	for i in 1 2; do
		wait_quorate "$i" 20 || ko "head $i: corosync not quorate"
		pcmk_fenced_head_prepare "$i" "$LAB_DIR/cib.xml"
	done
}
