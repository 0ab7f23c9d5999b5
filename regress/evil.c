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
 * A relay taken over, for regress/tests/privsep.sh: built into
 * build-evil/moatd-evil only (-DMOATD_EVIL), never into moatd.  Once its
 * first configuration is in, the relay stops being a relay and, from
 * inside its sandbox, with only what a relay holds, tries what code
 * running there could: forge, replay and stretch approvals, smuggle a
 * request in a body, write raw bytes after a refused upgrade, ask the ca
 * for raw RSA and the parent for a Docker connection.  It logs each
 * outcome as "evil: ..."; the test reads the log and the recording
 * backend's record.  It blocks (poll) while it works: no client is
 * served meanwhile.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "moatd.h"

#define EVIL_SID	0xe0000000U
#define WAIT_MS		3000

static struct chan	*e_parent, *e_policy, *e_fwd;
static struct event	*e_timer;
static uint64_t		 e_ctr = 1000000;
static uint32_t		 e_sid = EVIL_SID;

/* The next message of type on ch (others are dropped), or -1. */
static int
wait_msg(struct chan *ch, uint32_t type, uint32_t peerid, struct msg *m,
    int ms)
{
	struct pollfd	 pfd;
	ssize_t		 n;
	int		 rv;

	for (;;) {
		while ((rv = msg_get(&ch->mb, m)) == 1) {
			if (m->hdr.type == type && m->hdr.peerid == peerid)
				return 0;
			msg_free(m);
		}
		if (rv == -1)
			return -1;
		pfd.fd = ch->mb.fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, ms) <= 0)
			return -1;
		n = msgbuf_read(&ch->mb);
		if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR))
			return -1;
	}
}

static int
send_msg(struct chan *ch, uint32_t type, uint32_t peerid, const void *d,
    size_t len)
{
	if (msg_compose(&ch->mb, type, peerid, -1, d, len) == -1)
		return -1;
	return msgbuf_flush_sync(&ch->mb);
}

/* Ask the policy worker about head, as the relay does. */
static int
approval(const char *head, uint64_t *ctr, struct verdict *v)
{
	struct mbuf	 m, rd;
	struct msg	 ans;
	uint32_t	 sid = ++e_sid;
	int		 rv = -1;

	*ctr = ++e_ctr;
	mbuf_init(&m);
	(void)policy_req_encode(&m, head, strlen(head), *ctr, 0, NULL, 0);
	if (!m.err && send_msg(e_policy, MSG_POLICY_REQ, sid, m.buf,
	    m.len) == 0 && wait_msg(e_policy, MSG_POLICY_VERDICT, sid, &ans,
	    WAIT_MS) == 0) {
		mbuf_reader(&rd, ans.data, ans.datalen);
		if (verdict_decode(&rd, v) == 0 && v->kind == VERDICT_ALLOW &&
		    v->hasmac)
			rv = 0;
		msg_free(&ans);
	}
	mbuf_free(&m);
	if (rv == -1)
		log_warnx("evil: no approval for %.40s", head);
	return rv;
}

/*
 * Both round trips of a body the policy worker checks, as the relay makes
 * them: the head (VERDICT_BODY into *first), then head and body; *v is
 * the checked approval.  0, or -1.
 */
static int
approval_body(const char *head, const char *body, uint64_t *ctr,
    struct verdict *first, struct verdict *v)
{
	struct mbuf	 m, rd;
	struct msg	 ans;
	struct verdict	*out;
	uint32_t	 sid;
	int		 trip, rv = 0;

	for (trip = 0; trip < 2 && rv == 0; trip++) {
		out = trip == 0 ? first : v;
		sid = ++e_sid;
		*ctr = ++e_ctr;
		rv = -1;
		mbuf_init(&m);
		(void)policy_req_encode(&m, head, strlen(head), *ctr, trip,
		    trip ? body : NULL, trip ? strlen(body) : 0);
		if (!m.err && send_msg(e_policy, MSG_POLICY_REQ, sid, m.buf,
		    m.len) == 0 && wait_msg(e_policy, MSG_POLICY_VERDICT, sid,
		    &ans, WAIT_MS) == 0) {
			mbuf_reader(&rd, ans.data, ans.datalen);
			if (verdict_decode(&rd, out) == 0 && out->kind ==
			    (trip == 0 ? VERDICT_BODY : VERDICT_ALLOW))
				rv = 0;
			msg_free(&ans);
		}
		mbuf_free(&m);
	}
	if (rv == -1 || !v->checked || !v->hasmac) {
		log_warnx("evil: no checked approval for %.40s", head);
		return -1;
	}
	return 0;
}

/* A stream to Docker through the forwarder, or -1. */
static int
stream(void)
{
	struct msg	 m;
	uint32_t	 sid = ++e_sid;
	int		 fd;

	if (send_msg(e_fwd, MSG_FWD_OPEN, sid, NULL, 0) == -1 ||
	    wait_msg(e_fwd, MSG_FWD_STREAM, sid, &m, WAIT_MS) == -1)
		return -1;
	fd = m.fd;
	m.fd = -1;
	msg_free(&m);
	return fd;
}

static int
put(int fd, const void *buf, size_t len)
{
	struct pollfd	 pfd = { fd, POLLOUT, 0 };
	const uint8_t	*p = buf;
	ssize_t		 n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno != EAGAIN)
				return -1;
			if (poll(&pfd, 1, WAIT_MS) <= 0)
				return -1;
			continue;
		}
		p += n;
		len -= n;
	}
	return 0;
}

static int
frame(int fd, uint32_t type, const void *buf, size_t len)
{
	uint8_t	 hdr[FWD_HDRLEN];

	fwd_frame_hdr(hdr, type, len);
	return put(fd, hdr, sizeof(hdr)) == -1 || put(fd, buf, len) == -1 ?
	    -1 : 0;
}

/*
 * A head frame: v's head (or another), a proof (v's single-use one, or
 * its reusable one when ctr is a reusable counter), counter ctr; tweak,
 * if not NULL, changes the frame before it goes.
 */
static int
head_x(int fd, const struct verdict *v, uint64_t ctr, const char *other,
    void (*tweak)(struct fwd_head *))
{
	struct fwd_head	 h;
	struct mbuf	 m;
	char		*hb;
	int		 rv;

	memset(&h, 0, sizeof(h));
	if ((hb = verdict_head(v, &h.headlen)) == NULL)
		return -1;
	h.ctr = ctr;
	h.framing = v->framing;
	h.length = v->framing == FRAMING_LENGTH ? v->length : 0;
	h.upgrade = v->hijack != 0;
	h.checked = v->checked != 0;
	memcpy(h.bodysum, v->bodysum, FWD_SUMLEN);
	h.head = other != NULL ? other : hb;
	if (other != NULL)
		h.headlen = strlen(other);
	memcpy(h.mac, FWD_IS_REUSABLE(ctr) ? v->rmac : v->mac, FWD_MACLEN);
	if (tweak != NULL)
		tweak(&h);
	mbuf_init(&m);
	rv = fwd_head_encode(&m, &h) == 0 ? frame(fd, FWD_HEAD, m.buf, m.len) :
	    -1;
	mbuf_free(&m);
	free(hb);
	return rv;
}

static int
head(int fd, const struct verdict *v, uint64_t ctr, const char *other)
{
	return head_x(fd, v, ctr, other, NULL);
}

/* What Docker sent back within the wait: >0 bytes, 0 closed, -1 none. */
static ssize_t
answer(int fd, char *buf, size_t len)
{
	struct pollfd	 pfd = { fd, POLLIN, 0 };
	ssize_t		 n;

	if (poll(&pfd, 1, WAIT_MS) <= 0)
		return -1;
	if ((n = read(fd, buf, len - 1)) >= 0)
		buf[n] = '\0';
	return n;
}

/* Has the forwarder closed this stream?  Reads up to the close. */
static const char *
closed(int fd)
{
	char	 buf[4096];
	ssize_t	 n;

	while ((n = answer(fd, buf, sizeof(buf))) > 0)
		;
	return n == 0 ? "stream closed" : "stream still open";
}

static void
report(const char *what, const char *outcome)
{
	log_warnx("evil: %s: %s", what, outcome);
}

/* Every descriptor of ours with a named unix peer (docker.sock is). */
static void
scan_fds(const char *when)
{
	struct sockaddr_un	 sun;
	socklen_t		 len;
	int			 fd, n = 0;

	for (fd = 0; fd < 4096; fd++) {
		len = sizeof(sun);
		memset(&sun, 0, sizeof(sun));
		if (getpeername(fd, (struct sockaddr *)&sun, &len) == -1)
			continue;
		n++;
		if (sun.sun_family == AF_UNIX && sun.sun_path[0] != '\0')
			log_warnx("evil: fd %d is connected to %s", fd,
			    sun.sun_path);
	}
	log_warnx("evil: %s: %d connected sockets, none named above is "
	    "Docker's", when, n);
}

static void
genuine_and_replay(void)
{
	struct verdict	 v;
	uint64_t	 ctr;
	char		 buf[4096];
	int		 fd;

	if (approval("GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n", &ctr, &v) ==
	    -1 || (fd = stream()) == -1)
		return;
	head(fd, &v, ctr, NULL);
	report("genuine approval", answer(fd, buf, sizeof(buf)) > 0 &&
	    strncmp(buf, "HTTP/1.1 200", 12) == 0 ? "Docker answered" :
	    "no answer");
	head(fd, &v, ctr, NULL);
	report("replayed approval", closed(fd));
	close(fd);
	/* The proof, on other bytes, under a fresh counter. */
	if ((fd = stream()) == -1)
		return;
	head(fd, &v, ctr + 1, "POST /containers/create HTTP/1.1\r\n"
	    "Host: docker\r\n\r\n");
	report("forged head", closed(fd));
	close(fd);
	verdict_clear(&v);
}

static void
bodies(void)
{
	static const char smuggled[] = "helloGET /evil-smuggled HTTP/1.1\r\n"
	    "Host: x\r\n\r\n";
	static const char chunk[] = "0\r\n\r\nGET /evil-chunked HTTP/1.1\r\n"
	    "Host: x\r\n\r\n";
	struct verdict	 v;
	uint64_t	 ctr;
	char		 buf[4096];
	int		 fd;

	if (approval("POST /containers/evil/wait HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 5\r\n\r\n", &ctr, &v) == -1 ||
	    (fd = stream()) == -1)
		return;
	head(fd, &v, ctr, NULL);
	frame(fd, FWD_DATA, smuggled, sizeof(smuggled) - 1);
	report("body beyond its length", closed(fd));
	close(fd);
	verdict_clear(&v);
	if (approval("POST /containers/evil/wait HTTP/1.1\r\nHost: x\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", &ctr, &v) == -1 ||
	    (fd = stream()) == -1)
		return;
	head(fd, &v, ctr, NULL);
	frame(fd, FWD_DATA, chunk, sizeof(chunk) - 1);
	frame(fd, FWD_END, "", 0);
	report("chunk that frames a request", answer(fd, buf,
	    sizeof(buf)) > 0 && strncmp(buf, "HTTP/1.1 200", 12) == 0 ?
	    "Docker answered one request" : "no answer");
	close(fd);
	verdict_clear(&v);
}

static int	ok200(int);

static void
unchecked(struct fwd_head *h)
{
	h->checked = 0;
	memset(h->bodysum, 0, sizeof(h->bodysum));
}

/*
 * Bodies the policy worker checks (issue 12): the forwarder sends one
 * only with the bytes the worker read, and a relay cannot make an
 * approval for such a head any other way.
 */
static void
checked_bodies(void)
{
	static const char hd[] = "POST /v1.47/containers/create HTTP/1.1\r\n"
	    "Host: x\r\nContent-Type: application/json\r\n"
	    "Content-Length: 37\r\n\r\n";
	static const char good[] = "{\"Image\":\"alpine\",\"Cmd\":[\"truetrue\"]}";
	static const char evil[] = "{\"Image\":\"a\",\"Privileged\":true      }";
	struct verdict	 first, v;
	uint64_t	 ctr;
	int		 fd;

	_Static_assert(sizeof(good) == sizeof(evil), "the same length");
	if (approval_body(hd, good, &ctr, &first, &v) == -1 ||
	    (fd = stream()) == -1)
		return;
	head(fd, &v, ctr, NULL);
	frame(fd, FWD_DATA, good, sizeof(good) - 1);
	report("checked body", ok200(fd) ? "Docker answered" :
	    "not answered");
	close(fd);
	verdict_clear(&v);
	verdict_clear(&first);
	/* Approved for one body, sent with another of its length. */
	if (approval_body(hd, good, &ctr, &first, &v) == -1 ||
	    (fd = stream()) == -1)
		return;
	head(fd, &v, ctr, NULL);
	frame(fd, FWD_DATA, evil, sizeof(evil) - 1);
	report("checked body swapped", closed(fd));
	close(fd);
	/* The same approval, said to be of no checked body. */
	if ((fd = stream()) == -1)
		return;
	head_x(fd, &v, ctr + 1000, NULL, unchecked);
	frame(fd, FWD_DATA, evil, sizeof(evil) - 1);
	report("checked approval as an unchecked one", closed(fd));
	close(fd);
	verdict_clear(&v);
	/* "Send me the body" has no proof: its head goes nowhere. */
	if ((fd = stream()) == -1)
		return;
	head(fd, &first, ++e_ctr, NULL);
	frame(fd, FWD_DATA, evil, sizeof(evil) - 1);
	report("head of a body not yet checked", closed(fd));
	close(fd);
	verdict_clear(&first);
}

static void
upgrades(void)
{
	static const char raw[] = "GET /evil-raw HTTP/1.1\r\nHost: x\r\n\r\n";
	struct verdict	 v;
	uint64_t	 ctr;
	char		 buf[4096];
	int		 fd;

	if (approval("POST /containers/evil/attach?fake=no-upgrade "
	    "HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n"
	    "\r\n", &ctr, &v) == -1 || (fd = stream()) == -1)
		return;
	head(fd, &v, ctr, NULL);
	report("upgrade answered", answer(fd, buf, sizeof(buf)) > 0 ?
	    (strncmp(buf, "HTTP/1.1 200", 12) == 0 ? "200" : buf) : "no");
	frame(fd, FWD_DATA, raw, sizeof(raw) - 1);
	report("raw bytes after a 200", closed(fd));
	close(fd);
	verdict_clear(&v);
	/* And the genuine article still works. */
	if (approval("POST /containers/evil/attach?fake=upgrade HTTP/1.1\r\n"
	    "Host: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n", &ctr,
	    &v) == -1 || (fd = stream()) == -1)
		return;
	head(fd, &v, ctr, NULL);
	if (answer(fd, buf, sizeof(buf)) > 0 &&
	    strncmp(buf, "HTTP/1.1 101", 12) == 0 &&
	    frame(fd, FWD_DATA, "ping", 4) == 0 &&
	    answer(fd, buf, sizeof(buf)) == 4 && memcmp(buf, "ping", 4) == 0)
		report("raw bytes after a 101", "echoed");
	else
		report("raw bytes after a 101", "not echoed");
	close(fd);
	verdict_clear(&v);
}

static void
with_body(struct fwd_head *h)
{
	h->framing = FRAMING_LENGTH;
	h->length = 5;
}

static void
as_upgrade(struct fwd_head *h)
{
	h->upgrade = 1;
}

/* Did Docker answer 200 on fd? */
static int
ok200(int fd)
{
	char	 buf[4096];

	return answer(fd, buf, sizeof(buf)) > 0 &&
	    strncmp(buf, "HTTP/1.1 200", 12) == 0;
}

/*
 * Reusable approvals (fwd.h): good any number of times for their own
 * bodiless head, for nothing else, and not after a reload.
 */
static void
reusable(void)
{
	static const char ping[] = "GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n";
	struct verdict	 v, nv;
	struct msg	 m;
	uint64_t	 ctr, rctr;
	int		 fd, a, b;

	if (approval(ping, &ctr, &v) == -1)
		return;
	if (!v.reusable) {
		report("reusable approval", "none given");
		verdict_clear(&v);
		return;
	}
	rctr = FWD_REUSE_CTR(v.rgen);
	if ((fd = stream()) == -1)
		return;
	head(fd, &v, rctr, NULL);
	a = ok200(fd);
	head(fd, &v, rctr, NULL);
	b = ok200(fd);
	report("reusable approval twice", a && b ? "Docker answered twice" :
	    "not answered");
	close(fd);
	if ((fd = stream()) == -1)
		return;
	head_x(fd, &v, rctr, NULL, with_body);
	frame(fd, FWD_DATA, "hello", 5);
	report("reusable approval with a body", closed(fd));
	close(fd);
	if ((fd = stream()) == -1)
		return;
	head_x(fd, &v, rctr, NULL, as_upgrade);
	report("reusable approval as an upgrade", closed(fd));
	close(fd);
	/* One proof for the other: the MAC domains differ. */
	if ((fd = stream()) == -1)
		return;
	memcpy(v.mac, v.rmac, FWD_MACLEN);
	head(fd, &v, ctr, NULL);		/* ctr: unused so far */
	report("reusable proof as a single-use one", closed(fd));
	close(fd);
	if (approval(ping, &ctr, &nv) == -1 || (fd = stream()) == -1)
		return;
	memcpy(nv.rmac, nv.mac, FWD_MACLEN);
	head(fd, &nv, FWD_REUSE_CTR(nv.rgen), NULL);
	report("single-use proof as a reusable one", closed(fd));
	close(fd);
	verdict_clear(&nv);
	log_warnx("evil: waiting for a reload");
	if (wait_msg(e_parent, MSG_CFG_DONE, v.rgen + 1, &m, 30000) == -1) {
		report("reusable approval after a reload", "no reload came");
		verdict_clear(&v);
		return;
	}
	msg_free(&m);
	/* We do not ack: the forwarder gets the new rules all the same. */
	(void)poll(NULL, 0, 2500);
	if ((fd = stream()) == -1)
		return;
	head(fd, &v, rctr, NULL);
	report("reusable approval after a reload", closed(fd));
	close(fd);
	verdict_clear(&v);
	/* The harness is sound: a fresh one of the new rules works. */
	if (approval(ping, &ctr, &nv) == -1 || (fd = stream()) == -1)
		return;
	head(fd, &nv, FWD_REUSE_CTR(nv.rgen), NULL);
	report("reusable approval of the new rules", ok200(fd) ?
	    "Docker answered" : "not answered");
	close(fd);
	verdict_clear(&nv);
}

static void
backend_req(void)
{
	struct msg	 m;

	log_warnx("evil: done");
	/* The parent kills us for this; if it answered, say so. */
	if (send_msg(e_parent, MSG_BACKEND_REQ, ++e_sid, NULL, 0) == 0 &&
	    wait_msg(e_parent, MSG_BACKEND_FD, e_sid, &m, WAIT_MS) == 0) {
		report("Docker connection from the parent", m.fd != -1 ?
		    "GIVEN" : "refused");
		msg_free(&m);
	}
}

static void
evil_run(int fd, short ev, void *arg)
{
	static int	 waited;
	struct timeval	 tv = { 1, 0 };

	/* The test makes a TLS handshake first: the ca has a key for us. */
	if (!evil_ca_known() && waited++ < 30) {
		evtimer_add(e_timer, &tv);
		return;
	}
	/* Each line out at once: the parent kills us at the end. */
	log_batch(NULL);
	scan_fds("before");
	genuine_and_replay();
	bodies();
	checked_bodies();
	upgrades();
	reusable();
	report("raw RSA from the ca", evil_ca_raw() == -1 ? "refused" :
	    "SIGNED");
	scan_fds("after");
	backend_req();
}

void
evil_start(struct event_base *base, struct chan *parent, struct chan *policy,
    struct chan *fwd)
{
	struct timeval	 tv = { 1, 0 };

	if (e_timer != NULL)
		return;
	e_parent = parent;
	e_policy = policy;
	e_fwd = fwd;
	if ((e_timer = evtimer_new(base, evil_run, NULL)) == NULL)
		fatalx("%s", __func__);
	evtimer_add(e_timer, &tv);
}
