/*
 * confval: the syntax of single configuration values.  See confval.h.
 */
#include <sys/un.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "confval.h"
#include "util.h"

#define CONFVAL_MAILNAME	"/etc/mailname"
#define CONFVAL_SUN_PATH	sizeof(((struct sockaddr_un *)NULL)->sun_path)

_Static_assert(sizeof(SENDQ_SOCKET_PATH) <= CONFVAL_SUN_PATH,
    "SENDQ_SOCKET_PATH does not fit a socket address");

static const char *
say(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* For a message a cut is harmless; only a failure needs a fallback. */
static const char *
say(char *buf, size_t len, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return n < 0 ? "not a valid value" : buf;
}

static bool
has_space(const char *s)
{
	return strpbrk(s, " \t") != NULL;
}

static bool
has_control(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

static bool
is_address(const char *v)
{
	const char *at = strrchr(v, '@');

	return at != NULL && at != v && at[1] != '\0' && !has_space(v) &&
	    strpbrk(v, "<>,") == NULL;
}

/* What a string must hold; every kind is free of control characters. */
enum kind {
	K_TEXT,		/* anything */
	K_NAME,		/* a section's name: a word */
	K_DOMAIN,	/* a host name, or "" */
	K_DIR,		/* an absolute path */
	K_FILE,		/* an absolute path, or "" */
	K_ADDRESS,	/* one word */
	K_FROM,		/* local@domain, or "" */
	K_LOG,		/* syslog, stderr or an absolute path */
	K_TARGET,	/* an alias target: not "" */
	K_SOCKET,	/* an absolute path that fits sun_path */
	K_URL,		/* https://..., or "" */
	K_WORD,		/* no blank, or "" */
};

static const struct {
	const char	*key;
	enum kind	 kind;
} strings[] = {
	{ "account", K_NAME },		{ "alias", K_NAME },
	{ "hostname", K_DOMAIN },	{ "domain", K_DOMAIN },
	{ "queue_dir", K_DIR },		{ "aliases_file", K_FILE },
	{ "tls_ca_file", K_FILE },	{ "tls_cert_file", K_FILE },
	{ "tls_key_file", K_FILE },	{ "password_file", K_FILE },
	{ "postmaster", K_ADDRESS },	{ "from", K_FROM },
	{ "log", K_LOG },		{ "to", K_TARGET },
	{ "socket", K_SOCKET },		{ "notify_command", K_FILE },
	{ "oauth2_client_secret_file", K_FILE },
	{ "oauth2_ca_file", K_FILE },	{ "oauth2_token_file", K_FILE },
	{ "oauth2_token_url", K_URL },	{ "oauth2_device_url", K_URL },
	{ "oauth2_auth_url", K_URL },	{ "oauth2_tenant", K_WORD },
	{ "oauth2_client_id", K_WORD },
};

struct kw {
	const char	*name;
	int		 value;
};

static const struct kw kw_delivery[] = {
	{ "background", CONF_DELIVERY_BACKGROUND },
	{ "interactive", CONF_DELIVERY_INTERACTIVE },
	{ "queue", CONF_DELIVERY_QUEUE }, { NULL, 0 }
};

static const struct kw kw_bounce[] = {
	{ "sender", CONF_BOUNCE_SENDER },
	{ "postmaster", CONF_BOUNCE_POSTMASTER },
	{ "none", CONF_BOUNCE_NONE }, { NULL, 0 }
};

static const struct kw kw_tls[] = {
	{ "starttls", CONF_TLS_STARTTLS }, { "implicit", CONF_TLS_IMPLICIT },
	{ "opportunistic", CONF_TLS_OPPORTUNISTIC },
	{ "none", CONF_TLS_NONE }, { NULL, 0 }
};

static const struct kw kw_auth[] = {
	{ "auto", CONF_AUTH_AUTO },		{ "none", CONF_AUTH_NONE },
	{ "plain", CONF_AUTH_PLAIN },		{ "login", CONF_AUTH_LOGIN },
	{ "cram-md5", CONF_AUTH_CRAM_MD5 },
	{ "scram-sha-1", CONF_AUTH_SCRAM_SHA_1 },
	{ "scram-sha-256", CONF_AUTH_SCRAM_SHA_256 },
	{ "xoauth2", CONF_AUTH_XOAUTH2 },
	{ "oauthbearer", CONF_AUTH_OAUTHBEARER },
	{ "external", CONF_AUTH_EXTERNAL }, { NULL, 0 }
};

static const struct kw kw_oauth2[] = {
	{ "", CONF_OAUTH2_NONE },	/* SPEC's way of writing "unset" */
	{ "microsoft", CONF_OAUTH2_MICROSOFT }, { "google", CONF_OAUTH2_GOOGLE },
	{ "custom", CONF_OAUTH2_CUSTOM }, { NULL, 0 }
};

static const struct kw kw_tlsver[] = {
	{ "1.0", 10 }, { "1.1", 11 }, { "1.2", 12 }, { "1.3", 13 },
	{ NULL, 0 }
};

static const struct kw kw_bool[] = {
	{ "true", 1 }, { "yes", 1 }, { "on", 1 },
	{ "false", 0 }, { "no", 0 }, { "off", 0 }, { NULL, 0 }
};

static const struct {
	const char	*key;
	const struct kw	*kw;
	const char	*what;
} keywords[] = {
	{ "delivery", kw_delivery,
	    "one of background, interactive or queue" },
	{ "bounce", kw_bounce, "one of sender, postmaster or none" },
	{ "tls", kw_tls, "one of starttls, implicit, opportunistic or none" },
	{ "auth", kw_auth, "one of auto, none, plain, login, cram-md5, "
	    "scram-sha-1, scram-sha-256, xoauth2, oauthbearer or external" },
	{ "tls_min_version", kw_tlsver, "one of 1.0, 1.1, 1.2, 1.3" },
	{ "oauth2_provider", kw_oauth2, "one of microsoft, google or custom" },
	{ "tls_verify", kw_bool, "true or false" },
	{ "rewrite_header_from", kw_bool, "true or false" },
	{ "allow_from_override", kw_bool, "true or false" },
};

/* The whole numbers and their ranges. */
static const struct {
	const char	*key;
	long		 min, max;
} counts[] = {
	{ "max_connections", 1, CONF_MAX_CONNECTIONS },
	{ "max_messages_per_connection", 0, CONF_MAX_COUNT },
	{ "max_recipients", 1, CONF_MAX_COUNT },
};

/* What the string v of that kind is not, or NULL. */
static const char *
check(enum kind kind, const char *v, char *buf, size_t len)
{
	if (kind == K_NAME && (v[0] == '\0' || has_control(v) ||
	    has_space(v)))
		return "the name must be a non-empty word";
	if (has_control(v))
		return "contains a control character (a line break?)";
	switch (kind) {
	case K_DOMAIN:
		if (v[0] != '\0' && !confval_hostname(v))
			return say(buf, len, "\"%.80s\" is not a valid domain "
			    "name (letters, digits, '-' and '.')", v);
		break;
	case K_DIR:
	case K_FILE:
		if (v[0] != '/' && (kind == K_DIR || v[0] != '\0'))
			return "must be an absolute path";
		break;
	case K_ADDRESS:
		if (v[0] == '\0' || has_space(v))
			return "must be a single address";
		break;
	case K_FROM:
		if (v[0] != '\0' && !is_address(v))
			return say(buf, len, "\"%.80s\" is not an address "
			    "(local@domain)", v);
		break;
	case K_LOG:
		if (strcmp(v, "syslog") != 0 && strcmp(v, "stderr") != 0 &&
		    v[0] != '/')
			return say(buf, len, "\"%.80s\" is not syslog, stderr "
			    "or an absolute file path", v);
		break;
	case K_TARGET:
		if (v[0] == '\0')
			return "an empty alias target";
		break;
	case K_SOCKET:
		if (v[0] != '/' || strlen(v) >= CONFVAL_SUN_PATH)
			return say(buf, len, "must be an absolute path of at "
			    "most %zu bytes", CONFVAL_SUN_PATH - 1);
		break;
	case K_URL:
		if (v[0] != '\0' && (strncmp(v, "https://", 8) != 0 ||
		    v[8] == '\0' || has_space(v)))
			return say(buf, len, "\"%.80s\" is not an https:// URL",
			    v);
		break;
	case K_WORD:
		if (has_space(v))
			return "must be a single word";
		break;
	case K_TEXT:
	case K_NAME:
		break;
	}
	return NULL;
}

const char *
confval_string(const char *key, const char *v, char *buf, size_t len)
{
	size_t i;

	for (i = 0; key != NULL && i < NELEM(strings); i++)
		if (strcmp(strings[i].key, key) == 0)
			return check(strings[i].kind, v, buf, len);
	return check(K_TEXT, v, buf, len);
}

static const struct kw *
keywords_of(const char *key, const char **what)
{
	size_t i;

	for (i = 0; i < NELEM(keywords); i++)
		if (strcmp(keywords[i].key, key) == 0) {
			*what = keywords[i].what;
			return keywords[i].kw;
		}
	return NULL;
}

int
confval_keyword(const char *key, const char *v, long *out, const char **what)
{
	const struct kw *kw;

	for (kw = keywords_of(key, what); kw != NULL && kw->name != NULL; kw++)
		if (strcasecmp(kw->name, v) == 0) {
			*out = kw->value;
			return 0;
		}
	return -1;
}

const char *
confval_keyword_name(const char *key, int value)
{
	const struct kw	*kw;
	const char	*what;

	for (kw = keywords_of(key, &what); kw != NULL && kw->name != NULL;
	    kw++)
		if (kw->value == value)
			return kw->name;
	return "?";
}

int
confval_count(const char *key, const char *v, long *out, long *min,
    long *max)
{
	long long	 n;
	size_t		 i;

	for (i = 0; i < NELEM(counts); i++)
		if (strcmp(counts[i].key, key) == 0)
			break;
	if (i == NELEM(counts))
		return -1;
	*min = counts[i].min;
	*max = counts[i].max;
	if (!isdigit((unsigned char)v[0]) ||
	    util_parse_ll(v, *min, *max, &n) == -1)
		return -1;
	*out = (long)n;
	return 0;
}

bool
confval_hostname(const char *s)
{
	size_t	len = strlen(s), lab = 0, i;

	if (len == 0 || len > 253)
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (lab == 0 || s[i - 1] == '-')
				return false;
			lab = 0;
		} else if ((!isalnum(c) && c != '-') ||
		    (c == '-' && lab == 0) || ++lab > 63)
			return false;
	}
	return lab > 0 && s[len - 1] != '-';
}

int
confval_host(const char *s, struct conf_host *h, const char **why)
{
	struct in6_addr	 a6;
	const char	*close, *port;
	long long	 v;
	size_t		 nlen;
	bool		 v6 = s[0] == '[';

	if (v6) {
		if ((close = strchr(s, ']')) == NULL) {
			*why = "missing ']'";
			return -1;
		}
		if (close[1] != '\0' && close[1] != ':') {
			*why = "unexpected text after ']'";
			return -1;
		}
		port = close[1] == ':' ? close + 2 : NULL;
		nlen = (size_t)(close - ++s);
	} else {
		if ((close = strchr(s, ':')) != NULL &&
		    strchr(close + 1, ':') != NULL) {
			*why = "an IPv6 address must be written in brackets, "
			    "as [address]:port";
			return -1;
		}
		port = close != NULL ? close + 1 : NULL;
		nlen = close != NULL ? (size_t)(close - s) : strlen(s);
	}
	if (port != NULL && (!isdigit((unsigned char)*port) ||
	    util_parse_ll(port, 1, 65535, &v) == -1)) {
		*why = "port must be a number from 1 to 65535";
		return -1;
	}
	if ((h->name = strndup(s, nlen)) == NULL ||
	    (port != NULL && (h->port = strdup(port)) == NULL))
		return -2;
	if (v6 ? inet_pton(AF_INET6, h->name, &a6) != 1 :
	    !confval_hostname(h->name)) {
		*why = v6 ? "not an IPv6 address" : nlen == 0 ?
		    "missing host name" : "not a valid host name";
		return -1;
	}
	return 0;
}

int
confval_fingerprint(const char *s, unsigned char out[32])
{
	size_t	n = 0;
	int	hi, lo;

	if (strncasecmp(s, "sha256:", 7) != 0)
		return -1;
	for (s += 7; *s != '\0'; s += 2) {
		if (*s == ':' && n > 0 && n < 32 && s[1] != '\0')
			s++;
		if (n == 32 || (hi = util_hexval((unsigned char)s[0])) < 0 ||
		    (lo = util_hexval((unsigned char)s[1])) < 0)
			return -1;
		out[n++] = (unsigned char)(hi << 4 | lo);
	}
	return n == 32 ? 0 : -1;
}

int
confval_rate(const char *s, unsigned *count, unsigned *period)
{
	static const char	 units[] = "mhd";
	static const unsigned	 secs[] = { 60, 3600, 86400 };
	unsigned long long	 v;
	const char		*u;
	char			*end;

	*count = 0;
	*period = 60;
	if (strcmp(s, "0") == 0)
		return 0;
	if (!isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE || v == 0 || v > UINT_MAX || end[0] != '/' ||
	    end[1] == '\0' || end[2] != '\0' ||
	    (u = strchr(units, end[1])) == NULL)
		return -1;
	*count = (unsigned)v;
	*period = secs[u - units];
	return 0;
}

static char *
mailname(void)
{
	FILE	*f;
	char	*line = NULL, *r = NULL;
	size_t	 cap = 0;
	ssize_t	 n;

	if ((f = fopen(CONFVAL_MAILNAME, "re")) == NULL)
		return NULL;
	n = getline(&line, &cap, f);
	fclose(f);
	while (n > 0 && isspace((unsigned char)line[n - 1]))
		line[--n] = '\0';
	if (n > 0 && confval_hostname(line))
		r = strdup(line);
	free(line);
	return r;
}

char *
confval_default_hostname(const char **why)
{
	struct addrinfo	 hints = { .ai_flags = AI_CANONNAME }, *res = NULL;
	char		 hn[HOST_NAME_MAX + 1];
	const char	*cn = NULL;
	char		*r;

	if ((r = mailname()) != NULL)
		return r;
	if (gethostname(hn, sizeof(hn)) == -1) {
		*why = "cannot find this host's name; set hostname";
		return NULL;
	}
	hn[sizeof(hn) - 1] = '\0';
	if (getaddrinfo(hn, NULL, &hints, &res) == 0 && res != NULL)
		cn = res->ai_canonname;
	if (cn == NULL || strcasecmp(cn, "localhost") == 0 ||
	    strcasecmp(cn, "localhost.localdomain") == 0 ||
	    !confval_hostname(cn))
		cn = hn;
	if (!confval_hostname(cn))
		*why = "this host's name is not a valid domain name; "
		    "set hostname";
	else if ((r = strdup(cn)) == NULL)
		*why = "out of memory";
	if (res != NULL)
		freeaddrinfo(res);
	return r;
}
