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

"""boundsclient: misbehaving clients for regress/tests/bounds.sh.

usage:
  boundsclient.py silent addr n secs
      n connections that say nothing (every other one sends half a TLS
      ClientHello), held until the server closes them all or secs pass.
      Prints "closed=K open=M".
  boundsclient.py tlsflood addr cafile cert key maxmb secs pid
      One TLS connection: GET /events (a stream that never ends), then
      junk pipelined behind it, maxmb MiB at most, until writing blocks
      for 1.5 s or secs pass.  Prints "sent=MiB rss0=KiB rss=KiB" with
      the VmRSS of process pid before and after.
  boundsclient.py pipeline addr nconn maxmb secs pid
      nconn connections write pipelined GETs with long paths (denied by
      the test's rules) and never read, until none can be written for
      1.5 s, maxmb MiB went out or secs pass.  Prints as
      tlsflood.
  boundsclient.py burst addr n secs request
      n connections each send request; collect the status line of each
      for secs, connections held.  Prints "200=a 503=b eof=c none=d"
      (any status seen is counted under its code).
  boundsclient.py seq addr n secs request
      The same, one connection after the other, each waiting up to secs
      for its answer before the next opens; prints the statuses in
      order, one word each ("200", "503", "eof", "none"), then
      "first=eof|open" for how the first connection stands at the end.

addr is host:port or unix:/path.  request takes \\r\\n escapes.
"""

import select
import socket
import ssl
import sys
import time

# A TLS record header and the start of a ClientHello, then nothing.
HALF_HELLO = bytes.fromhex("160301020001000200fc0303") + b"\x00" * 20


def connect(addr):
    if addr.startswith("unix:"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(addr[5:])
        return s
    host, port = addr.rsplit(":", 1)
    return socket.create_connection((host, int(port)))


def rss(pid):
    with open("/proc/%s/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def silent(addr, n, secs):
    conns = []
    for i in range(n):
        s = connect(addr)
        if i % 2:
            s.sendall(HALF_HELLO)
        conns.append(s)
    open_ = set(conns)
    end = time.monotonic() + secs
    while open_ and time.monotonic() < end:
        r, _, _ = select.select(list(open_), [], [], 0.2)
        for s in r:
            try:
                if s.recv(4096) == b"":
                    open_.discard(s)
            except OSError:
                open_.discard(s)
    print("closed=%d open=%d" % (n - len(open_), len(open_)))


def flood(socks, maxmb, secs, pid, chunk):
    rss0 = rss(pid)
    sent = 0
    limit = maxmb * 1024 * 1024
    end = time.monotonic() + secs
    live = list(socks)
    for s in live:
        s.setblocking(False)
    while live and sent < limit and time.monotonic() < end:
        _, w, _ = select.select([], live, [], 1.5)
        if not w:
            break       # every one blocked for 1.5 s
        for s in w:
            try:
                sent += s.send(chunk)
            except (BlockingIOError, ssl.SSLWantWriteError,
                    ssl.SSLWantReadError):
                pass
            except OSError:
                live.remove(s)
    time.sleep(0.5)
    print("sent=%d rss0=%d rss=%d" % (sent >> 20, rss0, rss(pid)))


def tlsflood(addr, cafile, cert, key, maxmb, secs, pid):
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.load_cert_chain(cert, key)
    s = ctx.wrap_socket(connect(addr), server_hostname="127.0.0.1")
    s.sendall(b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
    s.settimeout(5)
    head = s.recv(4096)
    if not head.startswith(b"HTTP/1.1 200"):
        sys.exit("tlsflood: no stream: %r" % head[:200])
    flood([s], maxmb, secs, pid, b"x" * 16384)


def pipeline(addr, nconn, maxmb, secs, pid):
    req = b"GET /denied/" + b"d" * 900 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    flood([connect(addr) for _ in range(nconn)], maxmb, secs, pid,
          req * 64)


def send(s, req):
    # A refused client may be closed before it has said anything.
    try:
        s.sendall(req)
    except OSError:
        pass


def status(s, buf):
    try:
        d = s.recv(4096)
    except OSError:
        d = b""
    if d == b"":
        return "eof", buf
    buf += d
    if b"\r\n" in buf:
        return buf.split(b" ", 2)[1].decode(), buf
    return None, buf


def burst(addr, n, secs, req):
    conns = {}
    held = []
    for _ in range(n):
        s = connect(addr)
        send(s, req)
        conns[s] = b""
        held.append(s)
    got = {}
    end = time.monotonic() + secs
    while conns and time.monotonic() < end:
        r, _, _ = select.select(list(conns), [], [], 0.2)
        for s in r:
            st, conns[s] = status(s, conns[s])
            if st is not None:
                got[st] = got.get(st, 0) + 1
                del conns[s]
    got["none"] = got.get("none", 0) + len(conns)
    for k in ("200", "503", "eof"):
        got.setdefault(k, 0)
    print(" ".join("%s=%d" % (k, got[k]) for k in sorted(got)))


def seq(addr, n, secs, req):
    out = []
    held = []
    for _ in range(n):
        s = connect(addr)
        send(s, req)
        held.append(s)
        buf = b""
        st = None
        end = time.monotonic() + secs
        while st is None and time.monotonic() < end:
            r, _, _ = select.select([s], [], [], 0.1)
            if r:
                st, buf = status(s, buf)
        out.append(st or "none")
    first = "open"
    held[0].settimeout(0.5)
    try:
        while held[0].recv(65536):
            pass
        first = "eof"
    except socket.timeout:
        pass
    except OSError:
        first = "eof"
    print(" ".join(out) + " first=" + first)


def main():
    a = sys.argv[1:]
    if not a:
        sys.exit(__doc__)
    mode = a[0]
    if mode == "silent":
        silent(a[1], int(a[2]), float(a[3]))
    elif mode == "tlsflood":
        tlsflood(a[1], a[2], a[3], a[4], int(a[5]), float(a[6]), a[7])
    elif mode == "pipeline":
        pipeline(a[1], int(a[2]), int(a[3]), float(a[4]), a[5])
    elif mode in ("burst", "seq"):
        req = a[4].replace("\\r", "\r").replace("\\n", "\n").encode()
        (burst if mode == "burst" else seq)(a[1], int(a[2]),
                                            float(a[3]), req)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
