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
 * Private to rules.c, vars.c and their unit tests: the table of built-in
 * %VARIABLES% and the expander, which takes the table as an argument so
 * that the tests can feed it a cyclic one.
 */

#ifndef MOATD_VARS_H
#define MOATD_VARS_H

#include <stddef.h>

#define VARS_DEPTH_MAX		16	/* nesting of %VARS% in definitions */
#define VARS_EXPANDED_MAX	65536	/* bytes of one expanded pattern */

struct rules_var {
	const char	*name;		/* without the % */
	const char	*value;		/* a regex fragment, may name %VARS% */
};

extern const struct rules_var	rules_vars[];
extern const size_t		rules_nvars;

/* What went wrong, and where in the pattern as written. */
struct vars_error {
	const char	*why;
	size_t		 offset;	/* of the offending %NAME% */
	size_t		 length;	/* of it, both '%' included */
};

/*
 * Expand every %NAME% of pattern (len bytes, no NUL inside) through table.
 * Returns a malloc'd NUL-terminated string, or NULL with *err filled in
 * (err->why is "out of memory" when malloc failed).
 */
char	*vars_expand(const struct rules_var *, size_t, const char *, size_t,
	    struct vars_error *);
/* Length of the %NAME% reference starting at s[0] == '%', or 0. */
size_t	 vars_reference(const char *, size_t);

#endif /* MOATD_VARS_H */
