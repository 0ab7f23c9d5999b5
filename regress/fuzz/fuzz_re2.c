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
 * libFuzzer target for re2_check(), the RE2 pattern pre-checker.  Besides
 * memory safety on any bytes (it is documented for valid UTF-8, but must
 * not read out of bounds on anything), it checks that a refusal names an
 * offset inside the pattern and a reason, and that the verdict does not
 * depend on bytes after the input (it is run on an exact-size copy).
 *
 * FUZZ_SOURCES: policy/re2.c policy/http.c
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*why = NULL, *why2 = NULL;
	char		*p, *q;
	size_t		 off = 0, off2 = 0;
	int		 rc, rc2;

	if ((p = malloc(size + 1)) == NULL || (q = malloc(size + 8)) == NULL)
		abort();
	memcpy(p, data, size);
	rc = re2_check(p, size, &off, &why);
	if (rc != 0 && rc != -1)
		abort();
	if (rc == -1 && (why == NULL || off > size))
		abort();
	if (rc == 0 && why != NULL)
		abort();
	/* the same bytes followed by junk give the same answer */
	memcpy(q, data, size);
	memcpy(q + size, "\\Q(?=)[", 8);
	rc2 = re2_check(q, size, &off2, &why2);
	if (rc2 != rc || off2 != off || why2 != why)
		abort();
	free(p);
	free(q);
	return 0;
}
