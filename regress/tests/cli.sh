# moatd -n (check and print the rules) and moatd -q (ask the policy about
# one request), CetusGuard's rule options.  No engine needed.
#
#   moatd -n [rule options]	one "source:line METHODS expanded" per rule,
#				exit 0; or "file:line: why" on stderr, exit 1
#   moatd -q 'METHOD TARGET' [-b body] [rule options]
#				"allow source:line" (0), "deny" (1) or, for
#				a body (or query) the body policy refuses,
#				"deny source:line: Field=value is not
#				allowed" (1), "bad request: why" (2), or
#				nothing on stdout for invalid rules or
#				configuration (3)

# What %API_PREFIX% and %API_PREFIX_LIBPOD% expand to (CetusGuard's
# definitions, each variable wrapped in its own group).
PFX='(?:(?:/v[0-9]+(?:\.[0-9]+)*))?'
LPFX='(?:/v[0-9]+(?:\.[0-9]+)*)/libpod'

# What to call the last run_cmd in a failure message.
_what() {
	printf 'moatd %s' "$*"
	[ -n "$ERR" ] && printf ' (stderr: %s)' "$ERR"
}

# Run moatd -q; check the output and the exit status.
_q_allow() {
	local req=$1 want=$2

	shift 2
	run_cmd "$MOATD" -q "$req" "$@"
	expect_eq "$OUT" "allow $want" "$(_what -q "'$req'" "$@")"
	expect_eq "$RC" 0 "exit status of moatd -q '$req'"
}

_q_deny() {
	local req=$1

	shift
	run_cmd "$MOATD" -q "$req" "$@"
	expect_eq "$OUT" deny "$(_what -q "'$req'" "$@")"
	expect_eq "$RC" 1 "exit status of moatd -q '$req'"
}

_q_bad() {
	local req=$1

	shift
	run_cmd "$MOATD" -q "$req" "$@"
	expect_match "$OUT$ERR" '^bad request: [^[:cntrl:]]+$' \
	    "moatd -q '$req' $*"
	expect_eq "$RC" 2 "exit status of moatd -q '$req'"
}

# source:line of the built-in rule whose listing ends in $1.
_builtin_line() {
	local at

	run_cmd "$MOATD" -n
	expect_eq "$RC" 0 "$(_what -n) exit status"
	at=$(printf '%s\n' "$OUT" | awk -v s=" $1" \
	    'substr($0, length($0) - length(s) + 1) == s { print $1 }')
	[ -n "$at" ] || fail "no built-in rule for $1 in moatd -n: [$OUT]"
	printf '%s\n' "$at"
}

t_cli_n_builtin() {
	tid "-n lists the built-in rules (Docker and libpod forms), expanded"
	run_cmd "$MOATD" -n
	expect_eq "$RC" 0 "$(_what -n) exit status"
	expect_eq "$ERR" "" "stderr"
	expect_eq "$(printf '%s\n' "$OUT" | sed 's/^builtin:[0-9]* //')" \
"GET,HEAD $PFX/_ping
GET,HEAD $LPFX/_ping
GET $PFX/version
GET $LPFX/version
GET $PFX/info
GET $LPFX/info" "rules after their builtin:N"
	expect_eq "$(printf '%s\n' "$OUT" | sed -n 's/^builtin:\([0-9]*\) .*/\1/p' |
	    sort -nu | wc -l)" 6 "six distinct builtin:N sources"
}

t_cli_n_no_sockets() {
	tid "-n touches no socket, not even the ones it was given"
	run_cmd "$MOATD" -n -frontend-addr "unix://$SCRATCH/front.sock" \
	    -backend-addr "unix://$SCRATCH/back.sock"
	expect_eq "$RC" 0 "$(_what -n) exit status"
	expect_match "$OUT" '^builtin:[0-9]+ GET,HEAD ' "-n listing"
	[ -e "$SCRATCH/front.sock" ] && fail "-n created front.sock"
	pass
}

t_cli_q_builtin() {
	local ping

	tid "-q: the built-in rules allow ping, version and info only"
	ping=$(_builtin_line "$PFX/_ping")
	expect_match "$ping" '^builtin:[0-9]+$' "the ping rule in -n"
	_q_allow 'GET /_ping' "$ping"
	_q_allow 'HEAD /_ping' "$ping"
	_q_allow 'GET /v1.41/_ping' "$ping"
	_q_allow 'GET /version' "$(_builtin_line "$PFX/version")"
	_q_allow 'GET /v1.24/info' "$(_builtin_line "$PFX/info")"
	_q_deny 'POST /_ping'
	_q_deny 'HEAD /version'
	_q_deny 'GET /containers/json'
	_q_deny 'GET /_ping/x'
	_q_deny 'GET /v1.41x/_ping'
}

t_cli_no_builtin() {
	tid "-no-builtin-rules: nothing is allowed"
	run_cmd "$MOATD" -n -no-builtin-rules
	expect_eq "$RC" 0 "$(_what -n) exit status"
	expect_eq "$OUT" "" "-n listing"
	_q_deny 'GET /_ping' -no-builtin-rules
	_q_deny 'GET /version' -no-builtin-rules
}

t_cli_rules_file_crlf() {
	tid "-rules-file: CRLF lines, blank lines and ! comments"
	printf '%s\r\n' '! rules for the moatd tests' '' \
	    'GET,HEAD %API_PREFIX_CONTAINERS%/json' \
	    '   ! an indented comment' 'POST /build' >rules.crlf
	run_cmd "$MOATD" -n -no-builtin-rules -rules-file rules.crlf
	expect_eq "$RC" 0 "$(_what -n) exit status"
	expect_eq "$OUT" "rules.crlf:3 GET,HEAD $PFX/containers/json
rules.crlf:5 POST /build" "-n listing"
	_q_allow 'GET /v1.41/containers/json' rules.crlf:3 \
	    -no-builtin-rules -rules-file rules.crlf
	_q_allow 'HEAD /containers/json' rules.crlf:3 \
	    -no-builtin-rules -rules-file rules.crlf
	# A CR kept at the end of the pattern would make this deny.
	_q_allow 'POST /build' rules.crlf:5 \
	    -no-builtin-rules -rules-file rules.crlf
	_q_deny 'GET /build' -no-builtin-rules -rules-file rules.crlf
	_q_deny 'GET /_ping' -no-builtin-rules -rules-file rules.crlf
}

t_cli_rules_files_order() {
	tid "-rules-file twice: both files, in the order given"
	printf 'GET /a\n' >one.list
	printf '\nPOST /b\n' >two.list
	run_cmd "$MOATD" -n -no-builtin-rules -rules-file one.list \
	    -rules-file two.list
	expect_eq "$RC" 0 "$(_what -n) exit status"
	expect_eq "$OUT" "one.list:1 GET /a
two.list:2 POST /b" "-n listing"
	_q_allow 'POST /b' two.list:2 -no-builtin-rules \
	    -rules-file one.list -rules-file two.list
}

t_cli_invalid_rules() {
	tid "an invalid rules file: exit 1, every error as file:line"
	printf '%s\n' 'GET /ok' '! fine' 'GET, /bad' 'POST /fine' \
	    'GET /(unclosed' >rules.list
	run_cmd "$MOATD" -n -no-builtin-rules -rules-file rules.list
	expect_eq "$RC" 1 "exit status"
	expect_eq "$OUT" "" "stdout"
	[[ $ERR == *'rules.list:3: invalid method list "GET,"'* ]] ||
	    fail "stderr does not name rules.list:3: [$ERR]"
	[[ $ERR == *rules.list:5:\ * ]] ||
	    fail "stderr does not name rules.list:5 (bad regex): [$ERR]"
	[[ $ERR == *rules.list:[124]:* ]] &&
	    fail "stderr blames a valid line: [$ERR]"
	run_cmd "$MOATD" -n -rules-file missing.list
	expect_eq "$RC" 1 "exit status for a missing file"
	[[ $ERR == *missing.list* ]] ||
	    fail "stderr does not name missing.list: [$ERR]"
}

t_cli_q_invalid_config() {
	tid "-q with invalid rules or configuration: exit 3, never 1 (deny)"
	printf '%s\n' 'GET /(unclosed' >bad.list
	run_cmd "$MOATD" -q 'GET /_ping' -rules-file bad.list
	expect_eq "$RC" 3 "exit status for an invalid rule (stderr: $ERR)"
	expect_eq "$OUT" "" "stdout for an invalid rule"
	run_cmd "$MOATD" -q 'GET /_ping' -rules-file missing.list
	expect_eq "$RC" 3 "exit status for a missing rules file (stderr: $ERR)"
	printf 'bogus keyword\n' >bad.conf
	chmod 600 bad.conf
	run_cmd "$MOATD" -f "$PWD/bad.conf" -q 'GET /_ping'
	expect_eq "$RC" 3 "exit status for a bad moatd.conf (stderr: $ERR)"
	[[ $ERR == *bad.conf:1:* ]] || fail "stderr does not name bad.conf:1: [$ERR]"
	run_cmd "$MOATD" -q 'GET /_ping' -log-level 9
	expect_eq "$RC" 3 "exit status for a bad option value (stderr: $ERR)"
	pass
}

t_cli_re2_rules() {
	tid "a rule RE2 (CetusGuard) would refuse or read otherwise: -n fails at file:line"
	printf '%s\n' 'GET /ok' '! fine' 'GET /a(?=b)' 'POST /x(?i)Y' \
	    'GET /c++' 'GET /d\Z' 'GET /e{1001}' 'GET /(?P<n>f)(?P=n)' \
	    'GET /\x{41}[[:alpha:]]\pL' >rules.list
	run_cmd "$MOATD" -n -no-builtin-rules -rules-file rules.list
	expect_eq "$RC" 1 "exit status"
	expect_eq "$OUT" "" "stdout"
	[[ $ERR == *'rules.list:3: invalid pattern "/a(?=b)": lookahead'* ]] ||
	    fail "stderr does not name the lookahead at rules.list:3: [$ERR]"
	for n in 5 6 7 8; do
		[[ $ERR == *rules.list:$n:\ invalid\ pattern* ]] ||
		    fail "stderr does not name rules.list:$n: [$ERR]"
	done
	[[ $ERR == *rules.list:[1249]:* ]] &&
	    fail "stderr blames a valid line: [$ERR]"
	run_cmd "$MOATD" -n -no-builtin-rules -rules 'GET /a(?<=b)'
	expect_eq "$RC" 1 "exit status for -rules"
	[[ $ERR == *'-rules:1: invalid pattern "/a(?<=b)": lookbehind'* ]] ||
	    fail "stderr does not name -rules:1: [$ERR]"
}

t_cli_decoded_path() {
	tid "-q: rules match the percent-decoded path; any upper-case method a rule names"
	_q_allow 'GET /t/a%20b' -rules:1 -no-builtin-rules -rules 'GET /t/a b'
	_q_allow 'GET /t/a%3Fb' -rules:1 -no-builtin-rules -rules 'GET /t/a\?b'
	_q_allow 'GET /t/%5B::1%5D' -rules:1 -no-builtin-rules \
	    -rules 'GET /t/%IPV6%'
	_q_allow 'GET /t/[::1]:5000/a/b:c' -rules:1 -no-builtin-rules \
	    -rules 'GET /t/%IMAGE_REFERENCE%'
	_q_allow 'FOO /x' -rules:1 -no-builtin-rules -rules 'FOO /x'
	_q_deny 'BAR /x' -no-builtin-rules -rules 'FOO /x'
}

t_cli_dot_segments() {
	tid "-q: dot segments are resolved before matching"
	_q_allow 'GET /containers/../_ping' "$(_builtin_line "$PFX/_ping")"
	_q_allow 'GET /v1.41/./version' "$(_builtin_line "$PFX/version")"
	_q_deny 'GET /_ping/../containers/json'
}

t_cli_bad_targets() {
	tid "-q: targets that escape the root or hide a / are bad requests"
	_q_bad 'GET /%2e%2e/x'
	_q_bad 'GET /../_ping'
	_q_bad 'GET /a%2Fb'
	_q_bad 'GET /a%2fb'
}

t_cli_variables() {
	tid "-rules: %VARIABLES% expand as in CetusGuard"
	_q_allow 'DELETE /v1.41/containers/web-1' -rules:1 \
	    -rules 'DELETE %API_PREFIX_CONTAINERS%/%CONTAINER_ID_OR_NAME%'
	_q_deny 'DELETE /containers/a/b' \
	    -rules 'DELETE %API_PREFIX_CONTAINERS%/%CONTAINER_ID_OR_NAME%'
}

t_cli_double_dash() {
	tid "--rules, --rules-file, --no-builtin-rules with two dashes"
	printf 'PUT /c\n' >f.list
	_q_allow 'POST /b' -rules:2 --rules $'GET /a\nPOST /b'
	_q_allow 'PUT /c' f.list:1 --no-builtin-rules --rules-file f.list
	_q_deny 'GET /_ping' --no-builtin-rules --rules 'GET /a'
	run_cmd "$MOATD" -n --no-builtin-rules --rules $'GET /a\nPOST /b'
	expect_eq "$RC" 0 "$(_what -n) exit status"
	expect_eq "$OUT" "-rules:1 GET /a
-rules:2 POST /b" "-n listing"
}

t_cli_flag_equals() {
	tid "-flag=value works, as with CetusGuard's Go flags"
	printf 'PUT /c\n' >f.list
	_q_allow 'PUT /c' f.list:1 -no-builtin-rules -rules-file=f.list
	_q_allow 'GET /a' -rules:1 --rules='GET /a'
}

# The real path of a scratch directory (SCRATCH may sit under a link).
_realdir() {
	mkdir -p "$1" && (cd "$1" && pwd -P)
}

t_cli_body_flags() {
	local d

	tid "-allow-bind, -allow-image, -limit-body: in -n -v, and refused when wrong"
	d=$(_realdir ci-cache)
	mkdir "$d/ro"
	run_cmd "$MOATD" -n -v -allow-bind "$d" -allow-bind "$d/ro/:ro" \
	    -allow-image 'docker.io/library/*' -allow-image 'r.example/*' \
	    -limit-body 2M
	expect_eq "$RC" 0 "$(_what -n -v) exit status"
	expect_eq "$(printf '%s\n' "$OUT" | grep -E '^(limit body|allow)')" \
"limit body 2097152
allow bind \"$d\"
allow bind \"$d/ro\" read-only
allow image \"docker.io/library/*\"
allow image \"r.example/*\"" "the body policy in -n -v"
	run_cmd "$MOATD" -n -v
	expect_eq "$(printf '%s\n' "$OUT" | grep -E '^(limit body|allow|#)')" \
"limit body 1048576
# no allow statements: the safe defaults hold" "the default body policy"

	run_cmd "$MOATD" -n -allow-bind srv/data
	expect_eq "$RC" 1 "exit status for a relative -allow-bind"
	expect_match "$ERR" '-allow-bind srv/data: not an absolute path' \
	    "stderr for a relative -allow-bind"
	run_cmd "$MOATD" -n -allow-bind "$d/../etc"
	expect_eq "$RC" 1 "exit status for -allow-bind with .."
	expect_match "$ERR" 'a "\.\." segment is not allowed' \
	    "stderr for -allow-bind with .."
	ln -s "$d" link
	run_cmd "$MOATD" -n -allow-bind "$PWD/link:ro"
	expect_eq "$RC" 1 "exit status for a symlinked -allow-bind"
	[[ $ERR == *"-allow-bind $PWD/link:ro: not a real path (a symbolic link resolves it to \"$d\"): write the real path"* ]] ||
	    fail "stderr for a symlinked -allow-bind: [$ERR]"
	run_cmd "$MOATD" -n -limit-body 1000
	expect_eq "$RC" 1 "exit status for -limit-body 1000"
	expect_match "$ERR" '-limit-body 1000: must be 1024 to 8388608 bytes' \
	    "stderr for -limit-body 1000"
	run_cmd "$MOATD" -n -limit-body 9M
	expect_eq "$RC" 1 "exit status for -limit-body 9M"
	run_cmd "$MOATD" -n -allow-image ''
	expect_eq "$RC" 1 "exit status for an empty -allow-image"
	run_cmd "$MOATD" -b x.json
	expect_eq "$RC" 2 "exit status for -b without -q"
	expect_match "$ERR" '-b needs -q' "stderr for -b without -q"
	pass
}

t_cli_body_flags_replace() {
	local d e

	tid "-allow-bind and -allow-image replace the file's, as -rules does"
	d=$(_realdir one)
	e=$(_realdir two)
	printf 'allow bind "%s"\nallow image "a/*"\nallow capability NET_ADMIN\n' \
	    "$d" >c.conf
	chmod 600 c.conf
	run_cmd "$MOATD" -n -v -f "$PWD/c.conf" -allow-bind "$e:ro"
	expect_eq "$RC" 0 "$(_what -n -v) exit status"
	expect_eq "$(printf '%s\n' "$OUT" | grep '^allow')" \
"allow bind \"$e\" read-only
allow capability \"NET_ADMIN\"
allow image \"a/*\"" "the file's binds replaced, the rest kept"
	pass
}

t_cli_body_roundtrip() {
	local d

	tid "-n -v prints the body policy so that it reads back the same"
	d=$(_realdir data)
	cat >c.conf <<EOC
limit body 256K
allow bind "$d//x/../" read-only
allow bind "$d/"
allow capability cap_net_admin
allow capability SYS_PTRACE
allow device "/dev/fuse"
allow host network
allow host pid
allow privileged
allow container namespaces
allow image "docker.io/library/*"
allow runtime runsc
allow volume driver "local-persist"
allow sysctl "net.ipv4.*"
allow remote
allow plugin privileges
EOC
	chmod 600 c.conf
	run_cmd "$MOATD" -n -v -f "$PWD/c.conf"
	expect_eq "$RC" 1 "exit status with a .. in allow bind"
	expect_match "$ERR" "c\.conf:2: allow bind \"$d//x/\.\./\": a \"\.\.\" segment is not allowed" \
	    "stderr for a .. in allow bind"
	sed -i '2d' c.conf
	run_cmd "$MOATD" -n -v -f "$PWD/c.conf"
	expect_eq "$RC" 0 "$(_what -n -v -f c.conf) exit status"
	printf '%s\n' "$OUT" >printed.conf
	chmod 600 printed.conf
	expect_eq "$(printf '%s\n' "$OUT" | grep -E '^(limit body|allow)')" \
"limit body 262144
allow bind \"$d\"
allow capability \"NET_ADMIN\"
allow capability \"SYS_PTRACE\"
allow device \"/dev/fuse\"
allow host network
allow host pid
allow privileged
allow container namespaces
allow image \"docker.io/library/*\"
allow runtime \"runsc\"
allow volume driver \"local-persist\"
allow sysctl \"net.ipv4.*\"
allow remote
allow plugin privileges" "the body policy printed"
	run_cmd "$MOATD" -n -v -f "$PWD/printed.conf"
	expect_eq "$RC" 0 "$(_what -n -v -f printed.conf) exit status"
	expect_eq "$OUT" "$(cat printed.conf)" "printed twice"
	pass
}

# moatd -q with -b: a body through the same checks as a client's.
_qb() {
	local req=$1 body=$2

	shift 2
	printf '%s' "$body" >q.json
	run_cmd "$MOATD" -q "$req" -b q.json -no-builtin-rules \
	    -rules 'POST %API_PREFIX_CONTAINERS%/create' "$@"
}

t_cli_q_body() {
	tid "-q -b: allow, deny naming the rule and the field, bad JSON, over the limit"
	_qb 'POST /v1.51/containers/create' \
	    '{"Image":"alpine","HostConfig":{"Binds":["data:/data"],"PortBindings":{"80/tcp":[{"HostPort":"8080"}]}}}'
	expect_eq "$OUT" "allow -rules:1" "$(_what -q -b) for an ordinary create"
	expect_eq "$RC" 0 "exit status for an ordinary create"
	_qb 'POST /v1.51/containers/create' \
	    '{"Image":"alpine","HostConfig":{"Privileged":true}}'
	expect_eq "$OUT" \
	    "deny -rules:1: HostConfig.Privileged=true is not allowed" \
	    "$(_what -q -b) for a privileged create"
	expect_eq "$RC" 1 "exit status for a privileged create"
	# The same from the standard input.
	run_cmd "$MOATD" -q 'POST /containers/create' -b - -no-builtin-rules \
	    -rules 'POST %API_PREFIX_CONTAINERS%/create' <q.json
	expect_eq "$OUT" \
	    "deny -rules:1: HostConfig.Privileged=true is not allowed" \
	    "$(_what -q -b -) for a privileged create"
	expect_eq "$RC" 1 "exit status for -b -"
	_qb 'POST /containers/create' '{"Image":"alpine","HostConfig":{"Binds":["/:/host"]}}'
	expect_eq "$OUT" "deny -rules:1: HostConfig.Binds[0]=/:/host is not allowed" \
	    "$(_what -q -b) for / bound"
	_qb 'POST /containers/create' '{"Image":"alpine","HostConfig":{"CapAdd":["SYS_ADMIN"]}}'
	expect_eq "$OUT" "deny -rules:1: HostConfig.CapAdd[0]=SYS_ADMIN is not allowed" \
	    "$(_what -q -b) for CapAdd"
	_qb 'POST /containers/create' '{"Image":"alpine","HostConfig":{"CapAdd":["SYS_ADMIN"]}}' \
	    -f "$PWD/caps.conf"
	expect_eq "$RC" 3 "exit status for a missing -f file"
	printf 'allow capability sys_admin\n' >caps.conf
	chmod 600 caps.conf
	_qb 'POST /containers/create' '{"Image":"alpine","HostConfig":{"CapAdd":["CAP_SYS_ADMIN"]}}' \
	    -f "$PWD/caps.conf"
	expect_eq "$OUT" "allow -rules:1" "$(_what -q -b -f caps.conf)"

	_qb 'POST /containers/create' '{"Image":"alpine",}'
	expect_match "$OUT" '^bad request: request body is not valid JSON: [^[:cntrl:]]+ at byte 18$' \
	    "$(_what -q -b) for a trailing comma"
	expect_eq "$RC" 2 "exit status for a trailing comma"
	_qb 'POST /containers/create' '{"Image":"alpine","image":"x"}'
	expect_eq "$OUT" \
	    'deny -rules:1: duplicate key image at byte 18 is not allowed' \
	    "$(_what -q -b) for a duplicate key in another case"
	expect_eq "$RC" 1 "exit status for a duplicate key"
	_qb 'POST /containers/create' "$(head -c 2000 /dev/zero | tr '\0' ' '){}" \
	    -limit-body 1024
	expect_eq "$OUT" \
	    "bad request: request body over the limit (1024 bytes, limit body)" \
	    "$(_what -q -b -limit-body 1024) for 2002 bytes"
	expect_eq "$RC" 2 "exit status over the limit"
	# Without a body the create is checked as it is (Docker refuses it).
	run_cmd "$MOATD" -q 'POST /containers/create' -no-builtin-rules \
	    -rules 'POST %API_PREFIX_CONTAINERS%/create'
	expect_eq "$OUT" "allow -rules:1" "$(_what -q) without -b"
	# The query alone.
	run_cmd "$MOATD" -q 'POST /build?networkmode=host' -rules 'POST /build'
	expect_eq "$OUT" "deny -rules:1: query networkmode=host is not allowed" \
	    "$(_what -q) for a build on the host network"
	expect_eq "$RC" 1 "exit status for a build on the host network"
	run_cmd "$MOATD" -q 'POST /containers/create' -b missing.json
	expect_eq "$RC" 3 "exit status for a missing -b file (stderr: $ERR)"
	expect_eq "$OUT" "" "stdout for a missing -b file"
	pass
}

t_cli_q_body_binds() {
	local d b

	tid "-q -b with -allow-bind: under the root passes, .. and symbolic links do not"
	d=$(_realdir d)
	mkdir -p "$d/sub"
	ln -s /etc "$d/link"
	for b in "$d/sub:/x" "$d/not/yet:/x" "//$d/./sub/:/x"; do
		_qb 'POST /containers/create' \
		    "{\"Image\":\"a\",\"HostConfig\":{\"Binds\":[\"$b\"]}}" \
		    -allow-bind "$d"
		expect_eq "$OUT" "allow -rules:1" "$(_what -q -b) with $b"
	done
	_qb 'POST /containers/create' \
	    "{\"Image\":\"a\",\"HostConfig\":{\"Mounts\":[{\"Type\":\"bind\",\"Source\":\"$d/sub\",\"Target\":\"/x\"}]}}" \
	    -allow-bind "$d"
	expect_eq "$OUT" "allow -rules:1" "$(_what -q -b) with a bind Mount"
	for b in "/etc:/x" "$d/link:/x" "$d/link/ssl:/x" "$d/../d:/x" "$d/..:/x"; do
		_qb 'POST /containers/create' \
		    "{\"Image\":\"a\",\"HostConfig\":{\"Binds\":[\"$b\"]}}" \
		    -allow-bind "$d"
		expect_eq "$OUT" \
		    "deny -rules:1: HostConfig.Binds[0]=$b is not allowed" \
		    "$(_what -q -b) with $b"
		expect_eq "$RC" 1 "exit status with $b"
	done
	_qb 'POST /containers/create' \
	    "{\"Image\":\"a\",\"HostConfig\":{\"Mounts\":[{\"Type\":\"bind\",\"Source\":\"$d/link\",\"Target\":\"/x\"}]}}" \
	    -allow-bind "$d"
	expect_eq "$OUT" \
	    "deny -rules:1: HostConfig.Mounts[0].Source=$d/link is not allowed" \
	    "$(_what -q -b) with a bind Mount through a link"
	# :ro: read-only binds only.
	_qb 'POST /containers/create' \
	    "{\"Image\":\"a\",\"HostConfig\":{\"Binds\":[\"$d/sub:/x\"]}}" \
	    -allow-bind "$d:ro"
	expect_eq "$RC" 1 "exit status for a writable bind under a :ro root"
	_qb 'POST /containers/create' \
	    "{\"Image\":\"a\",\"HostConfig\":{\"Binds\":[\"$d/sub:/x:ro\"]}}" \
	    -allow-bind "$d:ro"
	expect_eq "$OUT" "allow -rules:1" "$(_what -q -b) read-only under :ro"
	# -allow-image: the list, with Docker's normalisation.
	_qb 'POST /containers/create' '{"Image":"alpine:3"}' \
	    -allow-image 'docker.io/library/*'
	expect_eq "$OUT" "allow -rules:1" "$(_what -q -b) alpine:3"
	_qb 'POST /containers/create' '{"Image":"evil/x"}' \
	    -allow-image 'docker.io/library/*'
	expect_eq "$OUT" "deny -rules:1: Image=evil/x is not allowed" \
	    "$(_what -q -b) evil/x"
	pass
}

# A configuration with client blocks (issue 13), for -q -as and -n -v.
_clients_conf() {
	cat >cl.conf <<'EOC'
rules "GET %API_PREFIX%/_ping"
builtin rules no
client "traefik" {
	match tls subject "CN=traefik"
	rules "GET %API_PREFIX_CONTAINERS%/json"
}
client "ci" {
	match address 10.1.0.0/16
	rules "POST %API_PREFIX_CONTAINERS%/create"
	builtin rules no
	allow privileged
}
client "nobody" {
	match unix uid 4242
	builtin rules no
}
EOC
	chmod 600 cl.conf
}

t_cli_q_as() {
	tid "-q -as NAME decides with that client block's rules, built-ins and body policy"
	_clients_conf
	# No -as: the top level (no built-ins, only its _ping rule).
	run_cmd "$MOATD" -f cl.conf -q 'GET /containers/json'
	expect_eq "$OUT" "deny (no client block)" "$(_what -q) at the top level"
	expect_eq "$RC" 1 "exit status at the top level"
	run_cmd "$MOATD" -f cl.conf -q 'GET /_ping'
	expect_eq "$OUT" "allow cl.conf:1 (no client block)" "$(_what -q)"
	expect_eq "$RC" 0 "exit status for _ping at the top level"
	run_cmd "$MOATD" -f cl.conf -q 'GET /version'
	expect_eq "$RC" 1 "the top level says builtin rules no"
	# traefik: its rule and, unlike the top level, the built-ins.
	run_cmd "$MOATD" -f cl.conf -q 'GET /v1.47/containers/json' \
	    -as traefik
	expect_eq "$OUT" "allow cl.conf:5 (client traefik)" "$(_what -q -as)"
	expect_eq "$RC" 0 "exit status for traefik"
	run_cmd "$MOATD" -f cl.conf -q 'GET /version' -as traefik
	expect_match "$OUT" '^allow builtin:[0-9]+ \(client traefik\)$' \
	    "$(_what -q -as) for a built-in"
	run_cmd "$MOATD" -f cl.conf -q 'GET /_ping' -as=traefik
	expect_match "$OUT" '^allow builtin:[0-9]+ \(client traefik\)$' \
	    "$(_what -q -as=) for _ping: the built-in, not the top level's"
	run_cmd "$MOATD" -f cl.conf -q 'POST /containers/create' \
	    -as traefik
	expect_eq "$OUT" "deny (client traefik)" "$(_what -q -as)"
	expect_eq "$RC" 1 "exit status for a create as traefik"
	# ci: a create, privileged too (its own body policy), no built-ins.
	printf '{"Image":"alpine","HostConfig":{"Privileged":true}}' >p.json
	run_cmd "$MOATD" -f cl.conf -q 'POST /containers/create' \
	    -b p.json -as ci
	expect_eq "$OUT" "allow cl.conf:9 (client ci)" "$(_what -q -b -as ci)"
	expect_eq "$RC" 0 "exit status for a privileged create as ci"
	run_cmd "$MOATD" -f cl.conf -q 'GET /_ping' -as ci
	expect_eq "$OUT" "deny (client ci)" "$(_what -q -as ci) for _ping"
	# The top level's body policy is not ci's.
	run_cmd "$MOATD" -f cl.conf -rules 'POST /containers/create' \
	    -q 'POST /containers/create' -b p.json
	expect_eq "$OUT" \
	    "deny -rules:1: HostConfig.Privileged=true is not allowed (no client block)" \
	    "$(_what -q -b) at the top level"
	# nobody may do nothing.
	run_cmd "$MOATD" -f cl.conf -q 'GET /_ping' -as nobody
	expect_eq "$OUT" "deny (client nobody)" "$(_what -q -as nobody)"
	# An unknown name: a bad command line, named.
	run_cmd "$MOATD" -f cl.conf -q 'GET /_ping' -as Traefik
	expect_eq "$RC" 2 "exit status for an unknown -as"
	expect_eq "$OUT" "" "stdout for an unknown -as"
	expect_eq "$ERR" "moatd: -as Traefik: no client block of that name" \
	    "stderr for an unknown -as"
	run_cmd "$MOATD" -f cl.conf -as ci
	expect_eq "$RC" 2 "exit status for -as without -q"
	expect_match "$ERR" "-as needs -q" "stderr for -as without -q"
	# Without client blocks the answers are as they were.
	run_cmd "$MOATD" -q 'GET /_ping'
	expect_match "$OUT" '^allow builtin:[0-9]+$' "$(_what -q) without blocks"
	pass
}

t_cli_n_clients() {
	tid "-n -v prints client blocks so that they read back the same; -n warns of a block that allows nothing"
	_clients_conf
	printf 'listen on "tcp://127.0.0.1:1" name "ci-port"\nclient "port" {\n\tmatch listener "ci-port"\n\tmatch tls san "dns:X.example"\n\tlimit body 2M\n}\n' \
	    >>cl.conf
	run_cmd "$MOATD" -n -v -f "$PWD/cl.conf"
	expect_eq "$RC" 0 "$(_what -n -v -f cl.conf) exit status"
	expect_match "$ERR" 'client "nobody": no rules and builtin rules no: this client may do nothing' \
	    "the warning for nobody"
	printf '%s\n' "$OUT" >printed.conf
	chmod 600 printed.conf
	expect_eq "$(printf '%s\n' "$OUT" | sed -n '/^client "ci"/,/^}/p')" \
'client "ci" {
	match address 10.1.0.0/16
	limit body 1048576
	allow privileged
	builtin rules no
	rules "POST %API_PREFIX_CONTAINERS%/create"
}' "block ci printed"
	expect_eq "$(printf '%s\n' "$OUT" | sed -n '/^client "port"/,/^}/p')" \
'client "port" {
	match listener "ci-port"
	match tls san "DNS:X.example"
	limit body 2097152
	# no allow statements: the safe defaults hold
	builtin rules yes
}' "block port printed"
	expect_match "$OUT" 'listen on "tcp://127\.0\.0\.1:1" name "ci-port"' \
	    "the listener's name printed"
	run_cmd "$MOATD" -n -v -f "$PWD/printed.conf"
	expect_eq "$RC" 0 "$(_what -n -v -f printed.conf) exit status"
	expect_eq "$OUT" "$(cat printed.conf)" "printed twice"
	# -n alone warns too.
	run_cmd "$MOATD" -n -f "$PWD/cl.conf"
	expect_eq "$RC" 0 "$(_what -n -f cl.conf) exit status"
	expect_match "$ERR" 'client "nobody": no rules' "-n warns too"
	pass
}
