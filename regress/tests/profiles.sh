# The shipped rule profiles (etc/rules/*.list), each alone in front of the
# rig with the built-in rules, as its header says to use it: every call
# its client makes (taken from the client's source, named in the header)
# gets Docker's answer, a 404 from Docker included, never moatd's 403;
# calls its client must not make get moatd's 403.  The parts a profile
# leaves commented out ("! GET ...") are tested enabled, in a copy.  Of
# the clients themselves, the docker CLI and Prometheus run here.

# run.sh sources the tests from the top of the tree.
PF_RULES=$PWD/etc/rules
PF_URL=
PF_CURL=()
PF_T=20			# seconds any one request or command may take
PF_NOSUCH=pf_no_such_container

# moatd in front of the rig on a free port with rules files "$@" (names
# in etc/rules, or paths).
_pf_start() {
	local f a=()

	PF_URL=http://127.0.0.1:$(free_port)
	PF_CURL=()
	for f in "$@"; do
		[[ $f == */* ]] || f=$PF_RULES/$f
		a+=(-rules-file "$f")
	done
	moatd_start -frontend-addr "tcp://${PF_URL#http://}" \
	    -backend-addr "unix://$RIG_SOCK" "${a[@]}"
}

# A copy of etc/rules/$1 with its commented-out rules ("! GET ...")
# enabled: its path.
_pf_optin() {
	sed -E 's/^! ((GET|HEAD|POST|PUT|DELETE)[ ,])/\1/' "$PF_RULES/$1" \
	    >"$SCRATCH/$1" || fail "cannot copy $1"
	cmp -s "$PF_RULES/$1" "$SCRATCH/$1" && fail "$1 has no opt-in part"
	echo "$SCRATCH/$1"
}

# WANT METHOD TARGET [BODY]: the request through moatd gets WANT (an ERE
# of statuses) from Docker, not moatd's refusal; or, WANT being "deny",
# moatd's own 403.
_pf_req() {
	local want=$1 m=$2 target=$3 st body a=()

	case $m in
	HEAD)	a=(-I) ;;
	*)	a=(-X "$m") ;;
	esac
	[ $# -ge 4 ] && a+=(-H 'Content-Type: application/json' -d "$4")
	st=$(curl -sS --max-time "$PF_T" "${PF_CURL[@]}" "${a[@]}" \
	    -o "$SCRATCH/pf.body" -w '%{http_code}' "$PF_URL$target" \
	    2>"$SCRATCH/pf.err")
	body=$(head -c 300 "$SCRATCH/pf.body")
	if [ "$want" = deny ]; then
		[ "$st" = 403 ] &&
		    [[ $body == *'"moatd: '*' is not allowed"'* ]] && return 0
		fail "$m $target: expected moatd's 403, got $st [$body]" \
		    "$(cat "$SCRATCH/pf.err")"
	fi
	[[ $st =~ ^($want)$ ]] && [[ $body != *'"moatd: '* ]] && return 0
	fail "$m $target: expected Docker's $want, got $st [$body]" \
	    "$(cat "$SCRATCH/pf.err")"
}

# A running container named $1 (removed at the end); PF_ID is its id.
_pf_container() {
	on_exit rig_docker rm -f "$1"
	rig_docker run -d --network none --name "$1" "$RIG_IMAGE" \
	    sleep 60 >/dev/null || fail "cannot start $1"
	PF_ID=$(rig_docker inspect -f '{{.Id}}' "$1") ||
	    fail "cannot inspect $1"
}

# The requests no read-only profile allows: create, exec, delete.
_pf_no_writes() {
	_pf_req deny POST /v1.41/containers/create '{"Image":"x"}'
	_pf_req deny POST "/v1.41/containers/$1/exec" '{"Cmd":["true"]}'
	_pf_req deny DELETE "/v1.41/containers/$1"
}

# Events up to a past date: Docker answers at once and closes.
PF_EVENTS='events?since=1&until=2'
PF_STATS='stats?stream=false&one-shot=true'

t_profiles_homepage() {
	tid "homepage.list: status by name (inspect), stats; swarm part: service by name, tasks"
	_pf_container pf_hp
	_pf_start homepage.list
	_pf_req 200 GET '/v1.41/containers/json?all=true'
	_pf_req 200 GET /v1.41/containers/pf_hp/json
	_pf_req 404 GET "/v1.41/containers/$PF_NOSUCH/json"
	_pf_req 200 GET "/v1.41/containers/pf_hp/$PF_STATS"
	_pf_req deny GET /v1.41/containers/pf_hp/logs
	_pf_req deny GET /v1.41/services/pf_hp
	_pf_no_writes pf_hp
	# the swarm part: the rig is no swarm manager, Docker says so (503)
	moatd_stop
	_pf_start "$(_pf_optin homepage.list)"
	_pf_req 503 GET /v1.41/services/pf_hp
	_pf_req 503 GET '/v1.41/tasks?filters=%7B%22service%22%3A%5B%22pf_hp%22%5D%7D'
	_pf_req deny GET /v1.41/services/pf_hp/logs
}

t_profiles_traefik() {
	tid "traefik.list: HEAD /_ping, containers, events; swarm part: nodes by id"
	_pf_container pf_tr
	_pf_start traefik.list
	_pf_req 200 HEAD /_ping
	_pf_req 200 GET /v1.41/version
	_pf_req 200 GET /v1.41/containers/json
	_pf_req 200 GET "/v1.41/containers/$PF_ID/json"
	_pf_req 200 GET "/v1.41/$PF_EVENTS"
	_pf_req deny GET /v1.41/nodes/4ivku8v2gytr6bhr5xmmuq4c0
	_pf_req deny GET "/v1.41/containers/$PF_ID/logs"
	_pf_no_writes "$PF_ID"
	moatd_stop
	_pf_start "$(_pf_optin traefik.list)"
	_pf_req 503 GET /v1.41/services
	_pf_req 200 GET '/v1.41/networks?filters=%7B%22scope%22%3A%5B%22swarm%22%5D%7D'
	_pf_req 503 GET /v1.41/tasks
	_pf_req 503 GET /v1.41/nodes/4ivku8v2gytr6bhr5xmmuq4c0
	_pf_req deny GET /v1.41/nodes/4ivku8v2gytr6bhr5xmmuq4c0/x
}

t_profiles_readonly_inspect_image() {
	local want

	tid "readonly.list: docker inspect IMAGE (asked first as a container) gets Docker's 404, then the image"
	_pf_start readonly.list
	want=$(rig_docker image inspect -f '{{.Id}}' "$RIG_IMAGE") ||
	    fail "cannot inspect $RIG_IMAGE"
	run_cmd timeout "$PF_T" docker -H "tcp://${PF_URL#http://}" inspect \
	    -f '{{.Id}}' "$RIG_IMAGE"
	expect_eq "$RC" 0 "docker inspect $RIG_IMAGE exit status (stderr: $ERR)"
	expect_eq "$OUT" "$want" "docker inspect $RIG_IMAGE"
	_pf_req 404 GET "/v1.41/containers/$RIG_IMAGE/json"
	_pf_req 404 GET /v1.41/containers/ghcr.io/x/y:1/json
	_pf_req 200 GET "/v1.41/images/$RIG_IMAGE/json"
	run_cmd timeout "$PF_T" docker -H "tcp://${PF_URL#http://}" run --rm \
	    --network none "$RIG_IMAGE" true
	[ "$RC" -ne 0 ] || fail "docker run succeeded under readonly.list"
	expect_match "$ERR" "moatd: POST /v[0-9.]+/containers/create is not allowed" \
	    "docker run stderr"
}

t_profiles_portainer_readonly() {
	tid "portainer-readonly.list: lists and details; an image name asked as a container gets Docker's 404"
	_pf_container pf_po
	_pf_start portainer-readonly.list
	_pf_req 200 GET '/v1.41/containers/json?all=1'
	_pf_req 200 GET /v1.41/containers/pf_po/json
	_pf_req 200 GET /v1.41/containers/pf_po/top
	_pf_req 404 GET "/v1.41/containers/$RIG_IMAGE/json"
	_pf_req 200 GET "/v1.41/images/$RIG_IMAGE/history"
	_pf_req 200 GET /v1.41/networks/none
	_pf_req 200 GET /v1.41/system/df
	_pf_req deny GET /v1.41/containers/pf_po/export
	_pf_req deny POST '/v1.41/images/create?fromImage=busybox'
	_pf_no_writes pf_po
}

t_profiles_dozzle_actions() {
	local ex

	tid "dozzle.list reads only; with dozzle-actions.list: start/stop/restart, remove, exec (create, start, resize), attach"
	_pf_container pf_dz
	_pf_start dozzle.list
	_pf_req 200 GET '/v1.41/containers/json?all=1'
	_pf_req 200 GET /v1.41/containers/pf_dz/json
	_pf_req 200 GET '/v1.41/containers/pf_dz/logs?stdout=1&tail=1'
	_pf_req 200 GET "/v1.41/containers/pf_dz/$PF_STATS"
	_pf_req 200 GET "/v1.41/$PF_EVENTS"
	_pf_req deny POST /v1.41/containers/pf_dz/restart
	_pf_no_writes pf_dz
	moatd_stop

	_pf_start dozzle.list dozzle-actions.list
	_pf_req 204 POST '/v1.41/containers/pf_dz/restart?t=0'
	ex=$(curl -sS --max-time "$PF_T" -H 'Content-Type: application/json' \
	    -d '{"AttachStdin":true,"AttachStdout":true,"Tty":true,"Cmd":["sleep","5"]}' \
	    "$PF_URL/v1.41/containers/pf_dz/exec" | jq -r .Id)
	[[ $ex =~ ^[0-9a-f]{64}$ ]] || fail "exec create through moatd: [$ex]"
	_pf_req 200 POST "/v1.41/exec/$ex/start" '{"Detach":true,"Tty":true}'
	_pf_req '20[01]' POST "/v1.41/exec/$ex/resize?h=40&w=100"
	_pf_req 200 POST '/v1.41/containers/pf_dz/attach?logs=1&stream=0&stdout=1'
	_pf_req deny GET "/v1.41/exec/$ex/json"
	_pf_req deny POST /v1.41/containers/create '{"Image":"x"}'
	_pf_req deny GET '/v1.41/containers/pf_dz/archive?path=/'
	_pf_req 204 POST '/v1.41/containers/pf_dz/stop?t=0'
	_pf_req 204 POST /v1.41/containers/pf_dz/start
	_pf_req 204 DELETE '/v1.41/containers/pf_dz?force=1'
	run_cmd rig_docker ps -aq --filter name=pf_dz
	expect_eq "$OUT" "" "pf_dz after DELETE through moatd"
}

t_profiles_watchtower() {
	tid "watchtower.list: inspect, pull-less image inspect, kill; no exec"
	_pf_container pf_wt
	_pf_start watchtower.list
	_pf_req 200 GET /v1.41/containers/json
	_pf_req 200 GET /v1.41/containers/pf_wt/json
	_pf_req 200 GET "/v1.41/images/$RIG_IMAGE/json"
	_pf_req 204 POST /v1.41/containers/pf_wt/kill
	_pf_req deny POST /v1.41/containers/pf_wt/exec '{"Cmd":["true"]}'
	_pf_req deny POST /v1.41/build
}

t_profiles_netdata() {
	local prefix

	tid "netdata.list: inspect by the full 64-digit id only (not a prefix, a short or a 63-digit hex name); go.d's lists"
	_pf_container pf_nd
	prefix=${PF_ID:0:12}
	_pf_start netdata.list
	_pf_req 200 GET "/containers/$PF_ID/json"
	_pf_req 200 GET "/v1.41/containers/$PF_ID/json"
	_pf_req deny GET "/containers/$prefix/json"
	_pf_req deny GET /containers/abc123/json
	_pf_req deny GET "/containers/${PF_ID:0:63}/json"
	_pf_req deny GET /containers/pf_nd/json
	_pf_req 200 GET /v1.41/info
	_pf_req 200 GET '/v1.41/containers/json?all=1&filters=%7B%22health%22%3A%5B%22none%22%5D%7D'
	_pf_req 200 GET /v1.41/images/json
	_pf_req deny GET "/v1.41/containers/$PF_ID/logs"
	_pf_no_writes "$PF_ID"
}

t_profiles_prometheus() {
	tid "prometheus.list: docker_sd's containers and networks; dockerswarm_sd part"
	_pf_container pf_pm
	_pf_start prometheus.list
	_pf_req 200 GET /_ping
	_pf_req 200 GET /v1.41/containers/json
	_pf_req 200 GET /v1.41/networks
	_pf_req deny GET "/v1.41/containers/$PF_ID/json"
	_pf_req deny GET /v1.41/services
	_pf_no_writes "$PF_ID"
	moatd_stop
	_pf_start "$(_pf_optin prometheus.list)"
	_pf_req 503 GET /v1.41/services
	_pf_req 503 GET /v1.41/tasks
	_pf_req 503 GET /v1.41/nodes
	_pf_req deny GET /v1.41/secrets
}

t_profiles_uptime_kuma() {
	tid "uptime-kuma.list: the container list, a monitored container by name, an absent one gets Docker's 404"
	_pf_container pf_uk
	_pf_start uptime-kuma.list
	_pf_req 200 GET '/containers/json?all=true'
	_pf_req 200 GET /containers/pf_uk/json
	_pf_req 404 GET "/containers/$PF_NOSUCH/json"
	_pf_req deny GET /containers/pf_uk/logs
	_pf_req deny GET /v1.41/images/json
	_pf_no_writes pf_uk
}

t_profiles_diun() {
	tid "diun.list: version, containers, each one's image; swarm part: services"
	_pf_container pf_di
	_pf_start diun.list
	_pf_req 200 GET /v1.41/version
	_pf_req 200 GET /v1.41/containers/json
	_pf_req 200 GET "/v1.41/images/$RIG_IMAGE/json"
	_pf_req deny POST '/v1.41/images/create?fromImage=busybox'
	_pf_req deny GET /v1.41/containers/pf_di/json
	_pf_no_writes pf_di
	moatd_stop
	_pf_start "$(_pf_optin diun.list)"
	_pf_req 503 GET /v1.41/services
}

t_profiles_beszel() {
	local short

	tid "beszel.list: version, info, containers, stats by short id; details and logs part"
	_pf_container pf_bz
	short=${PF_ID:0:12}
	_pf_start beszel.list
	_pf_req 200 GET /version
	_pf_req 200 GET /info
	_pf_req 200 GET /containers/json
	_pf_req 200 GET "/containers/$short/stats?stream=0&one-shot=1"
	_pf_req deny GET "/containers/$short/json"
	_pf_req deny GET /containers/pf_bz/stats
	_pf_no_writes "$short"
	moatd_stop
	_pf_start "$(_pf_optin beszel.list)"
	_pf_req 200 GET "/containers/$short/json"
	_pf_req 200 GET "/containers/$short/logs?stdout=1&tail=10"
	_pf_req deny GET /containers/pf_bz/logs
}

t_profiles_zabbix() {
	local sock=$SCRATCH/moatd.sock

	tid "zabbix.list on a unix socket (the plugin speaks no tcp): every docker.* key's request"
	_pf_container pf_zb
	moatd_start -frontend-addr "unix://$sock" \
	    -backend-addr "unix://$RIG_SOCK" -rules-file "$PF_RULES/zabbix.list"
	# the plugin's URLs are http://1.28/<path>: the version is the host
	PF_URL=http://1.28
	PF_CURL=(--unix-socket "$sock")
	_pf_req 200 GET /_ping
	_pf_req 200 GET /info
	_pf_req 200 GET '/containers/json?all=true'
	_pf_req 200 GET /containers/pf_zb/json
	_pf_req 200 GET /containers/pf_zb/stats?stream=false
	_pf_req 200 GET /images/json
	_pf_req 200 GET /system/df
	_pf_req deny GET /containers/pf_zb/logs
	_pf_no_writes pf_zb
}

t_profiles_glance() {
	tid "glance.list: the container list only"
	_pf_container pf_gl
	_pf_start glance.list
	_pf_req 200 GET '/containers/json?all=true'
	_pf_req deny GET /containers/pf_gl/json
	_pf_req deny GET /v1.41/events
	_pf_no_writes pf_gl
}

# Prometheus itself (Debian's prometheus package), its docker_sd_configs
# pointed at moatd: with prometheus.list it discovers the rig's running
# container, labelled with its name; with a profile that lacks the
# networks call, its own log says moatd refused it.
_pf_prometheus() {
	local port=$1 web

	web=$(free_port)
	cat >"$SCRATCH/prom.yml" <<-EOF2
	global:
	  scrape_interval: 1h
	scrape_configs:
	  - job_name: docker
	    docker_sd_configs:
	      - host: http://127.0.0.1:$port
	        refresh_interval: 1s
	EOF2
	mkdir -p "$SCRATCH/prom-data"
	prometheus --config.file="$SCRATCH/prom.yml" \
	    --storage.tsdb.path="$SCRATCH/prom-data" \
	    --web.listen-address="127.0.0.1:$web" \
	    >"$SCRATCH/prom.log" 2>&1 &
	PF_PROM=$!
	PF_PROM_WEB=$web
	on_exit kill "$PF_PROM"
}

t_profiles_prometheus_real() {
	tid "prometheus.list with Prometheus itself: docker_sd finds the container; without the networks rule, Prometheus logs moatd's refusal"
	local i out

	command -v prometheus >/dev/null || fail "prometheus is not installed"
	_pf_container pf_prom_c
	_pf_start prometheus.list
	_pf_prometheus "${PF_URL##*:}"
	for ((i = 0; i < 100; i++)); do
		out=$(curl -s --max-time 2 \
		    "http://127.0.0.1:$PF_PROM_WEB/api/v1/targets?state=any")
		[[ $out == *'"__meta_docker_container_name":"/pf_prom_c"'* ]] &&
			break
		sleep 0.2
	done
	[[ $out == *'"__meta_docker_container_name":"/pf_prom_c"'* ]] ||
	    fail "Prometheus did not discover pf_prom_c in 20 s:" \
	    "$(head -c 600 <<<"$out")"$'\n'"$(tail -5 "$SCRATCH/prom.log")"
	kill "$PF_PROM"
	wait "$PF_PROM" 2>/dev/null
	moatd_stop
	# The same without the networks list: Prometheus says why it failed.
	grep -v '^GET %API_PREFIX_NETWORKS%$' "$PF_RULES/prometheus.list" \
	    >"$SCRATCH/nonet.list"
	_pf_start "$SCRATCH/nonet.list"
	_pf_prometheus "${PF_URL##*:}"
	for ((i = 0; i < 100; i++)); do
		grep -q 'moatd: GET /v1\.[0-9]*/networks is not allowed' \
		    "$SCRATCH/prom.log" && break
		sleep 0.2
	done
	grep -q 'moatd: GET /v1\.[0-9]*/networks is not allowed' \
	    "$SCRATCH/prom.log" ||
	    fail "no refusal in Prometheus's log:"$'\n'"$(tail -5 "$SCRATCH/prom.log")"
	pass
}
