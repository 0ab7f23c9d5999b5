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
#include <sys/resource.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "moatd.h"

#define FWD_HIGH	(64 * 1024)	/* per direction, then backpressure */
#define FWD_LOW		(16 * 1024)
#define STATUS_LINE_MAX	64		/* "HTTP/1.1 101 ...\r\n", enough */
#define FD_RESERVE	16		/* channels, stdio, epoll */

enum up_state {
	UP_IDLE,	/* a head may come */
	UP_LENGTH,	/* a Content-Length body: remain bytes */
	UP_CHUNKED,	/* a chunked body, until FWD_END */
	UP_WAIT101,	/* an upgrade sent: Docker's answer decides */
	UP_PIPE,	/* Docker said 101: raw bytes */
	UP_DEAD,	/* nothing more goes to Docker */
};

struct stream {
	TAILQ_ENTRY(stream)	 entry;
	uint32_t		 sid;		/* the relay's session, for logs */
	struct bufferevent	*d;		/* Docker */
	struct bufferevent	*u;		/* our end of the relay's stream */
	enum up_state		 up;
	uint64_t		 remain;
	unsigned int		 nheads;
	int			 upgrade;	/* the head was an upgrade */
	int			 answer101;	/* 0 unknown, 1 yes, -1 no */
	int			 d_eof;
	int			 u_eof;
	int			 d_shut;	/* our write side to Docker shut */
	int			 d_wfail;	/* Docker takes no more */
	int			 u_shut;
	int			 connecting;	/* TLS: handshake first */
	int			 relay_fd;	/* its end, until sent */
	/* Docker to relay through a pipe, in the kernel (splice_down) */
	int			 splicing;
	int			 pipe[2];
	size_t			 inpipe;	/* bytes in it */
	struct event		*dev;		/* Docker readable, persistent */
	struct event		*uev;		/* relay writable, once */
	int			 dev_on;
};
TAILQ_HEAD(streams, stream);

struct fwd {
	int			 instance;
	struct event_base	*base;
	struct chan		 parent;
	struct chan		 relay;
	uint8_t			 key[FWD_KEYLEN];
	int			 haskey;
	struct fwd_window	 window;
	struct streams		 streams;
	size_t			 nstreams;
	size_t			 nopening;	/* asked the parent, no answer */
	int			 nfds;
	int			 maxfds;
	uint32_t		 gen;
};

static struct fwd	*f;

static void	stream_up(struct stream *);
static void	relay_closed(struct chan *, void *);
static void	stream_give(struct stream *);
static void	shut_check(struct stream *);
static void	open_fail(uint32_t, int);

static void
stream_free(struct stream *st)
{
	TAILQ_REMOVE(&f->streams, st, entry);
	f->nstreams--;
	if (st->relay_fd != -1) {
		close(st->relay_fd);
		f->nfds--;
	}
	if (st->splicing) {
		event_free(st->dev);
		event_free(st->uev);
		close(st->pipe[0]);
		close(st->pipe[1]);
		f->nfds -= 2;
	}
	bufferevent_free(st->d);
	bufferevent_free(st->u);
	f->nfds -= 2;
	free(st);
}

/* A relay that breaks the protocol: the stream goes, nothing more. */
static void
refuse(struct stream *st, const char *why)
{
	log_warnx("relay[%d]: session %u: %s; stream closed", f->instance,
	    st->sid, why);
	stream_free(st);
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
 * Docker's answers to the relay without a pass through user space:
 * splice(2) from the Docker socket into a pipe, and from the pipe into
 * the relay's stream.  One pipe's worth at a time: while the relay does
 * not take it, Docker is not read.  Docker's end or error is its end.
 */
static void
dev_set(struct stream *st, int on)
{
	if (on == st->dev_on)
		return;
	st->dev_on = on;
	if (on)
		event_add(st->dev, NULL);
	else
		event_del(st->dev);
}

static void
splice_down(int fd, short ev, void *arg)
{
	struct stream	*st = arg;
	int		 dfd = bufferevent_getfd(st->d);
	int		 ufd = bufferevent_getfd(st->u), rounds;
	ssize_t		 n;

	for (rounds = 0; rounds < 16; rounds++) {
		while (st->inpipe > 0) {
			n = splice(st->pipe[0], NULL, ufd, NULL, st->inpipe,
			    SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
			if (n > 0) {
				st->inpipe -= n;
				continue;
			}
			if (n == -1 && errno == EAGAIN) {
				/* Docker waits until the relay takes this */
				dev_set(st, 0);
				event_add(st->uev, NULL);
				return;
			}
			stream_free(st);	/* the relay is gone */
			return;
		}
		if (st->d_eof)
			break;
		n = splice(dfd, NULL, st->pipe[1], NULL, FWD_HIGH,
		    SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
		if (n > 0) {
			st->inpipe = n;
			continue;
		}
		if (n == -1 && errno == EAGAIN) {
			dev_set(st, 1);
			return;
		}
		st->d_eof = 1;		/* end of file, or a reset */
	}
	if (!st->d_eof) {
		/* others' turn: Docker's readiness brings us back */
		dev_set(st, 1);
		return;
	}
	dev_set(st, 0);
	shut_check(st);
}

/*
 * A plain Docker connection whose first request is no upgrade goes the
 * spliced way (an upgrade's status line is read here, in user space; TLS
 * is OpenSSL's).  Without a pipe to spare it stays as it is.
 */
static void
splice_start(struct stream *st)
{
	if (relay_tls_is_tls(st->d) || st->nheads != 1 ||
	    evbuffer_get_length(bufferevent_get_input(st->d)) != 0 ||
	    f->nfds + 2 > f->maxfds - FD_RESERVE ||
	    pipe2(st->pipe, O_NONBLOCK | O_CLOEXEC) == -1)
		return;
	st->dev = event_new(f->base, bufferevent_getfd(st->d),
	    EV_READ | EV_PERSIST, splice_down, st);
	st->uev = event_new(f->base, bufferevent_getfd(st->u), EV_WRITE,
	    splice_down, st);
	if (st->dev == NULL || st->uev == NULL)
		fatalx("%s: event_new", __func__);
	f->nfds += 2;
	st->splicing = 1;
	bufferevent_disable(st->d, EV_READ);
	dev_set(st, 1);
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
	switch (fwd_check(f->key, f->gen, &f->window, &h)) {
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
	evbuffer_add(bufferevent_get_output(st->d), h.head, h.headlen);
	st->nheads++;
	st->upgrade = h.upgrade;
	if (!h.upgrade && !st->splicing)
		splice_start(st);
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

static int
frame_data(struct stream *st, struct evbuffer *in, size_t len)
{
	struct evbuffer	*out = bufferevent_get_output(st->d);

	switch (st->up) {
	case UP_LENGTH:
		if (len > st->remain)
			return refuse(st, "body bytes beyond Content-Length"),
			    -1;
		evbuffer_remove_buffer(in, out, len);
		if ((st->remain -= len) == 0)
			after_body(st);
		return 0;
	case UP_CHUNKED:
		evbuffer_add_printf(out, "%zx\r\n", len);
		evbuffer_remove_buffer(in, out, len);
		evbuffer_add(out, "\r\n", 2);
		return 0;
	case UP_PIPE:
		evbuffer_remove_buffer(in, out, len);
		return 0;
	case UP_WAIT101:
		return refuse(st, "raw bytes before Docker upgraded"), -1;
	case UP_DEAD:
		return refuse(st, "raw bytes after Docker refused the "
		    "upgrade"), -1;
	default:
		return refuse(st, "data where no body may come"), -1;
	}
}

/* Frames from the relay, as long as Docker takes them. */
static void
stream_up(struct stream *st)
{
	struct evbuffer	*in = bufferevent_get_input(st->u);
	uint8_t		 hdr[FWD_HDRLEN];
	uint32_t	 type, len;
	void		*p;

	if (st->d_wfail) {
		/* The relay learns it from its failing writes (d_event_cb). */
		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	while (evbuffer_get_length(in) >= FWD_HDRLEN) {
		if (evbuffer_get_length(bufferevent_get_output(st->d)) >=
		    FWD_HIGH) {
			bufferevent_disable(st->u, EV_READ);
			return;
		}
		evbuffer_copyout(in, hdr, sizeof(hdr));
		if (fwd_frame_parse(hdr, &type, &len) == -1) {
			refuse(st, "a malformed frame");
			return;
		}
		if (evbuffer_get_length(in) < FWD_HDRLEN + (size_t)len)
			return;
		evbuffer_drain(in, FWD_HDRLEN);
		switch (type) {
		case FWD_HEAD:
			if ((p = evbuffer_pullup(in, len)) == NULL ||
			    frame_head(st, p, len) == -1)
				return;
			evbuffer_drain(in, len);
			break;
		case FWD_DATA:
			if (frame_data(st, in, len) == -1)
				return;
			break;
		case FWD_END:
			if (st->up != UP_CHUNKED) {
				refuse(st, "a chunked end without a body");
				return;
			}
			evbuffer_add(bufferevent_get_output(st->d),
			    "0\r\n\r\n", 5);
			after_body(st);
			break;
		}
	}
}

/* The relay half-closed: in a pipe, pass it on once its bytes are out. */
static void
shut_check(struct stream *st)
{
	if (st->u_eof && st->up == UP_PIPE && !st->d_shut &&
	    evbuffer_get_length(bufferevent_get_output(st->d)) == 0) {
		relay_tls_shutdown_write(st->d);
		st->d_shut = 1;
	}
	if (st->d_eof && !st->u_shut && st->inpipe == 0 &&
	    evbuffer_get_length(bufferevent_get_input(st->d)) == 0 &&
	    evbuffer_get_length(bufferevent_get_output(st->u)) == 0) {
		shutdown(bufferevent_getfd(st->u), SHUT_WR);
		st->u_shut = 1;
	}
	if (st->u_shut && (st->d_shut || (st->u_eof && st->up != UP_PIPE)))
		stream_free(st);
}

/* The status line of the answer to an upgrade: 101 or not. */
static int
check_upgrade(struct stream *st)
{
	struct evbuffer	*in = bufferevent_get_input(st->d);
	size_t		 len = evbuffer_get_length(in), n;
	char		*p;

	n = len < STATUS_LINE_MAX ? len : STATUS_LINE_MAX;
	p = (char *)evbuffer_pullup(in, n);
	if (memmem(p, n, "\r\n", 2) == NULL && n < STATUS_LINE_MAX &&
	    !st->d_eof)
		return 0;
	st->answer101 = n >= 13 && (memcmp(p, "HTTP/1.1 101 ", 13) == 0 ||
	    memcmp(p, "HTTP/1.1 101\r", 13) == 0) ? 1 : -1;
	if (st->up == UP_WAIT101)
		after_body(st);
	return 1;
}

static void
stream_down(struct stream *st)
{
	struct evbuffer	*in = bufferevent_get_input(st->d);
	struct evbuffer	*out = bufferevent_get_output(st->u);

	if (st->upgrade && st->answer101 == 0 &&
	    evbuffer_get_length(in) > 0 && !check_upgrade(st))
		return;
	evbuffer_add_buffer(out, in);
	if (evbuffer_get_length(out) >= FWD_HIGH)
		bufferevent_disable(st->d, EV_READ);
}

/* Bytes came in on one side: move them to the other. */
static void
read_cb(struct bufferevent *bev, void *arg)
{
	struct stream	*st = arg;

	if (bev == st->u)
		stream_up(st);
	else
		stream_down(st);
}

/* Room on one side: the other may read again. */
static void
write_cb(struct bufferevent *bev, void *arg)
{
	struct stream	*st = arg;

	if (bev == st->u) {
		if (!st->d_eof && !st->splicing)
			bufferevent_enable(st->d, EV_READ);
		stream_down(st);
	} else {
		if (!st->u_eof)
			bufferevent_enable(st->u, EV_READ);
		stream_up(st);
	}
	shut_check(st);
}

static void
u_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct stream	*st = arg;

	if ((what & BEV_EVENT_ERROR) || st->up != UP_PIPE) {
		/* The relay is done with this connection. */
		stream_free(st);
		return;
	}
	st->u_eof = 1;
	stream_up(st);
	shut_check(st);
}

static void
d_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct stream	*st = arg;
	char		 why[256];

	why[0] = '\0';
	if (relay_tls_backend_event(bev, what, why, sizeof(why))) {
		if (st->connecting)
			stream_give(st);
		return;
	}
	if (st->connecting) {
		/* TLS with Docker failed: the relay says so (502). */
		open_fail(st->sid, EPROTO);
		stream_free(st);
		return;
	}
	if ((what & BEV_EVENT_WRITING) && !st->d_eof) {
		/*
		 * Docker takes no more (it answered a body it will not
		 * read): the relay's writes fail from here on, and it stops
		 * sending the body.  The answer comes on the read side.
		 */
		st->up = UP_DEAD;
		st->d_wfail = 1;
		evbuffer_drain(bufferevent_get_output(st->d),
		    evbuffer_get_length(bufferevent_get_output(st->d)));
		bufferevent_disable(st->u, EV_READ);
		shutdown(bufferevent_getfd(st->u), SHUT_RD);
		if (!st->splicing)
			bufferevent_enable(st->d, EV_READ);
		return;
	}
	st->d_eof = 1;
	if (st->upgrade && st->answer101 == 0 &&
	    evbuffer_get_length(bufferevent_get_input(st->d)) > 0)
		(void)check_upgrade(st);
	evbuffer_add_buffer(bufferevent_get_output(st->u),
	    bufferevent_get_input(st->d));
	shut_check(st);
}

/* The relay gets its end once Docker's end is usable. */
static void
stream_give(struct stream *st)
{
	int	 fd = st->relay_fd;

	st->connecting = 0;
	st->relay_fd = -1;
	f->nfds--;
	bufferevent_enable(st->u, EV_READ | EV_WRITE);
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
	/* Docker's, the stream's two ends, and a pipe (splice_start). */
	if (f->nfds + 5 + (int)f->nopening * 5 > f->maxfds - FD_RESERVE) {
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
	int		 sp[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0, sp) == -1) {
		log_warn("%s: socketpair", __func__);
		close(fd);
		open_fail(sid, errno);
		return;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL)
		fatal("%s", __func__);
	if (relay_tls_backend(f->base, fd, &st->d) == -1) {
		free(st);
		close(sp[0]);
		close(sp[1]);
		open_fail(sid, EPROTO);
		return;
	}
	if ((st->u = bufferevent_socket_new(f->base, sp[0],
	    BEV_OPT_CLOSE_ON_FREE)) == NULL)
		fatalx("%s: out of memory", __func__);
	st->sid = sid;
	st->relay_fd = sp[1];
	TAILQ_INSERT_TAIL(&f->streams, st, entry);
	f->nstreams++;
	f->nfds += 3;
	bufferevent_set_max_single_read(st->u, 64 * 1024);
	bufferevent_set_max_single_write(st->u, 64 * 1024);
	bufferevent_setcb(st->d, read_cb, write_cb, d_event_cb, st);
	bufferevent_setcb(st->u, read_cb, write_cb, u_event_cb, st);
	/* Room for one whole frame, never more than two. */
	bufferevent_setwatermark(st->u, EV_READ, 0,
	    2 * (FWD_HDRLEN + FWD_FRAME_MAX));
	relay_tls_read_watermark(st->d, FWD_HIGH);
	bufferevent_setwatermark(st->d, EV_WRITE, FWD_LOW, 0);
	bufferevent_setwatermark(st->u, EV_WRITE, FWD_LOW, 0);
	bufferevent_enable(st->d, EV_READ | EV_WRITE);
	if (relay_tls_is_tls(st->d)) {
		st->connecting = 1;
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
