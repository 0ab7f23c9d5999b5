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

#include <openssl/evp.h>

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
	v->client = -1;		/* the top level, unless the worker says */
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

int
body_sum(const void *p, size_t len, uint8_t sum[VERDICT_SUMLEN])
{
	unsigned int	 n = 0;

	if (EVP_Digest(p, len, sum, &n, EVP_sha256(), NULL) != 1 ||
	    n != VERDICT_SUMLEN)
		return -1;
	return 0;
}

/* A refusal by the body policy: 403, why names the field and value. */
static void
set_admission(struct verdict *v, const char *why)
{
	v->kind = VERDICT_DENY;
	v->status = 403;
	v->rule = -1;
	v->hijack = 0;
	v->admission = 1;
	verdict_clear(v);
	strlcpy(v->why, why, sizeof(v->why));
}

/* The Expect field goes: the relay answered it, Docker reads no more. */
static void
drop_expect(struct verdict *v)
{
	char	*f = v->fields, *end;
	size_t	 left = v->fieldslen, n;

	while (f != NULL && left > 0 &&
	    (end = memmem(f, left, "\r\n", 2)) != NULL) {
		n = end + 2 - f;
		left -= n;
		if (n > 7 && strncasecmp(f, "Expect:", 7) == 0) {
			memmove(f, end + 2, left);
			v->fieldslen -= n;
			continue;
		}
		f = end + 2;
	}
	if (v->fieldslen == 0) {
		free(v->fields);
		v->fields = NULL;
	}
	v->expect_continue = 0;
}

/*
 * A member name given twice in one object (or under case folding, or
 * escaped) is valid JSON that Docker would read as the last one: a
 * refusal of the policy's (403) that names the key as written, from the
 * name at off, printable ASCII and the rest as \xNN.
 */
static void
dup_key(const char *body, size_t len, size_t off, struct verdict *v)
{
	char		 name[64], why[sizeof(v->why)];
	size_t		 i, n = 0;
	unsigned char	 c;

	for (i = off + 1; i < len && body[i] != '"' &&
	    n + 5 < sizeof(name); i++) {
		if (body[i] == '\\' && i + 1 < len)
			name[n++] = body[i++];
		c = body[i];
		if (c > 0x20 && c < 0x7f)
			name[n++] = c;
		else
			n += snprintf(name + n, sizeof(name) - n, "\\x%02X", c);
	}
	name[n] = '\0';
	snprintf(why, sizeof(why), "duplicate key %s at byte %zu", name, off);
	set_admission(v, why);
}

/* The body, parsed and checked: ALLOW (checked), DENY or BAD. */
static void
check_body(const struct body_policy *bp, const char *query,
    const char *body, size_t len, body_pathfn pathfn, void *arg,
    struct verdict *v)
{
	struct json_limits	 lim;
	struct json_doc		*doc;
	const char		*why;
	char			 msg[sizeof(v->why)];
	size_t			 off = 0;
	int			 rv;

	lim.size_max = bp->limit != 0 ? bp->limit : BODY_LIMIT_DEFAULT;
	lim.depth_max = JSON_DEPTH_MAX;
	lim.items_max = JSON_ITEMS_MAX;
	lim.exact_names = 0;	/* a client's "a" and "A" are one to Go */
	if (len > lim.size_max) {
		set_bad(v, 413, "request body over the limit");
		return;
	}
	if ((doc = json_parse(body, len, &lim, &why, &off)) == NULL) {
		if (strcmp(why, "out of memory") == 0) {
			set_bad(v, 503, "out of memory");
			return;
		}
		if (strcmp(why, "duplicate key") == 0 && off < len &&
		    body[off] == '"') {
			dup_key(body, len, off, v);
			return;
		}
		snprintf(msg, sizeof(msg), "request body is not valid JSON: "
		    "%s at byte %zu", why, off);
		set_bad(v, 400, msg);
		return;
	}
	rv = body_check(bp, v->method, v->path, query, json_root(doc),
	    pathfn, arg, msg, sizeof(msg));
	json_free(doc);
	if (rv == -1) {
		set_admission(v, msg);
		return;
	}
	v->framing = FRAMING_LENGTH;
	v->length = len;
	drop_expect(v);
	if (body_sum(body, len, v->bodysum) == -1) {
		set_bad(v, 500, "cannot hash the request body");
		return;
	}
	v->checked = 1;
}

/*
 * On the endpoints checked by their query, Docker reads a form posted
 * as the body before the query (r.FormValue): every Content-Type field
 * the request forwards must be neither a form nor multipart
 * (body_content_type).  0, or -1 with why set.
 */
static int
form_body(const struct verdict *v, char *why, size_t whysz)
{
	static const char	 name[] = "content-type:";
	const char		*f = v->fields, *end, *val;
	size_t			 left = v->fieldslen, n = sizeof(name) - 1;

	while (f != NULL && left > 0 &&
	    (end = memmem(f, left, "\r\n", 2)) != NULL) {
		if ((size_t)(end - f) >= n && strncasecmp(f, name, n) == 0) {
			for (val = f + n; val < end &&
			    (*val == ' ' || *val == '\t'); val++)
				;
			if (body_content_type(v->method, v->path, val,
			    end - val, why, whysz) == -1)
				return -1;
		}
		left -= end + 2 - f;
		f = end + 2;
	}
	return 0;
}

void
policy_decide_req(struct ruleset *rs, const struct http_limits *limits,
    const struct body_policy *bp, const char *head, size_t headlen,
    const char *body, size_t bodylen, int hasbody, body_pathfn pathfn,
    void *arg, struct verdict *v)
{
	static const struct body_policy	 none;
	enum body_kind			 kind;
	const char			*query;
	char				 msg[sizeof(v->why)];
	int				 withbody;

	if (bp == NULL)
		bp = &none;
	policy_decide(rs, limits, head, headlen, v);
	if (v->kind != VERDICT_ALLOW)
		return;
	kind = body_endpoint(v->method, v->path);
	withbody = v->framing == FRAMING_CHUNKED ||
	    (v->framing == FRAMING_LENGTH && v->length > 0);
	/* A body only when it was asked for: a relay that sends one
	 * unasked is refused the request. */
	if (hasbody && (kind != BODY_JSON || !withbody)) {
		set_bad(v, 400, "a request body that was not asked for");
		return;
	}
	if (kind == BODY_NONE)
		return;
	query = strchr(v->target, '?');
	query = query != NULL ? query + 1 : "";
	if (kind == BODY_JSON && withbody) {
		if (hasbody) {
			check_body(bp, query, body, bodylen, pathfn, arg, v);
			return;
		}
		/* Send me the body: nothing of this request goes yet. */
		v->kind = VERDICT_BODY;
		v->body_max = bp->limit != 0 ? bp->limit : BODY_LIMIT_DEFAULT;
		verdict_clear(v);
		return;
	}
	/* The query alone, or no body: Docker refuses or takes defaults. */
	if (form_body(v, msg, sizeof(msg)) == -1 ||
	    body_check(bp, v->method, v->path, query, NULL, pathfn, arg, msg,
	    sizeof(msg)) == -1)
		set_admission(v, msg);
}
