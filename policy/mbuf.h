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

#ifndef MOATD_MBUF_H
#define MOATD_MBUF_H

#include <stddef.h>
#include <stdint.h>

/* The largest payload: a message (privsep/msg.c) less its header. */
#define MBUF_MAX	(8 * 1024 * 1024 + 64 * 1024 - 16)

/*
 * Typed marshalling: build a payload, then parse one strictly.  Integers
 * are big-endian; data and strings are a u32 length and the bytes (no
 * NUL).  Any failure sets err and every later getter fails.
 */
struct mbuf {
	uint8_t		*buf;
	size_t		 len;
	size_t		 size;
	size_t		 off;		/* read position */
	int		 err;
};

void	mbuf_init(struct mbuf *);
void	mbuf_free(struct mbuf *);
void	mbuf_add_u32(struct mbuf *, uint32_t);
void	mbuf_add_u64(struct mbuf *, uint64_t);
void	mbuf_add_data(struct mbuf *, const void *, size_t); /* len-prefixed */
void	mbuf_add_str(struct mbuf *, const char *);	/* len-prefixed */
/* Bytes as they are: a part encoded before (MSG_POLICY_REQ's who). */
void	mbuf_add_raw(struct mbuf *, const void *, size_t);
void	mbuf_reader(struct mbuf *, const void *, size_t);
int	mbuf_get_u32(struct mbuf *, uint32_t *);
int	mbuf_get_u64(struct mbuf *, uint64_t *);
/* Points into the message; *len set.  -1 on short payload. */
int	mbuf_get_data(struct mbuf *, const void **, size_t *);
/* Copies into dst; -1 if short, too long, or contains a NUL. */
int	mbuf_get_str(struct mbuf *, char *, size_t);
/* 0 if every byte was consumed and no error happened, else -1. */
int	mbuf_end(struct mbuf *);

#endif /* MOATD_MBUF_H */
