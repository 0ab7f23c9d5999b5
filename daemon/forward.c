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
 * Moving the bytes of an allowed request (relay.c says what the relay
 * does, session.c how a request gets here): the stream to the forwarder,
 * its head frame and the body's data frames, the pool of idle streams,
 * the response read and copied to the client, and the pipe after a 101
 * with its half-closes.
 */

#include <sys/types.h>
#include <sys/queue.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "relay.h"

static void	backend_ended(struct session *);
static void	backend_read_cb(struct conn *, void *);
static void	backend_write_cb(struct conn *, void *);
static void	backend_event_cb(struct conn *, short, void *);

/* Docker connections: reuse only after a cleanly framed response. */
void
pool_event_cb(struct conn *bev, short what, void *arg)
{
	struct backend	*be = arg;

	TAILQ_REMOVE(&r->pool, be, entry);
	r->npool--;
	conn_free(be->bev);
	r->nfds--;
	free(be);
}

static void
pool_read_cb(struct conn *bev, void *arg)
{
	/* An idle connection must say nothing: drop it. */
	pool_event_cb(bev, CONN_ERROR, arg);
}

static void
pool_put(struct conn *bev, uint32_t gen)
{
	struct backend	*be;

	if (r->npool >= POOL_MAX || r->draining || gen != r->cc.gen ||
	    evbuffer_get_length(conn_input(bev)) != 0 ||
	    (be = calloc(1, sizeof(*be))) == NULL) {
		conn_free(bev);
		r->nfds--;
		return;
	}
	be->bev = bev;
	be->gen = gen;
	conn_setcb(bev, pool_read_cb, NULL, pool_event_cb, be);
	conn_enable(bev, EV_READ);
	TAILQ_INSERT_HEAD(&r->pool, be, entry);
	r->npool++;
}

/* A connection made under the configuration in effect, if any. */
struct conn *
pool_get(void)
{
	struct backend		*be;
	struct conn	*bev;

	while ((be = TAILQ_FIRST(&r->pool)) != NULL && be->gen != r->cc.gen)
		pool_event_cb(be->bev, CONN_EOF, be);
	if (be == NULL)
		return NULL;
	TAILQ_REMOVE(&r->pool, be, entry);
	r->npool--;
	bev = be->bev;
	free(be);
	return bev;
}

/*
 * A new configuration may name another daemon, or other TLS settings for
 * it: the idle connections to the old one go, and connections in use now
 * are not pooled after their request (their generation is old).
 */
void
pool_flush(void)
{
	struct backend	*be;

	while ((be = TAILQ_FIRST(&r->pool)) != NULL)
		pool_event_cb(be->bev, CONN_EOF, be);
}

void
backend_release(struct session *s, int reusable)
{
	if (s->b == NULL)
		return;
	if (s->b_gone != NULL)
		event_del(s->b_gone);
	if (reusable) {
		pool_put(s->b, s->b_gen);
	} else {
		conn_free(s->b);
		r->nfds--;
	}
	s->b = NULL;
}

/* The head frame: the bytes the policy worker approved, and its proof. */
static int
head_frame(struct session *s, struct evbuffer *out)
{
	struct verdict	*v = s->v;
	struct fwd_head	 h;
	struct mbuf	 m;
	uint8_t		 hdr[FWD_HDRLEN];
	char		*head;
	int		 rv = -1;

	memset(&h, 0, sizeof(h));
	if ((head = verdict_head(v, &h.headlen)) == NULL)
		return -1;
	h.ctr = s->ctr;
	h.framing = v->framing;
	h.length = v->framing == FRAMING_LENGTH ? v->length : 0;
	h.upgrade = v->hijack != 0;
	h.checked = v->checked != 0;
	if (v->checked)
		memcpy(h.bodysum, v->bodysum, FWD_SUMLEN);
	h.head = head;
	memcpy(h.mac, v->mac, FWD_MACLEN);
	mbuf_init(&m);
	if (fwd_head_encode(&m, &h) == 0 && m.len <= FWD_FRAME_MAX) {
		fwd_frame_hdr(hdr, FWD_HEAD, m.len);
		evbuffer_add(out, hdr, sizeof(hdr));
		evbuffer_add(out, m.buf, m.len);
		rv = 0;
	}
	mbuf_free(&m);
	free(head);
	return rv;
}

/* Move len bytes of in up the stream as data frames. */
static void
data_frames(struct evbuffer *in, struct evbuffer *out, size_t len)
{
	uint8_t	 hdr[FWD_HDRLEN];
	size_t	 n;

	while (len > 0) {
		n = len < FWD_DATA_MAX ? len : FWD_DATA_MAX;
		fwd_frame_hdr(hdr, FWD_DATA, n);
		evbuffer_add(out, hdr, sizeof(hdr));
		evbuffer_remove_buffer(in, out, n);
		len -= n;
	}
}

void
start_forward(struct session *s, struct conn *bev, int pooled)
{
	struct evbuffer	*out;
	size_t		 len;

	s->b = bev;
	s->b_pooled = pooled;
	conn_setcb(bev, backend_read_cb, backend_write_cb,
	    backend_event_cb, s);
	conn_read_high(bev, RELAY_HIGH);
	conn_write_low(bev, RELAY_LOW);
	out = conn_output(bev);
	if (head_frame(s, out) == -1) {
		conn_free(bev);
		r->nfds--;
		s->b = NULL;
		reply_error(s, 500, "cannot frame the request");
		return;
	}
	s->state = S_FORWARD;
	s->req_remain = s->v->length;
	chunked_init(&s->req_ch);
	s->req_done = s->v->framing == FRAMING_NONE ||
	    (s->v->framing == FRAMING_LENGTH && s->v->length == 0);
	/* A checked body follows its head whole: the forwarder holds both
	 * until it has all of it (forwarder.c). */
	if (s->body != NULL) {
		len = evbuffer_get_length(s->body);
		r->bodies -= s->body_held;
		s->body_held = 0;
		data_frames(s->body, out, len);
		evbuffer_free(s->body);
		s->body = NULL;
		s->req_remain = 0;
		s->req_done = 1;
	}
	s->resp_started = s->resp_done = s->resp_closing = 0;
	s->b_eof = s->b_wfail = 0;
	/* A body has its timeout; an answer may take as long as Docker
	 * needs (wait, events, pull). */
	set_timer(s, s->req_done ? 0 : r->cc.conf.body_timeout);
	conn_enable(bev, EV_READ | EV_WRITE);
	if (s->c_eof) {
		/* The client half-closed while its head was being judged:
		 * an upgrade passes that on in the pipe; anyone else left. */
		if (s->v->hijack && s->req_done)
			return;
		s->status = 499;
		log_request(s, "allow");
		session_free(s);
		return;
	}
	conn_enable(s->c, EV_READ);
	if (!s->req_done)
		forward_body(s);
}

static void
complete(struct session *s)
{
	int	 reusable;

	if (!s->resp_done)
		return;
	log_request(s, "allow");
	reusable = s->req_done && !s->resp.close && !s->v->hijack &&
	    s->resp.framing != RESP_EOF && !s->b_eof && !s->b_wfail;
	backend_release(s, reusable);
	if (!s->req_done || !s->v->keepalive || s->c_eof || s->resp_closing) {
		/* The daemon answered before the body ended, or the client
		 * asked to close or has: nothing more can be framed. */
		s->quiet = s->req_done;
		end_request(s);
		close_after_flush(s);
		return;
	}
	next_request(s);
}

/*
 * A malformed chunked body: the daemon got the bytes before the bad
 * ones and will never see an end, so that connection goes.  The client
 * still gets its 400 when the daemon has not answered yet.
 */
/* Of len bytes there, how many a Content-Length body still takes. */
static size_t
take_length(uint64_t *remain, size_t len, int *done)
{
	if (len > *remain)
		len = (size_t)*remain;
	*remain -= len;
	*done = *remain == 0;
	return len;
}

static void
bad_body(struct session *s)
{
	backend_release(s, 0);
	if (s->resp_started) {
		s->status = 400;
		log_request(s, "bad");
		session_free(s);
		return;
	}
	reply_error(s, 400, "bad chunked body");
}

/* Up to len bytes of a Content-Length request body, as data frames. */
static void
length_up(struct session *s, struct evbuffer *in, struct evbuffer *out,
    size_t len)
{
	len = take_length(&s->req_remain, len, &s->req_done);
	data_frames(in, out, len);
	s->nin += len;
}

/*
 * One run of a chunked request body: its data goes up as data frames
 * (the forwarder frames it anew), its framing stays here, and its end
 * is an end frame.  -1 on a framing error.
 */
static int
chunk_up(struct session *s, const struct evbuffer_iovec *vec,
    struct evbuffer *in, struct evbuffer *out)
{
	uint8_t		 hdr[FWD_HDRLEN];
	ssize_t		 used;
	int		 done = 0, isdata;

	used = chunked_step(&s->req_ch, vec->iov_base, vec->iov_len, &done,
	    &isdata);
	if (used == -1)
		return -1;
	if (isdata)
		data_frames(in, out, used);
	else
		evbuffer_drain(in, used);
	if (done) {
		fwd_frame_hdr(hdr, FWD_END, 0);
		evbuffer_add(out, hdr, sizeof(hdr));
	}
	s->nin += used;
	s->req_done = done;
	return 0;
}

void
forward_body(struct session *s)
{
	struct evbuffer		*in = conn_input(s->c);
	struct evbuffer		*out = conn_output(s->b);
	struct evbuffer_iovec	 vec;
	size_t			 len;

	/* Docker takes no more: its answer, or its close, is on the way. */
	if (s->b_wfail) {
		conn_disable(s->c, EV_READ);
		return;
	}
	if (!s->req_done && evbuffer_get_length(in) > 0)
		set_timer(s, r->cc.conf.body_timeout);
	while (!s->req_done && (len = evbuffer_get_length(in)) > 0) {
		if (evbuffer_get_length(out) >= RELAY_HIGH) {
			conn_disable(s->c, EV_READ);
			return;
		}
		if (s->v->framing == FRAMING_LENGTH)
			length_up(s, in, out, len);
		else if (evbuffer_peek(in, -1, NULL, &vec, 1) < 1)
			break;
		else if (chunk_up(s, &vec, in, out) == -1) {
			bad_body(s);
			return;
		}
	}
	if (s->req_done) {
		set_timer(s, 0);
		complete(s);
	}
}

/*
 * A body the policy worker checks (VERDICT_BODY): read whole, under the
 * client's framing (a chunked one dechunked), into memory, before any of
 * the request goes on; then the head and the body go to the worker again
 * (ask_policy).  At most body_max bytes ("limit body": 413), and
 * RELAY_BODIES_MAX for all of this relay's sessions (503).
 */
void
body_free(struct session *s)
{
	if (s->body == NULL)
		return;
	r->bodies -= s->body_held;
	s->body_held = 0;
	evbuffer_free(s->body);
	s->body = NULL;
}

static void
body_over(struct session *s)
{
	char	 why[128];

	snprintf(why, sizeof(why), "request body over the limit (%llu "
	    "bytes, limit body)", (unsigned long long)s->v->body_max);
	reply_error(s, 413, why);
}

void
body_start(struct session *s)
{
	struct verdict	*v = s->v;

	/* What was cached for this head is not what goes now. */
	vcache_forget(s);
	if (v->framing == FRAMING_LENGTH && v->length > v->body_max) {
		body_over(s);
		return;
	}
	if (r->bodies >= RELAY_BODIES_MAX || (v->framing == FRAMING_LENGTH &&
	    v->length > RELAY_BODIES_MAX - r->bodies)) {
		log_warnx("client=%s: %zu bytes of request bodies held; "
		    "refused", s->peer, r->bodies);
		reply_error(s, 503, "too many request bodies held");
		return;
	}
	if ((s->body = evbuffer_new()) == NULL) {
		reply_error(s, 503, "out of memory");
		return;
	}
	/* A length is held from the start, not as its bytes come in: the
	 * budget does not depend on how fast the clients send. */
	if (v->framing == FRAMING_LENGTH) {
		s->body_held = v->length;
		r->bodies += v->length;
	}
	s->state = S_BODY;
	s->req_remain = v->length;
	s->req_done = 0;
	chunked_init(&s->req_ch);
	/* Only now may the client send it (RFC 9110 10.1.1). */
	if (v->expect_continue)
		evbuffer_add(conn_output(s->c), "HTTP/1.1 100 Continue\r\n"
		    "\r\n", 25);
	set_timer(s, r->cc.conf.body_timeout);
	if (s->c_eof) {
		session_free(s);
		return;
	}
	conn_enable(s->c, EV_READ);
	body_read(s);
}

/* n more bytes of body from in: 0, or -1 when s got its answer. */
static int
body_take(struct session *s, struct evbuffer *in, size_t n)
{
	if (evbuffer_get_length(s->body) + n > s->v->body_max) {
		body_over(s);
		return -1;
	}
	if (s->v->framing == FRAMING_LENGTH) {
		evbuffer_remove_buffer(in, s->body, n);
		return 0;
	}
	if (n > RELAY_BODIES_MAX - r->bodies) {
		log_warnx("client=%s: %zu bytes of request bodies held; "
		    "refused", s->peer, r->bodies);
		reply_error(s, 503, "too many request bodies held");
		return -1;
	}
	evbuffer_remove_buffer(in, s->body, n);
	s->body_held += n;
	r->bodies += n;
	return 0;
}

void
body_read(struct session *s)
{
	struct evbuffer		*in = conn_input(s->c);
	struct evbuffer_iovec	 vec;
	size_t			 len, n;
	ssize_t			 used;
	int			 done = 0, isdata;

	if (s->state != S_BODY)
		return;
	if (evbuffer_get_length(in) > 0)
		set_timer(s, r->cc.conf.body_timeout);
	while (!s->req_done && (len = evbuffer_get_length(in)) > 0) {
		if (s->v->framing == FRAMING_LENGTH) {
			n = take_length(&s->req_remain, len, &s->req_done);
			if (body_take(s, in, n) == -1)
				return;
			s->nin += n;
			continue;
		}
		if (evbuffer_peek(in, -1, NULL, &vec, 1) < 1)
			break;
		used = chunked_step(&s->req_ch, vec.iov_base, vec.iov_len,
		    &done, &isdata);
		if (used == -1) {
			reply_error(s, 400, "bad chunked body");
			return;
		}
		if (isdata) {
			if (body_take(s, in, used) == -1)
				return;
		} else
			evbuffer_drain(in, used);
		s->nin += used;
		s->req_done = done;
	}
	if (s->req_done)
		ask_policy(s);
}

static void
enter_pipe(struct session *s)
{
	s->state = S_PIPE;
	/* A stream lasts as long as both ends want: a body's timer, when
	 * the 101 came before the body ended, does not carry over. */
	set_timer(s, 0);
	conn_write_low(s->c, 0);
	conn_write_low(s->b, 0);
	evbuffer_add_buffer(conn_output(s->c),
	    conn_input(s->b));
	data_frames(conn_input(s->c), conn_output(s->b),
	    evbuffer_get_length(conn_input(s->c)));
	/* A client that half-closed while waiting for the 101 stays so. */
	conn_enable(s->c, s->c_eof ? EV_WRITE : EV_READ | EV_WRITE);
	conn_enable(s->b, EV_READ | EV_WRITE);
	log_request(s, "allow");
	pipe_shutdown_check(s);
}

void
pipe_move(struct session *s, struct conn *from, struct conn *to)
{
	struct evbuffer	*in = conn_input(from);
	size_t		 len = evbuffer_get_length(in);

	if (from == s->c) {
		s->nin += len;
		data_frames(in, conn_output(to), len);
	} else {
		s->nout += len;
		evbuffer_add_buffer(conn_output(to), in);
	}
	if (evbuffer_get_length(conn_output(to)) >= RELAY_HIGH)
		conn_disable(from, EV_READ);
}

/* Half-close: pass a side's EOF on once its bytes are through. */
void
pipe_shutdown_check(struct session *s)
{
	if (s->c_eof == 1 &&
	    evbuffer_get_length(conn_output(s->b)) == 0) {
		conn_shutdown_write(s->b);
		s->c_eof = 2;
	}
	if (s->b_eof == 1 &&
	    evbuffer_get_length(conn_output(s->c)) == 0) {
		conn_shutdown_write(s->c);
		s->b_eof = 2;
	}
	if (s->c_eof == 2 && s->b_eof == 2)
		session_free(s);
}

static int
field_is(const char *line, size_t len, const char *name)
{
	size_t	 n = strlen(name);

	return len > n && line[n] == ':' && strncasecmp(line, name, n) == 0;
}

/*
 * The daemon's head goes out as it came, but for its hop-by-hop fields:
 * whether the client's connection stays open is ours to say.
 */
static size_t
copy_response_head(struct session *s, const char *head, size_t hl)
{
	struct evbuffer	*out = conn_output(s->c);
	const char	*line = head, *end;
	size_t		 len, n = 0;
	int		 closing;

	/* An answer before the end of the body: the rest of the body
	 * cannot be framed for Docker any more, so this connection ends. */
	closing = !s->v->keepalive || r->draining || !s->req_done ||
	    (s->resp.framing == RESP_EOF && !s->resp.upgrade);
	while ((end = memmem(line, head + hl - line, "\r\n", 2)) != NULL) {
		len = end - line;
		if (len == 0)
			break;
		if (line != head && !s->resp.upgrade &&
		    (field_is(line, len, "Connection") ||
		    field_is(line, len, "Keep-Alive"))) {
			line = end + 2;
			continue;
		}
		evbuffer_add(out, line, len + 2);
		n += len + 2;
		line = end + 2;
	}
	if (closing && s->resp.status >= 200 && !s->resp.upgrade) {
		evbuffer_add(out, "Connection: close\r\n", 19);
		n += 19;
		s->resp_closing = 1;
	}
	evbuffer_add(out, "\r\n", 2);
	return n + 2;
}

static int
response_head(struct session *s)
{
	struct evbuffer	*in = conn_input(s->b);
	size_t		 len = evbuffer_get_length(in), n, hl;
	char		*p;

	n = len < RESP_HEAD_MAX ? len : RESP_HEAD_MAX;
	p = (char *)evbuffer_pullup(in, n);
	if ((hl = http_head_length(p, n)) == 0) {
		if (len >= RESP_HEAD_MAX) {
			log_warnx("backend response head too large");
			return -1;
		}
		return 0;
	}
	if (http_parse_response(p, hl, strcmp(s->v->method, "HEAD") == 0,
	    &s->resp) == -1) {
		log_warnx("backend sent an unparsable response head");
		return -1;
	}
	if (s->resp.upgrade && !s->v->hijack) {
		log_warnx("backend upgraded a request that did not ask");
		return -1;
	}
	s->status = s->resp.status;
	s->nout += copy_response_head(s, p, hl);
	evbuffer_drain(in, hl);
	if (s->resp.status >= 100 && s->resp.status < 200 &&
	    !s->resp.upgrade)
		return 2;	/* interim (100 Continue): another follows */
	s->resp_started = 1;
	s->resp_remain = s->resp.length;
	chunked_init(&s->resp_ch);
	s->resp_done = s->resp.framing == RESP_NONE ||
	    (s->resp.framing == RESP_LENGTH && s->resp.length == 0);
	return 1;
}

/* A response's body, from Docker's stream (in) to the client (out). */
static void
response_body(struct session *s, struct evbuffer *in, struct evbuffer *out)
{
	struct evbuffer_iovec	 vec;
	size_t			 len;
	ssize_t			 used;
	int			 done = 0;

	while (!s->resp_done && (len = evbuffer_get_length(in)) > 0) {
		if (evbuffer_get_length(out) >= RELAY_HIGH) {
			conn_disable(s->b, EV_READ);
			/* A client that reads none of it has "timeout idle"
			 * (client_write_cb disarms on progress). */
			if (s->req_done) {
				s->stall_out = evbuffer_get_length(out);
				set_timer(s, r->cc.conf.idle_timeout);
			}
			return;
		}
		if (s->resp.framing == RESP_EOF) {
			evbuffer_remove_buffer(in, out, len);
			s->nout += len;
			continue;
		}
		if (s->resp.framing == RESP_LENGTH) {
			len = take_length(&s->resp_remain, len, &s->resp_done);
			evbuffer_remove_buffer(in, out, len);
			s->nout += len;
			continue;
		}
		if (evbuffer_peek(in, -1, NULL, &vec, 1) < 1)
			break;
		used = chunked_feed(&s->resp_ch, vec.iov_base, vec.iov_len,
		    &done);
		if (used == -1) {
			log_warnx("backend sent a bad chunked body");
			session_free(s);
			return;
		}
		evbuffer_remove_buffer(in, out, used);
		s->nout += used;
		s->resp_done = done;
	}
	if (s->resp_done || s->b_eof || evbuffer_get_length(in) > 0 ||
	    !splice_try(s))
		response_done(s);
}

/* After the body's bytes so far: its end, Docker's close, or more. */
void
response_done(struct session *s)
{
	if (s->resp_done)
		complete(s);
	else if (s->b_eof && evbuffer_get_length(conn_input(s->b)) == 0)
		backend_ended(s);
}

void
read_response(struct session *s)
{
	int	 rv;

	while (!s->resp_started) {
		if ((rv = response_head(s)) == 0)
			return;
		if (rv == -1) {
			backend_release(s, 0);
			reply_error(s, 502, "bad response from the backend");
			return;
		}
	}
	/* Only a 101: the forwarder passes raw bytes after nothing else. */
	if (s->resp.upgrade) {
		enter_pipe(s);
		return;
	}
	response_body(s, conn_input(s->b),
	    conn_output(s->c));
}

static void
backend_read_cb(struct conn *bev, void *arg)
{
	struct session	*s = arg;

	if (s->state == S_PIPE)
		pipe_move(s, s->b, s->c);
	else if (s->state == S_FORWARD)
		read_response(s);
}

static void
backend_write_cb(struct conn *bev, void *arg)
{
	struct session	*s = arg;

	if (s->state == S_FORWARD && !s->req_done) {
		conn_enable(s->c, EV_READ);
		forward_body(s);
	} else if (s->state == S_PIPE) {
		if (!s->c_eof)
			conn_enable(s->c, EV_READ);
		pipe_shutdown_check(s);
	}
}

static void
retry_backend(struct session *s)
{
	backend_release(s, 0);
	s->retried = 1;
	s->state = S_BACKEND;
	request_backend(s);
}

/*
 * Docker closed after the response began, and everything it sent before
 * has been passed on.  read_response() calls this last: nothing may use
 * the session after it.
 */
static void
backend_ended(struct session *s)
{
	if (s->resp.framing == RESP_EOF) {
		s->resp_done = 1;
		log_request(s, "allow");
		backend_release(s, 0);
		end_request(s);
		close_after_flush(s);
		return;
	}
	/* The response was cut short: the client cannot be told. */
	log_warnx("client=%s: backend closed mid-response", s->peer);
	session_free(s);
}

/*
 * Docker closed or reset the connection.  This runs after what it sent
 * before has gone through backend_read_cb: libevent's TLS bufferevent
 * reports the close before it hands over the bytes of the same read.
 */
void
backend_gone_cb(int fd, short ev, void *arg)
{
	struct session	*s = arg;

	if (s->state != S_FORWARD || s->b == NULL || !s->b_eof)
		return;
	if (s->resp_started) {
		read_response(s);
		return;
	}
	/* A pooled connection the daemon closed while idle. */
	if (s->b_pooled && !s->retried && s->v->framing == FRAMING_NONE &&
	    evbuffer_get_length(conn_input(s->b)) == 0) {
		retry_backend(s);
		return;
	}
	backend_release(s, 0);
	log_warnx("backend %s closed before answering", "connection");
	reply_error(s, 502, "the Docker daemon closed the connection");
}

static void
backend_event_cb(struct conn *bev, short what, void *arg)
{
	struct session	*s = arg;
	struct evbuffer	*cout = conn_output(s->c);

	if (s->state == S_PIPE) {
		pipe_move(s, s->b, s->c);
		s->b_eof = 1;
		if (what & CONN_ERROR)
			s->c_eof = 2;
		pipe_shutdown_check(s);
		return;
	}
	if ((what & CONN_WRITING) && !s->b_eof) {
		/*
		 * Docker stopped reading: it may well have answered (Go's
		 * server answers a body it will not read, then closes).  The
		 * body goes no further; the answer, or the close, comes on
		 * the read side, which a TLS bufferevent needs rearmed.
		 */
		s->b_wfail = 1;
		evbuffer_drain(conn_output(bev),
		    evbuffer_get_length(conn_output(bev)));
		conn_disable(s->c, EV_READ);
		if (!s->resp_started || evbuffer_get_length(cout) < RELAY_HIGH)
			conn_enable(bev, EV_READ);
		return;
	}
	s->b_eof = 1;
	/* Made when first needed: most sessions never see Docker close. */
	if (s->b_gone == NULL && (s->b_gone = event_new(r->base, -1, 0,
	    backend_gone_cb, s)) == NULL)
		fatalx("%s: out of memory", __func__);
	event_active(s->b_gone, EV_TIMEOUT, 1);
}

void
backend_fd(uint32_t id, int fd, int err)
{
	struct session		 key, *s;
	struct conn	*bev;

	key.id = id;
	if ((s = RB_FIND(sessions, &r->sessions, &key)) == NULL ||
	    s->state != S_BACKEND) {
		if (fd != -1)
			close(fd);
		return;
	}
	if (fd == -1 && err == EPROTO) {
		reply_error(s, 502, "TLS with the Docker daemon failed");
		return;
	}
	if (fd == -1) {
		log_warnx("backend: %s", strerror(err));
		reply_error(s, err == EAGAIN || err == EMFILE ||
		    err == ENFILE ? 503 : 502,
		    "cannot connect to the Docker daemon");
		return;
	}
	if ((bev = conn_new(r->base, fd, NULL)) == NULL)
		fatalx("%s: out of memory", __func__);
	r->nfds++;
	s->b_gen = r->cc.gen;
	start_forward(s, bev, 0);
}
