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

#include <sys/socket.h>
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

static void
sources_free(struct rule_source **srcp, size_t *np)
{
	size_t	 i;

	for (i = 0; i < *np; i++)
		source_free(&(*srcp)[i]);
	free(*srcp);
	*srcp = NULL;
	*np = 0;
}

/* A client block's sources and body policy; the block itself stays. */
void
client_free(struct moat_client *cl)
{
	sources_free(&cl->sources, &cl->nsources);
	body_policy_free(&cl->body);
	memset(&cl->body, 0, sizeof(cl->body));
}

void
config_free(struct moat_config *c)
{
	size_t	 i;

	sources_free(&c->sources, &c->nsources);
	for (i = 0; i < c->nclients; i++)
		client_free(&c->clients[i]);
	free(c->clients);
	c->clients = NULL;
	c->nclients = 0;
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
add_source(struct rule_source **srcp, size_t *np, const char *name,
    char *text, size_t len, int file)
{
	struct rule_source	*ns;

	ns = reallocarray(*srcp, *np + 1, sizeof(*ns));
	if (ns == NULL)
		return -1;
	*srcp = ns;
	if ((ns[*np].name = strdup(name)) == NULL)
		return -1;
	ns[*np].text = text;
	ns[*np].len = len;
	ns[*np].file = file;
	(*np)++;
	return 0;
}

int
config_add_rules_text(struct moat_config *c, const char *name,
    const char *text)
{
	return sources_add_text(&c->sources, &c->nsources, name, text);
}

/* The same for any list of sources: the top level's or a client's. */
int
sources_add_text(struct rule_source **srcp, size_t *np, const char *name,
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
	if (add_source(srcp, np, name, copy, len, 0) == -1)
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
	return sources_add_fd(&c->sources, &c->nsources, fd, name, why);
}

int
sources_add_fd(struct rule_source **srcp, size_t *np, int fd,
    const char *name, const char **why)
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
	if (add_source(srcp, np, name, buf, st.st_size, 1) == -1)
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

static struct ruleset *
sources_ruleset(const struct rule_source *src, size_t n, int builtin,
    rules_errfn fn, void *arg)
{
	struct ruleset	*rs;
	size_t		 i;
	int		 errors = 0;

	if ((rs = ruleset_new()) == NULL)
		fatal("%s", __func__);
	ruleset_set_warn(rs, rules_log, NULL);
	for (i = 0; i < n; i++)
		errors += ruleset_add_text(rs, src[i].name, src[i].text,
		    src[i].len, fn, arg);
	if (builtin)
		errors += ruleset_add_builtin(rs, fn, arg);
	if (errors > 0) {
		ruleset_free(rs);
		return NULL;
	}
	return rs;
}

/*
 * The top level's rules; every client block's are compiled too (and
 * dropped), so that one bad rule anywhere fails -n, a start and a reload.
 */
struct ruleset *
config_ruleset(const struct moat_config *c, rules_errfn fn, void *arg)
{
	struct ruleset	*rs, *crs;
	size_t		 i;
	int		 errors = 0;

	for (i = 0; i < c->nclients; i++) {
		if ((crs = config_client_ruleset(&c->clients[i], fn,
		    arg)) == NULL)
			errors++;
		else
			ruleset_free(crs);
	}
	rs = sources_ruleset(c->sources, c->nsources, c->builtin, fn, arg);
	if (errors > 0 && rs != NULL) {
		ruleset_free(rs);
		rs = NULL;
	}
	return rs;
}

/* A client block's own rules, built-ins included unless it says no. */
struct ruleset *
config_client_ruleset(const struct moat_client *cl, rules_errfn fn,
    void *arg)
{
	return sources_ruleset(cl->sources, cl->nsources, cl->builtin, fn,
	    arg);
}

/* MSG_CFG_RULES: u32 target (0 the top level, i + 1 client block i),
 * the source's name, its text. */
static int
send_sources(struct msgbuf *mb, const struct rule_source *src, size_t n,
    uint32_t target, uint32_t gen)
{
	struct mbuf	 m;
	size_t		 i;
	int		 rv = 0;

	for (i = 0; rv == 0 && i < n; i++) {
		mbuf_init(&m);
		mbuf_add_u32(&m, target);
		mbuf_add_str(&m, src[i].name);
		mbuf_add_data(&m, src[i].text, src[i].len);
		if (m.err || msg_compose(mb, MSG_CFG_RULES, gen, -1, m.buf,
		    m.len) == -1)
			rv = -1;
		mbuf_free(&m);
	}
	return rv;
}

/*
 * MSG_CFG_CLIENT: u32 index, name, u32 builtin, u32 count of matches,
 * each as u32 kind, text, u32 af, 16 bytes of network, u32 plen, u32 id;
 * then the block's body policy.  Its rules follow as MSG_CFG_RULES.
 */
static int
send_client(struct msgbuf *mb, const struct moat_client *cl, uint32_t i,
    uint32_t gen)
{
	struct mbuf	 m;
	size_t		 j;
	int		 rv = 0;

	mbuf_init(&m);
	mbuf_add_u32(&m, i);
	mbuf_add_str(&m, cl->name);
	mbuf_add_u32(&m, cl->builtin);
	mbuf_add_u32(&m, cl->nm);
	for (j = 0; j < cl->nm; j++) {
		mbuf_add_u32(&m, cl->m[j].kind);
		mbuf_add_str(&m, cl->m[j].text);
		mbuf_add_u32(&m, cl->m[j].af);
		mbuf_add_data(&m, cl->m[j].net, sizeof(cl->m[j].net));
		mbuf_add_u32(&m, cl->m[j].plen);
		mbuf_add_u32(&m, cl->m[j].id);
	}
	if (body_policy_encode(&m, &cl->body) == -1 || m.err ||
	    msg_compose(mb, MSG_CFG_CLIENT, gen, -1, m.buf, m.len) == -1)
		rv = -1;
	mbuf_free(&m);
	if (rv == 0)
		rv = send_sources(mb, cl->sources, cl->nsources, i + 1, gen);
	return rv;
}

int
config_send(struct msgbuf *mb, const struct moat_config *c, uint32_t gen)
{
	struct mbuf	 m;
	size_t		 i;
	int		 rv = 0;

	mbuf_init(&m);
	mbuf_add_u32(&m, c->log_level);
	/* log format json; log file: each request line to the parent too */
	mbuf_add_u32(&m, (c->log_json ? 1 : 0) | (c->log_file[0] != '\0' ?
	    2 : 0));
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
	/* the listeners' names, by index: for "listener.name" */
	mbuf_add_u32(&m, c->nlisteners);
	for (i = 0; i < c->nlisteners; i++)
		mbuf_add_str(&m, c->listeners[i].name);
	/* limit body and allow ...: the policy worker's admission control */
	if (body_policy_encode(&m, &c->body) == -1 || m.err ||
	    msg_compose(mb, MSG_CFG_GLOBAL, gen, -1, m.buf, m.len) == -1)
		rv = -1;
	mbuf_free(&m);
	if (rv == 0)
		rv = send_sources(mb, c->sources, c->nsources, 0, gen);
	for (i = 0; rv == 0 && i < c->nclients; i++)
		rv = send_client(mb, &c->clients[i], i, gen);
	return rv;
}

/*
 * The generation's body policy and client blocks wait with its rules for
 * MSG_CFG_DONE, where all of them replace the running ones at once.
 */
static void
pending_body_clear(struct child_config *cc)
{
	body_policy_free(&cc->pending_body);
	memset(&cc->pending_body, 0, sizeof(cc->pending_body));
}

static void
child_rules_free(struct child_rules **crp, size_t *np)
{
	size_t	 i;

	for (i = 0; i < *np; i++) {
		if ((*crp)[i].rs != NULL)
			ruleset_free((*crp)[i].rs);
		client_free(&(*crp)[i].c);
	}
	free(*crp);
	*crp = NULL;
	*np = 0;
}

/* A listener's or client block's name: 1 to 63 of [A-Za-z0-9._-]. */
static int
name_ok(const char *s, int empty_ok)
{
	size_t	 n = strlen(s);

	if (n == 0)
		return empty_ok;
	return n < CLIENT_NAME_MAX && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

static int
body_ok(const struct body_policy *bp)
{
	return bp->limit == 0 || (bp->limit >= BODY_LIMIT_MIN &&
	    bp->limit <= BODY_LIMIT_MAX);
}

static int
recv_global(struct child_config *cc, struct msg *m)
{
	struct moat_config	*c = &cc->conf;
	struct body_policy	 bp;
	struct mbuf		 r;
	char			 names[MOAT_LISTENERS_MAX][CLIENT_NAME_MAX];
	uint32_t		 level, logfl, builtin, ht, it, dt, bt, ca, cu;
	uint32_t		 nl, i;
	uint64_t		 hm, lm, nm;

	mbuf_reader(&r, m->data, m->datalen);
	if (mbuf_get_u32(&r, &level) == -1 ||
	    mbuf_get_u32(&r, &logfl) == -1 || logfl > 3 ||
	    mbuf_get_u32(&r, &builtin) == -1 ||
	    mbuf_get_u64(&r, &hm) == -1 || mbuf_get_u64(&r, &lm) == -1 ||
	    mbuf_get_u64(&r, &nm) == -1 || mbuf_get_u32(&r, &ht) == -1 ||
	    mbuf_get_u32(&r, &it) == -1 || mbuf_get_u32(&r, &dt) == -1 ||
	    mbuf_get_u32(&r, &bt) == -1 || mbuf_get_u32(&r, &ca) == -1 ||
	    mbuf_get_u32(&r, &cu) == -1 || mbuf_get_u32(&r, &nl) == -1 ||
	    level > LOG_DEBUG || hm > HTTP_HEAD_MAX || lm > HTTP_LINE_MAX ||
	    lm > hm || nm > HTTP_HEADERS_MAX || ca > MOAT_CONN_PEER_MAX ||
	    cu > MOAT_CONN_PEER_MAX || nl > MOAT_LISTENERS_MAX)
		return -1;
	for (i = 0; i < nl; i++)
		if (mbuf_get_str(&r, names[i], sizeof(names[i])) == -1 ||
		    !name_ok(names[i], 1))
			return -1;
	memset(&bp, 0, sizeof(bp));
	if (body_policy_decode(&r, &bp) == -1 || mbuf_end(&r) == -1 ||
	    !body_ok(&bp)) {
		body_policy_free(&bp);
		return -1;
	}
	pending_body_clear(cc);
	cc->pending_body = bp;
	child_rules_free(&cc->pclients, &cc->npclients);
	c->log_level = level;
	c->log_json = (logfl & 1) != 0;
	c->audit = (logfl & 2) != 0;
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
	/* A reload keeps the listeners, and so their names. */
	c->nlisteners = nl;
	for (i = 0; i < MOAT_LISTENERS_MAX; i++)
		strlcpy(c->listeners[i].name, i < nl ? names[i] : "",
		    sizeof(c->listeners[i].name));
	if (cc->pending != NULL)
		ruleset_free(cc->pending);
	if ((cc->pending = ruleset_new()) == NULL)
		fatal("%s", __func__);
	ruleset_set_warn(cc->pending, rules_log, NULL);
	cc->gen = m->hdr.peerid;
	return 0;
}

/* One match line off the wire: the checks client_match_parse made. */
static int
match_decode(struct mbuf *r, struct client_match *cm)
{
	const void	*net;
	size_t		 netlen;
	uint32_t	 kind, af, plen, id;

	if (mbuf_get_u32(r, &kind) == -1 ||
	    mbuf_get_str(r, cm->text, sizeof(cm->text)) == -1 ||
	    mbuf_get_u32(r, &af) == -1 || mbuf_get_data(r, &net, &netlen) == -1 ||
	    mbuf_get_u32(r, &plen) == -1 || mbuf_get_u32(r, &id) == -1)
		return -1;
	if (kind < MATCH_TLS_SUBJECT || kind > MATCH_CONTAINER_LABEL ||
	    netlen != sizeof(cm->net) || cm->text[0] == '\0')
		return -1;
	if (kind == MATCH_ADDRESS && !((af == AF_INET && plen <= 32) ||
	    (af == AF_INET6 && plen <= 128)))
		return -1;
	cm->kind = kind;
	cm->af = af;
	memcpy(cm->net, net, sizeof(cm->net));
	cm->plen = plen;
	cm->id = id;
	return 0;
}

static int
recv_client(struct child_config *cc, struct msg *m)
{
	struct child_rules	*ncr, *cr;
	struct mbuf		 r;
	uint32_t		 idx, builtin, nm, i;

	if (cc->pending == NULL || m->hdr.peerid != cc->gen ||
	    cc->npclients >= MOAT_CLIENTS_MAX)
		return -1;
	ncr = reallocarray(cc->pclients, cc->npclients + 1, sizeof(*ncr));
	if (ncr == NULL)
		fatal("%s", __func__);
	cc->pclients = ncr;
	cr = &ncr[cc->npclients];
	memset(cr, 0, sizeof(*cr));
	mbuf_reader(&r, m->data, m->datalen);
	if (mbuf_get_u32(&r, &idx) == -1 || idx != cc->npclients ||
	    mbuf_get_str(&r, cr->c.name, sizeof(cr->c.name)) == -1 ||
	    !name_ok(cr->c.name, 0) || mbuf_get_u32(&r, &builtin) == -1 ||
	    mbuf_get_u32(&r, &nm) == -1 || nm == 0 || nm > CLIENT_MATCH_MAX)
		return -1;
	for (i = 0; i < nm; i++)
		if (match_decode(&r, &cr->c.m[i]) == -1)
			return -1;
	cr->c.nm = nm;
	cr->c.builtin = builtin != 0;
	if (body_policy_decode(&r, &cr->c.body) == -1 || mbuf_end(&r) == -1 ||
	    !body_ok(&cr->c.body)) {
		body_policy_free(&cr->c.body);
		return -1;
	}
	if ((cr->rs = ruleset_new()) == NULL)
		fatal("%s", __func__);
	ruleset_set_warn(cr->rs, rules_log, NULL);
	cc->npclients++;
	return 0;
}

static int
recv_rules(struct child_config *cc, struct msg *m)
{
	struct ruleset	*rs;
	struct mbuf	 r;
	char		 name[256];
	const void	*text;
	size_t		 len;
	uint32_t	 target;

	if (cc->pending == NULL || m->hdr.peerid != cc->gen)
		return -1;
	mbuf_reader(&r, m->data, m->datalen);
	if (mbuf_get_u32(&r, &target) == -1 ||
	    mbuf_get_str(&r, name, sizeof(name)) == -1 ||
	    mbuf_get_data(&r, &text, &len) == -1 || mbuf_end(&r) == -1)
		return -1;
	if (target == 0)
		rs = cc->pending;
	else if (target <= cc->npclients)
		rs = cc->pclients[target - 1].rs;
	else
		return -1;
	if (ruleset_add_text(rs, name, text, len, rules_log, NULL) != 0)
		return -1;
	return 0;
}

static int
recv_done(struct child_config *cc, struct msg *m)
{
	size_t	 i;

	if (cc->pending == NULL || m->hdr.peerid != cc->gen)
		return -1;
	if (cc->conf.builtin && ruleset_add_builtin(cc->pending,
	    rules_log, NULL) != 0)
		return -1;
	for (i = 0; i < cc->npclients; i++)
		if (cc->pclients[i].c.builtin && ruleset_add_builtin(
		    cc->pclients[i].rs, rules_log, NULL) != 0)
			return -1;
	if (cc->rs != NULL)
		ruleset_free(cc->rs);
	cc->rs = cc->pending;
	cc->pending = NULL;
	child_rules_free(&cc->clients, &cc->nclients);
	cc->clients = cc->pclients;
	cc->nclients = cc->npclients;
	cc->pclients = NULL;
	cc->npclients = 0;
	body_policy_free(&cc->conf.body);
	cc->conf.body = cc->pending_body;
	memset(&cc->pending_body, 0, sizeof(cc->pending_body));
	log_setlevel(cc->conf.log_level);
	log_setjson(cc->conf.log_json);
	return 1;
}

int
config_recv(struct child_config *cc, struct msg *m)
{
	switch (m->hdr.type) {
	case MSG_CFG_GLOBAL:
		return recv_global(cc, m) == -1 ? -1 : 0;
	case MSG_CFG_CLIENT:
		return recv_client(cc, m);
	case MSG_CFG_RULES:
		return recv_rules(cc, m);
	case MSG_CFG_DONE:
		return recv_done(cc, m);
	default:
		return -1;
	}
}

/* What config_recv holds: the rules, the blocks, the body policies. */
void
child_config_free(struct child_config *cc)
{
	if (cc->rs != NULL)
		ruleset_free(cc->rs);
	if (cc->pending != NULL)
		ruleset_free(cc->pending);
	cc->rs = cc->pending = NULL;
	child_rules_free(&cc->clients, &cc->nclients);
	child_rules_free(&cc->pclients, &cc->npclients);
	pending_body_clear(cc);
	config_free(&cc->conf);
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
	case MSG_CFG_CLIENT:
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
