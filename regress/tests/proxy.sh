# The real clients through moatd: the docker CLI (DOCKER_HOST=tcp://...,
# API negotiated down to the rig's) and docker-py, with the rules of
# regress/rules/full.list or etc/rules/readonly.list; then the processes
# themselves: their demotion, supervision, a graceful stop, and a backend
# that is not there.  Every container runs with --network none.

# run.sh sources the tests from the top of the tree.
PX_TOP=$PWD
PX_FULL=$PX_TOP/regress/rules/full.list
PX_READONLY=$PX_TOP/etc/rules/readonly.list
PX_CHROOT=/var/empty/moatd
PX_T=20			# seconds any one client command may take
PX_PORT=
PX_URL=
# EREs for moatd's request log: the /v1.xx the CLI puts first, and the
# rules that allowed a request.
PX_V='/v1\.[0-9]+'
PX_BY_FULL='[^ ]*full\.list:[0-9]+'
PX_BY_RO='[^ ]*readonly\.list:[0-9]+'
PX_BY_BUILTIN='builtin:[0-9]+'

# A container that prints line0, line1, ... every 0.2 s for a minute.
PX_TICKER='i=0
while [ $i -lt 300 ]; do echo line$i; i=$((i + 1)); sleep 0.2; done'

# moatd in front of the rig on a free port, and the CLI pointed at it.
_px_start() {
	PX_PORT=$(free_port)
	PX_URL=http://127.0.0.1:$PX_PORT
	export DOCKER_HOST=tcp://127.0.0.1:$PX_PORT
	moatd_start -frontend-addr "$DOCKER_HOST" \
	    -backend-addr "unix://$RIG_SOCK" "$@"
}

# The docker CLI through moatd (DOCKER_HOST), never hanging the run.
_px_docker() {
	timeout "$PX_T" docker "$@"
}

_px_what() {
	printf 'docker %s' "$*"
	[ -n "$ERR" ] && printf ' (stderr: %s)' "$ERR"
}

# Wait up to $2 seconds (default 3) for a line of moatd's log that
# matches the extended regexp $1; else fail, saying $3 if given.
_px_wait_log() {
	local ere=$1 n=$((${2:-3} * 20)) i

	for ((i = 0; i < n; i++)); do
		grep -Eq -- "$ere" "$MOATD_LOG" && return 0
		sleep 0.05
	done
	fail "${3:+$3: }moatd's log has no line matching /$ere/"$'\n'"$(
	    _moatd_logtail "$MOATD_LOG")"
}

# VERDICT METHOD PATH RULE STATUS [WHY]: moatd logged that request (all
# EREs) within 3 s; else fail, saying WHY if given.
_px_logged() {
	_px_wait_log "method=$2 path=$3 verdict=$1 rule=$4 status=$5 " 3 \
	    "${6:-}"
}

# METHOD PATH STATUS [RULE]: moatd allowed the request (PATH after the
# /v1.xx) by RULE (default: a line of full.list) with that status.
_px_allowed() {
	_px_logged allow "$1" "$PX_V$2" "${4:-$PX_BY_FULL}" "$3"
}

# Wait until file $1 has at least $2 lines (up to $3 seconds).
_px_wait_lines() {
	local i

	for ((i = 0; i < $3 * 20; i++)); do
		[ -e "$1" ] && [ "$(wc -l <"$1")" -ge "$2" ] && return 0
		sleep 0.05
	done
	return 1
}

# The pid of the child of moatd $1 titled "moatd: $2".
_px_role() {
	ps -o pid=,args= --ppid "$1" 2>/dev/null | awk -v t="moatd: $2" '
	{ p = $1; sub(/^ *[0-9]+ /, ""); if ($0 == t) print p }'
}

# Wait up to $3 seconds for a child titled "moatd: $1" other than pid $2;
# print its pid.
_px_wait_role() {
	local i pid

	for ((i = 0; i < $3 * 20; i++)); do
		pid=$(_px_role "$MOATD_PID" "$1")
		if [ -n "$pid" ] && [ "$pid" != "$2" ]; then
			echo "$pid"
			return 0
		fi
		sleep 0.05
	done
	return 1
}

t_proxy_version_info() {
	local want f='{{.Server.Version}} {{.Server.APIVersion}}'

	tid "docker version, info, ps and images through moatd"
	_px_start -rules-file "$PX_FULL"
	on_exit rig_docker rm -f px_created px_running
	run_cmd rig_docker version --format "$f"
	want=$OUT
	run_cmd _px_docker version --format "$f"
	expect_eq "$RC" 0 "$(_px_what version) exit status"
	expect_eq "$OUT" "$want" "server version through moatd"
	run_cmd rig_docker info --format '{{.ID}} {{.DockerRootDir}}'
	want=$OUT
	run_cmd _px_docker info --format '{{.ID}} {{.DockerRootDir}}'
	expect_eq "$RC" 0 "$(_px_what info) exit status"
	expect_eq "$OUT" "$want" "docker info through moatd"

	rig_docker create --network none --name px_created "$RIG_IMAGE" \
	    true >/dev/null || fail "cannot create px_created"
	rig_docker run -d --network none --name px_running "$RIG_IMAGE" \
	    sleep 60 >/dev/null || fail "cannot start px_running"
	run_cmd _px_docker ps --format '{{.Names}}'
	expect_eq "$RC" 0 "$(_px_what ps) exit status"
	[[ $'\n'$OUT$'\n' == *$'\npx_running\n'* ]] ||
	    fail "docker ps does not list px_running: [$OUT]"
	[[ $'\n'$OUT$'\n' == *$'\npx_created\n'* ]] &&
	    fail "docker ps lists the stopped px_created (all=1?): [$OUT]"
	run_cmd _px_docker ps -a --format '{{.Names}}'
	expect_eq "$RC" 0 "$(_px_what ps -a) exit status"
	[[ $'\n'$OUT$'\n' == *$'\npx_created\n'* ]] ||
	    fail "docker ps -a does not list px_created: [$OUT]"
	run_cmd _px_docker images --format '{{.Repository}}:{{.Tag}}'
	expect_eq "$RC" 0 "$(_px_what images) exit status"
	[[ $'\n'$OUT$'\n' == *$'\n'$RIG_IMAGE$'\n'* ]] ||
	    fail "docker images does not list $RIG_IMAGE: [$OUT]"

	_px_allowed GET /version 200 "$PX_BY_BUILTIN"
	_px_allowed GET /info 200 "$PX_BY_BUILTIN"
	_px_allowed GET /containers/json 200
	_px_allowed GET /images/json 200
}

t_proxy_run() {
	tid "docker run --rm: output, exit status, stderr; the container is gone"
	_px_start -rules-file "$PX_FULL"
	on_exit rig_docker rm -f px_run px_run3
	run_cmd _px_docker run --rm --network none --name px_run \
	    "$RIG_IMAGE" echo hi
	expect_eq "$RC" 0 "$(_px_what run) exit status"
	expect_eq "$OUT" hi "docker run output"
	run_cmd _px_docker run --rm --network none --name px_run3 \
	    "$RIG_IMAGE" sh -c 'echo out; echo err >&2; exit 3'
	expect_eq "$RC" 3 "exit status from the container"
	expect_eq "$OUT" out "stdout from the container"
	expect_eq "$ERR" err "stderr from the container"
	run_cmd rig_docker ps -aq --filter name=px_run
	expect_eq "$OUT" "" "px_run left after docker run --rm"
	_px_allowed POST /containers/create 201
	_px_allowed POST '/containers/[0-9a-f]{64}/attach' 101
	_px_allowed POST '/containers/[0-9a-f]{64}/start' 204
	_px_allowed POST '/containers/[0-9a-f]{64}/wait' 200
}

t_proxy_run_stdin() {
	local rc t0

	tid "docker run -i: stdin goes in, its end ends cat (half-close)"
	_px_start -rules-file "$PX_FULL"
	on_exit rig_docker rm -f px_stdin1 px_stdin2
	echo hi >in.txt
	run_cmd _px_docker run -i --rm --network none --name px_stdin1 \
	    "$RIG_IMAGE" cat <in.txt
	expect_eq "$RC" 0 "$(_px_what run -i cat) exit status (124: hung)"
	expect_eq "$OUT" hi "output of cat"
	# A megabyte of every byte value, both ways through the hijack.
	head -c 1048576 /dev/urandom >in.bin
	t0=$EPOCHSECONDS
	_px_docker run -i --rm --network none --name px_stdin2 "$RIG_IMAGE" \
	    cat <in.bin >out.bin 2>err.txt
	rc=$?
	expect_eq "$rc" 0 "docker run -i cat <1 MiB exit status (124: hung;" \
	    "stderr: $(cat err.txt))"
	cmp -s in.bin out.bin || fail "1 MiB through cat differs:" \
	    "$(stat -c %s out.bin) bytes back, $(cmp in.bin out.bin 2>&1)"
	[ $((EPOCHSECONDS - t0)) -le 10 ] ||
	    fail "1 MiB through cat took $((EPOCHSECONDS - t0)) s"
}

t_proxy_exec() {
	tid "docker exec and exec -i into a running container"
	_px_start -rules-file "$PX_FULL"
	on_exit rig_docker rm -f px_exec
	run_cmd _px_docker run -d --network none --name px_exec \
	    "$RIG_IMAGE" sleep 60
	expect_eq "$RC" 0 "$(_px_what run -d) exit status"
	expect_match "$OUT" '^[0-9a-f]{64}$' "container id from docker run -d"
	run_cmd _px_docker exec px_exec echo x
	expect_eq "$RC" 0 "$(_px_what exec echo) exit status"
	expect_eq "$OUT" x "docker exec output"
	run_cmd _px_docker exec -i px_exec cat <<<y
	expect_eq "$RC" 0 "$(_px_what exec -i cat) exit status (124: hung)"
	expect_eq "$OUT" y "docker exec -i cat output"
	run_cmd _px_docker exec px_exec sh -c 'exit 7'
	expect_eq "$RC" 7 "exit status of the exec'd command"
	_px_allowed POST /containers/px_exec/exec 201
	_px_allowed POST '/exec/[0-9a-f]{64}/start' 101
	_px_allowed GET '/exec/[0-9a-f]{64}/json' 200
}

t_proxy_logs_follow() {
	local lp n1 n2

	tid "docker logs -f streams lines while the container runs"
	_px_start -rules-file "$PX_FULL"
	on_exit rig_docker rm -f px_logs
	run_cmd _px_docker run -d --network none --name px_logs "$RIG_IMAGE" \
	    sh -c "$PX_TICKER"
	expect_eq "$RC" 0 "$(_px_what run -d) exit status"
	: >logs.out
	timeout "$PX_T" docker logs -f px_logs >logs.out 2>logs.err &
	lp=$!
	on_exit kill "$lp"
	_px_wait_lines logs.out 3 5 ||
	    fail "docker logs -f: fewer than 3 lines in 5 s: [$(cat logs.out)]" \
	    "stderr: [$(cat logs.err)]"
	expect_eq "$(head -n 3 logs.out | tr '\n' ' ')" "line0 line1 line2 " \
	    "first lines of docker logs -f"
	n1=$(wc -l <logs.out)
	sleep 1
	n2=$(wc -l <logs.out)
	[ "$n2" -gt "$n1" ] ||
	    fail "no new line within 1 s of streaming ($n1 then $n2 lines)"
	kill -0 "$lp" 2>/dev/null ||
	    fail "docker logs -f ended while the container runs:" \
	    "[$(cat logs.err)]"
	expect_eq "$(rig_docker inspect -f '{{.State.Running}}' px_logs)" \
	    true "px_logs still running"
	kill "$lp" 2>/dev/null
	wait "$lp" 2>/dev/null
	# The CLI resolves the name first, then asks by id.
	_px_allowed GET /containers/px_logs/json 200
	_px_allowed GET '/containers/[0-9a-f]{64}/logs' 200
}

t_proxy_events() {
	local ep i

	tid "docker events: a container created meanwhile shows up live"
	_px_start -rules-file "$PX_FULL"
	on_exit rig_docker rm -f px_ev1 px_ev2
	# --since: the first event is also there if the stream was not yet
	# subscribed when the container was created; the second one comes
	# after the first arrived, so it can only come live.
	: >events.out
	timeout "$PX_T" docker events --since "$((EPOCHSECONDS - 1))" \
	    --format '{{.Type}} {{.Action}} {{.Actor.Attributes.name}}' \
	    >events.out 2>events.err &
	ep=$!
	on_exit kill "$ep"
	run_cmd _px_docker create --network none --name px_ev1 "$RIG_IMAGE" true
	expect_eq "$RC" 0 "$(_px_what create) exit status"
	for ((i = 0; i < 100; i++)); do
		grep -qx 'container create px_ev1' events.out && break
		sleep 0.05
	done
	grep -qx 'container create px_ev1' events.out ||
	    fail "no create event for px_ev1 in 5 s: [$(cat events.out)]" \
	    "stderr: [$(cat events.err)]"
	run_cmd _px_docker create --network none --name px_ev2 "$RIG_IMAGE" true
	expect_eq "$RC" 0 "$(_px_what create) exit status"
	for ((i = 0; i < 100; i++)); do
		grep -qx 'container create px_ev2' events.out && break
		sleep 0.05
	done
	grep -qx 'container create px_ev2' events.out ||
	    fail "no live create event for px_ev2 in 5 s: [$(cat events.out)]"
	kill -0 "$ep" 2>/dev/null ||
	    fail "docker events ended by itself: [$(cat events.err)]"
	kill "$ep" 2>/dev/null
	wait "$ep" 2>/dev/null
	# The request is logged when its session ends: moatd must see the
	# client go and close the subscription, with no event to write.
	_px_logged allow GET "$PX_V/events" "$PX_BY_FULL" 200 \
	    "the events client is gone, its session is not"
}

t_proxy_cp() {
	local sum

	tid "docker cp into a container and back, byte for byte"
	_px_start -rules-file "$PX_FULL"
	on_exit rig_docker rm -f px_cp
	run_cmd _px_docker run -d --network none --name px_cp "$RIG_IMAGE" \
	    sleep 60
	expect_eq "$RC" 0 "$(_px_what run -d) exit status"
	head -c 700001 /dev/urandom >blob
	sum=$(sha256sum <blob)
	run_cmd _px_docker cp blob px_cp:/tmp/blob
	expect_eq "$RC" 0 "$(_px_what cp in) exit status"
	run_cmd rig_docker exec px_cp sha256sum /tmp/blob
	expect_eq "${OUT%% *}" "${sum%% *}" "sha256 of the copy in the container"
	run_cmd _px_docker cp px_cp:/tmp/blob back
	expect_eq "$RC" 0 "$(_px_what cp out) exit status"
	cmp -s blob back || fail "the file copied back differs:" \
	    "$(cmp blob back 2>&1)"
	_px_allowed PUT /containers/px_cp/archive 200
	_px_allowed GET /containers/px_cp/archive 200
}

t_proxy_save_load() {
	local id rc a b

	tid "docker save is byte-exact through moatd; docker load restores it"
	_px_start -rules-file "$PX_FULL"
	on_exit rig_docker rmi px-saved:1
	rig_docker tag "$RIG_IMAGE" px-saved:1 || fail "cannot tag px-saved:1"
	id=$(rig_docker image inspect -f '{{.Id}}' "$RIG_IMAGE")
	_px_docker save px-saved:1 >via.tar 2>err.txt
	rc=$?
	expect_eq "$rc" 0 "docker save through moatd (stderr: $(cat err.txt))"
	rig_docker save px-saved:1 >direct.tar || fail "docker save via the rig"
	[ -s direct.tar ] || fail "the rig's docker save is empty"
	a=$(sha256sum <via.tar)
	b=$(sha256sum <direct.tar)
	expect_eq "${a%% *}" "${b%% *}" "sha256 of docker save through moatd" \
	    "($(stat -c %s via.tar) vs $(stat -c %s direct.tar) bytes)"
	rig_docker rmi px-saved:1 >/dev/null || fail "cannot untag px-saved:1"
	run_cmd _px_docker load -i via.tar
	expect_eq "$RC" 0 "$(_px_what load) exit status"
	expect_eq "$OUT" "Loaded image: px-saved:1" "docker load output"
	run_cmd rig_docker image inspect -f '{{.Id}}' px-saved:1
	expect_eq "$OUT" "$id" "id of the loaded image"
	_px_allowed GET /images/get 200
	_px_allowed POST /images/load 200
}

t_proxy_build() {
	local id

	tid "docker build (legacy builder) of a tiny context"
	_px_start -rules-file "$PX_FULL"
	on_exit rig_docker rmi px-built:1
	mkdir ctx
	printf 'FROM %s\nRUN echo built > /f\n' "$RIG_IMAGE" >ctx/Dockerfile
	run_cmd env DOCKER_BUILDKIT=0 timeout 60 docker build --network none \
	    --force-rm -q -t px-built:1 ctx
	expect_eq "$RC" 0 "$(_px_what build) exit status"
	id=$(printf '%s\n' "$OUT" | tail -n 1)
	expect_match "$id" '^sha256:[0-9a-f]{64}$' "docker build -q output"
	run_cmd rig_docker image inspect -f '{{.Id}}' px-built:1
	expect_eq "$OUT" "$id" "id of px-built:1"
	run_cmd rig_docker run --rm --network none px-built:1 cat /f
	expect_eq "$OUT" built "/f in the built image"
	_px_allowed POST /build 200
}

t_proxy_readonly() {
	local before msg

	tid "readonly.list: docker ps works, docker run and exec get 403"
	_px_start -rules-file "$PX_READONLY"
	on_exit rig_docker rm -f px_ro px_ro_run
	rig_docker run -d --network none --name px_ro "$RIG_IMAGE" \
	    sleep 60 >/dev/null || fail "cannot start px_ro"
	before=$(rig_docker ps -aq | sort)
	run_cmd _px_docker ps --format '{{.Names}}'
	expect_eq "$RC" 0 "$(_px_what ps) exit status"
	[[ $'\n'$OUT$'\n' == *$'\npx_ro\n'* ]] ||
	    fail "docker ps does not list px_ro: [$OUT]"
	_px_allowed GET /containers/json 200 "$PX_BY_RO"
	run_cmd _px_docker run --rm --network none --name px_ro_run \
	    "$RIG_IMAGE" echo hi
	[ "$RC" -ne 0 ] || fail "docker run succeeded under readonly.list"
	[ "$RC" -ne 124 ] || fail "docker run hung under readonly.list"
	expect_eq "$OUT" "" "docker run output"
	msg="moatd: POST $PX_V/containers/create is not allowed"
	expect_match "$ERR" "Error response from daemon: $msg" \
	    "docker run stderr"
	_px_logged deny POST "$PX_V/containers/create" - 403
	expect_eq "$(rig_docker ps -aq | sort)" "$before" \
	    "containers after the denied run"
	run_cmd _px_docker exec px_ro echo x
	[ "$RC" -ne 0 ] || fail "docker exec succeeded under readonly.list"
	expect_match "$ERR" \
	    "moatd: POST $PX_V/containers/px_ro/exec is not allowed" \
	    "docker exec stderr"
}

t_proxy_dockerpy() {
	tid "docker-py: list containers, stream the logs of a running one"
	_px_start -rules-file "$PX_FULL"
	on_exit rig_docker rm -f px_py
	rig_docker run -d --network none --name px_py "$RIG_IMAGE" \
	    sh -c "$PX_TICKER" >/dev/null || fail "cannot start px_py"
	run_cmd timeout "$PX_T" python3 -c '
import sys
import docker

c = docker.DockerClient(base_url="tcp://127.0.0.1:" + sys.argv[1])
print("names", " ".join(sorted(x.name for x in c.containers.list())))
ct = c.containers.get("px_py")
buf = b""
for chunk in ct.logs(stream=True, follow=True):
    buf += chunk
    if buf.count(b"\n") >= 3:
        break
print("lines", " ".join(buf.decode().split("\n")[:3]))
ct.reload()
print("status", ct.status)
' "$PX_PORT"
	expect_eq "$RC" 0 "docker-py exit status (124: hung; stderr: $ERR)"
	expect_match "$(printf '%s\n' "$OUT" | sed -n 's/^names //p')" \
	    '(^| )px_py( |$)' "containers.list()"
	expect_eq "$(printf '%s\n' "$OUT" | sed -n 's/^lines //p')" \
	    "line0 line1 line2" "logs(stream=True, follow=True)"
	expect_eq "$(printf '%s\n' "$OUT" | sed -n 's/^status //p')" running \
	    "status after streaming"
	# docker-py asks for the version without a prefix.
	_px_logged allow GET /version "$PX_BY_BUILTIN" 200
	_px_allowed GET '/containers/[0-9a-f]{64}/logs' 200
}

# Everything wrong with the demotion of child $1 (role $2), one per line.
_px_demotion() {
	local pid=$1 role=$2 st=/proc/$1/status uid gid v g

	uid=$(id -u _moatd)
	gid=$(id -g _moatd)
	v=$(awk '/^Uid:/ { print $2, $3, $4, $5 }' "$st")
	[ "$v" = "$uid $uid $uid $uid" ] ||
	    echo "$role ($pid): Uid $v, want $uid (_moatd) four times"
	v=$(awk '/^Gid:/ { print $2, $3, $4, $5 }' "$st")
	[ "$v" = "$gid $gid $gid $gid" ] ||
	    echo "$role ($pid): Gid $v, want $gid (_moatd) four times"
	for g in $(awk '/^Groups:/ { $1 = ""; print }' "$st"); do
		[ "$g" = "$gid" ] ||
		    echo "$role ($pid): supplementary group $g kept"
	done
	v=$(awk '/^CapEff:/ { print $2 }' "$st")
	[ "$v" = 0000000000000000 ] || echo "$role ($pid): CapEff $v"
	v=$(awk '/^CapPrm:/ { print $2 }' "$st")
	[ "$v" = 0000000000000000 ] || echo "$role ($pid): CapPrm $v"
	v=$(awk '/^NoNewPrivs:/ { print $2 }' "$st")
	[ "$v" = 1 ] || echo "$role ($pid): NoNewPrivs $v, want 1"
	v=$(awk '/^Seccomp:/ { print $2 }' "$st")
	[ "$v" = 2 ] || echo "$role ($pid): Seccomp $v, want 2 (filter)"
	v=$(readlink /proc/"$pid"/root)
	[ "$v" = "$PX_CHROOT" ] || echo "$role ($pid): root $v, want $PX_CHROOT"
	v=$(readlink /proc/"$pid"/cwd)
	[ "$v" = "$PX_CHROOT" ] ||
	    echo "$role ($pid): cwd $v, want $PX_CHROOT (chdir / inside)"
}

t_proxy_decoded_path() {
	local img='[::1]:5000/lib/busybox:latest'

	tid "Docker reads back the decoded path the rules matched; the log shows its encoding"
	_px_start -no-builtin-rules -rules $'GET %API_PREFIX_IMAGES%/%IMAGE_REFERENCE%/json\nGET /t/a b'
	# escaped brackets, then raw ones (curl -g): Docker names the image
	# (404, or 400 "invalid reference format" from newer daemons)
	for target in "/images/%5B%3A%3A1%5D:5000/lib/busybox:latest/json" \
	    "/images/$img/json"; do
		run_cmd curl -sS -g --max-time 10 -w '\n%{http_code}' \
		    "$PX_URL$target"
		expect_match "$OUT" \
		    '[Nn]o such image: \[::1\]:5000/lib/busybox:latest[^/]*40[04]$' \
		    "Docker's answer to $target"
	done
	_px_logged allow GET '/images/%5B::1%5D:5000/lib/busybox:latest/json' \
	    '-rules:1' '40[04]'
	# a space: matched decoded, logged encoded, named decoded in the 403
	expect_status 403 "$PX_URL/t/x%20y"
	expect_eq "$(cat "$BODY")" '{"message":"moatd: GET /t/x y is not allowed"}' \
	    "403 body"
	_px_logged deny GET '/t/x%20y' - 403
	expect_status 404 "$PX_URL/t/a%20b"
	_px_logged allow GET '/t/a%20b' '-rules:2' 404
}

t_proxy_hardening() {
	local pid role bad='' n

	tid "policy, forwarders, relays, watcher: _moatd, no caps, no_new_privs, seccomp, chroot"
	_px_start -prefork 2
	n=$(_children "$MOATD_PID" | wc -l)
	expect_eq "$n" 6 \
	    "children of the parent (policy, 2 forwarders, 2 relays, watcher)"
	for role in policy 'forwarder[0]' 'forwarder[1]' 'relay[0]' 'relay[1]' \
	    watcher; do
		pid=$(_px_role "$MOATD_PID" "$role")
		[ -n "$pid" ] || fail "no child titled 'moatd: $role':" \
		    "$(ps -o pid=,args= --ppid "$MOATD_PID")"
		bad="$bad$(_px_demotion "$pid" "$role")"$'\n'
	done
	bad=$(printf '%s' "$bad" | sed '/^$/d')
	[ -z "$bad" ] || fail "$bad"
	# And the parent keeps root, unfiltered: it opens Docker connections.
	expect_eq "$(awk '/^Seccomp:/ { print $2 }' /proc/"$MOATD_PID"/status)" \
	    0 "the parent's Seccomp"
}

t_proxy_relay_restart() {
	local old new pol r0 i

	tid "kill -9 a relay: logged, restarted, requests still work"
	_px_start -prefork 2 -rules-file "$PX_FULL"
	old=$(_px_role "$MOATD_PID" 'relay[1]')
	pol=$(_px_role "$MOATD_PID" policy)
	r0=$(_px_role "$MOATD_PID" 'relay[0]')
	[ -n "$old" ] && [ -n "$pol" ] && [ -n "$r0" ] ||
	    fail "children: $(ps -o pid=,args= --ppid "$MOATD_PID")"
	kill -KILL "$old"
	new=$(_px_wait_role 'relay[1]' "$old" 5) ||
	    fail "no new relay[1] within 5 s"$'\n'"$(_moatd_logtail "$MOATD_LOG")"
	_px_wait_log "lost child relay\[1\] \(pid $old\): killed by signal 9"
	expect_eq "$(_px_role "$MOATD_PID" policy)" "$pol" "policy pid"
	expect_eq "$(_px_role "$MOATD_PID" 'relay[0]')" "$r0" "relay[0] pid"
	moatd_rebase
	# Whichever relay accepts, every request gets through.
	for ((i = 0; i < 6; i++)); do
		expect_status 200 "$PX_URL/_ping"
	done
	run_cmd _px_docker ps -q
	expect_eq "$RC" 0 "$(_px_what ps) after the restart"
}

t_proxy_policy_restart() {
	local old new r0 r1 i

	tid "kill -9 the policy worker: 503 meanwhile, restarted, requests work"
	_px_start -prefork 2 -rules-file "$PX_FULL"
	old=$(_px_role "$MOATD_PID" policy)
	r0=$(_px_role "$MOATD_PID" 'relay[0]')
	r1=$(_px_role "$MOATD_PID" 'relay[1]')
	[ -n "$old" ] && [ -n "$r0" ] && [ -n "$r1" ] ||
	    fail "children: $(ps -o pid=,args= --ppid "$MOATD_PID")"
	kill -KILL "$old"
	# The restart waits a back-off of at least 1 s: fail closed until then.
	expect_status 503 "$PX_URL/_ping"
	expect_match "$(cat "$BODY")" \
	    '^\{"message":"moatd: policy worker unavailable"\}$' "503 body"
	new=$(_px_wait_role policy "$old" 5) ||
	    fail "no new policy worker within 5 s"$'\n'"$(
	    _moatd_logtail "$MOATD_LOG")"
	_px_wait_log "lost child policy \(pid $old\): killed by signal 9"
	expect_eq "$(_px_role "$MOATD_PID" 'relay[0]')" "$r0" "relay[0] pid"
	expect_eq "$(_px_role "$MOATD_PID" 'relay[1]')" "$r1" "relay[1] pid"
	moatd_rebase
	for ((i = 0; i < 40; i++)); do
		[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
		    "$PX_URL/_ping")" = 200 ] && break
		sleep 0.1
	done
	for ((i = 0; i < 6; i++)); do
		expect_status 200 "$PX_URL/_ping"
	done
	run_cmd _px_docker ps -q
	expect_eq "$RC" 0 "$(_px_what ps) after the restart"
}

t_proxy_parent_kill() {
	local kids c st left i

	tid "kill -9 the parent: every child exits within 2 s"
	_px_start -prefork 2
	kids=$(for c in $(_children "$MOATD_PID"); do
		echo "$c $(_starttime "$c")"
	done)
	expect_eq "$(printf '%s\n' "$kids" | wc -l)" 6 "children before"
	kill -KILL "$MOATD_PID"
	moatd_forget
	for ((i = 0; i < 40; i++)); do
		left=$(while read -r c st; do
			[ "$(_starttime "$c")" = "$st" ] && _palive "$c" &&
			    echo "$c $(tr '\0' ' ' </proc/"$c"/cmdline)"
		done <<<"$kids")
		[ -z "$left" ] && break
		sleep 0.05
	done
	[ -z "$left" ] || fail "children left 2 s after the parent died:" "$left"
	_accepts "tcp://127.0.0.1:$PX_PORT" &&
	    fail "127.0.0.1:$PX_PORT still accepts connections"
	pass
}

t_proxy_drain() {
	local lp n1 n2 t0 el kids c i

	tid "SIGTERM with docker logs -f open: drained, exits by the deadline"
	# A short deadline: the stream never ends, so the stop waits it out.
	printf 'timeout drain 4\n' >drain.conf
	_px_start -f "$SCRATCH/drain.conf" -rules-file "$PX_FULL"
	on_exit rig_docker rm -f px_drain
	run_cmd _px_docker run -d --network none --name px_drain \
	    "$RIG_IMAGE" sh -c "$PX_TICKER"
	expect_eq "$RC" 0 "$(_px_what run -d) exit status"
	: >logs.out
	timeout 30 docker logs -f px_drain >logs.out 2>logs.err &
	lp=$!
	on_exit kill "$lp"
	_px_wait_lines logs.out 2 5 ||
	    fail "docker logs -f: no lines in 5 s: [$(cat logs.err)]"
	kids=$(_children "$MOATD_PID")
	t0=$EPOCHREALTIME
	kill -TERM "$MOATD_PID"
	sleep 1
	# New connections are refused at once, the open stream goes on.
	_accepts "$DOCKER_HOST" &&
	    fail "still accepting connections 1 s after SIGTERM"
	n1=$(wc -l <logs.out)
	sleep 1
	n2=$(wc -l <logs.out)
	[ "$n2" -gt "$n1" ] ||
	    fail "the logs -f stream stopped when draining began" \
	    "($n1 then $n2 lines)"
	for ((i = 0; i < 8 * 20; i++)); do
		_palive "$MOATD_PID" || break
		sleep 0.05
	done
	el=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
	_palive "$MOATD_PID" && fail "moatd still running ${el}s after SIGTERM"
	moatd_forget
	expect_eq "$MOATD_STATUS" 0 "moatd exit status"
	awk -v e="$el" 'BEGIN { exit !(e >= 3.5 && e <= 5) }' ||
	    fail "moatd took ${el}s to stop (drain deadline 4 s)"
	for c in $kids; do
		_palive "$c" && fail "child $c outlived the parent"
	done
	grep -q 'did not stop in time' "$MOATD_LOG" &&
	    fail "the parent had to kill its children"$'\n'"$(
	    _moatd_logtail "$MOATD_LOG")"
	for ((i = 0; i < 40; i++)); do
		kill -0 "$lp" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$lp" 2>/dev/null &&
	    fail "docker logs -f still running 2 s after moatd stopped"
	wait "$lp" 2>/dev/null
	pass
}

t_proxy_backend_down() {
	local msg i why

	tid "no Docker socket: 502 with a JSON message, moatd keeps serving"
	PX_PORT=$(free_port)
	PX_URL=http://127.0.0.1:$PX_PORT
	export DOCKER_HOST=tcp://127.0.0.1:$PX_PORT
	moatd_start -frontend-addr "$DOCKER_HOST" \
	    -backend-addr "unix://$SCRATCH/missing.sock" -rules-file "$PX_FULL"
	for i in 1 2; do
		expect_status 502 -D headers "$PX_URL/_ping"
		grep -qi '^Content-Type: application/json' headers ||
		    fail "502 without a JSON Content-Type: $(cat headers)"
		msg=$(python3 -c 'import json, sys
print(json.load(sys.stdin)["message"])' <"$BODY") ||
		    fail "502 body is not JSON with a message: $(cat "$BODY")"
		expect_eq "$msg" "moatd: cannot connect to the Docker daemon" \
		    "502 message (request $i)"
	done
	why=$(moatd_alive) || fail "$why"
	_px_logged error GET /_ping "$PX_BY_BUILTIN" 502
	run_cmd _px_docker ps
	[ "$RC" -ne 0 ] || fail "docker ps succeeded without a backend"
	expect_match "$ERR" 'moatd: cannot connect to the Docker daemon' \
	    "docker ps stderr"
}
