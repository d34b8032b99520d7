#!/bin/bash
# doc_configs.sh - the Pacemaker configurations of docs/pacemaker.md,
# applied as written with the real pcs and crm (crmsh) to empty CIB files
# (pcs -f FILE, CIB_file=FILE crm), then checked:
#   - every block marked `<!-- doc-config: NAME -->` applies without an
#     error (pcs and crm check each parameter against the agent's
#     metadata: ocf:tandem:target and ocf:tandem:alua from this tree,
#     fence_ipmilan from fence-agents, ocf:linbit:drbd from drbd-utils);
#   - crm_verify accepts each resulting CIB;
#   - pcs and crm give the same configuration: the same primitives (agent,
#     parameters, monitor operations), clones (meta attributes), order,
#     colocation and location constraints and cluster properties, for two
#     heads, three heads, and two heads with DRBD (constraint ids and the
#     operations pcs adds from the metadata defaults are not compared).
# No cluster runs: the CIBs are files. Root (the agents are placed over
# /usr/lib/ocf/resource.d in a private mount namespace, nothing on the
# host changes). Installs pcs, crmsh, fence-agents, drbd-utils and
# pacemaker-cli-utils itself. Prints "N passed, N failed".
set -u
cd "$(dirname "$0")/../.." || exit 1
LAB_SRC=$PWD
. tests/cluster/checks.bash
lab_need_root
: "${RA_DIR:=$LAB_SRC/ra}"
for a in target alua; do
	[ -x "$RA_DIR/$a" ] || { echo "SKIP: $RA_DIR/$a not built (make)"; exit 77; }
done
scripts/apt-install.sh pcs crmsh fence-agents drbd-utils pacemaker-cli-utils ||
	{ echo "FAIL: cannot install pcs crmsh fence-agents drbd-utils pacemaker-cli-utils"; exit 1; }
DOC=docs/pacemaker.md

# inside the private mount namespace (re-executed below)
if [ "${1:-}" = --inside ]; then
	W=$2
	mount -t overlay overlay -o "lowerdir=/usr/lib/ocf/resource.d,upperdir=$W/up,workdir=$W/work" \
		/usr/lib/ocf/resource.d || { ko "overlay over /usr/lib/ocf/resource.d"; echo "$PASSED passed, $FAILED failed"; exit 1; }
	# block NAME: the lines of the fenced block after its marker
	block() {
		awk -v m="<!-- doc-config: $1 -->" '
			$0 == m { f = 1; next }
			f == 1 && /^```/ { f = 2; next }
			f == 2 && /^```/ { exit }
			f == 2 { print }' "$DOC"
	}
	# apply_pcs NAME CIB: each line is one pcs command, run with -f CIB
	apply_pcs() {
		local line n=0 out
		while IFS= read -r line; do
			[ -n "$line" ] || continue
			case $line in
			"pcs "*) ;;
			*) ko "$1: not a pcs command: $line"; return ;;
			esac
			n=$((n + 1))
			# the block's own quoting, as a shell would read it
			if ! out=$(eval "pcs -f \"\$2\" ${line#pcs }" 2>&1); then
				ko "$1: $line"
				echo "$out"
				return
			fi
		done < <(block "$1")
		[ "$n" -gt 0 ] && ok "$1: $n pcs commands applied" || ko "$1: no block in $DOC"
	}
	# apply_crm NAME CIB
	apply_crm() {
		local out f=$W/$1.crm
		block "$1" >"$f"
		[ -s "$f" ] || { ko "$1: no block in $DOC"; return; }
		if out=$(CIB_file=$2 crm -F configure load update "$f" 2>&1) &&
			! grep -q ERROR <<<"$out"; then
			ok "$1: $(grep -cv '^$' "$f") crm lines loaded"
		else
			ko "$1: crm configure load update"
			echo "$out"
		fi
	}
	verify() {
		local out
		if out=$(crm_verify -x "$2" 2>&1); then
			ok "$1: crm_verify accepts the CIB"
		else
			ko "$1: crm_verify"
			echo "$out"
		fi
	}
	# same NAME CIB1 CIB2: the normalised configurations are equal
	same() {
		local d
		if d=$(diff <(python3 "$W/norm.py" "$2") <(python3 "$W/norm.py" "$3")); then
			ok "$1: pcs and crm give the same configuration ($(python3 "$W/norm.py" "$2" | wc -l) items)"
		else
			ko "$1: pcs and crm differ (< pcs, > crm)"
			echo "$d"
		fi
	}
	for n in 2 3; do
		cibadmin --empty >"$W/pcs-$n.xml"
		cibadmin --empty >"$W/crm-$n.xml"
		apply_pcs "pcs-$n" "$W/pcs-$n.xml"
		apply_crm "crm-$n" "$W/crm-$n.xml"
		verify "pcs-$n" "$W/pcs-$n.xml"
		verify "crm-$n" "$W/crm-$n.xml"
		same "$n heads" "$W/pcs-$n.xml" "$W/crm-$n.xml"
	done
	# DRBD: on top of the two-head configuration
	apply_pcs pcs-drbd "$W/pcs-2.xml"
	# crm: the alua-dg primitive gets drbd_resource and unpromoted_state,
	# as the page says
	CIB_file=$W/crm-2.xml crm -F resource param alua-dg set drbd_resource r0 >/dev/null 2>&1 ||
		ko "crm resource param alua-dg set drbd_resource r0"
	CIB_file=$W/crm-2.xml crm -F resource param alua-dg set unpromoted_state standby >/dev/null 2>&1 ||
		ko "crm resource param alua-dg set unpromoted_state standby"
	apply_crm crm-drbd "$W/crm-2.xml"
	verify pcs-drbd "$W/pcs-2.xml"
	verify crm-drbd "$W/crm-2.xml"
	same "2 heads with DRBD" "$W/pcs-2.xml" "$W/crm-2.xml"
	# the check can fail: a misspelt parameter is refused by pcs
	cibadmin --empty >"$W/bad.xml"
	if pcs -f "$W/bad.xml" resource create x ocf:tandem:alua device_grup=dg >/dev/null 2>&1; then
		ko "pcs accepted a misspelt parameter of ocf:tandem:alua"
	else
		ok "pcs refuses a misspelt parameter of ocf:tandem:alua (device_grup)"
	fi
	echo "$PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]
	exit
fi

W=$(mktemp -d /tmp/tandem-docconf.XXXXXX) || exit 1
trap 'rm -rf "$W"' EXIT
mkdir -p "$W/up/tandem" "$W/work"
cp "$RA_DIR/target" "$RA_DIR/alua" "$W/up/tandem/"
chmod 755 "$W/up/tandem" "$W/up/tandem/target" "$W/up/tandem/alua"
# norm.py CIB: one line per item of the configuration, sorted
cat >"$W/norm.py" <<'EOF'
import sys
import xml.etree.ElementTree as ET

ROLE = {"Master": "Promoted", "Slave": "Unpromoted", "Started": "Started"}
cfg = ET.parse(sys.argv[1]).getroot().find("configuration")
out = []


def pairs(el, tag):
    return sorted(
        (nv.get("name"), nv.get("value"))
        for a in el.findall(tag)
        for nv in a.findall("nvpair")
    )


def role(v):
    return ROLE.get(v, v) if v else "Started"


for nv in cfg.find("crm_config").iter("nvpair"):
    if nv.get("name") not in ("cluster-infrastructure", "have-watchdog", "dc-version", "cluster-name"):
        out.append("property %s=%s" % (nv.get("name"), nv.get("value")))
for p in cfg.find("resources").iter("primitive"):
    ops = sorted(
        (o.get("name"), o.get("interval"), role(o.get("role")), o.get("timeout"))
        for o in p.iter("op")
        if o.get("name") == "monitor"
    )
    out.append("primitive %s %s:%s:%s %s %s" % (p.get("id"), p.get("class"), p.get("provider") or "",
                                                 p.get("type"), pairs(p, "instance_attributes"), ops))
for c in cfg.find("resources").iter("clone"):
    child = [e.get("id") for e in c if e.tag in ("primitive", "group")]
    out.append("clone %s %s %s" % (c.get("id"), child, pairs(c, "meta_attributes")))
for o in cfg.find("constraints"):
    a = o.attrib
    if o.tag == "rsc_order":
        first = a.get("first-action", "start")
        out.append("order %s:%s then %s:%s %s" % (a["first"], first, a["then"], a.get("then-action", first),
                                                  a.get("kind", "Mandatory")))
    elif o.tag == "rsc_colocation":
        score = a.get("score", "").replace("+", "").lower()
        score = "INFINITY" if score in ("inf", "infinity") else score
        out.append("colocation %s:%s with %s:%s %s" % (a["rsc"], role(a.get("rsc-role")), a["with-rsc"],
                                                       role(a.get("with-rsc-role")), score))
    elif o.tag == "rsc_location":
        score = a.get("score", "").lower().replace("infinity", "inf")
        out.append("location %s %s %s" % (a["rsc"], a.get("node"), score))
    else:
        out.append("constraint %s" % o.tag)
print("\n".join(sorted(out)))
EOF
unshare -m --propagation private bash "$0" --inside "$W"
