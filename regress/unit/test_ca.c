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
 * Unit tests for what the ca signs (daemon/ca.c: ca_req_decode and
 * ca_sign, the whole of its answer but the key lookup and the channel).
 * The requests are built byte by byte, as a relay that was taken over
 * would send them.  The handshakes that use it are in regress/tests/tls.sh.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include <openssl/async.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "unit.h"
#include "moatd.h"

static EVP_PKEY	*rsa, *ec;
static uint8_t	 keyid[TLS_KEYID_LEN];

static void
keys_setup(void)
{
	rsa = EVP_RSA_gen(2048);
	ec = EVP_EC_gen("P-256");
	ck_assert_ptr_nonnull(rsa);
	ck_assert_ptr_nonnull(ec);
	memset(keyid, 0x5a, sizeof(keyid));
}

static void
keys_teardown(void)
{
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(ec);
}

/* The public half alone, as a client sees it. */
static EVP_PKEY *
public_of(EVP_PKEY *k)
{
	unsigned char	*der = NULL;
	const unsigned char *p;
	EVP_PKEY	*pub;
	int		 n;

	ck_assert_int_gt(n = i2d_PUBKEY(k, &der), 0);
	p = der;
	pub = d2i_PUBKEY(NULL, &p, n);
	OPENSSL_free(der);
	ck_assert_ptr_nonnull(pub);
	return pub;
}

/*
 * The wire bytes of a request, decoded by the ca and answered with key:
 * the signature's length, or -1 (then *why says why, and out stays as
 * it was).
 */
static int
ask(EVP_PKEY *key, uint32_t op, uint32_t md, uint32_t saltlen,
    const void *in, size_t inlen, uint8_t *out, size_t outmax,
    const char **why)
{
	struct mbuf	 m;
	struct ca_req	 rq;
	size_t		 outlen = outmax;
	int		 rv;

	mbuf_init(&m);
	mbuf_add_u32(&m, op);
	mbuf_add_data(&m, keyid, sizeof(keyid));
	mbuf_add_u32(&m, md);
	mbuf_add_u32(&m, saltlen);
	mbuf_add_data(&m, in, inlen);
	ck_assert_int_eq(m.err, 0);
	ck_assert_int_eq(ca_req_decode(m.buf, m.len, &rq), 0);
	ck_assert_mem_eq(rq.keyid, keyid, sizeof(keyid));
	rv = ca_sign(key, &rq, out, &outlen, why);
	mbuf_free(&m);
	if (rv == -1) {
		ck_assert_ptr_nonnull(*why);
		return -1;
	}
	ck_assert_ptr_null(*why);
	return (int)outlen;
}

static int
all_zero(const uint8_t *p, size_t n)
{
	while (n-- > 0)
		if (*p++ != 0)
			return 0;
	return 1;
}

/* A request that must be refused before the key is used. */
static void
refused(EVP_PKEY *key, uint32_t op, uint32_t md, uint32_t saltlen,
    const void *in, size_t inlen, const char *what)
{
	uint8_t		 sig[CA_INPUT_MAX];
	const char	*why = NULL;

	memset(sig, 0, sizeof(sig));
	ck_assert_msg(ask(key, op, md, saltlen, in, inlen, sig, sizeof(sig),
	    &why) == -1, "%s: signed", what);
	ck_assert_msg(strcmp(why, "signing failed") != 0,
	    "%s: refused only by the key operation", what);
	ck_assert_msg(all_zero(sig, sizeof(sig)), "%s: output written", what);
}

/* Sign msg's digest under scheme op and check it with the public key. */
static void
signs(EVP_PKEY *key, uint32_t op, const EVP_MD *md, const char *msg)
{
	EVP_MD_CTX	*vc;
	EVP_PKEY_CTX	*pc = NULL;
	EVP_PKEY	*pub;
	uint8_t		 sig[CA_INPUT_MAX], dg[EVP_MAX_MD_SIZE];
	unsigned int	 dglen;
	const char	*why = NULL;
	int		 n;

	ck_assert_int_eq(EVP_Digest(msg, strlen(msg), dg, &dglen, md, NULL),
	    1);
	n = ask(key, op, op == CA_OP_ECDSA_SIGN ? 0 : EVP_MD_get_type(md),
	    op == CA_OP_RSA_PSS ? dglen : 0, dg, dglen, sig, sizeof(sig),
	    &why);
	ck_assert_msg(n > 0, "%s %s: %s", EVP_MD_get0_name(md),
	    op == CA_OP_RSA_PSS ? "PSS" : "", why);
	pub = public_of(key);
	ck_assert_ptr_nonnull(vc = EVP_MD_CTX_new());
	ck_assert_int_eq(EVP_DigestVerifyInit(vc, &pc, md, NULL, pub), 1);
	if (op == CA_OP_RSA_PSS) {
		ck_assert_int_eq(EVP_PKEY_CTX_set_rsa_padding(pc,
		    RSA_PKCS1_PSS_PADDING), 1);
		/* TLS's rule: the salt is as long as the hash. */
		ck_assert_int_eq(EVP_PKEY_CTX_set_rsa_pss_saltlen(pc,
		    RSA_PSS_SALTLEN_DIGEST), 1);
	} else if (op == CA_OP_RSA_PKCS1)
		ck_assert_int_eq(EVP_PKEY_CTX_set_rsa_padding(pc,
		    RSA_PKCS1_PADDING), 1);
	ck_assert_msg(EVP_DigestVerify(vc, sig, n, (const void *)msg,
	    strlen(msg)) == 1, "%s: signature does not verify",
	    EVP_MD_get0_name(md));
	EVP_MD_CTX_free(vc);
	EVP_PKEY_free(pub);
}

START_TEST(test_ca_raw_rsa)
{
	uint8_t		 block[256];
	struct mbuf	 m;
	struct ca_req	 rq;

	/* What a relay sent before: op 1, RSA_NO_PADDING, a whole block. */
	memset(block, 0, sizeof(block));
	block[1] = 0x02;
	memset(block + 2, 0x33, sizeof(block) - 2);
	mbuf_init(&m);
	mbuf_add_u32(&m, 1);
	mbuf_add_data(&m, keyid, sizeof(keyid));
	mbuf_add_u32(&m, RSA_NO_PADDING);
	mbuf_add_data(&m, block, sizeof(block));
	ck_assert_int_eq(ca_req_decode(m.buf, m.len, &rq), -1);
	mbuf_free(&m);

	/* Op 1 (raw), in today's layout, with or without a hash named. */
	refused(rsa, 1, 0, 0, block, sizeof(block), "raw");
	refused(rsa, 1, NID_sha256, 0, block, 32, "raw, short");
	refused(rsa, 0, NID_sha256, 0, block, 32, "op 0");
	refused(rsa, 99, NID_sha256, 0, block, 32, "op 99");
	/* A block dressed as a signature request: no hash is 256 bytes. */
	refused(rsa, CA_OP_RSA_PKCS1, NID_sha256, 0, block, sizeof(block),
	    "PKCS#1 with a block");
	refused(rsa, CA_OP_RSA_PSS, NID_sha512, 256, block, sizeof(block),
	    "PSS with a block");
	refused(rsa, CA_OP_RSA_PKCS1, NID_undef, 0, block, sizeof(block),
	    "PKCS#1 without a hash");
	/* ECDSA's "digest" is bounded too. */
	refused(ec, CA_OP_ECDSA_SIGN, 0, 0, block, sizeof(block),
	    "ECDSA with a block");
}
END_TEST

START_TEST(test_ca_digest_length)
{
	uint8_t	 dg[65];

	memset(dg, 0xab, sizeof(dg));
	refused(rsa, CA_OP_RSA_PKCS1, NID_sha256, 0, dg, 31, "sha256, 31");
	refused(rsa, CA_OP_RSA_PKCS1, NID_sha256, 0, dg, 33, "sha256, 33");
	refused(rsa, CA_OP_RSA_PKCS1, NID_sha256, 0, dg, 48, "sha256, 48");
	refused(rsa, CA_OP_RSA_PKCS1, NID_sha512, 0, dg, 65, "sha512, 65");
	refused(rsa, CA_OP_RSA_PKCS1, NID_sha384, 0, dg, 0, "sha384, 0");
	refused(rsa, CA_OP_RSA_PSS, NID_sha256, 32, dg, 31, "PSS 31");
	refused(rsa, CA_OP_RSA_PSS, NID_sha384, 48, dg, 32, "PSS 384/32");
	refused(ec, CA_OP_ECDSA_SIGN, 0, 0, dg, 0, "ECDSA 0");
	refused(ec, CA_OP_ECDSA_SIGN, 0, 0, dg, 33, "ECDSA 33");
	refused(ec, CA_OP_ECDSA_SIGN, 0, 0, dg, 65, "ECDSA 65");
}
END_TEST

START_TEST(test_ca_hash_scheme)
{
	uint8_t	 dg[64];

	memset(dg, 0xcd, sizeof(dg));
	/* Not in a TLS 1.2 handshake at OpenSSL's security levels >= 1. */
	refused(rsa, CA_OP_RSA_PKCS1, NID_sha1, 0, dg, 20, "sha1");
	refused(rsa, CA_OP_RSA_PKCS1, NID_md5_sha1, 0, dg, 36, "md5-sha1");
	refused(rsa, CA_OP_RSA_PKCS1, NID_md5, 0, dg, 16, "md5");
	refused(rsa, CA_OP_RSA_PKCS1, 123456, 0, dg, 32, "no such hash");
	/* PSS as TLS has it: SHA-2 from 256, salt as long as the hash. */
	refused(rsa, CA_OP_RSA_PSS, NID_sha224, 28, dg, 28, "PSS sha224");
	refused(rsa, CA_OP_RSA_PSS, NID_sha1, 20, dg, 20, "PSS sha1");
	refused(rsa, CA_OP_RSA_PSS, NID_sha256, 0, dg, 32, "PSS salt 0");
	refused(rsa, CA_OP_RSA_PSS, NID_sha256, 64, dg, 32, "PSS salt 64");
	/* A scheme for the other kind of key. */
	refused(ec, CA_OP_RSA_PKCS1, NID_sha256, 0, dg, 32, "PKCS#1, EC key");
	refused(ec, CA_OP_RSA_PSS, NID_sha256, 32, dg, 32, "PSS, EC key");
	refused(rsa, CA_OP_ECDSA_SIGN, 0, 0, dg, 32, "ECDSA, RSA key");
}
END_TEST

START_TEST(test_ca_signs)
{
	signs(rsa, CA_OP_RSA_PKCS1, EVP_sha256(), "hello");
	signs(rsa, CA_OP_RSA_PKCS1, EVP_sha224(), "hello");
	signs(rsa, CA_OP_RSA_PKCS1, EVP_sha384(), "hello");
	signs(rsa, CA_OP_RSA_PKCS1, EVP_sha512(), "hello");
	signs(rsa, CA_OP_RSA_PSS, EVP_sha256(), "hello");
	signs(rsa, CA_OP_RSA_PSS, EVP_sha384(), "hello");
	signs(rsa, CA_OP_RSA_PSS, EVP_sha512(), "hello");
	signs(ec, CA_OP_ECDSA_SIGN, EVP_sha256(), "hello");
	signs(ec, CA_OP_ECDSA_SIGN, EVP_sha384(), "hello");
}
END_TEST

START_TEST(test_ca_small_output)
{
	uint8_t		 dg[32], sig[CA_INPUT_MAX];
	const char	*why = NULL;

	memset(dg, 1, sizeof(dg));
	ck_assert_int_eq(ask(rsa, CA_OP_RSA_PKCS1, NID_sha256, 0, dg,
	    sizeof(dg), sig, 255, &why), -1);
	ck_assert_int_eq(ask(rsa, CA_OP_RSA_PKCS1, NID_sha256, 0, dg,
	    sizeof(dg), sig, 256, &why), 256);
}
END_TEST

START_TEST(test_ca_codec)
{
	struct mbuf	 m;
	struct ca_req	 rq, got;
	uint8_t		 dg[32];
	size_t		 i;

	memset(dg, 7, sizeof(dg));
	memset(&rq, 0, sizeof(rq));
	rq.op = CA_OP_RSA_PSS;
	rq.keyid = keyid;
	rq.md = NID_sha256;
	rq.saltlen = 32;
	rq.in = dg;
	rq.inlen = sizeof(dg);
	mbuf_init(&m);
	ca_req_encode(&m, &rq);
	ck_assert_int_eq(m.err, 0);
	ck_assert_int_eq(ca_req_decode(m.buf, m.len, &got), 0);
	ck_assert_uint_eq(got.op, rq.op);
	ck_assert_uint_eq(got.md, rq.md);
	ck_assert_uint_eq(got.saltlen, rq.saltlen);
	ck_assert_uint_eq(got.inlen, rq.inlen);
	ck_assert_mem_eq(got.in, dg, sizeof(dg));
	ck_assert_mem_eq(got.keyid, keyid, sizeof(keyid));
	/* Every cut is malformed, and so is a byte too many. */
	for (i = 0; i < m.len; i++)
		ck_assert_int_eq(ca_req_decode(m.buf, i, &got), -1);
	mbuf_add_u32(&m, 0);
	ck_assert_int_eq(ca_req_decode(m.buf, m.len, &got), -1);
	mbuf_free(&m);
}
END_TEST

/*
 * A ca on the other end of fd for key: what ca.c's answer() does, minus
 * the key lookup.  Exits with the number of requests it refused.
 */
static void
fake_ca(int fd, EVP_PKEY *key)
{
	struct msgbuf	 mb;
	struct msg	 m;
	struct mbuf	 out;
	struct ca_req	 rq;
	uint8_t		 sig[CA_INPUT_MAX];
	size_t		 outlen;
	const char	*why;
	int		 ok, refused = 0;

	msgbuf_init(&mb, fd, 0);
	while (msgbuf_read(&mb) > 0) {
		while (msg_get(&mb, &m) == 1) {
			outlen = sizeof(sig);
			ok = ca_req_decode(m.data, m.datalen, &rq) == 0 &&
			    ca_sign(key, &rq, sig, &outlen, &why) == 0;
			refused += !ok;
			mbuf_init(&out);
			mbuf_add_u32(&out, ok);
			mbuf_add_data(&out, sig, ok ? outlen : 0);
			if (msg_compose(&mb, MSG_CA_RES, m.hdr.peerid, -1,
			    out.buf, out.len) == -1 ||
			    msgbuf_flush_sync(&mb) == -1)
				_exit(100);
			mbuf_free(&out);
			msg_free(&m);
		}
	}
	_exit(refused);
}

/* key's proxy as a relay has it, its ca in a child; the child's pid. */
static pid_t
relay_proxy(EVP_PKEY *key, EVP_PKEY **proxy)
{
	EVP_PKEY	*pub;
	pid_t		 pid;
	int		 sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0) {
		close(sv[0]);
		fake_ca(sv[1], key);
	}
	close(sv[1]);
	tls_key_init();
	tls_key_set_ca(sv[0]);
	pub = public_of(key);
	ck_assert_ptr_nonnull(*proxy = tls_key_proxy(pub));
	EVP_PKEY_free(pub);
	return pid;
}

/* The number of requests the ca refused, once the relay hung up. */
static int
ca_refusals(pid_t pid)
{
	int	 st;

	tls_key_set_ca(-1);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st));
	return WEXITSTATUS(st);
}

/*
 * A signature with signer as TLS makes it (EVP_DigestSign; pss: salt
 * as long as the hash), checked with verifier: 1 if made and good.
 */
static int
tls_sig(EVP_PKEY *signer, EVP_PKEY *verifier, const EVP_MD *md, int pad,
    int saltlen)
{
	EVP_MD_CTX	*c, *v;
	EVP_PKEY_CTX	*pc;
	uint8_t		 sig[1024];
	size_t		 siglen = sizeof(sig);
	int		 ok;

	c = EVP_MD_CTX_new();
	v = EVP_MD_CTX_new();
	ck_assert_int_eq(EVP_DigestSignInit(c, &pc, md, NULL, signer), 1);
	if (pad != 0) {
		ck_assert_int_eq(EVP_PKEY_CTX_set_rsa_padding(pc, pad), 1);
		if (pad == RSA_PKCS1_PSS_PADDING)
			ck_assert_int_eq(EVP_PKEY_CTX_set_rsa_pss_saltlen(pc,
			    saltlen), 1);
	}
	ok = EVP_DigestSign(c, sig, &siglen, (const void *)"abc", 3) == 1;
	if (ok) {
		ck_assert_int_eq(EVP_DigestVerifyInit(v, &pc, md, NULL,
		    verifier), 1);
		if (pad != 0) {
			ck_assert_int_eq(EVP_PKEY_CTX_set_rsa_padding(pc,
			    pad), 1);
			if (pad == RSA_PKCS1_PSS_PADDING)
				ck_assert_int_eq(
				    EVP_PKEY_CTX_set_rsa_pss_saltlen(pc,
				    RSA_PSS_SALTLEN_AUTO), 1);
		}
		ok = EVP_DigestVerify(v, sig, siglen, (const void *)"abc",
		    3) == 1;
	}
	EVP_MD_CTX_free(c);
	EVP_MD_CTX_free(v);
	return ok;
}

/* A block put through the key as it is: 1 if that was done. */
static int
raw_rsa(EVP_PKEY *key)
{
	EVP_PKEY_CTX	*pc;
	uint8_t		 block[256], out[1024];
	size_t		 outlen = sizeof(out);
	int		 ok;

	memset(block, 0x11, sizeof(block));
	block[0] = 0;
	ck_assert_ptr_nonnull(pc = EVP_PKEY_CTX_new(key, NULL));
	ck_assert_int_eq(EVP_PKEY_sign_init(pc), 1);
	ck_assert_int_eq(EVP_PKEY_CTX_set_rsa_padding(pc, RSA_NO_PADDING), 1);
	ok = EVP_PKEY_sign(pc, out, &outlen, block, sizeof(block)) == 1;
	EVP_PKEY_CTX_free(pc);
	return ok;
}

/* The relay's side (tls_key.c) asks for signatures the ca gives. */
START_TEST(test_ca_relay_rsa)
{
	EVP_PKEY	*proxy;
	pid_t		 pid;

	pid = relay_proxy(rsa, &proxy);
	ck_assert(tls_sig(proxy, rsa, EVP_sha256(), RSA_PKCS1_PADDING, 0));
	ck_assert(tls_sig(proxy, rsa, EVP_sha384(), RSA_PKCS1_PADDING, 0));
	ck_assert(tls_sig(proxy, rsa, EVP_sha256(), RSA_PKCS1_PSS_PADDING,
	    RSA_PSS_SALTLEN_DIGEST));
	ck_assert(tls_sig(proxy, rsa, EVP_sha512(), RSA_PKCS1_PSS_PADDING,
	    RSA_PSS_SALTLEN_DIGEST));
	/* The ca refuses these (salt, hash): two refusals. */
	ck_assert(!tls_sig(proxy, rsa, EVP_sha256(), RSA_PKCS1_PSS_PADDING,
	    20));
	ck_assert(!tls_sig(proxy, rsa, EVP_sha1(), RSA_PKCS1_PADDING, 0));
	/* The relay does not even ask for these. */
	ck_assert(!tls_sig(proxy, rsa, EVP_sha256(), RSA_PKCS1_PSS_PADDING,
	    RSA_PSS_SALTLEN_MAX));
	ck_assert(!raw_rsa(proxy));
	EVP_PKEY_free(proxy);
	ck_assert_int_eq(ca_refusals(pid), 2);
	/* Keys that are not proxies sign as before, raw RSA included. */
	ck_assert(raw_rsa(rsa));
	ck_assert(tls_sig(rsa, rsa, EVP_sha256(), RSA_PKCS1_PADDING, 0));
	ck_assert(tls_sig(rsa, rsa, EVP_sha256(), RSA_PKCS1_PSS_PADDING,
	    RSA_PSS_SALTLEN_DIGEST));
}
END_TEST

START_TEST(test_ca_relay_ec)
{
	EVP_PKEY	*proxy;
	pid_t		 pid;

	pid = relay_proxy(ec, &proxy);
	ck_assert(tls_sig(proxy, ec, EVP_sha256(), 0, 0));
	ck_assert(tls_sig(proxy, ec, EVP_sha384(), 0, 0));
	EVP_PKEY_free(proxy);
	ck_assert_int_eq(ca_refusals(pid), 0);
}
END_TEST

/*
 * Signing in OpenSSL ASYNC jobs, as a relay's handshakes do
 * (tls_accept.c): each job pauses while its request is out, the relay's
 * loop reads the answers, matched by id whatever their order, and wakes
 * the job each is for through its wait context's callback, once.  A job
 * resumed without its answer (a handshake given up on) fails, and the
 * late answer is dropped.  The test plays the ca on the other end.
 */
#define NJOBS	4

struct async_sign {
	EVP_PKEY	*key;
	int		 i;
	uint8_t		*sig;
	size_t		*siglen;
};

static int	 woken[NJOBS];

static int
async_woken(void *arg)
{
	woken[*(int *)arg]++;
	return 1;
}

static int
async_sign_job(void *arg)
{
	struct async_sign	*a = arg;
	EVP_MD_CTX		*c;
	char			 msg[2] = { 'a' + a->i, 0 };
	int			 ok;

	c = EVP_MD_CTX_new();
	ok = c != NULL && EVP_DigestSignInit(c, NULL, EVP_sha256(), NULL,
	    a->key) == 1 && EVP_DigestSign(c, a->sig, a->siglen,
	    (const void *)msg, 1) == 1;
	EVP_MD_CTX_free(c);
	return ok;
}

/* Answer the max requests coming on mb, last first: max, or 0. */
static size_t
ca_answer_reversed(struct msgbuf *mb, EVP_PKEY *key, size_t max)
{
	struct msg	 m[NJOBS];
	struct mbuf	 out;
	struct ca_req	 rq;
	uint8_t		 sig[CA_INPUT_MAX];
	size_t		 n = 0, outlen;
	const char	*why;

	while (n < max) {
		if (msg_get(mb, &m[n]) == 1) {
			n++;
			continue;
		}
		if (msgbuf_read(mb) <= 0)
			break;
	}
	while (n > 0) {
		n--;
		outlen = sizeof(sig);
		ck_assert_int_eq(ca_req_decode(m[n].data, m[n].datalen, &rq),
		    0);
		ck_assert_int_eq(ca_sign(key, &rq, sig, &outlen, &why), 0);
		mbuf_init(&out);
		mbuf_add_u32(&out, 1);
		mbuf_add_data(&out, sig, outlen);
		ck_assert_int_eq(msg_compose(mb, MSG_CA_RES, m[n].hdr.peerid,
		    -1, out.buf, out.len), 0);
		mbuf_free(&out);
		msg_free(&m[n]);
	}
	return msgbuf_flush_sync(mb) == 0 ? max : 0;
}

START_TEST(test_ca_relay_async)
{
	struct event_base	*base;
	struct msgbuf		 cab;
	struct async_sign	 a;
	ASYNC_WAIT_CTX		*wctx[NJOBS];
	ASYNC_JOB		*job[NJOBS];
	EVP_PKEY		*pub, *proxy;
	EVP_MD_CTX		*v;
	uint8_t			 sig[NJOBS][256];
	size_t			 siglen[NJOBS];
	int			 sv[2], idx[NJOBS], ret, i, pass;
	char			 msg[2] = { 0, 0 };

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sv), 0);
	ck_assert_ptr_nonnull(base = event_base_new());
	tls_key_init();
	tls_key_set_ca(sv[0]);
	tls_key_attach(base);
	msgbuf_init(&cab, sv[1], 0);
	pub = public_of(ec);
	ck_assert_ptr_nonnull(proxy = tls_key_proxy(pub));
	EVP_PKEY_free(pub);
	memset(woken, 0, sizeof(woken));
	for (i = 0; i < NJOBS; i++) {
		idx[i] = i;
		job[i] = NULL;
		siglen[i] = sizeof(sig[i]);
		ck_assert_ptr_nonnull(wctx[i] = ASYNC_WAIT_CTX_new());
		ck_assert_int_eq(ASYNC_WAIT_CTX_set_callback(wctx[i],
		    async_woken, &idx[i]), 1);
		a.key = proxy;
		a.i = i;
		a.sig = sig[i];
		a.siglen = &siglen[i];
		ck_assert_int_eq(ASYNC_start_job(&job[i], wctx[i], &ret,
		    async_sign_job, &a, sizeof(a)), ASYNC_PAUSE);
	}
	/* All four are out; nothing is woken before its answer. */
	for (pass = 0; pass < 3; pass++)
		(void)event_base_loop(base, EVLOOP_NONBLOCK);
	for (i = 0; i < NJOBS; i++)
		ck_assert_int_eq(woken[i], 0);
	/* Job 3 is given up on: resumed without an answer, it fails. */
	ck_assert_int_eq(ASYNC_start_job(&job[3], wctx[3], &ret,
	    async_sign_job, &a, sizeof(a)), ASYNC_FINISH);
	ck_assert_int_eq(ret, 0);
	ERR_clear_error();
	/* The answers come last first, job 3's (now late) among them. */
	ck_assert_uint_eq(ca_answer_reversed(&cab, ec, NJOBS), NJOBS);
	for (pass = 0; pass < 10; pass++)
		(void)event_base_loop(base, EVLOOP_NONBLOCK);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(woken[i], 1);
	ck_assert_int_eq(woken[3], 0);
	/* Each job goes on with its own signature. */
	ck_assert_ptr_nonnull(v = EVP_MD_CTX_new());
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(ASYNC_start_job(&job[i], wctx[i], &ret,
		    async_sign_job, &a, sizeof(a)), ASYNC_FINISH);
		ck_assert_int_eq(ret, 1);
		msg[0] = 'a' + i;
		ck_assert_int_eq(EVP_DigestVerifyInit(v, NULL, EVP_sha256(),
		    NULL, ec), 1);
		ck_assert_int_eq(EVP_DigestVerify(v, sig[i], siglen[i],
		    (const void *)msg, 1), 1);
	}
	EVP_MD_CTX_free(v);
	for (i = 0; i < NJOBS; i++)
		ASYNC_WAIT_CTX_free(wctx[i]);
	/* The relay hangs up. */
	tls_key_set_ca(-1);
	msgbuf_clear(&cab);
	close(sv[1]);
	EVP_PKEY_free(proxy);
	tls_key_attach(NULL);
	event_base_free(base);
}
END_TEST

Suite *
ca_suite(void)
{
	Suite	*s = suite_create("ca");
	TCase	*tc = tcase_create("sign");

	tcase_add_unchecked_fixture(tc, keys_setup, keys_teardown);
	tcase_add_test(tc, test_ca_raw_rsa);
	tcase_add_test(tc, test_ca_digest_length);
	tcase_add_test(tc, test_ca_hash_scheme);
	tcase_add_test(tc, test_ca_signs);
	tcase_add_test(tc, test_ca_small_output);
	tcase_add_test(tc, test_ca_codec);
	tcase_add_test(tc, test_ca_relay_rsa);
	tcase_add_test(tc, test_ca_relay_ec);
	tcase_add_test(tc, test_ca_relay_async);
	suite_add_tcase(s, tc);
	return s;
}
