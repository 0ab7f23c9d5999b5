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
 * (the listeners' keys) and its relay's forwarder (the backend's client
 * key), relayd's design.  A relay that is taken over can ask for
 * signatures while it lives, but cannot carry the key away or use it
 * after a restart.
 *
 * One ca per relay, not one shared: a relay does not wait for a
 * signature (its handshake's job pauses, tls_key.c), but with a shared
 * ca every full handshake of every relay would queue behind the others'
 * on one core, and a stuck or slow relay channel would stall them all.
 * The cost is a few hundred KiB per relay.  Like the policy worker it runs a plain poll(2) loop
 * under the strictest seccomp filter: three channels (parent, relay,
 * forwarder), no other descriptor.
 *
 * Keys are found by the SHA-256 of their public half, which the relay
 * computes from its certificate, so no numbering has to agree between
 * processes.  The keys of the previous configuration stay until the next
 * one, for a relay that has not switched yet.
 */

#include <sys/types.h>

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

/* Who may ask: the relay (TLS to clients), the forwarder (to Docker). */
#define CA_CLIENTS	2
static const char *client_names[CA_CLIENTS] = { "relay", "forwarder" };

struct ca {
	int		 instance;
	struct ploop	*pl;		/* slots: relay, forwarder */
	struct ca_key	 keys[CA_KEYS_MAX];
	size_t		 nkeys;
	uint32_t	 gen;		/* of the last MSG_CFG_DONE */
};

static struct ca	*ca;

static void
ca_log(int pri, const char *msg)
{
	proc_log_send(ploop_chan(ca->pl, -1), pri, msg);
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
 * The ca signs digests and does the padding itself: a relay names the
 * scheme and the hash, and hands over a digest of that hash's size.  It
 * never gets a block put through the private key as it is (raw RSA):
 * that would decrypt anything encrypted to the key, RSA key exchange
 * recorded on the wire included.  Decryption is never done either.
 *
 * The hashes are those a TLS 1.2 or 1.3 handshake can ask for from
 * OpenSSL 3 at its default security level: SHA-1 and MD5+SHA-1 need
 * level 0 (and TLS 1.1 or older for MD5+SHA-1), so they are refused.
 * TLS defines PSS with SHA-256, -384 and -512 only, MGF1 with the same
 * hash and a salt as long as the hash; nothing else is signed.
 */
static const struct {
	int	 nid;
	size_t	 len;
	int	 pss;
} ca_hashes[] = {
	{ NID_sha224,	28,	0 },
	{ NID_sha256,	32,	1 },
	{ NID_sha384,	48,	1 },
	{ NID_sha512,	64,	1 },
};
#define CA_NHASHES	(sizeof(ca_hashes) / sizeof(ca_hashes[0]))

void
ca_req_encode(struct mbuf *m, const struct ca_req *rq)
{
	mbuf_add_u32(m, rq->op);
	mbuf_add_data(m, rq->keyid, TLS_KEYID_LEN);
	mbuf_add_u32(m, rq->md);
	mbuf_add_u32(m, rq->saltlen);
	mbuf_add_data(m, rq->in, rq->inlen);
}

int
ca_req_decode(const void *buf, size_t len, struct ca_req *rq)
{
	struct mbuf	 r;
	const void	*id, *in;
	size_t		 idlen;

	memset(rq, 0, sizeof(*rq));
	mbuf_reader(&r, buf, len);
	if (mbuf_get_u32(&r, &rq->op) == -1 ||
	    mbuf_get_data(&r, &id, &idlen) == -1 ||
	    mbuf_get_u32(&r, &rq->md) == -1 ||
	    mbuf_get_u32(&r, &rq->saltlen) == -1 ||
	    mbuf_get_data(&r, &in, &rq->inlen) == -1 || mbuf_end(&r) == -1 ||
	    idlen != TLS_KEYID_LEN)
		return -1;
	rq->keyid = id;
	rq->in = in;
	return 0;
}

/* What may be signed: the request is refused unless this says yes. */
static const char *
ca_check(EVP_PKEY *pkey, const struct ca_req *rq)
{
	size_t	 i;
	int	 type = EVP_PKEY_get_base_id(pkey);

	switch (rq->op) {
	case CA_OP_ECDSA_SIGN:
		if (type != EVP_PKEY_EC)
			return "ECDSA with a key that is not EC";
		/* ECDSA signs the digest, whichever hash made it. */
		for (i = 0; i < CA_NHASHES; i++)
			if (rq->inlen == ca_hashes[i].len)
				return NULL;
		return "ECDSA digest of no allowed hash's length";
	case CA_OP_RSA_PKCS1:
	case CA_OP_RSA_PSS:
		break;
	default:
		return "not a signature over a digest (raw RSA?)";
	}
	if (type != EVP_PKEY_RSA)
		return "RSA with a key that is not RSA";
	for (i = 0; i < CA_NHASHES; i++)
		if ((int)rq->md == ca_hashes[i].nid)
			break;
	if (i == CA_NHASHES)
		return "a hash that is not allowed";
	if (rq->op == CA_OP_RSA_PSS && !ca_hashes[i].pss)
		return "PSS with a hash that is not allowed";
	if (rq->inlen != ca_hashes[i].len)
		return "a digest of the wrong length for its hash";
	if (rq->op == CA_OP_RSA_PSS && rq->saltlen != rq->inlen)
		return "PSS with a salt not as long as the hash";
	return NULL;
}

int
ca_sign(void *pkeyp, const struct ca_req *rq, uint8_t *out, size_t *outlen,
    const char **why)
{
	EVP_PKEY	*pkey = pkeyp;
	EVP_PKEY_CTX	*ctx;
	const EVP_MD	*md = NULL;
	int		 rsa, rv = -1;

	if ((*why = ca_check(pkey, rq)) != NULL)
		return -1;
	*why = "signing failed";
	rsa = rq->op != CA_OP_ECDSA_SIGN;
	if (rsa && (md = EVP_get_digestbynid(rq->md)) == NULL)
		return -1;
	if ((size_t)EVP_PKEY_get_size(pkey) > *outlen ||
	    (ctx = EVP_PKEY_CTX_new(pkey, NULL)) == NULL)
		return -1;
	if (EVP_PKEY_sign_init(ctx) == 1 && (!rsa ||
	    (EVP_PKEY_CTX_set_signature_md(ctx, md) == 1 &&
	    (rq->op == CA_OP_RSA_PKCS1 ?
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1 :
	    (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) == 1 &&
	    EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) == 1 &&
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, rq->saltlen) == 1)))) &&
	    EVP_PKEY_sign(ctx, out, outlen, rq->in, rq->inlen) == 1) {
		*why = NULL;
		rv = 0;
	}
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	return rv;
}

/* Sign rq with k (none: not found) and answer: ok, and the signature. */
static void
sign_reply(int c, uint32_t id, const struct ca_key *k,
    const struct ca_req *rq)
{
	struct mbuf	 out;
	const char	*why = NULL;
	size_t		 outlen = CA_INPUT_MAX;
	uint8_t		 sig[CA_INPUT_MAX];
	int		 ok = 0;

	if (k == NULL)
		log_warnx("%s[%d]: no such key", client_names[c],
		    ca->instance);
	else if (ca_sign(k->pkey, rq, sig, &outlen, &why) == -1)
		log_warnx("%s[%d]: not signed: %s (op %u, hash %u, "
		    "%zu bytes)", client_names[c], ca->instance, why, rq->op,
		    rq->md, rq->inlen);
	else
		ok = 1;
	mbuf_init(&out);
	mbuf_add_u32(&out, ok);
	mbuf_add_data(&out, sig, ok ? outlen : 0);
	(void)ploop_reply(ca->pl, c, MSG_CA_RES, id, &out);
	mbuf_free(&out);
}

static void
answer(int c, struct msg *m)
{
	struct ca_req	 rq;
	struct ca_key	*k;

	if (ca_req_decode(m->data, m->datalen, &rq) == -1) {
		log_warnx("%s[%d]: bad request, closing", client_names[c],
		    ca->instance);
		ploop_close(ca->pl, c);
		return;
	}
	/* A relay may have switched to a key we have not read yet. */
	if ((k = key_find(rq.keyid)) == NULL) {
		ploop_read_parent(ca->pl);
		k = key_find(rq.keyid);
	}
	sign_reply(c, m->hdr.peerid, k, &rq);
}

static void
client_msg(struct ploop *pl, int c, struct msg *m, void *arg)
{
	if (proc_peer_may_send(c == 0 ? PROC_RELAY : PROC_FORWARDER, PROC_CA,
	    m->hdr.type, m->fd != -1)) {
		answer(c, m);
		return;
	}
	log_warnx("%s[%d]: sent %s, which it may not", client_names[c],
	    ca->instance, msg_type_name(m->hdr.type));
	ploop_close(pl, c);
}

static void
parent_msg(struct ploop *pl, int slot, struct msg *m, void *arg)
{
	proc_recv_check(PROC_CA, m);
	switch (m->hdr.type) {
	case MSG_CTL_PROCFD:
		if (m->fd == -1 || m->hdr.peerid >= CA_CLIENTS)
			fatalx("bad client channel from parent");
		ploop_add(pl, m->hdr.peerid, m->fd, client_msg, NULL);
		m->fd = -1;
		break;
	case MSG_CFG_TLS_KEY:
		key_add(m);
		break;
	case MSG_CFG_DONE:
		keys_commit(m->hdr.peerid);
		if (msg_compose(ploop_chan(pl, -1), MSG_CFG_DONE,
		    m->hdr.peerid, -1, NULL, 0) == -1)
			fatal("ack");
		break;
	default:	/* allowed by the table, but not handled here */
		fatalx("%s from parent: not handled",
		    msg_type_name(m->hdr.type));
	}
	if (m->data != NULL)
		explicit_bzero(m->data, m->datalen);
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
	ca->pl = ploop_new(PARENT_FD, CA_CLIENTS, parent_msg, NULL);
	log_setsink(ca_log);
	sandbox_enter(PROC_CA);
	ploop_run(ca->pl);
}
