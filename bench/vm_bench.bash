# shellcheck shell=bash disable=SC2034
# vm_bench.bash - what the VM lab's benchmarks share (srp_vm.sh,
# kernel_vm.sh; bench/README.md). Sourced from the top of the tree
# after tests/vm/solo.bash:
#
#   vmb_whole NAME VAR...      each VAR a whole number, or "NAME: VAR
#                              must be a whole number" and exit 2
#   vmb_boot FLAVOUR GUEST BENCH NAME
#                              the guest of build.sh FLAVOUR (tandemd in
#                              it when TARGETS names tandem: TANDEMD's
#                              libraries checked), tests/vm/guest/GUEST
#                              and the benchmark's guest side BENCH as
#                              /bin/NAME, booted; the guest's kernel, fio
#                              and qemu in FIG
#   vmb_fio WHAT CMD SECS      CMD in the guest (a fio run that prints
#                              "cpu: ..." and, after a line "json:",
#                              fio's JSON): VMB_JSON, VMB_CPU, and
#                              VMB_V "IOPS MB/s p50 p99 p99.9" (us) of
#                              the job's read or write side (by the
#                              JOB name in WHAT's last word); the JSON
#                              kept as OUT/WHAT.json (spaces: dashes);
#                              status 1 (a ko) when fio failed

vmb_whole() {
	local name=$1 v
	shift
	for v in "$@"; do
		case ${!v} in
		'' | *[!0-9]*)
			echo "$name: $v must be a whole number, not '${!v}'" >&2
			exit 2
			;;
		esac
	done
}

vmb_boot() {
	local files=("$VM_SRC/guest/$2")
	if [[ " $TARGETS " == *" tandem "* ]]; then
		solo_guest "$1" "$TANDEMD"
		files+=("$TANDEMD")
	else
		solo_guest "$1"
	fi
	mkdir -p "$LAB_DIR/$4/files/bin"
	install -m 755 "$3" "$LAB_DIR/$4/files/bin/$4" || finish
	solo_files "$LAB_DIR/$4" "${files[@]}" || { ko "the guest's files"; finish; }
	solo_boot "TCG, 1 vCPU, $VM_MEM MiB"
	gstep "kernel, fio, tandemd" 20 "uname -r; fio --version; tandemd --version 2>/dev/null | head -1; true"
	FIG+=("guest kernel $(sed -n 1p <<<"$VM_OUT"), $(sed -n 2p <<<"$VM_OUT"), host qemu $(qemu-system-x86_64 --version | head -1 | awk '{print $4}')")
}

vmb_fio() {
	local side=write
	vm_run "$3" "$2"
	VMB_JSON=$(sed -n '/^json:$/,$p' <<<"$VM_OUT" | sed 1d)
	VMB_CPU=$(sed -n 's/^cpu: //p' <<<"$VM_OUT")
	VMB_V=
	if [ "$VM_RC" != 0 ] || ! jq -e '.jobs[0].error == 0' >/dev/null 2>&1 <<<"$VMB_JSON"; then
		ko "$1: fio status $VM_RC: $(head -c 600 <<<"$VM_OUT")"
		return 1
	fi
	[ -z "$OUT" ] || printf '%s\n' "$VMB_JSON" >"$OUT/${1// /-}.json"
	case ${1##* } in *read*) side="read" ;; esac
	VMB_V=$(jq -r --arg f "$side" '.jobs[0][$f] as $s | [$s.iops, $s.bw_bytes / 1e6,
		$s.clat_ns.percentile["50.000000"] / 1e3, $s.clat_ns.percentile["99.000000"] / 1e3,
		$s.clat_ns.percentile["99.900000"] / 1e3] | map(tostring) | join(" ")' <<<"$VMB_JSON")
}
