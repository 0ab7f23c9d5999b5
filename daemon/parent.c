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
 * The parent: the only process that keeps root.  It opens the listening
 * sockets, spawns and supervises the policy worker, the relays, their
 * forwarders and the ca processes, wires their channels, hands them the
 * configuration, and opens every connection to the Docker socket on a
 * forwarder's request (never a relay's).  It never reads a byte a client
 * sent.
 */

#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <libutil.h>

#include <event2/event.h>

#include "moatd.h"

#define BACKOFF_MIN	1	/* seconds before restarting a lost child */
#define BACKOFF_MAX	30
#define STABLE_AFTER	60	/* a child up this long resets its back-off */
/*
 * A reload reaches forwarder i once relay i runs the new rules (its cache
 * of approvals emptied, vcache.c), or after this long whatever relay i
 * does: the forwarder then refuses the older generation's reusable
 * approvals (fwd.h), and a relay that does not answer cannot keep them.
 */
#define FWD_RELOAD_MS	1000

struct child {
	enum proc_role	 role;
	int		 instance;
	pid_t		 pid;
	struct chan	 ch;
	char		 name[32];
	time_t		 started;
	int		 backoff;
	struct event	*restart;
	int		 ready;
	int		 cfg_due;	/* forwarder: a reload waits for relay i */
};

/*
 * Every child in one array, in the order they start: the policy worker,
 * the cas (only with TLS keys), the forwarders, the relays.  Relay i
 * works with forwarder i and ca i.
 */
#define CHILDREN_MAX	(2 + 3 * MOAT_PREFORK_MAX)
static const enum proc_role start_order[] = {
	PROC_POLICY, PROC_WATCHER, PROC_CA, PROC_FORWARDER, PROC_RELAY
};

/*
 * The watcher's streams (watcher.c): the parent connects to the daemon,
 * writes one of these fixed requests, nothing of the watcher's in them,
 * and passes what comes back on unread.  Any container or network event
 * means "list again".
 */
static const char watch_req_events[] =
    "GET /events?filters=%7B%22type%22%3A%5B%22container%22%2C"
    "%22network%22%5D%7D HTTP/1.1\r\nHost: docker\r\n\r\n";
static const char watch_req_list[] =
    "GET /containers/json?all=1 HTTP/1.1\r\nHost: docker\r\n"
    "Connection: close\r\n\r\n";

struct wpump {
	uint32_t	 kind;		/* WATCH_EVENTS, WATCH_LIST */
	int		 fd;		/* -1: none open */
	struct event	*ev;
	const char	*req;
	size_t		 reqlen;
	size_t		 woff;		/* of req, written */
	int		 connecting;	/* TCP: connect not yet done */
};
#define FOREACH_CHILD(c) \
	for ((c) = p->children; (c) < p->children + p->nchildren; (c)++)

struct parent {
	struct moat_config	*conf;
	struct event_base	*base;
	struct child		 children[CHILDREN_MAX];
	int			 nchildren;
	int			 nca;	/* 0 without TLS keys */
	/* relay i's approvals, shared by the policy worker and forwarder i */
	uint8_t			 keys[MOAT_PREFORK_MAX][FWD_KEYLEN];
	char			 self[PATH_MAX];
	uint32_t		 gen;
	int			 stopping;
	struct event		*stop_timer;
	moat_reload_fn		 reload;
	int			 reloading;	/* acks outstanding */
	uint32_t		 ready_gen;	/* READY=1 sent for it */
	struct event		*fwd_cfg_timer;	/* FWD_RELOAD_MS */
	struct pidfh		*pidfh;
	int			 share_fd;	/* the relays' accept share */
	struct wpump		 pump[2];	/* the watcher's, by kind - 1 */
	int			 pump_tls_warned;
	/* log file: the relays' request lines (MSG_AUDIT), SIGUSR1 reopens */
	int			 audit_fd;
	char			 audit_path[256];
	/* moatd -learn: the file, asked for each second and at the end */
	struct event		*learn_timer;
	int			 learn_final;	/* 1 asked, 2 answered */
	int			 learn_failed;	/* warned of the file */
};

static struct parent	*p;

static void	child_start(struct child *);
static void	pump_close_all(int);
static void	stop_done_check(void);
static void	child_kill(struct child *, const char *);
static void	all_ready_check(void);
static void	send_config(struct child *, int);

static struct child *
child_find(enum proc_role role, int instance)
{
	struct child	*c;

	FOREACH_CHILD(c)
		if (c->role == role && (!proc_per_relay(role) ||
		    c->instance == instance))
			return c;
	return NULL;
}

/* The child is up and its channel open. */
static struct child *
child_up(enum proc_role role, int instance)
{
	struct child	*c = child_find(role, instance);

	return c != NULL && c->pid > 0 && c->ch.open ? c : NULL;
}

static void
timer_in(struct event *ev, int secs, int usecs)
{
	struct timeval	 tv = { secs, usecs };

	evtimer_add(ev, &tv);
}

static time_t
now_mono(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/*
 * The owner and group of a unix listener just bound, never by a path that
 * could have been swapped since (a symlink would lead chown elsewhere):
 * the file is opened without following a link, and must be a socket of
 * ours with the mode bind gave it and one link, or we stop.
 */
static int
socket_owner(struct moat_listener *l, mode_t mode)
{
	struct stat	 st;
	int		 fd, rv = -1;

	if ((fd = open(l->addr.path, O_PATH | O_NOFOLLOW | O_CLOEXEC)) ==
	    -1 || fstat(fd, &st) == -1) {
		log_warn("%s", l->addr.text);
		goto done;
	}
	if (!S_ISSOCK(st.st_mode) || st.st_uid != geteuid() ||
	    st.st_nlink != 1 || (st.st_mode & 07777) != mode) {
		log_warnx("%s: the socket just bound was replaced, or got "
		    "mode %04o", l->addr.text, (unsigned)(st.st_mode & 07777));
		goto done;
	}
	if ((l->owner_set || l->group_set) && fchownat(fd, "",
	    l->owner_set ? l->owner : (uid_t)-1,
	    l->group_set ? l->group : (gid_t)-1, AT_EMPTY_PATH) == -1) {
		log_warn("%s: chown", l->addr.text);
		goto done;
	}
	rv = 0;
 done:
	if (fd != -1)
		close(fd);
	return rv;
}

static int
listen_unix(struct moat_listener *l)
{
	struct sockaddr_un	 sun;
	mode_t			 mask, mode = l->mode ? l->mode : 0660;
	int			 fd, probe, rv;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strlcpy(sun.sun_path, l->addr.path, sizeof(sun.sun_path));
	/* A live socket belongs to someone else: refuse, do not steal it. */
	if ((probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (connect(probe, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		close(probe);
		log_warnx("%s: address already in use (is another moatd "
		    "running?)", l->addr.text);
		return -1;
	}
	close(probe);
	(void)unlink(l->addr.path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	/* The mode comes with the file: bind applies the umask. */
	mask = umask(~mode & 0777);
	rv = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	(void)umask(mask);
	if (rv == -1) {
		log_warn("%s", l->addr.text);
		close(fd);
		return -1;
	}
	if (socket_owner(l, mode) == -1) {
		close(fd);
		return -1;
	}
	if (listen(fd, 511) == -1) {
		log_warn("%s", l->addr.text);
		close(fd);
		return -1;
	}
	return fd;
}

/* A TCP socket bound to ai, SO_REUSEPORT with reuse; -1 (errno). */
static int
bind_tcp(const struct sockaddr *sa, socklen_t len, int reuse)
{
	int	 fd, on = 1;

	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (sa->sa_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on,
		    sizeof(on));
	if ((reuse && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on,
	    sizeof(on)) == -1) || bind(fd, sa, len) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * The address is held here, bound but not listening: each relay gets a
 * listening socket of its own on it (relay_listener), bound with
 * SO_REUSEPORT, so that the kernel hands every relay its share of
 * connections and a relay that dies takes its socket with it.  The
 * holder has SO_REUSEADDR and not SO_REUSEPORT: the relays' sockets may
 * bind next to it (it does not listen), and a second moatd's holder may
 * not bind next to listening ones ("address already in use", as before).
 */
static int
listen_tcp(struct moat_listener *l)
{
	struct addrinfo	 hints, *res;
	int		 fd, e;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	e = getaddrinfo(l->addr.host[0] ? l->addr.host : NULL, l->addr.port,
	    &hints, &res);
	if (e != 0) {
		log_warnx("%s: %s", l->addr.text, gai_strerror(e));
		return -1;
	}
	if ((fd = bind_tcp(res->ai_addr, res->ai_addrlen, 0)) == -1) {
		if (errno == EADDRINUSE)
			log_warnx("%s: address already in use (is another "
			    "moatd running?)", l->addr.text);
		else
			log_warn("%s", l->addr.text);
	}
	l->reuse = 1;
	freeaddrinfo(res);
	return fd;
}

/*
 * A relay's descriptor for listener l: a listening socket of its own on
 * a TCP address, else (and should that fail) a copy of the shared one
 * (*shared: 1, the relays share it by their accept share, relay.c).
 */
static int
relay_listener(struct moat_listener *l, uint32_t *shared)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);
	int			 fd;

	*shared = 0;
	if (l->reuse) {
		if (getsockname(l->fd, (struct sockaddr *)&ss, &len) == 0 &&
		    (fd = bind_tcp((struct sockaddr *)&ss, len, 1)) != -1) {
			if (listen(fd, 511) == 0)
				return fd;
			close(fd);
		}
		log_warn("%s: no listening socket of its own for a relay; "
		    "the relays share one", l->addr.text);
		if (!l->listening && listen(l->fd, 511) == -1)
			fatal("%s: listen", l->addr.text);
		l->listening = 1;
	}
	if ((fd = dup(l->fd)) == -1)
		fatal("dup");
	*shared = 1;
	return fd;
}

/*
 * The page in which the relays count their sessions, one SHARE_SLOTSZ
 * slot each, for listeners they share (relay.c accept_share).  A memfd:
 * the relays are exec'd.  No page with one relay: -1.
 */
static int
share_open(int prefork)
{
	int	 fd;

	if (prefork < 2)
		return -1;
	if ((fd = memfd_create("moatd-share", MFD_CLOEXEC)) == -1 ||
	    ftruncate(fd, (off_t)prefork * SHARE_SLOTSZ) == -1)
		fatal("%s", __func__);
	return fd;
}

static int
open_listeners(struct moat_config *c)
{
	size_t	 i;

	for (i = 0; i < c->nlisteners; i++) {
		struct moat_listener *l = &c->listeners[i];

		if (l->addr.kind == ADDR_SYSTEMD) {
			if (l->fd == -1) {
				log_warnx("%s: no such socket from systemd",
				    l->addr.text);
				return -1;
			}
			continue;
		}
		l->fd = (l->addr.kind == ADDR_UNIX) ? listen_unix(l) :
		    listen_tcp(l);
		if (l->fd == -1)
			return -1;
		log_info("listening on %s", l->addr.text);
	}
	return 0;
}

static void
close_listeners(struct moat_config *c)
{
	size_t	 i;

	for (i = 0; i < c->nlisteners; i++) {
		if (c->listeners[i].fd == -1)
			continue;
		close(c->listeners[i].fd);
		c->listeners[i].fd = -1;
		/* systemd owns its sockets' paths; ours we remove. */
		if (c->listeners[i].addr.kind == ADDR_UNIX)
			(void)unlink(c->listeners[i].addr.path);
	}
}

/*
 * Connect to the Docker daemon for a relay.  Non-blocking: a unix socket
 * whose backlog is full answers EAGAIN (we say 503 rather than wait), and
 * a TCP connect finishes in the relay.
 */
static int
backend_connect(int *err)
{
	struct moat_addr	*b = &p->conf->backend;
	struct sockaddr_un	 sun;
	struct addrinfo		 hints, *res;
	int			 fd, on = 1;

	if (b->kind == ADDR_UNIX) {
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		strlcpy(sun.sun_path, b->path, sizeof(sun.sun_path));
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		if (fd == -1 || connect(fd, (struct sockaddr *)&sun,
		    sizeof(sun)) == -1) {
			*err = errno;
			if (fd != -1)
				close(fd);
			return -1;
		}
		return fd;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if (getaddrinfo(b->host, b->port, &hints, &res) != 0) {
		*err = EHOSTUNREACH;
		return -1;
	}
	fd = socket(res->ai_family, res->ai_socktype | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1 || (connect(fd, res->ai_addr, res->ai_addrlen) == -1 &&
	    errno != EINPROGRESS)) {
		*err = errno;
		if (fd != -1)
			close(fd);
		freeaddrinfo(res);
		return -1;
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	freeaddrinfo(res);
	return fd;
}

static void
child_log(struct child *c, struct msg *m)
{
	struct mbuf	 r;
	uint32_t	 pri;
	char		 text[2048];

	mbuf_reader(&r, m->data, m->datalen);
	if (mbuf_get_u32(&r, &pri) == -1 ||
	    mbuf_get_str(&r, text, sizeof(text)) == -1 ||
	    mbuf_end(&r) == -1 || pri > LOG_DEBUG) {
		log_warnx("%s: bad log record", c->name);
		return;
	}
	log_emit_from(pri, c->name, text);
}

/* Forwarder i's share of a reload, if it waits for it (FWD_RELOAD_MS). */
static void
fwd_config_due(int i)
{
	struct child	*f = child_find(PROC_FORWARDER, i);

	if (f == NULL || !f->cfg_due)
		return;
	f->cfg_due = 0;
	if (f->ch.open)
		send_config(f, 0);
	all_ready_check();
}

static void
fwd_config_timeout_cb(int fd, short ev, void *arg)
{
	struct child	*c;

	FOREACH_CHILD(c)
		if (c->role == PROC_FORWARDER && c->cfg_due) {
			log_warnx("%s: relay[%d] took more than %d ms to "
			    "load configuration %u; its forwarder goes on",
			    c->name, c->instance, FWD_RELOAD_MS, p->gen);
			fwd_config_due(c->instance);
		}
}

/*
 * moatd -learn FILE: the policy worker's text, as it came (the parent
 * reads nothing in it), replaces the file: written beside it, then
 * renamed over it, so that a reader never sees half of one.  Empty: the
 * worker learned nothing new.
 */
static void
learn_write(const void *text, size_t len)
{
	const char	*file = p->conf->learn_file;
	char		 tmp[sizeof(p->conf->learn_file) + 8];
	ssize_t		 n;
	size_t		 off = 0;
	int		 fd;

	if (len == 0 || file[0] == '\0')
		return;
	(void)snprintf(tmp, sizeof(tmp), "%s.new", file);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0640)) == -1)
		goto fail;
	while (off < len) {
		if ((n = write(fd, (const char *)text + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			close(fd);
			goto fail;
		}
		off += n;
	}
	if (close(fd) == -1 || rename(tmp, file) == -1)
		goto fail;
	if (p->learn_failed)
		log_info("learn: %s written again", file);
	p->learn_failed = 0;
	return;
 fail:
	if (!p->learn_failed)
		log_warn("learn: %s", tmp);
	p->learn_failed = 1;
	(void)unlink(tmp);
}

#define AUDIT_LINE_MAX	4096

/*
 * log file "...": the relays' request lines, one a line, appended as
 * they came.  (Re)opened at start, on SIGHUP when the name changed, and
 * on SIGUSR1 (logrotate moved it away).  0, or -1 with the old file (or
 * none) kept.
 */
static int
audit_open(void)
{
	const char	*path = p->conf->log_file;
	int		 fd;

	if (path[0] == '\0') {
		if (p->audit_fd != -1)
			close(p->audit_fd);
		p->audit_fd = -1;
		p->audit_path[0] = '\0';
		return 0;
	}
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW, 0640)) == -1) {
		log_warn("log file %s", path);
		return -1;
	}
	if (p->audit_fd != -1)
		close(p->audit_fd);
	p->audit_fd = fd;
	strlcpy(p->audit_path, path, sizeof(p->audit_path));
	return 0;
}

/* A request's line from relay c: written as it came, if it is one line. */
static void
audit_write(struct child *c, struct msg *m)
{
	struct iovec	 iov[2];

	if (m->datalen == 0 || m->datalen > AUDIT_LINE_MAX ||
	    memchr(m->data, '\n', m->datalen) != NULL ||
	    memchr(m->data, '\0', m->datalen) != NULL) {
		child_kill(c, "a bad audit line");
		return;
	}
	if (p->audit_fd == -1)
		return;
	iov[0].iov_base = m->data;
	iov[0].iov_len = m->datalen;
	iov[1].iov_base = "\n";
	iov[1].iov_len = 1;
	if (writev(p->audit_fd, iov, 2) == -1)
		log_warn("log file %s", p->audit_path);
}

static void
sigusr1_cb(int sig, short ev, void *arg)
{
	if (audit_open() == 0 && p->audit_fd != -1)
		log_info("log file %s reopened", p->audit_path);
}

#define LEARN_EMPTY	"! Learned by moatd: no request yet.\n"

/* Each second: what the policy worker learned, if anything. */
static void
learn_timer_cb(int fd, short ev, void *arg)
{
	struct child	*c = child_up(PROC_POLICY, -1);

	if (c != NULL && c->ready)
		(void)chan_compose_u32(&c->ch, MSG_LEARN_CTL, 0, LEARN_SEND);
	timer_in(p->learn_timer, 1, 0);
}

/*
 * At the end, once the relays are gone: ask the policy worker for what
 * it learned last, and wait for it (1) unless it is gone or answered.
 */
static int
learn_final_wait(void)
{
	struct child	*c = child_up(PROC_POLICY, -1);

	if (p->conf->learn_file[0] == '\0' || c == NULL ||
	    p->learn_final == 2)
		return 0;
	if (p->learn_final == 0) {
		if (chan_compose_u32(&c->ch, MSG_LEARN_CTL, 0, LEARN_SEND) ==
		    -1)
			return 0;
		p->learn_final = 1;
	}
	return 1;
}

/* A compromised or broken child: kill it. */
static void
child_kill(struct child *c, const char *what)
{
	log_warnx("%s: sent %s, which it may not: killing it", c->name, what);
	kill(c->pid, SIGKILL);
	chan_close(&c->ch);
	if (c->role == PROC_WATCHER)
		pump_close_all(-1);
}

/*
 * The watcher's byte pump.  A stream ends with MSG_WATCH_END (err: its
 * errno, 0 for the daemon's EOF; -1: the watcher is gone, nothing is
 * sent).  An END that cannot be queued leaves a watcher that no longer
 * reads its channel: it is restarted.
 */
static void
pump_close(struct wpump *w, int err)
{
	struct child	*c = child_find(PROC_WATCHER, -1);

	if (w->fd == -1)
		return;
	event_free(w->ev);
	w->ev = NULL;
	close(w->fd);
	w->fd = -1;
	if (err == -1 || c == NULL || !c->ch.open)
		return;
	if (chan_compose_u32(&c->ch, MSG_WATCH_END, w->kind, err) == -1) {
		log_warn("%s: stream end", c->name);
		kill(c->pid, SIGKILL);
		chan_close(&c->ch);
		pump_close_all(-1);
	}
}

static void
pump_close_all(int err)
{
	pump_close(&p->pump[0], err);
	pump_close(&p->pump[1], err);
}

static void
pump_read(struct wpump *w)
{
	static uint8_t	 buf[WATCH_READ_MAX];
	struct child	*c = child_find(PROC_WATCHER, -1);
	ssize_t		 n;

	if ((n = read(w->fd, buf, sizeof(buf))) == -1) {
		if (errno != EAGAIN && errno != EINTR)
			pump_close(w, errno);
		return;
	}
	if (n == 0) {
		pump_close(w, 0);
		return;
	}
	/* A watcher that does not keep up: the stream ends, it lists again. */
	if (c == NULL || chan_compose(&c->ch, MSG_WATCH_DATA, w->kind, -1,
	    buf, n) == -1)
		pump_close(w, ENOBUFS);
}

static void
pump_cb(int fd, short what, void *arg)
{
	struct wpump	*w = arg;
	socklen_t	 len = sizeof(int);
	ssize_t		 n;
	int		 err = 0;

	if (w->connecting) {
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
			err = errno;
		if (err != 0) {
			pump_close(w, err);
			return;
		}
		w->connecting = 0;
	}
	if (w->woff == w->reqlen) {
		pump_read(w);
		return;
	}
	if ((n = write(fd, w->req + w->woff, w->reqlen - w->woff)) == -1) {
		if (errno != EAGAIN && errno != EINTR)
			pump_close(w, errno);
		return;
	}
	if ((w->woff += n) < w->reqlen)
		return;
	/* The request is out: from now on, only reads. */
	event_free(w->ev);
	if ((w->ev = event_new(p->base, fd, EV_READ | EV_PERSIST, pump_cb,
	    w)) == NULL)
		fatalx("event_new");
	event_add(w->ev, NULL);
}

/* MSG_WATCH_OPEN: a new stream of this kind, in place of the last. */
static void
pump_open(struct child *c, struct msg *m)
{
	struct wpump	*w;
	uint32_t	 kind;
	int		 err = 0;

	if (msg_get_u32(m, &kind) == -1 || (kind != WATCH_EVENTS &&
	    kind != WATCH_LIST)) {
		child_kill(c, "a bad stream");
		return;
	}
	w = &p->pump[kind - 1];
	w->kind = kind;
	pump_close(w, ECANCELED);
	if (!client_uses_table(p->conf->clients, p->conf->nclients))
		err = ECANCELED;	/* a reload turned it off meanwhile */
	else if (p->conf->backend_tls.enabled) {
		if (!p->pump_tls_warned)
			log_warnx("watcher: the backend speaks TLS; container "
			    "names, labels and TCP peers' containers need a "
			    "plain backend");
		p->pump_tls_warned = 1;
		err = EPROTONOSUPPORT;
	} else if ((w->fd = backend_connect(&err)) == -1)
		log_debug("watcher: backend %s: %s", p->conf->backend.text,
		    strerror(err));
	if (w->fd == -1) {
		if (chan_compose_u32(&c->ch, MSG_WATCH_END, kind, err) == -1)
			child_kill(c, "nothing: its channel is full");
		return;
	}
	w->req = kind == WATCH_EVENTS ? watch_req_events : watch_req_list;
	w->reqlen = strlen(w->req);
	w->woff = 0;
	w->connecting = p->conf->backend.kind != ADDR_UNIX;
	if ((w->ev = event_new(p->base, w->fd, EV_WRITE | EV_PERSIST, pump_cb,
	    w)) == NULL)
		fatalx("event_new");
	event_add(w->ev, NULL);
}

/*
 * A relay's unix peer (MSG_IDENT_PEER: its pidfd, or none and its pid):
 * its container, read from /proc (cgroup.c), never from the client.  The
 * answer, "" for none, goes back under the session's id.
 */
static void
ident_peer(struct child *c, struct msg *m)
{
	char		 id[CGROUP_ID_LEN + 1];
	const char	*why = NULL;
	uint32_t	 pid;

	if (msg_get_u32(m, &pid) == -1 || pid > INT32_MAX) {
		child_kill(c, "a bad peer identity");
		return;
	}
	if (m->fd == -1 && cgroup_have_peerpidfd()) {
		/* A relay always has a pidfd here: a bare pid could name
		 * any process, and asking for one is not a relay's to do. */
		id[0] = '\0';
		log_debug("%s: session %u: unix peer pid %u: no container: no "
		    "pidfd", c->name, m->hdr.peerid, pid);
	} else if (cgroup_peer_container(m->fd, (pid_t)pid, id, &why) == -1)
		log_debug("%s: session %u: unix peer pid %u%s: no container: "
		    "%s", c->name, m->hdr.peerid, pid,
		    m->fd == -1 ? " (no pidfd)" : "", why);
	if (m->fd != -1) {
		close(m->fd);
		m->fd = -1;
	}
	(void)chan_compose(&c->ch, MSG_IDENT_CONTAINER, m->hdr.peerid, -1,
	    id, strlen(id));
}

/*
 * What a child may send, as OpenSSH's monitor, is the process table's
 * say (proc_may_send): a forwarder asks for backend connections, a
 * relay for a unix peer's container (with its pidfd, the only descriptor
 * a child sends), all ack configurations and log.
 */
static void
child_dispatch(struct chan *ch, struct msg *m, void *arg)
{
	struct child	*c = arg;
	int		 fd, err = 0;

	if (!proc_may_send(c->role, m->hdr.type, m->fd != -1)) {
		child_kill(c, m->fd != -1 ? "a descriptor" :
		    msg_type_name(m->hdr.type));
		return;
	}
	switch (m->hdr.type) {
	case MSG_LOG:
		child_log(c, m);
		return;
	case MSG_CFG_DONE:
		if (m->hdr.peerid == p->gen && !c->ready) {
			c->ready = 1;
			log_debug("%s: ready", c->name);
			if (c->role == PROC_RELAY)
				fwd_config_due(c->instance);
			all_ready_check();
		}
		return;
	case MSG_IDENT_PEER:
		ident_peer(c, m);
		return;
	case MSG_WATCH_OPEN:
		pump_open(c, m);
		return;
	case MSG_AUDIT:
		audit_write(c, m);
		return;
	case MSG_LEARN_RULES:
		learn_write(m->data, m->datalen);
		if (p->learn_final == 1) {
			p->learn_final = 2;
			stop_done_check();
		}
		return;
	case MSG_BACKEND_REQ:
		if (m->datalen != 0)
			break;
		if ((fd = backend_connect(&err)) == -1) {
			log_warnx("backend %s: %s", p->conf->backend.text,
			    strerror(err));
			(void)chan_compose_u32(ch, MSG_BACKEND_ERR,
			    m->hdr.peerid, err);
		} else
			(void)chan_compose(ch, MSG_BACKEND_FD, m->hdr.peerid,
			    fd, NULL, 0);
		return;
	}
	/* allowed, but not as it came (a payload where none goes) */
	child_kill(c, msg_type_name(m->hdr.type));
}

static int
all_ready(void)
{
	struct child	*c;

	FOREACH_CHILD(c)
		if (c->pid <= 0 || !c->ready)
			return 0;
	return 1;
}

/* Every child runs the current generation: tell whoever listens. */
static void
all_ready_check(void)
{
	if (p->stopping || p->ready_gen == p->gen || !all_ready())
		return;
	p->ready_gen = p->gen;
	if (p->reloading) {
		p->reloading = 0;
		log_info("configuration %u in effect", p->gen);
	}
	sd_notifyf("READY=1\nSTATUS=serving on %zu listener%s, %d relay%s, "
	    "configuration %u", p->conf->nlisteners,
	    p->conf->nlisteners == 1 ? "" : "s", p->conf->prefork,
	    p->conf->prefork == 1 ? "" : "s", p->gen);
}

static void
child_closed(struct chan *ch, void *arg)
{
	struct child	*c = arg;

	log_debug("%s: channel closed", c->name);
}

static int
channel_pair(int sp[2])
{
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0, sp) == -1) {
		log_warn("%s: socketpair", __func__);
		return -1;
	}
	return 0;
}

/* Give relay i and the policy worker a fresh channel to each other. */
static void
wire_policy(int i)
{
	struct child	*pw = child_up(PROC_POLICY, -1);
	struct child	*r = child_up(PROC_RELAY, i);
	int		 sp[2];

	if (pw == NULL || r == NULL || channel_pair(sp) == -1)
		return;
	(void)chan_compose(&pw->ch, MSG_CTL_PROCFD, i, sp[0], NULL, 0);
	(void)chan_compose(&r->ch, MSG_CTL_PROCFD, i, sp[1], NULL, 0);
}

/*
 * Give ca i a fresh channel to its relay (peerid 0) or forwarder (1).
 * The client gets its end before its configuration, so no handshake can
 * start without it.
 */
static void
wire_ca(int i, enum proc_role role)
{
	struct child	*ca = child_up(PROC_CA, i);
	struct child	*c = child_up(role, i);
	int		 sp[2];

	if (ca == NULL || c == NULL || channel_pair(sp) == -1)
		return;
	(void)chan_compose(&ca->ch, MSG_CTL_PROCFD, role == PROC_FORWARDER,
	    sp[0], NULL, 0);
	(void)chan_compose(&c->ch, MSG_CTL_CAFD, i, sp[1], NULL, 0);
}

/* Give the watcher and the policy worker a fresh channel. */
static void
wire_watcher(void)
{
	struct child	*pw = child_up(PROC_POLICY, -1);
	struct child	*wa = child_up(PROC_WATCHER, -1);
	int		 sp[2];

	if (pw == NULL || wa == NULL || channel_pair(sp) == -1)
		return;
	(void)chan_compose(&pw->ch, MSG_CTL_PROCFD, POLICY_WATCHER_SLOT,
	    sp[0], NULL, 0);
	(void)chan_compose(&wa->ch, MSG_CTL_PROCFD, 0, sp[1], NULL, 0);
}

/* Tell the policy worker relay i's approval key. */
static void
send_key(int i)
{
	struct child	*pw = child_up(PROC_POLICY, -1);

	if (pw != NULL)
		(void)chan_compose(&pw->ch, MSG_FWD_KEY, i, -1, p->keys[i],
		    FWD_KEYLEN);
}

/*
 * Give relay i and forwarder i a fresh channel, under a fresh key: an
 * approval made for the relay or forwarder that was there before is good
 * for nothing now.
 */
static void
wire_fwd(int i)
{
	struct child	*f = child_up(PROC_FORWARDER, i);
	struct child	*r = child_up(PROC_RELAY, i);
	int		 sp[2];

	if (f == NULL || r == NULL || channel_pair(sp) == -1)
		return;
	arc4random_buf(p->keys[i], FWD_KEYLEN);
	send_key(i);
	(void)chan_compose(&f->ch, MSG_FWD_KEY, i, -1, p->keys[i],
	    FWD_KEYLEN);
	(void)chan_compose(&f->ch, MSG_CTL_PROCFD, i, sp[0], NULL, 0);
	(void)chan_compose(&r->ch, MSG_CTL_FWDFD, i, sp[1], NULL, 0);
}

/* A ca gets its keys and nothing else of the configuration. */
static void
send_config(struct child *c, int listeners)
{
	size_t		 i;
	uint32_t	 n;
	int		 fd;

	c->ready = 0;
	c->cfg_due = 0;
	if (c->role == PROC_FORWARDER) {
		/* The backend's TLS settings, nothing of the rules. */
		if (tls_config_send_backend(&c->ch.mb, p->conf, p->gen) == -1)
			log_warn("%s: TLS config", c->name);
		(void)chan_compose(&c->ch, MSG_CFG_DONE, p->gen, -1, NULL, 0);
		return;
	}
	if (c->role == PROC_WATCHER) {
		/* Only whether to watch; the streams go when it says no. */
		n = client_uses_table(p->conf->clients, p->conf->nclients);
		(void)chan_compose_u32(&c->ch, MSG_WATCH_CFG, p->gen, n);
		if (!n)
			pump_close_all(ECANCELED);
		(void)chan_compose(&c->ch, MSG_CFG_DONE, p->gen, -1, NULL, 0);
		return;
	}
	if (c->role == PROC_CA) {
		if (tls_config_send_keys(&c->ch.mb, p->conf, p->gen) == -1)
			log_warnx("%s: not every key could be sent", c->name);
		(void)chan_compose(&c->ch, MSG_CFG_DONE, p->gen, -1, NULL, 0);
		return;
	}
	if (config_send(&c->ch.mb, p->conf, p->gen) == -1)
		log_warn("%s: config", c->name);
	if (c->role == PROC_POLICY)
		(void)chan_compose_u32(&c->ch, MSG_LEARN_CTL, p->gen,
		    p->conf->learn_file[0] != '\0' ? LEARN_ON : LEARN_OFF);
	if (c->role == PROC_RELAY &&
	    tls_config_send(&c->ch.mb, p->conf, p->gen) == -1)
		log_warn("%s: TLS config", c->name);
	if (c->role == PROC_RELAY && listeners) {
		if (p->share_fd != -1) {
			if ((fd = dup(p->share_fd)) == -1)
				fatal("dup");
			n = htonl((uint32_t)p->conf->prefork);
			(void)chan_compose(&c->ch, MSG_CFG_SHARE, 0, fd, &n,
			    sizeof(n));
		}
		for (i = 0; i < p->conf->nlisteners; i++) {
			fd = relay_listener(&p->conf->listeners[i], &n);
			n = htonl(n);
			(void)chan_compose(&c->ch, MSG_CFG_LISTENER,
			    p->conf->listeners[i].id, fd, &n, sizeof(n));
		}
	}
	(void)chan_compose(&c->ch, MSG_CFG_DONE, p->gen, -1, NULL, 0);
}

static void
restart_cb(int fd, short ev, void *arg)
{
	child_start(arg);
}

/*
 * "cpu affinity yes": relay i and forwarder i on the i-th CPU the parent
 * may use.  They hand every request to each other, and on one CPU that
 * is a switch, not a wake-up on the other CPU; but then a large answer
 * is never relayed and forwarded at once (make bench on 2 CPUs, quiet:
 * kept-alive req/s the same, different paths +5%, large answers at half
 * the speed; on a loaded host req/s went up 15-80%).  Off by default.
 * Only when every relay gets a CPU of its own.  The child keeps it
 * across its exec.
 */
static void
child_affinity(struct child *c)
{
	cpu_set_t	 all, one;
	int		 cpu, n = 0;

	if (!p->conf->affinity || c->instance < 0 ||
	    (c->role != PROC_RELAY && c->role != PROC_FORWARDER))
		return;
	if (sched_getaffinity(0, sizeof(all), &all) == -1) {
		log_warn("sched_getaffinity");
		return;
	}
	if (p->conf->prefork > CPU_COUNT(&all))
		return;
	for (cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, &all) && n++ == c->instance)
			break;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	if (sched_setaffinity(c->pid, sizeof(one), &one) == -1)
		log_warn("%s: sched_setaffinity", c->name);
}

static void
child_start(struct child *c)
{
	struct moat_child_args	 a;
	int			 sp[2], i;

	if (p->stopping)
		return;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0, sp) == -1)
		fatal("socketpair");
	memset(&a, 0, sizeof(a));
	a.self = p->self;
	a.role = c->role;
	a.instance = c->instance;
	a.foreground = p->conf->foreground;
	a.log_level = p->conf->log_level;
	a.user = p->conf->user;
	a.chroot = p->conf->chroot;
	if ((c->pid = proc_spawn(&a, sp[1])) == -1) {
		close(sp[0]);
		close(sp[1]);
		timer_in(c->restart, c->backoff, 0);
		return;
	}
	close(sp[1]);
	c->started = now_mono();
	child_affinity(c);
	/* Fd passing on: the parent sends listeners, Docker connections and
	 * peer channels; child_dispatch refuses any fd coming back. */
	chan_init(&c->ch, p->base, sp[0], 1, c->name, child_dispatch,
	    child_closed, c);
	switch (c->role) {
	case PROC_POLICY:
		send_config(c, 1);
		for (i = 0; i < p->conf->prefork; i++) {
			if (child_up(PROC_FORWARDER, i) != NULL &&
			    child_up(PROC_RELAY, i) != NULL)
				send_key(i);
			wire_policy(i);
		}
		wire_watcher();
		break;
	case PROC_WATCHER:
		send_config(c, 1);
		wire_watcher();
		break;
	case PROC_CA:
		send_config(c, 1);
		wire_ca(c->instance, PROC_RELAY);
		wire_ca(c->instance, PROC_FORWARDER);
		break;
	case PROC_FORWARDER:
		wire_ca(c->instance, PROC_FORWARDER);
		send_config(c, 1);
		wire_fwd(c->instance);
		break;
	case PROC_RELAY:
		wire_ca(c->instance, PROC_RELAY);
		send_config(c, 1);
		wire_policy(c->instance);
		wire_fwd(c->instance);
		break;
	case PROC_NROLES:
		fatalx("%s: no role", __func__);
	}
}

static struct child *
child_by_pid(pid_t pid)
{
	struct child	*c;

	FOREACH_CHILD(c)
		if (c->pid == pid)
			return c;
	return NULL;
}

static int
children_alive(enum proc_role role)
{
	struct child	*c;
	int		 n = 0;

	FOREACH_CHILD(c)
		n += c->pid > 0 && (role == (enum proc_role)-1 ||
		    c->role == role);
	return n;
}

static void
child_lost(struct child *c, int status)
{
	if (WIFSIGNALED(status))
		log_warnx("lost child %s (pid %d): killed by signal %d%s",
		    c->name, c->pid, WTERMSIG(status),
		    WTERMSIG(status) == SIGSYS ? " (seccomp)" : "");
	else if (!p->stopping || WEXITSTATUS(status) != 0)
		log_warnx("lost child %s (pid %d): exit status %d", c->name,
		    c->pid, WEXITSTATUS(status));
	c->pid = 0;
	chan_close(&c->ch);
	if (c->role == PROC_WATCHER)
		pump_close_all(-1);
	if (p->stopping)
		return;
	if (now_mono() - c->started >= STABLE_AFTER)
		c->backoff = BACKOFF_MIN;
	log_info("restarting %s in %d s", c->name, c->backoff);
	timer_in(c->restart, c->backoff, 0);
	c->backoff = c->backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX :
	    c->backoff * 2;
}

static void
stop_done_check(void)
{
	struct child	*c;

	/* The others go last: the relays may still ask them; the policy
	 * worker, what it learned, once more. */
	if (children_alive(PROC_RELAY) == 0 && learn_final_wait())
		return;
	if (children_alive(PROC_RELAY) == 0) {
		FOREACH_CHILD(c)
			if (c->pid > 0 && c->ch.open)
				chan_close(&c->ch);
		pump_close_all(-1);
	}
	if (children_alive((enum proc_role)-1) == 0)
		event_base_loopbreak(p->base);
}

static void
sigchld_cb(int sig, short ev, void *arg)
{
	struct child	*c;
	pid_t		 pid;
	int		 status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if ((c = child_by_pid(pid)) != NULL)
			child_lost(c, status);
	}
	if (p->stopping)
		stop_done_check();
}

static void
stop_timeout_cb(int fd, short ev, void *arg)
{
	struct child	*c;

	log_warnx("children did not stop in time, killing them");
	FOREACH_CHILD(c)
		if (c->pid > 0)
			kill(c->pid, SIGKILL);
}

static void
sigterm_cb(int sig, short ev, void *arg)
{
	uint32_t	 deadline = p->conf->drain_timeout;
	struct child	*c;

	if (p->stopping)
		return;
	log_info("received signal %d, draining for up to %u s", sig, deadline);
	sd_notify("STOPPING=1");
	p->stopping = 1;
	close_listeners(p->conf);
	FOREACH_CHILD(c) {
		evtimer_del(c->restart);
		if (c->role == PROC_RELAY)
			(void)chan_compose_u32(&c->ch, MSG_CTL_DRAIN, 0,
			    deadline);
	}
	p->stop_timer = evtimer_new(p->base, stop_timeout_cb, NULL);
	timer_in(p->stop_timer, deadline + 2, 0);
	stop_done_check();
}

static int
listeners_equal(const struct moat_config *a, const struct moat_config *b)
{
	size_t	 i;

	if (a->nlisteners != b->nlisteners)
		return 0;
	for (i = 0; i < a->nlisteners; i++) {
		const struct moat_listener *x = &a->listeners[i];
		const struct moat_listener *y = &b->listeners[i];

		if (strcmp(x->addr.text, y->addr.text) != 0 ||
		    strcmp(x->name, y->name) != 0 ||
		    x->owner_set != y->owner_set || x->owner != y->owner ||
		    x->group_set != y->group_set || x->group != y->group ||
		    x->mode != y->mode)
			return 0;
	}
	return 1;
}

static void
reload_rules_err(void *arg, const char *msg)
{
	log_warnx("%s", msg);
}

/*
 * SIGHUP: read everything again into a new configuration.  Rules, log
 * level, timeouts, limits and the backend change at once; listeners,
 * user, chroot and prefork need a restart and keep their running values.
 * On any error the running configuration stays.
 */
static void
sighup_cb(int sig, short ev, void *arg)
{
	struct moat_config	*nc;
	struct ruleset		*rs;
	struct child		*c;

	if (p->stopping)
		return;
	if (p->reloading) {
		log_warnx("reload already in progress, SIGHUP ignored");
		return;
	}
	log_info("reloading configuration");
	if ((nc = calloc(1, sizeof(*nc))) == NULL)
		fatal("%s", __func__);
	/* The listeners stay, names too: "match listener" names those. */
	if (p->reload(nc) == -1 || client_check_listeners(nc, p->conf) == -1 ||
	    tls_config_load(nc) == -1 ||
	    (rs = config_ruleset(nc, reload_rules_err, NULL)) == NULL) {
		log_warnx("reload failed, keeping configuration %u", p->gen);
		config_free(nc);
		free(nc);
		return;
	}
	ruleset_free(rs);
	if (!listeners_equal(nc, p->conf) || nc->prefork != p->conf->prefork ||
	    strcmp(nc->user, p->conf->user) != 0 ||
	    strcmp(nc->chroot, p->conf->chroot) != 0)
		log_warnx("listeners, user, chroot and prefork change only "
		    "on restart; keeping the running ones");
	/* The running listeners, with their new TLS settings (tls_conf.c). */
	tls_config_keep_listeners(nc, p->conf);
	if (p->nca == 0 && tls_config_keys(nc) > 0)
		log_warnx("TLS private keys added by a reload need a restart "
		    "(no key process runs)");
	nc->prefork = p->conf->prefork;
	nc->foreground = p->conf->foreground;
	strlcpy(nc->user, p->conf->user, sizeof(nc->user));
	strlcpy(nc->chroot, p->conf->chroot, sizeof(nc->chroot));
	config_free(p->conf);
	memcpy(p->conf, nc, sizeof(*nc));
	free(nc);
	log_setlevel(p->conf->log_level);
	log_setjson(p->conf->log_json);
	if (strcmp(p->conf->log_file, p->audit_path) != 0)
		(void)audit_open();
	p->gen++;
	p->reloading = 1;
	sd_notify_reloading();
	/*
	 * In start order: the cas come before the relays and forwarders,
	 * which ask for the new keys at once.  A forwarder whose relay is up
	 * gets the new generation once that relay runs it: the relay stops
	 * sending the old generation's reusable approvals before the
	 * forwarder stops taking them (fwd_config_due), so that a reload
	 * fails no honest request, and within FWD_RELOAD_MS in any case.
	 */
	FOREACH_CHILD(c) {
		if (!c->ch.open)
			continue;
		if (c->role == PROC_FORWARDER &&
		    child_up(PROC_RELAY, c->instance) != NULL) {
			c->ready = 0;
			c->cfg_due = 1;
			timer_in(p->fwd_cfg_timer, FWD_RELOAD_MS / 1000,
			    FWD_RELOAD_MS % 1000 * 1000);
			continue;
		}
		send_config(c, 0);
	}
	all_ready_check();
}

static void
child_setup(enum proc_role role, int instance)
{
	struct child	*c = &p->children[p->nchildren++];

	c->role = role;
	c->instance = instance;
	c->backoff = BACKOFF_MIN;
	if (instance < 0)
		strlcpy(c->name, proc_role_name(role), sizeof(c->name));
	else
		snprintf(c->name, sizeof(c->name), "%s[%d]",
		    proc_role_name(role), instance);
	if ((c->restart = evtimer_new(p->base, restart_cb, c)) == NULL)
		fatalx("evtimer_new");
}

static void
parent_checks(struct moat_config *c)
{
	struct moat_user	 u;
	struct ruleset		*rs;
	ssize_t			 n;

	if (geteuid() != 0)
		fatalx("moatd must be started as root (it drops privileges)");
	if ((rs = config_ruleset(c, NULL, NULL)) == NULL)
		fatalx("invalid rules; run moatd -n to see why");
	ruleset_free(rs);
	if (drop_lookup_user(c->user, &u) == -1)
		fatalx("user %s: unknown, or root (children must not run "
		    "as root)", c->user);
	if (drop_check_chroot(c->chroot, 1) == -1)
		fatalx("chroot directory %s is unusable", c->chroot);
	if (tls_config_load(c) == -1)
		fatalx("TLS configuration unusable");
	if ((n = readlink("/proc/self/exe", p->self, sizeof(p->self) - 1))
	    == -1)
		fatal("readlink /proc/self/exe");
	p->self[n] = '\0';
}

/*
 * A pid file when daemonised, with libbsd's pidfile(3): it stays locked
 * while we run, so a second instance learns who holds it.
 */
static struct pidfh *
pid_open(const char *path)
{
	struct pidfh	*pfh;
	pid_t		 other;

	if (path[0] == '\0')
		return NULL;
	if ((pfh = pidfile_open(path, 0644, &other)) == NULL) {
		if (errno == EEXIST)
			fatalx("pid file %s is locked: moatd is already "
			    "running (pid %d)", path, (int)other);
		fatal("pid file %s", path);
	}
	return pfh;
}

/*
 * Every client costs a relay a descriptor or two (its socket and its
 * Docker connection): take the hard limit (systemd's default soft limit
 * is 1024), before any child is spawned, so that all of them inherit it.
 */
static void
raise_nofile(void)
{
	struct rlimit	 rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1) {
		log_warn("getrlimit");
		return;
	}
	if (rl.rlim_cur >= rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
		return;
	/* An unlimited hard limit is more than the kernel's nr_open. */
	rl.rlim_cur = 1048576;
	if (rl.rlim_cur > rl.rlim_max || setrlimit(RLIMIT_NOFILE, &rl) == -1)
		log_warn("setrlimit(RLIMIT_NOFILE)");
}

int
parent_main(struct moat_config *c, moat_reload_fn reload)
{
	struct event	*ev_term, *ev_int, *ev_chld, *ev_hup, *ev_usr1;
	struct child	*ch;
	enum proc_role	 role;
	size_t		 r;
	int		 i;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		fatal("%s", __func__);
	p->conf = c;
	p->reload = reload;
	raise_nofile();
	/* Until we are in the background, errors go where they are seen. */
	log_init(1, c->log_level, LOG_DAEMON);
	log_procinit("parent");
	parent_checks(c);
	p->audit_fd = -1;
	if (audit_open() == -1)
		fatalx("log file %s: cannot be written", c->log_file);
	log_setjson(c->log_json);
	/* The learn file is written now: it can be, and holds no old rules. */
	if (c->learn_file[0] != '\0') {
		learn_write(LEARN_EMPTY, strlen(LEARN_EMPTY));
		if (p->learn_failed)
			fatalx("learn: cannot write %s", c->learn_file);
	}
	if (!c->foreground && !sd_under_systemd())
		p->pidfh = pid_open(c->pidfile);
	if (open_listeners(c) == -1) {
		close_listeners(c);
		return 1;
	}
	p->share_fd = share_open(c->prefork);
	p->pump[0].fd = p->pump[1].fd = -1;
	/* Daemonise before spawning: the children must be ours to reap. */
	if (!c->foreground && !sd_under_systemd() && daemon(0, 0) == -1)
		fatal("daemon");
	log_init(c->foreground, c->log_level, LOG_DAEMON);
	if (p->pidfh != NULL && pidfile_write(p->pidfh) == -1)
		log_warn("pid file %s", c->pidfile);
	signal(SIGPIPE, SIG_IGN);
	setproctitle("parent");
	if ((p->base = event_base_new()) == NULL)
		fatalx("event_base_new");
	ev_term = evsignal_new(p->base, SIGTERM, sigterm_cb, NULL);
	ev_int = evsignal_new(p->base, SIGINT, sigterm_cb, NULL);
	ev_chld = evsignal_new(p->base, SIGCHLD, sigchld_cb, NULL);
	ev_hup = evsignal_new(p->base, SIGHUP, sighup_cb, NULL);
	ev_usr1 = evsignal_new(p->base, SIGUSR1, sigusr1_cb, NULL);
	evsignal_add(ev_hup, NULL);
	evsignal_add(ev_usr1, NULL);
	evsignal_add(ev_term, NULL);
	evsignal_add(ev_int, NULL);
	evsignal_add(ev_chld, NULL);

	p->gen = 1;
	if ((p->fwd_cfg_timer = evtimer_new(p->base, fwd_config_timeout_cb,
	    NULL)) == NULL ||
	    (p->learn_timer = evtimer_new(p->base, learn_timer_cb,
	    NULL)) == NULL)
		fatalx("evtimer_new");
	if (c->learn_file[0] != '\0')
		timer_in(p->learn_timer, 1, 0);
	/* One ca per relay (see ca.c), with TLS keys only. */
	p->nca = tls_config_keys(c) > 0 ? c->prefork : 0;
	/* In start order: a relay needs its ca and forwarder up.  A role
	 * the table runs once is instance -1, the others one per relay. */
	for (r = 0; r < sizeof(start_order) / sizeof(start_order[0]); r++) {
		role = start_order[r];
		if (!proc_per_relay(role))
			child_setup(role, -1);
		else
			for (i = 0; i < (role == PROC_CA ? p->nca :
			    c->prefork); i++)
				child_setup(role, i);
	}
	FOREACH_CHILD(ch)
		child_start(ch);
	log_info("moatd %s started: %d relays, backend %s", MOATD_VERSION,
	    c->prefork, c->backend.text);

	event_base_dispatch(p->base);

	close_listeners(c);
	if (p->pidfh != NULL)
		(void)pidfile_remove(p->pidfh);
	log_info("stopped");
	event_free(ev_hup);
	event_free(ev_usr1);
	event_free(ev_term);
	event_free(ev_int);
	event_free(ev_chld);
	return 0;
}
