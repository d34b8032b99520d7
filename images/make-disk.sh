#!/bin/bash
# images/make-disk.sh FS_IMAGE DISK_IMAGE - a bootable disk from the head's
# ext4 file system image (build.sh step 5): an MBR partition table with
# one bootable partition at 1 MiB holding FS_IMAGE, syslinux's MBR code,
# and extlinux installed in /boot/extlinux of the file system (it reads
# /boot/extlinux/extlinux.conf: the kernel and initrd through Debian's
# /vmlinuz and /initrd.img links, root=LABEL=tandem-root, the console
# on ttyS0 and tty0). Needs root (losetup, mount) and the host's
# extlinux and syslinux-common (the same Debian 12 packages as the image's).
set -euo pipefail
fs=$1
disk=$2
mbr=/usr/lib/syslinux/mbr/mbr.bin
[ -f "$mbr" ] && command -v extlinux >/dev/null ||
	{ echo "make-disk.sh: needs extlinux and syslinux-common (scripts/deps.sh image)" >&2; exit 1; }
mib=$(($(stat -c %s "$fs") / 1048576))
rm -f "$disk"
truncate -s $((mib + 1))M "$disk"
printf 'label: dos\nstart=2048, size=%dMiB, type=83, bootable\n' "$mib" | sfdisk -q "$disk"
dd if="$fs" of="$disk" bs=1M seek=1 conv=notrunc,sparse status=none
dd if="$mbr" of="$disk" bs=440 count=1 conv=notrunc status=none
loop=
mnt=$(mktemp -d)
cleanup() {
	mountpoint -q "$mnt" && umount "$mnt"
	[ -z "$loop" ] || losetup -d "$loop"
	rmdir "$mnt"
}
trap cleanup EXIT
# the partition through a loop device of its own (no partition scanning
# needed: a container's /dev has no loopNp1)
loop=$(losetup -f --show -o 1048576 --sizelimit $((mib * 1048576)) "$disk")
mount "$loop" "$mnt"
mkdir -p "$mnt/boot/extlinux"
cat >"$mnt/boot/extlinux/extlinux.conf" <<'CONF'
# the Tandem head (images/make-disk.sh)
SERIAL 0 115200
DEFAULT tandem
TIMEOUT 0
PROMPT 0
LABEL tandem
	LINUX /vmlinuz
	INITRD /initrd.img
	APPEND root=LABEL=tandem-root ro console=tty0 console=ttyS0,115200 net.ifnames=0
CONF
extlinux --install "$mnt/boot/extlinux" >/dev/null 2>&1 ||
	{ echo "make-disk.sh: extlinux --install failed" >&2; exit 1; }
