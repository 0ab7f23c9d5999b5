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

"""rawclient: send exact bytes to a server and show what comes back.

usage: rawclient.py [-t secs] [-d secs] [-n count] [-g secs] [-h list]
                    [-s] [-S] address piece...

address is host:port, [v6]:port or unix:/path.  Each piece is sent with
one write, -d seconds (default 0.1) after the previous one; a piece is
"@file" (its bytes) or a string with backslash escapes (\\r \\n \\t \\0
\\xHH \\\\), so CRLFs and odd bytes survive the shell.  -s half-closes
the connection after the last piece.

Reads until the server closes, or -t seconds (default 3) pass, or -n
complete HTTP responses have arrived and -g more seconds (default 0)
brought nothing.  -h names the responses (1-based, comma-separated)
that answer HEAD requests: they have no body whatever their framing.  Prints the bytes received; with -S, a summary instead,
one line per item (bytes shown with \\xHH escapes, see esc()):

    R <status> ct=<content-type> body=<body>   one complete response
    P <bytes>     bytes after a 101 (the upgraded stream)
    J <bytes>     bytes that do not parse as (the rest of) a response
    E eof|reset|timeout|open   how it ended (open: -n was reached)

The exit status is 0 whatever the server did; 1 if it cannot connect.
"""

import getopt
import socket
import sys
import time


def unescape(s):
    out = bytearray()
    i = 0
    while i < len(s):
        c = s[i]
        if c != "\\" or i + 1 == len(s):
            out += c.encode("utf-8")
            i += 1
            continue
        n = s[i + 1]
        i += 2
        if n == "x":
            out.append(int(s[i:i + 2], 16))
            i += 2
        else:
            out += {"r": b"\r", "n": b"\n", "t": b"\t", "0": b"\0",
                    "\\": b"\\"}.get(n, ("\\" + n).encode())
    return bytes(out)


def esc(b):
    return "".join(chr(c) if 0x20 <= c < 0x7f and c != 0x5c else
                   "\\\\" if c == 0x5c else "\\x%02x" % c for c in b)


def connect(addr, timeout):
    if addr.startswith("unix:"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(addr[5:])
        return s
    host, _, port = addr.rpartition(":")
    host = host.strip("[]")
    s = socket.create_connection((host, int(port)), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


class Parser:
    """Splits a byte stream into HTTP/1.x responses, as a client would."""

    def __init__(self, heads=()):
        self.heads = heads      # 1-based numbers of responses to HEAD
        self.items = []         # ("R", status, fields, body) or (kind, bytes)
        self.complete = 0       # complete responses
        self.piped = False      # a 101 came: the rest is a raw stream

    def feed(self, data):
        """Parse everything received so far, from the start."""
        self.items = []
        self.complete = 0
        self.piped = False
        pos = 0
        while pos < len(data):
            end = data.find(b"\r\n\r\n", pos)
            if end == -1:
                break
            lines = data[pos:end].decode("latin-1").split("\r\n")
            parts = lines[0].split(" ", 2)
            if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or \
                    not parts[1].isdigit():
                break
            status = int(parts[1])
            fields = {}
            for l in lines[1:]:
                k, _, v = l.partition(":")
                fields[k.strip().lower()] = v.strip()
            at = end + 4
            if status == 101:
                self.items.append(("R", status, fields, b""))
                self.complete += 1
                self.piped = True
                if at < len(data):
                    self.items.append(("P", data[at:]))
                return
            if 100 <= status < 200 or status in (204, 304) or \
                    self.complete + 1 in self.heads:
                body, nxt = b"", at
            elif "chunked" in fields.get("transfer-encoding", "").lower():
                body, nxt = self.dechunk(data, at)
            elif "content-length" in fields:
                n = int(fields["content-length"]) if fields[
                    "content-length"].isdigit() else 1 << 62
                body, nxt = data[at:at + n], at + n
                if nxt > len(data):
                    nxt = None
            else:
                # Delimited by the close: shown as it is, never complete.
                self.items.append(("R", status, fields, data[at:]))
                return
            if nxt is None:
                break
            self.items.append(("R", status, fields, body))
            self.complete += 1
            pos = nxt
        if pos < len(data):
            # Truncated or not a response: shown raw, so nothing is lost.
            self.items.append(("J", data[pos:]))

    @staticmethod
    def dechunk(data, pos):
        body = b""
        while True:
            eol = data.find(b"\r\n", pos)
            if eol == -1:
                return None, None
            try:
                size = int(data[pos:eol].split(b";")[0], 16)
            except ValueError:
                return None, None
            pos = eol + 2
            if size == 0:
                eol = data.find(b"\r\n", pos)
                while eol != -1 and eol != pos:
                    pos = eol + 2
                    eol = data.find(b"\r\n", pos)
                if eol == -1:
                    return None, None
                return body, eol + 2
            if pos + size + 2 > len(data):
                return None, None
            body += data[pos:pos + size]
            pos += size + 2


def summary(data, how, heads):
    p = Parser(heads)
    p.feed(data)
    out = []
    for it in p.items:
        if it[0] == "R":
            out.append("R %d ct=%s body=%s" % (it[1],
                       it[2].get("content-type", "-"), esc(it[3])))
        else:
            out.append("%s %s" % (it[0], esc(it[1])))
    out.append("E %s" % how)
    return "\n".join(out) + "\n"


def main():
    timeout, delay, count, grace = 3.0, 0.1, None, 0.0
    shut = summ = False
    heads = ()
    try:
        opts, args = getopt.getopt(sys.argv[1:], "d:g:h:n:sSt:")
    except getopt.GetoptError as e:
        sys.exit("rawclient: %s\n%s" % (e, __doc__))
    for o, v in opts:
        if o == "-t":
            timeout = float(v)
        elif o == "-d":
            delay = float(v)
        elif o == "-n":
            count = int(v)
        elif o == "-g":
            grace = float(v)
        elif o == "-h":
            heads = tuple(int(n) for n in v.split(","))
        elif o == "-s":
            shut = True
        elif o == "-S":
            summ = True
    if len(args) < 1:
        sys.exit(__doc__)
    pieces = []
    for a in args[1:]:
        if a.startswith("@"):
            with open(a[1:], "rb") as f:
                pieces.append(f.read())
        else:
            pieces.append(unescape(a))

    deadline = time.monotonic() + timeout
    try:
        s = connect(args[0], timeout)
    except OSError as e:
        print("rawclient: connect %s: %s" % (args[0], e), file=sys.stderr)
        sys.exit(1)

    data = b""
    how = None
    parser = Parser(heads)

    def receive(until):
        """Read until until (monotonic); returns False at EOF/reset."""
        nonlocal data, how
        while True:
            left = until - time.monotonic()
            if left <= 0:
                return True
            s.settimeout(left)
            try:
                b = s.recv(65536)
            except socket.timeout:
                return True
            except ConnectionResetError:
                how = "reset"
                return False
            if not b:
                how = "eof"
                return False
            data += b
            if count is not None:
                parser.feed(data)
                if parser.complete >= count and not parser.piped:
                    return True

    alive = True
    for i, piece in enumerate(pieces):
        if i > 0:
            # Read meanwhile: a server may answer or close between pieces.
            alive = receive(time.monotonic() + delay)
            if not alive:
                break
        try:
            s.sendall(piece)
        except (BrokenPipeError, ConnectionResetError):
            how = "reset"
            alive = False
            break
    if alive and shut:
        try:
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass
    while alive and how is None:
        alive = receive(deadline)
        if not alive:
            break
        if time.monotonic() >= deadline:
            how = "timeout"
            break
        # -n responses are in: wait the grace period for anything more.
        before = len(data)
        alive = receive(time.monotonic() + grace)
        if alive and len(data) == before:
            how = "open"
    if how is None:
        how = "timeout"
    s.close()
    if summ:
        sys.stdout.write(summary(data, how, heads))
    else:
        sys.stdout.buffer.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
