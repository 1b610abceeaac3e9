/*
 * conf: read /etc/sendq.conf with libconfuse, check every value and copy
 * the result into a struct conf that the rest of sendq only reads.
 *
 * libconfuse parses the file once conftext_prepare() has blanked its
 * comments (then cfg->line is exact) and found what libconfuse leaves
 * open or names badly.  Each option's parse callback checks its value
 * once, where libconfuse meets it (hosts and fingerprints are parsed
 * there into what build() copies); what involves several keys is
 * checked after parsing, with the lines the callbacks noted.  Of the
 * pre-pass's first mistake and libconfuse's, the earlier is reported.
 *
 * Invariants: only this file includes <confuse.h>; libconfuse keeps
 * global lexer state, so conf_load() is not reentrant.  A returned
 * struct conf is complete and valid (see conf.h); nothing is half-built
 * on failure.
 *
 * Security: the file may hold a password.  No message quotes the value of
 * password or password_command, nor a word that may be part of one.  The
 * file buffer and libconfuse's copy of the password are wiped before they
 * are freed; conf_free() wipes ours.  libconfuse's lexer buffers are
 * freed without wiping: that is beyond our reach.  libconfuse expands
 * ${NAME} from the environment in unquoted and double-quoted values, and
 * the set-group-ID sendmail's environment is its caller's (TZ is kept):
 * the file is parsed with an empty environment (parse_sealed()), so no
 * value can take anything from it and the file means the same whoever
 * reads it; single quotes keep a literal "${".
 */
#include "conf.h"

#ifndef SENDQ_SPOOLDIR
#define SENDQ_SPOOLDIR	"/var/spool/sendq"
#endif

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <confuse.h>

#include "buf.h"
#include "conftext.h"
#include "confval.h"
#include "log.h"
#include "util.h"

#define CONF_MAX_FILE	(1024 * 1024)	/* a config file is small */
#define CONF_BUILTIN_ACCOUNT \
	"account default { host = localhost:25 tls = opportunistic " \
	"auth = none }"
#define MSGLEN		512

struct optline {		/* where an option was last set */
	const cfg_t	*sec;
	const char	*key;
	unsigned	 line;
};

struct lctx {
	struct buf	 text;		/* the file, comments blanked */
	struct conftext	 ct;		/* what the pre-pass found */
	struct optline	*opts;
	size_t		 nopts, aopts;
	const char	*last_key;	/* the latest value's option... */
	unsigned	 last_line;	/* ...and the line it ends on */
	unsigned	 line;		/* of the error in msg, 0 for none */
	char		 msg[MSGLEN];	/* libconfuse's, a callback's... */
	bool		 failed, oom;
	bool		 syntax;	/* msg is libconfuse's syntax error */
};

/* libconfuse's callbacks have no user pointer. */
static struct lctx *lc_cur;

/* Notes the first error, "KEY: what" at line (0: none); returns -1. */
static int
fail(const char *key, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(const char *key, unsigned line, const char *fmt, ...)
{
	struct lctx	*lc = lc_cur;
	char		 what[MSGLEN];
	va_list		 ap;

	if (lc->failed)
		return -1;
	va_start(ap, fmt);
	if (vsnprintf(what, sizeof(what), fmt, ap) < 0)
		what[0] = '\0';
	va_end(ap);
	/* A cut is harmless in a message. */
	if (snprintf(lc->msg, sizeof(lc->msg), "%s%s%s", key != NULL ? key :
	    "", key != NULL ? ": " : "", what) < 0)
		lc->msg[0] = '\0';
	lc->failed = true;
	lc->line = line;
	return -1;
}

static int
oom(void)
{
	lc_cur->oom = true;
	return -1;
}

/* "FILE:LINE: what" or "FILE: what", with no control character: it is
 * shown on terminals and in logs. */
static void
final_error(const char *path, unsigned line, const char *what, char *err,
    size_t errlen)
{
	char	*p;
	int	 n;

	if (line > 0)
		n = snprintf(err, errlen, "%s:%u: %s", path, line, what);
	else
		n = snprintf(err, errlen, "%s: %s", path, what);
	if (n < 0)
		snprintf(err, errlen, "configuration error");
	for (p = err; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
}

/* ------------------------------------------------------------------ */
/* Parse callbacks: every option has one */

/*
 * Notes where the value of opt lies (libconfuse is on the line the value
 * ends on) and returns that line; 0 when opt is not one of cfg's own (a
 * key such as "account=a|user" names another section's), when the
 * value holds a control character, or when memory ran out.
 */
static unsigned
value_line(cfg_t *cfg, cfg_opt_t *opt, const char *value)
{
	struct lctx	*lc = lc_cur;
	unsigned	 line = cfg->line, i;
	const char	*why;
	void		*np;

	for (i = 0; cfg->opts[i].name != NULL && &cfg->opts[i] != opt; i++)
		;
	if (cfg->opts[i].name == NULL) {
		fail(opt->name, line, "unknown key here");
		return 0;
	}
	lc->last_key = opt->name;
	lc->last_line = line;
	line = conftext_start_line(line, value);
	/* Nor is a value that spans lines quoted. */
	if ((why = confval_string(NULL, value, NULL, 0)) != NULL) {
		fail(opt->name, line, "%s", why);
		return 0;
	}
	for (i = 0; i < lc->nopts; i++)
		if (lc->opts[i].sec == cfg &&
		    strcmp(lc->opts[i].key, opt->name) == 0)
			break;
	if (i == lc->nopts && lc->nopts == lc->aopts) {
		if ((np = reallocarray(lc->opts, lc->aopts + 32,
		    sizeof(*lc->opts))) == NULL) {
			oom();
			return 0;
		}
		lc->opts = np;
		lc->aopts += 32;
	}
	lc->opts[i] = (struct optline){ cfg, opt->name, line };
	lc->nopts += i == lc->nopts;
	return line;
}

static unsigned
line_of(const cfg_t *sec, const char *key)
{
	struct lctx	*lc = lc_cur;
	size_t		 i;

	for (i = 0; i < lc->nopts; i++)
		if (lc->opts[i].sec == sec && strcmp(lc->opts[i].key, key) == 0)
			return lc->opts[i].line;
	return 0;
}

/* Durations and sizes. */
static int
cb_scaled(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	unsigned long long	 v;
	unsigned		 line;
	bool			 dur;

	if ((line = value_line(cfg, opt, value)) == 0)
		return -1;
	dur = strcmp(opt->name, "max_message_size") != 0;
	if (util_parse_scaled(value, dur ? UTIL_SECONDS : UTIL_BYTES,
	    dur ? UINT_MAX : LONG_MAX, &v) == -1)
		return fail(opt->name, line, errno == ERANGE ?
		    "\"%.80s\" is too large" : dur ? "\"%.80s\" is not a "
		    "duration (a number with s, m, h or d)" : "\"%.80s\" is "
		    "not a size (a number with K, M or G)", value);
	if (dur && v == 0)
		return fail(opt->name, line, "must be greater than zero");
	*(long *)result = (long)v;
	return 0;
}

/* Whole numbers, each in its range. */
static int
cb_count(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	long		min = 0, max = 0;
	unsigned	line;

	if ((line = value_line(cfg, opt, value)) == 0)
		return -1;
	if (confval_count(opt->name, value, result, &min, &max) == -1)
		return fail(opt->name, line, "\"%.80s\" is not a whole number "
		    "from %ld to %ld", value, min, max);
	return 0;
}

/* Keywords and booleans. */
static int
cb_keyword(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	const char	*what = "valid";
	unsigned	 line;

	if ((line = value_line(cfg, opt, value)) == 0)
		return -1;
	if (confval_keyword(opt->name, value, result, &what) == -1)
		return fail(opt->name, line, "\"%.80s\" is not %s", value,
		    what);
	return 0;
}

static int
cb_string(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	char		 buf[MSGLEN];
	const char	*why;
	unsigned	 line;

	if ((line = value_line(cfg, opt, value)) == 0)
		return -1;
	if ((why = confval_string(opt->name, value, buf, sizeof(buf))) != NULL)
		return fail(opt->name, line, "%s", why);
	*(const char **)result = value;
	return 0;
}

/* A copy of data as the value of a pointer option. */
static int
keep_copy(const void *data, size_t len, void *result)
{
	void *p;

	if ((p = malloc(len)) == NULL)
		return oom();
	memcpy(p, data, len);
	*(void **)result = p;
	return 0;
}

/* rate_limit and rate: { count, period }, or none for "0"; an
 * account's pace is at most CONF_MAX_COUNT. */
static int
cb_rate(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	unsigned	line, r[2];

	if ((line = value_line(cfg, opt, value)) == 0)
		return -1;
	if (confval_rate(value, &r[0], &r[1]) == -1)
		return fail(opt->name, line, "\"%.80s\" is not \"0\", \"N/m\", "
		    "\"N/h\" or \"N/d\"", value);
	if (r[0] > CONF_MAX_COUNT && strcmp(opt->name, "rate") == 0)
		return fail(opt->name, line, "\"%.80s\": N must not exceed %d",
		    value, CONF_MAX_COUNT);
	*(void **)result = NULL;
	return r[0] == 0 ? 0 : keep_copy(r, sizeof(r), result);
}

static int
cb_fingerprint(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	unsigned char	fp[32];
	unsigned	line;

	if ((line = value_line(cfg, opt, value)) == 0)
		return -1;
	*(void **)result = NULL;
	if (value[0] == '\0')
		return 0;
	if (confval_fingerprint(value, fp) == -1)
		return fail(opt->name, line, "must be \"sha256:\" and 64 "
		    "hexadecimal digits (colons between bytes allowed)");
	return keep_copy(fp, sizeof(fp), result);
}

static void
free_host(void *p)
{
	struct conf_host *h = p;

	if (h != NULL) {
		free(h->name);
		free(h->port);
		free(h);
	}
}

static int
cb_host(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	struct conf_host	*h;
	const char		*why;
	unsigned		 line;
	int			 rc;

	if ((line = value_line(cfg, opt, value)) == 0)
		return -1;
	if ((h = calloc(1, sizeof(*h))) == NULL ||
	    (rc = confval_host(value, h, &why)) == -2) {
		free_host(h);
		return oom();
	}
	if (rc == -1) {
		free_host(h);
		return fail(opt->name, line, "\"%.80s\": %s", value, why);
	}
	*(void **)result = h;
	return 0;
}

/* ------------------------------------------------------------------ */
/* The option table */

static cfg_opt_t alias_opts[] = {
	CFG_STR_LIST_CB("to", NULL, CFGF_NONE, cb_string),
	CFG_END()
};

static cfg_opt_t account_opts[] = {
	CFG_PTR_LIST_CB("host", NULL, CFGF_NONE, cb_host, free_host),
	CFG_INT_CB("tls", CONF_TLS_STARTTLS, CFGF_NONE, cb_keyword),
	CFG_INT_CB("tls_verify", 1, CFGF_NONE, cb_keyword),
	CFG_STR_CB("tls_ca_file", "", CFGF_NONE, cb_string),
	CFG_PTR_CB("tls_fingerprint", NULL, CFGF_NONE, cb_fingerprint, free),
	CFG_STR_CB("tls_cert_file", "", CFGF_NONE, cb_string),
	CFG_STR_CB("tls_key_file", "", CFGF_NONE, cb_string),
	CFG_INT_CB("tls_min_version", 12, CFGF_NONE, cb_keyword),
	CFG_INT_CB("auth", CONF_AUTH_AUTO, CFGF_NONE, cb_keyword),
	CFG_STR_CB("user", "", CFGF_NONE, cb_string),
	CFG_STR_CB("password", "", CFGF_NONE, cb_string),
	CFG_STR_CB("password_file", "", CFGF_NONE, cb_string),
	CFG_STR_CB("password_command", "", CFGF_NONE, cb_string),
	CFG_INT_CB("oauth2_provider", CONF_OAUTH2_NONE, CFGF_NONE, cb_keyword),
	CFG_STR_CB("oauth2_client_id", "", CFGF_NONE, cb_string),
	CFG_STR_CB("oauth2_client_secret", "", CFGF_NONE, cb_string),
	CFG_STR_CB("oauth2_client_secret_file", "", CFGF_NONE, cb_string),
	CFG_STR_CB("oauth2_tenant", "", CFGF_NONE, cb_string),
	CFG_STR_CB("oauth2_scope", "", CFGF_NONE, cb_string),
	CFG_STR_CB("oauth2_token_url", "", CFGF_NONE, cb_string),
	CFG_STR_CB("oauth2_device_url", "", CFGF_NONE, cb_string),
	CFG_STR_CB("oauth2_auth_url", "", CFGF_NONE, cb_string),
	CFG_STR_CB("oauth2_ca_file", "", CFGF_NONE, cb_string),
	CFG_STR_CB("oauth2_token_file", "", CFGF_NONE, cb_string),
	CFG_STR_LIST_CB("senders", NULL, CFGF_NONE, cb_string),
	CFG_STR_CB("from", "", CFGF_NONE, cb_string),
	CFG_INT_CB("rewrite_header_from", 0, CFGF_NONE, cb_keyword),
	CFG_INT_CB("timeout", 60, CFGF_NONE, cb_scaled),
	CFG_INT_CB("max_connections", 2, CFGF_NONE, cb_count),
	CFG_INT_CB("idle_timeout", 5, CFGF_NONE, cb_scaled),
	CFG_INT_CB("max_messages_per_connection", 100, CFGF_NONE, cb_count),
	CFG_INT_CB("max_recipients", 100, CFGF_NONE, cb_count),
	CFG_PTR_CB("rate", NULL, CFGF_NONE, cb_rate, free),
	CFG_END()
};

static cfg_opt_t root_opts[] = {
	CFG_STR_CB("hostname", "", CFGF_NONE, cb_string),
	CFG_STR_CB("domain", "", CFGF_NONE, cb_string),
	CFG_STR_CB("queue_dir", SENDQ_SPOOLDIR, CFGF_NONE, cb_string),
	CFG_INT_CB("delivery", CONF_DELIVERY_BACKGROUND, CFGF_NONE, cb_keyword),
	CFG_INT_CB("interactive_timeout", 30, CFGF_NONE, cb_scaled),
	CFG_INT_CB("retry_min", 60, CFGF_NONE, cb_scaled),
	CFG_INT_CB("retry_max", 3600, CFGF_NONE, cb_scaled),
	CFG_INT_CB("max_queue_time", 5 * 86400, CFGF_NONE, cb_scaled),
	CFG_INT_CB("max_message_size", 50L * 1024 * 1024, CFGF_NONE,
	    cb_scaled),
	CFG_INT_CB("bounce", CONF_BOUNCE_SENDER, CFGF_NONE, cb_keyword),
	CFG_STR_CB("postmaster", "root", CFGF_NONE, cb_string),
	CFG_INT_CB("allow_from_override", 1, CFGF_NONE, cb_keyword),
	CFG_PTR_CB("rate_limit", NULL, CFGF_NONE, cb_rate, free),
	CFG_STR_CB("aliases_file", "/etc/aliases", CFGF_NONE, cb_string),
	CFG_SEC("alias", alias_opts,
	    CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
	CFG_STR_CB("log", "syslog", CFGF_NONE, cb_string),
	CFG_STR_CB("socket", SENDQ_SOCKET_PATH, CFGF_NONE, cb_string),
	CFG_STR_CB("notify_command", "", CFGF_NONE, cb_string),
	CFG_INT_CB("notify_interval", 3600, CFGF_NONE, cb_scaled),
	CFG_INT_CB("queue_age_alert", 3600, CFGF_NONE, cb_scaled),
	CFG_SEC("account", account_opts,
	    CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
	CFG_END()
};

static const cfg_opt_t *
opt_in(const cfg_opt_t *opts, const char *name, size_t len)
{
	for (; opts->name != NULL; opts++)
		if (strlen(opts->name) == len &&
		    memcmp(opts->name, name, len) == 0)
			return opts;
	return NULL;
}

/* The keys of a section, for the pre-pass (conftext_key_fn). */
static const char *
key_in(const char *section, const char *name, size_t len,
    enum conftext_kind *kind)
{
	const cfg_opt_t *o, *opts = root_opts;

	if (section != NULL && (o = opt_in(root_opts, section,
	    strlen(section))) != NULL && o->subopts != NULL)
		opts = o->subopts;
	if ((o = opt_in(opts, name, len)) == NULL)
		return NULL;
	*kind = o->type == CFGT_SEC ? CONFTEXT_SECTION :
	    o->flags & CFGF_LIST ? CONFTEXT_LIST : CONFTEXT_VALUE;
	return o->name;
}

/* ------------------------------------------------------------------ */
/* libconfuse's own complaints, in our words */

static void
unknown_key(cfg_t *cfg, const char *name, unsigned line)
{
	struct lctx	*lc = lc_cur;
	size_t		 len = strlen(name);
	bool		 root = strcmp(cfg_name(cfg), "root") == 0;

	line = conftext_start_line(line, name);
	/* More words after a password on its line: they are part of it.
	 * A quote left open before it makes libconfuse read "password ="
	 * as the end of a string, and the password as a key. */
	if (lc->last_line == line && (strcmp(lc->last_key, "password") == 0 ||
	    strcmp(lc->last_key, "password_command") == 0))
		fail(lc->last_key, line, "the value must be a single quoted "
		    "string");
	else if (strchr(name, '\n') != NULL ||
	    conftext_secret_line(buf_str(&lc->text), line))
		fail(NULL, line, "unknown key (not shown: it may be part of a "
		    "password)");
	else
		fail(NULL, line, "%.80s: unknown key%s", name,
		    root && opt_in(account_opts, name, len) != NULL ? " here "
		    "(it belongs in an account section)" : !root &&
		    opt_in(root_opts, name, len) != NULL ? " inside a section" :
		    "");
}

/* The line of libconfuse's nth section of that key. */
static unsigned
section_line(cfg_t *cfg, const char *key, unsigned nth)
{
	return conftext_section_line(&lc_cur->ct, key, nth,
	    cfg_size(cfg, key));
}

/* libconfuse met a second section of one name: which, and the first. */
static void
duplicate_title(cfg_t *cfg, const char *title)
{
	const struct conftext	*ct = &lc_cur->ct;
	size_t			 nth = cfg_size(cfg, "account") +
	    cfg_size(cfg, "alias");
	const char		*key;
	unsigned		 i, n;

	if (nth >= ct->nsects) {
		fail(NULL, 0, "duplicate name \"%.80s\"", title);
		return;
	}
	key = ct->sects[nth].key;
	n = cfg_size(cfg, key);
	for (i = 0; i < n; i++)
		if (strcmp(cfg_title(cfg_getnsec(cfg, key, i)), title) == 0)
			break;
	fail(key, ct->sects[nth].line, "duplicate name \"%.80s\" (first at "
	    "line %u)", title, section_line(cfg, key, i));
}

/* Its messages quote option names but for a stray word, not shown. */
static void
cb_error(cfg_t *cfg, const char *fmt, va_list ap)
{
	unsigned	 line = cfg != NULL ? cfg->line : 0;
	const char	*arg = strstr(fmt, "%s") != NULL ?
	    va_arg(ap, const char *) : "";

	if (lc_cur == NULL || cfg == NULL)
		return;
	if (!lc_cur->failed)
		lc_cur->syntax = strcmp(fmt, "premature end of file") != 0;
	if (strcmp(fmt, "no such option '%s'") == 0)
		unknown_key(cfg, arg, line);
	else if (strncmp(fmt, "no sub-section", 14) == 0)
		fail(NULL, line, "unknown key");
	else if (strcmp(fmt, "found duplicate title '%s'") == 0)
		duplicate_title(cfg, arg);
	else if (strcmp(fmt, "unexpected closing brace") == 0)
		fail(NULL, line, "unexpected '}'");
	else if (strcmp(fmt, "unexpected token '%s'") == 0 &&
	    strlen(arg) == 1 && strchr("={},()", arg[0]) != NULL)
		fail(NULL, line, "unexpected '%s'", arg);
	else if (strcmp(fmt, "attempt to append to non-list option '%s'") == 0)
		fail(arg, line, "'+=' applies only to lists");
	else if (strcmp(fmt, "missing equal sign after option '%s'") == 0)
		fail(arg, line, "expected '=' after the key");
	else if (strcmp(fmt, "missing title for section '%s'") == 0)
		fail(arg, line, "expected a name after \"%s\"", arg);
	else if (strcmp(fmt, "missing opening brace for section '%s'") == 0)
		fail(arg, line, "expected '{' after the name");
	else if (strcmp(fmt, "premature end of file") == 0)
		/* Not before the pre-pass's mistake, where it stopped. */
		fail(NULL, lc_cur->ct.line != 0 ? lc_cur->ct.line :
		    lc_cur->ct.last_line, "the file ends inside a setting");
	else if (strncmp(fmt, "bad escape", 10) == 0 ||
	    strncmp(fmt, "invalid octal", 13) == 0)
		fail(NULL, line, "bad escape sequence in a string");
	else
		fail(NULL, line, "syntax error");
}

/* ------------------------------------------------------------------ */
/* After parsing: build the struct and check what spans several keys */

/* NULL for "", else a copy; -1 on allocation failure. */
static int
dup_opt(cfg_t *sec, const char *key, char **out)
{
	const char *v = cfg_getstr(sec, key);

	if (v[0] != '\0' && (*out = strdup(v)) == NULL)
		return -1;
	return 0;
}

static int
dup_list(cfg_t *sec, const char *key, char ***out, size_t *nout)
{
	unsigned	n = cfg_size(sec, key), i;

	if (n == 0)
		return 0;
	if ((*out = calloc(n, sizeof(**out))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		if (((*out)[i] = strdup(cfg_getnstr(sec, key, i))) == NULL)
			return -1;
		*nout = i + 1;
	}
	return 0;
}

/* The hosts libconfuse holds; without a port, the TLS mode's. */
static int
copy_hosts(cfg_t *sec, struct conf_account *a)
{
	const struct conf_host	*h;
	const char		*port;
	unsigned		 i, n = cfg_size(sec, "host");

	if ((a->hosts = calloc(n, sizeof(*a->hosts))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		h = cfg_getnptr(sec, "host", i);
		port = h->port != NULL ? h->port :
		    a->tls == CONF_TLS_IMPLICIT ? "465" : "25";
		a->nhosts = i + 1;
		if ((a->hosts[i].name = strdup(h->name)) == NULL ||
		    (a->hosts[i].port = strdup(port)) == NULL)
			return -1;
	}
	return 0;
}

/* The password source, its key and line; more than one is a mistake,
 * the later one. */
static int
password_source(cfg_t *sec, const char **key, unsigned *line)
{
	static const char	*keys[] = {
		"password", "password_file", "password_command"
	};
	unsigned		 i, l, n = 0;

	for (i = 0; i < NELEM(keys); i++) {
		if (cfg_getstr(sec, keys[i])[0] == '\0')
			continue;
		l = line_of(sec, keys[i]);
		if (n++ == 0 || l > *line) {
			*line = l;
			*key = keys[i];
		}
	}
	if (n > 1)
		return fail(*key, *line, "only one of password, password_file "
		    "and password_command may be set");
	return (int)n;
}

static int
copy_oauth2(cfg_t *sec, struct conf_account *a)
{
	if (dup_opt(sec, "oauth2_client_id", &a->oauth2_client_id) == -1 ||
	    dup_opt(sec, "oauth2_client_secret", &a->oauth2_client_secret) ==
	    -1 || dup_opt(sec, "oauth2_client_secret_file",
	    &a->oauth2_client_secret_file) == -1 ||
	    dup_opt(sec, "oauth2_tenant", &a->oauth2_tenant) == -1 ||
	    dup_opt(sec, "oauth2_scope", &a->oauth2_scope) == -1 ||
	    dup_opt(sec, "oauth2_token_url", &a->oauth2_token_url) == -1 ||
	    dup_opt(sec, "oauth2_device_url", &a->oauth2_device_url) == -1 ||
	    dup_opt(sec, "oauth2_auth_url", &a->oauth2_auth_url) == -1 ||
	    dup_opt(sec, "oauth2_ca_file", &a->oauth2_ca_file) == -1 ||
	    dup_opt(sec, "oauth2_token_file", &a->oauth2_token_file) == -1)
		return -1;
	if (a->oauth2_token_file == NULL && asprintf(&a->oauth2_token_file,
	    "%s/%s", CONF_OAUTH2_DIR, a->name) == -1) {
		a->oauth2_token_file = NULL;
		return -1;
	}
	if (a->oauth2_provider == CONF_OAUTH2_MICROSOFT &&
	    a->oauth2_tenant == NULL &&
	    (a->oauth2_tenant = strdup("common")) == NULL)
		return -1;
	return 0;
}

/* The first oauth2_ key that is set, or NULL. */
static const char *
oauth2_key_set(cfg_t *sec)
{
	static const char	*keys[] = {
		"oauth2_client_id", "oauth2_client_secret",
		"oauth2_client_secret_file", "oauth2_tenant", "oauth2_scope",
		"oauth2_token_url", "oauth2_device_url", "oauth2_auth_url",
		"oauth2_ca_file", "oauth2_token_file"
	};
	size_t			 i;

	for (i = 0; i < NELEM(keys); i++)
		if (cfg_getstr(sec, keys[i])[0] != '\0')
			return keys[i];
	return NULL;
}

/* An OAuth2 account: a mechanism that carries a token, a client, and
 * for custom the endpoints; no password. */
static int
check_oauth2(cfg_t *sec, const struct conf_account *a, int npw,
    const char *pwkey, unsigned pwline)
{
	unsigned	 l = line_of(sec, "oauth2_provider");
	const char	*k;

	if (a->oauth2_provider == CONF_OAUTH2_NONE) {
		if ((k = oauth2_key_set(sec)) != NULL)
			return fail(k, line_of(sec, k), "needs oauth2_provider");
		return 1;
	}
	if (a->auth != CONF_AUTH_AUTO && a->auth != CONF_AUTH_XOAUTH2 &&
	    a->auth != CONF_AUTH_OAUTHBEARER)
		return fail("oauth2_provider", l, "needs auth = xoauth2, "
		    "oauthbearer or auto, not %s", conf_auth_name(a->auth));
	if (npw > 0)
		return fail(pwkey, pwline, "cannot be set with "
		    "oauth2_provider: the token is the secret");
	if (a->user == NULL)
		return fail("oauth2_provider", l, "needs user (the mailbox "
		    "to send as)");
	if (a->oauth2_client_id == NULL)
		return fail("oauth2_provider", l, "needs oauth2_client_id");
	if (a->oauth2_client_secret != NULL &&
	    a->oauth2_client_secret_file != NULL)
		return fail("oauth2_client_secret_file",
		    line_of(sec, "oauth2_client_secret_file"), "only one of "
		    "oauth2_client_secret and oauth2_client_secret_file may "
		    "be set");
	if (a->oauth2_provider != CONF_OAUTH2_CUSTOM)
		return 0;
	if (a->oauth2_token_url == NULL)
		return fail("oauth2_provider", l, "custom needs "
		    "oauth2_token_url");
	if (a->oauth2_scope == NULL)
		return fail("oauth2_provider", l, "custom needs oauth2_scope");
	if (a->oauth2_device_url == NULL && a->oauth2_auth_url == NULL)
		return fail("oauth2_provider", l, "custom needs "
		    "oauth2_device_url or oauth2_auth_url (for sendq oauth2 "
		    "login)");
	return 0;
}

/* What the keys of an account say together. */
static int
check_account(cfg_t *sec, const struct conf_account *a)
{
	const char	*pwkey = NULL, *set;
	unsigned	 l, pwline = 0;
	int		 npw, r;

	if (a->has_fingerprint && a->tls == CONF_TLS_NONE)
		return fail("tls_fingerprint", line_of(sec, "tls_fingerprint"),
		    "needs TLS, but tls is none");
	if ((npw = password_source(sec, &pwkey, &pwline)) == -1)
		return -1;
	if ((a->tls_cert_file == NULL) != (a->tls_key_file == NULL)) {
		set = a->tls_cert_file ? "tls_cert_file" : "tls_key_file";
		return fail(set, line_of(sec, set), "needs %s too",
		    a->tls_cert_file ? "tls_key_file" : "tls_cert_file");
	}
	if ((r = check_oauth2(sec, a, npw, pwkey, pwline)) != 1)
		return r;
	if ((l = line_of(sec, "auth")) == 0)
		l = a->line;
	if (a->auth == CONF_AUTH_EXTERNAL && a->tls_cert_file == NULL)
		return fail("auth", l, "external needs a client certificate "
		    "(tls_cert_file and tls_key_file)");
	if (a->auth == CONF_AUTH_EXTERNAL && a->tls == CONF_TLS_NONE)
		return fail("auth", l, "external needs TLS, but tls is none");
	if (a->auth == CONF_AUTH_EXTERNAL || a->auth == CONF_AUTH_NONE)
		return 0;
	if (npw > 0 && a->user == NULL)
		return fail(pwkey, pwline, "user must be set too");
	if (npw == 0 && a->auth != CONF_AUTH_AUTO)
		return fail("auth", l, "%s needs password, password_file or "
		    "password_command", conf_auth_name(a->auth));
	if (npw == 0 && a->user != NULL)
		return fail("user", line_of(sec, "user"), "needs password, "
		    "password_file or password_command");
	return 0;
}

static int
build_account(cfg_t *sec, unsigned line, struct conf_account *a)
{
	const unsigned char	*fp = cfg_getptr(sec, "tls_fingerprint");
	const unsigned		*rate = cfg_getptr(sec, "rate");
	const char		*title = cfg_title(sec), *why;

	a->line = line;
	if (title == NULL)
		title = "";
	if ((why = confval_string("account", title, NULL, 0)) != NULL)
		return fail("account", line, "%s", why);
	if (cfg_size(sec, "host") == 0)
		return fail("account", line, "\"%s\" has no host", title);
	a->tls = (enum conf_tls)cfg_getint(sec, "tls");
	a->tls_verify = cfg_getint(sec, "tls_verify") != 0;
	a->tls_min_version = (int)cfg_getint(sec, "tls_min_version");
	a->auth = (enum conf_auth)cfg_getint(sec, "auth");
	a->rewrite_header_from = cfg_getint(sec, "rewrite_header_from") != 0;
	a->oauth2_provider = (enum conf_oauth2)cfg_getint(sec,
	    "oauth2_provider");
	a->timeout = (unsigned)cfg_getint(sec, "timeout");
	a->max_connections = (unsigned)cfg_getint(sec, "max_connections");
	a->idle_timeout = (unsigned)cfg_getint(sec, "idle_timeout");
	a->max_messages_per_connection = (unsigned)cfg_getint(sec,
	    "max_messages_per_connection");
	a->max_recipients = (unsigned)cfg_getint(sec, "max_recipients");
	a->rate_count = rate != NULL ? rate[0] : 0;
	a->rate_period = rate != NULL ? rate[1] : 60;
	if ((a->has_fingerprint = fp != NULL))
		memcpy(a->tls_fingerprint, fp, sizeof(a->tls_fingerprint));
	if ((a->name = strdup(title)) == NULL || copy_hosts(sec, a) == -1 ||
	    dup_opt(sec, "tls_ca_file", &a->tls_ca_file) == -1 ||
	    dup_opt(sec, "tls_cert_file", &a->tls_cert_file) == -1 ||
	    dup_opt(sec, "tls_key_file", &a->tls_key_file) == -1 ||
	    dup_opt(sec, "user", &a->user) == -1 ||
	    dup_opt(sec, "password", &a->password) == -1 ||
	    dup_opt(sec, "password_file", &a->password_file) == -1 ||
	    dup_opt(sec, "password_command", &a->password_command) == -1 ||
	    dup_opt(sec, "from", &a->from) == -1 || copy_oauth2(sec, a) == -1 ||
	    dup_list(sec, "senders", &a->senders, &a->nsenders) == -1)
		return oom();
	return check_account(sec, a);
}

static int
build_sections(cfg_t *cfg, struct conf *c)
{
	unsigned	 n = cfg_size(cfg, "alias"), i, l;
	const char	*t, *why;

	if (n > 0 && (c->aliases = calloc(n, sizeof(*c->aliases))) == NULL)
		return oom();
	for (i = 0; i < n; i++) {
		cfg_t			*sec = cfg_getnsec(cfg, "alias", i);
		struct conf_alias	*al = &c->aliases[i];

		l = section_line(cfg, "alias", i);
		t = cfg_title(sec) != NULL ? cfg_title(sec) : "";
		c->naliases = i + 1;
		if ((why = confval_string("alias", t, NULL, 0)) != NULL)
			return fail("alias", l, "%s", why);
		if ((al->name = strdup(t)) == NULL ||
		    dup_list(sec, "to", &al->to, &al->nto) == -1)
			return oom();
		if (al->nto == 0)
			return fail("alias", l, "\"%s\" has no target (to)", t);
	}
	/* Without an account, the built-in one, in the file's syntax. */
	if (cfg_size(cfg, "account") == 0 &&
	    cfg_parse_buf(cfg, CONF_BUILTIN_ACCOUNT) != CFG_SUCCESS)
		return oom();
	n = cfg_size(cfg, "account");
	if ((c->accounts = calloc(n, sizeof(*c->accounts))) == NULL)
		return oom();
	for (i = 0; i < n; i++) {
		c->naccounts = i + 1;
		if (build_account(cfg_getnsec(cfg, "account", i),
		    section_line(cfg, "account", i), &c->accounts[i]) == -1)
			return -1;
	}
	return 0;
}

static int
build(cfg_t *cfg, struct conf *c)
{
	const unsigned	*rate = cfg_getptr(cfg, "rate_limit");
	const char	*v, *why = NULL, *dot;

	v = cfg_getstr(cfg, "hostname");
	if (v[0] == '\0' &&
	    (c->hostname = confval_default_hostname(&why)) == NULL)
		return fail("hostname", 0, "%s", why);
	if (c->hostname == NULL && (c->hostname = strdup(v)) == NULL)
		return oom();
	if ((v = cfg_getstr(cfg, "domain"))[0] == '\0')
		v = (dot = strchr(c->hostname, '.')) != NULL ? dot + 1 :
		    c->hostname;
	if ((c->domain = strdup(v)) == NULL)
		return oom();
	v = cfg_getstr(cfg, "log");
	c->log = strcmp(v, "syslog") == 0 ? CONF_LOG_SYSLOG :
	    strcmp(v, "stderr") == 0 ? CONF_LOG_STDERR : CONF_LOG_FILE;
	if ((c->queue_dir = strdup(cfg_getstr(cfg, "queue_dir"))) == NULL ||
	    (c->postmaster = strdup(cfg_getstr(cfg, "postmaster"))) == NULL ||
	    (c->socket = strdup(cfg_getstr(cfg, "socket"))) == NULL ||
	    dup_opt(cfg, "aliases_file", &c->aliases_file) == -1 ||
	    dup_opt(cfg, "notify_command", &c->notify_command) == -1 ||
	    (c->log == CONF_LOG_FILE && (c->log_file = strdup(v)) == NULL))
		return oom();
	c->delivery = (enum conf_delivery)cfg_getint(cfg, "delivery");
	c->interactive_timeout = (unsigned)cfg_getint(cfg,
	    "interactive_timeout");
	c->retry_min = (unsigned)cfg_getint(cfg, "retry_min");
	c->retry_max = (unsigned)cfg_getint(cfg, "retry_max");
	c->max_queue_time = (unsigned)cfg_getint(cfg, "max_queue_time");
	c->max_message_size = (uint64_t)cfg_getint(cfg, "max_message_size");
	c->bounce = (enum conf_bounce)cfg_getint(cfg, "bounce");
	c->allow_from_override = cfg_getint(cfg, "allow_from_override") != 0;
	c->rate_limit_count = rate != NULL ? rate[0] : 0;
	c->rate_limit_period = rate != NULL ? rate[1] : 60;
	c->notify_interval = (unsigned)cfg_getint(cfg, "notify_interval");
	c->queue_age_alert = (unsigned)cfg_getint(cfg, "queue_age_alert");
	if (c->retry_min > c->retry_max && line_of(cfg, "retry_min") != 0)
		return fail("retry_min", line_of(cfg, "retry_min"), "must not "
		    "be greater than retry_max");
	if (c->retry_min > c->retry_max)
		return fail("retry_max", line_of(cfg, "retry_max"), "must not "
		    "be less than retry_min");
	return build_sections(cfg, c);
}

/* ------------------------------------------------------------------ */
/* Reading the file */

/*
 * cfg_parse_buf() with no environment for libconfuse's ${NAME} to read:
 * ${NAME} becomes "" and ${NAME:-word} becomes word.  The caller's own
 * environment is back in place on return.
 */
static int
parse_sealed(cfg_t *cfg, const char *text)
{
	extern char	**environ;
	char		 *none[] = { NULL };
	char		**saved = environ;
	int		  rc;

	environ = none;
	rc = cfg_parse_buf(cfg, text);
	environ = saved;
	return rc;
}

/* The pre-pass, then libconfuse; 0, or -1 with an error noted. */
static int
parse(cfg_t *cfg)
{
	struct lctx	*lc = lc_cur;
	int		 rc;

	lc->ct.keys = key_in;
	if (buf_add(&lc->text, "", 0) == -1 ||
	    conftext_prepare(&lc->ct, lc->text.data, lc->text.len) == -1)
		return oom();
	rc = parse_sealed(cfg, buf_str(&lc->text));
	if (lc->oom)
		return -1;
	/* What libconfuse read before the pre-pass's mistake is sound; a
	 * brace left open shows only at the end, after its syntax errors. */
	if (lc->ct.line != 0 && !(lc->failed && lc->line != 0 &&
	    (lc->line < lc->ct.line || (lc->syntax && lc->ct.at_end)))) {
		lc->failed = false;
		return fail(NULL, lc->ct.line, "%s", lc->ct.msg);
	}
	if (rc != CFG_SUCCESS)		/* libconfuse said nothing */
		return fail(NULL, cfg->line, "syntax error");
	return lc->failed ? -1 : 0;
}

/* Reads path into lc->text and parses it into cfg: 0, 1 when the file
 * is missing, -1 with err set. */
static int
load(const char *path, cfg_t *cfg, char *err, size_t errlen)
{
	struct lctx *lc = lc_cur;

	if (util_read_file(path, CONF_MAX_FILE, false, &lc->text) == -1) {
		if (errno == ENOENT)
			return 1;
		if (errno == EFBIG)
			fail(NULL, 0, "larger than %d bytes", CONF_MAX_FILE);
		else
			fail(NULL, 0, "cannot read: %s", strerror(errno));
	} else if (parse(cfg) == 0)
		return 0;
	final_error(path, lc->line, lc->oom ? "out of memory" : lc->msg, err,
	    errlen);
	return -1;
}

static void
wipe_passwords(cfg_t *cfg)
{
	unsigned	 n = cfg_size(cfg, "account"), i;
	char		*p;

	for (i = 0; i < n; i++) {
		if ((p = cfg_getstr(cfg_getnsec(cfg, "account", i),
		    "password")) != NULL)
			explicit_bzero(p, strlen(p));
		if ((p = cfg_getstr(cfg_getnsec(cfg, "account", i),
		    "oauth2_client_secret")) != NULL)
			explicit_bzero(p, strlen(p));
	}
}

/* ------------------------------------------------------------------ */
/* Public */

int
conf_load(const char *path, struct conf **out, char *err, size_t errlen)
{
	struct lctx	 lc = { .failed = false };
	struct conf	*c;
	cfg_t		*cfg;
	char		 dummy[1];
	int		 rc = -1;

	if (err == NULL || errlen == 0) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = '\0';
	if (path == NULL)
		path = CONF_DEFAULT_PATH;
	lc_cur = &lc;
	buf_init_secret(&lc.text, 0);
	c = calloc(1, sizeof(*c));
	if (c == NULL || (c->path = strdup(path)) == NULL ||
	    (cfg = cfg_init(root_opts, CFGF_NONE)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		conf_free(c);
		return -1;
	}
	cfg_set_error_function(cfg, cb_error);
	if ((rc = load(path, cfg, err, errlen)) != -1) {
		c->from_file = rc == 0;
		if ((rc = build(cfg, c)) == -1)
			final_error(path, lc.line, lc.oom ? "out of memory" :
			    lc.msg, err, errlen);
	}
	lc_cur = NULL;
	wipe_passwords(cfg);
	cfg_free(cfg);
	buf_wipe(&lc.text);
	conftext_free(&lc.ct);
	free(lc.opts);
	if (rc == -1) {
		conf_free(c);
		return -1;
	}
	*out = c;
	return 0;
}

static void
free_strv(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
conf_free(struct conf *c)
{
	struct conf_account	*a;
	size_t			 i, j;

	if (c == NULL)
		return;
	for (a = c->accounts; a != NULL && a < c->accounts + c->naccounts;
	    a++) {
		if (a->password != NULL)
			explicit_bzero(a->password, strlen(a->password));
		free(a->password);
		for (j = 0; j < a->nhosts; j++) {
			free(a->hosts[j].name);
			free(a->hosts[j].port);
		}
		free(a->hosts);
		free(a->name);
		free(a->tls_ca_file);
		free(a->tls_cert_file);
		free(a->tls_key_file);
		free(a->user);
		free(a->password_file);
		free(a->password_command);
		if (a->oauth2_client_secret != NULL)
			explicit_bzero(a->oauth2_client_secret,
			    strlen(a->oauth2_client_secret));
		free(a->oauth2_client_secret);
		free(a->oauth2_client_id);
		free(a->oauth2_client_secret_file);
		free(a->oauth2_tenant);
		free(a->oauth2_scope);
		free(a->oauth2_token_url);
		free(a->oauth2_device_url);
		free(a->oauth2_auth_url);
		free(a->oauth2_ca_file);
		free(a->oauth2_token_file);
		free_strv(a->senders, a->nsenders);
		free(a->from);
	}
	free(c->accounts);
	for (i = 0; i < c->naliases; i++) {
		free(c->aliases[i].name);
		free_strv(c->aliases[i].to, c->aliases[i].nto);
	}
	free(c->aliases);
	free(c->path);
	free(c->hostname);
	free(c->domain);
	free(c->queue_dir);
	free(c->postmaster);
	free(c->aliases_file);
	free(c->log_file);
	free(c->socket);
	free(c->notify_command);
	free(c);
}

const char *
conf_tls_name(enum conf_tls t)
{
	return confval_keyword_name("tls", (int)t);
}

const char *
conf_auth_name(enum conf_auth a)
{
	return confval_keyword_name("auth", (int)a);
}

int
conf_log_open(const struct conf *conf, const char *ident)
{
	return log_open(ident, conf->log == CONF_LOG_FILE ? LOG_DEST_FILE :
	    conf->log == CONF_LOG_STDERR ? LOG_DEST_STDERR : LOG_DEST_SYSLOG,
	    conf->log_file);
}
