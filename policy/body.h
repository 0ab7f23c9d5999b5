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
 * Admission control (policy/body.c): what a request that a path rule let
 * through may ask Docker for, by its body and its query.  Pure: no I/O
 * (a bind source's symlinks are checked through the caller's callback),
 * no globals but constant tables.
 *
 * The safe defaults refuse everything that gives a container the host:
 * privileged, capabilities outside Docker's default set, devices, host
 * namespaces and joins of another container's, security options that
 * switch a confinement off, sysctls, host paths bind-mounted (Binds,
 * Mounts, volumes whose options bind or mount a device), volume drivers
 * other than local, runtimes other than the default, unmasked system
 * paths, privileged exec, plugins granted privileges, builds on the host
 * network or from a remote context, imports fetched from a URL.  A
 * struct body_policy loosens them, setting by setting (moatd.conf(5)).
 */

#ifndef MOATD_BODY_H
#define MOATD_BODY_H

#include <stddef.h>
#include <stdint.h>

#include "json.h"

#define BODY_LIMIT_DEFAULT	(1024 * 1024)	/* limit body */
#define BODY_LIMIT_MIN		1024
#define BODY_LIMIT_MAX		JSON_SIZE_MAX

/* Host namespaces a container may share (allow host ...). */
#define BODY_HOST_NETWORK	0x01
#define BODY_HOST_PID		0x02
#define BODY_HOST_IPC		0x04
#define BODY_HOST_UTS		0x08
#define BODY_HOST_USERNS	0x10
#define BODY_HOST_CGROUPNS	0x20

struct body_bind {
	char	*path;		/* absolute, canonical (no //, ., .., trailing /) */
	int	 readonly;	/* 1: only read-only binds under it */
};

struct body_policy {
	uint64_t		 limit;		/* bytes; 0: BODY_LIMIT_DEFAULT */
	struct body_bind	*binds;		/* allow bind */
	size_t			 nbinds;
	char			**caps;		/* allow capability: "NET_ADMIN" */
	size_t			 ncaps;
	char			**devices;	/* allow device: host paths */
	size_t			 ndevices;
	char			**images;	/* allow image: globs; none: any */
	size_t			 nimages;
	char			**runtimes;	/* allow runtime */
	size_t			 nruntimes;
	char			**vdrivers;	/* allow volume driver */
	size_t			 nvdrivers;
	char			**sysctls;	/* allow sysctl: globs */
	size_t			 nsysctls;
	unsigned int		 hosts;		/* allow host ...: BODY_HOST_* */
	int			 privileged;	/* allow privileged */
	int			 nsjoin;	/* allow container namespaces */
	int			 remote;	/* allow remote (build, import) */
	int			 plugins;	/* allow plugin privileges */
};

enum body_kind {
	BODY_NONE = 0,	/* no admission check: path rules only */
	BODY_JSON,	/* the JSON body and the query are checked */
	BODY_QUERY,	/* the query only (the body is an archive) */
};

/*
 * Which check method on path (canonical, decoded, with or without the
 * /v1.NN prefix) falls under.
 */
enum body_kind	body_endpoint(const char *method, const char *path);

/*
 * Called with a bind source that the policy allows by its name (under an
 * allowed root): 0 when the path, as the host resolves it, holds no
 * symbolic link (missing trailing parts are fine: dockerd creates them),
 * -1 when it does or cannot be checked.  NULL: no such check.
 */
typedef int	(*body_pathfn)(void *arg, const char *path);

/*
 * Check a request that the path rules allowed: root is its parsed body
 * (NULL for BODY_QUERY, or no body), query the raw query (after '?',
 * "" for none).  0 when allowed; -1 when not, with why set to the
 * field and the value that are refused, as "HostConfig.Privileged=true"
 * (printable ASCII only, bytes outside it as \xNN, truncated to whysz),
 * for "moatd: <METHOD> <path>: <why> is not allowed".
 */
int	body_check(const struct body_policy *, const char *method,
	    const char *path, const char *query, const struct json_value *root,
	    body_pathfn, void *arg, char *why, size_t whysz);

/*
 * Check the request's Content-Type (ctype, len bytes; NULL for none) on
 * a BODY_QUERY endpoint: 0, or -1 with why set when it is one under
 * which Docker's Go server reads the body as form values
 * (application/x-www-form-urlencoded, multipart/...): r.FormValue() and
 * r.Form then take the body's "networkmode=host&remote=..." before the
 * query's, so the checked query would not be what Docker acts on.
 * Other endpoints: always 0.
 */
int	body_content_type(const char *method, const char *path,
	    const char *ctype, size_t len, char *why, size_t whysz);

/*
 * Lexically canonical form of an absolute host path, as dockerd cleans
 * it (filepath.Clean: "//" and "/./" collapse, a trailing '/' goes), into
 * dst: 0, or -1 for a relative path, a ".." segment (refused outright),
 * a NUL, or one that does not fit.
 */
int	body_path_clean(const char *src, size_t len, char *dst, size_t dstsz);

/* The configuration on the wire (parent to policy worker): mbuf.h. */
struct mbuf;
int	body_policy_encode(struct mbuf *, const struct body_policy *);
int	body_policy_decode(struct mbuf *, struct body_policy *);
void	body_policy_free(struct body_policy *);	/* its arrays; not bp */

#endif /* MOATD_BODY_H */
