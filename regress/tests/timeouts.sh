# Timeouts: a request head must arrive within "timeout head", an idle
# keep-alive connection is closed after "timeout idle", and neither cuts
# a stream once it has started.  A slow or stuck client ties up only its
# own connection.  Sourced by regress/run.sh (helpers from regress/lib.sh).

TO_ROOT=$PWD
TO_PY=("$(command -v /usr/bin/python3 || command -v python3)" -I -S)

_to_start() {
	local conf=$SCRATCH/moatd.conf

	printf 'timeout head 1\ntimeout idle 2\n' >"$conf"
	chmod 0644 "$conf"
	TO_PORT=$(free_port)
	moatd_start -f "$conf" -prefork 1 \
	    -frontend-addr "tcp://127.0.0.1:$TO_PORT" \
	    -backend-addr "unix://$RIG_SOCK" -rules 'GET %API_PREFIX_EVENTS%'
}

_to_raw() {
	"${TO_PY[@]}" "$TO_ROOT/regress/rawclient.py" "$@"
}

t_timeout_head() {
	tid "a head that does not complete in time gets 408 and a close"
	local t0 out el

	_to_start
	t0=$EPOCHREALTIME
	out=$(_to_raw -S -t 5 "127.0.0.1:$TO_PORT" 'GET /_ping HTTP/1.1\r\nHo')
	el=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { print b - a }')
	expect_match "$out" '^R 408 ct=application/json body=\{"message":"moatd: request head timeout"\}' \
	    "a stalled head"
	expect_match "$out" 'E eof' "the connection is closed"
	awk -v e="$el" 'BEGIN { exit !(e >= 0.9 && e < 3) }' ||
	    fail "408 after ${el}s, expected about 1 s"
	expect_match "$(cat "$MOATD_LOG")" 'status=408' "the log line"
	pass
}

t_timeout_slow_client_alone() {
	tid "a stuck client holds only its own connection"
	local pids=() i

	_to_start
	# Ten connections that never finish their head...
	for i in 1 2 3 4 5 6 7 8 9 10; do
		_to_raw -t 3 "127.0.0.1:$TO_PORT" 'GET /_pi' >/dev/null &
		pids+=($!)
	done
	sleep 0.2
	# ...do not keep the single relay from answering someone else now.
	expect_status 200 --max-time 0.5 "http://127.0.0.1:$TO_PORT/_ping"
	wait "${pids[@]}"
	pass
}

t_timeout_idle() {
	tid "an idle keep-alive connection is closed after the idle timeout"
	local out

	_to_start
	# One request, then nothing: the proxy closes within about 2 s.
	out=$(_to_raw -S -t 5 "127.0.0.1:$TO_PORT" \
	    'GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n')
	expect_match "$out" '^R 200 ' "the request"
	expect_match "$out" 'E eof' "closed when idle (not a timeout of ours)"
	# Used again before the timeout, it stays open.
	out=$(_to_raw -S -t 4 -d 1.2 "127.0.0.1:$TO_PORT" \
	    'GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n' \
	    'GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n')
	expect_eq "$(printf '%s\n' "$out" | grep -c '^R 200 ')" 2 \
	    "two requests 1.2 s apart on one connection"
	pass
}

t_timeout_stream_survives() {
	tid "a stream outlives both timeouts"
	local ev cpid

	_to_start
	ev=$SCRATCH/events
	curl -sN --max-time 6 "http://127.0.0.1:$TO_PORT/events" >"$ev" &
	cpid=$!
	sleep 3.5	# past head (1 s) and idle (2 s)
	rig_docker create --network none "$RIG_IMAGE" true >/dev/null ||
	    fail "docker create"
	on_exit "rig_docker container prune -f >/dev/null"
	sleep 0.5
	expect_match "$(cat "$ev")" '"Action":"create"' \
	    "an event 3.5 s into the stream"
	wait "$cpid"
	pass
}
