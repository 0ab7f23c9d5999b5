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
 * Unit tests for policy/re2.c: one row per construct, what RE2 (Go's
 * regexp, CetusGuard's engine) and PCRE2 both accept and read alike, and
 * what is refused; then the same through the rules loader, which must
 * load the first kind and refuse the second with file:line.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "policy.h"

/* Accepted by re2_check() and by the loader; matches as written. */
static const struct {
	const char	*pattern;
	const char	*yes;		/* a path it matches, or NULL */
	const char	*no;		/* a path it does not, or NULL */
} accepts[] = {
	{ "/a(?i)b", "/aB", "/Ab" },
	{ "/(?i:a)b", "/Ab", "/AB" },
	{ "/(?i)a(?-i)b", "/Ab", "/AB" },
	{ "/(?s).", "/x", NULL },
	{ "/(?m)^x$", NULL, NULL },
	{ "/(?U)a+", "/aaa", NULL },
	{ "/(?U)a+?", "/aaa", NULL },
	{ "/(?is-mU:x)", "/X", NULL },
	{ "/\\x{41}\\x42", "/AB", "/ab" },
	{ "/\\x{1F600}?", "/", NULL },
	{ "/[[:alpha:]]+", "/abc", "/a1" },
	{ "/[[:^digit:]]+", "/abc", "/a1" },
	{ "/[[:word:][:punct:]]+", "/a_!", NULL },
	{ "/\\pL+", "/abc", "/a1" },
	{ "/\\p{Greek}*x", "/x", NULL },
	{ "/\\PN+", "/abc", "/a1" },
	{ "/\\p{^L}", "/1", "/a" },
	{ "/\\p{Lu}(?i)a", "/AA", "/aA" },
	{ "/(?i:a)\\p{Lu}", "/aA", "/aa" },
	{ "/(?i)(?-i)\\p{Ll}", "/a", "/A" },
	{ "/(?i)\\p{Greek}\\pL", NULL, NULL },
	{ "/(?i)[[:upper:]]", "/a", NULL },
	{ "/(?i)[^[:lower:]]", "/1", "/A" },
	{ "/a(?i)b|/C", "/c", "/Ab" },
	{ "/\\Qa.b\\E", "/a.b", "/axb" },
	{ "/\\Qa*", "/a*", "/aa" },
	{ "/(?P<name>x)", "/x", NULL },
	{ "/(?<name>x)", "/x", NULL },
	{ "/\\d\\D\\s\\S\\w\\W", NULL, NULL },
	{ "/\\Aa\\z", NULL, NULL },
	{ "/a\\bb|\\Bc", NULL, NULL },
	{ "/x{2}y{1,3}z{0,}w{1000}", NULL, NULL },
	{ "/(?:a{10}){100}", NULL, NULL },
	{ "/(?:a{0}){1000}", NULL, NULL },
	{ "/a{2}?b*?c+?d??", NULL, NULL },
	{ "/a{", "/a{", NULL },
	{ "/a{b}", "/a{b}", NULL },
	{ "/a{}", "/a{}", NULL },
	{ "/\\{1\\}", "/{1}", NULL },
	{ "/[]a]", "/]", NULL },
	{ "/[^]a]", "/b", "/]" },
	{ "/[a-]", "/-", NULL },
	{ "/[a\\-z]", "/-", "/b" },
	{ "/[\\d\\pL]", "/1", NULL },
	{ "/[\\x41-\\x{5A}]", "/Q", "/q" },
	{ "/[a[b]", "/[", NULL },
	{ "/\\0\\012", NULL, NULL },
	{ "/\\.\\*\\+\\?\\(\\)\\[\\]\\{\\}\\|\\^\\$\\/\\-\\_", NULL, NULL },
	{ "/\\a\\f\\n\\r\\t", NULL, NULL },
	{ "/a|b|", "/a", "/" },
	{ "/()", "/", NULL },
	{ "/(?:)", "/", NULL },
	{ "/%IPV6%", "/[::1]", NULL },
	{ "%API_PREFIX_IMAGES%/%IMAGE_REFERENCE%/json",
	    "/v1.47/images/[::1]:5000/lib/busybox:latest/json", NULL },
};

/* Refused by re2_check(), with a reason containing why, at offset. */
static const struct {
	const char	*pattern;
	size_t		 off;
	const char	*why;
} refuses[] = {
	/* lookaround */
	{ "/a(?=b)", 2, "lookahead" },
	{ "/a(?!b)", 2, "lookahead" },
	{ "/(?<=a)b", 1, "lookbehind" },
	{ "/(?<!a)b", 1, "lookbehind" },
	{ "/(?*a)", 1, "lookahead" },
	/* backreferences */
	{ "/(a)\\1", 4, "backreference" },
	{ "/(a)\\12", 4, "backreference" },
	{ "/\\8", 1, "backreference" },
	{ "/(?P<n>a)\\k<n>", 9, "backreference" },
	{ "/(a)\\g1", 4, "backreference" },
	{ "/(a)\\g{-1}", 4, "backreference" },
	{ "/(?P<n>a)(?P=n)", 9, "backreference" },
	/* possessive and stacked quantifiers, atomic groups */
	{ "/a*+", 3, "quantifier after a quantifier" },
	{ "/a++", 3, "quantifier after a quantifier" },
	{ "/a?+", 3, "quantifier after a quantifier" },
	{ "/a{2}+", 5, "quantifier after a quantifier" },
	{ "/a{2}{3}", 5, "quantifier after a quantifier" },
	{ "/a*?+", 4, "quantifier after a quantifier" },
	{ "/a**", 3, "quantifier after a quantifier" },
	{ "/(?>a)", 1, "atomic" },
	/* escapes that RE2 lacks or reads otherwise */
	{ "/a\\Z", 2, "\\Z" },
	{ "/a\\C", 2, "\\C" },
	{ "/a\\Kb", 2, "\\K" },
	{ "/\\Ga", 1, "\\G" },
	{ "/\\R", 1, "\\R" },
	{ "/\\X", 1, "\\X" },
	{ "/\\h", 1, "\\h" },
	{ "/\\H", 1, "\\h" },
	{ "/\\v", 1, "vertical" },
	{ "/[\\V]", 2, "vertical" },
	{ "/\\e", 1, "\\e" },
	{ "/\\N", 1, "\\N" },
	{ "/\\cA", 1, "PCRE2-only" },
	{ "/\\o{101}", 1, "PCRE2-only" },
	{ "/a\\E", 2, "\\E without \\Q" },
	{ "/\\xA", 1, "two hex digits" },
	{ "/\\x", 1, "two hex digits" },
	{ "/\\x{}", 1, "\\x{" },
	{ "/\\x{110000}", 1, "U+10FFFF" },
	{ "/\\q", 1, "not RE2" },
	{ "/\\\xc3\xa9", 1, "not RE2" },
	{ "/[\\b]", 2, "\\b in a character class" },
	{ "/[\\Qa\\E]", 2, "\\Q in a character class" },
	{ "/\\p{L&}", 1, "\\p{" },
	{ "/\\p{Xan}", 1, "PCRE2-only" },
	{ "/\\p{bc=L}", 1, "\\p{" },
	{ "/\\p1", 1, "\\p" },
	/* Go folds the case of cased-letter categories under (?i) */
	{ "/(?i)\\p{Lu}", 5, "under (?i)" },
	{ "/(?i:\\P{Ll})", 5, "under (?i)" },
	{ "/(?i)[\\p{Lt}]", 6, "under (?i)" },
	{ "/(?i)(a)\\p{^Lowercase_Letter}", 8, "under (?i)" },
	/* recursion, subroutines, callouts, conditionals, verbs */
	{ "/(?R)", 1, "recursion" },
	{ "/(a)(?1)", 4, "recursion" },
	{ "/(a)(?-1)", 4, "recursion" },
	{ "/(a)(?+1)(b)", 4, "recursion" },
	{ "/(?&n)(?<n>a)", 1, "recursion" },
	{ "/(?P>n)", 1, "(?P>name)" },
	{ "/(?C1)a", 1, "callout" },
	{ "/(?(1)a|b)", 1, "conditional" },
	{ "/(*FAIL)", 1, "VERB" },
	{ "(*UTF)/x", 0, "VERB" },
	{ "/a(*SKIP)b", 2, "VERB" },
	/* flags and groups only PCRE2 has */
	{ "/(?x)a b", 1, "flag other than" },
	{ "/(?n)a", 1, "flag other than" },
	{ "/(?J)a", 1, "flag other than" },
	{ "/(?^)a", 1, "flag other than" },
	{ "/(?i-)a", 1, "invalid flag group" },
	{ "/(?-)a", 1, "invalid flag group" },
	{ "/(?i--m)a", 1, "invalid flag group" },
	{ "/(?#comment)a", 1, "comment" },
	{ "/(?|(a)|(b))", 1, "branch reset" },
	{ "/(?'n'a)", 1, "(?'name')" },
	{ "/(?P<a-b>x)", 1, "group name" },
	{ "/(?<>x)", 1, "named group" },
	/* counts */
	{ "/a{1001}", 2, "over 1000" },
	{ "/a{0,1001}", 2, "over 1000" },
	{ "/a{1001,}", 2, "over 1000" },
	{ "/a{99999999999}", 2, "over 1000" },
	{ "/a{3,2}", 2, "out of order" },
	{ "/(?:a{100}){11}", 11, "nested repeat" },
	{ "/(?:(?:a{10}){10}){11}", 18, "nested repeat" },
	{ "/(?:a{2}|b{501}){2}", 16, "nested repeat" },
	/* a '{' Go reads as a literal and PCRE2 may not */
	{ "/a{,3}", 2, "write \\{" },
	{ "/a{ 3}", 2, "write \\{" },
	{ "/a{01}", 2, "write \\{" },
	{ "/a{1,02}", 2, "write \\{" },
	/* classes */
	{ "/[\\d-z]", 2, "range from a class escape" },
	{ "/[a-\\d]", 2, "range to a class escape" },
	{ "/[[:foo:]]", 2, "POSIX" },
	{ "/[[:alpha]b:]]", 2, "POSIX" },
	/* structure */
	{ "*a", 0, "missing argument" },
	{ "/(*)", 1, "VERB" },
	{ "(?i)*", 4, "missing argument" },
	{ "/a|*", 3, "missing argument" },
	{ "/a)", 2, "unexpected )" },
	{ "/(a", 3, "missing closing )" },
	{ "/[a", 1, "missing closing ]" },
	{ "/a\\", 2, "trailing backslash" },
};

START_TEST(test_re2_accepts)
{
	const char	*why;
	size_t		 i, off;

	for (i = 0; i < sizeof(accepts) / sizeof(accepts[0]); i++) {
		if (strchr(accepts[i].pattern, '%') != NULL)
			continue;	/* the loader expands those */
		ck_assert_msg(re2_check(accepts[i].pattern,
		    strlen(accepts[i].pattern), &off, &why) == 0,
		    "\"%s\" refused at %zu: %s", accepts[i].pattern, off, why);
	}
}
END_TEST

START_TEST(test_re2_refuses)
{
	const char	*why;
	size_t		 i, off;

	for (i = 0; i < sizeof(refuses) / sizeof(refuses[0]); i++) {
		ck_assert_msg(re2_check(refuses[i].pattern,
		    strlen(refuses[i].pattern), &off, &why) == -1,
		    "\"%s\" accepted", refuses[i].pattern);
		ck_assert_msg(strstr(why, refuses[i].why) != NULL &&
		    off == refuses[i].off, "\"%s\": \"%s\" at %zu, want "
		    "\"%s\" at %zu", refuses[i].pattern, why, off,
		    refuses[i].why, refuses[i].off);
	}
}
END_TEST

static void
no_error(void *arg, const char *msg)
{
	ck_abort_msg("unexpected error: %s", msg);
}

static void
save_error(void *arg, const char *msg)
{
	strlcpy(arg, msg, 512);
}

/* Through the loader: accepted ones load and match as RE2 would. */
START_TEST(test_re2_rules_accept)
{
	struct ruleset	*rs;
	char		 text[512];
	size_t		 i;

	for (i = 0; i < sizeof(accepts) / sizeof(accepts[0]); i++) {
		ck_assert_ptr_nonnull(rs = ruleset_new());
		(void)snprintf(text, sizeof(text), "GET %s",
		    accepts[i].pattern);
		ck_assert_int_eq(ruleset_add_text(rs, "r", text, strlen(text),
		    no_error, NULL), 0);
		if (accepts[i].yes != NULL)
			ck_assert_msg(ruleset_match(rs, "GET", accepts[i].yes,
			    strlen(accepts[i].yes)) == 0, "\"%s\" on \"%s\"",
			    accepts[i].pattern, accepts[i].yes);
		if (accepts[i].no != NULL)
			ck_assert_msg(ruleset_match(rs, "GET", accepts[i].no,
			    strlen(accepts[i].no)) == RULE_NOMATCH,
			    "\"%s\" on \"%s\"", accepts[i].pattern,
			    accepts[i].no);
		ruleset_free(rs);
	}
}
END_TEST

/* Refused ones fail to load, naming the file and line. */
START_TEST(test_re2_rules_refuse)
{
	struct ruleset	*rs;
	char		 text[512], msg[512], want[600];
	size_t		 i;

	for (i = 0; i < sizeof(refuses) / sizeof(refuses[0]); i++) {
		ck_assert_ptr_nonnull(rs = ruleset_new());
		(void)snprintf(text, sizeof(text), "! a comment\nGET /ok\n"
		    "GET %s\n", refuses[i].pattern);
		msg[0] = '\0';
		ck_assert_msg(ruleset_add_text(rs, "rules.list", text,
		    strlen(text), save_error, msg) == 1, "\"%s\" loaded",
		    refuses[i].pattern);
		ck_assert_uint_eq(rs->nrules, 0);
		(void)snprintf(want, sizeof(want), "rules.list:3: invalid "
		    "pattern ");
		ck_assert_msg(strncmp(msg, want, strlen(want)) == 0,
		    "\"%s\": %s", refuses[i].pattern, msg);
		ruleset_free(rs);
	}
	/* the expansion's offset is named as such */
	ck_assert_ptr_nonnull(rs = ruleset_new());
	(void)snprintf(text, sizeof(text), "GET %%API_PREFIX%%/x(?=y)");
	ck_assert_int_eq(ruleset_add_text(rs, "f", text, strlen(text),
	    save_error, msg), 1);
	ck_assert_msg(strstr(msg, "lookahead") != NULL &&
	    strstr(msg, "of its expansion") != NULL, "%s", msg);
	ruleset_free(rs);
}
END_TEST

/* Every built-in variable expands to RE2 syntax read alike. */
START_TEST(test_re2_builtin)
{
	struct ruleset	*rs;

	ck_assert_ptr_nonnull(rs = ruleset_new());
	ck_assert_int_eq(ruleset_add_builtin(rs, no_error, NULL), 0);
	ruleset_free(rs);
}
END_TEST

Suite *
re2_suite(void)
{
	Suite	*s = suite_create("re2");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_re2_accepts);
	tcase_add_test(tc, test_re2_refuses);
	tcase_add_test(tc, test_re2_rules_accept);
	tcase_add_test(tc, test_re2_rules_refuse);
	tcase_add_test(tc, test_re2_builtin);
	suite_add_tcase(s, tc);
	return s;
}
