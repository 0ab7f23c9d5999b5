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
 * Privilege separation: the message layer between processes, fd passing,
 * the process table, privilege drop and the seccomp sandbox.
 */

#ifndef MOATD_PRIVSEP_H
#define MOATD_PRIVSEP_H

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>

#include "mbuf.h"

/* msg.c: imsg-like framing over a SOCK_STREAM socketpair */

#define MSG_HDRSZ	16
#define MSG_MAXSZ	(256 * 1024)	/* header included */
#define MSG_WQUEUE_MAX	(4 * 1024 * 1024)	/* queued bytes per channel */

struct msg_hdr {
	uint32_t	 type;
	uint32_t	 len;		/* header included */
	uint32_t	 peerid;	/* session id, instance, ... */
	uint32_t	 flags;
#define MSGF_HASFD	0x1		/* one fd travels with this message */
};

struct msg {
	struct msg_hdr	 hdr;
	int		 fd;		/* -1 if none */
	uint8_t		*data;		/* hdr.len - MSG_HDRSZ bytes */
	size_t		 datalen;
};

struct msgout;

struct msgbuf {
	int		 fd;
	int		 allow_fdpass;	/* opt-in, per channel */
	uint8_t		*rbuf;
	size_t		 roff;		/* first byte not yet parsed */
	size_t		 rlen;
	size_t		 rsize;
	int		 rerr;		/* sticky protocol error */
	int		*rfds;		/* received fds, in order */
	size_t		 nrfds;
	struct msgout	*whead;		/* write queue */
	struct msgout	*wtail;
	size_t		 wqueued;	/* bytes */
};

void	msgbuf_init(struct msgbuf *, int fd, int allow_fdpass);
void	msgbuf_clear(struct msgbuf *);	/* frees, closes pending fds */
/*
 * Read what is there: >0 bytes read, 0 EOF, -1 error (errno; EAGAIN, or
 * ENOBUFS when more than a message is buffered: drain with msg_get).
 */
ssize_t	msgbuf_read(struct msgbuf *);
/*
 * 1 a message, 0 need more, -1 protocol error (bad size, fd misuse).  A
 * message flagged MSGF_HASFD whose fd the kernel dropped because our
 * descriptor table was full comes with fd -1: refuse what it was for.
 */
int	msg_get(struct msgbuf *, struct msg *);
void	msg_free(struct msg *);	/* frees data; closes fd if still >= 0 */
/*
 * Queue a message (data is copied); fd (or -1) belongs to the layer from
 * here on: closed once sent, by msgbuf_clear(), or at once on failure.
 * 0, or -1: EMSGSIZE (over MSG_MAXSZ), ENOBUFS (queue over MSG_WQUEUE_MAX),
 * EINVAL (an fd on a channel without fd passing).
 */
int	msg_compose(struct msgbuf *, uint32_t type, uint32_t peerid, int fd,
	    const void *data, size_t len);
/* Write queued messages: 1 all written, 0 some left (EAGAIN), -1 error. */
int	msgbuf_flush(struct msgbuf *);
/* Block until everything is written (poll). 0 or -1. */
int	msgbuf_flush_sync(struct msgbuf *);

/* drop.c: demotion */

struct moat_user {
	uid_t	 uid;
	gid_t	 gid;
	char	 name[64];
};

/* Look the user up (before any chroot).  -1 if unknown, uid 0 or gid 0. */
int	drop_lookup_user(const char *name, struct moat_user *);
/*
 * Make sure dir is an absolute path whose every component is a directory
 * owned by root and not group/other writable, and that dir is empty.
 * With create, missing components are made 0755 root:root.  0 or -1.
 */
int	drop_check_chroot(const char *dir, int create);
/* chroot, chdir /, setgroups, setresgid, setresuid, verify; fatal on any
 * failure.  Then rlimits and no_new_privs. */
void	drop_privileges(const struct moat_user *, const char *chrootdir);

/* sandbox.c: seccomp-bpf, one allow-list per role */

enum sandbox_role {
	SANDBOX_POLICY,
	SANDBOX_RELAY,
	SANDBOX_CA,		/* the key holder: the common list only */
};

/* Install the filter for role; fatal on failure.  In debug mode
 * (MOATD_SECCOMP_DEBUG set at start) a blocked call is reported by name
 * before the process exits; otherwise the kernel kills the process. */
void	sandbox_enter(enum sandbox_role);

#endif /* MOATD_PRIVSEP_H */
