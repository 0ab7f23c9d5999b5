#!/usr/bin/env python3
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

"""bodyclient: send a request with a large body as an HTTP client does,
reading the answer while the body goes out.

usage: bodyclient.py [-n tries] [-t secs] [-r bytes] [-p secs] address
                     head body-bytes

head is the request head with rawclient.py's backslash escapes (so
"\\r\\n" survive the shell), and body-bytes "x" bytes follow it.  The
answer is read all along; once the server stops taking the body (it
answered, closed or reset), sending stops and reading goes on until the
server closes or -t seconds (default 5) pass, as Go's and curl's clients
do.  -r sets the socket's receive buffer; -p waits that many seconds
before the first read (a slow client).  Prints, per try (-n, default 1),
one line:

    <status or -> <how> sent=<body bytes sent> body=<first response body>

how is eof, reset or timeout: how the connection ended once everything
else was done.  The status is "-" when no complete response came.
"""

import getopt
import os
import select
import socket
import sys
import time

sys.dont_write_bytecode = True     # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rawclient import Parser, connect, esc, unescape  # noqa: E402


def one(addr, head, nbody, timeout, rcvbuf, pause):
    if rcvbuf:
        host, _, port = addr.rpartition(":")
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        s.settimeout(timeout)
        s.connect((host.strip("[]"), int(port)))
    else:
        s = connect(addr, timeout)
    s.setblocking(False)
    out = head
    chunk = b"x" * 65536
    left = nbody
    sent = -len(head)
    data = b""
    how = None
    start = time.monotonic()
    deadline = start + timeout
    sending = True
    while True:
        now = time.monotonic()
        if now >= deadline:
            how = "timeout"
            break
        rd = [s] if now >= start + pause else []
        wr = [s] if sending else []
        wait = deadline - now
        if not rd:
            wait = min(wait, start + pause - now)
        r, w, _ = select.select(rd, wr, [], wait)
        if w:
            if not out and left > 0:
                n = min(left, len(chunk))
                out = chunk[:n]
                left -= n
            try:
                n = s.send(out)
                sent += n
                out = out[n:]
            except BlockingIOError:
                pass
            except OSError:
                sending = False
            if not out and left == 0:
                sending = False
        if r:
            try:
                b = s.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                how = "reset"
                break
            if not b:
                how = "eof"
                break
            data += b
            # An answer is in: a client stops sending (the server has
            # said Connection: close or will read the rest itself).
            p = Parser()
            p.feed(data)
            if p.complete > 0:
                sending = False
    s.close()
    p = Parser()
    p.feed(data)
    resp = [it for it in p.items if it[0] == "R"]
    if resp and p.complete > 0:
        st, body = str(resp[0][1]), esc(resp[0][3])
    else:
        st, body = "-", esc(data[:200])
    return "%s %s sent=%d body=%s" % (st, how, max(sent, 0), body)


def main():
    tries, timeout, rcvbuf, pause = 1, 5.0, 0, 0.0
    try:
        opts, args = getopt.getopt(sys.argv[1:], "n:p:r:t:")
    except getopt.GetoptError as e:
        sys.exit("bodyclient: %s\n%s" % (e, __doc__))
    for o, v in opts:
        if o == "-n":
            tries = int(v)
        elif o == "-t":
            timeout = float(v)
        elif o == "-r":
            rcvbuf = int(v)
        elif o == "-p":
            pause = float(v)
    if len(args) != 3:
        sys.exit(__doc__)
    head = unescape(args[1])
    for _ in range(tries):
        try:
            print(one(args[0], head, int(args[2]), timeout, rcvbuf, pause),
                  flush=True)
        except OSError as e:
            print("- connect-failed sent=0 body=%s" % esc(str(e).encode()),
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
