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
 * Demotion of a child: the user is resolved while /etc is still
 * reachable, then chroot, setgroups, setresgid, setresuid, a proof that
 * none of it can be undone, rlimits, no_new_privs.  The seccomp filter
 * (sandbox.c) comes last, once the role has initialized everything it
 * needs files for.
 */

#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "privsep.h"

static int	drop_check_dir(const char *, int, int);
static int	drop_check_empty(const char *);
static void	drop_verify(const struct moat_user *);
static void	drop_rlimits(void);

/*
 * getpwnam() needs /etc/passwd and maybe NSS modules: call it before any
 * chroot (gmid, OpenSSH) and carry the numbers.
 */
int
drop_lookup_user(const char *name, struct moat_user *u)
{
	struct passwd	*pw;

	if ((pw = getpwnam(name)) == NULL) {
		log_warnx("unknown user %s", name);
		return -1;
	}
	if (pw->pw_uid == 0 || pw->pw_gid == 0) {
		log_warnx("user %s has uid %lu and gid %lu: refusing to run "
		    "children with root's uid or group", name,
		    (unsigned long)pw->pw_uid, (unsigned long)pw->pw_gid);
		return -1;
	}
	if (strlcpy(u->name, name, sizeof(u->name)) >= sizeof(u->name)) {
		log_warnx("user name %s is too long", name);
		return -1;
	}
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	return 0;
}

/*
 * The chroot must be an absolute path on which only root can change
 * anything: every component root-owned and not writable by group or
 * other, or someone could swap the directory under us (sshd's rule).
 * Missing components are created 0755 root:root when asked to.  The
 * directory itself must be empty: a child finds nothing there it needs
 * (everything arrives as bytes over its channel), and an empty root
 * leaves an escaped child no device node, socket or setuid file to use.
 */
int
drop_check_chroot(const char *dir, int create)
{
	char	 path[PATH_MAX], *p, c;

	if (dir == NULL || dir[0] != '/') {
		log_warnx("chroot %s: not an absolute path",
		    dir == NULL ? "(null)" : dir);
		return -1;
	}
	if (strlcpy(path, dir, sizeof(path)) >= sizeof(path)) {
		log_warnx("chroot %s: path too long", dir);
		return -1;
	}
	/* "/", then each prefix that ends a component; skip empty ones. */
	if (drop_check_dir("/", 0, 0) == -1)
		return -1;
	for (p = path + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		if (p[-1] != '/') {
			c = *p;
			*p = '\0';
			if (drop_check_dir(path, create, 0) == -1)
				return -1;
			*p = c;
		}
		if (*p == '\0')
			break;
	}
	return drop_check_empty(path);
}

static int
drop_check_dir(const char *path, int create, int again)
{
	struct stat	 st;

	if (stat(path, &st) == -1) {
		if (errno != ENOENT || !create || again) {
			log_warn("chroot: %s", path);
			return -1;
		}
		/* EEXIST: someone else made it; the checks below judge it. */
		if (mkdir(path, 0755) == -1 && errno != EEXIST) {
			log_warn("chroot: mkdir %s", path);
			return -1;
		}
		if (chown(path, 0, 0) == -1 || chmod(path, 0755) == -1) {
			log_warn("chroot: chown/chmod %s", path);
			return -1;
		}
		return drop_check_dir(path, create, 1);
	}
	if (!S_ISDIR(st.st_mode)) {
		log_warnx("chroot: %s is not a directory", path);
		return -1;
	}
	if (st.st_uid != 0) {
		log_warnx("chroot: %s is owned by uid %lu, not root", path,
		    (unsigned long)st.st_uid);
		return -1;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		log_warnx("chroot: %s is writable by group or other (mode "
		    "%04o)", path, (unsigned)(st.st_mode & 07777));
		return -1;
	}
	return 0;
}

static int
drop_check_empty(const char *path)
{
	DIR		*d;
	struct dirent	*de;
	int		 r = 0;

	if ((d = opendir(path)) == NULL) {
		log_warn("chroot: %s", path);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		log_warnx("chroot: %s is not empty (%s)", path, de->d_name);
		r = -1;
		break;
	}
	closedir(d);
	return r;
}

void
drop_privileges(const struct moat_user *u, const char *chrootdir)
{
	if (u->uid == 0 || u->gid == 0)
		fatalx("%s: refusing to drop to uid %lu gid %lu", __func__,
		    (unsigned long)u->uid, (unsigned long)u->gid);
	if (chrootdir == NULL)
		fatalx("%s: no chroot directory", __func__);
	if (chroot(chrootdir) == -1)
		fatal("%s: chroot %s", __func__, chrootdir);
	if (chdir("/") == -1)
		fatal("%s: chdir / in %s", __func__, chrootdir);
	if (setgroups(1, &u->gid) == -1)
		fatal("%s: setgroups %lu", __func__, (unsigned long)u->gid);
	if (setresgid(u->gid, u->gid, u->gid) == -1)
		fatal("%s: setresgid %lu", __func__, (unsigned long)u->gid);
	if (setresuid(u->uid, u->uid, u->uid) == -1)
		fatal("%s: setresuid %lu", __func__, (unsigned long)u->uid);
	drop_verify(u);
	drop_rlimits();
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("%s: prctl(PR_SET_NO_NEW_PRIVS)", __func__);
	/* No core files, no ptrace by the same uid, /proc entries root's. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		fatal("%s: prctl(PR_SET_DUMPABLE)", __func__);
}

/* Prove the drop is permanent, as uidswap.c does: try to undo it. */
/* The real, effective and saved ids are all want, or we die. */
static void
drop_verify_ids(const char *what, unsigned long r, unsigned long e,
    unsigned long s, unsigned long want)
{
	if (r != want || e != want || s != want)
		fatalx("drop_verify: %s %lu/%lu/%lu after setres%.3s %lu",
		    what, r, e, s, what, want);
}

static void
drop_verify(const struct moat_user *u)
{
	uid_t	 ruid, euid, suid;
	gid_t	 rgid, egid, sgid, groups[2];
	int	 n;

	if (getresuid(&ruid, &euid, &suid) == -1)
		fatal("%s: getresuid", __func__);
	drop_verify_ids("uids", ruid, euid, suid, u->uid);
	if (getresgid(&rgid, &egid, &sgid) == -1)
		fatal("%s: getresgid", __func__);
	drop_verify_ids("gids", rgid, egid, sgid, u->gid);
	n = getgroups(2, groups);
	if (n != 1 || groups[0] != u->gid)
		fatalx("%s: supplementary groups not just %lu", __func__,
		    (unsigned long)u->gid);
	if (setuid(0) != -1 || seteuid(0) != -1)
		fatalx("%s: could regain uid 0", __func__);
	if (setgid(0) != -1 || setegid(0) != -1)
		fatalx("%s: could regain gid 0", __func__);
	if (setgroups(0, NULL) != -1)
		fatalx("%s: could still change groups", __func__);
}

/*
 * NPROC 0: this process may not fork (the limit is checked against the
 * user's process count at fork time, so it binds only this process and
 * its descendants, not other processes of the user).  CORE 0: no core
 * dump of key material.  FSIZE 0: an fd to a regular file can never
 * grow, except when stderr is itself a regular file (-d 2>file), where
 * the first log line would kill the child with SIGXFSZ.
 */
static void
drop_rlimits(void)
{
	struct rlimit	 zero = { 0, 0 };
	struct stat	 st;

	if (setrlimit(RLIMIT_CORE, &zero) == -1)
		fatal("%s: setrlimit(RLIMIT_CORE)", __func__);
	if (setrlimit(RLIMIT_NPROC, &zero) == -1)
		fatal("%s: setrlimit(RLIMIT_NPROC)", __func__);
	if (fstat(STDERR_FILENO, &st) == 0 && S_ISREG(st.st_mode)) {
		log_debug("%s: stderr is a file, leaving RLIMIT_FSIZE",
		    __func__);
		return;
	}
	if (setrlimit(RLIMIT_FSIZE, &zero) == -1)
		fatal("%s: setrlimit(RLIMIT_FSIZE)", __func__);
}
