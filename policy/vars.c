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
 * The built-in %VARIABLES% of CetusGuard's rule language and their
 * expansion.  Each definition accepts exactly the strings CetusGuard's
 * does (its rule_test.go tables are our test tables too), written for
 * PCRE2 and for our own reading: the Docker API path grammar, the
 * distribution reference grammar for images, RFC 1123 host names.
 */

#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "vars.h"

/* Every section of the Docker API has one prefix variable. */
#define DOCKER(name, path)	{ "API_PREFIX_" name, "%API_PREFIX%/" path }
/* Podman's own API, which always carries the version. */
#define LIBPOD(name, path)	{ "API_PREFIX_LIBPOD_" name,		\
				    "%API_PREFIX_LIBPOD%/" path }

const struct rules_var rules_vars[] = {
	/* Hosts: RFC 1123 labels, IPv4 and bracketed IPv6 with a zone. */
	{ "_DOMAIN_LABEL",
	    "(?:[0-9A-Za-z](?:[-0-9A-Za-z]{0,61}[0-9A-Za-z])?)" },
	{ "DOMAIN",	"(?:%_DOMAIN_LABEL%(?:\\.%_DOMAIN_LABEL%)*)" },
	{ "IPV4",
	    "(?:[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3})" },
	{ "IPV6",	"(?:\\[[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}"
			    "(?:%[0-9A-Za-z_]+)?\\])" },
	{ "IP",		"(?:%IPV4%|%IPV6%)" },
	{ "DOMAIN_OR_IP", "(?:%DOMAIN%|%IP%)" },
	{ "HOST",	"(?:%DOMAIN_OR_IP%(?::[0-9]+)?)" },

	/*
	 * Docker takes any unique prefix of an object id, so an id is any
	 * run of hex digits; names are Docker's [a-zA-Z0-9][a-zA-Z0-9_.-]+.
	 */
	{ "_OBJECT_ID",		"(?:[0-9A-Fa-f]+)" },
	{ "_OBJECT_NAME",	"(?:[0-9A-Za-z][-0-9A-Za-z_.]+)" },

	/* Images: the distribution reference grammar, either case. */
	{ "IMAGE_ID",		"%_OBJECT_ID%" },
	{ "IMAGE_COMPONENT",
	    "(?:[0-9A-Za-z]+(?:(?:[._]|__|-+)[0-9A-Za-z]+)*)" },
	{ "IMAGE_TAG",		"(?:[0-9A-Za-z_][-0-9A-Za-z_.]{0,127})" },
	{ "IMAGE_DIGEST",	"(?:[A-Za-z][0-9A-Za-z]*"
				    "(?:[-_.+][A-Za-z][0-9A-Za-z]*)*"
				    ":[0-9A-Fa-f]{32,})" },
	{ "IMAGE_NAME",
	    "(?:(?:%HOST%/)?%IMAGE_COMPONENT%(?:/%IMAGE_COMPONENT%)*)" },
	{ "IMAGE_REFERENCE",
	    "(?:%IMAGE_NAME%(?::%IMAGE_TAG%)?(?:@%IMAGE_DIGEST%)?)" },
	{ "IMAGE_ID_OR_REFERENCE", "(?:%IMAGE_ID%|%IMAGE_REFERENCE%)" },

	{ "CONTAINER_ID",	"%_OBJECT_ID%" },
	{ "CONTAINER_NAME",	"%_OBJECT_NAME%" },
	{ "CONTAINER_ID_OR_NAME", "(?:%CONTAINER_ID%|%CONTAINER_NAME%)" },

	{ "VOLUME_ID",		"%_OBJECT_ID%" },
	{ "VOLUME_NAME",	"%_OBJECT_NAME%" },
	{ "VOLUME_ID_OR_NAME",	"(?:%VOLUME_ID%|%VOLUME_NAME%)" },

	/* Docker lets a network name be anything but a slash. */
	{ "NETWORK_ID",		"%_OBJECT_ID%" },
	{ "NETWORK_NAME",	"(?:[^/]+)" },
	{ "NETWORK_ID_OR_NAME",	"(?:%NETWORK_ID%|%NETWORK_NAME%)" },

	/* Plugins are named like images, without tag or digest. */
	{ "PLUGIN_ID",		"%_OBJECT_ID%" },
	{ "PLUGIN_NAME",	"%IMAGE_NAME%" },
	{ "PLUGIN_ID_OR_NAME",	"(?:%PLUGIN_ID%|%PLUGIN_NAME%)" },

	/* Docker's router takes /v<version> before every path, or none. */
	{ "_API_VERSION",	"(?:/v[0-9]+(?:\\.[0-9]+)*)" },
	{ "API_PREFIX",		"(?:%_API_VERSION%)?" },
	DOCKER("AUTH",		"auth"),
	DOCKER("BUILD",		"build"),
	DOCKER("COMMIT",	"commit"),
	DOCKER("CONFIGS",	"configs"),
	DOCKER("CONTAINERS",	"containers"),
	DOCKER("DEBUG",		"debug"),
	DOCKER("DISTRIBUTION",	"distribution"),
	DOCKER("EVENTS",	"events"),
	DOCKER("EXEC",		"exec"),
	DOCKER("GRPC",		"grpc"),
	DOCKER("IMAGES",	"images"),
	DOCKER("INFO",		"info"),
	DOCKER("NETWORKS",	"networks"),
	DOCKER("NODES",		"nodes"),
	DOCKER("PING",		"_ping"),
	DOCKER("PLUGINS",	"plugins"),
	DOCKER("SECRETS",	"secrets"),
	DOCKER("SERVICES",	"services"),
	DOCKER("SESSION",	"session"),
	DOCKER("SWARM",		"swarm"),
	DOCKER("SYSTEM",	"system"),
	DOCKER("TASKS",		"tasks"),
	DOCKER("VERSION",	"version"),
	DOCKER("VOLUMES",	"volumes"),

	{ "API_PREFIX_LIBPOD",	"%_API_VERSION%/libpod" },
	LIBPOD("BUILD",		"build"),
	LIBPOD("COMMIT",	"commit"),
	LIBPOD("CONTAINERS",	"containers"),
	LIBPOD("EVENTS",	"events"),
	LIBPOD("EXEC",		"exec"),
	LIBPOD("GENERATE",	"generate"),
	LIBPOD("IMAGES",	"images"),
	LIBPOD("INFO",		"info"),
	LIBPOD("MANIFESTS",	"manifests"),
	LIBPOD("NETWORKS",	"networks"),
	LIBPOD("PING",		"_ping"),
	LIBPOD("PLAY",		"play"),
	LIBPOD("PODS",		"pods"),
	LIBPOD("SECRETS",	"secrets"),
	LIBPOD("SYSTEM",	"system"),
	LIBPOD("VERSION",	"version"),
	LIBPOD("VOLUMES",	"volumes"),
};

const size_t rules_nvars = sizeof(rules_vars) / sizeof(rules_vars[0]);

struct vbuf {
	char	*s;
	size_t	 len;
	size_t	 cap;
};

static const char	*vars_lookup(const struct rules_var *, size_t,
			    const char *, size_t);
static int		 vbuf_add(struct vbuf *, const char *, size_t);
static int		 vars_expand1(const struct rules_var *, size_t,
			    const char *, size_t, int, struct vbuf *,
			    struct vars_error *);

/*
 * A reference is %NAME% with NAME upper-case letters, digits and '_', not
 * starting with a digit.  Anything else keeps its '%' literally, as in
 * CetusGuard; so do "%41%" and "%C3%A9", which are percent-encodings
 * that happen to be followed by another one, not names.
 */
size_t
vars_reference(const char *s, size_t len)
{
	size_t	 i;

	if (len < 3 || s[0] != '%')
		return 0;
	if (!((s[1] >= 'A' && s[1] <= 'Z') || s[1] == '_'))
		return 0;
	for (i = 2; i < len; i++) {
		if (s[i] == '%')
			break;
		if (!((s[i] >= 'A' && s[i] <= 'Z') || s[i] == '_' ||
		    (s[i] >= '0' && s[i] <= '9')))
			return 0;
	}
	if (i == len)
		return 0;
	if (i == 3 && strchr("ABCDEF", s[1]) != NULL &&
	    strchr("0123456789ABCDEF", s[2]) != NULL)
		return 0;
	return i + 1;
}

static const char *
vars_lookup(const struct rules_var *table, size_t n, const char *name,
    size_t len)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (strncmp(table[i].name, name, len) == 0 &&
		    table[i].name[len] == '\0')
			return table[i].value;
	return NULL;
}

/* Returns 0, -1 when out of memory or -2 past VARS_EXPANDED_MAX. */
static int
vbuf_add(struct vbuf *b, const char *s, size_t len)
{
	char	*p;
	size_t	 cap;

	if (len > VARS_EXPANDED_MAX - b->len)
		return -2;
	if (b->len + len + 1 > b->cap) {
		cap = b->cap == 0 ? 256 : b->cap;
		while (cap < b->len + len + 1)
			cap *= 2;
		if ((p = realloc(b->s, cap)) == NULL)
			return -1;
		b->s = p;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, len);
	b->len += len;
	b->s[b->len] = '\0';
	return 0;
}

/*
 * Definitions are expanded on their own, never re-scanned together with
 * the text around them, so a '%' in a definition (IPV6's zone) cannot
 * pair up with one in the pattern.  Errors deeper down are reported at
 * the reference in the pattern as written (depth 0).
 */
static int
vars_expand1(const struct rules_var *table, size_t n, const char *s,
    size_t len, int depth, struct vbuf *b, struct vars_error *err)
{
	const char	*value;
	size_t		 i, j, ref;
	int		 rc;

	for (i = 0; i < len; i = j) {
		if ((ref = vars_reference(s + i, len - i)) > 0) {
			j = i + ref;
			if ((value = vars_lookup(table, n, s + i + 1,
			    ref - 2)) == NULL)
				err->why = "unknown variable";
			else if (depth >= VARS_DEPTH_MAX)
				err->why = "variables nested too deeply";
			else if (vars_expand1(table, n, value, strlen(value),
			    depth + 1, b, err) == 0)
				continue;
			if (depth == 0) {
				err->offset = i;
				err->length = ref;
			}
			return -1;
		}
		for (j = i + 1; j < len && s[j] != '%'; j++)
			;
		if ((rc = vbuf_add(b, s + i, j - i)) != 0) {
			err->why = rc == -1 ? "out of memory" :
			    "pattern too long after expansion";
			if (depth == 0) {
				err->offset = i;
				err->length = j - i;
			}
			return -1;
		}
	}
	return 0;
}

char *
vars_expand(const struct rules_var *table, size_t n, const char *pattern,
    size_t len, struct vars_error *err)
{
	struct vbuf	 b = { NULL, 0, 0 };

	memset(err, 0, sizeof(*err));
	if (vbuf_add(&b, "", 0) == -1 ||
	    vars_expand1(table, n, pattern, len, 0, &b, err) == -1) {
		if (err->why == NULL)
			err->why = "out of memory";
		free(b.s);
		return NULL;
	}
	return b.s;
}
