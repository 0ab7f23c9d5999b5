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
 * libFuzzer target for policy/decide.c over the real http.c, canon.c
 * and rules.c.  The checks are the relay's: an allow names a rule that
 * matches the forwarded method and decoded path, the target is the
 * canonical encoding of that path plus a query (canon_verify), and the forwarded fields are well-formed lines that never carry
 * framing, Host or hop-by-hop fields.
 *
 * FUZZ_SOURCES: policy/decide.c policy/http.c policy/canon.c policy/rules.c policy/vars.c policy/re2.c policy/body.c policy/json.c policy/mbuf.c
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy.h"

#define CHECK(x)	do { if (!(x)) abort(); } while (0)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char rules_text[] =
	"GET,HEAD /_ping\n"
	"GET /(v[0-9.]+/)?containers/json\n"
	"GET /(v[0-9.]+/)?info\n"
	"POST /(v[0-9.]+/)?containers/[a-z0-9]+/(attach|start)\n"
	"POST /(v[0-9.]+/)?(session|grpc|build)\n"
	"PUT /containers/[^/]+/archive\n"
	"GET /containers/[^/]+/attach/ws\n";

static void
rules_err(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
	abort();
}

static void
check_fields(const char *f, size_t len)
{
	static const char *const never[] = {
		"host", "content-length", "transfer-encoding", "connection",
		"upgrade", "keep-alive", "te", "trailer", "proxy-connection",
		"proxy-authorization", "authorization", "cookie",
		"accept-encoding",
	};
	const char	*end, *colon;
	size_t		 i;

	while (len > 0) {
		end = memchr(f, '\r', len);
		CHECK(end != NULL && end + 1 < f + len && end[1] == '\n');
		colon = memchr(f, ':', end - f);
		CHECK(colon != NULL && colon > f && colon[1] == ' ');
		for (i = 0; i < sizeof(never) / sizeof(never[0]); i++)
			CHECK(strlen(never[i]) != (size_t)(colon - f) ||
			    strncasecmp(f, never[i], colon - f) != 0);
		CHECK(memchr(f, '\n', end - f) == NULL);
		CHECK(memchr(f, '\0', end - f) == NULL);
		len -= end + 2 - f;
		f = end + 2;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ruleset	*rs;
	struct verdict		 v;
	char			*buf;
	size_t			 pl;

	if (rs == NULL) {
		if ((rs = ruleset_new()) == NULL)
			abort();
		if (ruleset_add_text(rs, "fuzz", rules_text,
		    sizeof(rules_text) - 1, rules_err, NULL) != 0)
			abort();
	}
	if ((buf = malloc(size > 0 ? size : 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	policy_decide(rs, NULL, buf, size, &v);
	free(buf);

	CHECK(memchr(v.method, '\0', sizeof(v.method)) != NULL);
	CHECK(memchr(v.path, '\0', sizeof(v.path)) != NULL);
	CHECK(memchr(v.target, '\0', sizeof(v.target)) != NULL);
	CHECK(memchr(v.why, '\0', sizeof(v.why)) != NULL);
	CHECK(memchr(v.upgrade_proto, '\0', sizeof(v.upgrade_proto)) != NULL);
	switch (v.kind) {
	case VERDICT_ALLOW:
		pl = strlen(v.path);
		CHECK(v.status == 0 && v.rule >= 0 && v.why[0] == '\0');
		CHECK(v.path[0] == '/');
		CHECK(canon_verify(v.path, v.target) == 1);
		CHECK(rule_match(rs, v.rule, v.method, v.path, pl) == 1);
		CHECK(!v.hijack || v.upgrade_proto[0] != '\0');
		CHECK(v.fieldslen <= VERDICT_FIELDS_MAX);
		CHECK((v.fields == NULL) == (v.fieldslen == 0));
		check_fields(v.fields, v.fieldslen);
		break;
	case VERDICT_DENY:
		CHECK(v.status == 403 && v.rule == -1 && !v.hijack);
		CHECK(v.path[0] == '/' && v.fields == NULL);
		break;
	case VERDICT_BAD:
		CHECK(v.status >= 400 && v.status <= 599 && v.rule == -1);
		CHECK(!v.hijack && !v.keepalive && v.fields == NULL);
		CHECK(v.why[0] != '\0');
		break;
	default:
		CHECK(0);
	}
	verdict_clear(&v);
	return 0;
}
