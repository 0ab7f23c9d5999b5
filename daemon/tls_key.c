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
 * The relay's private keys are not keys: each is the public half of a
 * certificate's key with an RSA_METHOD or EC_KEY_METHOD (and for RSA an
 * EVP_PKEY_METHOD: see pkey_rsa_sign) whose signing asks the relay's ca
 * process (ca.c) by message and waits for the answer, as relayd and
 * OpenSMTPD do.  A relay that is taken over can have things signed while
 * it lives, but never holds the key.
 *
 * These method APIs are deprecated in OpenSSL 3 but work: OpenSSL sees a
 * key with a method of its own as "foreign" and keeps it on the legacy
 * path.  An OpenSSL 3 provider would do the same in ten times the code;
 * this file is compiled with -Wno-deprecated-declarations instead.
 *
 * A relay's handshakes run in OpenSSL ASYNC jobs (SSL_MODE_ASYNC,
 * tls_accept.c) whose wait context has a callback: the signing sends its
 * request and pauses the job, and the relay's loop goes on with other
 * clients.  The answer, read from the channel by that loop and matched
 * to its request by id, wakes the job through the callback; the job
 * then returns the signature to OpenSSL.  Any number of handshakes wait
 * at once, each for its own answer, and nothing bounds the wait but the
 * handshake's own timeout ("timeout head").  No descriptor is made per
 * handshake: the callback needs none.
 *
 * Outside such a job (the forwarder's client certificate to Docker) the
 * call is synchronous with a deadline, CA_TIMEOUT_MS.  Replies carry the
 * request's id either way; a late answer to an abandoned request is
 * dropped.
 */

#include <sys/types.h>
#include <sys/queue.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include <openssl/async.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "moatd.h"

/*
 * A signature a paused job waits for: on that job's stack, listed here
 * until its answer comes (or the channel goes), then woken.
 */
struct ca_wait {
	TAILQ_ENTRY(ca_wait)	 entry;
	uint32_t		 id;
	ASYNC_callback_fn	 wake;
	void			*wakearg;
	uint8_t			*out;
	size_t			 outmax;
	int			 n;	/* the signature's length, or -1 */
	int			 done;
};

static struct msgbuf	 cab = { .fd = -1 };
static uint32_t		 nextid;
static TAILQ_HEAD(, ca_wait) waits = TAILQ_HEAD_INITIALIZER(waits);
static struct event_base *cabase;	/* the relay's: signing can wait */
static struct event	*carev, *cawev;
static RSA_METHOD	*rsa_meth;
static EC_KEY_METHOD	*ec_meth;
static int		 rsa_idx = -1, ec_idx = -1;
#ifdef MOATD_EVIL
static const uint8_t	*evil_keyid;
#endif
static int		(*rsa_sign_orig)(EVP_PKEY_CTX *, unsigned char *,
			    size_t *, const unsigned char *, size_t);

/* A paused job's answer (n: its length, or -1): it goes on. */
static void
wait_end(struct ca_wait *w, int n)
{
	TAILQ_REMOVE(&waits, w, entry);
	w->n = n;
	w->done = 1;
	(void)w->wake(w->wakearg);
}

static void
ca_events_free(void)
{
	if (carev != NULL)
		event_free(carev);
	if (cawev != NULL)
		event_free(cawev);
	carev = cawev = NULL;
}

/* The channel is gone: every job waiting on it fails. */
static void
ca_close(void)
{
	ca_events_free();
	if (cab.fd != -1) {
		close(cab.fd);
		msgbuf_clear(&cab);
		cab.fd = -1;
	}
	while (!TAILQ_EMPTY(&waits))
		wait_end(TAILQ_FIRST(&waits), -1);
}

/* An answer's signature copied to out: its length, or -1. */
static int
reply_take(struct msg *m, uint8_t *out, size_t outmax)
{
	struct mbuf	 r;
	const void	*sig;
	size_t		 siglen;
	uint32_t	 ok;

	mbuf_reader(&r, m->data, m->datalen);
	if (mbuf_get_u32(&r, &ok) == -1 ||
	    mbuf_get_data(&r, &sig, &siglen) == -1 || mbuf_end(&r) == -1)
		fatalx("bad answer from the ca");
	if (ok && siglen > 0 && siglen <= outmax) {
		memcpy(out, sig, siglen);
		return siglen;
	}
	log_warnx("the ca could not sign (see its log)");
	return -1;
}

/*
 * The next answer on the channel: 1 (in *m), 0 none yet.  Answers to
 * paused jobs go to them here; those to requests given up on are dropped.
 */
static int
reply_next(struct msg *m, uint32_t id)
{
	struct ca_wait	*w;
	int		 rv;

	while ((rv = msg_get(&cab, m)) == 1) {
		if (m->hdr.type != MSG_CA_RES)
			fatalx("unexpected message %u from the ca",
			    m->hdr.type);
		if (m->hdr.peerid == id && id != 0)
			return 1;
		TAILQ_FOREACH(w, &waits, entry)
			if (w->id == m->hdr.peerid)
				break;
		if (w != NULL)
			wait_end(w, reply_take(m, w->out, w->outmax));
		msg_free(m);
	}
	if (rv == -1)
		fatalx("protocol error on the ca channel");
	return 0;
}

static void
ca_read_cb(int fd, short ev, void *arg)
{
	struct msg	 m;
	ssize_t		 n;
	int		 saved;

	n = msgbuf_read(&cab);
	saved = errno;
	if (n == -1 && (saved == EAGAIN || saved == EINTR))
		return;
	(void)reply_next(&m, 0);
	if (n == 0 || (n == -1 && saved != ENOBUFS)) {
		log_warnx("the channel to the ca closed");
		ca_close();
	}
}

static void
ca_write_cb(int fd, short ev, void *arg)
{
	switch (msgbuf_flush(&cab)) {
	case 1:
		return;
	case 0:
		event_add(cawev, NULL);
		return;
	default:
		log_warn("the channel to the ca");
		ca_close();
	}
}

static void
ca_events(void)
{
	carev = event_new(cabase, cab.fd, EV_READ | EV_PERSIST, ca_read_cb,
	    NULL);
	cawev = event_new(cabase, cab.fd, EV_WRITE, ca_write_cb, NULL);
	if (carev == NULL || cawev == NULL)
		fatalx("%s: event_new", __func__);
	event_add(carev, NULL);
}

void
tls_key_set_ca(int fd)
{
	ca_close();
	msgbuf_init(&cab, fd, 0);
	if (cabase != NULL && fd != -1)
		ca_events();
}

void
tls_key_attach(struct event_base *base)
{
	if (cabase == base)
		return;
	ca_events_free();
	cabase = base;
	if (cab.fd != -1)
		ca_events();
}

static long
ms_left(const struct timespec *deadline)
{
	struct timespec	 now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (deadline->tv_sec - now.tv_sec) * 1000 +
	    (deadline->tv_nsec - now.tv_nsec) / 1000000;
}

/*
 * Queue rq with id for the ca.  On the relay's loop it goes out at the
 * end of this loop pass, with the others of the pass in one sendmsg;
 * else at once.  0, or -1.
 */
static int
ca_send(const struct ca_req *rq, uint32_t id)
{
	struct mbuf	 m;
	int		 rv;

	mbuf_init(&m);
	ca_req_encode(&m, rq);
	rv = m.err || msg_compose(&cab, MSG_CA_REQ, id, -1, m.buf, m.len) ==
	    -1 ? -1 : 0;
	mbuf_free(&m);
	if (rv == 0 && cawev == NULL)
		rv = msgbuf_flush_sync(&cab);
	else if (rv == 0 && !event_pending(cawev, EV_WRITE, NULL))
		event_active(cawev, EV_WRITE, 1);
	if (rv == -1)
		log_warn("cannot ask the ca");
	return rv;
}

/* Send rq to the ca and wait for its answer: its length, or -1. */
static int
ca_exchange(const struct ca_req *rq, uint8_t *out, size_t outmax)
{
	struct timespec	 deadline;
	struct pollfd	 pfd;
	struct msg	 m;
	uint32_t	 id;
	ssize_t		 r;
	long		 left;
	int		 n;

	if ((id = ++nextid) == 0)
		id = ++nextid;
	if (ca_send(rq, id) == -1)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += CA_TIMEOUT_MS / 1000;
	for (;;) {
		if (cawev != NULL && msgbuf_flush_sync(&cab) == -1) {
			log_warn("cannot ask the ca");
			return -1;
		}
		if (reply_next(&m, id)) {
			n = reply_take(&m, out, outmax);
			msg_free(&m);
			return n;
		}
		if ((left = ms_left(&deadline)) <= 0) {
			log_warnx("the ca did not answer within %d ms",
			    CA_TIMEOUT_MS);
			return -1;
		}
		pfd.fd = cab.fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, (int)left) == -1 && errno != EINTR)
			fatal("poll");
		if ((r = msgbuf_read(&cab)) == 0 || (r == -1 &&
		    errno != EAGAIN && errno != EINTR && errno != ENOBUFS)) {
			log_warnx("the channel to the ca closed");
			ca_close();
			return -1;
		}
	}
}

/*
 * In an ASYNC job whose wait context has a callback (a relay's
 * handshake): ask, pause the job until the answer wakes it, and return
 * the signature's length or -1.  -2 when this is no such job.
 *
 * The job is resumed for its answer and for nothing else, but for one
 * case: a handshake given up on (its timeout, tls_accept.c) is resumed
 * once, without one, so that it ends; the request is then abandoned.
 */
static int
ca_async(const struct ca_req *rq, uint8_t *out, size_t outmax)
{
	ASYNC_JOB	*job;
	ASYNC_WAIT_CTX	*wctx;
	struct ca_wait	 w;

	memset(&w, 0, sizeof(w));
	if (cawev == NULL || (job = ASYNC_get_current_job()) == NULL ||
	    (wctx = ASYNC_get_wait_ctx(job)) == NULL ||
	    ASYNC_WAIT_CTX_get_callback(wctx, &w.wake, &w.wakearg) != 1 ||
	    w.wake == NULL)
		return -2;
	if ((w.id = ++nextid) == 0)
		w.id = ++nextid;
	w.out = out;
	w.outmax = outmax;
	if (ca_send(rq, w.id) == -1)
		return -1;
	TAILQ_INSERT_TAIL(&waits, &w, entry);
	if (ASYNC_pause_job() != 1 || !w.done) {
		if (!w.done)
			TAILQ_REMOVE(&waits, &w, entry);
		return -1;
	}
	return w.n;
}

static int
ca_call(const struct ca_req *rq, uint8_t *out, size_t outmax)
{
	int	 n;

	if (cab.fd == -1 || rq->keyid == NULL || rq->inlen > CA_DIGEST_MAX) {
		log_warnx("private key operation: %s", cab.fd == -1 ?
		    "no channel to the ca" : "bad request");
		return -1;
	}
#ifdef MOATD_EVIL
	evil_keyid = rq->keyid;
#endif
	if ((n = ca_async(rq, out, outmax)) != -2)
		return n;
	return ca_exchange(rq, out, outmax);
}

#ifdef MOATD_EVIL
/*
 * regress/evil.c: what the ca did with a raw RSA request (op 1, a whole
 * block) for the last key used: -1 refused, 0 signed, -2 no key yet.
 */
int
evil_ca_known(void)
{
	return evil_keyid != NULL;
}

int
evil_ca_raw(void)
{
	struct ca_req	 rq;
	uint8_t		 block[256], out[CA_INPUT_MAX];

	if (evil_keyid == NULL || cab.fd == -1)
		return -2;
	memset(&rq, 0, sizeof(rq));
	memset(block, 0x5a, sizeof(block));
	rq.op = 1;
	rq.keyid = evil_keyid;
	rq.in = block;
	rq.inlen = sizeof(block);
	return ca_exchange(&rq, out, sizeof(out)) > 0 ? 0 : -1;
}
#endif

/*
 * RSA signatures: the ca pads, so it gets the digest, the hash's name
 * and the scheme, never a block to put through the key (ca.c).  An
 * RSA_METHOD alone cannot do that: OpenSSL pads PSS (all TLS 1.3 RSA
 * signatures) itself and hands the method only the padded block.  So
 * for RSA keys the EVP_PKEY_METHOD is ours too: OpenSSL 3 still looks up
 * an application's method for a key it sees as foreign (ours, with its
 * RSA_METHOD), and its sign gets the digest and the context's padding,
 * hash, MGF1 hash and salt length.  TLS 1.2 and 1.3, PKCS#1 and PSS, all
 * come this way (regress/tests/tls.sh).  Keys that are not our proxies go
 * to OpenSSL's own sign.
 */
static int
rsa_pss_saltlen(EVP_PKEY_CTX *ctx, const EVP_MD *md, uint32_t *saltlen)
{
	const EVP_MD	*mgf1 = NULL;
	int		 n;

	if (EVP_PKEY_CTX_get_rsa_mgf1_md(ctx, &mgf1) <= 0 || mgf1 == NULL ||
	    EVP_MD_get_type(mgf1) != EVP_MD_get_type(md) ||
	    EVP_PKEY_CTX_get_rsa_pss_saltlen(ctx, &n) <= 0)
		return -1;
	if (n == RSA_PSS_SALTLEN_DIGEST)
		n = EVP_MD_get_size(md);
	if (n < 0)
		return -1;	/* "as long as fits": not in TLS */
	*saltlen = n;
	return 0;
}

static int
pkey_rsa_sign(EVP_PKEY_CTX *ctx, unsigned char *sig, size_t *siglen,
    const unsigned char *tbs, size_t tbslen)
{
	struct ca_req	 rq;
	EVP_PKEY	*pkey = EVP_PKEY_CTX_get0_pkey(ctx);
	const RSA	*rsa;
	const EVP_MD	*md = NULL;
	int		 pad, n;

	if (pkey == NULL || (rsa = EVP_PKEY_get0_RSA(pkey)) == NULL ||
	    RSA_get_method(rsa) != rsa_meth)
		return rsa_sign_orig(ctx, sig, siglen, tbs, tbslen);
	if (sig == NULL) {
		*siglen = RSA_size(rsa);
		return 1;
	}
	memset(&rq, 0, sizeof(rq));
	rq.keyid = RSA_get_ex_data(rsa, rsa_idx);
	rq.in = tbs;
	rq.inlen = tbslen;
	if (EVP_PKEY_CTX_get_rsa_padding(ctx, &pad) <= 0 ||
	    EVP_PKEY_CTX_get_signature_md(ctx, &md) <= 0 || md == NULL) {
		log_warnx("RSA signature without a hash; refused");
		return -1;
	}
	rq.md = EVP_MD_get_type(md);
	if (pad == RSA_PKCS1_PADDING)
		rq.op = CA_OP_RSA_PKCS1;
	else if (pad != RSA_PKCS1_PSS_PADDING) {
		log_warnx("RSA signature with padding %d; refused", pad);
		return -1;
	} else if (rsa_pss_saltlen(ctx, md, &rq.saltlen) == -1) {
		log_warnx("RSA-PSS with an MGF1 hash or salt length TLS "
		    "does not use; refused");
		return -1;
	} else
		rq.op = CA_OP_RSA_PSS;
	if (*siglen < (size_t)RSA_size(rsa) ||
	    (n = ca_call(&rq, sig, RSA_size(rsa))) <= 0)
		return -1;
	*siglen = n;
	return 1;
}

/* Raw RSA and decryption (RSA key exchange): never (see ca.c). */
static int
rsa_priv_enc(int flen, const unsigned char *from, unsigned char *to,
    RSA *rsa, int padding)
{
	log_warnx("a raw RSA private operation was asked for; refused");
	return -1;
}

static int
rsa_priv_dec(int flen, const unsigned char *from, unsigned char *to,
    RSA *rsa, int padding)
{
	log_warnx("a client asked for RSA key exchange; refused");
	return -1;
}

static int
ec_sign(int type, const unsigned char *dgst, int dlen, unsigned char *sig,
    unsigned int *siglen, const BIGNUM *kinv, const BIGNUM *r,
    EC_KEY *eckey)
{
	struct ca_req	 rq;
	int		 n;

	if (dlen <= 0)
		return 0;
	memset(&rq, 0, sizeof(rq));
	rq.op = CA_OP_ECDSA_SIGN;
	rq.keyid = EC_KEY_get_ex_data(eckey, ec_idx);
	rq.in = dgst;
	rq.inlen = dlen;
	n = ca_call(&rq, sig, ECDSA_size(eckey));
	if (n <= 0)
		return 0;
	*siglen = n;
	return 1;
}

static ECDSA_SIG *
ec_sign_sig(const unsigned char *dgst, int dlen, const BIGNUM *kinv,
    const BIGNUM *r, EC_KEY *eckey)
{
	const unsigned char	*p;
	unsigned char		 sig[256];
	unsigned int		 siglen;

	if (ECDSA_size(eckey) > (int)sizeof(sig) ||
	    ec_sign(0, dgst, dlen, sig, &siglen, kinv, r, eckey) != 1)
		return NULL;
	p = sig;
	return d2i_ECDSA_SIG(NULL, &p, siglen);
}

/* OpenSSL's RSA EVP_PKEY_METHOD with our sign (pkey_rsa_sign). */
static void
pkey_meth_init(void)
{
	const EVP_PKEY_METHOD	*orig;
	EVP_PKEY_METHOD		*pm;
	int			(*init)(EVP_PKEY_CTX *);

	if ((orig = EVP_PKEY_meth_find(EVP_PKEY_RSA)) == NULL ||
	    (pm = EVP_PKEY_meth_new(EVP_PKEY_RSA, 0)) == NULL)
		fatalx("%s: RSA EVP_PKEY_METHOD", __func__);
	EVP_PKEY_meth_copy(pm, orig);
	EVP_PKEY_meth_get_sign(orig, &init, &rsa_sign_orig);
	if (rsa_sign_orig == NULL)
		fatalx("%s: no RSA sign", __func__);
	EVP_PKEY_meth_set_sign(pm, init, pkey_rsa_sign);
	if (EVP_PKEY_meth_add0(pm) != 1)
		fatalx("%s: EVP_PKEY_meth_add0", __func__);
}

static void
keyid_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
    void *argp)
{
	free(ptr);
}

void
tls_key_init(void)
{
	int	(*sign)(int, const unsigned char *, int, unsigned char *,
		    unsigned int *, const BIGNUM *, const BIGNUM *, EC_KEY *);
	int	(*setup)(EC_KEY *, BN_CTX *, BIGNUM **, BIGNUM **);
	ECDSA_SIG *(*sign_sig)(const unsigned char *, int, const BIGNUM *,
		    const BIGNUM *, EC_KEY *);

	if ((rsa_meth = RSA_meth_dup(RSA_PKCS1_OpenSSL())) == NULL ||
	    RSA_meth_set1_name(rsa_meth, "moatd ca") != 1 ||
	    RSA_meth_set_priv_enc(rsa_meth, rsa_priv_enc) != 1 ||
	    RSA_meth_set_priv_dec(rsa_meth, rsa_priv_dec) != 1)
		fatalx("%s: RSA method", __func__);
	pkey_meth_init();
	if ((ec_meth = EC_KEY_METHOD_new(EC_KEY_OpenSSL())) == NULL)
		fatalx("%s: EC method", __func__);
	EC_KEY_METHOD_get_sign(ec_meth, &sign, &setup, &sign_sig);
	EC_KEY_METHOD_set_sign(ec_meth, ec_sign, setup, ec_sign_sig);
	rsa_idx = RSA_get_ex_new_index(0, NULL, NULL, NULL, keyid_free);
	ec_idx = EC_KEY_get_ex_new_index(0, NULL, NULL, NULL, keyid_free);
	if (rsa_idx == -1 || ec_idx == -1)
		fatalx("%s: ex_data index", __func__);
}

/* An EVP_PKEY around key (an RSA or EC_KEY of that type), or NULL. */
static EVP_PKEY *
pkey_wrap(int type, void *key)
{
	EVP_PKEY	*pkey;

	if ((pkey = EVP_PKEY_new()) == NULL)
		return NULL;
	if (EVP_PKEY_assign(pkey, type, key) != 1) {
		EVP_PKEY_free(pkey);
		return NULL;
	}
	return pkey;
}

/* A new RSA key with src's public half only. */
static RSA *
rsa_public(const RSA *src)
{
	RSA	*rsa;
	BIGNUM	*n = NULL, *e = NULL;

	if (src == NULL || (rsa = RSA_new()) == NULL)
		return NULL;
	if ((n = BN_dup(RSA_get0_n(src))) == NULL ||
	    (e = BN_dup(RSA_get0_e(src))) == NULL ||
	    RSA_set0_key(rsa, n, e, NULL) != 1) {
		BN_free(n);
		BN_free(e);
		RSA_free(rsa);
		return NULL;
	}
	return rsa;
}

/*
 * The public key pub, with our method (signatures by the ca) and the
 * key's id attached, as an EVP_PKEY of its type; NULL on failure, when
 * id stays the caller's.
 */
static EVP_PKEY *
proxy_key(const EVP_PKEY *pub, uint8_t *id)
{
	int		 type = EVP_PKEY_get_base_id(pub), ok = 0;
	RSA		*rsa = NULL;
	EC_KEY		*ec = NULL;
	EVP_PKEY	*pkey;
	const EC_KEY	*ecsrc;

	if (type == EVP_PKEY_RSA)
		ok = (rsa = rsa_public(EVP_PKEY_get0_RSA(pub))) != NULL &&
		    RSA_set_method(rsa, rsa_meth) == 1 &&
		    RSA_set_ex_data(rsa, rsa_idx, id) == 1;
	else if (type == EVP_PKEY_EC)
		ok = (ecsrc = EVP_PKEY_get0_EC_KEY(pub)) != NULL &&
		    (ec = EC_KEY_dup(ecsrc)) != NULL &&
		    EC_KEY_set_method(ec, ec_meth) == 1 &&
		    EC_KEY_set_ex_data(ec, ec_idx, id) == 1;
	if (ok && (pkey = pkey_wrap(type, rsa != NULL ? (void *)rsa :
	    (void *)ec)) != NULL)
		return pkey;
	if (rsa != NULL) {
		(void)RSA_set_ex_data(rsa, rsa_idx, NULL);
		RSA_free(rsa);
	}
	if (ec != NULL) {
		(void)EC_KEY_set_ex_data(ec, ec_idx, NULL);
		EC_KEY_free(ec);
	}
	return NULL;
}

void *
tls_key_proxy(void *pubp)
{
	EVP_PKEY	*pub = pubp, *pkey;
	uint8_t		*id;

	if ((id = malloc(TLS_KEYID_LEN)) == NULL ||
	    tls_keyid(pub, id) == -1) {
		free(id);
		return NULL;
	}
	/* On success the key owns id (keyid_free); else it is ours. */
	if ((pkey = proxy_key(pub, id)) == NULL)
		free(id);
	ERR_clear_error();
	return pkey;
}
