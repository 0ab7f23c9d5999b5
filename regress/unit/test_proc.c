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
 * Unit tests for privsep/proc.c's process table: names both ways, the
 * instance counts, and what may cross a child's channel to the parent
 * each way, which is what the parent kills a child for (proc_may_send)
 * and what a child dies of (proc_recv_check).
 */

#include <sys/types.h>
#include <sys/wait.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "privsep.h"

START_TEST(test_names)
{
	const char	*n;
	int		 r;

	for (r = 0; r < PROC_NROLES; r++) {
		ck_assert_ptr_nonnull(n = proc_role_name(r));
		ck_assert_int_eq(proc_role_lookup(n), r);
	}
	ck_assert_ptr_null(proc_role_name(PROC_NROLES));
	ck_assert_ptr_null(proc_role_name((enum proc_role)-1));
	ck_assert_int_eq(proc_role_lookup("relay"), PROC_RELAY);
	ck_assert_int_eq(proc_role_lookup("forwarder"), PROC_FORWARDER);
	ck_assert_int_eq(proc_role_lookup("parent"), -1);
	ck_assert_int_eq(proc_role_lookup("Relay"), -1);
	ck_assert_int_eq(proc_role_lookup(""), -1);
	/* one policy worker; a ca, a forwarder and a relay per relay */
	ck_assert_int_eq(proc_per_relay(PROC_POLICY), 0);
	ck_assert_int_eq(proc_per_relay(PROC_RELAY), 1);
	ck_assert_int_eq(proc_per_relay(PROC_CA), 1);
	ck_assert_int_eq(proc_per_relay(PROC_FORWARDER), 1);
	/* and one watcher */
	ck_assert_int_eq(proc_role_lookup("watcher"), PROC_WATCHER);
	ck_assert_int_eq(proc_per_relay(PROC_WATCHER), 0);
	ck_assert_int_eq(proc_per_relay(PROC_NROLES), 0);
	/* every type has a name for the logs */
	for (r = 0; r < MSG_TYPE_MAX; r++)
		ck_assert_str_ne(msg_type_name(r), "an unknown message");
	ck_assert_str_eq(msg_type_name(MSG_TYPE_MAX), "an unknown message");
}
END_TEST

/* What a child may send the parent: the forwarder alone asks for Docker. */
START_TEST(test_may_send)
{
	uint32_t	 t;
	int		 r;

	ck_assert_int_eq(proc_may_send(PROC_FORWARDER, MSG_BACKEND_REQ, 0),
	    1);
	ck_assert_int_eq(proc_may_send(PROC_RELAY, MSG_BACKEND_REQ, 0), 0);
	ck_assert_int_eq(proc_may_send(PROC_POLICY, MSG_BACKEND_REQ, 0), 0);
	ck_assert_int_eq(proc_may_send(PROC_CA, MSG_BACKEND_REQ, 0), 0);
	for (r = 0; r < PROC_NROLES; r++) {
		ck_assert_int_eq(proc_may_send(r, MSG_LOG, 0), 1);
		ck_assert_int_eq(proc_may_send(r, MSG_CFG_DONE, 0), 1);
		/* nothing that is the parent's to send or a peer's */
		ck_assert_int_eq(proc_may_send(r, MSG_NONE, 0), 0);
		ck_assert_int_eq(proc_may_send(r, MSG_BACKEND_FD, 0), 0);
		ck_assert_int_eq(proc_may_send(r, MSG_CFG_RULES, 0), 0);
		ck_assert_int_eq(proc_may_send(r, MSG_CTL_PROCFD, 0), 0);
		ck_assert_int_eq(proc_may_send(r, MSG_POLICY_REQ, 0), 0);
		ck_assert_int_eq(proc_may_send(r, MSG_FWD_OPEN, 0), 0);
		ck_assert_int_eq(proc_may_send(r, MSG_CA_REQ, 0), 0);
		ck_assert_int_eq(proc_may_send(r, MSG_TYPE_MAX, 0), 0);
		ck_assert_int_eq(proc_may_send(r, 64, 0), 0);
		ck_assert_int_eq(proc_may_send(r, UINT32_MAX, 0), 0);
		ck_assert_int_eq(proc_may_send(r, MSG_IDENT_CONTAINER, 0), 0);
		/* and never a descriptor, whatever comes with it, but a
		 * relay's pidfd of a unix peer */
		for (t = 0; t <= MSG_TYPE_MAX; t++)
			ck_assert_int_eq(proc_may_send(r, t, 1),
			    r == PROC_RELAY && t == MSG_IDENT_PEER);
	}
	/* a unix peer's pidfd, or none: the relay only */
	ck_assert_int_eq(proc_may_send(PROC_RELAY, MSG_IDENT_PEER, 0), 1);
	ck_assert_int_eq(proc_may_send(PROC_POLICY, MSG_IDENT_PEER, 0), 0);
	ck_assert_int_eq(proc_may_send(PROC_FORWARDER, MSG_IDENT_PEER, 1), 0);
	ck_assert_int_eq(proc_may_send(PROC_CA, MSG_IDENT_PEER, 1), 0);
	/* the answer goes to relays, without a descriptor */
	ck_assert_int_eq(proc_may_recv(PROC_RELAY, MSG_IDENT_CONTAINER, 0),
	    1);
	ck_assert_int_eq(proc_may_recv(PROC_RELAY, MSG_IDENT_CONTAINER, 1),
	    0);
	ck_assert_int_eq(proc_may_recv(PROC_FORWARDER, MSG_IDENT_CONTAINER,
	    0), 0);
	ck_assert_int_eq(proc_may_recv(PROC_POLICY, MSG_IDENT_CONTAINER, 0),
	    0);
	ck_assert_int_eq(proc_may_send(PROC_NROLES, MSG_LOG, 0), 0);
	ck_assert_int_eq(proc_may_send((enum proc_role)-1, MSG_LOG, 0), 0);
}
END_TEST

/* What the parent may send a child, and which of those carry an fd. */
START_TEST(test_may_recv)
{
	int	 r;

	ck_assert_int_eq(proc_may_recv(PROC_RELAY, MSG_CFG_LISTENER, 1), 1);
	ck_assert_int_eq(proc_may_recv(PROC_RELAY, MSG_CTL_DRAIN, 0), 1);
	ck_assert_int_eq(proc_may_recv(PROC_RELAY, MSG_CTL_DRAIN, 1), 0);
	/* Docker connections go to the forwarder, never to a relay */
	ck_assert_int_eq(proc_may_recv(PROC_FORWARDER, MSG_BACKEND_FD, 1), 1);
	ck_assert_int_eq(proc_may_recv(PROC_RELAY, MSG_BACKEND_FD, 1), 0);
	ck_assert_int_eq(proc_may_recv(PROC_FORWARDER, MSG_CFG_LISTENER, 1),
	    0);
	/* the ca gets keys and its clients' channels, nothing else */
	ck_assert_int_eq(proc_may_recv(PROC_CA, MSG_CFG_TLS_KEY, 0), 1);
	ck_assert_int_eq(proc_may_recv(PROC_CA, MSG_CFG_TLS_KEY, 1), 0);
	ck_assert_int_eq(proc_may_recv(PROC_CA, MSG_CFG_RULES, 0), 0);
	ck_assert_int_eq(proc_may_recv(PROC_RELAY, MSG_CFG_TLS_KEY, 0), 0);
	ck_assert_int_eq(proc_may_recv(PROC_POLICY, MSG_FWD_KEY, 0), 1);
	ck_assert_int_eq(proc_may_recv(PROC_POLICY, MSG_FWD_KEY, 1), 0);
	ck_assert_int_eq(proc_may_recv(PROC_RELAY, MSG_FWD_KEY, 0), 0);
	/* client blocks: to those that decide and re-check, without fds */
	ck_assert_int_eq(proc_may_recv(PROC_POLICY, MSG_CFG_CLIENT, 0), 1);
	ck_assert_int_eq(proc_may_recv(PROC_RELAY, MSG_CFG_CLIENT, 0), 1);
	ck_assert_int_eq(proc_may_recv(PROC_RELAY, MSG_CFG_CLIENT, 1), 0);
	ck_assert_int_eq(proc_may_recv(PROC_CA, MSG_CFG_CLIENT, 0), 0);
	ck_assert_int_eq(proc_may_recv(PROC_FORWARDER, MSG_CFG_CLIENT, 0), 0);
	/*
	 * The watcher: whether to watch, its streams' bytes, its channel to
	 * the policy worker; no configuration, no Docker descriptor.  It asks
	 * for a stream, never for a connection, and no one else may.
	 */
	ck_assert_int_eq(proc_may_recv(PROC_WATCHER, MSG_WATCH_CFG, 0), 1);
	ck_assert_int_eq(proc_may_recv(PROC_WATCHER, MSG_WATCH_DATA, 0), 1);
	ck_assert_int_eq(proc_may_recv(PROC_WATCHER, MSG_WATCH_DATA, 1), 0);
	ck_assert_int_eq(proc_may_recv(PROC_WATCHER, MSG_WATCH_END, 0), 1);
	ck_assert_int_eq(proc_may_recv(PROC_WATCHER, MSG_BACKEND_FD, 1), 0);
	ck_assert_int_eq(proc_may_recv(PROC_WATCHER, MSG_CFG_RULES, 0), 0);
	ck_assert_int_eq(proc_may_recv(PROC_WATCHER, MSG_CFG_CLIENT, 0), 0);
	ck_assert_int_eq(proc_may_send(PROC_WATCHER, MSG_WATCH_OPEN, 0), 1);
	ck_assert_int_eq(proc_may_send(PROC_WATCHER, MSG_WATCH_OPEN, 1), 0);
	ck_assert_int_eq(proc_may_send(PROC_WATCHER, MSG_BACKEND_REQ, 0), 0);
	ck_assert_int_eq(proc_may_send(PROC_WATCHER, MSG_IDENT_PEER, 0), 0);
	for (r = 0; r < PROC_NROLES; r++) {
		if (r != PROC_WATCHER) {
			ck_assert_int_eq(proc_may_send(r, MSG_WATCH_OPEN, 0),
			    0);
			ck_assert_int_eq(proc_may_recv(r, MSG_WATCH_DATA, 0),
			    0);
			ck_assert_int_eq(proc_may_recv(r, MSG_WATCH_CFG, 0),
			    0);
		}
		ck_assert_int_eq(proc_may_recv(r, MSG_CFG_DONE, 0), 1);
		ck_assert_int_eq(proc_may_recv(r, MSG_CTL_PROCFD, 1), 1);
		ck_assert_int_eq(proc_may_recv(r, MSG_LOG, 0), 0);
		ck_assert_int_eq(proc_may_recv(r, MSG_BACKEND_REQ, 0), 0);
		ck_assert_int_eq(proc_may_recv(r, MSG_TYPE_MAX, 0), 0);
		ck_assert_int_eq(proc_may_recv(r, UINT32_MAX, 0), 0);
	}
}
END_TEST

/* In a child: what the table refuses is fatal (exit 1 from fatalx). */
static int
recv_check_status(enum proc_role role, uint32_t type, int fd)
{
	struct msg	 m;
	pid_t		 pid;
	int		 status;

	memset(&m, 0, sizeof(m));
	m.hdr.type = type;
	m.fd = fd;
	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0) {
		proc_recv_check(role, &m);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* Between children: each channel carries its own messages one way. */
START_TEST(test_peers)
{
	/* the requests and answers each channel is for */
	ck_assert(proc_peer_may_send(PROC_RELAY, PROC_POLICY, MSG_POLICY_REQ,
	    0));
	ck_assert(proc_peer_may_send(PROC_POLICY, PROC_RELAY,
	    MSG_POLICY_VERDICT, 0));
	ck_assert(proc_peer_may_send(PROC_RELAY, PROC_FORWARDER, MSG_FWD_OPEN,
	    0));
	ck_assert(proc_peer_may_send(PROC_FORWARDER, PROC_RELAY,
	    MSG_FWD_STREAM, 1));
	ck_assert(proc_peer_may_send(PROC_FORWARDER, PROC_RELAY, MSG_FWD_ERR,
	    0));
	ck_assert(proc_peer_may_send(PROC_RELAY, PROC_CA, MSG_CA_REQ, 0));
	ck_assert(proc_peer_may_send(PROC_FORWARDER, PROC_CA, MSG_CA_REQ, 0));
	ck_assert(proc_peer_may_send(PROC_CA, PROC_FORWARDER, MSG_CA_RES, 0));
	/* the watcher's table to the worker: one way, no descriptor */
	ck_assert(proc_peer_may_send(PROC_WATCHER, PROC_POLICY,
	    MSG_WATCH_TABLE, 0));
	ck_assert(!proc_peer_may_send(PROC_WATCHER, PROC_POLICY,
	    MSG_WATCH_TABLE, 1));
	ck_assert(!proc_peer_may_send(PROC_WATCHER, PROC_POLICY,
	    MSG_POLICY_REQ, 0));
	ck_assert(!proc_peer_may_send(PROC_POLICY, PROC_WATCHER,
	    MSG_WATCH_TABLE, 0));
	ck_assert(!proc_peer_may_send(PROC_RELAY, PROC_POLICY,
	    MSG_WATCH_TABLE, 0));
	ck_assert(!proc_peer_may_send(PROC_WATCHER, PROC_RELAY,
	    MSG_WATCH_TABLE, 0));
	/* never the other way, never a descriptor toward the forwarder */
	ck_assert(!proc_peer_may_send(PROC_POLICY, PROC_RELAY, MSG_POLICY_REQ,
	    0));
	ck_assert(!proc_peer_may_send(PROC_RELAY, PROC_FORWARDER,
	    MSG_FWD_STREAM, 1));
	ck_assert(!proc_peer_may_send(PROC_RELAY, PROC_FORWARDER, MSG_FWD_OPEN,
	    1));
	ck_assert(!proc_peer_may_send(PROC_FORWARDER, PROC_RELAY, MSG_FWD_ERR,
	    1));
	/* a relay asks its forwarder, not the parent, and no key travels */
	ck_assert(!proc_peer_may_send(PROC_RELAY, PROC_FORWARDER,
	    MSG_BACKEND_REQ, 0));
	ck_assert(!proc_peer_may_send(PROC_RELAY, PROC_FORWARDER, MSG_FWD_KEY,
	    0));
	/* no channel between these */
	ck_assert(!proc_peer_may_send(PROC_POLICY, PROC_FORWARDER,
	    MSG_POLICY_VERDICT, 0));
	ck_assert(!proc_peer_may_send(PROC_POLICY, PROC_CA, MSG_CA_REQ, 0));
	ck_assert(!proc_peer_may_send(PROC_RELAY, PROC_POLICY, MSG_TYPE_MAX,
	    0));
}
END_TEST

START_TEST(test_recv_check)
{
	ck_assert_int_eq(recv_check_status(PROC_CA, MSG_CFG_DONE, -1), 0);
	ck_assert_int_eq(recv_check_status(PROC_CA, MSG_CFG_RULES, -1), 1);
	ck_assert_int_eq(recv_check_status(PROC_RELAY, MSG_CFG_LISTENER, 0),
	    0);
	ck_assert_int_eq(recv_check_status(PROC_RELAY, MSG_CFG_GLOBAL, 0), 1);
	ck_assert_int_eq(recv_check_status(PROC_RELAY, MSG_BACKEND_FD, 0), 1);
	ck_assert_int_eq(recv_check_status(PROC_POLICY, 999, -1), 1);
}
END_TEST

Suite *
proc_suite(void)
{
	Suite	*s = suite_create("proc");
	TCase	*tc = tcase_create("table");

	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_may_send);
	tcase_add_test(tc, test_may_recv);
	tcase_add_test(tc, test_peers);
	tcase_add_test(tc, test_recv_check);
	suite_add_tcase(s, tc);
	return s;
}
