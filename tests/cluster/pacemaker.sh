#!/bin/bash
# pacemaker.sh - the OCF agents of ra/ under a real Pacemaker in the
# namespace lab (tests/cluster/lab.sh), 2 heads: each head runs corosync
# and pacemakerd in its namespaces; the CIB (pre-seeded) holds the clone
# of ocf:tandem:target and the promotable clone of ocf:tandem:alua
# (promoted-max 1) for the device group dg, ordered and colocated.
#   1. the cluster comes up: both heads serve, dg promoted on one head:
#      crm_mon shows it, and REPORT TARGET PORT GROUPS through both heads
#      shows that head's group active/optimized with PREF, the other's
#      active/non-optimized; the promotion scores are the agent's (100);
#   2. a graceful move (crm_resource --move --promoted) to the other head
#      and back (--clear): RTPG through both heads follows; the time from
#      the command to the new RTPG is printed;
#   3. every process of the promoted head killed (-9): the survivor's
#      Pacemaker promotes its own group; the time from the kill to its
#      RTPG showing active/optimized is printed; the dead head's group is
#      unavailable without PREF there (cluster protocol 5), so one group
#      only is active/optimized.
# No fencing here (stonith-enabled=false): fencing-safe takeover, the
# lab's fence agent and the client that measures I/O pauses are parts 2
# and 5 of issue 12. Prints
# "N passed, N failed"; exit 0 only when nothing failed. Root. Installs
# pacemaker, pacemaker-cli-utils and resource-agents itself.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/cluster/lab.sh

. tests/cluster/checks.bash
. tests/cluster/pcmk.bash
lab_need_daemons
lab_need_agents pacemaker pacemaker-cli-utils resource-agents
A=iqn.2026-11.org.example:host-a
now_ms() { date +%s%3N; }

# the OCF provider directory the heads see as /usr/lib/ocf/resource.d
pcmk_ocf_dir || exit 1

# the CIB every head starts from: node-local paths are the same on
# every head (each has its own /run and /var/log)
cib() {
	pcmk_cib_begin stonith-enabled=false
	pcmk_clones "$TANDEMD" "$AGENTD" nonoptimized "$LAB_AGENTD_FENCING"
	echo '    </resources>'
	echo '    <constraints>'
	pcmk_constraints
	pcmk_cib_end
}

# rtpg I: REPORT TARGET PORT GROUPS through head I, "tpg" lines
rtpg() {
	client_exec "$SCSITOOL" -r -i "$A" "$(lab_url "$1")" rtpg 2>&1 | grep '^tpg'
}
# ao_is I J: through head I, head J's group (group_id J) is
# active/optimized with PREF
ao_is() { rtpg "$1" | grep -q "^tpg id=$2 state=0 pref=1 "; }
score_of() { # I: head I's promotion score for alua (crm_attribute)
	node_exec "$1" crm_attribute -N "node$1" -n master-alua -l reboot -G -q 2>/dev/null ||
		node_exec "$1" crm_attribute -N "node$1" -n promotion-alua -l reboot -G -q 2>/dev/null
}

echo "== 1. two heads under Pacemaker"
t0=$(now_ms)
lab_up 2 || { echo "0 passed, 1 failed"; exit 1; }
# lab_up's EXIT trap is lab_down alone: ours removes $OCF too
trap pcmk_cleanup EXIT
lab_start_corosync_all
cib >"$LAB_DIR/cib.xml"
for i in 1 2; do
	wait_quorate "$i" 20 || ko "head $i: corosync not quorate"
	lab_tandem_conf "$i" | sed 's/state active/state unavailable/' >"$(lab_ndir "$i")/ra.conf"
	node_exec "$i" cp "$(lab_ndir "$i")/ra.conf" /run/tandem-lab.conf
	pacemaker_prepare "$i" "$LAB_DIR/cib.xml" "$OCF"
done
for i in 1 2; do
	pacemaker_start "$i"
done
P=
for ((n = 0; n < 600; n++)); do
	P=$(promoted_on 1)
	[ -n "$P" ] && break
	sleep 0.1
done
if [ -n "$P" ]; then
	ok "Pacemaker promoted dg on $P, $(($(now_ms) - t0)) ms after the lab was made"
else
	ko "nothing promoted after 60 s"
	crm_show 1
fi
crm_show 1
if [ -z "$P" ]; then
	echo "$PASSED passed, $FAILED failed (stopped: no cluster to test)"
	exit 1
fi
PI=${P#node}
OI=$((3 - PI))
for i in 1 2; do
	s=$(node_exec "$i" "$TANDEMCTL" -s "$LAB_CTL_SOCK" -status 2>/dev/null | sed -n 's/^cluster  *//p')
	grep -q 'serving=1' <<<"$s" && ok "head $i serves (its tandemd started by ocf:tandem:target): $(cut -c1-80 <<<"$s")" ||
		ko "head $i: $s"
done
for ((n = 0; n < 100; n++)); do ao_is 1 "$PI" && ao_is 2 "$PI" && break; sleep 0.1; done
r1=$(rtpg 1)
r2=$(rtpg 2)
[ "$r1" = "$r2" ] && grep -q "^tpg id=$PI state=0 pref=1 " <<<"$r1" && grep -q "^tpg id=$OI state=1 pref=0 " <<<"$r1" &&
	ok "RTPG through both heads: head $PI's group active/optimized with PREF, head $OI's non-optimized: $(tr '\n' ' ' <<<"$r1")" ||
	ko "RTPG: head 1 [$(tr '\n' ' ' <<<"$r1")] head 2 [$(tr '\n' ' ' <<<"$r2")]"
for i in 1 2; do
	sc=$(score_of "$i")
	[ "$sc" = 100 ] && ok "head $i's promotion score: $sc (set by the agent's monitor)" || ko "head $i's promotion score: '$sc'"
done

echo "== 2. a graceful move, and back"
t0=$(now_ms)
out=$(node_exec 1 crm_resource --move --promoted -r alua-clone -N "node$OI" 2>&1) ||
	ko "crm_resource --move: $out"
for ((n = 0; n < 300; n++)); do ao_is "$PI" "$OI" && ao_is "$OI" "$OI" && break; sleep 0.1; done
ms=$(($(now_ms) - t0))
r1=$(rtpg 1)
[ "$r1" = "$(rtpg 2)" ] && grep -q "^tpg id=$OI state=0 pref=1 " <<<"$r1" && grep -q "^tpg id=$PI state=1 pref=0 " <<<"$r1" &&
	ok "moved to head $OI in $ms ms (command to RTPG through both heads): $(tr '\n' ' ' <<<"$r1")" ||
	ko "after the move ($ms ms): $(tr '\n' ' ' <<<"$r1")"
# RTPG changes inside the agent's promote; crm_mon once it returned
for ((n = 0; n < 200; n++)); do [ "$(promoted_on "$PI")" = "node$OI" ] && break; sleep 0.05; done
[ "$(promoted_on "$PI")" = "node$OI" ] && ok "crm_mon: promoted on node$OI, $(($(now_ms) - t0)) ms after the command" ||
	ko "crm_mon: promoted on '$(promoted_on "$PI")'"
crm_show "$PI"
t0=$(now_ms)
out=$(node_exec 1 crm_resource --clear -r alua-clone 2>&1) || ko "crm_resource --clear: $out"
# the move's constraint is gone: equal scores, stickiness 0; Pacemaker may
# leave it or move it back: either way one head is promoted and RTPG agrees
sleep 3
P2=$(promoted_on 1)
P2I=${P2#node}
r1=$(rtpg 1)
[ -n "$P2" ] && [ "$r1" = "$(rtpg 2)" ] && grep -q "^tpg id=$P2I state=0 pref=1 " <<<"$r1" &&
	[ "$(grep -c 'state=0' <<<"$r1")" = 1 ] &&
	ok "--clear: promoted on $P2, RTPG through both heads agrees, one active/optimized group" ||
	ko "--clear: promoted on '$P2': $(tr '\n' ' ' <<<"$r1")"

echo "== 3. the promoted head killed (no fencing)"
if [ -z "$P2" ]; then
	echo "$PASSED passed, $FAILED failed (stopped: nothing promoted)"
	exit 1
fi
PI=$P2I
OI=$((3 - PI))
t0=$(now_ms)
node_kill "$PI"
for ((n = 0; n < 600; n++)); do ao_is "$OI" "$OI" && break; sleep 0.05; done
ms=$(($(now_ms) - t0))
r=$(rtpg "$OI")
grep -q "^tpg id=$OI state=0 pref=1 " <<<"$r" &&
	ok "head $OI promoted its group $ms ms after head $PI was killed (corosync token 500)" ||
	ko "head $OI after head $PI was killed ($ms ms): $(tr '\n' ' ' <<<"$r")"
grep -q "^tpg id=$PI state=3 pref=0 " <<<"$r" &&
	ok "head $OI's RTPG shows the dead head's group unavailable without PREF: $(grep "^tpg id=$PI " <<<"$r")" ||
	ko "head $OI's RTPG of the dead head's group: $(grep "^tpg id=$PI " <<<"$r")"
# the agent's promote returns once its monitor sees the group promoted
for ((n = 0; n < 200; n++)); do [ "$(promoted_on "$OI")" = "node$OI" ] && break; sleep 0.05; done
[ "$(promoted_on "$OI")" = "node$OI" ] &&
	ok "crm_mon on head $OI: promoted on node$OI, $(($(now_ms) - t0)) ms after the kill" ||
	ko "crm_mon: '$(promoted_on "$OI")'"
crm_show "$OI"
for i in 1 2; do
	[ "$i" = "$PI" ] && continue
	node_exec "$i" crm_mon -1 --output-as=xml 2>/dev/null | grep -q 'failed="true"' &&
		ko "a failed resource on head $i: $(node_exec "$i" crm_mon -1 2>&1 | grep -A3 'Failed')" ||
		ok "no failed resource action on head $i"
done
lab_sanitizer_check
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
