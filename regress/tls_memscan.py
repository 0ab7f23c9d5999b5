#!/usr/bin/env python3
# tls_memscan.py KEYFILE PID...: look for a private key's secret parts in
# the memory of processes (as root: /proc/PID/mem of another user's,
# non-dumpable process needs CAP_SYS_PTRACE).
#
# The secrets are taken from "openssl pkey -text": the RSA private
# exponent and primes, or the EC private scalar.  Each is searched for in
# the forms it takes in memory: big-endian bytes (DER, as a parser or a
# message holds them), little-endian bytes (an OpenSSL BIGNUM on a
# little-endian machine), and its hex digits; and the key file itself as
# base64 lines and as DER.  Prints one line per PID: "PID clean" or
# "PID found: what, ..."; exits 2 on a usage or read error.

import base64
import re
import subprocess
import sys

NEEDLE = 16			# bytes of a number to look for


def secrets(keyfile):
    text = subprocess.run(["openssl", "pkey", "-in", keyfile, "-noout",
                           "-text"], capture_output=True, text=True,
                          check=True).stdout
    found = {}
    name = None
    for line in text.splitlines():
        m = re.match(r"^(\w+):\s*(.*)$", line)
        if m:
            name = m.group(1)
            found[name] = m.group(2).strip()
            continue
        if name is not None and line.startswith(" "):
            found[name] += line.strip()
        else:
            name = None
    wanted = ["privateExponent", "prime1", "prime2", "priv"]
    out = []
    for w in wanted:
        if w not in found:
            continue
        hexs = found[w].replace(":", "")
        n = int(hexs, 16)
        be = n.to_bytes((n.bit_length() + 7) // 8, "big")
        out.append((w + " (big-endian)", be[:NEEDLE]))
        out.append((w + " (little-endian)", be[::-1][:NEEDLE]))
        out.append((w + " (hex)", ("%x" % n)[:2 * NEEDLE].encode()))
    if not out:
        sys.exit("tls_memscan: no secret parts in " + keyfile)
    pem = open(keyfile).read().split("\n")
    body = [l for l in pem if l and not l.startswith("-----")]
    for i, l in enumerate(body[1:3]):
        out.append(("PEM line %d" % (i + 2), l.encode()))
    der = base64.b64decode("".join(body))
    mid = len(der) // 2
    out.append(("DER", der[mid:mid + 2 * NEEDLE]))
    return out


CHUNK = 16 << 20
OVERLAP = 4096          # longer than any needle: no match falls between
HUGE = 64 << 30


def scan(pid, needles):
    hits = set()
    with open("/proc/%d/maps" % pid) as maps, \
            open("/proc/%d/mem" % pid, "rb", 0) as mem:
        for line in maps:
            f = line.split()
            if "r" not in f[1] or (len(f) > 5 and f[5] in
                                   ("[vvar]", "[vsyscall]")):
                continue
            lo, hi = (int(x, 16) for x in f[0].split("-"))
            # Terabyte reservations (ASan's shadow in the sanitizer
            # build) hold no key bytes and cannot be read whole.
            if hi - lo > HUGE:
                continue
            pos = lo
            while pos < hi:
                n = min(CHUNK, hi - pos)
                try:
                    mem.seek(max(lo, pos - OVERLAP))
                    data = mem.read(n + (pos - max(lo, pos - OVERLAP)))
                except OSError:
                    break
                for what, needle in needles:
                    if needle in data:
                        hits.add(what)
                pos += n
    return hits


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: tls_memscan.py KEYFILE PID...")
    needles = secrets(sys.argv[1])
    for pid in sys.argv[2:]:
        try:
            hits = scan(int(pid), needles)
        except OSError as e:
            print("%s unreadable: %s" % (pid, e))
            sys.exit(2)
        print("%s %s" % (pid, "found: " + ", ".join(sorted(hits))
                         if hits else "clean"))


main()
