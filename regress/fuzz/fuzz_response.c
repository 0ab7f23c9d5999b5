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
 * libFuzzer target for policy/response.c: Docker is trusted, but the
 * parser must stay inside the bytes it is given and only ever report a
 * framing the relay can follow.
 *
 * FUZZ_SOURCES: policy/response.c policy/http.c
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

#define CHECK(x)	do { if (!(x)) abort(); } while (0)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
parse(const char *buf, size_t len, int head_request)
{
	struct http_response	 r;

	if (http_parse_response(buf, len, head_request, &r) == -1)
		return;
	CHECK(http_head_length(buf, len) == len);
	CHECK(r.status >= 100 && r.status <= 599);
	CHECK(r.minor == 0 || r.minor == 1);
	CHECK(r.upgrade == (r.status == 101));
	switch (r.framing) {
	case RESP_NONE:
		CHECK(head_request || r.status < 200 || r.status == 204 ||
		    r.status == 304);
		break;
	case RESP_LENGTH:
		CHECK(r.length < UINT64_C(1000000000000000000));
		break;
	case RESP_CHUNKED:
		break;
	case RESP_EOF:
		CHECK(r.close);
		break;
	default:
		CHECK(0);
	}
	CHECK(r.framing == RESP_LENGTH || r.length == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*buf;
	size_t	 hl;

	if ((buf = malloc(size > 0 ? size : 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	parse(buf, size, 0);
	parse(buf, size, 1);
	hl = http_head_length(buf, size);
	free(buf);
	if (hl > 0) {
		if ((buf = malloc(hl)) == NULL)
			return 0;
		memcpy(buf, data, hl);
		parse(buf, hl, 0);
		free(buf);
	}
	return 0;
}
