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
 * The ca: holds the private keys and does nothing but sign for its relay
 * (relayd's design).  A relay that is taken over can ask for signatures
 * while it lives, but cannot carry the key away or use it after a
 * restart.
 *
 * One ca per relay, not one shared: a relay waits for each signature
 * synchronously (tls_key.c), so with a shared ca every full handshake of
 * every relay would queue behind the others' on one core, and a stuck or
 * slow relay channel would stall them all.  The cost is a few hundred
 * KiB per relay.  Like the policy worker it runs a plain poll(2) loop
 * under the strictest seccomp filter: two channels, no other descriptor.
 *
 * Keys are found by the SHA-256 of their public half, which the relay
 * computes from its certificate, so no numbering has to agree between
 * processes.  The keys of the previous configuration stay until the next
 * one, for a relay that has not switched yet.
 */

#include <sys/types.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "moatd.h"

#define CA_KEYS_MAX	(2 * (MOAT_LISTENERS_MAX + 1))

struct ca_key {
	uint8_t		 id[TLS_KEYID_LEN];
	EVP_PKEY	*pkey;
	uint32_t	 gen;
};

struct ca {
	int		 instance;
	struct msgbuf	 parent;
	struct msgbuf	 relay;
	struct ca_key	 keys[CA_KEYS_MAX];
	size_t		 nkeys;
	uint32_t	 gen;		/* of the last MSG_CFG_DONE */
};

static struct ca	*ca;

static void
ca_log(int pri, const char *msg)
{
	proc_log_send(&ca->parent, pri, msg);
}

static void
relay_close(void)
{
	if (ca->relay.fd == -1)
		return;
	close(ca->relay.fd);
	msgbuf_clear(&ca->relay);
	ca->relay.fd = -1;
}

static struct ca_key *
key_find(const uint8_t *id)
{
	size_t	 i;

	for (i = 0; i < ca->nkeys; i++)
		if (memcmp(ca->keys[i].id, id, TLS_KEYID_LEN) == 0)
			return &ca->keys[i];
	return NULL;
}

static void
key_drop(size_t i)
{
	EVP_PKEY_free(ca->keys[i].pkey);
	ca->keys[i] = ca->keys[--ca->nkeys];
	memset(&ca->keys[ca->nkeys], 0, sizeof(ca->keys[0]));
}

/* The key's bytes are wiped here; OpenSSL clears its own on free. */
static void
key_add(struct msg *m)
{
	EVP_PKEY	*pkey;
	struct ca_key	*k;
	BIO		*bio;
	uint8_t		 id[TLS_KEYID_LEN];

	bio = BIO_new_mem_buf(m->data, m->datalen);
	pkey = bio == NULL ? NULL :
	    PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	explicit_bzero(m->data, m->datalen);
	if (pkey == NULL || tls_keyid(pkey, id) == -1)
		fatalx("bad key from parent");
	if ((k = key_find(id)) != NULL) {
		EVP_PKEY_free(k->pkey);
	} else {
		if (ca->nkeys >= CA_KEYS_MAX)
			fatalx("too many keys");
		k = &ca->keys[ca->nkeys++];
		memcpy(k->id, id, sizeof(k->id));
	}
	k->pkey = pkey;
	k->gen = m->hdr.peerid;
	ERR_clear_error();
}

static void
keys_commit(uint32_t gen)
{
	size_t	 i;

	ca->gen = gen;
	for (i = 0; i < ca->nkeys;) {
		if (ca->keys[i].gen + 1 < gen)
			key_drop(i);
		else
			i++;
	}
	log_debug("configuration %u: %zu keys", gen, ca->nkeys);
}

/*
 * RSA: the relay's RSA_METHOD hands over what RSA_private_encrypt()
 * would get: a PSS-encoded block (no padding) or a DigestInfo to pad as
 * PKCS#1 type 1.  Decryption (RSA key exchange) is never done: it is not
 * forward secret and the default ciphers do not offer it.
 */
static int
sign(EVP_PKEY *pkey, uint32_t op, uint32_t pad, const uint8_t *in,
    size_t inlen, uint8_t *out, size_t *outlen)
{
	EVP_PKEY_CTX	*ctx;
	int		 type = EVP_PKEY_get_base_id(pkey), rv = -1;

	if (op == CA_OP_RSA_PRIV_ENC && (type != EVP_PKEY_RSA ||
	    (pad != RSA_PKCS1_PADDING && pad != RSA_NO_PADDING)))
		return -1;
	if (op == CA_OP_ECDSA_SIGN && (type != EVP_PKEY_EC || inlen > 64))
		return -1;
	if ((ctx = EVP_PKEY_CTX_new(pkey, NULL)) == NULL)
		return -1;
	if (EVP_PKEY_sign_init(ctx) == 1 &&
	    (op != CA_OP_RSA_PRIV_ENC ||
	    EVP_PKEY_CTX_set_rsa_padding(ctx, pad) == 1) &&
	    EVP_PKEY_sign(ctx, out, outlen, in, inlen) == 1)
		rv = 0;
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	return rv;
}

static void read_parent(void);

static void
answer(struct msg *m)
{
	struct mbuf	 r, out;
	struct ca_key	*k;
	const void	*id, *in;
	size_t		 idlen, inlen, outlen;
	uint32_t	 op, pad;
	uint8_t		 sig[CA_INPUT_MAX];
	int		 ok = 0;

	mbuf_reader(&r, m->data, m->datalen);
	if (mbuf_get_u32(&r, &op) == -1 ||
	    mbuf_get_data(&r, &id, &idlen) == -1 ||
	    mbuf_get_u32(&r, &pad) == -1 ||
	    mbuf_get_data(&r, &in, &inlen) == -1 || mbuf_end(&r) == -1 ||
	    idlen != TLS_KEYID_LEN || inlen == 0 || inlen > CA_INPUT_MAX ||
	    (op != CA_OP_RSA_PRIV_ENC && op != CA_OP_ECDSA_SIGN)) {
		log_warnx("relay[%d]: bad request, closing", ca->instance);
		relay_close();
		return;
	}
	/* A relay may have switched to a key we have not read yet. */
	if ((k = key_find(id)) == NULL) {
		read_parent();
		k = key_find(id);
	}
	outlen = sizeof(sig);
	if (k == NULL)
		log_warnx("relay[%d]: no such key", ca->instance);
	else if (sign(k->pkey, op, pad, in, inlen, sig, &outlen) == -1)
		log_warnx("relay[%d]: signing failed", ca->instance);
	else
		ok = 1;
	mbuf_init(&out);
	mbuf_add_u32(&out, ok);
	mbuf_add_data(&out, sig, ok ? outlen : 0);
	if (out.err || msg_compose(&ca->relay, MSG_CA_RES, m->hdr.peerid, -1,
	    out.buf, out.len) == -1)
		relay_close();
	mbuf_free(&out);
}

static void
parent_msg(struct msg *m)
{
	switch (m->hdr.type) {
	case MSG_CTL_PROCFD:
		if (m->fd == -1)
			fatalx("relay channel without a descriptor");
		relay_close();
		msgbuf_init(&ca->relay, m->fd, 0);
		m->fd = -1;
		break;
	case MSG_CFG_TLS_KEY:
		key_add(m);
		break;
	case MSG_CFG_DONE:
		keys_commit(m->hdr.peerid);
		if (msg_compose(&ca->parent, MSG_CFG_DONE, m->hdr.peerid, -1,
		    NULL, 0) == -1)
			fatal("ack");
		break;
	default:
		fatalx("unexpected message %u from parent", m->hdr.type);
	}
}

static void
read_parent(void)
{
	struct msg	 m;
	ssize_t		 n;
	int		 rv;

	n = msgbuf_read(&ca->parent);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		n = 1;		/* nothing new; what is buffered counts */
	while ((rv = msg_get(&ca->parent, &m)) == 1) {
		parent_msg(&m);
		if (m.data != NULL)
			explicit_bzero(m.data, m.datalen);
		msg_free(&m);
	}
	if (rv == -1)
		fatalx("protocol error on the parent channel");
	if (n <= 0)
		exit(0);	/* the parent is gone: so are we */
}

static void
read_relay(void)
{
	struct msg	 m;
	ssize_t		 n;
	int		 rv = 0;

	n = msgbuf_read(&ca->relay);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	while (ca->relay.fd != -1 && (rv = msg_get(&ca->relay, &m)) == 1) {
		if (m.hdr.type == MSG_CA_REQ)
			answer(&m);
		else {
			log_warnx("relay[%d]: unexpected message %u",
			    ca->instance, m.hdr.type);
			rv = -1;
		}
		msg_free(&m);
		if (rv == -1)
			break;
	}
	if (ca->relay.fd != -1 && (rv == -1 || n <= 0))
		relay_close();
}

static void
ca_loop(void)
{
	struct pollfd	 pfd[2];
	int		 n;

	for (;;) {
		pfd[0].fd = ca->parent.fd;
		pfd[0].events = POLLIN | (ca->parent.wqueued ? POLLOUT : 0);
		n = 1;
		if (ca->relay.fd != -1) {
			pfd[1].fd = ca->relay.fd;
			pfd[1].events = POLLIN |
			    (ca->relay.wqueued ? POLLOUT : 0);
			n = 2;
		}
		if (poll(pfd, n, -1) == -1) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		/* The parent first: new keys before requests for them. */
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR))
			read_parent();
		if (n == 2 && ca->relay.fd != -1 &&
		    (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)))
			read_relay();
		if (ca->relay.fd != -1 && ca->relay.wqueued &&
		    msgbuf_flush(&ca->relay) == -1)
			relay_close();
		if (ca->parent.wqueued && msgbuf_flush(&ca->parent) == -1)
			exit(0);
	}
}

void
ca_main(const struct moat_config *c, int instance)
{
	log_init(c->foreground, c->log_level, LOG_DAEMON);
	/* Before the chroot: OpenSSL reads no file after it. */
	if (OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL) != 1)
		fatalx("OpenSSL initialisation failed");
	proc_child_init("ca", instance, c->foreground, c->user, c->chroot);
	if ((ca = calloc(1, sizeof(*ca))) == NULL)
		fatal("%s", __func__);
	ca->instance = instance;
	msgbuf_init(&ca->parent, PARENT_FD, 1);
	ca->relay.fd = -1;
	log_setsink(ca_log);
	sandbox_enter(SANDBOX_CA);
	ca_loop();
	exit(0);
}
