#!/bin/sh
# The Debian packages "make bench" drives besides the test set: nginx (the
# static backend), haproxy (the Tecnativa-style proxy), wrk (the load),
# perf (the profile look).  Installed by regress/deps.sh, in one step.
exec sh "$(dirname "$0")/../deps.sh" nginx haproxy wrk python3 linux-perf
