# moatd's configuration file and its life as a server: -n and -n -v with
# a file, errors as file:line, -D macros, a unix listener set up from the
# file, SIGHUP with good and bad configurations while a docker events
# stream and a docker exec session stay connected, the pid file of a
# daemonised moatd and a second instance that must refuse to start, and
# SIGINT (Ctrl-C) or SIGTERM to moatd -d's whole process group.

# run.sh sources the tests from the top of the tree.
LC_TOP=$PWD
LC_FULL=$PWD/regress/rules/full.list
LC_INUSE='address already in use (is another moatd running?)'

_lc_what() {
	printf 'moatd %s' "$*"
	[ -n "$ERR" ] && printf ' (stderr: %s)' "$ERR"
}

# Wait up to $2 seconds for file $1 to hold a line matching the extended
# regexp $3 (at least $4 of them, default 1); else fail, saying $5.
_lc_wait_grep() {
	local i n

	for ((i = 0; i < $2 * 20; i++)); do
		n=$(grep -cE -- "$3" "$1" 2>/dev/null)
		[ "${n:-0}" -ge "${4:-1}" ] && return 0
		sleep 0.05
	done
	fail "${5:-$1}: no line matching /$3/ within $2 s:" \
	    "[$(tail -n 20 "$1" 2>/dev/null)]"
}

t_lc_check() {
	tid "-n and -n -v with a configuration file; -n -v reads back as is"
	printf 'GET /x\n' >x.list
	cat >full.conf <<EOF
# every statement once
dir = "$SCRATCH"
user nobody
chroot "/var/empty/moatd"
pidfile "$SCRATCH/x.pid"
prefork 3
log level notice
log format json
log file "$SCRATCH/audit.log"
backend "unix://$SCRATCH/docker.sock"
listen on "tcp://127.0.0.1:2399"
listen on "unix://$SCRATCH/m.sock" owner nobody group nogroup mode 0620
timeout head 5
timeout idle 60
timeout drain 3
timeout body 20
limit head 4096
limit line 1024
limit headers 50
limit connections per address 100
limit connections per uid 50
limit body 64K
allow capability net_admin
builtin rules no
rules "GET /c
	POST %API_PREFIX_BUILD%"
rules file \$dir/x.list
EOF
	run_cmd "$MOATD" -n -f full.conf
	expect_eq "$RC" 0 "$(_lc_what -n -f full.conf) exit status"
	expect_eq "$ERR" "" "stderr of moatd -n -f full.conf"
	expect_eq "$OUT" "full.conf:25 GET /c
full.conf:26 POST (?:(?:/v[0-9]+(?:\.[0-9]+)*))?/build
$SCRATCH/x.list:1 GET /x" "moatd -n -f full.conf"
	run_cmd "$MOATD" -n -v -f full.conf
	expect_eq "$RC" 0 "$(_lc_what -n -v -f full.conf) exit status"
	cat >want.conf <<EOF
user "nobody"
chroot "/var/empty/moatd"
pidfile "$SCRATCH/x.pid"
prefork 3
log level notice
log format json
log file "$SCRATCH/audit.log"

backend "unix://$SCRATCH/docker.sock"
listen on "tcp://127.0.0.1:2399"
listen on "unix://$SCRATCH/m.sock" owner "nobody" group "nogroup" mode 0620

timeout head 5
timeout idle 60
timeout drain 3
timeout body 20
limit head 4096
limit line 1024
limit headers 50
limit connections per address 100
limit connections per uid 50
limit body 65536

allow capability "NET_ADMIN"

builtin rules no
rules "GET /c
	POST %API_PREFIX_BUILD%"
rules file "$SCRATCH/x.list"
EOF
	expect_eq "$OUT" "$(cat want.conf)" "moatd -n -v -f full.conf"
	printf '%s\n' "$OUT" >canon.conf
	run_cmd "$MOATD" -nv -f canon.conf
	expect_eq "$RC" 0 "$(_lc_what -nv -f canon.conf) exit status"
	expect_eq "$OUT" "$(cat canon.conf)" "-nv of the printed configuration"
}

t_lc_bad_config() {
	tid "a bad file: exit 1, each error as file:line; -f of a missing file"
	printf '%s\n' 'user "nobody"' 'bogus 1' 'prefork 99' \
	    'listen on "tcp://127.0.0.1:2399"' 'log level loud' >bad.conf
	run_cmd "$MOATD" -n -f bad.conf
	expect_eq "$RC" 1 "exit status of moatd -n -f bad.conf"
	expect_eq "$OUT" "" "stdout of moatd -n -f bad.conf"
	[[ $ERR == *'bad.conf:2: unknown keyword "bogus"'* ]] ||
	    fail "stderr does not name bad.conf:2: [$ERR]"
	[[ $ERR == *'bad.conf:3: prefork 99: must be 1 to 64'* ]] ||
	    fail "stderr does not name bad.conf:3: [$ERR]"
	[[ $ERR == *'bad.conf:5: log level "loud"'* ]] ||
	    fail "stderr does not name bad.conf:5: [$ERR]"
	[[ $ERR == *bad.conf:[14]:* ]] &&
	    fail "stderr blames a valid line: [$ERR]"
	run_cmd "$MOATD" -n -v -f bad.conf
	expect_eq "$RC" 1 "exit status of moatd -n -v -f bad.conf"
	expect_eq "$OUT" "" "stdout of moatd -n -v -f bad.conf"

	# Rules are compiled after the file is read, named by its lines.
	printf '%s\n' 'builtin rules no' 'rules "GET /ok' 'GET, /bad"' >r.conf
	run_cmd "$MOATD" -n -f r.conf
	expect_eq "$RC" 1 "exit status of moatd -n -f r.conf"
	[[ $ERR == *'r.conf:3: invalid method list "GET,"'* ]] ||
	    fail "stderr does not name r.conf:3: [$ERR]"

	run_cmd "$MOATD" -n -f missing.conf
	expect_eq "$RC" 1 "exit status of moatd -n -f missing.conf"
	expect_eq "$OUT" "" "stdout of moatd -n -f missing.conf"
	[[ $ERR == *'missing.conf: No such file or directory'* ]] ||
	    fail "stderr does not say missing.conf is missing: [$ERR]"

	printf 'log level info\n' >open.conf
	chmod 0664 open.conf
	run_cmd "$MOATD" -n -f open.conf
	expect_eq "$RC" 1 "exit status of moatd -n -f open.conf (mode 0664)"
	[[ $ERR == *open.conf*'writable by group or others'* ]] ||
	    fail "stderr does not refuse the group-writable open.conf: [$ERR]"
}

t_lc_macro_in_word() {
	local port

	tid "-D port=N completes a word: listen on tcp://127.0.0.1:\$port"
	port=$(free_port)
	printf '%s\n' 'listen on tcp://127.0.0.1:$port' \
	    "backend \"unix://$RIG_SOCK\"" >p.conf
	run_cmd "$MOATD" -n -v -f p.conf -D port=2399
	expect_eq "$RC" 0 "$(_lc_what -n -v -f p.conf -D port=2399) exit status"
	expect_eq "$(printf '%s\n' "$OUT" | grep '^listen ')" \
	    'listen on "tcp://127.0.0.1:2399"' "listener with -D port=2399"
	MOATD_ADDRS=tcp://127.0.0.1:$port moatd_start -f p.conf -D port="$port"
	expect_status 200 "http://127.0.0.1:$port/_ping"
}

t_lc_macro_define() {
	tid "macros: -D wins over the file's own, \$name starts a word"
	printf 'GET /x\n' >x.list
	cat >m.conf <<EOF
addr = "tcp://127.0.0.1:1111"
dir = "$SCRATCH"
listen on \$addr
rules file \$dir/x.list
EOF
	run_cmd "$MOATD" -n -v -f m.conf
	expect_eq "$RC" 0 "$(_lc_what -n -v -f m.conf) exit status"
	expect_eq "$(printf '%s\n' "$OUT" | grep -E '^(listen|rules) ')" \
	    "listen on \"tcp://127.0.0.1:1111\"
rules file \"$SCRATCH/x.list\"" "moatd -n -v -f m.conf"
	run_cmd "$MOATD" -n -v -f m.conf -D addr=tcp://127.0.0.1:2399
	expect_eq "$RC" 0 "$(_lc_what -n -v -D addr=...) exit status"
	expect_eq "$(printf '%s\n' "$OUT" | grep '^listen ')" \
	    'listen on "tcp://127.0.0.1:2399"' "listener with -D addr=..."
	printf 'listen on $nowhere\n' >u.conf
	run_cmd "$MOATD" -n -f u.conf
	expect_eq "$RC" 1 "exit status with an undefined macro"
	[[ $ERR == *'u.conf:1: macro "nowhere" is not defined'* ]] ||
	    fail "stderr does not name u.conf:1: [$ERR]"
	run_cmd "$MOATD" -n -f m.conf -D addr
	expect_eq "$RC" 1 "exit status of moatd -D addr (no value)"
	[[ $ERR == *'-D addr'* ]] || fail "stderr does not name -D addr: [$ERR]"
}

t_lc_unix_listener() {
	local sock ino

	tid "a unix listener from the file: owner, group, mode; one owner only"
	sock=$SCRATCH/m.sock
	cat >u.conf <<EOF
listen on "unix://$sock" owner nobody group nogroup mode 0620
backend "unix://$RIG_SOCK"
EOF
	MOATD_ADDRS=unix://$sock moatd_start -f u.conf
	expect_eq "$(stat -c '%F %U %G %a' "$sock")" \
	    "socket nobody nogroup 620" "type, owner, group and mode of $sock"
	expect_status 200 --unix-socket "$sock" http://docker/_ping
	expect_eq "$(cat "$BODY")" OK "body of /_ping through $sock"
	expect_status 403 --unix-socket "$sock" http://docker/containers/json
	# A second moatd must neither take the socket nor remove it.
	ino=$(stat -c %i "$sock")
	run_cmd timeout 10 "$MOATD" -d -f u.conf
	expect_eq "$RC" 1 "exit status of a second moatd on $sock"
	[[ $ERR == *"unix://$sock: $LC_INUSE"* ]] ||
	    fail "the second moatd does not say why: [$ERR]"
	expect_eq "$(stat -c '%i %U %G %a' "$sock" 2>&1)" \
	    "$ino nobody nogroup 620" "$sock after the second moatd"
	expect_status 200 --unix-socket "$sock" http://docker/_ping
	moatd_stop || fail "moatd did not stop cleanly"
	[ -e "$sock" ] && fail "$sock is still there after moatd stopped"
	pass
}

# Owner and mode are set on the socket bind made, never through its path:
# regress/swapbind.c swaps the socket for a symlink to a file right after
# bind, as an attacker who can write in the directory might.  moatd must
# stop, and leave the file's mode and owner alone (it used to chmod and
# chown the path, following the symlink).
t_lc_unix_listener_swapped() {
	local sock victim so

	tid "a unix listener swapped for a symlink after bind: no chmod through it"
	sock=$SCRATCH/w.sock
	victim=$SCRATCH/victim
	so=$SCRATCH/swapbind.so
	cc -shared -fPIC -o "$so" "$LC_TOP/regress/swapbind.c" -ldl ||
	    fail "cannot build swapbind.so"
	printf 'secret\n' >"$victim"
	chmod 600 "$victim"
	cat >w.conf <<EOF
listen on "unix://$sock" owner nobody group nogroup mode 0666
backend "unix://$RIG_SOCK"
EOF
	run_cmd env LD_PRELOAD="$so" SWAPBIND_PATH="$sock" \
	    SWAPBIND_TARGET="$victim" \
	    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
	    timeout 10 "$MOATD" -d -f w.conf
	expect_eq "$(stat -c '%U %G %a' "$victim")" "$(id -un) $(id -gn) 600" \
	    "owner, group and mode of the symlink's target"
	expect_eq "$RC" 1 "exit status of moatd (stderr: $ERR)"
	expect_match "$ERR" "unix://$sock: the socket just bound was replaced" \
	    "moatd's complaint"
	pass
}

# The unix datagram sockets process $1 holds (a connection to /dev/log
# is one), as "fd inode" lines.
_lc_dgram_fds() {
	local f ino

	for f in /proc/"$1"/fd/*; do
		ino=$(readlink "$f" 2>/dev/null) || continue
		[[ $ino == socket:\[*\] ]] || continue
		ino=${ino#socket:[}
		ino=${ino%]}
		awk -v i="$ino" -v f="${f##*/}" \
		    'NR > 1 && $5 == "0002" && $7 == i { print f, i }' \
		    /proc/net/unix
	done
}

# Logging to syslog (not -d; INVOCATION_ID says "under systemd", so it
# stays in the foreground): the parent writes to /dev/log, and the
# sandboxed children, which log through it, hold no socket to /dev/log
# (openlog(LOG_NDELAY) used to leave one open in each of them).  Where
# /dev/log is missing, a datagram socket stands in for syslog there.
t_lc_children_no_syslog_socket() {
	local port url lp c kids why bad= n=0

	tid "logging to syslog: no child holds a /dev/log socket, logs still come"
	if [ ! -S /dev/log ]; then
		[ -e /dev/log ] && fail "/dev/log exists and is no socket"
		python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
out = open(sys.argv[1], "ab", buffering=0)
while True:
    out.write(s.recv(65536) + b"\n")
' "$SCRATCH/syslog.out" &
		lp=$!
		on_exit rm -f /dev/log
		on_exit kill "$lp"
		for ((c = 0; c < 100; c++)); do
			[ -S /dev/log ] && break
			sleep 0.05
		done
		[ -S /dev/log ] || fail "cannot make a /dev/log"
	fi
	port=$(free_port)
	url=http://127.0.0.1:$port
	printf 'backend "unix://%s"\nprefork 2\n' "$RIG_SOCK" >s.conf
	chmod 600 s.conf
	INVOCATION_ID=moatd-regress "$MOATD" -f s.conf \
	    -frontend-addr "tcp://127.0.0.1:$port" >s.out 2>&1 &
	MOATD_PID=$!
	MOATD_LOG=$SCRATCH/s.out
	echo "$MOATD_PID $MOATD_LOG" >>"$SCRATCH/.moatd"
	_remember "$MOATD_PID"
	for ((c = 0; c < 200; c++)); do
		_accepts "tcp://127.0.0.1:$port" && break
		_palive "$MOATD_PID" || fail "moatd exited: $(cat s.out)"
		sleep 0.05
	done
	expect_status 200 "$url/_ping"
	sleep 0.3
	kids=$(_children "$MOATD_PID")
	echo $kids >"$SCRATCH/.children.$MOATD_PID"
	for c in $kids; do
		_remember "$c"
		n=$((n + 1))
		[ -n "$(_lc_dgram_fds "$c")" ] && bad="$bad $(ps -o args= \
		    -p "$c") (pid $c, fd $(_lc_dgram_fds "$c" | tr '\n' ' '))"
	done
	[ "$n" -ge 3 ] || fail "moatd has $n children, not a policy and 2 relays"
	[ -z "$bad" ] || fail "children with a datagram socket:$bad"
	if [ -n "${lp:-}" ]; then
		# The relay's request line, through the parent to syslog.
		for ((c = 0; c < 100; c++)); do
			grep -q 'path=/_ping verdict=allow' syslog.out && break
			sleep 0.05
		done
		grep -q 'path=/_ping verdict=allow' syslog.out ||
		    fail "no request line in syslog: [$(tail -5 syslog.out)]"
	fi
	why=$(moatd_alive) || fail "$why"
	moatd_stop || fail "moatd did not stop cleanly"
	pass
}

# Send SIGHUP and wait until moatd logged ERE $1 ($2 times in all).
_lc_hup() {
	kill -HUP "$MOATD_PID"
	_lc_wait_grep "$MOATD_LOG" 5 "$1" "${2:-1}" "moatd's log after SIGHUP"
}

t_lc_reload() {
	local port url ep xp why token rc

	tid "SIGHUP, good and bad, with an events stream and exec -i connected"
	port=$(free_port)
	token=$$.$RANDOM
	url=http://127.0.0.1:$port
	printf '! nothing yet\n' >extra.list
	cat >r.conf <<EOF
backend "unix://$RIG_SOCK"
rules file "$LC_FULL"
rules file "extra.list"
EOF
	cp r.conf r.good
	moatd_start -f r.conf -frontend-addr "tcp://127.0.0.1:$port"
	on_exit rig_docker rm -f lc_rl lc_ev1 lc_ev2 lc_ev3 lc_ev4
	expect_status 403 "$url/networks"
	rig_docker run -d --network none --name lc_rl "$RIG_IMAGE" sleep 60 \
	    >/dev/null || fail "cannot start lc_rl"

	# The events stream and the exec session, through moatd.
	# --since: lc_ev1 shows up even if created before the stream was
	# subscribed; once it arrived, every later event came live.  The
	# label keeps other tests' containers out.
	timeout 30 docker -H "tcp://127.0.0.1:$port" events \
	    --since "$((EPOCHSECONDS - 1))" --filter "label=lc=$token" \
	    --filter event=create --format '{{.Actor.Attributes.name}}' \
	    >ev.out 2>ev.err &
	ep=$!
	on_exit kill "$ep"
	mkfifo ex.in
	timeout 30 docker -H "tcp://127.0.0.1:$port" exec -i lc_rl cat \
	    <ex.in >ex.out 2>ex.err &
	xp=$!
	on_exit kill "$xp"
	exec 7>ex.in
	echo before >&7
	_lc_wait_grep ex.out 10 '^before$' 1 "docker exec -i (stderr: $(
	    cat ex.err 2>/dev/null))"
	rig_docker create --network none --label "lc=$token" \
	    --name lc_ev1 "$RIG_IMAGE" true \
	    >/dev/null || fail "cannot create lc_ev1"
	_lc_wait_grep ev.out 10 '^lc_ev1$' 1 "docker events (stderr: $(
	    cat ev.err 2>/dev/null))"

	# A good reload: the rules file now allows GET /networks.
	printf 'GET %%API_PREFIX_NETWORKS%%\n' >extra.list
	_lc_hup 'configuration 2 in effect'
	expect_status 200 "$url/networks"
	expect_status 200 "$url/v1.41/networks"
	rig_docker create --network none --label "lc=$token" \
	    --name lc_ev2 "$RIG_IMAGE" true \
	    >/dev/null || fail "cannot create lc_ev2"
	_lc_wait_grep ev.out 10 '^lc_ev2$' 1 "events after the good reload"
	echo after >&7
	_lc_wait_grep ex.out 10 '^after$' 1 "exec -i after the good reload"

	# A syntax error in the file: logged, and nothing changes.
	printf 'bogus statement\n' >>r.conf
	_lc_hup 'reload failed, keeping configuration 2'
	grep -q 'r\.conf:4: unknown keyword "bogus"' "$MOATD_LOG" ||
	    fail "the syntax error is not logged as r.conf:4:" \
	    "$(_moatd_logtail "$MOATD_LOG")"
	expect_status 200 "$url/networks"
	expect_status 403 "$url/volumes"
	why=$(moatd_alive) || fail "after the bad reload: $why"
	rig_docker create --network none --label "lc=$token" \
	    --name lc_ev3 "$RIG_IMAGE" true \
	    >/dev/null || fail "cannot create lc_ev3"
	_lc_wait_grep ev.out 10 '^lc_ev3$' 1 "events after the bad reload"
	echo again >&7
	_lc_wait_grep ex.out 10 '^again$' 1 "exec -i after the bad reload"

	# A good file naming a bad rule: the same.
	cp r.good r.conf
	printf 'GET %%API_PREFIX_VOLUMES%%\nGET /(unclosed\n' >extra.list
	_lc_hup 'reload failed, keeping configuration 2' 2
	grep -q 'extra\.list:2: ' "$MOATD_LOG" ||
	    fail "the bad rule is not logged as extra.list:2:" \
	    "$(_moatd_logtail "$MOATD_LOG")"
	expect_status 200 "$url/networks"
	expect_status 403 "$url/volumes"
	why=$(moatd_alive) || fail "after the bad rules: $why"
	grep -q 'configuration 3' "$MOATD_LOG" &&
	    fail "a failed reload made a new configuration:" \
	    "$(_moatd_logtail "$MOATD_LOG")"
	rig_docker create --network none --label "lc=$token" \
	    --name lc_ev4 "$RIG_IMAGE" true \
	    >/dev/null || fail "cannot create lc_ev4"
	_lc_wait_grep ev.out 10 '^lc_ev4$' 1 "events after the bad rules"

	# The session ends normally: cat sees EOF, docker exec exits 0.
	echo last >&7
	exec 7>&-
	wait "$xp"
	rc=$?
	expect_eq "$rc" 0 "exit status of docker exec -i (stderr: $(
	    cat ex.err))"
	expect_eq "$(tr '\n' ' ' <ex.out)" "before after again last " \
	    "everything echoed by the exec session"
	kill -0 "$ep" 2>/dev/null ||
	    fail "docker events ended by itself: [$(cat ev.err)]"
	kill "$ep" 2>/dev/null
	wait "$ep" 2>/dev/null
	expect_eq "$(tr '\n' ' ' <ev.out)" "lc_ev1 lc_ev2 lc_ev3 lc_ev4 " \
	    "the events received"
}

# A syntax error after a string a mid-rule action took (backend's or a
# systemd listener's TLS options): moatd freed the string twice, and on
# SIGHUP the root parent aborted and took every child with it.
t_lc_reload_midrule_error() {
	local port url why

	tid "SIGHUP with a syntax error after backend ADDR tls: nothing changes"
	port=$(free_port)
	url=http://127.0.0.1:$port
	printf 'backend "unix://%s"\n' "$RIG_SOCK" >m.conf
	chmod 600 m.conf
	moatd_start -f m.conf -frontend-addr "tcp://127.0.0.1:$port"
	expect_status 200 "$url/_ping"
	printf 'backend "unix://%s" tls ca\n' "$RIG_SOCK" >m.conf
	_lc_hup 'reload failed, keeping configuration 1'
	grep -q 'm\.conf:1: syntax error: expected string, got end of line' \
	    "$MOATD_LOG" || fail "the syntax error is not logged as m.conf:1:" \
	    "$(_moatd_logtail "$MOATD_LOG")"
	why=$(moatd_alive) || fail "after the bad reload: $why"
	expect_status 200 "$url/_ping"
	printf 'backend "unix://%s"\nlisten on systemd "x" tls ca\n' \
	    "$RIG_SOCK" >m.conf
	_lc_hup 'reload failed, keeping configuration 1' 2
	why=$(moatd_alive) || fail "after the second bad reload: $why"
	expect_status 200 "$url/_ping"
	moatd_stop || fail "moatd did not stop cleanly"
	pass
}

# _lc_reaper LOG cmd [args] &: run cmd as a child of a subreaper, which
# replaces the background subshell (so $! is its pid), adopts whatever
# cmd leaves behind (a daemon and its children), reaps each and writes
# "pid exit-status" (128+signal when killed) to LOG; it ends when nothing
# is left, or after 60 s.
_lc_reaper() {
	exec python3 -c '
import ctypes, os, signal, sys
if ctypes.CDLL(None).prctl(36, 1, 0, 0, 0) != 0:	# PR_SET_CHILD_SUBREAPER
    sys.exit("prctl PR_SET_CHILD_SUBREAPER failed")
signal.alarm(60)
log = open(sys.argv[1], "a", buffering=1)
if os.fork() == 0:
    os.execv(sys.argv[2], sys.argv[2:])
while True:
    try:
        pid, st = os.wait()
    except ChildProcessError:
        break
    rc = os.waitstatus_to_exitcode(st)
    log.write("%d %d\n" % (pid, rc if rc >= 0 else 128 - rc))
' "$@"
}

# When the test ends early: stop the daemon first (its children go to
# the reaper), then the reaper if it is still there.
LC_DAEMON=
LC_REAPER=
_lc_pid_cleanup() {
	local i

	if [ -n "$LC_DAEMON" ] && _palive "$LC_DAEMON"; then
		moatd_stop "$LC_DAEMON"
	fi
	for ((i = 0; i < 40; i++)); do
		_palive "$LC_REAPER" || break
		sleep 0.05
	done
	kill "$LC_REAPER" 2>/dev/null
	wait "$LC_REAPER" 2>/dev/null
}

t_lc_pidfile() {
	local port url rp pid kids c fg i why

	tid "daemonised: the pid file, a second instance refused, SIGTERM"
	port=$(free_port)
	url=http://127.0.0.1:$port
	cat >d.conf <<EOF
pidfile "$SCRATCH/m.pid"
listen on "tcp://127.0.0.1:$port"
backend "unix://$RIG_SOCK"
EOF
	: >reaped.log
	_lc_reaper reaped.log "$MOATD" -f d.conf >fg.out 2>fg.err &
	rp=$!
	LC_REAPER=$rp
	on_exit _lc_pid_cleanup
	# The command returns at once, 0, with the daemon on its way.
	_lc_wait_grep reaped.log 10 '^[0-9]+ ' 1 "the command moatd -f d.conf"
	read -r fg c <reaped.log
	expect_eq "$c" 0 "exit status of moatd -f d.conf (stderr: $(
	    cat fg.err))"
	for ((i = 0; i < 200; i++)); do
		[ -s m.pid ] && _accepts "tcp://127.0.0.1:$port" && break
		sleep 0.05
	done
	[ -s m.pid ] || fail "no pid file m.pid within 10 s"
	pid=$(cat m.pid)
	expect_match "$pid" '^[0-9]+$' "content of m.pid"
	LC_DAEMON=$pid
	# Whatever happens from here, the test's checks stop the daemon.
	echo "$pid $SCRATCH/syslog" >>"$SCRATCH/.moatd"
	_remember "$pid"
	[ "$pid" != "$fg" ] || fail "m.pid holds the command's own pid $fg"
	_palive "$pid" || fail "the pid $pid in m.pid is not running"
	expect_eq "$(readlink /proc/"$pid"/exe)" "$MOATD" "executable of $pid"
	expect_eq "$(ps -o ppid= -p "$pid" | tr -d ' ')" "$rp" \
	    "parent of $pid (it was orphaned to the subreaper)"
	expect_eq "$(ps -o sid= -p "$pid" | tr -d ' ')" "$pid" \
	    "session of $pid (a daemon leads its own)"
	expect_status 200 "$url/_ping"
	# The parent it names is the one with the policy worker and relays.
	sleep 0.3
	kids=$(_children "$pid")
	echo $kids >"$SCRATCH/.children.$pid"
	for c in $kids; do
		_remember "$c"
	done
	expect_match "$(ps -o args= --ppid "$pid" | sort | tr '\n' ' ')" \
	    '^(moatd: forwarder\[[0-9]+\] +)+moatd: policy +(moatd: relay\[[0-9]+\] +)+moatd: watcher +$' \
	    "the children of $pid"
	flock -n m.pid true && fail "m.pid is not locked"

	# A second daemon with the same pid file: refused, naming the pid.
	run_cmd timeout 10 "$MOATD" -f d.conf
	expect_eq "$RC" 1 "exit status of a second moatd -f d.conf"
	[[ $ERR == *"$SCRATCH/m.pid"*"$pid"* ]] ||
	    fail "the second moatd does not name m.pid and pid $pid: [$ERR]"
	expect_eq "$(cat m.pid)" "$pid" "m.pid after the second moatd"
	# A second one in the foreground (no pid file) on the same port.
	run_cmd timeout 10 "$MOATD" -d -f d.conf
	expect_eq "$RC" 1 "exit status of a second moatd -d -f d.conf"
	[[ $ERR == *"tcp://127.0.0.1:$port: $LC_INUSE"* ]] ||
	    fail "the second moatd -d does not say why: [$ERR]"
	run_cmd timeout 10 "$MOATD" -d -frontend-addr "tcp://127.0.0.1:$port"
	expect_eq "$RC" 1 "exit status of moatd -d -frontend-addr (in use)"
	[[ $ERR == *"$LC_INUSE"* ]] ||
	    fail "moatd -d -frontend-addr does not say why: [$ERR]"
	why=$(moatd_alive "$pid") || fail "after the second instances: $why"
	expect_status 200 "$url/_ping"

	# SIGTERM: a clean exit, the pid file gone, every process gone.
	kill -TERM "$pid"
	_lc_wait_grep reaped.log 15 "^$pid " 1 "the daemon's exit"
	expect_eq "$(awk -v p="$pid" '$1 == p { print $2 }' reaped.log)" 0 \
	    "exit status of the daemon after SIGTERM"
	moatd_forget "$pid"
	[ -e m.pid ] && fail "m.pid is still there: [$(cat m.pid)]"
	for ((i = 0; i < 40; i++)); do
		c=
		for c in $kids; do
			_palive "$c" && break
			c=
		done
		[ -z "$c" ] && break
		sleep 0.05
	done
	[ -z "$c" ] || fail "child $c of the daemon is still running"
	_accepts "tcp://127.0.0.1:$port" &&
	    fail "port $port still accepts connections"
	pass
}

# moatd -d the way a shell with job control runs it: leading a process
# group that its children share, so that Ctrl-C (SIGINT from the
# terminal) or kill -TERM -- -PGID reaches every process at once.  The
# children leave the signal to the parent, which stops them in order:
# exit status 0, no child lost or killed, no broken pipe, nothing of the
# group left.  A TLS frontend, so that the ca processes run too.  $1:
# INT or TERM.
_lc_group_stop() {
	local sig=$1 port kids c i bad

	port=$(free_port)
	{
		tls_ca "$SCRATCH/ca" "moatd lifecycle CA" ec &&
		tls_cert "$SCRATCH/ca" "$SCRATCH/srv" server "/CN=moatd" ec \
		    "IP:127.0.0.1"
	} >/dev/null 2>tls.err || fail "cannot make a certificate:" \
	    "$(cat tls.err)"
	MOATD_SETSID=1 moatd_start -prefork 2 \
	    -frontend-addr "tcp://127.0.0.1:$port" \
	    -backend-addr "unix://$RIG_SOCK" \
	    -frontend-tls-cert "$SCRATCH/srv.pem" \
	    -frontend-tls-key "$SCRATCH/srv.key"
	expect_eq "$(ps -o pgid= -p "$MOATD_PID" | tr -d ' ')" "$MOATD_PID" \
	    "process group of moatd"
	expect_eq "$(ps -o args= --ppid "$MOATD_PID" | sed 's/\[[0-9]*\]//' |
	    sort -u | tr '\n' ' ')" "moatd: ca moatd: forwarder moatd: policy \
moatd: relay moatd: watcher " "the roles of moatd's children"
	expect_status 200 --cacert ca/ca.pem "https://127.0.0.1:$port/_ping"
	kids=$(_descendants "$MOATD_PID")
	for c in $kids; do
		expect_eq "$(ps -o pgid= -p "$c" | tr -d ' ')" "$MOATD_PID" \
		    "process group of child $c"
	done

	kill -"$sig" -- -"$MOATD_PID"
	# Past the drain timeout (10 s) and the parent's 2 s of grace.
	for ((i = 0; i < 20 * 20; i++)); do
		_palive "$MOATD_PID" || break
		sleep 0.05
	done
	_palive "$MOATD_PID" && fail "moatd still runs 20 s after SIG$sig" \
	    "to its process group"$'\n'"$(_moatd_logtail "$MOATD_LOG")"
	moatd_forget
	expect_eq "$MOATD_STATUS" 0 "exit status of moatd after SIG$sig to" \
	    "its process group"
	# The parent's "received signal N, draining" is the one expected.
	bad=$(grep -E 'lost child|killed|signal|[Bb]roken pipe|did not stop' \
	    "$MOATD_LOG" | grep -v 'received signal [0-9]*, draining')
	[ -z "$bad" ] || fail "after SIG$sig to the group, moatd logged:" \
	    "$bad"
	grep -q 'received signal' "$MOATD_LOG" ||
	    fail "moatd did not log the signal: $(_moatd_logtail "$MOATD_LOG")"
	grep -q 'stopped$' "$MOATD_LOG" ||
	    fail "moatd did not log its stop: $(_moatd_logtail "$MOATD_LOG")"
	# The parent reaps every child before it exits.
	for c in $kids; do
		_palive "$c" && fail "child $c outlived moatd:" \
		    "$(tr '\0' ' ' </proc/"$c"/cmdline 2>/dev/null)"
	done
	pgrep -g "$MOATD_PID" >/dev/null &&
	    fail "processes left in moatd's group: $(pgrep -a -g "$MOATD_PID")"
	pass
}

t_lc_group_sigint() {
	tid "Ctrl-C: SIGINT to moatd -d's process group stops it in order"
	_lc_group_stop INT
}

t_lc_group_sigterm() {
	tid "SIGTERM to moatd -d's process group stops it in order"
	_lc_group_stop TERM
}
