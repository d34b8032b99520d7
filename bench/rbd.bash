# shellcheck shell=bash
# rbd.bash - what bench/rbd.sh and bench/rbd_vm.sh share (sourced from
# the top of the tree; bench/README.md):
#
#   rbd_job_args JOB         iscsi_load's options of a workload:
#                            randwrite4k, randread4k (4 KiB random, QD
#                            32), write1m, read1m (1 MiB sequential, QD
#                            $QD_SEQ); status 1 for another name
#   rbd_iscsi_keys           run-compare.sh's ISCSI_KEYS (the iSCSI
#                            parameters every tandem benchmark gives
#                            the target), as tandem.conf lines
#   rbd_field DIR LU JOB JQ SUFFIX
#                            JQ's value in each DIR/LU-JOB-N.SUFFIX
#   rbd_med                  "median lowest highest" of the numbers on
#                            stdin ("- - -" for none)
#   rbd_medians DIR LU JOB   "IOPS lowest highest MB/s p50 p99" over the
#                            runs' JSON results (medians)

rbd_job_args() {
	case $1 in
	randwrite4k) echo "--bs 4k --rw write --pattern random --qd 32" ;;
	randread4k) echo "--bs 4k --rw read --pattern random --qd 32" ;;
	write1m) echo "--bs 1m --rw write --pattern seq --qd $QD_SEQ" ;;
	read1m) echo "--bs 1m --rw read --pattern seq --qd $QD_SEQ" ;;
	*) return 1 ;;
	esac
}

rbd_iscsi_keys() {
	sed -n '/^ISCSI_KEYS="$/,/^"$/p' bench/run-compare.sh | sed -e '1d' -e '$d' -e 's/^/	/'
}

rbd_field() {
	local f
	for f in "$1/$2-$3-"*".$5"; do
		[ -s "$f" ] && jq -r "$4" "$f"
	done
}

rbd_med() {
	sort -g | awk '{v[NR] = $1} END {if (NR == 0) {print "- - -"; exit}
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; print m, v[1], v[NR]}'
}

rbd_medians() {
	local k out=()
	read -r -a out < <(rbd_field "$1" "$2" "$3" .total.iops json | rbd_med)
	for k in .total.mbps .total.lat_us.p50 .total.lat_us.p99; do
		out+=("$(rbd_field "$1" "$2" "$3" "$k" json | rbd_med | cut -d' ' -f1)")
	done
	echo "${out[*]}"
}

# rbd_table DIR LUS JOBS COLUMN...: the Markdown table of the runs in DIR
# (a row per job and LU: the medians of rbd_medians, then one column per
# COLUMN "TITLE:SUFFIX:JQ", the median of JQ over DIR/LU-JOB-N.SUFFIX);
# each row's median IOPS and columns also in DIR/med-LU-JOB
rbd_table() {
	local dir=$1 lus=$2 jobs=$3 c j l v row
	shift 3
	local head="| LU | job | IOPS median (min-max) | MB/s | p50 us | p99 us |" rule="|---|---|--:|--:|--:|--:|"
	for c in "$@"; do
		head+=" ${c%%:*} |"
		rule+="--:|"
	done
	echo
	echo "$head"
	echo "$rule"
	for j in $jobs; do
		for l in $lus; do
			read -r im imin imax mb p50 p99 < <(rbd_medians "$dir" "$l" "$j")
			row=$(printf '| %s | %s | %.0f (%.0f-%.0f) | %.1f | %.0f | %.0f |' \
				"$l" "$j" "$im" "$imin" "$imax" "$mb" "$p50" "$p99")
			local meds=("$im")
			for c in "$@"; do
				IFS=: read -r _ suffix jqx <<<"$c"
				v=$(rbd_field "$dir" "$l" "$j" "$jqx" "$suffix" | rbd_med | cut -d' ' -f1)
				meds+=("$v")
				row+=$(printf ' %.0f |' "$v")
			done
			echo "$row"
			echo "${meds[*]}" >"$dir/med-$l-$j"
		done
	done
}

# rbd_rounds FUNC: FUNC LU JOB ROUND for every round (1..REPS), job
# (JOBS) and LU (LUS), in that nesting: the LUs take turns on each job
# shellcheck disable=SC2153 # REPS, JOBS, LUS: the caller's
rbd_rounds() {
	local r j l
	for ((r = 1; r <= REPS; r++)); do
		for j in $JOBS; do
			for l in $LUS; do
				"$1" "$l" "$j" "$r"
			done
		done
	done
}
