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
 * This file holds the grammar, the lexer's tokens and the messages;
 * conf_input.c the files, includes and macros the lexer reads from, and
 * conf_set.c what each statement does (conf.h between them).  The C that
 * bison makes of it is generated in build/gen/, never beside it.
 *
 * Statements apply to a configuration of our own, handed to the caller
 * only when the whole file parsed without an error: a bad file changes
 * nothing.  Each error is logged as "file:line: what" and parsing goes on
 * with the next line, so that one run names every mistake.
 */

%{
#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "moatd.h"
#include "conf.h"

#define STRING_MAX	(MSG_CFG_MAXSZ)	/* a rules string may be long */

typedef struct {
	union {
		int64_t	 number;
		char	*string;
	} v;
	int	 lineno;
	int	 tokno;		/* which token: where an error was */
} YYSTYPE;
#define YYSTYPE_IS_DECLARED	1

/* Bison's name for conf_error() (conf.h), which it calls too. */
#define yyerror		conf_error

static int	 yylex(void);
static int	 findeol(void);
static void	 pending_replace(const char *, ...)
		    __attribute__((__format__ (printf, 1, 2)));
static void	 pending_flush(void);

static int			 errors;
static int			 ntokens, err_tokno;
/* A syntax error, reported at the end of its line. */
static char			 pending[1024];
static char			*lexbuf;
static size_t			 lexsize;
%}

%define parse.error custom
%define parse.lac full
%expect 0

%token	TADDRESS "address" TBACKEND "backend" TALLOW "allow" TBIND "bind"
%token	TBODY "body" TCAPABILITY "capability" TCONTAINER "container"
%token	TDEVICE "device" TDRIVER "driver" THOST "host" TIMAGE "image"
%token	TNAMESPACES "namespaces" TPLUGIN "plugin" TPRIVILEGED "privileged"
%token	TPRIVILEGES "privileges" TREADONLY "read-only" TREMOTE "remote"
%token	TRUNTIME "runtime" TSYSCTL "sysctl" TVOLUME "volume"
%token	TBUILTIN "builtin" TCHROOT "chroot" TCONNECTIONS "connections"
%token	TDRAIN "drain" TFILE "file" TGROUP "group" THEAD "head"
%token	THEADERS "headers" TIDLE "idle" TINCLUDE "include" TLEVEL "level"
%token	TLIMIT "limit" TLINE "line" TLISTEN "listen" TLOG "log"
%token	TMODE "mode" TNO "no" TON "on" TOWNER "owner" TPER "per"
%token	TPIDFILE "pidfile" TFORMAT "format" TJSON "json" TTEXT "text"
%token	TPREFORK "prefork" TRULES "rules" TSYSTEMD "systemd"
%token	TTIMEOUT "timeout" TUID "uid" TUSER "user"
%token	TCA "ca" TCERTIFICATE "certificate" TCIPHERS "ciphers"
%token	TCIPHERSUITES "ciphersuites" TCRL "crl" THOSTNAME "hostname"
%token	TKEY "key" TPROTOCOLS "protocols" TTLS "tls"
%token	TCLIENT "client" TGID "gid" TID "id" TISSUER "issuer" TLABEL "label"
%token	TLISTENER "listener" TMATCH "match" TNAME "name" TSAN "san"
%token	TSHA256 "sha256" TSUBJECT "subject" TUNIX "unix"
%token	TAFFINITY "affinity" TCPU "cpu"
%token	TYES "yes"
%token	TEOL "end of line"
%token	TERROR "bad token"
%token	<v.string>	TSTRING "string"
%token	<v.number>	TNUMBER "number"
%type	<v.string>	value optname listenname
%type	<v.number>	yesno loglevel timeout limit readonly
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
		| grammar client TEOL
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

include		: TINCLUDE TSTRING		{ conf_include($2); }
		;

varset		: TSTRING '=' value {
			if (!conf_macro_ok($1))
				yyerror("macro name \"%s\": only letters, "
				    "digits and _", $1);
			else if (conf_symset($1, $3, 0) == -1)
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
			conf_set_path(conf_new->user,
			    sizeof(conf_new->user), $2, "user", 0);
		}
		| TCHROOT TSTRING {
			conf_set_path(conf_new->chroot,
			    sizeof(conf_new->chroot), $2, "chroot", 1);
		}
		| TPIDFILE TSTRING {
			conf_set_path(conf_new->pidfile,
			    sizeof(conf_new->pidfile), $2, "pidfile", 1);
		}
		| TPREFORK TNUMBER		{ conf_set_prefork($2); }
		| TCPU TAFFINITY yesno		{ conf_new->affinity = $3; }
		| TLOG TLEVEL loglevel {
			if ($3 != -1)
				conf_new->log_level = $3;
		}
		| TLOG TFORMAT TJSON		{ conf_new->log_json = 1; }
		| TLOG TFORMAT TTEXT		{ conf_new->log_json = 0; }
		| TLOG TFILE TSTRING {
			conf_set_path(conf_new->log_file,
			    sizeof(conf_new->log_file), $3, "log file", 1);
		}
		| TBACKEND TSTRING {
			conf_set_backend($2);
			conf_tls_at(&conf_new->backend_tls, 1);
		} tlsopts {
			free($2);
		}
		| TLISTEN TON listener
		| TTIMEOUT timeout TNUMBER	{ conf_set_timeout($2, $3); }
		| TLIMIT limit TNUMBER		{ conf_set_limit($2, $3); }
		| TLIMIT TBODY value		{ conf_set_body_limit($3); }
		| TALLOW allow
		| TRULES TFILE TSTRING		{ conf_add_rules_file($3); }
		| TRULES TSTRING {
			conf_add_rules_text($2, $<lineno>2);
		}
		| TBUILTIN TRULES yesno		{ conf_set_builtin($3); }
		;

/*
 * client "NAME" { ... }: the braces on the first line and on a line of
 * their own.  Inside, what a client block holds (conf_set.c sends rules,
 * builtin, limit body and allow to the block while it is read).
 */
client		: TCLIENT TSTRING '{' TEOL {
			conf_client_begin($2, $<lineno>1);
		} clientlines '}' {
			conf_client_end();
			free($2);
		}
		;

clientlines	: %empty
		| clientlines TEOL
		| clientlines clientline TEOL
		| clientlines unknown TEOL	{ pending_flush(); yyerrok; }
		| clientlines error TEOL	{ pending_flush(); yyerrok; }
		;

clientline	: TMATCH match
		| TRULES TFILE TSTRING		{ conf_add_rules_file($3); }
		| TRULES TSTRING {
			conf_add_rules_text($2, $<lineno>2);
		}
		| TBUILTIN TRULES yesno		{ conf_set_builtin($3); }
		| TLIMIT TBODY value		{ conf_set_body_limit($3); }
		| TALLOW allow
		;

match		: TTLS TSUBJECT TSTRING {
			conf_client_match(MATCH_TLS_SUBJECT, $3);
		}
		| TTLS TISSUER TSTRING {
			conf_client_match(MATCH_TLS_ISSUER, $3);
		}
		| TTLS TSAN TSTRING {
			conf_client_match(MATCH_TLS_SAN, $3);
		}
		| TTLS TSHA256 TSTRING {
			conf_client_match(MATCH_TLS_SHA256, $3);
		}
		| TADDRESS TSTRING {
			conf_client_match(MATCH_ADDRESS, $2);
		}
		| TLISTENER TSTRING {
			conf_client_match(MATCH_LISTENER, $2);
		}
		| TUNIX TUSER TSTRING {
			conf_client_match(MATCH_UNIX_UID, $3);
		}
		| TUNIX TUID TNUMBER {
			conf_client_match_id(MATCH_UNIX_UID, $3);
		}
		| TUNIX TGROUP TSTRING {
			conf_client_match(MATCH_UNIX_GID, $3);
		}
		| TUNIX TGID TNUMBER {
			conf_client_match_id(MATCH_UNIX_GID, $3);
		}
		| TCONTAINER TID TSTRING {
			conf_client_match(MATCH_CONTAINER_ID, $3);
		}
		| TCONTAINER TNAME TSTRING {
			conf_client_match(MATCH_CONTAINER_NAME, $3);
		}
		| TCONTAINER TLABEL TSTRING {
			conf_client_match(MATCH_CONTAINER_LABEL, $3);
		}
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

/* Admission control: what a request body may ask Docker for. */
allow		: TBIND TSTRING readonly {
			conf_allow_bind($2, $3);
		}
		| TCAPABILITY TSTRING		{ conf_allow_cap($2); }
		| TDEVICE TSTRING		{ conf_allow_device($2); }
		| THOST TSTRING			{ conf_allow_host($2); }
		| TIMAGE TSTRING {
			conf_allow_word(BC_IMAGE, $2);
		}
		| TRUNTIME TSTRING {
			conf_allow_word(BC_RUNTIME, $2);
		}
		| TVOLUME TDRIVER TSTRING {
			conf_allow_word(BC_VDRIVER, $3);
		}
		| TSYSCTL TSTRING {
			conf_allow_word(BC_SYSCTL, $2);
		}
		| TPRIVILEGED		{ conf_body()->privileged = 1; }
		| TCONTAINER TNAMESPACES { conf_body()->nsjoin = 1; }
		| TREMOTE		{ conf_body()->remote = 1; }
		| TPLUGIN TPRIVILEGES	{ conf_body()->plugins = 1; }
		;

readonly	: %empty			{ $$ = 0; }
		| TREADONLY			{ $$ = 1; }
		;

yesno		: TYES				{ $$ = 1; }
		| TNO				{ $$ = 0; }
		;

listener	: TSTRING listenname {
			conf_listen_begin($1, $2);
		} listenopts {
			conf_listen_end();
			free($1);
			free($2);
		}
		| TSYSTEMD optname listenname {
			size_t	 n = conf_new->nlisteners;

			conf_listen_systemd($2, $3);
			conf_tls_at(conf_new->nlisteners > n ?
			    &conf_new->listeners[n].tls : NULL, 0);
		} tlsopts {
			free($2);
			free($3);
		}
		;

optname		: %empty			{ $$ = NULL; }
		| TSTRING
		;

/* listen on "ADDR" name "NAME": for "match listener" */
listenname	: %empty			{ $$ = NULL; }
		| TNAME TSTRING			{ $$ = $2; }
		;

listenopts	: %empty
		| listenopts listenopt
		;

listenopt	: TOWNER TSTRING		{ conf_listen_owner($2, -1); }
		| TOWNER TNUMBER		{ conf_listen_owner(NULL, $2); }
		| TGROUP TSTRING		{ conf_listen_group($2, -1); }
		| TGROUP TNUMBER		{ conf_listen_group(NULL, $2); }
		| TMODE TNUMBER			{ conf_listen_mode($2); }
		| tlsopt
		;

/* TLS for a listener or the backend: conf_tls_at() said which. */
tlsopts		: %empty
		| tlsopts tlsopt
		;

tlsopt		: TTLS			{ conf_tls_set("tls", NULL); }
		| TCA TSTRING		{ conf_tls_set("ca", $2); }
		| TCERTIFICATE TSTRING	{ conf_tls_set("certificate", $2); }
		| TCIPHERS TSTRING	{ conf_tls_set("ciphers", $2); }
		| TCIPHERSUITES TSTRING	{ conf_tls_set("ciphersuites", $2); }
		| TCRL TSTRING		{ conf_tls_set("crl", $2); }
		| THOSTNAME TSTRING	{ conf_tls_set("hostname", $2); }
		| TKEY TSTRING		{ conf_tls_set("key", $2); }
		| TPROTOCOLS TSTRING	{ conf_tls_set("protocols", $2); }
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
	(void)snprintf(buf, len, "%s:%d: %s", conf_in_name(), yylval.lineno,
	    msg);
}

void
conf_error(const char *fmt, ...)
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
	if (sym >= YYSYMBOL_TADDRESS && sym <= YYSYMBOL_TYES) {
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
 * The lexer: tokens from the characters conf_input.c gives, which has
 * already joined lines and put macros' text in.
 */

/* After an error in the lexer: skip the rest of the line, keep its end. */
static int
findeol(void)
{
	int	 c;

	while ((c = conf_getc()) != '\n' && c != EOF)
		;
	conf_ungetc(c);
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
		if ((c = conf_rawgetc()) == EOF)
			goto unterminated;
		if (c == quote)
			break;
		if (c == '\n')
			conf_in_newline();
		if (c == '\\') {
			if ((next = conf_rawgetc()) == EOF)
				goto unterminated;
			if (next == '\n') {
				conf_in_newline();
				continue;
			}
			if (next == quote || next == '\\')
				c = next;
			else if (next == 'n')
				c = '\n';
			else if (next == 't')
				c = '\t';
			else
				conf_ungetc(next);
		} else if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') ||
		    c == 0x7f) {
			conf_error("control character in a quoted string");
			return findeol();
		}
		if (len >= STRING_MAX) {
			conf_error("quoted string too long");
			return findeol();
		}
		lexput(&len, c);
	}
	if ((yylval.v.string = strdup(len == 0 ? "" : lexbuf)) == NULL)
		fatal("%s", __func__);
	return TSTRING;

 unterminated:
	conf_error("unterminated quoted string");
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
	{ "affinity",	TAFFINITY },
	{ "allow",	TALLOW },
	{ "backend",	TBACKEND },
	{ "bind",	TBIND },
	{ "body",	TBODY },
	{ "builtin",	TBUILTIN },
	{ "ca",		TCA },
	{ "capability",	TCAPABILITY },
	{ "certificate", TCERTIFICATE },
	{ "chroot",	TCHROOT },
	{ "ciphers",	TCIPHERS },
	{ "ciphersuites", TCIPHERSUITES },
	{ "client",	TCLIENT },
	{ "connections", TCONNECTIONS },
	{ "container",	TCONTAINER },
	{ "cpu",	TCPU },
	{ "crl",	TCRL },
	{ "device",	TDEVICE },
	{ "drain",	TDRAIN },
	{ "driver",	TDRIVER },
	{ "file",	TFILE },
	{ "format",	TFORMAT },
	{ "gid",	TGID },
	{ "group",	TGROUP },
	{ "head",	THEAD },
	{ "headers",	THEADERS },
	{ "host",	THOST },
	{ "hostname",	THOSTNAME },
	{ "id",		TID },
	{ "idle",	TIDLE },
	{ "image",	TIMAGE },
	{ "include",	TINCLUDE },
	{ "issuer",	TISSUER },
	{ "json",	TJSON },
	{ "key",	TKEY },
	{ "label",	TLABEL },
	{ "level",	TLEVEL },
	{ "limit",	TLIMIT },
	{ "line",	TLINE },
	{ "listen",	TLISTEN },
	{ "listener",	TLISTENER },
	{ "log",	TLOG },
	{ "match",	TMATCH },
	{ "mode",	TMODE },
	{ "name",	TNAME },
	{ "namespaces",	TNAMESPACES },
	{ "no",		TNO },
	{ "on",		TON },
	{ "owner",	TOWNER },
	{ "per",	TPER },
	{ "pidfile",	TPIDFILE },
	{ "plugin",	TPLUGIN },
	{ "prefork",	TPREFORK },
	{ "privileged",	TPRIVILEGED },
	{ "privileges",	TPRIVILEGES },
	{ "protocols",	TPROTOCOLS },
	{ "read-only",	TREADONLY },
	{ "remote",	TREMOTE },
	{ "rules",	TRULES },
	{ "runtime",	TRUNTIME },
	{ "san",	TSAN },
	{ "sha256",	TSHA256 },
	{ "subject",	TSUBJECT },
	{ "sysctl",	TSYSCTL },
	{ "systemd",	TSYSTEMD },
	{ "text",	TTEXT },
	{ "timeout",	TTIMEOUT },
	{ "tls",	TTLS },
	{ "uid",	TUID },
	{ "unix",	TUNIX },
	{ "user",	TUSER },
	{ "volume",	TVOLUME },
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
			conf_error("word too long");
			return findeol();
		}
		lexput(&len, c);
		/* A macro may complete a word: tcp://127.0.0.1:$port */
		while ((c = conf_getc()) == '$' && !conf_in_expanding())
			if (conf_expand() == -1)
				return findeol();
	} while (isword(c));
	conf_ungetc(c);
	p = lexbuf + (lexbuf[0] == '-');
	if (*p != '\0' && strspn(p, "0123456789") == strlen(p)) {
		yylval.v.number = strtonum(lexbuf, LLONG_MIN, LLONG_MAX,
		    &errstr);
		if (errstr != NULL) {
			conf_error("number %s is %s", lexbuf, errstr);
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
	while ((c = conf_getc()) == ' ' || c == '\t' || c == '\r')
		;
	yylval.lineno = conf_in_line();
	yylval.tokno = ++ntokens;
	if (c == '#')
		while ((c = conf_getc()) != '\n' && c != EOF)
			;
	if (c == '$' && !conf_in_expanding()) {
		if (conf_expand() == -1)
			return findeol();
		goto top;
	}
	if (c == '"' || c == '\'')
		return lexstring(c);
	if (c == '\n') {
		conf_in_newline();
		return TEOL;
	}
	if (c == EOF)
		return 0;
	if (c == '=' || c == '{' || c == '}')
		return c;
	if (isword(c))
		return lexword(c);
	if (c >= 0x20 && c < 0x7f)
		conf_error("unexpected character '%c'", c);
	else
		conf_error("unexpected byte 0x%02x", c & 0xff);
	return findeol();
}

/* Files. */
int
parse_config(const char *filename, struct moat_config *x)
{
	struct moat_config	 tmp;
	const char		*why;
	int			 rv;

	config_defaults(&tmp);
	errors = 0;
	pending[0] = '\0';
	if (conf_in_open(filename, &why) == -1) {
		log_warnx("%s: %s", filename, why);
		config_free(&tmp);
		return -1;
	}
	conf_set_begin(&tmp);
	rv = yyparse();
	pending_flush();
	if (conf_set_end() == -1)
		errors++;
	if (rv != 0 && errors == 0)
		errors++;	/* an abort that said nothing: never "ok" */
	conf_in_close();
	free(lexbuf);
	lexbuf = NULL;
	lexsize = 0;
	if (errors > 0) {
		config_free(&tmp);
		return -1;
	}
	tmp.foreground = x->foreground;
	config_free(x);
	*x = tmp;
	return 0;
}

/* An error found elsewhere, and logged there: the file does not load. */
void
conf_failed(void)
{
	errors++;
}

int
conf_lineno(void)
{
	return yylval.lineno;
}
