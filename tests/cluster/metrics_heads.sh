#!/bin/bash
# metrics_heads.sh - the metrics endpoint of two heads in the namespace
# lab (tests/cluster/lab.sh; each head's configuration is lab_tandem_conf
# with metrics_listen on the head's own lab address, port 9363), scraped
# from the client namespace (docs/observability.md):
#   1. both heads: cluster mode, agent connected, serving, not fenced,
#      quorate, 2 members, nothing ordered pending; 127.0.0.1 inside the
#      head refused (bound to the configured address only);
#   2. the ALUA series of both heads identical, groups 1 and 2
#      active/optimized, group 1 preferred;
#   3. a PERSISTENT RESERVE OUT REGISTER through head 1: PR generation
#      and registrations of disk0 1 on both heads;
#   4. head 2 killed: head 1 reports 1 member and group 2 unavailable.
# Prints "N passed, N failed"; exit 0 only when nothing failed. Root.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/cluster/lab.sh

. tests/cluster/checks.bash
lab_need_daemons
command -v curl >/dev/null || { echo "SKIP: no curl (scripts/deps.sh test installs it)"; exit 77; }
MPORT=9363
A=iqn.2026-11.org.example:host-a

# scrape I: head I's /metrics, from the client namespace
scrape() {
	client_exec curl -sf --max-time 5 "http://$(lab_addr "$1"):$MPORT/metrics"
}
# val I SERIES: the value of one series on head I
val() {
	scrape "$1" | awk -v s="$2" '$1 == s { print $2 }'
}
# val_is I SERIES WANT (for lab_wait)
val_is() { [ "$(val "$1" "$2")" = "$3" ]; }
alua_on() { # I: head I's ALUA series that are 1
	scrape "$1" | grep '^tandem_alua_state{' | grep ' 1$'
}

lab_up 2 || exit 1
lab_start_corosync_all
for i in 1 2; do
	wait_quorate $i 20 || ko "head $i: corosync not quorate"
done
for i in 1 2; do
	d=$(lab_ndir $i)
	{
		echo "metrics_listen $(lab_addr $i):$MPORT"
		lab_tandem_conf $i
	} >"$d/tandem.conf"
	agentd_start $i
	tandemd_start $i "$d/tandem.conf"
done
for i in 1 2; do
	if wait_portal $i 30 && wait_serving $i 30; then
		ok "head $i serves with its agent"
	else
		ko "head $i does not serve: $(tail -5 "$(lab_ndir $i)/tandemd.log")"
	fi
done

echo "== 1. the cluster view of each head"
for i in 1 2; do
	lab_wait 10 val_is $i tandem_cluster_members 2 || true
	m=$(scrape $i)
	bad=
	for s in "tandem_cluster_mode 1" "tandem_cluster_agent_connected 1" \
		"tandem_cluster_serving 1" "tandem_cluster_fenced 0" \
		"tandem_cluster_quorate 1" "tandem_cluster_members 2" \
		"tandem_cluster_agent_silent 0" "tandem_cluster_ordered_pending 0"; do
		grep -qxF "$s" <<<"$m" || bad+=" [$s: $(grep "^${s% *} " <<<"$m")]"
	done
	[ -z "$bad" ] && ok "head $i: cluster mode, agent connected, serving, quorate, 2 members" ||
		ko "head $i:$bad"
	if node_exec $i curl -s --max-time 3 "http://127.0.0.1:$MPORT/metrics" >/dev/null 2>&1; then
		ko "head $i: 127.0.0.1:$MPORT answers (bound beyond $(lab_addr $i))"
	else
		ok "head $i: 127.0.0.1:$MPORT refused, served on $(lab_addr $i) only"
	fi
done

echo "== 2. the same ALUA states on both heads"
a1=$(alua_on 1)
a2=$(alua_on 2)
if [ -n "$a1" ] && [ "$a1" = "$a2" ] &&
	grep -q 'target_group="tg1",group_id="1",state="active_optimized"' <<<"$a1" &&
	grep -q 'target_group="tg2",group_id="2",state="active_optimized"' <<<"$a1"; then
	ok "both heads: $(wc -l <<<"$a1") groups, the same states (tg1, tg2 active/optimized)"
else
	ko "ALUA: head 1 [$a1] head 2 [$a2]"
fi
p1=$(scrape 1 | grep '^tandem_alua_preferred{')
[ "$p1" = "$(scrape 2 | grep '^tandem_alua_preferred{')" ] &&
	grep -q 'target_group="tg1",group_id="1"} 1' <<<"$p1" &&
	ok "both heads: group 1 preferred" || ko "preferred: $p1"

echo "== 3. a REGISTER through head 1: the PR generation on both heads"
out=$(client_exec "$SCSITOOL" -r -i "$A" "$(lab_url 1)" register-ignore 0xa1 2>&1)
grep -q '^status=GOOD' <<<"$out" || ko "REGISTER through head 1: $out"
for i in 1 2; do
	if lab_wait 10 val_is $i 'tandem_lu_pr_generation{lu="disk0"}' 1 &&
		val_is $i 'tandem_lu_pr_registrations{lu="disk0"}' 1; then
		ok "head $i: disk0 PR generation 1, 1 registration"
	else
		ko "head $i: $(scrape $i | grep '^tandem_lu_pr_' | tr '\n' ' ')"
	fi
done

echo "== 4. head 2 killed: head 1's view"
node_kill 2
if lab_wait 20 val_is 1 tandem_cluster_members 1 &&
	lab_wait 20 val_is 1 'tandem_alua_state{device_group="dg",target_group="tg2",group_id="2",state="unavailable"}' 1; then
	ok "head 1: 1 member, group 2 unavailable ($(val 1 tandem_cluster_serving) serving)"
else
	ko "head 1 after head 2 died: $(scrape 1 | grep -E '^tandem_(cluster_members|alua_state.*} 1$)' | tr '\n' ' ')"
fi
lab_sanitizer_check
lab_down
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
