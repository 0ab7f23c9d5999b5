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
 * Request-target canonicalisation.  The rules must see exactly the path
 * that Docker's router will act on: Go's net/url decodes every escape of
 * the path and gorilla/mux matches the decoded, cleaned path.  So the
 * rules match the decoded path ("/t/a b" for "/t/a%20b", "?" for "%3F",
 * "[::1]" whether the brackets come escaped or not), and what is
 * forwarded is one canonical encoding of it, which Go decodes back to
 * exactly that path.
 *
 * What Go's stack would read differently from us is refused: escapes
 * that would move a segment boundary or decode twice (encoded '/', '\',
 * '%'), CTLs and non-ASCII, raw or encoded.  A decoded path therefore
 * holds printable ASCII and space only, never '%' nor '\'.
 *
 * Cleaning follows Go's path.Clean (what Docker's router applies) except
 * that a ".." that would climb above "/" is refused instead of clamped.
 * It runs right to left so that a segment is written only once we know
 * no later ".." removes it: the output is bounded by its final length,
 * not by the length of the path as sent.
 */

#include <stdint.h>
#include <string.h>

#include "policy.h"

/* The byte a "%XX" at s[i] stands for, or -1 if it is not a valid escape. */
static int
pct_value(const char *s, size_t len, size_t i)
{
	int	 hi, lo;

	if (len - i < 3)
		return -1;
	if ((hi = http_hexval(s[i + 1])) == -1 ||
	    (lo = http_hexval(s[i + 2])) == -1)
		return -1;
	return hi << 4 | lo;
}

static int
is_unreserved(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	    c == '~';
}

/* RFC 3986 pchar less pct-encoded: unreserved / sub-delims / ":" / "@" */
static int
is_pchar(int c)
{
	if (is_unreserved(c))
		return 1;
	switch (c) {
	case '!': case '$': case '&': case '\'': case '(': case ')':
	case '*': case '+': case ',': case ';': case '=': case ':': case '@':
		return 1;
	}
	return 0;
}

/* Why a raw byte that is neither pchar nor a delimiter is refused. */
static const char *
raw_reject(int c, int inquery)
{
	if (c == '#')
		return "fragment in request-target";
	if (c <= 0x20 || c == 0x7f)
		return "control byte or space in request-target";
	if (c >= 0x80)
		return "non-ASCII byte in request-target";
	if (c == '\\' && !inquery)
		return "backslash in path";
	return inquery ? "invalid character in query" :
	    "invalid character in path";
}

/*
 * Why an escape is refused, or NULL if it is acceptable.  The query is
 * data for Docker's form parser, which decodes it: refuse what decodes
 * to a control byte.  Encoded non-ASCII (%80-%FF) stays allowed there:
 * label values may be UTF-8.
 */
static const char *
escape_reject(int v, int inquery)
{
	if (inquery)
		return v < 0x20 || v == 0x7f ?
		    "encoded control byte in query" : NULL;
	if (v == '/')
		return "encoded slash in path";
	if (v == '\\')
		return "encoded backslash in path";
	if (v == '%')
		return "encoded percent in path";
	if (v < 0x20 || v == 0x7f)
		return "encoded control byte in path";
	if (v >= 0x80)
		return "encoded non-ASCII byte in path";
	return NULL;
}

/* A byte the path (or query) takes as it is. */
static int
plain_byte(int c, int inquery)
{
	if (c == '/' || is_pchar(c))
		return 1;
	/* Brackets: IPv6 literals in image references. */
	if (inquery)
		return c == '?';
	return c == '[' || c == ']';
}

/*
 * Every byte of the path (removed segments included) or of the query
 * must be valid: refuse what no client of the API needs.
 */
static int
target_check(const char *p, size_t len, int inquery, const char **why)
{
	size_t	 i;
	int	 c, v;

	for (i = 0; i < len; i++) {
		c = (unsigned char)p[i];
		if (plain_byte(c, inquery))
			continue;
		if (c != '%') {
			*why = raw_reject(c, inquery);
			return -1;
		}
		if ((v = pct_value(p, len, i)) == -1) {
			*why = inquery ? "invalid percent-escape in query" :
			    "invalid percent-escape in path";
			return -1;
		}
		if ((*why = escape_reject(v, inquery)) != NULL)
			return -1;
		i += 2;
	}
	return 0;
}

/*
 * Decode the checked segment p[s..e) into dst (when not NULL); returns
 * the decoded length.
 */
static size_t
seg_decode(const char *p, size_t s, size_t e, char *dst)
{
	size_t	 i, n = 0;
	int	 c;

	for (i = s; i < e; i++) {
		c = (unsigned char)p[i];
		if (c == '%') {
			c = pct_value(p, e, i);
			i += 2;
		}
		if (dst != NULL)
			dst[n] = (char)c;
		n++;
	}
	return n;
}

/* 0 for a normal segment, 1 for "." or empty, 2 for "..", after decoding. */
static int
seg_kind(const char *p, size_t s, size_t e)
{
	char	 d[2];
	size_t	 n;

	if ((n = seg_decode(p, s, e, NULL)) == 0)
		return 1;
	if (n > 2)
		return 0;
	seg_decode(p, s, e, d);
	if (d[0] != '.' || (n == 2 && d[1] != '.'))
		return 0;
	return (int)n;
}

/*
 * Resolve the checked path p[0..len) into out, right to left: "skip"
 * counts the ".." segments still waiting for a segment to remove.  A
 * segment kept here is final, so it is written at once, from the end of
 * out backwards; the result is moved to the front at the end.
 */
static int
path_clean(const char *p, size_t len, char *out, size_t outsz,
    const char **why)
{
	size_t	 s, e, n, pos, skip = 0;
	int	 kind;

	pos = outsz - 1;
	for (e = len; e > 0; e = s - 1) {
		/* p[0] is '/', so every segment has a '/' before it. */
		for (s = e; p[s - 1] != '/'; s--)
			;
		kind = seg_kind(p, s, e);
		if (kind == 1)
			continue;
		if (kind == 2) {
			skip++;
			continue;
		}
		if (skip > 0) {
			skip--;
			continue;
		}
		n = seg_decode(p, s, e, NULL);
		if (n + 1 > pos) {
			*why = "path too long";
			return -1;
		}
		pos -= n;
		seg_decode(p, s, e, out + pos);
		out[--pos] = '/';
	}
	if (skip > 0) {
		*why = "path escapes the root";
		return -1;
	}
	if (pos == outsz - 1)
		out[--pos] = '/';
	n = outsz - 1 - pos;
	memmove(out, out + pos, n);
	out[n] = '\0';
	return 0;
}

size_t
canon_path_encode(const char *path, char *dst, size_t dstsz)
{
	static const char	 hex[] = "0123456789ABCDEF";
	char			 e[3];
	size_t			 i, k, n = 0, el;
	unsigned char		 c;

	for (i = 0; path[i] != '\0'; i++) {
		c = (unsigned char)path[i];
		if (c == '/' || is_pchar(c)) {
			e[0] = (char)c;
			el = 1;
		} else {
			e[0] = '%';
			e[1] = hex[c >> 4];
			e[2] = hex[c & 0xf];
			el = 3;
		}
		for (k = 0; k < el; k++, n++)
			if (n + 1 < dstsz)
				dst[n] = e[k];
	}
	if (dstsz > 0)
		dst[n < dstsz ? n : dstsz - 1] = '\0';
	return n;
}

int
canon_verify(const char *path, const char *target)
{
	char		 p2[CANON_PATH_MAX], q2[CANON_QUERY_MAX];
	char		 enc[CANON_PATH_MAX];
	const char	*why;
	size_t		 n;

	if (canon_target(target, strlen(target), p2, sizeof(p2), q2,
	    sizeof(q2), &why) == -1 || strcmp(p2, path) != 0)
		return 0;
	n = canon_path_encode(p2, enc, sizeof(enc));
	if (n >= sizeof(enc) || strncmp(target, enc, n) != 0)
		return 0;
	if (q2[0] == '\0')
		return target[n] == '\0';
	return target[n] == '?' && strcmp(target + n + 1, q2) == 0;
}

int
canon_target(const char *target, size_t len, char *path, size_t pathsz,
    char *query, size_t querysz, const char **why)
{
	const char	*q;
	size_t		 plen, qlen = 0;

	if (pathsz < 2 || querysz < 1) {
		*why = "canonical target buffer too small";
		return -1;
	}
	path[0] = '\0';
	query[0] = '\0';
	if (len == 0 || target[0] != '/') {
		*why = "request-target not in origin-form";
		return -1;
	}
	if ((q = memchr(target, '?', len)) != NULL) {
		plen = q - target;
		qlen = len - plen - 1;
		q++;
	} else
		plen = len;
	if (target_check(target, plen, 0, why) == -1)
		return -1;
	if (q != NULL && target_check(q, qlen, 1, why) == -1)
		return -1;
	if (qlen >= querysz) {
		*why = "query too long";
		return -1;
	}
	if (path_clean(target, plen, path, pathsz, why) == -1) {
		path[0] = '\0';
		return -1;
	}
	/* What is forwarded, the encoding, must fit too. */
	if (canon_path_encode(path, NULL, 0) >= pathsz) {
		*why = "path too long";
		path[0] = '\0';
		return -1;
	}
	/* An empty query ("/x?") is dropped: Go handles both alike. */
	if (qlen > 0)
		memcpy(query, q, qlen);
	query[qlen] = '\0';
	return 0;
}
