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
 * Buffered connections on our own reads and writes: see conn.h.  The
 * loop and the timers stay libevent's; the bufferevent layer went because
 * of what it costs per request, not for what it does.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "conn.h"
#include "log.h"

#define TLS_RECORD	16384
/* Per wakeup, so that one busy connection does not hold up the rest. */
#define WRITE_BUDGET	(256 * 1024)

struct conn {
	struct event_base	*base;
	int			 fd;
	SSL			*ssl;
	struct evbuffer		*in;
	struct evbuffer		*out;
	struct event		*rev;
	struct event		*wev;		/* made on the first EAGAIN */
	TAILQ_ENTRY(conn)	 fentry;	/* on flushq while flush_due */
	conn_cb			 readcb;
	conn_cb			 writecb;
	conn_event_cb		 eventcb;
	void			*arg;
	size_t			 rhigh;
	size_t			 wlow;
	int			 reading;	/* wanted by the user */
	int			 eof;		/* nothing more to read */
	int			 werr;		/* nothing more to write */
	int			 r_wants_w;	/* SSL_read wants to write */
	int			 w_wants_r;	/* SSL_write wants to read */
	int			 flush_due;
	int			 busy;		/* inside our callbacks */
	int			 dead;		/* freed while busy */
};

static void	conn_sync_read(struct conn *);
static void	write_cb(int, short, void *);

/*
 * Writes wait for the end of the loop pass, for the whole process in one
 * queue behind one event: an idle connection holds no flush event of its
 * own (nor a write event until a socket first says EAGAIN).
 */
static TAILQ_HEAD(, conn)	 flushq = TAILQ_HEAD_INITIALIZER(flushq);
static struct event		*flush_ev;
static struct event_base	*flush_base;

static void
conn_destroy(struct conn *c)
{
	event_free(c->rev);
	if (c->wev != NULL)
		event_free(c->wev);
	if (c->flush_due)
		TAILQ_REMOVE(&flushq, c, fentry);
	evbuffer_free(c->in);
	evbuffer_free(c->out);
	if (c->ssl != NULL)
		SSL_free(c->ssl);
	close(c->fd);
	free(c);
}

static void
conn_hold(struct conn *c)
{
	c->busy++;
}

/* 1 when c is gone (freed by a callback) and must not be touched. */
static int
conn_release(struct conn *c)
{
	if (--c->busy > 0)
		return c->dead;
	if (!c->dead)
		return 0;
	conn_destroy(c);
	return 1;
}

static void
conn_event(struct conn *c, short what)
{
	if (!c->dead && c->eventcb != NULL)
		c->eventcb(c, what, c->arg);
}

static int
wev_pending(struct conn *c)
{
	return c->wev != NULL && event_pending(c->wev, EV_WRITE, NULL);
}

static void
wev_set(struct conn *c, int on)
{
	int	 pending = wev_pending(c);

	if (on && c->wev == NULL && (c->wev = event_new(c->base, c->fd,
	    EV_WRITE | EV_PERSIST, write_cb, c)) == NULL)
		fatalx("%s: out of memory", __func__);
	if (on && !pending)
		event_add(c->wev, NULL);
	else if (!on && pending)
		event_del(c->wev);
}

static void
schedule_flush(struct conn *c)
{
	if (c->flush_due || c->werr || c->dead || wev_pending(c))
		return;
	c->flush_due = 1;
	TAILQ_INSERT_TAIL(&flushq, c, fentry);
	event_active(flush_ev, EV_WRITE, 1);
}

/*
 * The connections queued when the pass began, each once: one that
 * queues itself again (its write budget spent) waits for the next pass.
 */
static void
flush_cb(int fd, short ev, void *arg)
{
	struct conn	*c;
	size_t		 n = 0;

	TAILQ_FOREACH(c, &flushq, fentry)
		n++;
	while (n-- > 0 && (c = TAILQ_FIRST(&flushq)) != NULL)
		write_cb(-1, EV_WRITE, c);
	if (!TAILQ_EMPTY(&flushq))
		event_active(flush_ev, EV_WRITE, 1);
}

/* OpenSSL 3 calls a close without close_notify an error; so do we not. */
static int
unexpected_eof(void)
{
	unsigned long	 e = ERR_peek_last_error();

	if (ERR_GET_LIB(e) != ERR_LIB_SSL ||
	    ERR_GET_REASON(e) != SSL_R_UNEXPECTED_EOF_WHILE_READING)
		return 0;
	ERR_clear_error();
	return 1;
}

/*
 * What a failed TLS call means: 0 to wait (the events are set), or the
 * CONN_* flags to report.
 */
static short
tls_error(struct conn *c, int rv, short dir)
{
	switch (SSL_get_error(c->ssl, rv)) {
	case SSL_ERROR_WANT_READ:
		if (dir == CONN_WRITING)
			c->w_wants_r = 1;
		conn_sync_read(c);
		return 0;
	case SSL_ERROR_WANT_WRITE:
		if (dir == CONN_READING)
			c->r_wants_w = 1;
		wev_set(c, 1);
		return 0;
	case SSL_ERROR_ZERO_RETURN:
		return CONN_EOF | dir;
	case SSL_ERROR_SYSCALL:
		if (ERR_peek_error() == 0 && (rv == 0 || errno == 0))
			return CONN_EOF | dir;
		return CONN_ERROR | dir;
	default:
		if (unexpected_eof())
			return CONN_EOF | dir;
		return CONN_ERROR | dir;
	}
}

/*
 * Reads land in one buffer of the process and are copied out at their
 * size: a reservation of 64 KiB in the connection's own buffer for every
 * 100-byte request would be allocated and freed (and the heap's top
 * trimmed with brk) each time, and held while bytes wait.
 */
static unsigned char	scratch[CONN_READ_MAX];

/* One read(2) of up to want bytes: bytes read, 0 at end, -1 (errno). */
static ssize_t
plain_read(struct conn *c, size_t want)
{
	ssize_t	 n;

	if ((n = read(c->fd, scratch, want)) > 0 &&
	    evbuffer_add(c->in, scratch, n) == -1)
		fatalx("%s: out of memory", __func__);
	return n;
}

/*
 * Records until OpenSSL holds no more and up to want bytes: bytes read,
 * and *what set when the read side ended or must wait for a write.
 */
static size_t
tls_read(struct conn *c, size_t want, short *what)
{
	size_t	 got = 0;
	int	 rv;

	*what = 0;
	while (got < want) {
		ERR_clear_error();
		rv = SSL_read(c->ssl, scratch, want - got);
		if (rv <= 0) {
			*what = tls_error(c, rv, CONN_READING);
			return got;
		}
		if (evbuffer_add(c->in, scratch, rv) == -1)
			fatalx("%s: out of memory", __func__);
		got += rv;
		if (!SSL_has_pending(c->ssl))
			break;
	}
	/* More is decrypted or buffered than we took: next pass. */
	if (SSL_has_pending(c->ssl))
		event_active(c->rev, EV_READ, 1);
	return got;
}

static void
do_read(struct conn *c)
{
	size_t	 len = evbuffer_get_length(c->in), want = CONN_READ_MAX;
	ssize_t	 n;
	short	 what = 0;

	if (c->rhigh > 0) {
		if (len >= c->rhigh)
			return;
		if (c->rhigh - len < want)
			want = c->rhigh - len;
	}
	if (c->ssl == NULL) {
		n = plain_read(c, want);
		if (n == 0)
			what = CONN_EOF | CONN_READING;
		else if (n == -1 && errno != EAGAIN && errno != EINTR)
			what = CONN_ERROR | CONN_READING;
	} else
		n = tls_read(c, want, &what);
	if (what & (CONN_EOF | CONN_ERROR)) {
		c->eof = 1;
		conn_sync_read(c);
	} else
		conn_sync_read(c);	/* the high-water mark */
	if (n > 0 && c->readcb != NULL)
		c->readcb(c, c->arg);
	if (what != 0 && !c->dead)
		conn_event(c, what);
}

static void
write_failed(struct conn *c, short what)
{
	c->werr = 1;
	wev_set(c, 0);
	evbuffer_drain(c->out, evbuffer_get_length(c->out));
	conn_event(c, what);
}

/* Plain: one writev of what is there; 1 when it all went. */
static int
plain_write(struct conn *c, size_t *wrote)
{
	size_t	 len = evbuffer_get_length(c->out);
	int	 n;

	n = evbuffer_write_atmost(c->out, c->fd, WRITE_BUDGET);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		write_failed(c, CONN_ERROR | CONN_WRITING);
		return -1;
	}
	*wrote = n;
	return (size_t)n == (len < WRITE_BUDGET ? len : WRITE_BUDGET);
}

/* TLS: full records while the socket takes them. */
static int
tls_write(struct conn *c, size_t *wrote)
{
	size_t	 len, n;
	short	 what;
	int	 rv;

	*wrote = 0;
	c->w_wants_r = 0;
	while ((len = evbuffer_get_length(c->out)) > 0) {
		if (*wrote >= WRITE_BUDGET)
			return 1;
		n = len < TLS_RECORD ? len : TLS_RECORD;
		ERR_clear_error();
		rv = SSL_write(c->ssl, evbuffer_pullup(c->out, n), n);
		if (rv <= 0) {
			if ((what = tls_error(c, rv, CONN_WRITING)) == 0)
				return 0;
			write_failed(c, what);
			return -1;
		}
		evbuffer_drain(c->out, rv);
		*wrote += rv;
	}
	return 1;
}

static void
do_write(struct conn *c)
{
	size_t	 wrote = 0;
	int	 rv;

	if (c->werr)
		return;
	if (evbuffer_get_length(c->out) == 0) {
		wev_set(c, 0);
		return;
	}
	rv = c->ssl == NULL ? plain_write(c, &wrote) : tls_write(c, &wrote);
	if (rv == -1)
		return;
	if (evbuffer_get_length(c->out) == 0)
		wev_set(c, 0);
	else if (rv == 0 && !c->w_wants_r)
		wev_set(c, 1);
	else if (rv == 1)
		schedule_flush(c);	/* the budget: go on next pass */
	if (wrote > 0 && evbuffer_get_length(c->out) <= c->wlow &&
	    c->writecb != NULL)
		c->writecb(c, c->arg);
}

static void
read_cb(int fd, short ev, void *arg)
{
	struct conn	*c = arg;

	conn_hold(c);
	if (c->w_wants_r) {
		c->w_wants_r = 0;
		do_write(c);
	}
	if (!c->dead && !c->eof && c->reading)
		do_read(c);
	(void)conn_release(c);
}

static void
write_cb(int fd, short ev, void *arg)
{
	struct conn	*c = arg;

	conn_hold(c);
	if (c->flush_due) {
		c->flush_due = 0;
		TAILQ_REMOVE(&flushq, c, fentry);
	}
	if (c->r_wants_w) {
		c->r_wants_w = 0;
		do_read(c);
	}
	if (!c->dead)
		do_write(c);
	(void)conn_release(c);
}

static void
out_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct conn	*c = arg;

	if (info->n_added > 0)
		schedule_flush(c);
}

static void
in_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct conn	*c = arg;

	if (info->n_deleted > 0 && c->rhigh > 0 && !c->dead)
		conn_sync_read(c);
}

/*
 * The read event is armed while something wants the socket read: the
 * user below the mark, a TLS write or handshake that waits for input.
 * Bytes OpenSSL already holds show no readiness: they are run next pass.
 */
static void
conn_sync_read(struct conn *c)
{
	int	 want, pending;

	if (c->dead)
		return;
	want = !c->eof && (c->w_wants_r || (c->reading &&
	    (c->rhigh == 0 || evbuffer_get_length(c->in) < c->rhigh)));
	pending = event_pending(c->rev, EV_READ, NULL);
	if (want && !pending)
		event_add(c->rev, NULL);
	else if (!want && pending)
		event_del(c->rev);
	if (want && c->ssl != NULL && c->reading &&
	    SSL_has_pending(c->ssl))
		event_active(c->rev, EV_READ, 1);
}

struct conn *
conn_new(struct event_base *base, int fd, SSL *ssl)
{
	struct conn	*c;

	if (flush_ev == NULL) {
		flush_base = base;
		if ((flush_ev = event_new(base, -1, 0, flush_cb, NULL)) ==
		    NULL)
			fatalx("%s: out of memory", __func__);
	}
	if (base != flush_base)
		fatalx("%s: one event base per process", __func__);
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->base = base;
	c->fd = fd;
	c->ssl = ssl;
	c->in = evbuffer_new();
	c->out = evbuffer_new();
	c->rev = event_new(base, fd, EV_READ | EV_PERSIST, read_cb, c);
	if (c->in == NULL || c->out == NULL || c->rev == NULL ||
	    evbuffer_add_cb(c->out, out_cb, c) == NULL ||
	    evbuffer_add_cb(c->in, in_cb, c) == NULL)
		fatalx("%s: out of memory", __func__);
	if (ssl != NULL) {
		if (!SSL_is_init_finished(ssl) || SSL_get_fd(ssl) != fd)
			fatalx("%s: not an established TLS connection on fd",
			    __func__);
		SSL_set_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE |
		    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	}
	return c;
}

void
conn_setcb(struct conn *c, conn_cb readcb, conn_cb writecb,
    conn_event_cb eventcb, void *arg)
{
	c->readcb = readcb;
	c->writecb = writecb;
	c->eventcb = eventcb;
	c->arg = arg;
}

void
conn_free(struct conn *c)
{
	if (c == NULL)
		return;
	if (c->busy > 0) {
		c->dead = 1;
		c->readcb = c->writecb = NULL;
		c->eventcb = NULL;
		event_del(c->rev);
		if (c->wev != NULL)
			event_del(c->wev);
		if (c->flush_due) {
			c->flush_due = 0;
			TAILQ_REMOVE(&flushq, c, fentry);
		}
		return;
	}
	conn_destroy(c);
}

struct evbuffer *
conn_input(struct conn *c)
{
	return c->in;
}

struct evbuffer *
conn_output(struct conn *c)
{
	return c->out;
}

int
conn_fd(struct conn *c)
{
	return c->fd;
}

struct event_base *
conn_base(struct conn *c)
{
	return c->base;
}

SSL *
conn_ssl(struct conn *c)
{
	return c->ssl;
}

void
conn_enable(struct conn *c, short what)
{
	if (!(what & EV_READ) || c->reading)
		return;
	c->reading = 1;
	conn_sync_read(c);
}

void
conn_disable(struct conn *c, short what)
{
	if (!(what & EV_READ) || !c->reading)
		return;
	c->reading = 0;
	conn_sync_read(c);
}

void
conn_read_high(struct conn *c, size_t high)
{
	c->rhigh = high;
	conn_sync_read(c);
}

void
conn_write_low(struct conn *c, size_t low)
{
	c->wlow = low;
}

void
conn_shutdown_write(struct conn *c)
{
	if (c->ssl == NULL) {
		(void)shutdown(c->fd, SHUT_WR);
		return;
	}
	/* The output is empty: the alert goes straight to the socket. */
	ERR_clear_error();
	(void)SSL_shutdown(c->ssl);
	ERR_clear_error();
}
