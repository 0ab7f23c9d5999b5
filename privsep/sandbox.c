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
 * Calls that open or look up paths fail with EACCES instead, so that a
 * library probing for a file degrades rather than dies (OpenSSH does the
 * same); the chroot is empty anyway.  Memory may never become executable.
 *
 * The lists are data: a role's list is the lists its sandbox_roles[]
 * entry names, and each entry is one system call, what happens when it is
 * made, and the argument it may be made with, spelled by the macros below
 * so that moatd(8) can print it: regress/unit/test_sandbox.c renders every
 * list into the SANDBOX section of man/moatd.8 and fails when the page
 * says anything else, and it makes every allowed call under each role's
 * filter.  To add a role: its entry in the process table (enum proc_role
 * in privsep.h, proc.c), a list of what it needs beyond the common one (or
 * instead of it), its sandbox_roles[] entry, its column in test_sandbox.c's
 * calls[] table (a column left out means KILL), and the page's text, which
 * "MOATD_UNIT_MAN_UPDATE=1 make check-unit" writes.
 *
 * The entries were derived with strace -f over moatd running the
 * integration suite (regress/sandbox_trace.sh: plain and TLS listeners,
 * RSA and ECDSA keys through the ca, SIGHUP reloads, syslog, stderr a
 * file) and by hand with stderr a pipe, a tty and /dev/null, taking only
 * the calls each role made after sandbox_enter(); every entry says where
 * it comes from.  Re-derive them after glibc, libevent or OpenSSL
 * updates; MOATD_SECCOMP_DEBUG=1 names a call that is missing.
 *
 * Initialize, then lock: everything that needs a file (tzset, openlog,
 * OpenSSL configuration, the event base and its epoll descriptor) must
 * happen before sandbox_enter().
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
#include <linux/tls.h>
#include <seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "privsep.h"

/* Linux 6.5: a unix peer's pidfd (older headers lack it). */
#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD	77
#endif

#if defined(__x86_64__) && !defined(__ILP32__)
#define SANDBOX_ARCH	SCMP_ARCH_X86_64
#elif defined(__aarch64__)
#define SANDBOX_ARCH	SCMP_ARCH_AARCH64
#else
#error "moatd's seccomp filters are written for x86_64 and aarch64 only"
#endif

/*
 * One system call: allowed or failed with EACCES, with any arguments or
 * with one (or two) compared.  Entries for the same call are alternatives.
 * cond is the comparison in words, made by the macros from the very
 * names they compare with.
 */
struct sandbox_rule {
	const char		*sys;
	int			 nr;
	int			 errnum;	/* 0: allowed */
	unsigned int		 argc;
	struct scmp_arg_cmp	 arg[2];
	int			 self;	/* arg 0 is our pid (set at entry) */
	const char		*cond;	/* NULL: any arguments */
};

#define NOARG		{ 0, 0, 0, 0 }
#define CMP(n, op, a, b) { (n), (op), (scmp_datum_t)(a), (scmp_datum_t)(b) }
#define RULE(sys, e, c, a0, a1, self, cond) \
	{ #sys, SCMP_SYS(sys), (e), (c), { a0, a1 }, (self), (cond) }

/* Any arguments. */
#define ANY(sys)	RULE(sys, 0, 0, NOARG, NOARG, 0, NULL)
/* Fails with EACCES, whatever the arguments. */
#define FAILS(sys)	RULE(sys, EACCES, 0, NOARG, NOARG, 0, NULL)
/* Argument n, called name in the call's manual, is v. */
#define IS(sys, n, name, v) \
	RULE(sys, 0, 1, CMP(n, SCMP_CMP_EQ, v, 0), NOARG, 0, name " " #v)
/* Fails with EACCES when argument n is other than v. */
#define FAILS_UNLESS(sys, n, name, v) \
	RULE(sys, EACCES, 1, CMP(n, SCMP_CMP_NE, v, 0), NOARG, 0, \
	    name " other than " #v)
/* Argument n, a set of flags, does not have flag f. */
#define WITHOUT(sys, n, name, f) \
	RULE(sys, 0, 1, CMP(n, SCMP_CMP_MASKED_EQ, f, 0), NOARG, 0, \
	    name " without " #f)
/* futex(2) operation op, whatever its PRIVATE and CLOCK_REALTIME bits. */
#define FUTEX(op) \
	RULE(futex, 0, 1, CMP(1, SCMP_CMP_MASKED_EQ, FUTEX_CMD_MASK, op), \
	    NOARG, 0, "futex_op " #op)
/* Socket option level/name, for get- or setsockopt(2). */
#define SOCKOPT(sys, level, name) \
	RULE(sys, 0, 2, CMP(1, SCMP_CMP_EQ, level, 0), \
	    CMP(2, SCMP_CMP_EQ, name, 0), 0, "level " #level ", optname " #name)
/* The caller itself: argument 0 is its own pid. */
#define SELF(sys, name) \
	RULE(sys, 0, 1, CMP(0, SCMP_CMP_EQ, 0, 0), NOARG, 1, \
	    name " the caller's own")

/* Every role: its channels, logging, malloc, clocks, abort(). */
static const struct sandbox_rule sandbox_common[] = {
	/* msg.c channels, with the fds they carry */
	ANY(recvmsg),
	ANY(sendmsg),
	/*
	 * the policy's and the ca's loops (worker.c, ca.c), a relay waiting
	 * for its ca's signature (tls_key.c), msgbuf_flush_sync(); aarch64
	 * has only ppoll
	 */
	ANY(poll),
	ANY(ppoll),
	/* a poll interrupted by SIGSTOP/SIGCONT resumes through this */
	ANY(restart_syscall),
	/*
	 * log.c: one write(2) to stderr per line (a file, a pipe, a tty or
	 * /dev/null alike); libevent's warnings (fprintf to the unbuffered
	 * stderr); a relay's OpenSSL socket BIO
	 */
	ANY(write),
	/* spent sessions' sockets, a closed peer channel */
	ANY(close),
	/*
	 * malloc: brk; mmap, munmap and mremap for blocks of 128 KiB and
	 * more, like msg.c's buffers for messages up to MSG_MAXSZ
	 */
	ANY(brk),
	WITHOUT(mmap, 2, "prot", PROT_EXEC),
	ANY(munmap),
	IS(mremap, 3, "flags", MREMAP_MAYMOVE),
	/* malloc, when GLIBC_TUNABLES has glibc.malloc.hugetlb=1 */
	IS(madvise, 2, "advice", MADV_HUGEPAGE),
	/*
	 * OpenSSL's and glibc's locks when they unlock; nothing waits in
	 * these single-threaded processes
	 */
	FUTEX(FUTEX_WAKE),
	/* OpenSSL's RAND: handshakes, the keys' blinding in the ca */
	ANY(getrandom),
	/*
	 * OpenSSL checks getpid() for forks on every handshake and
	 * signature; abort() asks it before signalling itself
	 */
	ANY(getpid),
	/*
	 * abort(), from libevent's and OpenSSL's assertions and rules.c:
	 * it masks signals around tgkill at itself, its thread id from
	 * gettid
	 */
	ANY(rt_sigprocmask),
	ANY(gettid),
	SELF(tgkill, "tgid"),
	/*
	 * libevent's monotonic clock, OpenSSL's time(): through the vDSO,
	 * these are the kernel's fallback when it maps none
	 */
	ANY(clock_gettime),
	ANY(gettimeofday),
	ANY(time),
	ANY(exit_group),
	/*
	 * path lookups: only the policy worker makes one (sandbox_policy);
	 * a library that probes for a file (tz, NSS, OpenSSL) gets EACCES
	 * rather than a kill.  openat and newfstatat: sandbox_nopath.
	 */
	FAILS(open),
	FAILS(openat2),
	FAILS(creat),
	FAILS(stat),
	FAILS(lstat),
	FAILS(statx),
	FAILS(access),
	FAILS(faccessat),
	FAILS(faccessat2),
	FAILS(readlink),
	FAILS(readlinkat),
};

/* The roles that look up no path at all: the relay, ca, forwarder. */
static const struct sandbox_rule sandbox_nopath[] = {
	FAILS(openat),
	FAILS(newfstatat),
};

/*
 * The policy worker: a bind source's components, one at a time from the
 * host's "/" opened before the chroot, without following a link, and
 * what each is (worker.c path_has_no_links); glibc's fstat(3) is
 * newfstatat with an empty path.  Any other open or stat fails.
 */
static const struct sandbox_rule sandbox_policy[] = {
	IS(openat, 2, "flags", O_PATH | O_NOFOLLOW | O_CLOEXEC),
	FAILS_UNLESS(openat, 2, "flags", O_PATH | O_NOFOLLOW | O_CLOEXEC),
	IS(newfstatat, 3, "flag", AT_EMPTY_PATH),
	FAILS_UNLESS(newfstatat, 3, "flag", AT_EMPTY_PATH),
};

/*
 * A libevent (epoll) loop over streams: the relay's and the forwarder's.
 */
static const struct sandbox_rule sandbox_evloop[] = {
	/*
	 * reads of our own (conn.c, forwarder.c) and OpenSSL's socket BIO;
	 * evbuffer_write_atmost()'s writev: no readv, and no FIONREAD since
	 * libevent's bufferevents went
	 */
	ANY(writev),
	ANY(read),
	/* libevent's epoll backend; aarch64 has only epoll_pwait */
	ANY(epoll_ctl),
	ANY(epoll_wait),
	ANY(epoll_pwait),
	/*
	 * half-close of hijacked and upgraded streams, and of refused TLS
	 * clients
	 */
	IS(shutdown, 1, "how", SHUT_WR),
	/*
	 * OpenSSL sorts an X509_STORE (a CA bundle to verify clients or the
	 * backend against) with qsort(), which asks sysconf(_SC_PHYS_PAGES)
	 * for arrays over 1 KiB
	 */
	ANY(sysinfo),
};

/*
 * The forwarder: its loop is over Docker connections the parent opened
 * and the socketpairs it makes for its relay.  No accept, no dup, no
 * address lookups.
 */
static const struct sandbox_rule sandbox_forwarder[] = {
	/* one stream per Docker connection, unix only (forwarder.c) */
	IS(socketpair, 0, "domain", AF_UNIX),
	/*
	 * an upgraded stream's half-close the other way: Docker that
	 * stopped reading a body makes the relay's writes fail
	 */
	IS(shutdown, 1, "how", SHUT_RD),
	/* Docker's answers to the relay through a pipe, in the kernel */
	IS(pipe2, 1, "flags", O_NONBLOCK | O_CLOEXEC),
	IS(fcntl, 1, "cmd", F_SETPIPE_SZ),
	ANY(splice),
};

/* The relay: its loop is over client, listener and docker fds. */
static const struct sandbox_rule sandbox_relay[] = {
	/* clients on the listeners the parent passed (relay.c) */
	IS(accept4, 3, "flags", SOCK_NONBLOCK | SOCK_CLOEXEC),
	/* the client's address and a unix client's credentials, for logs */
	ANY(getpeername),
	SOCKOPT(getsockopt, SOL_SOCKET, SO_PEERCRED),
	/* a unix client's supplementary groups, for client blocks */
	SOCKOPT(getsockopt, SOL_SOCKET, SO_PEERGROUPS),
	/* a unix client's pidfd, for the parent to find its container */
	SOCKOPT(getsockopt, SOL_SOCKET, SO_PEERPIDFD),
	/* latency of every client connection */
	SOCKOPT(setsockopt, IPPROTO_TCP, TCP_NODELAY),
	/* large response bodies to plain clients, in the kernel (splice.c) */
	IS(pipe2, 1, "flags", O_NONBLOCK | O_CLOEXEC),
	IS(fcntl, 1, "cmd", F_SETPIPE_SZ),
	ANY(splice),
	/*
	 * kernel TLS after a client's handshake (relay_tls.c): OpenSSL
	 * attaches the "tls" upper layer, which fails without CONFIG_TLS,
	 * then hands it the keys of each direction
	 */
	SOCKOPT(setsockopt, IPPROTO_TCP, TCP_ULP),
	SOCKOPT(setsockopt, SOL_TLS, TLS_TX),
	SOCKOPT(setsockopt, SOL_TLS, TLS_RX),
};

/*
 * The watcher (daemon/watcher.c): a libevent loop over its two channels
 * and a retry timer, and no descriptor of any other kind; its reads are
 * recvmsg's, its writes the common list's.
 */
static const struct sandbox_rule sandbox_watcher[] = {
	ANY(epoll_ctl),
	ANY(epoll_wait),
	ANY(epoll_pwait),
};

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))
#define LIST(a)		{ #a + sizeof("sandbox_") - 1, (a), NITEMS(a) }

struct sandbox_list {
	const char			*name;
	const struct sandbox_rule	*rules;
	size_t				 nrules;
};

static const struct sandbox_list sandbox_lcommon = LIST(sandbox_common);
static const struct sandbox_list sandbox_lnopath = LIST(sandbox_nopath);
static const struct sandbox_list sandbox_lpolicy = LIST(sandbox_policy);
static const struct sandbox_list sandbox_levloop = LIST(sandbox_evloop);
static const struct sandbox_list sandbox_lrelay = LIST(sandbox_relay);
static const struct sandbox_list sandbox_lforwarder =
    LIST(sandbox_forwarder);
static const struct sandbox_list sandbox_lwatcher = LIST(sandbox_watcher);

/* Each role's lists, in order (its name: proc_role_name()). */
#define SANDBOX_MAXLISTS	4
static const struct sandbox_role_def {
	const struct sandbox_list	*lists[SANDBOX_MAXLISTS];
} sandbox_roles[PROC_NROLES] = {
	[PROC_POLICY] =		{ { &sandbox_lcommon, &sandbox_lpolicy } },
	[PROC_RELAY] =		{ { &sandbox_lcommon, &sandbox_lnopath,
				    &sandbox_levloop, &sandbox_lrelay } },
	[PROC_CA] =		{ { &sandbox_lcommon, &sandbox_lnopath } },
	[PROC_FORWARDER] =	{ { &sandbox_lcommon, &sandbox_lnopath,
				    &sandbox_levloop, &sandbox_lforwarder } },
	[PROC_WATCHER] =	{ { &sandbox_lcommon, &sandbox_lnopath,
				    &sandbox_lwatcher } },
};

#define SANDBOX_NNAMES	512
static char	sandbox_names[SANDBOX_NNAMES][32];

static void	sandbox_add(scmp_filter_ctx, const struct sandbox_list *);
static void	sandbox_debug_init(void);
static void	sandbox_sigsys(int, siginfo_t *, void *);

static void
sandbox_add(scmp_filter_ctx ctx, const struct sandbox_list *l)
{
	const struct sandbox_rule	*r;
	struct scmp_arg_cmp		 arg[2];
	uint32_t			 action;
	size_t				 i;
	int				 rc;

	for (i = 0; i < l->nrules; i++) {
		r = &l->rules[i];
		action = r->errnum ? SCMP_ACT_ERRNO(r->errnum) : SCMP_ACT_ALLOW;
		memcpy(arg, r->arg, sizeof(arg));
		if (r->self)
			arg[0].datum_a = (scmp_datum_t)getpid();
		/* A call this arch lacks (open on aarch64) never matches. */
		rc = seccomp_rule_add_array(ctx, action, r->nr, r->argc, arg);
		if (rc < 0) {
			errno = -rc;
			fatal("%s: %s list: rule for %s", __func__, l->name,
			    r->sys);
		}
	}
}

int
sandbox_entry(enum proc_role role, size_t n, struct sandbox_entry *e)
{
	const struct sandbox_list	*l;
	size_t				 i;

	if ((unsigned int)role >= PROC_NROLES)
		return -1;
	for (i = 0; i < SANDBOX_MAXLISTS; i++) {
		if ((l = sandbox_roles[role].lists[i]) == NULL)
			break;
		if (n >= l->nrules) {
			n -= l->nrules;
			continue;
		}
		e->list = l->name;
		e->sys = l->rules[n].sys;
		e->nr = l->rules[n].nr;
		e->errnum = l->rules[n].errnum;
		e->cond = l->rules[n].cond;
		return 0;
	}
	return -1;
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
sandbox_enter(enum proc_role role)
{
	scmp_filter_ctx		 ctx;
	uint32_t		 deflt = SCMP_ACT_KILL_PROCESS;
	size_t			 i;
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

	if ((unsigned int)role >= PROC_NROLES)
		fatalx("%s: unknown role %d", __func__, role);
	for (i = 0; i < SANDBOX_MAXLISTS; i++)
		if (sandbox_roles[role].lists[i] != NULL)
			sandbox_add(ctx, sandbox_roles[role].lists[i]);
	if ((rc = seccomp_load(ctx)) < 0) {
		errno = -rc;
		fatal("%s: seccomp_load", __func__);
	}
	seccomp_release(ctx);
}
