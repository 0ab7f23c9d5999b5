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
 * A buffered connection, plain or TLS, on libevent's loop but with our
 * own reads and writes: what libevent's bufferevents cost per request
 * (an ioctl(FIONREAD) before every read, EPOLLOUT armed and disarmed
 * around every write) is what the relay pays most for.  Here:
 *
 *  - a read is one read(2) (or SSL_read() records) of up to 64 KiB into
 *    the input buffer, no ioctl; the read event stays armed while reading
 *    is wanted and the input is below its high-water mark;
 *  - what is added to the output is written once the callbacks of this
 *    loop pass are done (answers made of several pieces go in one
 *    writev), and EPOLLOUT is armed only when the socket takes no more;
 *  - TLS (an SSL whose handshake is through, tls_accept.c): SSL_read and
 *    SSL_write on the socket, full 16 KiB records for bulk data.
 *
 * The callbacks follow bufferevents': read after bytes came in, write
 * once the output is at or below its low-water mark after a write, event
 * on end of file or error.  A callback may free
 * the connection; nothing touches it after a callback returns.
 */

#ifndef MOATD_CONN_H
#define MOATD_CONN_H

#include <stddef.h>

#define CONN_READING	0x01
#define CONN_WRITING	0x02
#define CONN_EOF	0x10
#define CONN_ERROR	0x20

#define CONN_READ_MAX	(64 * 1024)

struct conn;
struct event_base;
struct evbuffer;
typedef struct ssl_st SSL;

typedef void	(*conn_cb)(struct conn *, void *);
typedef void	(*conn_event_cb)(struct conn *, short, void *);

/* fd non-blocking; ssl NULL (plain) or established on fd. */
struct conn	*conn_new(struct event_base *, int fd, SSL *ssl);
void		 conn_setcb(struct conn *, conn_cb readcb, conn_cb writecb,
		    conn_event_cb eventcb, void *arg);
/* Closes the descriptor and frees the SSL. */
void		 conn_free(struct conn *);
struct evbuffer	*conn_input(struct conn *);
struct evbuffer	*conn_output(struct conn *);
int		 conn_fd(struct conn *);
struct event_base	*conn_base(struct conn *);
SSL		*conn_ssl(struct conn *);
/* Reading on or off (EV_READ; EV_WRITE is always on: ignored). */
void		 conn_enable(struct conn *, short);
void		 conn_disable(struct conn *, short);
/* Reading stops at high (0: no mark); write callback at <= low. */
void		 conn_read_high(struct conn *, size_t high);
void		 conn_write_low(struct conn *, size_t low);
/* Half-close, once the output is out: close_notify on TLS (as Go's
 * CloseWrite), shutdown(SHUT_WR) on plain connections. */
void		 conn_shutdown_write(struct conn *);

#endif /* MOATD_CONN_H */
