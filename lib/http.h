/*
 * http: the HTTPS requests of OAuth2 (a form POSTed to a token or
 * device authorization endpoint), and the form encoding they use.
 *
 * The only file that includes <curl/curl.h>.  libcurl is linked into
 * the sendq program and the unit tests, never into the set-group-ID
 * sendmail, which has no use for this module.
 *
 * Security: only https:// URLs are fetched; the certificate and the
 * host name are always verified, against the system store or ca_file
 * alone (libcurl's built-in CA path is cleared then);
 * redirects are not followed (a token endpoint that redirects is
 * misconfigured, and following would resend the form elsewhere); the
 * response is capped; the request has a time limit.  The form body may
 * hold a secret (client_secret, a refresh token): the caller keeps it
 * in a secret buf, and nothing here logs or quotes it.  Error messages
 * name the URL, which holds no secret.
 */
#ifndef SENDQ_HTTP_H
#define SENDQ_HTTP_H

#include <stddef.h>

#include "buf.h"

#define HTTP_RESPONSE_MAX	65536	/* bytes of a response body */
#define HTTP_TIMEOUT_MS		30000	/* the whole request */

struct http_params {
	const char	*ca_file;	/* NULL: the system store */
	int		 timeout_ms;	/* 0: HTTP_TIMEOUT_MS */
};

/*
 * POSTs body (application/x-www-form-urlencoded) to url and appends
 * the response body to resp (initialised by the caller, at most
 * HTTP_RESPONSE_MAX bytes more).  0 with *status the HTTP status, or -1
 * with err saying why there is no response: not https, DNS, connect,
 * TLS, timeout, a response too large, memory.
 */
int	http_post_form(const struct http_params *p, const char *url,
	    const char *body, size_t len, struct buf *resp, long *status,
	    char *err, size_t errlen);

/*
 * Appends "name=value" to a form or query string, both percent-encoded
 * (RFC 3986: unreserved characters kept, every other octet %XX), with a
 * '&' before it unless out is empty.  -1 with errno ENOMEM or EMSGSIZE.
 */
int	http_form_add(struct buf *out, const char *name, const char *value);

#endif
