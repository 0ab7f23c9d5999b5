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
 * The configuration file, /etc/moatd.conf: one statement per line, in the
 * manner of the OpenBSD daemons (macros, include, -D).  The lexer is
 * written by hand; the grammar needs bison (parse.error custom, for
 * messages that say what was expected).
 *
 * Statements apply to a configuration of our own, handed to the caller
 * only when the whole file parsed without an error: a bad file changes
 * nothing.  Each error is logged as "file:line: what" and parsing goes on
 * with the next line, so that one run names every mistake.
 */

%{
#include <sys/types.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "moatd.h"

#define INCLUDE_DEPTH	8		/* open files, the top one too */
#define STRING_MAX	(MSG_MAXSZ)	/* a rules string may be long */
#define TIMEOUT_MAX	86400		/* seconds */
#define HEAD_MIN	1024		/* smallest "limit head" */
#define LINE_MIN	128		/* smallest "limit line" */
#define ID_MAX		2147483647	/* numeric owner and group */

/* Markers around a macro's text, outside the byte range of any file. */
#define START_EXPAND	256
#define DONE_EXPAND	257

struct file {
	FILE		*stream;
	char		*name;		/* as written, for messages */
	int		 lineno;
	int		 eof_reached;
	int		*unget;
	size_t		 nunget;
	size_t		 ungetsize;
};

struct sym {
	struct sym	*next;
	char		*name;
	char		*value;
	int		 persist;	/* -D: the file cannot change it */
};

enum { T_HEAD, T_IDLE, T_DRAIN, T_BODY };
enum { L_HEAD, L_LINE, L_HEADERS, L_ADDR, L_UID };

typedef struct {
	union {
		int64_t	 number;
		char	*string;
	} v;
	int	 lineno;
	int	 tokno;		/* which token: where an error was */
} YYSTYPE;
#define YYSTYPE_IS_DECLARED	1

static int	 yylex(void);
static void	 yyerror(const char *, ...)
		    __attribute__((__format__ (printf, 1, 2)));
static int	 findeol(void);
static void	 lungetc(int);
static void	 pending_replace(const char *, ...)
		    __attribute__((__format__ (printf, 1, 2)));
static void	 pending_flush(void);
static struct file *pushfile(const char *, const char **);
static void	 popfile(void);
static int	 resolve(const char *, char *, size_t, int);
static int	 symset(const char *, const char *, int);
static int	 macro_name_ok(const char *);
static void	 set_path(char *, size_t, char *, const char *, int);
static void	 set_prefork(int64_t);
static void	 set_backend(const char *);
static void	 set_timeout(int, int64_t);
static void	 set_limit(int, int64_t);
static void	 check_limits(void);
static void	 add_rules_file(char *);
static void	 add_rules_text(char *, int);
static void	 do_include(char *);
static void	 listen_begin(char *);
static void	 listen_owner(char *, int64_t);
static void	 listen_group(char *, int64_t);
static void	 listen_mode(int64_t);
static void	 listen_end(void);
static void	 listen_systemd(const char *);
static void	 tls_at(struct moat_tls *, int);
static void	 tls_set(const char *, char *);

static struct file		*files[INCLUDE_DEPTH];
static int			 nfiles;
static struct file		*cur;
static struct sym		*syms;
static int			 expanding;
static int			 errors;
static int			 ntokens, err_tokno;
static struct moat_config	*conf;
/* A syntax error, reported at the end of its line. */
static char			 pending[1024];
static char			*lexbuf;
static size_t			 lexsize;

/* The unix or tcp listener that "listen on" is building. */
static struct moat_listener	 lst;
static int			 lst_ok, lst_mode_set;
/* The last "limit head" or "limit line": where line > head is named. */
static char			 lim_file[PATH_MAX];
static int			 lim_lineno;
/* Where TLS options go: a listener's block or the backend's. */
static struct moat_tls		*tls_cur, tls_void;
static int			 tls_backend;
%}

%define parse.error custom
%define parse.lac full
%expect 0

%token	TADDRESS "address" TBACKEND "backend" TBODY "body"
%token	TBUILTIN "builtin" TCHROOT "chroot" TCONNECTIONS "connections"
%token	TDRAIN "drain" TFILE "file" TGROUP "group" THEAD "head"
%token	THEADERS "headers" TIDLE "idle" TINCLUDE "include" TLEVEL "level"
%token	TLIMIT "limit" TLINE "line" TLISTEN "listen" TLOG "log"
%token	TMODE "mode" TNO "no" TON "on" TOWNER "owner" TPER "per"
%token	TPIDFILE "pidfile"
%token	TPREFORK "prefork" TRULES "rules" TSYSTEMD "systemd"
%token	TTIMEOUT "timeout" TUID "uid" TUSER "user"
%token	TCA "ca" TCERTIFICATE "certificate" TCIPHERS "ciphers"
%token	TCIPHERSUITES "ciphersuites" TCRL "crl" THOSTNAME "hostname"
%token	TKEY "key" TPROTOCOLS "protocols" TTLS "tls"
%token	TYES "yes"
%token	TEOL "end of line"
%token	TERROR "bad token"
%token	<v.string>	TSTRING "string"
%token	<v.number>	TNUMBER "number"
%type	<v.string>	value optname
%type	<v.number>	yesno loglevel timeout limit
/*
 * A string still on the stack when a syntax error pops it is freed here.
 * So an action before the end of a rule (a mid-rule action) must not free
 * one: the rule's last action does, and a syntax error in between leaves
 * it to the destructor alone.
 */
%destructor	{ free($$); } <v.string>

%%

grammar		: %empty
		| grammar TEOL
		| grammar include TEOL
		| grammar varset TEOL
		| grammar main TEOL
		| grammar unknown TEOL	{ pending_flush(); yyerrok; }
		| grammar error TEOL	{ pending_flush(); yyerrok; }
		;

/* A word at the start of a line that is no keyword nor a macro. */
unknown		: TSTRING error {
			if (pending[0] != '\0' && err_tokno == $<tokno>1 + 1)
				pending_replace("unknown keyword \"%s\"", $1);
			free($1);
		}
		;

include		: TINCLUDE TSTRING		{ do_include($2); }
		;

varset		: TSTRING '=' value {
			if (!macro_name_ok($1))
				yyerror("macro name \"%s\": only letters, "
				    "digits and _", $1);
			else if (symset($1, $3, 0) == -1)
				fatal("%s", __func__);
			free($1);
			free($3);
		}
		;

value		: TSTRING
		| TNUMBER {
			if (asprintf(&$$, "%lld", (long long)$1) == -1)
				fatal("%s", __func__);
		}
		;

main		: TUSER TSTRING {
			set_path(conf->user, sizeof(conf->user), $2, "user",
			    0);
		}
		| TCHROOT TSTRING {
			set_path(conf->chroot, sizeof(conf->chroot), $2,
			    "chroot", 1);
		}
		| TPIDFILE TSTRING {
			set_path(conf->pidfile, sizeof(conf->pidfile), $2,
			    "pidfile", 1);
		}
		| TPREFORK TNUMBER		{ set_prefork($2); }
		| TLOG TLEVEL loglevel {
			if ($3 != -1)
				conf->log_level = $3;
		}
		| TBACKEND TSTRING {
			set_backend($2);
			tls_at(&conf->backend_tls, 1);
		} tlsopts {
			free($2);
		}
		| TLISTEN TON listener
		| TTIMEOUT timeout TNUMBER	{ set_timeout($2, $3); }
		| TLIMIT limit TNUMBER		{ set_limit($2, $3); }
		| TRULES TFILE TSTRING		{ add_rules_file($3); }
		| TRULES TSTRING {
			add_rules_text($2, $<lineno>2);
		}
		| TBUILTIN TRULES yesno		{ conf->builtin = $3; }
		;

loglevel	: TSTRING {
			if (($$ = config_level_byname($1)) == -1)
				yyerror("log level \"%s\": not one of emerg, "
				    "alert, crit, err, warning, notice, info, "
				    "debug", $1);
			free($1);
		}
		| TNUMBER {
			$$ = $1;
			if ($1 < 0 || $1 > LOG_DEBUG) {
				yyerror("log level %lld: must be 0 to 7",
				    (long long)$1);
				$$ = -1;
			}
		}
		;

timeout		: THEAD				{ $$ = T_HEAD; }
		| TIDLE				{ $$ = T_IDLE; }
		| TDRAIN			{ $$ = T_DRAIN; }
		| TBODY				{ $$ = T_BODY; }
		;

limit		: THEAD				{ $$ = L_HEAD; }
		| TLINE				{ $$ = L_LINE; }
		| THEADERS			{ $$ = L_HEADERS; }
		| TCONNECTIONS TPER TADDRESS	{ $$ = L_ADDR; }
		| TCONNECTIONS TPER TUID	{ $$ = L_UID; }
		;

yesno		: TYES				{ $$ = 1; }
		| TNO				{ $$ = 0; }
		;

listener	: TSTRING			{ listen_begin($1); }
		    listenopts {
			listen_end();
			free($1);
		}
		| TSYSTEMD optname {
			size_t	 n = conf->nlisteners;

			listen_systemd($2);
			tls_at(conf->nlisteners > n ? &conf->listeners[n].tls :
			    NULL, 0);
		} tlsopts {
			free($2);
		}
		;

optname		: %empty			{ $$ = NULL; }
		| TSTRING
		;

listenopts	: %empty
		| listenopts listenopt
		;

listenopt	: TOWNER TSTRING		{ listen_owner($2, -1); }
		| TOWNER TNUMBER		{ listen_owner(NULL, $2); }
		| TGROUP TSTRING		{ listen_group($2, -1); }
		| TGROUP TNUMBER		{ listen_group(NULL, $2); }
		| TMODE TNUMBER			{ listen_mode($2); }
		| tlsopt
		;

/* TLS for a listener or the backend: tls_at() said which. */
tlsopts		: %empty
		| tlsopts tlsopt
		;

tlsopt		: TTLS				{ tls_set("tls", NULL); }
		| TCA TSTRING			{ tls_set("ca", $2); }
		| TCERTIFICATE TSTRING		{ tls_set("certificate", $2); }
		| TCIPHERS TSTRING		{ tls_set("ciphers", $2); }
		| TCIPHERSUITES TSTRING		{ tls_set("ciphersuites", $2); }
		| TCRL TSTRING			{ tls_set("crl", $2); }
		| THOSTNAME TSTRING		{ tls_set("hostname", $2); }
		| TKEY TSTRING			{ tls_set("key", $2); }
		| TPROTOCOLS TSTRING		{ tls_set("protocols", $2); }
		;

%%

/*
 * Messages.  An error found by an action or by the lexer is logged at
 * once; a syntax error waits for the end of its line, where the grammar
 * may have found a better way to say it (an unknown keyword).
 */

static void
vmessage(char *buf, size_t len, const char *fmt, va_list ap)
{
	char	 msg[512];

	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	(void)snprintf(buf, len, "%s:%d: %s", cur->name, yylval.lineno, msg);
}

static void
yyerror(const char *fmt, ...)
{
	char	 buf[1024];
	va_list	 ap;

	errors++;
	va_start(ap, fmt);
	vmessage(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_warnx("%s", buf);
}

static void
pending_replace(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vmessage(pending, sizeof(pending), fmt, ap);
	va_end(ap);
}

static void
pending_flush(void)
{
	if (pending[0] == '\0')
		return;
	errors++;
	log_warnx("%s", pending);
	pending[0] = '\0';
}

/* How a token looks in a message: keywords in quotes, as written. */
static const char *
symname(yysymbol_kind_t sym, char *buf, size_t len)
{
	if (sym >= YYSYMBOL_TBACKEND && sym <= YYSYMBOL_TYES) {
		(void)snprintf(buf, len, "\"%s\"", yysymbol_name(sym));
		return buf;
	}
	return yysymbol_name(sym);
}

/* The token just read, with its value. */
static void
describe(yysymbol_kind_t tok, char *buf, size_t len)
{
	char		 name[32];
	const char	*s;
	size_t		 n;

	switch (tok) {
	case YYSYMBOL_TSTRING:
		s = yylval.v.string;
		n = strcspn(s, "\r\n");
		if (n > 40)
			n = 40;
		(void)snprintf(buf, len, "string \"%.*s%s\"", (int)n, s,
		    s[n] != '\0' ? "..." : "");
		break;
	case YYSYMBOL_TNUMBER:
		(void)snprintf(buf, len, "number %lld",
		    (long long)yylval.v.number);
		break;
	case YYSYMBOL_YYEOF:
		(void)snprintf(buf, len, "end of file");
		break;
	default:
		(void)snprintf(buf, len, "%s", symname(tok, name,
		    sizeof(name)));
		break;
	}
}

static int
yyreport_syntax_error(const yypcontext_t *ctx)
{
	yysymbol_kind_t	 tok, exp[8];
	char		 got[80], want[512], name[32];
	size_t		 off = 0;
	int		 i, n;

	/* The lexer has already said what was wrong with it. */
	if ((tok = yypcontext_token(ctx)) == YYSYMBOL_TERROR)
		return 0;
	err_tokno = yylval.tokno;
	describe(tok, got, sizeof(got));
	/* More than 8 choices: at the start of a statement, or among a
	 * listener's options (TLS has nine). */
	if ((n = yypcontext_expected_tokens(ctx, exp, 8)) <= 0)
		strlcpy(want, "a keyword", sizeof(want));
	for (i = 0; i < n && off < sizeof(want); i++)
		off += snprintf(want + off, sizeof(want) - off, "%s%s",
		    i == 0 ? "" : (i == n - 1 ? " or " : ", "),
		    symname(exp[i], name, sizeof(name)));
	pending_replace("syntax error: expected %s, got %s", want, got);
	return 0;
}

/*
 * Input: a stack of files, each with its own push-back buffer, which also
 * carries the text of macros.
 */

static int
igetc(void)
{
	int	 c;

	for (;;) {
		if (cur->nunget > 0)
			c = cur->unget[--cur->nunget];
		else
			c = getc(cur->stream);
		if (c == START_EXPAND)
			expanding = 1;
		else if (c == DONE_EXPAND)
			expanding = 0;
		else
			return c;
	}
}

static void
lungetc(int c)
{
	int	*p;

	if (c == EOF)
		return;
	if (cur->nunget == cur->ungetsize) {
		p = reallocarray(cur->unget, cur->ungetsize * 2, sizeof(*p));
		if (p == NULL)
			fatal("%s", __func__);
		cur->unget = p;
		cur->ungetsize *= 2;
	}
	cur->unget[cur->nunget++] = c;
}

/*
 * The next character outside quotes: a backslash before a newline joins
 * two lines, and a file always ends with a newline, so that its last
 * statement is complete before the including file goes on.
 */
static int
lgetc(void)
{
	int	 c, next;

	for (;;) {
		if ((c = igetc()) != '\\')
			break;
		if ((next = igetc()) != '\n') {
			lungetc(next);
			break;
		}
		cur->lineno++;
	}
	if (c != EOF)
		return c;
	if (!cur->eof_reached) {
		cur->eof_reached = 1;
		return '\n';
	}
	if (nfiles == 1)
		return EOF;
	popfile();
	return lgetc();
}

/* After an error in the lexer: skip the rest of the line, keep its end. */
static int
findeol(void)
{
	int	 c;

	while ((c = lgetc()) != '\n' && c != EOF)
		;
	lungetc(c);
	return TERROR;
}

static void
lexput(size_t *len, int c)
{
	char	*p;

	if (*len + 1 >= lexsize) {
		if ((p = realloc(lexbuf, lexsize * 2 + 64)) == NULL)
			fatal("%s", __func__);
		lexbuf = p;
		lexsize = lexsize * 2 + 64;
	}
	lexbuf[(*len)++] = c;
	lexbuf[*len] = '\0';
}

/* $name: push the macro's text back, to be read as if written here. */
static int
expand(void)
{
	const struct sym	*s;
	char			 name[64];
	size_t			 n = 0, i;
	int			 c;

	while ((c = lgetc()) != EOF && (isalnum(c) || c == '_')) {
		if (n + 1 >= sizeof(name)) {
			yyerror("macro name too long");
			return -1;
		}
		name[n++] = c;
	}
	lungetc(c);
	name[n] = '\0';
	if (n == 0) {
		yyerror("expected a macro name after $");
		return -1;
	}
	for (s = syms; s != NULL; s = s->next)
		if (strcmp(s->name, name) == 0)
			break;
	if (s == NULL) {
		yyerror("macro \"%s\" is not defined", name);
		return -1;
	}
	lungetc(DONE_EXPAND);
	for (i = strlen(s->value); i > 0; i--)
		lungetc((unsigned char)s->value[i - 1]);
	lungetc(START_EXPAND);
	return 0;
}

/*
 * A quoted string.  \" (or \'), \\, \n and \t are escapes and a
 * backslash before a newline joins the lines; any other backslash is
 * kept as it is, so that regular expressions read naturally.
 */
static int
lexstring(int quote)
{
	size_t	 len = 0;
	int	 c, next;

	for (;;) {
		if ((c = igetc()) == EOF)
			goto unterminated;
		if (c == quote)
			break;
		if (c == '\n' && !expanding)
			cur->lineno++;
		if (c == '\\') {
			if ((next = igetc()) == EOF)
				goto unterminated;
			if (next == '\n') {
				if (!expanding)
					cur->lineno++;
				continue;
			}
			if (next == quote || next == '\\')
				c = next;
			else if (next == 'n')
				c = '\n';
			else if (next == 't')
				c = '\t';
			else
				lungetc(next);
		} else if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') ||
		    c == 0x7f) {
			yyerror("control character in a quoted string");
			return findeol();
		}
		if (len >= STRING_MAX) {
			yyerror("quoted string too long");
			return findeol();
		}
		lexput(&len, c);
	}
	if ((yylval.v.string = strdup(len == 0 ? "" : lexbuf)) == NULL)
		fatal("%s", __func__);
	return TSTRING;

 unterminated:
	yyerror("unterminated quoted string");
	return TERROR;
}

static int
isword(int c)
{
	return c != EOF && c < 128 && (isalnum(c) ||
	    strchr("-_.:/@%+[],~*?!^", c) != NULL);
}

struct keyword {
	const char	*name;
	int		 token;
};

static int
kw_cmp(const void *k, const void *e)
{
	return strcmp(k, ((const struct keyword *)e)->name);
}

/* Keywords, sorted for bsearch(). */
static const struct keyword keywords[] = {
	{ "address",	TADDRESS },
	{ "backend",	TBACKEND },
	{ "body",	TBODY },
	{ "builtin",	TBUILTIN },
	{ "ca",		TCA },
	{ "certificate", TCERTIFICATE },
	{ "chroot",	TCHROOT },
	{ "ciphers",	TCIPHERS },
	{ "ciphersuites", TCIPHERSUITES },
	{ "connections", TCONNECTIONS },
	{ "crl",	TCRL },
	{ "drain",	TDRAIN },
	{ "file",	TFILE },
	{ "group",	TGROUP },
	{ "head",	THEAD },
	{ "headers",	THEADERS },
	{ "hostname",	THOSTNAME },
	{ "idle",	TIDLE },
	{ "include",	TINCLUDE },
	{ "key",	TKEY },
	{ "level",	TLEVEL },
	{ "limit",	TLIMIT },
	{ "line",	TLINE },
	{ "listen",	TLISTEN },
	{ "log",	TLOG },
	{ "mode",	TMODE },
	{ "no",		TNO },
	{ "on",		TON },
	{ "owner",	TOWNER },
	{ "per",	TPER },
	{ "pidfile",	TPIDFILE },
	{ "prefork",	TPREFORK },
	{ "protocols",	TPROTOCOLS },
	{ "rules",	TRULES },
	{ "systemd",	TSYSTEMD },
	{ "timeout",	TTIMEOUT },
	{ "tls",	TTLS },
	{ "uid",	TUID },
	{ "user",	TUSER },
	{ "yes",	TYES },
};

/* A bare word: a number, a keyword, or a string. */
static int
lexword(int c)
{
	const struct keyword	*kw;
	const char		*errstr, *p;
	size_t			 len = 0;

	do {
		if (len >= STRING_MAX) {
			yyerror("word too long");
			return findeol();
		}
		lexput(&len, c);
		/* A macro may complete a word: tcp://127.0.0.1:$port */
		while ((c = lgetc()) == '$' && !expanding)
			if (expand() == -1)
				return findeol();
	} while (isword(c));
	lungetc(c);
	p = lexbuf + (lexbuf[0] == '-');
	if (*p != '\0' && strspn(p, "0123456789") == strlen(p)) {
		yylval.v.number = strtonum(lexbuf, LLONG_MIN, LLONG_MAX,
		    &errstr);
		if (errstr != NULL) {
			yyerror("number %s is %s", lexbuf, errstr);
			return TERROR;
		}
		return TNUMBER;
	}
	kw = bsearch(lexbuf, keywords, sizeof(keywords) / sizeof(keywords[0]),
	    sizeof(keywords[0]), kw_cmp);
	if (kw != NULL)
		return kw->token;
	if ((yylval.v.string = strdup(lexbuf)) == NULL)
		fatal("%s", __func__);
	return TSTRING;
}

static int
yylex(void)
{
	int	 c;

 top:
	while ((c = lgetc()) == ' ' || c == '\t' || c == '\r')
		;
	yylval.lineno = cur->lineno;
	yylval.tokno = ++ntokens;
	if (c == '#')
		while ((c = lgetc()) != '\n' && c != EOF)
			;
	if (c == '$' && !expanding) {
		if (expand() == -1)
			return findeol();
		goto top;
	}
	if (c == '"' || c == '\'')
		return lexstring(c);
	if (c == '\n') {
		if (!expanding)
			cur->lineno++;
		return TEOL;
	}
	if (c == EOF)
		return 0;
	if (c == '=')
		return c;
	if (isword(c))
		return lexword(c);
	if (c >= 0x20 && c < 0x7f)
		yyerror("unexpected character '%c'", c);
	else
		yyerror("unexpected byte 0x%02x", c & 0xff);
	return findeol();
}

/* Files. */

/* Refuse a file that someone other than root or us could have written. */
static int
check_file_secrecy(int fd, const char **why)
{
	struct stat	 st;

	if (fstat(fd, &st) == -1) {
		*why = strerror(errno);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		*why = "not a regular file";
		return -1;
	}
	if (st.st_uid != 0 && st.st_uid != getuid()) {
		*why = "owned by neither root nor the current user";
		return -1;
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		*why = "writable by group or others";
		return -1;
	}
	return 0;
}

static struct file *
pushfile(const char *name, const char **why)
{
	struct file	*f;

	if (nfiles == INCLUDE_DEPTH) {
		*why = "includes nested too deeply";
		return NULL;
	}
	if ((f = calloc(1, sizeof(*f))) == NULL ||
	    (f->name = strdup(name)) == NULL ||
	    (f->unget = reallocarray(NULL, 16, sizeof(int))) == NULL)
		fatal("%s", __func__);
	f->ungetsize = 16;
	if ((f->stream = fopen(name, "re")) == NULL) {
		*why = strerror(errno);
		goto fail;
	}
	if (check_file_secrecy(fileno(f->stream), why) == -1) {
		fclose(f->stream);
		goto fail;
	}
	/* An included file starts at line 0: the include pushes a '\n'. */
	f->lineno = nfiles == 0 ? 1 : 0;
	files[nfiles++] = f;
	return f;

 fail:
	free(f->unget);
	free(f->name);
	free(f);
	return NULL;
}

static void
popfile(void)
{
	struct file	*f = files[--nfiles];

	fclose(f->stream);
	free(f->unget);
	free(f->name);
	free(f);
	cur = nfiles > 0 ? files[nfiles - 1] : NULL;
}

/*
 * A relative name is relative to the directory of the file that names
 * it.  With absolute set the result is made absolute as well (rules file
 * names outlive the parse: a reload runs from /).
 */
static int
resolve(const char *name, char *out, size_t len, int absolute)
{
	const char	*slash;
	char		 cwd[PATH_MAX], dir[PATH_MAX];
	int		 n;

	if (name[0] == '\0')
		return -1;
	if (name[0] == '/')
		return strlcpy(out, name, len) < len ? 0 : -1;
	if ((slash = strrchr(cur->name, '/')) == NULL)
		dir[0] = '\0';
	else if ((size_t)snprintf(dir, sizeof(dir), "%.*s/",
	    (int)(slash - cur->name), cur->name) >= sizeof(dir))
		return -1;
	if (absolute && dir[0] != '/') {
		if (getcwd(cwd, sizeof(cwd)) == NULL)
			return -1;
		n = snprintf(out, len, "%s%s%s%s", cwd,
		    strcmp(cwd, "/") == 0 ? "" : "/", dir, name);
	} else
		n = snprintf(out, len, "%s%s", dir, name);
	return (n < 0 || (size_t)n >= len) ? -1 : 0;
}

static void
do_include(char *name)
{
	struct file	*f;
	char		 path[PATH_MAX];
	const char	*why;

	if (resolve(name, path, sizeof(path), 0) == -1)
		yyerror("include \"%s\": bad file name", name);
	else if ((f = pushfile(path, &why)) == NULL)
		yyerror("include \"%s\": %s", name, why);
	else {
		cur = f;
		lungetc('\n');
	}
	free(name);
}

/* Macros. */

static int
macro_name_ok(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return 0;
	return 1;
}

static int
symset(const char *name, const char *value, int persist)
{
	struct sym	*s;

	for (s = syms; s != NULL; s = s->next)
		if (strcmp(s->name, name) == 0)
			break;
	if (s != NULL) {
		if (s->persist && !persist)
			return 0;
		free(s->value);
	} else {
		if ((s = calloc(1, sizeof(*s))) == NULL ||
		    (s->name = strdup(name)) == NULL)
			return -1;
		s->next = syms;
		syms = s;
	}
	if ((s->value = strdup(value)) == NULL)
		return -1;
	s->persist = persist;
	return 0;
}

static void
symclear(int all)
{
	struct sym	**sp, *s;

	for (sp = &syms; (s = *sp) != NULL; ) {
		if (s->persist && !all) {
			sp = &s->next;
			continue;
		}
		*sp = s->next;
		free(s->name);
		free(s->value);
		free(s);
	}
}

int
cmdline_symset(const char *s)
{
	char	*name;
	size_t	 n;
	int	 rv;

	if ((n = strcspn(s, "=")) == strlen(s))
		return -1;
	if ((name = strndup(s, n)) == NULL)
		fatal("%s", __func__);
	rv = macro_name_ok(name) ? symset(name, s + n + 1, 1) : -1;
	free(name);
	return rv;
}

/* Statements. */

static void
set_path(char *dst, size_t len, char *s, const char *what, int absolute)
{
	if (s[0] == '\0')
		yyerror("%s: empty", what);
	else if (absolute && s[0] != '/')
		yyerror("%s \"%s\": not an absolute path", what, s);
	else if (strlen(s) >= len)
		yyerror("%s \"%s\": longer than %zu bytes", what, s, len - 1);
	else
		strlcpy(dst, s, len);
	free(s);
}

static void
set_prefork(int64_t n)
{
	if (n < 1 || n > MOAT_PREFORK_MAX)
		yyerror("prefork %lld: must be 1 to %d", (long long)n,
		    MOAT_PREFORK_MAX);
	else
		conf->prefork = n;
}

static void
set_backend(const char *s)
{
	struct moat_addr	 a;
	const char		*why;

	if (config_parse_addr(s, &a, &why) == -1)
		yyerror("backend \"%s\": %s", s, why);
	else if (a.kind == ADDR_TCP && a.host[0] == '\0')
		yyerror("backend \"%s\": missing host", s);
	else
		conf->backend = a;
}

static void
set_timeout(int which, int64_t n)
{
	static const char	*names[] = { "head", "idle", "drain", "body" };

	if (n < 1 || n > TIMEOUT_MAX) {
		yyerror("timeout %s %lld: must be 1 to %d seconds",
		    names[which], (long long)n, TIMEOUT_MAX);
		return;
	}
	if (which == T_HEAD)
		conf->head_timeout = n;
	else if (which == T_IDLE)
		conf->idle_timeout = n;
	else if (which == T_DRAIN)
		conf->drain_timeout = n;
	else
		conf->body_timeout = n;
}

static void
set_limit(int which, int64_t n)
{
	static const char	*names[] = { "head", "line", "headers",
	    "connections per address", "connections per uid" };
	static const int64_t	 min[] = { HEAD_MIN, LINE_MIN, 1, 1, 1 };
	static const int64_t	 max[] = {
		HTTP_HEAD_MAX, HTTP_LINE_MAX, HTTP_HEADERS_MAX,
		MOAT_CONN_PEER_MAX, MOAT_CONN_PEER_MAX
	};

	if (n < min[which] || n > max[which]) {
		yyerror("limit %s %lld: must be %lld to %lld", names[which],
		    (long long)n, (long long)min[which],
		    (long long)max[which]);
		return;
	}
	if (which == L_HEADERS) {
		conf->limits.headers_max = n;
		return;
	}
	if (which == L_HEAD)
		conf->limits.head_max = n;
	else if (which == L_LINE)
		conf->limits.line_max = n;
	else if (which == L_ADDR) {
		conf->conn_per_addr = n;
		return;
	} else {
		conf->conn_per_uid = n;
		return;
	}
	strlcpy(lim_file, cur->name, sizeof(lim_file));
	lim_lineno = yylval.lineno;
}

/*
 * The request line is part of the head: a line limit over the head limit
 * means nothing, and the relay scans at most the head for the line's end.
 * Checked once the file is read, since either may come first.
 */
static void
check_limits(void)
{
	if (conf->limits.line_max <= conf->limits.head_max)
		return;
	errors++;
	log_warnx("%s:%d: limit line %zu is over limit head %zu", lim_file,
	    lim_lineno, conf->limits.line_max, conf->limits.head_max);
}

/*
 * The file is opened once, checked like the configuration itself (whoever
 * can write a rules file decides who may use Docker), and read now: the
 * children never open it.  Its name is kept absolute.
 */
static void
add_rules_file(char *name)
{
	char		 path[PATH_MAX];
	const char	*why;
	int		 fd;

	if (resolve(name, path, sizeof(path), 1) == -1)
		yyerror("rules file \"%s\": bad file name", name);
	else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		yyerror("rules file \"%s\": %s", name, strerror(errno));
	else {
		if (check_file_secrecy(fd, &why) == -1 ||
		    config_add_rules_fd(conf, fd, path, &why) == -1)
			yyerror("rules file \"%s\": %s", name, why);
		close(fd);
	}
	free(name);
}

/*
 * Rules written in the file are named after it, and preceded by as many
 * empty lines as come before the string: a rule's line number is then its
 * line in the file, in messages and in the log of each decision.
 */
static void
add_rules_text(char *text, int lineno)
{
	char	*padded;

	if (asprintf(&padded, "%*s%s", lineno > 1 ? lineno - 1 : 0, "",
	    text) == -1)
		fatal("%s", __func__);
	memset(padded, '\n', lineno > 1 ? lineno - 1 : 0);
	if (config_add_rules_text(conf, cur->name, padded) == -1)
		errors++;
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

static void
add_listener(struct moat_listener *l)
{
	const struct moat_addr	*o;
	size_t			 i;

	for (i = 0; i < conf->nlisteners; i++) {
		o = &conf->listeners[i].addr;
		if (!same_addr(o, &l->addr))
			continue;
		if (l->addr.kind != ADDR_SYSTEMD)
			yyerror("listen on \"%s\": given twice", l->addr.text);
		else
			yyerror("listen on systemd%s%s%s: given twice",
			    o->sdname[0] ? " \"" : "", o->sdname,
			    o->sdname[0] ? "\"" : "");
		return;
	}
	if (conf->nlisteners == MOAT_LISTENERS_MAX) {
		yyerror("listen on: more than %d listeners",
		    MOAT_LISTENERS_MAX);
		return;
	}
	l->id = conf->nlisteners;
	l->fd = -1;
	conf->listeners[conf->nlisteners++] = *l;
}

static void
listen_begin(char *s)
{
	const char	*why;

	memset(&lst, 0, sizeof(lst));
	lst_ok = lst_mode_set = 0;
	lst.mode = 0660;
	tls_at(&lst.tls, 0);
	if (config_parse_addr(s, &lst.addr, &why) == -1)
		yyerror("listen on \"%s\": %s", s, why);
	else
		lst_ok = 1;
}

static void
listen_owner(char *name, int64_t id)
{
	struct passwd	*pw;

	if (lst.owner_set)
		yyerror("listen on: owner given twice");
	else if (name == NULL && (id < 0 || id > ID_MAX))
		yyerror("owner %lld: not a user id", (long long)id);
	else if (name != NULL && (pw = getpwnam(name)) == NULL)
		yyerror("owner \"%s\": no such user", name);
	else {
		lst.owner_set = 1;
		lst.owner = name == NULL ? (uid_t)id : pw->pw_uid;
	}
	free(name);
}

static void
listen_group(char *name, int64_t id)
{
	struct group	*gr;

	if (lst.group_set)
		yyerror("listen on: group given twice");
	else if (name == NULL && (id < 0 || id > ID_MAX))
		yyerror("group %lld: not a group id", (long long)id);
	else if (name != NULL && (gr = getgrnam(name)) == NULL)
		yyerror("group \"%s\": no such group", name);
	else {
		lst.group_set = 1;
		lst.group = name == NULL ? (gid_t)id : gr->gr_gid;
	}
	free(name);
}

/* The number was read in decimal; its digits are the octal mode. */
static void
listen_mode(int64_t n)
{
	int64_t	 d, mode = 0, bit = 1;

	if (lst_mode_set) {
		yyerror("listen on: mode given twice");
		return;
	}
	for (d = n; d > 0 && mode <= 0777; d /= 10, bit *= 8) {
		if (d % 10 > 7)
			break;
		mode += (d % 10) * bit;
	}
	if (n < 0 || d > 0 || mode > 0777) {
		yyerror("mode %lld: must be octal, 0 to 0777", (long long)n);
		return;
	}
	lst_mode_set = 1;
	lst.mode = mode;
}

static void
listen_end(void)
{
	if (!lst_ok)
		return;
	if (lst.addr.kind != ADDR_UNIX &&
	    (lst.owner_set || lst.group_set || lst_mode_set))
		yyerror("listen on \"%s\": owner, group and mode are for "
		    "unix sockets", lst.addr.text);
	else if (lst.addr.kind == ADDR_UNIX && lst.tls.enabled)
		yyerror("listen on \"%s\": TLS is for tcp sockets",
		    lst.addr.text);
	else
		add_listener(&lst);
}

/*
 * Sockets systemd passes: those with this FileDescriptorName=, or without
 * a name, every one no named listener takes (sd_bind_listeners()).
 */
static void
listen_systemd(const char *name)
{
	struct moat_listener	 l;
	size_t			 i;

	memset(&l, 0, sizeof(l));
	l.addr.kind = ADDR_SYSTEMD;
	if (name == NULL) {
		strlcpy(l.addr.text, "systemd", sizeof(l.addr.text));
		add_listener(&l);
		return;
	}
	for (i = 0; name[i] != '\0'; i++)
		if (name[i] == ':' || name[i] < 0x21 || name[i] > 0x7e)
			break;
	if (name[0] == '\0' || name[i] != '\0')
		yyerror("listen on systemd \"%s\": a name is printable "
		    "ASCII without spaces or ':'", name);
	else if (strlen(name) >= sizeof(l.addr.sdname))
		yyerror("listen on systemd \"%s\": longer than %zu bytes",
		    name, sizeof(l.addr.sdname) - 1);
	else {
		strlcpy(l.addr.sdname, name, sizeof(l.addr.sdname));
		(void)snprintf(l.addr.text, sizeof(l.addr.text), "systemd:%s",
		    name);
		add_listener(&l);
	}
}

/* TLS options from here on go to t (NULL: checked, then dropped). */
static void
tls_at(struct moat_tls *t, int backend)
{
	memset(&tls_void, 0, sizeof(tls_void));
	tls_cur = t != NULL ? t : &tls_void;
	tls_backend = backend;
}

static void
tls_set(const char *word, char *value)
{
	const char	*why;

	if (tls_cur == NULL)
		tls_at(NULL, 0);
	if (strcmp(word, "hostname") == 0 && !tls_backend)
		yyerror("hostname: for the backend's TLS only");
	else if (tls_config_set(tls_cur, word, value, &why) == -1)
		yyerror("%s \"%s\": %s", word, value, why);
	free(value);
}

int
parse_config(const char *filename, struct moat_config *x)
{
	struct moat_config	 tmp;
	const char		*why;
	int			 rv;

	config_defaults(&tmp);
	conf = &tmp;
	errors = 0;
	expanding = 0;
	pending[0] = '\0';
	lim_file[0] = '\0';
	lim_lineno = 0;
	nfiles = 0;
	if ((cur = pushfile(filename, &why)) == NULL) {
		log_warnx("%s: %s", filename, why);
		config_free(&tmp);
		return -1;
	}
	rv = yyparse();
	pending_flush();
	check_limits();
	if (rv != 0 && errors == 0)
		errors++;	/* an abort that said nothing: never "ok" */
	while (nfiles > 0)
		popfile();
	symclear(0);
	free(lexbuf);
	lexbuf = NULL;
	lexsize = 0;
	conf = NULL;
	if (errors > 0) {
		config_free(&tmp);
		return -1;
	}
	tmp.foreground = x->foreground;
	config_free(x);
	*x = tmp;
	return 0;
}
