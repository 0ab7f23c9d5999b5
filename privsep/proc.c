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
 * Spawning children, relayd/gmid style: fork, put the parent channel on
 * fd 3, close everything else, and re-exec ourselves with -P role -I n so
 * that each child starts from a fresh address space holding nothing but
 * what the parent then sends it.  What every child does first is here
 * too: name itself, route its logs, and give up root.  And the process
 * table: what each role is called, how many run, and what may cross its
 * channel to the parent, which both ends check against it.
 */

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef MOATD_SANITIZE
#include <stdint.h>
#include <sanitizer/common_interface_defs.h>
#endif

#include <event2/event.h>

#include "log.h"
#include "privsep.h"

#ifdef MOATD_SANITIZE
static void	proc_sanitize_env(void);
const char	*__ubsan_default_options(void);
#endif

static struct chan	*log_chan;

#define M(t)		(UINT64_C(1) << (t))
_Static_assert(MSG_TYPE_MAX <= 64, "message types must fit a uint64_t");

/*
 * The process table.  sends: what the role may send the parent; recvs:
 * what the parent may send the role, fds: of those, the ones that carry a
 * descriptor (always: the others never do); sfds: of sends, those that
 * may carry one (a relay's MSG_IDENT_PEER: a pidfd, or none).
 */
static const struct proc_def {
	const char	*name;
	int		 per_relay;
	uint64_t	 sends;
	uint64_t	 recvs;
	uint64_t	 fds;
	uint64_t	 sfds;
} proc_table[PROC_NROLES] = {
	[PROC_POLICY] = { "policy", 0,
	    M(MSG_LOG) | M(MSG_CFG_DONE) | M(MSG_LEARN_RULES),
	    M(MSG_CTL_PROCFD) | M(MSG_FWD_KEY) | M(MSG_CFG_GLOBAL) |
	    M(MSG_CFG_RULES) | M(MSG_CFG_CLIENT) | M(MSG_CFG_DONE) |
	    M(MSG_LEARN_CTL),
	    M(MSG_CTL_PROCFD) },
	[PROC_RELAY] = { "relay", 1,
	    M(MSG_LOG) | M(MSG_CFG_DONE) | M(MSG_IDENT_PEER) | M(MSG_AUDIT),
	    M(MSG_CTL_FWDFD) | M(MSG_CTL_PROCFD) | M(MSG_CFG_LISTENER) |
	    M(MSG_CTL_DRAIN) | M(MSG_CFG_TLS) | M(MSG_CFG_TLS_CA) |
	    M(MSG_CFG_TLS_CRL) | M(MSG_CTL_CAFD) | M(MSG_CFG_GLOBAL) |
	    M(MSG_CFG_RULES) | M(MSG_CFG_CLIENT) | M(MSG_CFG_DONE) |
	    M(MSG_CFG_SHARE) | M(MSG_IDENT_CONTAINER),
	    M(MSG_CTL_FWDFD) | M(MSG_CTL_PROCFD) | M(MSG_CFG_LISTENER) |
	    M(MSG_CTL_CAFD) | M(MSG_CFG_SHARE),
	    M(MSG_IDENT_PEER) },
	[PROC_CA] = { "ca", 1,
	    M(MSG_LOG) | M(MSG_CFG_DONE),
	    M(MSG_CTL_PROCFD) | M(MSG_CFG_TLS_KEY) | M(MSG_CFG_DONE),
	    M(MSG_CTL_PROCFD) },
	[PROC_FORWARDER] = { "forwarder", 1,
	    M(MSG_LOG) | M(MSG_CFG_DONE) | M(MSG_BACKEND_REQ),
	    M(MSG_BACKEND_FD) | M(MSG_BACKEND_ERR) | M(MSG_FWD_KEY) |
	    M(MSG_CTL_PROCFD) | M(MSG_CFG_TLS) | M(MSG_CFG_TLS_CA) |
	    M(MSG_CFG_TLS_CRL) | M(MSG_CTL_CAFD) | M(MSG_CFG_DONE),
	    M(MSG_BACKEND_FD) | M(MSG_CTL_PROCFD) | M(MSG_CTL_CAFD) },
	/* No descriptor but its channels: the parent reads Docker for it. */
	[PROC_WATCHER] = { "watcher", 0,
	    M(MSG_LOG) | M(MSG_CFG_DONE) | M(MSG_WATCH_OPEN),
	    M(MSG_CTL_PROCFD) | M(MSG_WATCH_CFG) | M(MSG_WATCH_DATA) |
	    M(MSG_WATCH_END) | M(MSG_CFG_DONE),
	    M(MSG_CTL_PROCFD) },
};

/*
 * What crosses the channels between children: from a role, to a role,
 * the messages it may send (fds: those that carry a descriptor, always).
 * A pair not listed has no channel.
 */
static const struct proc_peer {
	enum proc_role	 from;
	enum proc_role	 to;
	uint64_t	 sends;
	uint64_t	 fds;
} proc_peers[] = {
	{ PROC_RELAY, PROC_POLICY, M(MSG_POLICY_REQ), 0 },
	{ PROC_POLICY, PROC_RELAY, M(MSG_POLICY_VERDICT), 0 },
	{ PROC_RELAY, PROC_FORWARDER, M(MSG_FWD_OPEN), 0 },
	{ PROC_FORWARDER, PROC_RELAY, M(MSG_FWD_STREAM) | M(MSG_FWD_ERR),
	    M(MSG_FWD_STREAM) },
	{ PROC_RELAY, PROC_CA, M(MSG_CA_REQ), 0 },
	{ PROC_FORWARDER, PROC_CA, M(MSG_CA_REQ), 0 },
	{ PROC_CA, PROC_RELAY, M(MSG_CA_RES), 0 },
	{ PROC_CA, PROC_FORWARDER, M(MSG_CA_RES), 0 },
	{ PROC_WATCHER, PROC_POLICY, M(MSG_WATCH_TABLE), 0 },
};

static const struct proc_def *
proc_def(enum proc_role role)
{
	if ((unsigned int)role >= PROC_NROLES)
		return NULL;
	return &proc_table[role];
}

const char *
proc_role_name(enum proc_role role)
{
	const struct proc_def	*d = proc_def(role);

	return d == NULL ? NULL : d->name;
}

int
proc_role_lookup(const char *name)
{
	int	 r;

	for (r = 0; r < PROC_NROLES; r++)
		if (strcmp(proc_table[r].name, name) == 0)
			return r;
	return -1;
}

int
proc_per_relay(enum proc_role role)
{
	const struct proc_def	*d = proc_def(role);

	return d != NULL && d->per_relay;
}

int
proc_may_send(enum proc_role role, uint32_t type, int has_fd)
{
	const struct proc_def	*d = proc_def(role);

	if (d == NULL || type >= MSG_TYPE_MAX || !(d->sends & M(type)))
		return 0;
	return !has_fd || (d->sfds & M(type)) != 0;
}

/* A descriptor comes with exactly the types that carry one; a message
 * whose fd the kernel dropped (msg_get: fd -1) is for its reader. */
int
proc_may_recv(enum proc_role role, uint32_t type, int has_fd)
{
	const struct proc_def	*d = proc_def(role);

	if (d == NULL || type >= MSG_TYPE_MAX || !(d->recvs & M(type)))
		return 0;
	return !has_fd || (d->fds & M(type)) != 0;
}

int
proc_peer_may_send(enum proc_role from, enum proc_role to, uint32_t type,
    int has_fd)
{
	size_t	 i;

	if (type >= MSG_TYPE_MAX)
		return 0;
	for (i = 0; i < sizeof(proc_peers) / sizeof(proc_peers[0]); i++) {
		if (proc_peers[i].from != from || proc_peers[i].to != to)
			continue;
		if (!(proc_peers[i].sends & M(type)))
			return 0;
		return !has_fd || (proc_peers[i].fds & M(type)) != 0;
	}
	return 0;
}

void
proc_recv_check(enum proc_role role, const struct msg *m)
{
	if (!proc_may_recv(role, m->hdr.type, m->fd != -1))
		fatalx("unexpected message %s%s from parent",
		    msg_type_name(m->hdr.type),
		    m->fd != -1 ? " with a descriptor" : "");
}

/*
 * A new child, before exec: SIGINT and SIGTERM are the parent's.  A
 * terminal's Ctrl-C, or kill -TERM -- -PGID, reaches every process of
 * moatd -d's process group at once; the parent then stops its children
 * in order (MSG_CTL_DRAIN, then the EOF of their channels), which they
 * would not live to see if the signal killed them first.  An ignored
 * signal stays ignored across execv, and a pending one is discarded:
 * nothing is left to do past the sandbox.  The parent's death still
 * kills the child (PR_SET_PDEATHSIG, SIGKILL), and SIGKILL still works.
 * Then the signal mask the parent had.
 */
static int
proc_quiet(const sigset_t *mask)
{
	if (signal(SIGINT, SIG_IGN) == SIG_ERR ||
	    signal(SIGTERM, SIG_IGN) == SIG_ERR ||
	    sigprocmask(SIG_SETMASK, mask, NULL) == -1)
		return -1;
	return 0;
}

pid_t
proc_spawn(const struct moat_child_args *a, int chanfd)
{
	char		 inst[16], level[16];
	char		*argv[16];
	int		 argc = 0;
	pid_t		 pid, parent;
	sigset_t	 stop, old;

	snprintf(inst, sizeof(inst), "%d", a->instance);
	snprintf(level, sizeof(level), "%d", a->log_level);
	argv[argc++] = "moatd";
	argv[argc++] = "-P";
	argv[argc++] = (char *)proc_role_name(a->role);
	argv[argc++] = "-I";
	argv[argc++] = inst;
	argv[argc++] = "-u";
	argv[argc++] = (char *)a->user;
	argv[argc++] = "-chroot";
	argv[argc++] = (char *)a->chroot;
	argv[argc++] = "-log-level";
	argv[argc++] = level;
	if (a->foreground)
		argv[argc++] = "-d";
	argv[argc] = NULL;

	/*
	 * SIGINT and SIGTERM stay blocked across the fork, so that none
	 * lands in the child before it ignores them (see proc_quiet).
	 */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &stop, &old) == -1) {
		log_warn("%s: sigprocmask", __func__);
		return -1;
	}
	parent = getpid();
	if ((pid = fork()) != 0) {
		if (pid == -1)
			log_warn("%s: fork", __func__);
		if (sigprocmask(SIG_SETMASK, &old, NULL) == -1)
			fatal("%s: sigprocmask", __func__);
		return pid;
	}
	if (proc_quiet(&old) == -1)
		_exit(1);
	/*
	 * The child dies with the parent, whatever the parent died of.  A
	 * parent that died before the prctl shows as a new parent pid; not
	 * as pid 1, which in a container is the parent itself.
	 */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1)
		_exit(1);
	if (getppid() != parent)
		_exit(1);
	if (chanfd != PARENT_FD) {
		if (dup2(chanfd, PARENT_FD) == -1)
			_exit(1);
	} else if (fcntl(chanfd, F_SETFD, 0) == -1)
		_exit(1);
	closefrom(PARENT_FD + 1);
	signal(SIGPIPE, SIG_DFL);
#ifdef MOATD_SANITIZE
	proc_sanitize_env();
#endif
	execv(a->self, argv);
	dprintf(STDERR_FILENO, "moatd: exec %s: %s\n", a->self,
	    strerror(errno));
	_exit(1);
}

#ifdef MOATD_SANITIZE
/*
 * The ASan/UBSan build only (make check-asan).  LeakSanitizer's check at
 * exit stops the world with clone(2) and ptrace(2) and lists threads in
 * /proc: none of it works in a chrooted child with RLIMIT_NPROC 0 and
 * no dumpable flag, where it would end in "LeakSanitizer has encountered
 * a fatal error".  So every child starts with detect_leaks=0 appended
 * (the last setting wins); the parent keeps the caller's setting, and
 * regress/tests/leak.sh measures the children's growth instead.  We are
 * between fork and exec of a single-threaded parent: setenv is safe.
 */
static void
proc_sanitize_env(void)
{
	const char	*old;
	char		 buf[4096];
	int		 n;

	if ((old = getenv("ASAN_OPTIONS")) == NULL)
		old = "";
	n = snprintf(buf, sizeof(buf), "%s%sdetect_leaks=0", old,
	    old[0] == '\0' ? "" : ":");
	if (n < 0 || (size_t)n >= sizeof(buf) ||
	    setenv("ASAN_OPTIONS", buf, 1) == -1)
		_exit(1);
}

/*
 * UBSan reads UBSAN_OPTIONS only at its first report, from
 * /proc/self/environ, which a child past setresuid can no longer open:
 * without these a child's report would come without its stack.
 */
const char *
__ubsan_default_options(void)
{
	return "print_stacktrace=1:halt_on_error=1";
}
#endif

/* A log record for the parent: priority and text. */
static int
log_record(struct mbuf *m, int pri, const char *msg)
{
	mbuf_init(m);
	mbuf_add_u32(m, pri);
	mbuf_add_str(m, msg);
	return m->err ? -1 : 0;
}

/* A log record for the parent, queued on a poll-loop child's channel. */
void
proc_log_send(struct msgbuf *mb, int pri, const char *msg)
{
	struct mbuf	 m;

	if (log_record(&m, pri, msg) == 0)
		(void)msg_compose(mb, MSG_LOG, 0, -1, m.buf, m.len);
	mbuf_free(&m);
}

static void
log_to_parent(int pri, const char *msg)
{
	struct mbuf	 m;

	if (log_chan == NULL || !log_chan->open)
		log_emit(pri, msg);
	else if (log_record(&m, pri, msg) == 0)
		(void)chan_compose(log_chan, MSG_LOG, 0, -1, m.buf, m.len);
	mbuf_free(&m);
}

/* Channel writes wait for the end of a loop pass: on exit, push out
 * what is queued (the last request lines, a fatal message). */
static void
log_flush_at_exit(void)
{
	if (log_chan != NULL && log_chan->open)
		(void)msgbuf_flush_sync(&log_chan->mb);
}

void
proc_log_to(struct chan *ch)
{
	log_chan = ch;
	log_setsink(log_to_parent);
	atexit(log_flush_at_exit);
}

void
proc_child_init(const char *title, int instance, int foreground,
    const char *user, const char *chroot)
{
	static char		 name[32];
	struct moat_user	 u;
	pid_t			 parent;

	if (instance >= 0)
		snprintf(name, sizeof(name), "%s[%d]", title, instance);
	else
		strlcpy(name, title, sizeof(name));
	/* The death signal set before exec still holds: this is the parent. */
	parent = getppid();
	log_procinit(name);
	setproctitle("%s", name);
	if (fcntl(PARENT_FD, F_SETFD, FD_CLOEXEC) == -1 ||
	    fcntl(PARENT_FD, F_SETFL, O_NONBLOCK) == -1)
		fatal("%s: parent channel", name);
	if (drop_lookup_user(user, &u) == -1)
		fatalx("%s: unprivileged user %s: not found or uid 0", name,
		    user);
#ifdef MOATD_SANITIZE
	/*
	 * The ASan/UBSan build only.  Past the chroot the runtime can read
	 * neither /proc/self/maps nor the binary, nor run a symbolizer
	 * (no fork): have it cache the mappings now, so that a report
	 * still names module+offset (regress/lib.sh symbolizes those).  A
	 * log_path= report file would be opened only at the first report,
	 * where open(2) fails in the empty chroot: report to stderr, the
	 * parent's (moatd's log under -d in the tests), which we may write.
	 */
	__sanitizer_sandbox_on_notify(NULL);
	__sanitizer_set_report_fd((void *)(intptr_t)STDERR_FILENO);
#endif
	drop_privileges(&u, chroot);
	/* Changing credentials cleared the death signal: set it again. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1)
		fatal("%s: prctl", name);
	if (getppid() != parent)
		fatalx("%s: parent gone", name);
}

static void
parent_gone(struct chan *ch, void *arg)
{
	exit(0);	/* the parent is gone: so are we */
}

/*
 * What a libevent child (a relay, a forwarder) does first: logging,
 * SIGPIPE ignored, privileges dropped (proc_child_init), its event base,
 * and its channel to the parent, whose end is its own, with its logs
 * going there.  Returns the descriptors it may hold (RLIMIT_NOFILE).
 */
int
proc_event_child(const char *title, int instance, int foreground,
    int log_level, const char *user, const char *chroot,
    struct event_base **basep, struct chan *parent,
    chan_dispatch_fn dispatch)
{
	struct rlimit	 rl;

	log_init(foreground, log_level, LOG_DAEMON);
	signal(SIGPIPE, SIG_IGN);
	proc_child_init(title, instance, foreground, user, chroot);
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		fatal("getrlimit");
	if ((*basep = event_base_new()) == NULL)
		fatalx("event_base_new");
	chan_init(parent, *basep, PARENT_FD, 1, "parent", dispatch,
	    parent_gone, NULL);
	proc_log_to(parent);
	return rl.rlim_cur > 1048576 ? 1048576 : (int)rl.rlim_cur;
}
