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
 * Unit tests for the relay-forwarder stream protocol (policy/fwd.c): the
 * frame header, the head frame codec, the approval MAC, the replay
 * window, single-use and reusable approvals (fwd_check), the head a
 * verdict forwards; and chunked_step(), which hands
 * the forwarder a chunked body's data alone.
 */

#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "mbuf.h"
#include "policy.h"
#include "fwd.h"

static const uint8_t key[FWD_KEYLEN] = "0123456789abcdef0123456789abcdef";

static void
sample(struct fwd_head *h)
{
	static const char head[] = "GET /_ping HTTP/1.1\r\nHost: docker\r\n\r\n";

	memset(h, 0, sizeof(*h));
	h->ctr = 7;
	h->framing = FRAMING_NONE;
	h->head = head;
	h->headlen = sizeof(head) - 1;
	ck_assert_int_eq(fwd_mac(key, h, h->mac), 0);
}

START_TEST(test_fwd_frame_hdr)
{
	uint8_t		 hdr[FWD_HDRLEN];
	uint32_t	 type, len;

	fwd_frame_hdr(hdr, FWD_DATA, 5);
	ck_assert_int_eq(fwd_frame_parse(hdr, &type, &len), 0);
	ck_assert_uint_eq(type, FWD_DATA);
	ck_assert_uint_eq(len, 5);
	/* no empty data, nothing over the limits, no unknown type */
	fwd_frame_hdr(hdr, FWD_DATA, 0);
	ck_assert_int_eq(fwd_frame_parse(hdr, &type, &len), -1);
	fwd_frame_hdr(hdr, FWD_DATA, FWD_DATA_MAX + 1);
	ck_assert_int_eq(fwd_frame_parse(hdr, &type, &len), -1);
	fwd_frame_hdr(hdr, FWD_HEAD, FWD_FRAME_MAX + 1);
	ck_assert_int_eq(fwd_frame_parse(hdr, &type, &len), -1);
	fwd_frame_hdr(hdr, FWD_END, 1);
	ck_assert_int_eq(fwd_frame_parse(hdr, &type, &len), -1);
	fwd_frame_hdr(hdr, FWD_END, 0);
	ck_assert_int_eq(fwd_frame_parse(hdr, &type, &len), 0);
	fwd_frame_hdr(hdr, 0, 1);
	ck_assert_int_eq(fwd_frame_parse(hdr, &type, &len), -1);
	fwd_frame_hdr(hdr, FWD_END + 1, 1);
	ck_assert_int_eq(fwd_frame_parse(hdr, &type, &len), -1);
}
END_TEST

START_TEST(test_fwd_head_codec)
{
	struct fwd_head	 h, d;
	struct mbuf	 m;

	sample(&h);
	mbuf_init(&m);
	ck_assert_int_eq(fwd_head_encode(&m, &h), 0);
	ck_assert_int_eq(fwd_head_decode(m.buf, m.len, &d), 0);
	ck_assert_uint_eq(d.ctr, 7);
	ck_assert_uint_eq(d.headlen, h.headlen);
	ck_assert(memcmp(d.head, h.head, h.headlen) == 0);
	ck_assert(memcmp(d.mac, h.mac, FWD_MACLEN) == 0);
	ck_assert_int_eq(fwd_mac_ok(key, &h), 1);	/* d points into freed bytes */
	/* truncated, or a byte more: refused */
	ck_assert_int_eq(fwd_head_decode(m.buf, m.len - 1, &d), -1);
	mbuf_add_u32(&m, 0);
	ck_assert_int_eq(fwd_head_decode(m.buf, m.len, &d), -1);
	mbuf_free(&m);
	/* a length without Content-Length framing, counter 0, no MAC */
	h.length = 5;
	mbuf_init(&m);
	fwd_head_encode(&m, &h);
	ck_assert_int_eq(fwd_head_decode(m.buf, m.len, &d), -1);
	mbuf_free(&m);
	h.length = 0;
	h.ctr = 0;
	mbuf_init(&m);
	fwd_head_encode(&m, &h);
	ck_assert_int_eq(fwd_head_decode(m.buf, m.len, &d), -1);
	mbuf_free(&m);
	h.ctr = 1;
	h.upgrade = 2;
	mbuf_init(&m);
	fwd_head_encode(&m, &h);
	ck_assert_int_eq(fwd_head_decode(m.buf, m.len, &d), -1);
	mbuf_free(&m);
}
END_TEST

/* Every part the MAC covers changes it; another key does not verify. */
/*
 * A key made ready once (what the worker and the forwarder keep) gives
 * every head, one after another, the MAC a fresh key gives it alone:
 * nothing of one MAC is left in the state for the next.
 */
START_TEST(test_fwd_mac_kept)
{
	static const uint8_t other[FWD_KEYLEN] = "x123456789abcdef0123456789abcdef";
	struct fwd_key	*k, *o;
	struct fwd_head	 h[4];
	uint8_t		 kept[FWD_MACLEN], fresh[FWD_MACLEN];
	size_t		 i, round;

	ck_assert_ptr_nonnull(k = fwd_key_new(key));
	ck_assert_ptr_nonnull(o = fwd_key_new(other));
	for (i = 0; i < 4; i++)
		sample(&h[i]);
	h[1].ctr = FWD_REUSE_CTR(3);
	h[2].head = "GET /containers/json HTTP/1.1\r\nHost: docker\r\n\r\n";
	h[2].headlen = strlen(h[2].head);
	h[3].framing = FRAMING_LENGTH;
	h[3].length = 12;
	for (round = 0; round < 3; round++)
		for (i = 0; i < 4; i++) {
			ck_assert_int_eq(fwd_mac_k(k, &h[i], kept), 0);
			ck_assert_int_eq(fwd_mac(key, &h[i], fresh), 0);
			ck_assert_mem_eq(kept, fresh, FWD_MACLEN);
			memcpy(h[i].mac, kept, FWD_MACLEN);
			ck_assert_int_eq(fwd_mac_ok_k(k, &h[i]), 1);
			ck_assert_int_eq(fwd_mac_ok_k(o, &h[i]), 0);
			ck_assert_int_eq(fwd_mac_ok(key, &h[i]), 1);
		}
	ck_assert_int_eq(fwd_mac_k(NULL, &h[0], kept), -1);
	ck_assert_int_eq(fwd_mac_ok_k(NULL, &h[0]), 0);
	fwd_key_free(k);
	fwd_key_free(o);
	fwd_key_free(NULL);
}
END_TEST

START_TEST(test_fwd_mac)
{
	static const uint8_t other[FWD_KEYLEN] = "x123456789abcdef0123456789abcdef";
	struct fwd_head	 h, t;

	sample(&h);
	ck_assert_int_eq(fwd_mac_ok(key, &h), 1);
	ck_assert_int_eq(fwd_mac_ok(other, &h), 0);
	t = h;
	t.ctr++;
	ck_assert_int_eq(fwd_mac_ok(key, &t), 0);
	t = h;
	t.framing = FRAMING_CHUNKED;
	ck_assert_int_eq(fwd_mac_ok(key, &t), 0);
	t = h;
	t.framing = FRAMING_LENGTH;
	t.length = 1;
	ck_assert_int_eq(fwd_mac_ok(key, &t), 0);
	t = h;
	t.upgrade = 1;
	ck_assert_int_eq(fwd_mac_ok(key, &t), 0);
	t = h;
	t.head = "GET /_pinG HTTP/1.1\r\nHost: docker\r\n\r\n";
	ck_assert_int_eq(fwd_mac_ok(key, &t), 0);
	t = h;
	t.headlen--;
	ck_assert_int_eq(fwd_mac_ok(key, &t), 0);
	t = h;
	t.mac[FWD_MACLEN - 1] ^= 1;
	ck_assert_int_eq(fwd_mac_ok(key, &t), 0);
}
END_TEST

START_TEST(test_fwd_window)
{
	struct fwd_window	*w = calloc(1, sizeof(*w));

	ck_assert_ptr_nonnull(w);
	ck_assert_int_eq(fwd_window_use(w, 0), -1);
	ck_assert_int_eq(fwd_window_use(w, 1), 0);
	ck_assert_int_eq(fwd_window_use(w, 1), -1);	/* replay */
	/* out of order, within the window: each once */
	ck_assert_int_eq(fwd_window_use(w, 10), 0);
	ck_assert_int_eq(fwd_window_use(w, 5), 0);
	ck_assert_int_eq(fwd_window_use(w, 5), -1);
	ck_assert_int_eq(fwd_window_use(w, 10), -1);
	/* a jump: what fell out of the window is refused as too old */
	ck_assert_int_eq(fwd_window_use(w, 10 + FWD_WINDOW), 0);
	ck_assert_int_eq(fwd_window_use(w, 10), -1);
	ck_assert_int_eq(fwd_window_use(w, 9), -1);
	/* still inside it and never used: once */
	ck_assert_int_eq(fwd_window_use(w, 11), 0);
	ck_assert_int_eq(fwd_window_use(w, 11), -1);
	/* the slot of 11 serves 11 + FWD_WINDOW once the window moves */
	ck_assert_int_eq(fwd_window_use(w, 5 + 2 * FWD_WINDOW), 0);
	ck_assert_int_eq(fwd_window_use(w, 5 + 2 * FWD_WINDOW), -1);
	ck_assert_int_eq(fwd_window_use(w, 11 + FWD_WINDOW), 0);
	ck_assert_int_eq(fwd_window_use(w, 11 + FWD_WINDOW), -1);
	ck_assert_int_eq(fwd_window_use(w, 11), -1);
	free(w);
}
END_TEST

/* A reusable approval of generation gen for h's head. */
static void
reusable(struct fwd_head *h, uint32_t gen)
{
	sample(h);
	h->ctr = FWD_REUSE_CTR(gen);
	ck_assert_int_eq(fwd_mac(key, h, h->mac), 0);
}

/*
 * Two MAC domains: a single-use proof is no reusable one and the other
 * way round, even where the numbers meet (counter 7, generation 7).
 */
START_TEST(test_fwd_reusable_domains)
{
	struct fwd_head	 one, re, t;

	sample(&one);			/* counter 7 */
	reusable(&re, 7);		/* generation 7 */
	ck_assert(memcmp(one.mac, re.mac, FWD_MACLEN) != 0);
	ck_assert_int_eq(fwd_mac_ok(key, &one), 1);
	ck_assert_int_eq(fwd_mac_ok(key, &re), 1);
	t = one;
	t.ctr = FWD_REUSE_CTR(7);	/* single-use proof, said reusable */
	ck_assert_int_eq(fwd_mac_ok(key, &t), 0);
	t = re;
	t.ctr = 7;			/* reusable proof, said single-use */
	ck_assert_int_eq(fwd_mac_ok(key, &t), 0);
	t = re;
	t.ctr = FWD_REUSE_CTR(8);	/* another generation */
	ck_assert_int_eq(fwd_mac_ok(key, &t), 0);
}
END_TEST

START_TEST(test_fwd_check)
{
	struct fwd_window	*w = calloc(1, sizeof(*w));
	struct fwd_head		 one, re, t;
	int			 i;

	ck_assert_ptr_nonnull(w);
	sample(&one);
	reusable(&re, 3);
	/* single-use: once */
	ck_assert_int_eq(fwd_check(key, 3, w, &one), FWD_OK);
	ck_assert_int_eq(fwd_check(key, 3, w, &one), FWD_REPLAY);
	/* reusable: any number of times, the window untouched */
	for (i = 0; i < 5; i++)
		ck_assert_int_eq(fwd_check(key, 3, w, &re), FWD_OK);
	ck_assert_uint_eq(w->top, 7);
	/* made under rules we are not told of yet: good; older: not */
	ck_assert_int_eq(fwd_check(key, 2, w, &re), FWD_OK);
	ck_assert_int_eq(fwd_check(key, 4, w, &re), FWD_STALE);
	/* never for a body or an upgrade, even with a MAC that checks */
	t = re;
	t.framing = FRAMING_LENGTH;
	t.length = 5;
	ck_assert_int_eq(fwd_mac(key, &t, t.mac), 0);
	ck_assert_int_eq(fwd_check(key, 3, w, &t), FWD_NOT_REUSABLE);
	t = re;
	t.framing = FRAMING_LENGTH;	/* Content-Length: 0 is a body too */
	ck_assert_int_eq(fwd_mac(key, &t, t.mac), 0);
	ck_assert_int_eq(fwd_check(key, 3, w, &t), FWD_NOT_REUSABLE);
	t = re;
	t.framing = FRAMING_CHUNKED;
	ck_assert_int_eq(fwd_mac(key, &t, t.mac), 0);
	ck_assert_int_eq(fwd_check(key, 3, w, &t), FWD_NOT_REUSABLE);
	t = re;
	t.upgrade = 1;
	ck_assert_int_eq(fwd_mac(key, &t, t.mac), 0);
	ck_assert_int_eq(fwd_check(key, 3, w, &t), FWD_NOT_REUSABLE);
	/* the reusable proof moved to a body's head: not ours either */
	t = re;
	t.framing = FRAMING_LENGTH;
	t.length = 5;
	ck_assert_int_eq(fwd_check(key, 3, w, &t), FWD_NOT_REUSABLE);
	/* forged: another head, a flipped bit */
	t = re;
	t.head = "GET /_pinG HTTP/1.1\r\nHost: docker\r\n\r\n";
	ck_assert_int_eq(fwd_check(key, 3, w, &t), FWD_FORGED);
	t = one;
	t.ctr = 8;
	ck_assert_int_eq(fwd_check(key, 3, w, &t), FWD_FORGED);
	ck_assert_uint_eq(w->top, 7);	/* a forgery uses no counter */
	free(w);
}
END_TEST

/* A reusable counter is the bit and a generation, nothing else. */
START_TEST(test_fwd_reusable_codec)
{
	struct fwd_head	 h, d;
	struct mbuf	 m;

	reusable(&h, 0xfffffffe);
	mbuf_init(&m);
	ck_assert_int_eq(fwd_head_encode(&m, &h), 0);
	ck_assert_int_eq(fwd_head_decode(m.buf, m.len, &d), 0);
	ck_assert(FWD_IS_REUSABLE(d.ctr));
	ck_assert_uint_eq(FWD_CTR_GEN(d.ctr), 0xfffffffe);
	mbuf_free(&m);
	h.ctr |= (uint64_t)1 << 40;
	mbuf_init(&m);
	ck_assert_int_eq(fwd_head_encode(&m, &h), 0);
	ck_assert_int_eq(fwd_head_decode(m.buf, m.len, &d), -1);
	mbuf_free(&m);
}
END_TEST

START_TEST(test_fwd_verdict_head)
{
	static const char chunked[] = "POST /v1.41/containers/x/attach?"
	    "stream=1 HTTP/1.1\r\nHost: docker\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n";
	struct verdict	 v;
	char		*h;
	size_t		 len;

	memset(&v, 0, sizeof(v));
	strlcpy(v.method, "POST", sizeof(v.method));
	strlcpy(v.target, "/v1.41/containers/x/attach?stream=1",
	    sizeof(v.target));
	v.fields = "User-Agent: t\r\n";
	v.fieldslen = strlen(v.fields);
	v.framing = FRAMING_LENGTH;
	v.length = 12;
	v.hijack = 1;
	strlcpy(v.upgrade_proto, "tcp", sizeof(v.upgrade_proto));
	ck_assert_ptr_nonnull(h = verdict_head(&v, &len));
	ck_assert_ptr_nonnull(h = realloc(h, len + 1));
	h[len] = '\0';
	ck_assert_uint_eq(len, strlen(h));
	ck_assert_str_eq(h, "POST /v1.41/containers/x/attach?stream=1 "
	    "HTTP/1.1\r\nHost: docker\r\nUser-Agent: t\r\n"
	    "Content-Length: 12\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n"
	    "\r\n");
	free(h);
	v.hijack = 0;
	v.framing = FRAMING_CHUNKED;
	v.fields = NULL;
	v.fieldslen = 0;
	ck_assert_ptr_nonnull(h = verdict_head(&v, &len));
	ck_assert_uint_eq(len, strlen(chunked));
	ck_assert(memcmp(h, chunked, len) == 0);
	free(h);
}
END_TEST

/* chunked_step: runs of data alone or framing alone, same end. */
START_TEST(test_chunked_step)
{
	static const char body[] = "5;a=b\r\nhello\r\n00A\r\n0123456789\r\n"
	    "0\r\n\r\nGET /next";
	struct chunked	 ch;
	char		 data[64];
	size_t		 off = 0, dlen = 0, split = (size_t)_i;
	ssize_t		 n;
	int		 done = 0, isdata;

	chunked_init(&ch);
	while (!done && off < sizeof(body) - 1) {
		size_t	 avail = sizeof(body) - 1 - off;

		/* what has arrived so far: up to split, then the rest */
		if (off < split && avail > split - off)
			avail = split - off;
		n = chunked_step(&ch, (const uint8_t *)body + off, avail, &done,
		    &isdata);
		ck_assert_int_gt(n, 0);
		if (isdata) {
			ck_assert(!done);
			memcpy(data + dlen, body + off, n);
			dlen += n;
		} else
			ck_assert(memchr(body + off, 'h', n) == NULL ||
			    off >= 20);
		off += n;
	}
	ck_assert(done);
	ck_assert_uint_eq(off, sizeof(body) - 1 - strlen("GET /next"));
	ck_assert_uint_eq(dlen, 15);
	ck_assert(memcmp(data, "hello0123456789", 15) == 0);
}
END_TEST

START_TEST(test_chunked_step_bad)
{
	struct chunked	 ch;
	int		 done, isdata;

	chunked_init(&ch);
	ck_assert_int_eq(chunked_step(&ch, (const uint8_t *)"5\r\nhelloX", 9,
	    &done, &isdata), 3);
	ck_assert_int_eq(chunked_step(&ch, (const uint8_t *)"helloX", 6,
	    &done, &isdata), 5);
	ck_assert(isdata);
	ck_assert_int_eq(chunked_step(&ch, (const uint8_t *)"X", 1, &done,
	    &isdata), -1);
}
END_TEST

/* A checked body (issue 12): its SHA-256 under the MAC, single-use. */
static void
checked_sample(struct fwd_head *h)
{
	static const char head[] = "POST /containers/create HTTP/1.1\r\n"
	    "Host: docker\r\nContent-Length: 13\r\n\r\n";

	memset(h, 0, sizeof(*h));
	h->ctr = 9;
	h->framing = FRAMING_LENGTH;
	h->length = 13;
	h->checked = 1;
	ck_assert_int_eq(body_sum("{\"Image\":\"x\"}", 13, h->bodysum), 0);
	h->head = head;
	h->headlen = sizeof(head) - 1;
	ck_assert_int_eq(fwd_mac(key, h, h->mac), 0);
}

static int
codec(const struct fwd_head *h, struct fwd_head *d)
{
	struct mbuf	 m;
	int		 rv;

	mbuf_init(&m);
	ck_assert_int_eq(fwd_head_encode(&m, h), 0);
	rv = fwd_head_decode(m.buf, m.len, d);
	mbuf_free(&m);
	return rv;
}

START_TEST(test_fwd_checked)
{
	struct fwd_head		 h, d, t;
	struct fwd_window	 w;

	checked_sample(&h);
	ck_assert_int_eq(codec(&h, &d), 0);
	ck_assert_uint_eq(d.checked, 1);
	ck_assert_mem_eq(d.bodysum, h.bodysum, FWD_SUMLEN);
	ck_assert_int_eq(fwd_mac_ok(key, &h), 1);	/* d points into freed bytes */
	memset(&w, 0, sizeof(w));
	ck_assert_int_eq(fwd_check(key, 1, &w, &h), FWD_OK);
	ck_assert_int_eq(fwd_check(key, 1, &w, &h), FWD_REPLAY);

	/* Another body, or the same head unchecked: not this proof. */
	t = h;
	t.bodysum[0] ^= 1;
	ck_assert_int_eq(fwd_mac_ok(key, &t), 0);
	t = h;
	t.checked = 0;
	memset(t.bodysum, 0, FWD_SUMLEN);
	ck_assert_int_eq(fwd_mac_ok(key, &t), 0);
	/* An unchecked proof does not make a checked head. */
	t.ctr = 10;
	ck_assert_int_eq(fwd_mac(key, &t, t.mac), 0);
	memcpy(h.mac, t.mac, FWD_MACLEN);
	h.ctr = 10;
	ck_assert_int_eq(fwd_mac_ok(key, &h), 0);

	/* Only a Content-Length body, within the limit, single-use. */
	checked_sample(&h);
	h.framing = FRAMING_CHUNKED;
	h.length = 0;
	ck_assert_int_eq(codec(&h, &d), -1);
	checked_sample(&h);
	h.length = FWD_CHECKED_MAX + 1;
	ck_assert_int_eq(codec(&h, &d), -1);
	checked_sample(&h);
	h.ctr = FWD_REUSE_CTR(3);
	ck_assert_int_eq(codec(&h, &d), -1);
	ck_assert_int_eq(fwd_check(key, 3, &w, &h), FWD_NOT_REUSABLE);
	checked_sample(&h);
	h.checked = 2;
	ck_assert_int_eq(codec(&h, &d), -1);
}
END_TEST

Suite *
fwd_suite(void)
{
	Suite	*s = suite_create("fwd");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_fwd_frame_hdr);
	tcase_add_test(tc, test_fwd_head_codec);
	tcase_add_test(tc, test_fwd_mac);
	tcase_add_test(tc, test_fwd_mac_kept);
	tcase_add_test(tc, test_fwd_window);
	tcase_add_test(tc, test_fwd_reusable_domains);
	tcase_add_test(tc, test_fwd_check);
	tcase_add_test(tc, test_fwd_reusable_codec);
	tcase_add_test(tc, test_fwd_verdict_head);
	tcase_add_test(tc, test_fwd_checked);
	tcase_add_loop_test(tc, test_chunked_step, 1, 48);
	tcase_add_test(tc, test_chunked_step_bad);
	suite_add_tcase(s, tc);
	return s;
}
