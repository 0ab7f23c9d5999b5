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


/* The relay-forwarder stream protocol and its MAC (fwd.h). */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "mbuf.h"
#include "policy.h"
#include "fwd.h"

_Static_assert(FWD_CHECKED_MAX == BODY_LIMIT_MAX, "a checked body fits");
_Static_assert(FWD_SUMLEN == VERDICT_SUMLEN, "one SHA-256");

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

void
fwd_frame_hdr(uint8_t hdr[FWD_HDRLEN], uint32_t type, uint32_t len)
{
	put32(hdr, type);
	put32(hdr + 4, len);
}

int
fwd_frame_parse(const uint8_t hdr[FWD_HDRLEN], uint32_t *type,
    uint32_t *len)
{
	*type = get32(hdr);
	*len = get32(hdr + 4);
	switch (*type) {
	case FWD_HEAD:
		return *len > 0 && *len <= FWD_FRAME_MAX ? 0 : -1;
	case FWD_DATA:
		return *len > 0 && *len <= FWD_DATA_MAX ? 0 : -1;
	case FWD_END:
		return *len == 0 ? 0 : -1;
	}
	return -1;
}

int
fwd_head_encode(struct mbuf *m, const struct fwd_head *h)
{
	mbuf_add_u64(m, h->ctr);
	mbuf_add_u32(m, h->framing);
	mbuf_add_u64(m, h->length);
	mbuf_add_u32(m, h->upgrade);
	mbuf_add_u32(m, h->checked);
	mbuf_add_data(m, h->bodysum, h->checked ? FWD_SUMLEN : 0);
	mbuf_add_data(m, h->head, h->headlen);
	mbuf_add_data(m, h->mac, FWD_MACLEN);
	return m->err ? -1 : 0;
}

int
fwd_head_decode(const void *buf, size_t len, struct fwd_head *h)
{
	struct mbuf	 m;
	const void	*head, *mac, *sum;
	size_t		 maclen, sumlen;

	memset(h, 0, sizeof(*h));
	mbuf_reader(&m, buf, len);
	if (mbuf_get_u64(&m, &h->ctr) == -1 ||
	    mbuf_get_u32(&m, &h->framing) == -1 ||
	    mbuf_get_u64(&m, &h->length) == -1 ||
	    mbuf_get_u32(&m, &h->upgrade) == -1 ||
	    mbuf_get_u32(&m, &h->checked) == -1 ||
	    mbuf_get_data(&m, &sum, &sumlen) == -1 ||
	    mbuf_get_data(&m, &head, &h->headlen) == -1 ||
	    mbuf_get_data(&m, &mac, &maclen) == -1 || mbuf_end(&m) == -1)
		return -1;
	if (h->ctr == 0 || (FWD_IS_REUSABLE(h->ctr) &&
	    h->ctr != FWD_REUSE_CTR(FWD_CTR_GEN(h->ctr))) ||
	    h->framing > FRAMING_CHUNKED || h->upgrade > 1 ||
	    (h->framing != FRAMING_LENGTH && h->length != 0) ||
	    h->headlen < 4 || maclen != FWD_MACLEN)
		return -1;
	if (h->checked > 1 || sumlen != (h->checked ? FWD_SUMLEN : 0) ||
	    (h->checked && (h->framing != FRAMING_LENGTH ||
	    h->length > FWD_CHECKED_MAX || FWD_IS_REUSABLE(h->ctr))))
		return -1;
	memcpy(h->bodysum, sum, sumlen);
	h->head = head;
	memcpy(h->mac, mac, FWD_MACLEN);
	return 0;
}

/*
 * A key made ready once: OpenSSL's HMAC state after the key, which every
 * MAC starts from again.  Keying HMAC anew (HMAC()) cost as much as the
 * MAC itself, on every request in the policy worker and the forwarder.
 */
struct fwd_key {
	EVP_MAC_CTX	*ctx;
};

struct fwd_key *
fwd_key_new(const uint8_t key[FWD_KEYLEN])
{
	struct fwd_key	*k;
	EVP_MAC		*mac;
	OSSL_PARAM	 params[2];

	if ((k = calloc(1, sizeof(*k))) == NULL)
		return NULL;
	if ((mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) != NULL) {
		k->ctx = EVP_MAC_CTX_new(mac);
		EVP_MAC_free(mac);
	}
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if (k->ctx == NULL ||
	    EVP_MAC_init(k->ctx, key, FWD_KEYLEN, params) != 1) {
		fwd_key_free(k);
		return NULL;
	}
	return k;
}

void
fwd_key_free(struct fwd_key *k)
{
	if (k == NULL)
		return;
	EVP_MAC_CTX_free(k->ctx);
	free(k);
}

int
fwd_mac_k(struct fwd_key *k, const struct fwd_head *h,
    uint8_t out[FWD_MACLEN])
{
	struct mbuf	 m;
	size_t		 outlen = 0;
	int		 rv = -1;

	if (k == NULL)
		return -1;
	mbuf_init(&m);
	/* Two domains: a reusable approval is never a single-use one. */
	mbuf_add_str(&m, FWD_IS_REUSABLE(h->ctr) ?
	    "moatd forwarder reusable head 1" : "moatd forwarder head 1");
	mbuf_add_u64(&m, h->ctr);
	mbuf_add_u32(&m, h->framing);
	mbuf_add_u64(&m, h->length);
	mbuf_add_u32(&m, h->upgrade);
	mbuf_add_u32(&m, h->checked);
	mbuf_add_data(&m, h->bodysum, h->checked ? FWD_SUMLEN : 0);
	mbuf_add_data(&m, h->head, h->headlen);
	/* A NULL key starts again from the one given at fwd_key_new(). */
	if (!m.err && EVP_MAC_init(k->ctx, NULL, 0, NULL) == 1 &&
	    EVP_MAC_update(k->ctx, m.buf, m.len) == 1 &&
	    EVP_MAC_final(k->ctx, out, &outlen, FWD_MACLEN) == 1 &&
	    outlen == FWD_MACLEN)
		rv = 0;
	mbuf_free(&m);
	return rv;
}

int
fwd_mac_ok_k(struct fwd_key *k, const struct fwd_head *h)
{
	uint8_t	 mac[FWD_MACLEN];

	if (fwd_mac_k(k, h, mac) == -1)
		return 0;
	return CRYPTO_memcmp(mac, h->mac, FWD_MACLEN) == 0;
}

int
fwd_mac(const uint8_t key[FWD_KEYLEN], const struct fwd_head *h,
    uint8_t out[FWD_MACLEN])
{
	struct fwd_key	*k = fwd_key_new(key);
	int		 rv;

	rv = fwd_mac_k(k, h, out);
	fwd_key_free(k);
	return rv;
}

int
fwd_mac_ok(const uint8_t key[FWD_KEYLEN], const struct fwd_head *h)
{
	struct fwd_key	*k = fwd_key_new(key);
	int		 rv;

	rv = fwd_mac_ok_k(k, h);
	fwd_key_free(k);
	return rv;
}

#define WBIT(c)		((c) % FWD_WINDOW)

int
fwd_window_use(struct fwd_window *w, uint64_t ctr)
{
	uint64_t	 c;

	if (ctr == 0)
		return -1;
	if (ctr > w->top) {
		if (ctr - w->top >= FWD_WINDOW)
			memset(w->bits, 0, sizeof(w->bits));
		else
			for (c = w->top + 1; c <= ctr; c++)
				w->bits[WBIT(c) / 64] &=
				    ~((uint64_t)1 << (WBIT(c) % 64));
		w->top = ctr;
	} else if (w->top - ctr >= FWD_WINDOW)
		return -1;
	else if (w->bits[WBIT(ctr) / 64] & ((uint64_t)1 << (WBIT(ctr) % 64)))
		return -1;
	w->bits[WBIT(ctr) / 64] |= (uint64_t)1 << (WBIT(ctr) % 64);
	return 0;
}

enum fwd_check
fwd_check_k(struct fwd_key *k, uint32_t gen, struct fwd_window *w,
    const struct fwd_head *h)
{
	if (FWD_IS_REUSABLE(h->ctr)) {
		if (h->framing != FRAMING_NONE || h->length != 0 ||
		    h->upgrade != 0 || h->checked != 0)
			return FWD_NOT_REUSABLE;
		if (!fwd_mac_ok_k(k, h))
			return FWD_FORGED;
		/* A later one: made by a worker that runs rules we have not
		 * been told of yet (a reload under way). */
		return FWD_CTR_GEN(h->ctr) >= gen ? FWD_OK : FWD_STALE;
	}
	if (!fwd_mac_ok_k(k, h))
		return FWD_FORGED;
	return fwd_window_use(w, h->ctr) == -1 ? FWD_REPLAY : FWD_OK;
}

enum fwd_check
fwd_check(const uint8_t key[FWD_KEYLEN], uint32_t gen, struct fwd_window *w,
    const struct fwd_head *h)
{
	struct fwd_key	*k = fwd_key_new(key);
	enum fwd_check	 rv;

	rv = fwd_check_k(k, gen, w, h);
	fwd_key_free(k);
	return rv;
}

char *
verdict_head(const struct verdict *v, size_t *len)
{
	char	*buf, *p;
	size_t	 size;
	int	 n;

	size = strlen(v->method) + strlen(v->target) + v->fieldslen +
	    strlen(v->upgrade_proto) + 256;
	if ((buf = malloc(size)) == NULL)
		return NULL;
	n = snprintf(buf, size, "%s %s HTTP/1.1\r\nHost: docker\r\n",
	    v->method, v->target);
	p = buf + n;
	if (v->fieldslen > 0) {
		memcpy(p, v->fields, v->fieldslen);
		p += v->fieldslen;
	}
	if (v->framing == FRAMING_LENGTH)
		p += snprintf(p, buf + size - p, "Content-Length: %llu\r\n",
		    (unsigned long long)v->length);
	else if (v->framing == FRAMING_CHUNKED)
		p += snprintf(p, buf + size - p,
		    "Transfer-Encoding: chunked\r\n");
	if (v->hijack)
		p += snprintf(p, buf + size - p,
		    "Connection: Upgrade\r\nUpgrade: %s\r\n",
		    v->upgrade_proto);
	memcpy(p, "\r\n", 2);
	*len = p + 2 - buf;
	return buf;
}
