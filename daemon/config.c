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
 * The configuration: defaults, addresses, rule sources, and how the
 * parent hands it to its children (as bytes: children are chrooted and
 * cannot open files, and a reload must need no new system calls).
 */

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "moatd.h"

#define RULES_FILE_MAX	(MSG_CFG_MAXSZ - 4096)	/* one message per source */

void
config_defaults(struct moat_config *c)
{
	long	 n;

	memset(c, 0, sizeof(*c));
	c->log_level = LOG_LEVEL_DEFAULT;
	c->builtin = 1;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	c->prefork = (n < 1) ? 1 : (n > MOAT_PREFORK_MAX ? MOAT_PREFORK_MAX :
	    (int)n);
	strlcpy(c->user, MOATD_USER, sizeof(c->user));
	strlcpy(c->chroot, MOATD_CHROOT, sizeof(c->chroot));
	(void)config_parse_addr("unix:///var/run/docker.sock", &c->backend,
	    NULL);
	c->limits.head_max = HTTP_HEAD_MAX;
	c->limits.line_max = HTTP_LINE_MAX;
	c->limits.headers_max = HTTP_HEADERS_MAX;
	c->head_timeout = 10;
	c->idle_timeout = 90;
	c->drain_timeout = 10;
	c->body_timeout = MOAT_BODY_TIMEOUT;
	c->conn_per_addr = MOAT_CONN_PEER;
	c->conn_per_uid = MOAT_CONN_PEER;
	strlcpy(c->pidfile, "/run/moatd.pid", sizeof(c->pidfile));
}

static void
source_free(struct rule_source *src)
{
	free(src->name);
	free(src->text);
}

void
config_free(struct moat_config *c)
{
	size_t	 i;

	for (i = 0; i < c->nsources; i++)
		source_free(&c->sources[i]);
	free(c->sources);
	c->sources = NULL;
	c->nsources = 0;
	body_policy_free(&c->body);
	memset(&c->body, 0, sizeof(c->body));
	tls_config_free(c);
}

static int
parse_tcp(const char *hp, struct moat_addr *a, const char **why)
{
	const char	*colon, *end, *errstr;

	if (*hp == '[') {
		if ((end = strchr(hp, ']')) == NULL || end[1] != ':') {
			*why = "bad bracketed IPv6 address";
			return -1;
		}
		if ((size_t)(end - hp - 1) >= sizeof(a->host)) {
			*why = "host too long";
			return -1;
		}
		memcpy(a->host, hp + 1, end - hp - 1);
		a->host[end - hp - 1] = '\0';
		colon = end + 1;
	} else {
		if ((colon = strrchr(hp, ':')) == NULL) {
			*why = "missing port";
			return -1;
		}
		if (memchr(hp, ':', colon - hp) != NULL) {
			*why = "IPv6 addresses need brackets";
			return -1;
		}
		if ((size_t)(colon - hp) >= sizeof(a->host)) {
			*why = "host too long";
			return -1;
		}
		memcpy(a->host, hp, colon - hp);
		a->host[colon - hp] = '\0';
	}
	if (strlen(colon + 1) >= sizeof(a->port)) {
		*why = "bad port";
		return -1;
	}
	(void)strtonum(colon + 1, 0, 65535, &errstr);
	if (errstr != NULL || colon[1] == '\0') {
		*why = "bad port";
		return -1;
	}
	strlcpy(a->port, colon + 1, sizeof(a->port));
	a->kind = ADDR_TCP;
	return 0;
}

/*
 * CetusGuard's address forms: unix:///path and tcp://host:port, with
 * IPv6 in brackets; an empty host (tcp://:2375) means every address.
 */
int
config_parse_addr(const char *s, struct moat_addr *a, const char **why)
{
	const char	*dummy;

	if (why == NULL)
		why = &dummy;
	memset(a, 0, sizeof(*a));
	if (strlcpy(a->text, s, sizeof(a->text)) >= sizeof(a->text)) {
		*why = "address too long";
		return -1;
	}
	if (strncmp(s, "unix://", 7) == 0) {
		if (s[7] != '/') {
			*why = "unix socket path must be absolute";
			return -1;
		}
		if (strlcpy(a->path, s + 7, sizeof(a->path)) >=
		    sizeof(a->path)) {
			*why = "unix socket path too long";
			return -1;
		}
		a->kind = ADDR_UNIX;
		return 0;
	}
	if (strncmp(s, "tcp://", 6) == 0)
		return parse_tcp(s + 6, a, why);
	*why = "address must start with unix:// or tcp://";
	return -1;
}

static int
add_source(struct moat_config *c, const char *name, char *text, size_t len,
    int file)
{
	struct rule_source	*ns;

	ns = reallocarray(c->sources, c->nsources + 1, sizeof(*ns));
	if (ns == NULL)
		return -1;
	c->sources = ns;
	if ((ns[c->nsources].name = strdup(name)) == NULL)
		return -1;
	ns[c->nsources].text = text;
	ns[c->nsources].len = len;
	ns[c->nsources].file = file;
	c->nsources++;
	return 0;
}

int
config_add_rules_text(struct moat_config *c, const char *name,
    const char *text)
{
	char	*copy;
	size_t	 len = strlen(text);

	if (len > RULES_FILE_MAX) {
		log_warnx("%s: rules too long (at most %d bytes)", name,
		    RULES_FILE_MAX);
		return -1;
	}
	if ((copy = strdup(text)) == NULL)
		fatal("%s", __func__);
	if (add_source(c, name, copy, len, 0) == -1)
		fatal("%s", __func__);
	return 0;
}

/*
 * The size bytes of the regular file open on fd, NUL-terminated, in a
 * new *bufp.  0, or -1 with *why set.
 */
int
read_fd_all(int fd, size_t size, char **bufp, const char **why)
{
	char		*buf;
	ssize_t		 n;
	size_t		 off = 0;

	if ((buf = malloc(size + 1)) == NULL)
		fatal("%s", __func__);
	while (off < size) {
		n = read(fd, buf + off, size - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			*why = n == 0 ? "file shrank while read" :
			    strerror(errno);
			freezero(buf, size + 1);
			return -1;
		}
		off += n;
	}
	buf[off] = '\0';
	*bufp = buf;
	return 0;
}

/*
 * Read a rules file from an open descriptor (the caller may have checked
 * who owns it first); the source is named name.  0, or -1 with *why set.
 */
int
config_add_rules_fd(struct moat_config *c, int fd, const char *name,
    const char **why)
{
	static char	 toobig[64];
	struct stat	 st;
	char		*buf;

	if (fstat(fd, &st) == -1) {
		*why = strerror(errno);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > RULES_FILE_MAX) {
		(void)snprintf(toobig, sizeof(toobig),
		    "not a regular file of at most %d bytes", RULES_FILE_MAX);
		*why = toobig;
		return -1;
	}
	if (read_fd_all(fd, st.st_size, &buf, why) == -1)
		return -1;
	if (add_source(c, name, buf, st.st_size, 1) == -1)
		fatal("%s", __func__);
	return 0;
}

int
config_add_rules_file(struct moat_config *c, const char *path)
{
	const char	*why;
	int		 fd, rv;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		log_warn("%s", path);
		return -1;
	}
	if ((rv = config_add_rules_fd(c, fd, path, &why)) == -1)
		log_warnx("%s: %s", path, why);
	close(fd);
	return rv;
}

static void
rules_log(void *arg, const char *msg)
{
	log_warnx("%s", msg);
}

struct ruleset *
config_ruleset(const struct moat_config *c, rules_errfn fn, void *arg)
{
	struct ruleset	*rs;
	size_t		 i;
	int		 errors = 0;

	if ((rs = ruleset_new()) == NULL)
		fatal("%s", __func__);
	ruleset_set_warn(rs, rules_log, NULL);
	for (i = 0; i < c->nsources; i++)
		errors += ruleset_add_text(rs, c->sources[i].name,
		    c->sources[i].text, c->sources[i].len, fn, arg);
	if (c->builtin)
		errors += ruleset_add_builtin(rs, fn, arg);
	if (errors > 0) {
		ruleset_free(rs);
		return NULL;
	}
	return rs;
}

int
config_send(struct msgbuf *mb, const struct moat_config *c, uint32_t gen)
{
	struct mbuf	 m;
	size_t		 i;
	int		 rv = 0;

	mbuf_init(&m);
	mbuf_add_u32(&m, c->log_level);
	mbuf_add_u32(&m, c->builtin);
	mbuf_add_u64(&m, c->limits.head_max);
	mbuf_add_u64(&m, c->limits.line_max);
	mbuf_add_u64(&m, c->limits.headers_max);
	mbuf_add_u32(&m, c->head_timeout);
	mbuf_add_u32(&m, c->idle_timeout);
	mbuf_add_u32(&m, c->drain_timeout);
	mbuf_add_u32(&m, c->body_timeout);
	mbuf_add_u32(&m, c->conn_per_addr);
	mbuf_add_u32(&m, c->conn_per_uid);
	/* limit body and allow ...: the policy worker's admission control */
	if (body_policy_encode(&m, &c->body) == -1 || m.err ||
	    msg_compose(mb, MSG_CFG_GLOBAL, gen, -1, m.buf, m.len) == -1)
		rv = -1;
	mbuf_free(&m);
	for (i = 0; rv == 0 && i < c->nsources; i++) {
		mbuf_init(&m);
		mbuf_add_str(&m, c->sources[i].name);
		mbuf_add_data(&m, c->sources[i].text, c->sources[i].len);
		if (m.err || msg_compose(mb, MSG_CFG_RULES, gen, -1, m.buf,
		    m.len) == -1)
			rv = -1;
		mbuf_free(&m);
	}
	return rv;
}

/*
 * The generation's body policy waits with its rules for MSG_CFG_DONE,
 * where both replace the running ones at once.
 */
static void
pending_body_clear(struct child_config *cc)
{
	body_policy_free(&cc->pending_body);
	memset(&cc->pending_body, 0, sizeof(cc->pending_body));
}

static int
recv_global(struct child_config *cc, struct msg *m)
{
	struct moat_config	*c = &cc->conf;
	struct body_policy	 bp;
	struct mbuf		 r;
	uint32_t		 level, builtin, ht, it, dt, bt, ca, cu;
	uint64_t		 hm, lm, nm;

	mbuf_reader(&r, m->data, m->datalen);
	if (mbuf_get_u32(&r, &level) == -1 ||
	    mbuf_get_u32(&r, &builtin) == -1 ||
	    mbuf_get_u64(&r, &hm) == -1 || mbuf_get_u64(&r, &lm) == -1 ||
	    mbuf_get_u64(&r, &nm) == -1 || mbuf_get_u32(&r, &ht) == -1 ||
	    mbuf_get_u32(&r, &it) == -1 || mbuf_get_u32(&r, &dt) == -1 ||
	    mbuf_get_u32(&r, &bt) == -1 || mbuf_get_u32(&r, &ca) == -1 ||
	    mbuf_get_u32(&r, &cu) == -1 ||
	    level > LOG_DEBUG || hm > HTTP_HEAD_MAX || lm > HTTP_LINE_MAX ||
	    lm > hm || nm > HTTP_HEADERS_MAX || ca > MOAT_CONN_PEER_MAX ||
	    cu > MOAT_CONN_PEER_MAX)
		return -1;
	memset(&bp, 0, sizeof(bp));
	if (body_policy_decode(&r, &bp) == -1 || mbuf_end(&r) == -1 ||
	    (bp.limit != 0 && (bp.limit < BODY_LIMIT_MIN ||
	    bp.limit > BODY_LIMIT_MAX))) {
		body_policy_free(&bp);
		return -1;
	}
	pending_body_clear(cc);
	cc->pending_body = bp;
	c->log_level = level;
	c->builtin = builtin != 0;
	c->limits.head_max = hm;
	c->limits.line_max = lm;
	c->limits.headers_max = nm;
	c->head_timeout = ht;
	c->idle_timeout = it;
	c->drain_timeout = dt;
	c->body_timeout = bt;
	c->conn_per_addr = ca;
	c->conn_per_uid = cu;
	if (cc->pending != NULL)
		ruleset_free(cc->pending);
	if ((cc->pending = ruleset_new()) == NULL)
		fatal("%s", __func__);
	ruleset_set_warn(cc->pending, rules_log, NULL);
	cc->gen = m->hdr.peerid;
	return 0;
}

int
config_recv(struct child_config *cc, struct msg *m)
{
	struct mbuf	 r;
	char		 name[256];
	const void	*text;
	size_t		 len;

	switch (m->hdr.type) {
	case MSG_CFG_GLOBAL:
		return recv_global(cc, m) == -1 ? -1 : 0;
	case MSG_CFG_RULES:
		if (cc->pending == NULL || m->hdr.peerid != cc->gen)
			return -1;
		mbuf_reader(&r, m->data, m->datalen);
		if (mbuf_get_str(&r, name, sizeof(name)) == -1 ||
		    mbuf_get_data(&r, &text, &len) == -1 || mbuf_end(&r) == -1)
			return -1;
		if (ruleset_add_text(cc->pending, name, text, len,
		    rules_log, NULL) != 0)
			return -1;
		return 0;
	case MSG_CFG_DONE:
		if (cc->pending == NULL || m->hdr.peerid != cc->gen)
			return -1;
		if (cc->conf.builtin && ruleset_add_builtin(cc->pending,
		    rules_log, NULL) != 0)
			return -1;
		if (cc->rs != NULL)
			ruleset_free(cc->rs);
		cc->rs = cc->pending;
		cc->pending = NULL;
		body_policy_free(&cc->conf.body);
		cc->conf.body = cc->pending_body;
		memset(&cc->pending_body, 0, sizeof(cc->pending_body));
		log_setlevel(cc->conf.log_level);
		return 1;
	default:
		return -1;
	}
}

/*
 * A child's configuration messages from the parent: 0 when m is none of
 * them, 1 when it was one, 2 when it completed a generation (the caller
 * acks it).  A bad one is fatal.
 */
int
config_take(struct child_config *cc, struct msg *m)
{
	switch (m->hdr.type) {
	case MSG_CFG_GLOBAL:
	case MSG_CFG_RULES:
	case MSG_CFG_DONE:
		break;
	default:
		return 0;
	}
	switch (config_recv(cc, m)) {
	case -1:
		fatalx("bad configuration from parent");
	case 1:
		return 2;
	}
	return 1;
}
