# shellcheck shell=bash disable=SC2015,SC2034,SC2120
# lab.sh - the cluster lab (sourced by bash scripts): N storage heads on
# one machine, each a network + mount + UTS namespace with its own real
# corosync, on a bridge inside a private "switch" network namespace, and
# a client namespace from which iSCSI initiators reach the heads.
# See /work/shared/LABS.md ("Cluster lab") for what was measured.
#
#   . tests/cluster/lab.sh
#   lab_up 3                 # nodes 1..3 at 10.213.0.11..13, client .100
#   corosync_start 1; ...    # or lab_start_corosync_all
#   wait_quorate 1 10; wait_members 1 3 10
#   partition 3; heal 3; corosync_kill 2; node_kill 2
#   node_exec 1 corosync-quorumtool -s
#   client_exec "$SCSITOOL" iscsi://10.213.0.11/$LAB_IQN/0 inquiry
#   f=$(lab_blackbox 1 agentd); qb-blackbox "$f"
#   lab_down                 # also installed as an EXIT trap by lab_up
#
# Nothing outside the lab's namespaces is configured: the host's
# /etc/corosync, services and network stay untouched. Addresses
# 10.213.0.x exist only inside the lab. lab_down kills only the processes
# the lab started (by PID) and any process left inside a node's
# namespaces (which only the lab can have created).
#
# Variables (may be set before sourcing or before lab_up):
#   LAB_KEEP=1        keep the lab directory (logs) after lab_down
#   LAB_VERBOSE=1     log each step to stderr
#   TANDEMD, AGENTD   absolute paths of the daemons (default: the tree's)
#   TANDEMD_AGENT_OPT tandemd's option naming the agent socket (-A; set it
#                     empty for heads without an agent)
#   SCSITOOL          tests/cluster/scsitool (scsi_client runs it)
#   LAB_AGENTD_FENCING tandem-agentd's fencing options agentd_start gives
#                     first (default: --fencing none
#                     --allow-two-heads-without-fencing: the lab's heads
#                     have no fencing device, and most tests run two
#                     heads; set it empty for the agent's own default)
#   LAB_IQN           the target name every head exports
#   LAB_TOKEN         corosync's totem token in ms (default 500)
#   LAB_DOWN_HOOKS    functions lab_down calls first (space-separated;
#                     ceph.bash adds ceph_down)

LAB_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
: "${TANDEMD:=$LAB_SRC/targetd/tandemd}"
: "${AGENTD:=$LAB_SRC/agentd/tandem-agentd}"
: "${TANDEMD_AGENT_OPT=-A}"
: "${LAB_AGENTD_FENCING=--fencing none --allow-two-heads-without-fencing}"
: "${SCSITOOL:=$LAB_SRC/tests/cluster/scsitool}"
: "${LAB_IQN:=iqn.2026-11.org.tandem:cluster}"
: "${LAB_AGENT_SOCK:=/run/tandem/agent.sock}"
: "${LAB_CTL_SOCK:=/run/tandem/tandemd.sock}"
: "${LAB_PORT:=3260}"
LAB_NET=10.213.0
LAB_CLIENT_ADDR=$LAB_NET.100
LAB_DIR=
LAB_N=0

lab_log() {
	[ -n "${LAB_VERBOSE:-}" ] && echo "lab: $*" >&2
	return 0
}

lab_die() {
	echo "lab: $*" >&2
	return 1
}

# lab_need: install what the lab needs when it is missing (a fresh CI
# machine is Debian 12 without corosync)
lab_need() {
	local pkgs=() c
	for c in corosync:corosync corosync-keygen:corosync \
		corosync-quorumtool:corosync corosync-cpgtool:corosync \
		ip:iproute2 nsenter:util-linux unshare:util-linux \
		lsns:util-linux; do
		command -v "${c%%:*}" >/dev/null 2>&1 || pkgs+=("${c#*:}")
	done
	[ ${#pkgs[@]} -eq 0 ] && return 0
	[ "$(id -u)" -eq 0 ] || lab_die "need root to install ${pkgs[*]}" || return 1
	# Debian's postinst would start corosync.service where systemd
	# runs: apt-install.sh's policy-rc.d says no
	"$LAB_SRC/scripts/apt-install.sh" "${pkgs[@]}"
}

lab_addr() { echo "$LAB_NET.$((10 + $1))"; }
lab_ndir() { echo "$LAB_DIR/node$1"; }

# lab_pid_add I PID: remember a process the lab started in node I (0 =
# the client namespace)
lab_pid_add() {
	echo "$2" >>"$LAB_DIR/pids.$1"
}

lab_alive() {
	local st
	st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ]
}

# lab_ns_pids I: the processes inside node I's mount namespace (0: the
# client's network namespace)
lab_ns_pids() {
	local ino f p
	if [ "$1" = 0 ]; then f=$LAB_DIR/ns/client.net; else f=$LAB_DIR/ns/n$1.mnt; fi
	ino=$(stat -L -c %i "$f" 2>/dev/null) || return 0
	for p in /proc/[0-9]*; do
		if [ "$1" = 0 ]; then
			[ "$(stat -L -c %i "$p/ns/net" 2>/dev/null)" = "$ino" ] || continue
		else
			[ "$(stat -L -c %i "$p/ns/mnt" 2>/dev/null)" = "$ino" ] || continue
		fi
		echo "${p#/proc/}"
	done
}

# lab_kill_wait SIG PID...: SIG to each PID still alive, then wait (5 s
# at most) until none is
lab_kill_wait() {
	local sig=$1 p n left
	shift
	for p in "$@"; do
		lab_alive "$p" && kill -"$sig" "$p" 2>/dev/null
	done
	for ((n = 0; n < 100; n++)); do
		left=0
		for p in "$@"; do
			lab_alive "$p" && left=1
		done
		[ $left = 0 ] && break
		sleep 0.05
	done
	return 0
}

# lab_kill_node I SIG: SIG to every process the lab started in node I and
# every process left inside its namespaces; wait until they are gone
lab_kill_node() {
	local i=$1 sig=${2:-KILL} p pids=()
	[ -n "$LAB_DIR" ] || return 0
	if [ -f "$LAB_DIR/pids.$i" ]; then
		while read -r p; do
			[ -n "$p" ] && pids+=("$p")
		done <"$LAB_DIR/pids.$i"
	fi
	# shellcheck disable=SC2207
	pids+=($(lab_ns_pids "$i"))
	lab_kill_wait "$sig" "${pids[@]}"
	# reap those that are our children
	for p in "${pids[@]}"; do
		{ wait "$p"; } 2>/dev/null
	done
	: >"$LAB_DIR/pids.$i"
	return 0
}

# lab_corosync_conf N: the corosync.conf of every node
lab_corosync_conf() {
	local n=$1 i
	cat <<EOF
# generated by tests/cluster/lab.sh
totem {
	version: 2
	cluster_name: tandemlab
	transport: knet
	token: ${LAB_TOKEN:-500}
	token_coefficient: 0
	crypto_cipher: aes256
	crypto_hash: sha256
}
nodelist {
EOF
	for ((i = 1; i <= n; i++)); do
		cat <<EOF
	node {
		ring0_addr: $(lab_addr "$i")
		name: node$i
		nodeid: $i
	}
EOF
	done
	cat <<EOF
}
quorum {
	provider: corosync_votequorum
EOF
	[ "$n" -eq 2 ] && echo "	two_node: 1"
	cat <<EOF
}
logging {
	to_logfile: yes
	logfile: /var/log/corosync.log
	to_stderr: no
	to_syslog: no
	timestamp: hires
}
EOF
}

# lab_up N: build the lab (N = 2 or 3 heads; up to 9 work)
lab_up() {
	local n=$1 i d ns
	[ -n "$LAB_DIR" ] && { lab_die "a lab is already up at $LAB_DIR"; return 1; }
	[ "$n" -ge 1 ] && [ "$n" -le 9 ] || { lab_die "lab_up: 1..9 nodes"; return 1; }
	lab_need || return 1
	LAB_DIR=$(mktemp -d /tmp/tandem-lab.XXXXXX) || return 1
	LAB_N=$n
	echo "$n" >"$LAB_DIR/nodes"
	trap lab_down EXIT
	trap 'exit 130' INT TERM
	ns=$LAB_DIR/ns
	mkdir -p "$ns" "$LAB_DIR/shared"
	# namespace handles need a private mount to be bind-mounted on
	mount --bind "$ns" "$ns" && mount --make-private "$ns" || {
		lab_down
		return 1
	}
	lab_log "dir $LAB_DIR"
	# the switch: a bridge in a network namespace of its own
	touch "$ns/switch.net"
	unshare --net="$ns/switch.net" true &&
		nsenter --net="$ns/switch.net" sh -c \
			'ip link set lo up && ip link add br0 type bridge &&
			 ip link set br0 up' || {
		lab_down
		return 1
	}
	# one key for every node
	corosync-keygen -k "$LAB_DIR/authkey" >/dev/null 2>&1 || {
		lab_die "corosync-keygen -k failed"
		lab_down
		return 1
	}
	chmod 400 "$LAB_DIR/authkey"
	lab_corosync_conf "$n" >"$LAB_DIR/corosync.conf"
	for ((i = 1; i <= n; i++)); do
		lab_node_up "$i" || {
			lab_down
			return 1
		}
	done
	lab_client_up || {
		lab_down
		return 1
	}
	lab_log "up: $n nodes"
	return 0
}

# lab_node_up I: namespaces, private directories, link of node I
lab_node_up() {
	local i=$1 d ns=$LAB_DIR/ns
	d=$(lab_ndir "$i")
	mkdir -p "$d/etc" "$d/lib" "$d/log" "$d/tandem"
	install -m 400 "$LAB_DIR/authkey" "$d/etc/authkey"
	cp "$LAB_DIR/corosync.conf" "$d/etc/corosync.conf"
	touch "$ns/n$i.net" "$ns/n$i.mnt" "$ns/n$i.uts" "$LAB_DIR/pids.$i"
	unshare --net="$ns/n$i.net" --mount="$ns/n$i.mnt" \
		--uts="$ns/n$i.uts" --propagation private \
		sh -ec "
		umount -l '$ns'
		hostname node$i
		ip link set lo up
		mount -t tmpfs -o mode=755 tmpfs /run
		mount -t tmpfs -o mode=1777 tmpfs /dev/shm
		mkdir -p /run/tandem
		mount --bind '$d/etc' /etc/corosync
		mount --bind '$d/lib' /var/lib/corosync
		mount --bind '$d/log' /var/log
		" || {
		lab_die "node $i: namespaces"
		return 1
	}
	nsenter --net="$ns/switch.net" ip link add "sw$i" type veth peer \
		name eth0 netns "$ns/n$i.net" &&
		nsenter --net="$ns/switch.net" sh -c \
			"ip link set sw$i master br0 && ip link set sw$i up" &&
		nsenter --net="$ns/n$i.net" sh -c \
			"ip addr add $(lab_addr "$i")/24 dev eth0 && ip link set eth0 up" || {
		lab_die "node $i: link"
		return 1
	}
	lab_log "node $i at $(lab_addr "$i")"
}

lab_client_up() {
	local ns=$LAB_DIR/ns
	touch "$ns/client.net" "$ns/client.uts" "$LAB_DIR/pids.0"
	unshare --net="$ns/client.net" --uts="$ns/client.uts" \
		sh -ec 'hostname client; ip link set lo up' &&
		nsenter --net="$ns/switch.net" ip link add swc type veth peer \
			name eth0 netns "$ns/client.net" &&
		nsenter --net="$ns/switch.net" sh -c \
			'ip link set swc master br0 && ip link set swc up' &&
		nsenter --net="$ns/client.net" sh -c \
			"ip addr add $LAB_CLIENT_ADDR/24 dev eth0 && ip link set eth0 up"
}

# lab_down: kill what the lab started, remove namespaces and mounts, the
# directory (unless LAB_KEEP). Idempotent; safe from a trap.
lab_down() {
	local i n ns f
	[ -n "$LAB_DIR" ] && [ -d "$LAB_DIR" ] || {
		LAB_DIR=
		return 0
	}
	# what was added to the lab (ceph.bash's ceph_down) goes first
	for f in ${LAB_DOWN_HOOKS:-}; do
		"$f"
	done
	n=$(cat "$LAB_DIR/nodes" 2>/dev/null || echo "$LAB_N")
	for ((i = 0; i <= n; i++)); do
		lab_kill_node "$i" KILL
	done
	ns=$LAB_DIR/ns
	for f in "$ns"/*; do
		[ -e "$f" ] || continue
		umount "$f" 2>/dev/null || umount -l "$f" 2>/dev/null
	done
	if mountpoint -q "$ns"; then
		umount "$ns" 2>/dev/null || umount -l "$ns"
	fi
	if [ -n "${LAB_KEEP:-}" ]; then
		echo "lab: kept $LAB_DIR" >&2
	else
		rm -rf "$LAB_DIR"
	fi
	LAB_DIR=
	LAB_N=0
	trap - EXIT
	return 0
}

# node_exec I CMD...: run CMD inside node I (cwd becomes /: use absolute
# paths)
node_exec() {
	local i=$1 ns=$LAB_DIR/ns
	shift
	nsenter --net="$ns/n$i.net" --mount="$ns/n$i.mnt" --uts="$ns/n$i.uts" \
		"$@"
}

# node_bg I LOG CMD...: start CMD in node I in the background, output to
# LOG; its PID in LAB_PID
node_bg() {
	local i=$1 log=$2
	shift 2
	local ns=$LAB_DIR/ns
	# nsenter execs CMD: $! is CMD's pid (a function here would leave a
	# subshell between)
	nsenter --net="$ns/n$i.net" --mount="$ns/n$i.mnt" --uts="$ns/n$i.uts" \
		"$@" </dev/null >>"$log" 2>&1 &
	LAB_PID=$!
	# no "Killed" job reports when the lab kills it
	disown "$LAB_PID"
	lab_pid_add "$i" "$LAB_PID"
}

# client_exec CMD...: run CMD in the client namespace (10.213.0.100);
# the mount namespace is the host's, so relative paths work
client_exec() {
	nsenter --net="$LAB_DIR/ns/client.net" --uts="$LAB_DIR/ns/client.uts" "$@"
}

client_bg() {
	local log=$1
	shift
	nsenter --net="$LAB_DIR/ns/client.net" --uts="$LAB_DIR/ns/client.uts" \
		"$@" </dev/null >>"$log" 2>&1 &
	LAB_PID=$!
	# no "Killed" job reports when the lab kills it
	disown "$LAB_PID"
	lab_pid_add 0 "$LAB_PID"
}

# corosync_start I: corosync in the foreground inside node I (its log:
# LAB_DIR/nodeI/log/corosync.log, stderr in nodeI/corosync.out)
corosync_start() {
	local i=$1 d
	d=$(lab_ndir "$i")
	node_bg "$i" "$d/corosync.out" corosync -f
	echo "$LAB_PID" >"$d/corosync.pid"
	lab_log "node $i: corosync pid $LAB_PID"
}

lab_start_corosync_all() {
	local i
	for ((i = 1; i <= LAB_N; i++)); do
		corosync_start "$i"
	done
}

# corosync_kill I: SIGKILL node I's corosync
corosync_kill() {
	local i=$1 p f
	f=$(lab_ndir "$i")/corosync.pid
	p=$(cat "$f" 2>/dev/null) || return 1
	lab_alive "$p" && kill -KILL "$p"
	{ wait "$p"; } 2>/dev/null
	rm -f "$f"
	return 0
}

# node_kill I: SIGKILL every process of node I (a head crash)
node_kill() {
	lab_kill_node "$1" KILL
	rm -f "$(lab_ndir "$1")"/*.pid
}

# partition I / heal I: cut / restore node I's link (in the switch)
partition() {
	nsenter --net="$LAB_DIR/ns/switch.net" ip link set "sw$1" down
}

heal() {
	nsenter --net="$LAB_DIR/ns/switch.net" ip link set "sw$1" up
}

# quorum_info I: corosync-quorumtool -s of node I
quorum_info() {
	node_exec "$1" corosync-quorumtool -s 2>&1
}

# is_quorate I, members I: from corosync-quorumtool -s
is_quorate() {
	quorum_info "$1" | grep -q '^Quorate: *Yes'
}

members() {
	quorum_info "$1" | awk '/^Nodes:/ {print $2; f=1} END {if (!f) print 0}'
}

# cpg_members I GROUP: members of a CPG group seen by node I
cpg_members() {
	node_exec "$1" corosync-cpgtool -e 2>/dev/null |
		awk -v g="$2" '$1 == g {f=1; next} /^[^ \t]/ {f=0} f && /nodeid/ {n++}
			END {print n + 0}'
}

# lab_wait SECS CMD...: until CMD succeeds (0) or SECS pass (1); the time
# it took in LAB_WAITED (seconds, 0.1 resolution)
lab_wait() {
	local t=$1 k t0 t1
	shift
	t0=$(date +%s%N)
	for ((k = 0; k < t * 10; k++)); do
		if "$@"; then
			t1=$(date +%s%N)
			LAB_WAITED=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", (b - a) / 1e9}')
			return 0
		fi
		sleep 0.1
	done
	LAB_WAITED=$t
	return 1
}

lab_members_is() { [ "$(members "$1")" = "$2" ]; }
lab_not_quorate() { ! is_quorate "$1"; }

# wait_quorate I [SECS], wait_unquorate I [SECS], wait_members I COUNT
# [SECS]
wait_quorate() { lab_wait "${2:-15}" is_quorate "$1"; }
wait_unquorate() { lab_wait "${2:-15}" lab_not_quorate "$1"; }
wait_members() { lab_wait "${3:-15}" lab_members_is "$1" "$2"; }

# ---- Pacemaker (LABS.md: a pre-seeded cib.xml, pacemakerd in the
# foreground of the node's namespaces) ----

# pacemaker_prepare I CIB OCFDIR: node I's private /var/lib/pacemaker
# (LAB_DIR/nodeI/pcmk, its subdirectories hacluster:haclient 750, CIB as
# cib/cib.xml, mode 600) and /var/log/pacemaker, and OCFDIR (a directory
# of OCF provider directories) over /usr/lib/ocf/resource.d, all in the
# node's own mount namespace
pacemaker_prepare() {
	local i=$1 cib=$2 ocf=$3 d
	d=$(lab_ndir "$i")
	mkdir -p "$d/pcmk/cib" "$d/pcmk/pengine" "$d/pcmk/blackbox" \
		"$d/pcmk/cores" "$d/log/pacemaker"
	install -m 600 "$cib" "$d/pcmk/cib/cib.xml"
	chown -R hacluster:haclient "$d/pcmk" "$d/log/pacemaker"
	chmod 750 "$d/pcmk/cib" "$d/pcmk/pengine" "$d/pcmk/blackbox" "$d/pcmk/cores"
	node_exec "$i" sh -ec "
		mount --bind '$d/pcmk' /var/lib/pacemaker
		mount --bind '$ocf' /usr/lib/ocf/resource.d"
}

# pacemaker_start I: pacemakerd in node I (its output in
# LAB_DIR/nodeI/pacemaker.out, its log in LAB_DIR/nodeI/log/pacemaker/)
pacemaker_start() {
	local i=$1 d
	d=$(lab_ndir "$i")
	node_bg "$i" "$d/pacemaker.out" pacemakerd
	echo "$LAB_PID" >"$d/pacemaker.pid"
	lab_log "node $i: pacemakerd pid $LAB_PID"
}

# pacemaker_fence_prepare I AGENT: the lab fence agent AGENT
# (tests/cluster/fence_tandemlab) as /usr/sbin/fence_tandemlab in node I
# (a read-only overlay over /usr/sbin in its mount namespace, where
# pacemaker-fenced looks for fence_* agents), and LAB_DIR/fence/nodeJ.mnt
# for every node J: the inode of J's mount namespace handle, which the
# agent cannot see from inside a node (the handles are bind mounts of the
# host's mount namespace); its log: LAB_DIR/fence/fence.log
pacemaker_fence_prepare() {
	local i=$1 agent=$2 d j
	d=$(lab_ndir "$i")
	mkdir -p "$LAB_DIR/fence" "$d/sbin"
	for ((j = 1; j <= LAB_N; j++)); do
		stat -L -c %i "$LAB_DIR/ns/n$j.mnt" >"$LAB_DIR/fence/node$j.mnt"
	done
	install -m 755 "$agent" "$d/sbin/fence_tandemlab"
	node_exec "$i" mount -t overlay overlay -o "lowerdir=$d/sbin:/usr/sbin" /usr/sbin
}

# ---- the project's daemons ----

# lab_shared_disk [MB]: the LU's backing file, shared by every node
# (stands for shared storage): LAB_DIR/shared/disk0.img
lab_shared_disk() {
	local f=$LAB_DIR/shared/disk0.img
	[ -f "$f" ] || truncate -s "${1:-64}M" "$f"
	echo "$f"
}

# lab_tandem_conf I [NLUNS]: tandemd's configuration for head I: NLUNS
# (default 1) LUs on shared files (disk0, disk1, ...: LUN 0, 1, ...), one
# target LAB_IQN (the same name on every head) at the head's portal with
# rel_tgt_id I, a DEVICE_GROUP dg of disk0 with one TARGET_GROUP per
# head. A TARGET naming a local target must agree with its rel_tgt_id
# (alua/alua.c), so the other heads' ports are named headJ.
lab_tandem_conf() {
	local i=$1 n=${2:-1} k disk
	echo "# generated by tests/cluster/lab.sh for head $i"
	echo "HANDLER vdisk_fileio {"
	for ((k = 0; k < n; k++)); do
		disk=$(lab_shared_disk)
		if [ $k -gt 0 ]; then
			disk=$LAB_DIR/shared/disk$k.img
			[ -f "$disk" ] || truncate -s 32M "$disk"
		fi
		cat <<EOF
	DEVICE disk$k {
		filename $disk
		blocksize 512
		thin_provisioned 1
		usn 7a1d000$((k + 1))
		naa_id 0x6001405ab7a1d0001c1a50000000000$((k + 1))
	}
EOF
	done
	echo "}"
	echo
	local devs=()
	for ((k = 0; k < n; k++)); do
		devs+=("disk$k")
	done
	lab_iscsi_target "$i" "${devs[@]}"
	cat <<EOF

DEVICE_GROUP dg {
	DEVICE disk0
EOF
	lab_tgroups "$i" tg active 1
	echo "}"
}

# lab_iscsi_target I DEVICE...: the TARGET_DRIVER iscsi block of head I:
# its portal, the target LAB_IQN with rel_tgt_id I, DEVICE k as LUN k
lab_iscsi_target() {
	local i=$1 k=0 d
	shift
	cat <<EOF
TARGET_DRIVER iscsi {
	enabled 1
	portal $(lab_addr "$i"):$LAB_PORT

	TARGET $LAB_IQN {
		enabled 1
		rel_tgt_id $i
EOF
	for d in "$@"; do
		echo "		LUN $k $d"
		k=$((k + 1))
	done
	echo "	}"
	echo "}"
}

# lab_tgroups I PREFIX STATE [PREF]: the TARGET_GROUP blocks of a
# DEVICE_GROUP in head I's configuration, one per head J (PREFIXJ,
# group_id J, STATE; head PREF's preferred): head I's names its own
# target, the others name their head's port by rel_tgt_id
lab_tgroups() {
	local i=$1 p=$2 st=$3 pref=${4:-0} j
	for ((j = 1; j <= LAB_N; j++)); do
		echo "	TARGET_GROUP $p$j {"
		echo "		group_id $j"
		[ "$j" = "$pref" ] && echo "		preferred 1"
		echo "		state $st"
		if [ "$j" = "$i" ]; then
			echo "		TARGET $LAB_IQN"
		else
			echo "		TARGET head$j {"
			echo "			rel_tgt_id $j"
			echo "		}"
		fi
		echo "	}"
	done
}

# tandemd_start I [CONF] [extra args]: tandemd in the foreground in node
# I (CONF default: lab_tandem_conf I written to LAB_DIR/nodeI/tandem.conf);
# its output in LAB_DIR/nodeI/tandemd.log. Set TANDEMD_AGENT_OPT= (empty)
# to start it without an agent.
tandemd_start() {
	local i=$1 conf=${2:-} d
	shift
	[ $# -gt 0 ] && shift
	d=$(lab_ndir "$i")
	if [ -z "$conf" ]; then
		conf=$d/tandem.conf
		lab_tandem_conf "$i" >"$conf"
	fi
	mkdir -p "$d/state"
	local agent=()
	[ -n "$TANDEMD_AGENT_OPT" ] && agent=("$TANDEMD_AGENT_OPT" "$LAB_AGENT_SOCK")
	node_bg "$i" "$d/tandemd.log" env TANDEM_STATE_DIR="$d/state" \
		"$TANDEMD" -f -c "$conf" -s "$LAB_CTL_SOCK" "${agent[@]}" "$@"
	echo "$LAB_PID" >"$d/tandemd.pid"
	lab_log "node $i: tandemd pid $LAB_PID"
}

# agentd_start I [extra args]: tandem-agentd in the foreground in node I
# (LAB_AGENTD_FENCING first, then the extra args),
# output in LAB_DIR/nodeI/agentd.log, its state (blackbox dumps) in
# LAB_DIR/nodeI/state
agentd_start() {
	local i=$1 d fo
	shift
	d=$(lab_ndir "$i")
	mkdir -p "$d/state"
	read -ra fo <<<"$LAB_AGENTD_FENCING"
	node_bg "$i" "$d/agentd.log" env TANDEM_STATE_DIR="$d/state" \
		"$AGENTD" -f -s "$LAB_AGENT_SOCK" "${fo[@]}" "$@"
	echo "$LAB_PID" >"$d/agentd.pid"
	lab_log "node $i: agentd pid $LAB_PID"
}

# daemon_kill I NAME [SIG]: NAME = tandemd | agentd | corosync
daemon_kill() {
	local f p
	f=$(lab_ndir "$1")/$2.pid
	p=$(cat "$f" 2>/dev/null) || return 1
	lab_alive "$p" && kill -"${3:-KILL}" "$p"
	{ wait "$p"; } 2>/dev/null
	rm -f "$f"
	return 0
}

# lab_blackbox I NAME: make NAME (tandemd | agentd) of node I write its
# blackbox (SIGUSR1, lib/log.h) and print the dump's path (in
# LAB_DIR/nodeI/state; a dump appears whole); 1 when none came in 10 s
lab_blackbox() {
	local d p ident n0 k f
	d=$(lab_ndir "$1")
	p=$(cat "$d/$2.pid" 2>/dev/null) || return 1
	ident=$2
	[ "$2" = agentd ] && ident=tandem-agentd
	n0=$(find "$d/state" -maxdepth 1 -name "blackbox-$ident-$p-*" 2>/dev/null | wc -l)
	kill -USR1 "$p" 2>/dev/null || return 1
	for ((k = 0; k < 100; k++)); do
		f=$(find "$d/state" -maxdepth 1 -name "blackbox-$ident-$p-*" -printf '%T@ %p\n' 2>/dev/null | sort -n)
		if [ -n "$f" ] && [ "$(wc -l <<<"$f")" -gt "$n0" ]; then
			tail -1 <<<"$f" | cut -d' ' -f2-
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# daemon_alive I NAME
daemon_alive() {
	local p
	p=$(cat "$(lab_ndir "$1")/$2.pid" 2>/dev/null) || return 1
	lab_alive "$p"
}

# wait_portal I [SECS]: until head I's portal accepts a TCP connection
# from the client namespace
lab_portal_open() {
	client_exec bash -c "exec 3<>/dev/tcp/$(lab_addr "$1")/$LAB_PORT" 2>/dev/null
}
wait_portal() { lab_wait "${2:-20}" lab_portal_open "$1"; }

# lab_url I [LUN]: the iSCSI URL of head I's LU
lab_url() { echo "iscsi://$(lab_addr "$1"):$LAB_PORT/$LAB_IQN/${2:-0}"; }

# scsi_client I [scsitool options] COMMAND [ARGS]: scsitool from the
# client namespace against head I's LU, e.g.
#   scsi_client 1 -i iqn.2026-11.org.tandem:a --retry-ua read-keys
scsi_client() {
	local i=$1 opts=()
	shift
	while [ $# -gt 0 ] && [ "${1#-}" != "$1" ]; do
		case $1 in
		-i | -I | -t | -b) opts+=("$1" "$2"); shift 2 ;;
		*) opts+=("$1"); shift ;;
		esac
	done
	client_exec "$SCSITOOL" "${opts[@]}" "$(lab_url "$i")" "$@"
}
