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
 * moatd: command line and the offline modes (-n, -q).  The options are
 * CetusGuard's (one or two leading dashes, "-flag value" or
 * "-flag=value") plus a few of our own single-letter ones.
 */

#include <sys/types.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "moatd.h"

enum opt_kind {
	OPT_STR,
	OPT_BOOL,
};

struct opt {
	const char	*name;
	enum opt_kind	 kind;
	int		 id;
};

enum {
	O_BACKEND_ADDR, O_FRONTEND_ADDR, O_LOG_LEVEL, O_RULES, O_RULES_FILE,
	O_NO_BUILTIN, O_VERSION, O_PREFORK, O_USER, O_CHROOT,
	O_BACKEND_TLS, O_FRONTEND_TLS, O_ALLOW_BIND, O_ALLOW_IMAGE,
	O_LIMIT_BODY,
	O_D, O_N, O_Q, O_B, O_P, O_I, O_H, O_V, O_F, O_DEFINE, O_AS,
	O_LEARN_FROM, O_LEARN,
};

static const struct opt opts[] = {
	{ "allow-bind",		 OPT_STR,  O_ALLOW_BIND },
	{ "allow-image",	 OPT_STR,  O_ALLOW_IMAGE },
	{ "as",			 OPT_STR,  O_AS },
	{ "b",			 OPT_STR,  O_B },
	{ "backend-addr",	 OPT_STR,  O_BACKEND_ADDR },
	{ "backend-tls-cacert",	 OPT_STR,  O_BACKEND_TLS },
	{ "backend-tls-cert",	 OPT_STR,  O_BACKEND_TLS },
	{ "backend-tls-key",	 OPT_STR,  O_BACKEND_TLS },
	{ "backend-tls-name",	 OPT_STR,  O_BACKEND_TLS },
	{ "backend-tls-protocols", OPT_STR, O_BACKEND_TLS },
	{ "backend-tls-ciphers", OPT_STR,  O_BACKEND_TLS },
	{ "backend-tls-ciphersuites", OPT_STR, O_BACKEND_TLS },
	{ "chroot",		 OPT_STR,  O_CHROOT },
	{ "D",			 OPT_STR,  O_DEFINE },
	{ "d",			 OPT_BOOL, O_D },
	{ "f",			 OPT_STR,  O_F },
	{ "frontend-addr",	 OPT_STR,  O_FRONTEND_ADDR },
	{ "frontend-tls-cacert", OPT_STR,  O_FRONTEND_TLS },
	{ "frontend-tls-cert",	 OPT_STR,  O_FRONTEND_TLS },
	{ "frontend-tls-key",	 OPT_STR,  O_FRONTEND_TLS },
	{ "frontend-tls-crl",	 OPT_STR,  O_FRONTEND_TLS },
	{ "frontend-tls-protocols", OPT_STR, O_FRONTEND_TLS },
	{ "frontend-tls-ciphers", OPT_STR, O_FRONTEND_TLS },
	{ "frontend-tls-ciphersuites", OPT_STR, O_FRONTEND_TLS },
	{ "h",			 OPT_BOOL, O_H },
	{ "help",		 OPT_BOOL, O_H },
	{ "I",			 OPT_STR,  O_I },
	{ "learn",		 OPT_STR,  O_LEARN },
	{ "learn-from",		 OPT_STR,  O_LEARN_FROM },
	{ "limit-body",		 OPT_STR,  O_LIMIT_BODY },
	{ "log-level",		 OPT_STR,  O_LOG_LEVEL },
	{ "n",			 OPT_BOOL, O_N },
	{ "nv",			 OPT_BOOL, O_N },
	{ "no-builtin-rules",	 OPT_BOOL, O_NO_BUILTIN },
	{ "no-default-rules",	 OPT_BOOL, O_NO_BUILTIN },
	{ "P",			 OPT_STR,  O_P },
	{ "prefork",		 OPT_STR,  O_PREFORK },
	{ "q",			 OPT_STR,  O_Q },
	{ "rules",		 OPT_STR,  O_RULES },
	{ "rules-file",		 OPT_STR,  O_RULES_FILE },
	{ "u",			 OPT_STR,  O_USER },
	{ "v",			 OPT_BOOL, O_V },
	{ "version",		 OPT_BOOL, O_VERSION },
};

/*
 * CetusGuard's environment: one value per variable.  BACKEND_ADDR falls
 * back to CONTAINER_HOST, then DOCKER_HOST.
 */
static const struct envvar {
	const char	*name;
	const char	*opt;
} envvars[] = {
	{ "CETUSGUARD_BACKEND_ADDR",		"backend-addr" },
	{ "CONTAINER_HOST",			"backend-addr" },
	{ "DOCKER_HOST",			"backend-addr" },
	{ "CETUSGUARD_BACKEND_TLS_CACERT",	"backend-tls-cacert" },
	{ "CETUSGUARD_BACKEND_TLS_CERT",	"backend-tls-cert" },
	{ "CETUSGUARD_BACKEND_TLS_KEY",		"backend-tls-key" },
	{ "CETUSGUARD_FRONTEND_ADDR",		"frontend-addr" },
	{ "CETUSGUARD_FRONTEND_TLS_CACERT",	"frontend-tls-cacert" },
	{ "CETUSGUARD_FRONTEND_TLS_CERT",	"frontend-tls-cert" },
	{ "CETUSGUARD_FRONTEND_TLS_KEY",	"frontend-tls-key" },
	{ "CETUSGUARD_RULES",			"rules" },
	{ "CETUSGUARD_RULES_FILE",		"rules-file" },
	{ "CETUSGUARD_NO_DEFAULT_RULES",	"no-default-rules" },
	{ "CETUSGUARD_NO_BUILTIN_RULES",	"no-builtin-rules" },
	{ "CETUSGUARD_LOG_LEVEL",		"log-level" },
};

#define SETTINGS_MAX	256

/* One option as given, remembered so that layers apply in order. */
struct setting {
	const struct opt	*o;
	const char		*v;
	char			 label[64];	/* "-log-level" or the variable */
	int			 env;
};

struct layer {
	struct setting	 s[SETTINGS_MAX];
	int		 n;
	/* a repeatable option given in a layer replaces the lower layers' */
	int		 got_frontend, got_rules, got_rules_file;
	int		 got_allow_bind, got_allow_image;
};

struct cmdline {
	int		 check;		/* -n */
	int		 verbose;	/* -v */
	const char	*query;		/* -q */
	const char	*bodyfile;	/* -b, with -q; "-": stdin */
	const char	*as;		/* -as, with -q: a client block */
	const char	*learnfrom;	/* -learn-from */
	const char	*role;		/* -P, internal */
	int		 instance;	/* -I, internal */
	const char	*conffile;	/* -f */
	struct layer	 env;
	struct layer	 args;
};

__attribute__((__noreturn__)) static void
usage(void)
{
	fprintf(stderr,
	    "usage: moatd [-dnv] [-f file] [-D macro=value] "
	    "[-q 'METHOD TARGET' [-as client]]\n"
	    "             [-u user] [-chroot dir] [-prefork n]\n"
	    "             [-backend-addr addr] [-frontend-addr addr ...]\n"
	    "             [-log-level 0-7] [-rules text ...] "
	    "[-rules-file file ...]\n"
	    "             [-no-builtin-rules] [-version] [-b file]\n"
	    "             [-allow-bind path[:ro] ...] [-allow-image glob ...]\n"
	    "             [-limit-body bytes] [-learn file] "
	    "[-learn-from logfile]\n"
	    "             [-frontend-tls-{cacert,cert,key} file]\n"
	    "             [-backend-tls-{cacert,cert,key} file]\n");
	exit(2);
}

/* Go's flag package booleans. */
static int
parse_bool(const char *v, int *out)
{
	static const char *yes[] = { "1", "t", "T", "TRUE", "true", "True" };
	static const char *no[] = { "0", "f", "F", "FALSE", "false", "False" };
	size_t	 i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcmp(v, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcmp(v, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

static const struct opt *
find_opt(const char *name, size_t len)
{
	size_t	 i;

	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		if (strlen(opts[i].name) == len &&
		    strncmp(opts[i].name, name, len) == 0)
			return &opts[i];
	return NULL;
}

/* How to name a setting in an error: "-x v" or "VARIABLE=v". */
static const char *
shown(const struct setting *st)
{
	static char	 buf[512];

	snprintf(buf, sizeof(buf), st->env ? "%s=%s" : "%s %s", st->label,
	    st->v);
	return buf;
}

static void
clear_sources(struct moat_config *c, int files)
{
	size_t	 i, j;

	for (i = j = 0; i < c->nsources; i++) {
		if (c->sources[i].file == files) {
			free(c->sources[i].name);
			free(c->sources[i].text);
			continue;
		}
		c->sources[j++] = c->sources[i];
	}
	c->nsources = j;
}

/* A setting we cannot honour: say which, and refuse it. */
static int
bad(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap);
	va_end(ap);
	return -1;
}

/* -allow-bind PATH, PATH:ro or PATH:rw. */
static int
allow_bind(struct body_policy *bp, const char *v, char *why, size_t whysz)
{
	char	 path[BODY_CONF_PATH_MAX + 1];
	size_t	 len = strlen(v);
	int	 ro = 0;

	if (len >= 3 && (strcmp(v + len - 3, ":ro") == 0 ||
	    strcmp(v + len - 3, ":rw") == 0)) {
		ro = v[len - 1] == 'o';
		len -= 3;
	}
	if (len >= sizeof(path)) {
		(void)snprintf(why, whysz, "longer than %d bytes",
		    BODY_CONF_PATH_MAX);
		return -1;
	}
	memcpy(path, v, len);
	path[len] = '\0';
	return body_conf_bind(bp, path, ro, why, whysz);
}

static int
apply_setting(struct moat_config *c, struct layer *l, const struct setting *st)
{
	const struct opt	*o = st->o;
	const char		*errstr, *v = st->v;
	char			 why[PATH_MAX + 128];
	int			 b;

	switch (o->id) {
	case O_BACKEND_ADDR:
		if (config_parse_addr(v, &c->backend, &errstr) == -1)
			return bad("%s: %s", shown(st), errstr);
		if (c->backend.kind == ADDR_TCP && c->backend.host[0] == '\0')
			return bad("%s: missing host", shown(st));
		break;
	case O_FRONTEND_ADDR:
		if (!l->got_frontend) {
			l->got_frontend = 1;
			c->nlisteners = 0;
		}
		if (c->nlisteners >= MOAT_LISTENERS_MAX)
			return bad("%s: too many listeners (at most %d)", shown(st),
			    MOAT_LISTENERS_MAX);
		memset(&c->listeners[c->nlisteners], 0,
		    sizeof(c->listeners[0]));
		if (config_parse_addr(v, &c->listeners[c->nlisteners].addr,
		    &errstr) == -1)
			return bad("%s: %s", shown(st), errstr);
		c->listeners[c->nlisteners].id = c->nlisteners;
		c->listeners[c->nlisteners].fd = -1;
		c->listeners[c->nlisteners].mode = 0660;
		c->nlisteners++;
		break;
	case O_LOG_LEVEL:
		c->log_level = strtonum(v, 0, 7, &errstr);
		if (errstr != NULL)
			return bad("%s: the log level must be 0 to 7", shown(st));
		log_setlevel(c->log_level);
		break;
	case O_RULES:
		if (!l->got_rules) {
			l->got_rules = 1;
			clear_sources(c, 0);
		}
		if (config_add_rules_text(c, st->env ? st->label : "-rules",
		    v) == -1)
			return -1;
		break;
	case O_RULES_FILE:
		if (!l->got_rules_file) {
			l->got_rules_file = 1;
			clear_sources(c, 1);
		}
		if (config_add_rules_file(c, v) == -1)
			return -1;
		break;
	case O_NO_BUILTIN:
		if (parse_bool(v, &b) == -1)
			return bad("%s: not a boolean (1 t T TRUE true True, "
			    "0 f F FALSE false False)", shown(st));
		c->builtin = !b;
		break;
	case O_PREFORK:
		c->prefork = strtonum(v, 1, MOAT_PREFORK_MAX, &errstr);
		if (errstr != NULL)
			return bad("%s: must be 1 to %d", shown(st),
			    MOAT_PREFORK_MAX);
		break;
	case O_USER:
		if (strlcpy(c->user, v, sizeof(c->user)) >= sizeof(c->user))
			return bad("%s: name too long", shown(st));
		break;
	case O_CHROOT:
		if (v[0] != '/' || strlcpy(c->chroot, v, sizeof(c->chroot)) >=
		    sizeof(c->chroot))
			return bad("%s: need an absolute path", shown(st));
		break;
	case O_BACKEND_TLS:
	case O_FRONTEND_TLS:
		if (tls_config_option(c, o->name, v) == -1)
			return bad("%s: too long", shown(st));
		break;
	case O_ALLOW_BIND:
		if (!l->got_allow_bind) {
			l->got_allow_bind = 1;
			body_conf_clear_binds(&c->body);
		}
		if (allow_bind(&c->body, v, why, sizeof(why)) == -1)
			return bad("%s: %s", shown(st), why);
		break;
	case O_ALLOW_IMAGE:
		if (!l->got_allow_image) {
			l->got_allow_image = 1;
			body_conf_clear_images(&c->body);
		}
		if (body_conf_word(&c->body, BC_IMAGE, v, why,
		    sizeof(why)) == -1)
			return bad("%s: %s", shown(st), why);
		break;
	case O_LIMIT_BODY:
		if (body_conf_size(v, &c->body.limit, why, sizeof(why)) == -1)
			return bad("%s: %s", shown(st), why);
		break;
	case O_D:
		c->foreground = 1;
		break;
	case O_LEARN:
		if (v[0] != '/')
			return bad("%s: not an absolute path", shown(st));
		if (strlcpy(c->learn_file, v, sizeof(c->learn_file)) >=
		    sizeof(c->learn_file))
			return bad("%s: too long", shown(st));
		break;
	default:
		return bad("%s: internal error", __func__);
	}
	return 0;
}

static int
apply_layer(struct moat_config *c, struct layer *l)
{
	int	 i;

	l->got_frontend = l->got_rules = l->got_rules_file = 0;
	l->got_allow_bind = l->got_allow_image = 0;
	for (i = 0; i < l->n; i++)
		if (apply_setting(c, l, &l->s[i]) == -1)
			return -1;
	return 0;
}

static void
add_setting(struct layer *l, const struct opt *o, const char *v,
    const char *label, int env)
{
	if (l->n >= SETTINGS_MAX)
		fatalx("too many options");
	l->s[l->n].o = o;
	l->s[l->n].v = v;
	l->s[l->n].env = env;
	snprintf(l->s[l->n].label, sizeof(l->s[l->n].label), "%s%s",
	    env ? "" : "-", label);
	l->n++;
}

static void
read_env(struct layer *l)
{
	const char	*v;
	size_t		 i;
	int		 backend = 0;

	for (i = 0; i < sizeof(envvars) / sizeof(envvars[0]); i++) {
		if ((v = getenv(envvars[i].name)) == NULL || *v == '\0')
			continue;
		if (strcmp(envvars[i].opt, "backend-addr") == 0) {
			if (backend++)
				continue;	/* the first one set wins */
		}
		add_setting(l, find_opt(envvars[i].opt,
		    strlen(envvars[i].opt)), v, envvars[i].name, 1);
	}
}

/* Options that act at once; the rest are remembered for apply_layer. */
static void
immediate(struct cmdline *cl, const struct opt *o, const char *v)
{
	const char	*errstr;

	switch (o->id) {
	case O_VERSION:
		printf("moatd %s\n", MOATD_VERSION);
		exit(0);
	case O_N:
		cl->check = 1;
		if (strcmp(o->name, "nv") == 0)
			cl->verbose = 1;
		break;
	case O_V:
		cl->verbose = 1;
		break;
	case O_Q:
		cl->query = v;
		break;
	case O_B:
		cl->bodyfile = v;
		break;
	case O_AS:
		cl->as = v;
		break;
	case O_LEARN_FROM:
		cl->learnfrom = v;
		break;
	case O_P:
		cl->role = v;
		break;
	case O_I:
		cl->instance = strtonum(v, -1, MOAT_PREFORK_MAX, &errstr);
		if (errstr != NULL)
			fatalx("-I %s: %s", v, errstr);
		break;
	case O_F:
		cl->conffile = v;
		break;
	case O_DEFINE:
		if (cmdline_symset(v) == -1)
			fatalx("-D %s: expected name=value", v);
		break;
	default:
		usage();
	}
}

static void
parse_args(int argc, char **argv, struct cmdline *cl)
{
	const struct opt	*o;
	const char		*arg, *eq, *v;
	int			 i, b;

	for (i = 1; i < argc; i++) {
		arg = argv[i];
		if (arg[0] != '-' || arg[1] == '\0')
			usage();
		arg += (arg[1] == '-') ? 2 : 1;
		if (*arg == '\0')
			usage();
		eq = strchr(arg, '=');
		o = find_opt(arg, eq != NULL ? (size_t)(eq - arg) : strlen(arg));
		if (o == NULL) {
			fprintf(stderr, "moatd: unknown option %s\n", argv[i]);
			usage();
		}
		if (o->kind == OPT_BOOL)
			v = eq != NULL ? eq + 1 : "true";
		else if (eq != NULL)
			v = eq + 1;
		else if (i + 1 < argc)
			v = argv[++i];
		else
			fatalx("option %s needs a value", argv[i]);
		if (o->kind == OPT_BOOL && o->id != O_NO_BUILTIN) {
			if (parse_bool(v, &b) == -1)
				fatalx("%s: not a boolean", argv[i]);
			if (!b)
				continue;
		}
		switch (o->id) {
		case O_BACKEND_ADDR: case O_FRONTEND_ADDR: case O_LOG_LEVEL:
		case O_RULES: case O_RULES_FILE: case O_NO_BUILTIN:
		case O_PREFORK: case O_USER: case O_CHROOT:
		case O_BACKEND_TLS: case O_FRONTEND_TLS: case O_D:
		case O_ALLOW_BIND: case O_ALLOW_IMAGE: case O_LIMIT_BODY:
		case O_LEARN:
			add_setting(&cl->args, o, v, o->name, 0);
			break;
		default:
			immediate(cl, o, v);
		}
	}
}

static void
print_rules_err(void *arg, const char *msg)
{
	fprintf(stderr, "%s\n", msg);
}

/*
 * -n: a client block that allows nothing (no rules, builtin rules no) is
 * allowed, a deny-all client, but it may be a mistake: say so.
 */
static void
warn_clients(const struct moat_config *c)
{
	size_t	 i;

	for (i = 0; i < c->nclients; i++)
		if (!c->clients[i].builtin && c->clients[i].nsources == 0)
			log_warnx("client \"%s\": no rules and builtin rules "
			    "no: this client may do nothing",
			    c->clients[i].name);
}

/* -nv: the configuration as understood, in the file's own grammar. */
static int
check_config(const struct moat_config *c)
{
	struct ruleset	*rs;

	if ((rs = config_ruleset(c, print_rules_err, NULL)) == NULL)
		return 1;
	ruleset_free(rs);
	warn_clients(c);
	config_print(c, stdout);
	return 0;
}

static int
check_rules(const struct moat_config *c)
{
	struct ruleset	*rs;
	char		 buf[8192];
	size_t		 i;

	if ((rs = config_ruleset(c, print_rules_err, NULL)) == NULL)
		return 1;
	warn_clients(c);
	for (i = 0; i < rs->nrules; i++) {
		rule_format(&rs->rules[i], buf, sizeof(buf));
		printf("%s\n", buf);
	}
	ruleset_free(rs);
	return 0;
}

/*
 * -b: the body for -q, from a file or the standard input ("-"), at most
 * BODY_LIMIT_MAX + 1 bytes (enough to tell that it is over any limit).
 * 0, or -1 (said).
 */
static int
read_body(const char *file, char **bodyp, size_t *lenp)
{
	char	*buf;
	size_t	 len = 0, max = BODY_LIMIT_MAX + 1;
	ssize_t	 n;
	int	 fd;

	if (strcmp(file, "-") == 0)
		fd = STDIN_FILENO;
	else if ((fd = open(file, O_RDONLY | O_CLOEXEC)) == -1) {
		log_warn("-b %s", file);
		return -1;
	}
	if ((buf = malloc(max)) == NULL)
		fatal("%s", __func__);
	while (len < max) {
		if ((n = read(fd, buf + len, max - len)) == -1 &&
		    errno == EINTR)
			continue;
		if (n == -1) {
			log_warn("-b %s", file);
			free(buf);
			if (fd != STDIN_FILENO)
				close(fd);
			return -1;
		}
		if (n == 0)
			break;
		len += n;
	}
	if (fd != STDIN_FILENO)
		close(fd);
	*bodyp = buf;
	*lenp = len;
	return 0;
}

/* For -q: a bind source's components, from the host's "/" (worker.c). */
static int
q_pathfn(void *arg, const char *path)
{
	return path_has_no_links(*(int *)arg, path);
}

/*
 * -q 'METHOD TARGET' [-b file] [-as client]: build the head a client
 * would send and run it, and its body, through the very function the
 * policy worker uses, in two steps as a relay does: the head, then, when
 * the body is asked for, the head with the body.  With -as, client block
 * NAME's rules, built-ins and body policy decide, as when that block
 * matched a connection; without it the top level's, as when none did.
 */
static int
query(const struct moat_config *c, const char *q, const char *bodyfile,
    const char *as)
{
	const struct moat_client	*cl = NULL;
	const struct body_policy	*bp = &c->body;
	struct ruleset			*rs, *top;
	struct verdict			 v;
	char				 head[HTTP_LINE_MAX + 128], *body = NULL;
	char				 who[CLIENT_NAME_MAX + 16] = "";
	const char			*sp;
	size_t				 bodylen = 0;
	int				 n, rv, rootfd, rule;

	if (as != NULL && (cl = client_byname(c, as)) == NULL) {
		fprintf(stderr, "moatd: -as %s: no client block of that "
		    "name\n", as);
		return 2;
	}
	/* every block's rules are checked, as at a start */
	if ((top = config_ruleset(c, print_rules_err, NULL)) == NULL)
		return 3;
	rs = top;
	if (cl != NULL) {
		ruleset_free(top);
		if ((rs = config_client_ruleset(cl, print_rules_err,
		    NULL)) == NULL)
			return 3;
		bp = &cl->body;
		(void)snprintf(who, sizeof(who), " (client %s)", cl->name);
	} else if (c->nclients > 0)
		strlcpy(who, " (no client block)", sizeof(who));
	if (bodyfile != NULL && read_body(bodyfile, &body, &bodylen) == -1) {
		ruleset_free(rs);
		return 3;
	}
	if ((sp = strchr(q, ' ')) == NULL) {
		printf("bad request: expected 'METHOD TARGET'\n");
		rv = 2;
		goto done;
	}
	if (body != NULL)
		n = snprintf(head, sizeof(head), "%.*s %s HTTP/1.1\r\n"
		    "Host: docker\r\nContent-Type: application/json\r\n"
		    "Content-Length: %zu\r\n\r\n", (int)(sp - q), q, sp + 1,
		    bodylen);
	else
		n = snprintf(head, sizeof(head), "%.*s %s HTTP/1.1\r\n"
		    "Host: docker\r\n\r\n", (int)(sp - q), q, sp + 1);
	if (n < 0 || (size_t)n >= sizeof(head)) {
		printf("bad request: request line too long\n");
		rv = 2;
		goto done;
	}
	/* The rule that lets the path through, to name with a refusal. */
	policy_decide(rs, &c->limits, head, n, &v);
	rule = v.kind == VERDICT_ALLOW ? v.rule : -1;
	verdict_clear(&v);
	rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	policy_decide_req(rs, &c->limits, bp, head, n, NULL, 0, 0,
	    q_pathfn, &rootfd, &v);
	if (v.kind == VERDICT_BODY && bodylen > v.body_max) {
		printf("bad request: request body over the limit "
		    "(%llu bytes, limit body)\n",
		    (unsigned long long)v.body_max);
		verdict_clear(&v);
		rv = 2;
		goto root;
	}
	if (v.kind == VERDICT_BODY) {
		verdict_clear(&v);
		policy_decide_req(rs, &c->limits, bp, head, n, body,
		    bodylen, 1, q_pathfn, &rootfd, &v);
	}
	switch (v.kind) {
	case VERDICT_ALLOW:
		printf("allow %s:%u%s\n", rs->rules[v.rule].source,
		    rs->rules[v.rule].line, who);
		rv = 0;
		break;
	case VERDICT_DENY:
		if (v.admission && rule >= 0 && (size_t)rule < rs->nrules)
			printf("deny %s:%u: %s is not allowed%s\n",
			    rs->rules[rule].source, rs->rules[rule].line,
			    v.why, who);
		else if (v.admission)
			printf("deny: %s is not allowed%s\n", v.why, who);
		else
			printf("deny%s\n", who);
		rv = 1;
		break;
	default:
		printf("bad request: %s\n", v.why);
		rv = 2;
		break;
	}
	verdict_clear(&v);
 root:
	if (rootfd != -1)
		close(rootfd);
 done:
	free(body);
	ruleset_free(rs);
	return rv;
}

/*
 * The entry point of each role of the process table (privsep/proc.c),
 * by its enum: the table lives in privsep/, which may not know daemon/'s
 * functions or struct moat_config, so daemon/ keeps this column.  A
 * constant array rather than a registration at run time: nothing to
 * forget to call, and the compiler checks each entry's type.
 */
typedef void	(*role_main_fn)(const struct moat_config *, int);
static const role_main_fn role_mains[PROC_NROLES] = {
	[PROC_POLICY] = policy_main,
	[PROC_RELAY] = relay_main,
	[PROC_CA] = ca_main,
	[PROC_FORWARDER] = fwd_main,
	[PROC_WATCHER] = watcher_main,
};

static struct cmdline	*cmdline;
static struct sd_socket	 sdsocks[MOAT_LISTENERS_MAX];
static int		 nsdsocks;
static int		 sdbound;

/*
 * Precedence: the command line over the environment over the file.  A
 * repeatable option given in a higher layer replaces, not extends, what a
 * lower one said (CetusGuard's flags over its environment).  0 or -1,
 * with the reason logged; used at start and again on SIGHUP.
 */
static int
load_config(struct moat_config *conf)
{
	struct cmdline	*cl = cmdline;
	const char	*file = cl->conffile;
	struct setting	 st;

	config_defaults(conf);
	if (file == NULL && access(MOATD_CONF, F_OK) == 0)
		file = MOATD_CONF;
	if (file != NULL && parse_config(file, conf) == -1)
		return -1;
	if (apply_layer(conf, &cl->env) == -1 ||
	    apply_layer(conf, &cl->args) == -1)
		return -1;
	/* systemd's sockets are handed out once; a reload keeps them. */
	if (!sdbound) {
		sdbound = 1;
		if (sd_bind_listeners(conf, sdsocks, nsdsocks) == -1)
			return -1;
	}
	if (conf->nlisteners == 0) {
		memset(&st, 0, sizeof(st));
		st.o = find_opt("frontend-addr", 13);
		st.v = "tcp://127.0.0.1:2375";
		strlcpy(st.label, "default", sizeof(st.label));
		if (apply_setting(conf, &cl->args, &st) == -1)
			return -1;
	}
	/* -frontend-addr replaces the file's listeners, and their names */
	if (client_check_listeners(conf, conf) == -1)
		return -1;
	/* -frontend-tls-* to the tcp listeners; TLS blocks consistent */
	return tls_config_finish(conf);
}

int
main(int argc, char **argv)
{
	struct moat_config	 conf;
	struct cmdline		*cl;
	int			 role, rv;

	/* libbsd's setproctitle() needs the original argv and environ. */
	setproctitle_init(argc, argv, environ);
	if ((cl = calloc(1, sizeof(*cl))) == NULL)
		err(1, NULL);
	cmdline = cl;
	log_init(1, LOG_LEVEL_DEFAULT, LOG_DAEMON);
	/* Before anything opens a descriptor: fd 3 on is systemd's. */
	if ((nsdsocks = sd_listen_fds(sdsocks, MOAT_LISTENERS_MAX)) == -1)
		exit(1);
	parse_args(argc, argv, cl);
	read_env(&cl->env);

	if (cl->role != NULL) {
		/* A re-exec'd child: only what the parent put on argv. */
		config_defaults(&conf);
		if (apply_layer(&conf, &cl->args) == -1)
			exit(1);
		if ((role = proc_role_lookup(cl->role)) == -1 ||
		    role_mains[role] == NULL)
			fatalx("unknown process role %s", cl->role);
		role_mains[role](&conf, cl->instance);
		exit(1);	/* not reached: entry points do not return */
	}
	/* Nothing of the configuration: the log alone. */
	if (cl->learnfrom != NULL)
		return learn_from(cl->learnfrom);
	if (cl->bodyfile != NULL && cl->query == NULL) {
		fprintf(stderr, "moatd: -b needs -q\n");
		usage();
	}
	if (cl->as != NULL && cl->query == NULL) {
		fprintf(stderr, "moatd: -as needs -q\n");
		usage();
	}
	/* With -q, 1 means deny: a configuration error must not. */
	if (load_config(&conf) == -1)
		exit(cl->query != NULL ? 3 : 1);
	/* -n also reads the certificates and checks each key fits. */
	if (cl->check && tls_config_load(&conf) == -1)
		exit(1);
	if (cl->check && cl->verbose)
		rv = check_config(&conf);
	else if (cl->check)
		rv = check_rules(&conf);
	else if (cl->query != NULL)
		rv = query(&conf, cl->query, cl->bodyfile, cl->as);
	else
		rv = parent_main(&conf, load_config);
	config_free(&conf);
	free(cl);
	return rv;
}
