# Client blocks (issue 13): one moatd, a rule set per client.  For each
# match kind the right client gets its rules and the wrong one a 403
# naming the client moatd took it for; every request line names the
# block; a reload applies to the next request on a kept-alive connection
# and does not cut a stream; a TCP client cannot claim an address it does
# not own.  Real dockerd, real curl and docker CLI.

CL_PS='GET %API_PREFIX_CONTAINERS%/json'
CL_IMAGES='GET /(v[0-9.]+/)?images/json'
CL=

# Certificates for two TLS clients of one CA, made once per run.
_cl_certs() {
	local d=$RUN_DIR/clients-tls

	CL=$d
	[ -e "$d/.done" ] && return 0
	rm -rf "$d"
	mkdir -p "$d" || fail "mkdir $d"
	{
		tls_ca "$d/ca" "moatd clients CA" ec &&
		tls_cert "$d/ca" "$d/server" server "/CN=moatd server" ec \
		    "IP:127.0.0.1,DNS:localhost" &&
		tls_cert "$d/ca" "$d/traefik" client "/CN=traefik" ec \
		    "DNS:traefik.example" &&
		tls_cert "$d/ca" "$d/ci" client "/CN=ci" ec "DNS:ci.example"
	} 2>"$SCRATCH/certs.err" || fail "cannot make certificates:" \
	    "$(cat "$SCRATCH/certs.err")"
	touch "$d/.done"
}

_cl_wait_log() {
	local i

	for ((i = 0; i < ${2:-3} * 20; i++)); do
		grep -Eq -- "$1" "$MOATD_LOG" && return 0
		sleep 0.05
	done
	fail "moatd's log has no line matching /$1/"$'\n'"$(
	    _moatd_logtail "$MOATD_LOG")"
}

# _cl_get WANT WHAT curl-args...: GET, expect status WANT; a 403 must
# name the client WHAT ("traefik", or "-" for the top level).
_cl_get() {
	local want=$1 who=$2 path msg

	shift 2
	expect_status "$want" "$@"
	[ "$want" = 403 ] || return 0
	path=${!#}
	path=/${path#*://*/}
	path=${path%%\?*}
	if [ "$who" = - ]; then
		msg="moatd: GET $path is not allowed (no client block matched)"
	else
		msg="moatd: GET $path is not allowed for client $who"
	fi
	grep -qF "\"message\":\"$msg\"" "$BODY" ||
	    fail "403 for $*: body does not say [$msg]: $(cat "$BODY")"
}

t_clients_tls() {
	local p url

	tid "two client certificates on one listener: each its own rules"
	_cl_certs
	p=$(free_port)
	url=https://127.0.0.1:$p
	cat >moatd.conf <<-CONF
	listen on "tcp://127.0.0.1:$p" tls certificate "$CL/server.pem" \\
	    key "$CL/server.key" ca "$CL/ca/ca.pem"
	client "traefik" {
		match tls subject "CN=traefik"
		rules "$CL_PS"
	}
	client "ci" {
		match tls san "DNS:ci.example"
		rules "$CL_IMAGES"
	}
	CONF
	MOATD_WAIT=tcp://127.0.0.1:$p moatd_start -f moatd.conf \
	    -backend-addr "unix://$RIG_SOCK"
	_tr() { echo --cacert "$CL/ca/ca.pem" --cert "$CL/$1.pem" \
	    --key "$CL/$1.key"; }
	# shellcheck disable=SC2046
	{
		_cl_get 200 traefik $(_tr traefik) "$url/v1.41/containers/json"
		_cl_get 403 traefik $(_tr traefik) "$url/v1.41/images/json"
		_cl_get 200 ci $(_tr ci) "$url/v1.41/images/json"
		_cl_get 403 ci $(_tr ci) "$url/v1.41/containers/json"
		# a block's rules replace the top level's; built-ins stay
		_cl_get 200 ci $(_tr ci) "$url/_ping"
	}
	_cl_wait_log 'cert_subject="CN=traefik".* client=traefik method=GET path=/v1.41/containers/json verdict=allow'
	_cl_wait_log 'cert_subject="CN=ci".* client=ci method=GET path=/v1.41/containers/json verdict=deny'
	# the sha256 form, as the log line shows it
	sha=$(grep -Eo 'cert_subject="CN=ci".*cert_sha256="[0-9a-f]{64}"' \
	    "$MOATD_LOG" | head -1 | grep -Eo '[0-9a-f]{64}')
	[ -n "$sha" ] || fail "no cert_sha256 for ci in the log"
	sed -i "s|match tls san \"DNS:ci.example\"|match tls sha256 \"$sha\"|; s|$CL_PS|GET %API_PREFIX_INFO%|" \
	    moatd.conf
	kill -HUP "$MOATD_PID"
	_cl_wait_log 'configuration 2 in effect' 5
	# shellcheck disable=SC2046
	{
		_cl_get 200 ci $(_tr ci) "$url/v1.41/images/json"
		_cl_get 403 traefik $(_tr traefik) "$url/v1.41/containers/json"
	}
	pass
}

t_clients_address() {
	local p url

	tid "two source addresses (127.0.0.1, 127.0.0.2) on one listener"
	p=$(free_port)
	url=http://127.0.0.1:$p
	cat >moatd.conf <<-CONF
	listen on "tcp://127.0.0.1:$p"
	client "two" {
		match address 127.0.0.2
		rules "$CL_PS"
		rules "POST %API_PREFIX_CONTAINERS%/create"
	}
	client "one" {
		match address 127.0.0.0/31
		rules "$CL_IMAGES"
	}
	CONF
	MOATD_WAIT=tcp://127.0.0.1:$p moatd_start -f moatd.conf \
	    -backend-addr "unix://$RIG_SOCK"
	_cl_get 200 two --interface 127.0.0.2 "$url/v1.41/containers/json"
	_cl_get 403 two --interface 127.0.0.2 "$url/v1.41/images/json"
	_cl_get 200 one --interface 127.0.0.1 "$url/v1.41/images/json"
	_cl_get 403 one --interface 127.0.0.1 "$url/v1.41/containers/json"
	# neither block: the top level, the built-ins only
	_cl_get 403 - --interface 127.0.0.3 "$url/v1.41/containers/json"
	_cl_get 200 - --interface 127.0.0.3 "$url/_ping"
	_cl_wait_log 'client=127\.0\.0\.2:[0-9]+ client=two method=GET path=/v1.41/containers/json verdict=allow'
	# the body policy's 403 names the client too
	expect_status 403 --interface 127.0.0.2 -X POST \
	    -H 'Content-Type: application/json' \
	    -d '{"Image":"x","HostConfig":{"Privileged":true}}' \
	    "$url/v1.41/containers/create"
	grep -qF 'moatd: POST /v1.41/containers/create: HostConfig.Privileged=true is not allowed for client two' \
	    "$BODY" || fail "admission 403: $(cat "$BODY")"
	_cl_wait_log 'client=127\.0\.0\.3:[0-9]+ client=- method=GET path=/_ping verdict=allow'
	pass
}

t_clients_unix() {
	local d sock

	tid "two uids and a supplementary group on one unix listener"
	# nobody must reach the socket: not under RUN_DIR
	d=$(mktemp -d /tmp/moatd-cl.XXXXXX) || fail "mktemp"
	on_exit rm -rf "$d"
	chmod 0755 "$d"
	sock=$d/m.sock
	cat >moatd.conf <<-CONF
	listen on "unix://$sock" mode 0666
	client "root" {
		match unix uid 0
		rules "$CL_PS"
	}
	client "nobody" {
		match unix user "nobody"
		rules "$CL_IMAGES"
	}
	client "staff" {
		match unix gid 4242
		rules "GET %API_PREFIX_INFO%"
	}
	CONF
	MOATD_WAIT=unix://$sock moatd_start -f moatd.conf \
	    -backend-addr "unix://$RIG_SOCK"
	_cl_get 200 root --unix-socket "$sock" http://d/v1.41/containers/json
	_cl_get 403 root --unix-socket "$sock" http://d/v1.41/images/json
	# as another user: the body, then the status on a line of its own
	_as() { setpriv --reuid="$1" --regid="$2" --groups="$3" \
	    curl -sS --max-time 10 -w '\n%{http_code}' \
	    --unix-socket "$sock" "http://d$4"; }
	_as_get() {
		local want=$1 msg=$2 out

		shift 2
		out=$(_as "$@")
		expect_eq "${out##*$'\n'}" "$want" "as uid $1 groups $3: $4"
		[ -z "$msg" ] || [[ $out == *"$msg"* ]] ||
		    fail "as uid $1: $4: no [$msg] in [$out]"
	}
	_as_get 200 "" 65534 65534 65534 /v1.41/images/json
	_as_get 403 'is not allowed for client nobody' 65534 65534 65534 \
	    /v1.41/containers/json
	# uid 4242 in group 4242 only as a supplementary one (SO_PEERGROUPS)
	_as_get 200 "" 4242 100 4242 /v1.41/info
	_as_get 403 'is not allowed for client staff' 4242 100 4242 \
	    /v1.41/containers/json
	_as_get 403 'is not allowed (no client block matched)' 4242 100 4243 \
	    /v1.41/containers/json
	_cl_wait_log 'client=unix:pid=[0-9]+,uid=4242 client=staff method=GET path=/v1.41/info verdict=allow'
	pass
}

t_clients_listener() {
	local a b

	tid "two named listeners: each its client block"
	a=$(free_port)
	b=$(free_port)
	cat >moatd.conf <<-CONF
	listen on "tcp://127.0.0.1:$a" name "ci"
	listen on "tcp://127.0.0.1:$b" name "dash"
	client "ci" {
		match listener "ci"
		rules "$CL_PS"
	}
	client "dash" {
		match listener "dash"
		rules "$CL_IMAGES"
	}
	CONF
	MOATD_WAIT="tcp://127.0.0.1:$a tcp://127.0.0.1:$b" \
	    moatd_start -f moatd.conf -backend-addr "unix://$RIG_SOCK"
	_cl_get 200 ci "http://127.0.0.1:$a/v1.41/containers/json"
	_cl_get 403 ci "http://127.0.0.1:$a/v1.41/images/json"
	_cl_get 200 dash "http://127.0.0.1:$b/v1.41/images/json"
	_cl_get 403 dash "http://127.0.0.1:$b/v1.41/containers/json"
	# the docker CLI, through the named listener
	run_cmd docker -H "tcp://127.0.0.1:$a" ps -q
	expect_eq "$RC" 0 "docker ps on ci (stderr: $ERR)"
	run_cmd docker -H "tcp://127.0.0.1:$b" ps -q
	expect_match "$ERR" 'is not allowed for client dash' \
	    "docker ps on dash"
	pass
}

# One connection, two requests, a reload between them; and a stream that
# was running at the reload goes on to its end.
t_clients_reload() {
	local p tick=cl_tick_$$ out want

	tid "SIGHUP: the next request on a kept-alive connection, not a stream"
	p=$(free_port)
	_conf() {
		cat >moatd.conf <<-CONF
		listen on "tcp://127.0.0.1:$p"
		client "local" {
			match address 127.0.0.1
			rules "$1"
		}
		CONF
	}
	_conf "GET %API_PREFIX_CONTAINERS%/(json|[0-9a-f]+/logs)"
	MOATD_WAIT=tcp://127.0.0.1:$p moatd_start -f moatd.conf \
	    -backend-addr "unix://$RIG_SOCK"
	rig_docker run -d --network none --name "$tick" "$RIG_IMAGE" sh -c \
	    'for i in 0 1 2 3 4 5 6 7 8 9; do echo tick$i; sleep 0.3; done' \
	    >/dev/null || fail "cannot start $tick"
	on_exit docker -H "$RIG_HOST" rm -f "$tick"
	id=$(rig_docker inspect -f '{{.Id}}' "$tick")
	curl -sS --max-time 20 -o logs.out \
	    "http://127.0.0.1:$p/v1.41/containers/$id/logs?follow=1&stdout=1" &
	logs=$!
	# the kept-alive connection: one request, the reload, another
	python3 - "$p" >ka.out 2>ka.err <<-'PY' &
	import os, re, socket, sys, time
	port = int(sys.argv[1])
	s = socket.create_connection(("127.0.0.1", port))
	f = s.makefile("rb")
	def get(path):
	    s.sendall(b"GET %s HTTP/1.1\r\nHost: d\r\n\r\n" % path.encode())
	    st = f.readline().split()[1].decode()
	    n = 0
	    while True:
	        l = f.readline()
	        if l in (b"\r\n", b""):
	            break
	        m = re.match(rb"(?i)content-length:\s*(\d+)", l)
	        if m:
	            n = int(m.group(1))
	    body = f.read(n)
	    return st, body.decode(errors="replace")
	print(get("/v1.41/containers/json")[0])
	open("conf.ready", "w").close()
	while not os.path.exists("conf.reloaded"):
	    time.sleep(0.05)
	st, body = get("/v1.41/containers/json")
	print(st)
	print(body)
	PY
	ka=$!
	for ((i = 0; i < 100; i++)); do
		[ -e conf.ready ] && break
		sleep 0.05
	done
	[ -e conf.ready ] || fail "the first request did not come back"
	_conf "GET %API_PREFIX_INFO%"
	kill -HUP "$MOATD_PID"
	_cl_wait_log 'configuration 2 in effect' 5
	touch conf.reloaded
	wait "$ka" || fail "the keep-alive client: $(cat ka.err)"
	out=$(cat ka.out)
	expect_match "$out" $'^200\n403\n.*is not allowed for client local' \
	    "before and after the reload, one connection"
	wait "$logs"
	expect_eq "$?" 0 "the logs stream's curl"
	want=$(printf 'tick%s\n' 0 1 2 3 4 5 6 7 8 9)
	expect_eq "$(tr -cd 'a-z0-9\n' <logs.out | grep -o 'tick[0-9]')" \
	    "$want" "the stream across the reload"
	# the first and the second request came on one connection
	expect_eq "$(grep -Ec 'client=127\.0\.0\.1:[0-9]+ client=local method=GET path=/v1.41/containers/json' "$MOATD_LOG")" \
	    2 "two requests logged"
	pass
}

# A client block for an address this host does not have: a local client
# cannot get its rights by forging it.  What is shown: binding it fails
# (EADDRNOTAVAIL); with IP_FREEBIND the bind succeeds but the handshake
# never completes (the SYN-ACK goes to the real 10.99.99.99's route, not
# back); a raw SYN from it, sent as root, gets no connection either, and
# an unprivileged user cannot open a raw socket at all.  (127.0.0.2 is
# this host's own, as every 127/8 address is: any local process may use
# it; "match address" tells networks apart, not local users.)
t_clients_spoof() {
	local p

	tid "a forged source address gets no connection, so no rights"
	p=$(free_port)
	cat >moatd.conf <<-CONF
	listen on "tcp://127.0.0.1:$p"
	client "far" {
		match address 10.99.99.99
		rules "$CL_PS"
	}
	CONF
	MOATD_WAIT=tcp://127.0.0.1:$p moatd_start -f moatd.conf \
	    -backend-addr "unix://$RIG_SOCK"
	run_cmd python3 - "$p" <<-'PY'
	import errno, socket, struct, sys, time
	port = int(sys.argv[1])
	FAKE = "10.99.99.99"
	req = b"GET /v1.41/containers/json HTTP/1.1\r\nHost: d\r\n\r\n"
	# 1: a plain bind to an address we do not have
	s = socket.socket()
	try:
	    s.bind((FAKE, 0))
	    print("bind: ok")
	except OSError as e:
	    print("bind:", errno.errorcode[e.errno])
	s.close()
	# 2: IP_FREEBIND: the bind is allowed, the handshake is not
	s = socket.socket()
	s.setsockopt(socket.SOL_IP, 15, 1)	# IP_FREEBIND
	s.bind((FAKE, 0))
	s.settimeout(2)
	try:
	    s.connect(("127.0.0.1", port))
	    s.sendall(req)
	    print("freebind: connected", s.recv(100))
	except OSError as e:
	    print("freebind: no connection:", type(e).__name__)
	s.close()
	# 3: a raw SYN from the forged address, then a blind ACK with the
	# request (the SYN-ACK went elsewhere; its sequence number is a guess)
	def csum(b):
	    if len(b) % 2:
	        b += b"\0"
	    t = sum(struct.unpack("!%dH" % (len(b) // 2), b))
	    t = (t >> 16) + (t & 0xffff)
	    t += t >> 16
	    return ~t & 0xffff
	def tcp(src, dst, sport, dport, seq, ack, flags, data=b""):
	    h = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4,
	        flags, 65535, 0, 0)
	    ph = struct.pack("!4s4sBBH", socket.inet_aton(src),
	        socket.inet_aton(dst), 0, 6, len(h) + len(data))
	    c = csum(ph + h + data)
	    return h[:16] + struct.pack("!H", c) + h[18:] + data
	def ip(src, dst, payload):
	    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0,
	        64, 6, 0, socket.inet_aton(src), socket.inet_aton(dst))
	    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload
	r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
	sport = 40000 + port % 1000
	r.sendto(ip(FAKE, "127.0.0.1", tcp(FAKE, "127.0.0.1", sport, port,
	    1000, 0, 0x02)), ("127.0.0.1", 0))
	time.sleep(0.2)
	for guess in (0, 1, 12345, 0xdeadbeef):
	    r.sendto(ip(FAKE, "127.0.0.1", tcp(FAKE, "127.0.0.1", sport, port,
	        1001, guess, 0x18, req)), ("127.0.0.1", 0))
	print("raw: sent")
	PY
	expect_eq "$RC" 0 "the spoofing script (stderr: $ERR)"
	expect_match "$OUT" $'^bind: EADDRNOTAVAIL\nfreebind: no connection' \
	    "bind and IP_FREEBIND"
	expect_match "$OUT" 'raw: sent' "the raw SYN went out"
	# an unprivileged user has no raw socket at all
	run_cmd setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/python3 -c \
	    'import socket; socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)'
	expect_match "$ERR" 'PermissionError|Operation not permitted' \
	    "a raw socket as nobody"
	sleep 0.5
	grep -E 'client=10\.99\.99\.99' "$MOATD_LOG" &&
	    fail "moatd answered the forged address"
	# and the block is live: nothing wrong with the configuration
	_cl_get 403 - "http://127.0.0.1:$p/v1.41/containers/json"
	moatd_alive || fail "moatd died"
	pass
}
