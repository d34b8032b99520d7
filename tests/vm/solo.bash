# shellcheck shell=bash disable=SC2034
# solo.bash - what the VM lab's one-guest scenarios share (crash.sh,
# srp.sh; tests/vm/README.md): no heads, the lab only for its client
# namespace, where qemu runs. Sourced from the top of the tree: it
# sources tests/cluster/lab.sh, checks.bash and vm.bash, and needs root.
#
#   solo_guest FLAVOUR [ELF]   the guest built with FLAVOUR's archive
#                              (build.sh), ELF's libraries checked in it
#                              (vm_libs_missing), the lab's client
#                              namespace, vmwriter (vm_initrd copies it)
#   solo_files DIR FILE...     the FILEs in DIR/files/bin (mode 755), as
#                              one more initramfs archive (VM_INITRD_EXTRA)
#   solo_boot [WHAT]           the guest booted (WHAT: said after the time)
#   gstep DESC SECS CMD        CMD in the guest, its output shown; exit 0
#                              wanted, or finish
#   finish                     on a failure, SOLO_DUMP's output in the
#                              guest (when it answers) and the console's
#                              last lines; the figures (FIG) under
#                              SOLO_TITLE, "N passed, N failed", lab_down;
#                              exits 0 only when nothing failed
#   indent MARK TEXT, secs T0, kv KEY TEXT, num KEY TEXT
. tests/cluster/lab.sh
. tests/cluster/checks.bash
. tests/vm/vm.bash
lab_need_root
FIG=()
: "${SOLO_DUMP:=dmesg | tail -40}"
: "${SOLO_TITLE:=figures}"

finish() {
	if [ "$FAILED" -gt 0 ] && [ -n "$VM_DIR" ] && [ -z "$VM_BROKEN" ] && lab_alive "$VM_PID"; then
		vm_run 20 "$SOLO_DUMP"
		echo "== in the guest: $SOLO_DUMP"
		echo "$VM_OUT"
	fi
	if [ "$FAILED" -gt 0 ] && [ -n "$VM_DIR" ]; then
		echo "== the guest's console (last lines)"
		vm_console 30
	fi
	FIG+=("the whole run: $SECONDS s")
	echo "== $SOLO_TITLE"
	printf '   %s\n' "${FIG[@]}"
	echo "$PASSED passed, $FAILED failed"
	lab_down
	[ "$FAILED" -eq 0 ]
	exit
}
# indent MARK TEXT: TEXT's lines, indented and marked
indent() {
	local l
	while IFS= read -r l; do
		printf '   %s %s\n' "$1" "$l"
	done <<<"$2"
}
# secs T0: seconds (0.1) since T0 (date +%s%N)
secs() { awk -v a="$1" -v b="$(date +%s%N)" 'BEGIN {printf "%.1f", (b - a) / 1e9}'; }
# kv KEY TEXT: the value of KEY=VALUE in TEXT's last line holding it
kv() { grep -oE "(^| )$1=[^ ]*" <<<"$2" | tail -1 | cut -d= -f2; }
# num KEY TEXT: the same, 0 when absent or not a number
num() {
	local v
	v=$(kv "$1" "$2")
	[[ $v =~ ^[0-9]+$ ]] && echo "$v" || echo 0
}

# gstep DESC SECS CMD: CMD in the guest, its output shown, exit 0 wanted
gstep() {
	local t0
	t0=$(date +%s%N)
	vm_run "$2" "$3"
	indent "|" "$VM_OUT"
	if [ "$VM_RC" = 0 ]; then
		ok "$1 ($(secs "$t0") s)"
	else
		ko "$1: status $VM_RC"
		finish
	fi
}

solo_guest() {
	local missing
	vm_guest "$1" || finish
	if [ -n "${2:-}" ]; then
		missing=$(vm_libs_missing "$2")
		[ -z "$missing" ] && ok "every library $2 needs is in the guest" ||
			{ ko "$2 needs $(echo "$missing" | tr '\n' ' ')which the guest lacks (build.sh's $1 XPKGS, XLIBS)"; finish; }
	fi
	lab_up 1 || { ko "lab_up failed"; finish; }
	vm_writer || { ko "vmwriter could not be built"; finish; }
}

solo_files() {
	local d=$1/files f
	shift
	mkdir -p "$d/bin"
	for f in "$@"; do
		install -m 755 "$f" "$d/bin/" || return 1
	done
	(cd "$d" && find . | cpio -o -H newc --quiet | gzip -1) >"$d.gz" || return 1
	VM_INITRD_EXTRA=("$d.gz")
}

solo_boot() {
	if vm_boot "" ""; then
		ok "the guest boots to its control loop in $VM_BOOT_S s${1:+ ($1)}"
		FIG+=("guest boot: $VM_BOOT_S s")
	else
		ko "the guest did not boot: $(vm_console 20)"
		finish
	fi
}
