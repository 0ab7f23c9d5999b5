# A unix peer's container (daemon/cgroup.c, the relay's MSG_IDENT_PEER, the
# parent's /proc reading): two busybox containers (--network none) with
# moatd's unix socket bind-mounted, told apart by "match container id";
# a host process and a connection whose connector has exited get no
# container.  Busybox can reach no unix socket: regress/unixget.c, built
# static, is bind-mounted into the containers.  Sourced by regress/run.sh
# (helpers from regress/lib.sh).

CT_ROOT=$PWD

# Build unixget into $SCRATCH once per test.
_ct_unixget() {
	[ -x "$SCRATCH/unixget" ] && return 0
	cc -static -O2 -o "$SCRATCH/unixget" "$CT_ROOT/regress/unixget.c" \
	    2>"$SCRATCH/cc.err" || fail "cannot build unixget:" \
	    "$(cat "$SCRATCH/cc.err")"
}

# Start container $1 (sleep) with $SCRATCH/s, where moatd's socket is
# (or will be), at /s; print its id.  The caller registers its removal
# (on_exit does not work in $(...)).
_ct_run() {
	rig_docker run -d --network none --name "$1" \
	    -v "$SCRATCH/s:/s" -v "$SCRATCH/unixget:/unixget:ro" \
	    "$RIG_IMAGE" sleep 120 || fail "cannot start container $1"
}

# GET $2 from inside container $1 (from the host when $1 is "-"); sets
# STATUS and OUT (the body).  $3: "fork" (the connector forks and exits
# before its child sends the request).
_ct_get() {
	local ct=$1 path=$2 how=${3:-} cmd

	cmd="/unixget${how:+ -f} /s/m.sock $path | cat"
	if [ "$ct" = - ]; then
		run_cmd sh -c "$SCRATCH/unixget${how:+ -f} $SCRATCH/s/m.sock $path | cat"
	else
		run_cmd timeout 20 docker -H "$RIG_HOST" exec "$ct" sh -c "$cmd"
	fi
	[ "$RC" = 0 ] || fail "unixget $path in $ct: exit $RC: $ERR"
	STATUS=$(printf '%s\n' "$OUT" | sed -n '1s/^HTTP\/1\.[01] \([0-9]*\).*/\1/p')
	OUT=$(printf '%s\n' "$OUT" | sed '1,/^\r*$/d')
}

_ct_expect() {
	local ct=$1 path=$2 want=$3 body=${4:-} how=${5:-}

	_ct_get "$ct" "$path" "$how"
	expect_eq "$STATUS" "$want" "GET $path from $ct${how:+ ($how)}"
	[ -z "$body" ] || expect_eq "$OUT" "$body" \
	    "body of GET $path from $ct${how:+ ($how)}"
}

# Wait up to 3 s for a line of moatd's log matching the ERE $1.
_ct_logged() {
	local i

	for ((i = 0; i < 60; i++)); do
		grep -Eq -- "$1" "$MOATD_LOG" && return 0
		sleep 0.05
	done
	fail "moatd's log has no line matching /$1/"$'\n'"$(
	    _moatd_logtail "$MOATD_LOG")"
}

# Two containers (ids CT_A, CT_B), a client block for each by id (the
# whole id, and a 12-digit prefix); moatd on $SCRATCH/s/m.sock.
_ct_start() {
	local sock=$SCRATCH/s/m.sock

	_ct_unixget
	mkdir -p "$SCRATCH/s"
	on_exit rig_docker rm -f "ct_a_$$" "ct_b_$$"
	CT_A=$(_ct_run "ct_a_$$")
	CT_B=$(_ct_run "ct_b_$$")
	[[ $CT_A =~ ^[0-9a-f]{64}$ && $CT_B =~ ^[0-9a-f]{64}$ ]] ||
	    fail "container ids: [$CT_A] [$CT_B]"
	cat >c.conf <<EOF
listen on "unix://$sock"
backend "unix://$RIG_SOCK"
client "alpha" {
	match container id "$CT_A"
	rules "GET %API_PREFIX_CONTAINERS%/json"
}
client "beta" {
	match container id "${CT_B:0:12}"
	rules "GET %API_PREFIX_IMAGES%/json"
}
EOF
	MOATD_ADDRS=unix://$sock moatd_start -f c.conf "$@"
}

t_ct_two_containers() {
	tid "two containers on one unix socket get their own client blocks by id; the host gets the top level"
	_ct_start
	# each container its own rules, the other's a 403 naming it
	_ct_expect "ct_a_$$" /containers/json 200
	_ct_expect "ct_a_$$" /images/json 403 \
	    '{"message":"moatd: GET /images/json is not allowed for client alpha"}'
	_ct_expect "ct_b_$$" /images/json 200
	_ct_expect "ct_b_$$" /containers/json 403 \
	    '{"message":"moatd: GET /containers/json is not allowed for client beta"}'
	# the built-ins still apply in a block
	_ct_expect "ct_b_$$" /_ping 200 OK
	# a host process is in no container: the top level (built-ins only)
	_ct_expect - /_ping 200 OK
	_ct_expect - /containers/json 403 \
	    '{"message":"moatd: GET /containers/json is not allowed (no client block matched)"}'
	_ct_expect - /images/json 403 \
	    '{"message":"moatd: GET /images/json is not allowed (no client block matched)"}'
	_ct_logged 'client=alpha peer=[^ ]+ method=GET path=/containers/json verdict=allow'
	_ct_logged 'client=beta peer=[^ ]+ method=GET path=/containers/json verdict=deny'
	_ct_logged 'client=- peer=[^ ]+ method=GET path=/images/json verdict=deny'
	pass
}

t_ct_connector_gone() {
	tid "a connection whose connector exited before its first request (a fork) has no container"
	_ct_start
	# the child that sends is in the container too, but the process that
	# connected is gone: the top level, never a container's block
	_ct_expect "ct_a_$$" /containers/json 403 \
	    '{"message":"moatd: GET /containers/json is not allowed (no client block matched)"}' fork
	_ct_expect "ct_b_$$" /images/json 403 \
	    '{"message":"moatd: GET /images/json is not allowed (no client block matched)"}' fork
	_ct_expect "ct_a_$$" /_ping 200 OK fork
	# and the same connector that stays is its container's
	_ct_expect "ct_a_$$" /containers/json 200
	pass
}

t_ct_no_container_match() {
	tid "without a container match the relay asks nothing of the parent"
	_ct_unixget
	mkdir -p "$SCRATCH/s"
	on_exit rig_docker rm -f "ct_n_$$"
	_ct_run "ct_n_$$" >/dev/null
	cat >c.conf <<EOF
listen on "unix://$SCRATCH/s/m.sock"
backend "unix://$RIG_SOCK"
log level 7
client "root" {
	match unix uid 0
	rules "GET %API_PREFIX_IMAGES%/json"
}
EOF
	MOATD_ADDRS=unix://$SCRATCH/s/m.sock moatd_start -f c.conf
	_ct_expect "ct_n_$$" /images/json 200
	_ct_expect - /images/json 200
	grep -Eq 'unix peer pid|: container ' "$MOATD_LOG" &&
	    fail "the relay asked for a container:" \
	    "$(grep -E 'unix peer pid|: container ' "$MOATD_LOG")"
	pass
}

t_ct_reload() {
	local sock=$SCRATCH/s/m.sock ct=ct_r_$$ id ka i

	tid "a reload that brings a container match applies to the next request on a kept-alive connection"
	_ct_unixget
	mkdir -p "$SCRATCH/s"
	on_exit rig_docker rm -f "$ct"
	id=$(_ct_run "$ct")
	_conf() {
		cat >c.conf <<-EOF
		listen on "unix://$sock"
		backend "unix://$RIG_SOCK"
		$1
		client "root" {
			match unix uid 0
			rules "GET %API_PREFIX_IMAGES%/json"
		}
		EOF
	}
	_conf ""
	MOATD_ADDRS=unix://$sock moatd_start -f c.conf
	# one request under blocks without a container match (the facts
	# are made without one), the reload, the next on the same connection
	timeout 30 docker -H "$RIG_HOST" exec "$ct" sh -c \
	    "/unixget -w /s /s/m.sock /containers/json /containers/json" \
	    >ka.out 2>ka.err &
	ka=$!
	for ((i = 0; i < 200; i++)); do
		[ -e "$SCRATCH/s/ready" ] && break
		sleep 0.05
	done
	[ -e "$SCRATCH/s/ready" ] || fail "the first answer did not come:" \
	    "$(cat ka.err)"
	_conf "client \"alpha\" {
	match container id \"$id\"
	rules \"GET %API_PREFIX_CONTAINERS%/json\"
}"
	kill -HUP "$MOATD_PID"
	_ct_logged 'configuration 2 in effect'
	touch "$SCRATCH/s/go"
	wait "$ka" || fail "unixget: $(cat ka.err)"
	expect_match "$(sed -n 's/^HTTP\/1\.[01] \([0-9]*\).*/\1/p' ka.out | tr '\n' ' ')" \
	    '^403 200 $' "the answers before and after the reload"
	grep -q 'is not allowed for client root' ka.out ||
	    fail "the first 403 does not name client root: $(cat ka.out)"
	_ct_logged 'client=alpha peer=[^ ]+ method=GET path=/containers/json verdict=allow'
	# one connection: one peer pid for both
	expect_eq "$(grep -Eo 'client=(root|alpha) peer=unix:pid=[0-9]+,uid=0 method=GET path=/containers/json' "$MOATD_LOG" |
	    sed 's/.* peer=//; s/ method=.*//' | sort -u | wc -l)" 1 "connections"
	pass
}
