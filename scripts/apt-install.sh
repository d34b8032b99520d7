#!/bin/bash
# apt-install.sh PKG... - install Debian packages that are not installed
# yet, as every script of the tree does it: non-interactive, without
# recommends, waiting for the dpkg lock instead of failing when another
# apt-get holds it (a fresh machine often runs one at boot), with one
# apt-get update when the package lists are missing or stale, and without
# starting the packages' services (policy-rc.d; the tests start what they
# need themselves). Exit status: apt-get's.
set -uo pipefail
missing=()
for p in "$@"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
# wait up to 10 minutes for the lock
lock=(-o DPkg::Lock::Timeout=600)
rcd=
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
	$SUDO chmod 755 /usr/sbin/policy-rc.d
	rcd=1
fi
echo "installing ${missing[*]}" >&2
rc=0
if ! $SUDO apt-get "${lock[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
	$SUDO apt-get "${lock[@]}" update -qq &&
		$SUDO apt-get "${lock[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || rc=$?
fi
[ -n "$rcd" ] && $SUDO rm -f /usr/sbin/policy-rc.d
exit $rc
