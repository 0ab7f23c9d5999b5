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
 * Unit tests for the relay's verdict cache (daemon/vcache.c): a hit only
 * for the same bytes, listener, identity and generation; only reusable
 * approvals kept; bounded in entries and bytes, least recently used out
 * first; entries expire.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "relay.h"

static const char ping[] = "GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n";

/* What the worker gives for a bodiless GET it allows, under gen. */
static void
allowed(struct verdict *v, uint32_t gen, const char *path)
{
	memset(v, 0, sizeof(*v));
	v->kind = VERDICT_ALLOW;
	v->rule = 0;
	v->client = -1;		/* the top level */
	strlcpy(v->method, "GET", sizeof(v->method));
	strlcpy(v->path, path, sizeof(v->path));
	strlcpy(v->target, path, sizeof(v->target));
	v->minor = 1;
	v->keepalive = 1;
	v->framing = FRAMING_NONE;
	memset(v->mac, 'm', sizeof(v->mac));
	v->hasmac = 1;
	memset(v->rmac, 'r', sizeof(v->rmac));
	v->reusable = 1;
	v->rgen = gen;
}

/* Add head (as a key on listener 1, no identity) with verdict v. */
static int
add(struct vcache *vc, uint32_t gen, time_t now, const char *head,
    const struct verdict *v)
{
	const uint8_t	*k;
	size_t		 kl;

	ck_assert_ptr_nonnull(k = vcache_key(vc, 1, NULL, head, strlen(head),
	    &kl));
	return vcache_add(vc, gen, now, k, kl, v);
}

static int
find(struct vcache *vc, uint32_t gen, time_t now, int lid,
    const struct ident *id, const char *head, size_t hl)
{
	struct verdict	 v;
	const uint8_t	*k;
	size_t		 kl;

	ck_assert_ptr_nonnull(k = vcache_key(vc, lid, id, head, hl, &kl));
	if (!vcache_find(vc, gen, now, k, kl, &v))
		return 0;
	ck_assert_int_eq(v.kind, VERDICT_ALLOW);
	ck_assert_int_eq(v.reusable, 1);
	ck_assert(memcmp(v.rmac, "rrrr", 4) == 0);
	verdict_clear(&v);
	return 1;
}

#define FIND(vc, head)	find((vc), 1, 100, 1, NULL, (head), strlen(head))

/* One byte different, anywhere, is a miss. */
START_TEST(test_vcache_exact)
{
	struct vcache	*vc = vcache_new(16, 65536, 30);
	struct verdict	 v;
	char		 h[sizeof(ping)];
	size_t		 i;

	ck_assert_ptr_nonnull(vc);
	allowed(&v, 1, "/_ping");
	ck_assert_int_eq(add(vc, 1, 100, ping, &v), 0);
	ck_assert_int_eq(FIND(vc, ping), 1);
	for (i = 0; i < sizeof(ping) - 1; i++) {
		memcpy(h, ping, sizeof(ping));
		h[i] ^= 0x20;
		ck_assert_int_eq(FIND(vc, h), 0);
	}
	/* shorter, longer: a prefix is no match */
	ck_assert_int_eq(find(vc, 1, 100, 1, NULL, ping, sizeof(ping) - 2), 0);
	ck_assert_int_eq(find(vc, 1, 100, 1, NULL, ping, sizeof(ping)), 0);
	ck_assert_int_eq(FIND(vc, ping), 1);
	vcache_free(vc);
}
END_TEST

/* Another listener, another identity, another generation: a miss. */
START_TEST(test_vcache_client)
{
	struct vcache	*vc = vcache_new(16, 65536, 30);
	struct ident	 alice, bob;
	struct verdict	 v;
	const uint8_t	*k;
	size_t		 kl;

	memset(&alice, 0, sizeof(alice));
	memset(&bob, 0, sizeof(bob));
	ck_assert_int_eq(ident_add(&alice, "cert.subject", "CN=alice"), 0);
	ck_assert_int_eq(ident_add(&bob, "cert.subject", "CN=bob"), 0);
	allowed(&v, 1, "/_ping");
	ck_assert_ptr_nonnull(k = vcache_key(vc, 2, &alice, ping,
	    strlen(ping), &kl));
	ck_assert_int_eq(vcache_add(vc, 1, 100, k, kl, &v), 0);
	ck_assert_int_eq(find(vc, 1, 100, 2, &alice, ping, strlen(ping)), 1);
	ck_assert_int_eq(find(vc, 1, 100, 1, &alice, ping, strlen(ping)), 0);
	ck_assert_int_eq(find(vc, 1, 100, 2, &bob, ping, strlen(ping)), 0);
	ck_assert_int_eq(find(vc, 1, 100, 2, NULL, ping, strlen(ping)), 0);
	/* one more attribute is another identity */
	ck_assert_int_eq(ident_add(&alice, "cert.sha256", "ab"), 0);
	ck_assert_int_eq(find(vc, 1, 100, 2, &alice, ping, strlen(ping)), 0);
	/* a new generation empties it, the old one does not come back */
	ident_clear(&alice);
	ck_assert_int_eq(ident_add(&alice, "cert.subject", "CN=alice"), 0);
	ck_assert_int_eq(find(vc, 1, 100, 2, &alice, ping, strlen(ping)), 1);
	ck_assert_int_eq(find(vc, 2, 100, 2, &alice, ping, strlen(ping)), 0);
	ck_assert_uint_eq(vcache_count(vc, NULL), 0);
	ck_assert_int_eq(find(vc, 1, 100, 2, &alice, ping, strlen(ping)), 0);
	ident_clear(&alice);
	ident_clear(&bob);
	vcache_free(vc);
}
END_TEST

/* Only the worker's reusable approvals, of the cache's generation. */
START_TEST(test_vcache_what)
{
	struct vcache	*vc = vcache_new(16, 65536, 30);
	struct verdict	 v;
	char		 big[VCACHE_HEAD_MAX + 2];
	size_t		 kl;

	allowed(&v, 1, "/_ping");
	v.reusable = 0;
	ck_assert_int_eq(add(vc, 1, 100, ping, &v), -1);
	allowed(&v, 2, "/_ping");		/* made under other rules */
	ck_assert_int_eq(add(vc, 1, 100, ping, &v), -1);
	allowed(&v, 1, "/_ping");
	v.kind = VERDICT_DENY;
	ck_assert_int_eq(add(vc, 1, 100, ping, &v), -1);
	allowed(&v, 1, "/_ping");
	v.framing = FRAMING_LENGTH;
	ck_assert_int_eq(add(vc, 1, 100, ping, &v), -1);
	allowed(&v, 1, "/_ping");
	v.hijack = 1;
	ck_assert_int_eq(add(vc, 1, 100, ping, &v), -1);
	allowed(&v, 1, "/_ping");
	v.hasmac = 0;
	ck_assert_int_eq(add(vc, 1, 100, ping, &v), -1);
	ck_assert_uint_eq(vcache_count(vc, NULL), 0);
	ck_assert_int_eq(FIND(vc, ping), 0);
	/* heads up to VCACHE_HEAD_MAX only */
	memset(big, 'a', sizeof(big));
	ck_assert_ptr_nonnull(vcache_key(vc, 1, NULL, big, VCACHE_HEAD_MAX,
	    &kl));
	ck_assert_ptr_null(vcache_key(vc, 1, NULL, big, VCACHE_HEAD_MAX + 1,
	    &kl));
	vcache_free(vc);
}
END_TEST

/* At most n entries: the least recently used goes. */
START_TEST(test_vcache_entries)
{
	struct vcache	*vc = vcache_new(8, 1024 * 1024, 30);
	struct verdict	 v;
	char		 h[64];
	int		 i;

	allowed(&v, 1, "/_ping");
	for (i = 0; i < 8; i++) {
		snprintf(h, sizeof(h), "GET /%d HTTP/1.1\r\n\r\n", i);
		ck_assert_int_eq(add(vc, 1, 100, h, &v), 0);
	}
	ck_assert_uint_eq(vcache_count(vc, NULL), 8);
	ck_assert_int_eq(FIND(vc, "GET /0 HTTP/1.1\r\n\r\n"), 1);	/* used */
	for (i = 8; i < 100; i++) {
		snprintf(h, sizeof(h), "GET /%d HTTP/1.1\r\n\r\n", i);
		ck_assert_int_eq(add(vc, 1, 100, h, &v), 0);
		ck_assert_uint_le(vcache_count(vc, NULL), 8);
		if (i == 8) {
			/* /1 was the least recently used, not /0 */
			ck_assert_int_eq(FIND(vc,
			    "GET /1 HTTP/1.1\r\n\r\n"), 0);
			ck_assert_int_eq(FIND(vc,
			    "GET /0 HTTP/1.1\r\n\r\n"), 1);
		}
	}
	ck_assert_uint_eq(vcache_count(vc, NULL), 8);
	ck_assert_int_eq(FIND(vc, "GET /99 HTTP/1.1\r\n\r\n"), 1);
	ck_assert_int_eq(FIND(vc, "GET /91 HTTP/1.1\r\n\r\n"), 0);
	/* the same key again replaces, it does not add */
	ck_assert_int_eq(add(vc, 1, 100, "GET /99 HTTP/1.1\r\n\r\n", &v), 0);
	ck_assert_uint_eq(vcache_count(vc, NULL), 8);
	vcache_free(vc);
}
END_TEST

/* At most so many bytes, keys and verdicts together. */
START_TEST(test_vcache_bytes)
{
	struct vcache	*vc = vcache_new(256, 8192, 30);
	struct verdict	 v;
	char		 h[2048];
	size_t		 bytes;
	int		 i;

	allowed(&v, 1, "/_ping");
	for (i = 0; i < 64; i++) {
		memset(h, 'a' + i % 26, sizeof(h) - 1);
		h[sizeof(h) - 1] = '\0';
		snprintf(h, 16, "GET /%d ", i);
		h[strlen(h)] = 'x';
		ck_assert_int_eq(add(vc, 1, 100, h, &v), 0);
		(void)vcache_count(vc, &bytes);
		ck_assert_uint_le(bytes, 8192);
	}
	ck_assert_uint_lt(vcache_count(vc, NULL), 4);
	ck_assert_uint_gt(vcache_count(vc, NULL), 0);
	/* one that cannot fit at all is not kept, and evicts nothing */
	vcache_free(vc);
	vc = vcache_new(256, 512, 30);
	memset(h, 'b', sizeof(h) - 1);
	h[sizeof(h) - 1] = '\0';
	ck_assert_int_eq(add(vc, 1, 100, ping, &v), 0);
	ck_assert_int_eq(add(vc, 1, 100, h, &v), -1);
	ck_assert_int_eq(FIND(vc, ping), 1);
	vcache_free(vc);
}
END_TEST

START_TEST(test_vcache_ttl)
{
	struct vcache	*vc = vcache_new(16, 65536, 30);
	struct verdict	 v;

	allowed(&v, 1, "/_ping");
	ck_assert_int_eq(add(vc, 1, 100, ping, &v), 0);
	ck_assert_int_eq(find(vc, 1, 129, 1, NULL, ping, strlen(ping)), 1);
	ck_assert_int_eq(find(vc, 1, 130, 1, NULL, ping, strlen(ping)), 0);
	ck_assert_uint_eq(vcache_count(vc, NULL), 0);
	vcache_free(vc);
}
END_TEST

Suite *
vcache_suite(void)
{
	Suite	*s = suite_create("vcache");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_vcache_exact);
	tcase_add_test(tc, test_vcache_client);
	tcase_add_test(tc, test_vcache_what);
	tcase_add_test(tc, test_vcache_entries);
	tcase_add_test(tc, test_vcache_bytes);
	tcase_add_test(tc, test_vcache_ttl);
	suite_add_tcase(s, tc);
	return s;
}
