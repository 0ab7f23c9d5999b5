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
 * CetusGuard's rule language: "METHODS PATTERN" lines, compiled with PCRE2
 * and matched against the canonical request path.
 *
 * A rule text is refused as a whole when any of its lines is invalid, and
 * every invalid line is reported, so that an admin fixes a file in one go
 * and a typo never leaves half a policy loaded.  Patterns match the whole
 * path (PCRE2_ANCHORED | PCRE2_ENDANCHORED): CetusGuard's "^" + p + "$"
 * lets "GET /a|/b" allow any path that starts with /a; ours does not.
 * Matching runs without JIT, under match, depth and heap limits, so that
 * a bad pattern costs a client a denial, not the policy worker its CPU.
 */

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "vars.h"

#define RULES_BLANK(c)		((c) == ' ' || (c) == '\t')
#define RULES_QUOTE_MAX		72	/* bytes of input quoted in messages */
#define RULES_QUOTE_SIZE	(RULES_QUOTE_MAX * 4 + 8)
#define RULES_MSG_SIZE		1024

/*
 * PCRE2_DOLLAR_ENDONLY keeps a "$" inside a pattern from matching before
 * a final newline, as in Go.  PCRE2_NO_AUTO_CAPTURE: Go has no
 * backreferences, so plain groups need not capture, and frames without
 * captures keep "(a|b)*" over a long path under the heap limit.
 */
#define RULES_PCRE2_OPTIONS	(PCRE2_ANCHORED | PCRE2_ENDANCHORED |	\
				    PCRE2_UTF | PCRE2_DOLLAR_ENDONLY |	\
				    PCRE2_NEVER_BACKSLASH_C |		\
				    PCRE2_NO_AUTO_CAPTURE)

/* CetusGuard's built-in rules: ping, version and info, Docker and Podman. */
static const char rules_builtin[] =
	"! Ping\n"
	"GET,HEAD %API_PREFIX_PING%\n"
	"GET,HEAD %API_PREFIX_LIBPOD_PING%\n"
	"! Get version\n"
	"GET %API_PREFIX_VERSION%\n"
	"GET %API_PREFIX_LIBPOD_VERSION%\n"
	"! Get system information\n"
	"GET %API_PREFIX_INFO%\n"
	"GET %API_PREFIX_LIBPOD_INFO%\n";

struct rules_ctx {
	const char	*source;
	unsigned int	 line;
	rules_errfn	 errfn;
	void		*arg;
	int		 nerrors;
};

static void	 rules_error(struct rules_ctx *, const char *, ...)
		    __attribute__((__format__ (printf, 2, 3)));
static void	 rules_quote(char *, size_t, const char *, size_t);
static int	 rules_methods_valid(const char *, size_t);
static int	 rules_methods_split(struct rule *, const char *, size_t);
static size_t	 rules_utf8_invalid(const char *, size_t);
static int	 rules_compile(struct rules_ctx *, struct rule *,
		    const char *, size_t);
static int	 rules_parse_line(struct rules_ctx *, struct rule *,
		    const char *, size_t);
static void	 rule_clear(struct rule *);
static int	 rule_has_method(const struct rule *, const char *);
static void	 rules_put(char *, size_t, size_t *, const char *);

static void
rules_error(struct rules_ctx *ctx, const char *fmt, ...)
{
	char	 msg[RULES_MSG_SIZE], full[RULES_MSG_SIZE + 64];
	va_list	 ap;

	ctx->nerrors++;
	if (ctx->errfn == NULL)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	(void)snprintf(full, sizeof(full), "%s:%u: %s", ctx->source,
	    ctx->line, msg);
	ctx->errfn(ctx->arg, full);
}

/*
 * Quote untrusted bytes (a rule line, a client's path) for a message:
 * printable ASCII as is, so that a pattern reads as written, the rest as
 * \xHH, at most RULES_QUOTE_MAX input bytes followed by "...".
 */
static void
rules_quote(char *dst, size_t dstsz, const char *s, size_t len)
{
	static const char	 hex[] = "0123456789abcdef";
	unsigned char		 c;
	size_t			 i, o = 0;

	if (dstsz < RULES_QUOTE_SIZE)
		abort();
	dst[o++] = '"';
	for (i = 0; i < len && i < RULES_QUOTE_MAX; i++) {
		c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f)
			dst[o++] = (char)c;
		else {
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 0xf];
		}
	}
	if (i < len) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o++] = '"';
	dst[o] = '\0';
}

/*
 * CetusGuard's ABNF: methods = method *("," method), method = 1*%x41-5A.
 * Returns 1, 0 when s is not such a list, or -1 when a method is longer
 * than a request's method may be (RULE_METHOD_MAX - 1).
 */
static int
rules_methods_valid(const char *s, size_t len)
{
	size_t	 i, n = 0;

	for (i = 0; i < len; i++) {
		if (s[i] >= 'A' && s[i] <= 'Z') {
			if (++n >= RULE_METHOD_MAX)
				return -1;
		} else if (s[i] == ',' && n > 0)
			n = 0;
		else
			return 0;
	}
	return n > 0;
}

/* Split a valid method list into r->methods, dropping duplicates. */
static int
rules_methods_split(struct rule *r, const char *s, size_t len)
{
	const char	*end = s + len, *comma;
	size_t		 i, n, mlen;

	for (n = 1, i = 0; i < len; i++)
		if (s[i] == ',')
			n++;
	if ((r->methods = calloc(n, sizeof(*r->methods))) == NULL)
		return -1;
	while (s < end) {
		if ((comma = memchr(s, ',', end - s)) == NULL)
			comma = end;
		mlen = comma - s;
		for (i = 0; i < r->nmethods; i++)
			if (strlen(r->methods[i]) == mlen &&
			    memcmp(r->methods[i], s, mlen) == 0)
				break;
		if (i == r->nmethods) {
			if ((r->methods[i] = strndup(s, mlen)) == NULL)
				return -1;
			r->nmethods++;
		}
		s = comma + 1;
	}
	return 0;
}

/*
 * Offset + 1 of the first byte that is not part of well-formed UTF-8
 * (RFC 3629: no overlongs, no surrogates, nothing past U+10FFFF) or is
 * NUL, or 0 when all is well.
 */
static size_t
rules_utf8_invalid(const char *str, size_t len)
{
	const unsigned char	*s = (const unsigned char *)str;
	size_t			 i, k, n;
	unsigned int		 cp, min;

	for (i = 0; i < len; i += n) {
		if (s[i] == 0)
			return i + 1;
		if (s[i] < 0x80) {
			n = 1;
			continue;
		}
		if (s[i] >= 0xc2 && s[i] <= 0xdf) {
			n = 2;
			cp = s[i] & 0x1f;
			min = 0x80;
		} else if (s[i] >= 0xe0 && s[i] <= 0xef) {
			n = 3;
			cp = s[i] & 0x0f;
			min = 0x800;
		} else if (s[i] >= 0xf0 && s[i] <= 0xf4) {
			n = 4;
			cp = s[i] & 0x07;
			min = 0x10000;
		} else
			return i + 1;
		if (n > len - i)
			return i + 1;
		for (k = 1; k < n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return i + 1;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return i + 1;
	}
	return 0;
}

static int
rules_compile(struct rules_ctx *ctx, struct rule *r, const char *p,
    size_t len)
{
	struct vars_error	 verr;
	PCRE2_UCHAR		 msg[256];
	PCRE2_SIZE		 erroff;
	char			 q[RULES_QUOTE_SIZE], ref[RULES_QUOTE_SIZE];
	const char		*why;
	size_t			 bad;
	int			 errcode;

	if ((bad = rules_utf8_invalid(p, len)) != 0) {
		if (p[bad - 1] == '\0')
			rules_error(ctx, "NUL byte in pattern at offset %zu",
			    bad - 1);
		else
			rules_error(ctx, "invalid UTF-8 in pattern at "
			    "offset %zu", bad - 1);
		return -1;
	}
	if ((r->pattern = strndup(p, len)) == NULL) {
		rules_error(ctx, "out of memory");
		return -1;
	}
	if ((r->expanded = vars_expand(rules_vars, rules_nvars, p, len,
	    &verr)) == NULL) {
		rules_quote(ref, sizeof(ref), p + verr.offset, verr.length);
		rules_error(ctx, "%s %s", verr.why, ref);
		return -1;
	}
	r->re = pcre2_compile((PCRE2_SPTR)r->expanded, strlen(r->expanded),
	    RULES_PCRE2_OPTIONS, &errcode, &erroff, NULL);
	if (r->re == NULL) {
		if (pcre2_get_error_message(errcode, msg, sizeof(msg)) < 0)
			(void)strlcpy((char *)msg, "unknown error",
			    sizeof(msg));
		rules_quote(q, sizeof(q), p, len);
		rules_error(ctx, "invalid pattern %s: %s at offset %zu%s", q,
		    (char *)msg, (size_t)erroff,
		    strcmp(r->pattern, r->expanded) == 0 ? "" :
		    " of its expansion");
		return -1;
	}
	/*
	 * CetusGuard compiles with Go's RE2: what PCRE2 accepts must mean
	 * the same there, or it is refused here too.
	 */
	if (re2_check(r->expanded, strlen(r->expanded), &bad, &why) == -1) {
		rules_quote(q, sizeof(q), p, len);
		rules_error(ctx, "invalid pattern %s: %s at offset %zu%s", q,
		    why, bad, strcmp(r->pattern, r->expanded) == 0 ? "" :
		    " of its expansion");
		return -1;
	}
	return 0;
}

/*
 * One line, CR LF already gone: "*blank methods 1*blank pattern *blank",
 * or a comment: blanks only, or "!" after leading blanks.  Returns 1 and
 * fills r for a rule, 0 for a comment, -1 after reporting an error.
 */
static int
rules_parse_line(struct rules_ctx *ctx, struct rule *r, const char *s,
    size_t len)
{
	char	 q[RULES_QUOTE_SIZE];
	size_t	 i, mstart, mend, pend;
	int	 rc;

	for (i = 0; i < len && RULES_BLANK(s[i]); i++)
		;
	if (i == len || s[i] == '!')
		return 0;
	for (mstart = i; i < len && !RULES_BLANK(s[i]); i++)
		;
	mend = i;
	if ((rc = rules_methods_valid(s + mstart, mend - mstart)) != 1) {
		rules_quote(q, sizeof(q), s + mstart, mend - mstart);
		if (rc == -1)
			rules_error(ctx, "method name longer than %d letters "
			    "in %s", RULE_METHOD_MAX - 1, q);
		else
			rules_error(ctx, "invalid method list %s", q);
		return -1;
	}
	for (; i < len && RULES_BLANK(s[i]); i++)
		;
	for (pend = len; pend > i && RULES_BLANK(s[pend - 1]); pend--)
		;
	if (i == pend) {
		rules_error(ctx, "missing pattern");
		return -1;
	}
	memset(r, 0, sizeof(*r));
	r->line = ctx->line;
	if ((r->source = strdup(ctx->source)) == NULL ||
	    rules_methods_split(r, s + mstart, mend - mstart) == -1) {
		rules_error(ctx, "out of memory");
		rule_clear(r);
		return -1;
	}
	if (rules_compile(ctx, r, s + i, pend - i) == -1) {
		rule_clear(r);
		return -1;
	}
	return 1;
}

static void
rule_clear(struct rule *r)
{
	size_t	 i;

	if (r->methods != NULL)
		for (i = 0; i < r->nmethods; i++)
			free(r->methods[i]);
	free(r->methods);
	free(r->source);
	free(r->pattern);
	free(r->expanded);
	pcre2_code_free(r->re);
	memset(r, 0, sizeof(*r));
}

struct ruleset *
ruleset_new(void)
{
	struct ruleset	*rs;

	if ((rs = calloc(1, sizeof(*rs))) == NULL)
		return NULL;
	if ((rs->mctx = pcre2_match_context_create(NULL)) == NULL ||
	    (rs->md = pcre2_match_data_create(1, NULL)) == NULL) {
		ruleset_free(rs);
		return NULL;
	}
	if (pcre2_set_match_limit(rs->mctx, RULES_MATCH_LIMIT) != 0 ||
	    pcre2_set_depth_limit(rs->mctx, RULES_DEPTH_LIMIT) != 0 ||
	    pcre2_set_heap_limit(rs->mctx, RULES_HEAP_LIMIT) != 0) {
		ruleset_free(rs);
		return NULL;
	}
	return rs;
}

void
ruleset_set_warn(struct ruleset *rs, rules_errfn fn, void *arg)
{
	rs->warn = fn;
	rs->warnarg = arg;
}

void
ruleset_free(struct ruleset *rs)
{
	size_t	 i;

	if (rs == NULL)
		return;
	for (i = 0; i < rs->nrules; i++)
		rule_clear(&rs->rules[i]);
	free(rs->rules);
	pcre2_match_context_free(rs->mctx);
	pcre2_match_data_free(rs->md);
	free(rs);
}

/*
 * Lines end in LF or CR LF (a CR at the very end counts as a line end
 * too, as Go's bufio.ScanLines has it for CetusGuard's files).  Rules
 * are built aside and appended only when the whole text is valid.
 */
int
ruleset_add_text(struct ruleset *rs, const char *source, const char *text,
    size_t len, rules_errfn errfn, void *arg)
{
	struct rules_ctx	 ctx = { source, 0, errfn, arg, 0 };
	struct rule		*tmp = NULL, *p;
	const char		*end = text + len, *eol;
	size_t			 i, ntmp = 0, cap = 0, llen;

	while (text < end) {
		if ((eol = memchr(text, '\n', end - text)) == NULL)
			eol = end;
		llen = eol - text;
		if (llen > 0 && text[llen - 1] == '\r')
			llen--;
		ctx.line++;
		if (ntmp == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			p = reallocarray(tmp, cap, sizeof(*tmp));
			if (p == NULL) {
				rules_error(&ctx, "out of memory");
				break;
			}
			tmp = p;
		}
		if (rules_parse_line(&ctx, &tmp[ntmp], text, llen) == 1)
			ntmp++;
		text = eol < end ? eol + 1 : end;
	}
	if (ctx.nerrors == 0 && ntmp > 0) {
		if (ntmp > (size_t)INT_MAX - rs->nrules)
			rules_error(&ctx, "too many rules");
		else if ((p = reallocarray(rs->rules, rs->nrules + ntmp,
		    sizeof(*p))) == NULL)
			rules_error(&ctx, "out of memory");
		else {
			memcpy(p + rs->nrules, tmp, ntmp * sizeof(*tmp));
			rs->rules = p;
			rs->nrules += ntmp;
			ntmp = 0;
		}
	}
	for (i = 0; i < ntmp; i++)
		rule_clear(&tmp[i]);
	free(tmp);
	return ctx.nerrors;
}

int
ruleset_add_builtin(struct ruleset *rs, rules_errfn errfn, void *arg)
{
	return ruleset_add_text(rs, "builtin", rules_builtin,
	    sizeof(rules_builtin) - 1, errfn, arg);
}

static int
rule_has_method(const struct rule *r, const char *method)
{
	size_t	 i;

	for (i = 0; i < r->nmethods; i++)
		if (strcmp(r->methods[i], method) == 0)
			return 1;
	return 0;
}

/*
 * A limit hit means we do not know whether the rule matches: deny, and
 * tell the admin which rule is too expensive for which path.
 */
int
rule_match(const struct ruleset *rs, size_t idx, const char *method,
    const char *path, size_t pathlen)
{
	const struct rule	*r;
	PCRE2_UCHAR		 msg[128];
	char			 q[RULES_QUOTE_SIZE], line[RULES_QUOTE_SIZE + 512];
	int			 rc;

	if (idx >= rs->nrules)
		return RULE_ERROR;
	r = &rs->rules[idx];
	if (!rule_has_method(r, method))
		return 0;
	rc = pcre2_match(r->re, (PCRE2_SPTR)path, pathlen, 0, 0, rs->md,
	    rs->mctx);
	if (rc >= 0)
		return 1;
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	if (rs->warn != NULL) {
		if (pcre2_get_error_message(rc, msg, sizeof(msg)) < 0)
			(void)strlcpy((char *)msg, "unknown error",
			    sizeof(msg));
		rules_quote(q, sizeof(q), path, pathlen);
		(void)snprintf(line, sizeof(line),
		    "%s:%u: %s %s (%zu bytes): %s, denied", r->source,
		    r->line, method, q, pathlen, (char *)msg);
		rs->warn(rs->warnarg, line);
	}
	if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
	    rc == PCRE2_ERROR_HEAPLIMIT)
		return RULE_LIMIT;
	return RULE_ERROR;
}

/* Stops at the first limit or error: fail closed, and spend one limit. */
int
ruleset_match(struct ruleset *rs, const char *method, const char *path,
    size_t pathlen)
{
	size_t	 i;
	int	 rc;

	for (i = 0; i < rs->nrules; i++) {
		if ((rc = rule_match(rs, i, method, path, pathlen)) == 1)
			return (int)i;
		if (rc < 0)
			return rc;
	}
	return RULE_NOMATCH;
}

/* Append s to buf as far as it fits, counting all of it as snprintf. */
static void
rules_put(char *buf, size_t len, size_t *off, const char *s)
{
	size_t	 n = strlen(s), room;

	if (*off + 1 < len) {
		room = len - *off - 1;
		memcpy(buf + *off, s, n < room ? n : room);
	}
	*off += n;
}

size_t
rule_format(const struct rule *r, char *buf, size_t len)
{
	char	 line[16];
	size_t	 i, off = 0;

	(void)snprintf(line, sizeof(line), ":%u ", r->line);
	rules_put(buf, len, &off, r->source);
	rules_put(buf, len, &off, line);
	for (i = 0; i < r->nmethods; i++) {
		if (i > 0)
			rules_put(buf, len, &off, ",");
		rules_put(buf, len, &off, r->methods[i]);
	}
	rules_put(buf, len, &off, " ");
	rules_put(buf, len, &off, r->expanded);
	if (len > 0)
		buf[off < len ? off : len - 1] = '\0';
	return off;
}
