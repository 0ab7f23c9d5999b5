# Helpers for the integration tests (regress/tests/*.sh).  Sourced by
# regress/run.sh, which runs each test function t_* in a subshell of its
# own, in a fresh scratch directory ($SCRATCH, also the working directory).
# A test is a function written "t_name() {" at the start of a line; they
# run in the order of the files and of the functions in them.  Tests see
# MOATD (the binary), RIG_HOST, RIG_SOCK and RIG_IMAGE (regress/rig.sh),
# and run with set -u.  A file whose tests share a server started outside
# any test's bookkeeping defines cleanup_<file>(), which run.sh calls once
# before its final checks, whichever tests a pattern selected.
#
# A test fails when it calls fail (directly or through an expect_*
# helper), when it exits non-zero, or when a moatd it started and did not
# stop has died, lost a child, or left a zombie (gmid's rule: the daemon
# must survive every case).  Everything else passes.
#
#   tid "what the test checks"	one line shown next to the test's name
#   pass				end the test here, successfully
#   fail "why"			end the test here, as failed
#   expect_eq GOT WANT [what]	GOT and WANT must be equal
#   expect_match GOT ERE [what]	GOT must match the extended regexp ERE
#   expect_status CODE curl-args	run curl; the HTTP status must be CODE
#				(000: no HTTP answer).  Sets STATUS; the
#				body is in $BODY (a file).
#   run_cmd cmd [args]		run cmd; sets OUT, ERR (stdout and stderr
#				without their final newlines) and RC
#   free_port			print a free TCP port on 127.0.0.1
#   moatd_start [args]		start "$MOATD -d args" in the background
#				and wait (10 s) until every -frontend-addr
#				(or every address in $MOATD_WAIT) accepts
#				connections.  Sets MOATD_PID and
#				MOATD_LOG (stderr and stdout of moatd).
#				With MOATD_ADDRS set, it waits for those
#				addresses instead (listeners that come
#				from a configuration file).  With
#				MOATD_SETSID=1, moatd leads a session and
#				process group of its own (setsid).
#   moatd_stop [pid]		SIGTERM, wait, SIGKILL after 10 s.  Sets
#				MOATD_STATUS (exit status, 128+sig when
#				killed by a signal); returns 1 if moatd
#				needed SIGKILL or left children behind.
#   moatd_alive [pid]		0 if that moatd and the children it had
#				when it became ready are all alive; else
#				prints why
#   moatd_rebase [pid]		the test replaced children on purpose (it
#				killed one and moatd restarted it): take
#				the children moatd has now as the ones
#				moatd_alive checks
#   moatd_forget [pid]		the test killed that moatd itself: reap it
#				(sets MOATD_STATUS) and leave it out of the
#				checks at the end of the test
#   moatd_leftovers		print every moatd process of the run that
#				still exists (run.sh checks it at the end)
#   rig_docker args		docker -H "$RIG_HOST" args
#   on_exit cmd [args]		run cmd (output discarded) when the test
#				ends, passed or failed, before the checks:
#				to remove the containers and images it made
#   sanitizer_setup		(run.sh, MOATD_SANITIZER_SCAN=1) set
#				ASAN_OPTIONS and UBSAN_OPTIONS for the run;
#				run_test points log_path at a file per test
#   sanitizer_scan		(run.sh, at the end) one more test line:
#				it fails on any sanitizer report of the run

NPASS=0
NFAIL=0
FAILED=

TEST_NAME=
SCRATCH=
BODY=
STATUS=
OUT=
ERR=
RC=
ON_EXIT=()
MOATD_PID=
MOATD_LOG=
MOATD_STATUS=
MOATD_START_TIMEOUT=${MOATD_START_TIMEOUT:-10}
MOATD_STOP_TIMEOUT=${MOATD_STOP_TIMEOUT:-10}

tid() {
	printf '%s\n' "$1" >"$SCRATCH/.tid"
}

pass() {
	exit 0
}

# The reasons go to a file that run.sh prints under the test's FAIL line;
# it also carries a failure out of a nested subshell, e.g. inside $(...),
# where exit ends only that subshell.
fail() {
	printf '%s\n' "$*" >>"$SCRATCH/.failed"
	exit 1
}

expect_eq() {
	[ "$1" = "$2" ] && return 0
	fail "${3:-value}: expected [$2], got [$1]"
}

expect_match() {
	[[ $1 =~ $2 ]] && return 0
	fail "${3:-value}: [$1] does not match /$2/"
}

expect_status() {
	local want=$1

	shift
	BODY=$SCRATCH/body
	STATUS=$(curl -sS --max-time 10 -o "$BODY" -w '%{http_code}' "$@" \
	    2>"$SCRATCH/curl.err")
	[ "$STATUS" = "$want" ] && return 0
	fail "curl $*: expected HTTP $want, got $STATUS" \
	    "$(cat "$SCRATCH/curl.err")" "$(head -c 300 "$BODY" 2>/dev/null)"
}

run_cmd() {
	"$@" >"$SCRATCH/cmd.out" 2>"$SCRATCH/cmd.err"
	RC=$?
	OUT=$(cat "$SCRATCH/cmd.out")
	ERR=$(cat "$SCRATCH/cmd.err")
}

on_exit() {
	ON_EXIT+=("$(printf '%q ' "$@")")
}

# strace into $1 (the rest: strace's arguments, -p among them), attached
# once this returns; STRACE_PID is strace's.  strace_stop ends it and
# waits for its summary: call it in the test's own shell, never inside
# $( ), where strace is no child and wait would return at once, before
# the summary is written.
strace_start() {
	local out=$1 i

	shift
	strace -o "$out" "$@" 2>"$out.err" &
	STRACE_PID=$!
	on_exit kill "$STRACE_PID"
	for ((i = 0; i < 200; i++)); do
		grep -q attached "$out.err" && return 0
		kill -0 "$STRACE_PID" 2>/dev/null || break
		sleep 0.05
	done
	fail "strace $* did not attach: $(cat "$out.err")"
}

strace_stop() {
	kill -INT "$STRACE_PID"
	wait "$STRACE_PID" 2>/dev/null
	STRACE_PID=
}

# The calls column of a strace -c summary in $1, summed over the system
# calls named by the regular expression $2 (all of them by default).
strace_calls() {
	awk -v re="^(${2:-.*})\$" '$NF != "total" && $NF != "syscall" &&
	    $NF ~ re && $4 ~ /^[0-9]+$/ { n += $4 } END { print n + 0 }' "$1"
}

# fakedocker, the recording backend ($1: the tree it was built in), on
# $SCRATCH/fd.sock, recording to $SCRATCH/fd, logging to $SCRATCH/fd.log;
# stopped at exit.
fakedocker_start() {
	local i pid

	"$1/regress/fakedocker" "$SCRATCH/fd.sock" "$SCRATCH/fd" \
	    </dev/null >"$SCRATCH/fd.log" 2>&1 &
	pid=$!
	on_exit kill "$pid"
	for ((i = 0; i < 100; i++)); do
		[ -S "$SCRATCH/fd.sock" ] && return 0
		sleep 0.05
	done
	fail "fakedocker did not start"
}

free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

rig_docker() {
	docker -H "$RIG_HOST" "$@"
}

# Process state letter (R, S, Z, ...) or nothing when the pid is gone.
_pstate() {
	local s

	# Not a pid: "/proc//stat" would be the kernel's own stat file.
	case $1 in
	''|*[!0-9]*) return 0 ;;
	esac
	read -r s 2>/dev/null </proc/"$1"/stat || return 0
	s=${s##*) }
	printf '%s\n' "${s%% *}"
}

_palive() {
	local st

	st=$(_pstate "$1")
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

_children() {
	ps -o pid= --ppid "$1" 2>/dev/null | tr -d ' ' | sort -n
}

_descendants() {
	local c

	for c in $(_children "$1"); do
		echo "$c"
		_descendants "$c"
	done
}

# The addresses moatd will listen on: MOATD_WAIT if set (listeners from a
# configuration file), else every -frontend-addr, else
# CETUSGUARD_FRONTEND_ADDR, else CetusGuard's default.
_frontends() {
	local a=

	if [ -n "${MOATD_WAIT:-}" ]; then
		printf '%s\n' $MOATD_WAIT
		return
	fi

	while [ $# -gt 0 ]; do
		case $1 in
		-frontend-addr|--frontend-addr)
			[ $# -ge 2 ] && a="$a $2"
			shift
			;;
		-frontend-addr=*|--frontend-addr=*)
			a="$a ${1#*=}"
			;;
		esac
		shift
	done
	[ -n "$a" ] || a=$(printf '%s' "${CETUSGUARD_FRONTEND_ADDR:-}" |
	    tr ',\n' '  ')
	[ -n "$a" ] || a=tcp://127.0.0.1:2375
	printf '%s\n' $a
}

_accepts() {
	local hp

	case $1 in
	tcp://*)
		hp=${1#tcp://}
		hp=${hp%%/*}
		(exec 3<>"/dev/tcp/${hp%:*}/${hp##*:}") 2>/dev/null
		;;
	unix://*)
		socat -u OPEN:/dev/null "UNIX-CONNECT:${1#unix://}" 2>/dev/null
		;;
	*)
		return 1
		;;
	esac
}

# Every moatd process of the run, as "pid starttime", so that run.sh can
# tell at the end whether one is still there (and not a recycled pid).
_starttime() {
	local s

	read -r s 2>/dev/null </proc/"$1"/stat || return 0
	s=${s##*) }
	set -- $s
	printf '%s\n' "${20}"
}

_remember() {
	echo "$1 $(_starttime "$1")" >>"$RUN_DIR/.processes"
}

# Print the processes of the run's moatd instances that still exist.
moatd_leftovers() {
	local pid st

	[ -s "$RUN_DIR/.processes" ] || return 0
	# A zombie is gone: only its reaper (maybe init) has to wait for it.
	while read -r pid st; do
		[ -n "$st" ] && [ "$(_starttime "$pid")" = "$st" ] &&
		    _palive "$pid" && echo "moatd process $pid:" \
		    "$(tr '\0' ' ' </proc/"$pid"/cmdline 2>/dev/null)"
	done <"$RUN_DIR/.processes"
	return 0
}

_moatd_logtail() {
	echo "--- $1 (last lines) ---"
	tail -n 20 "$1" 2>/dev/null
	echo "---"
}

moatd_start() {
	local pid log addrs a c i n prev cur stable ready

	n=1
	while [ -e "$SCRATCH/moatd.$n.log" ]; do
		n=$((n + 1))
	done
	log=$SCRATCH/moatd.$n.log
	addrs=${MOATD_ADDRS:-$(_frontends "$@")}
	# MOATD_SETSID=1: moatd leads a session and process group of its
	# own, which its children join: kill -INT -- -$MOATD_PID is then
	# what a terminal's Ctrl-C does to moatd -d and every child.
	if [ "${MOATD_SETSID:-0}" = 1 ]; then
		setsid "$MOATD" -d "$@" >"$log" 2>&1 &
	else
		"$MOATD" -d "$@" >"$log" 2>&1 &
	fi
	pid=$!
	MOATD_PID=$pid
	MOATD_LOG=$log
	echo "$pid $log" >>"$SCRATCH/.moatd"
	_remember "$pid"

	for ((i = 0; ; i++)); do
		if ! _palive "$pid"; then
			# Reported here, not again as "has died" at the end.
			sed -i "/^$pid /d" "$SCRATCH/.moatd"
			fail "moatd exited while starting"$'\n'"$(
			    _moatd_logtail "$log")"
		fi
		[ "$i" -lt $((MOATD_START_TIMEOUT * 20)) ] ||
		    fail "moatd not accepting on" $addrs "after" \
		    "${MOATD_START_TIMEOUT}s"$'\n'"$(_moatd_logtail "$log")"
		ready=1
		for a in $addrs; do
			_accepts "$a" || ready=0
		done
		[ "$ready" = 1 ] && break
		sleep 0.05
	done

	# Relays may still be forking after the listener is up: remember
	# the children once the set has been steady for 100 ms (max 2 s).
	prev=$(_children "$pid")
	stable=0
	for ((i = 0; i < 40 && stable < 2; i++)); do
		sleep 0.05
		cur=$(_children "$pid")
		if [ "$cur" = "$prev" ]; then
			stable=$((stable + 1))
		else
			stable=0
		fi
		prev=$cur
	done
	echo $prev >"$SCRATCH/.children.$pid"
	for c in $prev; do
		_remember "$c"
	done
}

moatd_alive() {
	local pid=${1:-$MOATD_PID} c why=

	_palive "$pid" || {
		echo "moatd $pid has died"
		return 1
	}
	for c in $(cat "$SCRATCH/.children.$pid" 2>/dev/null); do
		if ! _palive "$c"; then
			why="$why child $c has died;"
		elif [ "$(ps -o ppid= -p "$c" | tr -d ' ')" != "$pid" ]; then
			why="$why child $c has a new parent;"
		fi
	done
	# A child that just exited is a zombie until moatd handles SIGCHLD;
	# one that stays a zombie was not reaped.
	for c in $(_children "$pid"); do
		[ "$(_pstate "$c")" = Z ] || continue
		sleep 0.2
		[ "$(_pstate "$c")" = Z ] && why="$why child $c is a zombie;"
	done
	[ -z "$why" ] && return 0
	echo "moatd $pid:$why"
	return 1
}

moatd_rebase() {
	local pid=${1:-$MOATD_PID} c cur

	cur=$(_children "$pid")
	echo $cur >"$SCRATCH/.children.$pid"
	for c in $cur; do
		grep -q "^$c " "$RUN_DIR/.processes" 2>/dev/null ||
		    _remember "$c"
	done
}

moatd_forget() {
	local pid=${1:-$MOATD_PID}

	[ -n "$pid" ] || return 0
	wait "$pid" 2>/dev/null
	MOATD_STATUS=$?
	sed -i "/^$pid /d" "$SCRATCH/.moatd" 2>/dev/null
	rm -f "$SCRATCH/.children.$pid"
}

moatd_stop() {
	local pid=${1:-$MOATD_PID} kids c= i rc=0

	[ -n "$pid" ] || return 0
	kids=$(cat "$SCRATCH/.children.$pid" 2>/dev/null)
	kids="$kids $(_children "$pid")"
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < MOATD_STOP_TIMEOUT * 20; i++)); do
		_palive "$pid" || break
		sleep 0.05
	done
	if _palive "$pid"; then
		echo "moatd $pid ignored SIGTERM for ${MOATD_STOP_TIMEOUT}s" >&2
		kill -KILL "$pid" 2>/dev/null
		rc=1
	fi
	wait "$pid" 2>/dev/null
	MOATD_STATUS=$?
	# Children must follow their parent out (they exit on the EOF of
	# their channel); give them a moment, then kill and report them.
	for ((i = 0; i < 40; i++)); do
		for c in $kids; do
			_palive "$c" && break
		done
		_palive "$c" || break
		sleep 0.05
	done
	for c in $kids; do
		if _palive "$c"; then
			echo "moatd $pid: child $c outlived it" >&2
			kill -KILL "$c" 2>/dev/null
			rc=1
		fi
	done
	sed -i "/^$pid /d" "$SCRATCH/.moatd" 2>/dev/null
	rm -f "$SCRATCH/.children.$pid"
	return "$rc"
}

# Run by the test subshell's EXIT trap: the checks every test gets.
_test_exit() {
	local rc=$? pid log why list c

	for c in "${ON_EXIT[@]}"; do
		eval "$c" >/dev/null 2>&1
	done
	list=$(cat "$SCRATCH/.moatd" 2>/dev/null)
	while read -r pid log; do
		[ -n "$pid" ] || continue
		if ! why=$(moatd_alive "$pid"); then
			printf '%s\n%s\n' "$why" "$(_moatd_logtail "$log")" \
			    >>"$SCRATCH/.failed"
		fi
	done <<<"$list"
	while read -r pid log; do
		[ -n "$pid" ] || continue
		if ! moatd_stop "$pid" 2>"$SCRATCH/.stop"; then
			cat "$SCRATCH/.stop" >>"$SCRATCH/.failed"
			_moatd_logtail "$log" >>"$SCRATCH/.failed"
		fi
		rm -f "$SCRATCH/.stop"
	done <<<"$list"
	[ -s "$SCRATCH/.failed" ] && rc=1
	exit "$rc"
}

# Kill whatever moatd processes of the run are still there (run.sh calls
# this after an interrupted test).
_test_reap() {
	local pid st

	[ -s "$RUN_DIR/.processes" ] || return 0
	while read -r pid st; do
		[ -n "$st" ] && [ "$(_starttime "$pid")" = "$st" ] &&
		    kill -KILL "$pid" 2>/dev/null
	done <"$RUN_DIR/.processes"
	return 0
}

# The sanitizer build (make check-asan): its reports must reach a file
# that outlives the test.  Processes that can open files (the parent,
# moatd -n, -q) write to $RUN_DIR/sanitizer/<test>.<pid>.  The chrooted
# children cannot open one: privsep/proc.c sends theirs to stderr, the
# moatd log of the test, and drops detect_leaks for them.  Our settings
# come first, so that the caller's ASAN_OPTIONS may override them; the
# log path is ours.
SANITIZER_ASAN=
SANITIZER_UBSAN=
SANITIZER_RE='ERROR: (Address|Leak|UndefinedBehavior)Sanitizer|runtime error:|'
SANITIZER_RE+='SUMMARY: (Address|Leak|UndefinedBehavior)Sanitizer|'
SANITIZER_RE+='Sanitizer has encountered a fatal error|Sanitizer CHECK failed|'
SANITIZER_RE+="ERROR: Can't open file"

sanitizer_setup() {
	mkdir -p "$RUN_DIR/sanitizer" || return 1
	SANITIZER_ASAN="detect_leaks=1:detect_stack_use_after_return=1"
	SANITIZER_ASAN+="${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
	SANITIZER_UBSAN="print_stacktrace=1:halt_on_error=1"
	SANITIZER_UBSAN+="${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
	sanitizer_env run
}

# Reports of test $1 go to $RUN_DIR/sanitizer/$1.<pid>.
sanitizer_env() {
	[ -n "$SANITIZER_ASAN" ] || return 0
	export ASAN_OPTIONS="$SANITIZER_ASAN:log_path=$RUN_DIR/sanitizer/$1"
	export UBSAN_OPTIONS="$SANITIZER_UBSAN:log_path=$RUN_DIR/sanitizer/$1"
}

# Frames of a report that name only module+offset (the chrooted children
# cannot run a symbolizer): add function and line with addr2line.
_sanitizer_symbolize() {
	local line mod off sym re

	re='^ *#[0-9]+ 0x[0-9a-f]+ +\((/[^+)]+)\+(0x[0-9a-f]+)\)$'
	while IFS= read -r line; do
		if [[ $line =~ $re ]]; then
			mod=${BASH_REMATCH[1]}
			off=${BASH_REMATCH[2]}
			# UBSan in a chroot cannot read its own name.
			[ "$mod" = /proc/self/exe ] && mod=$MOATD
			sym=$(addr2line -f -i -p -e "$mod" "$off" 2>/dev/null |
			    tr '\n' ' ')
			line="$line ${sym% }"
		fi
		printf '%s\n' "$line"
	done
}

# Every sanitizer report of the run fails this line, with its first
# lines shown: the report files, and the logs or outputs anything under
# $RUN_DIR holds that carry a report (the children's, on their stderr).
sanitizer_scan() {
	local f n files=() nlogs nrep=0 why=

	shopt -s nullglob
	for f in "$RUN_DIR"/sanitizer/*; do
		[ -s "$f" ] && files+=("$f")
	done
	shopt -u nullglob
	while IFS= read -r f; do
		files+=("$f")
	done < <(grep -rIlE --exclude-dir=sanitizer "$SANITIZER_RE" \
	    "$RUN_DIR" 2>/dev/null)
	nlogs=$(find "$RUN_DIR" -name 'moatd*.log' -type f | wc -l)
	for f in "${files[@]}"; do
		nrep=$((nrep + 1))
		why+="--- ${f#"$RUN_DIR"/} ---"$'\n'
		# From the line before the first match: ASan's "====" rule.
		n=$(grep -n -m 1 -E "$SANITIZER_RE" "$f" | cut -d: -f1)
		why+=$(tail -n +"$(( ${n:-1} > 1 ? n - 1 : 1 ))" "$f" |
		    sed '/^Shadow bytes around/,/^  Right alloca redzone/d' |
		    head -n 60 | _sanitizer_symbolize)$'\n'
	done
	if [ "$nrep" -eq 0 ]; then
		NPASS=$((NPASS + 1))
		echo "ok   sanitizer_scan (no report; $nlogs moatd logs read)"
	else
		NFAIL=$((NFAIL + 1))
		echo "FAIL sanitizer_scan ($nrep files with a report;" \
		    "$nlogs moatd logs read)"
		printf '%s' "$why" | sed 's/^/     /'
	fi
}

# run_test NAME: run the test function NAME and count the result.
run_test() {
	local name=$1 dir rc t0 desc

	dir=$RUN_DIR/$name
	mkdir -p "$dir" || return 1
	t0=$EPOCHREALTIME
	(
		TEST_NAME=$name
		SCRATCH=$dir
		sanitizer_env "$name"
		cd "$dir" || exit 1
		trap _test_exit EXIT
		"$name"
	) &
	TEST_PID=$!
	wait "$TEST_PID"
	rc=$?
	TEST_PID=
	desc=
	[ -s "$dir/.tid" ] && desc=" ($(cat "$dir/.tid"))"
	if [ "$rc" -eq 0 ] && [ ! -s "$dir/.failed" ]; then
		NPASS=$((NPASS + 1))
		printf 'ok   %s%s %ss\n' "$name" "$desc" \
		    "$(awk -v a="$t0" -v b="$EPOCHREALTIME" \
		    'BEGIN { printf "%.2f", b - a }')"
	else
		NFAIL=$((NFAIL + 1))
		FAILED="$FAILED $name"
		printf 'FAIL %s%s\n' "$name" "$desc"
		if [ -s "$dir/.failed" ]; then
			sed 's/^/     /' "$dir/.failed"
		else
			echo "     the test exited with status $rc"
		fi
	fi
}
