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
 * The poll(2) loop of the children without libevent, the policy worker
 * and the ca: their seccomp list allows poll, not epoll, and they serve
 * a few channels of messages and nothing else.  See privsep.h.
 */

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#include "log.h"
#include "privsep.h"

#define PLOOP_ROUNDS	8	/* reads of one channel per wakeup, at most */

struct ploop_slot {
	struct msgbuf		 mb;	/* fd -1: closed */
	ploop_dispatch_fn	 dispatch;
	void			*arg;
};

struct ploop {
	struct ploop_slot	 parent;
	struct ploop_slot	*slots;
	int			 nslots;
	struct pollfd		*pfd;	/* parent, then one per slot */
};

static struct ploop_slot *
ploop_slot(struct ploop *pl, int slot)
{
	if (slot == -1)
		return &pl->parent;
	if (slot < 0 || slot >= pl->nslots)
		fatalx("%s: no slot %d", __func__, slot);
	return &pl->slots[slot];
}

struct ploop *
ploop_new(int fd, int nslots, ploop_dispatch_fn dispatch, void *arg)
{
	struct ploop	*pl;
	int		 i;

	if ((pl = calloc(1, sizeof(*pl))) == NULL ||
	    (pl->slots = calloc(nslots, sizeof(*pl->slots))) == NULL ||
	    (pl->pfd = calloc(nslots + 1, sizeof(*pl->pfd))) == NULL)
		fatal("%s", __func__);
	pl->nslots = nslots;
	msgbuf_init(&pl->parent.mb, fd, 1);
	pl->parent.dispatch = dispatch;
	pl->parent.arg = arg;
	for (i = 0; i < nslots; i++)
		msgbuf_init(&pl->slots[i].mb, -1, 0);
	return pl;
}

void
ploop_add(struct ploop *pl, int slot, int fd, ploop_dispatch_fn dispatch,
    void *arg)
{
	struct ploop_slot	*s;

	if (slot == -1)
		fatalx("%s: the parent's slot", __func__);
	ploop_close(pl, slot);
	s = ploop_slot(pl, slot);
	msgbuf_init(&s->mb, fd, 0);
	s->dispatch = dispatch;
	s->arg = arg;
}

void
ploop_close(struct ploop *pl, int slot)
{
	struct ploop_slot	*s = ploop_slot(pl, slot);

	if (s->mb.fd == -1)
		return;
	close(s->mb.fd);
	msgbuf_clear(&s->mb);
	s->mb.fd = -1;
}

int
ploop_reply(struct ploop *pl, int slot, uint32_t type, uint32_t peerid,
    const struct mbuf *out)
{
	struct msgbuf	*mb = ploop_chan(pl, slot);

	if (out->err || mb == NULL ||
	    msg_compose(mb, type, peerid, -1, out->buf, out->len) == -1) {
		ploop_close(pl, slot);
		return -1;
	}
	return 0;
}

struct msgbuf *
ploop_chan(struct ploop *pl, int slot)
{
	struct ploop_slot	*s = ploop_slot(pl, slot);

	return s->mb.fd == -1 ? NULL : &s->mb;
}

/*
 * Read what is there and dispatch every complete message: 0, or -1 when
 * the channel is done (end of file, an error, a protocol error) or its
 * callback closed it.  EAGAIN is not an end: what is buffered counts.  A
 * callback that reads the parent (ploop_read_parent) may see the slot
 * given a new channel: then the old one's end is not the new one's.
 */
static int
ploop_read(struct ploop *pl, int slot)
{
	struct ploop_slot	*s = ploop_slot(pl, slot);
	struct msg		 m;
	ssize_t			 n;
	int			 fd = s->mb.fd, rv = 0, rounds = 0, full;

	/*
	 * Everything queued, in one wakeup: a read that filled the buffer
	 * may have left more behind, so read again once the messages are
	 * out of it (a few rounds at most: the other channels' turn).  The
	 * answers all go in the one flush that follows (ploop_run).
	 */
	do {
		n = msgbuf_read(&s->mb);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			n = 1;
		full = n > 0 && s->mb.rlen == s->mb.rsize;
		while (s->mb.fd == fd && (rv = msg_get(&s->mb, &m)) == 1) {
			s->dispatch(pl, slot, &m, s->arg);
			msg_free(&m);
		}
	} while (full && rv == 0 && s->mb.fd == fd && ++rounds < PLOOP_ROUNDS);
	if (s->mb.fd == -1)
		return -1;
	if (s->mb.fd != fd)
		return 0;
	if (rv == -1 && slot == -1)
		fatalx("protocol error on the parent channel");
	return rv == -1 || n <= 0 ? -1 : 0;
}

void
ploop_read_parent(struct ploop *pl)
{
	if (ploop_read(pl, -1) == -1)
		exit(0);	/* the parent is gone: so are we */
}

/* Write what is queued on slot: 0, or -1 when that failed. */
static int
ploop_flush(struct ploop *pl, int slot)
{
	struct ploop_slot	*s = ploop_slot(pl, slot);

	if (s->mb.fd == -1 || s->mb.wqueued == 0)
		return 0;
	return msgbuf_flush(&s->mb) == -1 ? -1 : 0;
}

void
ploop_run(struct ploop *pl)
{
	struct pollfd	*pfd = pl->pfd;
	int		 i;

	for (;;) {
		for (i = -1; i < pl->nslots; i++) {
			/* poll ignores a negative fd */
			pfd[i + 1].fd = ploop_slot(pl, i)->mb.fd;
			pfd[i + 1].events = POLLIN |
			    (ploop_slot(pl, i)->mb.wqueued ? POLLOUT : 0);
			pfd[i + 1].revents = 0;
		}
		if (poll(pfd, pl->nslots + 1, -1) == -1) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		/* The parent first: configuration, keys, new channels. */
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR))
			ploop_read_parent(pl);
		for (i = 0; i < pl->nslots; i++) {
			/* the parent may have put a new channel here */
			if (pfd[i + 1].fd != pl->slots[i].mb.fd)
				continue;
			if ((pfd[i + 1].revents &
			    (POLLIN | POLLHUP | POLLERR)) &&
			    ploop_read(pl, i) == -1) {
				ploop_close(pl, i);
				continue;
			}
			if (ploop_flush(pl, i) == -1)
				ploop_close(pl, i);
		}
		if (ploop_flush(pl, -1) == -1)
			exit(0);
	}
}
