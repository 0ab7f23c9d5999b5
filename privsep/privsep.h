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
 * Privilege separation, the layer between policy/ and daemon/: the
 * messages between processes and their framing, fd passing, channels on
 * a libevent loop, spawning children, privilege drop and the seccomp
 * sandbox (logging: log.h).  It may use policy/, never daemon/.
 */

#ifndef MOATD_PRIVSEP_H
#define MOATD_PRIVSEP_H

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>

#include "mbuf.h"

#define PARENT_FD	3	/* a re-exec'd child's channel to the parent */

/* What a message is (msg_hdr.type), between which processes. */
enum msg_type {
	MSG_NONE = 0,
	MSG_CTL_PROCFD,		/* parent -> relay/policy: peer channel, fd */
	MSG_CTL_DRAIN,		/* parent -> relays: stop accepting, finish */
	MSG_CFG_GLOBAL,		/* parent -> children: limits, timeouts */
	MSG_CFG_RULES,		/* parent -> children: one rule source */
	MSG_CFG_LISTENER,	/* parent -> relay: listener id, u32 shared; fd */
	MSG_CFG_DONE,		/* parent -> child: generation; ack back */
	MSG_CFG_CLIENT,		/* parent -> policy, relays: a client block */
	MSG_POLICY_REQ,		/* relay -> policy: peerid = session id */
	MSG_POLICY_VERDICT,	/* policy -> relay: peerid = session id */
	MSG_BACKEND_REQ,	/* forwarder -> parent: peerid = session id */
	MSG_BACKEND_FD,		/* parent -> forwarder: peerid = session; fd */
	MSG_BACKEND_ERR,	/* parent -> forwarder: u32 errno */
	MSG_LOG,		/* child -> parent: priority, text */
	MSG_CFG_TLS,		/* parent -> relay: one TLS context, chain */
	MSG_CFG_TLS_CA,		/* parent -> relay: its CA bundle */
	MSG_CFG_TLS_CRL,	/* parent -> relay: its CRLs */
	MSG_CFG_TLS_KEY,	/* parent -> ca: one private key */
	MSG_CTL_CAFD,		/* parent -> relay: channel to its ca; fd */
	MSG_CA_REQ,		/* relay -> ca: peerid = request id */
	MSG_CA_RES,		/* ca -> relay: peerid = request id */
	MSG_CTL_FWDFD,		/* parent -> relay: channel to its forwarder */
	MSG_FWD_KEY,		/* parent -> policy, forwarder: relay's key */
	MSG_FWD_OPEN,		/* relay -> forwarder: peerid = session id */
	MSG_FWD_STREAM,		/* forwarder -> relay: session id; fd */
	MSG_FWD_ERR,		/* forwarder -> relay: session id, u32 errno */
	MSG_CFG_SHARE,		/* parent -> relay: u32 relays; fd of the
				 * page of their counts (relay.c) */
	MSG_IDENT_PEER,		/* relay -> parent: session id; pidfd or none */
	MSG_IDENT_CONTAINER,	/* parent -> relay: session id, container id */
	MSG_WATCH_CFG,		/* parent -> watcher: u32 1 watch, 0 not */
	MSG_WATCH_OPEN,		/* watcher -> parent: u32 kind (WATCH_*) */
	MSG_WATCH_DATA,		/* parent -> watcher: peerid kind, bytes */
	MSG_WATCH_END,		/* parent -> watcher: peerid kind, u32 errno */
	MSG_WATCH_TABLE,	/* watcher -> policy: the container table */
	MSG_LEARN_CTL,		/* parent -> policy: u32 LEARN_* */
	MSG_LEARN_RULES,	/* policy -> parent: the rules learned, or
				 * nothing new (empty) */
	MSG_AUDIT,		/* relay -> parent: peerid priority, a
				 * request's log line, for "log file" */
	MSG_TYPE_MAX,
};

/*
 * The watcher's two streams from the Docker daemon (MSG_WATCH_OPEN's
 * kind, MSG_WATCH_DATA's and MSG_WATCH_END's peerid): the parent makes
 * a fixed request for each and pumps the answer's bytes, unparsed.
 * Every OPEN is answered by exactly one END, after its DATA.
 */
#define WATCH_EVENTS	1
#define WATCH_LIST	2
#define WATCH_READ_MAX	(64 * 1024)	/* bytes of one MSG_WATCH_DATA */

/*
 * moatd -learn FILE: the policy worker records every request it decides
 * (policy/learn.h) while LEARN_ON, and answers LEARN_SEND with the rules
 * text when it learned something since the last, an empty one if not;
 * the parent writes the text to the file as it came.
 */
#define LEARN_OFF	0
#define LEARN_ON	1
#define LEARN_SEND	2

/* MSG_CFG_SHARE: bytes of the page per relay (a cache line). */
#define SHARE_SLOTSZ	64

/* msg.c: imsg-like framing over a SOCK_STREAM socketpair */

#define MSG_HDRSZ	16
/*
 * Header included.  The largest is a request with its body for the policy
 * worker (BODY_LIMIT_MAX and a head: msg.c checks); the read buffer grows
 * for one and shrinks back after it.  A channel queues two of them.
 */
#define MSG_MAXSZ	(8 * 1024 * 1024 + 64 * 1024)
#define MSG_WQUEUE_MAX	(2 * MSG_MAXSZ + 4 * 1024 * 1024)
/* What a configuration message carries at most (a rules source, a TLS
 * file): the size messages had before request bodies came along. */
#define MSG_CFG_MAXSZ	(256 * 1024)

struct msg_hdr {
	uint32_t	 type;
	uint32_t	 len;		/* header included */
	uint32_t	 peerid;	/* session id, instance, ... */
	uint32_t	 flags;
#define MSGF_HASFD	0x1		/* one fd travels with this message */
};

struct msg {
	struct msg_hdr	 hdr;
	int		 fd;		/* -1 if none */
	uint8_t		*data;		/* hdr.len - MSG_HDRSZ bytes */
	size_t		 datalen;
};

struct msgout;

struct msgbuf {
	int		 fd;
	int		 allow_fdpass;	/* opt-in, per channel */
	uint8_t		*rbuf;
	size_t		 roff;		/* first byte not yet parsed */
	size_t		 rlen;
	size_t		 rsize;
	int		 rerr;		/* sticky protocol error */
	int		*rfds;		/* received fds, in order */
	size_t		 nrfds;
	struct msgout	*whead;		/* write queue */
	struct msgout	*wtail;
	size_t		 wqueued;	/* bytes */
};

void	msgbuf_init(struct msgbuf *, int fd, int allow_fdpass);
void	msgbuf_clear(struct msgbuf *);	/* frees, closes pending fds */
/*
 * Read what is there: >0 bytes read, 0 EOF, -1 error (errno; EAGAIN, or
 * ENOBUFS when more than a message is buffered: drain with msg_get).
 */
ssize_t	msgbuf_read(struct msgbuf *);
/*
 * 1 a message, 0 need more, -1 protocol error (bad size, fd misuse).  A
 * message flagged MSGF_HASFD whose fd the kernel dropped because our
 * descriptor table was full comes with fd -1: refuse what it was for.
 */
int	msg_get(struct msgbuf *, struct msg *);
void	msg_free(struct msg *);	/* frees data; closes fd if still >= 0 */
/*
 * Queue a message (data is copied); fd (or -1) belongs to the layer from
 * here on: closed once sent, by msgbuf_clear(), or at once on failure.
 * 0, or -1: EMSGSIZE (over MSG_MAXSZ), ENOBUFS (queue over MSG_WQUEUE_MAX),
 * EINVAL (an fd on a channel without fd passing).
 */
int	msg_compose(struct msgbuf *, uint32_t type, uint32_t peerid, int fd,
	    const void *data, size_t len);
/* Write queued messages: 1 all written, 0 some left (EAGAIN), -1 error. */
int	msgbuf_flush(struct msgbuf *);
/* Block until everything is written (poll). 0 or -1. */
int	msgbuf_flush_sync(struct msgbuf *);

/* drop.c: demotion */

struct moat_user {
	uid_t	 uid;
	gid_t	 gid;
	char	 name[64];
};

/* Look the user up (before any chroot).  -1 if unknown, uid 0 or gid 0. */
int	drop_lookup_user(const char *name, struct moat_user *);
/*
 * Make sure dir is an absolute path whose every component is a directory
 * owned by root and not group/other writable, and that dir is empty.
 * With create, missing components are made 0755 root:root.  0 or -1.
 */
int	drop_check_chroot(const char *dir, int create);
/* chroot, chdir /, setgroups, setresgid, setresuid, verify; fatal on any
 * failure.  Then rlimits and no_new_privs. */
void	drop_privileges(const struct moat_user *, const char *chrootdir);

/*
 * proc.c: the process table.  Every child process has a role; the table
 * says per role its name (-P name), how many run (one, or one per relay),
 * and what crosses its channel to the parent: the messages it may send
 * there (anything else, or a descriptor with any but those that may carry
 * one, and the parent kills it), and
 * those it may receive from there, with or without a descriptor
 * (anything else is fatal in the child).  Its seccomp allow-list is
 * sandbox.c's, indexed by the same role; its entry point is daemon/'s
 * (main.c).  Values are in moatd(8)'s SANDBOX order.
 */
enum proc_role {
	PROC_POLICY,
	PROC_RELAY,
	PROC_CA,		/* the key holder: the common list only */
	PROC_FORWARDER,		/* the Docker writer: a libevent loop */
	PROC_WATCHER,		/* the container table: a libevent loop */
	PROC_NROLES
};

/* The role's name ("relay"), or NULL past the last role. */
const char	*proc_role_name(enum proc_role);
/* The role of that name, or -1. */
int		 proc_role_lookup(const char *);
/* 1 if one runs per relay (instances 0 to prefork - 1), 0 if one only. */
int		 proc_per_relay(enum proc_role);
/* 1 if a process of role may send the parent type (with an fd if has_fd). */
int		 proc_may_send(enum proc_role, uint32_t type, int has_fd);
/* 1 if the parent may send role type (with an fd if has_fd). */
int		 proc_may_recv(enum proc_role, uint32_t type, int has_fd);
/* Between children: may a role send another this (with a descriptor)?
 * The receiver asks, and drops a peer that sends anything else. */
int		 proc_peer_may_send(enum proc_role from, enum proc_role to,
		    uint32_t type, int has_fd);
/* In a child: fatal unless the parent may send it m (proc_may_recv). */
void		 proc_recv_check(enum proc_role, const struct msg *);

/* sandbox.c: seccomp-bpf, one allow-list per role */

/* Install the filter for role; fatal on failure.  In debug mode
 * (MOATD_SECCOMP_DEBUG set at start) a blocked call is reported by name
 * before the process exits; otherwise the kernel kills the process. */
void	sandbox_enter(enum proc_role);

/* chan.c: a message channel on a libevent loop */

struct event_base;
struct event;
struct chan;

typedef void	(*chan_dispatch_fn)(struct chan *, struct msg *, void *);
typedef void	(*chan_closed_fn)(struct chan *, void *);

struct chan {
	struct msgbuf		 mb;
	struct event		*rev;
	struct event		*wev;
	struct event		*fev;		/* flush at the end of a pass */
	chan_dispatch_fn	 dispatch;
	chan_closed_fn		 closed;
	void			*arg;
	const char		*name;
	int			 open;
};

void	chan_init(struct chan *, struct event_base *, int fd, int allow_fd,
	    const char *name, chan_dispatch_fn, chan_closed_fn, void *);
/* Queue and try to send at once; fd is closed once sent.  0 or -1. */
int	chan_compose(struct chan *, uint32_t type, uint32_t peerid, int fd,
	    const void *, size_t);
void	chan_close(struct chan *);
/* A peer channel the parent passed (m->fd, fatal if none) replaces ch. */
void	chan_replace(struct chan *ch, struct event_base *, struct msg *m,
	    int allow_fd, const char *name, chan_dispatch_fn, chan_closed_fn);
/* A message of one u32 (MSG_BACKEND_ERR, MSG_FWD_ERR, MSG_CTL_DRAIN), and
 * its reader: 0, or -1 for any other payload. */
int	chan_compose_u32(struct chan *, uint32_t type, uint32_t peerid,
	    uint32_t);
int	msg_get_u32(const struct msg *, uint32_t *);
/* The name of a message type, for logs ("an unknown message" if none). */
const char	*msg_type_name(uint32_t);

/* proc.c: spawning children, and what every child does first */

struct moat_child_args {
	const char	*self;		/* absolute path of our executable */
	enum proc_role	 role;
	int		 instance;
	int		 foreground;
	int		 log_level;
	const char	*user;
	const char	*chroot;
};

/* fork, put chanfd on PARENT_FD, close the rest, re-exec self. */
pid_t	proc_spawn(const struct moat_child_args *, int chanfd);
/* In the child: title, logging to the parent, privilege drop. */
void	proc_child_init(const char *title, int instance, int foreground,
	    const char *user, const char *chroot);
/* Route log records to the parent over this channel (not foreground). */
void	proc_log_to(struct chan *);
/* A libevent child's start (relay, forwarder): logging, SIGPIPE, the
 * privilege drop, its event base and parent channel (the child exits
 * when it closes).  Returns the descriptors it may hold. */
int	proc_event_child(const char *title, int instance, int foreground,
	    int log_level, const char *user, const char *chroot,
	    struct event_base **, struct chan *parent, chan_dispatch_fn);
/* The same for a poll-loop child (policy, ca): queue one on mb. */
void	proc_log_send(struct msgbuf *, int, const char *);

/*
 * ploop.c: the poll(2) loop of a child without libevent (the policy
 * worker, the ca), whose seccomp list allows poll and no epoll: its
 * channel to the parent and a fixed number of peer channel slots.  Each
 * pass reads the parent's channel first (configuration and keys before
 * requests that need them), then each peer's, then writes what is
 * queued.  When the parent's channel closes, fails or breaks the
 * protocol, the process exits: the parent is gone or broken.  A peer's
 * channel that does is closed, and its slot waits for the next.
 */
struct ploop;

/* slot -1 is the parent; a callback may close any slot, even its own. */
typedef void	(*ploop_dispatch_fn)(struct ploop *, int slot, struct msg *,
		    void *);

/* A loop over the parent channel on fd (fd passing on) and nslots peers. */
struct ploop	*ploop_new(int fd, int nslots, ploop_dispatch_fn, void *);
/* Put a peer channel (no fd passing) in slot, closing what was there. */
void		 ploop_add(struct ploop *, int slot, int fd,
		    ploop_dispatch_fn, void *);
void		 ploop_close(struct ploop *, int slot);
/* The channel of slot (-1: the parent) to queue on, or NULL if closed. */
struct msgbuf	*ploop_chan(struct ploop *, int slot);
/* Queue out (an answer) on a peer's slot; a peer that cannot take it is
 * closed: 0 or -1. */
int		 ploop_reply(struct ploop *, int slot, uint32_t type,
		    uint32_t peerid, const struct mbuf *);
/* Dispatch what the parent sent so far, without waiting (a ca asked for
 * a key that may be on its way). */
void		 ploop_read_parent(struct ploop *);
/* Run until the parent goes, then exit(0). */
__attribute__((__noreturn__)) void	ploop_run(struct ploop *);

/* One entry of a role's allow-list, as moatd(8) prints it. */
struct sandbox_entry {
	const char	*list;		/* the list it is part of: "common" */
	const char	*sys;		/* the system call */
	int		 nr;		/* its number here; negative: none */
	int		 errnum;	/* 0: allowed; else it fails so */
	const char	*cond;		/* the argument test; NULL: any */
};

/* Entry n of role's list into *e: 0, or -1 past its end. */
int		 sandbox_entry(enum proc_role, size_t,
		    struct sandbox_entry *);

#endif /* MOATD_PRIVSEP_H */
