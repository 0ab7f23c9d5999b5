# The body detour of admission control (issue 12), end to end against the
# recording backend: a request whose JSON body the policy worker checks
# reaches Docker only once the worker has read it, byte for byte as the
# client sent it (a chunked one with a Content-Length), and nothing of a
# refused one does.  The attack matrix is regress/tests/body.sh and the
# http cases; this file is the data path: framing, 100-continue, limits,
# the connection after a refusal, a worker that stops answering.
# Sourced by regress/run.sh.

BP_ROOT=$PWD
BP_PY=("$(command -v /usr/bin/python3 || command -v python3)" -I -S)
BP_CREATE='POST /v1.47/containers/create HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n'
BP_FWD='POST /v1.47/containers/create HTTP/1.1\r\nHost: docker\r\nContent-Type: application/json\r\n'
BP_OK='{"Image":"alpine","Cmd":["true"],"HostConfig":{"Memory":0}}'
BP_PRIV='{"Image":"alpine","HostConfig":{"Privileged":true}}'

_bp_raw() {
	"${BP_PY[@]}" "$BP_ROOT/regress/rawclient.py" "$@"
}

# fakedocker on $SCRATCH/fd.sock (recording in $SCRATCH/fd), and one
# moatd with one relay before it, config lines $1 (printf escapes).
_bp_start() {
	local conf=$SCRATCH/bp.conf

	fakedocker_start "$BP_ROOT"
	printf '%s\n' 'GET,HEAD ^/_ping$' \
	    'POST ^(/v1\.[0-9]+)?/containers/create$' \
	    'POST ^(/v1\.[0-9]+)?/exec/[a-z0-9]+/start$' >"$SCRATCH/rules"
	printf "$1" >"$conf"
	chmod 0644 "$SCRATCH/rules" "$conf"
	BP_PORT=$(free_port)
	moatd_start -f "$conf" -prefork 1 \
	    -frontend-addr "tcp://127.0.0.1:$BP_PORT" \
	    -backend-addr "unix://$SCRATCH/fd.sock" \
	    -no-builtin-rules -rules-file "$SCRATCH/rules"
}

# Exactly these bytes (printf %b) reached fakedocker, within a second.
_bp_received() {
	local want=$SCRATCH/want i

	printf '%b' "$1" >"$want"
	for ((i = 0; i < 50; i++)); do
		cmp -s "$SCRATCH/fd/all.raw" "$want" && return 0
		sleep 0.02
	done
	fail "${2:-Docker}: fakedocker received [$(cat -v \
	    "$SCRATCH/fd/all.raw" 2>/dev/null)], not [$(cat -v "$want")]"
}

# Nothing reached fakedocker: no connection, no byte.
_bp_nothing() {
	sleep 0.2
	[ -s "$SCRATCH/fd/all.raw" ] &&
	    fail "$1: fakedocker received [$(cat -v "$SCRATCH/fd/all.raw")]"
	grep -q '^open ' "$SCRATCH/fd/events" 2>/dev/null &&
	    fail "$1: moatd opened a connection to Docker"
	return 0
}

t_bodypath_privileged() {
	tid "a privileged create: 403 naming the field, nothing to Docker, the connection kept"
	local out

	_bp_start ''
	out=$(_bp_raw -S -n 2 "127.0.0.1:$BP_PORT" \
	    "${BP_CREATE}Content-Length: ${#BP_PRIV}\r\n\r\n$BP_PRIV" \
	    'GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n')
	expect_match "$out" '^R 403 ct=application/json body=\{"message":"moatd: POST /v1\.47/containers/create: HostConfig\.Privileged=true is not allowed"\}' \
	    "the refusal"
	expect_match "$out" $'\nR 200 ' "GET /_ping on the same connection"
	expect_match "$out" 'E open' "the connection is kept"
	expect_match "$(cat "$MOATD_LOG")" \
	    'method=POST path=/v1\.47/containers/create verdict=deny rule=- status=403 .*reason="HostConfig\.Privileged=true"' \
	    "the log line"
	# Only the ping reached Docker.
	_bp_received 'GET /_ping HTTP/1.1\r\nHost: docker\r\n\r\n' \
	    "after the refusal"
	moatd_alive || fail "moatd died"
	pass
}

t_bodypath_forwarded() {
	tid "an allowed create body reaches Docker byte for byte, after the check"
	local out half=$((${#BP_OK} / 2))

	_bp_start ''
	# The head, half the body, the rest: three writes.
	out=$(_bp_raw -S -n 1 "127.0.0.1:$BP_PORT" \
	    "${BP_CREATE}Content-Length: ${#BP_OK}\r\n\r\n" \
	    "${BP_OK:0:half}" "${BP_OK:half}")
	expect_match "$out" '^R 200 ' "the answer"
	_bp_received "${BP_FWD}Content-Length: ${#BP_OK}\r\n\r\n$BP_OK" \
	    "Content-Length body"
	pass
}

t_bodypath_chunked_continue() {
	tid "a chunked body with Expect: 100-continue: a 100, then Docker gets it with a Content-Length"
	local out half=$((${#BP_OK} / 2))

	_bp_start ''
	out=$(_bp_raw -S -n 2 "127.0.0.1:$BP_PORT" \
	    "${BP_CREATE}Transfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n" \
	    "$(printf '%x' "$half")\r\n${BP_OK:0:half}\r\n" \
	    "$(printf '%x' $((${#BP_OK} - half)))\r\n${BP_OK:half}\r\n0\r\n\r\n")
	expect_match "$out" '^R 100 .*'$'\n''R 200 ' "100 Continue, then the answer"
	_bp_received "${BP_FWD}Content-Length: ${#BP_OK}\r\n\r\n$BP_OK" \
	    "the dechunked body"
	pass
}

t_bodypath_over_limit() {
	tid "a body over limit body: 413 before it is read, a clean close, nothing to Docker"
	local out

	_bp_start ''
	# The default limit, 1 MiB: a Content-Length over it is not read.
	out=$(_bp_raw -S "127.0.0.1:$BP_PORT" \
	    "${BP_CREATE}Content-Length: 1048577\r\n\r\n{\"Image\":\"x\"")
	expect_match "$out" '^R 413 ct=application/json body=\{"message":"moatd: request body over the limit \(1048576 bytes, limit body\)"\}' \
	    "Content-Length over the limit"
	expect_match "$out" 'E eof' "the connection is closed"
	# Chunked: the limit is seen as the bytes come (two chunks of
	# 600000 bytes of JSON).
	"${BP_PY[@]}" -c 'import sys
a = b"{\"Env\":[\"" + b" " * 599991
b = b" " * 599997 + b"\"]}"
sys.stdout.buffer.write(b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n" %
    (len(a), a, len(b), b))' \
	    >"$SCRATCH/chunks"
	out=$(_bp_raw -S "127.0.0.1:$BP_PORT" \
	    "${BP_CREATE}Transfer-Encoding: chunked\r\n\r\n" "@$SCRATCH/chunks")
	expect_match "$out" '^R 413 .*over the limit \(1048576 bytes, limit body\)' \
	    "a chunked body over the limit"
	expect_match "$out" 'E eof' "the connection is closed"
	_bp_nothing "over the limit"
	moatd_alive || fail "moatd died"
	pass
}

t_bodypath_bad_json() {
	tid "a body that is not JSON: 400 naming where, nothing to Docker"
	local out bad='{"Image":"x",}'

	_bp_start ''
	out=$(_bp_raw -S "127.0.0.1:$BP_PORT" \
	    "${BP_CREATE}Content-Length: ${#bad}\r\n\r\n$bad")
	expect_match "$out" '^R 400 ct=application/json body=\{"message":"moatd: request body is not valid JSON: .* at byte [0-9]+"\}' \
	    "the answer"
	expect_match "$out" 'E eof' "the connection is closed"
	_bp_nothing "bad JSON"
	pass
}

t_bodypath_exec_upgrade() {
	tid "exec start: a checked body and an upgrade, carried through to the 101"
	local out body='{"Detach":false,"Tty":true}'

	_bp_start ''
	out=$(_bp_raw -S -n 1 -g 1 "127.0.0.1:$BP_PORT" \
	    "POST /v1.47/exec/abc/start?fake=upgrade HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: ${#body}\r\n\r\n$body" \
	    'ping')
	expect_match "$out" '^R 101 ' "the upgrade"
	expect_match "$out" $'\nP ping' "the stream after it"
	pass
}

t_bodypath_policy_stopped() {
	tid "a policy worker that stops during the body detour: 503 after timeout head, nothing to Docker"
	local out pol

	_bp_start 'timeout head 1\n'
	pol=$(ps -o pid=,args= --ppid "$MOATD_PID" 2>/dev/null |
	    awk '$2 == "moatd:" && index($3, "policy") == 1 { print $1; exit }')
	[ -n "$pol" ] || fail "no policy worker"
	on_exit kill -CONT "$pol"
	# The head (answered: send the body), then the body 2 s later; the
	# worker is stopped in between.
	_bp_raw -S -t 8 -d 2 "127.0.0.1:$BP_PORT" \
	    "${BP_CREATE}Content-Length: ${#BP_OK}\r\n\r\n" "$BP_OK" \
	    >"$SCRATCH/out" &
	sleep 1
	kill -STOP "$pol"
	wait $!
	kill -CONT "$pol"
	out=$(cat "$SCRATCH/out")
	expect_match "$out" '^R 503 ct=application/json body=\{"message":"moatd: policy worker did not answer"\}' \
	    "the answer"
	expect_match "$out" 'E eof' "the connection is closed"
	_bp_nothing "the worker stopped"
	expect_status 200 "http://127.0.0.1:$BP_PORT/_ping"
	pass
}

t_bodypath_budget() {
	tid "bodies held for the policy worker: 64 MiB per relay, then 503; forwarded ones count no more"
	local out

	_bp_start ''
	out=$("${BP_PY[@]}" - "$BP_PORT" <<'PY'
import socket, sys
port = int(sys.argv[1])
head = (b"POST /v1.47/containers/create HTTP/1.1\r\nHost: x\r\n"
    b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n")
n = 1024 * 1024
body = b'{"Env":["' + b" " * (n - 12) + b'"]}'
assert len(body) == n

def answer(s):
    s.settimeout(10)
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d:
            return "none"
        buf += d
    head, rest = buf.split(b"\r\n\r\n", 1)
    cl = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            cl = int(v)
    while len(rest) < cl:
        d = s.recv(65536)
        if not d:
            break
        rest += d
    return head.split(b" ", 2)[1].decode()

# 64 bodies of 1 MiB less a byte, held: the 65th passes the budget.
held = []
for i in range(64):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(head % n + body[:-1])
    held.append(s)
s = socket.create_connection(("127.0.0.1", port))
s.sendall(head % n + body[:100])
print("over", answer(s))
s.close()
for s in held:
    s.close()
# 70 MiB of bodies forwarded one after the other, on one connection.
s = socket.create_connection(("127.0.0.1", port))
codes = []
for i in range(70):
    s.sendall(head % n + body)
    codes.append(answer(s))
print("after", " ".join(sorted(set(codes))), len(codes))
PY
)
	expect_match "$out" 'over 503' "the body over the budget"
	expect_match "$out" 'after 200 70' "bodies forwarded after"
	expect_match "$(cat "$MOATD_LOG")" 'bytes of request bodies held; refused' \
	    "the log line"
	pass
}

# A body that came with its head (in the same write, as clients send a
# small one) is decided on the first trip to the policy worker: the relay
# sends the bytes that followed the head, and the worker takes the body
# from them (early).  20 creates on one connection: 20 verdicts, where the
# detour (VERDICT_BODY, then the body) took 40.  Counted as the worker's
# writes to its relay, by strace.
t_bodypath_early() {
	tid "a body that came with its head: decided on the first trip to the policy worker"
	local pol i pieces=() n writes

	command -v strace >/dev/null || fail "strace is not installed"
	_bp_start ''
	pol=$(ps -o pid=,args= --ppid "$MOATD_PID" 2>/dev/null |
	    awk '$2 == "moatd:" && index($3, "policy") == 1 { print $1; exit }')
	[ -n "$pol" ] || fail "no policy worker"
	expect_status 200 "http://127.0.0.1:$BP_PORT/_ping"
	strace_start strace.out -f -c -e trace=write,writev,sendmsg,sendto \
	    -p "$pol"
	for ((i = 0; i < 20; i++)); do
		pieces+=("${BP_CREATE}Content-Length: ${#BP_OK}\r\n\r\n$BP_OK")
	done
	_bp_raw -S -n 20 -t 10 -d 0.05 "127.0.0.1:$BP_PORT" "${pieces[@]}" \
	    >"$SCRATCH/out"
	strace_stop
	n=$(grep -c '^R 200 ' "$SCRATCH/out")
	expect_eq "$n" 20 "20 creates answered 200: $(head -3 "$SCRATCH/out")"
	n=$(grep -ao "POST /v1.47/containers/create " "$SCRATCH/fd/all.raw" | wc -l)
	expect_eq "$n" 20 "20 creates reached Docker"
	writes=$(strace_calls strace.out 'write|writev|sendmsg|sendto')
	[ "$writes" -ge 20 ] && [ "$writes" -le 30 ] ||
	    fail "the policy worker wrote $writes times for 20 creates" \
	    "(20 to 30 expected):"$'\n'"$(cat strace.out)"
	# A body that is not all there yet still takes the detour.
	: >"$SCRATCH/fd/all.raw"
	_bp_raw -S -t 5 -d 0.3 "127.0.0.1:$BP_PORT" \
	    "${BP_CREATE}Content-Length: ${#BP_OK}\r\n\r\n${BP_OK:0:10}" \
	    "${BP_OK:10}" >"$SCRATCH/out"
	expect_match "$(cat "$SCRATCH/out")" '^R 200 ' "a body in two writes"
	# And one the body policy refuses, early: a 403 naming the field,
	# the connection kept, the next request answered.
	_bp_raw -S -n 2 -t 5 "127.0.0.1:$BP_PORT" \
	    "${BP_CREATE}Content-Length: ${#BP_PRIV}\r\n\r\n${BP_PRIV}GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n" \
	    >"$SCRATCH/out"
	expect_match "$(cat "$SCRATCH/out")" '^R 403 .*HostConfig\.Privileged=true' \
	    "the refused body"
	expect_match "$(sed -n 2p "$SCRATCH/out")" '^R 200 ' \
	    "the request after it, on the same connection"
	pass
}
