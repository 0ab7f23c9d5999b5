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
 * Admission control: what a request that the path rules let through may
 * ask Docker for.  Everything here is refused by default; a struct
 * body_policy (moatd.conf(5) "allow ...") loosens it setting by setting.
 *
 * Endpoints (POST only; with or without the /v1.NN prefix; a {name} may
 * hold any bytes, as Docker's routes take {name:.*}):
 *
 *   /containers/create		JSON: the container checks below
 *   /containers/{id}/update	JSON: Devices, DeviceRequests,
 *				DeviceCgroupRules (the Resources, top level)
 *   /containers/{id}/start	JSON: a body (API < 1.24 applies it; a
 *				daemon whose minimum API is below 1.24
 *				takes /v1.23/...) is a HostConfig: every
 *				HostConfig check below, on the top level
 *				(named "Privileged") and under "HostConfig"
 *				(named "HostConfig.Privileged"), as
 *				runconfig decodes it.  No body: allowed
 *   /containers/{id}/exec	JSON: Privileged (unless allow privileged)
 *   /exec/{id}/start		JSON: parsed; nothing in it grants power
 *   /services/create,
 *   /services/{id}/update	JSON: the service checks below
 *   /plugins/pull,
 *   /plugins/{name}/upgrade	JSON: the privileges granted (an array);
 *				any at all refused unless allow plugin
 *				privileges
 *   /plugins/create		query: refused unless allow plugin
 *				privileges (the archive's config.json
 *				declares privileges Docker grants unasked)
 *   /plugins/{name}/set	JSON: an array of "name[.field][=value]";
 *				field "source" (a mount's) or "path" (a
 *				device's), or no field (Docker then takes
 *				the only settable one, which may be either)
 *				refused unless allow plugin privileges; so
 *				env and args pass written "NAME.value=..."
 *   /volumes/create		JSON: Driver, DriverOpts (volume checks)
 *   /build			query: networkmode, remote, securityopt;
 *				with an image allow-list every t= and an
 *				outputs= naming an image
 *   /images/create		query: fromImage (+tag), fromSrc
 *   /images/load		query: refused when an image allow-list is set
 *   /images/{name}/tag	query: with an image allow-list, {name} and
 *				repo (+tag) must both match it
 *   /commit			query: with an image allow-list, repo (+tag)
 *				must match it
 *
 * The route table follows Docker's router (gorilla/mux): the version
 * prefix is /v{version:[0-9.]+} ("/v1/", "/v1.47.0/", "/v1..2/"), paths
 * and methods compare case-sensitively, and {name:.*} takes any bytes,
 * '/' and ':' included (/plugins/vieux/sshfs:latest/set).  A trailing
 * '/' is ignored (Docker would answer 404; we check it the same).
 *
 * Container checks (containers/create).  Docker's create body is the
 * container Config with "HostConfig" and "NetworkingConfig" beside it;
 * older daemons also read every HostConfig field from the top level (the
 * deprecated embedded HostConfig, whose Resources are inline too), so
 * each HostConfig field below is checked both under "HostConfig" (named
 * "HostConfig.X") and at the top level (named "X"):
 *
 *   Privileged		true refused (allow privileged)
 *   CapAdd, Capabilities	a capability outside Docker's default set
 *			(CHOWN DAC_OVERRIDE FSETID FOWNER MKNOD NET_RAW
 *			SETGID SETUID SETFCAP SETPCAP NET_BIND_SERVICE
 *			SYS_CHROOT KILL AUDIT_WRITE; any case, with or
 *			without CAP_; "ALL" too) refused (allow capability)
 *   Devices		refused unless every PathOnHost is an allowed
 *			device (allow device), compared after cleaning
 *   DeviceRequests, DeviceCgroupRules	any entry refused
 *   NetworkMode, PidMode, IpcMode, UTSMode, UsernsMode, CgroupnsMode
 *			"host" refused (allow host network|pid|ipc|uts|
 *			userns|cgroupns)
 *   NetworkMode, PidMode, IpcMode "container:X", Cgroup "container:X"
 *			refused (allow container namespaces); Cgroup "host"
 *			needs allow host cgroupns; other Cgroup values refused
 *   NetworkingConfig.EndpointsConfig	a network named "host" refused
 *			(allow host network)
 *   SecurityOpt	only "no-new-privileges" (alone, or =/: with a true
 *			value as Go's strconv.ParseBool reads it) and
 *			"label=user:", "label=role:", "label=level:" (or
 *			label: forms) pass; everything else is refused:
 *			seccomp=, apparmor=, label=disable, "disable",
 *			label=type: (a type may be spc_t or unconfined_t),
 *			no-new-privileges=false, writable-cgroups=
 *   Sysctls		refused unless every key (with '/' read as '.')
 *			matches an allow sysctl glob; keys with ".." or
 *			bytes outside [A-Za-z0-9._/-] refused
 *   Binds		"src:dst[:opts]": a src starting with '/' is a host
 *			path: refused unless, cleaned (body_path_clean(),
 *			".." refused), it is an allowed root or under one
 *			(whole components); a read-only root needs "ro" in
 *			opts; then the symlink callback.  A src that is a
 *			name is a named volume (volumes/create checks
 *			those); a lone "dst" is an anonymous volume
 *   Mounts		Type "bind": Source as a Binds source (ReadOnly
 *			true, and not BindOptions.ReadOnlyNonRecursive,
 *			for a read-only root); Type "volume": the volume
 *			checks on VolumeOptions.DriverConfig (Name and
 *			Options); "tmpfs", "npipe", "cluster" pass;
 *			"image": Source against the image allow-list; any
 *			other Type (missing, unknown, other case) refused
 *   VolumeDriver	other than "" or "local" refused (allow volume
 *			driver)
 *   VolumesFrom	any entry refused (allow container namespaces): it
 *			copies another container's mounts, binds included
 *   Runtime		other than "" or "runc" refused (allow runtime)
 *   MaskedPaths, ReadonlyPaths	present and not null refused: they
 *			replace the daemon's lists (systempaths=unconfined
 *			sends [])
 *   Annotations	a key starting with "org.systemd.property." refused
 *			(runc's systemd cgroup driver sets them as unit
 *			properties: DeviceAllow=, ...); others pass
 *   Volumes (Config)	a key holding ':' (the old "host:container" form)
 *			refused
 *   Image (Config)	checked against the image allow-list
 *
 * Service checks (services create and update), under
 * TaskTemplate.ContainerSpec: Image (allow-list), Mounts (as above),
 * CapabilityAdd (as CapAdd), Sysctls (as above), Privileges:
 * CredentialSpec present refused, SELinuxContext.Disable true or a
 * SELinuxContext.Type refused, Seccomp.Mode other than "" / "default"
 * or a Seccomp.Profile refused, AppArmor.Mode other than "" / "default"
 * refused.  (Privileges.NoNewPrivileges false is the default, not a
 * grant: the daemon's own default applies, so it passes.)
 * TaskTemplate.Networks[].Target and the older top-level
 * Networks[].Target "host" refused (allow host network).
 * TaskTemplate.PluginSpec with any Privileges refused (allow plugin
 * privileges).
 *
 * Volume checks (volumes/create; Mounts of type volume): a Driver other
 * than "" or "local" refused unless allowed (allow volume driver).  The
 * local driver mounts what its options say, as root, on the host: its
 * options pass only when there are none, or when type is "tmpfs", device
 * is not a path and o holds no "bind" / "rbind" (and only the keys type,
 * device, o, size appear).  "allow volume driver local" lets every local
 * option through.
 *
 * Image allow-list (allow image; none: any image): a reference is
 * normalised as Docker does (no registry: docker.io; a docker.io name
 * without '/': docker.io/library/NAME; no tag and no digest: :latest)
 * and matched against each glob ('*' matches any bytes, '/' too; '?';
 * [...] classes with '!' or '^' and ranges).  A glob whose first
 * component is a plain name (no '.', ':' nor wildcard, not localhost)
 * is normalised the same way first ("alpine" reads as
 * docker.io/library/alpine), and a glob with no tag nor digest also
 * matches the bare repository name, so it allows every tag.  While a
 * list is set: a reference that Docker could take as an image ID or an
 * ID prefix (only hex digits, or sha256:...) is refused (create looks
 * such a name up as an ID when no image has it as a name), images/create
 * pulling every tag (fromImage without tag nor tag= parameter) is
 * refused, and fromSrc (import) and images/load are refused, because the
 * image they make can carry any name.  The names an existing image can
 * be given are checked too: images/{name}/tag (the source {name} and the
 * new repo, with the first tag= replacing its tag; a repo with a digest
 * refused), commit (repo with tag=), build (every non-empty t=; outputs=
 * unless every entry's Type is local, tar or cacheonly: the image and
 * moby exporters take a name attribute).  The tag= joined is the one
 * Go's r.Form.Get("tag") returns: the first, key compared exactly.
 *
 * Query checks (build, images/create, images/load, images/{name}/tag,
 * commit, plugins/create): body_content_type()
 * refuses a form Content-Type (application/x-www-form-urlencoded,
 * multipart/...) there, since Docker would read form values from the
 * body first and ignore the checked query's.  The query is split
 * on '&', "%XX" and '+' decoded, every occurrence of a key checked (Go's
 * FormValue takes the first, but which one Docker reads is no matter
 * then); a ';' or a bad escape refuses the request.  build: networkmode
 * "host" or "container:..." refused (allow host network, allow container
 * namespaces); remote other than "" and "client-session" (BuildKit's
 * session) refused (allow remote); securityopt values as SecurityOpt.
 * extrahosts passes.  images/create: fromSrc other than "" or "-" (a URL
 * the daemon fetches) refused (allow remote); fromImage as above.
 *
 * A checked field of the wrong JSON type ("Privileged": 1, "Binds": "x")
 * is refused and named; null means unset.  Refusals name the field and
 * value as Docker documents them: "HostConfig.Privileged=true",
 * "HostConfig.Binds[0]=/:/host", "Privileged=true" (top level),
 * "query networkmode=host".
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "mbuf.h"

#define BODY_LIST_MAX	4096	/* entries per list on the wire */
#define BODY_STR_MAX	4096	/* bytes per string on the wire */
#define REF_MAX		512	/* a normalised image reference */
#define PATH_MAX_BODY	4096	/* a cleaned host path */

enum ep {
	EP_NONE = 0,
	EP_CREATE,
	EP_UPDATE,
	EP_EXEC,
	EP_EXECSTART,
	EP_START,
	EP_SERVICE,
	EP_PLUGIN,
	EP_PLUGCREATE,
	EP_PLUGSET,
	EP_VOLUME,
	EP_BUILD,
	EP_IMAGECREATE,
	EP_LOAD,
	EP_TAG,
	EP_COMMIT,
};

struct ctx {
	const struct body_policy	*bp;
	body_pathfn			 pathfn;
	void				*arg;
	char				*why;
	size_t				 whysz;
};

static const char *const defcaps[] = {
	"CHOWN", "DAC_OVERRIDE", "FSETID", "FOWNER", "MKNOD", "NET_RAW",
	"SETGID", "SETUID", "SETFCAP", "SETPCAP", "NET_BIND_SERVICE",
	"SYS_CHROOT", "KILL", "AUDIT_WRITE",
};

/* --- small string helpers (counted, ASCII) --- */

static int
lc(int ch)
{
	return ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch;
}

/* s (counted) equals the C string t, ignoring ASCII case. */
static int
eqci(const char *s, size_t len, const char *t)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if (t[i] == '\0' || lc((unsigned char)s[i]) !=
		    lc((unsigned char)t[i]))
			return 0;
	return t[len] == '\0';
}

static int
eq(const char *s, size_t len, const char *t)
{
	return strlen(t) == len && memcmp(s, t, len) == 0;
}

static int
prefixci(const char *s, size_t len, const char *p)
{
	size_t	 n = strlen(p);

	return len >= n && eqci(s, n, p);
}

static int
isalnum_ascii(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9');
}

/* --- the why --- */

/* Append s (counted) to why, printable ASCII only, others as \xNN. */
static void
why_add(struct ctx *c, const char *s, size_t len)
{
	static const char	 hex[] = "0123456789abcdef";
	size_t			 off, i;
	unsigned char		 ch;

	if (c->whysz == 0)
		return;
	off = strlen(c->why);
	for (i = 0; i < len; i++) {
		ch = (unsigned char)s[i];
		if (ch >= 0x20 && ch < 0x7f) {
			if (off + 1 >= c->whysz)
				break;
			c->why[off++] = ch;
		} else {
			if (off + 4 >= c->whysz)
				break;
			c->why[off++] = '\\';
			c->why[off++] = 'x';
			c->why[off++] = hex[ch >> 4];
			c->why[off++] = hex[ch & 0xf];
		}
	}
	c->why[off] = '\0';
}

static void
why_val(struct ctx *c, const struct json_value *v)
{
	switch (v->type) {
	case JSON_NULL:
		why_add(c, "null", 4);
		break;
	case JSON_TRUE:
		why_add(c, "true", 4);
		break;
	case JSON_FALSE:
		why_add(c, "false", 5);
		break;
	case JSON_NUMBER:
		why_add(c, v->str, strlen(v->str));
		break;
	case JSON_STRING:
		why_add(c, v->str, v->len);
		break;
	case JSON_ARRAY:
		why_add(c, "[...]", 5);
		break;
	case JSON_OBJECT:
		why_add(c, "{...}", 5);
		break;
	}
}

/* Refuse member i of object m, named name: why = "<name>.<key>=<value>". */
static int
refuse_member(struct ctx *c, const char *name, const struct json_value *m,
    size_t i)
{
	if (c->whysz > 0)
		c->why[0] = '\0';
	why_add(c, name, strlen(name));
	why_add(c, ".", 1);
	why_add(c, m->keys[i], m->keylens[i]);
	why_add(c, "=", 1);
	why_val(c, &m->items[i]);
	return -1;
}

/* Refuse: why = "<name>=<s>". */
static int
refuse_s(struct ctx *c, const char *name, const char *s, size_t len)
{
	if (c->whysz > 0)
		c->why[0] = '\0';
	why_add(c, name, strlen(name));
	why_add(c, "=", 1);
	why_add(c, s, len);
	return -1;
}

/* Refuse: why = "<name>=<v>". */
static int
refuse_v(struct ctx *c, const char *name, const struct json_value *v)
{
	if (c->whysz > 0)
		c->why[0] = '\0';
	why_add(c, name, strlen(name));
	why_add(c, "=", 1);
	why_val(c, v);
	return -1;
}

/* --- typed access: NULL for unset (absent or null), -1 for wrong type --- */

static int
get_typed(struct ctx *c, const struct json_value *o, const char *key,
    enum json_type want, const char *name, const struct json_value **out)
{
	const struct json_value	*v;

	*out = NULL;
	if (o == NULL || (v = json_get(o, key)) == NULL ||
	    v->type == JSON_NULL)
		return 0;
	if (v->type == want ||
	    (want == JSON_TRUE && v->type == JSON_FALSE)) {
		*out = v;
		return 0;
	}
	return refuse_v(c, name, v);
}

static void
mkname(char *buf, size_t sz, const char *prefix, const char *field)
{
	size_t	 pl = strlen(prefix), fl = strlen(field);

	if (sz == 0)
		return;
	if (pl >= sz)
		pl = sz - 1;
	memcpy(buf, prefix, pl);
	if (fl >= sz - pl)
		fl = sz - pl - 1;
	memcpy(buf + pl, field, fl);
	buf[pl + fl] = '\0';
}

static void
mkidx(char *buf, size_t sz, const char *base, size_t i, const char *sub)
{
	(void)snprintf(buf, sz, "%s[%zu]%s", base, i, sub);
}

/* --- glob --- */

/* One [...] class at p (after the '['): *end past it; -1: not a class. */
static int
glob_class(const char *p, int ch, const char **end)
{
	int	 neg = 0, match = 0, lo, hi;
	const char *q = p;

	if (*q == '!' || *q == '^') {
		neg = 1;
		q++;
	}
	if (*q == ']') {	/* a leading ']' is literal */
		match |= ch == ']';
		q++;
	}
	for (; *q != '\0' && *q != ']'; q++) {
		lo = (unsigned char)*q;
		if (*q == '\\' && q[1] != '\0')
			lo = (unsigned char)*++q;
		if (q[1] == '-' && q[2] != '\0' && q[2] != ']') {
			hi = (unsigned char)q[2];
			if (q[2] == '\\' && q[3] != '\0') {
				hi = (unsigned char)q[3];
				q++;
			}
			q += 2;
			if (ch >= lo && ch <= hi)
				match = 1;
		} else if (ch == lo)
			match = 1;
	}
	if (*q != ']')
		return -1;
	*end = q + 1;
	return match ^ neg;
}

/*
 * Glob match of the whole counted subject s against the pattern: '*'
 * any bytes (including '/'), '?' one byte, [...] a class, '\' quotes.
 * One backtracking point: linear in practice, quadratic at worst.
 */
static int
glob_match(const char *pat, const char *s, size_t len)
{
	const char	*p = pat, *star = NULL, *end;
	size_t		 i = 0, si = 0;
	int		 r;

	while (i < len) {
		if (*p == '*') {
			while (*p == '*')
				p++;
			star = p;
			si = i;
			continue;
		}
		if (*p == '?') {
			p++;
			i++;
			continue;
		}
		if (*p == '[' &&
		    (r = glob_class(p + 1, (unsigned char)s[i], &end)) != -1) {
			if (r == 1) {
				p = end;
				i++;
				continue;
			}
		} else if (*p != '\0') {
			const char *q = p;

			if (*q == '\\' && q[1] != '\0')
				q++;
			if (*q == s[i]) {
				p = q + 1;
				i++;
				continue;
			}
		}
		if (star == NULL)
			return 0;
		p = star;
		i = ++si;
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

/* --- paths --- */

int
body_path_clean(const char *src, size_t len, char *dst, size_t dstsz)
{
	size_t	 i = 0, o = 0, seg;

	if (len == 0 || src[0] != '/' || dstsz < 2)
		return -1;
	if (memchr(src, '\0', len) != NULL)
		return -1;
	while (i < len) {
		while (i < len && src[i] == '/')
			i++;
		if (i == len)
			break;
		seg = i;
		while (i < len && src[i] != '/')
			i++;
		if (i - seg == 1 && src[seg] == '.')
			continue;
		if (i - seg == 2 && src[seg] == '.' && src[seg + 1] == '.')
			return -1;
		if (o + 1 + (i - seg) >= dstsz)
			return -1;
		dst[o++] = '/';
		memcpy(dst + o, src + seg, i - seg);
		o += i - seg;
	}
	if (o == 0)
		dst[o++] = '/';
	dst[o] = '\0';
	return 0;
}

/* Is the canonical path p the canonical root r or under it? */
static int
path_under(const char *p, const char *r)
{
	size_t	 rl = strlen(r);

	if (strcmp(r, "/") == 0)
		return 1;
	return strncmp(p, r, rl) == 0 && (p[rl] == '\0' || p[rl] == '/');
}

/*
 * A host path asked for as a bind source: 0 when under an allowed root
 * (a read-only one only when ro) and the callback finds no symlink.
 */
static int
host_path_ok(struct ctx *c, const char *src, size_t len, int ro)
{
	char	 clean[PATH_MAX_BODY], root[PATH_MAX_BODY];
	size_t	 i;
	int	 ok = 0;

	if (body_path_clean(src, len, clean, sizeof(clean)) == -1)
		return -1;
	for (i = 0; i < c->bp->nbinds && !ok; i++) {
		const struct body_bind *b = &c->bp->binds[i];

		if (b->path == NULL || body_path_clean(b->path,
		    strlen(b->path), root, sizeof(root)) == -1)
			continue;
		if (path_under(clean, root) && (ro || !b->readonly))
			ok = 1;
	}
	if (!ok)
		return -1;
	if (c->pathfn != NULL && c->pathfn(c->arg, clean) == -1)
		return -1;
	return 0;
}

/* --- lists --- */

static int
in_list(char **list, size_t n, const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (list[i] != NULL && eq(s, len, list[i]))
			return 1;
	return 0;
}

static int
in_globs(char **list, size_t n, const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (list[i] != NULL && glob_match(list[i], s, len))
			return 1;
	return 0;
}

/* --- capabilities --- */

/* The name without "CAP_", upper case, in buf; -1 if it does not fit. */
static int
cap_norm(const char *s, size_t len, char *buf, size_t sz)
{
	size_t	 i;

	if (len >= 4 && eqci(s, 4, "CAP_")) {
		s += 4;
		len -= 4;
	}
	if (len == 0 || len >= sz || memchr(s, '\0', len) != NULL)
		return -1;
	for (i = 0; i < len; i++) {
		int ch = (unsigned char)s[i];

		buf[i] = ch >= 'a' && ch <= 'z' ? ch - 'a' + 'A' : ch;
	}
	buf[len] = '\0';
	return 0;
}

static int
cap_ok(struct ctx *c, const char *s, size_t len)
{
	char	 n[64], a[64];
	size_t	 i;

	if (cap_norm(s, len, n, sizeof(n)) == -1)
		return 0;
	if (strcmp(n, "ALL") != 0)
		for (i = 0; i < sizeof(defcaps) / sizeof(defcaps[0]); i++)
			if (strcmp(n, defcaps[i]) == 0)
				return 1;
	for (i = 0; i < c->bp->ncaps; i++) {
		if (c->bp->caps[i] == NULL || cap_norm(c->bp->caps[i],
		    strlen(c->bp->caps[i]), a, sizeof(a)) == -1)
			continue;
		if (strcmp(a, n) == 0 || strcmp(a, "ALL") == 0)
			return 1;
	}
	return 0;
}

static int
check_caps(struct ctx *c, const struct json_value *o, const char *key,
    const char *prefix)
{
	const struct json_value	*a;
	char			 name[128], iname[160];
	size_t			 i;

	mkname(name, sizeof(name), prefix, key);
	if (get_typed(c, o, key, JSON_ARRAY, name, &a) == -1)
		return -1;
	for (i = 0; a != NULL && i < a->n; i++) {
		mkidx(iname, sizeof(iname), name, i, "");
		if (a->items[i].type != JSON_STRING ||
		    !cap_ok(c, a->items[i].str, a->items[i].len))
			return refuse_v(c, iname, &a->items[i]);
	}
	return 0;
}

/* --- simple fields --- */

static int
check_bool_off(struct ctx *c, const struct json_value *o, const char *key,
    const char *prefix, int allowed)
{
	const struct json_value	*v;
	char			 name[128];

	mkname(name, sizeof(name), prefix, key);
	if (get_typed(c, o, key, JSON_TRUE, name, &v) == -1)
		return -1;
	if (v != NULL && v->type == JSON_TRUE && !allowed)
		return refuse_v(c, name, v);
	return 0;
}

/* An array that must be empty (or unset) unless allowed. */
static int
check_empty_arr(struct ctx *c, const struct json_value *o, const char *key,
    const char *prefix, int allowed)
{
	const struct json_value	*v;
	char			 name[128], iname[160];

	mkname(name, sizeof(name), prefix, key);
	if (get_typed(c, o, key, JSON_ARRAY, name, &v) == -1)
		return -1;
	if (v != NULL && v->n > 0 && !allowed) {
		mkidx(iname, sizeof(iname), name, 0, "");
		return refuse_v(c, iname, &v->items[0]);
	}
	return 0;
}

/* A field that must be absent or null: any value replaces a default. */
static int
check_unset(struct ctx *c, const struct json_value *o, const char *key,
    const char *prefix)
{
	const struct json_value	*v;
	char			 name[128];

	if (o == NULL || (v = json_get(o, key)) == NULL ||
	    v->type == JSON_NULL)
		return 0;
	mkname(name, sizeof(name), prefix, key);
	return refuse_v(c, name, v);
}

/*
 * A namespace mode: "host" needs hostbit in bp->hosts; "container:X"
 * needs nsjoin when join is set (else refused as any other odd value
 * when strict).
 */
static int
check_mode(struct ctx *c, const struct json_value *o, const char *key,
    const char *prefix, unsigned int hostbit, int join)
{
	const struct json_value	*v;
	char			 name[128];

	mkname(name, sizeof(name), prefix, key);
	if (get_typed(c, o, key, JSON_STRING, name, &v) == -1)
		return -1;
	if (v == NULL)
		return 0;
	if (eqci(v->str, v->len, "host") && !(c->bp->hosts & hostbit))
		return refuse_v(c, name, v);
	if (join && prefixci(v->str, v->len, "container:") && !c->bp->nsjoin)
		return refuse_v(c, name, v);
	return 0;
}

static int
check_cgroup(struct ctx *c, const struct json_value *o, const char *prefix)
{
	const struct json_value	*v;
	char			 name[128];

	mkname(name, sizeof(name), prefix, "Cgroup");
	if (get_typed(c, o, "Cgroup", JSON_STRING, name, &v) == -1)
		return -1;
	if (v == NULL || v->len == 0)
		return 0;
	if (prefixci(v->str, v->len, "container:") && c->bp->nsjoin)
		return 0;
	if (eqci(v->str, v->len, "host") &&
	    (c->bp->hosts & BODY_HOST_CGROUPNS))
		return 0;
	return refuse_v(c, name, v);
}

/* --- security options --- */

/* Go's strconv.ParseBool true. */
static int
parse_true(const char *s, size_t len)
{
	return eq(s, len, "1") || eq(s, len, "t") || eq(s, len, "T") ||
	    eq(s, len, "true") || eq(s, len, "TRUE") || eq(s, len, "True");
}

/* One SecurityOpt entry, split as dockerd splits it. */
static int
secopt_ok(const char *s, size_t len)
{
	const char	*sep, *v;
	size_t		 kl, vl;

	if (eq(s, len, "no-new-privileges"))
		return 1;
	if ((sep = memchr(s, '=', len)) == NULL &&
	    (sep = memchr(s, ':', len)) == NULL)
		return 0;
	kl = sep - s;
	v = sep + 1;
	vl = len - kl - 1;
	if (eq(s, kl, "no-new-privileges"))
		return parse_true(v, vl);
	if (eq(s, kl, "label"))
		return (vl > 5 && eq(v, 5, "user:")) ||
		    (vl > 5 && eq(v, 5, "role:")) ||
		    (vl > 6 && eq(v, 6, "level:"));
	return 0;
}

static int
check_secopt(struct ctx *c, const struct json_value *o, const char *prefix)
{
	const struct json_value	*a;
	char			 name[128], iname[160];
	size_t			 i;

	mkname(name, sizeof(name), prefix, "SecurityOpt");
	if (get_typed(c, o, "SecurityOpt", JSON_ARRAY, name, &a) == -1)
		return -1;
	for (i = 0; a != NULL && i < a->n; i++) {
		mkidx(iname, sizeof(iname), name, i, "");
		if (a->items[i].type != JSON_STRING ||
		    memchr(a->items[i].str, '\0', a->items[i].len) != NULL ||
		    !secopt_ok(a->items[i].str, a->items[i].len))
			return refuse_v(c, iname, &a->items[i]);
	}
	return 0;
}

/* --- sysctls --- */

static int
sysctl_ok(struct ctx *c, const char *k, size_t len)
{
	char	 n[256];
	size_t	 i;

	if (len == 0 || len >= sizeof(n))
		return 0;
	for (i = 0; i < len; i++) {
		int ch = (unsigned char)k[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
		    ch == '-' || ch == '/'))
			return 0;
		n[i] = ch == '/' ? '.' : ch;
	}
	n[len] = '\0';
	if (strstr(n, "..") != NULL)
		return 0;
	return in_globs(c->bp->sysctls, c->bp->nsysctls, n, len);
}

static int
check_sysctls(struct ctx *c, const struct json_value *o, const char *prefix)
{
	const struct json_value	*m;
	char			 name[128];
	size_t			 i;

	mkname(name, sizeof(name), prefix, "Sysctls");
	if (get_typed(c, o, "Sysctls", JSON_OBJECT, name, &m) == -1)
		return -1;
	for (i = 0; m != NULL && i < m->n; i++) {
		if (sysctl_ok(c, m->keys[i], m->keylens[i]))
			continue;
		/* "HostConfig.Sysctls.<key>=<value>" */
		return refuse_member(c, name, m, i);
	}
	return 0;
}

/* --- annotations --- */

/*
 * Annotations (API 1.43+) go into the OCI spec; runc's systemd cgroup
 * driver turns "org.systemd.property.<Name>" ones into properties of
 * the container's unit (DeviceAllow=, ...).  Prefix compared exactly,
 * as runc does.
 */
static int
check_annotations(struct ctx *c, const struct json_value *o,
    const char *prefix)
{
	static const char	 sd[] = "org.systemd.property.";
	const struct json_value	*m;
	char			 name[128];
	size_t			 i;

	mkname(name, sizeof(name), prefix, "Annotations");
	if (get_typed(c, o, "Annotations", JSON_OBJECT, name, &m) == -1)
		return -1;
	for (i = 0; m != NULL && i < m->n; i++) {
		if (m->keylens[i] < sizeof(sd) - 1 ||
		    memcmp(m->keys[i], sd, sizeof(sd) - 1) != 0)
			continue;
		return refuse_member(c, name, m, i);
	}
	return 0;
}

/* --- images --- */

static int
ref_pathchar(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	    ch == '.' || ch == '_' || ch == '-' || ch == '/';
}

static int
is_hex(const char *s, size_t len, int lower_only)
{
	size_t	 i;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++) {
		int ch = (unsigned char)s[i];

		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
		    (!lower_only && ch >= 'A' && ch <= 'F')))
			return 0;
	}
	return 1;
}

/* Is the first component of a name (up to '/') a registry host? */
static int
is_domain(const char *s, size_t len)
{
	size_t	 i;

	if (eq(s, len, "localhost"))
		return 1;
	for (i = 0; i < len; i++)
		if (s[i] == '.' || s[i] == ':' ||
		    (s[i] >= 'A' && s[i] <= 'Z'))
			return 1;
	return 0;
}

/*
 * Normalise an image reference as Docker does: into out,
 * "domain/path[:tag][@digest]", ":latest" added when there is neither.
 * *bare is set to the length of "domain/path".  -1 for a reference that
 * Docker would not parse (or that we cannot follow).
 */
static int
ref_norm(const char *s, size_t len, char *out, size_t sz, size_t *bare,
    int *hastag)
{
	const char	*at, *name, *tag = NULL, *dig = NULL, *slash, *path;
	size_t		 nl, tl = 0, dl = 0, dml, pl, i, o;
	const char	*dom;

	*hastag = 0;
	if (len == 0 || len > 255 + 200 || memchr(s, '\0', len) != NULL)
		return -1;
	name = s;
	nl = len;
	if ((at = memchr(s, '@', len)) != NULL) {
		dig = at + 1;
		dl = len - (dig - s);
		nl = at - s;
		/* algorithm:hex */
		{
			const char *colon = memchr(dig, ':', dl);
			size_t al;

			if (colon == NULL)
				return -1;
			al = colon - dig;
			if (al == 0 || dl - al - 1 < 32 ||
			    !is_hex(colon + 1, dl - al - 1, 1))
				return -1;
			for (i = 0; i < al; i++)
				if (!((dig[i] >= 'a' && dig[i] <= 'z') ||
				    (dig[i] >= '0' && dig[i] <= '9') ||
				    dig[i] == '+' || dig[i] == '.' ||
				    dig[i] == '_' || dig[i] == '-'))
					return -1;
			if (eq(dig, al, "sha256") && dl - al - 1 != 64)
				return -1;
		}
	}
	/* The tag: after the last ':' that follows the last '/'. */
	for (i = nl; i > 0; i--) {
		if (name[i - 1] == '/')
			break;
		if (name[i - 1] == ':') {
			tag = name + i;
			tl = nl - i;
			nl = i - 1;
			break;
		}
	}
	if (tag != NULL) {
		if (tl == 0 || tl > 128 || !(isalnum_ascii(tag[0]) ||
		    tag[0] == '_'))
			return -1;
		for (i = 0; i < tl; i++)
			if (!(isalnum_ascii(tag[i]) || tag[i] == '_' ||
			    tag[i] == '.' || tag[i] == '-'))
				return -1;
		*hastag = 1;
	}
	if (nl == 0)
		return -1;
	slash = memchr(name, '/', nl);
	if (slash != NULL && is_domain(name, slash - name)) {
		dom = name;
		dml = slash - name;
		path = slash + 1;
		pl = nl - dml - 1;
		for (i = 0; i < dml; i++)
			if (!(isalnum_ascii(dom[i]) || dom[i] == '.' ||
			    dom[i] == '-' || dom[i] == ':'))
				return -1;
		if (eq(dom, dml, "index.docker.io")) {
			dom = "docker.io";
			dml = 9;
		}
	} else {
		dom = "docker.io";
		dml = 9;
		path = name;
		pl = nl;
	}
	if (pl == 0 || path[0] == '/' || path[pl - 1] == '/')
		return -1;
	for (i = 0; i < pl; i++) {
		if (!ref_pathchar((unsigned char)path[i]))
			return -1;
		if (path[i] == '/' && path[i + 1] == '/')
			return -1;
	}
	o = 0;
#define PUT(p, n) do {							\
	if (o + (n) >= sz)						\
		return -1;						\
	memcpy(out + o, (p), (n));					\
	o += (n);							\
} while (0)
	PUT(dom, dml);
	PUT("/", 1);
	if (eq(dom, dml, "docker.io") && memchr(path, '/', pl) == NULL)
		PUT("library/", 8);
	PUT(path, pl);
	*bare = o;
	if (tag != NULL) {
		PUT(":", 1);
		PUT(tag, tl);
	} else if (dig == NULL)
		PUT(":latest", 7);
	if (dig != NULL) {
		PUT("@", 1);
		PUT(dig, dl);
	}
#undef PUT
	out[o] = '\0';
	return 0;
}

/*
 * Does the allow-list glob pat allow the normalised reference ref
 * (bare: the length of its repository name)?
 */
static int
image_glob_ok(const char *pat, const char *ref, size_t bare)
{
	char		 np[REF_MAX];
	const char	*slash, *lastslash;
	size_t		 fl;
	int		 r;

	/* A plain first component: normalise as a reference would be. */
	if ((slash = strchr(pat, '/')) == NULL) {
		fl = strcspn(pat, ":@");
		if (fl > 0 && strcspn(pat, "*?[\\") >= fl) {
			r = snprintf(np, sizeof(np), "docker.io/library/%s",
			    pat);
			if (r < 0 || (size_t)r >= sizeof(np))
				return 0;
			pat = np;
		}
	} else {
		fl = slash - pat;
		if (fl > 0 && strcspn(pat, "*?[\\") >= fl &&
		    !is_domain(pat, fl)) {
			r = snprintf(np, sizeof(np), "docker.io/%s", pat);
			if (r < 0 || (size_t)r >= sizeof(np))
				return 0;
			pat = np;
		}
	}
	if (glob_match(pat, ref, strlen(ref)))
		return 1;
	/* A repository glob with no tag nor digest allows every tag. */
	lastslash = strrchr(pat, '/');
	if (strchr(pat, '@') == NULL &&
	    strchr(lastslash != NULL ? lastslash : pat, ':') == NULL)
		return glob_match(pat, ref, bare);
	return 0;
}

/*
 * Check one image reference (field name, value) against the allow-list;
 * alltags: the reference has neither tag nor digest and Docker would
 * take every tag (images/create).
 */
static int
image_ok(struct ctx *c, const char *s, size_t len, int alltags)
{
	char	 ref[REF_MAX];
	size_t	 bare, i;
	int	 hastag;

	if (c->bp->nimages == 0)
		return 1;
	/* An image ID, or a name Docker may look up as an ID prefix. */
	if (is_hex(s, len, 0) || (len > 7 && eq(s, 7, "sha256:")))
		return 0;
	if (ref_norm(s, len, ref, sizeof(ref), &bare, &hastag) == -1)
		return 0;
	if (alltags && !hastag && strchr(ref, '@') == NULL)
		return 0;
	for (i = 0; i < c->bp->nimages; i++)
		if (c->bp->images[i] != NULL &&
		    image_glob_ok(c->bp->images[i], ref, bare))
			return 1;
	return 0;
}

static int
check_image(struct ctx *c, const struct json_value *o, const char *key,
    const char *prefix)
{
	const struct json_value	*v;
	char			 name[128];

	mkname(name, sizeof(name), prefix, key);
	if (get_typed(c, o, key, JSON_STRING, name, &v) == -1)
		return -1;
	if (v == NULL || c->bp->nimages == 0)
		return 0;
	if (!image_ok(c, v->str, v->len, 0))
		return refuse_v(c, name, v);
	return 0;
}

/* --- volumes --- */

static int
vdriver_ok(struct ctx *c, const char *s, size_t len)
{
	if (len == 0 || eq(s, len, "local"))
		return 1;
	return in_list(c->bp->vdrivers, c->bp->nvdrivers, s, len);
}

/* Does o (a mount option list "a,b=c") hold bind or rbind? */
static int
opts_bind(const char *s, size_t len)
{
	size_t	 i = 0, st;

	while (i <= len) {
		st = i;
		while (i < len && s[i] != ',')
			i++;
		if (eqci(s + st, i - st, "bind") ||
		    eqci(s + st, i - st, "rbind"))
			return 1;
		i++;
	}
	return 0;
}

/*
 * The local driver's options (DriverOpts, DriverConfig.Options): only
 * none, or a tmpfs.  name: the field, as "DriverOpts".
 */
static int
check_local_opts(struct ctx *c, const struct json_value *m, const char *name)
{
	const struct json_value	*v;
	char			 kname[200];
	const char		*k;
	size_t			 i, kl;
	int			 tmpfs = 0, other = 0;

	if (m == NULL || m->n == 0)
		return 0;
	if (in_list(c->bp->vdrivers, c->bp->nvdrivers, "local", 5))
		return 0;
	for (i = 0; i < m->n; i++) {
		k = m->keys[i];
		kl = m->keylens[i];
		v = &m->items[i];
		(void)snprintf(kname, sizeof(kname), "%s.%.*s", name,
		    (int)(kl > 64 ? 64 : kl), k);
		if (v->type != JSON_STRING ||
		    memchr(v->str, '\0', v->len) != NULL)
			return refuse_v(c, kname, v);
		if (eq(k, kl, "type")) {
			if (!eq(v->str, v->len, "tmpfs"))
				return refuse_v(c, kname, v);
			tmpfs = 1;
		} else if (eq(k, kl, "device")) {
			if (memchr(v->str, '/', v->len) != NULL ||
			    memchr(v->str, ':', v->len) != NULL)
				return refuse_v(c, kname, v);
			other = 1;
		} else if (eq(k, kl, "o")) {
			if (opts_bind(v->str, v->len))
				return refuse_v(c, kname, v);
			other = 1;
		} else if (!eq(k, kl, "size"))
			return refuse_v(c, kname, v);
	}
	if (other && !tmpfs) {
		/* device or o without type=tmpfs: a mount of something */
		for (i = 0; i < m->n; i++)
			if (!eq(m->keys[i], m->keylens[i], "size"))
				break;
		(void)snprintf(kname, sizeof(kname), "%s.%.*s", name,
		    (int)(m->keylens[i] > 64 ? 64 : m->keylens[i]),
		    m->keys[i]);
		return refuse_v(c, kname, &m->items[i]);
	}
	return 0;
}

/* Driver name (may be NULL) and options of a volume; names for why. */
static int
check_volume(struct ctx *c, const struct json_value *o, const char *dkey,
    const char *okey, const char *prefix)
{
	const struct json_value	*d, *opts;
	char			 dname[160], oname[160];

	mkname(dname, sizeof(dname), prefix, dkey);
	mkname(oname, sizeof(oname), prefix, okey);
	if (get_typed(c, o, dkey, JSON_STRING, dname, &d) == -1 ||
	    get_typed(c, o, okey, JSON_OBJECT, oname, &opts) == -1)
		return -1;
	if (d != NULL && !vdriver_ok(c, d->str, d->len))
		return refuse_v(c, dname, d);
	if (d == NULL || d->len == 0 || eq(d->str, d->len, "local"))
		return check_local_opts(c, opts, oname);
	return 0;
}

/* --- binds and mounts --- */

static int
bind_ro(const char *s, size_t len)
{
	size_t	 i = 0, st;
	int	 ro = 0, rw = 0;

	while (i <= len) {
		st = i;
		while (i < len && s[i] != ',')
			i++;
		if (eq(s + st, i - st, "ro"))
			ro = 1;
		if (eq(s + st, i - st, "rw"))
			rw = 1;
		i++;
	}
	return ro && !rw;
}

static int
check_binds(struct ctx *c, const struct json_value *o, const char *prefix)
{
	const struct json_value	*a, *b;
	const char		*s, *c1, *c2;
	char			 name[128], iname[160];
	size_t			 i, len, sl;
	int			 ro;

	mkname(name, sizeof(name), prefix, "Binds");
	if (get_typed(c, o, "Binds", JSON_ARRAY, name, &a) == -1)
		return -1;
	for (i = 0; a != NULL && i < a->n; i++) {
		b = &a->items[i];
		mkidx(iname, sizeof(iname), name, i, "");
		if (b->type != JSON_STRING)
			return refuse_v(c, iname, b);
		s = b->str;
		len = b->len;
		if ((c1 = memchr(s, ':', len)) == NULL) {
			/* "dst": an anonymous volume, unless a path */
			continue;
		}
		sl = c1 - s;
		if (sl == 0 || s[0] != '/')
			continue;	/* a named volume */
		c2 = memchr(c1 + 1, ':', len - sl - 1);
		ro = c2 != NULL && bind_ro(c2 + 1, len - (c2 + 1 - s));
		if (host_path_ok(c, s, sl, ro) == -1)
			return refuse_v(c, iname, b);
	}
	return 0;
}

static int
check_mount(struct ctx *c, const struct json_value *m, const char *base)
{
	const struct json_value	*t, *src, *ro, *bo, *rnr = NULL, *vo, *dc;
	char			 n[200], vbase[200];

	if (m->type != JSON_OBJECT)
		return refuse_v(c, base, m);
	mkname(n, sizeof(n), base, ".Type");
	if (get_typed(c, m, "Type", JSON_STRING, n, &t) == -1)
		return -1;
	if (t == NULL)
		return refuse_s(c, n, "", 0);
	mkname(n, sizeof(n), base, ".Source");
	if (get_typed(c, m, "Source", JSON_STRING, n, &src) == -1)
		return -1;
	if (eq(t->str, t->len, "bind")) {
		int isro;

		mkname(n, sizeof(n), base, ".ReadOnly");
		if (get_typed(c, m, "ReadOnly", JSON_TRUE, n, &ro) == -1)
			return -1;
		mkname(n, sizeof(n), base, ".BindOptions");
		if (get_typed(c, m, "BindOptions", JSON_OBJECT, n, &bo) == -1)
			return -1;
		mkname(n, sizeof(n), base, ".BindOptions.ReadOnlyNonRecursive");
		if (bo != NULL && get_typed(c, bo, "ReadOnlyNonRecursive",
		    JSON_TRUE, n, &rnr) == -1)
			return -1;
		isro = ro != NULL && ro->type == JSON_TRUE &&
		    !(rnr != NULL && rnr->type == JSON_TRUE);
		mkname(n, sizeof(n), base, ".Source");
		if (src == NULL)
			return refuse_s(c, n, "", 0);
		if (host_path_ok(c, src->str, src->len, isro) == -1)
			return refuse_v(c, n, src);
		return 0;
	}
	if (eq(t->str, t->len, "volume")) {
		mkname(n, sizeof(n), base, ".VolumeOptions");
		if (get_typed(c, m, "VolumeOptions", JSON_OBJECT, n, &vo) == -1)
			return -1;
		if (vo == NULL)
			return 0;
		mkname(vbase, sizeof(vbase), n, ".DriverConfig");
		if (get_typed(c, vo, "DriverConfig", JSON_OBJECT, vbase,
		    &dc) == -1)
			return -1;
		if (dc == NULL)
			return 0;
		mkname(n, sizeof(n), vbase, ".");
		return check_volume(c, dc, "Name", "Options", n);
	}
	if (eq(t->str, t->len, "image")) {
		mkname(n, sizeof(n), base, ".Source");
		if (src != NULL && c->bp->nimages > 0 &&
		    !image_ok(c, src->str, src->len, 0))
			return refuse_v(c, n, src);
		return 0;
	}
	if (eq(t->str, t->len, "tmpfs") || eq(t->str, t->len, "npipe") ||
	    eq(t->str, t->len, "cluster"))
		return 0;
	mkname(n, sizeof(n), base, ".Type");
	return refuse_v(c, n, t);
}

static int
check_mounts(struct ctx *c, const struct json_value *o, const char *prefix)
{
	const struct json_value	*a;
	char			 name[128], iname[160];
	size_t			 i;

	mkname(name, sizeof(name), prefix, "Mounts");
	if (get_typed(c, o, "Mounts", JSON_ARRAY, name, &a) == -1)
		return -1;
	for (i = 0; a != NULL && i < a->n; i++) {
		mkidx(iname, sizeof(iname), name, i, "");
		if (check_mount(c, &a->items[i], iname) == -1)
			return -1;
	}
	return 0;
}

/* --- devices --- */

static int
device_ok(struct ctx *c, const char *s, size_t len)
{
	char	 p[PATH_MAX_BODY], a[PATH_MAX_BODY];
	size_t	 i;

	if (body_path_clean(s, len, p, sizeof(p)) == -1)
		return 0;
	for (i = 0; i < c->bp->ndevices; i++) {
		if (c->bp->devices[i] == NULL ||
		    body_path_clean(c->bp->devices[i],
		    strlen(c->bp->devices[i]), a, sizeof(a)) == -1)
			continue;
		if (strcmp(a, p) == 0)
			return 1;
	}
	return 0;
}

static int
check_devices(struct ctx *c, const struct json_value *o, const char *prefix)
{
	const struct json_value	*a, *d, *p;
	char			 name[128], iname[160], pname[200];
	size_t			 i;

	mkname(name, sizeof(name), prefix, "Devices");
	if (get_typed(c, o, "Devices", JSON_ARRAY, name, &a) == -1)
		return -1;
	for (i = 0; a != NULL && i < a->n; i++) {
		d = &a->items[i];
		mkidx(iname, sizeof(iname), name, i, "");
		if (d->type != JSON_OBJECT)
			return refuse_v(c, iname, d);
		mkname(pname, sizeof(pname), iname, ".PathOnHost");
		if (get_typed(c, d, "PathOnHost", JSON_STRING, pname, &p) == -1)
			return -1;
		if (p == NULL)
			return refuse_s(c, pname, "", 0);
		if (!device_ok(c, p->str, p->len))
			return refuse_v(c, pname, p);
	}
	return 0;
}

/* The Resources: in a HostConfig and at the top of an update body. */
static int
check_resources(struct ctx *c, const struct json_value *o, const char *prefix)
{
	if (check_devices(c, o, prefix) == -1 ||
	    check_empty_arr(c, o, "DeviceRequests", prefix, 0) == -1 ||
	    check_empty_arr(c, o, "DeviceCgroupRules", prefix, 0) == -1)
		return -1;
	return 0;
}

/* --- containers --- */

static int
check_runtime(struct ctx *c, const struct json_value *o, const char *prefix)
{
	const struct json_value	*v;
	char			 name[128];

	mkname(name, sizeof(name), prefix, "Runtime");
	if (get_typed(c, o, "Runtime", JSON_STRING, name, &v) == -1)
		return -1;
	if (v == NULL || v->len == 0 || eq(v->str, v->len, "runc") ||
	    in_list(c->bp->runtimes, c->bp->nruntimes, v->str, v->len))
		return 0;
	return refuse_v(c, name, v);
}

static int
check_vdriver(struct ctx *c, const struct json_value *o, const char *prefix)
{
	const struct json_value	*v;
	char			 name[128];

	mkname(name, sizeof(name), prefix, "VolumeDriver");
	if (get_typed(c, o, "VolumeDriver", JSON_STRING, name, &v) == -1)
		return -1;
	if (v != NULL && !vdriver_ok(c, v->str, v->len))
		return refuse_v(c, name, v);
	return 0;
}

/* Every HostConfig field, in o, named with prefix ("HostConfig." or ""). */
static int
check_hostconfig(struct ctx *c, const struct json_value *o,
    const char *prefix)
{
	const struct body_policy *bp = c->bp;

	if (check_bool_off(c, o, "Privileged", prefix, bp->privileged) == -1 ||
	    check_caps(c, o, "CapAdd", prefix) == -1 ||
	    check_caps(c, o, "Capabilities", prefix) == -1 ||
	    check_resources(c, o, prefix) == -1 ||
	    check_mode(c, o, "NetworkMode", prefix, BODY_HOST_NETWORK, 1) ==
	    -1 ||
	    check_mode(c, o, "PidMode", prefix, BODY_HOST_PID, 1) == -1 ||
	    check_mode(c, o, "IpcMode", prefix, BODY_HOST_IPC, 1) == -1 ||
	    check_mode(c, o, "UTSMode", prefix, BODY_HOST_UTS, 0) == -1 ||
	    check_mode(c, o, "UsernsMode", prefix, BODY_HOST_USERNS, 0) ==
	    -1 ||
	    check_mode(c, o, "CgroupnsMode", prefix, BODY_HOST_CGROUPNS, 0) ==
	    -1 ||
	    check_cgroup(c, o, prefix) == -1 ||
	    check_secopt(c, o, prefix) == -1 ||
	    check_sysctls(c, o, prefix) == -1 ||
	    check_annotations(c, o, prefix) == -1 ||
	    check_binds(c, o, prefix) == -1 ||
	    check_mounts(c, o, prefix) == -1 ||
	    check_vdriver(c, o, prefix) == -1 ||
	    check_empty_arr(c, o, "VolumesFrom", prefix, bp->nsjoin) == -1 ||
	    check_runtime(c, o, prefix) == -1 ||
	    check_unset(c, o, "MaskedPaths", prefix) == -1 ||
	    check_unset(c, o, "ReadonlyPaths", prefix) == -1)
		return -1;
	return 0;
}

static int
check_create(struct ctx *c, const struct json_value *root)
{
	const struct json_value	*hc, *nc, *ec, *vols;
	size_t			 i;

	if (get_typed(c, root, "HostConfig", JSON_OBJECT, "HostConfig",
	    &hc) == -1)
		return -1;
	if (hc != NULL && check_hostconfig(c, hc, "HostConfig.") == -1)
		return -1;
	if (check_hostconfig(c, root, "") == -1)
		return -1;
	if (check_image(c, root, "Image", "") == -1)
		return -1;
	if (get_typed(c, root, "Volumes", JSON_OBJECT, "Volumes", &vols) == -1)
		return -1;
	for (i = 0; vols != NULL && i < vols->n; i++)
		if (memchr(vols->keys[i], ':', vols->keylens[i]) != NULL)
			return refuse_s(c, "Volumes", vols->keys[i],
			    vols->keylens[i]);
	if (get_typed(c, root, "NetworkingConfig", JSON_OBJECT,
	    "NetworkingConfig", &nc) == -1 ||
	    get_typed(c, nc, "EndpointsConfig", JSON_OBJECT,
	    "NetworkingConfig.EndpointsConfig", &ec) == -1)
		return -1;
	for (i = 0; ec != NULL && i < ec->n; i++)
		if (eqci(ec->keys[i], ec->keylens[i], "host") &&
		    !(c->bp->hosts & BODY_HOST_NETWORK))
			return refuse_s(c, "NetworkingConfig.EndpointsConfig",
			    ec->keys[i], ec->keylens[i]);
	return 0;
}

/*
 * containers/{id}/start with a body: API < 1.24 (and a daemon whose
 * minimum API is below it) applies it as the container's HostConfig,
 * decoded as the create body is (runconfig's ContainerConfigWrapper):
 * the fields at the top level, or under "HostConfig", which wins.
 */
static int
check_start(struct ctx *c, const struct json_value *root)
{
	const struct json_value	*hc;

	if (get_typed(c, root, "HostConfig", JSON_OBJECT, "HostConfig",
	    &hc) == -1)
		return -1;
	if (hc != NULL && check_hostconfig(c, hc, "HostConfig.") == -1)
		return -1;
	return check_hostconfig(c, root, "");
}

/* --- services --- */

static int
check_networks(struct ctx *c, const struct json_value *o, const char *name)
{
	const struct json_value	*a, *n, *t;
	char			 iname[160], tname[200];
	size_t			 i;

	if (get_typed(c, o, "Networks", JSON_ARRAY, name, &a) == -1)
		return -1;
	for (i = 0; a != NULL && i < a->n; i++) {
		n = &a->items[i];
		mkidx(iname, sizeof(iname), name, i, "");
		if (n->type != JSON_OBJECT)
			return refuse_v(c, iname, n);
		mkname(tname, sizeof(tname), iname, ".Target");
		if (get_typed(c, n, "Target", JSON_STRING, tname, &t) == -1)
			return -1;
		if (t != NULL && eqci(t->str, t->len, "host") &&
		    !(c->bp->hosts & BODY_HOST_NETWORK))
			return refuse_v(c, tname, t);
	}
	return 0;
}

static int
check_mode_default(struct ctx *c, const struct json_value *o,
    const char *name)
{
	const struct json_value	*v;
	char			 n[200];

	mkname(n, sizeof(n), name, ".Mode");
	if (get_typed(c, o, "Mode", JSON_STRING, n, &v) == -1)
		return -1;
	if (v != NULL && v->len != 0 && !eq(v->str, v->len, "default"))
		return refuse_v(c, n, v);
	return 0;
}

static int
check_privileges(struct ctx *c, const struct json_value *cs)
{
	const struct json_value	*p, *v, *se, *sc, *aa;
	const char		*pn = "TaskTemplate.ContainerSpec.Privileges";
	char			 n[200];

	if (get_typed(c, cs, "Privileges", JSON_OBJECT, pn, &p) == -1)
		return -1;
	if (p == NULL)
		return 0;
	if ((v = json_get(p, "CredentialSpec")) != NULL &&
	    v->type != JSON_NULL)
		return refuse_v(c, "TaskTemplate.ContainerSpec.Privileges."
		    "CredentialSpec", v);
	mkname(n, sizeof(n), pn, ".SELinuxContext");
	if (get_typed(c, p, "SELinuxContext", JSON_OBJECT, n, &se) == -1)
		return -1;
	if (se != NULL) {
		mkname(n, sizeof(n), pn, ".SELinuxContext.");
		if (check_bool_off(c, se, "Disable", n, 0) == -1)
			return -1;
		mkname(n, sizeof(n), pn, ".SELinuxContext.Type");
		if (get_typed(c, se, "Type", JSON_STRING, n, &v) == -1)
			return -1;
		if (v != NULL && v->len > 0)
			return refuse_v(c, n, v);
	}
	mkname(n, sizeof(n), pn, ".Seccomp");
	if (get_typed(c, p, "Seccomp", JSON_OBJECT, n, &sc) == -1)
		return -1;
	if (sc != NULL) {
		if (check_mode_default(c, sc, n) == -1)
			return -1;
		if ((v = json_get(sc, "Profile")) != NULL &&
		    v->type != JSON_NULL &&
		    !(v->type == JSON_STRING && v->len == 0)) {
			mkname(n, sizeof(n), pn, ".Seccomp.Profile");
			return refuse_v(c, n, v);
		}
	}
	mkname(n, sizeof(n), pn, ".AppArmor");
	if (get_typed(c, p, "AppArmor", JSON_OBJECT, n, &aa) == -1)
		return -1;
	if (aa != NULL && check_mode_default(c, aa, n) == -1)
		return -1;
	return 0;
}

static int
check_service(struct ctx *c, const struct json_value *root)
{
	const struct json_value	*tt, *cs, *ps, *pv;
	const char		*csn = "TaskTemplate.ContainerSpec.";

	if (get_typed(c, root, "TaskTemplate", JSON_OBJECT, "TaskTemplate",
	    &tt) == -1 ||
	    check_networks(c, root, "Networks") == -1)
		return -1;
	if (tt == NULL)
		return 0;
	if (check_networks(c, tt, "TaskTemplate.Networks") == -1 ||
	    get_typed(c, tt, "ContainerSpec", JSON_OBJECT,
	    "TaskTemplate.ContainerSpec", &cs) == -1 ||
	    get_typed(c, tt, "PluginSpec", JSON_OBJECT,
	    "TaskTemplate.PluginSpec", &ps) == -1 ||
	    get_typed(c, ps, "Privileges", JSON_ARRAY,
	    "TaskTemplate.PluginSpec.Privileges", &pv) == -1)
		return -1;
	if (pv != NULL && pv->n > 0 && !c->bp->plugins)
		return refuse_v(c, "TaskTemplate.PluginSpec.Privileges[0]",
		    &pv->items[0]);
	if (cs == NULL)
		return 0;
	if (check_image(c, cs, "Image", csn) == -1 ||
	    check_mounts(c, cs, csn) == -1 ||
	    check_caps(c, cs, "CapabilityAdd", csn) == -1 ||
	    check_sysctls(c, cs, csn) == -1 ||
	    check_privileges(c, cs) == -1)
		return -1;
	return 0;
}

/* --- the other bodies --- */

static int
check_plugin(struct ctx *c, const struct json_value *root)
{
	if (root->type != JSON_ARRAY)
		return refuse_v(c, "body", root);
	if (root->n > 0 && !c->bp->plugins)
		return refuse_v(c, "body[0]", &root->items[0]);
	return 0;
}

/*
 * plugins/{name}/set: an array of "name[.field][=value]" as the plugin
 * manager splits them (the field after the last '.' past the first
 * byte).  A mount's field is "source", a device's "path"; with no field
 * the plugin's only settable one is taken, which may be either, so only
 * an explicit other field (env and args: "value") passes.
 */
static int
check_plugset(struct ctx *c, const struct json_value *root)
{
	const struct json_value	*e;
	const char		*eqs, *dot;
	char			 iname[64];
	size_t			 i, nl, j;

	if (root->type != JSON_ARRAY)
		return refuse_v(c, "body", root);
	for (i = 0; i < root->n; i++) {
		e = &root->items[i];
		mkidx(iname, sizeof(iname), "body", i, "");
		if (e->type != JSON_STRING)
			return refuse_v(c, iname, e);
		if (c->bp->plugins)
			continue;
		eqs = memchr(e->str, '=', e->len);
		nl = eqs != NULL ? (size_t)(eqs - e->str) : e->len;
		for (dot = NULL, j = nl; j > 1; j--)
			if (e->str[j - 1] == '.') {
				dot = e->str + j - 1;
				break;
			}
		if (dot == NULL || eq(dot + 1, nl - (dot + 1 - e->str),
		    "source") || eq(dot + 1, nl - (dot + 1 - e->str), "path"))
			return refuse_v(c, iname, e);
	}
	return 0;
}

static int
check_volcreate(struct ctx *c, const struct json_value *root)
{
	return check_volume(c, root, "Driver", "DriverOpts", "");
}

/* --- queries --- */

static int
hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Go's QueryUnescape of s (counted) into dst (size > len): -1 if bad. */
static int
qunescape(const char *s, size_t len, char *dst, size_t *dlen)
{
	size_t	 i, o = 0;
	int	 hi, lo;

	for (i = 0; i < len; i++) {
		if (s[i] == '+')
			dst[o++] = ' ';
		else if (s[i] == '%') {
			if (len - i < 3 || (hi = hexval(s[i + 1])) == -1 ||
			    (lo = hexval(s[i + 2])) == -1)
				return -1;
			dst[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else
			dst[o++] = s[i];
	}
	dst[o] = '\0';
	*dlen = o;
	return 0;
}

typedef int (*qparam_fn)(struct ctx *, const char *k, size_t kl,
    const char *v, size_t vl, const char *q, size_t ql);

/*
 * Each key=value of the query, decoded, to fn (q: the whole query for
 * fn's own lookups).  A ';' or a bad escape refuses.
 */
static int
query_each(struct ctx *c, const char *q, qparam_fn fn)
{
	size_t	 len = strlen(q), i = 0, st, kl, vl;
	char	*buf;
	const char *eqs;
	int	 r = 0;

	if (memchr(q, ';', len) != NULL)
		return refuse_s(c, "query", q, len);
	if ((buf = malloc(len + 2)) == NULL)
		return refuse_s(c, "query", "(out of memory)", 15);
	while (i < len && r == 0) {
		st = i;
		while (i < len && q[i] != '&')
			i++;
		if (i > st) {
			char	*k = buf, *v;

			eqs = memchr(q + st, '=', i - st);
			if (qunescape(q + st, (eqs != NULL ? (size_t)(eqs - q) :
			    i) - st, k, &kl) == -1) {
				r = refuse_s(c, "query", q + st, i - st);
				break;
			}
			v = k + kl + 1;
			vl = 0;
			*v = '\0';
			if (eqs != NULL && qunescape(eqs + 1, i - (eqs + 1 - q),
			    v, &vl) == -1) {
				r = refuse_s(c, "query", q + st, i - st);
				break;
			}
			r = fn(c, k, kl, v, vl, q, len);
		}
		i++;
	}
	free(buf);
	return r;
}

/* why = "query <key>=<value>" */
static int
refuse_q(struct ctx *c, const char *k, size_t kl, const char *v, size_t vl)
{
	if (c->whysz > 0)
		c->why[0] = '\0';
	why_add(c, "query ", 6);
	why_add(c, k, kl);
	why_add(c, "=", 1);
	why_add(c, v, vl);
	return -1;
}

/*
 * build's outputs (JSON: [{"Type":..., "Attrs":{...}}]) while an image
 * allow-list is set: the image and moby exporters take a "name"
 * attribute, an image name the t= check never sees; only the exporters
 * that write to the client (local, tar) and cacheonly pass.
 */
static int
outputs_ok(const char *v, size_t vl)
{
	struct json_doc		*d;
	const struct json_value	*root, *t;
	const char		*jwhy;
	size_t			 off, i;
	int			 ok = 1;

	if ((d = json_parse(v, vl, NULL, &jwhy, &off)) == NULL)
		return 0;
	root = json_root(d);
	if (root->type == JSON_ARRAY) {
		for (i = 0; i < root->n && ok; i++) {
			t = json_get(&root->items[i], "Type");
			ok = t != NULL && t->type == JSON_STRING &&
			    (eq(t->str, t->len, "local") ||
			    eq(t->str, t->len, "tar") ||
			    eq(t->str, t->len, "cacheonly"));
		}
	} else
		ok = root->type == JSON_NULL;
	json_free(d);
	return ok;
}

static int
q_build(struct ctx *c, const char *k, size_t kl, const char *v, size_t vl,
    const char *q, size_t ql)
{
	if (eqci(k, kl, "networkmode")) {
		if (eqci(v, vl, "host") &&
		    !(c->bp->hosts & BODY_HOST_NETWORK))
			return refuse_q(c, k, kl, v, vl);
		if (prefixci(v, vl, "container:") && !c->bp->nsjoin)
			return refuse_q(c, k, kl, v, vl);
	} else if (eqci(k, kl, "remote")) {
		if (vl > 0 && !eq(v, vl, "client-session") && !c->bp->remote)
			return refuse_q(c, k, kl, v, vl);
	} else if (eqci(k, kl, "securityopt")) {
		if (memchr(v, '\0', vl) != NULL || !secopt_ok(v, vl))
			return refuse_q(c, k, kl, v, vl);
	} else if (eqci(k, kl, "t")) {
		/* every t= is a name the image gets */
		if (vl > 0 && c->bp->nimages > 0 && !image_ok(c, v, vl, 0))
			return refuse_q(c, k, kl, v, vl);
	} else if (eqci(k, kl, "outputs")) {
		if (vl > 0 && c->bp->nimages > 0 && !outputs_ok(v, vl))
			return refuse_q(c, k, kl, v, vl);
	}
	return 0;
}

/*
 * The first value of key in q (decoded into buf), or NULL: what Go's
 * r.Form.Get(key) returns, the key compared exactly.
 */
static const char *
query_get(const char *q, size_t ql, const char *key, char *buf, size_t *vl)
{
	size_t	 i = 0, st, kl;
	const char *eqs;
	char	 kb[64];

	while (i < ql) {
		st = i;
		while (i < ql && q[i] != '&')
			i++;
		eqs = memchr(q + st, '=', i - st);
		kl = (eqs != NULL ? (size_t)(eqs - q) : i) - st;
		if (kl < sizeof(kb) && qunescape(q + st, kl, kb, &kl) == 0 &&
		    eq(kb, kl, key)) {
			if (eqs == NULL) {
				buf[0] = '\0';
				*vl = 0;
				return buf;
			}
			if (qunescape(eqs + 1, i - (eqs + 1 - q), buf, vl) == 0)
				return buf;
		}
		i++;
	}
	return NULL;
}

static int
q_imagecreate(struct ctx *c, const char *k, size_t kl, const char *v,
    size_t vl, const char *q, size_t ql)
{
	char		*ref, *tag;
	const char	*t;
	size_t		 tl = 0, rl;
	int		 r = 0;

	if (eqci(k, kl, "fromSrc")) {
		if (vl > 0 && !eq(v, vl, "-") && !c->bp->remote)
			return refuse_q(c, k, kl, v, vl);
		if (vl > 0 && c->bp->nimages > 0)
			return refuse_q(c, k, kl, v, vl);
		return 0;
	}
	if (!eqci(k, kl, "fromImage") || vl == 0 || c->bp->nimages == 0)
		return 0;
	/* fromImage with the (first) tag parameter, as dockerd joins them */
	if ((tag = malloc(ql + 1)) == NULL || (ref = malloc(vl + 2 * ql + 3)) ==
	    NULL) {
		free(tag);
		return refuse_q(c, k, kl, v, vl);
	}
	t = query_get(q, ql, "tag", tag, &tl);
	memcpy(ref, v, vl);
	rl = vl;
	if (rl > 0 && ref[rl - 1] == ':')	/* "pull -a" sends "name:" */
		rl--;
	if (t != NULL && tl > 0) {
		/* dockerd: the tag parameter replaces a tag (or digest) */
		const char *dig = memchr(ref, '@', rl);
		size_t i, base = dig != NULL ? (size_t)(dig - ref) : rl;
		size_t dl = rl - base;
		int isdig = memchr(t, ':', tl) != NULL;

		for (i = base; i > 0 && ref[i - 1] != '/'; i--)
			if (ref[i - 1] == ':') {
				base = i - 1;
				break;
			}
		if (isdig) {
			rl = base;
			ref[rl++] = '@';
			memcpy(ref + rl, t, tl);
			rl += tl;
		} else {
			char *d = dig != NULL ? strndup(dig, dl) : NULL;

			if (dig != NULL && d == NULL) {
				free(tag);
				free(ref);
				return refuse_q(c, k, kl, v, vl);
			}
			rl = base;
			ref[rl++] = ':';
			memcpy(ref + rl, t, tl);
			rl += tl;
			if (d != NULL) {
				memcpy(ref + rl, d, dl);
				rl += dl;
				free(d);
			}
		}
	}
	ref[rl] = '\0';
	if (!image_ok(c, ref, rl, 1))
		r = refuse_q(c, k, kl, ref, rl);
	free(ref);
	free(tag);
	return r;
}

/*
 * A new image name: repo (decoded) with the first tag parameter, which
 * replaces a tag repo has (dockerd: reference.WithTag); no tag: :latest.
 * A repo with a digest is refused (dockerd refuses to tag one).
 */
static int
q_target(struct ctx *c, const char *k, size_t kl, const char *v, size_t vl,
    const char *q, size_t ql)
{
	char		*ref, *tag;
	const char	*t;
	size_t		 tl = 0, rl, i;
	int		 r = 0;

	if (!eqci(k, kl, "repo") || vl == 0 || c->bp->nimages == 0)
		return 0;
	if (memchr(v, '@', vl) != NULL)
		return refuse_q(c, k, kl, v, vl);
	if ((tag = malloc(ql + 1)) == NULL ||
	    (ref = malloc(vl + ql + 2)) == NULL) {
		free(tag);
		return refuse_q(c, k, kl, v, vl);
	}
	memcpy(ref, v, vl);
	rl = vl;
	if ((t = query_get(q, ql, "tag", tag, &tl)) != NULL && tl > 0) {
		for (i = rl; i > 0 && ref[i - 1] != '/'; i--)
			if (ref[i - 1] == ':') {
				rl = i - 1;
				break;
			}
		ref[rl++] = ':';
		memcpy(ref + rl, t, tl);
		rl += tl;
	}
	ref[rl] = '\0';
	if (!image_ok(c, ref, rl, 0))
		r = refuse_q(c, k, kl, ref, rl);
	free(ref);
	free(tag);
	return r;
}

static int
q_load(struct ctx *c, const char *k, size_t kl, const char *v, size_t vl,
    const char *q, size_t ql)
{
	return 0;
}

/* --- endpoints --- */

static const char plugcreate_why[] = "plugins/create (the privileges "
    "in the plugin's archive are not checked)";
static const char load_why[] = "images/load while an image allow-list is "
    "set (the image references are inside the archive)";

/* path without the /v1.NN prefix (Docker: /v{version:[0-9.]+}). */
static const char *
strip_version(const char *p)
{
	const char	*q;

	if (p[0] != '/' || p[1] != 'v')
		return p;
	for (q = p + 2; (*q >= '0' && *q <= '9') || *q == '.'; q++)
		;
	if (q == p + 2 || *q != '/')
		return p;
	return q;
}

/* "/<pfx>/<anything>/<sfx>" with trailing slashes tolerated. */
static int
mid_match(const char *p, size_t len, const char *pfx, const char *sfx)
{
	size_t	 pl = strlen(pfx), sl = strlen(sfx);

	return len > pl + sl && strncmp(p, pfx, pl) == 0 &&
	    strncmp(p + len - sl, sfx, sl) == 0;
}

static enum ep
endpoint(const char *method, const char *path)
{
	const char	*p;
	size_t		 len;

	if (method == NULL || path == NULL || strcmp(method, "POST") != 0)
		return EP_NONE;
	p = strip_version(path);
	len = strlen(p);
	while (len > 1 && p[len - 1] == '/')
		len--;
	if (eq(p, len, "/containers/create"))
		return EP_CREATE;
	if (eq(p, len, "/services/create"))
		return EP_SERVICE;
	if (eq(p, len, "/plugins/pull"))
		return EP_PLUGIN;
	if (eq(p, len, "/plugins/create"))
		return EP_PLUGCREATE;
	if (eq(p, len, "/volumes/create"))
		return EP_VOLUME;
	if (eq(p, len, "/build"))
		return EP_BUILD;
	if (eq(p, len, "/images/create"))
		return EP_IMAGECREATE;
	if (eq(p, len, "/images/load"))
		return EP_LOAD;
	if (eq(p, len, "/commit"))
		return EP_COMMIT;
	if (mid_match(p, len, "/containers/", "/update"))
		return EP_UPDATE;
	if (mid_match(p, len, "/containers/", "/exec"))
		return EP_EXEC;
	if (mid_match(p, len, "/exec/", "/start"))
		return EP_EXECSTART;
	if (mid_match(p, len, "/containers/", "/start"))
		return EP_START;
	if (mid_match(p, len, "/services/", "/update"))
		return EP_SERVICE;
	if (mid_match(p, len, "/plugins/", "/upgrade"))
		return EP_PLUGIN;
	if (mid_match(p, len, "/plugins/", "/set"))
		return EP_PLUGSET;
	if (mid_match(p, len, "/images/", "/tag"))
		return EP_TAG;
	return EP_NONE;
}

/* images/{name}/tag: the image named by the path, as Docker's {name:.*}. */
static int
check_tag_source(struct ctx *c, const char *path)
{
	const char	*p = strip_version(path);
	size_t		 len = strlen(p);

	if (c->bp->nimages == 0)
		return 0;
	while (len > 1 && p[len - 1] == '/')
		len--;
	/* endpoint() matched "/images/" ... "/tag" */
	p += strlen("/images/");
	len -= strlen("/images/") + strlen("/tag");
	if (!image_ok(c, p, len, 0))
		return refuse_s(c, "name", p, len);
	return 0;
}

enum body_kind
body_endpoint(const char *method, const char *path)
{
	switch (endpoint(method, path)) {
	case EP_NONE:
		return BODY_NONE;
	case EP_BUILD:
	case EP_IMAGECREATE:
	case EP_LOAD:
	case EP_PLUGCREATE:
	case EP_TAG:
	case EP_COMMIT:
		return BODY_QUERY;
	default:
		return BODY_JSON;
	}
}

int
body_content_type(const char *method, const char *path, const char *ctype,
    size_t len, char *why, size_t whysz)
{
	struct ctx	 c;
	size_t		 st = 0, end;

	memset(&c, 0, sizeof(c));
	c.why = why;
	c.whysz = whysz;
	if (whysz > 0)
		why[0] = '\0';
	if (ctype == NULL || body_endpoint(method, path) != BODY_QUERY)
		return 0;
	/* Go's mime.ParseMediaType: the type before ';', trimmed, any case */
	while (st < len && (ctype[st] == ' ' || ctype[st] == '\t'))
		st++;
	end = st;
	while (end < len && ctype[end] != ';')
		end++;
	while (end > st && (ctype[end - 1] == ' ' || ctype[end - 1] == '\t'))
		end--;
	if (eqci(ctype + st, end - st, "application/x-www-form-urlencoded") ||
	    prefixci(ctype + st, end - st, "multipart/"))
		return refuse_s(&c, "Content-Type", ctype, len);
	return 0;
}

int
body_check(const struct body_policy *bp, const char *method,
    const char *path, const char *query, const struct json_value *root,
    body_pathfn pathfn, void *arg, char *why, size_t whysz)
{
	struct ctx	 c;
	enum ep		 ep;

	c.bp = bp;
	c.pathfn = pathfn;
	c.arg = arg;
	c.why = why;
	c.whysz = whysz;
	if (whysz > 0)
		why[0] = '\0';
	if (query == NULL)
		query = "";
	ep = endpoint(method, path);
	switch (ep) {
	case EP_NONE:
		return 0;
	case EP_BUILD:
		return query_each(&c, query, q_build);
	case EP_IMAGECREATE:
		return query_each(&c, query, q_imagecreate);
	case EP_LOAD:
		if (bp->nimages > 0) {
			why_add(&c, load_why, strlen(load_why));
			return -1;
		}
		return query_each(&c, query, q_load);
	case EP_TAG:
	case EP_COMMIT:
		/* nothing to check without an image allow-list */
		if (bp->nimages == 0)
			return 0;
		if (ep == EP_TAG && check_tag_source(&c, path) == -1)
			return -1;
		return query_each(&c, query, q_target);
	case EP_PLUGCREATE:
		if (!bp->plugins) {
			why_add(&c, plugcreate_why, strlen(plugcreate_why));
			return -1;
		}
		return 0;
	default:
		break;
	}
	if (root == NULL || root->type == JSON_NULL)
		return 0;
	switch (ep) {
	case EP_PLUGIN:
		return check_plugin(&c, root);
	case EP_PLUGSET:
		return check_plugset(&c, root);
	case EP_EXECSTART:
		return 0;
	default:
		break;
	}
	if (root->type != JSON_OBJECT)
		return refuse_v(&c, "body", root);
	switch (ep) {
	case EP_CREATE:
		return check_create(&c, root);
	case EP_UPDATE:
		return check_resources(&c, root, "");
	case EP_START:
		return check_start(&c, root);
	case EP_EXEC:
		return check_bool_off(&c, root, "Privileged", "",
		    bp->privileged);
	case EP_SERVICE:
		return check_service(&c, root);
	case EP_VOLUME:
		return check_volcreate(&c, root);
	default:
		return 0;
	}
}

/* --- the wire --- */

static void
put_list(struct mbuf *m, char **list, size_t n)
{
	size_t	 i;

	mbuf_add_u32(m, (uint32_t)n);
	for (i = 0; i < n; i++)
		mbuf_add_str(m, list[i] != NULL ? list[i] : "");
}

int
body_policy_encode(struct mbuf *m, const struct body_policy *bp)
{
	size_t	 i;

	if (bp->nbinds > BODY_LIST_MAX || bp->ncaps > BODY_LIST_MAX ||
	    bp->ndevices > BODY_LIST_MAX || bp->nimages > BODY_LIST_MAX ||
	    bp->nruntimes > BODY_LIST_MAX || bp->nvdrivers > BODY_LIST_MAX ||
	    bp->nsysctls > BODY_LIST_MAX)
		return -1;
	/* what decode would refuse */
	for (i = 0; i < bp->nbinds; i++) {
		char	 clean[PATH_MAX_BODY];

		if (bp->binds[i].path == NULL ||
		    body_path_clean(bp->binds[i].path,
		    strlen(bp->binds[i].path), clean, sizeof(clean)) == -1 ||
		    strcmp(clean, bp->binds[i].path) != 0)
			return -1;
	}
	if (bp->limit != 0 && (bp->limit < BODY_LIMIT_MIN ||
	    bp->limit > BODY_LIMIT_MAX))
		return -1;
	mbuf_add_u64(m, bp->limit);
	mbuf_add_u32(m, (uint32_t)bp->nbinds);
	for (i = 0; i < bp->nbinds; i++) {
		mbuf_add_str(m, bp->binds[i].path != NULL ?
		    bp->binds[i].path : "");
		mbuf_add_u32(m, bp->binds[i].readonly ? 1 : 0);
	}
	put_list(m, bp->caps, bp->ncaps);
	put_list(m, bp->devices, bp->ndevices);
	put_list(m, bp->images, bp->nimages);
	put_list(m, bp->runtimes, bp->nruntimes);
	put_list(m, bp->vdrivers, bp->nvdrivers);
	put_list(m, bp->sysctls, bp->nsysctls);
	mbuf_add_u32(m, bp->hosts);
	mbuf_add_u32(m, bp->privileged ? 1 : 0);
	mbuf_add_u32(m, bp->nsjoin ? 1 : 0);
	mbuf_add_u32(m, bp->remote ? 1 : 0);
	mbuf_add_u32(m, bp->plugins ? 1 : 0);
	return m->err ? -1 : 0;
}

static char *
get_str(struct mbuf *m)
{
	char	 buf[BODY_STR_MAX + 1];
	char	*s;

	if (mbuf_get_str(m, buf, sizeof(buf)) == -1)
		return NULL;
	if ((s = strdup(buf)) == NULL)
		m->err = 1;
	return s;
}

static int
get_count(struct mbuf *m, size_t *n)
{
	uint32_t	 u;

	if (mbuf_get_u32(m, &u) == -1 || u > BODY_LIST_MAX)
		return -1;
	*n = u;
	return 0;
}

static int
get_list(struct mbuf *m, char ***list, size_t *n)
{
	size_t	 i, cnt;

	*list = NULL;
	*n = 0;
	if (get_count(m, &cnt) == -1)
		return -1;
	if (cnt == 0)
		return 0;
	if ((*list = calloc(cnt, sizeof(**list))) == NULL)
		return -1;
	for (i = 0; i < cnt; i++) {
		if (((*list)[i] = get_str(m)) == NULL)
			return -1;
		*n = i + 1;
	}
	return 0;
}

static int
get_flag(struct mbuf *m, int *f)
{
	uint32_t	 u;

	if (mbuf_get_u32(m, &u) == -1 || u > 1)
		return -1;
	*f = (int)u;
	return 0;
}

int
body_policy_decode(struct mbuf *m, struct body_policy *bp)
{
	char		 clean[PATH_MAX_BODY];
	size_t		 i, cnt;
	uint32_t	 u;

	memset(bp, 0, sizeof(*bp));
	if (mbuf_get_u64(m, &bp->limit) == -1 || (bp->limit != 0 &&
	    (bp->limit < BODY_LIMIT_MIN || bp->limit > BODY_LIMIT_MAX)))
		goto bad;
	if (get_count(m, &cnt) == -1)
		goto bad;
	if (cnt > 0 && (bp->binds = calloc(cnt, sizeof(*bp->binds))) == NULL)
		goto bad;
	for (i = 0; i < cnt; i++) {
		if ((bp->binds[i].path = get_str(m)) == NULL)
			goto bad;
		bp->nbinds = i + 1;
		/* canonical, as body.h promises */
		if (body_path_clean(bp->binds[i].path,
		    strlen(bp->binds[i].path), clean, sizeof(clean)) == -1 ||
		    strcmp(clean, bp->binds[i].path) != 0)
			goto bad;
		if (get_flag(m, &bp->binds[i].readonly) == -1)
			goto bad;
	}
	if (get_list(m, &bp->caps, &bp->ncaps) == -1 ||
	    get_list(m, &bp->devices, &bp->ndevices) == -1 ||
	    get_list(m, &bp->images, &bp->nimages) == -1 ||
	    get_list(m, &bp->runtimes, &bp->nruntimes) == -1 ||
	    get_list(m, &bp->vdrivers, &bp->nvdrivers) == -1 ||
	    get_list(m, &bp->sysctls, &bp->nsysctls) == -1)
		goto bad;
	if (mbuf_get_u32(m, &u) == -1 || (u & ~(uint32_t)(BODY_HOST_NETWORK |
	    BODY_HOST_PID | BODY_HOST_IPC | BODY_HOST_UTS | BODY_HOST_USERNS |
	    BODY_HOST_CGROUPNS)) != 0)
		goto bad;
	bp->hosts = u;
	if (get_flag(m, &bp->privileged) == -1 ||
	    get_flag(m, &bp->nsjoin) == -1 ||
	    get_flag(m, &bp->remote) == -1 ||
	    get_flag(m, &bp->plugins) == -1)
		goto bad;
	return 0;
bad:
	body_policy_free(bp);
	return -1;
}

static void
free_list(char ***list, size_t *n)
{
	size_t	 i;

	for (i = 0; *list != NULL && i < *n; i++)
		free((*list)[i]);
	free(*list);
	*list = NULL;
	*n = 0;
}

void
body_policy_free(struct body_policy *bp)
{
	size_t	 i;

	for (i = 0; bp->binds != NULL && i < bp->nbinds; i++)
		free(bp->binds[i].path);
	free(bp->binds);
	bp->binds = NULL;
	bp->nbinds = 0;
	free_list(&bp->caps, &bp->ncaps);
	free_list(&bp->devices, &bp->ndevices);
	free_list(&bp->images, &bp->nimages);
	free_list(&bp->runtimes, &bp->nruntimes);
	free_list(&bp->vdrivers, &bp->nvdrivers);
	free_list(&bp->sysctls, &bp->nsysctls);
}
