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

#ifndef MOATD_LOG_H
#define MOATD_LOG_H

#include <stdarg.h>
#include <syslog.h>

/*
 * Levels are syslog severities, 0 (emerg) to 7 (debug), as CetusGuard's
 * -log-level.  A record is emitted when its severity <= the log level.
 */
#define LOG_LEVEL_DEFAULT	LOG_INFO

/* Where a record goes when it does not go to stderr or syslog. */
typedef void	(*log_sink_fn)(int, const char *);

void	log_init(int foreground, int level, int facility);
void	log_procinit(const char *);
void	log_setlevel(int);
/* log format json: every line a JSON object (moatd(8), AUDIT LOG). */
void	log_setjson(int);
int	log_isjson(void);
size_t	log_json_start(char *, size_t, int pri, const char *proc);
void	log_emit_from(int, const char *proc, const char *);
void	log_setsink(log_sink_fn);
void	log_emit(int, const char *);
/*
 * Lines to stderr are kept and written together: schedule is called when
 * the first one is kept (the caller's loop then calls log_flush() once
 * its pass is done).  Critical lines, a full buffer and exit flush.
 */
void	log_batch(void (*schedule)(void));
void	log_flush(void);
void	log_warn(const char *, ...)
	    __attribute__((__format__ (printf, 1, 2)));
void	log_warnx(const char *, ...)
	    __attribute__((__format__ (printf, 1, 2)));
void	log_info(const char *, ...)
	    __attribute__((__format__ (printf, 1, 2)));
void	log_debug(const char *, ...)
	    __attribute__((__format__ (printf, 1, 2)));
/* 1 when a message at pri would be written: a caller may skip its work. */
int	log_wants(int);
void	logit(int, const char *, ...)
	    __attribute__((__format__ (printf, 2, 3)));
void	vlog(int, const char *, va_list)
	    __attribute__((__format__ (printf, 2, 0)));
__attribute__((__noreturn__)) void	fatal(const char *, ...)
	    __attribute__((__format__ (printf, 1, 2)));
__attribute__((__noreturn__)) void	fatalx(const char *, ...)
	    __attribute__((__format__ (printf, 1, 2)));

#endif /* MOATD_LOG_H */
