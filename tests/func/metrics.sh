#!/bin/bash
# metrics.sh - the metrics endpoint and status page (targetd/metrics.c,
# docs/observability.md): one tandemd on loopback with two ram LUs behind
# two targets (relative ports 1 and 2) in two ALUA groups.
#  (a) metrics_listen errors in the file are refused with file:line;
#  (b) without metrics_listen nothing listens (off by default);
#  (c) with it: bound to 127.0.0.1 only (127.0.0.2 refused), a second
#      tandemd on the same address refused at start with the reason, GET and
#      HEAD /metrics with the 0.0.4 content type, 404 for another path,
#      405 with Allow for POST/PUT/DELETE/OPTIONS; what libmicrohttpd
#      refuses itself (414, 431, 400, 505, garbage closed); a query
#      string ignored;
#  (d) known I/O through libiscsi (tests/func/metrics_io): the command
#      and byte counters of LU r0 and port 1 moved by exactly the reads
#      and writes done, one ILLEGAL REQUEST counted by sense key for a
#      READ past the end, LU r1 and port 2 did not move, nothing in flight
#      after; every histogram is cumulative, +Inf equals _count, _count
#      equals the command counter; the whole exposition parsed by
#      python3-prometheus-client's parser (Debian's); the Grafana
#      dashboard (docs/grafana-tandem.json) uses every family served and
#      no other name;
#  (e) the status page in headless Chromium (--dump-dom) while a session
#      is held: LU names, ALUA states, the session's row; the sessions
#      gauge of port 1 is 1;
#  (f) connections are bounded: 8 idle connections from one address, the
#      next request is refused; served again once they close;
#  (g) SIGHUP with another metrics_listen moves the endpoint; without one
#      it stops; tandemd stops cleanly, no sanitizer report.
# Ports: 3790 (iSCSI), 3791-3793 (metrics).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/common.sh
. tests/func/funclib.bash

need_tandemd
MIO=$FUNC_BUILD/tests/func/metrics_io
[ -x "$MIO" ] || skip "no $MIO (tests/func/helpers.mk, needs libiscsi-dev at configure time)"
command -v curl >/dev/null || skip "no curl (scripts/deps.sh test installs it)"
PY=/usr/bin/python3 # Debian's, with python3-prometheus-client
"$PY" -c 'import prometheus_client' 2>/dev/null ||
	skip "no python3-prometheus-client (scripts/deps.sh test installs it)"
CHROMIUM=$(command -v chromium || true)
[ -n "$CHROMIUM" ] || skip "no chromium (scripts/deps.sh test installs it)"
tdm_tmpdir
trap tdm_cleanup EXIT
T=$TDM_TMP
IQN=iqn.2026-12.org.tandem
TA=$IQN:metrics-a
TB=$IQN:metrics-b
PORT=3790
MP=3791

# conf LISTEN-LINE: the whole configuration
conf() {
	cat <<EOF
$1
HANDLER ram {
	DEVICE r0 {
		size_mb 16
	}
	DEVICE r1 {
		size_mb 8
	}
}
TARGET_DRIVER iscsi {
	enabled 1
	portal 127.0.0.1:$PORT
	TARGET $TA {
		enabled 1
		rel_tgt_id 1
		LUN 0 r0
		LUN 1 r1
	}
	TARGET $TB {
		enabled 1
		rel_tgt_id 2
		LUN 0 r0
	}
}
DEVICE_GROUP dg {
	DEVICE r0
	DEVICE r1
	TARGET_GROUP tg1 {
		group_id 1
		preferred 1
		state active
		TARGET $TA
	}
	TARGET_GROUP tg2 {
		group_id 2
		state nonoptimized
		TARGET $TB
	}
}
EOF
}

# (a) errors with file:line
bad() {
	local name=$1 line=$2 want=$3 out
	printf '# a comment\n%s\n' "$line" >"$T/$name.conf"
	if out=$("$TANDEMD" --check --config "$T/$name.conf" 2>&1); then
		fail "$name: accepted: $out"
	elif grep -qE "$T/$name.conf:2: .*$want" <<<"$out"; then
		pass "$name refused at file:2: $out"
	else
		fail "$name: expected '$T/$name.conf:2: ...$want', got: $out"
	fi
}
bad not_numeric "metrics_listen localhost:9100" "not a numeric IPv4 or IPv6 address"
bad no_port "metrics_listen 127.0.0.1" "a port is needed"
bad port_range "metrics_listen 127.0.0.1:70000" "port must be a number in 1..65535"
bad two_values "metrics_listen 127.0.0.1:1 127.0.0.1:2" "takes one value"
bad block "metrics_listen 127.0.0.1:1 {" "unexpected '\\{'"
printf 'metrics_listen 127.0.0.1:1\nmetrics_listen 127.0.0.1:2\n' >"$T/twice.conf"
if out=$("$TANDEMD" --check --config "$T/twice.conf" 2>&1) ||
	! grep -q "twice.conf:2: metrics_listen given twice" <<<"$out"; then
	fail "metrics_listen twice: $out"
else
	pass "metrics_listen twice refused at file:2"
fi

# scrape [PATH [PORT [HOST]]]: the body to stdout, 1 when not 200
scrape() {
	curl -sf --max-time 5 "http://${3:-127.0.0.1}:${2:-$MP}${1:-/metrics}"
}
# val FILE SERIES: the value of one series (0 when absent: sparse ones)
val() {
	awk -v s="$2" '$1 == s { v = $2 } END { print v == "" ? 0 : v }' "$1"
}

# (b) off by default
conf "" >"$T/off.conf"
start_wait "$T/off.conf" "$T/tandemd.off.log" $PORT || {
	fail "tandemd did not start"
	end_test "$T/tandemd.off.log"
}
if (exec 3<>"/dev/tcp/127.0.0.1/$MP") 2>/dev/null; then
	fail "without metrics_listen something listens on $MP"
else
	pass "without metrics_listen nothing listens on $MP"
fi
grep -q "metrics:" "$T/tandemd.off.log" && fail "metrics logged without metrics_listen"
finish_daemon "$T/tandemd.off.log"

# (c) on, bound to 127.0.0.1 only
conf "metrics_listen 127.0.0.1:$MP" >"$T/tandem.conf"
start_wait "$T/tandem.conf" "$T/tandemd.log" $PORT || {
	fail "tandemd did not start"
	end_test "$T/tandemd.log"
}
if wait_port 127.0.0.1 $MP 5 && scrape >"$T/m0"; then
	pass "GET /metrics on 127.0.0.1:$MP ($(wc -l <"$T/m0") lines)"
else
	fail "GET /metrics on 127.0.0.1:$MP"
fi
if (exec 3<>"/dev/tcp/127.0.0.2/$MP") 2>/dev/null; then
	fail "127.0.0.2:$MP accepts a connection (bound beyond the address)"
else
	pass "127.0.0.2:$MP refused: bound to 127.0.0.1 only"
fi
# a second tandemd with the same metrics_listen: refused at start
sed "s/127.0.0.1:$PORT\$/127.0.0.1:3792/" "$T/tandem.conf" >"$T/second.conf"
if out=$(timeout 20 "$TANDEMD" --foreground --config "$T/second.conf" \
	--control-socket "$T/ctl2.sock" 2>&1); then
	fail "a second tandemd on metrics $MP started"
elif grep -q "second.conf: metrics_listen 127.0.0.1:$MP: cannot serve there (Address already in use)" <<<"$out"; then
	pass "a second tandemd on the same metrics_listen exits: $(grep -o 'metrics_listen.*' <<<"$out" | head -1)"
else
	fail "a second tandemd on metrics $MP: $(tail -3 <<<"$out")"
fi
hdr=$(curl -sI --max-time 5 "http://127.0.0.1:$MP/metrics")
if grep -qi '^HTTP/1.1 200' <<<"$hdr" &&
	grep -qi '^Content-Type: text/plain; version=0.0.4' <<<"$hdr"; then
	pass "HEAD /metrics: 200, text/plain; version=0.0.4"
else
	fail "HEAD /metrics: $hdr"
fi
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$MP/nope")
[ "$code" = 404 ] && pass "GET /nope: 404" || fail "GET /nope: $code"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$MP/metrics/")
[ "$code" = 404 ] && pass "GET /metrics/: 404" || fail "GET /metrics/: $code"
for m in POST PUT DELETE OPTIONS; do
	out=$(curl -s -D - -o /dev/null -X $m --data x --max-time 5 "http://127.0.0.1:$MP/metrics")
	if grep -q '^HTTP/1.1 405' <<<"$out" && grep -qi '^Allow: GET, HEAD' <<<"$out"; then
		pass "$m /metrics: 405 with Allow: GET, HEAD"
	else
		fail "$m /metrics: $(head -1 <<<"$out")"
	fi
done

# requests libmicrohttpd refuses before any handler runs, and a query
# string (ignored: nothing of tandemd parses it)
long=$(head -c 40000 /dev/zero | tr '\0' a)
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$MP/$long")
[ "$code" = 414 ] && pass "a 40 KB path: 414" || fail "a 40 KB path: $code"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "X-Big: $long" "http://127.0.0.1:$MP/metrics")
[ "$code" = 431 ] && pass "a 40 KB header: 431" || fail "a 40 KB header: $code"
# raw request lines: each answered with its status, or closed unanswered
if out=$("$PY" - "$MP" 2>&1 <<'PYEOF'
import socket, sys
bad = 0
for req, want in [(b"GARBAGE\r\n\r\n", b""),
                  (b"GET /metrics HTTP/9.9\r\n\r\n", b"HTTP/1.1 505"),
                  (b"GET /metrics\r\n\r\n", b"HTTP/1.1 400"),
                  (b"\x00\x01\x02 / HTTP/1.1\r\nHost: x\r\n\r\n", b"HTTP/1.1 400")]:
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
    s.sendall(req)
    got = s.recv(200).split(b"\r\n")[0]
    s.close()
    ok = got.startswith(want) if want else got == b""
    bad += not ok
    print("%s %r -> %r" % ("ok" if ok else "BAD", req[:24], got or "closed"))
sys.exit(bad)
PYEOF
); then
	pass "raw requests: $(tr '\n' ';' <<<"$out")"
else
	fail "raw requests: $(tr '\n' ';' <<<"$out")"
fi
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$MP/metrics?a=b&c&%zz=%&&=")
[ "$code" = 200 ] && pass "a query string with bad escapes is ignored: 200" || fail "a query string: $code"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$MP/%2e%2e/metrics")
[ "$code" = 404 ] && pass "GET /%2e%2e/metrics: 404" || fail "GET /%2e%2e/metrics: $code"

# (d) known I/O: 7 reads and 5 writes of 8 blocks, one READ past the end
R=7 W=5 NB=8
if out=$("${HELPER_ENV[@]}" "$MIO" --reads $R --writes $W --blocks $NB --oob 1 \
	"iscsi://127.0.0.1:$PORT/$TA/0" 2>&1); then
	pass "metrics_io: $(tr '\n' ' ' <<<"$out")"
else
	fail "metrics_io: $out"
fi
scrape >"$T/m1" || fail "scrape after I/O"
BS=$(awk '/^capacity/ {print $3}' <<<"$out")
# delta NAME SERIES WANT
delta() {
	local a b
	a=$(val "$T/m0" "$2")
	b=$(val "$T/m1" "$2")
	if [ "$((b - a))" = "$3" ]; then
		pass "$1: +$3"
	else
		fail "$1: $a -> $b, expected +$3"
	fi
}
for obj in 'lu="r0"' "port=\"1\",target=\"$TA\""; do
	pre=tandem_lu
	[[ $obj == port* ]] && pre=tandem_port
	delta "$pre reads" "${pre}_commands_total{$obj,op=\"read\"}" $R
	delta "$pre writes" "${pre}_commands_total{$obj,op=\"write\"}" $W
	delta "$pre read bytes" "${pre}_read_bytes_total{$obj}" $((R * NB * BS))
	delta "$pre written bytes" "${pre}_written_bytes_total{$obj}" $((W * NB * BS))
	delta "$pre ILLEGAL REQUEST" "${pre}_errors_total{$obj,sense_key=\"illegal_request\"}" 1
	delta "$pre read latency count" "${pre}_command_duration_seconds_count{$obj,op=\"read\"}" $R
	delta "$pre write latency count" "${pre}_command_duration_seconds_count{$obj,op=\"write\"}" $W
	delta "$pre in flight after" "${pre}_commands_in_flight{$obj}" 0
	[ "$(val "$T/m1" "${pre}_commands_in_flight{$obj}")" = 0 ] ||
		fail "$pre: commands in flight after the I/O ended"
done
for s in 'tandem_lu_commands_total{lu="r1",op="read"}' \
	'tandem_lu_commands_total{lu="r1",op="other"}' \
	"tandem_port_commands_total{port=\"2\",target=\"$TB\",op=\"read\"}" \
	"tandem_port_commands_total{port=\"2\",target=\"$TB\",op=\"other\"}"; do
	delta "untouched ${s%%\{*}" "$s" 0
done

# the exposition as a real parser reads it, and the histograms' rules
if "$PY" - "$T/m1" docs/grafana-tandem.json >"$T/parse.out" 2>&1 <<'PYEOF'; then
import json, math, re, sys
from prometheus_client.parser import text_string_to_metric_families
text = open(sys.argv[1]).read()
fams = list(text_string_to_metric_families(text))
bad = []
counters = {}
nhist = 0
for f in fams:
    if not f.name.startswith("tandem_"):
        bad.append("name without tandem_: " + f.name)
    if f.type == "counter":
        for s in f.samples:
            counters[(s.name, tuple(sorted(s.labels.items())))] = s.value
    if f.type != "histogram":
        continue
    series = {}
    for s in f.samples:
        key = tuple(sorted((k, v) for k, v in s.labels.items() if k != "le"))
        series.setdefault(key, {"b": [], "count": None, "sum": None})
        if s.name.endswith("_bucket"):
            series[key]["b"].append((float(s.labels["le"]), s.value))
        elif s.name.endswith("_count"):
            series[key]["count"] = s.value
        elif s.name.endswith("_sum"):
            series[key]["sum"] = s.value
    for key, h in series.items():
        nhist += 1
        b = h["b"]
        les = [le for le, _ in b]
        if les != sorted(les) or not math.isinf(les[-1]):
            bad.append("%s %s: le not ascending to +Inf" % (f.name, key))
        vals = [v for _, v in b]
        if any(vals[i] > vals[i + 1] for i in range(len(vals) - 1)):
            bad.append("%s %s: buckets not cumulative" % (f.name, key))
        if vals[-1] != h["count"]:
            bad.append("%s %s: +Inf %s != _count %s" % (f.name, key, vals[-1], h["count"]))
        if h["sum"] is None or h["sum"] < 0 or (h["count"] == 0 and h["sum"] != 0):
            bad.append("%s %s: bad _sum %s" % (f.name, key, h["sum"]))
        # _count equals the command counter of the same object and op
        pre = f.name[: -len("_command_duration_seconds")]
        c = counters.get((pre + "_commands_total", key))
        if c is None or c != h["count"]:
            bad.append("%s %s: _count %s != %s_commands_total %s" % (f.name, key, h["count"], pre, c))
if nhist < 12:
    bad.append("only %d histogram series" % nhist)
# docs/grafana-tandem.json: built on exactly the names served
served = {f.name: f.type for f in fams}
def base(n):
    for suf in ("_bucket", "_sum", "_count"):
        if n.endswith(suf) and served.get(n[: -len(suf)]) == "histogram":
            return n[: -len(suf)]
    # the parser names a counter family without its _total
    if n.endswith("_total") and served.get(n[: -len("_total")]) == "counter":
        return n[: -len("_total")]
    return n
used = set()
def walk(o):
    if isinstance(o, dict):
        for k, v in o.items():
            if k in ("expr", "query", "definition") and isinstance(v, str):
                used.update(base(n) for n in re.findall(r"\btandem_[a-z_]+", v))
            else:
                walk(v)
    elif isinstance(o, list):
        for v in o:
            walk(v)
walk(json.load(open(sys.argv[2])))
for n in sorted(used - set(served)):
    bad.append("dashboard uses %s, which is not served" % n)
for n in sorted(set(served) - used):
    bad.append("served %s is not on the dashboard" % n)
print("%d families, %d histogram series checked, dashboard uses %d" % (len(fams), nhist, len(used)))
for b in bad:
    print("BAD:", b)
sys.exit(1 if bad else 0)
PYEOF
	pass "prometheus_client parser: $(tr '\n' ' ' <"$T/parse.out")"
else
	fail "exposition: $(head -20 "$T/parse.out" | tr '\n' ' ')"
fi
for s in 'tandem_alua_state{device_group="dg",target_group="tg1",group_id="1",state="active_optimized"} 1' \
	'tandem_alua_state{device_group="dg",target_group="tg2",group_id="2",state="active_nonoptimized"} 1' \
	'tandem_alua_state{device_group="dg",target_group="tg2",group_id="2",state="standby"} 0' \
	'tandem_cluster_mode 0' 'tandem_cluster_serving 1' 'tandem_cluster_fenced 0' \
	'tandem_lu_pr_generation{lu="r0"} 0' \
	"tandem_build_info{version=\"$("$TANDEMD" --version | awk '{print $NF}')\"} 1"; do
	grep -qxF "$s" "$T/m1" && pass "series: $s" || fail "missing series: $s"
done

# (e) the status page in headless Chromium, a session held meanwhile
touch "$T/hold"
"${HELPER_ENV[@]}" "$MIO" --reads 1 --hold-file "$T/hold" \
	--initiator "$IQN:status-page-probe" "iscsi://127.0.0.1:$PORT/$TA/0" >"$T/hold.out" 2>&1 &
HPID=$!
TDM_PIDS+=("$HPID")
for ((i = 0; i < 100; i++)); do
	grep -q '^done' "$T/hold.out" && break
	sleep 0.1
done
grep -q '^done' "$T/hold.out" || fail "held session did not log in: $(cat "$T/hold.out")"
scrape >"$T/m2"
[ "$(val "$T/m2" "tandem_port_sessions{port=\"1\",target=\"$TA\"}")" = 1 ] &&
	pass "tandem_port_sessions of port 1: 1" ||
	fail "tandem_port_sessions of port 1: $(grep '^tandem_port_sessions' "$T/m2")"
t0=$(date +%s%N)
HOME=$T timeout 90 "$CHROMIUM" --headless --no-sandbox --disable-gpu \
	--user-data-dir="$T/chromium" --dump-dom "http://127.0.0.1:$MP/status" \
	>"$T/dom.html" 2>"$T/chromium.log"
crc=$?
echo "chromium --dump-dom: exit $crc in $((($(date +%s%N) - t0) / 1000000)) ms"
[ $crc = 0 ] || fail "chromium exit $crc: $(tail -5 "$T/chromium.log")"
# dom_has WHAT REGEX: the rendered DOM (one row per line) matches
dom_has() {
	if grep -qE "$2" "$T/dom.html"; then
		pass "status page: $1"
	else
		fail "status page: no $1 (/$2/)"
	fi
}
dom_has "LU r0 row" '<tr class="lu"><td>r0</td><td>ram</td>'
dom_has "LU r1 row" '<tr class="lu"><td>r1</td>'
dom_has "tg1 active_optimized" '<td>dg</td><td>tg1</td><td class="n">1</td><td>active_optimized</td>'
dom_has "tg2 active_nonoptimized" '<td>dg</td><td>tg2</td><td class="n">2</td><td>active_nonoptimized</td>'
dom_has "port 1 with one session" "<tr class=\"port\"><td class=\"n\">1</td><td>$TA</td><td class=\"n\">1</td>"
dom_has "the held session's row" "<tr class=\"session\">.*$IQN:status-page-probe.*<td>$TA</td><td class=\"n\">1</td><td>iscsi</td>"
grep -qi '<script' "$T/dom.html" && fail "status page has a script"
rm -f "$T/hold"
wait "$HPID" || fail "held session: exit $?"
forget_pid "$HPID"

# (f) bounded: 8 idle connections from 127.0.0.1 (PER_IP_MAX), then one more
fds=()
for ((i = 0; i < 8; i++)); do
	exec {fd}<>"/dev/tcp/127.0.0.1/$MP" && fds+=("$fd")
done
sleep 0.3
if scrape /metrics >/dev/null 2>&1; then
	fail "a 9th connection from one address was served"
else
	pass "a 9th connection from one address refused (${#fds[@]} held)"
fi
for fd in "${fds[@]}"; do exec {fd}>&-; done
ok=
for ((i = 0; i < 50; i++)); do
	scrape /status >/dev/null 2>&1 && { ok=1; break; }
	sleep 0.1
done
[ -n "$ok" ] && pass "served again once they closed" || fail "not served after the idle connections closed"

# (g) SIGHUP moves the endpoint, then turns it off
conf "metrics_listen 127.0.0.1:3793" >"$T/tandem.conf"
kill -HUP "$TANDEMD_PID"
if wait_port 127.0.0.1 3793 5 && scrape /metrics 3793 >/dev/null &&
	! (exec 3<>"/dev/tcp/127.0.0.1/$MP") 2>/dev/null; then
	pass "SIGHUP: moved from $MP to 3793"
else
	fail "SIGHUP: not moved to 3793"
fi
conf "" >"$T/tandem.conf"
kill -HUP "$TANDEMD_PID"
sleep 1
if (exec 3<>"/dev/tcp/127.0.0.1/3793") 2>/dev/null; then
	fail "SIGHUP without metrics_listen: still listening"
else
	pass "SIGHUP without metrics_listen: off"
fi
finish_daemon "$T/tandemd.log"
end_test "$T/tandemd.log"
