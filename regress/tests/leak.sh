# No leaks per request: after a warm-up, thousands more requests of every
# kind (allowed over keep-alive, denied, bad, closed by either side, cut
# off half-way; regress/loadclient.py) must not grow the resident memory
# of the relay, the policy worker or the parent, nor their open files.
# One relay (-prefork 1) takes every connection; regress/fakedocker
# stands in for Docker, so that only moatd's memory is measured.
#
# A leak of 16 bytes per request shows as 20,000 * 32 bytes (malloc's
# smallest chunk) = 625 KiB, over the bound; the same for anything kept
# per connection that is 64 bytes or more (5,000 connections).  Lost
# descriptors are counted exactly.
#
# Under the ASan build (make check-asan) two things of ASan's own grow
# the resident size for a while, and this test's moatd runs without
# them: freed memory sits in a quarantine (256 MiB by default) before it
# is reused, so it gets one of 1 MiB, filled during the warm-up; and
# detect_stack_use_after_return hands out frames of a fake stack round
# robin, touching new pages until every slot was used once (1.3 MiB more
# in the policy worker after the warm-up, then flat), so it is off here.
# Other builds ignore ASAN_OPTIONS.

# run.sh sources the tests from the top of the tree.
LEAK_TOP=$PWD
LEAK_WARM=${LEAK_WARM:-125}		# rounds of 16 requests each
LEAK_ROUNDS=${LEAK_ROUNDS:-1250}
LEAK_BOUND_KB=256
LEAK_PY=("$(command -v /usr/bin/python3 || command -v python3)" -I -S)

# "title pid VmRSS-in-kB open-fds" for the parent and each child.
_leak_sample() {
	local pid=$1 p title

	for p in "$pid" $(_children "$pid"); do
		title=$(ps -o args= -p "$p" | sed 's/^[^:]*: //; s/ .*//')
		[ "$p" = "$pid" ] && title=parent
		printf '%s %s %s %s\n' "$title" "$p" \
		    "$(awk '/^VmRSS:/ { print $2 }' /proc/"$p"/status)" \
		    "$(find /proc/"$p"/fd -mindepth 1 -maxdepth 1 | wc -l)"
	done
}

_leak_load() {
	local rounds=$1 out

	out=$(timeout 300 "${LEAK_PY[@]}" "$LEAK_TOP/regress/loadclient.py" \
	    "127.0.0.1:$LEAK_PORT" "$rounds" 2>&1) ||
	    fail "loadclient, $rounds rounds: $out"$'\n'"$(
	    _moatd_logtail "$MOATD_LOG")"
	expect_eq "$out" \
	    "200=$((rounds * 13)) 403=$rounds 400=$rounds cut=$rounds" \
	    "answers to $rounds rounds"
}

t_leak_rss() {
	local before after role pid kb fds pid2 kb2 fds2 bad= n=0 i

	tid "$((LEAK_ROUNDS * 16)) requests after $((LEAK_WARM * 16)): RSS\
 grows < $LEAK_BOUND_KB KiB, no fd is lost"
	"$LEAK_TOP/regress/fakedocker" "$SCRATCH/docker.sock" \
	    "$SCRATCH/rec" </dev/null >"$SCRATCH/fakedocker.log" 2>&1 &
	on_exit kill -TERM $!
	for ((i = 0; i < 100; i++)); do
		[ -S "$SCRATCH/docker.sock" ] && break
		sleep 0.05
	done
	[ -S "$SCRATCH/docker.sock" ] ||
	    fail "fakedocker did not start: $(cat "$SCRATCH/fakedocker.log")"
	LEAK_PORT=$(free_port)
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1"
	ASAN_OPTIONS+=":thread_local_quarantine_size_kb=64"
	export ASAN_OPTIONS+=":detect_stack_use_after_return=0"
	moatd_start -prefork 1 \
	    -frontend-addr "tcp://127.0.0.1:$LEAK_PORT" \
	    -backend-addr "unix://$SCRATCH/docker.sock" -no-builtin-rules \
	    -rules $'GET ^/_ping$\nPOST ^/allowed$'

	_leak_load "$LEAK_WARM"
	before=$(_leak_sample "$MOATD_PID")
	_leak_load "$LEAK_ROUNDS"
	after=$(_leak_sample "$MOATD_PID")

	while read -r role pid kb fds; do
		n=$((n + 1))
		read -r _ pid2 kb2 fds2 < <(awk -v r="$role" '$1 == r' \
		    <<<"$after")
		[ "$pid2" = "$pid" ] || {
			bad+="$role: pid $pid became ${pid2:-nothing}; "
			continue
		}
		[ $((kb2 - kb)) -lt "$LEAK_BOUND_KB" ] ||
		    bad+="$role: VmRSS $kb kB -> $kb2 kB; "
		[ "$fds2" = "$fds" ] || bad+="$role: $fds fds -> $fds2; "
	done <<<"$before"
	expect_eq "$n" 5 \
	    "processes measured (parent, policy, forwarder[0], relay[0], watcher)"
	[ -z "$bad" ] || fail "$bad"$'\n'"before:"$'\n'"$before"$'\n'"after:\
"$'\n'"$after"
}
