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
 * Unit tests for policy/http.c.  Every rejection is a table row: the raw
 * head with its CRLFs spelled out, and the exact status and reason.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "policy.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))
/* A literal and its length, so embedded NULs survive. */
#define R(s)		s, sizeof(s) - 1
#define H11		" HTTP/1.1\r\nHost: docker\r\n"
#define D10		"0123456789"
#define D90		D10 D10 D10 D10 D10 D10 D10 D10 D10

/* Small limits for the 414/431 rows: 32-byte line, 4 fields, 128 bytes. */
static const struct http_limits small = { 128, 32, 4 };

struct reject {
	const char	*raw;
	size_t		 len;
	int		 small;		/* use the small limits */
	int		 status;
	const char	*why;
};

static const struct reject rejects[] = {
	/* bytes: CRLF only, no NUL */
	{ R("GET / HTTP/1.1\nHost: a\r\n\r\n"), 0, 400, "bare LF in head" },
	{ R("GET / HTTP/1.1\r\nHost: a\n\r\n"), 0, 400, "bare LF in head" },
	{ R("GET / HTTP/1.1\r\nHost: a\n\n"), 0, 400, "bare LF in head" },
	{ R("GET / HTTP/1.1\r\nHost: a\r\n\n"), 0, 400, "bare LF in head" },
	{ R("GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n"), 0, 400,
	    "bare CR in head" },
	{ R("GET / HTTP/1.1\r\nHost: a\r\r\n\r\n"), 0, 400,
	    "bare CR in head" },
	{ R("GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n"), 0, 400, "NUL in head" },
	{ R("GET /\0 HTTP/1.1\r\nHost: a\r\n\r\n"), 0, 400, "NUL in head" },
	{ R("GET / HTTP/1.1\r\nHost: a\r\n\0\r\n\r\n"), 0, 400,
	    "NUL in head" },
	{ R("GET / HTTP/1.1\r\nHost: a\r\n"), 0, 400,
	    "head does not end with an empty line" },
	{ R(""), 0, 400, "head does not end with an empty line" },
	{ R("\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), 0, 400,
	    "empty line before request line" },
	{ R("GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\n\r\n"), 0,
	    400, "bytes after the empty line" },

	/* request line */
	{ R("PRI * HTTP/2.0\r\n\r\n"), 0, 400, "HTTP/2 connection preface" },
	{ R("GET  /" H11 "\r\n"), 0, 400, "malformed request line" },
	{ R(" GET /" H11 "\r\n"), 0, 400, "malformed request line" },
	{ R("GET\t/" H11 "\r\n"), 0, 400, "malformed request line" },
	{ R("GET\r\nHost: a\r\n\r\n"), 0, 400, "malformed request line" },
	{ R("GET /\r\nHost: a\r\n\r\n"), 0, 400, "malformed request line" },
	{ R("G(T /" H11 "\r\n"), 0, 400, "malformed request line" },
	{ R("GET / HTTP/1.1 \r\nHost: a\r\n\r\n"), 0, 400,
	    "malformed HTTP version" },
	{ R("GET /  HTTP/1.1\r\nHost: a\r\n\r\n"), 0, 400,
	    "malformed HTTP version" },
	{ R("GET / a HTTP/1.1\r\nHost: a\r\n\r\n"), 0, 400,
	    "malformed HTTP version" },
	{ R("GET / http/1.1\r\nHost: a\r\n\r\n"), 0, 400,
	    "malformed HTTP version" },
	{ R("GET / HTTP/1.10\r\nHost: a\r\n\r\n"), 0, 400,
	    "malformed HTTP version" },
	{ R("GET / HTTP/1\r\nHost: a\r\n\r\n"), 0, 400,
	    "malformed HTTP version" },
	{ R("GET / HTTP/2\r\nHost: a\r\n\r\n"), 0, 400,
	    "malformed HTTP version" },
	{ R("GET / HTTP/2.0\r\nHost: a\r\n\r\n"), 0, 505,
	    "unsupported HTTP version" },
	{ R("GET / HTTP/0.9\r\nHost: a\r\n\r\n"), 0, 505,
	    "unsupported HTTP version" },
	{ R("GET / HTTP/1.2\r\nHost: a\r\n\r\n"), 0, 505,
	    "unsupported HTTP version" },
	{ R("GET / HTTP/3.0\r\nHost: a\r\n\r\n"), 0, 505,
	    "unsupported HTTP version" },
	{ R("get /" H11 "\r\n"), 0, 501, "method not implemented" },
	{ R("Get /" H11 "\r\n"), 0, 501, "method not implemented" },
	{ R("M-SEARCH /" H11 "\r\n"), 0, 501, "method not implemented" },
	{ R("GET1 /" H11 "\r\n"), 0, 501, "method not implemented" },
	{ R("G_ET /" H11 "\r\n"), 0, 501, "method not implemented" },
	/* 32 letters: longer than any rule may name */
	{ R("ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEF /" H11 "\r\n"), 0, 501,
	    "method not implemented" },
	{ R("CONNECT docker:2375" H11 "\r\n"), 0, 400,
	    "request-target not in origin-form" },
	{ R("GET http://docker/info" H11 "\r\n"), 0, 400,
	    "absolute-form request-target" },
	{ R("GET unix:///var/run/docker.sock" H11 "\r\n"), 0, 400,
	    "absolute-form request-target" },
	{ R("OPTIONS *" H11 "\r\n"), 0, 400, "asterisk-form request-target" },
	{ R("GET info" H11 "\r\n"), 0, 400,
	    "request-target not in origin-form" },
	{ R("GET *x" H11 "\r\n"), 0, 400,
	    "request-target not in origin-form" },
	{ R("GET /a\x80" H11 "\r\n"), 0, 400,
	    "bad character in request-target" },
	{ R("GET /a\x7f" H11 "\r\n"), 0, 400,
	    "bad character in request-target" },
	{ R("GET /a\tb" H11 "\r\n"), 0, 400,
	    "bad character in request-target" },

	/* field lines */
	{ R("GET /" H11 "X-A: b\r\n c\r\n\r\n"), 0, 400,
	    "obs-fold line in head" },
	{ R("GET /" H11 "X-A: b\r\n\tc\r\n\r\n"), 0, 400,
	    "obs-fold line in head" },
	{ R("GET / HTTP/1.1\r\n Host: a\r\n\r\n"), 0, 400,
	    "obs-fold line in head" },
	{ R("GET / HTTP/1.1\r\nHost : a\r\n\r\n"), 0, 400,
	    "whitespace before colon" },
	{ R("GET / HTTP/1.1\r\nHost\t: a\r\n\r\n"), 0, 400,
	    "whitespace before colon" },
	{ R("GET / HTTP/1.1\r\nHost a\r\n\r\n"), 0, 400,
	    "header line without colon" },
	{ R("GET / HTTP/1.1\r\nHost\r\n\r\n"), 0, 400,
	    "header line without colon" },
	{ R("GET /" H11 "X-A b: c\r\n\r\n"), 0, 400,
	    "whitespace before colon" },
	{ R("GET /" H11 "X(A): c\r\n\r\n"), 0, 400,
	    "bad character in field name" },
	{ R("GET /" H11 "X-\xc3\xa4: c\r\n\r\n"), 0, 400,
	    "bad character in field name" },
	{ R("GET /" H11 ": c\r\n\r\n"), 0, 400, "empty field name" },
	{ R("GET /" H11 "X-A: b\x01" "c\r\n\r\n"), 0, 400,
	    "control character in field value" },
	{ R("GET /" H11 "X-A: b\x1b[0m\r\n\r\n"), 0, 400,
	    "control character in field value" },
	{ R("GET /" H11 "X-A: b\x7f\r\n\r\n"), 0, 400,
	    "control character in field value" },
	{ R("GET /" H11 "X-A: \x0b" "b\r\n\r\n"), 0, 400,
	    "control character in field value" },

	/* Host */
	{ R("GET / HTTP/1.1\r\n\r\n"), 0, 400, "missing Host" },
	{ R("GET / HTTP/1.1\r\nX-Host: a\r\n\r\n"), 0, 400, "missing Host" },
	{ R("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"), 0, 400,
	    "duplicate Host" },
	{ R("GET / HTTP/1.1\r\nHost: a\r\nhOST: b\r\n\r\n"), 0, 400,
	    "duplicate Host" },
	{ R("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n"), 0, 400,
	    "duplicate Host" },

	/* Content-Length */
	{ R("POST /" H11 "Content-Length: +5\r\n\r\n"), 0, 400,
	    "bad Content-Length" },
	{ R("POST /" H11 "Content-Length: -5\r\n\r\n"), 0, 400,
	    "bad Content-Length" },
	{ R("POST /" H11 "Content-Length: 05\r\n\r\n"), 0, 400,
	    "bad Content-Length" },
	{ R("POST /" H11 "Content-Length: 00\r\n\r\n"), 0, 400,
	    "bad Content-Length" },
	{ R("POST /" H11 "Content-Length: 5 5\r\n\r\n"), 0, 400,
	    "bad Content-Length" },
	{ R("POST /" H11 "Content-Length: 5\t5\r\n\r\n"), 0, 400,
	    "bad Content-Length" },
	{ R("POST /" H11 "Content-Length: 5, 5\r\n\r\n"), 0, 400,
	    "bad Content-Length" },
	{ R("POST /" H11 "Content-Length: 5,5\r\n\r\n"), 0, 400,
	    "bad Content-Length" },
	{ R("POST /" H11 "Content-Length: 0x5\r\n\r\n"), 0, 400,
	    "bad Content-Length" },
	{ R("POST /" H11 "Content-Length: 5e1\r\n\r\n"), 0, 400,
	    "bad Content-Length" },
	{ R("POST /" H11 "Content-Length: \r\n\r\n"), 0, 400,
	    "bad Content-Length" },
	{ R("POST /" H11 "Content-Length: 1000000000000000000\r\n\r\n"), 0,
	    400, "bad Content-Length" },
	{ R("POST /" H11 "Content-Length: 18446744073709551616\r\n\r\n"), 0,
	    400, "bad Content-Length" },
	{ R("POST /" H11 "Content-Length: 5\r\nContent-Length: 5\r\n\r\n"), 0,
	    400, "duplicate Content-Length" },
	{ R("POST /" H11 "Content-Length: 5\r\ncontent-length: 6\r\n\r\n"),
	    0, 400, "duplicate Content-Length" },
	{ R("POST /" H11 "Content-Length : 5\r\n\r\n"), 0, 400,
	    "whitespace before colon" },

	/* Transfer-Encoding: TE.TE obfuscations */
	{ R("POST /" H11 "Transfer-Encoding: xchunked\r\n\r\n"), 0, 501,
	    "unsupported transfer coding" },
	{ R("POST /" H11 "Transfer-Encoding: chunk\r\n\r\n"), 0, 501,
	    "unsupported transfer coding" },
	{ R("POST /" H11 "Transfer-Encoding: chunked, identity\r\n\r\n"), 0,
	    501, "unsupported transfer coding" },
	{ R("POST /" H11 "Transfer-Encoding: gzip, chunked\r\n\r\n"), 0,
	    501, "unsupported transfer coding" },
	{ R("POST /" H11 "Transfer-Encoding: identity\r\n\r\n"), 0, 501,
	    "unsupported transfer coding" },
	{ R("POST /" H11 "Transfer-Encoding: chunked, chunked\r\n\r\n"), 0,
	    400, "chunked applied more than once" },
	{ R("POST /" H11 "Transfer-Encoding: chunked\tgzip\r\n\r\n"), 0, 400,
	    "malformed Transfer-Encoding" },
	{ R("POST /" H11 "Transfer-Encoding: chunked gzip\r\n\r\n"), 0, 400,
	    "malformed Transfer-Encoding" },
	{ R("POST /" H11 "Transfer-Encoding: chunked;q=1\r\n\r\n"), 0, 400,
	    "malformed Transfer-Encoding" },
	{ R("POST /" H11 "Transfer-Encoding: chunked,\r\n\r\n"), 0, 400,
	    "malformed Transfer-Encoding" },
	{ R("POST /" H11 "Transfer-Encoding: ,chunked\r\n\r\n"), 0, 400,
	    "malformed Transfer-Encoding" },
	{ R("POST /" H11 "Transfer-Encoding: \"chunked\"\r\n\r\n"), 0, 400,
	    "malformed Transfer-Encoding" },
	{ R("POST /" H11 "Transfer-Encoding:\r\n\r\n"), 0, 400,
	    "malformed Transfer-Encoding" },
	{ R("POST /" H11 "Transfer-Encoding: \x0b" "chunked\r\n\r\n"), 0,
	    400, "control character in field value" },
	{ R("POST /" H11 "Transfer-Encoding : chunked\r\n\r\n"), 0, 400,
	    "whitespace before colon" },
	{ R("POST /" H11 "Transfer-Encoding\t: chunked\r\n\r\n"), 0, 400,
	    "whitespace before colon" },
	{ R("POST /" H11 "Transfer-Encoding:\r\n chunked\r\n\r\n"), 0, 400,
	    "obs-fold line in head" },
	{ R("POST /" H11 "Transfer-Encoding: gzip\r\n\tchunked\r\n\r\n"), 0,
	    400, "obs-fold line in head" },
	{ R("POST /" H11 "X: y\r\n Transfer-Encoding: chunked\r\n\r\n"), 0,
	    400, "obs-fold line in head" },
	{ R("POST /" H11 "Transfer-Encoding: chunked\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"), 0, 400,
	    "duplicate Transfer-Encoding" },
	{ R("POST /" H11 "Transfer-Encoding: chunked\r\n"
	    "Transfer-encoding: x\r\n\r\n"), 0, 400,
	    "duplicate Transfer-Encoding" },
	/* CL.TE and TE.CL */
	{ R("POST /" H11 "Content-Length: 6\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"), 0, 400,
	    "both Content-Length and Transfer-Encoding" },
	{ R("POST /" H11 "Transfer-Encoding: chunked\r\n"
	    "Content-Length: 6\r\n\r\n"), 0, 400,
	    "both Content-Length and Transfer-Encoding" },
	{ R("POST /" H11 "Transfer-Encoding: xchunked\r\n"
	    "Content-Length: 6\r\n\r\n"), 0, 400,
	    "both Content-Length and Transfer-Encoding" },
	{ R("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), 0, 400,
	    "Transfer-Encoding on HTTP/1.0" },

	/* Connection, Upgrade, Expect */
	{ R("GET /" H11 "Connection: close, \"x\"\r\n\r\n"), 0, 400,
	    "malformed Connection" },
	{ R("GET /" H11 "Connection: keep alive\r\n\r\n"), 0, 400,
	    "malformed Connection" },
	{ R("POST /" H11 "Connection: Upgrade\r\nUpgrade: h2c, tcp\r\n\r\n"),
	    0, 400, "bad Upgrade" },
	{ R("POST /" H11 "Connection: Upgrade\r\nUpgrade:\r\n\r\n"), 0, 400,
	    "bad Upgrade" },
	{ R("POST /" H11 "Upgrade: HTTP/2.0\r\n\r\n"), 0, 400,
	    "bad Upgrade" },
	{ R("POST /" H11 "Connection: Upgrade\r\n"
	    "Upgrade: 0123456789abcdef0123456789abcdef\r\n\r\n"), 0, 400,
	    "bad Upgrade" },
	{ R("POST /" H11 "Upgrade: tcp\r\nUpgrade: tcp\r\n\r\n"), 0, 400,
	    "duplicate Upgrade" },
	{ R("POST /" H11 "Expect: 101-continue\r\n\r\n"), 0, 417,
	    "unsupported expectation" },
	{ R("POST /" H11 "Expect: 100-continue, x\r\n\r\n"), 0, 417,
	    "unsupported expectation" },
	{ R("POST /" H11 "Expect: 100-continue\r\n"
	    "Expect: 100-continue\r\n\r\n"), 0, 400, "duplicate Expect" },

	/* limits: 32-byte request line, 4 fields, 128-byte head */
	{ R("GET /0123456789012345678 HTTP/1.1\r\nHost: a\r\n\r\n"), 1, 414,
	    "request line too long" },
	{ R("GET /" H11 "A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n"), 1, 431,
	    "too many header fields" },
	{ R("GET /" H11 "A: " D90 "01\r\n\r\n"), 1, 431,
	    "head too large" },
	/* 431 comes before everything else: the head was not read */
	{ R("GET /\0" H11 "A: " D90 "01\r\n\n"), 1, 431,
	    "head too large" },
};

START_TEST(test_http_reject)
{
	const struct reject	*r = &rejects[_i];
	struct http_request	*req;
	const char		*why = NULL;
	int			 status = 0, rv;

	req = malloc(sizeof(*req));
	ck_assert_ptr_nonnull(req);
	rv = http_parse_request(r->raw, r->len, r->small ? &small : NULL,
	    req, &status, &why);
	ck_assert_msg(rv == -1, "row %d accepted", _i);
	ck_assert_msg(status == r->status, "row %d: status %d, want %d (%s)",
	    _i, status, r->status, why);
	ck_assert_ptr_nonnull(why);
	ck_assert_msg(strcmp(why, r->why) == 0, "row %d: why \"%s\", want "
	    "\"%s\"", _i, why, r->why);
	free(req);
}
END_TEST

static struct http_request *
parse_ok(const char *raw, size_t len, const struct http_limits *lim)
{
	static struct http_request	 req;
	const char			*why = NULL;
	int				 status = -1;

	ck_assert_msg(http_parse_request(raw, len, lim, &req, &status,
	    &why) == 0, "refused (%d %s): %.*s", status, why, (int)len, raw);
	ck_assert_int_eq(status, 0);
	ck_assert_ptr_null(why);
	return &req;
}

static void
check_field(const struct http_request *req, size_t i, const char *name,
    const char *value)
{
	ck_assert_uint_lt(i, req->nfields);
	ck_assert_uint_eq(req->fields[i].namelen, strlen(name));
	ck_assert(memcmp(req->fields[i].name, name, strlen(name)) == 0);
	ck_assert_uint_eq(req->fields[i].valuelen, strlen(value));
	ck_assert(memcmp(req->fields[i].value, value, strlen(value)) == 0);
}

START_TEST(test_http_get)
{
	static const char	 raw[] = "GET /v1.43/containers/json?all=1 "
	    "HTTP/1.1\r\nHost: docker\r\nUser-Agent: Docker-Client/24.0.7 "
	    "(linux)\r\nX-Empty:\r\nX-Ows: \t a \t b \t\r\n\r\n";
	struct http_request	*req;

	req = parse_ok(raw, sizeof(raw) - 1, NULL);
	ck_assert_str_eq(req->method, "GET");
	ck_assert_uint_eq(req->targetlen,
	    strlen("/v1.43/containers/json?all=1"));
	ck_assert(memcmp(req->target, "/v1.43/containers/json?all=1",
	    req->targetlen) == 0);
	ck_assert_ptr_eq(req->target, raw + 4);
	ck_assert_int_eq(req->minor, 1);
	ck_assert_uint_eq(req->nfields, 4);
	check_field(req, 0, "Host", "docker");
	check_field(req, 1, "User-Agent", "Docker-Client/24.0.7 (linux)");
	check_field(req, 2, "X-Empty", "");
	check_field(req, 3, "X-Ows", "a \t b");
	ck_assert_ptr_eq(req->fields[0].name, raw + 43);
	ck_assert_int_eq(req->framing, FRAMING_NONE);
	ck_assert_uint_eq(req->length, 0);
	ck_assert_int_eq(req->keepalive, 1);
	ck_assert_int_eq(req->upgrade, 0);
	ck_assert_str_eq(req->upgrade_proto, "");
	ck_assert_int_eq(req->expect_continue, 0);
}
END_TEST

START_TEST(test_http_methods)
{
	/* Any method a rule could name: 1 to 31 upper-case letters. */
	static const char *const m[] = {
		"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS",
		"TRACE", "CONNECT", "FOO", "GETS", "X", "OPTIONSOPTIONSOPTIONS",
		"ABCDEFGHIJKLMNOPQRSTUVWXYZABCDE",
	};
	struct http_request	*req;
	char			 raw[128];
	size_t			 i;
	int			 n;

	for (i = 0; i < nitems(m); i++) {
		n = snprintf(raw, sizeof(raw), "%s /_ping" H11 "\r\n", m[i]);
		req = parse_ok(raw, n, NULL);
		ck_assert_str_eq(req->method, m[i]);
	}
}
END_TEST

START_TEST(test_http_length)
{
	struct http_request	*req;

	req = parse_ok(R("POST /containers/create" H11
	    "Content-Length: 5\r\n\r\n"), NULL);
	ck_assert_int_eq(req->framing, FRAMING_LENGTH);
	ck_assert_uint_eq(req->length, 5);
	/* OWS around the value is not part of it (RFC 9112 5) */
	req = parse_ok(R("POST /" H11 "content-length:\t 5 \r\n\r\n"), NULL);
	ck_assert_int_eq(req->framing, FRAMING_LENGTH);
	ck_assert_uint_eq(req->length, 5);
	req = parse_ok(R("POST /" H11 "Content-Length: 0\r\n\r\n"), NULL);
	ck_assert_int_eq(req->framing, FRAMING_LENGTH);
	ck_assert_uint_eq(req->length, 0);
	req = parse_ok(R("POST /" H11
	    "Content-Length: 999999999999999999\r\n\r\n"), NULL);
	ck_assert_int_eq(req->framing, FRAMING_LENGTH);
	ck_assert(req->length == UINT64_C(999999999999999999));
	req = parse_ok(R("POST / HTTP/1.0\r\nContent-Length: 7\r\n\r\n"),
	    NULL);
	ck_assert_int_eq(req->framing, FRAMING_LENGTH);
	ck_assert_uint_eq(req->length, 7);
	ck_assert_int_eq(req->minor, 0);
}
END_TEST

START_TEST(test_http_chunked)
{
	struct http_request	*req;

	req = parse_ok(R("POST /build" H11
	    "Transfer-Encoding: chunked\r\n\r\n"), NULL);
	ck_assert_int_eq(req->framing, FRAMING_CHUNKED);
	ck_assert_uint_eq(req->length, 0);
	req = parse_ok(R("POST /build" H11
	    "transfer-encoding:  ChUnKeD \t\r\n\r\n"), NULL);
	ck_assert_int_eq(req->framing, FRAMING_CHUNKED);
	req = parse_ok(R("POST /build" H11
	    "Transfer-Encoding:chunked\r\n\r\n"), NULL);
	ck_assert_int_eq(req->framing, FRAMING_CHUNKED);
}
END_TEST

START_TEST(test_http_keepalive)
{
	struct http_request	*req;

	req = parse_ok(R("GET /" H11 "Connection: close\r\n\r\n"), NULL);
	ck_assert_int_eq(req->keepalive, 0);
	req = parse_ok(R("GET /" H11 "Connection: , Close ,,\r\n\r\n"), NULL);
	ck_assert_int_eq(req->keepalive, 0);
	req = parse_ok(R("GET /" H11 "Connection: keep-alive\r\n\r\n"), NULL);
	ck_assert_int_eq(req->keepalive, 1);
	req = parse_ok(R("GET /" H11 "Connection: TE\r\n"
	    "Connection: close\r\n\r\n"), NULL);
	ck_assert_int_eq(req->keepalive, 0);
	req = parse_ok(R("GET / HTTP/1.0\r\n\r\n"), NULL);
	ck_assert_int_eq(req->minor, 0);
	ck_assert_int_eq(req->keepalive, 0);
	ck_assert_uint_eq(req->nfields, 0);
	req = parse_ok(R("GET / HTTP/1.0\r\nHost: a\r\n"
	    "Connection: Keep-Alive\r\n\r\n"), NULL);
	ck_assert_int_eq(req->keepalive, 1);
	req = parse_ok(R("GET / HTTP/1.0\r\n"
	    "Connection: keep-alive, close\r\n\r\n"), NULL);
	ck_assert_int_eq(req->keepalive, 0);
}
END_TEST

START_TEST(test_http_upgrade)
{
	struct http_request	*req;

	req = parse_ok(R("POST /v1.43/containers/abc/attach?stream=1&stdin=1"
	    H11 "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n"), NULL);
	ck_assert_int_eq(req->upgrade, 1);
	ck_assert_str_eq(req->upgrade_proto, "tcp");
	ck_assert_int_eq(req->keepalive, 1);
	req = parse_ok(R("POST /session" H11 "Upgrade: h2c\r\n"
	    "Connection: keep-alive, upgrade\r\n\r\n"), NULL);
	ck_assert_int_eq(req->upgrade, 1);
	ck_assert_str_eq(req->upgrade_proto, "h2c");
	/* 31 characters is the most upgrade_proto holds */
	req = parse_ok(R("POST /" H11 "Connection: Upgrade\r\n"
	    "Upgrade: 0123456789abcdef0123456789abcde\r\n\r\n"), NULL);
	ck_assert_int_eq(req->upgrade, 1);
	ck_assert_str_eq(req->upgrade_proto,
	    "0123456789abcdef0123456789abcde");
	/* Upgrade without the Connection option is not a request for one */
	req = parse_ok(R("POST /" H11 "Upgrade: tcp\r\n\r\n"), NULL);
	ck_assert_int_eq(req->upgrade, 0);
	ck_assert_str_eq(req->upgrade_proto, "");
	req = parse_ok(R("POST /" H11 "Connection: upgrade\r\n\r\n"), NULL);
	ck_assert_int_eq(req->upgrade, 0);
	/* and HTTP/1.0 cannot upgrade (RFC 9110 7.8) */
	req = parse_ok(R("POST / HTTP/1.0\r\nConnection: upgrade\r\n"
	    "Upgrade: tcp\r\n\r\n"), NULL);
	ck_assert_int_eq(req->upgrade, 0);
	ck_assert_str_eq(req->upgrade_proto, "");
}
END_TEST

START_TEST(test_http_expect)
{
	struct http_request	*req;

	req = parse_ok(R("PUT /containers/a/archive?path=/" H11
	    "Expect: 100-Continue\r\nContent-Length: 10\r\n\r\n"), NULL);
	ck_assert_int_eq(req->expect_continue, 1);
	ck_assert_int_eq(req->framing, FRAMING_LENGTH);
	ck_assert_uint_eq(req->length, 10);
	req = parse_ok(R("PUT / HTTP/1.0\r\nExpect: 100-continue\r\n"
	    "Content-Length: 10\r\n\r\n"), NULL);
	ck_assert_int_eq(req->expect_continue, 0);
}
END_TEST

START_TEST(test_http_values)
{
	struct http_request	*req;

	/* obs-text and HTAB are allowed inside a value */
	req = parse_ok(R("GET /" H11 "X-A: caf\xc3\xa9\tb\r\n\r\n"), NULL);
	check_field(req, 1, "X-A", "caf\xc3\xa9\tb");
	/* every tchar in a name */
	req = parse_ok(R("GET /" H11 "!#$%&'*+-.^_`|~09azAZ: v\r\n\r\n"),
	    NULL);
	check_field(req, 1, "!#$%&'*+-.^_`|~09azAZ", "v");
	/* a colon inside the value is data */
	req = parse_ok(R("GET /" H11 "X-A: b: c\r\n\r\n"), NULL);
	check_field(req, 1, "X-A", "b: c");
	/* every visible ASCII byte is left for canon_target() to judge */
	req = parse_ok(R("GET /a%2e%2E/\"<>\\^`{|}#?x=[1] HTTP/1.1\r\n"
	    "Host: a\r\n\r\n"), NULL);
	ck_assert_uint_eq(req->targetlen, 25);
}
END_TEST

START_TEST(test_http_limits)
{
	struct http_request	*req;

	/* exactly at each limit is fine */
	req = parse_ok(R("GET /012345678901234567 HTTP/1.1\r\n"
	    "Host: a\r\n\r\n"), &small);
	ck_assert_uint_eq(req->targetlen, 32 - 13);
	req = parse_ok(R("GET /" H11 "A: 1\r\nB: 2\r\nC: 3\r\n\r\n"), &small);
	ck_assert_uint_eq(req->nfields, 4);
	req = parse_ok(R("GET /" H11 "A: " D90 "0\r\n\r\n"), &small);
	ck_assert_uint_eq(sizeof("GET /" H11 "A: " D90 "0\r\n\r\n") - 1, 128);
	ck_assert_uint_eq(req->nfields, 2);
}
END_TEST

START_TEST(test_http_headers_cap)
{
	static const struct http_limits	 big = { 1 << 20, 8192, 1000 };
	struct http_request		*req;
	const char			*why;
	char				*raw;
	size_t				 len = 0, i;
	int				 status;

	/* headers_max above HTTP_HEADERS_MAX must not overflow fields[] */
	raw = malloc(64 * (HTTP_HEADERS_MAX + 2));
	req = malloc(sizeof(*req));
	ck_assert_ptr_nonnull(raw);
	ck_assert_ptr_nonnull(req);
	len += sprintf(raw, "GET / HTTP/1.1\r\n");
	for (i = 0; i < HTTP_HEADERS_MAX + 1; i++)
		len += sprintf(raw + len, "Host%zu: x\r\n", i);
	len += sprintf(raw + len, "\r\n");
	ck_assert_int_eq(http_parse_request(raw, len, &big, req, &status,
	    &why), -1);
	ck_assert_int_eq(status, 431);
	ck_assert_str_eq(why, "too many header fields");
	free(raw);
	free(req);
}
END_TEST

START_TEST(test_http_error_keeps_request_line)
{
	struct http_request	 req;
	const char		*why;
	int			 status;

	ck_assert_int_eq(http_parse_request(R("DELETE /containers/x"
	    " HTTP/1.1\r\n\r\n"), NULL, &req, &status, &why), -1);
	ck_assert_int_eq(status, 400);
	ck_assert_str_eq(why, "missing Host");
	ck_assert_str_eq(req.method, "DELETE");
	ck_assert_uint_eq(req.targetlen, 13);
	ck_assert(memcmp(req.target, "/containers/x", 13) == 0);
}
END_TEST

struct headlen {
	const char	*buf;
	size_t		 len;
	size_t		 want;
};

static const struct headlen headlens[] = {
	{ R(""), 0 },
	{ R("GET / HTTP/1.1\r\n"), 0 },
	{ R("GET / HTTP/1.1\r\nHost: a\r\n\r"), 0 },
	{ R("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), 27 },
	{ R("GET / HTTP/1.1\r\nHost: a\r\n\r\nbody"), 27 },
	{ R("GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\n\r\n"), 27 },
	{ R("GET / HTTP/1.1\nHost: a\n\n"), 24 },
	{ R("GET / HTTP/1.1\r\nHost: a\n\r\nX"), 26 },
	{ R("GET / HTTP/1.1\r\nHost: a\r\n\nX"), 26 },
	{ R("\r\n\r\n"), 4 },
	{ R("\n\n"), 2 },
	{ R("\n\r\n"), 3 },
	{ R("\r\nGET"), 0 },
	{ R("GET / HTTP/1.1\r\nHost: a\r\r\r\r"), 0 },
	{ R("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), 18 },
};

START_TEST(test_http_head_length)
{
	const struct headlen	*h = &headlens[_i];

	ck_assert_msg(http_head_length(h->buf, h->len) == h->want,
	    "row %d: %zu, want %zu", _i, http_head_length(h->buf, h->len),
	    h->want);
}
END_TEST

START_TEST(test_http_list_has)
{
	ck_assert_int_eq(http_list_has(R("close"), "close"), 1);
	ck_assert_int_eq(http_list_has(R("Keep-Alive, Upgrade"), "upgrade"),
	    1);
	ck_assert_int_eq(http_list_has(R(" a ,\tB\t, c"), "b"), 1);
	ck_assert_int_eq(http_list_has(R(",,x,,"), "x"), 1);
	ck_assert_int_eq(http_list_has(R("upgrades"), "upgrade"), 0);
	ck_assert_int_eq(http_list_has(R("upgrad"), "upgrade"), 0);
	ck_assert_int_eq(http_list_has(R("up grade"), "upgrade"), 0);
	ck_assert_int_eq(http_list_has(R(""), "close"), 0);
	ck_assert_int_eq(http_list_has(R(""), ""), 1);
}
END_TEST

START_TEST(test_http_parse_length)
{
	uint64_t	 n = 42;

	ck_assert_int_eq(http_parse_length(R("0"), &n), 0);
	ck_assert(n == 0);
	ck_assert_int_eq(http_parse_length(R("1234"), &n), 0);
	ck_assert(n == 1234);
	ck_assert_int_eq(http_parse_length(R("999999999999999999"), &n), 0);
	ck_assert(n == UINT64_C(999999999999999999));
	n = 42;
	ck_assert_int_eq(http_parse_length(R(""), &n), -1);
	ck_assert_int_eq(http_parse_length(R("01"), &n), -1);
	ck_assert_int_eq(http_parse_length(R("+1"), &n), -1);
	ck_assert_int_eq(http_parse_length(R("1 "), &n), -1);
	ck_assert_int_eq(http_parse_length(R("1000000000000000000"), &n), -1);
	ck_assert(n == 42);
}
END_TEST

Suite *
http_suite(void)
{
	Suite	*s = suite_create("http");
	TCase	*tc = tcase_create("core");

	tcase_add_loop_test(tc, test_http_reject, 0, nitems(rejects));
	tcase_add_test(tc, test_http_get);
	tcase_add_test(tc, test_http_methods);
	tcase_add_test(tc, test_http_length);
	tcase_add_test(tc, test_http_chunked);
	tcase_add_test(tc, test_http_keepalive);
	tcase_add_test(tc, test_http_upgrade);
	tcase_add_test(tc, test_http_expect);
	tcase_add_test(tc, test_http_values);
	tcase_add_test(tc, test_http_limits);
	tcase_add_test(tc, test_http_headers_cap);
	tcase_add_test(tc, test_http_error_keeps_request_line);
	tcase_add_loop_test(tc, test_http_head_length, 0, nitems(headlens));
	tcase_add_test(tc, test_http_list_has);
	tcase_add_test(tc, test_http_parse_length);
	suite_add_tcase(s, tc);
	return s;
}
