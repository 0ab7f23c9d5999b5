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

#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "mbuf.h"

/*
 * Typed marshalling.  Integers are in network byte order (big-endian), so
 * a hexdump of a payload reads naturally; data and strings are a u32
 * length and the bytes, strings without their NUL.  The writer records a
 * failure (allocation, payload over MBUF_MAX) in err and the reader
 * makes every getter after a failure fail too, so callers check once at
 * the end with mbuf_end().
 */

void
mbuf_init(struct mbuf *mb)
{
	memset(mb, 0, sizeof(*mb));
}

/* A reader points into someone else's bytes: size 0 marks it. */
void
mbuf_free(struct mbuf *mb)
{
	if (mb->size > 0)
		freezero(mb->buf, mb->size);
	mbuf_init(mb);
}

static uint8_t *
mbuf_reserve(struct mbuf *mb, size_t n)
{
	uint8_t	*p;
	size_t	 nsize;

	if (mb->err)
		return NULL;
	if ((mb->size == 0 && mb->buf != NULL) ||
	    n > MBUF_MAX - mb->len) {
		mb->err = 1;
		return NULL;
	}
	if (mb->size - mb->len < n) {
		nsize = mb->size == 0 ? 256 : mb->size;
		while (nsize - mb->len < n)
			nsize *= 2;
		/* recallocarray: payloads may carry key material. */
		p = recallocarray(mb->buf, mb->size, nsize, 1);
		if (p == NULL) {
			mb->err = 1;
			return NULL;
		}
		mb->buf = p;
		mb->size = nsize;
	}
	p = mb->buf + mb->len;
	mb->len += n;
	return p;
}

/* n bytes of v, most significant first. */
static void
add_be(struct mbuf *mb, uint64_t v, size_t n)
{
	uint8_t	*p;
	size_t	 i;

	if ((p = mbuf_reserve(mb, n)) == NULL)
		return;
	for (i = n; i > 0; i--, v >>= 8)
		p[i - 1] = v & 0xff;
}

void
mbuf_add_u32(struct mbuf *mb, uint32_t v)
{
	add_be(mb, v, 4);
}

void
mbuf_add_u64(struct mbuf *mb, uint64_t v)
{
	add_be(mb, v, 8);
}

void
mbuf_add_data(struct mbuf *mb, const void *data, size_t len)
{
	uint8_t	*p;

	if (len > UINT32_MAX || (len > 0 && data == NULL)) {
		mb->err = 1;
		return;
	}
	mbuf_add_u32(mb, len);
	if (len > 0 && (p = mbuf_reserve(mb, len)) != NULL)
		memcpy(p, data, len);
}

void
mbuf_add_raw(struct mbuf *mb, const void *data, size_t len)
{
	uint8_t	*p;

	if (len > 0 && data == NULL) {
		mb->err = 1;
		return;
	}
	if (len > 0 && (p = mbuf_reserve(mb, len)) != NULL)
		memcpy(p, data, len);
}

void
mbuf_add_str(struct mbuf *mb, const char *s)
{
	if (s == NULL) {
		mb->err = 1;
		return;
	}
	mbuf_add_data(mb, s, strlen(s));
}

void
mbuf_reader(struct mbuf *mb, const void *data, size_t len)
{
	mbuf_init(mb);
	mb->buf = (uint8_t *)(uintptr_t)data;
	mb->len = len;
}

static const uint8_t *
mbuf_take(struct mbuf *mb, size_t n)
{
	const uint8_t	*p;

	if (mb->err || mb->len - mb->off < n) {
		mb->err = 1;
		return NULL;
	}
	p = mb->buf + mb->off;
	mb->off += n;
	return p;
}

static int
get_be(struct mbuf *mb, uint64_t *v, size_t n)
{
	const uint8_t	*p;
	size_t		 i;

	if ((p = mbuf_take(mb, n)) == NULL)
		return -1;
	for (*v = 0, i = 0; i < n; i++)
		*v = *v << 8 | p[i];
	return 0;
}

int
mbuf_get_u32(struct mbuf *mb, uint32_t *v)
{
	uint64_t	 x;

	if (get_be(mb, &x, 4) == -1)
		return -1;
	*v = (uint32_t)x;
	return 0;
}

int
mbuf_get_u64(struct mbuf *mb, uint64_t *v)
{
	return get_be(mb, v, 8);
}

int
mbuf_get_data(struct mbuf *mb, const void **data, size_t *len)
{
	const uint8_t	*p;
	uint32_t	 n;

	if (mbuf_get_u32(mb, &n) == -1 || (p = mbuf_take(mb, n)) == NULL)
		return -1;
	*data = p;
	*len = n;
	return 0;
}

int
mbuf_get_str(struct mbuf *mb, char *dst, size_t dstsz)
{
	const void	*p;
	size_t		 n;

	if (dstsz > 0)
		dst[0] = '\0';
	if (mbuf_get_data(mb, &p, &n) == -1)
		return -1;
	if (n >= dstsz || memchr(p, '\0', n) != NULL) {
		mb->err = 1;
		return -1;
	}
	memcpy(dst, p, n);
	dst[n] = '\0';
	return 0;
}

int
mbuf_end(struct mbuf *mb)
{
	if (mb->err || mb->off != mb->len)
		return -1;
	return 0;
}
