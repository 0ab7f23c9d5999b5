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
 * What a relay may say to its forwarder on a stream, and the proof that
 * the policy worker approved a head: no I/O, no globals.
 *
 * A stream is a socketpair between a relay and its forwarder, one per
 * Docker connection.  Docker's bytes come down it as they are; up it go
 * frames, each a u32 type and a u32 length (big-endian), then the
 * payload.  A head frame carries the exact bytes to write to Docker and
 * an HMAC-SHA256 the policy worker made over them with the key it shares
 * with this relay's forwarder (the relay never has it), a counter that
 * makes it single-use, and how its body is framed.  Data frames carry
 * body bytes, which the forwarder frames itself.
 *
 * An approval is single-use (ctr is the relay's request counter, used
 * once: fwd_window) or reusable (ctr is FWD_REUSABLE plus the rules
 * generation it was made under).  The MAC names which, in its own domain,
 * so that neither can be taken for the other.  Only a head without a body
 * and without an upgrade may have a reusable approval, and only under the
 * generation the forwarder runs, or a later one: the relay's verdict cache
 * (daemon/vcache.c) sends it again for heads repeated byte for byte.
 *
 * A head whose body the policy worker read and checked (issue 12's body
 * policy) carries the body's SHA-256 under the MAC: the forwarder holds
 * the head and the body until all of it is there and matches, and only
 * then writes both, so a relay cannot swap the body it was approved for.
 */

#ifndef MOATD_FWD_H
#define MOATD_FWD_H

#include <stddef.h>
#include <stdint.h>

#define FWD_KEYLEN	32
#define FWD_MACLEN	32
#define FWD_SUMLEN	32	/* SHA-256 of a checked body */
#define FWD_HDRLEN	8
#define FWD_DATA_MAX	(64 * 1024)
#define FWD_FRAME_MAX	(256 * 1024)
/* Counters this far below the highest seen are refused as too old. */
#define FWD_WINDOW	65536
/* ctr of a reusable approval: this bit, and the generation in the low 32 */
#define FWD_REUSABLE	((uint64_t)1 << 63)
#define FWD_REUSE_CTR(gen)	(FWD_REUSABLE | (uint32_t)(gen))
#define FWD_IS_REUSABLE(ctr)	(((ctr) & FWD_REUSABLE) != 0)
#define FWD_CTR_GEN(ctr)	((uint32_t)(ctr))

enum fwd_frame {
	FWD_HEAD = 1,	/* an approved head: struct fwd_head */
	FWD_DATA,	/* body bytes (1 to FWD_DATA_MAX) or, piped, raw */
	FWD_END,	/* the end of a chunked body */
};

struct fwd_head {
	uint64_t	 ctr;		/* >= 1: relay's counter, or reusable */
	uint32_t	 framing;	/* enum http_framing of the body */
	uint64_t	 length;	/* FRAMING_LENGTH only */
	uint32_t	 upgrade;	/* 1: an approved upgrade */
	/*
	 * 1: a body the policy worker checked (FRAMING_LENGTH, single-use):
	 * nothing goes to Docker until all length bytes are here and their
	 * SHA-256 is bodysum.
	 */
	uint32_t	 checked;
	uint8_t		 bodysum[FWD_SUMLEN];
	const char	*head;		/* the bytes Docker gets */
	size_t		 headlen;
	uint8_t		 mac[FWD_MACLEN];
};

struct fwd_window {
	uint64_t	 top;		/* highest counter used, 0: none */
	uint64_t	 bits[FWD_WINDOW / 64];
};

struct mbuf;
struct verdict;

/* The frame header; fwd_frame_parse(): 0, or -1 for a bad type or size. */
void	fwd_frame_hdr(uint8_t hdr[FWD_HDRLEN], uint32_t type, uint32_t len);
int	fwd_frame_parse(const uint8_t hdr[FWD_HDRLEN], uint32_t *type,
	    uint32_t *len);
/* A head frame's payload; decode points into buf.  0 or -1. */
int	fwd_head_encode(struct mbuf *, const struct fwd_head *);
int	fwd_head_decode(const void *buf, size_t len, struct fwd_head *);
/*
 * A key made ready for many MACs (the HMAC state after the key): made
 * when the key comes, kept by the process that holds the key, used for
 * every head.  NULL when OpenSSL fails; fwd_key_free() wipes it.
 */
struct fwd_key;
struct fwd_key	*fwd_key_new(const uint8_t key[FWD_KEYLEN]);
void		 fwd_key_free(struct fwd_key *);
/* HMAC-SHA256 over everything in h but its mac.  0 or -1. */
int	fwd_mac_k(struct fwd_key *, const struct fwd_head *h,
	    uint8_t out[FWD_MACLEN]);
/* The same from the key's bytes: a key made and freed for one MAC. */
int	fwd_mac(const uint8_t key[FWD_KEYLEN], const struct fwd_head *h,
	    uint8_t out[FWD_MACLEN]);
/* 1 when h->mac is right for the key (constant time), else 0. */
int	fwd_mac_ok_k(struct fwd_key *, const struct fwd_head *h);
int	fwd_mac_ok(const uint8_t key[FWD_KEYLEN], const struct fwd_head *h);
/* Use counter ctr once: 0, or -1 when it is 0, used, or too old. */
int	fwd_window_use(struct fwd_window *, uint64_t ctr);

enum fwd_check {
	FWD_OK = 0,
	FWD_FORGED,		/* no MAC of the policy worker's */
	FWD_REPLAY,		/* single-use, used before or too old */
	FWD_STALE,		/* reusable, of an older generation */
	FWD_NOT_REUSABLE,	/* reusable, with a body or an upgrade */
};
/* The most a checked body may hold (body.h's BODY_LIMIT_MAX). */
#define FWD_CHECKED_MAX	(8 * 1024 * 1024)
/*
 * May the forwarder write h to Docker?  Under key, at generation gen
 * (the rules the forwarder was last told of), with w the window of
 * single-use counters (a counter that passes is used up).
 */
enum fwd_check	fwd_check(const uint8_t key[FWD_KEYLEN], uint32_t gen,
		    struct fwd_window *w, const struct fwd_head *h);
enum fwd_check	fwd_check_k(struct fwd_key *, uint32_t gen,
		    struct fwd_window *w, const struct fwd_head *h);
/*
 * The head a verdict forwards, as Docker gets it: request line, Host,
 * the policy's fields, our framing and upgrade fields, the empty line.
 * Allocated (free it), *len set; NULL on allocation failure.
 */
char	*verdict_head(const struct verdict *, size_t *len);

#endif /* MOATD_FWD_H */
