/*
 * oauth2: OAuth2 for SMTP AUTH.  See oauth2.h.
 *
 * json-c parses what comes from outside (the token file, the
 * endpoints' replies); the token file is written by hand, so that
 * every byte of it stays in memory this module wipes.  json-c's own
 * copies of the strings it parsed are wiped before the object is put
 * (oauth2_json_put), as far as they can be reached: it offers no
 * secure free, and a copy it moved while growing a buffer is out of
 * reach (best effort; see oauth2.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "crypto.h"
#include "http.h"
#include "log.h"
#include "oauth2.h"
#include "oauth2_file.h"
#include "secret.h"
#include "util.h"

#define OAUTH2_FORM_MAX		(4 * OAUTH2_TOKEN_MAX)
#define OAUTH2_JSON_DEPTH	8

/* --- presets ---------------------------------------------------------- */

#define MS_BASE		"https://login.microsoftonline.com/"
#define MS_SCOPE	"https://outlook.office.com/SMTP.Send offline_access"
#define GOOGLE_AUTH	"https://accounts.google.com/o/oauth2/v2/auth"
#define GOOGLE_TOKEN	"https://oauth2.googleapis.com/token"
#define GOOGLE_SCOPE	"https://mail.google.com/"

static int
oauth2_set(char **dst, const char *conf, const char *preset)
{
	const char	*v = conf != NULL ? conf : preset;

	*dst = NULL;
	return v == NULL || (*dst = strdup(v)) != NULL ? 0 : -1;
}

/* Microsoft's endpoint path for the tenant (common, a name or an ID). */
static int
oauth2_ms(char **dst, const char *conf, const char *tenant,
    const char *leaf)
{
	*dst = NULL;
	if (conf != NULL)
		return (*dst = strdup(conf)) != NULL ? 0 : -1;
	if (asprintf(dst, MS_BASE "%s/oauth2/v2.0/%s", tenant != NULL ?
	    tenant : "common", leaf) == -1) {
		*dst = NULL;
		return -1;
	}
	return 0;
}

int
oauth2_endpoints(const struct conf_account *a, struct oauth2_endpoints *e)
{
	int	 r = 0;

	memset(e, 0, sizeof *e);
	switch (a->oauth2_provider) {
	case CONF_OAUTH2_MICROSOFT:
		r |= oauth2_ms(&e->token_url, a->oauth2_token_url,
		    a->oauth2_tenant, "token");
		r |= oauth2_ms(&e->device_url, a->oauth2_device_url,
		    a->oauth2_tenant, "devicecode");
		r |= oauth2_ms(&e->auth_url, a->oauth2_auth_url,
		    a->oauth2_tenant, "authorize");
		r |= oauth2_set(&e->scope, a->oauth2_scope, MS_SCOPE);
		break;
	case CONF_OAUTH2_GOOGLE:
		/* Google does not give its mail scope to the device flow. */
		r |= oauth2_set(&e->token_url, a->oauth2_token_url,
		    GOOGLE_TOKEN);
		r |= oauth2_set(&e->device_url, a->oauth2_device_url, NULL);
		r |= oauth2_set(&e->auth_url, a->oauth2_auth_url, GOOGLE_AUTH);
		r |= oauth2_set(&e->scope, a->oauth2_scope, GOOGLE_SCOPE);
		e->offline = true;
		break;
	default:
		r |= oauth2_set(&e->token_url, a->oauth2_token_url, NULL);
		r |= oauth2_set(&e->device_url, a->oauth2_device_url, NULL);
		r |= oauth2_set(&e->auth_url, a->oauth2_auth_url, NULL);
		r |= oauth2_set(&e->scope, a->oauth2_scope, NULL);
		break;
	}
	if (r != 0 || e->token_url == NULL || e->scope == NULL) {
		oauth2_endpoints_free(e);
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

void
oauth2_endpoints_free(struct oauth2_endpoints *e)
{
	free(e->token_url);
	free(e->device_url);
	free(e->auth_url);
	free(e->scope);
	memset(e, 0, sizeof *e);
}

/* --- tokens and JSON -------------------------------------------------- */

void
oauth2_token_clear(struct oauth2_token *t)
{
	secret_free(t->refresh_token);
	secret_free(t->access_token);
	memset(t, 0, sizeof *t);
}

/* A token: 1 .. OAUTH2_TOKEN_MAX visible ASCII characters (RFC 6750's
 * b64token and more: refresh tokens are opaque). */
static bool
oauth2_token_ok(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0 || len > OAUTH2_TOKEN_MAX)
		return false;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

/* Wipes the strings json-c holds, then lets the object go. */
static void
oauth2_json_put(struct json_object *o)
{
	struct json_object_iterator	 it, end;
	struct json_object		*v;

	if (o == NULL)
		return;
	if (json_object_is_type(o, json_type_object)) {
		it = json_object_iter_begin(o);
		end = json_object_iter_end(o);
		for (; !json_object_iter_equal(&it, &end);
		    json_object_iter_next(&it)) {
			v = json_object_iter_peek_value(&it);
			if (json_object_is_type(v, json_type_string))
				util_wipe((char *)json_object_get_string(v),
				    (size_t)json_object_get_string_len(v));
		}
	}
	json_object_put(o);
}

/* The whole of text as one JSON object (strict JSON), or NULL.  The
 * tokener's buffer, which held the strings, is wiped before it goes:
 * json-c has no call for that, so its (stable, public) struct is. */
static struct json_object *
oauth2_json_parse(const char *text, size_t len)
{
	struct json_tokener	*tok;
	struct json_object	*o;
	size_t			 end;

	if (len > INT_MAX || (tok = json_tokener_new_ex(OAUTH2_JSON_DEPTH)) ==
	    NULL)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, text, (int)len);
	end = json_tokener_get_parse_end(tok);
	if (tok->pb != NULL && tok->pb->buf != NULL && tok->pb->size > 0)
		util_wipe(tok->pb->buf, (size_t)tok->pb->size);
	json_tokener_free(tok);
	if (o == NULL)
		return NULL;
	while (end < len && (text[end] == ' ' || text[end] == '\t' ||
	    text[end] == '\r' || text[end] == '\n'))
		end++;
	if (end != len || !json_object_is_type(o, json_type_object)) {
		oauth2_json_put(o);
		return NULL;
	}
	return o;
}

/*
 * Member key of o as a string: 0 with *out (NULL when absent or null),
 * -1 when it is of another type, holds a NUL, or (token) is no token.
 */
static int
oauth2_json_str(struct json_object *o, const char *key, bool token,
    char **out)
{
	struct json_object	*v;
	const char		*s;
	size_t			 len;

	*out = NULL;
	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return -1;
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (strlen(s) != len || (token && !oauth2_token_ok(s, len)))
		return -1;
	if (!token && len > 4096)
		return -1;
	return (*out = strdup(s)) != NULL ? 0 : -1;
}

/* Member key as a number (or a string of digits, as some servers send
 * expires_in) in [0, max]: 0 with *out (0 when absent), or -1. */
static int
oauth2_json_num(struct json_object *o, const char *key, long long max,
    long long *out)
{
	struct json_object	*v;
	int64_t			 n;

	*out = 0;
	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return 0;
	if (json_object_is_type(v, json_type_string))
		return util_parse_ll(json_object_get_string(v), 0, max, out);
	if (!json_object_is_type(v, json_type_int))
		return -1;
	errno = 0;
	n = json_object_get_int64(v);
	if (errno != 0 || n < 0 || n > max)
		return -1;
	*out = n;
	return 0;
}

/* One bare line: a refresh token from another tool. */
static int
oauth2_token_bare(const char *text, size_t len, struct oauth2_token *t,
    char *err, size_t errlen)
{
	size_t	 n = 0, end;

	while (n < len && text[n] != '\n' && text[n] != '\r')
		n++;
	for (end = n; end < len && (text[end] == '\n' || text[end] == '\r');)
		end++;
	/* JSON that is not an object is not taken for a token. */
	if (n == 0 || end != len || !oauth2_token_ok(text, n) ||
	    text[0] == '[' || text[0] == '"') {
		snprintf(err, errlen, "neither JSON nor one line holding a "
		    "refresh token");
		return -1;
	}
	if ((t->refresh_token = strndup(text, n)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

int
oauth2_token_parse(const char *text, size_t len, struct oauth2_token *t,
    char *err, size_t errlen)
{
	struct json_object	*o;
	size_t			 i = 0;

	memset(t, 0, sizeof *t);
	while (i < len && (text[i] == ' ' || text[i] == '\t' ||
	    text[i] == '\n' || text[i] == '\r'))
		i++;
	if (i == len || text[i] != '{')
		return oauth2_token_bare(text, len, t, err, errlen);
	if ((o = oauth2_json_parse(text, len)) == NULL) {
		snprintf(err, errlen, "not a JSON object");
		return -1;
	}
	if (oauth2_json_str(o, "refresh_token", true, &t->refresh_token) ==
	    -1 || oauth2_json_str(o, "access_token", true,
	    &t->access_token) == -1 || oauth2_json_num(o, "expires_at",
	    LLONG_MAX / 2, &t->expires_at) == -1 || oauth2_json_num(o,
	    "issued_at", LLONG_MAX / 2, &t->issued_at) == -1) {
		snprintf(err, errlen, "a member is not what it should be "
		    "(refresh_token, access_token: tokens; expires_at, "
		    "issued_at: Unix times)");
		oauth2_json_put(o);
		oauth2_token_clear(t);
		return -1;
	}
	oauth2_json_put(o);
	if (t->refresh_token == NULL && t->access_token == NULL) {
		snprintf(err, errlen, "no refresh_token and no access_token");
		return -1;
	}
	return 0;
}

/* A JSON string of visible ASCII: only '"' and '\\' need escaping. */
static int
oauth2_json_add(struct buf *out, const char *key, const char *s)
{
	if (buf_printf(out, "%s\"%s\": \"", out->len > 1 ? ", " : "",
	    key) == -1)
		return -1;
	for (; *s != '\0'; s++)
		if ((*s == '"' || *s == '\\') && buf_addch(out, '\\') == -1)
			return -1;
		else if (buf_addch(out, *s) == -1)
			return -1;
	return buf_addch(out, '"');
}

int
oauth2_token_format(const struct oauth2_token *t, struct buf *out)
{
	if (buf_addch(out, '{') == -1)
		return -1;
	if (t->refresh_token != NULL &&
	    oauth2_json_add(out, "refresh_token", t->refresh_token) == -1)
		return -1;
	if (t->access_token != NULL && (oauth2_json_add(out, "access_token",
	    t->access_token) == -1 || buf_printf(out, ", \"expires_at\": %lld"
	    ", \"issued_at\": %lld", t->expires_at, t->issued_at) == -1))
		return -1;
	return buf_addstr(out, "}\n");
}

bool
oauth2_token_fresh(const struct oauth2_token *t, time_t now)
{
	long long	 margin = 60, life;

	if (t->access_token == NULL || t->expires_at <= 0)
		return false;
	life = t->expires_at - t->issued_at;
	if (t->issued_at > 0 && life > 0 && life / 10 < margin)
		margin = life / 10;
	return (long long)now + margin < t->expires_at;
}

/* --- endpoint replies ------------------------------------------------- */

/* RFC 6749 section 5.2 and RFC 8628 section 3.5, for people. */
static const struct {
	const char		*code;
	enum oauth2_status	 st;
	const char		*text;
} oauth2_errors[] = {
	{ "authorization_pending", OAUTH2_PENDING,
	    "the user has not finished signing in yet" },
	{ "slow_down", OAUTH2_SLOW_DOWN,
	    "polling too often: the interval grows by 5 seconds" },
	{ "access_denied", OAUTH2_REFUSED,
	    "the user or the provider refused the authorization" },
	{ "expired_token", OAUTH2_REFUSED,
	    "the code expired before the user signed in: run the login "
	    "again" },
	{ "invalid_grant", OAUTH2_GRANT,
	    "the refresh token or code is invalid, expired or revoked "
	    "(password change, admin revocation, rotation): run sendq "
	    "oauth2 login again" },
	{ "invalid_client", OAUTH2_REFUSED,
	    "the provider does not accept the client: check "
	    "oauth2_client_id and oauth2_client_secret" },
	{ "unauthorized_client", OAUTH2_REFUSED,
	    "the client may not use this grant: allow it (public client, "
	    "device flow) in the provider's app registration" },
	{ "invalid_scope", OAUTH2_REFUSED,
	    "the provider refused the scope: check oauth2_scope and the "
	    "app's API permissions" },
	{ "invalid_request", OAUTH2_REFUSED,
	    "the provider found the request malformed: check the "
	    "oauth2_* URLs and oauth2_tenant" },
	{ "unsupported_grant_type", OAUTH2_REFUSED,
	    "the provider does not support this grant at this endpoint: "
	    "check oauth2_token_url" },
	{ "temporarily_unavailable", OAUTH2_TEMP,
	    "the provider is temporarily unavailable" },
	{ "server_error", OAUTH2_TEMP,
	    "the provider had an internal error" },
};

/* The index of code in oauth2_errors, or NELEM(oauth2_errors). */
static size_t
oauth2_error_find(const char *code)
{
	size_t	 i;

	for (i = 0; i < NELEM(oauth2_errors); i++)
		if (strcmp(oauth2_errors[i].code, code) == 0)
			break;
	return i;
}

const char *
oauth2_error_text(const char *code)
{
	size_t	 i = oauth2_error_find(code);

	return i < NELEM(oauth2_errors) ? oauth2_errors[i].text : NULL;
}

void
oauth2_reply_free(struct oauth2_reply *r)
{
	secret_free(r->access_token);
	secret_free(r->refresh_token);
	secret_free(r->device_code);
	free(r->user_code);
	free(r->verification_uri);
	free(r->verification_uri_complete);
	memset(r, 0, sizeof *r);
}

/* s made safe to quote: escaped, at most max bytes of it. */
static void
oauth2_quote(char *dst, size_t len, const char *s, size_t max)
{
	struct buf	 b;

	buf_init(&b, 0);
	if (util_escape(&b, s, strnlen(s, max), NULL) == -1)
		snprintf(dst, len, "?");
	else
		snprintf(dst, len, "%s", buf_str(&b));
	buf_free(&b);
}

/* An error reply: its code, its meaning and the server's words. */
static void
oauth2_reply_error(struct json_object *o, long status, struct oauth2_reply *r)
{
	char		*code = NULL, *desc = NULL, qd[256];
	const char	*text = NULL;
	size_t		 i;

	r->st = status >= 500 || status == 429 ? OAUTH2_TEMP : OAUTH2_REFUSED;
	(void)oauth2_json_str(o, "error", false, &code);
	(void)oauth2_json_str(o, "error_description", false, &desc);
	if (code != NULL) {
		oauth2_quote(r->error, sizeof r->error, code, 48);
		if ((i = oauth2_error_find(code)) < NELEM(oauth2_errors)) {
			r->st = oauth2_errors[i].st;
			text = oauth2_errors[i].text;
		}
	}
	oauth2_quote(qd, sizeof qd, desc != NULL ? desc : "", 200);
	snprintf(r->what, sizeof r->what, "%s%s%s%s%s%s", r->error[0] ?
	    r->error : "an error", text != NULL ? ": " : "", text != NULL ?
	    text : "", qd[0] ? " (the server says: " : "", qd, qd[0] ? ")" :
	    "");
	free(code);
	free(desc);
}

/* The members of a successful reply; -1 when one is malformed. */
static int
oauth2_reply_fields(struct json_object *o, struct oauth2_reply *r)
{
	if (oauth2_json_str(o, "access_token", true, &r->access_token) ==
	    -1 || oauth2_json_str(o, "refresh_token", true,
	    &r->refresh_token) == -1 || oauth2_json_str(o, "device_code",
	    true, &r->device_code) == -1 || oauth2_json_str(o, "user_code",
	    true, &r->user_code) == -1 || oauth2_json_str(o,
	    "verification_uri", true, &r->verification_uri) == -1 ||
	    oauth2_json_str(o, "verification_uri_complete", true,
	    &r->verification_uri_complete) == -1 ||
	    oauth2_json_num(o, "expires_in", 10LL * 365 * 86400,
	    &r->expires_in) == -1 || oauth2_json_num(o, "interval", 3600,
	    &r->interval) == -1)
		return -1;
	/* Microsoft's v1 device endpoint says verification_url. */
	if (r->verification_uri == NULL && oauth2_json_str(o,
	    "verification_url", true, &r->verification_uri) == -1)
		return -1;
	return 0;
}

void
oauth2_reply_parse(long status, const char *body, size_t len,
    struct oauth2_reply *r)
{
	struct json_object	*o;

	memset(r, 0, sizeof *r);
	o = oauth2_json_parse(body, len);
	if (o != NULL && json_object_object_get_ex(o, "error", NULL))
		oauth2_reply_error(o, status, r);
	else if (status == 200 && o != NULL) {
		if (oauth2_reply_fields(o, r) == -1) {
			oauth2_reply_free(r);
			r->st = OAUTH2_TEMP;
			snprintf(r->what, sizeof r->what, "a malformed member "
			    "in the reply");
		}
	} else {
		/* A body that is no JSON object is not the endpoint's
		 * word (a proxy's 403 or 407, a 404 of a wrong URL): a
		 * refusal would hold the account for it. */
		r->st = o == NULL || status >= 500 || status == 429 ||
		    status == 200 ? OAUTH2_TEMP : OAUTH2_REFUSED;
		snprintf(r->what, sizeof r->what, "HTTP status %ld%s", status,
		    o == NULL ? " without a JSON object" : "");
	}
	oauth2_json_put(o);
}

/* --- URLs, PKCE -------------------------------------------------------- */

/* Percent-decodes s[0..len) ('+' a space) onto out. */
static int
oauth2_unescape(struct buf *out, const char *s, size_t len)
{
	size_t	 i;
	int	 h, l;

	for (i = 0; i < len; i++) {
		char	 c = s[i];

		if (c == '+')
			c = ' ';
		else if (c == '%') {
			if (len - i < 3 || (h = util_hexval(s[i + 1])) == -1 ||
			    (l = util_hexval(s[i + 2])) == -1)
				return -1;
			c = (char)(h << 4 | l);
			i += 2;
		}
		if (buf_addch(out, c) == -1)
			return -1;
	}
	return 0;
}

int
oauth2_query_get(const char *url, const char *name, struct buf *out)
{
	const char	*q = strchr(url, '?'), *end, *amp, *eq;
	size_t		 nlen = strlen(name);

	if (q == NULL)
		return 0;
	q++;
	end = q + strcspn(q, "#");
	for (; q < end; q = amp + 1) {
		if ((amp = memchr(q, '&', (size_t)(end - q))) == NULL)
			amp = end;
		eq = memchr(q, '=', (size_t)(amp - q));
		if (eq != NULL && (size_t)(eq - q) == nlen &&
		    memcmp(q, name, nlen) == 0)
			return oauth2_unescape(out, eq + 1,
			    (size_t)(amp - eq - 1)) == -1 ? -1 : 1;
		if (amp == end)
			break;
	}
	return 0;
}

/* base64url without padding (RFC 4648 section 5) of n bytes. */
static int
oauth2_b64url(const unsigned char *data, size_t n, char *dst, size_t len)
{
	struct buf	 b;
	size_t		 i, k = 0;

	buf_init_secret(&b, 256);
	if (util_base64_encode(&b, data, n) == -1) {
		buf_free(&b);
		return -1;
	}
	for (i = 0; i < b.len && b.data[i] != '=' && k + 1 < len; i++)
		dst[k++] = b.data[i] == '+' ? '-' : b.data[i] == '/' ? '_' :
		    b.data[i];
	dst[k] = '\0';
	buf_free(&b);
	return 0;
}

int
oauth2_pkce(char verifier[OAUTH2_PKCE_LEN], char challenge[OAUTH2_PKCE_LEN])
{
	unsigned char	 rnd[32], md[CRYPTO_MD_MAX];
	size_t		 mdlen;
	int		 r = -1;

	if (util_random(rnd, sizeof rnd) == 0 &&
	    oauth2_b64url(rnd, sizeof rnd, verifier, OAUTH2_PKCE_LEN) == 0 &&
	    crypto_digest(CRYPTO_MD_SHA256, verifier, strlen(verifier), md,
	    &mdlen) == 0 &&
	    oauth2_b64url(md, mdlen, challenge, OAUTH2_PKCE_LEN) == 0)
		r = 0;
	util_wipe(rnd, sizeof rnd);
	return r;
}

char *
oauth2_auth_request(const struct conf_account *a,
    const struct oauth2_endpoints *e, const char *redirect_uri,
    const char *state, const char *challenge)
{
	struct buf	 q;
	char		*url = NULL;

	buf_init(&q, 0);
	if (e->auth_url != NULL && http_form_add(&q, "response_type",
	    "code") == 0 && http_form_add(&q, "client_id",
	    a->oauth2_client_id) == 0 && http_form_add(&q, "redirect_uri",
	    redirect_uri) == 0 && http_form_add(&q, "scope", e->scope) == 0 &&
	    http_form_add(&q, "state", state) == 0 && http_form_add(&q,
	    "code_challenge", challenge) == 0 && http_form_add(&q,
	    "code_challenge_method", "S256") == 0 && (!e->offline ||
	    (http_form_add(&q, "access_type", "offline") == 0 &&
	    http_form_add(&q, "prompt", "consent") == 0)) &&
	    asprintf(&url, "%s%c%s", e->auth_url, strchr(e->auth_url, '?') ?
	    '&' : '?', buf_str(&q)) == -1)
		url = NULL;
	buf_free(&q);
	return url;
}

/* --- requests ----------------------------------------------------------- */

/* The client secret, from oauth2_client_secret or the first line of
 * oauth2_client_secret_file; *out NULL when there is none. */
static int
oauth2_client_secret(const struct conf_account *a, char **out, char *err,
    size_t errlen)
{
	*out = NULL;
	if (a->oauth2_client_secret != NULL) {
		if ((*out = strdup(a->oauth2_client_secret)) != NULL)
			return 0;
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (a->oauth2_client_secret_file == NULL)
		return 0;
	*out = secret_file_line(a->oauth2_client_secret_file,
	    "oauth2_client_secret_file", err, errlen);
	return *out != NULL ? 0 : -1;
}

/* client_id, and client_secret when the token endpoint is asked. */
static int
oauth2_form_client(const struct conf_account *a, struct buf *form,
    bool with_secret, struct oauth2_reply *r)
{
	char	*secret = NULL;
	int	 ret;

	if (http_form_add(form, "client_id", a->oauth2_client_id) == -1)
		goto nomem;
	if (!with_secret)
		return 0;
	if (oauth2_client_secret(a, &secret, r->what, sizeof r->what) == -1) {
		r->st = OAUTH2_LOCAL;
		return -1;
	}
	ret = secret == NULL ? 0 : http_form_add(form, "client_secret",
	    secret);
	secret_free(secret);
	if (ret == 0)
		return 0;
nomem:
	r->st = OAUTH2_LOCAL;
	snprintf(r->what, sizeof r->what, "out of memory");
	return -1;
}

/* POSTs the form and parses the reply into r. */
static enum oauth2_status
oauth2_post(const struct conf_account *a, const char *url,
    const struct buf *form, struct oauth2_reply *r)
{
	struct http_params	 hp = { a->oauth2_ca_file, 0 };
	struct buf		 resp;
	char			 err[512];
	long			 status;

	buf_init_secret(&resp, 0);
	if (http_post_form(&hp, url, buf_str(form), form->len, &resp, &status,
	    err, sizeof err) == -1) {
		memset(r, 0, sizeof *r);
		r->st = OAUTH2_TEMP;
		snprintf(r->what, sizeof r->what, "%s", err);
	} else
		oauth2_reply_parse(status, buf_str(&resp), resp.len, r);
	buf_free(&resp);
	return r->st;
}

/* A token request: the form's grant with the client's credentials. */
static enum oauth2_status
oauth2_token_request(const struct conf_account *a,
    const struct oauth2_endpoints *e, struct buf *form,
    struct oauth2_reply *r)
{
	memset(r, 0, sizeof *r);
	if (oauth2_form_client(a, form, true, r) == -1)
		return r->st;
	if (oauth2_post(a, e->token_url, form, r) == OAUTH2_OK &&
	    r->access_token == NULL) {
		oauth2_reply_free(r);
		r->st = OAUTH2_TEMP;
		snprintf(r->what, sizeof r->what, "%s: the reply holds no "
		    "access_token", e->token_url);
	}
	return r->st;
}

static enum oauth2_status
oauth2_nomem(struct oauth2_reply *r)
{
	memset(r, 0, sizeof *r);
	r->st = OAUTH2_LOCAL;
	snprintf(r->what, sizeof r->what, "out of memory");
	return r->st;
}

enum oauth2_status
oauth2_device_request(const struct conf_account *a,
    const struct oauth2_endpoints *e, struct oauth2_reply *r)
{
	struct buf	 form;

	buf_init(&form, OAUTH2_FORM_MAX);
	memset(r, 0, sizeof *r);
	if (e->device_url == NULL || http_form_add(&form, "scope",
	    e->scope) == -1 || oauth2_form_client(a, &form, false, r) == -1) {
		buf_free(&form);
		return oauth2_nomem(r);
	}
	if (oauth2_post(a, e->device_url, &form, r) == OAUTH2_OK &&
	    (r->device_code == NULL || r->user_code == NULL ||
	    r->verification_uri == NULL)) {
		oauth2_reply_free(r);
		r->st = OAUTH2_TEMP;
		snprintf(r->what, sizeof r->what, "%s: the reply lacks "
		    "device_code, user_code or verification_uri",
		    e->device_url);
	}
	buf_free(&form);
	return r->st;
}

enum oauth2_status
oauth2_device_poll(const struct conf_account *a,
    const struct oauth2_endpoints *e, const char *device_code,
    struct oauth2_reply *r)
{
	struct buf		 form;
	enum oauth2_status	 st;

	buf_init_secret(&form, OAUTH2_FORM_MAX);
	if (http_form_add(&form, "grant_type",
	    "urn:ietf:params:oauth:grant-type:device_code") == -1 ||
	    http_form_add(&form, "device_code", device_code) == -1) {
		buf_free(&form);
		return oauth2_nomem(r);
	}
	st = oauth2_token_request(a, e, &form, r);
	buf_free(&form);
	return st;
}

enum oauth2_status
oauth2_code_exchange(const struct conf_account *a,
    const struct oauth2_endpoints *e, const char *code,
    const char *verifier, const char *redirect_uri, struct oauth2_reply *r)
{
	struct buf		 form;
	enum oauth2_status	 st;

	buf_init_secret(&form, OAUTH2_FORM_MAX);
	if (http_form_add(&form, "grant_type", "authorization_code") == -1 ||
	    http_form_add(&form, "code", code) == -1 ||
	    http_form_add(&form, "redirect_uri", redirect_uri) == -1 ||
	    http_form_add(&form, "code_verifier", verifier) == -1) {
		buf_free(&form);
		return oauth2_nomem(r);
	}
	st = oauth2_token_request(a, e, &form, r);
	buf_free(&form);
	return st;
}

/* RFC 6749 section 6. */
static enum oauth2_status
oauth2_refresh_request(const struct conf_account *a,
    const char *refresh_token, struct oauth2_reply *r)
{
	struct oauth2_endpoints	 e;
	struct buf		 form;
	enum oauth2_status	 st;

	if (oauth2_endpoints(a, &e) == -1)
		return oauth2_nomem(r);
	buf_init_secret(&form, OAUTH2_FORM_MAX);
	if (http_form_add(&form, "grant_type", "refresh_token") == -1 ||
	    http_form_add(&form, "refresh_token", refresh_token) == -1 ||
	    http_form_add(&form, "scope", e.scope) == -1)
		st = oauth2_nomem(r);
	else
		st = oauth2_token_request(a, &e, &form, r);
	buf_free(&form);
	oauth2_endpoints_free(&e);
	return st;
}

/* --- the access token of a delivery ------------------------------------- */

int
oauth2_token_update(struct oauth2_token *t, const struct oauth2_reply *r,
    time_t now)
{
	char	*at, *rt = NULL;

	if ((at = strdup(r->access_token)) == NULL ||
	    (r->refresh_token != NULL &&
	    (rt = strdup(r->refresh_token)) == NULL)) {
		secret_free(at);
		return -1;
	}
	secret_free(t->access_token);
	t->access_token = at;
	if (rt != NULL) {
		secret_free(t->refresh_token);
		t->refresh_token = rt;
	}
	t->issued_at = now;
	t->expires_at = (long long)now + (r->expires_in > 0 ? r->expires_in :
	    3600);
	return 0;
}

/* A token issued less than this many seconds ago and refused at once
 * is not refreshed: the refusal is about something else (SMTP AUTH
 * disabled, a mailbox not licensed), and a refresh would not mend it. */
#define OAUTH2_NEW	60

/* t's access token when fresh and not the one refused: 1 with *out;
 * 2 when it is the one refused but new; 0 when a refresh is due. */
static int
oauth2_take(const struct oauth2_token *t, const char *refused, time_t now,
    char **out)
{
	if (!oauth2_token_fresh(t, now))
		return 0;
	if (refused != NULL && strcmp(t->access_token, refused) == 0)
		return t->issued_at > 0 && (long long)now - t->issued_at <
		    OAUTH2_NEW ? 2 : 0;
	if ((*out = strdup(t->access_token)) == NULL)
		return -1;
	return 1;
}

/* What oauth2_take's answer r means for oauth2_access. */
static enum oauth2_status
oauth2_taken(int r, char *err, size_t errlen)
{
	switch (r) {
	case 1:
		return OAUTH2_OK;
	case 2:
		err[0] = '\0';	/* the server's refusal stands */
		return OAUTH2_REFUSED;
	default:
		snprintf(err, errlen, "out of memory");
		return OAUTH2_LOCAL;
	}
}

/* Under the lock: a refresh with t's refresh token, saved. */
static enum oauth2_status
oauth2_refresh(const struct conf_account *a, struct oauth2_token *t,
    char **out, char *err, size_t errlen)
{
	struct oauth2_reply	 r;
	enum oauth2_status	 st;
	time_t			 now;
	char			 why[512];

	if (t->refresh_token == NULL) {
		snprintf(err, errlen, "token file %s: no refresh token: run "
		    "sendq oauth2 login %s", a->oauth2_token_file, a->name);
		return OAUTH2_NO_LOGIN;
	}
	st = oauth2_refresh_request(a, t->refresh_token, &r);
	now = util_now();
	if (st == OAUTH2_OK && (oauth2_token_update(t, &r, now) == -1 ||
	    (*out = strdup(t->access_token)) == NULL)) {
		st = OAUTH2_LOCAL;
		snprintf(r.what, sizeof r.what, "out of memory");
	}
	if (st != OAUTH2_OK) {
		snprintf(err, errlen, "OAuth2 refresh: %s%s%s", r.what,
		    st == OAUTH2_GRANT ? ": run sendq oauth2 login " : "",
		    st == OAUTH2_GRANT ? a->name : "");
		oauth2_reply_free(&r);
		return st;
	}
	log_info("account %s: OAuth2 access token refreshed, valid for %llds%s",
	    a->name, t->expires_at - (long long)now, r.refresh_token != NULL ?
	    "; new refresh token saved" : "");
	/* The token works now; a lost rotated refresh token would only
	 * show at the next refresh, so say so loudly. */
	if (oauth2_file_save(a->oauth2_token_file, t, why, sizeof why) == -1)
		log_warnx("account %s: %s%s", a->name, why, r.refresh_token !=
		    NULL ? "; the new refresh token is lost: run sendq oauth2 "
		    "login if the next refresh fails" : "");
	oauth2_reply_free(&r);
	return OAUTH2_OK;
}

/* The token file, with the hint that a missing login needs. */
static enum oauth2_status
oauth2_load(const struct conf_account *a, struct oauth2_token *t, char *err,
    size_t errlen)
{
	enum oauth2_status	 st;
	size_t			 n;

	st = oauth2_file_load(a->oauth2_token_file, t, err, errlen);
	if (st == OAUTH2_NO_LOGIN && (n = strlen(err)) + 1 < errlen)
		snprintf(err + n, errlen - n, ": run sendq oauth2 login %s",
		    a->name);
	return st;
}

/* What oauth2_access asks of the token file's owner. */
struct oauth2_want {
	const struct conf_account	*a;
	const char			*refused;
};

/* As the token file's owner (oauth2_file_run): its fresh token, or one
 * refreshed under the lock. */
static enum oauth2_status
oauth2_access_owner(void *arg, char **out, char *err, size_t errlen)
{
	const struct oauth2_want	*w = arg;
	struct oauth2_token		 t;
	enum oauth2_status		 st;
	int				 r, lk;

	if ((st = oauth2_load(w->a, &t, err, errlen)) != OAUTH2_OK)
		return st;
	r = oauth2_take(&t, w->refused, util_now(), out);
	oauth2_token_clear(&t);
	if (r != 0)
		return oauth2_taken(r, err, errlen);
	if ((lk = oauth2_file_lock(w->a->oauth2_token_file, err,
	    errlen)) == -1)
		return OAUTH2_LOCAL;
	/* Another process may have refreshed while we waited. */
	if ((st = oauth2_load(w->a, &t, err, errlen)) == OAUTH2_OK) {
		if ((r = oauth2_take(&t, w->refused, util_now(), out)) != 0)
			st = oauth2_taken(r, err, errlen);
		else
			st = oauth2_refresh(w->a, &t, out, err, errlen);
	}
	oauth2_token_clear(&t);
	close(lk);
	return st;
}

enum oauth2_status
oauth2_access(const struct conf_account *a, const char *refused, char **out,
    char *err, size_t errlen)
{
	struct oauth2_want	 w = { a, refused };

	return oauth2_file_run(a->oauth2_token_file, oauth2_access_owner, &w,
	    out, err, errlen);
}

/* What oauth2_token_store asks of it. */
struct oauth2_store {
	const char			*path;
	const struct oauth2_token	*t;
};

/* As the token file's owner: t saved under the lock. */
static enum oauth2_status
oauth2_store_owner(void *arg, char **out, char *err, size_t errlen)
{
	const struct oauth2_store	*s = arg;

	*out = NULL;
	return oauth2_file_store(s->path, s->t, err, errlen) == 0 ?
	    OAUTH2_OK : OAUTH2_LOCAL;
}

int
oauth2_token_store(const char *path, const struct oauth2_token *t,
    char *err, size_t errlen)
{
	struct oauth2_store	 s = { path, t };
	char			*out = NULL;
	enum oauth2_status	 st;

	st = oauth2_file_run(path, oauth2_store_owner, &s, &out, err, errlen);
	secret_free(out);
	return st == OAUTH2_OK ? 0 : -1;
}
