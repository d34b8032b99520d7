#!/bin/bash
# iscsi-test-cu.sh [--handler H] [--blocksize N] [--min-honest N] [--port P]
#                  [--device-attr "KEY VALUE"]... [--test T]
#
# Start tandemd on loopback with one LU exported through one target at two
# portals (so libiscsi's MultipathIO suite runs), run
#   iscsi-test-cu -V --dataloss --test=ALL URL1 URL2
# (-V: some skips are printed only in verbose mode) and count the result
# honestly (tests/conformance/cu_summary.py): any failure, any test
# without a result, any selected test that did not run, any passed test
# that printed [FAILED] and is not classified in flagged.txt, or fewer
# honest passes than the bar fails this test. The daemon must also still
# be alive and stop cleanly. --thick: a fully provisioned LU.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/common.sh

handler=vdisk_fileio
bs=512
min=160
port=3300
tests=ALL
one_path=
exclude=
why=
extra_attrs=
thin=1
cdrom=
while [ $# -gt 0 ]; do
	case $1 in
	--handler) handler=$2; shift ;;
	--blocksize) bs=$2; shift ;;
	--min-honest) min=$2; shift ;;
	--port) port=$2; shift ;;
	--test) tests=$2; shift ;;
	--one-path) one_path=1 ;;
	--thick) thin=0 ;;
	--device-attr) extra_attrs+="$2"$'\n'; shift ;;
	--exclude) exclude=$2; why=$3; shift 2 ;;
	*) echo "usage: $0 [--handler H] [--blocksize N] [--min-honest N] [--port P] [--test T] [--one-path] [--thick] [--device-attr "KEY VALUE"] [--exclude REGEX REASON]"; exit 2 ;;
	esac
	shift
done
command -v iscsi-test-cu >/dev/null || { echo "SKIP: iscsi-test-cu not installed (apt-get install libiscsi-bin)"; exit 77; }

tdm_tmpdir
trap tdm_cleanup EXIT
iqn=iqn.2026-11.org.tandem:conformance
size=$((256 * 1024 * 1024))
case $handler in
vdisk_fileio)
	truncate -s $size "$TDM_TMP/lu.img"
	devattrs="filename $TDM_TMP/lu.img" ;;
vdisk_nullio|ram)
	devattrs="size $size" ;;
vcdrom|vdisk_cdrom) # vdisk_cdrom: tandem's older name for vcdrom
	cdrom=1
	# an "ISO": 2048-byte blocks, each starting with its LBA (no
	# ISO 9660 needed); read-only and removable by definition
	size=$((64 * 1024 * 1024))
	python3 -c 'import struct,sys
with open(sys.argv[1], "wb") as f:
    for i in range(int(sys.argv[2]) // 2048):
        f.write(struct.pack(">I", i) + bytes([i & 0xFF]) * 2044)' "$TDM_TMP/lu.iso" $size
	devattrs="filename $TDM_TMP/lu.iso"
	bs=2048 ;;
*) echo "unsupported handler $handler"; exit 2 ;;
esac
cat >"$TDM_TMP/tandem.conf" <<CONF
HANDLER $handler {
	DEVICE lu0 {
		$devattrs
		blocksize $bs
$( [ -n "$cdrom" ] || echo "		thin_provisioned $thin" )
$(printf '%s' "$extra_attrs" | sed 's/^/\t\t/')
	}
}
TARGET_DRIVER iscsi {
	enabled 1
	portal 127.0.0.1:$port
	portal 127.0.0.1:$((port + 1))
	TARGET $iqn {
		enabled 1
		rel_tgt_id 1
		LUN 0 lu0
	}
}
CONF
start_tandemd "$TDM_TMP/tandem.conf" "$TDM_TMP/tandemd.log"
if ! wait_port 127.0.0.1 "$port" 20; then
	echo "FAIL: tandemd did not start"; cat "$TDM_TMP/tandemd.log"; exit 1
fi
log=${CU_LOG:-$TDM_TMP/iscsi-test-cu.log}
urls=("iscsi://127.0.0.1:$port/$iqn/0" "iscsi://127.0.0.1:$((port + 1))/$iqn/0")
# iscsi-test-cu: "multipath devices must be SBC": one path for a CD-ROM
# one path: a CD-ROM (iscsi-test-cu refuses multipath on non-SBC), or
# --one-path (PreventAllow.2ITNexuses uses the second path's session as
# its "other nexus" and does not expect the LUN RESET unit attention that
# the previous test raised there)
{ [ -n "$cdrom" ] || [ -n "$one_path" ]; } && urls=("${urls[0]}")
start=$(date +%s)
if [ -z "$exclude" ]; then
	echo "iscsi-test-cu --dataloss --test=$tests ($handler, $bs-byte blocks) ..."
	timeout 900 iscsi-test-cu -V --dataloss --test="$tests" "${urls[@]}" >"$log" 2>&1
	cu_rc=$?
else
	# every test but those matching REGEX, for a stated reason: whole
	# suites where nothing is excluded, single tests elsewhere
	# (iscsi-test-cu mishandles long --test lists)
	echo "excluded: tests matching '$exclude': $why"
	echo "iscsi-test-cu --dataloss, suite by suite ($handler, $bs-byte blocks) ..."
	: >"$log"
	cu_rc=0
	all=$(iscsi-test-cu --list 2>/dev/null)
	while IFS= read -r suite; do
		if grep -E "^$suite\." <<<"$all" | grep -qE "$exclude"; then
			sel=$(grep -E "^$suite\.[^.]+$" <<<"$all" | grep -vE "$exclude")
		else
			sel=$suite
		fi
		for t in $sel; do
			timeout 300 iscsi-test-cu -V --dataloss --test="$t" "${urls[@]}" >>"$log" 2>&1 || cu_rc=$?
		done
	done < <(grep -E '^ALL\.[^.]+$' <<<"$all")
fi
echo "iscsi-test-cu exit $cu_rc after $(( $(date +%s) - start )) s"
rc=0
python3 tests/conformance/cu_summary.py "$log" --min-honest "$min" \
	--select "$tests" ${exclude:+--exclude "$exclude"} \
	--flagged tests/conformance/flagged.txt || rc=1
if ! kill -0 "$TANDEMD_PID" 2>/dev/null; then
	echo "FAIL: tandemd died during the run"; rc=1
elif ! stop_tandemd; then
	echo "FAIL: tandemd did not stop cleanly"; rc=1
fi
if grep -qE "ERROR: (Address|Leak)Sanitizer|runtime error:" "$TDM_TMP/tandemd.log"; then
	echo "FAIL: sanitizer report in tandemd's log:"; grep -A30 -E "Sanitizer|runtime error" "$TDM_TMP/tandemd.log" | head -60; rc=1
fi
[ $rc -eq 0 ] || { echo "--- tandemd log (tail)"; tail -30 "$TDM_TMP/tandemd.log"; }
exit $rc
