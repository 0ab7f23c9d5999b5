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
 * The container of a unix peer, from the text of its /proc/PID/cgroup (as
 * the parent reads it: parent.c).  Docker puts a container's
 * processes in a cgroup named after its 64-hex id: "docker-<id>.scope"
 * under system.slice (or the --cgroup-parent slice) with the systemd
 * driver, "<id>" under /docker (or the --cgroup-parent) with cgroupfs.
 * Every line of the file (cgroup v2's "0::/path", each v1 hierarchy's
 * "N:controllers:/path") is looked at; the id is a path's first component
 * of either form, so that a container's own child cgroups
 * ("/docker/<id>/sub", or one named after another container) are its own,
 * and an inner Docker's containers are the outer container (the one the
 * daemon in front of us knows).  Strict: exactly 64 lowercase hex digits,
 * "docker-" and ".scope" exactly, a component that merely contains an id
 * ("docker-<id>.scope.bak", "<id>-x") is none; a malformed line or two
 * lines naming different containers is none.
 */

#include <sys/types.h>
#include <sys/pidfd.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "moatd.h"

/* Linux 6.5: a unix peer's pidfd (older headers lack it). */
#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD	77
#endif

#define SCOPE_PREFIX	"docker-"
#define SCOPE_SUFFIX	".scope"

static int
hex64(const char *p, size_t n)
{
	size_t	 i;

	if (n != CGROUP_ID_LEN)
		return 0;
	for (i = 0; i < n; i++)
		if (!((p[i] >= '0' && p[i] <= '9') ||
		    (p[i] >= 'a' && p[i] <= 'f')))
			return 0;
	return 1;
}

/* The id a path component names ("<id>", "docker-<id>.scope"), or NULL. */
static const char *
component_id(const char *p, size_t n)
{
	size_t	 pl = sizeof(SCOPE_PREFIX) - 1, sl = sizeof(SCOPE_SUFFIX) - 1;

	if (hex64(p, n))
		return p;
	if (n == pl + CGROUP_ID_LEN + sl &&
	    memcmp(p, SCOPE_PREFIX, pl) == 0 &&
	    memcmp(p + pl + CGROUP_ID_LEN, SCOPE_SUFFIX, sl) == 0 &&
	    hex64(p + pl, CGROUP_ID_LEN))
		return p + pl;
	return NULL;
}

/*
 * One line, "hierarchy:controllers:/path" without its newline: *idp the
 * id of the path's first component that names one, or NULL.  0, or -1 if
 * the line is not of that form.
 */
static int
line_id(const char *l, size_t n, const char **idp)
{
	const char	*c1, *c2, *path, *end = l + n, *p, *q;
	size_t		 i;

	*idp = NULL;
	if ((c1 = memchr(l, ':', n)) == NULL ||
	    (c2 = memchr(c1 + 1, ':', end - c1 - 1)) == NULL)
		return -1;
	/* the hierarchy id: decimal digits */
	if (c1 == l)
		return -1;
	for (i = 0; l + i < c1; i++)
		if (l[i] < '0' || l[i] > '9')
			return -1;
	path = c2 + 1;
	if (path == end || *path != '/')
		return -1;
	for (p = path + 1; p < end && *idp == NULL; p = q + 1) {
		if ((q = memchr(p, '/', end - p)) == NULL)
			q = end;
		*idp = component_id(p, q - p);
	}
	return 0;
}

int
cgroup_container_id(const char *text, size_t len, char id[CGROUP_ID_LEN + 1])
{
	const char	*l, *nl, *end = text + len, *found = NULL, *lid;

	id[0] = '\0';
	if (len == 0 || len > CGROUP_TEXT_MAX || memchr(text, '\0', len))
		return -1;
	for (l = text; l < end; l = nl + 1) {
		if ((nl = memchr(l, '\n', end - l)) == NULL)
			nl = end;
		if (nl == l || line_id(l, nl - l, &lid) == -1)
			return -1;
		if (lid == NULL)
			continue;
		if (found != NULL && memcmp(found, lid, CGROUP_ID_LEN) != 0)
			return -1;
		found = lid;
	}
	if (found == NULL)
		return -1;
	memcpy(id, found, CGROUP_ID_LEN);
	id[CGROUP_ID_LEN] = '\0';
	return 0;
}

/*
 * The parent's side: which process a unix peer is and which cgroup it is
 * in, without a byte from the client.
 */

/* path's whole content into buf (NUL terminated): its length, or -1 if
 * it cannot be read or does not fit in size - 1 bytes. */
static ssize_t
read_small(const char *path, char *buf, size_t size)
{
	ssize_t	 n;
	size_t	 len = 0;
	int	 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	while (len < size - 1) {
		if ((n = read(fd, buf + len, size - 1 - len)) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (n == 0) {
			close(fd);
			buf[len] = '\0';
			return len;
		}
		len += n;
	}
	close(fd);
	return -1;
}

/* The pid a pidfd names (its fdinfo's "Pid:" line), or -1 if the process
 * is gone (-1 there) or outside our pid namespace (0). */
static pid_t
pidfd_pid(int fd)
{
	char		 path[64], buf[4096], *p, *nl;
	const char	*errstr;
	long long	 pid;

	(void)snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	if (read_small(path, buf, sizeof(buf)) == -1 ||
	    (p = strstr(buf, "\nPid:\t")) == NULL)
		return -1;
	p += sizeof("\nPid:\t") - 1;
	if ((nl = strchr(p, '\n')) != NULL)
		*nl = '\0';
	pid = strtonum(p, 1, INT32_MAX, &errstr);
	return errstr != NULL ? -1 : (pid_t)pid;
}

/* Field 22 of /proc/PID/stat, when the process started: 0 or -1. */
static int
start_time(pid_t pid, unsigned long long *t)
{
	char	 path[64], buf[1024], *p, *end;
	int	 i;

	(void)snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_small(path, buf, sizeof(buf)) == -1 ||
	    (p = strrchr(buf, ')')) == NULL)
		return -1;
	/* ") S ppid ...": field 3 follows the first space */
	for (i = 2; i < 22; i++)
		if ((p = strchr(p + 1, ' ')) == NULL)
			return -1;
	errno = 0;
	*t = strtoull(p + 1, &end, 10);
	return errno != 0 || end == p + 1 || *end != ' ' ? -1 : 0;
}

int
cgroup_peer_container(int pidfd, pid_t pid, char id[CGROUP_ID_LEN + 1],
    const char **why)
{
	static char		 text[CGROUP_TEXT_MAX + 1];
	char			 path[64];
	unsigned long long	 t0 = 0, t1 = 0;
	ssize_t			 n;
	int			 own = -1, rv = -1;

	id[0] = '\0';
	if (pidfd == -1) {
		/* No pidfd from the kernel: the pid, held from here on. */
		if (pid <= 0) {
			*why = "no pid";
			return -1;
		}
		if ((own = pidfd = pidfd_open(pid, 0)) == -1 ||
		    start_time(pid, &t0) == -1) {
			*why = "the process is gone";
			goto done;
		}
	} else if ((pid = pidfd_pid(pidfd)) == -1) {
		*why = "the process is gone";
		goto done;
	}
	(void)snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	if ((n = read_small(path, text, sizeof(text))) == -1) {
		*why = "its cgroup file cannot be read";
		goto done;
	}
	/* The pid still names the process the pidfd holds: the text is
	 * that process's (a pid is not reused before its process is gone). */
	if (pidfd_send_signal(pidfd, 0, NULL, 0) == -1 ||
	    (own != -1 && (start_time(pid, &t1) == -1 || t1 != t0))) {
		*why = "the process is gone";
		goto done;
	}
	if (cgroup_container_id(text, n, id) == -1) {
		*why = "not in a container";
		goto done;
	}
	rv = 0;
 done:
	if (own != -1)
		close(own);
	return rv;
}

int
cgroup_have_peerpidfd(void)
{
	static int	 have = -1;
	socklen_t	 len;
	int		 sp[2], fd;

	if (have != -1)
		return have;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1)
		return 1;	/* unknown: the strict answer, not kept */
	len = sizeof(fd);
	have = getsockopt(sp[0], SOL_SOCKET, SO_PEERPIDFD, &fd, &len) == 0 ||
	    errno != ENOPROTOOPT;
	if (have && len == sizeof(fd) && fd >= 0)
		close(fd);
	close(sp[0]);
	close(sp[1]);
	return have;
}

int
config_wants_container(const struct child_config *cc)
{
	size_t	 i, j;

	for (i = 0; i < cc->nclients; i++)
		for (j = 0; j < cc->clients[i].c.nm; j++)
			switch (cc->clients[i].c.m[j].kind) {
			case MATCH_CONTAINER_ID:
			case MATCH_CONTAINER_NAME:
			case MATCH_CONTAINER_LABEL:
				return 1;
			default:
				break;
			}
	return 0;
}
