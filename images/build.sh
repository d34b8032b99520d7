#!/bin/bash
# images/build.sh - the Tandem storage head as a bootable Debian 12 image,
# built from Debian's packages and this tree only (images/README.md).
#
#   images/build.sh [-o OUTDIR] [-c CACHEDIR] [-s SIZE_MIB]
#                   [--root-password-hash HASH] [--keep-rootfs]
#
# Steps: (1) a release build of this tree (no sanitizers, --prefix=/usr,
# --with-systemd) installed with make install DESTDIR=OUTDIR/stage;
# (2) mmdebstrap of Debian 12 (bookworm, bookworm-updates,
# bookworm-security from the mirror apt is configured with, or MIRROR)
# with the kernel, systemd, the cluster stack and the libraries the staged
# programs need (found with ldd and dpkg -S on this host, a Debian 12 of
# the same release); the .debs are kept in CACHEDIR so that a rerun
# downloads nothing; (3) the staged tree copied in, the appliance's
# configuration (units enabled, networkd DHCP, serial console, fstab);
# (4) an ext4 file system image made from the directory with mke2fs -d
# (fixed UUID, hash seed and time: the same tree gives the same image),
# the kernel and initrd beside it.
#
# Output in OUTDIR: tandem-head.raw (ext4, root=/dev/vda), vmlinuz,
# initrd.img, manifest.txt (every package and version in the image),
# build-times.txt. Boot it (TCG):
#   qemu-system-x86_64 -accel tcg -cpu max -m 1024 -nographic \
#     -kernel OUTDIR/vmlinuz -initrd OUTDIR/initrd.img \
#     -append 'root=/dev/vda rw console=ttyS0' \
#     -drive file=OUTDIR/tandem-head.raw,format=raw,if=virtio
# Needs root (mmdebstrap's root mode, chroot).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
out=/var/tmp/tandem-image
cache=${TANDEM_IMAGE_CACHE:-/var/cache/tandem-image}
size_mib=3072
root_hash=
keep_rootfs=
while [ $# -gt 0 ]; do
	case $1 in
	-o) out=$2; shift 2 ;;
	-c) cache=$2; shift 2 ;;
	-s) size_mib=$2; shift 2 ;;
	--root-password-hash) root_hash=$2; shift 2 ;;
	--keep-rootfs) keep_rootfs=1; shift ;;
	-h | --help) sed -n '2,30p' "$0"; exit 0 ;;
	*) echo "build.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
	esac
done
case $size_mib in
'' | *[!0-9]*) echo "build.sh: -s '$size_mib' is not a size in MiB" >&2; exit 2 ;;
esac
[ "$(id -u)" -eq 0 ] || { echo "build.sh: needs root (mmdebstrap, chroot)" >&2; exit 2; }
mkdir -p "$out" "$cache/debs"
out=$(cd "$out" && pwd)
t_start=$(date +%s)
say() { printf 'build.sh: [%4ds] %s\n' "$(($(date +%s) - t_start))" "$*"; }

# the packages of the head, beside the libraries of the staged programs
packages=(systemd systemd-sysv udev dbus kmod linux-image-amd64 initramfs-tools
	iproute2 iputils-ping procps less e2fsprogs
	corosync pacemaker pacemaker-cli-utils crmsh resource-agents fence-agents
	drbd-utils multipath-tools sg3-utils libiscsi-bin)

"$src/scripts/deps.sh" image

# (1) this tree, a release build
say "building this tree (release, --prefix=/usr)"
b=$out/build
mkdir -p "$b"
(cd "$src" && { [ -x configure ] || autoreconf -fi >/dev/null 2>&1; })
if [ ! -f "$b/Makefile" ]; then
	(cd "$b" && "$src/configure" -q --prefix=/usr --sysconfdir=/etc \
		--localstatedir=/var --with-systemd=yes >/dev/null)
fi
make -C "$b" -s -j2 >/dev/null
rm -rf "$out/stage"
make -C "$b" -s install DESTDIR="$out/stage" >/dev/null
ls "$out/stage/usr/sbin/tandemd" "$out/stage/lib/systemd/system/tandemd.service" >/dev/null

# the Debian packages holding the libraries the staged programs need
libpkgs=$(find "$out/stage" -type f -perm -u+x -exec sh -c \
	'file -b "$1" | grep -q "^ELF" && ldd "$1"' _ {} \; |
	awk '$2 == "=>" && $3 ~ /^\// {print $3}' | sort -u |
	while read -r l; do dpkg -S "$(readlink -f "$l")" 2>/dev/null ||
		dpkg -S "$l" 2>/dev/null || echo "build.sh: no package holds $l" >&2; done |
	cut -d: -f1 | sort -u | tr '\n' ' ')
say "libraries from: $libpkgs"

# (2) the Debian 12 root file system
# the Debian mirror apt uses here (first deb.debian.org-style URI of the
# configured sources), unless MIRROR is given
if [ -z "${MIRROR:-}" ]; then
	MIRROR=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
		awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}')
	[ -n "$MIRROR" ] || MIRROR=$(awk '$1 == "deb" && $2 !~ /security/ {print $2; exit}' \
		/etc/apt/sources.list 2>/dev/null)
fi
: "${MIRROR:=http://deb.debian.org/debian}"
: "${SECURITY_MIRROR:=${MIRROR%/debian}/debian-security}"
# the commit's time: file times and machine-id of the image follow it
SOURCE_DATE_EPOCH=$(git -C "$src" log -1 --format=%ct 2>/dev/null || date +%s)
export SOURCE_DATE_EPOCH
rootfs=$out/rootfs
rm -rf "$rootfs"
say "mmdebstrap bookworm from $MIRROR (cache $cache/debs)"
incl=$(printf '%s,' "${packages[@]}" $libpkgs)
mmdebstrap --variant=minbase --mode=root --format=directory \
	--aptopt='Acquire::Languages "none"' \
	--dpkgopt='path-exclude=/usr/share/doc/*' \
	--dpkgopt='path-include=/usr/share/doc/*/copyright' \
	--dpkgopt='path-exclude=/usr/share/locale/*' \
	--include="${incl%,}" \
	--skip=essential/unlink \
	--setup-hook="mkdir -p \"\$1/var/cache/apt/archives\"" \
	--setup-hook="sync-in $cache/debs /var/cache/apt/archives/" \
	--customize-hook="sync-out /var/cache/apt/archives $cache/debs" \
	bookworm "$rootfs" \
	"deb $MIRROR bookworm main" \
	"deb $MIRROR bookworm-updates main" \
	"deb $SECURITY_MIRROR bookworm-security main" 2>&1 |
	grep -E '^(E:|W:|I: (downloading|installing))' || true
[ -x "$rootfs/usr/sbin/corosync" ] || { echo "build.sh: mmdebstrap failed" >&2; exit 1; }
rm -f "$cache/debs/lock"

# (3) this tree and the appliance's configuration
say "installing this tree and the appliance configuration"
# /lib is /usr/lib (usrmerge): keep the image's directory symlinks
tar -C "$out/stage" -cf - . | tar -C "$rootfs" -xf - --keep-directory-symlink --no-same-owner
"$src/images/configure-rootfs.sh" "$rootfs" "$root_hash"
missing=$(chroot "$rootfs" sh -c 'for f in /usr/sbin/tandemd /usr/sbin/tandem-agentd /usr/sbin/tandemctl; do ldd $f; done' |
	grep 'not found' || true)
[ -z "$missing" ] || { echo "build.sh: libraries missing in the image: $missing" >&2; exit 1; }
chroot "$rootfs" dpkg-query -W -f '${Package} ${Version}\n' >"$out/manifest.txt"
echo "tandem $(git -C "$src" describe --always --dirty 2>/dev/null || echo unknown)" >>"$out/manifest.txt"

# (4) the disk image and the kernel beside it
kver=$(basename "$(ls -d "$rootfs"/lib/modules/* | sort -V | tail -1)")
cp "$rootfs/boot/vmlinuz-$kver" "$out/vmlinuz"
cp "$rootfs/boot/initrd.img-$kver" "$out/initrd.img"
say "ext4 image ($size_mib MiB, kernel $kver)"
rm -f "$out/tandem-head.raw"
E2FSPROGS_FAKE_TIME=$SOURCE_DATE_EPOCH mke2fs -q -t ext4 -L tandem-root \
	-U 6a2f0e6c-7d1b-4f4e-9c59-7a6e64656d00 -E hash_seed=6a2f0e6c-7d1b-4f4e-9c59-7a6e64656d01 \
	-d "$rootfs" "$out/tandem-head.raw" "${size_mib}M"
[ -n "$keep_rootfs" ] || rm -rf "$rootfs"
t=$(($(date +%s) - t_start))
echo "build: ${t} s (packages: $(wc -l <"$out/manifest.txt"), cache: $(du -sm "$cache/debs" | cut -f1) MiB)" >"$out/build-times.txt"
say "done: $out/tandem-head.raw $out/vmlinuz $out/initrd.img (${t} s)"
