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
 * libFuzzer target for learning rules from log lines (policy/learn.c):
 * each input is a log, line by line.  Every line that parses gives a
 * method and a path within their limits, and is learned (learn_add()
 * itself checks that the rule it keeps allows the request); every line
 * is also tried as a path for learn_pattern(); and learn_rules() always
 * gives a rules file that the rules code loads without an error.
 *
 * FUZZ_SOURCES: policy/learn.c policy/rules.c policy/vars.c policy/re2.c policy/json.c policy/http.c
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "learn.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*p = (const char *)data, *end = p + size, *nl;
	char		 method[LEARN_METHOD_MAX], path[LEARN_PATH_MAX];
	char		 pat[LEARN_PATTERN_MAX], *text;
	struct learn	*l;
	struct ruleset	*rs;
	size_t		 len, n = 0;
	int		 denied;

	if ((l = learn_new()) == NULL)
		return 0;
	while (p < end && n < 64) {
		nl = memchr(p, '\n', end - p);
		len = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		if (learn_parse_line(p, len, method, path, &denied) == 1) {
			if (strlen(method) >= LEARN_METHOD_MAX ||
			    strlen(path) >= LEARN_PATH_MAX || method[0] == '\0')
				abort();
			(void)learn_add(l, method, path, denied);
			n++;
		}
		if (len > 0 && memchr(p, '\0', len) == NULL) {
			char	*s = strndup(p, len);

			if (s != NULL)
				(void)learn_pattern(s, pat, sizeof(pat));
			free(s);
		}
		p += len + 1;
	}
	if ((text = learn_rules(l, &len)) != NULL) {
		if ((rs = ruleset_new()) == NULL)
			abort();
		if (ruleset_add_text(rs, "fuzz", text, len, NULL, NULL) != 0)
			abort();
		ruleset_free(rs);
		free(text);
	}
	learn_free(l);
	return 0;
}
