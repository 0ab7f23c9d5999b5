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
 * Framing between moatd processes, in the shape of OpenBSD's imsg.
 *
 * A message is a 16-byte struct msg_hdr in host byte order (both ends are
 * the same binary on the same host) and hdr.len - MSG_HDRSZ payload bytes.
 * At most one fd travels with a message.  It rides as SCM_RIGHTS on the
 * sendmsg() whose data starts with the first byte of that message, and
 * Linux hands it to the recvmsg() that returns that byte (a unix stream
 * socket never merges two fd-carrying sends into one read).  So the
 * reader queues fds in arrival order and gives the oldest to the next
 * message flagged MSGF_HASFD; an fd that no message can claim is a
 * protocol error.
 *
 * The write side keeps messages in blocks: small messages share a block
 * and a flush hands many blocks to one sendmsg(), so a burst of verdicts
 * costs one system call.  A message with an fd always starts a new block,
 * because its fd must go out with its first byte and no earlier.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy.h"
#include "privsep.h"

#define MSG_RBUF_MIN	(64 * 1024)	/* first read buffer */
#define MSG_READ_MIN	(16 * 1024)	/* free space wanted before a read */
#define MSG_RBUF_MAX	(MSG_MAXSZ + MSG_READ_MIN)
/* An empty-ish read buffer larger than this goes back to MSG_RBUF_MIN. */
#define MSG_RBUF_KEEP	(4 * MSG_RBUF_MIN)
#define MSG_BLKSZ	(16 * 1024)	/* write block shared by small msgs */
#define MSG_IOV_MAX	64		/* blocks per sendmsg() */
#define MSG_CMSG_FDS	4		/* room to see (and refuse) extras */

_Static_assert(MBUF_MAX == MSG_MAXSZ - MSG_HDRSZ,
    "a payload fills a message");
/* MSG_POLICY_REQ with the largest body: head, counter, flag, two lengths. */
_Static_assert(MSG_MAXSZ - MSG_HDRSZ >= BODY_LIMIT_MAX + HTTP_HEAD_MAX + 64,
    "a request with its body fits a message");
_Static_assert(MSG_WQUEUE_MAX >= 2 * MSG_MAXSZ, "a channel queues two");

struct msgout {
	struct msgout	*next;
	int		 fd;		/* goes with buf[0]; -1 once sent */
	size_t		 off;		/* bytes already sent */
	size_t		 len;		/* bytes queued */
	size_t		 size;		/* capacity of buf */
	uint8_t		 buf[];
};

static int	msgbuf_rspace(struct msgbuf *);
static void	msgbuf_rfds(struct msgbuf *, struct msghdr *);
static void	msgbuf_closefds(const int *, size_t);
static int	msg_need(struct msgbuf *, const struct msg_hdr *);
static int	msg_bad(struct msgbuf *);
static struct msgout *msgout_new(struct msgbuf *, size_t);
static void	msgbuf_consume(struct msgbuf *, size_t);

void
msgbuf_init(struct msgbuf *mb, int fd, int allow_fdpass)
{
	memset(mb, 0, sizeof(*mb));
	mb->fd = fd;
	mb->allow_fdpass = allow_fdpass != 0;
}

/* Free everything and close queued fds; the channel's own fd stays open. */
void
msgbuf_clear(struct msgbuf *mb)
{
	struct msgout	*b, *next;

	free(mb->rbuf);
	msgbuf_closefds(mb->rfds, mb->nrfds);
	free(mb->rfds);
	for (b = mb->whead; b != NULL; b = next) {
		next = b->next;
		if (b->fd != -1)
			close(b->fd);
		freezero(b, sizeof(*b) + b->size);
	}
	msgbuf_init(mb, mb->fd, mb->allow_fdpass);
}

static void
msgbuf_closefds(const int *fds, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (fds[i] != -1)
			close(fds[i]);
}

/*
 * Make room for a read.  A reader that drains with msg_get() never holds
 * more than one partial message, so the buffer never needs more than
 * MSG_MAXSZ plus one read; anything beyond that is refused.
 */
static int
msgbuf_rspace(struct msgbuf *mb)
{
	uint8_t	*p;
	size_t	 unparsed, want, nsize;

	if (mb->roff == mb->rlen)
		mb->roff = mb->rlen = 0;
	unparsed = mb->rlen - mb->roff;
	/* After a big message: back to a small buffer. */
	if (mb->rsize > MSG_RBUF_KEEP && unparsed <= MSG_RBUF_MIN / 2) {
		if ((p = malloc(MSG_RBUF_MIN)) == NULL)
			return -1;
		memcpy(p, mb->rbuf + mb->roff, unparsed);
		free(mb->rbuf);
		mb->rbuf = p;
		mb->rsize = MSG_RBUF_MIN;
		mb->roff = 0;
		mb->rlen = unparsed;
	}
	if (mb->rsize - mb->rlen >= MSG_READ_MIN)
		return 0;
	if (mb->roff > 0) {
		memmove(mb->rbuf, mb->rbuf + mb->roff, unparsed);
		mb->roff = 0;
		mb->rlen = unparsed;
		if (mb->rsize - mb->rlen >= MSG_READ_MIN)
			return 0;
	}
	want = unparsed + MSG_READ_MIN;
	if (want > MSG_RBUF_MAX) {
		errno = ENOBUFS;
		return -1;
	}
	nsize = mb->rsize == 0 ? MSG_RBUF_MIN : mb->rsize * 2;
	while (nsize < want)
		nsize *= 2;
	if (nsize > MSG_RBUF_MAX)
		nsize = MSG_RBUF_MAX;
	if ((p = realloc(mb->rbuf, nsize)) == NULL)
		return -1;
	mb->rbuf = p;
	mb->rsize = nsize;
	return 0;
}

ssize_t
msgbuf_read(struct msgbuf *mb)
{
	union {
		struct cmsghdr	 hdr;
		uint8_t		 buf[CMSG_SPACE(sizeof(int) * MSG_CMSG_FDS)];
	} cmsgbuf;
	struct msghdr	 mh;
	struct iovec	 iov;
	ssize_t		 n;

	if (msgbuf_rspace(mb) == -1)
		return -1;
	memset(&mh, 0, sizeof(mh));
	iov.iov_base = mb->rbuf + mb->rlen;
	iov.iov_len = mb->rsize - mb->rlen;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cmsgbuf.buf;
	mh.msg_controllen = sizeof(cmsgbuf.buf);
	do {
		n = recvmsg(mb->fd, &mh, MSG_CMSG_CLOEXEC);
	} while (n == -1 && errno == EINTR);
	if (n == -1)
		return -1;
	mb->rlen += n;
	msgbuf_rfds(mb, &mh);
	return n;
}

/*
 * Take the fds that came with a read.  The sender puts exactly one fd on
 * a sendmsg() and only on a channel that passes fds, so anything else
 * (several fds, other control messages) closes what arrived and poisons
 * the channel: msg_get() fails.  One exception: when our descriptor table
 * is full the kernel drops the fd and says MSG_CTRUNC with no SCM_RIGHTS
 * at all.  That fd is queued as -1, so its message still arrives (flagged
 * MSGF_HASFD, fd -1) and the channel stays usable.
 */
static void
msgbuf_rfds(struct msgbuf *mb, struct msghdr *mh)
{
	struct cmsghdr	*cm;
	int		 fds[MSG_CMSG_FDS], *q;
	size_t		 nfds = 0, n, i, unparsed;
	int		 bad = 0;

	for (cm = CMSG_FIRSTHDR(mh); cm != NULL; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET ||
		    cm->cmsg_type != SCM_RIGHTS ||
		    cm->cmsg_len < CMSG_LEN(0) ||
		    (cm->cmsg_len - CMSG_LEN(0)) % sizeof(int) != 0) {
			bad = 1;
			continue;
		}
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			if (nfds == MSG_CMSG_FDS) {
				bad = 1;	/* cannot happen: MSG_CTRUNC */
				break;
			}
			memcpy(&fds[nfds++], CMSG_DATA(cm) + i * sizeof(int),
			    sizeof(int));
		}
	}
	if (mh->msg_flags & MSG_CTRUNC) {
		if (nfds == 0 && !bad && mh->msg_controllen == 0)
			fds[nfds++] = -1;	/* lost: EMFILE */
		else
			bad = 1;
	}
	if (nfds == 0 && !bad)
		return;
	/*
	 * Each fd-carrying message starts in the unparsed bytes and is at
	 * least a header long, which bounds how many fds can be pending.
	 */
	unparsed = mb->rlen - mb->roff;
	if (nfds != 1 || !mb->allow_fdpass ||
	    mb->nrfds + 1 > unparsed / MSG_HDRSZ + 1)
		bad = 1;
	if (!bad) {
		q = reallocarray(mb->rfds, mb->nrfds + 1, sizeof(int));
		if (q != NULL) {
			mb->rfds = q;
			mb->rfds[mb->nrfds++] = fds[0];
			return;
		}
	}
	msgbuf_closefds(fds, nfds);
	mb->rerr = 1;
}

static int
msg_bad(struct msgbuf *mb)
{
	mb->rerr = 1;
	errno = EBADMSG;
	return -1;
}

/*
 * Called when the buffer holds no complete message.  An fd arrives with
 * the first byte of its message, so every queued fd belongs to a message
 * that has started: only the partial message at the front can still claim
 * one, and if its header asks for one it is already here.
 */
static int
msg_need(struct msgbuf *mb, const struct msg_hdr *hdr)
{
	if (hdr != NULL && (hdr->flags & MSGF_HASFD) && mb->nrfds == 0)
		return msg_bad(mb);
	if (mb->nrfds == 0)
		return 0;
	if (mb->nrfds > 1 || mb->roff == mb->rlen)
		return msg_bad(mb);
	if (hdr != NULL && (hdr->flags & MSGF_HASFD) == 0)
		return msg_bad(mb);
	return 0;
}

int
msg_get(struct msgbuf *mb, struct msg *m)
{
	struct msg_hdr	 hdr;
	size_t		 avail, datalen;

	memset(m, 0, sizeof(*m));
	m->fd = -1;
	if (mb->rerr)
		return msg_bad(mb);
	avail = mb->rlen - mb->roff;
	if (avail < MSG_HDRSZ)
		return msg_need(mb, NULL);
	memcpy(&hdr, mb->rbuf + mb->roff, sizeof(hdr));
	if (hdr.len < MSG_HDRSZ || hdr.len > MSG_MAXSZ ||
	    (hdr.flags & ~MSGF_HASFD) != 0)
		return msg_bad(mb);
	if ((hdr.flags & MSGF_HASFD) && !mb->allow_fdpass)
		return msg_bad(mb);
	if (avail < hdr.len)
		return msg_need(mb, &hdr);
	if ((hdr.flags & MSGF_HASFD) && mb->nrfds == 0)
		return msg_bad(mb);

	datalen = hdr.len - MSG_HDRSZ;
	if (datalen > 0) {
		/* ENOMEM is no protocol error: nothing consumed, retry. */
		if ((m->data = malloc(datalen)) == NULL)
			return -1;
		memcpy(m->data, mb->rbuf + mb->roff + MSG_HDRSZ, datalen);
	}
	if (hdr.flags & MSGF_HASFD) {
		m->fd = mb->rfds[0];
		mb->nrfds--;
		memmove(mb->rfds, mb->rfds + 1, mb->nrfds * sizeof(int));
	}
	m->hdr = hdr;
	m->datalen = datalen;
	mb->roff += hdr.len;
	if (mb->roff == mb->rlen)
		mb->roff = mb->rlen = 0;
	return 1;
}

void
msg_free(struct msg *m)
{
	free(m->data);
	m->data = NULL;
	m->datalen = 0;
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
}

static struct msgout *
msgout_new(struct msgbuf *mb, size_t need)
{
	struct msgout	*b;
	size_t		 size;

	size = need > MSG_BLKSZ ? need : MSG_BLKSZ;
	if ((b = malloc(sizeof(*b) + size)) == NULL)
		return NULL;
	b->next = NULL;
	b->fd = -1;
	b->off = b->len = 0;
	b->size = size;
	if (mb->wtail == NULL)
		mb->whead = b;
	else
		mb->wtail->next = b;
	mb->wtail = b;
	return b;
}

/*
 * The layer owns fd from here on, even when it refuses the message: it is
 * closed once sent, by msgbuf_clear(), or right away on failure.
 */
int
msg_compose(struct msgbuf *mb, uint32_t type, uint32_t peerid, int fd,
    const void *data, size_t len)
{
	struct msg_hdr	 hdr;
	struct msgout	*b;
	size_t		 total;
	int		 saved;

	if (fd < -1 || (len > 0 && data == NULL) ||
	    (fd != -1 && !mb->allow_fdpass)) {
		errno = EINVAL;
		goto fail;
	}
	if (len > MSG_MAXSZ - MSG_HDRSZ) {
		errno = EMSGSIZE;
		goto fail;
	}
	total = MSG_HDRSZ + len;
	if (total > MSG_WQUEUE_MAX - mb->wqueued) {
		errno = ENOBUFS;
		goto fail;
	}
	hdr.type = type;
	hdr.len = total;
	hdr.peerid = peerid;
	hdr.flags = fd != -1 ? MSGF_HASFD : 0;

	b = mb->wtail;
	if (fd != -1 || b == NULL || b->size - b->len < total) {
		if ((b = msgout_new(mb, total)) == NULL)
			goto fail;
		b->fd = fd;
	}
	memcpy(b->buf + b->len, &hdr, MSG_HDRSZ);
	if (len > 0)
		memcpy(b->buf + b->len + MSG_HDRSZ, data, len);
	b->len += total;
	mb->wqueued += total;
	return 0;

 fail:
	if (fd >= 0) {
		saved = errno;
		close(fd);
		errno = saved;
	}
	return -1;
}

/* n bytes went out: the head's fd went with the first of them. */
static void
msgbuf_consume(struct msgbuf *mb, size_t n)
{
	struct msgout	*b;
	size_t		 left;

	mb->wqueued -= n;
	while (n > 0 && (b = mb->whead) != NULL) {
		if (b->fd != -1) {
			close(b->fd);
			b->fd = -1;
		}
		left = b->len - b->off;
		if (n < left) {
			b->off += n;
			return;
		}
		n -= left;
		mb->whead = b->next;
		if (mb->whead == NULL)
			mb->wtail = NULL;
		/* Sent bytes may be secret (a ca's keys): wipe them. */
		freezero(b, sizeof(*b) + b->size);
	}
}

int
msgbuf_flush(struct msgbuf *mb)
{
	union {
		struct cmsghdr	 hdr;
		uint8_t		 buf[CMSG_SPACE(sizeof(int))];
	} cmsgbuf;
	struct iovec	 iov[MSG_IOV_MAX];
	struct msghdr	 mh;
	struct cmsghdr	*cm;
	struct msgout	*b;
	size_t		 want;
	ssize_t		 n;
	int		 i;

	while (mb->whead != NULL) {
		memset(&mh, 0, sizeof(mh));
		b = mb->whead;
		if (b->fd != -1) {
			memset(&cmsgbuf, 0, sizeof(cmsgbuf));
			mh.msg_control = cmsgbuf.buf;
			mh.msg_controllen = sizeof(cmsgbuf.buf);
			cm = CMSG_FIRSTHDR(&mh);
			cm->cmsg_len = CMSG_LEN(sizeof(int));
			cm->cmsg_level = SOL_SOCKET;
			cm->cmsg_type = SCM_RIGHTS;
			memcpy(CMSG_DATA(cm), &b->fd, sizeof(int));
		}
		/* Batch up to the next block with an fd: it needs its own. */
		want = 0;
		for (i = 0; b != NULL && i < MSG_IOV_MAX; b = b->next, i++) {
			if (i > 0 && b->fd != -1)
				break;
			iov[i].iov_base = b->buf + b->off;
			iov[i].iov_len = b->len - b->off;
			want += iov[i].iov_len;
		}
		mh.msg_iov = iov;
		mh.msg_iovlen = i;
		n = sendmsg(mb->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -1;
		}
		msgbuf_consume(mb, n);
		/* A short write means the socket buffer is full. */
		if ((size_t)n < want)
			return 0;
	}
	return 1;
}

int
msgbuf_flush_sync(struct msgbuf *mb)
{
	struct pollfd	 pfd;
	int		 r;

	for (;;) {
		if ((r = msgbuf_flush(mb)) == 1)
			return 0;
		if (r == -1)
			return -1;
		pfd.fd = mb->fd;
		pfd.events = POLLOUT;
		pfd.revents = 0;
		if (poll(&pfd, 1, -1) == -1 && errno != EINTR)
			return -1;
		if (pfd.revents & POLLNVAL) {
			errno = EBADF;
			return -1;
		}
	}
}
