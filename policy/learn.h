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
 * Learning rules from requests (moatd -learn-from, moatd(8)): each
 * request a client made, allowed or denied, becomes the rule that
 * allows it, written with the built-in variables rather than the ids
 * and names it carried (GET /v1.47/containers/3f2a.../json is
 * "GET %API_PREFIX_CONTAINERS%/%CONTAINER_ID_OR_NAME%/json"); the rules
 * are merged by path (methods joined), counted, and written as a rules
 * file that moatd -n reads.
 */

#ifndef MOATD_LEARN_H
#define MOATD_LEARN_H

#include <stddef.h>

#define LEARN_PATH_MAX		4096	/* a path as logged */
#define LEARN_METHOD_MAX	32
#define LEARN_PATTERN_MAX	8192
#define LEARN_RULES_MAX		4096	/* distinct paths kept */

struct learn;

struct learn	*learn_new(void);
void		 learn_free(struct learn *);

/*
 * The pattern that stands for path (canonical, as logged): its API
 * prefix and the ids and names in it as variables, the rest literal
 * (regex characters escaped).  0, or -1 for a path that is not
 * absolute or does not fit out.
 */
int		 learn_pattern(const char *path, char *out, size_t outlen);

/*
 * One request (method a token, path as logged; denied: moatd refused
 * it).  0; -1 for a method or path that makes no rule, or when full
 * (LEARN_RULES_MAX) or out of memory.
 */
int		 learn_add(struct learn *, const char *method,
		    const char *path, int denied);

/*
 * A log line of moatd's, key=value (text) or one JSON object: the
 * request it records.  1 with method and path set and *denied; 0 for a
 * line that records no request, or one moatd answered with 400 or 5xx
 * (verdict bad or error: nothing a rule would change).
 */
int		 learn_parse_line(const char *line, size_t len,
		    char method[LEARN_METHOD_MAX], char path[LEARN_PATH_MAX],
		    int *denied);

/* The rules learned, as the text of a rules file; NULL when out of memory. */
char		*learn_rules(const struct learn *, size_t *len);

#endif
