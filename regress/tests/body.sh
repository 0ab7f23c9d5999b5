# Admission control (issue 12) with the real clients and the real engine:
# through moatd with rules that allow create, start, exec and volumes,
# what the docker CLI (the one on PATH, and /usr/bin/docker when it is
# another one) and docker-py send for ordinary containers passes, and the
# dangerous forms are refused with a 403 naming the field, which the CLI
# prints as it is; with the matching allow in moatd.conf they pass too.
# A bind source that is a symbolic link under an allowed root is refused.
# (The recording-backend matrix of attacks is regress/http/body_*.case.)
# Every container runs with --network none.

BT_TOP=$PWD
BT_T=20			# seconds any one client command may take
BT_PORT=
BT_DIR=

# The rules: regress/rules/full.list, volumes create and image pulls.
_bt_rules() {
	cat "$BT_TOP/regress/rules/full.list"
	echo 'POST %API_PREFIX_VOLUMES%/create'
	echo 'POST %API_PREFIX_IMAGES%/create'
} >"$SCRATCH/rules.list"

# moatd in front of the rig, the CLI pointed at it; args go to moatd.
_bt_start() {
	_bt_rules
	BT_PORT=$(free_port)
	export DOCKER_HOST=tcp://127.0.0.1:$BT_PORT
	moatd_start -frontend-addr "$DOCKER_HOST" \
	    -backend-addr "unix://$RIG_SOCK" -rules-file "$SCRATCH/rules.list" \
	    "$@"
}

# A moatd.conf with the lines given (root's, 0600, as moatd requires).
_bt_conf() {
	printf '%s\n' "$@" >"$SCRATCH/moatd.conf"
	chmod 0600 "$SCRATCH/moatd.conf"
}

_bt_docker() {
	timeout "$BT_T" docker "$@"
}

_bt_what() {
	printf 'docker %s' "$*"
	[ -n "$ERR" ] && printf ' (stderr: %s)' "$ERR"
}

# The API version the CLI talks to the rig with (it negotiates down).
_bt_api() {
	rig_docker version --format '{{.Server.APIVersion}}'
}

# Remove, at the end of the test, the containers and volumes named.
_bt_cleanup() {
	on_exit rig_docker rm -f "$@"
	on_exit rig_docker volume rm -f "$@"
}

# BT_DIR: a directory under /tmp that moatd's policy worker (_moatd) can
# walk (the run's scratch directories are private to root), removed at
# the end of the test.  Not in $(...): on_exit must run in the test.
_bt_dir() {
	BT_DIR=$(mktemp -d /tmp/moatd-body.XXXXXX) || fail "mktemp"
	on_exit rm -rf "$BT_DIR"
	chmod 0755 "$BT_DIR"
}

# The CLI refused: a non-zero exit, nothing created, and stderr carrying
# moatd's message for METHOD PATH: WHY exactly, as the CLI prints it.
_bt_refused() {
	local what=$1 why=$2 api

	api=$(_bt_api)
	[ "$RC" -ne 0 ] || fail "$what succeeded; moatd must refuse it"
	expect_match "$ERR" "Error response from daemon: moatd: POST /v$api/containers/create: $why is not allowed" \
	    "$what: stderr"
}

# The exact line a denied create makes docker run print, for one CLI.
_bt_refusal_line() {
	printf 'docker: Error response from daemon: moatd: POST /v%s/containers/create: %s is not allowed' \
	    "$(_bt_api)" "$1"
}

t_body_cli_ordinary() {
	local id

	tid "docker run, create, exec, volume create with the safe defaults pass; the same with --privileged or o=bind do not"
	_bt_start
	_bt_cleanup bt_run bt_create bt_exec bt_vol bt_named bt_tmpfsvol \
	    bt_create_priv bt_bindvol
	run_cmd _bt_docker run --rm --network none --name bt_run "$RIG_IMAGE" \
	    echo hi
	expect_eq "$RC" 0 "$(_bt_what run --rm echo hi) exit status"
	expect_eq "$OUT" hi "docker run output"
	# What compose-like options send: env, labels, a named volume, a
	# tmpfs, a restart policy, a capability of the default set, a
	# read-only root, a user, resource limits.
	run_cmd _bt_docker create --network none --name bt_create -e A=1 \
	    -e TZ=UTC -l com.example.app=web -l com.docker.compose.project=bt \
	    -v bt_named:/data --mount type=volume,src=bt_vol,dst=/cache \
	    --mount type=tmpfs,dst=/scratch --tmpfs /run:size=1m \
	    --restart unless-stopped --cap-add NET_BIND_SERVICE --cap-drop ALL \
	    --read-only --user 1000:1000 --memory 64m --pids-limit 100 \
	    --security-opt no-new-privileges -w /data "$RIG_IMAGE" true
	expect_eq "$RC" 0 "$(_bt_what create with compose-like options) exit status"
	expect_match "$OUT" '^[0-9a-f]{64}$' "container id from docker create"
	id=$OUT
	expect_eq "$(rig_docker inspect -f '{{.HostConfig.RestartPolicy.Name}} {{index .Config.Labels "com.example.app"}} {{.HostConfig.ReadonlyRootfs}}' "$id")" \
	    "unless-stopped web true" "what dockerd made of the create"
	run_cmd _bt_docker run -d --network none --name bt_exec "$RIG_IMAGE" \
	    sleep 60
	expect_eq "$RC" 0 "$(_bt_what run -d) exit status"
	run_cmd _bt_docker exec bt_exec echo x
	expect_eq "$RC" 0 "$(_bt_what exec echo x) exit status"
	expect_eq "$OUT" x "docker exec output"
	run_cmd _bt_docker exec -u 0 -e B=2 -w / bt_exec sh -c 'echo $B'
	expect_eq "$RC" 0 "$(_bt_what exec -u 0 -e -w) exit status"
	expect_eq "$OUT" 2 "docker exec -e output"
	run_cmd _bt_docker volume create bt_vol
	expect_eq "$RC" 0 "$(_bt_what volume create) exit status"
	expect_eq "$OUT" bt_vol "docker volume create output"
	run_cmd _bt_docker volume create --driver local --opt type=tmpfs \
	    --opt device=tmpfs --opt o=size=1m bt_tmpfsvol
	expect_eq "$RC" 0 "$(_bt_what volume create tmpfs) exit status"
	# The same with the one dangerous option added: refused.
	run_cmd _bt_docker create --network none --name bt_create_priv -e A=1 \
	    -l com.example.app=web -v bt_named:/data --tmpfs /run:size=1m \
	    --restart unless-stopped --cap-add NET_BIND_SERVICE --privileged \
	    "$RIG_IMAGE" true
	_bt_refused "create with compose-like options and --privileged" \
	    'HostConfig\.Privileged=true'
	run_cmd _bt_docker exec --privileged bt_exec echo x
	[ "$RC" -ne 0 ] || fail "docker exec --privileged succeeded"
	expect_match "$ERR" "moatd: POST /v$(_bt_api)/containers/bt_exec/exec: Privileged=true is not allowed" \
	    "docker exec --privileged: stderr"
	run_cmd _bt_docker volume create --driver local --opt type=none \
	    --opt o=bind --opt device=/etc bt_bindvol
	[ "$RC" -ne 0 ] || fail "docker volume create -o o=bind succeeded"
	expect_match "$ERR" "moatd: POST /v$(_bt_api)/volumes/create: DriverOpts\..+ is not allowed" \
	    "docker volume create -o o=bind: stderr"
	expect_eq "$(rig_docker ps -aq --filter name=bt_create_priv)$(rig_docker volume ls -q --filter name=bt_bindvol)" \
	    "" "what the refused requests made"
}

t_body_cli_old() {
	local cli=/usr/bin/docker

	tid "the older docker CLI (/usr/bin/docker 20.10): run, create, exec pass; --privileged refused"
	[ -x "$cli" ] || fail "$cli is missing"
	_bt_start
	_bt_cleanup bt_old_run bt_old_create bt_old_exec bt_old_priv
	run_cmd timeout "$BT_T" "$cli" run --rm --network none --name bt_old_run \
	    "$RIG_IMAGE" echo hi
	expect_eq "$RC" 0 "$cli run exit status (stderr: $ERR)"
	expect_eq "$OUT" hi "$cli run output"
	run_cmd timeout "$BT_T" "$cli" create --network none --name bt_old_create \
	    -e A=1 -l a=b -v bt_old_vol:/data --tmpfs /run \
	    --restart on-failure:3 --cap-add CAP_NET_BIND_SERVICE "$RIG_IMAGE" true
	on_exit rig_docker volume rm -f bt_old_vol
	expect_eq "$RC" 0 "$cli create exit status (stderr: $ERR)"
	run_cmd timeout "$BT_T" "$cli" run -d --network none --name bt_old_exec \
	    "$RIG_IMAGE" sleep 60
	expect_eq "$RC" 0 "$cli run -d exit status (stderr: $ERR)"
	run_cmd timeout "$BT_T" "$cli" exec bt_old_exec echo x
	expect_eq "$RC" 0 "$cli exec exit status (stderr: $ERR)"
	expect_eq "$OUT" x "$cli exec output"
	run_cmd timeout "$BT_T" "$cli" run --rm --network none --privileged \
	    --name bt_old_priv "$RIG_IMAGE" true
	_bt_refused "$cli run --privileged" 'HostConfig\.Privileged=true'
	expect_eq "$(rig_docker ps -aq --filter name=bt_old_priv)" "" \
	    "containers named bt_old_priv"
}

t_body_cli_refused() {
	local before api line i

	tid "docker run --privileged, -v /:/host, --mount type=bind, --pid host, --cap-add SYS_ADMIN: refused, the CLI prints moatd's message"
	_bt_start
	_bt_cleanup bt_priv
	before=$(rig_docker ps -aq | sort)
	api=$(_bt_api)
	run_cmd _bt_docker run --rm --network none --privileged --name bt_priv \
	    "$RIG_IMAGE" true
	[ "$RC" -ne 0 ] || fail "docker run --privileged succeeded through moatd"
	# The CLI prints the message as it is, on one line of its own.
	line=$(_bt_refusal_line HostConfig.Privileged=true)
	expect_eq "$(head -n 1 <<<"$ERR")" "$line" "docker run --privileged: first line of stderr"
	run_cmd _bt_docker run --rm --network none -v /:/host "$RIG_IMAGE" true
	_bt_refused "run -v /:/host" 'HostConfig\.Binds\[0\]=/:/host'
	run_cmd _bt_docker run --rm --network none \
	    --mount type=bind,src=/,dst=/host "$RIG_IMAGE" true
	_bt_refused "run --mount type=bind,src=/" 'HostConfig\.Mounts\[0\]\.Source=/'
	run_cmd _bt_docker run --rm --network none -v //etc/:/host "$RIG_IMAGE" true
	_bt_refused "run -v //etc/:/host" 'HostConfig\.Binds\[0\]=.+'
	run_cmd _bt_docker run --rm --network none --pid host "$RIG_IMAGE" true
	_bt_refused "run --pid host" 'HostConfig\.PidMode=host'
	run_cmd _bt_docker run --rm --network none --cap-add SYS_ADMIN "$RIG_IMAGE" true
	_bt_refused "run --cap-add SYS_ADMIN" 'HostConfig\.CapAdd\[0\]=(CAP_)?SYS_ADMIN'
	run_cmd _bt_docker run --rm --network none --device /dev/null:/dev/x "$RIG_IMAGE" true
	_bt_refused "run --device" 'HostConfig\.Devices\[0\]\..+=.+'
	run_cmd _bt_docker run --rm --network none --security-opt seccomp=unconfined "$RIG_IMAGE" true
	_bt_refused "run --security-opt seccomp=unconfined" 'HostConfig\.SecurityOpt\[0\]=.+'
	run_cmd _bt_docker run --rm --network host "$RIG_IMAGE" true
	_bt_refused "run --network host" 'HostConfig\.NetworkMode=host'
	expect_eq "$(rig_docker ps -aq | sort)" "$before" \
	    "containers after the refused runs"
	# The log line names the field.
	for ((i = 0; i < 60; i++)); do
		grep -q 'reason="HostConfig.Privileged=true"' "$MOATD_LOG" && break
		sleep 0.05
	done
	grep -Eq "method=POST path=/v$api/containers/create .*reason=\"HostConfig\.Privileged=true\"" \
	    "$MOATD_LOG" || grep -Eq "reason=\"HostConfig\.Privileged=true\".*path=/v$api/containers/create" \
	    "$MOATD_LOG" || fail "moatd's log has no line naming HostConfig.Privileged=true" \
	    "$(_moatd_logtail "$MOATD_LOG")"
	# The connection is still good for what is allowed.
	run_cmd _bt_docker run --rm --network none "$RIG_IMAGE" echo ok
	expect_eq "$OUT" ok "docker run after the refusals"
	run_cmd _bt_docker volume create --opt type=none --opt o=bind \
	    --opt device=/ bt_bindvol
	on_exit rig_docker volume rm -f bt_bindvol
	[ "$RC" -ne 0 ] || fail "docker volume create -o o=bind,device=/ succeeded"
	expect_match "$ERR" "moatd: POST /v$api/volumes/create: DriverOpts\..* is not allowed" \
	    "volume create o=bind: stderr"
	expect_eq "$(rig_docker volume ls -q --filter name=bt_bindvol)" "" \
	    "volume bt_bindvol after the refusal"
}

t_body_cli_loosened() {
	local d

	tid "with allow privileged, bind, capability, host pid in moatd.conf, those creates and runs pass"
	_bt_dir
	d=$BT_DIR
	echo inside >"$d/file"
	chmod 0644 "$d/file"
	_bt_conf 'allow privileged' "allow bind \"$d\"" \
	    'allow capability "SYS_ADMIN"' 'allow host pid'
	_bt_start -f "$SCRATCH/moatd.conf"
	_bt_cleanup bt_lo_priv bt_lo_cap
	# Created, not run: this host may not let runc start a privileged
	# container (no capabilities to give); what matters is that moatd
	# let the create through and dockerd made what was asked.
	run_cmd _bt_docker create --network none --privileged --name bt_lo_priv \
	    "$RIG_IMAGE" true
	expect_eq "$RC" 0 "$(_bt_what create --privileged) exit status"
	expect_eq "$(rig_docker inspect -f '{{.HostConfig.Privileged}}' bt_lo_priv)" \
	    true "HostConfig.Privileged of the container made"
	run_cmd _bt_docker create --network none --cap-add SYS_ADMIN --pid host \
	    --name bt_lo_cap "$RIG_IMAGE" true
	expect_eq "$RC" 0 "$(_bt_what create --cap-add SYS_ADMIN --pid host) exit status"
	expect_eq "$(rig_docker inspect -f '{{.HostConfig.PidMode}}' bt_lo_cap)" \
	    host "HostConfig.PidMode of the container made"
	run_cmd _bt_docker run --rm --network none -v "$d:/x" "$RIG_IMAGE" \
	    cat /x/file
	expect_eq "$RC" 0 "$(_bt_what run -v "$d:/x") exit status"
	expect_eq "$OUT" inside "a file of the allowed bind"
	run_cmd _bt_docker run --rm --network none -v "$d/sub:/x:ro" \
	    --mount "type=bind,src=$d,dst=/y" "$RIG_IMAGE" cat /y/file
	expect_eq "$RC" 0 "$(_bt_what run -v DIR/sub --mount DIR) exit status"
	expect_eq "$OUT" inside "the allowed bind through --mount"
	# What is not loosened stays refused.
	run_cmd _bt_docker run --rm --network none -v /etc:/x "$RIG_IMAGE" true
	_bt_refused "run -v /etc:/x (outside the allowed bind)" 'HostConfig\.Binds\[0\]=/etc:/x'
	run_cmd _bt_docker run --rm --network none --cap-add NET_ADMIN "$RIG_IMAGE" true
	_bt_refused "run --cap-add NET_ADMIN" 'HostConfig\.CapAdd\[0\]=(CAP_)?NET_ADMIN'
	run_cmd _bt_docker run --rm --network none --ipc host "$RIG_IMAGE" true
	_bt_refused "run --ipc host" 'HostConfig\.IpcMode=host'
}

t_body_cli_flags() {
	local d

	tid "-allow-bind DIR:ro on the command line: read-only binds of DIR pass, read-write ones are refused"
	_bt_dir
	d=$BT_DIR
	echo ro >"$d/file"
	chmod 0644 "$d/file"
	_bt_start -allow-bind "$d:ro"
	run_cmd _bt_docker run --rm --network none -v "$d:/x:ro" "$RIG_IMAGE" \
	    cat /x/file
	expect_eq "$RC" 0 "$(_bt_what run -v DIR:/x:ro) exit status"
	expect_eq "$OUT" ro "a file of the read-only bind"
	run_cmd _bt_docker run --rm --network none -v "$d:/x" "$RIG_IMAGE" true
	_bt_refused "run -v DIR:/x (read-write under a read-only allow)" \
	    'HostConfig\.Binds\[0\]=.+'
}

t_body_symlink() {
	local d

	tid "allow bind DIR with DIR/link -> /: docker run -v DIR/link:/x is refused, DIR/real passes"
	_bt_dir
	d=$BT_DIR
	mkdir "$d/real"
	ln -s / "$d/link"
	_bt_conf "allow bind \"$d\""
	_bt_start -f "$SCRATCH/moatd.conf"
	run_cmd _bt_docker run --rm --network none -v "$d/link:/x" "$RIG_IMAGE" \
	    ls /x
	_bt_refused "run -v DIR/link:/x" "HostConfig\.Binds\[0\]=$d/link:/x"
	run_cmd _bt_docker run --rm --network none -v "$d/link/etc:/x" \
	    "$RIG_IMAGE" true
	_bt_refused "run -v DIR/link/etc:/x" 'HostConfig\.Binds\[0\]=.+'
	run_cmd _bt_docker run --rm --network none \
	    --mount "type=bind,src=$d/link,dst=/x" "$RIG_IMAGE" true
	_bt_refused "run --mount src=DIR/link" 'HostConfig\.Mounts\[0\]\.Source=.+'
	run_cmd _bt_docker run --rm --network none -v "$d/real/../link:/x" \
	    "$RIG_IMAGE" true
	[ "$RC" -ne 0 ] || fail "docker run -v DIR/real/../link:/x succeeded"
	run_cmd _bt_docker run --rm --network none -v "$d/real:/x" "$RIG_IMAGE" \
	    true
	expect_eq "$RC" 0 "$(_bt_what run -v DIR/real:/x) exit status"
	# A link made after moatd started is seen too: the check is on the
	# host, at each request.
	ln -s /etc "$d/late"
	run_cmd _bt_docker run --rm --network none -v "$d/late:/x" "$RIG_IMAGE" \
	    true
	_bt_refused "run -v DIR/late:/x (a link made later)" 'HostConfig\.Binds\[0\]=.+'
}

t_body_dockerpy() {
	tid "docker-py containers.create with compose-style options passes; privileged=True raises moatd's 403"
	_bt_start
	_bt_cleanup bt_py bt_py_priv bt_py_vol
	run_cmd timeout "$BT_T" python3 -c '
import sys
import docker
from docker.types import Mount

c = docker.DockerClient(base_url="tcp://127.0.0.1:" + sys.argv[1])
ct = c.containers.create(
    sys.argv[2], ["sh", "-c", "echo $A"], name="bt_py",
    environment={"A": "1", "TZ": "UTC"},
    labels={"com.docker.compose.project": "bt",
            "com.docker.compose.service": "py"},
    volumes={"bt_py_vol": {"bind": "/data", "mode": "rw"}},
    mounts=[Mount(target="/cache", source="bt_py_vol", type="volume"),
            Mount(target="/scratch", source=None, type="tmpfs")],
    tmpfs={"/run": "size=1m"},
    restart_policy={"Name": "on-failure", "MaximumRetryCount": 2},
    cap_add=["NET_BIND_SERVICE"], cap_drop=["ALL"],
    network_mode="none", mem_limit="64m", read_only=True)
ct.start()
print("exit", ct.wait()["StatusCode"])
print("logs", ct.logs().decode().strip())
try:
    c.containers.create(sys.argv[2], "true", name="bt_py_priv",
        privileged=True, network_mode="none")
    print("privileged created")
except docker.errors.APIError as e:
    print("refused", e.response.status_code, e.explanation)
' "$BT_PORT" "$RIG_IMAGE"
	expect_eq "$RC" 0 "docker-py exit status (stderr: $ERR)"
	expect_eq "$(sed -n 's/^exit //p' <<<"$OUT")" 0 "the container's exit status"
	expect_eq "$(sed -n 's/^logs //p' <<<"$OUT")" 1 "the container's output"
	expect_match "$(sed -n 's/^refused //p' <<<"$OUT")" \
	    "^403 moatd: POST /v$(_bt_api)/containers/create: HostConfig\.Privileged=true is not allowed$" \
	    "containers.create(privileged=True)"
	expect_eq "$(rig_docker ps -aq --filter name=bt_py_priv)" "" \
	    "containers named bt_py_priv"
}

t_body_image_allowlist() {
	local api

	tid "-allow-image: the rig's image runs; creating or pulling another is refused, naming the image"
	_bt_start -allow-image "docker.io/library/${RIG_IMAGE%%:*}:*"
	_bt_cleanup bt_img bt_img_other
	api=$(_bt_api)
	run_cmd _bt_docker run --rm --network none --name bt_img "$RIG_IMAGE" \
	    echo hi
	expect_eq "$RC" 0 "$(_bt_what run "$RIG_IMAGE") exit status"
	expect_eq "$OUT" hi "docker run output"
	# Tagged locally as another name: the name is what is checked.
	rig_docker tag "$RIG_IMAGE" bt-other:latest || fail "docker tag"
	on_exit rig_docker rmi bt-other:latest
	run_cmd _bt_docker create --network none --name bt_img_other \
	    bt-other:latest true
	_bt_refused "create bt-other:latest" 'Image=.*bt-other:latest'
	run_cmd _bt_docker pull bt-other:latest
	[ "$RC" -ne 0 ] || fail "docker pull bt-other:latest succeeded"
	expect_match "$ERR" "moatd: POST /v$api/images/create: .*bt-other.* is not allowed" \
	    "docker pull bt-other: stderr"
}
