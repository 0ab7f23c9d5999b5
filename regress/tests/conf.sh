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
	# watchtower, netdata
	expect_eq "$files" 7 "rules files in etc/rules"
}
