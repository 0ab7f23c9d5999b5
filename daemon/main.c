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

#include <errno.h>
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
	O_BACKEND_TLS, O_FRONTEND_TLS,
	O_D, O_N, O_Q, O_P, O_I, O_H,
};

static const struct opt opts[] = {
	{ "backend-addr",	 OPT_STR,  O_BACKEND_ADDR },
	{ "backend-tls-cacert",	 OPT_STR,  O_BACKEND_TLS },
	{ "backend-tls-cert",	 OPT_STR,  O_BACKEND_TLS },
	{ "backend-tls-key",	 OPT_STR,  O_BACKEND_TLS },
	{ "chroot",		 OPT_STR,  O_CHROOT },
	{ "d",			 OPT_BOOL, O_D },
	{ "frontend-addr",	 OPT_STR,  O_FRONTEND_ADDR },
	{ "frontend-tls-cacert", OPT_STR,  O_FRONTEND_TLS },
	{ "frontend-tls-cert",	 OPT_STR,  O_FRONTEND_TLS },
	{ "frontend-tls-key",	 OPT_STR,  O_FRONTEND_TLS },
	{ "h",			 OPT_BOOL, O_H },
	{ "help",		 OPT_BOOL, O_H },
	{ "I",			 OPT_STR,  O_I },
	{ "log-level",		 OPT_STR,  O_LOG_LEVEL },
	{ "n",			 OPT_BOOL, O_N },
	{ "no-builtin-rules",	 OPT_BOOL, O_NO_BUILTIN },
	{ "no-default-rules",	 OPT_BOOL, O_NO_BUILTIN },
	{ "P",			 OPT_STR,  O_P },
	{ "prefork",		 OPT_STR,  O_PREFORK },
	{ "q",			 OPT_STR,  O_Q },
	{ "rules",		 OPT_STR,  O_RULES },
	{ "rules-file",		 OPT_STR,  O_RULES_FILE },
	{ "u",			 OPT_STR,  O_USER },
	{ "version",		 OPT_BOOL, O_VERSION },
};

struct cmdline {
	int		 check;		/* -n */
	const char	*query;		/* -q */
	const char	*role;		/* -P, internal */
	int		 instance;	/* -I, internal */
	int		 nfrontends;
};

__attribute__((__noreturn__)) static void
usage(void)
{
	fprintf(stderr,
	    "usage: moatd [-dn] [-q 'METHOD TARGET'] [-u user] [-prefork n]\n"
	    "             [-backend-addr addr] [-frontend-addr addr ...]\n"
	    "             [-log-level 0-7] [-rules text ...] "
	    "[-rules-file file ...]\n"
	    "             [-no-builtin-rules] [-version]\n");
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

static void
apply_opt(struct moat_config *c, struct cmdline *cl, const struct opt *o,
    const char *v)
{
	const char	*errstr;
	int		 b;

	switch (o->id) {
	case O_BACKEND_ADDR:
		if (config_parse_addr(v, &c->backend, &errstr) == -1)
			fatalx("-backend-addr %s: %s", v, errstr);
		if (c->backend.kind == ADDR_TCP && c->backend.host[0] == '\0')
			fatalx("-backend-addr %s: missing host", v);
		break;
	case O_FRONTEND_ADDR:
		if (c->nlisteners >= MOAT_LISTENERS_MAX)
			fatalx("too many -frontend-addr (at most %d)",
			    MOAT_LISTENERS_MAX);
		if (config_parse_addr(v, &c->listeners[c->nlisteners].addr,
		    &errstr) == -1)
			fatalx("-frontend-addr %s: %s", v, errstr);
		c->listeners[c->nlisteners].id = c->nlisteners;
		c->listeners[c->nlisteners].fd = -1;
		c->nlisteners++;
		break;
	case O_LOG_LEVEL:
		c->log_level = strtonum(v, 0, 7, &errstr);
		if (errstr != NULL)
			fatalx("-log-level %s: must be 0 to 7", v);
		log_setlevel(c->log_level);
		break;
	case O_RULES:
		if (config_add_rules_text(c, "-rules", v) == -1)
			exit(1);
		break;
	case O_RULES_FILE:
		if (config_add_rules_file(c, v) == -1)
			exit(1);
		break;
	case O_NO_BUILTIN:
		if (parse_bool(v, &b) == -1)
			fatalx("-no-builtin-rules=%s: not a boolean", v);
		c->builtin = !b;
		break;
	case O_VERSION:
		printf("moatd %s\n", MOATD_VERSION);
		exit(0);
	case O_PREFORK:
		c->prefork = strtonum(v, 1, MOAT_PREFORK_MAX, &errstr);
		if (errstr != NULL)
			fatalx("-prefork %s: must be 1 to %d", v,
			    MOAT_PREFORK_MAX);
		break;
	case O_USER:
		if (strlcpy(c->user, v, sizeof(c->user)) >= sizeof(c->user))
			fatalx("-u %s: name too long", v);
		break;
	case O_CHROOT:
		if (v[0] != '/' || strlcpy(c->chroot, v, sizeof(c->chroot)) >=
		    sizeof(c->chroot))
			fatalx("-chroot %s: need an absolute path", v);
		break;
	case O_BACKEND_TLS:
	case O_FRONTEND_TLS:
		fatalx("-%s: TLS is not supported yet by this moatd", o->name);
	case O_D:
		c->foreground = 1;
		break;
	case O_N:
		cl->check = 1;
		break;
	case O_Q:
		cl->query = v;
		break;
	case O_P:
		cl->role = v;
		break;
	case O_I:
		cl->instance = strtonum(v, -1, MOAT_PREFORK_MAX, &errstr);
		if (errstr != NULL)
			fatalx("-I %s: %s", v, errstr);
		break;
	case O_H:
	default:
		usage();
	}
}

static void
parse_args(int argc, char **argv, struct moat_config *c, struct cmdline *cl)
{
	const struct opt	*o;
	const char		*arg, *eq, *v;
	int			 i;

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
		if (o->kind == OPT_BOOL && o->id != O_NO_BUILTIN && eq != NULL) {
			int b;

			if (parse_bool(v, &b) == -1)
				fatalx("%s: not a boolean", argv[i]);
			if (!b)
				continue;
		}
		apply_opt(c, cl, o, v);
	}
}

static void
print_rules_err(void *arg, const char *msg)
{
	fprintf(stderr, "%s\n", msg);
}

static int
check_rules(const struct moat_config *c)
{
	struct ruleset	*rs;
	char		 buf[8192];
	size_t		 i;

	if ((rs = config_ruleset(c, print_rules_err, NULL)) == NULL)
		return 1;
	for (i = 0; i < rs->nrules; i++) {
		rule_format(&rs->rules[i], buf, sizeof(buf));
		printf("%s\n", buf);
	}
	ruleset_free(rs);
	return 0;
}

/*
 * -q 'METHOD TARGET': build the head a client would send and run it
 * through the very function the policy worker uses.
 */
static int
query(const struct moat_config *c, const char *q)
{
	struct ruleset	*rs;
	struct verdict	 v;
	char		 head[HTTP_LINE_MAX + 64];
	const char	*sp;
	int		 n, rv;

	if ((rs = config_ruleset(c, print_rules_err, NULL)) == NULL)
		return 3;
	if ((sp = strchr(q, ' ')) == NULL) {
		printf("bad request: expected 'METHOD TARGET'\n");
		ruleset_free(rs);
		return 2;
	}
	n = snprintf(head, sizeof(head), "%.*s %s HTTP/1.1\r\n"
	    "Host: docker\r\n\r\n", (int)(sp - q), q, sp + 1);
	if (n < 0 || (size_t)n >= sizeof(head)) {
		printf("bad request: request line too long\n");
		ruleset_free(rs);
		return 2;
	}
	policy_decide(rs, &c->limits, head, n, &v);
	switch (v.kind) {
	case VERDICT_ALLOW:
		printf("allow %s:%u\n", rs->rules[v.rule].source,
		    rs->rules[v.rule].line);
		rv = 0;
		break;
	case VERDICT_DENY:
		printf("deny\n");
		rv = 1;
		break;
	default:
		printf("bad request: %s\n", v.why);
		rv = 2;
		break;
	}
	verdict_clear(&v);
	ruleset_free(rs);
	return rv;
}

int
main(int argc, char **argv)
{
	struct moat_config	 conf;
	struct cmdline		 cl;
	int			 rv;

	/* libbsd's setproctitle() moves the environment: we are done with
	 * argv by the time a child calls it, as parse_args copies nothing. */
	setproctitle_init(argc, argv, environ);
	memset(&cl, 0, sizeof(cl));
	log_init(1, LOG_LEVEL_DEFAULT, LOG_DAEMON);
	config_defaults(&conf);
	parse_args(argc, argv, &conf, &cl);

	if (cl.role != NULL) {
		if (strcmp(cl.role, "relay") == 0)
			relay_main(&conf, cl.instance);
		if (strcmp(cl.role, "policy") == 0)
			policy_main(&conf);
		fatalx("unknown process role %s", cl.role);
	}
	if (cl.check) {
		rv = check_rules(&conf);
		config_free(&conf);
		return rv;
	}
	if (cl.query != NULL) {
		rv = query(&conf, cl.query);
		config_free(&conf);
		return rv;
	}
	if (conf.nlisteners == 0)
		apply_opt(&conf, &cl, find_opt("frontend-addr", 13),
		    "tcp://127.0.0.1:2375");
	rv = parent_main(&conf, argv);
	config_free(&conf);
	return rv;
}
