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
 * The relay's private header: what relay.c (the process: channels,
 * listeners, accept, descriptors, drain), session.c (a client's
 * connection, request by request: heads, verdicts, answers of our own,
 * timers, closing) and forward.c (the bytes: the streams to the
 * forwarder, bodies, responses, the pipe after a 101) share.
 */

#ifndef RELAY_H
#define RELAY_H

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
/* libbsd's tree.h marks generated functions __unused, glibc lacks it. */
#ifndef __unused
#define __unused	__attribute__((__unused__))
#endif
#include <sys/tree.h>

#include <time.h>

#include "conn.h"
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
/* The verdict cache (vcache.c): entries, bytes, head size, lifetime. */
#define VCACHE_ENTRIES	256
#define VCACHE_BYTES	(1024 * 1024)
#define VCACHE_HEAD_MAX	(4 * 1024)
#define VCACHE_TTL	30
/*
 * Request bodies held for the policy worker (VERDICT_BODY), in all, per
 * relay: one more that would pass it gets a 503.
 */
#define RELAY_BODIES_MAX	(64 * 1024 * 1024)

enum sstate {
	S_HEAD,		/* reading a request head */
	S_POLICY,	/* waiting for the verdict */
	S_BODY,		/* reading a body the policy worker checks */
	S_BACKEND,	/* waiting for a Docker connection */
	S_FORWARD,	/* request body up, response down */
	S_PIPE,		/* hijacked: raw bytes both ways */
	S_CLOSING,	/* flushing a last answer */
	S_LINGER,	/* answer out, write side shut: dropping input */
};

struct backend {
	TAILQ_ENTRY(backend)	 entry;
	struct conn	*bev;
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
	/*
	 * With client blocks configured: the connection's facts (moatd.h,
	 * the TLS ident's and the peer's), made once, at its first request
	 * under such a configuration, and sent encoded (who) with each
	 * policy request.  NULL without client blocks.
	 */
	struct ident		*facts;
	uint8_t			*who;
	size_t			 wholen;
	enum sstate		 state;
	struct conn	*c;
	struct conn	*b;
	int			 b_pooled;
	uint32_t		 b_gen;
	int			 b_wfail;	/* Docker stopped taking the body */
	size_t			 stall_out;	/* answer bytes queued at the stall */
	struct event		*b_gone;	/* Docker closed: after its bytes */
	/* the session's one timeout (set_timer): a place on a timer list */
	TAILQ_ENTRY(session)	 t_entry;
	struct tlist		*tl;
	uint64_t		 deadline;	/* ms, CLOCK_MONOTONIC */
	int			 head_timing;
	struct verdict		*v;
	uint64_t		 ctr;		/* this request's, for its proof */
	char			*head;		/* as sent for the verdict */
	size_t			 headlen;
	struct evbuffer		*body;		/* held: VERDICT_BODY */
	size_t			 body_held;	/* counted in r->bodies */
	uint8_t			*vc_key;	/* a cache miss's key (vcache.c) */
	size_t			 vc_keylen;
	uint32_t		 vc_gen;
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
	/* closing after a whole request and its answer (linger()) */
	int			 quiet;
	int			 b_eof;
	uint64_t		 nin;
	uint64_t		 nout;
	uint64_t		 dropped;	/* read and dropped, closing */
	struct timespec		 t0;
	int			 status;
	struct rsplice		*sp;		/* a response body by splice */
	/* a unix peer's container: asked of the parent once, when the
	 * configuration has a container match; "" for none */
	int			 cid_state;	/* CID_* */
	char			 container_id[CGROUP_ID_LEN + 1];
};
RB_HEAD(sessions, session);

enum {
	CID_UNASKED = 0,
	CID_WAIT,	/* MSG_IDENT_PEER sent, the first request held */
	CID_KNOWN,	/* container_id is the answer */
};

struct listener {
	int		 id;
	int		 fd;
	struct event	*ev;
	struct event	*pause;
	int		 shared;	/* with the other relays (relay.c) */
	struct event	*defer;		/* stepping aside for SHARE_DEFER_MS */
	uint32_t	 since;		/* ms: first step aside, 0 none */
};

/* One relay's slot in the relays' page (relay.c accept_share). */
struct share_slot {
	uint32_t	 n;		/* its sessions */
	uint32_t	 ms;		/* when it wrote that, monotonic */
	char		 pad[SHARE_SLOTSZ - 8];
};

struct relay {
	int			 instance;
	struct event_base	*base;
	struct chan		 parent;
	struct chan		 policy;
	struct chan		 fwd;		/* to our forwarder */
	uint64_t		 ctr;		/* requests sent for a verdict */
	/* bytes held in s->body, all: a Content-Length counts whole from
	 * the start, a chunked body as it comes */
	size_t			 bodies;
	struct vcache		*vc;		/* approved heads (vcache.c) */
	struct child_config	 cc;
	struct listener		 listeners[MOAT_LISTENERS_MAX];
	size_t			 nlisteners;
	struct share_slot	*share;		/* nshare slots, or NULL */
	size_t			 nshare;
	/* a relay's ms when we last found it gone (accept_share) */
	uint32_t		 share_gone[MOAT_PREFORK_MAX];
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
	/* the running configuration has a "match container" line */
	int			 want_cid;
};

extern struct relay	*r;

RB_PROTOTYPE(sessions, session, entry, session_cmp)

/* session.c */
struct verdict	*verdict_get(void);
void	verdict_put(struct verdict *);
void	log_request(struct session *, const char *);
void	end_request(struct session *);
void	close_after_flush(struct session *);
void	reply_error(struct session *, int, const char *);
void	set_timer(struct session *, int);
void	next_request(struct session *);
void	session_free(struct session *);
void	request_backend(struct session *);
void	ask_policy(struct session *);
void	got_verdict(struct session *, struct verdict *);
/* A connection accept(2) gave, with the peer's address it gave. */
void	session_new(struct listener *, int, const struct sockaddr_storage *,
	    socklen_t);
void	session_container(uint32_t, const void *, size_t);

/* vcache.c */
struct vcache;
struct vcache	*vcache_new(size_t, size_t, int);
void	vcache_free(struct vcache *);
void	vcache_flush(struct vcache *);
size_t	vcache_count(const struct vcache *, size_t *);
const uint8_t	*vcache_key(struct vcache *, int, const struct ident *,
	    const void *, size_t, size_t *);
int	vcache_find(struct vcache *, uint32_t, time_t, const uint8_t *, size_t,
	    struct verdict *);
int	vcache_add(struct vcache *, uint32_t, time_t, const uint8_t *, size_t,
	    const struct verdict *);
struct verdict	*vcache_get(struct session *, const char *, size_t);
void	vcache_put(struct session *, const struct verdict *);
void	vcache_forget(struct session *);
void	vcache_reset(void);

/* forward.c */
void	pool_event_cb(struct conn *, short, void *);
struct conn	*pool_get(void);
void	pool_flush(void);
void	backend_release(struct session *, int);
void	start_forward(struct session *, struct conn *, int);
void	forward_body(struct session *);
void	read_response(struct session *);
void	pipe_move(struct session *, struct conn *,
	    struct conn *);
void	pipe_shutdown_check(struct session *);
void	backend_gone_cb(int, short, void *);
void	backend_fd(uint32_t, int, int);
void	response_done(struct session *);
void	body_start(struct session *);
void	body_read(struct session *);
void	body_free(struct session *);

/* splice.c */
int	splice_try(struct session *);
void	splice_stop(struct session *);
void	splice_writable(struct session *);
int	splice_stalled(struct session *);

/* relay.c */
int	fds_room(int);

#endif /* RELAY_H */
