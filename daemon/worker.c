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
 * The policy worker: the only process that parses a client's request
 * head.  It holds the compiled rules and nothing worth stealing: no
 * client or Docker descriptors, only its channel to the parent and one
 * channel per relay (received from the parent).  It runs chrooted, as an
 * unprivileged user, under the strictest seccomp filter, with a plain
 * poll(2) loop so that filter stays small.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "moatd.h"
#include "ctable.h"
#include "learn.h"

struct worker {
	struct ploop		*pl;	/* slot i: relay i's channel */
	/* what relay i's forwarder checks approvals with (fwd.h) */
	uint8_t			 keys[MOAT_PREFORK_MAX][FWD_KEYLEN];
	struct fwd_key		*mk[MOAT_PREFORK_MAX];	/* made ready */
	int			 haskey[MOAT_PREFORK_MAX];
	struct child_config	 cc;
	/* the generation of cc.rs (cc.gen is the one being loaded) */
	uint32_t		 gen;
	/* the host's "/", opened before the chroot: bind sources' links */
	int			 rootfd;
	/* moatd -learn: what the requests decided need (policy/learn.h) */
	struct learn		*learn;
	int			 learned;	/* since the parent last had it */
	/* the watcher's last container table (empty until it comes) */
	struct ctab		 ctab;
};

static struct worker	*w;

static void
worker_log(int pri, const char *msg)
{
	proc_log_send(ploop_chan(w->pl, -1), pri, msg);
}

/*
 * An approval binds the exact head the relay will send, its framing and
 * the relay's counter for this request, under relay i's key: the
 * forwarder writes nothing to Docker without it.
 */
static int
approve(int i, uint64_t ctr, struct verdict *v)
{
	struct fwd_head	 h;
	char		*head;
	int		 rv;

	memset(&h, 0, sizeof(h));
	if (!w->haskey[i] || (head = verdict_head(v, &h.headlen)) == NULL)
		return -1;
	h.ctr = ctr;
	h.framing = v->framing;
	h.length = v->framing == FRAMING_LENGTH ? v->length : 0;
	h.upgrade = v->hijack != 0;
	/* A checked body: the forwarder holds it to this SHA-256. */
	h.checked = v->checked != 0;
	if (v->checked)
		memcpy(h.bodysum, v->bodysum, FWD_SUMLEN);
	h.head = head;
	rv = fwd_mac_k(w->mk[i], &h, v->mac);
	v->hasmac = rv == 0;
	/*
	 * No body and no upgrade: the same head may go again, under these
	 * rules only, without asking us (fwd.h, daemon/vcache.c).  Its own
	 * MAC domain: the relay cannot turn one proof into the other.
	 */
	if (rv == 0 && h.framing == FRAMING_NONE && !h.upgrade &&
	    !h.checked && w->gen != 0) {
		h.ctr = FWD_REUSE_CTR(w->gen);
		v->reusable = fwd_mac_k(w->mk[i], &h, v->rmac) == 0;
		v->rgen = v->reusable ? w->gen : 0;
	}
	free(head);
	return rv;
}

/*
 * A bind source under an allowed root (body.h): 0 when no component of
 * it, on the host, is a symbolic link.  The walk starts at the host's
 * "/" (opened before the chroot) and takes one component at a time with
 * O_NOFOLLOW, the only openat(2) the sandbox allows; a component that
 * does not exist ends it (dockerd creates the rest).
 */
int
path_has_no_links(int rootfd, const char *path)
{
	char		 buf[CANON_PATH_MAX], *p, *name;
	struct stat	 st;
	int		 fd, nfd;

	if (rootfd == -1 || path[0] != '/' ||
	    strlcpy(buf, path, sizeof(buf)) >= sizeof(buf))
		return -1;
	fd = rootfd;
	for (p = buf + 1; p != NULL && *p != '\0'; ) {
		name = strsep(&p, "/");
		if (*name == '\0' || strcmp(name, ".") == 0 ||
		    strcmp(name, "..") == 0)
			goto bad;
		nfd = openat(fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd != rootfd)
			close(fd);
		if (nfd == -1)
			return errno == ENOENT ? 0 : -1;
		fd = nfd;
		if (fstat(fd, &st) == -1 || S_ISLNK(st.st_mode))
			goto bad;
		/* Only a directory has more below it. */
		if (p != NULL && *p != '\0' && !S_ISDIR(st.st_mode))
			goto bad;
	}
	if (fd != rootfd)
		close(fd);
	return 0;
 bad:
	if (fd != rootfd)
		close(fd);
	return -1;
}

static int
bind_links(void *arg, const char *path)
{
	return path_has_no_links(w->rootfd, path);
}

/* A 503 verdict: the worker cannot decide (why says so). */
static void
unavailable(struct verdict *v, const char *why)
{
	memset(v, 0, sizeof(*v));
	v->kind = VERDICT_BAD;
	v->status = 503;
	v->rule = -1;
	v->client = -1;
	strlcpy(v->why, why, sizeof(v->why));
}

/*
 * What the daemon says of a container, for "match container name" and
 * "label": the watcher's table (watcher.c).  A lookup, found or not,
 * marks the verdict as one the relay may not keep (look->used): the next
 * request must see a rename.
 */
struct lookup {
	const struct ctab	*t;
	struct container_info	 ci;
	int			 used;
};

static const struct container_info *
container_lookup(const char *id, void *arg)
{
	struct lookup		*lk = arg;
	const struct ctab_entry	*e;

	lk->used = 1;
	if ((e = ctab_byid(lk->t, id)) == NULL)
		return NULL;
	memset(&lk->ci, 0, sizeof(lk->ci));
	strlcpy(lk->ci.id, e->id, sizeof(lk->ci.id));
	strlcpy(lk->ci.name, e->name, sizeof(lk->ci.name));
	lk->ci.labels = e->labels;
	lk->ci.nlabels = e->nlabels;
	return &lk->ci;
}

/*
 * A TCP peer's container, when a block has a "match container" line:
 * the one the table says holds its address (none when two do).  The
 * lookup alone makes the verdict one not to keep.
 */
static int
peer_container(struct ident *id, struct lookup *lk)
{
	const struct ctab_entry	*e;
	const char		*addr;

	if ((addr = ident_get(id, "peer.addr")) == NULL ||
	    ident_get(id, "container.id") != NULL)
		return 0;
	lk->used = 1;
	if ((e = ctab_byaddr(lk->t, addr)) == NULL)
		return 0;
	return ident_add(id, "container.id", e->id);
}

/*
 * The client block the facts (who, from the relay) select among n blocks,
 * or -1 for the top level; -2 when who does not decode.  *used: the
 * container table was consulted.  Pure but for the table: the unit tests
 * call it.
 */
int
worker_select_client(const struct child_rules *cr, size_t n,
    const struct ctab *t, const void *who, size_t wholen, int *used)
{
	struct lookup	 lk;
	struct ident	 id;
	struct mbuf	 m;
	int		 c;

	*used = 0;
	if (n == 0 || who == NULL)
		return -1;
	memset(&lk, 0, sizeof(lk));
	lk.t = t;
	mbuf_reader(&m, who, wholen);
	memset(&id, 0, sizeof(id));
	if (ident_decode(&m, &id) == -1)
		return -2;
	if (mbuf_end(&m) == -1) {
		ident_clear(&id);
		return -2;
	}
	/* A full identity: no container then, and no block it makes hold. */
	if (client_uses_table_rules(cr, n))
		(void)peer_container(&id, &lk);
	c = client_select_rules(cr, n, &id, container_lookup, &lk);
	ident_clear(&id);
	*used = lk.used;
	return c;
}

/*
 * The decision.  With the bytes that followed the head (hasbody 2): when
 * the head asks for a body check (VERDICT_BODY) of a Content-Length body
 * that is all there, it is decided on at once, and the relay takes those
 * bytes as the body held (v->early): no second round trip.  Otherwise the
 * bytes are not looked at.
 */
static void
decide(struct ruleset *rs, const struct body_policy *bp, const void *head,
    size_t headlen, const void *ahead, size_t aheadlen, int hasbody,
    struct verdict *v)
{
	const struct http_limits	*lim = &w->cc.conf.limits;
	size_t				 len;

	if (hasbody != 2) {
		policy_decide_req(rs, lim, bp, head, headlen, ahead, aheadlen,
		    hasbody, bind_links, NULL, v);
		return;
	}
	policy_decide_req(rs, lim, bp, head, headlen, NULL, 0, 0, bind_links,
	    NULL, v);
	if (v->kind != VERDICT_BODY || v->framing != FRAMING_LENGTH ||
	    v->expect_continue || v->length > aheadlen ||
	    v->length > v->body_max)
		return;
	len = v->length;
	verdict_clear(v);
	policy_decide_req(rs, lim, bp, head, headlen, ahead, len, 1,
	    bind_links, NULL, v);
	/* What the body decided, of a Content-Length body (a 400 too). */
	if (v->kind != VERDICT_BODY && v->framing == FRAMING_LENGTH &&
	    (v->kind != VERDICT_ALLOW || v->checked))
		v->early = 1;
}

/*
 * moatd -learn: an allowed or denied request is learned (one that was
 * malformed, or waits for its body, is not yet one), and its verdict is
 * not kept by the relay, so that every request is counted here.
 */
static void
learn_record(struct verdict *v)
{
	char	 path[3 * CANON_PATH_MAX + 1];

	if (w->learn == NULL ||
	    (v->kind != VERDICT_ALLOW && v->kind != VERDICT_DENY))
		return;
	(void)canon_path_encode(v->path, path, sizeof(path));
	if (learn_add(w->learn, v->method, path, v->kind == VERDICT_DENY) ==
	    -1)
		log_warnx("learn: %s %s: no rule learned", v->method, path);
	else
		w->learned = 1;
	v->reusable = 0;
	v->rgen = 0;
	explicit_bzero(v->rmac, sizeof(v->rmac));
}

/* MSG_LEARN_CTL from the parent. */
static void
learn_ctl(struct msg *m)
{
	uint32_t	 what;
	char		*text = NULL;
	size_t		 len = 0;

	if (msg_get_u32(m, &what) == -1 || what > LEARN_SEND)
		fatalx("bad learn control from parent");
	if (what == LEARN_OFF) {
		learn_free(w->learn);
		w->learn = NULL;
		return;
	}
	if (w->learn == NULL && (w->learn = learn_new()) == NULL)
		fatal("%s", __func__);
	if (what != LEARN_SEND)
		return;
	if (w->learned && (text = learn_rules(w->learn, &len)) == NULL)
		fatal("%s", __func__);
	if (len + MSG_HDRSZ > MSG_MAXSZ) {
		log_warnx("learn: the rules learned are too large to write");
		free(text);
		text = NULL;
		len = 0;
	}
	if (msg_compose(ploop_chan(w->pl, -1), MSG_LEARN_RULES, 0, -1, text,
	    len) == -1)
		fatal("learn: to parent");
	if (len > 0)
		w->learned = 0;
	free(text);
}

static void
answer(int i, struct msg *m)
{
	struct mbuf	 out;
	struct verdict		 v;
	struct ruleset		*rs = w->cc.rs;
	const struct body_policy *bp = &w->cc.conf.body;
	const void		*head, *body, *who;
	size_t			 headlen, bodylen, wholen;
	uint64_t		 ctr;
	int			 hasbody, c, used = 0;

	if (policy_req_decode_who(m->data, m->datalen, &head, &headlen, &ctr,
	    &hasbody, &body, &bodylen, &who, &wholen) == -1 ||
	    (c = worker_select_client(w->cc.clients, w->cc.nclients, &w->ctab,
	    who, wholen, &used)) == -2) {
		log_warnx("relay[%d]: bad policy request", i);
		ploop_close(w->pl, i);
		return;
	}
	/* A client block's rules and body policy replace the top level's. */
	if (c >= 0) {
		rs = w->cc.clients[c].rs;
		bp = &w->cc.clients[c].c.body;
	}
	if (rs == NULL)
		unavailable(&v, "no rules loaded");
	else
		decide(rs, bp, head, headlen, body, bodylen, hasbody, &v);
	v.client = c;
	if (c >= 0)
		strlcpy(v.client_name, w->cc.clients[c].c.name,
		    sizeof(v.client_name));
	if (v.kind == VERDICT_ALLOW && approve(i, ctr, &v) == -1) {
		verdict_clear(&v);
		unavailable(&v, "no key for this relay's forwarder");
	}
	learn_record(&v);
	/* Chosen by the table: no relay keeps it, a rename counts at once. */
	if (used) {
		v.reusable = 0;
		v.rgen = 0;
		explicit_bzero(v.rmac, sizeof(v.rmac));
	}
	mbuf_init(&out);
	/* An encoding error is in out.err: ploop_reply closes the relay. */
	(void)verdict_encode(&v, &out);
	if (ploop_reply(w->pl, i, MSG_POLICY_VERDICT, m->hdr.peerid, &out) ==
	    -1)
		log_warnx("relay[%d]: cannot queue verdict, closed", i);
	mbuf_free(&out);
	verdict_clear(&v);
}

static void
relay_msg(struct ploop *pl, int i, struct msg *m, void *arg)
{
	if (proc_peer_may_send(PROC_RELAY, PROC_POLICY, m->hdr.type,
	    m->fd != -1)) {
		answer(i, m);
		return;
	}
	log_warnx("relay[%d]: sent %s, which it may not; closed", i,
	    msg_type_name(m->hdr.type));
	ploop_close(pl, i);
}

/*
 * The watcher's table replaces the last one.  One that does not decode
 * closes its channel (the parent wires a new one when the watcher is
 * restarted), and leaves the table empty: no container line holds.
 */
static void
watcher_msg(struct ploop *pl, int slot, struct msg *m, void *arg)
{
	struct ctab	 t;
	struct mbuf	 r;

	ctab_init(&t);
	mbuf_reader(&r, m->data, m->datalen);
	if (!proc_peer_may_send(PROC_WATCHER, PROC_POLICY, m->hdr.type,
	    m->fd != -1) || ctab_decode(&t, &r) == -1) {
		log_warnx("watcher: sent %s that does not decode; closed",
		    msg_type_name(m->hdr.type));
		ctab_free(&w->ctab);
		ploop_close(pl, slot);
		return;
	}
	ctab_free(&w->ctab);
	w->ctab = t;
	log_debug("container table: %zu containers", t.n);
}

static void
parent_msg(struct ploop *pl, int slot, struct msg *m, void *arg)
{
	int	 i;

	proc_recv_check(PROC_POLICY, m);
	switch (config_take(&w->cc, m)) {
	case 2:
		w->gen = w->cc.gen;
		if (msg_compose(ploop_chan(pl, -1), MSG_CFG_DONE, w->cc.gen,
		    -1, NULL, 0) == -1)
			fatal("ack");
		log_debug("configuration %u loaded, %zu rules", w->cc.gen,
		    w->cc.rs->nrules);
		return;
	case 1:
		return;
	}
	switch (m->hdr.type) {
	case MSG_CTL_PROCFD:
		i = m->hdr.peerid;
		if (i < 0 || i > POLICY_WATCHER_SLOT || m->fd == -1)
			fatalx("bad peer channel from parent");
		ploop_add(pl, i, m->fd, i == POLICY_WATCHER_SLOT ?
		    watcher_msg : relay_msg, NULL);
		m->fd = -1;
		break;
	case MSG_LEARN_CTL:
		learn_ctl(m);
		break;
	case MSG_FWD_KEY:
		i = m->hdr.peerid;
		if (i < 0 || i >= MOAT_PREFORK_MAX ||
		    m->datalen != FWD_KEYLEN)
			fatalx("bad key from parent");
		memcpy(w->keys[i], m->data, FWD_KEYLEN);
		explicit_bzero(m->data, m->datalen);
		fwd_key_free(w->mk[i]);
		if ((w->mk[i] = fwd_key_new(w->keys[i])) == NULL)
			fatalx("cannot make relay %d's approval key ready", i);
		w->haskey[i] = 1;
		break;
	default:	/* allowed by the table, but not handled here */
		fatalx("%s from parent: not handled",
		    msg_type_name(m->hdr.type));
	}
}

static void
warm_up(void)
{
	struct fwd_head	 h;
	uint8_t		 mac[FWD_MACLEN];

	memset(&h, 0, sizeof(h));
	h.head = "";
	(void)fwd_mac(w->keys[0], &h, mac);
}

void
policy_main(const struct moat_config *c, int instance)
{
	int	 rootfd;

	log_init(c->foreground, c->log_level, LOG_DAEMON);
	/* The host's root, for bind sources, before the chroot hides it. */
	if ((rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1)
		fatal("open /");
	proc_child_init("policy", -1, c->foreground, c->user, c->chroot);
	if ((w = calloc(1, sizeof(*w))) == NULL)
		fatal("%s", __func__);
	w->rootfd = rootfd;
	ctab_init(&w->ctab);
	w->pl = ploop_new(PARENT_FD, POLICY_WATCHER_SLOT + 1, parent_msg,
	    NULL);
	log_setsink(worker_log);
	/* OpenSSL finds HMAC and SHA-256 now, while it may open files. */
	warm_up();
	sandbox_enter(PROC_POLICY);
	ploop_run(w->pl);
}
