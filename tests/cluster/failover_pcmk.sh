#!/bin/bash
# failover_pcmk.sh - failovers under a real Pacemaker with fencing, with
# a multipathing initiator writing throughout (issue 12, part 5): the
# namespace lab (tests/cluster/lab.sh), pacemakerd per head,
# stonith-enabled=true with one stonith resource per head using the lab
# fence agent (tests/cluster/fence_tandemlab: kills every process of the
# head's mount namespace), the ocf:tandem:target clone and the
# promotable ocf:tandem:alua clone. mpclient (tests/cluster/mpclient)
# writes through the path RTPG reports active/optimized, with a
# registration per path and a WRITE EXCLUSIVE - REGISTRANTS ONLY
# reservation. For each of HEADS (default "2 3"; corosync two_node for
# 2) with the unpromoted state UNPROMOTED (default nonoptimized), then for
# each of STANDBY_HEADS (default "2"; "" for none) with standby and
# without the upgrade (MP_STPG=1: mpclient -S, SET TARGET PORT GROUPS
# when the best reachable group is standby; it fights Pacemaker:
# docs/pacemaker.md):
#   0. mpclient detects a block changed behind its back (stale=1, exit 1);
#   1. kill -9 of every process of the promoted head: Pacemaker fences it
#      (stonith_admin --history, the agent's log), promotes a survivor
#      (after the fencing), mpclient carries on; the head is started
#      again and its path comes back;
#   2. a graceful move (crm_resource --move --promoted) and back;
#   3. after 1 and 2: the key and the reservation are still there through
#      a survivor and enforced (another initiator's write: RESERVATION
#      CONFLICT); then (unless NO_PARTITION=1) the promoted head cut off
#      from the other heads but not from the client (its UDP, corosync's
#      knet, dropped with nft inside its namespace) while mpclient writes
#      through it; on 2 heads the survivor's fence device gets
#      pcmk_delay_base 5s (the fence race goes to the survivor, as
#      docs/pacemaker.md advises); a PR OUT (REGISTER) sent through a
#      survivor at the cut; asserted on one clock (mpclient's
#      CLOCK_REALTIME, the daemons' log stamps): the isolated head's last
#      acknowledged write precedes the survivor's release of held
#      operations and its promotion; the head fenced, healed, started
#      again; the reservation checked again;
#   4. (unless NO_UPGRADE=1) a rolling upgrade: each head in turn
#      in standby (crm_attribute --name standby), its daemons replaced by
#      those of UPGRADE_BUILD (a build directory with both daemons built;
#      without it, a copy of the same binaries: the output says which),
#      standby off;
#   5. mpclient stopped: every acknowledged block read back: verified>0,
#      missing=0, stale=0; then the holder preempted through a surviving
#      head by a second registered initiator.
# Prints every pause (mpclient's "pause" lines: from the last GOOD write
# before, and from the kill or the command, to the first GOOD write
# after), times to fence and to promote, with the corosync token
# (TOKEN, default 1000). Prints "N passed, N failed"; exit 0 only when
# nothing failed. Root. Installs pacemaker, pacemaker-cli-utils,
# resource-agents, nftables itself.
set -u
cd "$(dirname "$0")/../.." || exit 1
: "${TOKEN:=1000}"
LAB_TOKEN=$TOKEN
. tests/cluster/lab.sh

. tests/cluster/checks.bash
. tests/cluster/pcmk.bash
lab_need_daemons
lab_need_agents pacemaker pacemaker-cli-utils resource-agents libxml2-utils nftables
: "${MPCLIENT:=$(dirname "$SCSITOOL")/mpclient}"
[ -x "$MPCLIENT" ] || { echo "SKIP: $MPCLIENT not built (needs libiscsi-dev)"; exit 77; }
: "${HEADS:=2 3}"
: "${UNPROMOTED:=nonoptimized}"
FENCE_AGENT=$LAB_SRC/tests/cluster/fence_tandemlab
KEY=0xa1
PRTYPE=5
INI_MP=iqn.2026-11.org.example:host-m
INI_X=iqn.2026-11.org.example:host-x
INI_P=iqn.2026-11.org.example:host-p
now_ms() { date +%s%3N; }
# mpclient's path name of head I (the URLs are given in head order)
letter() { local l=ABCDEFGHI; echo "${l:$1-1:1}"; }

# the other build for the rolling upgrade
if [ -n "${UPGRADE_BUILD:-}" ] && [ -x "$UPGRADE_BUILD/targetd/tandemd" ] &&
	[ -x "$UPGRADE_BUILD/agentd/tandem-agentd" ]; then
	NEW_TANDEMD=$UPGRADE_BUILD/targetd/tandemd
	NEW_AGENTD=$UPGRADE_BUILD/agentd/tandem-agentd
	UPGRADE_WHAT="the build in $UPGRADE_BUILD"
else
	NEW_TANDEMD=$TANDEMD
	NEW_AGENTD=$AGENTD
	UPGRADE_WHAT="a copy of the same binaries (no other build here: set UPGRADE_BUILD)"
fi

pcmk_ocf_dir || exit 1

rtpg() { client_exec "$SCSITOOL" -r -i "$INI_X" "$(lab_url "$1")" rtpg 2>&1 | grep '^tpg'; }
ao_is() { rtpg "$1" | grep -q "^tpg id=$2 state=0 "; }
# group_serves I J: through head I, head J's group is neither unavailable
# nor transitioning
group_serves() { rtpg "$1" | grep -q "^tpg id=$2 state=[012] "; }
one_ao() { [ "$(rtpg "$1" | grep -c ' state=0 ')" = 1 ]; }
# a survivor other than head I
other_than() {
	local j
	for ((j = 1; j <= LAB_N; j++)); do
		[ "$j" != "$1" ] && { echo "$j"; return; }
	done
}
# mp_since N: mpclient's log after its line N
mp_since() { tail -n +"$(($1 + 1))" "$MPLOG"; }
mp_lines() { wc -l <"$MPLOG"; }
mp_ms_since() { # N FIELD: the first pause line after line N, its FIELD
	mp_since "$1" | grep -m1 '^pause ' | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# pr_check LABEL I: key and reservation through head I, enforced
pr_check() {
	local out w k
	out=$(scsi_client "$2" -r -i "$INI_X" read-keys 2>&1)
	grep -q "^key=$KEY$" <<<"$out" &&
		ok "$1: READ KEYS through head $2 shows key $KEY ($(grep -c "^key=$KEY$" <<<"$out") registrations)" ||
		ko "$1: READ KEYS through head $2: $(tr '\n' ' ' <<<"$out")"
	out=$(scsi_client "$2" -r -i "$INI_X" read-reservation 2>&1)
	grep -q "^reservation key=$KEY scope=0 type=$PRTYPE$" <<<"$out" &&
		ok "$1: READ RESERVATION through head $2: key $KEY type $PRTYPE" ||
		ko "$1: READ RESERVATION through head $2: $(tr '\n' ' ' <<<"$out")"
	# the write through the promoted head: a standby port refuses it
	# before the reservation is looked at (2/04/0B)
	w=$(promoted_on "$2")
	w=${w#node}
	w=${w:-$2}
	# (a port transitioning, 2/04/0A, while a head rejoins: again, as an
	# initiator would)
	for ((k = 0; k < 25; k++)); do
		out=$(scsi_client "$w" -r -i "$INI_X" write 4000 0x55 2>&1)
		grep -q "sense=2/04/0a" <<<"$(tail -1 <<<"$out")" || break
		sleep 0.2
	done
	[ "$k" -gt 0 ] && echo "   (the write was answered 2/04/0A, transitioning, $k times first)"
	grep -q "^status=RESERVATION_CONFLICT" <<<"$out" &&
		ok "$1: a write from $INI_X (not registered) through head $w: RESERVATION CONFLICT" ||
		ko "$1: a write from $INI_X through head $w: $(tr '\n' ' ' <<<"$out")"
}

# fence_agent_check I J: fence_tandemlab as pacemaker-fenced runs it
# (arguments on stdin), inside head I, on the live head J: status, off
# (no process of J left), status again; Pacemaker sees it installed
fence_agent_check() {
	local i=$1 j=$2 out rc left args
	args="port=node$j
lab_dir=$LAB_DIR
nodename=node$i"
	out=$(node_exec "$i" stonith_admin --list-installed 2>&1)
	grep -qx ' *fence_tandemlab' <<<"$out" && ok "stonith_admin --list-installed in head $i lists fence_tandemlab" ||
		ko "stonith_admin --list-installed in head $i: $(grep -c fence_ <<<"$out") agents, no fence_tandemlab"
	out=$(node_exec "$i" stonith_admin --metadata --agent fence_tandemlab 2>&1)
	grep -q '<resource-agent name="fence_tandemlab"' <<<"$out" && ok "stonith_admin --metadata --agent fence_tandemlab in head $i" ||
		ko "stonith_admin --metadata --agent fence_tandemlab: $out"
	out=$(printf 'action=status\n%s\n' "$args" | node_exec "$i" /usr/sbin/fence_tandemlab 2>&1)
	rc=$?
	[ $rc = 0 ] && [ "$out" = "Status: ON" ] && ok "fence_tandemlab status node$j (live): $out, exit 0" ||
		ko "fence_tandemlab status node$j: exit $rc, $out"
	out=$(printf 'action=off\n%s\n' "$args" | node_exec "$i" /usr/sbin/fence_tandemlab 2>&1)
	rc=$?
	left=$(lab_ns_pids "$j" | wc -l)
	[ $rc = 0 ] && [ "$left" = 0 ] && ok "fence_tandemlab off node$j: exit 0, no process of head $j left ($out)" ||
		ko "fence_tandemlab off node$j: exit $rc, $left processes left: $out"
	out=$(printf 'action=status\n%s\n' "$args" | node_exec "$i" /usr/sbin/fence_tandemlab 2>&1)
	rc=$?
	[ $rc = 2 ] && [ "$out" = "Status: OFF" ] && ok "fence_tandemlab status node$j after off: $out, exit 2" ||
		ko "fence_tandemlab status node$j after off: exit $rc, $out"
}

# a head's daemons as the target agent runs them: sha256 of the program
daemon_sha() { # I NAME
	local p
	p=$(node_exec "$1" cat "/run/tandem/$2.pid" 2>/dev/null) || return 1
	sha256sum "/proc/$p/exe" 2>/dev/null | cut -c1-16
}

# run_heads N UNPROMOTED UPGRADE(0|1)
run_heads() {
	local n=$1 i P S X t0 t1 tk ms fenced_t promo_ms line out
	local UNPROMOTED=$2 upgrade=$3
	echo "== $n heads, corosync token $TOKEN ms, unpromoted $UNPROMOTED"
	lab_up "$n" || { ko "lab_up $n"; return; }
	trap pcmk_cleanup EXIT
	lab_start_corosync_all
	pcmk_fenced_cib "$n" "$UNPROMOTED" >"$LAB_DIR/cib.xml"
	for ((i = 1; i <= n; i++)); do
		wait_quorate "$i" 20 || ko "head $i: corosync not quorate"
		pcmk_fenced_head_prepare "$i" "$LAB_DIR/cib.xml"
	done
	t0=$(now_ms)
	for ((i = 1; i <= n; i++)); do
		pacemaker_start "$i"
	done
	lab_wait 60 any_promoted 1
	P=$(promoted_on 1)
	P=${P#node}
	if [ -z "$P" ]; then
		ko "$n heads: nothing promoted after 60 s"
		crm_show 1
		lab_down
		return
	fi
	ok "$n heads: dg promoted on node$P $(($(now_ms) - t0)) ms after pacemakerd started"
	for ((i = 1; i <= n; i++)); do
		lab_wait 30 running_on 1 target "node$i" || ko "target not started on node$i"
	done
	S=$(other_than "$P")
	out=$(node_exec "$S" stonith_admin --list-registered 2>&1)
	grep -q "fence-node$P" <<<"$out" &&
		ok "head $S's pacemaker-fenced has the lab fence devices: $(grep -o 'fence-node[0-9]' <<<"$out" | tr '\n' ' ')" ||
		ko "stonith_admin --list-registered on head $S: $out"
	crm_show 1
	local urls=()
	for ((i = 1; i <= n; i++)); do urls+=("$(lab_url "$i")"); done

	echo "-- 0. mpclient detects a block changed behind its back"
	: >"$LAB_DIR/mp0.log"
	client_bg "$LAB_DIR/mp0.log" "$MPCLIENT" -W -i "$INI_P" -l 60000 -n 64 -s 1 "${urls[@]}"
	local mp0=$LAB_PID
	lab_wait 20 grep -q writes_stopped "$LAB_DIR/mp0.log" || ko "mpclient -W: no writes_stopped"
	out=$(scsi_client "$P" -r -i "$INI_X" write 60010 0xab 2>&1)
	grep -q "^status=GOOD" <<<"$out" || ko "the write behind mpclient's back (head $P): $(tr "\n" " " <<<"$out")"
	kill -USR2 "$mp0"
	lab_wait 30 lab_not_alive "$mp0"
	line=$(grep '^verified=' "$LAB_DIR/mp0.log")
	grep -q '^result=FAIL' "$LAB_DIR/mp0.log" && grep -q ' stale=1 ' <<<"$line" &&
		grep -q '^bad lba=60010 kind=stale' "$LAB_DIR/mp0.log" &&
		ok "mpclient found the block changed behind its back: $line; result=FAIL" ||
		ko "mpclient after a block changed behind its back: $(grep -E '^(verified|bad|result)' "$LAB_DIR/mp0.log" | tr '\n' ' ')"

	echo "-- mpclient writing through every head (key $KEY, reservation type $PRTYPE)"
	MPLOG=$LAB_DIR/mp.log
	: >"$MPLOG"
	local stpg=()
	[ -n "${MP_STPG:-}" ] && stpg=(-S)
	client_bg "$MPLOG" "$MPCLIENT" -i "$INI_MP" -n 2048 -t 2 -k "$KEY" -T "$PRTYPE" "${stpg[@]}" "${urls[@]}"
	MP=$LAB_PID
	lab_wait 20 grep -q "^pr reserve .*status=GOOD" "$MPLOG" &&
		ok "mpclient: $(grep -c '^pr register.*GOOD' "$MPLOG") paths registered, $(grep '^pr reserve' "$MPLOG")" ||
		ko "mpclient did not reserve: $(head -20 "$MPLOG" | tr '\n' ' ')"
	grep "^switch " "$MPLOG" | head -1 | sed 's/^/   /'
	sleep 1

	echo "-- 1. every process of the promoted head $P killed"
	line=$(mp_lines)
	# the head's processes first (lab_ns_pids takes a while), then the
	# mark and the kill together
	local pids
	pids=$(lab_ns_pids "$P")
	kill -USR1 "$MP"
	tk=$(now_ms)
	# shellcheck disable=SC2086
	kill -KILL $pids 2>/dev/null
	node_kill "$P"
	# crm_mon during the failover: the head lost, not yet fenced
	lab_wait 15 node_unclean "$S" "$P" &&
		{ echo "   crm_mon on head $S $(($(now_ms) - tk)) ms after the kill:"; crm_show "$S"; }
	lab_wait 60 promoted_elsewhere "$S" "$P"
	X=$(promoted_on "$S")
	X=${X#node}
	promo_ms=$(($(now_ms) - tk))
	if [ -n "$X" ] && [ "$X" != "$P" ]; then
		ok "Pacemaker promoted node$X $promo_ms ms after the kill (crm_mon on head $S)"
	else
		ko "no promotion after the kill of head $P ($promo_ms ms)"
		crm_show "$S"
	fi
	lab_wait 20 ao_is "$X" "$X" && ok "RTPG through head $X: its group active/optimized, $(($(now_ms) - tk)) ms after the kill" ||
		ko "RTPG through head $X: $(rtpg "$X" | tr '\n' ' ')"
	out=$(node_exec "$S" stonith_admin --history "node$P" --output-as=xml 2>&1)
	grep -q "target=\"node$P\".*status=\"success\"\|status=\"success\".*target=\"node$P\"" <<<"$out" &&
		ok "stonith_admin --history node$P (head $S): fenced: $(grep -o '<fence_event [^>]*>' <<<"$out" | head -1)" ||
		ko "stonith_admin --history node$P: $out"
	fenced_t=$(fenced_at "$P")
	if [ -n "$fenced_t" ]; then
		ms=$(awk -v a="$fenced_t" -v b="$tk" 'BEGIN {printf "%d", a * 1000 - b}')
		ok "the lab fence agent turned node$P off $ms ms after the kill: $(grep "port=node$P" "$LAB_DIR/fence/fence.log" | tail -1)"
		# Pacemaker promotes only once the dead head is fenced
		t1=$(mp_since "$line" | grep -m1 "^rtpg .*$X:ao" | sed 's/^rtpg t=\([0-9.]*\) .*/\1/')
		[ -n "$t1" ] && awk -v f="$fenced_t" -v p="$t1" 'BEGIN {exit !(f < p)}' &&
			ok "the promotion seen by mpclient (RTPG at $t1) came after the fencing ($fenced_t)" ||
			ko "promotion (RTPG at '$t1') not after the fencing ($fenced_t)"
	else
		ko "the lab fence agent's log has no off of node$P: $(cat "$LAB_DIR/fence/fence.log" 2>&1)"
	fi
	lab_wait 15 mp_has_pause "$line"
	mp_since "$line" | grep -E '^(pause|switch|indeterminate|path|mark)' | sed 's/^/   /'
	ms=$(mp_ms_since "$line" mark_ms)
	[ -n "$ms" ] && ok "I/O pause, kill of head $P -> first GOOD write on the new path: $ms ms (token $TOKEN, $n heads; last GOOD write before -> first after: $(mp_ms_since "$line" ms) ms)" ||
		ko "no pause line from the kill in mpclient's log"
	crm_show "$S"
	t0=$(now_ms)
	pcmk_head_start "$P"
	lab_wait 60 running_on "$S" target "node$P" && ok "head $P back (corosync, pacemakerd started again): target started there $(($(now_ms) - t0)) ms later" ||
		ko "head $P did not come back"
	lab_wait 30 running_on "$S" alua "node$P" && lab_wait 20 group_serves "$S" "$P" &&
		{ echo "   crm_mon on head $S once head $P is back:"; crm_show "$S"; }
	lab_wait 30 mp_path_up "$line" "$(letter "$P")" && ok "mpclient's path $(letter "$P") (head $P) logged in again" ||
		ko "mpclient's path $(letter "$P") not back"
	pr_check "after the kill" "$S"

	echo "-- 2. a graceful move to the head $P and back to head $X"
	local to=$P k
	for k in 1 2; do
		line=$(mp_lines)
		kill -USR1 "$MP"
		t0=$(now_ms)
		out=$(node_exec "$S" crm_resource --move --promoted -r alua-clone -N "node$to" 2>&1) ||
			ko "crm_resource --move: $out"
		lab_wait 30 ao_is "$to" "$to" && ok "moved to head $to: RTPG $(($(now_ms) - t0)) ms after crm_resource --move" ||
			ko "move to head $to: $(rtpg "$to" | tr '\n' ' ')"
		lab_wait 30 promoted_is "$S" "$to" && ok "crm_mon: promoted on node$to $(($(now_ms) - t0)) ms after the command" ||
			ko "crm_mon after the move to head $to: promoted on '$(promoted_on "$S")'"
		lab_wait 10 one_ao "$S" && ok "RTPG through head $S: one active/optimized group: $(rtpg "$S" | tr '\n' ' ')" ||
			ko "RTPG through head $S after the move: $(rtpg "$S" | tr '\n' ' ')"
		lab_wait 15 mp_on "$line" "$(letter "$to")"
		mp_since "$line" | grep -E '^(pause|switch|indeterminate|rtpg)' | sed 's/^/   /'
		if mp_on "$line" "$(letter "$to")"; then
			t1=$(grep '^switch ' "$MPLOG" | tail -1 | sed 's/^switch t=\([0-9.]*\) .*/\1/')
			ok "mpclient writes through path $(letter "$to") (head $to) only: its switch $(awk -v a="$t1" -v b="$t0" 'BEGIN {printf "%d", a * 1000 - b}') ms after the command (negative: before it); longest pause between two GOOD writes meanwhile: $(mp_since "$line" | grep '^pause ' | tr ' ' '\n' | sed -n 's/^ms=//p' | sort -g | tail -1) ms"
		else
			ko "mpclient did not end on path $(letter "$to"): $(grep '^switch ' "$MPLOG" | tail -1)"
		fi
		[ "$(mp_since "$line" | grep -c '^indeterminate')" = 0 ] && ok "graceful move: no write without status" ||
			ko "graceful move: $(mp_since "$line" | grep '^indeterminate' | tr '\n' ' ')"
		out=$(node_exec "$S" crm_resource --clear -r alua-clone 2>&1) || ko "crm_resource --clear: $out"
		to=$X
	done
	sleep 2
	P=$(promoted_on "$S")
	P=${P#node}
	pr_check "after the moves" "$S"

	[ -z "${NO_PARTITION:-}" ] && partition_scenario "$n"

	if [ "$upgrade" = 1 ]; then
		echo "-- 4. rolling upgrade to $UPGRADE_WHAT"
		local sum_new sum
		sum_new=$(sha256sum "$NEW_TANDEMD" | cut -c1-16)
		for ((i = 1; i <= n; i++)); do
			line=$(mp_lines)
			S=$(other_than "$i")
			t0=$(now_ms)
			node_exec "$S" crm_attribute --node "node$i" --name standby --update on >/dev/null 2>&1 ||
				ko "standby on node$i"
			lab_wait 60 not_running "$S" target "node$i" && lab_wait 30 promoted_elsewhere "$S" "$i"
			t1=$(now_ms)
			node_exec "$i" sh -ec "install -m 755 '$NEW_TANDEMD' /run/tandem-bin/tandemd
				install -m 755 '$NEW_AGENTD' /run/tandem-bin/tandem-agentd"
			node_exec "$S" crm_attribute --node "node$i" --name standby --update off >/dev/null 2>&1 ||
				ko "standby off node$i"
			lab_wait 60 running_on "$S" alua "node$i" && lab_wait 20 group_serves "$S" "$i" &&
				ok "head $i upgraded: in standby $((t1 - t0)) ms (promoted: $(promoted_on "$S")), back $(($(now_ms) - t1)) ms later" ||
				ko "head $i not back after its upgrade"
			sum=$(daemon_sha "$i" tandemd)
			[ "$sum" = "$sum_new" ] && ok "head $i's tandemd runs the new binary (sha256 $sum...)" ||
				ko "head $i's tandemd: sha256 '$sum', expected $sum_new"
			lab_wait 30 mp_path_up "$line" "$(letter "$i")" || ko "mpclient's path $(letter "$i") not back after the upgrade of head $i"
			mp_since "$line" | grep -E '^(pause|switch|indeterminate|path)' | sed 's/^/   /'
			[ "$(mp_since "$line" | grep -c '^indeterminate')" = 0 ] && ok "upgrade of head $i: no write without status" ||
				ko "upgrade of head $i: $(mp_since "$line" | grep '^indeterminate' | tr '\n' ' ')"
		done
		S=$(promoted_on 1 | sed 's/node//')
		pr_check "after the rolling upgrade" "${S:-1}"
	fi

	echo "-- 5. mpclient stopped, every acknowledged block read back"
	kill -TERM "$MP"
	lab_wait 60 lab_not_alive "$MP" || ko "mpclient still running 60 s after SIGTERM"
	grep -E '^(verified|writes|path_last_good|note|result|bad|unread)' "$MPLOG" | sed 's/^/   /'
	line=$(grep '^verified=' "$MPLOG")
	if grep -q '^result=PASS' "$MPLOG" && grep -q ' missing=0 stale=0 ' <<<"$line" &&
		[ "$(cut -d' ' -f1 <<<"${line#verified=}")" -gt 0 ]; then
		ok "$n heads: $line, $(grep '^writes ' "$MPLOG")"
	else
		ko "$n heads: ${line:-no verification line}"
	fi
	echo "   pauses ($n heads, token $TOKEN): $(grep '^pause ' "$MPLOG" | sed 's/ t=.*//' | tr '\n' ';')"

	S=$(promoted_on 1 | sed 's/node//')
	[ -z "$S" ] && S=1
	out=$(scsi_client "$S" -r -i "$INI_P" register-ignore 0xb2 2>&1)
	grep -q "^status=GOOD" <<<"$out" || ko "register of $INI_P: $out"
	out=$(scsi_client "$S" -r -i "$INI_P" preempt 0xb2 "$KEY" "$PRTYPE" 2>&1)
	grep -q "^status=GOOD" <<<"$out" && ok "PREEMPT of $KEY by $INI_P (key 0xb2) through head $S: GOOD" ||
		ko "PREEMPT through head $S: $out"
	out=$(scsi_client "$(other_than "$S")" -r -i "$INI_X" read-reservation 2>&1)
	out2=$(scsi_client "$(other_than "$S")" -r -i "$INI_X" read-keys 2>&1)
	grep -q "^reservation key=0xb2 " <<<"$out" && ! grep -q "^key=$KEY$" <<<"$out2" &&
		ok "through head $(other_than "$S"): reservation held by 0xb2, no key $KEY left" ||
		ko "after the PREEMPT: $(tr '\n' ' ' <<<"$out $out2")"
	fence_agent_check "$S" "$(other_than "$S")"
	lab_sanitizer_check
	for ((i = 1; i <= n; i++)); do
		mon_xml "$i" | grep -q 'failed="true"' && ko "a failed resource on head $i: $(node_exec "$i" crm_mon -1 2>&1 | grep -A3 Failed)"
	done
	lab_down
}
# cluster_cut I / cluster_heal I: head I's UDP (corosync's knet: the
# lab's only UDP) dropped in and out inside its own network namespace:
# the head is cut off from the other heads while the client still
# reaches its portal (TCP), a split of the cluster network only
cluster_cut() {
	node_exec "$1" nft -f - <<'NFT'
table inet tandem_lab_cut {
	chain in { type filter hook input priority 0; meta l4proto udp drop; }
	chain out { type filter hook output priority 0; meta l4proto udp drop; }
}
NFT
}
cluster_heal() { node_exec "$1" nft delete table inet tandem_lab_cut; }
# log_ms LINE: the epoch ms of a daemon log line ("Dec 06 12:10:11.123 ...")
log_ms() { date -d "$(cut -c1-19 <<<"$1")" +%s%3N; }
# first_log_after I MS REGEX: the first line of head I's daemons' log
# matching REGEX, logged at MS or later
first_log_after() {
	local l
	while IFS= read -r l; do
		[ "$(log_ms "$l")" -ge "$2" ] && { echo "$l"; return 0; }
	done < <(grep -E "$3" "$(lab_ndir "$1")/log/daemons.log" 2>/dev/null)
	return 1
}
# mp_last_good_on N L: the epoch ms of mpclient's last GOOD write through
# path L after its log line N, from its pause lines (a pause from L ends
# at t after ms without a GOOD write; a pause to L ends with a GOOD write
# through L at t)
mp_last_good_on() {
	mp_since "$1" | awk -v L="$2" '
		/^pause / {
			for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
			t = f["t"] * 1000
			if (f["to"] == L) g = t
			else if (f["from"] == L && t - f["ms"] > g) g = t - f["ms"]
		}
		END { if (g) printf "%d", g; else exit 1 }'
}

# ack_before LAST TP Q X WHAT LINE: mpclient's last GOOD write through
# head Q (LAST, epoch ms; TP the cut) precedes head X's log LINE (WHAT)
ack_before() {
	local last=$1 tp=$2 q=$3 x=$4 what=$5 l=$6 t
	[ -n "$l" ] || { ko "head $x's log has no $what after the cut"; return; }
	t=$(log_ms "$l")
	[ "$last" -lt "$t" ] &&
		ok "head $q's last acknowledged write ($((last - tp)) ms after the cut) precedes head $x's $what ($((t - tp)) ms after the cut) by $((t - last)) ms" ||
		ko "head $q acknowledged a write $((last - t)) ms after head $x's $what"
	echo "   head $x: ${l#* * * }"
}

# partition_scenario N: the promoted head cut off from the cluster (not
# from the client) while mpclient writes through it; the survivors fence
# it before they promote, and its last acknowledged write precedes both
# the survivors' release of held operations and their first promotion
partition_scenario() {
	local n=$1 Q S X line tp out promo_l rel_l last pr_t dev
	Q=$P
	S=$(other_than "$Q")
	echo "-- 3. head $Q (promoted) cut off from the other heads, not from the client"
	if [ "$n" = 2 ]; then
		# two heads keep quorum on both sides: the fence race is decided
		# by a delay on the device that fences the survivor (docs/pacemaker.md)
		dev=fence-node$S
		out=$(node_exec "$S" crm_resource -r "$dev" --set-parameter pcmk_delay_base --parameter-value 5s 2>&1) ||
			ko "pcmk_delay_base on $dev: $out"
		sleep 1
	fi
	lab_wait 10 mp_on 0 "$(letter "$Q")" && ok "mpclient writes through head $Q ($(letter "$Q")), the promoted one" ||
		ko "mpclient is not on head $Q's path: $(grep '^switch ' "$MPLOG" | tail -1)"
	line=$(mp_lines)
	kill -USR1 "$MP"
	tp=$(now_ms)
	cluster_cut "$Q" || ko "nft in head $Q"
	# a PR change asked through a survivor at the cut: held until head Q
	# is fenced
	out=$(scsi_client "$S" -r -i "$INI_P" register-ignore 0xb3 2>&1)
	pr_t=$(now_ms)
	grep -q "^status=GOOD" <<<"$out" && ok "a PR OUT (REGISTER) through head $S sent at the cut: GOOD $((pr_t - tp)) ms later" ||
		ko "PR OUT through head $S at the cut: $(tr '
' ' ' <<<"$out")"
	lab_wait 60 promoted_elsewhere "$S" "$Q"
	X=$(promoted_on "$S")
	X=${X#node}
	[ -n "$X" ] && [ "$X" != "$Q" ] && ok "promoted on node$X $(($(now_ms) - tp)) ms after the cut (crm_mon on head $S)" ||
		ko "no promotion after the cut of head $Q"
	lab_wait 30 grep -q "action=off port=node$Q result=success" "$LAB_DIR/fence/fence.log" &&
		ok "head $Q fenced: $(grep "port=node$Q" "$LAB_DIR/fence/fence.log" | tail -1)" ||
		ko "head $Q not fenced: $(tail -3 "$LAB_DIR/fence/fence.log" 2>&1 | tr '
' ' ')"
	lab_wait 20 ao_is "$X" "$X" || ko "RTPG through head $X: $(rtpg "$X" | tr '
' ' ')"
	lab_wait 15 mp_on 0 "$(letter "$X")" || ko "mpclient did not move to head $X"
	sleep 1
	mp_since "$line" | grep -E '^(pause|switch|indeterminate|mark)' | sed 's/^/   /'
	# one clock: mpclient's CLOCK_REALTIME and the daemons' log stamps
	last=$(mp_last_good_on "$line" "$(letter "$Q")")
	promo_l=$(first_log_after "$X" "$tp" "ALUA: .* -> active[ ,]")
	rel_l=$(first_log_after "$X" "$tp" "hold released after")
	if [ -z "$last" ]; then
		ko "no GOOD write through head $Q found after the cut in mpclient's log"
	else
		echo "   isolated head $Q's last acknowledged write: $((last - tp)) ms after the cut"
		ack_before "$last" "$tp" "$Q" "$X" "release of held operations (PR OUT, promotions)" "$rel_l"
		ack_before "$last" "$tp" "$Q" "$X" promotion "$promo_l"
	fi
	[ "$n" = 2 ] && node_exec "$S" crm_resource -r "$dev" --delete-parameter pcmk_delay_base >/dev/null 2>&1
	cluster_heal "$Q" || ko "nft delete in head $Q"
	pcmk_head_start "$Q"
	lab_wait 60 running_on "$S" target "node$Q" && lab_wait 30 group_serves "$S" "$Q" &&
		ok "head $Q back after the partition: its group serves again ($(rtpg "$S" | grep "^tpg id=$Q " | cut -d' ' -f2-3))" ||
		ko "head $Q did not come back: $(rtpg "$S" | tr '\n' ' ')"
	lab_wait 30 mp_path_up "$line" "$(letter "$Q")" || ko "mpclient's path $(letter "$Q") not back"
	pr_check "after the partition" "$S"
	out=$(scsi_client "$S" -r -i "$INI_P" register-ignore 0 2>&1)
	grep -q "^status=GOOD" <<<"$out" || ko "unregister of $INI_P: $out"
	P=$X
}

# node_unclean I J: head I's crm_mon no longer has node J online
node_unclean() { node_exec "$1" crm_mon -1 2>/dev/null | grep -q "UNCLEAN\|OFFLINE: .*node$2"; }
lab_not_alive() { ! lab_alive "$1"; }
not_running() { ! running_on "$@"; }
mp_has_pause() { mp_since "$1" | grep -q '^pause .*mark_ms='; }
mp_path_up() { mp_since "$1" | grep -q "^path t=[0-9.]* path=$2 up"; }
# mp_on N L: mpclient's last choice (its last "switch" line, whenever
# it came) is path L, active/optimized (N: unused, for lab_wait's sake)
mp_on() { grep '^switch ' "$MPLOG" | tail -1 | grep -q " to=$2 state=ao "; }

# the agent's metadata against fence-agents' schema (package
# fence-agents, not installed here: it pulls in much of Python)
rng=/usr/share/cluster/relaxng/metadata.rng
if [ -f "$rng" ]; then
	out=$("$FENCE_AGENT" -o metadata | xmllint --noout --relaxng "$rng" - 2>&1) &&
		ok "fence_tandemlab's metadata validates against $rng" || ko "fence_tandemlab's metadata: $out"
else
	echo "not checked: fence_tandemlab's metadata against fence-agents' schema ($rng: package fence-agents not installed)"
fi
t_all=$(now_ms)
for h in $HEADS; do
	run_heads "$h" "$UNPROMOTED" "$([ -n "${NO_UPGRADE:-}" ] && echo 0 || echo 1)"
done
for h in ${STANDBY_HEADS-2}; do
	run_heads "$h" standby 0
done
# each run's lab_down cleared the EXIT trap
rm -rf "$OCF"
echo "total $(($(now_ms) - t_all)) ms"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
