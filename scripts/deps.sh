#!/bin/bash
# deps.sh [build|demo|test|image] - install what tandem needs from Debian 12's
# packages (scripts/apt-install.sh: only what is missing, waiting for the
# dpkg lock).
#   build: compilers, autotools, liburing, libqb (the daemons' logging),
#          corosync's client libraries (tandem-agentd), pacemaker-dev
#          (<crm/stonith-ng.h>: tandem-agentd --fencing pacemaker),
#          rdma-core's libibverbs and librdmacm (the SRP target, srp/),
#          libnl-genl-3 (TCMU's netlink family: the kernel fabrics, kernel/),
#          libmicrohttpd (tandemd's metrics endpoint, targetd/metrics.c),
#          libsystemd (sd_notify: lib/sdnotify.c), librbd and librados
#          (the vdisk_rbd backstore, backstores/rbd.c)
#   demo:  build + the initiator tools scripts/demo.sh tells you to use
#          (libiscsi-bin: iscsi-ls, iscsi-inq; open-iscsi: iscsiadm)
#   test:  build + corosync (agent tests), libiscsi (conformance suite,
#          bench), cmocka, tgt (the peer in bench/), iperf3, clang's
#          fuzzer runtime, shellcheck, qb-blackbox (libqb-tools: the
#          blackbox dumps), the VM lab's host side (tests/vm: qemu-system-x86,
#          cpio, kmod's depmod and modprobe, e2fsprogs' e2fsck and debugfs
#          for crash.sh; qemu-system-ppc, qemu's iSCSI driver
#          (qemu-block-extra), readelf and the ppc64el cross compiler
#          for powervm.sh; the guest's own packages are fetched with
#          apt-get download, never installed), tests/func/metrics.sh's
#          scraper and checkers: curl, python3-prometheus-client (its
#          exposition parser), chromium (the status page, headless),
#          the Ceph lab (tests/cluster/ceph.bash: ceph-mon, ceph-mgr,
#          ceph-osd, ceph-common, uuid-runtime's uuidgen)
#   image: build + what images/build.sh and tests/vm/image.sh need on the
#          host: libsystemd-dev (tandemd's sd_notify), mmdebstrap, e2fsprogs'
#          mke2fs -d, fdisk's sfdisk, extlinux and syslinux-common (the disk's
#          boot loader), file (ELF detection), qemu-system-x86 and libiscsi-bin
#          (the boot test's login), corosync (corosync-keygen),
#          drbd-utils (drbdadm -c FILE dump) and pacemaker-cli-utils
#          (crm_verify) for tandem-setup's checks
set -euo pipefail
what=${1:-build}
build_pkgs=(build-essential autoconf automake libtool pkg-config liburing-dev
	libqb-dev libcpg-dev libvotequorum-dev libquorum-dev libcorosync-common-dev
	pacemaker-dev libibverbs-dev librdmacm-dev libnl-3-dev libnl-genl-3-dev
	libmicrohttpd-dev libsystemd-dev librbd-dev librados-dev)
demo_pkgs=(libiscsi-bin open-iscsi)
test_pkgs=(libiscsi-dev libiscsi-bin libcmocka-dev clang clang-format
	libclang-rt-14-dev tgt iperf3 util-linux iproute2 python3 procps
	corosync shellcheck libqb-tools qemu-system-x86 cpio kmod e2fsprogs
	qemu-system-ppc qemu-block-extra binutils gcc-powerpc64le-linux-gnu
	libc6-dev-ppc64el-cross curl python3-prometheus-client chromium
	ceph-mon ceph-mgr ceph-osd ceph-common uuid-runtime)
image_pkgs=(mmdebstrap e2fsprogs fdisk extlinux syslinux-common file qemu-system-x86 libiscsi-bin corosync
	drbd-utils pacemaker-cli-utils)
pkgs=("${build_pkgs[@]}")
case $what in
build) ;;
demo) pkgs+=("${demo_pkgs[@]}") ;;
test) pkgs+=("${test_pkgs[@]}" "${image_pkgs[@]}") ;;
image) pkgs+=("${image_pkgs[@]}") ;;
*) echo "usage: $0 [build|demo|test|image]" >&2; exit 2 ;;
esac
exec "$(dirname "$0")/apt-install.sh" "${pkgs[@]}"
