# A private, real Docker Engine for the integration tests.  Sourced by
# regress/run.sh after lib.sh.
#
#   rig_start	start dockerd (and the containerd it manages) with its own
#		data-root, exec-root, socket, config and cgroup parent; wait
#		until it answers; import a busybox image.  Exports RIG_SOCK,
#		RIG_HOST, RIG_IMAGE.  Returns 1 (after printing why and the
#		daemon's log) if the engine cannot be brought up.
#   rig_stop	tear everything down; safe to call at any point, any number
#		of times, also when rig_start failed half-way.
#   rig_leftovers  print one line per thing rig_stop failed to remove;
#		empty output means nothing was left behind.
#
# Knobs (environment): RIG_DOCKERD (the dockerd binary), RIG_STORAGE
# (storage drivers to try, in order; default "overlay2 vfs"),
# RIG_START_TIMEOUT (seconds; default 60), RIG_TLS (1: dockerd also
# listens with --tlsverify on a loopback port, as RIG_TLS_HOST, with its
# CA, a client certificate and key in RIG_TLS_DIR: ca.pem, client.pem,
# client.key; default 0, since --tlsverify covers every tcp --host).
#
# Nothing of the host's Docker set-up is used or touched: dockerd gets a
# --config-file of its own (so /etc/docker/daemon.json is not read), no
# bridge and no iptables, and starts its own containerd under the
# exec-root.  A few paths are hard-coded in
# dockerd/containerd (/run/docker/plugins, the shims' /run/containerd/s);
# the rig removes those again if it was the one that created them.  A
# test may "docker network create": the bridge that makes is the host's
# and outlives dockerd, so rig_stop removes the networks, and the bridge
# of any network the prune could not.

RIG_DIR=
RIG_EXEC=
RIG_PID=
RIG_CGROUP=
RIG_CREATED=
RIG_BRIDGES=
RIG_LOG=
RIG_STOPPED=0
RIG_SOCK=
RIG_HOST=
RIG_IMAGE=moatd-busybox:latest
RIG_DOCKERD=${RIG_DOCKERD:-dockerd}
RIG_START_TIMEOUT=${RIG_START_TIMEOUT:-60}
RIG_TLS=${RIG_TLS:-0}
RIG_TLS_HOST=
RIG_TLS_DIR=
RIG_TLS_ARGS=()

# shellcheck source=regress/tlslib.sh
. "$(dirname "${BASH_SOURCE[0]}")/tlslib.sh"

# Directories dockerd or containerd create outside their roots.
RIG_HARDCODED="/run/docker/plugins /run/docker /run/containerd/s
/run/containerd"

_rig_now() {
	printf '%s\n' "$EPOCHREALTIME"
}

_rig_since() {
	awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }'
}

# dockerd up to 20.10 writes /etc/docker/key.json unless told otherwise;
# newer ones dropped the key and refuse the unknown option.
_rig_config() {
	local major

	major=$("$RIG_DOCKERD" --version 2>/dev/null |
	    sed -n 's/^Docker version \([0-9]*\)\..*/\1/p')
	if [ -n "$major" ] && [ "$major" -lt 23 ]; then
		printf '{ "deprecated-key-path": "%s/key.json" }\n' "$RIG_DIR"
	else
		printf '{}\n'
	fi >"$RIG_DIR/daemon.json"
}

_rig_image() {
	local root=$RIG_DIR/rootfs bb a

	bb=$(command -v busybox) || {
		echo "rig: busybox not found (apt-get install busybox-static)"
		return 1
	}
	# A dynamically linked busybox would need its libraries inside.
	if ldd "$bb" >/dev/null 2>&1; then
		echo "rig: $bb is not static (apt-get install busybox-static)"
		return 1
	fi
	mkdir -p "$root/bin" "$root/etc" "$root/tmp" "$root/proc" \
	    "$root/sys" "$root/dev" || return 1
	cp "$bb" "$root/bin/busybox" || return 1
	# Relative links: "busybox --install -s" would point them at the
	# host's path of busybox, which does not exist in the image.
	for a in $("$bb" --list); do
		[ "$a" = busybox ] || ln -s busybox "$root/bin/$a" || return 1
	done
	echo 'root:x:0:0:root:/:/bin/sh' >"$root/etc/passwd"
	echo 'root:x:0:' >"$root/etc/group"
	tar -C "$root" -cf - . |
	    docker -H "$RIG_HOST" import --change 'CMD ["/bin/sh"]' - \
	    "$RIG_IMAGE" >/dev/null || return 1
	rm -rf "$root"
}

# With RIG_TLS=1: a CA, dockerd's certificate for 127.0.0.1 and a client
# certificate (for moatd's backend), and dockerd's TLS options.
_rig_tls() {
	local d=$RIG_DIR/tls port

	RIG_TLS_ARGS=()
	[ "$RIG_TLS" = 1 ] || return 0
	port=$(python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])') || return 1
	tls_ca "$d" "moatd rig CA" ec &&
	    tls_cert "$d" "$d/server" server "/CN=moatd rig dockerd" ec \
	    "IP:127.0.0.1,DNS:localhost" &&
	    tls_cert "$d" "$d/client" client "/CN=moatd rig client" ec \
	    "DNS:moatd-rig-client" || return 1
	RIG_TLS_DIR=$d
	RIG_TLS_HOST=tcp://127.0.0.1:$port
	RIG_TLS_ARGS=(--host "$RIG_TLS_HOST" --tlsverify
	    --tlscacert "$d/ca.pem" --tlscert "$d/server.pem"
	    --tlskey "$d/server.key")
	export RIG_TLS_HOST RIG_TLS_DIR
}

# Start dockerd with storage driver $1 and wait until it answers; on
# failure print why and the daemon's log, and return 1.
_rig_launch() {
	local driver=$1 deadline why=

	# setsid: a ^C on the terminal must reach run.sh, which then tears
	# the engine down in order, not dockerd directly.
	setsid "$RIG_DOCKERD" \
	    --config-file "$RIG_DIR/daemon.json" \
	    --data-root "$RIG_DIR/data" \
	    --exec-root "$RIG_EXEC" \
	    --pidfile "$RIG_DIR/dockerd.pid" \
	    --host "$RIG_HOST" "${RIG_TLS_ARGS[@]}" \
	    --iptables=false --ip6tables=false --ip-masq=false \
	    --bridge=none \
	    --storage-driver="$driver" \
	    --cgroup-parent "/$RIG_CGROUP" \
	    --shutdown-timeout 2 \
	    --log-level warn \
	    </dev/null >"$RIG_LOG" 2>&1 &
	RIG_PID=$!

	deadline=$((EPOCHSECONDS + RIG_START_TIMEOUT))
	while :; do
		if ! kill -0 "$RIG_PID" 2>/dev/null; then
			why="dockerd exited"
			break
		fi
		timeout 10 docker -H "$RIG_HOST" version >/dev/null 2>&1 &&
		    return 0
		if [ "$EPOCHSECONDS" -ge "$deadline" ]; then
			why="no answer within ${RIG_START_TIMEOUT}s"
			break
		fi
		sleep 0.1
	done
	echo "rig: cannot start dockerd ($driver): $why; its log:"
	if [ -s "$RIG_LOG" ]; then
		sed 's/^/rig:   /' "$RIG_LOG"
	else
		echo "rig:   (empty)"
	fi
	return 1
}

rig_start() {
	local t0 d driver drivers

	t0=$(_rig_now)
	RIG_STOPPED=0
	RIG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/moatd-rig.XXXXXX") || return 1
	# containerd's sockets live under the exec-root and sun_path holds
	# 108 bytes, so keep it short.
	RIG_EXEC=$(mktemp -d /run/moatd-rig.XXXX 2>/dev/null) ||
	    RIG_EXEC=$(mktemp -d /tmp/mr.XXXX) || return 1
	RIG_SOCK=$RIG_DIR/docker.sock
	RIG_HOST=unix://$RIG_SOCK
	RIG_LOG=$RIG_DIR/dockerd.log
	RIG_CGROUP=${RIG_EXEC##*/}
	export RIG_SOCK RIG_HOST RIG_IMAGE

	RIG_CREATED=
	for d in $RIG_HARDCODED; do
		[ -e "$d" ] || RIG_CREATED="$RIG_CREATED $d"
	done
	_rig_config
	_rig_tls || return 1

	# overlay2 is quicker; vfs works on any file system (e.g. when the
	# tests themselves run in a container, on overlayfs).
	drivers=${RIG_STORAGE:-overlay2 vfs}
	for driver in $drivers; do
		_rig_launch "$driver" && break
		[ "$driver" = "${drivers##* }" ] && return 1
		echo "rig: trying the next storage driver"
		_rig_kill_all
		_rig_umount
		rm -rf --one-file-system "$RIG_DIR/data"
	done
	if ! _rig_image; then
		echo "rig: cannot import $RIG_IMAGE; dockerd's log:"
		sed 's/^/rig:   /' "$RIG_LOG"
		return 1
	fi
	echo "rig: dockerd $RIG_PID ($driver) on $RIG_HOST," \
	    "started in $(_rig_since "$t0")s"
}

# Mount points under the rig's directories, deepest first.
_rig_mounts() {
	local d

	for d in "$RIG_DIR" "$RIG_EXEC"; do
		[ -n "$d" ] || continue
		awk -v d="$d" '$5 == d || index($5, d "/") == 1 { print $5 }' \
		    /proc/self/mountinfo
	done | awk '{ print length($0), $0 }' | sort -rn | cut -d' ' -f2-
}

# Every process of the rig: dockerd, its containerd and the shims (found by
# the rig's unique exec-root on their command line) and whatever runs in
# the containers (found by the rig's cgroup).
_rig_pids() {
	local f

	if [ -n "$RIG_PID" ] && kill -0 "$RIG_PID" 2>/dev/null; then
		echo "$RIG_PID"
	fi
	if [ -n "$RIG_EXEC" ]; then
		pgrep -f -- "${RIG_EXEC//./\\.}" || true
	fi
	for f in $(_rig_cgroups); do
		cat "$f/cgroup.procs" 2>/dev/null
	done
}

_rig_cgroups() {
	[ -n "$RIG_CGROUP" ] || return 0
	find /sys/fs/cgroup/ -maxdepth 3 -type d -path "*/$RIG_CGROUP*" \
	    2>/dev/null | sort -r
}

_rig_umount() {
	local mp

	for mp in $(_rig_mounts); do
		umount -R "$mp" 2>/dev/null || umount -l "$mp" 2>/dev/null
	done
}

# The shims' sockets, which containerd hard-codes under /run/containerd/s;
# a shim removes its own only when it is not killed.
_rig_shim_sockets() {
	local pids

	pids=$(_rig_pids | sort -u | tr '\n' ' ')
	[ -n "$pids" ] || return 0
	ss -xlpH 2>/dev/null | awk -v pids=" $pids" '
	$5 ~ /^\/run\/containerd\/s\// {
		line = $0
		while (match(line, /pid=[0-9]+/)) {
			if (index(pids, " " substr(line, RSTART + 4,
			    RLENGTH - 4) " ")) {
				print $5
				break
			}
			line = substr(line, RSTART + RLENGTH)
		}
	}'
}

_rig_kill_all() {
	local i pids

	for ((i = 0; i < 50; i++)); do
		pids=$(_rig_pids | sort -u)
		[ -n "$pids" ] || return 0
		kill -KILL $pids 2>/dev/null
		sleep 0.1
	done
}

rig_stop() {
	local t0 i ids d socks

	[ "$RIG_STOPPED" = 1 ] && return 0
	RIG_STOPPED=1
	[ -n "$RIG_DIR$RIG_EXEC" ] || return 0
	t0=$(_rig_now)

	if [ -n "$RIG_PID" ] && kill -0 "$RIG_PID" 2>/dev/null; then
		ids=$(timeout 10 docker -H "$RIG_HOST" ps -aq 2>/dev/null)
		if [ -n "$ids" ]; then
			timeout 30 docker -H "$RIG_HOST" rm -f -v $ids \
			    >/dev/null 2>&1
		fi
		# a bridge network's interface is br- and its id's first 12
		RIG_BRIDGES=$(timeout 10 docker -H "$RIG_HOST" network ls -q \
		    --no-trunc --filter driver=bridge 2>/dev/null |
		    sed -n 's/^\([0-9a-f]\{12\}\).*/br-\1/p')
		timeout 30 docker -H "$RIG_HOST" network prune -f \
		    >/dev/null 2>&1
		kill -TERM "$RIG_PID" 2>/dev/null
		for ((i = 0; i < 150; i++)); do
			kill -0 "$RIG_PID" 2>/dev/null || break
			sleep 0.05
		done
		if kill -0 "$RIG_PID" 2>/dev/null; then
			echo "rig: dockerd ignored SIGTERM for 7.5s, killing it"
		fi
	fi
	socks=$(_rig_shim_sockets)
	_rig_kill_all
	# The daemon is our child: reap it (it is gone by now, so wait
	# cannot block) so that it is not left a zombie.
	[ -n "$RIG_PID" ] && wait "$RIG_PID" 2>/dev/null
	[ -n "$socks" ] && rm -f $socks

	_rig_umount
	for d in $(_rig_cgroups); do
		rmdir "$d" 2>/dev/null
	done
	# rm must not reach into a mount that is still there.
	if [ -z "$(_rig_mounts)" ]; then
		for d in "$RIG_DIR" "$RIG_EXEC"; do
			case $d in
			*/moatd-rig.*|*/mr.*) rm -rf --one-file-system "$d" ;;
			esac
		done
	fi
	for d in $RIG_CREATED; do
		rmdir "$d" 2>/dev/null
	done
	for d in $RIG_BRIDGES; do
		[ -e "/sys/class/net/$d" ] && ip link del "$d" 2>/dev/null
	done
	echo "rig: stopped in $(_rig_since "$t0")s"
}

rig_leftovers() {
	local p d

	for p in $(_rig_pids | sort -u); do
		echo "process $p: $(tr '\0' ' ' </proc/"$p"/cmdline 2>/dev/null)"
	done
	for d in $(_rig_mounts); do
		echo "mount $d"
	done
	for d in $(_rig_cgroups); do
		echo "cgroup $d"
	done
	for d in "$RIG_DIR" "$RIG_EXEC"; do
		[ -n "$d" ] && [ -e "$d" ] && echo "directory $d"
	done
	for d in $RIG_CREATED; do
		[ -e "$d" ] && echo "directory $d (created by dockerd)"
	done
	for d in $RIG_BRIDGES; do
		[ -e "/sys/class/net/$d" ] && echo "network interface $d"
	done
	return 0
}
