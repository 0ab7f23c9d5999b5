# Rewrite every chunked request body in a byte stream (file argv[1]) as
# one chunk, sizes in lower-case hex, no extensions, to stdout: the
# forwarder frames chunked bodies itself (daemon/forwarder.c), so what
# Docker gets is the client's data in chunks of the forwarder's making,
# and the tests compare what Docker decodes.  A stream that does not
# parse is written out as it is, so that a comparison shows it.
import re
import sys


def rechunk(b):
    out = bytearray()
    i = 0
    while i < len(b):
        end = b.find(b"\r\n\r\n", i)
        if end < 0:
            return None
        head = b[i:end + 4]
        out += head
        i = end + 4
        h = head.lower()
        if re.search(rb"\r\ntransfer-encoding:[ \t]*chunked\r\n", h):
            data = bytearray()
            while True:
                eol = b.find(b"\r\n", i)
                if eol < 0:
                    return None
                size = int(b[i:eol].split(b";")[0], 16)
                i = eol + 2
                if size == 0:
                    if b[i:i + 2] != b"\r\n":
                        return None
                    i += 2
                    break
                data += b[i:i + size]
                if b[i + size:i + size + 2] != b"\r\n":
                    return None
                i += size + 2
            if data:
                out += b"%x\r\n" % len(data) + data + b"\r\n"
            out += b"0\r\n\r\n"
            continue
        m = re.search(rb"\r\ncontent-length:[ \t]*([0-9]+)\r\n", h)
        if m:
            n = int(m.group(1))
            out += b[i:i + n]
            i += n
    return bytes(out)


b = open(sys.argv[1], "rb").read()
try:
    r = rechunk(b)
except ValueError:
    r = None
sys.stdout.buffer.write(b if r is None else r)
