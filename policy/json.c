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
 * The strict JSON reader (see json.h for what it refuses).
 *
 * No recursion: a value is parsed with an explicit stack of open arrays
 * and objects, so the depth limit bounds the heap, not the C stack.  The
 * values of an open container wait on a scratch stack; when it closes
 * they are copied, exactly n of them, into the document's arena, which
 * holds everything the tree points to (json_free() frees the arena's
 * blocks and nothing else).  Strings are decoded straight into the
 * arena: the decoded form is never longer than the written one.
 *
 * Member names are compared when their object closes: pairwise for a
 * few, else each name's case fold is written out and the folds sorted
 * (heapsort: no quadratic worst case at JSON_ITEMS_MAX members).
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "casefold.h"

#define ARENA_ALIGN	(_Alignof(max_align_t))
#define ARENA_MIN	1024
#define ARENA_MAX	(1024 * 1024)
/* objects with at most this many members are checked pairwise */
#define DUP_PAIRWISE	16

struct arena {
	struct arena	*next;
	size_t		 size;
	size_t		 used;
	max_align_t	 mem[];
};

struct json_doc {
	struct arena		*arena;
	size_t			 next;		/* size of the next block */
	struct json_value	 root;
};

struct pkey {
	const char	*s;
	size_t		 len;
	size_t		 off;		/* where the name starts */
};

struct frame {
	enum json_type	 type;
	size_t		 vbase;		/* first of its values on ps->vals */
	size_t		 kbase;		/* first of its names on ps->keys */
};

struct parser {
	const unsigned char	*p;
	size_t			 len;
	size_t			 pos;
	struct json_limits	 lim;
	size_t			 items;
	struct json_doc		*doc;
	struct json_value	*vals;
	size_t			 nvals, vcap;
	struct pkey		*keys;
	size_t			 nkeys, kcap;
	struct frame		*frames;
	size_t			 nframes, fcap;
	const char		*why;
	size_t			 off;
};

static void *
arena_alloc(struct json_doc *d, size_t size)
{
	struct arena	*a;
	size_t		 bsize;

	if (size > SIZE_MAX - ARENA_ALIGN)
		return NULL;
	size = (size + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
	a = d->arena;
	if (a != NULL && a->size - a->used >= size) {
		a->used += size;
		return (char *)a->mem + a->used - size;
	}
	bsize = size > d->next ? size : d->next;
	if (bsize > SIZE_MAX - sizeof(*a))
		return NULL;
	if ((a = malloc(sizeof(*a) + bsize)) == NULL)
		return NULL;
	a->size = bsize;
	a->used = size;
	if (d->arena != NULL && size == bsize &&
	    d->arena->size - d->arena->used > 0) {
		/* a block for one big piece: keep filling the current one */
		a->next = d->arena->next;
		d->arena->next = a;
	} else {
		a->next = d->arena;
		d->arena = a;
		if (d->next < ARENA_MAX)
			d->next *= 2;
	}
	return a->mem;
}

static void *
arena_array(struct json_doc *d, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		return NULL;
	return arena_alloc(d, n * size);
}

static int
fail(struct parser *ps, const char *why, size_t off)
{
	ps->why = why;
	ps->off = off;
	return -1;
}

static int
nomem(struct parser *ps)
{
	return fail(ps, "out of memory", ps->pos);
}

/*
 * A scratch stack of n used of *cap elements, grown to fit one more: the
 * stack (perhaps moved), or NULL when out of memory (the old one kept).
 */
static void *
grow(void *stack, size_t n, size_t *cap, size_t size)
{
	size_t	 ncap;
	void	*p;

	if (n < *cap)
		return stack;
	ncap = *cap == 0 ? 16 : *cap * 2;
	if ((p = reallocarray(stack, ncap, size)) == NULL)
		return NULL;
	*cap = ncap;
	return p;
}

static int
push_value(struct parser *ps, const struct json_value *v)
{
	struct json_value	*vals;

	if ((vals = grow(ps->vals, ps->nvals, &ps->vcap,
	    sizeof(*vals))) == NULL)
		return nomem(ps);
	ps->vals = vals;
	ps->vals[ps->nvals++] = *v;
	return 0;
}

/*
 * Decode one UTF-8 sequence of at most n (> 0) bytes: its length, or 0
 * when it is not valid (overlong, a surrogate, above U+10FFFF, cut).
 */
static size_t
utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	uint32_t	 c = s[0], min;
	size_t		 len, i;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c < 0xc2)
		return 0;
	if (c < 0xe0) {
		len = 2;
		c &= 0x1f;
		min = 0x80;
	} else if (c < 0xf0) {
		len = 3;
		c &= 0x0f;
		min = 0x800;
	} else if (c < 0xf5) {
		len = 4;
		c &= 0x07;
		min = 0x10000;
	} else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

static size_t
utf8_encode(uint32_t c, char *out)
{
	if (c < 0x80) {
		out[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		out[0] = (char)(0xc0 | c >> 6);
		out[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		out[0] = (char)(0xe0 | c >> 12);
		out[1] = (char)(0x80 | (c >> 6 & 0x3f));
		out[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | c >> 18);
	out[1] = (char)(0x80 | (c >> 12 & 0x3f));
	out[2] = (char)(0x80 | (c >> 6 & 0x3f));
	out[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}

/* The simple case fold of c (CaseFolding.txt, status C and S). */
static uint32_t
fold(uint32_t c)
{
	size_t	 lo = 0, hi, mid;

	if (c < 0x80)
		return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
	hi = sizeof(casefold_table) / sizeof(casefold_table[0]);
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (casefold_table[mid].from == c)
			return casefold_table[mid].to;
		if (casefold_table[mid].from < c)
			lo = mid + 1;
		else
			hi = mid;
	}
	return c;
}

/*
 * The next code point of s (n > 0 bytes left), folded; as Go decodes,
 * a byte that starts no valid sequence is U+FFFD, one byte long.
 */
static uint32_t
next_folded(const unsigned char *s, size_t n, size_t *len)
{
	uint32_t	 c;

	if (s[0] < 0x80) {
		*len = 1;
		return fold(s[0]);
	}
	if ((*len = utf8_decode(s, n, &c)) == 0) {
		*len = 1;
		return 0xfffd;
	}
	return fold(c);
}

/* One character of s at u (k bytes long, or 0: not valid) as JSON. */
static size_t
json_char(const unsigned char *u, size_t k, char e[8])
{
	static const char	 hex[] = "0123456789abcdef";

	if (k == 0) {
		memcpy(e, "\\ufffd", 6);
		return 6;
	}
	if (u[0] == '"' || u[0] == '\\') {
		e[0] = '\\';
		e[1] = (char)u[0];
		return 2;
	}
	if (u[0] < 0x20 || u[0] == 0x7f) {
		memcpy(e, "\\u00", 4);
		e[4] = hex[u[0] >> 4];
		e[5] = hex[u[0] & 0xf];
		return 6;
	}
	memcpy(e, u, k);
	return k;
}

int
json_write_str(char *dst, size_t dstsz, size_t *off, const char *s,
    size_t max)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 o = *off, i, k, n, len = strlen(s);
	uint32_t		 c;
	char			 e[8];

	if (o + 3 > dstsz)
		return -1;
	dst[o++] = '"';
	for (i = 0; i < len && i < max; i += k ? k : 1) {
		k = utf8_decode(u + i, len - i, &c);
		n = json_char(u + i, k, e);
		if (o + n + 2 > dstsz)
			goto full;
		memcpy(dst + o, e, n);
		o += n;
	}
	if (i < len) {
		if (o + 3 + 2 > dstsz)
			goto full;
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o++] = '"';
	dst[o] = '\0';
	*off = o;
	return 0;
 full:
	dst[*off] = '\0';
	return -1;
}

int
json_fold_eq(const char *a, size_t alen, const char *b, size_t blen)
{
	const unsigned char	*s = (const unsigned char *)a;
	const unsigned char	*t = (const unsigned char *)b;
	size_t			 i = 0, j = 0, m, n;

	while (i < alen && j < blen) {
		if (s[i] < 0x80 && t[j] < 0x80) {
			/* Both ASCII: only A-Z fold, and to ASCII. */
			if (s[i] != t[j] && fold(s[i]) != fold(t[j]))
				return 0;
			i++;
			j++;
			continue;
		}
		if (next_folded(s + i, alen - i, &m) !=
		    next_folded(t + j, blen - j, &n))
			return 0;
		i += m;
		j += n;
	}
	return i == alen && j == blen;
}

/* Write the fold of s (valid UTF-8) to out, or count it when NULL. */
static size_t
fold_string(const char *s, size_t len, char *out)
{
	const unsigned char	*u = (const unsigned char *)s;
	char			 buf[4];
	size_t			 i = 0, n, k, total = 0;
	uint32_t		 c;

	while (i < len) {
		if (u[i] < 0x80) {
			if (out != NULL)
				out[total] = u[i] >= 'A' && u[i] <= 'Z' ?
				    u[i] + ('a' - 'A') : u[i];
			i++;
			total++;
			continue;
		}
		c = next_folded(u + i, len - i, &n);
		i += n;
		k = utf8_encode(c, out != NULL ? out + total : buf);
		total += k;
	}
	return total;
}

struct folded {
	const char	*s;
	size_t		 len;
	size_t		 off;
};

static int
folded_cmp(const struct folded *a, const struct folded *b)
{
	size_t	 n = a->len < b->len ? a->len : b->len;
	int	 r;

	if ((r = memcmp(a->s, b->s, n)) != 0)
		return r;
	return (a->len > b->len) - (a->len < b->len);
}

static void
sift_down(struct folded *f, size_t i, size_t n)
{
	struct folded	 t;
	size_t		 c;

	while ((c = 2 * i + 1) < n) {
		if (c + 1 < n && folded_cmp(&f[c], &f[c + 1]) < 0)
			c++;
		if (folded_cmp(&f[i], &f[c]) >= 0)
			return;
		t = f[i];
		f[i] = f[c];
		f[c] = t;
		i = c;
	}
}

static void
heapsort_folded(struct folded *f, size_t n)
{
	struct folded	 t;
	size_t		 i;

	for (i = n / 2; i-- > 0; )
		sift_down(f, i, n);
	while (n > 1) {
		n--;
		t = f[0];
		f[0] = f[n];
		f[n] = t;
		sift_down(f, 0, n);
	}
}

/*
 * The first of n names (in the order written) equal to an earlier one,
 * by a table of their FNV-1a hashes: 0 and *dup set (SIZE_MAX: none);
 * 1 when names that collide used up the probes allowed (a linear bound:
 * sort them instead); -1 when out of memory.
 */
static int
dup_by_hash(const struct folded *f, size_t n, size_t *dup)
{
	size_t		*slot, size = 16, mask, i, h, j, budget = 8 * n + 64;
	uint64_t	 x;

	while (size < 2 * n)
		size *= 2;
	if ((slot = calloc(size, sizeof(*slot))) == NULL)
		return -1;
	mask = size - 1;
	for (i = 0; i < n; i++) {
		x = 0xcbf29ce484222325ULL;
		for (j = 0; j < f[i].len; j++)
			x = (x ^ (unsigned char)f[i].s[j]) * 0x100000001b3ULL;
		for (h = x & mask; slot[h] != 0; h = (h + 1) & mask) {
			if (folded_cmp(&f[slot[h] - 1], &f[i]) == 0) {
				*dup = f[i].off;
				free(slot);
				return 0;
			}
			if (--budget == 0) {
				free(slot);
				return 1;
			}
		}
		slot[h] = i + 1;
	}
	free(slot);
	return 0;
}

static int
names_eq(const struct pkey *a, const struct pkey *b, int exact)
{
	if (exact)
		return a->len == b->len && memcmp(a->s, b->s, a->len) == 0;
	return json_fold_eq(a->s, a->len, b->s, b->len);
}

/*
 * The offset of the first name (in the order written) that repeats an
 * earlier one (under folding unless exact), or SIZE_MAX when all differ;
 * -1 when out of memory.
 */
static int
find_dup(const struct pkey *k, size_t n, int exact, size_t *dup)
{
	struct folded	*f;
	char		*buf = NULL, *p;
	size_t		 i, j, total = 0, first, second;
	int		 rv;

	*dup = SIZE_MAX;
	if (n <= DUP_PAIRWISE) {
		for (j = 1; j < n && *dup == SIZE_MAX; j++)
			for (i = 0; i < j; i++)
				if (names_eq(&k[i], &k[j], exact)) {
					*dup = k[j].off;
					break;
				}
		return 0;
	}
	for (i = 0; i < n && !exact; i++) {
		total += fold_string(k[i].s, k[i].len, NULL);
		if (total > SIZE_MAX / 2)
			return -1;
	}
	if ((f = reallocarray(NULL, n, sizeof(*f))) == NULL)
		return -1;
	if (!exact && (buf = malloc(total + 1)) == NULL) {
		free(f);
		return -1;
	}
	for (i = 0, p = buf; i < n; i++) {
		f[i].off = k[i].off;
		if (exact) {
			f[i].s = k[i].s;
			f[i].len = k[i].len;
			continue;
		}
		f[i].s = p;
		f[i].len = fold_string(k[i].s, k[i].len, p);
		p += f[i].len;
	}
	/* in the order written: the keys' offsets grow */
	if ((rv = dup_by_hash(f, n, dup)) != 1) {
		free(buf);
		free(f);
		return rv;
	}
	heapsort_folded(f, n);
	/* in each run of equal folds the second offset is where it repeats */
	for (i = 0; i < n; i = j) {
		first = f[i].off;
		second = SIZE_MAX;
		for (j = i + 1; j < n && folded_cmp(&f[i], &f[j]) == 0; j++) {
			if (f[j].off < first) {
				second = first;
				first = f[j].off;
			} else if (f[j].off < second)
				second = f[j].off;
		}
		if (second < *dup)
			*dup = second;
	}
	free(buf);
	free(f);
	return 0;
}

static void
skip_ws(struct parser *ps)
{
	unsigned char	 c;

	while (ps->pos < ps->len) {
		c = ps->p[ps->pos];
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			return;
		ps->pos++;
	}
}

static int
hex4(const unsigned char *s, uint32_t *v)
{
	int	 i, d;

	*v = 0;
	for (i = 0; i < 4; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			d = s[i] - '0';
		else if (s[i] >= 'a' && s[i] <= 'f')
			d = s[i] - 'a' + 10;
		else if (s[i] >= 'A' && s[i] <= 'F')
			d = s[i] - 'A' + 10;
		else
			return -1;
		*v = *v << 4 | (uint32_t)d;
	}
	return 0;
}

/* A \u escape at pos (the backslash), a pair when a surrogate. */
static int
unicode_escape(struct parser *ps, uint32_t *cp)
{
	const unsigned char	*p = ps->p;
	size_t			 at = ps->pos;
	uint32_t		 lo;

	if (ps->len - at < 6 || hex4(p + at + 2, cp) == -1)
		return fail(ps, "invalid \\u escape in a string", at);
	ps->pos += 6;
	if (*cp >= 0xdc00 && *cp <= 0xdfff)
		return fail(ps, "unpaired surrogate in a \\u escape", at);
	if (*cp < 0xd800 || *cp > 0xdbff)
		return 0;
	if (ps->len - ps->pos < 2 || p[ps->pos] != '\\' ||
	    p[ps->pos + 1] != 'u')
		return fail(ps, "unpaired surrogate in a \\u escape", at);
	if (ps->len - ps->pos < 6 || hex4(p + ps->pos + 2, &lo) == -1)
		return fail(ps, "invalid \\u escape in a string", ps->pos);
	if (lo < 0xdc00 || lo > 0xdfff)
		return fail(ps, "unpaired surrogate in a \\u escape", at);
	ps->pos += 6;
	*cp = 0x10000 + ((*cp - 0xd800) << 10 | (lo - 0xdc00));
	return 0;
}

static int
escape(struct parser *ps, char *out, size_t *n)
{
	static const char	 from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char		*e;
	uint32_t		 cp;
	unsigned char		 c;

	if (ps->pos + 1 >= ps->len)
		return fail(ps, "unexpected end of input", ps->len);
	c = ps->p[ps->pos + 1];
	if (c == 'u') {
		if (unicode_escape(ps, &cp) == -1)
			return -1;
		*n += utf8_encode(cp, out + *n);
		return 0;
	}
	if (c == '\0' || (e = strchr(from, c)) == NULL)
		return fail(ps, "invalid escape in a string", ps->pos);
	out[(*n)++] = to[e - from];
	ps->pos += 2;
	return 0;
}

/* A string byte that stands for itself: ASCII, no control, no '"', no '\\'. */
static int
plain(unsigned char c)
{
	return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

/*
 * Where the string whose first byte is at from ends: its closing quote
 * (one after an even run of backslashes), or len when there is none.
 */
static size_t
closing_quote(const unsigned char *p, size_t from, size_t len)
{
	const unsigned char	*q;
	size_t			 end = from, b;

	while (end < len) {
		if ((q = memchr(p + end, '"', len - end)) == NULL)
			return len;
		end = q - p;
		for (b = 0; end - b > from && p[end - b - 1] == '\\'; b++)
			;
		if (b % 2 == 0)
			return end;
		end++;
	}
	return len;
}

/* The string at pos (its opening quote), decoded into the arena. */
static int
string(struct parser *ps, char **str, size_t *slen)
{
	const unsigned char	*p = ps->p;
	char			*out;
	size_t			 end, n = 0, k;
	uint32_t		 cp;

	/* the written length bounds the decoded one */
	end = closing_quote(p, ps->pos + 1, ps->len);
	if ((out = arena_alloc(ps->doc, end - ps->pos)) == NULL)
		return nomem(ps);
	ps->pos++;
	for (;;) {
		if (ps->pos >= ps->len)
			return fail(ps, "unexpected end of input", ps->len);
		if (p[ps->pos] == '"')
			break;
		if (p[ps->pos] < 0x20)
			return fail(ps, "control character in a string",
			    ps->pos);
		if (p[ps->pos] == '\\') {
			if (escape(ps, out, &n) == -1)
				return -1;
			continue;
		}
		if (p[ps->pos] < 0x80) {
			/* A run of plain ASCII: copied at once. */
			for (k = ps->pos; k < ps->len && plain(p[k]); k++)
				;
			memcpy(out + n, p + ps->pos, k - ps->pos);
			n += k - ps->pos;
			ps->pos = k;
			continue;
		}
		if ((k = utf8_decode(p + ps->pos, ps->len - ps->pos,
		    &cp)) == 0)
			return fail(ps, "invalid UTF-8 in a string", ps->pos);
		memcpy(out + n, p + ps->pos, k);
		n += k;
		ps->pos += k;
	}
	ps->pos++;
	out[n] = '\0';
	*str = out;
	*slen = n;
	return 0;
}

static int
digits(struct parser *ps)
{
	size_t	 start = ps->pos;

	while (ps->pos < ps->len && ps->p[ps->pos] >= '0' &&
	    ps->p[ps->pos] <= '9')
		ps->pos++;
	if (ps->pos == start)
		return fail(ps, "invalid number", ps->pos);
	return 0;
}

/* -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?, kept as written */
static int
number(struct parser *ps, struct json_value *v)
{
	const unsigned char	*p = ps->p;
	size_t			 start = ps->pos;

	if (p[ps->pos] == '-')
		ps->pos++;
	if (ps->pos < ps->len && p[ps->pos] == '0') {
		ps->pos++;
		if (ps->pos < ps->len && p[ps->pos] >= '0' &&
		    p[ps->pos] <= '9')
			return fail(ps, "leading zero in a number", start);
	} else if (digits(ps) == -1)
		return -1;
	if (ps->pos < ps->len && p[ps->pos] == '.') {
		ps->pos++;
		if (digits(ps) == -1)
			return -1;
	}
	if (ps->pos < ps->len && (p[ps->pos] == 'e' || p[ps->pos] == 'E')) {
		ps->pos++;
		if (ps->pos < ps->len && (p[ps->pos] == '+' ||
		    p[ps->pos] == '-'))
			ps->pos++;
		if (digits(ps) == -1)
			return -1;
	}
	v->type = JSON_NUMBER;
	v->len = ps->pos - start;
	if ((v->str = arena_alloc(ps->doc, v->len + 1)) == NULL)
		return nomem(ps);
	memcpy(v->str, p + start, v->len);
	v->str[v->len] = '\0';
	return 0;
}

static int
literal(struct parser *ps, const char *word, enum json_type type,
    struct json_value *v)
{
	size_t	 n = strlen(word);

	if (ps->len - ps->pos < n || memcmp(ps->p + ps->pos, word, n) != 0)
		return fail(ps, "invalid literal", ps->pos);
	ps->pos += n;
	v->type = type;
	return 0;
}

/* One more member or element. */
static int
count_item(struct parser *ps)
{
	if (ps->items >= ps->lim.items_max)
		return fail(ps, "more members and elements than the limit",
		    ps->pos);
	ps->items++;
	return 0;
}

static int
open_container(struct parser *ps, enum json_type type)
{
	struct frame	*f;

	if (ps->nframes >= ps->lim.depth_max)
		return fail(ps, "nesting deeper than the limit", ps->pos);
	if ((f = grow(ps->frames, ps->nframes, &ps->fcap,
	    sizeof(*f))) == NULL)
		return nomem(ps);
	ps->frames = f;
	f = &ps->frames[ps->nframes++];
	f->type = type;
	f->vbase = ps->nvals;
	f->kbase = ps->nkeys;
	ps->pos++;
	return 0;
}

/* Close the innermost container: its values into the arena, then it. */
static int
close_container(struct parser *ps)
{
	struct frame		*f = &ps->frames[ps->nframes - 1];
	struct json_value	 v;
	size_t			 i, dup;

	memset(&v, 0, sizeof(v));
	v.type = f->type;
	v.n = ps->nvals - f->vbase;
	if (v.n > 0) {
		if ((v.items = arena_array(ps->doc, v.n,
		    sizeof(*v.items))) == NULL)
			return nomem(ps);
		memcpy(v.items, ps->vals + f->vbase, v.n * sizeof(*v.items));
	}
	if (f->type == JSON_OBJECT && v.n > 0) {
		if (find_dup(ps->keys + f->kbase, v.n, ps->lim.exact_names,
		    &dup) == -1)
			return nomem(ps);
		if (dup != SIZE_MAX)
			return fail(ps, "duplicate key", dup);
		v.keys = arena_array(ps->doc, v.n, sizeof(*v.keys));
		v.keylens = arena_array(ps->doc, v.n, sizeof(*v.keylens));
		if (v.keys == NULL || v.keylens == NULL)
			return nomem(ps);
		for (i = 0; i < v.n; i++) {
			v.keys[i] = (char *)ps->keys[f->kbase + i].s;
			v.keylens[i] = ps->keys[f->kbase + i].len;
		}
	}
	ps->nvals = f->vbase;
	ps->nkeys = f->kbase;
	ps->nframes--;
	ps->pos++;
	return push_value(ps, &v);
}

/* A member name at pos, and the ':' after it. */
static int
member_name(struct parser *ps)
{
	struct pkey	*k;
	char		*s;
	size_t		 len, off = ps->pos;

	if (ps->pos >= ps->len)
		return fail(ps, "unexpected end of input", ps->len);
	if (ps->p[ps->pos] != '"')
		return fail(ps, "expected a member name", ps->pos);
	if (count_item(ps) == -1 || string(ps, &s, &len) == -1)
		return -1;
	if (memchr(s, '\0', len) != NULL)
		return fail(ps, "NUL in a member name", off);
	if ((k = grow(ps->keys, ps->nkeys, &ps->kcap, sizeof(*k))) == NULL)
		return nomem(ps);
	ps->keys = k;
	k = &ps->keys[ps->nkeys++];
	k->s = s;
	k->len = len;
	k->off = off;
	skip_ws(ps);
	if (ps->pos >= ps->len)
		return fail(ps, "unexpected end of input", ps->len);
	if (ps->p[ps->pos] != ':')
		return fail(ps, "expected ':' after a member name", ps->pos);
	ps->pos++;
	return 0;
}

enum state { S_VALUE, S_MEMBER, S_AFTER };

/* A value at pos; containers are opened, scalars pushed. */
static int
value(struct parser *ps, enum state *next)
{
	struct json_value	 v;
	unsigned char		 c;

	skip_ws(ps);
	if (ps->pos >= ps->len)
		return fail(ps, "unexpected end of input", ps->len);
	memset(&v, 0, sizeof(v));
	*next = S_AFTER;
	switch (c = ps->p[ps->pos]) {
	case '{':
	case '[':
		if (open_container(ps, c == '{' ? JSON_OBJECT :
		    JSON_ARRAY) == -1)
			return -1;
		skip_ws(ps);
		if (ps->pos < ps->len && ps->p[ps->pos] == (c == '{' ?
		    '}' : ']'))
			return close_container(ps);
		if (c == '{') {
			*next = S_MEMBER;
			return 0;
		}
		*next = S_VALUE;
		return count_item(ps);
	case '"':
		v.type = JSON_STRING;
		if (string(ps, &v.str, &v.len) == -1)
			return -1;
		break;
	case 't':
		if (literal(ps, "true", JSON_TRUE, &v) == -1)
			return -1;
		break;
	case 'f':
		if (literal(ps, "false", JSON_FALSE, &v) == -1)
			return -1;
		break;
	case 'n':
		if (literal(ps, "null", JSON_NULL, &v) == -1)
			return -1;
		break;
	default:
		if (c != '-' && (c < '0' || c > '9'))
			return fail(ps, "expected a value", ps->pos);
		if (number(ps, &v) == -1)
			return -1;
		break;
	}
	return push_value(ps, &v);
}

/* After a value inside a container: ',' and more, or its end. */
static int
after(struct parser *ps, enum state *next)
{
	struct frame	*f = &ps->frames[ps->nframes - 1];
	unsigned char	 c;

	skip_ws(ps);
	if (ps->pos >= ps->len)
		return fail(ps, "unexpected end of input", ps->len);
	c = ps->p[ps->pos];
	if (c == ',') {
		ps->pos++;
		if (f->type == JSON_OBJECT) {
			*next = S_MEMBER;
			return 0;
		}
		*next = S_VALUE;
		return count_item(ps);
	}
	*next = S_AFTER;
	if (f->type == JSON_OBJECT && c == '}')
		return close_container(ps);
	if (f->type == JSON_ARRAY && c == ']')
		return close_container(ps);
	return fail(ps, f->type == JSON_OBJECT ? "expected ',' or '}'" :
	    "expected ',' or ']'", ps->pos);
}

static int
parse(struct parser *ps)
{
	enum state	 st = S_VALUE;
	int		 r;

	if (ps->len == 0)
		return fail(ps, "empty input", 0);
	if (ps->len > ps->lim.size_max)
		return fail(ps, "input larger than the limit",
		    ps->lim.size_max);
	if (ps->len >= 3 && memcmp(ps->p, "\xef\xbb\xbf", 3) == 0)
		return fail(ps, "byte order mark", 0);
	for (;;) {
		switch (st) {
		case S_VALUE:
			r = value(ps, &st);
			break;
		case S_MEMBER:
			skip_ws(ps);
			r = member_name(ps);
			st = S_VALUE;
			break;
		case S_AFTER:
		default:
			if (ps->nframes == 0) {
				skip_ws(ps);
				if (ps->pos != ps->len)
					return fail(ps, "trailing bytes "
					    "after the value", ps->pos);
				return 0;
			}
			r = after(ps, &st);
			break;
		}
		if (r == -1)
			return -1;
	}
}

struct json_doc *
json_parse(const char *buf, size_t len, const struct json_limits *lim,
    const char **why, size_t *off)
{
	static const struct json_limits	 deflim = {
		JSON_SIZE_MAX, JSON_DEPTH_MAX, JSON_ITEMS_MAX, 0
	};
	struct parser			 ps;
	struct json_doc			*doc;
	int				 r;

	*why = NULL;
	*off = 0;
	if ((doc = calloc(1, sizeof(*doc))) == NULL) {
		*why = "out of memory";
		return NULL;
	}
	doc->next = len < ARENA_MIN ? ARENA_MIN :
	    len < ARENA_MAX / 2 ? len * 2 : ARENA_MAX;
	memset(&ps, 0, sizeof(ps));
	ps.p = (const unsigned char *)buf;
	ps.len = len;
	ps.lim = lim != NULL ? *lim : deflim;
	ps.doc = doc;
	r = parse(&ps);
	if (r == 0)
		doc->root = ps.vals[0];
	free(ps.vals);
	free(ps.keys);
	free(ps.frames);
	if (r == -1) {
		json_free(doc);
		*why = ps.why;
		*off = ps.off;
		return NULL;
	}
	return doc;
}

const struct json_value *
json_root(const struct json_doc *doc)
{
	return &doc->root;
}

void
json_free(struct json_doc *doc)
{
	struct arena	*a, *next;

	if (doc == NULL)
		return;
	for (a = doc->arena; a != NULL; a = next) {
		next = a->next;
		free(a);
	}
	free(doc);
}

const struct json_value *
json_get(const struct json_value *o, const char *key)
{
	size_t	 i, len;

	if (o == NULL || o->type != JSON_OBJECT)
		return NULL;
	len = strlen(key);
	/* Only a document parsed with exact_names has two that fold alike. */
	for (i = 0; i < o->n; i++)
		if (o->keylens[i] == len && memcmp(o->keys[i], key, len) == 0)
			return &o->items[i];
	for (i = 0; i < o->n; i++)
		if (json_fold_eq(o->keys[i], o->keylens[i], key, len))
			return &o->items[i];
	return NULL;
}
