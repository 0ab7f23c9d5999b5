/*
 * Copyright (c) 2026 The moatd developers
 *
 * Permission to use, copy, modify, and distribute this software for any
 * purpose with or without fee is hereby granted, provided that the above
 * copyright notice and this permission notice appear in all copies.
 *
 * THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES
 * WITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF
 * MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR
 * ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES
 * WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN
 * ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF
 * OR IN CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.
 */

/*
 * libFuzzer target for canon_target().  Besides memory safety it checks
 * that an accepted target is canonical (decoded: printable ASCII and
 * space, no '%' or '\\'), that its canonical encoding canonicalises back
 * to it and passes canon_verify(), that the size limit on the encoding
 * is exact, and that the path equals a plain decoding and left-to-right
 * cleaning in the manner of Go's path.Clean, with a ".." at the root
 * refused.
 *
 * FUZZ_SOURCES: policy/canon.c policy/http.c
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode an accepted path: every escape; out has len + 1. */
static size_t
ref_decode(const char *p, size_t len, char *out)
{
	size_t	 i, n = 0;

	for (i = 0; i < len; i++) {
		if (p[i] != '%') {
			out[n++] = p[i];
			continue;
		}
		out[n++] = (char)(hexval(p[i + 1]) << 4 | hexval(p[i + 2]));
		i += 2;
	}
	out[n] = '\0';
	return n;
}

/*
 * Go's lexical cleaning of a rooted path, left to right, in place.
 * Returns -1 where Go would drop a ".." at the root.
 */
static int
ref_clean(char *p, size_t n)
{
	size_t	 r = 1, w = 1;

	while (r < n) {
		if (p[r] == '/')
			r++;
		else if (p[r] == '.' && (r + 1 == n || p[r + 1] == '/'))
			r++;
		else if (p[r] == '.' && p[r + 1] == '.' &&
		    (r + 2 == n || p[r + 2] == '/')) {
			r += 2;
			if (w == 1)
				return -1;
			for (w--; w > 1 && p[w] != '/'; w--)
				;
		} else {
			if (w != 1)
				p[w++] = '/';
			while (r < n && p[r] != '/')
				p[w++] = p[r++];
		}
	}
	p[w] = '\0';
	return 0;
}

static void
check_canonical(const char *path)
{
	size_t	 i, n = strlen(path);

	if (path[0] != '/' || (n > 1 && path[n - 1] == '/'))
		abort();
	if (strstr(path, "//") != NULL || strstr(path, "/./") != NULL ||
	    strstr(path, "/../") != NULL)
		abort();
	if ((n >= 2 && strcmp(path + n - 2, "/.") == 0) ||
	    (n >= 3 && strcmp(path + n - 3, "/..") == 0))
		abort();
	for (i = 0; i < n; i++)
		if ((unsigned char)path[i] < 0x20 ||
		    (unsigned char)path[i] >= 0x7f || path[i] == '\\' ||
		    path[i] == '%')
			abort();
}

static void
check_reference(const char *in, size_t len, const char *path)
{
	const char	*q;
	char		*ref;
	size_t		 plen, n;

	q = memchr(in, '?', len);
	plen = q != NULL ? (size_t)(q - in) : len;
	if ((ref = malloc(plen + 1)) == NULL)
		abort();
	n = ref_decode(in, plen, ref);
	if (ref_clean(ref, n) == -1)
		abort();
	if (strcmp(ref, path) != 0)
		abort();
	free(ref);
}

/* A refusal for a root escape must agree with the reference. */
static void
check_root_escape(const char *in, size_t len)
{
	const char	*q;
	char		*ref;
	size_t		 plen, n;

	q = memchr(in, '?', len);
	plen = q != NULL ? (size_t)(q - in) : len;
	if ((ref = malloc(plen + 1)) == NULL)
		abort();
	n = ref_decode(in, plen, ref);
	if (ref_clean(ref, n) != -1)
		abort();
	free(ref);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char	 path[CANON_PATH_MAX], query[CANON_QUERY_MAX];
	static char	 again[CANON_PATH_MAX], q2[CANON_QUERY_MAX];
	static char	 target[CANON_PATH_MAX + CANON_QUERY_MAX + 2];
	const char	*in = (const char *)data, *why = NULL, *q;
	size_t		 n, qn;

	if (canon_target(in, size, path, sizeof(path), query, sizeof(query),
	    &why) == -1) {
		if (why == NULL || path[0] != '\0' || query[0] != '\0')
			abort();
		if (strcmp(why, "path escapes the root") == 0)
			check_root_escape(in, size);
		return 0;
	}
	check_canonical(path);
	check_reference(in, size, path);

	/* the query is the bytes after the first '?', unchanged */
	q = memchr(in, '?', size);
	qn = strlen(query);
	if (q == NULL ? qn != 0 : qn != size - (size_t)(q - in) - 1 ||
	    memcmp(query, q + 1, qn) != 0)
		abort();

	/* what is forwarded canonicalises back to the same path */
	n = canon_path_encode(path, target, sizeof(target));
	if (n >= CANON_PATH_MAX)
		abort();
	if (qn > 0) {
		target[n] = '?';
		memcpy(target + n + 1, query, qn);
		n += qn + 1;
	}
	target[n] = '\0';
	if (canon_target(target, n, again, sizeof(again), q2, sizeof(q2),
	    &why) == -1 || strcmp(again, path) != 0 || strcmp(q2, query) != 0)
		abort();
	if (canon_verify(path, target) != 1)
		abort();

	/* the limit is exact: the encoding and its NUL fit, one less not */
	n = canon_path_encode(path, NULL, 0);
	if (canon_target(in, size, again, n + 1, q2, sizeof(q2), &why) == -1 ||
	    strcmp(again, path) != 0)
		abort();
	if (n >= 2 && (canon_target(in, size, again, n, q2, sizeof(q2),
	    &why) != -1 || strcmp(why, "path too long") != 0))
		abort();
	return 0;
}
