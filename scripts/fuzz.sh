#!/bin/bash
# fuzz.sh - run every libFuzzer target of tests/fuzz for a while and check
# that each one really ran.
#
#   scripts/fuzz.sh BUILD_DIR LOG_DIR [SECONDS]
#
# BUILD_DIR is a build configured with --enable-fuzzers CC=clang where
# "make fuzzers" has run. The expected fuzzers are FUZZ_TARGETS of
# tests/fuzz/local.mk (FUZZ_ONLY, a regex of fuzzer names such as
# fuzz_logreplay, keeps those it matches). Each runs for SECONDS
# (default 30) on a copy of its seed corpus, tests/fuzz/corpus/<name
# without fuzz_>/, with its whole output in LOG_DIR/fuzz_<name>.log (of
# the code's own log lines, the first 1000) and a crashing input, if any,
# in LOG_DIR/fuzz_<name>-crash-<sha1>. One summary line per fuzzer; the
# sanitizer report of a failing one.
#
# A fuzzer passes when its binary exists, it loaded every seed ("seed
# corpus: files: N" and INITED), ran to the end ("Done N runs") with more
# than FUZZ_MIN_RUNS runs (default 1000 per 30 s) and exited 0 with no
# sanitizer report. Exits 0 if every fuzzer passed, 1 if any failed, 2 on
# a usage error.
set -uo pipefail

usage() {
	echo "usage: $0 BUILD_DIR LOG_DIR [SECONDS]" >&2
	exit 2
}

if [ $# -lt 2 ] || [ $# -gt 3 ]; then
	usage
fi
secs=${3:-30}
[[ $secs =~ ^[1-9][0-9]*$ ]] || usage
min_runs=${FUZZ_MIN_RUNS:-$((secs * 1000 / 30))}
[[ $min_runs =~ ^[0-9]+$ ]] || usage

top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$1" 2>/dev/null && pwd) || {
	echo "fuzz.sh: no build directory $1" >&2
	exit 2
}
if ! mkdir -p "$2" || ! logdir=$(cd "$2" && pwd); then
	echo "fuzz.sh: cannot create log directory $2" >&2
	exit 2
fi

# the expected fuzzers: FUZZ_TARGETS, with its continuation lines
targets=$(awk '/^FUZZ_TARGETS[ \t]*=/ { on = 1; sub(/^FUZZ_TARGETS[ \t]*=/, "") }
	on { more = sub(/\\$/, ""); print; if (!more) exit }' \
	"$top/tests/fuzz/local.mk" | tr -s ' \t' '\n' | sed -n 's|^tests/fuzz/||p')
if [ -z "$targets" ]; then
	echo "fuzz.sh: no FUZZ_TARGETS in $top/tests/fuzz/local.mk" >&2
	exit 2
fi
if [ -n "${FUZZ_ONLY:-}" ]; then
	targets=$(grep -E -x -- "$FUZZ_ONLY" <<<"$targets")
	if [ -z "$targets" ]; then
		echo "fuzz.sh: FUZZ_ONLY=$FUZZ_ONLY matches no fuzzer of tests/fuzz/local.mk" >&2
		exit 2
	fi
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tandem-fuzz.XXXXXX") || exit 2
pid='' kpid=''

# end the fuzzer we started and its log's writer, if they run, and our
# temporary files
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	local p

	for p in $pid $kpid; do
		kill -TERM "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'echo "fuzz.sh: interrupted" >&2; exit 130' INT
trap 'echo "fuzz.sh: terminated" >&2; exit 143' TERM

# the log: all of a fuzzer's output but the code's own log lines
# ("Mar 05 14:02:11.347 fuzz_link[812] warning: ...", lib/log.c) past the
# first 1000, since a fuzzer that turns logging on writes millions of them
keep_log='
	/^[A-Z][a-z][a-z] [ 0-9][0-9] [0-9:.]+ [A-Za-z0-9_.-]+\[[0-9]+\] (error|warning|notice|info|debug): / { if (++n > 1000) next }
	{ print }
	END {
		if (n > 1000)
			printf "fuzz.sh: %d more log lines of the code under test not kept\n", n - 1000
	}'

# report LOG: the sanitizer report or the crash, else the log's end
report() {
	local log=$1 first

	first=$(grep -n -m1 -E 'runtime error:|==[0-9]+==ERROR|ERROR: libFuzzer|deadly signal|^fuzz_[a-z0-9_]+: ' "$log" |
		cut -d: -f1)
	if [ ! -s "$log" ]; then
		echo "(no output)"
	elif [ -n "$first" ]; then
		# up to the next status line of libFuzzer
		tail -n +"$first" "$log" | awk 'NR > 1 && /^#[0-9]+\t/ { exit } { print }' | head -40
	else
		tail -20 "$log"
	fi | sed 's/^/    /'
}

# field NAME LINE: the number after "NAME: " in a libFuzzer status line,
# or ?
field() {
	local v

	v=$(sed -n "s/.*[[:space:]]$1: \([0-9][0-9]*[a-zA-Z]*\(\/[0-9][0-9]*[a-zA-Z]*\)\{0,1\}\).*/\1/p" <<<"$2")
	echo "${v:-?}"
}

# run NAME: run one fuzzer; prints its summary line; 0 if it passed
run() {
	local name=$1 bin=$build/tests/fuzz/$1 seeds=$top/tests/fuzz/corpus/${1#fuzz_}
	local log=$logdir/$1.log corpus=$tmp/$1.corpus work=$tmp/$1.work
	local nseeds rc runs took inited done_line loaded why='' status=ok show

	rm -f "$log" "$logdir/$name"-crash-* "$logdir/$name"-leak-* "$logdir/$name"-timeout-* \
		"$logdir/$name"-oom-*
	if [ ! -x "$bin" ]; then
		printf '%-12s FAILED: not built (%s missing)\n' "$name" "$bin"
		return 1
	fi
	mkdir -p "$corpus" "$work/state"
	nseeds=0
	if [ -d "$seeds" ]; then
		cp -r "$seeds/." "$corpus/"
		nseeds=$(find "$corpus" -type f | wc -l)
	fi
	if [ "$nseeds" -eq 0 ]; then
		printf '%-12s FAILED: no seed corpus in %s\n' "$name" "$seeds"
		return 1
	fi

	# its own directory: files it writes (fuzz_cdb's APTPL state) go
	# to the temporary directory; timeout: a hung start is ended too
	mkfifo "$tmp/$name.out" || return 1
	awk "$keep_log" <"$tmp/$name.out" >"$log" &
	kpid=$!
	(
		cd "$work" &&
			TANDEM_STATE_DIR=$work/state \
				UBSAN_OPTIONS=print_stacktrace=1:${UBSAN_OPTIONS:-} \
				exec timeout -k 10 $((secs + 120)) "$bin" \
				-max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 \
				-print_final_stats=1 -artifact_prefix="$logdir/$name-" "$corpus"
	) >"$tmp/$name.out" 2>&1 &
	pid=$!
	wait "$pid" 2>/dev/null
	rc=$?
	pid=
	wait "$kpid"
	kpid=

	runs=$(sed -n 's/^Done \([0-9][0-9]*\) runs in [0-9]* second.*/\1/p' "$log" | tail -1)
	took=$(sed -n 's/^Done [0-9]* runs in \([0-9][0-9]*\) second.*/\1/p' "$log" | tail -1)
	loaded=$(sed -n 's/^INFO: seed corpus: files: \([0-9][0-9]*\) .*/\1/p' "$log" | head -1)
	inited=$(grep -m1 -E '^#[0-9]+[[:space:]]+INITED ' "$log")
	done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE ' "$log" | tail -1)

	show=1 # the failure's report
	if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
		why="hung: killed after $((secs + 120)) s"
	elif [ $rc -gt 128 ]; then
		why="exit $rc (SIG$(kill -l $((rc - 128)) 2>/dev/null))"
	elif [ $rc -ne 0 ]; then
		why="exit $rc"
	elif grep -q -E 'runtime error:|==[0-9]+==(ERROR|WARNING): [A-Za-z]*Sanitizer' "$log"; then
		why="sanitizer report in the log"
	elif [ -z "$inited" ]; then
		why="never started fuzzing (no INITED line)"
	elif [ -z "$runs" ]; then
		why="did not run to the end (no \"Done N runs\" line)"
	elif [ "${loaded:-0}" -ne "$nseeds" ]; then
		why="loaded ${loaded:-0} of its $nseeds seed inputs"
		show=0
	elif [ "$runs" -le "$min_runs" ]; then
		why="only $runs runs (floor $min_runs)"
		show=0
	fi

	[ -z "$why" ] || status=FAILED
	printf '%-12s %-6s exit %d, %s runs in %s s, cov %s (seeds) -> %s, ft %s, corpus %s seeds -> %s\n' \
		"$name" "$status" "$rc" "${runs:-?}" "${took:-?}" \
		"$(field cov "$inited")" "$(field cov "$done_line")" \
		"$(field ft "$done_line")" "$nseeds" "$(field corp "$done_line")"
	[ -z "$why" ] && return 0
	echo "    $name: $why; log $log"
	[ $show -eq 0 ] || report "$log"
	return 1
}

failed=()
n=0
for t in $targets; do
	n=$((n + 1))
	run "$t" || failed+=("$t")
done

if [ ${#failed[@]} -ne 0 ]; then
	echo "fuzz.sh: ${#failed[@]} of $n fuzzers FAILED: ${failed[*]} (logs in $logdir)"
	exit 1
fi
echo "fuzz.sh: all $n fuzzers passed, $secs s each (logs in $logdir)"
exit 0
