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
#include "json.h"

static int		 log_foreground = 1;
static int		 log_level = LOG_LEVEL_DEFAULT;
static const char	*log_procname = "moatd";
static log_sink_fn	 log_sink;
static int		 log_syslog = 1;	/* 0: /dev/log closed */
static int		 log_json;	/* log format json */
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

void
log_setjson(int on)
{
	log_json = on;
}

int
log_isjson(void)
{
	return log_json;
}

static const char *
level_name(int pri)
{
	static const char *const names[] = { "emerg", "alert", "crit",
	    "err", "warning", "notice", "info", "debug" };

	return pri >= 0 && pri <= 7 ? names[pri] : "debug";
}

/*
 * The start of a JSON log object (the schema is in moatd(8), AUDIT LOG):
 * {"time":"2026-12-03T06:59:07.123Z","level":"info","proc":"relay[0]"
 * into buf, without the closing brace; its length, 0 if it did not fit.
 */
size_t
log_json_start(char *buf, size_t len, int pri, const char *proc)
{
	struct timespec	 ts;
	struct tm	 tm;
	char		 t[32];
	size_t		 off;
	int		 n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(buf, len, "{\"time\":\"%s.%03ldZ\",\"level\":\"%s\","
	    "\"proc\":", t, ts.tv_nsec / 1000000, level_name(pri));
	if (n < 0 || (size_t)n >= len)
		return 0;
	off = n;
	if (json_write_str(buf, len, &off, proc != NULL ? proc : log_procname,
	    64) == -1)
		return 0;
	return off;
}

/* A text message as a JSON object: {"time",...,"msg":"..."}. */
static const char *
json_wrap(char *buf, size_t len, int pri, const char *proc, const char *msg)
{
	size_t	 off;

	if ((off = log_json_start(buf, len, pri, proc)) == 0 ||
	    off + 8 >= len)
		return msg;
	memcpy(buf + off, ",\"msg\":", 7);
	off += 7;
	/* Cut so that the object closes: escapes take up to 6 bytes each. */
	if (json_write_str(buf, len - 1, &off, msg, len / 2) == -1 &&
	    json_write_str(buf, len - 1, &off, msg, len / 8) == -1)
		return msg;
	buf[off++] = '}';
	buf[off] = '\0';
	return buf;
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

/* One line into the batch, or one write(2) now. */
static void
log_line(const char *line, size_t n)
{
	if (log_schedule != NULL) {
		if (log_len + n > sizeof(log_buf))
			log_flush();
		memcpy(log_buf + log_len, line, n);
		if ((log_len += n) == n)
			log_schedule();
		return;
	}
	if (write(STDERR_FILENO, line, n) == -1) {
		/* a failed log write has nowhere to be reported */
	}
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
	log_line(line, n);
}

/* A JSON line: as it is, one write (or into the batch). */
static void
log_stderr_raw(const char *msg)
{
	char	 line[2200];
	int	 n;

	n = snprintf(line, sizeof(line), "%s\n", msg);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;		/* a JSON line cut would not parse */
	log_line(line, n);
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

/*
 * With log format json every line is one JSON object: a request's comes
 * made (log_request), any other message is wrapped, naming proc (NULL:
 * this process) as the one it came from.  On standard error a JSON line
 * has no "moatd[proc]: " before it.
 */
void
log_emit_from(int pri, const char *proc, const char *msg)
{
	char	 buf[2100];

	if (log_json && msg[0] != '{')
		msg = json_wrap(buf, sizeof(buf), pri, proc, msg);
	if (!log_foreground && log_syslog)
		syslog(pri, "%s", msg);
	else if (log_json && msg[0] == '{')
		log_stderr_raw(msg);
	else
		log_stderr(msg);
}

void
log_emit(int pri, const char *msg)
{
	log_emit_from(pri, NULL, msg);
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
