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
 * The verdict on the wire, policy worker to relay, and the relay's
 * re-check of it.  The relay trusts none of it blindly: every string is
 * length-checked and NUL-free after verdict_decode(), and
 * verdict_check() holds it to what the rules allow and to what an honest
 * policy_decide() can produce.
 */

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mbuf.h"
#include "policy.h"

int
verdict_encode(const struct verdict *v, struct mbuf *m)
{
	mbuf_add_u32(m, v->kind);
	mbuf_add_u32(m, v->status);
	mbuf_add_u32(m, (uint32_t)(v->rule + 1));
	mbuf_add_str(m, v->method);
	mbuf_add_str(m, v->path);
	mbuf_add_str(m, v->target);
	mbuf_add_data(m, v->fields != NULL ? v->fields : "", v->fieldslen);
	mbuf_add_u32(m, v->framing);
	mbuf_add_u64(m, v->length);
	mbuf_add_u32(m, v->minor);
	mbuf_add_u32(m, v->keepalive);
	mbuf_add_u32(m, v->hijack);
	mbuf_add_u32(m, v->expect_continue);
	mbuf_add_str(m, v->upgrade_proto);
	mbuf_add_str(m, v->why);
	mbuf_add_data(m, v->mac, v->hasmac ? sizeof(v->mac) : 0);
	mbuf_add_data(m, v->rmac, v->reusable ? sizeof(v->rmac) : 0);
	mbuf_add_u32(m, v->reusable ? v->rgen : 0);
	mbuf_add_u32(m, v->admission);
	mbuf_add_u64(m, v->body_max);
	mbuf_add_data(m, v->bodysum, v->checked ? sizeof(v->bodysum) : 0);
	mbuf_add_u32(m, (uint32_t)(v->client + 1));
	mbuf_add_str(m, v->client >= 0 ? v->client_name : "");
	mbuf_add_u32(m, v->early);
	return m->err ? -1 : 0;
}

/* A client block's name: 1-63 of [A-Za-z0-9._-] (moatd.conf(5)). */
static int
client_name_ok(const char *p)
{
	size_t	 n = strlen(p), i;

	if (n == 0 || n >= sizeof(((struct verdict *)0)->client_name))
		return 0;
	for (i = 0; i < n; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') ||
		    (p[i] >= 'A' && p[i] <= 'Z') ||
		    (p[i] >= '0' && p[i] <= '9') || p[i] == '.' ||
		    p[i] == '_' || p[i] == '-'))
			return 0;
	return 1;
}

int
verdict_decode(struct mbuf *m, struct verdict *v)
{
	uint32_t	 kind, status, rule, framing, minor, ka, hj, ex, adm;
	uint32_t	 client, early;
	const void	*fields, *mac, *rmac, *sum;
	size_t		 fieldslen, maclen, rmaclen, sumlen;

	memset(v, 0, sizeof(*v));
	if (mbuf_get_u32(m, &kind) == -1 || mbuf_get_u32(m, &status) == -1 ||
	    mbuf_get_u32(m, &rule) == -1 ||
	    mbuf_get_str(m, v->method, sizeof(v->method)) == -1 ||
	    mbuf_get_str(m, v->path, sizeof(v->path)) == -1 ||
	    mbuf_get_str(m, v->target, sizeof(v->target)) == -1 ||
	    mbuf_get_data(m, &fields, &fieldslen) == -1 ||
	    mbuf_get_u32(m, &framing) == -1 ||
	    mbuf_get_u64(m, &v->length) == -1 ||
	    mbuf_get_u32(m, &minor) == -1 || mbuf_get_u32(m, &ka) == -1 ||
	    mbuf_get_u32(m, &hj) == -1 || mbuf_get_u32(m, &ex) == -1 ||
	    mbuf_get_str(m, v->upgrade_proto, sizeof(v->upgrade_proto)) == -1 ||
	    mbuf_get_str(m, v->why, sizeof(v->why)) == -1 ||
	    mbuf_get_data(m, &mac, &maclen) == -1 ||
	    mbuf_get_data(m, &rmac, &rmaclen) == -1 ||
	    mbuf_get_u32(m, &v->rgen) == -1 ||
	    mbuf_get_u32(m, &adm) == -1 ||
	    mbuf_get_u64(m, &v->body_max) == -1 ||
	    mbuf_get_data(m, &sum, &sumlen) == -1 ||
	    mbuf_get_u32(m, &client) == -1 ||
	    mbuf_get_str(m, v->client_name, sizeof(v->client_name)) == -1 ||
	    mbuf_get_u32(m, &early) == -1 || mbuf_end(m) == -1)
		return -1;
	/* Early: a Content-Length body decided on, taken by the relay. */
	if (early > 1 || (early && (framing != FRAMING_LENGTH ||
	    kind == VERDICT_BODY || (kind == VERDICT_ALLOW && sumlen == 0))))
		return -1;
	v->early = early;
	/* The client block: -1 (the top level) and no name, or a name. */
	if (client > INT_MAX ||
	    (client == 0) != (v->client_name[0] == '\0') ||
	    (client != 0 && !client_name_ok(v->client_name)))
		return -1;
	v->client = (int)client - 1;
	if ((maclen != 0 && maclen != sizeof(v->mac)) ||
	    (rmaclen != 0 && rmaclen != sizeof(v->rmac)) ||
	    (sumlen != 0 && sumlen != sizeof(v->bodysum)) || adm > 1)
		return -1;
	/* A checked body: an ALLOW of exactly length bytes, used once. */
	v->checked = sumlen != 0;
	memcpy(v->bodysum, sum, sumlen);
	if (v->checked && (kind != VERDICT_ALLOW || framing != FRAMING_LENGTH ||
	    rmaclen != 0))
		return -1;
	v->admission = adm;
	if (v->admission && kind != VERDICT_DENY)
		return -1;
	if (v->body_max != 0 && kind != VERDICT_BODY)
		return -1;
	v->hasmac = maclen != 0;
	memcpy(v->mac, mac, maclen);
	/* Reusable: an approval without a body or an upgrade (fwd.h). */
	v->reusable = rmaclen != 0;
	memcpy(v->rmac, rmac, rmaclen);
	if (v->reusable && (kind != VERDICT_ALLOW || !v->hasmac ||
	    framing != FRAMING_NONE || hj != 0 || v->rgen == 0))
		return -1;
	if (!v->reusable && v->rgen != 0)
		return -1;
	if (kind < VERDICT_ALLOW || kind > VERDICT_BODY ||
	    framing > FRAMING_CHUNKED || minor > 1 || status > 599 ||
	    rule > INT_MAX || fieldslen > VERDICT_FIELDS_MAX)
		return -1;
	v->kind = kind;
	v->status = status;
	v->rule = (int)rule - 1;
	v->framing = framing;
	v->minor = minor;
	v->keepalive = ka != 0;
	v->hijack = hj != 0;
	v->expect_continue = ex != 0;
	if (fieldslen > 0) {
		if ((v->fields = malloc(fieldslen)) == NULL)
			return -1;
		memcpy(v->fields, fields, fieldslen);
	}
	v->fieldslen = fieldslen;
	return 0;
}

/*
 * MSG_POLICY_REQ, relay to policy worker: the head as the client sent it
 * and the relay's counter for it (the approval's, fwd.h); and, once the
 * worker asked for it (VERDICT_BODY), the body, dechunked; and, when the
 * relay's configuration has client blocks, the connection's identity
 * after it (policy_req_decode_who).  The worker decides on these alone.
 */
int
policy_req_encode(struct mbuf *m, const char *head, size_t len,
    uint64_t ctr, int hasbody, const void *body, size_t bodylen)
{
	if (!hasbody && bodylen != 0)
		m->err = 1;
	mbuf_add_data(m, head, len);
	mbuf_add_u64(m, ctr);
	mbuf_add_u32(m, (uint32_t)hasbody);
	if (hasbody < 0 || hasbody > 2)
		m->err = 1;
	mbuf_add_data(m, bodylen > 0 ? body : "", bodylen);
	return m->err ? -1 : 0;
}

int
policy_req_decode(const void *buf, size_t len, const void **head,
    size_t *headlen, uint64_t *ctr, int *hasbody, const void **body,
    size_t *bodylen)
{
	struct mbuf	 m;
	uint32_t	 hb;

	mbuf_reader(&m, buf, len);
	if (mbuf_get_data(&m, head, headlen) == -1 ||
	    mbuf_get_u64(&m, ctr) == -1 || mbuf_get_u32(&m, &hb) == -1 ||
	    mbuf_get_data(&m, body, bodylen) == -1 || mbuf_end(&m) == -1)
		return -1;
	if (hb > 2 || (hb == 0 && *bodylen != 0) ||
	    (hb == 2 && (*bodylen == 0 || *bodylen > POLICY_AHEAD_MAX)))
		return -1;
	*hasbody = hb;
	return 0;
}

/*
 * The same, and the connection's identity after the body when there is
 * one (wholen 0: none).  The who bytes are the caller's to decode
 * (ident_decode, strictly); here they are only not empty when present.
 */
int
policy_req_decode_who(const void *buf, size_t len, const void **head,
    size_t *headlen, uint64_t *ctr, int *hasbody, const void **body,
    size_t *bodylen, const void **who, size_t *wholen)
{
	struct mbuf	 m;
	uint32_t	 hb;

	*who = NULL;
	*wholen = 0;
	mbuf_reader(&m, buf, len);
	if (mbuf_get_data(&m, head, headlen) == -1 ||
	    mbuf_get_u64(&m, ctr) == -1 || mbuf_get_u32(&m, &hb) == -1 ||
	    mbuf_get_data(&m, body, bodylen) == -1 || m.err)
		return -1;
	if (hb > 2 || (hb == 0 && *bodylen != 0) ||
	    (hb == 2 && (*bodylen == 0 || *bodylen > POLICY_AHEAD_MAX)))
		return -1;
	*hasbody = hb;
	if (m.off < m.len) {
		*who = m.buf + m.off;
		*wholen = m.len - m.off;
	}
	return 0;
}

/* CetusGuard's method syntax, 1*%x41-5A: all the head parser takes. */
static int
is_upper(unsigned char c)
{
	return c >= 'A' && c <= 'Z';
}

/* Not empty, and every byte ok: a method, an Upgrade token. */
static int
all_of(const char *p, int (*ok)(unsigned char))
{
	if (*p == '\0')
		return 0;
	for (; *p != '\0'; p++)
		if (!ok(*p))
			return 0;
	return 1;
}

#define is_method(m)	all_of((m), is_upper)
#define is_token(t)	all_of((t), http_tchar)

/* Printed in the log and in a 4xx/5xx body: visible ASCII and space. */
static int
is_text(const char *p)
{
	for (; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			return 0;
	return 1;
}

/* NUL-terminated within its array (verdict_decode() ensures it). */
#define TERMINATED(a)	(memchr((a), '\0', sizeof(a)) != NULL)

/*
 * Header lines from the policy: "Name: value\r\n" each, the name a
 * token, the value without CTLs (HTAB aside), and never a field the
 * relay writes itself or a hop-by-hop one.  Expect (100-continue only)
 * only when the verdict says so.
 */
static int
fields_valid(const char *f, size_t len, int expect_continue)
{
	static const char *const ours[] = { "host", "content-length",
	    "transfer-encoding", "connection", "upgrade", "keep-alive",
	    "te", "trailer", "proxy-connection", "proxy-authorization",
	    "proxy-authenticate" };
	const char	*end, *colon, *p;
	size_t		 i, nl;

	if ((f == NULL) != (len == 0) || len > VERDICT_FIELDS_MAX)
		return 0;
	while (len > 0) {
		if ((end = memmem(f, len, "\r\n", 2)) == NULL)
			return 0;
		if ((colon = memchr(f, ':', end - f)) == NULL || colon == f)
			return 0;
		nl = colon - f;
		for (p = f; p < colon; p++)
			if (!http_tchar(*p))
				return 0;
		for (p = colon + 1; p < end; p++)
			if (((unsigned char)*p < 0x20 && *p != '\t') ||
			    *p == 0x7f)
				return 0;
		for (i = 0; i < sizeof(ours) / sizeof(ours[0]); i++)
			if (strlen(ours[i]) == nl &&
			    strncasecmp(f, ours[i], nl) == 0)
				return 0;
		if (nl == 6 && strncasecmp(f, "expect", nl) == 0 &&
		    !expect_continue)
			return 0;
		len -= end + 2 - f;
		f = end + 2;
	}
	return 1;
}

/* What every kind shares: the framing the relay reads the body by. */
static int
common_valid(const struct verdict *v)
{
	if (!TERMINATED(v->method) || !TERMINATED(v->path) ||
	    !TERMINATED(v->target) || !TERMINATED(v->upgrade_proto) ||
	    !TERMINATED(v->why) || !is_text(v->why))
		return 0;
	if (v->minor != 0 && v->minor != 1)
		return 0;
	switch (v->framing) {
	case FRAMING_NONE:
		return v->length == 0;
	case FRAMING_LENGTH:
		/* http_parse_length(): at most HTTP_LENGTH_DIGITS digits */
		return v->length < 1000000000000000000ULL;
	case FRAMING_CHUNKED:
		/* Transfer-Encoding on HTTP/1.0 is refused */
		return v->length == 0 && v->minor == 1;
	}
	return 0;
}

static int
allow_valid(const struct verdict *v, const struct ruleset *rs)
{
	if (v->status != 0 || rs == NULL || v->rule < 0 ||
	    (size_t)v->rule >= rs->nrules)
		return 0;
	if (!is_method(v->method) || !canon_verify(v->path, v->target))
		return 0;
	/* Upgrade only with a token to put on the Upgrade line, and only
	 * on HTTP/1.1; the token is there exactly when it is asked for. */
	if (v->hijack != (v->upgrade_proto[0] != '\0'))
		return 0;
	if (v->hijack && (!is_token(v->upgrade_proto) || v->minor != 1))
		return 0;
	if (v->expect_continue && v->minor != 1)
		return 0;
	if (!fields_valid(v->fields, v->fieldslen, v->expect_continue))
		return 0;
	return rule_match(rs, v->rule, v->method, v->path,
	    strlen(v->path)) == 1;
}

/*
 * An ALLOW: with a proof (checked by the caller), or of a checked body:
 * exactly length bytes, no Expect left (the relay answered it), never
 * reusable.
 */
static int
approval_valid(const struct verdict *v, const struct ruleset *rs)
{
	if (v->body_max != 0 || v->admission)
		return 0;
	if (v->checked && (v->framing != FRAMING_LENGTH ||
	    v->length > BODY_LIMIT_MAX || v->expect_continue || v->reusable))
		return 0;
	return allow_valid(v, rs);
}

/*
 * "Send me the body": what the rules allowed, on an endpoint whose JSON
 * body is checked, with a body to read of at most body_max bytes.  No
 * proof and no fields: nothing of it can reach Docker.  An upgrade (exec
 * start) is carried through to the ALLOW that follows.
 */
static int
body_valid(const struct verdict *v, const struct ruleset *rs)
{
	if (v->hasmac || v->reusable || v->checked || v->admission ||
	    v->fields != NULL || v->fieldslen != 0)
		return 0;
	if (v->framing == FRAMING_NONE ||
	    (v->framing == FRAMING_LENGTH && v->length == 0) ||
	    v->body_max < BODY_LIMIT_MIN ||
	    v->body_max > BODY_LIMIT_MAX)
		return 0;
	if (!allow_valid(v, rs))
		return 0;
	return body_endpoint(v->method, v->path) == BODY_JSON;
}

/* A refusal: nothing in it may reach Docker. */
static int
refusal_valid(const struct verdict *v)
{
	if (v->rule != -1 || v->hijack || v->fields != NULL ||
	    v->fieldslen != 0 || v->checked || v->body_max != 0 ||
	    v->hasmac || v->reusable)
		return 0;
	if (v->admission && (v->kind != VERDICT_DENY || v->why[0] == '\0'))
		return 0;
	if (v->upgrade_proto[0] != '\0' && !is_token(v->upgrade_proto))
		return 0;
	if (v->kind == VERDICT_DENY)
		return v->status == 403 && is_method(v->method) &&
		    canon_verify(v->path, v->target);
	/* BAD: method and path only as far as they were parsed (logged);
	 * the connection closes after the answer. */
	if (v->status < 400 || v->status > 599 || v->keepalive)
		return 0;
	if (v->method[0] != '\0' && !is_method(v->method))
		return 0;
	return v->path[0] == '\0' || (v->path[0] == '/' && is_text(v->path));
}

/*
 * The monitor principle: a compromised policy worker can get only what
 * the rules already allow.  An ALLOW names a rule that exists in rs,
 * lists the method and matches the decoded canonical path, and the target
 * forwarded is the canonical encoding of that path (plus a clean query),
 * which Docker decodes back to exactly the path matched; its fields,
 * framing and upgrade are consistent and carry nothing the relay writes
 * itself.  A BODY is such an ALLOW without fields or proof, on an
 * endpoint whose body is checked, with a limit in bounds.  A DENY or BAD
 * carries nothing that could be forwarded.  A
 * refusal's status is 403 for DENY and 400-599 for BAD: any other (a
 * 0, 1xx, 2xx, 3xx or 6xx) fails the check, so the relay never sends a
 * refusal that a client could take for success (the relay then answers
 * 403 and closes, as for any verdict that fails).  Pure: no globals, no
 * I/O (rule_match() only logs a PCRE2 limit).  1 when v passes, else 0.
 */
int
verdict_check(const struct verdict *v, const struct ruleset *rs)
{
	if (!common_valid(v))
		return 0;
	switch (v->kind) {
	case VERDICT_ALLOW:
		return approval_valid(v, rs);
	case VERDICT_BODY:
		return body_valid(v, rs);
	case VERDICT_DENY:
	case VERDICT_BAD:
		return refusal_valid(v);
	}
	return 0;
}
