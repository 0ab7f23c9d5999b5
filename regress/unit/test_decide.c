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
 * Unit tests for policy/decide.c: every verdict field, for allowed,
 * denied and bad heads, with the real rules.c and canon.c underneath.
 */

#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "policy.h"

#define R(s)		s, sizeof(s) - 1

static const char rules_text[] =
	"! rules for the decide tests; the index is the line - 2\n"
	"GET,HEAD /_ping\n"				/* 0 */
	"GET /containers/json\n"			/* 1 */
	"GET /info\n"					/* 2 */
	"POST /containers/[a-z0-9]+/attach\n"		/* 3 */
	"POST /session\n"				/* 4 */
	"POST /build\n"					/* 5 */
	"PUT /containers/[a-z0-9]+/archive\n"		/* 6 */
	"GET /containers/[a-z0-9]+/attach/ws\n"		/* 7 */
	"GET /(a+)+b\n"					/* 8 */
	"GET /t/a b\\?c/%IPV6%\n"			/* 9 */
	"FOO /x\n";					/* 10 */

static struct ruleset	*rs;
static struct verdict	 v;

static void
no_error(void *arg, const char *msg)
{
	ck_abort_msg("rules: %s", msg);
}

static void
setup(void)
{
	rs = ruleset_new();
	ck_assert_ptr_nonnull(rs);
	ck_assert_int_eq(ruleset_add_text(rs, "test", rules_text,
	    sizeof(rules_text) - 1, no_error, NULL), 0);
	memset(&v, 0xa5, sizeof(v));	/* decide must set every field */
	v.fields = NULL;
}

static void
teardown(void)
{
	verdict_clear(&v);
	ruleset_free(rs);
}

static void
decide(const char *head, size_t len)
{
	policy_decide(rs, NULL, head, len, &v);
}

static void
check_fields(const char *want)
{
	if (want == NULL) {
		ck_assert_ptr_null(v.fields);
		ck_assert_uint_eq(v.fieldslen, 0);
		return;
	}
	ck_assert_ptr_nonnull(v.fields);
	ck_assert_msg(v.fieldslen == strlen(want) &&
	    memcmp(v.fields, want, v.fieldslen) == 0,
	    "fields \"%.*s\", want \"%s\"", (int)v.fieldslen, v.fields, want);
}

static void
check_allow(int rule, const char *method, const char *path,
    const char *target)
{
	ck_assert_msg(v.kind == VERDICT_ALLOW, "kind %d (%d %s)", v.kind,
	    v.status, v.why);
	ck_assert_int_eq(v.status, 0);
	ck_assert_int_eq(v.rule, rule);
	ck_assert_str_eq(v.method, method);
	ck_assert_str_eq(v.path, path);
	ck_assert_str_eq(v.target, target);
	ck_assert_str_eq(v.why, "");
}

static void
check_refused(enum verdict_kind kind, int status, const char *why,
    const char *method, const char *path)
{
	ck_assert_int_eq(v.kind, kind);
	ck_assert_int_eq(v.status, status);
	ck_assert_int_eq(v.rule, -1);
	ck_assert_str_eq(v.why, why);
	ck_assert_str_eq(v.method, method);
	ck_assert_str_eq(v.path, path);
	ck_assert_int_eq(v.hijack, 0);
	check_fields(NULL);
}

START_TEST(test_decide_allow_get)
{
	decide(R("GET /containers/json?all=1&filters=%7B%7D HTTP/1.1\r\n"
	    "Host: docker\r\nUser-Agent: Docker-Client/24.0.7 (linux)\r\n"
	    "Accept: application/json\r\nAccept-Encoding: gzip\r\n"
	    "Connection: keep-alive\r\nKeep-Alive: 300\r\nTE: trailers\r\n"
	    "Trailer: X-T\r\nProxy-Authorization: Basic eA==\r\n"
	    "Proxy-Connection: keep-alive\r\nAuthorization: Basic eA==\r\n"
	    "Cookie: a=b\r\nX-Forwarded-For: 10.0.0.1\r\nOrigin: http://x\r\n"
	    "X-Meta-Foo: bar\r\n\r\n"));
	check_allow(1, "GET", "/containers/json",
	    "/containers/json?all=1&filters=%7B%7D");
	check_fields("User-Agent: Docker-Client/24.0.7 (linux)\r\n"
	    "Accept: application/json\r\n");
	ck_assert_int_eq(v.framing, FRAMING_NONE);
	ck_assert_uint_eq(v.length, 0);
	ck_assert_int_eq(v.minor, 1);
	ck_assert_int_eq(v.keepalive, 1);
	ck_assert_int_eq(v.hijack, 0);
	ck_assert_str_eq(v.upgrade_proto, "");
	ck_assert_int_eq(v.expect_continue, 0);
}
END_TEST

START_TEST(test_decide_allow_post_body)
{
	/* what Docker reads is kept, as written and in the order received */
	decide(R("POST /build?t=app%3Av1&q=1 HTTP/1.1\r\nHost: docker\r\n"
	    "x-registry-config: e30=\r\nContent-Length: 10\r\n"
	    "Content-Type:application/x-tar\r\nUser-Agent: ua \r\n"
	    "X-Registry-Auth: eyJ9\r\nConnection: close\r\n\r\n"));
	check_allow(5, "POST", "/build", "/build?t=app%3Av1&q=1");
	check_fields("x-registry-config: e30=\r\n"
	    "Content-Type: application/x-tar\r\nUser-Agent: ua\r\n"
	    "X-Registry-Auth: eyJ9\r\n");
	ck_assert_int_eq(v.framing, FRAMING_LENGTH);
	ck_assert_uint_eq(v.length, 10);
	ck_assert_int_eq(v.keepalive, 0);

	verdict_clear(&v);
	decide(R("POST /build HTTP/1.1\r\nHost: docker\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"));
	check_allow(5, "POST", "/build", "/build");
	check_fields(NULL);
	ck_assert_int_eq(v.framing, FRAMING_CHUNKED);
	ck_assert_uint_eq(v.length, 0);
}
END_TEST

START_TEST(test_decide_hijack)
{
	decide(R("POST /containers/abc123/attach?stream=1&stdin=1 HTTP/1.1\r\n"
	    "Host: docker\r\nUser-Agent: Docker-Client/24\r\n"
	    "Content-Type: text/plain\r\nConnection: Upgrade\r\n"
	    "Upgrade: tcp\r\n\r\n"));
	check_allow(3, "POST", "/containers/abc123/attach",
	    "/containers/abc123/attach?stream=1&stdin=1");
	ck_assert_int_eq(v.hijack, 1);
	ck_assert_str_eq(v.upgrade_proto, "tcp");
	check_fields("User-Agent: Docker-Client/24\r\n"
	    "Content-Type: text/plain\r\n");
	ck_assert_int_eq(v.keepalive, 1);

	/* BuildKit's session: repeated fields all go, in order */
	verdict_clear(&v);
	decide(R("POST /session HTTP/1.1\r\nHost: docker\r\nUpgrade: h2c\r\n"
	    "Connection: Upgrade\r\nX-Docker-Expose-Session-Uuid: u1\r\n"
	    "X-Docker-Expose-Session-Name: ctx\r\n"
	    "x-docker-expose-session-sharedkey: k\r\n"
	    "X-Docker-Expose-Session-Grpc-Method: /a.A/B\r\n"
	    "X-Docker-Expose-Session-Grpc-Method: /c.C/D\r\n"
	    "X-Docker-Expose-Session-: bare prefix\r\n\r\n"));
	check_allow(4, "POST", "/session", "/session");
	ck_assert_int_eq(v.hijack, 1);
	ck_assert_str_eq(v.upgrade_proto, "h2c");
	check_fields("X-Docker-Expose-Session-Uuid: u1\r\n"
	    "X-Docker-Expose-Session-Name: ctx\r\n"
	    "x-docker-expose-session-sharedkey: k\r\n"
	    "X-Docker-Expose-Session-Grpc-Method: /a.A/B\r\n"
	    "X-Docker-Expose-Session-Grpc-Method: /c.C/D\r\n");

	/* the websocket attach handshake */
	verdict_clear(&v);
	decide(R("GET /containers/abc/attach/ws?stream=1 HTTP/1.1\r\n"
	    "Host: docker\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	    "Sec-WebSocket-Version: 13\r\nOrigin: http://x\r\n"
	    "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n"));
	check_allow(7, "GET", "/containers/abc/attach/ws",
	    "/containers/abc/attach/ws?stream=1");
	ck_assert_int_eq(v.hijack, 1);
	ck_assert_str_eq(v.upgrade_proto, "websocket");
	check_fields("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	    "Sec-WebSocket-Version: 13\r\n");

	/* no Connection: upgrade, no hijack */
	verdict_clear(&v);
	decide(R("POST /containers/abc/attach HTTP/1.1\r\nHost: docker\r\n"
	    "Upgrade: tcp\r\n\r\n"));
	check_allow(3, "POST", "/containers/abc/attach",
	    "/containers/abc/attach");
	ck_assert_int_eq(v.hijack, 0);
	ck_assert_str_eq(v.upgrade_proto, "");
	check_fields(NULL);
}
END_TEST

START_TEST(test_decide_expect)
{
	decide(R("PUT /containers/abc/archive?path=/tmp HTTP/1.1\r\n"
	    "Host: docker\r\nContent-Type: application/x-tar\r\n"
	    "Expect: 100-continue\r\nContent-Length: 512\r\n\r\n"));
	check_allow(6, "PUT", "/containers/abc/archive",
	    "/containers/abc/archive?path=/tmp");
	ck_assert_int_eq(v.expect_continue, 1);
	check_fields("Content-Type: application/x-tar\r\n"
	    "Expect: 100-continue\r\n");
	ck_assert_int_eq(v.framing, FRAMING_LENGTH);
	ck_assert_uint_eq(v.length, 512);

	/* an HTTP/1.0 client must not get a 100 from Docker */
	verdict_clear(&v);
	decide(R("PUT /containers/abc/archive?path=/tmp HTTP/1.0\r\n"
	    "Expect: 100-continue\r\nContent-Length: 512\r\n\r\n"));
	check_allow(6, "PUT", "/containers/abc/archive",
	    "/containers/abc/archive?path=/tmp");
	ck_assert_int_eq(v.expect_continue, 0);
	ck_assert_int_eq(v.minor, 0);
	ck_assert_int_eq(v.keepalive, 0);
	check_fields(NULL);
}
END_TEST

START_TEST(test_decide_connection_names)
{
	/* a field the client marks hop-by-hop is not forwarded */
	decide(R("GET /info HTTP/1.1\r\nHost: docker\r\nUser-Agent: ua\r\n"
	    "Accept: */*\r\nConnection: keep-alive, user-agent\r\n\r\n"));
	check_allow(2, "GET", "/info", "/info");
	check_fields("Accept: */*\r\n");
	ck_assert_int_eq(v.keepalive, 1);

	verdict_clear(&v);
	decide(R("GET /info HTTP/1.1\r\nHost: docker\r\nUser-Agent: ua\r\n"
	    "Connection: Accept\r\nAccept: */*\r\nConnection: close\r\n\r\n"));
	check_fields("User-Agent: ua\r\n");
	ck_assert_int_eq(v.keepalive, 0);
}
END_TEST

START_TEST(test_decide_dot_segments)
{
	/* %2e%2e is "..": resolved, and the rules see the result */
	decide(R("GET /containers/%2e%2e/info HTTP/1.1\r\nHost: d\r\n\r\n"));
	check_allow(2, "GET", "/info", "/info");

	verdict_clear(&v);
	decide(R("GET /_ping/../containers/./json//?all=1 HTTP/1.1\r\n"
	    "Host: d\r\n\r\n"));
	check_allow(1, "GET", "/containers/json", "/containers/json?all=1");

	/* an allowed prefix does not carry a denied path */
	verdict_clear(&v);
	decide(R("GET /info/%2E%2E/containers/abc/export HTTP/1.1\r\n"
	    "Host: d\r\n\r\n"));
	check_refused(VERDICT_DENY, 403, "no rule allows it", "GET",
	    "/containers/abc/export");
	ck_assert_str_eq(v.target, "/containers/abc/export");

	verdict_clear(&v);
	decide(R("GET /%2e%2e/info HTTP/1.1\r\nHost: d\r\n\r\n"));
	check_refused(VERDICT_BAD, 400, "path escapes the root", "GET", "");
	ck_assert_str_eq(v.target, "");

	verdict_clear(&v);
	decide(R("GET /info%2f..%2f_ping HTTP/1.1\r\nHost: d\r\n\r\n"));
	check_refused(VERDICT_BAD, 400, "encoded slash in path", "GET", "");

	verdict_clear(&v);
	decide(R("GET /info#x HTTP/1.1\r\nHost: d\r\n\r\n"));
	check_refused(VERDICT_BAD, 400, "fragment in request-target", "GET",
	    "");
}
END_TEST

/*
 * The rules see the decoded path; what goes to Docker is its canonical
 * encoding, plus the query as sent.
 */
START_TEST(test_decide_decoded)
{
	decide(R("GET /t/a%20b%3fc/%5B%3a%3A1%5D?q=%20 HTTP/1.1\r\n"
	    "Host: d\r\n\r\n"));
	check_allow(9, "GET", "/t/a b?c/[::1]", "/t/a%20b%3Fc/%5B::1%5D?q=%20");
	verdict_clear(&v);
	decide(R("GET /t/a%20b%3Fc/[::1] HTTP/1.1\r\nHost: d\r\n\r\n"));
	check_allow(9, "GET", "/t/a b?c/[::1]", "/t/a%20b%3Fc/%5B::1%5D");
	/* a 403 carries the decoded path (for the message) and the target */
	verdict_clear(&v);
	decide(R("GET /t/x%20y HTTP/1.1\r\nHost: d\r\n\r\n"));
	check_refused(VERDICT_DENY, 403, "no rule allows it", "GET", "/t/x y");
	ck_assert_str_eq(v.target, "/t/x%20y");
}
END_TEST

/* Any upper-case method is a method; a rule decides, 501 is for tokens. */
START_TEST(test_decide_methods)
{
	decide(R("FOO /x HTTP/1.1\r\nHost: d\r\nContent-Length: 2\r\n\r\n"));
	check_allow(10, "FOO", "/x", "/x");
	ck_assert_int_eq(v.framing, FRAMING_LENGTH);
	ck_assert_uint_eq(v.length, 2);
	verdict_clear(&v);
	decide(R("BAR /x HTTP/1.1\r\nHost: d\r\n\r\n"));
	check_refused(VERDICT_DENY, 403, "no rule allows it", "BAR", "/x");
	verdict_clear(&v);
	decide(R("M-SEARCH /x HTTP/1.1\r\nHost: d\r\n\r\n"));
	check_refused(VERDICT_BAD, 501, "method not implemented", "", "");
}
END_TEST

START_TEST(test_decide_empty_query)
{
	/* "/info?" forwards as "/info": an empty query is no query */
	decide(R("GET /info? HTTP/1.1\r\nHost: d\r\n\r\n"));
	check_allow(2, "GET", "/info", "/info");
	verdict_clear(&v);
	decide(R("HEAD /_ping?x HTTP/1.1\r\nHost: d\r\n\r\n"));
	check_allow(0, "HEAD", "/_ping", "/_ping?x");
}
END_TEST

START_TEST(test_decide_deny)
{
	decide(R("DELETE /containers/abc?force=1 HTTP/1.1\r\nHost: docker\r\n"
	    "User-Agent: ua\r\n\r\n"));
	check_refused(VERDICT_DENY, 403, "no rule allows it", "DELETE",
	    "/containers/abc");
	ck_assert_str_eq(v.target, "/containers/abc?force=1");
	ck_assert_int_eq(v.framing, FRAMING_NONE);
	ck_assert_int_eq(v.keepalive, 1);
	ck_assert_int_eq(v.minor, 1);

	/* the relay needs the framing to skip the body and keep going */
	verdict_clear(&v);
	decide(R("POST /containers/create HTTP/1.1\r\nHost: docker\r\n"
	    "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n"));
	check_refused(VERDICT_DENY, 403, "no rule allows it", "POST",
	    "/containers/create");
	ck_assert_int_eq(v.framing, FRAMING_LENGTH);
	ck_assert_uint_eq(v.length, 2);

	/* an upgrade to a denied path is no hijack */
	verdict_clear(&v);
	decide(R("POST /exec/abc/start HTTP/1.1\r\nHost: docker\r\n"
	    "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n"));
	check_refused(VERDICT_DENY, 403, "no rule allows it", "POST",
	    "/exec/abc/start");
	ck_assert_str_eq(v.upgrade_proto, "tcp");

	/* the method is part of the rule */
	verdict_clear(&v);
	decide(R("POST /info HTTP/1.1\r\nHost: docker\r\n\r\n"));
	check_refused(VERDICT_DENY, 403, "no rule allows it", "POST",
	    "/info");
}
END_TEST

START_TEST(test_decide_limit)
{
	char	 head[256];
	int	 n;

	/* a PCRE2 limit denies: fail closed */
	n = snprintf(head, sizeof(head), "GET /%s HTTP/1.1\r\nHost: d\r\n"
	    "\r\n", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaabc");
	decide(head, n);
	check_refused(VERDICT_DENY, 403, "rule match limit reached", "GET",
	    "/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaabc");
}
END_TEST

START_TEST(test_decide_bad)
{
	/* CL.TE: refused before any rule is consulted */
	decide(R("POST /build HTTP/1.1\r\nHost: docker\r\n"
	    "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"));
	check_refused(VERDICT_BAD, 400,
	    "both Content-Length and Transfer-Encoding", "POST", "/build");
	ck_assert_int_eq(v.keepalive, 0);

	verdict_clear(&v);
	decide(R("POST /build HTTP/1.1\r\nHost: docker\r\n"
	    "Transfer-Encoding: gzip, chunked\r\n\r\n"));
	check_refused(VERDICT_BAD, 501, "unsupported transfer coding",
	    "POST", "/build");

	verdict_clear(&v);
	decide(R("GET /info HTTP/1.1\nHost: docker\n\n"));
	check_refused(VERDICT_BAD, 400, "bare LF in head", "", "");

	verdict_clear(&v);
	decide(R("get /info HTTP/1.1\r\nHost: docker\r\n\r\n"));
	check_refused(VERDICT_BAD, 501, "method not implemented", "", "");

	verdict_clear(&v);
	decide(R("GET http://docker/info HTTP/1.1\r\nHost: docker\r\n\r\n"));
	check_refused(VERDICT_BAD, 400, "absolute-form request-target", "GET",
	    "");

	verdict_clear(&v);
	decide(R("PRI * HTTP/2.0\r\n\r\n"));
	check_refused(VERDICT_BAD, 400, "HTTP/2 connection preface", "", "");

	verdict_clear(&v);
	decide(R("GET /info%2e%2e%2f HTTP/1.1\r\n\r\n"));
	check_refused(VERDICT_BAD, 400, "missing Host", "GET", "");
}
END_TEST

START_TEST(test_decide_no_rules)
{
	policy_decide(NULL, NULL, R("GET /info HTTP/1.1\r\nHost: d\r\n\r\n"),
	    &v);
	check_refused(VERDICT_BAD, 503, "no rules loaded", "GET", "/info");
}
END_TEST

START_TEST(test_decide_limits_passed)
{
	static const struct http_limits	 tiny = { 64, 16, 2 };

	policy_decide(rs, &tiny, R("GET /info HTTP/1.1\r\nHost: d\r\n\r\n"),
	    &v);
	check_refused(VERDICT_BAD, 414, "request line too long", "", "");
}
END_TEST

START_TEST(test_decide_clear)
{
	decide(R("GET /info HTTP/1.1\r\nHost: d\r\nAccept: x\r\n\r\n"));
	check_allow(2, "GET", "/info", "/info");
	ck_assert_ptr_nonnull(v.fields);
	verdict_clear(&v);
	ck_assert_ptr_null(v.fields);
	ck_assert_uint_eq(v.fieldslen, 0);
	verdict_clear(&v);
	ck_assert_ptr_null(v.fields);
}
END_TEST

/* Admission control (issue 12): policy_decide_req(). */
static const char body_rules[] =
	"POST /(v[0-9.]+/)?containers/create\n"		/* 0 */
	"POST /(v[0-9.]+/)?exec/[a-z0-9]+/start\n"		/* 1 */
	"GET /_ping\n";					/* 2 */

static void
body_setup(void)
{
	rs = ruleset_new();
	ck_assert_ptr_nonnull(rs);
	ck_assert_int_eq(ruleset_add_text(rs, "test", body_rules,
	    sizeof(body_rules) - 1, no_error, NULL), 0);
	memset(&v, 0xa5, sizeof(v));
	v.fields = NULL;
}

static struct body_policy	 bp;

static void
req(const char *head, const char *body, int hasbody)
{
	verdict_clear(&v);
	policy_decide_req(rs, NULL, &bp, head, strlen(head), body,
	    body != NULL ? strlen(body) : 0, hasbody, NULL, NULL, &v);
}

#define CREATE(te)	"POST /v1.47/containers/create HTTP/1.1\r\n" \
	"Host: d\r\nContent-Type: application/json\r\n" te "\r\n"

START_TEST(test_decide_body_asked)
{
	memset(&bp, 0, sizeof(bp));
	req(CREATE("Content-Length: 13\r\nExpect: 100-continue\r\n"), NULL,
	    0);
	ck_assert_int_eq(v.kind, VERDICT_BODY);
	ck_assert_int_eq(v.status, 0);
	ck_assert_int_eq(v.rule, 0);
	ck_assert_str_eq(v.target, "/v1.47/containers/create");
	ck_assert_int_eq(v.framing, FRAMING_LENGTH);
	ck_assert_uint_eq(v.length, 13);
	ck_assert_int_eq(v.expect_continue, 1);
	ck_assert_uint_eq(v.body_max, BODY_LIMIT_DEFAULT);
	ck_assert_int_eq(v.hasmac, 0);
	ck_assert_int_eq(v.checked, 0);
	check_fields(NULL);
	ck_assert_int_eq(verdict_check(&v, rs), 1);
	/* limit body */
	bp.limit = 4096;
	req(CREATE("Transfer-Encoding: chunked\r\n"), NULL, 0);
	ck_assert_int_eq(v.kind, VERDICT_BODY);
	ck_assert_int_eq(v.framing, FRAMING_CHUNKED);
	ck_assert_uint_eq(v.body_max, 4096);
	/* No body: checked at once, as an ordinary approval. */
	req(CREATE(""), NULL, 0);
	ck_assert_int_eq(v.kind, VERDICT_ALLOW);
	ck_assert_int_eq(v.checked, 0);
	req(CREATE("Content-Length: 0\r\n"), NULL, 0);
	ck_assert_int_eq(v.kind, VERDICT_ALLOW);
	ck_assert_int_eq(v.checked, 0);
	/* Not an endpoint with a body check: untouched; a body unasked
	 * for is refused. */
	req("GET /_ping HTTP/1.1\r\nHost: d\r\n\r\n", NULL, 0);
	check_allow(2, "GET", "/_ping", "/_ping");
	req("GET /_ping HTTP/1.1\r\nHost: d\r\n\r\n", "{}", 1);
	ck_assert_int_eq(v.kind, VERDICT_BAD);
	ck_assert_int_eq(v.status, 400);
	req(CREATE(""), "{}", 1);
	ck_assert_int_eq(v.kind, VERDICT_BAD);
	/* A rule refusal stays one, body or not. */
	req("POST /containers/abc/kill HTTP/1.1\r\nHost: d\r\n"
	    "Content-Length: 2\r\n\r\n", "{}", 1);
	ck_assert_int_eq(v.kind, VERDICT_DENY);
	ck_assert_int_eq(v.admission, 0);
}
END_TEST

START_TEST(test_decide_body_checked)
{
	static const char body[] = "{\"Image\":\"alpine\"}";
	uint8_t		 sum[VERDICT_SUMLEN];

	memset(&bp, 0, sizeof(bp));
	req(CREATE("Transfer-Encoding: chunked\r\nExpect: 100-continue\r\n"
	    "User-Agent: t\r\n"), body, 1);
	check_allow(0, "POST", "/v1.47/containers/create",
	    "/v1.47/containers/create");
	/* As Docker gets it: a Content-Length, no Expect (answered). */
	ck_assert_int_eq(v.framing, FRAMING_LENGTH);
	ck_assert_uint_eq(v.length, sizeof(body) - 1);
	ck_assert_int_eq(v.expect_continue, 0);
	check_fields("Content-Type: application/json\r\nUser-Agent: t\r\n");
	ck_assert_int_eq(v.checked, 1);
	ck_assert_int_eq(body_sum(body, sizeof(body) - 1, sum), 0);
	ck_assert_mem_eq(v.bodysum, sum, VERDICT_SUMLEN);
	ck_assert_int_eq(verdict_check(&v, rs), 1);
	/* Only Expect went. */
	req(CREATE("Expect: 100-continue\r\nContent-Length: 19\r\n"), body,
	    1);
	check_fields("Content-Type: application/json\r\n");
}
END_TEST

START_TEST(test_decide_body_refused)
{
	memset(&bp, 0, sizeof(bp));
	req(CREATE("Content-Length: 50\r\nConnection: keep-alive\r\n"),
	    "{\"Image\":\"x\",\"HostConfig\":{\"Privileged\":true}}", 1);
	check_refused(VERDICT_DENY, 403, "HostConfig.Privileged=true", "POST",
	    "/v1.47/containers/create");
	ck_assert_int_eq(v.admission, 1);
	ck_assert_int_eq(v.checked, 0);
	ck_assert_int_eq(v.keepalive, 1);
	ck_assert_int_eq(verdict_check(&v, rs), 1);
	/* Not JSON: 400, with where. */
	req(CREATE("Content-Length: 12\r\n"), "{\"Image\":1,}", 1);
	ck_assert_int_eq(v.kind, VERDICT_BAD);
	ck_assert_int_eq(v.status, 400);
	ck_assert_msg(strncmp(v.why, "request body is not valid JSON: ",
	    32) == 0 && strstr(v.why, " at byte ") != NULL, "why %s", v.why);
	ck_assert_int_eq(verdict_check(&v, rs), 1);
	/* Over the limit: 413 (the relay says so before it asks). */
	bp.limit = BODY_LIMIT_MIN;
	{
		char	 big[BODY_LIMIT_MIN + 16];

		memset(big, ' ', sizeof(big) - 1);
		big[0] = '{';
		big[sizeof(big) - 2] = '}';
		big[sizeof(big) - 1] = '\0';
		req(CREATE("Content-Length: 1040\r\n"), big, 1);
	}
	ck_assert_int_eq(v.kind, VERDICT_BAD);
	ck_assert_int_eq(v.status, 413);
}
END_TEST

/* exec start: a body and an upgrade; the upgrade is carried through. */
START_TEST(test_decide_body_upgrade)
{
	static const char head[] = "POST /v1.47/exec/abc/start HTTP/1.1\r\n"
	    "Host: d\r\nContent-Type: application/json\r\n"
	    "Connection: Upgrade\r\nUpgrade: tcp\r\n"
	    "Content-Length: 27\r\n\r\n";

	memset(&bp, 0, sizeof(bp));
	req(head, NULL, 0);
	ck_assert_int_eq(v.kind, VERDICT_BODY);
	ck_assert_int_eq(v.hijack, 1);
	ck_assert_str_eq(v.upgrade_proto, "tcp");
	ck_assert_int_eq(verdict_check(&v, rs), 1);
	req(head, "{\"Detach\":false,\"Tty\":true}", 1);
	ck_assert_int_eq(v.kind, VERDICT_ALLOW);
	ck_assert_int_eq(v.hijack, 1);
	ck_assert_int_eq(v.checked, 1);
	ck_assert_int_eq(verdict_check(&v, rs), 1);
}
END_TEST

Suite *
decide_suite(void)
{
	Suite	*s = suite_create("decide");
	TCase	*tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_decide_allow_get);
	tcase_add_test(tc, test_decide_decoded);
	tcase_add_test(tc, test_decide_methods);
	tcase_add_test(tc, test_decide_allow_post_body);
	tcase_add_test(tc, test_decide_hijack);
	tcase_add_test(tc, test_decide_expect);
	tcase_add_test(tc, test_decide_connection_names);
	tcase_add_test(tc, test_decide_dot_segments);
	tcase_add_test(tc, test_decide_empty_query);
	tcase_add_test(tc, test_decide_deny);
	tcase_add_test(tc, test_decide_limit);
	tcase_add_test(tc, test_decide_bad);
	tcase_add_test(tc, test_decide_no_rules);
	tcase_add_test(tc, test_decide_limits_passed);
	tcase_add_test(tc, test_decide_clear);
	suite_add_tcase(s, tc);
	tc = tcase_create("body");
	tcase_add_checked_fixture(tc, body_setup, teardown);
	tcase_add_test(tc, test_decide_body_asked);
	tcase_add_test(tc, test_decide_body_checked);
	tcase_add_test(tc, test_decide_body_refused);
	tcase_add_test(tc, test_decide_body_upgrade);
	suite_add_tcase(s, tc);
	return s;
}
