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
 * The effective configuration, printed in the grammar of moatd.conf(5):
 * every setting, defaults included, in a fixed order.  Reading the output
 * back gives the same configuration, so printing it again gives the same
 * bytes (regress/unit/test_parse.c checks this for every good file).
 */

#include <sys/types.h>

#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>

#include "moatd.h"

static const char	*levels[] = {
	"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"
};

const char *
config_level_name(int level)
{
	if (level < 0 || level >= (int)(sizeof(levels) / sizeof(levels[0])))
		return NULL;
	return levels[level];
}

int
config_level_byname(const char *name)
{
	size_t	 i;

	for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (strcmp(levels[i], name) == 0)
			return i;
	return -1;
}

/*
 * A string in double quotes.  The lexer keeps a backslash that does not
 * start an escape, so only one before ", \, n, t, a newline or the end
 * must be doubled (strchr() finds the NUL too); newlines and tabs stay
 * as they are, readable.
 */
void
config_print_quoted(FILE *fp, const char *s)
{
	fputc('"', fp);
	for (; *s != '\0'; s++) {
		if (*s == '"')
			fputs("\\\"", fp);
		else if (*s == '\\' && strchr("\"\\nt\n", s[1]) != NULL)
			fputs("\\\\", fp);
		else
			fputc(*s, fp);
	}
	fputc('"', fp);
}

/* ind: "" at the top level, a tab in a client block */
static void
print_string(FILE *fp, const char *ind, const char *keyword, const char *s)
{
	fputs(ind, fp);
	fputs(keyword, fp);
	fputc(' ', fp);
	config_print_quoted(fp, s);
	fputc('\n', fp);
}

/* A user or group by name when it has one, else by number. */
static void
print_id(FILE *fp, const char *keyword, const char *name, unsigned long id)
{
	if (name != NULL) {
		fprintf(fp, " %s ", keyword);
		config_print_quoted(fp, name);
	} else
		fprintf(fp, " %s %lu", keyword, id);
}

static void
print_unix_perms(FILE *fp, const struct moat_listener *l)
{
	struct passwd	*pw;
	struct group	*gr;

	if (l->owner_set) {
		pw = getpwuid(l->owner);
		print_id(fp, "owner", pw != NULL ? pw->pw_name : NULL,
		    l->owner);
	}
	if (l->group_set) {
		gr = getgrgid(l->group);
		print_id(fp, "group", gr != NULL ? gr->gr_name : NULL,
		    l->group);
	}
	fprintf(fp, " mode %04o", (unsigned int)l->mode);
}

/* A TLS block after its listener or backend, on the same line. */
static void
print_tls(FILE *fp, const struct moat_tls *t, int backend)
{
	const struct {
		const char	*word;
		const char	*value;
	} f[] = {
		{ "certificate", t->cert }, { "key", t->key },
		{ "ca", t->ca }, { "crl", t->crl },
		{ "hostname", backend ? t->name : "" },
		{ "protocols", t->protocols }, { "ciphers", t->ciphers },
		{ "ciphersuites", t->ciphersuites },
	};
	size_t	 i;

	if (!t->enabled)
		return;
	fputs(" tls", fp);
	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		if (f[i].value[0] == '\0')
			continue;
		fprintf(fp, " %s ", f[i].word);
		config_print_quoted(fp, f[i].value);
	}
}

static void
print_listener(FILE *fp, const struct moat_listener *l)
{
	fputs("listen on ", fp);
	if (l->addr.kind == ADDR_SYSTEMD) {
		fputs("systemd", fp);
		if (l->addr.sdname[0] != '\0') {
			fputc(' ', fp);
			config_print_quoted(fp, l->addr.sdname);
		}
	} else
		config_print_quoted(fp, l->addr.text);
	if (l->name[0] != '\0') {
		fputs(" name ", fp);
		config_print_quoted(fp, l->name);
	}
	if (l->addr.kind == ADDR_UNIX)
		print_unix_perms(fp, l);
	print_tls(fp, &l->tls, 0);
	fputc('\n', fp);
}

/*
 * Rules written in a configuration file carry a newline for each line
 * before them (see parse.y); they are not part of what was written.
 */
static void
print_rules(FILE *fp, const char *ind, const struct rule_source *src)
{
	const char	*text = src->text;

	if (src->file) {
		print_string(fp, ind, "rules file", src->name);
		return;
	}
	text += strspn(text, "\n");
	print_string(fp, ind, "rules", text);
}

static void
print_list(FILE *fp, const char *ind, const char *keyword, char **list,
    size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		print_string(fp, ind, keyword, list[i]);
}

/*
 * Admission control: the limit, then every allow statement, grouped by
 * kind; without any, a comment says that the safe defaults hold.
 */
static void
print_body(const struct body_policy *bp, FILE *fp, const char *ind)
{
	const char	*name;
	unsigned int	 flag;
	size_t		 i;

	fprintf(fp, "%slimit body %llu\n", ind,
	    (unsigned long long)(bp->limit != 0 ? bp->limit :
	    BODY_LIMIT_DEFAULT));
	if (ind[0] == '\0')
		fputc('\n', fp);
	for (i = 0; i < bp->nbinds; i++) {
		fprintf(fp, "%sallow bind ", ind);
		config_print_quoted(fp, bp->binds[i].path);
		fputs(bp->binds[i].readonly ? " read-only\n" : "\n", fp);
	}
	print_list(fp, ind, "allow capability", bp->caps, bp->ncaps);
	print_list(fp, ind, "allow device", bp->devices, bp->ndevices);
	for (flag = 1; flag <= BODY_HOST_CGROUPNS; flag <<= 1)
		if ((bp->hosts & flag) &&
		    (name = body_conf_host_name(flag)) != NULL)
			fprintf(fp, "%sallow host %s\n", ind, name);
	if (bp->privileged)
		fprintf(fp, "%sallow privileged\n", ind);
	if (bp->nsjoin)
		fprintf(fp, "%sallow container namespaces\n", ind);
	print_list(fp, ind, "allow image", bp->images, bp->nimages);
	print_list(fp, ind, "allow runtime", bp->runtimes, bp->nruntimes);
	print_list(fp, ind, "allow volume driver", bp->vdrivers,
	    bp->nvdrivers);
	print_list(fp, ind, "allow sysctl", bp->sysctls, bp->nsysctls);
	if (bp->remote)
		fprintf(fp, "%sallow remote\n", ind);
	if (bp->plugins)
		fprintf(fp, "%sallow plugin privileges\n", ind);
	if (bp->nbinds == 0 && bp->ncaps == 0 && bp->ndevices == 0 &&
	    bp->hosts == 0 && !bp->privileged && !bp->nsjoin &&
	    bp->nimages == 0 && bp->nruntimes == 0 && bp->nvdrivers == 0 &&
	    bp->nsysctls == 0 && !bp->remote && !bp->plugins)
		fprintf(fp, "%s# no allow statements: the safe defaults "
		    "hold\n", ind);
}

void
config_print_body(const struct body_policy *bp, FILE *fp)
{
	print_body(bp, fp, "");
}

/*
 * A client block: its match lines, then what it holds, in the order of
 * the top level; everything it does not say is printed as its default.
 */
static void
print_client(FILE *fp, const struct moat_client *cl)
{
	size_t	 i;

	fputs("\nclient ", fp);
	config_print_quoted(fp, cl->name);
	fputs(" {\n", fp);
	for (i = 0; i < cl->nm; i++) {
		fputc('\t', fp);
		client_match_print(&cl->m[i], fp);
		fputc('\n', fp);
	}
	print_body(&cl->body, fp, "\t");
	fprintf(fp, "\tbuiltin rules %s\n", cl->builtin ? "yes" : "no");
	for (i = 0; i < cl->nsources; i++)
		print_rules(fp, "\t", &cl->sources[i]);
	if (!cl->builtin && cl->nsources == 0)
		fputs("\t# no rules: this client may do nothing\n", fp);
	fputs("}\n", fp);
}

void
config_print(const struct moat_config *c, FILE *fp)
{
	const char	*level;
	size_t		 i;

	print_string(fp, "", "user", c->user);
	print_string(fp, "", "chroot", c->chroot);
	if (c->pidfile[0] != '\0')
		print_string(fp, "", "pidfile", c->pidfile);
	fprintf(fp, "prefork %d\n", c->prefork);
	if (c->affinity)
		fputs("cpu affinity yes\n", fp);
	if ((level = config_level_name(c->log_level)) != NULL)
		fprintf(fp, "log level %s\n", level);
	else
		fprintf(fp, "log level %d\n", c->log_level);
	fprintf(fp, "log format %s\n", c->log_json ? "json" : "text");
	if (c->log_file[0] != '\0')
		print_string(fp, "", "log file", c->log_file);
	fputc('\n', fp);
	fputs("backend ", fp);
	config_print_quoted(fp, c->backend.text);
	print_tls(fp, &c->backend_tls, 1);
	fputc('\n', fp);
	for (i = 0; i < c->nlisteners; i++)
		print_listener(fp, &c->listeners[i]);
	fputc('\n', fp);
	fprintf(fp, "timeout head %d\n", c->head_timeout);
	fprintf(fp, "timeout idle %d\n", c->idle_timeout);
	fprintf(fp, "timeout drain %d\n", c->drain_timeout);
	fprintf(fp, "timeout body %d\n", c->body_timeout);
	fprintf(fp, "limit head %zu\n", c->limits.head_max);
	fprintf(fp, "limit line %zu\n", c->limits.line_max);
	fprintf(fp, "limit headers %zu\n", c->limits.headers_max);
	fprintf(fp, "limit connections per address %d\n", c->conn_per_addr);
	fprintf(fp, "limit connections per uid %d\n", c->conn_per_uid);
	config_print_body(&c->body, fp);
	fputc('\n', fp);
	fprintf(fp, "builtin rules %s\n", c->builtin ? "yes" : "no");
	for (i = 0; i < c->nsources; i++)
		print_rules(fp, "", &c->sources[i]);
	for (i = 0; i < c->nclients; i++)
		print_client(fp, &c->clients[i]);
}
