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
 * The container table (see ctable.h).  Everything here fails closed: a
 * list with one container it cannot read fully is no table at all, since
 * leaving that container out could make an address it shares with
 * another look like the other's alone.  The watcher then sends an empty
 * table, under which no container line holds.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctable.h"
#include "json.h"
#include "mbuf.h"

/* The least an entry takes on the wire: id, name, two counts. */
#define WIRE_ENTRY_MIN	(4 + 64 + 4 + 4 + 4)
#define RESP_BODY_FIRST	(64 * 1024)

static void	 setwhy(char *, size_t, const char *, ...)
		    __attribute__((__format__ (printf, 3, 4)));

static void
setwhy(char *why, size_t whylen, const char *fmt, ...)
{
	va_list	 ap;

	if (why == NULL || whylen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

void
ctab_init(struct ctab *t)
{
	memset(t, 0, sizeof(*t));
}

static void
entry_free(struct ctab_entry *e)
{
	size_t	 i;

	for (i = 0; i < e->nlabels; i++)
		free(e->labels[i]);
	free(e->labels);
	for (i = 0; i < e->naddrs; i++)
		free(e->addrs[i]);
	free(e->addrs);
	memset(e, 0, sizeof(*e));
}

void
ctab_free(struct ctab *t)
{
	size_t	 i;

	for (i = 0; i < t->n; i++)
		entry_free(&t->e[i]);
	free(t->e);
	free(t->byaddr);
	ctab_init(t);
}

static int
ctab_empty(const struct ctab *t)
{
	return t->e == NULL && t->n == 0 && t->byaddr == NULL &&
	    t->naddr == 0;
}

/* 64 lowercase hex digits, as the daemon writes a full id. */
static int
id_valid(const char *s, size_t len)
{
	size_t	 i;

	if (len != 64)
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/*
 * An address's canonical text (inet_ntop's) into dst: an IPv4-mapped
 * IPv6 address is its IPv4 address, as in client.c.  0 or -1.
 */
static int
addr_canon(const char *s, char dst[CTAB_ADDR_MAX])
{
	struct in_addr	 a4;
	struct in6_addr	 a6;

	if (inet_pton(AF_INET, s, &a4) == 1)
		return inet_ntop(AF_INET, &a4, dst, CTAB_ADDR_MAX) == NULL ?
		    -1 : 0;
	if (inet_pton(AF_INET6, s, &a6) != 1)
		return -1;
	if (IN6_IS_ADDR_V4MAPPED(&a6)) {
		memcpy(&a4, &a6.s6_addr[12], sizeof(a4));
		return inet_ntop(AF_INET, &a4, dst, CTAB_ADDR_MAX) == NULL ?
		    -1 : 0;
	}
	return inet_ntop(AF_INET6, &a6, dst, CTAB_ADDR_MAX) == NULL ? -1 : 0;
}

/* Add a canonical address to e, once; -1 over the limit or on ENOMEM. */
static int
entry_add_addr(struct ctab_entry *e, const char *canon, const char **why)
{
	char	**na;
	size_t	 i;

	for (i = 0; i < e->naddrs; i++)
		if (strcmp(e->addrs[i], canon) == 0)
			return 0;
	if (e->naddrs == CTAB_MAX_ADDRS) {
		*why = "too many addresses";
		return -1;
	}
	na = reallocarray(e->addrs, e->naddrs + 1, sizeof(*na));
	if (na == NULL) {
		*why = "out of memory";
		return -1;
	}
	e->addrs = na;
	if ((e->addrs[e->naddrs] = strdup(canon)) == NULL) {
		*why = "out of memory";
		return -1;
	}
	e->naddrs++;
	return 0;
}

/*
 * IPAddress or GlobalIPv6Address of one network: absent, null and ""
 * are no address; anything else must be one.
 */
static int
parse_addr(struct ctab_entry *e, const struct json_value *v,
    const char **why)
{
	char	 canon[CTAB_ADDR_MAX];

	if (v == NULL || v->type == JSON_NULL ||
	    (v->type == JSON_STRING && v->len == 0))
		return 0;
	if (v->type != JSON_STRING || v->len >= CTAB_ADDR_MAX ||
	    memchr(v->str, '\0', v->len) != NULL ||
	    addr_canon(v->str, canon) == -1) {
		*why = "an address that does not parse";
		return -1;
	}
	return entry_add_addr(e, canon, why);
}

static int
parse_networks(struct ctab_entry *e, const struct json_value *c,
    const char **why)
{
	const struct json_value	*ns, *nets, *ep;
	size_t			 i;

	if ((ns = json_get(c, "NetworkSettings")) == NULL ||
	    ns->type == JSON_NULL)
		return 0;
	if (ns->type != JSON_OBJECT) {
		*why = "NetworkSettings is not an object";
		return -1;
	}
	if ((nets = json_get(ns, "Networks")) == NULL ||
	    nets->type == JSON_NULL)
		return 0;
	if (nets->type != JSON_OBJECT) {
		*why = "Networks is not an object";
		return -1;
	}
	for (i = 0; i < nets->n; i++) {
		ep = &nets->items[i];
		if (ep->type == JSON_NULL)
			continue;
		if (ep->type != JSON_OBJECT) {
			*why = "a network is not an object";
			return -1;
		}
		if (parse_addr(e, json_get(ep, "IPAddress"), why) == -1 ||
		    parse_addr(e, json_get(ep, "GlobalIPv6Address"), why) == -1)
			return -1;
	}
	return 0;
}

/* The labels of e, none left (a container whose labels we cannot keep). */
static int
labels_drop(struct ctab_entry *e)
{
	size_t	 i;

	for (i = 0; i < e->nlabels; i++)
		free(e->labels[i]);
	free(e->labels);
	e->labels = NULL;
	e->nlabels = 0;
	return 0;
}

/*
 * "key=value" of each member; label values are strings.  Labels we
 * cannot keep (too many, too long, a value that is not a string or holds
 * a NUL) leave the container without any: no label line holds for it,
 * and one container cannot make the whole list unreadable.
 */
static int
parse_labels(struct ctab_entry *e, const struct json_value *c,
    const char **why)
{
	const struct json_value	*l, *v;
	size_t			 i, sz;

	if ((l = json_get(c, "Labels")) == NULL || l->type == JSON_NULL)
		return 0;
	if (l->type != JSON_OBJECT) {
		*why = "Labels is not an object";
		return -1;
	}
	if (l->n > CTAB_MAX_LABELS)
		return 0;
	if (l->n == 0)
		return 0;
	if ((e->labels = calloc(l->n, sizeof(*e->labels))) == NULL) {
		*why = "out of memory";
		return -1;
	}
	for (i = 0; i < l->n; i++) {
		v = &l->items[i];
		if (v->type != JSON_STRING ||
		    memchr(v->str, '\0', v->len) != NULL ||
		    memchr(l->keys[i], '\0', l->keylens[i]) != NULL ||
		    l->keylens[i] >= CTAB_LABEL_MAX ||
		    v->len >= CTAB_LABEL_MAX - l->keylens[i] - 1)
			return labels_drop(e);
		sz = l->keylens[i] + 1 + v->len + 1;
		if ((e->labels[i] = malloc(sz)) == NULL) {
			*why = "out of memory";
			return -1;
		}
		e->nlabels++;
		memcpy(e->labels[i], l->keys[i], l->keylens[i]);
		e->labels[i][l->keylens[i]] = '=';
		memcpy(e->labels[i] + l->keylens[i] + 1, v->str, v->len);
		e->labels[i][sz - 1] = '\0';
	}
	return 0;
}

/*
 * The container's own name, without its '/'.  Names holds it and, for a
 * container other containers link to (legacy links), "/other/alias"
 * names too, in the daemon's order: sorted, so a link name may come
 * first.  The name is the first without a second '/' (as the docker CLI
 * picks it); none: no name.
 */
static int
parse_name(struct ctab_entry *e, const struct json_value *c,
    const char **why)
{
	const struct json_value	*names, *n;
	const char		*s;
	size_t			 i, len;

	if ((names = json_get(c, "Names")) == NULL ||
	    names->type == JSON_NULL)
		return 0;
	if (names->type != JSON_ARRAY) {
		*why = "Names is not an array";
		return -1;
	}
	for (i = 0; i < names->n; i++) {
		n = &names->items[i];
		if (n->type != JSON_STRING ||
		    memchr(n->str, '\0', n->len) != NULL) {
			*why = "a name is not a string";
			return -1;
		}
	}
	for (i = 0; i < names->n; i++) {
		s = names->items[i].str;
		len = names->items[i].len;
		if (len > 0 && s[0] == '/') {
			s++;
			len--;
		}
		if (memchr(s, '/', len) != NULL)
			continue;
		if (len >= sizeof(e->name)) {
			*why = "a name too long";
			return -1;
		}
		memcpy(e->name, s, len);
		e->name[len] = '\0';
		return 0;
	}
	return 0;
}

static int
parse_entry(struct ctab_entry *e, const struct json_value *c,
    const char **why)
{
	const struct json_value	*id;

	if (c->type != JSON_OBJECT) {
		*why = "not an object";
		return -1;
	}
	if ((id = json_get(c, "Id")) == NULL || id->type != JSON_STRING ||
	    !id_valid(id->str, id->len)) {
		*why = "Id is not 64 lowercase hex digits";
		return -1;
	}
	memcpy(e->id, id->str, 64);
	e->id[64] = '\0';
	if (parse_name(e, c, why) == -1 || parse_labels(e, c, why) == -1 ||
	    parse_networks(e, c, why) == -1)
		return -1;
	return 0;
}

static int	index_build(struct ctab *, const char **);

int
ctab_parse_list(struct ctab *t, const char *body, size_t len, char *why,
    size_t whylen)
{
	struct json_limits	 lim;
	struct json_doc		*doc;
	const struct json_value	*root;
	const char		*w = NULL;
	size_t			 off = 0, i;

	if (!ctab_empty(t)) {
		setwhy(why, whylen, "list: the table is not empty");
		return -1;
	}
	lim.size_max = CTAB_LIST_MAX;
	lim.depth_max = JSON_DEPTH_MAX;
	lim.items_max = CTAB_ITEMS_MAX;
	lim.exact_names = 1;	/* labels "a" and "A" are two */
	if ((doc = json_parse(body, len, &lim, &w, &off)) == NULL) {
		setwhy(why, whylen, "list: %s at byte %zu", w, off);
		return -1;
	}
	root = json_root(doc);
	if (root->type != JSON_ARRAY) {
		setwhy(why, whylen, "list: not an array");
		goto fail;
	}
	if (root->n > CTAB_MAX_CONTAINERS) {
		setwhy(why, whylen, "list: over %d containers",
		    CTAB_MAX_CONTAINERS);
		goto fail;
	}
	if (root->n > 0 &&
	    (t->e = calloc(root->n, sizeof(*t->e))) == NULL) {
		setwhy(why, whylen, "list: out of memory");
		goto fail;
	}
	for (i = 0; i < root->n; i++) {
		t->n++;
		if (parse_entry(&t->e[i], &root->items[i], &w) == -1) {
			setwhy(why, whylen, "list: container %zu: %s", i, w);
			goto fail;
		}
	}
	json_free(doc);
	doc = NULL;
	if (index_build(t, &w) == -1) {
		setwhy(why, whylen, "list: %s", w);
		goto fail;
	}
	return 0;
 fail:
	json_free(doc);
	ctab_free(t);
	return -1;
}

static int
entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ctab_entry *)a)->id,
	    ((const struct ctab_entry *)b)->id);
}

static int
addr_cmp(const void *a, const void *b)
{
	const struct ctab_addr	*x = a, *y = b;
	int			 c;

	if ((c = strcmp(x->addr, y->addr)) != 0)
		return c;
	return (x->entry > y->entry) - (x->entry < y->entry);
}

static int
index_build(struct ctab *t, const char **why)
{
	struct ctab_addr	*a;
	size_t			 i, j, k, total = 0;

	free(t->byaddr);
	t->byaddr = NULL;
	t->naddr = 0;
	if (t->n > 1)
		qsort(t->e, t->n, sizeof(*t->e), entry_cmp);
	for (i = 0; i < t->n; i++) {
		if (i > 0 && strcmp(t->e[i - 1].id, t->e[i].id) == 0) {
			*why = "a duplicate id";
			return -1;
		}
		if (t->e[i].naddrs > CTAB_MAX_ADDRS) {
			*why = "too many addresses";
			return -1;
		}
		total += t->e[i].naddrs;
	}
	if (total == 0)
		return 0;
	if ((a = reallocarray(NULL, total, sizeof(*a))) == NULL) {
		*why = "out of memory";
		return -1;
	}
	for (i = 0, k = 0; i < t->n; i++) {
		for (j = 0; j < t->e[i].naddrs; j++, k++) {
			if (strlcpy(a[k].addr, t->e[i].addrs[j],
			    sizeof(a[k].addr)) >= sizeof(a[k].addr)) {
				free(a);
				*why = "an address too long";
				return -1;
			}
			a[k].entry = i;
			a[k].shared = 0;
		}
	}
	qsort(a, total, sizeof(*a), addr_cmp);
	/* One record per address; shared when two entries hold it. */
	for (i = 0, k = 0; i < total; i = j, k++) {
		a[k] = a[i];
		for (j = i + 1; j < total && strcmp(a[j].addr, a[i].addr) == 0;
		    j++)
			if (a[j].entry != a[i].entry)
				a[k].shared = 1;
	}
	t->byaddr = a;
	t->naddr = k;
	return 0;
}

int
ctab_index(struct ctab *t)
{
	const char	*why;

	return index_build(t, &why);
}

static int
id_key_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct ctab_entry *)elem)->id);
}

const struct ctab_entry *
ctab_byid(const struct ctab *t, const char *id)
{
	if (id == NULL || t->n == 0)
		return NULL;
	return bsearch(id, t->e, t->n, sizeof(*t->e), id_key_cmp);
}

static int
addr_key_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct ctab_addr *)elem)->addr);
}

const struct ctab_entry *
ctab_byaddr(const struct ctab *t, const char *addr)
{
	const struct ctab_addr	*a;
	char			 canon[CTAB_ADDR_MAX];

	if (addr == NULL || t->naddr == 0 || addr_canon(addr, canon) == -1)
		return NULL;
	a = bsearch(canon, t->byaddr, t->naddr, sizeof(*t->byaddr),
	    addr_key_cmp);
	if (a == NULL || a->shared || a->entry >= t->n)
		return NULL;
	return &t->e[a->entry];
}

int
ctab_encode(const struct ctab *t, struct mbuf *mb)
{
	const struct ctab_entry	*e;
	size_t			 i, j;

	if (t->n > CTAB_MAX_CONTAINERS) {
		mb->err = 1;
		return -1;
	}
	mbuf_add_u32(mb, (uint32_t)t->n);
	for (i = 0; i < t->n && !mb->err; i++) {
		e = &t->e[i];
		if (e->nlabels > CTAB_MAX_LABELS ||
		    e->naddrs > CTAB_MAX_ADDRS) {
			mb->err = 1;
			break;
		}
		mbuf_add_str(mb, e->id);
		mbuf_add_str(mb, e->name);
		mbuf_add_u32(mb, (uint32_t)e->nlabels);
		for (j = 0; j < e->nlabels; j++)
			mbuf_add_str(mb, e->labels[j]);
		mbuf_add_u32(mb, (uint32_t)e->naddrs);
		for (j = 0; j < e->naddrs; j++)
			mbuf_add_str(mb, e->addrs[j]);
	}
	return mb->err ? -1 : 0;
}

/* A count read from the wire: at most max, and each of its items at
 * least min bytes of what is left. */
static int
count_ok(const struct mbuf *mb, uint32_t n, size_t max, size_t min)
{
	return n <= max && n <= (mb->len - mb->off) / min;
}

static int
decode_labels(struct ctab_entry *e, struct mbuf *mb)
{
	const void	*p;
	size_t		 len;
	uint32_t	 n, i;

	if (mbuf_get_u32(mb, &n) == -1 || !count_ok(mb, n, CTAB_MAX_LABELS, 4))
		return -1;
	if (n == 0)
		return 0;
	if ((e->labels = calloc(n, sizeof(*e->labels))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		if (mbuf_get_data(mb, &p, &len) == -1 ||
		    len >= CTAB_LABEL_MAX || memchr(p, '\0', len) != NULL ||
		    memchr(p, '=', len) == NULL)
			return -1;
		if ((e->labels[i] = malloc(len + 1)) == NULL)
			return -1;
		e->nlabels++;
		memcpy(e->labels[i], p, len);
		e->labels[i][len] = '\0';
	}
	return 0;
}

static int
decode_addrs(struct ctab_entry *e, struct mbuf *mb)
{
	char		 a[CTAB_ADDR_MAX], canon[CTAB_ADDR_MAX];
	const char	*why;
	uint32_t	 n, i, j;

	if (mbuf_get_u32(mb, &n) == -1 || !count_ok(mb, n, CTAB_MAX_ADDRS, 4))
		return -1;
	for (i = 0; i < n; i++) {
		if (mbuf_get_str(mb, a, sizeof(a)) == -1 ||
		    addr_canon(a, canon) == -1 || strcmp(a, canon) != 0)
			return -1;
		for (j = 0; j < e->naddrs; j++)
			if (strcmp(e->addrs[j], canon) == 0)
				return -1;
		if (entry_add_addr(e, canon, &why) == -1)
			return -1;
	}
	return 0;
}

static int
decode_entry(struct ctab_entry *e, struct mbuf *mb)
{
	if (mbuf_get_str(mb, e->id, sizeof(e->id)) == -1 ||
	    !id_valid(e->id, strlen(e->id)) ||
	    mbuf_get_str(mb, e->name, sizeof(e->name)) == -1 ||
	    decode_labels(e, mb) == -1 || decode_addrs(e, mb) == -1)
		return -1;
	return 0;
}

int
ctab_decode(struct ctab *t, struct mbuf *mb)
{
	const char	*why;
	uint32_t	 n, i;

	if (!ctab_empty(t))
		return -1;
	if (mbuf_get_u32(mb, &n) == -1 ||
	    !count_ok(mb, n, CTAB_MAX_CONTAINERS, WIRE_ENTRY_MIN))
		goto fail;
	if (n > 0 && (t->e = calloc(n, sizeof(*t->e))) == NULL)
		goto fail;
	for (i = 0; i < n; i++) {
		t->n++;
		if (decode_entry(&t->e[i], mb) == -1)
			goto fail;
	}
	if (mbuf_end(mb) == -1 || index_build(t, &why) == -1)
		goto fail;
	return 0;
 fail:
	ctab_free(t);
	return -1;
}

void
ctab_resp_init(struct ctab_resp *r, int keep_body)
{
	memset(r, 0, sizeof(*r));
	r->keep_body = keep_body;
	r->state = CTAB_RESP_HEAD;
}

void
ctab_resp_free(struct ctab_resp *r)
{
	int	 keep = r->keep_body;

	free(r->head);
	free(r->body);
	ctab_resp_init(r, keep);
}

static int	 resp_fail(struct ctab_resp *, char *, size_t, const char *,
		    ...) __attribute__((__format__ (printf, 4, 5)));

static int
resp_fail(struct ctab_resp *r, char *why, size_t whylen, const char *fmt,
    ...)
{
	va_list	 ap;

	r->state = CTAB_RESP_ERROR;
	if (why != NULL && whylen > 0) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Body bytes: counted, and kept for the list. */
static int
resp_take(struct ctab_resp *r, const uint8_t *p, size_t n, size_t *newbody,
    char *why, size_t whylen)
{
	uint8_t	*nb;
	size_t	 nsize;

	*newbody += n;
	r->seen += n;
	if (!r->keep_body || n == 0)
		return 0;
	if (n > CTAB_LIST_MAX - r->bodylen)
		return resp_fail(r, why, whylen, "list over %d bytes",
		    CTAB_LIST_MAX);
	if (r->bodysize - r->bodylen < n) {
		nsize = r->bodysize != 0 ? r->bodysize : RESP_BODY_FIRST;
		while (nsize - r->bodylen < n)
			nsize *= 2;
		if (nsize > CTAB_LIST_MAX)
			nsize = CTAB_LIST_MAX;
		if ((nb = realloc(r->body, nsize)) == NULL)
			return resp_fail(r, why, whylen, "out of memory");
		r->body = nb;
		r->bodysize = nsize;
	}
	memcpy(r->body + r->bodylen, p, n);
	r->bodylen += n;
	return 0;
}

/* The head is in: check it and set up the body's framing. */
static int
resp_head_done(struct ctab_resp *r, char *why, size_t whylen)
{
	int	 rv;

	rv = http_parse_response(r->head, r->headlen, 0, &r->r);
	free(r->head);
	r->head = NULL;
	if (rv == -1)
		return resp_fail(r, why, whylen, "a response head that does "
		    "not parse");
	if (r->r.status != 200)
		return resp_fail(r, why, whylen, "status %d", r->r.status);
	r->state = CTAB_RESP_BODY;
	switch (r->r.framing) {
	case RESP_LENGTH:
		if (r->keep_body && r->r.length > CTAB_LIST_MAX)
			return resp_fail(r, why, whylen, "list over %d bytes",
			    CTAB_LIST_MAX);
		r->left = r->r.length;
		if (r->left == 0)
			r->state = CTAB_RESP_DONE;
		break;
	case RESP_CHUNKED:
		chunked_init(&r->ch);
		break;
	case RESP_EOF:
		break;
	default:
		r->state = CTAB_RESP_DONE;
		break;
	}
	return 0;
}

/* Head bytes, up to the empty line; *used is how many of buf it took. */
static int
resp_head(struct ctab_resp *r, const uint8_t *buf, size_t len,
    size_t *used, char *why, size_t whylen)
{
	size_t	 take, i, before = r->headlen;

	*used = 0;
	if (r->head == NULL && (r->head = malloc(HTTP_HEAD_MAX)) == NULL)
		return resp_fail(r, why, whylen, "out of memory");
	take = HTTP_HEAD_MAX - r->headlen;
	if (take > len)
		take = len;
	if (take > 0)
		memcpy(r->head + r->headlen, buf, take);
	r->headlen += take;
	for (i = before >= 3 ? before - 3 : 0; i + 4 <= r->headlen; i++)
		if (memcmp(r->head + i, "\r\n\r\n", 4) == 0)
			break;
	if (i + 4 > r->headlen) {
		if (r->headlen == HTTP_HEAD_MAX)
			return resp_fail(r, why, whylen, "a response head "
			    "over %d bytes", HTTP_HEAD_MAX);
		*used = take;
		return 0;
	}
	r->headlen = i + 4;
	*used = r->headlen - before;
	return resp_head_done(r, why, whylen);
}

static int
resp_body(struct ctab_resp *r, const uint8_t *buf, size_t len,
    size_t *used, size_t *newbody, char *why, size_t whylen)
{
	size_t	 off = 0;
	ssize_t	 n;
	int	 done = 0, isdata = 0;

	switch (r->r.framing) {
	case RESP_LENGTH:
		off = len < r->left ? len : (size_t)r->left;
		if (resp_take(r, buf, off, newbody, why, whylen) == -1)
			return -1;
		r->left -= off;
		if (r->left == 0)
			r->state = CTAB_RESP_DONE;
		break;
	case RESP_CHUNKED:
		while (off < len && r->state == CTAB_RESP_BODY) {
			n = chunked_step(&r->ch, buf + off, len - off, &done,
			    &isdata);
			if (n == -1 || (n == 0 && !done))
				return resp_fail(r, why, whylen,
				    "a chunked body that does not parse");
			if (isdata && resp_take(r, buf + off, (size_t)n,
			    newbody, why, whylen) == -1)
				return -1;
			off += (size_t)n;
			if (done)
				r->state = CTAB_RESP_DONE;
		}
		break;
	case RESP_EOF:
		off = len;
		if (resp_take(r, buf, off, newbody, why, whylen) == -1)
			return -1;
		break;
	default:
		r->state = CTAB_RESP_DONE;
		break;
	}
	*used = off;
	return 0;
}

int
ctab_resp_feed(struct ctab_resp *r, const uint8_t *buf, size_t len, int eof,
    size_t *newbody, char *why, size_t whylen)
{
	size_t	 used = 0;

	*newbody = 0;
	if (r->state == CTAB_RESP_ERROR)
		return resp_fail(r, why, whylen, "fed after an error");
	if (r->state == CTAB_RESP_HEAD && len > 0) {
		if (resp_head(r, buf, len, &used, why, whylen) == -1)
			return -1;
		buf += used;
		len -= used;
	}
	if (r->state == CTAB_RESP_BODY && len > 0) {
		if (resp_body(r, buf, len, &used, newbody, why, whylen) == -1)
			return -1;
		buf += used;
		len -= used;
	}
	if (r->state == CTAB_RESP_DONE) {
		if (len > 0)
			return resp_fail(r, why, whylen, "bytes after the "
			    "response");
		return 1;
	}
	if (!eof)
		return 0;
	if (r->state == CTAB_RESP_HEAD)
		return resp_fail(r, why, whylen, "EOF in the response head");
	if (r->r.framing == RESP_EOF) {
		r->state = CTAB_RESP_DONE;
		return 1;
	}
	return resp_fail(r, why, whylen, "EOF in the body");
}
