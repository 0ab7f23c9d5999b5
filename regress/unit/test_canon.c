/* Unit tests for policy/canon.c: request-target canonicalisation. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "policy.h"

struct canon_case {
	const char	*in;
	size_t		 len;		/* 0: strlen(in) */
	const char	*path;		/* NULL: refused */
	const char	*query;		/* or the expected why when refused */
};

#define OK(i, p, q)	{ i, 0, p, q }
#define NO(i, w)	{ i, 0, NULL, w }

static const struct canon_case cases[] = {
	/* plain and versioned */
	OK("/", "/", ""),
	OK("/_ping", "/_ping", ""),
	OK("/v1.43/containers/abc/json", "/v1.43/containers/abc/json", ""),
	OK("/containers/json?all=1", "/containers/json", "all=1"),
	/* repeated slashes, dot segments, trailing slash: as path.Clean */
	OK("//_ping", "/_ping", ""),
	OK("/a//b/./c/..", "/a/b", ""),
	OK("/containers/json/", "/containers/json", ""),
	OK("/a/b/../c", "/a/c", ""),
	OK("/a/./b/.", "/a/b", ""),
	OK("/.", "/", ""),
	OK("/./", "/", ""),
	OK("//", "/", ""),
	OK("///a///", "/a", ""),
	OK("/a/..", "/", ""),
	OK("/a/../", "/", ""),
	OK("/a/b/../..", "/", ""),
	OK("/a/b/c/../../d", "/a/d", ""),
	OK("/.../x", "/.../x", ""),
	OK("/..a/.b/a..", "/..a/.b/a..", ""),
	/* unreserved escapes are decoded, before cleaning */
	OK("/%41", "/A", ""),
	OK("/%7e", "/~", ""),
	OK("/%7E%5f%2d%30", "/~_-0", ""),
	OK("/%2e/", "/", ""),
	OK("/a/%2e%2e", "/", ""),
	OK("/a/b/%2E%2e/c", "/a/c", ""),
	OK("/a/.%2e/b", "/b", ""),
	OK("/a/%2e%2e%2e", "/a/...", ""),
	OK("/contain%65rs/json", "/containers/json", ""),
	/* every other allowed escape is decoded too: Docker reads that */
	OK("/a%3fb", "/a?b", ""),
	OK("/a%3Fb?c", "/a?b", "c"),
	OK("/a%23b", "/a#b", ""),
	OK("/img%3alatest", "/img:latest", ""),
	OK("/u%40h/%2b/%20", "/u@h/+/ ", ""),
	OK("/%3F/..", "/", ""),
	OK("/t/a%20b", "/t/a b", ""),
	OK("/%22%3C%3E%5E%60%7B%7C%7D", "/\"<>^`{|}", ""),
	/* IPv6 literals: brackets raw or encoded */
	OK("/t/[::1]", "/t/[::1]", ""),
	OK("/t/%5B%3A%3A1%5D", "/t/[::1]", ""),
	OK("/t/%5b::1%5d:5000/lib/busybox:latest",
	    "/t/[::1]:5000/lib/busybox:latest", ""),
	/* a decoded "." or ".." is one; a decoded '?' or ' ' is not */
	OK("/a/%2E%3F", "/a/.?", ""),
	OK("/a/%20..", "/a/ ..", ""),
	/* raw sub-delims, ':' and '@' are pchar */
	OK("/a:b@c!$&'()*+,;=", "/a:b@c!$&'()*+,;=", ""),
	/* the query: checked, forwarded unchanged */
	OK("/_ping?", "/_ping", ""),
	OK("/x?a=b&c=%20", "/x", "a=b&c=%20"),
	OK("/x?a=%2f%2F%25%23", "/x", "a=%2f%2F%25%23"),
	OK("/x?a=/b?c:d@e", "/x", "a=/b?c:d@e"),
	OK("/x?filters=%7B%22label%22%3A%5B%22%C3%A9%22%5D%7D", "/x",
	    "filters=%7B%22label%22%3A%5B%22%C3%A9%22%5D%7D"),
	OK("/a/../b?x/../y", "/b", "x/../y"),
	OK("/x??", "/x", "?"),
	OK("/x?a+b", "/x", "a+b"),

	/* not origin-form */
	NO("", "origin-form"),
	NO("*", "origin-form"),
	NO("http://h/x", "origin-form"),
	NO("x/y", "origin-form"),
	NO("?a", "origin-form"),
	NO("%2F", "origin-form"),
	/* fragments */
	NO("/a#frag", "fragment"),
	NO("/a?b#c", "fragment"),
	NO("/#", "fragment"),
	/* root escapes: Go would clamp, we refuse */
	NO("/..", "root"),
	NO("/../x", "root"),
	NO("/a/../../x", "root"),
	NO("/%2e%2e/x", "root"),
	NO("/%2E%2e/", "root"),
	NO("/a/b/../../..", "root"),
	NO("/./..", "root"),
	NO("/../a/..", "root"),
	/* encoded separators and escapes that change meaning */
	NO("/a%2Fb", "encoded slash"),
	NO("/a%2fb", "encoded slash"),
	NO("/a%5cb", "encoded backslash"),
	NO("/a%5Cb", "encoded backslash"),
	NO("/a%25b", "encoded percent"),
	NO("/a%252e%252e", "encoded percent"),
	NO("/a%00", "encoded control"),
	NO("/a%01", "encoded control"),
	NO("/a%1f", "encoded control"),
	NO("/a%7F", "encoded control"),
	NO("/a%2F../..", "encoded slash"),
	NO("/x/%2F/..", "encoded slash"),
	/* invalid escapes */
	NO("/%", "invalid percent-escape in path"),
	NO("/%4", "invalid percent-escape in path"),
	NO("/%zz", "invalid percent-escape in path"),
	NO("/%4g", "invalid percent-escape in path"),
	NO("/%%41", "invalid percent-escape in path"),
	NO("/a%?b", "invalid percent-escape in path"),
	NO("/a%2?b", "invalid percent-escape in path"),
	/* non-ASCII */
	NO("/\xc3\xa9", "non-ASCII"),
	NO("/%C3%A9", "encoded non-ASCII"),
	NO("/%80", "encoded non-ASCII"),
	NO("/%ff", "encoded non-ASCII"),
	/* raw backslash, CTL, space, other characters */
	NO("/a\\b", "backslash"),
	NO("/a\\..\\b", "backslash"),
	NO("/a b", "control byte or space"),
	NO("/a\tb", "control byte or space"),
	NO("/a\rb", "control byte or space"),
	NO("/a\x7f", "control byte or space"),
	NO("/a\"b", "invalid character in path"),
	NO("/a<b>", "invalid character in path"),
	NO("/a{b}", "invalid character in path"),
	NO("/a|b", "invalid character in path"),
	NO("/a^b", "invalid character in path"),
	NO("/a`b", "invalid character in path"),
	/* the query's own check */
	NO("/x?a=%00", "encoded control byte in query"),
	NO("/x?a=%0a", "encoded control byte in query"),
	NO("/x?a=%7f", "encoded control byte in query"),
	NO("/x?a=%", "invalid percent-escape in query"),
	NO("/x?a=%4", "invalid percent-escape in query"),
	NO("/x?a=%zz", "invalid percent-escape in query"),
	NO("/x?a b", "control byte or space"),
	NO("/x?a=\xc3\xa9", "non-ASCII"),
	NO("/x?a\\b", "invalid character in query"),
	NO("/x?a={}", "invalid character in query"),
	NO("/x?a=[1]", "invalid character in query"),
	NO("/x?a=\"", "invalid character in query"),
	/* a bad query refuses even a good path, and the other way round */
	NO("/a%2Fb?ok", "encoded slash"),
	NO("/ok/..?\x01", "control byte"),
};

static const struct canon_case nul_cases[] = {
	{ "/a\0b", 4, NULL, "control byte" },
	{ "/\0", 2, NULL, "control byte" },
	{ "/x?a\0", 5, NULL, "control byte" },
	{ "\0/", 2, NULL, "origin-form" },
	/* the length, not a NUL, bounds the target */
	{ "/ab/..", 3, "/ab", "" },
	{ "/a?bc", 4, "/a", "b" },
	{ "/a?bc", 3, "/a", "" },
};

static void
check_case(const struct canon_case *c, size_t i)
{
	char		 path[CANON_PATH_MAX], query[CANON_QUERY_MAX];
	const char	*why = NULL;
	size_t		 len;
	int		 r;

	len = c->len != 0 ? c->len : strlen(c->in);
	memset(path, 'X', sizeof(path));
	memset(query, 'X', sizeof(query));
	r = canon_target(c->in, len, path, sizeof(path), query,
	    sizeof(query), &why);
	if (c->path == NULL) {
		ck_assert_msg(r == -1, "case %zu \"%s\": accepted as \"%s\"",
		    i, c->in, path);
		ck_assert_msg(why != NULL && strstr(why, c->query) != NULL,
		    "case %zu \"%s\": why \"%s\", want \"%s\"", i, c->in,
		    why == NULL ? "(null)" : why, c->query);
		ck_assert_str_eq(path, "");
		ck_assert_str_eq(query, "");
		return;
	}
	ck_assert_msg(r == 0, "case %zu \"%s\": refused: %s", i, c->in,
	    why == NULL ? "(null)" : why);
	ck_assert_msg(strcmp(path, c->path) == 0,
	    "case %zu \"%s\": path \"%s\", want \"%s\"", i, c->in, path,
	    c->path);
	ck_assert_msg(strcmp(query, c->query) == 0,
	    "case %zu \"%s\": query \"%s\", want \"%s\"", i, c->in, query,
	    c->query);
}

START_TEST(test_canon_table)
{
	check_case(&cases[_i], (size_t)_i);
}
END_TEST

START_TEST(test_canon_nul)
{
	check_case(&nul_cases[_i], (size_t)_i);
}
END_TEST

/*
 * What is forwarded (the encoded path and the query) canonicalises back
 * to the same decoded path and query, and passes the relay's check.
 */
START_TEST(test_canon_idempotent)
{
	const struct canon_case	*c = &cases[_i];
	char			 path[CANON_PATH_MAX], query[CANON_QUERY_MAX];
	char			 again[CANON_PATH_MAX], q2[CANON_QUERY_MAX];
	char			 enc[CANON_PATH_MAX];
	char			 target[CANON_PATH_MAX + CANON_QUERY_MAX + 2];
	const char		*why;
	int			 n;

	if (c->path == NULL)
		return;
	ck_assert_int_eq(canon_target(c->in, strlen(c->in), path,
	    sizeof(path), query, sizeof(query), &why), 0);
	ck_assert_uint_lt(canon_path_encode(path, enc, sizeof(enc)),
	    sizeof(enc));
	n = snprintf(target, sizeof(target), "%s%s%s", enc,
	    query[0] != '\0' ? "?" : "", query);
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(canon_target(target, (size_t)n, again, sizeof(again),
	    q2, sizeof(q2), &why), 0);
	ck_assert_str_eq(again, path);
	ck_assert_str_eq(q2, query);
	ck_assert_int_eq(canon_verify(path, target), 1);
}
END_TEST

/* The one encoding: pchar and '/' as they are, the rest %XX upper-case. */
START_TEST(test_canon_encode)
{
	static const struct {
		const char	*path;
		const char	*enc;
	} t[] = {
		{ "/", "/" },
		{ "/a:b@c!$&'()*+,;=-._~", "/a:b@c!$&'()*+,;=-._~" },
		{ "/t/a b", "/t/a%20b" },
		{ "/a?b#c", "/a%3Fb%23c" },
		{ "/[::1]:5000/x", "/%5B::1%5D:5000/x" },
		{ "/\"<>^`{|}", "/%22%3C%3E%5E%60%7B%7C%7D" },
		/* any byte, for the log: %, \\, CTL, non-ASCII */
		{ "/%\\\x01\x7f\xc3\xa9", "/%25%5C%01%7F%C3%A9" },
	};
	char	 buf[64];
	size_t	 i, n;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		n = canon_path_encode(t[i].path, buf, sizeof(buf));
		ck_assert_str_eq(buf, t[i].enc);
		ck_assert_uint_eq(n, strlen(t[i].enc));
		ck_assert_uint_eq(canon_path_encode(t[i].path, NULL, 0), n);
	}
	/* truncated like snprintf, never inside the NUL */
	n = canon_path_encode("/a b", buf, 4);
	ck_assert_uint_eq(n, 6);
	ck_assert_str_eq(buf, "/a%");
}
END_TEST

/* The relay's check: exactly the canonical target, nothing else. */
START_TEST(test_canon_verify)
{
	static const struct {
		const char	*path;
		const char	*target;
		int		 ok;
	} t[] = {
		{ "/t/a b", "/t/a%20b", 1 },
		{ "/t/a b", "/t/a%20b?x=1", 1 },
		{ "/a?b", "/a%3Fb?c", 1 },
		{ "/t/[::1]", "/t/%5B::1%5D", 1 },
		{ "/", "/", 1 },
		{ "/t/a b", "/t/a b", 0 },		/* not encoded */
		{ "/t/a b", "/t/a%20b?", 0 },		/* empty query */
		{ "/a?b", "/a%3fb", 0 },		/* lower-case hex */
		{ "/a:b", "/a%3Ab", 0 },		/* pchar encoded */
		{ "/t/[::1]", "/t/[::1]", 0 },		/* raw brackets */
		{ "/a", "/a/", 0 },			/* not clean */
		{ "/a", "/b/../a", 0 },
		{ "/a", "/b", 0 },			/* another path */
		{ "/secret", "/allowed/../secret", 0 },
		{ "/a", "/a?x#y", 0 },			/* fragment */
		{ "/a", "/a?\x01", 0 },			/* bad query */
		{ "/a/../b", "/a/../b", 0 },		/* path not canonical */
		{ "/a%2Fb", "/a%252Fb", 0 },
		{ "", "", 0 },
	};
	size_t	 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		ck_assert_msg(canon_verify(t[i].path, t[i].target) == t[i].ok,
		    "case %zu: \"%s\" \"%s\": want %d", i, t[i].path,
		    t[i].target, t[i].ok);
}
END_TEST

/* A path of n bytes: "/" then 'a's, with a '/' every 100 bytes. */
static char *
long_path(size_t n, const char *suffix)
{
	char	*p;
	size_t	 i, sl = strlen(suffix);

	p = malloc(n + sl + 1);
	ck_assert_ptr_nonnull(p);
	for (i = 0; i < n; i++)
		p[i] = i % 100 == 0 ? '/' : 'a';
	memcpy(p + n, suffix, sl + 1);
	return p;
}

START_TEST(test_canon_path_limit)
{
	char		 path[CANON_PATH_MAX], query[16];
	const char	*why = NULL;
	char		*in;

	/* CANON_PATH_MAX - 1 bytes and the NUL: fits exactly */
	in = long_path(CANON_PATH_MAX - 1, "");
	ck_assert_int_eq(canon_target(in, strlen(in), path, sizeof(path),
	    query, sizeof(query), &why), 0);
	ck_assert_str_eq(path, in);
	free(in);

	/* one more byte: refused */
	in = long_path(CANON_PATH_MAX, "");
	ck_assert_int_eq(canon_target(in, strlen(in), path, sizeof(path),
	    query, sizeof(query), &why), -1);
	ck_assert_str_eq(why, "path too long");
	ck_assert_str_eq(path, "");
	free(in);

	/* the limit applies to the result, not to what was sent */
	in = long_path(3 * CANON_PATH_MAX, "/../x");
	memset(in + 1, 'b', 3 * CANON_PATH_MAX - 1);	/* one segment */
	ck_assert_int_eq(canon_target(in, strlen(in), path, sizeof(path),
	    query, sizeof(query), &why), 0);
	ck_assert_str_eq(path, "/x");
	free(in);
	/* a long tail removed, the head kept at the limit */
	in = long_path(CANON_PATH_MAX - 1, "/bbbbbbbbbb/c/../..");
	ck_assert_int_eq(canon_target(in, strlen(in), path, sizeof(path),
	    query, sizeof(query), &why), 0);
	ck_assert_uint_eq(strlen(path), CANON_PATH_MAX - 1);
	free(in);
	in = long_path(3 * CANON_PATH_MAX, "");
	ck_assert_int_eq(canon_target(in, strlen(in), path, sizeof(path),
	    query, sizeof(query), &why), -1);
	ck_assert_str_eq(why, "path too long");
	free(in);
}
END_TEST

START_TEST(test_canon_small_buffers)
{
	char		 path[8], query[4];
	const char	*why = NULL;

	/* 7 bytes and the NUL fit in 8 */
	ck_assert_int_eq(canon_target("/abcdef", 7, path, sizeof(path),
	    query, sizeof(query), &why), 0);
	ck_assert_str_eq(path, "/abcdef");
	ck_assert_int_eq(canon_target("/abcdefg", 8, path, sizeof(path),
	    query, sizeof(query), &why), -1);
	ck_assert_str_eq(why, "path too long");
	/* decoding shrinks: 3 * 7 bytes sent, 7 kept */
	ck_assert_int_eq(canon_target("/%61%62%63%64%65%66", 19, path,
	    sizeof(path), query, sizeof(query), &why), 0);
	ck_assert_str_eq(path, "/abcdef");
	/* the forwarded encoding must fit: "?" is "%3F", three bytes */
	ck_assert_int_eq(canon_target("/ab%3F", 6, path, sizeof(path),
	    query, sizeof(query), &why), 0);
	ck_assert_str_eq(path, "/ab?");
	ck_assert_int_eq(canon_target("/abc%3F", 7, path, sizeof(path),
	    query, sizeof(query), &why), 0);
	ck_assert_int_eq(canon_target("/abcd%3F", 8, path, sizeof(path),
	    query, sizeof(query), &why), -1);
	ck_assert_str_eq(why, "path too long");
	/* a dropped segment does not count */
	ck_assert_int_eq(canon_target("/abcdefghijkl/../x", 18, path,
	    sizeof(path), query, sizeof(query), &why), 0);
	ck_assert_str_eq(path, "/x");
	/* the query: 3 bytes and the NUL fit in 4 */
	ck_assert_int_eq(canon_target("/?abc", 5, path, sizeof(path),
	    query, sizeof(query), &why), 0);
	ck_assert_str_eq(path, "/");
	ck_assert_str_eq(query, "abc");
	ck_assert_int_eq(canon_target("/?abcd", 6, path, sizeof(path),
	    query, sizeof(query), &why), -1);
	ck_assert_str_eq(why, "query too long");
	ck_assert_str_eq(path, "");
	ck_assert_str_eq(query, "");
	/* "/" needs two bytes */
	ck_assert_int_eq(canon_target("/", 1, path, 2, query, 1, &why), 0);
	ck_assert_str_eq(path, "/");
	ck_assert_int_eq(canon_target("/", 1, path, 1, query, 1, &why), -1);
	ck_assert_int_eq(canon_target("/", 1, path, 2, query, 0, &why), -1);
}
END_TEST

START_TEST(test_canon_query_limit)
{
	char		 path[16], query[CANON_QUERY_MAX];
	const char	*why = NULL;
	char		*in;

	in = malloc(CANON_QUERY_MAX + 3);
	ck_assert_ptr_nonnull(in);
	memcpy(in, "/?", 2);
	memset(in + 2, 'q', CANON_QUERY_MAX - 1);
	in[CANON_QUERY_MAX + 1] = '\0';
	ck_assert_int_eq(canon_target(in, strlen(in), path, sizeof(path),
	    query, sizeof(query), &why), 0);
	ck_assert_uint_eq(strlen(query), CANON_QUERY_MAX - 1);
	in[CANON_QUERY_MAX + 1] = 'q';
	in[CANON_QUERY_MAX + 2] = '\0';
	ck_assert_int_eq(canon_target(in, strlen(in), path, sizeof(path),
	    query, sizeof(query), &why), -1);
	ck_assert_str_eq(why, "query too long");
	free(in);
}
END_TEST

Suite *
canon_suite(void)
{
	Suite	*s = suite_create("canon");
	TCase	*tc = tcase_create("core");

	tcase_add_loop_test(tc, test_canon_table, 0,
	    (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_loop_test(tc, test_canon_nul, 0,
	    (int)(sizeof(nul_cases) / sizeof(nul_cases[0])));
	tcase_add_loop_test(tc, test_canon_idempotent, 0,
	    (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_canon_encode);
	tcase_add_test(tc, test_canon_verify);
	tcase_add_test(tc, test_canon_path_limit);
	tcase_add_test(tc, test_canon_small_buffers);
	tcase_add_test(tc, test_canon_query_limit);
	suite_add_tcase(s, tc);
	return s;
}
