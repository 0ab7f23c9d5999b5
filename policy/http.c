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
 * The strict HTTP/1.x request head parser.  It sees the complete head at
 * once (the relay found its end with http_head_length()), so there is no
 * state to carry between calls: one pass checks the bytes, one splits the
 * lines, one interprets the fields that decide framing.  Anything another
 * parser could read differently (bare LF, obs-fold, space before the
 * colon, a second Content-Length, a TE list) is refused rather than
 * repaired: whatever we accept, Docker must read the same way.
 *
 * Status codes, chosen so a client can tell what to fix:
 *	400	malformed (including every framing ambiguity)
 *	414	request line over limits->line_max
 *	417	an Expect other than 100-continue
 *	431	head over limits->head_max or more than headers_max fields
 *	501	a method token that no rule can name (anything but 1 to
 *		RULE_METHOD_MAX - 1 upper-case letters; RFC 9110 9.1),
 *		or a transfer coding other than a lone "chunked"
 *	505	a well-formed HTTP version other than 1.0 and 1.1
 */

#include <stdint.h>
#include <string.h>

#include "policy.h"

#define CRLF		"\r\n"
#define ISOWS(c)	((c) == ' ' || (c) == '\t')

static const struct http_limits http_default_limits = {
	HTTP_HEAD_MAX, HTTP_LINE_MAX, HTTP_HEADERS_MAX
};

#define FAIL(st, msg) do {			\
	*status = (st);				\
	*why = (msg);				\
	return -1;				\
} while (0)

/* RFC 9110 5.6.2 tchar; explicit ranges so the locale never matters. */
int
http_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

int
http_hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static unsigned char
lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

/* Case-insensitive ASCII comparison of a counted string with a C string. */
int
http_ieq(const char *s, size_t len, const char *lit)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if (lit[i] == '\0' || lower(s[i]) != lower(lit[i]))
			return 0;
	return lit[len] == '\0';
}

/*
 * Step through a comma-separated list (RFC 9110 5.6.1): *pos is advanced
 * past the next element, which is returned trimmed of OWS and may be
 * empty.  Returns 0 at the end of the list.
 */
static int
list_next(const char *v, size_t len, size_t *pos, const char **el,
    size_t *ellen)
{
	size_t	 s, e, comma;

	if (*pos > len)
		return 0;
	for (comma = *pos; comma < len && v[comma] != ','; comma++)
		;
	s = *pos;
	e = comma;
	while (s < e && ISOWS(v[s]))
		s++;
	while (e > s && ISOWS(v[e - 1]))
		e--;
	*el = v + s;
	*ellen = e - s;
	*pos = comma + 1;
	return 1;
}

static int
is_token(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++)
		if (!http_tchar(s[i]))
			return 0;
	return 1;
}

int
http_list_has(const char *value, size_t len, const char *token)
{
	const char	*el;
	size_t		 ellen, pos = 0;

	while (list_next(value, len, &pos, &el, &ellen))
		if (http_ieq(el, ellen, token))
			return 1;
	return 0;
}

/*
 * A decimal Content-Length: digits only, no sign, no leading zero but
 * "0" itself, at most HTTP_LENGTH_DIGITS digits so it cannot overflow.
 */
int
http_parse_length(const char *s, size_t len, uint64_t *out)
{
	uint64_t	 n = 0;
	size_t		 i;

	if (len == 0 || len > HTTP_LENGTH_DIGITS || (s[0] == '0' && len > 1))
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		n = n * 10 + (uint64_t)(s[i] - '0');
	}
	*out = n;
	return 0;
}

/*
 * The byte-level pass: no NUL anywhere, every LF preceded by CR and every
 * CR followed by LF.  After it, lines can be split at CR alone.
 */
static int
check_bytes(const char *h, size_t len, int *status, const char **why)
{
	size_t	 i;

	for (i = 0; i < len; i++) {
		switch (h[i]) {
		case '\0':
			FAIL(400, "NUL in head");
		case '\n':
			if (i == 0 || h[i - 1] != '\r')
				FAIL(400, "bare LF in head");
			break;
		case '\r':
			if (i + 1 == len || h[i + 1] != '\n')
				FAIL(400, "bare CR in head");
			break;
		}
	}
	if (len < 4 || memcmp(h + len - 4, CRLF CRLF, 4) != 0)
		FAIL(400, "head does not end with an empty line");
	return 0;
}

/* "HTTP/" DIGIT "." DIGIT; 1.0 and 1.1 only. */
static int
parse_version(const char *v, size_t len, int *minor, int *status,
    const char **why)
{
	if (len != 8 || memcmp(v, "HTTP/", 5) != 0 ||
	    v[5] < '0' || v[5] > '9' || v[6] != '.' ||
	    v[7] < '0' || v[7] > '9')
		FAIL(400, "malformed HTTP version");
	if (v[5] != '1' || (v[7] != '0' && v[7] != '1'))
		FAIL(505, "unsupported HTTP version");
	*minor = v[7] - '0';
	return 0;
}

/*
 * Any method a rule can name is a method (CetusGuard's 1*%x41-5A): the
 * rules, not this parser, decide whether "FOO /x" passes.  Framing does
 * not depend on the method (HEAD matters for the response only), so an
 * unknown one is framed like any other.  A token no rule can name, such
 * as "get" or "M-SEARCH", is 501.
 */
static int
parse_method(const char *m, size_t len, struct http_request *req,
    int *status, const char **why)
{
	size_t	 i;

	if (len >= sizeof(req->method))
		FAIL(501, "method not implemented");
	for (i = 0; i < len; i++)
		if (m[i] < 'A' || m[i] > 'Z')
			FAIL(501, "method not implemented");
	memcpy(req->method, m, len);
	req->method[len] = '\0';
	return 0;
}

/* Origin-form only: the target is a path, never a URL or "*". */
static int
check_target(const char *t, size_t len, int *status, const char **why)
{
	size_t	 i;

	if (t[0] != '/') {
		if (len == 1 && t[0] == '*')
			FAIL(400, "asterisk-form request-target");
		for (i = 0; i + 2 < len; i++)
			if (memcmp(t + i, "://", 3) == 0)
				FAIL(400, "absolute-form request-target");
		FAIL(400, "request-target not in origin-form");
	}
	/* Finer rules (escapes, dot segments) are canon_target()'s. */
	for (i = 0; i < len; i++)
		if ((unsigned char)t[i] <= 0x20 || (unsigned char)t[i] >= 0x7f)
			FAIL(400, "bad character in request-target");
	return 0;
}

/* METHOD SP request-target SP HTTP-version, exactly single spaces. */
static int
parse_request_line(const char *l, size_t len, struct http_request *req,
    int *status, const char **why)
{
	const char	*t, *sp, *v;
	size_t		 mlen, tlen;

	if (len == 0)
		FAIL(400, "empty line before request line");
	if (len == 14 && memcmp(l, "PRI * HTTP/2.0", 14) == 0)
		FAIL(400, "HTTP/2 connection preface");
	for (mlen = 0; mlen < len && http_tchar(l[mlen]); mlen++)
		;
	if (mlen == 0 || mlen == len || l[mlen] != ' ')
		FAIL(400, "malformed request line");
	t = l + mlen + 1;
	if ((sp = memchr(t, ' ', l + len - t)) == NULL || sp == t)
		FAIL(400, "malformed request line");
	tlen = sp - t;
	v = sp + 1;
	if (parse_version(v, l + len - v, &req->minor, status, why) == -1)
		return -1;
	if (parse_method(l, mlen, req, status, why) == -1)
		return -1;
	if (check_target(t, tlen, status, why) == -1)
		return -1;
	req->target = t;
	req->targetlen = tlen;
	return 0;
}

/* field-name ":" OWS field-value OWS, with no space before the colon. */
static int
parse_field(const char *l, size_t len, struct http_field *f, int *status,
    const char **why)
{
	size_t	 n, s, e, i;

	if (ISOWS(l[0]))
		FAIL(400, "obs-fold line in head");
	for (n = 0; n < len && http_tchar(l[n]); n++)
		;
	if (n == len || l[n] != ':') {
		if (memchr(l, ':', len) == NULL)
			FAIL(400, "header line without colon");
		if (ISOWS(l[n]))
			FAIL(400, "whitespace before colon");
		FAIL(400, "bad character in field name");
	}
	if (n == 0)
		FAIL(400, "empty field name");
	for (s = n + 1; s < len && ISOWS(l[s]); s++)
		;
	for (e = len; e > s && ISOWS(l[e - 1]); e--)
		;
	for (i = s; i < e; i++) {
		if (((unsigned char)l[i] < 0x20 && l[i] != '\t') ||
		    l[i] == 0x7f)
			FAIL(400, "control character in field value");
	}
	f->name = l;
	f->namelen = n;
	f->value = l + s;
	f->valuelen = e - s;
	return 0;
}

/*
 * Transfer-Encoding: exactly one coding, "chunked".  A list that is well
 * formed but names anything else is 501 (nginx); a malformed list or a
 * coding applied twice is 400.
 */
static int
check_te(const struct http_field *f, int *status, const char **why)
{
	const char	*el;
	size_t		 ellen, pos = 0, n = 0, nchunked = 0;

	while (list_next(f->value, f->valuelen, &pos, &el, &ellen)) {
		if (!is_token(el, ellen))
			FAIL(400, "malformed Transfer-Encoding");
		if (http_ieq(el, ellen, "chunked"))
			nchunked++;
		n++;
	}
	if (nchunked > 1)
		FAIL(400, "chunked applied more than once");
	if (n != 1 || nchunked != 1)
		FAIL(501, "unsupported transfer coding");
	return 0;
}

/* Connection: a list of tokens; empty elements are ignored (RFC 9110). */
static int
check_connection(const struct http_field *f, int *conn_close, int *ka,
    int *upgrade, int *status, const char **why)
{
	const char	*el;
	size_t		 ellen, pos = 0;

	while (list_next(f->value, f->valuelen, &pos, &el, &ellen)) {
		if (ellen == 0)
			continue;
		if (!is_token(el, ellen))
			FAIL(400, "malformed Connection");
		if (http_ieq(el, ellen, "close"))
			*conn_close = 1;
		else if (http_ieq(el, ellen, "keep-alive"))
			*ka = 1;
		else if (http_ieq(el, ellen, "upgrade"))
			*upgrade = 1;
	}
	return 0;
}

/* The fields that must appear at most once; u[] holds their index. */
enum uniq { U_HOST, U_CL, U_TE, U_UPGRADE, U_EXPECT, U_MAX };

static const struct {
	const char	*name;
	const char	*dup;
} uniq_fields[U_MAX] = {
	[U_HOST] = { "Host", "duplicate Host" },
	[U_CL] = { "Content-Length", "duplicate Content-Length" },
	[U_TE] = { "Transfer-Encoding", "duplicate Transfer-Encoding" },
	[U_UPGRADE] = { "Upgrade", "duplicate Upgrade" },
	[U_EXPECT] = { "Expect", "duplicate Expect" },
};

static int
collect(struct http_request *req, int u[U_MAX], int *conn_close, int *ka,
    int *conn_upgrade, int *status, const char **why)
{
	const struct http_field	*f;
	size_t			 i;
	int			 j;

	for (j = 0; j < U_MAX; j++)
		u[j] = -1;
	for (i = 0; i < req->nfields; i++) {
		f = &req->fields[i];
		for (j = 0; j < U_MAX; j++) {
			if (!http_ieq(f->name, f->namelen, uniq_fields[j].name))
				continue;
			if (u[j] != -1)
				FAIL(400, uniq_fields[j].dup);
			u[j] = (int)i;
		}
		if (http_ieq(f->name, f->namelen, "Connection") &&
		    check_connection(f, conn_close, ka, conn_upgrade, status,
		    why) == -1)
			return -1;
	}
	return 0;
}

static int
check_framing(struct http_request *req, const int u[U_MAX], int *status,
    const char **why)
{
	const struct http_field	*f;

	if (u[U_TE] != -1) {
		if (req->minor == 0)
			FAIL(400, "Transfer-Encoding on HTTP/1.0");
		if (u[U_CL] != -1)
			FAIL(400, "both Content-Length and Transfer-Encoding");
		if (check_te(&req->fields[u[U_TE]], status, why) == -1)
			return -1;
		req->framing = FRAMING_CHUNKED;
	} else if (u[U_CL] != -1) {
		f = &req->fields[u[U_CL]];
		if (http_parse_length(f->value, f->valuelen,
		    &req->length) == -1)
			FAIL(400, "bad Content-Length");
		req->framing = FRAMING_LENGTH;
	} else
		req->framing = FRAMING_NONE;
	return 0;
}

static int
check_semantics(struct http_request *req, int *status, const char **why)
{
	const struct http_field	*f;
	int			 u[U_MAX];
	int			 conn_close = 0, ka = 0, conn_upgrade = 0;

	if (collect(req, u, &conn_close, &ka, &conn_upgrade, status,
	    why) == -1)
		return -1;
	if (req->minor == 1 && u[U_HOST] == -1)
		FAIL(400, "missing Host");
	if (check_framing(req, u, status, why) == -1)
		return -1;

	if (req->minor == 1)
		req->keepalive = !conn_close;
	else
		req->keepalive = ka && !conn_close;

	if (u[U_UPGRADE] != -1) {
		f = &req->fields[u[U_UPGRADE]];
		if (f->valuelen >= sizeof(req->upgrade_proto) ||
		    !is_token(f->value, f->valuelen))
			FAIL(400, "bad Upgrade");
		/* RFC 9110 7.8: Upgrade in an HTTP/1.0 request is ignored. */
		if (conn_upgrade && req->minor == 1) {
			req->upgrade = 1;
			memcpy(req->upgrade_proto, f->value, f->valuelen);
			req->upgrade_proto[f->valuelen] = '\0';
		}
	}

	if (u[U_EXPECT] != -1) {
		f = &req->fields[u[U_EXPECT]];
		if (!http_ieq(f->value, f->valuelen, "100-continue"))
			FAIL(417, "unsupported expectation");
		/* RFC 9110 10.1.1: ignored in an HTTP/1.0 request. */
		req->expect_continue = req->minor == 1;
	}
	return 0;
}

int
http_parse_request(const char *head, size_t len,
    const struct http_limits *limits, struct http_request *req, int *status,
    const char **why)
{
	struct http_limits	 lim;
	const char		*p, *eol, *end = head + len;

	memset(req, 0, sizeof(*req));
	*status = 0;
	*why = NULL;
	lim = limits != NULL ? *limits : http_default_limits;
	if (lim.headers_max > HTTP_HEADERS_MAX)
		lim.headers_max = HTTP_HEADERS_MAX;

	if (len > lim.head_max)
		FAIL(431, "head too large");
	if (check_bytes(head, len, status, why) == -1)
		return -1;

	/* check_bytes() proved every CR starts a CRLF and the head ends. */
	eol = memchr(head, '\r', len);
	if ((size_t)(eol - head) > lim.line_max)
		FAIL(414, "request line too long");
	if (parse_request_line(head, eol - head, req, status, why) == -1)
		return -1;

	for (p = eol + 2; ; p = eol + 2) {
		eol = memchr(p, '\r', end - p);
		if (eol == p)
			break;
		if (req->nfields >= lim.headers_max)
			FAIL(431, "too many header fields");
		if (parse_field(p, eol - p, &req->fields[req->nfields],
		    status, why) == -1)
			return -1;
		req->nfields++;
	}
	if (eol + 2 != end)
		FAIL(400, "bytes after the empty line");

	if (check_semantics(req, status, why) == -1)
		return -1;
	return 0;
}

/*
 * The head ends at the first empty line.  A bare LF counts as a line end
 * here (LF LF, LF CRLF) so that such a head reaches the parser and gets
 * its 400 instead of waiting for a CRLFCRLF that may never come.
 */
size_t
http_head_length(const char *buf, size_t len)
{
	const char	*p = buf, *lf, *end = buf + len;

	while ((lf = memchr(p, '\n', end - p)) != NULL) {
		if (end - lf >= 2 && lf[1] == '\n')
			return lf + 2 - buf;
		if (end - lf >= 3 && lf[1] == '\r' && lf[2] == '\n')
			return lf + 3 - buf;
		p = lf + 1;
	}
	return 0;
}
