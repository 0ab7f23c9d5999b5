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
 * libFuzzer target for the container table (policy/ctable.c).  Each
 * input is tried three ways:
 *
 * - as a container list (ctab_parse_list): a table that parses holds
 *   what ctable.h promises (ids sorted, unique, 64 lowercase hex; labels
 *   with a '=' and within the limits; addresses canonical, found by
 *   ctab_byaddr unless another container holds them too, and the index
 *   marks exactly those shared), and encodes to bytes that decode to
 *   the same table and encode again to the same bytes;
 * - as a table on the wire (ctab_decode): what decodes re-encodes to
 *   bytes that decode and encode again to the very same bytes;
 * - as a daemon response (ctab_resp_feed, keeping the body or not, as
 *   the first byte says): fed whole, byte by byte and in pseudo-random
 *   pieces, the same outcome, the same body and the same count, and
 *   nothing kept when the body is not to be; a complete list is parsed.
 *
 * FUZZ_SOURCES: policy/ctable.c policy/json.c policy/mbuf.c policy/chunked.c policy/response.c policy/http.c
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctable.h"
#include "mbuf.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
hex64(const char *s)
{
	size_t	 i;

	if (strlen(s) != 64)
		return 0;
	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* How many entries hold addr. */
static size_t
holders(const struct ctab *t, const char *addr)
{
	size_t	 i, j, n = 0;

	for (i = 0; i < t->n; i++)
		for (j = 0; j < t->e[i].naddrs; j++)
			if (strcmp(t->e[i].addrs[j], addr) == 0) {
				n++;
				break;
			}
	return n;
}

static void
check_table(const struct ctab *t)
{
	const struct ctab_entry	*e;
	size_t			 i, j, k, total = 0;

	if (t->n > CTAB_MAX_CONTAINERS)
		abort();
	for (i = 0; i < t->n; i++) {
		e = &t->e[i];
		if (!hex64(e->id) || strlen(e->name) >= CTAB_NAME_MAX ||
		    (i > 0 && strcmp(t->e[i - 1].id, e->id) >= 0) ||
		    ctab_byid(t, e->id) != e)
			abort();
		if (e->nlabels > CTAB_MAX_LABELS || e->naddrs > CTAB_MAX_ADDRS)
			abort();
		for (j = 0; j < e->nlabels; j++)
			if (strchr(e->labels[j], '=') == NULL ||
			    strlen(e->labels[j]) >= CTAB_LABEL_MAX)
				abort();
		for (j = 0; j < e->naddrs; j++) {
			if (strlen(e->addrs[j]) >= CTAB_ADDR_MAX)
				abort();
			for (k = 0; k < j; k++)
				if (strcmp(e->addrs[k], e->addrs[j]) == 0)
					abort();
			if (ctab_byaddr(t, e->addrs[j]) !=
			    (holders(t, e->addrs[j]) == 1 ? e : NULL))
				abort();
		}
		total += e->naddrs;
	}
	if (t->naddr > total)
		abort();
	for (i = 0; i < t->naddr; i++) {
		if (i > 0 && strcmp(t->byaddr[i - 1].addr,
		    t->byaddr[i].addr) >= 0)
			abort();
		if (t->byaddr[i].entry >= t->n ||
		    t->byaddr[i].shared != (holders(t, t->byaddr[i].addr) > 1))
			abort();
	}
}

static void
same_table(const struct ctab *a, const struct ctab *b)
{
	size_t	 i, j;

	if (a->n != b->n || a->naddr != b->naddr)
		abort();
	for (i = 0; i < a->n; i++) {
		if (strcmp(a->e[i].id, b->e[i].id) != 0 ||
		    strcmp(a->e[i].name, b->e[i].name) != 0 ||
		    a->e[i].nlabels != b->e[i].nlabels ||
		    a->e[i].naddrs != b->e[i].naddrs)
			abort();
		for (j = 0; j < a->e[i].nlabels; j++)
			if (strcmp(a->e[i].labels[j], b->e[i].labels[j]) != 0)
				abort();
		for (j = 0; j < a->e[i].naddrs; j++)
			if (strcmp(a->e[i].addrs[j], b->e[i].addrs[j]) != 0)
				abort();
	}
	for (i = 0; i < a->naddr; i++)
		if (strcmp(a->byaddr[i].addr, b->byaddr[i].addr) != 0 ||
		    a->byaddr[i].entry != b->byaddr[i].entry ||
		    a->byaddr[i].shared != b->byaddr[i].shared)
			abort();
}

/* t encodes to bytes that decode to t and encode to the same bytes. */
static void
round_trip(const struct ctab *t)
{
	struct ctab	 u;
	struct mbuf	 m1, m2, rd;

	mbuf_init(&m1);
	if (ctab_encode(t, &m1) == -1)
		abort();
	ctab_init(&u);
	mbuf_reader(&rd, m1.buf, m1.len);
	if (ctab_decode(&u, &rd) == -1)
		abort();
	check_table(&u);
	same_table(t, &u);
	mbuf_init(&m2);
	if (ctab_encode(&u, &m2) == -1 || m1.len != m2.len ||
	    memcmp(m1.buf, m2.buf, m1.len) != 0)
		abort();
	/* decoding into a table that is not empty is refused */
	if (u.n > 0) {
		mbuf_reader(&rd, m1.buf, m1.len);
		if (ctab_decode(&u, &rd) != -1)
			abort();
	}
	ctab_free(&u);
	mbuf_free(&m1);
	mbuf_free(&m2);
}

static void
try_list(const char *s, size_t len)
{
	struct ctab	 t;
	char		 why[256];

	ctab_init(&t);
	why[0] = '\0';
	if (ctab_parse_list(&t, s, len, why, sizeof(why)) == -1) {
		if (why[0] == '\0' || t.n != 0 || t.e != NULL ||
		    t.byaddr != NULL)
			abort();
		return;
	}
	check_table(&t);
	round_trip(&t);
	ctab_free(&t);
}

static void
try_wire(const uint8_t *data, size_t size)
{
	struct ctab	 t;
	struct mbuf	 rd;

	ctab_init(&t);
	mbuf_reader(&rd, data, size);
	if (ctab_decode(&t, &rd) == -1) {
		if (t.n != 0 || t.e != NULL || t.byaddr != NULL)
			abort();
		return;
	}
	check_table(&t);
	round_trip(&t);
	ctab_free(&t);
}

struct outcome {
	int		 rv;
	uint64_t	 seen;
	size_t		 total;
	uint8_t		*body;
	size_t		 bodylen;
};

static void
feed(const uint8_t *b, size_t n, int keep, int mode, uint32_t seed,
    struct outcome *o)
{
	struct ctab_resp	 r;
	size_t			 off = 0, step, nb;
	char			 why[128];
	int			 rv;

	memset(o, 0, sizeof(*o));
	ctab_resp_init(&r, keep);
	do {
		if (mode == 0)
			step = n - off;
		else if (mode == 1)
			step = n - off > 0 ? 1 : 0;
		else {
			seed = seed * 1103515245 + 12345;
			step = (seed >> 16) % 23;
			if (step > n - off)
				step = n - off;
		}
		why[0] = '\0';
		/* the daemon closes after the last bytes when the seed
		 * says so, the same for every mode */
		rv = ctab_resp_feed(&r, b + off, step,
		    off + step == n && (n & 1), &nb, why, sizeof(why));
		if (nb > step)
			abort();
		o->total += nb;
		off += step;
		if (rv == -1) {
			if (why[0] == '\0' || r.state != CTAB_RESP_ERROR)
				abort();
			break;
		}
		if (rv == 1 && r.state != CTAB_RESP_DONE)
			abort();
		if (rv == 0 && (r.state == CTAB_RESP_DONE ||
		    r.state == CTAB_RESP_ERROR))
			abort();
	} while (off < n && rv != -1);
	o->rv = rv;
	if (rv == -1) {
		/* sticky */
		if (ctab_resp_feed(&r, b, 0, 0, &nb, why, sizeof(why)) != -1)
			abort();
		ctab_resp_free(&r);
		return;
	}
	o->seen = r.seen;
	if (o->seen != o->total)
		abort();
	if (!keep && r.body != NULL)
		abort();
	if (keep && r.bodylen != r.seen)
		abort();
	if (r.bodylen > CTAB_LIST_MAX)
		abort();
	o->body = r.body;
	o->bodylen = r.bodylen;
	r.body = NULL;
	ctab_resp_free(&r);
}

static void
try_resp(const uint8_t *data, size_t size)
{
	struct outcome	 o[3];
	uint32_t	 seed;
	int		 keep, m;

	if (size == 0)
		return;
	keep = data[0] & 1;
	data++;
	size--;
	seed = (uint32_t)size;
	if (size > 0)
		seed += (uint32_t)data[size - 1] << 8;
	for (m = 0; m < 3; m++)
		feed(data, size, keep, m, seed, &o[m]);
	for (m = 1; m < 3; m++) {
		if (o[m].rv != o[0].rv)
			abort();
		if (o[0].rv == -1)
			continue;
		if (o[m].seen != o[0].seen || o[m].bodylen != o[0].bodylen ||
		    (o[0].bodylen > 0 &&
		    memcmp(o[m].body, o[0].body, o[0].bodylen) != 0))
			abort();
	}
	if (o[0].rv == 1 && keep)
		try_list((const char *)o[0].body, o[0].bodylen);
	for (m = 0; m < 3; m++)
		free(o[m].body);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	try_list((const char *)data, size);
	try_wire(data, size);
	try_resp(data, size);
	return 0;
}
