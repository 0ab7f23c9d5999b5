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
 * libFuzzer target for the configuration parser, daemon/parse.y, as
 * parse_config() runs it: the input is written to a file of mode 0600 (the
 * parser refuses files that others could write) in a directory of its own,
 * and parsed from there, so that include and error recovery run as they
 * do on a real file.  A relative include names a file in that directory,
 * where there is none but the input and the printed configuration (a
 * memfd's /proc/self/fd/N would make "include 1" read the fuzzer's own
 * output).  The checks:
 *
 * - a file that fails leaves the configuration as it was (a reload must
 *   keep the running one);
 * - a file that parses prints (config_print) to text that parses again
 *   and prints to the same bytes.
 *
 * Leaks and double frees are ASan's.  Log output goes to a sink that
 * drops it.
 *
 * FUZZ_SOURCES: build/gen/parse.c daemon/conf_input.c daemon/conf_set.c daemon/config.c daemon/client_conf.c daemon/printconf.c daemon/tls_conf.c daemon/body_conf.c privsep/log.c privsep/msg.c policy/mbuf.c policy/rules.c policy/vars.c policy/http.c policy/canon.c policy/re2.c policy/body.c policy/json.c
 */

#include <sys/stat.h>

#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "moatd.h"

#define CHECK(x)	do { if (!(x)) abort(); } while (0)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int	 in_fd = -1, out_fd = -1;
static char	 dir[PATH_MAX], in_name[PATH_MAX], out_name[PATH_MAX];

static void
drop(int pri, const char *msg)
{
}

static int
file(char *name, size_t len, const char *base)
{
	int	 fd;

	CHECK((size_t)snprintf(name, len, "%s/%s", dir, base) < len);
	CHECK((fd = open(name, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) != -1);
	return fd;
}

static void
cleanup(void)
{
	(void)unlink(in_name);
	(void)unlink(out_name);
	(void)rmdir(dir);
}

static void
put(int fd, const void *buf, size_t len)
{
	CHECK(ftruncate(fd, 0) == 0);
	CHECK(pwrite(fd, buf, len, 0) == (ssize_t)len);
}

/* The configuration printed, as a string the caller frees. */
static char *
print(const struct moat_config *c, size_t *lenp)
{
	FILE	*fp;
	char	*buf;

	CHECK((fp = open_memstream(&buf, lenp)) != NULL);
	config_print(c, fp);
	CHECK(fclose(fp) == 0);
	return buf;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct moat_config	 c;
	char			*before, *once, *twice;
	size_t			 blen, olen, tlen;

	if (in_fd == -1) {
		log_init(0, LOG_DEBUG, LOG_DAEMON);
		log_setsink(drop);
		strlcpy(dir, "/tmp/fuzz_parse.XXXXXX", sizeof(dir));
		CHECK(mkdtemp(dir) != NULL);
		in_fd = file(in_name, sizeof(in_name), "moatd.conf");
		out_fd = file(out_name, sizeof(out_name), "printed.conf");
		atexit(cleanup);
	}
	put(in_fd, data, size);

	config_defaults(&c);
	before = print(&c, &blen);
	if (parse_config(in_name, &c) == -1) {
		/* Nothing changed. */
		once = print(&c, &olen);
		CHECK(olen == blen && memcmp(once, before, blen) == 0);
		free(once);
		free(before);
		config_free(&c);
		return 0;
	}
	free(before);

	once = print(&c, &olen);
	config_free(&c);
	put(out_fd, once, olen);
	config_defaults(&c);
	CHECK(parse_config(out_name, &c) == 0);
	twice = print(&c, &tlen);
	CHECK(tlen == olen && memcmp(twice, once, olen) == 0);
	free(once);
	free(twice);
	config_free(&c);
	return 0;
}
