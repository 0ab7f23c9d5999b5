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
 * The configuration file's input, for the lexer in parse.y: a stack of
 * files (the top one and its includes), each with its own push-back
 * buffer, which also carries the text of macros; and the macros
 * themselves, from -D and from the file.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "moatd.h"
#include "conf.h"

#define INCLUDE_DEPTH	8		/* open files, the top one too */

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

static struct file *pushfile(const char *, const char **);
static void	 popfile(void);
static void	 symclear(int);

static struct file		*files[INCLUDE_DEPTH];
static int			 nfiles;
static struct file		*cur;
static struct sym		*syms;
static int			 expanding;

/*
 * The top file: parse_config() opens it, and closes it with every file
 * still open and the macros the file defined (-D ones stay).
 */
int
conf_in_open(const char *name, const char **why)
{
	nfiles = 0;
	expanding = 0;
	if ((cur = pushfile(name, why)) == NULL)
		return -1;
	return 0;
}

void
conf_in_close(void)
{
	while (nfiles > 0)
		popfile();
	symclear(0);
}

/* The file being read, for messages and relative names. */
const char *
conf_in_name(void)
{
	return cur->name;
}

int
conf_in_line(void)
{
	return cur->lineno;
}

/* A newline read by the lexer: one more line, unless in a macro's text. */
void
conf_in_newline(void)
{
	if (!expanding)
		cur->lineno++;
}

int
conf_in_expanding(void)
{
	return expanding;
}

/* Characters: a macro's markers are taken here, never returned. */
int
conf_rawgetc(void)
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

void
conf_ungetc(int c)
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
int
conf_getc(void)
{
	int	 c, next;

	for (;;) {
		if ((c = conf_rawgetc()) != '\\')
			break;
		if ((next = conf_rawgetc()) != '\n') {
			conf_ungetc(next);
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
	return conf_getc();
}

/* $name: push the macro's text back, to be read as if written here. */
int
conf_expand(void)
{
	const struct sym	*s;
	char			 name[64];
	size_t			 n = 0, i;
	int			 c;

	while ((c = conf_getc()) != EOF && (isalnum(c) || c == '_')) {
		if (n + 1 >= sizeof(name)) {
			conf_error("macro name too long");
			return -1;
		}
		name[n++] = c;
	}
	conf_ungetc(c);
	name[n] = '\0';
	if (n == 0) {
		conf_error("expected a macro name after $");
		return -1;
	}
	for (s = syms; s != NULL; s = s->next)
		if (strcmp(s->name, name) == 0)
			break;
	if (s == NULL) {
		conf_error("macro \"%s\" is not defined", name);
		return -1;
	}
	conf_ungetc(DONE_EXPAND);
	for (i = strlen(s->value); i > 0; i--)
		conf_ungetc((unsigned char)s->value[i - 1]);
	conf_ungetc(START_EXPAND);
	return 0;
}

/* Files. */

/* Refuse a file that someone other than root or us could have written. */
int
conf_check_secrecy(int fd, const char **why)
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
	if (conf_check_secrecy(fileno(f->stream), why) == -1) {
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
int
conf_resolve(const char *name, char *out, size_t len, int absolute)
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

void
conf_include(char *name)
{
	struct file	*f;
	char		 path[PATH_MAX];
	const char	*why;

	if (conf_resolve(name, path, sizeof(path), 0) == -1)
		conf_error("include \"%s\": bad file name", name);
	else if ((f = pushfile(path, &why)) == NULL)
		conf_error("include \"%s\": %s", name, why);
	else {
		cur = f;
		conf_ungetc('\n');
	}
	free(name);
}

/* Macros. */

int
conf_macro_ok(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return 0;
	return 1;
}

int
conf_symset(const char *name, const char *value, int persist)
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
	rv = conf_macro_ok(name) ? conf_symset(name, s + n + 1, 1) : -1;
	free(name);
	return rv;
}
