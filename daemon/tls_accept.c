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
 * A TLS client's handshake, on its own before the session starts: the
 * relay's loop drives SSL_do_handshake on the raw non-blocking socket
 * with an event per wait (the socket readable or writable) and hands the
 * caller the established SSL, or closes the connection and says so.
 *
 * The handshake runs in an OpenSSL ASYNC job (SSL_MODE_ASYNC).  When it
 * needs the server's signature, the key method (tls_key.c) asks the ca
 * and pauses the job: SSL_do_handshake returns SSL_ERROR_WANT_ASYNC and
 * the loop serves other clients.  The ca's answer calls the SSL's async
 * callback, which makes the handshake's event active; the next call
 * resumes the job where it paused.  No descriptor is involved, so there
 * is none to count or to allow in the sandbox.  The mode goes once the
 * handshake is through: reads and writes then run without a job.
 *
 * "timeout head" bounds the whole handshake, the wait for the ca
 * included.  A handshake given up on while its job is paused is resumed
 * once more, without an answer, so that the job ends before its SSL is
 * freed (tls_key.c).
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "moatd.h"

/* refused clients read out at once; relay.c's descriptor reserve
 * (FD_RESERVE) is larger */
#define LINGER_MAX		32
#define LINGER_SECS		2

struct tls_accept {
	SSL			*ssl;
	int			 fd;
	struct event		*rev;	/* also made active by the ca */
	struct event		*wev;
	struct event		*timer;
	int			 secs;
	char			 peer[80];
	relay_tls_done_fn	 done;
	void			*arg;
};

/*
 * A refused client, TLS 1.3 in particular, has sent its request right
 * behind its certificate.  Closing a socket with unread bytes sends a
 * reset, which can reach the client before our alert does, and then the
 * docker CLI says "connection reset" instead of "bad certificate".  So
 * the socket stays open, half-closed after the alert, and is read out
 * for a moment.  It is no longer in relay.c's descriptor count:
 * LINGER_MAX is well inside its reserve.
 */
struct tls_linger {
	struct event	*ev;
	int		 fd;
};

static int	nlinger;

static void
linger_cb(int fd, short what, void *arg)
{
	struct tls_linger	*l = arg;
	char			 buf[4096];
	ssize_t			 n;

	if (what & EV_READ) {
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			;
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
	}
	event_free(l->ev);
	close(l->fd);
	free(l);
	nlinger--;
}

/* fd is the linger's from here on, or closed. */
static void
linger(struct event_base *base, int fd)
{
	struct timeval		 tv = { LINGER_SECS, 0 };
	struct tls_linger	*l;

	if (nlinger >= LINGER_MAX || (l = calloc(1, sizeof(*l))) == NULL) {
		close(fd);
		return;
	}
	(void)shutdown(fd, SHUT_WR);
	l->fd = fd;
	if ((l->ev = event_new(base, fd, EV_READ | EV_PERSIST, linger_cb,
	    l)) == NULL) {
		close(fd);
		free(l);
		return;
	}
	event_add(l->ev, &tv);
	nlinger++;
}

/*
 * Whether the kernel took the record layer (kTLS): said once.  When it
 * took neither direction of the first handshake (no "tls" ULP, or no
 * cipher it has), later handshakes do not ask it again.
 */
static void
ktls_note(SSL *ssl)
{
#if defined(SSL_OP_ENABLE_KTLS) && !defined(OPENSSL_NO_KTLS)
	static int	 said;
	int		 tx, rx;

	if (said)
		return;
	said = 1;
	tx = BIO_get_ktls_send(SSL_get_wbio(ssl));
	rx = BIO_get_ktls_recv(SSL_get_rbio(ssl));
	log_debug("kernel TLS (kTLS): send %s, receive %s%s",
	    tx ? "in the kernel" : "by OpenSSL",
	    rx ? "in the kernel" : "by OpenSSL",
	    tx || rx ? "" : "; not asked again");
	if (!tx && !rx)
		relay_tls_ktls_none();
#endif
}

/* The end: done gets ssl (NULL: failed, fd gone) and a's memory goes. */
static void
finish(struct tls_accept *a, SSL *ssl, const char *err)
{
	relay_tls_done_fn	 done = a->done;
	void			*arg = a->arg;

	event_free(a->rev);
	event_free(a->wev);
	event_free(a->timer);
	free(a);
	done(arg, ssl, err);
}

/* Give up on a's handshake: its job ends first (see above). */
static void
drop(struct tls_accept *a)
{
	if (SSL_waiting_for_async(a->ssl))
		(void)SSL_do_handshake(a->ssl);
	ERR_clear_error();
	SSL_free(a->ssl);
}

static void
failed(struct tls_accept *a, int err)
{
	struct event_base	*base = event_get_base(a->rev);
	char			 why[512];
	int			 fd = a->fd;

	relay_tls_why(a->ssl, why, sizeof(why));
	/* A port probe or a client that gave up: no news. */
	if (err == SSL_ERROR_ZERO_RETURN &&
	    strcmp(why, "connection closed") == 0) {
		log_debug("client=%s: closed in the TLS handshake", a->peer);
		drop(a);
		close(fd);
	} else {
		log_warnx("client=%s: TLS handshake failed: %s", a->peer,
		    why);
		drop(a);
		linger(base, fd);
	}
	finish(a, NULL, why);
}

static void
step(struct tls_accept *a)
{
	SSL	*ssl = a->ssl;
	int	 rv, err;

	ERR_clear_error();
	if ((rv = SSL_do_handshake(ssl)) == 1) {
		/* No job from here on, and nothing to wake. */
		SSL_clear_mode(ssl, SSL_MODE_ASYNC);
		(void)SSL_set_async_callback_arg(ssl, NULL);
		ktls_note(ssl);
		finish(a, ssl, NULL);
		return;
	}
	switch ((err = SSL_get_error(ssl, rv))) {
	case SSL_ERROR_WANT_READ:
		event_add(a->rev, NULL);
		return;
	case SSL_ERROR_WANT_WRITE:
		event_add(a->wev, NULL);
		return;
	case SSL_ERROR_WANT_ASYNC:
		return;		/* the ca's answer calls async_wake */
	default:
		failed(a, err);
	}
}

static void
io_cb(int fd, short what, void *arg)
{
	step(arg);
}

/* The ca answered: resume the handshake from the loop, not from here. */
static int
async_wake(SSL *ssl, void *arg)
{
	struct tls_accept	*a = arg;

	if (a == NULL)
		return 0;
	event_active(a->rev, EV_READ, 1);
	return 1;
}

static void
timeout_cb(int fd, short what, void *arg)
{
	struct tls_accept	*a = arg;

	log_info("client=%s: TLS handshake not done in %d s; closed",
	    a->peer, a->secs);
	drop(a);
	close(a->fd);
	finish(a, NULL, "handshake timeout");
}

int
relay_tls_accept(struct event_base *base, int lid, int fd,
    const char *peer, int secs, relay_tls_done_fn done, void *arg)
{
	struct tls_accept	*a;
	struct timeval		 tv = { secs, 0 };
	SSL			*ssl;

	if ((ssl = relay_tls_ssl(lid)) == NULL) {
		close(fd);
		return -1;
	}
	if ((a = calloc(1, sizeof(*a))) == NULL)
		fatal("%s", __func__);
	a->ssl = ssl;
	a->fd = fd;
	a->secs = secs;
	a->done = done;
	a->arg = arg;
	strlcpy(a->peer, peer, sizeof(a->peer));
	tls_key_attach(base);
	if (SSL_set_fd(ssl, fd) != 1 ||
	    SSL_set_async_callback(ssl, async_wake) != 1 ||
	    SSL_set_async_callback_arg(ssl, a) != 1)
		fatalx("%s: out of memory", __func__);
	SSL_set_accept_state(ssl);
	SSL_set_mode(ssl, SSL_MODE_ASYNC);
	a->rev = event_new(base, fd, EV_READ, io_cb, a);
	a->wev = event_new(base, fd, EV_WRITE, io_cb, a);
	a->timer = evtimer_new(base, timeout_cb, a);
	if (a->rev == NULL || a->wev == NULL || a->timer == NULL)
		fatalx("%s: out of memory", __func__);
	/* The ClientHello comes first: nothing to do before it. */
	event_add(a->rev, NULL);
	if (secs > 0)
		evtimer_add(a->timer, &tv);
	return 0;
}
