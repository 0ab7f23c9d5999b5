# HTTP framing and normalisation: request smuggling, obfuscated framing,
# target canonicalisation, pipelining and upgrades, end to end.  Sourced by
# regress/run.sh (helpers from regress/lib.sh).
#
# Each case is a file regress/http/NAME.case, run by t_http_NAME.  One
# fakedocker (regress/fakedocker.c, recording every byte it receives) and
# one moatd in front of it (rules: regress/http/rules) serve every case
# of this file; they start with the first case that runs and stop in
# t_http_zz_teardown (or in cleanup_http, which run.sh calls at its end,
# when a pattern left the teardown out).
# Per case: send the bytes with regress/rawclient.py, then check
#   - the status codes of the responses, in order, and that the proxy's
#     own error responses are application/json {"message":"moatd: ..."};
#   - for each 403, its message names the canonical METHOD and path;
#   - that the connection was closed (close=yes) or kept (the default);
#   - the exact bytes fakedocker received meanwhile (over any number of
#     connections, in arrival order), or that it saw no connection;
# and then that a fresh connection still gets GET /_ping through (with
# exactly that request reaching fakedocker) and that every moatd process
# is alive.
#
# A case file is bash, sourced.  Byte strings use printf %b escapes (\r
# \n \t \xHH), so CRLFs are explicit; never use \c.
#   # first line: what the case checks (shown by the runner)
#   send=('bytes' ['bytes' ...])  pieces, each one write, 0.1 s apart
#   shut=yes                      half-close after the last piece
#   status='200 403'              the status codes the client must get
#   close=yes                     the proxy must close the connection
#   close=any                     it may close it, keep it, or still be
#                                 waiting when the client gives up
#   denied=('GET /path' ...)      the METHOD path of each 403's message
#   piped='bytes'                 what comes back after a 101 (echoed)
#   heads='1,3'                   which responses answer HEAD (no body)
#   backend='bytes'               exactly what fakedocker must receive;
#                                 '@none': no connection, no byte at all
#   backend_prefix=yes            fakedocker must have received a prefix
#                                 of backend (possibly nothing): for a
#                                 request cut off part-way through a body
#   msgs=('ERE' ...)              the messages of the other error answers
#                                 (>= 400, not 403), in order, after
#                                 "moatd: ", must match these EREs
# status may list alternatives, 'A|B': either sequence of answers is
# right (a connection that may close after a 400, or go on).  A denied
# entry is the whole text between "moatd: " and " is not allowed";
# one ending "=*" (e.g. 'POST /v1.41/containers/create: HostConfig.Binds[0]=*')
# names the field and leaves its value open (any, not empty); one
# starting with "~" is an ERE for that text.
#
# Admission control (issue 12): the body_*.case files.  regress/http/rules
# lets the Docker endpoints that carry a body policy through, so the safe
# defaults apply; the shared moatd allows binds under $HTTP_BIND/rw and,
# read-only, under $HTTP_BIND/ro (HTTP_BIND is a directory of its own
# under /tmp that nobody, the policy worker's user, can walk; $HTTP_BIND/rw
# holds a symbolic link "link" to /).  Helpers for the case files:
#   body_head METHOD TARGET LEN [FIELD ...]   a request head with
#                                 Content-Type: application/json and
#                                 Content-Length: LEN (FIELDs, "Name: v",
#                                 go before them), for send=, as %b text
#   body_req METHOD TARGET BODY [FIELD ...]   that head and BODY (raw
#                                 bytes: escaped here for %b)
#   body_fwd METHOD TARGET BODY [FIELD ...]   the same as Docker must get
#                                 it (Host: docker), for backend=
#   body_chunked METHOD TARGET BODY N [FIELD ...]   BODY sent chunked, in
#                                 chunks of N bytes
#   body_esc BYTES                BYTES as %b text

HTTP_ROOT=$PWD
HTTP_CHROOT=/var/empty/moatd
# Debian's python3 first: a version manager's shim costs 0.1 s a call.
# stdlib only: no site directory (-S) nor environment (-I), 10 ms less.
HTTP_PY=("$(command -v /usr/bin/python3 || command -v python3)" -I -S)
HTTP_PING_FWD='GET /_ping HTTP/1.1\r\nHost: docker\r\n\r\n'
# The bind roots of the shared moatd (see above), one per run.
HTTP_BIND=/tmp/moatd-http-bind.${RUN_DIR##*.}

body_esc() {
	local s=${1//\\/\\\\}

	s=${s//$'\r'/\\r}
	s=${s//$'\n'/\\n}
	printf '%s' "$s"
}

body_head() {
	local m=$1 t=$2 n=$3 f h=

	shift 3
	for f in "$@"; do
		h+="$(body_esc "$f")\\r\\n"
	done
	printf '%s %s HTTP/1.1\\r\\nHost: x\\r\\n%s' "$m" "$t" "$h"
	printf 'Content-Type: application/json\\r\\n'
	printf 'Content-Length: %d\\r\\n\\r\\n' "$n"
}

_body_len() {
	printf '%s' "$1" | wc -c
}

body_req() {
	local m=$1 t=$2 b=$3

	shift 3
	body_head "$m" "$t" "$(_body_len "$b")" "$@"
	body_esc "$b"
}

body_fwd() {
	body_req "$@" | sed '1s/\\r\\nHost: x\\r\\n/\\r\\nHost: docker\\r\\n/'
}

body_chunked() {
	local m=$1 t=$2 b=$3 n=$4 f h= i len LC_ALL=C

	shift 4
	for f in "$@"; do
		h+="$(body_esc "$f")\\r\\n"
	done
	printf '%s %s HTTP/1.1\\r\\nHost: x\\r\\n%s' "$m" "$t" "$h"
	printf 'Content-Type: application/json\\r\\n'
	printf 'Transfer-Encoding: chunked\\r\\n\\r\\n'
	len=${#b}
	for ((i = 0; i < len; i += n)); do
		printf '%x\\r\\n%s\\r\\n' "$(_body_len "${b:i:n}")" \
		    "$(body_esc "${b:i:n}")"
	done
	printf '0\\r\\n\\r\\n'
}

# Shared state, kept in files so that every test subshell sees it.
_http_dir() {
	printf '%s\n' "$RUN_DIR/http-shared"
}

_http_show() {
	"${HTTP_PY[@]}" -c 'import sys
b = open(sys.argv[1], "rb").read()
r = repr(b)
print(r if len(r) < 1500 else r[:1500] + "... (%d bytes)" % len(b))' "$1"
}

_http_rawclient() {
	"${HTTP_PY[@]}" "$HTTP_ROOT/regress/rawclient.py" "$@"
}

# moatd_alive, read from /proc alone (ps per child costs 20 ms each, and
# this runs twice per case): moatd and every child it had when it became
# ready must be alive, not zombies, and still its children.  Prints why
# not; fakedocker must be alive too.
_http_alive() {
	local d=$1 pid=$HTTP_MOATD c why=

	_http_pstat "$pid" || why=" moatd $pid has died;"
	for c in $(cat "$d/.children.$pid" 2>/dev/null); do
		if ! _http_pstat "$c"; then
			why="$why child $c has died;"
		elif [ "$HTTP_PPID" != "$pid" ]; then
			why="$why child $c has a new parent;"
		fi
	done
	kill -0 "$HTTP_FAKE" 2>/dev/null || why="$why fakedocker has died;"
	[ -z "$why" ] && return 0
	echo "$why"
	return 1
}

# 0 if process $1 is alive and not a zombie; sets HTTP_PPID.
_http_pstat() {
	local st

	read -r st 2>/dev/null </proc/"$1"/stat || return 1
	st=${st##*) }
	HTTP_PPID=${st#* }
	HTTP_PPID=${HTTP_PPID%% *}
	st=${st%% *}
	[ "$st" != Z ] && [ "$st" != X ]
}

# The shared moatd (and its fakedocker) alive and well, or stopped.
# A death since the last case's check is reported by this case: the
# instance is restarted, but the case fails.
_http_healthy() {
	local d=$1 why

	[ -s "$d/state" ] || return 1
	. "$d/state"
	why=$(_http_alive "$d") && return 0
	[ -e "$d/reported" ] ||
	    _http_err "before the case (since the previous one):$why" \
	    "$(tail -n 20 "$HTTP_LOG")"
	return 1
}

# Stop whatever a previous start left, by pid.  Not moatd_stop: this
# also runs after a failed start, when moatd may have no children.
_http_down() {
	local d=$1 pids i

	pids=$(cat "$d/fakedocker.pid" 2>/dev/null
	    awk '{ print $1 }' "$d/.moatd" 2>/dev/null)
	[ -n "$pids" ] && kill -TERM $pids 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		kill -0 $pids 2>/dev/null || break
		sleep 0.05
	done
	[ -n "$pids" ] && kill -KILL $pids 2>/dev/null
	rm -f "$d/fakedocker.pid" "$d/.moatd" "$d/state" "$d/reported"
}

# Start fakedocker and moatd once; later cases reuse them.  After a
# death (the case that saw it fails) the next case starts afresh.  If
# moatd could not start at all, every later case fails at once instead
# of waiting for it again.
_http_up() {
	local d i port

	d=$(_http_dir)
	if _http_healthy "$d"; then
		return 0
	fi
	[ -e "$d/starting" ] &&
	    fail "the shared moatd failed to start in an earlier case"
	mkdir -p "$d" || fail "mkdir $d"
	_http_down "$d"
	touch "$d/starting"
	[ -x "$HTTP_ROOT/regress/fakedocker" ] ||
	    fail "regress/fakedocker is missing: make regress/fakedocker"
	# The contract's tests run as nobody with the default chroot, which
	# must exist, be root-owned and not be writable by others.
	[ -d "$HTTP_CHROOT" ] || install -d -m 0755 "$HTTP_CHROOT" ||
	    fail "cannot create $HTTP_CHROOT"
	rm -rf "$d/rec" "$d/docker.sock"
	"$HTTP_ROOT/regress/fakedocker" "$d/docker.sock" "$d/rec" \
	    </dev/null >"$d/fakedocker.log" 2>&1 &
	HTTP_FAKE=$!
	echo "$HTTP_FAKE" >"$d/fakedocker.pid"
	for ((i = 0; i < 100; i++)); do
		[ -S "$d/docker.sock" ] && break
		kill -0 "$HTTP_FAKE" 2>/dev/null ||
		    fail "fakedocker exited: $(cat "$d/fakedocker.log")"
		sleep 0.05
	done
	[ -S "$d/docker.sock" ] || fail "fakedocker did not start"
	# The bind roots: walkable by nobody (RUN_DIR is not), the link in
	# the allowed one pointing at /.
	rm -rf "$HTTP_BIND"
	mkdir -m 0755 "$HTTP_BIND" "$HTTP_BIND/rw" "$HTTP_BIND/ro" ||
	    fail "cannot create $HTTP_BIND"
	ln -s / "$HTTP_BIND/rw/link" || fail "cannot create $HTTP_BIND/rw/link"
	port=$(free_port)
	# In a subshell with the shared directory as its SCRATCH, so that
	# the test's own exit does not stop this moatd; a failure's reason
	# is then in that directory.
	if ! (SCRATCH=$d moatd_start -prefork 2 -u nobody \
	    -chroot "$HTTP_CHROOT" -frontend-addr "tcp://127.0.0.1:$port" \
	    -backend-addr "unix://$d/docker.sock" \
	    -no-builtin-rules -rules-file "$HTTP_ROOT/regress/http/rules" \
	    -allow-bind "$HTTP_BIND/rw" -allow-bind "$HTTP_BIND/ro:ro" \
	    -log-level 7); then
		fail "cannot start moatd: $(cat "$d/.failed" 2>/dev/null)"
	fi
	read -r MOATD_PID MOATD_LOG <"$d/.moatd"
	printf 'HTTP_FAKE=%s\nHTTP_MOATD=%s\nHTTP_LOG=%s\nHTTP_PORT=%s\n' \
	    "$HTTP_FAKE" "$MOATD_PID" "$MOATD_LOG" "$port" >"$d/state"
	rm -f "$d/starting"
	. "$d/state"
}

_http_received_bytes() {
	stat -c %s "$HTTP_REC/all.raw"
}

_http_opens() {
	grep -c '^open ' "$HTTP_REC/events"
}

# What fakedocker received since offset $1, into file $2.
_http_since() {
	tail -c +"$(($1 + 1))" "$HTTP_REC/all.raw" >"$2"
}

# Wait (up to 0.5 s: the proxy writes to Docker before the client hears
# back, but fakedocker may log a close-time flush a little later) until
# fakedocker received exactly the bytes in file $2 since offset $1.
_http_expect_received() {
	local off=$1 want=$2 what=$3 got=$SCRATCH/got.$RANDOM i

	for ((i = 0; i < 25; i++)); do
		_http_since "$off" "$got"
		cmp -s "$got" "$want" && return 0
		# Chunked bodies are framed anew by the forwarder: the same
		# data in other chunks is what Docker decodes all the same.
		if grep -qai 'transfer-encoding' "$want"; then
			"${HTTP_PY[@]}" "$HTTP_ROOT/regress/rechunk.py" "$got" \
			    >"$got.re"
			"${HTTP_PY[@]}" "$HTTP_ROOT/regress/rechunk.py" "$want" \
			    >"$want.re"
			cmp -s "$got.re" "$want.re" && return 0
		fi
		sleep 0.02
	done
	_http_err "$what: fakedocker received" "$(_http_show "$got")" \
	    "instead of" "$(_http_show "$want")"
}

# Every mismatch of a case is reported, not only the first: the report
# of a failing case then says all that moatd did differently.
HTTP_ERRS=
_http_err() {
	HTTP_ERRS="$HTTP_ERRS${HTTP_ERRS:+
}- $*"
}

# A fresh connection must still get a plain allowed request through,
# and exactly that request must reach Docker.
_http_ping() {
	local off line want=$SCRATCH/ping.want

	off=$(_http_received_bytes)
	if ! exec 3<>"/dev/tcp/127.0.0.1/$HTTP_PORT"; then
		_http_err "after the case, moatd does not accept connections"
		return
	fi
	printf 'GET /_ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >&3
	IFS= read -r -t 3 line <&3
	exec 3<&-
	[ "${line%$'\r'}" = "HTTP/1.1 200 OK" ] ||
	    _http_err "after the case, GET /_ping on a fresh connection" \
	    "got [${line%$'\r'}], not [HTTP/1.1 200 OK]"
	printf '%b' "$HTTP_PING_FWD" >"$want"
	_http_expect_received "$off" "$want" \
	    "after the case, GET /_ping (or late bytes of the case)"
}

# 403 number $3's body $2 against the denied entry $1 (see the top).
_http_denied() {
	local want=$1 body=${2%\\x0a} n=$3 pre='{"message":"moatd: '
	local post=' is not allowed"}' text

	if [[ $body != "$pre"*"$post" ]]; then
		_http_err "403 number $n: expected ${pre}$want$post, got $body"
		return
	fi
	text=${body#"$pre"}
	text=${text%"$post"}
	case $want in
	\~*)
		[[ $text =~ ${want#\~} ]] && return
		;;
	*=\*)
		want=${want%\*}
		[[ $text == "$want"?* ]] && return
		want="$want<value>"
		;;
	*)
		[ "$text" = "$want" ] && return
		;;
	esac
	_http_err "403 number $n: expected ${pre}$want$post, got $body"
}

# Error answer number $4 (status $2, not 403, body $3) against the ERE
# $1 of msgs (none: any moatd message).
_http_msg() {
	local ere=$1 text=${3%\\x0a}

	[ -n "$ere" ] || return 0
	text=${text#'{"message":"moatd: '}
	text=${text%'"}'}
	[[ $text =~ $ere ]] ||
	    _http_err "$2 answer (error number $4): message [$text] does" \
	    "not match /$ere/"
}

# Check the summary from rawclient -S against the case's expectations.
_http_check_responses() {
	local resp=$1 got end line code ct body i=0 j=0 msg

	got=$(awk '$1 == "R" { print $2 }' "$resp" | paste -sd' ')
	end=$(sed -n 's/^E //p' "$resp")
	[[ "|$status|" == *"|$got|"* ]] || _http_err "statuses: expected" \
	    "[$status], got [$got]; the client saw:" "$(cat "$resp")"
	if grep -q '^J ' "$resp"; then
		_http_err "bytes that are not a response:" \
		    "$(grep '^J ' "$resp")"
	fi
	if [ "$close" = yes ]; then
		[[ $end =~ ^(eof|reset)$ ]] ||
		    _http_err "connection not closed by the proxy ($end)"
	elif [ "$close" != any ]; then
		[ "$end" = open ] || _http_err "connection not kept ($end)"
	fi
	while read -r line; do
		[ "${line%% *}" = R ] || continue
		code=${line#R }
		code=${code%% *}
		ct=${line#* ct=}
		ct=${ct%% body=*}
		body=${line#* body=}
		[ "$code" -ge 400 ] || continue
		[ "$ct" = application/json ] ||
		    _http_err "$code with Content-Type $ct: $line"
		[[ $body == '{"message":"moatd: '* ]] ||
		    _http_err "$code body is not moatd's JSON message: $line"
		if [ "$code" != 403 ]; then
			_http_msg "${msgs[$j]-}" "$code" "$body" "$((j + 1))"
			j=$((j + 1))
			continue
		fi
		if [ "$i" -lt "${#denied[@]}" ]; then
			_http_denied "${denied[$i]}" "$body" "$((i + 1))"
		fi
		i=$((i + 1))
	done <"$resp"
	if [ "${#denied[@]}" -ne "$i" ]; then
		_http_err "expected ${#denied[@]} 403 messages, got $i"
	fi
	if [ "${#msgs[@]}" -gt "$j" ]; then
		_http_err "expected ${#msgs[@]} other error messages, got $j"
	fi
	if [ -n "$piped" ]; then
		got=$(sed -n 's/^P //p' "$resp")
		msg=$(printf '%b' "$piped" | "${HTTP_PY[@]}" -c 'import sys
b = sys.stdin.buffer.read()
print("".join(chr(c) if 0x20 <= c < 0x7f and c != 0x5c else
    "\\\\" if c == 0x5c else "\\x%02x" % c for c in b))')
		[ "$got" = "$msg" ] ||
		    _http_err "after the 101: expected [$msg], got [$got]"
	fi
}

# Check what fakedocker received since offset $1 and connection count $2.
_http_check_backend() {
	local off=$1 opens=$2 want=$SCRATCH/want got=$SCRATCH/got

	if [ "$backend" = @none ]; then
		: >"$want"
		_http_expect_received "$off" "$want" "denied or bad request"
		[ "$(_http_opens)" = "$opens" ] ||
		    _http_err "moatd opened $(($(_http_opens) - opens))" \
		    "connection(s) to Docker; there must be none"
	elif [ "$backend_prefix" = yes ]; then
		printf '%b' "$backend" >"$want"
		sleep 0.1
		_http_since "$off" "$got"
		head -c "$(stat -c %s "$got")" "$want" >"$want.prefix"
		cmp -s "$got" "$want.prefix" ||
		    _http_err "fakedocker received" "$(_http_show "$got")" \
		    "which is not a prefix of" "$(_http_show "$want")"
	else
		printf '%b' "$backend" >"$want"
		_http_expect_received "$off" "$want" "forwarded bytes"
	fi
}

http_case() {
	local name=$1 f i off opens n why args=() opts=()
	local send=() shut=no status= close=no denied=() piped= backend=
	local backend_prefix=no heads= msgs=() alt

	f=$HTTP_ROOT/regress/http/$name.case
	[ -f "$f" ] || fail "no case file $f"
	. "$f" || fail "cannot source $f"
	tid "$(sed -n '1s/^# *//p' "$f")"
	[ "${#send[@]}" -gt 0 ] || fail "$f sends nothing"
	_http_up
	HTTP_REC=$(_http_dir)/rec

	for i in "${!send[@]}"; do
		printf '%b' "${send[$i]}" >"$SCRATCH/send.$i"
		args+=("@$SCRATCH/send.$i")
	done
	# The most answers any alternative of status expects.
	n=0
	IFS='|' read -ra alt <<<"$status"
	for i in "${alt[@]}"; do
		i=$(wc -w <<<"$i")
		[ "$i" -gt "$n" ] && n=$i
	done
	opts=(-S -t 3)
	[ "$close" = yes ] || opts+=(-n "$n" -g 0.05)
	[ "$shut" = yes ] && opts+=(-s)
	[ -n "$heads" ] && opts+=(-h "$heads")

	off=$(_http_received_bytes)
	opens=$(_http_opens)
	_http_rawclient "${opts[@]}" "127.0.0.1:$HTTP_PORT" "${args[@]}" \
	    >"$SCRATCH/resp" 2>"$SCRATCH/rawclient.err" ||
	    fail "rawclient: $(cat "$SCRATCH/rawclient.err")"
	_http_check_responses "$SCRATCH/resp"
	_http_check_backend "$off" "$opens"
	_http_ping
	if ! why=$(_http_alive "$(_http_dir)"); then
		_http_err "after the case:$why" "$(tail -n 20 "$HTTP_LOG")"
		touch "$(_http_dir)/reported"
	fi
	[ -z "$HTTP_ERRS" ] || fail "$HTTP_ERRS"
}

t_http_cases_complete() {
	local f name fns

	tid "every regress/http case has its t_http_ function, and back"
	fns=$(sed -n 's/^t_http_\([a-z0-9_]*\)() { http_case \1; }$/\1/p' \
	    "$HTTP_ROOT/regress/tests/http.sh" | sort)
	for f in "$HTTP_ROOT"/regress/http/*.case; do
		name=${f##*/}
		name=${name%.case}
		grep -qx "$name" <<<"$fns" ||
		    fail "regress/http/$name.case has no t_http_$name"
	done
	for name in $fns; do
		[ -f "$HTTP_ROOT/regress/http/$name.case" ] ||
		    fail "t_http_$name has no regress/http/$name.case"
	done
}

# The cases, one function each (run.sh finds tests by their text).
# Baseline and re-serialisation
t_http_allowed_get() { http_case allowed_get; }
t_http_denied_get() { http_case denied_get; }
t_http_hop_by_hop() { http_case hop_by_hop; }
t_http_query_kept() { http_case query_kept; }
t_http_empty_query() { http_case empty_query; }
t_http_head_request() { http_case head_request; }
t_http_http10_close() { http_case http10_close; }
t_http_http10_keepalive() { http_case http10_keepalive; }
t_http_connection_close() { http_case connection_close; }
t_http_backend_close() { http_case backend_close; }
t_http_stream() { http_case stream; }
t_http_fields_allowlist() { http_case fields_allowlist; }
t_http_expect_continue() { http_case expect_continue; }
t_http_expect_unknown() { http_case expect_unknown; }
t_http_split_head() { http_case split_head; }
t_http_split_head_crlf() { http_case split_head_crlf; }
t_http_stream_then_denied() { http_case stream_then_denied; }
# Framing: Content-Length
t_http_cl_body_then_denied() { http_case cl_body_then_denied; }
t_http_split_body() { http_case split_body; }
t_http_cl_large_body() { http_case cl_large_body; }
t_http_get_with_body() { http_case get_with_body; }
t_http_cl_duplicate_same() { http_case cl_duplicate_same; }
t_http_cl_duplicate_diff() { http_case cl_duplicate_diff; }
t_http_cl_list() { http_case cl_list; }
t_http_cl_plus() { http_case cl_plus; }
t_http_cl_minus() { http_case cl_minus; }
t_http_cl_leading_zero() { http_case cl_leading_zero; }
t_http_cl_hex() { http_case cl_hex; }
t_http_cl_overflow() { http_case cl_overflow; }
t_http_cl_inner_space() { http_case cl_inner_space; }
# Framing: CL and TE together, TE obfuscations
t_http_cl_te() { http_case cl_te; }
t_http_te_cl() { http_case te_cl; }
t_http_te_xchunked() { http_case te_xchunked; }
t_http_te_leading_space() { http_case te_leading_space; }
t_http_te_tab() { http_case te_tab; }
t_http_te_uppercase() { http_case te_uppercase; }
t_http_te_chunked_identity() { http_case te_chunked_identity; }
t_http_te_identity_chunked() { http_case te_identity_chunked; }
t_http_te_folded() { http_case te_folded; }
t_http_te_space_before_colon() { http_case te_space_before_colon; }
t_http_te_duplicate() { http_case te_duplicate; }
t_http_te_duplicate_obfuscated() { http_case te_duplicate_obfuscated; }
t_http_te_vertical_tab() { http_case te_vertical_tab; }
t_http_te_http10() { http_case te_http10; }
# Framing: chunked bodies
t_http_chunked_then_get() { http_case chunked_then_get; }
t_http_chunked_then_denied() { http_case chunked_then_denied; }
t_http_chunked_extension() { http_case chunked_extension; }
t_http_chunked_request_inside() { http_case chunked_request_inside; }
t_http_chunked_split() { http_case chunked_split; }
t_http_chunked_large() { http_case chunked_large; }
t_http_chunked_hex_forms() { http_case chunked_hex_forms; }
t_http_chunk_size_0x() { http_case chunk_size_0x; }
t_http_chunk_size_negative() { http_case chunk_size_negative; }
t_http_chunk_size_17_digits() { http_case chunk_size_17_digits; }
t_http_chunk_size_space() { http_case chunk_size_space; }
t_http_chunk_bare_lf() { http_case chunk_bare_lf; }
t_http_chunk_no_crlf_after_data() { http_case chunk_no_crlf_after_data; }
t_http_chunk_trailer() { http_case chunk_trailer; }
t_http_chunk_bad_after_valid() { http_case chunk_bad_after_valid; }
# Pipelining and keep-alive
t_http_pipeline_allow_deny() { http_case pipeline_allow_deny; }
t_http_pipeline_deny_allow() { http_case pipeline_deny_allow; }
t_http_pipeline_keepalive_many() { http_case pipeline_keepalive_many; }
t_http_denied_then_allowed_later() { http_case denied_then_allowed_later; }
t_http_denied_body_closes() { http_case denied_body_closes; }
t_http_denied_chunked_closes() { http_case denied_chunked_closes; }
t_http_bad_then_allowed() { http_case bad_then_allowed; }
# The head: line endings, bytes, fields
t_http_bare_lf() { http_case bare_lf; }
t_http_bare_lf_mixed() { http_case bare_lf_mixed; }
t_http_bare_cr() { http_case bare_cr; }
t_http_nul_in_field() { http_case nul_in_field; }
t_http_nul_in_target() { http_case nul_in_target; }
t_http_obs_fold() { http_case obs_fold; }
t_http_field_no_colon() { http_case field_no_colon; }
t_http_field_name_space() { http_case field_name_space; }
t_http_missing_host() { http_case missing_host; }
t_http_duplicate_host() { http_case duplicate_host; }
t_http_too_many_fields() { http_case too_many_fields; }
t_http_oversized_head() { http_case oversized_head; }
t_http_oversized_line() { http_case oversized_line; }
t_http_oversized_line_huge() { http_case oversized_line_huge; }
# The request line: methods, forms, versions
t_http_double_space() { http_case double_space; }
t_http_method_lowercase() { http_case method_lowercase; }
t_http_method_trace() { http_case method_trace; }
t_http_method_rule_named() { http_case method_rule_named; }
t_http_method_unnamed() { http_case method_unnamed; }
t_http_absolute_form() { http_case absolute_form; }
t_http_asterisk_form() { http_case asterisk_form; }
t_http_http2_preface() { http_case http2_preface; }
t_http_http12() { http_case http12; }
t_http_http20() { http_case http20; }
t_http_http09() { http_case http09; }
t_http_http09_eof() { http_case http09_eof; }
t_http_version_lowercase() { http_case version_lowercase; }
# The target: canonicalisation
t_http_dotdot_root() { http_case dotdot_root; }
t_http_dotdot_root_raw() { http_case dotdot_root_raw; }
t_http_dotdot_to_denied() { http_case dotdot_to_denied; }
t_http_dotdot_to_allowed() { http_case dotdot_to_allowed; }
t_http_dot_segments() { http_case dot_segments; }
t_http_trailing_slash() { http_case trailing_slash; }
t_http_pct2f() { http_case pct2f; }
t_http_pct2f_lower() { http_case pct2f_lower; }
t_http_pct00() { http_case pct00; }
t_http_pct25() { http_case pct25; }
t_http_pct_bad() { http_case pct_bad; }
t_http_pct_unreserved() { http_case pct_unreserved; }
t_http_pct_reserved_decoded() { http_case pct_reserved_decoded; }
t_http_pct_space() { http_case pct_space; }
t_http_pct_space_denied() { http_case pct_space_denied; }
t_http_pct_question_mark() { http_case pct_question_mark; }
t_http_pct_ipv6() { http_case pct_ipv6; }
t_http_ipv6_raw_brackets() { http_case ipv6_raw_brackets; }
t_http_pct_non_ascii() { http_case pct_non_ascii; }
t_http_non_ascii() { http_case non_ascii; }
t_http_backslash() { http_case backslash; }
t_http_fragment() { http_case fragment; }
t_http_query_nul() { http_case query_nul; }
# Upgrades
t_http_upgrade_allowed() { http_case upgrade_allowed; }
t_http_upgrade_early_data() { http_case upgrade_early_data; }
t_http_upgrade_after_keepalive() { http_case upgrade_after_keepalive; }
t_http_upgrade_denied() { http_case upgrade_denied; }
t_http_upgrade_not_upgraded() { http_case upgrade_not_upgraded; }
t_http_upgrade_not_upgraded_junk() { http_case upgrade_not_upgraded_junk; }
t_http_upgrade_without_connection() { http_case upgrade_without_connection; }
t_http_upgrade_connection_only() { http_case upgrade_connection_only; }
t_http_upgrade_http10() { http_case upgrade_http10; }

# Admission control (issue 12): the attack matrix, each refused (403
# naming the field, 400, 413) with nothing reaching Docker
t_http_body_privileged() { http_case body_privileged; }
t_http_body_privileged_v124() { http_case body_privileged_v124; }
t_http_body_privileged_v151() { http_case body_privileged_v151; }
t_http_body_privileged_unversioned() { http_case body_privileged_unversioned; }
t_http_body_privileged_target_forms() { http_case body_privileged_target_forms; }
t_http_body_privileged_legacy() { http_case body_privileged_legacy; }
t_http_body_privileged_legacy_v141() { http_case body_privileged_legacy_v141; }
t_http_body_fold_lower() { http_case body_fold_lower; }
t_http_body_fold_upper() { http_case body_fold_upper; }
t_http_body_fold_hostconfig() { http_case body_fold_hostconfig; }
t_http_body_escaped_key() { http_case body_escaped_key; }
t_http_body_escaped_parent() { http_case body_escaped_parent; }
t_http_body_exec_privileged() { http_case body_exec_privileged; }
t_http_body_exec_privileged_fold() { http_case body_exec_privileged_fold; }
t_http_body_dup_false_true() { http_case body_dup_false_true; }
t_http_body_dup_true_false() { http_case body_dup_true_false; }
t_http_body_dup_fold() { http_case body_dup_fold; }
t_http_body_dup_fold_reverse() { http_case body_dup_fold_reverse; }
t_http_body_dup_escaped() { http_case body_dup_escaped; }
t_http_body_dup_hostconfig() { http_case body_dup_hostconfig; }
t_http_body_dup_hostconfig_fold() { http_case body_dup_hostconfig_fold; }
t_http_body_dup_long_s() { http_case body_dup_long_s; }
t_http_body_dup_kelvin() { http_case body_dup_kelvin; }
t_http_body_dup_in_mount() { http_case body_dup_in_mount; }
t_http_body_dup_exec() { http_case body_dup_exec; }
t_http_body_long_s_sysctls() { http_case body_long_s_sysctls; }
t_http_body_kelvin_networkmode() { http_case body_kelvin_networkmode; }
t_http_body_long_s_binds() { http_case body_long_s_binds; }
t_http_body_binds_root() { http_case body_binds_root; }
t_http_body_binds_double_slash() { http_case body_binds_double_slash; }
t_http_body_binds_dot() { http_case body_binds_dot; }
t_http_body_binds_trailing_slash() { http_case body_binds_trailing_slash; }
t_http_body_binds_dotdot() { http_case body_binds_dotdot; }
t_http_body_binds_docker_sock() { http_case body_binds_docker_sock; }
t_http_body_binds_unversioned() { http_case body_binds_unversioned; }
t_http_body_binds_legacy() { http_case body_binds_legacy; }
t_http_body_binds_escape_root() { http_case body_binds_escape_root; }
t_http_body_binds_escape_root_dot() { http_case body_binds_escape_root_dot; }
t_http_body_binds_symlink() { http_case body_binds_symlink; }
t_http_body_binds_symlink_below() { http_case body_binds_symlink_below; }
t_http_body_binds_symlink_slashes() { http_case body_binds_symlink_slashes; }
t_http_body_binds_sibling() { http_case body_binds_sibling; }
t_http_body_binds_ro_root_rw() { http_case body_binds_ro_root_rw; }
t_http_body_binds_ro_root_rw_flag() { http_case body_binds_ro_root_rw_flag; }
t_http_body_mounts_bind() { http_case body_mounts_bind; }
t_http_body_mounts_bind_second() { http_case body_mounts_bind_second; }
t_http_body_mounts_bind_folded() { http_case body_mounts_bind_folded; }
t_http_body_mounts_bind_symlink() { http_case body_mounts_bind_symlink; }
t_http_body_mounts_bind_ro_root_rw() { http_case body_mounts_bind_ro_root_rw; }
t_http_body_mounts_volume_bind_opts() { http_case body_mounts_volume_bind_opts; }
t_http_body_mounts_volume_driver() { http_case body_mounts_volume_driver; }
t_http_body_volume_driver_hc() { http_case body_volume_driver_hc; }
t_http_body_capadd() { http_case body_capadd; }
t_http_body_capadd_prefixed() { http_case body_capadd_prefixed; }
t_http_body_capadd_lower() { http_case body_capadd_lower; }
t_http_body_capadd_all() { http_case body_capadd_all; }
t_http_body_capadd_second() { http_case body_capadd_second; }
t_http_body_capadd_legacy() { http_case body_capadd_legacy; }
t_http_body_devices() { http_case body_devices; }
t_http_body_device_requests() { http_case body_device_requests; }
t_http_body_device_cgroup_rules() { http_case body_device_cgroup_rules; }
t_http_body_update_devices() { http_case body_update_devices; }
t_http_body_update_device_cgroup_rules() { http_case body_update_device_cgroup_rules; }
t_http_body_network_host() { http_case body_network_host; }
t_http_body_pid_host() { http_case body_pid_host; }
t_http_body_ipc_host() { http_case body_ipc_host; }
t_http_body_uts_host() { http_case body_uts_host; }
t_http_body_userns_host() { http_case body_userns_host; }
t_http_body_cgroupns_host() { http_case body_cgroupns_host; }
t_http_body_pid_container() { http_case body_pid_container; }
t_http_body_network_container() { http_case body_network_container; }
t_http_body_ipc_container() { http_case body_ipc_container; }
t_http_body_network_host_legacy() { http_case body_network_host_legacy; }
t_http_body_volumes_from() { http_case body_volumes_from; }
t_http_body_cgroup() { http_case body_cgroup; }
t_http_body_endpoints_host() { http_case body_endpoints_host; }
t_http_body_volumes_legacy_host() { http_case body_volumes_legacy_host; }
t_http_body_seccomp_unconfined() { http_case body_seccomp_unconfined; }
t_http_body_seccomp_colon() { http_case body_seccomp_colon; }
t_http_body_apparmor_unconfined() { http_case body_apparmor_unconfined; }
t_http_body_label_disable() { http_case body_label_disable; }
t_http_body_no_new_privileges_false() { http_case body_no_new_privileges_false; }
t_http_body_seccomp_second() { http_case body_seccomp_second; }
t_http_body_sysctls() { http_case body_sysctls; }
t_http_body_runtime() { http_case body_runtime; }
t_http_body_masked_paths_empty() { http_case body_masked_paths_empty; }
t_http_body_readonly_paths_empty() { http_case body_readonly_paths_empty; }
t_http_body_service_bind() { http_case body_service_bind; }
t_http_body_service_update_bind() { http_case body_service_update_bind; }
t_http_body_service_volume_bind_opts() { http_case body_service_volume_bind_opts; }
t_http_body_service_capadd() { http_case body_service_capadd; }
t_http_body_service_seccomp() { http_case body_service_seccomp; }
t_http_body_service_selinux() { http_case body_service_selinux; }
t_http_body_service_sysctls() { http_case body_service_sysctls; }
t_http_body_service_network_host() { http_case body_service_network_host; }
t_http_body_volume_bind() { http_case body_volume_bind; }
t_http_body_volume_rbind() { http_case body_volume_rbind; }
t_http_body_volume_device() { http_case body_volume_device; }
t_http_body_volume_driver() { http_case body_volume_driver; }
t_http_body_plugin_privileges() { http_case body_plugin_privileges; }
t_http_body_plugin_upgrade_privileges() { http_case body_plugin_upgrade_privileges; }
t_http_body_build_network_host() { http_case body_build_network_host; }
t_http_body_build_remote() { http_case body_build_remote; }
t_http_body_images_fromsrc_url() { http_case body_images_fromsrc_url; }
t_http_body_chunked_privileged() { http_case body_chunked_privileged; }
t_http_body_chunked_privileged_writes() { http_case body_chunked_privileged_writes; }
t_http_body_split_privileged() { http_case body_split_privileged; }
t_http_body_expect_privileged() { http_case body_expect_privileged; }
t_http_body_deny_then_allowed() { http_case body_deny_then_allowed; }
t_http_body_over_limit_cl() { http_case body_over_limit_cl; }
t_http_body_over_limit_chunked() { http_case body_over_limit_chunked; }
t_http_body_trailing_garbage() { http_case body_trailing_garbage; }
t_http_body_second_value() { http_case body_second_value; }
t_http_body_second_value_ws() { http_case body_second_value_ws; }
t_http_body_comment() { http_case body_comment; }
t_http_body_trailing_comma() { http_case body_trailing_comma; }
t_http_body_nan() { http_case body_nan; }
t_http_body_invalid_utf8_key() { http_case body_invalid_utf8_key; }
t_http_body_lone_surrogate() { http_case body_lone_surrogate; }
t_http_body_truncated() { http_case body_truncated; }
t_http_body_cl_short() { http_case body_cl_short; }
t_http_body_cl_short_cut() { http_case body_cl_short_cut; }
t_http_body_cl_long() { http_case body_cl_long; }
t_http_body_build_network_host_pct_key() { http_case body_build_network_host_pct_key; }
t_http_body_build_network_host_pct_value() { http_case body_build_network_host_pct_value; }
t_http_body_build_network_host_first() { http_case body_build_network_host_first; }
t_http_body_build_form_body() { http_case body_build_form_body; }
t_http_body_images_create_multipart() { http_case body_images_create_multipart; }
t_http_body_halfclose_cut() { http_case body_halfclose_cut; }
t_http_body_build_remote_noscheme() { http_case body_build_remote_noscheme; }
t_http_body_images_fromsrc_noscheme() { http_case body_images_fromsrc_noscheme; }
t_http_body_images_fromsrc_pct() { http_case body_images_fromsrc_pct; }
t_http_body_privileged_pct_path() { http_case body_privileged_pct_path; }
t_http_body_privileged_hostconfig_null() { http_case body_privileged_hostconfig_null; }
t_http_body_update_devices_fold() { http_case body_update_devices_fold; }
t_http_body_service_plugin_privileges() { http_case body_service_plugin_privileges; }
# Admission control: what passes reaches Docker byte for byte
t_http_body_pass_cli() { http_case body_pass_cli; }
t_http_body_pass_cli_chunked() { http_case body_pass_cli_chunked; }
t_http_body_pass_cli_split() { http_case body_pass_cli_split; }
t_http_body_pass_expect() { http_case body_pass_expect; }
t_http_body_pass_then_ping() { http_case body_pass_then_ping; }
t_http_body_pass_binds_allowed() { http_case body_pass_binds_allowed; }
t_http_body_pass_defaults() { http_case body_pass_defaults; }
t_http_body_pass_volume_exec() { http_case body_pass_volume_exec; }
t_http_body_pass_service() { http_case body_pass_service; }
t_http_body_pass_build() { http_case body_pass_build; }
t_http_body_pass_image_pull() { http_case body_pass_image_pull; }
t_http_body_pass_at_limit() { http_case body_pass_at_limit; }

t_http_zz_teardown() {
	local d why log

	tid "the shared moatd and fakedocker stop cleanly"
	d=$(_http_dir)
	if [ ! -s "$d/state" ]; then
		# Never started, or failed to (those cases failed already).
		[ -d "$d" ] && _http_down "$d"
		pass
	fi
	. "$d/state"
	why=$(_http_alive "$d") || why="$why"
	if ! SCRATCH=$d moatd_stop "$HTTP_MOATD"; then
		why="$why moatd did not stop cleanly;"
	fi
	kill -TERM "$HTTP_FAKE" 2>/dev/null
	rm -f "$d/state" "$d/fakedocker.pid"
	rm -rf "$HTTP_BIND"
	log=$(grep -Ei 'fatal|sanitizer|segmentation|lost child' "$HTTP_LOG")
	[ -n "$log" ] && why="$why moatd's log says: $log"
	[ -z "$why" ] || fail "$why" "$(tail -n 20 "$HTTP_LOG")"
}

# run.sh calls this once at its end: a pattern may have skipped the
# teardown above.
cleanup_http() {
	local d

	d=$(_http_dir)
	[ -d "$d" ] && _http_down "$d"
	rm -rf "$HTTP_BIND"
	return 0
}
