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
 * Unit tests for privsep/drop.c (as root): the user lookup, the chroot
 * checks, and demotion in a re-executed child (child.h).
 */

#include <sys/types.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "child.h"
#include "log.h"
#include "privsep.h"

int
sc_drop(const char *arg)
{
	struct rlimit	 core, fsize, nproc;
	pid_t		 pid;
	int		 operr, forkerr;

	demote();
	errno = 0;
	if (open("/etc/passwd", O_RDONLY) != -1)
		return 10;
	operr = errno;
	if ((pid = fork()) == 0)
		_exit(0);
	if (pid != -1)
		return 11;
	forkerr = errno;
	if (getrlimit(RLIMIT_CORE, &core) == -1 ||
	    getrlimit(RLIMIT_FSIZE, &fsize) == -1 ||
	    getrlimit(RLIMIT_NPROC, &nproc) == -1)
		return 12;
	say("dropped open=%d fork=%d core=%llu fsize=%llu nproc=%llu "
	    "dumpable=%d", operr, forkerr, (unsigned long long)core.rlim_max,
	    (unsigned long long)fsize.rlim_max,
	    (unsigned long long)nproc.rlim_max,
	    prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
	hear("go");
	return 0;
}

int
sc_badchroot(const char *arg)
{
	struct moat_user	 u;

	if (drop_lookup_user("nobody", &u) == -1)
		return 10;
	drop_privileges(&u, "/nonexistent/moatd-unit");
	return 0;
}

int
sc_rootuser(const char *arg)
{
	struct moat_user	 u = { 0, 0, "root" };

	drop_privileges(&u, getenv(ENV_ROOT));
	return 0;
}

/*
 * msg.c: with a full fd table the kernel drops a passed fd and sets
 * MSG_CTRUNC.  The message that carried it still arrives, flagged
 * MSGF_HASFD with fd -1 (the relay answers that request 503), and the
 * channel goes on; a dropped fd that no message claims still fails it.
 * Native child: valgrind emulates RLIMIT_NOFILE.
 */
static int
ctrunc_get(struct msgbuf *mb, struct msg *m)
{
	int	 rv;

	while ((rv = msg_get(mb, m)) == 0)
		if (msgbuf_read(mb) <= 0)
			return -2;
	return rv;
}

int
sc_ctrunc(const char *arg)
{
	struct msgbuf	 mb;
	struct rlimit	 rlim;
	struct msg	 m;
	int		 lowest;

	if ((lowest = fcntl(0, F_DUPFD, 0)) == -1)
		return 10;
	close(lowest);
	if (getrlimit(RLIMIT_NOFILE, &rlim) == -1)
		return 11;
	rlim.rlim_cur = lowest;
	if (setrlimit(RLIMIT_NOFILE, &rlim) == -1)
		return 12;
	say("ready");
	msgbuf_init(&mb, cfd, 1);
	if (ctrunc_get(&mb, &m) != 1 || m.hdr.type != 5 ||
	    !(m.hdr.flags & MSGF_HASFD) || m.fd != -1)
		return 13;
	if (ctrunc_get(&mb, &m) != 1 || m.hdr.type != 6 || m.fd != -1)
		return 14;
	/* Type 7 asked for no fd: its dropped one is unclaimed. */
	if (ctrunc_get(&mb, &m) != 1 || m.hdr.type != 7)
		return 15;
	errno = 0;
	if (msg_get(&mb, &m) != -1 || errno != EBADMSG)
		return 16;
	return 0;
}

START_TEST(test_lookup_user)
{
	struct moat_user	 u;

	memset(&u, 0xff, sizeof(u));
	ck_assert_int_eq(drop_lookup_user("nobody", &u), 0);
	ck_assert_uint_eq(u.uid, NOBODY);
	ck_assert_uint_eq(u.gid, NOBODY);
	ck_assert_str_eq(u.name, "nobody");
	ck_assert_int_eq(drop_lookup_user("root", &u), -1);
	ck_assert_int_eq(drop_lookup_user("moatd-no-such-user", &u), -1);
}
END_TEST

/*
 * A uid that is not 0 with group 0 must be refused too.  No such user
 * exists here, so a private mount namespace lays a passwd file over
 * /etc/passwd for a child.
 */
START_TEST(test_lookup_user_gid0)
{
	static const char	 pw[] =
	    "root:x:0:0::/root:/bin/sh\n"
	    "gidzero:x:1234:0::/:/bin/false\n"
	    "plain:x:1235:1235::/:/bin/false\n";
	struct moat_user	 u;
	char			 tmp[] = "/run/moatd-unit-pw.XXXXXX";
	pid_t			 pid;
	int			 fd, status;

	ck_assert_int_ne(fd = mkstemp(tmp), -1);
	ck_assert_int_eq(write(fd, pw, sizeof(pw) - 1), sizeof(pw) - 1);
	close(fd);
	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0) {
		if (unshare(CLONE_NEWNS) == -1 ||
		    mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) ==
		    -1 ||
		    mount(tmp, "/etc/passwd", "none", MS_BIND, NULL) == -1)
			_exit(2);
		if (drop_lookup_user("gidzero", &u) != -1)
			_exit(3);
		if (drop_lookup_user("plain", &u) != 0 || u.uid != 1235 ||
		    u.gid != 1235)
			_exit(4);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	unlink(tmp);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
}
END_TEST

START_TEST(test_check_chroot_create)
{
	char		 path[128], messy[140];
	struct stat	 st;
	mode_t		 old;

	strlcpy(unit_base, "/run/moatd-unit.XXXXXX", sizeof(unit_base));
	ck_assert_ptr_nonnull(mkdtemp(unit_base));
	snprintf(path, sizeof(path), "%s/a/b", unit_base);
	/* Missing and not to be created. */
	ck_assert_int_eq(drop_check_chroot(path, 0), -1);
	ck_assert_int_eq(stat(path, &st), -1);
	/* Created, parents too, 0755 root:root whatever the umask. */
	old = umask(077);
	ck_assert_int_eq(drop_check_chroot(path, 1), 0);
	umask(old);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0755);
	ck_assert_uint_eq(st.st_uid, 0);
	ck_assert_uint_eq(st.st_gid, 0);
	snprintf(messy, sizeof(messy), "%s//a/b/", unit_base);
	ck_assert_int_eq(stat(messy, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0755);
	/* Present and fine; extra slashes change nothing. */
	ck_assert_int_eq(drop_check_chroot(path, 0), 0);
	ck_assert_int_eq(drop_check_chroot(messy, 0), 0);
	ck_assert_int_eq(rmdir(path), 0);
	snprintf(path, sizeof(path), "%s/a", unit_base);
	ck_assert_int_eq(rmdir(path), 0);
	ck_assert_int_eq(rmdir(unit_base), 0);
}
END_TEST

static int
check_mode(mode_t mode, uid_t uid, int parent)
{
	char	 dir[128], sub[140];
	int	 r;

	snprintf(dir, sizeof(dir), "%s/d", unit_base);
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	ck_assert_int_eq(chmod(dir, mode), 0);
	ck_assert_int_eq(chown(dir, uid, 0), 0);
	if (parent) {
		/* The bad directory is a parent of a good one. */
		snprintf(sub, sizeof(sub), "%s/ok", dir);
		ck_assert_int_eq(mkdir(sub, 0755), 0);
		r = drop_check_chroot(sub, 1);
		ck_assert_int_eq(rmdir(sub), 0);
	} else
		r = drop_check_chroot(dir, 1);
	ck_assert_int_eq(rmdir(dir), 0);
	return r;
}

START_TEST(test_check_chroot_refuse)
{
	char	 path[128];
	int	 fd;

	strlcpy(unit_base, "/run/moatd-unit.XXXXXX", sizeof(unit_base));
	ck_assert_ptr_nonnull(mkdtemp(unit_base));
	ck_assert_int_eq(check_mode(0755, 0, 0), 0);
	ck_assert_int_eq(check_mode(0711, 0, 0), 0);
	ck_assert_int_eq(check_mode(0777, 0, 0), -1);
	ck_assert_int_eq(check_mode(01777, 0, 0), -1);
	ck_assert_int_eq(check_mode(0757, 0, 0), -1);
	ck_assert_int_eq(check_mode(0775, 0, 0), -1);
	ck_assert_int_eq(check_mode(0755, NOBODY, 0), -1);
	ck_assert_int_eq(check_mode(0755, 0, 1), 0);
	ck_assert_int_eq(check_mode(0777, 0, 1), -1);
	ck_assert_int_eq(check_mode(0755, NOBODY, 1), -1);

	/* Not a directory; not empty; relative; sticky /tmp above. */
	snprintf(path, sizeof(path), "%s/file", unit_base);
	ck_assert_int_ne(fd = open(path, O_CREAT | O_WRONLY, 0644), -1);
	close(fd);
	ck_assert_int_eq(drop_check_chroot(path, 1), -1);
	ck_assert_int_eq(drop_check_chroot(unit_base, 0), -1);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(drop_check_chroot(unit_base, 0), 0);
	ck_assert_int_eq(drop_check_chroot("run/x", 1), -1);
	ck_assert_int_eq(drop_check_chroot("", 1), -1);
	ck_assert_int_eq(drop_check_chroot(NULL, 1), -1);
	ck_assert_int_eq(drop_check_chroot("/", 0), -1);
	ck_assert_int_eq(drop_check_chroot("/tmp/moatd-unit-never", 1), -1);
	ck_assert_int_eq(access("/tmp/moatd-unit-never", F_OK), -1);
	ck_assert_int_eq(rmdir(unit_base), 0);
}
END_TEST

START_TEST(test_drop)
{
	struct child	 c;
	char		 buf[256], want[256], link[PATH_MAX];
	ssize_t		 n;

	make_root();
	child_start(&c, "drop", 0, 0);
	child_hear(&c, buf, sizeof(buf));
	snprintf(want, sizeof(want), "dropped open=%d fork=%d core=0 "
	    "fsize=0 nproc=0 dumpable=0", ENOENT, EAGAIN);
	ck_assert_str_eq(buf, want);
	assert_status(c.pid, "Uid", "65534 65534 65534 65534");
	assert_status(c.pid, "Gid", "65534 65534 65534 65534");
	assert_status(c.pid, "Groups", "65534");
	assert_status(c.pid, "NoNewPrivs", "1");
	assert_status(c.pid, "Seccomp", "0");
	assert_status(c.pid, "CapEff", "0000000000000000");
	assert_status(c.pid, "CapPrm", "0000000000000000");
	snprintf(buf, sizeof(buf), "/proc/%d/root", (int)c.pid);
	ck_assert_int_gt(n = readlink(buf, link, sizeof(link) - 1), 0);
	link[n] = '\0';
	ck_assert_str_eq(link, unit_root);
	child_say(&c, "go");
	child_exited(&c, 0);
	rm_root();
}
END_TEST

START_TEST(test_drop_fatal)
{
	struct child	 c;

	make_root();
	child_start(&c, "badchroot", 0, 0);
	child_exited(&c, 1);
	ck_assert_ptr_nonnull(strstr(c.err,
	    "drop_privileges: chroot /nonexistent/moatd-unit: No such file"));
	child_start(&c, "rootuser", 0, 0);
	child_exited(&c, 1);
	ck_assert_ptr_nonnull(strstr(c.err, "refusing to drop to uid 0"));
	rm_root();
}
END_TEST

static void
ctrunc_send(int fd, uint32_t type, uint32_t flags, int pass)
{
	union {
		struct cmsghdr	 hdr;
		uint8_t		 buf[CMSG_SPACE(sizeof(int))];
	} cmsgbuf;
	struct msg_hdr	 hdr = { type, MSG_HDRSZ, 0, flags };
	struct msghdr	 mh;
	struct cmsghdr	*cm;
	struct iovec	 iov;

	memset(&mh, 0, sizeof(mh));
	memset(&cmsgbuf, 0, sizeof(cmsgbuf));
	iov.iov_base = &hdr;
	iov.iov_len = sizeof(hdr);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (pass != -1) {
		mh.msg_control = cmsgbuf.buf;
		mh.msg_controllen = sizeof(cmsgbuf.buf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		memcpy(CMSG_DATA(cm), &pass, sizeof(int));
	}
	ck_assert_int_eq(sendmsg(fd, &mh, 0), sizeof(hdr));
}

START_TEST(test_msg_ctrunc)
{
	struct child	 c;
	char		 buf[16];
	int		 p[2];

	child_start(&c, "ctrunc", 1, 0);
	ck_assert_int_eq(read(c.fd, buf, 5), 5);
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	ctrunc_send(c.fd, 5, MSGF_HASFD, p[1]);
	ctrunc_send(c.fd, 6, 0, -1);
	ctrunc_send(c.fd, 7, 0, p[1]);
	child_exited(&c, 0);
	close(p[0]);
	close(p[1]);
}
END_TEST

Suite *
drop_suite(void)
{
	Suite	*s = suite_create("drop");
	TCase	*tc = tcase_create("drop");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_lookup_user);
	tcase_add_test(tc, test_lookup_user_gid0);
	tcase_add_test(tc, test_check_chroot_create);
	tcase_add_test(tc, test_check_chroot_refuse);
	tcase_add_test(tc, test_drop);
	tcase_add_test(tc, test_drop_fatal);
	/* a msg.c case that needs a native child */
	tcase_add_test(tc, test_msg_ctrunc);
	suite_add_tcase(s, tc);
	return s;
}
