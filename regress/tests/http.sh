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
#   denied=('GET /path' ...)      the METHOD path of each 403's message
#   piped='bytes'                 what comes back after a 101 (echoed)
#   heads='1,3'                   which responses answer HEAD (no body)
#   backend='bytes'               exactly what fakedocker must receive;
#                                 '@none': no connection, no byte at all
#   backend_prefix=yes            fakedocker must have received a prefix
#                                 of backend (possibly nothing): for a
#                                 request cut off part-way through a body

HTTP_ROOT=$PWD
HTTP_CHROOT=/var/empty/moatd
# Debian's python3 first: a version manager's shim costs 0.1 s a call.
# stdlib only: no site directory (-S) nor environment (-I), 10 ms less.
HTTP_PY=("$(command -v /usr/bin/python3 || command -v python3)" -I -S)
HTTP_PING_FWD='GET /_ping HTTP/1.1\r\nHost: docker\r\n\r\n'

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
	port=$(free_port)
	# In a subshell with the shared directory as its SCRATCH, so that
	# the test's own exit does not stop this moatd; a failure's reason
	# is then in that directory.
	if ! (SCRATCH=$d moatd_start -prefork 2 -u nobody \
	    -chroot "$HTTP_CHROOT" -frontend-addr "tcp://127.0.0.1:$port" \
	    -backend-addr "unix://$d/docker.sock" \
	    -no-builtin-rules -rules-file "$HTTP_ROOT/regress/http/rules" \
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

# Check the summary from rawclient -S against the case's expectations.
_http_check_responses() {
	local resp=$1 got end line code ct body i=0 msg

	got=$(awk '$1 == "R" { print $2 }' "$resp" | paste -sd' ')
	end=$(sed -n 's/^E //p' "$resp")
	[ "$got" = "$status" ] || _http_err "statuses: expected [$status]," \
	    "got [$got]; the client saw:" "$(cat "$resp")"
	if grep -q '^J ' "$resp"; then
		_http_err "bytes that are not a response:" \
		    "$(grep '^J ' "$resp")"
	fi
	if [ "$close" = yes ]; then
		[[ $end =~ ^(eof|reset)$ ]] ||
		    _http_err "connection not closed by the proxy ($end)"
	else
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
		[ "$code" = 403 ] || continue
		if [ "$i" -lt "${#denied[@]}" ]; then
			msg="{\"message\":\"moatd: ${denied[$i]} is not allowed\"}"
			[ "${body%\\x0a}" = "$msg" ] ||
			    _http_err "403 number $((i + 1)): expected body" \
			    "$msg, got $body"
		fi
		i=$((i + 1))
	done <"$resp"
	if [ "${#denied[@]}" -ne "$i" ]; then
		_http_err "expected ${#denied[@]} 403 messages, got $i"
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
	local backend_prefix=no heads=

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
	n=$(wc -w <<<"$status")
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
	return 0
}
