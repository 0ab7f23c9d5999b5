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

/* Children for the drop and sandbox tests: see child.h. */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "child.h"
#include "log.h"
#include "privsep.h"

int		 cfd = -1;

/* --- the child's side ------------------------------------------------ */

void
say(const char *fmt, ...)
{
	char	 buf[512];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (write(cfd, buf, strlen(buf)) == -1)
		_exit(91);
}

void
hear(const char *want)
{
	struct iovec	 iov;
	struct msghdr	 mh;
	char		 buf[64];
	ssize_t		 n;

	/* recvmsg(2): every role's filter allows it, read(2) and recv(2)
	 * (recvfrom) not */
	iov.iov_base = buf;
	iov.iov_len = sizeof(buf) - 1;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if ((n = recvmsg(cfd, &mh, 0)) <= 0)
		_exit(92);
	buf[n] = '\0';
	if (strcmp(buf, want) != 0)
		_exit(93);
}

void
demote(void)
{
	struct moat_user	 u;
	const char		*root = getenv(ENV_ROOT);

	if (root == NULL || drop_lookup_user("nobody", &u) == -1)
		_exit(94);
	drop_privileges(&u, root);
}

static const struct scenario {
	const char	*name;
	int		(*run)(const char *);
} scenarios[] = {
	{ "deny", sc_deny },
	{ "abort", sc_abort },
	{ "caloop", sc_ca_loop },
	{ "allowed", sc_allowed },
	{ "drop", sc_drop },
	{ "nnp", sc_nnp },
	{ "badchroot", sc_badchroot },
	{ "rootuser", sc_rootuser },
	{ "policyloop", sc_policy_loop },
	{ "relayloop", sc_relay_loop },
	{ "debug", sc_debug },
	{ "ctrunc", sc_ctrunc },
};

/* Runs before main(): in a child, the scenario replaces the runner. */
__attribute__((constructor)) static void
unit_child(void)
{
	const char	*s, *fd, *errstr, *arg;
	size_t		 i, len;

	if ((s = getenv(ENV_SCENARIO)) == NULL)
		return;
	if ((fd = getenv(ENV_FD)) == NULL)
		_exit(80);
	cfd = strtonum(fd, 3, INT_MAX, &errstr);
	if (errstr != NULL)
		_exit(81);
	log_init(1, LOG_INFO, LOG_DAEMON);
	log_procinit("unit-child");
	arg = strchr(s, ':');
	len = arg == NULL ? strlen(s) : (size_t)(arg - s);
	for (i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		if (strlen(scenarios[i].name) == len &&
		    strncmp(scenarios[i].name, s, len) == 0)
			_exit(scenarios[i].run(arg == NULL ? "" : arg + 1));
	_exit(82);
}

/* --- the test's side ------------------------------------------------- */

char		 unit_base[64], unit_root[80];
static char	 exe[PATH_MAX];

/* The end of what the child wrote: Check caps its messages. */
const char *
errtail(const struct child *c)
{
	size_t	 len = strlen(c->err);

	return len > 600 ? c->err + len - 600 : c->err;
}

/* A fresh chroot per test: the base is 0700, the root made by drop.c. */
void
make_root(void)
{
	strlcpy(unit_base, "/run/moatd-unit.XXXXXX", sizeof(unit_base));
	ck_assert_ptr_nonnull(mkdtemp(unit_base));
	snprintf(unit_root, sizeof(unit_root), "%s/root", unit_base);
	ck_assert_int_eq(drop_check_chroot(unit_root, 1), 0);
}

void
rm_root(void)
{
	ck_assert_int_eq(rmdir(unit_root), 0);
	ck_assert_int_eq(rmdir(unit_base), 0);
}

void
child_start(struct child *c, const char *scenario, int stream, int debug)
{
	char	 num[16];
	int	 sv[2], ep[2];
	ssize_t	 n;

	memset(c, 0, sizeof(*c));
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	ck_assert_int_gt(n, 0);
	exe[n] = '\0';
	ck_assert_int_eq(socketpair(AF_UNIX, (stream ? SOCK_STREAM :
	    SOCK_SEQPACKET) | SOCK_CLOEXEC, 0, sv), 0);
	ck_assert_int_eq(pipe2(ep, O_CLOEXEC), 0);
	ck_assert_int_ne(c->pid = fork(), -1);
	if (c->pid == 0) {
		if (dup2(ep[1], STDERR_FILENO) == -1 ||
		    fcntl(sv[1], F_SETFD, 0) == -1)
			_exit(120);
		snprintf(num, sizeof(num), "%d", sv[1]);
		setenv(ENV_FD, num, 1);
		setenv(ENV_SCENARIO, scenario, 1);
		setenv(ENV_ROOT, unit_root, 1);
		if (debug)
			setenv("MOATD_SECCOMP_DEBUG", "1", 1);
		else
			unsetenv("MOATD_SECCOMP_DEBUG");
		execl(exe, exe, (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	close(ep[1]);
	c->fd = sv[0];
	c->errfd = ep[0];
}

static void
child_drain_err(struct child *c)
{
	size_t	 len = strlen(c->err), keep = sizeof(c->err) / 2;
	ssize_t	 n;

	/* Read it all; keep the end, where the verdict is. */
	while ((n = read(c->errfd, c->err + len, sizeof(c->err) - 1 - len)) >
	    0) {
		len += n;
		if (len == sizeof(c->err) - 1) {
			memmove(c->err, c->err + len - keep, keep);
			len = keep;
		}
	}
	c->err[len] = '\0';
}

/* Wait for the child's next word (seqpacket: one message). */
void
child_hear(struct child *c, char *buf, size_t sz)
{
	struct pollfd	 pfd = { c->fd, POLLIN, 0 };
	ssize_t		 n;

	ck_assert_int_eq(poll(&pfd, 1, WAIT_MS), 1);
	n = read(c->fd, buf, sz - 1);
	if (n <= 0) {
		close(c->fd);
		waitpid(c->pid, &c->status, 0);
		child_drain_err(c);
		ck_abort_msg("child said nothing, status %#x, stderr: %s",
		    c->status, errtail(c));
	}
	buf[n] = '\0';
}

void
child_say(struct child *c, const char *word)
{
	ck_assert_int_eq(write(c->fd, word, strlen(word)), strlen(word));
}

void
child_wait(struct child *c)
{
	int	 ms;
	pid_t	 r;

	for (ms = 0; ms < WAIT_MS; ms++) {
		if ((r = waitpid(c->pid, &c->status, WNOHANG)) == c->pid)
			break;
		ck_assert_int_eq(r, 0);
		usleep(1000);
	}
	if (ms == WAIT_MS) {
		kill(c->pid, SIGKILL);
		waitpid(c->pid, &c->status, 0);
	}
	close(c->fd);
	child_drain_err(c);
	close(c->errfd);
	ck_assert_msg(ms < WAIT_MS, "child hung; stderr: %s", errtail(c));
}

void
child_exited(struct child *c, int code)
{
	child_wait(c);
	ck_assert_msg(WIFEXITED(c->status) && WEXITSTATUS(c->status) == code,
	    "status %#x, wanted exit %d; stderr: %s", c->status, code,
	    errtail(c));
}

void
child_sigsys(struct child *c)
{
	child_wait(c);
	ck_assert_msg(WIFSIGNALED(c->status) && WTERMSIG(c->status) == SIGSYS,
	    "status %#x, wanted SIGSYS; stderr: %s", c->status, errtail(c));
}

/* One "Name:\tvalue" line of /proc/<pid>/status, whitespace squeezed. */
static void
proc_status(pid_t pid, const char *field, char *out, size_t sz)
{
	char	 path[64], line[256], *v, *p;
	size_t	 n = strlen(field), o = 0;
	FILE	*f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	ck_assert_ptr_nonnull(f = fopen(path, "r"));
	out[0] = '\0';
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, field, n) != 0 || line[n] != ':')
			continue;
		for (v = line + n + 1; *v == '\t' || *v == ' '; v++)
			;
		for (p = v; *p != '\0' && *p != '\n' && o < sz - 1; p++) {
			if (*p == '\t' || *p == ' ') {
				if (o > 0 && out[o - 1] != ' ')
					out[o++] = ' ';
			} else
				out[o++] = *p;
		}
		while (o > 0 && out[o - 1] == ' ')
			o--;
		out[o] = '\0';
		break;
	}
	fclose(f);
}

void
assert_status(pid_t pid, const char *field, const char *want)
{
	char	 got[256];

	proc_status(pid, field, got, sizeof(got));
	ck_assert_msg(strcmp(got, want) == 0, "%s: \"%s\", wanted \"%s\"",
	    field, got, want);
}

