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
 * The pure library, the lowest layer: everything that interprets bytes a
 * client sent (head parser, canonicaliser, rules, decision), the framing
 * of bodies and of Docker's answers, and the verdict codec (payloads:
 * mbuf.h).  No I/O, no globals but constant tables, no logging but
 * through a caller's callback, no header from privsep/ or daemon/
 * (regress/layers.sh checks all of it), so that every module can be
 * unit-tested and fuzzed alone.  The policy worker and the relays link
 * them.
 */

#ifndef MOATD_POLICY_H
#define MOATD_POLICY_H

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "body.h"

/* rules.c: CetusGuard's rule language */

#define RULE_METHOD_MAX		32	/* longest method name, with NUL */
#define RULES_MATCH_LIMIT	100000	/* pcre2_set_match_limit */
#define RULES_DEPTH_LIMIT	10000	/* pcre2_set_depth_limit */
#define RULES_HEAP_LIMIT	(1024)	/* pcre2_set_heap_limit, KiB */

struct rule {
	char		*source;	/* file name, "builtin" or "-rules" */
	unsigned int	 line;
	char		**methods;	/* upper-case method names */
	size_t		 nmethods;
	char		*pattern;	/* as written */
	char		*expanded;	/* after %VARIABLE% expansion */
	pcre2_code	*re;
};

/* Called once per error, with "source:line: message". */
typedef void	(*rules_errfn)(void *, const char *);

struct ruleset {
	struct rule		*rules;
	size_t			 nrules;
	pcre2_match_context	*mctx;
	pcre2_match_data	*md;
	rules_errfn		 warn;		/* see ruleset_set_warn() */
	void			*warnarg;
};

/* Results of rule_match() and ruleset_match(). */
#define RULE_NOMATCH	(-1)
#define RULE_LIMIT	(-2)	/* a PCRE2 limit was hit: deny */
#define RULE_ERROR	(-3)

struct ruleset	*ruleset_new(void);
void		 ruleset_free(struct ruleset *);
/*
 * Where rule_match() tells the admin about a PCRE2 limit or error hit on
 * a path, "source:line: METHOD \"path\" (n bytes): what, denied"; by
 * default nowhere (the request is denied all the same).
 */
void		 ruleset_set_warn(struct ruleset *, rules_errfn, void *);
/* Returns the number of errors; on errors nothing is added. */
int		 ruleset_add_text(struct ruleset *, const char *source,
		    const char *text, size_t len, rules_errfn, void *);
int		 ruleset_add_builtin(struct ruleset *, rules_errfn, void *);
/* Index of the first rule listing method and matching path, or < 0. */
int		 ruleset_match(struct ruleset *, const char *method,
		    const char *path, size_t pathlen);
/* 1 when rule idx lists method and matches path, 0 if not, or < 0. */
int		 rule_match(const struct ruleset *, size_t idx,
		    const char *method, const char *path, size_t pathlen);
/*
 * "source:line METHODS expanded-pattern" (for moatd -n) into buf, NUL
 * terminated and truncated to len; returns the full length, as snprintf.
 */
size_t		 rule_format(const struct rule *, char *buf, size_t len);

/* re2.c: the pattern syntax both RE2 (CetusGuard) and PCRE2 read alike */

/*
 * 0 when pattern (len bytes of valid UTF-8) is RE2 syntax that PCRE2
 * reads the same way; -1 with *off (the byte offset of the construct)
 * and *why (a static string) otherwise.
 */
int	re2_check(const char *pattern, size_t len, size_t *off,
	    const char **why);

/* canon.c: request-target canonicalisation */

#define CANON_PATH_MAX		4096
#define CANON_QUERY_MAX		8192

/*
 * Split an origin-form request-target into a canonical path (what the
 * rules match: decoded, as Docker reads it) and a query (checked,
 * forwarded unchanged).  Returns 0, or -1 with *why set (a static
 * string): the request gets a 400.
 *
 * path: NUL-terminated, starts with '/', no empty, "." or ".." segment,
 * no trailing '/' (but "/" itself); every escape decoded, so it holds
 * printable ASCII and space, never '%' or '\'.  Refused: not
 * origin-form, '#', '\', CTL, space, non-ASCII, raw bytes outside pchar,
 * '/', '[' and ']', bad escapes, %2F %5C %25 %00-%1F %7F %80-%FF, a ".."
 * above the root, a path whose canonical encoding (canon_path_encode)
 * does not fit pathsz.
 * query: the bytes after the first '?', unchanged, NUL-terminated.
 * query[0] == '\0' means "no query": an empty query ("/x?") is dropped,
 * as Go treats both alike, so forward the encoded path, plus '?' and
 * query only when query[0] != '\0'.  Refused: bytes outside pchar / "/"
 * / "?", bad escapes, encoded CTLs (%00-%1F, %7F); %80-%FF are allowed.
 */
int	canon_target(const char *target, size_t len, char *path,
	    size_t pathsz, char *query, size_t querysz, const char **why);
/*
 * The one encoding of a decoded path that is forwarded: '/' and RFC 3986
 * pchar (unreserved, sub-delims, ':', '@') as they are, every other byte
 * as %XX with upper-case hex.  Safe for any input (a log line too).
 * Writes at most dstsz bytes, NUL-terminated (dst may be NULL when dstsz
 * is 0); returns the full length, as snprintf.
 */
size_t	canon_path_encode(const char *path, char *dst, size_t dstsz);
/*
 * 1 when target is exactly what is forwarded for the canonical path:
 * canon_path_encode(path), plus '?' and a clean query if any, and it
 * canonicalises back to path; 0 otherwise.  The relay's check.
 */
int	canon_verify(const char *path, const char *target);

/* http.c: the strict HTTP/1.x request head parser */

#define HTTP_HEAD_MAX		32768	/* bytes, CRLFCRLF included */
#define HTTP_LINE_MAX		8192	/* request line, bytes */
#define HTTP_HEADERS_MAX	100	/* header fields */

struct http_limits {
	size_t	 head_max;
	size_t	 line_max;
	size_t	 headers_max;
};

enum http_framing {
	FRAMING_NONE = 0,	/* no request body */
	FRAMING_LENGTH,		/* Content-Length bytes */
	FRAMING_CHUNKED,	/* Transfer-Encoding: chunked */
};

struct http_field {
	const char	*name;
	size_t		 namelen;
	const char	*value;		/* leading/trailing OWS removed */
	size_t		 valuelen;
};

struct http_request {
	char			 method[RULE_METHOD_MAX];
	const char		*target;	/* raw, points into the head */
	size_t			 targetlen;
	int			 minor;		/* HTTP/1.<minor>: 0 or 1 */
	struct http_field	 fields[HTTP_HEADERS_MAX];
	size_t			 nfields;
	enum http_framing	 framing;
	uint64_t		 length;	/* FRAMING_LENGTH only */
	int			 keepalive;	/* the client wants to reuse */
	int			 upgrade;	/* Connection: upgrade + Upgrade */
	char			 upgrade_proto[32];
	int			 expect_continue;
};

/* A Content-Length has at most this many digits: < 10^18, no overflow. */
#define HTTP_LENGTH_DIGITS	18

/*
 * Parse a complete head (request line, fields, the empty line).  Returns
 * 0, or -1 with *status (400, 414, 417, 431, 501, 505) and *why set (a
 * static string).  limits may be NULL for the defaults; headers_max is
 * capped at HTTP_HEADERS_MAX.  On error, req->method (and then
 * req->target) are set if they were parsed before the error, for the log.
 */
int	http_parse_request(const char *head, size_t len,
	    const struct http_limits *, struct http_request *, int *status,
	    const char **why);
/* Length of the head at the start of buf (through its empty line), 0 if
 * incomplete; a bare LF ends a head too so that the parser can refuse it. */
size_t	http_head_length(const char *buf, size_t len);
/* 1 when the comma-separated list value holds token (ASCII, any case). */
int	http_list_has(const char *value, size_t len, const char *token);
/* RFC 9110 tchar; case-insensitive ASCII compare of a counted string. */
int	http_tchar(unsigned char);
/* The value of a hex digit (either case), or -1. */
int	http_hexval(unsigned char);
int	http_ieq(const char *, size_t, const char *);
/* Digits only, no sign, no leading zero, <= HTTP_LENGTH_DIGITS: 0 or -1. */
int	http_parse_length(const char *, size_t, uint64_t *);

/* decide.c: one request head in, one verdict out */

enum verdict_kind {
	VERDICT_ALLOW = 1,
	VERDICT_DENY = 2,	/* well-formed, no rule allows it: 403 */
	VERDICT_BAD = 3,	/* malformed: status, then close */
	VERDICT_BODY = 4,	/* allowed so far: send the body (body.h) */
};

#define VERDICT_SUMLEN		32	/* SHA-256 of a checked body */

#define VERDICT_TARGET_MAX	(CANON_PATH_MAX + CANON_QUERY_MAX + 2)
#define VERDICT_FIELDS_MAX	HTTP_HEAD_MAX

struct verdict {
	enum verdict_kind	 kind;
	int			 status;	/* 0 when allowed */
	int			 rule;		/* index, or -1 */
	char			 method[RULE_METHOD_MAX];
	char			 path[CANON_PATH_MAX];	/* matched, decoded */
	char			 target[VERDICT_TARGET_MAX]; /* forwarded */
	/* the header fields to forward, "Name: value\r\n" each */
	char			*fields;
	size_t			 fieldslen;
	enum http_framing	 framing;
	uint64_t		 length;
	int			 minor;
	int			 keepalive;
	int			 hijack;	/* upgrade asked and allowed */
	char			 upgrade_proto[32];
	int			 expect_continue;
	char			 why[128];	/* for 400s and the log */
	/*
	 * DENY by the body policy (body.h): why names the field and the
	 * value, "HostConfig.Privileged=true", for the 403's message.
	 */
	int			 admission;
	/* BODY: the most the relay may read and send back, in bytes. */
	uint64_t		 body_max;
	/*
	 * ALLOW of a body the worker read and checked (framing LENGTH,
	 * length its size): the forwarder sends it only with exactly
	 * those bytes, whose SHA-256 is bodysum (fwd.h).
	 */
	int			 checked;
	uint8_t			 bodysum[VERDICT_SUMLEN];
	/*
	 * Decided on a body the relay sent with the head, the bytes that
	 * followed it in its buffer (policy_req hasbody 2): framing LENGTH,
	 * the relay takes length bytes of its input as the body held.
	 */
	int			 early;
	/* ALLOW: the policy worker's proof for the forwarder (fwd.h) */
	uint8_t			 mac[32];
	int			 hasmac;
	/*
	 * ALLOW without a body or an upgrade: a second proof, reusable for
	 * the same head under rules generation rgen (the relay may cache
	 * it, daemon/vcache.c).
	 */
	uint8_t			 rmac[32];
	int			 reusable;
	uint32_t		 rgen;
	/*
	 * The client block whose rules decided (daemon/client.c), -1 for
	 * the top level; client_name its name ("" for the top level).  Set
	 * by the policy worker, not by policy_decide().
	 */
	int			 client;
	char			 client_name[64];
};

/*
 * Every field of *v is set.  ALLOW: rule >= 0, hijack set when the client
 * asked for an upgrade (upgrade_proto), fields holds the allowlisted
 * fields (or NULL).  DENY (403): method, path, target and the framing are
 * set so the relay can answer and skip the body; no fields.  BAD: status
 * and why, method and path when they were parsed, keepalive 0.  target is
 * canon_path_encode(path), plus '?' and the query when the query is not
 * empty.  fields is
 * allocated: free it with verdict_clear() before reusing v.
 */
void	policy_decide(struct ruleset *, const struct http_limits *,
	    const char *head, size_t len, struct verdict *);
void	verdict_clear(struct verdict *);

/*
 * policy_decide(), then admission control (body.h) for what the rules
 * allowed.  Without a body (hasbody 0) on an endpoint whose JSON body is
 * checked: VERDICT_BODY, the client's framing and body_max (bp's limit),
 * no fields and no proof; the relay reads the body and asks again with
 * it (hasbody 1, body and bodylen).  The query alone, or a request
 * without a body, is checked at once.  A refusal by the body policy is a
 * DENY (403) with admission set and why naming the field; a body that is
 * not JSON (or over the limit) is BAD (400, 413).  An allowed body: ALLOW
 * with framing LENGTH, length bodylen, no Expect, checked and bodysum
 * set.  pathfn checks a bind source for symbolic links (body.h).
 */
void	policy_decide_req(struct ruleset *, const struct http_limits *,
	    const struct body_policy *, const char *head, size_t headlen,
	    const char *body, size_t bodylen, int hasbody, body_pathfn,
	    void *pathfn_arg, struct verdict *);
/* SHA-256 of len bytes: 0 or -1. */
int	body_sum(const void *, size_t, uint8_t sum[VERDICT_SUMLEN]);

/* chunked.c: a strict, incremental parser for chunked bodies */

#define CHUNKED_DIGITS_MAX	16	/* hex digits in chunk-size: uint64 */
#define CHUNKED_LINE_MAX	64	/* size line, extensions and CRLF */

struct chunked {
	int		 state;
	uint64_t	 remain;	/* data bytes left in this chunk */
	size_t		 linelen;	/* bytes in the current size/trailer line */
	int		 ndigits;
};

void	chunked_init(struct chunked *);
/*
 * Consume up to len bytes of a chunked body.  Returns how many bytes were
 * consumed (all of them belong to the body and may be forwarded as they
 * are), sets *done once the last chunk and the empty trailer line are
 * through, or returns -1 on a framing error (the connection must close).
 * Bytes after the end are not consumed.
 */
ssize_t	chunked_feed(struct chunked *, const uint8_t *, size_t, int *done);
/* The same, one run at a time: chunk-data only (*isdata) or framing only. */
ssize_t	chunked_step(struct chunked *, const uint8_t *, size_t, int *done,
	    int *isdata);

/* response.c: the daemon's (trusted, still bounded) response heads */

enum resp_framing {
	RESP_NONE = 0,		/* no body (HEAD, 1xx, 204, 304) */
	RESP_LENGTH,
	RESP_CHUNKED,
	RESP_EOF,		/* until the daemon closes */
};

struct http_response {
	int			 status;
	int			 minor;
	enum resp_framing	 framing;
	uint64_t		 length;
	int			 close;		/* Connection: close or 1.0 */
	int			 raw_stream;	/* vnd.docker.raw-stream/multiplexed */
	int			 upgrade;	/* 101 */
};

/*
 * Parse a complete response head; head_request says the request was
 * HEAD.  0, or -1 if the daemon's answer cannot be framed.
 */
int	http_parse_response(const char *, size_t, int head_request,
	    struct http_response *);

/* verdict.c: the verdict on the wire */

struct mbuf;

int	verdict_encode(const struct verdict *, struct mbuf *);
int	verdict_decode(struct mbuf *, struct verdict *);
/*
 * MSG_POLICY_REQ: the head, the relay's counter, and the body when the
 * worker asked for it (VERDICT_BODY; hasbody 1, else no bytes); or, on a
 * first trip, hasbody 2 and the bytes that followed the head in the
 * relay's buffer, unframed (at most POLICY_AHEAD_MAX): the worker may
 * take a Content-Length body from them and decide at once (early).
 * 0 or -1.
 */
#define POLICY_AHEAD_MAX	(64 * 1024)
int	policy_req_encode(struct mbuf *, const char *head, size_t len,
	    uint64_t ctr, int hasbody, const void *body, size_t bodylen);
int	policy_req_decode(const void *, size_t, const void **head,
	    size_t *headlen, uint64_t *ctr, int *hasbody, const void **body,
	    size_t *bodylen);
/*
 * Issue 13: the relay appends the connection's identity ("who", an
 * encoded ident, daemon/moatd.h ident_encode) after the body when its
 * configuration has client blocks; who/wholen point at it (wholen 0: none).
 * policy_req_decode refuses bytes after the body; this one takes them.
 */
int	policy_req_decode_who(const void *, size_t, const void **head,
	    size_t *headlen, uint64_t *ctr, int *hasbody, const void **body,
	    size_t *bodylen, const void **who, size_t *wholen);
/* verdict.c: the relay's re-check of a verdict (see there); 1 if good. */
int	verdict_check(const struct verdict *, const struct ruleset *);

#endif /* MOATD_POLICY_H */
