#!/bin/bash
# images/configure-rootfs.sh ROOTFS [ROOT_PASSWORD_HASH] - the appliance's
# own configuration of a Debian 12 root file system that already holds
# this tree (build.sh step 3): host name, fstab, DHCP on every wired NIC
# (systemd-networkd), a serial console, the units enabled or not.
# Nothing here starts a service: systemctl --root only makes the links.
set -euo pipefail
r=$1
hash=${2:-}
[ -x "$r/usr/sbin/tandemd" ] || { echo "configure-rootfs.sh: no tandemd in $r" >&2; exit 1; }

echo tandem-head >"$r/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\ttandem-head\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$r/etc/hosts"
printf 'LABEL=tandem-root\t/\text4\terrors=remount-ro\t0\t1\n' >"$r/etc/fstab"
# an empty machine-id: systemd makes one at first boot (each head its own)
: >"$r/etc/machine-id"
rm -f "$r/var/lib/dbus/machine-id"
# Pacemaker's postinst made a random key (pacemaker_remote's): no head
# image carries a secret; pacemaker-remoted is not used by a head
rm -f "$r/etc/pacemaker/authkey"

mkdir -p "$r/etc/systemd/network"
cat >"$r/etc/systemd/network/50-wired.network" <<'EOF'
# tandem image: DHCP on every wired NIC until tandem-setup writes the
# head's own addresses (10-tandem-*.network, matched first)
[Match]
Name=en* eth*

[Network]
DHCP=yes
EOF

# network-online: one configured interface is enough (a head's cluster
# link or a spare NIC without DHCP must not fail the boot)
mkdir -p "$r/etc/systemd/system/systemd-networkd-wait-online.service.d"
printf '[Service]\nExecStart=\nExecStart=/lib/systemd/systemd-networkd-wait-online --any --timeout=60\n' \
	>"$r/etc/systemd/system/systemd-networkd-wait-online.service.d/50-tandem.conf"

# the journal on disk, bounded
mkdir -p "$r/etc/systemd/journald.conf.d" "$r/var/log/journal"
printf '[Journal]\nStorage=persistent\nSystemMaxUse=200M\n' >"$r/etc/systemd/journald.conf.d/50-tandem.conf"

# root: locked unless a password hash was given (build.sh --root-password-hash)
if [ -n "$hash" ]; then
	printf 'root:%s\n' "$hash" | chroot "$r" chpasswd -e
fi

# units: networkd and the serial console on; corosync and pacemaker off
# until tandem-setup configured the head (Debian enables them at install);
# tandemd on, started only once /etc/tandem/tandem.conf exists
# (ConditionPathExists in its unit)
systemctl --root="$r" enable systemd-networkd.service serial-getty@ttyS0.service >/dev/null 2>&1
systemctl --root="$r" disable corosync.service pacemaker.service >/dev/null 2>&1 || true
systemctl --root="$r" enable tandemd.service >/dev/null 2>&1
# multipathd is for self-checks of this head's own LUs, not a service here
systemctl --root="$r" disable multipathd.service multipathd.socket >/dev/null 2>&1 || true
mkdir -p "$r/etc/tandem" "$r/var/lib/tandem"
chmod 750 "$r/var/lib/tandem"
