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
 * libFuzzer target for json_parse().  The input is parsed under small
 * limits and under the defaults.  A refusal must say why and where, within
 * the input; what parses under the small limits parses under the
 * defaults too.  A tree is walked: every string and name is valid UTF-8
 * (checked here, not with json.c's decoder) and NUL-terminated, no name
 * holds a NUL, no two names of one object are equal under folding and
 * json_get() finds each, every number matches RFC 8259's grammar, depth
 * and items stay within the limits.  Then the tree is written back as
 * JSON and read again: the same tree.  And a plain recursive reference
 * reader, written from RFC 8259 apart from json.c, gives the same verdict
 * under the small limits.
 *
 * FUZZ_SOURCES: policy/json.c
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "casefold.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const struct json_limits	 small = { 4096, 6, 48, 0 };

struct out {
	char	*buf;
	size_t	 len, cap;
};

static void
out_add(struct out *o, const void *p, size_t n)
{
	if (o->cap - o->len < n) {
		o->cap = (o->len + n) * 2 + 64;
		if ((o->buf = realloc(o->buf, o->cap)) == NULL)
			abort();
	}
	memcpy(o->buf + o->len, p, n);
	o->len += n;
}

/* The length of the valid UTF-8 sequence at s (RFC 3629, 4), or 0. */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	size_t	 k, need;
	uint8_t	 lo = 0x80, hi = 0xbf;

	if (s[0] <= 0x7f)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		need = 1;
	else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		need = 2;
		if (s[0] == 0xe0)
			lo = 0xa0;
		if (s[0] == 0xed)
			hi = 0x9f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		need = 3;
		if (s[0] == 0xf0)
			lo = 0x90;
		if (s[0] == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (n - 1 < need || s[1] < lo || s[1] > hi)
		return 0;
	for (k = 2; k <= need; k++)
		if (s[k] < 0x80 || s[k] > 0xbf)
			return 0;
	return need + 1;
}

static int
utf8_ok(const unsigned char *s, size_t n)
{
	size_t	 i = 0, k;

	while (i < n) {
		if ((k = utf8_seq(s + i, n - i)) == 0)
			return 0;
		i += k;
	}
	return 1;
}

static int
isdig(char c)
{
	return c >= '0' && c <= '9';
}

static int
number_ok(const char *s, size_t n)
{
	size_t	 i = 0, d;

	if (strlen(s) != n)
		return 0;
	if (s[i] == '-')
		i++;
	if (s[i] == '0')
		i++;
	else if (s[i] >= '1' && s[i] <= '9')
		while (isdig(s[i]))
			i++;
	else
		return 0;
	if (s[i] == '.') {
		for (d = ++i; isdig(s[i]); i++)
			;
		if (i == d)
			return 0;
	}
	if (s[i] == 'e' || s[i] == 'E') {
		i++;
		if (s[i] == '+' || s[i] == '-')
			i++;
		for (d = i; isdig(s[i]); i++)
			;
		if (i == d)
			return 0;
	}
	return i == n;
}

static void
write_string(struct out *o, const char *s, size_t n)
{
	char	 esc[8];
	size_t	 i;

	out_add(o, "\"", 1);
	for (i = 0; i < n; i++) {
		unsigned char	 c = (unsigned char)s[i];

		if (c < 0x20 || c == '"' || c == '\\') {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			out_add(o, esc, 6);
		} else
			out_add(o, &s[i], 1);
	}
	out_add(o, "\"", 1);
}

/* Check v at depth (1 for the root container); count its items. */
static void
walk(const struct json_value *v, size_t depth, size_t *items,
    const struct json_limits *lim, struct out *o)
{
	size_t	 i, j;

	switch (v->type) {
	case JSON_NULL:
	case JSON_FALSE:
	case JSON_TRUE:
		if (v->str != NULL || v->len != 0 || v->n != 0 ||
		    v->items != NULL || v->keys != NULL)
			abort();
		out_add(o, v->type == JSON_NULL ? "null" :
		    v->type == JSON_TRUE ? "true" : "false",
		    v->type == JSON_FALSE ? 5 : 4);
		return;
	case JSON_NUMBER:
		if (!number_ok(v->str, v->len) || v->n != 0)
			abort();
		out_add(o, v->str, v->len);
		return;
	case JSON_STRING:
		if (v->str == NULL || v->str[v->len] != '\0' ||
		    !utf8_ok((const unsigned char *)v->str, v->len))
			abort();
		write_string(o, v->str, v->len);
		return;
	case JSON_ARRAY:
	case JSON_OBJECT:
		break;
	default:
		abort();
	}
	if (depth > lim->depth_max)
		abort();
	*items += v->n;
	if (*items > lim->items_max || (v->n > 0 && v->items == NULL))
		abort();
	out_add(o, v->type == JSON_ARRAY ? "[" : "{", 1);
	for (i = 0; i < v->n; i++) {
		if (i > 0)
			out_add(o, ",", 1);
		if (v->type == JSON_OBJECT) {
			if (v->keys[i][v->keylens[i]] != '\0' ||
			    strlen(v->keys[i]) != v->keylens[i] ||
			    !utf8_ok((const unsigned char *)v->keys[i],
			    v->keylens[i]))
				abort();
			for (j = 0; j < i; j++)
				if (json_fold_eq(v->keys[i], v->keylens[i],
				    v->keys[j], v->keylens[j]))
					abort();
			if (json_get(v, v->keys[i]) != &v->items[i])
				abort();
			write_string(o, v->keys[i], v->keylens[i]);
			out_add(o, ":", 1);
		}
		walk(&v->items[i], depth + 1, items, lim, o);
	}
	out_add(o, v->type == JSON_ARRAY ? "]" : "}", 1);
	if (v->type == JSON_ARRAY && v->keys != NULL)
		abort();
}

static int
same(const struct json_value *a, const struct json_value *b)
{
	size_t	 i;

	if (a->type != b->type || a->len != b->len || a->n != b->n)
		return 0;
	if (a->str != NULL && memcmp(a->str, b->str, a->len + 1) != 0)
		return 0;
	for (i = 0; i < a->n; i++) {
		if (a->type == JSON_OBJECT && (a->keylens[i] != b->keylens[i] ||
		    memcmp(a->keys[i], b->keys[i], a->keylens[i]) != 0))
			return 0;
		if (!same(&a->items[i], &b->items[i]))
			return 0;
	}
	return 1;
}

/*
 * A reference verdict, written apart from json.c: recursive, names kept
 * as code points and folded by a linear walk of the same table.
 */
struct ref {
	const unsigned char	*p;
	size_t			 n, pos, items;
};

#define REF_KEYS	64	/* > small.items_max */

static uint32_t
ref_fold(uint32_t c)
{
	size_t	 i;

	if (c >= 'A' && c <= 'Z')
		return c + 32;
	for (i = 0; i < sizeof(casefold_table) / sizeof(casefold_table[0]);
	    i++)
		if (casefold_table[i].from == c)
			return casefold_table[i].to;
	return c;
}

static void
ref_ws(struct ref *r)
{
	while (r->pos < r->n && r->p[r->pos] != '\0' &&
	    strchr(" \t\n\r", r->p[r->pos]) != NULL)
		r->pos++;
}

static int
ref_hex(struct ref *r, uint32_t *v)
{
	int	 i;
	char	 c;

	*v = 0;
	if (r->n - r->pos < 4)
		return 0;
	for (i = 0; i < 4; i++) {
		c = (char)r->p[r->pos++];
		if (c >= '0' && c <= '9')
			*v = *v * 16 + (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			*v = *v * 16 + (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			*v = *v * 16 + (uint32_t)(c - 'A' + 10);
		else
			return 0;
	}
	return 1;
}

/* A string at pos; its code points to cp (at most small.size_max). */
static int
ref_string(struct ref *r, uint32_t *cp, size_t *ncp)
{
	uint32_t	 c, lo;
	size_t		 k;

	*ncp = 0;
	if (r->pos >= r->n || r->p[r->pos++] != '"')
		return 0;
	for (;;) {
		if (r->pos >= r->n)
			return 0;
		c = r->p[r->pos];
		if (c == '"') {
			r->pos++;
			return 1;
		}
		if (c < 0x20)
			return 0;
		if (c == '\\') {
			if (++r->pos >= r->n)
				return 0;
			c = r->p[r->pos++];
			if (c == 'u') {
				if (!ref_hex(r, &c))
					return 0;
				if (c >= 0xdc00 && c <= 0xdfff)
					return 0;
				if (c >= 0xd800 && c <= 0xdbff) {
					if (r->n - r->pos < 2 ||
					    r->p[r->pos] != '\\' ||
					    r->p[r->pos + 1] != 'u')
						return 0;
					r->pos += 2;
					if (!ref_hex(r, &lo) || lo < 0xdc00 ||
					    lo > 0xdfff)
						return 0;
					c = 0x10000 + (c - 0xd800) * 0x400 +
					    (lo - 0xdc00);
				}
			} else if (c == 'b')
				c = '\b';
			else if (c == 'f')
				c = '\f';
			else if (c == 'n')
				c = '\n';
			else if (c == 'r')
				c = '\r';
			else if (c == 't')
				c = '\t';
			else if (c != '"' && c != '\\' && c != '/')
				return 0;
			cp[(*ncp)++] = c;
			continue;
		}
		if ((k = utf8_seq(r->p + r->pos, r->n - r->pos)) == 0)
			return 0;
		/* the code point itself does not matter past its fold */
		c = r->p[r->pos];
		if (k == 2)
			c = (c & 0x1f) << 6 | (r->p[r->pos + 1] & 0x3f);
		else if (k == 3)
			c = (c & 0x0f) << 12 | (r->p[r->pos + 1] & 0x3f) << 6 |
			    (r->p[r->pos + 2] & 0x3f);
		else if (k == 4)
			c = (c & 0x07) << 18 | (r->p[r->pos + 1] & 0x3f) << 12 |
			    (r->p[r->pos + 2] & 0x3f) << 6 |
			    (r->p[r->pos + 3] & 0x3f);
		cp[(*ncp)++] = c;
		r->pos += k;
	}
}

static int	ref_value(struct ref *, size_t);

static int
ref_object(struct ref *r, size_t depth)
{
	uint32_t	*keys[REF_KEYS];
	size_t		 lens[REF_KEYS], nk = 0, i, j;
	int		 ok = 0;

	r->pos++;
	ref_ws(r);
	if (r->pos < r->n && r->p[r->pos] == '}') {
		r->pos++;
		return 1;
	}
	for (;;) {
		ref_ws(r);
		if (++r->items > small.items_max || nk == REF_KEYS)
			goto out;
		if ((keys[nk] = calloc(r->n + 1, sizeof(uint32_t))) == NULL)
			abort();
		nk++;
		if (!ref_string(r, keys[nk - 1], &lens[nk - 1]))
			goto out;
		for (i = 0; i < lens[nk - 1]; i++)
			if (keys[nk - 1][i] == 0)
				goto out;
		for (j = 0; j + 1 < nk; j++) {
			if (lens[j] != lens[nk - 1])
				continue;
			for (i = 0; i < lens[j]; i++)
				if (ref_fold(keys[j][i]) !=
				    ref_fold(keys[nk - 1][i]))
					break;
			if (i == lens[j])
				goto out;
		}
		ref_ws(r);
		if (r->pos >= r->n || r->p[r->pos++] != ':')
			goto out;
		if (!ref_value(r, depth))
			goto out;
		ref_ws(r);
		if (r->pos >= r->n)
			goto out;
		if (r->p[r->pos] == '}') {
			r->pos++;
			ok = 1;
			goto out;
		}
		if (r->p[r->pos++] != ',')
			goto out;
	}
 out:
	for (i = 0; i < nk; i++)
		free(keys[i]);
	return ok;
}

static int
ref_array(struct ref *r, size_t depth)
{
	r->pos++;
	ref_ws(r);
	if (r->pos < r->n && r->p[r->pos] == ']') {
		r->pos++;
		return 1;
	}
	for (;;) {
		if (++r->items > small.items_max || !ref_value(r, depth))
			return 0;
		ref_ws(r);
		if (r->pos >= r->n)
			return 0;
		if (r->p[r->pos] == ']') {
			r->pos++;
			return 1;
		}
		if (r->p[r->pos++] != ',')
			return 0;
	}
}

static int
ref_number(struct ref *r)
{
	size_t	 start = r->pos;
	char	*buf;
	int	 ok;

	while (r->pos < r->n && r->p[r->pos] != '\0' &&
	    strchr("+-.eE0123456789", r->p[r->pos]) != NULL)
		r->pos++;
	if ((buf = strndup((const char *)r->p + start, r->pos - start)) ==
	    NULL)
		abort();
	ok = r->pos > start && number_ok(buf, r->pos - start);
	free(buf);
	return ok;
}

static int
ref_value(struct ref *r, size_t depth)
{
	static const char	*words[] = { "true", "false", "null" };
	uint32_t		*tmp;
	size_t			 i, ncp;
	int			 ok;

	ref_ws(r);
	if (r->pos >= r->n)
		return 0;
	switch (r->p[r->pos]) {
	case '{':
		return depth < small.depth_max && ref_object(r, depth + 1);
	case '[':
		return depth < small.depth_max && ref_array(r, depth + 1);
	case '"':
		if ((tmp = calloc(r->n + 1, sizeof(uint32_t))) == NULL)
			abort();
		ok = ref_string(r, tmp, &ncp);
		free(tmp);
		return ok;
	}
	for (i = 0; i < 3; i++)
		if (r->n - r->pos >= strlen(words[i]) &&
		    memcmp(r->p + r->pos, words[i], strlen(words[i])) == 0) {
			r->pos += strlen(words[i]);
			return 1;
		}
	return ref_number(r);
}

static int
ref_parse(const uint8_t *data, size_t size)
{
	struct ref	 r = { data, size, 0, 0 };

	if (size == 0 || size > small.size_max)
		return 0;
	if (!ref_value(&r, 0))
		return 0;
	ref_ws(&r);
	return r.pos == r.n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_doc	*d, *dd, *d2;
	const char	*why, *why2;
	size_t		 off, off2, items = 0, cut;
	struct out	 o = { NULL, 0, 0 };
	const char	*s = (const char *)data;

	d = json_parse(s, size, &small, &why, &off);
	if ((d != NULL) != ref_parse(data, size))
		abort();
	dd = json_parse(s, size, NULL, &why2, &off2);
	/* folding: reflexive and symmetric on any bytes */
	cut = size > 0 ? data[0] % (size + 1) : 0;
	if (!json_fold_eq(s, size, s, size) ||
	    json_fold_eq(s, cut, s + cut, size - cut) !=
	    json_fold_eq(s + cut, size - cut, s, cut))
		abort();
	if (dd == NULL && (why2 == NULL || off2 > size))
		abort();
	if (d == NULL) {
		if (why == NULL || off > size)
			abort();
		/* the same refusal when the small limits are not the cause */
		if (dd == NULL && (strcmp(why, why2) != 0 || off != off2) &&
		    strstr(why, "limit") == NULL)
			abort();
		json_free(dd);
		return 0;
	}
	if (why != NULL || dd == NULL || !same(json_root(d), json_root(dd)))
		abort();
	walk(json_root(d), 1, &items, &small, &o);
	d2 = json_parse(o.buf, o.len, NULL, &why, &off);
	if (d2 == NULL || !same(json_root(d), json_root(d2)))
		abort();
	json_free(d2);
	json_free(dd);
	json_free(d);
	free(o.buf);
	return 0;
}
