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
 * A message channel on a libevent loop: read what arrives, hand each
 * complete message to the owner, and keep the write queue moving.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "privsep.h"

static void
chan_shut(struct chan *ch)
{
	chan_close(ch);
	if (ch->closed != NULL)
		ch->closed(ch, ch->arg);
}

static void
chan_read_cb(int fd, short events, void *arg)
{
	struct chan	*ch = arg;
	struct msg	 m;
	ssize_t		 n;
	int		 rv = 0;	/* gcc -O1 misses the ch->open test */

	n = msgbuf_read(&ch->mb);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n == -1)
		log_warn("%s: read", ch->name);
	while (ch->open && (rv = msg_get(&ch->mb, &m)) == 1) {
		ch->dispatch(ch, &m, ch->arg);
		msg_free(&m);
	}
	if (!ch->open)
		return;
	if (rv == -1) {
		log_warnx("%s: protocol error", ch->name);
		chan_shut(ch);
		return;
	}
	if (n <= 0)
		chan_shut(ch);
}

static void
chan_write_cb(int fd, short events, void *arg)
{
	struct chan	*ch = arg;

	switch (msgbuf_flush(&ch->mb)) {
	case 1:
		return;
	case 0:
		event_add(ch->wev, NULL);
		return;
	default:
		log_warn("%s: write", ch->name);
		chan_shut(ch);
	}
}

void
chan_init(struct chan *ch, struct event_base *base, int fd, int allow_fd,
    const char *name, chan_dispatch_fn dispatch, chan_closed_fn closed,
    void *arg)
{
	memset(ch, 0, sizeof(*ch));
	msgbuf_init(&ch->mb, fd, allow_fd);
	ch->dispatch = dispatch;
	ch->closed = closed;
	ch->arg = arg;
	ch->name = name;
	ch->rev = event_new(base, fd, EV_READ | EV_PERSIST, chan_read_cb, ch);
	ch->wev = event_new(base, fd, EV_WRITE, chan_write_cb, ch);
	ch->fev = event_new(base, -1, 0, chan_write_cb, ch);
	if (ch->rev == NULL || ch->wev == NULL || ch->fev == NULL)
		fatalx("%s: event_new", __func__);
	event_add(ch->rev, NULL);
	ch->open = 1;
}

int
chan_compose(struct chan *ch, uint32_t type, uint32_t peerid, int fd,
    const void *data, size_t len)
{
	if (!ch->open) {
		if (fd != -1)
			close(fd);
		errno = EPIPE;
		return -1;
	}
	if (msg_compose(&ch->mb, type, peerid, fd, data, len) == -1)
		return -1;
	/*
	 * Not written at once: the flush runs once the callbacks of this
	 * loop pass are done, so that heads that arrived together go to the
	 * policy worker in one sendmsg and it answers them in one wakeup.
	 */
	if (!event_pending(ch->wev, EV_WRITE, NULL) &&
	    !event_pending(ch->fev, EV_WRITE, NULL))
		event_active(ch->fev, EV_WRITE, 1);
	return 0;
}

void
chan_close(struct chan *ch)
{
	int	 fd = ch->mb.fd;

	if (!ch->open)
		return;
	ch->open = 0;
	event_free(ch->rev);
	event_free(ch->wev);
	event_free(ch->fev);
	ch->rev = ch->wev = ch->fev = NULL;
	msgbuf_clear(&ch->mb);
	if (fd != -1)
		close(fd);
}

void
chan_replace(struct chan *ch, struct event_base *base, struct msg *m,
    int allow_fd, const char *name, chan_dispatch_fn dispatch,
    chan_closed_fn closed)
{
	if (m->fd == -1)
		fatalx("%s channel without a descriptor", name);
	chan_close(ch);
	chan_init(ch, base, m->fd, allow_fd, name, dispatch, closed, NULL);
	m->fd = -1;
}

/* A message whose payload is one u32 (an errno, a deadline). */
int
chan_compose_u32(struct chan *ch, uint32_t type, uint32_t peerid,
    uint32_t v)
{
	struct mbuf	 m;
	int		 rv;

	mbuf_init(&m);
	mbuf_add_u32(&m, v);
	rv = m.err ? -1 : chan_compose(ch, type, peerid, -1, m.buf, m.len);
	mbuf_free(&m);
	return rv;
}

/* Its reader: 0, or -1 when the payload is not exactly one u32. */
int
msg_get_u32(const struct msg *msg, uint32_t *v)
{
	struct mbuf	 m;

	mbuf_reader(&m, msg->data, msg->datalen);
	return mbuf_get_u32(&m, v) == -1 || mbuf_end(&m) == -1 ? -1 : 0;
}

/* For the log: what a message is, by name. */
const char *
msg_type_name(uint32_t type)
{
	static const char *names[] = {
		[MSG_NONE] = "NONE",
		[MSG_CTL_PROCFD] = "CTL_PROCFD",
		[MSG_CTL_DRAIN] = "CTL_DRAIN",
		[MSG_CFG_GLOBAL] = "CFG_GLOBAL",
		[MSG_CFG_RULES] = "CFG_RULES",
		[MSG_CFG_LISTENER] = "CFG_LISTENER",
		[MSG_CFG_DONE] = "CFG_DONE",
		[MSG_CFG_CLIENT] = "CFG_CLIENT",
		[MSG_POLICY_REQ] = "POLICY_REQ",
		[MSG_POLICY_VERDICT] = "POLICY_VERDICT",
		[MSG_BACKEND_REQ] = "BACKEND_REQ",
		[MSG_BACKEND_FD] = "BACKEND_FD",
		[MSG_BACKEND_ERR] = "BACKEND_ERR",
		[MSG_LOG] = "LOG",
		[MSG_CFG_TLS] = "CFG_TLS",
		[MSG_CFG_TLS_CA] = "CFG_TLS_CA",
		[MSG_CFG_TLS_CRL] = "CFG_TLS_CRL",
		[MSG_CFG_TLS_KEY] = "CFG_TLS_KEY",
		[MSG_CTL_CAFD] = "CTL_CAFD",
		[MSG_CA_REQ] = "CA_REQ",
		[MSG_CA_RES] = "CA_RES",
		[MSG_CTL_FWDFD] = "CTL_FWDFD",
		[MSG_FWD_KEY] = "FWD_KEY",
		[MSG_FWD_OPEN] = "FWD_OPEN",
		[MSG_FWD_STREAM] = "FWD_STREAM",
		[MSG_FWD_ERR] = "FWD_ERR",
		[MSG_CFG_SHARE] = "CFG_SHARE",
		[MSG_IDENT_PEER] = "IDENT_PEER",
		[MSG_IDENT_CONTAINER] = "IDENT_CONTAINER",
		[MSG_WATCH_CFG] = "WATCH_CFG",
		[MSG_WATCH_OPEN] = "WATCH_OPEN",
		[MSG_WATCH_DATA] = "WATCH_DATA",
		[MSG_WATCH_END] = "WATCH_END",
		[MSG_WATCH_TABLE] = "WATCH_TABLE",
		[MSG_LEARN_CTL] = "LEARN_CTL",
		[MSG_LEARN_RULES] = "LEARN_RULES",
		[MSG_AUDIT] = "AUDIT",
	};

	if (type >= sizeof(names) / sizeof(names[0]) || names[type] == NULL)
		return "an unknown message";
	return names[type];
}
