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
 * The private header of the daemon: messages between processes, the
 * configuration, and the relay-side helpers.
 */

#ifndef MOATD_H
#define MOATD_H

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "policy.h"
#include "privsep.h"

#define PARENT_FD	3	/* a re-exec'd child's channel to the parent */

enum msg_type {
	MSG_NONE = 0,
	MSG_CTL_PROCFD,		/* parent -> relay/policy: peer channel, fd */
	MSG_CTL_DRAIN,		/* parent -> relays: stop accepting, finish */
	MSG_CFG_GLOBAL,		/* parent -> children: limits, timeouts */
	MSG_CFG_RULES,		/* parent -> children: one rule source */
	MSG_CFG_LISTENER,	/* parent -> relay: listener id; fd */
	MSG_CFG_DONE,		/* parent -> child: generation; ack back */
	MSG_POLICY_REQ,		/* relay -> policy: peerid = session id */
	MSG_POLICY_VERDICT,	/* policy -> relay: peerid = session id */
	MSG_BACKEND_REQ,	/* relay -> parent: peerid = session id */
	MSG_BACKEND_FD,		/* parent -> relay: peerid = session id; fd */
	MSG_BACKEND_ERR,	/* parent -> relay: peerid = session id */
	MSG_LOG,		/* child -> parent: priority, text */
	MSG_TYPE_MAX,
};

/* chunked.c: a strict, incremental parser for chunked bodies */

#define CHUNKED_DIGITS_MAX	16	/* hex digits in chunk-size: uint64 */
#define CHUNKED_LINE_MAX	64	/* size line, extensions and CRLF */

struct chunked {
	int		 state;
	uint64_t	 remain;	/* data bytes left in this chunk */
	size_t		 linelen;	/* bytes in the current size/trailer line */
	int		 ndigits;
};

void	chunked_init(struct chunked *);
/*
 * Consume up to len bytes of a chunked body.  Returns how many bytes were
 * consumed (all of them belong to the body and may be forwarded as they
 * are), sets *done once the last chunk and the empty trailer line are
 * through, or returns -1 on a framing error (the connection must close).
 * Bytes after the end are not consumed.
 */
ssize_t	chunked_feed(struct chunked *, const uint8_t *, size_t, int *done);

/* response.c: the daemon's (trusted, still bounded) response heads */

enum resp_framing {
	RESP_NONE = 0,		/* no body (HEAD, 1xx, 204, 304) */
	RESP_LENGTH,
	RESP_CHUNKED,
	RESP_EOF,		/* until the daemon closes */
};

struct http_response {
	int			 status;
	int			 minor;
	enum resp_framing	 framing;
	uint64_t		 length;
	int			 close;		/* Connection: close or 1.0 */
	int			 raw_stream;	/* vnd.docker.raw-stream/multiplexed */
	int			 upgrade;	/* 101 */
};

/*
 * Parse a complete response head; head_request says the request was
 * HEAD.  0, or -1 if the daemon's answer cannot be framed.
 */
int	http_parse_response(const char *, size_t, int head_request,
	    struct http_response *);

/* config.c: what the command line (and later the config file) says */

#define MOAT_ADDR_MAX		256
#define MOAT_LISTENERS_MAX	16
#define MOAT_PREFORK_MAX	64

enum addr_kind {
	ADDR_UNIX = 1,
	ADDR_TCP,
	ADDR_SYSTEMD,		/* a socket systemd passed (LISTEN_FDS) */
};

struct moat_addr {
	enum addr_kind	 kind;
	char		 text[MOAT_ADDR_MAX];	/* as the user wrote it */
	char		 path[108];		/* ADDR_UNIX */
	char		 host[MOAT_ADDR_MAX];	/* ADDR_TCP, no brackets */
	char		 port[8];
	char		 sdname[64];		/* ADDR_SYSTEMD: FileDescriptorName */
};

struct moat_listener {
	int		 id;
	struct moat_addr addr;
	int		 fd;
	/* unix listeners: who may connect */
	int		 owner_set;
	uid_t		 owner;
	int		 group_set;
	gid_t		 group;
	mode_t		 mode;			/* default 0660 */
};

struct rule_source {
	char		*name;
	char		*text;
	size_t		 len;
};

struct moat_config {
	int			 log_level;
	int			 foreground;
	int			 prefork;
	int			 builtin;
	char			 user[64];
	char			 chroot[256];
	struct moat_addr	 backend;
	struct moat_listener	 listeners[MOAT_LISTENERS_MAX];
	size_t			 nlisteners;
	struct rule_source	*sources;
	size_t			 nsources;
	struct http_limits	 limits;
	int			 head_timeout;	/* seconds */
	int			 idle_timeout;
	int			 drain_timeout;
	char			 pidfile[256];	/* only when daemonised */
};

void	config_defaults(struct moat_config *);
void	config_free(struct moat_config *);
/* Parse "unix:///path" or "tcp://host:port" ("[v6]:port").  0 or -1. */
int	config_parse_addr(const char *, struct moat_addr *, const char **);
int	config_add_rules_text(struct moat_config *, const char *name,
	    const char *text);
int	config_add_rules_file(struct moat_config *, const char *path);
/* Compile every source into a new ruleset; NULL (errors logged) if any
 * rule is invalid. */
struct ruleset	*config_ruleset(const struct moat_config *, rules_errfn, void *);
/* Parent side: send the global settings and the rule sources. */
int	config_send(struct msgbuf *, const struct moat_config *, uint32_t gen);
/* Child side: consume one MSG_CFG_* message; 1 when CFG_DONE completed
 * a new configuration (*rsp replaced), 0 otherwise, -1 on a bad one. */
struct child_config {
	struct moat_config	 conf;	/* only the global part is used */
	struct ruleset		*rs;	/* current */
	struct ruleset		*pending;
	uint32_t		 gen;
};
int	config_recv(struct child_config *, struct msg *);


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

/* proc.c: spawning children, and what every child does first */

struct moat_child_args {
	const char	*self;		/* absolute path of our executable */
	const char	*role;
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

/* verdict.c: the verdict on the wire */
int	verdict_encode(const struct verdict *, struct mbuf *);
int	verdict_decode(struct mbuf *, struct verdict *);

/* proc.c / parent.c / relay.c / worker.c: process entry points */
__attribute__((__noreturn__)) void	relay_main(const struct moat_config *, int instance);
__attribute__((__noreturn__)) void	policy_main(const struct moat_config *);
int	parent_main(struct moat_config *, char **argv);

#endif /* MOATD_H */
