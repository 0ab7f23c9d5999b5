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
 * The private header of the daemon: messages between processes, the
 * configuration, and the relay-side helpers.
 */

#ifndef MOATD_H
#define MOATD_H

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "policy.h"
#include "privsep.h"

#define PARENT_FD	3	/* a re-exec'd child's channel to the parent */

enum msg_type {
	MSG_NONE = 0,
	MSG_CTL_PROCFD,		/* parent -> relay/policy: peer channel, fd */
	MSG_CTL_DRAIN,		/* parent -> relays: stop accepting, finish */
	MSG_CFG_GLOBAL,		/* parent -> children: limits, timeouts */
	MSG_CFG_RULES,		/* parent -> children: one rule source */
	MSG_CFG_LISTENER,	/* parent -> relay: listener id; fd */
	MSG_CFG_DONE,		/* parent -> child: generation; ack back */
	MSG_POLICY_REQ,		/* relay -> policy: peerid = session id */
	MSG_POLICY_VERDICT,	/* policy -> relay: peerid = session id */
	MSG_BACKEND_REQ,	/* relay -> parent: peerid = session id */
	MSG_BACKEND_FD,		/* parent -> relay: peerid = session id; fd */
	MSG_BACKEND_ERR,	/* parent -> relay: peerid = session id */
	MSG_LOG,		/* child -> parent: priority, text */
	MSG_TYPE_MAX,
};

/* chunked.c: a strict, incremental parser for chunked bodies */

#define CHUNKED_DIGITS_MAX	16	/* hex digits in chunk-size: uint64 */
#define CHUNKED_LINE_MAX	64	/* size line, extensions and CRLF */

struct chunked {
	int		 state;
	uint64_t	 remain;	/* data bytes left in this chunk */
	size_t		 linelen;	/* bytes in the current size/trailer line */
	int		 ndigits;
};

void	chunked_init(struct chunked *);
/*
 * Consume up to len bytes of a chunked body.  Returns how many bytes were
 * consumed (all of them belong to the body and may be forwarded as they
 * are), sets *done once the last chunk and the empty trailer line are
 * through, or returns -1 on a framing error (the connection must close).
 * Bytes after the end are not consumed.
 */
ssize_t	chunked_feed(struct chunked *, const uint8_t *, size_t, int *done);

/* response.c: the daemon's (trusted, still bounded) response heads */

enum resp_framing {
	RESP_NONE = 0,		/* no body (HEAD, 1xx, 204, 304) */
	RESP_LENGTH,
	RESP_CHUNKED,
	RESP_EOF,		/* until the daemon closes */
};

struct http_response {
	int			 status;
	int			 minor;
	enum resp_framing	 framing;
	uint64_t		 length;
	int			 close;		/* Connection: close or 1.0 */
	int			 raw_stream;	/* vnd.docker.raw-stream/multiplexed */
	int			 upgrade;	/* 101 */
};

/*
 * Parse a complete response head; head_request says the request was
 * HEAD.  0, or -1 if the daemon's answer cannot be framed.
 */
int	http_parse_response(const char *, size_t, int head_request,
	    struct http_response *);

#endif /* MOATD_H */
