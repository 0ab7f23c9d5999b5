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
 * Unit tests for policy/response.c, with the heads Docker really writes
 * (net/http, and moby's hand-written hijack answers).
 */

#include <string.h>

#include "unit.h"
#include "policy.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))
#define R(s)		s, sizeof(s) - 1

struct resp_case {
	const char		*raw;
	size_t			 len;
	int			 head_request;
	int			 status;
	int			 minor;
	enum resp_framing	 framing;
	uint64_t		 length;
	int			 close;
	int			 raw_stream;
	int			 upgrade;
};

static const struct resp_case cases[] = {
	/* net/http with a JSON body */
	{ R("HTTP/1.1 200 OK\r\nApi-Version: 1.43\r\n"
	    "Content-Type: application/json\r\nDocker-Experimental: false\r\n"
	    "Ostype: linux\r\nServer: Docker/24.0.7 (linux)\r\n"
	    "Date: Mon, 01 Jan 2024 00:00:00 GMT\r\nContent-Length: 2\r\n\r\n"),
	    0, 200, 1, RESP_LENGTH, 2, 0, 0, 0 },
	/* streamed (events, pull progress) */
	{ R("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"),
	    0, 200, 1, RESP_CHUNKED, 0, 0, 0, 0 },
	{ R("HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked \r\n\r\n"),
	    0, 200, 1, RESP_CHUNKED, 0, 0, 0, 0 },
	/* logs: multiplexed, but framed: not a hijack */
	{ R("HTTP/1.1 200 OK\r\n"
	    "Content-Type: application/vnd.docker.multiplexed-stream\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"),
	    0, 200, 1, RESP_CHUNKED, 0, 0, 1, 0 },
	/* attach/exec start without Upgrade: moby hijacks and writes this */
	{ R("HTTP/1.1 200 OK\r\n"
	    "Content-Type: application/vnd.docker.raw-stream\r\n\r\n"),
	    0, 200, 1, RESP_EOF, 0, 1, 1, 0 },
	/* attach with Upgrade: tcp */
	{ R("HTTP/1.1 101 UPGRADED\r\n"
	    "Content-Type: application/vnd.docker.multiplexed-stream\r\n"
	    "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n"),
	    0, 101, 1, RESP_NONE, 0, 0, 1, 1 },
	/* /session, /grpc */
	{ R("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
	    "Upgrade: h2c\r\n\r\n"),
	    0, 101, 1, RESP_NONE, 0, 0, 0, 1 },
	{ R("HTTP/1.1 200 OK\r\n"
	    "Content-Type: Application/Vnd.Docker.Raw-Stream; x=1\r\n\r\n"),
	    0, 200, 1, RESP_EOF, 0, 1, 1, 0 },
	{ R("HTTP/1.1 200 OK\r\n"
	    "Content-Type: application/vnd.docker.raw-streams\r\n\r\n"),
	    0, 200, 1, RESP_EOF, 0, 1, 0, 0 },
	/* attach error after the hijack: body until close */
	{ R("HTTP/1.1 404 Not Found\r\n"
	    "Content-Type: application/vnd.docker.raw-stream\r\n\r\n"),
	    0, 404, 1, RESP_EOF, 0, 1, 1, 0 },
	/* no body, whatever the fields say */
	{ R("HTTP/1.1 204 No Content\r\nDate: x\r\n\r\n"),
	    0, 204, 1, RESP_NONE, 0, 0, 0, 0 },
	{ R("HTTP/1.1 304 Not Modified\r\nContent-Length: 20\r\n\r\n"),
	    0, 304, 1, RESP_NONE, 0, 0, 0, 0 },
	{ R("HTTP/1.1 100 Continue\r\n\r\n"),
	    0, 100, 1, RESP_NONE, 0, 0, 0, 0 },
	{ R("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n"),
	    1, 200, 1, RESP_NONE, 0, 0, 0, 0 },
	{ R("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"),
	    1, 200, 1, RESP_NONE, 0, 0, 0, 0 },
	{ R("HTTP/1.1 200 OK\r\n\r\n"),
	    1, 200, 1, RESP_NONE, 0, 0, 0, 0 },
	/* connection reuse */
	{ R("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n"
	    "\r\n"), 0, 200, 1, RESP_LENGTH, 0, 1, 0, 0 },
	{ R("HTTP/1.1 400 Bad Request\r\nConnection: keep-alive, Close\r\n"
	    "Content-Length: 3\r\n\r\n"), 0, 400, 1, RESP_LENGTH, 3, 1, 0,
	    0 },
	{ R("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"),
	    0, 200, 0, RESP_LENGTH, 0, 1, 0, 0 },
	{ R("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n"
	    "Content-Length: 0\r\n\r\n"), 0, 200, 0, RESP_LENGTH, 0, 0, 0,
	    0 },
	{ R("HTTP/1.1 500 Internal Server Error\r\n\r\n"),
	    0, 500, 1, RESP_EOF, 0, 1, 0, 0 },
	/* an empty or missing reason phrase */
	{ R("HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n"),
	    0, 200, 1, RESP_LENGTH, 0, 0, 0, 0 },
	{ R("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n"),
	    0, 200, 1, RESP_LENGTH, 0, 0, 0, 0 },
	{ R("HTTP/1.1 200 OK\r\nContent-Length: 999999999999999999\r\n\r\n"),
	    0, 200, 1, RESP_LENGTH, UINT64_C(999999999999999999), 0, 0,
	    0 },
};

/* Heads that cannot be framed or are garbage: -1. */
struct resp_bad {
	const char	*raw;
	size_t		 len;
	int		 head_request;
};

static const struct resp_bad bad[] = {
	/* what cannot be framed */
	{ R("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"), 0 },
	{ R("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
	    "Content-Length: 2\r\n\r\n"), 0 },
	{ R("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"), 0 },
	{ R("HTTP/1.1 200 OK\r\nContent-Length: 02\r\n\r\n"), 0 },
	{ R("HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\n"), 0 },
	{ R("HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n"), 0 },
	{ R("HTTP/1.1 200 OK\r\nContent-Length: 1000000000000000000\r\n"
	    "\r\n"), 0 },
	{ R("HTTP/1.1 204 No Content\r\nContent-Length: x\r\n\r\n"), 1 },
	{ R("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"), 0 },
	{ R("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"), 0 },
	/* garbage */
	{ R(""), 0 },
	{ R("\r\n\r\n"), 0 },
	{ R("HTTP/1.1 200 OK\r\n"), 0 },
	{ R("HTTP/1.1 200 OK\n\n"), 0 },
	{ R("HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n"), 0 },
	{ R("HTTP/1.1 200 OK\r\nX: a\0b\r\n\r\n"), 0 },
	{ R("HTTP/1.1 200 OK\r\n\r\nHTTP/1.1 200 OK\r\n\r\n"), 0 },
	{ R("HTTP/1.1 200 OK\r\n folded\r\n\r\n"), 0 },
	{ R("HTTP/1.1 200 OK\r\nX : a\r\n\r\n"), 0 },
	{ R("HTTP/1.1 200 OK\r\nno colon\r\n\r\n"), 0 },
	{ R("HTTP/1.1 200 OK\r\n: a\r\n\r\n"), 0 },
	{ R("HTTP/2.0 200 OK\r\n\r\n"), 0 },
	{ R("HTTP/1.2 200 OK\r\n\r\n"), 0 },
	{ R("http/1.1 200 OK\r\n\r\n"), 0 },
	{ R("HTTP/1.1  200 OK\r\n\r\n"), 0 },
	{ R("HTTP/1.1 20 OK\r\n\r\n"), 0 },
	{ R("HTTP/1.1 2000 OK\r\n\r\n"), 0 },
	{ R("HTTP/1.1 099 OK\r\n\r\n"), 0 },
	{ R("HTTP/1.1 600 OK\r\n\r\n"), 0 },
	{ R("HTTP/1.1 2x0 OK\r\n\r\n"), 0 },
	{ R("HTTP/1.1 200OK\r\n\r\n"), 0 },
};

START_TEST(test_response)
{
	const struct resp_case	*c = &cases[_i];
	struct http_response	 r;
	int			 rv;

	rv = http_parse_response(c->raw, c->len, c->head_request, &r);
	ck_assert_msg(rv == 0, "row %d refused", _i);
	ck_assert_msg(r.status == c->status, "row %d status %d", _i,
	    r.status);
	ck_assert_msg(r.minor == c->minor, "row %d minor %d", _i, r.minor);
	ck_assert_msg(r.framing == c->framing, "row %d framing %d", _i,
	    r.framing);
	ck_assert_msg(r.length == c->length, "row %d length %llu", _i,
	    (unsigned long long)r.length);
	ck_assert_msg(r.close == c->close, "row %d close %d", _i, r.close);
	ck_assert_msg(r.raw_stream == c->raw_stream, "row %d raw_stream %d",
	    _i, r.raw_stream);
	ck_assert_msg(r.upgrade == c->upgrade, "row %d upgrade %d", _i,
	    r.upgrade);
}
END_TEST

START_TEST(test_response_bad)
{
	const struct resp_bad	*b = &bad[_i];
	struct http_response	 r;

	ck_assert_msg(http_parse_response(b->raw, b->len, b->head_request,
	    &r) == -1, "row %d accepted", _i);
}
END_TEST

Suite *
response_suite(void)
{
	Suite	*s = suite_create("response");
	TCase	*tc = tcase_create("core");

	tcase_add_loop_test(tc, test_response, 0, nitems(cases));
	tcase_add_loop_test(tc, test_response_bad, 0, nitems(bad));
	suite_add_tcase(s, tc);
	return s;
}
