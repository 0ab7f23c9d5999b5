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
 * Unit tests for daemon/sd.c: notifications to a datagram socket the test
 * owns (path and abstract), sockets passed on fd 3 and up (in a forked
 * child, so the runner's own descriptors stay as they are), and how
 * passed sockets are given to listeners.
 */

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"
#include "moatd.h"

#define HIGH_FD		64	/* where the child parks descriptors */

static char	 logged[1024];

static void
sink(int pri, const char *msg)
{
	strlcpy(logged, msg, sizeof(logged));
}

/* Capture log lines instead of printing them (test_log does the same). */
static void
log_capture(void)
{
	logged[0] = '\0';
	log_init(0, LOG_DEBUG, LOG_DAEMON);
	log_setsink(sink);
}

static void
log_release(void)
{
	log_setsink(NULL);
	log_init(1, LOG_INFO, LOG_DAEMON);
}

/* A datagram socket bound to path, or to "@name" in the abstract
 * namespace, as systemd's notification socket. */
static int
dgram_bind(const char *name)
{
	struct sockaddr_un	 sun;
	socklen_t		 sl;
	size_t			 len = strlen(name);
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	ck_assert_uint_lt(len, sizeof(sun.sun_path));
	memcpy(sun.sun_path, name, len);
	sl = offsetof(struct sockaddr_un, sun_path) + len;
	if (name[0] == '@')
		sun.sun_path[0] = '\0';
	else
		sl++;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sl), 0);
	return fd;
}

/* The next datagram, NUL-terminated; -1 if none is queued. */
static ssize_t
dgram_recv(int fd, char *buf, size_t len)
{
	ssize_t	 n;

	n = recv(fd, buf, len - 1, MSG_DONTWAIT);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

START_TEST(test_sd_notify_path)
{
	const char	*want =
	    "READY=1\nSTATUS=3 relays, backend unix:///var/run/docker.sock";
	char		 dir[] = "/tmp/moatd-sd.XXXXXX", path[128], buf[512];
	int		 fd;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/notify", dir);
	fd = dgram_bind(path);
	setenv("NOTIFY_SOCKET", path, 1);

	ck_assert_int_eq(sd_notify("READY=1"), 0);
	ck_assert_int_eq(dgram_recv(fd, buf, sizeof(buf)), 7);
	ck_assert_str_eq(buf, "READY=1");
	/* Several assignments go as one datagram, as written. */
	ck_assert_int_eq(sd_notifyf("READY=1\nSTATUS=%d relays, backend %s",
	    3, "unix:///var/run/docker.sock"), 0);
	ck_assert_int_eq(dgram_recv(fd, buf, sizeof(buf)), strlen(want));
	ck_assert_str_eq(buf, want);
	ck_assert_int_eq(sd_notify("STOPPING=1"), 0);
	ck_assert_int_eq(dgram_recv(fd, buf, sizeof(buf)), 10);
	ck_assert_str_eq(buf, "STOPPING=1");
	/* Exactly one datagram per call. */
	ck_assert_int_eq(dgram_recv(fd, buf, sizeof(buf)), -1);

	unsetenv("NOTIFY_SOCKET");
	close(fd);
	unlink(path);
	rmdir(dir);
}
END_TEST

START_TEST(test_sd_notify_abstract)
{
	char	 name[64], buf[512];
	int	 fd;

	snprintf(name, sizeof(name), "@moatd-test-sd/%ld/%ld", (long)getpid(),
	    (long)time(NULL));
	fd = dgram_bind(name);
	setenv("NOTIFY_SOCKET", name, 1);
	ck_assert_int_eq(sd_notify("READY=1"), 0);
	ck_assert_int_eq(dgram_recv(fd, buf, sizeof(buf)), 7);
	ck_assert_str_eq(buf, "READY=1");
	unsetenv("NOTIFY_SOCKET");
	close(fd);
}
END_TEST

START_TEST(test_sd_notify_reloading)
{
	char			 dir[] = "/tmp/moatd-sd.XXXXXX", path[128];
	char			 buf[512];
	struct timespec		 t0, t1;
	unsigned long long	 usec, lo, hi;
	int			 fd, off = 0;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/notify", dir);
	fd = dgram_bind(path);
	setenv("NOTIFY_SOCKET", path, 1);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(sd_notify_reloading(), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ck_assert_int_gt(dgram_recv(fd, buf, sizeof(buf)), 0);
	ck_assert_int_eq(sscanf(buf, "RELOADING=1\nMONOTONIC_USEC=%llu%n",
	    &usec, &off), 1);
	ck_assert_uint_eq((size_t)off, strlen(buf));
	lo = (unsigned long long)t0.tv_sec * 1000000 + t0.tv_nsec / 1000;
	hi = (unsigned long long)t1.tv_sec * 1000000 + t1.tv_nsec / 1000;
	ck_assert_uint_ge(usec, lo);
	ck_assert_uint_le(usec, hi);

	unsetenv("NOTIFY_SOCKET");
	close(fd);
	unlink(path);
	rmdir(dir);
}
END_TEST

START_TEST(test_sd_notify_not_systemd)
{
	unsetenv("NOTIFY_SOCKET");
	unsetenv("INVOCATION_ID");
	ck_assert_int_eq(sd_notify("READY=1"), 0);
	ck_assert_int_eq(sd_under_systemd(), 0);
	setenv("NOTIFY_SOCKET", "", 1);
	ck_assert_int_eq(sd_notify("READY=1"), 0);
	ck_assert_int_eq(sd_under_systemd(), 0);
	setenv("NOTIFY_SOCKET", "/run/systemd/notify", 1);
	ck_assert_int_ne(sd_under_systemd(), 0);
	unsetenv("NOTIFY_SOCKET");
	/* Type=simple services have no NOTIFY_SOCKET but an invocation. */
	setenv("INVOCATION_ID", "0123456789abcdef0123456789abcdef", 1);
	ck_assert_int_ne(sd_under_systemd(), 0);
	unsetenv("INVOCATION_ID");
}
END_TEST

START_TEST(test_sd_notify_errors)
{
	char	 dir[] = "/tmp/moatd-sd.XXXXXX", path[128], big[200];
	char	*huge;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	log_capture();
	setenv("NOTIFY_SOCKET", "relative/notify", 1);
	ck_assert_int_eq(sd_notify("READY=1"), -1);
	ck_assert_ptr_nonnull(strstr(logged, "not a path"));
	setenv("NOTIFY_SOCKET", "@", 1);
	ck_assert_int_eq(sd_notify("READY=1"), -1);
	memset(big, 'a', sizeof(big) - 1);
	big[0] = '/';
	big[sizeof(big) - 1] = '\0';
	setenv("NOTIFY_SOCKET", big, 1);
	ck_assert_int_eq(sd_notify("READY=1"), -1);
	ck_assert_ptr_nonnull(strstr(logged, "too long"));
	/* Nobody listening there. */
	snprintf(path, sizeof(path), "%s/nobody", dir);
	setenv("NOTIFY_SOCKET", path, 1);
	logged[0] = '\0';
	ck_assert_int_eq(sd_notify("READY=1"), -1);
	ck_assert_ptr_nonnull(strstr(logged, path));
	/* A state that does not fit one call's buffer is refused whole. */
	huge = malloc(8192);
	ck_assert_ptr_nonnull(huge);
	memset(huge, 'x', 8191);
	huge[8191] = '\0';
	ck_assert_int_eq(sd_notifyf("STATUS=%s", huge), -1);
	free(huge);
	unsetenv("NOTIFY_SOCKET");
	log_release();
	rmdir(dir);
}
END_TEST

/*
 * Socket activation runs in a forked child: it puts sockets on fd 3 and
 * up, and sets LISTEN_PID to its own pid.  The child reports the first
 * failed check through a pipe parked on a high descriptor.
 */
static char	 child_why[512];

#define CHILD_CHECK(cond) do {						\
	if (!(cond)) {							\
		snprintf(child_why, sizeof(child_why), "line %d: %s",	\
		    __LINE__, #cond);					\
		return -1;						\
	}								\
} while (0)

typedef int	(*child_fn)(void);

static void
run_in_child(child_fn fn)
{
	char	 buf[sizeof(child_why) + 1];
	pid_t	 pid;
	ssize_t	 n;
	int	 pfd[2], status, w;

	ck_assert_int_eq(pipe(pfd), 0);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		w = fcntl(pfd[1], F_DUPFD_CLOEXEC, HIGH_FD + 10);
		close(pfd[0]);
		close(pfd[1]);
		child_why[0] = '\0';
		log_capture();
		if (fn() == -1) {
			if (logged[0] != '\0')
				snprintf(child_why + strlen(child_why),
				    sizeof(child_why) - strlen(child_why),
				    " (log: %s)", logged);
			if (write(w, child_why, strlen(child_why)) == -1)
				_exit(2);
			_exit(1);
		}
		_exit(0);
	}
	close(pfd[1]);
	n = read(pfd[0], buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(pfd[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "child: %s (status %d)", buf, status);
}

/* Put fd on target (closing whatever was there); fd is consumed. */
static int
put_on(int fd, int target)
{
	int	 high;

	if (fd == -1)
		return -1;
	if ((high = fcntl(fd, F_DUPFD, HIGH_FD)) == -1)
		return -1;
	close(fd);
	if (dup2(high, target) == -1)
		return -1;
	close(high);
	return 0;
}

static int
tcp_listener(int backlog)
{
	struct sockaddr_in	 sin;
	int			 fd;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    (backlog > 0 && listen(fd, backlog) == -1)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* An abstract unix listener: no file to clean up after the child. */
static int
unix_listener(void)
{
	struct sockaddr_un	 sun;
	socklen_t		 sl;
	int			 fd, len;

	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		return -1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	len = snprintf(sun.sun_path + 1, sizeof(sun.sun_path) - 1,
	    "moatd-test-sd/%ld", (long)getpid());
	sl = offsetof(struct sockaddr_un, sun_path) + 1 + len;
	if (bind(fd, (struct sockaddr *)&sun, sl) == -1 ||
	    listen(fd, 5) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
set_listen_env(pid_t pid, const char *nfds, const char *names)
{
	char	 s[32];

	snprintf(s, sizeof(s), "%ld", (long)pid);
	setenv("LISTEN_PID", s, 1);
	setenv("LISTEN_FDS", nfds, 1);
	if (names != NULL)
		setenv("LISTEN_FDNAMES", names, 1);
	else
		unsetenv("LISTEN_FDNAMES");
}

static int
env_clean(void)
{
	return getenv("LISTEN_PID") == NULL && getenv("LISTEN_FDS") ==
	    NULL && getenv("LISTEN_FDNAMES") == NULL;
}

static int
child_two_sockets(void)
{
	struct sd_socket	 s[4];
	struct sockaddr_in	 sin;
	socklen_t		 sl = sizeof(sin);
	int			 n, c;

	CHILD_CHECK(put_on(tcp_listener(5), 3) == 0);
	CHILD_CHECK(put_on(unix_listener(), 4) == 0);
	/* As systemd passes them: no close-on-exec, blocking. */
	CHILD_CHECK(fcntl(3, F_GETFD) == 0 && fcntl(4, F_GETFD) == 0);
	CHILD_CHECK((fcntl(3, F_GETFL) & O_NONBLOCK) == 0);
	set_listen_env(getpid(), "2", "tcp:unix");

	n = sd_listen_fds(s, 4);
	CHILD_CHECK(n == 2);
	CHILD_CHECK(s[0].fd == 3 && s[1].fd == 4);
	CHILD_CHECK(strcmp(s[0].name, "tcp") == 0);
	CHILD_CHECK(strcmp(s[1].name, "unix") == 0);
	CHILD_CHECK(s[0].family == AF_INET && s[1].family == AF_UNIX);
	CHILD_CHECK(fcntl(3, F_GETFD) == FD_CLOEXEC);
	CHILD_CHECK(fcntl(4, F_GETFD) == FD_CLOEXEC);
	CHILD_CHECK((fcntl(3, F_GETFL) & O_NONBLOCK) != 0);
	CHILD_CHECK((fcntl(4, F_GETFL) & O_NONBLOCK) != 0);
	CHILD_CHECK(env_clean());
	CHILD_CHECK(strstr(logged, "systemd passed fd 4 \"unix\": "
	    "@moatd-test-sd/") != NULL);

	/* Still the very listener: a client gets through, accept does not
	 * block once the queue is empty. */
	CHILD_CHECK(getsockname(3, (struct sockaddr *)&sin, &sl) == 0);
	CHILD_CHECK((c = socket(AF_INET, SOCK_STREAM, 0)) != -1);
	CHILD_CHECK(connect(c, (struct sockaddr *)&sin, sl) == 0);
	CHILD_CHECK((n = accept(3, NULL, NULL)) != -1);
	close(n);
	CHILD_CHECK(accept(3, NULL, NULL) == -1 && errno == EAGAIN);
	close(c);
	return 0;
}

START_TEST(test_sd_listen_fds)
{
	run_in_child(child_two_sockets);
}
END_TEST

static int
child_pid_mismatch(void)
{
	struct sd_socket	 s[4];

	CHILD_CHECK(put_on(tcp_listener(5), 3) == 0);
	set_listen_env(getppid(), "1", "tcp");
	CHILD_CHECK(sd_listen_fds(s, 4) == 0);
	/* Not ours: left exactly as it was, and not closed. */
	CHILD_CHECK(fcntl(3, F_GETFD) == 0);
	CHILD_CHECK((fcntl(3, F_GETFL) & O_NONBLOCK) == 0);
	CHILD_CHECK(env_clean());

	/* Not socket-activated at all. */
	CHILD_CHECK(sd_listen_fds(s, 4) == 0);
	return 0;
}

START_TEST(test_sd_listen_pid_mismatch)
{
	run_in_child(child_pid_mismatch);
}
END_TEST

static int
child_not_listening(void)
{
	struct sd_socket	 s[4];

	/* Bound, never listen()ed. */
	CHILD_CHECK(put_on(tcp_listener(0), 3) == 0);
	set_listen_env(getpid(), "1", "tcp");
	CHILD_CHECK(sd_listen_fds(s, 4) == -1);
	CHILD_CHECK(strstr(logged, "fd 3 (tcp): not listening") != NULL);
	CHILD_CHECK(env_clean());
	return 0;
}

START_TEST(test_sd_listen_not_listening)
{
	run_in_child(child_not_listening);
}
END_TEST

static int
child_not_stream(void)
{
	struct sd_socket	 s[4];

	CHILD_CHECK(put_on(socket(AF_INET, SOCK_DGRAM, 0), 3) == 0);
	set_listen_env(getpid(), "1", NULL);
	CHILD_CHECK(sd_listen_fds(s, 4) == -1);
	CHILD_CHECK(strstr(logged, "fd 3 (unknown): not a stream socket") !=
	    NULL);

	CHILD_CHECK(put_on(open("/dev/null", O_RDONLY), 3) == 0);
	set_listen_env(getpid(), "1", NULL);
	CHILD_CHECK(sd_listen_fds(s, 4) == -1);
	CHILD_CHECK(strstr(logged, "fd 3 (unknown): not a socket") != NULL);

	/* A good socket followed by a bad one still fails as a whole. */
	CHILD_CHECK(put_on(tcp_listener(5), 3) == 0);
	CHILD_CHECK(put_on(tcp_listener(0), 4) == 0);
	set_listen_env(getpid(), "2", "a:b");
	CHILD_CHECK(sd_listen_fds(s, 4) == -1);
	CHILD_CHECK(strstr(logged, "fd 4 (b): not listening") != NULL);
	return 0;
}

START_TEST(test_sd_listen_not_stream)
{
	run_in_child(child_not_stream);
}
END_TEST

static int
child_names(void)
{
	struct sd_socket	 s[4];

	CHILD_CHECK(put_on(tcp_listener(5), 3) == 0);
	CHILD_CHECK(put_on(tcp_listener(5), 4) == 0);

	/* Without LISTEN_FDNAMES, as libsystemd: "unknown". */
	set_listen_env(getpid(), "2", NULL);
	CHILD_CHECK(sd_listen_fds(s, 4) == 2);
	CHILD_CHECK(strcmp(s[0].name, "unknown") == 0);
	CHILD_CHECK(strcmp(s[1].name, "unknown") == 0);

	/* Empty names are names too. */
	set_listen_env(getpid(), "2", ":x");
	CHILD_CHECK(sd_listen_fds(s, 4) == 2);
	CHILD_CHECK(strcmp(s[0].name, "") == 0);
	CHILD_CHECK(strcmp(s[1].name, "x") == 0);

	set_listen_env(getpid(), "2", "tcp");
	CHILD_CHECK(sd_listen_fds(s, 4) == -1);
	CHILD_CHECK(strstr(logged, "names 1 sockets, LISTEN_FDS passes 2") !=
	    NULL);
	set_listen_env(getpid(), "2", "a:b:c");
	CHILD_CHECK(sd_listen_fds(s, 4) == -1);
	CHILD_CHECK(env_clean());
	set_listen_env(getpid(), "2", "a:"
	    "0123456789012345678901234567890123456789012345678901234567890123");
	CHILD_CHECK(sd_listen_fds(s, 4) == -1);
	CHILD_CHECK(strstr(logged, "name of fd 4 too long") != NULL);

	/* More than the caller can take. */
	set_listen_env(getpid(), "2", "a:b");
	CHILD_CHECK(sd_listen_fds(s, 1) == -1);
	CHILD_CHECK(strstr(logged, "passed 2 sockets, at most 1") != NULL);

	/* Garbage in the variables. */
	set_listen_env(getpid(), "two", NULL);
	CHILD_CHECK(sd_listen_fds(s, 4) == -1);
	setenv("LISTEN_PID", "12x", 1);
	CHILD_CHECK(sd_listen_fds(s, 4) == -1);
	CHILD_CHECK(env_clean());
	set_listen_env(getpid(), "0", NULL);
	CHILD_CHECK(sd_listen_fds(s, 4) == 0);
	return 0;
}

START_TEST(test_sd_listen_names)
{
	run_in_child(child_names);
}
END_TEST

/*
 * sd_bind_listeners needs no fd 3: any open sockets will do as "passed"
 * ones.
 */
struct bind_case {
	struct moat_config	 c;
	struct sd_socket	 s[8];
	int			 fds[8];
	int			 n;
};

static void
bc_init(struct bind_case *b, const char *names)
{
	char		 buf[256], *p, *name;
	int		 fd;

	memset(b, 0, sizeof(*b));
	strlcpy(buf, names, sizeof(buf));
	for (p = buf; (name = strsep(&p, ",")) != NULL; ) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		ck_assert_int_ne(fd, -1);
		b->s[b->n].fd = b->fds[b->n] = fd;
		b->s[b->n].family = AF_UNIX;
		strlcpy(b->s[b->n].name, name, sizeof(b->s[b->n].name));
		b->n++;
	}
}

static void
bc_listener(struct bind_case *b, enum addr_kind kind, const char *sdname)
{
	struct moat_listener	*l = &b->c.listeners[b->c.nlisteners];

	l->id = b->c.nlisteners++;
	l->fd = -1;
	l->mode = 0660;
	l->addr.kind = kind;
	if (kind == ADDR_SYSTEMD) {
		strlcpy(l->addr.sdname, sdname, sizeof(l->addr.sdname));
		snprintf(l->addr.text, sizeof(l->addr.text), "systemd \"%s\"",
		    sdname);
	} else
		strlcpy(l->addr.text, sdname, sizeof(l->addr.text));
}

static int
fd_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1;
}

static void
bc_close(struct bind_case *b)
{
	int	 i;

	for (i = 0; i < b->n; i++)
		if (fd_open(b->fds[i]))
			close(b->fds[i]);
}

START_TEST(test_sd_bind_no_config)
{
	struct bind_case	 b;
	int			 i;

	bc_init(&b, "tcp,unix");
	log_capture();
	ck_assert_int_eq(sd_bind_listeners(&b.c, b.s, b.n), 0);
	log_release();
	ck_assert_uint_eq(b.c.nlisteners, 2);
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(b.c.listeners[i].id, i);
		ck_assert_int_eq(b.c.listeners[i].addr.kind, ADDR_SYSTEMD);
		ck_assert_int_eq(b.c.listeners[i].fd, b.fds[i]);
		ck_assert_int_eq(b.s[i].fd, -1);
		ck_assert_int_eq(b.c.listeners[i].mode, 0660);
	}
	ck_assert_str_eq(b.c.listeners[0].addr.sdname, "tcp");
	ck_assert_str_eq(b.c.listeners[0].addr.text, "systemd:tcp");
	ck_assert_str_eq(b.c.listeners[1].addr.sdname, "unix");
	ck_assert_str_eq(b.c.listeners[1].addr.text, "systemd:unix");
	ck_assert_str_eq(b.c.listeners[1].addr.path, "");
	bc_close(&b);

	/* Nothing passed, nothing configured: the caller's default. */
	memset(&b, 0, sizeof(b));
	ck_assert_int_eq(sd_bind_listeners(&b.c, b.s, 0), 0);
	ck_assert_uint_eq(b.c.nlisteners, 0);
}
END_TEST

START_TEST(test_sd_bind_named)
{
	struct bind_case	 b;

	bc_init(&b, "tcp,unix");
	bc_listener(&b, ADDR_SYSTEMD, "unix");
	log_capture();
	ck_assert_int_eq(sd_bind_listeners(&b.c, b.s, b.n), 0);
	ck_assert_uint_eq(b.c.nlisteners, 1);
	ck_assert_int_eq(b.c.listeners[0].fd, b.fds[1]);
	/* Nobody wanted "tcp": closed, and said so. */
	ck_assert_int_eq(fd_open(b.fds[0]), 0);
	ck_assert_ptr_nonnull(strstr(logged, "\"tcp\""));
	ck_assert_ptr_nonnull(strstr(logged, "no listener wants it"));
	ck_assert_int_eq(b.s[0].fd, -1);
	ck_assert_int_eq(b.s[1].fd, -1);
	log_release();
	bc_close(&b);
}
END_TEST

START_TEST(test_sd_bind_named_missing)
{
	struct bind_case	 b;

	bc_init(&b, "tcp,unix");
	bc_listener(&b, ADDR_SYSTEMD, "tls");
	log_capture();
	ck_assert_int_eq(sd_bind_listeners(&b.c, b.s, b.n), -1);
	ck_assert_ptr_nonnull(strstr(logged,
	    "systemd passed no socket named \"tls\""));
	log_release();
	bc_close(&b);

	/* Not socket-activated, yet the configuration wants a socket. */
	memset(&b, 0, sizeof(b));
	bc_listener(&b, ADDR_SYSTEMD, "");
	log_capture();
	ck_assert_int_eq(sd_bind_listeners(&b.c, b.s, 0), -1);
	ck_assert_ptr_nonnull(strstr(logged, "systemd passed no socket"));
	log_release();
}
END_TEST

START_TEST(test_sd_bind_catch_all)
{
	struct bind_case	 b;
	struct moat_listener	*l;

	/* The catch-all comes first in the configuration, yet the named
	 * listener gets its socket. */
	bc_init(&b, "unix,tcp,unix2");
	bc_listener(&b, ADDR_TCP, "tcp://127.0.0.1:2375");
	bc_listener(&b, ADDR_SYSTEMD, "");
	b.c.listeners[1].mode = 0600;
	bc_listener(&b, ADDR_SYSTEMD, "tcp");
	log_capture();
	ck_assert_int_eq(sd_bind_listeners(&b.c, b.s, b.n), 0);
	log_release();
	ck_assert_uint_eq(b.c.nlisteners, 4);
	ck_assert_int_eq(b.c.listeners[0].fd, -1);
	ck_assert_int_eq(b.c.listeners[2].fd, b.fds[1]);
	ck_assert_int_eq(b.c.listeners[1].fd, b.fds[0]);
	/* The catch-all's second socket: a copy of it, with its own id. */
	l = &b.c.listeners[3];
	ck_assert_int_eq(l->id, 3);
	ck_assert_int_eq(l->fd, b.fds[2]);
	ck_assert_int_eq(l->addr.kind, ADDR_SYSTEMD);
	ck_assert_str_eq(l->addr.sdname, "");
	ck_assert_str_eq(l->addr.text, "systemd \"\"");
	ck_assert_int_eq(l->mode, 0600);
	ck_assert_int_eq(fd_open(b.fds[0]) && fd_open(b.fds[1]) &&
	    fd_open(b.fds[2]), 1);
	bc_close(&b);
}
END_TEST

START_TEST(test_sd_bind_same_name)
{
	struct bind_case	 b;

	/* A socket unit without FileDescriptorName= names every socket
	 * after itself: the listener naming it takes them all. */
	bc_init(&b, "moatd.socket,moatd.socket");
	bc_listener(&b, ADDR_SYSTEMD, "moatd.socket");
	log_capture();
	ck_assert_int_eq(sd_bind_listeners(&b.c, b.s, b.n), 0);
	log_release();
	ck_assert_uint_eq(b.c.nlisteners, 2);
	ck_assert_int_eq(b.c.listeners[0].fd, b.fds[0]);
	ck_assert_int_eq(b.c.listeners[1].fd, b.fds[1]);
	bc_close(&b);

	/* Then a second listener of that name has nothing left. */
	bc_init(&b, "tcp,tcp");
	bc_listener(&b, ADDR_SYSTEMD, "tcp");
	bc_listener(&b, ADDR_SYSTEMD, "tcp");
	log_capture();
	ck_assert_int_eq(sd_bind_listeners(&b.c, b.s, b.n), -1);
	log_release();
	bc_close(&b);

	/* Nor has a second catch-all. */
	bc_init(&b, "a,b");
	bc_listener(&b, ADDR_SYSTEMD, "");
	bc_listener(&b, ADDR_SYSTEMD, "");
	log_capture();
	ck_assert_int_eq(sd_bind_listeners(&b.c, b.s, b.n), -1);
	ck_assert_ptr_nonnull(strstr(logged, "no unclaimed socket"));
	log_release();
	bc_close(&b);
}
END_TEST

START_TEST(test_sd_bind_unclaimed)
{
	struct bind_case	 b;

	/* Listeners of our own only: every passed socket is closed. */
	bc_init(&b, "tcp,unix");
	bc_listener(&b, ADDR_TCP, "tcp://127.0.0.1:2375");
	log_capture();
	ck_assert_int_eq(sd_bind_listeners(&b.c, b.s, b.n), 0);
	log_release();
	ck_assert_uint_eq(b.c.nlisteners, 1);
	ck_assert_int_eq(b.c.listeners[0].fd, -1);
	ck_assert_int_eq(fd_open(b.fds[0]), 0);
	ck_assert_int_eq(fd_open(b.fds[1]), 0);
}
END_TEST

START_TEST(test_sd_bind_full)
{
	struct bind_case	 b;
	int			 i;

	bc_init(&b, "a,b,c");
	for (i = 0; i < MOAT_LISTENERS_MAX - 2; i++)
		bc_listener(&b, ADDR_TCP, "tcp://127.0.0.1:1");
	bc_listener(&b, ADDR_SYSTEMD, "");
	log_capture();
	ck_assert_int_eq(sd_bind_listeners(&b.c, b.s, b.n), -1);
	ck_assert_ptr_nonnull(strstr(logged, "too many listeners"));
	log_release();
	bc_close(&b);
}
END_TEST

Suite *
sd_suite(void)
{
	Suite	*s = suite_create("sd");
	TCase	*tc;

	tc = tcase_create("notify");
	tcase_add_test(tc, test_sd_notify_path);
	tcase_add_test(tc, test_sd_notify_abstract);
	tcase_add_test(tc, test_sd_notify_reloading);
	tcase_add_test(tc, test_sd_notify_not_systemd);
	tcase_add_test(tc, test_sd_notify_errors);
	suite_add_tcase(s, tc);

	tc = tcase_create("listen_fds");
	tcase_add_test(tc, test_sd_listen_fds);
	tcase_add_test(tc, test_sd_listen_pid_mismatch);
	tcase_add_test(tc, test_sd_listen_not_listening);
	tcase_add_test(tc, test_sd_listen_not_stream);
	tcase_add_test(tc, test_sd_listen_names);
	suite_add_tcase(s, tc);

	tc = tcase_create("bind");
	tcase_add_test(tc, test_sd_bind_no_config);
	tcase_add_test(tc, test_sd_bind_named);
	tcase_add_test(tc, test_sd_bind_named_missing);
	tcase_add_test(tc, test_sd_bind_catch_all);
	tcase_add_test(tc, test_sd_bind_same_name);
	tcase_add_test(tc, test_sd_bind_unclaimed);
	tcase_add_test(tc, test_sd_bind_full);
	suite_add_tcase(s, tc);
	return s;
}
