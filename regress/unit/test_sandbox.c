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
 * Unit tests for privsep/sandbox.c (as root).  Each case runs in a
 * re-executed child (child.h) that demotes itself and enters a role's
 * filter: a table of system calls says what each role must survive and
 * what must kill it (and covers every entry of every list), loops shaped
 * like the policy and the relay and the ca's own signing show that the
 * libraries they use get by, abort() still aborts, and the lists moatd(8)
 * prints are sandbox.c's.
 */

#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <linux/tls.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD	77
#endif

#include "unit.h"
#include "child.h"
#include "conn.h"
#include "log.h"
#include "moatd.h"
#include "privsep.h"

/*
 * System calls tried inside the sandbox, with what each role must do:
 * OK (returns >= 0), ANY (returns at all), an errno, or KILL (SIGSYS),
 * which is what a role's column left out says.  Every call a role's list
 * allows has a row here that makes it (test_table_covers_lists).
 */
#define KILL	0
#define OK	(-1)
#define ANY	(-2)

/* Arguments filled in inside the child. */
#define A_TFD	(-0x7001L)	/* a TCP listener made before the filter */
#define A_PID	(-0x7002L)
#define A_PPID	(-0x7003L)
#define A_BUF	(-0x7004L)	/* 4 KiB of scratch, zeroed */
#define A_PAGE	(-0x7005L)	/* a page of our own, page-aligned */
#define A_PATH	(-0x7006L)	/* "/etc/passwd" */
#define A_EMPTY	(-0x7007L)	/* "" */
#define A_ARGV	(-0x7008L)	/* { "/bin/true", NULL } */
#define A_ONE	(-0x7009L)	/* pointer to int 1 */
#define A_LEN	(-0x700aL)	/* pointer to socklen_t 4 */
#define A_BIN	(-0x700bL)	/* "/bin/true" */
#define A_CRED	(-0x700cL)	/* pointer to socklen_t sizeof(struct ucred) */

struct call {
	const char	*name;
	long		 nr;
	long		 a[6];
	int		 want[PROC_NROLES];	/* by enum proc_role */
};

/* Columns: policy, relay, ca, forwarder, watcher. */
#define ALL(w)		{ (w), (w), (w), (w), (w) }
#define RELAY(w)	{ KILL, (w), KILL, KILL, KILL }
#define FWD(w)		{ KILL, KILL, KILL, (w), KILL }
/* the libevent loops: the relay and the forwarder */
#define LOOPS(w)	{ KILL, (w), KILL, (w), KILL }
/* epoll: the libevent loops and the watcher's */
#define EPOLL(w)	{ KILL, (w), KILL, (w), (w) }

static const struct call calls[] = {
	/* Forbidden to all: new sockets, exec, tracing, privileges. */
	{ "socket", SYS_socket, { AF_UNIX, SOCK_STREAM }, ALL(KILL) },
	{ "socketpair-inet", SYS_socketpair, { AF_INET, SOCK_STREAM, 0,
	    A_BUF }, ALL(KILL) },
	/* The forwarder's streams to its relay (closed by the child). */
	{ "socketpair", SYS_socketpair, { AF_UNIX, SOCK_STREAM, 0, A_BUF },
	    FWD(OK) },
	{ "connect", SYS_connect, { A_TFD, A_BUF, 16 }, ALL(KILL) },
	{ "bind", SYS_bind, { A_TFD, A_BUF, 16 }, ALL(KILL) },
	{ "listen", SYS_listen, { A_TFD, 1 }, ALL(KILL) },
	{ "execve", SYS_execve, { A_BIN, A_ARGV, 0 }, ALL(KILL) },
	{ "execveat", SYS_execveat, { AT_FDCWD, A_BIN, A_ARGV, 0, 0 },
	    ALL(KILL) },
	{ "ptrace", SYS_ptrace, { 0 }, ALL(KILL) },
	{ "clone", SYS_clone, { SIGCHLD }, ALL(KILL) },
	{ "kill", SYS_kill, { A_PPID, 0 }, ALL(KILL) },
	{ "tgkill-other", SYS_tgkill, { A_PPID, A_PPID, 0 }, ALL(KILL) },
	{ "mmap-exec", SYS_mmap, { 0, 4096, PROT_READ | PROT_EXEC,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0 }, ALL(KILL) },
	{ "mprotect-exec", SYS_mprotect, { A_PAGE, 4096,
	    PROT_READ | PROT_EXEC }, ALL(KILL) },
	{ "pipe2", SYS_pipe2, { A_BUF, 0 }, ALL(KILL) },
	/* The forwarder's and the relay's pipes for splice(2) (closed by
	 * the child), and their size. */
	{ "pipe2-nonblock", SYS_pipe2, { A_BUF, O_NONBLOCK | O_CLOEXEC },
	    LOOPS(OK) },
	{ "splice", SYS_splice, { -1, 0, -1, 0, 1, SPLICE_F_NONBLOCK },
	    LOOPS(EBADF) },
	{ "fcntl-setpipe", SYS_fcntl, { -1, F_SETPIPE_SZ, 65536 },
	    LOOPS(EBADF) },
	{ "eventfd2", SYS_eventfd2, { 0, 0 }, ALL(KILL) },
	{ "memfd_create", SYS_memfd_create, { A_EMPTY, 0 }, ALL(KILL) },
	{ "unshare", SYS_unshare, { CLONE_NEWUSER }, ALL(KILL) },
	{ "prctl", SYS_prctl, { PR_SET_DUMPABLE, 1 }, ALL(KILL) },
	{ "seccomp", SYS_seccomp, { 0 }, ALL(KILL) },
	{ "setuid", SYS_setuid, { 0 }, ALL(KILL) },
	{ "chroot", SYS_chroot, { A_EMPTY }, ALL(KILL) },
	{ "getppid", SYS_getppid, { 0 }, ALL(KILL) },
	{ "ioctl-tiocsti", SYS_ioctl, { 2, TIOCSTI, A_BUF }, ALL(KILL) },
	{ "fcntl-dupfd", SYS_fcntl, { 2, F_DUPFD, 0 }, ALL(KILL) },
	{ "madvise-dontfork", SYS_madvise, { A_PAGE, 4096, MADV_DONTFORK },
	    ALL(KILL) },
	{ "futex-lock-pi", SYS_futex, { A_BUF, FUTEX_LOCK_PI }, ALL(KILL) },
	{ "setsockopt-reuseaddr", SYS_setsockopt, { A_TFD, SOL_SOCKET,
	    SO_REUSEADDR, A_ONE, 4 }, ALL(KILL) },
	/*
	 * Gone from the lists: dprintf's fstat, lseek and TCGETS (log.c
	 * writes lines with write(2)), fcntl (received fds come with
	 * MSG_CMSG_CLOEXEC and are used as they are), mprotect (no thread
	 * arenas), malloc's other madvise advice, futex waits (one thread),
	 * signal handlers, a second epoll, send/recv (OpenSSL's socket BIO
	 * uses read and write), getsockname, the TCP keepalive options.
	 */
	{ "fstat", SYS_fstat, { 2, A_BUF }, ALL(KILL) },
	{ "lseek", SYS_lseek, { 2, 0, SEEK_CUR }, ALL(KILL) },
	{ "ioctl-tcgets", SYS_ioctl, { 2, TCGETS, A_BUF }, ALL(KILL) },
	{ "fcntl-getfl", SYS_fcntl, { 2, F_GETFL }, ALL(KILL) },
	{ "fcntl-setfd", SYS_fcntl, { 2, F_SETFD, FD_CLOEXEC }, ALL(KILL) },
	{ "mprotect", SYS_mprotect, { A_PAGE, 4096, PROT_READ }, ALL(KILL) },
	{ "madvise-dontneed", SYS_madvise, { A_PAGE, 4096, MADV_DONTNEED },
	    ALL(KILL) },
	{ "futex-wait", SYS_futex, { A_BUF, FUTEX_WAIT_PRIVATE, 1 },
	    ALL(KILL) },
	{ "rt_sigaction", SYS_rt_sigaction, { SIGUSR1, 0, A_BUF, 8 },
	    ALL(KILL) },
	{ "epoll_create1", SYS_epoll_create1, { EPOLL_CLOEXEC }, ALL(KILL) },
#ifdef SYS_epoll_create
	{ "epoll_create", SYS_epoll_create, { 1 }, ALL(KILL) },
#endif
	{ "accept", SYS_accept, { A_TFD, 0, 0 }, ALL(KILL) },
	{ "recvfrom", SYS_recvfrom, { A_TFD, A_BUF, 1, MSG_DONTWAIT },
	    ALL(KILL) },
	{ "sendto", SYS_sendto, { A_TFD, A_BUF, 1, MSG_DONTWAIT |
	    MSG_NOSIGNAL }, ALL(KILL) },
	{ "getsockname", SYS_getsockname, { A_TFD, A_BUF, A_LEN },
	    ALL(KILL) },
	{ "exit", SYS_exit, { 0 }, ALL(KILL) },

	/* The relay's network loop; the others have no business here. */
	{ "accept4", SYS_accept4, { A_TFD, 0, 0, SOCK_NONBLOCK |
	    SOCK_CLOEXEC }, RELAY(EAGAIN) },
	{ "accept4-blocking", SYS_accept4, { A_TFD, 0, 0, SOCK_CLOEXEC },
	    ALL(KILL) },
	{ "epoll_ctl", SYS_epoll_ctl, { -1, EPOLL_CTL_ADD, 0, A_BUF },
	    EPOLL(EBADF) },
	{ "epoll_pwait", SYS_epoll_pwait, { -1, A_BUF, 1, 0, 0, 8 },
	    EPOLL(EBADF) },
#ifdef SYS_epoll_wait
	{ "epoll_wait", SYS_epoll_wait, { -1, A_BUF, 1, 0 }, EPOLL(EBADF) },
#endif
	{ "read", SYS_read, { A_TFD, A_BUF, 1 }, LOOPS(ANY) },
	{ "writev", SYS_writev, { A_TFD, A_BUF, 0 }, LOOPS(ANY) },
	/* Gone with libevent's bufferevents: readv, FIONREAD. */
	{ "readv", SYS_readv, { A_TFD, A_BUF, 0 }, ALL(KILL) },
	{ "ioctl-fionread", SYS_ioctl, { A_TFD, FIONREAD, A_BUF },
	    ALL(KILL) },
	{ "shutdown-wr", SYS_shutdown, { A_TFD, SHUT_WR }, LOOPS(ANY) },
	{ "shutdown-rdwr", SYS_shutdown, { A_TFD, SHUT_RDWR }, ALL(KILL) },
	{ "shutdown-rd", SYS_shutdown, { A_TFD, SHUT_RD }, FWD(ANY) },
	/* a refused TLS client lingers on its own socket (tls_accept.c) */
	{ "dup", SYS_dup, { 2 }, ALL(KILL) },
	{ "getpeername", SYS_getpeername, { A_TFD, A_BUF, A_LEN },
	    RELAY(ENOTCONN) },
	{ "getsockopt-peercred", SYS_getsockopt, { A_TFD, SOL_SOCKET,
	    SO_PEERCRED, A_BUF, A_CRED }, RELAY(ANY) },
	/* a unix client's pidfd, for the parent (session.c) */
	{ "getsockopt-peerpidfd", SYS_getsockopt, { A_TFD, SOL_SOCKET,
	    SO_PEERPIDFD, A_BUF, A_LEN }, RELAY(ANY) },
	{ "getsockopt-peersec", SYS_getsockopt, { A_TFD, SOL_SOCKET,
	    SO_PEERSEC, A_BUF, A_LEN }, ALL(KILL) },
	{ "getsockopt-error", SYS_getsockopt, { A_TFD, SOL_SOCKET, SO_ERROR,
	    A_BUF, A_LEN }, ALL(KILL) },
	{ "setsockopt-nodelay", SYS_setsockopt, { A_TFD, IPPROTO_TCP,
	    TCP_NODELAY, A_ONE, 4 }, RELAY(OK) },
	/* kTLS: no "tls" ULP without CONFIG_TLS, no keys on a listener */
	{ "setsockopt-ulp", SYS_setsockopt, { A_TFD, IPPROTO_TCP, TCP_ULP,
	    A_BUF, 4 }, RELAY(ANY) },
	{ "setsockopt-tls-tx", SYS_setsockopt, { A_TFD, SOL_TLS, TLS_TX,
	    A_BUF, 4 }, RELAY(ANY) },
	{ "setsockopt-tls-rx", SYS_setsockopt, { A_TFD, SOL_TLS, TLS_RX,
	    A_BUF, 4 }, RELAY(ANY) },
	{ "setsockopt-keepalive", SYS_setsockopt, { A_TFD, SOL_SOCKET,
	    SO_KEEPALIVE, A_ONE, 4 }, ALL(KILL) },
	{ "sysinfo", SYS_sysinfo, { A_BUF }, LOOPS(OK) },

	/* Path lookups fail with EACCES in all. */
#ifdef SYS_open
	{ "open", SYS_open, { A_PATH, O_RDONLY }, ALL(EACCES) },
	{ "creat", SYS_creat, { A_PATH, 0600 }, ALL(EACCES) },
	{ "stat", SYS_stat, { A_PATH, A_BUF }, ALL(EACCES) },
	{ "lstat", SYS_lstat, { A_PATH, A_BUF }, ALL(EACCES) },
	{ "access", SYS_access, { A_PATH, R_OK }, ALL(EACCES) },
	{ "readlink", SYS_readlink, { A_PATH, A_BUF, 16 }, ALL(EACCES) },
#endif
	{ "openat", SYS_openat, { AT_FDCWD, A_PATH, O_RDONLY },
	    ALL(EACCES) },
	/* The policy worker's walk over a bind source (worker.c); in the
	 * empty chroot the path is not there (ENOENT), the call allowed. */
	{ "openat-path", SYS_openat, { AT_FDCWD, A_PATH,
	    O_PATH | O_NOFOLLOW | O_CLOEXEC },
	    { ANY, EACCES, EACCES, EACCES, EACCES } },
	{ "openat2", SYS_openat2, { AT_FDCWD, A_PATH, A_BUF, 24 },
	    ALL(EACCES) },
	{ "newfstatat", SYS_newfstatat, { AT_FDCWD, A_PATH, A_BUF, 0 },
	    ALL(EACCES) },
	/* fstat(2) as glibc makes it: the policy worker's walk only */
	{ "fstat-empty-path", SYS_newfstatat, { 2, A_EMPTY, A_BUF,
	    AT_EMPTY_PATH }, { OK, EACCES, EACCES, EACCES, EACCES } },
	{ "statx", SYS_statx, { AT_FDCWD, A_PATH, 0, 0x7ff, A_BUF },
	    ALL(EACCES) },
	{ "faccessat", SYS_faccessat, { AT_FDCWD, A_PATH, R_OK },
	    ALL(EACCES) },
	{ "faccessat2", SYS_faccessat2, { AT_FDCWD, A_PATH, R_OK, 0 },
	    ALL(EACCES) },
	{ "readlinkat", SYS_readlinkat, { AT_FDCWD, A_PATH, A_BUF, 16 },
	    ALL(EACCES) },

	/* What all need: channels, logs, malloc, clocks, abort. */
	{ "recvmsg", SYS_recvmsg, { A_TFD, A_BUF, MSG_DONTWAIT }, ALL(ANY) },
	{ "sendmsg", SYS_sendmsg, { A_TFD, A_BUF, MSG_DONTWAIT |
	    MSG_NOSIGNAL }, ALL(ANY) },
#ifdef SYS_poll
	{ "poll", SYS_poll, { 0, 0, 0 }, ALL(OK) },
#endif
	{ "ppoll", SYS_ppoll, { 0, 0, A_BUF, 0, 8 }, ALL(OK) },
	{ "restart_syscall", SYS_restart_syscall, { 0 }, ALL(ANY) },
	{ "write", SYS_write, { 2, A_BUF, 0 }, ALL(OK) },
	{ "close", SYS_close, { 1000 }, ALL(EBADF) },
	{ "brk", SYS_brk, { 0 }, ALL(OK) },
	{ "mmap", SYS_mmap, { 0, 8192, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0 }, ALL(OK) },
	{ "munmap", SYS_munmap, { 0, 0 }, ALL(EINVAL) },
	{ "mremap", SYS_mremap, { 0, 0, 0, MREMAP_MAYMOVE }, ALL(EINVAL) },
	{ "mremap-fixed", SYS_mremap, { 0, 0, 0, MREMAP_MAYMOVE |
	    MREMAP_FIXED, 0 }, ALL(KILL) },
	{ "madvise-hugepage", SYS_madvise, { A_PAGE, 4096, MADV_HUGEPAGE },
	    ALL(ANY) },
	{ "futex-wake", SYS_futex, { A_BUF, FUTEX_WAKE_PRIVATE, 1 },
	    ALL(OK) },
	{ "getrandom", SYS_getrandom, { A_BUF, 16, 0 }, ALL(OK) },
	{ "clock_gettime", SYS_clock_gettime, { CLOCK_MONOTONIC, A_BUF },
	    ALL(OK) },
	{ "gettimeofday", SYS_gettimeofday, { A_BUF, 0 }, ALL(OK) },
#ifdef SYS_time
	{ "time", SYS_time, { 0 }, ALL(OK) },
#endif
	{ "getpid", SYS_getpid, { 0 }, ALL(OK) },
	{ "tgkill-self", SYS_tgkill, { A_PID, A_PID, 0 }, ALL(OK) },
	{ "rt_sigprocmask", SYS_rt_sigprocmask, { SIG_BLOCK, 0, A_BUF, 8 },
	    ALL(OK) },
	{ "gettid", SYS_gettid, { 0 }, ALL(OK) },
};

/* Allowed, and made by every child as it ends rather than by a row. */
static const char *const made_by_exit[] = { "exit_group" };

#define NCALLS	(sizeof(calls) / sizeof(calls[0]))

static pid_t	 cpid, cppid;		/* child: taken before the filter */
static char	 page[4096] __attribute__((aligned(4096)));

/* "relay" or "relay:..." */
static enum proc_role
role_of(const char *s)
{
	const char	*n;
	size_t		 len;
	int		 r;

	len = strcspn(s, ":");
	for (r = 0; (n = proc_role_name(r)) != NULL; r++)
		if (strlen(n) == len && strncmp(s, n, len) == 0)
			return r;
	_exit(95);
}

static int
tcp_listener(struct sockaddr_in *sin)
{
	socklen_t	 len = sizeof(*sin);
	int		 s;

	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1 ||
	    bind(s, (struct sockaddr *)sin, sizeof(*sin)) == -1 ||
	    listen(s, 8) == -1 ||
	    getsockname(s, (struct sockaddr *)sin, &len) == -1)
		return -1;
	return s;
}

static long
try_call(const struct call *c, int tfd)
{
	static const char	*argv[] = { "/bin/true", NULL };
	static char		 buf[4096];
	static int		 one = 1;
	static socklen_t	 len = 4, credlen = sizeof(struct ucred);
	long			 a[6];
	int			 i;

	/* Zeroed each time: an earlier call may have written into it. */
	memset(buf, 0, sizeof(buf));
	for (i = 0; i < 6; i++) {
		switch (c->a[i]) {
		case A_TFD:	a[i] = tfd; break;
		case A_PID:	a[i] = cpid; break;
		case A_PPID:	a[i] = cppid; break;
		case A_BUF:	a[i] = (long)buf; break;
		case A_PAGE:	a[i] = (long)page; break;
		case A_PATH:	a[i] = (long)"/etc/passwd"; break;
		case A_EMPTY:	a[i] = (long)""; break;
		case A_ARGV:	a[i] = (long)argv; break;
		case A_BIN:	a[i] = (long)argv[0]; break;
		case A_ONE:	a[i] = (long)&one; break;
		case A_LEN:	a[i] = (long)&len; break;
		case A_CRED:	a[i] = (long)&credlen; break;
		default:	a[i] = c->a[i]; break;
		}
	}
	return syscall(c->nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

static const struct call *
call_named(const char *name)
{
	size_t	 i;

	for (i = 0; i < NCALLS; i++)
		if (strcmp(calls[i].name, name) == 0)
			return &calls[i];
	_exit(96);
}

/* arg "role:call": demote, filter, then make the call that must kill. */
int
sc_deny(const char *arg)
{
	const struct call	*c;
	struct sockaddr_in	 sin;
	const char		*name;
	long			 r;
	int			 tfd;

	if ((name = strchr(arg, ':')) == NULL)
		_exit(97);
	c = call_named(name + 1);
	if ((tfd = tcp_listener(&sin)) == -1)
		_exit(98);
	cpid = getpid();
	cppid = getppid();
	demote();
	sandbox_enter(role_of(arg));
	/* Path lookups fail softly; then the call that must kill. */
	errno = 0;
	if (open("/etc/passwd", O_RDONLY) != -1)
		_exit(99);
	say("ready open=%d", errno);
	hear("go");
	r = try_call(c, tfd);
	say("survived %ld errno %d", r, errno);
	return 0;
}

static int
cmp(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* arg role: every call the role must survive, with its exact outcome. */
int
sc_allowed(const char *arg)
{
	enum proc_role	 role = role_of(arg);
	struct sockaddr_in	 sin;
	char			 bad[400] = "";
	int			 ints[1000];
	size_t			 i;
	long			 r;
	int			 tfd, want, e;
	void			*p;

	if ((tfd = tcp_listener(&sin)) == -1)
		_exit(98);
	cpid = getpid();
	cppid = getppid();
	demote();
	sandbox_enter(role);
	for (i = 0; i < NCALLS; i++) {
		want = calls[i].want[role];
		if (want == KILL)
			continue;
		errno = 0;
		r = try_call(&calls[i], tfd);
		e = errno;
		if (want == ANY || (want == OK && r >= 0) ||
		    (want > 0 && r == -1 && e == want))
			continue;
		snprintf(bad + strlen(bad), sizeof(bad) - strlen(bad),
		    " %s=%ld/%d", calls[i].name, r, e);
	}
	/* And through the libraries: a big qsort where sysinfo is allowed, */
	for (i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
		ints[i] = -(int)i;
	if (call_named("sysinfo")->want[role] != KILL) {
		qsort(ints, sizeof(ints) / sizeof(ints[0]), sizeof(ints[0]),
		    cmp);
		if (ints[0] != -999)
			strlcat(bad, " qsort", sizeof(bad));
	}
	/* libevent's default log (unbuffered stderr), malloc and realloc. */
	fprintf(stderr, "allowed: stdio works\n");
	if ((p = malloc(4 * 1024 * 1024)) == NULL ||
	    (p = realloc(p, 8 * 1024 * 1024)) == NULL)
		strlcat(bad, " malloc-big", sizeof(bad));
	free(p);
	if ((p = malloc(100)) == NULL)
		strlcat(bad, " malloc", sizeof(bad));
	free(p);
	say("done%s", bad);
	return 0;
}

/* Filter without demotion: sandbox_enter() must set no_new_privs. */
int
sc_nnp(const char *arg)
{
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 0)
		return 10;
	sandbox_enter(PROC_POLICY);
	say("ready");
	hear("go");
	return 0;
}

/*
 * The policy's and the ca's shape: privsep/ploop.c's loop over the parent
 * channel and peer channels, one received from above, answering through
 * the loop's own writes (a 200000-byte answer takes several passes).
 */

static void	loop_parent(struct ploop *, int, struct msg *, void *);

static void
loop_peer(struct ploop *pl, int slot, struct msg *m, void *arg)
{
	/* from the peer channel: echo */
	if (m->hdr.type != 7 || msg_compose(ploop_chan(pl, slot), 8,
	    m->hdr.peerid, -1, m->data, m->datalen) == -1)
		_exit(22);
}

static void
loop_parent(struct ploop *pl, int slot, struct msg *m, void *arg)
{
	struct msgbuf	*mb = ploop_chan(pl, -1);
	struct mbuf	 r, w;
	char		 s[64];
	uint32_t	 k;
	uint8_t		*big;
	size_t		 i;

	switch (m->hdr.type) {
	case 1:
		mbuf_reader(&r, m->data, m->datalen);
		if (mbuf_get_u32(&r, &k) == -1 ||
		    mbuf_get_str(&r, s, sizeof(s)) == -1 || mbuf_end(&r) == -1)
			_exit(21);
		for (i = 0; s[i] != '\0'; i++)
			if (s[i] >= 'a' && s[i] <= 'z')
				s[i] -= 'a' - 'A';
		mbuf_init(&w);
		mbuf_add_u32(&w, k + 1);
		mbuf_add_str(&w, s);
		if (w.err || msg_compose(mb, 2, m->hdr.peerid, -1, w.buf,
		    w.len) == -1)
			_exit(21);
		mbuf_free(&w);
		break;
	case 3:
		if (m->fd == -1 || ploop_chan(pl, 0) != NULL)
			_exit(21);
		ploop_add(pl, 0, m->fd, loop_peer, NULL);
		m->fd = -1;
		if (msg_compose(mb, 4, 0, -1, NULL, 0) == -1)
			_exit(21);
		break;
	case 5:
		/* Big enough for malloc to mmap and munmap. */
		if ((big = malloc(200000)) == NULL)
			_exit(21);
		memset(big, 'b', 200000);
		if (msg_compose(mb, 6, 0, -1, big, 200000) == -1)
			_exit(21);
		free(big);
		break;
	default:
		_exit(21);
	}
	log_debug("policy: message %u answered", m->hdr.type);
}

static void
loop_done(void)
{
	log_info("policy loop done");
}

int
sc_policy_loop(const char *arg)
{
	struct ploop	*pl;

	log_setlevel(LOG_DEBUG);
	log_procinit("policy");
	demote();
	pl = ploop_new(cfd, 1, loop_parent, NULL);
	atexit(loop_done);
	sandbox_enter(PROC_POLICY);
	/* exit(0) once the parent channel ends */
	ploop_run(pl);
}

/* The relay's shape: libevent over listeners and fds from the parent. */

struct relay {
	struct event_base	*base;
	struct msgbuf		 chan;
	struct event		*ev[4];
	int			 nev;
	int			 ticks, conns;
};

static struct relay	 rl;

static void
relay_echo(struct conn *c, void *arg)
{
	evbuffer_add_buffer(conn_output(c), conn_input(c));
}

/* As tls_accept.c refuses a client: its socket half-closed. */
static void
relay_close(struct conn *c, short what, void *arg)
{
	conn_shutdown_write(c);
	conn_free(c);
	msg_compose(&rl.chan, 13, 0, -1, NULL, 0);
	msgbuf_flush(&rl.chan);
}

static void
relay_accept(evutil_socket_t l, short what, void *arg)
{
	struct conn		*c;
	struct ucred		 uc;
	socklen_t		 len = sizeof(uc);
	int			 fd, one = 1;

	struct sockaddr_storage	 ss;
	socklen_t		 sl = sizeof(ss);

	fd = accept4(l, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1)
		return;
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == -1)
		log_warn("getpeername");
	if (arg != NULL) {
		if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one)) == -1)
			log_warn("setsockopt");
	} else if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) == -1)
		log_warn("SO_PEERCRED");
	if ((c = conn_new(rl.base, fd, NULL)) == NULL)
		fatalx("conn_new");
	conn_setcb(c, relay_echo, NULL, relay_close, NULL);
	conn_enable(c, EV_READ);
	rl.conns++;
	log_info("relay: connection %d", rl.conns);
}

static void
relay_chan(evutil_socket_t fd, short what, void *arg)
{
	struct msg	 m;
	ssize_t		 n;

	if ((n = msgbuf_read(&rl.chan)) == 0 ||
	    (n == -1 && errno != EAGAIN)) {
		event_base_loopexit(rl.base, NULL);
		return;
	}
	while (msg_get(&rl.chan, &m) == 1) {
		if (m.hdr.type == 1 && m.fd != -1 && rl.nev < 4) {
			/* A listener, as MSG_CFG_LISTENER brings it. */
			rl.ev[rl.nev] = event_new(rl.base, m.fd,
			    EV_READ | EV_PERSIST, relay_accept,
			    m.hdr.peerid ? &rl : NULL);
			event_add(rl.ev[rl.nev++], NULL);
			m.fd = -1;
		} else if (m.hdr.type == 3 && m.fd != -1) {
			/* A backend fd, as MSG_BACKEND_FD brings it. */
			if (write(m.fd, "via fd", 6) != 6)
				log_warn("write");
		}
		msg_compose(&rl.chan, m.hdr.type + 1, 0, -1, NULL, 0);
		msg_free(&m);
	}
	msgbuf_flush(&rl.chan);
}

static void
relay_tick(evutil_socket_t fd, short what, void *arg)
{
	int	 v[1000];
	size_t	 i;

	/* Say so once: the test waits for a timer to have fired. */
	if (rl.ticks++ == 0) {
		/* OpenSSL sorting a big CA store: qsort over 1 KiB */
		for (i = 0; i < 1000; i++)
			v[i] = -(int)i;
		qsort(v, 1000, sizeof(v[0]), cmp);
		msg_compose(&rl.chan, 11, 0, -1, NULL, 0);
		msgbuf_flush(&rl.chan);
	}
}

int
sc_relay_loop(const char *arg)
{
	struct event	*chan, *tick;
	struct timeval	 tv = { 0, 5000 };
	int		 i;

	log_procinit("relay");
	msgbuf_init(&rl.chan, cfd, 1);
	if ((rl.base = event_base_new()) == NULL)
		return 30;
	chan = event_new(rl.base, cfd, EV_READ | EV_PERSIST, relay_chan,
	    NULL);
	tick = event_new(rl.base, -1, EV_PERSIST, relay_tick, NULL);
	if (event_add(chan, NULL) == -1 || event_add(tick, &tv) == -1)
		return 31;
	demote();
	sandbox_enter(PROC_RELAY);
	msg_compose(&rl.chan, 100, 0, -1, NULL, 0);
	msgbuf_flush(&rl.chan);

	event_base_dispatch(rl.base);

	for (i = 0; i < rl.nev; i++) {
		close(event_get_fd(rl.ev[i]));
		event_free(rl.ev[i]);
	}
	event_free(chan);
	event_free(tick);
	event_base_free(rl.base);
	msgbuf_clear(&rl.chan);
	log_info("relay loop done: ticks %s, connections %d",
	    rl.ticks > 0 ? "yes" : "no", rl.conns);
	return rl.ticks > 0 && rl.conns == 2 ? 0 : 32;
}

/* The blocked call is named on stderr and the child exits 1. */
int
sc_debug(const char *arg)
{
	demote();
	sandbox_enter(PROC_RELAY);
	say("ready");
	hear("go");
	socket(AF_UNIX, SOCK_STREAM, 0);
	return 0;
}

START_TEST(test_relay_open_socket)
{
	struct child	 c;
	char		 buf[64], want[64];

	/* open: EACCES (the table says so too); socket: the kill. */
	make_root();
	child_start(&c, "deny:relay:socket", 0, 0);
	child_hear(&c, buf, sizeof(buf));
	snprintf(want, sizeof(want), "ready open=%d", EACCES);
	ck_assert_str_eq(buf, want);
	assert_status(c.pid, "Seccomp", "2");
	assert_status(c.pid, "Seccomp_filters", "1");
	assert_status(c.pid, "NoNewPrivs", "1");
	assert_status(c.pid, "Uid", "65534 65534 65534 65534");
	child_say(&c, "go");
	child_sigsys(&c);
	rm_root();
}
END_TEST

static const struct call *
lookup(const char *name)
{
	size_t	 i;

	for (i = 0; i < NCALLS; i++)
		if (strcmp(calls[i].name, name) == 0)
			return &calls[i];
	ck_abort_msg("no call %s in the table", name);
	return NULL;
}

/* Every (role, call) the table says must kill, one child each. */
START_TEST(test_deny)
{
	static const char *relay_kills[] = { "socket", "connect", "bind",
	    "listen", "execve", "execveat", "ptrace", "socketpair",
	    "mmap-exec", "sendto", "fstat", "lseek", "ioctl-tcgets" };
	static const char *policy_kills[] = { "accept4", "epoll_ctl",
	    "read", "setsockopt-nodelay", "dup" };
	struct child	 c;
	char		 scen[96], buf[128], ready[32];
	const struct call *k;
	size_t		 i, n = 0;
	int		 r;

	/* The table holds what must never be allowed. */
	for (i = 0; i < sizeof(relay_kills) / sizeof(relay_kills[0]); i++)
		ck_assert_int_eq(lookup(relay_kills[i])->want[PROC_RELAY],
		    KILL);
	for (i = 0; i < sizeof(policy_kills) / sizeof(policy_kills[0]); i++) {
		ck_assert_int_eq(lookup(policy_kills[i])->want[PROC_POLICY],
		    KILL);
		ck_assert_int_eq(lookup(policy_kills[i])->want[PROC_CA],
		    KILL);
	}
	snprintf(ready, sizeof(ready), "ready open=%d", EACCES);
	make_root();
	for (i = 0; i < NCALLS; i++) {
		k = &calls[i];
		for (r = 0; r < PROC_NROLES; r++) {
			if (k->want[r] != KILL)
				continue;
			snprintf(scen, sizeof(scen), "deny:%s:%s",
			    proc_role_name(r), k->name);
			child_start(&c, scen, 0, 0);
			child_hear(&c, buf, sizeof(buf));
			ck_assert_str_eq(buf, ready);
			child_say(&c, "go");
			child_wait(&c);
			ck_assert_msg(WIFSIGNALED(c.status) &&
			    WTERMSIG(c.status) == SIGSYS,
			    "%s: status %#x, wanted SIGSYS; stderr: %s", scen,
			    c.status, errtail(&c));
			n++;
		}
	}
	ck_assert_uint_gt(n, 0);
	rm_root();
}
END_TEST

/*
 * Both ways between the table above and sandbox.c's lists: every call a
 * role's list allows (or fails softly) has a row that makes it in that
 * role, so a list cannot grow an entry nobody tries; and every row a role
 * must survive is in its list, which sc_allowed proves under the filter,
 * so an entry a role needs cannot go missing unnoticed.
 */
START_TEST(test_table_covers_lists)
{
	struct sandbox_entry	 e;
	size_t			 i, j, n;
	int			 r, found;

	for (r = 0; proc_role_name(r) != NULL; r++) {
		ck_assert_int_lt(r, PROC_NROLES);
		for (n = 0; sandbox_entry(r, n, &e) == 0; n++) {
			ck_assert_ptr_nonnull(e.sys);
			ck_assert_ptr_nonnull(e.list);
			if (e.nr < 0)
				continue;	/* not a call of this arch */
			found = 0;
			for (i = 0; i < NCALLS && !found; i++)
				found = calls[i].nr == e.nr &&
				    calls[i].want[r] != KILL &&
				    (e.errnum == 0 ||
				    calls[i].want[r] == e.errnum);
			for (j = 0; j < sizeof(made_by_exit) /
			    sizeof(made_by_exit[0]) && !found; j++)
				found = e.errnum == 0 &&
				    strcmp(e.sys, made_by_exit[j]) == 0;
			ck_assert_msg(found, "%s list: %s%s%s is tried by no "
			    "row of calls[] for the %s", e.list, e.sys,
			    e.cond ? " with " : "", e.cond ? e.cond : "",
			    proc_role_name(r));
		}
		ck_assert_uint_gt(n, 0);
	}
	ck_assert_int_eq(r, PROC_NROLES);
	ck_assert_int_eq(sandbox_entry(PROC_NROLES, 0, &e), -1);
}
END_TEST

static void
allowed(const char *scen)
{
	struct child	 c;
	char		 buf[512];

	make_root();
	/* Debug mode: a wrongful kill names the call on stderr. */
	child_start(&c, scen, 0, 1);
	child_hear(&c, buf, sizeof(buf));
	ck_assert_msg(strcmp(buf, "done") == 0, "%s: unexpected:%s", scen,
	    buf + 4);
	child_exited(&c, 0);
	ck_assert_ptr_nonnull(strstr(c.err, "allowed: stdio works"));
	rm_root();
}

START_TEST(test_allowed_policy)
{
	allowed("allowed:policy");
}
END_TEST

START_TEST(test_allowed_relay)
{
	allowed("allowed:relay");
}
END_TEST

START_TEST(test_allowed_ca)
{
	allowed("allowed:ca");
}
END_TEST

START_TEST(test_nnp_set)
{
	struct child	 c;
	char		 buf[64];

	make_root();
	child_start(&c, "nnp", 0, 0);
	child_hear(&c, buf, sizeof(buf));
	ck_assert_str_eq(buf, "ready");
	assert_status(c.pid, "NoNewPrivs", "1");
	assert_status(c.pid, "Seccomp", "2");
	assert_status(c.pid, "Uid", "0 0 0 0");
	child_say(&c, "go");
	child_exited(&c, 0);
	rm_root();
}
END_TEST

START_TEST(test_debug_names_call)
{
	struct child	 c;
	char		 buf[64], want[64];

	make_root();
	child_start(&c, "debug", 0, 1);
	child_hear(&c, buf, sizeof(buf));
	ck_assert_str_eq(buf, "ready");
	child_say(&c, "go");
	child_exited(&c, 1);
	snprintf(want, sizeof(want), "blocked syscall socket (%d)",
	    (int)SYS_socket);
	ck_assert_msg(strstr(c.err, want) != NULL, "stderr: %s", errtail(&c));
	rm_root();
}
END_TEST

/* Parent side of the channel loops: next message within WAIT_MS. */
static void
chan_get(struct msgbuf *mb, struct msg *m)
{
	struct pollfd	 pfd;
	int		 r;

	for (;;) {
		ck_assert_int_ne(r = msg_get(mb, m), -1);
		if (r == 1)
			return;
		pfd.fd = mb->fd;
		pfd.events = POLLIN;
		ck_assert_msg(poll(&pfd, 1, WAIT_MS) == 1, "no answer");
		ck_assert_int_gt(msgbuf_read(mb), 0);
	}
}

static void
chan_expect(struct msgbuf *mb, uint32_t type)
{
	struct msg	 m;

	chan_get(mb, &m);
	ck_assert_uint_eq(m.hdr.type, type);
	msg_free(&m);
}

START_TEST(test_policy_loop)
{
	struct msgbuf	 mb, pb;
	struct mbuf	 w, r;
	struct msg	 m;
	struct child	 c;
	char		 s[64];
	uint32_t	 i, k;
	int		 sv[2];

	make_root();
	child_start(&c, "policyloop", 1, 0);
	msgbuf_init(&mb, c.fd, 1);
	for (i = 0; i < 200; i++) {
		mbuf_init(&w);
		mbuf_add_u32(&w, i);
		mbuf_add_str(&w, "verdict please");
		ck_assert_int_eq(msg_compose(&mb, 1, i, -1, w.buf, w.len), 0);
		mbuf_free(&w);
	}
	ck_assert_int_eq(msgbuf_flush_sync(&mb), 0);
	for (i = 0; i < 200; i++) {
		chan_get(&mb, &m);
		ck_assert_uint_eq(m.hdr.type, 2);
		ck_assert_uint_eq(m.hdr.peerid, i);
		mbuf_reader(&r, m.data, m.datalen);
		ck_assert_int_eq(mbuf_get_u32(&r, &k), 0);
		ck_assert_int_eq(mbuf_get_str(&r, s, sizeof(s)), 0);
		ck_assert_int_eq(mbuf_end(&r), 0);
		ck_assert_uint_eq(k, i + 1);
		ck_assert_str_eq(s, "VERDICT PLEASE");
		msg_free(&m);
	}
	/* A peer channel arrives as an fd, like MSG_CTL_PROCFD. */
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0, sv), 0);
	ck_assert_int_eq(msg_compose(&mb, 3, 0, sv[1], NULL, 0), 0);
	ck_assert_int_eq(msgbuf_flush_sync(&mb), 0);
	chan_expect(&mb, 4);
	msgbuf_init(&pb, sv[0], 0);
	for (i = 0; i < 50; i++)
		ck_assert_int_eq(msg_compose(&pb, 7, i, -1, "echo", 4), 0);
	ck_assert_int_eq(msgbuf_flush_sync(&pb), 0);
	for (i = 0; i < 50; i++) {
		chan_get(&pb, &m);
		ck_assert_uint_eq(m.hdr.type, 8);
		ck_assert_uint_eq(m.hdr.peerid, i);
		ck_assert_uint_eq(m.datalen, 4);
		msg_free(&m);
	}
	msgbuf_clear(&pb);
	close(sv[0]);
	ck_assert_int_eq(msg_compose(&mb, 5, 0, -1, NULL, 0), 0);
	ck_assert_int_eq(msgbuf_flush_sync(&mb), 0);
	chan_get(&mb, &m);
	ck_assert_uint_eq(m.hdr.type, 6);
	ck_assert_uint_eq(m.datalen, 200000);
	ck_assert_uint_eq(m.data[199999], 'b');
	msg_free(&m);
	msgbuf_clear(&mb);
	shutdown(c.fd, SHUT_WR);
	child_exited(&c, 0);
	ck_assert_msg(strstr(c.err, "policy loop done") != NULL &&
	    strstr(c.err, "message 5 answered") != NULL, "stderr: %s",
	    errtail(&c));
	rm_root();
}
END_TEST

static void
echo_through(int fd, const char *word)
{
	char	 buf[32];
	size_t	 len = strlen(word), got = 0;
	ssize_t	 n;

	ck_assert_int_eq(write(fd, word, len), len);
	while (got < len) {
		ck_assert_int_gt(n = read(fd, buf + got, sizeof(buf) - got),
		    0);
		got += n;
	}
	ck_assert_mem_eq(buf, word, len);
}

START_TEST(test_relay_loop)
{
	struct sockaddr_in	 sin;
	struct sockaddr_un	 sun;
	struct msgbuf		 mb;
	struct child		 c;
	socklen_t		 sunlen;
	char			 buf[16];
	int			 t, u, ct, cu, p[2];

	make_root();
	child_start(&c, "relayloop", 1, 0);
	msgbuf_init(&mb, c.fd, 1);
	chan_expect(&mb, 100);
	chan_expect(&mb, 11);

	/* Listeners, as the parent hands them to each relay. */
	ck_assert_int_ne(t = tcp_listener(&sin), -1);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path + 1, sizeof(sun.sun_path) - 1,
	    "moatd-unit-%d", (int)getpid());
	sunlen = offsetof(struct sockaddr_un, sun_path) + 1 +
	    strlen(sun.sun_path + 1);
	ck_assert_int_ne(u = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0), -1);
	ck_assert_int_eq(bind(u, (struct sockaddr *)&sun, sunlen), 0);
	ck_assert_int_eq(listen(u, 8), 0);
	ck_assert_int_eq(msg_compose(&mb, 1, 1, t, NULL, 0), 0);
	ck_assert_int_eq(msg_compose(&mb, 1, 0, u, NULL, 0), 0);
	ck_assert_int_eq(msgbuf_flush_sync(&mb), 0);
	chan_expect(&mb, 2);
	chan_expect(&mb, 2);

	ck_assert_int_ne(ct = socket(AF_INET, SOCK_STREAM, 0), -1);
	ck_assert_int_eq(connect(ct, (struct sockaddr *)&sin, sizeof(sin)),
	    0);
	echo_through(ct, "hello tcp");
	ck_assert_int_ne(cu = socket(AF_UNIX, SOCK_STREAM, 0), -1);
	ck_assert_int_eq(connect(cu, (struct sockaddr *)&sun, sunlen), 0);
	echo_through(cu, "hello unix");

	/* A backend fd: the relay writes through it. */
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	ck_assert_int_eq(msg_compose(&mb, 3, 0, p[1], NULL, 0), 0);
	ck_assert_int_eq(msgbuf_flush_sync(&mb), 0);
	chan_expect(&mb, 4);
	ck_assert_int_eq(read(p[0], buf, sizeof(buf)), 6);
	ck_assert_mem_eq(buf, "via fd", 6);
	close(p[0]);

	/* Each close is answered once the relay has half-closed it. */
	close(ct);
	chan_expect(&mb, 13);
	close(cu);
	chan_expect(&mb, 13);
	msgbuf_clear(&mb);
	shutdown(c.fd, SHUT_WR);
	child_exited(&c, 0);
	ck_assert_msg(strstr(c.err, "relay loop done: ticks yes, "
	    "connections 2") != NULL, "stderr: %s", errtail(&c));
	rm_root();
}
END_TEST

/* abort(), from an assertion in any role: SIGABRT, not SIGSYS. */
int
sc_abort(const char *arg)
{
	demote();
	sandbox_enter(role_of(arg));
	say("ready");
	hear("go");
	abort();
}

START_TEST(test_abort)
{
	struct child	 c;
	char		 scen[64], buf[64];
	int		 r;

	make_root();
	for (r = 0; r < PROC_NROLES; r++) {
		snprintf(scen, sizeof(scen), "abort:%s", proc_role_name(r));
		child_start(&c, scen, 0, 1);
		child_hear(&c, buf, sizeof(buf));
		ck_assert_str_eq(buf, "ready");
		child_say(&c, "go");
		child_wait(&c);
		ck_assert_msg(WIFSIGNALED(c.status) &&
		    WTERMSIG(c.status) == SIGABRT,
		    "%s: status %#x, wanted SIGABRT; stderr: %s", scen,
		    c.status, errtail(&c));
	}
	rm_root();
}
END_TEST

/*
 * The ca's work under its filter: keys arrive as PEM after the filter
 * (ca.c key_add), and ca_sign() makes RSA PKCS#1, RSA-PSS and ECDSA
 * signatures with them, which are checked there too.
 */
static char *
pem_of(EVP_PKEY *k)
{
	BIO	*bio;
	char	*p, *s;
	long	 n;

	if ((bio = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0, NULL, NULL) != 1 ||
	    (n = BIO_get_mem_data(bio, &p)) <= 0 ||
	    (s = strndup(p, n)) == NULL)
		_exit(80);
	BIO_free(bio);
	return s;
}

static int
ca_try(const char *pem, uint32_t op, int nid, uint32_t saltlen)
{
	static const uint8_t	 dg[32] = { 1, 2, 3 };
	EVP_PKEY		*k;
	EVP_PKEY_CTX		*ctx;
	BIO			*bio;
	struct ca_req		 rq;
	uint8_t			 sig[CA_INPUT_MAX], id[TLS_KEYID_LEN] = { 0 };
	size_t			 siglen = sizeof(sig);
	const char		*why;
	int			 ok;

	if ((bio = BIO_new_mem_buf(pem, -1)) == NULL ||
	    (k = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)) == NULL)
		return 0;
	BIO_free(bio);
	memset(&rq, 0, sizeof(rq));
	rq.op = op;
	rq.keyid = id;
	rq.md = nid;
	rq.saltlen = saltlen;
	rq.in = dg;
	rq.inlen = sizeof(dg);
	ok = ca_sign(k, &rq, sig, &siglen, &why) == 0 &&
	    (ctx = EVP_PKEY_CTX_new(k, NULL)) != NULL;
	if (ok) {
		ok = EVP_PKEY_verify_init(ctx) == 1 && (op == CA_OP_ECDSA_SIGN ||
		    (EVP_PKEY_CTX_set_signature_md(ctx,
		    EVP_get_digestbynid(nid)) == 1 &&
		    EVP_PKEY_CTX_set_rsa_padding(ctx, op == CA_OP_RSA_PSS ?
		    RSA_PKCS1_PSS_PADDING : RSA_PKCS1_PADDING) == 1)) &&
		    EVP_PKEY_verify(ctx, sig, siglen, dg, sizeof(dg)) == 1;
		EVP_PKEY_CTX_free(ctx);
	}
	EVP_PKEY_free(k);
	return ok;
}

/* The keys come from the test over the channel, as the parent's do. */
static char *
ca_key_recv(struct msgbuf *mb, uint32_t type)
{
	struct pollfd	 pfd;
	struct msg	 m;
	char		*pem;
	int		 r;

	while ((r = msg_get(mb, &m)) == 0) {
		pfd.fd = mb->fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, -1) == -1 || msgbuf_read(mb) <= 0)
			_exit(42);
	}
	if (r == -1 || m.hdr.type != type ||
	    (pem = strndup((char *)m.data, m.datalen)) == NULL)
		_exit(43);
	msg_free(&m);
	return pem;
}

int
sc_ca_loop(const char *arg)
{
	struct msgbuf	 mb;
	char		*rsapem, *ecpem, bad[128] = "";
	int		 i;

	log_procinit("ca");
	/* As ca_main(): nothing of OpenSSL's used yet but its init. */
	if (OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL) != 1)
		return 40;
	demote();
	sandbox_enter(PROC_CA);
	msgbuf_init(&mb, cfd, 1);
	rsapem = ca_key_recv(&mb, 1);
	ecpem = ca_key_recv(&mb, 2);
	for (i = 0; i < 3; i++) {
		if (!ca_try(rsapem, CA_OP_RSA_PKCS1, NID_sha256, 0))
			strlcat(bad, " pkcs1", sizeof(bad));
		if (!ca_try(rsapem, CA_OP_RSA_PSS, NID_sha256, 32))
			strlcat(bad, " pss", sizeof(bad));
		if (!ca_try(ecpem, CA_OP_ECDSA_SIGN, 0, 0))
			strlcat(bad, " ecdsa", sizeof(bad));
	}
	freezero(rsapem, strlen(rsapem));
	freezero(ecpem, strlen(ecpem));
	msgbuf_clear(&mb);
	log_info("ca signed:%s", bad[0] ? bad : " all");
	return bad[0] ? 41 : 0;
}

START_TEST(test_ca_loop)
{
	struct msgbuf	 mb;
	struct child	 c;
	EVP_PKEY	*rsa, *ec;
	char		*pem;

	ck_assert_ptr_nonnull(rsa = EVP_RSA_gen(2048));
	ck_assert_ptr_nonnull(ec = EVP_EC_gen("P-256"));
	make_root();
	/* Debug mode: a wrongful kill names the call on stderr. */
	child_start(&c, "caloop", 1, 1);
	msgbuf_init(&mb, c.fd, 1);
	pem = pem_of(rsa);
	ck_assert_int_eq(msg_compose(&mb, 1, 0, -1, pem, strlen(pem)), 0);
	free(pem);
	pem = pem_of(ec);
	ck_assert_int_eq(msg_compose(&mb, 2, 0, -1, pem, strlen(pem)), 0);
	free(pem);
	ck_assert_int_eq(msgbuf_flush_sync(&mb), 0);
	child_exited(&c, 0);
	msgbuf_clear(&mb);
	ck_assert_msg(strstr(c.err, "ca signed: all") != NULL, "stderr: %s",
	    errtail(&c));
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(ec);
	rm_root();
}
END_TEST

/*
 * moatd(8) prints every role's list between these lines, as rendered
 * here from sandbox.c's tables; with MOATD_UNIT_MAN_UPDATE set in the
 * environment the test writes it there instead of comparing.
 */
#define MAN_PATH	"man/moatd.8"
#define MAN_BEGIN	".\\\" Begin of the allow-lists, made from privsep/sandbox.c\n"
#define MAN_END		".\\\" End of the allow-lists\n"

static char *
man_render(void)
{
	struct sandbox_entry	 e;
	const char		*seen[8], *lists[8];
	char			*buf = NULL;
	size_t			 len = 0, n, i, j, nseen = 0, nl, width = 0;
	FILE			*f;
	int			 r;

	ck_assert_ptr_nonnull(f = open_memstream(&buf, &len));
	fputs(".Bl -tag -width Ds\n", f);
	for (r = 0; r < PROC_NROLES; r++) {
		for (n = 0, nl = 0; sandbox_entry(r, n, &e) == 0; n++) {
			if (strlen(e.sys) > width)
				width = strlen(e.sys);
			if (nl > 0 && strcmp(lists[nl - 1], e.list) == 0)
				continue;
			ck_assert_uint_lt(nl, 8);
			lists[nl++] = e.list;
			for (j = 0; j < nseen; j++)
				if (strcmp(seen[j], e.list) == 0)
					break;
			if (j == nseen) {
				ck_assert_uint_lt(nseen, 8);
				seen[nseen++] = e.list;
			}
		}
		fprintf(f, ".It %s\nThe ", proc_role_name(r));
		for (i = 0; i < nl; i++)
			fprintf(f, "%s%s", i == 0 ? "" : i + 1 == nl ?
			    " and " : ", ", lists[i]);
		fprintf(f, " list%s.\n", nl > 1 ? "s" : "");
	}
	fputs(".El\n", f);
	for (j = 0; j < nseen; j++) {
		fprintf(f, ".Ss The %s list\n", seen[j]);
		fprintf(f, ".Bl -column %-*s argument -compact\n", (int)width,
		    "restart_syscall");
		for (r = 0; r < PROC_NROLES; r++) {
			for (n = 0, i = 0; sandbox_entry(r, n, &e) == 0; n++) {
				if (strcmp(e.list, seen[j]) != 0)
					continue;
				i++;
				fprintf(f, ".It Xr %s 2 Ta %s", e.sys,
				    e.cond ? e.cond : e.errnum ? "" : "any");
				if (e.errnum)
					fprintf(f, "%sfails with Er %s",
					    e.cond ? ", " : "",
					    strerrorname_np(e.errnum));
				fputs("\n", f);
			}
			if (i > 0)
				break;	/* one role with the list prints it */
		}
		fputs(".El\n", f);
	}
	ck_assert_int_eq(fclose(f), 0);
	return buf;
}

START_TEST(test_man_lists)
{
	FILE	*f;
	char	*text = NULL, *want, *b, *e, *out;
	size_t	 cap = 0;
	ssize_t	 n;

	ck_assert_msg((f = fopen(MAN_PATH, "r")) != NULL, "%s: %s", MAN_PATH,
	    strerror(errno));
	n = getdelim(&text, &cap, '\0', f);
	fclose(f);
	ck_assert_int_gt(n, 0);
	want = man_render();
	ck_assert_msg((b = strstr(text, MAN_BEGIN)) != NULL &&
	    (e = strstr(b, MAN_END)) != NULL, "%s: no %s...%s", MAN_PATH,
	    MAN_BEGIN, MAN_END);
	b += strlen(MAN_BEGIN);
	if (getenv("MOATD_UNIT_MAN_UPDATE") != NULL) {
		ck_assert_int_ne(asprintf(&out, "%.*s%s%s", (int)(b - text),
		    text, want, e), -1);
		ck_assert_ptr_nonnull(f = fopen(MAN_PATH, "w"));
		ck_assert_int_eq(fputs(out, f), 1);
		ck_assert_int_eq(fclose(f), 0);
		free(out);
	} else if ((size_t)(e - b) != strlen(want) ||
	    memcmp(b, want, e - b) != 0) {
		fprintf(stderr, "%s says:\n%.*s\nsandbox.c says:\n%s", MAN_PATH,
		    (int)(e - b), b, want);
		ck_abort_msg("%s: the allow-lists differ from sandbox.c's (run "
		    "the unit tests with MOATD_UNIT_MAN_UPDATE=1 to write them "
		    "there)", MAN_PATH);
	}
	free(want);
	free(text);
}
END_TEST

Suite *
sandbox_suite(void)
{
	Suite	*s = suite_create("sandbox");
	TCase	*tc = tcase_create("seccomp");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_relay_open_socket);
	tcase_add_test(tc, test_deny);
	tcase_add_test(tc, test_table_covers_lists);
	tcase_add_test(tc, test_man_lists);
	tcase_add_test(tc, test_abort);
	tcase_add_test(tc, test_ca_loop);
	tcase_add_test(tc, test_allowed_ca);
	tcase_add_test(tc, test_allowed_policy);
	tcase_add_test(tc, test_allowed_relay);
	tcase_add_test(tc, test_nnp_set);
	tcase_add_test(tc, test_debug_names_call);
	tcase_add_test(tc, test_policy_loop);
	tcase_add_test(tc, test_relay_loop);
	suite_add_tcase(s, tc);
	return s;
}
