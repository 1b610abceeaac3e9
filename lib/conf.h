/*
 * conf: /etc/sendq.conf, read with libconfuse into a validated,
 * read-only struct conf.
 *
 * Invariants: after conf_load() succeeds every field holds a valid value
 * (enumerations decoded, durations in seconds, sizes in bytes, every
 * account has at least one host, fingerprints decoded to 32 bytes); the
 * struct is then only read.  conf.c is the only file that includes
 * <confuse.h>.
 *
 * Security: the struct may hold a password.  conf_free() wipes it before
 * freeing.  No error message ever quotes the value of password,
 * password_file contents or password_command.
 */
#ifndef SENDQ_CONF_H
#define SENDQ_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf_account.h"	/* which account a message uses */

#define CONF_DEFAULT_PATH "/etc/sendq.conf"

/* The daemon's socket when the file names none (GNUmakefile: RUNDIR). */
#ifndef SENDQ_SOCKET_PATH
#define SENDQ_SOCKET_PATH "/run/sendq/sendq.sock"
#endif

/* The largest values of an account's pool and pace keys. */
#define CONF_MAX_CONNECTIONS	100
#define CONF_MAX_COUNT		1000000	/* max_messages_per_connection,
					 * max_recipients, rate's N */

enum conf_delivery {
	CONF_DELIVERY_BACKGROUND,
	CONF_DELIVERY_INTERACTIVE,
	CONF_DELIVERY_QUEUE,
};

enum conf_bounce {
	CONF_BOUNCE_SENDER,
	CONF_BOUNCE_POSTMASTER,
	CONF_BOUNCE_NONE,
};

enum conf_log {
	CONF_LOG_SYSLOG,
	CONF_LOG_STDERR,
	CONF_LOG_FILE,		/* conf.log_file names it */
};

#define CONF_OAUTH2_DIR	"/var/lib/sendq/oauth2"

enum conf_tls {
	CONF_TLS_STARTTLS,
	CONF_TLS_IMPLICIT,
	CONF_TLS_OPPORTUNISTIC,
	CONF_TLS_NONE,
};

enum conf_auth {
	CONF_AUTH_AUTO,
	CONF_AUTH_NONE,
	CONF_AUTH_PLAIN,
	CONF_AUTH_LOGIN,
	CONF_AUTH_CRAM_MD5,
	CONF_AUTH_SCRAM_SHA_1,
	CONF_AUTH_SCRAM_SHA_256,
	CONF_AUTH_XOAUTH2,
	CONF_AUTH_OAUTHBEARER,
	CONF_AUTH_EXTERNAL,
};

/* One entry of an account's host list: "name", "name:port",
 * "[v6addr]" or "[v6addr]:port".  Without a port: 465 for
 * tls = implicit, else 25. */
/* oauth2_provider: the token endpoints and scope (lib/oauth2.c). */
enum conf_oauth2 {
	CONF_OAUTH2_NONE,
	CONF_OAUTH2_MICROSOFT,
	CONF_OAUTH2_GOOGLE,
	CONF_OAUTH2_CUSTOM,
};

struct conf_host {
	char		*name;		/* host name or IP literal, no brackets */
	char		*port;		/* decimal port number as a string */
};

struct conf_account {
	char		*name;
	struct conf_host *hosts;
	size_t		 nhosts;	/* >= 1 */
	enum conf_tls	 tls;
	bool		 tls_verify;
	char		*tls_ca_file;	/* NULL: the system store */
	bool		 has_fingerprint;
	unsigned char	 tls_fingerprint[32];	/* SHA-256, when has_fingerprint */
	char		*tls_cert_file;	/* NULL when unset */
	char		*tls_key_file;	/* NULL when unset */
	int		 tls_min_version;	/* 10, 11, 12 or 13 (TLS 1.x) */
	enum conf_auth	 auth;
	char		*user;		/* NULL when unset */
	char		*password;	/* NULL when unset; secret */
	char		*password_file;	/* NULL when unset */
	char		*password_command;	/* NULL when unset */
	/* OAuth2 (SPEC "Providers"): with a provider, the SASL token is
	 * an access token that sendq gets and refreshes itself. */
	enum conf_oauth2 oauth2_provider;
	char		*oauth2_client_id;	/* NULL when unset */
	char		*oauth2_client_secret;	/* NULL when unset; secret */
	char		*oauth2_client_secret_file;	/* NULL when unset */
	char		*oauth2_tenant;	/* microsoft: "common" when unset */
	char		*oauth2_scope;	/* NULL: the provider's */
	char		*oauth2_token_url;	/* NULL: the provider's */
	char		*oauth2_device_url;	/* NULL: the provider's, if any */
	char		*oauth2_auth_url;	/* NULL: the provider's */
	char		*oauth2_ca_file;	/* NULL: the system store */
	char		*oauth2_token_file;	/* never NULL after conf_load */
	char	       **senders;	/* glob patterns, fnmatch(3) */
	size_t		 nsenders;
	char		*from;		/* NULL when unset */
	bool		 rewrite_header_from;
	unsigned	 timeout;	/* seconds, > 0 */
	/* The daemon's pool of sessions (SPEC "Delivery engine"). */
	unsigned	 max_connections;	/* 1 .. CONF_MAX_CONNECTIONS */
	unsigned	 idle_timeout;	/* seconds, > 0 */
	unsigned	 max_messages_per_connection;	/* 0 = no limit */
	/* Recipients per transaction, in every delivery: more are split. */
	unsigned	 max_recipients;	/* 1 .. CONF_MAX_COUNT */
	unsigned	 rate_count;	/* messages per period; 0 = no pace */
	unsigned	 rate_period;	/* seconds: 60, 3600 or 86400 */
	unsigned	 line;		/* line of the account section, for messages */
};

struct conf_alias {
	char		*name;
	char	       **to;
	size_t		 nto;		/* >= 1 */
};

struct conf {
	char		*path;		/* the file read, or the path that was missing */
	bool		 from_file;	/* false: built-in defaults (file missing) */
	char		*hostname;	/* never NULL after conf_load */
	char		*domain;	/* never NULL after conf_load */
	char		*queue_dir;
	enum conf_delivery delivery;
	unsigned	 interactive_timeout;	/* seconds */
	unsigned	 retry_min;	/* seconds */
	unsigned	 retry_max;	/* seconds, >= retry_min */
	unsigned	 max_queue_time;	/* seconds */
	uint64_t	 max_message_size;	/* bytes; 0 = no limit */
	enum conf_bounce bounce;
	char		*postmaster;
	bool		 allow_from_override;
	unsigned	 rate_limit_count;	/* 0 = no limit */
	unsigned	 rate_limit_period;	/* seconds: 60, 3600 or 86400 */
	char		*aliases_file;	/* NULL for "" */
	struct conf_alias *aliases;
	size_t		 naliases;
	enum conf_log	 log;
	char		*log_file;	/* when log == CONF_LOG_FILE */
	char		*socket;	/* the daemon's: an absolute path that
					 * fits sun_path; never NULL */
	/* Monitoring (notify.h): the program run on events, NULL for
	 * none; at most one run per kind and account per notify_interval;
	 * a queue_age event past queue_age_alert (seconds, > 0). */
	char		*notify_command;
	unsigned	 notify_interval;
	unsigned	 queue_age_alert;
	struct conf_account *accounts;
	size_t		 naccounts;	/* >= 1: built-in "default" when none */
};

/*
 * Read and validate the configuration at path.  A missing file (ENOENT)
 * yields the built-in defaults: one account "default" delivering to
 * localhost:25 with tls = opportunistic and auth = none.
 *
 * On success returns 0 and stores a new struct in *out (free it with
 * conf_free).  On failure returns -1 and writes a one-line message into
 * err (at most errlen bytes, NUL-terminated) of the form
 * "FILE:LINE: KEY: what is wrong" (or "FILE: what is wrong" when no line
 * applies, e.g. an unreadable file); *out is untouched.
 */
int	conf_load(const char *path, struct conf **out, char *err, size_t errlen);

/* Wipes secrets and frees.  Accepts NULL. */
void	conf_free(struct conf *conf);

/* Names for messages: "starttls", "plain", ... */
const char	*conf_tls_name(enum conf_tls);
const char	*conf_auth_name(enum conf_auth);

/* Opens the log that conf names (log_open()) under ident: a log file
 * that cannot be opened leaves syslog, and -1 with errno. */
int	conf_log_open(const struct conf *conf, const char *ident);

#endif
