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
 * A large response body in the kernel: once its head is out and its
 * length is known (Content-Length) or runs to Docker's close, the bytes
 * go from the forwarder's stream to a plain client by splice(2) through a
 * pipe, without entering the relay's memory.  The relay still counts
 * every byte and stops at the length: nothing beyond it reaches the
 * client, and the stream is pooled again only after exactly the body.
 * TLS clients and chunked bodies keep the buffered path (forward.c).
 */

#include <sys/types.h>
#include <sys/queue.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "relay.h"

#define SPLICE_MIN	(64 * 1024)	/* smaller bodies: not worth a pipe */
#define SPLICE_PIPE	(1024 * 1024)	/* asked for; the kernel may give less */
#define SPLICE_BUDGET	(1024 * 1024)	/* per wakeup */

struct rsplice {
	int		 p[2];
	size_t		 cap;		/* the pipe's size */
	size_t		 inpipe;	/* bytes in it */
	int		 eof;		/* the stream ended */
	struct event	*rev;		/* the stream is readable */
	struct event	*wev;		/* the client is writable */
	uint64_t	 stall;		/* nout when the client stopped */
};

static void	splice_pump(struct session *);

static void
splice_cb(int fd, short ev, void *arg)
{
	splice_pump(arg);
}

void
splice_stop(struct session *s)
{
	struct rsplice	*sp = s->sp;

	if (sp == NULL)
		return;
	event_free(sp->rev);
	event_free(sp->wev);
	close(sp->p[0]);
	close(sp->p[1]);
	r->nfds -= 2;
	free(sp);
	s->sp = NULL;
	conn_write_low(s->c, RELAY_LOW);
}

/*
 * Whether the rest of this response can go by splice, and if so start:
 * 1 when it did (the session is the pump's from now on).
 */
int
splice_try(struct session *s)
{
	struct rsplice	*sp;
	int		 sz;

	if (s->sp != NULL)
		return 1;
	if (conn_ssl(s->c) != NULL || !s->req_done || s->resp_done ||
	    s->b_eof || s->state != S_FORWARD ||
	    evbuffer_get_length(conn_input(s->b)) != 0 ||
	    (s->resp.framing != RESP_LENGTH && s->resp.framing != RESP_EOF) ||
	    (s->resp.framing == RESP_LENGTH && s->resp_remain < SPLICE_MIN) ||
	    !fds_room(2))
		return 0;
	if ((sp = calloc(1, sizeof(*sp))) == NULL)
		return 0;
	if (pipe2(sp->p, O_NONBLOCK | O_CLOEXEC) == -1) {
		free(sp);
		return 0;
	}
	r->nfds += 2;
	/* The size it got, or the default one. */
	sz = fcntl(sp->p[1], F_SETPIPE_SZ, SPLICE_PIPE);
	sp->cap = sz > 0 ? (size_t)sz : 65536;
	sp->rev = event_new(r->base, conn_fd(s->b), EV_READ | EV_PERSIST,
	    splice_cb, s);
	sp->wev = event_new(r->base, conn_fd(s->c), EV_WRITE | EV_PERSIST,
	    splice_cb, s);
	if (sp->rev == NULL || sp->wev == NULL)
		fatalx("%s: out of memory", __func__);
	s->sp = sp;
	/* The buffered path stops here; its last bytes go out first. */
	conn_disable(s->b, EV_READ);
	conn_write_low(s->c, 0);
	splice_pump(s);
	return 1;
}

/* The body is through (or Docker closed an EOF-framed one). */
static void
splice_done(struct session *s)
{
	int	 eof = s->sp->eof;

	splice_stop(s);
	set_timer(s, 0);
	if (s->resp.framing == RESP_LENGTH) {
		s->resp_remain = 0;
		s->resp_done = 1;
		response_done(s);
		return;
	}
	if (eof)
		s->b_eof = 1;
	response_done(s);
}

/* Stream to pipe: 1 on progress, 0 to wait, -1 when Docker cut it. */
static int
fill(struct session *s, struct rsplice *sp, size_t *moved)
{
	size_t	 want = sp->cap - sp->inpipe;
	ssize_t	 n;

	if (s->resp.framing == RESP_LENGTH && s->resp_remain < want)
		want = s->resp_remain;
	if (want == 0 || sp->eof)
		return 0;
	n = splice(conn_fd(s->b), NULL, sp->p[1], NULL, want,
	    SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		sp->eof = 1;
		if (s->resp.framing == RESP_LENGTH)
			return -1;
		return 1;
	}
	sp->inpipe += n;
	if (s->resp.framing == RESP_LENGTH)
		s->resp_remain -= n;
	*moved += n;
	return 1;
}

/* Pipe to client: 1 on progress, 0 to wait, -1 when the client left. */
static int
drain(struct session *s, struct rsplice *sp, size_t *moved)
{
	ssize_t	 n;

	if (sp->inpipe == 0 || evbuffer_get_length(conn_output(s->c)) > 0)
		return 0;
	n = splice(sp->p[0], NULL, conn_fd(s->c), NULL, sp->inpipe,
	    SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0)
		return -1;
	sp->inpipe -= n;
	s->nout += n;
	*moved += n;
	return 1;
}

/* Arm what the pump waits for, nothing it does not. */
static void
splice_wait(struct session *s, struct rsplice *sp)
{
	int	 reading, writing;

	reading = !sp->eof && sp->inpipe < sp->cap &&
	    (s->resp.framing != RESP_LENGTH || s->resp_remain > 0);
	/* With bytes of ours still buffered, conn.c's write callback
	 * (client_write_cb) calls the pump once they are out. */
	writing = sp->inpipe > 0 &&
	    evbuffer_get_length(conn_output(s->c)) == 0;
	if (reading != (event_pending(sp->rev, EV_READ, NULL) != 0)) {
		if (reading)
			event_add(sp->rev, NULL);
		else
			event_del(sp->rev);
	}
	if (writing != (event_pending(sp->wev, EV_WRITE, NULL) != 0)) {
		if (writing)
			event_add(sp->wev, NULL);
		else
			event_del(sp->wev);
	}
	/* A client that takes nothing has "timeout idle" to start again. */
	if (writing && s->nout != sp->stall) {
		sp->stall = s->nout;
		set_timer(s, r->cc.conf.idle_timeout);
	}
}

static void
splice_pump(struct session *s)
{
	struct rsplice	*sp = s->sp;
	size_t		 moved = 0;
	int		 in, out;

	do {
		if ((in = fill(s, sp, &moved)) == -1) {
			log_warnx("client=%s: backend closed mid-response",
			    s->peer);
			session_free(s);
			return;
		}
		if ((out = drain(s, sp, &moved)) == -1) {
			s->status = s->status ? s->status : 499;
			log_request(s, "allow");
			session_free(s);
			return;
		}
		if (sp->inpipe == 0 && (sp->eof ||
		    (s->resp.framing == RESP_LENGTH && s->resp_remain == 0))) {
			splice_done(s);
			return;
		}
	} while ((in || out) && moved < SPLICE_BUDGET);
	splice_wait(s, sp);
}

/* The client's buffered bytes are out: the pipe may follow them. */
void
splice_writable(struct session *s)
{
	if (s->sp != NULL && evbuffer_get_length(conn_output(s->c)) == 0)
		splice_pump(s);
}

/*
 * For the stall timer: 1 when bytes wait for the client and it took
 * none of them since the last look (Docker being slow is no stall).
 */
int
splice_stalled(struct session *s)
{
	struct rsplice	*sp = s->sp;

	if (sp->inpipe == 0 || s->nout != sp->stall) {
		sp->stall = s->nout;
		return 0;
	}
	return 1;
}
