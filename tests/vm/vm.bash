# shellcheck shell=bash disable=SC2034
# vm.bash - the VM lab's guest, driven from the host (sourced after
# tests/cluster/lab.sh; tests/vm/README.md):
#
#   vm_need                      qemu-system-x86, cpio, kmod installed
#   vm_guest [FLAVOUR]           vm_need and vm_build, as a check (ok/ko)
#   vm_build [base|extras|crash|srp|kernel] tests/vm/build.sh (cached): VM_GUEST;
#                                with extras or crash, VM_EXTRAS (the
#                                second archive: python3, fence_scsi,
#                                fio; or crash.sh's, srp.sh's)
#   vm_boot HEAD_A HEAD_B        qemu in the lab's client namespace, two
#                                user-mode NICs, one per head; waits for
#                                the guest's control loop (VM_BOOT_S)
#   vm_run SECS SCRIPT           runs SCRIPT in the guest: VM_OUT (its
#                                output), VM_RC (status; 124 on timeout,
#                                after which the channel is unusable)
#   vm_console [N]               the last N lines of the guest's console
#   vm_libs_missing ELF          the libraries ELF needs (DT_NEEDED) that
#                                neither the guest's archive nor VM_EXTRAS
#                                holds, one a line
#   mp_groups TEXT, group_of DISK GROUPS
#                                multipath -ll's path groups ("group N
#                                PRIO STATUS", "path N DISK up|down"),
#                                the group holding DISK
#   map_identity NAA [PROTOCOL]  the same LU through DA (head A's path)
#                                and DB (head B's): checks
#   writer_start NAME SECS, writer_done NAME SECS DESC
#                                vmwriter on MAP in the background, its
#                                figures (FIG) and checks (the pause
#                                below PAUSE_MAX_MS, VM_PAUSE_MAX_MS:
#                                60000); need the scenario's indent
#
# VM_ARCH: amd64 (default: qemu-system-x86_64, the guest of build.sh) or
# ppc64el (qemu-system-ppc64's pseries machine, the POWER client partition
# of build.sh powervm, /init from guest/powervm: no NICs, the control
# channel on hvc1; powervm.sh's VIOS adapters in VM_QEMU_EXTRA).
# VM_INITRD_EXTRA (array): more initramfs archives (gzip'ed cpio) added
# after the guest's own; VM_QEMU_EXTRA (array): more qemu arguments
# (crash.sh: its files, two virtio disks).
# qemu is started with client_bg, so lab_down (the EXIT trap) kills it by
# PID with the lab. The control channel is the guest's second serial port,
# a pair of FIFOs (qemu's pipe chardev) in VM_DIR: the guest's vmctl reads
# "N BASE64" lines and answers with the output and "__VMEND_N STATUS".
VM_SRC=$LAB_SRC/tests/vm
VM_DIR=
VM_SEQ=0
VM_BROKEN=
VM_EXTRAS=
: "${VM_MEM:=768}"
VM_INITRD_EXTRA=()
VM_QEMU_EXTRA=()
: "${VM_ARCH:=amd64}"
# the guest's initiator name (open-iscsi's default iface)
: "${VM_IQN:=iqn.2026-12.org.tandem:vm-guest}"
# multipath.conf's fast_io_fail_tmo for TANDEM LUs (seconds, or off):
# how long a broken path holds its I/O before multipath retries it on
# another path
: "${VM_FAST_IO_FAIL_TMO:=5}"
# a pause above this fails (writer_done); every pause is a figure
PAUSE_MAX_MS=${VM_PAUSE_MAX_MS:-60000}

vm_need() {
	local pkgs=() c
	local q=qemu-system-x86_64:qemu-system-x86
	# qemu-block-extra: qemu's iSCSI driver (the VIOSes' initiator);
	# binutils: readelf (build.sh's library closure of a foreign guest);
	# the cross compiler: vmwriter for the guest
	[ "$VM_ARCH" = ppc64el ] && q="qemu-system-ppc64:qemu-system-ppc
		/usr/lib/x86_64-linux-gnu/qemu/block-iscsi.so:qemu-block-extra readelf:binutils
		powerpc64le-linux-gnu-gcc:gcc-powerpc64le-linux-gnu
		/usr/powerpc64le-linux-gnu/lib/libc.a:libc6-dev-ppc64el-cross"
	for c in $q cpio:cpio depmod:kmod modprobe:kmod dpkg-deb:dpkg; do
		case ${c%%:*} in
		/*) [ -e "${c%%:*}" ] && continue ;;
		esac
		command -v "${c%%:*}" >/dev/null 2>&1 || pkgs+=("${c#*:}")
	done
	[ ${#pkgs[@]} -eq 0 ] && return 0
	"$LAB_SRC/scripts/apt-install.sh" "${pkgs[@]}"
}

# vm_build [base|extras]: the guest's kernel and initramfs (VM_GUEST: their
# directory; VM_EXTRAS: the extras archive, booted too when asked); the
# time it took in VM_BUILD_S
vm_build() {
	local t0
	t0=$(date +%s%N)
	VM_GUEST=$("$VM_SRC/build.sh" "$@" | tail -1) && [ -s "$VM_GUEST/initrd.gz" ] || return 1
	case ${1:-} in
	extras | crash | srp | kernel)
		VM_EXTRAS=$VM_GUEST/$1-initrd.gz
		[ -s "$VM_EXTRAS" ] || return 1
		;;
	esac
	VM_BUILD_S=$(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN {printf "%.1f", (b - a) / 1e9}')
}

# vm_guest [FLAVOUR]: vm_need and vm_build as a check of the calling
# scenario (ok/ko of tests/cluster/checks.bash), the time in FIG;
# status 1 when there is no guest
vm_guest() {
	vm_need || { ko "qemu-system-x86, cpio, kmod could not be installed"; return 1; }
	if vm_build "$@"; then
		ok "guest kernel and initramfs ready in $VM_BUILD_S s ($VM_GUEST, kernel $(cat "$VM_GUEST/kver"), initrd $(du -k "$VM_GUEST/initrd.gz" | cut -f1) KiB${VM_EXTRAS:+, $1-initrd $(du -k "$VM_EXTRAS" | cut -f1) KiB})"
		FIG+=("guest build (or cache hit): $VM_BUILD_S s")
	else
		ko "tests/vm/build.sh ${1:-base} failed"
		return 1
	fi
}

# vm_writer: the static vmwriter (VMWRITER, or built here with cc; for
# the POWER guest with the cross compiler)
vm_writer() {
	local cc=cc
	if [ "$VM_ARCH" = ppc64el ]; then
		# (scripts/test.sh's VMWRITER is the host's)
		cc=powerpc64le-linux-gnu-gcc
		VMWRITER=
	fi
	[ -n "${VMWRITER:-}" ] && [ -x "$VMWRITER" ] && return 0
	VMWRITER=$LAB_DIR/vmwriter
	"$cc" -O2 -Wall -Wextra -Werror -static -pthread -o "$VMWRITER" \
		"$VM_SRC/vmwriter.c"
}

# vm_initrd OUT: the guest's initramfs: the cached one from build.sh (and
# its extras archive when asked), then this tree's files (init, vmctl,
# configurations, vmwriter) as one more archive (the kernel unpacks all)
vm_initrd() {
	local o=$VM_DIR/overlay f
	case $VM_FAST_IO_FAIL_TMO in
	off | [0-9] | [1-9][0-9] | [1-9][0-9][0-9]) ;;
	*) echo "vm: VM_FAST_IO_FAIL_TMO=$VM_FAST_IO_FAIL_TMO: seconds or off" >&2; return 1 ;;
	esac
	mkdir -p "$o/etc/iscsi" "$o/etc/udev/rules.d" "$o/bin"
	if [ "$VM_ARCH" = ppc64el ]; then
		install -m 755 "$VM_SRC/guest/powervm" "$o/init"
	else
		install -m 755 "$VM_SRC/guest/init" "$o/init"
	fi
	install -m 755 "$VM_SRC/guest/vmctl" "$o/etc/vmctl"
	for f in paths asnode bypass-multipath; do
		install -m 755 "$VM_SRC/guest/$f" "$o/bin/$f"
	done
	install -m 755 "$VMWRITER" "$o/bin/vmwriter"
	sed "s/^\([[:space:]]*fast_io_fail_tmo\) .*/\1 $VM_FAST_IO_FAIL_TMO/" \
		"$VM_SRC/guest/multipath.conf" >"$o/etc/multipath.conf"
	grep -q "fast_io_fail_tmo $VM_FAST_IO_FAIL_TMO\$" "$o/etc/multipath.conf" || return 1
	cp "$VM_SRC/guest/iscsid.conf" "$o/etc/iscsi/iscsid.conf"
	cp "$VM_SRC/guest/40-bypass-multipath.rules" "$o/etc/udev/rules.d/"
	cp "$VM_SRC/guest/passwd" "$VM_SRC/guest/group" "$o/etc/"
	{
		cat "$VM_GUEST/initrd.gz"
		[ -z "$VM_EXTRAS" ] || cat "$VM_EXTRAS"
		(cd "$o" && find . | cpio -o -H newc --quiet | gzip -1)
		[ ${#VM_INITRD_EXTRA[@]} -eq 0 ] || cat "${VM_INITRD_EXTRA[@]}"
	} >"$1"
}

# vm_boot HEAD_A HEAD_B
vm_boot() {
	local line t0 ready=
	VM_DIR=$LAB_DIR/vm
	mkdir -p "$VM_DIR"
	vm_initrd "$VM_DIR/initrd.gz" || return 1
	mkfifo "$VM_DIR/ctl.in" "$VM_DIR/ctl.out"
	t0=$(date +%s%N)
	# the machine and its console; then what both have: the kernel, the
	# console's file, the control channel (the second serial port)
	local qmach=(qemu-system-x86_64 -accel tcg -cpu max)
	local cons="console=ttyS0 panic=-1 net.ifnames=0 quiet tdm_a=$1 tdm_b=$2 tdm_iqn=$VM_IQN"
	# two user-mode NICs, one per head
	local nics=(-netdev 'user,id=pa,net=10.0.2.0/24' -device 'virtio-net-pci,netdev=pa,romfile='
		-netdev 'user,id=pb,net=10.0.3.0/24' -device 'virtio-net-pci,netdev=pb,romfile=')
	if [ "$VM_ARCH" = ppc64el ]; then
		# pseries: each -serial is a spapr-vty, hvc0 and hvc1 in the
		# guest; no NICs (the VIOSes' iSCSI is qemu's)
		qmach=(qemu-system-ppc64 -M pseries -cpu POWER9)
		cons="console=hvc0 panic=-1 quiet"
		nics=()
	fi
	client_bg "$VM_DIR/qemu.log" "${qmach[@]}" \
		-m "$VM_MEM" -smp 1 -nodefaults -display none -no-reboot \
		-kernel "$VM_GUEST/vmlinuz" -initrd "$VM_DIR/initrd.gz" -append "$cons" \
		-serial "file:$VM_DIR/console.log" \
		-chardev "pipe,id=ctl,path=$VM_DIR/ctl" -serial chardev:ctl \
		"${nics[@]}" "${VM_QEMU_EXTRA[@]}"
	VM_PID=$LAB_PID
	# read-write opens of a FIFO never block
	exec {VM_IN}<>"$VM_DIR/ctl.in" {VM_OUTFD}<>"$VM_DIR/ctl.out"
	while IFS= read -r -t 180 -u "$VM_OUTFD" line; do
		case $line in __VMREADY*)
			ready=1
			break
			;;
		esac
	done
	if [ -z "$ready" ]; then
		VM_BROKEN="the guest did not start"
		return 1
	fi
	VM_BOOT_S=$(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN {printf "%.1f", (b - a) / 1e9}')
}

# vm_run SECS SCRIPT
vm_run() {
	local t=$1 line left deadline
	VM_SEQ=$((VM_SEQ + 1))
	VM_OUT=
	VM_RC=255
	[ -n "$VM_BROKEN" ] && { VM_OUT="control channel unusable: $VM_BROKEN"; return 255; }
	lab_alive "$VM_PID" || { VM_BROKEN="qemu is gone"; VM_OUT=$VM_BROKEN; return 255; }
	printf '%s %s\n' "$VM_SEQ" "$(printf '%s\n' "$2" | base64 -w0)" >&"$VM_IN"
	deadline=$((SECONDS + t))
	while :; do
		left=$((deadline - SECONDS))
		if [ "$left" -le 0 ]; then
			VM_BROKEN="no answer in $t s to: $2"
			VM_RC=124
			return 124
		fi
		line=
		IFS= read -r -t "$left" -u "$VM_OUTFD" line || [ -n "$line" ] || continue
		case $line in
		*"__VMEND_$VM_SEQ "*)
			VM_OUT+=${line%%__VMEND_*}
			VM_RC=${line##* }
			return "$VM_RC"
			;;
		esac
		VM_OUT+=$line$'\n'
	done
}

vm_console() {
	tail -"${1:-30}" "$VM_DIR/console.log" 2>/dev/null
}

vm_libs_missing() {
	local have l
	have=$({ zcat "$VM_GUEST/initrd.gz" | cpio -t --quiet; zcat "$VM_EXTRAS" | cpio -t --quiet; } 2>/dev/null)
	for l in $(readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
		grep -q "/$l\$" <<<"$have" || echo "$l"
	done
}

# the map's path groups: "group N PRIO STATUS" and "path N DISK up|down"
mp_groups() {
	awk '/policy=/ {
		g++; match($0, /prio=[0-9-]+/); p = substr($0, RSTART + 5, RLENGTH - 5)
		match($0, /status=[a-z]+/); s = substr($0, RSTART + 7, RLENGTH - 7)
		print "group", g, p, s; next }
	g && match($0, / sd[a-z]+ /) {
		print "path", g, substr($0, RSTART + 1, RLENGTH - 2),
			($0 ~ /active (ready|ghost)/ ? "up" : "down") }' <<<"$1"
}
# group_of DISK GROUPS: "PRIO STATUS PATHSTATE" of the group holding DISK
group_of() {
	local g
	g=$(awk -v d="$1" '$1 == "path" && $3 == d {print $2, $4}' <<<"$2")
	[ -n "$g" ] || return 1
	awk -v g="${g% *}" -v u="${g#* }" '$1 == "group" && $2 == g {print $3, $4, u}' <<<"$2"
}
# writer_start NAME SECS: vmwriter on the map in the background
writer_start() {
	vm_run 10 "rm -f /tmp/$1.rc; setsid sh -c 'vmwriter -d $MAP -t 4 -s $2 -L 70 -j /tmp/$1.j >/tmp/$1.log 2>&1; echo \$? >/tmp/$1.rc' </dev/null >/dev/null 2>&1 &" &&
		ok "vmwriter $1 started ($2 s, 4 threads)" ||
		ko "vmwriter $1 started ($2 s, 4 threads): status $VM_RC: $VM_OUT"
}
# writer_done NAME SECS DESC: wait for it (its SECS of writes and its
# verification), print its figures, check them
writer_done() {
	local out gap wr rc
	vm_run $(($2 + 75)) "n=0; while [ ! -s /tmp/$1.rc ]; do n=\$((n + 1)); [ \$n -gt $((($2 + 60) * 2)) ] && exit 124; sleep 0.5; done; cat /tmp/$1.log; exit \$(cat /tmp/$1.rc)"
	rc=$VM_RC
	out=$VM_OUT
	indent ">" "$out"
	gap=$(sed -n 's/.* max_gap_ms=\([0-9.]*\).*/\1/p' <<<"$out" | tail -1)
	wr=$(sed -n 's/.* max_write_ms=\([0-9.]*\).*/\1/p' <<<"$out" | tail -1)
	FIG+=("$3: $(grep -E '^writes=' <<<"$out" | tail -1); $(grep -E '^verified=' <<<"$out" | tail -1)")
	FIG+=("$3: pause $(awk -v g="${wr:-0}" -v a="${gap:-0}" \
		'BEGIN {printf "%.1f s (the longest write); all I/O stopped %.1f s at most", g / 1000, a / 1000}')")
	if [ "$rc" = 0 ] && grep -q '^result=ok' <<<"$out" && grep -q ' io_errors=0 ' <<<"$out" &&
		grep -q ' bad_blocks=0 ' <<<"$out"; then
		ok "$3: zero I/O errors, zero bad blocks, every acknowledged block verified"
	else
		ko "$3: vmwriter status $rc"
	fi
	if [ -n "$wr" ] && awk -v g="$wr" -v m="$PAUSE_MAX_MS" 'BEGIN {exit !(g < m)}'; then
		ok "$3: pause $wr ms (the longest write; bound $PAUSE_MAX_MS ms), all I/O stopped ${gap:-?} ms at most"
	else
		ko "$3: pause ${wr:-unknown} ms (bound $PAUSE_MAX_MS ms)"
	fi
}

# map_identity NAA [PROTOCOL]: the LU's identity through both paths of
# the map, DA (head A's) and DB (head B's): VPD 0x80 and the LU's VPD
# 0x83 designators identical, with NAA; relative target port and target
# port group 1 through head A, 2 through head B (their designators
# naming PROTOCOL, e.g. "SCSI RDMA Protocol", when given); REPORT TARGET
# PORT GROUPS identical through both, two groups (printed)
map_identity() {
	local la lb ra h disk id d
	vm_run 20 "sg_vpd -p sn /dev/$DA; sg_vpd -p di_lu /dev/$DA"
	la=$VM_OUT
	vm_run 20 "sg_vpd -p sn /dev/$DB; sg_vpd -p di_lu /dev/$DB"
	lb=$VM_OUT
	[ -n "$la" ] && [ "$la" = "$lb" ] && grep -qi "$1" <<<"$la" &&
		ok "VPD 0x80 ($(sed -n 's/.*Unit serial number: //p' <<<"$la")) and the LU's VPD 0x83 designators (NAA $1) identical through both paths" ||
		ko "the LU's identity (VPD 0x80, 0x83): [$la] [$lb]"
	for d in "A:$DA:0x1" "B:$DB:0x2"; do
		IFS=: read -r h disk id <<<"$d"
		vm_run 20 "sg_vpd -p di_port /dev/$disk"
		grep -q "Relative target port: $id\$" <<<"$VM_OUT" && grep -q "Target port group: $id\$" <<<"$VM_OUT" &&
			grep -q "${2:-}" <<<"$VM_OUT" &&
			ok "VPD 0x83 through head $h: relative target port $id, target port group $id${2:+ ($2)}" ||
			ko "VPD 0x83's target port through head $h: $VM_OUT"
	done
	vm_run 20 "sg_rtpg -d /dev/$DA"
	ra=$VM_OUT
	vm_run 20 "sg_rtpg -d /dev/$DB"
	[ -n "$ra" ] && [ "$ra" = "$VM_OUT" ] && [ "$(grep -ci 'target port group id' <<<"$ra")" = 2 ] &&
		ok "REPORT TARGET PORT GROUPS identical through both paths, two groups" ||
		ko "RTPG: [$ra] [$VM_OUT]"
	indent "|" "$ra"
}
