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
 * seccomp-bpf allow-lists, one per role, built with libseccomp.
 *
 * Anything not listed kills the whole process (SECCOMP_RET_KILL_PROCESS).
 * Calls that open or look up paths fail with EACCES instead, so a library
 * probing for a file degrades rather than dies (OpenSSH does the same);
 * the chroot is empty anyway.  Memory may never become executable.
 *
 * The lists were derived with strace -f over a relay-shaped libevent
 * program (accept on TCP and unix listeners, bufferevents, fds received
 * over a msg channel, timers, signal events, logging to stderr, clean
 * event_base_free), a TLS 1.3 handshake with OpenSSL 3 over a socket, and
 * the policy's poll/msg loop, taking only the calls made after
 * initialization, with stderr a file, a pipe, a tty and /dev/null.
 * regress/unit/test_sandbox.c runs both loops under the real filters.
 * Every entry says where it comes from; re-derive after glibc, libevent
 * or OpenSSL updates, with MOATD_SECCOMP_DEBUG=1 naming what is missing.
 *
 * Initialize, then lock: everything that needs a file (tzset, openlog,
 * OpenSSL configuration, PCRE2 compilation without JIT, the event base)
 * must happen before sandbox_enter().
 */

#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "log.h"
#include "privsep.h"

#if defined(__x86_64__) && !defined(__ILP32__)
#define SANDBOX_ARCH	SCMP_ARCH_X86_64
#elif defined(__aarch64__)
#define SANDBOX_ARCH	SCMP_ARCH_AARCH64
#else
#error "moatd's seccomp filters are written for x86_64 and aarch64 only"
#endif

struct sandbox_rule {
	int			 nr;
	uint32_t		 action;
	unsigned int		 argc;
	struct scmp_arg_cmp	 arg[2];
};

#define ALLOW		SCMP_ACT_ALLOW
#define EACCESS		SCMP_ACT_ERRNO(EACCES)
#define R0(sys, act)	{ SCMP_SYS(sys), (act), 0, { { 0 }, { 0 } } }
#define R1(sys, act, n, op, a, b) \
	{ SCMP_SYS(sys), (act), 1, { { (n), (op), (a), (b) }, { 0 } } }
#define R2(sys, act, n1, a1, n2, a2) \
	{ SCMP_SYS(sys), (act), 2, { { (n1), SCMP_CMP_EQ, (a1), 0 }, \
	    { (n2), SCMP_CMP_EQ, (a2), 0 } } }
#define EQ(sys, act, n, a)	R1(sys, act, n, SCMP_CMP_EQ, (a), 0)
#define MASKED(sys, act, n, m, a) R1(sys, act, n, SCMP_CMP_MASKED_EQ, (m), (a))

/* The futex op without its PRIVATE and CLOCK_REALTIME flag bits. */
#define FUTEX_OP_MASK	((uint32_t)FUTEX_CMD_MASK)

/* Both roles: channel I/O, malloc, stdio, abort, and path lookups. */
static const struct sandbox_rule sandbox_common[] = {
	/* msg.c channels; stdio and log.c write(2) to stderr */
	R0(read, ALLOW),
	R0(write, ALLOW),
	R0(readv, ALLOW),
	R0(writev, ALLOW),
	R0(recvmsg, ALLOW),
	R0(sendmsg, ALLOW),
	/* msgbuf_flush_sync(), the policy's loop */
	R0(poll, ALLOW),
	R0(ppoll, ALLOW),
	R0(close, ALLOW),
	/* malloc; never executable memory (no PCRE2 JIT) */
	R0(brk, ALLOW),
	MASKED(mmap, ALLOW, 2, PROT_EXEC, 0),
	MASKED(mprotect, ALLOW, 2, PROT_EXEC, 0),
	R0(munmap, ALLOW),
	R0(mremap, ALLOW),
	/*
	 * malloc trimming, and GLIBC_TUNABLES=glibc.malloc.hugetlb=1;
	 * nothing that changes more than our own pages
	 */
	EQ(madvise, ALLOW, 2, MADV_NORMAL),
	EQ(madvise, ALLOW, 2, MADV_DONTNEED),
	EQ(madvise, ALLOW, 2, MADV_FREE),
	EQ(madvise, ALLOW, 2, MADV_HUGEPAGE),
	/* glibc and OpenSSL locks (pthread_once); no PI or wake-op */
	MASKED(futex, ALLOW, 1, FUTEX_OP_MASK, FUTEX_WAIT),
	MASKED(futex, ALLOW, 1, FUTEX_OP_MASK, FUTEX_WAKE),
	MASKED(futex, ALLOW, 1, FUTEX_OP_MASK, FUTEX_REQUEUE),
	MASKED(futex, ALLOW, 1, FUTEX_OP_MASK, FUTEX_CMP_REQUEUE),
	MASKED(futex, ALLOW, 1, FUTEX_OP_MASK, FUTEX_WAIT_BITSET),
	MASKED(futex, ALLOW, 1, FUTEX_OP_MASK, FUTEX_WAKE_BITSET),
	/* OpenSSL RAND, arc4random, malloc's first-use randomization */
	R0(getrandom, ALLOW),
	/* qsort() over 1 KiB asks sysconf(_SC_PHYS_PAGES) */
	R0(sysinfo, ALLOW),
	/* libevent's monotonic clock, OpenSSL's time(), without the vDSO */
	R0(clock_gettime, ALLOW),
	R0(gettimeofday, ALLOW),
	R0(time, ALLOW),
	R0(exit, ALLOW),
	R0(exit_group, ALLOW),
	/* return from signal handlers (libevent's evsig handler) */
	R0(rt_sigreturn, ALLOW),
	/* abort() and raise() mask signals around tgkill */
	R0(rt_sigprocmask, ALLOW),
	/* a poll interrupted by SIGSTOP/SIGCONT resumes through this */
	R0(restart_syscall, ALLOW),
	/*
	 * abort(): raise() asks getpid() and signals itself (see below);
	 * OpenSSL checks getpid() for forks on every handshake
	 */
	R0(getpid, ALLOW),
	/*
	 * dprintf() to stderr: fstat via newfstatat(fd, "", AT_EMPTY_PATH)
	 * (a path with AT_EMPTY_PATH still resolves, but only inside the
	 * empty chroot), lseek(fd, 0, SEEK_CUR) to find the position, and
	 * isatty's TCGETS when stderr is a character device like /dev/null.
	 */
	R0(fstat, ALLOW),
	MASKED(newfstatat, ALLOW, 3, AT_EMPTY_PATH, AT_EMPTY_PATH),
	R0(lseek, ALLOW),
	EQ(ioctl, SCMP_ACT_ERRNO(ENOTTY), 1, TCGETS),
	/* O_NONBLOCK and FD_CLOEXEC on fds received from the parent */
	EQ(fcntl, ALLOW, 1, F_GETFL),
	EQ(fcntl, ALLOW, 1, F_SETFL),
	EQ(fcntl, ALLOW, 1, F_GETFD),
	EQ(fcntl, ALLOW, 1, F_SETFD),
	/* path lookups: fail, do not kill (library probes, tz, NSS) */
	R0(open, EACCESS),
	R0(openat, EACCESS),
	R0(openat2, EACCESS),
	R0(creat, EACCESS),
	R0(stat, EACCESS),
	R0(lstat, EACCESS),
	MASKED(newfstatat, EACCESS, 3, AT_EMPTY_PATH, 0),
	R0(statx, EACCESS),
	R0(access, EACCESS),
	R0(faccessat, EACCESS),
	R0(faccessat2, EACCESS),
	R0(readlink, EACCESS),
	R0(readlinkat, EACCESS),
};

/*
 * The forwarder: a libevent (epoll) loop over Docker connections the
 * parent opened and the socketpairs it makes for its relay.  No accept,
 * no dup, no address lookups.
 */
static const struct sandbox_rule sandbox_forwarder[] = {
	/* one stream per Docker connection, unix only */
	EQ(socketpair, ALLOW, 0, AF_UNIX),
	/* libevent reads and writes sockets with these; no address */
	R0(recvfrom, ALLOW),
	EQ(sendto, ALLOW, 4, 0),
	/* half-close of upgraded streams, both ways */
	R0(shutdown, ALLOW),
	/* libevent's epoll backend; aarch64 has only epoll_pwait */
	R0(epoll_create1, ALLOW),
	R0(epoll_ctl, ALLOW),
	R0(epoll_wait, ALLOW),
	R0(epoll_pwait, ALLOW),
	/* SO_ERROR of a TCP backend's connect; read-only */
	R0(getsockopt, ALLOW),
	/* evbuffer_read() sizes its reads with FIONREAD */
	EQ(ioctl, ALLOW, 1, FIONREAD),
	/* libevent restores handlers in event_del()/event_base_free() */
	R0(rt_sigaction, ALLOW),
};

/* The relay: a libevent (epoll) loop over client, listener, docker fds. */
static const struct sandbox_rule sandbox_relay[] = {
	/* clients on the listeners dup'd to us (accept4 with CLOEXEC) */
	R0(accept, ALLOW),
	R0(accept4, ALLOW),
	/*
	 * send()/recv() are these on Linux; MSG_NOSIGNAL writes.  send()
	 * passes no address: a relay sends to no one its sockets are not
	 * connected to (it holds no /dev/log socket either, see log.c).
	 * sendmsg(2) stays open for the channels: its address is behind a
	 * pointer seccomp cannot follow, and a relay's sockets are all
	 * connected streams, which refuse or ignore one.
	 */
	R0(recvfrom, ALLOW),
	EQ(sendto, ALLOW, 4, 0),
	/* half-close of hijacked streams, and of refused TLS clients */
	R0(shutdown, ALLOW),
	/* a refused TLS client's socket outlives its session (relay_tls.c) */
	R0(dup, ALLOW),
	/* libevent's epoll backend; aarch64 has only epoll_pwait */
	R0(epoll_create1, ALLOW),
	R0(epoll_ctl, ALLOW),
	R0(epoll_wait, ALLOW),
	R0(epoll_pwait, ALLOW),
	/* SO_PEERCRED of unix clients, SO_ERROR; read-only */
	R0(getsockopt, ALLOW),
	/* latency and liveness of long streams, nothing else */
	R2(setsockopt, ALLOW, 1, IPPROTO_TCP, 2, TCP_NODELAY),
	R2(setsockopt, ALLOW, 1, SOL_SOCKET, 2, SO_KEEPALIVE),
	R2(setsockopt, ALLOW, 1, IPPROTO_TCP, 2, TCP_KEEPIDLE),
	R2(setsockopt, ALLOW, 1, IPPROTO_TCP, 2, TCP_KEEPINTVL),
	R2(setsockopt, ALLOW, 1, IPPROTO_TCP, 2, TCP_KEEPCNT),
	/* peer and listener addresses for logs */
	R0(getsockname, ALLOW),
	R0(getpeername, ALLOW),
	/* evbuffer_read() sizes its reads with FIONREAD */
	EQ(ioctl, ALLOW, 1, FIONREAD),
	/* libevent restores handlers in event_del()/event_base_free() */
	R0(rt_sigaction, ALLOW),
};

#define SANDBOX_NNAMES	512
static char	sandbox_names[SANDBOX_NNAMES][32];

static void	sandbox_add(scmp_filter_ctx, const struct sandbox_rule *,
		    size_t);
static void	sandbox_debug_init(void);
static void	sandbox_sigsys(int, siginfo_t *, void *);

static void
sandbox_add(scmp_filter_ctx ctx, const struct sandbox_rule *r, size_t n)
{
	size_t	 i;
	int	 rc;

	for (i = 0; i < n; i++) {
		/* A call this arch lacks (open on aarch64) never matches. */
		rc = seccomp_rule_add_array(ctx, r[i].action, r[i].nr,
		    r[i].argc, r[i].arg);
		if (rc < 0) {
			errno = -rc;
			fatal("%s: rule for syscall %d", __func__, r[i].nr);
		}
	}
}

/*
 * Resolve names now: the SIGSYS handler may interrupt malloc, so it must
 * not call seccomp_syscall_resolve_num_arch() (which allocates) itself.
 */
static void
sandbox_debug_init(void)
{
	struct sigaction	 sa;
	sigset_t		 set;
	char			*name;
	int			 nr;

	for (nr = 0; nr < SANDBOX_NNAMES; nr++) {
		name = seccomp_syscall_resolve_num_arch(SANDBOX_ARCH, nr);
		if (name == NULL)
			continue;
		strlcpy(sandbox_names[nr], name, sizeof(sandbox_names[nr]));
		free(name);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sandbox_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) == -1)
		fatal("%s: sigaction SIGSYS", __func__);
	sigemptyset(&set);
	sigaddset(&set, SIGSYS);
	if (sigprocmask(SIG_UNBLOCK, &set, NULL) == -1)
		fatal("%s: sigprocmask", __func__);
}

/* Async-signal-safe: write(2) and _exit(2) only, both allowed. */
static void
sandbox_sigsys(int sig, siginfo_t *si, void *ctx)
{
	static const char	 pre[] = "moatd: sandbox: blocked syscall ";
	static const char	 post[] = "), exiting\n";
	char			 buf[128], num[16];
	const char		*name = "unknown";
	size_t			 len, n = 0;
	int			 nr = si->si_syscall;
	unsigned int		 u;

	if (nr >= 0 && nr < SANDBOX_NNAMES && sandbox_names[nr][0] != '\0')
		name = sandbox_names[nr];
	u = nr < 0 ? 0 : (unsigned int)nr;
	do {
		num[sizeof(num) - 1 - n++] = '0' + u % 10;
		u /= 10;
	} while (u != 0 && n < sizeof(num) - 1);

	len = strlcpy(buf, pre, sizeof(buf));
	len = strlcat(buf, name, sizeof(buf));
	len = strlcat(buf, " (", sizeof(buf));
	if (len + n < sizeof(buf)) {
		memcpy(buf + len, num + sizeof(num) - n, n);
		buf[len + n] = '\0';
	}
	len = strlcat(buf, post, sizeof(buf));
	if (len >= sizeof(buf))
		len = sizeof(buf) - 1;
	if (write(STDERR_FILENO, buf, len) == -1)
		_exit(2);
	_exit(1);
}

void
sandbox_enter(enum sandbox_role role)
{
	scmp_filter_ctx		 ctx;
	struct scmp_arg_cmp	 self;
	uint32_t		 deflt = SCMP_ACT_KILL_PROCESS;
	int			 debug, rc;

	if (seccomp_arch_native() != SANDBOX_ARCH)
		fatalx("%s: libseccomp's native arch is not the build's",
		    __func__);
	if (seccomp_api_get() < 3)
		fatalx("%s: kernel or libseccomp lacks KILL_PROCESS",
		    __func__);
	/* drop_privileges() has set it; a root child without a drop not. */
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1 &&
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("%s: prctl(PR_SET_NO_NEW_PRIVS)", __func__);

#ifdef MOATD_SANITIZE
	/*
	 * Only the ASan/UBSan build (make check-asan) sets MOATD_SANITIZE.
	 * Its runtime makes calls no role's list allows: sigaltstack(2) as
	 * every child exits, and while it writes a report pipe2(2) and
	 * whatever else its attempt to start a symbolizer takes; a kill
	 * there would lose the report.  So the default is SECCOMP_RET_LOG:
	 * an unlisted call goes through and the kernel logs it (audit type
	 * 1326, "code=0x7ffc0000").  The filter is still installed, its
	 * rules (EACCES for path lookups, the bad-arch kill) still apply,
	 * and the shipped build always kills: regress/unit tests that
	 * filter.  MOATD_SECCOMP_DEBUG below still traps.
	 */
	deflt = SCMP_ACT_LOG;
#endif
	debug = getenv("MOATD_SECCOMP_DEBUG") != NULL;
	if (debug) {
		log_warnx("%s: MOATD_SECCOMP_DEBUG: blocked calls are "
		    "reported, not killed by the kernel", __func__);
		sandbox_debug_init();
		deflt = SCMP_ACT_TRAP;
	}
	if ((ctx = seccomp_init(deflt)) == NULL)
		fatalx("%s: seccomp_init", __func__);
	/* Other ABIs (i386, x32 on x86_64) would bypass the numbers. */
	if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
	    SCMP_ACT_KILL_PROCESS)) < 0) {
		errno = -rc;
		fatal("%s: seccomp_attr_set", __func__);
	}
	/* A binary tree, not a linear scan, on every system call. */
	if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2) < 0)
		log_debug("%s: libseccomp cannot optimize the filter",
		    __func__);

	sandbox_add(ctx, sandbox_common,
	    sizeof(sandbox_common) / sizeof(sandbox_common[0]));
	/* tgkill only at ourselves: abort() */
	self.arg = 0;
	self.op = SCMP_CMP_EQ;
	self.datum_a = (scmp_datum_t)getpid();
	self.datum_b = 0;
	if ((rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW,
	    SCMP_SYS(tgkill), 1, &self)) < 0) {
		errno = -rc;
		fatal("%s: tgkill rule", __func__);
	}
	switch (role) {
	case SANDBOX_POLICY:
	case SANDBOX_CA:
		/* poll(2) loops over their channels: nothing beyond */
		break;
	case SANDBOX_RELAY:
		sandbox_add(ctx, sandbox_relay,
		    sizeof(sandbox_relay) / sizeof(sandbox_relay[0]));
		break;
	case SANDBOX_FORWARDER:
		sandbox_add(ctx, sandbox_forwarder,
		    sizeof(sandbox_forwarder) / sizeof(sandbox_forwarder[0]));
		break;
	default:
		fatalx("%s: unknown role %d", __func__, role);
	}
	if ((rc = seccomp_load(ctx)) < 0) {
		errno = -rc;
		fatal("%s: seccomp_load", __func__);
	}
	seccomp_release(ctx);
}
