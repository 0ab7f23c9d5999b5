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
 * A strict chunked body parser (RFC 9112, section 7.1).  The relay
 * forwards the bytes it consumes as they are, so it must find the end of
 * the body exactly where Docker's Go reader will: anything Go might read
 * differently is an error here, and the connection closes.
 *
 * - chunk-size is 1 to CHUNKED_DIGITS_MAX hex digits: no sign, "0x",
 *   whitespace or BWS; leading zeros count as digits.
 * - chunk extensions are accepted only as ";name" or ";name=value" with
 *   tokens on both sides, no BWS and no quoted-string: Go ignores what
 *   follows ';', and tokens cannot hide a CR, LF or quote.  The whole
 *   size line, CRLF included, is at most CHUNKED_LINE_MAX bytes.
 * - every line ends in CRLF; a bare LF is an error.
 * - the trailer section must be empty: a trailer field would be a header
 *   the policy never saw, and no Docker client sends one.
 */

#include <sys/types.h>
#include <stdint.h>

#include "policy.h"

enum {
	CH_SIZE = 0,	/* hex digits of chunk-size */
	CH_EXT_NAME0,	/* after ';': first tchar of a name */
	CH_EXT_NAME,
	CH_EXT_VAL0,	/* after '=': first tchar of a value */
	CH_EXT_VAL,
	CH_SIZE_LF,	/* CR seen at the end of the size line */
	CH_DATA,
	CH_DATA_CR,	/* the CRLF after chunk-data */
	CH_DATA_LF,
	CH_LAST_CR,	/* the empty line after the last chunk */
	CH_LAST_LF,
	CH_DONE,
	CH_ERROR,
};

void
chunked_init(struct chunked *ch)
{
	ch->state = CH_SIZE;
	ch->remain = 0;
	ch->linelen = 0;
	ch->ndigits = 0;
}

/* One byte of a size line; returns the next state. */
static int
size_line(struct chunked *ch, uint8_t c)
{
	int	 v;

	if (++ch->linelen > CHUNKED_LINE_MAX)
		return CH_ERROR;
	switch (ch->state) {
	case CH_SIZE:
		if ((v = http_hexval(c)) != -1) {
			/* check before the shift, as nginx does */
			if (ch->ndigits == CHUNKED_DIGITS_MAX ||
			    ch->remain > UINT64_MAX >> 4)
				return CH_ERROR;
			ch->remain = ch->remain << 4 | (uint64_t)v;
			ch->ndigits++;
			return CH_SIZE;
		}
		if (ch->ndigits == 0)
			return CH_ERROR;
		return c == ';' ? CH_EXT_NAME0 : c == '\r' ? CH_SIZE_LF :
		    CH_ERROR;
	case CH_EXT_NAME0:
	case CH_EXT_VAL0:
		return http_tchar(c) ? ch->state + 1 : CH_ERROR;
	case CH_EXT_NAME:
		if (c == '=')
			return CH_EXT_VAL0;
		/* FALLTHROUGH */
	case CH_EXT_VAL:
		if (http_tchar(c))
			return ch->state;
		return c == ';' ? CH_EXT_NAME0 : c == '\r' ? CH_SIZE_LF :
		    CH_ERROR;
	case CH_SIZE_LF:
		if (c != '\n')
			return CH_ERROR;
		ch->linelen = 0;
		ch->ndigits = 0;
		return ch->remain == 0 ? CH_LAST_CR : CH_DATA;
	}
	return CH_ERROR;
}

ssize_t
chunked_feed(struct chunked *ch, const uint8_t *buf, size_t len, int *done)
{
	size_t		 i = 0, n;
	uint8_t		 c;

	while (i < len && ch->state != CH_DONE && ch->state != CH_ERROR) {
		if (ch->state == CH_DATA) {
			n = len - i;
			if (n > ch->remain)
				n = (size_t)ch->remain;
			ch->remain -= n;
			i += n;
			if (ch->remain == 0)
				ch->state = CH_DATA_CR;
			continue;
		}
		c = buf[i++];
		switch (ch->state) {
		case CH_DATA_CR:
		case CH_LAST_CR:
			ch->state = c == '\r' ? ch->state + 1 : CH_ERROR;
			break;
		case CH_DATA_LF:
			ch->state = c == '\n' ? CH_SIZE : CH_ERROR;
			break;
		case CH_LAST_LF:
			ch->state = c == '\n' ? CH_DONE : CH_ERROR;
			break;
		default:
			ch->state = size_line(ch, c);
			break;
		}
	}
	*done = ch->state == CH_DONE;
	if (ch->state == CH_ERROR)
		return -1;
	return (ssize_t)i;
}

/*
 * Like chunked_feed, but stops where data and framing meet: the bytes
 * consumed are all chunk-data (*isdata set) or all framing.  The relay
 * hands the forwarder the data alone, and the forwarder frames it anew.
 */
ssize_t
chunked_step(struct chunked *ch, const uint8_t *buf, size_t len, int *done,
    int *isdata)
{
	size_t	 i;
	ssize_t	 n;

	*isdata = ch->state == CH_DATA;
	if (*isdata)
		return chunked_feed(ch, buf, len < ch->remain ? len :
		    (size_t)ch->remain, done);
	for (i = 0; i < len && ch->state != CH_DATA; i++) {
		if ((n = chunked_feed(ch, buf + i, 1, done)) == -1)
			return -1;
		if (n == 0 || *done)
			return i + n;
	}
	*done = ch->state == CH_DONE;
	return i;
}
