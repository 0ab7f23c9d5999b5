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
 * The container table: what the daemon says of its containers (id, name,
 * labels, network addresses), for the client blocks' `match container
 * name|label` lines and for telling which container a TCP peer on a
 * Docker network is (issue 13).
 *
 * Pure: no I/O, no globals.  The watcher process (daemon/watcher.c,
 * sandboxed, holding no Docker descriptor) reads the daemon's answers to
 * two fixed requests the parent makes for it:
 *	GET /events?filters=... (only a trigger: any bytes mean "list again")
 *	GET /containers/json?all=1
 * with ctab_resp_*, parses the list's body with ctab_parse_list, and
 * sends the table to the policy worker (ctab_encode); the worker decodes
 * it (ctab_decode, strict) and looks up with ctab_byid / ctab_byaddr.
 */

#ifndef MOATD_CTABLE_H
#define MOATD_CTABLE_H

#include <stddef.h>
#include <stdint.h>

#include "policy.h"

#define CTAB_MAX_CONTAINERS	8192
#define CTAB_MAX_LABELS		256	/* per container */
#define CTAB_MAX_ADDRS		32	/* per container */
#define CTAB_NAME_MAX		256	/* with the NUL */
#define CTAB_LABEL_MAX		4096	/* "key=value" with the NUL */
#define CTAB_ADDR_MAX		46	/* INET6_ADDRSTRLEN */
#define CTAB_LIST_MAX		(32 * 1024 * 1024) /* the list's body */
/* JSON values in the list, in all (json_limits items_max): what the
 * parsed tree may cost, about 100 bytes a value. */
#define CTAB_ITEMS_MAX		(2 * 1024 * 1024)

struct ctab_entry {
	char		 id[65];	/* 64 lowercase hex */
	char		 name[CTAB_NAME_MAX];	/* without the leading '/' */
	char		**labels;	/* "key=value", as the daemon has them */
	size_t		 nlabels;
	char		**addrs;	/* inet_ntop text of each network's
					 * IPAddress and GlobalIPv6Address */
	size_t		 naddrs;
};

struct ctab {
	struct ctab_entry	*e;	/* sorted by id once indexed */
	size_t			 n;
	/* ctab_index(): (address, entry) sorted by address */
	struct ctab_addr {
		char		 addr[CTAB_ADDR_MAX];
		size_t		 entry;
		int		 shared; /* more than one container holds it */
	}			*byaddr;
	size_t			 naddr;
};

void	ctab_init(struct ctab *);
void	ctab_free(struct ctab *);

/*
 * The body of GET /containers/json?all=1 (a JSON array, policy/json.c),
 * into t (which must be empty), then indexed.  A container without a 64-hex
 * Id is an error; the name is Names[0] without its '/' (strictly: the
 * first of Names without a second '/', since a container linked to
 * also has "/other/alias" names, sorted with its own); Labels' members
 * become "key=value"; NetworkSettings.Networks.*.IPAddress and
 * .GlobalIPv6Address (when not empty) become addrs, in canonical
 * inet_ntop form (an IPv4-mapped IPv6 address as the IPv4 one); an
 * address that does not parse is an error.  Over a CTAB_* limit is an
 * error; so is a container labelled with two keys equal under case
 * folding ("a" and "A"), since json_parse refuses such an object.  0, or
 * -1 with why (t is then empty; t not empty to start with: -1, untouched).
 */
int	ctab_parse_list(struct ctab *t, const char *body, size_t len,
	    char *why, size_t whylen);

/* Sort t->e by id and build the address index (ctab_parse_list and
 * ctab_decode call it).  0, or -1 (ENOMEM, duplicate id). */
int	ctab_index(struct ctab *);

/* The entry with this full id, or NULL. */
const struct ctab_entry *ctab_byid(const struct ctab *, const char *id);
/*
 * The entry holding this address (any inet_pton-able text, compared in
 * canonical form; an IPv4-mapped IPv6 address is the IPv4 one), or NULL when none does or more than one does (an
 * address two networks both use names no container).
 */
const struct ctab_entry *ctab_byaddr(const struct ctab *, const char *addr);

/*
 * On the wire (watcher -> policy worker, MSG_WATCH_TABLE): u32 count,
 * then per entry id, name, u32 nlabels, labels, u32 naddrs, addrs (mbuf
 * strings).  Decode is strict: every limit above, id 64 lowercase hex,
 * names and labels without NUL, labels with a '=', addresses in canonical
 * form, no duplicate id, nothing left over.  0, or -1 (t is then empty;
 * t not empty to start with: -1, untouched).
 * Encode fails (-1, mbuf err set) over MBUF_MAX.
 */
int	ctab_encode(const struct ctab *, struct mbuf *);
int	ctab_decode(struct ctab *, struct mbuf *);

/*
 * A response from the daemon, read incrementally (the watcher's two
 * streams).  Feed it what arrives; it keeps at most the head (up to
 * HTTP_HEAD_MAX) and, for the list, the body up to CTAB_LIST_MAX.
 */
enum {
	CTAB_RESP_HEAD = 0,	/* reading the head */
	CTAB_RESP_BODY,		/* a 200 head is in: reading the body */
	CTAB_RESP_DONE,
	CTAB_RESP_ERROR,
};

struct ctab_resp {
	int			 keep_body;	/* 1: collect the body */
	int			 state;		/* CTAB_RESP_* */
	char			*head;
	size_t			 headlen;
	struct http_response	 r;
	struct chunked		 ch;
	uint64_t		 left;		/* RESP_LENGTH: bytes to come */
	uint8_t			*body;
	size_t			 bodylen;
	size_t			 bodysize;
	uint64_t		 seen;		/* body bytes seen in all */
};

void	ctab_resp_init(struct ctab_resp *, int keep_body);
void	ctab_resp_free(struct ctab_resp *);
/*
 * Feed len bytes (eof: the daemon closed after them).  Returns 1 when the
 * response is complete (the list: body holds it), 0 when more is due,
 * -1 on an error (a head that does not parse, a status other than 200,
 * a framing error, over a limit, EOF too soon, bytes after the end) with
 * why; once -1, always -1.  *newbody is set to how many body bytes (chunk
 * data only, not framing) this call brought (the events stream's
 * trigger).
 */
int	ctab_resp_feed(struct ctab_resp *, const uint8_t *, size_t, int eof,
	    size_t *newbody, char *why, size_t whylen);

#endif /* MOATD_CTABLE_H */
