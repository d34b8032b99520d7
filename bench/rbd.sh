#!/bin/bash
# rbd.sh - what Ceph costs (issue 17): one head of the cluster lab
# (tests/cluster/lab.sh) exports a vdisk_rbd LU on the lab's real Ceph
# cluster (tests/cluster/ceph.bash: one mon, one mgr, NOSD bluestore OSDs
# on sparse files, pool rbd of size 3) and vdisk_fileio LUs on a file of
# the same filesystem as the OSDs' block files; bench/iscsi_load drives
# each LU from the lab's client namespace with the same workloads, in
# turn, REPS times (round-robin: repetition, workload, LU). Not a CI step.
#
#   sudo flock /tmp/tandem-test.lock bench/rbd.sh [OUT=DIR]
#
# LUs (LUN 0.. of one target on head 1):
#   file     vdisk_fileio, default attributes (the page cache: WCE=1)
#   file_wt  vdisk_fileio write_through=1 (O_DSYNC: every write stable,
#            WCE=0, as an RBD write is acknowledged once on every replica)
#   rbd      vdisk_rbd on image rbd/bench (layering only, no client cache)
# Workloads (name bs rw pattern qd): randwrite4k 4k write random 32,
# randread4k 4k read random 32, write1m 1m write seq QD_SEQ, read1m 1m
# read seq QD_SEQ; one session, one client thread. Every LU is prefilled
# (1 MiB sequential writes over SIZE) before the runs, so that reads find
# written blocks (an unwritten RBD object reads as zeros without a disk
# read).
#
# Output: each run as it ends, then a Markdown table per LU and workload:
# the median of the REPS runs (IOPS, MB/s, p50, p99) with the lowest and
# highest IOPS, the CPU (percent of one core, medians) of tandemd, of the
# Ceph daemons together (mon, mgr, OSDs) and of the client, and the
# ratio rbd / file and rbd / file_wt of the median IOPS. Every JSON
# result is kept in OUT (default: a new directory under /tmp).
# Speed is reported, never asserted: exit 1 only when a run had errors or
# something did not start.
#
# Environment: TANDEMD (default build-rel/targetd/tandemd, else
# targetd/tandemd), ISCSI_LOAD (default build-rel/bench/iscsi_load, else
# bench/iscsi_load), SIZE (the LUs and the range, default 512M), DURATION
# (20), WARMUP (3), REPS (3), QD_SEQ (8), LUS (file file_wt rbd), JOBS
# (randwrite4k randread4k write1m read1m), NOSD (3), OUT, LAB_KEEP=1.
set -u
cd "$(dirname "$0")/.." || exit 1
SRC=$(pwd)
pick() { # the first executable of the arguments
	local f
	for f in "$@"; do
		[ -x "$f" ] && { echo "$f"; return 0; }
	done
	echo "$1"
}
: "${TANDEMD:=$(pick "$SRC/build-rel/targetd/tandemd" "$SRC/targetd/tandemd")}"
: "${ISCSI_LOAD:=$(pick "$SRC/build-rel/bench/iscsi_load" "$SRC/bench/iscsi_load")}"
: "${SIZE:=512M}"
: "${DURATION:=20}"
: "${WARMUP:=3}"
: "${REPS:=3}"
: "${QD_SEQ:=8}"
: "${LUS:=file file_wt rbd}"
: "${JOBS:=randwrite4k randread4k write1m read1m}"
: "${NOSD:=3}"
export TANDEMD
export TANDEMD_AGENT_OPT=''
for v in DURATION WARMUP REPS QD_SEQ NOSD; do
	[[ ${!v} =~ ^[0-9]+$ ]] && [ "${!v}" -gt 0 ] || { echo "rbd.sh: $v must be a positive integer" >&2; exit 2; }
done
for v in "$@"; do
	case $v in
	OUT=*) OUT=${v#OUT=} ;;
	*) echo "usage: $0 [OUT=DIR]" >&2; exit 2 ;;
	esac
done
[ "$(id -u)" = 0 ] || { echo "rbd.sh: needs root (namespaces)" >&2; exit 2; }
[ -x "$TANDEMD" ] || { echo "rbd.sh: no tandemd at $TANDEMD (build first)" >&2; exit 2; }
[ -x "$ISCSI_LOAD" ] || { echo "rbd.sh: no iscsi_load at $ISCSI_LOAD (needs libiscsi-dev)" >&2; exit 2; }
ldd "$TANDEMD" | grep -q librbd || { echo "rbd.sh: $TANDEMD was built without librbd" >&2; exit 2; }
command -v jq >/dev/null || "$SRC/scripts/apt-install.sh" jq || exit 2
: "${OUT:=$(mktemp -d /tmp/tandem-rbdbench.XXXXXX)}"
mkdir -p "$OUT" || exit 2
SIZE_B=$(numfmt --from=iec "$SIZE") || exit 2

. tests/cluster/lab.sh
. tests/cluster/ceph.bash
. bench/rbd.bash
FAILED=0
T0=$(date +%s)
say() { echo "[$(($(date +%s) - T0)) s] $*"; }

lun_of() { # LU: its LUN
	local k=0 l
	for l in $LUS; do
		[ "$l" = "$1" ] && { echo $k; return 0; }
		k=$((k + 1))
	done
	return 1
}
for j in $JOBS; do rbd_job_args "$j" >/dev/null || { echo "rbd.sh: unknown job $j" >&2; exit 2; }; done
for l in $LUS; do
	case $l in file | file_wt | rbd) ;; *) echo "rbd.sh: unknown LU $l" >&2; exit 2 ;; esac
done

conf() { # head 1's configuration
	local l k=0 any_file=0
	for l in $LUS; do [ "$l" != rbd ] && any_file=1; done
	if [ $any_file = 1 ]; then
		echo "HANDLER vdisk_fileio {"
		for l in $LUS; do
			[ "$l" = rbd ] && continue
			echo "	DEVICE $l {"
			echo "		filename $LAB_DIR/shared/$l.img"
			[ "$l" = file_wt ] && echo "		write_through 1"
			echo "	}"
		done
		echo "}"
	fi
	case " $LUS " in
	*" rbd "*)
		cat <<EOF
HANDLER vdisk_rbd {
	DEVICE rbd {
		pool $CEPH_POOL
		image bench
		ceph_conf $CEPH_CONF
		ceph_id tandem
	}
}
EOF
		;;
	esac
	cat <<EOF
TARGET_DRIVER iscsi {
	enabled 1
	portal $(lab_addr 1):$LAB_PORT
$(rbd_iscsi_keys)
	TARGET $LAB_IQN {
		enabled 1
EOF
	for l in $LUS; do
		echo "		LUN $k $l"
		k=$((k + 1))
	done
	echo "	}"
	echo "}"
}

cpu_ticks() { # PID...: utime + stime of each, summed (live ones)
	local p s=0 t
	for p in "$@"; do
		t=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null) || continue
		s=$((s + t))
	done
	echo "$s"
}

lab_up 1 || exit 1
say "lab up; Ceph: $NOSD OSDs of $CEPH_OSD_SIZE (sparse files under $LAB_DIR/ceph/osd)"
ceph_up "$NOSD" || { echo "FAIL: ceph_up"; exit 1; }
say "Ceph up and clean in $CEPH_UP_SECONDS s"
{
	echo "date: $(date -u '+%F %T') UTC"
	echo "host: $(nproc) CPUs, $(awk '/MemTotal/ {print $2 / 1048576 " GiB"}' /proc/meminfo), $(uname -r)"
	grep -m1 'model name' /proc/cpuinfo
	echo "tandemd: $TANDEMD ($(git -C "$SRC" rev-parse --short HEAD 2>/dev/null))"
	echo "ceph: $(ceph-osd --version 2>/dev/null | head -1)"
	echo "filesystem of the OSDs and the files: $(df -T "$LAB_DIR" | awk 'NR == 2 {print $1, $2}')"
	echo "SIZE=$SIZE DURATION=$DURATION WARMUP=$WARMUP REPS=$REPS QD_SEQ=$QD_SEQ NOSD=$NOSD"
	echo "LUS=$LUS JOBS=$JOBS"
} | tee "$OUT/machine.txt"
case " $LUS " in
*" rbd "*)
	ceph_exec rbd create --size "$((SIZE_B / 1048576))M" --image-feature layering "$CEPH_POOL/bench" ||
		{ echo "FAIL: rbd create"; exit 1; }
	ceph_exec ceph osd pool get "$CEPH_POOL" size | tee -a "$OUT/machine.txt"
	;;
esac
for l in $LUS; do
	[ "$l" = rbd ] || truncate -s "$SIZE_B" "$LAB_DIR/shared/$l.img"
done
d=$(lab_ndir 1)
conf >"$d/bench.conf"
cp "$d/bench.conf" "$OUT/tandem.conf"
tandemd_start 1 "$d/bench.conf"
TPID=$LAB_PID
wait_portal 1 60 || { echo "FAIL: tandemd does not listen: $(tail -5 "$d/tandemd.log")"; exit 1; }
say "tandemd pid $TPID serves LUs: $LUS"
CEPH_PIDS=$(cat "$CEPH_DIR"/*.pid)
HZ=$(getconf CLK_TCK)

url() { lab_url 1 "$(lun_of "$1")"; }

for l in $LUS; do
	if client_exec "$ISCSI_LOAD" --url "$(url "$l")" --bs 1m --qd 8 --pattern seq \
		--rw write --prefill --duration 0 --json >"$OUT/prefill-$l.json" 2>"$OUT/prefill-$l.err"; then
		say "prefill $l: $SIZE in $(jq -r .prefill_s "$OUT/prefill-$l.json") s"
	else
		say "FAIL: prefill $l: $(tail -3 "$OUT/prefill-$l.err")"
		FAILED=$((FAILED + 1))
	fi
done

# one_run LU JOB ROUND: one measured run, its JSON and CPU figures in
# OUT/LU-JOB-ROUND.json and .cpu, its line
one_run() {
	local l=$1 j=$2 r=$3 f a rc t0 t1 c0 c1 w0 w1
	f=$OUT/$l-$j-$r
	read -ra a <<<"$(rbd_job_args "$j")"
	t0=$(cpu_ticks "$TPID")
	# shellcheck disable=SC2086
	c0=$(cpu_ticks $CEPH_PIDS)
	w0=$(date +%s%N)
	client_exec "$ISCSI_LOAD" --url "$(url "$l")" "${a[@]}" \
		--duration "$DURATION" --warmup "$WARMUP" --range "$SIZE_B" \
		--json >"$f.json" 2>"$f.err"
	rc=$?
	w1=$(date +%s%N)
	t1=$(cpu_ticks "$TPID")
	# shellcheck disable=SC2086
	c1=$(cpu_ticks $CEPH_PIDS)
	# CPU over the whole run (warmup included), percent of a core
	awk -v t="$((t1 - t0))" -v c="$((c1 - c0))" -v w="$((w1 - w0))" -v hz="$HZ" \
		'BEGIN {s = w / 1e9; printf "{\"tandemd_pct\": %.1f, \"ceph_pct\": %.1f}\n",
		t / hz / s * 100, c / hz / s * 100}' >"$f.cpu"
	if [ "$rc" != 0 ] || [ "$(jq -r .errors.total "$f.json" 2>/dev/null)" != 0 ]; then
		say "FAIL: $l $j run $r: rc=$rc $(tail -2 "$f.err" | tr '\n' ' ')"
		FAILED=$((FAILED + 1))
		return
	fi
	say "$(printf '%-8s %-12s run %d: %8.0f IOPS %8.1f MB/s p50 %7.0f us p99 %7.0f us, tandemd %s%%, ceph %s%%, client %s%%' \
		"$l" "$j" "$r" "$(jq -r .total.iops "$f.json")" "$(jq -r .total.mbps "$f.json")" \
		"$(jq -r .total.lat_us.p50 "$f.json")" "$(jq -r .total.lat_us.p99 "$f.json")" \
		"$(jq -r .tandemd_pct "$f.cpu")" "$(jq -r .ceph_pct "$f.cpu")" \
		"$(jq -r .client_cpu_pct "$f.json")")"
}

rbd_rounds one_run
lab_alive "$TPID" || { echo "FAIL: tandemd died: $(tail -5 "$d/tandemd.log")"; FAILED=$((FAILED + 1)); }
cp "$d/tandemd.log" "$OUT/" 2>/dev/null
cp "$CEPH_DIR/log/ceph.log" "$OUT/" 2>/dev/null

{
	rbd_table "$OUT" "$LUS" "$JOBS" "tandemd %:cpu:.tandemd_pct" \
		"Ceph daemons %:cpu:.ceph_pct" "client %:json:.client_cpu_pct"
	echo
	echo "| job | rbd / file IOPS | rbd / file_wt IOPS |"
	echo "|---|--:|--:|"
	for j in $JOBS; do
		ratio() { [ -s "$OUT/med-rbd-$j" ] && [ -s "$OUT/med-$1-$j" ] &&
			awk -v a="$(cut -d' ' -f1 "$OUT/med-rbd-$j")" -v b="$(cut -d' ' -f1 "$OUT/med-$1-$j")" \
				'BEGIN {if (b > 0) printf "%.3f", a / b; else printf "-"}' || printf -- -; }
		echo "| $j | $(ratio file) | $(ratio file_wt) |"
	done
} | tee "$OUT/results.md"
say "done; results in $OUT ($FAILED failed)"
[ "$FAILED" = 0 ]
