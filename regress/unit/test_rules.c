/*
 * Unit tests for policy/rules.c: the rule line grammar, the errors it
 * reports (exact messages), refusal of a text as a whole, matching of the
 * whole path, the built-in rules, rule_format() and the PCRE2 limits.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "unit.h"
#include "policy.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define MAXERRS		8

struct errs {
	int	 n;
	char	 msg[MAXERRS][512];
};

static void
collect(void *arg, const char *msg)
{
	struct errs	*e = arg;

	if (e->n < MAXERRS)
		(void)strlcpy(e->msg[e->n], msg, sizeof(e->msg[0]));
	e->n++;
}

static void
no_error(void *arg, const char *msg)
{
	ck_abort_msg("unexpected error: %s", msg);
}

static struct ruleset *
load(const char *text)
{
	struct ruleset	*rs;

	ck_assert_ptr_nonnull(rs = ruleset_new());
	ck_assert_int_eq(ruleset_add_text(rs, "rules.list", text,
	    strlen(text), no_error, NULL), 0);
	return rs;
}

static int
match(struct ruleset *rs, const char *method, const char *path)
{
	return ruleset_match(rs, method, path, strlen(path));
}

struct mcase {
	const char	*method;
	const char	*path;
	int		 want;
};

START_TEST(test_rules_builtin)
{
	static const struct mcase cases[] = {
		{ "GET", "/_ping", 0 },
		{ "HEAD", "/_ping", 0 },
		{ "GET", "/v1.43/_ping", 0 },
		{ "HEAD", "/v1.43/_ping", 0 },
		{ "GET", "/v4.0.0/libpod/_ping", 1 },
		{ "HEAD", "/v4.0.0/libpod/_ping", 1 },
		{ "GET", "/version", 2 },
		{ "GET", "/v1.43/version", 2 },
		{ "GET", "/v4.0.0/libpod/version", 3 },
		{ "GET", "/info", 4 },
		{ "GET", "/v1.43/info", 4 },
		{ "GET", "/v4.0.0/libpod/info", 5 },
		{ "POST", "/_ping", RULE_NOMATCH },
		{ "OPTIONS", "/_ping", RULE_NOMATCH },
		{ "get", "/_ping", RULE_NOMATCH },
		{ "HEAD", "/version", RULE_NOMATCH },
		{ "HEAD", "/info", RULE_NOMATCH },
		{ "POST", "/v1.43/version", RULE_NOMATCH },
		{ "DELETE", "/info", RULE_NOMATCH },
		{ "GET", "/containers/json", RULE_NOMATCH },
		{ "GET", "/v1.43/containers/json", RULE_NOMATCH },
		{ "GET", "/libpod/_ping", RULE_NOMATCH },
		{ "GET", "/_ping/", RULE_NOMATCH },
		{ "GET", "/_ping/x", RULE_NOMATCH },
		{ "GET", "/x/_ping", RULE_NOMATCH },
		{ "GET", "/infox", RULE_NOMATCH },
		{ "GET", "/", RULE_NOMATCH },
		{ "GET", "", RULE_NOMATCH },
	};
	struct ruleset	*rs;
	size_t		 i;
	int		 got;

	ck_assert_ptr_nonnull(rs = ruleset_new());
	ck_assert_int_eq(ruleset_add_builtin(rs, no_error, NULL), 0);
	ck_assert_uint_eq(rs->nrules, 6);
	for (i = 0; i < NELEM(cases); i++) {
		got = match(rs, cases[i].method, cases[i].path);
		ck_assert_msg(got == cases[i].want, "%s %s: got %d, want %d",
		    cases[i].method, cases[i].path, got, cases[i].want);
	}
	ruleset_free(rs);
}
END_TEST

START_TEST(test_rules_builtin_format)
{
	static const char *const want[] = {
		"builtin:2 GET,HEAD (?:(?:/v[0-9]+(?:\\.[0-9]+)*))?/_ping",
		"builtin:3 GET,HEAD (?:/v[0-9]+(?:\\.[0-9]+)*)/libpod/_ping",
		"builtin:5 GET (?:(?:/v[0-9]+(?:\\.[0-9]+)*))?/version",
		"builtin:6 GET (?:/v[0-9]+(?:\\.[0-9]+)*)/libpod/version",
		"builtin:8 GET (?:(?:/v[0-9]+(?:\\.[0-9]+)*))?/info",
		"builtin:9 GET (?:/v[0-9]+(?:\\.[0-9]+)*)/libpod/info",
	};
	struct ruleset	*rs;
	char		 buf[256];
	size_t		 i;

	ck_assert_ptr_nonnull(rs = ruleset_new());
	ck_assert_int_eq(ruleset_add_builtin(rs, no_error, NULL), 0);
	ck_assert_uint_eq(rs->nrules, NELEM(want));
	for (i = 0; i < NELEM(want); i++) {
		ck_assert_uint_eq(rule_format(&rs->rules[i], buf,
		    sizeof(buf)), strlen(want[i]));
		ck_assert_str_eq(buf, want[i]);
		ck_assert_str_eq(rs->rules[i].source, "builtin");
	}
	ck_assert_str_eq(rs->rules[0].pattern, "%API_PREFIX_PING%");
	ruleset_free(rs);
}
END_TEST

START_TEST(test_rules_format_truncation)
{
	struct ruleset	*rs;
	char		 buf[16];

	rs = load("\n\nGET,POST  /a/(b|c)  ");
	ck_assert_uint_eq(rule_format(&rs->rules[0], buf, sizeof(buf)), 30);
	ck_assert_str_eq(buf, "rules.list:3 GE");
	ck_assert_uint_eq(rule_format(&rs->rules[0], buf, 1), 30);
	ck_assert_str_eq(buf, "");
	ck_assert_uint_eq(rule_format(&rs->rules[0], NULL, 0), 30);
	memset(buf, 'x', sizeof(buf));
	ck_assert_uint_eq(rule_format(&rs->rules[0], buf, 14), 30);
	ck_assert_str_eq(buf, "rules.list:3 ");
	ruleset_free(rs);
}
END_TEST

/* What moatd -n prints, minus "source:line ", reads back the same. */
START_TEST(test_rules_format_roundtrip)
{
	static const char text[] =
	    "GET %API_PREFIX_IMAGES%/%IMAGE_ID_OR_REFERENCE%/json\n"
	    "POST %API_PREFIX_NETWORKS%/%NETWORK_ID_OR_NAME%/connect\n"
	    "GET %API_PREFIX_DISTRIBUTION%/%IMAGE_REFERENCE%/json\n"
	    "DELETE,GET %API_PREFIX_PLUGINS%/%PLUGIN_ID_OR_NAME%\n"
	    "GET %API_PREFIX_LIBPOD_PODS%/%CONTAINER_ID_OR_NAME%/json\n";
	struct ruleset	*rs, *again;
	char		 buf[2048];
	const char	*sp;
	size_t		 i;

	rs = load(text);
	ck_assert_uint_eq(rs->nrules, 5);
	for (i = 0; i < rs->nrules; i++) {
		ck_assert_uint_lt(rule_format(&rs->rules[i], buf,
		    sizeof(buf)), sizeof(buf));
		ck_assert_ptr_nonnull(sp = strchr(buf, ' '));
		again = load(sp + 1);
		ck_assert_uint_eq(again->nrules, 1);
		ck_assert_str_eq(again->rules[0].expanded,
		    rs->rules[i].expanded);
		ck_assert_str_eq(again->rules[0].pattern,
		    rs->rules[i].expanded);
		ruleset_free(again);
	}
	ruleset_free(rs);
}
END_TEST

struct lcase {
	const char	*text;
	unsigned int	 line;
	const char	*pattern;
};

/* CetusGuard's valid-rule table, and more of the same. */
START_TEST(test_rules_comments_blanks)
{
	static const struct lcase cases[] = {
		{ "! Comment\nGET,HEAD %API_PREFIX%/test01\n", 2,
		    "%API_PREFIX%/test01" },
		{ "! Comment\r\nGET,HEAD %API_PREFIX%/test02\r\n", 2,
		    "%API_PREFIX%/test02" },
		{ "\n\n\n! Comment\n\n\nGET,HEAD %API_PREFIX%/test03\n\n\n", 7,
		    "%API_PREFIX%/test03" },
		{ " \t ! Comment\n \t GET,HEAD \t %API_PREFIX%/test04 \t ", 2,
		    "%API_PREFIX%/test04" },
		{ "!\n!!\n!GET,HEAD /x\n\t!\nGET,HEAD\t\t%API_PREFIX%/test05\t",
		    5, "%API_PREFIX%/test05" },
		{ " \t \n\t\r\n\r\nGET,HEAD %API_PREFIX%/test06", 4,
		    "%API_PREFIX%/test06" },
		/* a final CR without LF ends the line too */
		{ "GET,HEAD %API_PREFIX%/test07\r", 1,
		    "%API_PREFIX%/test07" },
		/* blanks inside a pattern are the pattern's */
		{ "GET,HEAD %API_PREFIX%/a \t!b", 1, "%API_PREFIX%/a \t!b" },
	};
	struct ruleset	*rs;
	size_t		 i;

	for (i = 0; i < NELEM(cases); i++) {
		rs = load(cases[i].text);
		ck_assert_msg(rs->nrules == 1, "case %zu: %zu rules", i,
		    rs->nrules);
		ck_assert_uint_eq(rs->rules[0].line, cases[i].line);
		ck_assert_str_eq(rs->rules[0].source, "rules.list");
		ck_assert_str_eq(rs->rules[0].pattern, cases[i].pattern);
		ck_assert_uint_eq(rs->rules[0].nmethods, 2);
		ck_assert_str_eq(rs->rules[0].methods[0], "GET");
		ck_assert_str_eq(rs->rules[0].methods[1], "HEAD");
		ck_assert_int_eq(match(rs, "HEAD", "/v1.43/test01") == 0,
		    i == 0);
		ruleset_free(rs);
	}
	rs = load("! Comment\nGET,HEAD %API_PREFIX%/test01\n");
	ck_assert_str_eq(rs->rules[0].expanded,
	    "(?:(?:/v[0-9]+(?:\\.[0-9]+)*))?/test01");
	ruleset_free(rs);

	/* nothing, or only comments, is no rule and no error */
	rs = load("");
	ck_assert_uint_eq(rs->nrules, 0);
	ck_assert_int_eq(match(rs, "GET", "/_ping"), RULE_NOMATCH);
	ruleset_free(rs);
	rs = load("\n\r\n \t\n! GET /x\n");
	ck_assert_uint_eq(rs->nrules, 0);
	ruleset_free(rs);
}
END_TEST

START_TEST(test_rules_lines)
{
	struct ruleset	*rs;

	rs = load("GET /a\r\nPOST /b\nPUT /c\r\n\nDELETE /d");
	ck_assert_uint_eq(rs->nrules, 4);
	ck_assert_str_eq(rs->rules[0].pattern, "/a");
	ck_assert_uint_eq(rs->rules[0].line, 1);
	ck_assert_str_eq(rs->rules[1].pattern, "/b");
	ck_assert_uint_eq(rs->rules[1].line, 2);
	ck_assert_str_eq(rs->rules[2].pattern, "/c");
	ck_assert_uint_eq(rs->rules[2].line, 3);
	ck_assert_str_eq(rs->rules[3].pattern, "/d");
	ck_assert_uint_eq(rs->rules[3].line, 5);
	ck_assert_int_eq(match(rs, "PUT", "/c"), 2);
	ck_assert_int_eq(match(rs, "DELETE", "/d"), 3);
	ck_assert_int_eq(match(rs, "GET", "/b"), RULE_NOMATCH);
	ruleset_free(rs);

	/* a CR that ends no line belongs to the pattern, as in CetusGuard */
	rs = load("GET /a\rb\n");
	ck_assert_str_eq(rs->rules[0].pattern, "/a\rb");
	ruleset_free(rs);

	/* texts are added in order; sources and lines are each text's */
	ck_assert_ptr_nonnull(rs = ruleset_new());
	ck_assert_int_eq(ruleset_add_text(rs, "-rules", "GET /one", 8,
	    no_error, NULL), 0);
	ck_assert_int_eq(ruleset_add_text(rs, "other.list", "\nGET /two",
	    9, no_error, NULL), 0);
	ck_assert_uint_eq(rs->nrules, 2);
	ck_assert_str_eq(rs->rules[0].source, "-rules");
	ck_assert_uint_eq(rs->rules[0].line, 1);
	ck_assert_str_eq(rs->rules[1].source, "other.list");
	ck_assert_uint_eq(rs->rules[1].line, 2);
	ck_assert_int_eq(match(rs, "GET", "/two"), 1);
	ruleset_free(rs);

	/* len, not NUL, ends the text */
	ck_assert_ptr_nonnull(rs = ruleset_new());
	ck_assert_int_eq(ruleset_add_text(rs, "t", "GET /abc", 6, no_error,
	    NULL), 0);
	ck_assert_str_eq(rs->rules[0].pattern, "/a");
	ruleset_free(rs);
}
END_TEST

START_TEST(test_rules_methods)
{
	struct ruleset	*rs;

	rs = load("GET,HEAD,GET,POST,HEAD /x\n"
	    "A,Z,MKCOL,VERYLONGMETHODNAME /y\n"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDE /z");
	ck_assert_uint_eq(rs->rules[0].nmethods, 3);
	ck_assert_str_eq(rs->rules[0].methods[0], "GET");
	ck_assert_str_eq(rs->rules[0].methods[1], "HEAD");
	ck_assert_str_eq(rs->rules[0].methods[2], "POST");
	ck_assert_uint_eq(rs->rules[1].nmethods, 4);
	ck_assert_str_eq(rs->rules[1].methods[3], "VERYLONGMETHODNAME");
	ck_assert_int_eq(rule_match(rs, 0, "POST", "/x", 2), 1);
	ck_assert_int_eq(rule_match(rs, 0, "PUT", "/x", 2), 0);
	ck_assert_int_eq(rule_match(rs, 0, "post", "/x", 2), 0);
	ck_assert_int_eq(rule_match(rs, 0, "GE", "/x", 2), 0);
	ck_assert_int_eq(rule_match(rs, 0, "GETS", "/x", 2), 0);
	ck_assert_int_eq(rule_match(rs, 0, "", "/x", 2), 0);
	ck_assert_int_eq(rule_match(rs, 1, "Z", "/y", 2), 1);
	ck_assert_int_eq(rule_match(rs, 1, "MKCOL", "/x", 2), 0);
	ck_assert_int_eq(rule_match(rs, 2, "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDE",
	    "/z", 2), 1);
	ck_assert_int_eq(rule_match(rs, 3, "GET", "/x", 2), RULE_ERROR);
	ruleset_free(rs);
}
END_TEST

struct ecase {
	const char	*text;
	size_t		 len;		/* 0: strlen(text) */
	int		 nerrors;
	const char	*msg[3];
};

START_TEST(test_rules_invalid)
{
	static const struct ecase cases[] = {
		/* CetusGuard's invalid-rule table */
		{ "%API_PREFIX%/test01", 0, 1, {
		    "rules.list:1: invalid method list "
		    "\"%API_PREFIX%/test01\"" } },
		{ ", %API_PREFIX%/test02", 0, 1, {
		    "rules.list:1: invalid method list \",\"" } },
		{ "GET, %API_PREFIX%/test03", 0, 1, {
		    "rules.list:1: invalid method list \"GET,\"" } },
		{ "GET,HEAD, %API_PREFIX%/test04", 0, 1, {
		    "rules.list:1: invalid method list \"GET,HEAD,\"" } },
		{ "GET %API_PREFIX%/[9-0]+/test05", 0, 1, {
		    "rules.list:1: invalid pattern "
		    "\"%API_PREFIX%/[9-0]+/test05\": range out of order in "
		    "character class at offset 34 of its expansion" } },
		{ "GET %API_PREFIX%/\x81/test06", 0, 1, {
		    "rules.list:1: invalid UTF-8 in pattern at offset 13" } },
		{ "GET\n%API_PREFIX%/test07", 0, 2, {
		    "rules.list:1: missing pattern",
		    "rules.list:2: invalid method list "
		    "\"%API_PREFIX%/test07\"" } },
		{ "GET\r\n%API_PREFIX%/test08", 0, 2, {
		    "rules.list:1: missing pattern",
		    "rules.list:2: invalid method list "
		    "\"%API_PREFIX%/test08\"" } },
		/* and ours */
		{ "\n\nGET, /x", 0, 1, {
		    "rules.list:3: invalid method list \"GET,\"" } },
		{ ",GET /x", 0, 1, {
		    "rules.list:1: invalid method list \",GET\"" } },
		{ "GET,,HEAD /x", 0, 1, {
		    "rules.list:1: invalid method list \"GET,,HEAD\"" } },
		{ "get /x", 0, 1, {
		    "rules.list:1: invalid method list \"get\"" } },
		{ "Get /x", 0, 1, {
		    "rules.list:1: invalid method list \"Get\"" } },
		{ "GET/x", 0, 1, {
		    "rules.list:1: invalid method list \"GET/x\"" } },
		{ "M-SEARCH /x", 0, 1, {
		    "rules.list:1: invalid method list \"M-SEARCH\"" } },
		{ "GET,ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEF /x", 0, 1, {
		    "rules.list:1: method name longer than 31 letters in "
		    "\"GET,ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEF\"" } },
		{ "\xef\xbb\xbfGET /x", 0, 1, {
		    "rules.list:1: invalid method list "
		    "\"\\xef\\xbb\\xbfGET\"" } },
		{ "GET", 0, 1, { "rules.list:1: missing pattern" } },
		{ "  GET \t ", 0, 1, { "rules.list:1: missing pattern" } },
		{ "GET /[9-0]", 0, 1, {
		    "rules.list:1: invalid pattern \"/[9-0]\": range out of "
		    "order in character class at offset 4" } },
		{ "GET /(", 0, 1, {
		    "rules.list:1: invalid pattern \"/(\": missing closing "
		    "parenthesis at offset 2" } },
		/* Go has no backreferences: neither have we */
		{ "GET /(a)\\1", 0, 1, {
		    "rules.list:1: invalid pattern \"/(a)\\1\": reference to "
		    "non-existent subpattern at offset 5" } },
		{ "GET /\\C", 0, 1, {
		    "rules.list:1: invalid pattern \"/\\C\": using \\C is "
		    "disabled by the application at offset 3" } },
		{ "GET /a\xc0\x80", 0, 1, {
		    "rules.list:1: invalid UTF-8 in pattern at offset 2" } },
		{ "GET /\xed\xa0\x80", 0, 1, {
		    "rules.list:1: invalid UTF-8 in pattern at offset 1" } },
		{ "GET /\xf4\x90\x80\x80", 0, 1, {
		    "rules.list:1: invalid UTF-8 in pattern at offset 1" } },
		{ "GET /\xc3", 0, 1, {
		    "rules.list:1: invalid UTF-8 in pattern at offset 1" } },
		{ "GET /a\0b", 8, 1, {
		    "rules.list:1: NUL byte in pattern at offset 2" } },
		{ "GET /x/%NOPE%/y", 0, 1, {
		    "rules.list:1: unknown variable \"%NOPE%\"" } },
		{ "GET %API_PREFIX_LIBPOD_SWARM%", 0, 1, {
		    "rules.list:1: unknown variable "
		    "\"%API_PREFIX_LIBPOD_SWARM%\"" } },
		/* every line is reported, not only the first */
		{ "GET /ok\nget /a\n! fine\nPOST /(\nGET %X%\n", 0, 3, {
		    "rules.list:2: invalid method list \"get\"",
		    "rules.list:4: invalid pattern \"/(\": missing closing "
		    "parenthesis at offset 2",
		    "rules.list:5: unknown variable \"%X%\"" } },
		{ "GET /" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa(", 0, 1,
		    { "rules.list:1: invalid pattern \"/aaaaaaaaaaaaaaaaaaaaaa"
		    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\": "
		    "missing closing parenthesis at offset 102" } },
	};
	struct ruleset	*rs;
	struct errs	 e;
	size_t		 i, len;
	int		 k, n;

	for (i = 0; i < NELEM(cases); i++) {
		ck_assert_ptr_nonnull(rs = ruleset_new());
		memset(&e, 0, sizeof(e));
		len = cases[i].len ? cases[i].len : strlen(cases[i].text);
		n = ruleset_add_text(rs, "rules.list", cases[i].text, len,
		    collect, &e);
		ck_assert_msg(n == cases[i].nerrors, "case %zu: %d errors",
		    i, n);
		ck_assert_int_eq(e.n, n);
		for (k = 0; k < n; k++)
			ck_assert_str_eq(e.msg[k], cases[i].msg[k]);
		ck_assert_uint_eq(rs->nrules, 0);
		/* without a callback the errors are still counted */
		ck_assert_int_eq(ruleset_add_text(rs, "rules.list",
		    cases[i].text, len, NULL, NULL), n);
		ck_assert_uint_eq(rs->nrules, 0);
		ruleset_free(rs);
	}
}
END_TEST

START_TEST(test_rules_too_long)
{
	struct ruleset	*rs;
	struct errs	 e;
	char		*text;
	size_t		 i;

	ck_assert_ptr_nonnull(text = calloc(1, 4 + 23 * 200 + 1));
	(void)strlcpy(text, "GET ", 5);
	for (i = 0; i < 200; i++)
		(void)strlcat(text, "%IMAGE_ID_OR_REFERENCE%",
		    4 + 23 * 200 + 1);
	ck_assert_ptr_nonnull(rs = ruleset_new());
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(ruleset_add_text(rs, "rules.list", text,
	    strlen(text), collect, &e), 1);
	ck_assert_str_eq(e.msg[0], "rules.list:1: pattern too long after "
	    "expansion \"%IMAGE_ID_OR_REFERENCE%\"");
	ck_assert_uint_eq(rs->nrules, 0);
	ruleset_free(rs);
	free(text);
}
END_TEST

/* One bad line refuses the whole text; earlier texts stay. */
START_TEST(test_rules_refused_whole)
{
	static const char bad[] =
	    "GET %API_PREFIX_CONTAINERS%/json\n"
	    "GET, %API_PREFIX_IMAGES%/json\n"
	    "POST %API_PREFIX_CONTAINERS%/create\n"
	    "GET %API_PREFIX_VOLUMES%/%VOLUME_NAMES%\n";
	static const char good[] =
	    "GET %API_PREFIX_CONTAINERS%/json\n"
	    "POST %API_PREFIX_CONTAINERS%/create\n";
	struct ruleset	*rs;
	struct errs	 e;

	ck_assert_ptr_nonnull(rs = ruleset_new());
	ck_assert_int_eq(ruleset_add_builtin(rs, no_error, NULL), 0);
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(ruleset_add_text(rs, "rules.list", bad,
	    sizeof(bad) - 1, collect, &e), 2);
	ck_assert_int_eq(e.n, 2);
	ck_assert_str_eq(e.msg[0],
	    "rules.list:2: invalid method list \"GET,\"");
	ck_assert_str_eq(e.msg[1],
	    "rules.list:4: unknown variable \"%VOLUME_NAMES%\"");
	ck_assert_uint_eq(rs->nrules, 6);
	ck_assert_int_eq(match(rs, "GET", "/containers/json"), RULE_NOMATCH);
	ck_assert_int_eq(match(rs, "GET", "/_ping"), 0);

	ck_assert_int_eq(ruleset_add_text(rs, "rules.list", good,
	    sizeof(good) - 1, no_error, NULL), 0);
	ck_assert_uint_eq(rs->nrules, 8);
	ck_assert_int_eq(match(rs, "GET", "/v1.43/containers/json"), 6);
	ck_assert_int_eq(match(rs, "POST", "/containers/create"), 7);
	ck_assert_int_eq(match(rs, "GET", "/containers/create"),
	    RULE_NOMATCH);
	ck_assert_int_eq(match(rs, "GET", "/info"), 4);
	ruleset_free(rs);
}
END_TEST

START_TEST(test_rules_whole_path)
{
	struct ruleset	*rs;

	rs = load("GET /a|/b\nPOST /c$\nPUT ^/d\nDELETE /e/.*\n"
	    "PATCH /c$\\n\nPATCH /c\\n");
	/* CetusGuard's ^/a|/b$ would take /a/x and /x/b */
	ck_assert_int_eq(match(rs, "GET", "/a"), 0);
	ck_assert_int_eq(match(rs, "GET", "/b"), 0);
	ck_assert_int_eq(match(rs, "GET", "/a/x"), RULE_NOMATCH);
	ck_assert_int_eq(match(rs, "GET", "/x/b"), RULE_NOMATCH);
	ck_assert_int_eq(match(rs, "GET", "/ab"), RULE_NOMATCH);
	ck_assert_int_eq(match(rs, "POST", "/c"), 1);
	/* neither the implicit end nor a '$' matches before a newline */
	ck_assert_int_eq(match(rs, "POST", "/c\n"), RULE_NOMATCH);
	ck_assert_int_eq(match(rs, "GET", "/a\n"), RULE_NOMATCH);
	/* '$' is the very end, as Go's: "/c$\n" matches nothing */
	ck_assert_int_eq(match(rs, "PATCH", "/c\n"), 5);
	ck_assert_int_eq(match(rs, "PUT", "/d"), 2);
	ck_assert_int_eq(match(rs, "PUT", "/x/d"), RULE_NOMATCH);
	ck_assert_int_eq(match(rs, "DELETE", "/e/"), 3);
	ck_assert_int_eq(match(rs, "DELETE", "/e/f/g"), 3);
	/* '.' stops at a newline, as Go's */
	ck_assert_int_eq(match(rs, "DELETE", "/e/f\ng"), RULE_NOMATCH);
	/* pathlen, not NUL, ends the path */
	ck_assert_int_eq(ruleset_match(rs, "GET", "/ab", 2), 0);
	ck_assert_int_eq(rule_match(rs, 0, "GET", "/a\0", 3), 0);
	ruleset_free(rs);

	/* the first matching rule wins */
	rs = load("GET /x/.*\nGET /x/y\nGET,POST /x/y");
	ck_assert_int_eq(match(rs, "GET", "/x/y"), 0);
	ck_assert_int_eq(match(rs, "POST", "/x/y"), 2);
	ck_assert_int_eq(rule_match(rs, 1, "GET", "/x/y", 4), 1);
	ck_assert_int_eq(rule_match(rs, 1, "GET", "/x/z", 4), 0);
	ck_assert_int_eq(rule_match(rs, 3, "GET", "/x/y", 4), RULE_ERROR);
	ruleset_free(rs);

	/* an empty ruleset allows nothing */
	ck_assert_ptr_nonnull(rs = ruleset_new());
	ck_assert_int_eq(match(rs, "GET", "/_ping"), RULE_NOMATCH);
	ck_assert_int_eq(rule_match(rs, 0, "GET", "/_ping", 6), RULE_ERROR);
	ruleset_free(rs);
}
END_TEST

/* Rules as CetusGuard's README and examples write them. */
START_TEST(test_rules_examples)
{
	static const char text[] =
	    "! Get data usage information\n"
	    "GET %API_PREFIX_SYSTEM%/df\n"
	    "! Monitor events\n"
	    "GET %API_PREFIX_EVENTS%\n"
	    "! Inspect a container\n"
	    "GET %API_PREFIX_CONTAINERS%/%CONTAINER_ID_OR_NAME%/json\n"
	    "GET,HEAD,POST,PUT,DELETE %API_PREFIX_IMAGES%(/.*)?\n"
	    "GET %API_PREFIX_IMAGES%/%IMAGE_ID_OR_REFERENCE%/json\n"
	    "GET %API_PREFIX_LIBPOD_CONTAINERS%/%CONTAINER_ID_OR_NAME%/json\n";
	static const struct mcase cases[] = {
		{ "GET", "/v1.43/system/df", 0 },
		{ "GET", "/events", 1 },
		{ "GET", "/v1.43/containers/my_app/json", 2 },
		{ "GET", "/containers/" "0123456789abcdef/json", 2 },
		{ "GET", "/containers/x/json", RULE_NOMATCH },
		{ "GET", "/containers/my%2Fapp/json", RULE_NOMATCH },
		{ "POST", "/containers/my_app/json", RULE_NOMATCH },
		{ "DELETE", "/v1.43/images/busybox", 3 },
		{ "POST", "/images", 3 },
		{ "POST", "/imagesx", RULE_NOMATCH },
		{ "GET", "/v4.0.0/libpod/containers/my_app/json", 5 },
		{ "GET", "/libpod/containers/my_app/json", RULE_NOMATCH },
	};
	struct ruleset	*rs;
	size_t		 i;
	int		 got;

	rs = load(text);
	ck_assert_uint_eq(rs->nrules, 6);
	for (i = 0; i < NELEM(cases); i++) {
		got = match(rs, cases[i].method, cases[i].path);
		ck_assert_msg(got == cases[i].want, "%s %s: got %d, want %d",
		    cases[i].method, cases[i].path, got, cases[i].want);
	}
	ruleset_free(rs);

	rs = load("GET %API_PREFIX_IMAGES%/%IMAGE_ID_OR_REFERENCE%/json");
	ck_assert_int_eq(match(rs, "GET",
	    "/v1.43/images/localhost:5000/a/b:tag/json"), 0);
	ck_assert_int_eq(match(rs, "GET", "/images/[::1]:5000/a@sha256:"
	    "09c731d73926315908778730f9e606864fb72f1523d5c1c81c02dc51563885ba"
	    "/json"), 0);
	ck_assert_int_eq(match(rs, "GET", "/images/a//b/json"),
	    RULE_NOMATCH);
	ruleset_free(rs);
}
END_TEST

static int	 warned;
static char	 warning[512];

/* rule_match() warns only through the ruleset's callback. */
static void
sink(void *arg, const char *msg)
{
	warned++;
	(void)strlcpy(warning, msg, sizeof(warning));
}

START_TEST(test_rules_utf8)
{
	struct ruleset	*rs;

	rs = load("GET /caf\xc3\xa9/.\nPOST /x");
	ck_assert_int_eq(match(rs, "GET", "/caf\xc3\xa9/\xe2\x82\xac"), 0);
	ck_assert_int_eq(match(rs, "GET", "/caf\xc3\xa9/ab"), RULE_NOMATCH);
	/* canon.c lets none through, but a bad path must not match */
	warned = 0;
	ck_assert_int_eq(match(rs, "GET", "/caf\xc3\xa9/\xff"), RULE_ERROR);
	ck_assert_int_eq(warned, 0);	/* no callback: silent */
	ruleset_set_warn(rs, sink, NULL);
	ck_assert_int_eq(match(rs, "GET", "/caf\xc3\xa9/\xff"), RULE_ERROR);
	ck_assert_int_eq(warned, 1);
	ck_assert_str_eq(warning, "rules.list:1: GET \"/caf\\xc3\\xa9/\\xff\" "
	    "(8 bytes): UTF-8 error: illegal byte (0xfe or 0xff), denied");
	ruleset_free(rs);
}
END_TEST

static double
elapsed(const struct timespec *t0)
{
	struct timespec	 t1;

	ck_assert_int_eq(clock_gettime(CLOCK_MONOTONIC, &t1), 0);
	return (t1.tv_sec - t0->tv_sec) + (t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static char *
repeat(char c, size_t n, const char *prefix, const char *suffix)
{
	char	*s;
	size_t	 plen = strlen(prefix), slen = strlen(suffix);

	ck_assert_ptr_nonnull(s = malloc(plen + n + slen + 1));
	memcpy(s, prefix, plen);
	memset(s + plen, c, n);
	memcpy(s + plen + n, suffix, slen + 1);
	return s;
}

/*
 * A catastrophic pattern costs its client a denial, within milliseconds
 * (the 1 s bound is for correctness, not speed), and the admin a warning
 * naming the rule.  (a+)+b needs a 'b' in the path: PCRE2 looks for a
 * required character before it backtracks.
 */
START_TEST(test_rules_limit)
{
	struct ruleset	*rs;
	struct timespec	 t0;
	char		*path;

	rs = load("! bad\nGET /(a+)+b\nGET /.*");
	ruleset_set_warn(rs, sink, NULL);

	path = repeat('a', 40, "/", "bc");
	warned = 0;
	ck_assert_int_eq(clock_gettime(CLOCK_MONOTONIC, &t0), 0);
	ck_assert_int_eq(rule_match(rs, 0, "GET", path, strlen(path)),
	    RULE_LIMIT);
	ck_assert_double_lt(elapsed(&t0), 1.0);
	ck_assert_int_eq(warned, 1);
	ck_assert_str_eq(warning, "rules.list:2: GET "
	    "\"/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaabc\" (43 bytes): "
	    "match limit exceeded, denied");
	/* fail closed: the later rule that would allow it is not tried */
	ck_assert_int_eq(clock_gettime(CLOCK_MONOTONIC, &t0), 0);
	ck_assert_int_eq(ruleset_match(rs, "GET", path, strlen(path)),
	    RULE_LIMIT);
	ck_assert_double_lt(elapsed(&t0), 1.0);
	ck_assert_int_eq(warned, 2);
	/* other methods never reach the pattern */
	ck_assert_int_eq(ruleset_match(rs, "POST", path, strlen(path)),
	    RULE_NOMATCH);
	ck_assert_int_eq(warned, 2);
	free(path);

	/* without a 'b' PCRE2 gives up at once */
	path = repeat('a', 4000, "/", "c");
	ck_assert_int_eq(clock_gettime(CLOCK_MONOTONIC, &t0), 0);
	ck_assert_int_eq(rule_match(rs, 0, "GET", path, strlen(path)), 0);
	ck_assert_double_lt(elapsed(&t0), 1.0);
	ck_assert_int_eq(ruleset_match(rs, "GET", path, strlen(path)), 1);
	ck_assert_int_eq(warned, 2);
	free(path);
	ruleset_free(rs);

	/*
	 * Each repetition of a capturing group costs a frame: over a long
	 * path that is the heap limit.  Plain groups do not capture, so
	 * (a|b)* is fine.
	 */
	rs = load("GET /(?<x>a|b)*\nGET /(a|b)*");
	ruleset_set_warn(rs, sink, NULL);
	path = repeat('a', 4000, "/", "");
	ck_assert_int_eq(clock_gettime(CLOCK_MONOTONIC, &t0), 0);
	ck_assert_int_eq(rule_match(rs, 0, "GET", path, strlen(path)),
	    RULE_LIMIT);
	ck_assert_double_lt(elapsed(&t0), 1.0);
	ck_assert_int_eq(warned, 3);
	ck_assert_str_eq(warning, "rules.list:1: GET "
	    "\"/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaa...\" (4001 bytes): heap limit exceeded, denied");
	ck_assert_int_eq(rule_match(rs, 1, "GET", path, strlen(path)), 1);
	ck_assert_int_eq(warned, 3);
	free(path);
	ruleset_free(rs);
}
END_TEST

/* The built-in variables stay clear of the limits on long paths. */
START_TEST(test_rules_no_limit)
{
	struct ruleset	*rs;
	char		*p;
	size_t		 i;

	rs = load("GET %API_PREFIX_IMAGES%/%IMAGE_ID_OR_REFERENCE%/json\n"
	    "GET %API_PREFIX_NETWORKS%/%NETWORK_ID_OR_NAME%\n");
	p = repeat('a', 4000, "/images/", "/json");
	/* "a.a-a/a_a.a-a/a_..." and a last component ending in '-' */
	for (i = 9; i < 4000; i += 2)
		p[i] = ".-/_"[(i / 2) % 4];
	ck_assert_int_eq(match(rs, "GET", p), 0);
	p[4007] = '-';
	ck_assert_int_eq(match(rs, "GET", p), RULE_NOMATCH);
	free(p);
	p = repeat('a', 4000, "/networks/", "");
	ck_assert_int_eq(match(rs, "GET", p), 1);
	p[4009] = '/';
	ck_assert_int_eq(match(rs, "GET", p), RULE_NOMATCH);
	free(p);
	ruleset_free(rs);
}
END_TEST

Suite *
rules_suite(void)
{
	Suite	*s = suite_create("rules");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_rules_builtin);
	tcase_add_test(tc, test_rules_builtin_format);
	tcase_add_test(tc, test_rules_format_truncation);
	tcase_add_test(tc, test_rules_format_roundtrip);
	tcase_add_test(tc, test_rules_comments_blanks);
	tcase_add_test(tc, test_rules_lines);
	tcase_add_test(tc, test_rules_methods);
	tcase_add_test(tc, test_rules_invalid);
	tcase_add_test(tc, test_rules_too_long);
	tcase_add_test(tc, test_rules_refused_whole);
	tcase_add_test(tc, test_rules_whole_path);
	tcase_add_test(tc, test_rules_examples);
	tcase_add_test(tc, test_rules_utf8);
	tcase_add_test(tc, test_rules_limit);
	tcase_add_test(tc, test_rules_no_limit);
	suite_add_tcase(s, tc);
	return s;
}
