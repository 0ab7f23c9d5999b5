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
 * An LD_PRELOAD shim for the tests: it wins, every time, the race of an
 * attacker who swaps a freshly bound unix socket for a symlink.  After a
 * bind(2) to the path $SWAPBIND_PATH succeeds, the socket file there is
 * replaced by a symlink to $SWAPBIND_TARGET, before bind returns.
 *
 *   cc -shared -fPIC -o swapbind.so regress/swapbind.c -ldl
 */

#include <sys/socket.h>
#include <sys/un.h>

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int	bind(int, const struct sockaddr *, socklen_t);

int
bind(int fd, const struct sockaddr *sa, socklen_t len)
{
	int		(*real)(int, const struct sockaddr *, socklen_t);
	const struct sockaddr_un *sun = (const struct sockaddr_un *)sa;
	const char	*path = getenv("SWAPBIND_PATH");
	const char	*target = getenv("SWAPBIND_TARGET");
	int		 rv;

	*(void **)&real = dlsym(RTLD_NEXT, "bind");
	if (real == NULL)
		abort();
	rv = real(fd, sa, len);
	if (rv == 0 && path != NULL && target != NULL &&
	    sa->sa_family == AF_UNIX && strcmp(sun->sun_path, path) == 0) {
		(void)unlink(path);
		if (symlink(target, path) == -1)
			abort();
	}
	return rv;
}
