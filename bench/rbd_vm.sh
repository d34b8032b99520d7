#!/bin/bash
# rbd_vm.sh - is the user-space path competitive (issue 17): in ONE guest
# of the VM lab (tests/vm/build.sh kernel, TCG, one vCPU), running inside
# the cluster lab's client namespace so that it reaches the lab's real
# Ceph cluster (tests/cluster/ceph.bash) through qemu's user network,
# tandemd exports two images of the same pool:
#   krbd  image rbd/krbd mapped by the guest's kernel (rbd.ko, written to
#         /sys/bus/rbd/add_single_major), /dev/rbd0 exported with
#         vdisk_blockio (O_DIRECT, io_uring)
#   librbd image rbd/librbd exported with vdisk_rbd (librbd in tandemd)
# Both LUs are LUNs of one target of that one tandemd; bench/iscsi_load
# drives them from the host (the client namespace, through a hostfwd of
# a third user-mode NIC), so the initiator's CPU is not the guest's.
# Workloads as bench/rbd.sh (4 KiB random write/read QD 32, 1 MiB
# sequential write/read QD_SEQ), REPS rounds of (workload, LU). Each
# run also reads the guest's /proc/stat and tandemd's /proc/PID/stat
# before and after: the guest's busy CPU and tandemd's, and the guest's
# CPU time per I/O (the figure to compare: the vCPU is the limit under
# TCG).
#
#   cd build-rel && ../configure -q && make -j2 && cd ..    # no sanitizers
#   sudo flock /tmp/tandem-test.lock bench/rbd_vm.sh [OUT=DIR]
#
# Speed is reported, never asserted ("N passed, N failed" counts the
# steps and runs). Environment: TANDEMD (build-rel/targetd/tandemd),
# ISCSI_LOAD (build-rel/bench/iscsi_load), SIZE_MB (256), DURATION (15),
# WARMUP (3), REPS (2), QD_SEQ (8), JOBS, LUS (krbd librbd), VM_MEM
# (1536), VM_CACHE, OUT, LAB_KEEP=1.
set -u
cd "$(dirname "$0")/.." || exit 1
: "${TANDEMD:=$PWD/build-rel/targetd/tandemd}"
: "${ISCSI_LOAD:=$PWD/build-rel/bench/iscsi_load}"
: "${SIZE_MB:=256}"
: "${DURATION:=15}"
: "${WARMUP:=3}"
: "${REPS:=2}"
: "${QD_SEQ:=8}"
: "${JOBS:=randwrite4k randread4k write1m read1m}"
: "${LUS:=krbd librbd}"
: "${VM_MEM:=1536}"
OUT=${OUT:-}
for v in "$@"; do
	case $v in
	OUT=*) OUT=${v#OUT=} ;;
	*) echo "usage: $0 [OUT=DIR]" >&2; exit 2 ;;
	esac
done
[ -x "$TANDEMD" ] || { echo "rbd_vm: $TANDEMD not built (a release build)" >&2; exit 2; }
[ -x "$ISCSI_LOAD" ] || { echo "rbd_vm: $ISCSI_LOAD not built (libiscsi-dev)" >&2; exit 2; }
ldd "$TANDEMD" | grep -q librbd || { echo "rbd_vm: $TANDEMD was built without librbd" >&2; exit 2; }
. tests/vm/solo.bash
. tests/cluster/ceph.bash
. bench/vm_bench.bash
. bench/rbd.bash
vmb_whole rbd_vm SIZE_MB DURATION WARMUP REPS QD_SEQ VM_MEM
command -v jq >/dev/null || scripts/apt-install.sh jq >/dev/null || exit 1
SOLO_TITLE="rbd_vm"
SOLO_DUMP='dmesg | tail -30; [ -f /tmp/tandemd.log ] && tail -20 /tmp/tandemd.log'
[ -n "$OUT" ] || OUT=$(mktemp -d /tmp/tandem-rbdvm.XXXXXX)
mkdir -p "$OUT" || exit 1
PORT=13260
IQN=iqn.2026-12.org.tandem:rbdvm

lun_of() {
	case $1 in krbd) echo 0 ;; librbd) echo 1 ;; *) return 1 ;; esac
}
for j in $JOBS; do rbd_job_args "$j" >/dev/null || { echo "rbd_vm: unknown job $j" >&2; exit 2; }; done
for l in $LUS; do lun_of "$l" >/dev/null || { echo "rbd_vm: unknown LU $l" >&2; exit 2; }; done

echo "== the guest (build.sh kernel) and the lab's Ceph cluster"
solo_guest kernel "$TANDEMD"
ceph_up 3 || { ko "ceph_up failed"; finish; }
ok "Ceph up and clean in $CEPH_UP_SECONDS s (3 OSDs, pool $CEPH_POOL size $(ceph_exec ceph osd pool get "$CEPH_POOL" size | awk '{print $2}'))"
for l in krbd librbd; do
	ceph_exec rbd create --size "${SIZE_MB}M" --image-feature layering "$CEPH_POOL/$l" ||
		{ ko "rbd create $l"; finish; }
done
ok "images $CEPH_POOL/krbd and $CEPH_POOL/librbd ($SIZE_MB MiB, layering only)"
KEY=$(awk '$1 == "key" {print $3}' "$CEPH_KEYRING_TANDEM")
[ -n "$KEY" ] || { ko "no key in $CEPH_KEYRING_TANDEM"; finish; }

# the guest's extra files: tandemd, its configuration, Ceph's client
# configuration and key, and rbd.ko with what it needs (from the kernel
# build.sh unpacked)
X=$LAB_DIR/rbdvm
mkdir -p "$X/files/bin" "$X/files/etc/ceph" "$X/files/etc/tandem"
install -m 755 "$TANDEMD" "$X/files/bin/tandemd"
kver=$(cat "$VM_GUEST/kver")
kroot=${VM_CACHE:-/var/cache/tandem-vm}/kernel-$kver
have=$({ zcat "$VM_GUEST/initrd.gz" | cpio -t --quiet; zcat "$VM_EXTRAS" | cpio -t --quiet; } 2>/dev/null)
: >"$X/files/modules.rbd"
while read -r m; do
	rel=${m#"$kroot"}
	grep -qxF ".$rel" <<<"$have" || grep -qxF "${rel#/}" <<<"$have" && continue
	mkdir -p "$(dirname "$X/files$rel")"
	cp "$m" "$X/files$rel"
	echo "$rel" >>"$X/files/modules.rbd"
done < <(modprobe -d "$kroot" -S "$kver" --show-depends rbd | awk '$1 == "insmod" {print $2}')
[ -s "$X/files/modules.rbd" ] || { ko "rbd.ko not found under $kroot"; finish; }
cat >"$X/files/etc/ceph/ceph.conf" <<EOF
[global]
mon_host = [v2:$CEPH_MON_ADDR:3300,v1:$CEPH_MON_ADDR:6789]
auth_cluster_required = cephx
auth_service_required = cephx
auth_client_required = cephx
[client]
keyring = /etc/ceph/keyring
log_to_file = false
log_file =
admin_socket =
EOF
printf '[client.tandem]\n\tkey = %s\n' "$KEY" >"$X/files/etc/ceph/keyring"
cat >"$X/files/etc/tandem/bench.conf" <<EOF
HANDLER vdisk_blockio {
	DEVICE krbd {
		filename /dev/rbd0
	}
}
HANDLER vdisk_rbd {
	DEVICE librbd {
		pool $CEPH_POOL
		image librbd
		ceph_conf /etc/ceph/ceph.conf
		ceph_id tandem
		ceph_keyring /etc/ceph/keyring
	}
}
TARGET_DRIVER iscsi {
	enabled 1
	portal 10.0.4.15:3260
$(rbd_iscsi_keys)
	TARGET $IQN {
		enabled 1
		LUN 0 krbd
		LUN 1 librbd
	}
}
EOF
(cd "$X/files" && find . | cpio -o -H newc --quiet | gzip -1) >"$X.gz" || { ko "the guest's archive"; finish; }
VM_INITRD_EXTRA=("$X.gz")
# a third user-mode NIC: the host side's iSCSI reaches the guest's
# tandemd through its hostfwd (bound in the client namespace)
VM_QEMU_EXTRA=(-netdev "user,id=pc,net=10.0.4.0/24,hostfwd=tcp:127.0.0.1:$PORT-10.0.4.15:3260"
	-device 'virtio-net-pci,netdev=pc,romfile=')
solo_boot "TCG, 1 vCPU, $VM_MEM MiB"
gstep "kernel, tandemd" 20 "uname -r; tandemd --version 2>&1 | head -1; true"
FIG+=("guest kernel $(sed -n 1p <<<"$VM_OUT"), host qemu $(qemu-system-x86_64 --version | head -1 | awk '{print $4}')")
gstep "eth2 10.0.4.15; the lab (10.213.0.0/24) through eth0's slirp; rbd.ko loaded" 60 \
	"ip addr add 10.0.4.15/24 dev eth2 && ip link set eth2 up &&
	 ip route add $LAB_NET.0/24 via 10.0.2.2 dev eth0 &&
	 while read -r m; do insmod \$m || exit 1; done </modules.rbd; ls /sys/bus/rbd"
gstep "krbd maps $CEPH_POOL/krbd as /dev/rbd0" 120 \
	"echo '$CEPH_MON_ADDR:6789 name=tandem,secret=$KEY $CEPH_POOL krbd -' >/sys/bus/rbd/add_single_major || exit 1
	 n=0; while [ ! -b /dev/rbd0 ] && [ \$n -lt 50 ]; do n=\$((n + 1)); sleep 0.2; done
	 [ -b /dev/rbd0 ] && cat /sys/block/rbd0/size /sys/block/rbd0/queue/nr_requests 2>/dev/null; dmesg | grep -E 'rbd|libceph' | tail -5; [ -b /dev/rbd0 ]"
gstep "tandemd serves krbd (vdisk_blockio /dev/rbd0) and librbd (vdisk_rbd)" 120 \
	"mkdir -p /run/tandem; setsid tandemd -f -c /etc/tandem/bench.conf -s /run/tandem/tandemd.sock \
		</dev/null >/tmp/tandemd.log 2>&1 & echo \$! >/tmp/tandemd.pid
	 n=0; while ! grep -q ' ready (' /tmp/tandemd.log && [ \$n -lt 300 ]; do
		pidof tandemd >/dev/null || { tail -20 /tmp/tandemd.log; exit 1; }
		n=\$((n + 1)); sleep 0.2; done
	 grep -q ' ready (' /tmp/tandemd.log || { tail -20 /tmp/tandemd.log; exit 1; }
	 echo tandemd_pid=\$(pidof tandemd); cat /proc/net/tcp | head -3"
TP=$(kv tandemd_pid "$VM_OUT")

url() { echo "iscsi://127.0.0.1:$PORT/$IQN/$(lun_of "$1")"; }
# the guest's counters: cpu (total jiffies, idle+iowait) and tandemd's
# utime + stime
STAT="awk '/^cpu / {t = 0; for (i = 2; i <= NF; i++) t += \$i; print t, \$5 + \$6}' /proc/stat; awk '{print \$14 + \$15}' /proc/$TP/stat"
# shellcheck disable=SC2317 # called by one_run, through rbd_rounds
counters() { vm_run 20 "$STAT" && tr '\n' ' ' <<<"$VM_OUT"; }

for l in $LUS; do
	t0=$(date +%s%N)
	if client_exec "$ISCSI_LOAD" --url "$(url "$l")" --bs 1m --qd 8 --pattern seq --rw write \
		--prefill --duration 0 --json >"$OUT/prefill-$l.json" 2>"$OUT/prefill-$l.err"; then
		ok "prefill $l: $SIZE_MB MiB in $(jq -r .prefill_s "$OUT/prefill-$l.json") s"
	else
		ko "prefill $l: $(tail -3 "$OUT/prefill-$l.err" | tr '\n' ' ')"
	fi
done

# one_run LU JOB ROUND: one measured run, its JSON and CPU figures in
# OUT/LU-JOB-ROUND.json and .cpu, its line (ok or ko)
# shellcheck disable=SC2317 # called through rbd_rounds
one_run() {
	local l=$1 j=$2 r=$3 f a rc c0 c1 iops
	f=$OUT/$l-$j-$r
	read -ra a <<<"$(rbd_job_args "$j")"
	c0=$(counters)
	client_exec "$ISCSI_LOAD" --url "$(url "$l")" "${a[@]}" --duration "$DURATION" \
		--warmup "$WARMUP" --range "$((SIZE_MB * 1048576))" --json >"$f.json" 2>"$f.err"
	rc=$?
	c1=$(counters)
	# guest busy %, tandemd %, guest CPU us per I/O, tandemd us
	# per I/O (jiffies 1/100 s; the counters span warmup + run,
	# the I/Os at the measured rate over the same span)
	iops=$(jq -r .total.iops "$f.json" 2>/dev/null)
	awk -v iops="${iops:-0}" '{d = $4 - $1; if (d <= 0) d = 1; busy = d - ($5 - $2)
		n = iops * d / 100; if (n <= 0) n = 1
		printf "{\"guest_busy_pct\": %.1f, \"tandemd_pct\": %.1f, \"guest_us_per_io\": %.1f, \"tandemd_us_per_io\": %.1f}\n",
			100 * busy / d, 100 * ($6 - $3) / d, busy * 1e4 / n, ($6 - $3) * 1e4 / n}' \
		<<<"$c0 $c1" >"$f.cpu"
	if [ "$rc" != 0 ] || [ "$(jq -r .errors.total "$f.json" 2>/dev/null)" != 0 ]; then
		ko "$l $j run $r: rc=$rc $(tail -2 "$f.err" | tr '\n' ' ')"
		rm -f "$f.cpu"
		return
	fi
	ok "$(printf '%-7s %-12s run %d: %7.0f IOPS %7.1f MB/s p50 %7.0f us p99 %7.0f us; guest busy %s%%, tandemd %s%%; CPU per I/O: guest %s us, tandemd %s us' \
		"$l" "$j" "$r" "$iops" "$(jq -r .total.mbps "$f.json")" \
		"$(jq -r .total.lat_us.p50 "$f.json")" "$(jq -r .total.lat_us.p99 "$f.json")" \
		"$(jq -r .guest_busy_pct "$f.cpu")" "$(jq -r .tandemd_pct "$f.cpu")" \
		"$(jq -r .guest_us_per_io "$f.cpu")" "$(jq -r .tandemd_us_per_io "$f.cpu")")"
}

rbd_rounds one_run
vm_run 20 "cat /tmp/tandemd.log | tail -20" && cp /dev/null "$OUT/tandemd.log" && printf '%s\n' "$VM_OUT" >"$OUT/tandemd.log"

{
	rbd_table "$OUT" "$LUS" "$JOBS" "guest busy %:cpu:.guest_busy_pct" "tandemd %:cpu:.tandemd_pct" \
		"CPU us/IO guest:cpu:.guest_us_per_io" "CPU us/IO tandemd:cpu:.tandemd_us_per_io"
	echo
	echo "| job | librbd / krbd IOPS | CPU per I/O librbd / krbd (guest) |"
	echo "|---|--:|--:|"
	for j in $JOBS; do
		if [ -s "$OUT/med-librbd-$j" ] && [ -s "$OUT/med-krbd-$j" ]; then
			read -r ui _ _ uc _ <"$OUT/med-librbd-$j"
			read -r ki _ _ kc _ <"$OUT/med-krbd-$j"
			awk -v a="$ui" -v b="$ki" -v c="$uc" -v d="$kc" -v j="$j" \
				'BEGIN {printf "| %s | %.3f | %.2f |\n", j, (b > 0 ? a / b : 0), (d > 0 ? c / d : 0)}'
		fi
	done
} | tee "$OUT/results.md"
FIG+=("results: $OUT/results.md")
finish
