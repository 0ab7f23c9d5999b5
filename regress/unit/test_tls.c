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
 * Unit tests for the TLS settings (daemon/tls_conf.c: options, the
 * configuration file's words, consistency, loading and checking files,
 * what a reload keeps) and the client identity (daemon/ident.c).  The
 * handshakes themselves, the ca and the relays' key proxies are tested
 * end to end in regress/tests/tls.sh; what the ca signs in test_ca.c.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "unit.h"
#include "moatd.h"

#define PARSE_DIR	"regress/parse"

static char	 tmpdir[64];

static void
tmp_setup(void)
{
	strlcpy(tmpdir, "/tmp/moatd-tls.XXXXXX", sizeof(tmpdir));
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void
tmp_teardown(void)
{
	char	 cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
}

static void
tmppath(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", tmpdir, name);
}

/* A configuration with listeners given as addresses. */
static void
conf_with(struct moat_config *c, const char **addrs, size_t n)
{
	const char	*why;
	size_t		 i;

	config_defaults(c);
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(config_parse_addr(addrs[i],
		    &c->listeners[i].addr, &why), 0);
		c->listeners[i].id = i;
		c->listeners[i].fd = -1;
	}
	c->nlisteners = n;
}

START_TEST(test_protocols)
{
	int	 lo, hi;

	ck_assert_int_eq(tls_parse_protocols("tlsv1.2,tlsv1.3", &lo, &hi), 0);
	ck_assert_int_eq(lo, TLS1_2_VERSION);
	ck_assert_int_eq(hi, TLS1_3_VERSION);
	ck_assert_int_eq(tls_parse_protocols("TLSv1.3", &lo, &hi), 0);
	ck_assert_int_eq(lo, TLS1_3_VERSION);
	ck_assert_int_eq(hi, TLS1_3_VERSION);
	ck_assert_int_eq(tls_parse_protocols(" tlsv1.2 ", &lo, &hi), 0);
	ck_assert_int_eq(lo, TLS1_2_VERSION);
	ck_assert_int_eq(hi, TLS1_2_VERSION);
	ck_assert_int_eq(tls_parse_protocols("", &lo, &hi), 0);
	ck_assert_int_eq(lo, TLS1_2_VERSION);
	ck_assert_int_eq(hi, TLS1_3_VERSION);
	ck_assert_int_eq(tls_parse_protocols("secure", &lo, &hi), 0);
	ck_assert_int_eq(lo, TLS1_2_VERSION);
	ck_assert_int_eq(hi, TLS1_3_VERSION);
	ck_assert_int_eq(tls_parse_protocols(NULL, &lo, &hi), 0);
	ck_assert_int_eq(tls_parse_protocols("tlsv1.1", &lo, &hi), -1);
	ck_assert_int_eq(tls_parse_protocols("tlsv1.0,tlsv1.2", &lo, &hi),
	    -1);
	ck_assert_int_eq(tls_parse_protocols("tlsv1.2,ssl3", &lo, &hi), -1);
	ck_assert_int_eq(tls_parse_protocols(",:", &lo, &hi), -1);
}
END_TEST

START_TEST(test_options)
{
	struct moat_config	 c;
	char			 big[400];

	config_defaults(&c);
	ck_assert_int_eq(tls_config_option(&c, "frontend-tls-cert", "/a"), 0);
	ck_assert_int_eq(tls_config_option(&c, "frontend-tls-cacert", "/c"),
	    0);
	ck_assert_int_eq(tls_config_option(&c, "backend-tls-key", "/k"), 0);
	ck_assert_int_eq(tls_config_option(&c, "backend-tls-name", "d.x"), 0);
	ck_assert_int_eq(tls_config_option(&c, "frontend-tls-protocols",
	    "tlsv1.3"), 0);
	ck_assert_str_eq(c.frontend_tls.cert, "/a");
	ck_assert_str_eq(c.frontend_tls.ca, "/c");
	ck_assert_str_eq(c.frontend_tls.protocols, "tlsv1.3");
	ck_assert_str_eq(c.backend_tls.key, "/k");
	ck_assert_str_eq(c.backend_tls.name, "d.x");
	ck_assert_str_eq(c.backend_tls.cert, "");
	ck_assert_int_eq(tls_config_option(&c, "frontend-tls-nope", "/x"),
	    -1);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(tls_config_option(&c, "frontend-tls-key", big), -1);
	ck_assert_int_eq(tls_config_option(&c, "frontend-tls-protocols",
	    "tlsv1.2,tlsv1.3,tlsv1.2,tlsv1.3,tlsv1.2,tlsv1.3,tlsv1.2,tlsv1.3,x"),
	    -1);
	config_free(&c);
}
END_TEST

START_TEST(test_words)
{
	struct moat_tls	 t;
	const char	*why = NULL;

	memset(&t, 0, sizeof(t));
	ck_assert_int_eq(tls_config_set(&t, "tls", NULL, &why), 0);
	ck_assert_int_eq(t.enabled, 1);
	ck_assert_int_eq(tls_config_set(&t, "certificate", "/c.pem", &why),
	    0);
	ck_assert_int_eq(tls_config_set(&t, "key", "/k.pem", &why), 0);
	ck_assert_int_eq(tls_config_set(&t, "ca", "/ca.pem", &why), 0);
	ck_assert_int_eq(tls_config_set(&t, "crl", "/crl.pem", &why), 0);
	ck_assert_int_eq(tls_config_set(&t, "hostname", "docker.x", &why), 0);
	ck_assert_int_eq(tls_config_set(&t, "ciphers", "ECDHE+AESGCM", &why),
	    0);
	ck_assert_str_eq(t.cert, "/c.pem");
	ck_assert_str_eq(t.key, "/k.pem");
	ck_assert_str_eq(t.ca, "/ca.pem");
	ck_assert_str_eq(t.crl, "/crl.pem");
	ck_assert_str_eq(t.name, "docker.x");
	ck_assert_str_eq(t.ciphers, "ECDHE+AESGCM");
	ck_assert_int_eq(tls_config_set(&t, "key", "", &why), -1);
	ck_assert_str_eq(why, "empty");
	ck_assert_int_eq(tls_config_set(&t, "owner", "x", &why), -1);
	ck_assert_str_eq(why, "not a TLS setting");
	/* A key given with no "tls" turns TLS on all the same. */
	memset(&t, 0, sizeof(t));
	ck_assert_int_eq(tls_config_set(&t, "key", "/k", &why), 0);
	ck_assert_int_eq(t.enabled, 1);
}
END_TEST

/* CetusGuard: -frontend-tls-* on every tcp frontend, none other. */
START_TEST(test_finish_frontend)
{
	const char		*a[] = { "tcp://127.0.0.1:1", "unix:///run/x",
	    "tcp://[::1]:2", "tcp://127.0.0.1:3" };
	struct moat_config	 c;

	conf_with(&c, a, 4);
	c.listeners[3].tls.enabled = 1;
	strlcpy(c.listeners[3].tls.cert, "/own.pem", MOAT_PATH_MAX);
	strlcpy(c.listeners[3].tls.key, "/own.key", MOAT_PATH_MAX);
	ck_assert_int_eq(tls_config_option(&c, "frontend-tls-cert", "/f.pem"),
	    0);
	ck_assert_int_eq(tls_config_option(&c, "frontend-tls-key", "/f.key"),
	    0);
	ck_assert_int_eq(tls_config_finish(&c), 0);
	ck_assert_int_eq(c.listeners[0].tls.enabled, 1);
	ck_assert_str_eq(c.listeners[0].tls.cert, "/f.pem");
	ck_assert_int_eq(c.listeners[1].tls.enabled, 0);
	ck_assert_int_eq(c.listeners[2].tls.enabled, 1);
	ck_assert_str_eq(c.listeners[2].tls.key, "/f.key");
	ck_assert_str_eq(c.listeners[3].tls.cert, "/own.pem");
	ck_assert_int_eq(c.backend_tls.enabled, 0);
	ck_assert_int_eq(tls_config_keys(&c), 3);
	config_free(&c);

	/* A client CA alone is no server. */
	conf_with(&c, a, 1);
	ck_assert_int_eq(tls_config_option(&c, "frontend-tls-cacert", "/ca"),
	    0);
	ck_assert_int_eq(tls_config_finish(&c), -1);
	config_free(&c);
}
END_TEST

START_TEST(test_finish_errors)
{
	const char		*a[] = { "tcp://127.0.0.1:1" };
	const char		*u[] = { "unix:///run/x" };
	struct moat_config	 c;
	const char		*why;

	/* A CRL without its CA. */
	conf_with(&c, a, 1);
	tls_config_option(&c, "frontend-tls-cert", "/c");
	tls_config_option(&c, "frontend-tls-key", "/k");
	tls_config_option(&c, "frontend-tls-crl", "/crl");
	ck_assert_int_eq(tls_config_finish(&c), -1);
	config_free(&c);

	/* Bad protocols. */
	conf_with(&c, a, 1);
	tls_config_option(&c, "frontend-tls-cert", "/c");
	tls_config_option(&c, "frontend-tls-key", "/k");
	tls_config_option(&c, "frontend-tls-protocols", "tlsv1.1");
	ck_assert_int_eq(tls_config_finish(&c), -1);
	config_free(&c);

	/* TLS on a unix listener, from a configuration file. */
	conf_with(&c, u, 1);
	ck_assert_int_eq(tls_config_set(&c.listeners[0].tls, "certificate",
	    "/c", &why), 0);
	ck_assert_int_eq(tls_config_set(&c.listeners[0].tls, "key", "/k",
	    &why), 0);
	ck_assert_int_eq(tls_config_finish(&c), -1);
	config_free(&c);

	/* TLS to a unix backend. */
	conf_with(&c, a, 1);
	tls_config_option(&c, "backend-tls-cacert", "/ca");
	ck_assert_int_eq(tls_config_finish(&c), -1);
	config_free(&c);

	/* A client key without its certificate. */
	conf_with(&c, a, 1);
	ck_assert_int_eq(config_parse_addr("tcp://docker.x:2376", &c.backend,
	    &why), 0);
	tls_config_option(&c, "backend-tls-key", "/k");
	ck_assert_int_eq(tls_config_finish(&c), -1);
	config_free(&c);

	/* Fine: the name to verify defaults to the backend's host. */
	conf_with(&c, a, 1);
	ck_assert_int_eq(config_parse_addr("tcp://docker.x:2376", &c.backend,
	    &why), 0);
	tls_config_option(&c, "backend-tls-cacert", "/ca");
	ck_assert_int_eq(tls_config_finish(&c), 0);
	ck_assert_int_eq(c.backend_tls.enabled, 1);
	ck_assert_str_eq(c.backend_tls.name, "docker.x");
	ck_assert_int_eq(tls_config_keys(&c), 0);
	config_free(&c);
}
END_TEST

/* The configuration file's TLS words end up where they belong. */
START_TEST(test_parse_file)
{
	struct moat_config	 c;
	struct moat_tls		*t;

	config_defaults(&c);
	ck_assert_int_eq(parse_config(PARSE_DIR "/good/tls.conf", &c), 0);
	ck_assert_int_eq(c.nlisteners, 4);
	t = &c.listeners[0].tls;
	ck_assert_int_eq(t->enabled, 1);
	ck_assert_str_eq(t->cert, "/etc/moatd/server.pem");
	ck_assert_str_eq(t->key, "/etc/moatd/server.key");
	ck_assert_str_eq(t->ca, "/etc/moatd/clients.pem");
	ck_assert_str_eq(t->crl, "/etc/moatd/clients.crl");
	ck_assert_str_eq(t->protocols, "tlsv1.2,tlsv1.3");
	ck_assert_str_eq(t->ciphers, "ECDHE+AESGCM");
	ck_assert_str_eq(t->ciphersuites, "TLS_AES_256_GCM_SHA384");
	ck_assert_int_eq(c.listeners[1].addr.kind, ADDR_SYSTEMD);
	ck_assert_int_eq(c.listeners[1].tls.enabled, 1);
	ck_assert_str_eq(c.listeners[1].tls.key, "/etc/moatd/server.key");
	ck_assert_int_eq(c.listeners[2].tls.enabled, 0);
	ck_assert_int_eq(c.listeners[3].tls.enabled, 0);
	t = &c.backend_tls;
	ck_assert_int_eq(t->enabled, 1);
	ck_assert_str_eq(t->ca, "/etc/moatd/docker-ca.pem");
	ck_assert_str_eq(t->cert, "/etc/moatd/client.pem");
	ck_assert_str_eq(t->name, "docker.example");
	ck_assert_str_eq(t->protocols, "tlsv1.3");
	ck_assert_int_eq(tls_config_finish(&c), 0);
	config_free(&c);
}
END_TEST

/* A reload: the running listeners, each with its new TLS block. */
START_TEST(test_keep_listeners)
{
	const char		*a[] = { "tcp://127.0.0.1:1", "tcp://127.0.0.1:2",
	    "unix:///run/x" };
	const char		*b[] = { "tcp://127.0.0.1:2", "tcp://127.0.0.1:1",
	    "tcp://127.0.0.1:9" };
	struct moat_config	 old, nc;
	char			*old0, *new0, *old1, *new1, *extra;

	conf_with(&old, a, 3);
	conf_with(&nc, b, 3);
	old.listeners[0].fd = 10;
	old.listeners[1].fd = 11;
	old.listeners[2].fd = 12;
	old.listeners[0].tls.enabled = old.listeners[1].tls.enabled = 1;
	old0 = old.listeners[0].tls.cert_pem = strdup("old0");
	old1 = old.listeners[1].tls.cert_pem = strdup("old1");
	/* :1 keeps TLS: takes the new block; :2 turns TLS off: keeps it */
	nc.listeners[1].tls.enabled = 1;
	new0 = nc.listeners[1].tls.cert_pem = strdup("new0");
	new1 = nc.listeners[0].tls.cert_pem = strdup("new1");
	nc.listeners[2].tls.enabled = 1;
	extra = nc.listeners[2].tls.cert_pem = strdup("extra");

	tls_config_keep_listeners(&nc, &old);
	ck_assert_int_eq(nc.nlisteners, 3);
	ck_assert_str_eq(nc.listeners[0].addr.text, "tcp://127.0.0.1:1");
	ck_assert_int_eq(nc.listeners[0].fd, 10);
	ck_assert_ptr_eq(nc.listeners[0].tls.cert_pem, new0);
	ck_assert_str_eq(nc.listeners[1].addr.text, "tcp://127.0.0.1:2");
	ck_assert_int_eq(nc.listeners[1].fd, 11);
	ck_assert_ptr_eq(nc.listeners[1].tls.cert_pem, old1);
	ck_assert_int_eq(nc.listeners[1].tls.enabled, 1);
	ck_assert_int_eq(nc.listeners[2].fd, 12);
	ck_assert_ptr_null(nc.listeners[2].tls.cert_pem);
	/* What was not taken is old's to free: each pointer once. */
	ck_assert(old.listeners[0].tls.cert_pem == old0 ||
	    old.listeners[1].tls.cert_pem == old0 ||
	    old.listeners[2].tls.cert_pem == old0);
	ck_assert(old.listeners[0].tls.cert_pem == new1 ||
	    old.listeners[1].tls.cert_pem == new1 ||
	    old.listeners[2].tls.cert_pem == new1);
	ck_assert(old.listeners[0].tls.cert_pem == extra ||
	    old.listeners[1].tls.cert_pem == extra ||
	    old.listeners[2].tls.cert_pem == extra);
	config_free(&old);
	config_free(&nc);
}
END_TEST

/* Files for tls_config_load: a self-signed certificate for a key. */
static EVP_PKEY *
make_key(const char *type)
{
	EVP_PKEY	*k;

	if (strcmp(type, "RSA") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	else if (strcmp(type, "EC") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	else
		k = EVP_PKEY_Q_keygen(NULL, NULL, type);
	ck_assert_ptr_nonnull(k);
	return k;
}

static void
write_key(EVP_PKEY *k, const char *name)
{
	char	 path[PATH_MAX];
	FILE	*fp;

	tmppath(path, sizeof(path), name);
	ck_assert_ptr_nonnull(fp = fopen(path, "w"));
	ck_assert_int_eq(PEM_write_PrivateKey(fp, k, NULL, NULL, 0, NULL,
	    NULL), 1);
	fclose(fp);
}

static void
write_cert(EVP_PKEY *k, const char *name, int days)
{
	X509	*x;
	char	 path[PATH_MAX];
	FILE	*fp;

	ck_assert_ptr_nonnull(x = X509_new());
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -2 * 86400);
	X509_gmtime_adj(X509_getm_notAfter(x), (long)days * 86400);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN",
	    MBSTRING_ASC, (const unsigned char *)"unit", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_set_pubkey(x, k);
	ck_assert_int_gt(X509_sign(x, k, EVP_PKEY_get_base_id(k) ==
	    EVP_PKEY_ED25519 ? NULL : EVP_sha256()), 0);
	tmppath(path, sizeof(path), name);
	ck_assert_ptr_nonnull(fp = fopen(path, "w"));
	ck_assert_int_eq(PEM_write_X509(fp, x), 1);
	fclose(fp);
	X509_free(x);
}

static void
tls_listener(struct moat_config *c, const char *cert, const char *key,
    const char *ca)
{
	const char	*a[] = { "tcp://127.0.0.1:1" };

	conf_with(c, a, 1);
	c->listeners[0].tls.enabled = 1;
	tmppath(c->listeners[0].tls.cert, MOAT_PATH_MAX, cert);
	tmppath(c->listeners[0].tls.key, MOAT_PATH_MAX, key);
	if (ca != NULL)
		tmppath(c->listeners[0].tls.ca, MOAT_PATH_MAX, ca);
}

START_TEST(test_load)
{
	struct moat_config	 c;
	EVP_PKEY		*rsa, *ec, *ed;
	uint8_t			 id[TLS_KEYID_LEN];

	rsa = make_key("RSA");
	ec = make_key("EC");
	ed = make_key("ED25519");
	write_key(rsa, "rsa.key");
	write_cert(rsa, "rsa.pem", 30);
	write_key(ec, "ec.key");
	write_cert(ec, "ec.pem", 30);
	write_key(ed, "ed.key");
	write_cert(ed, "ed.pem", 30);

	/* Good: the public bytes are kept, the key is named. */
	tls_listener(&c, "rsa.pem", "rsa.key", "ec.pem");
	ck_assert_int_eq(tls_config_load(&c), 0);
	ck_assert_ptr_nonnull(c.listeners[0].tls.cert_pem);
	ck_assert_ptr_nonnull(strstr(c.listeners[0].tls.cert_pem,
	    "BEGIN CERTIFICATE"));
	ck_assert_ptr_null(strstr(c.listeners[0].tls.cert_pem, "PRIVATE"));
	ck_assert_ptr_nonnull(c.listeners[0].tls.ca_pem);
	ck_assert_int_eq(tls_keyid(rsa, id), 0);
	ck_assert_mem_eq(c.listeners[0].tls.keyid, id, sizeof(id));
	config_free(&c);

	tls_listener(&c, "ec.pem", "ec.key", NULL);
	ck_assert_int_eq(tls_config_load(&c), 0);
	ck_assert_int_eq(tls_keyid(ec, id), 0);
	ck_assert_mem_eq(c.listeners[0].tls.keyid, id, sizeof(id));
	ck_assert_ptr_null(c.listeners[0].tls.ca_pem);
	config_free(&c);

	/* Another certificate's key, Ed25519, a key as a CA, no file. */
	tls_listener(&c, "ec.pem", "rsa.key", NULL);
	ck_assert_int_eq(tls_config_load(&c), -1);
	ck_assert_ptr_null(c.listeners[0].tls.cert_pem);
	config_free(&c);
	tls_listener(&c, "ed.pem", "ed.key", NULL);
	ck_assert_int_eq(tls_config_load(&c), -1);
	config_free(&c);
	tls_listener(&c, "ec.pem", "ec.key", "ec.key");
	ck_assert_int_eq(tls_config_load(&c), -1);
	config_free(&c);
	tls_listener(&c, "missing.pem", "ec.key", NULL);
	ck_assert_int_eq(tls_config_load(&c), -1);
	config_free(&c);

	/* A failed reload keeps what was loaded before. */
	tls_listener(&c, "ec.pem", "ec.key", NULL);
	ck_assert_int_eq(tls_config_load(&c), 0);
	tmppath(c.listeners[0].tls.key, MOAT_PATH_MAX, "rsa.key");
	ck_assert_int_eq(tls_config_load(&c), -1);
	ck_assert_ptr_nonnull(c.listeners[0].tls.cert_pem);
	ck_assert_int_eq(tls_keyid(ec, id), 0);
	ck_assert_mem_eq(c.listeners[0].tls.keyid, id, sizeof(id));
	config_free(&c);

	EVP_PKEY_free(rsa);
	EVP_PKEY_free(ec);
	EVP_PKEY_free(ed);
}
END_TEST

START_TEST(test_ident)
{
	struct ident	 id;
	char		 log[2048], big[IDENT_VALUE_MAX + 10];

	memset(&id, 0, sizeof(id));
	ck_assert_int_eq(ident_add(&id, "tls.version", "TLSv1.3"), 0);
	ck_assert_int_eq(ident_add(&id, "cert.subject",
	    "CN=a \"b\" \\c,O=x"), 0);
	ck_assert_int_eq(ident_add(&id, "cert.san.dns", "a.example"), 0);
	ck_assert_int_eq(ident_add(&id, "cert.san.ip", "127.0.0.1"), 0);
	ck_assert_int_eq(ident_add(&id, "cert.san.dns", "b.example"), 0);
	ck_assert_int_eq(ident_add(&id, "cert.sha256", "ab12"), 0);
	ck_assert_int_eq(ident_add(&id, "Bad Key", "x"), -1);
	ck_assert_int_eq(ident_add(&id, "k", "tab\there"), -1);
	ck_assert_str_eq(ident_get(&id, "cert.san.dns"), "a.example");
	ck_assert_ptr_null(ident_get(&id, "cert.issuer"));
	memset(big, 'v', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(ident_add(&id, "long", big), 0);
	ck_assert_uint_eq(strlen(ident_get(&id, "long")),
	    IDENT_VALUE_MAX - 1);

	ident_logstr(&id, log, sizeof(log));
	ck_assert_str_eq(log, " cert_subject=\"CN=a \\\"b\\\" \\\\c,O=x\""
	    " cert_san=\"DNS:a.example,IP:127.0.0.1,DNS:b.example\""
	    " cert_sha256=\"ab12\"");

	/* No identity: nothing logged. */
	ident_logstr(NULL, log, sizeof(log));
	ck_assert_str_eq(log, "");
	ident_clear(&id);
}
END_TEST

/* What a policy worker must refuse from a relay. */
Suite *
tls_suite(void)
{
	Suite	*s = suite_create("tls");
	TCase	*tc = tcase_create("conf");
	TCase	*tl = tcase_create("load");
	TCase	*ti = tcase_create("ident");

	tcase_add_test(tc, test_protocols);
	tcase_add_test(tc, test_options);
	tcase_add_test(tc, test_words);
	tcase_add_test(tc, test_finish_frontend);
	tcase_add_test(tc, test_finish_errors);
	tcase_add_test(tc, test_parse_file);
	tcase_add_test(tc, test_keep_listeners);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(tl, tmp_setup, tmp_teardown);
	tcase_set_timeout(tl, 60);
	tcase_add_test(tl, test_load);
	suite_add_tcase(s, tl);
	tcase_add_test(ti, test_ident);
	suite_add_tcase(s, ti);
	return s;
}
