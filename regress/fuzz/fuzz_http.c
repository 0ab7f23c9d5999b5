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
 * libFuzzer target for policy/http.c.  Besides memory safety (ASan,
 * UBSan) it checks what the rest of moatd relies on: an accepted head
 * ends exactly at its first empty line, every field points inside it and
 * is a token name with a CTL-free value, the framing is one of three and
 * a refusal always carries a known status and a reason.
 *
 * FUZZ_SOURCES: policy/http.c
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

#define CHECK(x)	do { if (!(x)) abort(); } while (0)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int
inside(const char *p, size_t n, const char *buf, size_t len)
{
	return p >= buf && n <= len && p - buf <= (ptrdiff_t)(len - n);
}

static void
check_accepted(const char *buf, size_t len, const struct http_limits *lim,
    const struct http_request *req)
{
	const struct http_field	*f;
	size_t			 i, j;

	CHECK(http_head_length(buf, len) == len);
	CHECK(len >= 4 && memcmp(buf + len - 4, "\r\n\r\n", 4) == 0);
	CHECK(lim == NULL || len <= lim->head_max);
	for (i = 0; i < len; i++) {
		CHECK(buf[i] != '\0');
		CHECK(buf[i] != '\n' || (i > 0 && buf[i - 1] == '\r'));
		CHECK(buf[i] != '\r' || (i + 1 < len && buf[i + 1] == '\n'));
	}
	CHECK(req->minor == 0 || req->minor == 1);
	CHECK(req->method[0] >= 'A' && req->method[0] <= 'Z');
	CHECK(inside(req->target, req->targetlen, buf, len));
	CHECK(req->targetlen > 0 && req->target[0] == '/');
	for (i = 0; i < req->targetlen; i++)
		CHECK(req->target[i] > ' ' && req->target[i] < 0x7f);
	CHECK(req->nfields <= HTTP_HEADERS_MAX);
	CHECK(lim == NULL || req->nfields <= lim->headers_max);
	for (i = 0; i < req->nfields; i++) {
		f = &req->fields[i];
		CHECK(f->namelen > 0 && inside(f->name, f->namelen, buf, len));
		CHECK(inside(f->value, f->valuelen, buf, len));
		for (j = 0; j < f->namelen; j++)
			CHECK(tchar(f->name[j]));
		for (j = 0; j < f->valuelen; j++)
			CHECK((unsigned char)f->value[j] >= 0x20 ?
			    f->value[j] != 0x7f : f->value[j] == '\t');
	}
	switch (req->framing) {
	case FRAMING_NONE:
	case FRAMING_CHUNKED:
		CHECK(req->length == 0);
		break;
	case FRAMING_LENGTH:
		CHECK(req->length < UINT64_C(1000000000000000000));
		break;
	default:
		CHECK(0);
	}
	CHECK(req->framing != FRAMING_CHUNKED || req->minor == 1);
	CHECK(req->keepalive == 0 || req->keepalive == 1);
	if (req->upgrade) {
		CHECK(req->minor == 1);
		CHECK(strlen(req->upgrade_proto) > 0);
	} else
		CHECK(req->upgrade_proto[0] == '\0');
	CHECK(memchr(req->upgrade_proto, '\0',
	    sizeof(req->upgrade_proto)) != NULL);
}

static void
parse(const char *buf, size_t len, const struct http_limits *lim)
{
	static struct http_request	 req;
	const char			*why;
	int				 status, rv;

	rv = http_parse_request(buf, len, lim, &req, &status, &why);
	if (rv == 0) {
		CHECK(status == 0 && why == NULL);
		check_accepted(buf, len, lim, &req);
		return;
	}
	CHECK(rv == -1);
	CHECK(status == 400 || status == 414 || status == 417 ||
	    status == 431 || status == 501 || status == 505);
	CHECK(why != NULL && why[0] != '\0');
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct http_limits	 small = { 256, 64, 8 };
	char				*buf;
	size_t				 hl;

	/* An exact-size copy so that ASan sees any read past the end. */
	if ((buf = malloc(size > 0 ? size : 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	parse(buf, size, NULL);
	parse(buf, size, &small);
	hl = http_head_length(buf, size);
	CHECK(hl <= size);
	free(buf);

	/* What the relay does: cut the head off the stream and parse it. */
	if (hl > 0) {
		if ((buf = malloc(hl)) == NULL)
			return 0;
		memcpy(buf, data, hl);
		parse(buf, hl, NULL);
		free(buf);
	}
	return 0;
}
