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
 * libFuzzer target for policy/verdict.c playing a hostile policy
 * worker: the input is a verdict message as the relay receives it, fed
 * to verdict_decode() and verdict_check() against a fixed ruleset.  For
 * every verdict that passes, an oracle that shares no code with
 * verdict_check() asserts what the relay relies on:
 *  - ALLOW: the rule named exists and, by its own pcre2_match() and
 *    method list, matches method and path; canon_target() of the target
 *    gives back the path exactly, and the target starts with
 *    canon_path_encode(path); the fields are "Name: value" lines, CR
 *    and LF only as CRLF line ends, no NUL, no field the relay writes or
 *    a hop-by-hop one; the head the relay would write from it is one
 *    head (http_head_length() is all of it) and, when the strict parser
 *    takes it, has the verdict's method, framing and length;
 *  - DENY: status 403; BAD: status 400-599, no keep-alive; neither
 *    carries a rule, fields or an upgrade.
 * The seeds in corpus/verdict/ are verdict_encode() of policy_decide()
 * over the heads in seeds[] (allow, deny, bad, upgrade, chunked,
 * fields), and each again as a client block's ("client-" seeds); when the wire format changes, write them again with
 *	FUZZ_VERDICT_SEEDS=regress/fuzz/corpus/verdict \
 *	    regress/fuzz/out/bin/fuzz_verdict -runs=0
 *
 * FUZZ_SOURCES: policy/verdict.c policy/mbuf.c policy/decide.c policy/http.c policy/canon.c policy/rules.c policy/vars.c policy/re2.c policy/body.c policy/json.c
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mbuf.h"
#include "policy.h"

#define CHECK(x)	do { if (!(x)) abort(); } while (0)

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The built-ins, plus what a docker ps / start / stop / attach needs. */
static const char rules_text[] =
	"GET %API_PREFIX_CONTAINERS%/json\n"
	"POST %API_PREFIX_CONTAINERS%/%CONTAINER_ID_OR_NAME%/(start|stop)\n"
	"POST %API_PREFIX_CONTAINERS%/%CONTAINER_ID_OR_NAME%/attach\n"
	"GET %API_PREFIX_CONTAINERS%/%CONTAINER_ID_OR_NAME%/attach/ws\n"
	"PUT %API_PREFIX_CONTAINERS%/%CONTAINER_ID_OR_NAME%/archive\n";

static struct ruleset		*rs;
static pcre2_match_data		*md;

static void
rules_err(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
	abort();
}

static void
setup(void)
{
	if ((rs = ruleset_new()) == NULL ||
	    ruleset_add_builtin(rs, rules_err, NULL) != 0 ||
	    ruleset_add_text(rs, "fuzz", rules_text, sizeof(rules_text) - 1,
	    rules_err, NULL) != 0)
		abort();
	if ((md = pcre2_match_data_create(1, NULL)) == NULL)
		abort();
}

static const struct {
	const char	*name;
	const char	*head;
} seeds[] = {
	{ "ping", "GET /_ping HTTP/1.1\r\nHost: d\r\n"
	    "User-Agent: Docker-Client/24\r\n\r\n" },
	{ "ps", "GET /v1.43/containers/json?all=1 HTTP/1.1\r\nHost: d\r\n"
	    "Accept: application/json\r\n\r\n" },
	{ "start", "POST /v1.43/containers/web%2D1/start HTTP/1.1\r\n"
	    "Host: d\r\nContent-Type: application/json\r\n"
	    "Content-Length: 2\r\nExpect: 100-continue\r\n\r\n" },
	{ "attach", "POST /v1.43/containers/abc123/attach?stream=1&stdin=1 "
	    "HTTP/1.1\r\nHost: d\r\nConnection: Upgrade\r\n"
	    "Upgrade: tcp\r\n\r\n" },
	{ "ws", "GET /containers/abc/attach/ws HTTP/1.1\r\nHost: d\r\n"
	    "Connection: Upgrade\r\nUpgrade: websocket\r\n"
	    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	    "Sec-WebSocket-Version: 13\r\n\r\n" },
	{ "archive", "PUT /containers/abc/archive?path=/tmp HTTP/1.1\r\n"
	    "Host: d\r\nContent-Type: application/x-tar\r\n"
	    "Transfer-Encoding: chunked\r\nX-Registry-Auth: e30=\r\n\r\n" },
	{ "deny", "POST /containers/create HTTP/1.1\r\nHost: d\r\n"
	    "Content-Length: 10\r\n\r\n" },
	{ "deny10", "DELETE /containers/a%20b HTTP/1.0\r\n"
	    "Connection: keep-alive\r\n\r\n" },
	{ "bad", "GET /a/../.. HTTP/1.1\r\nHost: d\r\n\r\n" },
	{ "bad501", "get / HTTP/1.1\r\nHost: d\r\n\r\n" },
};

/* Write the seed corpus into dir: honest verdicts that pass the check. */
static void
write_seeds(const char *dir)
{
	struct verdict	 v;
	struct mbuf	 m;
	char		 fn[1024];
	FILE		*f;
	size_t		 i;

	for (i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		policy_decide(rs, NULL, seeds[i].head, strlen(seeds[i].head),
		    &v);
		CHECK(verdict_check(&v, rs) == 1);
		mbuf_init(&m);
		CHECK(verdict_encode(&v, &m) == 0);
		snprintf(fn, sizeof(fn), "%s/%s", dir, seeds[i].name);
		CHECK((f = fopen(fn, "w")) != NULL);
		CHECK(fwrite(m.buf, 1, m.len, f) == m.len);
		CHECK(fclose(f) == 0);
		mbuf_free(&m);
		/* the same, decided by a client block */
		v.client = 3;
		strlcpy(v.client_name, "traefik", sizeof(v.client_name));
		mbuf_init(&m);
		CHECK(verdict_encode(&v, &m) == 0);
		snprintf(fn, sizeof(fn), "%s/client-%s", dir, seeds[i].name);
		CHECK((f = fopen(fn, "w")) != NULL);
		CHECK(fwrite(m.buf, 1, m.len, f) == m.len);
		CHECK(fclose(f) == 0);
		mbuf_free(&m);
		verdict_clear(&v);
	}
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char	*dir;

	(void)argc;
	(void)argv;
	setup();
	if ((dir = getenv("FUZZ_VERDICT_SEEDS")) != NULL) {
		write_seeds(dir);
		exit(0);
	}
	return 0;
}

/* The rule's own method list and regular expression, not rule_match(). */
static void
oracle_rule(const struct verdict *v)
{
	const struct rule	*ru;
	size_t			 i;
	int			 listed = 0;

	CHECK(v->rule >= 0 && (size_t)v->rule < rs->nrules);
	ru = &rs->rules[v->rule];
	for (i = 0; i < ru->nmethods; i++)
		if (strcmp(ru->methods[i], v->method) == 0)
			listed = 1;
	CHECK(listed);
	CHECK(pcre2_match(ru->re, (PCRE2_SPTR)v->path, strlen(v->path), 0, 0,
	    md, rs->mctx) >= 0);
}

/* Docker decodes the target back to exactly the path the rule matched. */
static void
oracle_target(const struct verdict *v)
{
	static char	 path[CANON_PATH_MAX], query[CANON_QUERY_MAX];
	static char	 enc[VERDICT_TARGET_MAX];
	const char	*why;
	size_t		 n;

	CHECK(canon_target(v->target, strlen(v->target), path, sizeof(path),
	    query, sizeof(query), &why) == 0);
	CHECK(strcmp(path, v->path) == 0);
	n = canon_path_encode(v->path, enc, sizeof(enc));
	CHECK(n < sizeof(enc) && strncmp(v->target, enc, n) == 0);
	CHECK(v->target[n] == '\0' || (v->target[n] == '?' &&
	    strcmp(v->target + n + 1, query) == 0 && query[0] != '\0'));
}

static int
name_is(const char *f, size_t n, const char *name)
{
	return strlen(name) == n && strncasecmp(f, name, n) == 0;
}

static void
oracle_fields(const struct verdict *v)
{
	static const char *const never[] = {
		"host", "content-length", "transfer-encoding", "connection",
		"upgrade", "keep-alive", "te", "trailer", "proxy-connection",
	};
	const char	*f = v->fields, *eol, *p;
	size_t		 len = v->fieldslen, i, n;

	CHECK((f == NULL) == (len == 0));
	while (len > 0) {
		eol = memchr(f, '\n', len);
		CHECK(eol != NULL && eol > f && eol[-1] == '\r');
		for (p = f; p < eol - 1; p++)
			CHECK(*p != '\r' && *p != '\0');
		for (n = 0; f + n < eol - 1 && f[n] != ':'; n++)
			CHECK(f[n] > 0x20 && f[n] < 0x7f);
		CHECK(n > 0 && f[n] == ':');
		for (i = 0; i < sizeof(never) / sizeof(never[0]); i++)
			CHECK(!name_is(f, n, never[i]));
		CHECK(!name_is(f, n, "expect") || v->expect_continue);
		len -= eol + 1 - f;
		f = eol + 1;
	}
}

/* The relay's serialize_head(): one head, the verdict's framing. */
static void
oracle_head(const struct verdict *v)
{
	static char			 head[VERDICT_TARGET_MAX +
					    VERDICT_FIELDS_MAX + 512];
	static struct http_request	 req;
	struct http_limits		 lim = { sizeof(head), sizeof(head),
					    HTTP_HEADERS_MAX };
	const char			*why;
	size_t				 o;
	int				 status;

	o = snprintf(head, sizeof(head), "%s %s HTTP/1.1\r\nHost: docker\r\n",
	    v->method, v->target);
	memcpy(head + o, v->fields != NULL ? v->fields : "", v->fieldslen);
	o += v->fieldslen;
	if (v->framing == FRAMING_LENGTH)
		o += snprintf(head + o, sizeof(head) - o,
		    "Content-Length: %llu\r\n", (unsigned long long)v->length);
	else if (v->framing == FRAMING_CHUNKED)
		o += snprintf(head + o, sizeof(head) - o,
		    "Transfer-Encoding: chunked\r\n");
	if (v->hijack)
		o += snprintf(head + o, sizeof(head) - o,
		    "Connection: Upgrade\r\nUpgrade: %s\r\n", v->upgrade_proto);
	CHECK(o + 2 < sizeof(head));
	memcpy(head + o, "\r\n", 2);
	o += 2;
	CHECK(http_head_length(head, o) == o);
	if (http_parse_request(head, o, &lim, &req, &status, &why) == -1)
		return;		/* the parser is stricter than Go: fine */
	CHECK(strcmp(req.method, v->method) == 0);
	CHECK(req.targetlen == strlen(v->target) &&
	    memcmp(req.target, v->target, req.targetlen) == 0);
	CHECK(req.framing == v->framing);
	CHECK(v->framing != FRAMING_LENGTH || req.length == v->length);
	CHECK(req.upgrade == v->hijack);
	CHECK(!v->hijack || strcmp(req.upgrade_proto, v->upgrade_proto) == 0);
}

static void
oracle(const struct verdict *v)
{
	const char	*m;

	CHECK(memchr(v->why, '\0', sizeof(v->why)) != NULL);
	for (m = v->why; *m != '\0'; m++)
		CHECK(*m >= 0x20 && *m < 0x7f);
	CHECK(v->framing == FRAMING_LENGTH || v->length == 0);
	switch (v->kind) {
	case VERDICT_ALLOW:
		CHECK(v->status == 0 && v->method[0] != '\0');
		for (m = v->method; *m != '\0'; m++)
			CHECK(*m >= 'A' && *m <= 'Z');
		oracle_rule(v);
		oracle_target(v);
		oracle_fields(v);
		CHECK(!v->hijack || v->upgrade_proto[0] != '\0');
		for (m = v->upgrade_proto; *m != '\0'; m++)
			CHECK(*m > 0x20 && *m < 0x7f && *m != ':' &&
			    *m != '/');
		oracle_head(v);
		/* A checked body: exactly its length, its Expect answered. */
		CHECK(!v->checked || (v->framing == FRAMING_LENGTH &&
		    v->length <= BODY_LIMIT_MAX && !v->expect_continue &&
		    !v->reusable));
		CHECK(v->body_max == 0 && !v->admission);
		break;
	case VERDICT_BODY:
		/* Send me the body: nothing that could reach Docker. */
		CHECK(v->status == 0 && !v->hasmac && !v->reusable &&
		    !v->checked && v->fields == NULL && v->fieldslen == 0);
		CHECK(v->framing != FRAMING_NONE &&
		    v->body_max >= BODY_LIMIT_MIN &&
		    v->body_max <= BODY_LIMIT_MAX);
		oracle_rule(v);
		oracle_target(v);
		CHECK(body_endpoint(v->method, v->path) == BODY_JSON);
		break;
	case VERDICT_DENY:
		CHECK(v->status == 403);
		CHECK(v->rule == -1 && !v->hijack && v->fields == NULL &&
		    v->fieldslen == 0);
		break;
	case VERDICT_BAD:
		CHECK(v->status >= 400 && v->status <= 599 && !v->keepalive);
		CHECK(v->rule == -1 && !v->hijack && v->fields == NULL &&
		    v->fieldslen == 0);
		break;
	default:
		CHECK(0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct verdict	 v;
	struct mbuf		 m;

	mbuf_reader(&m, data, size);
	if (verdict_decode(&m, &v) == -1) {
		verdict_clear(&v);
		return 0;
	}
	/* A reusable proof (fwd.h) only on a bodiless, plain ALLOW. */
	CHECK(!v.reusable || (v.kind == VERDICT_ALLOW && v.hasmac &&
	    v.framing == FRAMING_NONE && !v.hijack && v.rgen != 0));
	/* A checked body's sum only on an ALLOW of a Content-Length. */
	CHECK(!v.checked || (v.kind == VERDICT_ALLOW &&
	    v.framing == FRAMING_LENGTH && !v.reusable));
	/* The client block: -1 without a name, or an index with one of
	 * [A-Za-z0-9._-] (issue 13; the relay holds the index to its own). */
	CHECK(v.client >= -1);
	CHECK((v.client == -1) == (v.client_name[0] == '\0'));
	CHECK(strspn(v.client_name, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
	    strlen(v.client_name));
	if (verdict_check(&v, rs))
		oracle(&v);
	verdict_clear(&v);
	return 0;
}
