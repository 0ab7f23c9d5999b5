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

