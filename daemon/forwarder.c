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
 * The forwarder: the only process that writes to Docker.  One per relay.
 * It holds the Docker connections the parent opens for it, and gives its
 * relay one end of a socketpair per connection (a stream).  Docker's
 * bytes go down the stream as they came; up the stream the relay sends
 * frames (fwd.h), and the forwarder writes to Docker only:
 *
 * - heads the policy worker approved: the frame carries the exact bytes
 *   and an HMAC the worker made with a key this forwarder and the worker
 *   share and the relay never has, over a counter used once;
 * - bodies it frames itself from data frames: a Content-Length body to
 *   the byte, a chunked one with its own chunk lines, so no byte a client
 *   sent can start a request;
 * - after an approved upgrade, once Docker itself answered 101 on that
 *   connection, raw bytes.
 *
 * It parses no client byte, and of Docker's bytes only the status line of
 * an upgrade's answer.  Anything else on a stream closes the stream, with
 * a warning in the log: that is a relay broken or taken over.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "moatd.h"

/*
 * The I/O is our own on libevent's plain events (the loop and its timers
 * stay libevent's): its bufferevents ask FIONREAD before every read and
 * arm EPOLLOUT before every write, and copy every byte through user
 * space.  Here a read is one read(2) of up to IO_MAX, a write is tried
 * first and EPOLLOUT armed only when Docker or the relay did not take it
 * all, the read events stay on except while the other side is full, and
 * on a plain Docker connection the bytes move by splice(2) through a
 * pipe: Docker's answers and raw streams down, the payloads of data
 * frames (bodies, raw streams) up.  A splice or read that moved less
 * than asked ends the turn: readiness brings us back.  TLS with Docker
 * is SSL_read/SSL_write on the same events, through user space.
 *
 * An idle stream holds no buffer and no pipe: bytes a side did not take
 * are kept in a buffer of their size, freed once they went, and pipes
 * are taken from a small pool when bytes are to move and given back
 * once empty.  Without a descriptor to spare for a pipe, bytes go
 * through user space.
 */
#define IO_MAX		(64 * 1024)	/* one read or splice */
#define RBUF_SIZE	(FWD_HDRLEN + FWD_FRAME_MAX + IO_MAX)
#define ROUNDS		16		/* per side per wake-up */
#define STATUS_LINE_MAX	64		/* "HTTP/1.1 101 ...\r\n", enough */
#define FD_RESERVE	16		/* channels, stdio, epoll */
#define PIPES_IDLE	4		/* empty pipes kept for the next one */
#define PIPE_SIZE	(1024 * 1024)	/* asked for; the kernel may give less */

enum up_state {
	UP_IDLE,	/* a head may come */
	UP_LENGTH,	/* a Content-Length body: remain bytes */
	UP_CHUNKED,	/* a chunked body, until FWD_END */
	UP_WAIT101,	/* an upgrade sent: Docker's answer decides */
	UP_PIPE,	/* Docker said 101: raw bytes */
	UP_DEAD,	/* nothing more goes to Docker */
};

/* Bytes one side has not taken yet: p[off, len). */
struct pend {
	uint8_t			*p;
	size_t			 off;
	size_t			 len;
	size_t			 cap;
};

struct stream {
	TAILQ_ENTRY(stream)	 entry;
	uint32_t		 sid;		/* the relay's session, for logs */
	int			 dfd;		/* Docker */
	int			 ufd;		/* our end of the relay's stream */
	SSL			*ssl;		/* TLS with Docker, or NULL */
	struct event		*dr;		/* Docker readable, persistent */
	struct event		*dw;		/* Docker writable, once */
	struct event		*ur;		/* relay readable, persistent */
	struct event		*uw;		/* relay writable, once */
	int			 dr_on;
	int			 ur_on;
	enum up_state		 up;
	uint64_t		 remain;
	unsigned int		 nheads;
	int			 upgrade;	/* the head was an upgrade */
	int			 answer101;	/* 0 unknown, 1 yes, -1 no */
	/* Up: frames from the relay, bytes to Docker. */
	struct pend		 in;		/* a frame's start, incomplete */
	struct pend		 out;		/* for Docker, not taken yet */
	uint32_t		 fremain;	/* a data frame's bytes to come */
	int			 fend;		/* ...all spliced: frame_done */
	int			 upipe[2];
	size_t			 inup;		/* bytes in it */
	/* Down: Docker's bytes to the relay. */
	struct pend		 dout;		/* for the relay, not taken yet */
	int			 dpipe[2];
	size_t			 indown;
	/*
	 * A checked body (fwd.h): its head and the body so far, held until
	 * all of it is here and its SHA-256 is sum.
	 */
	int			 checking;
	struct pend		 hold;
	size_t			 holdhead;	/* the head's bytes in hold */
	uint8_t			 sum[FWD_SUMLEN];
	char			 status[STATUS_LINE_MAX];
	size_t			 statuslen;
	int			 d_eof;
	int			 u_eof;
	int			 d_shut;	/* our write side to Docker shut */
	int			 d_wfail;	/* Docker takes no more */
	int			 u_shut;
	int			 connecting;	/* TLS: handshake first */
	int			 rd_wants_wr;	/* TLS: SSL_read wants Docker writable */
	int			 wr_wants_rd;	/* TLS: SSL_write wants it readable */
	int			 relay_fd;	/* its end, until sent */
};
TAILQ_HEAD(streams, stream);

struct fwd {
	int			 instance;
	struct event_base	*base;
	struct chan		 parent;
	struct chan		 relay;
	uint8_t			 key[FWD_KEYLEN];
	struct fwd_key		*mk;		/* key, made ready */
	int			 haskey;
	struct fwd_window	 window;
	struct streams		 streams;
	size_t			 nstreams;
	size_t			 nopening;	/* asked the parent, no answer */
	int			 nfds;
	int			 maxfds;
	uint32_t		 gen;
	int			 pipes[PIPES_IDLE][2];	/* empty, for the next */
	int			 npipes;
};

static struct fwd	*f;
/* One stream's turn at a time: what it reads, what it has for Docker. */
static uint8_t		 rbuf[RBUF_SIZE];
static struct pend	 stage;

static void	stream_give(struct stream *);
static void	open_fail(uint32_t, int);
static void	relay_closed(struct chan *, void *);

static size_t
pend_left(const struct pend *b)
{
	return b->len - b->off;
}

static void
pend_add(struct pend *b, const void *p, size_t len)
{
	size_t	 cap;

	if (len == 0)
		return;
	if (b->off > 0 && b->off == b->len)
		b->off = b->len = 0;
	if (b->len + len > b->cap) {
		cap = b->len + len;
		if (cap < 256)
			cap = 256;
		if ((b->p = realloc(b->p, cap)) == NULL)
			fatal("%s", __func__);
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, len);
	b->len += len;
}

/* Empty again; its memory goes unless it is the stage. */
static void
pend_reset(struct pend *b)
{
	b->off = b->len = 0;
	if (b == &stage)
		return;
	free(b->p);
	b->p = NULL;
	b->cap = 0;
}

/* A pipe for a splice: from the pool, or a new one if it fits. */
static int
pipe_get(int p[2])
{
	if (p[0] != -1)
		return 0;
	if (f->npipes > 0) {
		f->npipes--;
		p[0] = f->pipes[f->npipes][0];
		p[1] = f->pipes[f->npipes][1];
		return 0;
	}
	if (f->nfds + 2 > f->maxfds - FD_RESERVE ||
	    pipe2(p, O_NONBLOCK | O_CLOEXEC) == -1)
		return -1;
	(void)fcntl(p[1], F_SETPIPE_SZ, PIPE_SIZE);
	f->nfds += 2;
	return 0;
}

/* Back to the pool when empty and there is room, else closed. */
static void
pipe_put(int p[2], int empty)
{
	if (p[0] == -1)
		return;
	if (empty && f->npipes < PIPES_IDLE) {
		f->pipes[f->npipes][0] = p[0];
		f->pipes[f->npipes][1] = p[1];
		f->npipes++;
	} else {
		close(p[0]);
		close(p[1]);
		f->nfds -= 2;
	}
	p[0] = p[1] = -1;
}

static void
dr_set(struct stream *st, int on)
{
	if (on == st->dr_on)
		return;
	st->dr_on = on;
	if (on)
		event_add(st->dr, NULL);
	else
		event_del(st->dr);
}

/* The relay is read unless Docker is full, or nothing more may go. */
static void
ur_set(struct stream *st, int on)
{
	if (st->u_eof || st->d_wfail || st->connecting)
		on = 0;
	if (on == st->ur_on)
		return;
	st->ur_on = on;
	if (on)
		event_add(st->ur, NULL);
	else
		event_del(st->ur);
}

static void
stream_free(struct stream *st)
{
	TAILQ_REMOVE(&f->streams, st, entry);
	f->nstreams--;
	if (st->relay_fd != -1) {
		close(st->relay_fd);
		f->nfds--;
	}
	event_free(st->dr);
	event_free(st->dw);
	event_free(st->ur);
	event_free(st->uw);
	pipe_put(st->upipe, st->inup == 0);
	pipe_put(st->dpipe, st->indown == 0);
	SSL_free(st->ssl);
	close(st->dfd);
	close(st->ufd);
	f->nfds -= 2;
	pend_reset(&st->in);
	pend_reset(&st->out);
	pend_reset(&st->dout);
	pend_reset(&st->hold);
	free(st);
}

/*
 * A relay that breaks the protocol: the stream goes, nothing more.  A
 * frame is refused on its header, its payload may be on the way: the
 * relay may send no more, and what it sent is read out, so that it sees
 * the stream closed rather than reset.
 */
static void
refuse(struct stream *st, const char *why)
{
	log_warnx("relay[%d]: session %u: %s; stream closed", f->instance,
	    st->sid, why);
	shutdown(st->ufd, SHUT_RD);
	while (read(st->ufd, rbuf, IO_MAX) > 0)
		;
	stream_free(st);
}


/*
 * Docker's side, plain or TLS.  d_read: bytes, 0 at Docker's end (a
 * reset or a TLS failure is one too), -1 for not now.  d_write: bytes,
 * or -1 with errno EAGAIN for not now, anything else for Docker takes
 * no more.
 */
static ssize_t
d_read(struct stream *st, void *p, size_t len)
{
	char	 why[512];
	ssize_t	 n;
	int	 rv;

	if (st->ssl == NULL) {
		if ((n = read(st->dfd, p, len)) == -1)
			return errno == EAGAIN || errno == EINTR ? -1 : 0;
		return n;
	}
	st->rd_wants_wr = 0;
	ERR_clear_error();
	if ((rv = SSL_read(st->ssl, p, len > INT_MAX ? INT_MAX : len)) > 0)
		return rv;
	switch (SSL_get_error(st->ssl, rv)) {
	case SSL_ERROR_WANT_WRITE:
		st->rd_wants_wr = 1;
		event_add(st->dw, NULL);
		/* FALLTHROUGH */
	case SSL_ERROR_WANT_READ:
		return -1;
	case SSL_ERROR_ZERO_RETURN:
		break;
	default:
		/* TLS 1.3: a refused client certificate comes now. */
		if (!SSL_is_init_finished(st->ssl))
			relay_tls_backend_failure(st->ssl, why, sizeof(why));
		break;
	}
	ERR_clear_error();
	return 0;
}

static ssize_t
d_write(struct stream *st, const void *p, size_t len)
{
	int	 rv;

	if (st->ssl == NULL) {
		rv = write(st->dfd, p, len);
		if (rv == -1 && errno == EINTR)
			errno = EAGAIN;
		return rv;
	}
	st->wr_wants_rd = 0;
	ERR_clear_error();
	if ((rv = SSL_write(st->ssl, p, len > INT_MAX ? INT_MAX : len)) > 0)
		return rv;
	switch (SSL_get_error(st->ssl, rv)) {
	case SSL_ERROR_WANT_READ:
		st->wr_wants_rd = 1;
		/* FALLTHROUGH */
	case SSL_ERROR_WANT_WRITE:
		errno = EAGAIN;
		return -1;
	}
	ERR_clear_error();
	errno = EPIPE;
	return -1;
}

/* Half-close: close_notify on TLS (as Go's CloseWrite), else SHUT_WR. */
static void
d_shutdown(struct stream *st)
{
	if (st->ssl == NULL) {
		shutdown(st->dfd, SHUT_WR);
		return;
	}
	(void)SSL_shutdown(st->ssl);
	ERR_clear_error();
}

/* Bytes for Docker, in order: what it did not take before, then these. */
static void
d_add(struct stream *st, const void *p, size_t len)
{
	pend_add(pend_left(&st->out) > 0 ? &st->out : &stage, p, len);
}

/* What b holds, to Docker: 1 all of it, 0 not now, -1 Docker failed. */
static int
d_put(struct stream *st, struct pend *b)
{
	ssize_t	 n;

	while (pend_left(b) > 0) {
		if ((n = d_write(st, b->p + b->off, pend_left(b))) == -1)
			return errno == EAGAIN ? 0 : -1;
		b->off += n;
		/* Short on a socket: it is full.  TLS writes a record. */
		if (st->ssl == NULL && pend_left(b) > 0)
			return 0;
	}
	pend_reset(b);
	return 1;
}

static void
after_body(struct stream *st)
{
	if (!st->upgrade)
		st->up = UP_IDLE;
	else if (st->answer101 == 1)
		st->up = UP_PIPE;
	else if (st->answer101 == -1)
		st->up = UP_DEAD;
	else
		st->up = UP_WAIT101;
}

/*
 * A checked body is all here: exactly the bytes the policy worker read,
 * or the stream goes (a relay that swapped them).  Then the head and
 * the body go to Docker together.  0, or -1 when st is gone.
 */
static int
held_done(struct stream *st)
{
	uint8_t	 sum[FWD_SUMLEN];

	if (body_sum(st->hold.p + st->holdhead, st->hold.len - st->holdhead,
	    sum) == -1 || CRYPTO_memcmp(sum, st->sum, FWD_SUMLEN) != 0)
		return refuse(st, "a body other than the one the policy "
		    "worker checked"), -1;
	st->checking = 0;
	if (pend_left(&st->out) == 0 && pend_left(&stage) == 0 &&
	    st->inup == 0) {
		/* Nothing before it: the held bytes are the next out. */
		pend_reset(&st->out);
		st->out = st->hold;
		memset(&st->hold, 0, sizeof(st->hold));
	} else {
		d_add(st, st->hold.p, st->hold.len);
		pend_reset(&st->hold);
	}
	after_body(st);
	return 0;
}

static int
frame_head(struct stream *st, const void *buf, size_t len)
{
	struct fwd_head	 h;

	if (st->up != UP_IDLE)
		return refuse(st, "a head where none may come"), -1;
	if (fwd_head_decode(buf, len, &h) == -1)
		return refuse(st, "a malformed head frame"), -1;
	if (!f->haskey)
		return refuse(st, "a head the policy worker did not approve"),
		    -1;
	switch (fwd_check_k(f->mk, f->gen, &f->window, &h)) {
	case FWD_OK:
		break;
	case FWD_FORGED:
		return refuse(st, "a head the policy worker did not approve"),
		    -1;
	case FWD_REPLAY:
		return refuse(st, "an approval used before (replay)"), -1;
	case FWD_NOT_REUSABLE:
		return refuse(st, "a reusable approval for a body or an "
		    "upgrade"), -1;
	case FWD_STALE:
		/* A relay's cached approval in flight across a reload (rare,
		 * moatd.8), or one kept on purpose: either way, no more. */
		log_info("relay[%d]: session %u: a reusable approval of "
		    "configuration %u, now %u; stream closed", f->instance,
		    st->sid, FWD_CTR_GEN(h.ctr), f->gen);
		stream_free(st);
		return -1;
	}
	/* The first status line Docker sends must be this request's. */
	if (h.upgrade && st->nheads > 0)
		return refuse(st, "an upgrade on a used connection"), -1;
	st->nheads++;
	st->upgrade = h.upgrade;
	if (h.checked) {
		/* Nothing goes until the body is all here and checked. */
		st->checking = 1;
		memcpy(st->sum, h.bodysum, FWD_SUMLEN);
		pend_add(&st->hold, h.head, h.headlen);
		st->holdhead = h.headlen;
		st->up = UP_LENGTH;
		st->remain = h.length;
		return h.length == 0 ? held_done(st) : 0;
	}
	d_add(st, h.head, h.headlen);
	switch (h.framing) {
	case FRAMING_LENGTH:
		st->up = UP_LENGTH;
		st->remain = h.length;
		if (h.length == 0)
			after_body(st);
		break;
	case FRAMING_CHUNKED:
		st->up = UP_CHUNKED;
		break;
	default:
		after_body(st);
		break;
	}
	return 0;
}

/* A data frame's header: where its len bytes may go, checked first. */
static int
frame_data(struct stream *st, uint32_t len)
{
	char	 line[16];
	int	 n;

	switch (st->up) {
	case UP_LENGTH:
		if (len > st->remain)
			return refuse(st, "body bytes beyond Content-Length"),
			    -1;
		st->remain -= len;
		break;
	case UP_CHUNKED:
		n = snprintf(line, sizeof(line), "%x\r\n", len);
		d_add(st, line, n);
		break;
	case UP_PIPE:
		break;
	case UP_WAIT101:
		return refuse(st, "raw bytes before Docker upgraded"), -1;
	case UP_DEAD:
		return refuse(st, "raw bytes after Docker refused the "
		    "upgrade"), -1;
	default:
		return refuse(st, "data where no body may come"), -1;
	}
	st->fremain = len;
	return 0;
}

/* A data frame's last byte went.  0, or -1 when st is gone. */
static int
frame_done(struct stream *st)
{
	if (st->up == UP_CHUNKED)
		d_add(st, "\r\n", 2);
	else if (st->up == UP_LENGTH && st->remain == 0) {
		if (st->checking)
			return held_done(st);
		after_body(st);
	}
	return 0;
}

static int
frame_end(struct stream *st)
{
	if (st->up != UP_CHUNKED)
		return refuse(st, "a chunked end without a body"), -1;
	d_add(st, "0\r\n\r\n", 5);
	after_body(st);
	return 0;
}

/*
 * Frames in p, whole or not: heads, ends and data go to the stage, an
 * incomplete frame's start waits in st->in.  0, or -1 (st is gone).
 */
static int
frames_in(struct stream *st, const uint8_t *p, size_t len)
{
	uint32_t	 type, flen;
	size_t		 n;

	while (len > 0) {
		if (st->fremain > 0) {
			n = len < st->fremain ? len : st->fremain;
			if (st->checking)
				pend_add(&st->hold, p, n);
			else
				d_add(st, p, n);
			p += n;
			len -= n;
			if ((st->fremain -= n) == 0 && frame_done(st) == -1)
				return -1;
			continue;
		}
		if (len < FWD_HDRLEN)
			break;
		if (fwd_frame_parse(p, &type, &flen) == -1)
			return refuse(st, "a malformed frame"), -1;
		if (type == FWD_HEAD) {
			if (len < FWD_HDRLEN + (size_t)flen)
				break;
			if (frame_head(st, p + FWD_HDRLEN, flen) == -1)
				return -1;
			p += FWD_HDRLEN + flen;
			len -= FWD_HDRLEN + flen;
			continue;
		}
		if (type == FWD_DATA ? frame_data(st, flen) == -1 :
		    frame_end(st) == -1)
			return -1;
		p += FWD_HDRLEN;
		len -= FWD_HDRLEN;
	}
	pend_add(&st->in, p, len);
	return 0;
}

/*
 * Docker takes no more (it answered a body it will not read): the
 * relay's writes fail from here on, and it stops sending the body.  The
 * answer comes on the read side.
 */
static void
d_failed(struct stream *st)
{
	st->up = UP_DEAD;
	st->d_wfail = 1;
	pend_reset(&st->in);
	pend_reset(&st->out);
	pend_reset(&stage);
	pend_reset(&st->hold);
	st->checking = 0;
	st->fremain = st->fend = 0;
	pipe_put(st->upipe, st->inup == 0);
	st->inup = 0;
	ur_set(st, 0);
	shutdown(st->ufd, SHUT_RD);
}

/*
 * What waits for Docker goes, in the order it came: bytes it did not
 * take before, the pipe's, the stage's.  1 all out; 0 Docker is full (its
 * writability calls us back, the relay is not read meanwhile); -1 Docker
 * failed.
 */
static int
up_flush(struct stream *st)
{
	ssize_t	 n;
	int	 r;

	if ((r = d_put(st, &st->out)) != 1)
		goto stop;
	if (st->inup > 0) {
		n = splice(st->upipe[0], NULL, st->dfd, NULL, st->inup,
		    SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
		if (n > 0)
			st->inup -= n;
		r = n > 0 ? st->inup == 0 : n == -1 && (errno == EAGAIN ||
		    errno == EINTR) ? 0 : -1;
		if (r != 1)
			goto stop;
	}
	if ((r = d_put(st, &stage)) == 0) {
		pend_add(&st->out, stage.p + stage.off, pend_left(&stage));
		pend_reset(&stage);
	}
	/* After a big checked body: the stage is small again. */
	if (stage.cap > RBUF_SIZE) {
		free(stage.p);
		memset(&stage, 0, sizeof(stage));
	}
	if (r == 1) {
		ur_set(st, 1);
		return 1;
	}
 stop:
	if (r == -1) {
		d_failed(st);
		return -1;
	}
	ur_set(st, 0);
	/* SSL_write waiting to read: Docker's readability retries it. */
	if (!st->wr_wants_rd)
		event_add(st->dw, NULL);
	return 0;
}

/* The relay closed its end: in a pipe, its write side; else all of it. */
static int
up_eof(struct stream *st, int error)
{
	if (error || st->up != UP_PIPE) {
		stream_free(st);	/* the relay is done with it */
		return -1;
	}
	st->u_eof = 1;
	ur_set(st, 0);
	return 0;
}

/*
 * Frames into user space.  A head is read whole, with what follows it
 * (a small body comes along); inside a body on a plain connection only
 * the next frame header, so that its payload can be spliced.  -1 st is
 * gone, 0 nothing now, 1 read, 2 read less than asked.
 */
static int
up_read(struct stream *st)
{
	size_t		 have = pend_left(&st->in), want = IO_MAX;
	uint32_t	 type, len;
	ssize_t		 n;

	if (have > 0)
		memcpy(rbuf, st->in.p + st->in.off, have);
	if (have >= FWD_HDRLEN && fwd_frame_parse(rbuf, &type, &len) == 0 &&
	    type == FWD_HEAD && FWD_HDRLEN + len - have > want)
		want = FWD_HDRLEN + len - have;
	else if (have < FWD_HDRLEN && st->fremain == 0 && st->ssl == NULL &&
	    !st->checking && (st->up == UP_LENGTH || st->up == UP_CHUNKED ||
	    st->up == UP_PIPE))
		want = FWD_HDRLEN - have;
	if ((n = read(st->ufd, rbuf + have, want)) == -1 &&
	    (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0)
		return up_eof(st, n == -1);
	pend_reset(&st->in);
	if (frames_in(st, rbuf, have + n) == -1)
		return -1;
	return (size_t)n < want ? 2 : 1;
}

/* A data frame's payload, relay to pipe: Docker gets it in up_flush. */
static int
up_splice(struct stream *st)
{
	size_t	 want = st->fremain < IO_MAX ? st->fremain : IO_MAX;
	ssize_t	 n;

	n = splice(st->ufd, NULL, st->upipe[1], NULL, want,
	    SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0)
		return up_eof(st, n == -1);
	st->inup = n;
	if ((st->fremain -= n) == 0)
		st->fend = 1;
	return (size_t)n < want ? 2 : 1;
}

static int	shut_check(struct stream *);

/*
 * The relay's frames to Docker, as long as Docker takes them.  0, or -1
 * when st is gone.
 */
static int
up_pump(struct stream *st)
{
	enum up_state	 was;
	int		 r, rounds = 0, stop = 0;

	if (st->connecting)
		return 0;
	for (;;) {
		if (st->d_wfail)
			break;
		if ((r = up_flush(st)) != 1) {
			if (r == 0)
				return 0;
			break;
		}
		if (st->fend) {
			st->fend = 0;
			if (frame_done(st) == -1)
				return -1;
			continue;
		}
		if (st->fremain == 0)
			pipe_put(st->upipe, 1);
		if (stop || st->u_eof || rounds++ >= ROUNDS)
			break;
		was = st->up;
		/* A checked body is held, never spliced. */
		if (st->fremain > 0 && pend_left(&st->in) == 0 &&
		    st->ssl == NULL && !st->checking &&
		    pipe_get(st->upipe) == 0)
			r = up_splice(st);
		else
			r = up_read(st);
		if (r == -1)
			return -1;
		/* A short read, or a body's end: no read for EAGAIN. */
		stop = r != 1 || (was != UP_IDLE && st->up == UP_IDLE);
	}
	return shut_check(st);
}

/*
 * For the relay, in order: bytes it did not take before, then the
 * pipe's.  1 all out; 0 the relay is full (its writability calls us
 * back, Docker is not read meanwhile); -1 the relay is gone (st too).
 */
static int
down_flush(struct stream *st)
{
	ssize_t	 n;

	while (pend_left(&st->dout) > 0) {
		n = write(st->ufd, st->dout.p + st->dout.off,
		    pend_left(&st->dout));
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			goto wait;
		if (n <= 0)
			goto gone;
		st->dout.off += n;
		if (pend_left(&st->dout) > 0)
			goto wait;
	}
	pend_reset(&st->dout);
	if (st->indown > 0) {
		n = splice(st->dpipe[0], NULL, st->ufd, NULL, st->indown,
		    SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			goto wait;
		if (n <= 0)
			goto gone;
		if ((st->indown -= n) > 0)
			goto wait;
	}
	return 1;
 wait:
	dr_set(st, 0);
	event_add(st->uw, NULL);
	return 0;
 gone:
	stream_free(st);
	return -1;
}

/* Bytes for the relay from user space: written now if nothing waits. */
static void
u_add(struct stream *st, const uint8_t *p, size_t len)
{
	ssize_t	 n = 0;

	if (pend_left(&st->dout) == 0 && st->indown == 0 &&
	    (n = write(st->ufd, p, len)) == -1)
		n = 0;		/* down_flush tells what it was */
	pend_add(&st->dout, p + n, len - n);
}

/*
 * The status line of the answer to an upgrade: 101 or not.  Read with
 * what follows it, which goes on in the same write; a line still
 * incomplete waits in st->status.
 */
static int
status_read(struct stream *st)
{
	size_t	 have = st->statuslen, len;
	ssize_t	 n;

	memcpy(rbuf, st->status, have);
	if ((n = d_read(st, rbuf + have, IO_MAX)) == -1)
		return 0;
	if (n == 0)
		st->d_eof = 1;
	len = have + n;
	if (memmem(rbuf, len < STATUS_LINE_MAX ? len : STATUS_LINE_MAX,
	    "\r\n", 2) == NULL && len < STATUS_LINE_MAX && !st->d_eof) {
		memcpy(st->status, rbuf, len);
		st->statuslen = len;
		return 1;
	}
	st->statuslen = 0;
	st->answer101 = len >= 13 && (memcmp(rbuf, "HTTP/1.1 101 ", 13) ==
	    0 || memcmp(rbuf, "HTTP/1.1 101\r", 13) == 0) ? 1 : -1;
	if (st->up == UP_WAIT101)
		after_body(st);
	u_add(st, rbuf, len);
	return 1;
}

/* Docker to the pipe: the relay gets it in down_flush. */
static int
down_splice(struct stream *st)
{
	ssize_t	 n;

	n = splice(st->dfd, NULL, st->dpipe[1], NULL, PIPE_SIZE,
	    SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		st->d_eof = 1;		/* end of file, or a reset */
		return 0;
	}
	st->indown = n;
	return n < IO_MAX ? 2 : 1;
}

/* TLS, or no pipe to spare: through user space. */
static int
down_read(struct stream *st)
{
	ssize_t	 n;

	if ((n = d_read(st, rbuf, IO_MAX)) == -1)
		return 0;
	if (n == 0) {
		st->d_eof = 1;
		return 0;
	}
	u_add(st, rbuf, n);
	/* SSL_read gives a record at a time: on until it wants more. */
	return st->ssl != NULL || n == IO_MAX ? 1 : 2;
}

/*
 * Docker's bytes to the relay, as long as the relay takes them; Docker's
 * end or error is its end.  0, or -1 when st is gone.
 */
static int
down_pump(struct stream *st)
{
	int	 r, rounds = 0, stop = 0;

	if (st->connecting)
		return 0;
	for (;;) {
		if ((r = down_flush(st)) != 1)
			return r;
		if (st->d_eof || stop || rounds++ >= ROUNDS)
			break;
		if (st->upgrade && st->answer101 == 0)
			r = status_read(st);
		else if (st->ssl == NULL && pipe_get(st->dpipe) == 0)
			r = down_splice(st);
		else
			r = down_read(st);
		stop = r != 1;
	}
	pipe_put(st->dpipe, 1);
	if (!st->d_eof) {
		dr_set(st, 1);
		/* What OpenSSL holds, the socket no longer signals. */
		if (st->ssl != NULL && SSL_pending(st->ssl) > 0)
			event_active(st->dr, EV_READ, 1);
		return 0;
	}
	dr_set(st, 0);
	return shut_check(st);
}

/*
 * Ends pass on once the bytes before them went: the relay's (in a pipe)
 * to Docker, Docker's to the relay.  With both, or Docker's after it
 * failed, the stream is done.  0, or -1 when st is gone.
 */
static int
shut_check(struct stream *st)
{
	if (st->u_eof && st->up == UP_PIPE && !st->d_shut &&
	    pend_left(&st->out) == 0 && st->inup == 0) {
		d_shutdown(st);
		st->d_shut = 1;
	}
	if (st->d_eof && !st->u_shut && st->indown == 0 &&
	    pend_left(&st->dout) == 0) {
		shutdown(st->ufd, SHUT_WR);
		st->u_shut = 1;
	}
	if (st->u_shut && (st->d_shut || st->d_wfail)) {
		stream_free(st);
		return -1;
	}
	return 0;
}

/* TLS with Docker: the handshake, then the relay gets its end. */
static void
handshake(struct stream *st)
{
	char	 why[512];
	int	 rv;

	ERR_clear_error();
	if ((rv = SSL_connect(st->ssl)) == 1) {
		event_del(st->dw);
		stream_give(st);
		return;
	}
	switch (SSL_get_error(st->ssl, rv)) {
	case SSL_ERROR_WANT_READ:
		dr_set(st, 1);
		return;
	case SSL_ERROR_WANT_WRITE:
		event_add(st->dw, NULL);
		return;
	}
	/* TLS with Docker failed: the relay says so (502). */
	relay_tls_backend_failure(st->ssl, why, sizeof(why));
	open_fail(st->sid, EPROTO);
	stream_free(st);
}

static void
dr_cb(int fd, short ev, void *arg)
{
	struct stream	*st = arg;

	if (st->connecting) {
		handshake(st);
		return;
	}
	if (down_pump(st) == 0 && st->wr_wants_rd)
		(void)up_pump(st);
}

static void
dw_cb(int fd, short ev, void *arg)
{
	struct stream	*st = arg;

	if (st->connecting) {
		handshake(st);
		return;
	}
	if (up_pump(st) == 0 && st->rd_wants_wr)
		(void)down_pump(st);
}

static void
ur_cb(int fd, short ev, void *arg)
{
	(void)up_pump(arg);
}

static void
uw_cb(int fd, short ev, void *arg)
{
	(void)down_pump(arg);
}

/* The relay gets its end once Docker's end is usable. */
static void
stream_give(struct stream *st)
{
	int	 fd = st->relay_fd;

	st->connecting = 0;
	st->relay_fd = -1;
	f->nfds--;
	ur_set(st, 1);
	dr_set(st, 1);
	if (chan_compose(&f->relay, MSG_FWD_STREAM, st->sid, fd, NULL, 0) ==
	    -1)
		stream_free(st);
}

static void
open_fail(uint32_t sid, int err)
{
	if (chan_compose_u32(&f->relay, MSG_FWD_ERR, sid, err) == -1)
		log_warnx("relay[%d]: cannot answer", f->instance);
}

/* The relay asks for a Docker connection: ask the parent to open one. */
static void
stream_open(uint32_t sid)
{
	/*
	 * Docker's and the stream's two ends; pipes are taken while bytes
	 * move, and the pool's have their room.
	 */
	if (f->nfds + 3 + (int)f->nopening * 3 >
	    f->maxfds - FD_RESERVE - 2 * PIPES_IDLE) {
		open_fail(sid, EMFILE);
		return;
	}
	if (chan_compose(&f->parent, MSG_BACKEND_REQ, sid, -1, NULL, 0) ==
	    -1) {
		open_fail(sid, EAGAIN);
		return;
	}
	f->nopening++;
}

static void
stream_new(uint32_t sid, int fd)
{
	struct stream	*st;
	SSL		*ssl;
	int		 sp[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0, sp) == -1) {
		log_warn("%s: socketpair", __func__);
		close(fd);
		open_fail(sid, errno);
		return;
	}
	if (relay_tls_backend_ssl(fd, &ssl) == -1) {
		close(sp[0]);
		close(sp[1]);
		open_fail(sid, EPROTO);
		return;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL)
		fatal("%s", __func__);
	st->sid = sid;
	st->dfd = fd;
	st->ufd = sp[0];
	st->relay_fd = sp[1];
	st->ssl = ssl;
	st->upipe[0] = st->upipe[1] = st->dpipe[0] = st->dpipe[1] = -1;
	if ((st->dr = event_new(f->base, fd, EV_READ | EV_PERSIST, dr_cb,
	    st)) == NULL ||
	    (st->dw = event_new(f->base, fd, EV_WRITE, dw_cb, st)) == NULL ||
	    (st->ur = event_new(f->base, sp[0], EV_READ | EV_PERSIST, ur_cb,
	    st)) == NULL ||
	    (st->uw = event_new(f->base, sp[0], EV_WRITE, uw_cb, st)) == NULL)
		fatalx("%s: event_new", __func__);
	TAILQ_INSERT_TAIL(&f->streams, st, entry);
	f->nstreams++;
	f->nfds += 3;
	if (ssl != NULL) {
		st->connecting = 1;
		handshake(st);
		return;
	}
	stream_give(st);
}

static void
backend_answer(struct msg *m)
{
	uint32_t	 err;

	if (f->nopening > 0)
		f->nopening--;
	if (m->hdr.type == MSG_BACKEND_FD) {
		/* fd -1: it did not fit in our table (msg.c). */
		if (m->fd == -1)
			open_fail(m->hdr.peerid, EMFILE);
		else
			stream_new(m->hdr.peerid, m->fd);
		m->fd = -1;
		return;
	}
	if (msg_get_u32(m, &err) == -1)
		fatalx("bad backend error message");
	open_fail(m->hdr.peerid, (int)err);
}

static void
relay_dispatch(struct chan *ch, struct msg *m, void *arg)
{
	if (!proc_peer_may_send(PROC_RELAY, PROC_FORWARDER, m->hdr.type,
	    m->fd != -1) || m->datalen != 0) {
		log_warnx("relay[%d]: sent %s, which it may not; closing its "
		    "channel", f->instance, msg_type_name(m->hdr.type));
		chan_close(&f->relay);
		relay_closed(&f->relay, NULL);
		return;
	}
	stream_open(m->hdr.peerid);
}

static void
relay_closed(struct chan *ch, void *arg)
{
	struct stream	*st;

	/* That relay is gone: so is everything it had. */
	while ((st = TAILQ_FIRST(&f->streams)) != NULL)
		stream_free(st);
}

static void
set_key(struct msg *m)
{
	if (m->datalen != FWD_KEYLEN)
		fatalx("bad key from parent");
	memcpy(f->key, m->data, FWD_KEYLEN);
	explicit_bzero(m->data, m->datalen);
	fwd_key_free(f->mk);
	if ((f->mk = fwd_key_new(f->key)) == NULL)
		fatalx("cannot make the approval key ready");
	f->haskey = 1;
	memset(&f->window, 0, sizeof(f->window));
}

static void
parent_dispatch(struct chan *ch, struct msg *m, void *arg)
{
	proc_recv_check(PROC_FORWARDER, m);
	if (relay_tls_take(m))
		return;
	switch (m->hdr.type) {
	case MSG_BACKEND_FD:
	case MSG_BACKEND_ERR:
		backend_answer(m);
		return;
	case MSG_FWD_KEY:
		set_key(m);
		return;
	case MSG_CTL_PROCFD:
		relay_closed(&f->relay, NULL);
		/* Fd passing on: streams go to the relay, and any fd that
		 * comes back is refused (relay_dispatch). */
		chan_replace(&f->relay, f->base, m, 1, "relay",
		    relay_dispatch, relay_closed);
		return;
	case MSG_CFG_DONE:
		relay_tls_commit(m->hdr.peerid);
		f->gen = m->hdr.peerid;
		(void)chan_compose(&f->parent, MSG_CFG_DONE, f->gen, -1,
		    NULL, 0);
		return;
	default:
		fatalx("unexpected message %s from parent",
		    msg_type_name(m->hdr.type));
	}
}

void
fwd_main(const struct moat_config *c, int instance)
{
	uint8_t		 warm[FWD_MACLEN];
	struct fwd_head	 h;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		fatal("%s", __func__);
	f->instance = instance;
	TAILQ_INIT(&f->streams);
	f->maxfds = proc_event_child("forwarder", instance, c->foreground,
	    c->log_level, c->user, c->chroot, &f->base, &f->parent,
	    parent_dispatch);
	f->nfds = 5;	/* stdio, the parent and relay channels */
	relay_tls_init();
	/* OpenSSL finds HMAC and SHA-256 now, while it may open files. */
	memset(&h, 0, sizeof(h));
	h.head = "";
	(void)fwd_mac(f->key, &h, warm);
	sandbox_enter(PROC_FORWARDER);
	event_base_dispatch(f->base);
	exit(0);
}
