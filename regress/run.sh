#!/usr/bin/env bash
# moatd's integration tests: bash regress/run.sh [pattern ...]
#
# Starts a private dockerd (regress/rig.sh), runs every test function t_*
# of regress/tests/*.sh in file order, each in its own subshell and scratch
# directory (regress/lib.sh), tears the engine down and checks that nothing
# of it is left.  A pattern (an extended regexp) runs only the tests whose
# name it matches.  The last line is "N passed, N failed"; the exit status
# is non-zero when anything failed.  Builds nothing: make did.
#
# MOATD names the binary under test (default ./moatd).  With
# MOATD_SANITIZER_SCAN=1 (make check-asan, with an ASan+UBSan build) the
# sanitizers report to files of the run and every report found at the
# end, there or in any log of the run, fails one more line: see
# sanitizer_scan in regress/lib.sh.

set -u
cd "$(dirname "$0")/.." || exit 1

MOATD=${MOATD:-$PWD/moatd}
# The tests run in scratch directories of their own.
[[ $MOATD == /* ]] || MOATD=$PWD/$MOATD
export MOATD
MOATD_SANITIZER_SCAN=${MOATD_SANITIZER_SCAN:-0}

# The tests talk to the rig only, with a CLI configuration of their own,
# and moatd sees none of the caller's settings: CetusGuard's variables,
# or systemd's (under which moatd never daemonises).
unset DOCKER_HOST DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH \
    CONTAINER_HOST CETUSGUARD_BACKEND_ADDR CETUSGUARD_FRONTEND_ADDR \
    CETUSGUARD_RULES CETUSGUARD_RULES_FILE CETUSGUARD_NO_BUILTIN_RULES \
    CETUSGUARD_NO_DEFAULT_RULES CETUSGUARD_LOG_LEVEL \
    CETUSGUARD_BACKEND_TLS_CACERT CETUSGUARD_BACKEND_TLS_CERT \
    CETUSGUARD_BACKEND_TLS_KEY CETUSGUARD_FRONTEND_TLS_CACERT \
    CETUSGUARD_FRONTEND_TLS_CERT CETUSGUARD_FRONTEND_TLS_KEY \
    NOTIFY_SOCKET INVOCATION_ID LISTEN_FDS LISTEN_PID LISTEN_FDNAMES

. regress/lib.sh
# regress/tests/tls.sh talks to dockerd over TLS, too.
RIG_TLS=1
. regress/rig.sh

RUN_DIR=
TEST_PID=
FINISHED=0

# Tear down, check that the rig left nothing, print the closing line.
finish() {
	local code=$1 left f

	[ "$FINISHED" = 1 ] && return
	FINISHED=1
	trap '' HUP INT PIPE TERM
	# A test file that keeps a server across its tests (http.sh) stops
	# it in cleanup_<file>: whatever a pattern left out, it runs here.
	for f in $(compgen -A function cleanup_); do
		("$f") >/dev/null 2>&1
	done
	rig_stop
	# After every moatd has exited: LeakSanitizer reports at exit.
	[ "$MOATD_SANITIZER_SCAN" = 1 ] && [ -n "$RUN_DIR" ] &&
	    sanitizer_scan
	left=$(rig_leftovers; moatd_leftovers)
	if [ -n "$RUN_DIR" ]; then
		rm -rf "$RUN_DIR"
		[ -e "$RUN_DIR" ] && left="$left${left:+$'\n'}directory $RUN_DIR"
	fi
	if [ -z "$left" ]; then
		NPASS=$((NPASS + 1))
		echo "ok   teardown (nothing left behind)"
	else
		NFAIL=$((NFAIL + 1))
		echo "FAIL teardown (nothing left behind)"
		printf '     left: %s\n' "$left"
	fi
	echo "$NPASS passed, $NFAIL failed"
	[ "$NFAIL" -eq 0 ] || [ "$code" -ne 0 ] || code=1
	exit "$code"
}

# A signal ends the test in flight (counted as failed), then the run.
interrupted() {
	local sig=$1 code=$2 rest p st who=run.sh

	trap '' HUP INT PIPE TERM
	# Whoever read stdout is gone; stderr may still reach someone.
	[ "$sig" = PIPE ] && exec >&2
	echo "run.sh: SIG$sig, stopping"
	if [ -n "$TEST_PID" ]; then
		# The test's EXIT trap stops its moatd instances; whatever
		# else it was running is killed afterwards.
		rest=$(for p in $(_descendants "$TEST_PID"); do
			echo "$p $(_starttime "$p")"
		done)
		kill -TERM "$TEST_PID" 2>/dev/null
		wait "$TEST_PID" 2>/dev/null
		_test_reap
		# Only those still there, not a pid reused meanwhile.
		while read -r p st; do
			[ -n "$st" ] && [ "$(_starttime "$p")" = "$st" ] &&
			    kill -KILL "$p" 2>/dev/null
		done <<<"$rest"
		who=$CURRENT
	fi
	NFAIL=$((NFAIL + 1))
	echo "FAIL $who (interrupted by SIG$sig)"
	finish "$code"
}

# SIGPIPE: the output went to a pager or "| head" that has quit.
trap 'interrupted HUP 129' HUP
trap 'interrupted INT 130' INT
trap 'interrupted PIPE 141' PIPE
trap 'interrupted TERM 143' TERM
trap 'finish 1' EXIT

RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/moatd-regress.XXXXXX") || exit 1
export DOCKER_CONFIG=$RUN_DIR/.docker
[ "$MOATD_SANITIZER_SCAN" = 1 ] && sanitizer_setup

if [ ! -x "$MOATD" ]; then
	echo "run.sh: $MOATD is missing; run make first"
fi

# moatd's children run as _moatd by default, and the tests use the
# defaults: create the system user (as the package would) when missing.
if ! getent passwd _moatd >/dev/null; then
	useradd --system --no-create-home --home-dir /nonexistent \
	    --shell /usr/sbin/nologin _moatd ||
	    echo "run.sh: cannot create the _moatd user"
fi

if ! rig_start; then
	NFAIL=$((NFAIL + 1))
	echo "FAIL rig_start (the tests below that need Docker will fail)"
fi

for f in regress/tests/*.sh; do
	. "$f" || { NFAIL=$((NFAIL + 1)); echo "FAIL cannot load $f"; }
done

CURRENT=
seen=" "
for name in $(sed -n 's/^\(t_[A-Za-z0-9_]*\)[[:space:]]*()[[:space:]]*{*.*/\1/p' \
    regress/tests/*.sh); do
	# A second definition would silently replace the first.
	if [[ $seen == *" $name "* ]]; then
		NFAIL=$((NFAIL + 1))
		echo "FAIL $name (defined twice in regress/tests)"
		continue
	fi
	seen="$seen$name "
	if [ $# -gt 0 ]; then
		keep=0
		for pat in "$@"; do
			[[ $name =~ $pat ]] && keep=1
		done
		[ "$keep" = 1 ] || continue
	fi
	CURRENT=$name
	run_test "$name"
done
CURRENT=

finish 0
