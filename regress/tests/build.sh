# First contact with the build: plain make on a machine without the build
# packages stops with one line naming make deps (not at the first missing
# header), and make check and make run install what they need (make deps)
# before they build anything.  Uses make -n only: nothing is built,
# installed or changed.  No engine needed.

BUILD_TOP=$PWD

# A pkg-config search directory holding every .pc file the system has but
# those named: packages that look uninstalled, without uninstalling them.
_pc_without() {
	local dir=$SCRATCH/pkgconfig d f skip n

	mkdir -p "$dir"
	IFS=: read -ra d <<<"$(pkg-config --variable pc_path pkg-config)"
	for f in $(find "${d[@]}" -maxdepth 1 -name '*.pc' 2>/dev/null); do
		skip=0
		for n in "$@"; do
			[ "${f##*/}" = "$n.pc" ] && skip=1
		done
		[ "$skip" = 1 ] || [ -e "$dir/${f##*/}" ] ||
		    ln -s "$f" "$dir/${f##*/}"
	done
	printf '%s\n' "$dir"
}

_make() {
	run_cmd make -C "$BUILD_TOP" --no-print-directory -n "$@"
}

t_make_missing_package() {
	local pc

	tid "make without libpcre2-8: one line naming it and make deps"
	pc=$(_pc_without libpcre2-8)
	[ -e "$pc/libpcre2-8.pc" ] && fail "libpcre2-8.pc still in $pc"
	[ -e "$pc/libbsd-overlay.pc" ] || fail "no libbsd-overlay.pc in $pc"
	PKG_CONFIG_LIBDIR=$pc _make
	expect_eq "$RC" 2 "exit status of make (stderr: $ERR)"
	expect_eq "$OUT" "" "what make would have run"
	expect_eq "$(printf '%s\n' "$ERR" | wc -l)" 1 "lines on stderr [$ERR]"
	expect_match "$ERR" '\*\*\* missing libpcre2-8: run "make deps"' \
	    "make's error"
	# The same for a goal named on the command line.
	PKG_CONFIG_LIBDIR=$pc _make moatd regress/unit/unittest
	expect_eq "$RC" 2 "exit status of make moatd (stderr: $ERR)"
	expect_match "$ERR" 'missing libpcre2-8: run "make deps"' "make moatd"
	pass
}

t_make_missing_all() {
	tid "make without pkg-config or bison names them all and make deps"
	_make PKG_CONFIG=/nonexistent/pkg-config YACC=/nonexistent/bison
	expect_eq "$RC" 2 "exit status of make (stderr: $ERR)"
	expect_eq "$OUT" "" "what make would have run"
	expect_eq "$(printf '%s\n' "$ERR" | wc -l)" 1 "lines on stderr [$ERR]"
	expect_match "$ERR" "missing libbsd-overlay libssl libcrypto libpcre2-8 libevent_core libseccomp /nonexistent/bison: run \"make deps\"" \
	    "make's error"
	pass
}

t_make_packages_present() {
	tid "make with the packages present goes on to compile"
	_make -B moatd
	expect_eq "$RC" 0 "exit status of make -n -B moatd (stderr: $ERR)"
	expect_match "$OUT" '-o moatd ' "the link of moatd in make -n"
	expect_eq "$ERR" "" "make's stderr"
	pass
}

t_make_deps_first() {
	local pc g first

	tid "make check and make run install packages (make deps) first"
	pc=$(_pc_without libpcre2-8)
	# Without the packages too: the check must not stop them.
	for g in check run bench deps; do
		PKG_CONFIG_LIBDIR=$pc _make "$g"
		first=$(printf '%s\n' "$OUT" | head -n 1)
		expect_eq "$first" "sh regress/deps.sh" \
		    "first thing make $g does (stderr: $ERR)"
	done
	PKG_CONFIG_LIBDIR=$pc _make clean check-man
	expect_eq "$RC" 0 "exit status of make -n clean check-man (stderr: $ERR)"
	pass
}
