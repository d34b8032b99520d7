#!/bin/bash
# ctl.sh - tandemctl against a real tandemd on loopback:
#  (a) the command line: usage errors (exit 2), no daemon (exit 1),
#      -check_config without a daemon;
#  (b) every listing and every edit, with their errors, checked through
#      the listings and through iSCSI (discovery, a live session);
#  (c) sessions and statistics: -list_sessions, -close_session, -stats
#      under I/O; -blackbox (the file it names is the daemon's blackbox);
#  (d) whole configurations: -write_config -> -config -> -write_config
#      gives the same bytes; a broken -config or -reload changes nothing;
#  (e) two admins at once: parallel edits all land (ESTALE and retry),
#      a stale APPLY is refused with ESTALE;
#  (f) the socket's defences, with a raw client: garbage, long lines,
#      oversized payloads, a bad config with its file name, pipelining,
#      a client that never reads, a half-sent request, the 64-client
#      limit, the idle timeout, SO_PEERCRED (another uid), a stale socket
#      and a socket in use, BLACKBOX with an argument, a daemon whose
#      blackbox is off;
#  (g) SIGTERM with clients connected: exit 0, socket removed, no
#      sanitizer report.
# Ports: 3440-3443. CTL_QUICK=1 skips the 60 s idle-timeout check.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/common.sh
. tests/func/funclib.bash

need_tandemd
[ -x "$TANDEMCTL" ] || skip "no tandemctl at $TANDEMCTL (build it first)"
command -v python3 >/dev/null || skip "python3 is needed for the raw protocol checks"
tdm_tmpdir
trap tdm_cleanup EXIT
T=$TDM_TMP
S=$T/run/sub/ctl.sock
T1=iqn.2026-01.org.tandem:ctl1
T2=iqn.2026-01.org.tandem:ctl2
port=3440
# the daemons' state (blackbox dumps, APTPL files)
export TANDEM_STATE_DIR=$T/state
ctl() { "$TANDEMCTL" -s "$S" "$@"; }

# ok DESC CMD...: CMD must exit 0; its output is in $OUT
ok() {
	local desc=$1 rc
	shift
	OUT=$("$@" 2>&1)
	rc=$?
	if [ $rc -eq 0 ]; then
		pass "$desc"
	else
		fail "$desc: exit $rc: $OUT"
	fi
}

# bad DESC RC REGEX CMD...: CMD must exit RC with REGEX in its output
bad() {
	local desc=$1 want=$2 re=$3 rc
	shift 3
	OUT=$("$@" 2>&1)
	rc=$?
	if [ $rc -eq "$want" ] && grep -qE -- "$re" <<<"$OUT"; then
		pass "$desc: exit $rc, \"$(grep -m1 -E -- "$re" <<<"$OUT")\""
	else
		fail "$desc: exit $rc (want $want), /$re/ not in: $OUT"
	fi
}

# has DESC REGEX TEXT: TEXT matches REGEX
has() {
	if grep -qE -- "$2" <<<"$3"; then pass "$1"; else fail "$1: /$2/ not in: $3"; fi
}
hasnt() {
	if grep -qE -- "$2" <<<"$3"; then fail "$1: /$2/ in: $3"; else pass "$1"; fi
}

# start_on CONF LOG PORT SOCKET [ARGS]: start_wait with a control socket
# of our own
start_on() {
	local i
	start_tandemd "$1" "$2" --control-socket "$4" "${@:5}"
	for ((i = 0; i < 200; i++)); do
		if ! proc_alive "$TANDEMD_PID"; then
			echo "tandemd exited at start:"
			tail -20 "$2"
			return 1
		fi
		(exec 3<>"/dev/tcp/127.0.0.1/$3") 2>/dev/null && return 0
		sleep 0.1
	done
	echo "tandemd does not listen on 127.0.0.1:$3 after 20 s"
	return 1
}

epoch() { ctl -status 2>/dev/null | awk '$1 == "epoch" { print $2 }'; }

cat >"$T/raw.py" <<'PY'
# raw.py SOCK MODE [ARG]: talk the control protocol by hand
import os, socket, sys, time

sock, mode = sys.argv[1], sys.argv[2]
arg = sys.argv[3] if len(sys.argv) > 3 else ""

def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock)
    return s

pending = {}  # bytes read past the last answer, per socket

def read_msg(s, timeout=10):
    s.settimeout(timeout)
    buf = pending.pop(s, b"")
    while b"\n" not in buf:
        d = s.recv(65536)
        if not d:
            return None, buf
        buf += d
    line, rest = buf.split(b"\n", 1)
    w = line.split(b" ")
    n = int(w[2] if w[0] == b"ERR" else w[1])
    while len(rest) < n:
        d = s.recv(65536)
        if not d:
            break
        rest += d
    pending[s] = rest[n:]
    return line.decode(), rest[:n].decode(errors="replace")

def closed_after(s):
    s.settimeout(5)
    try:
        return "CLOSED" if s.recv(1) == b"" else "OPEN"
    except socket.timeout:
        return "OPEN"
    except OSError:
        return "CLOSED"

def send_and_show(data):
    s = conn()
    try:
        s.sendall(data)
    except OSError:
        pass  # the daemon may close first: its answer is still there
    h, p = read_msg(s)
    print(h)
    print(p)
    print(closed_after(s))

if mode == "req":
    send_and_show(arg.encode().decode("unicode_escape").encode("latin-1"))
elif mode == "longline":
    send_and_show(b"STATS " + b"a" * 5000 + b"\n")
elif mode == "apply":  # APPLY 0 with the file ARG, named my%20file.conf
    data = open(arg, "rb").read()
    send_and_show(b"APPLY 0 %d my%%20file.conf\n" % len(data) + data)
elif mode == "pipeline":
    s = conn()
    s.sendall(b"STATUS\nGET-CONFIG\nSTATS\n")
    for i in range(3):
        h, p = read_msg(s)
        print(h.split(" ")[0])
    print(closed_after(s))
elif mode == "noread":  # pipeline requests and never read the answers
    s = conn()
    s.setblocking(False)
    sent = 0
    t0 = time.time()
    while time.time() - t0 < 3:
        try:
            sent += s.send(b"GET-CONFIG\n" * 1000)
        except BlockingIOError:
            time.sleep(0.05)
    print("sent %d bytes, then the daemon stopped reading" % sent)
    open(arg, "w").write("ready\n")
    time.sleep(4)
elif mode == "partial":  # half a request, held
    s = conn()
    s.sendall(b"STAT")
    open(arg, "w").write("ready\n")
    time.sleep(4)
    s.sendall(b"US\n")
    h, p = read_msg(s)
    print(h.split(" ")[0])
elif mode == "limit":  # fill the daemon up to 64 clients, then one more
    s = conn()
    s.sendall(b"STATUS\n")
    h, p = read_msg(s)
    others = int(dict(kv.split("=", 1) for kv in h.split(" ")[2:])["clients"]) - 1
    s.close()
    time.sleep(0.2)
    held = [conn() for i in range(64 - others)]
    time.sleep(0.5)
    extra = conn()
    h, p = read_msg(extra)
    print("65th:", h, p)
    held.pop().close()
    time.sleep(0.5)
    s = conn()
    s.sendall(b"STATUS\n")
    h, p = read_msg(s)
    print("after one left:", h.split(" ")[0])
elif mode == "idle":
    s = conn()
    t0 = time.time()
    s.settimeout(90)
    try:
        d = s.recv(1)
    except OSError:
        d = b""
    print("closed after %d s" % (time.time() - t0) if d == b"" else "got data")
PY
raw() { "${HELPER_ENV[@]}" python3 "$T/raw.py" "$S" "$@"; }

# ---- the daemon ----

truncate -s 8M "$T/f1.img"
truncate -s 2M "$T/cd.iso"
cat >"$T/t.conf" <<CONF
HANDLER ram {
	DEVICE r0 {
		size_mb 16
	}
}

TARGET_DRIVER iscsi {
	enabled 1
	portal 127.0.0.1:$port

	TARGET $T1 {
		enabled 1
		rel_tgt_id 1
		LUN 0 r0
	}
}
CONF
log=$T/tandemd.log
start_on "$T/t.conf" "$log" $port "$S" || {
	fail "tandemd did not start"
	end_test "$log"
}
pass "tandemd started (pid $TANDEMD_PID)"
if [ -S "$S" ] && [ "$(stat -c %a "$S")" = 660 ] &&
	[ "$(stat -c %a "$(dirname "$S")")" = 750 ]; then
	pass "socket $S is 0660 in a new 0750 directory"
else
	fail "socket or directory mode: $(stat -c '%a %n' "$S" "$(dirname "$S")" 2>&1)"
fi
if [ -z "${CTL_QUICK:-}" ]; then
	# runs while the rest of the checks do
	raw idle >"$T/idle.out" 2>&1 &
	idle_pid=$!
fi

# ---- (a) the command line ----

echo "== (a) the command line"
bad "no command" 2 "usage: tandemctl" "$TANDEMCTL"
bad "unknown option" 2 "unknown option -bogus" "$TANDEMCTL" -bogus
bad "two commands" 2 "one command at a time" "$TANDEMCTL" -status -reload
bad "-open_dev without -handler" 2 "needs -handler" "$TANDEMCTL" -open_dev x
bad "-list_device -target" 2 "does not take -target" "$TANDEMCTL" -list_device -target x
bad "bad LUN number" 2 "bad LUN number 'abc'" "$TANDEMCTL" -add_lun abc -target "$T1" -device r0
bad "bad -attributes" 2 "not name=value" "$TANDEMCTL" -set_dev_attr r0 -attributes "justaword"
bad "no daemon" 1 "cannot connect to tandemd at $T/none.sock.*is tandemd running" \
	"$TANDEMCTL" -s "$T/none.sock" -status
bad "-blackbox with an argument" 2 "unexpected argument 'now'" "$TANDEMCTL" -blackbox now
bad "-blackbox -target" 2 "does not take -target" "$TANDEMCTL" -blackbox -target x
bad "-blackbox, no daemon" 1 "cannot connect to tandemd at $T/none.sock" \
	"$TANDEMCTL" -s "$T/none.sock" -blackbox
ok "-help" "$TANDEMCTL" -help
has "-help lists -add_lun" "-add_lun N -target T" "$OUT"
ok "-check_config of a good file, no daemon" "$TANDEMCTL" -s "$T/none.sock" -check_config "$T/t.conf"
has "-check_config says OK" "t.conf: OK \(1 devices, 1 targets\)" "$OUT"
printf 'HANDLER ram {\n\tDEVICE x {\n\t\tsize_mb 1\n\t\tcolour red\n\t}\n}\n' >"$T/bad.conf"
bad "-check_config of a bad file" 1 "^$T/bad.conf:4: DEVICE x: unknown attribute 'colour'" \
	"$TANDEMCTL" -check_config "$T/bad.conf"
ok "-noprompt is accepted" ctl -noprompt -list_handler

# ---- (b) listings and edits ----

echo "== (b) listings and edits"
ok "-status" ctl -status
has "-status shows tandemd's pid" "^pid +$TANDEMD_PID$" "$OUT"
has "-status shows the configuration file" "^config +$T/t.conf$" "$OUT"
e0=$(epoch)
ok "-list_handler" ctl -list_handler
has "-list_handler has the four handlers" "vdisk_fileio.*vdisk_blockio.*vdisk_nullio.*ram" "$(tr '\n' ' ' <<<"$OUT")"
ok "-list_device" ctl -list_device
has "-list_device shows r0 (16 MiB)" "^r0 +ram +16777216 +512" "$OUT"

ok "-open_dev n1 (nullio)" ctl -open_dev n1 -handler vdisk_nullio -attributes size_mb=64,usn=N1SERIAL
ok "-open_dev f1 (fileio)" ctl -open_dev f1 -handler vdisk_fileio -attributes "filename=$T/f1.img, nv_cache=1"
ok "-list_device -handler vdisk_fileio" ctl -list_device -handler vdisk_fileio
has "f1 has the file's size" "^f1 +vdisk_fileio +8388608 +512 +$T/f1.img$" "$OUT"
hasnt "the handler filter hides n1" "^n1" "$OUT"
ok "-list_dev_attr n1" ctl -list_dev_attr n1
has "n1: usn" "^usn +N1SERIAL$" "$OUT"
has "n1: size" "^size +67108864$" "$OUT"
bad "-open_dev of an existing name" 1 "device 'n1' already exists" ctl -open_dev n1 -handler ram -attributes size_mb=1
bad "-open_dev with a bad blocksize" 1 "blocksize must be 512 or 4096, got 1000" \
	ctl -open_dev x -handler ram -attributes size_mb=1,blocksize=1000
bad "-open_dev of a missing file" 1 "f2|nope" \
	ctl -open_dev f2 -handler vdisk_fileio -attributes "filename=$T/nope.img"
hasnt "the failed open left no device f2" "^f2" "$(ctl -list_device)"
bad "-open_dev with an unknown handler" 1 "unknown handler 'vdisk_foo'" ctl -open_dev x -handler vdisk_foo
ok "-set_dev_attr n1" ctl -set_dev_attr n1 -attributes "prod_id=Tandem Disk,usn="
ok "-list_dev_attr n1 after -set_dev_attr" ctl -list_dev_attr n1
has "n1: prod_id set" "^prod_id +Tandem Disk$" "$OUT"
has "n1: usn back to its default" "^usn +-$" "$OUT"
bad "-set_dev_attr with a bad value" 1 "read_only must be 0 or 1, got 'maybe'" \
	ctl -set_dev_attr n1 -attributes read_only=maybe
bad "-set_dev_attr of a missing device" 1 "no device 'zz'" ctl -set_dev_attr zz -attributes read_only=1
bad "-set_dev_attr -handler mismatch" 1 "has handler vdisk_nullio, not ram" \
	ctl -set_dev_attr n1 -handler ram -attributes read_only=1
# the CD-ROM handler: vcdrom (SCST's name), vdisk_cdrom still read
has "-list_handler has vcdrom" "^vcdrom$" "$(ctl -list_handler)"
ok "-open_dev cd1 -handler vdisk_cdrom (an empty drive)" ctl -open_dev cd1 -handler vdisk_cdrom
ok "-open_dev cd2 -handler vcdrom" ctl -open_dev cd2 -handler vcdrom -attributes "filename=$T/cd.iso"
ok "-list_device -handler vdisk_cdrom" ctl -list_device -handler vdisk_cdrom
has "cd1: vcdrom, no medium" "^cd1 +vcdrom +0 +2048 +-$" "$OUT"
has "cd2: vcdrom, the image's size" "^cd2 +vcdrom +2097152 +2048 +$T/cd.iso$" "$OUT"
hasnt "the handler filter hides f1" "^f1" "$OUT"
ok "-set_dev_attr cd2 -handler vdisk_cdrom" ctl -set_dev_attr cd2 -handler vdisk_cdrom -attributes "usn=CD2"
ok "-write_config - with CD-ROMs" ctl -write_config -
has "it writes HANDLER vcdrom" "^HANDLER vcdrom \{$" "$OUT"
hasnt "it never writes vdisk_cdrom" "vdisk_cdrom" "$OUT"
bad "-close_dev -handler mismatch" 1 "device 'n1' has handler vdisk_nullio, not vcdrom" \
	ctl -close_dev n1 -handler vcdrom
ok "-close_dev cd1 -handler vcdrom" ctl -close_dev cd1 -handler vcdrom
ok "-close_dev cd2 -handler vdisk_cdrom" ctl -close_dev cd2 -handler vdisk_cdrom
hasnt "cd1 and cd2 are gone" "^cd" "$(ctl -list_device)"

ok "-add_target $T2" ctl -add_target "$T2" -driver iscsi
ok "-list_target" ctl -list_target -driver iscsi
has "$T2 is there, disabled (as SCST)" "^$T2 +0 +auto +0 +0 +0 +iscsi$" "$OUT"
bad "-add_target again" 1 "target '$T2' already exists" ctl -add_target "$T2"
bad "-add_target with a bad name" 1 "starts with iqn., eui. or naa." ctl -add_target target2
bad "-add_target -driver srp" 1 "unknown target driver 'srp'" ctl -add_target "$T2.x" -driver srp
ok "-add_lun 0 to $T2 (read-only n1)" ctl -add_lun 0 -driver iscsi -target "$T2" -device n1 -attributes read_only=1
ok "-add_lun 1 to $T2 (f1)" ctl -add_lun 1 -target "$T2" -device f1
bad "-add_lun of a used LUN" 1 "already has LUN 0 \(device n1\)" ctl -add_lun 0 -target "$T2" -device f1
bad "-add_lun of a missing device" 1 "no device 'nope'" ctl -add_lun 2 -target "$T2" -device nope
bad "-add_lun 16384" 1 "LUN number must be 0..16383" ctl -add_lun 16384 -target "$T2" -device n1
bad "-add_lun to a missing target" 1 "no target 'iqn.2026-01.org.tandem:none'" \
	ctl -add_lun 2 -target iqn.2026-01.org.tandem:none -device n1
ok "-list_tgt_attr $T2" ctl -list_tgt_attr "$T2"
has "$T2 LUN 0 is n1, read-only" "^0 +n1 +1$" "$OUT"
has "$T2 LUN 1 is f1" "^1 +f1 +0$" "$OUT"
ok "-enable_target $T2" ctl -enable_target "$T2" -driver iscsi
has "$T2 enabled" "^$T2 +1 " "$(ctl -list_target)"
if command -v iscsi-ls >/dev/null; then
	out=$(timeout 30 iscsi-ls -s "iscsi://127.0.0.1:$port" 2>&1)
	has "iscsi-ls discovers $T2 with LUNs 0 and 1" "Target:$T2.*Lun:0.*Lun:1" "$(tr '\n' ' ' <<<"$out")"
fi
ok "-set_tgt_attr $T2 (iSCSI keys)" ctl -set_tgt_attr "$T2" -attributes "HeaderDigest=CRC32C,None,MaxBurstLength=65536"
ok "-list_tgt_attr after -set_tgt_attr" ctl -list_tgt_attr "$T2"
has "HeaderDigest set" "^HeaderDigest +CRC32C,None$" "$OUT"
has "MaxBurstLength set" "^MaxBurstLength +65536$" "$OUT"
bad "-set_tgt_attr FirstBurstLength > MaxBurstLength" 1 "FirstBurstLength 131072 is greater than MaxBurstLength 65536" \
	ctl -set_tgt_attr "$T2" -attributes FirstBurstLength=131072
bad "-set_tgt_attr rel_tgt_id of $T1" 1 "rel_tgt_id 1 is already used by TARGET $T1" \
	ctl -set_tgt_attr "$T2" -attributes rel_tgt_id=1
ok "-add_tgt_attr IncomingUser" ctl -add_tgt_attr "$T2" -attributes "IncomingUser=joe secretsecret1"
has "IncomingUser listed" "^IncomingUser +joe secretsecret1$" "$(ctl -list_tgt_attr "$T2")"
bad "-add_tgt_attr the same user" 1 "IncomingUser 'joe' given twice" \
	ctl -add_tgt_attr "$T2" -attributes "IncomingUser=joe othersecret12"
ok "-rem_tgt_attr IncomingUser=joe" ctl -rem_tgt_attr "$T2" -attributes IncomingUser=joe
hasnt "IncomingUser gone" "IncomingUser" "$(ctl -list_tgt_attr "$T2")"
bad "-rem_tgt_attr of a missing user" 1 "target $T2 has no IncomingUser joe" \
	ctl -rem_tgt_attr "$T2" -attributes IncomingUser=joe

ok "-add_group hosts" ctl -add_group hosts -driver iscsi -target "$T2"
ok "-add_init" ctl -add_init 'iqn.1993-08.org.debian:*' -driver iscsi -target "$T2" -group hosts
ok "-add_lun 3 to group hosts" ctl -add_lun 3 -target "$T2" -group hosts -device r0
ok "-list_group" ctl -list_group -target "$T2"
has "group hosts: 1 LUN, 1 pattern" "^$T2 +hosts +1 +1$" "$OUT"
ok "-list_grp_attr hosts" ctl -list_grp_attr hosts -target "$T2"
has "hosts: the pattern" "^INITIATOR +iqn.1993-08.org.debian:\*$" "$OUT"
has "hosts: LUN 3" "^3 +r0 +0$" "$OUT"
bad "-add_init of a pattern already there" 1 "already in group hosts" \
	ctl -add_init 'iqn.1993-08.org.debian:*' -target "$T2" -group hosts
bad "-add_group again" 1 "already has group 'hosts'" ctl -add_group hosts -target "$T2"
bad "-add_group with a bad name" 1 "bad GROUP name" ctl -add_group "no good" -target "$T2"
bad "-close_dev of a device in use" 1 "device 'r0' is used by LUN 0 of target $T1: remove its LUNs first" \
	ctl -close_dev r0 -handler ram
ok "-rem_lun 3 from hosts" ctl -rem_lun 3 -target "$T2" -group hosts
bad "-rem_lun again" 1 "group hosts of target $T2 has no LUN 3" ctl -rem_lun 3 -target "$T2" -group hosts
ok "-rem_init" ctl -rem_init 'iqn.1993-08.org.debian:*' -target "$T2" -group hosts
ok "-rem_group" ctl -rem_group hosts -target "$T2"
hasnt "no groups left" "hosts" "$(ctl -list_group)"

ok "-add_drv_attr portal :$((port + 3))" ctl -add_drv_attr iscsi -attributes "portal=127.0.0.1:$((port + 3))"
if wait_port 127.0.0.1 $((port + 3)) 10; then
	pass "tandemd listens on the added portal"
else
	fail "tandemd does not listen on 127.0.0.1:$((port + 3))"
fi
ok "-list_drv_attr iscsi" ctl -list_drv_attr iscsi
has "both portals listed" "portal +127.0.0.1:$port.*portal +127.0.0.1:$((port + 3))" "$(tr '\n' ' ' <<<"$OUT")"
ok "-rem_drv_attr portal" ctl -rem_drv_attr iscsi -attributes "portal=127.0.0.1:$((port + 3))"
hasnt "portal removed" "$((port + 3))" "$(ctl -list_drv_attr iscsi)"
bad "-set_drv_attr of another driver" 1 "unknown target driver 'srp'" ctl -set_drv_attr srp -attributes enabled=1

# TARGET_DRIVER ib_srpt: its configuration through the same edits; the
# driver stays disabled (no RDMA device on the host: srp/ listens on
# nothing), and iSCSI never sees its target
G=fe80:0000:0000:0000:5054:00ff:fe12:3456
G0X=0xFE80000000000000505400FFFE123456
ok "-set_drv_attr ib_srpt" ctl -set_drv_attr ib_srpt -attributes "srp_max_req_size=4096,srp_sq_size=256"
ok "-add_drv_attr ib_srpt portal" ctl -add_drv_attr ib_srpt -attributes "portal=10.0.2.15"
ok "-list_drv_attr ib_srpt" ctl -list_drv_attr ib_srpt
has "ib_srpt: disabled" "^enabled +0$" "$OUT"
has "ib_srpt: the portal, port 5555 by default" "^portal +10.0.2.15:5555$" "$OUT"
has "ib_srpt: srp_max_req_size set" "^srp_max_req_size +4096$" "$OUT"
has "ib_srpt: srp_max_rsp_size's default" "^srp_max_rsp_size +256$" "$OUT"
has "ib_srpt: srp_sq_size set" "^srp_sq_size +256$" "$OUT"
bad "-set_drv_attr ib_srpt srp_max_rsp_size=1025" 1 "srp_max_rsp_size must be a number in 40..1024, got '1025'" \
	ctl -set_drv_attr ib_srpt -attributes srp_max_rsp_size=1025
bad "-set_drv_attr ib_srpt use_srq=1" 1 "use_srq 1 is not supported" \
	ctl -set_drv_attr ib_srpt -attributes use_srq=1
bad "-add_drv_attr ib_srpt IncomingUser" 1 "IncomingUser is not an ib_srpt attribute" \
	ctl -add_drv_attr ib_srpt -attributes "IncomingUser=joe secretsecret1"
ok "-add_target $G0X -driver ib_srpt" ctl -add_target "$G0X" -driver ib_srpt -attributes enabled=1
ok "-list_target -driver ib_srpt" ctl -list_target -driver ib_srpt
has "the target is kept by its GID, enabled" "^$G +1 +auto +0 +0 +0 +ib_srpt$" "$OUT"
hasnt "-driver ib_srpt lists no iSCSI target" "^iqn" "$OUT"
hasnt "-driver iscsi lists no ib_srpt target" "$G" "$(ctl -list_target -driver iscsi)"
bad "-add_target -driver ib_srpt with an iSCSI name" 1 "not a port GID" ctl -add_target "$T2.srp" -driver ib_srpt
bad "-add_tgt_attr IncomingUser to it" 1 "IncomingUser is not an ib_srpt attribute" \
	ctl -add_tgt_attr "$G" -attributes "IncomingUser=joe secretsecret1"
bad "-set_tgt_attr -driver iscsi to it" 1 "target $G is an ib_srpt target, not iscsi" \
	ctl -set_tgt_attr "$G" -driver iscsi -attributes rel_tgt_id=9
ok "-add_lun 0 to it (by the 0x form)" ctl -add_lun 0 -driver ib_srpt -target "$G0X" -device n1
ok "-add_group srphosts" ctl -add_group srphosts -driver ib_srpt -target "$G"
ok "-add_init an SRP initiator port id" ctl -add_init '0x0000000000000000505400FFFE12*' -target "$G" -group srphosts
bad "-add_init an iSCSI name" 1 "an ib_srpt initiator is an SRP initiator port id" \
	ctl -add_init 'iqn.1993-08.org.debian:*' -target "$G" -group srphosts
ok "-list_grp_attr srphosts" ctl -list_grp_attr srphosts -target "$G"
has "the pattern, lowercase" "^INITIATOR +0x0000000000000000505400fffe12\*$" "$OUT"
ok "-list_tgt_attr $G" ctl -list_tgt_attr "$G"
has "its driver" "^driver +ib_srpt$" "$OUT"
has "its LUN 0" "^0 +n1 +0$" "$OUT"
if command -v iscsi-ls >/dev/null; then
	out=$(timeout 30 iscsi-ls -s "iscsi://127.0.0.1:$port" 2>&1)
	has "iscsi-ls still discovers $T2" "Target:$T2" "$out"
	hasnt "SendTargets does not show the ib_srpt target" "$G" "$out"
fi
if [ -x "$NEG" ]; then
	tap_check "${HELPER_ENV[@]}" "$NEG" --port $port --plain "$G" --scenario refused
fi

# the kernel's fabrics (TARGET_DRIVER scst_local, ibmvstgt, qla2x00t):
# their configuration through the same edits; each driver is disabled
# first (kernel/ then has nothing to do: no configfs needed on the host),
# and iSCSI never sees their targets
W=21:00:00:24:ff:31:4c:48
W0X=0x21000024FF314C48
for d in scst_local ibmvscsis qla2x00t; do
	ok "-set_drv_attr $d enabled=0" ctl -set_drv_attr $d -attributes enabled=0
done
ok "-list_drv_attr ibmvstgt" ctl -list_drv_attr ibmvstgt
has "ibmvstgt (set as ibmvscsis): disabled, its only attribute" "^ATTRIBUTE +VALUE enabled +0 $" "$(tr '\n' ' ' <<<"$OUT" | tr -s ' ')"
bad "-add_drv_attr qla2x00t portal" 1 "portal is not a qla2x00t attribute" \
	ctl -add_drv_attr qla2x00t -attributes "portal=10.0.2.15"
ok "-add_target local1 -driver scst_local" ctl -add_target local1 -driver scst_local -attributes session_name=host_a
ok "-list_tgt_attr local1" ctl -list_tgt_attr local1
has "local1: scst_local" "^driver +scst_local$" "$OUT"
has "local1: enabled by default" "^enabled +1$" "$OUT"
has "local1: its session_name" "^session_name +host_a$" "$OUT"
hasnt "local1: no refuse_unmatched_initiators" "refuse_unmatched" "$OUT"
ok "-rem_tgt_attr session_name" ctl -rem_tgt_attr local1 -attributes session_name=host_a
has "the default session_name" "^session_name +scst_local_host$" "$(ctl -list_tgt_attr local1)"
bad "-set_tgt_attr session_name on an iSCSI target" 1 "session_name is a scst_local attribute, not an iscsi one" \
	ctl -set_tgt_attr "$T2" -attributes session_name=h
ok "-add_target 0x3000000A -driver ibmvscsis" ctl -add_target 0x3000000A -driver ibmvscsis
bad "-add_target vscsi0 -driver ibmvstgt" 1 "not a unit address" ctl -add_target vscsi0 -driver ibmvstgt
ok "-add_lun 0 to it (by the 0x form)" ctl -add_lun 0 -driver ibmvstgt -target 0x3000000a -device n1
ok "-add_target $W0X -driver qla2x00t" ctl -add_target "$W0X" -driver qla2x00t
bad "-add_target a WWPN of 7 bytes" 1 "not a WWPN" ctl -add_target 21:00:00:24:ff:31:4c -driver qla2x00t
ok "-add_group fchosts" ctl -add_group fchosts -driver qla2x00t -target "$W0X"
ok "-add_init a WWPN in the 0x form" ctl -add_init 0x21000024FF314C49 -target "$W" -group fchosts
bad "-add_init a pattern" 1 "a qla2x00t initiator is a WWPN" \
	ctl -add_init '21:00:00:24:ff:31:4c:*' -target "$W" -group fchosts
ok "-list_grp_attr fchosts" ctl -list_grp_attr fchosts -target "$W"
has "the WWPN, in the colon form" "^INITIATOR +21:00:00:24:ff:31:4c:49$" "$OUT"
bad "-add_lun -driver scst_local to the qla2x00t target" 1 "target $W is a qla2x00t target, not scst_local" \
	ctl -add_lun 1 -driver scst_local -target "$W" -device n1
ok "-list_target -driver ibmvscsis" ctl -list_target -driver ibmvscsis
has "the ibmvstgt target by its kept unit address" "^3000000a +1 +auto +1 +0 +0 +ibmvstgt$" "$OUT"
hasnt "-driver ibmvscsis lists no other target" "local1|$W|^iqn" "$OUT"
if command -v iscsi-ls >/dev/null; then
	out=$(timeout 30 iscsi-ls -s "iscsi://127.0.0.1:$port" 2>&1)
	hasnt "SendTargets shows none of the kernel fabrics' targets" "local1|3000000a|$W" "$out"
fi
ok "-list_driver" ctl -list_driver
has "iscsi enabled, 2 targets" "^iscsi +1 +2$" "$OUT"
has "ib_srpt disabled, 1 target" "^ib_srpt +0 +1$" "$OUT"
for d in scst_local ibmvstgt qla2x00t; do
	has "$d disabled, 1 target" "^$d +0 +1$" "$OUT"
done
e1=$(epoch)
ok "-enable_target of an enabled target" ctl -enable_target "$T2"
[ "$(epoch)" = "$e1" ] && pass "a change that changes nothing is not applied (epoch $e1)" ||
	fail "no-op edit moved the epoch from $e1 to $(epoch)"
[ "$e1" -gt "$e0" ] && pass "epoch went from $e0 to $e1" || fail "epoch $e0 -> $e1"

# ---- (c) sessions and statistics ----

echo "== (c) sessions and statistics"
sess_pid=
if [ -x "$HOLD" ]; then
	"${HELPER_ENV[@]}" "$HOLD" --hold --seconds 60 --initiator iqn.2026-01.org.test:ctl-hold \
		"iscsi://127.0.0.1:$port/$T1/0" >"$T/hold.log" 2>&1 &
	sess_pid=$!
elif command -v iscsi-perf >/dev/null; then
	timeout 60 iscsi-perf -i iqn.2026-01.org.test:ctl-hold "iscsi://127.0.0.1:$port/$T1/0" >"$T/hold.log" 2>&1 &
	sess_pid=$!
fi
if [ -n "$sess_pid" ]; then
	TDM_PIDS+=("$sess_pid")
	for ((i = 0; i < 100; i++)); do
		ctl -list_sessions 2>/dev/null | grep -q ctl-hold && break
		sleep 0.1
	done
	ok "-list_sessions" ctl -list_sessions -target "$T1"
	has "the session is listed" "^[0-9]+ +iscsi +iqn.2026-01.org.test:ctl-hold +iqn.2026-01.org.test:ctl-hold,i,0x[0-9a-f]{12} +$T1 +[0-9]+ " "$OUT"
	sid=$(awk '$3 == "iqn.2026-01.org.test:ctl-hold" { print $1; exit }' <<<"$OUT")
	hasnt "-list_sessions -target $T2 filters it out" "ctl-hold" "$(ctl -list_sessions -target "$T2")"
	has "-list_target counts it" "^$T1 +1 +1 +1 +0 +1 +iscsi$" "$(ctl -list_target)"
	sleep 0.5
	ok "-stats r0" ctl -stats r0
	reads=$(awk 'NR == 2 { print $5 }' <<<"$OUT")
	[ "${reads:-0}" -gt 0 ] && pass "-stats r0: $reads READ commands counted" ||
		fail "-stats r0 shows no reads: $OUT"
	ok "-close_session $sid" ctl -close_session "$sid"
	gone=
	for ((i = 0; i < 100; i++)); do
		if ! ctl -list_sessions | awk '{ print $1 }' | grep -qx "$sid"; then
			gone=1
			break
		fi
		sleep 0.1
	done
	[ -n "$gone" ] && pass "session $sid is gone" || fail "session $sid still listed"
	kill "$sess_pid" 2>/dev/null
	wait "$sess_pid" 2>/dev/null
	forget_pid "$sess_pid"
else
	echo "SKIP (part c sessions): neither $HOLD nor iscsi-perf"
fi
bad "-close_session of an unknown id" 1 "no session 999999" ctl -close_session 999999
bad "-close_session abc" 2 "bad session id 'abc'" ctl -close_session abc
ok "-blackbox" ctl -blackbox
bb=$OUT
has "-blackbox names a file of the state directory" "^$T/state/blackbox-tandemd-$TANDEMD_PID-[0-9]+\.[0-9]{3}$" "$bb"
if [ -f "$bb" ] && [ "$(stat -c %a "$bb")" = 600 ]; then
	pass "the dump is there, mode 0600 ($(stat -c %s "$bb") bytes)"
else
	fail "the dump $bb: $(stat -c '%a %s' "$bb" 2>&1)"
fi
if command -v qb-blackbox >/dev/null; then
	# what came before it: the -status requests, debug lines of the
	# control socket, below the daemon's level (info)
	has "qb-blackbox reads it: the -status request before it is there" \
		"debug .*control: pid [0-9]+: STATUS" "$(qb-blackbox "$bb" 2>/dev/null)"
else
	fail "qb-blackbox is not installed (libqb-tools, scripts/deps.sh test)"
fi
has "tandemd logs where the blackbox went" "blackbox written to $bb" "$(cat "$log")"
ok "-stats" ctl -stats
has "-stats header" "^DEVICE +HANDLER +SIZE +BLOCK_SIZE +READ_CMDS" "$OUT"
has "-stats lists n1" "^n1 +vdisk_nullio +67108864" "$OUT"
bad "-stats of an unknown device" 1 "no device 'nope'" ctl -stats nope

# ---- (d) whole configurations ----

echo "== (d) whole configurations"
ok "-write_config w1.conf" ctl -write_config "$T/w1.conf"
[ "$(stat -c %a "$T/w1.conf")" = 600 ] && pass "w1.conf is 0600" || fail "w1.conf mode $(stat -c %a "$T/w1.conf")"
ok "-check_config w1.conf" ctl -check_config "$T/w1.conf"
ew=$(epoch)
ok "-config w1.conf" ctl -config "$T/w1.conf"
ok "-write_config w2.conf" ctl -write_config "$T/w2.conf"
cmp -s "$T/w1.conf" "$T/w2.conf" && pass "load -> write -> load -> write gives the same bytes" ||
	fail "w1.conf and w2.conf differ: $(diff "$T/w1.conf" "$T/w2.conf")"
[ "$(epoch)" -gt "$ew" ] && pass "-config applied (epoch $ew -> $(epoch))" || fail "-config did not move the epoch"
ok "-write_config - (stdout)" ctl -write_config -
cmp -s <(printf '%s\n' "$OUT") "$T/w1.conf" && pass "-write_config - prints the same text" ||
	fail "-write_config - differs from the file"
ew=$(epoch)
bad "-config of a broken file: its name and line" 1 "$T/bad.conf:4: DEVICE x: unknown attribute 'colour'" \
	ctl -config "$T/bad.conf"
[ "$(epoch)" = "$ew" ] && pass "the broken -config changed nothing" || fail "epoch moved after a refused -config"
bad "-config of a missing file" 1 "$T/nope.conf: No such file" ctl -config "$T/nope.conf"
ok "-config - (stdin)" ctl -config - <"$T/w1.conf"

cp "$T/t.conf" "$T/t.conf.good"
printf 'TARGET_DRIVER iscsi {\n\tenabled maybe\n}\n' >"$T/t.conf"
ew=$(epoch)
bad "-reload of a broken file" 1 "$T/t.conf:2: enabled must be 0 or 1" ctl -reload
[ "$(epoch)" = "$ew" ] && pass "the refused reload changed nothing" || fail "epoch moved after a refused reload"
cp "$T/t.conf.good" "$T/t.conf"
ok "-reload" ctl -reload
hasnt "-reload went back to the file: no n1" "^n1" "$(ctl -list_device)"
hasnt "-reload went back to the file: no $T2" "$T2" "$(ctl -list_target)"

# ---- (e) two admins at once ----

echo "== (e) two admins at once"
pids=()
for i in $(seq 1 16); do
	ctl -add_group "g$i" -target "$T1" >"$T/par$i.out" 2>&1 &
	pids+=($!)
done
prc=0
for p in "${pids[@]}"; do wait "$p" || prc=1; done
[ $prc -eq 0 ] && pass "16 parallel -add_group all exit 0" ||
	fail "a parallel -add_group failed: $(cat "$T"/par*.out)"
n=$(ctl -list_group -target "$T1" | grep -cE "^$T1 +g[0-9]+ ")
[ "$n" = 16 ] && pass "all 16 groups are there" || fail "$n groups of 16"
nstale=$(grep -c "stale change refused" "$log")
echo "   ($nstale stale APPLYs were refused and redone)"
out=$(raw req 'APPLY 1 0\n')
has "an APPLY made on an old epoch gets ESTALE" "^ERR 116 .*the configuration changed \(epoch [0-9]+, not 1\).*OPEN" "$(tr '\n' ' ' <<<"$out")"

# ---- (f) the socket's defences ----

echo "== (f) the control socket's defences"
out=$(raw req 'BLACKBOX now\n')
has "BLACKBOX with an argument: ERR EINVAL, disconnected" "^ERR 22 .*BLACKBOX takes 0 arguments, got 1.*CLOSED" "$(tr '\n' ' ' <<<"$out")"
out=$(raw req 'HELLO\n')
has "unknown request: ERR EOPNOTSUPP, disconnected" "^ERR 95 .*unknown request 'HELLO'.*CLOSED" "$(tr '\n' ' ' <<<"$out")"
out=$(raw req 'STATUS  x\n')
has "malformed line: ERR EINVAL, disconnected" "^ERR 22 .*empty word.*CLOSED" "$(tr '\n' ' ' <<<"$out")"
out=$(raw req '\x01\x02\xff\n')
has "binary garbage: ERR EINVAL, disconnected" "^ERR 22 .*0x01.*CLOSED" "$(tr '\n' ' ' <<<"$out")"
out=$(raw longline)
has "a 5000-byte line: ERR, disconnected" "^ERR 22 .*longer than 4096 bytes.*CLOSED" "$(tr '\n' ' ' <<<"$out")"
out=$(raw req 'APPLY 0 99999999\n')
has "a 99 MB payload: ERR EMSGSIZE, disconnected" "^ERR 90 .*over the limit.*CLOSED" "$(tr '\n' ' ' <<<"$out")"
out=$(raw apply "$T/bad.conf")
has "APPLY of a bad config: error with the client's file name" "^ERR 22 .*my file.conf:4: DEVICE x: unknown attribute 'colour'.*OPEN" "$(tr '\n' ' ' <<<"$out")"
out=$(raw pipeline)
has "three pipelined requests, three answers" "^OK OK OK OPEN$" "$(tr '\n' ' ' <<<"$out" | sed 's/ $//')"

raw noread "$T/noread.ready" >"$T/noread.out" 2>&1 &
np=$!
for ((i = 0; i < 100; i++)); do [ -f "$T/noread.ready" ] && break; sleep 0.1; done
ok "-status while a client floods requests and reads nothing" timeout 5 "$TANDEMCTL" -s "$S" -status
wait $np
echo "   ($(cat "$T/noread.out"))"
raw partial "$T/partial.ready" >"$T/partial.out" 2>&1 &
np=$!
for ((i = 0; i < 100; i++)); do [ -f "$T/partial.ready" ] && break; sleep 0.1; done
ok "-status while a client holds half a request" timeout 5 "$TANDEMCTL" -s "$S" -status
wait $np
has "the half request is answered once complete" "^OK$" "$(cat "$T/partial.out")"

out=$(raw limit)
has "the 65th client gets EBUSY" "65th: ERR 16 .*too many control connections" "$out"
has "a client is served again once one left" "after one left: OK" "$out"

# SO_PEERCRED: another uid that can reach the socket is refused
if [ "$(id -u)" = 0 ] && setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$TANDEMCTL" 2>/dev/null; then
	d=$T
	while [ "$d" != / ]; do chmod o+x "$d" 2>/dev/null; d=$(dirname "$d"); done
	chmod o+x "$T/run" "$T/run/sub"
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$TANDEMCTL" -s "$S" -status 2>&1)
	rc=$?
	[ $rc -eq 1 ] && grep -q "root or tandemd's user only" <<<"$out" &&
		pass "uid 65534 cannot open the 0660 socket: \"$out\"" ||
		fail "uid 65534 and the 0660 socket: exit $rc: $out"
	chmod 666 "$S"
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$TANDEMCTL" -s "$S" -status 2>&1)
	rc=$?
	chmod 660 "$S"
	chmod o-x "$T/run" "$T/run/sub"
	[ $rc -eq 1 ] && grep -q "closed the connection" <<<"$out" &&
		pass "uid 65534 through an open socket: disconnected (\"$out\")" ||
		fail "uid 65534 through an open socket: exit $rc: $out"
	sleep 0.2
	has "tandemd logs the refusal" "control: refused pid [0-9]+ \(uid 65534\)" "$(cat "$log")"
else
	echo "SKIP (SO_PEERCRED check): needs root and a tandemctl uid 65534 can run"
fi

# a stale socket is replaced; a socket in use is left alone
cat >"$T/b.conf" <<CONF
TARGET_DRIVER iscsi {
	enabled 1
	portal 127.0.0.1:$((port + 1))
}
CONF
sed "s/$((port + 1))/$((port + 2))/" "$T/b.conf" >"$T/c.conf"
main_pid=$TANDEMD_PID
start_on "$T/b.conf" "$T/b1.log" $((port + 1)) "$T/b.sock" || fail "daemon B did not start"
for ((i = 0; i < 50; i++)); do [ -S "$T/b.sock" ] && break; sleep 0.1; done
kill -KILL "$TANDEMD_PID"
wait "$TANDEMD_PID" 2>/dev/null
forget_pid "$TANDEMD_PID"
[ -S "$T/b.sock" ] && pass "SIGKILL left a stale socket" || fail "no stale socket after SIGKILL"
left=$(find /dev/shm -maxdepth 1 -name "qb-tandemd-$TANDEMD_PID-*" 2>/dev/null)
[ -z "$left" ] && pass "SIGKILL left no blackbox ring in /dev/shm" || fail "left in /dev/shm: $left"
start_on "$T/b.conf" "$T/b2.log" $((port + 1)) "$T/b.sock" --blackbox-size 0 ||
	fail "daemon B did not restart"
b_pid=$TANDEMD_PID
for ((i = 0; i < 50; i++)); do grep -q "control: listening" "$T/b2.log" && break; sleep 0.1; done
has "the new daemon removed the stale socket" "removed the stale socket $T/b.sock" "$(cat "$T/b2.log")"
has "and serves it" "^pid +$b_pid$" "$("$TANDEMCTL" -s "$T/b.sock" -status 2>&1)"
bad "-blackbox of a daemon started with --blackbox-size 0" 1 "the blackbox is off" \
	"$TANDEMCTL" -s "$T/b.sock" -blackbox
start_on "$T/c.conf" "$T/c.log" $((port + 2)) "$T/b.sock" || fail "daemon C did not start"
for ((i = 0; i < 50; i++)); do grep -q "control socket disabled" "$T/c.log" && break; sleep 0.1; done
has "a second daemon does not take a socket in use" "control socket disabled: $T/b.sock is in use" "$(cat "$T/c.log")"
if stop_within 15; then pass "daemon C stops"; else fail "daemon C: $STOP_RC"; fi
has "the socket still belongs to B" "^pid +$b_pid$" "$("$TANDEMCTL" -s "$T/b.sock" -status 2>&1)"
TANDEMD_PID=$b_pid
if stop_within 15; then pass "daemon B stops"; else fail "daemon B: $STOP_RC"; fi
[ -e "$T/b.sock" ] && fail "B left its socket behind" || pass "B removed its socket"
for f in "$T/b2.log" "$T/c.log"; do sanitizer_clean "$f" || fail "sanitizer report in $f"; done
TANDEMD_PID=$main_pid

if [ -n "${idle_pid:-}" ]; then
	wait "$idle_pid"
	out=$(cat "$T/idle.out")
	if [[ $out =~ closed\ after\ ([0-9]+)\ s ]] && [ "${BASH_REMATCH[1]}" -ge 59 ] &&
		[ "${BASH_REMATCH[1]}" -le 70 ]; then
		pass "an idle client is disconnected after 60 s ($out)"
	else
		fail "idle client: $out"
	fi
	has "tandemd logs the idle client" "control: pid [0-9]+ idle for 60 s" "$(cat "$log")"
fi

# ---- (g) SIGTERM with clients connected ----

echo "== (g) SIGTERM with clients connected"
raw partial "$T/p2.ready" >/dev/null 2>&1 &
np=$!
for ((i = 0; i < 100; i++)); do [ -f "$T/p2.ready" ] && break; sleep 0.1; done
finish_daemon "$log"
wait $np 2>/dev/null
[ -e "$S" ] && fail "the socket is left after SIGTERM" || pass "the socket is removed at exit"
end_test "$log"
