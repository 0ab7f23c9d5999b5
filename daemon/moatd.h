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
 * The header of daemon/, the processes: the configuration, TLS, the ca,
 * client identities, systemd, and each process's entry point.  Messages,
 * channels and spawning are privsep.h's, logging log.h's, the parsers
 * and codecs policy.h's (the layers: regress/layers.sh).
 */

#ifndef MOATD_H
#define MOATD_H

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "log.h"
#include "policy.h"
#include "privsep.h"
#include "fwd.h"
#include "body.h"

/* config.c: what the command line (and later the config file) says */

#define MOAT_ADDR_MAX		256
#define MOAT_LISTENERS_MAX	16
#define MOAT_PREFORK_MAX	64
#define MOAT_BODY_TIMEOUT	30	/* seconds, "timeout body" */
#define MOAT_CONN_PEER		256	/* "limit connections per ..." */
#define MOAT_CONN_PEER_MAX	1048576
#define MOAT_CLIENTS_MAX	64	/* client blocks */
#define CLIENT_NAME_MAX		64	/* a client block's or listener's name */
#define CLIENT_MATCH_MAX	16	/* match lines in a client block */
#define CLIENT_TEXT_MAX		1024	/* a match line's value */

enum addr_kind {
	ADDR_UNIX = 1,
	ADDR_TCP,
	ADDR_SYSTEMD,		/* a socket systemd passed (LISTEN_FDS) */
};

struct moat_addr {
	enum addr_kind	 kind;
	char		 text[MOAT_ADDR_MAX];	/* as the user wrote it */
	char		 path[108];		/* ADDR_UNIX */
	char		 host[MOAT_ADDR_MAX];	/* ADDR_TCP, no brackets */
	char		 port[8];
	char		 sdname[64];		/* ADDR_SYSTEMD: FileDescriptorName */
};

/*
 * TLS for a listener or for the backend (tls_conf.c).  The parent reads
 * the files: the public parts (chain, CAs, CRLs) go to the relays as
 * bytes, the private key only to the ca processes.
 */
#define MOAT_PATH_MAX		256
#define TLS_FILE_MAX		(MSG_CFG_MAXSZ - 8192)	/* a message each */
#define TLS_KEYID_LEN		32	/* SHA-256 of the SubjectPublicKeyInfo */
#define TLS_TARGET_BACKEND	0xffffffffU	/* MSG_CFG_TLS*: not a listener */

struct moat_tls {
	int		 enabled;
	char		 cert[MOAT_PATH_MAX];	/* PEM chain, leaf first */
	char		 key[MOAT_PATH_MAX];	/* PEM, RSA or EC */
	char		 ca[MOAT_PATH_MAX];	/* listener: client CAs */
	char		 crl[MOAT_PATH_MAX];
	char		 ciphers[256];		/* TLS 1.2 list */
	char		 ciphersuites[256];	/* TLS 1.3 list */
	char		 protocols[64];		/* "tlsv1.2,tlsv1.3" */
	char		 name[MOAT_ADDR_MAX];	/* backend: name to verify */
	/* tls_config_load(): public bytes only */
	char		*cert_pem;
	size_t		 cert_len;
	char		*ca_pem;
	size_t		 ca_len;
	char		*crl_pem;
	size_t		 crl_len;
	uint8_t		 keyid[TLS_KEYID_LEN];
};

struct moat_listener {
	int		 id;
	struct moat_addr addr;
	int		 fd;
	/*
	 * TCP: fd only holds the address (bound, not listening); each
	 * relay listens on a socket of its own (SO_REUSEPORT), and the
	 * kernel spreads connections over them.  listening: fd listens
	 * too (a relay's own socket could not be made; relays share it).
	 */
	int		 reuse;
	int		 listening;
	struct moat_tls	 tls;
	/* unix listeners: who may connect */
	int		 owner_set;
	uid_t		 owner;
	int		 group_set;
	gid_t		 group;
	mode_t		 mode;			/* default 0660 */
	/* listen on "..." name "ci": for "match listener"; "" unnamed */
	char		 name[CLIENT_NAME_MAX];
};

struct rule_source {
	char		*name;
	char		*text;
	size_t		 len;
	int		 file;		/* read from the file called name */
};

/*
 * client.c: client blocks (moatd.conf(5) "client"), tried in the order
 * written; the first whose every match line holds gives the connection
 * its rules, builtin rules and body policy, which replace the top-level
 * ones.  None matches: the top level.  The policy worker decides
 * (client_select); the relay re-checks what it can (client_recheck).
 */
enum match_kind {
	MATCH_TLS_SUBJECT = 1,	/* cert.subject, the whole RFC 2253 string */
	MATCH_TLS_ISSUER,	/* cert.issuer, whole */
	MATCH_TLS_SAN,		/* "DNS:x", "IP:1.2.3.4", "email:x", "URI:x" */
	MATCH_TLS_SHA256,	/* cert.sha256: 64 lowercase hex digits */
	MATCH_ADDRESS,		/* peer.addr within af/net/plen */
	MATCH_LISTENER,		/* listener.name equal to text */
	MATCH_UNIX_UID,		/* unix.uid == id (user names: resolved) */
	MATCH_UNIX_GID,		/* unix.gid or a unix.group == id */
	MATCH_CONTAINER_ID,	/* container.id: 64 hex, or a prefix of it */
	MATCH_CONTAINER_NAME,	/* the container's name, no leading '/' */
	MATCH_CONTAINER_LABEL,	/* "key=value" among its labels, or "key" */
};

struct client_match {
	enum match_kind	 kind;
	char		 text[CLIENT_TEXT_MAX];	/* as written, for -n */
	int		 af;		/* MATCH_ADDRESS: AF_INET, AF_INET6 */
	uint8_t		 net[16];	/* network byte order, host bits 0 */
	int		 plen;
	uint32_t	 id;		/* MATCH_UNIX_UID, MATCH_UNIX_GID */
};

struct moat_client {
	char			 name[CLIENT_NAME_MAX];
	struct client_match	 m[CLIENT_MATCH_MAX];
	size_t			 nm;		/* at least one */
	struct rule_source	*sources;
	size_t			 nsources;
	int			 builtin;	/* default 1 */
	struct body_policy	 body;		/* its own; defaults if unset */
};

struct moat_config {
	int			 log_level;
	int			 foreground;
	int			 prefork;
	int			 affinity;	/* cpu affinity yes (parent.c) */
	int			 builtin;
	char			 user[64];
	char			 chroot[256];
	struct moat_addr	 backend;
	struct moat_tls		 backend_tls;
	/* -frontend-tls-*: for every tcp listener without its own */
	struct moat_tls		 frontend_tls;
	struct moat_listener	 listeners[MOAT_LISTENERS_MAX];
	size_t			 nlisteners;
	struct rule_source	*sources;
	size_t			 nsources;
	struct http_limits	 limits;
	int			 head_timeout;	/* seconds */
	int			 idle_timeout;
	int			 drain_timeout;
	int			 body_timeout;	/* between request body reads */
	int			 conn_per_addr;	/* per relay, per source address */
	int			 conn_per_uid;	/* per relay, per unix peer uid */
	/* limit body and allow ...: admission control (policy/body.h) */
	struct body_policy	 body;
	char			 pidfile[256];	/* only when daemonised */
	char			 learn_file[256]; /* -learn, "": not learning */
	int			 log_json;	/* log format json */
	char			 log_file[256];	/* log file: request lines */
	int			 audit;		/* children: a log file is set */
	struct moat_client	*clients;	/* client blocks, in order */
	size_t			 nclients;
};

void	config_defaults(struct moat_config *);
void	config_free(struct moat_config *);
/* Parse "unix:///path" or "tcp://host:port" ("[v6]:port").  0 or -1. */
int	config_parse_addr(const char *, struct moat_addr *, const char **);
int	config_add_rules_text(struct moat_config *, const char *name,
	    const char *text);
int	config_add_rules_file(struct moat_config *, const char *path);
/* Read rules from an open file named name: 0, or -1 with *why set. */
int	read_fd_all(int, size_t, char **, const char **);
int	config_add_rules_fd(struct moat_config *, int fd, const char *name,
	    const char **why);
/* The same for a list of sources (the top level's or a client block's). */
int	sources_add_text(struct rule_source **, size_t *, const char *name,
	    const char *text);
int	sources_add_fd(struct rule_source **, size_t *, int fd,
	    const char *name, const char **why);
/* A client block's sources and body policy (not the block itself). */
void	client_free(struct moat_client *);
/* Compile every source into a new ruleset; NULL (errors logged) if any
 * rule is invalid. */
struct ruleset	*config_ruleset(const struct moat_config *, rules_errfn, void *);
/* A client block's rules (its built-ins unless "builtin rules no"). */
struct ruleset	*config_client_ruleset(const struct moat_client *, rules_errfn,
	    void *);
/* Parent side: send the global settings and the rule sources. */
int	config_send(struct msgbuf *, const struct moat_config *, uint32_t gen);
/* Child side: consume one MSG_CFG_* message; 1 when CFG_DONE completed
 * a new configuration (*rsp replaced), 0 otherwise, -1 on a bad one. */
struct child_rules {
	struct moat_client	 c;	/* matches and body; no sources */
	struct ruleset		*rs;
};
struct child_config {
	struct moat_config	 conf;	/* only the global part is used */
	struct ruleset		*rs;	/* current */
	struct ruleset		*pending;
	/* client blocks, each with its rules: current and pending */
	struct child_rules	*clients;
	size_t			 nclients;
	struct child_rules	*pclients;
	size_t			 npclients;
	/* conf.body from MSG_CFG_DONE on; freed by config_free(&conf) */
	struct body_policy	 pending_body;
	uint32_t		 gen;
};
int	config_recv(struct child_config *, struct msg *);
void	child_config_free(struct child_config *);
/* The same for any parent message: 0 not one, 1 taken, 2 generation done;
 * a bad one is fatal. */
int	config_take(struct child_config *, struct msg *);

/* parse.y: the configuration file */

/*
 * Parse file (and what it includes) into a fresh configuration that starts
 * from config_defaults().  On success *conf is freed and replaced (its
 * foreground flag is kept) and 0 is returned.  On any error every message
 * is logged as "file:line: what", *conf is left untouched and -1 is
 * returned.
 */
int	parse_config(const char *file, struct moat_config *conf);
/* -D name=value: a macro that wins over the file's own.  0 or -1. */
int	cmdline_symset(const char *);

/* printconf.c: the configuration as text the parser reads back */

/* The effective configuration in canonical form (what -n shows). */
void	config_print(const struct moat_config *, FILE *);
/* Log level names: "emerg" .. "debug" for 0 .. 7; -1 if unknown. */
const char	*config_level_name(int);
int	config_level_byname(const char *);
/* limit body and the allow statements, as moatd.conf(5) writes them. */
void	config_print_body(const struct body_policy *, FILE *);
/* A string in double quotes, as the lexer reads it back. */
void	config_print_quoted(FILE *, const char *);

/*
 * body_conf.c: limit body and allow ..., each value checked and added to
 * a body policy, for the file and the command line alike.  Each returns
 * 0, or -1 with why (for "allow bind \"x\": <why>") and nothing added.
 * A value given twice is kept once.
 */
#define BODY_CONF_LIST_MAX	64	/* entries in each allow list */
#define BODY_CONF_PATH_MAX	1024	/* allow bind, allow device */
#define BODY_CONF_WORD_MAX	256	/* allow image, runtime, ... */

enum body_conf_list { BC_IMAGE, BC_RUNTIME, BC_VDRIVER, BC_SYSCTL };

/* "1048576", "512K", "1M": BODY_LIMIT_MIN to BODY_LIMIT_MAX bytes. */
int	body_conf_size(const char *, uint64_t *, char *why, size_t);
/* why, formatted (vsnprintf); -1, for "return why_set(...)". */
int	why_set(char *why, size_t, const char *fmt, ...)
	    __attribute__((__format__ (printf, 3, 4)));
/* Absolute, no "..", cleaned, and its own real path (realpath(3)). */
int	body_conf_bind(struct body_policy *, const char *path, int readonly,
	    char *why, size_t);
/* A Linux capability (or ALL), with or without CAP_, any case: kept
 * upper case without CAP_. */
int	body_conf_cap(struct body_policy *, const char *, char *why, size_t);
int	body_conf_device(struct body_policy *, const char *path, char *why,
	    size_t);
/* "network", "pid", "ipc", "uts", "userns" or "cgroupns". */
int	body_conf_host(struct body_policy *, const char *, char *why, size_t);
const char	*body_conf_host_name(unsigned int flag);	/* BODY_HOST_* */
int	body_conf_word(struct body_policy *, enum body_conf_list,
	    const char *, char *why, size_t);
void	body_conf_clear_binds(struct body_policy *);
void	body_conf_clear_images(struct body_policy *);

/* tls_conf.c: TLS settings, from flags and environment to the children */

/*
 * CetusGuard's -frontend-tls-{cacert,cert,key} and -backend-tls-{...},
 * and ours: -frontend-tls-{crl,protocols,ciphers,ciphersuites},
 * -backend-tls-{name,protocols,ciphers,ciphersuites} (name without the
 * dash): record the value.  0, or -1 if name is none of them or the value
 * is too long.
 */
int	tls_config_option(struct moat_config *, const char *name,
	    const char *value);
/*
 * The configuration file (parse.y): word is "tls" (value NULL), "ca",
 * "certificate", "ciphers", "ciphersuites", "crl", "hostname", "key" or
 * "protocols".  Turns TLS on.  0, or -1 with *why.
 */
int	tls_config_set(struct moat_tls *, const char *word, const char *value,
	    const char **why);
/*
 * After the command line: give every tcp listener without TLS of its own
 * the -frontend-tls-* settings, and check each TLS block for consistency
 * (a certificate needs its key, a CRL needs a CA, TLS to a backend needs
 * tcp://, protocols and names parse).  0, or -1 with the errors logged.
 */
int	tls_config_finish(struct moat_config *);
/* "tlsv1.2,tlsv1.3" (or "default", "all", "secure"): the versions. */
int	tls_parse_protocols(const char *, int *min, int *max);
/*
 * Parent: read and check every file (chain against key, CA, CRL, cipher
 * lists), keeping the public bytes.  The key is read, checked against the
 * leaf certificate and wiped.  0, or -1 with the reasons logged; on -1
 * the previous bytes are kept.
 */
int	tls_config_load(struct moat_config *);
void	tls_config_free(struct moat_config *);
/*
 * SIGHUP: nc is the new configuration, old the running one.  nc gets
 * old's listeners (a reload cannot change them) with their TLS blocks
 * from nc where the address matches and TLS stays on or off; the blocks
 * not taken stay in old, for config_free(old).
 */
void	tls_config_keep_listeners(struct moat_config *nc,
	    struct moat_config *old);
/* How many TLS blocks have a private key. */
int	tls_config_keys(const struct moat_config *);
/* Parent -> relay: MSG_CFG_TLS{,_CA,_CRL} for every listener's block. */
int	tls_config_send(struct msgbuf *, const struct moat_config *,
	    uint32_t gen);
/* Parent -> forwarder: the same for the backend's block. */
int	tls_config_send_backend(struct msgbuf *, const struct moat_config *,
	    uint32_t gen);
/* Parent -> ca: MSG_CFG_TLS_KEY per key, read now and wiped once queued. */
int	tls_config_send_keys(struct msgbuf *, const struct moat_config *,
	    uint32_t gen);
/* SHA-256 of a key's SubjectPublicKeyInfo (pkey: EVP_PKEY *): how the
 * relays name a key to the ca.  0 or -1. */
int	tls_keyid(const void *pkey, uint8_t id[TLS_KEYID_LEN]);
/* TLS 1.2 ciphers unless configured: forward secret AEAD only. */
#define TLS_CIPHERS_DEFAULT	"ECDHE+AESGCM:ECDHE+CHACHA20"
/* MSG_CFG_TLS flags */
#define TLS_F_VERIFY		0x1	/* verify the peer against the CAs */

/* ident.c: who a client is, as the relay saw it (TLS, later more) */

#define IDENT_ATTRS_MAX		32
#define IDENT_KEY_MAX		32
#define IDENT_VALUE_MAX		1024

/*
 * Attributes, in order, keys repeatable: "tls.version", "tls.cipher",
 * "cert.subject" and "cert.issuer" (RFC 2253), "cert.serial" (hex),
 * "cert.sha256" (hex fingerprint of the DER certificate), "cert.san.dns",
 * "cert.san.ip", "cert.san.email", "cert.san.uri".  On the wire (after
 * the peer string of MSG_POLICY_REQ): u32 count, then count pairs of
 * strings; keys are [a-z0-9._-], values printable ASCII.
 */
struct ident_attr {
	char	*key;
	char	*value;
};

struct ident {
	size_t			 n;
	struct ident_attr	 a[IDENT_ATTRS_MAX];
};

/* Add a copy; values are cut at IDENT_VALUE_MAX.  0, or -1 if full or
 * the key or value is not acceptable. */
int	ident_add(struct ident *, const char *key, const char *value);
/* The value of the first attribute called key, or NULL. */
const char	*ident_get(const struct ident *, const char *key);
void	ident_clear(struct ident *);
/* " cert_subject=\"...\" cert_san=\"...\" cert_sha256=..." for the
 * request log line, or "" if there is no certificate. */
void	ident_logstr(const struct ident *, char *, size_t);
int	ident_logjson(const struct ident *, char *, size_t, size_t *, size_t);

/*
 * ident.c: an identity on the wire (MSG_POLICY_REQ's "who", after the
 * body): u32 count, then count pairs of strings.  Decoding is strict (the
 * same checks as ident_add).  0, or -1.
 */
struct mbuf;
int	ident_encode(struct mbuf *, const struct ident *);
int	ident_decode(struct mbuf *, struct ident *);

/*
 * The facts a relay adds to a connection's identity, when the running
 * configuration has client blocks (built once per connection, on its
 * first request under such a configuration), besides the TLS ones:
 *   "listener.id"	the listener's index ("0")
 *   "listener.name"	its name, when it has one
 *   "peer.addr"	TCP: the source address, "127.0.0.2", "::1"
 *   "unix.uid", "unix.gid", "unix.pid"	unix: SO_PEERCRED, decimal
 *   "unix.group"	unix: each supplementary group (SO_PEERGROUPS)
 *   "container.id"	the peer's container (64 hex), when it has one
 */

/* client.c */

/* What the daemon says of a container (later: cached from its events). */
struct container_info {
	char		 id[65];
	char		 name[256];	/* without the leading '/' */
	char		**labels;	/* "key=value" */
	size_t		 nlabels;
};
/* The container with this full id, or NULL (unknown: no container
 * match holds). */
typedef const struct container_info *(*client_containerfn)(const char *id,
	    void *arg);

/* Does one match line hold for who?  1 or 0; a fact who lacks, or a
 * container fn cannot find, makes it 0. */
int	client_match_holds(const struct client_match *, const struct ident *who,
	    client_containerfn, void *arg);
/* The index of the first of n blocks whose every line holds, or -1. */
int	client_select(const struct moat_client *, size_t n,
	    const struct ident *who, client_containerfn, void *arg);
/*
 * The relay's check of a verdict's client (-1: the top level): every
 * line of block chosen that needs no container holds for who, and no
 * earlier block whose lines need no container matches.  1 if so.
 */
int	client_recheck(const struct moat_client *, size_t n, int chosen,
	    const struct ident *who);
/* The same over a child's blocks (child_config.clients[].c). */
int	client_select_rules(const struct child_rules *, size_t n,
	    const struct ident *who, client_containerfn, void *arg);
int	client_recheck_rules(const struct child_rules *, size_t n, int chosen,
	    const struct ident *who);
/*
 * Has any of n blocks a "match container" line (id, name or label)?  Then
 * the watcher keeps the container table, and the worker maps TCP peers
 * to containers by address.
 */
int	client_uses_table(const struct moat_client *, size_t n);
int	client_uses_table_rules(const struct child_rules *, size_t n);
/* "match tls san \"DNS:x\"" and the rest, parsed into m (user and group
 * names resolved now).  0, or -1 with why. */
int	client_match_parse(struct client_match *, enum match_kind,
	    const char *value, char *why, size_t);
/* The match line as moatd.conf(5) writes it, for moatd -n: "match ...",
 * without indentation or newline. */
void	client_match_print(const struct client_match *, FILE *);
/* client_conf.c: a client block's or listener's name, 1 to 63 of
 * [A-Za-z0-9._-].  0, or -1 with why. */
int	client_name_check(const char *, char *why, size_t);
/* The block by name, or NULL. */
const struct moat_client *client_byname(const struct moat_config *,
	    const char *);
/*
 * Every "match listener" of c's blocks names one of the listeners of l
 * (c itself, or on a reload the running configuration, whose listeners
 * stay).  0, or -1 with each one that does not logged.
 */
int	client_check_listeners(const struct moat_config *c,
	    const struct moat_config *l);

/* cgroup.c: a unix peer's container, from its /proc/PID/cgroup */

#define CGROUP_ID_LEN		64		/* hex digits of a container id */
#define CGROUP_TEXT_MAX		(64 * 1024)	/* what is read of the file */

/*
 * The text of /proc/PID/cgroup: the 64-hex id of the container it names
 * (the last "<id>" or "docker-<id>.scope" component of a path, the same
 * in every line that names one) into id, and 0; or -1 (id "") if it names
 * none, two, or is malformed.
 */
int	cgroup_container_id(const char *text, size_t len,
	    char id[CGROUP_ID_LEN + 1]);
/*
 * Parent: the container of the process a unix peer's pidfd names (pid
 * ignored), or, without a pidfd (-1), of process pid, checked to be the
 * same process after its cgroup is read.  0, or -1 (id "") with why.
 * Reads /proc, never the client's socket; pidfd stays the caller's.
 */
int	cgroup_peer_container(int pidfd, pid_t pid, char id[CGROUP_ID_LEN + 1],
	    const char **why);
/* 1 if the kernel gives unix peers' pidfds (SO_PEERPIDFD): then a
 * relay's request without one is refused (a pid alone names any
 * process), 0 if not. */
int	cgroup_have_peerpidfd(void);
/* Has any client block a "match container ..." line?  Only then does a
 * relay ask for its unix peers' containers. */
int	config_wants_container(const struct child_config *);

/* ca.c: the process that holds the private keys */

/*
 * What a relay may ask of its ca: a signature over a digest, padded by
 * the ca.  Op 1 was raw RSA (any block to the private exponent, which
 * made the ca a decryption oracle); it and any other op are refused.
 */
enum ca_op {
	CA_OP_ECDSA_SIGN = 2,	/* a digest; DER ECDSA-Sig-Value back */
	CA_OP_RSA_PKCS1,	/* a digest; RSASSA-PKCS1-v1_5 signature */
	CA_OP_RSA_PSS,		/* a digest; RSASSA-PSS, MGF1 with its hash */
};

/* A MSG_CA_REQ, pointing into the message it was read from. */
struct ca_req {
	uint32_t	 op;		/* enum ca_op */
	const uint8_t	*keyid;		/* TLS_KEYID_LEN bytes */
	uint32_t	 md;		/* NID of the digest's hash; 0 for EC */
	uint32_t	 saltlen;	/* PSS; 0 otherwise */
	const uint8_t	*in;		/* the digest */
	size_t		 inlen;
};

#define CA_TIMEOUT_MS	5000
#define CA_INPUT_MAX	1024	/* signatures: RSA up to 8192 bits */
#define CA_DIGEST_MAX	64	/* SHA-512 */

void	ca_req_encode(struct mbuf *, const struct ca_req *);
/* Strict: -1 for a malformed request. */
int	ca_req_decode(const void *, size_t, struct ca_req *);
/* The signature over req's digest with pkey (an EVP_PKEY) into out,
 * *outlen its size on entry, the signature's length on return; or -1
 * with *why saying what was refused or failed, and then no private key
 * operation was done unless *why says the signing failed. */
int	ca_sign(void *pkey, const struct ca_req *, uint8_t *out,
	    size_t *outlen, const char **why);

__attribute__((__noreturn__)) void	ca_main(const struct moat_config *,
	    int instance);

/* tls_key.c (relay): private key operations by message to the ca */

struct conn;
struct event_base;
struct ssl_st;

/* Before the sandbox. */
void	tls_key_init(void);
/* The channel to our ca (replacing any previous one); -1 for none. */
void	tls_key_set_ca(int fd);
/* Read the channel on base's loop: handshakes in ASYNC jobs with a wait
 * callback (tls_accept.c) then wait for their signature without
 * blocking.  Without it, or outside such a job, signing blocks. */
void	tls_key_attach(struct event_base *);
/* An EVP_PKEY (as void *) with the public half of pub whose private
 * operations go to the ca; NULL for a key type it cannot do. */
void	*tls_key_proxy(void *pub);

/* relay_tls.c: TLS contexts and identities; the relay's clients on
 * conn.h, the forwarder's backend with its own I/O */

/* OpenSSL initialised before the sandbox (no files after it). */
void	relay_tls_init(void);
/* MSG_CFG_TLS*, MSG_CTL_CAFD: 0, or -1 on a bad message. */
int	relay_tls_msg(struct msg *);
/* The same for any parent message: 1 if it was TLS's (bad: fatal). */
int	relay_tls_take(struct msg *);
/* MSG_CFG_DONE: the contexts built for gen replace the current ones;
 * sessions keep the context they started with. */
void	relay_tls_commit(uint32_t gen);
/*
 * A client on listener lid without TLS: a plain connection (conn.h) on
 * fd.  NULL (fd closed) for a TLS listener: its clients go through
 * relay_tls_accept() first.
 */
struct conn	*relay_tls_client(struct event_base *, int lid, int fd);
/* 1 if listener lid has TLS (refused clients get no plain text). */
int	relay_tls_listener(int lid);
/* A new SSL for a client of TLS listener lid; NULL if it has none that
 * works (its contexts could not be built: refuse the client). */
struct ssl_st	*relay_tls_ssl(int lid);
/* Who the client of an established ssl is: its protocol, cipher and,
 * when verified, its certificate (freed by ident_clear and free). */
struct ident	*relay_tls_ident(struct ssl_st *);
/* Why a handshake failed, into why: the verification result, then the
 * errors OpenSSL queued. */
void	relay_tls_why(struct ssl_st *, char *why, size_t len);
/* The kernel took no part of a handshake's record layer (kTLS): later
 * SSLs do not ask it again (two failing setsockopt calls each). */
void	relay_tls_ktls_none(void);
/*
 * A connection to the backend (forwarder.c does its I/O): *sslp is a
 * client SSL on fd, or NULL when the backend is plain.  0, or -1 (fd
 * closed, logged) when its TLS is configured but unusable.
 */
int	relay_tls_backend_ssl(int fd, struct ssl_st **sslp);
/* A failed backend handshake, logged; why: its reason. */
void	relay_tls_backend_failure(struct ssl_st *, char *why, size_t len);

/* tls_accept.c: a TLS client's handshake, which never blocks the relay */

/* ssl: established, the caller's from here on (with its socket); or
 * NULL: the handshake failed or timed out, logged with its peer, the
 * socket closed (or lingering), err says why. */
typedef void	(*relay_tls_done_fn)(void *arg, struct ssl_st *ssl,
		    const char *err);
/*
 * Run the handshake of fd, a client of TLS listener lid (peer: its
 * name in the log), on base's loop, for at most secs seconds, and call
 * done(arg, ...) once, never from here.  0; or -1 if the listener's TLS
 * does not work (fd closed, done not called).
 */
int	relay_tls_accept(struct event_base *, int lid, int fd,
	    const char *peer, int secs, relay_tls_done_fn done, void *arg);

/* sd.c: systemd's socket activation and readiness protocol, no libsystemd */

struct sd_socket {
	int		 fd;
	char		 name[64];	/* FileDescriptorName, or "unknown" */
	int		 family;	/* AF_INET, AF_INET6 or AF_UNIX */
};

/*
 * First thing in main, before anything closes or opens descriptors: fd 3,
 * where systemd puts the first socket, is also PARENT_FD in a child.  If
 * LISTEN_PID is our pid, take the LISTEN_FDS sockets from fd 3 on, named
 * by LISTEN_FDNAMES (all "unknown" without it; a count that differs is an
 * error).  Each must be a listening SOCK_STREAM socket of family AF_INET,
 * AF_INET6 or AF_UNIX, else it is an error; each gets FD_CLOEXEC and
 * O_NONBLOCK.  LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES are unset in
 * every case, so no child ever sees them.  Returns the number of sockets
 * (0 when not socket-activated, or LISTEN_PID is another process's), or
 * -1 (logged; the caller exits) on a bad variable, a bad socket, or more
 * than max sockets.
 */
int	sd_listen_fds(struct sd_socket *, int max);
/*
 * Give the n passed sockets to the configuration's listeners, after the
 * command line and configuration are read and before any listener is
 * opened:
 *  - no listener configured at all: one ADDR_SYSTEMD listener is added per
 *    passed socket ("systemd:<name>"), in the order passed; with n == 0
 *    nothing changes and the caller applies its default address;
 *  - an ADDR_SYSTEMD listener with a name takes every passed socket of
 *    that name (first the named ones, in configuration order);
 *  - then an ADDR_SYSTEMD listener with an empty name takes every socket
 *    still unclaimed;
 *  - a listener that takes several sockets is copied (same settings,
 *    new id) for each after the first, appended to c->listeners;
 *  - an ADDR_SYSTEMD listener that gets no socket is an error (so is the
 *    same name twice, or a second catch-all), as is overflowing
 *    MOAT_LISTENERS_MAX;
 *  - a passed socket no listener takes is closed, with a warning.
 * A listener that got a socket keeps kind ADDR_SYSTEMD and its fd: the
 * parent must neither open, chmod nor unlink it.  Every fd in socks[] is
 * set to -1 (now a listener's, or closed) on success.  0, or -1 (logged;
 * the caller exits).
 */
int	sd_bind_listeners(struct moat_config *, struct sd_socket *, int n);
/*
 * Send a state string ("READY=1", "STATUS=...", "STOPPING=1", lines
 * joined by \n) to $NOTIFY_SOCKET as one datagram, without blocking; a
 * name starting with '@' is in the abstract namespace.  0 if sent or not
 * under systemd (NOTIFY_SOCKET unset or empty), -1 on error (logged).
 */
int	sd_notify(const char *state);
int	sd_notifyf(const char *fmt, ...)
	    __attribute__((__format__ (printf, 1, 2)));
/* "RELOADING=1\nMONOTONIC_USEC=<CLOCK_MONOTONIC now>", as systemd wants
 * it at the start of a reload.  As sd_notify. */
int	sd_notify_reloading(void);
/* True when started by systemd (NOTIFY_SOCKET or INVOCATION_ID set): the
 * parent must then never daemonise. */
int	sd_under_systemd(void);

/* The policy worker's ploop slot for the watcher's channel (the
 * relays' are 0 to MOAT_PREFORK_MAX - 1): MSG_CTL_PROCFD's peerid. */
#define POLICY_WATCHER_SLOT	MOAT_PREFORK_MAX

/* proc.c / parent.c / relay.c / worker.c: process entry points */
__attribute__((__noreturn__)) void	relay_main(const struct moat_config *, int instance);
__attribute__((__noreturn__)) void	policy_main(const struct moat_config *,
	    int instance);
/*
 * worker.c: 0 when no component of the canonical absolute path, walked
 * from rootfd (an O_PATH descriptor of the host's "/"), is a symbolic
 * link (a missing one ends the walk); -1 otherwise.  The policy worker's
 * body_pathfn, and moatd -q's.
 */
int	path_has_no_links(int rootfd, const char *path);
struct ctab;
/*
 * worker.c: the client block a connection's facts (who, as a relay sends
 * them) select among n (-1: none; -2: who does not decode), the watcher's
 * container table t giving containers' names and labels and TCP peers'
 * containers; *used when it was consulted (the verdict is then not to be
 * kept by a relay).
 */
int	worker_select_client(const struct child_rules *, size_t n,
	    const struct ctab *t, const void *who, size_t wholen, int *used);
#ifdef MOATD_EVIL
/* regress/evil.c: a relay taken over (build-evil/moatd-evil only) */
void	evil_start(struct event_base *, struct chan *, struct chan *,
	    struct chan *);
int	evil_ca_raw(void);
int	evil_ca_known(void);
#endif
/* forwarder.c */
__attribute__((__noreturn__)) void	fwd_main(const struct moat_config *, int instance);
/* watcher.c */
__attribute__((__noreturn__)) void	watcher_main(const struct moat_config *,
	    int instance);
/* Fill a fresh configuration as at start (file, environment, command
 * line); 0, or -1 with the errors logged. */
typedef int	(*moat_reload_fn)(struct moat_config *);
int	parent_main(struct moat_config *, moat_reload_fn);
/* learnfile.c: moatd -learn-from; the exit status. */
int	learn_from(const char *logfile);

#endif /* MOATD_H */
