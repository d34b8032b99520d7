#!/bin/bash
# demo.sh - install the build dependencies and the initiator tools it tells
# you to use, build tandem, and run tandemd in the foreground serving a demo
# LU (a sparse 1 GiB file) on 127.0.0.1:3260.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
./scripts/deps.sh demo
[ -x configure ] || autoreconf -fi >/dev/null
[ -f Makefile ] || ./configure --quiet
make -j"$(nproc)" >/dev/null
state=${TANDEM_DEMO_DIR:-/var/lib/tandem}
mkdir -p "$state"
img="$state/demo.img"
if [ ! -e "$img" ]; then
	truncate -s 1G "$img"
	echo "created sparse 1 GiB demo disk $img"
fi
conf="$state/demo.conf"
sed "s|@DEMO_IMG@|$img|" dist/tandem-demo.conf >"$conf"
iqn=$(awk '/TARGET iqn/ {print $2; exit}' "$conf")
cat <<MSG

tandemd is starting in the foreground with $conf (Ctrl-C stops it).
Reach the demo LU from this machine with:
  iscsi-ls -s iscsi://127.0.0.1:3260              # libiscsi-bin
  iscsi-inq iscsi://127.0.0.1:3260/$iqn/0
  iscsiadm -m discovery -t st -p 127.0.0.1        # open-iscsi
  iscsiadm -m node -T $iqn -p 127.0.0.1 --login
Administer it with:  ctl/tandemctl -s /run/tandem/tandemd.sock -list_sessions

MSG
exec targetd/tandemd --foreground --config "$conf" \
	--control-socket /run/tandem/tandemd.sock
