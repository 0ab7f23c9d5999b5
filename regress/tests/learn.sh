# Rules learned from a log (moatd -learn-from, policy/learn.c): a session
# of the real docker CLI through moatd is logged; the rules learned from
# that log, and nothing else, then let the same session through again
# and refuse a write it never made.  Every container runs with
# --network none.

LN_TOP=$PWD
LN_T=20

_ln_start() {
	LN_PORT=$(free_port)
	export DOCKER_HOST=tcp://127.0.0.1:$LN_PORT
	moatd_start -frontend-addr "$DOCKER_HOST" \
	    -backend-addr "unix://$RIG_SOCK" "$@"
}

# The session: list, run a container to its end, list volumes.
_ln_session() {
	local name=$1

	run_cmd timeout "$LN_T" docker ps -a
	expect_eq "$RC" 0 "docker ps: $ERR"
	run_cmd timeout "$LN_T" docker run --rm --network none --name "$name" \
	    "$RIG_IMAGE" echo learned
	expect_eq "$RC:$OUT" "0:learned" "docker run: $ERR"
	run_cmd timeout "$LN_T" docker volume ls -q
	LN_VOLUMES_RC=$RC LN_VOLUMES_ERR=$ERR
}

t_learn_from_cli() {
	tid "moatd -learn-from: a docker CLI session's log gives rules that allow that session and refuse a write it did not make"
	local rules=$SCRATCH/learned.list log st

	on_exit rig_docker rm -f ln_a ln_b
	# Recorded under full.list, which denies the volume list: learned
	# all the same (a denied request is one the client made).
	_ln_start -rules-file "$LN_TOP/regress/rules/full.list"
	_ln_session ln_a
	[ "$LN_VOLUMES_RC" -ne 0 ] ||
	    fail "docker volume ls was allowed by full.list"
	log=$MOATD_LOG
	moatd_stop
	run_cmd "$MOATD" -learn-from "$log"
	expect_eq "$RC" 0 "moatd -learn-from: $ERR"
	printf '%s\n' "$OUT" >"$rules"
	expect_match "$OUT" $'\nPOST %API_PREFIX_CONTAINERS%/%CONTAINER_ID_OR_NAME%/start\n' \
	    "a start rule with the variable, not the id"
	expect_match "$OUT" $'\nGET %API_PREFIX_VOLUMES%(\n|$)' \
	    "the denied volume list learned"
	[[ $OUT != *ln_a* ]] || fail "a learned rule names ln_a:"$'\n'"$OUT"
	run_cmd "$MOATD" -n -no-builtin-rules -rules-file "$rules"
	expect_eq "$RC" 0 "moatd -n on the learned rules: $ERR"

	# The learned rules alone: the session again, a new name included.
	_ln_start -no-builtin-rules -rules-file "$rules"
	_ln_session ln_b
	expect_eq "$LN_VOLUMES_RC" 0 "docker volume ls: $LN_VOLUMES_ERR"
	run_cmd timeout "$LN_T" docker network create ln_net
	[ "$RC" -ne 0 ] || fail "docker network create was allowed"
	expect_match "$ERR" "moatd: POST /v1\.[0-9]+/networks/create is not allowed" \
	    "docker network create stderr"
	st=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE \
	    "http://127.0.0.1:$LN_PORT/v1.41/containers/ln_a")
	expect_eq "$st" 403 "DELETE of a container"
	pass
}

t_learn_from_errors() {
	tid "moatd -learn-from: a missing file, and a file that is no moatd log, fail saying so"

	run_cmd "$MOATD" -learn-from "$SCRATCH/none.log"
	expect_eq "$RC" 1 "exit status, missing file"
	expect_match "$ERR" "none\.log: No such file or directory" "stderr"
	printf 'hello\nclient=x method=GET path=/a verdict=bad\n' >"$SCRATCH/x.log"
	run_cmd "$MOATD" -learn-from "$SCRATCH/x.log"
	expect_eq "$RC" 1 "exit status, no request lines"
	expect_match "$ERR" "no request that a rule could allow" "stderr"
	expect_eq "$OUT" "" "stdout"
	pass
}

t_learn_live() {
	tid "moatd -learn FILE: the rules the requests needed, in the file within a second and at the end, the same as -learn-from makes"
	local file=$SCRATCH/live.list log i st

	on_exit rig_docker rm -f ln_c
	_ln_start -learn "$file" -rules-file "$LN_TOP/regress/rules/full.list"
	expect_match "$(cat "$file")" "^! Learned by moatd: no request yet" \
	    "the file at start"
	_ln_session ln_c
	for ((i = 0; i < 60; i++)); do
		grep -q '^GET %API_PREFIX_VOLUMES%$' "$file" && break
		sleep 0.05
	done
	grep -q '^GET %API_PREFIX_VOLUMES%$' "$file" ||
	    fail "the denied volume list not in the file in 3 s:"$'\n'"$(cat "$file")"
	run_cmd "$MOATD" -n -no-builtin-rules -rules-file "$file"
	expect_eq "$RC" 0 "moatd -n on the live file: $ERR"
	# Denied, and at once the end: the last word is written on exit.
	st=$(curl -s -o /dev/null -w '%{http_code}' \
	    "http://127.0.0.1:$LN_PORT/v1.41/networks/ln_none")
	expect_eq "$st" 403 "GET /networks/ln_none"
	log=$MOATD_LOG
	moatd_stop
	grep -q '^GET %API_PREFIX_NETWORKS%/%NETWORK_ID_OR_NAME%$' "$file" ||
	    fail "the last request not in the file after the stop:"$'\n'"$(
	    cat "$file")"
	run_cmd "$MOATD" -learn-from "$log"
	expect_eq "$RC" 0 "moatd -learn-from: $ERR"
	expect_eq "$(grep -v '^!' "$file" | sort)" \
	    "$(grep -v '^!' <<<"$OUT" | sort)" "the rules, live and from the log"
	pass
}
