#!/bin/sh
#
# The layers of moatd's sources, lowest first:
#
#   policy/   a pure library: parsers, canonicaliser, rules, decision,
#             verdict and message payload codecs; no I/O, no globals,
#             logging only through callbacks
#   privsep/  messages, channels, processes, sandbox, privilege drop,
#             logging
#   daemon/   the processes
#
# A file may include the headers of its own layer and of the layers below
# it, no others (the GNUmakefile gives each directory only those include
# paths, so a wrong include does not compile either; this says where).
# Then, given the objects (make check-layers builds them), that policy/ is
# pure: none of its objects has writable data (a global), and every
# symbol they use is their own, PCRE2's, or one of the memory, string
# and formatting functions of libc and libbsd listed below: no I/O, no
# logging, no clock, no environment.
#
# usage: regress/layers.sh [-i | -s]: the includes (-i, from the sources
# alone), the symbols (-s, from the objects), or both; run from the top
# of the tree.  Exit 1 with one line per violation on stderr.

what=${1:--is}

LAYERS="policy privsep daemon"
bad=0
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT

rank() {
	n=0
	for l in $LAYERS; do
		[ "$l" = "$1" ] && { echo $n; return; }
		n=$((n + 1))
	done
	echo -1
}

# The layer whose directory holds header h (as written in the include).
owner() {
	case $1 in
	*/*)	d=${1%/*}; d=${d##*/}; [ "$(rank "$d")" -ge 0 ] && echo "$d" ;;
	*)	for l in $LAYERS; do
			[ -f "$l/$1" ] && { echo "$l"; return; }
		done ;;
	esac
}

check_includes() {
for layer in $LAYERS; do
	r=$(rank "$layer")
	for f in "$layer"/*.[chy]; do
		[ -f "$f" ] || continue
		grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" |
		while IFS= read -r line; do
			num=${line%%:*}
			h=${line#*\"}
			h=${h%%\"*}
			o=$(owner "$h")
			if [ -z "$o" ]; then
				echo "$f:$num: includes \"$h\", which is in" \
				    "no layer (policy/, privsep/, daemon/)"
			elif [ "$(rank "$o")" -gt "$r" ]; then
				echo "$f:$num: includes \"$h\" from $o/:" \
				    "$layer/ is below $o/ and must not" \
				    "include its headers"
			fi
		done
	done
done >"$tmp/out"
if [ -s "$tmp/out" ]; then
	cat "$tmp/out" >&2
	bad=1
fi
}

# What policy/ may call: memory, strings, formatting into buffers,
# PCRE2, HMAC-SHA256 (the forwarder's proofs, fwd.c: HMAC() and a keyed
# EVP_MAC context its caller keeps), SHA-256 (a checked body's sum,
# decide.c), sorting and searching in memory (qsort,
# bsearch) and the address text conversions (inet_pton, inet_ntop: the
# container table's canonical addresses, ctable.c), and the compiler's
# stack protector and fortify wrappers.
PURE='^(__stack_chk_fail|__ctype_b_loc|__ctype_tolower_loc|__ctype_toupper_loc|__(v?sn?printf|mem(cpy|move|set)|str(n?cpy|n?cat))_chk|v?snprintf|calloc|malloc|realloc|reallocarray|recallocarray|free|freezero|explicit_bzero|mem(chr|rchr|cmp|cpy|mem|move|set)|str(chr|rchr|cmp|ncmp|casecmp|ncasecmp|dup|ndup|lcpy|lcat|len|nlen|spn|cspn|pbrk|str|tol|toul|toll|toull|tonum)|qsort|bsearch|inet_pton|inet_ntop|pcre2_[a-z_]+_8|HMAC|EVP_sha256|EVP_Digest|EVP_MAC_(fetch|free|CTX_new|CTX_free|init|update|final)|OSSL_PARAM_construct_(utf8_string|end)|CRYPTO_memcmp)$'

check_symbols() {
objs=
for c in policy/*.c; do
	o=${c%.c}.o
	if [ ! -f "$o" ]; then
		echo "$o: missing: build it first (make check-layers does)" >&2
		exit 2
	fi
	objs="$objs $o"
done
nm --defined-only -g $objs | awk 'NF == 3 { print $3 }' | sort -u \
    >"$tmp/def"
for o in $objs; do
	# writable data: .data, .bss and their subsections, not .data.rel.ro
	objdump -t "$o" | awk -v o="$o" '
	    $0 ~ / O / {
		for (i = 1; i <= NF; i++)
			if ($i ~ /^\.(data|bss|tbss|tdata)/ &&
			    $i !~ /^\.data\.rel\.ro/) {
				printf "%s: %s is writable data (%s): policy/ " \
				    "keeps no globals\n", o, $NF, $i
				break
			}
	    }'
	nm -u "$o" | awk '{ print $NF }' | while read -r s; do
		grep -qx -- "$s" "$tmp/def" && continue
		echo "$s" | grep -Eq "$PURE" && continue
		echo "$o: calls $s: policy/ is pure (no I/O, no logging" \
		    "but through callbacks); see regress/layers.sh"
	done
done >"$tmp/out"
if [ -s "$tmp/out" ]; then
	cat "$tmp/out" >&2
	bad=1
fi
}

case $what in *i*)
	check_includes
	[ $bad -eq 0 ] && echo "layers: includes hold: policy/ < privsep/ < daemon/"
esac
case $what in *s*)
	check_symbols
	[ $bad -eq 0 ] && echo "layers: policy/ objects are pure"
esac
exit $bad
