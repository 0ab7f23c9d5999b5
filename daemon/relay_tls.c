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
 * TLS in the relay: one SSL_CTX per TLS listener and one for the
 * backend, built from the bytes the parent sent (the relay is chrooted
 * and opens no file), with private keys that live in the ca (tls_key.c).
 * A client's handshake runs on its own first (tls_accept.c), without
 * blocking the relay while the ca signs; then the relay speaks to it
 * through conn.c.  The forwarder's Docker connection goes through
 * forwarder.c's own I/O.
 *
 * A reload builds new contexts aside and swaps them in at MSG_CFG_DONE;
 * a session holds a reference to the context it started with, so nothing
 * established is dropped.  Session tickets are keyed per context, so a
 * reload also ends resumption of sessions verified under the old CAs and
 * CRLs.  A listener whose context cannot be built refuses its clients:
 * it never falls back to plain text.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "conn.h"
#include "moatd.h"

#define TLS_TARGETS_MAX		(MOAT_LISTENERS_MAX + 1)
#define TLS_VERIFY_DEPTH	8
#define TLS_SESSION_TIMEOUT	300	/* seconds a session may resume */

struct tls_target {
	uint32_t	 id;		/* listener id or TLS_TARGET_BACKEND */
	SSL_CTX		*ctx;		/* NULL: broken, refuse */
	char		 name[MOAT_ADDR_MAX];	/* backend: SNI */
};

struct tls_set {
	struct tls_target	 t[TLS_TARGETS_MAX];
	size_t			 n;
};

static struct {
	struct tls_set	 cur;
	struct tls_set	 pending;
	uint32_t	 gen;		/* of pending */
	int		 ktls_none;	/* the kernel has no kTLS for us */
} rt;

static void
set_free(struct tls_set *s)
{
	size_t	 i;

	for (i = 0; i < s->n; i++)
		SSL_CTX_free(s->t[i].ctx);	/* sessions keep theirs */
	memset(s, 0, sizeof(*s));
}

static struct tls_target *
set_find(struct tls_set *s, uint32_t id)
{
	size_t	 i;

	for (i = 0; i < s->n; i++)
		if (s->t[i].id == id)
			return &s->t[i];
	return NULL;
}

static void
ssl_errors(char *buf, size_t len)
{
	unsigned long	 e;
	char		 one[256];

	buf[0] = '\0';
	while ((e = ERR_get_error()) != 0) {
		ERR_error_string_n(e, one, sizeof(one));
		if (buf[0] != '\0')
			strlcat(buf, "; ", len);
		strlcat(buf, one, len);
	}
	if (buf[0] == '\0')
		strlcpy(buf, "unknown error", len);
}

void
relay_tls_init(void)
{
	/* No openssl.cnf: what the relay does must not depend on it. */
	if (OPENSSL_init_ssl(OPENSSL_INIT_NO_LOAD_CONFIG, NULL) != 1)
		fatalx("OpenSSL initialisation failed");
	tls_key_init();
}

/* The leaf and its chain; the key is the ca's. */
static int
ctx_chain(SSL_CTX *ctx, const void *pem, size_t len)
{
	EVP_PKEY	*pkey;
	BIO		*bio;
	X509		*x;
	int		 n = 0, rv = -1;

	if ((bio = BIO_new_mem_buf(pem, len)) == NULL)
		return -1;
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (n++ == 0) {
			if (SSL_CTX_use_certificate(ctx, x) != 1 ||
			    (pkey = tls_key_proxy(X509_get0_pubkey(x))) ==
			    NULL) {
				X509_free(x);
				goto done;
			}
			rv = SSL_CTX_use_PrivateKey(ctx, pkey) == 1 ? 0 : -1;
			EVP_PKEY_free(pkey);
			X509_free(x);
			if (rv == -1)
				goto done;
		} else if (SSL_CTX_add0_chain_cert(ctx, x) != 1) {
			X509_free(x);
			rv = -1;
			goto done;
		}
	}
	ERR_clear_error();	/* the end of the PEM data */
 done:
	BIO_free(bio);
	return n > 0 ? rv : -1;
}

static int
ctx_options(SSL_CTX *ctx, uint32_t min, uint32_t max, const char *ciphers,
    const char *suites)
{
	/*
	 * No compression (CRIME), no renegotiation of any kind, clients'
	 * unannounced closes read as EOF (HTTP framing, not TLS, tells a
	 * whole message from a cut one), our cipher order.
	 */
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION |
	    SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	if (SSL_CTX_set_min_proto_version(ctx, min) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, max) != 1)
		return -1;
	if (SSL_CTX_set_cipher_list(ctx, ciphers[0] != '\0' ? ciphers :
	    TLS_CIPHERS_DEFAULT) != 1)
		return -1;
	if (suites[0] != '\0' && SSL_CTX_set_ciphersuites(ctx, suites) != 1)
		return -1;
	SSL_CTX_set_verify_depth(ctx, TLS_VERIFY_DEPTH);
	return 0;
}

static int
is_ip(const char *name)
{
	unsigned char	 buf[16];

	return inet_pton(AF_INET, name, buf) == 1 ||
	    inet_pton(AF_INET6, name, buf) == 1;
}

static int
ctx_verify_name(SSL_CTX *ctx, const char *name)
{
	X509_VERIFY_PARAM	*vp = SSL_CTX_get0_param(ctx);

	if (is_ip(name))
		return X509_VERIFY_PARAM_set1_ip_asc(vp, name) == 1 ? 0 : -1;
	X509_VERIFY_PARAM_set_hostflags(vp,
	    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	return X509_VERIFY_PARAM_set1_host(vp, name, 0) == 1 ? 0 : -1;
}

static SSL_CTX *
ctx_build(uint32_t target, uint32_t min, uint32_t max, uint32_t flags,
    const char *ciphers, const char *suites, const char *name,
    const void *pem, size_t pemlen)
{
	SSL_CTX		*ctx;
	char		 sid[32];
	int		 backend = target == TLS_TARGET_BACKEND;

	ctx = SSL_CTX_new(backend ? TLS_client_method() : TLS_server_method());
	if (ctx == NULL || ctx_options(ctx, min, max, ciphers, suites) == -1)
		goto fail;
	if (pemlen > 0 && ctx_chain(ctx, pem, pemlen) == -1)
		goto fail;
	if (backend) {
		/* Like docker --tlsverify: the daemon's CA and name. */
		if (!(flags & TLS_F_VERIFY) || ctx_verify_name(ctx, name) ==
		    -1)
			goto fail;
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
		return ctx;
	}
	if (pemlen == 0)
		goto fail;
	snprintf(sid, sizeof(sid), "moatd:%u", target);
	SSL_CTX_set_session_id_context(ctx, (unsigned char *)sid,
	    strlen(sid));
	SSL_CTX_set_timeout(ctx, TLS_SESSION_TIMEOUT);
#ifdef SSL_OP_ENABLE_KTLS
	/*
	 * The kernel's record layer where it has one (Linux's CONFIG_TLS,
	 * the "tls" ULP) and a cipher it has: OpenSSL tries after the
	 * handshake and carries on in user space when it cannot.
	 */
	SSL_CTX_set_options(ctx, SSL_OP_ENABLE_KTLS);
#endif
	if (flags & TLS_F_VERIFY)
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
		    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	/*
	 * One read(2) for all the records that are there, not two a record
	 * (header, then body): a client's second flight is four records,
	 * a kept-alive request one.  conn.c asks SSL_has_pending(), which
	 * sees what OpenSSL read ahead, before it waits for the socket.
	 */
	SSL_CTX_set_read_ahead(ctx, 1);
	return ctx;
 fail:
	SSL_CTX_free(ctx);
	return NULL;
}

static struct tls_target *
pending_target(uint32_t gen, uint32_t id)
{
	struct tls_target	*t;

	if (gen != rt.gen) {
		set_free(&rt.pending);
		rt.gen = gen;
	}
	if ((t = set_find(&rt.pending, id)) != NULL)
		return t;
	if (rt.pending.n >= TLS_TARGETS_MAX)
		return NULL;
	t = &rt.pending.t[rt.pending.n++];
	t->id = id;
	return t;
}

static int
msg_tls(struct msg *m)
{
	struct tls_target	*t;
	struct mbuf		 r;
	uint32_t		 id, min, max, flags;
	char			 ciphers[256], suites[256], why[512];
	char			 name[MOAT_ADDR_MAX];
	const void		*pem;
	size_t			 len;

	mbuf_reader(&r, m->data, m->datalen);
	if (mbuf_get_u32(&r, &id) == -1 || mbuf_get_u32(&r, &min) == -1 ||
	    mbuf_get_u32(&r, &max) == -1 || mbuf_get_u32(&r, &flags) == -1 ||
	    mbuf_get_str(&r, ciphers, sizeof(ciphers)) == -1 ||
	    mbuf_get_str(&r, suites, sizeof(suites)) == -1 ||
	    mbuf_get_str(&r, name, sizeof(name)) == -1 ||
	    mbuf_get_data(&r, &pem, &len) == -1 || mbuf_end(&r) == -1 ||
	    (t = pending_target(m->hdr.peerid, id)) == NULL)
		return -1;
	SSL_CTX_free(t->ctx);
	strlcpy(t->name, name, sizeof(t->name));
	t->ctx = ctx_build(id, min, max, flags, ciphers, suites, name, pem,
	    len);
	if (t->ctx == NULL) {
		ssl_errors(why, sizeof(why));
		log_warnx("TLS for %s %u: %s; refusing its connections",
		    id == TLS_TARGET_BACKEND ? "the backend" : "listener",
		    id == TLS_TARGET_BACKEND ? 0 : id, why);
	}
	return 0;
}

/* CAs and CRLs go to the store of a context already built. */
static int
msg_store(struct msg *m, int crl)
{
	struct tls_target	*t;
	X509_STORE		*st;
	X509_CRL		*cr;
	X509			*x;
	BIO			*bio;
	struct mbuf		 r;
	const void		*pem;
	size_t			 len;
	uint32_t		 id;
	int			 n = 0, server;

	mbuf_reader(&r, m->data, m->datalen);
	if (mbuf_get_u32(&r, &id) == -1 || mbuf_get_data(&r, &pem, &len) ==
	    -1 || mbuf_end(&r) == -1 || m->hdr.peerid != rt.gen ||
	    (t = set_find(&rt.pending, id)) == NULL)
		return -1;
	if (t->ctx == NULL)
		return 0;
	server = id != TLS_TARGET_BACKEND;
	st = SSL_CTX_get_cert_store(t->ctx);
	if ((bio = BIO_new_mem_buf(pem, len)) == NULL)
		fatalx("%s: out of memory", __func__);
	for (;;) {
		if (crl) {
			if ((cr = PEM_read_bio_X509_CRL(bio, NULL, NULL,
			    NULL)) == NULL)
				break;
			n += X509_STORE_add_crl(st, cr) == 1;
			X509_CRL_free(cr);
		} else {
			if ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) ==
			    NULL)
				break;
			n += X509_STORE_add_cert(st, x) == 1;
			/* Tell clients which CAs we take. */
			if (server)
				(void)SSL_CTX_add_client_CA(t->ctx, x);
			X509_free(x);
		}
	}
	BIO_free(bio);
	ERR_clear_error();
	/* Every certificate of the chain, intermediate CAs too: a CA
	 * revoked by its issuer revokes what it signed. */
	if (crl)
		X509_STORE_set_flags(st, X509_V_FLAG_CRL_CHECK |
		    X509_V_FLAG_CRL_CHECK_ALL);
	if (n == 0) {
		log_warnx("TLS: no usable %s; refusing connections",
		    crl ? "CRL" : "CA certificate");
		SSL_CTX_free(t->ctx);
		t->ctx = NULL;
	}
	return 0;
}

int
relay_tls_msg(struct msg *m)
{
	switch (m->hdr.type) {
	case MSG_CFG_TLS:
		return msg_tls(m);
	case MSG_CFG_TLS_CA:
		return msg_store(m, 0);
	case MSG_CFG_TLS_CRL:
		return msg_store(m, 1);
	case MSG_CTL_CAFD:
		if (m->fd == -1)
			return -1;
		tls_key_set_ca(m->fd);
		m->fd = -1;
		return 0;
	default:
		return -1;
	}
}

/* The parent's TLS messages, for a relay or a forwarder: 1 when m was
 * one (a bad one is fatal), 0 when it is for the caller. */
int
relay_tls_take(struct msg *m)
{
	switch (m->hdr.type) {
	case MSG_CFG_TLS:
	case MSG_CFG_TLS_CA:
	case MSG_CFG_TLS_CRL:
	case MSG_CTL_CAFD:
		if (relay_tls_msg(m) == -1)
			fatalx("bad TLS configuration from parent");
		return 1;
	}
	return 0;
}

void
relay_tls_commit(uint32_t gen)
{
	set_free(&rt.cur);
	if (gen == rt.gen) {
		rt.cur = rt.pending;
		memset(&rt.pending, 0, sizeof(rt.pending));
	} else
		set_free(&rt.pending);	/* this configuration has no TLS */
	rt.gen = gen;
}

void
relay_tls_ktls_none(void)
{
	rt.ktls_none = 1;
}

/* A new SSL for target t: SNI when it connects to a host name. */
static SSL *
ssl_new(struct tls_target *t, int connecting)
{
	SSL	*ssl;

	if ((ssl = SSL_new(t->ctx)) == NULL)
		fatalx("%s: out of memory", __func__);
#ifdef SSL_OP_ENABLE_KTLS
	if (rt.ktls_none)
		SSL_clear_options(ssl, SSL_OP_ENABLE_KTLS);
#endif
	/* SNI names hosts only, never addresses (RFC 6066). */
	if (connecting && t->name[0] != '\0' && !is_ip(t->name))
		(void)SSL_set_tlsext_host_name(ssl, t->name);
	return ssl;
}

struct conn *
relay_tls_client(struct event_base *base, int lid, int fd)
{
	struct conn	*c;

	if (set_find(&rt.cur, lid) != NULL) {
		close(fd);	/* its handshake comes first: tls_accept.c */
		return NULL;
	}
	if ((c = conn_new(base, fd, NULL)) == NULL)
		fatalx("%s: out of memory", __func__);
	return c;
}

SSL *
relay_tls_ssl(int lid)
{
	struct tls_target	*t;

	if ((t = set_find(&rt.cur, lid)) == NULL || t->ctx == NULL)
		return NULL;
	return ssl_new(t, 0);
}

int
relay_tls_listener(int lid)
{
	return set_find(&rt.cur, lid) != NULL;
}

/*
 * The forwarder's connection to Docker: no bufferevent, it does its own
 * I/O (forwarder.c).  Partial writes from a buffer that may move, read
 * and write buffers freed while idle, and a peer's end without
 * close_notify is an end (as the bufferevents' dirty shutdown).
 */
int
relay_tls_backend_ssl(int fd, struct ssl_st **sslp)
{
	struct tls_target	*t;
	SSL			*ssl;

	*sslp = NULL;
	if ((t = set_find(&rt.cur, TLS_TARGET_BACKEND)) == NULL)
		return 0;
	if (t->ctx == NULL) {
		log_warnx("backend: TLS is configured but unusable");
		close(fd);
		return -1;
	}
	ssl = ssl_new(t, 1);
	if (SSL_set_fd(ssl, fd) != 1)
		fatalx("%s: out of memory", __func__);
	SSL_set_connect_state(ssl);
	SSL_set_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
	SSL_set_options(ssl, SSL_OP_IGNORE_UNEXPECTED_EOF);
	*sslp = ssl;
	return 0;
}

void
relay_tls_backend_failure(struct ssl_st *ssl, char *why, size_t len)
{
	relay_tls_why(ssl, why, len);
	log_warnx("backend: TLS handshake failed: %s", why);
}

/* Identity values end up in logs and rules: printable ASCII only. */
static void
add_clean(struct ident *id, const char *key, const char *v, size_t len)
{
	char	 buf[IDENT_VALUE_MAX];
	size_t	 i;

	if (len >= sizeof(buf))
		len = sizeof(buf) - 1;
	for (i = 0; i < len; i++)
		buf[i] = ((unsigned char)v[i] < 0x20 ||
		    (unsigned char)v[i] >= 0x7f) ? '?' : v[i];
	buf[len] = '\0';
	(void)ident_add(id, key, buf);
}

static void
add_name(struct ident *id, const char *key, const X509_NAME *name)
{
	BIO	*bio;
	char	*p;
	long	 len;

	if ((bio = BIO_new(BIO_s_mem())) == NULL)
		return;
	if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) >= 0 &&
	    (len = BIO_get_mem_data(bio, &p)) > 0)
		add_clean(id, key, p, len);
	BIO_free(bio);
}

static void
add_sans(struct ident *id, X509 *x)
{
	GENERAL_NAMES		*gens;
	const GENERAL_NAME	*g;
	const ASN1_STRING	*s;
	char			 ip[INET6_ADDRSTRLEN];
	int			 i;

	if ((gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL)) ==
	    NULL)
		return;
	for (i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		g = sk_GENERAL_NAME_value(gens, i);
		switch (g->type) {
		case GEN_DNS:
		case GEN_EMAIL:
		case GEN_URI:
			s = g->d.ia5;
			add_clean(id, g->type == GEN_DNS ? "cert.san.dns" :
			    g->type == GEN_EMAIL ? "cert.san.email" :
			    "cert.san.uri", (const char *)ASN1_STRING_get0_data(s),
			    ASN1_STRING_length(s));
			break;
		case GEN_IPADD:
			s = g->d.ip;
			if ((ASN1_STRING_length(s) == 4 && inet_ntop(AF_INET,
			    ASN1_STRING_get0_data(s), ip, sizeof(ip)) != NULL) ||
			    (ASN1_STRING_length(s) == 16 && inet_ntop(AF_INET6,
			    ASN1_STRING_get0_data(s), ip, sizeof(ip)) != NULL))
				(void)ident_add(id, "cert.san.ip", ip);
			break;
		}
	}
	GENERAL_NAMES_free(gens);
}

struct ident *
relay_tls_ident(SSL *ssl)
{
	struct ident	*id;
	X509		*x;
	BIGNUM		*bn;
	char		*hex, fp[EVP_MAX_MD_SIZE * 2 + 1];
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen, i;

	if ((id = calloc(1, sizeof(*id))) == NULL)
		fatal("%s", __func__);
	(void)ident_add(id, "tls.version", SSL_get_version(ssl));
	(void)ident_add(id, "tls.cipher", SSL_get_cipher_name(ssl));
	/* Only a verified certificate is an identity. */
	if ((x = SSL_get0_peer_certificate(ssl)) == NULL ||
	    SSL_get_verify_result(ssl) != X509_V_OK)
		return id;
	add_name(id, "cert.subject", X509_get_subject_name(x));
	add_name(id, "cert.issuer", X509_get_issuer_name(x));
	if ((bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL)) !=
	    NULL && (hex = BN_bn2hex(bn)) != NULL) {
		(void)ident_add(id, "cert.serial", hex);
		OPENSSL_free(hex);
	}
	BN_free(bn);
	if (X509_digest(x, EVP_sha256(), md, &mdlen) == 1) {
		for (i = 0; i < mdlen; i++)
			snprintf(fp + 2 * i, 3, "%02x", md[i]);
		(void)ident_add(id, "cert.sha256", fp);
	}
	add_sans(id, x);
	ERR_clear_error();
	return id;
}

/*
 * Why a handshake failed: the verification result first, then the errors
 * OpenSSL queued (conn.c and the forwarder leave them there).
 */
void
relay_tls_why(SSL *ssl, char *why, size_t len)
{
	unsigned long	 e;
	long		 vr = SSL_get_verify_result(ssl);
	char		 one[256];

	why[0] = '\0';
	if (vr != X509_V_OK)
		snprintf(why, len, "certificate verify failed: %s",
		    X509_verify_cert_error_string(vr));
	while ((e = ERR_get_error()) != 0) {
		ERR_error_string_n(e, one, sizeof(one));
		if (ERR_GET_LIB(e) == 0 || (vr != X509_V_OK &&
		    ERR_GET_REASON(e) == SSL_R_CERTIFICATE_VERIFY_FAILED))
			continue;
		if (why[0] != '\0')
			strlcat(why, "; ", len);
		strlcat(why, one, len);
	}
	if (why[0] == '\0')
		strlcpy(why, "connection closed", len);
	ERR_clear_error();
}
