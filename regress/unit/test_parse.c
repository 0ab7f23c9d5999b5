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
		{ "GET", "/containers/jellyfin/json", 0 },
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
		{ "GET", "/containers/4f2a9c0d/json", 1 },
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
	tcase_add_test(tc, test_body);
	tcase_add_test(tc, test_body_symlink_root);
	tcase_add_test(tc, test_body_sent);
	suite_add_tcase(s, tc);
	tcase_add_test(tr, test_rule_files_load);
	tcase_add_test(tr, test_rule_files_least_privilege);
	suite_add_tcase(s, tr);
	return s;
}
