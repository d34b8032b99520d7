# shellcheck shell=bash disable=SC2015,SC2034
# ceph.bash - a real Ceph cluster inside the cluster lab (sourced after
# tests/cluster/lab.sh, after lab_up): one ceph-mon and one ceph-mgr in a
# "mon" namespace at 10.213.0.40, NOSD ceph-osd (bluestore on sparse
# files) each in a namespace of its own at 10.213.0.41.., all on the
# lab's switch bridge like the heads, so that the monitor, one OSD or the
# whole Ceph cluster can be cut off by taking links down in the switch.
# Debian 12's packages (ceph-mon ceph-mgr ceph-osd ceph-common, 16.2
# pacific); no systemd, nothing under /etc/ceph or /var/lib/ceph: every
# path is under $CEPH_DIR = $LAB_DIR/ceph, which the heads see too.
#
#   . tests/cluster/lab.sh; . tests/cluster/ceph.bash
#   lab_up 2
#   ceph_up 3                  # mon+mgr .40, osd.0..2 at .41..43, pool rbd
#   ceph_exec rbd create --size 1G rbd/img1      # admin, mon namespace
#   ceph_exec ceph -s
#   ceph_head_exec 1 rbd bench --io-type write rbd/img1  # client.tandem
#   ceph_osd_kill 1; ceph_osd_start 1          # osd.1 (the OSD at .42)
#   ceph_osd_cut 1; ceph_osd_heal 1            # its link in the switch
#   ceph_mon_cut; ceph_mon_heal                # the mon+mgr namespace
#   ceph_cut_all; ceph_heal_all                # every Ceph link
#   ceph_wait_clean 60; ceph_wait_health 60    # time taken in CEPH_WAITED
#   ceph_osd_down_wait 1 20; ceph_osd_up_wait 1 20
#   ceph_mem                                   # PSS/RSS of each daemon
#   ceph_down                                  # also called by lab_down
#
# Exported by ceph_up: CEPH_CONF (the ceph.conf every client reads: the
# heads' backstore attribute ceph_conf), CEPH_KEYRING_TANDEM
# (client.tandem's keyring, caps mon 'profile rbd' osd 'profile rbd
# pool=rbd'; ceph.conf's [client.tandem] names it, so `--id tandem` is
# enough), CEPH_POOL=rbd, CEPH_MON_ADDR, CEPH_OSD_ADDRS (array).
#
# Every CLI call runs under `timeout` (CEPH_CLI_TIMEOUT, default 30 s)
# with --connect-timeout and the client's mon/OSD op timeouts
# (CEPH_CLI_ARGS), so a cut cluster makes a call fail, never hang.
#
# Variables (before ceph_up):
#   CEPH_OSD_SIZE      each OSD's sparse block file (default 3G)
#   CEPH_PG_NUM        pg_num of pool rbd (default 32)
#   CEPH_OSD_MEMORY    osd_memory_target (default 939524096 = its minimum)
#   CEPH_CACHE         bluestore_cache_size (default 64 MiB, autotune off)
#   CEPH_OSD_EXTRA     lines added to ceph.conf's [osd] section
#
# Failure detection is tuned for the lab (values in ceph_conf below):
#   osd_heartbeat_interval 1, osd_heartbeat_grace 5: a silent OSD (link
#     cut) is reported by its peers after ~5 s instead of ~20 s;
#   mon_osd_adjust_heartbeat_grace false: the grace does not grow with an
#     OSD's "laggy" history (repeated kills in a test);
#   mon_osd_min_down_reporters 1, mon_osd_reporter_subtree_level osd:
#     one peer's report is enough (defaults 2 reporters from distinct
#     hosts: fine with 3 OSDs on 3 hosts, but a 2-OSD lab could never
#     mark one down);
#   a killed OSD (kill -9) is seen at once anyway: its peers get
#     "connection refused" (osd_fast_fail_on_connection_refused, default);
#   mon_osd_down_out_interval 120: a killed OSD stays "in" (degraded, no
#     rebalancing) for 2 minutes, long enough for kill/restart tests;
#   mgr_stats_period 1, osd_mon_heartbeat_interval 5: PG states reach
#     `ceph pg stat` within about a second.
# Memory: osd_memory_target is at its minimum (896 MiB) but bounds
# nothing here: Debian's ceph-osd is not linked with tcmalloc, which its
# autotuning needs; an OSD grows to ~0.5-0.75 GiB after a GiB of writes
# (glibc's heap, the PG log). mon_memory_target 256 MiB with a 64 MiB
# rocksdb cache (the default 512 MiB cache would not fit in it).
: "${CEPH_OSD_SIZE:=3G}"
: "${CEPH_PG_NUM:=32}"
: "${CEPH_OSD_MEMORY:=939524096}"
: "${CEPH_CACHE:=67108864}"
: "${CEPH_CLI_TIMEOUT:=30}"
CEPH_DIR=
CEPH_NOSD=0
CEPH_MON_ADDR=$LAB_NET.40
CEPH_POOL=rbd
CEPH_OSD_ADDRS=()
CEPH_CLI_ARGS=(--client_mount_timeout 10 --rados_mon_op_timeout 10
	--rados_osd_op_timeout 20)

# ceph_argv CMD ARGS...: CEPH_ARGV = CMD under timeout with the lab's CLI
# options (the ceph tool also gets --connect-timeout, which rbd does not
# know)
ceph_argv() {
	local cmd=$1 extra=() to=(timeout -k 5 "$CEPH_CLI_TIMEOUT")
	shift
	[ "$cmd" = ceph ] && extra=(--connect-timeout 10)
	[ -n "${CEPH_NO_TIMEOUT:-}" ] && to=()
	CEPH_ARGV=(env CEPH_CONF="$CEPH_CONF" "${to[@]}"
		"$cmd" "${extra[@]}" "${CEPH_CLI_ARGS[@]}" "$@")
}

ceph_log() { lab_log "ceph: $*"; }
ceph_die() {
	echo "ceph: $*" >&2
	return 1
}

# ceph_need: the packages (scripts/deps.sh test lists them too)
ceph_need() {
	local pkgs=() c
	for c in ceph-mon:ceph-mon ceph-mgr:ceph-mgr ceph-osd:ceph-osd \
		ceph:ceph-common rbd:ceph-common ceph-authtool:ceph-common \
		monmaptool:ceph-common uuidgen:uuid-runtime; do
		command -v "${c%%:*}" >/dev/null 2>&1 || pkgs+=("${c#*:}")
	done
	[ ${#pkgs[@]} -eq 0 ] && return 0
	# policy-rc.d (apt-install.sh): Debian's postinst starts nothing
	"$LAB_SRC/scripts/apt-install.sh" "${pkgs[@]}"
}

ceph_osd_addr() { echo "$LAB_NET.$((41 + $1))"; }

# ceph_ns_up NAME ADDR VETH: a network + UTS namespace NAME on the lab's
# switch (a veth VETH in the switch's bridge), hostname NAME
ceph_ns_up() {
	local name=$1 addr=$2 veth=$3 ns=$LAB_DIR/ns
	touch "$ns/$name.net" "$ns/$name.uts"
	unshare --net="$ns/$name.net" --uts="$ns/$name.uts" \
		sh -ec "hostname $name; ip link set lo up" &&
		nsenter --net="$ns/switch.net" ip link add "$veth" type veth peer \
			name eth0 netns "$ns/$name.net" &&
		nsenter --net="$ns/switch.net" sh -c \
			"ip link set $veth master br0 && ip link set $veth up" &&
		nsenter --net="$ns/$name.net" sh -c \
			"ip addr add $addr/24 dev eth0 && ip link set eth0 up" ||
		ceph_die "namespace $name: failed"
}

# ceph_ns_exec NAME CMD...: CMD in namespace NAME (cephmon, cephosdI)
ceph_ns_exec() {
	local name=$1
	shift
	nsenter --net="$LAB_DIR/ns/$name.net" --uts="$LAB_DIR/ns/$name.uts" "$@"
}

# ceph_bg NAME TAG CMD...: a daemon in namespace NAME, output appended
# to $CEPH_DIR/log/TAG.out, its PID in $CEPH_DIR/TAG.pid and in the list
# ceph_down kills
ceph_bg() {
	local name=$1 tag=$2
	shift 2
	nsenter --net="$LAB_DIR/ns/$name.net" --uts="$LAB_DIR/ns/$name.uts" \
		"$@" </dev/null >>"$CEPH_DIR/log/$tag.out" 2>&1 &
	CEPH_PID=$!
	disown "$CEPH_PID"
	echo "$CEPH_PID" >"$CEPH_DIR/$tag.pid"
	echo "$CEPH_PID" >>"$CEPH_DIR/pids"
	ceph_log "$tag: pid $CEPH_PID"
}

# ceph_conf FSID NOSD: the ceph.conf
ceph_conf() {
	local d=$CEPH_DIR
	cat <<EOF
# generated by tests/cluster/ceph.bash
[global]
fsid = $1
mon_initial_members = a
mon_host = [v2:$CEPH_MON_ADDR:3300,v1:$CEPH_MON_ADDR:6789]
public_network = $LAB_NET.0/24
auth_cluster_required = cephx
auth_service_required = cephx
auth_client_required = cephx
auth_allow_insecure_global_id_reclaim = false
run_dir = $d/run
crash_dir = $d/crash
log_file = $d/log/\$cluster-\$name.log
mon_cluster_log_file = $d/log/\$cluster.log
log_to_stderr = false
err_to_stderr = true
mon_data = $d/mon/\$cluster-\$id
osd_data = $d/osd/\$cluster-\$id
mgr_data = $d/mgr/\$cluster-\$id
osd_pool_default_size = 3
osd_pool_default_min_size = 2
osd_pool_default_pg_num = $CEPH_PG_NUM
osd_pool_default_pgp_num = $CEPH_PG_NUM
osd_pool_default_pg_autoscale_mode = off
osd_heartbeat_interval = 1
osd_heartbeat_grace = 5
mgr_stats_period = 1
# the lab's disk is shared with everything else on the machine
mon_data_avail_warn = 2
mon_data_avail_crit = 1

[mon]
mon_allow_pool_delete = true
mon_osd_adjust_heartbeat_grace = false
mon_osd_min_down_reporters = 1
mon_osd_reporter_subtree_level = osd
mon_osd_down_out_interval = 120
mon_memory_target = 268435456
# the mon's rocksdb cache must fit in its memory target (default 512 MiB)
rocksdb_cache_size = 67108864
mon_warn_on_pool_no_redundancy = false

[mgr]
mgr_data = $d/mgr/\$cluster-\$id

[osd]
osd_memory_target = $CEPH_OSD_MEMORY
bluestore_cache_autotune = false
bluestore_cache_size = $CEPH_CACHE
bluestore_block_create = true
bluestore_block_size = $(numfmt --from=iec "$CEPH_OSD_SIZE")
osd_objectstore = bluestore
osd_mon_heartbeat_interval = 5
# recovery at full speed (the default sleeps 0.1 s between recovery ops
# on a "rotational" device: the sparse files count as one here)
osd_recovery_sleep = 0
osd_recovery_sleep_hdd = 0
osd_recovery_sleep_hybrid = 0
${CEPH_OSD_EXTRA:-}

[client]
keyring = $d/\$name.keyring
log_to_file = false
admin_socket =
EOF
}

# ceph_up [NOSD]: the whole cluster (see the header); exports CEPH_CONF
# and CEPH_KEYRING_TANDEM; the time it took in CEPH_UP_SECONDS
ceph_up() {
	local n=${1:-3} i fsid d t0 key uuid id
	[ -n "$LAB_DIR" ] || { ceph_die "lab_up first"; return 1; }
	[ -z "$CEPH_DIR" ] || { ceph_die "already up at $CEPH_DIR"; return 1; }
	[ "$n" -ge 1 ] && [ "$n" -le 9 ] || { ceph_die "ceph_up: 1..9 OSDs"; return 1; }
	ceph_need || return 1
	t0=$(date +%s%N)
	CEPH_DIR=$LAB_DIR/ceph
	CEPH_NOSD=$n
	d=$CEPH_DIR
	mkdir -p "$d/run" "$d/log" "$d/crash" "$d/mon" "$d/mgr" "$d/osd"
	: >"$d/pids"
	echo "$n" >"$d/nosd"
	case " ${LAB_DOWN_HOOKS:-} " in
	*" ceph_down "*) ;;
	*) LAB_DOWN_HOOKS="ceph_down ${LAB_DOWN_HOOKS:-}" ;;
	esac
	export CEPH_CONF=$d/ceph.conf
	export CEPH_KEYRING_TANDEM=$d/client.tandem.keyring
	fsid=$(uuidgen)
	ceph_conf "$fsid" >"$CEPH_CONF"
	CEPH_OSD_ADDRS=()
	for ((i = 0; i < n; i++)); do
		CEPH_OSD_ADDRS+=("$(ceph_osd_addr "$i")")
	done
	ceph_ns_up cephmon "$CEPH_MON_ADDR" swm || { ceph_down; return 1; }
	for ((i = 0; i < n; i++)); do
		ceph_ns_up "cephosd$i" "$(ceph_osd_addr "$i")" "swo$i" || {
			ceph_down
			return 1
		}
	done
	# keys: mon., client.admin (in the mon's keyring: the first admin)
	ceph-authtool --create-keyring "$d/mon.keyring" --gen-key -n mon. \
		--cap mon 'allow *' >/dev/null &&
		ceph-authtool --create-keyring "$d/client.admin.keyring" --gen-key \
			-n client.admin --cap mon 'allow *' --cap osd 'allow *' \
			--cap mds 'allow *' --cap mgr 'allow *' >/dev/null &&
		ceph-authtool "$d/mon.keyring" --import-keyring \
			"$d/client.admin.keyring" >/dev/null &&
		monmaptool --create --fsid "$fsid" --addv a \
			"[v2:$CEPH_MON_ADDR:3300,v1:$CEPH_MON_ADDR:6789]" \
			"$d/monmap" >/dev/null &&
		ceph_ns_exec cephmon ceph-mon -c "$CEPH_CONF" --mkfs -i a --monmap "$d/monmap" \
			--keyring "$d/mon.keyring" >>"$d/log/mkfs.out" 2>&1 || {
		ceph_die "mon mkfs failed (see $d/log/mkfs.out)"
		ceph_down
		return 1
	}
	ceph_bg cephmon mon.a ceph-mon -f -c "$CEPH_CONF" -i a
	ceph_wait_mon 30 || { ceph_die "mon not answering"; ceph_down; return 1; }
	# the manager, in the mon's namespace
	mkdir -p "$d/mgr/ceph-x"
	ceph_exec ceph auth get-or-create mgr.x mon 'allow profile mgr' \
		osd 'allow *' mds 'allow *' -o "$d/mgr/ceph-x/keyring" || {
		ceph_die "mgr key"
		ceph_down
		return 1
	}
	ceph_bg cephmon mgr.x ceph-mgr -f -c "$CEPH_CONF" -i x
	# the OSDs: `ceph osd new` with the key (as ceph-volume does), mkfs
	# in the OSD's namespace, then the daemon
	for ((i = 0; i < n; i++)); do
		uuid=$(uuidgen)
		key=$(ceph-authtool --gen-print-key)
		id=$(ceph_exec_in cephmon ceph osd new "$uuid" -i - \
			<<<"{\"cephx_secret\": \"$key\"}") || id=
		[ "$id" = "$i" ] || { ceph_die "osd new gave '$id', not $i"; ceph_down; return 1; }
		mkdir -p "$d/osd/ceph-$i"
		ceph-authtool --create-keyring "$d/osd/ceph-$i/keyring" \
			--name "osd.$i" --add-key "$key" >/dev/null &&
			ceph_ns_exec "cephosd$i" timeout 120 ceph-osd -c "$CEPH_CONF" \
				-i "$i" --mkfs --osd-uuid "$uuid" >>"$d/log/mkfs.out" 2>&1 || {
			ceph_die "osd.$i mkfs failed (see $d/log/mkfs.out)"
			ceph_down
			return 1
		}
		ceph_osd_start "$i"
	done
	{
		ceph_exec ceph osd pool create "$CEPH_POOL" "$CEPH_PG_NUM" \
			"$CEPH_PG_NUM" replicated &&
			ceph_exec ceph osd pool set "$CEPH_POOL" size 3 &&
			ceph_exec ceph osd pool set "$CEPH_POOL" min_size 2 &&
			ceph_exec rbd pool init "$CEPH_POOL" &&
			ceph_exec ceph auth get-or-create client.tandem mon 'profile rbd' \
				osd "profile rbd pool=$CEPH_POOL" -o "$CEPH_KEYRING_TANDEM"
	} >>"$d/log/setup.out" 2>&1 || {
		ceph_die "pool $CEPH_POOL or client.tandem failed (see $d/log/setup.out)"
		ceph_down
		return 1
	}
	ceph_wait_clean 120 || { ceph_die "PGs not active+clean in 120 s"; ceph_down; return 1; }
	CEPH_UP_SECONDS=$(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN {printf "%.1f", (b - a) / 1e9}')
	ceph_log "up in $CEPH_UP_SECONDS s"
	return 0
}

# ceph_exec_in NAME CMD...: a ceph/rbd CLI command with client.admin
# from namespace NAME (timeouts as in the header)
ceph_exec_in() {
	local name=$1
	shift
	ceph_argv "$@"
	ceph_ns_exec "$name" "${CEPH_ARGV[@]}"
}

# ceph_exec CMD...: with client.admin from the mon's namespace (works
# while the mon is cut off: the mon is local there)
ceph_exec() { ceph_exec_in cephmon "$@"; }

# ceph_client_exec CMD...: with client.admin from the lab's client
# namespace (10.213.0.100)
ceph_client_exec() {
	ceph_argv "$@"
	client_exec "${CEPH_ARGV[@]}"
}

# ceph_head_exec I CMD...: with client.tandem (the restricted key) from
# head I's namespaces, e.g. ceph_head_exec 1 rbd ls
ceph_head_exec() {
	local i=$1 cmd=$2
	shift 2
	ceph_argv "$cmd" --id tandem "$@"
	node_exec "$i" "${CEPH_ARGV[@]}"
}

ceph_alive_tag() {
	local p
	p=$(cat "$CEPH_DIR/$1.pid" 2>/dev/null) || return 1
	lab_alive "$p"
}

# ceph_osd_start I / ceph_osd_kill I [SIG]: osd.I's daemon (kill waits
# until it is gone)
ceph_osd_start() {
	ceph_alive_tag "osd.$1" && return 0
	ceph_bg "cephosd$1" "osd.$1" ceph-osd -f -c "$CEPH_CONF" -i "$1"
}

ceph_kill_tag() {
	local p k
	p=$(cat "$CEPH_DIR/$1.pid" 2>/dev/null) || return 0
	lab_alive "$p" && kill -"${2:-KILL}" "$p" 2>/dev/null
	for ((k = 0; k < 200; k++)); do
		lab_alive "$p" || break
		sleep 0.05
	done
	rm -f "$CEPH_DIR/$1.pid"
	! lab_alive "$p"
}
ceph_osd_kill() { ceph_kill_tag "osd.$1" "${2:-KILL}"; }
ceph_mon_kill() { ceph_kill_tag mon.a "${1:-KILL}"; }
ceph_mon_start() {
	ceph_alive_tag mon.a || ceph_bg cephmon mon.a ceph-mon -f -c "$CEPH_CONF" -i a
}

# links in the switch: ceph_mon_cut / ceph_mon_heal (the mon and the mgr
# unreachable from everyone else), ceph_osd_cut I / ceph_osd_heal I,
# ceph_cut_all / ceph_heal_all (every Ceph namespace: the heads see no
# Ceph at all; the daemons do not see each other either)
ceph_link() { nsenter --net="$LAB_DIR/ns/switch.net" ip link set "$1" "$2"; }
ceph_mon_cut() { ceph_link swm down; }
ceph_mon_heal() { ceph_link swm up; }
ceph_osd_cut() { ceph_link "swo$1" down; }
ceph_osd_heal() { ceph_link "swo$1" up; }
ceph_cut_all() {
	local i
	ceph_mon_cut
	for ((i = 0; i < CEPH_NOSD; i++)); do ceph_osd_cut "$i"; done
}
ceph_heal_all() {
	local i
	ceph_mon_heal
	for ((i = 0; i < CEPH_NOSD; i++)); do ceph_osd_heal "$i"; done
}

# ceph_wait SECS CMD...: until CMD succeeds or SECS (wall clock) pass;
# the time taken in CEPH_WAITED
ceph_wait() {
	local t=$1 t0 now
	shift
	t0=$(date +%s%N)
	while :; do
		if "$@"; then
			now=$(date +%s%N)
			CEPH_WAITED=$(awk -v a="$t0" -v b="$now" 'BEGIN {printf "%.1f", (b - a) / 1e9}')
			return 0
		fi
		now=$(date +%s%N)
		[ $(((now - t0) / 1000000000)) -ge "$t" ] && break
		sleep 0.2
	done
	CEPH_WAITED=$t
	return 1
}

ceph_mon_answers() { ceph_exec ceph mon stat >/dev/null 2>&1; }
# every PG of every pool active+clean ("N pgs: N active+clean; ...",
# N the sum of the pools' pg_num: the mgr may not know a new pool's PGs
# yet)
ceph_is_clean() {
	local want
	want=$(ceph_exec ceph osd dump 2>/dev/null |
		awk '/^pool / {for (i = 1; i < NF; i++) if ($i == "pg_num") n += $(i + 1)}
			END {print n + 0}')
	[ "$want" -gt 0 ] &&
		ceph_exec ceph pg stat 2>/dev/null | grep -Eq "^$want pgs: $want active\+clean;"
}
ceph_is_healthy() {
	[ "$(ceph_exec ceph health 2>/dev/null)" = HEALTH_OK ]
}
# osd.I up/down in the osdmap
ceph_osd_is() {
	ceph_exec ceph osd dump 2>/dev/null | grep -Eq "^osd\\.$1 $2 "
}
ceph_wait_mon() { ceph_wait "${1:-30}" ceph_mon_answers; }
ceph_wait_clean() { ceph_wait "${1:-60}" ceph_is_clean; }
ceph_wait_health() { ceph_wait "${1:-60}" ceph_is_healthy; }
ceph_osd_down_wait() { ceph_wait "${2:-30}" ceph_osd_is "$1" down; }
ceph_osd_up_wait() { ceph_wait "${2:-30}" ceph_osd_is "$1" up; }

# ceph_pids: the daemons' PIDs ("TAG PID" per line)
ceph_pids() {
	local f p
	for f in "$CEPH_DIR"/*.pid; do
		[ -f "$f" ] || continue
		p=$(cat "$f")
		lab_alive "$p" && echo "$(basename "$f" .pid) $p"
	done
}

# ceph_mem: "TAG PID pss_kib rss_kib" for each daemon (smaps_rollup)
ceph_mem() {
	local tag p
	ceph_pids | while read -r tag p; do
		awk -v t="$tag" -v p="$p" '/^Rss:/ {r = $2} /^Pss:/ {s = $2}
			END {print t, p, s, r}' "/proc/$p/smaps_rollup" 2>/dev/null
	done
}

# ceph_mem_report WHEN: one line per daemon, "memory WHEN: TAG pss=N MiB
# rss=N MiB"
ceph_mem_report() {
	ceph_mem | awk -v w="$1" '{printf "memory %s: %s pss=%.0f MiB rss=%.0f MiB\n", w, $1, $3 / 1024, $4 / 1024}'
}

# ceph_ns_procs: every process inside a Ceph namespace of the lab
ceph_ns_procs() {
	local f inos=() p ino x
	for f in "$LAB_DIR"/ns/ceph*.net; do
		[ -e "$f" ] && inos+=("$(stat -L -c %i "$f" 2>/dev/null)")
	done
	[ ${#inos[@]} -eq 0 ] && return 0
	for p in /proc/[0-9]*; do
		ino=$(stat -L -c %i "$p/ns/net" 2>/dev/null) || continue
		for x in "${inos[@]}"; do
			[ "$ino" = "$x" ] && echo "${p#/proc/}"
		done
	done
}

# ceph_down: kill every Ceph daemon (by PID, then whatever is left in
# the Ceph namespaces), remove the namespaces and links, and $CEPH_DIR
# (with LAB_KEEP, renamed to $CEPH_DIR.TIME). Idempotent; ceph_up may
# follow.
ceph_down() {
	local p pids=() f
	[ -n "$CEPH_DIR" ] && [ -n "$LAB_DIR" ] || {
		CEPH_DIR=
		return 0
	}
	if [ -f "$CEPH_DIR/pids" ]; then
		while read -r p; do
			[ -n "$p" ] && pids+=("$p")
		done <"$CEPH_DIR/pids"
	fi
	# shellcheck disable=SC2207
	pids+=($(ceph_ns_procs))
	lab_kill_wait KILL "${pids[@]}"
	for f in "$LAB_DIR"/ns/ceph*; do
		[ -e "$f" ] || continue
		umount "$f" 2>/dev/null || umount -l "$f" 2>/dev/null
		rm -f "$f"
	done
	# the data goes (sparse, but written); LAB_KEEP keeps it aside
	if [ -n "${LAB_KEEP:-}" ]; then
		mv "$CEPH_DIR" "$CEPH_DIR.$(date +%s%N)"
	else
		rm -rf "$CEPH_DIR"
	fi
	CEPH_DIR=
	CEPH_NOSD=0
	return 0
}

# ceph_bench_bg I LOG RBD-BENCH-ARGS...: `rbd bench` with client.tandem
# in head I in the background (its PID in CEPH_BENCH_PID), each output
# line prefixed with the wall clock ($EPOCHREALTIME); rbd bench prints a
# progress line only when operations complete, so a pause shows as a gap
# (ceph_bench_gap LOG). No overall timeout: wait for it with ceph_wait.
ceph_bench_bg() {
	local i=$1 log=$2
	shift 2
	# no timeout around it: the pause is what is measured
	CEPH_NO_TIMEOUT=1 ceph_argv rbd --id tandem bench "$@"
	# shellcheck disable=SC2016 # expanded by that bash
	node_bg "$i" "$log" bash -c '"$@" 2>&1 | while IFS= read -r l; do
		echo "$EPOCHREALTIME $l"; done; echo "$EPOCHREALTIME exit ${PIPESTATUS[0]}"' \
		bench "${CEPH_ARGV[@]}"
	CEPH_BENCH_PID=$LAB_PID
}

# ceph_bench_gap LOG: the longest interval (s) between two progress lines
# of a ceph_bench_bg log, and when it started ("GAP START")
ceph_bench_gap() {
	awk '$2 ~ /^[0-9]+$/ && NF >= 4 {if (p != "" && $1 - p > g) {g = $1 - p; s = p}; p = $1}
		END {printf "%.1f %s\n", g, s}' "$1"
}

# ceph_bench_done LOG: the bench ended; its exit status in CEPH_BENCH_RC
# (rbd bench exits 0 even after failed writes: look for librbd's
# "failed to write object" lines in LOG too)
ceph_bench_done() {
	local l
	l=$(grep -m1 ' exit [0-9]*$' "$1") || return 1
	CEPH_BENCH_RC=${l##* }
}
