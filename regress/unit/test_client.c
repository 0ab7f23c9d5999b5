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
 * Unit tests for daemon/client.c (which client block a connection's
 * facts select, and the relay's re-check of a verdict's block) and for
 * ident_encode/ident_decode (the facts on the wire).  Matches are built
 * by hand here, as client_match_parse would leave them.
 */

#include <sys/socket.h>
#include <arpa/inet.h>

#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "mbuf.h"
#include "moatd.h"

static const char cid[] =
    "4f1c2a9be0d3c5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4";
static const char cid2[] =
    "aaaa2a9be0d3c5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4";

static struct ident	 who;

static void
setup(void)
{
	memset(&who, 0, sizeof(who));
}

static void
teardown(void)
{
	ident_clear(&who);
}

static void
fact(const char *k, const char *v)
{
	ck_assert_int_eq(ident_add(&who, k, v), 0);
}

static struct client_match
mk(enum match_kind kind, const char *text)
{
	struct client_match	 m;

	memset(&m, 0, sizeof(m));
	m.kind = kind;
	strlcpy(m.text, text, sizeof(m.text));
	return m;
}

static struct client_match
mk_addr(const char *net, int plen)
{
	struct client_match	 m = mk(MATCH_ADDRESS, net);

	m.plen = plen;
	if (inet_pton(AF_INET, net, m.net) == 1)
		m.af = AF_INET;
	else {
		ck_assert_int_eq(inet_pton(AF_INET6, net, m.net), 1);
		m.af = AF_INET6;
	}
	return m;
}

static struct client_match
mk_id(enum match_kind kind, uint32_t id)
{
	struct client_match	 m = mk(kind, "");

	m.id = id;
	return m;
}

static int
holds(struct client_match m)
{
	return client_match_holds(&m, &who, NULL, NULL);
}

START_TEST(test_client_tls)
{
	fact("tls.version", "TLSv1.3");
	fact("cert.subject", "CN=traefik,O=ops");
	fact("cert.issuer", "CN=moatd test CA");
	fact("cert.sha256", "9f2c000000000000000000000000000000000000"
	    "000000000000000000000001");
	fact("cert.san.dns", "Traefik.example");
	fact("cert.san.dns", "other.example");
	fact("cert.san.ip", "192.0.2.7");
	fact("cert.san.email", "ops@example.org");
	fact("cert.san.uri", "spiffe://x/y");

	ck_assert_int_eq(holds(mk(MATCH_TLS_SUBJECT, "CN=traefik,O=ops")), 1);
	/* the whole subject, exactly */
	ck_assert_int_eq(holds(mk(MATCH_TLS_SUBJECT, "CN=traefik")), 0);
	ck_assert_int_eq(holds(mk(MATCH_TLS_SUBJECT, "cn=traefik,O=ops")), 0);
	ck_assert_int_eq(holds(mk(MATCH_TLS_ISSUER, "CN=moatd test CA")), 1);
	ck_assert_int_eq(holds(mk(MATCH_TLS_ISSUER, "CN=traefik,O=ops")), 0);
	ck_assert_int_eq(holds(mk(MATCH_TLS_SHA256, "9f2c0000000000000000"
	    "00000000000000000000000000000000000000000001")), 1);
	ck_assert_int_eq(holds(mk(MATCH_TLS_SHA256, "9f2c0000000000000000"
	    "00000000000000000000000000000000000000000002")), 0);
	ck_assert_int_eq(holds(mk(MATCH_TLS_SHA256, "9f2c")), 0);
	/* SANs: any of them; prefix and DNS name case-insensitive */
	ck_assert_int_eq(holds(mk(MATCH_TLS_SAN, "DNS:traefik.example")), 1);
	ck_assert_int_eq(holds(mk(MATCH_TLS_SAN, "dns:OTHER.example")), 1);
	ck_assert_int_eq(holds(mk(MATCH_TLS_SAN, "DNS:third.example")), 0);
	ck_assert_int_eq(holds(mk(MATCH_TLS_SAN, "IP:192.0.2.7")), 1);
	ck_assert_int_eq(holds(mk(MATCH_TLS_SAN, "ip:192.0.2.7")), 1);
	ck_assert_int_eq(holds(mk(MATCH_TLS_SAN, "IP:192.0.2.8")), 0);
	ck_assert_int_eq(holds(mk(MATCH_TLS_SAN, "IP:::ffff:192.0.2.7")), 0);
	fact("cert.san.ip", "2001:db8::1");
	ck_assert_int_eq(holds(mk(MATCH_TLS_SAN, "IP:2001:db8:0::1")), 1);
	ck_assert_int_eq(holds(mk(MATCH_TLS_SAN, "IP:2001:DB8::1")), 1);
	ck_assert_int_eq(holds(mk(MATCH_TLS_SAN, "IP:2001:db8::2")), 0);
	ck_assert_int_eq(holds(mk(MATCH_TLS_SAN, "email:ops@example.org")), 1);
	ck_assert_int_eq(holds(mk(MATCH_TLS_SAN, "EMAIL:OPS@example.org")), 0);
	ck_assert_int_eq(holds(mk(MATCH_TLS_SAN, "URI:spiffe://x/y")), 1);
	ck_assert_int_eq(holds(mk(MATCH_TLS_SAN, "URI:spiffe://X/y")), 0);
	/* a DNS name is not an IP SAN, nor a bare value a SAN */
	ck_assert_int_eq(holds(mk(MATCH_TLS_SAN, "IP:Traefik.example")), 0);
	ck_assert_int_eq(holds(mk(MATCH_TLS_SAN, "Traefik.example")), 0);
}
END_TEST

/* A connection without a certificate: no TLS line holds. */
START_TEST(test_client_tls_plain)
{
	fact("listener.id", "0");
	fact("peer.addr", "127.0.0.1");
	ck_assert_int_eq(holds(mk(MATCH_TLS_SUBJECT, "")), 0);
	ck_assert_int_eq(holds(mk(MATCH_TLS_SUBJECT, "CN=x")), 0);
	ck_assert_int_eq(holds(mk(MATCH_TLS_ISSUER, "CN=x")), 0);
	ck_assert_int_eq(holds(mk(MATCH_TLS_SAN, "DNS:x")), 0);
	ck_assert_int_eq(holds(mk(MATCH_TLS_SHA256, "")), 0);
	ck_assert_int_eq(client_match_holds(&(struct client_match){
	    .kind = MATCH_TLS_SUBJECT }, NULL, NULL, NULL), 0);
}
END_TEST

START_TEST(test_client_address)
{
	fact("peer.addr", "10.1.2.3");
	ck_assert_int_eq(holds(mk_addr("10.1.0.0", 16)), 1);
	ck_assert_int_eq(holds(mk_addr("10.1.2.3", 32)), 1);
	ck_assert_int_eq(holds(mk_addr("10.1.2.2", 31)), 1);
	ck_assert_int_eq(holds(mk_addr("10.1.2.0", 31)), 0);
	ck_assert_int_eq(holds(mk_addr("10.1.2.4", 32)), 0);
	ck_assert_int_eq(holds(mk_addr("10.2.0.0", 16)), 0);
	ck_assert_int_eq(holds(mk_addr("10.0.0.0", 15)), 1);
	ck_assert_int_eq(holds(mk_addr("10.2.0.0", 15)), 0);
	ck_assert_int_eq(holds(mk_addr("0.0.0.0", 0)), 1);
	/* an IPv4 peer is in no IPv6 network */
	ck_assert_int_eq(holds(mk_addr("::", 0)), 0);
	ck_assert_int_eq(holds(mk_addr("::ffff:10.1.2.3", 128)), 0);
	ident_clear(&who);
	/* an IPv4-mapped IPv6 peer is the IPv4 address */
	fact("peer.addr", "::ffff:10.1.2.3");
	ck_assert_int_eq(holds(mk_addr("10.1.0.0", 16)), 1);
	ck_assert_int_eq(holds(mk_addr("10.2.0.0", 16)), 0);
	ident_clear(&who);
	fact("peer.addr", "2001:db8::7");
	ck_assert_int_eq(holds(mk_addr("2001:db8::", 32)), 1);
	ck_assert_int_eq(holds(mk_addr("2001:db8::7", 128)), 1);
	ck_assert_int_eq(holds(mk_addr("2001:db8::6", 127)), 1);
	ck_assert_int_eq(holds(mk_addr("2001:db8::8", 127)), 0);
	ck_assert_int_eq(holds(mk_addr("2001:db9::", 32)), 0);
	ck_assert_int_eq(holds(mk_addr("0.0.0.0", 0)), 0);
	ident_clear(&who);
	/* no address (a unix peer), or one that is not an address */
	ck_assert_int_eq(holds(mk_addr("0.0.0.0", 0)), 0);
	fact("peer.addr", "127.0.0.1:80");
	ck_assert_int_eq(holds(mk_addr("0.0.0.0", 0)), 0);
}
END_TEST

START_TEST(test_client_listener)
{
	fact("listener.id", "1");
	fact("listener.name", "ci");
	ck_assert_int_eq(holds(mk(MATCH_LISTENER, "ci")), 1);
	ck_assert_int_eq(holds(mk(MATCH_LISTENER, "CI")), 0);
	ck_assert_int_eq(holds(mk(MATCH_LISTENER, "c")), 0);
	ck_assert_int_eq(holds(mk(MATCH_LISTENER, "")), 0);
	ident_clear(&who);
	/* an unnamed listener */
	fact("listener.id", "0");
	ck_assert_int_eq(holds(mk(MATCH_LISTENER, "ci")), 0);
	ck_assert_int_eq(holds(mk(MATCH_LISTENER, "")), 0);
}
END_TEST

START_TEST(test_client_unix)
{
	fact("unix.uid", "1000");
	fact("unix.gid", "100");
	fact("unix.pid", "4242");
	fact("unix.group", "27");
	fact("unix.group", "998");
	ck_assert_int_eq(holds(mk_id(MATCH_UNIX_UID, 1000)), 1);
	ck_assert_int_eq(holds(mk_id(MATCH_UNIX_UID, 0)), 0);
	ck_assert_int_eq(holds(mk_id(MATCH_UNIX_UID, 100)), 0);
	/* the primary group, or any supplementary one */
	ck_assert_int_eq(holds(mk_id(MATCH_UNIX_GID, 100)), 1);
	ck_assert_int_eq(holds(mk_id(MATCH_UNIX_GID, 27)), 1);
	ck_assert_int_eq(holds(mk_id(MATCH_UNIX_GID, 998)), 1);
	ck_assert_int_eq(holds(mk_id(MATCH_UNIX_GID, 1000)), 0);
	ck_assert_int_eq(holds(mk_id(MATCH_UNIX_GID, 0)), 0);
	ident_clear(&who);
	/* root is uid 0, and only a well-formed 0 is */
	fact("unix.uid", "0");
	fact("unix.gid", "0");
	ck_assert_int_eq(holds(mk_id(MATCH_UNIX_UID, 0)), 1);
	ck_assert_int_eq(holds(mk_id(MATCH_UNIX_GID, 0)), 1);
	ident_clear(&who);
	fact("unix.uid", "00");
	fact("unix.gid", "-0");
	fact("unix.group", " 0");
	ck_assert_int_eq(holds(mk_id(MATCH_UNIX_UID, 0)), 0);
	ck_assert_int_eq(holds(mk_id(MATCH_UNIX_GID, 0)), 0);
	ident_clear(&who);
	fact("unix.uid", "4294967296");		/* 2^32 wraps to 0 */
	ck_assert_int_eq(holds(mk_id(MATCH_UNIX_UID, 0)), 0);
	ident_clear(&who);
	fact("unix.uid", "4294967295");
	ck_assert_int_eq(holds(mk_id(MATCH_UNIX_UID, 4294967295U)), 1);
	ident_clear(&who);
	/* a TCP peer has no uid */
	fact("peer.addr", "127.0.0.1");
	ck_assert_int_eq(holds(mk_id(MATCH_UNIX_UID, 0)), 0);
	ck_assert_int_eq(holds(mk_id(MATCH_UNIX_GID, 0)), 0);
}
END_TEST

START_TEST(test_client_container_id)
{
	fact("unix.uid", "0");
	fact("container.id", cid);
	ck_assert_int_eq(holds(mk(MATCH_CONTAINER_ID, cid)), 1);
	ck_assert_int_eq(holds(mk(MATCH_CONTAINER_ID, "4f1c2a9be0d3")), 1);
	ck_assert_int_eq(holds(mk(MATCH_CONTAINER_ID, "4f1c2a9be0d3c")), 1);
	/* shorter than 12: never */
	ck_assert_int_eq(holds(mk(MATCH_CONTAINER_ID, "4f1c2a9be0d")), 0);
	ck_assert_int_eq(holds(mk(MATCH_CONTAINER_ID, "")), 0);
	ck_assert_int_eq(holds(mk(MATCH_CONTAINER_ID, cid2)), 0);
	ck_assert_int_eq(holds(mk(MATCH_CONTAINER_ID, "aaaa2a9be0d3")), 0);
	ident_clear(&who);
	/* no container, or a malformed id */
	fact("unix.uid", "0");
	ck_assert_int_eq(holds(mk(MATCH_CONTAINER_ID, cid)), 0);
	fact("container.id", "4f1c2a9be0d3");
	ck_assert_int_eq(holds(mk(MATCH_CONTAINER_ID, "4f1c2a9be0d3")), 0);
}
END_TEST

static const char *labels_a[] = { "com.example.role=dashboard", "tier",
    "empty=" };
static struct container_info	 info_a;

static const struct container_info *
lookup(const char *id, void *arg)
{
	int	*calls = arg;

	if (calls != NULL)
		(*calls)++;
	return strcmp(id, info_a.id) == 0 ? &info_a : NULL;
}

/* A lookup that lies: answers for any id with another container. */
static const struct container_info *
lookup_other(const char *id, void *arg)
{
	return &info_a;
}

static int
holds_c(struct client_match m)
{
	return client_match_holds(&m, &who, lookup, NULL);
}

START_TEST(test_client_container_name_label)
{
	memset(&info_a, 0, sizeof(info_a));
	strlcpy(info_a.id, cid, sizeof(info_a.id));
	strlcpy(info_a.name, "homepage", sizeof(info_a.name));
	info_a.labels = (char **)labels_a;
	info_a.nlabels = 3;
	fact("container.id", cid);
	ck_assert_int_eq(holds_c(mk(MATCH_CONTAINER_NAME, "homepage")), 1);
	ck_assert_int_eq(holds_c(mk(MATCH_CONTAINER_NAME, "homepag")), 0);
	ck_assert_int_eq(holds_c(mk(MATCH_CONTAINER_NAME, "/homepage")), 0);
	ck_assert_int_eq(holds_c(mk(MATCH_CONTAINER_LABEL,
	    "com.example.role=dashboard")), 1);
	ck_assert_int_eq(holds_c(mk(MATCH_CONTAINER_LABEL,
	    "com.example.role")), 1);
	ck_assert_int_eq(holds_c(mk(MATCH_CONTAINER_LABEL,
	    "com.example.role=dash")), 0);
	ck_assert_int_eq(holds_c(mk(MATCH_CONTAINER_LABEL, "com.example")),
	    0);
	ck_assert_int_eq(holds_c(mk(MATCH_CONTAINER_LABEL, "tier")), 1);
	ck_assert_int_eq(holds_c(mk(MATCH_CONTAINER_LABEL, "tier=")), 0);
	ck_assert_int_eq(holds_c(mk(MATCH_CONTAINER_LABEL, "empty=")), 1);
	ck_assert_int_eq(holds_c(mk(MATCH_CONTAINER_LABEL, "empty")), 1);
	ck_assert_int_eq(holds_c(mk(MATCH_CONTAINER_LABEL, "nope")), 0);
	/* without a lookup (the relay), or one that finds nothing */
	ck_assert_int_eq(holds(mk(MATCH_CONTAINER_NAME, "homepage")), 0);
	ck_assert_int_eq(holds(mk(MATCH_CONTAINER_LABEL, "tier")), 0);
	ident_clear(&who);
	fact("container.id", cid2);
	ck_assert_int_eq(holds_c(mk(MATCH_CONTAINER_NAME, "homepage")), 0);
	/* an answer for another container than asked is no answer */
	ck_assert_int_eq(client_match_holds(&(struct client_match){
	    .kind = MATCH_CONTAINER_NAME, .text = "homepage" }, &who,
	    lookup_other, NULL), 0);
	ident_clear(&who);
	/* no container at all: the lookup is not even asked */
	fact("unix.uid", "0");
	{
		int	 calls = 0;
		struct client_match m = mk(MATCH_CONTAINER_NAME, "homepage");

		ck_assert_int_eq(client_match_holds(&m, &who, lookup, &calls),
		    0);
		ck_assert_int_eq(calls, 0);
	}
}
END_TEST

/* Blocks: a (TLS subject), b (address), c (uid 1000 and group 27). */
static struct moat_client	 blocks[4];

static void
mkblocks(void)
{
	memset(blocks, 0, sizeof(blocks));
	strlcpy(blocks[0].name, "a", sizeof(blocks[0].name));
	blocks[0].m[0] = mk(MATCH_TLS_SUBJECT, "CN=a");
	blocks[0].nm = 1;
	strlcpy(blocks[1].name, "b", sizeof(blocks[1].name));
	blocks[1].m[0] = mk_addr("127.0.0.2", 32);
	blocks[1].nm = 1;
	strlcpy(blocks[2].name, "c", sizeof(blocks[2].name));
	blocks[2].m[0] = mk_id(MATCH_UNIX_UID, 1000);
	blocks[2].m[1] = mk_id(MATCH_UNIX_GID, 27);
	blocks[2].nm = 2;
	/* d: a container name, and the listener "ci" */
	strlcpy(blocks[3].name, "d", sizeof(blocks[3].name));
	blocks[3].m[0] = mk(MATCH_LISTENER, "ci");
	blocks[3].m[1] = mk(MATCH_CONTAINER_NAME, "homepage");
	blocks[3].nm = 2;
}

START_TEST(test_client_select)
{
	mkblocks();
	ck_assert_int_eq(client_select(blocks, 4, &who, NULL, NULL), -1);
	fact("peer.addr", "127.0.0.2");
	ck_assert_int_eq(client_select(blocks, 4, &who, NULL, NULL), 1);
	/* the first that holds, in the order written */
	fact("cert.subject", "CN=a");
	ck_assert_int_eq(client_select(blocks, 4, &who, NULL, NULL), 0);
	ck_assert_int_eq(client_select(blocks + 1, 3, &who, NULL, NULL), 0);
	ident_clear(&who);
	fact("peer.addr", "127.0.0.1");
	ck_assert_int_eq(client_select(blocks, 4, &who, NULL, NULL), -1);
	ident_clear(&who);
	/* every line of a block must hold */
	fact("unix.uid", "1000");
	fact("unix.gid", "1000");
	ck_assert_int_eq(client_select(blocks, 4, &who, NULL, NULL), -1);
	fact("unix.group", "27");
	ck_assert_int_eq(client_select(blocks, 4, &who, NULL, NULL), 2);
	ident_clear(&who);
	/* d: the listener alone is not enough; with the container it is */
	memset(&info_a, 0, sizeof(info_a));
	strlcpy(info_a.id, cid, sizeof(info_a.id));
	strlcpy(info_a.name, "homepage", sizeof(info_a.name));
	fact("listener.name", "ci");
	fact("container.id", cid);
	ck_assert_int_eq(client_select(blocks, 4, &who, NULL, NULL), -1);
	ck_assert_int_eq(client_select(blocks, 4, &who, lookup, NULL), 3);
	/* a block without match lines matches no one */
	blocks[0].nm = 0;
	ck_assert_int_eq(client_select(blocks, 1, &who, lookup, NULL), -1);
	ck_assert_int_eq(client_select(blocks, 0, &who, lookup, NULL), -1);
}
END_TEST

START_TEST(test_client_recheck)
{
	mkblocks();
	fact("peer.addr", "127.0.0.2");
	/* the honest answer */
	ck_assert_int_eq(client_recheck(blocks, 4, 1, &who), 1);
	/* a block whose checkable line fails */
	ck_assert_int_eq(client_recheck(blocks, 4, 0, &who), 0);
	ck_assert_int_eq(client_recheck(blocks, 4, 2, &who), 0);
	/* the top level, when block b holds */
	ck_assert_int_eq(client_recheck(blocks, 4, -1, &who), 0);
	/* out of range */
	ck_assert_int_eq(client_recheck(blocks, 4, 4, &who), 0);
	ck_assert_int_eq(client_recheck(blocks, 4, -2, &who), 0);
	ck_assert_int_eq(client_recheck(blocks, 1, 1, &who), 0);
	ident_clear(&who);
	/* b holds and so does c (later): b it must be */
	fact("peer.addr", "127.0.0.2");
	fact("unix.uid", "1000");
	fact("unix.group", "27");
	ck_assert_int_eq(client_recheck(blocks, 4, 2, &who), 0);
	ck_assert_int_eq(client_recheck(blocks, 4, 1, &who), 1);
	ident_clear(&who);
	/*
	 * d needs the container: the relay checks its listener line and
	 * takes the worker's word on the name; and d, earlier than a
	 * later block, cannot be ruled out, so it does not block it.
	 */
	fact("listener.name", "ci");
	fact("container.id", cid);
	ck_assert_int_eq(client_recheck(blocks, 4, 3, &who), 1);
	ck_assert_int_eq(client_recheck(blocks, 4, -1, &who), 1);
	ident_clear(&who);
	fact("listener.name", "other");
	fact("container.id", cid);
	ck_assert_int_eq(client_recheck(blocks, 4, 3, &who), 0);
	ident_clear(&who);
	/* a container-only block before the chosen one is skipped */
	blocks[0].m[0] = mk(MATCH_CONTAINER_LABEL, "tier");
	fact("peer.addr", "127.0.0.2");
	ck_assert_int_eq(client_recheck(blocks, 4, 1, &who), 1);
	ck_assert_int_eq(client_recheck(blocks, 4, 0, &who), 1);
	/* a container id is checkable: it is one of the relay's facts */
	blocks[0].m[0] = mk(MATCH_CONTAINER_ID, "4f1c2a9be0d3");
	ck_assert_int_eq(client_recheck(blocks, 4, 1, &who), 1);
	fact("container.id", cid);
	ck_assert_int_eq(client_recheck(blocks, 4, 1, &who), 0);
	ck_assert_int_eq(client_recheck(blocks, 4, 0, &who), 1);
	/* no blocks: only the top level */
	ck_assert_int_eq(client_recheck(blocks, 0, -1, &who), 1);
	ck_assert_int_eq(client_recheck(blocks, 0, 0, &who), 0);
}
END_TEST

/* The same over a child's blocks, each with its ruleset beside it. */
START_TEST(test_client_rules_stride)
{
	struct child_rules	 cr[4];
	size_t			 i;

	mkblocks();
	memset(cr, 0, sizeof(cr));
	for (i = 0; i < 4; i++)
		cr[i].c = blocks[i];
	ck_assert_int_eq(client_select_rules(cr, 4, &who, NULL, NULL), -1);
	ck_assert_int_eq(client_recheck_rules(cr, 4, -1, &who), 1);
	fact("unix.uid", "1000");
	fact("unix.group", "27");
	ck_assert_int_eq(client_select_rules(cr, 4, &who, NULL, NULL), 2);
	ck_assert_int_eq(client_recheck_rules(cr, 4, 2, &who), 1);
	ck_assert_int_eq(client_recheck_rules(cr, 4, -1, &who), 0);
	ck_assert_int_eq(client_recheck_rules(cr, 4, 1, &who), 0);
	fact("peer.addr", "127.0.0.2");
	ck_assert_int_eq(client_select_rules(cr, 4, &who, NULL, NULL), 1);
	ck_assert_int_eq(client_recheck_rules(cr, 4, 2, &who), 0);
	ck_assert_int_eq(client_select_rules(cr, 0, &who, NULL, NULL), -1);
	ck_assert_int_eq(client_recheck_rules(cr, 0, -1, &who), 1);
	ck_assert_int_eq(client_recheck_rules(NULL, 0, -1, &who), 1);
	ck_assert_int_eq(client_recheck_rules(NULL, 0, 0, &who), 0);
}
END_TEST

/* The facts on the wire: what goes in comes out, strictly. */
START_TEST(test_ident_codec)
{
	struct ident	 out;
	struct mbuf	 m, rd;

	fact("listener.id", "0");
	fact("peer.addr", "127.0.0.1");
	fact("cert.subject", "CN=a \"b\",O=c\\d");
	fact("unix.group", "");
	mbuf_init(&m);
	ck_assert_int_eq(ident_encode(&m, &who), 0);
	mbuf_reader(&rd, m.buf, m.len);
	ck_assert_int_eq(ident_decode(&rd, &out), 0);
	ck_assert_int_eq(mbuf_end(&rd), 0);
	ck_assert_uint_eq(out.n, 4);
	ck_assert_str_eq(out.a[0].key, "listener.id");
	ck_assert_str_eq(out.a[2].value, "CN=a \"b\",O=c\\d");
	ck_assert_str_eq(out.a[3].key, "unix.group");
	ck_assert_str_eq(out.a[3].value, "");
	ident_clear(&out);
	/* cut anywhere: refused, nothing left behind */
	for (size_t n = 0; n < m.len; n++) {
		mbuf_reader(&rd, m.buf, n);
		ck_assert_int_eq(ident_decode(&rd, &out), -1);
		ck_assert_uint_eq(out.n, 0);
	}
	mbuf_free(&m);
	/* none */
	ident_clear(&who);
	mbuf_init(&m);
	ck_assert_int_eq(ident_encode(&m, &who), 0);
	mbuf_reader(&rd, m.buf, m.len);
	ck_assert_int_eq(ident_decode(&rd, &out), 0);
	ck_assert_uint_eq(out.n, 0);
	mbuf_free(&m);
}
END_TEST

/* Hand-made encodings: count, then key, value pairs. */
static int
decode_pairs(uint32_t count, const char *const *kv, size_t nkv)
{
	struct ident	 out;
	struct mbuf	 m, rd;
	size_t		 i;
	int		 rv;

	mbuf_init(&m);
	mbuf_add_u32(&m, count);
	for (i = 0; i < nkv; i++)
		mbuf_add_data(&m, kv[i], strlen(kv[i]));
	mbuf_reader(&rd, m.buf, m.len);
	rv = ident_decode(&rd, &out);
	if (rv == 0)
		rv = mbuf_end(&rd);
	else
		ck_assert_uint_eq(out.n, 0);
	ident_clear(&out);
	mbuf_free(&m);
	return rv;
}

START_TEST(test_ident_decode_bad)
{
	const char	*ok[] = { "peer.addr", "127.0.0.1" };
	const char	*upper[] = { "Peer.addr", "x" };
	const char	*space[] = { "peer addr", "x" };
	const char	*empty[] = { "", "x" };
	const char	*ctl[] = { "peer.addr", "a\nb" };
	const char	*del[] = { "peer.addr", "a\x7f" };
	const char	*high[] = { "peer.addr", "caf\xc3\xa9" };
	const char	*longkey[] = {
	    "abcdefghijabcdefghijabcdefghijab", "x" };	/* 32 */
	const char	*two[] = { "a", "1", "b", "2" };
	static char	 big[IDENT_VALUE_MAX + 1];
	const char	*longval[] = { "a", big };
	struct mbuf	 m, rd;
	struct ident	 out;
	uint32_t	 i;

	ck_assert_int_eq(decode_pairs(1, ok, 2), 0);
	ck_assert_int_eq(decode_pairs(2, two, 4), 0);
	ck_assert_int_eq(decode_pairs(1, two, 4), -1);	/* bytes left */
	ck_assert_int_eq(decode_pairs(3, two, 4), -1);	/* short */
	ck_assert_int_eq(decode_pairs(1, upper, 2), -1);
	ck_assert_int_eq(decode_pairs(1, space, 2), -1);
	ck_assert_int_eq(decode_pairs(1, empty, 2), -1);
	ck_assert_int_eq(decode_pairs(1, ctl, 2), -1);
	ck_assert_int_eq(decode_pairs(1, del, 2), -1);
	ck_assert_int_eq(decode_pairs(1, high, 2), -1);
	ck_assert_int_eq(decode_pairs(1, longkey, 2), -1);
	longkey[0] = "abcdefghijabcdefghijabcdefghija";	/* 31 */
	ck_assert_int_eq(decode_pairs(1, longkey, 2), 0);
	/* a value ident_add would cut is refused, not cut */
	memset(big, 'v', IDENT_VALUE_MAX - 1);
	ck_assert_int_eq(decode_pairs(1, longval, 2), 0);
	big[IDENT_VALUE_MAX - 1] = 'v';
	ck_assert_int_eq(decode_pairs(1, longval, 2), -1);
	/* a NUL inside a key or value */
	mbuf_init(&m);
	mbuf_add_u32(&m, 1);
	mbuf_add_data(&m, "a\0b", 3);
	mbuf_add_str(&m, "x");
	mbuf_reader(&rd, m.buf, m.len);
	ck_assert_int_eq(ident_decode(&rd, &out), -1);
	mbuf_free(&m);
	/* at most IDENT_ATTRS_MAX */
	mbuf_init(&m);
	mbuf_add_u32(&m, IDENT_ATTRS_MAX + 1);
	for (i = 0; i < IDENT_ATTRS_MAX + 1; i++) {
		mbuf_add_str(&m, "k");
		mbuf_add_str(&m, "v");
	}
	mbuf_reader(&rd, m.buf, m.len);
	ck_assert_int_eq(ident_decode(&rd, &out), -1);
	mbuf_free(&m);
	ck_assert_int_eq(decode_pairs(UINT32_MAX, ok, 2), -1);
	/* encoding refuses what decoding would */
	for (i = 0; i < IDENT_ATTRS_MAX; i++)
		fact("k", "v");
	mbuf_init(&m);
	ck_assert_int_eq(ident_encode(&m, &who), 0);
	mbuf_free(&m);
	free(who.a[0].value);
	who.a[0].value = strdup("a\tb");
	mbuf_init(&m);
	ck_assert_int_eq(ident_encode(&m, &who), -1);
	mbuf_free(&m);
}
END_TEST

Suite *
client_suite(void)
{
	Suite	*s = suite_create("client");
	TCase	*tc = tcase_create("client");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_client_tls);
	tcase_add_test(tc, test_client_tls_plain);
	tcase_add_test(tc, test_client_address);
	tcase_add_test(tc, test_client_listener);
	tcase_add_test(tc, test_client_unix);
	tcase_add_test(tc, test_client_container_id);
	tcase_add_test(tc, test_client_container_name_label);
	tcase_add_test(tc, test_client_select);
	tcase_add_test(tc, test_client_recheck);
	tcase_add_test(tc, test_client_rules_stride);
	tcase_add_test(tc, test_ident_codec);
	tcase_add_test(tc, test_ident_decode_bad);
	suite_add_tcase(s, tc);
	return s;
}
