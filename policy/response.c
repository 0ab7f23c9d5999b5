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
 * The daemon's response heads.  Docker is trusted, so this parser only
 * needs what the relay must know to frame the response and spot a
 * hijack; it is still bounded by the length it is given and refuses what
 * it cannot frame, so a confused backend connection is closed, never
 * reused.  Go's net/http writes CRLF, single-valued framing fields and a
 * reason phrase, and so does every hijack response moby writes by hand.
 */

#include <stdint.h>
#include <string.h>

#include "policy.h"

#define ISOWS(c)	((c) == ' ' || (c) == '\t')




/* "HTTP/1.x SP 3DIGIT [SP reason]" */
static int
parse_status_line(const char *l, size_t len, struct http_response *resp)
{
	size_t	 i;

	if (len < 12 || memcmp(l, "HTTP/1.", 7) != 0 ||
	    (l[7] != '0' && l[7] != '1') || l[8] != ' ')
		return -1;
	resp->minor = l[7] - '0';
	if (l[9] < '1' || l[9] > '5')
		return -1;
	resp->status = 0;
	for (i = 9; i < 12; i++) {
		if (l[i] < '0' || l[i] > '9')
			return -1;
		resp->status = resp->status * 10 + (l[i] - '0');
	}
	if (len > 12 && l[12] != ' ')
		return -1;
	return 0;
}

/* The media type without parameters, compared without case. */
static int
is_stream_type(const char *v, size_t len)
{
	size_t	 n;

	for (n = 0; n < len && v[n] != ';'; n++)
		;
	while (n > 0 && ISOWS(v[n - 1]))
		n--;
	return http_ieq(v, n, "application/vnd.docker.raw-stream") ||
	    http_ieq(v, n, "application/vnd.docker.multiplexed-stream");
}

struct resp_fields {
	const char	*cl, *te;
	size_t		 cllen, telen;
	int		 conn_close, conn_ka;
};

static int
parse_field(const char *l, size_t len, struct resp_fields *rf,
    struct http_response *resp)
{
	const char	*v;
	size_t		 n, vlen;

	for (n = 0; n < len && http_tchar(l[n]); n++)
		;
	if (n == 0 || n == len || l[n] != ':')
		return -1;
	v = l + n + 1;
	vlen = len - n - 1;
	while (vlen > 0 && ISOWS(v[0])) {
		v++;
		vlen--;
	}
	while (vlen > 0 && ISOWS(v[vlen - 1]))
		vlen--;

	if (http_ieq(l, n, "Content-Length")) {
		if (rf->cl != NULL)
			return -1;
		rf->cl = v;
		rf->cllen = vlen;
	} else if (http_ieq(l, n, "Transfer-Encoding")) {
		if (rf->te != NULL)
			return -1;
		rf->te = v;
		rf->telen = vlen;
	} else if (http_ieq(l, n, "Connection")) {
		if (http_list_has(v, vlen, "close"))
			rf->conn_close = 1;
		if (http_list_has(v, vlen, "keep-alive"))
			rf->conn_ka = 1;
	} else if (http_ieq(l, n, "Content-Type"))
		resp->raw_stream = is_stream_type(v, vlen);
	return 0;
}

/* RFC 9112 6.3, for the cases Docker produces. */
static int
set_framing(const struct resp_fields *rf, int head_request,
    struct http_response *resp)
{
	uint64_t	 length = 0;

	if (rf->te != NULL && rf->cl != NULL)
		return -1;
	if (rf->te != NULL && !http_ieq(rf->te, rf->telen, "chunked"))
		return -1;
	if (rf->cl != NULL &&
	    http_parse_length(rf->cl, rf->cllen, &length) == -1)
		return -1;

	if (resp->status / 100 == 1 || resp->status == 204 ||
	    resp->status == 304 || head_request) {
		resp->framing = RESP_NONE;
		resp->upgrade = resp->status == 101;
	} else if (rf->te != NULL)
		resp->framing = RESP_CHUNKED;
	else if (rf->cl != NULL) {
		resp->framing = RESP_LENGTH;
		resp->length = length;
	} else {
		/* The body ends at EOF: the connection cannot be reused. */
		resp->framing = RESP_EOF;
		resp->close = 1;
	}
	return 0;
}

int
http_parse_response(const char *buf, size_t len, int head_request,
    struct http_response *resp)
{
	struct resp_fields	 rf;
	const char		*p, *eol, *end = buf + len;
	size_t			 i;

	memset(resp, 0, sizeof(*resp));
	memset(&rf, 0, sizeof(rf));

	/* CRLF line ends only, no NUL, and the head ends at its end. */
	for (i = 0; i < len; i++) {
		if (buf[i] == '\0' ||
		    (buf[i] == '\n' && (i == 0 || buf[i - 1] != '\r')) ||
		    (buf[i] == '\r' && (i + 1 == len || buf[i + 1] != '\n')))
			return -1;
	}
	if (len < 4 || memcmp(end - 4, "\r\n\r\n", 4) != 0)
		return -1;

	eol = memchr(buf, '\r', len);
	if (parse_status_line(buf, eol - buf, resp) == -1)
		return -1;
	for (p = eol + 2; (eol = memchr(p, '\r', end - p)) != p; p = eol + 2)
		if (parse_field(p, eol - p, &rf, resp) == -1)
			return -1;
	if (eol + 2 != end)
		return -1;

	if (set_framing(&rf, head_request, resp) == -1)
		return -1;
	if (rf.conn_close || (resp->minor == 0 && !rf.conn_ka))
		resp->close = 1;
	return 0;
}
