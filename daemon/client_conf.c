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
 * Client blocks on the configuration side: each match line checked and
 * made ready for matching (addresses as networks, user and group names
 * as ids, looked up now, in the parent), and printed back for moatd -n.
 * What holds for a connection is client.c's.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "moatd.h"

#define ID_MAX		2147483647	/* unix uid N, unix gid N */
#define CID_MIN		12		/* a container id prefix, at least */

static const char	*names_chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "abcdefghijklmnopqrstuvwxyz0123456789._-";

int
client_name_check(const char *s, char *why, size_t whysz)
{
	size_t	 n = strlen(s);

	if (n == 0)
		return why_set(why, whysz, "empty name");
	if (n >= CLIENT_NAME_MAX)
		return why_set(why, whysz, "a name has at most %d characters",
		    CLIENT_NAME_MAX - 1);
	if (strspn(s, names_chars) != n)
		return why_set(why, whysz, "a name has only letters, digits, "
		    "'.', '_' and '-'");
	return 0;
}

const struct moat_client *
client_byname(const struct moat_config *c, const char *name)
{
	size_t	 i;

	for (i = 0; i < c->nclients; i++)
		if (strcmp(c->clients[i].name, name) == 0)
			return &c->clients[i];
	return NULL;
}

int
client_check_listeners(const struct moat_config *c,
    const struct moat_config *l)
{
	const struct client_match	*m;
	size_t				 i, j, k;
	int				 rv = 0;

	for (i = 0; i < c->nclients; i++) {
		for (j = 0; j < c->clients[i].nm; j++) {
			m = &c->clients[i].m[j];
			if (m->kind != MATCH_LISTENER)
				continue;
			for (k = 0; k < l->nlisteners; k++)
				if (strcmp(l->listeners[k].name, m->text) == 0)
					break;
			if (k < l->nlisteners)
				continue;
			log_warnx("client \"%s\": match listener \"%s\": no "
			    "listener has that name", c->clients[i].name,
			    m->text);
			rv = -1;
		}
	}
	return rv;
}

static int
lower_hex(const char *s)
{
	return strspn(s, "0123456789abcdef") == strlen(s);
}

/* A whole subject or issuer, a label: printable ASCII. */
static int
printable(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s < 0x20 || *s > 0x7e)
			return 0;
	return 1;
}

/* "DNS:x", "IP:addr", "email:x", "URI:x": the prefix in this spelling. */
static int
parse_san(struct client_match *m, const char *v, char *why, size_t whysz)
{
	static const char	*prefix[] = { "DNS:", "IP:", "email:", "URI:" };
	unsigned char		 a[16];
	char			 ip[INET6_ADDRSTRLEN];
	const char		*rest;
	size_t			 i, n;
	int			 af;

	for (i = 0; i < sizeof(prefix) / sizeof(prefix[0]); i++) {
		n = strlen(prefix[i]);
		if (strncasecmp(v, prefix[i], n) == 0)
			break;
	}
	if (i == sizeof(prefix) / sizeof(prefix[0]))
		return why_set(why, whysz, "must start with DNS:, IP:, email: "
		    "or URI:");
	rest = v + n;
	if (*rest == '\0')
		return why_set(why, whysz, "nothing after %s", prefix[i]);
	if (i == 1) {
		/* as the relay writes it: inet_ntop's form */
		af = strchr(rest, ':') != NULL ? AF_INET6 : AF_INET;
		if (inet_pton(af, rest, a) != 1 ||
		    inet_ntop(af, a, ip, sizeof(ip)) == NULL)
			return why_set(why, whysz, "\"%s\" is not an IP "
			    "address", rest);
		rest = ip;
	}
	(void)snprintf(m->text, sizeof(m->text), "%s%s", prefix[i], rest);
	return 0;
}

/* 10.1.0.0/16, fd00::/8, or a bare address (/32, /128). */
static int
parse_address(struct client_match *m, const char *v, char *why,
    size_t whysz)
{
	char		 addr[INET6_ADDRSTRLEN + 1], net[INET6_ADDRSTRLEN];
	uint8_t		 masked[16];
	const char	*slash, *errstr;
	size_t		 n;
	int		 max, i, bits;

	slash = strchr(v, '/');
	n = slash != NULL ? (size_t)(slash - v) : strlen(v);
	if (n == 0 || n >= sizeof(addr))
		return why_set(why, whysz, "not an IPv4 or IPv6 address");
	memcpy(addr, v, n);
	addr[n] = '\0';
	m->af = strchr(addr, ':') != NULL ? AF_INET6 : AF_INET;
	max = m->af == AF_INET ? 32 : 128;
	if (inet_pton(m->af, addr, m->net) != 1)
		return why_set(why, whysz, "not an IPv4 or IPv6 address");
	m->plen = max;
	if (slash != NULL) {
		m->plen = strtonum(slash + 1, 0, max, &errstr);
		if (errstr != NULL || slash[1] == '\0' ||
		    strspn(slash + 1, "0123456789") != strlen(slash + 1))
			return why_set(why, whysz, "the prefix length must be "
			    "0 to %d", max);
	}
	memcpy(masked, m->net, sizeof(masked));
	for (i = 0; i < max / 8; i++) {
		bits = m->plen - i * 8;
		if (bits < 8)
			masked[i] &= bits <= 0 ? 0 : (0xff << (8 - bits)) & 0xff;
	}
	if (memcmp(masked, m->net, max / 8) != 0) {
		(void)inet_ntop(m->af, masked, net, sizeof(net));
		return why_set(why, whysz, "host bits set (the network is "
		    "%s/%d)", net, m->plen);
	}
	(void)inet_ntop(m->af, m->net, net, sizeof(net));
	if (m->plen == max)
		strlcpy(m->text, net, sizeof(m->text));
	else
		(void)snprintf(m->text, sizeof(m->text), "%s/%d", net,
		    m->plen);
	return 0;
}

/* A uid or gid: digits, or a name looked up now. */
static int
parse_id(struct client_match *m, const char *v, char *why, size_t whysz)
{
	struct passwd	*pw;
	struct group	*gr;
	const char	*errstr, *kind;
	long long	 n;

	kind = m->kind == MATCH_UNIX_UID ? "user" : "group";
	if (strspn(v, "0123456789") == strlen(v)) {
		n = strtonum(v, 0, ID_MAX, &errstr);
		if (errstr != NULL)
			return why_set(why, whysz, "not a %s id (0 to %d)",
			    kind, ID_MAX);
		m->id = n;
		(void)snprintf(m->text, sizeof(m->text), "%lld", n);
		return 0;
	}
	if (m->kind == MATCH_UNIX_UID) {
		if ((pw = getpwnam(v)) == NULL)
			return why_set(why, whysz, "no such user");
		m->id = pw->pw_uid;
	} else {
		if ((gr = getgrnam(v)) == NULL)
			return why_set(why, whysz, "no such group");
		m->id = gr->gr_gid;
	}
	strlcpy(m->text, v, sizeof(m->text));
	return 0;
}

/* Docker's container names: [a-zA-Z0-9][a-zA-Z0-9_.-]+, '/' before. */
static int
parse_cname(struct client_match *m, const char *v, char *why, size_t whysz)
{
	size_t	 n;

	if (*v == '/')
		v++;
	n = strlen(v);
	if (n < 2 || strchr("_.-", *v) != NULL ||
	    strspn(v, names_chars) != n)
		return why_set(why, whysz, "not a container name (a letter or "
		    "digit, then letters, digits, '_', '.', '-')");
	strlcpy(m->text, v, sizeof(m->text));
	return 0;
}

int
client_match_parse(struct client_match *m, enum match_kind kind,
    const char *v, char *why, size_t whysz)
{
	size_t	 n = strlen(v);

	memset(m, 0, sizeof(*m));
	m->kind = kind;
	if (n == 0)
		return why_set(why, whysz, "empty");
	if (n >= sizeof(m->text))
		return why_set(why, whysz, "longer than %zu bytes",
		    sizeof(m->text) - 1);
	if (!printable(v))
		return why_set(why, whysz, "only printable ASCII");
	strlcpy(m->text, v, sizeof(m->text));
	switch (kind) {
	case MATCH_TLS_SUBJECT:
	case MATCH_TLS_ISSUER:
		return 0;
	case MATCH_TLS_SAN:
		return parse_san(m, v, why, whysz);
	case MATCH_TLS_SHA256:
		if (n != 64 || !lower_hex(v))
			return why_set(why, whysz, "must be 64 lowercase hex "
			    "digits without colons, as the log line's "
			    "cert_sha256 shows it");
		return 0;
	case MATCH_ADDRESS:
		return parse_address(m, v, why, whysz);
	case MATCH_LISTENER:
		return client_name_check(v, why, whysz);
	case MATCH_UNIX_UID:
	case MATCH_UNIX_GID:
		return parse_id(m, v, why, whysz);
	case MATCH_CONTAINER_ID:
		if (n < CID_MIN || n > 64 || !lower_hex(v))
			return why_set(why, whysz, "must be %d to 64 lowercase "
			    "hex digits (the full id or a prefix of it)",
			    CID_MIN);
		return 0;
	case MATCH_CONTAINER_NAME:
		return parse_cname(m, v, why, whysz);
	case MATCH_CONTAINER_LABEL:
		if (v[0] == '=' || memchr(v, ' ', strcspn(v, "=")) != NULL)
			return why_set(why, whysz, "must be \"key=value\" or "
			    "\"key\", the key without spaces");
		return 0;
	}
	return why_set(why, whysz, "unknown kind of match");
}

void
client_match_print(const struct client_match *m, FILE *fp)
{
	const char	*word = NULL;
	int		 digits;

	digits = m->text[0] != '\0' &&
	    strspn(m->text, "0123456789") == strlen(m->text);
	switch (m->kind) {
	case MATCH_TLS_SUBJECT:
		word = "tls subject";
		break;
	case MATCH_TLS_ISSUER:
		word = "tls issuer";
		break;
	case MATCH_TLS_SAN:
		word = "tls san";
		break;
	case MATCH_TLS_SHA256:
		word = "tls sha256";
		break;
	case MATCH_ADDRESS:
		/* a word the lexer reads as one: no quotes needed */
		fprintf(fp, "match address %s", m->text);
		return;
	case MATCH_LISTENER:
		word = "listener";
		break;
	case MATCH_UNIX_UID:
		if (digits) {
			fprintf(fp, "match unix uid %s", m->text);
			return;
		}
		word = "unix user";
		break;
	case MATCH_UNIX_GID:
		if (digits) {
			fprintf(fp, "match unix gid %s", m->text);
			return;
		}
		word = "unix group";
		break;
	case MATCH_CONTAINER_ID:
		word = "container id";
		break;
	case MATCH_CONTAINER_NAME:
		word = "container name";
		break;
	case MATCH_CONTAINER_LABEL:
		word = "container label";
		break;
	}
	if (word == NULL)
		return;
	fprintf(fp, "match %s ", word);
	config_print_quoted(fp, m->text);
}
