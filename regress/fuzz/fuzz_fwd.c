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
 * libFuzzer target for what a relay taken over can put on a stream to
 * its forwarder (policy/fwd.c), and for chunked_step(), which cuts a
 * client's chunked body into the data the forwarder frames anew.
 *
 * - The input, read as frames: each header must parse only when its type
 *   and size are in range, a head frame must decode only into a head
 *   within the frame, a reusable counter must be the bit and a
 *   generation only, and no head may carry an approval that checks under
 *   the key (an HMAC is not guessed) or that fwd_check() lets through,
 *   single-use or reusable.
 * - The input, read as a chunked body: chunked_step() must end where
 *   chunked_feed() does, with the same outcome, and the data it hands
 *   out, framed anew as the forwarder does, must parse back to the same
 *   data with nothing after it.
 *
 * FUZZ_SOURCES: policy/fwd.c policy/mbuf.c policy/chunked.c policy/http.c
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mbuf.h"
#include "policy.h"
#include "fwd.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const uint8_t key[FWD_KEYLEN] = "fuzz-fuzz-fuzz-fuzz-fuzz-fuzz-!";

static void
frames(const uint8_t *b, size_t n)
{
	static struct fwd_window	 w;
	struct fwd_head	 h;
	uint32_t	 type, len;

	while (n >= FWD_HDRLEN) {
		if (fwd_frame_parse(b, &type, &len) == -1)
			return;
		if (type < FWD_HEAD || type > FWD_END ||
		    (type == FWD_DATA && (len == 0 || len > FWD_DATA_MAX)) ||
		    (type == FWD_END && len != 0) || len > FWD_FRAME_MAX)
			abort();
		b += FWD_HDRLEN;
		n -= FWD_HDRLEN;
		if (len > n)
			return;
		if (type == FWD_HEAD && fwd_head_decode(b, len, &h) == 0) {
			if ((const uint8_t *)h.head < b ||
			    (const uint8_t *)h.head + h.headlen > b + len ||
			    h.ctr == 0 || h.framing > FRAMING_CHUNKED ||
			    h.upgrade > 1 || (FWD_IS_REUSABLE(h.ctr) &&
			    (h.ctr >> 32) != (FWD_REUSABLE >> 32)))
				abort();
			if (fwd_mac_ok(key, &h) ||
			    fwd_check(key, 0, &w, &h) == FWD_OK)
				abort();
		}
		b += len;
		n -= len;
	}
}

/* The forwarder's framing of data runs, then a strict parse back. */
static void
chunks(const uint8_t *b, size_t n)
{
	struct chunked	 a, c, p;
	uint8_t		*re;
	size_t		 off = 0, rlen = 0;
	ssize_t		 whole, k;
	int		 done = 0, adone = 0, pdone = 0, isdata, bad = 0;

	chunked_init(&a);
	whole = chunked_feed(&a, b, n, &adone);
	if ((re = malloc(2 * n + 64)) == NULL)
		abort();
	chunked_init(&c);
	while (off < n && !done) {
		if ((k = chunked_step(&c, b + off, n - off, &done,
		    &isdata)) == -1) {
			bad = 1;
			break;
		}
		if (k == 0)
			abort();	/* no progress on input */
		if (isdata) {
			rlen += snprintf((char *)re + rlen, 32, "%zx\r\n",
			    (size_t)k);
			memcpy(re + rlen, b + off, k);
			rlen += k;
			memcpy(re + rlen, "\r\n", 2);
			rlen += 2;
		}
		off += k;
	}
	/* the same outcome and end as the whole-buffer parser */
	if (bad != (whole == -1))
		abort();
	if (!bad && (done != adone || (done && off != (size_t)whole) ||
	    (!done && off != n)))
		abort();
	if (done) {
		memcpy(re + rlen, "0\r\n\r\n", 5);
		rlen += 5;
		chunked_init(&p);
		if (chunked_feed(&p, re, rlen, &pdone) != (ssize_t)rlen ||
		    !pdone)
			abort();
	}
	free(re);
}

int
LLVMFuzzerTestOneInput(const uint8_t *b, size_t n)
{
	frames(b, n);
	chunks(b, n);
	return 0;
}
