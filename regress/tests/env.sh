# CetusGuard's environment variables and flags, and where each setting
# comes from: the configuration file, then the environment, then the
# command line, a later place winning; a repeatable option (-frontend-addr,
# -rules, -rules-file) given in a later place replaces what an earlier one
# said.  moatd -q and moatd -n -v load the configuration exactly as the
# daemon does; the last test checks the same with a live moatd.
#
# run.sh unsets every CETUSGUARD_* variable and DOCKER_HOST; the tests set
# them for one command at a time with env(1), or export them in their own
# subshell.

ENV_TLS_VARS="CETUSGUARD_BACKEND_TLS_CACERT CETUSGUARD_BACKEND_TLS_CERT
CETUSGUARD_BACKEND_TLS_KEY CETUSGUARD_FRONTEND_TLS_CACERT
CETUSGUARD_FRONTEND_TLS_CERT CETUSGUARD_FRONTEND_TLS_KEY"
ENV_TRUE="1 t T TRUE true True"
ENV_FALSE="0 f F FALSE false False"

# _env_run [VAR=value ...] -- [moatd args]: run_cmd moatd with those
# variables added to the environment; ENV_WHAT says what ran.
_env_run() {
	local vars=()

	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		vars+=("$1")
		shift
	done
	[ $# -gt 0 ] && shift
	ENV_WHAT="${vars[*]} moatd $*"
	run_cmd env "${vars[@]}" "$MOATD" "$@"
	[ -n "$ERR" ] && ENV_WHAT="$ENV_WHAT (stderr: $ERR)"
	return 0
}

# _env_allow 'METHOD TARGET' SOURCE-ERE [VAR=value ...] -- [args]
_env_allow() {
	local req=$1 src=$2

	shift 2
	_env_run "$@" -q "$req"
	expect_match "$OUT" "^allow $src\$" "$ENV_WHAT -q '$req'"
	expect_eq "$RC" 0 "exit status of $ENV_WHAT -q '$req'"
}

# _env_deny 'METHOD TARGET' [VAR=value ...] -- [args]
_env_deny() {
	local req=$1

	shift
	_env_run "$@" -q "$req"
	expect_eq "$OUT" deny "$ENV_WHAT -q '$req'"
	expect_eq "$RC" 1 "exit status of $ENV_WHAT -q '$req'"
}

# _env_refused NAME [VAR=value ...] -- [args]: moatd -n must refuse to
# start (exit 1, nothing on stdout) with a message that names NAME.
_env_refused() {
	local name=$1

	shift
	_env_run "$@" -n
	expect_eq "$RC" 1 "exit status of $ENV_WHAT -n"
	expect_eq "$OUT" "" "stdout of $ENV_WHAT -n"
	[[ $ERR == *"$name"* ]] ||
	    fail "$ENV_WHAT -n: the message does not name $name"
}

# _env_nv KEYWORD [VAR=value ...] -- [args]: the lines of moatd -n -v
# that start with KEYWORD, in ENV_LINES.
_env_nv() {
	local kw=$1

	shift
	_env_run "$@" -n -v
	expect_eq "$RC" 0 "exit status of $ENV_WHAT -n -v"
	ENV_LINES=$(printf '%s\n' "$OUT" | awk -v k="$kw " \
	    'index($0, k) == 1')
}

t_env_backend() {
	tid "backend: CETUSGUARD_BACKEND_ADDR, CONTAINER_HOST, DOCKER_HOST"
	_env_nv backend --
	expect_eq "$ENV_LINES" 'backend "unix:///var/run/docker.sock"' \
	    "$ENV_WHAT: the default"
	_env_nv backend DOCKER_HOST=unix:///lc/d.sock --
	expect_eq "$ENV_LINES" 'backend "unix:///lc/d.sock"' "$ENV_WHAT"
	_env_nv backend CONTAINER_HOST=unix:///lc/c.sock \
	    DOCKER_HOST=unix:///lc/d.sock --
	expect_eq "$ENV_LINES" 'backend "unix:///lc/c.sock"' "$ENV_WHAT"
	_env_nv backend CETUSGUARD_BACKEND_ADDR=tcp://127.0.0.1:1 \
	    CONTAINER_HOST=unix:///lc/c.sock DOCKER_HOST=unix:///lc/d.sock --
	expect_eq "$ENV_LINES" 'backend "tcp://127.0.0.1:1"' "$ENV_WHAT"
	# An empty variable counts as unset: the next one in line is used.
	_env_nv backend CETUSGUARD_BACKEND_ADDR= \
	    CONTAINER_HOST=unix:///lc/c.sock DOCKER_HOST=unix:///lc/d.sock --
	expect_eq "$ENV_LINES" 'backend "unix:///lc/c.sock"' "$ENV_WHAT"
	_env_nv backend CETUSGUARD_BACKEND_ADDR=tcp://127.0.0.1:1 \
	    CONTAINER_HOST=unix:///lc/c.sock DOCKER_HOST=unix:///lc/d.sock \
	    -- -backend-addr unix:///lc/flag.sock
	expect_eq "$ENV_LINES" 'backend "unix:///lc/flag.sock"' "$ENV_WHAT"
	printf 'backend "unix:///lc/file.sock"\n' >b.conf
	_env_nv backend -- -f b.conf
	expect_eq "$ENV_LINES" 'backend "unix:///lc/file.sock"' "$ENV_WHAT"
	_env_nv backend DOCKER_HOST=unix:///lc/d.sock -- -f b.conf
	expect_eq "$ENV_LINES" 'backend "unix:///lc/d.sock"' \
	    "$ENV_WHAT: the environment over the file"
	_env_refused DOCKER_HOST DOCKER_HOST=http://127.0.0.1:2375 --
	_env_refused CETUSGUARD_BACKEND_ADDR \
	    CETUSGUARD_BACKEND_ADDR=tcp://:2375 --
}

t_env_frontend() {
	tid "CETUSGUARD_FRONTEND_ADDR: over the file, replaced by the flags"
	_env_nv listen CETUSGUARD_FRONTEND_ADDR=tcp://127.0.0.1:9 --
	expect_eq "$ENV_LINES" 'listen on "tcp://127.0.0.1:9"' "$ENV_WHAT"
	_env_nv listen CETUSGUARD_FRONTEND_ADDR=unix:///lc/f.sock --
	expect_eq "$ENV_LINES" 'listen on "unix:///lc/f.sock" mode 0660' \
	    "$ENV_WHAT"
	printf '%s\n' 'listen on "tcp://127.0.0.1:7"' \
	    'listen on "tcp://127.0.0.1:8"' >l.conf
	_env_nv listen -- -f l.conf
	expect_eq "$ENV_LINES" 'listen on "tcp://127.0.0.1:7"
listen on "tcp://127.0.0.1:8"' "$ENV_WHAT"
	_env_nv listen CETUSGUARD_FRONTEND_ADDR=tcp://127.0.0.1:9 -- -f l.conf
	expect_eq "$ENV_LINES" 'listen on "tcp://127.0.0.1:9"' \
	    "$ENV_WHAT: the environment replaces the file's listeners"
	_env_nv listen CETUSGUARD_FRONTEND_ADDR=tcp://127.0.0.1:9 -- \
	    -f l.conf --frontend-addr=tcp://127.0.0.1:10 \
	    -frontend-addr tcp://127.0.0.1:11
	expect_eq "$ENV_LINES" 'listen on "tcp://127.0.0.1:10"
listen on "tcp://127.0.0.1:11"' \
	    "$ENV_WHAT: the flags replace the environment's listener"
	_env_refused CETUSGUARD_FRONTEND_ADDR \
	    CETUSGUARD_FRONTEND_ADDR=127.0.0.1:2375 --
}

t_env_rules() {
	tid "CETUSGUARD_RULES, and -rules replacing it"
	_env_allow 'GET /a' '(-rules|CETUSGUARD_RULES):1' \
	    CETUSGUARD_RULES='GET /a' --
	_env_deny 'GET /b' CETUSGUARD_RULES='GET /a' --
	_env_allow 'POST /b' '(-rules|CETUSGUARD_RULES):2' \
	    CETUSGUARD_RULES=$'GET /a\nPOST /b' --
	_env_deny 'GET /a' CETUSGUARD_RULES='GET /a' -- -rules 'GET /b'
	_env_allow 'GET /b' -rules:1 CETUSGUARD_RULES='GET /a' -- \
	    -rules 'GET /b'
	_env_deny 'GET /a' CETUSGUARD_RULES='GET /a' -- --rules='GET /b'
	_env_allow 'GET /b' -rules:1 CETUSGUARD_RULES='GET /a' -- \
	    --rules='GET /b'
	# A different option: -rules-file adds to the variable's rules.
	printf 'GET /f\n' >f.list
	_env_allow 'GET /a' '(-rules|CETUSGUARD_RULES):1' \
	    CETUSGUARD_RULES='GET /a' -- -rules-file f.list
	_env_allow 'GET /f' f.list:1 CETUSGUARD_RULES='GET /a' -- \
	    -rules-file f.list
	_env_refused CETUSGUARD_RULES CETUSGUARD_RULES='GET, /x' --
}

t_env_rules_file() {
	tid "CETUSGUARD_RULES_FILE, and -rules-file replacing it"
	printf 'GET /one\n' >one.list
	printf 'GET /two\n' >two.list
	_env_allow 'GET /one' one.list:1 CETUSGUARD_RULES_FILE=one.list --
	_env_deny 'GET /two' CETUSGUARD_RULES_FILE=one.list --
	_env_deny 'GET /one' CETUSGUARD_RULES_FILE=one.list -- \
	    -rules-file two.list
	_env_allow 'GET /two' two.list:1 CETUSGUARD_RULES_FILE=one.list -- \
	    -rules-file=two.list
	# Both variables at once: files and text are different options.
	_env_allow 'GET /one' one.list:1 CETUSGUARD_RULES_FILE=one.list \
	    CETUSGUARD_RULES='GET /t' --
	_env_allow 'GET /t' '(-rules|CETUSGUARD_RULES):1' \
	    CETUSGUARD_RULES_FILE=one.list CETUSGUARD_RULES='GET /t' --
	_env_refused missing.list CETUSGUARD_RULES_FILE=missing.list --
}

t_env_over_file() {
	tid "the environment replaces the file's rules of its kind only"
	printf 'GET /x\n' >x.list
	printf 'GET /y\n' >y.list
	printf '%s\n' 'rules "GET /c"' 'rules file "x.list"' >r.conf
	_env_allow 'GET /c' r.conf:1 -- -f r.conf
	_env_allow 'GET /x' "$SCRATCH/x.list:1" -- -f r.conf
	# CETUSGUARD_RULES stands for the file's rules "...".
	_env_deny 'GET /c' CETUSGUARD_RULES='GET /e' -- -f r.conf
	_env_allow 'GET /e' '(-rules|CETUSGUARD_RULES):1' \
	    CETUSGUARD_RULES='GET /e' -- -f r.conf
	_env_allow 'GET /x' "$SCRATCH/x.list:1" CETUSGUARD_RULES='GET /e' -- \
	    -f r.conf
	# CETUSGUARD_RULES_FILE stands for its rules file "...".
	_env_deny 'GET /x' CETUSGUARD_RULES_FILE=y.list -- -f r.conf
	_env_allow 'GET /y' y.list:1 CETUSGUARD_RULES_FILE=y.list -- -f r.conf
	_env_allow 'GET /c' r.conf:1 CETUSGUARD_RULES_FILE=y.list -- -f r.conf
	# And the command line over both.
	_env_deny 'GET /e' CETUSGUARD_RULES='GET /e' -- -f r.conf \
	    -rules 'GET /g'
	_env_deny 'GET /c' CETUSGUARD_RULES='GET /e' -- -f r.conf \
	    -rules 'GET /g'
	_env_allow 'GET /g' -rules:1 CETUSGUARD_RULES='GET /e' -- -f r.conf \
	    -rules 'GET /g'
}

t_env_booleans() {
	local var v ping

	tid "CETUSGUARD_NO_BUILTIN_RULES, _NO_DEFAULT_RULES: Go's booleans"
	ping='builtin:[0-9]+'
	for var in CETUSGUARD_NO_BUILTIN_RULES CETUSGUARD_NO_DEFAULT_RULES; do
		for v in $ENV_TRUE; do
			_env_deny 'GET /_ping' "$var=$v" --
		done
		for v in $ENV_FALSE; do
			_env_allow 'GET /_ping' "$ping" "$var=$v" --
		done
		# Empty counts as unset.
		_env_allow 'GET /_ping' "$ping" "$var=" --
		for v in yes no 2 TRue; do
			_env_refused "$var" "$var=$v" --
		done
	done
	# The flag over the variable, the variable over the file.
	_env_allow 'GET /_ping' "$ping" CETUSGUARD_NO_BUILTIN_RULES=true -- \
	    -no-builtin-rules=false
	_env_deny 'GET /_ping' CETUSGUARD_NO_BUILTIN_RULES=false -- \
	    --no-builtin-rules
	_env_deny 'GET /_ping' CETUSGUARD_NO_DEFAULT_RULES=F -- \
	    -no-default-rules=T
	printf 'builtin rules no\n' >no.conf
	printf 'builtin rules yes\n' >yes.conf
	_env_deny 'GET /_ping' -- -f no.conf
	_env_allow 'GET /_ping' "$ping" CETUSGUARD_NO_DEFAULT_RULES=false -- \
	    -f no.conf
	_env_deny 'GET /_ping' CETUSGUARD_NO_BUILTIN_RULES=1 -- -f yes.conf
	_env_refused -no-builtin-rules -- -no-builtin-rules=yes
}

t_env_log_level() {
	local v

	tid "CETUSGUARD_LOG_LEVEL: over the file, under the flag; numbers"
	_env_nv 'log level' --
	expect_eq "$ENV_LINES" 'log level info' "$ENV_WHAT: the default"
	_env_nv 'log level' CETUSGUARD_LOG_LEVEL=3 --
	expect_eq "$ENV_LINES" 'log level err' "$ENV_WHAT"
	printf 'log level debug\n' >d.conf
	_env_nv 'log level' CETUSGUARD_LOG_LEVEL=3 -- -f d.conf
	expect_eq "$ENV_LINES" 'log level err' "$ENV_WHAT"
	_env_nv 'log level' CETUSGUARD_LOG_LEVEL=3 -- -f d.conf -log-level 5
	expect_eq "$ENV_LINES" 'log level notice' "$ENV_WHAT"
	_env_nv 'log level' CETUSGUARD_LOG_LEVEL=3 -- --log-level=0
	expect_eq "$ENV_LINES" 'log level emerg' "$ENV_WHAT"
	for v in x 8 -1 info 3x; do
		_env_refused CETUSGUARD_LOG_LEVEL CETUSGUARD_LOG_LEVEL=$v --
	done
	_env_refused -log-level -- -log-level debug
}

# TLS is another module's: moatd refuses the variables for now, and with
# TLS it refuses one alone (no key, or a unix backend).  Either way a
# variable must not be silently ignored, and the refusal must say what
# it is about: the variable, its file, or TLS.
_env_tls_refused() {
	local name=$1

	shift
	_env_run "$@" -n -v
	[ "$RC" -ne 0 ] || fail "$ENV_WHAT -n -v: accepted $name alone"
	expect_eq "$OUT" "" "stdout of $ENV_WHAT -n -v"
	[[ $ERR == *"$name"* || $ERR == *"$ENV_PEM"* || $ERR == *TLS* ]] ||
	    fail "$ENV_WHAT -n -v: names neither $name, its file, nor TLS"
}

t_env_tls() {
	local var flag

	tid "the six TLS variables and flags are read, not ignored"
	ENV_PEM=/nonexistent/moatd-lc-tls.pem
	for var in $ENV_TLS_VARS; do
		_env_tls_refused "$var" "$var=$ENV_PEM" --
		flag=-$(printf '%s\n' "${var#CETUSGUARD_}" | tr 'A-Z_' 'a-z-')
		_env_tls_refused "$flag" -- "$flag" "$ENV_PEM"
	done
}

t_env_dashes() {
	tid "one or two dashes, -flag value or -flag=value, for every flag"
	_env_nv backend -- -backend-addr unix:///lc/1.sock
	expect_eq "$ENV_LINES" 'backend "unix:///lc/1.sock"' "$ENV_WHAT"
	_env_nv backend -- --backend-addr unix:///lc/2.sock
	expect_eq "$ENV_LINES" 'backend "unix:///lc/2.sock"' "$ENV_WHAT"
	_env_nv backend -- -backend-addr=unix:///lc/3.sock
	expect_eq "$ENV_LINES" 'backend "unix:///lc/3.sock"' "$ENV_WHAT"
	_env_nv backend -- --backend-addr=unix:///lc/4.sock
	expect_eq "$ENV_LINES" 'backend "unix:///lc/4.sock"' "$ENV_WHAT"
	_env_nv listen -- --frontend-addr tcp://127.0.0.1:5 \
	    -frontend-addr=tcp://127.0.0.1:6
	expect_eq "$ENV_LINES" 'listen on "tcp://127.0.0.1:5"
listen on "tcp://127.0.0.1:6"' "$ENV_WHAT"
	_env_nv 'log level' -- --log-level 7
	expect_eq "$ENV_LINES" 'log level debug' "$ENV_WHAT"
	_env_nv 'log level' -- -log-level=4
	expect_eq "$ENV_LINES" 'log level warning' "$ENV_WHAT"
	_env_nv 'builtin rules' -- --no-builtin-rules
	expect_eq "$ENV_LINES" 'builtin rules no' "$ENV_WHAT"
	_env_nv 'builtin rules' -- -no-default-rules=true
	expect_eq "$ENV_LINES" 'builtin rules no' "$ENV_WHAT"
	_env_nv 'builtin rules' -- --no-builtin-rules=0
	expect_eq "$ENV_LINES" 'builtin rules yes' "$ENV_WHAT"
	_env_run -- -version
	expect_eq "$RC" 0 "exit status of $ENV_WHAT"
	expect_match "$OUT" '^moatd [0-9]+\.[0-9]+' "$ENV_WHAT"
	_env_run -- --version
	expect_match "$OUT" '^moatd [0-9]+\.[0-9]+' "$ENV_WHAT"
	_env_run -- ---rules 'GET /a' -n
	expect_eq "$RC" 2 "exit status of $ENV_WHAT (three dashes)"
}

t_env_live() {
	local port url i

	tid "a live moatd configured from the environment alone"
	port=$(free_port)
	url=http://127.0.0.1:$port
	# The first backend variable set wins; the others lead nowhere.
	export CETUSGUARD_FRONTEND_ADDR=tcp://127.0.0.1:$port
	export CETUSGUARD_BACKEND_ADDR=unix://$RIG_SOCK
	export CONTAINER_HOST=unix://$SCRATCH/no-container-host.sock
	export DOCKER_HOST=unix://$SCRATCH/no-docker-host.sock
	export CETUSGUARD_RULES='GET %API_PREFIX_CONTAINERS%/json'
	export CETUSGUARD_NO_BUILTIN_RULES=T
	export CETUSGUARD_LOG_LEVEL=4
	moatd_start
	expect_status 200 "$url/v1.41/containers/json"
	expect_match "$(head -c 1 "$BODY")" '^\[$' "containers/json body"
	expect_status 403 "$url/_ping"
	expect_status 403 "$url/images/json"
	# At level 4 (warning) denials are logged, allowed requests are not.
	for ((i = 0; i < 60; i++)); do
		grep -q 'path=/images/json verdict=deny' "$MOATD_LOG" && break
		sleep 0.05
	done
	grep -q 'path=/images/json verdict=deny' "$MOATD_LOG" ||
	    fail "the denial is not logged at level 4:" \
	    "$(_moatd_logtail "$MOATD_LOG")"
	grep -q 'verdict=allow' "$MOATD_LOG" &&
	    fail "an allowed request is logged at level 4:" \
	    "$(_moatd_logtail "$MOATD_LOG")"
	pass
}
