# shellcheck shell=bash
# pcmk.bash - what the cluster lab's Pacemaker scenarios share (sourced
# after lab.sh; pacemaker.sh, failover_pcmk.sh, tests/vm/pacemaker.sh):
# the OCF agents' copy the heads mount, the CIB (with fencing:
# pcmk_fenced_cib, pcmk_fenced_head_prepare), restarting a head,
# crm_mon queries, crm_move (a graceful move of the promoted role).

# pcmk_ocf_dir: a directory of the OCF provider "tandem" with the agents
# of RA_DIR (the heads mount it over /usr/lib/ocf/resource.d); its path
# in OCF; pcmk_cleanup (lab_down, and the directory removed) as the EXIT
# trap: set it again after lab_up, whose trap is lab_down alone
pcmk_ocf_dir() {
	OCF=$(mktemp -d /tmp/tandem-ocf.XXXXXX) || return 1
	chmod 755 "$OCF"
	mkdir -m 755 "$OCF/tandem"
	cp "$RA_DIR/target" "$RA_DIR/alua" "$OCF/tandem/"
	chmod 755 "$OCF/tandem/target" "$OCF/tandem/alua"
	trap pcmk_cleanup EXIT
}
pcmk_cleanup() {
	lab_down
	rm -rf "$OCF"
}

# pcmk_cib_begin NAME=VALUE...: a pre-seeded CIB up to <resources>, its
# cluster properties dc-deadtime=2s (LABS.md) and NAME=VALUE (no
# crm_feature_set: Pacemaker 2.1.5 refuses a newer one). pcmk_cib_end:
# from </constraints> to the end.
pcmk_cib_begin() {
	local p
	echo '<cib validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0">'
	echo '  <configuration>'
	echo '    <crm_config>'
	echo '      <cluster_property_set id="cib-bootstrap-options">'
	for p in dc-deadtime=2s "$@"; do
		echo "        <nvpair id=\"opt-${p%%=*}\" name=\"${p%%=*}\" value=\"${p#*=}\"/>"
	done
	echo '      </cluster_property_set>'
	echo '    </crm_config>'
	echo '    <nodes/>'
	echo '    <resources>'
}
pcmk_cib_end() {
	echo '    </constraints>'
	echo '  </configuration>'
	echo '  <status/>'
	echo '</cib>'
}

# pcmk_clones TANDEMD AGENTD [UNPROMOTED [AGENTD_OPTIONS]]: the CIB's
# <clone> of ocf:tandem:target (the programs given, tandem-agentd's
# options, e.g. its --fencing mode; node-local paths the same on every
# head: each has its own /run and /var/log) and the promotable <clone>
# of ocf:tandem:alua for the device group dg (promoted-max 1,
# unpromoted_state UNPROMOTED, default nonoptimized)
pcmk_clones() {
	cat <<EOF
      <clone id="target-clone">
        <meta_attributes id="target-clone-meta">
          <nvpair id="target-clone-node-max" name="clone-node-max" value="1"/>
          <nvpair id="target-clone-interleave" name="interleave" value="true"/>
        </meta_attributes>
        <primitive id="target" class="ocf" provider="tandem" type="target">
          <instance_attributes id="target-params">
            <nvpair id="target-config" name="config" value="/run/tandem-lab.conf"/>
            <nvpair id="target-tandemd" name="tandemd" value="$1"/>
            <nvpair id="target-agentd" name="agentd" value="$2"/>
            <nvpair id="target-agentd-options" name="agentd_options" value="${4:-}"/>
            <nvpair id="target-tandemctl" name="tandemctl" value="$TANDEMCTL"/>
            <nvpair id="target-state" name="state_dir" value="/run/tandem-state"/>
            <nvpair id="target-log" name="log_file" value="/var/log/daemons.log"/>
          </instance_attributes>
          <operations>
            <op id="target-start" name="start" interval="0s" timeout="60s"/>
            <op id="target-stop" name="stop" interval="0s" timeout="60s"/>
            <op id="target-monitor" name="monitor" interval="10s" timeout="30s"/>
          </operations>
        </primitive>
      </clone>
      <clone id="alua-clone">
        <meta_attributes id="alua-clone-meta">
          <nvpair id="alua-clone-promotable" name="promotable" value="true"/>
          <nvpair id="alua-clone-promoted-max" name="promoted-max" value="1"/>
          <nvpair id="alua-clone-node-max" name="clone-node-max" value="1"/>
          <nvpair id="alua-clone-interleave" name="interleave" value="true"/>
        </meta_attributes>
        <primitive id="alua" class="ocf" provider="tandem" type="alua">
          <instance_attributes id="alua-params">
            <nvpair id="alua-dg" name="device_group" value="dg"/>
            <nvpair id="alua-unpromoted" name="unpromoted_state" value="${3:-nonoptimized}"/>
            <nvpair id="alua-tandemctl" name="tandemctl" value="$TANDEMCTL"/>
          </instance_attributes>
          <operations>
            <op id="alua-monitor-promoted" name="monitor" interval="5s" timeout="20s" role="Promoted"/>
            <op id="alua-monitor-unpromoted" name="monitor" interval="6s" timeout="20s" role="Unpromoted"/>
          </operations>
        </primitive>
      </clone>
EOF
}

# pcmk_constraints: alua after and with target
pcmk_constraints() {
	cat <<EOF
      <rsc_order id="target-then-alua" first="target-clone" then="alua-clone" kind="Mandatory"/>
      <rsc_colocation id="alua-with-target" rsc="alua-clone" with-rsc="target-clone" score="INFINITY"/>
EOF
}

# promoted_on I: the node Pacemaker reports promoted for alua-clone, as
# seen from head I (crm_mon's XML)
promoted_on() {
	node_exec "$1" crm_mon -1 --output-as=xml 2>/dev/null |
		awk '/<resource id="alua"/ && /role="Promoted"/ {p = 1; next}
			p && /<node name=/ {sub(/.*<node name="/, ""); sub(/".*/, ""); print; exit}
			/<\/resource>/ {p = 0}'
}

# crm_show I: crm_mon as head I prints it, from its node list, indented
crm_show() {
	node_exec "$1" crm_mon -1 -r 2>&1 | sed -n '/^Node List/,$p' | sed 's/^/   | /'
}

# pcmk_fenced_cib N UNPROMOTED: the whole CIB of N heads with fencing on
# (stonith-enabled=true, stonith-action=off, one fence_tandemlab device
# per head, never placed on the head it fences), the clones with the
# daemons run from /run/tandem-bin (each head's own /run, so that one
# head's binaries can be replaced; pcmk_fenced_head_prepare puts them
# there) and tandem-agentd's default said: --fencing pacemaker (the
# survivors hold ordered operations until Pacemaker's fencing history
# shows the departed head fenced)
pcmk_fenced_cib() {
	local n=$1 j
	pcmk_cib_begin stonith-enabled=true stonith-action=off
	for ((j = 1; j <= n; j++)); do
		cat <<EOF
      <primitive id="fence-node$j" class="stonith" type="fence_tandemlab">
        <instance_attributes id="fence-node$j-params">
          <nvpair id="fence-node$j-lab" name="lab_dir" value="$LAB_DIR"/>
          <nvpair id="fence-node$j-hosts" name="pcmk_host_list" value="node$j"/>
        </instance_attributes>
        <operations>
          <op id="fence-node$j-monitor" name="monitor" interval="60s"/>
        </operations>
      </primitive>
EOF
	done
	pcmk_clones /run/tandem-bin/tandemd /run/tandem-bin/tandem-agentd "$2" "--fencing pacemaker"
	echo '    </resources>'
	echo '    <constraints>'
	for ((j = 1; j <= n; j++)); do
		echo "      <rsc_location id=\"fence-node$j-not-self\" rsc=\"fence-node$j\" node=\"node$j\" score=\"-INFINITY\"/>"
	done
	pcmk_constraints
	pcmk_cib_end
}

# pcmk_fenced_head_prepare I CIB: head I ready for pacemakerd with the CIB
# of pcmk_fenced_cib: its tandem.conf with every group unavailable
# (ocf:tandem:alua sets them) as /run/tandem-lab.conf, TANDEMD and
# AGENTD in /run/tandem-bin, pacemaker_prepare (OCF from pcmk_ocf_dir)
# and the lab fence agent (tests/cluster/fence_tandemlab)
pcmk_fenced_head_prepare() {
	local i=$1
	lab_tandem_conf "$i" | sed 's/state active/state unavailable/' >"$(lab_ndir "$i")/ra.conf"
	node_exec "$i" sh -ec "cp '$(lab_ndir "$i")/ra.conf' /run/tandem-lab.conf
		mkdir -p /run/tandem-bin
		install -m 755 '$TANDEMD' /run/tandem-bin/tandemd
		install -m 755 '$AGENTD' /run/tandem-bin/tandem-agentd"
	pacemaker_prepare "$i" "$2" "$OCF"
	pacemaker_fence_prepare "$i" "$LAB_SRC/tests/cluster/fence_tandemlab"
}

# pcmk_head_start I: corosync and pacemakerd of head I again (after a
# kill or a fencing: the lab's fence agent leaves nothing to clear)
pcmk_head_start() {
	corosync_start "$1"
	pacemaker_start "$1"
}

# mon_xml I: crm_mon's XML as head I sees it
mon_xml() { node_exec "$1" crm_mon -1 --output-as=xml 2>/dev/null; }
# running_on I RSC NODE: RSC is active (Started, Promoted, Unpromoted) on
# NODE, seen from head I
running_on() {
	mon_xml "$1" | awk -v r="$2" -v n="$3" '
		$0 ~ "<resource id=\"" r "\"" && /active="true"/ && !/failed="true"/ {p = 1; next}
		p && $0 ~ "<node name=\"" n "\"" {f = 1}
		/<\/resource>/ {p = 0}
		END {exit !f}'
}
# any_promoted I: head I sees alua-clone promoted somewhere;
# promoted_is I J: on head J
any_promoted() { [ -n "$(promoted_on "$1")" ]; }
promoted_is() { [ "$(promoted_on "$1")" = "node$2" ]; }
# promoted_elsewhere I J: head I sees alua-clone promoted, not on head J
promoted_elsewhere() {
	local p
	p=$(promoted_on "$1")
	[ -n "$p" ] && [ "$p" != "node$2" ]
}
# fenced_at I: when (seconds since the epoch) the lab fence agent last
# turned node I off (its log, LAB_DIR/fence/fence.log); empty if never
fenced_at() {
	grep "action=off port=node$1 result=success" "$LAB_DIR/fence/fence.log" 2>/dev/null |
		tail -1 | sed 's/^t=\([0-9.]*\) .*/\1/'
}

# now_ms, ms_since T0: milliseconds (since the epoch; since T0)
now_ms() { date +%s%3N; }
ms_since() { echo $(($(now_ms) - $1)); }
# crm_move I: the promoted instance moved to head I (crm_resource --move
# --promoted through head B, which stays up), timed (MOVE_T0: when it
# was asked); then --clear
crm_move() {
	local t0 out
	t0=$(now_ms)
	out=$(node_exec 2 crm_resource --move --promoted -r alua-clone -N "node$1" 2>&1) ||
		ko "crm_resource --move --promoted -N node$1: $out"
	if lab_wait 30 promoted_is 2 "$1"; then
		ok "crm_mon: promoted on node$1 $(ms_since "$t0") ms after crm_resource --move"
	else
		ko "crm_mon after the move to node$1: promoted on '$(promoted_on 2)'"
	fi
	# shellcheck disable=SC2034 # the caller's
	MOVE_T0=$t0
	out=$(node_exec 2 crm_resource --clear -r alua-clone 2>&1) || ko "crm_resource --clear: $out"
}
