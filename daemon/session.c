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
 * A client's connection, request by request (relay.c says what the relay
 * does): its head read and sent to the policy worker, the verdict checked,
 * answers of our own (denials, errors), the timers, keep-alive and the
 * close; forward.c moves the bytes of what was allowed.  Per-peer
 * connection limits are counted here too.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <openssl/ssl.h>

#include "relay.h"

/* Linux 6.5: a pidfd of the peer that connected (older headers lack it). */
#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD	77
#endif

static int
session_cmp(struct session *a, struct session *b)
{
	return a->id < b->id ? -1 : a->id > b->id;
}
RB_GENERATE(sessions, session, entry, session_cmp)

static int
peer_cmp(struct peer *a, struct peer *b)
{
	return strcmp(a->key, b->key);
}
RB_GENERATE_STATIC(peers, peer, entry, peer_cmp)

static void	try_head(struct session *);
static void	session_tls_done(void *, struct ssl_st *, const char *);
static void	session_start(struct session *);
static int	facts_ensure(struct session *);
static int	early_take(struct session *, struct verdict *);

static const char *
status_text(int status)
{
	switch (status) {
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 408: return "Request Timeout";
	case 413: return "Content Too Large";
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

/*
 * The rules a verdict's client block has here: the top level's for -1, a
 * block's for one this relay has under that name; else NULL (and the
 * verdict fails its check).
 */
static const struct ruleset *
verdict_rules(const struct verdict *v)
{
	const struct child_rules	*cr;

	if (v->client == -1)
		return v->client_name[0] == '\0' ? r->cc.rs : NULL;
	if (v->client < 0 || (size_t)v->client >= r->cc.nclients)
		return NULL;
	cr = &r->cc.clients[v->client];
	if (strcmp(cr->c.name, v->client_name) != 0)
		return NULL;
	return cr->rs;
}

/*
 * With client blocks configured, the block that decided, for the log
 * line and a 403: its name, "-" for the top level; and a verdict that
 * failed the relay's check (client -2) names none.
 */
static const char *
client_logname(const struct verdict *v)
{
	if (v == NULL || v->client < 0)
		return "-";
	return v->client_name;
}

/* What a request's log line says, in either format. */
struct reqlog {
	const char	*client;	/* a block's name, NULL: none/top */
	const char	*method;	/* NULL: none */
	const char	*path;		/* encoded; NULL: none */
	const char	*verdict;
	const char	*rule;		/* source:line; NULL: none */
	const char	*reason;	/* NULL: none */
	int		 admission;	/* reason is the body policy's */
};

/* key=value: "client=... method=... path=... verdict=... rule=...". */
static void
reqlog_text(struct session *s, const struct reqlog *rl, char *line,
    size_t len)
{
	char	 who[3 * IDENT_VALUE_MAX + 100];
	char	 lead[CLIENT_NAME_MAX + sizeof(s->peer) + 16];

	ident_logstr(s->ident, who, sizeof(who));
	/*
	 * With client blocks, client= names the block that decided
	 * (client=traefik, client=- for the top level) and the peer moves
	 * to peer=; without them client= is the peer, as it always was.
	 */
	if (r->cc.nclients > 0)
		snprintf(lead, sizeof(lead), "client=%s peer=%s",
		    rl->client != NULL ? rl->client : "-", s->peer);
	else
		snprintf(lead, sizeof(lead), "client=%s", s->peer);
	/* What the body policy refused: reason="HostConfig.Privileged=true";
	 * a line longer than len is cut, as the log always cut it. */
	if (snprintf(line, len, "%s%s method=%s path=%s verdict=%s rule=%s "
	    "status=%d in=%llu out=%llu ms=%.3f%s%s%s", lead, who,
	    rl->method != NULL ? rl->method : "-",
	    rl->path != NULL ? rl->path : "-", rl->verdict,
	    rl->rule != NULL ? rl->rule : "-", s->status,
	    (unsigned long long)s->nin, (unsigned long long)s->nout,
	    elapsed_ms(&s->t0), rl->reason == NULL ? "" : rl->admission ?
	    " reason=\"" : " why=", rl->reason != NULL ? rl->reason : "",
	    rl->reason != NULL && rl->admission ? "\"" : "") < 0)
		line[0] = '\0';
	/* One line, whatever a value held. */
	for (; *line != '\0'; line++)
		if ((unsigned char)*line < 0x20 || *line == 0x7f)
			*line = '?';
}

/* A string member ,"key":"value" or ,"key":null. */
static int
json_member(char *line, size_t len, size_t *off, const char *key,
    const char *value, size_t cap)
{
	int	 n;

	n = snprintf(line + *off, len - *off, ",\"%s\":%s", key,
	    value == NULL ? "null" : "");
	if (n < 0 || (size_t)n >= len - *off)
		return -1;
	*off += n;
	return value == NULL ? 0 : json_write_str(line, len, off, value, cap);
}

/*
 * One JSON object (moatd(8), AUDIT LOG), its strings cut at cap bytes
 * (the path at 4 * cap).  0, or -1 when it does not fit in len.
 */
static int
reqlog_json(struct session *s, const struct reqlog *rl, int pri,
    char *line, size_t len, size_t cap)
{
	size_t	 off;
	int	 n;

	if ((off = log_json_start(line, len, pri, NULL)) == 0 ||
	    json_member(line, len, &off, "client", rl->client, cap) == -1 ||
	    json_member(line, len, &off, "peer", s->peer, cap) == -1 ||
	    off + 12 >= len)
		return -1;
	memcpy(line + off, ",\"identity\":", 12);
	off += 12;
	if (ident_logjson(s->ident, line, len, &off, cap) == -1 ||
	    json_member(line, len, &off, "method", rl->method, cap) == -1 ||
	    json_member(line, len, &off, "path", rl->path, 4 * cap) == -1 ||
	    json_member(line, len, &off, "verdict", rl->verdict, cap) == -1 ||
	    json_member(line, len, &off, "rule", rl->rule, cap) == -1 ||
	    json_member(line, len, &off, "reason", rl->reason, cap) == -1)
		return -1;
	n = snprintf(line + off, len - off, ",\"status\":%d,\"bytes_in\":%llu,"
	    "\"bytes_out\":%llu,\"duration_ms\":%.3f}", s->status,
	    (unsigned long long)s->nin, (unsigned long long)s->nout,
	    elapsed_ms(&s->t0));
	return n < 0 || (size_t)n >= len - off ? -1 : 0;
}

/*
 * One line per request, at info; denials at warning: key=value, or with
 * "log format json" a JSON object.  With "log file" the parent gets it
 * too, whatever the log level, and writes it there.
 */
void
log_request(struct session *s, const char *verdict)
{
	struct verdict		*v = s->v;
	const struct ruleset	*rs = v != NULL ? verdict_rules(v) : NULL;
	struct reqlog		 rl;
	char			 rule[300], path[3 * CANON_PATH_MAX + 1];
	char			 line[2048];
	int			 pri;

	/* Below info (warning: denials) and without a log file, the line
	 * of an allowed request is not written: nothing of it is made. */
	pri = strcmp(verdict, "allow") == 0 ? LOG_INFO : LOG_WARNING;
	if (!log_wants(pri) && !r->cc.conf.audit)
		return;
	memset(&rl, 0, sizeof(rl));
	rl.verdict = verdict;
	if (v != NULL && v->rule >= 0 && rs != NULL &&
	    (size_t)v->rule < rs->nrules) {
		snprintf(rule, sizeof(rule), "%s:%u",
		    rs->rules[v->rule].source, rs->rules[v->rule].line);
		rl.rule = rule;
	}
	/* The decoded path may hold spaces: log its encoding. */
	if (v != NULL && v->path[0] != '\0') {
		(void)canon_path_encode(v->path, path, sizeof(path));
		rl.path = path;
	}
	if (v != NULL && v->method[0] != '\0')
		rl.method = v->method;
	if (v != NULL && v->client >= 0)
		rl.client = client_logname(v);
	if (v != NULL && v->why[0] != '\0') {
		rl.reason = v->why;
		rl.admission = v->admission;
	}
	if (!r->cc.conf.log_json)
		reqlog_text(s, &rl, line, sizeof(line));
	else if (reqlog_json(s, &rl, pri, line, sizeof(line), 256) == -1 &&
	    reqlog_json(s, &rl, pri, line, sizeof(line), 48) == -1)
		return;		/* cannot be: 48-byte strings fit */
	if (log_wants(pri))
		logit(pri, "%s", line);
	if (r->cc.conf.audit && chan_compose(&r->parent, MSG_AUDIT, pri, -1,
	    line, strlen(line)) == -1)
		log_warnx("audit line to the parent: dropped");
}

/*
 * Verdicts are large (two paths of CANON_PATH_MAX): one malloc and free
 * per request at the top of the heap made glibc trim and regrow it with
 * brk, page faults and all, once a burst had left the top free (make
 * bench: ping req/s halved after the idle-connection step).  A few stay
 * on a free list instead.
 */
#define VERDICTS_KEPT	32

static struct verdict	*vfree[VERDICTS_KEPT];
static size_t		 nvfree;

struct verdict *
verdict_get(void)
{
	if (nvfree > 0)
		return vfree[--nvfree];
	return malloc(sizeof(struct verdict));
}

void
verdict_put(struct verdict *v)
{
	if (v == NULL)
		return;
	if (nvfree < VERDICTS_KEPT)
		vfree[nvfree++] = v;
	else
		free(v);
}

void
end_request(struct session *s)
{
	vcache_forget(s);
	body_free(s);
	free(s->head);
	s->head = NULL;
	s->headlen = 0;
	if (s->v != NULL) {
		verdict_clear(s->v);
		verdict_put(s->v);
		s->v = NULL;
	}
}

/*
 * Drop what a closing client sent; 0 once LINGER_MAX is reached: a
 * lingering session then ends, one still flushing stops reading.
 */
static int
drop_input(struct session *s)
{
	struct evbuffer	*in = conn_input(s->c);
	size_t		 len = evbuffer_get_length(in);

	evbuffer_drain(in, len);
	s->dropped += len;
	if (s->dropped < LINGER_MAX)
		return 1;
	if (s->state == S_LINGER) {
		session_free(s);
		return 0;
	}
	conn_disable(s->c, EV_READ);
	return 0;
}

/*
 * After a whole request and its answer, on a plain connection, with
 * nothing read past the request: 1 when the client has sent nothing
 * since either, so that closing at once sends a FIN, not a reset, and
 * the lingering read (a shutdown, a wake-up and a read for the client's
 * EOF per connection) is not needed.  What one read finds is dropped.
 */
static int
quiet_close(struct session *s)
{
	char	 c;
	ssize_t	 n;

	if (!s->quiet || conn_ssl(s->c) != NULL ||
	    evbuffer_get_length(conn_input(s->c)) > 0)
		return 0;
	if ((n = read(conn_fd(s->c), &c, 1)) == 0)
		return 1;
	if (n == -1)
		return errno == EAGAIN;
	s->dropped += n;
	return 0;
}

/* The last answer is out: shut the write side, then read out the rest. */
static void
linger(struct session *s)
{
	if (s->c_eof || quiet_close(s)) {
		session_free(s);
		return;
	}
	s->state = S_LINGER;
	conn_shutdown_write(s->c);
	set_timer(s, LINGER_SECS);
	(void)drop_input(s);
}

/*
 * Write a last answer and close once it is out.  The client may take
 * "timeout idle" for it; what it sends meanwhile is dropped.
 */
void
close_after_flush(struct session *s)
{
	s->state = S_CLOSING;
	conn_write_low(s->c, 0);
	set_timer(s, r->cc.conf.idle_timeout);
	if (s->c_eof)
		conn_disable(s->c, EV_READ);
	else if (drop_input(s))
		conn_enable(s->c, EV_READ);
	if (evbuffer_get_length(conn_output(s->c)) == 0)
		linger(s);
}

static void
reply(struct session *s, int status, const char *msg, int keep)
{
	char	 esc[1024], body[1200];
	int	 n;

	json_escape(esc, sizeof(esc), msg);
	n = snprintf(body, sizeof(body), "{\"message\":\"%s\"}\n", esc);
	evbuffer_add_printf(conn_output(s->c),
	    "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
	    "Content-Length: %d\r\n%s\r\n%s", status, status_text(status), n,
	    keep ? "" : "Connection: close\r\n", body);
	s->status = status;
	s->nout += n;
}

void
reply_error(struct session *s, int status, const char *why)
{
	char	 msg[300];

	snprintf(msg, sizeof(msg), "moatd: %s", why);
	reply(s, status, msg, 0);
	log_request(s, status >= 500 ? "error" : "bad");
	end_request(s);
	close_after_flush(s);
}

/*
 * Timeouts: one list per length of timeout, each in deadline order (a
 * session joins at the tail, and every member waits as long), behind one
 * timer for its head.  An idle connection holds a list entry, not an
 * event of its own.  Lists are few: the timeouts of the configuration
 * (those of a reload join) and LINGER_SECS; an empty one is reused.
 */
#define TLISTS_MAX	32

struct tlist {
	int			 secs;
	TAILQ_HEAD(, session)	 q;
	struct event		*ev;
};

static struct tlist	 tlists[TLISTS_MAX];
static size_t		 ntlists;

static void	session_timeout(struct session *);

static uint64_t
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
tlist_arm(struct tlist *tl, uint64_t now)
{
	struct session	*s;
	struct timeval	 tv;
	uint64_t	 ms;

	if ((s = TAILQ_FIRST(&tl->q)) == NULL) {
		evtimer_del(tl->ev);
		return;
	}
	ms = s->deadline > now ? s->deadline - now : 0;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(tl->ev, &tv);
}

/* Every session whose time is up; one set again goes to the tail. */
static void
tlist_cb(int fd, short ev, void *arg)
{
	struct tlist	*tl = arg;
	struct session	*s;
	uint64_t	 now = now_ms();

	while ((s = TAILQ_FIRST(&tl->q)) != NULL && s->deadline <= now) {
		TAILQ_REMOVE(&tl->q, s, t_entry);
		s->tl = NULL;
		session_timeout(s);
	}
	tlist_arm(tl, now);
}

static struct tlist *
tlist_get(int secs)
{
	struct tlist	*tl, *empty = NULL;
	size_t		 i;

	for (i = 0; i < ntlists; i++) {
		tl = &tlists[i];
		if (tl->secs == secs)
			return tl;
		if (empty == NULL && TAILQ_EMPTY(&tl->q))
			empty = tl;
	}
	if (empty != NULL) {
		empty->secs = secs;
		return empty;
	}
	if (ntlists == TLISTS_MAX)
		fatalx("%s: more than %d timeout lengths in use", __func__,
		    TLISTS_MAX);
	tl = &tlists[ntlists++];
	tl->secs = secs;
	TAILQ_INIT(&tl->q);
	if ((tl->ev = evtimer_new(r->base, tlist_cb, tl)) == NULL)
		fatalx("%s: out of memory", __func__);
	return tl;
}

/* The session's timeout: secs from now, or none (secs <= 0). */
void
set_timer(struct session *s, int secs)
{
	struct tlist	*tl;
	uint64_t	 now;

	if (s->tl != NULL) {
		/* A head that leaves early lets its timer fire for nothing. */
		TAILQ_REMOVE(&s->tl->q, s, t_entry);
		s->tl = NULL;
	}
	if (secs <= 0)
		return;
	tl = tlist_get(secs);
	now = now_ms();
	s->deadline = now + (uint64_t)secs * 1000;
	s->tl = tl;
	TAILQ_INSERT_TAIL(&tl->q, s, t_entry);
	if (TAILQ_FIRST(&tl->q) == s)
		tlist_arm(tl, now);
}

/*
 * No byte of the request body for "timeout body" seconds: the Docker
 * connection goes.  The client gets a 408 if Docker has not answered yet.
 */
static void
body_timeout(struct session *s)
{
	if (s->b != NULL &&
	    evbuffer_get_length(conn_output(s->b)) >= RELAY_HIGH) {
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
session_timeout(struct session *s)
{
	if (s->state == S_HEAD && s->cid_state == CID_WAIT) {
		log_warnx("client=%s: no word on its container from the "
		    "parent in %d s", s->peer, r->cc.conf.head_timeout);
		reply_error(s, 503, "the client's container is unknown");
		return;
	}
	if (s->state == S_HEAD && s->head_timing) {
		reply_error(s, 408, "request head timeout");
		return;
	}
	if (s->state == S_FORWARD && !s->req_done) {
		body_timeout(s);
		return;
	}
	if (s->state == S_BODY) {
		reply_error(s, 408, "request body timeout");
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
		size_t	 out = evbuffer_get_length(conn_output(s->c));

		/* A slow reader took some: it has another period. */
		if (s->sp != NULL ? !splice_stalled(s) : out < s->stall_out) {
			s->stall_out = out;
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
void
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
	conn_write_low(s->c, RELAY_LOW);
	conn_enable(s->c, EV_READ);
	try_head(s);
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

void
session_free(struct session *s)
{
	RB_REMOVE(sessions, &r->sessions, s);
	r->nsessions--;
	idle_del(s);
	peer_put(s->pc);
	splice_stop(s);
	backend_release(s, 0);
	end_request(s);
	if (s->c != NULL) {
		conn_free(s->c);
		r->nfds--;
	}
	if (s->ident != NULL) {
		ident_clear(s->ident);
		free(s->ident);
	}
	if (s->facts != NULL) {
		ident_clear(s->facts);
		free(s->facts);
	}
	free(s->who);
	set_timer(s, 0);
	if (s->b_gone != NULL)
		event_free(s->b_gone);
	free(s);
	if (r->draining && r->nsessions == 0)
		exit(0);
}

static void
deny(struct session *s)
{
	char		 msg[CANON_PATH_MAX + 512], who[CLIENT_NAME_MAX + 16];
	int		 keep;

	/* With client blocks: whom moatd took the caller for. */
	who[0] = '\0';
	if (r->cc.nclients > 0 && s->v->client >= 0)
		snprintf(who, sizeof(who), " for client %s",
		    s->v->client_name);
	else if (r->cc.nclients > 0 && s->v->client == -1)
		strlcpy(who, " (no client block matched)", sizeof(who));
	/* The body policy names what it refused (policy/body.h). */
	if (s->v->admission)
		snprintf(msg, sizeof(msg), "moatd: %s %s: %s is not allowed%s",
		    s->v->method, s->v->path, s->v->why, who);
	else
		snprintf(msg, sizeof(msg), "moatd: %s %s is not allowed%s",
		    s->v->method, s->v->path, who);
	/* Keep the connection only when no body is left to skip: none,
	 * or one read for the policy worker. */
	keep = (s->v->framing == FRAMING_NONE || s->body != NULL) &&
	    s->v->keepalive && !r->draining;
	reply(s, 403, msg, keep);
	log_request(s, "deny");
	if (keep)
		next_request(s);
	else {
		/* All of the request is read: only the client's close. */
		s->quiet = s->v->framing == FRAMING_NONE || s->body != NULL;
		end_request(s);
		close_after_flush(s);
	}
}

/*
 * Ask the forwarder for a stream to Docker; it asks the parent, which
 * connects without blocking, so an answer is due at once; "timeout head"
 * bounds the wait all the same (session_timeout_cb).
 */
void
request_backend(struct session *s)
{
	set_timer(s, r->cc.conf.head_timeout);
	if (chan_compose(&r->fwd, MSG_FWD_OPEN, s->id, -1, NULL, 0) == -1)
		reply_error(s, 503, "the forwarder is unavailable");
}

/*
 * The client block is this connection's, as far as the relay's own facts
 * tell: the block's lines that need no container hold, and no earlier
 * block that needs none holds (client_recheck).  No blocks: the top level.
 */
static int
verdict_client_ok(struct session *s, const struct verdict *v)
{
	if (r->cc.nclients == 0)
		return v->client == -1;
	/* Asked before a reload that brought the blocks: the facts now. */
	return facts_ensure(s) == 0 && client_recheck_rules(r->cc.clients,
	    r->cc.nclients, v->client, s->facts);
}

void
got_verdict(struct session *s, struct verdict *v)
{
	struct conn	*bev;
	char			 path[CANON_PATH_MAX];
	char			 method[3 * RULE_METHOD_MAX];

	/* The body's round trip: the first verdict goes. */
	if (s->v != NULL) {
		verdict_clear(s->v);
		verdict_put(s->v);
	}
	s->v = v;
	if (v->early && s->body == NULL && early_take(s, v) == -1)
		return;
	/*
	 * The monitor principle, and a refusal is a 4xx/5xx (verdict.c).
	 * A body is asked for once, and an approval is of the body held
	 * (checked, its length) exactly when there is one.
	 */
	if (!verdict_check(v, verdict_rules(v)) ||
	    !verdict_client_ok(s, v) ||
	    (v->kind == VERDICT_BODY && s->body != NULL) ||
	    (v->kind == VERDICT_ALLOW && (s->body != NULL) != v->checked) ||
	    (v->checked && (s->body == NULL ||
	    v->length != evbuffer_get_length(s->body)))) {
		(void)canon_path_encode(v->method, method, sizeof(method));
		(void)canon_path_encode(v->path, path, sizeof(path));
		log_warnx("client=%s: verdict for %s %s failed the relay's "
		    "check; denied", s->peer, method, path);
		/* Nothing unchecked in the log line, and no reuse. */
		strlcpy(v->method, method, sizeof(v->method));
		v->why[0] = '\0';
		v->rule = -1;
		v->keepalive = 0;
		v->client = -2;		/* none we can name */
		v->client_name[0] = '\0';
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
	case VERDICT_BODY:
		body_start(s);
		return;
	case VERDICT_ALLOW:
		break;
	}
	if (!v->hasmac) {
		reply_error(s, 503, "the policy worker gave no approval");
		return;
	}
	vcache_put(s, v);
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

/* A decimal fact. */
static int
fact_u(struct ident *f, const char *key, unsigned long v)
{
	char	 buf[24];

	snprintf(buf, sizeof(buf), "%lu", v);
	return ident_add(f, key, buf);
}

/* A unix peer: SO_PEERCRED, and every supplementary group. */
static int
facts_unix(struct ident *f, int fd)
{
	struct ucred	 cred;
	socklen_t	 cl = sizeof(cred), gl;
	gid_t		 g[IDENT_ATTRS_MAX];
	size_t		 i;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) == -1 ||
	    fact_u(f, "unix.uid", cred.uid) == -1 ||
	    fact_u(f, "unix.gid", cred.gid) == -1 ||
	    fact_u(f, "unix.pid", (unsigned long)cred.pid) == -1)
		return -1;
	/* More groups than an ident holds: no facts (ERANGE), not some. */
	gl = sizeof(g);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &gl) == -1)
		return -1;
	for (i = 0; i < gl / sizeof(g[0]); i++)
		if (fact_u(f, "unix.group", g[i]) == -1)
			return -1;
	return 0;
}

/*
 * The facts client blocks are matched against (moatd.h): the TLS ident,
 * the listener, the peer.  All of them or none: a fact left out could
 * make an earlier block not hold and a later, wider one hold.
 */
static struct ident *
facts_make(struct session *s)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sl = sizeof(ss);
	struct ident		*f;
	const char		*name = "";
	char			 host[INET6_ADDRSTRLEN];
	size_t			 i;
	int			 fd = conn_fd(s->c), rv = 0;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	for (i = 0; s->ident != NULL && i < s->ident->n && rv == 0; i++)
		rv = ident_add(f, s->ident->a[i].key, s->ident->a[i].value);
	if (s->lid >= 0 && (size_t)s->lid < r->cc.conf.nlisteners)
		name = r->cc.conf.listeners[s->lid].name;
	if (rv == 0)
		rv = fact_u(f, "listener.id", (unsigned long)s->lid);
	if (rv == 0 && name[0] != '\0')
		rv = ident_add(f, "listener.name", name);
	if (rv == 0 && getpeername(fd, (struct sockaddr *)&ss, &sl) == -1)
		rv = -1;
	if (rv == 0 && ss.ss_family == AF_INET)
		rv = ident_add(f, "peer.addr", inet_ntop(AF_INET,
		    &((struct sockaddr_in *)&ss)->sin_addr, host,
		    sizeof(host)));
	else if (rv == 0 && ss.ss_family == AF_INET6)
		rv = ident_add(f, "peer.addr", inet_ntop(AF_INET6,
		    &((struct sockaddr_in6 *)&ss)->sin6_addr, host,
		    sizeof(host)));
	else if (rv == 0 && ss.ss_family == AF_UNIX)
		rv = facts_unix(f, fd);
	if (rv == 0 && s->container_id[0] != '\0')
		rv = ident_add(f, "container.id", s->container_id);
	if (rv == -1) {
		ident_clear(f);
		free(f);
		return NULL;
	}
	return f;
}

/* The connection's facts and their encoding, once: 0, or -1. */
static int
facts_ensure(struct session *s)
{
	struct mbuf	 m;

	if (s->facts != NULL)
		return 0;
	if ((s->facts = facts_make(s)) == NULL)
		return -1;
	mbuf_init(&m);
	if (ident_encode(&m, s->facts) == -1 ||
	    (s->who = malloc(m.len)) == NULL) {
		mbuf_free(&m);
		ident_clear(s->facts);
		free(s->facts);
		s->facts = NULL;
		return -1;
	}
	memcpy(s->who, m.buf, m.len);
	s->wholen = m.len;
	mbuf_free(&m);
	return 0;
}

/*
 * With client blocks configured, the connection's facts: 0, or -1
 * (answered) when they cannot be had.  Without client blocks: nothing,
 * not even an allocation.
 */
static int
session_facts(struct session *s)
{
	if (r->cc.nclients == 0 || facts_ensure(s) == 0)
		return 0;
	log_warnx("client=%s: cannot tell which client block it is (more "
	    "than %d facts: TLS attributes, groups), refused", s->peer,
	    IDENT_ATTRS_MAX);
	reply_error(s, 503, "moatd cannot tell which client this is");
	return -1;
}

/*
 * The head to the policy worker, with the body held when it asked for it
 * (VERDICT_BODY); each time under a new counter.  On a first trip, the
 * bytes that followed the head, if any (ahead): a Content-Length body
 * that is all there is decided at once (v->early, early_take()).
 */
static void
ask_policy_ahead(struct session *s, const void *ahead, size_t aheadlen)
{
	struct mbuf	 m;
	const void	*body = NULL;
	size_t		 bodylen = 0;
	int		 hasbody = 0;

	if (!r->policy.open) {
		reply_error(s, 503, "policy worker unavailable");
		return;
	}
	if (s->body != NULL) {
		bodylen = evbuffer_get_length(s->body);
		body = evbuffer_pullup(s->body, -1);
		hasbody = 1;
	} else if (aheadlen > 0) {
		body = ahead;
		bodylen = aheadlen;
		hasbody = 2;
	}
	mbuf_init(&m);
	s->ctr = ++r->ctr;
	(void)policy_req_encode(&m, s->head, s->headlen, s->ctr, hasbody,
	    body, bodylen);
	/* Who is asking, with client blocks (policy_req_decode_who). */
	if (r->cc.nclients > 0 && s->who != NULL)
		mbuf_add_raw(&m, s->who, s->wholen);
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

void
ask_policy(struct session *s)
{
	ask_policy_ahead(s, NULL, 0);
}

static void
send_head(struct session *s, const char *head, size_t hl)
{
	struct evbuffer	*in = conn_input(s->c);
	size_t		 ahead;
	const char	*p;

	/* Kept for a second round trip with the body (VERDICT_BODY). */
	free(s->head);
	if ((s->head = malloc(hl)) == NULL) {
		s->headlen = 0;
		reply_error(s, 503, "out of memory");
		return;
	}
	memcpy(s->head, head, hl);
	s->headlen = hl;
	/* What followed the head, unparsed: a body, perhaps whole. */
	ahead = evbuffer_get_length(in) - hl;
	if (ahead > POLICY_AHEAD_MAX)
		ahead = POLICY_AHEAD_MAX;
	if (ahead == 0 || (p = (const char *)evbuffer_pullup(in,
	    hl + ahead)) == NULL) {
		ask_policy(s);
		return;
	}
	ask_policy_ahead(s, p + hl, ahead);
}

/*
 * A verdict on a body that came with its head (v->early): the body is
 * the first length bytes the client sent after the head, still in the
 * input (nothing is taken from it while the verdict is awaited); they
 * are held as a body read for the worker would be.  The forwarder sends
 * them only if their SHA-256 is the one the worker approved.  0, or -1
 * when s got its answer.
 */
static int
early_take(struct session *s, struct verdict *v)
{
	struct evbuffer	*in = conn_input(s->c);

	vcache_forget(s);
	if (v->length > evbuffer_get_length(in))
		return 0;	/* the relay's check refuses it */
	if (v->length > RELAY_BODIES_MAX - r->bodies) {
		log_warnx("client=%s: %zu bytes of request bodies held; "
		    "refused", s->peer, r->bodies);
		reply_error(s, 503, "too many request bodies held");
		return -1;
	}
	if ((s->body = evbuffer_new()) == NULL) {
		reply_error(s, 503, "out of memory");
		return -1;
	}
	evbuffer_remove_buffer(in, s->body, v->length);
	s->body_held = v->length;
	r->bodies += v->length;
	s->nin += v->length;
	s->req_remain = 0;
	s->req_done = 1;
	return 0;
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

/*
 * A unix peer's container, asked of the parent (which reads /proc): the
 * pidfd of the process that connected where the kernel has
 * SO_PEERPIDFD, else none and its pid.  Anything that fails here is "no
 * container", never a guess.
 */
static void
container_ask(struct session *s)
{
	struct ucred	 cred;
	socklen_t	 len;
	struct mbuf	 m;
	int		 fd = conn_fd(s->c), pidfd = -1;

	s->cid_state = CID_KNOWN;
	s->container_id[0] = '\0';
	len = sizeof(pidfd);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) == -1) {
		pidfd = -1;
		/* Only a kernel without it gets the pid instead: EINVAL
		 * from one with it says the connector is gone, and its pid
		 * may be another process's by now. */
		if (errno != ENOPROTOOPT) {
			log_debug("client=%s: SO_PEERPIDFD: %s; no container",
			    s->peer, strerror(errno));
			return;
		}
	}
	len = sizeof(cred);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1 ||
	    (pidfd == -1 && cred.pid <= 0)) {
		if (pidfd != -1)
			close(pidfd);
		return;
	}
	mbuf_init(&m);
	mbuf_add_u32(&m, cred.pid > 0 ? (uint32_t)cred.pid : 0);
	/* the pidfd is the channel's from here on */
	if (m.err || chan_compose(&r->parent, MSG_IDENT_PEER, s->id, pidfd,
	    m.buf, m.len) == -1) {
		mbuf_free(&m);
		return;
	}
	mbuf_free(&m);
	s->cid_state = CID_WAIT;
}

/*
 * Whether this head waits for the parent's word on the client's
 * container: only on a unix socket, under a configuration with a
 * container match, until the answer is in; bounded by "timeout head".
 * Asked once the first head is whole (not at accept): the process that
 * connected must still be there when its connection asks for something:
 * a connection whose connector has exited (it forked, left the socket to
 * its child and exited) has no container.
 */
static int
container_hold(struct session *s)
{
	if (s->cid_state == CID_KNOWN || !r->want_cid ||
	    strncmp(s->peer, "unix:", 5) != 0)
		return 0;
	if (s->cid_state == CID_UNASKED)
		container_ask(s);
	if (s->cid_state != CID_WAIT)
		return 0;
	if (!s->head_timing) {
		s->head_timing = 1;
		set_timer(s, r->cc.conf.head_timeout);
	}
	return 1;
}

/* The parent's answer (MSG_IDENT_CONTAINER): 64 hex digits, or none. */
void
session_container(uint32_t id, const void *data, size_t len)
{
	struct session	 key, *s;
	const char	*p = data;
	size_t		 i;

	if (len != 0 && len != CGROUP_ID_LEN)
		fatalx("bad container id from the parent");
	for (i = 0; i < len; i++)
		if (!((p[i] >= '0' && p[i] <= '9') ||
		    (p[i] >= 'a' && p[i] <= 'f')))
			fatalx("bad container id from the parent");
	/* A session gone meanwhile, and its id not yet reused: dropped. */
	key.id = id;
	if ((s = RB_FIND(sessions, &r->sessions, &key)) == NULL ||
	    s->cid_state != CID_WAIT)
		return;
	/* none: an empty message, whose data may be NULL */
	if (len > 0)
		memcpy(s->container_id, p, len);
	s->container_id[len] = '\0';
	s->cid_state = CID_KNOWN;
	/* Facts made before a reload brought a container match: again. */
	if (len > 0 && s->facts != NULL) {
		ident_clear(s->facts);
		free(s->facts);
		s->facts = NULL;
		free(s->who);
		s->who = NULL;
		s->wholen = 0;
	}
	log_debug("client=%s: container %s", s->peer,
	    len ? s->container_id : "none");
	if (s->state == S_HEAD)
		try_head(s);
}

static void
try_head(struct session *s)
{
	struct evbuffer	*in = conn_input(s->c);
	struct verdict	*v;
	size_t		 len, n, hl, max = r->cc.conf.limits.head_max;
	char		*p;

	if (s->state != S_HEAD || (len = evbuffer_get_length(in)) == 0)
		return;
	if (conn_ssl(s->c) == NULL && tls_on_plain(s, in, len))
		return;
	if (evbuffer_get_length(conn_output(s->c)) >= RELAY_HIGH) {
		/* The client does not read its answers: judge nothing more
		 * until they drain (client_write_cb). */
		conn_disable(s->c, EV_READ);
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
	/* A unix peer's container first: a fact of who it is. */
	if (container_hold(s))
		return;
	/* Client blocks: who it is, before the cache keys on it. */
	if (session_facts(s) == -1)
		return;
	/* The same bytes as a head approved before: no round trip. */
	if ((v = vcache_get(s, p, hl)) != NULL) {
		evbuffer_drain(in, hl);
		idle_del(s);
		got_verdict(s, v);
		return;
	}
	send_head(s, p, hl);
	evbuffer_drain(in, hl);
}

/*
 * Bytes that wait for their turn (a pipelined request while this one is
 * judged or answered) are bounded in every state: the read watermark
 * stops reading at RELAY_HIGH, and this stops it for good until the
 * session moves on (start_forward, next_request).  Records OpenSSL still
 * holds are read once reading resumes (conn.c), so nothing stalls there.
 */
static void
client_hold(struct session *s)
{
	if (evbuffer_get_length(conn_input(s->c)) >= RELAY_HIGH)
		conn_disable(s->c, EV_READ);
}

static void
client_read_cb(struct conn *bev, void *arg)
{
	struct session	*s = arg;

	switch (s->state) {
	case S_HEAD:
		try_head(s);
		break;
	case S_BODY:
		body_read(s);
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
client_write_cb(struct conn *bev, void *arg)
{
	struct session	*s = arg;

	switch (s->state) {
	case S_HEAD:
		/* Below the low mark again: judge what was held back. */
		if (!s->c_eof)
			conn_enable(s->c, EV_READ);
		try_head(s);
		break;
	case S_CLOSING:
		if (evbuffer_get_length(conn_output(s->c)) == 0)
			linger(s);
		break;
	case S_FORWARD:
		if (s->sp != NULL) {
			splice_writable(s);
			break;
		}
		if (!s->resp_started || s->resp_done || s->b == NULL)
			break;
		if (s->req_done)
			set_timer(s, 0);	/* the client reads: no stall */
		/* Below the mark again: what Docker sent meanwhile (maybe
		 * all of it, and its close) waits in the input buffer. */
		if (!s->b_eof)
			conn_enable(s->b, EV_READ);
		if (evbuffer_get_length(conn_input(s->b)) > 0 ||
		    s->b_eof)
			read_response(s);
		break;
	case S_PIPE:
		conn_enable(s->b, EV_READ);
		pipe_shutdown_check(s);
		break;
	default:
		break;
	}
}

static void
client_event_cb(struct conn *bev, short what, void *arg)
{
	struct session	*s = arg;

	/* Closing: a client that has read its answer and closed is done;
	 * one that only stopped sending still gets the rest of it. */
	if (s->state == S_CLOSING && (what & CONN_EOF) &&
	    !(what & CONN_ERROR)) {
		s->c_eof = 1;
		conn_disable(s->c, EV_READ);
		return;
	}
	if (s->state == S_CLOSING || s->state == S_LINGER) {
		session_free(s);
		return;
	}
	if (s->state == S_PIPE && (what & CONN_EOF)) {
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
	    (what & CONN_EOF) && !(what & CONN_ERROR)) {
		s->c_eof = 1;
		conn_disable(s->c, EV_READ);
		return;
	}
	if (s->state == S_FORWARD || s->state == S_PIPE) {
		s->status = s->status ? s->status : 499;
		log_request(s, "allow");
	}
	/* A client that half-closed still gets what we owe it. */
	if (s->state == S_HEAD && !(what & CONN_ERROR) &&
	    evbuffer_get_length(conn_output(s->c)) > 0) {
		s->c_eof = 1;
		end_request(s);
		close_after_flush(s);
		return;
	}
	session_free(s);
}

/* The peer as accept(2) gave it (no getpeername: one call less). */
static void
peer_name(int fd, const struct sockaddr_storage *ssp, socklen_t sl,
    char *buf, size_t len)
{
	struct sockaddr_storage	 ss = *ssp;
	struct ucred		 cred;
	socklen_t		 cl = sizeof(cred);
	char			 host[INET6_ADDRSTRLEN];

	strlcpy(buf, "-", len);
	if (sl < sizeof(sa_family_t))
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

void
session_new(struct listener *l, int fd, const struct sockaddr_storage *ss,
    socklen_t sl)
{
	struct session	*s;
	char		 peer[80];
	struct peer	*pc;
	int		 on = 1, cap;

	peer_name(fd, ss, sl, peer, sizeof(peer));
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
	/* TLS: the session starts once the handshake is through. */
	if (relay_tls_listener(l->id)) {
		if (relay_tls_accept(r->base, l->id, fd, s->peer,
		    r->cc.conf.head_timeout, session_tls_done, s) == -1)
			session_tls_done(s, NULL, "no TLS");
		return;
	}
	if ((s->c = relay_tls_client(r->base, l->id, fd)) == NULL) {
		session_tls_done(s, NULL, "no TLS");
		return;
	}
	session_start(s);
}

/* The TLS handshake of session_new's s is through, or has failed (its
 * socket is closed: relay_tls_accept). */
static void
session_tls_done(void *arg, struct ssl_st *ssl, const char *err)
{
	struct session	*s = arg;

	if (ssl == NULL) {
		r->nfds--;
		peer_put(s->pc);
		free(s);
		return;
	}
	s->ident = relay_tls_ident(ssl);
	if ((s->c = conn_new(r->base, SSL_get_fd(ssl), ssl)) == NULL)
		fatalx("%s: out of memory", __func__);
	session_start(s);
}

static void
session_start(struct session *s)
{
	conn_setcb(s->c, client_read_cb, client_write_cb, client_event_cb, s);
	conn_read_high(s->c, RELAY_HIGH);
	conn_write_low(s->c, RELAY_LOW);
	RB_INSERT(sessions, &r->sessions, s);
	r->nsessions++;
	s->state = S_HEAD;
	s->head_timing = 1;
	set_timer(s, r->cc.conf.head_timeout);
	conn_enable(s->c, EV_READ | EV_WRITE);
}
