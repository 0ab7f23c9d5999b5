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
 * One request head in, one verdict out: parse strictly, canonicalise the
 * target, match the rules on the decoded path that Docker will read (and
 * forward the one encoding of it that Go decodes back to it), and
 * say which header fields may go on to Docker.  Everything not listed
 * below is dropped, so the relay's head carries only what Docker reads:
 * framing, Host, Connection and Upgrade are written by the relay itself
 * from the verdict, never copied from the client.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy.h"

/*
 * The request fields the Docker Engine and BuildKit read (moby's api/
 * server routers, buildkit's session manager, x/net/websocket).  Not
 * here: Accept-Encoding (Docker never compresses a response; without it
 * no Content-Encoding can surprise the relay), Authorization and Cookie
 * (Docker ignores them; they would only leak credentials to it),
 * Origin, X-Forwarded-*, and the hop-by-hop fields.
 */
static const struct {
	const char	*name;
	int		 prefix;	/* a family: name is a prefix */
} forward[] = {
	{ "Accept", 0 },
	{ "Content-Type", 0 },		/* CheckForJSON, build, archive */
	{ "User-Agent", 0 },		/* logged, sent on to registries */
	{ "X-Registry-Auth", 0 },	/* pull, push, service create */
	{ "X-Registry-Config", 0 },	/* build */
	{ "X-Docker-Expose-Session-", 1 },	/* POST /session */
	{ "Sec-WebSocket-Key", 0 },	/* GET .../attach/ws */
	{ "Sec-WebSocket-Version", 0 },
	{ "Sec-WebSocket-Protocol", 0 },
};

/* A name longer than this is never forwarded, nor named by Connection. */
#define FIELD_NAME_MAX	64

static int
name_is(const struct http_field *f, const char *name, int prefix)
{
	size_t	 n = strlen(name);

	if (prefix ? f->namelen <= n : f->namelen != n)
		return 0;
	return strncasecmp(f->name, name, n) == 0;
}

/* RFC 9110 7.6.1: a field named in Connection is hop-by-hop. */
static int
named_by_connection(const struct http_request *req,
    const struct http_field *f)
{
	const struct http_field	*c;
	char			 name[FIELD_NAME_MAX + 1];
	size_t			 i;

	memcpy(name, f->name, f->namelen);
	name[f->namelen] = '\0';
	for (i = 0; i < req->nfields; i++) {
		c = &req->fields[i];
		if (name_is(c, "Connection", 0) &&
		    http_list_has(c->value, c->valuelen, name))
			return 1;
	}
	return 0;
}

static int
forwarded(const struct http_request *req, const struct http_field *f)
{
	size_t	 i;

	if (f->namelen > FIELD_NAME_MAX)
		return 0;
	/* 100-continue only: Docker (Go) answers it when it reads the
	 * body; an HTTP/1.0 client must never see a 100 (RFC 9110). */
	if (name_is(f, "Expect", 0))
		return req->expect_continue;
	for (i = 0; i < sizeof(forward) / sizeof(forward[0]); i++)
		if (name_is(f, forward[i].name, forward[i].prefix))
			return !named_by_connection(req, f);
	return 0;
}

/* "Name: value\r\n" for each forwarded field, in the order received. */
static int
build_fields(const struct http_request *req, struct verdict *v)
{
	const struct http_field	*f;
	size_t			 i, len = 0, off = 0;

	for (i = 0; i < req->nfields; i++) {
		f = &req->fields[i];
		if (forwarded(req, f))
			len += f->namelen + 2 + f->valuelen + 2;
	}
	if (len == 0)
		return 0;
	if (len > VERDICT_FIELDS_MAX)
		return -1;
	if ((v->fields = malloc(len)) == NULL)
		return -1;
	for (i = 0; i < req->nfields; i++) {
		f = &req->fields[i];
		if (!forwarded(req, f))
			continue;
		memcpy(v->fields + off, f->name, f->namelen);
		off += f->namelen;
		memcpy(v->fields + off, ": ", 2);
		off += 2;
		memcpy(v->fields + off, f->value, f->valuelen);
		off += f->valuelen;
		memcpy(v->fields + off, "\r\n", 2);
		off += 2;
	}
	v->fieldslen = off;
	return 0;
}

static void
set_bad(struct verdict *v, int status, const char *why)
{
	v->kind = VERDICT_BAD;
	v->status = status;
	v->rule = -1;
	v->keepalive = 0;
	v->hijack = 0;
	freezero(v->fields, v->fieldslen);
	v->fields = NULL;
	v->fieldslen = 0;
	strlcpy(v->why, why, sizeof(v->why));
}

/* For the log: whatever part of a refused request line was good. */
static void
note_refused(const struct http_request *req, struct verdict *v)
{
	char		 query[CANON_QUERY_MAX];
	const char	*why;

	strlcpy(v->method, req->method, sizeof(v->method));
	if (req->target == NULL || canon_target(req->target, req->targetlen,
	    v->path, sizeof(v->path), query, sizeof(query), &why) == -1)
		v->path[0] = '\0';
}

static const char *
deny_reason(int rv)
{
	switch (rv) {
	case RULE_NOMATCH:
		return "no rule allows it";
	case RULE_LIMIT:
		return "rule match limit reached";
	default:
		return "rule match error";
	}
}

void
policy_decide(struct ruleset *rs, const struct http_limits *limits,
    const char *head, size_t len, struct verdict *v)
{
	struct http_request	 req;
	char			 query[CANON_QUERY_MAX], enc[CANON_PATH_MAX];
	const char		*why;
	int			 status, rv, n;

	memset(v, 0, sizeof(*v));
	v->rule = -1;
	if (http_parse_request(head, len, limits, &req, &status,
	    &why) == -1) {
		note_refused(&req, v);
		set_bad(v, status, why);
		return;
	}
	strlcpy(v->method, req.method, sizeof(v->method));
	v->framing = req.framing;
	v->length = req.length;
	v->minor = req.minor;
	v->keepalive = req.keepalive;
	v->expect_continue = req.expect_continue;
	if (req.upgrade)
		strlcpy(v->upgrade_proto, req.upgrade_proto,
		    sizeof(v->upgrade_proto));

	if (canon_target(req.target, req.targetlen, v->path, sizeof(v->path),
	    query, sizeof(query), &why) == -1) {
		v->path[0] = '\0';
		set_bad(v, 400, why);
		return;
	}
	/*
	 * Forward the canonical encoding of the decoded path that the rules
	 * match.  An empty query ("/x?") is no query: Go treats both alike.
	 */
	(void)canon_path_encode(v->path, enc, sizeof(enc));
	n = snprintf(v->target, sizeof(v->target), "%s%s%s", enc,
	    query[0] != '\0' ? "?" : "", query);
	if (n < 0 || (size_t)n >= sizeof(v->target)) {
		set_bad(v, 414, "request-target too long");
		return;
	}

	if (rs == NULL) {
		set_bad(v, 503, "no rules loaded");
		return;
	}
	/* Fail closed: a PCRE2 limit or error is a deny, never an allow. */
	if ((rv = ruleset_match(rs, v->method, v->path,
	    strlen(v->path))) < 0) {
		v->kind = VERDICT_DENY;
		v->status = 403;
		strlcpy(v->why, deny_reason(rv), sizeof(v->why));
		return;
	}
	v->kind = VERDICT_ALLOW;
	v->rule = rv;
	v->hijack = req.upgrade;
	if (build_fields(&req, v) == -1)
		set_bad(v, 500, "cannot build the forwarded fields");
}

void
verdict_clear(struct verdict *v)
{
	/* The fields may carry registry credentials (X-Registry-Auth). */
	freezero(v->fields, v->fieldslen);
	v->fields = NULL;
	v->fieldslen = 0;
}
