#!/usr/bin/env bash
# What each sandboxed role calls, for privsep/sandbox.c's allow-lists:
#
#	flock /tmp/moatd-rig.lock bash regress/sandbox_trace.sh [pattern ...]
#
# runs the integration suite (regress/run.sh, patterns as there) with
# every moatd it starts under strace -f, then prints, per role (the -P of
# the child's command line), each system call made after the seccomp
# filter was loaded, with the arguments the filters compare and a count.
# The tests that check moatd's executable or count its children fail
# under the tracer; the calls are what this is for.  Needs strace and a
# built moatd (MOATD, default ./moatd), which is copied first so that a
# rebuild meanwhile does not change what is traced.

set -u
cd "$(dirname "$0")/.." || exit 1
command -v strace >/dev/null || { echo "strace is needed" >&2; exit 1; }
MOATD=${MOATD:-$PWD/moatd}
T=$(mktemp -d /tmp/moatd-trace.XXXXXX) || exit 1
cp "$MOATD" "$T/moatd" || exit 1
# Attached to the wrapper's own pid, which then becomes moatd: the pid
# the tests signal and wait for stays moatd's.
cat >"$T/moatd-strace" <<EOW
#!/usr/bin/env bash
d=$T/out/\$\$
mkdir -p "\$d"
strace -f -ff -qq -o "\$d/t" -p \$\$ 2>"\$d/strace.err" &
while ! grep -q '^TracerPid:[[:space:]]*[1-9]' /proc/\$\$/status; do
	sleep 0.01
done
exec "$T/moatd" "\$@"
EOW
chmod 0755 "$T/moatd-strace"
MOATD=$T/moatd-strace bash regress/run.sh "$@" >"$T/run.log" 2>&1
echo "run.sh: $(tail -n 1 "$T/run.log") (log: $T/run.log)"

python3 - "$T/out" <<'EOP'
import collections, os, re, sys

# The arguments the filters compare, by call (0-based).
KEY = {'ioctl': [1], 'fcntl': [1], 'madvise': [2], 'futex': [1],
    'setsockopt': [1, 2], 'getsockopt': [1, 2], 'sendto': [3, 4],
    'recvfrom': [3], 'mmap': [2], 'mprotect': [2], 'newfstatat': [1, 3],
    'openat': [1], 'rt_sigaction': [0], 'shutdown': [1], 'accept4': [3],
    'tgkill': [2], 'prctl': [0], 'lseek': [2], 'socket': [0, 1]}
line_re = re.compile(r'^([a-z_0-9]+)\((.*)\)\s+=\s+(.*)$')

def args_of(s):
    out, depth, cur, q, i = [], 0, '', False, 0
    while i < len(s):
        c = s[i]
        cur += c
        if q:
            if c == '\\':
                cur += s[i + 1]
                i += 1
            elif c == '"':
                q = False
        elif c == '"':
            q = True
        elif c in '[{(':
            depth += 1
        elif c in ']})':
            depth -= 1
        elif c == ',' and depth == 0:
            out.append(cur[:-1].strip())
            cur = ''
        i += 1
    out.append(cur.strip())
    return out

sigs = collections.defaultdict(collections.Counter)
procs = collections.Counter()
for dp, dn, fn in os.walk(sys.argv[1]):
    for f in fn:
        if not f.startswith('t.'):
            continue
        role, sandboxed = None, False
        for ln in open(os.path.join(dp, f), errors='replace'):
            if ln.startswith('execve('):
                m = re.search(r'"-P", "([a-z]+)"', ln)
                role, sandboxed = (m.group(1) if m else None), False
                continue
            if role is None:
                continue
            if not sandboxed:
                # libseccomp probes with a NULL filter first
                if ('SECCOMP_SET_MODE_FILTER' in ln and 'filter=' in ln
                        and ln.rstrip().endswith('= 0')):
                    sandboxed = True
                    procs[role] += 1
                continue
            m = line_re.match(ln)
            if m is None:
                continue
            name, a = m.group(1), args_of(m.group(2))
            k = KEY.get(name, [])
            sig = '%s(%s)' % (name, ', '.join(a[i] if i < len(a) else '?'
                for i in k))
            if name in ('openat', 'newfstatat'):
                sig += ' = ' + m.group(3)[:24]
            sigs[role][sig] += 1
for role in sorted(sigs):
    print('%s (%d processes)' % (role, procs[role]))
    for s, c in sorted(sigs[role].items()):
        print('    %-56s %d' % (s, c))
EOP
echo "traces: $T/out (rm -rf $T when done)"
