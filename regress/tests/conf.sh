# The shipped configuration: every rules file in etc/rules/ loads alone
# with moatd -n and lists every rule it holds.  No engine needed.

# run.sh sources the tests from the top of the tree.
CONF_SRCDIR=$PWD

t_conf_rules_files_load() {
	local f n want files=0

	tid "etc/rules/*.list: each loads alone with -n, every rule listed"
	for f in "$CONF_SRCDIR"/etc/rules/*.list; do
		files=$((files + 1))
		run_cmd "$MOATD" -n -no-builtin-rules -rules-file "$f"
		expect_eq "$RC" 0 \
		    "exit status of moatd -n -rules-file $f (stderr: $ERR)"
		expect_eq "$ERR" "" "stderr of moatd -n -rules-file $f"
		want=$(grep -cEv '^[[:space:]]*(!|$)' "$f")
		[ "$want" -gt 0 ] || fail "$f holds no rule"
		n=$(printf '%s\n' "$OUT" |
		    awk -v p="$f:" 'index($0, p) == 1' | wc -l)
		expect_eq "$n" "$want" "rules listed for $f"
	done
	# readonly, traefik, portainer-readonly, homepage, dozzle,
	# dozzle-actions, watchtower, netdata, prometheus, uptime-kuma,
	# diun, beszel, zabbix, glance
	expect_eq "$files" 14 "rules files in etc/rules"
}

# The request line is part of the head: a "limit line" over "limit head"
# (here the default 8192 against "limit head 4096" alone) is refused where
# it is written, by -n and at start.  moatd used to accept it, and its
# relays then searched line_max bytes for the line's end in a head_max
# buffer (a heap over-read).
t_conf_limit_line_over_head() {
	tid "limit line over limit head: refused with file:line, -n and start"
	printf '# small heads\nbackend "unix:///nonexistent"\nlimit head 4096\n' \
	    >l.conf
	chmod 600 l.conf
	run_cmd "$MOATD" -n -f l.conf
	expect_eq "$RC" 1 "exit status of moatd -n -f l.conf (stderr: $ERR)"
	expect_match "$ERR" \
	    "l\.conf:3: limit line 8192 is over limit head 4096" \
	    "stderr of moatd -n -f l.conf"
	run_cmd timeout 10 "$MOATD" -d -f l.conf \
	    -frontend-addr "tcp://127.0.0.1:$(free_port)"
	expect_eq "$RC" 1 "exit status of moatd -d -f l.conf (stderr: $ERR)"
	expect_match "$ERR" "l\.conf:3: limit line 8192 is over limit head" \
	    "stderr of moatd -d -f l.conf"
	# Equal limits are fine.
	printf 'limit line 4096\n' >>l.conf
	run_cmd "$MOATD" -n -f l.conf
	expect_eq "$RC" 0 "moatd -n -f l.conf with limit line 4096 ($ERR)"
	pass
}

# A head limit below the default: a request line over "limit line" gets
# 414, a head over "limit head" 431 (the relay's scan stays in the head).
t_conf_limit_small_head() {
	local port url long why

	tid "limit head 4096, limit line 2048: 414 and 431 from the relay"
	port=$(free_port)
	url=http://127.0.0.1:$port
	printf 'backend "unix:///nonexistent"\nlimit head 4096\n' >s.conf
	printf 'limit line 2048\nrules "GET /"\n' >>s.conf
	chmod 600 s.conf
	moatd_start -f s.conf -frontend-addr "tcp://127.0.0.1:$port"
	long=$(printf '%05000d' 0)
	expect_status 414 "$url/${long}"
	expect_status 414 "$url/${long:0:2100}"
	expect_status 431 -H "X-A: ${long:0:3000}" -H "X-B: ${long:0:1200}" \
	    "$url/x"
	why=$(moatd_alive) || fail "$why"
	moatd_stop || fail "moatd did not stop cleanly"
	pass
}

# The body policy reaches the policy worker, and a reload replaces it:
# a bind under an "allow bind" root passes to the (recording) backend,
# then, with the statement gone after SIGHUP, the same request gets the
# 403 that names the field; "limit body" comes and goes the same way.
t_conf_body_reload() {
	local port d body big i st

	tid "allow bind and limit body reach the policy worker; SIGHUP replaces them"
	# Outside the run's directory, which only root may search: the
	# policy worker walks a bind source as its unprivileged user.
	d=$(mktemp -d /tmp/moatd-bind.XXXXXX) || fail "mktemp"
	on_exit rm -rf "$d"
	chmod 755 "$d"
	d=$(cd "$d" && pwd -P)
	fakedocker_start "$CONF_SRCDIR"
	port=$(free_port)
	printf 'backend "unix://%s/fd.sock"\nrules "POST %%API_PREFIX_CONTAINERS%%/create"\nallow bind "%s"\n' \
	    "$SCRATCH" "$d" >b.conf
	chmod 600 b.conf
	moatd_start -f "$PWD/b.conf" -prefork 1 \
	    -frontend-addr "tcp://127.0.0.1:$port"
	body="{\"Image\":\"alpine\",\"HostConfig\":{\"Binds\":[\"$d/cache:/cache\"]}}"
	st=$(curl -s -o out.json -w '%{http_code}' -H 'Content-Type: application/json' \
	    --data-binary "$body" "http://127.0.0.1:$port/v1.47/containers/create")
	expect_eq "$st" 200 "a bind under the allowed root (answer: $(cat out.json))"
	grep -qF "$d/cache:/cache" "$SCRATCH/fd/all.raw" ||
	    fail "the body did not reach the backend"
	# A directory the worker may not search: it cannot check, it refuses.
	mkdir -m 700 "$d/private"
	st=$(curl -s -o out.json -w '%{http_code}' -H 'Content-Type: application/json' \
	    --data-binary "{\"Image\":\"a\",\"HostConfig\":{\"Binds\":[\"$d/private/x:/x\"]}}" \
	    "http://127.0.0.1:$port/v1.47/containers/create")
	expect_eq "$st" 403 "a bind the worker cannot walk ($(cat out.json))"

	# Without the allow statement, and with a small limit.
	printf 'backend "unix://%s/fd.sock"\nrules "POST %%API_PREFIX_CONTAINERS%%/create"\nlimit body 1K\n' \
	    "$SCRATCH" >b.conf
	kill -HUP "$MOATD_PID"
	for ((i = 0; i < 100; i++)); do
		grep -q 'configuration 2 in effect' "$MOATD_LOG" && break
		sleep 0.05
	done
	grep -q 'configuration 2 in effect' "$MOATD_LOG" ||
	    fail "no reload: [$(tail -n 5 "$MOATD_LOG")]"
	st=$(curl -s -o out.json -w '%{http_code}' -H 'Content-Type: application/json' \
	    --data-binary "$body" "http://127.0.0.1:$port/v1.47/containers/create")
	expect_eq "$st" 403 "the same bind after the reload"
	expect_eq "$(cat out.json)" \
	    "{\"message\":\"moatd: POST /v1.47/containers/create: HostConfig.Binds[0]=$d/cache:/cache is not allowed\"}" \
	    "the refusal"
	big="{\"Image\":\"alpine\",\"Labels\":{\"x\":\"$(printf '%01100d' 0)\"}}"
	st=$(curl -s -o out.json -w '%{http_code}' -H 'Content-Type: application/json' \
	    --data-binary "$big" "http://127.0.0.1:$port/v1.47/containers/create")
	expect_eq "$st" 413 "a body over limit body 1K ($(cat out.json))"
	grep -qF '"Labels"' "$SCRATCH/fd/all.raw" &&
	    fail "the body over the limit reached the backend"
	moatd_stop || fail "moatd did not stop cleanly"
	pass
}

# Client blocks (issue 13): each mistake refused where it is written, by
# -n and at start; "match listener" against the listeners in effect.
t_conf_client_errors() {
	local port

	tid "client blocks: bad ones refused with file:line, by -n and at start"
	cat >c.conf <<'EOC'
listen on "tcp://127.0.0.1:1" name "ci"
client "empty" {
	rules "GET /x"
}
client "ci" {
	match address 10.1.0.1/16
	match tls sha256 "AB:CD:EF"
	match listener "nosuch"
}
client "ci" {
	match unix user "no-such-user-moatd"
}
EOC
	chmod 600 c.conf
	run_cmd "$MOATD" -n -f c.conf
	expect_eq "$RC" 1 "exit status of moatd -n -f c.conf (stderr: $ERR)"
	expect_eq "$(printf '%s\n' "$ERR" | sed 's/^moatd[^:]*: //')" \
'c.conf:2: client "empty": no match line (a block without one would match every client: that is what the top level is for)
c.conf:6: match address "10.1.0.1/16": host bits set (the network is 10.1.0.0/16)
c.conf:7: match tls sha256 "AB:CD:EF": must be 64 lowercase hex digits without colons, as the log line'"'"'s cert_sha256 shows it
c.conf:10: client "ci": a block of that name comes before
c.conf:11: match unix user "no-such-user-moatd": no such user
c.conf:8: match listener "nosuch": no listener has that name (listen on "..." name "nosuch")' \
	    "stderr of moatd -n -f c.conf"
	run_cmd timeout 10 "$MOATD" -d -f c.conf
	expect_eq "$RC" 1 "exit status of moatd -d -f c.conf (stderr: $ERR)"
	expect_match "$ERR" 'c\.conf:2: client "empty": no match line' \
	    "stderr of moatd -d -f c.conf"
	# A good file, but -frontend-addr takes the named listener away.
	printf 'listen on "tcp://127.0.0.1:1" name "ci"\nclient "ci" {\n\tmatch listener "ci"\n}\n' \
	    >c.conf
	run_cmd "$MOATD" -n -f c.conf
	expect_eq "$RC" 0 "moatd -n -f c.conf with a named listener ($ERR)"
	port=$(free_port)
	run_cmd "$MOATD" -n -f c.conf -frontend-addr "tcp://127.0.0.1:$port"
	expect_eq "$RC" 1 "exit status with -frontend-addr (stderr: $ERR)"
	expect_match "$ERR" 'client "ci": match listener "ci": no listener has that name' \
	    "stderr with -frontend-addr"
	# A bad rule in a block: refused by -n, -q and at start, as any rule.
	printf 'client "x" {\n\tmatch address 10.0.0.0/8\n\trules "GET /(unclosed"\n}\n' \
	    >c.conf
	run_cmd "$MOATD" -n -f c.conf
	expect_eq "$RC" 1 "exit status for a bad rule in a block (stderr: $ERR)"
	expect_match "$ERR" 'c\.conf:3: invalid pattern "/\(unclosed"' \
	    "stderr for a bad rule in a block"
	run_cmd "$MOATD" -q 'GET /_ping' -f c.conf
	expect_eq "$RC" 3 "exit status of -q for a bad rule in a block"
	run_cmd timeout 10 "$MOATD" -d -f c.conf \
	    -frontend-addr "tcp://127.0.0.1:$port"
	expect_eq "$RC" 1 "exit status at start for a bad rule in a block"
	pass
}

# A reload keeps the listeners, and so their names: a "match listener"
# naming a listener that only the new file has fails the reload, and the
# running configuration stays.
t_conf_client_reload() {
	local port i

	tid "reload: match listener naming a listener only the new file has is refused"
	port=$(free_port)
	printf 'listen on "tcp://127.0.0.1:%s" name "a"\nbackend "unix:///nonexistent"\nclient "x" {\n\tmatch listener "a"\n}\n' \
	    "$port" >r.conf
	chmod 600 r.conf
	MOATD_ADDRS=tcp://127.0.0.1:$port moatd_start -f "$PWD/r.conf" -prefork 1
	printf 'listen on "tcp://127.0.0.1:%s" name "a"\nlisten on "tcp://127.0.0.1:%s" name "b"\nbackend "unix:///nonexistent"\nclient "x" {\n\tmatch listener "b"\n}\n' \
	    "$port" "$(free_port)" >r.conf
	kill -HUP "$MOATD_PID"
	for ((i = 0; i < 100; i++)); do
		grep -q 'reload failed' "$MOATD_LOG" && break
		sleep 0.05
	done
	grep -q 'client "x": match listener "b": no listener has that name' \
	    "$MOATD_LOG" || fail "no refusal: [$(tail -n 5 "$MOATD_LOG")]"
	grep -q 'reload failed, keeping configuration 1' "$MOATD_LOG" ||
	    fail "the reload was not refused: [$(tail -n 5 "$MOATD_LOG")]"
	# Naming the running listener is fine.
	printf 'listen on "tcp://127.0.0.1:%s" name "a"\nbackend "unix:///nonexistent"\nclient "x" {\n\tmatch listener "a"\n\tmatch address 127.0.0.0/8\n}\n' \
	    "$port" >r.conf
	kill -HUP "$MOATD_PID"
	for ((i = 0; i < 100; i++)); do
		grep -q 'configuration 2 in effect' "$MOATD_LOG" && break
		sleep 0.05
	done
	grep -q 'configuration 2 in effect' "$MOATD_LOG" ||
	    fail "no reload: [$(tail -n 5 "$MOATD_LOG")]"
	moatd_stop || fail "moatd did not stop cleanly"
	pass
}
