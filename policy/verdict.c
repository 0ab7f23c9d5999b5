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
 * The verdict on the wire, policy worker to relay.  The relay trusts
 * none of it blindly: it re-checks the rule and the target (relay.c), and
 * every string is length-checked and NUL-free here.
 */

#include <stdlib.h>
#include <string.h>

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
	return m->err ? -1 : 0;
}

int
verdict_decode(struct mbuf *m, struct verdict *v)
{
	uint32_t	 kind, status, rule, framing, minor, ka, hj, ex;
	const void	*fields, *mac;
	size_t		 fieldslen, maclen;

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
	    mbuf_end(m) == -1)
		return -1;
	if (maclen != 0 && maclen != sizeof(v->mac))
		return -1;
	v->hasmac = maclen != 0;
	memcpy(v->mac, mac, maclen);
	if (kind < VERDICT_ALLOW || kind > VERDICT_BAD ||
	    framing > FRAMING_CHUNKED || minor > 1 || status > 599 ||
	    fieldslen > VERDICT_FIELDS_MAX)
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
 * and the relay's counter for it (the approval's, fwd.h).  Nothing else:
 * the worker decides on the head alone.
 */
int
policy_req_encode(struct mbuf *m, const char *head, size_t len,
    uint64_t ctr)
{
	mbuf_add_data(m, head, len);
	mbuf_add_u64(m, ctr);
	return m->err ? -1 : 0;
}

int
policy_req_decode(const void *buf, size_t len, const void **head,
    size_t *headlen, uint64_t *ctr)
{
	struct mbuf	 m;

	mbuf_reader(&m, buf, len);
	if (mbuf_get_data(&m, head, headlen) == -1 ||
	    mbuf_get_u64(&m, ctr) == -1 || mbuf_end(&m) == -1)
		return -1;
	return 0;
}
