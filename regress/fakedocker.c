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
 * fakedocker: a recording stand-in for the Docker daemon, for the
 * end-to-end tests.  usage: fakedocker socket-path log-dir
 *
 * It listens on a UNIX socket and records every byte it receives, before
 * interpreting any of it, so a test can compare exactly what a proxy let
 * through:
 *	log-dir/conn-N.raw	everything received on connection N
 *	log-dir/all.raw		everything received, in arrival order
 *	log-dir/events		"open N", "req N METHOD TARGET", "close N"
 * It parses requests only as far as it must to answer them (a head, then
 * a Content-Length or chunked body) and answers each with 200 and "{}",
 * keeping the connection.  Special targets (the path, or a "fake=NAME"
 * query parameter, so that a test can use a real Docker path):
 *	/upgrade	101 when the request has an Upgrade field (200
 *			otherwise, as Docker), then echoes every byte
 *	/no-upgrade	200 even when an upgrade was asked
 *	/stream		a chunked 200 whose chunks come 50 ms apart
 *	/close		200 with "Connection: close", then closes
 *	/early		as soon as the head is in, 404 with "Connection:
 *			close", then closes without reading the body: Go's
 *			server does that for a large body it will not read
 *	/upgrade-early	as /upgrade, but the 101 goes out as soon as the
 *			head is in, before the body: what follows is echoed
 *	/badchunk	a chunked 200 whose head is BADCHUNK_HEAD bytes long,
 *			then a chunk size that is not hex, and it closes: the
 *			head, with the proxy's "Connection: close", fills the
 *			proxy's output to its 64 KiB mark, so the bad chunk
 *			waits in its input until the close is seen
 *	/big		200 with a 256 MiB body, written as fast as the
 *			proxy takes it: a client that reads none of it
 *			leaves the proxy holding a stalled answer
 * A request it cannot parse is recorded and never answered.  The socket
 * appears (by rename) only once it listens, so its path's existence
 * means ready.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define MAXCONN		256
#define HEAD_MAX	(1024 * 1024)
#define STREAM_CHUNKS	3
#define STREAM_MS	50
#define BADCHUNK_HEAD	65530
#define BIG_BODY	(256ULL * 1024 * 1024)
#define BIG_PIECE	65536

enum cstate {
	C_HEAD,		/* waiting for a request head */
	C_LENGTH,	/* Content-Length body */
	C_CHUNK_SIZE,	/* chunked body: a size line */
	C_CHUNK_DATA,
	C_CHUNK_CRLF,	/* the CRLF after chunk data */
	C_TRAILER,	/* trailer lines up to the empty one */
	C_STREAM,	/* sending /stream chunks; requests wait */
	C_BIG,		/* sending the /big body; requests wait */
	C_ECHO,		/* upgraded: echo everything */
	C_DEAD,		/* unparsable or closing: record only */
};

enum mode {
	M_PLAIN = 0,
	M_UPGRADE,
	M_NOUPGRADE,
	M_STREAM,
	M_CLOSE,
	M_EARLY,
	M_UPGRADE_EARLY,
	M_BADCHUNK,
	M_BIG,
};

struct conn {
	int		 fd;
	int		 id;
	int		 logfd;
	enum cstate	 state;
	char		*in;
	size_t		 inlen;
	char		*out;
	size_t		 outlen;
	uint64_t	 remain;
	enum mode	 mode;
	int		 upgrade_asked;
	int		 head_req;
	int		 close_after;	/* close once out is flushed */
	int		 nstream;
	uint64_t	 big_left;	/* /big body bytes not yet queued */
	struct timespec	 next;
};

static struct conn	 conns[MAXCONN];
static const char	*logdir;
static int		 allfd = -1, eventsfd = -1;
static int		 nextid;

static void __attribute__((__noreturn__, __format__(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list	 ap;
	int	 e = errno;

	va_start(ap, fmt);
	fprintf(stderr, "fakedocker: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, ": %s\n", strerror(e));
	va_end(ap);
	exit(1);
}

static void
writeall(int fd, const void *buf, size_t len)
{
	const char	*p = buf;
	ssize_t		 n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			die("write log");
		}
		p += n;
		len -= n;
	}
}

static void __attribute__((__format__(printf, 1, 2)))
event(const char *fmt, ...)
{
	char	 buf[512];
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	writeall(eventsfd, buf, n);
}

static long
ms_until(const struct timespec *t)
{
	struct timespec	 now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (t->tv_sec - now.tv_sec) * 1000 +
	    (t->tv_nsec - now.tv_nsec) / 1000000;
}

static void
append(char **buf, size_t *len, const void *data, size_t n)
{
	char	*p;

	if (n == 0)
		return;
	if ((p = realloc(*buf, *len + n)) == NULL)
		die("realloc");
	memcpy(p + *len, data, n);
	*buf = p;
	*len += n;
}

static void
consume(struct conn *c, size_t n)
{
	if (n == 0)
		return;
	memmove(c->in, c->in + n, c->inlen - n);
	c->inlen -= n;
}

static void
send_str(struct conn *c, const char *s)
{
	append(&c->out, &c->outlen, s, strlen(s));
}

static void
conn_close(struct conn *c)
{
	event("close %d", c->id);
	close(c->fd);
	close(c->logfd);
	free(c->in);
	free(c->out);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

static void
conn_new(int fd)
{
	struct conn	*c = NULL;
	char		 path[4096];
	int		 i;

	for (i = 0; i < MAXCONN; i++)
		if (conns[i].fd == -1) {
			c = &conns[i];
			break;
		}
	if (c == NULL) {
		fprintf(stderr, "fakedocker: too many connections\n");
		close(fd);
		return;
	}
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->id = ++nextid;
	snprintf(path, sizeof(path), "%s/conn-%d.raw", logdir, c->id);
	if ((c->logfd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) == -1)
		die("%s", path);
	c->state = C_HEAD;
	event("open %d", c->id);
}

/* The value of header name in head (CRLF lines), or NULL. */
static const char *
header(const char *head, const char *name, size_t *vlen)
{
	const char	*l, *e, *v;
	size_t		 nl = strlen(name);

	for (l = strstr(head, "\r\n"); l != NULL; l = e) {
		l += 2;
		if ((e = strstr(l, "\r\n")) == NULL || e == l)
			return NULL;
		if ((size_t)(e - l) > nl && strncasecmp(l, name, nl) == 0 &&
		    l[nl] == ':') {
			for (v = l + nl + 1; *v == ' ' || *v == '\t'; v++)
				;
			*vlen = e - v;
			return v;
		}
	}
	return NULL;
}

static enum mode
target_mode(const char *t)
{
	static const struct {
		const char	*name;
		enum mode	 mode;
	} modes[] = {
		{ "upgrade", M_UPGRADE },
		{ "no-upgrade", M_NOUPGRADE },
		{ "stream", M_STREAM },
		{ "big", M_BIG },
		{ "close", M_CLOSE },
		{ "early", M_EARLY },
		{ "upgrade-early", M_UPGRADE_EARLY },
		{ "badchunk", M_BADCHUNK },
	};
	const char	*q, *f;
	size_t		 i, pl, fl;

	q = strchr(t, '?');
	pl = q != NULL ? (size_t)(q - t) : strlen(t);
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (pl == strlen(modes[i].name) + 1 && t[0] == '/' &&
		    strncmp(t + 1, modes[i].name, pl - 1) == 0)
			return modes[i].mode;
	if (q == NULL || (f = strstr(q, "fake=")) == NULL ||
	    (f[-1] != '?' && f[-1] != '&'))
		return M_PLAIN;
	f += 5;
	fl = strcspn(f, "&");
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (fl == strlen(modes[i].name) &&
		    strncmp(f, modes[i].name, fl) == 0)
			return modes[i].mode;
	return M_PLAIN;
}

/* A complete head is at c->in; returns 0, or -1 if unparsable. */
static int
parse_head(struct conn *c, size_t hl)
{
	char		*head, *sp1, *sp2;
	const char	*v;
	size_t		 vl;
	char		 num[32];

	if ((head = strndup(c->in, hl)) == NULL)
		die("strndup");
	consume(c, hl);
	if ((sp1 = strchr(head, ' ')) == NULL ||
	    (sp2 = strchr(sp1 + 1, ' ')) == NULL) {
		free(head);
		return -1;
	}
	*sp1 = *sp2 = '\0';
	event("req %d %s %s", c->id, head, sp1 + 1);
	c->mode = target_mode(sp1 + 1);
	c->head_req = strcmp(head, "HEAD") == 0;
	*sp1 = *sp2 = ' ';
	c->upgrade_asked = header(head, "Upgrade", &vl) != NULL;
	c->state = C_LENGTH;
	c->remain = 0;
	if ((v = header(head, "Transfer-Encoding", &vl)) != NULL) {
		c->state = vl == 7 && strncasecmp(v, "chunked", 7) == 0 ?
		    C_CHUNK_SIZE : C_DEAD;
	} else if ((v = header(head, "Content-Length", &vl)) != NULL) {
		if (vl == 0 || vl >= sizeof(num) ||
		    strspn(v, "0123456789") < vl)
			c->state = C_DEAD;
		else {
			memcpy(num, v, vl);
			num[vl] = '\0';
			c->remain = strtoull(num, NULL, 10);
		}
	}
	free(head);
	return c->state == C_DEAD ? -1 : 0;
}

static void
badchunk(struct conn *c)
{
	static const char head[] = "HTTP/1.1 200 OK\r\n"
	    "Content-Type: text/plain\r\nTransfer-Encoding: chunked\r\n"
	    "X-Pad: ";
	char	*pad;
	size_t	 n = BADCHUNK_HEAD - (sizeof(head) - 1) - 4;

	if ((pad = malloc(n)) == NULL)
		die("malloc");
	memset(pad, 'x', n);
	send_str(c, head);
	append(&c->out, &c->outlen, pad, n);
	send_str(c, "\r\n\r\nzz\r\n");
	free(pad);
	c->state = C_DEAD;
	c->close_after = 1;
}

/* Queue the next piece of the /big body while little is queued. */
static void
big_fill(struct conn *c)
{
	static char	 piece[BIG_PIECE];
	size_t		 n;

	if (c->state != C_BIG || c->outlen >= BIG_PIECE)
		return;
	if (c->big_left == 0) {
		c->state = C_HEAD;
		return;
	}
	memset(piece, 'x', sizeof(piece));
	n = c->big_left < BIG_PIECE ? c->big_left : BIG_PIECE;
	append(&c->out, &c->outlen, piece, n);
	c->big_left -= n;
}

static void
respond(struct conn *c)
{
	static const char ok[] = "HTTP/1.1 200 OK\r\n"
	    "Content-Type: application/json\r\nContent-Length: 2\r\n";

	c->state = C_HEAD;
	switch (c->mode) {
	case M_UPGRADE:
		if (!c->upgrade_asked)
			break;
		send_str(c, "HTTP/1.1 101 UPGRADED\r\n"
		    "Content-Type: application/vnd.docker.raw-stream\r\n"
		    "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n");
		c->state = C_ECHO;
		append(&c->out, &c->outlen, c->in, c->inlen);
		consume(c, c->inlen);
		return;
	case M_STREAM:
		send_str(c, "HTTP/1.1 200 OK\r\n"
		    "Content-Type: application/json\r\n"
		    "Transfer-Encoding: chunked\r\n\r\n");
		c->state = C_STREAM;
		c->nstream = 0;
		clock_gettime(CLOCK_MONOTONIC, &c->next);
		return;
	case M_EARLY:
		send_str(c, "HTTP/1.1 404 Not Found\r\n"
		    "Content-Type: application/json\r\nContent-Length: 29\r\n"
		    "Connection: close\r\n\r\n"
		    "{\"message\":\"page not found\"}\n");
		c->state = C_DEAD;
		c->close_after = 1;
		return;
	case M_BADCHUNK:
		badchunk(c);
		return;
	case M_BIG:
		send_str(c, "HTTP/1.1 200 OK\r\n"
		    "Content-Type: application/octet-stream\r\n"
		    "Content-Length: 268435456\r\n\r\n");
		c->state = C_BIG;
		c->big_left = BIG_BODY;
		big_fill(c);
		return;
	case M_CLOSE:
		send_str(c, ok);
		send_str(c, c->head_req ? "Connection: close\r\n\r\n" :
		    "Connection: close\r\n\r\n{}");
		c->state = C_DEAD;
		c->close_after = 1;
		return;
	default:
		break;
	}
	send_str(c, ok);
	send_str(c, c->head_req ? "\r\n" : "\r\n{}");
}

static void
stream_tick(struct conn *c)
{
	char	 data[32], size[32];

	if (ms_until(&c->next) > 0)
		return;
	if (c->nstream++ < STREAM_CHUNKS) {
		snprintf(data, sizeof(data), "{\"n\":%d}\n", c->nstream);
		snprintf(size, sizeof(size), "%zx\r\n", strlen(data));
		send_str(c, size);
		send_str(c, data);
		send_str(c, "\r\n");
		c->next.tv_nsec += STREAM_MS * 1000000L;
		if (c->next.tv_nsec >= 1000000000L) {
			c->next.tv_sec++;
			c->next.tv_nsec -= 1000000000L;
		}
		return;
	}
	send_str(c, "0\r\n\r\n");
	c->state = C_HEAD;
}

/* A CRLF-terminated line at the start of c->in: its length, or 0. */
static size_t
line_len(struct conn *c)
{
	char	*p;

	if (c->inlen < 2 || (p = memmem(c->in, c->inlen, "\r\n", 2)) == NULL)
		return 0;
	return p - c->in + 2;
}

/*
 * Run the state machine over the buffered input; 0 when it needs more.
 * Safe on an empty buffer: a body of length 0 completes without input.
 */
static int
step(struct conn *c)
{
	char		*p, *end;
	size_t		 n;

	switch (c->state) {
	case C_HEAD:
		if (c->inlen < 4)
			return 0;
		if ((p = memmem(c->in, c->inlen, "\r\n\r\n", 4)) == NULL) {
			if (c->inlen > HEAD_MAX)
				c->state = C_DEAD;
			return 0;
		}
		if (parse_head(c, p + 4 - c->in) == -1)
			return 0;
		if (c->mode == M_EARLY) {
			consume(c, c->inlen);
			respond(c);
			return 0;
		}
		/* The 101 before the body: what follows is the stream. */
		if (c->mode == M_UPGRADE_EARLY && c->upgrade_asked) {
			c->mode = M_UPGRADE;
			respond(c);
			return 0;
		}
		return 1;
	case C_LENGTH:
		n = c->inlen < c->remain ? c->inlen : c->remain;
		consume(c, n);
		c->remain -= n;
		if (c->remain > 0)
			return 0;
		respond(c);
		return 1;
	case C_CHUNK_SIZE:
		if ((n = line_len(c)) == 0)
			return 0;
		errno = 0;
		c->remain = strtoull(c->in, &end, 16);
		if (errno != 0 || end == c->in || (*end != '\r' &&
		    *end != ';')) {
			c->state = C_DEAD;
			return 0;
		}
		consume(c, n);
		c->state = c->remain > 0 ? C_CHUNK_DATA : C_TRAILER;
		return 1;
	case C_CHUNK_DATA:
		n = c->inlen < c->remain ? c->inlen : c->remain;
		consume(c, n);
		c->remain -= n;
		if (c->remain > 0)
			return 0;
		c->state = C_CHUNK_CRLF;
		return 1;
	case C_CHUNK_CRLF:
		if (c->inlen < 2)
			return 0;
		if (memcmp(c->in, "\r\n", 2) != 0) {
			c->state = C_DEAD;
			return 0;
		}
		consume(c, 2);
		c->state = C_CHUNK_SIZE;
		return 1;
	case C_TRAILER:
		if ((n = line_len(c)) == 0)
			return 0;
		consume(c, n);
		if (n == 2)
			respond(c);
		return 1;
	case C_ECHO:
		append(&c->out, &c->outlen, c->in, c->inlen);
		consume(c, c->inlen);
		return 0;
	default:
		return 0;
	}
}

static void
conn_read(struct conn *c)
{
	char	 buf[65536];
	ssize_t	 n;

	if ((n = read(c->fd, buf, sizeof(buf))) == -1) {
		if (errno == EINTR || errno == EAGAIN)
			return;
		conn_close(c);
		return;
	}
	if (n == 0) {
		/* Upgraded: pass the half-close on once the echo is out. */
		if (c->state == C_ECHO && c->outlen > 0) {
			c->close_after = 1;
			c->state = C_DEAD;
			return;
		}
		conn_close(c);
		return;
	}
	writeall(c->logfd, buf, n);
	writeall(allfd, buf, n);
	if (c->state == C_DEAD)
		return;
	append(&c->in, &c->inlen, buf, n);
	while (step(c))
		;
}

static void
conn_write(struct conn *c)
{
	ssize_t	 n;

	if ((n = write(c->fd, c->out, c->outlen)) == -1) {
		if (errno == EINTR || errno == EAGAIN)
			return;
		conn_close(c);
		return;
	}
	memmove(c->out, c->out + n, c->outlen - n);
	c->outlen -= n;
	big_fill(c);
	if (c->outlen == 0 && c->close_after)
		conn_close(c);
}

static int
listen_on(const char *path)
{
	struct sockaddr_un	 sun;
	char			 tmp[sizeof(sun.sun_path)];
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >=
	    sizeof(tmp)) {
		errno = ENAMETOOLONG;
		die("%s", path);
	}
	memcpy(sun.sun_path, tmp, sizeof(tmp));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) == -1)
		die("socket");
	(void)unlink(tmp);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		die("bind %s", tmp);
	if (listen(fd, 128) == -1)
		die("listen");
	/* The path appears only now: a test waits for it to exist. */
	if (rename(tmp, path) == -1)
		die("rename %s", path);
	return fd;
}

static void
open_logs(void)
{
	char	 path[4096];

	snprintf(path, sizeof(path), "%s/all.raw", logdir);
	if ((allfd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND |
	    O_CLOEXEC, 0644)) == -1)
		die("%s", path);
	snprintf(path, sizeof(path), "%s/events", logdir);
	if ((eventsfd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND |
	    O_CLOEXEC, 0644)) == -1)
		die("%s", path);
}

int
main(int argc, char *argv[])
{
	struct pollfd	 pfd[MAXCONN + 1];
	int		 map[MAXCONN + 1];
	int		 lfd, fd, i, n, timeout;
	long		 ms;

	if (argc != 3) {
		fprintf(stderr, "usage: fakedocker socket-path log-dir\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	logdir = argv[2];
	if (mkdir(logdir, 0755) == -1 && errno != EEXIST)
		die("%s", logdir);
	open_logs();
	for (i = 0; i < MAXCONN; i++)
		conns[i].fd = -1;
	lfd = listen_on(argv[1]);

	for (;;) {
		pfd[0].fd = lfd;
		pfd[0].events = POLLIN;
		n = 1;
		timeout = -1;
		for (i = 0; i < MAXCONN; i++) {
			if (conns[i].fd == -1)
				continue;
			if (conns[i].state == C_STREAM) {
				ms = ms_until(&conns[i].next);
				ms = ms < 0 ? 0 : ms;
				if (timeout == -1 || ms < timeout)
					timeout = (int)ms;
			}
			pfd[n].fd = conns[i].fd;
			pfd[n].events = POLLIN | (conns[i].outlen > 0 ?
			    POLLOUT : 0);
			map[n++] = i;
		}
		if (poll(pfd, n, timeout) == -1) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if (pfd[0].revents & POLLIN) {
			while ((fd = accept4(lfd, NULL, NULL,
			    SOCK_NONBLOCK | SOCK_CLOEXEC)) != -1)
				conn_new(fd);
		}
		for (i = 1; i < n; i++) {
			struct conn	*c = &conns[map[i]];

			if (c->fd != -1 && (pfd[i].revents & POLLOUT))
				conn_write(c);
			if (c->fd != -1 &&
			    (pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				conn_read(c);
		}
		for (i = 0; i < MAXCONN; i++) {
			struct conn	*c = &conns[i];

			if (c->fd == -1 || c->state != C_STREAM)
				continue;
			stream_tick(c);
			while (step(c))
				;
		}
	}
}
