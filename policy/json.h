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
 * A strict JSON reader for request bodies (policy/json.c): RFC 8259 and
 * nothing more, with limits, into a read-only tree.  Pure: no I/O, no
 * globals but constant tables.
 *
 * Refused: an empty input, a byte order mark, comments, trailing commas,
 * bytes after the value (whitespace, SP HT LF CR only, aside),
 * NaN/Infinity, leading zeros, '+' signs, invalid UTF-8 (overlongs,
 * surrogates, > U+10FFFF, cut short), unpaired \u surrogates, control
 * characters in strings, a member name holding a NUL (names are C strings
 * here: "Privileged\u0000x" would read as "Privileged", while Go sees
 * another name; \u0000 in a string value is fine, see len below), input,
 * nesting or members and elements over the limits, and duplicate member
 * names in one object -- compared after \u escapes are decoded and under
 * Unicode simple case folding, as Go's encoding/json (which Docker uses)
 * matches a name to a field: "ſ" (U+017F) folds with "s", the Kelvin sign
 * (U+212A) with "k".  Go takes the last of two such members; refusing
 * both orders leaves nothing for a checker and Docker to disagree on.
 */

#ifndef MOATD_JSON_H
#define MOATD_JSON_H

#include <stddef.h>

enum json_type {
	JSON_NULL = 1,
	JSON_FALSE,
	JSON_TRUE,
	JSON_NUMBER,
	JSON_STRING,
	JSON_ARRAY,
	JSON_OBJECT,
};

struct json_value {
	enum json_type		 type;
	/*
	 * STRING: the decoded UTF-8 (NUL-terminated; len excludes the NUL
	 * and a decoded \u0000 may sit inside: use len).  NUMBER: the
	 * literal as written, NUL-terminated.  Otherwise NULL and 0.
	 */
	char			*str;
	size_t			 len;
	/* ARRAY: n elements.  OBJECT: n members, in the order written. */
	size_t			 n;
	struct json_value	*items;		/* ARRAY elements, OBJECT values */
	char			**keys;		/* OBJECT: decoded names, NUL-term. */
	size_t			*keylens;
};

struct json_limits {
	size_t	 size_max;	/* input bytes */
	size_t	 depth_max;	/* nesting of arrays and objects */
	size_t	 items_max;	/* members and elements, in all */
	/*
	 * 0: two member names equal under simple case folding are a
	 * duplicate (what a client sends: Go's decoder would take either).
	 * 1: only names equal byte for byte are (the daemon's own maps,
	 * where labels "a" and "A" are two labels); json_get() then prefers
	 * the member named exactly as asked.
	 */
	int	 exact_names;
};

#define JSON_SIZE_MAX	(8 * 1024 * 1024)
#define JSON_DEPTH_MAX	64
#define JSON_ITEMS_MAX	65536

struct json_doc;

/*
 * Parse len bytes (a whole body).  limits may be NULL for the defaults
 * above.  Returns the document, or NULL with why (a static string, e.g.
 * "duplicate key", "trailing bytes after the value") and *off (the byte
 * offset where it was found) set; NULL with why "out of memory" too.
 */
struct json_doc		*json_parse(const char *, size_t,
			    const struct json_limits *, const char **why,
			    size_t *off);
const struct json_value	*json_root(const struct json_doc *);
void			 json_free(struct json_doc *);

/*
 * The member of object o whose name matches key as Go's encoding/json
 * matches a struct field's name: exactly or under simple case folding
 * (there is at most one: json_parse() refuses two).  NULL when o is not
 * an object or has no such member.
 */
const struct json_value	*json_get(const struct json_value *o,
			    const char *key);
/*
 * s as a JSON string, quotes included, appended at dst[*off] (dstsz in
 * all; always NUL-terminated): valid UTF-8 as it is, '"', '\\' and the
 * control characters escaped, a byte that starts no valid sequence as
 * \ufffd.  Of s, at most max bytes are taken (cut at a character's
 * start, "..." after the cut).  0, or -1 when it does not fit (dst is
 * then as it was).
 */
int			 json_write_str(char *dst, size_t dstsz, size_t *off,
			    const char *s, size_t max);
/* 1 when a and b (UTF-8, counted) are equal under simple case folding. */
int			 json_fold_eq(const char *a, size_t alen,
			    const char *b, size_t blen);

#endif /* MOATD_JSON_H */
