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
 * A rules file must mean the same in moatd and in CetusGuard, which
 * compiles patterns with Go's regexp (RE2 syntax, syntax.Perl flags).
 * PCRE2 accepts far more, and reads a few shared spellings differently,
 * so every pattern is scanned here first, in the manner of Go's
 * regexp/syntax parser, and refused when Go would refuse it or when
 * PCRE2 could read it otherwise: lookaround, backreferences, possessive
 * and stacked quantifiers, atomic groups, recursion, conditionals,
 * callouts, verbs, comments, \Z \C \K \G \R \X \h \v \e and the other
 * PCRE2-only escapes, flags other than i m s U, repeat counts over 1000
 * (alone or multiplied by nesting), expressions Go finds too large.
 * What is left is read alike by both; PCRE2 still compiles it and
 * refuses what it cannot (a \p name it does not know, say).
 *
 * The scanner is a pure function over the expanded pattern.  It keeps,
 * per open group, the size Go would compile the group to and the largest
 * product of nested counted repeats inside it, which are Go's limits.
 */

#include <stdint.h>
#include <string.h>

#include "policy.h"

#define RE2_REPEAT_MAX	1000		/* syntax.maxRepeat */
#define RE2_SIZE_MAX	((128 << 20) / 40)	/* syntax.maxSize, in insts */
#define RE2_DEPTH_MAX	250		/* PCRE2's default parens limit */

/* One open group: what it holds so far. */
struct re2_frame {
	uint64_t	 altsize;	/* alternatives before the current one */
	uint64_t	 nalts;		/* '|' seen */
	uint64_t	 cursize;	/* current alternative, last atom aside */
	uint64_t	 inner;		/* largest repeat product inside */
	int		 capture;
	int		 fold;		/* (?i) when the group opened */
};

/* The item a quantifier would apply to. */
struct re2_atom {
	int		 present;
	uint64_t	 size;
	uint64_t	 inner;
};

struct re2_scan {
	const char		*p;
	size_t			 len;
	size_t			 i;
	size_t			*off;
	const char		**why;
	struct re2_frame	 st[RE2_DEPTH_MAX + 1];
	size_t			 depth;
	struct re2_atom		 last;
	int			 lastrepeat;
	int			 fold;		/* (?i) in effect */
};

static int
re2_fail(struct re2_scan *s, size_t at, const char *why)
{
	*s->off = at;
	*s->why = why;
	return -1;
}

static int
re2_isalnum(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z');
}

/* Length of the UTF-8 sequence at p[i] (the rules loader checked it). */
static size_t
re2_runelen(const char *p, size_t len, size_t i, uint32_t *cp)
{
	unsigned char	 c = (unsigned char)p[i];
	size_t		 n, k;

	*cp = c;
	if (c < 0x80)
		return 1;
	if (c < 0xe0) {
		n = 2;
		*cp = c & 0x1f;
	} else if (c < 0xf0) {
		n = 3;
		*cp = c & 0x0f;
	} else {
		n = 4;
		*cp = c & 0x07;
	}
	if (n > len - i)
		n = len - i;
	for (k = 1; k < n; k++)
		*cp = *cp << 6 | ((unsigned char)p[i + k] & 0x3f);
	return n;
}

/* Why an escape \c that is neither RE2 nor read alike is refused. */
static const char *
re2_escape_why(int c)
{
	switch (c) {
	case '1': case '2': case '3': case '4': case '5': case '6':
	case '7': case '8': case '9': case 'g': case 'k':
		return "backreference (or \\1-\\9 octal, which PCRE2 may "
		    "read as one); RE2 has none";
	case 'Z':
		return "\\Z is not RE2 syntax (\\z is)";
	case 'C':
		return "\\C is not RE2 syntax";
	case 'K':
		return "\\K is not RE2 syntax";
	case 'G':
		return "\\G is not RE2 syntax";
	case 'R':
		return "\\R is not RE2 syntax";
	case 'X':
		return "\\X is not RE2 syntax";
	case 'h': case 'H':
		return "\\h and \\H are not RE2 syntax";
	case 'v': case 'V':
		return "\\v and \\V mean vertical whitespace in PCRE2, "
		    "not RE2's vertical tab (write \\x0B)";
	case 'e':
		return "\\e is not RE2 syntax (write \\x1B)";
	case 'E':
		return "\\E without \\Q is not RE2 syntax";
	case 'N':
		return "\\N is not RE2 syntax";
	case 'c': case 'o': case 'u': case 'U': case 'l': case 'L':
		return "PCRE2-only escape, not RE2 syntax";
	case 'b':
		return "\\b in a character class is not RE2 syntax "
		    "(write \\x08)";
	case 'Q':
		return "\\Q in a character class is not RE2 syntax";
	}
	return "escape that is not RE2 syntax";
}

/*
 * A single-character escape at s->p[s->i] == '\\' (Go's parseEscape, less
 * what PCRE2 reads otherwise): sets *cp and advances, or fails.
 */
static int
re2_char_escape(struct re2_scan *s, uint32_t *cp)
{
	size_t	 at = s->i, n;
	int	 c, v, k;

	if (s->i + 1 >= s->len)
		return re2_fail(s, at, "trailing backslash");
	c = (unsigned char)s->p[s->i + 1];
	s->i += 2;
	switch (c) {
	case '0':
		*cp = 0;
		for (k = 0; k < 2 && s->i < s->len && s->p[s->i] >= '0' &&
		    s->p[s->i] <= '7'; k++)
			*cp = *cp * 8 + (uint32_t)(s->p[s->i++] - '0');
		return 0;
	case 'x':
		if (s->i < s->len && s->p[s->i] == '{') {
			*cp = 0;
			for (n = 0, s->i++; s->i < s->len && s->p[s->i] != '}';
			    s->i++, n++) {
				v = http_hexval(s->p[s->i]);
				if (v < 0)
					return re2_fail(s, at,
					    "invalid \\x{...} escape");
				*cp = *cp * 16 + (uint32_t)v;
				if (*cp > 0x10ffff)
					return re2_fail(s, at,
					    "\\x{...} beyond U+10FFFF");
			}
			if (s->i == s->len || n == 0)
				return re2_fail(s, at,
				    "invalid \\x{...} escape");
			s->i++;
			return 0;
		}
		/* Exactly two hex digits: PCRE2 takes fewer, RE2 not. */
		if (s->len - s->i < 2 ||
		    http_hexval(s->p[s->i]) < 0 ||
		    http_hexval(s->p[s->i + 1]) < 0)
			return re2_fail(s, at, "\\x needs two hex digits "
			    "or braces in RE2");
		*cp = (uint32_t)(http_hexval(s->p[s->i]) << 4 |
		    http_hexval(s->p[s->i + 1]));
		s->i += 2;
		return 0;
	case 'a':
		*cp = 0x07;
		return 0;
	case 'f':
		*cp = 0x0c;
		return 0;
	case 'n':
		*cp = 0x0a;
		return 0;
	case 'r':
		*cp = 0x0d;
		return 0;
	case 't':
		*cp = 0x09;
		return 0;
	}
	if (c < 0x80 && !re2_isalnum(c)) {
		*cp = (uint32_t)c;
		return 0;
	}
	return re2_fail(s, at, re2_escape_why(c));
}

/*
 * Is the \p name (letters and '_', maybe a leading '^') a cased-letter
 * category?  Go folds those under (?i) (\p{Lu} then matches "k"), PCRE2
 * does not.  Names are compared loosely, as both engines do.
 */
static int
re2_case_category(const char *n, size_t len)
{
	static const char *const cased[] = {
		"lu", "ll", "lt", "lc", "uppercaseletter", "lowercaseletter",
		"titlecaseletter", "casedletter",
	};
	char	 buf[32];
	size_t	 i, k = 0;

	for (i = 0; i < len && k + 1 < sizeof(buf); i++) {
		if (n[i] == '_' || n[i] == '^')
			continue;
		buf[k++] = (n[i] >= 'A' && n[i] <= 'Z') ? n[i] - 'A' + 'a' :
		    n[i];
	}
	buf[k] = '\0';
	for (i = 0; i < sizeof(cased) / sizeof(cased[0]); i++)
		if (strcmp(buf, cased[i]) == 0)
			return 1;
	return 0;
}

/*
 * \pX, \p{Name}, \p{^Name} and the \P forms at s->p[s->i] == '\\'.  The
 * name must be letters and '_' (both read names loosely; PCRE2's "L&",
 * "Xan" or "bc=..." forms are its own).  PCRE2 refuses names it does not
 * know; Go refuses its unknowns too.
 */
static int
re2_unicode_class(struct re2_scan *s)
{
	size_t	 at = s->i, j;
	int	 c;

	s->i += 2;
	if (s->i >= s->len)
		return re2_fail(s, at, "\\p without a name");
	if (s->p[s->i] != '{') {
		c = (unsigned char)s->p[s->i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')))
			return re2_fail(s, at, "\\p with a name that is not "
			    "a letter");
		s->i++;
		return 0;
	}
	j = s->i + 1;
	if (j < s->len && s->p[j] == '^')
		j++;
	if (j < s->len && (s->p[j] == 'X' || s->p[j] == 'x'))
		return re2_fail(s, at, "PCRE2-only \\p{X..} property");
	for (; j < s->len && s->p[j] != '}'; j++) {
		c = (unsigned char)s->p[j];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    c == '_'))
			return re2_fail(s, at, "\\p{...} name that is not "
			    "letters and '_'");
	}
	if (j == s->len || j == s->i + 1 || s->p[j - 1] == '^')
		return re2_fail(s, at, "invalid \\p{...}");
	if (s->fold && re2_case_category(s->p + s->i + 1, j - s->i - 1))
		return re2_fail(s, at, "\\p{Lu}, \\p{Ll}, \\p{Lt} under (?i): "
		    "RE2 folds their case, PCRE2 does not");
	s->i = j + 1;
	return 0;
}

static int
re2_is_perl_class(int c)
{
	return c == 'd' || c == 'D' || c == 's' || c == 'S' || c == 'w' ||
	    c == 'W';
}

static const char *const re2_posix[] = {
	"alnum", "alpha", "ascii", "blank", "cntrl", "digit", "graph",
	"lower", "print", "punct", "space", "upper", "word", "xdigit",
};

/* At "[:" inside a class: 1 when a POSIX class was consumed, 0 if the
 * '[' is a literal (no ":]" follows), -1 for an unknown name (as Go). */
static int
re2_posix_class(struct re2_scan *s)
{
	const char	*end, *name;
	size_t		 k, n;

	end = memmem(s->p + s->i + 2, s->len - s->i - 2, ":]", 2);
	if (end == NULL)
		return 0;
	name = s->p + s->i + 2;
	if (name < end && *name == '^')
		name++;
	n = end - name;
	for (k = 0; k < sizeof(re2_posix) / sizeof(re2_posix[0]); k++)
		if (strlen(re2_posix[k]) == n &&
		    memcmp(re2_posix[k], name, n) == 0) {
			s->i = end + 2 - s->p;
			return 1;
		}
	return re2_fail(s, s->i, "unknown POSIX class name");
}

/* One class member for a range end; *cp its value, *single 0 for a
 * class escape (\d, \pL, [:alpha:]) that cannot bound a range. */
static int
re2_class_member(struct re2_scan *s, uint32_t *cp, int *single)
{
	int	 c, rc;

	*single = 1;
	if (s->i >= s->len)
		return re2_fail(s, s->len, "missing closing ]");
	if (s->len - s->i > 2 && s->p[s->i] == '[' && s->p[s->i + 1] == ':') {
		if ((rc = re2_posix_class(s)) != 0) {
			*single = 0;
			return rc == 1 ? 0 : -1;
		}
	}
	if (s->p[s->i] != '\\') {
		s->i += re2_runelen(s->p, s->len, s->i, cp);
		return 0;
	}
	c = s->i + 1 < s->len ? (unsigned char)s->p[s->i + 1] : 0;
	if (c == 'p' || c == 'P') {
		*single = 0;
		return re2_unicode_class(s);
	}
	if (re2_is_perl_class(c)) {
		*single = 0;
		s->i += 2;
		return 0;
	}
	return re2_char_escape(s, cp);
}

/* A bracketed class at s->p[s->i] == '['. */
static int
re2_class(struct re2_scan *s)
{
	size_t		 at = s->i, rs;
	uint32_t	 lo, hi;
	int		 first = 1, single, hsingle;

	s->i++;
	if (s->i < s->len && s->p[s->i] == '^')
		s->i++;
	while (s->i >= s->len || s->p[s->i] != ']' || first) {
		if (s->i >= s->len)
			return re2_fail(s, at, "missing closing ]");
		first = 0;
		rs = s->i;
		if (re2_class_member(s, &lo, &single) == -1)
			return -1;
		if (s->len - s->i < 2 || s->p[s->i] != '-' ||
		    s->p[s->i + 1] == ']')
			continue;
		if (!single)
			return re2_fail(s, rs, "range from a class escape "
			    "(Go reads it as a literal '-', PCRE2 refuses)");
		s->i++;
		if (re2_class_member(s, &hi, &hsingle) == -1)
			return -1;
		if (!hsingle)
			return re2_fail(s, rs, "range to a class escape");
		/* Out of order: both refuse; PCRE2 says so below. */
	}
	s->i++;
	return 0;
}

/* Go's parseRepeat: {n}, {n,} or {n,m}, no leading zeros.  Returns 1 and
 * sets min and max (-1: none), or 0 when '{' is not a repeat. */
static int
re2_parse_repeat(const char *p, size_t len, size_t *i, long *min,
    long *max)
{
	size_t	 j = *i + 1;
	long	*v;
	int	 k;

	for (k = 0; k < 2; k++) {
		v = k == 0 ? min : max;
		if (j >= len || p[j] < '0' || p[j] > '9')
			return 0;
		if (p[j] == '0' && j + 1 < len && p[j + 1] >= '0' &&
		    p[j + 1] <= '9')
			return 0;
		for (*v = 0; j < len && p[j] >= '0' && p[j] <= '9'; j++)
			if ((*v = *v * 10 + (p[j] - '0')) > 100000000)
				*v = 100000000;
		if (j >= len)
			return 0;
		if (k == 0 && p[j] == ',') {
			if (++j < len && p[j] == '}') {
				*max = -1;
				break;
			}
			continue;
		}
		if (k == 0)
			*max = *min;
		break;
	}
	if (j >= len || p[j] != '}')
		return 0;
	*i = j + 1;
	return 1;
}

/* Apply a quantifier to the last atom (Go's repeat()). */
static int
re2_repeat(struct re2_scan *s, size_t at, long min, long max, int counted)
{
	uint64_t	 m, sub = s->last.size;

	if (s->lastrepeat)
		return re2_fail(s, at, "quantifier after a quantifier "
		    "(possessive or stacked), not RE2 syntax");
	if (!s->last.present)
		return re2_fail(s, at, "missing argument to repetition "
		    "operator");
	if (s->i < s->len && s->p[s->i] == '?')
		s->i++;
	if (!counted) {
		s->last.size = (min == 0 && max == -1 ? 2 : 1) + sub;
		s->lastrepeat = 1;
		return 0;
	}
	if (min > RE2_REPEAT_MAX || max > RE2_REPEAT_MAX ||
	    (max >= 0 && min > max))
		return re2_fail(s, at, "repeat count over 1000 or out of "
		    "order, not RE2 syntax");
	m = (uint64_t)(max == -1 ? min : max);
	if (max == 0)
		s->last.inner = 1;
	else {
		if ((min >= 2 || max >= 2) &&
		    m * s->last.inner > RE2_REPEAT_MAX)
			return re2_fail(s, at, "nested repeat counts over "
			    "1000 in all, not RE2 syntax");
		s->last.inner *= m > 0 ? m : 1;
	}
	if (max == -1)
		s->last.size = min == 0 ? 2 + sub : 1 + (uint64_t)min * sub;
	else
		s->last.size = (uint64_t)max * sub + (uint64_t)(max - min);
	if (s->last.size == 0)
		s->last.size = 1;
	if (s->last.size > RE2_SIZE_MAX)
		return re2_fail(s, at, "expression too large for RE2");
	s->lastrepeat = 1;
	return 0;
}

/* A new atom: the previous one joins the current alternative. */
static int
re2_atom(struct re2_scan *s, size_t at, uint64_t size, uint64_t inner)
{
	struct re2_frame	*f = &s->st[s->depth];

	if (s->last.present) {
		f->cursize += s->last.size;
		if (s->last.inner > f->inner)
			f->inner = s->last.inner;
	}
	if (f->cursize > RE2_SIZE_MAX)
		return re2_fail(s, at, "expression too large for RE2");
	s->last.present = 1;
	s->last.size = size;
	s->last.inner = inner;
	s->lastrepeat = 0;
	return 0;
}

/* Close the current alternative of the top frame. */
static void
re2_end_alt(struct re2_scan *s)
{
	struct re2_frame	*f = &s->st[s->depth];

	if (s->last.present) {
		f->cursize += s->last.size;
		if (s->last.inner > f->inner)
			f->inner = s->last.inner;
	}
	f->altsize += f->cursize > 0 ? f->cursize : 1;
	f->cursize = 0;
	s->last.present = 0;
	s->lastrepeat = 0;
}

/* PCRE2's "(?" forms RE2 lacks, by the byte after "(?". */
static const struct {
	const char	*after;
	const char	*why;
} pcre_groups[] = {
	{ "=!*", "lookahead is not RE2 syntax" },
	{ "<", "lookbehind is not RE2 syntax" },
	{ ">", "atomic group is not RE2 syntax" },
	{ "|", "branch reset group is not RE2 syntax" },
	{ "#", "comment group is not RE2 syntax" },
	{ "(", "conditional group is not RE2 syntax" },
	{ "C", "callout is not RE2 syntax" },
	{ "R&+0123456789",
	    "recursion or subroutine call is not RE2 syntax" },
	{ "P", "(?P=name) backreference or (?P>name) call is not RE2 syntax" },
	{ "'", "(?'name') group is not RE2 syntax (write (?P<name>...))" },
};

/* "(?" forms: named groups, flags, non-capturing groups; the rest is
 * PCRE2's.  Advances past the prefix; returns 2 for a named group, 1 for
 * a non-capturing one, 0 for a flag change, or -1. */
static int
re2_perl_group(struct re2_scan *s, int *fold)
{
	size_t		 at = s->i, j;
	const char	*p = s->p;
	size_t		 k;
	int		 c, neg = 0, saw = 0;

	*fold = s->fold;

	j = s->i + 2;
	c = j < s->len ? (unsigned char)p[j] : 0;
	if (c == 'P' && j + 1 < s->len && p[j + 1] == '<')
		j += 2;
	else if (c == '<' && j + 1 < s->len && p[j + 1] != '=' &&
	    p[j + 1] != '!')
		j++;
	else
		j = 0;
	if (j != 0) {
		for (s->i = j; s->i < s->len && p[s->i] != '>'; s->i++)
			if (p[s->i] != '_' && !re2_isalnum(
			    (unsigned char)p[s->i]))
				return re2_fail(s, at, "invalid group name "
				    "(RE2 takes [A-Za-z0-9_]+)");
		if (s->i == s->len || s->i == j)
			return re2_fail(s, at, "invalid named group");
		s->i++;
		return 2;
	}
	for (k = 0; c != 0 && k < sizeof(pcre_groups) / sizeof(pcre_groups[0]);
	    k++)
		if (strchr(pcre_groups[k].after, c) != NULL)
			return re2_fail(s, at, pcre_groups[k].why);
	for (j = s->i + 2; j < s->len; j++) {
		c = (unsigned char)p[j];
		switch (c) {
		case 'i':
			*fold = !neg;
			/* FALLTHROUGH */
		case 'm': case 's': case 'U':
			saw = 1;
			continue;
		case '-':
			if (neg)
				return re2_fail(s, at, "invalid flag group");
			if (j == s->i + 2 && j + 1 < s->len &&
			    p[j + 1] >= '0' && p[j + 1] <= '9')
				return re2_fail(s, at, "recursion or "
				    "subroutine call is not RE2 syntax");
			neg = 1;
			saw = 0;
			continue;
		case ':': case ')':
			if (neg && !saw)
				return re2_fail(s, at, "invalid flag group");
			s->i = j + 1;
			return c == ':';
		}
		return re2_fail(s, at, "flag other than i, m, s and U, "
		    "not RE2 syntax");
	}
	return re2_fail(s, at, "missing closing )");
}

static int
re2_open(struct re2_scan *s, int capture)
{
	struct re2_frame	*f;

	/* The group itself is the next atom; commit the previous one. */
	if (re2_atom(s, s->i, 0, 1) == -1)
		return -1;
	s->last.present = 0;
	if (s->depth == RE2_DEPTH_MAX)
		return re2_fail(s, s->i, "groups nested too deeply");
	f = &s->st[++s->depth];
	memset(f, 0, sizeof(*f));
	f->inner = 1;
	f->capture = capture;
	f->fold = s->fold;
	return 0;
}

static int
re2_close(struct re2_scan *s)
{
	struct re2_frame	*f;
	uint64_t		 size;

	if (s->depth == 0)
		return re2_fail(s, s->i, "unexpected )");
	re2_end_alt(s);
	f = &s->st[s->depth--];
	s->fold = f->fold;
	size = f->altsize + f->nalts + (f->capture ? 2 : 0);
	s->i++;
	if (re2_atom(s, s->i - 1, size, f->inner) == -1)
		return -1;
	return 0;
}

static int
re2_escape(struct re2_scan *s)
{
	size_t		 at = s->i;
	const char	*e;
	uint32_t	 cp;
	int		 c;

	if (s->i + 1 >= s->len)
		return re2_fail(s, at, "trailing backslash");
	c = (unsigned char)s->p[s->i + 1];
	switch (c) {
	case 'A': case 'b': case 'B': case 'z':
		s->i += 2;
		return re2_atom(s, at, 1, 1);
	case 'Q':
		e = memmem(s->p + s->i + 2, s->len - s->i - 2, "\\E", 2);
		s->i += 2;
		if (e == NULL)
			e = s->p + s->len;
		if (s->p + s->i == e) {
			if (e < s->p + s->len)
				s->i += 2;
			s->lastrepeat = 0;
			return 0;
		}
		while (s->p + s->i < e) {
			s->i += re2_runelen(s->p, e - s->p, s->i, &cp);
			if (re2_atom(s, at, 1, 1) == -1)
				return -1;
		}
		if (e < s->p + s->len)
			s->i += 2;
		return 0;
	case 'p': case 'P':
		if (re2_unicode_class(s) == -1)
			return -1;
		return re2_atom(s, at, 1, 1);
	}
	if (re2_is_perl_class(c)) {
		s->i += 2;
		return re2_atom(s, at, 1, 1);
	}
	if (re2_char_escape(s, &cp) == -1)
		return -1;
	return re2_atom(s, at, 1, 1);
}

/* A '{' that is not a repeat in Go: a literal there, maybe not in PCRE2. */
static int
re2_brace(struct re2_scan *s)
{
	size_t	 at = s->i, j;
	long	 min, max;

	if (re2_parse_repeat(s->p, s->len, &s->i, &min, &max))
		return re2_repeat(s, at, min, max, 1);
	for (j = s->i + 1; j < s->len && (s->p[j] == ' ' || s->p[j] == '\t');
	    j++)
		;
	if (j < s->len && ((s->p[j] >= '0' && s->p[j] <= '9') ||
	    s->p[j] == ','))
		return re2_fail(s, at, "'{' that RE2 reads as a literal but "
		    "PCRE2 may read as a quantifier (write \\{)");
	s->i++;
	return re2_atom(s, at, 1, 1);
}

static int
re2_step(struct re2_scan *s)
{
	size_t		 at = s->i;
	uint32_t	 cp;
	int		 rc, fold;

	switch (s->p[s->i]) {
	case '(':
		if (s->i + 1 < s->len && s->p[s->i + 1] == '*')
			return re2_fail(s, at, "(*VERB) is not RE2 syntax");
		if (s->i + 1 < s->len && s->p[s->i + 1] == '?') {
			if ((rc = re2_perl_group(s, &fold)) == -1)
				return -1;
			if (rc == 0) {
				s->fold = fold;
				s->lastrepeat = 0;
				return 0;
			}
			if (re2_open(s, rc == 2) == -1)
				return -1;
			s->fold = fold;
			return 0;
		}
		if (re2_open(s, 1) == -1)
			return -1;
		s->i++;
		return 0;
	case ')':
		return re2_close(s);
	case '|':
		re2_end_alt(s);
		s->st[s->depth].nalts++;
		s->i++;
		return 0;
	case '*': case '+': case '?':
		s->i++;
		return re2_repeat(s, at, s->p[at] == '+' ? 1 : 0,
		    s->p[at] == '?' ? 1 : -1, 0);
	case '{':
		return re2_brace(s);
	case '[':
		if (re2_class(s) == -1)
			return -1;
		return re2_atom(s, at, 1, 1);
	case '\\':
		return re2_escape(s);
	}
	s->i += re2_runelen(s->p, s->len, s->i, &cp);
	return re2_atom(s, at, 1, 1);
}

int
re2_check(const char *p, size_t len, size_t *off, const char **why)
{
	static struct re2_scan	 zero;
	struct re2_scan		 s = zero;
	uint64_t		 size;

	s.p = p;
	s.len = len;
	s.off = off;
	s.why = why;
	s.st[0].inner = 1;
	*off = 0;
	*why = NULL;
	while (s.i < len)
		if (re2_step(&s) == -1)
			return -1;
	if (s.depth > 0)
		return re2_fail(&s, len, "missing closing )");
	re2_end_alt(&s);
	size = s.st[0].altsize + s.st[0].nalts;
	if (size > RE2_SIZE_MAX)
		return re2_fail(&s, 0, "expression too large for RE2");
	return 0;
}
