#!/bin/bash
# tandem_setup.sh - images/tandem-setup's --dry-run on the host: the files
# it writes for a first head and for the head that joins with its bundle,
# checked by the real tools (corosync -t in a network namespace holding
# the head's address, DRBD 8.4's drbdadm -c FILE dump, crm_verify
# --xml-file, tandemd --check), and bad arguments refused with a message
# naming the offending one, without writing anything.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
src=$PWD
setup=(bash "$src/images/tandem-setup.in")
tandemd=${TANDEMD:-$src/build-asan/targetd/tandemd}
T=$(mktemp -d /tmp/tandem-setup-test.XXXXXX)
trap 'rm -rf "$T"' EXIT
checks=0
fails=0
ok() { checks=$((checks + 1)); echo "ok: $*"; }
ko() { checks=$((checks + 1)); fails=$((fails + 1)); echo "FAIL: $*"; }
for c in corosync corosync-keygen crm_verify unshare; do
	command -v "$c" >/dev/null || { echo "SKIP: $c not installed (scripts/deps.sh image)"; exit 77; }
done
drbd84=/usr/lib/drbd/drbdadm-84
[ -x "$drbd84" ] || { echo "SKIP: $drbd84 not installed (apt-get install drbd-utils)"; exit 77; }

f1=(--fence "head1=fence_ipmilan ip=192.0.2.101 username=admin password=secret lanplus=1")
f2=(--fence "head2=fence_ipmilan ip=192.0.2.102 username=admin password=secret lanplus=1")
first=(--dry-run --name head1 --address 10.213.7.1/24 --interface eth1 --peer head2=10.213.7.2
	--drbd-disk /dev/vdb --iqn iqn.2026-12.org.example:store "${f1[@]}" "${f2[@]}")

# 1. the first head, then the second from its bundle
if out=$("${setup[@]}" "${first[@]}" --output-dir "$T/h1" 2>&1); then
	ok "first head: $(grep -c "^$T" <<<"$out") files written"
else
	ko "first head: $out"
fi
bundle=$T/h1/etc/tandem/setup/peer-bundle.tar
if out=$("${setup[@]}" --dry-run --name head2 --join "$bundle" --output-dir "$T/h2" 2>&1); then
	ok "second head joins with the bundle"
else
	ko "second head: $out"
fi

# corosync -t: the node finds itself by its address (a namespace of ours)
for h in 1 2; do
	d=$T/h$h/etc/corosync
	sed "s|^totem {|totem {\n\tkeyfile: $d/authkey|" "$d/corosync.conf" >"$T/cs$h.conf"
	if out=$(unshare -n sh -c "ip link set lo up && ip addr add 10.213.7.$h/24 dev lo && corosync -t -c $T/cs$h.conf" 2>&1); then
		ok "head$h: corosync -t accepts corosync.conf (node $h finds itself)"
	else
		ko "head$h: corosync -t: $out"
	fi
done
cmp -s "$T/h1/etc/corosync/corosync.conf" "$T/h2/etc/corosync/corosync.conf" &&
	cmp -s "$T/h1/etc/corosync/authkey" "$T/h2/etc/corosync/authkey" &&
	ok "both heads: the same corosync.conf and authkey" || ko "corosync.conf or authkey differ"
[ "$(stat -c '%a %s' "$T/h2/etc/corosync/authkey")" = "400 256" ] &&
	ok "authkey: mode 400, 256 bytes" || ko "authkey: $(stat -c '%a %s' "$T/h2/etc/corosync/authkey")"
grep -q 'two_node: 1' "$T/h1/etc/corosync/corosync.conf" && ok "two heads: two_node" || ko "no two_node"

# DRBD 8.4 (Debian 12's kernel module)
if out=$("$drbd84" -c "$T/h2/etc/drbd.d/r0.res" dump 2>&1); then
	grep -q 'on head1' <<<"$out" && grep -q 'on head2' <<<"$out" &&
		! grep -q 'allow-two-primaries' <<<"$out" && grep -q 'resource-and-stonith' <<<"$out" &&
		ok "drbdadm (8.4) -c r0.res dump: both heads, single primary, resource-and-stonith" ||
		ko "drbdadm dump lacks something: $out"
else
	ko "drbdadm (8.4) -c r0.res dump: $out"
fi

# Pacemaker
if out=$(crm_verify --xml-file "$T/h1/etc/tandem/setup/cib.xml" -V 2>&1); then
	ok "crm_verify --xml-file accepts the CIB"
else
	ko "crm_verify: $out"
fi
cib=$T/h1/etc/tandem/setup/cib.xml
for want in 'primitive id="target" class="ocf" provider="tandem" type="target"' \
	'primitive id="alua-dg" class="ocf" provider="tandem" type="alua"' \
	'name="promotable" value="true"' 'id="drbd-r0-clone-promoted-max" name="promoted-max" value="1"' \
	'name="unpromoted_state" value="standby"' \
	'first="drbd-r0-clone" first-action="start" then="target-clone" then-action="start"' \
	'first="drbd-r0-clone" first-action="promote" then="alua-dg-clone" then-action="promote"' \
	'rsc="alua-dg-clone" rsc-role="Promoted" with-rsc="drbd-r0-clone" with-rsc-role="Promoted"' \
	'rsc="target-clone" with-rsc="drbd-r0-clone" score="INFINITY"' \
	'rsc_location id="fence-head2-avoids-head2"' 'name="pcmk_delay_base" value="5s"' \
	'name="stonith-enabled" value="true"'; do
	grep -qF "$want" "$cib" && ok "CIB: $want" || ko "CIB lacks: $want"
done
# the same resources with crm_simulate: DRBD promoted before ALUA
# (a scheduler run on a CIB with two online nodes)

# tandem.conf: each head's own rel_tgt_id, the same names
if [ -x "$tandemd" ]; then
	for h in 1 2; do
		out=$("$tandemd" --check --config "$T/h$h/etc/tandem/tandem.conf" 2>&1) &&
			ok "head$h: tandemd --check: $out" || ko "head$h: tandemd --check: $out"
	done
else
	ko "no tandemd at $tandemd (TANDEMD)"
fi
grep -qP '^\t\tdeferred_open 1$' "$T/h1/etc/tandem/tandem.conf" &&
	ok "disk0 (DRBD) with deferred_open" || ko "disk0 without deferred_open"
[ "$(grep -c 'TARGET iqn.2026-12.org.example:store {' "$T/h1/etc/tandem/tandem.conf" "$T/h2/etc/tandem/tandem.conf" |
	cut -d: -f2 | tr '\n' ' ')" = "1 1 " ] &&
	ok "the first head's --iqn on both heads (the joining one from the bundle)" || ko "the iqn differs between the heads"
grep -q 'rel_tgt_id 1' "$T/h1/etc/tandem/tandem.conf" && grep -qP '^\t\trel_tgt_id 2' "$T/h2/etc/tandem/tandem.conf" &&
	ok "rel_tgt_id 1 on head1, 2 on head2" || ko "rel_tgt_id"
[ "$(grep -c 'state unavailable' "$T/h2/etc/tandem/tandem.conf")" -eq 2 ] &&
	ok "every target port group starts unavailable (Pacemaker promotes)" || ko "group states"
grep -q 'Address=10.213.7.1/24' "$T/h1/etc/systemd/network/10-tandem-eth1.network" &&
	ok "eth1 gets 10.213.7.1/24 (networkd)" || ko "networkd file"

# three heads, no DRBD
if out=$("${setup[@]}" --dry-run --output-dir "$T/h3" --name a1 --address 10.213.8.1 \
	--peer a2=10.213.8.2 --peer a3=10.213.8.3 --fence "a1=fence_virsh ip=192.0.2.1" \
	--fence "a2=fence_virsh ip=192.0.2.1" --fence "a3=fence_virsh ip=192.0.2.1" 2>&1) &&
	crm_verify --xml-file "$T/h3/etc/tandem/setup/cib.xml" >/dev/null 2>&1 &&
	! grep -q two_node "$T/h3/etc/corosync/corosync.conf" && [ ! -e "$T/h3/etc/drbd.d/r0.res" ]; then
	ok "three heads without DRBD: no two_node, no DRBD resource, crm_verify accepts"
else
	ko "three heads: $out"
fi

# 2. bad input: exit 2, the offending argument named, nothing written
neg() {
	local want=$1 out rc
	shift
	out=$("${setup[@]}" --dry-run --output-dir "$T/neg" "$@" 2>&1)
	rc=$?
	if [ $rc -eq 2 ] && grep -qF -- "$want" <<<"$out" && [ ! -e "$T/neg" ]; then
		ok "refused ($out)"
	else
		ko "expected exit 2 with '$want', got $rc: $out"
	fi
}
base=(--address 10.213.7.1 --peer head2=10.213.7.2 "${f1[@]}" "${f2[@]}")
neg "--name 'Head_1'" --name Head_1 "${base[@]}"
neg "--iqn 'iqn.2026-12.org.example:other': the bundle's heads export iqn.2026-12.org.example:store" \
	--name head2 --join "$bundle" --iqn iqn.2026-12.org.example:other
neg "--address '10.213.7.256'" --name head1 --address 10.213.7.256 --peer head2=10.213.7.2 "${f1[@]}" "${f2[@]}"
neg "--address '10.213.7.1/33'" --name head1 --address 10.213.7.1/33 --peer head2=10.213.7.2 "${f1[@]}" "${f2[@]}"
neg "--peer 'head2'" --name head1 --address 10.213.7.1 --peer head2
neg "the name head1 is given twice" --name head1 --address 10.213.7.1 --peer head1=10.213.7.2
neg "the address 10.213.7.1 is head1's" --name head1 --address 10.213.7.1 --peer head2=10.213.7.1
neg "--token '300'" --name head1 "${base[@]}" --token 300
neg "--iqn 'IQN.bad'" --name head1 "${base[@]}" --iqn IQN.bad
neg "--drbd-disk 'vdb'" --name head1 "${base[@]}" --drbd-disk vdb
neg "--drbd-disk: DRBD here replicates between two heads, not 3" --name head1 "${base[@]}" \
	--peer head3=10.213.7.3 --drbd-disk /dev/vdb
neg "1 of 2 heads have a fence device" --name head1 --address 10.213.7.1 --peer head2=10.213.7.2 "${f1[@]}"
neg "--fence NAME=AGENT... is required" --name head1 --address 10.213.7.1 --peer head2=10.213.7.2
neg "head3 is not a node" --name head1 "${base[@]}" --fence "head3=fence_ipmilan ip=192.0.2.1"
neg "'notafence' is not a fence agent name" --name head1 --address 10.213.7.1 --peer head2=10.213.7.2 \
	"${f1[@]}" --fence "head2=notafence ip=1"
neg "'password=a<b' is not KEY=VALUE" --name head1 --address 10.213.7.1 --peer head2=10.213.7.2 \
	"${f1[@]}" --fence "head2=fence_ipmilan password=a<b"
neg "pcmk_host_list is set by tandem-setup" --name head1 --address 10.213.7.1 --peer head2=10.213.7.2 \
	"${f1[@]}" --fence "head2=fence_ipmilan pcmk_host_list=x"
neg "--join '$T/none.tar': no such file" --name head2 --join "$T/none.tar"
neg "--name 'head9': not a node of the bundle's corosync.conf (head1 head2)" --name head9 --join "$bundle"
neg "--address '10.213.7.9': the bundle gives head2 10.213.7.2" --name head2 --address 10.213.7.9 --join "$bundle"
neg "--peer 'head3=10.213.7.3': a joining head takes its peers" --name head2 --join "$bundle" --peer head3=10.213.7.3
neg "unknown option '--nmae'" --nmae head1
neg "--name is required" --address 10.213.7.1
neg "--interface eth1 needs --address ADDR/PREFIX" --name head1 "${base[@]}" --interface eth1
printf 'garbage' >"$T/bad.tar"
neg "--join '$T/bad.tar': not a tandem-setup bundle" --name head2 --join "$T/bad.tar"

echo "$checks checks, $fails failed"
[ $fails -eq 0 ]
