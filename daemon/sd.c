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
 * The two halves of systemd's service protocol we use, written here
 * rather than linked from libsystemd (as OpenSSH's port-linux.c does):
 * sockets passed with LISTEN_FDS (sd_listen_fds(3)) and state strings
 * sent to NOTIFY_SOCKET (sd_notify(3)).  Both are small, stable and
 * documented; a library for them would be a larger attack surface in the
 * only process that keeps root.
 */

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "moatd.h"

#define SD_LISTEN_FDS_START	3
#define SD_STATE_MAX		4096	/* one datagram, well below limits */

static void
sd_unsetenv(void)
{
	(void)unsetenv("LISTEN_PID");
	(void)unsetenv("LISTEN_FDS");
	(void)unsetenv("LISTEN_FDNAMES");
}

/* What a passed socket is bound to, for log lines. */
static void
sd_describe(int fd, char *buf, size_t len)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	struct sockaddr_un	*sun = (struct sockaddr_un *)&ss;
	socklen_t		 sl = sizeof(ss);
	char			 host[INET6_ADDRSTRLEN];

	memset(&ss, 0, sizeof(ss));
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == -1) {
		snprintf(buf, len, "fd %d", fd);
		return;
	}
	switch (ss.ss_family) {
	case AF_INET:
		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, ntohs(sin->sin_port));
		break;
	case AF_INET6:
		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		snprintf(buf, len, "[%s]:%u", host, ntohs(sin6->sin6_port));
		break;
	case AF_UNIX:
		if (sl <= offsetof(struct sockaddr_un, sun_path))
			snprintf(buf, len, "unnamed unix socket");
		else if (sun->sun_path[0] == '\0')
			snprintf(buf, len, "@%.*s",
			    (int)(sl - offsetof(struct sockaddr_un, sun_path) -
			    1), sun->sun_path + 1);
		else
			snprintf(buf, len, "%.*s", (int)sizeof(sun->sun_path),
			    sun->sun_path);
		break;
	default:
		snprintf(buf, len, "fd %d", fd);
		break;
	}
}

static int
sd_sockopt(int fd, int opt, int *val)
{
	socklen_t	 sl = sizeof(*val);

	return getsockopt(fd, SOL_SOCKET, opt, val, &sl);
}

/*
 * A socket we can hand to the relays: a listening stream socket of a
 * family they know.  systemd also passes datagram sockets, FIFOs and
 * files when a unit says so; taking one would fail only at accept().
 */
static int
sd_check_socket(int fd, const char *name, int *family)
{
	struct stat	 st;
	int		 type, acc, dom;

	if (fstat(fd, &st) == -1) {
		log_warn("systemd fd %d (%s)", fd, name);
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		log_warnx("systemd fd %d (%s): not a socket", fd, name);
		return -1;
	}
	if (sd_sockopt(fd, SO_TYPE, &type) == -1 ||
	    sd_sockopt(fd, SO_ACCEPTCONN, &acc) == -1 ||
	    sd_sockopt(fd, SO_DOMAIN, &dom) == -1) {
		log_warn("systemd fd %d (%s): getsockopt", fd, name);
		return -1;
	}
	if (type != SOCK_STREAM) {
		log_warnx("systemd fd %d (%s): not a stream socket", fd, name);
		return -1;
	}
	if (!acc) {
		log_warnx("systemd fd %d (%s): not listening", fd, name);
		return -1;
	}
	if (dom != AF_INET && dom != AF_INET6 && dom != AF_UNIX) {
		log_warnx("systemd fd %d (%s): address family %d", fd, name,
		    dom);
		return -1;
	}
	*family = dom;
	return 0;
}

/*
 * Split LISTEN_FDNAMES ("a:b:c") into the sockets' names.  Without it
 * every socket is "unknown", as libsystemd names them.
 */
static int
sd_names(struct sd_socket *socks, int n, const char *names)
{
	const char	*p, *colon;
	size_t		 len;
	int		 i;

	for (i = 0; i < n; i++)
		strlcpy(socks[i].name, "unknown", sizeof(socks[i].name));
	if (names == NULL || n == 0)
		return 0;
	for (i = 0, p = names; ; i++, p = colon + 1) {
		colon = strchr(p, ':');
		len = colon != NULL ? (size_t)(colon - p) : strlen(p);
		if (i >= n) {
			log_warnx("LISTEN_FDNAMES names more than %d sockets",
			    n);
			return -1;
		}
		if (len >= sizeof(socks[i].name)) {
			log_warnx("LISTEN_FDNAMES: name of fd %d too long",
			    SD_LISTEN_FDS_START + i);
			return -1;
		}
		memcpy(socks[i].name, p, len);
		socks[i].name[len] = '\0';
		if (colon == NULL)
			break;
	}
	if (i + 1 != n) {
		log_warnx("LISTEN_FDNAMES names %d sockets, LISTEN_FDS "
		    "passes %d", i + 1, n);
		return -1;
	}
	return 0;
}

int
sd_listen_fds(struct sd_socket *socks, int max)
{
	const char	*s, *errstr;
	char		 where[128];
	long long	 pid;
	int		 n, i, fd, fl, rv = -1;

	if ((s = getenv("LISTEN_PID")) == NULL) {
		rv = 0;
		goto out;
	}
	pid = strtonum(s, 1, INT_MAX, &errstr);
	if (errstr != NULL) {
		log_warnx("LISTEN_PID=%s: %s", s, errstr);
		goto out;
	}
	/* Meant for another process, e.g. a parent that did not unset it. */
	if (pid != getpid()) {
		rv = 0;
		goto out;
	}
	if ((s = getenv("LISTEN_FDS")) == NULL) {
		log_warnx("LISTEN_PID set without LISTEN_FDS");
		goto out;
	}
	n = strtonum(s, 0, INT_MAX - SD_LISTEN_FDS_START, &errstr);
	if (errstr != NULL) {
		log_warnx("LISTEN_FDS=%s: %s", s, errstr);
		goto out;
	}
	if (n > max) {
		log_warnx("systemd passed %d sockets, at most %d are usable",
		    n, max);
		goto out;
	}
	if (sd_names(socks, n, getenv("LISTEN_FDNAMES")) == -1)
		goto out;
	for (i = 0; i < n; i++) {
		fd = SD_LISTEN_FDS_START + i;
		if (sd_check_socket(fd, socks[i].name, &socks[i].family) == -1)
			goto out;
		/* systemd does not set close-on-exec: our children are
		 * re-exec'd and must not inherit listeners by accident. */
		if (fcntl(fd, F_SETFD, FD_CLOEXEC) == -1 ||
		    (fl = fcntl(fd, F_GETFL)) == -1 ||
		    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1) {
			log_warn("systemd fd %d (%s): fcntl", fd,
			    socks[i].name);
			goto out;
		}
		socks[i].fd = fd;
		sd_describe(fd, where, sizeof(where));
		log_debug("systemd passed fd %d \"%s\": %s", fd,
		    socks[i].name, where);
	}
	rv = n;
 out:
	/* Never let a child (or anything we exec) take them for its own. */
	sd_unsetenv();
	return rv;
}

/* Listener l takes passed socket s, which no longer owns the fd. */
static void
sd_assign(struct moat_listener *l, struct sd_socket *s)
{
	char	 where[128];

	sd_describe(s->fd, where, sizeof(where));
	l->fd = s->fd;
	s->fd = -1;
	log_info("listener %s: systemd socket \"%s\" (fd %d, %s)",
	    l->addr.text, s->name, l->fd, where);
}

/* A copy of tmpl for one more passed socket.  NULL if the table is full. */
static struct moat_listener *
sd_add_listener(struct moat_config *c, const struct moat_listener *tmpl,
    const char *name)
{
	struct moat_listener	*l;

	if (c->nlisteners >= MOAT_LISTENERS_MAX) {
		log_warnx("too many listeners (at most %d)",
		    MOAT_LISTENERS_MAX);
		return NULL;
	}
	l = &c->listeners[c->nlisteners];
	if (tmpl != NULL)
		*l = *tmpl;
	else {
		memset(l, 0, sizeof(*l));
		l->addr.kind = ADDR_SYSTEMD;
		l->mode = 0660;
		(void)strlcpy(l->addr.sdname, name, sizeof(l->addr.sdname));
		(void)snprintf(l->addr.text, sizeof(l->addr.text),
		    "systemd:%s", name);
	}
	l->id = c->nlisteners++;
	l->fd = -1;
	return l;
}

/*
 * Listener i claims every still unclaimed passed socket it matches: the
 * ones named as it is, or all of them if it names none.  The first fills
 * listener i itself, each further one a copy appended to the table.
 */
static int
sd_claim(struct moat_config *c, size_t i, struct sd_socket *socks, int n)
{
	struct moat_listener	*l;
	int			 j, got = 0;

	for (j = 0; j < n; j++) {
		if (socks[j].fd == -1)
			continue;
		if (c->listeners[i].addr.sdname[0] != '\0' &&
		    strcmp(socks[j].name, c->listeners[i].addr.sdname) != 0)
			continue;
		if (got == 0)
			l = &c->listeners[i];
		else if ((l = sd_add_listener(c, &c->listeners[i], NULL)) ==
		    NULL)
			return -1;
		sd_assign(l, &socks[j]);
		got++;
	}
	if (got > 0)
		return 0;
	if (c->listeners[i].addr.sdname[0] != '\0')
		log_warnx("listener %s: systemd passed no socket named \"%s\"",
		    c->listeners[i].addr.text, c->listeners[i].addr.sdname);
	else
		log_warnx("listener %s: systemd passed no %ssocket",
		    c->listeners[i].addr.text, n > 0 ? "unclaimed " : "");
	return -1;
}

int
sd_bind_listeners(struct moat_config *c, struct sd_socket *socks, int n)
{
	struct moat_listener	*l;
	char			 where[128];
	size_t			 i, nconf = c->nlisteners;
	int			 j, pass;

	if (nconf == 0) {
		for (j = 0; j < n; j++) {
			if ((l = sd_add_listener(c, NULL, socks[j].name)) ==
			    NULL)
				return -1;
			sd_assign(l, &socks[j]);
		}
		return 0;
	}
	/* Named listeners first, so that a catch-all cannot take theirs. */
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < nconf; i++) {
			if (c->listeners[i].addr.kind != ADDR_SYSTEMD ||
			    (c->listeners[i].addr.sdname[0] == '\0') ==
			    (pass == 0))
				continue;
			if (sd_claim(c, i, socks, n) == -1)
				return -1;
		}
	}
	for (j = 0; j < n; j++) {
		if (socks[j].fd == -1)
			continue;
		sd_describe(socks[j].fd, where, sizeof(where));
		log_warnx("systemd socket \"%s\" (fd %d, %s): no listener "
		    "wants it, closing it", socks[j].name, socks[j].fd, where);
		close(socks[j].fd);
		socks[j].fd = -1;
	}
	return 0;
}

int
sd_under_systemd(void)
{
	const char	*s;

	return ((s = getenv("NOTIFY_SOCKET")) != NULL && *s != '\0') ||
	    ((s = getenv("INVOCATION_ID")) != NULL && *s != '\0');
}

/* NOTIFY_SOCKET as an address: a path, or "@name" for the abstract
 * namespace (a leading NUL on the wire, and no trailing one). */
static int
sd_notify_addr(const char *path, struct sockaddr_un *sun, socklen_t *sl)
{
	size_t	 len = strlen(path);

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if ((path[0] != '/' && path[0] != '@') || len < 2) {
		log_warnx("NOTIFY_SOCKET=%s: not a path or @name", path);
		return -1;
	}
	if (len >= sizeof(sun->sun_path)) {
		log_warnx("NOTIFY_SOCKET=%s: too long", path);
		return -1;
	}
	memcpy(sun->sun_path, path, len);
	if (path[0] == '@') {
		sun->sun_path[0] = '\0';
		*sl = offsetof(struct sockaddr_un, sun_path) + len;
	} else
		*sl = offsetof(struct sockaddr_un, sun_path) + len + 1;
	return 0;
}

int
sd_notify(const char *state)
{
	struct sockaddr_un	 sun;
	const char		*path;
	socklen_t		 sl;
	size_t			 len = strlen(state);
	ssize_t			 n;
	int			 fd;

	if ((path = getenv("NOTIFY_SOCKET")) == NULL || *path == '\0')
		return 0;
	if (sd_notify_addr(path, &sun, &sl) == -1)
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1) {
		log_warn("%s: socket", __func__);
		return -1;
	}
	/* Never block the event loop on a busy systemd: say so and go on. */
	n = sendto(fd, state, len, MSG_DONTWAIT | MSG_NOSIGNAL,
	    (struct sockaddr *)&sun, sl);
	if (n == -1)
		log_warn("%s: %s", __func__, path);
	else if ((size_t)n != len)
		log_warnx("%s: %s: short send", __func__, path);
	close(fd);
	return (n != -1 && (size_t)n == len) ? 0 : -1;
}

int
sd_notifyf(const char *fmt, ...)
{
	va_list	 ap;
	char	 buf[SD_STATE_MAX];
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf)) {
		log_warnx("%s: state too long", __func__);
		return -1;
	}
	return sd_notify(buf);
}

int
sd_notify_reloading(void)
{
	struct timespec	 ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1) {
		log_warn("%s: clock_gettime", __func__);
		return -1;
	}
	return sd_notifyf("RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000ULL +
	    (unsigned long long)ts.tv_nsec / 1000);
}
