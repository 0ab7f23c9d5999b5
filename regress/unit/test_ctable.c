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
 * Unit tests for policy/ctable.c: the container table.  The lists are
 * written after the Engine API's ContainerSummary (API 1.41, Docker
 * 20.10, and the later shape with DNSNames, GwPriority, Health and
 * ImageManifestDescriptor), by hand.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "ctable.h"
#include "mbuf.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

/* 64 lowercase hex digits, told apart by the first one. */
#define T63	"123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define ID_A	"a" T63
#define ID_B	"b" T63
#define ID_C	"c" T63
#define ID_D	"d" T63
#define ID_E	"e" T63
#define ID_F	"f" T63

/* GET /containers/json?all=1 from a Docker 20.10 (API 1.41): a compose
 * service running, a container stopped (no address). */
static const char list_141[] =
    "[{\"Id\":\"" ID_B "\",\"Names\":[\"/shop_web_1\"],"
    "\"Image\":\"nginx:1.25\",\"ImageID\":\"sha256:" ID_F "\","
    "\"Command\":\"/docker-entrypoint.sh nginx -g 'daemon off;'\","
    "\"Created\":1700000000,\"Ports\":[{\"IP\":\"0.0.0.0\","
    "\"PrivatePort\":80,\"PublicPort\":8080,\"Type\":\"tcp\"},"
    "{\"IP\":\"::\",\"PrivatePort\":80,\"PublicPort\":8080,"
    "\"Type\":\"tcp\"}],\"Labels\":{\"com.docker.compose.project\":"
    "\"shop\",\"com.docker.compose.service\":\"web\",\"maintainer\":"
    "\"NGINX Docker Maintainers <docker-maint@nginx.com>\"},"
    "\"State\":\"running\",\"Status\":\"Up 2 hours\","
    "\"HostConfig\":{\"NetworkMode\":\"shop_default\"},"
    "\"NetworkSettings\":{\"Networks\":{\"shop_default\":"
    "{\"IPAMConfig\":null,\"Links\":null,\"Aliases\":null,"
    "\"NetworkID\":\"" ID_E "\",\"EndpointID\":\"" ID_D "\","
    "\"Gateway\":\"172.18.0.1\",\"IPAddress\":\"172.18.0.2\","
    "\"IPPrefixLen\":16,\"IPv6Gateway\":\"\",\"GlobalIPv6Address\":\"\","
    "\"GlobalIPv6PrefixLen\":0,\"MacAddress\":\"02:42:ac:12:00:02\","
    "\"DriverOpts\":null}}},\"Mounts\":[{\"Type\":\"volume\","
    "\"Name\":\"shop_data\",\"Source\":"
    "\"/var/lib/docker/volumes/shop_data/_data\",\"Destination\":\"/data\","
    "\"Driver\":\"local\",\"Mode\":\"z\",\"RW\":true,\"Propagation\":\"\"}]},"
    "{\"Id\":\"" ID_A "\",\"Names\":[\"/old_db\"],\"Image\":\"postgres:15\","
    "\"ImageID\":\"sha256:" ID_E "\",\"Command\":\"docker-entrypoint.sh "
    "postgres\",\"Created\":1699000000,\"Ports\":[],\"Labels\":{},"
    "\"State\":\"exited\",\"Status\":\"Exited (0) 3 days ago\","
    "\"HostConfig\":{\"NetworkMode\":\"bridge\"},\"NetworkSettings\":"
    "{\"Networks\":{\"bridge\":{\"IPAMConfig\":null,\"Links\":null,"
    "\"Aliases\":null,\"NetworkID\":\"" ID_C "\",\"EndpointID\":\"\","
    "\"Gateway\":\"\",\"IPAddress\":\"\",\"IPPrefixLen\":0,"
    "\"IPv6Gateway\":\"\",\"GlobalIPv6Address\":\"\","
    "\"GlobalIPv6PrefixLen\":0,\"MacAddress\":\"\",\"DriverOpts\":null}}},"
    "\"Mounts\":[]}]\n";

/*
 * A later daemon's shape: no Names, Labels null, two networks with IPv6
 * (one written long, one in capitals), a host-network container with an
 * empty Names, one with NetworkSettings null.
 */
static const char list_new[] =
    "[{\"Id\":\"" ID_C "\",\"Image\":\"alpine\",\"ImageID\":\"sha256:"
    ID_F "\",\"Command\":\"sleep infinity\",\"Created\":1733000000,"
    "\"Ports\":[],\"Labels\":null,\"State\":\"running\","
    "\"Status\":\"Up 5 seconds\",\"HostConfig\":{\"NetworkMode\":"
    "\"front\",\"Annotations\":{\"io.kubernetes.pod\":\"x\"}},"
    "\"NetworkSettings\":{\"Networks\":{\"front\":{\"IPAMConfig\":"
    "{\"IPv4Address\":\"10.1.0.7\"},\"Links\":null,\"Aliases\":null,"
    "\"MacAddress\":\"02:42:0a:01:00:07\",\"DriverOpts\":null,"
    "\"GwPriority\":0,\"NetworkID\":\"" ID_D "\",\"EndpointID\":\"" ID_E
    "\",\"Gateway\":\"10.1.0.1\",\"IPAddress\":\"10.1.0.7\","
    "\"IPPrefixLen\":24,\"IPv6Gateway\":\"2001:db8:1::1\","
    "\"GlobalIPv6Address\":\"2001:db8:1:0:0:0:0:7\","
    "\"GlobalIPv6PrefixLen\":64,\"DNSNames\":[\"c1\",\"cccc\"]},"
    "\"back\":{\"IPAMConfig\":null,\"Links\":null,\"Aliases\":null,"
    "\"MacAddress\":\"02:42:0a:02:00:07\",\"DriverOpts\":null,"
    "\"GwPriority\":0,\"NetworkID\":\"" ID_E "\",\"EndpointID\":\"" ID_F
    "\",\"Gateway\":\"10.2.0.1\",\"IPAddress\":\"10.2.0.7\","
    "\"IPPrefixLen\":24,\"IPv6Gateway\":\"2001:db8:2::1\","
    "\"GlobalIPv6Address\":\"2001:DB8:2::7\",\"GlobalIPv6PrefixLen\":64,"
    "\"DNSNames\":null}}},\"Mounts\":[],\"Health\":{\"Status\":\"none\","
    "\"FailingStreak\":0},\"ImageManifestDescriptor\":{\"mediaType\":"
    "\"application/vnd.oci.image.manifest.v1+json\",\"digest\":"
    "\"sha256:" ID_A "\",\"size\":1234}},"
    "{\"Id\":\"" ID_D "\",\"Names\":[],\"Image\":\"busybox\","
    "\"Labels\":{\"a\":\"\",\"b\":\"x=y\"},\"State\":\"running\","
    "\"HostConfig\":{\"NetworkMode\":\"host\"},\"NetworkSettings\":"
    "{\"Networks\":{\"host\":{\"IPAMConfig\":null,\"Links\":null,"
    "\"Aliases\":null,\"NetworkID\":\"" ID_A "\",\"EndpointID\":\"" ID_B
    "\",\"Gateway\":\"\",\"IPAddress\":\"\",\"IPPrefixLen\":0,"
    "\"IPv6Gateway\":\"\",\"GlobalIPv6Address\":\"\","
    "\"GlobalIPv6PrefixLen\":0,\"MacAddress\":\"\",\"DriverOpts\":null,"
    "\"DNSNames\":null}}},\"Mounts\":[]},"
    "{\"Id\":\"" ID_E "\",\"Names\":[\"/e\",\"/c1/link\"],"
    "\"NetworkSettings\":null}]";

struct sb {
	char	*s;
	size_t	 len, size;
};

static void
sb_add(struct sb *b, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s + b->len, b->size - b->len, fmt, ap);
		va_end(ap);
		ck_assert_int_ge(n, 0);
		if ((size_t)n < b->size - b->len)
			break;
		b->size = (b->size + n + 1) * 2;
		ck_assert_ptr_nonnull(b->s = realloc(b->s, b->size));
	}
	b->len += n;
}

static void
sb_init(struct sb *b)
{
	b->size = 256;
	b->len = 0;
	ck_assert_ptr_nonnull(b->s = malloc(b->size));
	b->s[0] = '\0';
}

static void
mkid(char id[65], unsigned n)
{
	snprintf(id, 65, "%064x", n);
}

static int
parse(struct ctab *t, const char *s, size_t len, char *why, size_t whylen)
{
	ctab_init(t);
	return ctab_parse_list(t, s, len, why, whylen);
}

static int
parse_str(struct ctab *t, const char *s)
{
	char	 why[256];

	return parse(t, s, strlen(s), why, sizeof(why));
}

static int
has_label(const struct ctab_entry *e, const char *l)
{
	size_t	 i;

	for (i = 0; i < e->nlabels; i++)
		if (strcmp(e->labels[i], l) == 0)
			return 1;
	return 0;
}

static int
has_addr(const struct ctab_entry *e, const char *a)
{
	size_t	 i;

	for (i = 0; i < e->naddrs; i++)
		if (strcmp(e->addrs[i], a) == 0)
			return 1;
	return 0;
}

START_TEST(test_ctable_parse_141)
{
	struct ctab		 t;
	const struct ctab_entry	*e;
	char			 why[256] = "";

	ck_assert_int_eq(parse(&t, list_141, strlen(list_141), why,
	    sizeof(why)), 0);
	ck_assert_uint_eq(t.n, 2);
	/* sorted by id */
	ck_assert_str_eq(t.e[0].id, ID_A);
	ck_assert_str_eq(t.e[1].id, ID_B);

	ck_assert_ptr_nonnull(e = ctab_byid(&t, ID_B));
	ck_assert_str_eq(e->name, "shop_web_1");
	ck_assert_uint_eq(e->nlabels, 3);
	ck_assert(has_label(e, "com.docker.compose.project=shop"));
	ck_assert(has_label(e, "com.docker.compose.service=web"));
	ck_assert(has_label(e,
	    "maintainer=NGINX Docker Maintainers <docker-maint@nginx.com>"));
	ck_assert_uint_eq(e->naddrs, 1);
	ck_assert_str_eq(e->addrs[0], "172.18.0.2");
	ck_assert_ptr_eq(ctab_byaddr(&t, "172.18.0.2"), e);
	ck_assert_ptr_eq(ctab_byaddr(&t, "::ffff:172.18.0.2"), e);
	ck_assert_ptr_eq(ctab_byaddr(&t, "0:0:0:0:0:ffff:ac12:2"), e);

	ck_assert_ptr_nonnull(e = ctab_byid(&t, ID_A));
	ck_assert_str_eq(e->name, "old_db");
	ck_assert_uint_eq(e->nlabels, 0);
	ck_assert_uint_eq(e->naddrs, 0);

	/* not there: gateways, other ids, short ids, junk */
	ck_assert_ptr_null(ctab_byaddr(&t, "172.18.0.1"));
	ck_assert_ptr_null(ctab_byaddr(&t, ""));
	ck_assert_ptr_null(ctab_byaddr(&t, "172.18.0.2x"));
	ck_assert_ptr_null(ctab_byaddr(&t, NULL));
	ck_assert_ptr_null(ctab_byid(&t, ID_C));
	ck_assert_ptr_null(ctab_byid(&t, "b123456789ab"));
	ck_assert_ptr_null(ctab_byid(&t, ""));
	ck_assert_ptr_null(ctab_byid(&t, NULL));
	ctab_free(&t);
	ck_assert_uint_eq(t.n, 0);
	ck_assert_ptr_null(t.e);
}
END_TEST

START_TEST(test_ctable_parse_new)
{
	struct ctab		 t;
	const struct ctab_entry	*c, *d, *e;

	ck_assert_int_eq(parse_str(&t, list_new), 0);
	ck_assert_uint_eq(t.n, 3);
	ck_assert_ptr_nonnull(c = ctab_byid(&t, ID_C));
	ck_assert_ptr_nonnull(d = ctab_byid(&t, ID_D));
	ck_assert_ptr_nonnull(e = ctab_byid(&t, ID_E));

	ck_assert_str_eq(c->name, "");
	ck_assert_uint_eq(c->nlabels, 0);
	ck_assert_uint_eq(c->naddrs, 4);
	ck_assert(has_addr(c, "10.1.0.7"));
	ck_assert(has_addr(c, "10.2.0.7"));
	ck_assert(has_addr(c, "2001:db8:1::7"));
	ck_assert(has_addr(c, "2001:db8:2::7"));
	ck_assert_uint_eq(t.naddr, 4);

	/* any spelling of an address finds it */
	ck_assert_ptr_eq(ctab_byaddr(&t, "10.1.0.7"), c);
	ck_assert_ptr_eq(ctab_byaddr(&t, "2001:db8:1::7"), c);
	ck_assert_ptr_eq(ctab_byaddr(&t, "2001:0db8:0001:0000:0000:0000:0000:"
	    "0007"), c);
	ck_assert_ptr_eq(ctab_byaddr(&t, "2001:DB8:1:0::7"), c);
	ck_assert_ptr_eq(ctab_byaddr(&t, "2001:db8:2:0:0:0:0:7"), c);
	ck_assert_ptr_null(ctab_byaddr(&t, "2001:db8:3::7"));
	ck_assert_ptr_null(ctab_byaddr(&t, "2001:db8:1::7%eth0"));
	ck_assert_ptr_null(ctab_byaddr(&t, "[2001:db8:1::7]"));
	ck_assert_ptr_null(ctab_byaddr(&t, "10.1.0.07"));

	/* Names [] is no name; a label value may be empty or hold '=' */
	ck_assert_str_eq(d->name, "");
	ck_assert_uint_eq(d->nlabels, 2);
	ck_assert(has_label(d, "a="));
	ck_assert(has_label(d, "b=x=y"));
	ck_assert_uint_eq(d->naddrs, 0);

	/* Names[0] only; NetworkSettings null */
	ck_assert_str_eq(e->name, "e");
	ck_assert_uint_eq(e->naddrs, 0);
	ctab_free(&t);
}
END_TEST

/* An address two containers hold names neither; the others still do. */
START_TEST(test_ctable_shared)
{
	struct ctab		 t;
	const struct ctab_entry	*a, *b;
	const char		*list =
	    "[{\"Id\":\"" ID_A "\",\"NetworkSettings\":{\"Networks\":{"
	    "\"n1\":{\"IPAddress\":\"10.0.0.5\"},"
	    "\"n2\":{\"IPAddress\":\"10.9.0.1\"},"
	    "\"n3\":{\"IPAddress\":\"10.0.0.5\",\"GlobalIPv6Address\":"
	    "\"fd00::5\"}}}},"
	    "{\"Id\":\"" ID_B "\",\"NetworkSettings\":{\"Networks\":{"
	    "\"m1\":{\"IPAddress\":\"10.0.0.6\",\"GlobalIPv6Address\":"
	    "\"fd00:0::5\"},\"m2\":{\"IPAddress\":\"10.0.0.7\"}}}},"
	    "{\"Id\":\"" ID_C "\",\"NetworkSettings\":{\"Networks\":{"
	    "\"k\":{\"IPAddress\":\"10.0.0.5\"}}}}]";

	ck_assert_int_eq(parse_str(&t, list), 0);
	ck_assert_ptr_nonnull(a = ctab_byid(&t, ID_A));
	ck_assert_ptr_nonnull(b = ctab_byid(&t, ID_B));
	/* one container, twice the same address: one address, its own */
	ck_assert_uint_eq(a->naddrs, 3);
	ck_assert_ptr_null(ctab_byaddr(&t, "10.0.0.5"));
	ck_assert_ptr_null(ctab_byaddr(&t, "::ffff:10.0.0.5"));
	ck_assert_ptr_null(ctab_byaddr(&t, "fd00::5"));
	ck_assert_ptr_null(ctab_byaddr(&t, "fd00:0:0::5"));
	ck_assert_ptr_eq(ctab_byaddr(&t, "10.9.0.1"), a);
	ck_assert_ptr_eq(ctab_byaddr(&t, "10.0.0.6"), b);
	ck_assert_ptr_eq(ctab_byaddr(&t, "10.0.0.7"), b);
	/* 10.0.0.5, 10.0.0.6, 10.0.0.7, 10.9.0.1, fd00::5 */
	ck_assert_uint_eq(t.naddr, 5);
	ctab_free(&t);
}
END_TEST

/* Well-formed JSON the table refuses, and malformed JSON. */
static const char *const bad_lists[] = {
	"",
	" ",
	"[",
	"{}",
	"null",
	"\"x\"",
	"[1]",
	"[null]",
	"[[]]",
	"[{}]",
	"[{\"Id\":\"" ID_A "\"},]",
	"[{\"Id\":\"" ID_A "\"}] x",
	"\xef\xbb\xbf[]",
	/* a duplicate member (byte for byte: the daemon's maps may hold
	 * names that fold alike, labels "a" and "A") */
	"[{\"Id\":\"" ID_A "\",\"Id\":\"" ID_B "\"}]",
	/* ids */
	"[{\"Names\":[\"/x\"]}]",
	"[{\"Id\":null}]",
	"[{\"Id\":12}]",
	"[{\"Id\":\"\"}]",
	"[{\"Id\":\"a123\"}]",
	"[{\"Id\":\"" T63 "\"}]",
	"[{\"Id\":\"" ID_A "0\"}]",
	"[{\"Id\":\"A" T63 "\"}]",
	"[{\"Id\":\"g" T63 "\"}]",
	"[{\"Id\":\" " T63 "\"}]",
	"[{\"Id\":\"\\u0000" T63 "\"}]",
	"[{\"Id\":\"sha256:" ID_A "\"}]",
	/* a duplicate id */
	"[{\"Id\":\"" ID_A "\"},{\"Id\":\"" ID_B "\"},{\"Id\":\"" ID_A "\"}]",
	/* names */
	"[{\"Id\":\"" ID_A "\",\"Names\":\"/x\"}]",
	"[{\"Id\":\"" ID_A "\",\"Names\":[7]}]",
	"[{\"Id\":\"" ID_A "\",\"Names\":[null]}]",
	"[{\"Id\":\"" ID_A "\",\"Names\":{}}]",
	"[{\"Id\":\"" ID_A "\",\"Names\":[\"/a\\u0000b\"]}]",
	"[{\"Id\":\"" ID_A "\",\"Names\":[\"/a\",null]}]",
	"[{\"Id\":\"" ID_A "\",\"Names\":[\"/p/alias\",\"/a\",1]}]",
	/* labels */
	"[{\"Id\":\"" ID_A "\",\"Labels\":[\"a=b\"]}]",
	"[{\"Id\":\"" ID_A "\",\"Labels\":\"a=b\"}]",
	"[{\"Id\":\"" ID_A "\",\"Labels\":{\"a\\u0000b\":\"x\"}}]",
	/* networks and addresses */
	"[{\"Id\":\"" ID_A "\",\"NetworkSettings\":[]}]",
	"[{\"Id\":\"" ID_A "\",\"NetworkSettings\":{\"Networks\":[]}}]",
	"[{\"Id\":\"" ID_A "\",\"NetworkSettings\":{\"Networks\":"
	    "{\"n\":\"10.0.0.1\"}}}]",
	"[{\"Id\":\"" ID_A "\",\"NetworkSettings\":{\"Networks\":"
	    "{\"n\":{\"IPAddress\":167772161}}}}]",
	"[{\"Id\":\"" ID_A "\",\"NetworkSettings\":{\"Networks\":"
	    "{\"n\":{\"IPAddress\":\"300.0.0.1\"}}}}]",
	"[{\"Id\":\"" ID_A "\",\"NetworkSettings\":{\"Networks\":"
	    "{\"n\":{\"IPAddress\":\"10.0.0.1/24\"}}}}]",
	"[{\"Id\":\"" ID_A "\",\"NetworkSettings\":{\"Networks\":"
	    "{\"n\":{\"IPAddress\":\" 10.0.0.1\"}}}}]",
	"[{\"Id\":\"" ID_A "\",\"NetworkSettings\":{\"Networks\":"
	    "{\"n\":{\"IPAddress\":\"10.0.0.1\\u0000x\"}}}}]",
	"[{\"Id\":\"" ID_A "\",\"NetworkSettings\":{\"Networks\":"
	    "{\"n\":{\"IPAddress\":\"localhost\"}}}}]",
	"[{\"Id\":\"" ID_A "\",\"NetworkSettings\":{\"Networks\":"
	    "{\"n\":{\"GlobalIPv6Address\":\"fe80::1%eth0\"}}}}]",
	"[{\"Id\":\"" ID_A "\",\"NetworkSettings\":{\"Networks\":"
	    "{\"n\":{\"GlobalIPv6Address\":\"2001:db8::1::2\"}}}}]",
	"[{\"Id\":\"" ID_A "\",\"NetworkSettings\":{\"Networks\":"
	    "{\"n\":{\"GlobalIPv6Address\":\"2001:db8:0000:0000:0000:0000:"
	    "0000:0000:1\"}}}}]",
};

/*
 * Labels a container cannot keep leave it without labels, not the list
 * unreadable: one container (anyone who may create one) must not blind
 * every name and label line.
 */
static const char *unlabelled_lists[] = {
	"[{\"Id\":\"" ID_B "\",\"Labels\":{\"a\":1}}]",
	"[{\"Id\":\"" ID_B "\",\"Labels\":{\"a\":null}}]",
	"[{\"Id\":\"" ID_B "\",\"Labels\":{\"a\":true}}]",
	"[{\"Id\":\"" ID_B "\",\"Labels\":{\"ok\":\"1\",\"a\":\"x\\u0000y\"}}]",
	"[{\"Id\":\"" ID_A "\",\"Names\":[\"/fine\"],\"Labels\":{\"r\":\"w\"}},"
	    "{\"Id\":\"" ID_B "\",\"Labels\":{\"x\":2}}]",
};

START_TEST(test_ctable_unlabelled)
{
	struct ctab			 t;
	const struct ctab_entry		*e;
	char				 why[256] = "";
	const char			*s = unlabelled_lists[_i];

	ck_assert_msg(parse(&t, s, strlen(s), why, sizeof(why)) == 0,
	    "refused: %s: %s", s, why);
	ck_assert_ptr_nonnull(e = ctab_byid(&t, ID_B));
	ck_assert_uint_eq(e->nlabels, 0);
	ck_assert_ptr_null(e->labels);
	if ((e = ctab_byid(&t, ID_A)) != NULL) {
		ck_assert_str_eq(e->name, "fine");
		ck_assert_uint_eq(e->nlabels, 1);
		ck_assert_str_eq(e->labels[0], "r=w");
	}
	ctab_free(&t);
}
END_TEST

/* Labels "a" and "A" are two labels to the daemon, and to us. */
START_TEST(test_ctable_labels_case)
{
	struct ctab			 t;
	const struct ctab_entry		*e;
	char				 why[256] = "";
	const char			*s = "[{\"Id\":\"" ID_A "\",\"id\":\"x\","
	    "\"Labels\":{\"a\":\"x\",\"A\":\"y\"}}]";

	ck_assert_msg(parse(&t, s, strlen(s), why, sizeof(why)) == 0,
	    "refused: %s", why);
	ck_assert_ptr_nonnull(e = ctab_byid(&t, ID_A));
	ck_assert_uint_eq(e->nlabels, 2);
	ck_assert_str_eq(e->labels[0], "a=x");
	ck_assert_str_eq(e->labels[1], "A=y");
	ctab_free(&t);
}
END_TEST

START_TEST(test_ctable_bad_list)
{
	struct ctab	 t;
	char		 why[256] = "";
	const char	*s = bad_lists[_i];

	ck_assert_msg(parse(&t, s, strlen(s), why, sizeof(why)) == -1,
	    "accepted: %s", s);
	ck_assert_msg(why[0] != '\0', "no reason: %s", s);
	ck_assert_uint_eq(t.n, 0);
	ck_assert_ptr_null(t.e);
	ck_assert_ptr_null(t.byaddr);
}
END_TEST

/* Absent, null and empty are no address; a network may be null. */
START_TEST(test_ctable_empty_forms)
{
	struct ctab		 t;
	const struct ctab_entry	*e;
	const char		*list =
	    "[{\"Id\":\"" ID_A "\",\"Names\":null,\"Labels\":{},"
	    "\"NetworkSettings\":{\"Networks\":{\"n\":null,\"m\":{},"
	    "\"o\":{\"IPAddress\":null,\"GlobalIPv6Address\":\"\"}}}},"
	    "{\"Id\":\"" ID_B "\",\"Names\":[\"\"],"
	    "\"NetworkSettings\":{\"Networks\":null}},"
	    "{\"Id\":\"" ID_C "\",\"Names\":[\"noslash\"],"
	    "\"NetworkSettings\":{}}]";

	ck_assert_int_eq(parse_str(&t, list), 0);
	ck_assert_uint_eq(t.n, 3);
	ck_assert_uint_eq(t.naddr, 0);
	ck_assert_ptr_nonnull(e = ctab_byid(&t, ID_A));
	ck_assert_str_eq(e->name, "");
	ck_assert_uint_eq(e->nlabels + e->naddrs, 0);
	ck_assert_str_eq(ctab_byid(&t, ID_B)->name, "");
	ck_assert_str_eq(ctab_byid(&t, ID_C)->name, "noslash");
	ck_assert_ptr_null(ctab_byaddr(&t, "10.0.0.1"));
	ctab_free(&t);

	/* a container linked to: its own name, wherever it is in Names */
	ck_assert_int_eq(parse_str(&t, "[{\"Id\":\"" ID_A "\",\"Names\":"
	    "[\"/app/db\",\"/db\",\"/web/database\"]},{\"Id\":\"" ID_B "\","
	    "\"Names\":[\"/app/other\"]}]"), 0);
	ck_assert_str_eq(ctab_byid(&t, ID_A)->name, "db");
	ck_assert_str_eq(ctab_byid(&t, ID_B)->name, "");
	ctab_free(&t);

	ck_assert_int_eq(parse_str(&t, "[]"), 0);
	ck_assert_uint_eq(t.n, 0);
	ck_assert_ptr_null(ctab_byid(&t, ID_A));
	ck_assert_ptr_null(ctab_byaddr(&t, "10.0.0.1"));
	ctab_free(&t);

	/* into a table that is not empty: refused, and left alone */
	ck_assert_int_eq(parse_str(&t, list), 0);
	ck_assert_int_eq(ctab_parse_list(&t, "[]", 2, NULL, 0), -1);
	ck_assert_uint_eq(t.n, 3);
	ctab_free(&t);
}
END_TEST

/* n containers, each with an address. */
static void
list_of(struct sb *b, size_t n)
{
	char	 id[65];
	size_t	 i;

	sb_init(b);
	sb_add(b, "[");
	for (i = 0; i < n; i++) {
		mkid(id, (unsigned)i);
		sb_add(b, "%s{\"Id\":\"%s\",\"Names\":[\"/c%zu\"],"
		    "\"NetworkSettings\":{\"Networks\":{\"n\":{\"IPAddress\":"
		    "\"10.%zu.%zu.1\"}}}}", i ? "," : "", id, i,
		    i / 256, i % 256);
	}
	sb_add(b, "]");
}

START_TEST(test_ctable_limit_containers)
{
	struct ctab	 t;
	struct sb	 b;
	char		 why[256], id[65];

	list_of(&b, CTAB_MAX_CONTAINERS);
	ck_assert_int_eq(parse(&t, b.s, b.len, why, sizeof(why)), 0);
	ck_assert_uint_eq(t.n, CTAB_MAX_CONTAINERS);
	mkid(id, 4242);
	ck_assert_str_eq(ctab_byid(&t, id)->name, "c4242");
	ck_assert_ptr_eq(ctab_byaddr(&t, "10.16.146.1"), ctab_byid(&t, id));
	ctab_free(&t);
	free(b.s);

	list_of(&b, CTAB_MAX_CONTAINERS + 1);
	ck_assert_int_eq(parse(&t, b.s, b.len, why, sizeof(why)), -1);
	ck_assert_ptr_nonnull(strstr(why, "containers"));
	free(b.s);
}
END_TEST

START_TEST(test_ctable_limit_labels)
{
	struct ctab	 t;
	struct sb	 b;
	char		 why[256];
	int		 n, over;

	for (over = 0; over <= 1; over++) {
		sb_init(&b);
		sb_add(&b, "[{\"Id\":\"%s\",\"Labels\":{", ID_A);
		for (n = 0; n < CTAB_MAX_LABELS + over; n++)
			sb_add(&b, "%s\"l%d\":\"v\"", n ? "," : "", n);
		sb_add(&b, "}}]");
		ck_assert_int_eq(parse(&t, b.s, b.len, why, sizeof(why)), 0);
		if (over)
			ck_assert_uint_eq(t.e[0].nlabels, 0);
		else {
			ck_assert_uint_eq(t.e[0].nlabels, CTAB_MAX_LABELS);
			ck_assert_str_eq(t.e[0].labels[255], "l255=v");
		}
		ctab_free(&t);
		free(b.s);
	}
}
END_TEST

/* "key=value" with its NUL: CTAB_LABEL_MAX, not one byte more. */
START_TEST(test_ctable_limit_label_len)
{
	struct ctab	 t;
	struct sb	 b;
	char		 why[256], *v;
	size_t		 vlen;
	int		 over;

	for (over = 0; over <= 1; over++) {
		/* "k=" and the value and the NUL */
		vlen = CTAB_LABEL_MAX - 3 + over;
		ck_assert_ptr_nonnull(v = malloc(vlen + 1));
		memset(v, 'v', vlen);
		v[vlen] = '\0';
		sb_init(&b);
		sb_add(&b, "[{\"Id\":\"%s\",\"Labels\":{\"k\":\"%s\"}}]", ID_A,
		    v);
		ck_assert_int_eq(parse(&t, b.s, b.len, why, sizeof(why)), 0);
		if (over)
			ck_assert_uint_eq(t.e[0].nlabels, 0);
		else
			ck_assert_uint_eq(strlen(t.e[0].labels[0]),
			    CTAB_LABEL_MAX - 1);
		ctab_free(&t);
		free(b.s);
		/* the same length in the key */
		sb_init(&b);
		sb_add(&b, "[{\"Id\":\"%s\",\"Labels\":{\"%s\":\"k\"}}]", ID_A,
		    v);
		ck_assert_int_eq(parse(&t, b.s, b.len, why, sizeof(why)), 0);
		ck_assert_uint_eq(t.e[0].nlabels, over ? 0 : 1);
		ctab_free(&t);
		free(b.s);
		free(v);
	}
	/* a key alone over the limit */
	vlen = CTAB_LABEL_MAX + 10;
	ck_assert_ptr_nonnull(v = malloc(vlen + 1));
	memset(v, 'k', vlen);
	v[vlen] = '\0';
	sb_init(&b);
	sb_add(&b, "[{\"Id\":\"%s\",\"Labels\":{\"%s\":\"\"}}]", ID_A, v);
	ck_assert_int_eq(parse(&t, b.s, b.len, why, sizeof(why)), 0);
	ck_assert_uint_eq(t.e[0].nlabels, 0);
	ctab_free(&t);
	free(b.s);
	free(v);
}
END_TEST

START_TEST(test_ctable_limit_name)
{
	struct ctab	 t;
	char		 why[256], name[CTAB_NAME_MAX + 2], buf[1024];
	int		 over;

	for (over = 0; over <= 1; over++) {
		memset(name, 'n', sizeof(name));
		name[CTAB_NAME_MAX - 1 + over] = '\0';
		snprintf(buf, sizeof(buf), "[{\"Id\":\"%s\",\"Names\":"
		    "[\"/%s\"]}]", ID_A, name);
		ck_assert_int_eq(parse(&t, buf, strlen(buf), why, sizeof(why)),
		    over ? -1 : 0);
		if (!over)
			ck_assert_str_eq(t.e[0].name, name);
		ctab_free(&t);
	}
}
END_TEST

START_TEST(test_ctable_limit_addrs)
{
	struct ctab	 t;
	struct sb	 b;
	char		 why[256];
	int		 n, over;

	for (over = 0; over <= 1; over++) {
		sb_init(&b);
		sb_add(&b, "[{\"Id\":\"%s\",\"NetworkSettings\":{\"Networks\":{",
		    ID_A);
		/* an IPv4 and an IPv6 address per network */
		for (n = 0; n < CTAB_MAX_ADDRS / 2; n++)
			sb_add(&b, "%s\"n%d\":{\"IPAddress\":\"10.0.%d.2\","
			    "\"GlobalIPv6Address\":\"fd00:%x::2\"}",
			    n ? "," : "", n, n, n);
		if (over)
			sb_add(&b, ",\"x\":{\"IPAddress\":\"10.1.0.2\"}");
		/* the same addresses again count once */
		sb_add(&b, ",\"y\":{\"IPAddress\":\"10.0.0.2\","
		    "\"GlobalIPv6Address\":\"fd00:0:0::2\"}");
		sb_add(&b, "}}}]");
		ck_assert_int_eq(parse(&t, b.s, b.len, why, sizeof(why)),
		    over ? -1 : 0);
		if (!over) {
			ck_assert_uint_eq(t.e[0].naddrs, CTAB_MAX_ADDRS);
			ck_assert_uint_eq(t.naddr, CTAB_MAX_ADDRS);
			ck_assert_ptr_eq(ctab_byaddr(&t, "fd00:f::2"),
			    &t.e[0]);
		}
		ctab_free(&t);
		free(b.s);
	}
}
END_TEST

/* The body's size, and the number of JSON values in it. */
START_TEST(test_ctable_limit_size)
{
	struct ctab	 t;
	char		 why[256], *s;
	size_t		 len, i;

	/* "[]" padded with whitespace to the limit, then one byte more */
	len = CTAB_LIST_MAX + 1;
	ck_assert_ptr_nonnull(s = malloc(len));
	memset(s, ' ', len);
	s[0] = '[';
	s[1] = ']';
	ck_assert_int_eq(parse(&t, s, len - 1, why, sizeof(why)), 0);
	ck_assert_int_eq(parse(&t, s, len, why, sizeof(why)), -1);
	free(s);

	/* one container with an array of CTAB_ITEMS_MAX numbers: the
	 * values in all are more */
	len = 128 + 2 * (size_t)CTAB_ITEMS_MAX;
	ck_assert_ptr_nonnull(s = malloc(len));
	i = (size_t)snprintf(s, len, "[{\"Id\":\"%s\",\"X\":[", ID_A);
	while (i + 8 < len) {
		s[i++] = '0';
		s[i++] = ',';
	}
	memcpy(s + i, "0]}]", 4);
	ck_assert_int_eq(parse(&t, s, i + 4, why, sizeof(why)), -1);
	ck_assert_uint_eq(t.n, 0);
	free(s);
}
END_TEST

static void
roundtrip(const char *list)
{
	struct ctab	 t, u;
	struct mbuf	 mb, rd;
	size_t		 i, j;

	ck_assert_int_eq(parse_str(&t, list), 0);
	mbuf_init(&mb);
	ck_assert_int_eq(ctab_encode(&t, &mb), 0);
	ctab_init(&u);
	mbuf_reader(&rd, mb.buf, mb.len);
	ck_assert_int_eq(ctab_decode(&u, &rd), 0);
	ck_assert_uint_eq(u.n, t.n);
	ck_assert_uint_eq(u.naddr, t.naddr);
	for (i = 0; i < t.n; i++) {
		ck_assert_str_eq(u.e[i].id, t.e[i].id);
		ck_assert_str_eq(u.e[i].name, t.e[i].name);
		ck_assert_uint_eq(u.e[i].nlabels, t.e[i].nlabels);
		for (j = 0; j < t.e[i].nlabels; j++)
			ck_assert_str_eq(u.e[i].labels[j], t.e[i].labels[j]);
		ck_assert_uint_eq(u.e[i].naddrs, t.e[i].naddrs);
		for (j = 0; j < t.e[i].naddrs; j++)
			ck_assert_str_eq(u.e[i].addrs[j], t.e[i].addrs[j]);
	}
	for (i = 0; i < t.naddr; i++) {
		ck_assert_str_eq(u.byaddr[i].addr, t.byaddr[i].addr);
		ck_assert_uint_eq(u.byaddr[i].entry, t.byaddr[i].entry);
		ck_assert_int_eq(u.byaddr[i].shared, t.byaddr[i].shared);
	}
	ctab_free(&u);
	/* every prefix is refused, and so is one byte more */
	for (i = 0; i < mb.len; i++) {
		ctab_init(&u);
		mbuf_reader(&rd, mb.buf, i);
		ck_assert_int_eq(ctab_decode(&u, &rd), -1);
		ck_assert_uint_eq(u.n, 0);
		ck_assert_ptr_null(u.e);
	}
	mbuf_add_u32(&mb, 0);
	ctab_init(&u);
	mbuf_reader(&rd, mb.buf, mb.len - 3);
	ck_assert_int_eq(ctab_decode(&u, &rd), -1);
	mbuf_free(&mb);
	ctab_free(&t);
}

START_TEST(test_ctable_roundtrip)
{
	struct ctab	 t, u;
	struct mbuf	 mb, rd;

	roundtrip(list_141);
	roundtrip(list_new);
	roundtrip("[]");
	roundtrip("[{\"Id\":\"" ID_A "\",\"NetworkSettings\":{\"Networks\":{"
	    "\"n1\":{\"IPAddress\":\"10.0.0.5\"}}}},{\"Id\":\"" ID_B "\","
	    "\"NetworkSettings\":{\"Networks\":{\"n1\":{\"IPAddress\":"
	    "\"10.0.0.5\"}}}}]");

	/* decoding into a table that is not empty */
	ck_assert_int_eq(parse_str(&t, list_141), 0);
	mbuf_init(&mb);
	ck_assert_int_eq(ctab_encode(&t, &mb), 0);
	mbuf_reader(&rd, mb.buf, mb.len);
	ck_assert_int_eq(ctab_decode(&t, &rd), -1);
	ctab_init(&u);
	mbuf_reader(&rd, mb.buf, mb.len);
	ck_assert_int_eq(ctab_decode(&u, &rd), 0);
	ck_assert_ptr_nonnull(ctab_byaddr(&u, "172.18.0.2"));
	ctab_free(&u);
	ctab_free(&t);
	mbuf_free(&mb);
}
END_TEST

/* One entry on the wire: its parts, each replaceable. */
struct wire_entry {
	const char	*id;
	const char	*name;
	size_t		 namelen;	/* 0: strlen */
	uint32_t	 nlabels;
	const char	*labels[2];
	size_t		 label0len;	/* 0: strlen */
	uint32_t	 naddrs;
	const char	*addrs[2];
};

static void
wire_add(struct mbuf *mb, const struct wire_entry *w)
{
	uint32_t	 i;

	mbuf_add_str(mb, w->id);
	mbuf_add_data(mb, w->name, w->namelen ? w->namelen : strlen(w->name));
	mbuf_add_u32(mb, w->nlabels);
	/* both, whatever the counts say */
	for (i = 0; i < 2 && w->labels[i] != NULL; i++)
		mbuf_add_data(mb, w->labels[i], i == 0 && w->label0len ?
		    w->label0len : strlen(w->labels[i]));
	mbuf_add_u32(mb, w->naddrs);
	for (i = 0; i < 2 && w->addrs[i] != NULL; i++)
		mbuf_add_str(mb, w->addrs[i]);
}

static int
wire_decode(uint32_t count, const struct wire_entry *w, size_t n)
{
	struct ctab	 t;
	struct mbuf	 mb, rd;
	size_t		 i;
	int		 rv;

	mbuf_init(&mb);
	mbuf_add_u32(&mb, count);
	for (i = 0; i < n; i++)
		wire_add(&mb, &w[i]);
	ck_assert_int_eq(mb.err, 0);
	ctab_init(&t);
	mbuf_reader(&rd, mb.buf, mb.len);
	rv = ctab_decode(&t, &rd);
	if (rv == -1) {
		ck_assert_uint_eq(t.n, 0);
		ck_assert_ptr_null(t.e);
		ck_assert_ptr_null(t.byaddr);
	}
	ctab_free(&t);
	mbuf_free(&mb);
	return rv;
}

#define GOOD_ENTRY(id)	{ id, "web", 0, 2, { "a=b", "c=" }, 0, 2, \
			    { "10.0.0.1", "2001:db8::1" } }

START_TEST(test_ctable_decode_bad)
{
	struct wire_entry	 w[2] = { GOOD_ENTRY(ID_A), GOOD_ENTRY(ID_B) };
	struct wire_entry	 g = GOOD_ENTRY(ID_A);
	char			 longname[CTAB_NAME_MAX + 1];
	char			 longlabel[CTAB_LABEL_MAX + 1];
	static const char *const badaddr[] = {
		"", "x", "10.0.0.1 ", "2001:DB8::1", "2001:db8:0::1",
		"::ffff:10.0.0.1", "10.0.0.01", "fe80::1%1", "10.0.0.1/8",
	};
	size_t			 i;

	/* the good ones, then one thing wrong at a time */
	ck_assert_int_eq(wire_decode(2, w, 2), 0);
	ck_assert_int_eq(wire_decode(0, w, 0), 0);
	ck_assert_int_eq(wire_decode(3, w, 2), -1);	/* short */
	ck_assert_int_eq(wire_decode(1, w, 2), -1);	/* left over */
	ck_assert_int_eq(wire_decode(CTAB_MAX_CONTAINERS + 1, w, 2), -1);
	ck_assert_int_eq(wire_decode(UINT32_MAX, w, 2), -1);

	/* the ids */
	w[1].id = ID_A;					/* duplicate */
	ck_assert_int_eq(wire_decode(2, w, 2), -1);
	w[1].id = "A" T63;
	ck_assert_int_eq(wire_decode(2, w, 2), -1);
	w[1].id = T63;
	ck_assert_int_eq(wire_decode(2, w, 2), -1);
	w[1].id = ID_B "0";
	ck_assert_int_eq(wire_decode(2, w, 2), -1);
	w[1].id = "";
	ck_assert_int_eq(wire_decode(2, w, 2), -1);
	w[1] = g;
	w[1].id = ID_C;
	ck_assert_int_eq(wire_decode(2, w, 2), 0);

	/* the name */
	memset(longname, 'n', sizeof(longname));
	longname[CTAB_NAME_MAX - 1] = '\0';
	w[1].name = longname;
	ck_assert_int_eq(wire_decode(2, w, 2), 0);
	longname[CTAB_NAME_MAX - 1] = 'n';
	longname[CTAB_NAME_MAX] = '\0';
	ck_assert_int_eq(wire_decode(2, w, 2), -1);
	w[1].name = "a\0b";
	w[1].namelen = 3;
	ck_assert_int_eq(wire_decode(2, w, 2), -1);
	w[1].name = "";
	w[1].namelen = 0;
	ck_assert_int_eq(wire_decode(2, w, 2), 0);

	/* the labels */
	w[1].labels[0] = "nokey";
	ck_assert_int_eq(wire_decode(2, w, 2), -1);
	w[1].labels[0] = "a=b\0c";
	w[1].label0len = 5;
	ck_assert_int_eq(wire_decode(2, w, 2), -1);
	w[1].label0len = 0;
	memset(longlabel, 'l', sizeof(longlabel));
	longlabel[0] = '=';
	longlabel[CTAB_LABEL_MAX - 1] = '\0';
	w[1].labels[0] = longlabel;
	ck_assert_int_eq(wire_decode(2, w, 2), 0);
	longlabel[CTAB_LABEL_MAX - 1] = 'l';
	longlabel[CTAB_LABEL_MAX] = '\0';
	ck_assert_int_eq(wire_decode(2, w, 2), -1);
	w[1].labels[0] = "a=b";
	w[1].nlabels = CTAB_MAX_LABELS + 1;	/* and too few follow */
	ck_assert_int_eq(wire_decode(2, w, 2), -1);
	w[1].nlabels = 3;
	ck_assert_int_eq(wire_decode(2, w, 2), -1);
	w[1].nlabels = 1;			/* the second reads as naddrs */
	ck_assert_int_eq(wire_decode(2, w, 2), -1);
	w[1].nlabels = 0;
	ck_assert_int_eq(wire_decode(2, w, 2), -1);
	w[1] = g;
	w[1].id = ID_C;

	/* the addresses: parse, canonical, once */
	for (i = 0; i < nitems(badaddr); i++) {
		w[1].addrs[1] = badaddr[i];
		ck_assert_msg(wire_decode(2, w, 2) == -1, "took %s",
		    badaddr[i]);
	}
	w[1].addrs[1] = "10.0.0.1";
	ck_assert_int_eq(wire_decode(2, w, 2), -1);
	w[1].addrs[1] = "::1";
	ck_assert_int_eq(wire_decode(2, w, 2), 0);
	w[1].naddrs = CTAB_MAX_ADDRS + 1;
	ck_assert_int_eq(wire_decode(2, w, 2), -1);
	w[1].naddrs = 3;
	ck_assert_int_eq(wire_decode(2, w, 2), -1);
	w[1].naddrs = 1;
	ck_assert_int_eq(wire_decode(2, w, 2), -1);
}
END_TEST

/* CTAB_MAX_LABELS and CTAB_MAX_ADDRS on the wire: at, then over. */
START_TEST(test_ctable_decode_counts)
{
	struct ctab	 t;
	struct mbuf	 mb, rd;
	char		 s[64];
	int		 over, i, what;

	for (what = 0; what < 2; what++) {
		for (over = 0; over <= 1; over++) {
			mbuf_init(&mb);
			mbuf_add_u32(&mb, 1);
			mbuf_add_str(&mb, ID_A);
			mbuf_add_str(&mb, "x");
			if (what == 1)
				mbuf_add_u32(&mb, 0);
			mbuf_add_u32(&mb, (what ? CTAB_MAX_ADDRS :
			    CTAB_MAX_LABELS) + over);
			for (i = 0; i < (what ? CTAB_MAX_ADDRS :
			    CTAB_MAX_LABELS) + over; i++) {
				if (what)
					snprintf(s, sizeof(s), "10.0.0.%d", i);
				else
					snprintf(s, sizeof(s), "l%d=v", i);
				mbuf_add_str(&mb, s);
			}
			if (what == 0)
				mbuf_add_u32(&mb, 0);
			ctab_init(&t);
			mbuf_reader(&rd, mb.buf, mb.len);
			ck_assert_int_eq(ctab_decode(&t, &rd), over ? -1 : 0);
			ctab_free(&t);
			mbuf_free(&mb);
		}
	}
}
END_TEST

/* ctab_index on a table built by hand. */
START_TEST(test_ctable_index)
{
	struct ctab		 t;
	static char		 a1[] = "10.0.0.1", a2[] = "10.0.0.2";
	char			*addrs0[] = { a1 }, *addrs1[] = { a2, a1 };
	struct ctab_entry	 e[2];

	memset(e, 0, sizeof(e));
	strlcpy(e[0].id, ID_B, sizeof(e[0].id));
	strlcpy(e[1].id, ID_A, sizeof(e[1].id));
	e[0].addrs = addrs0;
	e[0].naddrs = 1;
	e[1].addrs = addrs1;
	e[1].naddrs = 2;
	ctab_init(&t);
	t.e = e;
	t.n = 2;
	ck_assert_int_eq(ctab_index(&t), 0);
	ck_assert_str_eq(t.e[0].id, ID_A);
	ck_assert_uint_eq(t.naddr, 2);
	ck_assert_ptr_null(ctab_byaddr(&t, "10.0.0.1"));
	ck_assert_ptr_eq(ctab_byaddr(&t, "10.0.0.2"), &t.e[0]);
	ck_assert_ptr_eq(ctab_byid(&t, ID_B), &t.e[1]);
	/* again: the same */
	ck_assert_int_eq(ctab_index(&t), 0);
	ck_assert_uint_eq(t.naddr, 2);
	strlcpy(t.e[1].id, ID_A, sizeof(t.e[1].id));
	ck_assert_int_eq(ctab_index(&t), -1);
	ck_assert_ptr_null(t.byaddr);
	free(t.byaddr);
}
END_TEST

/* Responses: fed whole, byte by byte and in pieces, the same result. */
struct resp_case {
	const char	*in;
	int		 keep;
	int		 want;		/* 1, 0 (more due), -1 */
	int		 eof;		/* the daemon closes after in */
	const char	*body;		/* 1 (or 0 with keep 0): the data */
};

#define H200	"HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nContent-Type: " \
		"application/json\r\nDocker-Experimental: false\r\n" \
		"Ostype: linux\r\nServer: Docker/20.10.24 (linux)\r\n" \
		"Date: Wed, 02 Dec 2026 17:00:00 GMT\r\n"

static const struct resp_case resp_cases[] = {
	/* the list, as a Go server frames it */
	{ H200 "Content-Length: 3\r\n\r\n[]\n", 1, 1, 0, "[]\n" },
	{ H200 "Content-Length: 3\r\n\r\n[]\n", 1, 1, 1, "[]\n" },
	{ H200 "Content-Length: 0\r\n\r\n", 1, 1, 0, "" },
	{ H200 "Content-Length: 4\r\n\r\n[]\n", 1, 0, 0, NULL },
	{ H200 "Content-Length: 4\r\n\r\n[]\n", 1, -1, 1, NULL },
	{ H200 "Content-Length: 2\r\n\r\n[]\n", 1, -1, 0, NULL },
	{ H200 "Transfer-Encoding: chunked\r\n\r\n"
	    "1\r\n[\r\n2;x=y\r\n]\n\r\n0\r\n\r\n", 1, 1, 0, "[]\n" },
	{ H200 "Transfer-Encoding: chunked\r\n\r\n"
	    "3\r\n[]\n\r\n0\r\n\r\n", 1, 1, 1, "[]\n" },
	{ H200 "Transfer-Encoding: chunked\r\n\r\n"
	    "3\r\n[]\n\r\n0\r\n", 1, 0, 0, NULL },
	{ H200 "Transfer-Encoding: chunked\r\n\r\n"
	    "3\r\n[]\n\r\n0\r\n", 1, -1, 1, NULL },
	{ H200 "Transfer-Encoding: chunked\r\n\r\n"
	    "3\r\n[]\n\r\n0\r\n\r\nX", 1, -1, 0, NULL },
	{ H200 "Transfer-Encoding: chunked\r\n\r\n"
	    "3\r\n[]\nX\r\n0\r\n\r\n", 1, -1, 0, NULL },
	{ H200 "Transfer-Encoding: chunked\r\n\r\n"
	    "0x3\r\n[]\n\r\n0\r\n\r\n", 1, -1, 0, NULL },
	/* HTTP/1.0, no length: to EOF */
	{ "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n[]",
	    1, 1, 1, "[]" },
	{ "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n[]",
	    1, 0, 0, NULL },
	{ "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", 1, 1, 1, "" },
	/* the events stream: counted, never kept, never done */
	{ H200 "Transfer-Encoding: chunked\r\n\r\n", 0, 0, 0, "" },
	{ H200 "Transfer-Encoding: chunked\r\n\r\n"
	    "10\r\n{\"Type\":\"contain\r\n5\r\ner\"}\n\r\n", 0, 0, 0,
	    "{\"Type\":\"container\"}\n" },
	{ H200 "Transfer-Encoding: chunked\r\n\r\n"
	    "10\r\n{\"Type\":\"contain\r\n5\r\ner\"}\n\r\n", 0, -1, 1,
	    NULL },
	{ H200 "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 0, 1, 0, "" },
	/* not 200, or no head */
	{ "HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\n{}", 1, -1, 0,
	    NULL },
	{ "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 2\r\n\r\n",
	    0, -1, 0, NULL },
	{ "HTTP/1.1 204 No Content\r\n\r\n", 1, -1, 0, NULL },
	{ "HTTP/1.1 101 Switching Protocols\r\nUpgrade: tcp\r\n"
	    "Connection: Upgrade\r\n\r\n", 0, -1, 0, NULL },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n",
	    1, -1, 0, NULL },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", 1, -1, 0, NULL },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", 1, -1, 0,
	    NULL },
	{ "HTTP/1.1 200 OK\nContent-Length: 2\n\n[]\r\n\r\n", 1, -1, 0,
	    NULL },
	{ "HTTP/2 200\r\n\r\n", 1, -1, 0, NULL },
	{ "hello\r\n\r\n", 1, -1, 0, NULL },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n", 1, 0, 0, NULL },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n", 1, -1, 1, NULL },
	{ "", 1, 0, 0, NULL },
	{ "", 1, -1, 1, NULL },
	/* over the list's limit, told by the head */
	{ "HTTP/1.1 200 OK\r\nContent-Length: 33554433\r\n\r\n", 1, -1, 0,
	    NULL },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 33554432\r\n\r\n", 1, 0, 0,
	    NULL },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 33554433\r\n\r\n", 0, 0, 0,
	    "" },
};

/* Feed in with step 0 (whole), 1 (byte by byte) or pseudo-random steps. */
static int
resp_run(const struct resp_case *c, int mode, char *body, size_t *bodylen,
    struct ctab_resp *r)
{
	const uint8_t	*in = (const uint8_t *)c->in;
	size_t		 len = strlen(c->in), off = 0, step, nb, total = 0;
	uint32_t	 seed = 12345;
	char		 why[256];
	int		 rv = 0, last;

	ctab_resp_init(r, c->keep);
	do {
		if (mode == 0)
			step = len - off;
		else if (mode == 1)
			step = len - off > 0 ? 1 : 0;
		else {
			seed = seed * 1103515245 + 12345;
			step = (seed >> 16) % 7;
			if (step > len - off)
				step = len - off;
		}
		last = off + step == len;
		why[0] = '\0';
		rv = ctab_resp_feed(r, in + off, step, last && c->eof, &nb,
		    why, sizeof(why));
		ck_assert_uint_le(nb, step);
		total += nb;
		if (rv == -1) {
			ck_assert(why[0] != '\0');
			ck_assert_int_eq(r->state, CTAB_RESP_ERROR);
			return -1;
		}
		off += step;
		if (rv == 1)
			ck_assert_int_eq(r->state, CTAB_RESP_DONE);
	} while (off < len);
	*bodylen = total;
	ck_assert_uint_eq(total, r->seen);
	if (r->keep_body) {
		ck_assert_uint_eq(r->bodylen, total);
		if (total > 0)
			memcpy(body, r->body, total);
	} else
		ck_assert_ptr_null(r->body);
	return rv;
}

START_TEST(test_ctable_resp)
{
	const struct resp_case	*c = &resp_cases[_i];
	struct ctab_resp	 r;
	char			 body[4096];
	size_t			 bodylen;
	int			 mode, rv;
	uint8_t			 x = 'x';
	char			 why[128];

	for (mode = 0; mode < 3; mode++) {
		rv = resp_run(c, mode, body, &bodylen, &r);
		ck_assert_msg(rv == c->want, "case %d mode %d: %d, not %d",
		    _i, mode, rv, c->want);
		if (rv != -1 && c->body != NULL) {
			ck_assert_uint_eq(bodylen, strlen(c->body));
			if (c->keep)
				ck_assert(memcmp(body, c->body, bodylen) == 0);
		}
		if (rv == -1) {
			/* sticky */
			ck_assert_int_eq(ctab_resp_feed(&r, &x, 0, 0, &bodylen,
			    why, sizeof(why)), -1);
		} else if (rv == 1) {
			/* done: EOF is fine, more bytes are not */
			ck_assert_int_eq(ctab_resp_feed(&r, &x, 0, 1, &bodylen,
			    why, sizeof(why)), 1);
			ck_assert_int_eq(ctab_resp_feed(&r, &x, 1, 0, &bodylen,
			    why, sizeof(why)), -1);
		}
		ctab_resp_free(&r);
		ck_assert_ptr_null(r.body);
		ck_assert_ptr_null(r.head);
		ck_assert_int_eq(r.keep_body, c->keep);
	}
}
END_TEST

/* The state says when the events head is in; newbody only data. */
START_TEST(test_ctable_resp_events)
{
	struct ctab_resp	 r;
	const char		*head = H200 "Transfer-Encoding: chunked\r\n\r\n";
	const char		*ev = "5\r\nhello\r\n";
	char			 why[128];
	size_t			 nb, i;

	ctab_resp_init(&r, 0);
	ck_assert_int_eq(r.state, CTAB_RESP_HEAD);
	ck_assert_int_eq(ctab_resp_feed(&r, (const uint8_t *)head,
	    strlen(head) - 1, 0, &nb, why, sizeof(why)), 0);
	ck_assert_int_eq(r.state, CTAB_RESP_HEAD);
	ck_assert_int_eq(ctab_resp_feed(&r, (const uint8_t *)"\n", 1, 0, &nb,
	    why, sizeof(why)), 0);
	ck_assert_int_eq(r.state, CTAB_RESP_BODY);
	ck_assert_uint_eq(nb, 0);
	/* a day of events: counted, nothing kept */
	for (i = 0; i < 10000; i++) {
		ck_assert_int_eq(ctab_resp_feed(&r, (const uint8_t *)ev,
		    strlen(ev), 0, &nb, why, sizeof(why)), 0);
		ck_assert_uint_eq(nb, 5);
	}
	/* framing bytes alone bring no body */
	ck_assert_int_eq(ctab_resp_feed(&r, (const uint8_t *)"5\r\n", 3, 0,
	    &nb, why, sizeof(why)), 0);
	ck_assert_uint_eq(nb, 0);
	ck_assert_int_eq(ctab_resp_feed(&r, (const uint8_t *)"a", 1, 0, &nb,
	    why, sizeof(why)), 0);
	ck_assert_uint_eq(nb, 1);
	ck_assert_uint_eq(r.seen, 50001);
	ck_assert_ptr_null(r.body);
	ck_assert_uint_eq(r.bodylen, 0);
	/* Docker went away */
	ck_assert_int_eq(ctab_resp_feed(&r, NULL, 0, 1, &nb, why,
	    sizeof(why)), -1);
	ctab_resp_free(&r);
}
END_TEST

/* A head over HTTP_HEAD_MAX; a head just at it. */
START_TEST(test_ctable_resp_head_max)
{
	struct ctab_resp	 r;
	char			*h, why[128];
	const char		*start = "HTTP/1.1 200 OK\r\nContent-Length: 0"
				    "\r\nX-Pad: ";
	size_t			 nb, pad;
	int			 over;

	ck_assert_ptr_nonnull(h = malloc(HTTP_HEAD_MAX + 2));
	for (over = 0; over <= 1; over++) {
		pad = HTTP_HEAD_MAX - strlen(start) - 4 + over;
		memcpy(h, start, strlen(start));
		memset(h + strlen(start), 'p', pad);
		memcpy(h + strlen(start) + pad, "\r\n\r\n", 4);
		ctab_resp_init(&r, 1);
		ck_assert_int_eq(ctab_resp_feed(&r, (const uint8_t *)h,
		    HTTP_HEAD_MAX + over, 0, &nb, why, sizeof(why)),
		    over ? -1 : 1);
		ctab_resp_free(&r);
	}
	free(h);
}
END_TEST

/* A chunked list over CTAB_LIST_MAX; and one at it, parsed. */
START_TEST(test_ctable_resp_list_max)
{
	struct ctab_resp	 r;
	struct ctab		 t;
	const char		*head = "HTTP/1.1 200 OK\r\n"
				    "Transfer-Encoding: chunked\r\n\r\n";
	char			 line[32], why[128];
	uint8_t			*blk;
	size_t			 nb, blen = 1024 * 1024, sent;
	int			 over, rv;

	ck_assert_ptr_nonnull(blk = malloc(blen));
	memset(blk, ' ', blen);
	for (over = 0; over <= 1; over++) {
		ctab_resp_init(&r, 1);
		ck_assert_int_eq(ctab_resp_feed(&r, (const uint8_t *)head,
		    strlen(head), 0, &nb, why, sizeof(why)), 0);
		snprintf(line, sizeof(line), "2\r\n[]\r\n");
		ck_assert_int_eq(ctab_resp_feed(&r, (const uint8_t *)line,
		    strlen(line), 0, &nb, why, sizeof(why)), 0);
		rv = 0;
		for (sent = 2; sent < CTAB_LIST_MAX + (size_t)over &&
		    rv == 0; sent += blen) {
			if (CTAB_LIST_MAX + (size_t)over - sent < blen)
				blen = CTAB_LIST_MAX + over - sent;
			snprintf(line, sizeof(line), "%zx\r\n", blen);
			rv = ctab_resp_feed(&r, (const uint8_t *)line,
			    strlen(line), 0, &nb, why, sizeof(why));
			if (rv == 0)
				rv = ctab_resp_feed(&r, blk, blen, 0, &nb, why,
				    sizeof(why));
			if (rv == 0)
				rv = ctab_resp_feed(&r, (const uint8_t *)"\r\n",
				    2, 0, &nb, why, sizeof(why));
		}
		if (over) {
			ck_assert_int_eq(rv, -1);
			ck_assert_ptr_nonnull(strstr(why, "over"));
		} else {
			ck_assert_int_eq(rv, 0);
			ck_assert_int_eq(ctab_resp_feed(&r,
			    (const uint8_t *)"0\r\n\r\n", 5, 1, &nb, why,
			    sizeof(why)), 1);
			ck_assert_uint_eq(r.bodylen, CTAB_LIST_MAX);
			ck_assert_int_eq(parse(&t, (const char *)r.body,
			    r.bodylen, why, sizeof(why)), 0);
			ck_assert_uint_eq(t.n, 0);
			ctab_free(&t);
		}
		ctab_resp_free(&r);
		blen = 1024 * 1024;
	}
	free(blk);
}
END_TEST

/* The whole path: a response in pieces, its body parsed. */
START_TEST(test_ctable_resp_list)
{
	struct ctab_resp	 r;
	struct ctab		 t;
	struct sb		 b;
	char			 why[128];
	size_t			 nb, off, n, len = strlen(list_141);
	int			 rv = 0;

	sb_init(&b);
	sb_add(&b, H200 "Transfer-Encoding: chunked\r\n\r\n");
	for (off = 0; off < len; off += n) {
		n = len - off < 700 ? len - off : 700;
		sb_add(&b, "%zx\r\n%.*s\r\n", n, (int)n, list_141 + off);
	}
	sb_add(&b, "0\r\n\r\n");
	ctab_resp_init(&r, 1);
	for (off = 0; off < b.len && rv == 0; off += n) {
		n = b.len - off < 13 ? b.len - off : 13;
		rv = ctab_resp_feed(&r, (const uint8_t *)b.s + off, n, 0, &nb,
		    why, sizeof(why));
	}
	ck_assert_int_eq(rv, 1);
	ck_assert_uint_eq(off, b.len);
	ck_assert_uint_eq(r.bodylen, len);
	ck_assert(memcmp(r.body, list_141, len) == 0);
	ck_assert_int_eq(parse(&t, (const char *)r.body, r.bodylen, why,
	    sizeof(why)), 0);
	ck_assert_str_eq(ctab_byaddr(&t, "172.18.0.2")->name, "shop_web_1");
	ctab_free(&t);
	ctab_resp_free(&r);
	free(b.s);
}
END_TEST

Suite *
ctable_suite(void)
{
	Suite	*s = suite_create("ctable");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_ctable_parse_141);
	tcase_add_test(tc, test_ctable_parse_new);
	tcase_add_test(tc, test_ctable_shared);
	tcase_add_loop_test(tc, test_ctable_unlabelled, 0,
	    sizeof(unlabelled_lists) / sizeof(unlabelled_lists[0]));
	tcase_add_test(tc, test_ctable_labels_case);
	tcase_add_loop_test(tc, test_ctable_bad_list, 0,
	    (int)nitems(bad_lists));
	tcase_add_test(tc, test_ctable_empty_forms);
	tcase_add_test(tc, test_ctable_limit_containers);
	tcase_add_test(tc, test_ctable_limit_labels);
	tcase_add_test(tc, test_ctable_limit_label_len);
	tcase_add_test(tc, test_ctable_limit_name);
	tcase_add_test(tc, test_ctable_limit_addrs);
	tcase_add_test(tc, test_ctable_limit_size);
	tcase_add_test(tc, test_ctable_roundtrip);
	tcase_add_test(tc, test_ctable_decode_bad);
	tcase_add_test(tc, test_ctable_decode_counts);
	tcase_add_test(tc, test_ctable_index);
	tcase_add_loop_test(tc, test_ctable_resp, 0,
	    (int)nitems(resp_cases));
	tcase_add_test(tc, test_ctable_resp_events);
	tcase_add_test(tc, test_ctable_resp_head_max);
	tcase_add_test(tc, test_ctable_resp_list_max);
	tcase_add_test(tc, test_ctable_resp_list);
	suite_add_tcase(s, tc);
	return s;
}
