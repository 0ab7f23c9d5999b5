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

/* policy/learn.c: rules learned from requests. */

#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "policy.h"
#include "learn.h"

static const char *
pattern(const char *path)
{
	static char	 buf[LEARN_PATTERN_MAX];

	if (learn_pattern(path, buf, sizeof(buf)) == -1)
		return "(error)";
	return buf;
}

/* Paths become their section's prefix, the object its variable. */
START_TEST(test_learn_pattern)
{
	static const struct {
		const char	*path, *want;
	} t[] = {
		{ "/_ping", "%API_PREFIX_PING%" },
		{ "/v1.47/version", "%API_PREFIX_VERSION%" },
		{ "/v1.47/containers/json", "%API_PREFIX_CONTAINERS%/json" },
		{ "/v1.47/containers/create", "%API_PREFIX_CONTAINERS%/create" },
		{ "/v1.47/containers/3f2a9b/json",
		    "%API_PREFIX_CONTAINERS%/%CONTAINER_ID_OR_NAME%/json" },
		{ "/containers/web-1/logs",
		    "%API_PREFIX_CONTAINERS%/%CONTAINER_ID_OR_NAME%/logs" },
		{ "/v1.47/containers/web", "%API_PREFIX_CONTAINERS%/"
		    "%CONTAINER_ID_OR_NAME%" },
		{ "/v1.47/exec/0a1b2c/start",
		    "%API_PREFIX_EXEC%/[0-9A-Fa-f]+/start" },
		{ "/v1.47/images/json", "%API_PREFIX_IMAGES%/json" },
		{ "/v1.47/images/busybox:latest/json",
		    "%API_PREFIX_IMAGES%/%IMAGE_ID_OR_REFERENCE%/json" },
		{ "/v1.47/images/registry.example:5000/a/b:1.0/json",
		    "%API_PREFIX_IMAGES%/%IMAGE_ID_OR_REFERENCE%/json" },
		{ "/v1.47/images/library/busybox",
		    "%API_PREFIX_IMAGES%/%IMAGE_ID_OR_REFERENCE%" },
		{ "/v1.47/networks/net1/connect",
		    "%API_PREFIX_NETWORKS%/%NETWORK_ID_OR_NAME%/connect" },
		{ "/v1.47/volumes/data", "%API_PREFIX_VOLUMES%/"
		    "%VOLUME_ID_OR_NAME%" },
		{ "/v1.47/services/web/update",
		    "%API_PREFIX_SERVICES%/[^/]+/update" },
		{ "/v1.47/distribution/busybox:1/json",
		    "%API_PREFIX_DISTRIBUTION%/%IMAGE_REFERENCE%/json" },
		{ "/v4.0.0/libpod/containers/x/json",
		    "%API_PREFIX_LIBPOD_CONTAINERS%/%CONTAINER_ID_OR_NAME%/json" },
		{ "/v1.47/system/df", "%API_PREFIX_SYSTEM%/df" },
		/* no section of the API: literal, regex characters escaped */
		{ "/v1.47/what.ever/a+b", "%API_PREFIX%/what\\.ever/a\\+b" },
		{ "/", "%API_PREFIX%/" },
	};
	size_t	 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		ck_assert_msg(strcmp(pattern(t[i].path), t[i].want) == 0,
		    "%s: got %s, want %s", t[i].path, pattern(t[i].path),
		    t[i].want);
	ck_assert_str_eq(pattern("no/slash"), "(error)");
}
END_TEST

/* The rules text, loaded back, allows what was seen and no other method. */
START_TEST(test_learn_rules)
{
	static const char *const seen[][2] = {
		{ "GET", "/v1.47/containers/json" },
		{ "GET", "/v1.47/containers/abc/json" },
		{ "GET", "/v1.47/containers/web-2/json" },
		{ "HEAD", "/v1.47/containers/abc/json" },
		{ "POST", "/v1.47/containers/abc/start" },
		{ "GET", "/v1.47/images/busybox:latest/json" },
		/* a name no variable covers: allowed as it was seen */
		{ "GET", "/v1.47/containers/a%20b/json" },
	};
	struct learn	*l;
	struct ruleset	*rs;
	char		*text;
	size_t		 len, i;

	ck_assert_ptr_nonnull(l = learn_new());
	for (i = 0; i < sizeof(seen) / sizeof(seen[0]); i++)
		ck_assert_int_eq(learn_add(l, seen[i][0], seen[i][1], i == 4),
		    0);
	ck_assert_int_eq(learn_add(l, "get", "/x", 0), -1);
	ck_assert_int_eq(learn_add(l, "GET", "x", 0), -1);
	ck_assert_int_eq(learn_add(l, "GET", "/a%0", 0), -1);
	ck_assert_ptr_nonnull(text = learn_rules(l, &len));
	ck_assert_ptr_nonnull(strstr(text, "\n! 3 requests: GET "
	    "/v1.47/containers/abc/json\nGET,HEAD %API_PREFIX_CONTAINERS%/"
	    "%CONTAINER_ID_OR_NAME%/json\n"));
	ck_assert_ptr_nonnull(strstr(text, "\n! 1 request (1 denied): POST "
	    "/v1.47/containers/abc/start\nPOST %API_PREFIX_CONTAINERS%/"
	    "%CONTAINER_ID_OR_NAME%/start\n"));
	ck_assert_ptr_nonnull(strstr(text, "\nGET /v1\\.47/containers/a b/"
	    "json\n"));
	ck_assert_ptr_nonnull(rs = ruleset_new());
	ck_assert_int_eq(ruleset_add_text(rs, "learned", text, len, NULL,
	    NULL), 0);
#define MATCH(m, path)	ruleset_match(rs, m, path, strlen(path))
	ck_assert_int_ge(MATCH("GET", "/v1.47/containers/json"), 0);
	ck_assert_int_ge(MATCH("GET", "/containers/other/json"), 0);
	ck_assert_int_ge(MATCH("HEAD", "/containers/other/json"), 0);
	ck_assert_int_ge(MATCH("POST", "/v1.47/containers/web/start"), 0);
	ck_assert_int_ge(MATCH("GET", "/v1.47/containers/a b/json"), 0);
	ck_assert_int_lt(MATCH("POST", "/v1.47/containers/web/stop"), 0);
	ck_assert_int_lt(MATCH("DELETE", "/v1.47/containers/web"), 0);
	ck_assert_int_lt(MATCH("POST", "/v1.47/containers/create"), 0);
	ck_assert_int_lt(MATCH("GET", "/v1.47/containers/c d/json"), 0);
#undef MATCH
	ruleset_free(rs);
	free(text);
	learn_free(l);
}
END_TEST

START_TEST(test_learn_parse_line)
{
	char	 m[LEARN_METHOD_MAX], p[LEARN_PATH_MAX];
	int	 denied = -1;

#define LINE(s)	learn_parse_line(s, strlen(s), m, p, &denied)
	ck_assert_int_eq(LINE("Dec  3 06:00:00 host moatd[12]: relay[0]: "
	    "client=127.0.0.1:5555 method=GET path=/v1.47/containers/json "
	    "verdict=allow rule=builtin:3 status=200 in=90 out=3 ms=0.2\n"),
	    1);
	ck_assert_str_eq(m, "GET");
	ck_assert_str_eq(p, "/v1.47/containers/json");
	ck_assert_int_eq(denied, 0);
	/* a quoted value holding what looks like keys does not count */
	ck_assert_int_eq(LINE("client=- peer=x cert_subject=\"CN=a "
	    "method=DELETE path=/x verdict=allow\" method=POST "
	    "path=/containers/create verdict=deny rule=- status=403"), 1);
	ck_assert_str_eq(m, "POST");
	ck_assert_str_eq(p, "/containers/create");
	ck_assert_int_eq(denied, 1);
	/* 400 and 5xx: nothing to learn; other lines neither */
	ck_assert_int_eq(LINE("client=x method=GET path=/a verdict=bad "
	    "status=400"), 0);
	ck_assert_int_eq(LINE("relay[0]: listening on tcp://127.0.0.1:1"), 0);
	ck_assert_int_eq(LINE(""), 0);
	/* JSON lines, after a prefix too */
	ck_assert_int_eq(LINE("{\"client\":null,\"method\":\"HEAD\","
	    "\"path\":\"/_ping\",\"verdict\":\"allow\",\"status\":200}"), 1);
	ck_assert_str_eq(m, "HEAD");
	ck_assert_str_eq(p, "/_ping");
	ck_assert_int_eq(LINE("moatd[1]: {\"method\":\"GET\",\"path\":\"/x\","
	    "\"verdict\":\"deny\"}"), 1);
	ck_assert_int_eq(denied, 1);
	ck_assert_int_eq(LINE("{\"method\":\"GET\",\"path\":\"/x\","
	    "\"verdict\":\"error\"}"), 0);
	ck_assert_int_eq(LINE("{\"method\":\"GET\",\"path\":7,"
	    "\"verdict\":\"allow\"}"), 0);
#undef LINE
}
END_TEST

Suite *
learn_suite(void)
{
	Suite	*s = suite_create("learn");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_learn_pattern);
	tcase_add_test(tc, test_learn_rules);
	tcase_add_test(tc, test_learn_parse_line);
	suite_add_tcase(s, tc);
	return s;
}
