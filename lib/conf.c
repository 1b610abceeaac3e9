/*
 * conf: read /etc/sendq.conf with libconfuse, check every value and copy
 * the result into a struct conf that the rest of sendq only reads.
 *
 * Line numbers.  libconfuse's own line counter drifts (every comment
 * moves it forward) and some mistakes reach it only at end of file, or
 * never (an unclosed section or comment is silently accepted).  So the
 * file is first read by scan(), a small scanner that follows libconfuse's
 * lexer and grammar token for token, counts lines itself, reports syntax
 * errors at the line where the mistake starts, and notes the line of
 * every value and section.  libconfuse then parses the same text; every
 * option has a parse callback, and since libconfuse hands values to those
 * callbacks in file order, the n-th callback belongs to the scanner's
 * n-th value: that gives each value error its true line, and the lines
 * recorded there serve the checks made after parsing.
 *
 * Invariants: only this file includes <confuse.h>; libconfuse keeps
 * global lexer state, so conf_load() is not reentrant.  A returned
 * struct conf is complete and valid (see conf.h); nothing is half-built
 * on failure.
 *
 * Security: the file may hold a password.  No message quotes the value of
 * password or password_command, nor the text around a syntax error in
 * them.  The file buffer and libconfuse's copy of the password are wiped
 * before they are freed; conf_free() wipes ours.  libconfuse's lexer
 * buffers are freed without wiping: that is beyond our reach.  libconfuse
 * expands ${NAME} from the environment in unquoted and double-quoted
 * values, and the set-group-ID sendmail's environment is its caller's
 * (TZ is kept): the file is parsed with an empty environment
 * (parse_sealed()), so no value can take anything from it and the file
 * means the same whoever reads it; single quotes keep a literal "${".
 */
#include "conf.h"

#ifndef SENDQ_SPOOLDIR
#define SENDQ_SPOOLDIR	"/var/spool/sendq"
#endif

#include <sys/stat.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <confuse.h>

#define CONF_MAX_FILE	(1024 * 1024)	/* a config file is small */
#define CONF_MAX_DEPTH	8
#define CONF_MAILNAME	"/etc/mailname"
#define MSGLEN		512

/* ------------------------------------------------------------------ */
/* Load context */

struct valpos {
	unsigned	 line;		/* where the value token starts */
	const char	*key;		/* option name (static table) */
};

struct linerec {
	const cfg_t	*sec;
	const char	*key;
	unsigned	 idx;
	unsigned	 line;
};

struct sectpos {
	unsigned	 line;
	const char	*title;		/* raw text in the file buffer */
	size_t		 tlen;
	int		 plain;		/* title has no escapes: comparable */
};

struct errslot {
	int		 set;
	unsigned	 line;
	char		 msg[MSGLEN];
};

struct lctx {
	const char	*path;
	char		*buf;		/* the file, NUL-terminated */
	size_t		 len;

	struct valpos	*vals;		/* value tokens, in file order */
	size_t		 nvals, avals;
	size_t		 ncalls;	/* parse callbacks seen so far */

	struct linerec	*recs;
	size_t		 nrecs, arecs;

	struct sectpos	*accts, *aliases;
	size_t		 naccts, aaccts, naliases, aaliases;

	struct errslot	 serr;		/* from scan() */
	struct errslot	 cerr;		/* from a parse callback */
	struct errslot	 lerr;		/* from libconfuse itself */
	int		 oom;
};

/* libconfuse's callbacks have no user pointer. */
static struct lctx *lc_cur;

static int
grow(void *arrp, size_t *cap, size_t n, size_t size)
{
	void	**arr = arrp;
	void	 *p;
	size_t	  ncap;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	if (ncap > SIZE_MAX / size)
		return -1;
	if ((p = realloc(*arr, ncap * size)) == NULL)
		return -1;
	*arr = p;
	*cap = ncap;
	return 0;
}

/* Messages end up on terminals and in logs: no control characters. */
static void
sanitize(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

/* For message text a cut is harmless; only a failure needs a fallback. */
static const char *
msgf(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static const char *
msgf(char *buf, size_t len, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0 && len > 0) {
		n = snprintf(buf, len, "configuration error");
		if (n < 0)
			buf[0] = '\0';
	}
	return buf;
}

static void
vslot(struct errslot *e, unsigned line, const char *key, const char *fmt,
    va_list ap)
{
	char	what[MSGLEN];
	int	n;

	if (e->set)
		return;
	n = vsnprintf(what, sizeof(what), fmt, ap);
	if (n < 0)
		what[0] = '\0';
	/* FILE and LINE are added when the final message is made. */
	if (key != NULL)
		n = snprintf(e->msg, sizeof(e->msg), "%s: %s", key, what);
	else
		n = snprintf(e->msg, sizeof(e->msg), "%s", what);
	if (n < 0)
		e->msg[0] = '\0';
	e->set = 1;
	e->line = line;
}

static void
slot(struct errslot *e, unsigned line, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
slot(struct errslot *e, unsigned line, const char *key, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vslot(e, line, key, fmt, ap);
	va_end(ap);
}

static void
final_error(const char *path, const struct errslot *e, char *err,
    size_t errlen)
{
	if (err == NULL || errlen == 0)
		return;
	if (e->line > 0)
		msgf(err, errlen, "%s:%u: %s", path, e->line, e->msg);
	else
		msgf(err, errlen, "%s: %s", path, e->msg);
	sanitize(err);
}

/* ------------------------------------------------------------------ */
/* Value syntax */

static int
is_ctl_free(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

static int
has_space(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s == ' ' || *s == '\t')
			return 1;
	return 0;
}

/* Letters, digits, '-' and '.'; labels of 1..63, not starting or ending
 * with '-'; 253 at most. */
static int
valid_hostname(const char *s)
{
	size_t	len = strlen(s), lab = 0, i;

	if (len == 0 || len > 253)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (lab == 0 || s[i - 1] == '-')
				return 0;
			lab = 0;
			continue;
		}
		if (!isalnum(c) && c != '-')
			return 0;
		if (c == '-' && lab == 0)
			return 0;
		if (++lab > 63)
			return 0;
	}
	return lab > 0 && s[len - 1] != '-';
}

static int
is_localhost(const char *s)
{
	return strcasecmp(s, "localhost") == 0 ||
	    strcasecmp(s, "localhost.localdomain") == 0;
}

/* Durations: digits and an optional s, m, h or d.  0 ok, -1 syntax,
 * -2 range. */
static int
parse_duration(const char *s, unsigned *out)
{
	unsigned long long	 v, mult;
	char			*end;

	if (!isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -2;
	if (*end == '\0')
		mult = 1;
	else if (end[1] != '\0')
		return -1;
	else if (*end == 's')
		mult = 1;
	else if (*end == 'm')
		mult = 60;
	else if (*end == 'h')
		mult = 3600;
	else if (*end == 'd')
		mult = 86400;
	else
		return -1;
	if (v > UINT_MAX / mult)
		return -2;
	*out = (unsigned)(v * mult);
	return 0;
}

/* Sizes: digits and an optional K, M or G (powers of 1024). */
static int
parse_size(const char *s, uint64_t *out)
{
	unsigned long long	 v, mult;
	char			*end;

	if (!isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -2;
	if (*end == '\0')
		mult = 1;
	else if (end[1] != '\0')
		return -1;
	else if (*end == 'K' || *end == 'k')
		mult = 1024ULL;
	else if (*end == 'M' || *end == 'm')
		mult = 1024ULL * 1024;
	else if (*end == 'G' || *end == 'g')
		mult = 1024ULL * 1024 * 1024;
	else
		return -1;
	/* libconfuse stores a long */
	if (v > (unsigned long long)LONG_MAX / mult)
		return -2;
	*out = v * mult;
	return 0;
}

static int
parse_rate(const char *s, unsigned *count, unsigned *period)
{
	unsigned long long	 v;
	char			*end;

	if (strcmp(s, "0") == 0) {
		*count = 0;
		*period = 60;
		return 0;
	}
	if (!isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE || v == 0 || v > UINT_MAX)
		return -1;
	if (end[0] != '/' || end[1] == '\0' || end[2] != '\0')
		return -1;
	switch (end[1]) {
	case 'm':
		*period = 60;
		break;
	case 'h':
		*period = 3600;
		break;
	case 'd':
		*period = 86400;
		break;
	default:
		return -1;
	}
	*count = (unsigned)v;
	return 0;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "sha256:" and 32 bytes in hex, any case; a colon may stand between
 * two bytes. */
static int
parse_fingerprint(const char *s, unsigned char out[32])
{
	size_t	n = 0;
	int	hi, lo;

	if (strncasecmp(s, "sha256:", 7) != 0)
		return -1;
	s += 7;
	while (*s != '\0') {
		if (*s == ':') {
			if (n == 0 || n == 32 || s[1] == '\0')
				return -1;
			s++;
		}
		if ((hi = hexval((unsigned char)s[0])) < 0 ||
		    (lo = hexval((unsigned char)s[1])) < 0)
			return -1;
		if (n == 32)
			return -1;
		out[n++] = (unsigned char)(hi << 4 | lo);
		s += 2;
	}
	return n == 32 ? 0 : -1;
}

static int
parse_port(const char *s, unsigned *port)
{
	unsigned long	 v;
	char		*end;

	if (!isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno == ERANGE || *end != '\0' || v < 1 || v > 65535)
		return -1;
	*port = (unsigned)v;
	return 0;
}

/*
 * "name", "name:port", "[v6]" or "[v6]:port".  On success *name is
 * allocated and *port is 0 when none was given.  On failure returns -1
 * with a reason in *why; -2 on allocation failure.
 */
static int
parse_host(const char *s, char **name, unsigned *port, const char **why)
{
	const char	*colon, *close, *p;
	struct in6_addr	 a6;
	char		*n;
	size_t		 nlen;

	*port = 0;
	if (s[0] == '[') {
		if ((close = strchr(s, ']')) == NULL) {
			*why = "missing ']'";
			return -1;
		}
		nlen = (size_t)(close - s - 1);
		p = close + 1;
		if (*p == ':') {
			if (parse_port(p + 1, port) == -1) {
				*why = "port must be a number from 1 to 65535";
				return -1;
			}
		} else if (*p != '\0') {
			*why = "unexpected text after ']'";
			return -1;
		}
		if ((n = strndup(s + 1, nlen)) == NULL)
			return -2;
		if (inet_pton(AF_INET6, n, &a6) != 1) {
			free(n);
			*why = "not an IPv6 address";
			return -1;
		}
		*name = n;
		return 0;
	}
	colon = strchr(s, ':');
	if (colon != NULL && strchr(colon + 1, ':') != NULL) {
		*why = "an IPv6 address must be written in brackets, "
		    "as [address]:port";
		return -1;
	}
	nlen = colon != NULL ? (size_t)(colon - s) : strlen(s);
	if (colon != NULL && parse_port(colon + 1, port) == -1) {
		*why = "port must be a number from 1 to 65535";
		return -1;
	}
	if ((n = strndup(s, nlen)) == NULL)
		return -2;
	if (!valid_hostname(n)) {
		free(n);
		*why = nlen == 0 ? "missing host name" :
		    "not a valid host name";
		return -1;
	}
	*name = n;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Keywords */

struct kw {
	const char	*name;
	int		 value;
};

static const struct kw kw_delivery[] = {
	{ "background",		CONF_DELIVERY_BACKGROUND },
	{ "interactive",	CONF_DELIVERY_INTERACTIVE },
	{ "queue",		CONF_DELIVERY_QUEUE },
	{ NULL, 0 }
};

static const struct kw kw_bounce[] = {
	{ "sender",		CONF_BOUNCE_SENDER },
	{ "postmaster",		CONF_BOUNCE_POSTMASTER },
	{ "none",		CONF_BOUNCE_NONE },
	{ NULL, 0 }
};

static const struct kw kw_tls[] = {
	{ "starttls",		CONF_TLS_STARTTLS },
	{ "implicit",		CONF_TLS_IMPLICIT },
	{ "opportunistic",	CONF_TLS_OPPORTUNISTIC },
	{ "none",		CONF_TLS_NONE },
	{ NULL, 0 }
};

static const struct kw kw_auth[] = {
	{ "auto",		CONF_AUTH_AUTO },
	{ "none",		CONF_AUTH_NONE },
	{ "plain",		CONF_AUTH_PLAIN },
	{ "login",		CONF_AUTH_LOGIN },
	{ "cram-md5",		CONF_AUTH_CRAM_MD5 },
	{ "scram-sha-1",	CONF_AUTH_SCRAM_SHA_1 },
	{ "scram-sha-256",	CONF_AUTH_SCRAM_SHA_256 },
	{ "xoauth2",		CONF_AUTH_XOAUTH2 },
	{ "oauthbearer",	CONF_AUTH_OAUTHBEARER },
	{ "external",		CONF_AUTH_EXTERNAL },
	{ NULL, 0 }
};

static const struct {
	const char	*key;
	const struct kw	*kw;
	const char	*list;
} enums[] = {
	{ "delivery",	kw_delivery,	"background, interactive or queue" },
	{ "bounce",	kw_bounce,	"sender, postmaster or none" },
	{ "tls",	kw_tls,
	    "starttls, implicit, opportunistic or none" },
	{ "auth",	kw_auth,	"auto, none, plain, login, cram-md5, "
	    "scram-sha-1, scram-sha-256, xoauth2, oauthbearer or external" },
};

static const char *
kw_name(const struct kw *kw, int value)
{
	for (; kw->name != NULL; kw++)
		if (kw->value == value)
			return kw->name;
	return "?";
}

/* Never quoted in a message, never shown around a syntax error. */
static int
is_secret_key(const char *key)
{
	return key != NULL && (strcmp(key, "password") == 0 ||
	    strcmp(key, "password_command") == 0);
}

/* ------------------------------------------------------------------ */
/* Parse callbacks: every option has one */

static unsigned
value_line(cfg_t *cfg, cfg_opt_t *opt, int *beyond)
{
	struct lctx	*lc = lc_cur;
	size_t		 k = lc->ncalls++;
	unsigned	 line, idx, i;

	*beyond = k >= lc->nvals;
	line = *beyond ? 0 : lc->vals[k].line;
	idx = (opt->flags & CFGF_LIST) && opt->nvalues > 0 ?
	    opt->nvalues - 1 : 0;
	for (i = 0; i < lc->nrecs; i++) {
		struct linerec *r = &lc->recs[i];

		if (r->sec == cfg && r->idx == idx &&
		    strcmp(r->key, opt->name) == 0) {
			r->line = line;
			return line;
		}
	}
	if (grow(&lc->recs, &lc->arecs, lc->nrecs, sizeof(*lc->recs)) == -1) {
		lc->oom = 1;
		return line;
	}
	lc->recs[lc->nrecs++] = (struct linerec){ cfg, opt->name, idx, line };
	return line;
}

static int
cb_fail(const char *key, unsigned line, int beyond, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
cb_fail(const char *key, unsigned line, int beyond, const char *fmt, ...)
{
	va_list	ap;

	/* Past the scanner's first error: that error is reported. */
	if (!beyond) {
		va_start(ap, fmt);
		vslot(&lc_cur->cerr, line, key, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int
cb_duration(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	unsigned	line, v = 0;
	int		beyond, rc;

	line = value_line(cfg, opt, &beyond);
	if ((rc = parse_duration(value, &v)) == -1)
		return cb_fail(opt->name, line, beyond, "\"%.80s\" is not a "
		    "duration (a number with s, m, h or d)", value);
	if (rc == -2)
		return cb_fail(opt->name, line, beyond,
		    "\"%.80s\" is too large", value);
	if (v == 0)
		return cb_fail(opt->name, line, beyond,
		    "must be greater than zero");
	*(long *)result = (long)v;
	return 0;
}

static int
cb_size(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	unsigned	line;
	uint64_t	v = 0;
	int		beyond, rc;

	line = value_line(cfg, opt, &beyond);
	if ((rc = parse_size(value, &v)) == -1)
		return cb_fail(opt->name, line, beyond, "\"%.80s\" is not a "
		    "size (a number with K, M or G)", value);
	if (rc == -2)
		return cb_fail(opt->name, line, beyond,
		    "\"%.80s\" is too large", value);
	*(long *)result = (long)v;
	return 0;
}

static int
cb_bool(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	unsigned	line;
	int		beyond;

	line = value_line(cfg, opt, &beyond);
	if (strcasecmp(value, "true") == 0 || strcasecmp(value, "yes") == 0 ||
	    strcasecmp(value, "on") == 0)
		*(int *)result = 1;
	else if (strcasecmp(value, "false") == 0 ||
	    strcasecmp(value, "no") == 0 || strcasecmp(value, "off") == 0)
		*(int *)result = 0;
	else
		return cb_fail(opt->name, line, beyond,
		    "\"%.80s\" is not true or false", value);
	return 0;
}

static int
cb_enum(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	const struct kw	*kw;
	unsigned	 line;
	size_t		 i;
	int		 beyond;

	line = value_line(cfg, opt, &beyond);
	for (i = 0; i < sizeof(enums) / sizeof(enums[0]); i++)
		if (strcmp(enums[i].key, opt->name) == 0)
			break;
	if (i == sizeof(enums) / sizeof(enums[0]))
		return cb_fail(opt->name, line, beyond, "internal error");
	for (kw = enums[i].kw; kw->name != NULL; kw++) {
		if (strcasecmp(kw->name, value) == 0) {
			*(long *)result = kw->value;
			return 0;
		}
	}
	return cb_fail(opt->name, line, beyond, "\"%.80s\" is not one of %s",
	    value, enums[i].list);
}

static int
is_abs_or_empty(const char *v)
{
	return v[0] == '\0' || v[0] == '/';
}

/* Checks of single string values; NULL when fine. */
static const char *
check_string(const char *key, const char *v, char *buf, size_t len)
{
	unsigned	 u1, u2;
	unsigned char	 fp[32];
	const char	*why, *at;
	char		*name;
	int		 rc;

	if (!is_ctl_free(v))
		return "contains a control character (a line break?)";
	if (is_secret_key(key) || strcmp(key, "user") == 0 ||
	    strcmp(key, "senders") == 0)
		return NULL;

	if (strcmp(key, "hostname") == 0 || strcmp(key, "domain") == 0) {
		if (v[0] == '\0' || valid_hostname(v))
			return NULL;
		return msgf(buf, len, "\"%.80s\" is not a valid domain name "
		    "(letters, digits, '-' and '.')", v);
	}
	if (strcmp(key, "queue_dir") == 0)
		return v[0] == '/' ? NULL : "must be an absolute path";
	if (strcmp(key, "aliases_file") == 0 ||
	    strcmp(key, "tls_ca_file") == 0 ||
	    strcmp(key, "tls_cert_file") == 0 ||
	    strcmp(key, "tls_key_file") == 0 ||
	    strcmp(key, "password_file") == 0)
		return is_abs_or_empty(v) ? NULL : "must be an absolute path";
	if (strcmp(key, "postmaster") == 0) {
		if (v[0] == '\0' || has_space(v))
			return "must be a single address";
		return NULL;
	}
	if (strcmp(key, "rate_limit") == 0) {
		if (parse_rate(v, &u1, &u2) == 0)
			return NULL;
		return msgf(buf, len, "\"%.80s\" is not \"0\", \"N/m\", "
		    "\"N/h\" or \"N/d\"", v);
	}
	if (strcmp(key, "log") == 0) {
		if (strcmp(v, "syslog") == 0 || strcmp(v, "stderr") == 0 ||
		    v[0] == '/')
			return NULL;
		return msgf(buf, len, "\"%.80s\" is not syslog, stderr or an "
		    "absolute file path", v);
	}
	if (strcmp(key, "host") == 0) {
		rc = parse_host(v, &name, &u1, &why);
		if (rc == 0) {
			free(name);
			return NULL;
		}
		if (rc == -2)
			return "out of memory";
		return msgf(buf, len, "\"%.80s\": %s", v, why);
	}
	if (strcmp(key, "tls_fingerprint") == 0) {
		if (v[0] == '\0' || parse_fingerprint(v, fp) == 0)
			return NULL;
		return "must be \"sha256:\" and 64 hexadecimal digits "
		    "(colons between bytes allowed)";
	}
	if (strcmp(key, "tls_min_version") == 0) {
		if (strcmp(v, "1.0") == 0 || strcmp(v, "1.1") == 0 ||
		    strcmp(v, "1.2") == 0 || strcmp(v, "1.3") == 0)
			return NULL;
		return msgf(buf, len, "\"%.80s\" is not one of 1.0, 1.1, 1.2, "
		    "1.3", v);
	}
	if (strcmp(key, "from") == 0) {
		if (v[0] == '\0')
			return NULL;
		at = strrchr(v, '@');
		if (at == NULL || at == v || at[1] == '\0' || has_space(v) ||
		    strpbrk(v, "<>,") != NULL) {
			return msgf(buf, len, "\"%.80s\" is not an address "
			    "(local@domain)", v);
		}
		return NULL;
	}
	if (strcmp(key, "to") == 0)
		return v[0] == '\0' ? "an empty alias target" : NULL;
	return NULL;
}

static int
cb_string(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	char		 buf[MSGLEN];
	const char	*why;
	unsigned	 line;
	int		 beyond;

	line = value_line(cfg, opt, &beyond);
	if ((why = check_string(opt->name, value, buf, sizeof(buf))) != NULL)
		return cb_fail(opt->name, line, beyond, "%s", why);
	*(const char **)result = value;
	return 0;
}

/* The nth account or alias section in file order. */
static const struct sectpos *
nth_section(const struct lctx *lc, size_t nth, const char **key)
{
	size_t	i = 0, j = 0;
	int	acct;

	while (i < lc->naccts || j < lc->naliases) {
		acct = i < lc->naccts && (j >= lc->naliases ||
		    lc->accts[i].line < lc->aliases[j].line);
		if (i + j == nth) {
			*key = acct ? "account" : "alias";
			return acct ? &lc->accts[i] : &lc->aliases[j];
		}
		if (acct)
			i++;
		else
			j++;
	}
	return NULL;
}

/* libconfuse's own complaints: the scanner should have seen every syntax
 * error first, so these are a fallback. */
static void
cb_error(cfg_t *cfg, const char *fmt, va_list ap)
{
	struct lctx	*lc = lc_cur;
	const char	*key = NULL;
	unsigned	 line = 0;

	if (lc == NULL || lc->lerr.set)
		return;
	/* A duplicate name the scanner could not compare (escapes): the
	 * sections accepted so far tell which one in the file it is. */
	if (cfg != NULL && strcmp(fmt, "found duplicate title '%s'") == 0) {
		const char		*title = va_arg(ap, const char *);
		const struct sectpos	*sp;

		sp = nth_section(lc, cfg_size(cfg, "account") +
		    cfg_size(cfg, "alias"), &key);
		slot(&lc->lerr, sp != NULL ? sp->line : 0, sp != NULL ? key :
		    NULL, "duplicate name \"%.80s\"", title);
		return;
	}
	if (lc->ncalls > 0 && lc->ncalls <= lc->nvals) {
		line = lc->vals[lc->ncalls - 1].line;
		key = lc->vals[lc->ncalls - 1].key;
	}
	if (is_secret_key(key)) {
		slot(&lc->lerr, line, key, "syntax error");
		return;
	}
	vslot(&lc->lerr, line, NULL, fmt, ap);
}

/* ------------------------------------------------------------------ */
/* The option table */

static cfg_opt_t alias_opts[] = {
	CFG_STR_LIST_CB("to", NULL, CFGF_NONE, cb_string),
	CFG_END()
};

static cfg_opt_t account_opts[] = {
	CFG_STR_LIST_CB("host", NULL, CFGF_NONE, cb_string),
	CFG_INT_CB("tls", CONF_TLS_STARTTLS, CFGF_NONE, cb_enum),
	CFG_BOOL_CB("tls_verify", cfg_true, CFGF_NONE, cb_bool),
	CFG_STR_CB("tls_ca_file", "", CFGF_NONE, cb_string),
	CFG_STR_CB("tls_fingerprint", "", CFGF_NONE, cb_string),
	CFG_STR_CB("tls_cert_file", "", CFGF_NONE, cb_string),
	CFG_STR_CB("tls_key_file", "", CFGF_NONE, cb_string),
	CFG_STR_CB("tls_min_version", "1.2", CFGF_NONE, cb_string),
	CFG_INT_CB("auth", CONF_AUTH_AUTO, CFGF_NONE, cb_enum),
	CFG_STR_CB("user", "", CFGF_NONE, cb_string),
	CFG_STR_CB("password", "", CFGF_NONE, cb_string),
	CFG_STR_CB("password_file", "", CFGF_NONE, cb_string),
	CFG_STR_CB("password_command", "", CFGF_NONE, cb_string),
	CFG_STR_LIST_CB("senders", NULL, CFGF_NONE, cb_string),
	CFG_STR_CB("from", "", CFGF_NONE, cb_string),
	CFG_BOOL_CB("rewrite_header_from", cfg_false, CFGF_NONE, cb_bool),
	CFG_INT_CB("timeout", 60, CFGF_NONE, cb_duration),
	CFG_END()
};

static cfg_opt_t root_opts[] = {
	CFG_STR_CB("hostname", "", CFGF_NONE, cb_string),
	CFG_STR_CB("domain", "", CFGF_NONE, cb_string),
	CFG_STR_CB("queue_dir", SENDQ_SPOOLDIR, CFGF_NONE, cb_string),
	CFG_INT_CB("delivery", CONF_DELIVERY_BACKGROUND, CFGF_NONE, cb_enum),
	CFG_INT_CB("interactive_timeout", 30, CFGF_NONE, cb_duration),
	CFG_INT_CB("retry_min", 60, CFGF_NONE, cb_duration),
	CFG_INT_CB("retry_max", 3600, CFGF_NONE, cb_duration),
	CFG_INT_CB("max_queue_time", 5 * 86400, CFGF_NONE, cb_duration),
	CFG_INT_CB("max_message_size", 50L * 1024 * 1024, CFGF_NONE, cb_size),
	CFG_INT_CB("bounce", CONF_BOUNCE_SENDER, CFGF_NONE, cb_enum),
	CFG_STR_CB("postmaster", "root", CFGF_NONE, cb_string),
	CFG_BOOL_CB("allow_from_override", cfg_true, CFGF_NONE, cb_bool),
	CFG_STR_CB("rate_limit", "0", CFGF_NONE, cb_string),
	CFG_STR_CB("aliases_file", "/etc/aliases", CFGF_NONE, cb_string),
	CFG_SEC("alias", alias_opts,
	    CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
	CFG_STR_CB("log", "syslog", CFGF_NONE, cb_string),
	CFG_SEC("account", account_opts,
	    CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
	CFG_END()
};

static cfg_opt_t *
find_opt(cfg_opt_t *opts, const char *name, size_t len)
{
	for (; opts->name != NULL; opts++)
		if (strlen(opts->name) == len &&
		    memcmp(opts->name, name, len) == 0)
			return opts;
	return NULL;
}

/* ------------------------------------------------------------------ */
/* The scanner: libconfuse's lexer and grammar, with true line numbers */

enum tok {
	TK_EOF, TK_WORD, TK_EQ, TK_PLUSEQ, TK_LBRACE, TK_RBRACE, TK_COMMA,
	TK_LPAREN, TK_RPAREN, TK_COMMENT, TK_ERROR
};

struct scanner {
	struct lctx	*lc;
	const char	*p, *end;
	unsigned	 line;
	unsigned	 tline;		/* first line of the last token */
	const char	*text;		/* TK_WORD: raw text, quotes removed */
	size_t		 len;
	int		 plain;		/* no escape or ${} in it */
	const char	*why;		/* TK_ERROR */
};

/* What libconfuse's unquoted-string rule accepts. */
static int
wordch(int c)
{
	return c != '\0' && strchr(" #\"'\t\n\r={}()+,*", c) == NULL;
}

static void
count_lines(struct scanner *s, const char *a, const char *b)
{
	for (; a < b; a++)
		if (*a == '\n')
			s->line++;
}

static enum tok
lex_dq(struct scanner *s)
{
	const char	*q;
	size_t		 d, o, i;
	unsigned	 v;

	s->p++;
	s->text = s->p;
	s->plain = 1;
	while (s->p < s->end) {
		char c = *s->p;

		if (c == '"') {
			s->len = (size_t)(s->p - s->text);
			s->p++;
			return TK_WORD;
		}
		if (c == '\0')
			break;
		if (c == '\\') {
			s->plain = 0;
			if (s->p + 1 >= s->end)
				break;
			c = s->p[1];
			if (c == '\n') {
				s->line++;
				s->p += 2;
				continue;
			}
			if (isdigit((unsigned char)c)) {
				/* libconfuse: up to 3 octal digits; any
				 * longer run of digits is an error */
				for (d = 0; isdigit((unsigned char)s->p[1 + d]);
				    d++)
					;
				for (o = 0; o < 3 && s->p[1 + o] >= '0' &&
				    s->p[1 + o] <= '7'; o++)
					;
				for (v = 0, i = 0; i < o; i++)
					v = v * 8 +
					    (unsigned)(s->p[1 + i] - '0');
				if (d > o || v > 0xff) {
					s->why = "bad escape sequence in a "
					    "string";
					return TK_ERROR;
				}
				s->p += 1 + o;
				continue;
			}
			s->p += 2;
			continue;
		}
		if (c == '$' && s->p[1] == '{' &&
		    (q = memchr(s->p + 2, '}', (size_t)(s->end - s->p - 2)))
		    != NULL) {
			s->plain = 0;
			count_lines(s, s->p, q);
			s->p = q + 1;
			continue;
		}
		if (c == '\n')
			s->line++;
		s->p++;
	}
	s->why = "string is not closed (missing '\"')";
	return TK_ERROR;
}

static enum tok
lex_sq(struct scanner *s)
{
	s->p++;
	s->text = s->p;
	s->plain = 1;
	while (s->p < s->end) {
		char c = *s->p;

		if (c == '\'') {
			s->len = (size_t)(s->p - s->text);
			s->p++;
			return TK_WORD;
		}
		if (c == '\0')
			break;
		if (c == '\\') {
			s->plain = 0;
			if (s->p + 1 >= s->end)
				break;
			if (s->p[1] == '\n')
				s->line++;
			s->p += 2;
			continue;
		}
		if (c == '\n')
			s->line++;
		s->p++;
	}
	s->why = "string is not closed (missing \"'\")";
	return TK_ERROR;
}

static enum tok
lex(struct scanner *s)
{
	const char	*q;

	for (;;) {
		char c;

		if (s->p >= s->end)
			return TK_EOF;
		c = *s->p;
		s->tline = s->line;
		if (c == ' ' || c == '\t') {
			s->p++;
			continue;
		}
		if (c == '\n') {
			s->line++;
			s->p++;
			continue;
		}
		if (c == '\0') {
			s->why = "NUL character in the file";
			return TK_ERROR;
		}
		if (c == '#' || (c == '/' && s->p[1] == '/')) {
			while (s->p < s->end && *s->p != '\n')
				s->p++;
			return TK_COMMENT;
		}
		if (c == '/' && s->p[1] == '*') {
			q = s->p + 2;
			while (q + 1 < s->end && !(q[0] == '*' && q[1] == '/'))
				q++;
			if (q + 1 >= s->end) {
				s->why = "comment is not closed (missing "
				    "\"*/\")";
				return TK_ERROR;
			}
			count_lines(s, s->p, q);
			s->p = q + 2;
			return TK_COMMENT;
		}
		s->p++;
		switch (c) {
		case '{':
			return TK_LBRACE;
		case '}':
			return TK_RBRACE;
		case '(':
			return TK_LPAREN;
		case ')':
			return TK_RPAREN;
		case '=':
			return TK_EQ;
		case ',':
			return TK_COMMA;
		case '+':
			if (s->p < s->end && *s->p == '=') {
				s->p++;
				return TK_PLUSEQ;
			}
			continue;	/* libconfuse drops it */
		case '"':
			s->p--;
			return lex_dq(s);
		case '\'':
			s->p--;
			return lex_sq(s);
		default:
			break;
		}
		s->p--;
		if (c == '$' && s->p[1] == '{' &&
		    (q = memchr(s->p + 2, '}', (size_t)(s->end - s->p - 2)))
		    != NULL) {
			s->text = s->p;
			s->len = (size_t)(q + 1 - s->p);
			s->plain = 0;
			count_lines(s, s->p, q);
			s->p = q + 1;
			return TK_WORD;
		}
		if (wordch((unsigned char)c)) {
			s->text = s->p;
			while (s->p < s->end && wordch((unsigned char)*s->p))
				s->p++;
			s->len = (size_t)(s->p - s->text);
			s->plain = 1;
			return TK_WORD;
		}
		s->p++;		/* anything else: libconfuse drops it */
	}
}

static const char *
tok_text(enum tok t)
{
	switch (t) {
	case TK_EQ:	return "=";
	case TK_PLUSEQ:	return "+=";
	case TK_LBRACE:	return "{";
	case TK_RBRACE:	return "}";
	case TK_COMMA:	return ",";
	case TK_LPAREN:	return "(";
	case TK_RPAREN:	return ")";
	case TK_EOF:	return "end of file";
	default:	return "?";
	}
}

enum sstate {
	SS_KEY,		/* expecting a key or '}' */
	SS_ASSIGN,	/* after a key: '=' or '+=' */
	SS_VALUE,	/* a single value */
	SS_LISTVAL,	/* a list: '{' or a single value */
	SS_LISTFIRST,	/* after '{': a value or '}' */
	SS_LISTSEP,	/* after a list value: ',' or '}' */
	SS_LISTITEM,	/* after ',': a value or '}' */
	SS_TITLE,	/* after a section key: its name */
	SS_SECOPEN,	/* after a section name: '{' */
};

struct frame {
	cfg_opt_t	*opts;
	const char	*key;
	unsigned	 line;
	const char	*title;
	size_t		 tlen;
};

static int
push_val(struct scanner *s, const char *key, unsigned line)
{
	struct lctx *lc = s->lc;

	if (grow(&lc->vals, &lc->avals, lc->nvals, sizeof(*lc->vals)) == -1)
		return -1;
	lc->vals[lc->nvals++] = (struct valpos){ line, key };
	return 0;
}

static int
push_sect(struct lctx *lc, const char *key, unsigned line, const char *title,
    size_t tlen, int plain)
{
	struct sectpos	**arr;
	size_t		 *n, *cap, i;

	if (strcmp(key, "account") == 0) {
		arr = &lc->accts;
		n = &lc->naccts;
		cap = &lc->aaccts;
	} else {
		arr = &lc->aliases;
		n = &lc->naliases;
		cap = &lc->aaliases;
	}
	for (i = 0; plain && i < *n; i++) {
		struct sectpos *sp = &(*arr)[i];

		if (sp->plain && sp->tlen == tlen &&
		    memcmp(sp->title, title, tlen) == 0) {
			slot(&lc->serr, line, key, "duplicate name \"%.*s\" "
			    "(first at line %u)", (int)(tlen > 80 ? 80 : tlen),
			    title, sp->line);
			return 1;
		}
	}
	if (grow(arr, cap, *n, sizeof(**arr)) == -1)
		return -1;
	(*arr)[(*n)++] = (struct sectpos){ line, title, tlen, plain };
	return 0;
}

/*
 * Whether a word that is not a key may be a secret, which no message
 * may show: one that spans lines, or one on a line that sets a
 * password.  A quote left open earlier makes libconfuse (and scan) read
 * "password = " as the end of a string and the password as a key.
 */
static int
may_be_secret(const struct lctx *lc, const char *text, size_t len)
{
	const char	*p = text;

	if (memchr(text, '\n', len) != NULL)
		return 1;
	while (p > lc->buf && p[-1] != '\n')
		p--;
	while (*p == ' ' || *p == '\t')
		p++;
	return strncmp(p, "password", 8) == 0;
}

/*
 * Walk the file as libconfuse will.  Records the line of every value
 * and section; the first syntax error goes to lc->serr.  Returns -1 only
 * on allocation failure.
 */
static int
scan(struct lctx *lc)
{
	struct scanner	 s = { 0 };
	struct frame	 st[CONF_MAX_DEPTH];
	cfg_opt_t	*opts = root_opts, *cur = NULL;
	enum sstate	 state = SS_KEY;
	const char	*key = NULL, *title = NULL;
	unsigned	 keyline = 0, listline = 0, valline = 0;
	size_t		 depth = 0, tlen = 0;
	int		 tplain = 0, rc;
	enum tok	 t;

	s.lc = lc;
	s.p = lc->buf;
	s.end = lc->buf + lc->len;
	s.line = 1;

	for (;;) {
		t = lex(&s);
		if (t == TK_ERROR) {
			/* s.why never quotes the file: safe for secrets */
			slot(&lc->serr, s.tline, state == SS_KEY ? NULL : key,
			    "%s", s.why);
			return 0;
		}
		if (t == TK_EOF)
			break;
		if (t == TK_COMMENT) {
			if (state != SS_KEY) {
				slot(&lc->serr, s.tline, key, "a comment "
				    "cannot stand inside a setting");
				return 0;
			}
			continue;
		}

		switch (state) {
		case SS_KEY:
			if (t == TK_RBRACE) {
				if (depth == 0) {
					slot(&lc->serr, s.tline, NULL,
					    "unexpected '}'");
					return 0;
				}
				depth--;
				opts = depth == 0 ? root_opts :
				    st[depth - 1].opts;
				continue;
			}
			if (t != TK_WORD) {
				slot(&lc->serr, s.tline, NULL,
				    "unexpected '%s'", tok_text(t));
				return 0;
			}
			if ((cur = find_opt(opts, s.text, s.len)) == NULL) {
				const char *hint = "";

				/* More words after a password on its line:
				 * they are part of it, not a key to name. */
				if (is_secret_key(key) && s.tline == valline) {
					slot(&lc->serr, s.tline, key,
					    "the value must be a single "
					    "quoted string");
					return 0;
				}

				if (depth == 0 && find_opt(account_opts,
				    s.text, s.len) != NULL)
					hint = " here (it belongs in an "
					    "account section)";
				else if (depth > 0 && find_opt(root_opts,
				    s.text, s.len) != NULL)
					hint = " inside a section";
				if (may_be_secret(lc, s.text, s.len))
					slot(&lc->serr, s.tline, NULL,
					    "unknown key (not shown: it may "
					    "be part of a password)");
				else
					slot(&lc->serr, s.tline, NULL,
					    "%.*s: unknown key%s",
					    (int)(s.len > 80 ? 80 : s.len),
					    s.text, hint);
				return 0;
			}
			keyline = s.tline;
			key = cur->name;
			state = cur->type == CFGT_SEC ? SS_TITLE : SS_ASSIGN;
			break;

		case SS_ASSIGN:
			if (t == TK_PLUSEQ && !(cur->flags & CFGF_LIST)) {
				slot(&lc->serr, s.tline, key, "'+=' applies "
				    "only to lists");
				return 0;
			}
			if (t != TK_EQ && t != TK_PLUSEQ) {
				slot(&lc->serr, keyline, key,
				    "expected '=' after the key");
				return 0;
			}
			state = cur->flags & CFGF_LIST ? SS_LISTVAL : SS_VALUE;
			break;

		case SS_VALUE:
		case SS_LISTVAL:
			if (t == TK_LBRACE && state == SS_LISTVAL) {
				listline = s.tline;
				state = SS_LISTFIRST;
				break;
			}
			if (t != TK_WORD) {
				slot(&lc->serr, s.tline, key, "expected a "
				    "value, not '%s'", tok_text(t));
				return 0;
			}
			if (push_val(&s, key, s.tline) == -1)
				return -1;
			valline = s.line;
			state = SS_KEY;
			break;

		case SS_LISTFIRST:
		case SS_LISTITEM:
			if (t == TK_RBRACE) {
				state = SS_KEY;
				break;
			}
			if (t != TK_WORD) {
				slot(&lc->serr, s.tline, key, "expected a "
				    "value in the list, not '%s'",
				    tok_text(t));
				return 0;
			}
			if (push_val(&s, key, s.tline) == -1)
				return -1;
			state = SS_LISTSEP;
			break;

		case SS_LISTSEP:
			if (t == TK_COMMA) {
				state = SS_LISTITEM;
				break;
			}
			if (t == TK_RBRACE) {
				state = SS_KEY;
				break;
			}
			slot(&lc->serr, s.tline, key, "expected ',' or '}' in "
			    "the list");
			return 0;

		case SS_TITLE:
			if (t != TK_WORD) {
				slot(&lc->serr, keyline, key, "expected a name "
				    "after \"%s\"", key);
				return 0;
			}
			title = s.text;
			tlen = s.len;
			tplain = s.plain;
			state = SS_SECOPEN;
			break;

		case SS_SECOPEN:
			if (t != TK_LBRACE) {
				slot(&lc->serr, keyline, key, "expected '{' "
				    "after the name");
				return 0;
			}
			if (depth == CONF_MAX_DEPTH) {
				slot(&lc->serr, keyline, key, "sections "
				    "nested too deeply");
				return 0;
			}
			if (depth == 0) {
				rc = push_sect(lc, key, keyline, title, tlen,
				    tplain);
				if (rc == -1)
					return -1;
				if (rc == 1)
					return 0;
			}
			st[depth++] = (struct frame){ cur->subopts, key,
			    keyline, title, tlen };
			opts = cur->subopts;
			state = SS_KEY;
			break;
		}
	}

	switch (state) {
	case SS_KEY:
		if (depth > 0) {
			struct frame *f = &st[depth - 1];

			slot(&lc->serr, f->line, f->key, "section \"%.*s\" is "
			    "not closed (missing '}')",
			    (int)(f->tlen > 80 ? 80 : f->tlen), f->title);
		}
		break;
	case SS_LISTFIRST:
	case SS_LISTSEP:
	case SS_LISTITEM:
		slot(&lc->serr, listline, key, "list is not closed "
		    "(missing '}')");
		break;
	case SS_ASSIGN:
		slot(&lc->serr, keyline, key, "expected '=' after the key");
		break;
	case SS_TITLE:
		slot(&lc->serr, keyline, key, "expected a name after \"%s\"",
		    key);
		break;
	case SS_SECOPEN:
		slot(&lc->serr, keyline, key, "expected '{' after the name");
		break;
	default:
		slot(&lc->serr, keyline, key, "missing value");
		break;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* After parsing: build the struct and check what spans several keys */

static unsigned
line_of(const struct lctx *lc, const cfg_t *sec, const char *key,
    unsigned idx)
{
	size_t i;

	for (i = 0; i < lc->nrecs; i++)
		if (lc->recs[i].sec == sec && lc->recs[i].idx == idx &&
		    strcmp(lc->recs[i].key, key) == 0)
			return lc->recs[i].line;
	return 0;
}

/* NULL for "", else a copy; -1 on allocation failure. */
static int
dup_opt(const char *v, char **out)
{
	*out = NULL;
	if (v == NULL || v[0] == '\0')
		return 0;
	if ((*out = strdup(v)) == NULL)
		return -1;
	return 0;
}

static int
dup_list(cfg_t *sec, const char *key, char ***out, size_t *nout)
{
	unsigned	  n = cfg_size(sec, key), i;
	char		**v;

	*out = NULL;
	*nout = 0;
	if (n == 0)
		return 0;
	if ((v = calloc(n, sizeof(*v))) == NULL)
		return -1;
	*out = v;
	for (i = 0; i < n; i++) {
		if ((v[i] = strdup(cfg_getnstr(sec, key, i))) == NULL)
			return -1;
		*nout = i + 1;
	}
	return 0;
}

static int
default_account(struct conf_account *a)
{
	a->tls = CONF_TLS_OPPORTUNISTIC;
	a->tls_verify = true;
	a->tls_min_version = 12;
	a->auth = CONF_AUTH_NONE;
	a->timeout = 60;
	if ((a->name = strdup("default")) == NULL ||
	    (a->hosts = calloc(1, sizeof(*a->hosts))) == NULL)
		return -1;
	a->nhosts = 1;
	if ((a->hosts[0].name = strdup("localhost")) == NULL ||
	    (a->hosts[0].port = strdup("25")) == NULL)
		return -1;
	return 0;
}

static int
secure_name_ok(const char *s)
{
	return s[0] != '\0' && is_ctl_free(s) && !has_space(s);
}

/* Returns 0, -1 with an error in lc->cerr. */
static int
build_account(struct lctx *lc, cfg_t *sec, unsigned sline,
    struct conf_account *a)
{
	static const char	*pwkeys[] = {
		"password", "password_file", "password_command"
	};
	const char		*title = cfg_title(sec), *v, *why;
	const char		*pwkey = NULL;
	unsigned		 n, i, port, pwline = 0, l;
	int			 npw = 0, rc;
	char			 pbuf[8];

	a->line = sline;
	if (title == NULL || !secure_name_ok(title)) {
		slot(&lc->cerr, sline, "account", "the name must be a "
		    "non-empty word");
		return -1;
	}
	if ((a->name = strdup(title)) == NULL)
		goto oom;

	a->tls = (enum conf_tls)cfg_getint(sec, "tls");
	a->tls_verify = cfg_getbool(sec, "tls_verify") == cfg_true;
	a->auth = (enum conf_auth)cfg_getint(sec, "auth");
	a->rewrite_header_from = cfg_getbool(sec, "rewrite_header_from") ==
	    cfg_true;
	a->timeout = (unsigned)cfg_getint(sec, "timeout");
	v = cfg_getstr(sec, "tls_min_version");
	a->tls_min_version = 10 + (v[2] - '0');

	n = cfg_size(sec, "host");
	if (n == 0) {
		slot(&lc->cerr, sline, "account", "\"%s\" has no host", title);
		return -1;
	}
	if ((a->hosts = calloc(n, sizeof(*a->hosts))) == NULL)
		goto oom;
	for (i = 0; i < n; i++) {
		v = cfg_getnstr(sec, "host", i);
		rc = parse_host(v, &a->hosts[i].name, &port, &why);
		if (rc == -2)
			goto oom;
		if (rc == -1) {
			slot(&lc->cerr, line_of(lc, sec, "host", i), "host",
			    "\"%.80s\": %s", v, why);
			return -1;
		}
		a->nhosts = i + 1;
		if (port == 0)
			port = a->tls == CONF_TLS_IMPLICIT ? 465 : 25;
		if (snprintf(pbuf, sizeof(pbuf), "%u", port) < 0 ||
		    (a->hosts[i].port = strdup(pbuf)) == NULL)
			goto oom;
	}

	if (dup_opt(cfg_getstr(sec, "tls_ca_file"), &a->tls_ca_file) == -1 ||
	    dup_opt(cfg_getstr(sec, "tls_cert_file"), &a->tls_cert_file) ==
	    -1 ||
	    dup_opt(cfg_getstr(sec, "tls_key_file"), &a->tls_key_file) == -1 ||
	    dup_opt(cfg_getstr(sec, "user"), &a->user) == -1 ||
	    dup_opt(cfg_getstr(sec, "password"), &a->password) == -1 ||
	    dup_opt(cfg_getstr(sec, "password_file"), &a->password_file) ==
	    -1 ||
	    dup_opt(cfg_getstr(sec, "password_command"),
	    &a->password_command) == -1 ||
	    dup_opt(cfg_getstr(sec, "from"), &a->from) == -1 ||
	    dup_list(sec, "senders", &a->senders, &a->nsenders) == -1)
		goto oom;
	v = cfg_getstr(sec, "tls_fingerprint");
	if (v[0] != '\0') {
		if (parse_fingerprint(v, a->tls_fingerprint) == -1) {
			slot(&lc->cerr, line_of(lc, sec, "tls_fingerprint", 0),
			    "tls_fingerprint", "bad fingerprint");
			return -1;
		}
		a->has_fingerprint = true;
		if (a->tls == CONF_TLS_NONE) {
			slot(&lc->cerr, line_of(lc, sec, "tls_fingerprint", 0),
			    "tls_fingerprint", "needs TLS, but tls is none");
			return -1;
		}
	}

	/* One password source; the later one is the mistake. */
	for (i = 0; i < 3; i++) {
		v = cfg_getstr(sec, pwkeys[i]);
		if (v[0] == '\0')
			continue;
		l = line_of(lc, sec, pwkeys[i], 0);
		if (npw++ == 0 || l > pwline) {
			pwline = l;
			pwkey = pwkeys[i];
		}
	}
	if (npw > 1) {
		slot(&lc->cerr, pwline, pwkey, "only one of password, "
		    "password_file and password_command may be set");
		return -1;
	}

	if ((a->tls_cert_file == NULL) != (a->tls_key_file == NULL)) {
		const char *set = a->tls_cert_file ? "tls_cert_file" :
		    "tls_key_file";

		slot(&lc->cerr, line_of(lc, sec, set, 0), set, "needs %s too",
		    a->tls_cert_file ? "tls_key_file" : "tls_cert_file");
		return -1;
	}

	l = line_of(lc, sec, "auth", 0);
	if (a->auth == CONF_AUTH_EXTERNAL) {
		if (a->tls_cert_file == NULL) {
			slot(&lc->cerr, l, "auth", "external needs a client "
			    "certificate (tls_cert_file and tls_key_file)");
			return -1;
		}
		if (a->tls == CONF_TLS_NONE) {
			slot(&lc->cerr, l, "auth", "external needs TLS, but "
			    "tls is none");
			return -1;
		}
	} else if (a->auth != CONF_AUTH_NONE) {
		if (npw > 0 && a->user == NULL) {
			slot(&lc->cerr, pwline, pwkey, "user must be set too");
			return -1;
		}
		if (npw == 0 && a->auth != CONF_AUTH_AUTO) {
			slot(&lc->cerr, l ? l : sline, "auth", "%s needs "
			    "password, password_file or password_command",
			    kw_name(kw_auth, (int)a->auth));
			return -1;
		}
		if (npw == 0 && a->user != NULL) {
			slot(&lc->cerr, line_of(lc, sec, "user", 0), "user",
			    "needs password, password_file or "
			    "password_command");
			return -1;
		}
	}
	return 0;

oom:
	slot(&lc->cerr, 0, NULL, "out of memory");
	return -1;
}

static char *
mailname(void)
{
	FILE	*f;
	char	*line = NULL, *r = NULL;
	size_t	 cap = 0;
	ssize_t	 n;

	if ((f = fopen(CONF_MAILNAME, "re")) == NULL)
		return NULL;
	n = getline(&line, &cap, f);
	fclose(f);
	if (n <= 0) {
		free(line);
		return NULL;
	}
	while (n > 0 && isspace((unsigned char)line[n - 1]))
		line[--n] = '\0';
	if (n > 0 && valid_hostname(line))
		r = strdup(line);
	free(line);
	return r;
}

/* /etc/mailname, else the FQDN, never localhost unless that is all
 * there is.  NULL with *why set on failure. */
static char *
default_hostname(const char **why)
{
	struct addrinfo	 hints, *res = NULL;
	char		 hn[HOST_NAME_MAX + 1];
	char		*r;

	if ((r = mailname()) != NULL)
		return r;
	if (gethostname(hn, sizeof(hn)) == -1) {
		*why = "cannot find this host's name; set hostname";
		return NULL;
	}
	hn[sizeof(hn) - 1] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_flags = AI_CANONNAME;
	if (getaddrinfo(hn, NULL, &hints, &res) == 0 && res != NULL &&
	    res->ai_canonname != NULL && !is_localhost(res->ai_canonname) &&
	    valid_hostname(res->ai_canonname)) {
		r = strdup(res->ai_canonname);
		freeaddrinfo(res);
		if (r == NULL)
			*why = "out of memory";
		return r;
	}
	if (res != NULL)
		freeaddrinfo(res);
	if (!valid_hostname(hn)) {
		*why = "this host's name is not a valid domain name; "
		    "set hostname";
		return NULL;
	}
	if ((r = strdup(hn)) == NULL)
		*why = "out of memory";
	return r;
}

static int
build(struct lctx *lc, cfg_t *cfg, struct conf *c)
{
	const char	*v, *why = NULL, *dot;
	unsigned	 n, i, l;

	v = cfg_getstr(cfg, "hostname");
	if (v[0] != '\0')
		c->hostname = strdup(v);
	else if ((c->hostname = default_hostname(&why)) == NULL) {
		slot(&lc->cerr, 0, "hostname", "%s", why);
		return -1;
	}
	if (c->hostname == NULL)
		goto oom;
	v = cfg_getstr(cfg, "domain");
	if (v[0] == '\0') {
		dot = strchr(c->hostname, '.');
		v = dot != NULL ? dot + 1 : c->hostname;
	}
	if ((c->domain = strdup(v)) == NULL)
		goto oom;

	if ((c->queue_dir = strdup(cfg_getstr(cfg, "queue_dir"))) == NULL ||
	    (c->postmaster = strdup(cfg_getstr(cfg, "postmaster"))) == NULL ||
	    dup_opt(cfg_getstr(cfg, "aliases_file"), &c->aliases_file) == -1)
		goto oom;
	c->delivery = (enum conf_delivery)cfg_getint(cfg, "delivery");
	c->interactive_timeout = (unsigned)cfg_getint(cfg,
	    "interactive_timeout");
	c->retry_min = (unsigned)cfg_getint(cfg, "retry_min");
	c->retry_max = (unsigned)cfg_getint(cfg, "retry_max");
	c->max_queue_time = (unsigned)cfg_getint(cfg, "max_queue_time");
	c->max_message_size = (uint64_t)cfg_getint(cfg, "max_message_size");
	c->bounce = (enum conf_bounce)cfg_getint(cfg, "bounce");
	c->allow_from_override = cfg_getbool(cfg, "allow_from_override") ==
	    cfg_true;
	if (parse_rate(cfg_getstr(cfg, "rate_limit"), &c->rate_limit_count,
	    &c->rate_limit_period) == -1) {
		slot(&lc->cerr, line_of(lc, cfg, "rate_limit", 0), "rate_limit",
		    "bad value");
		return -1;
	}
	v = cfg_getstr(cfg, "log");
	if (strcmp(v, "syslog") == 0)
		c->log = CONF_LOG_SYSLOG;
	else if (strcmp(v, "stderr") == 0)
		c->log = CONF_LOG_STDERR;
	else {
		c->log = CONF_LOG_FILE;
		if ((c->log_file = strdup(v)) == NULL)
			goto oom;
	}

	if (c->retry_min > c->retry_max) {
		if ((l = line_of(lc, cfg, "retry_min", 0)) != 0)
			slot(&lc->cerr, l, "retry_min", "must not be greater "
			    "than retry_max");
		else
			slot(&lc->cerr, line_of(lc, cfg, "retry_max", 0),
			    "retry_max", "must not be less than retry_min");
		return -1;
	}

	n = cfg_size(cfg, "alias");
	if (n > 0 && (c->aliases = calloc(n, sizeof(*c->aliases))) == NULL)
		goto oom;
	for (i = 0; i < n; i++) {
		cfg_t			*sec = cfg_getnsec(cfg, "alias", i);
		struct conf_alias	*al = &c->aliases[i];
		const char		*t = cfg_title(sec);

		l = i < lc->naliases ? lc->aliases[i].line : 0;
		c->naliases = i + 1;
		if (t == NULL || !secure_name_ok(t)) {
			slot(&lc->cerr, l, "alias", "the name must be a "
			    "non-empty word");
			return -1;
		}
		if ((al->name = strdup(t)) == NULL ||
		    dup_list(sec, "to", &al->to, &al->nto) == -1)
			goto oom;
		if (al->nto == 0) {
			slot(&lc->cerr, l, "alias", "\"%s\" has no target "
			    "(to)", t);
			return -1;
		}
	}

	n = cfg_size(cfg, "account");
	c->accounts = calloc(n > 0 ? n : 1, sizeof(*c->accounts));
	if (c->accounts == NULL)
		goto oom;
	for (i = 0; i < n; i++) {
		c->naccounts = i + 1;
		if (build_account(lc, cfg_getnsec(cfg, "account", i),
		    i < lc->naccts ? lc->accts[i].line : 0,
		    &c->accounts[i]) == -1)
			return -1;
	}
	if (n == 0) {
		c->naccounts = 1;
		if (default_account(&c->accounts[0]) == -1)
			goto oom;
	}
	return 0;

oom:
	slot(&lc->cerr, 0, NULL, "out of memory");
	return -1;
}

static void
wipe_cfg_passwords(cfg_t *cfg)
{
	unsigned	 n = cfg_size(cfg, "account"), i;
	char		*p;

	for (i = 0; i < n; i++) {
		p = cfg_getstr(cfg_getnsec(cfg, "account", i), "password");
		if (p != NULL)
			explicit_bzero(p, strlen(p));
	}
}

/* ------------------------------------------------------------------ */
/* Reading the file */

/* 0: read, 1: missing, -1: error in err. */
static int
read_file(const char *path, char **bufp, size_t *lenp, char *err,
    size_t errlen)
{
	struct stat	 st;
	char		*buf = NULL, *nb;
	size_t		 len = 0, cap = 0;
	ssize_t		 r;
	int		 fd, e;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		if (errno == ENOENT)
			return 1;
		e = errno;
		goto fail;
	}
	if (fstat(fd, &st) == -1) {
		e = errno;
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		e = EISDIR;
		goto fail;
	}
	for (;;) {
		if (cap - len < 4096 + 1) {
			cap = cap ? cap * 2 : 8192;
			if (cap > CONF_MAX_FILE + 8192) {
				close(fd);
				if (buf != NULL)
					explicit_bzero(buf, len);
				free(buf);
				msgf(err, errlen, "%s: larger than %d "
				    "bytes", path, CONF_MAX_FILE);
				return -1;
			}
			if ((nb = malloc(cap)) == NULL) {
				e = ENOMEM;
				goto fail;
			}
			if (buf != NULL) {
				memcpy(nb, buf, len);
				explicit_bzero(buf, len);
				free(buf);
			}
			buf = nb;
		}
		r = read(fd, buf + len, cap - len - 1);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			e = errno;
			goto fail;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	if (len > CONF_MAX_FILE) {
		explicit_bzero(buf, len);
		free(buf);
		msgf(err, errlen, "%s: larger than %d bytes", path,
		    CONF_MAX_FILE);
		return -1;
	}
	if (buf == NULL && (buf = malloc(1)) == NULL) {
		msgf(err, errlen, "%s: cannot read: %s", path,
		    strerror(ENOMEM));
		return -1;
	}
	buf[len] = '\0';
	*bufp = buf;
	*lenp = len;
	return 0;

fail:
	if (fd != -1)
		close(fd);
	if (buf != NULL)
		explicit_bzero(buf, len);
	free(buf);
	msgf(err, errlen, "%s: cannot read: %s", path, strerror(e));
	return -1;
}

static void
lctx_free(struct lctx *lc)
{
	if (lc->buf != NULL) {
		explicit_bzero(lc->buf, lc->len);
		free(lc->buf);
	}
	free(lc->vals);
	free(lc->recs);
	free(lc->accts);
	free(lc->aliases);
}

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

/* ------------------------------------------------------------------ */
/* Public */

int
conf_load(const char *path, struct conf **out, char *err, size_t errlen)
{
	struct lctx	 lc;
	struct conf	*c = NULL;
	cfg_t		*cfg = NULL;
	char		 dummy[1];
	int		 rc, ret = -1;

	if (err == NULL || errlen == 0) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = '\0';
	if (path == NULL)
		path = CONF_DEFAULT_PATH;

	memset(&lc, 0, sizeof(lc));
	lc.path = path;
	rc = read_file(path, &lc.buf, &lc.len, err, errlen);
	if (rc == -1) {
		sanitize(err);
		return -1;
	}

	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->path = strdup(path)) == NULL)
		goto oom;
	c->from_file = rc == 0;

	if (rc == 0 && scan(&lc) == -1)
		goto oom;

	if ((cfg = cfg_init(root_opts, CFGF_NONE)) == NULL)
		goto oom;
	lc_cur = &lc;
	cfg_set_error_function(cfg, cb_error);
	if (rc == 0) {
		rc = parse_sealed(cfg, lc.buf);
		if (lc.oom)
			goto oom;
		/* A value error counts if it comes before the first syntax
		 * error: libconfuse read everything up to there alike. */
		if (lc.cerr.set && lc.cerr.line > 0 && (!lc.serr.set ||
		    lc.cerr.line < lc.serr.line)) {
			final_error(path, &lc.cerr, err, errlen);
			goto done;
		}
		if (lc.serr.set) {
			final_error(path, &lc.serr, err, errlen);
			goto done;
		}
		if (lc.cerr.set) {
			final_error(path, &lc.cerr, err, errlen);
			goto done;
		}
		if (rc != CFG_SUCCESS) {
			if (!lc.lerr.set)
				slot(&lc.lerr, 0, NULL, "cannot parse");
			final_error(path, &lc.lerr, err, errlen);
			goto done;
		}
	}

	if (build(&lc, cfg, c) == -1) {
		final_error(path, &lc.cerr, err, errlen);
		goto done;
	}
	*out = c;
	c = NULL;
	ret = 0;
	goto done;

oom:
	msgf(err, errlen, "%s: out of memory", path);
done:
	lc_cur = NULL;
	if (cfg != NULL) {
		wipe_cfg_passwords(cfg);
		cfg_free(cfg);
	}
	lctx_free(&lc);
	conf_free(c);
	return ret;
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
	size_t i, j;

	if (c == NULL)
		return;
	for (i = 0; i < c->naccounts; i++) {
		struct conf_account *a = &c->accounts[i];

		if (a->password != NULL) {
			explicit_bzero(a->password, strlen(a->password));
			free(a->password);
		}
		free(a->name);
		for (j = 0; j < a->nhosts; j++) {
			free(a->hosts[j].name);
			free(a->hosts[j].port);
		}
		free(a->hosts);
		free(a->tls_ca_file);
		free(a->tls_cert_file);
		free(a->tls_key_file);
		free(a->user);
		free(a->password_file);
		free(a->password_command);
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
	free(c);
}

/*
 * senders are fnmatch(3) patterns, compared without regard to case (the
 * domain is case-insensitive, and in practice so are local parts).  The
 * null sender "" matches only an empty pattern, so that bounces go
 * through an account chosen on purpose.
 */
const struct conf_account *
conf_account_for(const struct conf *conf, const char *sender)
{
	const struct conf_account	*byname;
	size_t				 i, j;

	if (sender == NULL)
		sender = "";
	for (i = 0; i < conf->naccounts; i++) {
		const struct conf_account *a = &conf->accounts[i];

		for (j = 0; j < a->nsenders; j++) {
			const char *pat = a->senders[j];

			if (sender[0] == '\0') {
				if (pat[0] == '\0')
					return a;
				continue;
			}
			if (pat[0] != '\0' &&
			    fnmatch(pat, sender, FNM_CASEFOLD) == 0)
				return a;
		}
	}
	if ((byname = conf_account_by_name(conf, "default")) != NULL)
		return byname;
	return &conf->accounts[0];
}

const struct conf_account *
conf_account_by_name(const struct conf *conf, const char *name)
{
	size_t i;

	for (i = 0; i < conf->naccounts; i++)
		if (strcmp(conf->accounts[i].name, name) == 0)
			return &conf->accounts[i];
	return NULL;
}

const char *
conf_tls_name(enum conf_tls t)
{
	return kw_name(kw_tls, (int)t);
}

const char *
conf_auth_name(enum conf_auth a)
{
	return kw_name(kw_auth, (int)a);
}
