#
# Copyright (c) 2026 The moatd developers
#
# Permission to use, copy, modify, and distribute this software for any
# purpose with or without fee is hereby granted, provided that the above
# copyright notice and this permission notice appear in all copies.
#
# THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES
# WITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF
# MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR
# ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES
# WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN
# ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF
# OR IN CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.
#
# The data path: what moves bytes, and how many times they are copied.
# Counts of bytes and system calls, never times.

DP_PY=("$(command -v /usr/bin/python3 || command -v python3)" -I -S)

# The relay of the moatd started last (-prefork 1).
_dp_relay() {
	ps -o pid=,args= --ppid "$MOATD_PID" 2>/dev/null |
	    awk '$2 == "moatd:" && index($3, "relay") == 1 { print $1 }'
}

# Bytes the process read with read(2)-like calls (splice(2) is not one).
_dp_rchar() {
	awk '$1 == "rchar:" { print $2 }' "/proc/$1/io"
}

t_datapath_splice_response() {
	tid "a 256 MiB answer goes to a plain client by splice: exact, and the relay reads none of it"
	local relay before after out

	_rf_start
	relay=$(_dp_relay)
	[ -n "$relay" ] || fail "no relay process"
	before=$(_dp_rchar "$relay")
	# Keep-alive: the big answer, counted to its Content-Length and
	# checked byte by byte, then a second request on the same
	# connection (the stream went back to the pool after exactly the
	# body).
	out=$("${DP_PY[@]}" -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
f = s.makefile("rb")
def answer():
    status = f.readline()
    length = None
    while True:
        line = f.readline()
        if line in (b"\r\n", b""):
            break
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v)
    body, bad = 0, 0
    while body < length:
        b = f.read(min(1 << 20, length - body))
        if not b:
            break
        bad += len(b) - b.count(b"x")
        body += len(b)
    return status.split()[1].decode(), body, bad
s.sendall(b"GET /allowed?fake=big HTTP/1.1\r\nHost: x\r\n\r\n")
st, n, bad = answer()
s.sendall(b"GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n")
st2 = f.readline().split()[1].decode()
print(st, n, bad, st2)
' "$RF_PORT")
	expect_eq "$out" "200 268435456 0 200" "status, bytes, wrong bytes, next status"
	after=$(_dp_rchar "$relay")
	[ $((after - before)) -lt $((16 * 1024 * 1024)) ] ||
	    fail "the relay read $((after - before)) bytes of a 256 MiB answer (copied through user space)"
	expect_match "$(cat "$MOATD_LOG")" 'verdict=allow .*status=200 in=0 out=26843[0-9]{4} ' \
	    "the log line counts the spliced bytes"
}


# How a burst of 32 kept-alive connections to the unix socket $1 falls
# on the relays of moatd $2: "pid=count ..." for every relay.  All 32
# connect before any request is sent, so that the relay that runs first
# finds them all queued.
_dp_unix_spread() {
	"${DP_PY[@]}" -c '
import socket, subprocess, sys, re, collections
path, relays = sys.argv[1], sys.argv[2:]
cs = []
for i in range(32):
    c = socket.socket(socket.AF_UNIX)
    c.settimeout(10)
    c.connect(path)
    cs.append(c)
for c in cs:
    c.sendall(b"GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n")
for c in cs:
    if not c.recv(4096).startswith(b"HTTP/1.1 200"):
        sys.exit("no 200")
out = subprocess.run(["ss", "-xpH"], capture_output=True, text=True).stdout
n = collections.Counter(re.findall(r"pid=(\d+),", "\n".join(
    l for l in out.splitlines() if (" " + path + " ") in l)))
print(" ".join("%s=%d" % (r, n[r]) for r in relays))
' "$1" $(ps -o pid=,args= --ppid "$2" | awk '$2 == "moatd:" &&
	    index($3, "relay") == 1 { print $1 }' | sort)
}

# Every relay of "pid=count ..." ($1) holds at least 8 of the 32.
_dp_spread_check() {
	local p n

	[ "$(echo "$1" | wc -w)" = 2 ] || fail "relays and counts: '$1'"
	for p in $1; do
		n=${p#*=}
		[ "$n" -ge 8 ] ||
		    fail "relay ${p%=*} holds $n of 32 connections ($1)"
	done
}

t_datapath_unix_spread() {
	tid "a unix listener is shared by the relays: a burst of 32 kept-alive connections spreads over both (the relays' accept share)"
	local out i

	_rf_fake fd
	moatd_start -prefork 2 -frontend-addr "unix://$SCRATCH/m.sock" \
	    -backend-addr "unix://$SCRATCH/fd.sock" -no-builtin-rules \
	    -rules-file "$RF_ROOT/regress/http/rules"
	# Three bursts, each on idle relays: before the share, the relay
	# that ran first took them all (32/0, 31/1).
	for i in 1 2 3; do
		out=$(_dp_unix_spread "$SCRATCH/m.sock" "$MOATD_PID") ||
		    fail "burst $i: $out"
		_dp_spread_check "$out"
		sleep 0.2
	done
}

# "role=Cpus_allowed_list ..." for the children of moatd $1, sorted.
_dp_cpus() {
	local pid role

	for pid in $(ps -o pid= --ppid "$1"); do
		role=$(ps -o args= -p "$pid")
		printf '%s=%s\n' "${role#moatd: }" "$(awk \
		    '$1 == "Cpus_allowed_list:" { print $2 }' \
		    "/proc/$pid/status")"
	done | sort | tr '\n' ' '
}

t_datapath_cpu_affinity() {
	tid "cpu affinity yes: relay i and forwarder i on the i-th CPU of the parent's set; by default every child may run anywhere"
	local all cpus n want i c

	# The CPUs we may use, one per relay (this host: 2).
	all=$(awk '$1 == "Cpus_allowed_list:" { print $2 }' /proc/$$/status)
	cpus=$("${DP_PY[@]}" -c 'import os
print(" ".join(str(c) for c in sorted(os.sched_getaffinity(0))))')
	n=$(echo $cpus | wc -w)
	[ "$n" -gt 4 ] && n=4
	_rf_fake fd
	# By default: every child may run on every CPU the parent may.
	moatd_start -prefork "$n" -frontend-addr "unix://$SCRATCH/m.sock" \
	    -backend-addr "unix://$SCRATCH/fd.sock"
	for c in $(_dp_cpus "$MOATD_PID"); do
		[ "${c#*=}" = "$all" ] || fail "by default: $c, not $all"
	done
	moatd_stop || fail "moatd did not stop"
	printf 'cpu affinity yes\n' >"$SCRATCH/aff.conf"
	chmod 0644 "$SCRATCH/aff.conf"
	run_cmd "$MOATD" -n -v -f "$SCRATCH/aff.conf"
	expect_match "$OUT" $'\ncpu affinity yes\n' "moatd -n -v prints it"
	moatd_start -f "$SCRATCH/aff.conf" -prefork "$n" \
	    -frontend-addr "unix://$SCRATCH/m2.sock" \
	    -backend-addr "unix://$SCRATCH/fd.sock"
	want=
	i=0
	for c in $cpus; do
		[ "$i" -lt "$n" ] || break
		want="$want forwarder[$i]=$c"
		i=$((i + 1))
	done
	want="$want policy=$all"
	i=0
	for c in $cpus; do
		[ "$i" -lt "$n" ] || break
		want="$want relay[$i]=$c"
		i=$((i + 1))
	done
	# The watcher, like the policy worker, is one and may run anywhere.
	want="$want watcher=$all"
	expect_eq "$(_dp_cpus "$MOATD_PID")" "$(echo $want | tr ' ' '\n' |
	    sort | tr '\n' ' ')" "CPUs of the children (prefork $n)"
	pass
}

t_datapath_reuseport() {
	tid "every relay listens on a TCP socket of its own (SO_REUSEPORT): connections spread, a dead relay takes its socket along"
	local port relays r n out

	port=$(free_port)
	_rf_fake fd
	moatd_start -prefork 2 -frontend-addr "tcp://127.0.0.1:$port" \
	    -backend-addr "unix://$SCRATCH/fd.sock" -no-builtin-rules \
	    -rules-file "$RF_ROOT/regress/http/rules"
	relays=$(ps -o pid=,args= --ppid "$MOATD_PID" |
	    awk '$2 == "moatd:" && index($3, "relay") == 1 { print $1 }' |
	    sort | tr '\n' ' ')
	[ "$(echo $relays | wc -w)" = 2 ] || fail "relays: '$relays'"
	# One listening socket per relay, each held by that relay alone.
	out=$(ss -tlnpH "( sport = :$port )" | grep -o 'pid=[0-9]*' |
	    sort | tr '\n' ' ')
	expect_eq "$(ss -tlnH "( sport = :$port )" | wc -l)" 2 \
	    "listening sockets on the port"
	for r in $relays; do
		case " $out " in
		*" pid=$r "*) ;;
		*) fail "relay $r holds no listening socket: $out" ;;
		esac
	done
	# 64 connections held open: the kernel hashes them over both.
	out=$("${DP_PY[@]}" -c '
import socket, subprocess, sys, re, collections
port = sys.argv[1]
cs = [socket.create_connection(("127.0.0.1", int(port)))
    for i in range(64)]
for c in cs:
    c.sendall(b"GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n")
for c in cs:
    c.recv(4096)
ss = subprocess.run(["ss", "-tnpH", "state", "established",
    "( sport = :%s )" % port], capture_output=True, text=True).stdout
n = collections.Counter(re.findall(r"pid=(\d+)", ss))
print(" ".join("%s=%d" % (k, v) for k, v in sorted(n.items())))
' "$port")
	for r in $relays; do
		n=$(echo "$out" | tr ' ' '\n' | awk -F= -v p="$r" '$1 == p { print $2 }')
		[ "${n:-0}" -ge 8 ] ||
		    fail "relay $r holds ${n:-0} of 64 connections ($out)"
	done
	# A relay killed: its socket goes with it, the other one serves
	# every new connection while it is restarted.
	r=$(_px_role "$MOATD_PID" 'relay[0]')
	kill -KILL "$r"
	for n in 1 2 3 4 5 6 7 8 9 10; do
		out=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
		    "http://127.0.0.1:$port/_ping")
		[ "$out" = 200 ] || fail "request $n after the kill: $out"
	done
	_px_wait_role 'relay[0]' "$r" 5 >/dev/null ||
	    fail "no new relay[0] within 5 s"
	moatd_rebase
	expect_eq "$(ss -tlnH "( sport = :$port )" | wc -l)" 2 \
	    "listening sockets after the restart"
}

# A client that asks to close after a whole request: once the answer is
# out the relay closes at once (a FIN: the client has sent nothing it
# has not read), without the lingering half-close meant for clients that
# may still be sending; and the peer's address is the one accept(2)
# gave.  Counted by strace on the relay over 200 connections: no
# shutdown, no getpeername, and all 200 answered.
t_datapath_quiet_close() {
	tid "Connection: close after a whole request: closed at once, no lingering shutdown, no getpeername"
	local relay i out

	command -v strace >/dev/null || fail "strace is not installed"
	_rf_start
	relay=$(_dp_relay)
	[ -n "$relay" ] || fail "no relay process"
	for ((i = 0; i < 200; i++)); do
		printf 'url = "http://127.0.0.1:%s/allowed"\noutput = "/dev/null"\n' \
		    "$RF_PORT"
	done >curl.conf
	strace_start strace.out -c -e trace=shutdown,getpeername,accept4 \
	    -p "$relay"
	out=$(curl -s --max-time 60 -H 'Connection: close' -K curl.conf \
	    -w '%{http_code}\n' | sort | uniq -c | awk '{ print $1, $2 }')
	strace_stop
	expect_eq "$out" "200 200" "200 answers"
	expect_eq "$(strace_calls strace.out accept4)" 200 \
	    "accept4 calls"$'\n'"$(cat strace.out)"
	expect_eq "$(strace_calls strace.out 'shutdown|getpeername')" 0 \
	    "shutdown and getpeername calls"$'\n'"$(cat strace.out)"
	pass
}
