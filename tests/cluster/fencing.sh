#!/bin/bash
# fencing.sh - the fencing-safe takeover (issue 12 part 2, cluster
# protocol 5) in the namespace lab (tests/cluster/lab.sh), real corosync
# and, for the pacemaker mode, a real pacemaker-fenced:
#   c. two heads, tandem-agentd --fencing self and --fencing none without
#      --allow-two-heads-without-fencing: the agent refuses to run (exit
#      1) with a message naming the override;
#   d. two heads (--fencing none, the override): head 1's agent SIGSTOPped
#      while a writer writes through head 1: tandemd stops acknowledging
#      writes within its --agent-timeout (1500 ms) plus the check's
#      period; the measured time from SIGSTOP to the last acknowledged
#      write is printed; tandemctl -status says serving=0,
#      agent_silent=1; SIGCONT: writes acknowledged again;
#   b. (same lab) the agents restarted with --fencing pacemaker
#      (pacemakerd on both heads, no fence device): head 2 killed: a PR
#      OUT through head 1 waits (still waiting 3 s later) until
#      `stonith_admin --confirm node2` on head 1, then completes; the
#      agent logged the wait and the release;
#   a. three heads, --fencing self --self-fence-ms 2000: head 3
#      partitioned while a writer inside head 3 writes to its own portal:
#      head 3 stops acknowledging writes (quorum lost) and the time is
#      printed; a PR OUT through head 1 sent at the partition completes
#      only after the self-fence time, and after head 3's last
#      acknowledged write (one clock); healed; then head 3 killed (every
#      process): a PR OUT through head 1 completes only after the
#      self-fence time (a lower bound asserted, the figure printed).
# Prints "N passed, N failed"; exit 0 only when nothing failed. Root.
# Installs pacemaker and pacemaker-cli-utils itself (scenario b); about
# 60 s.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/cluster/lab.sh

. tests/cluster/checks.bash
lab_need_daemons
A=iqn.2026-11.org.example:host-a
W=iqn.2026-11.org.example:host-w
now_ms() { date +%s%3N; }
SELF_FENCE_MS=2000
AGENT_TIMEOUT_MS=1500

status_of() { grep -m1 '^status=' <<<"$1"; }
agent_pid() { cat "$(lab_ndir "$1")/agentd.pid"; }
agent_log() { cat "$(lab_ndir "$1")/agentd.log"; }
# write_ok I: one WRITE through head I acknowledged
write_ok() {
	[ "$(status_of "$(client_exec "$SCSITOOL" -r -i "$W" "$(lab_url "$1")" write 7 1 2>&1 | grep -v '^retry=\|sense=6/')")" = status=GOOD ]
}


# pr_bg I KEY OUT: REGISTER AND IGNORE EXISTING KEY through head I in the
# background (60 s timeout); its output and the completion time (epoch
# ms) in OUT; its pid in PR_PID
pr_bg() {
	(
		o=$(client_exec "$SCSITOOL" -t 60 -r -i "$A" "$(lab_url "$1")" register-ignore "$2" 2>&1)
		echo "$o"
		echo "done_ms=$(now_ms)"
	) >"$3" &
	PR_PID=$!
}
pr_done_ms() { sed -n 's/^done_ms=//p' "$1"; }
pr_status() { grep -v '^retry=\|sense=6/' "$1" | grep -m1 '^status='; }

# ==== c. two heads without fencing and without the override ====
echo "== c. two heads, --fencing self / none without the override"
"$LAB_SRC/scripts/apt-install.sh" pacemaker pacemaker-cli-utils || { echo "FAIL: cannot install pacemaker"; exit 1; }
OCF=$(mktemp -d /tmp/tandem-ocf.XXXXXX) || exit 1
chmod 755 "$OCF"
cleanup() {
	lab_down
	rm -rf "$OCF"
}
lab_up 2 || { echo "0 passed, 1 failed"; exit 1; }
trap cleanup EXIT
lab_start_corosync_all
# Pacemaker (for b) comes up meanwhile: no resources, no fence device
cat >"$LAB_DIR/cib.xml" <<EOF
<cib validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0">
  <configuration>
    <crm_config>
      <cluster_property_set id="cib-bootstrap-options">
        <nvpair id="opt-stonith" name="stonith-enabled" value="false"/>
        <nvpair id="opt-dc-deadtime" name="dc-deadtime" value="2s"/>
      </cluster_property_set>
    </crm_config>
    <nodes/>
    <resources/>
    <constraints/>
  </configuration>
  <status/>
</cib>
EOF
for i in 1 2; do
	wait_quorate "$i" 20 || ko "head $i: corosync not quorate"
	pacemaker_prepare "$i" "$LAB_DIR/cib.xml" "$OCF"
	pacemaker_start "$i"
done
for mode in self none; do
	out=$(node_exec 1 timeout 20 "$AGENTD" -f -s /run/tandem/none.sock --fencing "$mode" 2>&1)
	rc=$?
	msg=$(grep -m1 'refusing to run' <<<"$out")
	if [ $rc -eq 1 ] && grep -q "refusing to run: --fencing $mode on a two-head cluster" <<<"$msg" &&
		grep -q -- "--allow-two-heads-without-fencing" <<<"$msg"; then
		ok "--fencing $mode on two heads refused (exit $rc): ${msg#*: }"
	else
		ko "--fencing $mode on two heads: exit $rc: $(tail -3 <<<"$out")"
	fi
done
out=$(node_exec 1 timeout 20 "$AGENTD" -f -s /run/tandem/none.sock --fencing pacemaker --self-fence-ms 0 2>&1)
rc=$?
[ $rc -eq 2 ] && grep -q "bad --self-fence-ms" <<<"$out" && ok "--self-fence-ms 0 refused (exit $rc)" ||
	ko "--self-fence-ms 0: exit $rc: $out"

# ==== d. the agent frozen: its tandemd stops acknowledging writes ====
echo "== d. head 1's agent SIGSTOPped while a writer writes through head 1"
for i in 1 2; do
	agentd_start "$i"
	tandemd_start "$i"
done
for i in 1 2; do
	if wait_portal "$i" 30 && wait_serving "$i" 30; then
		ok "head $i serves (agent: $LAB_AGENTD_FENCING)"
	else
		ko "head $i does not serve: $(tail -5 "$(lab_ndir "$i")/agentd.log")"
	fi
done
grep -q "fenced when the agent is silent for $AGENT_TIMEOUT_MS ms" "$(lab_ndir 1)/tandemd.log" &&
	ok "tandemd and its agent speak link version 3 (agent timeout $AGENT_TIMEOUT_MS ms)" ||
	ko "no agent timeout in tandemd's log: $(grep -m3 'cluster:' "$(lab_ndir 1)/tandemd.log")"
WL=$LAB_DIR/writeloop.d
client_exec "$SCSITOOL" -r -i "$W" "$(lab_url 1)" write-loop 4000 9 >"$WL" 2>&1 &
wpid=$!
sleep 1
t_stop=$(now_ms)
kill -STOP "$(agent_pid 1)"
wait "$wpid"
last=$(sed -n 's/.*last_good_ms=\([0-9]*\).*/\1/p' "$WL")
good=$(sed -n 's/.*good=\([0-9]*\).*/\1/p' "$WL")
bad=$(sed -n 's/.*first_bad_ms=\([0-9]*\).*/\1/p' "$WL")
if [ -n "$last" ] && [ -n "$bad" ] && [ "$bad" -gt 0 ]; then
	d=$((last - t_stop))
	echo "   agent SIGSTOPped at $t_stop; last write acknowledged $d ms later, first refused $((bad - t_stop)) ms later ($good writes acknowledged in all)"
	sed 's/^/   | /' "$WL"
	[ "$d" -le $((AGENT_TIMEOUT_MS + 700)) ] &&
		ok "frozen agent: head 1 stopped acknowledging writes $d ms after SIGSTOP (bound: --agent-timeout $AGENT_TIMEOUT_MS + 700 ms)" ||
		ko "frozen agent: head 1 acknowledged writes $d ms after SIGSTOP"
	grep -q "sense=2/04/0a" "$WL" && ok "the refused writes got NOT READY, 04/0A (retryable)" || ko "refused writes: $(cat "$WL")"
else
	ko "the writer saw no refused write: $(cat "$WL")"
fi
grep -q "no word from the agent for" "$(lab_ndir 1)/tandemd.log" && ok "tandemd logged the silent agent: $(grep -m1 -o 'no word from the agent.*' "$(lab_ndir 1)/tandemd.log")" ||
	ko "tandemd did not log the silent agent"
st="serving=$(cluster_field 1 serving) agent_silent=$(cluster_field 1 agent_silent)"
[ "$st" = "serving=0 agent_silent=1" ] && ok "tandemctl -status while the agent is frozen: $st" ||
	ko "tandemctl -status while the agent is frozen: $st"
kill -CONT "$(agent_pid 1)"
t_cont=$(now_ms)
if lab_wait 10 write_ok 1; then
	ok "SIGCONT: head 1 acknowledges writes again $(($(now_ms) - t_cont)) ms later"
else
	ko "SIGCONT: head 1 still refuses writes: $(tail -3 "$(lab_ndir 1)/tandemd.log")"
fi

# ==== b. the same two heads, --fencing pacemaker ====
echo "== b. the same heads, the agents restarted with --fencing pacemaker (pacemaker-fenced, no fence device)"
fenced_up() { node_exec "$1" stonith_admin --list-registered >/dev/null 2>&1; }
for i in 1 2; do
	lab_wait 60 fenced_up "$i" && ok "head $i: pacemaker-fenced answers (${LAB_WAITED:-?} s)" || ko "head $i: pacemaker-fenced does not answer"
done
LAB_AGENTD_FENCING="--fencing pacemaker"
for i in 1 2; do
	daemon_kill "$i" agentd
done
for i in 1 2; do
	agentd_start "$i"
done
for i in 1 2; do
	if wait_serving "$i" 30; then
		ok "head $i serves (agent: $LAB_AGENTD_FENCING)"
	else
		ko "head $i does not serve: $(tail -5 "$(lab_ndir "$i")/agentd.log")"
	fi
done
t_kill=$(now_ms)
node_kill 2
pr_bg 1 0x4 "$LAB_DIR/pr.b"
waiting() { agent_log 1 | grep -q "waiting for fencing of node 2"; }
lab_wait 20 waiting && ok "head 1's agent waits: $(agent_log 1 | grep -m1 -o 'waiting for fencing of node 2.*')" ||
	ko "head 1's agent does not wait for fencing: $(agent_log 1 | tail -5)"
sleep 3
if kill -0 "$PR_PID" 2>/dev/null; then
	ok "PR OUT through head 1 still waiting $(($(now_ms) - t_kill)) ms after head 2 was killed (not fenced)"
else
	ko "PR OUT through head 1 completed before any fence: $(cat "$LAB_DIR/pr.b")"
fi
t_confirm=$(now_ms)
out=$(node_exec 1 stonith_admin --confirm node2 2>&1) || ko "stonith_admin --confirm node2: $out"
wait "$PR_PID"
done_ms=$(pr_done_ms "$LAB_DIR/pr.b")
if [ "$(pr_status "$LAB_DIR/pr.b")" = status=GOOD ]; then
	ok "PR OUT completed $((done_ms - t_confirm)) ms after stonith_admin --confirm ($((done_ms - t_kill)) ms after the kill)"
else
	ko "PR OUT after the confirmation: $(cat "$LAB_DIR/pr.b")"
fi
agent_log 1 | grep -q "node 2 stopped serving (Pacemaker's fencing history" &&
	ok "head 1's agent: $(agent_log 1 | grep -m1 -o 'node 2 stopped serving (Pacemaker.*')" ||
	ko "head 1's agent did not log the fence: $(agent_log 1 | tail -5)"
agent_log 1 | grep -q "hold released after" && ok "head 1's agent: $(agent_log 1 | grep -m1 -o 'hold released after.*')" ||
	ko "head 1's agent did not log the release"
lab_sanitizer_check
lab_down
rm -rf "$OCF"

# ==== a. three heads, --fencing self ====
echo "== a. three heads, --fencing self --self-fence-ms $SELF_FENCE_MS"
LAB_AGENTD_FENCING="--fencing self --self-fence-ms $SELF_FENCE_MS"
lab_start_heads 3 || { echo "$PASSED passed, $((FAILED + 1)) failed"; exit 1; }
out=$(client_exec "$SCSITOOL" -r -i "$A" "$(lab_url 1)" register-ignore 0x1 2>&1)
grep -q '^status=GOOD' <<<"$out" && ok "REGISTER through head 1 before any failure" || ko "REGISTER: $out"
# a writer inside head 3 on its own portal (still reachable when cut off)
WL=$LAB_DIR/writeloop.a
node_exec 3 "$SCSITOOL" -r -i "$W" "$(lab_url 3)" write-loop 5000 11 >"$WL" 2>&1 &
wpid=$!
sleep 1
t_part=$(now_ms)
partition 3
pr_bg 1 0x2 "$LAB_DIR/pr.a1"
wait "$wpid"
last=$(sed -n 's/.*last_good_ms=\([0-9]*\).*/\1/p' "$WL")
if [ -n "$last" ] && [ "$last" -gt 0 ] && grep -q 'first_bad_ms=[1-9]' "$WL"; then
	echo "   head 3 cut off at $t_part; its last write acknowledged $((last - t_part)) ms later"
	sed 's/^/   | /' "$WL"
	ok "partitioned head 3 stopped acknowledging writes $((last - t_part)) ms after the cut (quorum lost)"
else
	ko "head 3 kept acknowledging writes when cut off: $(cat "$WL")"
fi
wait "$PR_PID"
done_ms=$(pr_done_ms "$LAB_DIR/pr.a1")
if [ "$(pr_status "$LAB_DIR/pr.a1")" = status=GOOD ]; then
	d=$((done_ms - t_part))
	echo "   PR OUT through head 1 sent at the cut: completed $d ms after it"
	[ "$d" -ge "$SELF_FENCE_MS" ] && ok "PR OUT during head 3's partition completed after the self-fence time ($d ms >= $SELF_FENCE_MS ms)" ||
		ko "PR OUT completed $d ms after the cut, before the self-fence time $SELF_FENCE_MS ms"
	[ -n "$last" ] && [ "$done_ms" -gt "$last" ] &&
		ok "the survivors' PR change completed $((done_ms - last)) ms after head 3's last acknowledged write" ||
		ko "PR OUT completed at $done_ms, head 3's last write at $last"
else
	ko "PR OUT through head 1 during the partition: $(cat "$LAB_DIR/pr.a1")"
fi
agent_log 1 | grep -q "waiting for node 3 to fence itself" && ok "head 1's agent logged the wait: $(agent_log 1 | grep -m1 -o 'waiting for node 3 to fence itself.*')" ||
	ko "head 1's agent did not log the wait"
agent_log 1 | grep -q "hold released after" && ok "head 1's agent logged the release: $(agent_log 1 | grep -m1 -o 'hold released after.*')" ||
	ko "head 1's agent did not log the release"
heal 3
if wait_members 3 3 30 && wait_serving 3 30; then
	ok "head 3 healed: serving again (${LAB_WAITED:-?} s)"
else
	ko "head 3 does not serve after the heal"
fi
# kill head 3 (every process)
t_kill=$(now_ms)
node_kill 3
pr_bg 1 0x3 "$LAB_DIR/pr.a2"
wait "$PR_PID"
done_ms=$(pr_done_ms "$LAB_DIR/pr.a2")
if [ "$(pr_status "$LAB_DIR/pr.a2")" = status=GOOD ]; then
	d=$((done_ms - t_kill))
	echo "   head 3 killed at $t_kill; PR OUT through head 1 completed $d ms later"
	[ "$d" -ge "$SELF_FENCE_MS" ] && [ "$d" -le $((SELF_FENCE_MS + 15000)) ] &&
		ok "PR OUT after head 3's death completed after the self-fence time ($d ms >= $SELF_FENCE_MS ms)" ||
		ko "PR OUT completed $d ms after the kill (self-fence time $SELF_FENCE_MS ms)"
else
	ko "PR OUT through head 1 after the kill: $(cat "$LAB_DIR/pr.a2")"
fi
out=$(client_exec "$SCSITOOL" -r -i "$A" "$(lab_url 2)" read-keys 2>&1)
grep -q 'key=0x3' <<<"$out" && ok "head 2 has the key registered through head 1: $(grep -c '^key=' <<<"$out") keys" || ko "read-keys through head 2: $out"
lab_sanitizer_check

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
