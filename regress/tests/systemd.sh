# moatd under systemd, without a running systemd: the units must pass
# systemd-analyze verify; systemd-socket-activate passes sockets exactly
# as a .socket unit does (LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES from fd
# 3, then exec in the same process); a python datagram socket stands in
# for systemd's NOTIFY_SOCKET and records who sent what.
#
# The contract: with no -frontend-addr, moatd serves on every socket it
# is passed and opens none of its own; passed sockets no listener wants
# are closed; READY=1 (with STATUS=) once every child has its
# configuration, RELOADING=1 with MONOTONIC_USEC on SIGHUP and READY=1
# again after it, STOPPING=1 on SIGTERM, all from the main pid; under
# systemd (NOTIFY_SOCKET or INVOCATION_ID) moatd never daemonises.

# The source tree (run.sh runs from its top), not where MOATD lives: that
# may be build-asan/moatd-asan.
_SD_TOP=$PWD
SD_INODES=
SD_NOTIFY_PID=

# Socket inodes held on descriptors 3 and up by pid $1.
_sd_fd_inodes() {
	local f

	for f in /proc/"$1"/fd/*; do
		[ "${f##*/}" -ge 3 ] 2>/dev/null || continue
		readlink "$f"
	done | sed -n 's/^socket:\[\([0-9]*\)\]$/\1/p' | sort -n
}

# Inodes of the listening sockets that pid $1 or its descendants hold.
_sd_listening() {
	local p

	for p in "$1" $(_descendants "$1"); do
		_sd_fd_inodes "$p"
	done | sort -u >"$SCRATCH/.held"
	{
		awk 'FNR > 1 && $4 == "0A" { print $10 }' /proc/net/tcp \
		    /proc/net/tcp6
		awk 'FNR > 1 && $4 == "00010000" { print $7 }' /proc/net/unix
	} | sort -u >"$SCRATCH/.listening"
	comm -12 "$SCRATCH/.held" "$SCRATCH/.listening" | sort -n
}

# _sd_start [systemd-socket-activate options] -- [moatd options]
# Bind the sockets with systemd-socket-activate, which execs moatd in its
# own process on the first connection: MOATD_PID is moatd's pid already.
# Returns once every socket is bound, with their inodes in SD_INODES.
_sd_start() {
	local sa=() n=0 i log=$SCRATCH/moatd.sd.log

	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		case $1 in
		-l) n=$((n + 1)) ;;
		esac
		sa+=("$1")
		shift
	done
	shift
	systemd-socket-activate "${sa[@]}" "$MOATD" "$@" >"$log" 2>&1 &
	MOATD_PID=$!
	MOATD_LOG=$log
	echo "$MOATD_PID $log" >>"$SCRATCH/.moatd"
	_remember "$MOATD_PID"
	for ((i = 0; i < 200; i++)); do
		[ "$(grep -c '^Listening on ' "$log")" -ge "$n" ] && break
		_palive "$MOATD_PID" || fail "systemd-socket-activate exited" \
		    "$(_moatd_logtail "$log")"
		sleep 0.05
	done
	[ "$i" -lt 200 ] || fail "systemd-socket-activate did not bind" \
	    "$(_moatd_logtail "$log")"
	SD_INODES=$(_sd_fd_inodes "$MOATD_PID")
	[ "$(printf '%s\n' "$SD_INODES" | grep -c .)" = "$n" ] ||
	    fail "expected $n passed sockets, found: $SD_INODES"
}

# Once moatd answered: it must be moatd in the same process, and its
# children are remembered for the liveness checks, as moatd_start does.
_sd_settle() {
	local prev cur stable=0 i c

	expect_eq "$(readlink /proc/"$MOATD_PID"/exe)" "$MOATD" \
	    "executable of pid $MOATD_PID"
	prev=$(_children "$MOATD_PID")
	for ((i = 0; i < 40 && stable < 2; i++)); do
		sleep 0.05
		cur=$(_children "$MOATD_PID")
		if [ "$cur" = "$prev" ]; then
			stable=$((stable + 1))
		else
			stable=0
		fi
		prev=$cur
	done
	[ -n "$prev" ] || fail "moatd $MOATD_PID has no children"
	echo $prev >"$SCRATCH/.children.$MOATD_PID"
	for c in $prev; do
		_remember "$c"
	done
}

# A stand-in for systemd's notification socket: one line per datagram,
# "<sender pid> <state with newlines as |>", in $SCRATCH/notify.log.  It
# quits after 60 s whatever happens, and with the test.
_sd_notify_listen() {
	local i

	NOTIFY_SOCK=$SCRATCH/notify.sock
	NOTIFY_LOG=$SCRATCH/notify.log
	: >"$NOTIFY_LOG"
	python3 -c '
import socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
s.settimeout(60)
with open(sys.argv[2], "a", buffering=1) as f:
    while True:
        try:
            data, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(12))
        except socket.timeout:
            break
        pid = "?"
        for lvl, typ, d in anc:
            if lvl == socket.SOL_SOCKET and typ == socket.SCM_CREDENTIALS:
                pid = struct.unpack("iII", d[:12])[0]
        f.write("%s %s\n" % (pid, data.decode().replace("\n", "|")))
' "$NOTIFY_SOCK" "$NOTIFY_LOG" &
	SD_NOTIFY_PID=$!
	# The EXIT trap of run_test still runs, with the test's status.
	trap 's=$?; kill "$SD_NOTIFY_PID" 2>/dev/null;
	    wait "$SD_NOTIFY_PID" 2>/dev/null; (exit $s); _test_exit' EXIT
	for ((i = 0; i < 100; i++)); do
		[ -S "$NOTIFY_SOCK" ] && return 0
		sleep 0.05
	done
	fail "the notification listener did not start"
}

# Wait (10 s) until the notification log has $1 lines matching ERE $2.
_sd_wait_notify() {
	local i

	for ((i = 0; i < 200; i++)); do
		[ "$(grep -cE -- "$2" "$NOTIFY_LOG")" -ge "$1" ] && return 0
		sleep 0.05
	done
	fail "no $1 notification(s) matching /$2/ in 10 s; got:" \
	    "$(cat "$NOTIFY_LOG")" "$(_moatd_logtail "$MOATD_LOG")"
}

_sd_monotonic_usec() {
	python3 -c 'import time; print(time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000)'
}

t_systemd_units_verify() {
	local d=$SCRATCH/dest u

	tid "make install puts the units where Debian wants them; they verify"
	run_cmd make -s -C "$_SD_TOP" -o moatd install DESTDIR="$d" \
	    PREFIX=/usr
	expect_eq "$RC" 0 "make install (stderr: $ERR)"
	for u in lib/systemd/system/moatd.service \
	    lib/systemd/system/moatd.socket \
	    lib/systemd/system/moatd-tcp.socket \
	    usr/lib/sysusers.d/moatd.conf usr/lib/tmpfiles.d/moatd.conf; do
		[ -f "$d/$u" ] || fail "make install did not install /$u"
		expect_eq "$(stat -c %a "$d/$u")" 644 "mode of /$u"
	done
	expect_eq "$(grep '^ExecStart=' "$d/lib/systemd/system/moatd.service")" \
	    'ExecStart=/usr/sbin/moatd -d $MOATD_OPTS' "installed ExecStart"

	# systemd-analyze verify wants ExecStart's binary to exist: point
	# it at the one under test.  --root would need a whole system
	# (sysinit.target, /bin/kill) under the root.
	mkdir units
	cp "$d"/lib/systemd/system/moatd* units/
	sed -i "s|^ExecStart=/usr/sbin/moatd |ExecStart=$MOATD |" \
	    units/moatd.service
	run_cmd systemd-analyze verify --man=no units/moatd.socket \
	    units/moatd-tcp.socket units/moatd.service
	expect_eq "$RC" 0 "systemd-analyze verify exit status"
	# Warnings (an unknown key, say) exit 0 too: there must be none.
	expect_eq "$OUT$ERR" "" "systemd-analyze verify output"

	# The check above can fail: a misspelt key is reported.
	sed 's/^KillMode=/KillMood=/' units/moatd.service >units/bad.service
	run_cmd systemd-analyze verify --man=no units/bad.service
	expect_match "$ERR" "Unknown key 'KillMood'" "verify of a bad unit"
}

# The value of key $2 in unit file $1.
_sd_key() {
	sed -n "s/^$2=//p" "$1"
}

t_systemd_units_contract() {
	local s=$_SD_TOP/etc/moatd.service

	tid "the units say what moatd relies on"
	expect_eq "$(_sd_key "$s" Type)" notify "Type"
	expect_eq "$(_sd_key "$s" NotifyAccess)" main "NotifyAccess"
	expect_eq "$(_sd_key "$s" ExecReload)" '/bin/kill -HUP $MAINPID' \
	    "ExecReload"
	expect_eq "$(_sd_key "$s" KillMode)" mixed "KillMode"
	expect_eq "$(_sd_key "$s" NoNewPrivileges)" yes "NoNewPrivileges"
	expect_eq "$(_sd_key "$s" CapabilityBoundingSet)" \
	    "CAP_SYS_CHROOT CAP_SETUID CAP_SETGID CAP_KILL CAP_CHOWN CAP_NET_BIND_SERVICE" \
	    "CapabilityBoundingSet"
	expect_eq "$(_sd_key "$s" SystemCallFilter)" \
	    "@system-service chroot seccomp" "SystemCallFilter"
	expect_eq "$(_sd_key "$s" RestrictAddressFamilies)" \
	    "AF_UNIX AF_INET AF_INET6" "RestrictAddressFamilies"
	# Above the relays' drain deadline (10 s) plus the parent's 2 s.
	[ "$(_sd_key "$s" TimeoutStopSec)" -gt 12 ] ||
	    fail "TimeoutStopSec not above the drain deadline"
	expect_eq "$(_sd_key "$_SD_TOP/etc/moatd.socket" FileDescriptorName)" \
	    unix "moatd.socket FileDescriptorName"
	expect_eq "$(_sd_key "$_SD_TOP/etc/moatd.socket" ListenStream)" \
	    /run/moatd/docker.sock "moatd.socket ListenStream"
	expect_eq "$(_sd_key "$_SD_TOP/etc/moatd-tcp.socket" \
	    FileDescriptorName)" tcp "moatd-tcp.socket FileDescriptorName"
	expect_eq "$(_sd_key "$_SD_TOP/etc/moatd-tcp.socket" ListenStream)" \
	    127.0.0.1:2375 "moatd-tcp.socket ListenStream"
}

t_systemd_sysusers_tmpfiles() {
	local r=$SCRATCH/root

	tid "sysusers.d makes _moatd, tmpfiles.d the chroot directory"
	mkdir -p "$r/etc"
	run_cmd systemd-sysusers --root="$r" "$_SD_TOP/etc/moatd.sysusers"
	expect_eq "$RC" 0 "systemd-sysusers exit status ($ERR)"
	expect_match "$(grep '^_moatd:' "$r/etc/passwd")" \
	    '^_moatd:x:[1-9][0-9]*:[1-9][0-9]*:moatd privsep:/nonexistent:/usr/sbin/nologin$' \
	    "passwd entry"
	expect_match "$(grep '^_moatd:' "$r/etc/group")" '^_moatd:x:[1-9]' \
	    "group entry"
	run_cmd systemd-tmpfiles --root="$r" --create \
	    "$_SD_TOP/etc/moatd.tmpfiles"
	expect_eq "$RC" 0 "systemd-tmpfiles exit status ($ERR)"
	expect_eq "$(stat -c '%a %u %g %F' "$r/var/empty" "$r/var/empty/moatd")" \
	    "755 0 0 directory
755 0 0 directory" "the chroot directory and its parent"
}

t_systemd_activation() {
	local port sock want

	tid "socket-activated with no -frontend-addr: serves on every passed socket, opens none"
	port=$(free_port)
	sock=$SCRATCH/front.sock
	_sd_start -l "127.0.0.1:$port" -l "$sock" --fdname=tcp:unix -- \
	    -d -backend-addr "$RIG_HOST"
	expect_status 200 "http://127.0.0.1:$port/_ping"
	expect_eq "$(cat "$BODY")" OK "/_ping body over tcp"
	expect_status 200 --unix-socket "$sock" http://docker/_ping
	expect_eq "$(cat "$BODY")" OK "/_ping body over unix"
	expect_status 403 --unix-socket "$sock" http://docker/containers/json
	_sd_settle
	want=$(printf '%s\n' "$SD_INODES" | sort -n)
	expect_eq "$(_sd_listening "$MOATD_PID")" "$want" \
	    "listening sockets of moatd and its children (passed: $want)"
	# systemd's socket stays: moatd must not unlink what it was given.
	[ -S "$sock" ] || fail "$sock is gone"
	grep -q 'systemd:tcp' "$MOATD_LOG" ||
	    fail "the log does not name systemd:tcp" "$(_moatd_logtail "$MOATD_LOG")"
	grep -q 'systemd:unix' "$MOATD_LOG" ||
	    fail "the log does not name systemd:unix" "$(_moatd_logtail "$MOATD_LOG")"
	moatd_stop || fail "moatd did not stop cleanly"
	expect_eq "$MOATD_STATUS" 0 "exit status after SIGTERM"
	[ -S "$sock" ] || fail "$sock was removed on exit"
}

t_systemd_unix_spread() {
	local sock=$SCRATCH/front.sock out

	tid "a systemd-passed unix socket is shared by the relays: a burst of 32 connections spreads over both"
	_sd_start -l "$sock" --fdname=unix -- -d -prefork 2 \
	    -backend-addr "$RIG_HOST"
	expect_status 200 --unix-socket "$sock" http://docker/_ping
	_sd_settle
	out=$(_dp_unix_spread "$sock" "$MOATD_PID") || fail "burst: $out"
	_dp_spread_check "$out"
}

t_systemd_unclaimed() {
	local p1 p2 i

	tid "a passed socket no listener wants is closed; -frontend-addr still served"
	p1=$(free_port)
	p2=$(free_port)
	_sd_start -l "127.0.0.1:$p1" --fdname=tcp -- -d \
	    -backend-addr "$RIG_HOST" -frontend-addr "tcp://127.0.0.1:$p2"
	# The first connection makes systemd-socket-activate exec moatd;
	# moatd then drops that socket, and the connection with it.
	curl -s --max-time 10 -o /dev/null "http://127.0.0.1:$p1/_ping"
	for ((i = 0; i < 200; i++)); do
		_accepts "tcp://127.0.0.1:$p2" && break
		_palive "$MOATD_PID" || fail "moatd exited" \
		    "$(_moatd_logtail "$MOATD_LOG")"
		sleep 0.05
	done
	expect_status 200 "http://127.0.0.1:$p2/_ping"
	expect_status 000 "http://127.0.0.1:$p1/_ping"
	_sd_settle
	grep -q 'systemd socket "tcp" .*no listener wants it, closing it' \
	    "$MOATD_LOG" || fail "no warning about the unclaimed socket" \
	    "$(_moatd_logtail "$MOATD_LOG")"
	[ -z "$(comm -12 <(_sd_listening "$MOATD_PID") \
	    <(printf '%s\n' "$SD_INODES"))" ] ||
	    fail "moatd still listens on the passed socket"
}

t_systemd_notify() {
	local port lines

	tid "READY=1 and STATUS= once serving, STOPPING=1 on SIGTERM, from the main pid"
	_sd_notify_listen
	port=$(free_port)
	_sd_start -l "127.0.0.1:$port" -E NOTIFY_SOCKET="$NOTIFY_SOCK" -- \
	    -d -backend-addr "$RIG_HOST"
	expect_status 200 "http://127.0.0.1:$port/_ping"
	_sd_settle
	_sd_wait_notify 1 'READY=1'
	_sd_wait_notify 1 'STATUS=.'
	sleep 0.3
	lines=$(cat "$NOTIFY_LOG")
	expect_eq "$(grep -c 'READY=1' <<<"$lines")" 1 "READY=1 count"
	expect_eq "$(grep -c 'STOPPING=1' <<<"$lines")" 0 "STOPPING=1 count"
	expect_eq "$(awk '{ print $1 }' <<<"$lines" | sort -u)" "$MOATD_PID" \
	    "sender of every notification (NotifyAccess=main)"
	moatd_stop || fail "moatd did not stop cleanly"
	expect_eq "$MOATD_STATUS" 0 "exit status after SIGTERM"
	_sd_wait_notify 1 "^$MOATD_PID STOPPING=1"
	lines=$(cat "$NOTIFY_LOG")
	expect_match "$(tail -n 1 <<<"$lines")" "STOPPING=1" \
	    "the last notification"
	expect_match "$(head -n 1 <<<"$lines")" "^$MOATD_PID READY=1" \
	    "the first notification"
}

t_systemd_notify_reload() {
	local port t0 t1 usec

	tid "SIGHUP: RELOADING=1 with MONOTONIC_USEC, then READY=1 again"
	_sd_notify_listen
	port=$(free_port)
	_sd_start -l "127.0.0.1:$port" -E NOTIFY_SOCKET="$NOTIFY_SOCK" -- \
	    -d -backend-addr "$RIG_HOST"
	expect_status 200 "http://127.0.0.1:$port/_ping"
	_sd_settle
	_sd_wait_notify 1 'READY=1'
	t0=$(_sd_monotonic_usec)
	kill -HUP "$MOATD_PID"
	_sd_wait_notify 1 'RELOADING=1'
	t1=$(_sd_monotonic_usec)
	_sd_wait_notify 2 'READY=1'
	usec=$(sed -n "s/^$MOATD_PID RELOADING=1|MONOTONIC_USEC=\([0-9]*\)$/\1/p" \
	    "$NOTIFY_LOG")
	[ -n "$usec" ] || fail "no 'RELOADING=1\\nMONOTONIC_USEC=N' from" \
	    "$MOATD_PID: $(cat "$NOTIFY_LOG")"
	[ "$usec" -ge "$t0" ] && [ "$usec" -le "$t1" ] ||
	    fail "MONOTONIC_USEC=$usec not between $t0 and $t1"
	expect_match "$(tail -n 1 "$NOTIFY_LOG")" "^$MOATD_PID READY=1" \
	    "the notification after the reload"
	expect_status 200 "http://127.0.0.1:$port/_ping"
}

t_systemd_no_daemon() {
	local port

	tid "under systemd without -d, moatd stays the main process"
	_sd_notify_listen
	port=$(free_port)
	_sd_start -l "127.0.0.1:$port" -E NOTIFY_SOCKET="$NOTIFY_SOCK" -- \
	    -backend-addr "$RIG_HOST"
	expect_status 200 "http://127.0.0.1:$port/_ping"
	_palive "$MOATD_PID" || fail "moatd $MOATD_PID is gone (daemonised?)"
	_sd_settle
	_sd_wait_notify 1 "^$MOATD_PID READY=1"
	moatd_stop || fail "moatd did not stop cleanly"

	# Type=simple: no NOTIFY_SOCKET, but systemd sets INVOCATION_ID.
	port=$(free_port)
	_sd_start -l "127.0.0.1:$port" \
	    -E INVOCATION_ID=5f4dcc3b5aa765d61d8327deb882cf99 -- \
	    -backend-addr "$RIG_HOST"
	expect_status 200 "http://127.0.0.1:$port/_ping"
	_palive "$MOATD_PID" || fail "moatd $MOATD_PID is gone (daemonised?)"
	_sd_settle
}
