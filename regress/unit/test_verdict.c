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
 * Unit tests for policy/verdict.c: the codec, and verdict_check(), the
 * relay's re-check of what a (possibly lying) policy worker sends.
 * Every verdict policy_decide() makes passes; each reject case takes an
 * honest verdict and changes one thing a hostile worker could.
 */

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "moatd.h"

static const char rules_text[] =
	"GET,HEAD /_ping\n"					/* 0 */
	"GET /(v[0-9.]+/)?containers/json\n"			/* 1 */
	"POST /(v[0-9.]+/)?containers/[a-z0-9-]+/(start|stop)\n" /* 2 */
	"POST /containers/[a-z0-9]+/attach\n"			/* 3 */
	"PUT /containers/[a-z0-9]+/archive\n"			/* 4 */
	"GET /t/a b\n"						/* 5 */
	"POST /v1[.]47/containers/create\n";			/* 6 */

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
	memset(&v, 0, sizeof(v));
}

static void
teardown(void)
{
	verdict_clear(&v);
	ruleset_free(rs);
}

static void
decide(const char *head)
{
	verdict_clear(&v);
	policy_decide(rs, NULL, head, strlen(head), &v);
}

/* Replace the fields by a copy of s (a hostile worker's). */
static void
set_fields(const char *s, size_t len)
{
	verdict_clear(&v);
	if (len == 0)
		return;
	v.fields = malloc(len);
	ck_assert_ptr_nonnull(v.fields);
	memcpy(v.fields, s, len);
	v.fieldslen = len;
}

#define FIELDS(s)	set_fields(s, sizeof(s) - 1)

/* Honest heads: allow, deny and bad, each kind of framing and upgrade. */
static const struct {
	const char	*head;
	enum verdict_kind kind;
} accepted[] = {
	{ "GET /_ping HTTP/1.1\r\nHost: d\r\n\r\n", VERDICT_ALLOW },
	{ "HEAD /_ping HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
	    VERDICT_ALLOW },
	{ "GET /v1.43/containers/json?all=1&filters=%7B%7D HTTP/1.1\r\n"
	    "Host: d\r\nAccept: application/json\r\nUser-Agent: x/1\r\n\r\n",
	    VERDICT_ALLOW },
	{ "POST /containers/web%2d1/start HTTP/1.1\r\nHost: d\r\n"
	    "Content-Length: 2\r\nContent-Type: application/json\r\n"
	    "Expect: 100-continue\r\n\r\n", VERDICT_ALLOW },
	{ "POST /containers/abc/attach?stream=1 HTTP/1.1\r\nHost: d\r\n"
	    "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n", VERDICT_ALLOW },
	{ "PUT /containers/abc/archive?path=/ HTTP/1.1\r\nHost: d\r\n"
	    "Transfer-Encoding: chunked\r\nX-Registry-Auth: e30=\r\n\r\n",
	    VERDICT_ALLOW },
	{ "GET /t/a%20b HTTP/1.1\r\nHost: d\r\n\r\n", VERDICT_ALLOW },
	{ "POST /containers/create HTTP/1.1\r\nHost: d\r\n"
	    "Content-Length: 7\r\n\r\n", VERDICT_DENY },
	{ "GET /containers/abc/attach HTTP/1.1\r\nHost: d\r\n"
	    "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n", VERDICT_DENY },
	{ "DELETE /x%20y HTTP/1.0\r\n\r\n", VERDICT_DENY },
	{ "GET /a/../.. HTTP/1.1\r\nHost: d\r\n\r\n", VERDICT_BAD },
	{ "get / HTTP/1.1\r\nHost: d\r\n\r\n", VERDICT_BAD },
	{ "GET / HTTP/1.1\r\n\r\n", VERDICT_BAD },
	{ "GET / HTTP/1.1\r\nHost: d\r\nExpect: nope\r\n\r\n", VERDICT_BAD },
	{ "GET / HTTP/2.0\r\nHost: d\r\n\r\n", VERDICT_BAD },
	{ "POST /containers/abc/attach HTTP/1.1\r\nHost: d\r\n"
	    "Connection: Upgrade\r\nUpgrade: a\"b\r\n\r\n", VERDICT_BAD },
};

START_TEST(test_verdict_accept)
{
	decide(accepted[_i].head);
	ck_assert_msg(v.kind == accepted[_i].kind, "case %d: kind %d", _i,
	    v.kind);
	ck_assert_msg(verdict_check(&v, rs) == 1, "case %d refused", _i);
}
END_TEST

/* One change a hostile worker could make to an honest verdict. */
struct reject {
	const char	*name;
	const char	*head;		/* the honest verdict */
	void		(*lie)(void);
};

static const char get_ps[] =
	"GET /containers/json HTTP/1.1\r\nHost: d\r\nAccept: */*\r\n\r\n";
static const char post_start[] =
	"POST /containers/abc/start HTTP/1.1\r\nHost: d\r\n"
	"Content-Length: 2\r\n\r\n";
static const char attach[] =
	"POST /containers/abc/attach HTTP/1.1\r\nHost: d\r\n"
	"Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n";
static const char denied[] =
	"POST /containers/create HTTP/1.1\r\nHost: d\r\n\r\n";
static const char bad[] = "GET /a/../.. HTTP/1.1\r\nHost: d\r\n\r\n";
static const char bad_cl[] =
	"POST /a/../.. HTTP/1.1\r\nHost: d\r\nContent-Length: 5\r\n\r\n";

static void lie_method_lower(void) { strlcpy(v.method, "get", sizeof(v.method)); }
static void lie_method_empty(void) { v.method[0] = '\0'; }
static void lie_method_crlf(void) { strlcpy(v.method, "GET\r\nX", sizeof(v.method)); }
static void lie_method_space(void) { strlcpy(v.method, "GET /a", sizeof(v.method)); }
static void lie_method_other(void) { strlcpy(v.method, "DELETE", sizeof(v.method)); }
static void lie_target_raw(void) { strlcpy(v.target, "/containers/%6Ason", sizeof(v.target)); }
static void lie_target_other(void) { strlcpy(v.target, "/containers/create", sizeof(v.target)); }
static void lie_target_dotdot(void) { strlcpy(v.target, "/containers/json/../../x", sizeof(v.target)); }
static void lie_target_crlf(void) { strlcpy(v.target, "/containers/json\r\nX: y", sizeof(v.target)); }
static void lie_target_space(void) { strlcpy(v.target, "/containers/json HTTP/1.0\r\n", sizeof(v.target)); }
static void lie_target_frag(void) { strlcpy(v.target, "/containers/json#x", sizeof(v.target)); }
static void lie_target_query_ctl(void) { strlcpy(v.target, "/containers/json?a=%0d%0a", sizeof(v.target)); }
static void lie_path_other(void) { strlcpy(v.path, "/containers/create", sizeof(v.path)); }
static void lie_path_both(void) {
	strlcpy(v.path, "/containers/create", sizeof(v.path));
	strlcpy(v.target, "/containers/create", sizeof(v.target));
}
static void lie_path_nul(void) { memset(v.path, 'a', sizeof(v.path)); }
static void lie_rule_range(void) { v.rule = (int)rs->nrules; }
static void lie_rule_big(void) { v.rule = INT_MAX; }
static void lie_rule_none(void) { v.rule = -1; }
static void lie_rule_wrong(void) { v.rule = 0; }	/* /_ping */
static void lie_rule_method(void) { v.rule = 2; }	/* POST ... */
static void lie_status(void) { v.status = 200; }
static void lie_kind(void) { v.kind = 0; }
static void lie_kind_big(void) { v.kind = 5; }
static void lie_fields_host(void) { FIELDS("Host: evil\r\n"); }
static void lie_fields_cl(void) { FIELDS("Accept: */*\r\ncontent-length: 0\r\n"); }
static void lie_fields_te(void) { FIELDS("Transfer-Encoding: chunked\r\n"); }
static void lie_fields_conn(void) { FIELDS("Connection: keep-alive\r\n"); }
static void lie_fields_upgrade(void) { FIELDS("UPGRADE: tcp\r\n"); }
static void lie_fields_ka(void) { FIELDS("Keep-Alive: 5\r\n"); }
static void lie_fields_te2(void) { FIELDS("TE: trailers\r\n"); }
static void lie_fields_trailer(void) { FIELDS("Trailer: X\r\n"); }
static void lie_fields_proxy(void) { FIELDS("Proxy-Connection: close\r\n"); }
static void lie_fields_expect(void) { FIELDS("Expect: 100-continue\r\n"); }
static void lie_fields_lf(void) { FIELDS("Accept: a\nHost: b\r\n"); }
static void lie_fields_cr(void) { FIELDS("Accept: a\rHost: b\r\n"); }
static void lie_fields_crlf_end(void) { FIELDS("Accept: a\r\n\r\nGET / HTTP/1.1\r\n"); }
static void lie_fields_noend(void) { FIELDS("Accept: a"); }
static void lie_fields_nocolon(void) { FIELDS("Accept a\r\n"); }
static void lie_fields_noname(void) { FIELDS(": a\r\n"); }
static void lie_fields_space(void) { FIELDS("Accept : a\r\n"); }
static void lie_fields_nul(void) { FIELDS("Accept: a\0b\r\n"); }
static void lie_fields_del(void) { FIELDS("Accept: a\x7f\r\n"); }
static void lie_fields_len(void) { v.fieldslen = 0; }
static void lie_fields_null(void) { v.fields = NULL; }
static void lie_framing(void) { v.framing = 7; }
static void lie_length_none(void) { v.framing = FRAMING_NONE; }
static void lie_length_chunked(void) { v.framing = FRAMING_CHUNKED; }
static void lie_length_huge(void) { v.length = 1000000000000000000ULL; }
static void lie_chunked_10(void) {
	v.framing = FRAMING_CHUNKED;
	v.length = 0;
	v.minor = 0;
}
static void lie_minor(void) { v.minor = 2; }
static void lie_hijack(void) { v.hijack = 1; }
static void lie_hijack_proto(void) { v.upgrade_proto[0] = '\0'; }
static void lie_proto_crlf(void) { strlcpy(v.upgrade_proto, "tcp\r\nX: y", sizeof(v.upgrade_proto)); }
static void lie_proto_space(void) { strlcpy(v.upgrade_proto, "tcp x", sizeof(v.upgrade_proto)); }
static void lie_proto_slash(void) { strlcpy(v.upgrade_proto, "h2c/1", sizeof(v.upgrade_proto)); }
static void lie_proto_nohijack(void) { v.hijack = 0; }
static void lie_hijack_10(void) { v.minor = 0; }
static void lie_expect_10(void) { v.expect_continue = 1; v.minor = 0; }
static void lie_why_crlf(void) { strlcpy(v.why, "x\r\nmoatd: fake", sizeof(v.why)); }
static void lie_why_nul(void) { memset(v.why, 'a', sizeof(v.why)); }
/* refusals */
static void lie_deny_status(void) { v.status = 404; }
static void lie_deny_200(void) { v.status = 200; }
static void lie_deny_rule(void) { v.rule = 1; }
static void lie_deny_fields(void) { FIELDS("Accept: */*\r\n"); }
static void lie_deny_hijack(void) { v.hijack = 1; strlcpy(v.upgrade_proto, "tcp", sizeof(v.upgrade_proto)); }
static void lie_deny_method(void) { strlcpy(v.method, "POST\r\n", sizeof(v.method)); }
static void lie_deny_target(void) { strlcpy(v.target, "/x", sizeof(v.target)); }
static void lie_deny_proto(void) { strlcpy(v.upgrade_proto, "a\r\n", sizeof(v.upgrade_proto)); }
static void lie_bad_0(void) { v.status = 0; }
static void lie_bad_101(void) { v.status = 101; }
static void lie_bad_200(void) { v.status = 200; }
static void lie_bad_302(void) { v.status = 302; }
static void lie_bad_399(void) { v.status = 399; }
static void lie_bad_600(void) { v.status = 600; }
static void lie_bad_neg(void) { v.status = -400; }
static void lie_bad_keep(void) { v.keepalive = 1; }
static void lie_bad_rule(void) { v.rule = 0; }
static void lie_bad_fields(void) { FIELDS("Accept: */*\r\n"); }
static void lie_bad_hijack(void) { v.hijack = 1; strlcpy(v.upgrade_proto, "tcp", sizeof(v.upgrade_proto)); }
static void lie_bad_method(void) { strlcpy(v.method, "G\nET", sizeof(v.method)); }
static void lie_bad_path(void) { strlcpy(v.path, "/a\r\nb", sizeof(v.path)); }
static void lie_bad_path_rel(void) { strlcpy(v.path, "a", sizeof(v.path)); }
static void lie_bad_why(void) { strlcpy(v.why, "\x1b[2J", sizeof(v.why)); }

static const struct reject rejected[] = {
	{ "method lower case", get_ps, lie_method_lower },
	{ "method empty", get_ps, lie_method_empty },
	{ "method CRLF", get_ps, lie_method_crlf },
	{ "method space", get_ps, lie_method_space },
	{ "method not in rule", get_ps, lie_method_other },
	{ "target not canonical", get_ps, lie_target_raw },
	{ "target another path", get_ps, lie_target_other },
	{ "target dot segments", get_ps, lie_target_dotdot },
	{ "target CRLF", get_ps, lie_target_crlf },
	{ "target space", get_ps, lie_target_space },
	{ "target fragment", get_ps, lie_target_frag },
	{ "target query CTL", get_ps, lie_target_query_ctl },
	{ "path another", get_ps, lie_path_other },
	{ "path and target another", get_ps, lie_path_both },
	{ "path unterminated", get_ps, lie_path_nul },
	{ "rule out of range", get_ps, lie_rule_range },
	{ "rule INT_MAX", get_ps, lie_rule_big },
	{ "rule -1", get_ps, lie_rule_none },
	{ "rule does not match", get_ps, lie_rule_wrong },
	{ "rule other method", get_ps, lie_rule_method },
	{ "allow status", get_ps, lie_status },
	{ "kind 0", get_ps, lie_kind },
	{ "kind 5", get_ps, lie_kind_big },
	{ "fields Host", get_ps, lie_fields_host },
	{ "fields Content-Length", get_ps, lie_fields_cl },
	{ "fields Transfer-Encoding", get_ps, lie_fields_te },
	{ "fields Connection", get_ps, lie_fields_conn },
	{ "fields Upgrade", get_ps, lie_fields_upgrade },
	{ "fields Keep-Alive", get_ps, lie_fields_ka },
	{ "fields TE", get_ps, lie_fields_te2 },
	{ "fields Trailer", get_ps, lie_fields_trailer },
	{ "fields Proxy-Connection", get_ps, lie_fields_proxy },
	{ "fields Expect unasked", get_ps, lie_fields_expect },
	{ "fields bare LF", get_ps, lie_fields_lf },
	{ "fields bare CR", get_ps, lie_fields_cr },
	{ "fields empty line", get_ps, lie_fields_crlf_end },
	{ "fields no CRLF", get_ps, lie_fields_noend },
	{ "fields no colon", get_ps, lie_fields_nocolon },
	{ "fields no name", get_ps, lie_fields_noname },
	{ "fields space in name", get_ps, lie_fields_space },
	{ "fields NUL", get_ps, lie_fields_nul },
	{ "fields DEL", get_ps, lie_fields_del },
	{ "fields length 0", get_ps, lie_fields_len },
	{ "fields NULL", get_ps, lie_fields_null },
	{ "framing unknown", post_start, lie_framing },
	{ "length without Content-Length", post_start, lie_length_none },
	{ "length with chunked", post_start, lie_length_chunked },
	{ "length 19 digits", post_start, lie_length_huge },
	{ "chunked on HTTP/1.0", post_start, lie_chunked_10 },
	{ "minor 2", get_ps, lie_minor },
	{ "hijack unasked", get_ps, lie_hijack },
	{ "hijack no proto", attach, lie_hijack_proto },
	{ "upgrade proto CRLF", attach, lie_proto_crlf },
	{ "upgrade proto space", attach, lie_proto_space },
	{ "upgrade proto slash", attach, lie_proto_slash },
	{ "upgrade proto without hijack", attach, lie_proto_nohijack },
	{ "hijack on HTTP/1.0", attach, lie_hijack_10 },
	{ "expect on HTTP/1.0", get_ps, lie_expect_10 },
	{ "why CRLF", get_ps, lie_why_crlf },
	{ "why unterminated", get_ps, lie_why_nul },
	{ "deny status 404", denied, lie_deny_status },
	{ "deny status 200", denied, lie_deny_200 },
	{ "deny with a rule", denied, lie_deny_rule },
	{ "deny with fields", denied, lie_deny_fields },
	{ "deny with hijack", denied, lie_deny_hijack },
	{ "deny method CRLF", denied, lie_deny_method },
	{ "deny target", denied, lie_deny_target },
	{ "deny upgrade proto CRLF", denied, lie_deny_proto },
	{ "deny why CRLF", denied, lie_why_crlf },
	{ "bad status 0", bad, lie_bad_0 },
	{ "bad status 101", bad, lie_bad_101 },
	{ "bad status 200", bad, lie_bad_200 },
	{ "bad status 302", bad, lie_bad_302 },
	{ "bad status 399", bad, lie_bad_399 },
	{ "bad status 600", bad, lie_bad_600 },
	{ "bad status negative", bad, lie_bad_neg },
	{ "bad keep-alive", bad, lie_bad_keep },
	{ "bad with a rule", bad, lie_bad_rule },
	{ "bad with fields", bad, lie_bad_fields },
	{ "bad with hijack", bad, lie_bad_hijack },
	{ "bad method LF", bad, lie_bad_method },
	{ "bad path CRLF", bad, lie_bad_path },
	{ "bad path relative", bad, lie_bad_path_rel },
	{ "bad why ESC", bad, lie_bad_why },
	{ "bad length without Content-Length", bad_cl, lie_length_none },
};

START_TEST(test_verdict_reject)
{
	const struct reject	*c = &rejected[_i];

	decide(c->head);
	/* The honest verdict passes; the lie does not. */
	ck_assert_msg(verdict_check(&v, rs) == 1, "%s: honest refused",
	    c->name);
	c->lie();
	ck_assert_msg(verdict_check(&v, rs) == 0, "%s: accepted", c->name);
}
END_TEST

START_TEST(test_verdict_bad_framing)
{
	decide(bad_cl);
	ck_assert_int_eq(v.kind, VERDICT_BAD);
	ck_assert_int_eq(v.framing, FRAMING_LENGTH);
	ck_assert_int_eq(verdict_check(&v, rs), 1);
	v.framing = FRAMING_NONE;
	ck_assert_int_eq(verdict_check(&v, rs), 0);
}
END_TEST

/* Without rules nothing is allowed; a refusal still passes. */
START_TEST(test_verdict_no_rules)
{
	decide(get_ps);
	ck_assert_int_eq(verdict_check(&v, rs), 1);
	ck_assert_int_eq(verdict_check(&v, NULL), 0);
	decide(denied);
	ck_assert_int_eq(verdict_check(&v, NULL), 1);
}
END_TEST

/* Every honest verdict survives the wire and passes on the other side. */
START_TEST(test_verdict_roundtrip)
{
	struct verdict	 w;
	struct mbuf	 m, rd;

	decide(accepted[_i].head);
	mbuf_init(&m);
	ck_assert_int_eq(verdict_encode(&v, &m), 0);
	mbuf_reader(&rd, m.buf, m.len);
	ck_assert_int_eq(verdict_decode(&rd, &w), 0);
	mbuf_free(&m);
	ck_assert_int_eq(w.kind, v.kind);
	ck_assert_int_eq(w.status, v.status);
	ck_assert_int_eq(w.rule, v.rule);
	ck_assert_str_eq(w.method, v.method);
	ck_assert_str_eq(w.path, v.path);
	ck_assert_str_eq(w.target, v.target);
	ck_assert_uint_eq(w.fieldslen, v.fieldslen);
	ck_assert(w.fieldslen == 0 ||
	    memcmp(w.fields, v.fields, w.fieldslen) == 0);
	ck_assert_int_eq(w.framing, v.framing);
	ck_assert_uint_eq(w.length, v.length);
	ck_assert_int_eq(w.hijack, v.hijack);
	ck_assert_str_eq(w.upgrade_proto, v.upgrade_proto);
	ck_assert_int_eq(verdict_check(&w, rs), 1);
	verdict_clear(&w);
}
END_TEST

/* Byte offsets in the encoding: kind, status, rule + 1 (big-endian). */
#define OFF_STATUS	4
#define OFF_RULE	8

static int
decode_patched(size_t off, uint32_t val)
{
	struct verdict	 w;
	struct mbuf	 m, rd;
	int		 rv;

	decide(get_ps);
	mbuf_init(&m);
	ck_assert_int_eq(verdict_encode(&v, &m), 0);
	m.buf[off] = val >> 24;
	m.buf[off + 1] = val >> 16;
	m.buf[off + 2] = val >> 8;
	m.buf[off + 3] = val;
	mbuf_reader(&rd, m.buf, m.len);
	rv = verdict_decode(&rd, &w);
	mbuf_free(&m);
	verdict_clear(&w);
	return rv;
}

/* The codec's own bounds (a rule past INT_MAX was found by fuzzing). */
START_TEST(test_verdict_decode_bounds)
{
	ck_assert_int_eq(decode_patched(OFF_RULE, 1), 0);
	ck_assert_int_eq(decode_patched(OFF_RULE, INT_MAX), 0);
	ck_assert_int_eq(decode_patched(OFF_RULE, (uint32_t)INT_MAX + 1), -1);
	ck_assert_int_eq(decode_patched(OFF_RULE, UINT32_MAX), -1);
	ck_assert_int_eq(decode_patched(OFF_STATUS, 599), 0);
	ck_assert_int_eq(decode_patched(OFF_STATUS, 600), -1);
}
END_TEST

/* Issue 12's body detour: VERDICT_BODY, then a checked ALLOW. */
static const char create_head[] = "POST /v1.47/containers/create HTTP/1.1\r\n"
    "Host: d\r\nContent-Type: application/json\r\nContent-Length: 13\r\n"
    "Expect: 100-continue\r\n\r\n";
static const char create_body[] = "{\"Image\":\"x\"}";

static void
decide_req(const char *body, int hasbody)
{
	verdict_clear(&v);
	policy_decide_req(rs, NULL, NULL, create_head, strlen(create_head),
	    body, body != NULL ? strlen(body) : 0, hasbody, NULL, NULL, &v);
}

/* v through the wire: decoded into w, which the caller clears. */
static void
wire(struct verdict *w)
{
	struct mbuf	 m, rd;

	mbuf_init(&m);
	ck_assert_int_eq(verdict_encode(&v, &m), 0);
	mbuf_reader(&rd, m.buf, m.len);
	ck_assert_int_eq(verdict_decode(&rd, w), 0);
	mbuf_free(&m);
}

START_TEST(test_verdict_body)
{
	struct verdict	 w;

	decide_req(NULL, 0);
	ck_assert_int_eq(v.kind, VERDICT_BODY);
	ck_assert_uint_eq(v.body_max, BODY_LIMIT_DEFAULT);
	ck_assert_int_eq(verdict_check(&v, rs), 1);
	wire(&w);
	ck_assert_int_eq(w.kind, VERDICT_BODY);
	ck_assert_uint_eq(w.body_max, v.body_max);
	ck_assert_int_eq(w.expect_continue, 1);
	ck_assert_int_eq(verdict_check(&w, rs), 1);
	verdict_clear(&w);

	/* What a hostile worker could change in it. */
	v.hasmac = 1;
	ck_assert_int_eq(verdict_check(&v, rs), 0);
	v.hasmac = 0;
	v.body_max = BODY_LIMIT_MIN - 1;
	ck_assert_int_eq(verdict_check(&v, rs), 0);
	v.body_max = (uint64_t)BODY_LIMIT_MAX + 1;
	ck_assert_int_eq(verdict_check(&v, rs), 0);
	v.body_max = BODY_LIMIT_DEFAULT;
	v.checked = 1;
	ck_assert_int_eq(verdict_check(&v, rs), 0);
	v.checked = 0;
	v.framing = FRAMING_NONE;
	v.length = 0;
	ck_assert_int_eq(verdict_check(&v, rs), 0);
	v.framing = FRAMING_LENGTH;
	v.length = 13;
	FIELDS("Accept: */*\r\n");
	ck_assert_int_eq(verdict_check(&v, rs), 0);
	verdict_clear(&v);
	ck_assert_int_eq(verdict_check(&v, rs), 1);
	/* Not an endpoint whose body is checked. */
	strlcpy(v.path, "/_ping", sizeof(v.path));
	strlcpy(v.target, "/_ping", sizeof(v.target));
	strlcpy(v.method, "GET", sizeof(v.method));
	v.rule = 0;
	ck_assert_int_eq(verdict_check(&v, rs), 0);
}
END_TEST

START_TEST(test_verdict_checked)
{
	struct verdict	 w;
	uint8_t		 sum[VERDICT_SUMLEN];

	decide_req(create_body, 1);
	ck_assert_msg(v.kind == VERDICT_ALLOW, "kind %d %s", v.kind, v.why);
	ck_assert_int_eq(v.checked, 1);
	ck_assert_int_eq(v.framing, FRAMING_LENGTH);
	ck_assert_uint_eq(v.length, strlen(create_body));
	ck_assert_int_eq(v.expect_continue, 0);
	ck_assert_int_eq(body_sum(create_body, strlen(create_body), sum), 0);
	ck_assert_mem_eq(v.bodysum, sum, VERDICT_SUMLEN);
	ck_assert_int_eq(verdict_check(&v, rs), 1);
	wire(&w);
	ck_assert_int_eq(w.checked, 1);
	ck_assert_mem_eq(w.bodysum, sum, VERDICT_SUMLEN);
	ck_assert_int_eq(verdict_check(&w, rs), 1);
	verdict_clear(&w);

	v.expect_continue = 1;
	ck_assert_int_eq(verdict_check(&v, rs), 0);
	v.expect_continue = 0;
	v.framing = FRAMING_CHUNKED;
	v.length = 0;
	ck_assert_int_eq(verdict_check(&v, rs), 0);
	v.framing = FRAMING_LENGTH;
	v.length = (uint64_t)BODY_LIMIT_MAX + 1;
	ck_assert_int_eq(verdict_check(&v, rs), 0);
	v.length = 13;
	v.reusable = 1;
	ck_assert_int_eq(verdict_check(&v, rs), 0);
	v.reusable = 0;
	v.body_max = BODY_LIMIT_DEFAULT;
	ck_assert_int_eq(verdict_check(&v, rs), 0);
	v.body_max = 0;
	ck_assert_int_eq(verdict_check(&v, rs), 1);

	/* A checked body is never a DENY's, nor reusable, on the wire. */
	v.reusable = 1;
	v.rgen = 1;
	v.hasmac = 1;
	{
		struct mbuf	 m, rd;

		mbuf_init(&m);
		ck_assert_int_eq(verdict_encode(&v, &m), 0);
		mbuf_reader(&rd, m.buf, m.len);
		ck_assert_int_eq(verdict_decode(&rd, &w), -1);
		verdict_clear(&w);
		mbuf_free(&m);
		v.reusable = 0;
		v.rgen = 0;
		v.kind = VERDICT_DENY;
		mbuf_init(&m);
		ck_assert_int_eq(verdict_encode(&v, &m), 0);
		mbuf_reader(&rd, m.buf, m.len);
		ck_assert_int_eq(verdict_decode(&rd, &w), -1);
		verdict_clear(&w);
		mbuf_free(&m);
	}
}
END_TEST

START_TEST(test_verdict_policy_req)
{
	struct mbuf	 m;
	const void	*head, *body;
	size_t		 headlen, bodylen;
	uint64_t	 ctr;
	int		 hasbody;

	mbuf_init(&m);
	ck_assert_int_eq(policy_req_encode(&m, create_head,
	    strlen(create_head), 7, 1, create_body, strlen(create_body)), 0);
	ck_assert_int_eq(policy_req_decode(m.buf, m.len, &head, &headlen,
	    &ctr, &hasbody, &body, &bodylen), 0);
	ck_assert_uint_eq(headlen, strlen(create_head));
	ck_assert_mem_eq(head, create_head, headlen);
	ck_assert_uint_eq(ctr, 7);
	ck_assert_int_eq(hasbody, 1);
	ck_assert_uint_eq(bodylen, strlen(create_body));
	ck_assert_mem_eq(body, create_body, bodylen);
	/* hasbody is 0, 1 or 2 (the bytes after the head); a body only
	 * with it. */
	m.buf[4 + strlen(create_head) + 8 + 3] = 2;
	ck_assert_int_eq(policy_req_decode(m.buf, m.len, &head, &headlen,
	    &ctr, &hasbody, &body, &bodylen), 0);
	ck_assert_int_eq(hasbody, 2);
	m.buf[4 + strlen(create_head) + 8 + 3] = 3;
	ck_assert_int_eq(policy_req_decode(m.buf, m.len, &head, &headlen,
	    &ctr, &hasbody, &body, &bodylen), -1);
	m.buf[4 + strlen(create_head) + 8 + 3] = 0;
	ck_assert_int_eq(policy_req_decode(m.buf, m.len, &head, &headlen,
	    &ctr, &hasbody, &body, &bodylen), -1);
	mbuf_free(&m);
	mbuf_init(&m);
	ck_assert_int_eq(policy_req_encode(&m, create_head,
	    strlen(create_head), 7, 0, create_body, 3), -1);
	mbuf_free(&m);
	mbuf_init(&m);
	ck_assert_int_eq(policy_req_encode(&m, create_head,
	    strlen(create_head), 8, 0, NULL, 0), 0);
	ck_assert_int_eq(policy_req_decode(m.buf, m.len, &head, &headlen,
	    &ctr, &hasbody, &body, &bodylen), 0);
	ck_assert_int_eq(hasbody, 0);
	ck_assert_uint_eq(bodylen, 0);
	mbuf_free(&m);
}
END_TEST

/* The client block travels: -1 and no name, or an index and a name. */
static int
client_wire(int client, const char *name, struct verdict *w)
{
	struct mbuf	 m, rd;
	int		 rv;

	decide(get_ps);
	v.client = client;
	strlcpy(v.client_name, name, sizeof(v.client_name));
	mbuf_init(&m);
	ck_assert_int_eq(verdict_encode(&v, &m), 0);
	mbuf_reader(&rd, m.buf, m.len);
	rv = verdict_decode(&rd, w);
	mbuf_free(&m);
	return rv;
}

/* The encoding's tail: u32 client + 1, then the name (u32 len, bytes). */
static int
decode_tail(uint32_t client1, const char *name)
{
	struct verdict	 w;
	struct mbuf	 m, rd;
	size_t		 n;
	int		 rv;

	decide(get_ps);
	v.client = -1;
	mbuf_init(&m);
	ck_assert_int_eq(verdict_encode(&v, &m), 0);
	/* drop the honest tail (u32 0, u32 0 for "", u32 early 0), write
	 * ours */
	n = m.len - 12;
	m.len = n;
	mbuf_add_u32(&m, client1);
	mbuf_add_data(&m, name, strlen(name));
	mbuf_add_u32(&m, 0);
	mbuf_reader(&rd, m.buf, m.len);
	rv = verdict_decode(&rd, &w);
	mbuf_free(&m);
	verdict_clear(&w);
	return rv;
}

/* Encode v with early set as given, decode: 0 or -1. */
static int
early_wire(int early)
{
	struct verdict	 w;
	struct mbuf	 m, rd;
	int		 rv;

	v.early = early;
	mbuf_init(&m);
	ck_assert_int_eq(verdict_encode(&v, &m), 0);
	mbuf_reader(&rd, m.buf, m.len);
	rv = verdict_decode(&rd, &w);
	if (rv == 0)
		ck_assert_int_eq(w.early, early);
	mbuf_free(&m);
	verdict_clear(&w);
	v.early = 0;
	return rv;
}

START_TEST(test_verdict_early)
{
	/* A refusal of a Content-Length body decided with its head. */
	decide(get_ps);
	v.kind = VERDICT_DENY;
	v.status = 403;
	v.hasmac = 0;
	v.reusable = 0;
	v.rgen = 0;
	v.framing = FRAMING_LENGTH;
	v.length = 10;
	ck_assert_int_eq(early_wire(1), 0);
	ck_assert_int_eq(early_wire(0), 0);
	/* Only a Content-Length body. */
	v.framing = FRAMING_NONE;
	v.length = 0;
	ck_assert_int_eq(early_wire(1), -1);
	v.framing = FRAMING_LENGTH;
	v.length = 10;
	/* Not a request for the body. */
	v.kind = VERDICT_BODY;
	v.status = 0;
	v.body_max = 1024;
	ck_assert_int_eq(early_wire(1), -1);
	v.body_max = 0;
	/* An approval only of a checked body. */
	v.kind = VERDICT_ALLOW;
	v.hasmac = 1;
	v.checked = 0;
	ck_assert_int_eq(early_wire(1), -1);
	v.checked = 1;
	ck_assert_int_eq(early_wire(1), 0);
	v.checked = 0;
	/* 0 or 1 */
	v.kind = VERDICT_DENY;
	v.status = 403;
	v.hasmac = 0;
	ck_assert_int_eq(early_wire(2), -1);
}
END_TEST

START_TEST(test_verdict_client)
{
	struct verdict	 w;

	/* policy_decide() leaves the top level */
	decide(get_ps);
	ck_assert_int_eq(v.client, -1);
	ck_assert_int_eq(client_wire(-1, "", &w), 0);
	ck_assert_int_eq(w.client, -1);
	ck_assert_str_eq(w.client_name, "");
	verdict_clear(&w);
	ck_assert_int_eq(client_wire(0, "traefik", &w), 0);
	ck_assert_int_eq(w.client, 0);
	ck_assert_str_eq(w.client_name, "traefik");
	verdict_clear(&w);
	ck_assert_int_eq(client_wire(63, "a.b_c-D9", &w), 0);
	ck_assert_int_eq(w.client, 63);
	ck_assert_str_eq(w.client_name, "a.b_c-D9");
	verdict_clear(&w);
	/* a block without a name, or a name that is not one */
	ck_assert_int_eq(client_wire(0, "", &w), -1);
	verdict_clear(&w);
	ck_assert_int_eq(decode_tail(0, ""), 0);
	ck_assert_int_eq(decode_tail(1, "x"), 0);
	ck_assert_int_eq(decode_tail(0, "x"), -1);
	ck_assert_int_eq(decode_tail(1, ""), -1);
	ck_assert_int_eq(decode_tail(1, "a b"), -1);
	ck_assert_int_eq(decode_tail(1, "a\"b"), -1);
	ck_assert_int_eq(decode_tail(1, "caf\xc3\xa9"), -1);
	ck_assert_int_eq(decode_tail(1, "0123456789012345678901234567890"
	    "123456789012345678901234567890123"), -1);	/* 64 */
	ck_assert_int_eq(decode_tail(1, "0123456789012345678901234567890"
	    "12345678901234567890123456789012"), 0);	/* 63 */
	ck_assert_int_eq(decode_tail((uint32_t)INT_MAX, "x"), 0);
	ck_assert_int_eq(decode_tail((uint32_t)INT_MAX + 1, "x"), -1);
	ck_assert_int_eq(decode_tail(UINT32_MAX, "x"), -1);
}
END_TEST

/* The who after the body: policy_req_decode refuses it, _who takes it. */
START_TEST(test_verdict_policy_req_who)
{
	struct mbuf	 m;
	const void	*head, *body, *who;
	size_t		 headlen, bodylen, wholen, plain;
	uint64_t	 ctr;
	int		 hasbody;

	mbuf_init(&m);
	ck_assert_int_eq(policy_req_encode(&m, create_head,
	    strlen(create_head), 9, 0, NULL, 0), 0);
	plain = m.len;
	ck_assert_int_eq(policy_req_decode_who(m.buf, m.len, &head, &headlen,
	    &ctr, &hasbody, &body, &bodylen, &who, &wholen), 0);
	ck_assert_ptr_null(who);
	ck_assert_uint_eq(wholen, 0);
	mbuf_add_u32(&m, 0);
	mbuf_add_str(&m, "xyz");
	ck_assert_int_eq(policy_req_decode(m.buf, m.len, &head, &headlen,
	    &ctr, &hasbody, &body, &bodylen), -1);
	ck_assert_int_eq(policy_req_decode_who(m.buf, m.len, &head, &headlen,
	    &ctr, &hasbody, &body, &bodylen, &who, &wholen), 0);
	ck_assert_uint_eq(ctr, 9);
	ck_assert_uint_eq(headlen, strlen(create_head));
	ck_assert_uint_eq(wholen, m.len - plain);
	ck_assert_ptr_eq(who, m.buf + plain);
	/* cut short before the who: refused like the plain one */
	ck_assert_int_eq(policy_req_decode_who(m.buf, plain - 1, &head,
	    &headlen, &ctr, &hasbody, &body, &bodylen, &who, &wholen), -1);
	m.buf[4 + strlen(create_head) + 8 + 3] = 2;
	ck_assert_int_eq(policy_req_decode_who(m.buf, m.len, &head, &headlen,
	    &ctr, &hasbody, &body, &bodylen, &who, &wholen), -1);
	mbuf_free(&m);
}
END_TEST

Suite *
verdict_suite(void)
{
	Suite	*s = suite_create("verdict");
	TCase	*tc = tcase_create("verdict");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_verdict_accept, 0,
	    sizeof(accepted) / sizeof(accepted[0]));
	tcase_add_loop_test(tc, test_verdict_reject, 0,
	    sizeof(rejected) / sizeof(rejected[0]));
	tcase_add_test(tc, test_verdict_bad_framing);
	tcase_add_test(tc, test_verdict_no_rules);
	tcase_add_loop_test(tc, test_verdict_roundtrip, 0,
	    sizeof(accepted) / sizeof(accepted[0]));
	tcase_add_test(tc, test_verdict_decode_bounds);
	tcase_add_test(tc, test_verdict_body);
	tcase_add_test(tc, test_verdict_checked);
	tcase_add_test(tc, test_verdict_policy_req);
	tcase_add_test(tc, test_verdict_client);
	tcase_add_test(tc, test_verdict_early);
	tcase_add_test(tc, test_verdict_policy_req_who);
	suite_add_tcase(s, tc);
	return s;
}
