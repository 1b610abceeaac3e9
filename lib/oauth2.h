/*
 * oauth2: the OAuth2 client of an account with oauth2_provider (SPEC
 * "Providers"): the provider presets, the token file, the access token
 * that XOAUTH2 and OAUTHBEARER carry, refreshed before it expires
 * (RFC 6749 section 6), and the requests of `sendq oauth2 login': the
 * device authorization grant (RFC 8628) and the authorization code
 * grant with PKCE (RFC 7636).
 *
 * The token file is JSON: {"refresh_token", "access_token",
 * "expires_at", "issued_at"} (Unix times); a file holding one bare line
 * is a refresh token, so that tokens from other tools can be brought
 * over.  Where it is kept, its lock and who writes it are
 * oauth2_file.h's: every process that delivers through it (the
 * daemon's sessions, sendq flush and run) shares one access token,
 * refreshed under the lock by whoever gets it first.
 *
 * The parsers of the token file and of the endpoints' replies are pure
 * functions (unit tests, tests/fuzz/oauth2.c); only they and the
 * writer of the file include json-c.  HTTPS is http.c's.
 *
 * Security: no token or secret appears in a log line, an error
 * message or -v output.  What a server says (error, error_description)
 * is escaped and capped before it is quoted.  Wiping is best effort:
 * the buffers of this module, and json-c's copies of the strings it
 * parsed, are wiped before they are freed, but json-c may have moved a
 * string while parsing (realloc), and libcurl and OpenSSL keep their
 * own buffers that nothing here can reach.  What protects those is
 * that sendq is not dumpable and has no core file (RLIMIT_CORE 0).
 */
#ifndef SENDQ_OAUTH2_H
#define SENDQ_OAUTH2_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "conf.h"

#define OAUTH2_TOKEN_MAX	16384	/* bytes of one token */
#define OAUTH2_FILE_MAX		65536	/* bytes of the token file */

/* What a request or a token lookup came to. */
enum oauth2_status {
	OAUTH2_OK,
	OAUTH2_PENDING,		/* authorization_pending: poll again */
	OAUTH2_SLOW_DOWN,	/* slow_down: poll again, 5 s slower */
	OAUTH2_NO_LOGIN,	/* no refresh token: sendq oauth2 login */
	OAUTH2_GRANT,		/* invalid_grant: log in again */
	OAUTH2_REFUSED,		/* another refusal of the endpoint
				 * (access_denied, expired_token,
				 * invalid_client, ...) */
	OAUTH2_TEMP,		/* no usable answer: network, 5xx, 429 */
	OAUTH2_LOCAL,		/* memory, the token file not writable */
};

/* The endpoints and scope of an account, presets filled in. */
struct oauth2_endpoints {
	char	*token_url;
	char	*device_url;	/* NULL: the authorization code flow */
	char	*auth_url;	/* NULL: none */
	char	*scope;
	bool	 offline;	/* ask for access_type=offline (Google) */
};

/* 0, or -1 (ENOMEM) with nothing to free. */
int	oauth2_endpoints(const struct conf_account *a,
	    struct oauth2_endpoints *e);
void	oauth2_endpoints_free(struct oauth2_endpoints *e);

/* The contents of a token file; every string is wiped when cleared. */
struct oauth2_token {
	char		*refresh_token;	/* NULL: none */
	char		*access_token;	/* NULL: none */
	long long	 expires_at;	/* of access_token; 0: unknown */
	long long	 issued_at;	/* when it was obtained; 0: unknown */
};

/* Wipes and frees the strings; t is then empty. */
void	oauth2_token_clear(struct oauth2_token *t);
/*
 * The token file's text (len bytes, NUL or not at text[len]): JSON, or
 * one bare line taken as the refresh token.  0 with t filled (the
 * caller clears it), or -1 with err (never quoting a token).  Every
 * token is 1 .. OAUTH2_TOKEN_MAX visible ASCII characters.
 */
int	oauth2_token_parse(const char *text, size_t len,
	    struct oauth2_token *t, char *err, size_t errlen);
/* The file's JSON text of t, appended to out (a secret buf).  -1 with
 * errno ENOMEM or EMSGSIZE. */
int	oauth2_token_format(const struct oauth2_token *t, struct buf *out);
/* True when t's access token may still be used at now: more than a
 * minute, or a tenth of its lifetime when that is less, remains. */
bool	oauth2_token_fresh(const struct oauth2_token *t, time_t now);

/* A reply of a token or device authorization endpoint. */
struct oauth2_reply {
	enum oauth2_status st;
	char		 error[64];	/* the error code, or "" */
	char		 what[512];	/* the error said for people, or "" */
	char		*access_token;	/* these NULL when absent */
	char		*refresh_token;
	long long	 expires_in;	/* 0 when absent */
	char		*device_code;
	char		*user_code;
	char		*verification_uri;
	char		*verification_uri_complete;
	long long	 interval;	/* 0 when absent */
};

/*
 * Parses a reply (its HTTP status and body).  Sets r->st: OAUTH2_OK
 * for a 200 with a JSON object (the caller checks the fields it needs),
 * the status an RFC 6749 section 5.2 or RFC 8628 error code stands for,
 * OAUTH2_TEMP for a 5xx, 429 or a body that is no JSON object,
 * OAUTH2_REFUSED for another status; r->what then says it in a
 * sentence.  The caller frees r with oauth2_reply_free.
 */
void	oauth2_reply_parse(long status, const char *body, size_t len,
	    struct oauth2_reply *r);
void	oauth2_reply_free(struct oauth2_reply *r);
/* What an error code means, in a sentence; NULL for an unknown one. */
const char *oauth2_error_text(const char *code);

/*
 * The value of query parameter name in a URL or query string
 * ("...?a=1&b=2#frag"), percent-decoded ('+' is a space), appended to
 * out.  1 when found, 0 when not, -1 when malformed or out's cap is
 * reached.
 */
int	oauth2_query_get(const char *url, const char *name, struct buf *out);

/* PKCE (RFC 7636): a verifier of 43 characters from getrandom and its
 * S256 challenge, NUL-terminated; also used for state.  0 or -1. */
#define OAUTH2_PKCE_LEN		44	/* 43 and the NUL */
int	oauth2_pkce(char verifier[OAUTH2_PKCE_LEN],
	    char challenge[OAUTH2_PKCE_LEN]);

/* The authorization URL to open (malloc; NULL on ENOMEM). */
char	*oauth2_auth_request(const struct conf_account *a,
	    const struct oauth2_endpoints *e, const char *redirect_uri,
	    const char *state, const char *challenge);

/*
 * The requests.  Each fills r (freed by the caller) and returns r->st;
 * for OAUTH2_OK the fields the grant needs are there (access_token for
 * a token; device_code, user_code and verification_uri for the device
 * request), else r->st is OAUTH2_TEMP or OAUTH2_REFUSED with r->what.
 */
enum oauth2_status oauth2_device_request(const struct conf_account *a,
	    const struct oauth2_endpoints *e, struct oauth2_reply *r);
enum oauth2_status oauth2_device_poll(const struct conf_account *a,
	    const struct oauth2_endpoints *e, const char *device_code,
	    struct oauth2_reply *r);
enum oauth2_status oauth2_code_exchange(const struct conf_account *a,
	    const struct oauth2_endpoints *e, const char *code,
	    const char *verifier, const char *redirect_uri,
	    struct oauth2_reply *r);

/*
 * The token file (oauth2_file.h) replaced by t under its lock, as its
 * owner (the user sendq when the caller is root): what a login saves.
 * 0, or -1 with err.
 */
int	oauth2_token_store(const char *path, const struct oauth2_token *t,
	    char *err, size_t errlen);
/* t from a token reply obtained at now; the refresh token is kept when
 * the reply has none.  -1 on ENOMEM. */
int	oauth2_token_update(struct oauth2_token *t,
	    const struct oauth2_reply *r, time_t now);

/*
 * The access token for account a: the token file's when it is fresh,
 * else a refreshed one (under the lock; the file is rewritten), all of
 * it done as the file's owner (oauth2_file_run).  refused, when not
 * NULL, is a token a server refused: a different fresh one is taken
 * from the file if another process refreshed meanwhile, else a refresh
 * is forced, unless the refused token was issued less than a minute
 * ago: then OAUTH2_REFUSED with err empty, and the server's refusal
 * stands.  OAUTH2_OK with *out (wipe with secret_free), or the status
 * with err: OAUTH2_NO_LOGIN (no token file, or one that is not) and
 * OAUTH2_GRANT say to run `sendq oauth2 login', OAUTH2_REFUSED is the
 * endpoint's refusal of the client, OAUTH2_TEMP a failure to reach it,
 * OAUTH2_LOCAL a token file that cannot be read or written.
 */
enum oauth2_status oauth2_access(const struct conf_account *a,
	    const char *refused, char **out, char *err, size_t errlen);

#endif
