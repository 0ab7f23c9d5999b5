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
 *
 * sends "GET PATH" and copies the answer to stdout.  With -f the process
 * that connected forks and exits at once; its child waits until the
 * connector is gone (reaped: a zombie is still a process) and only then
 * sends the request, on the socket it inherited.
 */

#include <sys/socket.h>
#include <sys/un.h>

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

int
main(int argc, char *argv[])
{
	struct sockaddr_un	 sun;
	char			 buf[8192];
	ssize_t			 n;
	int			 fd, len, fork_off = 0;
	pid_t			 connector;

	if (argc > 1 && strcmp(argv[1], "-f") == 0) {
		fork_off = 1;
		argc--;
		argv++;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: unixget [-f] socket path\n");
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
