# Resource bounds: what one client (or many) can make a relay hold.
# Unfinished TLS handshakes are freed at the head timeout; input waiting
# for its turn and answers a client does not read stop at a cap; a relay
# out of descriptors keeps running and sheds idle clients first; a body
# that never comes times out; one address or uid gets only so many
# connections.  Every test runs one relay (-prefork 1) so that its pid
# and memory can be watched, with bounded counts and times.  Sourced by
# regress/run.sh (helpers from regress/lib.sh, _tl_* from tls.sh).

BD_ROOT=$PWD
BD_PY=("$(command -v /usr/bin/python3 || command -v python3)" -I -S)
BD_PORT=
BD_RELAY=

_bd_client() {
	"${BD_PY[@]}" "$BD_ROOT/regress/boundsclient.py" "$@"
}

# The single relay's pid.
_bd_relay() {
	BD_RELAY=$(ps -o pid=,args= --ppid "$MOATD_PID" 2>/dev/null |
	    awk '$2 == "moatd:" && index($3, "relay") == 1 { print $1 }')
	[ -n "$BD_RELAY" ] || fail "no relay process"
}

# Plain moatd on 127.0.0.1 with config lines $1 (printf escapes) and
# rules $2; more arguments follow.
_bd_start() {
	local conf=$SCRATCH/bounds.conf

	printf "$1" >"$conf"
	chmod 0644 "$conf"
	BD_PORT=$(free_port)
	shift
	moatd_start -f "$conf" -prefork 1 \
	    -frontend-addr "tcp://127.0.0.1:$BD_PORT" \
	    -backend-addr "unix://$RIG_SOCK" "$@"
	_bd_relay
}

# The same on a TLS listener (tls.sh's certificates).
_bd_start_tls() {
	local conf=$SCRATCH/bounds.conf

	printf "$1" >"$conf"
	chmod 0644 "$conf"
	shift
	_tl_start -f "$conf" -prefork 1 "$@"
	BD_PORT=$TL_PORT
	_bd_relay
}

# moatd from now on runs with at most $1 descriptors (soft and hard); the
# test's own clients keep theirs.
_bd_lowfd() {
	printf '#!/bin/sh\nulimit -n %s || exit 1\nexec "%s" "$@"\n' \
	    "$1" "$MOATD" >"$SCRATCH/moatd-lowfd"
	chmod 0755 "$SCRATCH/moatd-lowfd"
	MOATD=$SCRATCH/moatd-lowfd
}

# VmRSS growth (KiB) from a "sent=.. rss0=.. rss=.." line.  The RSS
# tests run an ASan build with a small quarantine: the default 256 MiB
# of freed memory kept back would hide what the relay holds.
_bd_small_quarantine() {
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=4"
}

_bd_growth() {
	awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
	    print v["rss"] - v["rss0"] }' <<<"$1"
}

t_bounds_handshake_timeout() {
	tid "unfinished TLS handshakes are closed at the head timeout"
	local out relay

	# 128 descriptors: a few dozen sessions fit, not the 60 below.
	_bd_lowfd 128
	_bd_start_tls 'timeout head 2\n' -rules 'GET %API_PREFIX_EVENTS%'
	relay=$BD_RELAY
	# Silent ones and half ClientHellos: all closed by the relay (EOF),
	# those beyond the descriptor budget once the first ones are gone.
	out=$(_bd_client silent "127.0.0.1:$BD_PORT" 60 12)
	expect_eq "$out" "closed=60 open=0" "connections the relay closed"
	expect_match "$(cat "$MOATD_LOG")" 'TLS handshake not done in 2 s' \
	    "the log line"
	# ... and the relay serves a real client.
	expect_eq "$(_tl_curl alice /_ping)" 200 "a request afterwards"
	_bd_relay
	expect_eq "$BD_RELAY" "$relay" "the relay's pid"
	pass
}

t_bounds_tls_input() {
	tid "a TLS client's pipelined input stops at a cap"
	local out g

	# Reading stays off while the stream lasts: the relay sees the
	# client leave only when the stream ends, or at the drain deadline.
	_bd_small_quarantine
	_bd_start_tls 'timeout drain 1\n' -rules 'GET %API_PREFIX_EVENTS%'
	# /events never ends; what is sent behind it waits for its turn.
	out=$(_bd_client tlsflood "127.0.0.1:$BD_PORT" "$TL/ca/ca.pem" \
	    "$TL/alice.pem" "$TL/alice.key" 128 10 "$BD_RELAY") ||
	    fail "tlsflood: $out"
	g=$(_bd_growth "$out")
	[ "$g" -lt 32768 ] ||
	    fail "relay grew by ${g} KiB while a client sent junk ($out)"
	pass
}

t_bounds_unread_answers() {
	tid "pipelined denied requests wait while answers go unread"
	local out g

	_bd_small_quarantine
	_bd_start 'timeout drain 1\n' -rules 'GET %API_PREFIX_EVENTS%'
	out=$(_bd_client pipeline "127.0.0.1:$BD_PORT" 10 96 8 "$BD_RELAY")
	g=$(_bd_growth "$out")
	[ "$g" -lt 32768 ] ||
	    fail "relay grew by ${g} KiB with answers unread ($out)"
	expect_status 403 --max-time 5 "http://127.0.0.1:$BD_PORT/denied"
	pass
}

t_bounds_fd_limit() {
	tid "a relay out of descriptors keeps running and recovers"
	local out relay

	_bd_lowfd 128
	_bd_start '' -rules 'GET %API_PREFIX_EVENTS%'
	relay=$BD_RELAY
	# Sixty streams, each a client and a Docker connection: more than
	# 128 descriptors.  Those that fit get their stream, the others
	# wait to be accepted (or get a 503), and the relay stays.
	out=$(_bd_client burst "127.0.0.1:$BD_PORT" 60 4 \
	    'GET /events HTTP/1.1\r\nHost: x\r\n\r\n')
	expect_match "$out" '200=[1-9]' "streams that fit ($out)"
	expect_match "$out" 'none=[1-9]|503=[1-9]' "streams over ($out)"
	expect_match "$out" '^200=[0-9]+ 503=[0-9]+ eof=0 none=[0-9]+$' \
	    "nothing else ($out)"
	expect_status 200 --max-time 5 "http://127.0.0.1:$BD_PORT/_ping"
	_bd_relay
	expect_eq "$BD_RELAY" "$relay" "the relay's pid"
	pass
}

t_bounds_idle_shed() {
	tid "out of descriptors, the oldest idle keep-alive client goes first"
	local out

	# 96 descriptors: a score of clients fit.
	_bd_lowfd 96
	_bd_start '' -rules 'GET %API_PREFIX_EVENTS%'
	# Ninety clients, one request each, then idle: every one is served,
	# the first was closed to make room.
	out=$(_bd_client seq "127.0.0.1:$BD_PORT" 90 2 \
	    'GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n')
	expect_match "$out" '^(200 ){90}first=eof$' "ninety clients"
	expect_match "$(cat "$MOATD_LOG")" 'idle connection closed to make room' \
	    "the log line"
	pass
}

t_bounds_body_timeout() {
	tid "a request body that never comes times out and frees Docker"
	local out n0 n1

	_bd_start 'timeout body 2\n' \
	    -rules 'POST %API_PREFIX_CONTAINERS%/create'
	n0=$(ls "/proc/$BD_RELAY/fd" | wc -l)
	out=$(_to_raw -S -t 8 "127.0.0.1:$BD_PORT" \
	    'POST /containers/create HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{')
	expect_match "$out" '^R 408 ct=application/json body=\{"message":"moatd: request body timeout"\}' \
	    "the answer"
	expect_match "$out" 'E eof' "the connection is closed"
	sleep 0.2
	n1=$(ls "/proc/$BD_RELAY/fd" | wc -l)
	expect_eq "$n1" "$n0" "the relay's descriptors (Docker's closed)"
	expect_match "$(cat "$MOATD_LOG")" 'status=408' "the log line"
	pass
}

t_bounds_per_address() {
	tid "one address gets limit connections per address, then a 503"
	local out

	_bd_start 'limit connections per address 5\n' \
	    -rules 'GET %API_PREFIX_EVENTS%'
	out=$(_bd_client seq "127.0.0.1:$BD_PORT" 6 3 \
	    'GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n')
	expect_eq "$out" "200 200 200 200 200 503 first=open" "six clients"
	expect_match "$(cat "$MOATD_LOG")" \
	    'client=127\.0\.0\.1:[0-9]+: more than 5 connections from this address to this relay; refused' \
	    "the log line"
	# Once they are gone, the address is served again.
	expect_status 200 --max-time 5 "http://127.0.0.1:$BD_PORT/_ping"
	pass
}

t_bounds_per_uid() {
	tid "one uid gets limit connections per uid on a unix socket"
	local out sock=$SCRATCH/b.sock conf=$SCRATCH/bounds.conf

	printf 'limit connections per uid 3\n' >"$conf"
	chmod 0644 "$conf"
	moatd_start -f "$conf" -prefork 1 -frontend-addr "unix://$sock" \
	    -backend-addr "unix://$RIG_SOCK" -rules 'GET %API_PREFIX_EVENTS%'
	out=$(_bd_client seq "unix:$sock" 4 3 \
	    'GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n')
	expect_eq "$out" "200 200 200 503 first=open" "four clients"
	expect_match "$(cat "$MOATD_LOG")" \
	    'uid=0: more than 3 connections from this uid' "the log line"
	pass
}

# The process of ours titled $1 ("policy", "relay"), child of the parent.
_bd_child() {
	ps -o pid=,args= --ppid "$MOATD_PID" 2>/dev/null |
	    awk -v t="$1" '$2 == "moatd:" && index($3, t) == 1 { print $1; exit }'
}

t_bounds_policy_stalled() {
	tid "a policy worker that does not answer: 503 after timeout head"
	local out pol

	_bd_start 'timeout head 1\n' -rules 'GET %API_PREFIX_EVENTS%'
	pol=$(_bd_child policy)
	[ -n "$pol" ] || fail "no policy worker"
	kill -STOP "$pol"
	on_exit kill -CONT "$pol"
	out=$(_to_raw -S -t 6 "127.0.0.1:$BD_PORT" \
	    'GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n')
	kill -CONT "$pol"
	expect_match "$out" '^R 503 ct=application/json body=\{"message":"moatd: policy worker did not answer"\}' \
	    "the answer while the worker is stopped"
	expect_match "$out" 'E eof' "the connection is closed"
	expect_status 200 "http://127.0.0.1:$BD_PORT/_ping"
	expect_match "$(cat "$MOATD_LOG")" 'no verdict from the policy worker in 1 s' \
	    "the log line"
	pass
}

# The relay's verdict cache (daemon/vcache.c): the exact bytes of a head
# the worker approved (no body, no upgrade) go again without it; one
# byte more or less and the worker is asked; a reload empties the cache
# and the forwarder takes no approval of the old rules.
t_bounds_policy_cached() {
	tid "a head repeated byte for byte skips the policy worker, until a reload"
	local out pol rules=$SCRATCH/cached.rules n
	local req='GET /containers/json HTTP/1.1\r\nHost: x\r\n\r\n'

	printf '%s\n' 'GET %API_PREFIX_CONTAINERS%/json' >"$rules"
	chmod 0644 "$rules"
	_bd_start 'timeout head 1\n' -rules-file "$rules"
	out=$(_to_raw -S -n 1 "127.0.0.1:$BD_PORT" "$req")
	expect_match "$out" '^R 200 ' "the first request (the worker's verdict)"
	pol=$(_bd_child policy)
	[ -n "$pol" ] || fail "no policy worker"
	kill -STOP "$pol"
	on_exit kill -CONT "$pol"
	out=$(_to_raw -S -n 1 "127.0.0.1:$BD_PORT" "$req")
	expect_match "$out" '^R 200 ' "the same bytes, the worker stopped"
	out=$(_to_raw -S -n 2 "127.0.0.1:$BD_PORT" "$req$req")
	expect_match "$out" '^R 200 .*'$'\n''R 200 ' \
	    "twice more on one kept-alive connection"
	# One byte different: the worker is asked, and does not answer.
	out=$(_to_raw -S -t 6 "127.0.0.1:$BD_PORT" \
	    'GET /containers/json HTTP/1.1\r\nHost: y\r\n\r\n')
	expect_match "$out" '^R 503 ct=application/json body=\{"message":"moatd: policy worker did not answer"\}' \
	    "a head one byte different, the worker stopped"
	kill -CONT "$pol"
	# Each answer from the cache has the log line of any allow.
	n=$(grep -Ec 'method=GET path=/containers/json verdict=allow rule=[^ ]+cached.rules:1 status=200 ' \
	    "$MOATD_LOG")
	expect_eq "$n" 4 "allow lines for the four requests"
	# A reload that takes the rule away: the same bytes are denied.
	printf '%s\n' 'GET %API_PREFIX_IMAGES%/json' >"$rules"
	kill -HUP "$MOATD_PID"
	_ps_wait_log 'configuration 2 in effect' 10
	out=$(_to_raw -S -n 1 "127.0.0.1:$BD_PORT" "$req")
	expect_match "$out" '^R 403 ' "the same bytes after the reload"
	expect_status 200 "http://127.0.0.1:$BD_PORT/images/json"
	pass
}

t_bounds_parent_stalled() {
	tid "a parent that passes no Docker connection: 503 after timeout head"
	local out

	_bd_start 'timeout head 1\n' -rules 'GET %API_PREFIX_EVENTS%'
	# A fresh relay has no pooled connection: it must ask the parent.
	kill -STOP "$MOATD_PID"
	on_exit kill -CONT "$MOATD_PID"
	out=$(_to_raw -S -t 6 "127.0.0.1:$BD_PORT" \
	    'GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n')
	kill -CONT "$MOATD_PID"
	expect_match "$out" '^R 503 ct=application/json body=\{"message":"moatd: no connection to the Docker daemon"\}' \
	    "the answer while the parent is stopped"
	# The connection the parent passes late is closed, not leaked.
	expect_status 200 "http://127.0.0.1:$BD_PORT/_ping"
	expect_match "$(cat "$MOATD_LOG")" 'no Docker connection from the parent in 1 s' \
	    "the log line"
	pass
}

t_bounds_unread_response() {
	tid "a client that reads none of its answer is closed after timeout idle"
	local conf=$SCRATCH/stall.conf out

	printf 'timeout idle 2\n' >"$conf"
	chmod 0644 "$conf"
	BD_PORT=$(free_port)
	_rf_fake fd
	moatd_start -f "$conf" -prefork 1 \
	    -frontend-addr "tcp://127.0.0.1:$BD_PORT" \
	    -backend-addr "unix://$SCRATCH/fd.sock" -no-builtin-rules \
	    -rules-file "$BD_ROOT/regress/http/rules"
	# A 256 MiB answer to a client with a small window that reads
	# nothing for 6 s, then everything it can.
	out=$("${BD_PY[@]}" -c '
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /allowed?fake=big HTTP/1.1\r\nHost: x\r\n\r\n")
time.sleep(6)
s.settimeout(5)
n, end = 0, "timeout"
try:
    while True:
        b = s.recv(1 << 20)
        if not b:
            end = "eof"
            break
        n += len(b)
except ConnectionResetError:
    end = "reset"
except socket.timeout:
    pass
print(end, "full" if n >= 268435456 else "cut")
' "$BD_PORT")
	expect_match "$out" '^(eof|reset) cut$' "the stalled answer (end, size)"
	expect_match "$(cat "$MOATD_LOG")" 'took nothing of its answer in 2 s; closed' \
	    "the log line"
	grep -qx 'close 1' "$SCRATCH/fd/events" ||
	    fail "Docker's connection is not closed: $(cat "$SCRATCH/fd/events")"
	expect_status 200 "http://127.0.0.1:$BD_PORT/_ping"
	pass
}
