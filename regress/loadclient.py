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

"""loadclient: a fixed mix of requests through moatd, as fast as one
client goes, for regress/tests/leak.sh.

usage: loadclient.py host:port rounds

Each round makes ROUND requests over four connections:
  keep-alive:  10 GET /_ping (200), GET /secret (403), a POST /allowed
               with a Content-Length body and one with a chunked body
               (200 each), then the client closes;
  new:         GET /_ping with "Connection: close" (200), moatd closes;
  bad:         two Host fields (400), moatd closes;
  cut:         half a request head, then the client closes.
Prints one line "200=N 403=N 400=N cut=N" and exits 0; any unexpected
answer, close or timeout is an error on stderr and exit status 1.
Runs against regress/fakedocker with the rules
    GET ^/_ping$
    POST ^/allowed$
"""

import socket
import sys

ROUND = 16
PING = b"GET /_ping HTTP/1.1\r\nHost: moatd\r\n\r\n"
SECRET = b"GET /secret HTTP/1.1\r\nHost: moatd\r\n\r\n"
POST_CL = (b"POST /allowed HTTP/1.1\r\nHost: moatd\r\n"
           b"Content-Type: application/json\r\nContent-Length: 13\r\n\r\n"
           b'{"a": "body"}')
POST_CHUNKED = (b"POST /allowed HTTP/1.1\r\nHost: moatd\r\n"
                b"Content-Type: application/json\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n"
                b"6\r\n{\"a\": \r\n7\r\n\"body\"}\r\n0\r\n\r\n")
CLOSE = b"GET /_ping HTTP/1.1\r\nHost: moatd\r\nConnection: close\r\n\r\n"
BAD = b"GET /_ping HTTP/1.1\r\nHost: moatd\r\nHost: other\r\n\r\n"
CUT = b"GET /_ping HTTP/1.1\r\nHo"


class Conn:
    def __init__(self, addr):
        self.s = socket.create_connection(addr, timeout=10)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def fill(self):
        b = self.s.recv(65536)
        if not b:
            raise EOFError("connection closed by moatd")
        self.buf += b

    def line(self):
        while b"\r\n" not in self.buf:
            self.fill()
        ln, self.buf = self.buf.split(b"\r\n", 1)
        return ln

    def take(self, n):
        while len(self.buf) < n:
            self.fill()
        b, self.buf = self.buf[:n], self.buf[n:]
        return b

    def response(self):
        """One response: (status, close asked); its body is skipped."""
        status = int(self.line().split(b" ")[1])
        length, chunked, close = 0, False, False
        while True:
            ln = self.line()
            if not ln:
                break
            k, v = ln.split(b":", 1)
            k, v = k.strip().lower(), v.strip().lower()
            if k == b"content-length":
                length = int(v)
            elif k == b"transfer-encoding":
                chunked = v == b"chunked"
            elif k == b"connection":
                close = v == b"close"
        if chunked:
            while True:
                n = int(self.line().split(b";")[0], 16)
                self.take(n + 2)
                if n == 0:
                    break
        else:
            self.take(length)
        return status, close

    def ask(self, req, want, count):
        self.s.sendall(req)
        status, close = self.response()
        if status != want:
            raise ValueError("%r: status %d, want %d" % (req[:40], status,
                                                         want))
        count[status] = count.get(status, 0) + 1
        return close

    def closed_by_peer(self):
        """The peer must close: EOF, with nothing more to read."""
        if self.buf:
            raise ValueError("bytes after the last response: %r" % self.buf)
        if self.s.recv(1) != b"":
            raise ValueError("moatd sent more after the last response")

    def close(self):
        self.s.close()


def one_round(addr, count):
    c = Conn(addr)
    for _ in range(10):
        c.ask(PING, 200, count)
    c.ask(SECRET, 403, count)
    c.ask(POST_CL, 200, count)
    c.ask(POST_CHUNKED, 200, count)
    c.close()

    c = Conn(addr)
    if not c.ask(CLOSE, 200, count):
        raise ValueError("no Connection: close on the answer to one")
    c.closed_by_peer()
    c.close()

    c = Conn(addr)
    c.ask(BAD, 400, count)
    c.closed_by_peer()
    c.close()

    c = Conn(addr)
    c.s.sendall(CUT)
    c.close()
    count["cut"] = count.get("cut", 0) + 1


def main():
    host, port = sys.argv[1].rsplit(":", 1)
    rounds = int(sys.argv[2])
    count = {}
    try:
        for _ in range(rounds):
            one_round((host, int(port)), count)
    except (OSError, EOFError, ValueError) as e:
        print("loadclient: after %s: %s" % (count, e), file=sys.stderr)
        return 1
    print(" ".join("%s=%d" % (k, count.get(k, 0))
                   for k in (200, 403, 400, "cut")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
