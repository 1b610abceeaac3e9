/*
 * http: HTTPS form POSTs over libcurl.  See http.h.
 *
 * One easy handle per request: OAuth2 makes a request an hour per
 * account at most, so reusing connections would buy nothing and keep
 * state alive between them.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "http.h"

#ifndef SENDQ_VERSION
#define SENDQ_VERSION "unknown"
#endif

/* The response body, capped. */
struct http_sink {
	struct buf	*out;
	size_t		 left;
	bool		 overflow;
};

static size_t
http_write(char *data, size_t size, size_t n, void *arg)
{
	struct http_sink	*s = arg;
	size_t			 len = size * n;

	if (len > s->left) {
		s->overflow = true;
		return 0;	/* libcurl ends the transfer */
	}
	if (buf_add(s->out, data, len) == -1)
		return 0;
	s->left -= len;
	return len;
}

/*
 * ca_file, when set, is the only trust: libcurl also keeps its built-in
 * CA path (Debian's: /etc/ssl/certs) beside CAINFO, which would let a
 * certificate of any public CA through, so the path is cleared.
 */
static bool
http_ca(CURL *h, const char *ca_file)
{
	if (ca_file == NULL)
		return true;
	return curl_easy_setopt(h, CURLOPT_CAINFO, ca_file) == CURLE_OK &&
	    curl_easy_setopt(h, CURLOPT_CAPATH, NULL) == CURLE_OK;
}

/* The options of every request; false when one is refused. */
static bool
http_setup(CURL *h, const struct http_params *p, const char *url,
    const char *body, size_t len, struct curl_slist *hdrs,
    struct http_sink *sink, char *cerr)
{
	long	 ms = p->timeout_ms > 0 ? p->timeout_ms : HTTP_TIMEOUT_MS;

	return curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr) == CURLE_OK &&
	    curl_easy_setopt(h, CURLOPT_URL, url) == CURLE_OK &&
	    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https") == CURLE_OK &&
	    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK &&
	    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK &&
	    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK &&
	    http_ca(h, p->ca_file) &&
	    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
	    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, ms) == CURLE_OK &&
	    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, ms < 10000 ? ms :
	    10000L) == CURLE_OK &&
	    curl_easy_setopt(h, CURLOPT_USERAGENT, "sendq/" SENDQ_VERSION) ==
	    CURLE_OK &&
	    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs) == CURLE_OK &&
	    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)len) ==
	    CURLE_OK &&
	    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body) == CURLE_OK &&
	    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, http_write) ==
	    CURLE_OK &&
	    curl_easy_setopt(h, CURLOPT_WRITEDATA, sink) == CURLE_OK;
}

int
http_post_form(const struct http_params *p, const char *url,
    const char *body, size_t len, struct buf *resp, long *status,
    char *err, size_t errlen)
{
	struct http_sink	 sink = { resp, HTTP_RESPONSE_MAX, false };
	struct curl_slist	*hdrs = NULL, *h2;
	char			 cerr[CURL_ERROR_SIZE] = "";
	CURL			*h;
	CURLcode		 rc;

	*status = 0;
	if (strncasecmp(url, "https://", 8) != 0) {
		snprintf(err, errlen, "%s: not an https:// URL", url);
		return -1;
	}
	if ((h = curl_easy_init()) == NULL ||
	    (hdrs = curl_slist_append(NULL, "Accept: application/json")) ==
	    NULL || (h2 = curl_slist_append(hdrs, "Expect:")) == NULL) {
		snprintf(err, errlen, "out of memory");
		curl_slist_free_all(hdrs);
		curl_easy_cleanup(h);
		return -1;
	}
	hdrs = h2;
	if (!http_setup(h, p, url, body, len, hdrs, &sink, cerr)) {
		snprintf(err, errlen, "%s: libcurl refused an option", url);
		rc = CURLE_FAILED_INIT;
	} else if ((rc = curl_easy_perform(h)) != CURLE_OK)
		snprintf(err, errlen, "%s: %s", url, sink.overflow ?
		    "the response is too large" : cerr[0] != '\0' ? cerr :
		    curl_easy_strerror(rc));
	else
		(void)curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	return rc == CURLE_OK ? 0 : -1;
}

static bool
http_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	    c == '~';
}

static int
http_encode(struct buf *out, const char *s)
{
	static const char	 hex[] = "0123456789ABCDEF";
	const unsigned char	*p;
	char			 esc[3];

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (http_unreserved(*p)) {
			if (buf_addch(out, (char)*p) == -1)
				return -1;
			continue;
		}
		esc[0] = '%';
		esc[1] = hex[*p >> 4];
		esc[2] = hex[*p & 15];
		if (buf_add(out, esc, 3) == -1)
			return -1;
	}
	return 0;
}

int
http_form_add(struct buf *out, const char *name, const char *value)
{
	if (out->len > 0 && buf_addch(out, '&') == -1)
		return -1;
	if (http_encode(out, name) == -1 || buf_addch(out, '=') == -1)
		return -1;
	return http_encode(out, value);
}
