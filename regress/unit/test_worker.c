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
 * Unit tests for the policy worker's walk over a bind source
 * (daemon/worker.c path_has_no_links): from a descriptor of "/", one
 * component at a time, never through a symbolic link.
 */

#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "moatd.h"

static char	 dir[64];
static int	 rootfd = -1;

static void
mk(const char *sub, const char *what)
{
	char	 p[256];

	snprintf(p, sizeof(p), "%s%s", dir, sub);
	if (strcmp(what, "dir") == 0)
		ck_assert_int_eq(mkdir(p, 0755), 0);
	else if (strcmp(what, "file") == 0)
		ck_assert_int_ne(close(open(p, O_CREAT | O_WRONLY, 0644)), -1);
	else
		ck_assert_int_eq(symlink(what, p), 0);
}

static int
walk(const char *sub)
{
	char	 p[256];

	snprintf(p, sizeof(p), "%s%s", dir, sub);
	return path_has_no_links(rootfd, p);
}

static void
setup(void)
{
	strlcpy(dir, "/tmp/moatd-walk.XXXXXX", sizeof(dir));
	ck_assert_ptr_nonnull(mkdtemp(dir));
	rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ne(rootfd, -1);
	mk("/a", "dir");
	mk("/a/b", "dir");
	mk("/a/f", "file");
	mk("/l", "a");
	mk("/a/up", "/");
}

static void
teardown(void)
{
	char	 cmd[128];

	close(rootfd);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(test_walk)
{
	ck_assert_int_eq(walk("/a/b"), 0);
	ck_assert_int_eq(walk("/a/f"), 0);
	ck_assert_int_eq(path_has_no_links(rootfd, "/"), 0);
	/* Missing parts: dockerd creates them. */
	ck_assert_int_eq(walk("/a/b/new/more"), 0);
	/* A link anywhere, last or not. */
	ck_assert_int_eq(walk("/l"), -1);
	ck_assert_int_eq(walk("/l/b"), -1);
	ck_assert_int_eq(walk("/a/up/etc"), -1);
	/* Below a file; not canonical; not absolute; no root. */
	ck_assert_int_eq(walk("/a/f/x"), -1);
	ck_assert_int_eq(walk("/a/../a/b"), -1);
	ck_assert_int_eq(walk("/a//b"), -1);
	ck_assert_int_eq(path_has_no_links(rootfd, "tmp"), -1);
	ck_assert_int_eq(path_has_no_links(-1, "/tmp"), -1);
}
END_TEST

Suite *
worker_suite(void)
{
	Suite	*s = suite_create("worker");
	TCase	*tc = tcase_create("walk");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_walk);
	suite_add_tcase(s, tc);
	return s;
}
