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
 * The watcher: keeps the policy worker's container table (policy/
 * ctable.h) for "match container name|label" and for TCP peers on a
 * Docker network.  It holds no Docker descriptor: it asks the parent to
 * open one of two streams (MSG_WATCH_OPEN: the daemon's events, or its
 * container list), and the parent, which makes the fixed request for it,
 * pumps the answer's bytes back (MSG_WATCH_DATA, then MSG_WATCH_END).
 *
 * The events stream comes first; once its head says 200, the list is
 * read, and read again whenever any event arrives (one list at a time,
 * another after it if events came meanwhile).  Each complete list goes
 * to the policy worker as a whole table.  When the events stream ends
 * (the daemon went away) the worker gets an empty table at once: nothing
 * container-based holds until the daemon is back and listed again.
 */

#include <sys/types.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "moatd.h"
#include "ctable.h"

#define RETRY_MIN	1	/* seconds before the events stream again */
#define RETRY_MAX	30

/*
 * One kind of stream.  Every OPEN gets one END, and the parent answers
 * them in order: the messages in hand belong to stream ended + 1, and
 * only stream opened is the current one (older ones' bytes are dropped).
 */
struct wstream {
	uint32_t		 kind;
	uint32_t		 opened;
	uint32_t		 ended;
	int			 live;	/* the current one is being read */
	struct ctab_resp	 r;
};

struct watcher {
	struct event_base	*base;
	struct chan		 parent;
	struct chan		 policy;
	struct event		*retry;
	int			 backoff;
	int			 watch;		/* the configuration says so */
	int			 up;		/* the events stream's head is in */
	int			 failed;	/* warned of the failure */
	int			 dirty;		/* events since the list began */
	int			 sent_empty;	/* the worker's table is empty */
	struct mbuf		 table;		/* the last one, encoded */
	struct wstream		 ev;
	struct wstream		 list;
};

static struct watcher	*wt;

static void	watch_start(void);

/* The worker gets the table now, and again should its channel be new. */
static void
table_send(void)
{
	if (!wt->policy.open || wt->table.err)
		return;
	if (chan_compose(&wt->policy, MSG_WATCH_TABLE, 0, -1, wt->table.buf,
	    wt->table.len) == -1)
		log_warn("watcher: table to the policy worker");
}

static void
table_set(const struct ctab *t)
{
	mbuf_free(&wt->table);
	mbuf_init(&wt->table);
	if (ctab_encode(t, &wt->table) == -1 || wt->table.err ||
	    wt->table.len + MSG_HDRSZ > MSG_MAXSZ) {
		log_warnx("watcher: %zu containers: the table is too large; "
		    "sending an empty one", t->n);
		mbuf_free(&wt->table);
		mbuf_init(&wt->table);
		mbuf_add_u32(&wt->table, 0);
		wt->sent_empty = 1;
	} else
		wt->sent_empty = t->n == 0;
	table_send();
}

/* Fail closed: the worker's table is emptied (once per failure). */
static void
table_empty(void)
{
	struct ctab	 t;

	if (wt->sent_empty && wt->table.len > 0)
		return;
	ctab_init(&t);
	table_set(&t);
}

static void
stream_open(struct wstream *s)
{
	ctab_resp_free(&s->r);
	ctab_resp_init(&s->r, s->kind == WATCH_LIST);
	s->opened++;
	s->live = 1;
	if (chan_compose_u32(&wt->parent, MSG_WATCH_OPEN, 0, s->kind) == -1)
		fatal("watcher: open");
}

/* The current stream is done with, whatever still comes of it. */
static void
stream_drop(struct wstream *s)
{
	s->live = 0;
	ctab_resp_free(&s->r);
	ctab_resp_init(&s->r, s->kind == WATCH_LIST);
}

/* One list at a time: events during it ask for another after it. */
static void
list_start(void)
{
	if (!wt->watch || !wt->up)
		return;
	if (wt->list.live) {
		wt->dirty = 1;
		return;
	}
	wt->dirty = 0;
	stream_open(&wt->list);
}

/* Docker is away, or answered what we cannot use: empty, try later. */
static void
watch_fail(const char *why)
{
	struct timeval	 tv;

	if (!wt->failed)
		log_warnx("watcher: %s; no container-based client line holds "
		    "until the daemon is listed again (retry in %d s)", why,
		    wt->backoff);
	else
		log_debug("watcher: %s (retry in %d s)", why, wt->backoff);
	wt->failed = 1;
	wt->up = 0;
	wt->dirty = 0;
	stream_drop(&wt->ev);
	stream_drop(&wt->list);
	table_empty();
	if (!wt->watch)
		return;
	tv.tv_sec = wt->backoff;
	tv.tv_usec = 0;
	evtimer_add(wt->retry, &tv);
	wt->backoff = wt->backoff * 2 > RETRY_MAX ? RETRY_MAX :
	    wt->backoff * 2;
}

static void
retry_cb(int fd, short what, void *arg)
{
	watch_start();
}

static void
watch_start(void)
{
	if (!wt->watch || wt->ev.live || evtimer_pending(wt->retry, NULL))
		return;
	stream_open(&wt->ev);
}

static void
list_done(void)
{
	struct ctab	 t;
	char		 why[256];

	ctab_init(&t);
	if (ctab_parse_list(&t, (const char *)wt->list.r.body,
	    wt->list.r.bodylen, why, sizeof(why)) == -1) {
		stream_drop(&wt->list);
		watch_fail(why);
		return;
	}
	stream_drop(&wt->list);
	table_set(&t);
	log_info("watcher: %zu containers", t.n);
	ctab_free(&t);
	wt->failed = 0;
	wt->backoff = RETRY_MIN;
	if (wt->dirty)
		list_start();
}

/* Bytes of the current stream s (eof: its END, errno 0). */
static void
stream_feed(struct wstream *s, const uint8_t *buf, size_t len, int eof)
{
	char	 why[256];
	size_t	 newbody = 0;
	int	 rv;

	rv = ctab_resp_feed(&s->r, buf, len, eof, &newbody, why, sizeof(why));
	if (s == &wt->list) {
		if (rv == -1) {
			stream_drop(s);
			watch_fail(why);
		} else if (rv == 1)
			list_done();
		return;
	}
	if (rv != 0) {
		watch_fail(rv == -1 ? why : "the daemon's events ended");
		return;
	}
	if (s->r.state != CTAB_RESP_BODY)
		return;
	if (!wt->up) {
		wt->up = 1;
		list_start();
	} else if (newbody > 0)
		list_start();
}

static struct wstream *
stream_of(uint32_t kind)
{
	if (kind == WATCH_EVENTS)
		return &wt->ev;
	if (kind == WATCH_LIST)
		return &wt->list;
	fatalx("watcher: stream of kind %u from parent", kind);
}

static void
stream_data(struct msg *m)
{
	struct wstream	*s = stream_of(m->hdr.peerid);

	if (s->ended + 1 != s->opened || !s->live || m->datalen == 0)
		return;		/* an older stream's, or one we dropped */
	stream_feed(s, m->data, m->datalen, 0);
}

static void
stream_end(struct msg *m)
{
	struct wstream	*s = stream_of(m->hdr.peerid);
	uint32_t	 err;
	char		 why[128];

	if (msg_get_u32(m, &err) == -1 || s->ended == s->opened)
		fatalx("watcher: bad stream end from parent");
	if (++s->ended != s->opened || !s->live)
		return;
	if (err == 0) {
		stream_feed(s, NULL, 0, 1);
		if (s->live && s->kind == WATCH_LIST) {
			stream_drop(s);
			watch_fail("the container list ended too soon");
		}
		return;
	}
	snprintf(why, sizeof(why), "%s: %s", s->kind == WATCH_EVENTS ?
	    "the daemon's events" : "the container list", strerror(err));
	stream_drop(s);
	if (s->kind == WATCH_EVENTS || wt->up)
		watch_fail(why);
}

static void
watch_set(uint32_t on)
{
	if (on > 1)
		fatalx("watcher: bad configuration from parent");
	if (on == (uint32_t)wt->watch)
		return;
	wt->watch = on;
	if (on) {
		log_debug("watcher: watching the daemon's containers");
		wt->backoff = RETRY_MIN;
		wt->failed = 0;
		watch_start();
		return;
	}
	/* The parent closes the streams; their ENDs are still counted. */
	log_debug("watcher: no container line: not watching");
	evtimer_del(wt->retry);
	wt->up = 0;
	wt->dirty = 0;
	stream_drop(&wt->ev);
	stream_drop(&wt->list);
	table_empty();
}

static void
policy_dispatch(struct chan *ch, struct msg *m, void *arg)
{
	log_warnx("watcher: the policy worker sent %s, which it may not",
	    msg_type_name(m->hdr.type));
	chan_close(ch);
}

static void
policy_closed(struct chan *ch, void *arg)
{
	log_debug("watcher: policy channel closed");
}

static void
parent_dispatch(struct chan *ch, struct msg *m, void *arg)
{
	uint32_t	 on;

	proc_recv_check(PROC_WATCHER, m);
	switch (m->hdr.type) {
	case MSG_CTL_PROCFD:
		chan_replace(&wt->policy, wt->base, m, 0, "policy",
		    policy_dispatch, policy_closed);
		if (wt->table.len > 0)
			table_send();
		return;
	case MSG_WATCH_CFG:
		if (msg_get_u32(m, &on) == -1)
			fatalx("watcher: bad configuration from parent");
		watch_set(on);
		return;
	case MSG_CFG_DONE:
		if (chan_compose(ch, MSG_CFG_DONE, m->hdr.peerid, -1, NULL, 0)
		    == -1)
			fatal("ack");
		return;
	case MSG_WATCH_DATA:
		stream_data(m);
		return;
	case MSG_WATCH_END:
		stream_end(m);
		return;
	}
	fatalx("%s from parent: not handled", msg_type_name(m->hdr.type));
}

void
watcher_main(const struct moat_config *c, int instance)
{
	if ((wt = calloc(1, sizeof(*wt))) == NULL)
		fatal("%s", __func__);
	(void)proc_event_child("watcher", -1, c->foreground, c->log_level,
	    c->user, c->chroot, &wt->base, &wt->parent, parent_dispatch);
	if ((wt->retry = evtimer_new(wt->base, retry_cb, NULL)) == NULL)
		fatalx("evtimer_new");
	wt->backoff = RETRY_MIN;
	wt->ev.kind = WATCH_EVENTS;
	wt->list.kind = WATCH_LIST;
	ctab_resp_init(&wt->ev.r, 0);
	ctab_resp_init(&wt->list.r, 1);
	mbuf_init(&wt->table);
	sandbox_enter(PROC_WATCHER);
	event_base_dispatch(wt->base);
	exit(0);
}
