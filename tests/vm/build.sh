#!/bin/bash
# build.sh - the VM lab's guest, from Debian packages (tests/vm/README.md):
# Debian's kernel (linux-image-amd64's current version) and a busybox
# initramfs holding open-iscsi, multipath-tools, sg3-utils, udev, dmsetup,
# the libraries they link (resolved with the guest's own loader, ldd's
# method, among the downloaded packages only) and the kernel modules of
# the iSCSI + multipath stack (modprobe --show-depends). The packages are
# fetched with `apt-get download` into a cache and unpacked with
# `dpkg-deb -x`; nothing is installed on the host, no image is downloaded.
#
#   tests/vm/build.sh [base]     prints the directory holding vmlinuz,
#                                initrd.gz and kver (last line of stdout)
#   tests/vm/build.sh extras     the same, and in that directory
#                                extras-initrd.gz: a second archive (the
#                                kernel unpacks both) with python3,
#                                fence-agents' fence_scsi and fio, only
#                                what the first one lacks
#   tests/vm/build.sh crash      the same with crash-initrd.gz (crash.sh's):
#                                mke2fs, the tree's tandemd's runtime
#                                libraries, the modules of virtio-blk,
#                                dm-log-writes and ext4
#   tests/vm/build.sh srp        the same with srp-initrd.gz (srp.sh's):
#                                Soft-RoCE (rdma_rxe), the SRP initiator
#                                (ib_srp), LIO with ib_srpt, rdma-core's
#                                libraries, the rxe provider, iproute2's
#                                rdma, ibv_devinfo, rping, ucmatose, fio
#                                and the tree's tandemd's runtime
#                                libraries
#   tests/vm/build.sh powervm    a POWER guest instead (powervm.sh's):
#                                Debian's ppc64el kernel
#                                (linux-image-powerpc64le, booted by
#                                qemu's pseries machine) and a busybox
#                                initramfs of ppc64el packages with the
#                                vSCSI client (ibmvscsi), multipath-tools,
#                                sg3-utils, udev and fio; the library
#                                closure is read from the ELF files
#                                (readelf, DT_NEEDED), as the host cannot
#                                run the guest's loader; its own cache,
#                                VM_CACHE-ppc64el. `dpkg --add-architecture
#                                ppc64el` and an apt-get update are done
#                                here when the host lacks them
#   tests/vm/build.sh kernel     the same with kernel-initrd.gz
#                                (kernel.sh's, bench/kernel_vm.sh's):
#                                LIO with TCMU (target_core_user, uio)
#                                and tcm_loop, fileio, ext4, mke2fs,
#                                fio, sg_dd, sg_write_same, and the
#                                tree's tandemd's runtime libraries
#                                (libnl's too)
#
# VM_CACHE (default /var/cache/tandem-vm): debs/ (the .debs), kernel-KVER/
# (the unpacked kernel with its modules.dep), guest-KEY/ (the result, KEY
# = a hash of the package files and of this script; FLAVOUR-initrd.gz
# there with FLAVOUR.key, the hash of its own package files). A second
# build with the same packages reuses guest-KEY at once; a new kernel or
# package version builds a new one (and drops the old ones).
# The host needs apt, dpkg-deb, kmod (depmod, modprobe), cpio, gzip
# (scripts/deps.sh test installs them).
set -euo pipefail
VM_CACHE=${VM_CACHE:-/var/cache/tandem-vm}
FLAVOUR=${1:-}
t0=$(date +%s%N)
log() { echo "vm-build: $*" >&2; }
die() {
	log "$*"
	exit 1
}
# the guest's Debian architecture: its kernel package, its GNU triplet,
# its loader (PT_INTERP)
ARCH=amd64
KMETA=linux-image-amd64
TRIPLET=x86_64-linux-gnu
LOADER=lib64/ld-linux-x86-64.so.2
case $FLAVOUR in
'' | base) FLAVOUR= ;;
extras | crash | srp | kernel) ;;
powervm)
	FLAVOUR=
	ARCH=ppc64el
	KMETA=linux-image-powerpc64le
	TRIPLET=powerpc64le-linux-gnu
	LOADER=lib64/ld64.so.2
	VM_CACHE=$VM_CACHE-ppc64el
	;;
*) die "usage: $0 [base|extras|crash|srp|kernel|powervm]" ;;
esac

# the packages whose programs the guest runs; their library
# dependencies are added below
PKGS=(busybox-static open-iscsi multipath-tools kpartx sg3-utils sg3-utils-udev
	udev dmsetup libc6)
# the programs copied into the guest (found in the unpacked packages)
PROGS=(iscsid iscsiadm multipathd multipath mpathpersist kpartx dmsetup
	udevadm systemd-udevd sg_inq sg_vpd sg_rtpg sg_persist sg_readcap
	sg_turs sg_raw scsi_id)
# the kernel modules (with what they depend on)
MODS=(virtio_pci virtio_net crc32c_generic crc32c_intel libcrc32c iscsi_tcp
	sd_mod sg dm_multipath dm_round_robin dm_service_time dm_queue_length
	scsi_dh_alua)
# extras: python3 with the modules fence_scsi imports (fencing.py: pycurl,
# pexpect), fence-agents (only fence_scsi and fencing.py are copied), fio
XPKGS=(python3-minimal python3.11-minimal libpython3.11-minimal
	libpython3.11-stdlib python3-pycurl python3-pexpect python3-ptyprocess
	fence-agents fio)
XPROGS=(python3 fio fence_scsi)
# trees copied whole (the Python standard library without its tests,
# documentation data and GUI parts)
XTREES=(usr/lib/python3.11 usr/lib/python3/dist-packages usr/share/fence/fencing.py)
XPRUNE='/(test|tests|idlelib|tkinter|turtledemo|ensurepip|lib2to3|pydoc_data|__pycache__)$'
# libraries copied by name (with theirs); modules (with what they need)
# listed in /modules.FLAVOUR, loaded by the test that boots the archive
XLIBS=()
XMODS=()
# powervm (powervm.sh): a POWER client partition: the vSCSI client
# (ibmvscsi; the "VIOS" is qemu's spapr-vscsi), no iSCSI initiator (the
# VIOS side, qemu, speaks iSCSI), multipath-tools, sg3-utils, udev, fio
# (powervm.sh's verify run; with its library closure). Packages are named
# NAME:ppc64el unless they are Architecture: all
if [ "$ARCH" = ppc64el ]; then
	PKGS=(busybox-static:ppc64el multipath-tools:ppc64el kpartx:ppc64el
		sg3-utils:ppc64el sg3-utils-udev udev:ppc64el dmsetup:ppc64el
		libc6:ppc64el fio:ppc64el)
	PROGS=(multipathd multipath mpathpersist kpartx dmsetup udevadm
		systemd-udevd sg_inq sg_vpd sg_rtpg sg_persist sg_readcap sg_turs
		sg_raw sg_luns sg_reset scsi_id fio)
	MODS=(ibmvscsi sd_mod sg dm_multipath dm_round_robin dm_service_time
		dm_queue_length scsi_dh_alua)
fi
# crash (crash.sh) instead: mke2fs, the runtime libraries of the tree's
# tandemd (its ASan build's included; rdma-core's two for its SRP
# transport and libnl-3/libnl-genl-3 for kernel/'s TCM-USER netlink
# family, which it links even where no RDMA device or TCMU exists, and
# libmicrohttpd for its metrics endpoint, with GnuTLS and the rest of its
# closure, linked even where metrics_listen is not set; librbd and
# librados for vdisk_rbd, with boost's and the rest of their closure),
# virtio-blk, dm-log-writes, ext4. The srp and kernel flavours get librbd
# and librados through fio's closure.
if [ "$FLAVOUR" = crash ]; then
	XPKGS=(e2fsprogs liburing2 libqb100 libasan8 libubsan1 libibverbs1
		librdmacm1 libnl-3-200 libnl-genl-3-200 libmicrohttpd12 librbd1
		librados2)
	XPROGS=(mke2fs)
	XTREES=(etc/mke2fs.conf)
	XLIBS=(liburing.so.2 libqb.so.100 libasan.so.8 libubsan.so.1
		librdmacm.so.1 libibverbs.so.1 libnl-3.so.200 libnl-genl-3.so.200
		libmicrohttpd.so.12 librbd.so.1 librados.so.2)
	XMODS=(virtio_blk dm_log_writes ext4)
fi
# srp (srp.sh): Soft-RoCE, the SRP initiator and LIO's SRP target in one
# guest; rdma-core's libraries and its rxe provider (libibverbs finds it
# through /etc/libibverbs.d/rxe.driver, then loads
# libibverbs/librxe-rdmav*.so), iproute2's rdma (rdma link add), the
# verbs and RDMA/CM checks (ibv_devinfo, rping, ucmatose), and what the
# tree's tandemd links (crash's list, with librdmacm and libibverbs for
# its SRP transport and libnl's two for kernel/), sg_reset (sg3-utils: a LUN reset), fio (srp.sh's
# verify run, bench/srp_vm.sh; with its library closure, ceph's and
# gluster's included, it makes this archive 36 MB instead of 7 and the
# boot about 2 s longer: less than booting the extras archive beside it,
# 40 MB and about 3 s, mostly python3). rdma_rxe
# computes its ICRC with the kernel's "crc32" shash: crc32_generic is
# not in its modules.dep, so it is named (first: /modules.srp keeps
# this order). LIO's ramdisk backstore (rd_mcp) is part of
# target_core_mod.
if [ "$FLAVOUR" = srp ]; then
	XPKGS=(iproute2 libibverbs1 librdmacm1 ibverbs-providers rdmacm-utils
		ibverbs-utils liburing2 libqb100 libasan8 libubsan1 fio
		libnl-3-200 libnl-genl-3-200 libmicrohttpd12)
	XPROGS=(rdma ibv_devinfo ibv_devices rping ucmatose sg_reset fio)
	XTREES=(etc/libibverbs.d/rxe.driver)
	XLIBS=(liburing.so.2 libqb.so.100 libasan.so.8 libubsan.so.1
		librdmacm.so.1 libibverbs.so.1 'librxe-rdmav*.so'
		libnl-3.so.200 libnl-genl-3.so.200 libmicrohttpd.so.12)
	XMODS=(crc32_generic udp_tunnel ip6_udp_tunnel rdma_rxe ib_uverbs
		rdma_ucm ib_umad scsi_transport_srp ib_srp configfs
		target_core_mod target_core_file target_core_iblock ib_srpt)
fi
# kernel (kernel.sh, bench/kernel_vm.sh): LIO's kernel fabric tcm_loop
# served through TCMU (target_core_user, which needs uio), LIO's own
# fileio and ramdisk (rd_mcp: in target_core_mod) for the baseline,
# ext4 for the filesystem scenarios, mke2fs; sg3-utils' sg_dd and
# sg_write_same (a write's SCSI status), fio (with its library closure,
# as in srp: most of the archive) and what the tree's tandemd links:
# crash's list with libnl-3 and libnl-genl-3 (kernel/'s TCM-USER
# netlink family). open-iscsi (the iSCSI path to the same LU) is in
# the base archive.
if [ "$FLAVOUR" = kernel ]; then
	XPKGS=(e2fsprogs liburing2 libqb100 libasan8 libubsan1 libibverbs1
		librdmacm1 libnl-3-200 libnl-genl-3-200 libmicrohttpd12 fio)
	XPROGS=(mke2fs e2fsck fio sg_dd sg_write_same sg_reset sg_modes)
	XTREES=(etc/mke2fs.conf)
	XLIBS=(liburing.so.2 libqb.so.100 libasan.so.8 libubsan.so.1
		librdmacm.so.1 libibverbs.so.1 libnl-3.so.200 libnl-genl-3.so.200
		libmicrohttpd.so.12)
	XMODS=(configfs target_core_mod target_core_file target_core_user
		tcm_loop ext4)
fi

mkdir -p "$VM_CACHE/debs"
command -v cpio >/dev/null && command -v depmod >/dev/null &&
	command -v modprobe >/dev/null ||
	die "needs cpio and kmod (scripts/deps.sh test)"

# a foreign guest: its architecture known to dpkg (apt then fetches its
# package lists)
if [ "$ARCH" != amd64 ] && ! dpkg --print-foreign-architectures | grep -qx "$ARCH"; then
	log "dpkg --add-architecture $ARCH"
	dpkg --add-architecture "$ARCH"
fi
# apt's lists: a fresh machine may have none
if ! apt-cache show "$KMETA:$ARCH" >/dev/null 2>&1; then
	log "apt-get update"
	apt-get update -qq >&2
fi
kpkg=$(apt-cache depends "$KMETA:$ARCH" |
	awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ {print $2; exit}')
[ -n "$kpkg" ] || die "no kernel package behind $KMETA"
kpkg=${kpkg%:"$ARCH"}
kver=${kpkg#linux-image-}

# deps_of PKG...: the first alternative of each Depends/PreDepends that is
# a real package
deps_of() {
	apt-cache depends --no-recommends --no-suggests --no-conflicts \
		--no-breaks --no-replaces --no-enhances "$@" 2>/dev/null |
		awk '/^ *\|?(Pre)?Depends: / && $2 !~ /^</ {print $2}' | sort -u
}

# closure PKG...: PKG and the closure through library packages (lib*,
# zlib1g):
# what the programs link; one apt-cache call per level
closure() {
	local -A seen=()
	local level=("$@") next p d
	while [ ${#level[@]} -gt 0 ]; do
		for p in "${level[@]}"; do seen[$p]=1; done
		next=()
		for d in $(deps_of "${level[@]}"); do
			case $d in lib* | zlib1g*) [ -z "${seen[$d]:-}" ] && next+=("$d") ;; esac
		done
		level=("${next[@]}")
	done
	printf '%s\n' "${!seen[@]}"
}

# debs PKG...: the .deb file names of PKG (sorted), the missing ones
# fetched with apt-get download, older versions of the same packages
# dropped from the cache
debs() {
	local files=() missing=() f b
	# (--print-uris run elsewhere: it leaves out files already in the cwd)
	mapfile -t files < <(cd / && apt-get download --print-uris "$@" 2>/dev/null |
		awk '{print $2}' | sort)
	[ ${#files[@]} -eq $# ] || die "apt-get download --print-uris: ${#files[@]} files for $# packages"
	for f in "${files[@]}"; do
		[ -s "$VM_CACHE/debs/$f" ] && continue
		# NAME_VERSION_ARCH.deb: NAME:ARCH for a foreign one
		case $f in
		*_"$ARCH".deb) [ "$ARCH" = amd64 ] && missing+=("${f%%_*}") || missing+=("${f%%_*}:$ARCH") ;;
		*) missing+=("${f%%_*}") ;;
		esac
	done
	if [ ${#missing[@]} -gt 0 ]; then
		log "apt-get download ${#missing[@]} packages"
		(cd "$VM_CACHE/debs" && apt-get download -q "${missing[@]}" >&2) ||
			die "apt-get download failed"
	fi
	for f in "${files[@]}"; do
		for b in "$VM_CACHE/debs/${f%%_*}"_*.deb; do
			[ "$b" = "$VM_CACHE/debs/$f" ] || rm -f "$b"
		done
	done
	printf '%s\n' "${files[@]}"
}

mapfile -t pkgs < <(closure "${PKGS[@]}")
mapfile -t files < <(debs "$kpkg:$ARCH" "${pkgs[@]}")
[ ${#files[@]} -gt 0 ] || exit 1
key=$( (printf '%s\n' "${files[@]}" && cat "$0") | sha256sum | cut -c1-16)
out=$VM_CACHE/guest-$key
xfiles=()
xkey=
if [ -n "$FLAVOUR" ]; then
	mapfile -t xpkgs < <(closure "${PKGS[@]}" "${XPKGS[@]}")
	mapfile -t xfiles < <(debs "${xpkgs[@]}")
	[ ${#xfiles[@]} -gt 0 ] || exit 1
	xkey=$( (printf '%s\n' "${xfiles[@]}" && cat "$0") | sha256sum | cut -c1-16)
fi

# the kernel, unpacked once per version, with its modules.dep
kroot=$VM_CACHE/kernel-$kver
need_base() { ! [ -s "$out/initrd.gz" ] || ! [ -s "$out/vmlinuz" ]; }
need_extras() {
	[ -n "$FLAVOUR" ] && { ! [ -s "$out/$FLAVOUR-initrd.gz" ] ||
		[ "$(cat "$out/$FLAVOUR.key" 2>/dev/null)" != "$xkey" ]; }
}
if ! need_base && ! need_extras; then
	log "cached: $out (kernel $kver${FLAVOUR:+, extras $xkey})"
	echo "$out"
	exit 0
fi
if [ ! -f "$kroot/lib/modules/$kver/modules.dep" ]; then
	rm -rf "$kroot"
	mkdir -p "$kroot"
	dpkg-deb -x "$VM_CACHE/debs/$(printf '%s\n' "${files[@]}" | grep "^${kpkg}_")" "$kroot"
	depmod -b "$kroot" "$kver"
fi
for d in "$VM_CACHE"/kernel-* "$VM_CACHE"/guest-*; do
	[ -e "$d" ] && [ "$d" != "$kroot" ] && [ "$d" != "$out" ] && rm -rf "$d"
done

tmp=$(mktemp -d "$VM_CACHE/tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# unpack DIR FILE...: the packages (not the kernel) into DIR; sets root
# (where they are) and libpath (the guest loader's search path there)
unpack() {
	local f d
	root=$1
	shift
	mkdir -p "$root"
	for f in "$@"; do
		case $f in "${kpkg}_"*) continue ;; esac
		dpkg-deb -x "$VM_CACHE/debs/$f" "$root"
	done
	libpath=$root/lib/$TRIPLET:$root/usr/lib/$TRIPLET:$root/lib:$root/usr/lib
	for d in "$root"/lib/"$TRIPLET"/*/ "$root"/usr/lib/"$TRIPLET"/*/; do
		[ -d "$d" ] && libpath+=:${d%/}
	done
}

# inroot F: F with its symbolic links followed inside $root (links to
# absolute paths mean the guest's paths)
inroot() {
	local f=$1 t n
	for ((n = 0; n < 20; n++)); do
		[ -L "$f" ] || break
		t=$(readlink "$f")
		case $t in
		/*) f=$root$t ;;
		*) f=$(dirname "$f")/$t ;;
		esac
	done
	echo "$f"
}

# copy_file SRC: into the archive being built ($ird) at the same path,
# below $root (a link and what it points to); nothing that the first
# archive has already ($have)
declare -A have=()
copy_file() {
	local rel=${1#"$root"}
	[ -n "${have[$rel]:-}" ] && return 0
	[ -e "$ird$rel" ] || [ -L "$ird$rel" ] && return 0
	mkdir -p "$(dirname "$ird$rel")"
	cp -a "$1" "$ird$rel"
	[ -L "$1" ] && copy_file "$(inroot "$1")"
	return 0
}

# libs_of ELF: the libraries the guest's loader resolves for ELF among the
# unpacked packages; anything resolved outside them is an error. A
# foreign guest's loader cannot run here: its DT_NEEDED entries are
# followed instead, through the same search path ("not" when one is
# missing), with the loader itself
libs_of() {
	if [ "$ARCH" = amd64 ]; then
		"$root/$LOADER" --library-path "$libpath" --list "$1" |
			awk '/=>/ {print $3; next} /^\t\// {print $1}'
		return
	fi
	local -A seen=()
	local todo=("$1") f n d found
	inroot "$root/$LOADER"
	while [ ${#todo[@]} -gt 0 ]; do
		f=${todo[0]}
		todo=("${todo[@]:1}")
		for n in $(readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
			[ -n "${seen[$n]:-}" ] && continue
			seen[$n]=1
			found=
			for d in ${libpath//:/ }; do
				[ -e "$d/$n" ] && found=$d/$n && break
			done
			[ -n "$found" ] || { echo not; continue; }
			echo "$found"
			todo+=("$(inroot "$found")")
		done
	done
}
elf_deps() {
	local f=$1 l libs
	libs=$(libs_of "$f") || die "$f: its libraries cannot be resolved"
	for l in $libs; do
		case $l in
		"$root"/*) copy_file "$l" ;;
		not) die "$f: a library is missing: $(libs_of "$f" | tr '\n' ' ')" ;;
		*) die "$f: $l resolved outside the guest's packages" ;;
		esac
	done
}
# copy_prog NAME: the program (found in the usual directories) and, for
# an ELF file, its libraries
copy_prog() {
	local f="" d
	for d in sbin bin usr/sbin usr/bin lib/systemd lib/udev; do
		# a link may point at an absolute path: resolved below $root
		# (inroot), never on the host
		[ -e "$(inroot "$root/$d/$1")" ] && f=$root/$d/$1 && break
	done
	[ -n "$f" ] || die "$1 not found in the packages"
	copy_file "$f"
	f=$(inroot "$f")
	head -c4 "$f" | grep -q ELF && elf_deps "$f"
	return 0
}
# archive DIR OUT: DIR as a gzip'ed newc cpio archive
archive() {
	(cd "$1" && find . | cpio -o -H newc --quiet) | gzip -1 >"$2"
}

if need_base; then
	unpack "$tmp/pkgs" "${files[@]}"
	ird=$tmp/initrd
	mkdir -p "$ird"
	for p in "${PROGS[@]}"; do
		copy_prog "$p"
	done
	# what glibc loads with dlopen: libgcc_s for pthread_cancel (multipathd
	# aborts without it)
	copy_file "$root/lib/$TRIPLET/libgcc_s.so.1"
	# the programs' interpreter (PT_INTERP); Debian's amd64 libc6 leaves
	# this link to the base system
	mkdir -p "$ird/lib64"
	ln -sf "/lib/$TRIPLET/${LOADER##*/}" "$ird/$LOADER"
	# busybox: the shell and the tools, linked in /bin by /init
	copy_file "$root/bin/busybox"
	# plugins that multipath loads with dlopen, udev's rules and helpers
	for d in "$root"/lib/multipath "$root"/lib/"$TRIPLET"/multipath; do
		[ -d "$d" ] || continue
		for f in "$d"/*.so; do
			copy_file "$f"
			elf_deps "$f"
		done
	done
	for d in "$root"/lib/udev "$root"/usr/lib/udev; do
		[ -d "$d" ] || continue
		find "$d" -path '*/hwdb.d' -prune -o \( -type f -o -type l \) -print |
			while read -r f; do copy_file "$f"; done
	done
	# udev's helpers: their libraries too
	while read -r f; do
		case $f in */bin/busybox) continue ;; esac
		head -c4 "$f" | grep -q ELF && elf_deps "$root${f#"$ird"}"
	done < <(find "$ird" -type f -perm -u+x)

	# the modules in load order (each one's dependencies first)
	: >"$ird/modules"
	for m in "${MODS[@]}"; do
		modprobe -d "$kroot" -S "$kver" --show-depends "$m" ||
			die "module $m not found in $kpkg"
	done | awk '$1 == "insmod" {print $2}' | awk '!s[$0]++' | while read -r m; do
		rel=${m#"$kroot"}
		mkdir -p "$(dirname "$ird$rel")"
		cp "$m" "$ird$rel"
		echo "$rel" >>"$ird/modules"
	done
	echo "$kver" >"$ird/kver"

	mkdir -p "$out"
	archive "$ird" "$out/initrd.gz"
	# the image qemu boots: bzImage on amd64, the ELF vmlinux on ppc64el
	# (pseries' firmware loads it; the name stays vmlinuz)
	if [ "$ARCH" = amd64 ]; then
		cp "$kroot/boot/vmlinuz-$kver" "$out/vmlinuz"
	else
		cp "$kroot/boot/vmlinux-$kver" "$out/vmlinuz"
	fi
	echo "$kver" >"$out/kver"
	rm -f "$out"/*-initrd.gz "$out"/*.key
	log "built $out: kernel $kver, ${#files[@]} packages, $(wc -l <"$ird/modules") modules," \
		"initrd $(du -k "$out/initrd.gz" | cut -f1) KiB in $(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN {printf "%.1f", (b - a) / 1e9}') s"
fi

if need_extras; then
	t1=$(date +%s%N)
	# what the first archive holds is not copied again
	while read -r f; do
		f=${f#.}
		have[/${f#/}]=1
	done < <(gzip -dc "$out/initrd.gz" | cpio -it --quiet)
	unpack "$tmp/xpkgs" "${xfiles[@]}"
	ird=$tmp/extras
	mkdir -p "$ird"
	for p in "${XPROGS[@]}"; do
		copy_prog "$p"
	done
	for t in "${XTREES[@]}"; do
		[ -e "$root/$t" ] || die "$t not found in the packages"
		# shellcheck disable=SC2094 # find reads $root, cpio writes $ird
		(cd "$root" && find "$t" -regextype posix-extended -regex ".*$XPRUNE" -prune -o -print |
			cpio -pdm --quiet "$ird")
	done
	for l in "${XLIBS[@]}"; do
		f=$(find "$root/lib" "$root/usr/lib" -name "$l" 2>/dev/null | head -1 || true)
		[ -n "$f" ] || die "$l not found in the packages"
		copy_file "$f"
		elf_deps "$(inroot "$f")"
	done
	for m in "${XMODS[@]}"; do
		modprobe -d "$kroot" -S "$kver" --show-depends "$m" ||
			die "module $m not found in $kpkg"
	done | awk '$1 == "insmod" {print $2}' | awk '!s[$0]++' | while read -r m; do
		rel=${m#"$kroot"}
		[ -n "${have[$rel]:-}" ] && continue
		mkdir -p "$(dirname "$ird$rel")"
		cp "$m" "$ird$rel"
		echo "$rel" >>"$ird/modules.$FLAVOUR"
	done
	# the extension modules' libraries (the Python standard library's and
	# pycurl's)
	while read -r f; do
		elf_deps "$root${f#"$ird"}"
	done < <(find "$ird/usr/lib" -name '*.so' -type f)
	archive "$ird" "$out/$FLAVOUR-initrd.gz"
	echo "$xkey" >"$out/$FLAVOUR.key"
	log "built $out/$FLAVOUR-initrd.gz: ${#xfiles[@]} packages," \
		"$(du -k "$out/$FLAVOUR-initrd.gz" | cut -f1) KiB in $(awk -v a="$t1" -v b="$(date +%s%N)" 'BEGIN {printf "%.1f", (b - a) / 1e9}') s"
fi
echo "$out"
