# A unix peer's container (daemon/cgroup.c, the relay's MSG_IDENT_PEER, the
# parent's /proc reading): two busybox containers (--network none) with
# moatd's unix socket bind-mounted, told apart by "match container id";
# a host process and a connection whose connector has exited get no
# container.  Busybox can reach no unix socket: regress/unixget.c, built
# static, is bind-mounted into the containers, and so is the host's
# docker CLI (static too).
#
# The container table (the watcher, policy/ctable.c): the same containers
# told apart by "match container name" and "match container label",
# after a rename and after a name is taken by a new container; TCP peers
# on a user-defined bridge network mapped to their container by address;
# while the daemon is away the table is empty and name blocks fail
# closed.  Changes reach moatd through the daemon's event stream: the
# tests wait for them (a bounded poll), they never assert a delay.
# Sourced by regress/run.sh (helpers from regress/lib.sh).

CT_ROOT=$PWD

# Build unixget into $SCRATCH once per test.
_ct_unixget() {
	[ -x "$SCRATCH/unixget" ] && return 0
	cc -static -O2 -o "$SCRATCH/unixget" "$CT_ROOT/regress/unixget.c" \
	    2>"$SCRATCH/cc.err" || fail "cannot build unixget:" \
	    "$(cat "$SCRATCH/cc.err")"
}

# Start container $1 (sleep) with $SCRATCH/s, where moatd's socket is
# (or will be), at /s, and unixget and the docker CLI; print its id.  $2
# and on: more "docker run" options (labels).  The caller registers its
# removal (on_exit does not work in $(...)).
_ct_run() {
	local name=$1

	shift
	rig_docker run -d --network none --name "$name" \
	    -v "$SCRATCH/s:/s" -v "$SCRATCH/unixget:/unixget:ro" \
	    -v "$(command -v docker):/docker:ro" "$@" \
	    "$RIG_IMAGE" sleep 300 || fail "cannot start container $name"
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


# Poll GET $2 from container $1 until it answers $3 (CT_WAIT seconds at
# most, 15 by default): what the daemon says of its containers reaches
# moatd through its event stream, a moment after the change.  Then, as
# _ct_expect, the body $4.
_ct_until() {
	local ct=$1 path=$2 want=$3 body=${4:-} deadline

	deadline=$((EPOCHSECONDS + ${CT_WAIT:-15}))
	while :; do
		_ct_get "$ct" "$path"
		[ "$STATUS" = "$want" ] && break
		[ "$EPOCHSECONDS" -lt "$deadline" ] || break
		sleep 0.1
	done
	expect_eq "$STATUS" "$want" \
	    "GET $path from $ct (waited up to ${CT_WAIT:-15} s)"
	[ -z "$body" ] || expect_eq "$OUT" "$body" "body of GET $path from $ct"
}

# The docker CLI in container $1, on moatd's unix socket (or on $CT_DH):
# sets RC, OUT and ERR.
_ct_cli() {
	local ct=$1

	shift
	run_cmd timeout 30 docker -H "$RIG_HOST" exec \
	    -e DOCKER_CONFIG=/tmp/.docker "$ct" \
	    /docker -H "${CT_DH:-unix:///s/m.sock}" "$@"
}

# moatd on $SCRATCH/s/m.sock, the top level the built-ins only, with the
# client blocks $1 (and moatd options $2...).
_ct_moatd() {
	local sock=$SCRATCH/s/m.sock

	printf 'listen on "unix://%s"\nbackend "unix://%s"\n%s\n' \
	    "$sock" "$RIG_SOCK" "$1" >c.conf
	shift
	MOATD_ADDRS=unix://$sock moatd_start -f c.conf "$@"
}

# The bodies of a block's 403 and of the top level's.
_ct_denied() {
	printf '{"message":"moatd: GET %s is not allowed for client %s"}' \
	    "$1" "$2"
}

_ct_toplevel() {
	printf '{"message":"moatd: GET %s is not allowed %s"}' "$1" \
	    "(no client block matched)"
}

t_ct_by_name() {
	local a=ct_a_$$ b=ct_b_$$ c=ct_a_${$}_x

	tid "containers told apart by name: each its block, the wrong one a 403 naming it; a name it only begins with, and the host, the top level"
	_ct_unixget
	mkdir -p "$SCRATCH/s"
	on_exit rig_docker rm -f "$a" "$b" "$c"
	_ct_run "$a" >/dev/null
	_ct_run "$b" >/dev/null
	_ct_run "$c" >/dev/null
	# a name with its leading '/', as the API shows it, and without
	_ct_moatd "client \"alpha\" {
	match container name \"$a\"
	rules \"GET %API_PREFIX_CONTAINERS%/json\"
}
client \"beta\" {
	match container name \"/$b\"
	rules \"GET %API_PREFIX_IMAGES%/json\"
}"
	# the table comes with the daemon's first list, after moatd starts
	_ct_until "$a" /containers/json 200
	_ct_expect "$a" /images/json 403 "$(_ct_denied /images/json alpha)"
	_ct_expect "$b" /images/json 200
	_ct_expect "$b" /containers/json 403 \
	    "$(_ct_denied /containers/json beta)"
	_ct_expect "$b" /_ping 200 OK
	_ct_expect "$c" /containers/json 403 "$(_ct_toplevel /containers/json)"
	_ct_expect "$c" /images/json 403 "$(_ct_toplevel /images/json)"
	_ct_expect - /containers/json 403 "$(_ct_toplevel /containers/json)"

	# the docker CLI in them: its own rights, the other's a 403 it shows
	_ct_cli "$a" ps --format '{{.Names}}'
	expect_eq "$RC" 0 "docker ps in $a ($ERR)"
	expect_eq "$(sort <<<"$OUT")" "$(printf '%s\n' "$a" "$b" "$c" | sort)" \
	    "docker ps in $a"
	_ct_cli "$a" images
	expect_match "$ERR" \
	    "moatd: GET /v1\.[0-9]+/images/json is not allowed for client alpha" \
	    "docker images in $a"
	_ct_cli "$b" images -q
	expect_eq "$RC" 0 "docker images in $b ($ERR)"
	# nor can one take another's name through moatd
	_ct_cli "$b" rename "$b" "ct_z_$$"
	expect_match "$ERR" \
	    "moatd: POST /v1\.[0-9]+/containers/$b/rename(\?[^ ]*)? is not allowed for client beta" \
	    "docker rename in $b"
	_ct_logged "client=alpha peer=unix:[^ ]+ method=GET path=/containers/json verdict=allow"
	_ct_logged "client=beta peer=unix:[^ ]+ method=GET path=/containers/json verdict=deny"
	_ct_logged "client=- peer=unix:[^ ]+ method=GET path=/images/json verdict=deny"
	pass
}

# A container's labels, as JSON.
_ct_labels() {
	rig_docker inspect -f '{{json .Config.Labels}}' "$1"
}

t_ct_by_label() {
	local a=ct_a_$$ b=ct_b_$$ c=ct_c_$$ la lb

	tid "containers told apart by label (key=value, and a key alone); a label cannot be set after start, not even by the daemon's own update call"
	_ct_unixget
	mkdir -p "$SCRATCH/s"
	on_exit rig_docker rm -f "$a" "$b" "$c"
	_ct_run "$a" --label moatd.test.role=viewer >/dev/null
	_ct_run "$b" --label moatd.test.role=builder --label moatd.test.ci \
	    >/dev/null
	# a value it only begins with, a key it only begins with
	_ct_run "$c" --label moatd.test.role=viewer2 --label moatd.test.cix=1 \
	    >/dev/null
	_ct_moatd "client \"viewer\" {
	match container label \"moatd.test.role=viewer\"
	rules \"GET %API_PREFIX_CONTAINERS%/json\"
}
client \"ci\" {
	match container label \"moatd.test.ci\"
	rules \"GET %API_PREFIX_IMAGES%/json\"
}"
	_ct_until "$a" /containers/json 200
	_ct_expect "$a" /images/json 403 "$(_ct_denied /images/json viewer)"
	_ct_expect "$b" /images/json 200
	_ct_expect "$b" /containers/json 403 \
	    "$(_ct_denied /containers/json ci)"
	_ct_expect "$c" /containers/json 403 "$(_ct_toplevel /containers/json)"
	_ct_expect "$c" /images/json 403 "$(_ct_toplevel /images/json)"

	# Labels are fixed when a container is created: the CLI's update has
	# no option for them, and the daemon's update call, made with all of
	# Docker's power (on its own socket), leaves them as they are.
	la=$(_ct_labels "$a")
	lb=$(_ct_labels "$b")
	run_cmd rig_docker container update --label moatd.test.role=viewer "$b"
	expect_match "$RC $ERR" "^[1-9][0-9]* .*unknown flag: --label" \
	    "docker container update --label"
	run_cmd curl -sS --max-time 10 --unix-socket "$RIG_SOCK" \
	    -H 'Content-Type: application/json' \
	    -d '{"Labels":{"moatd.test.role":"viewer"},"Memory":0}' \
	    "http://docker/containers/$b/update"
	expect_eq "$(_ct_labels "$b")" "$lb" \
	    "$b's labels after an update that names labels (it said: $OUT)"
	expect_eq "$(_ct_labels "$a")" "$la" "$a's labels"
	# and moatd, which the update's event makes list again, says the same
	_ct_expect "$b" /containers/json 403 \
	    "$(_ct_denied /containers/json ci)"
	_ct_expect "$b" /images/json 200
	_ct_logged "client=viewer peer=unix:[^ ]+ method=GET path=/containers/json verdict=allow"
	_ct_logged "client=ci peer=unix:[^ ]+ method=GET path=/containers/json verdict=deny"
	pass
}

t_ct_rename() {
	local a=ct_a_$$ b=ct_b_$$ x y ka i

	tid "after docker rename a b, the next request (a kept-alive connection's too) gets b's block; a new container named a gets a's"
	_ct_unixget
	mkdir -p "$SCRATCH/s"
	on_exit rig_docker rm -f "$a" "$b"
	x=$(_ct_run "$a")
	_ct_moatd "client \"alpha\" {
	match container name \"$a\"
	rules \"GET %API_PREFIX_CONTAINERS%/json\"
}
client \"beta\" {
	match container name \"$b\"
	rules \"GET %API_PREFIX_IMAGES%/json\"
}"
	_ct_until "$a" /containers/json 200
	_ct_expect "$a" /images/json 403 "$(_ct_denied /images/json alpha)"
	# a connection that asks once as alpha (an answer of one container,
	# which unixget reads whole), then waits
	timeout 40 docker -H "$RIG_HOST" exec "$a" sh -c \
	    "/unixget -w /s /s/m.sock '/containers/json?limit=1' /containers/json" \
	    >ka.out 2>ka.err &
	ka=$!
	for ((i = 0; i < 200; i++)); do
		[ -e "$SCRATCH/s/ready" ] && break
		sleep 0.05
	done
	[ -e "$SCRATCH/s/ready" ] || fail "the first answer did not come:" \
	    "$(cat ka.err)"

	run_cmd rig_docker rename "$a" "$b"
	expect_eq "$RC" 0 "docker rename ($ERR)"
	# the same container (same id, same processes), now b: a new
	# connection once the table has it, then the kept-alive one's next
	# request
	_ct_until "$b" /images/json 200
	_ct_expect "$b" /containers/json 403 \
	    "$(_ct_denied /containers/json beta)"
	touch "$SCRATCH/s/go"
	wait "$ka" || fail "unixget: $(cat ka.err)"
	expect_match "$(sed -n 's/^HTTP\/1\.[01] \([0-9]*\).*/\1/p' ka.out |
	    tr '\n' ' ')" '^200 403 $' \
	    "the answers on the kept-alive connection, before and after"
	grep -qF "$(_ct_denied /containers/json beta)" ka.out ||
	    fail "the second answer does not name client beta: $(cat ka.out)"

	# a is free again: a new container takes it, and alpha's block
	y=$(_ct_run "$a")
	[ "$x" != "$y" ] || fail "the same id twice: $x"
	_ct_until "$a" /containers/json 200
	_ct_expect "$a" /images/json 403 "$(_ct_denied /images/json alpha)"
	_ct_expect "$b" /images/json 200
	_ct_logged "client=beta peer=unix:[^ ]+ method=GET path=/containers/json verdict=deny"
	pass
}

t_ct_name_reuse() {
	local a=ct_a_$$ b=ct_b_$$ x y

	tid "a container removed and another created with its name: the new one gets the name's block, and nothing of the old one's"
	_ct_unixget
	mkdir -p "$SCRATCH/s"
	on_exit rig_docker rm -f "$a" "$b"
	x=$(_ct_run "$a")
	_ct_run "$b" --label moatd.test.gen=1 >/dev/null
	_ct_moatd "client \"alpha\" {
	match container name \"$a\"
	rules \"GET %API_PREFIX_CONTAINERS%/json\"
}
client \"gen1\" {
	match container label \"moatd.test.gen=1\"
	rules \"GET %API_PREFIX_IMAGES%/json\"
}"
	_ct_until "$a" /containers/json 200
	_ct_expect "$b" /images/json 200
	# b's name goes to a container without b's label: the top level
	run_cmd rig_docker rm -f "$b"
	expect_eq "$RC" 0 "docker rm -f $b ($ERR)"
	_ct_run "$b" --label moatd.test.gen=2 >/dev/null
	_ct_until "$b" /images/json 403 "$(_ct_toplevel /images/json)"
	# a's name goes to a new container: alpha's block
	run_cmd rig_docker rm -f "$a"
	expect_eq "$RC" 0 "docker rm -f $a ($ERR)"
	run_cmd rig_docker inspect "$x"
	[ "$RC" != 0 ] || fail "container $x is still there"
	y=$(_ct_run "$a")
	[ "$x" != "$y" ] || fail "the same id twice: $x"
	_ct_until "$a" /containers/json 200
	_ct_expect "$a" /images/json 403 "$(_ct_denied /images/json alpha)"
	pass
}

# A user-defined bridge network on the rig's engine.  The engine runs
# with --bridge=none --iptables=false: that only drops the default
# "bridge" network and the NAT rules; a network made with "docker network
# create" still gets its bridge, with the gateway address on the host,
# and a container reaches the host there without NAT.  A fixed subnet,
# from the benchmarking range (RFC 2544), so that a test can choose a
# container's address.  Sets CT_NET and CT_GW.
_ct_network() {
	CT_NET=ctn_$$
	CT_GW=198.18.13.1
	on_exit _ct_network_rm "$CT_NET"
	run_cmd rig_docker network create --subnet 198.18.13.0/24 \
	    --gateway "$CT_GW" "$CT_NET"
	[ "$RC" = 0 ] || fail "docker network create: $ERR"
}

# Remove network $1 and its containers first (a network with one
# attached cannot go).
_ct_network_rm() {
	local ids

	ids=$(rig_docker ps -aq --filter "network=$1")
	[ -z "$ids" ] || rig_docker rm -f $ids
	rig_docker network rm "$1"
}

# Container $1 on $CT_NET at address $2, with the docker CLI.
_ct_run_net() {
	rig_docker run -d --network "$CT_NET" --ip "$2" --name "$1" \
	    -v "$(command -v docker):/docker:ro" \
	    "$RIG_IMAGE" sleep 300 >/dev/null ||
	    fail "cannot start container $1"
}

# Busybox wget in container $1 of http://$CT_GW:$CT_PORT$2: sets RC, OUT
# (the body) and ERR.
_ct_wget() {
	run_cmd timeout 20 docker -H "$RIG_HOST" exec "$1" \
	    wget -q -O - "http://$CT_GW:$CT_PORT$2"
}

# Poll (15 s at most) until wget in $1 of $2 succeeds ($3 0) or fails
# ($3 1).
_ct_wget_until() {
	local deadline

	deadline=$((EPOCHSECONDS + 15))
	while :; do
		_ct_wget "$1" "$2"
		[ "$((RC != 0))" = "$3" ] && return 0
		[ "$EPOCHSECONDS" -lt "$deadline" ] || break
		sleep 0.1
	done
	fail "wget $2 in $1: still exit $RC after 15 s: $ERR"$'\n'"$(
	    _moatd_logtail "$MOATD_LOG")"
}

t_ct_tcp_network() {
	local web=ct_web_$$ other=ct_other_$$ new=ct_new_$$ CT_PORT CT_DH

	tid "TCP peers on a bridge network, known by their address: a name block for one; one without a block, the host and a new container on a reused address get the top level"
	_ct_network
	CT_PORT=$(free_port)
	CT_DH=tcp://$CT_GW:$CT_PORT
	on_exit rig_docker rm -f "$web" "$other" "$new"
	_ct_run_net "$web" 198.18.13.10
	_ct_run_net "$other" 198.18.13.11
	printf '%s\n' "listen on \"$CT_DH\"" "backend \"unix://$RIG_SOCK\"" \
	    "client \"web\" {" "	match container name \"$web\"" \
	    "	rules \"GET %API_PREFIX_CONTAINERS%/json\"" "}" >c.conf
	MOATD_ADDRS=$CT_DH moatd_start -f c.conf

	_ct_wget_until "$web" /containers/json 0
	[[ $OUT == *"\"/$web\""* ]] ||
	    fail "wget /containers/json in $web: $OUT"
	_ct_wget "$web" /images/json
	expect_match "$RC $ERR" "^1 .*403 Forbidden" "wget /images/json in $web"
	_ct_cli "$web" ps --format '{{.Names}}'
	expect_eq "$RC" 0 "docker ps in $web ($ERR)"
	expect_eq "$(sort <<<"$OUT")" "$(printf '%s\n' "$web" "$other" |
	    sort)" "docker ps in $web"
	_ct_cli "$web" images
	expect_match "$ERR" \
	    "moatd: GET /v1\.[0-9]+/images/json is not allowed for client web" \
	    "docker images in $web"

	_ct_wget "$other" /_ping
	expect_eq "$RC:$OUT" 0:OK "wget /_ping in $other ($ERR)"
	_ct_wget "$other" /containers/json
	expect_match "$RC $ERR" "^1 .*403 Forbidden" \
	    "wget /containers/json in $other"
	_ct_cli "$other" ps
	expect_match "$ERR" \
	    "moatd: GET /v1\.[0-9]+/containers/json is not allowed \(no client block matched\)" \
	    "docker ps in $other"
	# the host reaches the gateway from the gateway's own address
	expect_status 403 "http://$CT_GW:$CT_PORT/containers/json"
	expect_eq "$(cat "$BODY")" "$(_ct_toplevel /containers/json)" \
	    "the host's answer"
	_ct_logged "client=web peer=198\.18\.13\.10:[0-9]+ method=GET path=/containers/json verdict=allow"
	_ct_logged "client=- peer=198\.18\.13\.11:[0-9]+ method=GET path=/containers/json verdict=deny"
	_ct_logged "client=- peer=198\.18\.13\.1:[0-9]+ method=GET path=/containers/json verdict=deny"

	# the address goes to a new container without a block: once the
	# table has it, the removed container's block goes with it
	run_cmd rig_docker rm -f "$web"
	expect_eq "$RC" 0 "docker rm -f $web ($ERR)"
	_ct_run_net "$new" 198.18.13.10
	_ct_wget_until "$new" /containers/json 1
	expect_match "$ERR" "403 Forbidden" "wget /containers/json in $new"
	_ct_cli "$new" ps
	expect_match "$ERR" \
	    "moatd: GET /v1\.[0-9]+/containers/json is not allowed \(no client block matched\)" \
	    "docker ps in $new"
	# and the name, at another address, its block
	_ct_run_net "$web" 198.18.13.12
	_ct_wget_until "$web" /containers/json 0
	_ct_logged "client=web peer=198\.18\.13\.12:[0-9]+ method=GET path=/containers/json verdict=allow"
	pass
}

# socat between $SCRATCH/d.sock and the rig's socket, in a process group
# of its own (its children carry the connections): sets CT_PX.
_ct_px_start() {
	local i

	setsid socat "UNIX-LISTEN:$SCRATCH/d.sock,fork,unlink-early" \
	    "UNIX-CONNECT:$RIG_SOCK" </dev/null >/dev/null 2>&1 &
	CT_PX=$!
	on_exit kill -- -"$CT_PX"
	for ((i = 0; i < 100; i++)); do
		[ -S "$SCRATCH/d.sock" ] && return 0
		sleep 0.05
	done
	fail "socat did not start"
}

t_ct_docker_away() {
	local a=ct_a_$$ CT_PX

	tid "while the daemon is away the table is empty: a name block does not hold (the top level), and holds again when the daemon is back"
	_ct_unixget
	mkdir -p "$SCRATCH/s"
	on_exit rig_docker rm -f "$a"
	_ct_run "$a" >/dev/null
	# the backend through a relay the test can take away
	_ct_px_start
	printf '%s\n' "listen on \"unix://$SCRATCH/s/m.sock\"" \
	    "backend \"unix://$SCRATCH/d.sock\"" \
	    "client \"alpha\" {" "	match container name \"$a\"" \
	    "	rules \"GET %API_PREFIX_CONTAINERS%/json\"" "}" >c.conf
	MOATD_ADDRS=unix://$SCRATCH/s/m.sock moatd_start -f c.conf
	_ct_until "$a" /containers/json 200
	# socat and its children, the event stream's connection with them
	kill -- -"$CT_PX"
	_ct_until "$a" /containers/json 403 "$(_ct_toplevel /containers/json)"
	_ct_expect "$a" /images/json 403 "$(_ct_toplevel /images/json)"
	# back (the watcher tries again after 1, 2, 4 ... 30 s)
	_ct_px_start
	CT_WAIT=45 _ct_until "$a" /containers/json 200
	pass
}
