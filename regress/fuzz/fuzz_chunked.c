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
 * libFuzzer target for chunked_feed().  The same input fed whole, byte
 * by byte and in pseudo-random pieces must give the same outcome and the
 * same end, and that outcome must agree with a plain whole-buffer parser
 * of the grammar written from the comment in chunked.c.
 *
 * FUZZ_SOURCES: policy/chunked.c policy/http.c
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

enum outcome { MORE, DONE, ERR };

static enum outcome
feed(const uint8_t *b, size_t n, int mode, uint32_t seed, size_t *end)
{
	struct chunked	 ch;
	size_t		 off = 0, step;
	ssize_t		 r;
	int		 done = 0;

	chunked_init(&ch);
	*end = 0;
	while (off < n) {
		if (mode == 0)
			step = n - off;		/* whole */
		else if (mode == 1)
			step = 1;		/* byte by byte */
		else {
			seed = seed * 1103515245 + 12345;
			step = 1 + (seed >> 16) % 19;
		}
		if (step > n - off)
			step = n - off;
		r = chunked_feed(&ch, b + off, step, &done);
		if (r == -1)
			return ERR;
		if (r < 0 || (size_t)r > step)
			abort();
		off += (size_t)r;
		if (done) {
			*end = off;
			/* nothing is consumed after the end */
			if (chunked_feed(&ch, b + off, n - off, &done) != 0 ||
			    !done)
				abort();
			return DONE;
		}
		if ((size_t)r != step)
			abort();
	}
	/* an empty feed changes nothing */
	if (chunked_feed(&ch, b, 0, &done) != 0 || done)
		abort();
	return MORE;
}

static int
hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int
tchar(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || (c != '\0' &&
	    strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Next byte of a size line (bounded), or of the CRLF after data. */
#define LINE(c)	do {							\
	if (pos == n)							\
		return MORE;						\
	if (pos - ls >= CHUNKED_LINE_MAX)				\
		return ERR;						\
	(c) = b[pos++];							\
} while (0)
#define BYTE(c)	do {							\
	if (pos == n)							\
		return MORE;						\
	(c) = b[pos++];							\
} while (0)

static enum outcome
reference(const uint8_t *b, size_t n, size_t *end)
{
	size_t		 pos = 0, ls;
	uint64_t	 size;
	int		 nd, v;
	uint8_t		 c;

	for (;;) {
		ls = pos;
		size = 0;
		nd = 0;
		LINE(c);
		while ((v = hexval(c)) != -1) {
			if (nd == CHUNKED_DIGITS_MAX)
				return ERR;
			size = size << 4 | (uint64_t)v;
			nd++;
			LINE(c);
		}
		if (nd == 0)
			return ERR;
		while (c == ';') {
			LINE(c);
			if (!tchar(c))
				return ERR;
			do
				LINE(c);
			while (tchar(c));
			if (c == '=') {
				LINE(c);
				if (!tchar(c))
					return ERR;
				do
					LINE(c);
				while (tchar(c));
			}
		}
		if (c != '\r')
			return ERR;
		LINE(c);
		if (c != '\n')
			return ERR;
		if (size == 0)
			break;
		if (n - pos < size)
			return MORE;
		pos += size;
		BYTE(c);
		if (c != '\r')
			return ERR;
		BYTE(c);
		if (c != '\n')
			return ERR;
	}
	BYTE(c);
	if (c != '\r')
		return ERR;
	BYTE(c);
	if (c != '\n')
		return ERR;
	*end = pos;
	return DONE;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum outcome	 whole, bytes, pieces, ref;
	size_t		 ewhole, ebytes, epieces, eref = 0, e2;
	uint32_t	 seed;

	whole = feed(data, size, 0, 0, &ewhole);
	bytes = feed(data, size, 1, 0, &ebytes);
	seed = (uint32_t)size;
	if (size > 0)
		seed += (uint32_t)data[size - 1] << 8;
	pieces = feed(data, size, 2, seed, &epieces);
	ref = reference(data, size, &eref);

	if (whole != bytes || whole != pieces || whole != ref)
		abort();
	if (whole != DONE)
		return 0;
	if (ewhole != ebytes || ewhole != epieces || ewhole != eref ||
	    ewhole > size)
		abort();
	/* the body alone is a complete body with the same end */
	if (feed(data, ewhole, 1, 0, &e2) != DONE || e2 != ewhole)
		abort();
	return 0;
}
