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
 * that Docker's router will act on, and that path is what gets forwarded:
 * so every form Docker's Go stack would decode or clean differently from
 * how we see it is either resolved here (unreserved escapes, dot segments,
 * repeated slashes) or refused (encoded '/', '\', '%', CTLs, non-ASCII).
 *
 * Escapes of the remaining printable reserved characters (%3F, %23, %3A,
 * %40, %2B, %20, ...) are kept encoded, with upper-case hex.  Decoding
 * them would change what the bytes mean on the wire (%3F would become the
 * query separator, %23 a fragment), while keeping them encoded cannot move
 * a segment boundary: Docker decodes them back inside the same segment.
 * Since rules only allow, a rule that expects ':' and sees "%3A" denies;
 * it fails closed.
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

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The byte a "%XX" at s[i] stands for, or -1 if it is not a valid escape. */
static int
pct_value(const char *s, size_t len, size_t i)
{
	int	 hi, lo;

	if (len - i < 3)
		return -1;
	if ((hi = hexval(s[i + 1])) == -1 || (lo = hexval(s[i + 2])) == -1)
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

/* Why an escape in the path is refused, or NULL if it is acceptable. */
static const char *
path_escape_reject(int v)
{
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

/* Every byte of the path, removed segments included, must be valid. */
static int
path_check(const char *p, size_t len, const char **why)
{
	size_t	 i;
	int	 c, v;

	for (i = 0; i < len; i++) {
		c = (unsigned char)p[i];
		if (c == '/' || is_pchar(c))
			continue;
		if (c != '%') {
			*why = raw_reject(c, 0);
			return -1;
		}
		if ((v = pct_value(p, len, i)) == -1) {
			*why = "invalid percent-escape in path";
			return -1;
		}
		if ((*why = path_escape_reject(v)) != NULL)
			return -1;
		i += 2;
	}
	return 0;
}

/*
 * The query is data for Docker's form parser, which decodes it: refuse
 * what no client of the API needs and what decodes to a control byte.
 * Encoded non-ASCII (%80-%FF) stays allowed: label values may be UTF-8.
 */
static int
query_check(const char *q, size_t len, const char **why)
{
	size_t	 i;
	int	 c, v;

	for (i = 0; i < len; i++) {
		c = (unsigned char)q[i];
		if (c == '/' || c == '?' || is_pchar(c))
			continue;
		if (c != '%') {
			*why = raw_reject(c, 1);
			return -1;
		}
		if ((v = pct_value(q, len, i)) == -1) {
			*why = "invalid percent-escape in query";
			return -1;
		}
		if (v < 0x20 || v == 0x7f) {
			*why = "encoded control byte in query";
			return -1;
		}
		i += 2;
	}
	return 0;
}

/*
 * Decode the checked segment p[s..e) into dst (when not NULL): unreserved
 * escapes become their byte, the others are kept with upper-case hex.
 * Returns the decoded length.
 */
static size_t
seg_decode(const char *p, size_t s, size_t e, char *dst)
{
	static const char	 hex[] = "0123456789ABCDEF";
	size_t			 i, n = 0;
	int			 v;

	for (i = s; i < e; i++) {
		if (p[i] != '%') {
			if (dst != NULL)
				dst[n] = p[i];
			n++;
			continue;
		}
		v = pct_value(p, e, i);
		i += 2;
		if (is_unreserved(v)) {
			if (dst != NULL)
				dst[n] = (char)v;
			n++;
			continue;
		}
		if (dst != NULL) {
			dst[n] = '%';
			dst[n + 1] = hex[v >> 4];
			dst[n + 2] = hex[v & 0xf];
		}
		n += 3;
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
	if (path_check(target, plen, why) == -1)
		return -1;
	if (q != NULL && query_check(q, qlen, why) == -1)
		return -1;
	if (qlen >= querysz) {
		*why = "query too long";
		return -1;
	}
	if (path_clean(target, plen, path, pathsz, why) == -1) {
		path[0] = '\0';
		return -1;
	}
	/* An empty query ("/x?") is dropped: Go handles both alike. */
	if (qlen > 0)
		memcpy(query, q, qlen);
	query[qlen] = '\0';
	return 0;
}
