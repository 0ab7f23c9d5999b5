# The forwarder's data path (daemon/forwarder.c): what it costs per
# request, counted in system calls rather than timed, and bodies that go
# from the relay's stream to Docker by splice(2), never read in user
# space.  Sourced by regress/run.sh (helpers from regress/lib.sh), against
# fakedocker (regress/fakedocker.c), which records every byte it gets.

FW_ROOT=$PWD
FW_PY=("$(command -v /usr/bin/python3 || command -v python3)" -I -S)

# One relay and its forwarder in front of fakedocker; FW_FWD: its pid.
_fw_start() {
	fakedocker_start "$FW_ROOT"
	FW_PORT=$(free_port)
	moatd_start -prefork 1 -frontend-addr "tcp://127.0.0.1:$FW_PORT" \
	    -backend-addr "unix://$SCRATCH/fd.sock" -no-builtin-rules \
	    -rules-file "$FW_ROOT/regress/http/rules"
	FW_FWD=$(ps -o pid=,args= --ppid "$MOATD_PID" | awk \
	    '$2 == "moatd:" && index($3, "forwarder[") == 1 { print $1 }')
	[ -n "$FW_FWD" ] || fail "no forwarder process"
}

t_forwarder_syscalls() {
	tid "500 keep-alive requests: no ioctl, under 8 system calls each in the forwarder"
	local i out counts total ioctl

	command -v strace >/dev/null || fail "strace is not installed"
	_fw_start
	# The connection and its stream exist before the count starts.
	expect_eq "$(curl -s -o /dev/null -w '%{http_code}' \
	    "http://127.0.0.1:$FW_PORT/_ping")" 200 "a first ping"
	for ((i = 0; i < 500; i++)); do
		printf 'url = "http://127.0.0.1:%s/_ping"\noutput = "/dev/null"\n' \
		    "$FW_PORT"
	done >curl.conf
	strace_start strace.out -c -p "$FW_FWD"
	out=$(curl -s --max-time 60 -K curl.conf -w '%{http_code}\n' |
	    sort | uniq -c | awk '{ print $1, $2 }')
	strace_stop
	counts=$(cat strace.out)
	expect_eq "$out" "500 200" "500 pings answered 200"
	total=$(strace_calls strace.out)
	ioctl=$(strace_calls strace.out ioctl)
	# A read and a write up; two splices down (Docker to a pipe, the pipe
	# to the relay); an epoll_wait for each: 6.  libevent's bufferevents
	# took 11 (FIONREAD before each read, EPOLLOUT armed and disarmed
	# around each write, a splice that ends in EAGAIN).
	[ "${ioctl:-0}" -eq 0 ] ||
	    fail "the forwarder asked ioctl $ioctl times:"$'\n'"$counts"
	[ "$total" -gt 0 ] && [ "$total" -lt 4000 ] ||
	    fail "the forwarder made $total system calls for 500" \
	    "requests (fewer than 4000 expected):"$'\n'"$counts"
	pass
}

# Bytes read by the forwarder through read(2) and its kin so far.
_fw_rchar() {
	awk '$1 == "rchar:" { print $2 }' "/proc/$FW_FWD/io"
}

# The body of the request for $1 as fakedocker got it, framing undone:
# its length and sha256.
_fw_body_sha() {
	local conn

	conn=$(awk -v t="$1" '$1 == "req" && $4 == t { print $2; exit }' \
	    "$SCRATCH/fd/events")
	[ -n "$conn" ] || fail "fakedocker got no request for $1"
	"${FW_PY[@]}" - "$SCRATCH/fd/conn-$conn.raw" "$1" <<-'PY'
	import hashlib, sys
	data = open(sys.argv[1], "rb").read()
	start = data.index(b"PUT " + sys.argv[2].encode() + b" HTTP/1.1\r\n")
	end = data.index(b"\r\n\r\n", start) + 4
	head = data[start:end].lower()
	if b"\r\ntransfer-encoding: chunked\r\n" in head:
	    out, i = bytearray(), end
	    while True:
	        j = data.index(b"\r\n", i)
	        size = int(data[i:j], 16)
	        out += data[j + 2:j + 2 + size]
	        assert data[j + 2 + size:j + 4 + size] == b"\r\n"
	        i = j + 4 + size
	        if size == 0:
	            break
	    body = bytes(out)
	else:
	    n = int(head.split(b"\r\ncontent-length: ")[1].split(b"\r\n")[0])
	    body = data[end:end + n]
	print(len(body), hashlib.sha256(body).hexdigest())
	PY
}

t_forwarder_large_body() {
	tid "64 MiB bodies, Content-Length and chunked, reach Docker intact, spliced (not read) by the forwarder"
	local want before after st

	_fw_start
	head -c $((64 * 1024 * 1024)) /dev/urandom >body ||
	    fail "cannot make the body"
	want="$((64 * 1024 * 1024)) $(sha256sum body | awk '{ print $1 }')"
	before=$(_fw_rchar)
	st=$(curl -s --max-time 120 -o /dev/null -w '%{http_code}' -T body \
	    "http://127.0.0.1:$FW_PORT/allowed/cl")
	expect_eq "$st" 200 "the Content-Length PUT"
	st=$(curl -s --max-time 120 -o /dev/null -w '%{http_code}' -T - \
	    -H 'Transfer-Encoding: chunked' \
	    "http://127.0.0.1:$FW_PORT/allowed/chunked" <body)
	expect_eq "$st" 200 "the chunked PUT"
	after=$(_fw_rchar)
	expect_eq "$(_fw_body_sha /allowed/cl)" "$want" \
	    "the Content-Length body as Docker got it"
	expect_eq "$(_fw_body_sha /allowed/chunked)" "$want" \
	    "the chunked body as Docker got it, its framing undone"
	# 128 MiB went up: with splice, only frame headers and heads pass
	# through the forwarder's reads (a 64 KiB frame costs 8 bytes).
	[ $((after - before)) -lt $((8 * 1024 * 1024)) ] ||
	    fail "the forwarder read $((after - before)) bytes in user" \
	    "space for 128 MiB of bodies (under 8 MiB expected)"
	pass
}
