# TLS: the mutual-TLS frontend (the docker CLI in --tlsverify mode,
# refused clients, RSA and ECDSA server keys, protocols, CRLs, reload on
# SIGHUP), the private key kept out of the relays, and TLS to the rig's
# dockerd (its --tlsverify port, regress/rig.sh with RIG_TLS=1).
# Certificates are made by the openssl command (regress/tlslib.sh), once
# per run, in $RUN_DIR/tls.

TL_TOP=$PWD
TL_SCAN=$TL_TOP/regress/tls_memscan.py
TL_T=30			# seconds any one client command may take
TL=
TL_PORT=
TL_ADDR=
# alice's subject as RFC 2253 writes it: "openssl ca" puts CN first in
# the certificate, RFC 2253 writes the last RDN first.
ALICE='O=moatd tests,CN=alice'

# The CA, the servers' certificates (RSA and ECDSA keys), clients: alice
# (good), old (expired), mallory (another CA), revoked (in the CRL); and
# the CLI's DOCKER_CERT_PATH layout for alice.
_tl_certs() {
	local d=$RUN_DIR/tls

	TL=$d
	[ -e "$d/.done" ] && return 0
	rm -rf "$d"
	mkdir -p "$d/alice.docker" || fail "mkdir $d"
	{
		tls_ca "$d/ca" "moatd test CA" ec &&
		tls_ca "$d/other" "moatd other CA" ec &&
		tls_cert "$d/ca" "$d/server-rsa" server "/CN=moatd server" \
		    rsa "IP:127.0.0.1,DNS:localhost" &&
		tls_cert "$d/ca" "$d/server-ec" server "/CN=moatd server" \
		    ec "IP:127.0.0.1,DNS:localhost" &&
		tls_cert "$d/ca" "$d/alice" client "/O=moatd tests/CN=alice" \
		    ec "DNS:alice.example,email:alice@example.com" &&
		tls_cert "$d/ca" "$d/old" client "/CN=old" ec \
		    "DNS:old.example" 20200101000000Z 20200102000000Z &&
		tls_cert "$d/other" "$d/mallory" client "/CN=mallory" ec \
		    "DNS:mallory.example" &&
		tls_cert "$d/ca" "$d/revoked" client "/CN=revoked" rsa \
		    "DNS:revoked.example" &&
		tls_revoke "$d/ca" "$d/revoked.pem" &&
		tls_crl "$d/ca" "$d/ca.crl" &&
		cp "$d/ca/ca.pem" "$d/alice.docker/ca.pem" &&
		cp "$d/alice.pem" "$d/alice.docker/cert.pem" &&
		cp "$d/alice.key" "$d/alice.docker/key.pem"
	} 2>"$SCRATCH/certs.err" || fail "cannot make certificates:" \
	    "$(cat "$SCRATCH/certs.err")"
	touch "$d/.done"
}

# What the docker CLI needs for version, ps, run --rm, exec and logs -f.
_tl_rules() {
	cat <<-'EOF'
	GET %API_PREFIX_CONTAINERS%/json
	POST %API_PREFIX_CONTAINERS%/create
	POST %API_PREFIX_CONTAINERS%/%CONTAINER_ID_OR_NAME%/(attach|start|wait|exec)
	GET %API_PREFIX_CONTAINERS%/%CONTAINER_ID_OR_NAME%/(json|logs)
	POST %API_PREFIX_EXEC%/[0-9a-f]{64}/start
	GET %API_PREFIX_EXEC%/[0-9a-f]{64}/json
	EOF
}

# moatd with the mTLS frontend in front of the rig's socket; $TL_KEY
# (rsa or ec, default ec) picks the server key.  Extra arguments follow.
_tl_start() {
	local k=${TL_KEY:-ec}

	_tl_certs
	TL_PORT=$(free_port)
	TL_ADDR=tcp://127.0.0.1:$TL_PORT
	moatd_start -frontend-addr "$TL_ADDR" -backend-addr "unix://$RIG_SOCK" \
	    -frontend-tls-cert "$TL/server-$k.pem" \
	    -frontend-tls-key "$TL/server-$k.key" \
	    -frontend-tls-cacert "$TL/ca/ca.pem" "$@"
}

# The docker CLI as alice, the way Docker documents it: DOCKER_HOST,
# DOCKER_TLS_VERIFY and DOCKER_CERT_PATH.
_tl_docker() {
	DOCKER_HOST=tcp://127.0.0.1:$TL_PORT DOCKER_TLS_VERIFY=1 \
	    DOCKER_CERT_PATH=$TL/alice.docker timeout "$TL_T" docker "$@"
}

# curl as client $1 (a name in $TL, or "" for none) to path $2 of the
# frontend; prints the HTTP status (000: no HTTP answer).
_tl_curl() {
	local who=$1 path=$2 cert=()

	shift 2
	[ -n "$who" ] && cert=(--cert "$TL/$who.pem" --key "$TL/$who.key")
	curl -s --max-time 10 -o "$SCRATCH/body" -w '%{http_code}' \
	    --cacert "$TL/ca/ca.pem" "${cert[@]}" "$@" \
	    "https://127.0.0.1:$TL_PORT$path" 2>"$SCRATCH/curl.err"
}

# openssl s_client as alice: one handshake, its summary in $OUT.
_tl_sclient() {
	run_cmd timeout 10 openssl s_client -brief -connect "127.0.0.1:$TL_PORT" \
	    -CAfile "$TL/ca/ca.pem" -cert "$TL/alice.pem" -key "$TL/alice.key" \
	    -verify_return_error "$@" </dev/null
	OUT="$OUT"$'\n'"$ERR"
}

# Wait up to $2 seconds for a line of moatd's log matching ERE $1.
_tl_wait_log() {
	local i

	for ((i = 0; i < ${2:-3} * 20; i++)); do
		grep -Eq -- "$1" "$MOATD_LOG" && return 0
		sleep 0.05
	done
	fail "moatd's log has no line matching /$1/"$'\n'"$(
	    _moatd_logtail "$MOATD_LOG")"
}

# The pids of moatd's children titled "moatd: $1" or "moatd: $1[n]".
_tl_role() {
	ps -o pid=,args= --ppid "$MOATD_PID" 2>/dev/null | awk -v t="$1" \
	    '$2 == "moatd:" && ($3 == t || index($3, t "[") == 1) { print $1 }'
}

t_tls_docker_cli() {
	local ctr=tl_exec_$$ tick=tl_tick_$$ want

	tid "docker --tlsverify: version, ps, run --rm, exec -i, logs -f"
	_tl_rules >rules.list
	_tl_start -rules-file rules.list
	run_cmd _tl_docker version --format '{{.Server.Version}}'
	expect_eq "$RC" 0 "docker version exit status (stderr: $ERR)"
	expect_match "$OUT" '^[0-9]+\.[0-9]+' "server version"
	run_cmd _tl_docker run --rm --network none "$RIG_IMAGE" echo hello-tls
	expect_eq "$RC" 0 "docker run --rm exit status (stderr: $ERR)"
	expect_eq "$OUT" hello-tls "docker run --rm output"

	rig_docker run -d --network none --name "$ctr" "$RIG_IMAGE" \
	    sleep 60 >/dev/null || fail "cannot start $ctr"
	run_cmd _tl_docker ps --format '{{.Names}}'
	expect_eq "$RC" 0 "docker ps exit status (stderr: $ERR)"
	[[ $'\n'$OUT$'\n' == *$'\n'$ctr$'\n'* ]] ||
	    fail "docker ps does not list $ctr: [$OUT]"
	run_cmd _tl_docker exec "$ctr" echo exec-ok
	expect_eq "$RC" 0 "docker exec exit status (stderr: $ERR)"
	expect_eq "$OUT" exec-ok "docker exec output"
	# stdin, then its end (close_notify) through to cat, and back
	run_cmd _tl_docker exec -i "$ctr" cat <<<"stdin over TLS"
	expect_eq "$RC" 0 "docker exec -i exit status (stderr: $ERR)"
	expect_eq "$OUT" "stdin over TLS" "docker exec -i output"

	rig_docker run -d --network none --name "$tick" "$RIG_IMAGE" sh -c \
	    'for i in 0 1 2 3 4 5 6 7 8 9; do echo tick$i; sleep 0.2; done' \
	    >/dev/null || fail "cannot start $tick"
	run_cmd _tl_docker logs -f "$tick"
	expect_eq "$RC" 0 "docker logs -f exit status (stderr: $ERR)"
	want=$(printf 'tick%s\n' 0 1 2 3 4 5 6 7 8 9)
	expect_eq "$OUT" "$want" "docker logs -f output"
	rig_docker rm -f "$ctr" "$tick" >/dev/null 2>&1

	# Every request names alice, verified, in its log line.
	_tl_wait_log "cert_subject=\"$ALICE\" cert_san=\"DNS:alice.example,email:alice@example.com\" cert_sha256=\"[0-9a-f]{64}\" method=POST path=/v[0-9.]+/exec/[0-9a-f]{64}/start verdict=allow"
	_tl_wait_log "cert_subject=\"$ALICE\".* method=GET path=/v[0-9.]+/containers/[0-9a-f]{64}/logs verdict=allow"
	grep -E 'verdict=' "$MOATD_LOG" | grep -v "cert_subject=\"$ALICE\"" &&
	    fail "a request logged without alice's certificate"
	pass
}

t_tls_refused() {
	local st

	tid "no certificate, an expired one, another CA's, plain HTTP: refused"
	_tl_start
	st=$(_tl_curl alice /_ping)
	expect_eq "$st" 200 "alice: $(cat "$SCRATCH/curl.err")"
	st=$(_tl_curl "" /_ping)
	expect_eq "$st" 000 "no client certificate"
	_tl_wait_log 'TLS handshake failed: .*peer did not return a certificate'
	st=$(_tl_curl old /_ping)
	expect_eq "$st" 000 "an expired client certificate"
	_tl_wait_log 'TLS handshake failed: certificate verify failed: certificate has expired'
	st=$(_tl_curl mallory /_ping)
	expect_eq "$st" 000 "a certificate from another CA"
	_tl_wait_log 'TLS handshake failed: certificate verify failed: unable to get local issuer certificate'
	st=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' \
	    "http://127.0.0.1:$TL_PORT/_ping")
	expect_eq "$st" 000 "plain HTTP on the TLS port"
	_tl_wait_log 'TLS handshake failed: .*http request'
	# The docker CLI with mallory's certificate gets nothing either: we
	# name our CA in the handshake, so Go does not even offer mallory's
	# and is told a certificate is required (the alert, not a reset).
	run_cmd timeout "$TL_T" docker --tlsverify --tlscacert "$TL/ca/ca.pem" \
	    --tlscert "$TL/mallory.pem" --tlskey "$TL/mallory.key" \
	    -H "$TL_ADDR" version --format '{{.Server.Version}}'
	[ "$RC" -ne 0 ] || fail "docker version with mallory's certificate worked"
	expect_match "$ERR" 'remote error: tls: certificate required' \
	    "docker's complaint"
	expect_eq "$(grep -c 'verdict=' "$MOATD_LOG")" 1 \
	    "request log lines (alice's ping only)"
}

t_tls_crl() {
	local st

	tid "-frontend-tls-crl: a revoked client certificate is refused"
	_tl_certs
	_tl_start -frontend-tls-crl "$TL/ca.crl"
	st=$(_tl_curl revoked /_ping)
	expect_eq "$st" 000 "the revoked certificate"
	_tl_wait_log 'client=127\.0\.0\.1:[0-9]+: TLS handshake failed: certificate verify failed: certificate revoked'
	st=$(_tl_curl alice /_ping)
	expect_eq "$st" 200 "alice with the CRL: $(cat "$SCRATCH/curl.err")"
}

# With CRLs, every certificate of the client's chain is checked: carol's
# certificate comes from an intermediate CA that the root (the only CA
# moatd trusts) has revoked.  The CRL file needs a CRL from each CA of
# the chain; without the intermediate's, carol is refused too.
t_tls_crl_intermediate() {
	local d=$SCRATCH/chain c st

	tid "CRLs: a client under a revoked intermediate CA is refused"
	_tl_certs
	{
		tls_ca "$d/root" "moatd chain root" ec &&
		tls_subca "$d/root" "$d/inter" "moatd chain intermediate" ec &&
		tls_cert "$d/inter" "$d/carol" client "/CN=carol" ec \
		    "DNS:carol.example" &&
		cat "$d/carol.pem" "$d/inter/ca.pem" >"$d/carol.chain" &&
		tls_crl "$d/root" "$d/root.crl" &&
		tls_crl "$d/inter" "$d/inter.crl" &&
		cat "$d/root.crl" "$d/inter.crl" >"$d/good.crl" &&
		tls_revoke "$d/root" "$d/inter/ca.pem" &&
		tls_crl "$d/root" "$d/root-revoked.crl" &&
		cat "$d/root-revoked.crl" "$d/inter.crl" >"$d/revoked.crl"
	} 2>"$SCRATCH/certs.err" || fail "cannot make certificates:" \
	    "$(cat "$SCRATCH/certs.err")"
	for c in good revoked root; do
		TL_PORT=$(free_port)
		moatd_start -frontend-addr "tcp://127.0.0.1:$TL_PORT" \
		    -backend-addr "unix://$RIG_SOCK" \
		    -frontend-tls-cert "$TL/server-ec.pem" \
		    -frontend-tls-key "$TL/server-ec.key" \
		    -frontend-tls-cacert "$d/root/ca.pem" \
		    -frontend-tls-crl "$d/$c.crl"
		st=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' \
		    --cacert "$TL/ca/ca.pem" --cert "$d/carol.chain" \
		    --key "$d/carol.key" "https://127.0.0.1:$TL_PORT/_ping" \
		    2>"$SCRATCH/curl.err")
		case $c in
		good)
			expect_eq "$st" 200 "carol, no CA revoked:" \
			    "$(cat "$SCRATCH/curl.err")"
			;;
		revoked)
			expect_eq "$st" 000 "carol under the revoked CA"
			_tl_wait_log 'TLS handshake failed: certificate verify failed: certificate revoked'
			;;
		root)
			expect_eq "$st" 000 "carol without the CA's CRL"
			_tl_wait_log 'TLS handshake failed: certificate verify failed: unable to get certificate CRL'
			;;
		esac
		moatd_stop || fail "moatd did not stop"
	done
}

t_tls_rsa_ecdsa() {
	local k v sig st

	tid "RSA and ECDSA server keys, TLS 1.2 and 1.3: the ca signs"
	for k in rsa ec; do
		TL_KEY=$k _tl_start
		# -brief says "Peer signature type" in 1.3, "Signature type"
		# in 1.2: both the server's signature.
		[ "$k" = rsa ] && sig='RSA-PSS' || sig='ECDSA'
		for v in 1.2 1.3; do
			st=$(_tl_curl alice /_ping --tlsv$v --tls-max $v)
			expect_eq "$st" 200 "$k key, TLS $v:" \
			    "$(cat "$SCRATCH/curl.err")"
			_tl_sclient -tls${v/./_}
			expect_match "$OUT" "Protocol version: TLSv$v" \
			    "$k key, TLS $v, protocol"
			expect_match "$OUT" "ignature type: $sig" \
			    "$k key, TLS $v, signature"
		done
		# PKCS#1 v1.5 (TLS 1.2 only), each hash the ca signs.
		for v in SHA256 SHA384 SHA512; do
			[ "$k" = rsa ] || break
			_tl_sclient -tls1_2 -sigalgs "RSA+$v:ECDSA+SHA256"
			expect_match "$OUT" "Signature type: RSA[^-]" \
			    "rsa key, TLS 1.2, PKCS#1 $v"
			expect_match "$OUT" "Hash used: $v" \
			    "rsa key, TLS 1.2, PKCS#1 $v hash"
		done
		moatd_stop || fail "moatd did not stop"
	done
}

t_tls_key_separation() {
	local k i st out p found

	tid "the private key is in the cas, never in a relay's memory"
	for k in rsa ec; do
		TL_KEY=$k _tl_start -prefork 2
		for ((i = 0; i < 8; i++)); do
			st=$(_tl_curl alice /_ping)
			expect_eq "$st" 200 "$k key, handshake $i"
		done
		# Relays, the policy worker and the parent: clean.
		for p in $MOATD_PID $(_tl_role relay) $(_tl_role policy); do
			out=$(python3 "$TL_SCAN" "$TL/server-$k.key" "$p") ||
			    fail "tls_memscan: $out"
			expect_eq "$out" "$p clean" \
			    "$k key in $(ps -o args= -p "$p")"
		done
		[ "$(_tl_role relay | wc -l)" -eq 2 ] || fail "not 2 relays"
		# The scan can see a key where there is one: in each ca.
		found=0
		for p in $(_tl_role ca); do
			out=$(python3 "$TL_SCAN" "$TL/server-$k.key" "$p") ||
			    fail "tls_memscan: $out"
			expect_match "$out" "^$p found: .*(prime1|priv) \\(little-endian\\)" \
			    "$k key in the ca $p"
			found=$((found + 1))
		done
		expect_eq "$found" 2 "cas scanned"
		moatd_stop || fail "moatd did not stop"
	done
}

t_tls_protocols() {
	local st

	tid "TLS 1.3 preferred, 1.2 allowed, 1.1 never; protocols and ciphers"
	_tl_start
	_tl_sclient
	expect_match "$OUT" 'Protocol version: TLSv1\.3' "default protocol"
	_tl_sclient -tls1_2
	expect_match "$OUT" 'Ciphersuite: ECDHE-ECDSA-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)' \
	    "TLS 1.2 default ciphers"
	_tl_sclient -tls1_1 -cipher 'DEFAULT@SECLEVEL=0'
	[ "$RC" -ne 0 ] || fail "a TLS 1.1 handshake worked: $OUT"
	_tl_sclient -tls1_2 -cipher 'ECDHE-ECDSA-AES128-SHA'
	[ "$RC" -ne 0 ] || fail "a CBC-SHA1 cipher worked: $OUT"
	moatd_stop || fail "moatd did not stop"

	_tl_start -frontend-tls-protocols tlsv1.3
	st=$(_tl_curl alice /_ping --tls-max 1.2)
	expect_eq "$st" 000 "TLS 1.2 with tlsv1.3 only"
	st=$(_tl_curl alice /_ping)
	expect_eq "$st" 200 "TLS 1.3 with tlsv1.3 only"
	moatd_stop || fail "moatd did not stop"

	_tl_start -frontend-tls-protocols tlsv1.2 \
	    -frontend-tls-ciphers ECDHE-ECDSA-CHACHA20-POLY1305
	_tl_sclient
	expect_match "$OUT" 'Protocol version: TLSv1\.2' "tlsv1.2 only"
	expect_match "$OUT" 'Ciphersuite: ECDHE-ECDSA-CHACHA20-POLY1305' \
	    "the configured cipher"
}

# A kept-alive TLS connection and a "docker logs -f" stream across a
# SIGHUP that swaps the server certificate: both go on; new connections
# get the new certificate.
t_tls_reload() {
	local tick=tl_reload_$$ logs_pid serial1 serial2 want

	tid "SIGHUP: new certificates for new connections, old ones go on"
	_tl_certs
	cp "$TL/server-ec.pem" cert.pem
	cp "$TL/server-ec.key" key.pem
	TL_PORT=$(free_port)
	TL_ADDR=tcp://127.0.0.1:$TL_PORT
	_tl_rules >rules.list
	moatd_start -frontend-addr "$TL_ADDR" -backend-addr "unix://$RIG_SOCK" \
	    -frontend-tls-cert cert.pem -frontend-tls-key key.pem \
	    -frontend-tls-cacert "$TL/ca/ca.pem" -rules-file rules.list
	serial1=$(openssl x509 -in cert.pem -noout -serial)

	rig_docker run -d --network none --name "$tick" "$RIG_IMAGE" sh -c \
	    'i=0; while [ $i -lt 20 ]; do echo tick$i; i=$((i+1)); sleep 0.2; done' \
	    >/dev/null || fail "cannot start $tick"
	_tl_docker logs -f "$tick" >logs.out 2>logs.err &
	logs_pid=$!

	cat >keepalive.py <<-'EOF'
	import socket, ssl, sys, time
	port, ca, cert, key, sig = sys.argv[1:6]
	ctx = ssl.create_default_context(cafile=ca)
	ctx.load_cert_chain(cert, key)
	s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(port))),
	                    server_hostname="127.0.0.1")
	f = s.makefile("rb")
	def ping():
	    s.sendall(b"GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n")
	    status = f.readline().split()[1].decode()
	    n = 0
	    while True:
	        line = f.readline()
	        if line.lower().startswith(b"content-length:"):
	            n = int(line.split(b":")[1])
	        if line == b"\r\n":
	            break
	    f.read(n)
	    return status
	print(ping(), flush=True)
	while not open(sig).read():
	    time.sleep(0.05)
	print(ping(), flush=True)
	EOF
	: >go
	python3 keepalive.py "$TL_PORT" "$TL/ca/ca.pem" "$TL/alice.pem" \
	    "$TL/alice.key" go >keepalive.out 2>keepalive.err &
	sleep 0.5

	# The swap: RSA in place of ECDSA, a new serial.
	cp "$TL/server-rsa.pem" cert.pem
	cp "$TL/server-rsa.key" key.pem
	serial2=$(openssl x509 -in cert.pem -noout -serial)
	[ "$serial1" != "$serial2" ] || fail "the two certificates share a serial"
	kill -HUP "$MOATD_PID"
	# Every child, the cas included, has acknowledged the new set.
	_tl_wait_log 'configuration 2 in effect' 5
	timeout 10 openssl s_client -connect "127.0.0.1:$TL_PORT" \
	    -CAfile "$TL/ca/ca.pem" -cert "$TL/alice.pem" -key "$TL/alice.key" \
	    </dev/null >sclient.out 2>&1
	run_cmd openssl x509 -noout -serial -in sclient.out
	expect_eq "$OUT" "$serial2" "the certificate of a new connection"
	_tl_sclient
	expect_match "$OUT" 'ignature type: RSA-PSS' \
	    "a new handshake signs with the new (RSA) key"

	echo go >go
	wait "$logs_pid"
	expect_eq "$?" 0 "docker logs -f exit status ($(cat logs.err))"
	want=$(for i in $(seq 0 19); do echo "tick$i"; done)
	expect_eq "$(cat logs.out)" "$want" "docker logs -f across the reload"
	for i in $(seq 1 100); do
		[ "$(wc -l <keepalive.out)" -ge 2 ] && break
		sleep 0.05
	done
	expect_eq "$(cat keepalive.out)" $'200\n200' \
	    "pings on one connection across the reload ($(cat keepalive.err))"
	rig_docker rm -f "$tick" >/dev/null 2>&1
	pass
}

# moatd in plain HTTP in front of dockerd's --tlsverify port.
_tl_backend() {
	TL_PORT=$(free_port)
	TL_ADDR=tcp://127.0.0.1:$TL_PORT
	moatd_start -frontend-addr "$TL_ADDR" -backend-addr "$RIG_TLS_HOST" "$@"
}

t_tls_backend() {
	local st

	tid "TLS to dockerd --tlsverify: docker version, run -i, exec"
	[ -n "$RIG_TLS_HOST" ] || fail "the rig has no TLS port (RIG_TLS=1)"
	_tl_rules >rules.list
	_tl_backend -backend-tls-cacert "$RIG_TLS_DIR/ca.pem" \
	    -backend-tls-cert "$RIG_TLS_DIR/client.pem" \
	    -backend-tls-key "$RIG_TLS_DIR/client.key" -rules-file rules.list
	st=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' \
	    "http://127.0.0.1:$TL_PORT/_ping")
	expect_eq "$st" 200 "GET /_ping through the TLS backend"
	run_cmd timeout "$TL_T" docker -H "$TL_ADDR" version \
	    --format '{{.Server.Version}}'
	expect_eq "$RC" 0 "docker version exit status (stderr: $ERR)"
	# Both ends of a hijacked stream over the TLS backend, half-close
	# included (close_notify to dockerd, its close_notify back).
	run_cmd timeout "$TL_T" docker -H "$TL_ADDR" run --rm -i \
	    --network none "$RIG_IMAGE" cat <<<"through dockerd's TLS port"
	expect_eq "$RC" 0 "docker run -i exit status (stderr: $ERR)"
	expect_eq "$OUT" "through dockerd's TLS port" "docker run -i output"
	moatd_stop || fail "moatd did not stop"

	# mTLS in front and TLS behind, at once.
	_tl_start -backend-addr "$RIG_TLS_HOST" \
	    -backend-tls-cacert "$RIG_TLS_DIR/ca.pem" \
	    -backend-tls-cert "$RIG_TLS_DIR/client.pem" \
	    -backend-tls-key "$RIG_TLS_DIR/client.key" -rules-file rules.list
	run_cmd _tl_docker run --rm --network none "$RIG_IMAGE" echo both-ends
	expect_eq "$RC" 0 "docker run, TLS on both sides (stderr: $ERR)"
	expect_eq "$OUT" both-ends "docker run output, TLS on both sides"
	[ "$(_tl_role ca | wc -l)" -ge 1 ] || fail "no ca process"
}

t_tls_backend_refused() {
	local st

	tid "TLS backend: a wrong CA, a wrong name, no client cert: 502, logged"
	_tl_certs
	_tl_backend -backend-tls-cacert "$TL/other/ca.pem" \
	    -backend-tls-cert "$RIG_TLS_DIR/client.pem" \
	    -backend-tls-key "$RIG_TLS_DIR/client.key"
	st=$(curl -s --max-time 10 -o body -w '%{http_code}' \
	    "http://127.0.0.1:$TL_PORT/_ping")
	expect_eq "$st" 502 "GET /_ping with the wrong CA"
	expect_match "$(cat body)" 'TLS with the Docker daemon failed' "body"
	_tl_wait_log 'backend: TLS handshake failed: certificate verify failed: (unable to get local issuer certificate|self.signed certificate in certificate chain)'
	_tl_wait_log 'method=GET path=/_ping verdict=error rule=builtin:[0-9]+ status=502'
	moatd_stop || fail "moatd did not stop"

	_tl_backend -backend-tls-cacert "$RIG_TLS_DIR/ca.pem" \
	    -backend-tls-name docker.example \
	    -backend-tls-cert "$RIG_TLS_DIR/client.pem" \
	    -backend-tls-key "$RIG_TLS_DIR/client.key"
	st=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' \
	    "http://127.0.0.1:$TL_PORT/_ping")
	expect_eq "$st" 502 "GET /_ping with the wrong name"
	_tl_wait_log 'backend: TLS handshake failed: certificate verify failed: hostname mismatch'
	moatd_stop || fail "moatd did not stop"

	# dockerd --tlsverify wants a client certificate.
	_tl_backend -backend-tls-cacert "$RIG_TLS_DIR/ca.pem"
	st=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' \
	    "http://127.0.0.1:$TL_PORT/_ping")
	expect_eq "$st" 502 "GET /_ping without a client certificate"
	_tl_wait_log 'backend: TLS handshake failed: .*(certificate required|bad certificate|connection closed)'
}

t_tls_env() {
	local st

	tid "CETUSGUARD_{FRONTEND,BACKEND}_TLS_* as the flags"
	_tl_certs
	TL_PORT=$(free_port)
	TL_ADDR=tcp://127.0.0.1:$TL_PORT
	CETUSGUARD_FRONTEND_TLS_CERT=$TL/server-rsa.pem \
	CETUSGUARD_FRONTEND_TLS_KEY=$TL/server-rsa.key \
	CETUSGUARD_FRONTEND_TLS_CACERT=$TL/ca/ca.pem \
	CETUSGUARD_BACKEND_TLS_CACERT=$RIG_TLS_DIR/ca.pem \
	CETUSGUARD_BACKEND_TLS_CERT=$RIG_TLS_DIR/client.pem \
	CETUSGUARD_BACKEND_TLS_KEY=$RIG_TLS_DIR/client.key \
	    moatd_start -frontend-addr "$TL_ADDR" -backend-addr "$RIG_TLS_HOST"
	st=$(_tl_curl alice /_ping)
	expect_eq "$st" 200 "alice, through to dockerd's TLS port"
	st=$(_tl_curl "" /_ping)
	expect_eq "$st" 000 "no client certificate"
	_tl_wait_log "cert_subject=\"$ALICE\".* method=GET path=/_ping verdict=allow rule=builtin:[0-9]+ status=200"
}

# moatd $@ must refuse to start, saying ERE $1.
_tl_refuse() {
	local want=$1

	shift
	run_cmd timeout 10 "$MOATD" -d -frontend-addr \
	    "tcp://127.0.0.1:$(free_port)" "$@"
	[ "$RC" -ne 0 ] && [ "$RC" -ne 124 ] ||
	    fail "moatd $* started (status $RC)"
	expect_match "$ERR" "$want" "moatd $*"
}

t_tls_config_errors() {
	tid "bad TLS settings stop moatd at start, saying why"
	_tl_certs
	openssl genpkey -algorithm ed25519 -out ed.key 2>/dev/null ||
	    fail "cannot make an Ed25519 key"
	_tl_refuse 'TLS needs a certificate and a key' \
	    -frontend-tls-cert "$TL/server-ec.pem"
	_tl_refuse 'server-rsa\.key does not belong to .*server-ec\.pem' \
	    -frontend-tls-cert "$TL/server-ec.pem" \
	    -frontend-tls-key "$TL/server-rsa.key"
	_tl_refuse 'Ed25519 and Ed448 keys are not supported' \
	    -frontend-tls-cert "$TL/server-ec.pem" -frontend-tls-key ed.key
	_tl_refuse 'a CRL needs the CA it belongs to' \
	    -frontend-tls-cert "$TL/server-ec.pem" \
	    -frontend-tls-key "$TL/server-ec.key" \
	    -frontend-tls-crl "$TL/ca.crl"
	_tl_refuse 'protocols "tlsv1.1"' \
	    -frontend-tls-cert "$TL/server-ec.pem" \
	    -frontend-tls-key "$TL/server-ec.key" \
	    -frontend-tls-protocols tlsv1.1
	_tl_refuse 'TLS needs a tcp:// backend' \
	    -backend-tls-cacert "$TL/ca/ca.pem"
	_tl_refuse 'missing\.pem: No such file' \
	    -frontend-tls-cert "$TL/missing.pem" \
	    -frontend-tls-key "$TL/server-ec.key"
	_tl_refuse 'ciphers "NOSUCHCIPHER"' \
	    -frontend-tls-cert "$TL/server-ec.pem" \
	    -frontend-tls-key "$TL/server-ec.key" \
	    -frontend-tls-ciphers NOSUCHCIPHER
}

# The configuration file's words, and a reload that changes them.
t_tls_config_file() {
	local st serial

	tid "moatd.conf: listen on ... tls, backend ... tls; SIGHUP re-reads"
	_tl_certs
	TL_PORT=$(free_port)
	TL_ADDR=tcp://127.0.0.1:$TL_PORT
	_tl_conf() {
		cat >moatd.conf <<-CONF
		listen on "$TL_ADDR" tls certificate "$TL/server-$1.pem" \\
		    key "$TL/server-$1.key" ca "$TL/ca/ca.pem" \\
		    crl "$TL/ca.crl" protocols "tlsv1.2,tlsv1.3"
		backend "$RIG_TLS_HOST" tls ca "$RIG_TLS_DIR/ca.pem" \\
		    certificate "$RIG_TLS_DIR/client.pem" \\
		    key "$RIG_TLS_DIR/client.key"
		CONF
	}
	_tl_conf ec
	run_cmd "$MOATD" -nv -f moatd.conf
	expect_eq "$RC" 0 "moatd -nv -f moatd.conf (stderr: $ERR)"
	expect_match "$OUT" "listen on \"$TL_ADDR\" tls certificate \"$TL/server-ec.pem\" key \"$TL/server-ec.key\" ca \"$TL/ca/ca.pem\" crl \"$TL/ca.crl\" protocols \"tlsv1.2,tlsv1.3\"" \
	    "the listener as -nv prints it"
	expect_match "$OUT" "backend \"$RIG_TLS_HOST\" tls certificate \"$RIG_TLS_DIR/client.pem\" key \"$RIG_TLS_DIR/client.key\" ca \"$RIG_TLS_DIR/ca.pem\" hostname \"127.0.0.1\"" \
	    "the backend as -nv prints it"
	MOATD_WAIT=$TL_ADDR moatd_start -f moatd.conf
	st=$(_tl_curl alice /_ping)
	expect_eq "$st" 200 "alice, mTLS to moatd, TLS to dockerd"
	st=$(_tl_curl revoked /_ping)
	expect_eq "$st" 000 "a revoked certificate"
	_tl_sclient
	expect_match "$OUT" 'ignature type: ECDSA' "the ECDSA key first"

	_tl_conf rsa
	kill -HUP "$MOATD_PID"
	_tl_wait_log 'configuration 2 in effect' 5
	_tl_sclient
	expect_match "$OUT" 'ignature type: RSA-PSS' \
	    "the RSA key after the reload"
	st=$(_tl_curl alice /_ping)
	expect_eq "$st" 200 "alice after the reload"

	# A key that does not fit: the reload fails, the running set stays.
	sed -i "s|server-rsa.key|server-ec.key|" moatd.conf
	kill -HUP "$MOATD_PID"
	_tl_wait_log 'reload failed, keeping configuration 2' 5
	_tl_wait_log 'server-ec\.key does not belong to .*server-rsa\.pem'
	_tl_sclient
	expect_match "$OUT" 'ignature type: RSA-PSS' "still the RSA key"
}

# A ca that dies: its relay's handshakes fail until the parent restarts
# it (back-off 1 s) and hands both ends a new channel; then they work.
t_tls_ca_restart() {
	local old new i st ok out

	tid "kill -9 a ca: logged, restarted with its keys, handshakes again"
	_tl_start -prefork 1
	old=$(_tl_role ca)
	[ -n "$old" ] && [ "$(wc -w <<<"$old")" -eq 1 ] ||
	    fail "cas: [$old]"
	st=$(_tl_curl alice /_ping)
	expect_eq "$st" 200 "before"
	kill -KILL "$old"
	for ((i = 0; i < 100; i++)); do
		new=$(_tl_role ca)
		[ -n "$new" ] && [ "$new" != "$old" ] && break
		sleep 0.05
	done
	[ -n "$new" ] && [ "$new" != "$old" ] ||
	    fail "no new ca within 5 s"$'\n'"$(_moatd_logtail "$MOATD_LOG")"
	_tl_wait_log "lost child ca\[0\] \(pid $old\): killed by signal 9"
	moatd_rebase
	ok=0
	for ((i = 0; i < 40; i++)); do
		st=$(_tl_curl alice /_ping)
		[ "$st" = 200 ] && { ok=1; break; }
		sleep 0.1
	done
	expect_eq "$ok" 1 "a handshake after the restart ($st)"
	for ((i = 0; i < 4; i++)); do
		st=$(_tl_curl alice /_ping)
		expect_eq "$st" 200 "handshake $i after the restart"
	done
	out=$(python3 "$TL_SCAN" "$TL/server-ec.key" "$new") ||
	    fail "tls_memscan: $out"
	expect_match "$out" "^$new found: " "the key in the new ca"
}

# A full handshake waits for the ca's signature without holding up its
# relay: with the ca stopped (SIGSTOP), a client on a plain listener of
# the same relay (-prefork 1) is answered at once; once the ca goes on,
# longer than the old 5 s limit later, the handshake completes.
t_tls_async_ca() {
	local plain ca hs st pending hst

	tid "a handshake waiting for its ca does not hold up the relay"
	_tl_certs
	plain=$(free_port)
	TL_PORT=$(free_port)
	cat >moatd.conf <<-CONF
	listen on "tcp://127.0.0.1:$plain"
	listen on "tcp://127.0.0.1:$TL_PORT" tls \\
	    certificate "$TL/server-ec.pem" key "$TL/server-ec.key" \\
	    ca "$TL/ca/ca.pem"
	timeout head 30
	CONF
	MOATD_WAIT="tcp://127.0.0.1:$plain tcp://127.0.0.1:$TL_PORT" \
	    moatd_start -f moatd.conf -prefork 1 \
	    -backend-addr "unix://$RIG_SOCK"
	ca=$(_tl_role ca)
	[ -n "$ca" ] && [ "$(wc -w <<<"$ca")" -eq 1 ] || fail "cas: [$ca]"
	expect_eq "$(_tl_curl alice /_ping)" 200 "a handshake before"
	kill -STOP "$ca"
	# Results are taken with the ca stopped and checked once it runs.
	curl -s --max-time 40 -o /dev/null -w '%{http_code}' \
	    --cacert "$TL/ca/ca.pem" --cert "$TL/alice.pem" \
	    --key "$TL/alice.key" "https://127.0.0.1:$TL_PORT/_ping" \
	    >"$SCRATCH/hs.status" 2>"$SCRATCH/hs.err" &
	hs=$!
	sleep 1
	st=$(curl -s --max-time 3 -o /dev/null -w '%{http_code}' \
	    "http://127.0.0.1:$plain/_ping")
	kill -0 "$hs" 2>/dev/null && pending=1 || pending=0
	sleep 5
	kill -0 "$hs" 2>/dev/null || pending=0
	kill -CONT "$ca"
	wait "$hs"
	hst=$(cat "$SCRATCH/hs.status")
	expect_eq "$st" 200 "the plain client while the ca is stopped"
	expect_eq "$pending" 1 "the handshake waits while the ca is stopped"
	expect_eq "$hst" 200 "the handshake once the ca goes on" \
	    "$(cat "$SCRATCH/hs.err")"
	expect_eq "$(_tl_curl alice /_ping)" 200 "a handshake after"
	pass
}

# kTLS is asked for on every TLS listener: a kernel without it (no
# CONFIG_TLS) leaves the record layer to OpenSSL, and TLS works the same;
# either way the relay says which, once, at log level 7.
t_tls_ktls() {
	local v relay

	tid "kTLS is asked for, and without it TLS works as before"
	_tl_start -prefork 1 -log-level 7
	relay=$(_tl_role relay)
	for v in 1.2 1.3 1.2; do
		expect_eq "$(_tl_curl alice /_ping --tlsv$v --tls-max $v)" 200 \
		    "TLS $v: $(cat "$SCRATCH/curl.err")"
	done
	_tl_wait_log 'relay.*kernel TLS \(kTLS\): send (in the kernel|by OpenSSL), receive (in the kernel|by OpenSSL)'
	expect_eq "$(grep -c 'kernel TLS (kTLS)' "$MOATD_LOG")" 1 \
	    "the kTLS line, once"
	expect_eq "$(_tl_role relay)" "$relay" "the relay's pid"
	pass
}

# The relay's read(2) calls for 40 mutual-TLS requests on new connections
# and 200 on one kept-alive connection: with OpenSSL reading ahead, one
# read takes all the records that are there.  Reading a record at a time
# (header, then body) took 15 reads a handshake (617 for 40) and 3 a
# kept-alive request (612 for 200), the read of Docker's answer from the
# forwarder's stream included; now about 4 and 2.
t_tls_ktls_once() {
	local relay i failed

	tid "TLS: a kernel without kTLS is asked once, not at every handshake"
	command -v strace >/dev/null || fail "strace is not installed"
	_tl_start -prefork 1
	relay=$(_tl_role relay)
	expect_eq "$(_tl_curl alice /_ping)" 200 "a first ping"
	strace_start ktls.out -e trace=setsockopt -p "$relay"
	for ((i = 0; i < 10; i++)); do
		expect_eq "$(_tl_curl alice /_ping)" 200 "ping $i"
	done
	strace_stop
	# Where the kernel has the "tls" ULP the calls succeed and are
	# wanted; where it has not, only the first handshake may try.
	failed=$(grep -E 'TCP_ULP|SOL_TLS' ktls.out | grep -c '= -1')
	[ "$failed" = 0 ] || fail "$failed failed kTLS setsockopt calls" \
	    "after the first handshake:"$'\n'"$(cat ktls.out)"
	pass
}

t_tls_reads() {
	local relay i reads n

	tid "TLS: the relay reads all the records that are there at once"
	command -v strace >/dev/null || fail "strace is not installed"
	_tl_start -prefork 1
	relay=$(_tl_role relay)
	expect_eq "$(_tl_curl alice /_ping)" 200 "a first ping"
	strace_start strace.out -c -e trace=read -p "$relay"
	for ((i = 0; i < 40; i++)); do
		expect_eq "$(_tl_curl alice /_ping)" 200 "ping $i"
	done
	strace_stop
	reads=$(strace_calls strace.out read)
	# The handshake's client flight is one read, the request one, the
	# close one, and a read that finds nothing more: 4, where a record
	# at a time took 15.
	[ "${reads:-0}" -gt 0 ] && [ "$reads" -le $((40 * 6)) ] ||
	    fail "the relay made ${reads:-no} reads for 40 handshakes" \
	    "(at most 240 expected):"$'\n'"$(cat strace.out)"
	for ((i = 0; i < 200; i++)); do
		printf 'url = "https://127.0.0.1:%s/_ping"\noutput = "/dev/null"\n' \
		    "$TL_PORT"
	done >curl.conf
	strace_start strace2.out -c -e trace=read -p "$relay"
	n=$(curl -s --max-time 60 --cacert "$TL/ca/ca.pem" \
	    --cert "$TL/alice.pem" --key "$TL/alice.key" -K curl.conf \
	    -w '%{http_code}\n' | grep -c '^200$')
	strace_stop
	expect_eq "$n" 200 "200 kept-alive pings answered 200"
	reads=$(strace_calls strace2.out read)
	[ "${reads:-0}" -gt 0 ] && [ "$reads" -le 500 ] ||
	    fail "the relay made ${reads:-no} reads for 200 kept-alive" \
	    "requests (at most 500 expected):"$'\n'"$(cat strace2.out)"
	pass
}
