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
 * Client blocks: which one a connection belongs to.  The facts are the
 * relay's (an ident: the TLS attributes and the facts list in moatd.h);
 * the policy worker selects (client_select), the relay re-checks what it
 * can without the daemon's data (client_recheck).  Pure: no I/O, no
 * globals.  A fact that is missing or malformed makes a line not hold,
 * never hold.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "moatd.h"

/* "DNS:" and the rest: the ident key of a san line's value, or NULL. */
static const char *
san_key(const char *text, const char **value)
{
	static const struct {
		const char	*prefix;
		const char	*key;
	} san[] = {
		{ "DNS:", "cert.san.dns" },
		{ "IP:", "cert.san.ip" },
		{ "email:", "cert.san.email" },
		{ "URI:", "cert.san.uri" },
	};
	size_t	 i, n;

	for (i = 0; i < sizeof(san) / sizeof(san[0]); i++) {
		n = strlen(san[i].prefix);
		if (strncasecmp(text, san[i].prefix, n) == 0) {
			*value = text + n;
			return san[i].key;
		}
	}
	return NULL;
}

/* Two IP SANs: the same address however written ("::1", "0:0::1"). */
static int
same_ip(const char *a, const char *b)
{
	uint8_t	 x[16], y[16];

	if (inet_pton(AF_INET, a, x) == 1)
		return inet_pton(AF_INET, b, y) == 1 && memcmp(x, y, 4) == 0;
	if (inet_pton(AF_INET6, a, x) == 1)
		return inet_pton(AF_INET6, b, y) == 1 &&
		    memcmp(x, y, 16) == 0;
	return strcmp(a, b) == 0;
}

static int
san_holds(const char *text, const struct ident *who)
{
	const char	*key, *want, *v;
	size_t		 i;
	int		 hit;

	if ((key = san_key(text, &want)) == NULL)
		return 0;
	for (i = 0; i < who->n; i++) {
		if (strcmp(who->a[i].key, key) != 0)
			continue;
		v = who->a[i].value;
		if (strcmp(key, "cert.san.dns") == 0)
			hit = strcasecmp(v, want) == 0;
		else if (strcmp(key, "cert.san.ip") == 0)
			hit = same_ip(v, want);
		else
			hit = strcmp(v, want) == 0;
		if (hit)
			return 1;
	}
	return 0;
}

/* peer.addr within the line's network; an IPv4-mapped IPv6 peer is the
 * IPv4 address it maps. */
static int
address_holds(const struct client_match *m, const struct ident *who)
{
	const char	*a;
	uint8_t		 addr[16];
	int		 af, len, bits;

	if ((a = ident_get(who, "peer.addr")) == NULL)
		return 0;
	if (inet_pton(AF_INET, a, addr) == 1)
		af = AF_INET;
	else if (inet_pton(AF_INET6, a, addr) == 1) {
		af = AF_INET6;
		if (IN6_IS_ADDR_V4MAPPED((struct in6_addr *)addr)) {
			memmove(addr, addr + 12, 4);
			af = AF_INET;
		}
	} else
		return 0;
	len = af == AF_INET ? 32 : 128;
	if (af != m->af || m->plen < 0 || m->plen > len)
		return 0;
	bits = m->plen;
	if (memcmp(addr, m->net, bits / 8) != 0)
		return 0;
	if (bits % 8 == 0)
		return 1;
	return ((addr[bits / 8] ^ m->net[bits / 8]) &
	    (0xff << (8 - bits % 8)) & 0xff) == 0;
}

/* A decimal id, exactly: no sign, no spaces, no leading zeros. */
static int
fact_id(const char *s, uint32_t *id)
{
	unsigned long long	 v = 0;
	const char		*p;

	if (s == NULL || *s == '\0' || (s[0] == '0' && s[1] != '\0'))
		return -1;
	for (p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9' || p - s >= 10)
			return -1;
		v = v * 10 + (*p - '0');
	}
	if (v > UINT32_MAX)
		return -1;
	*id = (uint32_t)v;
	return 0;
}

static int
gid_holds(uint32_t want, const struct ident *who)
{
	uint32_t	 id;
	size_t		 i;

	if (fact_id(ident_get(who, "unix.gid"), &id) == 0 && id == want)
		return 1;
	for (i = 0; i < who->n; i++)
		if (strcmp(who->a[i].key, "unix.group") == 0 &&
		    fact_id(who->a[i].value, &id) == 0 && id == want)
			return 1;
	return 0;
}

static int
is_hex(const char *s, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* container.id: 64 lowercase hex; the line: all of it, or a prefix of at
 * least 12. */
static int
container_id_holds(const char *text, const struct ident *who)
{
	const char	*id;
	size_t		 n = strlen(text);

	if ((id = ident_get(who, "container.id")) == NULL ||
	    strlen(id) != 64 || !is_hex(id, 64))
		return 0;
	if (n < 12 || n > 64)
		return 0;
	return strncmp(id, text, n) == 0;
}

static int
label_holds(const char *text, const struct container_info *ci)
{
	size_t	 i, kl;
	int	 haseq = strchr(text, '=') != NULL;

	kl = strlen(text);
	for (i = 0; i < ci->nlabels; i++) {
		if (haseq ? strcmp(ci->labels[i], text) == 0 :
		    strncmp(ci->labels[i], text, kl) == 0 &&
		    (ci->labels[i][kl] == '=' || ci->labels[i][kl] == '\0'))
			return 1;
	}
	return 0;
}

/* Name and label: what the daemon says of the peer's container. */
static int
container_holds(const struct client_match *m, const struct ident *who,
    client_containerfn fn, void *arg)
{
	const struct container_info	*ci;
	const char			*id;

	if (fn == NULL || (id = ident_get(who, "container.id")) == NULL ||
	    strlen(id) != 64 || !is_hex(id, 64) ||
	    (ci = fn(id, arg)) == NULL || strcmp(ci->id, id) != 0)
		return 0;
	if (m->kind == MATCH_CONTAINER_NAME)
		return strcmp(ci->name, m->text) == 0;
	return label_holds(m->text, ci);
}

int
client_match_holds(const struct client_match *m, const struct ident *who,
    client_containerfn fn, void *arg)
{
	const char	*v;
	uint32_t	 id;

	if (who == NULL)
		return 0;
	switch (m->kind) {
	case MATCH_TLS_SUBJECT:
		v = ident_get(who, "cert.subject");
		return v != NULL && strcmp(v, m->text) == 0;
	case MATCH_TLS_ISSUER:
		v = ident_get(who, "cert.issuer");
		return v != NULL && strcmp(v, m->text) == 0;
	case MATCH_TLS_SAN:
		return san_holds(m->text, who);
	case MATCH_TLS_SHA256:
		v = ident_get(who, "cert.sha256");
		return v != NULL && strlen(v) == 64 &&
		    strcmp(v, m->text) == 0;
	case MATCH_ADDRESS:
		return address_holds(m, who);
	case MATCH_LISTENER:
		v = ident_get(who, "listener.name");
		return v != NULL && m->text[0] != '\0' &&
		    strcmp(v, m->text) == 0;
	case MATCH_UNIX_UID:
		return fact_id(ident_get(who, "unix.uid"), &id) == 0 &&
		    id == m->id;
	case MATCH_UNIX_GID:
		return gid_holds(m->id, who);
	case MATCH_CONTAINER_ID:
		return container_id_holds(m->text, who);
	case MATCH_CONTAINER_NAME:
	case MATCH_CONTAINER_LABEL:
		return container_holds(m, who, fn, arg);
	}
	return 0;
}

static int
block_holds(const struct moat_client *c, const struct ident *who,
    client_containerfn fn, void *arg)
{
	size_t	 i;

	if (c->nm == 0)
		return 0;
	for (i = 0; i < c->nm; i++)
		if (!client_match_holds(&c->m[i], who, fn, arg))
			return 0;
	return 1;
}

/* The i-th block of an array of blocks, or of child_rules (stride). */
#define BLOCK(base, stride, i) \
	((const struct moat_client *)(const void *)((const char *)(base) + \
	    (stride) * (i)))

static int
select_in(const void *base, size_t stride, size_t n, const struct ident *who,
    client_containerfn fn, void *arg)
{
	size_t	 i;

	for (i = 0; i < n && i < MOAT_CLIENTS_MAX; i++)
		if (block_holds(BLOCK(base, stride, i), who, fn, arg))
			return (int)i;
	return -1;
}

int
client_select(const struct moat_client *c, size_t n, const struct ident *who,
    client_containerfn fn, void *arg)
{
	return select_in(c, sizeof(*c), n, who, fn, arg);
}

int
client_select_rules(const struct child_rules *cr, size_t n,
    const struct ident *who, client_containerfn fn, void *arg)
{
	return select_in(n > 0 ? &cr[0].c : NULL, sizeof(*cr), n, who, fn,
	    arg);
}

/*
 * Lines the relay cannot check: they need the daemon's data.  So does
 * "container id" for a TCP peer: the worker finds its container from
 * its address in the watcher's table (worker.c), the relay cannot.
 */
static int
needs_container(const struct client_match *m, const struct ident *who)
{
	if (m->kind == MATCH_CONTAINER_ID)
		return who != NULL && ident_get(who, "peer.addr") != NULL &&
		    ident_get(who, "container.id") == NULL;
	return m->kind == MATCH_CONTAINER_NAME ||
	    m->kind == MATCH_CONTAINER_LABEL;
}

static int
block_uses_table(const struct moat_client *c)
{
	size_t	 j;

	for (j = 0; j < c->nm; j++)
		if (c->m[j].kind == MATCH_CONTAINER_ID ||
		    c->m[j].kind == MATCH_CONTAINER_NAME ||
		    c->m[j].kind == MATCH_CONTAINER_LABEL)
			return 1;
	return 0;
}

/* Blocks at base, stride bytes apart (a struct moat_client first). */
static int
uses_table_in(const void *base, size_t stride, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (block_uses_table(BLOCK(base, stride, i)))
			return 1;
	return 0;
}

int
client_uses_table(const struct moat_client *c, size_t n)
{
	return uses_table_in(c, sizeof(*c), n);
}

int
client_uses_table_rules(const struct child_rules *cr, size_t n)
{
	return uses_table_in(cr, sizeof(*cr), n);
}

/*
 * What the relay can hold a verdict's client to, from its own facts: the
 * chosen block's lines that need no container hold, and no earlier block
 * made only of such lines holds (it would have been chosen first).  A
 * block with a name or label line is one the relay cannot rule out.
 */
static int
recheck_in(const void *base, size_t stride, size_t n, int chosen,
    const struct ident *who)
{
	const struct moat_client	*c;
	size_t				 i, j, end;
	int				 checkable;

	if (chosen < -1 || (chosen >= 0 && (size_t)chosen >= n) ||
	    n > MOAT_CLIENTS_MAX)
		return 0;
	if (chosen >= 0) {
		c = BLOCK(base, stride, chosen);
		if (c->nm == 0)
			return 0;
		for (j = 0; j < c->nm; j++)
			if (!needs_container(&c->m[j], who) &&
			    !client_match_holds(&c->m[j], who, NULL, NULL))
				return 0;
	}
	end = chosen >= 0 ? (size_t)chosen : n;
	for (i = 0; i < end; i++) {
		c = BLOCK(base, stride, i);
		checkable = 1;
		for (j = 0; j < c->nm; j++)
			if (needs_container(&c->m[j], who))
				checkable = 0;
		if (checkable && block_holds(c, who, NULL, NULL))
			return 0;
	}
	return 1;
}

int
client_recheck(const struct moat_client *c, size_t n, int chosen,
    const struct ident *who)
{
	return recheck_in(c, sizeof(*c), n, chosen, who);
}

int
client_recheck_rules(const struct child_rules *cr, size_t n, int chosen,
    const struct ident *who)
{
	return recheck_in(n > 0 ? &cr[0].c : NULL, sizeof(*cr), n, chosen,
	    who);
}
