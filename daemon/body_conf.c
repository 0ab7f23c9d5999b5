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
 * Admission control settings (limit body, allow ...): each value checked
 * and added to a struct body_policy, for the configuration file
 * (conf_set.c) and the command line (main.c) alike, so that both refuse
 * the same things with the same reasons.  The parent runs these, before
 * any sandbox: an allowed bind root is resolved here with realpath(3).
 */

#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "moatd.h"

/*
 * The Linux capabilities (linux/capability.h, 0 to 40), without CAP_,
 * and Docker's "ALL" (CapAdd: ["ALL"]).
 */
static const char	*capnames[] = {
	"ALL",
	"AUDIT_CONTROL", "AUDIT_READ", "AUDIT_WRITE", "BLOCK_SUSPEND", "BPF",
	"CHECKPOINT_RESTORE", "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH",
	"FOWNER", "FSETID", "IPC_LOCK", "IPC_OWNER", "KILL", "LEASE",
	"LINUX_IMMUTABLE", "MAC_ADMIN", "MAC_OVERRIDE", "MKNOD", "NET_ADMIN",
	"NET_BIND_SERVICE", "NET_BROADCAST", "NET_RAW", "PERFMON", "SETFCAP",
	"SETGID", "SETPCAP", "SETUID", "SYSLOG", "SYS_ADMIN", "SYS_BOOT",
	"SYS_CHROOT", "SYS_MODULE", "SYS_NICE", "SYS_PACCT", "SYS_PTRACE",
	"SYS_RAWIO", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG",
	"WAKE_ALARM",
};

static const struct {
	const char	*name;
	unsigned int	 flag;
} hostnames[] = {
	{ "network",	BODY_HOST_NETWORK },
	{ "pid",	BODY_HOST_PID },
	{ "ipc",	BODY_HOST_IPC },
	{ "uts",	BODY_HOST_UTS },
	{ "userns",	BODY_HOST_USERNS },
	{ "cgroupns",	BODY_HOST_CGROUPNS },
};

const char *
body_conf_host_name(unsigned int flag)
{
	size_t	 i;

	for (i = 0; i < sizeof(hostnames) / sizeof(hostnames[0]); i++)
		if (hostnames[i].flag == flag)
			return hostnames[i].name;
	return NULL;
}

/* why, formatted; returns -1, for "return why_set(...)".  client_conf.c
 * shares it. */
int
why_set(char *why, size_t whysz, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	(void)vsnprintf(why, whysz, fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * "1048576", "512K" or "1M" (K and M are 1024 and 1024 * 1024, either
 * case), from BODY_LIMIT_MIN to BODY_LIMIT_MAX bytes.
 */
int
body_conf_size(const char *s, uint64_t *out, char *why, size_t whysz)
{
	char		 digits[32];
	const char	*errstr;
	size_t		 n = strspn(s, "0123456789");
	long long	 v, mul = 1;

	if (n == 0 || n >= sizeof(digits))
		goto bad;
	if (s[n] == 'K' || s[n] == 'k')
		mul = 1024;
	else if (s[n] == 'M' || s[n] == 'm')
		mul = 1024 * 1024;
	else if (s[n] != '\0')
		goto bad;
	if (mul > 1 && s[n + 1] != '\0')
		goto bad;
	memcpy(digits, s, n);
	digits[n] = '\0';
	v = strtonum(digits, 0, BODY_LIMIT_MAX, &errstr);
	if (errstr != NULL || v > BODY_LIMIT_MAX / mul ||
	    v * mul < BODY_LIMIT_MIN)
		goto bad;
	*out = v * mul;
	return 0;
 bad:
	return why_set(why, whysz, "must be %d to %d bytes (or K, M)",
	    BODY_LIMIT_MIN, BODY_LIMIT_MAX);
}

/* 1 when s is in list. */
static int
listed(char **list, size_t n, const char *s)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (strcmp(list[i], s) == 0)
			return 1;
	return 0;
}

/* Add a copy of s to *listp (unless there): 0, or -1 when full. */
static int
list_add(char ***listp, size_t *np, const char *s, char *why, size_t whysz)
{
	char	**nl;

	if (listed(*listp, *np, s))
		return 0;
	if (*np >= BODY_CONF_LIST_MAX)
		return why_set(why, whysz, "more than %d", BODY_CONF_LIST_MAX);
	if ((nl = reallocarray(*listp, *np + 1, sizeof(*nl))) == NULL)
		fatal("%s", __func__);
	*listp = nl;
	if ((nl[*np] = strdup(s)) == NULL)
		fatal("%s", __func__);
	(*np)++;
	return 0;
}

/* Printable ASCII, no space, quote or backslash, 1 to max bytes. */
static int
word_ok(const char *s, size_t max, char *why, size_t whysz)
{
	const char	*p;

	if (*s == '\0')
		return why_set(why, whysz, "empty");
	if (strlen(s) > max)
		return why_set(why, whysz, "longer than %zu bytes", max);
	for (p = s; *p != '\0'; p++)
		if (*p <= ' ' || *p >= 0x7f || *p == '"' || *p == '\\')
			return why_set(why, whysz, "only printable ASCII "
			    "without spaces, quotes or backslashes");
	return 0;
}

/* 1 when path has a ".." segment. */
static int
has_dotdot(const char *path)
{
	const char	*p = path;
	size_t		 n;

	for (;;) {
		p += strspn(p, "/");
		if (*p == '\0')
			return 0;
		n = strcspn(p, "/");
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return 1;
		p += n;
	}
}

/* An absolute host path, cleaned as dockerd cleans it, into dst. */
static int
host_path(const char *s, char *dst, size_t dstsz, char *why, size_t whysz)
{
	const char	*p;

	if (strlen(s) > BODY_CONF_PATH_MAX)
		return why_set(why, whysz, "longer than %d bytes",
		    BODY_CONF_PATH_MAX);
	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return why_set(why, whysz, "a control character in "
			    "a path");
	if (s[0] != '/')
		return why_set(why, whysz, "not an absolute path");
	if (has_dotdot(s))
		return why_set(why, whysz, "a \"..\" segment is not allowed");
	if (body_path_clean(s, strlen(s), dst, dstsz) == -1)
		return why_set(why, whysz, "not a path moatd can check");
	return 0;
}

/*
 * allow bind: under path (absolute, cleaned) host paths may be bind
 * mounted, read-only ones only when ro.  The root itself must be its own
 * real path: the policy worker refuses a symbolic link anywhere in a
 * bind source, so a root that is one, or sits under one, could allow
 * nothing; the admin is told to write the path it resolves to.
 */
int
body_conf_bind(struct body_policy *bp, const char *path, int ro, char *why,
    size_t whysz)
{
	struct body_bind	*nb;
	char			 clean[BODY_CONF_PATH_MAX + 1];
	char			 real[PATH_MAX];
	size_t			 i;

	if (host_path(path, clean, sizeof(clean), why, whysz) == -1)
		return -1;
	if (realpath(clean, real) == NULL)
		return why_set(why, whysz, "%s", strerror(errno));
	if (strcmp(real, clean) != 0)
		return why_set(why, whysz, "not a real path (a symbolic link "
		    "resolves it to \"%s\"): write the real path", real);
	for (i = 0; i < bp->nbinds; i++) {
		if (strcmp(bp->binds[i].path, clean) != 0)
			continue;
		if (bp->binds[i].readonly != ro)
			return why_set(why, whysz, "\"%s\" given before, %s",
			    clean, ro ? "not read-only" : "read-only");
		return 0;
	}
	if (bp->nbinds >= BODY_CONF_LIST_MAX)
		return why_set(why, whysz, "more than %d", BODY_CONF_LIST_MAX);
	nb = reallocarray(bp->binds, bp->nbinds + 1, sizeof(*nb));
	if (nb == NULL)
		fatal("%s", __func__);
	bp->binds = nb;
	if ((nb[bp->nbinds].path = strdup(clean)) == NULL)
		fatal("%s", __func__);
	nb[bp->nbinds].readonly = ro != 0;
	bp->nbinds++;
	return 0;
}

/* allow capability: a Linux name, with or without CAP_, any case. */
int
body_conf_cap(struct body_policy *bp, const char *name, char *why,
    size_t whysz)
{
	char		 up[32];
	const char	*s = name;
	size_t		 i;

	if (strncasecmp(s, "CAP_", 4) == 0)
		s += 4;
	if (strlen(s) >= sizeof(up))
		return why_set(why, whysz, "unknown capability");
	for (i = 0; s[i] != '\0'; i++)
		up[i] = toupper((unsigned char)s[i]);
	up[i] = '\0';
	for (i = 0; i < sizeof(capnames) / sizeof(capnames[0]); i++)
		if (strcmp(capnames[i], up) == 0)
			break;
	if (i == sizeof(capnames) / sizeof(capnames[0]))
		return why_set(why, whysz, "unknown capability");
	return list_add(&bp->caps, &bp->ncaps, up, why, whysz);
}

/* allow device: an absolute host path, cleaned. */
int
body_conf_device(struct body_policy *bp, const char *path, char *why,
    size_t whysz)
{
	char	 clean[BODY_CONF_PATH_MAX + 1];

	if (host_path(path, clean, sizeof(clean), why, whysz) == -1)
		return -1;
	return list_add(&bp->devices, &bp->ndevices, clean, why, whysz);
}

/* allow host network|pid|ipc|uts|userns|cgroupns */
int
body_conf_host(struct body_policy *bp, const char *name, char *why,
    size_t whysz)
{
	size_t	 i;

	for (i = 0; i < sizeof(hostnames) / sizeof(hostnames[0]); i++)
		if (strcmp(hostnames[i].name, name) == 0) {
			bp->hosts |= hostnames[i].flag;
			return 0;
		}
	return why_set(why, whysz, "not one of network, pid, ipc, uts, "
	    "userns, cgroupns");
}

/* allow image, runtime, volume driver, sysctl: a word or a glob. */
int
body_conf_word(struct body_policy *bp, enum body_conf_list which,
    const char *s, char *why, size_t whysz)
{
	if (word_ok(s, BODY_CONF_WORD_MAX, why, whysz) == -1)
		return -1;
	switch (which) {
	case BC_IMAGE:
		return list_add(&bp->images, &bp->nimages, s, why, whysz);
	case BC_RUNTIME:
		return list_add(&bp->runtimes, &bp->nruntimes, s, why, whysz);
	case BC_VDRIVER:
		return list_add(&bp->vdrivers, &bp->nvdrivers, s, why, whysz);
	case BC_SYSCTL:
		return list_add(&bp->sysctls, &bp->nsysctls, s, why, whysz);
	}
	return why_set(why, whysz, "internal error");
}

static void
list_clear(char ***listp, size_t *np)
{
	size_t	 i;

	for (i = 0; i < *np; i++)
		free((*listp)[i]);
	free(*listp);
	*listp = NULL;
	*np = 0;
}

/* What -allow-bind and -allow-image replace. */
void
body_conf_clear_binds(struct body_policy *bp)
{
	size_t	 i;

	for (i = 0; i < bp->nbinds; i++)
		free(bp->binds[i].path);
	free(bp->binds);
	bp->binds = NULL;
	bp->nbinds = 0;
}

void
body_conf_clear_images(struct body_policy *bp)
{
	list_clear(&bp->images, &bp->nimages);
}
