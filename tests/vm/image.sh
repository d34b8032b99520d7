#!/bin/bash
# shellcheck disable=SC2016 # the scripts given to run expand in the guest
# tests/vm/image.sh - CI step "image": build the appliance image
# (images/build.sh, from Debian's packages: a fresh machine downloads
# them, a rerun takes them from VM_CACHE), boot it in qemu (TCG) with a
# demo LU, and check from the host that it is a working head:
#   - systemd reached multi-user and no unit failed
#   - tandemd is active through Type=notify (READY=1 came: StatusText),
#     its watchdog armed (WatchdogUSec, WatchdogTimestamp)
#   - systemd-analyze verify of the units, systemd-analyze security's
#     exposure of tandemd (a figure, below 5 required)
#   - an iSCSI login, INQUIRY (iscsi-inq), a write and a read back
#     (scsitool) through a qemu hostfwd to the guest's 3260
#   - a reload (SIGHUP: RELOADING=1 then READY=1, the epoch moves)
#   - a stuck tandemd (SIGSTOP) killed by the watchdog, its blackbox
#     written, restarted (WatchdogSec shortened to 4 s by a drop-in)
#   - tandem-setup --dry-run inside the image
#   - a clean power-off
# The control channel is tests/vm/guest/vmctl on the guest's second
# serial port, run by a unit this test adds to its copy of the image.
# Figures: build, boot to the control channel, boot to tandemd active.
set -uo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
: "${VM_CACHE:=/var/cache/tandem-vm}"
work=$(mktemp -d /tmp/tandem-image-test.XXXXXX)
qpid=
mnt=
fails=0
checks=0
ok() { checks=$((checks + 1)); echo "ok: $*"; }
ko() { checks=$((checks + 1)); fails=$((fails + 1)); echo "FAIL: $*"; }
cleanup() {
	[ -n "$qpid" ] && kill "$qpid" 2>/dev/null && sleep 1
	[ -n "$mnt" ] && mountpoint -q "$mnt" && umount "$mnt"
	rm -rf "$work"
}
trap cleanup EXIT
secs() { awk -v a="$1" -v b="$(date +%s%N)" 'BEGIN {printf "%.1f", (b - a) / 1e9}'; }

"$src/scripts/deps.sh" image >/dev/null || { echo "FAIL: dependencies"; exit 1; }

# 1. the image
t0=$(date +%s%N)
if ! "$src/images/build.sh" -o "$work/out" -c "$VM_CACHE/image" -s 2048; then
	echo "FAIL: images/build.sh"
	exit 1
fi
build_s=$(secs "$t0")
out=$work/out
ok "image built in $build_s s ($(cat "$out/build-times.txt"))"
scsitool=${SCSITOOL:-$out/build/tests/cluster/scsitool}

# 2. this test's copy: a demo LU, the control channel
cp --sparse=always "$out/tandem-head.raw" "$work/head.raw"
rm -f "$out/tandem-head.raw"
mnt=$work/mnt
mkdir -p "$mnt"
mount -o loop "$work/head.raw" "$mnt" || { echo "FAIL: cannot mount the image's copy"; exit 1; }
iqn=iqn.2026-12.org.tandem:image-test
mkdir -p "$mnt/srv/tandem"
truncate -s 256M "$mnt/srv/tandem/demo.img"
cat >"$mnt/etc/tandem/tandem.conf" <<EOF
HANDLER vdisk_fileio {
	DEVICE demo {
		filename /srv/tandem/demo.img
		blocksize 512
	}
}

TARGET_DRIVER iscsi {
	enabled 1
	portal 0.0.0.0:3260

	TARGET $iqn {
		enabled 1
		rel_tgt_id 1
		LUN 0 demo
	}
}
EOF
cp "$src/tests/vm/guest/vmctl" "$mnt/etc/vmctl"
cat >"$mnt/etc/systemd/system/tandem-vmctl.service" <<'EOF'
[Unit]
Description=tests/vm/image.sh's control channel on ttyS1

[Service]
ExecStart=/bin/sh -c 'stty -F /dev/ttyS1 raw -echo; exec sh /etc/vmctl </dev/ttyS1 >/dev/ttyS1 2>&1'

[Install]
WantedBy=multi-user.target
EOF
ln -s /etc/systemd/system/tandem-vmctl.service "$mnt/etc/systemd/system/multi-user.target.wants/"
umount "$mnt"
mnt=

# 3. boot it: a free port on 127.0.0.1 for the guest's 3260
port=
for _ in $(seq 50); do
	p=$((20000 + RANDOM % 20000))
	if [ -z "$(ss -Hltn "sport = :$p" 2>/dev/null)" ]; then
		port=$p
		break
	fi
done
[ -n "$port" ] || { echo "FAIL: no free port"; exit 1; }
mkfifo "$work/ctl.in" "$work/ctl.out"
t0=$(date +%s%N)
qemu-system-x86_64 -accel tcg -cpu max -m 1024 -smp 2 -nodefaults -display none -no-reboot \
	-kernel "$out/vmlinuz" -initrd "$out/initrd.img" \
	-append "root=/dev/vda rw console=ttyS0 panic=-1 net.ifnames=0" \
	-drive "file=$work/head.raw,format=raw,if=virtio" \
	-serial "file:$work/console.log" \
	-chardev "pipe,id=ctl,path=$work/ctl" -serial chardev:ctl \
	-netdev "user,id=n0,hostfwd=tcp:127.0.0.1:$port-:3260" \
	-device virtio-net-pci,netdev=n0,romfile= >"$work/qemu.log" 2>&1 &
qpid=$!
exec {cin}<>"$work/ctl.in" {cout}<>"$work/ctl.out"
ready=
while IFS= read -r -t 300 -u "$cout" line; do
	case $line in __VMREADY*) ready=1; break ;; esac
done
if [ -z "$ready" ]; then
	echo "FAIL: the guest's control channel did not come up in 300 s; console:"
	tail -40 "$work/console.log"
	exit 1
fi
boot_s=$(secs "$t0")
ok "booted to the control channel in $boot_s s (TCG)"

seq=0
# run SECS SCRIPT: OUT, RC (124: no answer in time)
run() {
	local deadline line
	seq=$((seq + 1))
	OUT=
	RC=124
	printf '%s %s\n' "$seq" "$(printf '%s\n' "$2" | base64 -w0)" >&"$cin"
	deadline=$((SECONDS + $1))
	while [ $SECONDS -lt $deadline ]; do
		line=
		IFS= read -r -t $((deadline - SECONDS)) -u "$cout" line || [ -n "$line" ] || continue
		case $line in
		*"__VMEND_$seq "*)
			OUT+=${line%%__VMEND_*}
			RC=${line##* }
			return "$RC"
			;;
		esac
		OUT+=$line$'\n'
	done
	return 124
}

# 4. systemd and tandemd
run 150 'timeout 120 systemctl is-system-running --wait; systemctl --failed --no-legend --plain'
state=$(head -1 <<<"$OUT")
[ "$state" = running ] && ok "systemd: running (multi-user, no failed unit)" ||
	ko "systemd: '$state', failed units: $(tail -n +2 <<<"$OUT" | tr '\n' ' ')"
run 30 'systemctl is-active tandemd; systemctl show -p Type -p StatusText -p WatchdogUSec -p WatchdogTimestampMonotonic -p ActiveEnterTimestampMonotonic tandemd; cut -d" " -f1 /proc/uptime'
echo "$OUT"
[ "$(head -1 <<<"$OUT")" = active ] && grep -qx 'Type=notify' <<<"$OUT" &&
	grep -q '^StatusText=serving: 1 devices' <<<"$OUT" &&
	ok "tandemd active through Type=notify: $(grep StatusText <<<"$OUT")" ||
	ko "tandemd not active through notify"
active_us=$(sed -n 's/^ActiveEnterTimestampMonotonic=//p' <<<"$OUT")
[ -n "$active_us" ] && echo "figure: tandemd active $(awk -v u="$active_us" 'BEGIN {printf "%.1f", u / 1e6}') s after the kernel started"
wd=$(sed -n 's/^WatchdogTimestampMonotonic=//p' <<<"$OUT")
grep -qx 'WatchdogUSec=30s' <<<"$OUT" && [ "${wd:-0}" -gt 0 ] &&
	ok "watchdog armed: WatchdogUSec=30s, last ping at ${wd} us" ||
	ko "watchdog not armed: $(grep Watchdog <<<"$OUT" | tr '\n' ' ')"
run 60 'systemd-analyze verify tandemd.service tandem-agentd.service 2>&1; echo "rc=$?"'
[ "$OUT" = "rc=0"$'\n' ] || [ "$OUT" = "rc=0" ] && ok "systemd-analyze verify: the units are clean" ||
	ko "systemd-analyze verify: $OUT"
run 60 'systemd-analyze security tandemd --no-pager | tail -1'
score=$(grep -o 'level for tandemd.service: [0-9.]*' <<<"$OUT" | awk '{print $NF}')
echo "figure: systemd-analyze security: $(tr -d '\n' <<<"$OUT")"
[ -n "$score" ] && awk -v s="$score" 'BEGIN {exit !(s < 5)}' &&
	ok "exposure $score (below 5)" || ko "exposure '${score:-none}'"
run 30 'tandemctl -status; systemctl is-enabled corosync pacemaker; corosync -v | head -1; crm_mon --version | head -1; drbdadm --version 2>/dev/null | grep DRBDADM_VERSION=; ls /usr/lib/ocf/resource.d/tandem'
echo "$OUT"
grep -q 'alua' <<<"$OUT" && grep -q 'target' <<<"$OUT" && [ "$(grep -c '^disabled' <<<"$OUT")" -eq 2 ] &&
	ok "cluster stack installed (corosync, pacemaker disabled until tandem-setup), OCF agents in /usr/lib/ocf" ||
	ko "cluster stack or OCF agents missing"

# 5. iSCSI from the host through the hostfwd
url=iscsi://127.0.0.1:$port/$iqn/0
inq=$(timeout 30 iscsi-inq "$url" 2>&1)
grep -q 'Peripheral Device Type:DIRECT_ACCESS' <<<"$inq" &&
	ok "iSCSI login and INQUIRY from the host ($url)" || ko "iscsi-inq: $inq"
if [ -x "$scsitool" ]; then
	w=$(timeout 30 "$scsitool" --retry-ua "$url" write 77 165 2>&1)
	r=$(timeout 30 "$scsitool" --retry-ua "$url" read 77 2>&1)
	grep -q 'status=GOOD' <<<"$w" && grep -q 'data=a5a5a5a5' <<<"$r" &&
		ok "WRITE then READ of LBA 77 through the head: a5 read back" ||
		ko "write/read: $w / $r"
	run 20 'od -A d -t x1 -j $((77 * 512)) -N 4 /srv/tandem/demo.img | head -1'
	grep -q 'a5 a5 a5 a5' <<<"$OUT" && ok "the block is in the backing file" || ko "backing file: $OUT"
else
	ko "no scsitool ($scsitool)"
fi

# 6. reload: RELOADING=1, then READY=1 with the next epoch
run 30 'systemctl reload tandemd; echo rc=$?; sleep 1; systemctl show -p StatusText -p ActiveState tandemd'
grep -q 'rc=0' <<<"$OUT" && grep -q 'epoch 2' <<<"$OUT" && grep -q ActiveState=active <<<"$OUT" &&
	ok "systemctl reload: $(grep StatusText <<<"$OUT")" || ko "reload: $OUT"

# 7. the watchdog kills a stuck tandemd (WatchdogSec 4 s for the test)
run 60 'mkdir -p /run/systemd/system/tandemd.service.d
printf "[Service]\nWatchdogSec=4s\n" >/run/systemd/system/tandemd.service.d/wd.conf
systemctl daemon-reload && systemctl restart tandemd || exit 1
p=$(systemctl show -P MainPID tandemd)
kill -STOP "$p"
t=0
while [ $t -lt 30 ] && [ "$(systemctl show -P MainPID tandemd)" = "$p" ]; do sleep 1; t=$((t + 1)); done
sleep 2
echo "stopped=$p seconds=$t"
systemctl show -p NRestarts -p ActiveState -p MainPID tandemd
journalctl -u tandemd --no-pager -o cat | grep -E "Watchdog timeout|blackbox written" | tail -2
ls /var/lib/tandem | grep -c "^blackbox-tandemd-$p-"
rm -rf /run/systemd/system/tandemd.service.d; systemctl daemon-reload; systemctl restart tandemd'
echo "$OUT"
grep -q 'Watchdog timeout' <<<"$OUT" && grep -q 'blackbox written' <<<"$OUT" &&
	grep -q 'ActiveState=active' <<<"$OUT" && grep -q 'NRestarts=1' <<<"$OUT" &&
	ok "a stuck tandemd: killed by the watchdog ($(sed -n 's/.*seconds=//p' <<<"$OUT") s after SIGSTOP, limit 4 s), blackbox written, restarted" ||
	ko "watchdog kill"

# 8. tandem-setup inside the image (its own tests run on the host)
run 60 'tandem-setup --dry-run --output-dir /tmp/setup --node-name head1 --node-address 10.0.2.15 --peer-name head2 --peer-address 10.0.2.16 --drbd-disk /dev/vdb --fence-device "fence_ipmilan ip=192.0.2.102 username=admin password=secret lanplus=1" --peer-fence-device "fence_ipmilan ip=192.0.2.101 username=admin password=secret lanplus=1" >/dev/null; echo rc=$?; ls /tmp/setup'
grep -q 'rc=0' <<<"$OUT" && grep -q corosync.conf <<<"$OUT" &&
	ok "tandem-setup --dry-run in the image: $(tail -n +2 <<<"$OUT" | tr '\n' ' ')" || ko "tandem-setup in the image: $OUT"

# 9. a clean power-off
t0=$(date +%s%N)
run 5 'systemctl poweroff' || true
for _ in $(seq 120); do kill -0 "$qpid" 2>/dev/null || break; sleep 0.5; done
if kill -0 "$qpid" 2>/dev/null; then
	ko "the guest did not power off in 60 s"
else
	wait "$qpid" 2>/dev/null
	qpid=
	ok "powered off in $(secs "$t0") s"
fi
grep -q 'tandemd.service: Failed\|tandemd.service: Main process exited, code=killed' "$work/console.log" &&
	ko "console shows tandemd failing at shutdown"

echo "figures: build $build_s s, boot to control channel $boot_s s"
echo "$checks checks, $fails failed"
[ $fails -eq 0 ]
