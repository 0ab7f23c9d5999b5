/*
 * Unit tests for daemon/parse.y and daemon/printconf.c, and for the rule
 * files in etc/rules/.
 *
 * regress/parse/ holds good/NAME.conf (each must parse, and print, parse
 * and print again to the same bytes), bad/NAME.conf with bad/NAME.err (the
 * exact messages; the configuration must be left as it was) and files/
 * (what they include).  They are copied to a temporary directory first,
 * owned by us and writable by us alone, as parse_config() insists; the
 * directory's name is taken out of every message before it is compared.
 */

#include <sys/socket.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "moatd.h"

#define PARSE_DIR	"regress/parse"
#define RULES_DIR	"etc/rules"

static char	 tmpdir[PATH_MAX];
static char	*logbuf;
static size_t	 loglen;
static int	 nlogs;

/* Log records, one per line, without the temporary directory's name. */
static void
sink(int pri, const char *msg)
{
	char		*p;
	size_t		 n, tl = strlen(tmpdir);
	const char	*s;

	nlogs++;
	for (s = msg; *s != '\0'; ) {
		if (tl > 0 && strncmp(s, tmpdir, tl) == 0 && s[tl] == '/') {
			s += tl + 1;
			continue;
		}
		n = 1;
		p = realloc(logbuf, loglen + n + 2);
		ck_assert_ptr_nonnull(p);
		logbuf = p;
		logbuf[loglen++] = *s++;
	}
	p = realloc(logbuf, loglen + 2);
	ck_assert_ptr_nonnull(p);
	logbuf = p;
	logbuf[loglen++] = '\n';
	logbuf[loglen] = '\0';
}

static void
capture_start(void)
{
	free(logbuf);
	logbuf = strdup("");
	loglen = 0;
	nlogs = 0;
	log_init(0, LOG_DEBUG, LOG_DAEMON);
	log_setsink(sink);
}

static void
capture_end(void)
{
	log_setsink(NULL);
	log_init(1, LOG_INFO, LOG_DAEMON);
}

static char *
read_file(const char *path)
{
	FILE	*fp;
	char	*buf;
	long	 n;

	fp = fopen(path, "r");
	ck_assert_msg(fp != NULL, "%s: %s", path, strerror(errno));
	ck_assert_int_eq(fseek(fp, 0, SEEK_END), 0);
	n = ftell(fp);
	rewind(fp);
	buf = malloc(n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(fread(buf, 1, n, fp), n);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	int	 fd;
	size_t	 len = strlen(text);

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_msg(fd != -1, "%s: %s", path, strerror(errno));
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	ck_assert_int_eq(fchmod(fd, mode), 0);
	close(fd);
}

static void
copy_dir(const char *from, const char *to)
{
	DIR		*d;
	struct dirent	*de;
	struct stat	 st;
	char		 src[PATH_MAX], dst[PATH_MAX], *text;

	ck_assert_int_eq(mkdir(to, 0755), 0);
	d = opendir(from);
	ck_assert_msg(d != NULL, "%s: %s", from, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		snprintf(src, sizeof(src), "%s/%s", from, de->d_name);
		snprintf(dst, sizeof(dst), "%s/%s", to, de->d_name);
		if (stat(src, &st) == -1 || !S_ISREG(st.st_mode))
			continue;
		text = read_file(src);
		write_file(dst, text, 0644);
		free(text);
	}
	closedir(d);
}

static void
tmppath(char *buf, size_t len, const char *rel)
{
	ck_assert_int_lt(snprintf(buf, len, "%s/%s", tmpdir, rel), (int)len);
}

static void
setup(void)
{
	char	 path[PATH_MAX];

	strlcpy(tmpdir, "/tmp/moatd-parse.XXXXXX", sizeof(tmpdir));
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	tmppath(path, sizeof(path), "good");
	copy_dir(PARSE_DIR "/good", path);
	tmppath(path, sizeof(path), "bad");
	copy_dir(PARSE_DIR "/bad", path);
	tmppath(path, sizeof(path), "files");
	copy_dir(PARSE_DIR "/files", path);
	tmppath(path, sizeof(path), "rules");
	copy_dir(RULES_DIR, path);
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	return remove(path);
}

static void
teardown(void)
{
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	tmpdir[0] = '\0';
	free(logbuf);
	logbuf = NULL;
}

/* Parse tmpdir/rel into c, which starts from the defaults. */
static int
parse(const char *rel, struct moat_config *c)
{
	char	 path[PATH_MAX];
	int	 rv;

	tmppath(path, sizeof(path), rel);
	config_defaults(c);
	capture_start();
	rv = parse_config(path, c);
	capture_end();
	return rv;
}

static char *
print(const struct moat_config *c)
{
	FILE	*fp;
	char	*buf;
	size_t	 len;

	fp = open_memstream(&buf, &len);
	ck_assert_ptr_nonnull(fp);
	config_print(c, fp);
	ck_assert_int_eq(fclose(fp), 0);
	return buf;
}

/* Names in dir ending in suffix, sorted; NULL-terminated. */
static char **
list_dir(const char *dir, const char *suffix)
{
	struct dirent	**ents;
	char		**names;
	size_t		 sl = strlen(suffix), nl;
	int		 i, n, k = 0;

	n = scandir(dir, &ents, NULL, alphasort);
	ck_assert_msg(n >= 0, "%s: %s", dir, strerror(errno));
	names = calloc(n + 1, sizeof(*names));
	ck_assert_ptr_nonnull(names);
	for (i = 0; i < n; i++) {
		nl = strlen(ents[i]->d_name);
		if (nl > sl && strcmp(ents[i]->d_name + nl - sl, suffix) == 0)
			names[k++] = strdup(ents[i]->d_name);
		free(ents[i]);
	}
	free(ents);
	return names;
}

static void
free_list(char **names)
{
	char	**p;

	for (p = names; *p != NULL; p++)
		free(*p);
	free(names);
}

START_TEST(test_minimal_is_defaults)
{
	struct moat_config	 c, d;

	ck_assert_int_eq(parse("good/minimal.conf", &c), 0);
	ck_assert_int_eq(nlogs, 0);
	config_defaults(&d);
	ck_assert_int_eq(c.prefork, d.prefork);
	ck_assert_int_eq(c.log_level, LOG_INFO);
	ck_assert_int_eq(c.builtin, 1);
	ck_assert_str_eq(c.user, MOATD_USER);
	ck_assert_str_eq(c.chroot, MOATD_CHROOT);
	ck_assert_str_eq(c.backend.text, "unix:///var/run/docker.sock");
	ck_assert_int_eq(c.nlisteners, 0);
	ck_assert_int_eq(c.nsources, 0);
	ck_assert_int_eq(c.head_timeout, 10);
	ck_assert_int_eq(c.idle_timeout, 90);
	ck_assert_int_eq(c.drain_timeout, 10);
	ck_assert_uint_eq(c.limits.head_max, HTTP_HEAD_MAX);
	ck_assert_uint_eq(c.limits.line_max, HTTP_LINE_MAX);
	ck_assert_uint_eq(c.limits.headers_max, HTTP_HEADERS_MAX);
	ck_assert_str_eq(c.pidfile, "/run/moatd.pid");
	ck_assert_uint_eq(c.body.limit, 0);
	ck_assert_uint_eq(c.body.nbinds + c.body.ncaps + c.body.ndevices +
	    c.body.nimages + c.body.nruntimes + c.body.nvdrivers +
	    c.body.nsysctls, 0);
	ck_assert_int_eq(c.body.hosts | c.body.privileged | c.body.nsjoin |
	    c.body.remote | c.body.plugins, 0);
	config_free(&c);
}
END_TEST

START_TEST(test_full)
{
	struct moat_config	 c;
	struct moat_listener	*l;
	char			 path[PATH_MAX];

	ck_assert_int_eq(parse("good/full.conf", &c), 0);
	ck_assert_int_eq(nlogs, 0);
	ck_assert_str_eq(c.user, "_moatd");
	ck_assert_str_eq(c.chroot, "/var/empty/moatd");
	ck_assert_str_eq(c.pidfile, "/run/moatd.pid");
	ck_assert_int_eq(c.prefork, 3);
	ck_assert_int_eq(c.log_level, LOG_DEBUG);
	ck_assert_int_eq(c.backend.kind, ADDR_TCP);
	ck_assert_str_eq(c.backend.host, "docker.example");
	ck_assert_str_eq(c.backend.port, "2376");
	ck_assert_int_eq(c.head_timeout, 5);
	ck_assert_int_eq(c.idle_timeout, 120);
	ck_assert_int_eq(c.drain_timeout, 30);
	ck_assert_uint_eq(c.limits.head_max, 16384);
	ck_assert_uint_eq(c.limits.line_max, 4096);
	ck_assert_uint_eq(c.limits.headers_max, 50);
	ck_assert_int_eq(c.builtin, 0);

	ck_assert_uint_eq(c.nlisteners, 9);
	l = &c.listeners[0];
	ck_assert_int_eq(l->addr.kind, ADDR_TCP);
	ck_assert_str_eq(l->addr.host, "127.0.0.1");
	ck_assert_str_eq(l->addr.port, "2375");
	ck_assert_int_eq(l->id, 0);
	ck_assert_int_eq(l->fd, -1);
	l = &c.listeners[1];
	ck_assert_str_eq(l->addr.host, "::1");
	ck_assert_str_eq(l->addr.text, "tcp://[::1]:2375");
	l = &c.listeners[2];
	ck_assert_int_eq(l->addr.kind, ADDR_UNIX);
	ck_assert_str_eq(l->addr.path, "/run/moatd/docker.sock");
	ck_assert_int_eq(l->owner_set, 1);
	ck_assert_uint_eq(l->owner, 0);
	ck_assert_int_eq(l->group_set, 1);
	ck_assert_uint_eq(l->group, 0);
	ck_assert_uint_eq(l->mode, 0600);
	l = &c.listeners[3];
	ck_assert_int_eq(l->owner_set, 0);
	ck_assert_int_eq(l->group_set, 1);
	ck_assert_uint_eq(l->mode, 0660);
	l = &c.listeners[4];
	ck_assert_int_eq(l->owner_set, 0);
	ck_assert_int_eq(l->group_set, 0);
	ck_assert_uint_eq(l->mode, 0660);
	l = &c.listeners[5];
	ck_assert_uint_eq(l->owner, 4242);
	ck_assert_uint_eq(l->group, 4343);
	l = &c.listeners[6];
	ck_assert_int_eq(l->addr.kind, ADDR_SYSTEMD);
	ck_assert_str_eq(l->addr.sdname, "moatd");
	ck_assert_str_eq(l->addr.text, "systemd:moatd");
	ck_assert_int_eq(l->id, 6);
	ck_assert_int_eq(l->fd, -1);
	ck_assert_str_eq(c.listeners[7].addr.sdname, "moatd-admin");
	/* The catch-all for the sockets no named listener takes. */
	ck_assert_str_eq(c.listeners[8].addr.sdname, "");
	ck_assert_str_eq(c.listeners[8].addr.text, "systemd");

	ck_assert_uint_eq(c.nsources, 2);
	tmppath(path, sizeof(path), "good/../files/web.list");
	ck_assert_str_eq(c.sources[0].name, path);
	ck_assert_int_eq(c.sources[0].file, 1);
	ck_assert_ptr_nonnull(strstr(c.sources[0].text, "GET,HEAD "));
	tmppath(path, sizeof(path), "good/full.conf");
	ck_assert_str_eq(c.sources[1].name, path);
	ck_assert_int_eq(c.sources[1].file, 0);
	config_free(&c);
}
END_TEST

START_TEST(test_full_printed)
{
	struct moat_config	 c;
	char			*want, *got, *at, path[PATH_MAX], *fixed;

	ck_assert_int_eq(parse("good/full.conf", &c), 0);
	got = print(&c);
	tmppath(path, sizeof(path), "good/full.out");
	want = read_file(path);
	/* The rules file is named by its absolute path. */
	at = strstr(want, "@TMP@");
	ck_assert_ptr_nonnull(at);
	ck_assert_int_ne(asprintf(&fixed, "%.*s%s%s", (int)(at - want), want,
	    tmpdir, at + 5), -1);
	ck_assert_str_eq(got, fixed);
	free(fixed);
	free(want);
	free(got);
	config_free(&c);
}
END_TEST

START_TEST(test_strings)
{
	struct moat_config	 c;

	ck_assert_int_eq(parse("good/strings.conf", &c), 0);
	ck_assert_int_eq(nlogs, 0);
	ck_assert_str_eq(c.user, "_mo\"atd");
	ck_assert_str_eq(c.chroot, "/var/empty/with space/and \"quotes\"");
	ck_assert_str_eq(c.pidfile, "/run/a\\b\tc");
	ck_assert_str_eq(c.backend.path, "/var/run/docker.sock");
	ck_assert_uint_eq(c.nlisteners, 1);
	ck_assert_uint_eq(c.nsources, 4);
	/* Rules keep their line in the file: empty lines before them. */
	ck_assert_str_eq(c.sources[0].text,
	    "\n\n\n\n\n\n\n\nGET /v[0-9]+\\.[0-9]+/x\nGET /trailing\\");
	ck_assert_str_eq(c.sources[1].text + 10, "GET /it's");
	ck_assert_str_eq(c.sources[2].text + 11, "GET /a\\qb \\n");
	ck_assert_str_eq(c.sources[3].text + 12, "");
	config_free(&c);
}
END_TEST

START_TEST(test_listeners_max)
{
	struct moat_config	 c;

	ck_assert_int_eq(parse("good/listeners.conf", &c), 0);
	ck_assert_int_eq(nlogs, 0);
	ck_assert_uint_eq(c.nlisteners, MOAT_LISTENERS_MAX);
	ck_assert_str_eq(c.listeners[8].addr.host, "");
	ck_assert_uint_eq(c.listeners[11].mode, 0);
	ck_assert_uint_eq(c.listeners[12].mode, 0777);
	ck_assert_int_eq(c.listeners[15].addr.kind, ADDR_SYSTEMD);
	ck_assert_str_eq(c.listeners[15].addr.sdname, "");
	ck_assert_str_eq(c.listeners[15].addr.text, "systemd");
	config_free(&c);
}
END_TEST

START_TEST(test_macros)
{
	struct moat_config	 c;

	ck_assert_int_eq(parse("good/macros.conf", &c), 0);
	ck_assert_int_eq(nlogs, 0);
	ck_assert_str_eq(c.chroot, "/var/empty/moatd");
	ck_assert_int_eq(c.prefork, 5);
	ck_assert_uint_eq(c.nlisteners, 1);
	ck_assert_int_eq(c.listeners[0].owner_set, 1);
	ck_assert_uint_eq(c.listeners[0].mode, 0640);
	ck_assert_int_eq(c.log_level, LOG_DEBUG);
	ck_assert_int_eq(c.idle_timeout, 33);
	ck_assert_str_eq(c.user, "$dir");
	config_free(&c);
}
END_TEST

START_TEST(test_include_order)
{
	struct moat_config	 c;
	char			 path[PATH_MAX];

	ck_assert_int_eq(parse("good/include.conf", &c), 0);
	ck_assert_int_eq(nlogs, 0);
	ck_assert_int_eq(c.prefork, 6);
	ck_assert_uint_eq(c.limits.headers_max, 30);
	ck_assert_uint_eq(c.nsources, 1);
	tmppath(path, sizeof(path), "good/../files/nested.conf");
	ck_assert_str_eq(c.sources[0].name, path);
	config_free(&c);
}
END_TEST

static void
rules_err(void *arg, const char *msg)
{
	ck_abort_msg("rules error: %s", msg);
}

START_TEST(test_rules_lines)
{
	struct moat_config	 c;
	struct ruleset		*rs;
	char			 conf[PATH_MAX], list[PATH_MAX];

	ck_assert_int_eq(parse("good/rules.conf", &c), 0);
	ck_assert_int_eq(nlogs, 0);
	c.builtin = 0;
	rs = config_ruleset(&c, rules_err, NULL);
	ck_assert_ptr_nonnull(rs);
	ck_assert_uint_eq(rs->nrules, 5);
	tmppath(conf, sizeof(conf), "good/rules.conf");
	tmppath(list, sizeof(list), "good/../files/web.list");
	ck_assert_str_eq(rs->rules[0].source, conf);
	ck_assert_uint_eq(rs->rules[0].line, 3);
	ck_assert_str_eq(rs->rules[0].pattern, "/first");
	ck_assert_uint_eq(rs->rules[1].line, 4);
	ck_assert_uint_eq(rs->rules[2].line, 5);
	ck_assert_str_eq(rs->rules[2].methods[0], "POST");
	ck_assert_str_eq(rs->rules[3].source, list);
	ck_assert_uint_eq(rs->rules[3].line, 2);
	ck_assert_uint_eq(rs->rules[4].line, 4);
	ruleset_free(rs);
	config_free(&c);
}
END_TEST

/*
 * rules.c warns only through a ruleset's callback: every ruleset the
 * daemon builds (config_ruleset() in the parent and for -q, config_recv()
 * in the relays and the policy worker) sends a PCRE2 limit to the log.
 */
#define LIMIT_PATH	"/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaabc"
#define LIMIT_LOG	"rules.list:1: GET \"" LIMIT_PATH "\" (43 bytes): " \
	    "match limit exceeded, denied\n"

START_TEST(test_rules_limit_logged)
{
	struct moat_config	 c;
	struct child_config	 cc;
	struct ruleset		*rs;
	struct msgbuf		 w, r;
	struct msg		 m;
	int			 sv[2], rc, done = 0;

	config_defaults(&c);
	c.builtin = 0;
	ck_assert_int_eq(config_add_rules_text(&c, "rules.list",
	    "GET /(a+)+b"), 0);
	ck_assert_ptr_nonnull(rs = config_ruleset(&c, rules_err, NULL));
	capture_start();
	ck_assert_int_eq(ruleset_match(rs, "GET", LIMIT_PATH,
	    strlen(LIMIT_PATH)), RULE_LIMIT);
	capture_end();
	ck_assert_int_eq(nlogs, 1);
	ck_assert_str_eq(logbuf, LIMIT_LOG);
	ruleset_free(rs);

	/* the same rules as a child receives them */
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	msgbuf_init(&w, sv[0], 0);
	msgbuf_init(&r, sv[1], 0);
	ck_assert_int_eq(config_send(&w, &c, 7), 0);
	ck_assert_int_eq(msg_compose(&w, MSG_CFG_DONE, 7, -1, NULL, 0), 0);
	ck_assert_int_eq(msgbuf_flush_sync(&w), 0);
	memset(&cc, 0, sizeof(cc));
	config_defaults(&cc.conf);
	while (!done) {
		ck_assert_int_gt(msgbuf_read(&r), 0);
		while (!done && (rc = msg_get(&r, &m)) == 1) {
			done = config_recv(&cc, &m) == 1;
			msg_free(&m);
		}
		ck_assert_int_ne(rc, -1);
	}
	capture_start();
	ck_assert_int_eq(ruleset_match(cc.rs, "GET", LIMIT_PATH,
	    strlen(LIMIT_PATH)), RULE_LIMIT);
	capture_end();
	ck_assert_int_eq(nlogs, 1);
	ck_assert_str_eq(logbuf, LIMIT_LOG);
	ruleset_free(cc.rs);
	config_free(&cc.conf);
	msgbuf_clear(&w);
	msgbuf_clear(&r);
	close(sv[0]);
	close(sv[1]);
	config_free(&c);
}
END_TEST

/* Admission control: every allow statement, cleaned and kept once. */
START_TEST(test_body)
{
	struct moat_config	 c;
	struct body_policy	*bp = &c.body;

	ck_assert_msg(parse("good/body.conf", &c) == 0, "%s", logbuf);
	ck_assert_int_eq(nlogs, 0);
	ck_assert_uint_eq(bp->limit, 512 * 1024);
	ck_assert_uint_eq(bp->nbinds, 3);
	ck_assert_str_eq(bp->binds[0].path, "/tmp");
	ck_assert_int_eq(bp->binds[0].readonly, 0);
	ck_assert_str_eq(bp->binds[1].path, "/etc");
	ck_assert_int_eq(bp->binds[1].readonly, 1);
	ck_assert_str_eq(bp->binds[2].path, "/usr/share");
	ck_assert_int_eq(bp->binds[2].readonly, 1);
	ck_assert_uint_eq(bp->ncaps, 3);
	ck_assert_str_eq(bp->caps[0], "NET_ADMIN");
	ck_assert_str_eq(bp->caps[1], "SYS_PTRACE");
	ck_assert_str_eq(bp->caps[2], "ALL");
	ck_assert_uint_eq(bp->ndevices, 2);
	ck_assert_str_eq(bp->devices[0], "/dev/fuse");
	ck_assert_str_eq(bp->devices[1], "/dev/net/tun");
	ck_assert_uint_eq(bp->hosts, BODY_HOST_NETWORK | BODY_HOST_PID |
	    BODY_HOST_IPC | BODY_HOST_UTS | BODY_HOST_USERNS |
	    BODY_HOST_CGROUPNS);
	ck_assert_int_eq(bp->privileged, 1);
	ck_assert_int_eq(bp->nsjoin, 1);
	ck_assert_uint_eq(bp->nimages, 2);
	ck_assert_str_eq(bp->images[0], "docker.io/library/*");
	ck_assert_str_eq(bp->images[1], "registry.example/ci/app@sha256:*");
	ck_assert_uint_eq(bp->nruntimes, 1);
	ck_assert_str_eq(bp->runtimes[0], "runsc");
	ck_assert_uint_eq(bp->nvdrivers, 1);
	ck_assert_str_eq(bp->vdrivers[0], "local-persist");
	ck_assert_uint_eq(bp->nsysctls, 2);
	ck_assert_str_eq(bp->sysctls[1], "net.ipv4.conf.*");
	ck_assert_int_eq(bp->remote, 1);
	ck_assert_int_eq(bp->plugins, 1);
	config_free(&c);
	ck_assert_ptr_null(c.body.binds);
	ck_assert_uint_eq(c.body.nbinds, 0);

	ck_assert_int_eq(parse("good/body-k.conf", &c), 0);
	ck_assert_uint_eq(c.body.limit, 1024);
	config_free(&c);
}
END_TEST

/*
 * An allowed bind root must be its own real path: one that is, or sits
 * under, a symbolic link is refused with the path to write instead.
 */
START_TEST(test_body_symlink_root)
{
	struct moat_config	 c;
	char			 path[PATH_MAX], link[PATH_MAX], *text;

	tmppath(path, sizeof(path), "real");
	ck_assert_int_eq(mkdir(path, 0755), 0);
	tmppath(link, sizeof(link), "link");
	ck_assert_int_eq(symlink("real", link), 0);
	tmppath(path, sizeof(path), "real/sub");
	ck_assert_int_eq(mkdir(path, 0755), 0);
	ck_assert_int_ne(asprintf(&text, "allow bind \"%s\"\n"
	    "allow bind \"%s/sub\" read-only\n"
	    "allow bind \"%s/../real\"\n", link, link, link), -1);
	tmppath(path, sizeof(path), "symlink.conf");
	write_file(path, text, 0644);
	free(text);
	ck_assert_int_eq(parse("symlink.conf", &c), -1);
	ck_assert_str_eq(logbuf,
	    "symlink.conf:1: allow bind \"link\": not a real path (a "
	    "symbolic link resolves it to \"real\"): write the real path\n"
	    "symlink.conf:2: allow bind \"link/sub\": not a real path (a "
	    "symbolic link resolves it to \"real/sub\"): write the real "
	    "path\n"
	    "symlink.conf:3: allow bind \"link/../real\": a \"..\" segment "
	    "is not allowed\n");
	config_free(&c);

	/* The real path is fine. */
	tmppath(link, sizeof(link), "real/sub");
	ck_assert_int_ne(asprintf(&text, "allow bind \"%s\" read-only\n",
	    link), -1);
	write_file(path, text, 0644);
	free(text);
	ck_assert_msg(parse("symlink.conf", &c) == 0, "%s", logbuf);
	ck_assert_uint_eq(c.body.nbinds, 1);
	ck_assert_str_eq(c.body.binds[0].path, link);
	config_free(&c);
}
END_TEST

static void
recv_until_done(struct msgbuf *r, struct child_config *cc, int *globals)
{
	struct msg	 m;
	int		 rc, done = 0;

	while (!done) {
		ck_assert_int_gt(msgbuf_read(r), 0);
		while (!done && (rc = msg_get(r, &m)) == 1) {
			if (m.hdr.type == MSG_CFG_GLOBAL) {
				(*globals)++;
				/* Not yet: with the rules, at DONE. */
				ck_assert_int_eq(config_recv(cc, &m), 0);
				ck_assert_uint_eq(cc->conf.body.limit,
				    *globals == 1 ? 0 : 2048);
			} else
				done = config_recv(cc, &m) == 1;
			msg_free(&m);
		}
		ck_assert_int_ne(rc, -1);
	}
}

/* The body policy reaches a child with its generation, and a reload
 * replaces it. */
START_TEST(test_body_sent)
{
	struct moat_config	 c;
	struct child_config	 cc;
	struct msgbuf		 w, r;
	int			 sv[2], globals = 0;

	ck_assert_msg(parse("good/body.conf", &c) == 0, "%s", logbuf);
	c.body.limit = 2048;
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	msgbuf_init(&w, sv[0], 0);
	msgbuf_init(&r, sv[1], 0);
	memset(&cc, 0, sizeof(cc));
	config_defaults(&cc.conf);

	ck_assert_int_eq(config_send(&w, &c, 1), 0);
	ck_assert_int_eq(msg_compose(&w, MSG_CFG_DONE, 1, -1, NULL, 0), 0);
	ck_assert_int_eq(msgbuf_flush_sync(&w), 0);
	recv_until_done(&r, &cc, &globals);
	ck_assert_uint_eq(cc.conf.body.limit, 2048);
	ck_assert_uint_eq(cc.conf.body.nbinds, 3);
	ck_assert_str_eq(cc.conf.body.binds[1].path, "/etc");
	ck_assert_int_eq(cc.conf.body.binds[1].readonly, 1);
	ck_assert_uint_eq(cc.conf.body.ncaps, 3);
	ck_assert_str_eq(cc.conf.body.caps[1], "SYS_PTRACE");
	ck_assert_uint_eq(cc.conf.body.hosts, c.body.hosts);
	ck_assert_uint_eq(cc.conf.body.nimages, 2);
	ck_assert_int_eq(cc.conf.body.privileged, 1);
	ck_assert_int_eq(cc.conf.body.plugins, 1);
	config_free(&c);

	/* A reload without any allow: the old policy goes. */
	config_defaults(&c);
	ck_assert_int_eq(config_send(&w, &c, 2), 0);
	ck_assert_int_eq(msg_compose(&w, MSG_CFG_DONE, 2, -1, NULL, 0), 0);
	ck_assert_int_eq(msgbuf_flush_sync(&w), 0);
	recv_until_done(&r, &cc, &globals);
	ck_assert_int_eq(globals, 2);
	ck_assert_uint_eq(cc.conf.body.limit, 0);
	ck_assert_uint_eq(cc.conf.body.nbinds, 0);
	ck_assert_uint_eq(cc.conf.body.ncaps, 0);
	ck_assert_int_eq(cc.conf.body.privileged, 0);

	ruleset_free(cc.rs);
	config_free(&cc.conf);
	config_free(&c);
	msgbuf_clear(&w);
	msgbuf_clear(&r);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/* Client blocks: each kind of match line, and what a block holds. */
START_TEST(test_clients)
{
	struct moat_config		 c;
	const struct moat_client	*cl;
	const struct client_match	*m;
	static const uint8_t		 net10[4] = { 10, 1, 0, 0 };
	static const uint8_t		 fd00[16] = { 0xfd };

	ck_assert_msg(parse("good/clients.conf", &c) == 0, "%s", logbuf);
	ck_assert_int_eq(nlogs, 0);
	ck_assert_uint_eq(c.nclients, 6);
	ck_assert_str_eq(c.listeners[0].name, "ci");
	ck_assert_str_eq(c.listeners[1].name, "local");
	ck_assert_str_eq(c.listeners[2].name, "web.1");
	ck_assert_int_eq(c.builtin, 0);
	ck_assert_uint_eq(c.nsources, 1);

	cl = &c.clients[0];
	ck_assert_str_eq(cl->name, "traefik");
	ck_assert_uint_eq(cl->nm, 4);
	ck_assert_int_eq(cl->m[0].kind, MATCH_TLS_SUBJECT);
	ck_assert_str_eq(cl->m[0].text, "CN=traefik,O=Example");
	ck_assert_int_eq(cl->m[1].kind, MATCH_TLS_ISSUER);
	ck_assert_int_eq(cl->m[2].kind, MATCH_TLS_SAN);
	ck_assert_str_eq(cl->m[2].text, "DNS:traefik.example");
	ck_assert_int_eq(cl->m[3].kind, MATCH_TLS_SHA256);
	/* a block starts from the defaults, not from the top level */
	ck_assert_int_eq(cl->builtin, 1);
	ck_assert_uint_eq(cl->nsources, 2);
	ck_assert_uint_eq(cl->body.limit, 0);

	cl = &c.clients[1];
	ck_assert_str_eq(cl->name, "ci-runner");
	m = &cl->m[0];
	ck_assert_int_eq(m->kind, MATCH_ADDRESS);
	ck_assert_int_eq(m->af, AF_INET);
	ck_assert_int_eq(m->plen, 16);
	ck_assert_mem_eq(m->net, net10, 4);
	ck_assert_int_eq(cl->m[1].kind, MATCH_LISTENER);
	ck_assert_str_eq(cl->m[1].text, "ci");
	ck_assert_int_eq(cl->builtin, 0);
	ck_assert_uint_eq(cl->body.limit, 2 * 1024 * 1024);
	ck_assert_int_eq(cl->body.privileged, 1);
	ck_assert_uint_eq(cl->body.ncaps, 1);
	ck_assert_uint_eq(cl->body.nimages, 1);
	/* ... and the top level keeps its own */
	ck_assert_int_eq(c.body.privileged, 0);
	ck_assert_uint_eq(c.body.ncaps, 0);

	cl = &c.clients[2];
	ck_assert_int_eq(cl->m[0].af, AF_INET6);
	ck_assert_int_eq(cl->m[0].plen, 8);
	ck_assert_mem_eq(cl->m[0].net, fd00, 16);
	ck_assert_str_eq(cl->m[0].text, "fd00::/8");
	ck_assert_int_eq(cl->m[1].plen, 128);
	ck_assert_str_eq(cl->m[1].text, "::1");
	ck_assert_int_eq(cl->m[2].plen, 32);
	ck_assert_str_eq(cl->m[3].text, "IP:::1");
	ck_assert_str_eq(cl->m[4].text, "email:ops@example.com");
	ck_assert_str_eq(cl->m[5].text, "URI:spiffe://example/ci");

	cl = &c.clients[3];
	ck_assert_int_eq(cl->m[0].kind, MATCH_UNIX_UID);
	ck_assert_uint_eq(cl->m[0].id, 0);
	ck_assert_str_eq(cl->m[0].text, "root");
	ck_assert_int_eq(cl->m[1].kind, MATCH_UNIX_UID);
	ck_assert_str_eq(cl->m[1].text, "0");
	ck_assert_int_eq(cl->m[2].kind, MATCH_UNIX_GID);
	ck_assert_int_eq(cl->m[3].kind, MATCH_UNIX_GID);

	cl = &c.clients[4];
	ck_assert_int_eq(cl->m[0].kind, MATCH_CONTAINER_ID);
	ck_assert_int_eq(cl->m[1].kind, MATCH_CONTAINER_NAME);
	ck_assert_str_eq(cl->m[1].text, "homepage");
	ck_assert_int_eq(cl->m[2].kind, MATCH_CONTAINER_LABEL);
	ck_assert_str_eq(cl->m[3].text, "com.example.watched");

	ck_assert_ptr_eq(client_byname(&c, "nobody"), &c.clients[5]);
	ck_assert_ptr_null(client_byname(&c, "Nobody"));
	config_free(&c);
	ck_assert_ptr_null(c.clients);
	ck_assert_uint_eq(c.nclients, 0);
}
END_TEST

/* A match line naming a listener only the new file has: a reload keeps
 * the running listeners, so that is an error. */
START_TEST(test_clients_listener_reload)
{
	struct moat_config	 c, running;

	ck_assert_msg(parse("good/clients.conf", &c) == 0, "%s", logbuf);
	ck_assert_int_eq(client_check_listeners(&c, &c), 0);
	config_defaults(&running);
	running.nlisteners = 3;
	strlcpy(running.listeners[0].name, "ci",
	    sizeof(running.listeners[0].name));
	strlcpy(running.listeners[2].name, "web.1",
	    sizeof(running.listeners[2].name));
	capture_start();
	ck_assert_int_eq(client_check_listeners(&c, &running), -1);
	capture_end();
	ck_assert_str_eq(logbuf, "client \"backup\": match listener "
	    "\"local\": no listener has that name\n");
	strlcpy(running.listeners[1].name, "local",
	    sizeof(running.listeners[1].name));
	ck_assert_int_eq(client_check_listeners(&c, &running), 0);
	config_free(&c);
	config_free(&running);
}
END_TEST

static void
send_gen(struct msgbuf *w, const struct moat_config *c, uint32_t gen)
{
	ck_assert_int_eq(config_send(w, c, gen), 0);
	ck_assert_int_eq(msg_compose(w, MSG_CFG_DONE, gen, -1, NULL, 0), 0);
	ck_assert_int_eq(msgbuf_flush_sync(w), 0);
}

/* Until MSG_CFG_DONE; before it, the running blocks stay. */
static void
recv_gen(struct msgbuf *r, struct child_config *cc, size_t running)
{
	struct msg	 m;
	int		 rc, done = 0;

	while (!done) {
		ck_assert_int_gt(msgbuf_read(r), 0);
		while (!done && (rc = msg_get(r, &m)) == 1) {
			ck_assert_uint_eq(cc->nclients, running);
			rc = config_recv(cc, &m);
			ck_assert_int_ne(rc, -1);
			done = rc == 1;
			msg_free(&m);
		}
		ck_assert_int_ne(rc, -1);
	}
}

/* 1 when a rule of rs allows it (ruleset_match: its index). */
static int
decides(struct ruleset *rs, const char *method, const char *path)
{
	return ruleset_match(rs, method, path, strlen(path)) >= 0;
}

/* Client blocks reach a child whole, with their own rules and body
 * policy, at MSG_CFG_DONE; a reload replaces them. */
START_TEST(test_clients_sent)
{
	struct moat_config	 c;
	struct child_config	 cc;
	struct child_rules	*cr;
	struct msgbuf		 w, r;
	int			 sv[2];
	size_t			 i, j;

	ck_assert_msg(parse("good/clients.conf", &c) == 0, "%s", logbuf);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	msgbuf_init(&w, sv[0], 0);
	msgbuf_init(&r, sv[1], 0);
	memset(&cc, 0, sizeof(cc));
	config_defaults(&cc.conf);
	send_gen(&w, &c, 1);
	recv_gen(&r, &cc, 0);

	ck_assert_uint_eq(cc.nclients, c.nclients);
	ck_assert_ptr_null(cc.pclients);
	ck_assert_uint_eq(cc.conf.nlisteners, 3);
	ck_assert_str_eq(cc.conf.listeners[0].name, "ci");
	ck_assert_str_eq(cc.conf.listeners[1].name, "local");
	ck_assert_str_eq(cc.conf.listeners[2].name, "web.1");
	for (i = 0; i < c.nclients; i++) {
		cr = &cc.clients[i];
		ck_assert_str_eq(cr->c.name, c.clients[i].name);
		ck_assert_int_eq(cr->c.builtin, c.clients[i].builtin);
		ck_assert_uint_eq(cr->c.nm, c.clients[i].nm);
		ck_assert_uint_eq(cr->c.nsources, 0);
		for (j = 0; j < cr->c.nm; j++) {
			const struct client_match *a = &cr->c.m[j];
			const struct client_match *b = &c.clients[i].m[j];

			ck_assert_int_eq(a->kind, b->kind);
			ck_assert_str_eq(a->text, b->text);
			ck_assert_int_eq(a->af, b->af);
			ck_assert_mem_eq(a->net, b->net, sizeof(a->net));
			ck_assert_int_eq(a->plen, b->plen);
			ck_assert_uint_eq(a->id, b->id);
		}
		ck_assert_ptr_nonnull(cr->rs);
	}
	/* top level: _ping only, no built-ins */
	ck_assert(decides(cc.rs, "GET", "/_ping"));
	ck_assert(!decides(cc.rs, "GET", "/containers/json"));
	/* traefik: its two rules and the built-ins, not the top level's */
	cr = &cc.clients[0];
	ck_assert(decides(cr->rs, "GET", "/containers/json"));
	ck_assert(decides(cr->rs, "GET", "/events"));
	ck_assert(decides(cr->rs, "GET", "/_ping"));	/* built-in */
	ck_assert(!decides(cr->rs, "POST", "/containers/create"));
	/* ci-runner: no built-ins, its own body policy */
	cr = &cc.clients[1];
	ck_assert(decides(cr->rs, "POST", "/containers/create"));
	ck_assert(!decides(cr->rs, "GET", "/_ping"));
	ck_assert_uint_eq(cr->c.body.limit, 2 * 1024 * 1024);
	ck_assert_int_eq(cr->c.body.privileged, 1);
	ck_assert_str_eq(cr->c.body.caps[0], "NET_ADMIN");
	ck_assert_str_eq(cr->c.body.images[0], "registry.example/*");
	ck_assert_int_eq(cc.conf.body.privileged, 0);
	/* nobody: nothing at all */
	cr = &cc.clients[5];
	ck_assert_uint_eq(cr->rs->nrules, 0);
	config_free(&c);

	/* A reload with two blocks: the six go at DONE, not before. */
	config_defaults(&c);
	ck_assert_int_eq(config_add_rules_text(&c, "top", "GET /top"), 0);
	c.nclients = 2;
	c.clients = calloc(2, sizeof(*c.clients));
	ck_assert_ptr_nonnull(c.clients);
	for (i = 0; i < 2; i++) {
		snprintf(c.clients[i].name, sizeof(c.clients[i].name), "b%zu",
		    i);
		c.clients[i].builtin = 0;
		c.clients[i].nm = 1;
		ck_assert_int_eq(client_match_parse(&c.clients[i].m[0],
		    MATCH_ADDRESS, i == 0 ? "127.0.0.2" : "::1/128", NULL, 0),
		    0);
	}
	ck_assert_int_eq(sources_add_text(&c.clients[1].sources,
	    &c.clients[1].nsources, "b1.list", "DELETE /b1"), 0);
	send_gen(&w, &c, 2);
	recv_gen(&r, &cc, 6);
	ck_assert_uint_eq(cc.nclients, 2);
	ck_assert_str_eq(cc.clients[0].c.name, "b0");
	ck_assert_uint_eq(cc.clients[0].rs->nrules, 0);
	ck_assert(decides(cc.clients[1].rs, "DELETE", "/b1"));
	ck_assert(!decides(cc.clients[1].rs, "GET", "/top"));
	ck_assert(decides(cc.rs, "GET", "/top"));
	ck_assert_int_eq(cc.clients[1].c.m[0].af, AF_INET6);
	ck_assert_uint_eq(cc.conf.nlisteners, 0);
	ck_assert_str_eq(cc.conf.listeners[0].name, "");
	ck_assert_str_eq(cc.conf.listeners[1].name, "");

	/* And one without blocks: none left. */
	config_free(&c);
	config_defaults(&c);
	send_gen(&w, &c, 3);
	recv_gen(&r, &cc, 2);
	ck_assert_uint_eq(cc.nclients, 0);
	ck_assert_ptr_null(cc.clients);

	child_config_free(&cc);
	config_free(&c);
	msgbuf_clear(&w);
	msgbuf_clear(&r);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/* A child refuses client blocks that do not add up. */
START_TEST(test_clients_recv_bad)
{
	struct child_config	 cc;
	struct msg		 m;
	struct mbuf		 b;
	uint8_t			 net[16];
	int			 k;

	memset(net, 0, sizeof(net));
	for (k = 0; k < 7; k++) {
		memset(&cc, 0, sizeof(cc));
		config_defaults(&cc.conf);
		cc.pending = ruleset_new();
		cc.gen = 4;
		mbuf_init(&b);
		mbuf_add_u32(&b, k == 0 ? 1 : 0);		/* index */
		mbuf_add_str(&b, k == 1 ? "a b" : "ok");	/* name */
		mbuf_add_u32(&b, 1);				/* builtin */
		mbuf_add_u32(&b, k == 2 ? 0 : 1);		/* matches */
		mbuf_add_u32(&b, k == 3 ? 99 : MATCH_ADDRESS);	/* kind */
		mbuf_add_str(&b, "x");
		mbuf_add_u32(&b, AF_INET);
		mbuf_add_data(&b, net, k == 4 ? 4 : 16);
		mbuf_add_u32(&b, k == 5 ? 33 : 32);		/* plen */
		mbuf_add_u32(&b, 0);
		if (k != 6) {
			struct body_policy	 bp;

			memset(&bp, 0, sizeof(bp));
			ck_assert_int_eq(body_policy_encode(&b, &bp), 0);
		}
		memset(&m, 0, sizeof(m));
		m.hdr.type = MSG_CFG_CLIENT;
		m.hdr.peerid = 4;
		m.data = b.buf;
		m.datalen = b.len;
		ck_assert_msg(config_recv(&cc, &m) == -1, "case %d", k);
		/* rules for a block that never came */
		mbuf_free(&b);
		mbuf_init(&b);
		mbuf_add_u32(&b, 1);
		mbuf_add_str(&b, "x");
		mbuf_add_data(&b, "GET /x", 6);
		m.hdr.type = MSG_CFG_RULES;
		m.data = b.buf;
		m.datalen = b.len;
		ck_assert_int_eq(config_recv(&cc, &m), -1);
		mbuf_free(&b);
		child_config_free(&cc);
	}
}
END_TEST

static void
match_ok(enum match_kind kind, const char *v, const char *text)
{
	struct client_match	 m;
	char			 why[256] = "", *buf;
	size_t			 len;
	FILE			*fp;

	ck_assert_msg(client_match_parse(&m, kind, v, why, sizeof(why)) == 0,
	    "%s: %s", v, why);
	ck_assert_int_eq(m.kind, kind);
	fp = open_memstream(&buf, &len);
	ck_assert_ptr_nonnull(fp);
	client_match_print(&m, fp);
	ck_assert_int_eq(fclose(fp), 0);
	ck_assert_str_eq(buf, text);
	free(buf);
}

static void
match_bad(enum match_kind kind, const char *v, const char *want)
{
	struct client_match	 m;
	char			 why[256] = "";

	ck_assert_msg(client_match_parse(&m, kind, v, why, sizeof(why)) == -1,
	    "%s: accepted", v);
	ck_assert_str_eq(why, want);
}

#define SHA	"0123456789abcdef0123456789abcdef" \
		"0123456789abcdef0123456789abcdef"
#define HEXERR	"must be 64 lowercase hex digits without colons, as the " \
		"log line's cert_sha256 shows it"

/* client_match_parse and client_match_print: each kind, each error. */
START_TEST(test_match_parse)
{
	struct client_match	 m;
	char			 long_text[CLIENT_TEXT_MAX + 1];

	match_ok(MATCH_TLS_SUBJECT, "CN=a b,O=x", "match tls subject "
	    "\"CN=a b,O=x\"");
	match_ok(MATCH_TLS_ISSUER, "CN=ca", "match tls issuer \"CN=ca\"");
	match_ok(MATCH_TLS_SAN, "dns:X.example", "match tls san "
	    "\"DNS:X.example\"");
	match_ok(MATCH_TLS_SAN, "ip:2001:DB8::0:1", "match tls san "
	    "\"IP:2001:db8::1\"");
	match_ok(MATCH_TLS_SAN, "Email:a@b", "match tls san \"email:a@b\"");
	match_ok(MATCH_TLS_SAN, "uri:x:y", "match tls san \"URI:x:y\"");
	match_ok(MATCH_TLS_SHA256, SHA, "match tls sha256 \"" SHA "\"");
	match_ok(MATCH_ADDRESS, "10.1.0.0/16", "match address 10.1.0.0/16");
	match_ok(MATCH_ADDRESS, "10.1.2.3", "match address 10.1.2.3");
	match_ok(MATCH_ADDRESS, "0.0.0.0/0", "match address 0.0.0.0/0");
	match_ok(MATCH_ADDRESS, "2001:DB8::/32", "match address 2001:db8::/32");
	match_ok(MATCH_ADDRESS, "::1/128", "match address ::1");
	match_ok(MATCH_ADDRESS, "10.1.0.128/25", "match address "
	    "10.1.0.128/25");
	match_ok(MATCH_LISTENER, "ci-1.x_y", "match listener \"ci-1.x_y\"");
	match_ok(MATCH_UNIX_UID, "root", "match unix user \"root\"");
	match_ok(MATCH_UNIX_UID, "1000", "match unix uid 1000");
	match_ok(MATCH_UNIX_GID, "root", "match unix group \"root\"");
	match_ok(MATCH_UNIX_GID, "0", "match unix gid 0");
	match_ok(MATCH_CONTAINER_ID, "0123456789ab", "match container id "
	    "\"0123456789ab\"");
	match_ok(MATCH_CONTAINER_ID, SHA, "match container id \"" SHA "\"");
	match_ok(MATCH_CONTAINER_NAME, "/web_1", "match container name "
	    "\"web_1\"");
	match_ok(MATCH_CONTAINER_LABEL, "k=v w", "match container label "
	    "\"k=v w\"");
	match_ok(MATCH_CONTAINER_LABEL, "k", "match container label \"k\"");
	match_ok(MATCH_TLS_SUBJECT, "CN=\"q\"\\", "match tls subject "
	    "\"CN=\\\"q\\\"\\\\\"");

	ck_assert_int_eq(client_match_parse(&m, MATCH_ADDRESS, "10.1.0.0/16",
	    NULL, 0), 0);
	ck_assert_int_eq(m.af, AF_INET);
	ck_assert_int_eq(m.plen, 16);
	ck_assert_int_eq(m.net[0], 10);
	ck_assert_int_eq(m.net[1], 1);
	ck_assert_int_eq(client_match_parse(&m, MATCH_UNIX_UID, "root",
	    NULL, 0), 0);
	ck_assert_uint_eq(m.id, 0);
	ck_assert_int_eq(client_match_parse(&m, MATCH_UNIX_GID, "4242",
	    NULL, 0), 0);
	ck_assert_uint_eq(m.id, 4242);

	memset(long_text, 'a', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = '\0';
	match_bad(MATCH_TLS_SUBJECT, "", "empty");
	match_bad(MATCH_TLS_SUBJECT, long_text, "longer than 1023 bytes");
	match_bad(MATCH_TLS_ISSUER, "CN=\t", "only printable ASCII");
	match_bad(MATCH_TLS_SAN, "dns", "must start with DNS:, IP:, email: "
	    "or URI:");
	match_bad(MATCH_TLS_SAN, "URI:", "nothing after URI:");
	match_bad(MATCH_TLS_SAN, "IP:example", "\"example\" is not an IP "
	    "address");
	match_bad(MATCH_TLS_SHA256, "AB:CD", HEXERR);
	match_bad(MATCH_TLS_SHA256, SHA "0", HEXERR);
	match_bad(MATCH_TLS_SHA256, "0123456789ABCDEF0123456789abcdef"
	    "0123456789abcdef0123456789abcdef", HEXERR);
	match_bad(MATCH_ADDRESS, "10.1.0.1/16", "host bits set (the network "
	    "is 10.1.0.0/16)");
	match_bad(MATCH_ADDRESS, "2001:db8::1/32", "host bits set (the "
	    "network is 2001:db8::/32)");
	match_bad(MATCH_ADDRESS, "10.1.0.0/33", "the prefix length must be 0 "
	    "to 32");
	match_bad(MATCH_ADDRESS, "::/129", "the prefix length must be 0 to "
	    "128");
	match_bad(MATCH_ADDRESS, "10.0.0.0/+8", "the prefix length must be 0 "
	    "to 32");
	match_bad(MATCH_ADDRESS, "10.1/16", "not an IPv4 or IPv6 address");
	match_bad(MATCH_ADDRESS, "/8", "not an IPv4 or IPv6 address");
	match_bad(MATCH_ADDRESS, "host.example", "not an IPv4 or IPv6 "
	    "address");
	match_bad(MATCH_LISTENER, "a b", "a name has only letters, digits, "
	    "'.', '_' and '-'");
	match_bad(MATCH_LISTENER, "x234567890123456789012345678901234567890"
	    "123456789012345678901234", "a name has at most 63 characters");
	match_bad(MATCH_UNIX_UID, "no-such-user-moatd", "no such user");
	match_bad(MATCH_UNIX_UID, "2147483648", "not a user id (0 to "
	    "2147483647)");
	match_bad(MATCH_UNIX_GID, "no-such-group-moatd", "no such group");
	match_bad(MATCH_CONTAINER_ID, "0123456789a", "must be 12 to 64 "
	    "lowercase hex digits (the full id or a prefix of it)");
	match_bad(MATCH_CONTAINER_ID, SHA "0", "must be 12 to 64 lowercase "
	    "hex digits (the full id or a prefix of it)");
	match_bad(MATCH_CONTAINER_ID, "0123456789aG", "must be 12 to 64 "
	    "lowercase hex digits (the full id or a prefix of it)");
	match_bad(MATCH_CONTAINER_NAME, "x", "not a container name (a letter "
	    "or digit, then letters, digits, '_', '.', '-')");
	match_bad(MATCH_CONTAINER_NAME, "a/b", "not a container name (a "
	    "letter or digit, then letters, digits, '_', '.', '-')");
	match_bad(MATCH_CONTAINER_LABEL, "=v", "must be \"key=value\" or "
	    "\"key\", the key without spaces");
	match_bad(MATCH_CONTAINER_LABEL, "a b=c", "must be \"key=value\" or "
	    "\"key\", the key without spaces");
	match_bad((enum match_kind)99, "x", "unknown kind of match");
}
END_TEST

/* parse, print, parse the printed text, print again: the same bytes. */
START_TEST(test_round_trip)
{
	struct moat_config	 c;
	char			**names, **n, rel[PATH_MAX], rt[PATH_MAX];
	char			*p1, *p2;

	names = list_dir(PARSE_DIR "/good", ".conf");
	ck_assert_ptr_nonnull(names[0]);
	tmppath(rt, sizeof(rt), "good/round-trip.tmp");
	for (n = names; *n != NULL; n++) {
		snprintf(rel, sizeof(rel), "good/%s", *n);
		ck_assert_msg(parse(rel, &c) == 0, "%s: %s", *n, logbuf);
		ck_assert_msg(nlogs == 0, "%s: %s", *n, logbuf);
		p1 = print(&c);
		config_free(&c);
		write_file(rt, p1, 0644);
		ck_assert_msg(parse("good/round-trip.tmp", &c) == 0,
		    "%s printed does not parse: %s\n%s", *n, logbuf, p1);
		p2 = print(&c);
		config_free(&c);
		ck_assert_msg(strcmp(p1, p2) == 0, "%s:\n%s\n---\n%s", *n, p1,
		    p2);
		free(p1);
		free(p2);
	}
	unlink(rt);
	free_list(names);
}
END_TEST

/* A configuration with something in it, to see that nothing changes. */
static void
sentinel(struct moat_config *c)
{
	config_defaults(c);
	c->prefork = 7;
	c->foreground = 1;
	ck_assert_int_eq(config_add_rules_text(c, "sentinel", "GET /x"), 0);
}

static void
assert_untouched(const struct moat_config *c, const struct moat_config *was,
    const char *what)
{
	ck_assert_msg(memcmp(c, was, sizeof(*c)) == 0, "%s: changed", what);
	ck_assert_str_eq(c->sources[0].text, "GET /x");
	ck_assert_int_eq(c->prefork, 7);
}

/* Every bad file: exactly its messages, and nothing applied. */
START_TEST(test_bad_files)
{
	struct moat_config	 c, was;
	char			**names, **n, path[PATH_MAX], *want, *nl;
	int			 rv, lines;

	names = list_dir(PARSE_DIR "/bad", ".conf");
	ck_assert_ptr_nonnull(names[0]);
	for (n = names; *n != NULL; n++) {
		tmppath(path, sizeof(path), "bad/");
		strlcat(path, *n, sizeof(path));
		sentinel(&c);
		memcpy(&was, &c, sizeof(c));
		capture_start();
		rv = parse_config(path, &c);
		capture_end();
		ck_assert_msg(rv == -1, "%s parsed", *n);
		assert_untouched(&c, &was, *n);
		strcpy(path + strlen(path) - strlen(".conf"), ".err");
		want = read_file(path);
		for (lines = 0, nl = want; (nl = strchr(nl, '\n')); nl++)
			lines++;
		ck_assert_msg(strcmp(logbuf, want) == 0,
		    "%s: expected\n%sgot\n%s", *n, want, logbuf);
		ck_assert_int_eq(nlogs, lines);
		free(want);
		config_free(&c);
	}
	free_list(names);
}
END_TEST

START_TEST(test_missing_file)
{
	struct moat_config	 c, was;
	char			 path[PATH_MAX];

	sentinel(&c);
	memcpy(&was, &c, sizeof(c));
	tmppath(path, sizeof(path), "no-such.conf");
	capture_start();
	ck_assert_int_eq(parse_config(path, &c), -1);
	capture_end();
	ck_assert_str_eq(logbuf, "no-such.conf: No such file or directory\n");
	assert_untouched(&c, &was, "missing file");
	config_free(&c);
}
END_TEST

/* Success replaces everything but the foreground flag. */
START_TEST(test_success_replaces)
{
	struct moat_config	 c;
	char			 path[PATH_MAX];

	sentinel(&c);
	tmppath(path, sizeof(path), "good/minimal.conf");
	capture_start();
	ck_assert_int_eq(parse_config(path, &c), 0);
	capture_end();
	ck_assert_int_eq(c.foreground, 1);
	ck_assert_uint_eq(c.nsources, 0);
	ck_assert_int_ne(c.prefork, 7 + MOAT_PREFORK_MAX);
	config_free(&c);
}
END_TEST

static void
expect_refused(const char *rel, const char *file, mode_t mode,
    const char *want)
{
	struct moat_config	 c, was;
	char			 path[PATH_MAX];

	tmppath(path, sizeof(path), file);
	ck_assert_int_eq(chmod(path, mode), 0);
	sentinel(&c);
	memcpy(&was, &c, sizeof(c));
	tmppath(path, sizeof(path), rel);
	capture_start();
	ck_assert_int_eq(parse_config(path, &c), -1);
	capture_end();
	ck_assert_str_eq(logbuf, want);
	assert_untouched(&c, &was, rel);
	config_free(&c);
	tmppath(path, sizeof(path), file);
	ck_assert_int_eq(chmod(path, 0644), 0);
}

START_TEST(test_secrecy_mode)
{
	expect_refused("good/minimal.conf", "good/minimal.conf", 0664,
	    "good/minimal.conf: writable by group or others\n");
	expect_refused("good/minimal.conf", "good/minimal.conf", 0646,
	    "good/minimal.conf: writable by group or others\n");
	expect_refused("good/include.conf", "files/nested.conf", 0666,
	    "good/../files/common.conf:4: include \"nested.conf\": "
	    "writable by group or others\n");
	expect_refused("good/rules.conf", "files/web.list", 0620,
	    "good/rules.conf:6: rules file \"../files/web.list\": "
	    "writable by group or others\n");
}
END_TEST

/*
 * Owned by someone else: only root can make such a file.  Without root,
 * a file of ours must pass, which the other tests already show.
 */
START_TEST(test_secrecy_owner)
{
	struct moat_config	 c;
	char			 path[PATH_MAX];

	if (geteuid() != 0) {
		ck_assert_int_eq(parse("good/minimal.conf", &c), 0);
		config_free(&c);
		return;
	}
	tmppath(path, sizeof(path), "files/common.conf");
	ck_assert_int_eq(chown(path, 12345, 12345), 0);
	expect_refused("good/include.conf", "files/common.conf", 0644,
	    "good/include.conf:4: include \"../files/common.conf\": "
	    "owned by neither root nor the current user\n");
	ck_assert_int_eq(chown(path, 0, 0), 0);
	ck_assert_int_eq(parse("good/include.conf", &c), 0);
	config_free(&c);
}
END_TEST

START_TEST(test_cmdline_symset)
{
	struct moat_config	 c;
	char			 path[PATH_MAX];

	ck_assert_int_eq(cmdline_symset("no_equals"), -1);
	ck_assert_int_eq(cmdline_symset("=value"), -1);
	ck_assert_int_eq(cmdline_symset("a-b=value"), -1);
	ck_assert_int_eq(cmdline_symset("a b=value"), -1);

	tmppath(path, sizeof(path), "dtest.conf");
	write_file(path, "dtest_prefork = 3\nprefork $dtest_prefork\n"
	    "user $dtest_user\n", 0644);
	/* Not defined: the file's own use of it fails. */
	ck_assert_int_eq(parse("dtest.conf", &c), -1);
	ck_assert_str_eq(logbuf,
	    "dtest.conf:3: macro \"dtest_user\" is not defined\n");
	ck_assert_int_eq(cmdline_symset("dtest_user=nobody"), 0);
	ck_assert_int_eq(cmdline_symset("dtest_prefork=5"), 0);
	/* -D wins over the file's definition; the last -D wins. */
	ck_assert_int_eq(cmdline_symset("dtest_prefork=9=x"), 0);
	ck_assert_int_eq(parse("dtest.conf", &c), -1);
	ck_assert_str_eq(logbuf,
	    "dtest.conf:2: syntax error: expected end of line, got '='\n");
	ck_assert_int_eq(cmdline_symset("dtest_prefork=5"), 0);
	ck_assert_int_eq(parse("dtest.conf", &c), 0);
	ck_assert_int_eq(c.prefork, 5);
	ck_assert_str_eq(c.user, "nobody");
	config_free(&c);
	/* And again: -D outlives a parse (a reload). */
	ck_assert_int_eq(parse("dtest.conf", &c), 0);
	ck_assert_int_eq(c.prefork, 5);
	config_free(&c);
}
END_TEST

/* CR LF line ends, and a last line without its newline. */
START_TEST(test_crlf_and_last_line)
{
	struct moat_config	 c;
	char			 path[PATH_MAX];

	tmppath(path, sizeof(path), "crlf.conf");
	write_file(path, "# crlf\r\nprefork 4\r\nrules \"GET /a\r\nGET /b\"\r\n"
	    "timeout idle 7", 0644);
	ck_assert_int_eq(parse("crlf.conf", &c), 0);
	ck_assert_int_eq(nlogs, 0);
	ck_assert_int_eq(c.prefork, 4);
	ck_assert_int_eq(c.idle_timeout, 7);
	ck_assert_str_eq(c.sources[0].text, "\n\nGET /a\r\nGET /b");
	config_free(&c);
	/* An error on the last line, without a newline, has its number. */
	write_file(path, "prefork 4\nprefork 0", 0644);
	ck_assert_int_eq(parse("crlf.conf", &c), -1);
	ck_assert_str_eq(logbuf, "crlf.conf:2: prefork 0: must be 1 to 64\n");
}
END_TEST

/* The example configuration parses, with -D pointing at our rules. */
START_TEST(test_example_conf)
{
	struct moat_config	 c;
	struct ruleset		*rs;
	char			*text, path[PATH_MAX], def[PATH_MAX + 16];

	text = read_file("etc/moatd.conf");
	tmppath(path, sizeof(path), "moatd.conf");
	write_file(path, text, 0644);
	free(text);
	snprintf(def, sizeof(def), "rulesdir=%s/rules", tmpdir);
	ck_assert_int_eq(cmdline_symset(def), 0);
	ck_assert_msg(parse("moatd.conf", &c) == 0, "%s", logbuf);
	ck_assert_int_eq(nlogs, 0);
	ck_assert_uint_eq(c.nlisteners, 1);
	ck_assert_uint_eq(c.nsources, 1);
	tmppath(path, sizeof(path), "rules/traefik.list");
	ck_assert_str_eq(c.sources[0].name, path);
	rs = config_ruleset(&c, rules_err, NULL);
	ck_assert_ptr_nonnull(rs);
	ruleset_free(rs);
	config_free(&c);
}
END_TEST

/* The commented client blocks of etc/moatd.conf, uncommented, parse. */
START_TEST(test_example_clients)
{
	struct moat_config	 c;
	struct ruleset		*rs;
	FILE			*in, *out;
	char			 line[1024], path[PATH_MAX], def[PATH_MAX + 16];
	int			 on = 0;

	in = fopen("etc/moatd.conf", "r");
	ck_assert_ptr_nonnull(in);
	tmppath(path, sizeof(path), "clients-example.conf");
	out = fopen(path, "w");
	ck_assert_ptr_nonnull(out);
	while (fgets(line, sizeof(line), in) != NULL) {
		if (strncmp(line, "#listen on \"tcp://10.1", 22) == 0 ||
		    strncmp(line, "#client ", 8) == 0)
			on = 1;
		if (on)
			fputs(line + 1, out);
		if (on && strcmp(line, "#}\n") == 0 && strstr(line, "}"))
			on = 0;
	}
	fclose(in);
	ck_assert_int_eq(fclose(out), 0);
	snprintf(def, sizeof(def), "rulesdir=%s/rules", tmpdir);
	ck_assert_int_eq(cmdline_symset(def), 0);
	ck_assert_msg(parse("clients-example.conf", &c) == 0, "%s", logbuf);
	ck_assert_int_eq(nlogs, 0);
	ck_assert_uint_eq(c.nclients, 5);
	ck_assert_str_eq(c.clients[2].name, "backup");
	ck_assert_str_eq(c.clients[3].name, "homepage");
	ck_assert_str_eq(c.clients[4].name, "monitoring");
	ck_assert_str_eq(c.listeners[0].name, "ci");
	rs = config_ruleset(&c, rules_err, NULL);
	ck_assert_ptr_nonnull(rs);
	ruleset_free(rs);
	config_free(&c);
}
END_TEST

/* "GET,HEAD %API_..." or "POST /path": a rule, not prose. */
static int
is_rule(const char *s)
{
	size_t	 n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ,");

	return n > 0 && s[n] == ' ' && (s[n + 1] == '%' || s[n + 1] == '/');
}

/*
 * etc/rules/: every file loads, and so do the rules shown commented out
 * ("! METHOD pattern"), once uncommented.
 */
START_TEST(test_rule_files_load)
{
	struct moat_config	 c;
	struct ruleset		*rs;
	char			**names, **n, path[PATH_MAX], *text, *p, *q;

	names = list_dir(RULES_DIR, ".list");
	ck_assert_ptr_nonnull(names[0]);
	for (n = names; *n != NULL; n++) {
		snprintf(path, sizeof(path), RULES_DIR "/%s", *n);
		config_defaults(&c);
		c.builtin = 0;
		ck_assert_int_eq(config_add_rules_file(&c, path), 0);
		rs = config_ruleset(&c, rules_err, NULL);
		ck_assert_ptr_nonnull(rs);
		ck_assert_msg(rs->nrules > 0, "%s: no rules", *n);
		ruleset_free(rs);
		config_free(&c);

		text = read_file(path);
		for (p = q = text; *p != '\0'; ) {
			if (strncmp(p, "! ", 2) == 0 && is_rule(p + 2))
				p += 2;
			while (*p != '\0' && (*q++ = *p++) != '\n')
				;
		}
		*q = '\0';
		config_defaults(&c);
		c.builtin = 0;
		ck_assert_int_eq(config_add_rules_text(&c, path, text), 0);
		rs = config_ruleset(&c, rules_err, NULL);
		ck_assert_ptr_nonnull(rs);
		ruleset_free(rs);
		config_free(&c);
		free(text);
	}
	free_list(names);
}
END_TEST

struct probe {
	const char	*method;
	const char	*path;
	int		 allow;
};

static void
check_list(const char *name, const struct probe *pr)
{
	struct moat_config	 c;
	struct ruleset		*rs;
	char			 path[PATH_MAX];
	int			 m;

	snprintf(path, sizeof(path), RULES_DIR "/%s", name);
	config_defaults(&c);
	c.builtin = 0;
	ck_assert_int_eq(config_add_rules_file(&c, path), 0);
	rs = config_ruleset(&c, rules_err, NULL);
	ck_assert_ptr_nonnull(rs);
	for (; pr->method != NULL; pr++) {
		m = ruleset_match(rs, pr->method, pr->path, strlen(pr->path));
		ck_assert_msg((m >= 0) == pr->allow, "%s: %s %s %s", name,
		    pr->method, pr->path, pr->allow ? "denied" : "allowed");
	}
	ruleset_free(rs);
	config_free(&c);
}

/* What each client needs passes; what it does not need does not. */
START_TEST(test_rule_files_least_privilege)
{
	static const struct probe traefik[] = {
		{ "GET", "/v1.24/containers/json", 1 },
		{ "GET", "/containers/4f2a9c/json", 1 },
		{ "GET", "/v1.45/events", 1 },
		{ "GET", "/containers/4f2a9c/logs", 0 },
		{ "POST", "/containers/create", 0 },
		{ "POST", "/containers/4f2a9c/exec", 0 },
		{ "GET", "/services", 0 },
		{ "GET", "/images/json", 0 },
		{ NULL, NULL, 0 }
	};
	static const struct probe portainer[] = {
		{ "GET", "/v1.41/containers/json", 1 },
		{ "GET", "/containers/web/top", 1 },
		{ "GET", "/containers/web/changes", 1 },
		{ "GET", "/images/nginx:1.25/history", 1 },
		{ "GET", "/networks/my_net", 1 },
		{ "GET", "/volumes/data", 1 },
		{ "GET", "/system/df", 1 },
		{ "GET", "/plugins", 1 },
		{ "GET", "/containers/web/archive", 0 },
		{ "GET", "/containers/web/export", 0 },
		{ "GET", "/images/get", 0 },
		{ "POST", "/containers/web/start", 0 },
		{ "POST", "/containers/web/exec", 0 },
		{ "DELETE", "/containers/web", 0 },
		{ "GET", "/secrets", 0 },
		{ NULL, NULL, 0 }
	};
	static const struct probe homepage[] = {
		{ "GET", "/v1.41/containers/json", 1 },
		{ "GET", "/containers/jellyfin/stats", 1 },
		/* the status badge inspects by name */
		{ "GET", "/containers/jellyfin/json", 1 },
		{ "GET", "/containers/jellyfin/logs", 0 },
		{ "POST", "/containers/jellyfin/restart", 0 },
		{ "GET", "/events", 0 },
		{ NULL, NULL, 0 }
	};
	static const struct probe dozzle[] = {
		{ "GET", "/v1.44/containers/json", 1 },
		{ "GET", "/containers/4f2a9c/json", 1 },
		{ "GET", "/containers/4f2a9c/logs", 1 },
		{ "GET", "/containers/4f2a9c/stats", 1 },
		{ "GET", "/events", 1 },
		{ "POST", "/containers/4f2a9c/restart", 0 },
		{ "POST", "/containers/4f2a9c/exec", 0 },
		{ "POST", "/exec/ab12/start", 0 },
		{ NULL, NULL, 0 }
	};
	static const struct probe watchtower[] = {
		{ "GET", "/v1.44/containers/json", 1 },
		{ "GET", "/containers/web/json", 1 },
		{ "GET", "/images/ghcr.io/org/app:latest/json", 1 },
		{ "POST", "/images/create", 1 },
		{ "POST", "/containers/web/kill", 1 },
		{ "DELETE", "/containers/web", 1 },
		{ "POST", "/containers/create", 1 },
		{ "POST", "/networks/my_net/connect", 1 },
		{ "POST", "/containers/web/start", 1 },
		{ "POST", "/containers/web/rename", 1 },
		{ "DELETE", "/images/sha256", 0 },
		{ "POST", "/containers/web/exec", 0 },
		{ "POST", "/build", 0 },
		{ "POST", "/volumes/create", 0 },
		{ "GET", "/containers/web/logs", 0 },
		{ NULL, NULL, 0 }
	};
	static const struct probe netdata[] = {
		/* only the full id of the cgroup's path, not a prefix */
		{ "GET", "/containers/4f2a9c0d4f2a9c0d4f2a9c0d4f2a9c0d"
		    "4f2a9c0d4f2a9c0d4f2a9c0d4f2a9c0d/json", 1 },
		{ "GET", "/containers/4f2a9c0d/json", 0 },
		{ "GET", "/v1.41/containers/json", 1 },
		{ "GET", "/images/json", 1 },
		{ "GET", "/containers/web/json", 0 },
		{ "GET", "/containers/4f2a9c0d/logs", 0 },
		{ "GET", "/events", 0 },
		{ NULL, NULL, 0 }
	};

	check_list("traefik.list", traefik);
	check_list("portainer-readonly.list", portainer);
	check_list("homepage.list", homepage);
	check_list("dozzle.list", dozzle);
	check_list("watchtower.list", watchtower);
	check_list("netdata.list", netdata);
}
END_TEST

Suite *
parse_suite(void)
{
	Suite	*s = suite_create("parse");
	TCase	*tc = tcase_create("conf");
	TCase	*tr = tcase_create("rulefiles");

	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_minimal_is_defaults);
	tcase_add_test(tc, test_full);
	tcase_add_test(tc, test_full_printed);
	tcase_add_test(tc, test_strings);
	tcase_add_test(tc, test_listeners_max);
	tcase_add_test(tc, test_macros);
	tcase_add_test(tc, test_include_order);
	tcase_add_test(tc, test_rules_lines);
	tcase_add_test(tc, test_rules_limit_logged);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_bad_files);
	tcase_add_test(tc, test_missing_file);
	tcase_add_test(tc, test_success_replaces);
	tcase_add_test(tc, test_secrecy_mode);
	tcase_add_test(tc, test_secrecy_owner);
	tcase_add_test(tc, test_cmdline_symset);
	tcase_add_test(tc, test_crlf_and_last_line);
	tcase_add_test(tc, test_example_conf);
	tcase_add_test(tc, test_example_clients);
	tcase_add_test(tc, test_body);
	tcase_add_test(tc, test_body_symlink_root);
	tcase_add_test(tc, test_body_sent);
	tcase_add_test(tc, test_clients);
	tcase_add_test(tc, test_clients_listener_reload);
	tcase_add_test(tc, test_clients_sent);
	tcase_add_test(tc, test_clients_recv_bad);
	tcase_add_test(tc, test_match_parse);
	suite_add_tcase(s, tc);
	tcase_add_test(tr, test_rule_files_load);
	tcase_add_test(tr, test_rule_files_least_privilege);
	suite_add_tcase(s, tr);
	return s;
}
