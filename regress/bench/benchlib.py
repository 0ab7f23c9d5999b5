#!/usr/bin/env python3
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

"""Helpers for regress/bench/bench.sh that are awkward in shell.

  freeports N            print N free loopback TCP ports
  pids ROOT...           every process in the trees under the ROOT pids
  cpu ROOT...            utime+stime of those processes, in seconds
  rss ROOT...            sum of their VmRSS, in KiB
  pss ROOT...            sum of their Pss (smaps_rollup), in KiB
  sample ROOT... -- CMD  run CMD; print its stdout, then the peak summed
                         VmRSS (KiB) seen while it ran, sampled every 10 ms
  idle PORT N ROOT...    open N connections to 127.0.0.1:PORT that send
                         nothing, then, holding them, N more that each send
                         one kept-alive GET /_ping in turn and read the
                         answer.  Print "RSS_BASE RSS_BARE RSS_BOTH
                         OPEN_BARE OPEN_PINGED PSS_BASE PSS_BARE PSS_BOTH":
                         summed VmRSS (KiB) before, with the first set,
                         with both; how many of each set were still open
                         at the end; summed Pss (KiB) at the same three
                         points.
  fetch PORT PATH        GET PATH from 127.0.0.1:PORT with "Connection:
                         close" and read the answer to its end with 1 MiB
                         recv_into() calls, throwing it away: a reader that
                         costs next to nothing (curl writes what it reads).
                         Print "STATUS BYTES SECONDS": the status, the
                         bytes after the head (framing of a chunked body
                         included), from sending to the end of the answer.
  reqs PORT PATH N C     exactly N requests GET PATH, spread over C
                         kept-alive connections (one thread each, one
                         request at a time).  Print "OK BAD": answers
                         with a 2xx status and the others (a connection
                         that fails counts its remaining requests as BAD).

A "tree" is the ROOT and all its descendants, found through the ppid field
of /proc/<pid>/stat, so forked and re-exec'd workers are all counted.
"""

import os
import resource
import select
import socket
import subprocess
import sys
import threading
import time


def stat_fields(pid):
    with open("/proc/%d/stat" % pid) as f:
        s = f.read()
    # comm may hold spaces and parentheses: split after the last ')'.
    return s[s.rindex(")") + 2:].split()


def tree(roots):
    children = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            ppid = int(stat_fields(int(d))[1])
        except (OSError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(d))
    out, todo = [], [int(r) for r in roots]
    while todo:
        p = todo.pop()
        if p in out or not os.path.exists("/proc/%d" % p):
            continue
        out.append(p)
        todo.extend(children.get(p, []))
    return sorted(out)


def cpu(roots):
    hz = os.sysconf("SC_CLK_TCK")
    ticks = 0
    for p in tree(roots):
        try:
            f = stat_fields(p)
        except OSError:
            continue
        # fields 14 and 15 of stat(5), counted from 3 after the comm.
        ticks += int(f[11]) + int(f[12])
    return ticks / hz


def rss(roots):
    kib = 0
    for p in tree(roots):
        try:
            with open("/proc/%d/status" % p) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        kib += int(line.split()[1])
        except OSError:
            continue
    return kib


def pss(roots):
    """Proportional set size: shared library pages split among their
    users, so that N processes of one program are not charged N times."""
    kib = 0
    for p in tree(roots):
        try:
            with open("/proc/%d/smaps_rollup" % p) as f:
                for line in f:
                    if line.startswith("Pss:"):
                        kib += int(line.split()[1])
        except OSError:
            continue
    return kib


def sample(roots, cmd):
    pids = tree(roots)
    peak = [rss(pids)]
    done = threading.Event()

    def loop():
        while not done.is_set():
            peak[0] = max(peak[0], rss(pids))
            time.sleep(0.01)

    t = threading.Thread(target=loop)
    t.start()
    r = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
    done.set()
    t.join()
    sys.stdout.write(r.stdout.strip() + "\n")
    print(peak[0])


def recv_response(s):
    """Read one small Content-Length framed response; return its status."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = s.recv(4096)
        if not d:
            raise OSError("closed")
        buf += d
    head, body = buf.split(b"\r\n\r\n", 1)
    status = int(head.split(b" ", 2)[1])
    n = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            n = int(v)
    while len(body) < n:
        d = s.recv(4096)
        if not d:
            raise OSError("closed")
        body += d
    return status


def still_open(socks):
    """A socket the peer closed polls readable and reads EOF."""
    n = 0
    for s in socks:
        # poll, not select: the descriptors go past FD_SETSIZE.
        p = select.poll()
        p.register(s, select.POLLIN)
        if p.poll(0):
            try:
                if s.recv(1, socket.MSG_PEEK) == b"":
                    continue
            except OSError:
                continue
        n += 1
    return n


def open_conns(port, count):
    return [socket.create_connection(("127.0.0.1", port), timeout=10)
            for _ in range(count)]


def idle(port, count, roots):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, 2 * count + 64)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    pids = tree(roots)
    base, pbase = rss(pids), pss(pids)
    bare = open_conns(port, count)
    # Let the server's side finish accepting and settle.
    time.sleep(1.0)
    after_bare, pbare = rss(pids), pss(pids)
    # The second set is opened while the first is held, so that it cannot
    # reuse memory the first one freed.  One request at a time: what stays
    # is the cost of an idle kept-alive connection, not the high-water mark
    # of a thousand requests (and as many backend connections) in flight.
    pinged = open_conns(port, count)
    req = b"GET /_ping HTTP/1.1\r\nHost: bench\r\n\r\n"
    for s in pinged:
        s.sendall(req)
        recv_response(s)
    time.sleep(1.0)
    after_ping, pping = rss(pids), pss(pids)
    print(base, after_bare, after_ping, still_open(bare), still_open(pinged),
          pbase, pbare, pping)
    for s in bare + pinged:
        s.close()


def fetch(port, path):
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    buf = bytearray(1 << 20)
    mv = memoryview(buf)
    head = b""
    body = 0
    t0 = time.monotonic()
    s.sendall(b"GET %s HTTP/1.1\r\nHost: bench\r\nConnection: close"
              b"\r\n\r\n" % path.encode())
    # The body is dropped by the kernel (MSG_TRUNC on TCP): the reader
    # costs no copy, so the figure is the server's, not the reader's.
    flags = 0
    while True:
        n = s.recv_into(mv, len(buf), flags)
        if n == 0:
            break
        if head is not None:
            head += mv[:n]
            i = head.find(b"\r\n\r\n")
            if i < 0:
                continue
            body += len(head) - i - 4
            status = int(head.split(b" ", 2)[1])
            head = None
            flags = socket.MSG_TRUNC
        else:
            body += n
    t = time.monotonic() - t0
    s.close()
    if head is not None:
        print(0, 0, "%.6f" % t)
    else:
        print(status, body, "%.6f" % t)


def reqs(port, path, n, conns):
    req = b"GET %s HTTP/1.1\r\nHost: bench\r\n\r\n" % path.encode()
    counts = []

    def run(k):
        ok = 0
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=60)
            for _ in range(k):
                s.sendall(req)
                if 200 <= recv_response(s) < 300:
                    ok += 1
            s.close()
        except (OSError, ValueError, IndexError):
            pass
        counts.append((ok, k - ok))

    ths = [threading.Thread(target=run, args=(n // conns +
                                               (1 if i < n % conns else 0),))
           for i in range(conns)]
    for t in ths:
        t.start()
    for t in ths:
        t.join()
    print(sum(c[0] for c in counts), sum(c[1] for c in counts))


def freeports(n):
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    print(" ".join(str(p) for p in ports))


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    cmd, args = argv[1], argv[2:]
    if cmd == "freeports":
        freeports(int(args[0]))
    elif cmd == "pids":
        print(" ".join(str(p) for p in tree(args)))
    elif cmd == "cpu":
        print("%.3f" % cpu(args))
    elif cmd == "rss":
        print(rss(args))
    elif cmd == "pss":
        print(pss(args))
    elif cmd == "sample":
        i = args.index("--")
        sample(args[:i], args[i + 1:])
    elif cmd == "fetch":
        fetch(int(args[0]), args[1])
    elif cmd == "reqs":
        reqs(int(args[0]), args[1], int(args[2]), int(args[3]))
    elif cmd == "idle":
        idle(int(args[0]), int(args[1]), args[2:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
