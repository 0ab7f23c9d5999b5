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
 * TLS settings: CetusGuard's flags and variables, consistency checks,
 * and the parent's side of distribution.  The parent is the only process
 * that can open files.  It reads the certificate chain, the CAs and the
 * CRLs and sends them to the relays as bytes; it reads each private key
 * only to check it against its certificate and, when a ca process
 * starts, to hand it over, wiping its own copy each time.  A relay never
 * sees a private key (ca.c, tls_key.c).
 */

#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "moatd.h"

#define F(field)	offsetof(struct moat_tls, field), \
	sizeof(((struct moat_tls *)NULL)->field)

/*
 * CetusGuard's six options (main.c maps its CETUSGUARD_* variables to
 * them), then a few of our own for what the configuration file can say
 * too (CRLs, protocols, ciphers, the backend's name), so that every
 * setting is reachable from the command line.
 */
static const struct {
	const char	*flag;
	int		 backend;
	size_t		 off;
	size_t		 size;
} tls_opts[] = {
	{ "frontend-tls-cacert", 0, F(ca) },
	{ "frontend-tls-cert", 0, F(cert) },
	{ "frontend-tls-key", 0, F(key) },
	{ "backend-tls-cacert", 1, F(ca) },
	{ "backend-tls-cert", 1, F(cert) },
	{ "backend-tls-key", 1, F(key) },
	{ "frontend-tls-crl", 0, F(crl) },
	{ "frontend-tls-protocols", 0, F(protocols) },
	{ "frontend-tls-ciphers", 0, F(ciphers) },
	{ "frontend-tls-ciphersuites", 0, F(ciphersuites) },
	{ "backend-tls-name", 1, F(name) },
	{ "backend-tls-protocols", 1, F(protocols) },
	{ "backend-tls-ciphers", 1, F(ciphers) },
	{ "backend-tls-ciphersuites", 1, F(ciphersuites) },
};

/* The configuration file's words for the same fields (parse.y). */
static const struct {
	const char	*word;
	size_t		 off;
	size_t		 size;
} tls_words[] = {
	{ "ca", F(ca) },
	{ "certificate", F(cert) },
	{ "ciphers", F(ciphers) },
	{ "ciphersuites", F(ciphersuites) },
	{ "crl", F(crl) },
	{ "hostname", F(name) },
	{ "key", F(key) },
	{ "protocols", F(protocols) },
};
#undef F

int
tls_config_option(struct moat_config *c, const char *name, const char *value)
{
	struct moat_tls	*t;
	size_t		 i;

	for (i = 0; i < sizeof(tls_opts) / sizeof(tls_opts[0]); i++) {
		if (strcmp(tls_opts[i].flag, name) != 0)
			continue;
		t = tls_opts[i].backend ? &c->backend_tls : &c->frontend_tls;
		if (strlcpy((char *)t + tls_opts[i].off, value,
		    tls_opts[i].size) >= tls_opts[i].size) {
			log_warnx("-%s %s: too long", name, value);
			return -1;
		}
		return 0;
	}
	return -1;
}

int
tls_config_set(struct moat_tls *t, const char *word, const char *value,
    const char **why)
{
	size_t	 i;

	t->enabled = 1;
	if (strcmp(word, "tls") == 0)
		return 0;
	for (i = 0; i < sizeof(tls_words) / sizeof(tls_words[0]); i++) {
		if (strcmp(tls_words[i].word, word) != 0)
			continue;
		if (value == NULL || *value == '\0') {
			*why = "empty";
			return -1;
		}
		if (strlcpy((char *)t + tls_words[i].off, value,
		    tls_words[i].size) >= tls_words[i].size) {
			*why = "too long";
			return -1;
		}
		return 0;
	}
	*why = "not a TLS setting";
	return -1;
}

int
tls_parse_protocols(const char *s, int *min, int *max)
{
	char	 buf[64], *p, *tok;
	int	 lo = 0, hi = 0, v;

	if (s == NULL || *s == '\0')
		s = "default";
	if (strlcpy(buf, s, sizeof(buf)) >= sizeof(buf))
		return -1;
	for (p = buf; (tok = strsep(&p, ",: \t")) != NULL;) {
		if (*tok == '\0')
			continue;
		if (strcasecmp(tok, "default") == 0 ||
		    strcasecmp(tok, "secure") == 0 ||
		    strcasecmp(tok, "all") == 0) {
			lo = TLS1_2_VERSION;
			hi = TLS1_3_VERSION;
			continue;
		}
		if (strcasecmp(tok, "tlsv1.2") == 0)
			v = TLS1_2_VERSION;
		else if (strcasecmp(tok, "tlsv1.3") == 0)
			v = TLS1_3_VERSION;
		else
			return -1;	/* also TLS 1.0 and 1.1: never */
		if (lo == 0 || v < lo)
			lo = v;
		if (v > hi)
			hi = v;
	}
	if (lo == 0)
		return -1;
	*min = lo;
	*max = hi;
	return 0;
}

static int
tls_block_set(const struct moat_tls *t)
{
	return t->cert[0] != '\0' || t->key[0] != '\0' || t->ca[0] != '\0';
}

static int
tls_check_block(struct moat_tls *t, const char *what, int server)
{
	int	 lo, hi, bad = 0;

	if (server && (t->cert[0] == '\0' || t->key[0] == '\0')) {
		log_warnx("%s: TLS needs a certificate and a key", what);
		bad = 1;
	}
	if (!server && (t->cert[0] == '\0') != (t->key[0] == '\0')) {
		log_warnx("%s: a client certificate needs its key, and a key "
		    "its certificate", what);
		bad = 1;
	}
	if (t->crl[0] != '\0' && t->ca[0] == '\0') {
		log_warnx("%s: a CRL needs the CA it belongs to", what);
		bad = 1;
	}
	if (tls_parse_protocols(t->protocols, &lo, &hi) == -1) {
		log_warnx("%s: protocols \"%s\": want tlsv1.2 and/or tlsv1.3",
		    what, t->protocols);
		bad = 1;
	}
	return bad ? -1 : 0;
}

int
tls_config_finish(struct moat_config *c)
{
	struct moat_listener	*l;
	char			 what[MOAT_ADDR_MAX + 16];
	size_t			 i;
	int			 bad = 0, ntcp = 0;

	if (tls_block_set(&c->frontend_tls)) {
		c->frontend_tls.enabled = 1;
		for (i = 0; i < c->nlisteners; i++) {
			l = &c->listeners[i];
			if (l->addr.kind != ADDR_TCP)
				continue;
			ntcp++;
			if (!l->tls.enabled)
				l->tls = c->frontend_tls;
		}
		if (ntcp == 0)
			log_warnx("-frontend-tls-*: no tcp frontend address "
			    "to use them on");
	}
	for (i = 0; i < c->nlisteners; i++) {
		l = &c->listeners[i];
		if (!l->tls.enabled)
			continue;
		snprintf(what, sizeof(what), "listener %s", l->addr.text);
		if (l->addr.kind == ADDR_UNIX) {
			log_warnx("%s: TLS on a unix socket is not supported",
			    what);
			bad = 1;
		}
		if (tls_check_block(&l->tls, what, 1) == -1)
			bad = 1;
	}
	if (tls_block_set(&c->backend_tls))
		c->backend_tls.enabled = 1;
	if (c->backend_tls.enabled) {
		snprintf(what, sizeof(what), "backend %s", c->backend.text);
		if (c->backend.kind != ADDR_TCP) {
			log_warnx("%s: TLS needs a tcp:// backend", what);
			bad = 1;
		}
		if (c->backend_tls.name[0] == '\0')
			strlcpy(c->backend_tls.name, c->backend.host,
			    sizeof(c->backend_tls.name));
		if (tls_check_block(&c->backend_tls, what, 0) == -1)
			bad = 1;
	}
	return bad ? -1 : 0;
}

int
tls_config_keys(const struct moat_config *c)
{
	size_t	 i;
	int	 n = 0;

	for (i = 0; i < c->nlisteners; i++)
		n += c->listeners[i].tls.enabled &&
		    c->listeners[i].tls.key[0] != '\0';
	return n + (c->backend_tls.enabled && c->backend_tls.key[0] != '\0');
}

/* The bytes of a regular file of at most TLS_FILE_MAX bytes. */
static int
read_file(const char *path, char **bufp, size_t *lenp)
{
	struct stat	 st;
	const char	*why;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		log_warn("%s", path);
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > TLS_FILE_MAX || st.st_size == 0) {
		log_warnx("%s: not a regular file of 1 to %d bytes", path,
		    TLS_FILE_MAX);
		close(fd);
		return -1;
	}
	if (read_fd_all(fd, st.st_size, bufp, &why) == -1) {
		log_warnx("%s: read: %s", path, why);
		close(fd);
		return -1;
	}
	close(fd);
	*lenp = st.st_size;
	return 0;
}

static const char *
ssl_error(void)
{
	static char	 buf[256];
	unsigned long	 e;

	if ((e = ERR_peek_last_error()) == 0)
		return "unknown error";
	ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return buf;
}

/* How many certificates (crl: CRLs) a PEM buffer holds; -1 on garbage. */
static int
pem_count(const char *pem, size_t len, int crl, X509 **leafp)
{
	BIO		*bio;
	X509		*x;
	X509_CRL	*cr;
	unsigned long	 e;
	int		 n = 0;

	if ((bio = BIO_new_mem_buf(pem, len)) == NULL)
		return -1;
	for (;;) {
		if (crl) {
			if ((cr = PEM_read_bio_X509_CRL(bio, NULL, NULL,
			    NULL)) == NULL)
				break;
			X509_CRL_free(cr);
		} else {
			if ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) ==
			    NULL)
				break;
			if (n == 0 && leafp != NULL)
				*leafp = x;
			else
				X509_free(x);
		}
		n++;
	}
	BIO_free(bio);
	/* The loop ends on "no start line" after the last one. */
	e = ERR_peek_last_error();
	if (n > 0 && ERR_GET_LIB(e) == ERR_LIB_PEM &&
	    ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
		ERR_clear_error();
		return n;
	}
	return -1;
}

int
tls_keyid(const void *pkey, uint8_t id[TLS_KEYID_LEN])
{
	unsigned char	*der = NULL;
	unsigned int	 len = TLS_KEYID_LEN;
	int		 n;

	if ((n = i2d_PUBKEY((EVP_PKEY *)pkey, &der)) <= 0)
		return -1;
	if (EVP_Digest(der, n, id, &len, EVP_sha256(), NULL) != 1) {
		OPENSSL_free(der);
		return -1;
	}
	OPENSSL_free(der);
	return 0;
}

static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	return -1;
}

/*
 * Read, parse and check a private key, and name it: in a forked child
 * (key_id() below).  Ed25519 and Ed448 are refused: TLS signs with them
 * in one pass over the whole message, which the ca's RSA/ECDSA hooks
 * (tls_key.c) cannot carry.
 */
static int
key_parse(const char *path, uint8_t id[TLS_KEYID_LEN])
{
	EVP_PKEY	*pkey;
	BIO		*bio;
	char		*pem;
	size_t		 len;
	int		 type, rv = -1;

	if (read_file(path, &pem, &len) == -1)
		return -1;
	if ((bio = BIO_new_mem_buf(pem, len)) == NULL)
		fatalx("%s: out of memory", __func__);
	pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	BIO_free(bio);
	freezero(pem, len + 1);
	if (pkey == NULL) {
		log_warnx("%s: not an unencrypted PEM private key (%s)", path,
		    ssl_error());
		return -1;
	}
	type = EVP_PKEY_get_base_id(pkey);
	if (type == EVP_PKEY_ED25519 || type == EVP_PKEY_ED448)
		log_warnx("%s: Ed25519 and Ed448 keys are not supported: the "
		    "key process signs with RSA and ECDSA keys only", path);
	else if (type != EVP_PKEY_RSA && type != EVP_PKEY_EC)
		log_warnx("%s: unsupported key type %s (RSA or EC only)", path,
		    OBJ_nid2sn(type));
	else if (tls_keyid(pkey, id) == -1)
		log_warnx("%s: cannot encode the public key", path);
	else
		rv = 0;
	EVP_PKEY_free(pkey);
	return rv;
}

/*
 * The parent never parses a private key itself: OpenSSL's decoders leave
 * copies of the key in freed memory.  A child does, answers with the
 * key's id over a pipe, and exits, taking its heap with it.
 */
static int
key_id(const char *path, uint8_t id[TLS_KEYID_LEN])
{
	pid_t	 pid;
	ssize_t	 n;
	int	 fds[2], status;

	if (pipe2(fds, O_CLOEXEC) == -1)
		fatal("%s: pipe", __func__);
	switch ((pid = fork())) {
	case -1:
		fatal("%s: fork", __func__);
	case 0:
		close(fds[0]);
		if (key_parse(path, id) == -1 ||
		    write(fds[1], id, TLS_KEYID_LEN) != TLS_KEYID_LEN)
			_exit(1);
		_exit(0);
	}
	close(fds[1]);
	do {
		n = read(fds[0], id, TLS_KEYID_LEN);
	} while (n == -1 && errno == EINTR);
	close(fds[0]);
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			fatal("%s: waitpid", __func__);
	return (n == TLS_KEYID_LEN && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0) ? 0 : -1;
}

struct tls_bytes {
	char	*cert, *ca, *crl;
	size_t	 cert_len, ca_len, crl_len;
	uint8_t	 keyid[TLS_KEYID_LEN];
};

static void
bytes_free(struct tls_bytes *b)
{
	free(b->cert);
	free(b->ca);
	free(b->crl);
	memset(b, 0, sizeof(*b));
}

static int
load_chain(struct moat_tls *t, struct tls_bytes *b, const char *what)
{
	X509		*leaf = NULL;
	uint8_t		 id[TLS_KEYID_LEN];
	int		 rv = -1;

	if (read_file(t->cert, &b->cert, &b->cert_len) == -1)
		return -1;
	if (pem_count(b->cert, b->cert_len, 0, &leaf) < 1) {
		log_warnx("%s: %s: not a PEM certificate chain", what,
		    t->cert);
		X509_free(leaf);
		return -1;
	}
	if (X509_cmp_current_time(X509_get0_notAfter(leaf)) < 0)
		log_warnx("%s: %s: the certificate has expired", what,
		    t->cert);
	if (tls_keyid(X509_get0_pubkey(leaf), b->keyid) == -1)
		log_warnx("%s: %s: cannot encode the public key", what,
		    t->cert);
	else if (key_id(t->key, id) == -1)
		;	/* logged */
	else if (memcmp(id, b->keyid, sizeof(id)) != 0)
		log_warnx("%s: %s does not belong to %s", what, t->key,
		    t->cert);
	else
		rv = 0;
	X509_free(leaf);
	return rv;
}

/* Cipher lists and protocols as the relay will set them. */
static int
check_ciphers(const struct moat_tls *t, const char *what)
{
	SSL_CTX	*ctx;
	int	 rv = 0;

	if ((ctx = SSL_CTX_new(TLS_method())) == NULL)
		fatalx("%s: SSL_CTX_new", __func__);
	if (SSL_CTX_set_cipher_list(ctx, t->ciphers[0] ? t->ciphers :
	    TLS_CIPHERS_DEFAULT) != 1) {
		log_warnx("%s: ciphers \"%s\": %s", what, t->ciphers,
		    ssl_error());
		rv = -1;
	}
	if (t->ciphersuites[0] != '\0' &&
	    SSL_CTX_set_ciphersuites(ctx, t->ciphersuites) != 1) {
		log_warnx("%s: ciphersuites \"%s\": %s", what,
		    t->ciphersuites, ssl_error());
		rv = -1;
	}
	SSL_CTX_free(ctx);
	return rv;
}

static int
load_block(struct moat_tls *t, struct tls_bytes *b, const char *what,
    int server)
{
	const char	*ca = t->ca;

	memset(b, 0, sizeof(*b));
	if (t->cert[0] != '\0' && load_chain(t, b, what) == -1)
		goto fail;
	/* A backend without a CA of its own: the system's, as Go does. */
	if (!server && ca[0] == '\0')
		ca = X509_get_default_cert_file();
	if (ca[0] != '\0') {
		if (read_file(ca, &b->ca, &b->ca_len) == -1)
			goto fail;
		if (pem_count(b->ca, b->ca_len, 0, NULL) < 1) {
			log_warnx("%s: %s: no PEM CA certificate", what, ca);
			goto fail;
		}
	}
	if (t->crl[0] != '\0') {
		if (read_file(t->crl, &b->crl, &b->crl_len) == -1)
			goto fail;
		if (pem_count(b->crl, b->crl_len, 1, NULL) < 1) {
			log_warnx("%s: %s: no PEM CRL", what, t->crl);
			goto fail;
		}
	}
	if (check_ciphers(t, what) == -1)
		goto fail;
	return 0;
 fail:
	bytes_free(b);
	return -1;
}

static void
block_take(struct moat_tls *t, struct tls_bytes *b)
{
	free(t->cert_pem);
	free(t->ca_pem);
	free(t->crl_pem);
	t->cert_pem = b->cert;
	t->cert_len = b->cert_len;
	t->ca_pem = b->ca;
	t->ca_len = b->ca_len;
	t->crl_pem = b->crl;
	t->crl_len = b->crl_len;
	memcpy(t->keyid, b->keyid, sizeof(t->keyid));
	memset(b, 0, sizeof(*b));
}

int
tls_config_load(struct moat_config *c)
{
	struct tls_bytes	 b[MOAT_LISTENERS_MAX + 1];
	char			 what[MOAT_ADDR_MAX + 16];
	size_t			 i;
	int			 bad = 0;

	memset(b, 0, sizeof(b));
	for (i = 0; i < c->nlisteners; i++) {
		if (!c->listeners[i].tls.enabled)
			continue;
		snprintf(what, sizeof(what), "listener %s",
		    c->listeners[i].addr.text);
		if (load_block(&c->listeners[i].tls, &b[i], what, 1) == -1)
			bad = 1;
	}
	if (c->backend_tls.enabled) {
		snprintf(what, sizeof(what), "backend %s", c->backend.text);
		if (load_block(&c->backend_tls, &b[MOAT_LISTENERS_MAX], what,
		    0) == -1)
			bad = 1;
	}
	for (i = 0; i < c->nlisteners; i++) {
		if (bad)
			bytes_free(&b[i]);
		else if (c->listeners[i].tls.enabled)
			block_take(&c->listeners[i].tls, &b[i]);
	}
	if (bad) {
		bytes_free(&b[MOAT_LISTENERS_MAX]);
		return -1;
	}
	if (c->backend_tls.enabled)
		block_take(&c->backend_tls, &b[MOAT_LISTENERS_MAX]);
	return 0;
}

static void
block_free(struct moat_tls *t)
{
	free(t->cert_pem);
	free(t->ca_pem);
	free(t->crl_pem);
	t->cert_pem = t->ca_pem = t->crl_pem = NULL;
	t->cert_len = t->ca_len = t->crl_len = 0;
}

void
tls_config_free(struct moat_config *c)
{
	size_t	 i;

	for (i = 0; i < MOAT_LISTENERS_MAX; i++)
		block_free(&c->listeners[i].tls);
	block_free(&c->backend_tls);
	block_free(&c->frontend_tls);
}

/*
 * A reload keeps the running listeners (main.c, parent.c): take each
 * one's new TLS block from the new configuration when the new one has
 * the same address, and the same TLS or not: a listener does not turn
 * TLS on or off before a restart.  What is not taken is left in old, to
 * be freed with it.
 */
void
tls_config_keep_listeners(struct moat_config *nc, struct moat_config *old)
{
	struct moat_tls	 keep[MOAT_LISTENERS_MAX], t;
	size_t		 i, j;

	for (i = 0; i < MOAT_LISTENERS_MAX; i++) {
		keep[i] = old->listeners[i].tls;
		memset(&old->listeners[i].tls, 0, sizeof(old->listeners[i].tls));
	}
	for (i = 0; i < old->nlisteners; i++) {
		for (j = 0; j < nc->nlisteners; j++)
			if (strcmp(nc->listeners[j].addr.text,
			    old->listeners[i].addr.text) == 0)
				break;
		if (j == nc->nlisteners)
			continue;
		if (nc->listeners[j].tls.enabled != keep[i].enabled) {
			log_warnx("listener %s: TLS goes on or off only on "
			    "restart", old->listeners[i].addr.text);
			continue;
		}
		t = keep[i];
		keep[i] = nc->listeners[j].tls;
		nc->listeners[j].tls = t;
	}
	for (i = 0; i < MOAT_LISTENERS_MAX; i++) {
		t = nc->listeners[i].tls;
		nc->listeners[i] = old->listeners[i];
		nc->listeners[i].tls = keep[i];
		old->listeners[i].tls = t;
	}
	nc->nlisteners = old->nlisteners;
}

/* A block's CA bundle or CRL: its own message, after MSG_CFG_TLS. */
static int
send_pem(struct msgbuf *mb, uint32_t type, uint32_t target, uint32_t gen,
    const void *pem, size_t len)
{
	struct mbuf	 m;
	int		 rv = 0;

	mbuf_init(&m);
	mbuf_add_u32(&m, target);
	mbuf_add_data(&m, pem, len);
	if (m.err || msg_compose(mb, type, gen, -1, m.buf, m.len) == -1)
		rv = -1;
	mbuf_free(&m);
	return rv;
}

static int
send_block(struct msgbuf *mb, const struct moat_tls *t, uint32_t target,
    uint32_t gen)
{
	struct mbuf	 m;
	int		 lo, hi, rv = 0;

	if (tls_parse_protocols(t->protocols, &lo, &hi) == -1)
		return -1;
	mbuf_init(&m);
	mbuf_add_u32(&m, target);
	mbuf_add_u32(&m, lo);
	mbuf_add_u32(&m, hi);
	mbuf_add_u32(&m, t->ca_len > 0 ? TLS_F_VERIFY : 0);
	mbuf_add_str(&m, t->ciphers);
	mbuf_add_str(&m, t->ciphersuites);
	mbuf_add_str(&m, t->name);
	mbuf_add_data(&m, t->cert_pem, t->cert_len);
	if (m.err || msg_compose(mb, MSG_CFG_TLS, gen, -1, m.buf, m.len) == -1)
		rv = -1;
	mbuf_free(&m);
	if (rv == 0 && t->ca_len > 0)
		rv = send_pem(mb, MSG_CFG_TLS_CA, target, gen, t->ca_pem,
		    t->ca_len);
	if (rv == 0 && t->crl_len > 0)
		rv = send_pem(mb, MSG_CFG_TLS_CRL, target, gen, t->crl_pem,
		    t->crl_len);
	return rv;
}

int
tls_config_send(struct msgbuf *mb, const struct moat_config *c, uint32_t gen)
{
	size_t	 i;

	for (i = 0; i < c->nlisteners; i++)
		if (c->listeners[i].tls.enabled &&
		    send_block(mb, &c->listeners[i].tls,
		    c->listeners[i].id, gen) == -1)
			return -1;
	return 0;
}

int
tls_config_send_backend(struct msgbuf *mb, const struct moat_config *c,
    uint32_t gen)
{
	if (c->backend_tls.enabled &&
	    send_block(mb, &c->backend_tls, TLS_TARGET_BACKEND, gen) == -1)
		return -1;
	return 0;
}

/*
 * Read the key now, not at startup: the parent keeps no key between ca
 * starts.  A key that no longer matches the loaded certificate (the files
 * were replaced without a SIGHUP) is sent anyway, with a warning: the ca
 * finds keys by their public half, so the handshakes fail until reload.
 */
static int
send_key(struct msgbuf *mb, const struct moat_tls *t, uint32_t gen)
{
	uint8_t		 id[TLS_KEYID_LEN];
	char		*pem;
	size_t		 len;
	int		 rv;

	if (key_id(t->key, id) == -1)
		return -1;
	if (memcmp(id, t->keyid, sizeof(id)) != 0)
		log_warnx("%s: the key changed since its certificate was "
		    "loaded; send SIGHUP after replacing both", t->key);
	if (read_file(t->key, &pem, &len) == -1)
		return -1;
	/* The message layer wipes its copy once written (msg.c). */
	rv = msg_compose(mb, MSG_CFG_TLS_KEY, gen, -1, pem, len);
	freezero(pem, len + 1);
	return rv;
}

int
tls_config_send_keys(struct msgbuf *mb, const struct moat_config *c,
    uint32_t gen)
{
	size_t	 i;
	int	 rv = 0;

	for (i = 0; i < c->nlisteners; i++)
		if (c->listeners[i].tls.enabled &&
		    c->listeners[i].tls.key[0] != '\0' &&
		    send_key(mb, &c->listeners[i].tls, gen) == -1)
			rv = -1;
	if (c->backend_tls.enabled && c->backend_tls.key[0] != '\0' &&
	    send_key(mb, &c->backend_tls, gen) == -1)
		rv = -1;
	return rv;
}
