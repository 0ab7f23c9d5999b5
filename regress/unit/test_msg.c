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
 * Unit tests for privsep/msg.c: framing over a socketpair, fd passing,
 * short reads and writes, limits, and the mbuf marshalling (policy/mbuf.c).
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "privsep.h"

#define NMSGS	5000

static int	 sv[2];
static struct msgbuf	 wb, rb;

static void
setup_pair(int wfdpass, int rfdpass)
{
	ck_assert_int_eq(socketpair(AF_UNIX,
	    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	msgbuf_init(&wb, sv[0], wfdpass);
	msgbuf_init(&rb, sv[1], rfdpass);
}

static void
teardown_pair(void)
{
	msgbuf_clear(&wb);
	msgbuf_clear(&rb);
	close(sv[0]);
	close(sv[1]);
}

static int
count_fds(void)
{
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	ck_assert_ptr_nonnull(d = opendir("/proc/self/fd"));
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* Deterministic payload for message i. */
static size_t
payload(unsigned i, uint8_t *buf)
{
	size_t	 len = (i * 37) % 700, j;

	for (j = 0; j < len; j++)
		buf[j] = (uint8_t)(i + j * 7);
	return len;
}

/* Read everything available and return the next message, or fail. */
static void
get_one(struct msgbuf *mb, struct msg *m)
{
	int	 r, tries;

	for (tries = 0; tries < 100000; tries++) {
		r = msg_get(mb, m);
		ck_assert_int_ne(r, -1);
		if (r == 1)
			return;
		if (msgbuf_read(mb) == -1)
			ck_assert_int_eq(errno, EAGAIN);
	}
	ck_abort_msg("no message");
}

START_TEST(test_roundtrip_many)
{
	uint8_t		 buf[1024];
	struct msg	 m;
	unsigned	 sent = 0, got = 0;
	size_t		 len;
	int		 r;

	setup_pair(0, 0);
	while (got < NMSGS) {
		/* Keep the queue busy so flushes batch many messages. */
		while (sent < NMSGS && wb.wqueued < 256 * 1024) {
			len = payload(sent, buf);
			ck_assert_int_eq(msg_compose(&wb, 1000 + sent % 7,
			    sent, -1, buf, len), 0);
			sent++;
		}
		ck_assert_int_ne(msgbuf_flush(&wb), -1);
		if (msgbuf_read(&rb) == -1)
			ck_assert_int_eq(errno, EAGAIN);
		while ((r = msg_get(&rb, &m)) == 1) {
			len = payload(got, buf);
			ck_assert_uint_eq(m.hdr.type, 1000 + got % 7);
			ck_assert_uint_eq(m.hdr.peerid, got);
			ck_assert_uint_eq(m.hdr.len, MSG_HDRSZ + len);
			ck_assert_uint_eq(m.hdr.flags, 0);
			ck_assert_int_eq(m.fd, -1);
			ck_assert_uint_eq(m.datalen, len);
			if (len > 0)
				ck_assert_mem_eq(m.data, buf, len);
			else
				ck_assert_ptr_null(m.data);
			msg_free(&m);
			got++;
		}
		ck_assert_int_eq(r, 0);
	}
	ck_assert_int_eq(msgbuf_flush(&wb), 1);
	ck_assert_uint_eq(wb.wqueued, 0);
	ck_assert_ptr_null(wb.whead);
	teardown_pair();
}
END_TEST

START_TEST(test_maxsz)
{
	uint8_t		*big;
	struct msg	 m;
	size_t		 n = MSG_MAXSZ - MSG_HDRSZ, i;
	int		 r = 0;

	setup_pair(0, 0);
	ck_assert_ptr_nonnull(big = malloc(n + 1));
	for (i = 0; i <= n; i++)
		big[i] = (uint8_t)(i % 251);
	errno = 0;
	ck_assert_int_eq(msg_compose(&wb, 7, 8, -1, big, n + 1), -1);
	ck_assert_int_eq(errno, EMSGSIZE);
	ck_assert_uint_eq(wb.wqueued, 0);
	ck_assert_int_eq(msg_compose(&wb, 7, 8, -1, big, n), 0);
	ck_assert_uint_eq(wb.wqueued, MSG_MAXSZ);
	while (r != 1) {
		ck_assert_int_ne(msgbuf_flush(&wb), -1);
		if (msgbuf_read(&rb) == -1)
			ck_assert_int_eq(errno, EAGAIN);
		ck_assert_int_ne(r = msg_get(&rb, &m), -1);
	}
	ck_assert_uint_eq(m.hdr.len, MSG_MAXSZ);
	ck_assert_uint_eq(m.datalen, n);
	ck_assert_mem_eq(m.data, big, n);
	msg_free(&m);
	ck_assert_int_eq(msgbuf_flush(&wb), 1);
	free(big);
	teardown_pair();
}
END_TEST

/* Write a raw header and check how the reader judges it. */
static int
raw_header(uint32_t len, uint32_t flags, int rfdpass)
{
	struct msg_hdr	 hdr = { 1, len, 2, flags };
	struct msg	 m;
	int		 r;

	setup_pair(0, rfdpass);
	ck_assert_int_eq(write(sv[0], &hdr, sizeof(hdr)), sizeof(hdr));
	ck_assert_int_eq(msgbuf_read(&rb), sizeof(hdr));
	errno = 0;
	r = msg_get(&rb, &m);
	if (r == -1)
		ck_assert_int_eq(errno, EBADMSG);
	if (r == 1)
		msg_free(&m);
	teardown_pair();
	return r;
}

START_TEST(test_bad_headers)
{
	ck_assert_int_eq(raw_header(MSG_HDRSZ, 0, 0), 1);
	ck_assert_int_eq(raw_header(MSG_HDRSZ - 1, 0, 0), -1);
	ck_assert_int_eq(raw_header(0, 0, 0), -1);
	ck_assert_int_eq(raw_header(MSG_MAXSZ + 1, 0, 0), -1);
	ck_assert_int_eq(raw_header(UINT32_MAX, 0, 0), -1);
	/* A full header of a big message is judged before its payload. */
	ck_assert_int_eq(raw_header(MSG_MAXSZ, 0, 0), 0);
	ck_assert_int_eq(raw_header(MSG_HDRSZ, 0x2, 0), -1);
	ck_assert_int_eq(raw_header(MSG_HDRSZ, 0x80000000, 1), -1);
	/* HASFD on a channel without fd passing, or without its fd. */
	ck_assert_int_eq(raw_header(MSG_HDRSZ, MSGF_HASFD, 0), -1);
	ck_assert_int_eq(raw_header(MSG_HDRSZ, MSGF_HASFD, 1), -1);
	ck_assert_int_eq(raw_header(MSG_HDRSZ + 10, MSGF_HASFD, 1), -1);
}
END_TEST

START_TEST(test_error_sticky)
{
	struct msg_hdr	 bad = { 1, 3, 0, 0 };
	struct msg	 m;

	setup_pair(0, 0);
	ck_assert_int_eq(write(sv[0], &bad, sizeof(bad)), sizeof(bad));
	ck_assert_int_eq(msg_compose(&wb, 1, 1, -1, NULL, 0), 0);
	ck_assert_int_eq(msgbuf_flush(&wb), 1);
	ck_assert_int_eq(msgbuf_read(&rb), 2 * MSG_HDRSZ);
	ck_assert_int_eq(msg_get(&rb, &m), -1);
	ck_assert_int_eq(msg_get(&rb, &m), -1);
	ck_assert_int_eq(m.fd, -1);
	ck_assert_ptr_null(m.data);
	teardown_pair();
}
END_TEST

static void
check_pipe_through(int wfd, int rfd, const char *word)
{
	char	 buf[32];
	ssize_t	 n;

	ck_assert_int_eq(write(wfd, word, strlen(word)), strlen(word));
	n = read(rfd, buf, sizeof(buf));
	ck_assert_int_eq(n, strlen(word));
	ck_assert_mem_eq(buf, word, n);
}

START_TEST(test_fdpass)
{
	static const char *words[] = { "zero", "one", "two" };
	struct msg	 m;
	int		 p[3][2], i, fl;

	setup_pair(1, 1);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(pipe2(p[i], O_CLOEXEC), 0);
		/* fd, no fd, fd: each fd must land on its own message */
		ck_assert_int_eq(msg_compose(&wb, 10 + i, i, p[i][1],
		    words[i], strlen(words[i])), 0);
		ck_assert_int_eq(msg_compose(&wb, 20 + i, i, -1, "x", 1), 0);
	}
	ck_assert_int_eq(msgbuf_flush(&wb), 1);
	/* The layer closed the sender's copies once they were sent. */
	for (i = 0; i < 3; i++) {
		errno = 0;
		ck_assert_int_eq(fcntl(p[i][1], F_GETFD), -1);
		ck_assert_int_eq(errno, EBADF);
	}
	for (i = 0; i < 3; i++) {
		get_one(&rb, &m);
		ck_assert_uint_eq(m.hdr.type, 10 + i);
		ck_assert_uint_eq(m.hdr.flags, MSGF_HASFD);
		ck_assert_int_ge(m.fd, 0);
		ck_assert_int_ne(fl = fcntl(m.fd, F_GETFD), -1);
		ck_assert(fl & FD_CLOEXEC);
		ck_assert_uint_eq(m.datalen, strlen(words[i]));
		ck_assert_mem_eq(m.data, words[i], m.datalen);
		check_pipe_through(m.fd, p[i][0], words[i]);
		msg_free(&m);
		ck_assert_int_eq(m.fd, -1);
		/* msg_free closed the last write end: EOF. */
		ck_assert_int_eq(read(p[i][0], &fl, 1), 0);
		close(p[i][0]);
		get_one(&rb, &m);
		ck_assert_uint_eq(m.hdr.type, 20 + i);
		ck_assert_int_eq(m.fd, -1);
		msg_free(&m);
	}
	ck_assert_uint_eq(rb.nrfds, 0);
	teardown_pair();
}
END_TEST

START_TEST(test_fd_refused)
{
	struct msg	 m;
	int		 p[2], before;
	char		 c;

	setup_pair(1, 0);
	ck_assert_int_eq(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	ck_assert_int_eq(msg_compose(&wb, 1, 1, p[1], "fd", 2), 0);
	ck_assert_int_eq(msgbuf_flush(&wb), 1);
	before = count_fds();
	ck_assert_int_eq(msgbuf_read(&rb), MSG_HDRSZ + 2);
	ck_assert_int_eq(count_fds(), before);
	errno = 0;
	ck_assert_int_eq(msg_get(&rb, &m), -1);
	ck_assert_int_eq(errno, EBADMSG);
	/* Both copies of the write end are gone. */
	ck_assert_int_eq(read(p[0], &c, 1), 0);
	close(p[0]);
	teardown_pair();

	/* Composing with an fd on such a channel: refused, fd closed. */
	setup_pair(0, 0);
	ck_assert_int_eq(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	errno = 0;
	ck_assert_int_eq(msg_compose(&wb, 1, 1, p[1], NULL, 0), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(read(p[0], &c, 1), 0);
	close(p[0]);
	ck_assert_uint_eq(wb.wqueued, 0);
	teardown_pair();
}
END_TEST

/* Send bytes with an fd attached, as a foreign or broken peer would. */
static void
send_with_fds(int s, const void *buf, size_t len, const int *fds, size_t nfds)
{
	union {
		struct cmsghdr	 hdr;
		uint8_t		 buf[CMSG_SPACE(sizeof(int) * 8)];
	} cmsgbuf;
	struct msghdr	 mh;
	struct cmsghdr	*cm;
	struct iovec	 iov;

	memset(&mh, 0, sizeof(mh));
	memset(&cmsgbuf, 0, sizeof(cmsgbuf));
	iov.iov_base = (void *)(uintptr_t)buf;
	iov.iov_len = len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cmsgbuf.buf;
	mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
	ck_assert_int_eq(sendmsg(s, &mh, 0), len);
}

static void
send_with_fd(int s, const void *buf, size_t len, int fd)
{
	send_with_fds(s, buf, len, &fd, 1);
}

START_TEST(test_fd_stray)
{
	struct msg_hdr	 hdr = { 5, MSG_HDRSZ, 0, 0 };
	struct msg	 m;
	int		 p[2];
	char		 c;

	/* An fd with a message that does not ask for one. */
	setup_pair(1, 1);
	ck_assert_int_eq(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	send_with_fd(sv[0], &hdr, sizeof(hdr), p[1]);
	close(p[1]);
	ck_assert_int_eq(msgbuf_read(&rb), sizeof(hdr));
	ck_assert_int_eq(msg_get(&rb, &m), 1);
	ck_assert_int_eq(m.fd, -1);
	msg_free(&m);
	ck_assert_int_eq(msg_get(&rb, &m), -1);
	msgbuf_clear(&rb);
	ck_assert_int_eq(read(p[0], &c, 1), 0);
	close(p[0]);
	teardown_pair();

	/* The same, caught while the message is still partial. */
	setup_pair(1, 1);
	ck_assert_int_eq(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	hdr.len = MSG_HDRSZ + 4;
	send_with_fd(sv[0], &hdr, sizeof(hdr), p[1]);
	close(p[1]);
	ck_assert_int_eq(msgbuf_read(&rb), sizeof(hdr));
	ck_assert_int_eq(msg_get(&rb, &m), -1);
	teardown_pair();
	ck_assert_int_eq(read(p[0], &c, 1), 0);
	close(p[0]);
}
END_TEST

START_TEST(test_fd_unflagged_refused)
{
	struct msg_hdr	 hdr = { 5, MSG_HDRSZ, 0, 0 };
	struct msg	 m;
	int		 p[2];
	char		 c;

	/* No fd passing here: an fd with any message breaks the channel. */
	setup_pair(0, 0);
	ck_assert_int_eq(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	send_with_fd(sv[0], &hdr, sizeof(hdr), p[1]);
	close(p[1]);
	ck_assert_int_eq(msgbuf_read(&rb), sizeof(hdr));
	ck_assert_int_eq(read(p[0], &c, 1), 0);
	errno = 0;
	ck_assert_int_eq(msg_get(&rb, &m), -1);
	ck_assert_int_eq(errno, EBADMSG);
	close(p[0]);
	teardown_pair();
}
END_TEST

START_TEST(test_fd_two_at_once)
{
	struct msg_hdr	 hdr = { 5, MSG_HDRSZ, 0, MSGF_HASFD };
	struct msg	 m;
	int		 p[2], q[2], fds[2];
	char		 c;

	setup_pair(1, 1);
	ck_assert_int_eq(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	ck_assert_int_eq(pipe2(q, O_CLOEXEC | O_NONBLOCK), 0);
	fds[0] = p[1];
	fds[1] = q[1];
	send_with_fds(sv[0], &hdr, sizeof(hdr), fds, 2);
	close(p[1]);
	close(q[1]);
	ck_assert_int_eq(msgbuf_read(&rb), sizeof(hdr));
	ck_assert_uint_eq(rb.nrfds, 0);
	ck_assert_int_eq(msg_get(&rb, &m), -1);
	ck_assert_int_eq(read(p[0], &c, 1), 0);
	ck_assert_int_eq(read(q[0], &c, 1), 0);
	close(p[0]);
	close(q[0]);
	teardown_pair();
}
END_TEST

START_TEST(test_short_writes)
{
	uint8_t		 buf[1024];
	struct msg	 m;
	unsigned	 n = 0, got = 0;
	size_t		 len;
	int		 r;

	setup_pair(0, 0);
	/* Fill the socket: the flush must stop with work left. */
	do {
		len = payload(n, buf);
		ck_assert_int_eq(msg_compose(&wb, 3, n, -1, buf, len), 0);
		n++;
	} while ((r = msgbuf_flush(&wb)) == 1);
	ck_assert_int_eq(r, 0);
	ck_assert_uint_gt(wb.wqueued, 0);
	ck_assert_int_eq(msgbuf_flush(&wb), 0);
	/* Drain, then the rest goes out. */
	while (got < n) {
		if ((r = msgbuf_flush(&wb)) == 1)
			ck_assert_uint_eq(wb.wqueued, 0);
		ck_assert_int_ne(r, -1);
		if (msgbuf_read(&rb) == -1)
			ck_assert_int_eq(errno, EAGAIN);
		while ((r = msg_get(&rb, &m)) == 1) {
			len = payload(got, buf);
			ck_assert_uint_eq(m.hdr.peerid, got);
			ck_assert_uint_eq(m.datalen, len);
			if (len > 0)
				ck_assert_mem_eq(m.data, buf, len);
			msg_free(&m);
			got++;
		}
		ck_assert_int_eq(r, 0);
	}
	ck_assert_int_eq(msgbuf_flush(&wb), 1);
	ck_assert_ptr_null(wb.whead);
	teardown_pair();
}
END_TEST

START_TEST(test_one_byte_at_a_time)
{
	uint8_t		 stream[3 * MSG_HDRSZ + 10];
	struct msg_hdr	 h[3] = {
		{ 1, MSG_HDRSZ + 5, 11, 0 },
		{ 2, MSG_HDRSZ, 12, 0 },
		{ 3, MSG_HDRSZ + 5, 13, MSGF_HASFD },
	};
	size_t		 ends[3], off = 0, i;
	struct msg	 m;
	int		 p[2], k = 0, r;

	setup_pair(1, 1);
	for (i = 0; i < 3; i++) {
		memcpy(stream + off, &h[i], MSG_HDRSZ);
		off += MSG_HDRSZ;
		if (h[i].len > MSG_HDRSZ) {
			memcpy(stream + off, i == 0 ? "hello" : "world", 5);
			off += 5;
		}
		ends[i] = off;
	}
	ck_assert_uint_eq(off, sizeof(stream));
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	for (i = 0; i < sizeof(stream); i++) {
		/* The fd goes with the first byte of the third message. */
		if (i == ends[1])
			send_with_fd(sv[0], stream + i, 1, p[1]);
		else
			ck_assert_int_eq(write(sv[0], stream + i, 1), 1);
		ck_assert_int_eq(msgbuf_read(&rb), 1);
		r = msg_get(&rb, &m);
		if (i + 1 != ends[k]) {
			ck_assert_int_eq(r, 0);
			continue;
		}
		ck_assert_int_eq(r, 1);
		ck_assert_uint_eq(m.hdr.type, k + 1);
		ck_assert_uint_eq(m.hdr.peerid, 11 + k);
		ck_assert_uint_eq(m.datalen, h[k].len - MSG_HDRSZ);
		if (k == 2) {
			ck_assert_mem_eq(m.data, "world", 5);
			check_pipe_through(m.fd, p[0], "byte");
		} else
			ck_assert_int_eq(m.fd, -1);
		if (k == 0)
			ck_assert_mem_eq(m.data, "hello", 5);
		msg_free(&m);
		ck_assert_int_eq(msg_get(&rb, &m), 0);
		k++;
	}
	ck_assert_int_eq(k, 3);
	close(p[0]);
	close(p[1]);
	teardown_pair();
}
END_TEST

START_TEST(test_eof)
{
	struct msg	 m;

	setup_pair(0, 0);
	errno = 0;
	ck_assert_int_eq(msgbuf_read(&rb), -1);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_eq(msg_compose(&wb, 1, 2, -1, "abc", 3), 0);
	ck_assert_int_eq(msgbuf_flush(&wb), 1);
	close(sv[0]);
	ck_assert_int_eq(msgbuf_read(&rb), MSG_HDRSZ + 3);
	ck_assert_int_eq(msgbuf_read(&rb), 0);
	ck_assert_int_eq(msg_get(&rb, &m), 1);
	msg_free(&m);
	ck_assert_int_eq(msg_get(&rb, &m), 0);
	/* Writing to a closed peer is an error, not a SIGPIPE. */
	ck_assert_int_eq(msg_compose(&rb, 1, 2, -1, "abc", 3), 0);
	errno = 0;
	ck_assert_int_eq(msgbuf_flush(&rb), -1);
	ck_assert_int_eq(errno, EPIPE);
	msgbuf_clear(&wb);
	msgbuf_clear(&rb);
	close(sv[1]);
}
END_TEST

START_TEST(test_queue_limit)
{
	static uint8_t	 chunk[64 * 1024 - MSG_HDRSZ];
	int		 i, p[2];
	char		 c;

	setup_pair(1, 1);
	for (i = 0; i < MSG_WQUEUE_MAX / (64 * 1024); i++)
		ck_assert_int_eq(msg_compose(&wb, 1, i, -1, chunk,
		    sizeof(chunk)), 0);
	ck_assert_uint_eq(wb.wqueued, MSG_WQUEUE_MAX);
	errno = 0;
	ck_assert_int_eq(msg_compose(&wb, 1, 0, -1, NULL, 0), -1);
	ck_assert_int_eq(errno, ENOBUFS);
	/* A refused fd is closed, not leaked. */
	ck_assert_int_eq(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	errno = 0;
	ck_assert_int_eq(msg_compose(&wb, 1, 0, p[1], NULL, 0), -1);
	ck_assert_int_eq(errno, ENOBUFS);
	ck_assert_int_eq(read(p[0], &c, 1), 0);
	close(p[0]);
	ck_assert_uint_eq(wb.wqueued, MSG_WQUEUE_MAX);
	/* Sending frees room again. */
	ck_assert_int_eq(msgbuf_flush(&wb), 0);
	ck_assert_uint_lt(wb.wqueued, MSG_WQUEUE_MAX);
	ck_assert_int_eq(msg_compose(&wb, 1, 0, -1, NULL, 0), 0);
	teardown_pair();
}
END_TEST

START_TEST(test_clear_closes_fds)
{
	int	 p[2], q[2];
	char	 c;

	setup_pair(1, 1);
	ck_assert_int_eq(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	ck_assert_int_eq(pipe2(q, O_CLOEXEC | O_NONBLOCK), 0);
	/* p travels; q stays queued behind it in the write queue. */
	ck_assert_int_eq(msg_compose(&wb, 1, 0, p[1], NULL, 0), 0);
	ck_assert_int_eq(msgbuf_flush(&wb), 1);
	ck_assert_int_eq(msg_compose(&wb, 1, 0, q[1], NULL, 0), 0);
	ck_assert_int_eq(msgbuf_read(&rb), MSG_HDRSZ);
	ck_assert_uint_eq(rb.nrfds, 1);
	msgbuf_clear(&rb);
	msgbuf_clear(&wb);
	ck_assert_uint_eq(rb.nrfds, 0);
	ck_assert_ptr_null(wb.whead);
	ck_assert_int_eq(rb.fd, sv[1]);
	ck_assert_int_eq(wb.allow_fdpass, 1);
	ck_assert_int_eq(read(p[0], &c, 1), 0);
	ck_assert_int_eq(read(q[0], &c, 1), 0);
	close(p[0]);
	close(q[0]);
	teardown_pair();
}
END_TEST

START_TEST(test_flush_sync)
{
	static uint8_t	 chunk[32 * 1024];
	struct msg	 m;
	pid_t		 pid;
	int		 i, status, got = 0;

	setup_pair(0, 0);
	for (i = 0; i < 64; i++) {
		memset(chunk, i, sizeof(chunk));
		ck_assert_int_eq(msg_compose(&wb, 1, i, -1, chunk,
		    sizeof(chunk)), 0);
	}
	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0) {
		/* A slow reader on a blocking socket. */
		fcntl(sv[1], F_SETFL, 0);
		while (got < 64) {
			if (msgbuf_read(&rb) <= 0)
				_exit(2);
			while (msg_get(&rb, &m) == 1) {
				if (m.hdr.peerid != (uint32_t)got ||
				    m.datalen != sizeof(chunk) ||
				    m.data[100] != got)
					_exit(3);
				msg_free(&m);
				got++;
			}
			usleep(1000);
		}
		_exit(0);
	}
	ck_assert_int_eq(msgbuf_flush_sync(&wb), 0);
	ck_assert_uint_eq(wb.wqueued, 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	teardown_pair();
}
END_TEST

/*
 * privsep/ploop.c: one wakeup dispatches everything queued on a channel,
 * not one read buffer's worth (64 KiB), so that the policy worker
 * answers a burst in one pass and one flush.
 */
static int	 ploop_seen;

static void
ploop_count(struct ploop *pl, int slot, struct msg *m, void *arg)
{
	ck_assert_uint_eq(m->hdr.peerid, (uint32_t)ploop_seen);
	ploop_seen++;
}

START_TEST(test_ploop_burst)
{
	uint8_t		 buf[100];
	struct ploop	*pl;
	int		 i, n = 1200;	/* 139200 bytes: more than 2 reads */

	setup_pair(0, 0);
	memset(buf, 'x', sizeof(buf));
	for (i = 0; i < n; i++)
		ck_assert_int_eq(msg_compose(&wb, 1, i, -1, buf,
		    sizeof(buf)), 0);
	ck_assert_int_eq(msgbuf_flush(&wb), 1);	/* all in the socket */
	ploop_seen = 0;
	ck_assert_ptr_nonnull(pl = ploop_new(sv[1], 0, ploop_count, NULL));
	ploop_read_parent(pl);			/* one wakeup */
	ck_assert_int_eq(ploop_seen, n);
	msgbuf_clear(&wb);
	close(sv[0]);
}
END_TEST

START_TEST(test_mbuf_roundtrip)
{
	static const uint8_t want[] = { 1, 2, 3, 4 };
	struct mbuf	 w, r;
	struct msg	 m;
	const void	*p;
	size_t		 len;
	uint32_t	 u32;
	uint64_t	 u64;
	char		 s[16];

	mbuf_init(&w);
	mbuf_add_u32(&w, 0x01020304);
	mbuf_add_u64(&w, 0x1122334455667788ULL);
	mbuf_add_data(&w, "\0\1\2", 3);
	mbuf_add_str(&w, "hello");
	mbuf_add_str(&w, "");
	mbuf_add_data(&w, NULL, 0);
	ck_assert_int_eq(w.err, 0);
	ck_assert_uint_eq(w.len, 4 + 8 + 4 + 3 + 4 + 5 + 4 + 4);
	/* Network byte order, documented. */
	ck_assert_mem_eq(w.buf, want, 4);
	ck_assert_uint_eq(w.buf[4], 0x11);
	ck_assert_uint_eq(w.buf[11], 0x88);

	/* Through a channel and back. */
	setup_pair(0, 0);
	ck_assert_int_eq(msg_compose(&wb, 9, 0, -1, w.buf, w.len), 0);
	ck_assert_int_eq(msgbuf_flush(&wb), 1);
	get_one(&rb, &m);
	mbuf_reader(&r, m.data, m.datalen);
	ck_assert_int_eq(mbuf_get_u32(&r, &u32), 0);
	ck_assert_uint_eq(u32, 0x01020304);
	ck_assert_int_eq(mbuf_get_u64(&r, &u64), 0);
	ck_assert(u64 == 0x1122334455667788ULL);
	ck_assert_int_eq(mbuf_get_data(&r, &p, &len), 0);
	ck_assert_uint_eq(len, 3);
	ck_assert_mem_eq(p, "\0\1\2", 3);
	ck_assert_int_eq(mbuf_get_str(&r, s, sizeof(s)), 0);
	ck_assert_str_eq(s, "hello");
	ck_assert_int_eq(mbuf_get_str(&r, s, sizeof(s)), 0);
	ck_assert_str_eq(s, "");
	ck_assert_int_eq(mbuf_get_data(&r, &p, &len), 0);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(mbuf_end(&r), 0);
	mbuf_free(&r);
	msg_free(&m);
	mbuf_free(&w);
	ck_assert_ptr_null(w.buf);
	ck_assert_uint_eq(w.len, 0);
	teardown_pair();
}
END_TEST

START_TEST(test_mbuf_short)
{
	static const uint8_t b[] = { 0, 0, 0, 9, 'a', 'b' };
	struct mbuf	 r;
	uint32_t	 u32;
	uint64_t	 u64;
	const void	*p;
	size_t		 len;
	char		 s[8];

	mbuf_reader(&r, b, 3);
	ck_assert_int_eq(mbuf_get_u32(&r, &u32), -1);
	ck_assert_int_eq(mbuf_end(&r), -1);

	mbuf_reader(&r, b, 6);
	ck_assert_int_eq(mbuf_get_u64(&r, &u64), -1);
	ck_assert_int_eq(mbuf_end(&r), -1);

	/* Length prefix 9, two bytes there. */
	mbuf_reader(&r, b, 6);
	ck_assert_int_eq(mbuf_get_data(&r, &p, &len), -1);
	ck_assert_int_eq(mbuf_end(&r), -1);
	mbuf_reader(&r, b, 6);
	ck_assert_int_eq(mbuf_get_str(&r, s, sizeof(s)), -1);
	ck_assert_str_eq(s, "");

	/* After one failure every getter fails, even with bytes left. */
	mbuf_reader(&r, b, 6);
	ck_assert_int_eq(mbuf_get_u64(&r, &u64), -1);
	ck_assert_int_eq(mbuf_get_u32(&r, &u32), -1);
	ck_assert_int_eq(r.err, 1);

	mbuf_reader(&r, NULL, 0);
	ck_assert_int_eq(mbuf_end(&r), 0);
	ck_assert_int_eq(mbuf_get_u32(&r, &u32), -1);
}
END_TEST

START_TEST(test_mbuf_str)
{
	struct mbuf	 w, r;
	char		 s[6];

	/* An embedded NUL is refused. */
	mbuf_init(&w);
	mbuf_add_data(&w, "ab\0cd", 5);
	mbuf_reader(&r, w.buf, w.len);
	ck_assert_int_eq(mbuf_get_str(&r, s, sizeof(s)), -1);
	ck_assert_int_eq(mbuf_end(&r), -1);
	mbuf_free(&w);

	/* Five characters fit in six bytes, six do not. */
	mbuf_init(&w);
	mbuf_add_str(&w, "12345");
	mbuf_add_str(&w, "123456");
	mbuf_reader(&r, w.buf, w.len);
	ck_assert_int_eq(mbuf_get_str(&r, s, sizeof(s)), 0);
	ck_assert_str_eq(s, "12345");
	ck_assert_int_eq(mbuf_get_str(&r, s, sizeof(s)), -1);
	ck_assert_str_eq(s, "");
	ck_assert_int_eq(mbuf_end(&r), -1);
	mbuf_reader(&r, w.buf, w.len);
	ck_assert_int_eq(mbuf_get_str(&r, s, 0), -1);
	mbuf_free(&w);
}
END_TEST

START_TEST(test_mbuf_leftover)
{
	struct mbuf	 w, r;
	uint32_t	 u32;

	mbuf_init(&w);
	mbuf_add_u32(&w, 1);
	mbuf_add_u32(&w, 2);
	mbuf_reader(&r, w.buf, w.len);
	ck_assert_int_eq(mbuf_get_u32(&r, &u32), 0);
	ck_assert_uint_eq(u32, 1);
	ck_assert_int_eq(mbuf_end(&r), -1);
	ck_assert_int_eq(mbuf_get_u32(&r, &u32), 0);
	ck_assert_uint_eq(u32, 2);
	ck_assert_int_eq(mbuf_end(&r), 0);
	/* One byte left over. */
	mbuf_reader(&r, w.buf, 5);
	ck_assert_int_eq(mbuf_get_u32(&r, &u32), 0);
	ck_assert_int_eq(mbuf_end(&r), -1);
	mbuf_free(&w);
}
END_TEST

START_TEST(test_mbuf_writer_errors)
{
	static uint8_t	 big[MSG_MAXSZ];
	struct mbuf	 w, r;

	/* The payload can never exceed what one message carries. */
	mbuf_init(&w);
	mbuf_add_data(&w, big, MSG_MAXSZ - MSG_HDRSZ - 4);
	ck_assert_int_eq(w.err, 0);
	ck_assert_uint_eq(w.len, MSG_MAXSZ - MSG_HDRSZ);
	mbuf_add_u32(&w, 0);
	ck_assert_int_eq(w.err, 1);
	ck_assert_uint_eq(w.len, MSG_MAXSZ - MSG_HDRSZ);
	mbuf_free(&w);

	mbuf_init(&w);
	mbuf_add_str(&w, NULL);
	ck_assert_int_eq(w.err, 1);
	mbuf_free(&w);

	/* A reader is not writable. */
	mbuf_reader(&r, big, 4);
	mbuf_add_u32(&r, 1);
	ck_assert_int_eq(r.err, 1);
	ck_assert_uint_eq(r.len, 4);
	mbuf_free(&r);
}
END_TEST

Suite *
msg_suite(void)
{
	Suite	*s = suite_create("msg");
	TCase	*tc = tcase_create("msg");
	TCase	*tm = tcase_create("mbuf");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_roundtrip_many);
	tcase_add_test(tc, test_ploop_burst);
	tcase_add_test(tc, test_maxsz);
	tcase_add_test(tc, test_bad_headers);
	tcase_add_test(tc, test_error_sticky);
	tcase_add_test(tc, test_fdpass);
	tcase_add_test(tc, test_fd_refused);
	tcase_add_test(tc, test_fd_stray);
	tcase_add_test(tc, test_fd_unflagged_refused);
	tcase_add_test(tc, test_fd_two_at_once);
	tcase_add_test(tc, test_short_writes);
	tcase_add_test(tc, test_one_byte_at_a_time);
	tcase_add_test(tc, test_eof);
	tcase_add_test(tc, test_queue_limit);
	tcase_add_test(tc, test_clear_closes_fds);
	tcase_add_test(tc, test_flush_sync);
	suite_add_tcase(s, tc);
	tcase_add_test(tm, test_mbuf_roundtrip);
	tcase_add_test(tm, test_mbuf_short);
	tcase_add_test(tm, test_mbuf_str);
	tcase_add_test(tm, test_mbuf_leftover);
	tcase_add_test(tm, test_mbuf_writer_errors);
	suite_add_tcase(s, tm);
	return s;
}
