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
 * moatd -learn-from LOGFILE: the rules that would have allowed every
 * request an existing log records (allowed or denied), on standard
 * output, as a rules file (policy/learn.h says how they are made).  It
 * runs as whoever starts it, reads only that file, and starts nothing.
 */

#include <sys/types.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "moatd.h"
#include "learn.h"

#define LINE_MAX_LEARN	(64 * 1024)	/* longer lines are skipped */

int
learn_from(const char *path)
{
	struct learn	*l;
	FILE		*fp;
	char		*line = NULL, method[LEARN_METHOD_MAX];
	char		 reqpath[LEARN_PATH_MAX], *text;
	size_t		 cap = 0, len;
	ssize_t		 n;
	unsigned long	 reqs = 0, skipped = 0;
	int		 denied;

	if (strcmp(path, "-") == 0)
		fp = stdin;
	else if ((fp = fopen(path, "r")) == NULL) {
		fprintf(stderr, "moatd: %s: %s\n", path, strerror(errno));
		return 1;
	}
	if ((l = learn_new()) == NULL)
		fatal("%s", __func__);
	while ((n = getline(&line, &cap, fp)) != -1) {
		if (n > LINE_MAX_LEARN || !learn_parse_line(line, n, method,
		    reqpath, &denied))
			continue;
		if (learn_add(l, method, reqpath, denied) == -1) {
			skipped++;
			continue;
		}
		reqs++;
	}
	if (ferror(fp)) {
		fprintf(stderr, "moatd: %s: %s\n", path, strerror(errno));
		return 1;
	}
	free(line);
	if (fp != stdin)
		fclose(fp);
	if (reqs == 0) {
		fprintf(stderr, "moatd: %s: no request that a rule could "
		    "allow (%lu skipped): is it moatd's log?\n", path, skipped);
		learn_free(l);
		return 1;
	}
	if ((text = learn_rules(l, &len)) == NULL)
		fatal("%s", __func__);
	if (fwrite(text, 1, len, stdout) != len || fflush(stdout) == EOF) {
		fprintf(stderr, "moatd: standard output: %s\n",
		    strerror(errno));
		return 1;
	}
	fprintf(stderr, "moatd: %s: %lu requests, %lu skipped\n", path, reqs,
	    skipped);
	free(text);
	learn_free(l);
	return 0;
}
