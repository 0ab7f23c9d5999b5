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
 * libFuzzer target for body_check(): the input, parsed as JSON, is
 * checked as the body of every endpoint under the default policy and a
 * loosened one (binds, images, sysctls: the globs and the path code), and
 * as the query of the query endpoints; the why must come back printable
 * and terminated.  The input is also cleaned as a path, checked as a
 * Content-Type and decoded as a policy on the wire.
 *
 * FUZZ_SOURCES: policy/body.c policy/json.c policy/mbuf.c
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "json.h"
#include "mbuf.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char *const paths[] = {
	"/v1.47/containers/create", "/containers/x/update",
	"/containers/x/exec", "/exec/x/start", "/services/create",
	"/services/x/update", "/plugins/pull", "/plugins/a/b/upgrade",
	"/volumes/create", "/build", "/images/create", "/images/load",
	"/containers/x/start",
};

static char *binds_s[] = { "/srv/data", "/" };
static char *caps[] = { "NET_ADMIN" };
static char *devs[] = { "/dev/fuse" };
static char *images[] = { "docker.io/library/*", "alp[a-z]ne:?*",
    "ghcr.io/[!x]*/\\*", "redis", "*@sha256:*" };
static char *sysctls[] = { "net.*", "kernel.[a-z]?m*" };
static char *runtimes[] = { "runsc" };

static int
pathfn(void *arg, const char *p)
{
	/* the callback sees a canonical absolute path */
	if (p[0] != '/' || strstr(p, "//") != NULL ||
	    strstr(p, "/./") != NULL || strstr(p, "/../") != NULL)
		abort();
	return (strlen(p) & 1) ? -1 : 0;
}

static void
checkwhy(const char *why, size_t sz)
{
	size_t	 i;

	for (i = 0; i < sz && why[i] != '\0'; i++)
		if ((unsigned char)why[i] < 0x20 ||
		    (unsigned char)why[i] >= 0x7f)
			abort();
	if (i == sz)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct body_policy	 def, loose, dec;
	struct body_bind	 binds[2];
	struct json_doc		*d;
	const struct json_value	*root;
	struct mbuf		 m;
	const char		*jwhy;
	char			 why[96], clean[256], *q;
	size_t			 off, i, whysz;
	int			 r;

	memset(&def, 0, sizeof(def));
	memset(&loose, 0, sizeof(loose));
	binds[0].path = binds_s[0];
	binds[0].readonly = 0;
	binds[1].path = binds_s[1];
	binds[1].readonly = 1;
	loose.binds = binds;
	loose.nbinds = 2;
	loose.caps = caps;
	loose.ncaps = 1;
	loose.devices = devs;
	loose.ndevices = 1;
	loose.images = images;
	loose.nimages = 5;
	loose.sysctls = sysctls;
	loose.nsysctls = 2;
	loose.runtimes = runtimes;
	loose.nruntimes = 1;
	loose.hosts = BODY_HOST_UTS;

	whysz = size > 0 ? 1 + data[0] % sizeof(why) : sizeof(why);
	d = json_parse((const char *)data, size, NULL, &jwhy, &off);
	root = d != NULL ? json_root(d) : NULL;
	if ((q = malloc(size + 1)) == NULL)
		abort();
	memcpy(q, data, size);
	q[size] = '\0';
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		const char *query = body_endpoint("POST", paths[i]) ==
		    BODY_QUERY ? q : "";

		r = body_check(&def, "POST", paths[i], query, root, NULL,
		    NULL, why, whysz);
		checkwhy(why, whysz);
		if (r != 0 && r != -1)
			abort();
		r = body_check(&loose, "POST", paths[i], query, root, pathfn,
		    NULL, why, whysz);
		checkwhy(why, whysz);
		if (r != 0 && r != -1)
			abort();
	}
	json_free(d);
	free(q);

	if (body_path_clean((const char *)data, size, clean,
	    sizeof(clean)) == 0) {
		if (clean[0] != '/' || strstr(clean, "//") != NULL ||
		    strstr(clean, "/./") != NULL ||
		    strstr(clean, "/../") != NULL ||
		    (strlen(clean) > 1 && clean[strlen(clean) - 1] == '/'))
			abort();
	}

	if (body_content_type("POST", "/build", (const char *)data, size, why,
	    whysz) != 0)
		checkwhy(why, whysz);

	mbuf_reader(&m, data, size);
	if (body_policy_decode(&m, &dec) == 0)
		body_policy_free(&dec);
	return 0;
}
