#!/usr/bin/env bash
#
# Copyright (c) 2026 The moatd developers
#
# Permission to use, copy, modify, and distribute this software for any
# purpose with or without fee is hereby granted, provided that the above
# copyright notice and this permission notice appear in all copies.
#
# THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES
# WITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF
# MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR
# ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES
# WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN
# ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF
# OR IN CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.
#
# regress/bench/tls.sh [SOCKET]: what TLS costs in moatd.  The TLS rows
# of "make bench": bench.sh calls it with its backend's UNIX socket;
# alone, it starts its own nginx (one worker, /_ping answers "OK").
#
# The same moatd (-prefork 2, sandboxed, -u nobody, -log-level 3, the
# built-in rules) runs three times in front of the socket: plain HTTP, TLS
# with an ECDSA P-256 key, TLS with an RSA 2048 key; every private key
# operation goes to a ca process.  Certificates come from
# regress/tlslib.sh (the openssl command).
#
#   latency p50   wrk -t1 -c1 -d2s --latency URL/_ping (kept alive)
#   req/s         wrk -t2 -c32 -d3s URL/_ping (kept alive)
#   new conns/s   wrk -t2 -c32 -d3s -H 'Connection: close' URL/_ping:
#                 a full TLS 1.3 handshake per request
#   mTLS hs/s     4 x openssl s_time -new -time 2 with a client
#                 certificate, summed: full mutual-TLS handshakes (the
#                 client verifying us and we it), 4 at a time; the
#                 clients' own signatures share the same cores
# wrk cannot send a client certificate: its rows use a TLS listener
# without a client CA, the s_time row one with.
#
# HAProxy (nbthread 2, http-reuse always, no log, like moatd at level 3)
# runs twice with the same certificates and keys on the same backend, as
# the reference: "hapx ec" (the ECDSA pair), "hapx rsa" (the RSA pair).
# Its rule is the built-in /_ping rule of moatd as a path regex, then
# "http-request deny".
#
# While the kept-alive req/s run of each moatd is under way (one second
# in), ss(8) counts its 32 connections per relay process: the last line
# gives that spread.
#
# Prints a table ("plain", "tls ec", "tls rsa", "hapx ec", "hapx rsa",
# tls ec / plain, tls ec / hapx ec and tls rsa / hapx rsa) to standard
# output; progress goes to standard error.  Environment: MOATD (the
# binary, default ./moatd).

set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MOATD=${MOATD:-$ROOT/moatd}
# shellcheck source=regress/tlslib.sh
. "$ROOT/regress/tlslib.sh"

T=$(mktemp -d "${TMPDIR:-/tmp}/moatd-bench-tls.XXXXXX") || exit 1
NGINX_PID=
MOATD_PID=
HAPROXY_PID=
PORT=
MPORT=

log() {
	printf 'bench tls: %s\n' "$*" >&2
}

stop_pid() {
	local pid=$1 i

	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 200; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

cleanup() {
	stop_pid "$MOATD_PID"
	stop_pid "$HAPROXY_PID"
	stop_pid "$NGINX_PID"
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

nginx_start() {
	SOCK=$T/nginx.sock
	cat >"$T/nginx.conf" <<-EOF
	daemon off;
	worker_processes 1;
	pid $T/nginx.pid;
	error_log $T/nginx.err;
	events { worker_connections 4096; }
	http {
		access_log off;
		server {
			listen unix:$SOCK;
			location = /_ping { return 200 "OK"; }
		}
	}
	EOF
	nginx -c "$T/nginx.conf" -p "$T" &
	NGINX_PID=$!
	for ((i = 0; i < 100; i++)); do
		[ -S "$SOCK" ] && return 0
		sleep 0.05
	done
	log "nginx did not start"
	return 1
}

certs() {
	local d=$T/certs

	tls_ca "$d/ca" "moatd bench CA" ec &&
	    tls_cert "$d/ca" "$d/ec" server "/CN=moatd bench" ec \
	    "IP:127.0.0.1" &&
	    tls_cert "$d/ca" "$d/rsa" server "/CN=moatd bench" rsa \
	    "IP:127.0.0.1" &&
	    tls_cert "$d/ca" "$d/client" client "/CN=bench client" ec \
	    "DNS:bench.example"
}

# moatd_up plain|ec|rsa: moatd in front of $SOCK, from a configuration
# file: $PORT plain or TLS without client certificates (for wrk, which
# cannot send one), and with TLS $MPORT with them (mutual TLS).
moatd_up() {
	local d=$T/certs i

	stop_pid "$MOATD_PID"
	PORT=$(free_port)
	MPORT=$(free_port)
	{
		echo "backend \"unix://$SOCK\""
		if [ "$1" = plain ]; then
			echo "listen on \"tcp://127.0.0.1:$PORT\""
		else
			echo "listen on \"tcp://127.0.0.1:$PORT\" tls" \
			    "certificate \"$d/$1.pem\" key \"$d/$1.key\""
			echo "listen on \"tcp://127.0.0.1:$MPORT\" tls" \
			    "certificate \"$d/$1.pem\" key \"$d/$1.key\"" \
			    "ca \"$d/ca/ca.pem\""
		fi
	} >"$T/moatd.conf"
	"$MOATD" -d -f "$T/moatd.conf" -prefork 2 -u nobody -log-level 3 \
	    >"$T/moatd.$1.log" 2>&1 &
	MOATD_PID=$!
	for ((i = 0; i < 100; i++)); do
		(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && return 0
		sleep 0.05
	done
	log "moatd ($1) did not start: $(tail -3 "$T/moatd.$1.log")"
	return 1
}

# haproxy_up ec|rsa: HAProxy with moatd's certificate of that key type,
# $PORT without and $MPORT with client certificates, both to $SOCK.
haproxy_up() {
	local d=$T/certs i

	stop_pid "$MOATD_PID"
	MOATD_PID=
	# The HAProxy of the other key type, if any: one at a time.
	stop_pid "$HAPROXY_PID"
	HAPROXY_PID=
	PORT=$(free_port)
	MPORT=$(free_port)
	cat "$d/$1.pem" "$d/$1.key" >"$T/hapx.pem"
	cat >"$T/haproxy.cfg" <<-EOF
	global
		nbthread 2
	defaults
		mode http
		timeout connect 5s
		timeout client 60s
		timeout server 60s
	frontend tls
		bind 127.0.0.1:$PORT ssl crt $T/hapx.pem
		http-request allow if { method GET HEAD } { path,url_dec -m reg ^(/v[0-9.]+)?/_ping\$ }
		http-request deny deny_status 403
		default_backend docker
	frontend mtls
		bind 127.0.0.1:$MPORT ssl crt $T/hapx.pem ca-file $d/ca/ca.pem verify required
		http-request allow if { method GET HEAD } { path,url_dec -m reg ^(/v[0-9.]+)?/_ping\$ }
		http-request deny deny_status 403
		default_backend docker
	backend docker
		http-reuse always
		server s $SOCK
	EOF
	haproxy -db -f "$T/haproxy.cfg" >"$T/haproxy.log" 2>&1 &
	HAPROXY_PID=$!
	for ((i = 0; i < 100; i++)); do
		(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && return 0
		sleep 0.05
	done
	log "haproxy did not start: $(tail -3 "$T/haproxy.log")"
	return 1
}

# wrk's figures: "p50 us" for --latency, else requests/s.
wrk_p50() {
	wrk -t1 -c1 -d2s --latency "$1" 2>/dev/null | awk '
	$1 == "50%" {
		v = $2
		if (v ~ /us$/) { sub(/us$/, "", v); print int(v) }
		else if (v ~ /ms$/) { sub(/ms$/, "", v); print int(v * 1000) }
		else if (v ~ /s$/) { sub(/s$/, "", v); print int(v * 1000000) }
	}'
}

wrk_rps() {
	local url=$1

	shift
	wrk "$@" "$url" 2>/dev/null | awk '
	/Non-2xx|Socket errors/ { bad = 1 }
	$1 == "Requests/sec:" { r = int($2) }
	END { print r (bad ? "*" : "") }'
}

# Full mutual-TLS handshakes per second, 4 clients at a time.
mtls_hs() {
	local d=$T/certs i total=0 n

	for ((i = 0; i < 4; i++)); do
		timeout 20 openssl s_time -connect "127.0.0.1:$MPORT" -new \
		    -time 2 -cert "$d/client.pem" -key "$d/client.key" \
		    -CAfile "$d/ca/ca.pem" >"$T/stime.$i" 2>&1 &
	done
	wait
	for ((i = 0; i < 4; i++)); do
		n=$(awk '/connections in [0-9]+ real seconds/ {
		    printf "%.0f", $1 / $4 }' "$T/stime.$i")
		total=$((total + ${n:-0}))
	done
	echo "$total"
}

# How the kept-alive connections are spread over moatd's relays, one
# second into the run, into file $1 ("20/12").
spread() {
	sleep 1
	ss -tnpH state established "( sport = :$PORT )" 2>/dev/null |
	    grep -o 'pid=[0-9]*' | sort | uniq -c | awk '{ print $1 }' |
	    sort -rn | paste -sd/ >"$1"
}

declare -A R

measure() {
	local k=$1 scheme=http sp=

	[ "$k" != plain ] && scheme=https
	case $k in
	hapx-*) haproxy_up "${k#hapx-}" || return 1 ;;
	*) moatd_up "$k" || return 1 ;;
	esac
	log "$k: latency"
	R[$k,lat]=$(wrk_p50 "$scheme://127.0.0.1:$PORT/_ping")
	log "$k: req/s"
	case $k in
	hapx-*) ;;
	*) spread "$T/spread.$k" & sp=$! ;;
	esac
	R[$k,rps]=$(wrk_rps "$scheme://127.0.0.1:$PORT/_ping" -t2 -c32 -d3s)
	[ -n "$sp" ] && wait "$sp"
	log "$k: new conns/s"
	R[$k,conn]=$(wrk_rps "$scheme://127.0.0.1:$PORT/_ping" -t2 -c32 \
	    -d3s -H 'Connection: close')
	if [ "$k" != plain ]; then
		log "$k: mutual-TLS handshakes/s"
		R[$k,mtls]=$(mtls_hs)
	else
		R[$k,mtls]=-
	fi
}

ratio() {
	awk -v a="${1%\*}" -v b="${2%\*}" 'BEGIN {
	    if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else print "-" }'
}

row() {
	printf '%-42s %7s %7s %7s %8s %8s %8s %7s %8s\n' "$1" \
	    "${R[plain,$2]}" "${R[ec,$2]}" "${R[rsa,$2]}" "${R[hapx-ec,$2]}" \
	    "${R[hapx-rsa,$2]}" \
	    "$(ratio "${R[ec,$2]}" "${R[plain,$2]}")" \
	    "$(ratio "${R[ec,$2]}" "${R[hapx-ec,$2]}")" \
	    "$(ratio "${R[rsa,$2]}" "${R[hapx-rsa,$2]}")"
}

if [ $# -ge 1 ]; then
	SOCK=$1
else
	nginx_start || exit 1
fi
[ -x "$MOATD" ] || { log "$MOATD: no binary (make)"; exit 1; }
certs 2>"$T/certs.err" || { log "certificates: $(cat "$T/certs.err")";
    exit 1; }
for k in plain ec rsa hapx-ec hapx-rsa; do
	measure "$k" || exit 1
done
stop_pid "$MOATD_PID"
MOATD_PID=
stop_pid "$HAPROXY_PID"
HAPROXY_PID=

printf '%-42s %7s %7s %7s %8s %8s %8s %7s %8s\n' "TLS (moatd -prefork 2)" \
    plain "tls ec" "tls rsa" "hapx ec" "hapx rsa" "ec/plain" "ec/hapx" \
    "rsa/hapx"
row "/_ping latency p50, 1 conn (us)" lat
row "/_ping req/s, 32 conns, kept alive" rps
row "new conns/s (Connection: close)" conn
row "mutual-TLS handshakes/s (4 x s_time -new)" mtls
echo "tls: TLS 1.3, X25519; key operations by the ca processes;" \
    "* = socket errors or non-2xx"
printf 'tls: the 32 connections of the kept-alive req/s run over the moatd'
printf ' relays: plain %s, ec %s, rsa %s\n' "$(cat "$T/spread.plain")" \
    "$(cat "$T/spread.ec")" "$(cat "$T/spread.rsa")"
