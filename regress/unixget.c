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
 * A static HTTP/1.0 client over a unix socket, for the tests that run it
 * inside a busybox container (whose wget and nc cannot reach one):
 *
 *	unixget [-f] SOCKET PATH
 *	unixget -w DIR SOCKET PATH PATH2
 *
 * sends "GET PATH" and copies the answer to stdout.  With -f the process
 * that connected forks and exits at once; its child waits until the
 * connector is gone (reaped: a zombie is still a process) and only then
 * sends the request, on the socket it inherited.  With -w, two requests
 * on one kept-alive connection: after the first answer (read by its
 * Content-Length) it creates DIR/ready and waits (20 s at most) for
 * DIR/go before it sends the second.
 */

#define _GNU_SOURCE	/* strcasestr */

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <fcntl.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static __attribute__((__noreturn__)) void
die(const char *what)
{
	fprintf(stderr, "unixget: %s: %s\n", what, strerror(errno));
	exit(2);
}

/* The connector, pid, is reaped; 10 s at most. */
static void
wait_gone(pid_t pid)
{
	struct timespec	 ts = { 0, 10 * 1000 * 1000 };
	int		 i;

	for (i = 0; i < 1000; i++) {
		if (kill(pid, 0) == -1 && errno == ESRCH)
			return;
		nanosleep(&ts, NULL);
	}
	fprintf(stderr, "unixget: the connector %d is still there\n",
	    (int)pid);
	exit(2);
}

/* One answer with a Content-Length, to stdout. */
static void
one_answer(int fd)
{
	char	 buf[8192], *end, *cl;
	size_t	 have = 0, need;
	ssize_t	 n;

	for (;;) {
		if (have == sizeof(buf) - 1)
			exit(2);
		if ((n = read(fd, buf + have, sizeof(buf) - 1 - have)) <= 0)
			die("read");
		have += n;
		buf[have] = '\0';
		if ((end = strstr(buf, "\r\n\r\n")) != NULL)
			break;
	}
	if ((cl = strcasestr(buf, "\r\nContent-Length:")) == NULL || cl > end)
		exit(2);
	need = (end + 4 - buf) + strtoul(cl + 17, NULL, 10);
	while (have < need) {
		if (need >= sizeof(buf))
			exit(2);
		if ((n = read(fd, buf + have, need - have)) <= 0)
			die("read");
		have += n;
	}
	if (fwrite(buf, 1, have, stdout) != have)
		die("fwrite");
	fflush(stdout);
}

static void
wait_go(const char *dir)
{
	struct timespec	 ts = { 0, 50 * 1000 * 1000 };
	char		 path[512];
	int		 i, fd;

	snprintf(path, sizeof(path), "%s/ready", dir);
	if ((fd = open(path, O_WRONLY | O_CREAT, 0644)) == -1)
		die(path);
	close(fd);
	snprintf(path, sizeof(path), "%s/go", dir);
	for (i = 0; i < 400; i++) {
		if (access(path, F_OK) == 0)
			return;
		nanosleep(&ts, NULL);
	}
	fprintf(stderr, "unixget: no %s\n", path);
	exit(2);
}

int
main(int argc, char *argv[])
{
	struct sockaddr_un	 sun;
	char			 buf[8192];
	ssize_t			 n;
	int			 fd, len, fork_off = 0;
	const char		*dir = NULL;
	pid_t			 connector;

	if (argc > 1 && strcmp(argv[1], "-f") == 0) {
		fork_off = 1;
		argc--;
		argv++;
	} else if (argc > 2 && strcmp(argv[1], "-w") == 0) {
		dir = argv[2];
		argc -= 2;
		argv += 2;
	}
	if (argc != (dir != NULL ? 4 : 3)) {
		fprintf(stderr, "usage: unixget [-f] socket path\n"
		    "       unixget -w dir socket path path2\n");
		return 2;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(argv[1]) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "unixget: socket path too long\n");
		return 2;
	}
	strcpy(sun.sun_path, argv[1]);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		die("socket");
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		die("connect");
	if (fork_off) {
		connector = getpid();
		switch (fork()) {
		case -1:
			die("fork");
		case 0:
			wait_gone(connector);
			break;
		default:
			_exit(0);
		}
	}
	if (dir != NULL) {
		len = snprintf(buf, sizeof(buf), "GET %s HTTP/1.1\r\n"
		    "Host: moatd\r\n\r\n", argv[2]);
		if (len < 0 || (size_t)len >= sizeof(buf) ||
		    write(fd, buf, len) != len)
			die("write");
		one_answer(fd);
		wait_go(dir);
		argv[2] = argv[3];
	}
	len = snprintf(buf, sizeof(buf), "GET %s HTTP/1.0\r\nHost: moatd\r\n"
	    "\r\n", argv[2]);
	if (len < 0 || (size_t)len >= sizeof(buf))
		return 2;
	if (write(fd, buf, len) != len)
		die("write");
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (fwrite(buf, 1, n, stdout) != (size_t)n)
			die("fwrite");
	if (n == -1)
		die("read");
	return 0;
}
