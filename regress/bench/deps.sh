#!/bin/sh
# The Debian packages "make bench" drives besides the test set: nginx (the
# static backend), haproxy (the Tecnativa-style proxy), wrk (the load),
# strace (the syscall count), perf (the profile look).  Installed by
# regress/deps.sh, in one step.
exec sh "$(dirname "$0")/../deps.sh" nginx haproxy wrk python3 strace \
    linux-perf
