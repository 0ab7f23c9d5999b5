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
 * What each statement of the configuration file does to the
 * configuration being built (conf_new): values checked and set, rules
 * read, listeners and their TLS added.  An error names the statement and
 * leaves the configuration as it was.
 */

#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "moatd.h"
#include "conf.h"

#define TIMEOUT_MAX	86400		/* seconds */
#define HEAD_MIN	1024		/* smallest "limit head" */
#define LINE_MIN	128		/* smallest "limit line" */
#define ID_MAX		2147483647	/* numeric owner and group */

struct moat_config		*conf_new;

/* The unix or tcp listener that "listen on" is building. */
static struct moat_listener	 lst;
static int			 lst_ok, lst_mode_set;
/* The last "limit head" or "limit line": where line > head is named. */
static char			 lim_file[PATH_MAX];
static int			 lim_lineno;
/* Where TLS options go: a listener's block or the backend's. */
static struct moat_tls		*tls_cur, tls_void;
static int			 tls_backend;
/* The client block being read (an index into conf_new->clients), or -1:
 * rules, builtin rules, limit body and allow go there. */
static int			 cl_cur = -1;
static int			 cl_refused;	/* a match line of it was */
static char			 cl_file[PATH_MAX];
static int			 cl_lineno;
/* Where each "match listener" was: checked once the listeners are known. */
struct where {
	char	 file[PATH_MAX];
	int	 lineno;
	size_t	 client, match;
};
static struct where		*lm_where;
static size_t			 lm_n;

/* The body policy statements go to: the block's, or the top level's. */
struct body_policy *
conf_body(void)
{
	return cl_cur >= 0 ? &conf_new->clients[cl_cur].body :
	    &conf_new->body;
}

void
conf_set_path(char *dst, size_t len, char *s, const char *what,
    int absolute)
{
	if (s[0] == '\0')
		conf_error("%s: empty", what);
	else if (absolute && s[0] != '/')
		conf_error("%s \"%s\": not an absolute path", what, s);
	else if (strlen(s) >= len)
		conf_error("%s \"%s\": longer than %zu bytes", what, s,
		    len - 1);
	else
		strlcpy(dst, s, len);
	free(s);
}

void
conf_set_prefork(int64_t n)
{
	if (n < 1 || n > MOAT_PREFORK_MAX)
		conf_error("prefork %lld: must be 1 to %d", (long long)n,
		    MOAT_PREFORK_MAX);
	else
		conf_new->prefork = n;
}

void
conf_set_backend(const char *s)
{
	struct moat_addr	 a;
	const char		*why;

	if (config_parse_addr(s, &a, &why) == -1)
		conf_error("backend \"%s\": %s", s, why);
	else if (a.kind == ADDR_TCP && a.host[0] == '\0')
		conf_error("backend \"%s\": missing host", s);
	else
		conf_new->backend = a;
}

void
conf_set_timeout(int which, int64_t n)
{
	static const char	*names[] = { "head", "idle", "drain", "body" };

	if (n < 1 || n > TIMEOUT_MAX) {
		conf_error("timeout %s %lld: must be 1 to %d seconds",
		    names[which], (long long)n, TIMEOUT_MAX);
		return;
	}
	if (which == T_HEAD)
		conf_new->head_timeout = n;
	else if (which == T_IDLE)
		conf_new->idle_timeout = n;
	else if (which == T_DRAIN)
		conf_new->drain_timeout = n;
	else
		conf_new->body_timeout = n;
}

void
conf_set_limit(int which, int64_t n)
{
	static const char	*names[] = { "head", "line", "headers",
	    "connections per address", "connections per uid" };
	static const int64_t	 min[] = { HEAD_MIN, LINE_MIN, 1, 1, 1 };
	static const int64_t	 max[] = {
		HTTP_HEAD_MAX, HTTP_LINE_MAX, HTTP_HEADERS_MAX,
		MOAT_CONN_PEER_MAX, MOAT_CONN_PEER_MAX
	};

	if (n < min[which] || n > max[which]) {
		conf_error("limit %s %lld: must be %lld to %lld", names[which],
		    (long long)n, (long long)min[which],
		    (long long)max[which]);
		return;
	}
	if (which == L_HEADERS) {
		conf_new->limits.headers_max = n;
		return;
	}
	if (which == L_HEAD)
		conf_new->limits.head_max = n;
	else if (which == L_LINE)
		conf_new->limits.line_max = n;
	else if (which == L_ADDR) {
		conf_new->conn_per_addr = n;
		return;
	} else {
		conf_new->conn_per_uid = n;
		return;
	}
	strlcpy(lim_file, conf_in_name(), sizeof(lim_file));
	lim_lineno = conf_lineno();
}

/* limit body: bytes, or with a K or M after the number. */
void
conf_set_body_limit(char *s)
{
	char	 why[256];

	if (body_conf_size(s, &conf_body()->limit, why, sizeof(why)) == -1)
		conf_error("limit body %s: %s", s, why);
	free(s);
}

/* allow bind "PATH" [read-only] */
void
conf_allow_bind(char *path, int ro)
{
	char	 why[PATH_MAX + 128];

	if (body_conf_bind(conf_body(), path, ro, why, sizeof(why)) == -1)
		conf_error("allow bind \"%s\": %s", path, why);
	free(path);
}

void
conf_allow_cap(char *name)
{
	char	 why[256];

	if (body_conf_cap(conf_body(), name, why, sizeof(why)) == -1)
		conf_error("allow capability \"%s\": %s", name, why);
	free(name);
}

void
conf_allow_device(char *path)
{
	char	 why[256];

	if (body_conf_device(conf_body(), path, why, sizeof(why)) == -1)
		conf_error("allow device \"%s\": %s", path, why);
	free(path);
}

void
conf_allow_host(char *name)
{
	char	 why[256];

	if (body_conf_host(conf_body(), name, why, sizeof(why)) == -1)
		conf_error("allow host \"%s\": %s", name, why);
	free(name);
}

/* allow image, runtime, volume driver or sysctl (which: BC_*). */
void
conf_allow_word(int which, char *s)
{
	static const char	*names[] = {
		[BC_IMAGE] = "image", [BC_RUNTIME] = "runtime",
		[BC_VDRIVER] = "volume driver", [BC_SYSCTL] = "sysctl",
	};
	char			 why[256];

	if (body_conf_word(conf_body(), which, s, why, sizeof(why)) == -1)
		conf_error("allow %s \"%s\": %s", names[which], s, why);
	free(s);
}

/* Statements from here on go to c. */
void
conf_set_begin(struct moat_config *c)
{
	conf_new = c;
	lim_file[0] = '\0';
	lim_lineno = 0;
	cl_cur = -1;
	free(lm_where);
	lm_where = NULL;
	lm_n = 0;
}

/* Every "match listener" names a listener of the file: -1 (said) if not. */
static int
check_listener_matches(void)
{
	const struct moat_client	*cl;
	const char			*name;
	size_t				 i, k;
	int				 rv = 0;

	for (i = 0; i < lm_n; i++) {
		cl = &conf_new->clients[lm_where[i].client];
		name = cl->m[lm_where[i].match].text;
		for (k = 0; k < conf_new->nlisteners; k++)
			if (strcmp(conf_new->listeners[k].name, name) == 0)
				break;
		if (k < conf_new->nlisteners)
			continue;
		log_warnx("%s:%d: match listener \"%s\": no listener has that "
		    "name (listen on \"...\" name \"%s\")", lm_where[i].file,
		    lm_where[i].lineno, name, name);
		rv = -1;
	}
	return rv;
}

/*
 * The request line is part of the head: a line limit over the head limit
 * means nothing, and the relay scans at most the head for the line's end.
 * Checked once the file is read, since either may come first: -1 (said)
 * when it is.
 */
int
conf_set_end(void)
{
	int	 rv = 0;

	if (conf_new->limits.line_max > conf_new->limits.head_max) {
		log_warnx("%s:%d: limit line %zu is over limit head %zu",
		    lim_file, lim_lineno, conf_new->limits.line_max,
		    conf_new->limits.head_max);
		rv = -1;
	}
	if (check_listener_matches() == -1)
		rv = -1;
	free(lm_where);
	lm_where = NULL;
	lm_n = 0;
	cl_cur = -1;
	conf_new = NULL;
	return rv;
}

static struct rule_source **
cur_sources(void)
{
	return cl_cur >= 0 ? &conf_new->clients[cl_cur].sources :
	    &conf_new->sources;
}

static size_t *
cur_nsources(void)
{
	return cl_cur >= 0 ? &conf_new->clients[cl_cur].nsources :
	    &conf_new->nsources;
}

/* builtin rules yes|no, at the top level or in a block */
void
conf_set_builtin(int yes)
{
	if (cl_cur >= 0)
		conf_new->clients[cl_cur].builtin = yes;
	else
		conf_new->builtin = yes;
}

/*
 * client "NAME" {: a new block, from the defaults (never from the top
 * level's settings).  It is added even when its name is refused, so that
 * the lines inside have a place to go (the file fails anyway).
 */
void
conf_client_begin(const char *name, int lineno)
{
	struct moat_client	*nc;
	char			 why[128];

	if (client_name_check(name, why, sizeof(why)) == -1)
		conf_error("client \"%s\": %s", name, why);
	else if (client_byname(conf_new, name) != NULL)
		conf_error("client \"%s\": a block of that name comes before",
		    name);
	if (conf_new->nclients >= MOAT_CLIENTS_MAX) {
		conf_error("client \"%s\": more than %d client blocks", name,
		    MOAT_CLIENTS_MAX);
		cl_cur = -1;
		return;
	}
	nc = reallocarray(conf_new->clients, conf_new->nclients + 1,
	    sizeof(*nc));
	if (nc == NULL)
		fatal("%s", __func__);
	conf_new->clients = nc;
	cl_cur = conf_new->nclients++;
	memset(&nc[cl_cur], 0, sizeof(nc[cl_cur]));
	strlcpy(nc[cl_cur].name, name, sizeof(nc[cl_cur].name));
	nc[cl_cur].builtin = 1;
	cl_refused = 0;
	strlcpy(cl_file, conf_in_name(), sizeof(cl_file));
	cl_lineno = lineno;
}

/* }: a block without a match line would match every client. */
void
conf_client_end(void)
{
	if (cl_cur < 0)
		return;
	if (conf_new->clients[cl_cur].nm == 0 && !cl_refused) {
		log_warnx("%s:%d: client \"%s\": no match line (a block "
		    "without one would match every client: that is what the "
		    "top level is for)", cl_file, cl_lineno,
		    conf_new->clients[cl_cur].name);
		conf_failed();
	}
	cl_cur = -1;
}

static const char *
match_word(enum match_kind kind)
{
	static const char	*words[] = {
		[MATCH_TLS_SUBJECT] = "tls subject",
		[MATCH_TLS_ISSUER] = "tls issuer",
		[MATCH_TLS_SAN] = "tls san",
		[MATCH_TLS_SHA256] = "tls sha256",
		[MATCH_ADDRESS] = "address",
		[MATCH_LISTENER] = "listener",
		[MATCH_UNIX_UID] = "unix user",
		[MATCH_UNIX_GID] = "unix group",
		[MATCH_CONTAINER_ID] = "container id",
		[MATCH_CONTAINER_NAME] = "container name",
		[MATCH_CONTAINER_LABEL] = "container label",
	};

	return words[kind];
}

/* match KIND "value" in the block being read (numeric: uid N, gid N) */
static void
client_match(int kind, char *value, int numeric)
{
	struct moat_client	*cl;
	struct where		*nw;
	char			 why[256];

	if (cl_cur < 0)
		goto done;
	cl = &conf_new->clients[cl_cur];
	if (cl->nm >= CLIENT_MATCH_MAX) {
		conf_error("client \"%s\": more than %d match lines",
		    cl->name, CLIENT_MATCH_MAX);
		goto done;
	}
	if (client_match_parse(&cl->m[cl->nm], kind, value, why,
	    sizeof(why)) == -1) {
		cl_refused = 1;
		if (numeric)
			conf_error("match unix %s %s: %s", kind ==
			    MATCH_UNIX_UID ? "uid" : "gid", value, why);
		else
			conf_error("match %s \"%s\": %s", match_word(kind),
			    value, why);
		goto done;
	}
	if (kind == MATCH_LISTENER) {
		nw = reallocarray(lm_where, lm_n + 1, sizeof(*nw));
		if (nw == NULL)
			fatal("%s", __func__);
		lm_where = nw;
		strlcpy(nw[lm_n].file, conf_in_name(), sizeof(nw[lm_n].file));
		nw[lm_n].lineno = conf_lineno();
		nw[lm_n].client = cl_cur;
		nw[lm_n].match = cl->nm;
		lm_n++;
	}
	cl->nm++;
 done:
	free(value);
}

/* match unix uid N, match unix gid N */
void
conf_client_match_id(int kind, int64_t n)
{
	char	*s;

	if (n < 0) {
		cl_refused = 1;
		conf_error("match unix %s %lld: not a %s id", kind ==
		    MATCH_UNIX_UID ? "uid" : "gid", (long long)n, kind ==
		    MATCH_UNIX_UID ? "user" : "group");
		return;
	}
	if (asprintf(&s, "%lld", (long long)n) == -1)
		fatal("%s", __func__);
	client_match(kind, s, 1);
}

void
conf_client_match(int kind, char *value)
{
	client_match(kind, value, 0);
}

/*
 * The file is opened once, checked like the configuration itself (whoever
 * can write a rules file decides who may use Docker), and read now: the
 * children never open it.  Its name is kept absolute.
 */
void
conf_add_rules_file(char *name)
{
	char		 path[PATH_MAX];
	const char	*why;
	int		 fd;

	if (conf_resolve(name, path, sizeof(path), 1) == -1)
		conf_error("rules file \"%s\": bad file name", name);
	else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		conf_error("rules file \"%s\": %s", name, strerror(errno));
	else {
		if (conf_check_secrecy(fd, &why) == -1 ||
		    sources_add_fd(cur_sources(), cur_nsources(), fd, path,
		    &why) == -1)
			conf_error("rules file \"%s\": %s", name, why);
		close(fd);
	}
	free(name);
}

/*
 * Rules written in the file are named after it, and preceded by as many
 * empty lines as come before the string: a rule's line number is then its
 * line in the file, in messages and in the log of each decision.
 */
void
conf_add_rules_text(char *text, int lineno)
{
	char	*padded;

	if (asprintf(&padded, "%*s%s", lineno > 1 ? lineno - 1 : 0, "",
	    text) == -1)
		fatal("%s", __func__);
	memset(padded, '\n', lineno > 1 ? lineno - 1 : 0);
	if (sources_add_text(cur_sources(), cur_nsources(), conf_in_name(),
	    padded) == -1)
		conf_failed();
	free(padded);
	free(text);
}

static int
same_addr(const struct moat_addr *a, const struct moat_addr *b)
{
	if (a->kind != b->kind)
		return 0;
	switch (a->kind) {
	case ADDR_UNIX:
		return strcmp(a->path, b->path) == 0;
	case ADDR_TCP:
		return strcmp(a->host, b->host) == 0 &&
		    strcmp(a->port, b->port) == 0;
	default:
		/* Two without a name: two catch-alls (see sd.c). */
		return strcmp(a->sdname, b->sdname) == 0;
	}
}

/* listen on ... name "NAME": 0, or -1 (said). */
static int
listen_name(struct moat_listener *l, const char *name)
{
	char	 why[128];

	if (name == NULL)
		return 0;
	if (client_name_check(name, why, sizeof(why)) == -1) {
		conf_error("listen on ... name \"%s\": %s", name, why);
		return -1;
	}
	strlcpy(l->name, name, sizeof(l->name));
	return 0;
}

static void
add_listener(struct moat_listener *l)
{
	const struct moat_addr	*o;
	size_t			 i;

	for (i = 0; l->name[0] != '\0' && i < conf_new->nlisteners; i++)
		if (strcmp(conf_new->listeners[i].name, l->name) == 0) {
			conf_error("listen on ... name \"%s\": another "
			    "listener has that name", l->name);
			return;
		}
	for (i = 0; i < conf_new->nlisteners; i++) {
		o = &conf_new->listeners[i].addr;
		if (!same_addr(o, &l->addr))
			continue;
		if (l->addr.kind != ADDR_SYSTEMD)
			conf_error("listen on \"%s\": given twice",
			    l->addr.text);
		else
			conf_error("listen on systemd%s%s%s: given twice",
			    o->sdname[0] ? " \"" : "", o->sdname,
			    o->sdname[0] ? "\"" : "");
		return;
	}
	if (conf_new->nlisteners == MOAT_LISTENERS_MAX) {
		conf_error("listen on: more than %d listeners",
		    MOAT_LISTENERS_MAX);
		return;
	}
	l->id = conf_new->nlisteners;
	l->fd = -1;
	conf_new->listeners[conf_new->nlisteners++] = *l;
}

void
conf_listen_begin(char *s, const char *name)
{
	const char	*why;

	memset(&lst, 0, sizeof(lst));
	lst_ok = lst_mode_set = 0;
	lst.mode = 0660;
	conf_tls_at(&lst.tls, 0);
	if (config_parse_addr(s, &lst.addr, &why) == -1)
		conf_error("listen on \"%s\": %s", s, why);
	else if (listen_name(&lst, name) == 0)
		lst_ok = 1;
}

/* The id of user or group name (kind "user" or "group"): 0 or -1. */
static int
name_id(const char *kind, const char *name, unsigned int *id)
{
	struct passwd	*pw;
	struct group	*gr;

	if (strcmp(kind, "user") == 0) {
		if ((pw = getpwnam(name)) == NULL)
			return -1;
		*id = pw->pw_uid;
	} else {
		if ((gr = getgrnam(name)) == NULL)
			return -1;
		*id = gr->gr_gid;
	}
	return 0;
}

/*
 * A listener's owner or group (what): by name (looked up as a kind, "user"
 * or "group") or by number.  *set says it was given; the id goes in *out.
 */
static void
listen_id(const char *what, const char *kind, char *name, int64_t id,
    int *set, unsigned int *out)
{
	unsigned int	 v;

	if (*set)
		conf_error("listen on: %s given twice", what);
	else if (name == NULL && (id < 0 || id > ID_MAX))
		conf_error("%s %lld: not a %s id", what, (long long)id, kind);
	else if (name != NULL && name_id(kind, name, &v) == -1)
		conf_error("%s \"%s\": no such %s", what, name, kind);
	else {
		*set = 1;
		*out = name == NULL ? (unsigned int)id : v;
	}
	free(name);
}

void
conf_listen_owner(char *name, int64_t id)
{
	unsigned int	 v = lst.owner;

	listen_id("owner", "user", name, id, &lst.owner_set, &v);
	lst.owner = v;
}

void
conf_listen_group(char *name, int64_t id)
{
	unsigned int	 v = lst.group;

	listen_id("group", "group", name, id, &lst.group_set, &v);
	lst.group = v;
}

/* The number was read in decimal; its digits are the octal mode. */
void
conf_listen_mode(int64_t n)
{
	int64_t	 d, mode = 0, bit = 1;

	if (lst_mode_set) {
		conf_error("listen on: mode given twice");
		return;
	}
	for (d = n; d > 0 && mode <= 0777; d /= 10, bit *= 8) {
		if (d % 10 > 7)
			break;
		mode += (d % 10) * bit;
	}
	if (n < 0 || d > 0 || mode > 0777) {
		conf_error("mode %lld: must be octal, 0 to 0777", (long long)n);
		return;
	}
	lst_mode_set = 1;
	lst.mode = mode;
}

void
conf_listen_end(void)
{
	if (!lst_ok)
		return;
	if (lst.addr.kind != ADDR_UNIX &&
	    (lst.owner_set || lst.group_set || lst_mode_set))
		conf_error("listen on \"%s\": owner, group and mode are for "
		    "unix sockets", lst.addr.text);
	else if (lst.addr.kind == ADDR_UNIX && lst.tls.enabled)
		conf_error("listen on \"%s\": TLS is for tcp sockets",
		    lst.addr.text);
	else
		add_listener(&lst);
}

/*
 * Sockets systemd passes: those with this FileDescriptorName=, or without
 * a name, every one no named listener takes (sd_bind_listeners()).
 */
void
conf_listen_systemd(const char *name, const char *lname)
{
	struct moat_listener	 l;
	size_t			 i;

	memset(&l, 0, sizeof(l));
	l.addr.kind = ADDR_SYSTEMD;
	if (listen_name(&l, lname) == -1)
		return;
	if (name == NULL) {
		strlcpy(l.addr.text, "systemd", sizeof(l.addr.text));
		add_listener(&l);
		return;
	}
	for (i = 0; name[i] != '\0'; i++)
		if (name[i] == ':' || name[i] < 0x21 || name[i] > 0x7e)
			break;
	if (name[0] == '\0' || name[i] != '\0')
		conf_error("listen on systemd \"%s\": a name is printable "
		    "ASCII without spaces or ':'", name);
	else if (strlen(name) >= sizeof(l.addr.sdname))
		conf_error("listen on systemd \"%s\": longer than %zu bytes",
		    name, sizeof(l.addr.sdname) - 1);
	else {
		strlcpy(l.addr.sdname, name, sizeof(l.addr.sdname));
		(void)snprintf(l.addr.text, sizeof(l.addr.text), "systemd:%s",
		    name);
		add_listener(&l);
	}
}

/* TLS options from here on go to t (NULL: checked, then dropped). */
void
conf_tls_at(struct moat_tls *t, int backend)
{
	memset(&tls_void, 0, sizeof(tls_void));
	tls_cur = t != NULL ? t : &tls_void;
	tls_backend = backend;
}

void
conf_tls_set(const char *word, char *value)
{
	const char	*why;

	if (tls_cur == NULL)
		conf_tls_at(NULL, 0);
	if (strcmp(word, "hostname") == 0 && !tls_backend)
		conf_error("hostname: for the backend's TLS only");
	else if (tls_config_set(tls_cur, word, value, &why) == -1)
		conf_error("%s \"%s\": %s", word, value, why);
	free(value);
}

