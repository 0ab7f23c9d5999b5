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
 * Rules learned from requests (learn.h).  A path is cut into its API
 * prefix (/v1.47, /v4.0.0/libpod, or none), its section (containers,
 * images, ...), the object it names when the section has objects, and
 * what follows; the prefix and the section become the section's
 * %API_PREFIX_...% variable, the object the variable for its kind of id
 * or name, the rest stays literal.  Every pattern is checked against the
 * path it was made from, by the rules code itself: one that would not
 * allow it (a name the variables do not cover) is replaced by the path
 * as a literal, so a learned rule set allows at least what was seen.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "json.h"
#include "learn.h"

#define METHODS_MAX	16	/* per pattern */
#define SEGS_MAX	64

enum kind {
	K_FLAT,		/* no objects: all literal */
	K_CONTAINER,
	K_IMAGE,	/* a reference of several segments, an action after */
	K_NETWORK,
	K_VOLUME,
	K_EXEC,
	K_PLUGIN,	/* named like an image */
	K_DIST,		/* distribution/{image reference}/json */
	K_NAMED,	/* services, tasks, nodes, secrets, configs, pods */
};

struct section {
	const char	*path;
	const char	*var;	/* after API_PREFIX_ (Docker), or LIBPOD_ */
	enum kind	 kind;
};

static const struct section docker_sections[] = {
	{ "_ping", "PING", K_FLAT },
	{ "auth", "AUTH", K_FLAT },
	{ "build", "BUILD", K_FLAT },
	{ "commit", "COMMIT", K_FLAT },
	{ "configs", "CONFIGS", K_NAMED },
	{ "containers", "CONTAINERS", K_CONTAINER },
	{ "debug", "DEBUG", K_FLAT },
	{ "distribution", "DISTRIBUTION", K_DIST },
	{ "events", "EVENTS", K_FLAT },
	{ "exec", "EXEC", K_EXEC },
	{ "grpc", "GRPC", K_FLAT },
	{ "images", "IMAGES", K_IMAGE },
	{ "info", "INFO", K_FLAT },
	{ "networks", "NETWORKS", K_NETWORK },
	{ "nodes", "NODES", K_NAMED },
	{ "plugins", "PLUGINS", K_PLUGIN },
	{ "secrets", "SECRETS", K_NAMED },
	{ "services", "SERVICES", K_NAMED },
	{ "session", "SESSION", K_FLAT },
	{ "swarm", "SWARM", K_FLAT },
	{ "system", "SYSTEM", K_FLAT },
	{ "tasks", "TASKS", K_NAMED },
	{ "version", "VERSION", K_FLAT },
	{ "volumes", "VOLUMES", K_VOLUME },
};

static const struct section libpod_sections[] = {
	{ "_ping", "LIBPOD_PING", K_FLAT },
	{ "build", "LIBPOD_BUILD", K_FLAT },
	{ "commit", "LIBPOD_COMMIT", K_FLAT },
	{ "containers", "LIBPOD_CONTAINERS", K_CONTAINER },
	{ "events", "LIBPOD_EVENTS", K_FLAT },
	{ "exec", "LIBPOD_EXEC", K_EXEC },
	{ "generate", "LIBPOD_GENERATE", K_FLAT },
	{ "images", "LIBPOD_IMAGES", K_IMAGE },
	{ "info", "LIBPOD_INFO", K_FLAT },
	{ "manifests", "LIBPOD_MANIFESTS", K_FLAT },
	{ "networks", "LIBPOD_NETWORKS", K_NETWORK },
	{ "play", "LIBPOD_PLAY", K_FLAT },
	{ "pods", "LIBPOD_PODS", K_NAMED },
	{ "secrets", "LIBPOD_SECRETS", K_NAMED },
	{ "system", "LIBPOD_SYSTEM", K_FLAT },
	{ "version", "LIBPOD_VERSION", K_FLAT },
	{ "volumes", "LIBPOD_VOLUMES", K_VOLUME },
};

/* Words that follow a section and name no object of it. */
static const char *const verbs[] = {
	"create", "export", "get", "import", "json", "load", "privileges",
	"prune", "pull", "remove", "search", "showmounted", "stats", NULL,
};

/* Actions after a reference of several segments (images, plugins). */
static const char *const image_actions[] = {
	"get", "history", "json", "push", "tag", NULL,
};
static const char *const plugin_actions[] = {
	"disable", "enable", "json", "push", "set", "upgrade", NULL,
};
static const char *const dist_actions[] = { "json", NULL };

struct entry {
	char		*pattern;
	char		*example;	/* the first request's "METHOD path" */
	char		*methods[METHODS_MAX];
	size_t		 nmethods;
	unsigned long	 count;
	unsigned long	 denied;
};

struct learn {
	struct entry	*e;
	size_t		 n, cap;
};

struct seg {
	const char	*s;
	size_t		 len;
};

struct out {
	char		*p;
	size_t		 len, cap;
	int		 err;
};

static int
in_list(const char *const *list, const struct seg *g)
{
	size_t	 i;

	for (i = 0; list[i] != NULL; i++)
		if (strlen(list[i]) == g->len &&
		    memcmp(list[i], g->s, g->len) == 0)
			return 1;
	return 0;
}

static void
put(struct out *o, const char *s, size_t len)
{
	if (o->err || len >= o->cap - o->len) {
		o->err = 1;
		return;
	}
	memcpy(o->p + o->len, s, len);
	o->len += len;
	o->p[o->len] = '\0';
}

static void
puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

/* A literal, its regex metacharacters escaped. */
static void
put_literal(struct out *o, const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++) {
		if (strchr("\\.+*?()[]{}|^$", s[i]) != NULL)
			put(o, "\\", 1);
		put(o, s + i, 1);
	}
}

static void
put_segs(struct out *o, const struct seg *g, size_t from, size_t to)
{
	size_t	 i;

	for (i = from; i < to; i++) {
		put(o, "/", 1);
		put_literal(o, g[i].s, g[i].len);
	}
}

static int
is_version(const struct seg *g)
{
	size_t	 i;
	int	 digit = 0;

	if (g->len < 2 || g->s[0] != 'v')
		return 0;
	for (i = 1; i < g->len; i++) {
		if (g->s[i] >= '0' && g->s[i] <= '9')
			digit = 1;
		else if (g->s[i] == '.' && digit)
			digit = 0;
		else
			return 0;
	}
	return digit;
}

static const struct section *
find_section(const struct section *t, size_t n, const struct seg *g)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (strlen(t[i].path) == g->len &&
		    memcmp(t[i].path, g->s, g->len) == 0)
			return &t[i];
	return NULL;
}

/* A reference of segments [from, to), then an action if one ends it. */
static void
put_reference(struct out *o, const struct seg *g, size_t from, size_t n,
    const char *const *actions, const char *var)
{
	size_t	 end = n;

	if (n - from >= 2 && in_list(actions, &g[n - 1]))
		end = n - 1;
	puts_(o, "/");
	puts_(o, var);
	put_segs(o, g, end, n);
}

static void
put_object(struct out *o, enum kind k, const struct seg *g, size_t from,
    size_t n)
{
	static const char *const obj[] = {
		[K_CONTAINER] = "%CONTAINER_ID_OR_NAME%",
		[K_NETWORK] = "%NETWORK_ID_OR_NAME%",
		[K_VOLUME] = "%VOLUME_ID_OR_NAME%",
		[K_EXEC] = "[0-9A-Fa-f]+",
		[K_NAMED] = "[^/]+",
	};

	if (k == K_FLAT || from == n || in_list(verbs, &g[from])) {
		put_segs(o, g, from, n);
		return;
	}
	switch (k) {
	case K_IMAGE:
		put_reference(o, g, from, n, image_actions,
		    "%IMAGE_ID_OR_REFERENCE%");
		return;
	case K_PLUGIN:
		put_reference(o, g, from, n, plugin_actions,
		    "%PLUGIN_ID_OR_NAME%(?::%IMAGE_TAG%)?");
		return;
	case K_DIST:
		put_reference(o, g, from, n, dist_actions,
		    "%IMAGE_REFERENCE%");
		return;
	default:
		puts_(o, "/");
		puts_(o, obj[k]);
		put_segs(o, g, from + 1, n);
		return;
	}
}

static size_t
split(const char *path, struct seg *g)
{
	const char	*p = path + 1, *q;
	size_t		 n = 0;

	while (n < SEGS_MAX) {
		q = strchr(p, '/');
		g[n].s = p;
		g[n].len = q != NULL ? (size_t)(q - p) : strlen(p);
		n++;
		if (q == NULL)
			return n;
		p = q + 1;
	}
	return 0;
}

int
learn_pattern(const char *path, char *buf, size_t buflen)
{
	struct seg		 g[SEGS_MAX];
	struct out		 o = { buf, 0, buflen, buflen == 0 };
	const struct section	*sec = NULL;
	size_t			 n, i = 0;
	int			 version = 0, libpod = 0;

	if (path[0] != '/' || (n = split(path, g)) == 0)
		return -1;
	if (buflen > 0)
		buf[0] = '\0';
	if (i < n && is_version(&g[i])) {
		version = 1;
		i++;
	}
	/* Podman's prefix always carries the version. */
	if (version && i < n && g[i].len == 6 &&
	    memcmp(g[i].s, "libpod", 6) == 0) {
		libpod = 1;
		i++;
	}
	if (i < n)
		sec = libpod ? find_section(libpod_sections,
		    sizeof(libpod_sections) / sizeof(libpod_sections[0]),
		    &g[i]) : find_section(docker_sections,
		    sizeof(docker_sections) / sizeof(docker_sections[0]),
		    &g[i]);
	if (sec == NULL) {
		puts_(&o, libpod ? "%API_PREFIX_LIBPOD%" : "%API_PREFIX%");
		put_segs(&o, g, i, n);
		return o.err ? -1 : 0;
	}
	puts_(&o, "%API_PREFIX_");
	puts_(&o, sec->var);
	puts_(&o, "%");
	put_object(&o, sec->kind, g, i + 1, n);
	return o.err ? -1 : 0;
}

struct learn *
learn_new(void)
{
	return calloc(1, sizeof(struct learn));
}

static void
entry_free(struct entry *e)
{
	size_t	 i;

	free(e->pattern);
	free(e->example);
	for (i = 0; i < e->nmethods; i++)
		free(e->methods[i]);
}

void
learn_free(struct learn *l)
{
	size_t	 i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n; i++)
		entry_free(&l->e[i]);
	free(l->e);
	free(l);
}

/* 1 when "method pattern" as a rule allows method on path. */
static int
allows(const char *method, const char *pattern, const char *path)
{
	struct ruleset	*rs;
	char		*text;
	size_t		 len;
	int		 ok = 0;

	len = strlen(method) + strlen(pattern) + 3;
	if ((rs = ruleset_new()) == NULL || (text = malloc(len)) == NULL) {
		ruleset_free(rs);
		return 0;
	}
	snprintf(text, len, "%s %s\n", method, pattern);
	if (ruleset_add_text(rs, "learn", text, strlen(text), NULL,
	    NULL) == 0)
		ok = ruleset_match(rs, method, path, strlen(path)) == 0;
	free(text);
	ruleset_free(rs);
	return ok;
}

static int
method_ok(const char *m)
{
	size_t	 i;

	for (i = 0; m[i] != '\0'; i++)
		if (m[i] < 'A' || m[i] > 'Z')
			return 0;
	return i > 0 && i < RULE_METHOD_MAX;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The path as the rules see it: %XX decoded.  0, or -1 for a bad %. */
static int
decode(const char *in, char *out, size_t outlen)
{
	size_t	 i, n = 0;
	int	 hi, lo;

	for (i = 0; in[i] != '\0'; i++) {
		if (n + 1 >= outlen)
			return -1;
		if (in[i] != '%') {
			out[n++] = in[i];
			continue;
		}
		if ((hi = hexval(in[i + 1])) == -1 ||
		    (lo = hexval(in[i + 2])) == -1 || (hi == 0 && lo == 0))
			return -1;
		out[n++] = (char)(hi << 4 | lo);
		i += 2;
	}
	out[n] = '\0';
	return 0;
}

static struct entry *
entry_get(struct learn *l, const char *pattern)
{
	struct entry	*e;
	size_t		 i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->e[i].pattern, pattern) == 0)
			return &l->e[i];
	if (l->n >= LEARN_RULES_MAX)
		return NULL;
	if (l->n == l->cap) {
		e = reallocarray(l->e, l->cap ? l->cap * 2 : 16, sizeof(*e));
		if (e == NULL)
			return NULL;
		l->e = e;
		l->cap = l->cap ? l->cap * 2 : 16;
	}
	e = &l->e[l->n];
	memset(e, 0, sizeof(*e));
	if ((e->pattern = strdup(pattern)) == NULL)
		return NULL;
	l->n++;
	return e;
}

static int
entry_method(struct entry *e, const char *method)
{
	size_t	 i;

	for (i = 0; i < e->nmethods; i++)
		if (strcmp(e->methods[i], method) == 0)
			return 0;
	if (e->nmethods == METHODS_MAX ||
	    (e->methods[e->nmethods] = strdup(method)) == NULL)
		return -1;
	e->nmethods++;
	return 0;
}

int
learn_add(struct learn *l, const char *method, const char *path,
    int denied)
{
	char		 pattern[LEARN_PATTERN_MAX], raw[LEARN_PATH_MAX];
	struct out	 o = { pattern, 0, sizeof(pattern), 0 };
	struct entry	*e;
	size_t		 len;

	if (!method_ok(method) || decode(path, raw, sizeof(raw)) == -1 ||
	    raw[0] != '/')
		return -1;
	/* What the variables do not cover is allowed as it was seen. */
	if (learn_pattern(raw, pattern, sizeof(pattern)) == -1 ||
	    !allows(method, pattern, raw)) {
		pattern[0] = '\0';
		put_literal(&o, raw, strlen(raw));
		if (o.err || !allows(method, pattern, raw))
			return -1;
	}
	if ((e = entry_get(l, pattern)) == NULL ||
	    entry_method(e, method) == -1)
		return -1;
	if (e->example == NULL) {
		len = strlen(method) + strlen(path) + 2;
		if ((e->example = malloc(len)) == NULL)
			return -1;
		snprintf(e->example, len, "%s %s", method, path);
	}
	e->count++;
	e->denied += denied != 0;
	return 0;
}

static int
entry_cmp(const void *a, const void *b)
{
	const struct entry	*x = a, *y = b;

	return strcmp(x->pattern, y->pattern);
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char *
learn_rules(const struct learn *l, size_t *lenp)
{
	struct entry	*sorted = NULL;
	struct out	 o;
	size_t		 i, j, cap = 256;

	for (i = 0; i < l->n; i++)
		cap += strlen(l->e[i].pattern) + strlen(l->e[i].example) +
		    l->e[i].nmethods * RULE_METHOD_MAX + 128;
	if ((o.p = malloc(cap)) == NULL ||
	    (l->n > 0 && (sorted = reallocarray(NULL, l->n,
	    sizeof(*sorted))) == NULL)) {
		free(o.p);
		return NULL;
	}
	o.len = 0;
	o.cap = cap;
	o.err = 0;
	o.p[0] = '\0';
	puts_(&o, "! Learned by moatd: the rules that allow the requests "
	    "seen, each with\n! how many there were and the first of them.\n");
	if (l->n > 0)
		memcpy(sorted, l->e, l->n * sizeof(*sorted));
	if (l->n > 1)
		qsort(sorted, l->n, sizeof(*sorted), entry_cmp);
	for (i = 0; i < l->n; i++) {
		struct entry	*e = &sorted[i];
		char		 line[128];

		qsort(e->methods, e->nmethods, sizeof(e->methods[0]),
		    str_cmp);
		snprintf(line, sizeof(line), "\n! %lu request%s%s", e->count,
		    e->count == 1 ? "" : "s", e->denied ? "" : ": ");
		puts_(&o, line);
		if (e->denied) {
			snprintf(line, sizeof(line), " (%lu denied): ",
			    e->denied);
			puts_(&o, line);
		}
		puts_(&o, e->example);
		puts_(&o, "\n");
		for (j = 0; j < e->nmethods; j++) {
			if (j > 0)
				puts_(&o, ",");
			puts_(&o, e->methods[j]);
		}
		puts_(&o, " ");
		puts_(&o, e->pattern);
		puts_(&o, "\n");
	}
	free(sorted);
	if (o.err) {
		free(o.p);
		return NULL;
	}
	*lenp = o.len;
	return o.p;
}

/*
 * key=value text: the tokens from the first "client=", values either
 * bare or quoted with backslash escapes (log_quoted), so that nothing a
 * client put in a quoted value can pass for a key.
 */
static const char *
text_field(const char *line, size_t len, const char *key, size_t *vlen)
{
	const char	*p = line, *end = line + len, *k, *v;
	size_t		 klen = strlen(key);

	while (p < end && (p = memmem(p, end - p, "client=", 7)) != NULL) {
		if (p == line || p[-1] == ' ')
			break;
		p += 7;
	}
	if (p == NULL)
		return NULL;
	while (p < end) {
		while (p < end && *p == ' ')
			p++;
		k = p;
		while (p < end && *p != '=' && *p != ' ')
			p++;
		if (p == end || *p != '=')
			return NULL;
		v = ++p;
		if (p < end && *p == '"') {
			for (p++; p < end && *p != '"'; p++)
				if (*p == '\\' && p + 1 < end)
					p++;
			if (p == end)
				return NULL;
			p++;
		} else
			while (p < end && *p != ' ')
				p++;
		if ((size_t)(v - 1 - k) == klen && memcmp(k, key, klen) == 0) {
			*vlen = p - v;
			return v;
		}
	}
	return NULL;
}

static int
take(const char *v, size_t vlen, char *out, size_t outlen)
{
	if (v == NULL || vlen == 0 || vlen >= outlen ||
	    memchr(v, '\0', vlen) != NULL)
		return -1;
	memcpy(out, v, vlen);
	out[vlen] = '\0';
	return 0;
}

static int
verdict_of(const char *v, size_t vlen, int *denied)
{
	if (vlen == 5 && memcmp(v, "allow", 5) == 0) {
		*denied = 0;
		return 1;
	}
	if (vlen == 4 && memcmp(v, "deny", 4) == 0) {
		*denied = 1;
		return 1;
	}
	return 0;
}

static int
json_line(const char *line, size_t len, char *method, char *path,
    int *denied)
{
	struct json_doc			*d;
	const struct json_value		*root, *m, *p, *v;
	const char			*why;
	size_t				 off;
	int				 rv = 0;

	if ((d = json_parse(line, len, NULL, &why, &off)) == NULL)
		return 0;
	root = json_root(d);
	m = json_get(root, "method");
	p = json_get(root, "path");
	v = json_get(root, "verdict");
	if (m != NULL && p != NULL && v != NULL && m->type == JSON_STRING &&
	    p->type == JSON_STRING && v->type == JSON_STRING &&
	    verdict_of(v->str, v->len, denied) &&
	    take(m->str, m->len, method, LEARN_METHOD_MAX) == 0 &&
	    take(p->str, p->len, path, LEARN_PATH_MAX) == 0)
		rv = 1;
	json_free(d);
	return rv;
}

int
learn_parse_line(const char *line, size_t len, char method[LEARN_METHOD_MAX],
    char path[LEARN_PATH_MAX], int *denied)
{
	const char	*m, *p, *v, *brace;
	size_t		 mlen, plen, vlen;

	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	/*
	 * A JSON object, maybe after a syslog or journal prefix.  A text
	 * line's values cannot make one: a path's braces and quotes are
	 * %-encoded, a quoted value's quotes are escaped.
	 */
	if (len > 0 && line[len - 1] == '}' &&
	    (brace = memchr(line, '{', len)) != NULL &&
	    json_line(brace, len - (brace - line), method, path, denied))
		return 1;
	if ((m = text_field(line, len, "method", &mlen)) == NULL ||
	    (p = text_field(line, len, "path", &plen)) == NULL ||
	    (v = text_field(line, len, "verdict", &vlen)) == NULL ||
	    !verdict_of(v, vlen, denied))
		return 0;
	if (take(m, mlen, method, LEARN_METHOD_MAX) == -1 ||
	    take(p, plen, path, LEARN_PATH_MAX) == -1)
		return 0;
	return 1;
}
