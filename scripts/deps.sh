#!/bin/bash
# deps.sh [build|test] - install what tandem needs from Debian 12's packages.
#   build: compilers, autotools, liburing, libqb (the daemons' logging),
#          corosync's client libraries (tandem-agentd)
#   test:  build + corosync (agent tests), libiscsi (conformance suite,
#          bench), cmocka, tgt (the peer in bench/), iperf3, clang's
#          fuzzer runtime, shellcheck, qb-blackbox (libqb-tools: the
#          blackbox dumps)
set -euo pipefail
what=${1:-build}
build_pkgs=(build-essential autoconf automake libtool pkg-config liburing-dev
	libqb-dev libcpg-dev libvotequorum-dev libquorum-dev libcorosync-common-dev)
test_pkgs=(libiscsi-dev libiscsi-bin libcmocka-dev clang clang-format
	libclang-rt-14-dev tgt iperf3 util-linux iproute2 python3 procps
	corosync shellcheck libqb-tools)
pkgs=("${build_pkgs[@]}")
[ "$what" = test ] && pkgs+=("${test_pkgs[@]}")

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# tgt's package starts tgtd through systemd when it can; we only need the
# binary (bench/ starts its own tgtd on another port)
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
