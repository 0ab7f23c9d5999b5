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
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/socket.h>
/* libbsd's tree.h marks generated functions __unused, glibc lacks it. */
#ifndef __unused
#define __unused	__attribute__((__unused__))
#endif
#include <sys/tree.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "moatd.h"

#define RELAY_HIGH	(64 * 1024)	/* per direction, then backpressure */
#define RELAY_LOW	(16 * 1024)
#define RESP_HEAD_MAX	(64 * 1024)
#define POOL_MAX	64		/* idle Docker connections kept */
/*
 * Descriptors kept free: what the process holds beyond our count (epoll,
 * the policy and ca channels, the log socket) and relay_tls.c's lingering
 * refused clients (LINGER_MAX).  On top of it every session reserves one
 * for its Docker connection.
 */
#define FD_RESERVE	48
/*
 * Closing as HTTP servers do: once the last answer is out, the write side
 * is shut and what the client still sends (the rest of a body nobody
 * wants) is read and dropped, for LINGER_SECS and LINGER_MAX bytes at
 * most.  Closing on unread bytes sends a reset, and a reset can reach the
 * client before it has read the answer.
 */
#define LINGER_SECS	2
#define LINGER_MAX	(4 * 1024 * 1024)
/*
 * One connection per wakeup: every relay wakes on a new connection, and
 * the one that took it leaves the next to whichever is free first, so a
 * burst is shared out instead of landing on one relay.
 */
#define ACCEPT_BATCH	1

enum sstate {
	S_HEAD,		/* reading a request head */
	S_POLICY,	/* waiting for the verdict */
	S_BACKEND,	/* waiting for a Docker connection */
	S_FORWARD,	/* request body up, response down */
	S_PIPE,		/* hijacked: raw bytes both ways */
	S_CLOSING,	/* flushing a last answer */
	S_LINGER,	/* answer out, write side shut: dropping input */
};

struct backend {
	TAILQ_ENTRY(backend)	 entry;
	struct bufferevent	*bev;
	struct relay		*r;
	uint32_t		 gen;	/* configuration it was made under */
};
TAILQ_HEAD(backends, backend);

struct peer {
	RB_ENTRY(peer)		 entry;
	char			 key[80];	/* "1.2.3.4", "[::1]", "uid=0" */
	unsigned int		 n;		/* sessions */
};
RB_HEAD(peers, peer);

struct session {
	RB_ENTRY(session)	 entry;
	TAILQ_ENTRY(session)	 idle_entry;
	int			 idle;		/* on r->idle */
	uint32_t		 id;
	struct relay		*r;
	int			 lid;
	char			 peer[80];
	struct peer		*pc;
	struct ident		*ident;		/* TLS: who, once verified */
	enum sstate		 state;
	struct bufferevent	*c;
	struct bufferevent	*b;
	int			 b_pooled;
	uint32_t		 b_gen;
	int			 b_wfail;	/* Docker stopped taking the body */
	size_t			 stall_out;	/* answer bytes queued at the stall */
	struct event		*b_gone;	/* Docker closed: after its bytes */
	struct event		*timer;
	int			 head_timing;
	struct verdict		*v;
	uint64_t		 ctr;		/* this request's, for its proof */
	int			 retried;
	uint64_t		 req_remain;
	struct chunked		 req_ch;
	int			 req_done;
	int			 resp_started;
	int			 resp_closing;	/* we said Connection: close */
	struct http_response	 resp;
	uint64_t		 resp_remain;
	struct chunked		 resp_ch;
	int			 resp_done;
	int			 c_eof;
	int			 b_eof;
	uint64_t		 nin;
	uint64_t		 nout;
	uint64_t		 dropped;	/* read and dropped, closing */
	struct timespec		 t0;
	int			 status;
};
RB_HEAD(sessions, session);

struct listener {
	int		 id;
	int		 fd;
	struct event	*ev;
	struct event	*pause;
};

struct relay {
	int			 instance;
	struct event_base	*base;
	struct chan		 parent;
	struct chan		 policy;
	struct chan		 fwd;		/* to our forwarder */
	uint64_t		 ctr;		/* requests sent for a verdict */
	struct child_config	 cc;
	struct listener		 listeners[MOAT_LISTENERS_MAX];
	size_t			 nlisteners;
	struct sessions		 sessions;
	size_t			 nsessions;
	/* kept alive after a request, oldest first */
	TAILQ_HEAD(, session)	 idle;
	struct peers		 peers;
	struct backends		 pool;
	size_t			 npool;
	uint32_t		 nextid;
	int			 nfds;
	int			 maxfds;
	int			 draining;
	struct event		*drain_timer;
};

static struct relay	*r;

static int
session_cmp(struct session *a, struct session *b)
{
	return a->id < b->id ? -1 : a->id > b->id;
}
RB_GENERATE_STATIC(sessions, session, entry, session_cmp)

static int
peer_cmp(struct peer *a, struct peer *b)
{
	return strcmp(a->key, b->key);
}
RB_GENERATE_STATIC(peers, peer, entry, peer_cmp)

static void	session_free(struct session *);
static void	backend_release(struct session *, int);
static void	try_head(struct session *);
static void	forward_body(struct session *);
static void	read_response(struct session *);
static void	backend_ended(struct session *);
static void	pipe_shutdown_check(struct session *);
static void	start_forward(struct session *, struct bufferevent *, int);
static void	client_read_cb(struct bufferevent *, void *);
static void	client_write_cb(struct bufferevent *, void *);
static void	client_event_cb(struct bufferevent *, short, void *);
static void	backend_read_cb(struct bufferevent *, void *);
static void	backend_write_cb(struct bufferevent *, void *);
static void	backend_event_cb(struct bufferevent *, short, void *);

static const char *
status_text(int status)
{
	switch (status) {
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 408: return "Request Timeout";
	case 414: return "URI Too Long";
	case 417: return "Expectation Failed";
	case 431: return "Request Header Fields Too Large";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Error";
	}
}

static void
json_escape(char *dst, size_t dstsz, const char *src)
{
	size_t	 o = 0;

	for (; *src != '\0' && o + 7 < dstsz; src++) {
		if (*src == '"' || *src == '\\') {
			dst[o++] = '\\';
			dst[o++] = *src;
		} else if ((unsigned char)*src < 0x20 ||
		    (unsigned char)*src >= 0x7f)
			o += snprintf(dst + o, dstsz - o, "\\u%04x",
			    (unsigned char)*src);
		else
			dst[o++] = *src;
	}
	dst[o] = '\0';
}

static double
elapsed_ms(const struct timespec *t0)
{
	struct timespec	 t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1e3 +
	    (t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* One line per request, key=value, at info; denials at warning. */
static void
log_request(struct session *s, const char *verdict)
{
	struct verdict	*v = s->v;
	char		 rule[300], who[3 * IDENT_VALUE_MAX];
	char		 path[CANON_PATH_MAX];
	int		 pri;

	if (v != NULL && v->rule >= 0 && r->cc.rs != NULL &&
	    (size_t)v->rule < r->cc.rs->nrules)
		snprintf(rule, sizeof(rule), "%s:%u",
		    r->cc.rs->rules[v->rule].source,
		    r->cc.rs->rules[v->rule].line);
	else
		strlcpy(rule, "-", sizeof(rule));
	/* The decoded path may hold spaces: log its encoding. */
	if (v != NULL && v->path[0] != '\0')
		(void)canon_path_encode(v->path, path, sizeof(path));
	else
		strlcpy(path, "-", sizeof(path));
	pri = strcmp(verdict, "allow") == 0 ? LOG_INFO : LOG_WARNING;
	ident_logstr(s->ident, who, sizeof(who));
	logit(pri, "client=%s%s method=%s path=%s verdict=%s rule=%s "
	    "status=%d in=%llu out=%llu ms=%.3f%s%s", s->peer, who,
	    v != NULL && v->method[0] ? v->method : "-", path, verdict, rule,
	    s->status,
	    (unsigned long long)s->nin, (unsigned long long)s->nout,
	    elapsed_ms(&s->t0), v != NULL && v->why[0] ? " why=" : "",
	    v != NULL && v->why[0] ? v->why : "");
}

static void
end_request(struct session *s)
{
	if (s->v != NULL) {
		verdict_clear(s->v);
		free(s->v);
		s->v = NULL;
	}
}

static void	set_timer(struct session *, int);

/*
 * Drop what a closing client sent; 0 once LINGER_MAX is reached: a
 * lingering session then ends, one still flushing stops reading.
 */
static int
drop_input(struct session *s)
{
	struct evbuffer	*in = bufferevent_get_input(s->c);
	size_t		 len = evbuffer_get_length(in);

	evbuffer_drain(in, len);
	s->dropped += len;
	if (s->dropped < LINGER_MAX)
		return 1;
	if (s->state == S_LINGER) {
		session_free(s);
		return 0;
	}
	bufferevent_disable(s->c, EV_READ);
	return 0;
}

/* The last answer is out: shut the write side, then read out the rest. */
static void
linger(struct session *s)
{
	if (s->c_eof) {
		session_free(s);
		return;
	}
	s->state = S_LINGER;
	relay_tls_shutdown_write(s->c);
	set_timer(s, LINGER_SECS);
	(void)drop_input(s);
}

/*
 * Write a last answer and close once it is out.  The client may take
 * "timeout idle" for it; what it sends meanwhile is dropped.
 */
static void
close_after_flush(struct session *s)
{
	s->state = S_CLOSING;
	bufferevent_setwatermark(s->c, EV_WRITE, 0, 0);
	set_timer(s, r->cc.conf.idle_timeout);
	if (s->c_eof)
		bufferevent_disable(s->c, EV_READ);
	else if (drop_input(s))
		bufferevent_enable(s->c, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(s->c)) == 0)
		linger(s);
}

static void
reply(struct session *s, int status, const char *msg, int keep)
{
	char	 esc[1024], body[1200];
	int	 n;

	json_escape(esc, sizeof(esc), msg);
	n = snprintf(body, sizeof(body), "{\"message\":\"%s\"}\n", esc);
	evbuffer_add_printf(bufferevent_get_output(s->c),
	    "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
	    "Content-Length: %d\r\n%s\r\n%s", status, status_text(status), n,
	    keep ? "" : "Connection: close\r\n", body);
	s->status = status;
	s->nout += n;
}

static void
reply_error(struct session *s, int status, const char *why)
{
	char	 msg[300];

	snprintf(msg, sizeof(msg), "moatd: %s", why);
	reply(s, status, msg, 0);
	log_request(s, status >= 500 ? "error" : "bad");
	end_request(s);
	close_after_flush(s);
}

static void
set_timer(struct session *s, int secs)
{
	struct timeval	 tv = { secs, 0 };

	if (secs <= 0)
		evtimer_del(s->timer);
	else
		evtimer_add(s->timer, &tv);
}

/*
 * No byte of the request body for "timeout body" seconds: the Docker
 * connection goes.  The client gets a 408 if Docker has not answered yet.
 */
static void
body_timeout(struct session *s)
{
	if (s->b != NULL &&
	    evbuffer_get_length(bufferevent_get_output(s->b)) >= RELAY_HIGH) {
		/* Docker is the slow one: keep waiting. */
		set_timer(s, r->cc.conf.body_timeout);
		return;
	}
	backend_release(s, 0);
	if (!s->resp_started) {
		reply_error(s, 408, "request body timeout");
		return;
	}
	s->status = 408;
	log_request(s, "allow");
	session_free(s);
}

static void
session_timeout_cb(int fd, short ev, void *arg)
{
	struct session	*s = arg;

	if (s->state == S_HEAD && s->head_timing) {
		/* A 408 would wait behind the handshake for good. */
		if (!relay_tls_handshake_done(s->c)) {
			log_info("client=%s: TLS handshake not done in %d s; "
			    "closed", s->peer, r->cc.conf.head_timeout);
			session_free(s);
			return;
		}
		reply_error(s, 408, "request head timeout");
		return;
	}
	if (s->state == S_FORWARD && !s->req_done) {
		body_timeout(s);
		return;
	}
	if (s->state == S_POLICY) {
		log_warnx("client=%s: no verdict from the policy worker in "
		    "%d s", s->peer, r->cc.conf.head_timeout);
		reply_error(s, 503, "policy worker did not answer");
		return;
	}
	if (s->state == S_BACKEND) {
		log_warnx("client=%s: no Docker connection from the parent "
		    "in %d s", s->peer, r->cc.conf.head_timeout);
		reply_error(s, 503, "no connection to the Docker daemon");
		return;
	}
	if (s->state == S_FORWARD) {
		struct evbuffer	*out = bufferevent_get_output(s->c);

		/* A slow reader took some: it has another period. */
		if (evbuffer_get_length(out) < s->stall_out) {
			s->stall_out = evbuffer_get_length(out);
			set_timer(s, r->cc.conf.idle_timeout);
			return;
		}
		/* The response waits on a client that takes none of it. */
		log_warnx("client=%s: took nothing of its answer in %d s; "
		    "closed", s->peer, r->cc.conf.idle_timeout);
		s->status = s->status ? s->status : 499;
		log_request(s, "allow");
	}
	session_free(s);
}

/* Ready for the next head on this connection. */
static void
next_request(struct session *s)
{
	end_request(s);
	s->state = S_HEAD;
	s->head_timing = 0;
	s->resp_started = s->resp_done = s->req_done = 0;
	s->resp_closing = 0;
	s->nin = s->nout = 0;
	s->status = 0;
	s->retried = 0;
	if (r->draining) {
		session_free(s);
		return;
	}
	if (!s->idle) {
		TAILQ_INSERT_TAIL(&r->idle, s, idle_entry);
		s->idle = 1;
	}
	set_timer(s, r->cc.conf.idle_timeout);
	bufferevent_setwatermark(s->c, EV_WRITE, RELAY_LOW, 0);
	bufferevent_enable(s->c, EV_READ);
	try_head(s);
}

/* Docker connections: reuse only after a cleanly framed response. */
static void
pool_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct backend	*be = arg;

	TAILQ_REMOVE(&r->pool, be, entry);
	r->npool--;
	bufferevent_free(be->bev);
	r->nfds--;
	free(be);
}

static void
pool_read_cb(struct bufferevent *bev, void *arg)
{
	/* An idle connection must say nothing: drop it. */
	pool_event_cb(bev, BEV_EVENT_ERROR, arg);
}

static void
pool_put(struct bufferevent *bev, uint32_t gen)
{
	struct backend	*be;

	if (r->npool >= POOL_MAX || r->draining || gen != r->cc.gen ||
	    evbuffer_get_length(bufferevent_get_input(bev)) != 0 ||
	    (be = calloc(1, sizeof(*be))) == NULL) {
		bufferevent_free(bev);
		r->nfds--;
		return;
	}
	be->bev = bev;
	be->gen = gen;
	bufferevent_setcb(bev, pool_read_cb, NULL, pool_event_cb, be);
	bufferevent_enable(bev, EV_READ);
	TAILQ_INSERT_HEAD(&r->pool, be, entry);
	r->npool++;
}

/* A connection made under the configuration in effect, if any. */
static struct bufferevent *
pool_get(void)
{
	struct backend		*be;
	struct bufferevent	*bev;

	while ((be = TAILQ_FIRST(&r->pool)) != NULL && be->gen != r->cc.gen)
		pool_event_cb(be->bev, BEV_EVENT_EOF, be);
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
static void
pool_flush(void)
{
	struct backend	*be;

	while ((be = TAILQ_FIRST(&r->pool)) != NULL)
		pool_event_cb(be->bev, BEV_EVENT_EOF, be);
}

static void
backend_release(struct session *s, int reusable)
{
	if (s->b == NULL)
		return;
	event_del(s->b_gone);
	if (reusable) {
		pool_put(s->b, s->b_gen);
	} else {
		bufferevent_free(s->b);
		r->nfds--;
	}
	s->b = NULL;
}

static void
idle_del(struct session *s)
{
	if (s->idle) {
		TAILQ_REMOVE(&r->idle, s, idle_entry);
		s->idle = 0;
	}
}

static void
peer_put(struct peer *pc)
{
	if (pc == NULL || --pc->n > 0)
		return;
	RB_REMOVE(peers, &r->peers, pc);
	free(pc);
}

static void
session_free(struct session *s)
{
	RB_REMOVE(sessions, &r->sessions, s);
	r->nsessions--;
	idle_del(s);
	peer_put(s->pc);
	backend_release(s, 0);
	end_request(s);
	if (s->c != NULL) {
		bufferevent_free(s->c);
		r->nfds--;
	}
	if (s->ident != NULL) {
		ident_clear(s->ident);
		free(s->ident);
	}
	event_free(s->timer);
	event_free(s->b_gone);
	free(s);
	if (r->draining && r->nsessions == 0)
		exit(0);
}

static void
deny(struct session *s)
{
	char	 msg[CANON_PATH_MAX + 64];
	int	 keep;

	snprintf(msg, sizeof(msg), "moatd: %s %s is not allowed",
	    s->v->method, s->v->path);
	/* Keep the connection only when no body is left to skip. */
	keep = s->v->framing == FRAMING_NONE && s->v->keepalive &&
	    !r->draining;
	reply(s, 403, msg, keep);
	log_request(s, "deny");
	if (keep)
		next_request(s);
	else {
		end_request(s);
		close_after_flush(s);
	}
}

/*
 * Ask the forwarder for a stream to Docker; it asks the parent, which
 * connects without blocking, so an answer is due at once; "timeout head"
 * bounds the wait all the same (session_timeout_cb).
 */
static void
request_backend(struct session *s)
{
	set_timer(s, r->cc.conf.head_timeout);
	if (chan_compose(&r->fwd, MSG_FWD_OPEN, s->id, -1, NULL, 0) == -1)
		reply_error(s, 503, "the forwarder is unavailable");
}

static void
got_verdict(struct session *s, struct verdict *v)
{
	struct bufferevent	*bev;
	char			 path[CANON_PATH_MAX];
	char			 method[3 * RULE_METHOD_MAX];

	s->v = v;
	/* The monitor principle, and a refusal is a 4xx/5xx (verdict.c). */
	if (!verdict_check(v, r->cc.rs)) {
		(void)canon_path_encode(v->method, method, sizeof(method));
		(void)canon_path_encode(v->path, path, sizeof(path));
		log_warnx("client=%s: verdict for %s %s failed the relay's "
		    "check; denied", s->peer, method, path);
		/* Nothing unchecked in the log line, and no reuse. */
		strlcpy(v->method, method, sizeof(v->method));
		v->why[0] = '\0';
		v->rule = -1;
		v->keepalive = 0;
		deny(s);
		return;
	}
	switch (v->kind) {
	case VERDICT_BAD:
		reply_error(s, v->status, v->why[0] ? v->why : "bad request");
		return;
	case VERDICT_DENY:
		deny(s);
		return;
	case VERDICT_ALLOW:
		break;
	}
	if (!v->hasmac) {
		reply_error(s, 503, "the policy worker gave no approval");
		return;
	}
	s->state = S_BACKEND;
	/* An upgrade goes on a fresh connection: the forwarder must know
	 * that the first answer it sees is the upgrade's (forwarder.c). */
	if (!v->hijack && (bev = pool_get()) != NULL) {
		s->b_gen = r->cc.gen;
		start_forward(s, bev, 1);
		return;
	}
	request_backend(s);
}

static void
policy_dispatch(struct chan *ch, struct msg *m, void *arg)
{
	struct session	 key, *s;
	struct verdict	*v;
	struct mbuf	 rd;

	if (m->hdr.type != MSG_POLICY_VERDICT)
		fatalx("unexpected message %u from the policy worker",
		    m->hdr.type);
	key.id = m->hdr.peerid;
	if ((s = RB_FIND(sessions, &r->sessions, &key)) == NULL ||
	    s->state != S_POLICY)
		return;
	/* verdict_decode() sets every field. */
	if ((v = malloc(sizeof(*v))) == NULL)
		fatal("%s", __func__);
	mbuf_reader(&rd, m->data, m->datalen);
	if (verdict_decode(&rd, v) == -1) {
		free(v);
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
send_head(struct session *s, const char *head, size_t hl)
{
	struct mbuf	 m;

	if (!r->policy.open) {
		reply_error(s, 503, "policy worker unavailable");
		return;
	}
	mbuf_init(&m);
	s->ctr = ++r->ctr;
	(void)policy_req_encode(&m, head, hl, s->ctr);
	/*
	 * Reading stays on: what the client sends meanwhile waits in the
	 * buffer (bounded by the read watermark) for its own verdict, and
	 * not toggling costs two epoll_ctl calls less per request.
	 */
	s->state = S_POLICY;
	idle_del(s);
	/* The worker answers at once or not at all: bound the wait. */
	set_timer(s, r->cc.conf.head_timeout);
	if (m.err || chan_compose(&r->policy, MSG_POLICY_REQ, s->id, -1,
	    m.buf, m.len) == -1)
		reply_error(s, 503, "policy worker unavailable");
	mbuf_free(&m);
}

/*
 * A TLS record (a ClientHello: 0x16, then version 3.x) where a request
 * should start: a client set up for TLS on a plain listener.  It could not
 * read an answer; it is told at once, by the close, not after the head
 * timeout, and the log says why.
 */
static int
tls_on_plain(struct session *s, struct evbuffer *in, size_t len)
{
	unsigned char	 b[2];

	if (len < 2 || evbuffer_copyout(in, b, 2) != 2 || b[0] != 0x16 ||
	    b[1] != 0x03)
		return 0;
	log_warnx("client=%s: TLS handshake on a plain listener, closed: "
	    "the client speaks TLS (https://, DOCKER_TLS_VERIFY) to a "
	    "listener without it", s->peer);
	session_free(s);
	return 1;
}

static void
try_head(struct session *s)
{
	struct evbuffer	*in = bufferevent_get_input(s->c);
	size_t		 len, n, hl, max = r->cc.conf.limits.head_max;
	char		*p;

	if (s->state != S_HEAD || (len = evbuffer_get_length(in)) == 0)
		return;
	if (!relay_tls_is_tls(s->c) && tls_on_plain(s, in, len))
		return;
	if (evbuffer_get_length(bufferevent_get_output(s->c)) >= RELAY_HIGH) {
		/* The client does not read its answers: judge nothing more
		 * until they drain (client_write_cb). */
		bufferevent_disable(s->c, EV_READ);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &s->t0);
	n = len < max ? len : max;
	p = (char *)evbuffer_pullup(in, n);
	if ((hl = http_head_length(p, n)) == 0) {
		if (len >= max) {
			if (memchr(p, '\n', n < r->cc.conf.limits.line_max ?
			    n : r->cc.conf.limits.line_max) == NULL)
				reply_error(s, 414, "request line too long");
			else
				reply_error(s, 431, "request head too large");
			return;
		}
		if (!s->head_timing) {
			s->head_timing = 1;
			set_timer(s, r->cc.conf.head_timeout);
		}
		return;
	}
	send_head(s, p, hl);
	evbuffer_drain(in, hl);
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

	if ((head = verdict_head(v, &h.headlen)) == NULL)
		return -1;
	h.ctr = s->ctr;
	h.framing = v->framing;
	h.length = v->framing == FRAMING_LENGTH ? v->length : 0;
	h.upgrade = v->hijack != 0;
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

static void
start_forward(struct session *s, struct bufferevent *bev, int pooled)
{
	struct evbuffer	*out;

	s->b = bev;
	s->b_pooled = pooled;
	bufferevent_setcb(bev, backend_read_cb, backend_write_cb,
	    backend_event_cb, s);
	relay_tls_read_watermark(bev, RELAY_HIGH);
	bufferevent_setwatermark(bev, EV_WRITE, RELAY_LOW, 0);
	out = bufferevent_get_output(bev);
	if (head_frame(s, out) == -1) {
		bufferevent_free(bev);
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
	s->resp_started = s->resp_done = s->resp_closing = 0;
	s->b_eof = s->b_wfail = 0;
	/* A body has its timeout; an answer may take as long as Docker
	 * needs (wait, events, pull). */
	set_timer(s, s->req_done ? 0 : r->cc.conf.body_timeout);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
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
	bufferevent_enable(s->c, EV_READ);
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

static void
forward_body(struct session *s)
{
	struct evbuffer		*in = bufferevent_get_input(s->c);
	struct evbuffer		*out = bufferevent_get_output(s->b);
	struct evbuffer_iovec	 vec;
	size_t			 len;
	ssize_t			 used;
	int			 done = 0, isdata;
	uint8_t			 hdr[FWD_HDRLEN];

	/* Docker takes no more: its answer, or its close, is on the way. */
	if (s->b_wfail) {
		bufferevent_disable(s->c, EV_READ);
		return;
	}
	if (!s->req_done && evbuffer_get_length(in) > 0)
		set_timer(s, r->cc.conf.body_timeout);
	while (!s->req_done && (len = evbuffer_get_length(in)) > 0) {
		if (evbuffer_get_length(out) >= RELAY_HIGH) {
			bufferevent_disable(s->c, EV_READ);
			return;
		}
		if (s->v->framing == FRAMING_LENGTH) {
			if (len > s->req_remain)
				len = s->req_remain;
			data_frames(in, out, len);
			s->req_remain -= len;
			s->req_done = s->req_remain == 0;
			s->nin += len;
			continue;
		}
		if (evbuffer_peek(in, -1, NULL, &vec, 1) < 1)
			break;
		/* The forwarder frames the data anew: it gets it alone. */
		used = chunked_step(&s->req_ch, vec.iov_base, vec.iov_len,
		    &done, &isdata);
		if (used == -1) {
			bad_body(s);
			return;
		}
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
	}
	if (s->req_done) {
		set_timer(s, 0);
		complete(s);
	}
}

static void
enter_pipe(struct session *s)
{
	s->state = S_PIPE;
	/* A stream lasts as long as both ends want: a body's timer, when
	 * the 101 came before the body ended, does not carry over. */
	set_timer(s, 0);
	bufferevent_setwatermark(s->c, EV_WRITE, 0, 0);
	bufferevent_setwatermark(s->b, EV_WRITE, 0, 0);
	evbuffer_add_buffer(bufferevent_get_output(s->c),
	    bufferevent_get_input(s->b));
	data_frames(bufferevent_get_input(s->c), bufferevent_get_output(s->b),
	    evbuffer_get_length(bufferevent_get_input(s->c)));
	/* A client that half-closed while waiting for the 101 stays so. */
	bufferevent_enable(s->c, s->c_eof ? EV_WRITE : EV_READ | EV_WRITE);
	bufferevent_enable(s->b, EV_READ | EV_WRITE);
	log_request(s, "allow");
	pipe_shutdown_check(s);
}

static void
pipe_move(struct session *s, struct bufferevent *from, struct bufferevent *to)
{
	struct evbuffer	*in = bufferevent_get_input(from);
	size_t		 len = evbuffer_get_length(in);

	if (from == s->c) {
		s->nin += len;
		data_frames(in, bufferevent_get_output(to), len);
	} else {
		s->nout += len;
		evbuffer_add_buffer(bufferevent_get_output(to), in);
	}
	if (evbuffer_get_length(bufferevent_get_output(to)) >= RELAY_HIGH)
		bufferevent_disable(from, EV_READ);
}

/* Half-close: pass a side's EOF on once its bytes are through. */
static void
pipe_shutdown_check(struct session *s)
{
	if (s->c_eof == 1 &&
	    evbuffer_get_length(bufferevent_get_output(s->b)) == 0) {
		relay_tls_shutdown_write(s->b);
		s->c_eof = 2;
	}
	if (s->b_eof == 1 &&
	    evbuffer_get_length(bufferevent_get_output(s->c)) == 0) {
		relay_tls_shutdown_write(s->c);
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
	struct evbuffer	*out = bufferevent_get_output(s->c);
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
	struct evbuffer	*in = bufferevent_get_input(s->b);
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

static void
read_response(struct session *s)
{
	struct evbuffer		*in = bufferevent_get_input(s->b);
	struct evbuffer		*out = bufferevent_get_output(s->c);
	struct evbuffer_iovec	 vec;
	size_t			 len;
	ssize_t			 used;
	int			 rv, done = 0;

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
	while (!s->resp_done && (len = evbuffer_get_length(in)) > 0) {
		if (evbuffer_get_length(out) >= RELAY_HIGH) {
			bufferevent_disable(s->b, EV_READ);
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
			if (len > s->resp_remain)
				len = s->resp_remain;
			evbuffer_remove_buffer(in, out, len);
			s->resp_remain -= len;
			s->resp_done = s->resp_remain == 0;
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
	if (s->resp_done)
		complete(s);
	else if (s->b_eof && evbuffer_get_length(in) == 0)
		backend_ended(s);
}

/*
 * Bytes that wait for their turn (a pipelined request while this one is
 * judged or answered) are bounded in every state: the read watermark does
 * it on plain connections, this on TLS ones (see relay_tls.c).  Reading
 * resumes when the session moves on (start_forward, next_request).  The
 * openssl bufferevent has decrypted every pending record by the time the
 * callback runs, so nothing is left in OpenSSL to stall on.
 */
static void
client_hold(struct session *s)
{
	if (evbuffer_get_length(bufferevent_get_input(s->c)) >= RELAY_HIGH)
		bufferevent_disable(s->c, EV_READ);
}

static void
client_read_cb(struct bufferevent *bev, void *arg)
{
	struct session	*s = arg;

	switch (s->state) {
	case S_HEAD:
		try_head(s);
		break;
	case S_FORWARD:
		/* Bytes after the body wait for their own verdict; reading
		 * on lets us see the client leave a long response. */
		if (!s->req_done)
			forward_body(s);
		else
			client_hold(s);
		break;
	case S_PIPE:
		pipe_move(s, s->c, s->b);
		break;
	case S_CLOSING:
	case S_LINGER:
		(void)drop_input(s);
		break;
	default:
		client_hold(s);
		break;
	}
}

static void
client_write_cb(struct bufferevent *bev, void *arg)
{
	struct session	*s = arg;

	switch (s->state) {
	case S_HEAD:
		/* Below the low mark again: judge what was held back. */
		if (!s->c_eof)
			bufferevent_enable(s->c, EV_READ);
		try_head(s);
		break;
	case S_CLOSING:
		if (evbuffer_get_length(bufferevent_get_output(s->c)) == 0)
			linger(s);
		break;
	case S_FORWARD:
		if (!s->resp_started || s->resp_done || s->b == NULL)
			break;
		if (s->req_done)
			set_timer(s, 0);	/* the client reads: no stall */
		/* Below the mark again: what Docker sent meanwhile (maybe
		 * all of it, and its close) waits in the input buffer. */
		if (!s->b_eof)
			bufferevent_enable(s->b, EV_READ);
		if (evbuffer_get_length(bufferevent_get_input(s->b)) > 0 ||
		    s->b_eof)
			read_response(s);
		break;
	case S_PIPE:
		bufferevent_enable(s->b, EV_READ);
		pipe_shutdown_check(s);
		break;
	default:
		break;
	}
}

static void
client_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct session	*s = arg;

	/* TLS: the handshake is through (who it is), or it failed. */
	if (relay_tls_client_event(bev, what, s->peer, &s->ident))
		return;
	/* Closing: a client that has read its answer and closed is done;
	 * one that only stopped sending still gets the rest of it (not
	 * over a TLS handshake that never finished: none can go out). */
	if (s->state == S_CLOSING && (what & BEV_EVENT_EOF) &&
	    !(what & BEV_EVENT_ERROR) &&
	    (s->ident != NULL || !relay_tls_is_tls(s->c))) {
		s->c_eof = 1;
		bufferevent_disable(s->c, EV_READ);
		return;
	}
	if (s->state == S_CLOSING || s->state == S_LINGER) {
		session_free(s);
		return;
	}
	if (s->state == S_PIPE && (what & BEV_EVENT_EOF)) {
		pipe_move(s, s->c, s->b);
		s->c_eof = 1;
		pipe_shutdown_check(s);
		return;
	}
	/*
	 * EOF while the response is under way: a hijack request may
	 * half-close before the 101 (its EOF is passed on in the pipe);
	 * any other client has gone, as Go's server sees it, and so must
	 * its Docker connection (events, logs -f, wait).
	 */
	if (((s->state == S_FORWARD && s->req_done && s->v->hijack) ||
	    s->state == S_POLICY || s->state == S_BACKEND) &&
	    (what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR)) {
		s->c_eof = 1;
		bufferevent_disable(s->c, EV_READ);
		return;
	}
	if (s->state == S_FORWARD || s->state == S_PIPE) {
		s->status = s->status ? s->status : 499;
		log_request(s, "allow");
	}
	/* A client that half-closed still gets what we owe it. */
	if (s->state == S_HEAD && !(what & BEV_EVENT_ERROR) &&
	    evbuffer_get_length(bufferevent_get_output(s->c)) > 0) {
		s->c_eof = 1;
		end_request(s);
		close_after_flush(s);
		return;
	}
	session_free(s);
}

static void
backend_read_cb(struct bufferevent *bev, void *arg)
{
	struct session	*s = arg;

	if (s->state == S_PIPE)
		pipe_move(s, s->b, s->c);
	else if (s->state == S_FORWARD)
		read_response(s);
}

static void
backend_write_cb(struct bufferevent *bev, void *arg)
{
	struct session	*s = arg;

	if (s->state == S_FORWARD && !s->req_done) {
		bufferevent_enable(s->c, EV_READ);
		forward_body(s);
	} else if (s->state == S_PIPE) {
		if (!s->c_eof)
			bufferevent_enable(s->c, EV_READ);
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
static void
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
	    evbuffer_get_length(bufferevent_get_input(s->b)) == 0) {
		retry_backend(s);
		return;
	}
	backend_release(s, 0);
	log_warnx("backend %s closed before answering", "connection");
	reply_error(s, 502, "the Docker daemon closed the connection");
}

static void
backend_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct session	*s = arg;
	struct evbuffer	*cout = bufferevent_get_output(s->c);
	char		 why[512];

	why[0] = '\0';
	if (relay_tls_backend_event(bev, what, why, sizeof(why)))
		return;
	if (s->state == S_PIPE) {
		pipe_move(s, s->b, s->c);
		s->b_eof = 1;
		if (what & BEV_EVENT_ERROR)
			s->c_eof = 2;
		pipe_shutdown_check(s);
		return;
	}
	if (why[0] != '\0') {
		backend_release(s, 0);
		reply_error(s, 502, "TLS with the Docker daemon failed");
		return;
	}
	if ((what & BEV_EVENT_WRITING) && !s->b_eof) {
		/*
		 * Docker stopped reading: it may well have answered (Go's
		 * server answers a body it will not read, then closes).  The
		 * body goes no further; the answer, or the close, comes on
		 * the read side, which a TLS bufferevent needs rearmed.
		 */
		s->b_wfail = 1;
		evbuffer_drain(bufferevent_get_output(bev),
		    evbuffer_get_length(bufferevent_get_output(bev)));
		bufferevent_disable(s->c, EV_READ);
		if (!s->resp_started || evbuffer_get_length(cout) < RELAY_HIGH)
			bufferevent_enable(bev, EV_READ);
		return;
	}
	s->b_eof = 1;
	event_active(s->b_gone, EV_TIMEOUT, 1);
}

static void
backend_fd(uint32_t id, int fd, int err)
{
	struct session		 key, *s;
	struct bufferevent	*bev;

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
	if ((bev = bufferevent_socket_new(r->base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL)
		fatalx("%s: out of memory", __func__);
	bufferevent_set_max_single_read(bev, 64 * 1024);
	bufferevent_set_max_single_write(bev, 64 * 1024);
	r->nfds++;
	s->b_gen = r->cc.gen;
	start_forward(s, bev, 0);
}

static void
peer_name(int fd, char *buf, size_t len)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sl = sizeof(ss);
	struct ucred		 cred;
	socklen_t		 cl = sizeof(cred);
	char			 host[INET6_ADDRSTRLEN];

	strlcpy(buf, "-", len);
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == -1)
		return;
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, ntohs(sin->sin_port));
	} else if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		snprintf(buf, len, "[%s]:%u", host, ntohs(sin6->sin6_port));
	} else if (ss.ss_family == AF_UNIX &&
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) == 0)
		snprintf(buf, len, "unix:pid=%d,uid=%u", (int)cred.pid,
		    (unsigned)cred.uid);
}

/*
 * The peer's share of this relay: its source address, or its uid on a
 * unix socket.  NULL (nothing counted) if it has its limit already.
 */
static struct peer *
peer_get(const char *peer, int *cap)
{
	struct peer	 key, *pc;
	const char	*p;
	char		*colon;

	if ((p = strstr(peer, ",uid=")) != NULL) {
		strlcpy(key.key, p + 1, sizeof(key.key));
		*cap = r->cc.conf.conn_per_uid;
	} else {
		strlcpy(key.key, peer, sizeof(key.key));
		if ((colon = strrchr(key.key, ':')) != NULL)
			*colon = '\0';		/* the port */
		*cap = r->cc.conf.conn_per_addr;
	}
	if ((pc = RB_FIND(peers, &r->peers, &key)) == NULL) {
		if ((pc = calloc(1, sizeof(*pc))) == NULL)
			fatal("%s", __func__);
		strlcpy(pc->key, key.key, sizeof(pc->key));
		RB_INSERT(peers, &r->peers, pc);
	}
	if (*cap > 0 && pc->n >= (unsigned int)*cap) {
		if (pc->n == 0) {
			RB_REMOVE(peers, &r->peers, pc);
			free(pc);
		}
		return NULL;
	}
	pc->n++;
	return pc;
}

/* Over its limit: a plain client is told so, a TLS one just closed. */
static void
peer_refuse(struct listener *l, int fd, const char *peer, int cap)
{
	char	 body[160], buf[400];
	int	 n, len;

	log_warnx("client=%s: more than %d connections from this %s to "
	    "this relay; refused", peer, cap,
	    strstr(peer, ",uid=") != NULL ? "uid" : "address");
	if (!relay_tls_listener(l->id)) {
		n = snprintf(body, sizeof(body), "{\"message\":\"moatd: too "
		    "many connections from this client\"}\n");
		len = snprintf(buf, sizeof(buf), "HTTP/1.1 503 %s\r\n"
		    "Content-Type: application/json\r\nContent-Length: %d\r\n"
		    "Connection: close\r\n\r\n%s", status_text(503), n, body);
		if (write(fd, buf, len) == len)
			(void)shutdown(fd, SHUT_WR);
	}
	close(fd);
}

static void
session_new(struct listener *l, int fd)
{
	struct session	*s;
	char		 peer[80];
	struct peer	*pc;
	int		 on = 1, cap;

	peer_name(fd, peer, sizeof(peer));
	if ((pc = peer_get(peer, &cap)) == NULL) {
		peer_refuse(l, fd, peer, cap);
		return;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		peer_put(pc);
		close(fd);
		return;
	}
	r->nfds++;
	s->r = r;
	s->lid = l->id;
	s->id = ++r->nextid;
	s->pc = pc;
	strlcpy(s->peer, peer, sizeof(s->peer));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	if (relay_tls_client(r->base, l->id, fd, &s->c) == -1) {
		r->nfds--;	/* a TLS listener without TLS: refused */
		peer_put(pc);
		free(s);
		return;
	}
	s->timer = evtimer_new(r->base, session_timeout_cb, s);
	s->b_gone = event_new(r->base, -1, 0, backend_gone_cb, s);
	if (s->timer == NULL || s->b_gone == NULL)
		fatalx("%s: out of memory", __func__);
	bufferevent_setcb(s->c, client_read_cb, client_write_cb,
	    client_event_cb, s);
	relay_tls_read_watermark(s->c, RELAY_HIGH);
	bufferevent_setwatermark(s->c, EV_WRITE, RELAY_LOW, 0);
	RB_INSERT(sessions, &r->sessions, s);
	r->nsessions++;
	s->state = S_HEAD;
	s->head_timing = 1;
	set_timer(s, r->cc.conf.head_timeout);
	bufferevent_enable(s->c, EV_READ | EV_WRITE);
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
		pool_event_cb(be->bev, BEV_EVENT_EOF, be);
		return 1;
	}
	TAILQ_FOREACH(s, &r->idle, idle_entry) {
		if (s->state != S_HEAD || evbuffer_get_length(
		    bufferevent_get_input(s->c)) != 0 || evbuffer_get_length(
		    bufferevent_get_output(s->c)) != 0)
			continue;
		log_info("client=%s: idle connection closed to make room",
		    s->peer);
		session_free(s);
		return 1;
	}
	return 0;
}

/*
 * Every relay accepts on its own copy of the listener; losing the race
 * (EAGAIN) is normal.  Keep a reserve of descriptors, counted by us
 * (getdtablecount() cannot see /proc from the chroot).
 */
static void
accept_cb(int lfd, short ev, void *arg)
{
	struct listener	*l = arg;
	int		 i, fd;

	for (i = 0; i < ACCEPT_BATCH; i++) {
		while (fds_short()) {
			if (fds_reclaim())
				continue;
			log_warnx("descriptor reserve reached, pausing accept");
			accept_pause(l);
			return;
		}
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				log_warn("accept");
				accept_pause(l);
			}
			return;
		}
		session_new(l, fd);
	}
}

static void
add_listener(uint32_t id, int fd)
{
	struct listener	*l;

	if (fd == -1 || r->nlisteners >= MOAT_LISTENERS_MAX)
		fatalx("bad listener from parent");
	l = &r->listeners[r->nlisteners++];
	l->id = id;
	l->fd = fd;
	r->nfds++;
	l->ev = event_new(r->base, fd, EV_READ | EV_PERSIST, accept_cb, l);
	l->pause = evtimer_new(r->base, accept_resume_cb, l);
	if (l->ev == NULL || l->pause == NULL)
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
	for (i = 0; i < r->nlisteners; i++) {
		event_del(r->listeners[i].ev);
		evtimer_del(r->listeners[i].pause);
		close(r->listeners[i].fd);
	}
	RB_FOREACH_SAFE(s, sessions, &r->sessions, t)
		if (s->state == S_HEAD && evbuffer_get_length(
		    bufferevent_get_input(s->c)) == 0)
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

	switch (m->hdr.type) {
	case MSG_FWD_STREAM:
		/* fd -1: it did not fit in our table (msg.c). */
		backend_fd(m->hdr.peerid, m->fd, EMFILE);
		m->fd = -1;
		return;
	case MSG_FWD_ERR:
		if (m->fd != -1 || msg_get_u32(m, &err) == -1)
			fatalx("bad stream error from the forwarder");
		backend_fd(m->hdr.peerid, -1, (int)err);
		return;
	default:
		fatalx("unexpected message %s from the forwarder",
		    msg_type_name(m->hdr.type));
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
	switch (m->hdr.type) {
	case MSG_CTL_FWDFD:
		if (m->fd == -1)
			fatalx("forwarder channel without a descriptor");
		/* Streams of a forwarder that is gone are gone too. */
		pool_flush();
		chan_close(&r->fwd);
		chan_init(&r->fwd, r->base, m->fd, 1, "forwarder",
		    fwd_dispatch, fwd_closed, NULL);
		m->fd = -1;
		return;
	case MSG_CTL_PROCFD:
		if (m->fd == -1)
			fatalx("policy channel without a descriptor");
		chan_close(&r->policy);
		chan_init(&r->policy, r->base, m->fd, 0, "policy",
		    policy_dispatch, policy_closed, NULL);
		m->fd = -1;
		return;
	case MSG_CFG_LISTENER:
		add_listener(m->hdr.peerid, m->fd);
		m->fd = -1;
		return;
	case MSG_CTL_DRAIN:
		drain(m);
		return;
	case MSG_CFG_TLS:
	case MSG_CFG_TLS_CA:
	case MSG_CFG_TLS_CRL:
	case MSG_CTL_CAFD:
		if (relay_tls_msg(m) == -1)
			fatalx("bad TLS configuration from parent");
		return;
	case MSG_CFG_GLOBAL:
	case MSG_CFG_RULES:
	case MSG_CFG_DONE:
		switch (config_recv(&r->cc, m)) {
		case -1:
			fatalx("bad configuration from parent");
		case 1:
			pool_flush();
			relay_tls_commit(r->cc.gen);
#ifdef MOATD_EVIL
			evil_start(r->base, &r->parent, &r->policy, &r->fwd);
#endif
			(void)chan_compose(&r->parent, MSG_CFG_DONE, r->cc.gen,
			    -1, NULL, 0);
			for (i = 0; i < r->nlisteners && !r->draining; i++)
				event_add(r->listeners[i].ev, NULL);
			break;
		}
		return;
	default:
		fatalx("unexpected message %u from parent", m->hdr.type);
	}
}

static void
parent_closed(struct chan *ch, void *arg)
{
	exit(0);
}

void
relay_main(const struct moat_config *c, int instance)
{
	struct rlimit	 rl;

	log_init(c->foreground, c->log_level, LOG_DAEMON);
	signal(SIGPIPE, SIG_IGN);
	proc_child_init("relay", instance, c->foreground, c->user, c->chroot);
	if ((r = calloc(1, sizeof(*r))) == NULL)
		fatal("%s", __func__);
	r->instance = instance;
	RB_INIT(&r->sessions);
	RB_INIT(&r->peers);
	TAILQ_INIT(&r->idle);
	TAILQ_INIT(&r->pool);
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		fatal("getrlimit");
	r->maxfds = rl.rlim_cur > 1048576 ? 1048576 : (int)rl.rlim_cur;
	r->nfds = 4;	/* stdio and the parent channel */
	if ((r->base = event_base_new()) == NULL)
		fatalx("event_base_new");
	chan_init(&r->parent, r->base, PARENT_FD, 1, "parent",
	    parent_dispatch, parent_closed, NULL);
	proc_log_to(&r->parent);
	relay_tls_init();
	sandbox_enter(PROC_RELAY);
	event_base_dispatch(r->base);
	exit(0);
}
