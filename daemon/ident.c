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
 * Who a client is, as its relay established it: today the TLS session
 * and the verified client certificate.  The relay sends it with every
 * request head to the policy worker, so that rules can one day select by
 * it, and writes it into the request's log line.  A list of key/value
 * attributes rather than a struct: a certificate has any number of
 * subject alternative names, and new kinds of identity (a unix peer's
 * uid, say) need no new message layout.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mbuf.h"
#include "moatd.h"

static int
ident_key_ok(const char *k)
{
	size_t	 n = strlen(k), i;

	if (n == 0 || n >= IDENT_KEY_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!((k[i] >= 'a' && k[i] <= 'z') ||
		    (k[i] >= '0' && k[i] <= '9') || k[i] == '.' ||
		    k[i] == '_' || k[i] == '-'))
			return 0;
	return 1;
}

/* Printable ASCII only: values end up in log lines and rule matches. */
static int
ident_value_ok(const char *v)
{
	for (; *v != '\0'; v++)
		if ((unsigned char)*v < 0x20 || (unsigned char)*v >= 0x7f)
			return 0;
	return 1;
}

int
ident_add(struct ident *id, const char *key, const char *value)
{
	char	*k, *v;

	if (id->n >= IDENT_ATTRS_MAX || !ident_key_ok(key) ||
	    !ident_value_ok(value))
		return -1;
	if ((k = strdup(key)) == NULL ||
	    (v = strndup(value, IDENT_VALUE_MAX - 1)) == NULL) {
		free(k);
		return -1;
	}
	id->a[id->n].key = k;
	id->a[id->n].value = v;
	id->n++;
	return 0;
}

const char *
ident_get(const struct ident *id, const char *key)
{
	size_t	 i;

	for (i = 0; i < id->n; i++)
		if (strcmp(id->a[i].key, key) == 0)
			return id->a[i].value;
	return NULL;
}

void
ident_clear(struct ident *id)
{
	size_t	 i;

	for (i = 0; i < id->n; i++) {
		free(id->a[i].key);
		free(id->a[i].value);
	}
	memset(id, 0, sizeof(*id));
}

/* Append key="value" with " and \ escaped; values are printable. */
static void
log_quoted(char *buf, size_t sz, const char *key, const char *value)
{
	size_t	 o = strlen(buf);

	if (o + strlen(key) + 4 >= sz)
		return;
	o += snprintf(buf + o, sz - o, " %s=\"", key);
	for (; *value != '\0' && o + 3 < sz; value++) {
		if (*value == '"' || *value == '\\')
			buf[o++] = '\\';
		buf[o++] = *value;
	}
	if (o + 1 < sz)
		buf[o++] = '"';
	buf[o] = '\0';
}

/* The certificate's names, "DNS:a,IP:b,...", as the log shows them. */
static void
san_join(const struct ident *id, char *san, size_t sz)
{
	const char	*prefix[] = { "cert.san.dns", "cert.san.ip",
	    "cert.san.email", "cert.san.uri" };
	const char	*label[] = { "DNS:", "IP:", "email:", "URI:" };
	size_t		 i, j;

	san[0] = '\0';
	for (i = 0; i < id->n; i++)
		for (j = 0; j < sizeof(prefix) / sizeof(prefix[0]); j++) {
			if (strcmp(id->a[i].key, prefix[j]) != 0)
				continue;
			if (san[0] != '\0')
				strlcat(san, ",", sz);
			strlcat(san, label[j], sz);
			strlcat(san, id->a[i].value, sz);
		}
}

void
ident_logstr(const struct ident *id, char *buf, size_t sz)
{
	const char	*v;
	char		 san[IDENT_VALUE_MAX];

	if (sz == 0)
		return;
	buf[0] = '\0';
	if (id == NULL || (v = ident_get(id, "cert.subject")) == NULL)
		return;
	log_quoted(buf, sz, "cert_subject", v);
	san_join(id, san, sizeof(san));
	if (san[0] != '\0')
		log_quoted(buf, sz, "cert_san", san);
	if ((v = ident_get(id, "cert.sha256")) != NULL)
		log_quoted(buf, sz, "cert_sha256", v);
}

/*
 * The same as a JSON object at buf[*off] ({} without a certificate),
 * each value cut at cap bytes.  0, or -1 when it does not fit.
 */
int
ident_logjson(const struct ident *id, char *buf, size_t sz, size_t *off,
    size_t cap)
{
	const char	*keys[] = { "cert_subject", "cert_san", "cert_sha256" };
	const char	*vals[3];
	char		 san[IDENT_VALUE_MAX];
	size_t		 o = *off, i;
	int		 first = 1;

	memset(vals, 0, sizeof(vals));
	if (id != NULL && (vals[0] = ident_get(id, "cert.subject")) != NULL) {
		san_join(id, san, sizeof(san));
		vals[1] = san[0] != '\0' ? san : NULL;
		vals[2] = ident_get(id, "cert.sha256");
	}
	if (o + 2 >= sz)
		return -1;
	buf[o++] = '{';
	for (i = 0; i < 3; i++) {
		if (vals[i] == NULL)
			continue;
		if (o + strlen(keys[i]) + 5 >= sz)
			return -1;
		o += snprintf(buf + o, sz - o, "%s\"%s\":", first ? "" : ",",
		    keys[i]);
		first = 0;
		if (json_write_str(buf, sz, &o, vals[i], cap) == -1)
			return -1;
	}
	if (o + 2 >= sz)
		return -1;
	buf[o++] = '}';
	buf[o] = '\0';
	*off = o;
	return 0;
}

/*
 * The wire form of an identity (MSG_POLICY_REQ's "who"): u32 count, then
 * count pairs of strings.  An attribute ident_add() would refuse or cut
 * makes the encoding fail, so what is decoded is what was meant.
 */
int
ident_encode(struct mbuf *m, const struct ident *id)
{
	size_t	 i;

	if (id->n > IDENT_ATTRS_MAX)
		m->err = 1;
	mbuf_add_u32(m, (uint32_t)id->n);
	for (i = 0; i < id->n && !m->err; i++) {
		if (!ident_key_ok(id->a[i].key) ||
		    !ident_value_ok(id->a[i].value) ||
		    strlen(id->a[i].value) >= IDENT_VALUE_MAX)
			m->err = 1;
		mbuf_add_str(m, id->a[i].key);
		mbuf_add_str(m, id->a[i].value);
	}
	return m->err ? -1 : 0;
}

/*
 * Strict: at most IDENT_ATTRS_MAX attributes, each key and value as
 * ident_add() takes them and not cut.  Leaves m after the last pair (the
 * caller checks mbuf_end()); on failure id is empty.
 */
int
ident_decode(struct mbuf *m, struct ident *id)
{
	char		 key[IDENT_KEY_MAX], value[IDENT_VALUE_MAX];
	uint32_t	 n, i;

	memset(id, 0, sizeof(*id));
	if (mbuf_get_u32(m, &n) == -1 || n > IDENT_ATTRS_MAX)
		return -1;
	for (i = 0; i < n; i++) {
		if (mbuf_get_str(m, key, sizeof(key)) == -1 ||
		    mbuf_get_str(m, value, sizeof(value)) == -1 ||
		    ident_add(id, key, value) == -1) {
			ident_clear(id);
			return -1;
		}
	}
	return 0;
}
