/*
 * Unit tests for policy/vars.c: what every built-in %VARIABLE% accepts and
 * rejects (CetusGuard's rule_test.go tables, plus edge cases), matched
 * through a real rule so that the PCRE2 options are the ones in use, and
 * the expander's references, errors and recursion guard.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "policy.h"
#include "vars.h"

#define H32	"09c731d73926315908778730f9e60686"
#define H64	H32 "4fb72f1523d5c1c81c02dc51563885ba"
#define L63	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"	\
		"aaaaaaaaaaaaaaaaaaaaaaa"
#define T128	L63 L63 "aa"

/* The definition of the built-in variable name (without the %), or NULL. */
static const char *
var_def(const char *name)
{
	size_t	 i;

	for (i = 0; i < rules_nvars; i++)
		if (strcmp(rules_vars[i].name, name) == 0)
			return rules_vars[i].value;
	return NULL;
}

/* pattern expanded through the built-in table, as the rules loader does. */
static char *
vexpand(const char *pattern, const char **why)
{
	struct vars_error	 err;
	char			*s;

	s = vars_expand(rules_vars, rules_nvars, pattern, strlen(pattern),
	    &err);
	if (s == NULL)
		*why = err.why;
	return s;
}

struct vcase {
	const char	*var;
	const char	*input;
	int		 want;
};

static const struct vcase vcases[] = {
	{ "_DOMAIN_LABEL", "a", 1 },
	{ "_DOMAIN_LABEL", "a-0", 1 },
	{ "_DOMAIN_LABEL", "a.b", 0 },
	{ "_DOMAIN_LABEL", "-a", 0 },

	{ "DOMAIN", "", 0 },
	{ "DOMAIN", "l", 1 },
	{ "DOMAIN", "localhost", 1 },
	{ "DOMAIN", "-localhost", 0 },
	{ "DOMAIN", "localhost-", 0 },
	{ "DOMAIN", "sub.example.test", 1 },
	{ "DOMAIN", "sub.-example.test", 0 },
	{ "DOMAIN", "sub.example-.test", 0 },
	{ "DOMAIN", "001.test", 1 },
	{ "DOMAIN", "xn--7o8h.test", 1 },
	{ "DOMAIN", "a.a.a.a.a.a.a", 1 },
	{ "DOMAIN", "a.a.a...a.a.a", 0 },
	{ "DOMAIN", "example.test.", 0 },
	{ "DOMAIN", ".example.test", 0 },
	{ "DOMAIN", L63 ".test", 1 },
	{ "DOMAIN", L63 "a.test", 0 },
	{ "DOMAIN", "a_b.test", 0 },
	{ "DOMAIN", "UPPER.Test", 1 },
	{ "DOMAIN", "localhost:5000", 0 },

	{ "IPV4", "", 0 },
	{ "IPV4", "0", 0 },
	{ "IPV4", "0.0", 0 },
	{ "IPV4", "0.0.0.0.0", 0 },
	{ "IPV4", "0.0.0.0", 1 },
	{ "IPV4", "255.255.255.255", 1 },
	/* CetusGuard checks the shape only */
	{ "IPV4", "999.999.999.999", 1 },
	{ "IPV4", "1111.0.0.0", 0 },
	{ "IPV4", "1.2.3.", 0 },
	{ "IPV4", "a.b.c.d", 0 },
	{ "IPV4", "127.0.0.1:80", 0 },

	{ "IPV6", "", 0 },
	{ "IPV6", "::", 0 },
	{ "IPV6", "::1", 0 },
	{ "IPV6", "[]", 0 },
	{ "IPV6", "[::]", 1 },
	{ "IPV6", "[::1]", 1 },
	{ "IPV6", "[f:f:f:f:f:f:f:f]", 1 },
	{ "IPV6", "[f:f:f:f:f:f:f:x]", 0 },
	{ "IPV6", "[f:f:f:f:f:f:f:f:f]", 0 },
	{ "IPV6", "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]", 1 },
	{ "IPV6", "[FFFF::0]", 1 },
	{ "IPV6", "[12345::]", 0 },
	/* a zone is written after a literal '%' ... */
	{ "IPV6", "[fe80::1%eth0]", 1 },
	/* ... so its percent-encoding (kept as is by canon.c) passes too */
	{ "IPV6", "[fe80::1%25eth0]", 1 },
	{ "IPV6", "[fe80::1%]", 0 },
	{ "IPV6", "[fe80::1%eth-0]", 0 },
	{ "IPV6", "[fe80::1]%eth0", 0 },
	/* no dotted quad: IPv4-mapped addresses only in hex */
	{ "IPV6", "[::ffff:192.0.2.1]", 0 },
	{ "IPV6", "[::ffff:c000:201]", 1 },

	{ "IP", "127.0.0.1", 1 },
	{ "IP", "[::1]", 1 },
	{ "IP", "localhost", 0 },
	{ "IP", "::1", 0 },
	{ "IP", "", 0 },

	{ "DOMAIN_OR_IP", "localhost", 1 },
	{ "DOMAIN_OR_IP", "127.0.0.1", 1 },
	{ "DOMAIN_OR_IP", "[::1]", 1 },
	{ "DOMAIN_OR_IP", "-x", 0 },
	{ "DOMAIN_OR_IP", "", 0 },
	{ "DOMAIN_OR_IP", "localhost:2375", 0 },

	{ "HOST", "", 0 },
	{ "HOST", "localhost", 1 },
	{ "HOST", "localhost:", 0 },
	{ "HOST", "localhost:2375", 1 },
	{ "HOST", "localhost:aaaa", 0 },
	{ "HOST", "sub.example.test", 1 },
	{ "HOST", "sub.example.test:", 0 },
	{ "HOST", "sub.example.test:2375", 1 },
	{ "HOST", "sub.example.test:aaaa", 0 },
	{ "HOST", "127.0.0.1", 1 },
	{ "HOST", "127.0.0.1:", 0 },
	{ "HOST", "127.0.0.1:2375", 1 },
	{ "HOST", "127.0.0.1:aaaa", 0 },
	{ "HOST", "[::1]", 1 },
	{ "HOST", "[::1]:", 0 },
	{ "HOST", "[::1]:2375", 1 },
	{ "HOST", "[::1]:aaaa", 0 },
	{ "HOST", "[fe80::1%eth0]:2375", 1 },
	{ "HOST", "localhost:2375:1", 0 },
	{ "HOST", "localhost/", 0 },

	{ "_OBJECT_ID", "", 0 },
	{ "_OBJECT_ID", "0123456789abcdef", 1 },
	{ "_OBJECT_ID", "0123456789x", 0 },
	{ "_OBJECT_ID", "ABCDEF", 1 },
	{ "_OBJECT_ID", "a", 1 },
	{ "_OBJECT_ID", H64, 1 },

	{ "_OBJECT_NAME", "", 0 },
	{ "_OBJECT_NAME", "x", 0 },
	{ "_OBJECT_NAME", "x0", 1 },
	{ "_OBJECT_NAME", "0x", 1 },
	{ "_OBJECT_NAME", "xx", 1 },
	{ "_OBJECT_NAME", "xx_.-", 1 },
	{ "_OBJECT_NAME", "-xx", 0 },
	{ "_OBJECT_NAME", "_xx", 0 },
	{ "_OBJECT_NAME", ".xx", 0 },
	{ "_OBJECT_NAME", "busybox", 1 },
	{ "_OBJECT_NAME", "a/b", 0 },
	{ "_OBJECT_NAME", "a b", 0 },
	{ "_OBJECT_NAME", "a:b", 0 },

	{ "_API_VERSION", "", 0 },
	{ "_API_VERSION", "/v", 0 },
	{ "_API_VERSION", "/v1", 1 },
	{ "_API_VERSION", "/v1.43", 1 },
	{ "_API_VERSION", "/v1.43/", 0 },

	/* Docker's ids, or any unique prefix of one; not "sha256:..." */
	{ "IMAGE_ID", "", 0 },
	{ "IMAGE_ID", "0123abcd", 1 },
	{ "IMAGE_ID", H64, 1 },
	{ "IMAGE_ID", "sha256:" H64, 0 },
	{ "IMAGE_ID", "xyz", 0 },

	{ "IMAGE_COMPONENT", "", 0 },
	{ "IMAGE_COMPONENT", "busybox", 1 },
	{ "IMAGE_COMPONENT", "foo.bar", 1 },
	{ "IMAGE_COMPONENT", "foo..bar", 0 },
	{ "IMAGE_COMPONENT", "foo_bar", 1 },
	{ "IMAGE_COMPONENT", "foo__bar", 1 },
	{ "IMAGE_COMPONENT", "foo___bar", 0 },
	{ "IMAGE_COMPONENT", "foo-bar", 1 },
	{ "IMAGE_COMPONENT", "foo---bar", 1 },
	{ "IMAGE_COMPONENT", "foo._bar", 0 },
	{ "IMAGE_COMPONENT", "-foo", 0 },
	{ "IMAGE_COMPONENT", "foo-", 0 },
	{ "IMAGE_COMPONENT", "foo.", 0 },
	{ "IMAGE_COMPONENT", "a/b", 0 },
	/* CetusGuard takes upper case, which Docker then refuses itself */
	{ "IMAGE_COMPONENT", "BusyBox", 1 },

	{ "IMAGE_TAG", "", 0 },
	{ "IMAGE_TAG", "l", 1 },
	{ "IMAGE_TAG", "latest", 1 },
	{ "IMAGE_TAG", "_x", 1 },
	{ "IMAGE_TAG", "v1.0-rc_1", 1 },
	{ "IMAGE_TAG", "-latest", 0 },
	{ "IMAGE_TAG", ".latest", 0 },
	{ "IMAGE_TAG", T128, 1 },
	{ "IMAGE_TAG", T128 "a", 0 },
	{ "IMAGE_TAG", "a:b", 0 },

	{ "IMAGE_DIGEST", "sha256:" H64, 1 },
	{ "IMAGE_DIGEST", "sha256:" H32, 1 },
	{ "IMAGE_DIGEST", "sha256:09c731d73926315908778730f9e6068", 0 },
	{ "IMAGE_DIGEST", "sha256", 0 },
	{ "IMAGE_DIGEST", "sha256:", 0 },
	{ "IMAGE_DIGEST", "sha256:x", 0 },
	{ "IMAGE_DIGEST", "sha256-:" H64, 0 },
	{ "IMAGE_DIGEST", "sha256-test:" H64, 1 },
	{ "IMAGE_DIGEST", "sha256--test:" H64, 0 },
	{ "IMAGE_DIGEST", "sha256-0test:" H64, 0 },
	{ "IMAGE_DIGEST", "sha256-test0:" H64, 1 },
	{ "IMAGE_DIGEST", "sha256_test:" H64, 1 },
	{ "IMAGE_DIGEST", "sha256.test:" H64, 1 },
	{ "IMAGE_DIGEST", "sha256+test:" H64, 1 },
	{ "IMAGE_DIGEST", "0sha:" H64, 0 },
	{ "IMAGE_DIGEST", "@sha256:" H64, 0 },

	{ "IMAGE_NAME", "", 0 },
	{ "IMAGE_NAME", "busybox", 1 },
	{ "IMAGE_NAME", "library/busybox", 1 },
	{ "IMAGE_NAME", "docker.io/library/busybox", 1 },
	{ "IMAGE_NAME", "localhost:5000/a/b", 1 },
	{ "IMAGE_NAME", "[::1]:5000/a", 1 },
	{ "IMAGE_NAME", "busybox:latest", 0 },
	{ "IMAGE_NAME", "a/b/", 0 },
	{ "IMAGE_NAME", "/a", 0 },
	{ "IMAGE_NAME", "localhost:5000", 0 },

	{ "IMAGE_REFERENCE", "", 0 },
	{ "IMAGE_REFERENCE", "b", 1 },
	{ "IMAGE_REFERENCE", "busybox", 1 },
	{ "IMAGE_REFERENCE", "busybox:", 0 },
	{ "IMAGE_REFERENCE", "busybox:l", 1 },
	{ "IMAGE_REFERENCE", "busybox:latest", 1 },
	{ "IMAGE_REFERENCE", "busybox:latest@", 0 },
	{ "IMAGE_REFERENCE", "busybox:latest@sha256", 0 },
	{ "IMAGE_REFERENCE", "busybox:latest@sha256:", 0 },
	{ "IMAGE_REFERENCE", "busybox:latest@sha256:x", 0 },
	{ "IMAGE_REFERENCE",
	    "busybox:latest@sha256:09c731d73926315908778730f9e6068", 0 },
	{ "IMAGE_REFERENCE", "busybox:latest@sha256:" H32, 1 },
	{ "IMAGE_REFERENCE", "busybox:latest@sha256:" H64, 1 },
	{ "IMAGE_REFERENCE", "busybox@sha256:" H64, 1 },
	{ "IMAGE_REFERENCE", "busybox@sha256-:" H64, 0 },
	{ "IMAGE_REFERENCE", "busybox@sha256-test:" H64, 1 },
	{ "IMAGE_REFERENCE", "busybox@sha256--test:" H64, 0 },
	{ "IMAGE_REFERENCE", "busybox@sha256-0test:" H64, 0 },
	{ "IMAGE_REFERENCE", "busybox@sha256-test0:" H64, 1 },
	{ "IMAGE_REFERENCE", "busybox@sha256_test:" H64, 1 },
	{ "IMAGE_REFERENCE", "busybox@sha256.test:" H64, 1 },
	{ "IMAGE_REFERENCE", "busybox@sha256+test:" H64, 1 },
	{ "IMAGE_REFERENCE", "docker.io/busybox:latest", 1 },
	{ "IMAGE_REFERENCE", "docker.io/library/busybox:latest", 1 },
	{ "IMAGE_REFERENCE", "localhost:5000/library/busybox:latest", 1 },
	{ "IMAGE_REFERENCE", "localhost:5000/a/b:tag", 1 },
	{ "IMAGE_REFERENCE", "localhost:5000/a/b:tag@sha256:" H64, 1 },
	{ "IMAGE_REFERENCE", "127.0.0.1:5000/library/busybox:latest", 1 },
	{ "IMAGE_REFERENCE", "[::1]:5000/library/busybox:latest", 1 },
	{ "IMAGE_REFERENCE", "-busybox:latest", 0 },
	{ "IMAGE_REFERENCE", "busybox:-latest", 0 },
	{ "IMAGE_REFERENCE", "busybox:latest:1", 0 },
	{ "IMAGE_REFERENCE", "localhost:/a", 0 },
	{ "IMAGE_REFERENCE", "docker.io/-library/busybox:latest", 0 },
	{ "IMAGE_REFERENCE", "docker.io/foo/bar/busybox:latest", 1 },
	{ "IMAGE_REFERENCE", "docker.io/foo.bar/busybox:latest", 1 },
	{ "IMAGE_REFERENCE", "docker.io/foo..bar/busybox:latest", 0 },
	{ "IMAGE_REFERENCE", "docker.io/foo_bar/busybox:latest", 1 },
	{ "IMAGE_REFERENCE", "docker.io/foo__bar/busybox:latest", 1 },
	{ "IMAGE_REFERENCE", "docker.io/foo___bar/busybox:latest", 0 },
	{ "IMAGE_REFERENCE", "docker.io/foo-bar/busybox:latest", 1 },
	{ "IMAGE_REFERENCE", "docker.io/foo--bar/busybox:latest", 1 },
	{ "IMAGE_REFERENCE", "docker.io/foo---bar/busybox:latest", 1 },
	{ "IMAGE_REFERENCE", "docker.io/Library/BusyBox:latest", 1 },
	{ "IMAGE_REFERENCE", "busybox:latest/x", 0 },

	{ "IMAGE_ID_OR_REFERENCE", "", 0 },
	{ "IMAGE_ID_OR_REFERENCE", "0123abcdef", 1 },
	{ "IMAGE_ID_OR_REFERENCE", "busybox:latest", 1 },
	/* an image id as Docker prints it reads as name "sha256", a tag */
	{ "IMAGE_ID_OR_REFERENCE", "sha256:" H64, 1 },
	{ "IMAGE_ID_OR_REFERENCE", "-x", 0 },
	{ "IMAGE_ID_OR_REFERENCE", "a b", 0 },

	{ "CONTAINER_ID", "", 0 },
	{ "CONTAINER_ID", "a", 1 },
	{ "CONTAINER_ID", H64, 1 },
	{ "CONTAINER_ID", "my_container", 0 },
	{ "CONTAINER_NAME", "", 0 },
	{ "CONTAINER_NAME", "x", 0 },
	{ "CONTAINER_NAME", "my_container.1-a", 1 },
	{ "CONTAINER_NAME", "/my_container", 0 },
	{ "CONTAINER_NAME", "my/container", 0 },
	{ "CONTAINER_ID_OR_NAME", "", 0 },
	{ "CONTAINER_ID_OR_NAME", "a", 1 },
	{ "CONTAINER_ID_OR_NAME", "x", 0 },
	{ "CONTAINER_ID_OR_NAME", "x0", 1 },
	{ "CONTAINER_ID_OR_NAME", H64, 1 },
	{ "CONTAINER_ID_OR_NAME", "my_container", 1 },
	{ "CONTAINER_ID_OR_NAME", "my/container", 0 },
	{ "CONTAINER_ID_OR_NAME", "-my", 0 },

	{ "VOLUME_ID", "", 0 },
	{ "VOLUME_ID", H64, 1 },
	{ "VOLUME_ID", "data", 0 },
	{ "VOLUME_NAME", "", 0 },
	{ "VOLUME_NAME", "data", 1 },
	{ "VOLUME_NAME", "d", 0 },
	{ "VOLUME_NAME", "_data", 0 },
	{ "VOLUME_ID_OR_NAME", "", 0 },
	{ "VOLUME_ID_OR_NAME", "d", 1 },
	{ "VOLUME_ID_OR_NAME", "data", 1 },
	{ "VOLUME_ID_OR_NAME", "my data", 0 },

	{ "NETWORK_ID", "", 0 },
	{ "NETWORK_ID", H64, 1 },
	{ "NETWORK_ID", "bridge", 0 },
	/* Docker names networks freely: anything without a slash */
	{ "NETWORK_NAME", "", 0 },
	{ "NETWORK_NAME", "x", 1 },
	{ "NETWORK_NAME", "bridge", 1 },
	{ "NETWORK_NAME", "my net", 1 },
	{ "NETWORK_NAME", "a%2Fb", 1 },
	{ "NETWORK_NAME", "a/b", 0 },
	{ "NETWORK_ID_OR_NAME", "", 0 },
	{ "NETWORK_ID_OR_NAME", "host", 1 },
	{ "NETWORK_ID_OR_NAME", H64, 1 },
	{ "NETWORK_ID_OR_NAME", "a/b", 0 },

	{ "PLUGIN_ID", "", 0 },
	{ "PLUGIN_ID", H64, 1 },
	{ "PLUGIN_ID", "sshfs", 0 },
	{ "PLUGIN_NAME", "", 0 },
	{ "PLUGIN_NAME", "vieux/sshfs", 1 },
	{ "PLUGIN_NAME", "localhost:5000/p", 1 },
	{ "PLUGIN_NAME", "vieux/sshfs:latest", 0 },
	{ "PLUGIN_ID_OR_NAME", "", 0 },
	{ "PLUGIN_ID_OR_NAME", "abc123", 1 },
	{ "PLUGIN_ID_OR_NAME", "vieux/sshfs", 1 },
	{ "PLUGIN_ID_OR_NAME", "a:b", 0 },

	{ "API_PREFIX", "", 1 },
	{ "API_PREFIX", "/", 0 },
	{ "API_PREFIX", "/v", 0 },
	{ "API_PREFIX", "/v9", 1 },
	{ "API_PREFIX", "/v99", 1 },
	{ "API_PREFIX", "/v99.9", 1 },
	{ "API_PREFIX", "/v99.99", 1 },
	{ "API_PREFIX", "/v99.99.9", 1 },
	{ "API_PREFIX", "/v99.99.99", 1 },
	{ "API_PREFIX", "/9.9", 0 },
	{ "API_PREFIX", "/v9.9/", 0 },
	{ "API_PREFIX", "/v9.9.", 0 },
	{ "API_PREFIX", "/v.9.9", 0 },
	{ "API_PREFIX", "/v9..9", 0 },
	{ "API_PREFIX", "/va.a", 0 },
	{ "API_PREFIX", "/V1.43", 0 },

	{ "API_PREFIX_LIBPOD", "", 0 },
	{ "API_PREFIX_LIBPOD", "/", 0 },
	{ "API_PREFIX_LIBPOD", "/libpod", 0 },
	{ "API_PREFIX_LIBPOD", "/v/libpod", 0 },
	{ "API_PREFIX_LIBPOD", "/v9/libpod", 1 },
	{ "API_PREFIX_LIBPOD", "/v99.99.99/libpod", 1 },
	{ "API_PREFIX_LIBPOD", "/v4.0.0/libpod/", 0 },

	/* CetusGuard's own ping tables */
	{ "API_PREFIX_PING", "", 0 },
	{ "API_PREFIX_PING", "/", 0 },
	{ "API_PREFIX_PING", "/_ping", 1 },
	{ "API_PREFIX_PING", "/_ping/", 0 },
	{ "API_PREFIX_PING", "/_pong", 0 },
	{ "API_PREFIX_PING", "_ping", 0 },
	{ "API_PREFIX_PING", "//_ping", 0 },
	{ "API_PREFIX_PING", "/v9.9/", 0 },
	{ "API_PREFIX_PING", "/v9.9/_ping", 1 },
	{ "API_PREFIX_PING", "v9.9/_ping", 0 },
	{ "API_PREFIX_LIBPOD_PING", "", 0 },
	{ "API_PREFIX_LIBPOD_PING", "/", 0 },
	{ "API_PREFIX_LIBPOD_PING", "/_ping", 0 },
	{ "API_PREFIX_LIBPOD_PING", "/libpod/_ping", 0 },
	{ "API_PREFIX_LIBPOD_PING", "/v/libpod/_ping", 0 },
	{ "API_PREFIX_LIBPOD_PING", "/v9.9/libpod/_ping", 1 },
	{ "API_PREFIX_LIBPOD_PING", "/v9.9/libpod/_ping/", 0 },
	{ "API_PREFIX_LIBPOD_PING", "/v9.9/libpod/_pong", 0 },
};

/* API_PREFIX_<name> is %API_PREFIX%/<path>; Podman's always versioned. */
struct section {
	const char	*name;
	const char	*path;
};

static const struct section docker_sections[] = {
	{ "AUTH", "auth" }, { "BUILD", "build" }, { "COMMIT", "commit" },
	{ "CONFIGS", "configs" }, { "CONTAINERS", "containers" },
	{ "DEBUG", "debug" }, { "DISTRIBUTION", "distribution" },
	{ "EVENTS", "events" }, { "EXEC", "exec" }, { "GRPC", "grpc" },
	{ "IMAGES", "images" }, { "INFO", "info" },
	{ "NETWORKS", "networks" }, { "NODES", "nodes" },
	{ "PING", "_ping" }, { "PLUGINS", "plugins" },
	{ "SECRETS", "secrets" }, { "SERVICES", "services" },
	{ "SESSION", "session" }, { "SWARM", "swarm" },
	{ "SYSTEM", "system" }, { "TASKS", "tasks" },
	{ "VERSION", "version" }, { "VOLUMES", "volumes" },
};

static const struct section libpod_sections[] = {
	{ "BUILD", "build" }, { "COMMIT", "commit" },
	{ "CONTAINERS", "containers" }, { "EVENTS", "events" },
	{ "EXEC", "exec" }, { "GENERATE", "generate" },
	{ "IMAGES", "images" }, { "INFO", "info" },
	{ "MANIFESTS", "manifests" }, { "NETWORKS", "networks" },
	{ "PING", "_ping" }, { "PLAY", "play" }, { "PODS", "pods" },
	{ "SECRETS", "secrets" }, { "SYSTEM", "system" },
	{ "VERSION", "version" }, { "VOLUMES", "volumes" },
};

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static void
no_error(void *arg, const char *msg)
{
	ck_abort_msg("unexpected error: %s", msg);
}

/* Does "%var%" match all of input, through a real rule? */
static int
var_matches(const char *var, const char *input)
{
	struct ruleset	*rs;
	char		 text[128];
	int		 rc;

	ck_assert_ptr_nonnull(rs = ruleset_new());
	(void)snprintf(text, sizeof(text), "GET %%%s%%", var);
	ck_assert_int_eq(ruleset_add_text(rs, "t", text, strlen(text),
	    no_error, NULL), 0);
	rc = rule_match(rs, 0, "GET", input, strlen(input));
	ruleset_free(rs);
	return rc;
}

START_TEST(test_vars_cases)
{
	size_t	 i;
	int	 got;

	for (i = 0; i < NELEM(vcases); i++) {
		got = var_matches(vcases[i].var, vcases[i].input);
		ck_assert_msg(got == vcases[i].want,
		    "%%%s%% on \"%s\": got %d, want %d", vcases[i].var,
		    vcases[i].input, got, vcases[i].want);
	}
}
END_TEST

/*
 * Does the rule "GET /t/%var%" allow the request-target target, through
 * the full path: canonicalise as for a request, then match the decoded
 * path?  -1 when the target is refused (a 400).  *cleaned is set when
 * cleaning changed the path (so the vector no longer stands alone).
 */
static int
var_target_matches(const char *var, const char *target, const char *input,
    int *cleaned)
{
	struct ruleset	*rs;
	char		 text[128], path[CANON_PATH_MAX];
	char		 query[CANON_QUERY_MAX], want[CANON_PATH_MAX];
	const char	*why;
	int		 rc;

	if (canon_target(target, strlen(target), path, sizeof(path), query,
	    sizeof(query), &why) == -1)
		return -1;
	(void)snprintf(want, sizeof(want), "/t/%s", input);
	*cleaned = strcmp(path, want) != 0;
	ck_assert_ptr_nonnull(rs = ruleset_new());
	(void)snprintf(text, sizeof(text), "GET /t/%%%s%%", var);
	ck_assert_int_eq(ruleset_add_text(rs, "t", text, strlen(text),
	    no_error, NULL), 0);
	rc = ruleset_match(rs, "GET", path, strlen(path));
	ruleset_free(rs);
	return rc >= 0;
}

/* Escape every byte but unreserved and '/', as a cautious client would. */
static void
pct_all(const char *in, char *out, size_t outsz)
{
	size_t	 n = 0;

	for (; *in != '\0' && n + 4 < outsz; in++) {
		if ((*in >= 'a' && *in <= 'z') || (*in >= 'A' && *in <= 'Z') ||
		    (*in >= '0' && *in <= '9') || strchr("-._~/", *in) != NULL)
			out[n++] = *in;
		else
			n += snprintf(out + n, outsz - n, "%%%02X",
			    (unsigned char)*in);
	}
	out[n] = '\0';
}

/*
 * Every vector through canon + match, raw and percent-encoded: a client
 * that escapes the brackets of "[::1]" (or ':', '@', '+') reaches the
 * same decoded path, so the same verdict.  A zone id needs a literal '%',
 * which a path cannot carry (an encoded '%' is refused): those are 400s.
 */
START_TEST(test_vars_full_path)
{
	char	 raw[512], enc[1024];
	size_t	 i, nbrackets = 0, nchecked = 0;
	int	 got, cleaned, j;

	for (i = 0; i < NELEM(vcases); i++) {
		(void)snprintf(raw, sizeof(raw), "/t/%s", vcases[i].input);
		pct_all(raw, enc, sizeof(enc));
		for (j = 0; j < 2; j++) {
			got = var_target_matches(vcases[i].var,
			    j == 0 ? raw : enc, vcases[i].input, &cleaned);
			if (strchr(vcases[i].input, '%') != NULL) {
				ck_assert_msg(got == -1, "%%%s%% on \"%s\": "
				    "a '%%' in a path must be refused",
				    vcases[i].var, j == 0 ? raw : enc);
				continue;
			}
			/* the encoded form is always a valid path */
			ck_assert_msg(got != -1 || j == 0, "%%%s%% on \"%s\" "
			    "refused", vcases[i].var, enc);
			if (got == -1 || cleaned)
				continue;
			ck_assert_msg(got == vcases[i].want, "%%%s%% on \"%s\": "
			    "got %d, want %d", vcases[i].var,
			    j == 0 ? raw : enc, got, vcases[i].want);
			nchecked++;
			if (got == 1 && strchr(vcases[i].input, '[') != NULL)
				nbrackets++;
		}
	}
	/* raw and encoded "[::1]" forms of IPV6, IP, HOST, IMAGE_... */
	ck_assert_uint_ge(nbrackets, 20);
	ck_assert_uint_ge(nchecked, NELEM(vcases));
}
END_TEST

static void
check_section(const char *var, const char *in, int want)
{
	int	 got;

	got = var_matches(var, in);
	ck_assert_msg(got == want, "%%%s%% on \"%s\": got %d, want %d",
	    var, in, got, want);
}

START_TEST(test_vars_docker_sections)
{
	const struct section	*s;
	char			 var[64], p[64], o[64];
	size_t			 i;

	for (i = 0; i < NELEM(docker_sections); i++) {
		s = &docker_sections[i];
		(void)snprintf(var, sizeof(var), "API_PREFIX_%s", s->name);
		(void)snprintf(p, sizeof(p), "%%API_PREFIX%%/%s", s->path);
		ck_assert_str_eq(var_def(var), p);
		(void)snprintf(p, sizeof(p), "/%s", s->path);
		check_section(var, p, 1);
		(void)snprintf(p, sizeof(p), "/v1.43/%s", s->path);
		check_section(var, p, 1);
		(void)snprintf(p, sizeof(p), "/v1/%s", s->path);
		check_section(var, p, 1);
		(void)snprintf(p, sizeof(p), "/v1.43/%s/", s->path);
		check_section(var, p, 0);
		(void)snprintf(p, sizeof(p), "/%s/x", s->path);
		check_section(var, p, 0);
		(void)snprintf(p, sizeof(p), "v1.43/%s", s->path);
		check_section(var, p, 0);
		(void)snprintf(p, sizeof(p), "//%s", s->path);
		check_section(var, p, 0);
		(void)snprintf(p, sizeof(p), "/v1.43/libpod/%s", s->path);
		check_section(var, p, 0);
		(void)snprintf(p, sizeof(p), "/%sx", s->path);
		check_section(var, p, 0);
		check_section(var, "/v1.43", 0);
		/* no section matches another's path */
		(void)snprintf(o, sizeof(o), "/%s",
		    docker_sections[(i + 1) % NELEM(docker_sections)].path);
		check_section(var, o, 0);
	}
}
END_TEST

START_TEST(test_vars_libpod_sections)
{
	const struct section	*s;
	char			 var[64], p[64];
	size_t			 i;

	for (i = 0; i < NELEM(libpod_sections); i++) {
		s = &libpod_sections[i];
		(void)snprintf(var, sizeof(var), "API_PREFIX_LIBPOD_%s",
		    s->name);
		(void)snprintf(p, sizeof(p), "%%API_PREFIX_LIBPOD%%/%s",
		    s->path);
		ck_assert_str_eq(var_def(var), p);
		(void)snprintf(p, sizeof(p), "/v1.43/libpod/%s", s->path);
		check_section(var, p, 1);
		(void)snprintf(p, sizeof(p), "/v4.0.0/libpod/%s", s->path);
		check_section(var, p, 1);
		(void)snprintf(p, sizeof(p), "/v4/libpod/%s", s->path);
		check_section(var, p, 1);
		(void)snprintf(p, sizeof(p), "/libpod/%s", s->path);
		check_section(var, p, 0);
		(void)snprintf(p, sizeof(p), "/%s", s->path);
		check_section(var, p, 0);
		(void)snprintf(p, sizeof(p), "/v1.43/%s", s->path);
		check_section(var, p, 0);
		(void)snprintf(p, sizeof(p), "/v1.43/libpod/%s/", s->path);
		check_section(var, p, 0);
		check_section(var, "/v1.43/libpod", 0);
	}
}
END_TEST

static int
in_sections(const char *name, const char *prefix,
    const struct section *sections, size_t n)
{
	size_t	 i, len = strlen(prefix);

	if (strncmp(name, prefix, len) != 0)
		return 0;
	for (i = 0; i < n; i++)
		if (strcmp(name + len, sections[i].name) == 0)
			return 1;
	return 0;
}

/* Every variable has accepted and rejected cases, and nothing else is. */
START_TEST(test_vars_all_covered)
{
	const char	*name;
	size_t		 i, k;
	int		 yes, no;

	/* private, hosts, images, 4 kinds of objects, the API prefixes */
	ck_assert_uint_eq(rules_nvars, 4 + 6 + 7 + 4 * 3 + 1 +
	    NELEM(docker_sections) + 1 + NELEM(libpod_sections));
	for (i = 0; i < rules_nvars; i++) {
		name = rules_vars[i].name;
		if (in_sections(name, "API_PREFIX_", docker_sections,
		    NELEM(docker_sections)) ||
		    in_sections(name, "API_PREFIX_LIBPOD_", libpod_sections,
		    NELEM(libpod_sections)))
			continue;
		for (yes = no = 0, k = 0; k < NELEM(vcases); k++) {
			if (strcmp(vcases[k].var, name) != 0)
				continue;
			if (vcases[k].want)
				yes++;
			else
				no++;
		}
		ck_assert_msg(yes > 0 && no > 0, "%%%s%%: %d accepted, %d "
		    "rejected cases", name, yes, no);
	}
	for (k = 0; k < NELEM(vcases); k++)
		ck_assert_msg(var_def(vcases[k].var) != NULL,
		    "case for unknown %%%s%%", vcases[k].var);
}
END_TEST

/*
 * Is e one parenthesised group, so that a quantifier after it applies to
 * all of it?  Escapes and character classes hide their parentheses.
 */
static int
is_group(const char *e, size_t len)
{
	size_t	 i;
	int	 depth = 0, inclass = 0;

	if (len < 2 || e[0] != '(' || e[len - 1] != ')')
		return 0;
	for (i = 0; i < len; i++) {
		if (e[i] == '\\')
			i++;
		else if (inclass)
			inclass = e[i] != ']';
		else if (e[i] == '[')
			inclass = 1;
		else if (e[i] == '(')
			depth++;
		else if (e[i] == ')' && --depth == 0 && i + 1 < len)
			return 0;
	}
	return depth == 0;
}

/*
 * Each expansion names no variable any more and re-expands to itself, so
 * that what moatd -n prints reads back the same; each but the path
 * prefixes is one group, which a quantifier can follow.
 */
START_TEST(test_vars_expansions)
{
	const char	*why;
	char		*e, *again, *pct, ref[64];
	size_t		 i;

	ck_assert(is_group("(?:a)", 5));
	ck_assert(is_group("(?:[)]\\))", 9));
	ck_assert(!is_group("(?:a)|(?:b)", 11));
	ck_assert(!is_group("(?:a)?", 6));
	for (i = 0; i < rules_nvars; i++) {
		(void)snprintf(ref, sizeof(ref), "%%%s%%", rules_vars[i].name);
		e = vexpand(ref, &why);
		ck_assert_msg(e != NULL, "%s: %s", ref, why);
		for (pct = e; (pct = strchr(pct, '%')) != NULL; pct++)
			ck_assert_uint_eq(vars_reference(pct, strlen(pct)), 0);
		again = vexpand(e, &why);
		ck_assert_ptr_nonnull(again);
		ck_assert_str_eq(again, e);
		free(again);
		ck_assert_msg(is_group(e, strlen(e)) ||
		    strncmp(rules_vars[i].name, "API_PREFIX", 10) == 0,
		    "%s is not a group: %s", ref, e);
		free(e);
	}
}
END_TEST

START_TEST(test_vars_expand_exact)
{
	const char	*why = NULL;
	char		*e;

	ck_assert_str_eq(var_def("API_PREFIX"), "(?:%_API_VERSION%)?");
	ck_assert_str_eq(var_def("NETWORK_NAME"), "(?:[^/]+)");
	ck_assert_ptr_null(var_def("NOPE"));
	ck_assert_ptr_null(var_def(""));
	ck_assert_ptr_null(var_def("api_prefix"));
	ck_assert_ptr_null(var_def("%API_PREFIX%"));

	e = vexpand("%API_PREFIX_PING%", &why);
	ck_assert_str_eq(e, "(?:(?:/v[0-9]+(?:\\.[0-9]+)*))?/_ping");
	free(e);
	e = vexpand("%API_PREFIX_LIBPOD_PING%", &why);
	ck_assert_str_eq(e, "(?:/v[0-9]+(?:\\.[0-9]+)*)/libpod/_ping");
	free(e);
	e = vexpand("%API_PREFIX_CONTAINERS%/%CONTAINER_ID_OR_NAME%/json",
	    &why);
	ck_assert_str_eq(e, "(?:(?:/v[0-9]+(?:\\.[0-9]+)*))?/containers/"
	    "(?:(?:[0-9A-Fa-f]+)|(?:[0-9A-Za-z][-0-9A-Za-z_.]+))/json");
	free(e);
	e = vexpand("", &why);
	ck_assert_str_eq(e, "");
	free(e);

	/* a '%' that does not make a %NAME% stays, as in CetusGuard */
	e = vexpand("/100%", &why);
	ck_assert_str_eq(e, "/100%");
	free(e);
	e = vexpand("%%/%a%/%foo%/%API_PREFIX/%", &why);
	ck_assert_str_eq(e, "%%/%a%/%foo%/%API_PREFIX/%");
	free(e);
	/* percent-encodings next to each other are no names */
	e = vexpand("/caf%C3%A9/%41%/%2F%", &why);
	ck_assert_str_eq(e, "/caf%C3%A9/%41%/%2F%");
	free(e);
	e = vexpand("/%C3%A9%API_PREFIX%", &why);
	ck_assert_str_eq(e, "/%C3%A9(?:(?:/v[0-9]+(?:\\.[0-9]+)*))?");
	free(e);

	why = NULL;
	ck_assert_ptr_null(vexpand("/x/%NOPE%", &why));
	ck_assert_str_eq(why, "unknown variable");
	why = NULL;
	ck_assert_ptr_null(vexpand("%ABC%", &why));
	ck_assert_str_eq(why, "unknown variable");
	why = NULL;
	ck_assert_ptr_null(vexpand("%API_PREFIX_FOO%", &why));
	ck_assert_str_eq(why, "unknown variable");
}
END_TEST

START_TEST(test_vars_reference)
{
	ck_assert_uint_eq(vars_reference("%HOST%", 6), 6);
	ck_assert_uint_eq(vars_reference("%HOST%/x", 8), 6);
	ck_assert_uint_eq(vars_reference("%HOST%", 5), 0);
	ck_assert_uint_eq(vars_reference("%_X%", 4), 4);
	ck_assert_uint_eq(vars_reference("%A1_%", 5), 5);
	ck_assert_uint_eq(vars_reference("%ABC%", 5), 5);
	ck_assert_uint_eq(vars_reference("%AG%", 4), 4);
	ck_assert_uint_eq(vars_reference("%AB%", 4), 0);
	ck_assert_uint_eq(vars_reference("%C3%", 4), 0);
	ck_assert_uint_eq(vars_reference("%41%", 4), 0);
	ck_assert_uint_eq(vars_reference("%1A%", 4), 0);
	ck_assert_uint_eq(vars_reference("%a%", 3), 0);
	ck_assert_uint_eq(vars_reference("%Host%", 6), 0);
	ck_assert_uint_eq(vars_reference("%%", 2), 0);
	ck_assert_uint_eq(vars_reference("%A", 2), 0);
	ck_assert_uint_eq(vars_reference("%A B%", 5), 0);
	ck_assert_uint_eq(vars_reference("HOST%", 5), 0);
}
END_TEST

START_TEST(test_vars_errors)
{
	static const struct rules_var cyclic[] = {
		{ "A", "x%B%" },
		{ "B", "y%A%" },
		{ "C", "%D%" },
	};
	struct rules_var	 chain[VARS_DEPTH_MAX + 1];
	char			 names[VARS_DEPTH_MAX + 1][8];
	char			 values[VARS_DEPTH_MAX + 1][16];
	struct vars_error	 err;
	char			*e, *big;
	size_t			 i, n;

	ck_assert_ptr_null(vars_expand(cyclic, 3, "/p/%A%", 6, &err));
	ck_assert_str_eq(err.why, "variables nested too deeply");
	ck_assert_uint_eq(err.offset, 3);
	ck_assert_uint_eq(err.length, 3);
	/* a definition naming an unknown variable blames its reference */
	ck_assert_ptr_null(vars_expand(cyclic, 3, "ab%C%", 5, &err));
	ck_assert_str_eq(err.why, "unknown variable");
	ck_assert_uint_eq(err.offset, 2);
	ck_assert_uint_eq(err.length, 3);
	ck_assert_ptr_null(vars_expand(cyclic, 3, "%X%", 3, &err));
	ck_assert_str_eq(err.why, "unknown variable");
	ck_assert_uint_eq(err.offset, 0);
	ck_assert_uint_eq(err.length, 3);

	/* VARS_DEPTH_MAX levels below the pattern are fine, one more not */
	for (i = 0; i <= VARS_DEPTH_MAX; i++) {
		(void)snprintf(names[i], sizeof(names[i]), "V%zu", i);
		if (i < VARS_DEPTH_MAX)
			(void)snprintf(values[i], sizeof(values[i]),
			    "%zu%%V%zu%%", i, i + 1);
		else
			(void)snprintf(values[i], sizeof(values[i]), "end");
		chain[i].name = names[i];
		chain[i].value = values[i];
	}
	e = vars_expand(chain, VARS_DEPTH_MAX + 1, "%V1%", 4, &err);
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(e, "123456789101112131415end");
	free(e);
	ck_assert_ptr_null(vars_expand(chain, VARS_DEPTH_MAX + 1, "%V0%", 4,
	    &err));
	ck_assert_str_eq(err.why, "variables nested too deeply");

	/* the expansion of one pattern is bounded */
	n = VARS_EXPANDED_MAX / 500 + 1;
	ck_assert_ptr_nonnull(big = calloc(n, 23 + 1));
	for (i = 0; i < n; i++)
		strlcat(big, "%IMAGE_ID_OR_REFERENCE%", n * 24);
	ck_assert_ptr_null(vars_expand(rules_vars, rules_nvars, big,
	    strlen(big), &err));
	ck_assert_str_eq(err.why, "pattern too long after expansion");
	ck_assert_uint_eq(err.offset % 23, 0);
	ck_assert_uint_eq(err.length, 23);
	free(big);
}
END_TEST

Suite *
vars_suite(void)
{
	Suite	*s = suite_create("vars");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_vars_cases);
	tcase_add_test(tc, test_vars_full_path);
	tcase_add_test(tc, test_vars_docker_sections);
	tcase_add_test(tc, test_vars_libpod_sections);
	tcase_add_test(tc, test_vars_all_covered);
	tcase_add_test(tc, test_vars_expansions);
	tcase_add_test(tc, test_vars_expand_exact);
	tcase_add_test(tc, test_vars_reference);
	tcase_add_test(tc, test_vars_errors);
	suite_add_tcase(s, tc);
	return s;
}
