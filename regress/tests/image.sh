# The container image (make image) and the compose example
# (etc/compose.yaml).  t_image builds the image on the rig's engine, runs
# it with the rig's socket bind-mounted and the compose file's hardening,
# and drives the docker CLI through it; t_image_compose checks that the
# compose file's one proxy gives each client, by its container name, what
# it needs and nothing worse.

SRC=$PWD
IMAGE_UID=65532

# Containers (ids) and images (ids and tags) in the rig.
_image_containers() {
	rig_docker ps -a -q --no-trunc | LC_ALL=C sort
}

_image_images() {
	rig_docker images -a --no-trunc --format '{{.ID}} {{.Repository}}:{{.Tag}}' |
	    LC_ALL=C sort
}

# What etc/compose.yaml gives the proxy: read-only, the capability set,
# security options, as docker run flags, one a line.
_compose_hardening() {
	python3 - "$SRC/etc/compose.yaml" <<'EOF'
import sys, yaml
m = yaml.safe_load(open(sys.argv[1]))["services"]["moatd"]
if m.get("read_only"):
    print("--read-only")
for c in m["cap_drop"]:
    print("--cap-drop=" + c)
for c in m["cap_add"]:
    print("--cap-add=" + c)
for o in m["security_opt"]:
    print("--security-opt=" + o)
EOF
}

# The image's only layer, listed as "mode uid/gid path" (sorted).
_image_layer() {
	local dir=$SCRATCH/save layer

	mkdir -p "$dir/x" || return 1
	rig_docker save "$1" >"$dir/image.tar" || return 1
	tar -C "$dir/x" -xf "$dir/image.tar" || return 1
	layer=$(cd "$dir/x" && find . -name layer.tar)
	[ "$(printf '%s\n' "$layer" | wc -l)" = 1 ] ||
	    fail "image $1: expected one layer, found: $layer"
	mkdir -p "$dir/root" || return 1
	tar -C "$dir/root" -xf "$dir/x/$layer" || return 1
	tar --numeric-owner -tvf "$dir/x/$layer" |
	    awk '{ print $1, $2, $6 }' | LC_ALL=C sort
}

_IMAGE_CLEAN=

_image_cleanup() {
	set -- $1 $_IMAGE_CLEAN
	if [ $# -eq 3 ]; then
		rig_docker rm -f "$2" >/dev/null 2>&1
		rig_docker rmi moatd:latest "$3" >/dev/null 2>&1
	fi
	(exit "$1")
	_test_exit
}

# Wait until the container's moatd accepts on 127.0.0.1:$2.
_image_ready() {
	local i

	for ((i = 0; i < 200; i++)); do
		[ "$(rig_docker inspect -f '{{.State.Running}}' "$1")" = true ] ||
		    fail "container $1 stopped:"$'\n'"$(rig_docker logs "$1" 2>&1)"
		_accepts "tcp://127.0.0.1:$2" && return 0
		sleep 0.05
	done
	fail "container $1 not accepting on port $2 after 10s:"$'\n'"$(
	    rig_docker logs "$1" 2>&1)"
}

# Every moatd process of the container: "pid ppid uid gid title".
_image_procs() {
	rig_docker top "$1" -eo pid,ppid,uid,gid,args | tail -n +2 |
	    sed 's/  */ /g; s/^ //'
}

# A child must be the image's user in every id, hold no capability, have
# no_new_privs, and see an empty root (the chroot).  Its pid is the host's
# (docker top), so /proc is the host's own.
_image_check_child() {
	local pid=$1 what=$2 st

	st=$(cat /proc/"$pid"/status) || fail "$what: no /proc/$pid"
	expect_eq "$(awk '$1 == "Uid:" { print $2, $3, $4, $5 }' <<<"$st")" \
	    "$IMAGE_UID $IMAGE_UID $IMAGE_UID $IMAGE_UID" "$what: Uid"
	expect_eq "$(awk '$1 == "Gid:" { print $2, $3, $4, $5 }' <<<"$st")" \
	    "$IMAGE_UID $IMAGE_UID $IMAGE_UID $IMAGE_UID" "$what: Gid"
	# setgroups() to nothing or to the user's own group, never more.
	expect_match "$(awk '$1 == "Groups:" { $1 = ""; print }' <<<"$st" |
	    tr -d ' ')" "^($IMAGE_UID)?\$" "$what: supplementary groups"
	# The bounding set stays the container's: with no_new_privs and no
	# exec it grants nothing.
	expect_eq "$(awk '$1 == "CapInh:" || $1 == "CapPrm:" ||
	    $1 == "CapEff:" || $1 == "CapAmb:" { print $2 }' <<<"$st" |
	    sort -u)" 0000000000000000 "$what: capabilities"
	expect_eq "$(awk '$1 == "NoNewPrivs:" { print $2 }' <<<"$st")" 1 \
	    "$what: NoNewPrivs"
	expect_eq "$(ls -A /proc/"$pid"/root/)" "" "$what: its root directory"
}

t_image() {
	local port ct ver cts imgs hard out procs parent pid n line proxy t0

	tid "make image; run it on the rig's socket; docker CLI through it"
	run_cmd "$MOATD" -version
	ver=${OUT#moatd }
	port=$(free_port)
	ct=moatd-t-image-$$
	cts=$(_image_containers)
	imgs=$(_image_images)
	# A failed check exits the test: remove what it made, then run the
	# harness's own exit checks.
	_IMAGE_CLEAN="$ct moatd:$ver"
	trap '_image_cleanup $?' EXIT

	t0=$EPOCHREALTIME
	DOCKER_HOST=$RIG_HOST make -C "$SRC" --no-print-directory image \
	    IMAGE=moatd IMAGE_CTX="$SCRATCH/ctx" >"$SCRATCH/make.log" 2>&1 ||
	    fail "make image failed:"$'\n'"$(tail -n 30 "$SCRATCH/make.log")"
	tid "make image ($(awk -v a="$t0" -v b="$EPOCHREALTIME" \
	    'BEGIN { printf "%.2f", b - a }')s); run it on the rig's socket;\
 docker CLI through it"

	# The image: both tags, its configuration (the builder adds a PATH to
	# the environment), exactly these files.
	expect_eq "$(rig_docker image inspect -f '{{.Id}}' moatd:latest)" \
	    "$(rig_docker image inspect -f '{{.Id}}' "moatd:$ver")" \
	    "moatd:latest and moatd:$ver"
	expect_eq "$(rig_docker image inspect -f '{{json .Config.Entrypoint}}
{{json .Config.Cmd}}
{{range .Config.Env}}{{println .}}{{end}}{{json .Config.ExposedPorts}}
{{.Config.User}}
{{index .Config.Labels "org.opencontainers.image.version"}}' moatd:latest |
	    grep -v '^PATH=')" \
'["/moatd","-d"]
null
CETUSGUARD_FRONTEND_ADDR=tcp://:2375
{"2375/tcp":{}}
0:0
'"$ver" "image configuration"
	out=$(_image_layer moatd:latest) || fail "cannot save moatd:latest"
	expect_eq "$out" "$({ echo \
"-rw-r--r-- 0/0 etc/group
-rw-r--r-- 0/0 etc/nsswitch.conf
-rw-r--r-- 0/0 etc/passwd
-rwxr-xr-x 0/0 moatd
drwxr-xr-x 0/0 etc/
drwxr-xr-x 0/0 etc/moatd/
drwxr-xr-x 0/0 etc/moatd/rules/
drwxr-xr-x 0/0 var/
drwxr-xr-x 0/0 var/empty/
drwxr-xr-x 0/0 var/empty/moatd/"
	    for f in "$SRC"/etc/rules/*.list; do
		echo "-rw-r--r-- 0/0 etc/moatd/rules/${f##*/}"
	    done; } | LC_ALL=C sort)" "files in the image (mode uid/gid path)"
	for f in "$SRC"/etc/rules/*.list; do
		cmp -s "$f" "$SCRATCH/save/root/etc/moatd/rules/${f##*/}" ||
		    fail "/etc/moatd/rules/${f##*/} differs from etc/rules"
	done
	expect_eq "$(cat "$SCRATCH/save/root/etc/passwd")" \
"root:x:0:0:root:/:/nonexistent
_moatd:x:$IMAGE_UID:$IMAGE_UID:moatd:/var/empty/moatd:/nonexistent" \
	    "/etc/passwd"
	expect_eq "$(cat "$SCRATCH/save/root/etc/group")" \
"root:x:0:
_moatd:x:$IMAGE_UID:" "/etc/group"
	readelf -lW "$SCRATCH/save/root/moatd" | grep -q INTERP &&
	    fail "/moatd in the image has an ELF interpreter"
	run_cmd "$SCRATCH/save/root/moatd" -version
	expect_eq "$OUT" "moatd $ver" "/moatd -version"

	# Run it as the compose file does: root, four capabilities,
	# read-only, no_new_privs; the socket read-only; configured by
	# CetusGuard's variables, a shipped rules file and a command option.
	hard=$(_compose_hardening) || fail "cannot read etc/compose.yaml"
	run_cmd rig_docker run -d --name "$ct" --network host $hard \
	    -v "$RIG_SOCK:/var/run/docker.sock:ro" \
	    -e CETUSGUARD_BACKEND_ADDR=unix:///var/run/docker.sock \
	    -e CETUSGUARD_FRONTEND_ADDR="tcp://127.0.0.1:$port" \
	    -e CETUSGUARD_RULES_FILE=/etc/moatd/rules/traefik.list \
	    -e CETUSGUARD_RULES='GET %API_PREFIX_IMAGES%/json' \
	    moatd:latest -prefork 2
	expect_eq "$RC" 0 "docker run moatd:latest ($ERR)"
	_image_ready "$ct" "$port"
	proxy=tcp://127.0.0.1:$port

	run_cmd docker -H "$proxy" version \
	    --format '{{.Server.Version}} {{.Server.APIVersion}}'
	expect_eq "$RC" 0 "docker version through moatd ($ERR)"
	expect_eq "$OUT" "$(rig_docker version \
	    --format '{{.Server.Version}} {{.Server.APIVersion}}')" \
	    "server version through moatd"
	run_cmd docker -H "$proxy" ps -a --no-trunc --format '{{.ID}} {{.Names}}'
	expect_eq "$RC" 0 "docker ps through moatd ($ERR)"
	expect_eq "$OUT" "$(rig_docker ps -a --no-trunc \
	    --format '{{.ID}} {{.Names}}')" "docker ps through moatd"
	grep -Eqx "[0-9a-f]{64} $ct" <<<"$OUT" ||
	    fail "docker ps through moatd does not list $ct: [$OUT]"
	run_cmd docker -H "$proxy" run --rm "$RIG_IMAGE" true
	expect_eq "$RC" 125 "exit status of a denied docker run"
	expect_match "$ERR" \
	    "Error response from daemon: moatd: POST /v1\.[0-9]+/containers/create is not allowed" \
	    "docker run through moatd"
	run_cmd docker -H "$proxy" images -a --no-trunc --format '{{.ID}}'
	expect_eq "$RC" 0 "docker images through moatd ($ERR)"
	# Images created in the same second list in no fixed order: compare
	# the sets.
	expect_eq "$(printf '%s\n' "$OUT" | sort)" \
	    "$(rig_docker images -a --no-trunc --format '{{.ID}}' | sort)" \
	    "docker images through moatd"
	run_cmd docker -H "$proxy" volume ls
	expect_eq "$RC" 1 "exit status of a denied docker volume ls"
	expect_match "$ERR" \
	    "Error response from daemon: moatd: GET /v1\.[0-9]+/volumes is not allowed" \
	    "docker volume ls through moatd"
	expect_eq "$(_image_containers)" "$({ printf '%s\n' "$cts";
	    rig_docker inspect -f '{{.Id}}' "$ct"; } | grep . | LC_ALL=C sort)" \
	    "containers after the denied docker run"

	# The parent is root; the policy worker, both forwarders, both relays
	# and the watcher are its children, demoted to the image's user and
	# chrooted.
	procs=$(_image_procs "$ct")
	expect_eq "$(awk '{ $1 = $2 = ""; print }' <<<"$procs" |
	    sed 's/^ *//' | LC_ALL=C sort)" \
"0 0 moatd: parent
$IMAGE_UID $IMAGE_UID moatd: forwarder[0]
$IMAGE_UID $IMAGE_UID moatd: forwarder[1]
$IMAGE_UID $IMAGE_UID moatd: policy
$IMAGE_UID $IMAGE_UID moatd: relay[0]
$IMAGE_UID $IMAGE_UID moatd: relay[1]
$IMAGE_UID $IMAGE_UID moatd: watcher" "processes in the container"
	parent=$(awk '$6 == "parent" { print $1 }' <<<"$procs")
	[ -e "/proc/$parent/root/moatd" ] ||
	    fail "the parent does not see /moatd at its root"
	n=0
	while read -r pid line; do
		[ "$(awk '{ print $1 }' <<<"$line")" = "$parent" ] ||
		    fail "process $pid ($line): not a child of the parent"
		_image_check_child "$pid" "${line##* }"
		n=$((n + 1))
	done < <(awk '$6 != "parent" { print $1, $2, $6 }' <<<"$procs")
	expect_eq "$n" 6 "children checked"

	# Nothing died on the way, and SIGTERM (docker stop) ends it cleanly.
	run_cmd rig_docker logs "$ct"
	expect_match "$ERR" "listening on tcp://127\.0\.0\.1:$port" \
	    "the container's log"
	[[ $ERR == *"lost child"* ]] &&
	    fail "a child died in the container:"$'\n'"$ERR"
	run_cmd rig_docker stop -t 10 "$ct"
	expect_eq "$RC" 0 "docker stop ($ERR)"
	expect_eq "$(rig_docker inspect -f '{{.State.ExitCode}}' "$ct")" 0 \
	    "moatd's exit status after docker stop"

	# Leave the engine as it was.
	run_cmd rig_docker rm "$ct"
	expect_eq "$RC" 0 "docker rm ($ERR)"
	run_cmd rig_docker rmi moatd:latest "moatd:$ver"
	expect_eq "$RC" 0 "docker rmi ($ERR)"
	expect_eq "$(_image_containers)" "$cts" "containers after the test"
	expect_eq "$(_image_images)" "$imgs" "images after the test"
}

# Check the compose file's shape: one proxy, "moatd", configured by
# etc/compose-moatd.conf only, on one internal network with every client.
# Prints "service container_name" per client, sorted, and "error: ..."
# for anything wrong.
_compose_clients() {
	python3 - "$SRC" <<'EOF'
import sys, yaml
src = sys.argv[1]
d = yaml.safe_load(open(src + "/etc/compose.yaml"))
svc, nets = d["services"], d["networks"]
def err(*a):
    print("error:", *a)
proxies = sorted(n for n, s in svc.items()
    if s.get("image", "").startswith("moatd:"))
if proxies != ["moatd"]:
    err("proxies", proxies)
    sys.exit(0)
m = svc["moatd"]
if m.get("container_name") != "moatd":
    err("moatd: container_name", m.get("container_name"))
if m.get("volumes") != ["/var/run/docker.sock:/var/run/docker.sock:ro",
    "./compose-moatd.conf:/etc/moatd.conf:ro"]:
    err("moatd: volumes", m.get("volumes"))
if m.get("command") != ["-f", "/etc/moatd.conf"]:
    err("moatd: command", m.get("command"))
if m.get("read_only") is not True or "ports" in m:
    err("moatd: read_only or ports")
# the environment would win over the file
for k in m.get("environment") or {}:
    if k.startswith("CETUSGUARD_"):
        err("moatd: environment", k)
mnets = list(m.get("networks") or [])
if len(mnets) != 1:
    err("moatd: is on networks", mnets)
    sys.exit(0)
net = mnets[0]
if not nets[net].get("internal"):
    err("network", net, "is not internal")
for c, s in sorted(svc.items()):
    if c == "moatd":
        continue
    if (s.get("environment") or {}).get("DOCKER_HOST") != "tcp://moatd:2375":
        err(c, "DOCKER_HOST")
    if net not in list(s.get("networks") or []):
        err(c, "is not on", net)
    print(c, s.get("container_name"))
EOF
}

# etc/compose-moatd.conf with the image's rule sets taken from etc/rules,
# as $SCRATCH/compose.conf.
_compose_conf() {
	mkdir -p "$SCRATCH/rules" || return 1
	install -m 0644 "$SRC"/etc/rules/*.list "$SCRATCH/rules/" || return 1
	sed "s|\"/etc/moatd/rules/|\"$SCRATCH/rules/|" \
	    "$SRC/etc/compose-moatd.conf" >"$SCRATCH/compose.conf"
}

# _compose_q client allow|deny 'METHOD TARGET' ...: as client block
# <client> of the compose configuration.
_compose_q() {
	local c=$1 want=$2 req

	shift 2
	for req in "$@"; do
		run_cmd "$MOATD" -q "$req" -f "$SCRATCH/compose.conf" -as "$c"
		case $want in
		allow)	expect_match "$OUT" "^allow [^ ]+:[0-9]+ \(client $c\)\$" \
			    "client $c, $req" ;;
		deny)	expect_eq "$OUT" "deny (client $c)" "client $c, $req" ;;
		esac
	done
}

t_image_compose() {
	local out v=/v1.41 id=4f6b2a1c9d3e

	tid "etc/compose.yaml: one moatd, a client block per container name, each allowing what its client needs"
	out=$(_compose_clients) || fail "cannot read etc/compose.yaml"
	expect_eq "$out" "dozzle dozzle
homepage homepage
portainer portainer
traefik traefik" "clients and their container names"
	_compose_conf || fail "cannot copy etc/compose-moatd.conf"
	run_cmd "$MOATD" -n -v -f "$SCRATCH/compose.conf"
	expect_eq "$RC" 0 "moatd -n -v -f etc/compose-moatd.conf ($ERR)"
	# each client's container name selects the block of that name, and
	# nothing else does
	expect_eq "$(awk '/^client "/ { c = $2 }
	    /^\tmatch / { sub(/^\t/, ""); print c, $0 }' <<<"$OUT" |
	    tr -d '"')" 'portainer match container name portainer
homepage match container name homepage
dozzle match container name dozzle
traefik match container name traefik' "the client blocks' match lines"

	# a container none of these: not even the built-ins
	run_cmd "$MOATD" -q "GET /_ping" -f "$SCRATCH/compose.conf"
	expect_eq "$OUT" "deny (no client block)" "the top level, GET /_ping"
	run_cmd "$MOATD" -q "GET $v/containers/json" -f "$SCRATCH/compose.conf"
	expect_eq "$OUT" "deny (no client block)" \
	    "the top level, GET /containers/json"

	_compose_q portainer allow "GET $v/containers/json?all=1" \
	    "POST $v/containers/$id/start" "POST $v/containers/$id/exec" \
	    "POST $v/exec/$id/start" "GET $v/images/json" "GET $v/events" \
	    "GET $v/volumes" "GET $v/networks/bridge" "GET /_ping"
	_compose_q portainer deny "DELETE $v/containers/$id" \
	    "POST $v/images/create?fromImage=alpine" "DELETE $v/images/alpine" \
	    "POST $v/volumes/create" "PUT $v/containers/$id/archive?path=/" \
	    "POST $v/build"
	_compose_q homepage allow "GET $v/containers/json?all=1" \
	    "GET $v/containers/web/json" \
	    "GET $v/containers/web/stats?stream=false" "GET /_ping"
	_compose_q homepage deny "GET $v/containers/$id/top" \
	    "GET $v/containers/$id/logs" "POST $v/containers/$id/start" \
	    "GET $v/events" "GET $v/images/json"
	_compose_q dozzle allow "GET $v/containers/json?all=1" \
	    "GET $v/containers/$id/json" "GET $v/events" \
	    "GET $v/containers/$id/logs?follow=1&stdout=1&stderr=1" \
	    "GET $v/containers/$id/stats"
	_compose_q dozzle deny "POST $v/containers/$id/exec" \
	    "POST $v/containers/$id/start" "GET $v/containers/$id/archive" \
	    "GET $v/images/json"
	_compose_q traefik allow "GET $v/events" "GET $v/containers/json" \
	    "GET $v/containers/$id/json"
	_compose_q traefik deny "GET $v/containers/$id/logs" \
	    "POST $v/containers/$id/start" "GET $v/networks"
}

# The compose file's set-up run for real: the image, etc/compose-moatd.conf
# (root's, bind-mounted), on an internal network with busybox containers
# named as two of its clients and one stranger; the docker CLI and wget in
# them get each its client's rights, by container name.
_image_run_cleanup() {
	rig_docker rm -f "$@" >/dev/null 2>&1
	rig_docker network rm "ict_$$" >/dev/null 2>&1
	rig_docker rmi moatd:latest "moatd:$IMAGE_VER" >/dev/null 2>&1
}

# Busybox wget in container $1 of the proxy's $2: sets RC, OUT, ERR.
_image_wget() {
	run_cmd timeout 20 docker -H "$RIG_HOST" exec "$1" \
	    wget -q -O - "http://198.18.14.2:2375$2"
}

# The docker CLI in container $1 on the proxy: sets RC, OUT, ERR.
_image_cli() {
	local ct=$1

	shift
	run_cmd timeout 30 docker -H "$RIG_HOST" exec \
	    -e DOCKER_CONFIG=/tmp/.docker "$ct" \
	    /docker -H tcp://198.18.14.2:2375 "$@"
}

t_image_compose_run() {
	local px=moatd-t-compose-$$ st=stranger_$$ c hard i

	tid "etc/compose.yaml's one moatd, run: containers named homepage and traefik get their own rights, another nothing"
	run_cmd "$MOATD" -version
	IMAGE_VER=${OUT#moatd }
	on_exit _image_run_cleanup "$px" homepage traefik "$st"
	DOCKER_HOST=$RIG_HOST make -C "$SRC" --no-print-directory image \
	    IMAGE=moatd IMAGE_CTX="$SCRATCH/ctx" >"$SCRATCH/make.log" 2>&1 ||
	    fail "make image failed:"$'\n'"$(tail -n 30 "$SCRATCH/make.log")"
	# as the compose file asks: root's, written by root only
	install -m 0644 "$SRC/etc/compose-moatd.conf" "$SCRATCH/compose.conf" ||
	    fail "cannot copy etc/compose-moatd.conf"
	run_cmd rig_docker network create --internal \
	    --subnet 198.18.14.0/24 "ict_$$"
	expect_eq "$RC" 0 "docker network create ($ERR)"
	hard=$(_compose_hardening) || fail "cannot read etc/compose.yaml"
	run_cmd rig_docker run -d --name "$px" --network "ict_$$" \
	    --ip 198.18.14.2 $hard \
	    -v "$RIG_SOCK:/var/run/docker.sock:ro" \
	    -v "$SCRATCH/compose.conf:/etc/moatd.conf:ro" \
	    moatd:latest -f /etc/moatd.conf
	expect_eq "$RC" 0 "docker run moatd:latest ($ERR)"
	for c in homepage traefik "$st"; do
		run_cmd rig_docker run -d --name "$c" --network "ict_$$" \
		    -v "$(command -v docker):/docker:ro" "$RIG_IMAGE" sleep 300
		expect_eq "$RC" 0 "docker run --name $c ($ERR)"
	done

	# the proxy starts, then reads the daemon's list of containers
	for ((i = 0; i < 150; i++)); do
		_image_wget homepage /containers/json
		[ "$RC" = 0 ] && break
		[ "$(rig_docker inspect -f '{{.State.Running}}' "$px")" = true ] ||
		    fail "$px stopped:"$'\n'"$(rig_docker logs "$px" 2>&1)"
		sleep 0.1
	done
	[ "$RC" = 0 ] || fail "wget /containers/json in homepage: $ERR"$'\n'"$(
	    rig_docker logs "$px" 2>&1 | tail -n 20)"
	_image_cli homepage ps --format '{{.Names}}'
	expect_eq "$RC" 0 "docker ps in homepage ($ERR)"
	expect_eq "$(sort <<<"$OUT")" "$(printf '%s\n' "$px" homepage traefik \
	    "$st" | sort)" "docker ps in homepage"
	# homepage.list: the status badge inspects by name; no logs (the CLI
	# asks for them by the id the inspection gave)
	_image_cli homepage inspect -f '{{.Name}}' traefik
	expect_eq "$RC:$OUT" 0:/traefik "docker inspect in homepage ($ERR)"
	_image_cli homepage logs traefik
	expect_match "$ERR" \
	    "moatd: GET /v1\.[0-9]+/containers/[0-9a-f]{64}/logs is not allowed for client homepage" \
	    "docker logs in homepage"
	_image_cli traefik inspect -f '{{.Name}}' homepage
	expect_eq "$RC:$OUT" 0:/homepage "docker inspect in traefik ($ERR)"
	_image_cli traefik images
	expect_match "$ERR" \
	    "moatd: GET /v1\.[0-9]+/images/json is not allowed for client traefik" \
	    "docker images in traefik"
	# the stranger: nothing, not even /_ping
	_image_wget "$st" /_ping
	expect_match "$RC $ERR" "^1 .*403 Forbidden" "wget /_ping in $st"
	_image_wget "$st" /containers/json
	expect_match "$RC $ERR" "^1 .*403 Forbidden" \
	    "wget /containers/json in $st"
	run_cmd rig_docker logs "$px"
	expect_match "$ERR" \
	    "client=homepage peer=198\.18\.14\.[0-9]+:[0-9]+ method=GET path=/v1\.[0-9]+/containers/json verdict=allow" \
	    "the proxy's log"
	expect_match "$ERR" \
	    "client=- peer=198\.18\.14\.[0-9]+:[0-9]+ method=GET path=/_ping verdict=deny" \
	    "the proxy's log"
	[[ $ERR == *"lost child"* ]] &&
	    fail "a child died in the container:"$'\n'"$ERR"
	pass
}
