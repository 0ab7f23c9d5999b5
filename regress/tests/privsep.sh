# Privilege separation under attack: a relay taken over (build-evil's
# moatd-evil, whose relay runs regress/evil.c inside its sandbox) against
# the recording backend, and where the Docker descriptors live while an
# ordinary session runs.  Sourced by regress/run.sh.

PS_ROOT=$PWD
PS_EVIL=${MOATD_EVIL:-$PS_ROOT/build-evil/moatd-evil}

# fakedocker on $SCRATCH/fd.sock, recording in $SCRATCH/fd.
_ps_fake() {
	fakedocker_start "$PS_ROOT"
}

# Wait up to $2 seconds for the log to match $1.
_ps_wait_log() {
	local i

	for ((i = 0; i < $2 * 10; i++)); do
		grep -Eq -- "$1" "$MOATD_LOG" && return 0
		sleep 0.1
	done
	fail "no log line matching '$1' within $2 s"$'\n'"$(
	    _moatd_logtail "$MOATD_LOG")"
}

_ps_log_has() {
	expect_match "$(cat "$MOATD_LOG")" "$1" "$2"
}

t_privsep_compromised_relay() {
	tid "a relay taken over gets nothing its rules do not give"
	local port log raw events n

	[ -x "$PS_EVIL" ] || fail "$PS_EVIL: not built (make build-evil/moatd-evil)"
	_tl_certs
	_ps_fake
	port=$(free_port)
	printf '%s\n' 'POST %API_PREFIX_CONTAINERS%/%CONTAINER_ID_OR_NAME%/(wait|attach)' \
	    'POST %API_PREFIX_CONTAINERS%/create' >"$SCRATCH/rules"
	chmod 0644 "$SCRATCH/rules"
	MOATD=$PS_EVIL moatd_start -prefork 1 \
	    -frontend-addr "tcp://127.0.0.1:$port" \
	    -backend-addr "unix://$SCRATCH/fd.sock" \
	    -frontend-tls-cert "$TL/server-rsa.pem" \
	    -frontend-tls-key "$TL/server-rsa.key" \
	    -frontend-tls-cacert "$TL/ca/ca.pem" \
	    -rules-file "$SCRATCH/rules"
	# A handshake: the relay's ca now has a key the relay can name.
	expect_eq "$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' \
	    --cacert "$TL/ca/ca.pem" --cert "$TL/alice.pem" \
	    --key "$TL/alice.key" "https://127.0.0.1:$port/_ping")" 200 \
	    "a client before the take-over"
	# It keeps a reusable approval across a reload (it does not ack it).
	_ps_wait_log 'evil: waiting for a reload' 40
	kill -HUP "$MOATD_PID"
	_ps_wait_log 'evil: done' 40
	_ps_wait_log 'relay\[0\]: sent BACKEND_REQ, which it may not: killing it' 10
	log=$(cat "$MOATD_LOG")
	_ps_log_has 'evil: before: [0-9]+ connected sockets' "the fd scan ran"
	case $log in
	*"is connected to $SCRATCH/fd.sock"*)
		fail "a relay descriptor is connected to Docker's socket" ;;
	esac
	_ps_log_has 'evil: genuine approval: Docker answered' \
	    "an approval used once works (the harness is sound)"
	_ps_log_has 'evil: replayed approval: stream closed' "a replay"
	_ps_log_has 'relay\[0\]: session [0-9]+: an approval used before \(replay\); stream closed' \
	    "the forwarder's word on the replay"
	_ps_log_has 'evil: forged head: stream closed' "a forged head"
	_ps_log_has 'a head the policy worker did not approve; stream closed' \
	    "the forwarder's word on the forgery"
	_ps_log_has 'evil: body beyond its length: stream closed' \
	    "a body that frames a second request"
	_ps_log_has 'body bytes beyond Content-Length; stream closed' \
	    "the forwarder's word on the long body"
	_ps_log_has 'evil: chunk that frames a request: Docker answered one request' \
	    "a chunk that holds a request"
	_ps_log_has 'evil: checked body: Docker answered' \
	    "a body the policy worker checked goes (the harness is sound)"
	_ps_log_has 'evil: checked body swapped: stream closed' \
	    "a checked approval with another body"
	_ps_log_has 'a body other than the one the policy worker checked; stream closed' \
	    "the forwarder's word on the swapped body"
	_ps_log_has 'evil: checked approval as an unchecked one: stream closed' \
	    "a checked approval passed off as a plain one"
	_ps_log_has 'evil: head of a body not yet checked: stream closed' \
	    "a body endpoint's head with no approval"
	grep -q Privileged "$SCRATCH/fd/all.raw" &&
	    fail "the swapped body reached Docker"
	_ps_log_has 'evil: upgrade answered: 200' "Docker refused an upgrade"
	_ps_log_has 'evil: raw bytes after a 200: stream closed' \
	    "raw bytes after the 200"
	_ps_log_has 'raw bytes (after Docker refused the upgrade|before Docker upgraded); stream closed' \
	    "the forwarder's word on the raw bytes"
	_ps_log_has 'evil: raw bytes after a 101: echoed' \
	    "a genuine upgrade still pipes"
	_ps_log_has 'evil: reusable approval twice: Docker answered twice' \
	    "a reusable approval, used again (the harness is sound)"
	_ps_log_has 'evil: reusable approval with a body: stream closed' \
	    "a reusable approval for a head with a body"
	_ps_log_has 'evil: reusable approval as an upgrade: stream closed' \
	    "a reusable approval for an upgrade"
	_ps_log_has 'a reusable approval for a body or an upgrade; stream closed' \
	    "the forwarder's word on them"
	_ps_log_has 'evil: reusable proof as a single-use one: stream closed' \
	    "a reusable proof with a single-use counter"
	_ps_log_has 'evil: single-use proof as a reusable one: stream closed' \
	    "a single-use proof with a reusable counter"
	_ps_log_has 'evil: reusable approval after a reload: stream closed' \
	    "a reusable approval kept across a reload"
	_ps_log_has 'relay\[0\]: session [0-9]+: a reusable approval of configuration 1, now 2; stream closed' \
	    "the forwarder's word on the old one"
	_ps_log_has 'forwarder\[0\]: relay\[0\] took more than [0-9]+ ms to load configuration 2' \
	    "the parent did not wait for the relay"
	_ps_log_has 'evil: reusable approval of the new rules: Docker answered' \
	    "a reusable approval of the new rules (the harness is sound)"
	_ps_log_has 'evil: raw RSA from the ca: refused' "raw RSA"
	_ps_log_has 'relay\[0\]: not signed: not a signature over a digest' \
	    "the ca's word on raw RSA"
	case $log in
	*"Docker connection from the parent: GIVEN"*)
		fail "the parent gave the relay a Docker connection" ;;
	esac
	_ps_log_has 'evil: after: [0-9]+ connected sockets' "the second fd scan"
	# What reached Docker: the genuine requests, nothing smuggled.
	events=$(cat "$SCRATCH/fd/events")
	raw=$(tr -d '\0' <"$SCRATCH/fd/all.raw")
	case $events in
	*evil-*) fail "a smuggled request reached Docker:"$'\n'"$events" ;;
	esac
	case $raw in
	*"POST /containers/create"*) fail "the forged head reached Docker" ;;
	*evil-smuggled*) fail "the long body's extra bytes reached Docker" ;;
	*evil-raw*) fail "raw bytes after the 200 reached Docker" ;;
	esac
	# The chunked request, and the long body's approved head if it left
	# before the stream closed (its body never did: no evil-smuggled).
	n=$(grep -c ' POST /containers/evil/wait$' <<<"$events")
	[ "$n" -ge 1 ] && [ "$n" -le 2 ] ||
	    fail "$n requests to the approved body endpoint:"$'\n'"$events"
	# The forwarder's own chunk line (0x2c: 44 bytes) frames it as data.
	grep -q $'2c\r\n0\r\n\r\nGET /evil-chunked' "$SCRATCH/fd/all.raw" ||
	    fail "the chunk did not go as one chunk of data"$'\n'"$raw"
	# The relay comes back and serves.
	_ps_wait_log 'restarting relay\[0\]' 10
	moatd_rebase
	sleep 2
	moatd_rebase
	expect_eq "$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' \
	    --cacert "$TL/ca/ca.pem" --cert "$TL/alice.pem" \
	    --key "$TL/alice.key" "https://127.0.0.1:$port/_ping")" 200 \
	    "a client after the relay was replaced"
	pass
}

# The pids holding a connection to unix socket $1, one per line: the
# daemon's end of each connection is bound to the path, and its peer's
# inode is the client end, whose owner ss names.
_ps_docker_holders() {
	ss -xpn 2>/dev/null | awk -v path="$1" '
	{ local_addr = $5; local_port = $6; peer_port = $8 }
	local_addr == path && peer_port != "*" { want[peer_port] = 1 }
	{ line[local_port] = $0 }
	END {
		for (i in want) {
			l = line[i]
			while (match(l, /pid=[0-9]+/)) {
				print substr(l, RSTART + 4, RLENGTH - 4)
				l = substr(l, RSTART + RLENGTH)
			}
		}
	}' | sort -u
}

t_privsep_docker_fds() {
	tid "during docker run -i and logs -f, only forwarders hold Docker connections"
	local holders p title fwd=0 fifo=$SCRATCH/stdin

	_px_start -prefork 2 -rules-file "$PX_FULL"
	on_exit rig_docker rm -f ps_stdin ps_logs
	mkfifo "$fifo"
	# stdin stays open (the fifo's writer sleeps): the hijack lasts.
	sleep 30 >"$fifo" &
	on_exit kill $!
	_px_docker run -i --rm --network none --name ps_stdin "$RIG_IMAGE" \
	    cat <"$fifo" >/dev/null 2>&1 &
	on_exit kill $!
	rig_docker run -d --network none --name ps_logs "$RIG_IMAGE" \
	    sh -c 'while :; do echo tick; sleep 1; done' >/dev/null ||
	    fail "cannot start a container on the rig"
	_px_docker logs -f ps_logs >/dev/null 2>&1 &
	on_exit kill $!
	for ((i = 0; i < 100; i++)); do
		[ "$(rig_docker inspect -f '{{.State.Running}}' ps_stdin \
		    2>/dev/null)" = true ] && break
		sleep 0.1
	done
	sleep 1
	holders=$(_ps_docker_holders "$RIG_SOCK")
	for p in $holders; do
		[ "$(ps -o ppid= -p "$p" | tr -d ' ')" = "$MOATD_PID" ] || continue
		title=$(tr '\0' ' ' </proc/"$p"/cmdline)
		case $title in
		"moatd: forwarder["*) fwd=$((fwd + 1)) ;;
		*) fail "$title (pid $p) holds a Docker connection" ;;
		esac
	done
	[ "$fwd" -ge 1 ] || fail "no forwarder holds a Docker connection" \
	    "(holders: $holders)"
	pass
}
