# The request log as JSON lines ("log format json") and the log file
# ("log file", reopened on SIGUSR1), against fakedocker: every line of
# standard error and of the file is checked against the schema moatd(8)
# writes down (AUDIT LOG), with requests allowed, denied and refused as
# malformed, and paths whose bytes need escaping.

AU_ROOT=$PWD
AU_PY=("$(command -v /usr/bin/python3 || command -v python3)" -I -S)

_au_start() {
	AU_PORT=$(free_port)
	fakedocker_start "$AU_ROOT"
	{
		echo 'log format json'
		echo "log file \"$SCRATCH/audit.log\""
		echo "backend \"unix://$SCRATCH/fd.sock\""
		echo "listen on \"tcp://127.0.0.1:$AU_PORT\""
		echo 'rules "GET,POST ^/allowed(/.*)?$"'
		echo 'rules "POST ^/containers/create$"'
		echo 'builtin rules no'
	} >"$SCRATCH/au.conf"
	MOATD_ADDRS="tcp://127.0.0.1:$AU_PORT" moatd_start -f "$SCRATCH/au.conf"
}

# Every line of each file given: a JSON object of the documented schema;
# prints "N requests" (lines with a verdict) per file.
_au_check() {
	"${AU_PY[@]}" - "$@" <<-'PY'
	import json, re, sys
	TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
	LEVELS = {"emerg", "alert", "crit", "err", "warning", "notice",
	    "info", "debug"}
	STR, INT, NUM, NULLSTR = "s", "i", "n", "s?"
	REQ = {"time": STR, "level": STR, "proc": STR, "client": NULLSTR,
	    "peer": STR, "identity": "o", "method": NULLSTR,
	    "path": NULLSTR, "verdict": STR, "rule": NULLSTR,
	    "reason": NULLSTR, "status": INT, "bytes_in": INT,
	    "bytes_out": INT, "duration_ms": NUM}
	MSG = {"time": STR, "level": STR, "proc": STR, "msg": STR}
	def ok(v, t):
	    if t == STR: return isinstance(v, str)
	    if t == NULLSTR: return v is None or isinstance(v, str)
	    if t == INT: return isinstance(v, int) and not isinstance(v, bool)
	    if t == NUM: return isinstance(v, (int, float)) and \
	        not isinstance(v, bool)
	    if t == "o": return isinstance(v, dict) and all(
	        k in ("cert_subject", "cert_san", "cert_sha256") and
	        isinstance(x, str) for k, x in v.items())
	for name in sys.argv[1:]:
	    n = 0
	    for i, line in enumerate(open(name, "rb").read().split(b"\n")[:-1]):
	        where = "%s:%d: " % (name, i + 1)
	        o = json.loads(line.decode("utf-8"))
	        schema = REQ if "verdict" in o else MSG
	        if set(o) != set(schema):
	            sys.exit(where + "keys %s, not %s" % (sorted(o),
	                sorted(schema)))
	        for k, t in schema.items():
	            if not ok(o[k], t):
	                sys.exit(where + "%s: %r is not %s" % (k, o[k], t))
	        if not TIME.match(o["time"]) or o["level"] not in LEVELS:
	            sys.exit(where + "time or level: %r %r" % (o["time"],
	                o["level"]))
	        if "verdict" in o:
	            if o["verdict"] not in ("allow", "deny", "bad", "error"):
	                sys.exit(where + "verdict %r" % o["verdict"])
	            n += 1
	    print("%d requests" % n)
	PY
}

t_audit_json() {
	tid "log format json and log file: every line a JSON object of the documented schema, odd bytes escaped"
	local out st

	_au_start
	expect_status 200 "http://127.0.0.1:$AU_PORT/allowed"
	expect_status 403 "http://127.0.0.1:$AU_PORT/denied"
	expect_status 403 "http://127.0.0.1:$AU_PORT/q%22uote%20d"
	expect_status 400 "http://127.0.0.1:$AU_PORT/enc%2Fslash"
	# Raw bytes: a control byte and a byte that is no UTF-8 in the
	# target (400), and a POST with a body.
	"${AU_PY[@]}" "$AU_ROOT/regress/rawclient.py" -S -n 1 \
	    "127.0.0.1:$AU_PORT" 'GET /a\x01b\xff HTTP/1.1\r\nHost: x\r\n\r\n' \
	    >"$SCRATCH/raw1" || true
	"${AU_PY[@]}" "$AU_ROOT/regress/rawclient.py" -S -n 1 \
	    "127.0.0.1:$AU_PORT" 'POST /allowed/x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello' \
	    >"$SCRATCH/raw2" || true
	expect_match "$(cat "$SCRATCH/raw2")" "^R 200 " "the POST"
	# Refused by the body policy: the reason quotes what the client
	# sent, a quote, a backslash, a control byte and UTF-8 included.
	printf '%s' '{"HostConfig":{"Binds":["/e\"t\\c\u0001\u00e9:/x"]}}' \
	    >"$SCRATCH/create.json"
	expect_status 403 -X POST -H 'Content-Type: application/json' \
	    --data-binary @"$SCRATCH/create.json" \
	    "http://127.0.0.1:$AU_PORT/containers/create"
	sleep 0.3
	out=$(_au_check "$SCRATCH/audit.log" 2>&1) ||
	    fail "the log file: $out"$'\n'"$(cat "$SCRATCH/audit.log")"
	expect_eq "$out" "7 requests" "request lines in the log file"
	out=$(_au_check "$MOATD_LOG" 2>&1) ||
	    fail "standard error: $out"$'\n'"$(cat "$MOATD_LOG")"
	expect_eq "$out" "7 requests" "request lines on standard error"
	# The values, not only their types.
	"${AU_PY[@]}" - "$SCRATCH/audit.log" <<-'PY' || fail "values: $(cat "$SCRATCH/audit.log")"
	import json, sys
	rows = [json.loads(l) for l in open(sys.argv[1])]
	got = [(r["method"], r["path"], r["verdict"], r["status"]) for r in rows]
	want = [("GET", "/allowed", "allow", 200),
	    ("GET", "/denied", "deny", 403),
	    ("GET", "/q%22uote%20d", "deny", 403)]
	assert got[:3] == want, got
	assert rows[3]["verdict"] == "bad" and rows[3]["status"] == 400, rows[3]
	assert rows[5]["method"] == "POST" and rows[5]["bytes_in"] == 5, rows[5]
	assert rows[0]["rule"].endswith("au.conf:5"), rows[0]["rule"]
	assert rows[1]["rule"] is None and rows[1]["client"] is None
	r = rows[6]
	assert r["path"] == "/containers/create" and r["status"] == 403, r
	# the body policy shows odd bytes as \xHH; JSON escapes " and \
	assert r["reason"] == 'HostConfig.Binds[0]=/e"t\\c\\x01\\xc3\\xa9:/x', \
	    r["reason"]
	PY
	pass
}

t_audit_reopen() {
	tid "log file: SIGUSR1 after the file was moved away writes the next lines to a new file"
	local n

	_au_start
	expect_status 200 "http://127.0.0.1:$AU_PORT/allowed"
	mv "$SCRATCH/audit.log" "$SCRATCH/audit.log.1" ||
	    fail "cannot move the log file"
	kill -USR1 "$MOATD_PID"
	for ((n = 0; n < 40; n++)); do
		[ -e "$SCRATCH/audit.log" ] && break
		sleep 0.05
	done
	[ -e "$SCRATCH/audit.log" ] || fail "no new log file after SIGUSR1"
	expect_status 403 "http://127.0.0.1:$AU_PORT/denied"
	sleep 0.3
	expect_eq "$(wc -l <"$SCRATCH/audit.log.1")" 1 "lines in the moved file"
	expect_eq "$(wc -l <"$SCRATCH/audit.log")" 1 "lines in the new file"
	expect_match "$(cat "$SCRATCH/audit.log")" '"path":"/denied"' \
	    "the new file's line"
	moatd_alive || fail "moatd died of SIGUSR1"
	pass
}

t_audit_config_errors() {
	tid "log format and log file: bad values stop moatd at start, saying why"

	printf 'log format xml\n' >"$SCRATCH/bad1.conf"
	run_cmd "$MOATD" -n -f "$SCRATCH/bad1.conf"
	expect_eq "$RC" 1 "log format xml"
	expect_match "$ERR" 'expected "json" or "text"' "its error"
	printf 'log file "rel.log"\n' >"$SCRATCH/bad2.conf"
	run_cmd "$MOATD" -n -f "$SCRATCH/bad2.conf"
	expect_eq "$RC" 1 "a relative log file"
	expect_match "$ERR" "not an absolute path" "its error"
	printf 'log file "%s/no/such/dir/a.log"\nlisten on "tcp://127.0.0.1:%s"\n' \
	    "$SCRATCH" "$(free_port)" >"$SCRATCH/bad3.conf"
	run_cmd timeout 10 "$MOATD" -d -f "$SCRATCH/bad3.conf"
	expect_eq "$RC" 1 "a log file that cannot be opened"
	expect_match "$ERR" "log file .*/no/such/dir/a.log" "its error"
	pass
}
