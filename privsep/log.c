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

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static int		 log_foreground = 1;
static int		 log_level = LOG_LEVEL_DEFAULT;
static const char	*log_procname = "moatd";
static log_sink_fn	 log_sink;
static int		 log_syslog = 1;	/* 0: /dev/log closed */
static void		(*log_schedule)(void);
static char		 log_buf[16384];
static size_t		 log_len;

/*
 * Call before any chroot: openlog(LOG_NDELAY) connects /dev/log now and
 * tzset() reads the zone file while it can still be opened.
 */
void
log_init(int foreground, int level, int facility)
{
	log_foreground = foreground;
	log_level = level;
	tzset();
	if (!foreground)
		openlog("moatd", LOG_PID | LOG_NDELAY, facility);
}

void
log_procinit(const char *name)
{
	if (name != NULL)
		log_procname = name;
}

void
log_setlevel(int level)
{
	log_level = level;
}

/*
 * Sandboxed children cannot reconnect to /dev/log once journald restarts,
 * so when not in the foreground they hand records to the parent instead.
 * They close the /dev/log socket log_init() connected, too: a sandboxed
 * child keeps no socket to syslog (to forge records with), and what the
 * parent can no longer take goes to stderr.
 */
void
log_setsink(log_sink_fn fn)
{
	log_sink = fn;
	if (fn != NULL && !log_foreground && log_syslog) {
		closelog();
		log_syslog = 0;
	} else if (fn == NULL)
		log_syslog = 1;
}

/* One write(2) per record: dprintf would stat and seek stderr each time,
 * and this runs once per request. */
static void
log_stderr(const char *msg)
{
	char	 line[2200];
	int	 n;

	n = snprintf(line, sizeof(line), "moatd[%s]: %s\n", log_procname, msg);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line)) {
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	if (log_schedule != NULL) {
		if (log_len + n > sizeof(log_buf))
			log_flush();
		memcpy(log_buf + log_len, line, n);
		if ((log_len += n) == (size_t)n)
			log_schedule();
		return;
	}
	if (write(STDERR_FILENO, line, n) == -1) {
		/* a failed log write has nowhere to be reported */
	}
}

void
log_flush(void)
{
	if (log_len > 0 && write(STDERR_FILENO, log_buf, log_len) == -1) {
		/* a failed log write has nowhere to be reported */
	}
	log_len = 0;
}

void
log_batch(void (*schedule)(void))
{
	if (log_schedule == NULL && schedule != NULL)
		atexit(log_flush);
	log_flush();
	log_schedule = schedule;
}

void
log_emit(int pri, const char *msg)
{
	if (log_foreground || !log_syslog)
		log_stderr(msg);
	else
		syslog(pri, "%s", msg);
}

void
vlog(int pri, const char *fmt, va_list ap)
{
	char	 buf[2048];
	int	 saved = errno;

	if (pri > log_level)
		return;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (log_sink != NULL && !log_foreground)
		log_sink(pri, buf);
	else
		log_emit(pri, buf);
	if (pri <= LOG_CRIT)
		log_flush();
	errno = saved;
}

int
log_wants(int pri)
{
	return pri <= log_level;
}

void
logit(int pri, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(pri, fmt, ap);
	va_end(ap);
}

static void
vlog_errno(int pri, int code, const char *fmt, va_list ap)
{
	char	 buf[2048];

	if (pri > log_level)
		return;
	if (fmt == NULL) {
		logit(pri, "%s", strerror(code));
		return;
	}
	vsnprintf(buf, sizeof(buf), fmt, ap);
	logit(pri, "%s: %s", buf, strerror(code));
}

/*
 * The entry points: each formats at its priority, with errno's text
 * (log_warn, fatal) or without, then goes on (keeping errno) or exits.
 */
#define LOG_AT(name, pri, then)						\
void									\
name(const char *fmt, ...)						\
{									\
	va_list	 ap;							\
									\
	va_start(ap, fmt);						\
	vlog((pri), fmt, ap);						\
	va_end(ap);							\
	then;								\
}

#define LOG_ERRNO_AT(name, pri, then)					\
void									\
name(const char *fmt, ...)						\
{									\
	va_list	 ap;							\
	int	 code = errno;						\
									\
	va_start(ap, fmt);						\
	vlog_errno((pri), code, fmt, ap);				\
	va_end(ap);							\
	errno = code;							\
	then;								\
}

LOG_ERRNO_AT(log_warn, LOG_WARNING, (void)0)
LOG_AT(log_warnx, LOG_WARNING, (void)0)
LOG_AT(log_info, LOG_INFO, (void)0)
LOG_AT(log_debug, LOG_DEBUG, (void)0)
LOG_ERRNO_AT(fatal, LOG_CRIT, exit(1))
LOG_AT(fatalx, LOG_CRIT, exit(1))
