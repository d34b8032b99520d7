#!/bin/bash
# multi.sh - many sessions and targets at once:
#  - 8 targets x 2 LUNs, 32 concurrent sessions (tests/func/hold_session,
#    one process each) doing verified WRITE+READ for several seconds;
#  - several portals (two IPv4 ports and [::1] when ::1 is configured);
#  - SendTargets discovery (iscsi-ls -s) lists every target at every
#    portal, with its LUNs;
#  - LUN masking: GROUPs with INITIATOR patterns ('*', '?', '!'): each
#    initiator sees its group's LUNs (REPORT LUNS and the devices' serial
#    numbers), the others the target's default LUNs.
# Ports: 3430-3432.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/common.sh
. tests/func/funclib.bash

need_tandemd
need_hold
command -v iscsi-ls >/dev/null || skip "iscsi-ls not installed (apt-get install libiscsi-bin)"

tdm_tmpdir
trap tdm_cleanup EXIT
T=$TDM_TMP
p1=3430
p2=3431
p6=3432
pfx=iqn.2026-11.org.tandem:multi
ini=iqn.2026-11.org.tandem:host

# IPv6 loopback: configured and bindable?
v6=1
if ! python3 -c "import socket; s=socket.socket(socket.AF_INET6); s.bind(('::1', 0))" 2>/dev/null; then
	v6=0
	echo "SKIP (IPv6 part): ::1 is not configured on this machine"
fi

{
	echo "HANDLER ram {"
	for t in 0 1 2 3 4 5 6 7; do
		for l in 0 1; do
			printf '\tDEVICE m%s_%s {\n\t\tsize 8388608\n\t\tblocksize 512\n\t\tusn M%s%s\n\t}\n' $t $l $t $l
		done
	done
	for d in DEF A0 A5 B3; do
		printf '\tDEVICE mask_%s {\n\t\tsize 4194304\n\t\tblocksize 512\n\t\tusn MASK%s\n\t}\n' $d $d
	done
	echo "}"
	echo "TARGET_DRIVER iscsi {"
	echo "	enabled 1"
	echo "	portal 127.0.0.1:$p1"
	echo "	portal 127.0.0.1:$p2"
	[ $v6 = 1 ] && echo "	portal [::1]:$p6"
	for t in 0 1 2 3 4 5 6 7; do
		printf '\tTARGET %s%s {\n\t\tenabled 1\n\t\trel_tgt_id %s\n\t\tLUN 0 m%s_0\n\t\tLUN 1 m%s_1\n\t}\n' \
			"$pfx" $t $((t + 1)) $t $t
	done
	cat <<CONF
	TARGET $pfx-masked {
		enabled 1
		rel_tgt_id 20
		LUN 0 mask_DEF
		GROUP hosts_a {
			LUN 0 mask_A0
			LUN 5 mask_A5
			INITIATOR $ini-a*
		}
		GROUP hosts_b {
			LUN 3 mask_B3
			INITIATOR $ini-b?
			INITIATOR !$ini-b9
		}
	}
}
CONF
} >"$T/tandem.conf"
log=$T/tandemd.log
start_wait "$T/tandem.conf" "$log" $p1 || { fail "tandemd did not start"; end_test "$log"; }
pass "tandemd started with 9 targets"
for p in $p2; do
	wait_port 127.0.0.1 "$p" 5 && pass "portal 127.0.0.1:$p listens" || fail "portal 127.0.0.1:$p does not listen"
done
if [ $v6 = 1 ]; then
	wait_port ::1 $p6 5 && pass "portal [::1]:$p6 listens" || fail "portal [::1]:$p6 does not listen"
fi

# ---- 32 concurrent sessions with verified I/O ----
echo "== 32 sessions"
portals=("127.0.0.1:$p1" "127.0.0.1:$p2")
[ $v6 = 1 ] && portals+=("[::1]:$p6")
pids=()
names=()
n=0
for t in 0 1 2 3 4 5 6 7; do
	for l in 0 1; do
		for k in 0 1; do
			portal=${portals[$((n % ${#portals[@]}))]}
			"${HELPER_ENV[@]}" "$HOLD" --hold --seconds 8 \
				--initiator "$ini-io$t$l$k" --seed $((n + 1)) \
				--lba $((k * 4096)) --blocks 4096 \
				"iscsi://$portal/$pfx$t/$l" >"$T/hold-$n.log" 2>&1 &
			pids+=($!)
			names+=("target $t LUN $l session $k via $portal")
			TDM_PIDS+=($!)
			n=$((n + 1))
		done
	done
done
bad=0
for i in "${!pids[@]}"; do
	wait "${pids[$i]}"
	rc=$?
	forget_pid "${pids[$i]}"
	if [ $rc -ne 0 ]; then
		bad=$((bad + 1))
		echo "session $i (${names[$i]}): exit $rc"
		sed 's/^/    /' "$T/hold-$i.log"
	fi
done
total=$(cat "$T"/hold-*.log | awk '/verified write\+read pairs/ { s += $2 } END { print s + 0 }')
if [ $bad -eq 0 ]; then
	pass "32 concurrent sessions over ${#portals[@]} portals: no error, $total verified write+read pairs"
else
	fail "$bad of 32 concurrent sessions failed"
fi

# ---- SendTargets discovery ----
echo "== discovery"
disc=$(timeout 120 iscsi-ls -s -i "$ini-disc" "iscsi://127.0.0.1:$p1" 2>&1)
rc=$?
echo "$disc" | head -80 | sed 's/^/    /'
[ $rc -eq 0 ] && pass "iscsi-ls -s: exit 0" || fail "iscsi-ls -s: exit $rc"
missing=()
for t in 0 1 2 3 4 5 6 7; do
	for portal in "${portals[@]}"; do
		# the LUN lines that follow this target's line at this portal
		sect=$(awk -v want="Target:$pfx$t Portal:$portal," '
			index($0, want) == 1 { on = 1; found = 1; next }
			/^Target:/ { on = 0 }
			on { print }
			END { if (!found) print "NOT-LISTED" }' <<<"$disc")
		if grep -q NOT-LISTED <<<"$sect"; then
			missing+=("$pfx$t@$portal")
		elif ! grep -q "^Lun:0 " <<<"$sect" || ! grep -q "^Lun:1 " <<<"$sect"; then
			missing+=("$pfx$t@$portal (LUNs: $(tr '\n' ' ' <<<"$sect"))")
		fi
	done
done
if [ ${#missing[@]} -eq 0 ]; then
	pass "SendTargets lists all 8 targets at all ${#portals[@]} portals, each with LUNs 0 and 1"
else
	fail "SendTargets/LUN listing incomplete: ${missing[*]}"
fi
grep -q "^Target:$pfx-masked Portal:" <<<"$disc" &&
	pass "SendTargets lists the masked target" ||
	fail "SendTargets does not list $pfx-masked"

# ---- LUN masking ----
echo "== LUN masking"
murl=iscsi://127.0.0.1:$p1/$pfx-masked
# luns_of INITIATOR: the LUNs REPORT LUNS gives it, space separated
luns_of() {
	"${HELPER_ENV[@]}" "$HOLD" --report-luns --initiator "$1" "$murl/0" 2>&1 | sort -n | tr '\n' ' '
}
serial_of() { # INITIATOR LUN
	"${HELPER_ENV[@]}" "$HOLD" --serial --initiator "$1" "$murl/$2" 2>&1
}
check_map() { # INITIATOR "LUNS " "LUN=SERIAL ..."
	local who=$1 want=$2 pairs=$3 got pr l s sn ok=1
	got=$(luns_of "$who")
	if [ "$got" != "$want" ]; then
		fail "$who: REPORT LUNS '$got', expected '$want'"
		return
	fi
	for pr in $pairs; do
		l=${pr%%=*}
		s=${pr#*=}
		sn=$(serial_of "$who" "$l")
		if [ "$sn" != "$s" ]; then
			fail "$who: LUN $l is '$sn', expected device serial $s"
			ok=0
		fi
	done
	[ $ok = 1 ] && pass "$who sees LUNs '$want' ($pairs)"
}
check_map "$ini-a1" "0 5 " "0=MASKA0 5=MASKA5"
check_map "$ini-a-long-name" "0 5 " "0=MASKA0"
check_map "$ini-b1" "3 " "3=MASKB3"
check_map "$ini-b9" "0 " "0=MASKDEF"
check_map "$ini-b12" "0 " "0=MASKDEF"
check_map "iqn.2026-11.org.other:x" "0 " "0=MASKDEF"

# a LUN outside the initiator's map is not reachable
if "${HELPER_ENV[@]}" "$HOLD" --serial --initiator "$ini-a1" "$murl/3" >"$T/nolun.log" 2>&1; then
	fail "$ini-a1 reached LUN 3 of group hosts_b: $(cat "$T/nolun.log")"
else
	pass "$ini-a1 cannot use LUN 3 (not in its group)"
fi

# iscsi-ls -s with an initiator name shows that initiator's LUNs
ls_a=$(timeout 60 iscsi-ls -s -i "$ini-a7" "iscsi://127.0.0.1:$p1" 2>&1 |
	awk -v want="Target:$pfx-masked Portal:127.0.0.1:$p1," '
		index($0, want) == 1 { on = 1; next }
		/^Target:/ { on = 0 }
		on && /^Lun:/ { sub(/^Lun:/, ""); print $1 }' | tr '\n' ' ')
if [ "$ls_a" = "0 5 " ]; then
	pass "iscsi-ls -s --initiator-name=$ini-a7 shows LUNs 0 5 of the masked target"
else
	fail "iscsi-ls -s --initiator-name=$ini-a7 shows '$ls_a' for the masked target (expected '0 5 ')"
fi

finish_daemon "$log"
end_test "$log"
