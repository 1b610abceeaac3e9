/*
 * confval: the syntax of single values of sendq.conf, apart from
 * libconfuse and from the file: keywords and their names, what each
 * string key holds, whole numbers and their ranges, host names,
 * "host:port", certificate fingerprints, rates; and this host's name,
 * the value of hostname when the file sets none.  conf.c calls these
 * from its parse callbacks, once for each value.
 *
 * Messages quote at most 80 bytes of a value; conf.c never passes them
 * a password.
 */
#ifndef SENDQ_CONFVAL_H
#define SENDQ_CONFVAL_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"

/*
 * The string key's value v (or a section's name, for "account" and
 * "alias"): what is wrong with it (in buf, or static), or NULL.  No
 * value holds a control character; key NULL checks that alone.
 */
const char *confval_string(const char *key, const char *v, char *buf,
	    size_t len);

/*
 * The keyword key's value v: delivery, bounce, tls, auth,
 * tls_min_version (10 to 13 for "1.0" to "1.3") and the booleans (1 for
 * true, yes, on; 0 for false, no, off), any case.  0 with the value in
 * *out; -1 when key takes no keyword, or with what v must be in *what
 * ("true or false", "one of ...").
 */
int	confval_keyword(const char *key, const char *v, long *out,
	    const char **what);
/* The keyword of value for key: "starttls", "plain", ...; "?" if none. */
const char *confval_keyword_name(const char *key, int value);

/*
 * The whole-number key's value v in decimal digits: max_connections (1
 * to CONF_MAX_CONNECTIONS), max_messages_per_connection (0 to
 * CONF_MAX_COUNT), max_recipients (1 to CONF_MAX_COUNT).  0 with the
 * number in *out; -1 when key takes none, or with its range in *min and
 * *max.
 */
int	confval_count(const char *key, const char *v, long *out, long *min,
	    long *max);

/* Letters, digits, '-' and '.' in labels of 1 to 63 that neither start
 * nor end with '-'; 253 at most. */
bool	confval_hostname(const char *s);

/*
 * "name", "name:port", "[v6]" or "[v6]:port" into h, whose name and
 * port are allocated (port NULL when none is given).  Returns 0, -1 with
 * the reason in *why, or -2 when memory runs out; the caller frees h's
 * strings in every case.
 */
int	confval_host(const char *s, struct conf_host *h, const char **why);

/* "sha256:" and 32 bytes in hexadecimal, either case, a colon allowed
 * between two bytes.  0, or -1. */
int	confval_fingerprint(const char *s, unsigned char out[32]);

/* "0" (count 0, period 60), or "N/m", "N/h", "N/d" with N from 1 to
 * UINT_MAX: N messages a minute, an hour or a day.  0, or -1. */
int	confval_rate(const char *s, unsigned *count, unsigned *period);

/* The first line of /etc/mailname, else this host's fully qualified
 * name, never localhost unless that is all there is.  The caller frees
 * it; NULL with *why set on failure. */
char	*confval_default_hostname(const char **why);

#endif
