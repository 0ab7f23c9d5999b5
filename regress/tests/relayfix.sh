# The relay's ends of a request: a Docker connection that closes or stops
# reading, a client that is still sending when its answer is out, the
# pool across a reload, and a client that speaks TLS to a plain listener.
# Sourced by regress/run.sh (helpers from regress/lib.sh).  Most tests use
# fakedocker (regress/fakedocker.c), whose special targets script Docker's
# side; regress/bodyclient.py sends large bodies as real clients do.

RF_ROOT=$PWD
RF_PY=("$(command -v /usr/bin/python3 || command -v python3)" -I -S)

# Start a fakedocker on $SCRATCH/$1.sock recording in $SCRATCH/$1.
_rf_fake() {
	local name=$1 i pid

	"$RF_ROOT/regress/fakedocker" "$SCRATCH/$name.sock" "$SCRATCH/$name" \
	    </dev/null >"$SCRATCH/$name.log" 2>&1 &
	pid=$!
	on_exit kill "$pid"
	for ((i = 0; i < 100; i++)); do
		[ -S "$SCRATCH/$name.sock" ] && return 0
		kill -0 "$pid" 2>/dev/null ||
		    fail "fakedocker exited: $(cat "$SCRATCH/$name.log")"
		sleep 0.05
	done
	fail "fakedocker did not start"
}

# One relay in front of fakedocker "fd", with regress/http/rules.
_rf_start() {
	RF_PORT=$(free_port)
	_rf_fake fd
	moatd_start -prefork 1 -frontend-addr "tcp://127.0.0.1:$RF_PORT" \
	    -backend-addr "unix://$SCRATCH/fd.sock" -no-builtin-rules \
	    -rules-file "$RF_ROOT/regress/http/rules" "$@"
}

_rf_raw() {
	"${RF_PY[@]}" "$RF_ROOT/regress/rawclient.py" "$@"
}

_rf_body() {
	"${RF_PY[@]}" "$RF_ROOT/regress/bodyclient.py" "$@"
}

# Seconds since $1 (an $EPOCHREALTIME).
_rf_since() {
	awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f\n", b - a }'
}

t_relayfix_bad_chunk_at_eof() {
	tid "a bad chunk Docker sent with its close: the relay lives on"
	local out why

	_rf_start
	# The answer's head fills the relay's output to its mark, so the
	# bad chunk size waits in the input and is read only with the close.
	out=$(_rf_raw -S -t 5 "127.0.0.1:$RF_PORT" \
	    'GET /allowed?fake=badchunk HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
	expect_match "$out" 'E (eof|reset)$' "the client's connection is closed"
	grep -q '^R ' <<<"$out" && fail "a complete response came: $out"
	why=$(moatd_alive) || fail "$why"$'\n'"$(_moatd_logtail "$MOATD_LOG")"
	grep -q 'backend sent a bad chunked body' "$MOATD_LOG" ||
	    fail "not logged: $(_moatd_logtail "$MOATD_LOG")"
	expect_status 200 "http://127.0.0.1:$RF_PORT/_ping"
}

t_relayfix_pool_reload() {
	tid "SIGHUP to another backend: pooled connections to the old one go"
	local port i

	port=$(free_port)
	_rf_fake a
	_rf_fake b
	_rf_conf() {
		cat >moatd.conf <<-EOF
		listen on "tcp://127.0.0.1:$port"
		backend "unix://$SCRATCH/$1.sock"
		builtin rules no
		rules "GET,HEAD ^/_ping\$"
		prefork 1
		EOF
		chmod 0644 moatd.conf
	}
	_rf_conf a
	MOATD_ADDRS=tcp://127.0.0.1:$port moatd_start -f moatd.conf
	expect_status 200 "http://127.0.0.1:$port/_ping"
	expect_eq "$(grep -c '^req ' a/events)" 1 "requests at a"
	grep -q '^close ' a/events && fail "a's connection was not pooled"
	_rf_conf b
	kill -HUP "$MOATD_PID"
	for ((i = 0; i < 100; i++)); do
		grep -q 'configuration 2 in effect' "$MOATD_LOG" && break
		sleep 0.05
	done
	grep -q 'configuration 2 in effect' "$MOATD_LOG" ||
	    fail "no reload: $(_moatd_logtail "$MOATD_LOG")"
	expect_status 200 "http://127.0.0.1:$port/_ping"
	expect_eq "$(grep -c '^req ' b/events)" 1 "requests at b, the new one"
	expect_eq "$(grep -c '^req ' a/events)" 1 "requests at a, the old one"
	# The idle connection to a was closed at the reload.
	for ((i = 0; i < 40; i++)); do
		grep -q '^close 1$' a/events && break
		sleep 0.05
	done
	grep -q '^close 1$' a/events ||
	    fail "the pooled connection to a is still open: $(cat a/events)"
}

t_relayfix_early_answer() {
	tid "Docker answers before the body is in, and closes: relayed, 20 of 20"
	local out n

	_rf_start
	# fakedocker's /early answers 404 at the head and closes without
	# reading the 2 MiB body, as Go's server does with a large body.
	out=$(_rf_body -n 20 -t 5 "127.0.0.1:$RF_PORT" \
	    'POST /allowed?fake=early HTTP/1.1\r\nHost: x\r\nContent-Length: 2097152\r\n\r\n' \
	    2097152)
	n=$(grep -c '^404 eof .* body={"message":"page not found"}\\x0a$' \
	    <<<"$out")
	expect_eq "$n" 20 "404s from Docker, then a clean close; the client saw:
$out
"
	expect_status 200 "http://127.0.0.1:$RF_PORT/_ping"
}

t_relayfix_denied_body() {
	tid "a 403 to a 2 MB body reaches the client, every time"
	local i out n=0 msg

	_rf_start
	msg='{"message":"moatd: POST /secret is not allowed"}\x0a'
	head -c 2097152 /dev/zero | tr '\0' x >body
	printf 'POST /secret HTTP/1.1\r\nHost: x\r\nContent-Length: 2097152\r\n\r\n' |
	    cat - body >req
	# A client that writes its whole request before it reads: the
	# relay must read out the body it refused before it closes.
	for ((i = 0; i < 8; i++)); do
		out=$(_rf_raw -S -t 5 -d 0 "127.0.0.1:$RF_PORT" @req)
		[[ $out == "R 403 ct=application/json body=$msg"$'\n'"E eof" ]] ||
		    fail "try $i: the client saw [$out]"
	done
	# The docker CLI, which reads while it writes (the issue's case).
	for ((i = 0; i < 8; i++)); do
		run_cmd timeout 20 docker -H "tcp://127.0.0.1:$RF_PORT" \
		    load -i body
		[[ $ERR == *"moatd: POST /v1."*"/images/load is not allowed"* ]] ||
		    fail "docker load, try $i: [$ERR]"
	done
	expect_status 200 "http://127.0.0.1:$RF_PORT/_ping"
}

t_relayfix_linger_bounded() {
	tid "a refused client that neither reads nor closes is let go after 2 s"
	local out

	_rf_start
	# 64 KiB of a 100 MB body, then silence: the 403 is out, the write
	# side shut (EOF for the client), and the relay's end goes once the
	# linger time (2 s) is over: the client then gets a reset on send.
	out=$("${RF_PY[@]}" - "$RF_PORT" <<'EOF'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"POST /secret HTTP/1.1\r\nHost: x\r\n"
          b"Content-Length: 100000000\r\n\r\n" + b"x" * 65536)
time.sleep(0.5)
print(s.recv(65536).split(b"\r\n")[0].decode())
print("eof" if s.recv(100) == b"" else "data")
# Still accepted while the relay reads it out...
s.sendall(b"x" * 1024)
t0 = time.monotonic()
try:
    while time.monotonic() - t0 < 6:
        s.sendall(b"x" * 1024)
        time.sleep(0.1)
    print("open after 6 s")
except OSError as e:
    print("gone after %.1f s" % (time.monotonic() - t0))
EOF
)
	expect_match "$out" '^HTTP/1.1 403 Forbidden' "the 403"
	expect_match "$out" $'\neof\n' "the write side shut after it"
	expect_match "$out" 'gone after (0\.[5-9]|[1-4]\.[0-9]) s' \
	    "the relay let go after about 2 s"
	expect_status 200 "http://127.0.0.1:$RF_PORT/_ping"
}

t_relayfix_closing_bounded() {
	tid "a 408 that a TLS client never takes: the session still ends"
	local d=$SCRATCH/tls out

	{
		tls_ca "$d/ca" "relayfix CA" ec &&
		tls_cert "$d/ca" "$d/server" server "/CN=relayfix" ec \
		    "IP:127.0.0.1"
	} 2>certs.err || fail "certificates: $(cat certs.err)"
	printf 'timeout head 1\ntimeout idle 2\n' >moatd.conf
	chmod 0644 moatd.conf
	_rf_start -f moatd.conf -frontend-tls-cert "$d/server.pem" \
	    -frontend-tls-key "$d/server.key"
	# Connected, silent: no handshake, so the 408 cannot go out.  The
	# session must end anyway (closing is bounded by "timeout idle").
	out=$("${RF_PY[@]}" - "$RF_PORT" <<'EOF'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(8)
t0 = time.monotonic()
try:
    b = s.recv(100)
    print("closed after %.1f s (%d bytes)" % (time.monotonic() - t0, len(b)))
except socket.timeout:
    print("still open after 8 s")
except OSError as e:
    print("reset after %.1f s" % (time.monotonic() - t0))
EOF
)
	expect_match "$out" '^(closed|reset) after [0-5]\.[0-9] s' \
	    "the silent TLS client"
}

t_relayfix_tls_on_plain() {
	tid "a TLS ClientHello on a plain listener: closed at once, logged"
	local t0 el

	_rf_start
	t0=$EPOCHREALTIME
	timeout 15 openssl s_client -connect "127.0.0.1:$RF_PORT" \
	    </dev/null >s_client.out 2>&1
	el=$(_rf_since "$t0")
	awk -v e="$el" 'BEGIN { exit !(e < 3) }' ||
	    fail "openssl s_client ended after ${el}s (the head timeout is 10 s)"
	grep -q 'client=127\.0\.0\.1:[0-9]*: TLS handshake on a plain listener' \
	    "$MOATD_LOG" || fail "not logged: $(_moatd_logtail "$MOATD_LOG")"
	expect_status 200 "http://127.0.0.1:$RF_PORT/_ping"
}

t_relayfix_early_answer_docker() {
	tid "dockerd's 404 to a 2 MiB POST it does not read: relayed, clean close"
	local out n

	RF_PORT=$(free_port)
	moatd_start -prefork 1 -frontend-addr "tcp://127.0.0.1:$RF_PORT" \
	    -backend-addr "unix://$RIG_SOCK" -rules 'POST ^/relayfix/none$'
	out=$(_rf_body -n 10 -t 10 "127.0.0.1:$RF_PORT" \
	    'POST /relayfix/none HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: 2097152\r\n\r\n' \
	    2097152)
	# Go's server answers, shuts its write side and closes 0.5 s later
	# without reading: the relay reads out what the client still
	# sends, then closes cleanly, instead of a reset mid-upload.
	n=$(grep -c '^404 eof ' <<<"$out")
	expect_eq "$n" 10 "404s from dockerd, then a clean close; the client saw:
$out
"
}

t_relayfix_pipe_no_body_timer() {
	tid "an upgrade answered before its body ended: the stream outlives \"timeout body\""
	local out

	printf 'timeout body 1\n' >moatd.conf
	chmod 0644 moatd.conf
	_rf_start -f moatd.conf
	# fakedocker's upgrade-early sends its 101 at the head, before the
	# 64-byte body is in; from then on bytes go raw both ways, and the
	# body's timer (1 s) must not end the stream.
	out=$(_rf_raw -S -t 6 -d 0.5 "127.0.0.1:$RF_PORT" \
	    'POST /allowed?fake=upgrade-early HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 64\r\n\r\nab' \
	    p1 p2 p3 p4 p5 p6 p7 'end\n')
	expect_match "$out" '^R 101 ' "the 101"
	expect_match "$out" 'p6p7end' "the stream after 3.5 s:
$out
"
}
