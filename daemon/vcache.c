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
 * The relay's verdict cache: polling clients send the same head again
 * and again, and a head that is byte for byte one the policy worker
 * approved, on the same listener, from the same TLS identity, under the
 * same rules generation, gets the same verdict without the round trip.
 * Nothing here parses a head: the key is the bytes as the client sent
 * them (up to and including the empty line), the listener id and the
 * identity's attributes; the value is the verdict as the worker gave it.
 *
 * Only what the worker marked reusable is kept: an ALLOW without a body
 * and without an upgrade, with a second proof that the forwarder takes
 * any number of times, but only for such a head and only under the
 * generation it names or a later one (fwd.h).  So what a relay taken over
 * could do with a cached approval is what it could do with a fresh one.
 *
 * Bounded: VCACHE_ENTRIES entries, VCACHE_BYTES in all, heads up to
 * VCACHE_HEAD_MAX; the least recently used goes first, an entry lives
 * VCACHE_TTL seconds at most, a new generation empties it, and so does a
 * new forwarder channel (a new approval key).  While the policy worker's
 * channel is closed nothing is allowed, from the cache either.
 */

#include <sys/types.h>
#include <sys/queue.h>

#include <stdlib.h>
#include <string.h>

#include "relay.h"

#define VC_BUCKETS	512	/* a power of two, about 2 * VCACHE_ENTRIES */

struct vc_entry {
	TAILQ_ENTRY(vc_entry)	 lru;		/* most recent first */
	LIST_ENTRY(vc_entry)	 bucket;
	uint64_t		 hash;
	time_t			 born;
	size_t			 keylen;
	size_t			 vallen;
	uint8_t			*key;		/* both in the same block */
	uint8_t			*val;		/* verdict_encode() */
};

struct vcache {
	TAILQ_HEAD(vc_lru, vc_entry) lru;
	LIST_HEAD(, vc_entry)	 buckets[VC_BUCKETS];
	size_t			 n, bytes;
	size_t			 maxn, maxbytes;
	int			 ttl;
	uint32_t		 gen;		/* of every entry */
	uint64_t		 seed;
	uint8_t			*scratch;	/* the key being looked up */
	size_t			 scratchsz;
};

struct vcache *
vcache_new(size_t maxn, size_t maxbytes, int ttl)
{
	struct vcache	*vc;
	size_t		 i;

	if ((vc = calloc(1, sizeof(*vc))) == NULL)
		return NULL;
	TAILQ_INIT(&vc->lru);
	for (i = 0; i < VC_BUCKETS; i++)
		LIST_INIT(&vc->buckets[i]);
	vc->maxn = maxn;
	vc->maxbytes = maxbytes;
	vc->ttl = ttl;
	arc4random_buf(&vc->seed, sizeof(vc->seed));
	return vc;
}

static void
entry_del(struct vcache *vc, struct vc_entry *e)
{
	TAILQ_REMOVE(&vc->lru, e, lru);
	LIST_REMOVE(e, bucket);
	vc->n--;
	vc->bytes -= sizeof(*e) + e->keylen + e->vallen;
	freezero(e, sizeof(*e) + e->keylen + e->vallen);
}

void
vcache_flush(struct vcache *vc)
{
	struct vc_entry	*e;

	while ((e = TAILQ_FIRST(&vc->lru)) != NULL)
		entry_del(vc, e);
}

void
vcache_free(struct vcache *vc)
{
	if (vc == NULL)
		return;
	vcache_flush(vc);
	free(vc->scratch);
	free(vc);
}

size_t
vcache_count(const struct vcache *vc, size_t *bytes)
{
	if (bytes != NULL)
		*bytes = vc->bytes;
	return vc->n;
}

/* FNV-1a from a secret start: no client picks our bucket collisions. */
static uint64_t
vc_hash(const struct vcache *vc, const uint8_t *p, size_t len)
{
	uint64_t	 h = 0xcbf29ce484222325ULL ^ vc->seed;

	while (len-- > 0) {
		h ^= *p++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static int
put_bytes(struct vcache *vc, size_t *off, const void *p, size_t len)
{
	uint8_t	*n;
	size_t	 want = *off + len;

	if (want > vc->scratchsz) {
		if ((n = realloc(vc->scratch, want + 256)) == NULL)
			return -1;
		vc->scratch = n;
		vc->scratchsz = want + 256;
	}
	memcpy(vc->scratch + *off, p, len);
	*off += len;
	return 0;
}

/*
 * The key of a head: the listener id, the identity's attributes in the
 * order the relay set them, the head's bytes.  Each part's length is in
 * it, so no two different triples make the same key.  Points into the
 * cache's scratch space (valid until the next call); NULL when the head
 * is too large to be kept, or out of memory.
 */
const uint8_t *
vcache_key(struct vcache *vc, int lid, const struct ident *id,
    const void *head, size_t hl, size_t *len)
{
	uint32_t	 u[2];
	size_t		 off = 0, i, kl, vl;

	if (hl == 0 || hl > VCACHE_HEAD_MAX)
		return NULL;
	u[0] = (uint32_t)lid;
	u[1] = id != NULL ? (uint32_t)id->n : 0;
	if (put_bytes(vc, &off, u, sizeof(u)) == -1)
		return NULL;
	for (i = 0; id != NULL && i < id->n; i++) {
		kl = strlen(id->a[i].key) + 1;
		vl = strlen(id->a[i].value) + 1;
		if (put_bytes(vc, &off, id->a[i].key, kl) == -1 ||
		    put_bytes(vc, &off, id->a[i].value, vl) == -1)
			return NULL;
	}
	if (put_bytes(vc, &off, head, hl) == -1)
		return NULL;
	*len = off;
	return vc->scratch;
}

/* Another generation's entries are no one's. */
static void
vc_gen(struct vcache *vc, uint32_t gen)
{
	if (vc->gen != gen) {
		vcache_flush(vc);
		vc->gen = gen;
	}
}

/*
 * The verdict kept for key under generation gen: 1 and *v set (free
 * its fields with verdict_clear()), or 0.
 */
int
vcache_find(struct vcache *vc, uint32_t gen, time_t now, const uint8_t *key,
    size_t keylen, struct verdict *v)
{
	struct vc_entry	*e;
	struct mbuf	 m;
	uint64_t	 h;

	vc_gen(vc, gen);
	if (vc->n == 0)
		return 0;
	h = vc_hash(vc, key, keylen);
	LIST_FOREACH(e, &vc->buckets[h & (VC_BUCKETS - 1)], bucket)
		if (e->hash == h && e->keylen == keylen &&
		    memcmp(e->key, key, keylen) == 0)
			break;
	if (e == NULL)
		return 0;
	if (now - e->born >= vc->ttl || now < e->born) {
		entry_del(vc, e);
		return 0;
	}
	mbuf_reader(&m, e->val, e->vallen);
	if (verdict_decode(&m, v) == -1) {
		entry_del(vc, e);
		return 0;
	}
	TAILQ_REMOVE(&vc->lru, e, lru);
	TAILQ_INSERT_HEAD(&vc->lru, e, lru);
	return 1;
}

/*
 * Keep v for key under generation gen, if the worker made it reusable
 * under that very generation.  0 kept, -1 not.
 */
int
vcache_add(struct vcache *vc, uint32_t gen, time_t now, const uint8_t *key,
    size_t keylen, const struct verdict *v)
{
	struct vc_entry	*e, *old;
	struct mbuf	 m;
	uint64_t	 h;
	size_t		 size;
	int		 rv = -1;

	vc_gen(vc, gen);
	/* Never a checked body's approval (single-use) nor a BODY. */
	if (v->kind != VERDICT_ALLOW || !v->hasmac || !v->reusable ||
	    v->checked ||
	    v->rgen != gen || v->framing != FRAMING_NONE || v->hijack ||
	    keylen == 0)
		return -1;
	mbuf_init(&m);
	if (verdict_encode(v, &m) == -1)
		goto done;
	size = sizeof(*e) + keylen + m.len;
	if (size > vc->maxbytes || vc->maxn == 0)
		goto done;
	h = vc_hash(vc, key, keylen);
	/* The same key again (two requests in flight at once): the newer. */
	LIST_FOREACH(old, &vc->buckets[h & (VC_BUCKETS - 1)], bucket)
		if (old->hash == h && old->keylen == keylen &&
		    memcmp(old->key, key, keylen) == 0) {
			entry_del(vc, old);
			break;
		}
	while (vc->n >= vc->maxn || vc->bytes + size > vc->maxbytes)
		entry_del(vc, TAILQ_LAST(&vc->lru, vc_lru));
	if ((e = malloc(size)) == NULL)
		goto done;
	e->hash = h;
	e->born = now;
	e->keylen = keylen;
	e->vallen = m.len;
	e->key = (uint8_t *)(e + 1);
	e->val = e->key + keylen;
	memcpy(e->key, key, keylen);
	memcpy(e->val, m.buf, m.len);
	TAILQ_INSERT_HEAD(&vc->lru, e, lru);
	LIST_INSERT_HEAD(&vc->buckets[h & (VC_BUCKETS - 1)], e, bucket);
	vc->n++;
	vc->bytes += size;
	rv = 0;
 done:
	mbuf_free(&m);
	return rv;
}

/*
 * The relay's side (session.c calls these).  A hit: the verdict to act
 * on, its reusable proof in place of a single-use one, and s->ctr the
 * reusable counter.  A miss: NULL, and the session keeps the key until
 * its verdict comes (vcache_put) or the request ends (vcache_forget).
 */
struct verdict *
vcache_get(struct session *s, const char *head, size_t hl)
{
	struct verdict	*v;
	const uint8_t	*key;
	size_t		 keylen;

	vcache_forget(s);
	/* Fail closed: without a policy worker, nothing is allowed. */
	if (!r->policy.open) {
		vcache_reset();
		return NULL;
	}
	if (r->vc == NULL && (r->vc = vcache_new(VCACHE_ENTRIES,
	    VCACHE_BYTES, VCACHE_TTL)) == NULL)
		return NULL;
	/* With client blocks, the facts (the TLS ident and more). */
	if ((key = vcache_key(r->vc, s->lid, s->facts != NULL ? s->facts :
	    s->ident, head, hl, &keylen)) == NULL)
		return NULL;
	if ((v = verdict_get()) == NULL)
		return NULL;
	if (vcache_find(r->vc, r->cc.gen, s->t0.tv_sec, key, keylen, v)) {
		memcpy(v->mac, v->rmac, sizeof(v->mac));
		s->ctr = FWD_REUSE_CTR(v->rgen);
		return v;
	}
	verdict_put(v);
	if ((s->vc_key = malloc(keylen)) != NULL) {
		memcpy(s->vc_key, key, keylen);
		s->vc_keylen = keylen;
		s->vc_gen = r->cc.gen;
	}
	return NULL;
}

/* A verdict the relay checked and acts on: keep it if it may be. */
void
vcache_put(struct session *s, const struct verdict *v)
{
	if (s->vc_key != NULL && r->vc != NULL && s->vc_gen == r->cc.gen)
		(void)vcache_add(r->vc, r->cc.gen, s->t0.tv_sec, s->vc_key,
		    s->vc_keylen, v);
	vcache_forget(s);
}

void
vcache_forget(struct session *s)
{
	free(s->vc_key);
	s->vc_key = NULL;
	s->vc_keylen = 0;
}

/* A new forwarder, a new approval key: what we kept is good for nothing. */
void
vcache_reset(void)
{
	if (r->vc != NULL)
		vcache_flush(r->vc);
}
