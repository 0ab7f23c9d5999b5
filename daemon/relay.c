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
 * A relay: accepts clients on its copies of the listening sockets, sends
 * each request head to the policy worker as opaque bytes, re-checks the
 * verdict against its own copy of the rules, and moves bytes between the
 * client and a stream to its forwarder (forwarder.c), which holds the
 * Docker connection: the relay holds none.  Up a stream go the approved
 * head as the policy worker made it, with its proof, and the body's data
 * in frames; down it come Docker's bytes.  The relay parses only what it
 * must: the end of a head (to hand it over), request bodies' framing (to
 * know where the next head starts and to hand over the data alone), and
 * the trusted daemon's responses.  Each request on a connection gets its
 * own verdict; bytes a client pipelined wait in the buffer until their
 * turn.
 *
 * This file is the process: its channels (parent, policy worker,
 * forwarder), the listeners and accept, the descriptor count, the drain;
 * session.c is a client's connection, request by request, and forward.c
 * the bytes moved for it (relay.h).
 */

#include <sys/types.h>
#include <sys/mman.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "relay.h"

struct relay	*r;

static void
policy_dispatch(struct chan *ch, struct msg *m, void *arg)
{
	struct session	 key, *s;
	struct verdict	*v;
	struct mbuf	 rd;

	if (!proc_peer_may_send(PROC_POLICY, PROC_RELAY, m->hdr.type,
	    m->fd != -1))
		fatalx("unexpected message %s from the policy worker",
		    msg_type_name(m->hdr.type));
	key.id = m->hdr.peerid;
	if ((s = RB_FIND(sessions, &r->sessions, &key)) == NULL ||
	    s->state != S_POLICY)
		return;
	/* verdict_decode() sets every field. */
	if ((v = verdict_get()) == NULL)
		fatal("%s", __func__);
	mbuf_reader(&rd, m->data, m->datalen);
	if (verdict_decode(&rd, v) == -1) {
		verdict_put(v);
		log_warnx("bad verdict from the policy worker");
		chan_close(&r->policy);
		reply_error(s, 503, "policy worker failed");
		return;
	}
	got_verdict(s, v);
}

/* Fail closed: without a policy worker nothing is allowed. */
static void
policy_closed(struct chan *ch, void *arg)
{
	struct session	*s, *t;

	log_warnx("policy worker channel closed; denying until it is back");
	RB_FOREACH_SAFE(s, sessions, &r->sessions, t)
		if (s->state == S_POLICY)
			reply_error(s, 503, "policy worker unavailable");
}

static void
accept_resume_cb(int fd, short ev, void *arg)
{
	struct listener	*l = arg;

	if (!r->draining)
		event_add(l->ev, NULL);
}

static void
accept_pause(struct listener *l)
{
	struct timeval	 tv = { 1, 0 };

	event_del(l->ev);
	evtimer_add(l->pause, &tv);
}

/*
 * Room for one more client: its socket and, later, its Docker connection
 * on top of one such pair per session and the reserve.
 */
static int
fds_short(void)
{
	return r->nfds + (int)r->nsessions + 2 + FD_RESERVE > r->maxfds;
}

/* Whether n more descriptors leave the reserve whole (splice's pipes). */
int
fds_room(int n)
{
	return r->nfds + (int)r->nsessions + 2 + FD_RESERVE + n <= r->maxfds;
}

/*
 * Make room: an idle pooled Docker connection first, else the client
 * kept alive the longest without a request (nothing buffered either
 * way).  0 if there is nothing to close.
 */
static int
fds_reclaim(void)
{
	struct backend	*be;
	struct session	*s;

	if ((be = TAILQ_LAST(&r->pool, backends)) != NULL) {
		pool_event_cb(be->bev, CONN_EOF, be);
		return 1;
	}
	TAILQ_FOREACH(s, &r->idle, idle_entry) {
		if (s->state != S_HEAD || evbuffer_get_length(
		    conn_input(s->c)) != 0 || evbuffer_get_length(
		    conn_output(s->c)) != 0)
			continue;
		log_info("client=%s: idle connection closed to make room",
		    s->peer);
		session_free(s);
		return 1;
	}
	return 0;
}

/*
 * Listeners the relays share.  A TCP listener is a socket per relay
 * (parent.c relay_listener) and the kernel spreads the connections over
 * them; a unix or systemd-passed one is one socket all relays wait on.
 * Each is woken for every connection, and the first to run takes all
 * that are queued: a burst of 32 went 32/0 or 31/1.  EPOLLEXCLUSIVE does
 * not help.  Under libevent it could only sit in an epoll of our own,
 * nested in the loop's, and the kernel then wakes every relay all the
 * same; in the loop's own epoll it wakes the first idle relay, which is
 * always the same one.
 *
 * So the relays count.  Woken on a shared listener, a relay writes its
 * number of sessions in its slot of a page the parent made
 * (MSG_CFG_SHARE), and steps aside for SHARE_DEFER_MS, accepting
 * nothing, while another relay holds more than SHARE_SLACK fewer: that
 * one takes the connection.  The relay with the fewest never steps
 * aside, so a connection always has a taker.  A relay that has not
 * written since we began stepping aside SHARE_GONE_MS ago (stopped,
 * dead, starved of CPU) is left out until it writes again: it costs one
 * such delay, and so does a relay that lies in its slot.
 */
#define SHARE_SLACK	2
#define SHARE_DEFER_MS	1
#define SHARE_GONE_MS	50

static uint32_t
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint32_t)((uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static void
share_write(uint32_t n, uint32_t now)
{
	struct share_slot	*me;

	if (r->share == NULL)
		return;
	me = &r->share[r->instance];
	__atomic_store_n(&me->n, n, __ATOMIC_RELAXED);
	__atomic_store_n(&me->ms, now, __ATOMIC_RELAXED);
}

/* Whether relay i, holding n sessions, takes the next one before us. */
static int
share_other(struct listener *l, size_t i, uint32_t mine, uint32_t now)
{
	uint32_t	 n, ms;

	n = __atomic_load_n(&r->share[i].n, __ATOMIC_RELAXED);
	ms = __atomic_load_n(&r->share[i].ms, __ATOMIC_RELAXED);
	if (n >= mine || mine - n <= SHARE_SLACK || ms == r->share_gone[i])
		return 0;
	if (l->since != 0 && now - l->since >= SHARE_GONE_MS &&
	    (int32_t)(ms - l->since) < 0) {
		log_debug("relay[%zu] has not taken its share for %u ms; "
		    "accepting without it", i, now - l->since);
		r->share_gone[i] = ms;
		return 0;
	}
	return 1;
}

/* Whether l's next connection is ours; else step aside (accept_cb). */
static int
accept_share(struct listener *l)
{
	struct timeval	 tv = { 0, SHARE_DEFER_MS * 1000 };
	uint32_t	 now, mine;
	size_t		 i;

	if (!l->shared || r->share == NULL)
		return 1;
	now = now_ms();
	mine = (uint32_t)r->nsessions;
	share_write(mine, now);
	for (i = 0; i < r->nshare; i++) {
		if ((int)i == r->instance || !share_other(l, i, mine, now))
			continue;
		if (l->since == 0)
			l->since = now;
		event_del(l->ev);
		evtimer_add(l->defer, &tv);
		return 0;
	}
	l->since = 0;
	return 1;
}

static void
accept_defer_cb(int fd, short ev, void *arg)
{
	struct listener	*l = arg;

	if (!r->draining)
		event_add(l->ev, NULL);
}

/* The page of the relays' counts, from the parent: once, at the start. */
static void
share_map(struct msg *m)
{
	uint32_t	 n;
	void		*pg;

	if (m->fd == -1 || msg_get_u32(m, &n) == -1 || n < 2 ||
	    n > MOAT_PREFORK_MAX || (uint32_t)r->instance >= n ||
	    r->share != NULL)
		fatalx("bad share page from parent");
	pg = mmap(NULL, (size_t)n * SHARE_SLOTSZ, PROT_READ | PROT_WRITE,
	    MAP_SHARED, m->fd, 0);
	if (pg == MAP_FAILED)
		fatal("%s: mmap", __func__);
	close(m->fd);
	m->fd = -1;
	r->share = pg;
	r->nshare = n;
	share_write((uint32_t)r->nsessions, now_ms());
}

/*
 * Every relay accepts on its own copy of the listener; losing the race
 * (EAGAIN) is normal.  Keep a reserve of descriptors, counted by us
 * (getdtablecount() cannot see /proc from the chroot).
 */
static void
accept_cb(int lfd, short ev, void *arg)
{
	struct listener		*l = arg;
	struct sockaddr_storage	 ss;
	socklen_t		 sl;
	int			 i, fd;

	if (!accept_share(l))
		return;
	for (i = 0; i < ACCEPT_BATCH; i++) {
		while (fds_short()) {
			if (fds_reclaim())
				continue;
			log_warnx("descriptor reserve reached, pausing accept");
			accept_pause(l);
			return;
		}
		sl = sizeof(ss);
		fd = accept4(lfd, (struct sockaddr *)&ss, &sl,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				log_warn("accept");
				accept_pause(l);
			}
			return;
		}
		session_new(l, fd, &ss, sl);
		if (l->shared)
			share_write((uint32_t)r->nsessions, now_ms());
	}
}

static void
add_listener(const struct msg *m)
{
	struct listener	*l;
	uint32_t	 shared;

	if (m->fd == -1 || r->nlisteners >= MOAT_LISTENERS_MAX ||
	    msg_get_u32(m, &shared) == -1 || shared > 1)
		fatalx("bad listener from parent");
	l = &r->listeners[r->nlisteners++];
	l->id = m->hdr.peerid;
	l->fd = m->fd;
	l->shared = shared;
	r->nfds++;
	l->ev = event_new(r->base, l->fd, EV_READ | EV_PERSIST, accept_cb, l);
	l->pause = evtimer_new(r->base, accept_resume_cb, l);
	l->defer = evtimer_new(r->base, accept_defer_cb, l);
	if (l->ev == NULL || l->pause == NULL || l->defer == NULL)
		fatalx("%s: event_new", __func__);
}

static void
drain_timeout_cb(int fd, short ev, void *arg)
{
	log_info("drain deadline reached with %zu sessions", r->nsessions);
	exit(0);
}

static void
drain(const struct msg *m)
{
	struct session	*s, *t;
	struct timeval	 tv = { 0, 0 };
	uint32_t	 deadline;
	size_t		 i;

	if (msg_get_u32(m, &deadline) == -1)
		fatalx("bad drain message");
	r->draining = 1;
	/* Never the one with the fewest: the others take them all. */
	share_write(UINT32_MAX, now_ms());
	for (i = 0; i < r->nlisteners; i++) {
		event_del(r->listeners[i].ev);
		evtimer_del(r->listeners[i].pause);
		evtimer_del(r->listeners[i].defer);
		close(r->listeners[i].fd);
	}
	RB_FOREACH_SAFE(s, sessions, &r->sessions, t)
		if (s->state == S_HEAD && evbuffer_get_length(
		    conn_input(s->c)) == 0)
			session_free(s);
	if (r->nsessions == 0)
		exit(0);
	tv.tv_sec = deadline;
	r->drain_timer = evtimer_new(r->base, drain_timeout_cb, NULL);
	evtimer_add(r->drain_timer, &tv);
}

/* Streams, or why there is none. */
static void
fwd_dispatch(struct chan *ch, struct msg *m, void *arg)
{
	uint32_t	 err;

	if (!proc_peer_may_send(PROC_FORWARDER, PROC_RELAY, m->hdr.type,
	    m->fd != -1))
		fatalx("unexpected message %s from the forwarder",
		    msg_type_name(m->hdr.type));
	switch (m->hdr.type) {
	case MSG_FWD_STREAM:
		/* fd -1: it did not fit in our table (msg.c). */
		backend_fd(m->hdr.peerid, m->fd, EMFILE);
		m->fd = -1;
		return;
	case MSG_FWD_ERR:
		if (msg_get_u32(m, &err) == -1)
			fatalx("bad stream error from the forwarder");
		backend_fd(m->hdr.peerid, -1, (int)err);
		return;
	}
}

static void
fwd_closed(struct chan *ch, void *arg)
{
	struct session	*s, *t;

	log_warnx("forwarder channel closed; 503 until it is back");
	pool_flush();
	RB_FOREACH_SAFE(s, sessions, &r->sessions, t)
		if (s->state == S_BACKEND)
			reply_error(s, 503, "the forwarder is unavailable");
}

static void
parent_dispatch(struct chan *ch, struct msg *m, void *arg)
{
	size_t	 i;

	proc_recv_check(PROC_RELAY, m);
	if (relay_tls_take(m))
		return;
	switch (config_take(&r->cc, m)) {
	case 2:
		pool_flush();
		relay_tls_commit(r->cc.gen);
		r->want_cid = config_wants_container(&r->cc);
#ifdef MOATD_EVIL
		evil_start(r->base, &r->parent, &r->policy, &r->fwd);
#endif
		(void)chan_compose(&r->parent, MSG_CFG_DONE, r->cc.gen, -1,
		    NULL, 0);
		for (i = 0; i < r->nlisteners && !r->draining; i++)
			event_add(r->listeners[i].ev, NULL);
		return;
	case 1:
		return;
	}
	switch (m->hdr.type) {
	case MSG_CTL_FWDFD:
		/* Streams of a forwarder that is gone are gone too, and
		 * approvals under its key. */
		pool_flush();
		vcache_reset();
		chan_replace(&r->fwd, r->base, m, 1, "forwarder",
		    fwd_dispatch, fwd_closed);
		return;
	case MSG_CTL_PROCFD:
		chan_replace(&r->policy, r->base, m, 0, "policy",
		    policy_dispatch, policy_closed);
		return;
	case MSG_CFG_LISTENER:
		add_listener(m);
		m->fd = -1;
		return;
	case MSG_CFG_SHARE:
		share_map(m);
		return;
	case MSG_CTL_DRAIN:
		drain(m);
		return;
	case MSG_IDENT_CONTAINER:
		session_container(m->hdr.peerid, m->data, m->datalen);
		return;
	default:
		fatalx("unexpected message %u from parent", m->hdr.type);
	}
}

/*
 * Request lines go to stderr once a loop pass is done, together: under
 * load one write(2) carries several (and wakes journald once).
 */
static struct event	*log_ev;

static void
log_flush_cb(int fd, short ev, void *arg)
{
	log_flush();
}

static void
log_schedule(void)
{
	event_active(log_ev, EV_WRITE, 1);
}

void
relay_main(const struct moat_config *c, int instance)
{
	if ((r = calloc(1, sizeof(*r))) == NULL)
		fatal("%s", __func__);
	r->instance = instance;
	RB_INIT(&r->sessions);
	RB_INIT(&r->peers);
	TAILQ_INIT(&r->idle);
	TAILQ_INIT(&r->pool);
	r->maxfds = proc_event_child("relay", instance, c->foreground,
	    c->log_level, c->user, c->chroot, &r->base, &r->parent,
	    parent_dispatch);
	r->nfds = 4;	/* stdio and the parent channel */
	if ((log_ev = event_new(r->base, -1, 0, log_flush_cb, NULL)) == NULL)
		fatalx("%s: event_new", __func__);
	log_batch(log_schedule);
	relay_tls_init();
	sandbox_enter(PROC_RELAY);
	event_base_dispatch(r->base);
	exit(0);
}
