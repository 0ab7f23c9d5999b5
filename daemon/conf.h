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
 * The configuration parser's own header, for its three files only:
 *
 *   parse.y       the grammar, the lexer's tokens, the messages
 *   conf_input.c  the characters the lexer reads: the stack of files
 *                 (include), the push-back buffers, the macros
 *   conf_set.c    what each statement does to the configuration being
 *                 built
 */

#ifndef CONF_H
#define CONF_H

#include <stddef.h>
#include <stdint.h>

struct body_policy;
struct moat_config;
struct moat_tls;

enum { T_HEAD, T_IDLE, T_DRAIN, T_BODY };		/* timeout ... */
enum { L_HEAD, L_LINE, L_HEADERS, L_ADDR, L_UID };	/* limit ... */

/* parse.y: an error at the token just read, as "file:line: what". */
void	 conf_error(const char *, ...)
	    __attribute__((__format__ (printf, 1, 2)));
void	 conf_failed(void);		/* an error already logged */
int	 conf_lineno(void);		/* the line of the token just read */

/* conf_input.c */
int	 conf_in_open(const char *, const char **);
void	 conf_in_close(void);
const char *conf_in_name(void);
int	 conf_in_line(void);
void	 conf_in_newline(void);
int	 conf_in_expanding(void);
int	 conf_rawgetc(void);
int	 conf_getc(void);
void	 conf_ungetc(int);
int	 conf_expand(void);
int	 conf_check_secrecy(int, const char **);
int	 conf_resolve(const char *, char *, size_t, int);
void	 conf_include(char *);
int	 conf_macro_ok(const char *);
int	 conf_symset(const char *, const char *, int);

/* conf_set.c: the configuration being built, between begin and end. */
extern struct moat_config	*conf_new;

void	 conf_set_begin(struct moat_config *);
int	 conf_set_end(void);
void	 conf_set_path(char *, size_t, char *, const char *, int);
void	 conf_set_prefork(int64_t);
void	 conf_set_backend(const char *);
void	 conf_set_timeout(int, int64_t);
void	 conf_set_limit(int, int64_t);
void	 conf_set_body_limit(char *);
void	 conf_allow_bind(char *, int);
void	 conf_allow_cap(char *);
void	 conf_allow_device(char *);
void	 conf_allow_host(char *);
void	 conf_allow_word(int, char *);
void	 conf_add_rules_file(char *);
void	 conf_add_rules_text(char *, int);
void	 conf_set_builtin(int);
struct body_policy *conf_body(void);
void	 conf_client_begin(const char *, int);
void	 conf_client_end(void);
void	 conf_client_match(int, char *);
void	 conf_client_match_id(int, int64_t);
void	 conf_listen_begin(char *, const char *);
void	 conf_listen_owner(char *, int64_t);
void	 conf_listen_group(char *, int64_t);
void	 conf_listen_mode(int64_t);
void	 conf_listen_end(void);
void	 conf_listen_systemd(const char *, const char *);
void	 conf_tls_at(struct moat_tls *, int);
void	 conf_tls_set(const char *, char *);

#endif /* CONF_H */
