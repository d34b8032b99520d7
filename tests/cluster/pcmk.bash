# shellcheck shell=bash
# pcmk.bash - what the cluster lab's Pacemaker scenarios share (sourced
# after lab.sh; pacemaker.sh, failover_pcmk.sh): the OCF agents' copy the
# heads mount, the CIB's resources and constraints, crm_mon queries.

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
