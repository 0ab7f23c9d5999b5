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
 * Children for the drop and sandbox tests.  Demotion and filters cannot be
 * undone, so such a test runs its scenario in a child that re-executes
 * this binary, as moatd's children re-exec themselves: a constructor in
 * child.c sees MOATD_UNIT_CHILD and runs the named scenario instead of
 * the test runner.  The exec also keeps the child out of valgrind
 * (--trace-children=no), whose own system calls a filter would kill.
 * The test talks to the child over a socketpair (seqpacket, or stream for
 * msg.c channels) and reads its stderr through a pipe.
 */

#ifndef MOATD_UNIT_CHILD_H
#define MOATD_UNIT_CHILD_H

#include <sys/types.h>

#define ENV_SCENARIO	"MOATD_UNIT_CHILD"
#define ENV_FD		"MOATD_UNIT_FD"
#define ENV_ROOT	"MOATD_UNIT_ROOT"	/* the chroot to demote into */
#define WAIT_MS		10000	/* for any answer from a child */
#define NOBODY		65534

/* The child's side. */
extern int	 cfd;		/* channel to the test */

void	say(const char *, ...)
	    __attribute__((__format__ (printf, 1, 2)));
void	hear(const char *);
void	demote(void);		/* to nobody, chrooted in the test's root */

/* Scenarios, by file; the argument follows the name after a ':'. */
int	sc_drop(const char *);
int	sc_badchroot(const char *);
int	sc_rootuser(const char *);
int	sc_ctrunc(const char *);
int	sc_deny(const char *);
int	sc_abort(const char *);
int	sc_ca_loop(const char *);
int	sc_allowed(const char *);
int	sc_nnp(const char *);
int	sc_debug(const char *);
int	sc_policy_loop(const char *);
int	sc_relay_loop(const char *);

/* The test's side. */
struct child {
	pid_t	 pid;
	int	 fd;		/* socketpair to the child */
	int	 errfd;		/* its stderr */
	int	 status;
	char	 err[4096];	/* the end of what it wrote there */
};

extern char	 unit_base[64], unit_root[80];

void	 make_root(void);
void	 rm_root(void);
void	 child_start(struct child *, const char *scenario, int stream,
	    int debug);
void	 child_hear(struct child *, char *, size_t);
void	 child_say(struct child *, const char *);
void	 child_wait(struct child *);
void	 child_exited(struct child *, int);
void	 child_sigsys(struct child *);
const char *errtail(const struct child *);
void	 assert_status(pid_t, const char *field, const char *want);

#endif /* MOATD_UNIT_CHILD_H */
