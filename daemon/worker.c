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

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "moatd.h"

struct worker {
	struct msgbuf		 parent;
	struct msgbuf		 relays[MOAT_PREFORK_MAX];
	/* what relay i's forwarder checks approvals with (fwd.h) */
	uint8_t			 keys[MOAT_PREFORK_MAX][FWD_KEYLEN];
	int			 haskey[MOAT_PREFORK_MAX];
	struct child_config	 cc;
};

static struct worker	*w;

static void
worker_log(int pri, const char *msg)
{
	proc_log_send(&w->parent, pri, msg);
}

static void
relay_close(int i)
{
	if (w->relays[i].fd == -1)
		return;
	close(w->relays[i].fd);
	msgbuf_clear(&w->relays[i]);
	w->relays[i].fd = -1;
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

	if (!w->haskey[i] || (head = verdict_head(v, &h.headlen)) == NULL)
		return -1;
	h.ctr = ctr;
	h.framing = v->framing;
	h.length = v->framing == FRAMING_LENGTH ? v->length : 0;
	h.upgrade = v->hijack != 0;
	h.head = head;
	rv = fwd_mac(w->keys[i], &h, v->mac);
	v->hasmac = rv == 0;
	free(head);
	return rv;
}

static void
answer(int i, struct msg *m)
{
	struct mbuf	 out;
	struct verdict	 v;
	const void	*head;
	size_t		 headlen;
	uint64_t	 ctr;

	if (policy_req_decode(m->data, m->datalen, &head, &headlen, &ctr) ==
	    -1) {
		log_warnx("relay[%d]: bad policy request", i);
		relay_close(i);
		return;
	}
	if (w->cc.rs == NULL) {
		memset(&v, 0, sizeof(v));
		v.kind = VERDICT_BAD;
		v.status = 503;
		v.rule = -1;
		strlcpy(v.why, "no rules loaded", sizeof(v.why));
	} else
		policy_decide(w->cc.rs, &w->cc.conf.limits, head, headlen, &v);
	if (v.kind == VERDICT_ALLOW && approve(i, ctr, &v) == -1) {
		verdict_clear(&v);
		memset(&v, 0, sizeof(v));
		v.kind = VERDICT_BAD;
		v.status = 503;
		v.rule = -1;
		strlcpy(v.why, "no key for this relay's forwarder",
		    sizeof(v.why));
	}
	mbuf_init(&out);
	if (verdict_encode(&v, &out) == -1 ||
	    msg_compose(&w->relays[i], MSG_POLICY_VERDICT, m->hdr.peerid, -1,
	    out.buf, out.len) == -1) {
		log_warnx("relay[%d]: cannot queue verdict", i);
		relay_close(i);
	}
	mbuf_free(&out);
	verdict_clear(&v);
}

static void
parent_msg(struct msg *m)
{
	int	 i;

	proc_recv_check(PROC_POLICY, m);
	switch (m->hdr.type) {
	case MSG_CTL_PROCFD:
		i = m->hdr.peerid;
		if (i < 0 || i >= MOAT_PREFORK_MAX || m->fd == -1)
			fatalx("bad relay channel from parent");
		relay_close(i);
		msgbuf_init(&w->relays[i], m->fd, 0);
		m->fd = -1;
		break;
	case MSG_FWD_KEY:
		i = m->hdr.peerid;
		if (i < 0 || i >= MOAT_PREFORK_MAX ||
		    m->datalen != FWD_KEYLEN)
			fatalx("bad key from parent");
		memcpy(w->keys[i], m->data, FWD_KEYLEN);
		explicit_bzero(m->data, m->datalen);
		w->haskey[i] = 1;
		break;
	case MSG_CFG_GLOBAL:
	case MSG_CFG_RULES:
	case MSG_CFG_DONE:
		switch (config_recv(&w->cc, m)) {
		case -1:
			fatalx("bad configuration from parent");
		case 1:
			if (msg_compose(&w->parent, MSG_CFG_DONE, w->cc.gen,
			    -1, NULL, 0) == -1)
				fatal("ack");
			log_debug("configuration %u loaded, %zu rules",
			    w->cc.gen, w->cc.rs->nrules);
			break;
		}
		break;
	default:
		fatalx("unexpected message %u from parent", m->hdr.type);
	}
}

static void
read_parent(void)
{
	struct msg	 m;
	ssize_t		 n;
	int		 rv;

	n = msgbuf_read(&w->parent);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	while ((rv = msg_get(&w->parent, &m)) == 1) {
		parent_msg(&m);
		msg_free(&m);
	}
	if (rv == -1)
		fatalx("protocol error on the parent channel");
	if (n <= 0)
		exit(0);	/* the parent is gone: so are we */
}

static void
read_relay(int i)
{
	struct msg	 m;
	ssize_t		 n;
	int		 rv;

	n = msgbuf_read(&w->relays[i]);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	while (w->relays[i].fd != -1 &&
	    (rv = msg_get(&w->relays[i], &m)) == 1) {
		if (m.hdr.type == MSG_POLICY_REQ)
			answer(i, &m);
		else {
			log_warnx("relay[%d]: unexpected message %u", i,
			    m.hdr.type);
			rv = -1;
		}
		msg_free(&m);
		if (rv == -1)
			break;
	}
	if (w->relays[i].fd != -1 && (rv == -1 || n <= 0))
		relay_close(i);
}

static void
worker_loop(void)
{
	struct pollfd	 pfd[MOAT_PREFORK_MAX + 1];
	int		 map[MOAT_PREFORK_MAX + 1];
	int		 i, n;

	for (;;) {
		pfd[0].fd = w->parent.fd;
		pfd[0].events = POLLIN | (w->parent.wqueued ? POLLOUT : 0);
		n = 1;
		for (i = 0; i < MOAT_PREFORK_MAX; i++) {
			if (w->relays[i].fd == -1)
				continue;
			pfd[n].fd = w->relays[i].fd;
			pfd[n].events = POLLIN |
			    (w->relays[i].wqueued ? POLLOUT : 0);
			map[n++] = i;
		}
		if (poll(pfd, n, -1) == -1) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		if (pfd[0].revents & POLLOUT &&
		    msgbuf_flush(&w->parent) == -1)
			exit(0);
		for (i = 1; i < n; i++) {
			if (w->relays[map[i]].fd == -1)
				continue;
			if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
				read_relay(map[i]);
			if (w->relays[map[i]].fd != -1 &&
			    w->relays[map[i]].wqueued &&
			    msgbuf_flush(&w->relays[map[i]]) == -1)
				relay_close(map[i]);
		}
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR))
			read_parent();
		if (w->parent.wqueued && msgbuf_flush(&w->parent) == -1)
			exit(0);
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
	int	 i;

	log_init(c->foreground, c->log_level, LOG_DAEMON);
	proc_child_init("policy", -1, c->foreground, c->user, c->chroot);
	if ((w = calloc(1, sizeof(*w))) == NULL)
		fatal("%s", __func__);
	msgbuf_init(&w->parent, PARENT_FD, 1);
	for (i = 0; i < MOAT_PREFORK_MAX; i++)
		w->relays[i].fd = -1;
	log_setsink(worker_log);
	/* OpenSSL finds HMAC and SHA-256 now, while it may open files. */
	warm_up();
	sandbox_enter(PROC_POLICY);
	worker_loop();
	exit(0);
}
