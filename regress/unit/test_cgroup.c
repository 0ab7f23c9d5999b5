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
 * Unit tests for daemon/cgroup.c: the container id in /proc/PID/cgroup
 * for each layout Docker makes (cgroup v1 and v2, the systemd and cgroupfs
 * drivers, a --cgroup-parent, docker in docker, a child cgroup of the
 * container's), and the near misses that must name none.
 */

#include <sys/types.h>
#include <sys/pidfd.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "moatd.h"

#define ID	"3f4e5d6c7b8a99887766554433221100ffeeddccbbaa00112233445566778899"
#define ID2	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* The id text names, or "-" for none; "!" if id was not cleared. */
static const char *
cid(const char *text)
{
	static char	 id[CGROUP_ID_LEN + 1];

	memset(id, 'x', sizeof(id));
	if (cgroup_container_id(text, strlen(text), id) == -1)
		return id[0] == '\0' ? "-" : "!";
	return id;
}

START_TEST(test_cgroup_v2_systemd)
{
	ck_assert_str_eq(cid("0::/system.slice/docker-" ID ".scope\n"), ID);
	/* no trailing newline */
	ck_assert_str_eq(cid("0::/system.slice/docker-" ID ".scope"), ID);
}
END_TEST

START_TEST(test_cgroup_v2_cgroupfs)
{
	ck_assert_str_eq(cid("0::/docker/" ID "\n"), ID);
}
END_TEST

START_TEST(test_cgroup_v1)
{
	const char	*systemd =
	    "12:pids:/system.slice/docker-" ID ".scope\n"
	    "11:memory:/system.slice/docker-" ID ".scope\n"
	    "10:cpu,cpuacct:/system.slice/docker-" ID ".scope\n"
	    "1:name=systemd:/system.slice/docker-" ID ".scope\n"
	    "0::/system.slice/docker-" ID ".scope\n";
	const char	*cgroupfs =
	    "13:rdma:/\n"
	    "12:pids:/docker/" ID "\n"
	    "5:devices:/docker/" ID "\n"
	    "1:name=systemd:/docker/" ID "\n";

	ck_assert_str_eq(cid(systemd), ID);
	ck_assert_str_eq(cid(cgroupfs), ID);
	/* one hierarchy naming it is enough */
	ck_assert_str_eq(cid("13:rdma:/\n12:pids:/docker/" ID "\n0::/\n"),
	    ID);
}
END_TEST

START_TEST(test_cgroup_parent)
{
	ck_assert_str_eq(cid("0::/myparent/" ID "\n"), ID);
	ck_assert_str_eq(cid("0::/my.slice/docker-" ID ".scope\n"), ID);
	ck_assert_str_eq(cid("0::/a.slice/a-b.slice/docker-" ID ".scope\n"),
	    ID);
}
END_TEST

START_TEST(test_cgroup_nested)
{
	/*
	 * docker in docker: the outer container, the one the daemon in
	 * front of moatd knows; and a container that names a cgroup of its
	 * own after another container is still itself
	 */
	ck_assert_str_eq(cid("0::/system.slice/docker-" ID2 ".scope/docker/"
	    ID "\n"), ID2);
	ck_assert_str_eq(cid("0::/docker/" ID2 "/docker/" ID "\n"), ID2);
	ck_assert_str_eq(cid("0::/docker/" ID2 "/" ID "\n"), ID2);
	/* a child cgroup under the container's is the container's */
	ck_assert_str_eq(cid("0::/docker/" ID "/sub\n"), ID);
	ck_assert_str_eq(cid("0::/system.slice/docker-" ID
	    ".scope/init.scope\n"), ID);
}
END_TEST

START_TEST(test_cgroup_host)
{
	ck_assert_str_eq(cid("0::/user.slice/user-1000.slice/session-3.scope\n"),
	    "-");
	ck_assert_str_eq(cid("0::/init.scope\n"), "-");
	ck_assert_str_eq(cid("0::/\n"), "-");
	ck_assert_str_eq(cid("0::/system.slice/docker.service\n"), "-");
	ck_assert_str_eq(cid("12:pids:/\n1:name=systemd:/init.scope\n"), "-");
}
END_TEST

START_TEST(test_cgroup_near_misses)
{
	/* 63 and 65 hex digits */
	ck_assert_str_eq(cid("0::/docker/" "3f4e5d6c7b8a99887766554433221100"
	    "ffeeddccbbaa0011223344556677889\n"), "-");
	ck_assert_str_eq(cid("0::/docker/" ID "0\n"), "-");
	ck_assert_str_eq(cid("0::/system.slice/docker-" ID "0.scope\n"), "-");
	/* uppercase: Docker's ids are lower case */
	ck_assert_str_eq(cid("0::/docker/" "3F4E5D6C7B8A99887766554433221100"
	    "FFEEDDCCBBAA00112233445566778899\n"), "-");
	/* a component that merely contains an id */
	ck_assert_str_eq(cid("0::/system.slice/docker-" ID ".scope.bak\n"),
	    "-");
	ck_assert_str_eq(cid("0::/system.slice/xdocker-" ID ".scope\n"), "-");
	ck_assert_str_eq(cid("0::/system.slice/docker-" ID "\n"), "-");
	ck_assert_str_eq(cid("0::/system.slice/" ID ".scope\n"), "-");
	ck_assert_str_eq(cid("0::/system.slice/libpod-" ID ".scope\n"), "-");
	ck_assert_str_eq(cid("0::/docker/" ID "-x\n"), "-");
	ck_assert_str_eq(cid("0::/docker/x" ID "\n"), "-");
	/* a cgroup that is gone */
	ck_assert_str_eq(cid("0::/docker/" ID " (deleted)\n"), "-");
}
END_TEST

START_TEST(test_cgroup_malformed)
{
	char	 buf[16], id[CGROUP_ID_LEN + 1];
	char	*big;
	size_t	 n;

	/* two containers */
	ck_assert_str_eq(cid("12:pids:/docker/" ID "\n0::/docker/" ID2 "\n"),
	    "-");
	/* not "N:controllers:/path" */
	ck_assert_str_eq(cid("0:/docker/" ID "\n"), "-");
	ck_assert_str_eq(cid("x::/docker/" ID "\n"), "-");
	ck_assert_str_eq(cid("::/docker/" ID "\n"), "-");
	ck_assert_str_eq(cid("0::docker/" ID "\n"), "-");
	ck_assert_str_eq(cid("0::\n"), "-");
	ck_assert_str_eq(cid("0::/docker/" ID "\n\n"), "-");
	ck_assert_str_eq(cid("\n0::/docker/" ID "\n"), "-");
	ck_assert_str_eq(cid(""), "-");
	/* a NUL inside */
	memcpy(buf, "0::/\0/docker\n", 13);
	ck_assert_int_eq(cgroup_container_id(buf, 13, id), -1);
	/* bounded */
	n = CGROUP_TEXT_MAX + 1;
	ck_assert_ptr_nonnull(big = malloc(n + 1));
	memset(big, '/', n);
	memcpy(big, "0::/docker/" ID, sizeof("0::/docker/" ID) - 1);
	big[n] = '\0';
	ck_assert_str_eq(cid(big), "-");
	big[n - 1] = '\0';
	ck_assert_str_eq(cid(big), ID);
	free(big);
}
END_TEST

/* What the parent finds for a live process is what its cgroup file says. */
START_TEST(test_cgroup_peer_self)
{
	char		 text[CGROUP_TEXT_MAX + 1], want[CGROUP_ID_LEN + 1];
	char		 id[CGROUP_ID_LEN + 1];
	const char	*why = NULL;
	ssize_t		 n;
	int		 fd, pidfd, rv;

	ck_assert_int_ne(fd = open("/proc/self/cgroup", O_RDONLY), -1);
	ck_assert_int_gt(n = read(fd, text, sizeof(text)), 0);
	close(fd);
	rv = cgroup_container_id(text, n, want);
	/* by pidfd */
	ck_assert_int_ne(pidfd = pidfd_open(getpid(), 0), -1);
	ck_assert_int_eq(cgroup_peer_container(pidfd, 0, id, &why), rv);
	ck_assert_str_eq(id, want);
	/* the pidfd is the caller's */
	ck_assert_int_ne(fcntl(pidfd, F_GETFD), -1);
	close(pidfd);
	/* by pid */
	ck_assert_int_eq(cgroup_peer_container(-1, getpid(), id, &why), rv);
	ck_assert_str_eq(id, want);
	if (rv == -1)
		ck_assert_str_eq(why, "not in a container");
}
END_TEST

/* A process that is gone is in no container, by pidfd or by pid. */
START_TEST(test_cgroup_peer_gone)
{
	char		 id[CGROUP_ID_LEN + 1];
	const char	*why = NULL;
	pid_t		 pid;
	int		 pidfd, st;

	if ((pid = fork()) == 0)
		_exit(0);
	ck_assert_int_gt(pid, 0);
	ck_assert_int_ne(pidfd = pidfd_open(pid, 0), -1);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	memset(id, 'x', sizeof(id));
	ck_assert_int_eq(cgroup_peer_container(pidfd, 0, id, &why), -1);
	ck_assert_str_eq(id, "");
	ck_assert_str_eq(why, "the process is gone");
	close(pidfd);
	ck_assert_int_eq(cgroup_peer_container(-1, pid, id, &why), -1);
	ck_assert_str_eq(why, "the process is gone");
	ck_assert_int_eq(cgroup_peer_container(-1, 0, id, &why), -1);
	ck_assert_str_eq(why, "no pid");
}
END_TEST

/* SO_PEERPIDFD came with Linux 6.5. */
START_TEST(test_cgroup_have_peerpidfd)
{
	struct utsname	 u;
	int		 major = 0, minor = 0;

	ck_assert_int_eq(uname(&u), 0);
	ck_assert_int_eq(sscanf(u.release, "%d.%d", &major, &minor), 2);
	ck_assert_int_eq(cgroup_have_peerpidfd(),
	    major > 6 || (major == 6 && minor >= 5));
	/* kept */
	ck_assert_int_eq(cgroup_have_peerpidfd(),
	    major > 6 || (major == 6 && minor >= 5));
}
END_TEST

/* Only a container match makes a relay ask. */
START_TEST(test_cgroup_wants)
{
	struct child_config	 cc;
	struct child_rules	 cl[2];

	memset(&cc, 0, sizeof(cc));
	memset(cl, 0, sizeof(cl));
	ck_assert_int_eq(config_wants_container(&cc), 0);
	cc.clients = cl;
	cc.nclients = 2;
	cl[0].c.nm = 2;
	cl[0].c.m[0].kind = MATCH_TLS_SUBJECT;
	cl[0].c.m[1].kind = MATCH_UNIX_UID;
	cl[1].c.nm = 1;
	cl[1].c.m[0].kind = MATCH_ADDRESS;
	ck_assert_int_eq(config_wants_container(&cc), 0);
	cl[1].c.m[1].kind = MATCH_CONTAINER_ID;	/* past nm: not a line */
	ck_assert_int_eq(config_wants_container(&cc), 0);
	cl[1].c.nm = 2;
	ck_assert_int_eq(config_wants_container(&cc), 1);
	cl[1].c.m[1].kind = MATCH_CONTAINER_NAME;
	ck_assert_int_eq(config_wants_container(&cc), 1);
	cl[1].c.m[1].kind = MATCH_CONTAINER_LABEL;
	ck_assert_int_eq(config_wants_container(&cc), 1);
	cc.nclients = 1;
	ck_assert_int_eq(config_wants_container(&cc), 0);
}
END_TEST

Suite *
cgroup_suite(void)
{
	Suite	*s = suite_create("cgroup");
	TCase	*tc;

	tc = tcase_create("layouts");
	tcase_add_test(tc, test_cgroup_v2_systemd);
	tcase_add_test(tc, test_cgroup_v2_cgroupfs);
	tcase_add_test(tc, test_cgroup_v1);
	tcase_add_test(tc, test_cgroup_parent);
	tcase_add_test(tc, test_cgroup_nested);
	tcase_add_test(tc, test_cgroup_host);
	suite_add_tcase(s, tc);

	tc = tcase_create("strict");
	tcase_add_test(tc, test_cgroup_near_misses);
	tcase_add_test(tc, test_cgroup_malformed);
	suite_add_tcase(s, tc);

	tc = tcase_create("peer");
	tcase_add_test(tc, test_cgroup_peer_self);
	tcase_add_test(tc, test_cgroup_peer_gone);
	tcase_add_test(tc, test_cgroup_wants);
	tcase_add_test(tc, test_cgroup_have_peerpidfd);
	suite_add_tcase(s, tc);
	return s;
}
