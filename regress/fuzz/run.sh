#!/bin/sh
#
# Build every regress/fuzz/fuzz_*.c as a libFuzzer target and run each
# for a while.  A target names the pure sources it needs on a line
# "FUZZ_SOURCES: a.c b.c" in its comment; dict/<name>.dict is used when
# present.  Corpora, crash artifacts and binaries go to regress/fuzz/out/.
#
#   sh regress/fuzz/run.sh [seconds per target, default 20] [target ...]
#
# Needs clang with the libFuzzer runtime (Debian: clang).

set -u

secs=${1:-20}
[ $# -gt 0 ] && shift
cd "$(dirname "$0")/../.." || exit 1

CC=${FUZZ_CC:-clang}
pkgs="libbsd-overlay libssl libcrypto libpcre2-8 libevent_core libseccomp"
# fuzz_parse links the generated parser.
make -s build/gen/parse.c || exit 1
CFLAGS="-g -O1 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-unused-parameter \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    -Idaemon -Iprivsep -Ipolicy -DMOATD_VERSION=\"0\" \
    -DMOATD_CHROOT=\"/var/empty/moatd\" -DMOATD_USER=\"_moatd\" \
    -DMOATD_CONF=\"/etc/moatd.conf\" \
    $(pkg-config --cflags $pkgs)"
LIBS="$(pkg-config --libs $pkgs)"
out=regress/fuzz/out
mkdir -p "$out/bin"

if [ $# -gt 0 ]; then
	targets=$(for t in "$@"; do echo "regress/fuzz/$t.c"; done)
else
	targets=$(ls regress/fuzz/fuzz_*.c)
fi

pass=0
fail=0
for src in $targets; do
	name=$(basename "$src" .c)
	srcs=$(sed -n 's/^.*FUZZ_SOURCES:[[:space:]]*//p' "$src" | head -1)
	bin=$out/bin/$name
	if ! $CC $CFLAGS -o "$bin" "$src" $srcs $LIBS; then
		echo "fuzz: $name: build failed"
		fail=$((fail + 1))
		continue
	fi
	mkdir -p "$out/$name/corpus" "$out/$name/artifacts"
	dict=
	[ -f "regress/fuzz/dict/${name#fuzz_}.dict" ] &&
	    dict="-dict=regress/fuzz/dict/${name#fuzz_}.dict"
	echo "fuzz: $name: running ${secs}s"
	if "$bin" -max_total_time="$secs" -print_final_stats=1 \
	    -artifact_prefix="$out/$name/artifacts/" $dict \
	    "$out/$name/corpus" >"$out/$name/log" 2>&1; then
		echo "fuzz: $name: ok," \
		    "$(sed -n 's/^stat::number_of_executed_units: *//p' \
		    "$out/$name/log") runs," \
		    "$(ls "$out/$name/corpus" | wc -l) corpus files"
		pass=$((pass + 1))
	else
		echo "fuzz: $name: FAILED, see $out/$name/log:"
		grep -E 'ERROR|SUMMARY|Test unit written|error' "$out/$name/log" | head -20
		fail=$((fail + 1))
	fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
